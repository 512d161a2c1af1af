/*
 * test_scan.c - the scans the cluster layer uses for repair and full sync:
 * trk_tombs_scan (tombstones of chosen digest segments, resumable across
 * writes) and trk_entry_joins (an entry's memberships as JOIN changes),
 * each checked by applying its output to a second tracker.
 */
#include <stdlib.h>

#include "trk_test.h"

#define NODE_A 1
#define NODE_B 2

static const uint64_t all_segs[4] = { UINT64_MAX, UINT64_MAX, UINT64_MAX,
	UINT64_MAX };

static bool
seg_in(const uint64_t mask[4], uint64_t hash)
{
	uint32_t s = trk_digest_seg_of(hash);

	return (mask[s / 64] >> (s % 64) & 1) != 0;
}

static void
seg_set(uint64_t mask[4], uint32_t s)
{
	mask[s / 64] |= UINT64_C(1) << (s % 64);
}

/* An UNREGISTER from a peer, for a name "<prefix>-<i>". */
static void
ch_unreg(struct trk_change *c, const char *prefix, unsigned int i,
		uint64_t clock, uint32_t node)
{
	struct name_buf nb;

	name_make(&nb, prefix, i);
	memset(c, 0, sizeof(*c));
	c->kind = TRK_CH_UNREGISTER;
	c->rec.name_len = (uint8_t)nb.k.len;
	memcpy(c->rec.name, nb.s, nb.k.len);
	c->rec.hash = nb.k.hash;
	c->rec.version.clock = clock;
	c->rec.version.node = node;
}

/* i of a reported name "<prefix>-<i>", or -1 for any other name. */
static long
index_of(const struct trk_change *c, const char *prefix)
{
	char s[TRK_NAME_MAX + 1], *end;
	size_t plen = strlen(prefix);
	long i;

	memcpy(s, c->rec.name, c->rec.name_len);
	s[c->rec.name_len] = '\0';
	if (strncmp(s, prefix, plen) != 0 || s[plen] != '-')
		return -1;
	i = strtol(s + plen + 1, &end, 10);
	return *end == '\0' ? i : -1;
}

/* A reported tombstone carries identity and version, nothing else. */
static void
check_tomb_change(const struct trk_change *c, struct trk *t, uint32_t part)
{
	assert_int_equal(c->kind, TRK_CH_UNREGISTER);
	assert_int_equal(c->group_len, 0);
	assert_true(c->rec.name_len >= 1);
	assert_int_equal(c->rec.hash, ring_hash_name(c->rec.name,
			c->rec.name_len));
	assert_int_equal(trk_part_of(t, c->rec.hash), part);
	assert_int_equal(c->rec.handle, 0);
	assert_int_equal(c->rec.lease_expiry, 0);
	assert_int_equal(c->rec.ep.family, TRK_EP_NONE);
	assert_int_equal(c->rec.ep.port, 0);
	assert_int_equal(c->rec.owner, 0);
	assert_int_equal(c->rec.flags, 0);
	assert_int_equal(c->rec.meta_len, 0);
}

/*
 * Scan part to the end, max per call, counting each "<prefix>-<i>" in
 * seen[i] (every name must have that form). Returns the number of calls.
 */
static size_t
scan_count(struct trk *t, uint32_t part, const uint64_t mask[4], size_t max,
		const char *prefix, unsigned int *seen, size_t nseen)
{
	static struct trk_change out[8192];
	uint64_t cur = 0;
	size_t calls = 0, n, i;

	assert_true(max <= 8192);
	while (cur != TRK_SCAN_DONE) {
		n = trk_tombs_scan(t, part, &cur, mask, out, max);
		assert_true(n <= max);
		calls++;
		assert_true(calls < 1000000);
		for (i = 0; i < n; i++) {
			long k = index_of(&out[i], prefix);

			check_tomb_change(&out[i], t, part);
			assert_true(seg_in(mask, out[i].rec.hash));
			assert_true(k >= 0 && (size_t)k < nseen);
			seen[k]++;
		}
	}
	return calls;
}

/* ---- digests ---- */

