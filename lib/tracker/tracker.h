/*
 * tracker.h - the single-node registry core of swarm (sans-IO).
 *
 * The tracker maps names to registrations (struct trk_entry) and keeps group
 * memberships, leases and a stream of state changes for replication. It is a
 * pure state machine: it never reads a clock, opens a socket or starts a
 * thread of its own. Time is an input: every call that needs it takes `now`,
 * a monotonic time in MILLISECONDS chosen by the caller (any epoch; leases
 * compare against it, nothing else does).
 *
 * Threading model (see docs/tracker.md for the full picture):
 *
 *  - The registry is split into P partitions (1..TRK_MAX_PARTS). The
 *    partition of a name is ring_hash_partition(hash, P) with the hash from
 *    ring_hash_name(). Each partition has exactly ONE writer, its owner
 *    thread; the tracker does not check this, the caller guarantees it.
 *  - Any thread may read any partition (whereis, registered, members) as a
 *    liburcu QSBR reader: registered with urcu_qsbr_register_thread() and
 *    online. Pointers returned by the zero-copy calls stay valid until the
 *    calling thread's next urcu_qsbr_quiescent_state() (or going offline).
 *    The tracker never announces quiescent states itself: the caller does,
 *    once per loop iteration, outside any tracker call.
 *  - Owner threads are QSBR readers too (registered and online when calling
 *    the write functions): writes traverse the tables and hand retired memory
 *    to urcu_qsbr_call_rcu(), which requires an online registered thread.
 *  - Memory: entries and group records are allocated with malloc by the
 *    owner and freed by the liburcu call_rcu worker after a grace period, in
 *    batches (never on a lookup path). The caller never frees anything it
 *    gets from the tracker.
 *
 * Return codes: every fallible call returns an enum trk_status; TRK_OK is 0
 * and every error is negative, so `if (rc < 0)` works everywhere.
 */
#ifndef SWARM_TRACKER_H
#define SWARM_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <urcu/urcu-qsbr.h>

#include "ring_hash.h"

#define TRK_NAME_MAX		255	/* name and group name: 1..255 bytes */
#define TRK_META_MAX		255	/* metadata: 0..255 bytes */
#define TRK_MAX_PARTS		64	/* partitions per tracker */
#define TRK_GROUPS_PER_ENTRY	64	/* groups one entry may join */
#define TRK_HASH_DUP_MAX	4	/* names sharing one 64-bit hash, per partition */
#define TRK_PAGE_MIN		1	/* smallest page a listing accepts */
#define TRK_CURSOR_SIZE		32

struct trk_member;

enum trk_status {
	TRK_OK = 0,
	TRK_NOT_FOUND = -1,	/* no live entry (or membership) of that name */
	TRK_EXISTS = -2,	/* name held by another handle; entry returned */
	TRK_INVALID = -3,	/* malformed input: lengths, endpoint, cursor, config */
	TRK_FULL = -4,		/* partition capacity or groups-per-entry limit */
	TRK_NOMEM = -5,		/* malloc failed; nothing was changed */
	TRK_BUSY = -6,		/* change queue has no room; retry after draining */
	TRK_COLLISION = -7,	/* too many names share this 64-bit hash */
};

/* Short constant name of a status ("ok", "not_found", ...). */
const char *trk_status_str(int status);

/* Address family of an endpoint (not AF_*: this is a wire-neutral tag). */
enum trk_family {
	TRK_EP_NONE = 0,	/* no endpoint: address and port all zero */
	TRK_INET4 = 4,
	TRK_INET6 = 6,
};

/* Where a registered thing can be reached. IPv4 uses addr[0..3]. */
struct trk_endpoint {
	uint8_t addr[16];	/* network byte order */
	uint16_t port;		/* host byte order, 1..65535 (0 for none) */
	uint8_t family;		/* enum trk_family */
	uint8_t reserved;	/* must be 0 */
};

/*
 * Version of an entry or membership: a Lamport clock and the node that made
 * the change. Total order: by clock, then by node id; equal versions denote
 * the same event. The higher version wins a conflict.
 */
struct trk_version {
	uint64_t clock;
	uint32_t node;
	uint32_t reserved;
};

/* <0, 0, >0 as a is older than, the same as, or newer than b. Pure. */
int trk_version_cmp(const struct trk_version *a, const struct trk_version *b);

enum trk_entry_flags {
	TRK_F_PLAIN = 0,
	TRK_F_MANAGED = 1u << 0,	/* ring-placed, restartable (later work) */
};

