/*
 * test_entries.c - registrations, statuses, versions, capacity, inputs.
 * Runs on one thread, registered with QSBR and online throughout.
 */
#include "trk_test.h"

static void
test_register_and_whereis(void **state)
{
	struct trk *t = trk_make(4, 1000, 0, 0);
	const struct trk_entry *e, *got;
	struct trk_record rec;
	struct name_buf n;
	struct reg_buf b;

	(void)state;
	name_make(&n, "dev", 1);
	reg_make(&b, &n.k, 42, 0);
	assert_int_equal(trk_register(t, &b.r, 10, &e), TRK_OK);
	assert_non_null(e);
	got = trk_whereis(t, &n.k, 10);
	assert_ptr_equal(got, e);
	assert_int_equal(got->handle, 42);
	assert_int_equal(got->owner, 7);
	assert_int_equal(got->ep.port, port_of(42));
	assert_int_equal(got->ep.family, TRK_INET4);
	assert_true(entry_consistent(got));
	assert_int_equal(got->version.node, 7);
	assert_int_equal(trk_entry_lease(got), 0);
	assert_int_equal(trk_whereis_copy(t, &n.k, 10, &rec), TRK_OK);
	assert_int_equal(rec.handle, 42);
	assert_int_equal(rec.name_len, n.k.len);
	assert_memory_equal(rec.name, n.s, n.k.len);
	assert_int_equal(rec.meta_len, b.r.meta_len);
	assert_memory_equal(rec.meta, b.meta, b.r.meta_len);
	assert_int_equal(trk_count(t), 1);

	name_make(&n, "dev", 2);
	assert_null(trk_whereis(t, &n.k, 10));
	assert_int_equal(trk_whereis_copy(t, &n.k, 10, &rec), TRK_NOT_FOUND);
	trk_destroy(t);
}

static void
test_register_idempotent(void **state)
{
	struct trk *t = trk_make(1, 100, 0, 64);
	const struct trk_entry *a, *b2;
	struct trk_change ch[8];
	struct name_buf n;
	struct reg_buf b;

	(void)state;
	name_make(&n, "dev", 1);
	reg_make(&b, &n.k, 5, 0);
	assert_int_equal(trk_register(t, &b.r, 0, &a), TRK_OK);
	assert_int_equal(trk_register(t, &b.r, 1, &b2), TRK_OK);
	/* nothing changed: same entry, same version, one change only */
	assert_ptr_equal(a, b2);
	assert_int_equal(drain_all(t, ch, 8), 1);
	assert_int_equal(ch[0].kind, TRK_CH_REGISTER);
	assert_int_equal(trk_count(t), 1);
	trk_destroy(t);
}

static void
test_register_updates_content(void **state)
{
	struct trk *t = trk_make(1, 100, 0, 64);
	const struct trk_entry *a, *b2;
	struct trk_version va;
	struct trk_change ch[8];
	struct trk_stats st;
	struct name_buf n;
	struct reg_buf b;

	(void)state;
	name_make(&n, "dev", 1);
	reg_make(&b, &n.k, 5, 0);
	assert_int_equal(trk_register(t, &b.r, 0, &a), TRK_OK);
	va = a->version;
	b.r.meta = "fresh";
	b.r.meta_len = 5;
	b.r.ep.port = 9999;
	assert_int_equal(trk_register(t, &b.r, 1, &b2), TRK_OK);
	assert_ptr_not_equal(a, b2);
	assert_true(trk_version_cmp(&b2->version, &va) > 0);
	b2 = trk_whereis(t, &n.k, 1);
	assert_int_equal(b2->ep.port, 9999);
	assert_int_equal(b2->meta_len, 5);
	assert_memory_equal(trk_entry_meta(b2), "fresh", 5);
	assert_int_equal(drain_all(t, ch, 8), 2);
	assert_int_equal(ch[1].kind, TRK_CH_REGISTER);
	assert_memory_equal(ch[1].rec.meta, "fresh", 5);
	assert_int_equal(ch[1].rec.version.clock, b2->version.clock);
	trk_stats(t, &st);
	assert_int_equal(st.registers, 1);
	assert_int_equal(st.updates, 1);
	assert_int_equal(st.entries, 1);
	trk_destroy(t);
}

