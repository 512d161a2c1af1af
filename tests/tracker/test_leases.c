/*
 * test_leases.c - lease expiry, trk_expire, refresh, and the change queue.
 * Time is simulated: `now` is just a number the test passes in (ms).
 */
#include "trk_test.h"

static void
test_lease_lookup_and_reclaim(void **state)
{
	struct trk *t = trk_make(1, 100, 0, 16);
	struct trk_change ch[4];
	struct trk_stats st;
	struct name_buf n;

	(void)state;
	name_make(&n, "dev", 1);
	assert_int_equal(reg_simple(t, &n.k, 1, 1000, 0), TRK_OK);
	assert_int_equal(trk_entry_lease(trk_whereis(t, &n.k, 0)), 1000);
	assert_non_null(trk_whereis(t, &n.k, 999));
	/* invisible from the expiry instant on, before any reclaim */
	assert_null(trk_whereis(t, &n.k, 1000));
	assert_int_equal(trk_count(t), 1);
	assert_int_equal(trk_unregister(t, &n.k, false, 0, 999), TRK_OK);
	assert_int_equal(reg_simple(t, &n.k, 1, 1000, 0), TRK_OK);
	assert_int_equal(trk_expire(t, 0, 999, 10), 0);
	assert_int_equal(trk_expire(t, 0, 1000, 10), 1);
	assert_int_equal(trk_count(t), 0);
	trk_stats(t, &st);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.leased, 0);
	assert_int_equal(drain_all(t, ch, 4), 4);
	assert_int_equal(ch[3].kind, TRK_CH_EXPIRE);
	assert_memory_equal(ch[3].rec.name, n.s, n.k.len);
	trk_destroy(t);
}

static void
test_lease_refresh(void **state)
{
	struct trk *t = trk_make(1, 100, 0, 0);
	struct name_buf n;

	(void)state;
	name_make(&n, "dev", 1);
	assert_int_equal(reg_simple(t, &n.k, 1, 100, 0), TRK_OK);
	assert_int_equal(reg_simple(t, &n.k, 1, 100, 50), TRK_OK);
	assert_non_null(trk_whereis(t, &n.k, 120));
	assert_int_equal(trk_expire(t, 0, 120, 10), 0);
	assert_int_equal(trk_expire(t, 0, 150, 10), 1);
	assert_null(trk_whereis(t, &n.k, 150));

	/* a refresh without a TTL drops the lease for good */
	assert_int_equal(reg_simple(t, &n.k, 1, 100, 200), TRK_OK);
	assert_int_equal(reg_simple(t, &n.k, 1, 0, 210), TRK_OK);
	assert_int_equal(trk_expire(t, 0, 1000000, 10), 0);
	assert_non_null(trk_whereis(t, &n.k, 1000000));
	/* and one with a TTL adds it again */
	assert_int_equal(reg_simple(t, &n.k, 1, 10, 1000000), TRK_OK);
	assert_int_equal(trk_expire(t, 0, 1000010, 10), 1);
	trk_destroy(t);
}

/* Expiry goes earliest first, bounded by the budget, across refreshes. */
static void
test_expire_order_and_budget(void **state)
{
	struct trk *t = trk_make(1, 1000, 0, 512);
	struct trk_change ch[512];
	struct name_buf n;
	size_t i, got;

	(void)state;
	for (i = 0; i < 100; i++) {
		name_make(&n, "dev", (unsigned int)(99 - i));
		/* dev-k expires at 10 * (k + 1), inserted in reverse order */
		assert_int_equal(reg_simple(t, &n.k, i, 10 * (100 - i), 0),
				TRK_OK);
	}
	/* move dev-0 to the back of the line */
	name_make(&n, "dev", 0);
	assert_int_equal(reg_simple(t, &n.k, 99, 5000, 1), TRK_OK);
	assert_int_equal(drain_all(t, ch, 512), 100);
	assert_int_equal(trk_expire(t, 0, 2000, 10), 10);
	assert_int_equal(trk_expire(t, 0, 2000, 1000), 89);
	assert_int_equal(trk_expire(t, 0, 2000, 1000), 0);
	got = drain_all(t, ch, 512);
	assert_int_equal(got, 99);
	for (i = 0; i < got; i++) {
		char want[32];

		snprintf(want, sizeof(want), "dev-%zu", i + 1);
		assert_int_equal(ch[i].kind, TRK_CH_EXPIRE);
		assert_int_equal(ch[i].rec.name_len, strlen(want));
		assert_memory_equal(ch[i].rec.name, want, strlen(want));
	}
	assert_int_equal(trk_count(t), 1);
	assert_int_equal(trk_expire(t, 0, 5000, 10), 0);
	assert_int_equal(trk_expire(t, 0, 5001, 10), 1);
	trk_destroy(t);
}