/*
 * A registration as stored in a partition table. Readers see it through
 * const pointers only; every field a reader may read is immutable after the
 * entry is published, except lease_expiry, which the owner updates with a
 * single aligned store (read it with trk_entry_lease()). Changing anything
 * else replaces the whole entry (copy on write), so a reader never sees a
 * half-updated entry.
 */
struct trk_entry {
	uint64_t hash;			/* ring_hash_name(name) */
	uint64_t handle;		/* chosen by the registrant */
	struct trk_version version;
	uint64_t lease_expiry;		/* ms; 0 = no lease; see trk_entry_lease */
	struct trk_endpoint ep;
	uint32_t owner;			/* node hosting the registered thing */
	uint8_t flags;			/* enum trk_entry_flags */
	uint8_t name_len;
	uint8_t meta_len;
	uint8_t ngroups;		/* owner-only */
	uint32_t managed_state;		/* reserved for managed entries/handoff */
	uint32_t heap_idx;		/* owner-only: lease heap slot */
	struct trk_member **groups;	/* owner-only: this entry's memberships */
	uint8_t data[];			/* name bytes, then metadata bytes */
};

static inline const uint8_t *
trk_entry_name(const struct trk_entry *e)
{
	return e->data;
}

static inline const uint8_t *
trk_entry_meta(const struct trk_entry *e)
{
	return e->data + e->name_len;
}

static inline uint64_t
trk_entry_lease(const struct trk_entry *e)
{
	return CMM_LOAD_SHARED(e->lease_expiry);
}

/* A copy of an entry (copy-out lookups and change records). */
struct trk_record {
	uint64_t hash;
	uint64_t handle;
	struct trk_version version;
	uint64_t lease_expiry;
	struct trk_endpoint ep;
	uint32_t owner;
	uint8_t flags;
	uint8_t name_len;
	uint8_t meta_len;
	uint8_t name[TRK_NAME_MAX];
	uint8_t meta[TRK_META_MAX];
};

/*
 * A name (or group name) with its hash. The packet path hashes each name
 * once and passes the hash along: build keys with trk_key_hashed(). The hash
 * MUST be ring_hash_name(name, len); the tracker trusts it.
 */
struct trk_key {
	const void *name;
	size_t len;
	uint64_t hash;
};

static inline struct trk_key
trk_key_hashed(const void *name, size_t len, uint64_t hash)
{
	struct trk_key k = { .name = name, .len = len, .hash = hash };

	return k;
}

static inline struct trk_key
trk_key(const void *name, size_t len)
{
	return trk_key_hashed(name, len, ring_hash_name(name, len));
}

/* What to register. Lengths are validated; nothing here is trusted. */
struct trk_reg {
	struct trk_key key;
	uint64_t handle;
	struct trk_endpoint ep;
	uint32_t owner;			/* node id hosting it */
	uint32_t flags;			/* enum trk_entry_flags */
	const void *meta;
	size_t meta_len;		/* 0..TRK_META_MAX */
	uint64_t ttl_ms;		/* lease length from `now`; 0 = none */
};

struct trk_config {
	uint32_t nparts;		/* 1..TRK_MAX_PARTS */
	uint32_t node_id;		/* stamped into versions */
	uint64_t expected_entries;	/* whole tracker; presizes the tables */
	uint64_t max_entries;		/* whole tracker; 0 = no limit */
	uint32_t change_queue_len;	/* per partition; 0 = no change queue */
	uint64_t tombstone_ms;		/* keep removals this long; 0 = 60000 */
};

#define TRK_TOMBSTONE_MS_DEFAULT 60000

struct trk;

/*
 * Create a tracker. Returns NULL on an invalid config or no memory. Any
 * thread, registered or not; no RCU state needed.
 */
struct trk *trk_create(const struct trk_config *cfg);

/*
 * Destroy a tracker and everything in it. Caller: a registered QSBR thread,
 * online or offline (the call goes offline internally for the table
 * teardown and restores the state). No other thread may use the tracker or
 * hold a pointer from it any more. Waits for pending RCU callbacks.
 */
void trk_destroy(struct trk *t);

uint32_t trk_nparts(const struct trk *t);

/* Partition that owns a name hash. Pure; any thread. */
uint32_t trk_part_of(const struct trk *t, uint64_t hash);

/* ---- Entries: writes (owner thread of the name's partition, online) ---- */

/*
 * Register req at time now.
 *  - new name: inserted with a fresh version -> TRK_OK;
 *  - same name, same handle: refreshed (lease restarted from now; endpoint,
 *    owner, flags and metadata replaced, with a new version, when any of
 *    them differs) -> TRK_OK;
 *  - same name, other handle: nothing changes -> TRK_EXISTS.
 * *out (may be NULL) receives the entry now stored under the name (the
 * existing one for TRK_EXISTS), valid until the caller's next quiescent
 * state. Errors: TRK_INVALID, TRK_FULL, TRK_COLLISION, TRK_NOMEM, TRK_BUSY.
 * An entry whose lease expired counts as absent (and is reclaimed here).
 */
