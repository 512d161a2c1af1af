/*
 * trk_lease.c - lease timers: a binary min-heap of entries by expiry.
 *
 * Every entry with a lease sits in its partition's heap, ordered by
 * lease_expiry; the entry remembers its slot (heap_idx) so that refreshing
 * or removing it is O(log n) without a search. trk_expire pops from the top
 * while the top has expired, so reclaiming k entries costs O(k log n) and
 * never looks at an entry that is not due - no scan of the table.
 *
 * Why a heap and not a timer wheel: leases here range from seconds to days
 * and arrive mostly in increasing order (now + the same TTL), which is the
 * heap's cheap case (a push is O(1) on average when keys only grow), and it
 * expires exactly on time with no granularity to tune. Storage is one
 * pointer per leased entry plus the 4-byte slot inside the entry.
 *
 * The heap is private to the partition's owner thread; readers never touch
 * it (they compare lease_expiry with their own `now`).
 */
#include <stdlib.h>

#include "trk_internal.h"

static inline uint64_t
key_at(const struct trk_heap *h, uint32_t i)
{
	return h->v[i]->lease_expiry;
}

static inline void
place(struct trk_heap *h, uint32_t i, struct trk_entry *e)
{
	h->v[i] = e;
	e->heap_idx = i;
}

static void
sift_up(struct trk_heap *h, uint32_t i)
{
	struct trk_entry *e = h->v[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (key_at(h, parent) <= e->lease_expiry)
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, e);
}

static void
sift_down(struct trk_heap *h, uint32_t i)
{
	struct trk_entry *e = h->v[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= h->len)
			break;
		if (c + 1 < h->len && key_at(h, c + 1) < key_at(h, c))
			c++;
		if (e->lease_expiry <= key_at(h, c))
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, e);
}

/* Make room for one more entry; done before any visible change. */
int
trk_heap_reserve(struct trk_heap *h)
{
	struct trk_entry **v;
	uint32_t cap;

	if (h->len < h->cap)
		return TRK_OK;
	if (h->cap >= UINT32_MAX / 2)
		return TRK_FULL;
	cap = h->cap ? h->cap * 2 : 256;
	v = realloc(h->v, (size_t)cap * sizeof(*v));
	if (v == NULL)
		return TRK_NOMEM;
	h->v = v;
	h->cap = cap;
	return TRK_OK;
}

/* Insert e (lease_expiry set); trk_heap_reserve must have succeeded. */
void
trk_heap_push(struct trk_heap *h, struct trk_entry *e)
{
	place(h, h->len++, e);
	sift_up(h, e->heap_idx);
}

void
trk_heap_remove(struct trk_heap *h, struct trk_entry *e)
{
	uint32_t i = e->heap_idx;
	struct trk_entry *last;

	if (i == TRK_NO_HEAP)
		return;
	e->heap_idx = TRK_NO_HEAP;
	last = h->v[--h->len];
	if (last == e)
		return;
	place(h, i, last);
	sift_up(h, i);
	sift_down(h, last->heap_idx);
}

/* Restore the order after e->lease_expiry changed. */
void
trk_heap_fix(struct trk_heap *h, struct trk_entry *e, uint64_t old_key)
{
	if (e->lease_expiry < old_key)
		sift_up(h, e->heap_idx);
	else
		sift_down(h, e->heap_idx);
}

/* e takes old's slot (copy on write); their expiry must be equal. */
void
trk_heap_replace(struct trk_heap *h, struct trk_entry *old,
		struct trk_entry *e)
{
	e->heap_idx = TRK_NO_HEAP;
	if (old->heap_idx == TRK_NO_HEAP)
		return;
	place(h, old->heap_idx, e);
	old->heap_idx = TRK_NO_HEAP;
}

struct trk_entry *
trk_heap_min(const struct trk_heap *h)
{
	return h->len ? h->v[0] : NULL;
}

void
trk_heap_fini(struct trk_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->len = h->cap = 0;
}
