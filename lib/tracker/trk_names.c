/*
 * trk_names.c - a partition's names table: tagged slots in cache-line
 * buckets, looked up in one line, listed in split order.
 *
 * Layout. A power-of-two array of 64-byte buckets, each with seven slots
 * and a spill count. A slot is one 64-bit word: the entry pointer in the
 * low 48 bits and a tag, the name hash's top 16 bits, in the high 16.
 *
 * Placement. An entry's position is its split key, the bit-reversed hash
 * (trk_split_key), and its home bucket is the top bits of its position,
 * i.e. the hash's low bits reversed. Buckets in index order therefore
 * hold ascending ranges of positions, a listing walks them in order, and
 * doubling the array cuts each range in two halves that follow each
 * other: a position means the same thing at every size, so a cursor is
 * just "after position x" and never has to find its last entry again.
 * (The partition uses hash bits 32..47, the tag bits 48..63; the home
 * uses the low bits, so each is independent of the others below 2^32
 * buckets.)
 *
 * Lookup. Read the home bucket, compare tags, and dereference only entries
 * whose tag matches; a stranger's tag matches with odds of about 1 in
 * 9,000 per lookup at the usual load. The bucket's address depends on the
 * hash alone, so a caller with a burst of names prefetches every bucket,
 * then every candidate entry, then does the operations, and the burst's
 * misses overlap instead of queueing (trk_prefetch). A registration costs
 * the same one line plus the entry's allocation: no chain to walk.
 *
 * Overflow. A full bucket spills into the next ones (linear probing by
 * bucket, wrapping at the end). spill[b] counts the entries that passed b:
 * their home is b or an earlier bucket of the same run, and they sit
 * after b. A lookup goes on from b to b + 1 only while spill[b] is not
 * zero, so a lookup of an absent name normally ends at its home bucket as
 * well. A removal refills its hole: the nearest entry that passed the
 * bucket moves back into it, which leaves a hole further on, refilled the
 * same way, until no entry passes the hole's bucket. So a bucket with a
 * free slot is never passed, and churn cannot leave entries stranded
 * behind holes (without the refill, five times the population in churn at
 * full load left 75 % of the buckets passed and absent lookups reading 7.5
 * buckets). Entries themselves never move in memory; only their slots do.
 *
 * Listing. A bucket is live while it holds an entry or an entry passed it
 * (spill > 0); a bitmap with one bit per bucket says which. A home bucket
 * that is not live has no entries, so a listing over a table presized for
 * millions and holding few skips 64 buckets per word it reads.
 *
 * Growth. The load stays at or under TRK_NAMES_LOAD_PCT of the slots; at
 * the limit the writer builds an array of twice the buckets beside the
 * old one, publishes it, and retires the old one after a grace period
 * (an O(n) pause for that partition, which presizing with
 * expected_entries avoids). Arrays of 2 MiB or more are offered to the
 * kernel for transparent huge pages: every lookup lands on a random line,
 * and on 4 KiB pages most of them would also miss the TLB.
 *
 * Concurrency (liburcu QSBR). One writer, the partition's owner; readers
 * on any registered thread, online. Every slot changes with one aligned
 * 64-bit store. An insert raises the spill counts along its path before
 * it publishes its slot, with a write barrier after the entry's contents;
 * a removal clears its slot before it lowers them; so a reader that
 * reaches a slot always had a path to it. A replacement stores the new
 * pointer into the same slot. A refill copies the entry into the hole
 * before it clears the old slot, inside a window that makes the table's
 * move count odd, with the moving entry's slot word published before the
 * window opens. Readers never wait for a window to close (the writer may
 * be preempted inside it): a lookup that finds its name is done; one that
 * finds nothing, or a listing that loads a home bucket, compares the count
 * with its value before the search. Changed: a move began or ended
 * meanwhile, look again (each retry means the writer finished a move, so
 * reads are lock-free, not wait-free). Unchanged and odd: the search ran
 * inside one window, which moves one entry and nothing else, so only that
 * entry can have been missed (or, in a listing, seen twice): a lookup
 * checks it by name, a listing skips its slots and keeps it once. A
 * reader holding the old array across a growth keeps a consistent table
 * as of the moment it was replaced.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "trk_internal.h"

#define NAMES_PTR_MASK	((1ULL << 48) - 1)
#define NAMES_MIN_ORDER	3u
#define NAMES_MAX_ORDER	36u
#define NAMES_HUGE	(2u << 20)	/* x86-64 transparent huge page */

