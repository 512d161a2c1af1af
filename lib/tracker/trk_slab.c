/*
 * trk_slab.c - a partition's entry memory: size classes carved from 2 MiB
 * chunks, touched when the tracker is made.
 *
 * Why. A registration storm into fresh memory paid a page fault and the
 * kernel's zeroing of a 4 KiB page for every ~30 entries: in a 3-node
 * storm the kernel's clear_page was 14 % of the nodes' CPU, all of it
 * under entry_new's malloc. Presizing (expected_entries) already
 * allocates the names table up front; the slab does the same for the
 * entries, so the storm runs on memory that is already there.
 *
 * Layout. Chunks of TRK_SLAB_CHUNK bytes, mapped 2 MiB aligned (a huge
 * page could back them); the ones presizing asks for are populated by the
 * kernel in one call each (MADV_POPULATE_WRITE), which is much faster than
 * a fault per page. They are not offered for transparent huge pages: with
 * THP defrag on madvise, populating them waited for compaction and took
 * 2.4 s instead of 0.1-0.3 s for 10M names here (perf/RESULTS.md).
 * LeakSanitizer, when linked, is told to scan them, so what entries point
 * to stays reachable. Objects are carved by
 * a bump pointer in multiples of TRK_SLAB_GRAIN; a freed object goes on
 * the free list of its class and is reused for the next entry of that
 * class. Memory never goes back to the system before trk_slab_fini(): an
 * appliance presized for its fleet keeps it.
 *
 * Threads. The owner allocates (trk_slab_alloc) and frees what no reader
 * ever saw (trk_slab_free_owned). Entries that readers may still see are
 * freed after a grace period by liburcu's call_rcu worker
 * (trk_slab_free_remote): each class has a second list, pushed with a
 * compare-and-swap by any thread and taken whole by the owner with one
 * exchange when its own list is empty. Only whole-list takes pop, so the
 * ABA problem of lock-free stacks does not arise.
 *
 * Sanitizers. Under AddressSanitizer a free object is poisoned but for its
 * link word, so a use after free is still reported.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "trk_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif
#ifdef SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define slab_poison(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define slab_unpoison(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define slab_poison(p, n)	((void)(p), (void)(n))
#define slab_unpoison(p, n)	((void)(p), (void)(n))
#endif

/* A chunk's first bytes: the list of chunks, for trk_slab_fini. */
struct slab_chunk {
	struct slab_chunk *next;
};
#define CHUNK_HDR	TRK_SLAB_GRAIN

static unsigned int
class_of(size_t size)
{
	return (unsigned int)((size + TRK_SLAB_GRAIN - 1) / TRK_SLAB_GRAIN) - 1;
}

static size_t
class_size(unsigned int c)
{
	return ((size_t)c + 1) * TRK_SLAB_GRAIN;
}

/* LeakSanitizer's runtime, when linked: it does not scan mappings of our
 * own, and entries hold the only pointers to their membership arrays. */
extern void __lsan_register_root_region(const void *p, size_t size)
	__attribute__((weak));
extern void __lsan_unregister_root_region(const void *p, size_t size)
	__attribute__((weak));

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23	/* Linux 5.14 */
#endif

/*
 * A new chunk: TRK_SLAB_CHUNK bytes mapped at a TRK_SLAB_CHUNK boundary. touched: its pages are made now, by
 * the kernel in one call (MADV_POPULATE_WRITE; a page fault per page
 * when that is missing), not by the first entries that land on them.
 * NULL: no memory.
 */
