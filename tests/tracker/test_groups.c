/*
 * test_groups.c - join, leave, members paging, automatic leave on removal.
 */
#include <stdlib.h>

#include "trk_test.h"

/* List all members of g with pages of `page`; counts[handle]++ for each. */
static size_t
members_all(struct trk *t, const struct trk_key *g, size_t page,
		uint64_t now, unsigned int *counts, size_t ncounts)
{
	const struct trk_entry *out[256];
	struct trk_cursor c;
	size_t n, i, total = 0;

	trk_cursor_init(&c);
	while (!trk_cursor_done(&c)) {
		assert_int_equal(trk_members(t, g, &c, now, out, page, &n), TRK_OK);
		for (i = 0; i < n; i++) {
			assert_true(entry_consistent(out[i]));
			assert_true(out[i]->handle < ncounts);
			counts[out[i]->handle]++;
		}
		total += n;
	}
	return total;
}

static void
test_join_members_leave(void **state)
{
	struct trk *t = trk_make(4, 100, 0, 0);
	struct trk_key g = trk_key("sensors", 7), h = trk_key("other", 5);
	unsigned int counts[10] = { 0 };
	struct trk_stats st;
	struct name_buf n;
	unsigned int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		name_make(&n, "dev", i);
		assert_int_equal(reg_simple(t, &n.k, i, 0, 0), TRK_OK);
		assert_int_equal(trk_join(t, i < 3 ? &g : &h, &n.k, 0), TRK_OK);
	}
	assert_int_equal(members_all(t, &g, 16, 0, counts, 10), 3);
	for (i = 0; i < 5; i++)
		assert_int_equal(counts[i], i < 3 ? 1 : 0);
	name_make(&n, "dev", 1);
	assert_int_equal(trk_leave(t, &g, &n.k, 0), TRK_OK);
	assert_int_equal(trk_leave(t, &g, &n.k, 0), TRK_NOT_FOUND);
	memset(counts, 0, sizeof(counts));
	assert_int_equal(members_all(t, &g, 16, 0, counts, 10), 2);
	assert_int_equal(counts[1], 0);
	trk_stats(t, &st);
	assert_int_equal(st.memberships, 4);
	trk_destroy(t);
}

static void
test_join_edge_cases(void **state)
{
	struct trk *t = trk_make(2, 100, 0, 16);
	struct trk_key g = trk_key("g", 1);
	unsigned int counts[4] = { 0 };
	struct trk_change ch[16];
	struct name_buf n;

	(void)state;
	name_make(&n, "ghost", 1);
	assert_int_equal(trk_join(t, &g, &n.k, 0), TRK_NOT_FOUND);
	assert_int_equal(trk_leave(t, &g, &n.k, 0), TRK_NOT_FOUND);
	name_make(&n, "dev", 1);
	assert_int_equal(reg_simple(t, &n.k, 1, 50, 0), TRK_OK);
	assert_int_equal(trk_join(t, &g, &n.k, 0), TRK_OK);
	assert_int_equal(trk_join(t, &g, &n.k, 0), TRK_OK);	/* idempotent */
	assert_int_equal(members_all(t, &g, 16, 0, counts, 4), 1);
	assert_int_equal(drain_all(t, ch, 16), 2);	/* REGISTER, one JOIN */
	/* expired member: invisible in members, and cannot join */
	assert_int_equal(members_all(t, &g, 16, 50, counts, 4), 0);
	assert_int_equal(trk_join(t, &g, &n.k, 60), TRK_NOT_FOUND);
	assert_int_equal(trk_leave(t, &g, &n.k, 60), TRK_NOT_FOUND);
	trk_destroy(t);
}

