/*
 * test_apply.c - the replication hooks: trk_apply (versioned upserts,
 * removals with tombstones, memberships), the Lamport clock, the change
 * queue rule for applied changes, and the anti-entropy digests.
 */
#include <stdlib.h>

#include "trk_test.h"

#define NODE_A 1
#define NODE_B 2

static void
ch_init(struct trk_change *c, enum trk_change_kind kind, const char *name,
		uint64_t clock, uint32_t node)
{
	size_t len = strlen(name);

	memset(c, 0, sizeof(*c));
	c->kind = (uint8_t)kind;
	c->rec.name_len = (uint8_t)len;
	memcpy(c->rec.name, name, len);
	c->rec.hash = ring_hash_name(name, len);
	c->rec.version.clock = clock;
	c->rec.version.node = node;
}

/* A REGISTER whose content follows reg_make's (name, handle) pattern. */
static void
ch_reg(struct trk_change *c, const char *name, uint64_t handle,
		uint64_t clock, uint32_t node)
{
	struct trk_key k;

	ch_init(c, TRK_CH_REGISTER, name, clock, node);
	k = trk_key(c->rec.name, c->rec.name_len);
	c->rec.handle = handle;
	c->rec.ep.family = TRK_INET4;
	c->rec.ep.addr[0] = 10;
	c->rec.ep.addr[3] = (uint8_t)handle;
	c->rec.ep.port = port_of(handle);
	c->rec.owner = node;
	c->rec.meta_len = (uint8_t)meta_of((char *)c->rec.meta,
			sizeof(c->rec.meta), &k, handle);
}

static void
ch_group(struct trk_change *c, enum trk_change_kind kind, const char *name,
		const char *group, uint64_t clock, uint32_t node)
{
	ch_init(c, kind, name, clock, node);
	c->group_len = (uint8_t)strlen(group);
	memcpy(c->group, group, c->group_len);
}

static struct trk *
trk_make_tomb(uint32_t nparts, uint32_t chq, uint64_t tomb_ms)
{
	struct trk_config c = {
		.nparts = nparts,
		.node_id = 7,
		.expected_entries = 1024,
		.change_queue_len = chq,
		.tombstone_ms = tomb_ms,
	};
	struct trk *t = trk_create(&c);

	assert_non_null(t);
	return t;
}

/* Key of a literal name (a few live at once: rotating slots). */
static const struct trk_key *
kp(const char *name)
{
	static struct trk_key slot[4];
	static unsigned int i;
	struct trk_key *k = &slot[i++ % 4];

	*k = trk_key(name, strlen(name));
	return k;
}

static const struct trk_entry *
find(struct trk *t, const char *name)
{
	struct trk_key k = trk_key(name, strlen(name));

	return trk_whereis(t, &k, 0);
}

static uint32_t
part_of_name(struct trk *t, const char *name)
{
	return trk_part_of(t, ring_hash_name(name, strlen(name)));
}

/*
 * trk_drop (a purge) leaves a tombstone right below the dropped version:
 * the same entry may come back (its node is back after a netsplit), an
 * older copy of the name (one the dropped entry had superseded, held by a
 * node that missed it) may not; a newer write still wins.
 */