static struct trk_digest_seg da[TRK_MAX_PARTS * TRK_DIGEST_SEGS];
static struct trk_digest_seg db[TRK_MAX_PARTS * TRK_DIGEST_SEGS];

static void
digests_of(struct trk *t, struct trk_digest_seg *d)
{
	uint32_t p;

	for (p = 0; p < trk_nparts(t); p++)
		assert_int_equal(trk_digest(t, p, d + p * TRK_DIGEST_SEGS,
				TRK_DIGEST_SEGS), TRK_DIGEST_SEGS);
}

static bool
seg_differs(uint32_t part, uint32_t s)
{
	size_t i = (size_t)part * TRK_DIGEST_SEGS + s;

	return da[i].x != db[i].x || da[i].count != db[i].count;
}

static size_t
digest_diff(struct trk *a, struct trk *b)
{
	size_t n = 0;
	uint32_t p, s;

	assert_int_equal(trk_nparts(a), trk_nparts(b));
	digests_of(a, da);
	digests_of(b, db);
	for (p = 0; p < trk_nparts(a); p++)
		for (s = 0; s < TRK_DIGEST_SEGS; s++)
			n += seg_differs(p, s);
	return n;
}

/* ---- trk_tombs_scan ---- */

#define NUNREG 300

/* Local unregisters: right names and versions, only masked segments. */
static void
test_tombs_reported(void **state)
{
	static struct trk_change ch[2 * NUNREG];
	struct trk *t = trk_make(2, 512, 0, 2 * NUNREG);
	struct trk_version ver[NUNREG];
	unsigned int seen[NUNREG] = { 0 };
	uint64_t mask[4] = { 0 };
	size_t in = 0, out = 0, reported = 0, n, i;
	struct name_buf nb;
	uint32_t s, p;

	(void)state;
	for (s = 0; s < TRK_DIGEST_SEGS; s++)
		if (s % 3 == 1)
			seg_set(mask, s);
	for (i = 0; i < NUNREG; i++) {
		name_make(&nb, "u", (unsigned int)i);
		assert_int_equal(reg_simple(t, &nb.k, i, 0, 0), TRK_OK);
	}
	assert_int_equal(drain_all(t, ch, 2 * NUNREG), NUNREG);
	for (i = 0; i < NUNREG; i++) {
		if (i % 3 == 0)
			continue;
		name_make(&nb, "u", (unsigned int)i);
		assert_int_equal(trk_unregister(t, &nb.k, false, 0, 5), TRK_OK);
		if (seg_in(mask, nb.k.hash))
			in++;
		else
			out++;
	}
	/* the removal versions, from the change queue */
	n = drain_all(t, ch, 2 * NUNREG);
	assert_int_equal(n, NUNREG - NUNREG / 3);
	for (i = 0; i < n; i++) {
		long k = index_of(&ch[i], "u");

		assert_int_equal(ch[i].kind, TRK_CH_UNREGISTER);
		assert_true(k >= 0 && k < NUNREG);
		ver[k] = ch[i].rec.version;
	}
	assert_int_equal(trk_tombstones(t), n);
	/* both sides of the mask are exercised */
	assert_true(in > 10 && out > 10);

	for (p = 0; p < trk_nparts(t); p++)
		scan_count(t, p, mask, 16, "u", seen, NUNREG);
	for (i = 0; i < NUNREG; i++) {
		name_make(&nb, "u", (unsigned int)i);
		if (i % 3 == 0 || !seg_in(mask, nb.k.hash)) {
			assert_int_equal(seen[i], 0);
			continue;
		}
		assert_true(seen[i] >= 1);
		reported += seen[i];
	}
	/* nothing was written during the scan: no duplicates either */
	assert_int_equal(reported, in);

	/* and the versions are the removals' */
	for (p = 0; p < trk_nparts(t); p++) {
		uint64_t cur = 0;

		while (cur != TRK_SCAN_DONE) {
			n = trk_tombs_scan(t, p, &cur, mask, ch, 5);
			for (i = 0; i < n; i++) {
				long k = index_of(&ch[i], "u");

				assert_int_equal(ch[i].rec.version.clock,
						ver[k].clock);
				assert_int_equal(ch[i].rec.version.node,
						ver[k].node);
				assert_int_equal(ch[i].rec.version.node, 7);
			}
		}
	}
	trk_destroy(t);
}

