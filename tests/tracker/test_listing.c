/*
 * test_listing.c - trk_registered paging: exactly-once across pages,
 * concurrent inserts and deletes, table growth, hash collisions, and
 * hostile cursors. The test thread goes quiescent between pages, as a
 * real caller would (it may not keep page pointers past that point).
 */
#include <stdlib.h>

#include "trk_test.h"
#include "trk_internal.h"	/* white box: count the table's growths */

/* Take one page; counts[handle]++ for each entry; returns its size. */
static size_t
page_take(struct trk *t, struct trk_cursor *c, size_t max, uint64_t now,
		unsigned int *counts, size_t ncounts, const struct trk_entry **out)
{
	size_t n, i;

	assert_int_equal(trk_registered(t, c, now, out, max, &n), TRK_OK);
	assert_true(n <= max);
	for (i = 0; i < n; i++) {
		assert_true(out[i]->handle < ncounts);
		counts[out[i]->handle]++;
	}
	return n;
}

static void
test_list_empty(void **state)
{
	struct trk *t = trk_make(4, 100, 0, 0);
	const struct trk_entry *out[16];
	struct trk_cursor c;
	size_t n = 99;

	(void)state;
	trk_cursor_init(&c);
	assert_false(trk_cursor_done(&c));
	assert_int_equal(trk_registered(t, &c, 0, out, 16, &n), TRK_OK);
	assert_int_equal(n, 0);
	assert_true(trk_cursor_done(&c));
	/* a finished cursor stays finished */
	assert_int_equal(trk_registered(t, &c, 0, out, 16, &n), TRK_OK);
	assert_int_equal(n, 0);
	trk_destroy(t);
}

static void
test_list_many_pages(void **state)
{
	enum { N = 10000 };
	struct trk *t = trk_make(4, N, 0, 0);
	unsigned int *counts = calloc(N, sizeof(*counts));
	const struct trk_entry *out[64];
	struct trk_cursor c;
	struct name_buf n;
	size_t total = 0, pages = 0;
	unsigned int i;

	(void)state;
	for (i = 0; i < N; i++) {
		name_make(&n, "dev", i);
		assert_int_equal(reg_simple(t, &n.k, i, i % 2 ? 0 : 100, 0), TRK_OK);
	}
	trk_cursor_init(&c);
	while (!trk_cursor_done(&c)) {
		total += page_take(t, &c, 64, 0, counts, N, out);
		urcu_qsbr_quiescent_state();
		pages++;
	}
	assert_int_equal(total, N);
	assert_true(pages >= N / 64);
	for (i = 0; i < N; i++)
		assert_int_equal(counts[i], 1);
	/* at now = 100 the leased half has expired and is not listed */
	memset(counts, 0, N * sizeof(*counts));
	trk_cursor_init(&c);
	total = 0;
	while (!trk_cursor_done(&c))
		total += page_take(t, &c, 64, 100, counts, N, out);
	assert_int_equal(total, N / 2);
	for (i = 0; i < N; i++)
		assert_int_equal(counts[i], i % 2 ? 1 : 0);
	free(counts);
	trk_destroy(t);
}

/* Tiny pages (a datagram may hold one entry) still list exactly once. */
static void
test_list_small_pages(void **state)
{
	enum { N = 300 };
	struct trk *t = trk_make(3, N, 0, 0);
	struct trk_key g = trk_key("g", 1);
	unsigned int counts[N] = { 0 }, mcounts[N] = { 0 };
	const struct trk_entry *out[3];
	struct trk_cursor c;
	struct name_buf n;
	size_t max, got, k;
	unsigned int i;

	(void)state;
	for (i = 0; i < N; i++) {
		name_make(&n, "dev", i);
		assert_int_equal(reg_simple(t, &n.k, i, 0, 0), TRK_OK);
		assert_int_equal(trk_join(t, &g, &n.k, 0), TRK_OK);
	}
	for (max = 1; max <= 3; max++) {
		memset(counts, 0, sizeof(counts));
		memset(mcounts, 0, sizeof(mcounts));
		trk_cursor_init(&c);
		while (!trk_cursor_done(&c))
			page_take(t, &c, max, 0, counts, N, out);
		trk_cursor_init(&c);
		while (!trk_cursor_done(&c)) {
			assert_int_equal(trk_members(t, &g, &c, 0, out, max, &got),
					TRK_OK);
			for (k = 0; k < got; k++)
				mcounts[out[k]->handle]++;
		}
		for (i = 0; i < N; i++) {
			assert_int_equal(counts[i], 1);
			assert_int_equal(mcounts[i], 1);
		}
	}
	trk_destroy(t);
}

