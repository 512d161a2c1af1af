/*
 * test_filter.c - node allow/deny lists with Swarm's decision rule.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ring_filter.h"

static struct ring_filter *
filter_new(void)
{
	struct ring_filter *f = ring_filter_create();

	assert_non_null(f);
	return f;
}

static void
add_ok(struct ring_filter *f, enum ring_filter_list l, const char *entry)
{
	char err[256];

	assert_int_equal(ring_filter_add(f, l, entry, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void
test_builtin_denies(void **state)
{
	struct ring_filter *f = filter_new();

	(void)state;
	assert_false(ring_filter_allows(f, "remsh"));
	assert_false(ring_filter_allows(f, "remsh123@host"));
	assert_false(ring_filter_allows(f, "app_upgrader_1@host"));
	assert_false(ring_filter_allows(f, "app_maint_7@host"));
	/* the patterns need something on both sides, and remsh is a prefix */
	assert_true(ring_filter_allows(f, "_maint_x"));
	assert_true(ring_filter_allows(f, "app_maint_"));
	assert_true(ring_filter_allows(f, "my-remsh@host"));
	assert_true(ring_filter_allows(f, "node1@10.0.0.1"));
	ring_filter_destroy(f);
}

static void
test_exact_entries(void **state)
{
	struct ring_filter *f = filter_new();

	(void)state;
	add_ok(f, RING_FILTER_DENY, "node2@host");
	/* exact entries are not patterns: the dot is literal, no prefixes */
	add_ok(f, RING_FILTER_DENY, "a.c");
	assert_false(ring_filter_allows(f, "node2@host"));
	assert_true(ring_filter_allows(f, "node2@host2"));
	assert_true(ring_filter_allows(f, "xnode2@host"));
	assert_false(ring_filter_allows(f, "a.c"));
	assert_true(ring_filter_allows(f, "abc"));
	ring_filter_destroy(f);
}

static void
test_regex_unanchored(void **state)
{
	struct ring_filter *f = filter_new();

	(void)state;
	add_ok(f, RING_FILTER_DENY, "/^primary@.+$/");
	add_ok(f, RING_FILTER_DENY, "/worker[0-9]+/");
	assert_false(ring_filter_allows(f, "primary@host"));
	assert_true(ring_filter_allows(f, "primary@"));
	assert_true(ring_filter_allows(f, "xprimary@host"));
	assert_false(ring_filter_allows(f, "eu-worker12-b"));
	assert_true(ring_filter_allows(f, "eu-worker-b"));
	ring_filter_destroy(f);
}

static void
test_whitelist_only_includes_matches(void **state)
{
	struct ring_filter *f = filter_new();

	(void)state;
	add_ok(f, RING_FILTER_ALLOW, "/^gw-[0-9]+@/");
	add_ok(f, RING_FILTER_ALLOW, "edge@10.0.0.9");
	assert_true(ring_filter_allows(f, "gw-1@10.0.0.1"));
	assert_true(ring_filter_allows(f, "edge@10.0.0.9"));
	assert_false(ring_filter_allows(f, "edge@10.0.0.10"));
	assert_false(ring_filter_allows(f, "node1@10.0.0.1"));
	ring_filter_destroy(f);
}

static void
test_whitelist_wins_over_blacklist(void **state)
{
	struct ring_filter *f = filter_new();

	(void)state;
	add_ok(f, RING_FILTER_DENY, "/^gw-/");
	add_ok(f, RING_FILTER_ALLOW, "/^gw-1/");
	add_ok(f, RING_FILTER_ALLOW, "remsh@ops");
	/* allowed and denied: included, even against a built-in pattern */
	assert_true(ring_filter_allows(f, "gw-1@h"));
	assert_true(ring_filter_allows(f, "remsh@ops"));
	/* denied only: excluded; neither: excluded */
	assert_false(ring_filter_allows(f, "gw-2@h"));
	assert_false(ring_filter_allows(f, "other@h"));
	ring_filter_destroy(f);
}