/*
 * LeakSanitizer finds live blocks by scanning memory for their addresses,
 * and a tagged slot is not one: entries are therefore not heap blocks but
 * objects in their partition's slab, whose chunks LSan is told to scan
 * (trk_slab.c), so nothing a table holds can look leaked.
 */

/* A partial load drops at most one group of equal hashes and keeps more. */
_Static_assert(TRK_HASH_DUP_MAX < TRK_NAMES_ITER_MAX,
	"a listing must make progress through a crowded home bucket");

/* rcu_dereference, inlined (liburcu's is a call without _LGPL_SOURCE). */
static inline const struct trk_names *
names_of(const struct trk_part *p)
{
	const struct trk_names *x = CMM_LOAD_SHARED(p->names);

	cmm_smp_read_barrier_depends();
	return x;
}

static inline uint64_t
slot_tag(uint64_t hash)
{
	return hash & ~NAMES_PTR_MASK;
}

static inline struct trk_entry *
slot_entry(uint64_t slot)
{
	return (struct trk_entry *)(uintptr_t)(slot & NAMES_PTR_MASK);
}

static inline uint64_t
slot_of(const struct trk_entry *e)
{
	return slot_tag(e->hash) | (uint64_t)(uintptr_t)e;
}

static inline uint64_t
home_of(const struct trk_names *x, uint64_t hash)
{
	return trk_split_key(hash) >> x->shift;
}

static uint64_t
load_limit(unsigned int order)
{
	return (1ULL << order) * TRK_NAMES_SLOTS * TRK_NAMES_LOAD_PCT / 100;
}

/* The live bitmap follows the buckets in the same allocation. */
static size_t
live_words(unsigned int order)
{
	return ((size_t)1 << order) / 64 + 1;
}

static struct trk_names *
names_alloc(unsigned int order)
{
	size_t buckets = sizeof(struct trk_names) +
		((size_t)1 << order) * sizeof(struct trk_names_bucket);
	size_t live = live_words(order) * sizeof(uint64_t);
	size_t bytes = buckets + live;
	struct trk_names *x;

	if (bytes >= NAMES_HUGE) {
		bytes = (bytes + NAMES_HUGE - 1) & ~(size_t)(NAMES_HUGE - 1);
		x = aligned_alloc(NAMES_HUGE, bytes);
		if (x != NULL)
			(void)madvise(x, bytes, MADV_HUGEPAGE);
	} else {
		bytes = (bytes + 63) & ~(size_t)63;	/* C11: a multiple */
		x = aligned_alloc(64, bytes);
	}
	if (x == NULL)
		return NULL;
	memset(x, 0, bytes);
	x->mask = (1ULL << order) - 1;
	x->shift = 64 - order;
	x->live = (uint64_t *)((uint8_t *)x + buckets);
	x->limit = load_limit(order);
	return x;
}

struct trk_names *
trk_names_new(uint64_t expected)
{
	unsigned int order = NAMES_MIN_ORDER;

	while (load_limit(order) < expected && order < NAMES_MAX_ORDER)
		order++;
	return names_alloc(order);
}

void
trk_names_free(struct trk_names *x)
{
	free(x);
}

/* Owner. Store slot word *w. */
static inline void
slot_store(uint64_t *w, uint64_t s)
{
	CMM_STORE_SHARED(*w, s);
}

/* Owner. Bucket b holds or passes an entry now. */
static inline void
live_set(struct trk_names *x, uint64_t b)
{
	uint64_t *w = &x->live[b / 64], bit = 1ULL << (b % 64);

	if ((*w & bit) == 0)
		CMM_STORE_SHARED(*w, *w | bit);
}