/*
 * Stable names [0, STABLE) must come out exactly once while, between
 * pages, other names are deleted (including the ones the page just ended
 * on, which forces the cursor's anchor and fallback paths) and inserted.
 */
static void
test_list_churn(void **state)
{
	enum { STABLE = 3000, CHURN = 3000, PAGE = 32 };
	struct trk *t = trk_make(4, STABLE + CHURN, 0, 0);
	unsigned int *counts = calloc(STABLE + CHURN, sizeof(*counts));
	const struct trk_entry *out[PAGE];
	struct trk_cursor c;
	struct name_buf n;
	unsigned int i, next = STABLE + CHURN / 2, del = STABLE;
	size_t got, k;

	(void)state;
	for (i = 0; i < STABLE + CHURN / 2; i++) {
		name_make(&n, "dev", i);
		assert_int_equal(reg_simple(t, &n.k, i, 0, 0), TRK_OK);
	}
	trk_cursor_init(&c);
	while (!trk_cursor_done(&c)) {
		got = page_take(t, &c, PAGE, 0, counts, STABLE + CHURN, out);
		/* delete the churn names this page ended with */
		for (k = got; k > 0 && k + 3 > got; k--) {
			const struct trk_entry *e = out[k - 1];
			struct trk_key ek;

			if (e->handle < STABLE)
				continue;
			ek = trk_key(trk_entry_name(e), e->name_len);
			assert_int_equal(trk_unregister(t, &ek, true, e->handle, 0),
					TRK_OK);
		}
		/* and churn elsewhere: one out, two in */
		name_make(&n, "dev", del++);
		trk_unregister(t, &n.k, false, 0, 0);
		for (k = 0; k < 2 && next < STABLE + CHURN; k++, next++) {
			name_make(&n, "dev", next);
			assert_int_equal(reg_simple(t, &n.k, next, 0, 0), TRK_OK);
		}
		urcu_qsbr_quiescent_state();
	}
	for (i = 0; i < STABLE + CHURN; i++)
		assert_true(i < STABLE ? counts[i] == 1 : counts[i] <= 1);
	free(counts);
	trk_destroy(t);
}

/*
 * All anchors gone: the last three entries of every page are deleted
 * before the next one. A position needs no surviving entry, so nothing is
 * missed and no page rescans.
 */
static void
test_list_anchors_deleted(void **state)
{
	enum { N = 400 };
	struct trk *t = trk_make(1, N, 0, 0);
	unsigned int counts[N] = { 0 };
	const struct trk_entry *out[16];
	struct trk_stats st;
	struct trk_cursor c;
	struct name_buf n;
	unsigned int i;
	size_t got, k;

	(void)state;
	for (i = 0; i < N; i++) {
		name_make(&n, "dev", i);
		assert_int_equal(reg_simple(t, &n.k, i, 0, 0), TRK_OK);
	}
	trk_cursor_init(&c);
	while (!trk_cursor_done(&c)) {
		got = page_take(t, &c, 16, 0, counts, N, out);
		for (k = got > 3 ? got - 3 : 0; k < got; k++) {
			struct trk_key ek = trk_key(trk_entry_name(out[k]),
					out[k]->name_len);

			assert_int_equal(trk_unregister(t, &ek, false, 0, 0), TRK_OK);
		}
		urcu_qsbr_quiescent_state();
	}
	for (i = 0; i < N; i++)
		assert_int_equal(counts[i], 1);
	trk_stats(t, &st);
	assert_int_equal(st.cursor_fallbacks, 0);
	trk_destroy(t);
}

/*
 * The listing survives the names table doubling between pages: 4,000 new
 * names after every page of a 64-entry presize. Every name present from
 * the first page to the last is listed once; the new ones at most once.
 */
static void
test_list_across_growth(void **state)
{
	enum { N = 300, ADD = 4000, PAGES_MAX = 40 };
	struct trk *t = trk_make(1, 64, 0, 0);
	unsigned int *counts = calloc(N + ADD * PAGES_MAX, sizeof(*counts));
	const struct trk_entry *out[16];
	uint64_t grows_before;
	struct trk_cursor c;
	struct name_buf n;
	unsigned int i, pages = 0, next = N;

	(void)state;
	assert_non_null(counts);
	for (i = 0; i < N; i++) {
		name_make(&n, "dev", i);
		assert_int_equal(reg_simple(t, &n.k, i, 0, 0), TRK_OK);
	}
	grows_before = t->part[0].names->grows;
	trk_cursor_init(&c);
	while (!trk_cursor_done(&c)) {
		page_take(t, &c, 16, 0, counts, N + ADD * PAGES_MAX, out);
		/* out[] may point into the array that growth retires */
		urcu_qsbr_quiescent_state();
		if (pages++ < 4) {
			for (i = 0; i < ADD; i++, next++) {
				name_make(&n, "new", next);
				assert_int_equal(reg_simple(t, &n.k, next, 0, 0),
						TRK_OK);
			}
		}
	}
	assert_true(t->part[0].names->grows >= grows_before + 4);
	for (i = 0; i < N; i++)
		assert_int_equal(counts[i], 1);
	for (i = N; i < next; i++)
		assert_true(counts[i] <= 1);
	free(counts);
	trk_destroy(t);
}