static void
test_register_other_handle(void **state)
{
	struct trk *t = trk_make(2, 100, 0, 0);
	const struct trk_entry *e;
	struct name_buf n;

	(void)state;
	name_make(&n, "dev", 1);
	assert_int_equal(reg_simple(t, &n.k, 1, 0, 0), TRK_OK);
	{
		struct reg_buf b;

		reg_make(&b, &n.k, 2, 0);
		assert_int_equal(trk_register(t, &b.r, 0, &e), TRK_EXISTS);
	}
	assert_int_equal(e->handle, 1);
	assert_int_equal(trk_whereis(t, &n.k, 0)->handle, 1);
	trk_destroy(t);
}

static void
test_unregister(void **state)
{
	struct trk *t = trk_make(2, 100, 0, 16);
	struct trk_change ch[8];
	struct name_buf n;

	(void)state;
	name_make(&n, "dev", 1);
	assert_int_equal(reg_simple(t, &n.k, 3, 0, 0), TRK_OK);
	/* wrong handle: refused, entry stays */
	assert_int_equal(trk_unregister(t, &n.k, true, 4, 0), TRK_NOT_FOUND);
	assert_non_null(trk_whereis(t, &n.k, 0));
	assert_int_equal(trk_unregister(t, &n.k, true, 3, 0), TRK_OK);
	assert_null(trk_whereis(t, &n.k, 0));
	assert_int_equal(trk_unregister(t, &n.k, false, 0, 0), TRK_NOT_FOUND);
	assert_int_equal(trk_count(t), 0);
	assert_int_equal(drain_all(t, ch, 8), 2);
	assert_int_equal(ch[1].kind, TRK_CH_UNREGISTER);
	assert_int_equal(ch[1].rec.handle, 3);
	assert_memory_equal(ch[1].rec.name, n.s, n.k.len);
	assert_true(trk_version_cmp(&ch[1].rec.version, &ch[0].rec.version) > 0);
	/* without a handle check any holder goes */
	assert_int_equal(reg_simple(t, &n.k, 9, 0, 0), TRK_OK);
	assert_int_equal(trk_unregister(t, &n.k, false, 0, 0), TRK_OK);
	trk_destroy(t);
}

static void
test_whereis_or_register(void **state)
{
	struct trk *t = trk_make(1, 100, 0, 0);
	const struct trk_entry *e, *e2;
	struct name_buf n;
	struct reg_buf b;

	(void)state;
	name_make(&n, "dev", 1);
	reg_make(&b, &n.k, 1, 0);
	assert_int_equal(trk_whereis_or_register(t, &b.r, 0, &e), TRK_OK);
	assert_int_equal(e->handle, 1);
	reg_make(&b, &n.k, 2, 0);
	assert_int_equal(trk_whereis_or_register(t, &b.r, 0, &e2), TRK_EXISTS);
	assert_ptr_equal(e, e2);
	assert_int_equal(e2->handle, 1);
	b.r.key.len = 0;
	assert_int_equal(trk_whereis_or_register(t, &b.r, 0, &e2), TRK_INVALID);
	trk_destroy(t);
}