/* An entry that goes (unregister or lease) leaves all its groups. */
static void
test_removal_leaves_groups(void **state)
{
	struct trk *t = trk_make(2, 100, 0, 64);
	struct trk_key gs[3] = { trk_key("a", 1), trk_key("b", 1), trk_key("c", 1) };
	unsigned int counts[4] = { 0 };
	struct trk_change ch[64];
	struct trk_stats st;
	struct name_buf n0, n1;
	size_t i, k;

	(void)state;
	name_make(&n0, "dev", 0);
	name_make(&n1, "dev", 1);
	assert_int_equal(reg_simple(t, &n0.k, 0, 0, 0), TRK_OK);
	assert_int_equal(reg_simple(t, &n1.k, 1, 100, 0), TRK_OK);
	for (i = 0; i < 3; i++) {
		assert_int_equal(trk_join(t, &gs[i], &n0.k, 0), TRK_OK);
		assert_int_equal(trk_join(t, &gs[i], &n1.k, 0), TRK_OK);
	}
	drain_all(t, ch, 64);
	assert_int_equal(trk_unregister(t, &n0.k, false, 0, 0), TRK_OK);
	k = drain_all(t, ch, 64);
	assert_int_equal(k, 4);
	for (i = 0; i < 3; i++)
		assert_int_equal(ch[i].kind, TRK_CH_LEAVE);
	assert_int_equal(ch[3].kind, TRK_CH_UNREGISTER);
	for (i = 0; i < 3; i++) {
		memset(counts, 0, sizeof(counts));
		assert_int_equal(members_all(t, &gs[i], 16, 0, counts, 4), 1);
		assert_int_equal(counts[1], 1);
	}
	assert_int_equal(trk_expire(t, trk_part_of(t, n1.k.hash), 100, 10), 1);
	for (i = 0; i < 3; i++)
		assert_int_equal(members_all(t, &gs[i], 16, 0, counts, 4), 0);
	trk_stats(t, &st);
	assert_int_equal(st.memberships, 0);
	assert_int_equal(st.groups, 0);
	/* the name comes back without its old groups */
	assert_int_equal(reg_simple(t, &n0.k, 0, 0, 0), TRK_OK);
	assert_int_equal(members_all(t, &gs[0], 16, 0, counts, 4), 0);
	trk_destroy(t);
}

static void
test_groups_per_entry_cap(void **state)
{
	struct trk *t = trk_make(1, 100, 0, 0);
	struct name_buf n, g;
	unsigned int i;

	(void)state;
	name_make(&n, "dev", 0);
	assert_int_equal(reg_simple(t, &n.k, 0, 0, 0), TRK_OK);
	for (i = 0; i < TRK_GROUPS_PER_ENTRY; i++) {
		name_make(&g, "grp", i);
		assert_int_equal(trk_join(t, &g.k, &n.k, 0), TRK_OK);
	}
	name_make(&g, "grp", i);
	assert_int_equal(trk_join(t, &g.k, &n.k, 0), TRK_FULL);
	name_make(&g, "grp", 5);
	assert_int_equal(trk_leave(t, &g.k, &n.k, 0), TRK_OK);
	name_make(&g, "grp", i);
	assert_int_equal(trk_join(t, &g.k, &n.k, 0), TRK_OK);
	for (i = 0; i <= TRK_GROUPS_PER_ENTRY; i++) {
		name_make(&g, "grp", i);
		assert_int_equal(trk_leave(t, &g.k, &n.k, 0),
				i == 5 ? TRK_NOT_FOUND : TRK_OK);
	}
	trk_destroy(t);
}

/* Members follow an entry replaced by copy on write. */
static void
test_members_follow_update(void **state)
{
	struct trk *t = trk_make(1, 100, 0, 0);
	struct trk_key g = trk_key("g", 1);
	const struct trk_entry *out[16];
	struct trk_cursor c;
	struct name_buf n;
	struct reg_buf b;
	size_t cnt;

	(void)state;
	name_make(&n, "dev", 0);
	assert_int_equal(reg_simple(t, &n.k, 0, 0, 0), TRK_OK);
	assert_int_equal(trk_join(t, &g, &n.k, 0), TRK_OK);
	reg_make(&b, &n.k, 0, 0);
	b.r.ep.port = 4242;
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_OK);
	trk_cursor_init(&c);
	assert_int_equal(trk_members(t, &g, &c, 0, out, 16, &cnt), TRK_OK);
	assert_int_equal(cnt, 1);
	assert_int_equal(out[0]->ep.port, 4242);
	assert_ptr_equal(out[0], trk_whereis(t, &n.k, 0));
	trk_destroy(t);
}