/* Owner. Clear b's bit if it neither holds nor passes an entry. */
static void
live_check(struct trk_names *x, uint64_t b)
{
	const struct trk_names_bucket *bk = &x->b[b];
	unsigned int i;

	if (bk->spill != 0)
		return;
	for (i = 0; i < TRK_NAMES_SLOTS; i++)
		if (bk->slot[i] != 0)
			return;
	CMM_STORE_SHARED(x->live[b / 64], x->live[b / 64] &
			~(1ULL << (b % 64)));
}

/* Readers. The first live bucket at or after b, or mask + 1 if none. */
static uint64_t
live_next(const struct trk_names *x, uint64_t b)
{
	uint64_t w;

	if (b > x->mask)
		return b;
	w = CMM_LOAD_SHARED(x->live[b / 64]) & (~0ULL << (b % 64));
	b &= ~63ULL;
	while (w == 0) {
		b += 64;
		if (b > x->mask)
			return x->mask + 1;
		w = CMM_LOAD_SHARED(x->live[b / 64]);
	}
	b += (uint64_t)__builtin_ctzll(w);
	return b <= x->mask ? b : x->mask + 1;
}

/* Owner, x unpublished or owned. Put slot s on its path; room is there. */
static void
names_place(struct trk_names *x, uint64_t hash, uint64_t s)
{
	uint64_t b = home_of(x, hash);
	unsigned int i;

	for (;;) {
		struct trk_names_bucket *bk = &x->b[b];

		/* a bucket passed is full, so its bit is set already */
		for (i = 0; i < TRK_NAMES_SLOTS; i++) {
			if (bk->slot[i] == 0) {
				live_set(x, b);
				cmm_smp_wmb();	/* entry, spills, bit first */
				slot_store(&bk->slot[i], s);
				x->n++;
				return;
			}
		}
		CMM_STORE_SHARED(bk->spill, bk->spill + 1);
		b = (b + 1) & x->mask;
	}
}

#define GROW_AHEAD 4	/* buckets: about 20 entry misses in flight */

/*
 * The slots are read with CMM_LOAD_SHARED: with plain loads gcc 12 -O2
 * dropped this loop's prefetches altogether (checked in the assembly).
 */
static void
prefetch_entries(const struct trk_names_bucket *bk)
{
	unsigned int i;

	for (i = 0; i < TRK_NAMES_SLOTS; i++) {
		uint64_t s = CMM_LOAD_SHARED(bk->slot[i]);

		if (s != 0)
			__builtin_prefetch(slot_entry(s));
	}
}

/*
 * Owner, online. A copy of the table with twice the buckets, published.
 * Placing an entry needs its hash, so growth reads every entry once: the
 * reads are prefetched a few buckets ahead, or growth would cost a
 * dependent miss per entry.
 */
static int
names_grow(struct trk_part *p)
{
	struct trk_names *old = p->names, *x;
	unsigned int order = 64 - old->shift, i;
	uint64_t b;

	if (order >= NAMES_MAX_ORDER)
		return TRK_NOMEM;
	x = names_alloc(order + 1);
	if (x == NULL)
		return TRK_NOMEM;
	for (b = 0; b <= old->mask; b++) {
		/* the entries a few buckets on are fetched while b's are placed */
		if (b + GROW_AHEAD <= old->mask)
			prefetch_entries(&old->b[b + GROW_AHEAD]);
		for (i = 0; i < TRK_NAMES_SLOTS; i++) {
			uint64_t s = old->b[b].slot[i];

			if (s != 0)
				names_place(x, slot_entry(s)->hash, s);
		}
	}
	x->grows = old->grows + 1;
	rcu_assign_pointer(p->names, x);
	trk_retire(p, old);
	return TRK_OK;
}

int
trk_names_reserve(struct trk_part *p)
{
	if (p->names->n < p->names->limit)
		return TRK_OK;
	return names_grow(p);
}

