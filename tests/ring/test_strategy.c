/*
 * test_strategy.c - strategy names, static_quorum_size parsing, defaults.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ring_strategy.h"

static void
test_strategy_names(void **state)
{
	enum ring_strategy s = RING_STRATEGY_STATIC_QUORUM;
	char err[128];

	(void)state;
	assert_int_equal(ring_strategy_parse("ring", &s, err, sizeof(err)), 0);
	assert_int_equal(s, RING_STRATEGY_RING);
	assert_int_equal(ring_strategy_parse("static_quorum_ring", &s, err,
			sizeof(err)), 0);
	assert_int_equal(s, RING_STRATEGY_STATIC_QUORUM);
	assert_int_equal(ring_strategy_parse("Swarm.Distribution.Ring", &s,
			err, sizeof(err)), 0);
	assert_int_equal(s, RING_STRATEGY_RING);
	assert_int_equal(ring_strategy_parse(
			"Swarm.Distribution.StaticQuorumRing", &s, err,
			sizeof(err)), 0);
	assert_int_equal(s, RING_STRATEGY_STATIC_QUORUM);
	assert_string_equal(ring_strategy_name(RING_STRATEGY_RING), "ring");
	assert_string_equal(ring_strategy_name(RING_STRATEGY_STATIC_QUORUM),
			"static_quorum_ring");
}

static void
check_strategy_rejected(const char *value)
{
	enum ring_strategy s = RING_STRATEGY_STATIC_QUORUM;
	char err[128];

	assert_int_equal(ring_strategy_parse(value, &s, err, sizeof(err)),
			-EINVAL);
	assert_non_null(strstr(err, "distribution_strategy"));
	/* the output is untouched on error */
	assert_int_equal(s, RING_STRATEGY_STATIC_QUORUM);
}

static void
test_strategy_errors(void **state)
{
	(void)state;
	check_strategy_rejected(NULL);
	check_strategy_rejected("");
	check_strategy_rejected("Ring");
	check_strategy_rejected("ring ");
	check_strategy_rejected("static_quorum");
	check_strategy_rejected("ring\nstatic_quorum_ring");
}

static void
check_quorum(const char *value, uint32_t want)
{
	uint32_t q = 0;
	char err[128] = "untouched";

	assert_int_equal(ring_quorum_parse(value, &q, err, sizeof(err)), 0);
	assert_int_equal(q, want);
}

static void
test_quorum_valid(void **state)
{
	(void)state;
	check_quorum("1", 1);
	check_quorum("2", 2);
	check_quorum("007", 7);
	check_quorum("4096", RING_QUORUM_MAX);
}

/* Rejects value with rc and a message naming the key and reason. */
static void
check_quorum_rejected(const char *value, int rc, const char *reason)
{
	uint32_t q = 99;
	char err[160];

	assert_int_equal(ring_quorum_parse(value, &q, err, sizeof(err)), rc);
	assert_non_null(strstr(err, "static_quorum_size"));
	assert_non_null(strstr(err, reason));
	assert_int_equal(q, 99);
}

static void
test_quorum_errors(void **state)
{
	(void)state;
	check_quorum_rejected(NULL, -EINVAL, "empty");
	check_quorum_rejected("", -EINVAL, "empty");
	check_quorum_rejected("0", -EINVAL, "at least 1");
	check_quorum_rejected("000", -EINVAL, "at least 1");
	check_quorum_rejected("-1", -EINVAL, "negative");
	check_quorum_rejected("-0", -EINVAL, "negative");
	check_quorum_rejected("abc", -EINVAL, "not a positive integer");
	check_quorum_rejected("3x", -EINVAL, "not a positive integer");
	check_quorum_rejected("3 ", -EINVAL, "not a positive integer");
	check_quorum_rejected(" 3", -EINVAL, "not a positive integer");
	check_quorum_rejected("+3", -EINVAL, "not a positive integer");
	check_quorum_rejected("0x10", -EINVAL, "not a positive integer");
	check_quorum_rejected("2.5", -EINVAL, "not a positive integer");
	check_quorum_rejected("-", -EINVAL, "not a positive integer");
	check_quorum_rejected("4097", -ERANGE, "too large");
	check_quorum_rejected("18446744073709551617", -ERANGE, "too large");
	check_quorum_rejected("99999999999999999999999999", -ERANGE,
			"too large");
}

static void
test_vnodes_parse(void **state)
{
	uint32_t v = 0;
	char err[160];

	(void)state;
	assert_int_equal(ring_vnodes_parse("8192", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 8192);
	assert_int_equal(ring_vnodes_parse("65536", &v, err, sizeof(err)), 0);
	assert_int_equal(v, RING_VNODES_MAX);
	assert_int_equal(ring_vnodes_parse("65537", &v, err, sizeof(err)),
			-ERANGE);
	assert_non_null(strstr(err, "ring_vnodes"));
	assert_int_equal(ring_vnodes_parse("0", &v, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ring_vnodes"));
	assert_int_equal(ring_vnodes_parse("12k", &v, err, sizeof(err)),
			-EINVAL);
	assert_int_equal(v, RING_VNODES_MAX);
}

static void
test_policy_defaults(void **state)
{
	struct ring_policy p;

	(void)state;
	memset(&p, 0xff, sizeof(p));
	ring_policy_init(&p);
	assert_int_equal(p.strategy, RING_STRATEGY_RING);
	assert_int_equal(p.quorum, 2);
	assert_int_equal(p.vnodes, RING_VNODES_DEFAULT);
	assert_null(p.filter);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strategy_names),
		cmocka_unit_test(test_strategy_errors),
		cmocka_unit_test(test_quorum_valid),
		cmocka_unit_test(test_quorum_errors),
		cmocka_unit_test(test_vnodes_parse),
		cmocka_unit_test(test_policy_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