static void
test_invalid_pattern_message(void **state)
{
	struct ring_filter *f = filter_new();
	char err[256];

	(void)state;
	assert_int_equal(ring_filter_add(f, RING_FILTER_DENY, "/a(/", err,
			sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "node_blacklist"));
	assert_non_null(strstr(err, "/a(/"));
	/* regerror()'s reason follows the entry */
	assert_true(strlen(strstr(err, "/a(/: ")) > strlen("/a(/: "));

	assert_int_equal(ring_filter_add(f, RING_FILTER_ALLOW, "/[z-a]/", err,
			sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "node_whitelist"));
	assert_non_null(strstr(err, "[z-a]"));
	/* the failed allow entry was not added: the allow list is still empty */
	assert_true(ring_filter_allows(f, "anything"));
	ring_filter_destroy(f);
}

static void
test_malformed_entries(void **state)
{
	struct ring_filter *f = filter_new();
	char err[256], big[RING_FILTER_ENTRY_MAX + 1];

	(void)state;
	assert_int_equal(ring_filter_add(f, RING_FILTER_DENY, "", err,
			sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(ring_filter_add(f, RING_FILTER_DENY, NULL, err,
			sizeof(err)), -EINVAL);
	assert_int_equal(ring_filter_add(f, RING_FILTER_DENY, "//", err,
			sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty pattern"));
	assert_int_equal(ring_filter_add(f, RING_FILTER_DENY, "/abc", err,
			sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unterminated"));
	assert_int_equal(ring_filter_add(f, RING_FILTER_DENY, "/", err,
			sizeof(err)), -EINVAL);
	assert_int_equal(ring_filter_add(f, RING_FILTER_DENY, "/abc/i", err,
			sizeof(err)), -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ring_filter_add(f, RING_FILTER_DENY, big, err,
			sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer"));
	assert_int_equal(ring_filter_add(f, (enum ring_filter_list)7, "x",
			err, sizeof(err)), -EINVAL);
	assert_int_equal(ring_filter_add(NULL, RING_FILTER_DENY, "x", err,
			sizeof(err)), -EINVAL);
	/* nothing was added: only the built-ins still apply */
	assert_true(ring_filter_allows(f, "abc"));
	assert_true(ring_filter_allows(f, "/abc"));
	ring_filter_destroy(f);
}

static void
test_error_buffer_truncated(void **state)
{
	struct ring_filter *f = filter_new();
	char err[8];

	(void)state;
	memset(err, 'Z', sizeof(err));
	assert_int_equal(ring_filter_add(f, RING_FILTER_DENY, "/a(/", err,
			sizeof(err)), -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, "node_bl", 7);
	/* no buffer at all is fine too */
	assert_int_equal(ring_filter_add(f, RING_FILTER_DENY, "/a(/", NULL, 0),
			-EINVAL);
	ring_filter_destroy(f);
}

static void
test_list_capacity(void **state)
{
	struct ring_filter *f = filter_new();
	char name[32], err[128];
	int i;

	(void)state;
	for (i = 0; i < RING_FILTER_ENTRIES_MAX; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		add_ok(f, RING_FILTER_DENY, name);
	}
	assert_int_equal(ring_filter_add(f, RING_FILTER_DENY, "extra", err,
			sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "node_blacklist"));
	assert_false(ring_filter_allows(f, "n255"));
	assert_true(ring_filter_allows(f, "extra"));
	ring_filter_destroy(f);
}

static void
test_null_arguments(void **state)
{
	struct ring_filter *f = filter_new();

	(void)state;
	assert_false(ring_filter_allows(f, NULL));
	assert_true(ring_filter_allows(NULL, "remsh@h"));
	assert_false(ring_filter_allows(NULL, NULL));
	assert_string_equal(ring_filter_list_key(RING_FILTER_DENY),
			"node_blacklist");
	assert_string_equal(ring_filter_list_key(RING_FILTER_ALLOW),
			"node_whitelist");
	ring_filter_destroy(f);
	ring_filter_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_denies),
		cmocka_unit_test(test_exact_entries),
		cmocka_unit_test(test_regex_unanchored),
		cmocka_unit_test(test_whitelist_only_includes_matches),
		cmocka_unit_test(test_whitelist_wins_over_blacklist),
		cmocka_unit_test(test_invalid_pattern_message),
		cmocka_unit_test(test_malformed_entries),
		cmocka_unit_test(test_error_buffer_truncated),
		cmocka_unit_test(test_list_capacity),
		cmocka_unit_test(test_null_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