/* Paging a big group stays exactly-once while others join and leave. */
static void
test_members_paging_with_churn(void **state)
{
	enum { STABLE = 1000, CHURN = 600 };
	struct trk *t = trk_make(4, 4096, 0, 0);
	unsigned int *counts = calloc(STABLE + CHURN, sizeof(*counts));
	struct trk_key g = trk_key("fleet", 5);
	const struct trk_entry *out[16];
	struct trk_cursor c;
	struct name_buf n;
	unsigned int i, pages = 0, next_churn = 0;
	size_t cnt, k;

	(void)state;
	assert_non_null(counts);
	for (i = 0; i < STABLE + CHURN / 2; i++) {
		name_make(&n, "dev", i);
		assert_int_equal(reg_simple(t, &n.k, i, 0, 0), TRK_OK);
		assert_int_equal(trk_join(t, &g, &n.k, 0), TRK_OK);
	}
	trk_cursor_init(&c);
	while (!trk_cursor_done(&c)) {
		assert_int_equal(trk_members(t, &g, &c, 0, out, 16, &cnt), TRK_OK);
		for (k = 0; k < cnt; k++)
			counts[out[k]->handle]++;
		/* between pages: the churn half leaves, the rest joins */
		if (next_churn < CHURN / 2) {
			name_make(&n, "dev", STABLE + next_churn);
			assert_int_equal(trk_leave(t, &g, &n.k, 0), TRK_OK);
			name_make(&n, "dev", STABLE + CHURN / 2 + next_churn);
			assert_int_equal(reg_simple(t, &n.k,
					STABLE + CHURN / 2 + next_churn, 0, 0), TRK_OK);
			assert_int_equal(trk_join(t, &g, &n.k, 0), TRK_OK);
			next_churn++;
		}
		/* and the last member returned leaves too, now and then */
		if (cnt > 0 && out[cnt - 1]->handle >= STABLE && pages % 3 == 0) {
			struct trk_key mk = trk_key(trk_entry_name(out[cnt - 1]),
					out[cnt - 1]->name_len);

			trk_leave(t, &g, &mk, 0);
		}
		pages++;
		assert_true(pages < 1000);
	}
	for (i = 0; i < STABLE + CHURN; i++)
		assert_true(i < STABLE ? counts[i] == 1 : counts[i] <= 1);
	free(counts);
	trk_destroy(t);
}

static void
test_members_bad_cursor(void **state)
{
	struct trk *t = trk_make(2, 100, 0, 0);
	struct trk_key g = trk_key("g", 1), bad = trk_key("g", 0);
	const struct trk_entry *out[16];
	struct trk_cursor c;
	size_t cnt;

	(void)state;
	trk_cursor_init(&c);
	assert_int_equal(trk_members(t, &bad, &c, 0, out, 16, &cnt), TRK_INVALID);
	assert_int_equal(trk_members(t, &g, &c, 0, out, 0, &cnt), TRK_INVALID);
	/* a listing cursor of the other kind is refused */
	assert_int_equal(trk_registered(t, &c, 0, out, 16, &cnt), TRK_OK);
	assert_true(trk_cursor_done(&c));
	c.b[0] = 1;
	assert_int_equal(trk_members(t, &g, &c, 0, out, 16, &cnt), TRK_INVALID);
	/* empty group: done at once */
	trk_cursor_init(&c);
	assert_int_equal(trk_members(t, &g, &c, 0, out, 16, &cnt), TRK_OK);
	assert_int_equal(cnt, 0);
	assert_true(trk_cursor_done(&c));
	trk_destroy(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_members_leave),
		cmocka_unit_test(test_join_edge_cases),
		cmocka_unit_test(test_removal_leaves_groups),
		cmocka_unit_test(test_groups_per_entry_cap),
		cmocka_unit_test(test_members_follow_update),
		cmocka_unit_test(test_members_paging_with_churn),
		cmocka_unit_test(test_members_bad_cursor),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