#define NAPPLIED 500

/* Full mask reports every tombstone once; empty mask reports none. */
static void
test_tombs_full_mask(void **state)
{
	static struct trk_change out[64];
	struct trk *t = trk_make(4, 512, 0, 0);
	struct trk *empty = trk_make(4, 64, 0, 0);
	static const uint64_t none[4];
	unsigned int seen[NAPPLIED] = { 0 };
	struct trk_change c;
	uint64_t cur;
	size_t i, n, total = 0;
	uint32_t p;

	(void)state;
	/* no tombstone at all: done at once */
	cur = 0;
	assert_int_equal(trk_tombs_scan(empty, 0, &cur, all_segs, out, 64), 0);
	assert_true(cur == TRK_SCAN_DONE);

	for (i = 0; i < NAPPLIED; i++) {
		ch_unreg(&c, "a", (unsigned int)i, 100 + i, NODE_B);
		assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	}
	assert_int_equal(trk_tombstones(t), NAPPLIED);
	for (p = 0; p < trk_nparts(t); p++)
		scan_count(t, p, all_segs, 64, "a", seen, NAPPLIED);
	for (i = 0; i < NAPPLIED; i++) {
		assert_int_equal(seen[i], 1);
		total += seen[i];
	}
	assert_int_equal(total, trk_tombstones(t));

	for (p = 0; p < trk_nparts(t); p++) {
		cur = 0;
		while (cur != TRK_SCAN_DONE) {
			n = trk_tombs_scan(t, p, &cur, all_segs, out, 64);
			for (i = 0; i < n; i++) {
				long k = index_of(&out[i], "a");

				assert_int_equal(out[i].rec.version.clock,
						100 + (uint64_t)k);
				assert_int_equal(out[i].rec.version.node,
						NODE_B);
			}
		}
		cur = 0;
		while (cur != TRK_SCAN_DONE)
			assert_int_equal(trk_tombs_scan(t, p, &cur, none, out,
					64), 0);
	}
	trk_destroy(t);
	trk_destroy(empty);
}

#define NBIG 5000

/* The cursor completes in a bounded number of calls, each bounded. */
static void
test_tombs_cursor_bounded(void **state)
{
	static struct trk_change out[8192];
	static unsigned int seen[NBIG];
	static const uint64_t none[4];
	struct trk *t = trk_make(1, 1024, 0, 0);
	struct trk_change c;
	uint64_t cur;
	size_t calls, i, n;

	(void)state;
	for (i = 0; i < NBIG; i++) {
		ch_unreg(&c, "b", (unsigned int)i, 10, NODE_A);
		assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	}
	/*
	 * The map has between NBIG and 2 * NBIG buckets (it doubles when
	 * full), so a whole scan walks 2 to 3 * NBIG buckets and tombstones.
	 * A call ends with a full page or after 4 * max of that work.
	 */
	memset(seen, 0, sizeof(seen));
	calls = scan_count(t, 0, all_segs, 7, "b", seen, NBIG);
	for (i = 0; i < NBIG; i++)
		assert_int_equal(seen[i], 1);
	assert_true(calls >= NBIG / 7);
	assert_true(calls <= NBIG / 7 + 1 + 4 * NBIG / (4 * 7));

	/* max 1: every bucket with two or more tombstones is split */
	memset(seen, 0, sizeof(seen));
	calls = scan_count(t, 0, all_segs, 1, "b", seen, NBIG);
	for (i = 0; i < NBIG; i++)
		assert_int_equal(seen[i], 1);
	assert_true(calls >= NBIG);
	assert_true(calls <= 2 * NBIG + 3 * NBIG / 4);

	/* nothing matches: each call still stops after a few times max */
	cur = 0;
	assert_int_equal(trk_tombs_scan(t, 0, &cur, none, out, 7), 0);
	assert_true(cur != TRK_SCAN_DONE && cur != 0);
	calls = 1;
	while (cur != TRK_SCAN_DONE) {
		assert_int_equal(trk_tombs_scan(t, 0, &cur, none, out, 7), 0);
		calls++;
	}
	assert_true(calls >= 2 * NBIG / (4 * 7 + 32));
	assert_true(calls <= 1 + 3 * NBIG / (4 * 7));

	/* a big enough page takes everything at once */
	cur = 0;
	n = trk_tombs_scan(t, 0, &cur, all_segs, out, 8192);
	assert_int_equal(n, NBIG);
	assert_true(cur == TRK_SCAN_DONE);
	trk_destroy(t);
}

