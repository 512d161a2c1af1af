/*
 * trk_internal.h - shared internals of lib/tracker (not installed).
 *
 * A tracker is an array of partitions. Everything inside a partition is
 * written by that partition's owner thread only; the fields that readers
 * reach (the three hash tables and what hangs off them) are published with
 * RCU, the rest (lease heap, change queue, retire batch, counters) is
 * private to the owner, except that counters are read racily by trk_stats.
 */
#ifndef SWARM_TRK_INTERNAL_H
#define SWARM_TRK_INTERNAL_H

#include <urcu/list.h>
#include <urcu/rculfhash.h>
#include <urcu/rculist.h>

#include "tracker.h"

#define TRK_RETIRE_BATCH	64
#define TRK_NO_HEAP		UINT32_MAX

/* Pointers waiting for a grace period; one rcu_head for the whole batch.
 * A pointer with bit 0 set is an entry, which goes back to part's slab. */
struct trk_retire {
	struct rcu_head head;
	struct trk_part *part;
	uint32_t n;
	void *ptr[TRK_RETIRE_BATCH];
};

/*
 * A partition's entry memory (trk_slab.c): size classes of TRK_SLAB_GRAIN
 * bytes carved from TRK_SLAB_CHUNK chunks. free[] and the chunk lists are
 * the owner's; back[] is pushed by any thread and taken by the owner.
 */
#define TRK_SLAB_CHUNK		(2u << 20)
#define TRK_SLAB_GRAIN		16u
#define TRK_ENTRY_SIZE_MAX	(sizeof(struct trk_entry) + TRK_NAME_MAX + \
				 TRK_META_MAX)
#define TRK_SLAB_CLASSES	((TRK_ENTRY_SIZE_MAX + TRK_SLAB_GRAIN - 1) / \
				 TRK_SLAB_GRAIN)
/* Entry memory touched at start per name expected: an entry of a name of
 * up to 24 bytes and no metadata. */
#define TRK_SLAB_PER_ENTRY	112u

struct trk_slab_obj {
	struct trk_slab_obj *next;
};

struct slab_chunk;
struct trk_slab {
	struct trk_slab_obj *free[TRK_SLAB_CLASSES];
	struct trk_slab_obj *back[TRK_SLAB_CLASSES];
	uint8_t *bump, *end;		/* the current chunk's free tail */
	struct slab_chunk *chunks;	/* in use */
	struct slab_chunk *spare;	/* touched at start, not used yet */
	uint64_t nchunks;
};

/* Any thread, before the tracker is shared: prefault_bytes of chunks. */
int trk_slab_init(struct trk_slab *s, size_t prefault_bytes);
/* Owner. size bytes (at most TRK_ENTRY_SIZE_MAX) or NULL: no memory. */
void *trk_slab_alloc(struct trk_slab *s, size_t size);
/* Owner: an object no reader has seen. */
void trk_slab_free_owned(struct trk_slab *s, void *ptr, size_t size);
/* Any thread (the call_rcu worker): an object after its grace period. */
void trk_slab_free_remote(struct trk_slab *s, void *ptr, size_t size);
/* No user left (after urcu_qsbr_barrier): every chunk goes. */
void trk_slab_fini(struct trk_slab *s);

static inline size_t
trk_entry_size(const struct trk_entry *e)
{
	return sizeof(*e) + e->name_len + e->meta_len;
}

/* Binary min-heap of leased entries by lease_expiry (trk_lease.c). */
struct trk_heap {
	struct trk_entry **v;
	uint32_t len;
	uint32_t cap;
};

/* Bounded FIFO of changes (trk_changes.c). cap 0 = switched off. */
struct trk_chq {
	struct trk_change *ring;
	uint32_t cap;
	uint32_t head;
	uint32_t len;
};

/*
 * A group as seen from one partition: the members of the group whose
 * entries live in this partition, in join order (RCU list).
 */
