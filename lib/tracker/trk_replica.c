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
 *
 * Scans for the cluster layer (owner thread): trk_tombs_scan walks the
 * tombstones of chosen digest segments with a cursor that survives any
 * write in between, so a peer whose digest differs can be sent the
 * removals it missed; trk_entry_joins turns an entry's memberships into
 * JOIN changes, so a full sync can rebuild them on a joining node.
 */
#include <stdlib.h>
#include <string.h>

#include "mix.h"
#include "trk_internal.h"

uint64_t
trk_digest_mix(uint64_t hash, const struct trk_version *v)
{
	uint64_t x = mix_splitmix64(hash ^ MIX_GAMMA);

	x = mix_splitmix64(x ^ v->clock);
	return mix_splitmix64(x ^ ((uint64_t)v->node << 1 | 1));
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
	pp = &p->tombs.bucket[mix_splitmix64(hash) & (p->tombs.nbuckets - 1)];
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
			uint64_t j = mix_splitmix64(tb->hash) & (nb - 1);

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

/* ---- Scans for repair and full sync (owner thread) ---- */

/*
 * Position of a tombstone in a scan: the bit-reversed mix64 of its hash,
 * shifted down one bit so that no position is TRK_SCAN_DONE. A tombstone's
 * bucket is the low bits of that mix, i.e. the high bits of its position,
 * so visiting buckets in bit-reversed index order visits positions in
 * ascending order, the split order cds_lfht iterates in. Doubling the
 * bucket array only cuts a bucket's position range into two halves that
 * follow each other, so "the next position to look at" is a cursor that
 * means the same thing at every size: nothing present for the whole scan is
 * missed (save the hash-sharing case of scan_lowest), and nothing is
 * reported twice.
 */
#define TOMB_POS_END	(UINT64_C(1) << 63)
#define TOMB_SCAN_WORK	4	/* buckets + tombstones walked per slot of out */

static inline uint64_t
tomb_pos(uint64_t hash)
{
	return trk_split_key(mix_splitmix64(hash)) >> 1;
}

struct tomb_scan {
	const uint64_t *segmask;
	struct trk_change *out;
	size_t max;
	size_t n;
	uint64_t pos;		/* every position below it is done */
	size_t work;
	bool stop;		/* the page can take nothing more */
};

static inline bool
tomb_due(const struct trk_tomb *tb, const struct tomb_scan *sc)
{
	uint32_t seg = trk_digest_seg_of(tb->hash);

	return (sc->segmask[seg / 64] >> (seg % 64) & 1) != 0 &&
		tomb_pos(tb->hash) >= sc->pos;
}

/* The removal a tombstone stands for, as a peer would have sent it. */
static void
tomb_change(const struct trk_tomb *tb, struct tomb_scan *sc)
{
	struct trk_change *c = &sc->out[sc->n++];

	memset(c, 0, sizeof(*c));
	c->kind = TRK_CH_UNREGISTER;
	c->rec.hash = tb->hash;
	c->rec.version = tb->version;
	c->rec.name_len = tb->name_len;
	memcpy(c->rec.name, tb->name, tb->name_len);
}

/*
 * The bucket holds more than the page has room for, so take it one
 * position at a time, lowest first: all the tombstones at the lowest due
 * position (several only for names sharing a hash). Returns whether the
 * page can take more. The cursor can only resume between positions, so a
 * position that does not fit ends the page, unless the page is empty:
 * then it fills the page and the rest of that position is skipped.
 */
static bool
scan_lowest(struct trk_tomb *chain, struct tomb_scan *sc)
{
	uint64_t low = UINT64_MAX;
	struct trk_tomb *tb;
	size_t ties = 0;

	for (tb = chain; tb != NULL; tb = tb->next, sc->work++) {
		if (!tomb_due(tb, sc) || tomb_pos(tb->hash) > low)
			continue;
		ties = tomb_pos(tb->hash) == low ? ties + 1 : 1;
		low = tomb_pos(tb->hash);
	}
	if (ties == 0 || (ties > sc->max - sc->n && sc->n > 0))
		return false;
	for (tb = chain; tb != NULL && sc->n < sc->max; tb = tb->next) {
		if (tomb_due(tb, sc) && tomb_pos(tb->hash) == low)
			tomb_change(tb, sc);
	}
	sc->pos = low + 1;
	return sc->n < sc->max;
}

/* Report the due tombstones of one bucket whose positions end at end. */
static void
scan_bucket(struct trk_tomb *chain, struct tomb_scan *sc, uint64_t end)
{
	struct trk_tomb *tb;
	size_t due = 0;

	for (tb = chain; tb != NULL; tb = tb->next, sc->work++)
		due += tomb_due(tb, sc);
	if (due > sc->max - sc->n) {
		/* due > room, so the page fills before the bucket ends */
		while (scan_lowest(chain, sc))
			;
		sc->stop = true;
		return;
	}
	for (tb = chain; tb != NULL; tb = tb->next) {
		if (tomb_due(tb, sc))
			tomb_change(tb, sc);
	}
	sc->pos = end;
	sc->stop = sc->n == sc->max;
}

size_t
trk_tombs_scan(struct trk *t, uint32_t part, uint64_t *cursor,
		const uint64_t segmask[4], struct trk_change *out, size_t max)
{
	struct tomb_scan sc = { .segmask = segmask, .out = out, .max = max };
	const struct trk_tombs *tbs;
	unsigned int shift;
	size_t budget;

	if (cursor == NULL)
		return 0;
	if (t == NULL || part >= t->nparts || segmask == NULL || out == NULL) {
		*cursor = TRK_SCAN_DONE;
		return 0;
	}
	tbs = &t->part[part].tombs;
	if (*cursor >= TOMB_POS_END || tbs->nbuckets == 0) {
		*cursor = TRK_SCAN_DONE;	/* also a cursor never issued */
		return 0;
	}
	if (max == 0)
		return 0;
	budget = max > SIZE_MAX / TOMB_SCAN_WORK ? SIZE_MAX : max * TOMB_SCAN_WORK;
	shift = 63 - (unsigned int)__builtin_ctzll(tbs->nbuckets);
	sc.pos = *cursor;
	do {
		uint64_t b = trk_split_key(sc.pos << 1) & (tbs->nbuckets - 1);
		uint64_t end = ((sc.pos >> shift) + 1) << shift;

		sc.work++;
		scan_bucket(tbs->bucket[b], &sc, end);
	} while (!sc.stop && sc.pos < TOMB_POS_END && sc.work < budget);
	*cursor = sc.pos < TOMB_POS_END ? sc.pos : TRK_SCAN_DONE;
	return sc.n;
}

/* A membership of e as the JOIN that trk_join would have queued for it. */
static void
member_change(const struct trk_entry *e, const struct trk_member *m,
		struct trk_change *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = TRK_CH_JOIN;
	trk_entry_copy(e, &c->rec);
	c->rec.version = m->version;
	c->group_len = m->group->name_len;
	memcpy(c->group, m->group->name, m->group->name_len);
}

size_t
trk_entry_joins(const struct trk *t, uint32_t part, const struct trk_entry *e,
		struct trk_change *out, size_t max)
{
	size_t i, n;

	/* e->groups is owner-only: only part's owner may read it */
	if (t == NULL || part >= t->nparts || e == NULL || out == NULL ||
			trk_part_of(t, e->hash) != part)
		return 0;
	n = e->ngroups < max ? e->ngroups : max;
	for (i = 0; i < n; i++)
		member_change(e, e->groups[i], &out[i]);
	return n;
}