static void
test_drop_guard(void **state)
{
	struct trk *t = trk_make_tomb(2, 64, 60000);
	struct trk_version v = { 9, NODE_B };
	struct trk_change c;

	(void)state;
	ch_reg(&c, "dev", 11, 9, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	assert_int_equal(trk_drop(t, kp("dev"), &(struct trk_version){ 9,
			NODE_A }, 10), TRK_NOT_FOUND);	/* another version */
	assert_int_equal(trk_drop(t, kp("dev"), &v, 10), TRK_OK);
	assert_null(find(t, "dev"));
	assert_int_equal(trk_tombstones(t), 1);
	/* older copies: lower clock, or same clock and lower node */
	ch_reg(&c, "dev", 5, 8, NODE_B);
	assert_int_equal(trk_apply(t, &c, 20), TRK_IGNORED);
	ch_reg(&c, "dev", 5, 9, NODE_A);
	assert_int_equal(trk_apply(t, &c, 20), TRK_IGNORED);
	assert_null(find(t, "dev"));
	/* the dropped entry itself comes back */
	ch_reg(&c, "dev", 11, 9, NODE_B);
	assert_int_equal(trk_apply(t, &c, 30), TRK_OK);
	assert_int_equal(find(t, "dev")->handle, 11);
	/* node 0 versions: the guard is the clock below */
	ch_reg(&c, "zero", 3, 4, 0);
	assert_int_equal(trk_apply(t, &c, 40), TRK_OK);
	assert_int_equal(trk_drop(t, kp("zero"), &(struct trk_version){ 4, 0 },
			50), TRK_OK);
	ch_reg(&c, "zero", 2, 3, UINT32_MAX);
	assert_int_equal(trk_apply(t, &c, 60), TRK_IGNORED);
	ch_reg(&c, "zero", 3, 4, 0);
	assert_int_equal(trk_apply(t, &c, 60), TRK_OK);
	assert_int_equal(trk_drop(t, kp("dev"), &(struct trk_version){ 0, 1 },
			70), TRK_INVALID);
	trk_destroy(t);
}

static void
test_upsert_order(void **state)
{
	struct trk *t = trk_make(2, 64, 0, 0);
	const struct trk_entry *e;
	struct trk_change c;

	(void)state;
	ch_reg(&c, "svc", 11, 5, NODE_A);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	e = find(t, "svc");
	assert_non_null(e);
	assert_int_equal(e->version.clock, 5);
	assert_int_equal(e->version.node, NODE_A);
	assert_int_equal(e->handle, 11);
	assert_int_equal(trk_entry_lease(e), 0);
	assert_true(entry_consistent(e));

	/* equal version: the same event, nothing changes */
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	assert_ptr_equal(find(t, "svc"), e);

	/* older (lower clock, higher node) is ignored */
	ch_reg(&c, "svc", 22, 4, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	assert_int_equal(find(t, "svc")->handle, 11);

	/* same clock, higher node wins, whatever the handle */
	ch_reg(&c, "svc", 22, 5, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	e = find(t, "svc");
	assert_int_equal(e->handle, 22);
	assert_int_equal(e->version.node, NODE_B);
	assert_true(entry_consistent(e));

	/* a newer one replaces; the older one after it is ignored */
	ch_reg(&c, "svc", 33, 9, NODE_A);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	ch_reg(&c, "svc", 44, 8, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	e = find(t, "svc");
	assert_int_equal(e->handle, 33);
	assert_int_equal(e->version.clock, 9);
	assert_int_equal(trk_count(t), 1);

	/* malformed changes */
	ch_reg(&c, "svc", 1, 10, NODE_A);
	c.rec.hash ^= 1;
	assert_int_equal(trk_apply(t, &c, 0), TRK_INVALID);
	ch_reg(&c, "svc", 1, 10, NODE_A);
	c.kind = 0;
	assert_int_equal(trk_apply(t, &c, 0), TRK_INVALID);
	ch_reg(&c, "svc", 1, 10, NODE_A);
	c.rec.ep.port = 0;
	assert_int_equal(trk_apply(t, &c, 0), TRK_INVALID);
	ch_group(&c, TRK_CH_JOIN, "svc", "", 10, NODE_A);
	assert_int_equal(trk_apply(t, &c, 0), TRK_INVALID);
	assert_int_equal(find(t, "svc")->handle, 33);

	/* a locally leased entry loses to a newer peer version: no lease */
	assert_int_equal(reg_simple(t, kp("own"), 5, 1000, 0), TRK_OK);
	ch_reg(&c, "own", 6, 1000, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	e = find(t, "own");
	assert_int_equal(e->handle, 6);
	assert_int_equal(trk_entry_lease(e), 0);
	assert_int_equal(trk_expire(t, part_of_name(t, "own"), 5000, 100), 0);
	assert_non_null(find(t, "own"));
	trk_destroy(t);
}

static void
test_tombstone(void **state)
{
	struct trk *t = trk_make(2, 64, 0, 0);
	struct trk_change c;

	(void)state;
	ch_reg(&c, "a", 1, 10, NODE_A);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	ch_init(&c, TRK_CH_UNREGISTER, "a", 12, NODE_A);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	assert_null(find(t, "a"));
	assert_int_equal(trk_count(t), 0);
	assert_int_equal(trk_tombstones(t), 1);
	/* twice: nothing */
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	/* a late older REGISTER must not undo the removal */
	ch_reg(&c, "a", 2, 11, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	ch_reg(&c, "a", 2, 12, NODE_A);	/* equal to the removal: same rank */
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	assert_null(find(t, "a"));
	/* a newer one does, and replaces the tombstone */
	ch_reg(&c, "a", 3, 13, NODE_A);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	assert_int_equal(find(t, "a")->handle, 3);
	assert_int_equal(trk_tombstones(t), 0);
	/* an older removal does not remove a newer entry */
	ch_init(&c, TRK_CH_EXPIRE, "a", 12, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	assert_non_null(find(t, "a"));

	/* removal first, then the register it removed */
	ch_init(&c, TRK_CH_EXPIRE, "b", 5, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	assert_int_equal(trk_tombstones(t), 1);
	ch_reg(&c, "b", 1, 4, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	assert_null(find(t, "b"));
	/* a newer removal raises the tombstone */
	ch_init(&c, TRK_CH_UNREGISTER, "b", 8, NODE_A);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	ch_reg(&c, "b", 1, 7, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	assert_int_equal(trk_tombstones(t), 1);

	/* local removals leave tombstones too */
	assert_int_equal(reg_simple(t, kp("loc"), 9, 0, 0), TRK_OK);
	ch_reg(&c, "loc", 9, find(t, "loc")->version.clock, NODE_A);
	assert_int_equal(trk_unregister(t, kp("loc"), false, 0, 0),
			TRK_OK);
	assert_int_equal(trk_tombstones(t), 2);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	assert_null(find(t, "loc"));
	/* and a local register of the name drops it */
	assert_int_equal(reg_simple(t, kp("loc"), 9, 0, 0), TRK_OK);
	assert_int_equal(trk_tombstones(t), 1);
	trk_destroy(t);
}

static void
test_tombstone_expiry(void **state)
{
	struct trk *t = trk_make_tomb(1, 0, 1000);
	struct trk *d = trk_make_tomb(1, 0, 0);
	struct trk_change c;
	int i;

	(void)state;
	ch_init(&c, TRK_CH_UNREGISTER, "x", 5, NODE_A);
	assert_int_equal(trk_apply(t, &c, 100), TRK_OK);
	ch_init(&c, TRK_CH_UNREGISTER, "y", 6, NODE_A);
	assert_int_equal(trk_apply(t, &c, 600), TRK_OK);
	trk_expire(t, 0, 1099, 100);
	assert_int_equal(trk_tombstones(t), 2);
	ch_reg(&c, "x", 1, 4, NODE_A);
	assert_int_equal(trk_apply(t, &c, 1099), TRK_IGNORED);
	trk_expire(t, 0, 1100, 100);
	assert_int_equal(trk_tombstones(t), 1);
	/* past the window a late older write is no longer rejected */
	assert_int_equal(trk_apply(t, &c, 1100), TRK_OK);
	assert_non_null(find(t, "x"));
	/* budget bounds the work */
	for (i = 0; i < 10; i++) {
		char n[16];

		snprintf(n, sizeof(n), "z%d", i);
		ch_init(&c, TRK_CH_UNREGISTER, n, 10, NODE_A);
		assert_int_equal(trk_apply(t, &c, 2000), TRK_OK);
	}
	assert_int_equal(trk_tombstones(t), 11);
	trk_expire(t, 0, 5000, 4);
	assert_int_equal(trk_tombstones(t), 7);
	trk_expire(t, 0, 5000, 100);
	assert_int_equal(trk_tombstones(t), 0);

	/* default window: 60 s */
	ch_init(&c, TRK_CH_UNREGISTER, "x", 5, NODE_A);
	assert_int_equal(trk_apply(d, &c, 0), TRK_OK);
	trk_expire(d, 0, TRK_TOMBSTONE_MS_DEFAULT - 1, 100);
	assert_int_equal(trk_tombstones(d), 1);
	trk_expire(d, 0, TRK_TOMBSTONE_MS_DEFAULT, 100);
	assert_int_equal(trk_tombstones(d), 0);
	trk_destroy(t);
	trk_destroy(d);
}

static void
test_clock_advance(void **state)
{
	struct trk *t = trk_make(1, 64, 0, 0);
	const struct trk_entry *e;
	struct trk_change c;

	(void)state;
	ch_reg(&c, "far", 1, 100, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	assert_int_equal(reg_simple(t, kp("near"), 1, 0, 0), TRK_OK);
	e = find(t, "near");
	assert_true(e->version.clock > 100);
	/* an ignored change still advances the clock */
	ch_init(&c, TRK_CH_UNREGISTER, "gone", 500, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	ch_reg(&c, "gone", 1, 400, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	ch_reg(&c, "gone", 1, 450, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	assert_int_equal(reg_simple(t, kp("gone"), 2, 0, 0), TRK_OK);
	e = find(t, "gone");
	assert_true(e->version.clock > 500);
	/* and a local write now beats the peer's newest version */
	ch_reg(&c, "gone", 1, 501, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	trk_destroy(t);
}

static void
test_no_requeue(void **state)
{
	struct trk *t = trk_make(2, 64, 0, 64);
	struct trk_change c, out[64];
	struct trk_key g = trk_key("grp", 3);
	struct trk_stats st;

	(void)state;
	ch_reg(&c, "r", 1, 5, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	ch_group(&c, TRK_CH_JOIN, "r", "grp", 6, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	ch_reg(&c, "r", 2, 7, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	ch_init(&c, TRK_CH_UNREGISTER, "q", 7, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	trk_stats(t, &st);
	assert_int_equal(st.changes_pending, 0);
	assert_int_equal(drain_all(t, out, 64), 0);
	/* local changes are still queued, once each */
	assert_int_equal(reg_simple(t, kp("l"), 1, 0, 0), TRK_OK);
	assert_int_equal(trk_join(t, &g, kp("l"), 0), TRK_OK);
	assert_int_equal(drain_all(t, out, 64), 2);
	/* an applied removal of an entry with groups queues no LEAVE */
	ch_init(&c, TRK_CH_UNREGISTER, "r", 20, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	assert_int_equal(drain_all(t, out, 64), 0);
	trk_destroy(t);
}

static size_t
members_count(struct trk *t, const char *group)
{
	struct trk_key g = trk_key(group, strlen(group));
	const struct trk_entry *out[16];
	struct trk_cursor cur;
	size_t n, total = 0;

	trk_cursor_init(&cur);
	while (!trk_cursor_done(&cur)) {
		assert_int_equal(trk_members(t, &g, &cur, 0, out, 16, &n), TRK_OK);
		total += n;
	}
	return total;
}

static void
test_groups(void **state)
{
	struct trk *t = trk_make(2, 64, 0, 16);
	struct trk_change c;

	(void)state;
	ch_group(&c, TRK_CH_JOIN, "m", "g", 3, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_NOT_FOUND);
	ch_reg(&c, "m", 1, 2, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	ch_group(&c, TRK_CH_JOIN, "m", "g", 3, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	assert_int_equal(members_count(t, "g"), 1);
	ch_group(&c, TRK_CH_LEAVE, "m", "g", 2, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	assert_int_equal(members_count(t, "g"), 1);
	/* a newer JOIN raises the membership's version */
	ch_group(&c, TRK_CH_JOIN, "m", "g", 6, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	ch_group(&c, TRK_CH_LEAVE, "m", "g", 5, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	/* memberships follow a replaced entry */
	ch_reg(&c, "m", 2, 7, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	assert_int_equal(members_count(t, "g"), 1);
	ch_group(&c, TRK_CH_LEAVE, "m", "g", 8, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	assert_int_equal(members_count(t, "g"), 0);
	assert_int_equal(trk_apply(t, &c, 0), TRK_IGNORED);
	trk_destroy(t);
}

/* ---- order independence and digests ---- */

#define NNAMES	48
#define NLOG	400

static void
digests_of(struct trk *t, struct trk_digest_seg *d)
{
	uint32_t p;

	for (p = 0; p < trk_nparts(t); p++)
		assert_int_equal(trk_digest(t, p, d + p * TRK_DIGEST_SEGS,
				TRK_DIGEST_SEGS), TRK_DIGEST_SEGS);
}

/* Segments (over all partitions) where a and b differ. */
static size_t
digest_diff(struct trk *a, struct trk *b)
{
	static struct trk_digest_seg da[TRK_MAX_PARTS * TRK_DIGEST_SEGS];
	static struct trk_digest_seg db[TRK_MAX_PARTS * TRK_DIGEST_SEGS];
	size_t i, n = 0;

	assert_int_equal(trk_nparts(a), trk_nparts(b));
	digests_of(a, da);
	digests_of(b, db);
	for (i = 0; i < trk_nparts(a) * (size_t)TRK_DIGEST_SEGS; i++)
		n += da[i].x != db[i].x || da[i].count != db[i].count;
	return n;
}

static void
same_entries(struct trk *a, struct trk *b, const struct trk_change *log,
		size_t nlog)
{
	struct trk_record ra, rb;
	size_t i;

	assert_int_equal(trk_count(a), trk_count(b));
	for (i = 0; i < nlog; i++) {
		struct trk_key k = trk_key_hashed(log[i].rec.name,
				log[i].rec.name_len, log[i].rec.hash);
		int rca, rcb;

		memset(&ra, 0, sizeof(ra));
		memset(&rb, 0, sizeof(rb));
		rca = trk_whereis_copy(a, &k, 0, &ra);
		rcb = trk_whereis_copy(b, &k, 0, &rb);
		assert_int_equal(rca, rcb);
		assert_memory_equal(&ra, &rb, sizeof(ra));
	}
}

/* A log of NLOG changes over NNAMES names, with unique versions per name. */
static void
make_log(struct trk_change *log, unsigned int seed)
{
	uint64_t clock[NNAMES] = { 0 };
	size_t i;

	srand(seed);
	for (i = 0; i < NLOG; i++) {
		unsigned int n = (unsigned int)rand() % NNAMES;
		uint32_t node = 1 + (uint32_t)rand() % 3;
		char name[16];
		int r = rand() % 10;

		snprintf(name, sizeof(name), "n%u", n);
		/* sometimes two nodes write at the same clock */
		if (rand() % 4 != 0)
			clock[n] += 1 + (uint64_t)(rand() % 3);
		if (r < 6)
			ch_reg(&log[i], name, (uint64_t)rand() % 1000,
					clock[n], node);
		else
			ch_init(&log[i], r < 8 ? TRK_CH_UNREGISTER :
					TRK_CH_EXPIRE, name, clock[n], node);
		/* (clock, node) must be unique per name: bump on a clash */
		for (size_t j = 0; j < i; j++) {
			if (log[j].rec.hash == log[i].rec.hash &&
					trk_version_cmp(&log[j].rec.version,
						&log[i].rec.version) == 0) {
				log[i].rec.version.clock = ++clock[n];
				j = (size_t)-1;
			}
		}
	}
}

/* Expected survivor of each name: the newest change, if a REGISTER. */
static void
check_winners(struct trk *t, const struct trk_change *log, size_t nlog)
{
	size_t i, j;

	for (i = 0; i < nlog; i++) {
		const struct trk_change *best = &log[i];
		struct trk_key k = trk_key_hashed(best->rec.name,
				best->rec.name_len, best->rec.hash);
		const struct trk_entry *e;

		for (j = 0; j < nlog; j++) {
			if (log[j].rec.hash == best->rec.hash &&
					trk_version_cmp(&log[j].rec.version,
						&best->rec.version) > 0)
				best = &log[j];
		}
		e = trk_whereis(t, &k, 0);
		if (best->kind == TRK_CH_REGISTER) {
			assert_non_null(e);
			assert_int_equal(e->version.clock, best->rec.version.clock);
			assert_int_equal(e->version.node, best->rec.version.node);
			assert_int_equal(e->handle, best->rec.handle);
			assert_true(entry_consistent(e));
		} else {
			assert_null(e);
		}
	}
}

static void
test_order_independence(void **state)
{
	static struct trk_change log[NLOG], perm[2 * NLOG];
	unsigned int seed;

	(void)state;
	for (seed = 1; seed <= 8; seed++) {
		struct trk *a = trk_make(4, 256, 0, 0);
		struct trk *b = trk_make(4, 256, 0, 0);
		size_t i, n = 0;

		make_log(log, seed);
		for (i = 0; i < NLOG; i++)
			assert_true(trk_apply(a, &log[i], 0) >= 0);
		/* b: every change once, a third of them twice, shuffled */
		for (i = 0; i < NLOG; i++) {
			perm[n++] = log[i];
			if (rand() % 3 == 0)
				perm[n++] = log[i];
		}
		for (i = n - 1; i > 0; i--) {
			size_t j = (size_t)rand() % (i + 1);
			struct trk_change tmp = perm[i];

			perm[i] = perm[j];
			perm[j] = tmp;
		}
		for (i = 0; i < n; i++)
			assert_true(trk_apply(b, &perm[i], 0) >= 0);
		same_entries(a, b, log, NLOG);
		check_winners(a, log, NLOG);
		/* the log leaves a mix of live and removed names */
		assert_true(trk_count(a) > 0 && trk_count(a) < NNAMES);
		assert_true(trk_tombstones(a) > 0);
		assert_int_equal(digest_diff(a, b), 0);
		/* applying the whole log again changes nothing */
		for (i = 0; i < NLOG; i++)
			assert_int_equal(trk_apply(b, &log[i], 0), TRK_IGNORED);
		assert_int_equal(digest_diff(a, b), 0);
		urcu_qsbr_quiescent_state();
		trk_destroy(a);
		trk_destroy(b);
	}
}

static void
test_digest(void **state)
{
	struct trk *a = trk_make(4, 256, 0, 0);
	struct trk *b = trk_make(4, 256, 0, 0);
	struct trk_digest_seg d[TRK_DIGEST_SEGS];
	struct trk_change c;
	uint64_t count = 0;
	unsigned int i;
	uint32_t p;

	(void)state;
	assert_int_equal(trk_digest(a, 4, d, TRK_DIGEST_SEGS), 0);
	assert_int_equal(trk_digest(a, 0, d, 10), 10);
	assert_int_equal(trk_digest(a, 0, d, 1000), TRK_DIGEST_SEGS);
	for (i = 0; i < 200; i++) {
		char name[16];

		snprintf(name, sizeof(name), "d%u", i);
		ch_reg(&c, name, i, 10 + i, NODE_A);
		assert_int_equal(trk_apply(a, &c, 0), TRK_OK);
		assert_int_equal(trk_apply(b, &c, 0), TRK_OK);
	}
	assert_int_equal(digest_diff(a, b), 0);
	for (p = 0; p < 4; p++) {
		trk_digest(a, p, d, TRK_DIGEST_SEGS);
		for (i = 0; i < TRK_DIGEST_SEGS; i++)
			count += d[i].count;
	}
	assert_int_equal(count, 200);

	/* one extra entry: exactly one segment differs; removal restores */
	ch_reg(&c, "extra", 1, 3, NODE_B);
	assert_int_equal(trk_apply(b, &c, 0), TRK_OK);
	assert_int_equal(digest_diff(a, b), 1);
	ch_init(&c, TRK_CH_UNREGISTER, "extra", 4, NODE_B);
	assert_int_equal(trk_apply(b, &c, 0), TRK_OK);
	assert_int_equal(digest_diff(a, b), 0);

	/* one entry at a different version: one segment differs */
	ch_reg(&c, "d7", 7, 1000, NODE_B);
	assert_int_equal(trk_apply(b, &c, 0), TRK_OK);
	assert_int_equal(digest_diff(a, b), 1);
	assert_int_equal(trk_apply(a, &c, 0), TRK_OK);
	assert_int_equal(digest_diff(a, b), 0);

	/* local writes keep the digest too: register + unregister is neutral */
	assert_int_equal(reg_simple(a, kp("loc"), 1, 0, 0), TRK_OK);
	assert_int_equal(digest_diff(a, b), 1);
	{
		struct reg_buf rb;

		reg_make(&rb, kp("loc"), 1, 0);
		rb.r.owner = 99;	/* content change: replaced, new version */
		assert_int_equal(trk_register(a, &rb.r, 0, NULL), TRK_OK);
	}
	assert_int_equal(digest_diff(a, b), 1);
	assert_int_equal(trk_unregister(a, kp("loc"), false, 0, 0),
			TRK_OK);
	assert_int_equal(digest_diff(a, b), 0);
	/* local lease expiry too */
	assert_int_equal(reg_simple(a, kp("ttl"), 1, 10, 0), TRK_OK);
	assert_int_equal(digest_diff(a, b), 1);
	trk_expire(a, part_of_name(a, "ttl"), 10, 100);
	assert_int_equal(digest_diff(a, b), 0);
	trk_destroy(a);
	trk_destroy(b);
}

static int
setup(void **state)
{
	(void)state;
	urcu_qsbr_register_thread();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	urcu_qsbr_unregister_thread();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upsert_order),
		cmocka_unit_test(test_drop_guard),
		cmocka_unit_test(test_tombstone),
		cmocka_unit_test(test_tombstone_expiry),
		cmocka_unit_test(test_clock_advance),
		cmocka_unit_test(test_no_requeue),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_order_independence),
		cmocka_unit_test(test_digest),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