#define NKEEP	100
#define NDROP	60
#define NNEW	3000

/*
 * Writes between calls: new tombstones (the map doubles several times),
 * tombstones dropped by re-registration, tombstones raised by newer
 * removals. Every tombstone present throughout is still reported.
 */
static void
test_tombs_interleaved(void **state)
{
	static struct trk_change out[4];
	static unsigned int seen[NKEEP];
	struct trk *t = trk_make(2, 1024, 0, 0);
	unsigned int fresh = 0, dropped = 0, raised = 0;
	struct trk_change c;
	struct name_buf nb;
	size_t i, n, calls = 0;
	uint32_t p;

	(void)state;
	for (i = 0; i < NKEEP; i++) {
		ch_unreg(&c, "keep", (unsigned int)i, 10, NODE_B);
		assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	}
	for (i = 0; i < NDROP; i++) {
		ch_unreg(&c, "drop", (unsigned int)i, 10, NODE_B);
		assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	}
	for (p = 0; p < trk_nparts(t); p++) {
		uint64_t cur = 0;

		while (cur != TRK_SCAN_DONE) {
			n = trk_tombs_scan(t, p, &cur, all_segs, out, 3);
			calls++;
			assert_true(calls < 100000);
			for (i = 0; i < n; i++) {
				long k = index_of(&out[i], "keep");

				check_tomb_change(&out[i], t, p);
				if (k < 0)
					continue;
				assert_true(k < NKEEP);
				/* raised or not, it is one of its removals */
				assert_true(out[i].rec.version.clock == 10 ||
						out[i].rec.version.clock == 20);
				seen[k]++;
			}
			for (i = 0; i < 25 && fresh < NNEW; i++) {
				ch_unreg(&c, "new", fresh++, 10, NODE_B);
				assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
			}
			if (dropped < NDROP) {
				name_make(&nb, "drop", dropped++);
				assert_int_equal(reg_simple(t, &nb.k, 1, 0, 0),
						TRK_OK);
			}
			if (raised < NKEEP && calls % 2 == 0) {
				ch_unreg(&c, "keep", raised++, 20, NODE_B);
				assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
			}
		}
	}
	/* the writes really happened during the scans */
	assert_int_equal(dropped, NDROP);
	assert_true(fresh > 1000);
	assert_int_equal(trk_tombstones(t), NKEEP + fresh);
	for (i = 0; i < NKEEP; i++)
		assert_true(seen[i] >= 1);
	trk_destroy(t);
}

#define NREPAIR	400

/*
 * Anti-entropy: B missed some of A's removals. The segments whose digests
 * differ name the tombstones to send; applying them makes B equal to A.
 */