static void
test_invalid_inputs(void **state)
{
	struct trk *t = trk_make(1, 100, 0, 16);
	char big[TRK_NAME_MAX + 2];
	struct trk_record rec;
	struct trk_key k;
	struct name_buf n;
	struct reg_buf b;

	(void)state;
	memset(big, 'x', sizeof(big));
	name_make(&n, "dev", 1);

	k = trk_key(big, 0);
	reg_make(&b, &k, 1, 0);
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_INVALID);
	k = trk_key(big, TRK_NAME_MAX + 1);
	reg_make(&b, &k, 1, 0);
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_INVALID);
	k = trk_key(big, TRK_NAME_MAX);	/* the longest name is fine */
	reg_make(&b, &k, 1, 0);
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_OK);
	k.name = NULL;
	reg_make(&b, &k, 1, 0);
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_INVALID);
	assert_int_equal(trk_register(t, NULL, 0, NULL), TRK_INVALID);

	reg_make(&b, &n.k, 1, 0);
	b.r.meta = big;
	b.r.meta_len = TRK_META_MAX + 1;
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_INVALID);
	b.r.meta = NULL;
	b.r.meta_len = 3;
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_INVALID);

	reg_make(&b, &n.k, 1, 0);
	b.r.ep.family = 5;
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_INVALID);
	reg_make(&b, &n.k, 1, 0);
	b.r.ep.port = 0;
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_INVALID);
	reg_make(&b, &n.k, 1, 0);
	b.r.ep.addr[9] = 1;	/* IPv4 with junk past its 4 bytes */
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_INVALID);
	b.r.ep.family = TRK_INET6;	/* ...which is a fine IPv6 address */
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_OK);
	reg_make(&b, &n.k, 1, 0);
	b.r.ep.family = TRK_EP_NONE;	/* "none" must really be empty */
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_INVALID);
	b.r.ep.port = 0;
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_INVALID);
	memset(&b.r.ep, 0, sizeof(b.r.ep));
	b.r.ep.reserved = 1;
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_INVALID);
	b.r.ep.reserved = 0;		/* no endpoint at all is fine */
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_OK);
	assert_int_equal(trk_whereis(t, &n.k, 0)->ep.family, TRK_EP_NONE);
	reg_make(&b, &n.k, 1, 0);
	b.r.flags = 0x80;
	assert_int_equal(trk_register(t, &b.r, 0, NULL), TRK_INVALID);

	k = trk_key(big, 0);
	assert_null(trk_whereis(t, &k, 0));
	assert_int_equal(trk_whereis_copy(t, &k, 0, &rec), TRK_INVALID);
	assert_int_equal(trk_unregister(t, &k, false, 0, 0), TRK_INVALID);
	assert_int_equal(trk_join(t, &k, &n.k, 0), TRK_INVALID);
	assert_int_equal(trk_leave(t, &n.k, &k, 0), TRK_INVALID);
	/* only the valid registrations happened (dev-1 twice: one entry) */
	assert_int_equal(trk_count(t), 2);
	trk_destroy(t);
}

static void
test_bad_config(void **state)
{
	struct trk_config c = { .nparts = 0 };

	(void)state;
	assert_null(trk_create(&c));
	c.nparts = TRK_MAX_PARTS + 1;
	assert_null(trk_create(&c));
	assert_null(trk_create(NULL));
}

static void
test_capacity_full(void **state)
{
	struct trk *t = trk_make(1, 16, 10, 0);
	struct trk_stats st;
	struct name_buf n;
	unsigned int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		name_make(&n, "dev", i);
		assert_int_equal(reg_simple(t, &n.k, i, 0, 0), TRK_OK);
	}
	name_make(&n, "dev", 10);
	assert_int_equal(reg_simple(t, &n.k, 10, 0, 0), TRK_FULL);
	assert_null(trk_whereis(t, &n.k, 0));
	/* refreshing an existing name needs no room */
	name_make(&n, "dev", 3);
	assert_int_equal(reg_simple(t, &n.k, 3, 0, 0), TRK_OK);
	assert_int_equal(trk_unregister(t, &n.k, false, 0, 0), TRK_OK);
	name_make(&n, "dev", 10);
	assert_int_equal(reg_simple(t, &n.k, 10, 0, 0), TRK_OK);
	trk_stats(t, &st);
	assert_int_equal(st.full, 1);
	assert_int_equal(st.entries, 10);
	trk_destroy(t);
}