int trk_register(struct trk *t, const struct trk_reg *req, uint64_t now,
		const struct trk_entry **out);

/*
 * Return the live entry of req->key if there is one (TRK_EXISTS, untouched,
 * whatever its handle), else register req (TRK_OK). Owner thread, online.
 */
int trk_whereis_or_register(struct trk *t, const struct trk_reg *req,
		uint64_t now, const struct trk_entry **out);

/*
 * Remove the live entry of key; with check_handle, only if its handle is
 * `handle`. TRK_OK, TRK_NOT_FOUND (absent, expired or other handle),
 * TRK_INVALID, TRK_BUSY. The entry leaves all its groups. Owner, online.
 */
int trk_unregister(struct trk *t, const struct trk_key *key, bool check_handle,
		uint64_t handle, uint64_t now);

/*
 * Reclaim up to budget entries of partition part whose lease expired at
 * now (earliest first), then up to budget tombstones older than
 * tombstone_ms (not counted), then hand pending retired memory to RCU.
 * Returns the number of entries reclaimed (stops early when the change
 * queue is full). Call
 * it from the owner's loop. Owner thread of part, online.
 */
size_t trk_expire(struct trk *t, uint32_t part, uint64_t now, size_t budget);

/*
 * Hand the partition's pending retired memory to RCU now (trk_expire does
 * it too). Owner thread of part, online.
 */
void trk_flush(struct trk *t, uint32_t part);

/*
 * Make later versions in part newer than v (Lamport receive rule), for
 * changes learned from peers. Owner thread of part.
 */
void trk_clock_observe(struct trk *t, uint32_t part,
		const struct trk_version *v);
/* The partition's clock: the last version it handed out or observed.
 * Owner thread of part. */
uint64_t trk_clock_now(const struct trk *t, uint32_t part);

/*
 * Remove the stored entry of key if its version is exactly *v, recording
 * no change. For removals every node derives by itself, such as purging a
 * dead node's registrations. It leaves a tombstone at the version right
 * below v (for tombstone_ms): the entry's own copies (version v) may come
 * back when a netsplit heals, but no older copy of the name, which v had
 * superseded, can return in its place from a node that missed v.
 * TRK_OK, TRK_NOT_FOUND (absent, or another version), TRK_INVALID. Owner
 * thread of the key's partition, online.
 */
int trk_drop(struct trk *t, const struct trk_key *key,
		const struct trk_version *v, uint64_t now);

/* ---- Entries: reads (any registered QSBR thread, online) ---- */

/*
 * Hints for a burst of operations on names: call trk_prefetch() for every
 * hash of the burst, then trk_prefetch_entry() for every hash, then do the
 * operations, and the cache misses of the burst overlap (the index bucket
 * of each name first, then the entry that bucket points at). They change
 * no state and no result; a hash the burst does not use costs a wasted
 * line. Any registered QSBR thread, online.
 */
void trk_prefetch(const struct trk *t, uint64_t hash);
void trk_prefetch_entry(const struct trk *t, uint64_t hash);

/*
 * Zero-copy lookup: the live entry of key at now, or NULL (absent, expired,
 * invalid key). Valid until the caller's next quiescent state.
 */
const struct trk_entry *trk_whereis(const struct trk *t,
		const struct trk_key *key, uint64_t now);

/* Copy-out lookup: TRK_OK with *out filled, TRK_NOT_FOUND, TRK_INVALID. */
int trk_whereis_copy(const struct trk *t, const struct trk_key *key,
		uint64_t now, struct trk_record *out);

/* Copy an entry into a record. Pure; e must be valid (see above). */
void trk_entry_copy(const struct trk_entry *e, struct trk_record *out);

/* ---- Paged listings (any registered QSBR thread, online) ---- */

/*
 * Opaque resumable position of a listing. Zero it (trk_cursor_init) to
 * start; it may travel over the network and come back: it is validated,
 * and a forged one can at worst cost a slower page, never a crash.
 */
struct trk_cursor {
	uint8_t b[TRK_CURSOR_SIZE];
};

void trk_cursor_init(struct trk_cursor *c);
bool trk_cursor_done(const struct trk_cursor *c);

/*
 * A trk_registered() cursor that starts at the first name of partition
 * part (< TRK_MAX_PARTS), and the partition a names cursor is in
 * (UINT32_MAX once done): together they list one partition, e.g. for a
 * repair scan on its owner thread. Pure.
 */