static void
test_tombs_repair(void **state)
{
	static struct trk_change ch[2 * NREPAIR], out[8];
	struct trk *a = trk_make(4, 1024, 0, 2 * NREPAIR);
	struct trk *b = trk_make(4, 1024, 0, 0);
	size_t i, n, sent = 0;
	struct name_buf nb;
	uint32_t p, s;

	(void)state;
	for (i = 0; i < NREPAIR; i++) {
		name_make(&nb, "r", (unsigned int)i);
		assert_int_equal(reg_simple(a, &nb.k, i, 0, 0), TRK_OK);
	}
	n = drain_all(a, ch, 2 * NREPAIR);
	assert_int_equal(n, NREPAIR);
	for (i = 0; i < n; i++)
		assert_int_equal(trk_apply(b, &ch[i], 0), TRK_OK);
	assert_int_equal(digest_diff(a, b), 0);

	/* removals whose gossip is lost */
	for (i = 0; i < NREPAIR; i += 4) {
		name_make(&nb, "r", (unsigned int)i);
		assert_int_equal(trk_unregister(a, &nb.k, false, 0, 0), TRK_OK);
	}
	assert_int_equal(drain_all(a, ch, 2 * NREPAIR), NREPAIR / 4);
	assert_true(digest_diff(a, b) > 0);

	for (p = 0; p < trk_nparts(a); p++) {
		uint64_t mask[4] = { 0 }, cur = 0;

		for (s = 0; s < TRK_DIGEST_SEGS; s++)
			if (seg_differs(p, s))
				seg_set(mask, s);
		while (cur != TRK_SCAN_DONE) {
			n = trk_tombs_scan(a, p, &cur, mask, out, 8);
			for (i = 0; i < n; i++) {
				assert_int_equal(trk_apply(b, &out[i], 0),
						TRK_OK);
				sent++;
			}
		}
	}
	/* every removal sits in a segment that differed, and only those */
	assert_int_equal(sent, NREPAIR / 4);
	assert_int_equal(digest_diff(a, b), 0);
	assert_int_equal(trk_count(b), trk_count(a));
	assert_int_equal(trk_tombstones(b), NREPAIR / 4);
	for (i = 0; i < NREPAIR; i++) {
		name_make(&nb, "r", (unsigned int)i);
		if (i % 4 == 0)
			assert_null(trk_whereis(b, &nb.k, 0));
		else
			assert_non_null(trk_whereis(b, &nb.k, 0));
	}
	/* sending them again is harmless */
	for (p = 0; p < trk_nparts(a); p++) {
		uint64_t cur = 0;

		while (cur != TRK_SCAN_DONE) {
			n = trk_tombs_scan(a, p, &cur, all_segs, out, 8);
			for (i = 0; i < n; i++)
				assert_int_equal(trk_apply(b, &out[i], 0),
						TRK_IGNORED);
		}
	}
	assert_int_equal(digest_diff(a, b), 0);
	trk_destroy(a);
	trk_destroy(b);
}

/* ---- trk_entry_joins ---- */

#define NENT	120
#define NGRP	12

static bool
joins_group(unsigned int i, unsigned int g)
{
	return (i + g) % 3 == 0 || g == i % NGRP;
}

static int
cmp_name(const void *x, const void *y)
{
	const struct trk_entry *a = *(const struct trk_entry *const *)x;
	const struct trk_entry *b = *(const struct trk_entry *const *)y;
	int c = memcmp(trk_entry_name(a), trk_entry_name(b),
			a->name_len < b->name_len ? a->name_len : b->name_len);

	return c ? c : (int)a->name_len - (int)b->name_len;
}

/* The members of group, sorted by name; returns the count. */
static size_t
members_of(struct trk *t, const char *group, const struct trk_entry **all,
		size_t cap)
{
	struct trk_key g = trk_key(group, strlen(group));
	struct trk_cursor cur;
	size_t n, total = 0;

	trk_cursor_init(&cur);
	while (!trk_cursor_done(&cur)) {
		assert_true(total < cap);
		assert_int_equal(trk_members(t, &g, &cur, 0, all + total,
				cap - total < 16 ? cap - total : 16, &n),
				TRK_OK);
		total += n;
	}
	qsort(all, total, sizeof(*all), cmp_name);
	return total;
}

static void
same_members(struct trk *a, struct trk *b, const char *group)
{
	static const struct trk_entry *ma[NENT + 1], *mb[NENT + 1];
	size_t na = members_of(a, group, ma, NENT + 1);
	size_t nb = members_of(b, group, mb, NENT + 1);
	size_t i;

	assert_int_equal(na, nb);
	for (i = 0; i < na; i++) {
		assert_int_equal(ma[i]->name_len, mb[i]->name_len);
		assert_memory_equal(trk_entry_name(ma[i]),
				trk_entry_name(mb[i]), ma[i]->name_len);
		assert_int_equal(ma[i]->handle, mb[i]->handle);
	}
}

static int
cmp_group(const void *x, const void *y)
{
	const struct trk_change *a = x, *b = y;
	int c = memcmp(a->group, b->group,
			a->group_len < b->group_len ? a->group_len : b->group_len);

	return c ? c : (int)a->group_len - (int)b->group_len;
}