/* An expired name is free: another handle may take it at once. */
static void
test_expired_name_reusable(void **state)
{
	struct trk *t = trk_make(1, 100, 0, 16);
	const struct trk_entry *e;
	struct trk_change ch[8];
	struct name_buf n;
	struct reg_buf b;

	(void)state;
	name_make(&n, "dev", 1);
	assert_int_equal(reg_simple(t, &n.k, 1, 10, 0), TRK_OK);
	reg_make(&b, &n.k, 2, 0);
	assert_int_equal(trk_register(t, &b.r, 5, NULL), TRK_EXISTS);
	assert_int_equal(trk_register(t, &b.r, 20, &e), TRK_OK);
	assert_int_equal(e->handle, 2);
	assert_int_equal(trk_count(t), 1);
	assert_int_equal(drain_all(t, ch, 8), 3);
	assert_int_equal(ch[0].kind, TRK_CH_REGISTER);
	assert_int_equal(ch[1].kind, TRK_CH_EXPIRE);
	assert_int_equal(ch[1].rec.handle, 1);
	assert_int_equal(ch[2].kind, TRK_CH_REGISTER);
	assert_int_equal(ch[2].rec.handle, 2);
	/* the reclaimed entry also left the lease heap */
	assert_int_equal(trk_expire(t, 0, 1000, 10), 0);
	trk_destroy(t);
}

static void
test_change_queue_contents(void **state)
{
	struct trk *t = trk_make(2, 100, 0, 64);
	struct trk_change ch[64];
	struct trk_key g = trk_key("grp", 3);
	struct name_buf a;
	size_t i, k;

	(void)state;
	name_make(&a, "dev", 1);
	assert_int_equal(reg_simple(t, &a.k, 11, 0, 0), TRK_OK);
	assert_int_equal(trk_join(t, &g, &a.k, 0), TRK_OK);
	assert_int_equal(trk_leave(t, &g, &a.k, 0), TRK_OK);
	assert_int_equal(trk_join(t, &g, &a.k, 0), TRK_OK);
	assert_int_equal(trk_unregister(t, &a.k, true, 11, 0), TRK_OK);
	k = trk_drain_changes(t, trk_part_of(t, a.k.hash), ch, 64);
	assert_int_equal(k, 6);
	assert_int_equal(ch[0].kind, TRK_CH_REGISTER);
	assert_int_equal(ch[1].kind, TRK_CH_JOIN);
	assert_int_equal(ch[2].kind, TRK_CH_LEAVE);
	assert_int_equal(ch[3].kind, TRK_CH_JOIN);
	assert_int_equal(ch[4].kind, TRK_CH_LEAVE);	/* because it went */
	assert_int_equal(ch[5].kind, TRK_CH_UNREGISTER);
	for (i = 0; i < k; i++) {
		assert_int_equal(ch[i].rec.handle, 11);
		assert_memory_equal(ch[i].rec.name, a.s, a.k.len);
		if (ch[i].kind == TRK_CH_JOIN || ch[i].kind == TRK_CH_LEAVE) {
			assert_int_equal(ch[i].group_len, 3);
			assert_memory_equal(ch[i].group, "grp", 3);
		}
		if (i > 0)
			assert_true(trk_version_cmp(&ch[i].rec.version,
					&ch[i - 1].rec.version) > 0);
	}
	assert_int_equal(trk_drain_changes(t, trk_part_of(t, a.k.hash), ch, 64), 0);
	assert_int_equal(trk_drain_changes(t, 99, ch, 64), 0);
	trk_destroy(t);
}