void
trk_names_add(struct trk_part *p, struct trk_entry *e)
{
	names_place(p->names, e->hash, slot_of(e));
}

/* Owner. The slot holding e, which is in the table; *at = its bucket. */
static uint64_t *
names_slot(struct trk_names *x, const struct trk_entry *e, uint64_t *at)
{
	uint64_t b = home_of(x, e->hash), want = slot_of(e);
	unsigned int i;

	for (;;) {
		for (i = 0; i < TRK_NAMES_SLOTS; i++) {
			if (x->b[b].slot[i] == want) {
				*at = b;
				return &x->b[b].slot[i];
			}
		}
		if (x->b[b].spill == 0)
			abort();	/* single writer: e must be on its path */
		b = (b + 1) & x->mask;
	}
}

/* Buckets from a forward to b, cyclically. */
static inline uint64_t
fwd(const struct trk_names *x, uint64_t a, uint64_t b)
{
	return (b - a) & x->mask;
}

/* Owner. Lower the spill counts from bucket b up to (not incl.) end. */
static void
path_lower(struct trk_names *x, uint64_t b, uint64_t end)
{
	for (; b != end; b = (b + 1) & x->mask) {
		CMM_STORE_SHARED(x->b[b].spill, x->b[b].spill - 1);
		live_check(x, b);
	}
}

/*
 * Owner. The slot at hole, in bucket a, is free: while an entry passes a,
 * move the nearest such one back into it and go on with the hole it
 * leaves. A passing entry sits in a bucket that follows a along a run of
 * buckets passed, so the search stops where a spill count is zero.
 */
static void
names_refill(struct trk_names *x, uint64_t a, uint64_t *hole)
{
	while (x->b[a].spill != 0) {
		uint64_t c = a, *from = NULL;
		unsigned int i;

		do {
			c = (c + 1) & x->mask;
			for (i = 0; i < TRK_NAMES_SLOTS && from == NULL; i++) {
				uint64_t s = x->b[c].slot[i];

				if (s != 0 && fwd(x, home_of(x, slot_entry(s)->hash),
						a) < fwd(x, home_of(x,
						slot_entry(s)->hash), c))
					from = &x->b[c].slot[i];
			}
		} while (from == NULL && x->b[c].spill != 0);
		if (from == NULL)
			abort();	/* spill[a] > 0: someone passes a */
		cmm_smp_wmb();		/* the last window closed before this */
		CMM_STORE_SHARED(x->moving, *from);
		cmm_smp_wmb();		/* who moves, before the window opens */
		CMM_STORE_SHARED(x->moves, x->moves + 1);
		cmm_smp_wmb();		/* readers see the window open first */
		slot_store(hole, *from);
		cmm_smp_wmb();		/* the copy before the clear */
		slot_store(from, 0);
		cmm_smp_wmb();		/* both before the window closes */
		CMM_STORE_SHARED(x->moves, x->moves + 1);
		path_lower(x, a, c);
		live_check(x, c);
		a = c;
		hole = from;
	}
}

void
trk_names_del(struct trk_part *p, const struct trk_entry *e)
{
	struct trk_names *x = p->names;
	uint64_t at, b = home_of(x, e->hash);
	uint64_t *s = names_slot(x, e, &at);

	slot_store(s, 0);
	cmm_smp_wmb();		/* the slot goes before its path */
	path_lower(x, b, at);
	live_check(x, at);
	x->n--;
	names_refill(x, at, s);
}

void
trk_names_swap(struct trk_part *p, const struct trk_entry *old,
		struct trk_entry *e)
{
	uint64_t at;
	uint64_t *s = names_slot(p->names, old, &at);

	cmm_smp_wmb();		/* e's contents before its pointer */
	slot_store(s, slot_of(e));
}

/*
 * Readers. The move count to compare with after a search, and, when a
 * move is under way (odd), the slot word of the one entry it moves. A
 * reader never waits for the window to close: the writer may be preempted
 * in it, and the window changes nothing but that entry's slot.
 */
