/*
 * trk_replica.c - replication state: anti-entropy digests and tombstones.
 *
 * Digest: per partition, TRK_DIGEST_SEGS segments chosen by the top 8 bits
 * of the name hash (bits 56..63; the tables use bits 0..31 and the
 * partition bits 32..47, so every segment is spread evenly over a
 * partition). A segment holds the XOR of trk_digest_mix(hash, version) over
 * its stored entries and their count. XOR makes an insert, a replacement
 * (remove the old mix, add the new) and a removal O(1), and makes the
 * digest independent of the order in which the same set was built.
 *
 * Tombstones: a removal (local or applied) leaves (hash, name, version,
 * time) in an owner-only chained hash map plus a FIFO by time, so a
 * REGISTER older than the removal that arrives late is rejected. They are
 * reclaimed by trk_expire once tombstone_ms have passed, and dropped early
 * when the name is stored again (the new entry is newer than the removal,
 * so it rejects everything the tombstone would have).
 */
#include <stdlib.h>
#include <string.h>

#include "trk_internal.h"

static inline uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t
trk_digest_mix(uint64_t hash, const struct trk_version *v)
{
	uint64_t x = mix64(hash ^ 0x9e3779b97f4a7c15ULL);

	x = mix64(x ^ v->clock);
	return mix64(x ^ ((uint64_t)v->node << 1 | 1));
}

size_t
trk_digest(const struct trk *t, uint32_t part, struct trk_digest_seg *out,
		size_t n)
{
	const struct trk_part *p;
	size_t i;

	if (t == NULL || part >= t->nparts || out == NULL)
		return 0;
	p = &t->part[part];
	if (n > TRK_DIGEST_SEGS)
		n = TRK_DIGEST_SEGS;
	for (i = 0; i < n; i++) {
		out[i].x = CMM_LOAD_SHARED(p->digest[i].x);
		out[i].count = CMM_LOAD_SHARED(p->digest[i].count);
	}
	return n;
}

void
trk_tombs_init(struct trk_part *p, uint64_t ms)
{
	p->tomb_ms = ms ? ms : TRK_TOMBSTONE_MS_DEFAULT;
	p->tombs.bucket = NULL;
	p->tombs.nbuckets = 0;
	p->tombs.n = 0;
	CDS_INIT_LIST_HEAD(&p->tombs.fifo);
}

void
trk_tombs_fini(struct trk_part *p)
{
	struct trk_tomb *tb, *tmp;

	if (p->tombs.fifo.next == NULL)
		return;		/* never initialised */
	cds_list_for_each_entry_safe(tb, tmp, &p->tombs.fifo, fifo)
		free(tb);
	free(p->tombs.bucket);
	trk_tombs_init(p, p->tomb_ms);
}

static struct trk_tomb **
tomb_slot(struct trk_part *p, uint64_t hash, const void *name, size_t len)
{
	struct trk_tomb **pp;

	if (p->tombs.nbuckets == 0)
		return NULL;
	pp = &p->tombs.bucket[mix64(hash) & (p->tombs.nbuckets - 1)];
	for (; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->hash == hash && (*pp)->name_len == len &&
				memcmp((*pp)->name, name, len) == 0)
			return pp;
	}
	return pp;
}

struct trk_tomb *
trk_tomb_find(struct trk_part *p, const struct trk_key *k)
{
	struct trk_tomb **pp;

	if (p->tombs.n == 0)
		return NULL;
	pp = tomb_slot(p, k->hash, k->name, k->len);
	return pp ? *pp : NULL;
}

static int
tombs_grow(struct trk_part *p)
{
	uint64_t nb = p->tombs.nbuckets ? p->tombs.nbuckets * 2 : 64;
	struct trk_tomb **b = calloc(nb, sizeof(*b));
	uint64_t i;

	if (b == NULL)
		return TRK_NOMEM;
	for (i = 0; i < p->tombs.nbuckets; i++) {
		struct trk_tomb *tb = p->tombs.bucket[i], *next;

		for (; tb != NULL; tb = next) {
			uint64_t j = mix64(tb->hash) & (nb - 1);

			next = tb->next;
			tb->next = b[j];
			b[j] = tb;
		}
	}
	free(p->tombs.bucket);
	p->tombs.bucket = b;
	p->tombs.nbuckets = nb;
	return TRK_OK;
}

int
trk_tomb_put(struct trk_part *p, const struct trk_key *k,
		const struct trk_version *v, uint64_t now)
{
	struct trk_tomb **pp, *tb;

	if (p->tombs.n >= p->tombs.nbuckets && tombs_grow(p) != TRK_OK &&
			p->tombs.nbuckets == 0)
		return TRK_NOMEM;
	pp = tomb_slot(p, k->hash, k->name, k->len);
	tb = *pp;
	if (tb != NULL) {
		if (trk_version_cmp(v, &tb->version) <= 0)
			return TRK_OK;
		/* a newer removal restarts the clock: move to the tail */
		tb->version = *v;
		tb->time = now;
		cds_list_del(&tb->fifo);
		cds_list_add_tail(&tb->fifo, &p->tombs.fifo);
		return TRK_OK;
	}
	tb = malloc(sizeof(*tb) + k->len);
	if (tb == NULL)
		return TRK_NOMEM;
	tb->next = NULL;
	tb->hash = k->hash;
	tb->time = now;
	tb->version = *v;
	tb->name_len = (uint8_t)k->len;
	memcpy(tb->name, k->name, k->len);
	*pp = tb;
	cds_list_add_tail(&tb->fifo, &p->tombs.fifo);
	CMM_STORE_SHARED(p->tombs.n, p->tombs.n + 1);
	return TRK_OK;
}

static void
tomb_unlink(struct trk_part *p, struct trk_tomb *tb)
{
	struct trk_tomb **pp = tomb_slot(p, tb->hash, tb->name, tb->name_len);

	*pp = tb->next;
	cds_list_del(&tb->fifo);
	free(tb);
	CMM_STORE_SHARED(p->tombs.n, p->tombs.n - 1);
}

void
trk_tomb_drop(struct trk_part *p, const struct trk_key *k)
{
	struct trk_tomb *tb = trk_tomb_find(p, k);

	if (tb != NULL)
		tomb_unlink(p, tb);
}

size_t
trk_tombs_expire(struct trk_part *p, uint64_t now, size_t budget)
{
	size_t n = 0;

	while (n < budget && !cds_list_empty(&p->tombs.fifo)) {
		struct trk_tomb *tb = cds_list_first_entry(&p->tombs.fifo,
				struct trk_tomb, fifo);

		if (now < tb->time || now - tb->time < p->tomb_ms)
			break;
		tomb_unlink(p, tb);
		n++;
	}
	return n;
}

uint64_t
trk_tombstones(const struct trk *t)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < t->nparts; i++)
		n += CMM_LOAD_SHARED(t->part[i].tombs.n);
	return n;
}