/* Names forced onto one hash never straddle a page boundary. */
static void
test_list_collisions(void **state)
{
	enum { FILL = 40 };
	const struct trk_entry *out[16];
	unsigned int pos;

	(void)state;
	for (pos = 10; pos < 20; pos++) {
		struct trk *t = trk_make(1, 128, 0, 0);
		unsigned int counts[FILL + TRK_HASH_DUP_MAX] = { 0 };
		struct trk_cursor c;
		struct name_buf n;
		unsigned int i;

		/* fillers at split positions 1..FILL, the group just after pos */
		for (i = 0; i < FILL; i++) {
			name_make(&n, "fill", i);
			n.k.hash = trk_split_key((uint64_t)(i + 1) << 40);
			assert_int_equal(reg_simple(t, &n.k, i, 0, 0), TRK_OK);
		}
		for (i = 0; i < TRK_HASH_DUP_MAX; i++) {
			name_make(&n, "dup", i);
			n.k.hash = trk_split_key(((uint64_t)pos << 40) | 1);
			assert_int_equal(reg_simple(t, &n.k, FILL + i, 0, 0), TRK_OK);
		}
		trk_cursor_init(&c);
		while (!trk_cursor_done(&c))
			page_take(t, &c, 16, 0, counts, FILL + TRK_HASH_DUP_MAX, out);
		for (i = 0; i < FILL + TRK_HASH_DUP_MAX; i++)
			assert_int_equal(counts[i], 1);
		trk_destroy(t);
	}
}

static void
test_list_hostile_cursor(void **state)
{
	struct trk *t = trk_make(2, 100, 0, 0);
	unsigned int counts[50] = { 0 };
	const struct trk_entry *out[16];
	struct trk_cursor c;
	struct name_buf n;
	unsigned int i;
	size_t got;

	(void)state;
	for (i = 0; i < 50; i++) {
		name_make(&n, "dev", i);
		assert_int_equal(reg_simple(t, &n.k, i, 0, 0), TRK_OK);
	}
	trk_cursor_init(&c);
	assert_int_equal(trk_registered(t, &c, 0, out, 0, &got), TRK_INVALID);
	assert_int_equal(trk_registered(t, &c, 0, NULL, 16, &got), TRK_INVALID);
	c.b[17] = 1;		/* fresh state with junk */
	assert_int_equal(trk_registered(t, &c, 0, out, 16, &got), TRK_INVALID);
	trk_cursor_init(&c);
	c.b[0] = 9;		/* unknown state */
	assert_int_equal(trk_registered(t, &c, 0, out, 16, &got), TRK_INVALID);
	c.b[0] = 1;
	c.b[1] = 1;
	c.b[2] = 2;		/* partition out of range */
	assert_int_equal(trk_registered(t, &c, 0, out, 16, &got), TRK_INVALID);
	c.b[2] = 0;
	c.b[3] = 4;		/* too many anchors */
	assert_int_equal(trk_registered(t, &c, 0, out, 16, &got), TRK_INVALID);
	c.b[3] = 0;
	c.b[5] = 1;		/* reserved bytes */
	assert_int_equal(trk_registered(t, &c, 0, out, 16, &got), TRK_INVALID);
	/* well-formed but forged anchors: a valid listing from that point */
	trk_cursor_init(&c);
	c.b[0] = 1;
	c.b[1] = 1;
	c.b[3] = 3;
	memset(c.b + 8, 0xa5, 24);
	while (!trk_cursor_done(&c))
		page_take(t, &c, 16, 0, counts, 50, out);
	for (i = 0; i < 50; i++)
		assert_true(counts[i] <= 1);
	trk_destroy(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_empty),
		cmocka_unit_test(test_list_many_pages),
		cmocka_unit_test(test_list_small_pages),
		cmocka_unit_test(test_list_churn),
		cmocka_unit_test(test_list_anchors_deleted),
		cmocka_unit_test(test_list_across_growth),
		cmocka_unit_test(test_list_collisions),
		cmocka_unit_test(test_list_hostile_cursor),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