static inline uint64_t
moves_begin(const struct trk_names *x, uint64_t *moving)
{
	uint64_t m = CMM_LOAD_SHARED(x->moves);

	cmm_smp_rmb();		/* the count before the mover and the slots */
	*moving = (m & 1) ? CMM_LOAD_SHARED(x->moving) : 0;
	return m;
}

/* Readers. The moving entry of slot word s, if it is k's. */
static inline struct trk_entry *
moving_is(uint64_t s, const struct trk_key *k)
{
	struct trk_entry *e;

	if (s == 0 || slot_tag(s) != slot_tag(k->hash))
		return NULL;
	cmm_smp_read_barrier_depends();
	e = slot_entry(s);
	return e->hash == k->hash && e->name_len == k->len &&
		memcmp(e->data, k->name, k->len) == 0 ? e : NULL;
}

/* Readers. Whether an entry changed slot since moves_begin. */
static inline bool
moves_changed(const struct trk_names *x, uint64_t m)
{
	cmm_smp_rmb();		/* the slots before the count */
	return CMM_LOAD_SHARED(x->moves) != m;
}

struct trk_entry *
trk_names_find(const struct trk_part *p, const struct trk_key *k,
		unsigned int *dups)
{
	const struct trk_names *x;
	uint64_t home, b, tag = slot_tag(k->hash), moves, moving;
	struct trk_entry *m;
	unsigned int i, same;

again:
	x = names_of(p);
	moves = moves_begin(x, &moving);
	home = home_of(x, k->hash);
	b = home;
	same = 0;
	for (;;) {
		const struct trk_names_bucket *bk = &x->b[b];

		for (i = 0; i < TRK_NAMES_SLOTS; i++) {
			uint64_t s = CMM_LOAD_SHARED(bk->slot[i]);
			struct trk_entry *e;

			if (s == 0 || slot_tag(s) != tag)
				continue;
			cmm_smp_read_barrier_depends();
			e = slot_entry(s);
			if (e->hash != k->hash)
				continue;
			same++;
			if (e->name_len == k->len &&
					memcmp(e->data, k->name, k->len) == 0) {
				if (dups)
					*dups = same;
				return e;
			}
		}
		cmm_smp_rmb();	/* b's slots before b's spill count */
		if (CMM_LOAD_SHARED(bk->spill) == 0)
			break;
		b = (b + 1) & x->mask;
		/* a guard: refills and the load limit keep a free slot */
		if (b == home)
			break;
	}
	/*
	 * A miss is true unless an entry changed slot meanwhile: look again
	 * after a move that began or ended during the search (the writer
	 * made progress: lock-free, not wait-free); inside one open window
	 * only its entry can have been missed, and the mover says which.
	 */
	if (moves_changed(x, moves))
		goto again;
	if ((m = moving_is(moving, k)) != NULL) {
		if (dups)
			*dups = same + 1;
		return m;
	}
	if (dups)
		*dups = same;
	return NULL;
}

void
trk_names_prefetch(const struct trk_part *p, uint64_t hash)
{
	const struct trk_names *x = names_of(p);

	__builtin_prefetch(&x->b[home_of(x, hash)]);
}

void
trk_names_prefetch_entry(const struct trk_part *p, uint64_t hash)
{
	const struct trk_names *x = names_of(p);
	const struct trk_names_bucket *bk = &x->b[home_of(x, hash)];
	unsigned int i;

	for (i = 0; i < TRK_NAMES_SLOTS; i++) {
		uint64_t s = CMM_LOAD_SHARED(bk->slot[i]);

		if (s != 0 && slot_tag(s) == slot_tag(hash)) {
			const char *e = (const char *)slot_entry(s);

			/* the header's first line, and the name after it */
			__builtin_prefetch(e);
			__builtin_prefetch(e + 64);
			return;
		}
	}
}