struct trk_group {
	struct cds_lfht_node node;	/* part->groups, hashed by group hash */
	uint64_t hash;
	struct cds_list_head members;	/* struct trk_member, ascending seq */
	uint32_t nmembers;		/* owner-only */
	uint8_t name_len;
	uint8_t name[];
};

/* One (group, entry) membership, in the partition of the entry. */
struct trk_member {
	struct cds_list_head link;	/* group->members */
	struct cds_lfht_node node;	/* part->members, hashed by seq */
	uint64_t seq;			/* per-partition join sequence */
	struct trk_group *group;
	struct trk_entry *entry;	/* RCU pointer: follows copy on write */
	struct trk_version version;
};

/* A removal remembered for tombstone_ms (owner only, trk_replica.c). */
struct trk_tomb {
	struct trk_tomb *next;		/* hash chain */
	struct cds_list_head fifo;	/* by time, oldest first */
	uint64_t hash;
	uint64_t time;			/* `now` of the removal */
	struct trk_version version;	/* newest removal seen */
	uint8_t name_len;
	uint8_t name[];
};

struct trk_tombs {
	struct trk_tomb **bucket;	/* power of two, or NULL while empty */
	uint64_t nbuckets;
	uint64_t n;
	struct cds_list_head fifo;
};

/*
 * A partition's names table (trk_names.c): 64-byte buckets of seven tagged
 * entry pointers and a spill count, homes in split order.
 */
#define TRK_NAMES_SLOTS		7
#define TRK_NAMES_LOAD_PCT	75
#define TRK_NAMES_ITER_MAX	64

struct trk_names_bucket {
	uint64_t slot[TRK_NAMES_SLOTS];	/* tag << 48 | entry; 0 = free */
	uint64_t spill;			/* entries that passed this bucket */
} __attribute__((aligned(64)));

/*
 * Three cache lines before the buckets, so that what every lookup reads
 * does not share a line with what the owner writes on every insert and
 * removal: the shape (written once), the move window (written twice per
 * refill move), the owner's counts.
 */
struct trk_names {
	uint64_t mask;			/* buckets - 1 */
	uint32_t shift;			/* 64 - log2(buckets): position -> home */
	uint32_t pad;
	uint64_t *live;			/* bit per bucket: holds or passes one */
	uint64_t moves __attribute__((aligned(64)));	/* odd while an entry
					 * changes slot */
	uint64_t moving;		/* that entry's slot word, while odd */
	uint64_t n __attribute__((aligned(64)));	/* slots in use (owner) */
	uint64_t limit;			/* grow before going above (owner) */
	uint64_t grows;			/* arrays replaced so far (owner) */
	struct trk_names_bucket b[];
};

/* A listing's walk over one partition's names, in ascending position. */
struct trk_names_iter {
	const struct trk_names *x;
	uint64_t home;			/* next bucket whose entries to load */
	uint64_t after;			/* positions up to here are done */
	bool have_after;
	bool partial;			/* v holds only the lowest of home's */
	uint32_t n, i;
	struct {
		uint64_t pos;
		const struct trk_entry *e;
	} v[TRK_NAMES_ITER_MAX];
};

struct trk_part {
	/* read by every thread */
	struct trk_names *names;	/* RCU pointer: entries by name hash */
	struct cds_lfht *groups;	/* struct trk_group by group hash */
	struct cds_lfht *members;	/* struct trk_member by mixed seq */
	/* owner-only state */
	uint64_t clock;			/* Lamport clock of this partition */
	uint64_t member_seq;
	uint64_t cap;			/* entry limit; 0 = none */
	uint32_t node_id;
	struct trk_heap heap;
	struct trk_chq chq;
	struct trk_retire *retire;
	struct trk_slab slab;		/* entries (owner; back[]: any) */
	uint64_t tomb_ms;
	struct trk_tombs tombs;
	/* counters: written by the owner, read racily */
	uint64_t nentries;
	uint64_t nleased;
	uint64_t ngroups;
	uint64_t nmembers;
	uint64_t registers;
	uint64_t updates;
	uint64_t unregisters;
	uint64_t expired;
	uint64_t busy;
	uint64_t full;
	uint64_t cursor_fallbacks;	/* written by readers, atomically */
	/* anti-entropy digest: written by the owner, read racily */
	struct trk_digest_seg digest[TRK_DIGEST_SEGS];
} __attribute__((aligned(64)));