static void
test_precomputed_hash(void **state)
{
	struct trk *t = trk_make(8, 100, 0, 0);
	struct trk_key k;
	struct name_buf n;

	(void)state;
	name_make(&n, "dev", 77);
	k = trk_key_hashed(n.s, n.k.len, ring_hash_name(n.s, n.k.len));
	assert_int_equal(k.hash, n.k.hash);
	assert_int_equal(reg_simple(t, &k, 1, 0, 0), TRK_OK);
	assert_non_null(trk_whereis(t, &n.k, 0));
	assert_int_equal(trk_part_of(t, k.hash), ring_hash_partition(k.hash, 8));
	trk_destroy(t);
}

/* Different names forced onto one hash: told apart, and capped. */
static void
test_hash_collisions(void **state)
{
	struct trk *t = trk_make(1, 100, 0, 0);
	struct trk_stats st;
	struct name_buf n;
	struct trk_key k;
	unsigned int i;

	(void)state;
	for (i = 0; i < TRK_HASH_DUP_MAX; i++) {
		name_make(&n, "col", i);
		k = trk_key_hashed(n.s, n.k.len, 0x1234);
		assert_int_equal(reg_simple(t, &k, 100 + i, 0, 0), TRK_OK);
	}
	name_make(&n, "col", 99);
	k = trk_key_hashed(n.s, n.k.len, 0x1234);
	assert_int_equal(reg_simple(t, &k, 99, 0, 0), TRK_COLLISION);
	for (i = 0; i < TRK_HASH_DUP_MAX; i++) {
		name_make(&n, "col", i);
		k = trk_key_hashed(n.s, n.k.len, 0x1234);
		assert_int_equal(trk_whereis(t, &k, 0)->handle, 100 + i);
	}
	name_make(&n, "col", 1);
	k = trk_key_hashed(n.s, n.k.len, 0x1234);
	assert_int_equal(trk_unregister(t, &k, true, 101, 0), TRK_OK);
	assert_null(trk_whereis(t, &k, 0));
	name_make(&n, "col", 2);
	k = trk_key_hashed(n.s, n.k.len, 0x1234);
	assert_int_equal(trk_whereis(t, &k, 0)->handle, 102);
	trk_stats(t, &st);
	assert_int_equal(st.entries, TRK_HASH_DUP_MAX - 1);
	trk_destroy(t);
}

static void
test_version_order(void **state)
{
	struct trk_version a = { .clock = 5, .node = 1 };
	struct trk_version b = { .clock = 5, .node = 2 };
	struct trk_version c = { .clock = 6, .node = 0 };
	struct trk *t = trk_make(1, 100, 0, 0);
	const struct trk_entry *e;
	struct trk_version far = { .clock = 1000, .node = 3 };
	struct name_buf n;
	struct reg_buf r;

	(void)state;
	assert_true(trk_version_cmp(&a, &b) < 0);
	assert_true(trk_version_cmp(&b, &a) > 0);
	assert_true(trk_version_cmp(&b, &c) < 0);
	assert_int_equal(trk_version_cmp(&a, &a), 0);

	name_make(&n, "dev", 1);
	reg_make(&r, &n.k, 1, 0);
	assert_int_equal(trk_register(t, &r.r, 0, &e), TRK_OK);
	assert_true(e->version.clock < 1000);
	trk_clock_observe(t, 0, &far);
	name_make(&n, "dev", 2);
	reg_make(&r, &n.k, 2, 0);
	assert_int_equal(trk_register(t, &r.r, 0, &e), TRK_OK);
	assert_true(trk_version_cmp(&e->version, &far) > 0);
	assert_string_equal(trk_status_str(TRK_EXISTS), "already_registered");
	assert_string_equal(trk_status_str(TRK_OK), "ok");
	trk_destroy(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_and_whereis),
		cmocka_unit_test(test_register_idempotent),
		cmocka_unit_test(test_register_updates_content),
		cmocka_unit_test(test_register_other_handle),
		cmocka_unit_test(test_unregister),
		cmocka_unit_test(test_whereis_or_register),
		cmocka_unit_test(test_invalid_inputs),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_capacity_full),
		cmocka_unit_test(test_precomputed_hash),
		cmocka_unit_test(test_hash_collisions),
		cmocka_unit_test(test_version_order),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