/* e's memberships, sorted by group name. */
static size_t
joins_sorted(struct trk *t, const struct trk_entry *e, struct trk_change *out)
{
	size_t n = trk_entry_joins(t, trk_part_of(t, e->hash), e, out,
			TRK_GROUPS_PER_ENTRY);

	qsort(out, n, sizeof(*out), cmp_group);
	return n;
}

static void
build_joined(struct trk *a)
{
	struct name_buf nb, gb;
	struct reg_buf rb;
	unsigned int i, g;

	for (i = 0; i < NENT; i++) {
		name_make(&nb, "e", i);
		assert_int_equal(reg_simple(a, &nb.k, i, 0, 0), TRK_OK);
		for (g = 0; g < NGRP; g++) {
			name_make(&gb, "g", g);
			if (joins_group(i, g))
				assert_int_equal(trk_join(a, &gb.k, &nb.k, 0),
						TRK_OK);
		}
	}
	/* one entry in as many groups as allowed */
	name_make(&nb, "hub", 0);
	assert_int_equal(reg_simple(a, &nb.k, 999, 0, 0), TRK_OK);
	for (g = 0; g < TRK_GROUPS_PER_ENTRY; g++) {
		name_make(&gb, "h", g);
		assert_int_equal(trk_join(a, &gb.k, &nb.k, 0), TRK_OK);
	}
	/* leaves reorder the membership arrays; updates copy entries */
	for (i = 0; i < NENT; i += 5) {
		name_make(&nb, "e", i);
		name_make(&gb, "g", i % NGRP);
		assert_int_equal(trk_leave(a, &gb.k, &nb.k, 0), TRK_OK);
	}
	for (i = 1; i < NENT; i += 7) {
		name_make(&nb, "e", i);
		reg_make(&rb, &nb.k, i, 0);
		rb.r.owner = 42;
		assert_int_equal(trk_register(a, &rb.r, 0, NULL), TRK_OK);
	}
}

/* Expected membership count of "e-<i>" after build_joined. */
static size_t
groups_of(unsigned int i)
{
	size_t n = 0;
	unsigned int g;

	for (g = 0; g < NGRP; g++)
		n += joins_group(i, g) && !(i % 5 == 0 && g == i % NGRP);
	return n;
}

/*
 * Full sync: B (holding nothing) gets A's entries as REGISTERs and their
 * memberships from trk_entry_joins; B then lists the same members.
 */