struct trk {
	uint32_t nparts;
	uint32_t node_id;
	struct trk_part part[];
};

/* Bump a counter owned by the partition's writer (racy readers). */
#define TRK_COUNT_ADD(p, field, d) \
	CMM_STORE_SHARED((p)->field, (p)->field + (d))

static inline struct trk_part *
trk_part_get(const struct trk *t, uint64_t hash)
{
	return (struct trk_part *)&t->part[ring_hash_partition(hash, t->nparts)];
}

static inline bool
trk_key_valid(const struct trk_key *k)
{
	return k != NULL && k->name != NULL && k->len >= 1 &&
		k->len <= TRK_NAME_MAX;
}

/* A stored entry is live at now unless its lease ran out. */
static inline bool
trk_entry_live(const struct trk_entry *e, uint64_t now)
{
	uint64_t exp = trk_entry_lease(e);

	return exp == 0 || now < exp;
}

/* Bit-reversed hash: the order cds_lfht iterates in (split order). */
static inline uint64_t
trk_split_key(uint64_t h)
{
	h = ((h >> 1) & 0x5555555555555555ULL) | ((h & 0x5555555555555555ULL) << 1);
	h = ((h >> 2) & 0x3333333333333333ULL) | ((h & 0x3333333333333333ULL) << 2);
	h = ((h >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((h & 0x0f0f0f0f0f0f0f0fULL) << 4);
	return __builtin_bswap64(h);
}

/* trk_clock.c: versions from the partition's Lamport clock. */
struct trk_version trk_clock_tick(struct trk_part *p);

/* trk_replica.c: digests and tombstones (owner only for writes). */
static inline void
trk_digest_toggle(struct trk_part *p, const struct trk_entry *e, int64_t d)
{
	struct trk_digest_seg *s = &p->digest[trk_digest_seg_of(e->hash)];

	CMM_STORE_SHARED(s->x, s->x ^ trk_digest_mix(e->hash, &e->version));
	CMM_STORE_SHARED(s->count, s->count + (uint64_t)d);
}

void trk_tombs_init(struct trk_part *p, uint64_t ms);
void trk_tombs_fini(struct trk_part *p);
struct trk_tomb *trk_tomb_find(struct trk_part *p, const struct trk_key *k);
/* Record a removal of k at version v (keeps the newest); TRK_NOMEM. */
int trk_tomb_put(struct trk_part *p, const struct trk_key *k,
		const struct trk_version *v, uint64_t now);
void trk_tomb_drop(struct trk_part *p, const struct trk_key *k);
size_t trk_tombs_expire(struct trk_part *p, uint64_t now, size_t budget);

/* trk_groups.c: memberships from peers (no change recorded). */
int trk_groups_apply(struct trk_part *p, struct trk_entry *e,
		const struct trk_change *ch, const struct trk_key *group);

/* trk_retire.c: free ptr after a grace period (owner, online). */
void trk_retire(struct trk_part *p, void *ptr);
/* trk_retire for an entry: its memory goes back to p's slab. */
void trk_retire_entry(struct trk_part *p, struct trk_entry *e);
void trk_retire_flush(struct trk_part *p);

/* trk_lease.c: the lease heap (owner only). */
int trk_heap_reserve(struct trk_heap *h);
void trk_heap_push(struct trk_heap *h, struct trk_entry *e);
void trk_heap_remove(struct trk_heap *h, struct trk_entry *e);
void trk_heap_fix(struct trk_heap *h, struct trk_entry *e, uint64_t old_key);
void trk_heap_replace(struct trk_heap *h, struct trk_entry *old,
		struct trk_entry *e);
struct trk_entry *trk_heap_min(const struct trk_heap *h);
void trk_heap_fini(struct trk_heap *h);

/* trk_changes.c: the change queue (owner only). */
int trk_chq_init(struct trk_chq *q, uint32_t cap);
void trk_chq_fini(struct trk_chq *q);
bool trk_chq_room(const struct trk_chq *q, uint32_t need);
void trk_chq_push(struct trk_chq *q, enum trk_change_kind kind,
		const struct trk_entry *e, const struct trk_version *v,
		const struct trk_group *g);
size_t trk_chq_drain(struct trk_chq *q, struct trk_change *out, size_t max);

/*
 * trk_names.c. Readers (find, prefetch, iter): any registered thread,
 * online; what they return is valid until its next quiescent state. The
 * rest: the partition's owner, online; reserve before add, and the entries
 * passed to del and swap are the ones the table holds.
 */
struct trk_names *trk_names_new(uint64_t expected);
/* A slot holds 48 address bits: false for entries above (57-bit spaces). */
static inline bool
trk_names_taggable(const void *e)
{
	return ((uint64_t)(uintptr_t)e >> 48) == 0;
}
void trk_names_free(struct trk_names *x);
/* Room for one more entry (may grow the table); TRK_NOMEM. */
int trk_names_reserve(struct trk_part *p);
/* Publish e (room reserved, address taggable). */
void trk_names_add(struct trk_part *p, struct trk_entry *e);
void trk_names_del(struct trk_part *p, const struct trk_entry *e);
/* Put e where old is (same name); e is fully written. */
void trk_names_swap(struct trk_part *p, const struct trk_entry *old,
		struct trk_entry *e);
/* The entry named k, live or not; *dups = entries seen with k's hash. */
struct trk_entry *trk_names_find(const struct trk_part *p,
		const struct trk_key *k, unsigned int *dups);
/* Empty the table, handing every entry to each (which owns it then). */
void trk_names_clear(struct trk_part *p,
		void (*each)(struct trk_part *p, struct trk_entry *e));
void trk_names_prefetch(const struct trk_part *p, uint64_t hash);
void trk_names_prefetch_entry(const struct trk_part *p, uint64_t hash);
/* Walk from the start, or from after position `after` if resume. */
void trk_names_iter_start(const struct trk_part *p, struct trk_names_iter *it,
		bool resume, uint64_t after);
/* The next entry in ascending position (split key), or NULL at the end. */
const struct trk_entry *trk_names_iter_next(struct trk_names_iter *it);

/* trk_entries.c: owner-side removal. */
int trk_entry_remove(struct trk_part *p, struct trk_entry *e,
		enum trk_change_kind kind, uint64_t now);

/* trk_groups.c: what the entry code needs from groups. */
void trk_groups_leave_all(struct trk_part *p, struct trk_entry *e,
		bool record);
void trk_groups_follow(struct trk_entry *old, struct trk_entry *e);
int trk_groups_init(struct trk_part *p, unsigned long size);

/* trk_cursor.c: cursor layout shared by both listings. */
enum trk_cursor_kind {
	TRK_CUR_NAMES = 1,
	TRK_CUR_MEMBERS = 2,
};

#define TRK_CURSOR_ANCHORS 3

struct trk_cursor_state {
	bool done;
	uint32_t part;
	uint32_t nanchors;
	/* most recent first; one spare so a page can drop its last group */
	uint64_t anchor[TRK_CURSOR_ANCHORS + 1];
};

int trk_cursor_load(const struct trk *t, const struct trk_cursor *c,
		enum trk_cursor_kind kind, struct trk_cursor_state *s);
void trk_cursor_store(struct trk_cursor *c, enum trk_cursor_kind kind,
		const struct trk_cursor_state *s);
void trk_cursor_push_anchor(struct trk_cursor_state *s, uint64_t a);
void trk_cursor_next_part(struct trk_cursor_state *s, uint32_t nparts);

#endif /* SWARM_TRK_INTERNAL_H */