static struct slab_chunk *
chunk_new(bool touched)
{
	size_t len = 2 * (size_t)TRK_SLAB_CHUNK, head;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *k;

	if (m == MAP_FAILED)
		return NULL;
	head = (TRK_SLAB_CHUNK - (uintptr_t)m % TRK_SLAB_CHUNK) %
		TRK_SLAB_CHUNK;
	k = m + head;
	if (head > 0)
		munmap(m, head);
	munmap(k + TRK_SLAB_CHUNK, len - head - TRK_SLAB_CHUNK);
	if (touched && madvise(k, TRK_SLAB_CHUNK, MADV_POPULATE_WRITE) != 0)
		memset(k, 0, TRK_SLAB_CHUNK);
	if (__lsan_register_root_region != NULL)
		__lsan_register_root_region(k, TRK_SLAB_CHUNK);
	return (struct slab_chunk *)k;
}

static void
chunk_free(struct slab_chunk *k)
{
	slab_unpoison(k, TRK_SLAB_CHUNK);
	if (__lsan_unregister_root_region != NULL)
		__lsan_unregister_root_region(k, TRK_SLAB_CHUNK);
	munmap(k, TRK_SLAB_CHUNK);
}

int
trk_slab_init(struct trk_slab *s, size_t prefault_bytes)
{
	size_t n = (prefault_bytes + TRK_SLAB_CHUNK - CHUNK_HDR - 1) /
		(TRK_SLAB_CHUNK - CHUNK_HDR);

	memset(s, 0, sizeof(*s));
	while (n-- > 0) {
		struct slab_chunk *k = chunk_new(true);

		if (k == NULL)
			return TRK_NOMEM;
		k->next = s->spare;
		s->spare = k;
	}
	return TRK_OK;
}

/* Owner. Makes the next chunk current: a spare one, or a new one. */
static int
chunk_next(struct trk_slab *s)
{
	struct slab_chunk *k = s->spare;

	if (k != NULL)
		s->spare = k->next;
	else if ((k = chunk_new(false)) == NULL)
		return TRK_NOMEM;
	k->next = s->chunks;
	s->chunks = k;
	s->bump = (uint8_t *)k + CHUNK_HDR;
	s->end = (uint8_t *)k + TRK_SLAB_CHUNK;
	s->nchunks++;
	return TRK_OK;
}

void *
trk_slab_alloc(struct trk_slab *s, size_t size)
{
	unsigned int c = class_of(size);
	size_t cs = class_size(c);
	struct trk_slab_obj *o;

	if (c >= TRK_SLAB_CLASSES)
		return NULL;
	if (s->free[c] == NULL && CMM_LOAD_SHARED(s->back[c]) != NULL)
		s->free[c] = uatomic_xchg(&s->back[c], NULL);
	if ((o = s->free[c]) != NULL) {
		s->free[c] = o->next;
		slab_unpoison(o, cs);
		return o;
	}
	if ((size_t)(s->end - s->bump) < cs && chunk_next(s) != TRK_OK)
		return NULL;
	o = (struct trk_slab_obj *)s->bump;
	s->bump += cs;
	return o;
}

void
trk_slab_free_owned(struct trk_slab *s, void *ptr, size_t size)
{
	struct trk_slab_obj *o = ptr;
	unsigned int c = class_of(size);

	o->next = s->free[c];
	s->free[c] = o;
	slab_poison((uint8_t *)o + sizeof(*o), class_size(c) - sizeof(*o));
}

void
trk_slab_free_remote(struct trk_slab *s, void *ptr, size_t size)
{
	struct trk_slab_obj *o = ptr, *old;
	unsigned int c = class_of(size);

	slab_poison((uint8_t *)o + sizeof(*o), class_size(c) - sizeof(*o));
	old = CMM_LOAD_SHARED(s->back[c]);
	for (;;) {
		struct trk_slab_obj *seen;

		o->next = old;
		seen = uatomic_cmpxchg(&s->back[c], old, o);
		if (seen == old)
			break;
		old = seen;
	}
}

void
trk_slab_fini(struct trk_slab *s)
{
	struct slab_chunk *lists[2] = { s->chunks, s->spare };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct slab_chunk *k = lists[i];

		while (k != NULL) {
			struct slab_chunk *next = k->next;

			chunk_free(k);
			k = next;
		}
	}
	memset(s, 0, sizeof(*s));
}