void trk_cursor_init_part(struct trk_cursor *c, uint32_t part);
uint32_t trk_cursor_part(const struct trk_cursor *c);

/*
 * One page of all live names: up to max (>= 1) entry pointers,
 * count in *n, cursor advanced. A listing that starts with a zeroed cursor
 * and runs until trk_cursor_done() returns every entry present during the
 * whole listing exactly once, whatever is inserted, deleted or resized in
 * between. (One exception: names sharing one full 64-bit hash are never
 * split across pages, so with max below their number the extra ones are
 * skipped; max >= TRK_HASH_DUP_MAX avoids it.) Pointers valid until the caller's next quiescent state, so the
 * caller may go quiescent between pages but not within one.
 * TRK_OK or TRK_INVALID (bad cursor, max too small).
 */
int trk_registered(const struct trk *t, struct trk_cursor *cur, uint64_t now,
		const struct trk_entry **out, size_t max, size_t *n);

/* ---- Groups ---- */

/*
 * Add member to group. The caller is the owner of the MEMBER's partition,
 * online. TRK_OK (also when already a member: then nothing changes),
 * TRK_NOT_FOUND (no live entry of member), TRK_FULL (entry is in
 * TRK_GROUPS_PER_ENTRY groups), TRK_INVALID, TRK_NOMEM, TRK_BUSY.
 */
int trk_join(struct trk *t, const struct trk_key *group,
		const struct trk_key *member, uint64_t now);

/* Remove member from group. TRK_OK, TRK_NOT_FOUND, TRK_INVALID, TRK_BUSY. */
int trk_leave(struct trk *t, const struct trk_key *group,
		const struct trk_key *member, uint64_t now);

/*
 * One page of the live members of group, with the guarantee of
 * trk_registered (for memberships present during the whole listing). Any
 * registered thread, online; same cursor and page rules.
 */
int trk_members(const struct trk *t, const struct trk_key *group,
		struct trk_cursor *cur, uint64_t now,
		const struct trk_entry **out, size_t max, size_t *n);

/* ---- Change queue (owner thread of the partition) ---- */

enum trk_change_kind {
	TRK_CH_REGISTER = 1,	/* new entry, or new content for a name */
	TRK_CH_UNREGISTER,
	TRK_CH_EXPIRE,		/* lease ran out */
	TRK_CH_JOIN,
	TRK_CH_LEAVE,		/* explicit, or because the entry went */
};

/*
 * A state change, in the order the owner made it. rec holds the entry (for
 * REGISTER its new content; for the others the entry's identity: hash,
 * name, handle, and the version of this change). group is set for
 * JOIN/LEAVE.
 */
struct trk_change {
	uint8_t kind;		/* enum trk_change_kind */
	uint8_t group_len;
	uint8_t group[TRK_NAME_MAX];
	struct trk_record rec;
};

/*
 * Move up to max changes of partition part into out, oldest first; returns
 * how many. With no change queue configured, always 0. Owner thread.
 * A write that would not fit in the queue is refused (TRK_BUSY), so no
 * change is ever lost silently.
 */
size_t trk_drain_changes(struct trk *t, uint32_t part, struct trk_change *out,
		size_t max);

/* ---- Replication hooks (see docs/tracker.md, "Replication hooks") ---- */

/* trk_apply's return for a change that changed nothing (stale or repeat). */
#define TRK_IGNORED 1

/*
 * Apply a change learned from a peer. Owner thread of the partition of
 * ch->rec's name, online. The higher version (clock, then node) wins; a
 * stored entry competes by its version whether or not its local lease ran
 * out (trk_expire reclaims it as usual):
 *  - REGISTER: stores the change's content with ch->rec.version, unless the
 *    stored entry or a tombstone of the name is at least as new. The copy
 *    has no local lease (lease_expiry 0): the owner's EXPIRE replicates.
 *    Memberships of a replaced entry stay (they follow the new copy).
 *  - UNREGISTER, EXPIRE: remove the entry (and its memberships) unless its
 *    version is newer than the change's; either way keep a tombstone of
 *    the name with the newest removal version for tombstone_ms, so older
 *    REGISTERs arriving late are rejected.
 *  - JOIN: the member entry must be stored (else TRK_NOT_FOUND); adds the
 *    membership with the change's version, or raises an existing one's.
 *  - LEAVE: removes the membership unless its version is newer.
 * Every valid change advances the partition's clock (trk_clock_observe).
 * Applied changes are NOT put in the change queue. Returns TRK_OK (state
 * changed), TRK_IGNORED (nothing to do: older, or already applied), or an
 * error, with nothing changed: TRK_INVALID (bad kind, name length, hash,
 * endpoint, flags, empty group), TRK_NOT_FOUND, TRK_FULL, TRK_COLLISION,
 * TRK_NOMEM.
 */