static void
test_joins_roundtrip(void **state)
{
	static struct trk_change ja[TRK_GROUPS_PER_ENTRY];
	static struct trk_change jb[TRK_GROUPS_PER_ENTRY];
	struct trk *a = trk_make(4, 512, 0, 0);
	struct trk *b = trk_make(4, 512, 0, 0);
	const struct trk_entry *page[16];
	struct trk_stats sa, sb;
	struct trk_cursor cur;
	struct name_buf nb;
	size_t n, i, j, k, entries = 0, joins = 0;
	struct trk_change c;

	(void)state;
	build_joined(a);
	trk_cursor_init(&cur);
	while (!trk_cursor_done(&cur)) {
		assert_int_equal(trk_registered(a, &cur, 0, page, 16, &n), TRK_OK);
		for (i = 0; i < n; i++) {
			const struct trk_entry *e = page[i];
			long idx;

			memset(&c, 0, sizeof(c));
			c.kind = TRK_CH_REGISTER;
			trk_entry_copy(e, &c.rec);
			assert_int_equal(trk_apply(b, &c, 0), TRK_OK);
			k = trk_entry_joins(a, trk_part_of(a, e->hash), e, ja,
					TRK_GROUPS_PER_ENTRY);
			idx = index_of(&c, "e");	/* -1 for the hub */
			if (idx >= 0)
				assert_int_equal(k, groups_of((unsigned int)idx));
			else
				assert_int_equal(k, TRK_GROUPS_PER_ENTRY);
			for (j = 0; j < k; j++) {
				assert_int_equal(ja[j].kind, TRK_CH_JOIN);
				assert_int_equal(ja[j].rec.hash, e->hash);
				assert_int_equal(ja[j].rec.handle, e->handle);
				assert_memory_equal(ja[j].rec.name,
						trk_entry_name(e), e->name_len);
				assert_int_equal(trk_apply(b, &ja[j], 0), TRK_OK);
			}
			entries++;
			joins += k;
		}
		/* entry pointers are only good until here */
		urcu_qsbr_quiescent_state();
	}
	assert_int_equal(entries, NENT + 1);

	/* same entries, same memberships */
	assert_int_equal(digest_diff(a, b), 0);
	trk_stats(a, &sa);
	trk_stats(b, &sb);
	assert_int_equal(sb.entries, sa.entries);
	assert_int_equal(sb.memberships, sa.memberships);
	assert_int_equal(sa.memberships, joins);
	for (j = 0; j < NGRP; j++) {
		name_make(&nb, "g", (unsigned int)j);
		same_members(a, b, nb.s);
	}
	for (j = 0; j < TRK_GROUPS_PER_ENTRY; j++) {
		name_make(&nb, "h", (unsigned int)j);
		same_members(a, b, nb.s);
	}
	/* with the memberships' versions, so later LEAVEs compare right */
	for (i = 0; i <= NENT; i++) {
		const struct trk_entry *ea, *eb;

		if (i < NENT)
			name_make(&nb, "e", (unsigned int)i);
		else
			name_make(&nb, "hub", 0);
		ea = trk_whereis(a, &nb.k, 0);
		eb = trk_whereis(b, &nb.k, 0);
		assert_non_null(ea);
		assert_non_null(eb);
		assert_int_equal(eb->version.clock, ea->version.clock);
		n = joins_sorted(a, ea, ja);
		assert_int_equal(joins_sorted(b, eb, jb), n);
		for (j = 0; j < n; j++) {
			assert_int_equal(ja[j].group_len, jb[j].group_len);
			assert_memory_equal(ja[j].group, jb[j].group,
					ja[j].group_len);
			assert_int_equal(trk_version_cmp(&ja[j].rec.version,
					&jb[j].rec.version), 0);
			/* a repeat is the same event */
			assert_int_equal(trk_apply(b, &ja[j], 0), TRK_IGNORED);
		}
	}
	urcu_qsbr_quiescent_state();
	trk_destroy(a);
	trk_destroy(b);
}

/* max below the membership count; versions are the JOINs' */
static void
test_joins_max(void **state)
{
	static struct trk_change q[32], out[TRK_GROUPS_PER_ENTRY];
	struct trk *t = trk_make(2, 64, 0, 32);
	struct trk_key m = trk_key("member", 6);
	const struct trk_entry *e, *old;
	struct name_buf gb;
	struct reg_buf rb;
	bool taken[10] = { false };
	uint32_t part;
	size_t n, i;

	(void)state;
	assert_int_equal(reg_simple(t, &m, 1, 0, 0), TRK_OK);
	for (i = 0; i < 10; i++) {
		name_make(&gb, "grp", (unsigned int)i);
		assert_int_equal(trk_join(t, &gb.k, &m, 0), TRK_OK);
	}
	assert_int_equal(drain_all(t, q, 32), 11);
	e = trk_whereis(t, &m, 0);
	part = trk_part_of(t, m.hash);

	n = trk_entry_joins(t, part, e, out, 3);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		char s[TRK_NAME_MAX + 1];
		unsigned int gi;

		memcpy(s, out[i].group, out[i].group_len);
		s[out[i].group_len] = '\0';
		assert_int_equal(sscanf(s, "grp-%u", &gi), 1);
		assert_true(gi < 10);
		assert_false(taken[gi]);
		taken[gi] = true;
		/* the version trk_join queued for that membership */
		assert_int_equal(trk_version_cmp(&out[i].rec.version,
				&q[1 + gi].rec.version), 0);
		assert_int_equal(out[i].rec.hash, m.hash);
		assert_int_equal(out[i].rec.handle, 1);
	}
	assert_int_equal(trk_entry_joins(t, part, e, out, 0), 0);
	assert_int_equal(trk_entry_joins(t, part, e, out,
			TRK_GROUPS_PER_ENTRY), 10);

	/* a copy-on-write update takes the memberships to the new copy */
	old = e;
	reg_make(&rb, &m, 1, 0);
	rb.r.owner = 99;
	assert_int_equal(trk_register(t, &rb.r, 0, &e), TRK_OK);
	assert_ptr_not_equal(e, old);
	assert_int_equal(trk_entry_joins(t, part, old, out, 16), 0);
	assert_int_equal(trk_entry_joins(t, part, e, out, 16), 10);
	assert_int_equal(out[0].rec.owner, 99);
	urcu_qsbr_quiescent_state();
	trk_destroy(t);
}

