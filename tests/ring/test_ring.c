/*
 * test_ring.c - the consistent-hash ring and its member set.
 *
 * Placement is checked against an independent, naive model of the documented
 * algorithm (every point recomputed, successor found by a linear scan), then
 * through its properties: order independence, minimal movement on join,
 * leave and weight change, balance, weights, filters and quorum.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

#define NAMES 1000000
#define SMALL_NAMES 100000

static uint64_t *hashes;	/* NAMES name hashes, "device-%08d" */

static int
setup_hashes(void **state)
{
	char buf[32];
	int i, len;

	(void)state;
	hashes = malloc(NAMES * sizeof(*hashes));
	if (hashes == NULL)
		return -1;
	for (i = 0; i < NAMES; i++) {
		len = snprintf(buf, sizeof(buf), "device-%08d", i);
		if (len < 0 || (size_t)len >= sizeof(buf))
			return -1;
		hashes[i] = ring_hash_name(buf, (size_t)len);
	}
	return 0;
}

static int
teardown_hashes(void **state)
{
	(void)state;
	free(hashes);
	return 0;
}

static struct ring_policy
policy(uint32_t vnodes)
{
	struct ring_policy p;

	ring_policy_init(&p);
	if (vnodes != 0)
		p.vnodes = vnodes;
	return p;
}

/* pat with its '#' replaced by i, e.g. "node#@h" -> "node3@h". */
static void
node_name(char *buf, size_t len, const char *pat, int i)
{
	const char *mark = strchr(pat, '#');

	assert_non_null(mark);
	snprintf(buf, len, "%.*s%d%s", (int)(mark - pat), pat, i, mark + 1);
}

/* Set of nodes pat(i + 1) with id base + i, weight 1. */
static struct ring_members *
members_n(const char *pat, int n, uint32_t base)
{
	struct ring_members *m = ring_members_create();
	char name[64];
	int i;

	assert_non_null(m);
	for (i = 0; i < n; i++) {
		node_name(name, sizeof(name), pat, i + 1);
		assert_int_equal(ring_members_add(m, name, 1, base + (uint32_t)i), 0);
	}
	return m;
}

static struct ring *
build_ok(const struct ring_members *m, const struct ring_policy *p)
{
	int err = 1;
	struct ring *r = ring_build(m, p, &err);

	assert_non_null(r);
	return r;
}

static uint32_t *
owners_of(const struct ring *r, size_t n)
{
	uint32_t *o = malloc(n * sizeof(*o));
	size_t i;

	assert_non_null(o);
	for (i = 0; i < n; i++)
		o[i] = ring_lookup(r, hashes[i]);
	return o;
}

