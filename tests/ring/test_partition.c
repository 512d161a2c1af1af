/*
 * test_partition.c - ring_hash_partition(): name -> worker partition.
 *
 * Checks the range for every partition count, the spread of 1M names over
 * 1..16 partitions, and that the names one node owns spread over the
 * partitions just as evenly (the ring and the partition must not share
 * hash bits in a way that correlates them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ring.h"

#define NAMES 1000000
#define PARTS_MAX 16

static uint64_t *hashes;

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
		len = snprintf(buf, sizeof(buf), "sensor/%d", i);
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

static void
test_known_hash(void **state)
{
	(void)state;
	/* XXH3-64 seed 0 of the empty input: the published test vector */
	assert_true(ring_hash_name("", 0) == 0x2d06800538d394c2ull);
	assert_true(ring_hash_name("a", 1) != ring_hash_name("b", 1));
}

static void
test_range(void **state)
{
	static const uint64_t edges[] = {
		0, UINT64_MAX, 0xffffull << 32, 0x0000ffffffffffffull,
		0xffff0000ffffffffull,
	};
	uint32_t parts;
	size_t i;

	(void)state;
	for (parts = 1; parts <= 64; parts++) {
		for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
			assert_true(ring_hash_partition(edges[i], parts) < parts);
		for (i = 0; i < 10000; i++)
			assert_true(ring_hash_partition(hashes[i], parts) < parts);
	}
	assert_int_equal(ring_hash_partition(UINT64_MAX, 65536), 65535);
	assert_int_equal(ring_hash_partition(0, 65536), 0);
	assert_int_equal(ring_hash_partition(UINT64_MAX, 1), 0);
	/* only bits 32..47 count */
	assert_int_equal(ring_hash_partition(0xffff0000ffffffffull, 16), 0);
	assert_int_equal(ring_hash_partition(0x0000ffff00000000ull, 16), 15);
}

/* max/mean and min/mean of the partition counts of the selected names. */
static void
spread(const uint32_t *owner, uint32_t who, uint32_t parts, double *hi,
		double *lo)
{
	uint32_t count[PARTS_MAX] = { 0 }, max = 0, min = UINT32_MAX, p;
	size_t i, total = 0;

	for (i = 0; i < NAMES; i++) {
		if (owner != NULL && owner[i] != who)
			continue;
		count[ring_hash_partition(hashes[i], parts)]++;
		total++;
	}
	for (p = 0; p < parts; p++) {
		max = count[p] > max ? count[p] : max;
		min = count[p] < min ? count[p] : min;
	}
	*hi = (double)max * parts / (double)total;
	*lo = (double)min * parts / (double)total;
}

static void
test_uniform_1_to_16(void **state)
{
	double hi, lo;
	uint32_t parts;

	(void)state;
	for (parts = 1; parts <= PARTS_MAX; parts++) {
		spread(NULL, 0, parts, &hi, &lo);
		/* sd of one count is below 0.4% here; 2% is a gross skew */
		assert_true(hi <= 1.02);
		assert_true(lo >= 0.98);
	}
}

static void
check_owner_independent(int nodes, uint32_t parts, double tol)
{
	struct ring_members *m = ring_members_create();
	struct ring_policy p;
	struct ring *r;
	uint32_t *owner = malloc(NAMES * sizeof(*owner));
	double hi, lo;
	char name[32];
	int i;

	assert_non_null(owner);
	ring_policy_init(&p);
	for (i = 0; i < nodes; i++) {
		snprintf(name, sizeof(name), "node%d@10.0.0.%d", i, i + 1);
		assert_int_equal(ring_members_add(m, name, 1, (uint32_t)i), 0);
	}
	r = ring_build(m, &p, NULL);
	assert_non_null(r);
	for (i = 0; i < NAMES; i++)
		owner[i] = ring_lookup(r, hashes[i]);
	for (i = 0; i < nodes; i++) {
		spread(owner, (uint32_t)i, parts, &hi, &lo);
		assert_true(hi <= 1 + tol);
		assert_true(lo >= 1 - tol);
	}
	free(owner);
	ring_free(r);
	ring_members_destroy(m);
}

static void
test_owner_independent(void **state)
{
	(void)state;
	/* ~41k names per cell: sd 0.5% */
	check_owner_independent(3, 8, 0.03);
	/* ~7.8k names per cell: sd 1.1%, 128 cells */
	check_owner_independent(16, 8, 0.06);
	/* ~21k names per cell: sd 0.7% */
	check_owner_independent(3, 16, 0.04);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_hash),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_uniform_1_to_16),
		cmocka_unit_test(test_owner_independent),
	};

	return cmocka_run_group_tests(tests, setup_hashes, teardown_hashes);
}