int trk_apply(struct trk *t, const struct trk_change *ch, uint64_t now);

/*
 * Anti-entropy digest: TRK_DIGEST_SEGS segments per partition, by the top
 * 8 bits of the name hash (bits 56..63; the tables use bits 0..31, the
 * partition bits 32..47). Each segment is the XOR of trk_digest_mix() over
 * its stored entries, plus their count.
 */
#define TRK_DIGEST_SEGS 256

struct trk_digest_seg {
	uint64_t x;
	uint64_t count;
};

static inline uint32_t
trk_digest_seg_of(uint64_t hash)
{
	return (uint32_t)(hash >> 56);
}

/* Pure: the 64-bit mix of one entry's (hash, version). */
uint64_t trk_digest_mix(uint64_t hash, const struct trk_version *v);

/*
 * Copy up to n segments of partition part (from segment 0) into out;
 * returns how many, 0 for a bad part. Any thread; approximate (segments
 * read one word at a time) while the owner writes.
 */
size_t trk_digest(const struct trk *t, uint32_t part,
		struct trk_digest_seg *out, size_t n);

/* Tombstones currently kept (sum over partitions; approximate). */
uint64_t trk_tombstones(const struct trk *t);

/*
 * Copy the partition's tombstones whose digest segment (trk_digest_seg_of(hash))
 * is set in segmask (256 bits: bit s of segmask[s / 64]) as TRK_CH_UNREGISTER
 * changes (rec.hash, rec.name/name_len, rec.version = the removal version; other
 * record fields zero) into out, up to max. *cursor: 0 to start; advanced on
 * return; set to TRK_SCAN_DONE when the scan is complete. Returns the count.
 * Resumable across calls with writes in between (a tombstone present for the
 * whole scan is reported at least once; duplicates are allowed, since applying
 * a change twice is harmless). Owner thread of part.
 *
 * Each call walks at most about 4 * max buckets and tombstones (it may return
 * 0 with the cursor advanced). The cursor is a position in an order that does
 * not depend on the bucket count, so resizes in between are harmless; today
 * each tombstone is reported once, except that names sharing one 64-bit hash
 * are never split across calls, so with max below their number the extra ones
 * are skipped. max 0 reports nothing and keeps the cursor; a bad part (or
 * NULL t, segmask or out) returns 0 with the cursor TRK_SCAN_DONE.
 */
#define TRK_SCAN_DONE UINT64_MAX
size_t trk_tombs_scan(struct trk *t, uint32_t part, uint64_t *cursor,
		const uint64_t segmask[4], struct trk_change *out, size_t max);

/*
 * The group memberships of entry e (a live entry of partition part obtained by
 * this thread since its last quiescent state) as TRK_CH_JOIN changes: rec
 * identifies the member entry (hash, name, handle, version = the membership's
 * version), group/group_len the group name. Up to max; returns the count (an
 * entry has at most TRK_GROUPS_PER_ENTRY). Owner thread of part.
 *
 * rec is the full trk_entry_copy of e, as in the JOIN trk_join queues. 0 for
 * a bad part, an e of another partition, or an e the owner has replaced or
 * removed since (its memberships moved to the new copy, or went).
 */
size_t trk_entry_joins(const struct trk *t, uint32_t part,
		const struct trk_entry *e, struct trk_change *out, size_t max);

/* ---- Counters (any thread; approximate while writers run) ---- */

struct trk_stats {
	uint64_t entries;	/* stored, including expired not yet reclaimed */
	uint64_t leased;	/* entries with a lease */
	uint64_t groups;	/* (group, partition) records */
	uint64_t memberships;
	uint64_t changes_pending;
	uint64_t registers;	/* successful registrations of new names */
	uint64_t updates;	/* re-registrations that replaced content */
	uint64_t unregisters;
	uint64_t expired;
	uint64_t busy;		/* writes refused for a full change queue */
	uint64_t full;		/* writes refused for capacity */
	uint64_t cursor_fallbacks; /* pages that had to rescan (see docs) */
};

void trk_stats(const struct trk *t, struct trk_stats *out);

/* Stored entries (sum over partitions; includes unreclaimed expired ones). */
uint64_t trk_count(const struct trk *t);
/* The same for one partition (0 for a partition out of range). */
uint64_t trk_part_count(const struct trk *t, uint32_t part);

#endif /* SWARM_TRACKER_H */