/* The documented placement, computed the slow way for a few points. */
static uint64_t
model_position(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/*
 * Point i of a node (docs/ring.md): the name is hashed once with XXH3-64,
 * seed 0, then point i is the murmur3 finalizer of that hash plus
 * (i + 1) times the golden-ratio constant.
 */
static uint64_t
model_point(const char *name, uint32_t i)
{
	uint64_t h = XXH3_64bits(name, strlen(name));

	return model_position(h + (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ull);
}

static const char *
model_owner(const char *const *names, int n, uint32_t vnodes, uint64_t hash)
{
	uint64_t key = model_position(hash) >> 16, best = 0, low = UINT64_MAX;
	const char *best_name = NULL, *low_name = NULL;
	int k;
	uint32_t i;

	for (k = 0; k < n; k++) {
		for (i = 0; i < vnodes; i++) {
			uint64_t pt = model_point(names[k], i) >> 16;

			/* ties between nodes go to the smaller name */
			if (pt >= key && (best_name == NULL || pt < best ||
					(pt == best && strcmp(names[k], best_name) < 0))) {
				best = pt;
				best_name = names[k];
			}
			if (pt < low || (pt == low && strcmp(names[k], low_name) < 0)) {
				low = pt;
				low_name = names[k];
			}
		}
	}
	return best_name != NULL ? best_name : low_name;
}

static void
test_matches_model(void **state)
{
	static const char *const names[] = {
		"gw-east@10.0.0.1", "gw-west@10.0.0.2", "a", "zz-top",
		"node@host", "node@host2", "x"
	};
	const int n = (int)(sizeof(names) / sizeof(names[0]));
	uint32_t vnodes[] = { 1, 2, 7, 64 };
	struct ring_members *m = ring_members_create();
	size_t v;
	int k, i;

	(void)state;
	for (k = 0; k < n; k++)
		assert_int_equal(ring_members_add(m, names[k], 1, 10u * (uint32_t)k), 0);
	for (v = 0; v < sizeof(vnodes) / sizeof(vnodes[0]); v++) {
		struct ring_policy p = policy(vnodes[v]);
		struct ring *r = build_ok(m, &p);
		uint32_t bulk[2000];

		assert_int_equal(ring_point_count(r), (size_t)n * vnodes[v]);
		ring_lookup_bulk(r, hashes, 2000, bulk);
		for (i = 0; i < 2000; i++) {
			const char *want = model_owner(names, n, vnodes[v], hashes[i]);
			uint32_t got = ring_lookup(r, hashes[i]);

			assert_int_equal(got, bulk[i]);
			assert_non_null(ring_members_find(m, want));
			assert_int_equal(got, ring_members_find(m, want)->id);
		}
		/* both ends of the hash space resolve (wrap-around) */
		assert_int_equal(ring_lookup(r, 0) % 10, 0);
		assert_int_equal(ring_lookup(r, UINT64_MAX) % 10, 0);
		ring_free(r);
	}
	ring_members_destroy(m);
}

static void
test_empty_ring(void **state)
{
	struct ring_members *m = ring_members_create();
	struct ring_policy p = policy(0);
	struct ring *r = build_ok(m, &p);
	uint32_t out[3] = { 0, 0, 0 };

	(void)state;
	assert_int_equal(ring_lookup(r, hashes[0]), RING_NO_NODE);
	assert_int_equal(ring_lookup_name(r, "x", 1), RING_NO_NODE);
	ring_lookup_bulk(r, hashes, 3, out);
	assert_int_equal(out[0], RING_NO_NODE);
	assert_int_equal(out[2], RING_NO_NODE);
	assert_int_equal(ring_has_owner(r), 0);
	assert_int_equal(ring_node_count(r), 0);
	assert_int_equal(ring_point_count(r), 0);
	ring_free(r);
	ring_members_destroy(m);
}

static void
test_single_node(void **state)
{
	struct ring_members *m = members_n("only#@h", 1, 42);
	struct ring_policy p = policy(0);
	struct ring *r = build_ok(m, &p);
	int i;

	(void)state;
	for (i = 0; i < SMALL_NAMES; i++)
		assert_int_equal(ring_lookup(r, hashes[i]), 42);
	assert_int_equal(ring_has_owner(r), 1);
	assert_int_equal(ring_node_count(r), 1);
	assert_int_equal(ring_point_count(r), RING_VNODES_DEFAULT);
	ring_free(r);
	ring_members_destroy(m);
}

/* Same names added in another order with other ids: same owner names. */
static void
test_order_independent(void **state)
{
	static const char *const names[] = {
		"n3@h", "n1@h", "n5@h", "n2@h", "n4@h"
	};
	struct ring_members *a = members_n("n#@h", 5, 0);
	struct ring_members *b = ring_members_create();
	struct ring_policy p = policy(0);
	struct ring *ra, *rb;
	uint32_t k;
	int i;

	(void)state;
	for (k = 0; k < 5; k++)
		assert_int_equal(ring_members_add(b, names[k], 1, 100 + k), 0);
	ra = build_ok(a, &p);
	rb = build_ok(b, &p);
	for (i = 0; i < SMALL_NAMES; i++) {
		uint32_t ia = ring_lookup(ra, hashes[i]);
		uint32_t ib = ring_lookup(rb, hashes[i]);

		/* a: "n<d>@h" has id d-1; b: names[k] has id 100+k */
		assert_int_equal(names[ib - 100][1] - '1', (int)ia);
	}
	ring_free(ra);
	ring_free(rb);
	ring_members_destroy(a);
	ring_members_destroy(b);
}

static void
test_leave_moves_only_its_names(void **state)
{
	struct ring_members *m = members_n("node#@10.0.0.1", 5, 0);
	struct ring_policy p = policy(0);
	struct ring *before = build_ok(m, &p), *after;
	uint32_t *old = owners_of(before, SMALL_NAMES);
	size_t moved = 0;
	int i;

	(void)state;
	assert_int_equal(ring_members_remove(m, "node3@10.0.0.1"), 0);
	after = build_ok(m, &p);
	for (i = 0; i < SMALL_NAMES; i++) {
		uint32_t now = ring_lookup(after, hashes[i]);

		if (old[i] == 2) {
			assert_int_not_equal(now, 2);
			moved++;
		} else {
			assert_int_equal(now, old[i]);
		}
	}
	assert_true(moved > SMALL_NAMES / 10);
	free(old);
	ring_free(before);
	ring_free(after);
	ring_members_destroy(m);
}

static void
check_join(int n)
{
	struct ring_members *m = members_n("gw#.example", n, 0);
	struct ring_policy p = policy(0);
	struct ring *before = build_ok(m, &p), *after;
	uint32_t *old = owners_of(before, NAMES);
	double frac, ideal = 1.0 / (n + 1);
	size_t moved = 0;
	char name[64];
	int i;

	node_name(name, sizeof(name), "gw#.example", n + 1);
	assert_int_equal(ring_members_add(m, name, 1, (uint32_t)n), 0);
	after = build_ok(m, &p);
	for (i = 0; i < NAMES; i++) {
		uint32_t now = ring_lookup(after, hashes[i]);

		if (now != old[i]) {
			assert_int_equal(now, (uint32_t)n);
			moved++;
		}
	}
	frac = (double)moved / NAMES;
	assert_true(frac > ideal * 0.9 && frac < ideal * 1.1);
	free(old);
	ring_free(before);
	ring_free(after);
	ring_members_destroy(m);
}

static void
test_join_moves_only_to_new_node(void **state)
{
	(void)state;
	check_join(3);
	check_join(5);
	check_join(16);
}

/* Largest owner count over the mean, for n nodes of weight 1. */
static double
max_over_mean(const char *pat, int n, uint32_t vnodes)
{
	struct ring_members *m = members_n(pat, n, 0);
	struct ring_policy p = policy(vnodes);
	struct ring *r = build_ok(m, &p);
	uint32_t *count = calloc((size_t)n, sizeof(*count)), max = 0;
	int i;

	assert_non_null(count);
	for (i = 0; i < NAMES; i++) {
		uint32_t o = ring_lookup(r, hashes[i]);

		assert_true(o < (uint32_t)n);
		count[o]++;
	}
	for (i = 0; i < n; i++)
		max = count[i] > max ? count[i] : max;
	free(count);
	ring_free(r);
	ring_members_destroy(m);
	return (double)max * n / NAMES;
}

static void
test_balance_default_vnodes(void **state)
{
	(void)state;
	assert_true(max_over_mean("node#@10.0.0.1", 3, 0) <= 1.05);
	assert_true(max_over_mean("node#@10.0.0.1", 5, 0) <= 1.05);
	assert_true(max_over_mean("node#@10.0.0.1", 16, 0) <= 1.05);
	assert_true(max_over_mean("gw-#", 16, 0) <= 1.05);
	/* the libring-like 128 points per node are visibly worse */
	assert_true(max_over_mean("node#@10.0.0.1", 16, 128) > 1.05);
}

static void
test_weights(void **state)
{
	struct ring_members *m = ring_members_create();
	struct ring_policy p = policy(0);
	struct ring *r1, *r2;
	uint32_t *old;
	size_t heavy = 0, moved = 0;
	int i;

	(void)state;
	assert_int_equal(ring_members_add(m, "big", 2, 0), 0);
	assert_int_equal(ring_members_add(m, "small1", 1, 1), 0);
	assert_int_equal(ring_members_add(m, "small2", 1, 2), 0);
	r1 = build_ok(m, &p);
	assert_int_equal(ring_point_count(r1), 4u * RING_VNODES_DEFAULT);
	old = owners_of(r1, NAMES);
	for (i = 0; i < NAMES; i++)
		heavy += old[i] == 0;
	assert_true(heavy > NAMES * 0.47 && heavy < NAMES * 0.53);

	/* raising small1 to 2 moves names only onto small1 */
	assert_int_equal(ring_members_remove(m, "small1"), 0);
	assert_int_equal(ring_members_add(m, "small1", 2, 1), 0);
	r2 = build_ok(m, &p);
	for (i = 0; i < NAMES; i++) {
		uint32_t now = ring_lookup(r2, hashes[i]);

		if (now != old[i]) {
			assert_int_equal(now, 1);
			moved++;
		}
	}
	assert_true(moved > NAMES / 10);
	free(old);
	ring_free(r1);
	ring_free(r2);
	ring_members_destroy(m);
}

static void
test_members_validation(void **state)
{
	struct ring_members *m = ring_members_create();
	char longname[RING_NAME_MAX + 2];

	(void)state;
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(ring_members_add(m, "a", 1, 1), 0);
	assert_int_equal(ring_members_add(m, "a", 1, 2), -EEXIST);
	assert_int_equal(ring_members_add(m, "b", 3, 1), -EEXIST);
	assert_int_equal(ring_members_add(m, NULL, 1, 3), -EINVAL);
	assert_int_equal(ring_members_add(m, "", 1, 3), -EINVAL);
	assert_int_equal(ring_members_add(m, longname, 1, 3), -EINVAL);
	longname[RING_NAME_MAX] = '\0';
	assert_int_equal(ring_members_add(m, longname, 1, 3), 0);
	assert_int_equal(ring_members_add(m, "c", 0, 4), -EINVAL);
	assert_int_equal(ring_members_add(m, "c", RING_WEIGHT_MAX + 1, 4), -EINVAL);
	assert_int_equal(ring_members_add(m, "c", 1, RING_NO_NODE), -EINVAL);
	assert_int_equal(ring_members_add(NULL, "c", 1, 4), -EINVAL);
	assert_int_equal(ring_members_count(m), 2);
	assert_int_equal(ring_members_find(m, "a")->weight, 1);

	assert_int_equal(ring_members_remove(m, "zzz"), -ENOENT);
	assert_int_equal(ring_members_remove(m, NULL), -EINVAL);
	assert_int_equal(ring_members_remove(m, "a"), 0);
	assert_int_equal(ring_members_remove(m, "a"), -ENOENT);
	assert_null(ring_members_find(m, "a"));
	assert_int_equal(ring_members_count(m), 1);
	/* the freed id and name can be used again */
	assert_int_equal(ring_members_add(m, "a", 1, 1), 0);
	assert_null(ring_members_at(m, 2));
	ring_members_destroy(m);
}

static void
test_members_capacity(void **state)
{
	struct ring_members *m = ring_members_create();
	char name[32];
	uint32_t i;

	(void)state;
	for (i = 0; i < RING_NODES_MAX; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		assert_int_equal(ring_members_add(m, name, 1, i), 0);
	}
	assert_int_equal(ring_members_add(m, "one-more", 1, i), -ENOSPC);
	ring_members_destroy(m);
}

static void
test_build_errors(void **state)
{
	struct ring_members *m = members_n("n#", 2, 0);
	struct ring_policy p = policy(0);
	int err = 0;

	(void)state;
	p.vnodes = 0;
	assert_null(ring_build(m, &p, &err));
	assert_int_equal(err, -EINVAL);
	p = policy(0);
	p.quorum = 0;
	assert_null(ring_build(m, &p, &err));
	assert_int_equal(err, -EINVAL);
	p = policy(0);
	assert_null(ring_build(NULL, &p, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(ring_build(m, NULL, NULL));
	/* 2 nodes x RING_VNODES_MAX x weight 64 is twice RING_POINTS_MAX */
	ring_members_destroy(m);
	m = ring_members_create();
	assert_int_equal(ring_members_add(m, "a", RING_WEIGHT_MAX, 0), 0);
	assert_int_equal(ring_members_add(m, "b", RING_WEIGHT_MAX, 1), 0);
	p = policy(RING_VNODES_MAX);
	assert_null(ring_build(m, &p, &err));
	assert_int_equal(err, -E2BIG);
	ring_members_destroy(m);
}

static void
test_filter_excludes_nodes(void **state)
{
	struct ring_members *m = members_n("node#@h", 3, 0);
	struct ring_filter *f = ring_filter_create();
	struct ring_policy p = policy(0);
	struct ring *r;
	int i;

	(void)state;
	assert_int_equal(ring_members_add(m, "remsh-debug@h", 1, 7), 0);
	assert_int_equal(ring_members_add(m, "app_maint_1@h", 1, 8), 0);
	assert_int_equal(ring_filter_add(f, RING_FILTER_DENY, "node2@h", NULL, 0), 0);
	p.filter = f;
	r = build_ok(m, &p);
	assert_int_equal(ring_node_count(r), 2);
	assert_int_equal(ring_allowed_count(r), 2);
	for (i = 0; i < SMALL_NAMES; i++) {
		uint32_t o = ring_lookup(r, hashes[i]);

		assert_true(o == 0 || o == 2);
	}
	ring_free(r);
	ring_filter_destroy(f);
	ring_members_destroy(m);
}

static void
test_static_quorum(void **state)
{
	struct ring_members *m = members_n("q#@h", 2, 0);
	struct ring_filter *f = ring_filter_create();
	struct ring_policy p = policy(0);
	struct ring *r;

	(void)state;
	p.strategy = RING_STRATEGY_STATIC_QUORUM;
	p.quorum = 3;
	p.filter = f;
	/* a denied node does not count toward the quorum */
	assert_int_equal(ring_members_add(m, "remsh@h", 1, 9), 0);
	r = build_ok(m, &p);
	assert_int_equal(ring_has_owner(r), 0);
	assert_int_equal(ring_allowed_count(r), 2);
	assert_int_equal(ring_lookup(r, hashes[0]), RING_NO_NODE);
	assert_int_equal(ring_lookup(r, hashes[1]), RING_NO_NODE);
	ring_free(r);

	assert_int_equal(ring_members_add(m, "q3@h", 1, 2), 0);
	r = build_ok(m, &p);
	assert_int_equal(ring_has_owner(r), 1);
	assert_true(ring_lookup(r, hashes[0]) <= 2);
	ring_free(r);

	/* the AP strategy keeps owning with any number of nodes */
	assert_int_equal(ring_members_remove(m, "q3@h"), 0);
	assert_int_equal(ring_members_remove(m, "q2@h"), 0);
	p.strategy = RING_STRATEGY_RING;
	r = build_ok(m, &p);
	assert_int_equal(ring_lookup(r, hashes[0]), 0);
	ring_free(r);
	ring_filter_destroy(f);
	ring_members_destroy(m);
}

static void
test_bulk_matches_single(void **state)
{
	struct ring_members *m = members_n("b#", 16, 1000);
	struct ring_policy p = policy(0);
	struct ring *r = build_ok(m, &p);
	uint32_t out[101];
	size_t n, i;

	(void)state;
	for (n = 0; n <= 100; n += 7) {
		out[n] = 0xdeadbeef;
		ring_lookup_bulk(r, hashes + n, n, out);
		for (i = 0; i < n; i++)
			assert_int_equal(out[i], ring_lookup(r, hashes[n + i]));
		assert_int_equal(out[n], 0xdeadbeef);
	}
	ring_free(r);
	ring_members_destroy(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_model),
		cmocka_unit_test(test_empty_ring),
		cmocka_unit_test(test_single_node),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_leave_moves_only_its_names),
		cmocka_unit_test(test_join_moves_only_to_new_node),
		cmocka_unit_test(test_balance_default_vnodes),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_members_validation),
		cmocka_unit_test(test_members_capacity),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_filter_excludes_nodes),
		cmocka_unit_test(test_static_quorum),
		cmocka_unit_test(test_bulk_matches_single),
	};

	return cmocka_run_group_tests(tests, setup_hashes, teardown_hashes);
}