static void
test_bad_args(void **state)
{
	static struct trk_change out[4];
	struct trk *t = trk_make(2, 64, 0, 0);
	struct trk_key m = trk_key("bad", 3);
	struct trk_key g = trk_key("g", 1);
	const struct trk_entry *e;
	struct trk_change c;
	size_t n, calls;
	uint32_t part;
	uint64_t cur;

	(void)state;
	assert_int_equal(reg_simple(t, &m, 1, 0, 0), TRK_OK);
	assert_int_equal(trk_join(t, &g, &m, 0), TRK_OK);
	e = trk_whereis(t, &m, 0);
	ch_unreg(&c, "x", 1, 5, NODE_B);
	assert_int_equal(trk_apply(t, &c, 0), TRK_OK);
	part = trk_part_of(t, c.rec.hash);

	/* a bad part: nothing, and the scan is over */
	cur = 0;
	assert_int_equal(trk_tombs_scan(t, 2, &cur, all_segs, out, 4), 0);
	assert_true(cur == TRK_SCAN_DONE);
	cur = 0;
	assert_int_equal(trk_tombs_scan(t, UINT32_MAX, &cur, all_segs, out, 4), 0);
	cur = 0;
	assert_int_equal(trk_tombs_scan(t, part, &cur, NULL, out, 4), 0);
	cur = 0;
	assert_int_equal(trk_tombs_scan(t, part, &cur, all_segs, NULL, 4), 0);
	assert_int_equal(trk_tombs_scan(t, part, NULL, all_segs, out, 4), 0);
	/* max 0 keeps the cursor; a finished or forged cursor stays done */
	cur = 0;
	assert_int_equal(trk_tombs_scan(t, part, &cur, all_segs, out, 0), 0);
	assert_int_equal(cur, 0);
	cur = TRK_SCAN_DONE;
	assert_int_equal(trk_tombs_scan(t, part, &cur, all_segs, out, 4), 0);
	assert_true(cur == TRK_SCAN_DONE);
	cur = (UINT64_C(1) << 63) + 5;
	assert_int_equal(trk_tombs_scan(t, part, &cur, all_segs, out, 4), 0);
	assert_true(cur == TRK_SCAN_DONE);
	/* the good part reports it (over a few calls: 64 buckets to walk) */
	cur = 0;
	for (n = 0, calls = 0; cur != TRK_SCAN_DONE; calls++)
		n += trk_tombs_scan(t, part, &cur, all_segs, out, 4);
	assert_int_equal(n, 1);
	assert_true(calls > 1);

	part = trk_part_of(t, m.hash);
	assert_int_equal(trk_entry_joins(t, 2, e, out, 4), 0);
	assert_int_equal(trk_entry_joins(t, UINT32_MAX, e, out, 4), 0);
	assert_int_equal(trk_entry_joins(t, part ^ 1, e, out, 4), 0);
	assert_int_equal(trk_entry_joins(t, part, NULL, out, 4), 0);
	assert_int_equal(trk_entry_joins(t, part, e, NULL, 4), 0);
	assert_int_equal(trk_entry_joins(t, part, e, out, 4), 1);
	urcu_qsbr_quiescent_state();
	trk_destroy(t);
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
		cmocka_unit_test(test_tombs_reported),
		cmocka_unit_test(test_tombs_full_mask),
		cmocka_unit_test(test_tombs_cursor_bounded),
		cmocka_unit_test(test_tombs_interleaved),
		cmocka_unit_test(test_tombs_repair),
		cmocka_unit_test(test_joins_roundtrip),
		cmocka_unit_test(test_joins_max),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