void
trk_names_clear(struct trk_part *p,
		void (*each)(struct trk_part *p, struct trk_entry *e))
{
	struct trk_names *x = p->names;
	uint64_t b;
	unsigned int i;

	for (b = 0; b <= x->mask; b++) {
		for (i = 0; i < TRK_NAMES_SLOTS; i++) {
			uint64_t s = x->b[b].slot[i];

			if (s == 0)
				continue;
			slot_store(&x->b[b].slot[i], 0);
			each(p, slot_entry(s));
		}
		CMM_STORE_SHARED(x->b[b].spill, 0);
	}
	memset(x->live, 0, live_words(64 - x->shift) * sizeof(uint64_t));
	x->n = 0;
}

/* ---- Listing in split order ---- */

/* Keep v sorted by position; when full, the largest falls off. */
static void
iter_keep(struct trk_names_iter *it, uint64_t pos, const struct trk_entry *e)
{
	uint32_t k = it->n;

	if (k == TRK_NAMES_ITER_MAX) {
		it->partial = true;
		if (pos >= it->v[k - 1].pos)
			return;
		k--;
	} else {
		it->n++;
	}
	while (k > 0 && it->v[k - 1].pos > pos) {
		it->v[k] = it->v[k - 1];
		k--;
	}
	it->v[k].pos = pos;
	it->v[k].e = e;
}

/* Keep e if its home is h and its position is past the cursor. */
static inline void
iter_consider(struct trk_names_iter *it, const struct trk_names *x,
		uint64_t h, const struct trk_entry *e)
{
	uint64_t pos = trk_split_key(e->hash);

	if ((pos >> x->shift) == h && (!it->have_after || pos > it->after))
		iter_keep(it, pos, e);
}

/*
 * Collect the entries whose home is it->home and whose positions are
 * above it->after, in order. When they are more than v holds, keep the
 * lowest, minus the last position's group (it may have lost members), and
 * come back to the same home after them.
 */
static void
iter_load(struct trk_names_iter *it)
{
	const struct trk_names *x = it->x;
	uint64_t h = it->home, b, moves, moving;
	unsigned int i;

again:
	moves = moves_begin(x, &moving);
	b = h;
	it->n = it->i = 0;
	it->partial = false;
	do {
		for (i = 0; i < TRK_NAMES_SLOTS; i++) {
			uint64_t s = CMM_LOAD_SHARED(x->b[b].slot[i]);
			const struct trk_entry *e;

			/* the entry moving (in one slot, both, or none of
			 * those read) is kept once, below */
			if (s == 0 || s == moving)
				continue;
			cmm_smp_read_barrier_depends();
			e = slot_entry(s);
			iter_consider(it, x, h, e);
		}
		cmm_smp_rmb();
		if (CMM_LOAD_SHARED(x->b[b].spill) == 0)
			break;
		b = (b + 1) & x->mask;
	} while (b != h);
	if (moves_changed(x, moves))
		goto again;
	if (moving != 0) {
		cmm_smp_read_barrier_depends();
		iter_consider(it, x, h, slot_entry(moving));
	}
	if (it->partial) {
		uint64_t cut = it->v[it->n - 1].pos;

		while (it->n > 0 && it->v[it->n - 1].pos == cut)
			it->n--;
		return;		/* it->home stays: load it again after v */
	}
	it->home++;
}

void
trk_names_iter_start(const struct trk_part *p, struct trk_names_iter *it,
		bool resume, uint64_t after)
{
	it->x = names_of(p);
	it->have_after = resume;
	it->after = after;
	it->home = resume ? after >> it->x->shift : 0;
	it->n = it->i = 0;
	it->partial = false;
}

const struct trk_entry *
trk_names_iter_next(struct trk_names_iter *it)
{
	while (it->i == it->n) {
		if (it->n > 0) {
			it->after = it->v[it->n - 1].pos;
			it->have_after = true;
		}
		it->home = live_next(it->x, it->home);
		if (it->home > it->x->mask)
			return NULL;
		iter_load(it);
	}
	return it->v[it->i++].e;
}