/* A full queue refuses the write instead of losing the change. */
static void
test_change_queue_full(void **state)
{
	struct trk *t = trk_make(1, 100, 0, 4);
	struct trk_key g = trk_key("grp", 3);
	struct trk_change ch[8];
	struct trk_stats st;
	struct name_buf n;
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		name_make(&n, "dev", i);
		assert_int_equal(reg_simple(t, &n.k, i, 0, 0), TRK_OK);
	}
	name_make(&n, "dev", 0);
	assert_int_equal(trk_join(t, &g, &n.k, 0), TRK_OK);
	name_make(&n, "dev", 9);
	assert_int_equal(reg_simple(t, &n.k, 9, 0, 0), TRK_BUSY);
	assert_null(trk_whereis(t, &n.k, 0));
	name_make(&n, "dev", 1);
	assert_int_equal(trk_unregister(t, &n.k, false, 0, 0), TRK_BUSY);
	assert_non_null(trk_whereis(t, &n.k, 0));
	assert_int_equal(trk_join(t, &g, &n.k, 0), TRK_BUSY);
	/* an unchanged refresh records nothing, so it still works */
	assert_int_equal(reg_simple(t, &n.k, 1, 0, 0), TRK_OK);
	trk_stats(t, &st);
	assert_int_equal(st.busy, 3);
	assert_int_equal(st.changes_pending, 4);

	assert_int_equal(trk_drain_changes(t, 0, ch, 1), 1);
	/* dev-0 is in a group: its removal needs two records, one is free */
	name_make(&n, "dev", 0);
	assert_int_equal(trk_unregister(t, &n.k, false, 0, 0), TRK_BUSY);
	assert_int_equal(trk_drain_changes(t, 0, ch, 1), 1);
	assert_int_equal(trk_unregister(t, &n.k, false, 0, 0), TRK_OK);
	assert_int_equal(trk_drain_changes(t, 0, ch, 8), 4);
	assert_int_equal(ch[2].kind, TRK_CH_LEAVE);
	assert_int_equal(ch[3].kind, TRK_CH_UNREGISTER);
	trk_destroy(t);
}

/* With leases due and the queue full, expiry pauses and resumes. */
static void
test_expire_waits_for_queue(void **state)
{
	struct trk *t = trk_make(1, 100, 0, 2);
	struct trk_change ch[4];
	struct name_buf n;

	(void)state;
	name_make(&n, "dev", 0);
	assert_int_equal(reg_simple(t, &n.k, 0, 10, 0), TRK_OK);
	name_make(&n, "dev", 1);
	assert_int_equal(reg_simple(t, &n.k, 1, 10, 0), TRK_OK);
	assert_int_equal(trk_expire(t, 0, 100, 10), 0);
	assert_null(trk_whereis(t, &n.k, 100));	/* still invisible */
	assert_int_equal(trk_drain_changes(t, 0, ch, 4), 2);
	assert_int_equal(trk_expire(t, 0, 100, 10), 2);
	assert_int_equal(trk_count(t), 0);
	trk_destroy(t);
}

static void
test_change_queue_off(void **state)
{
	struct trk *t = trk_make(1, 100, 0, 0);
	struct trk_change ch[4];
	struct name_buf n;
	unsigned int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		name_make(&n, "dev", i);
		assert_int_equal(reg_simple(t, &n.k, i, 0, 0), TRK_OK);
	}
	assert_int_equal(trk_drain_changes(t, 0, ch, 4), 0);
	trk_destroy(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_lookup_and_reclaim),
		cmocka_unit_test(test_lease_refresh),
		cmocka_unit_test(test_expire_order_and_budget),
		cmocka_unit_test(test_expired_name_reusable),
		cmocka_unit_test(test_change_queue_contents),
		cmocka_unit_test(test_change_queue_full),
		cmocka_unit_test(test_expire_waits_for_queue),
		cmocka_unit_test(test_change_queue_off),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
