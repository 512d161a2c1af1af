/*
 * test_proto_req.c - request datagrams: round trips of every op, the
 * encoder's limits, and the decoder's answer to each kind of bad op.
 */
#include "test_util.h"

static const uint64_t REQ_ID = 0x0102030405060708ull;

/* The last decoded copy: its views stay valid until the next decode. */
static uint8_t *kept_copy;

static int
free_kept(void **state)
{
	(void)state;
	free(kept_copy);
	kept_copy = NULL;
	return 0;
}

/* Decodes buf (through an exact-size copy) expecting every op to be valid. */
static int
decode_all(const uint8_t *buf, size_t len, struct proto_op *ops, int max)
{
	uint8_t *copy;
	struct proto_req req;
	int n = 0, rc;

	free_kept(NULL);
	copy = kept_copy = tu_dup(buf, len);

	assert_int_equal(proto_req_parse(&req, copy, len), PROTO_OK);
	assert_int_equal(req.req_id, REQ_ID);
	while ((rc = proto_req_next_op(&req, &ops[n])) == PROTO_OK) {
		assert_int_equal(ops[n].index, n);
		n++;
		assert_true(n <= max);
	}
	assert_int_equal(rc, PROTO_END);
	assert_int_equal(n, req.nops);
	return n;
}

/* One of every defined op; returns the datagram length. */
static size_t
build_all_ops(uint8_t *buf, size_t cap)
{
	struct proto_enc e;
	struct proto_endpoint ep4 = tu_ep4(10, 0, 0, 7, 4000);
	struct proto_endpoint ep6 = tu_ep6(9, 5683);
	uint64_t h = 77;

	assert_int_equal(proto_req_init(&e, buf, cap, REQ_ID), PROTO_OK);
	assert_int_equal(proto_req_add_register(&e, "dev-1", 5, 1001, &ep4,
				"meta", 4, 30000), PROTO_OK);
	assert_int_equal(proto_req_add_whereis_or_register(&e, "dev-2", 5, 1002,
				&ep6, NULL, 0, 0), PROTO_OK);
	assert_int_equal(proto_req_add_unregister(&e, "dev-3", 5, &h),
			PROTO_OK);
	assert_int_equal(proto_req_add_unregister(&e, "dev-4", 5, NULL),
			PROTO_OK);
	assert_int_equal(proto_req_add_whereis(&e, "dev-5", 5), PROTO_OK);
	assert_int_equal(proto_req_add_join(&e, "g", 1, "dev-1", 5), PROTO_OK);
	assert_int_equal(proto_req_add_leave(&e, "grp", 3, "dev-2", 5),
			PROTO_OK);
	assert_int_equal(proto_req_add_members(&e, "grp", 3, "cur", 3, 50),
			PROTO_OK);
	assert_int_equal(proto_req_add_registered(&e, NULL, 0, 0), PROTO_OK);
	assert_int_equal(proto_req_add_status(&e), PROTO_OK);
	return proto_enc_finish(&e);
}

static void
test_roundtrip_every_op(void **state)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	struct proto_op ops[16];
	struct proto_endpoint ep4 = tu_ep4(10, 0, 0, 7, 4000);
	struct proto_endpoint ep6 = tu_ep6(9, 5683);
	size_t len = build_all_ops(buf, sizeof(buf));
	int n;

	(void)state;
	assert_int_equal(len, 16 + 4 * 10 + (12 + 7 + 6 + 5) + (12 + 19 + 6 + 1)
			+ (6 + 8) + 6 + 6 + (2 + 6) + (4 + 6) + (2 + 4 + 4) +
			(2 + 1) + 0);
	n = decode_all(buf, len, ops, 16);
	assert_int_equal(n, 10);

	assert_int_equal(ops[0].opcode, PROTO_OP_REGISTER);
	assert_int_equal(ops[0].handle, 1001);
	assert_int_equal(ops[0].ttl_ms, 30000);
	tu_assert_ep(&ops[0].ep, &ep4);
	tu_assert_str(ops[0].name, "dev-1");
	tu_assert_str(ops[0].meta, "meta");

	assert_int_equal(ops[1].opcode, PROTO_OP_WHEREIS_OR_REGISTER);
	assert_int_equal(ops[1].handle, 1002);
	assert_int_equal(ops[1].ttl_ms, 0);
	tu_assert_ep(&ops[1].ep, &ep6);
	tu_assert_str(ops[1].meta, "");

	assert_int_equal(ops[2].opcode, PROTO_OP_UNREGISTER);
	assert_int_equal(ops[2].flags, PROTO_OPF_EXPECT_HANDLE);
	assert_int_equal(ops[2].handle, 77);
	tu_assert_str(ops[2].name, "dev-3");
	assert_int_equal(ops[3].flags, 0);
	tu_assert_str(ops[3].name, "dev-4");

	assert_int_equal(ops[4].opcode, PROTO_OP_WHEREIS);
	tu_assert_str(ops[4].name, "dev-5");
	assert_int_equal(ops[5].opcode, PROTO_OP_JOIN);
	tu_assert_str(ops[5].group, "g");
	tu_assert_str(ops[5].name, "dev-1");
	assert_int_equal(ops[6].opcode, PROTO_OP_LEAVE);
	tu_assert_str(ops[6].group, "grp");

	assert_int_equal(ops[7].opcode, PROTO_OP_MEMBERS);
	assert_int_equal(ops[7].max_count, 50);
	tu_assert_str(ops[7].group, "grp");
	tu_assert_str(ops[7].cursor, "cur");
	assert_int_equal(ops[8].opcode, PROTO_OP_REGISTERED);
	assert_int_equal(ops[8].cursor.len, 0);
	assert_int_equal(ops[9].opcode, PROTO_OP_STATUS);
	assert_int_equal(ops[9].body.len, 0);
}

/* Views must point into the input, not into a copy. */
static void
test_decode_is_zero_copy(void **state)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	size_t len = build_all_ops(buf, sizeof(buf));
	struct proto_req req;
	struct proto_op op;

	(void)state;
	assert_int_equal(proto_req_parse(&req, buf, len), PROTO_OK);
	assert_int_equal(proto_req_next_op(&req, &op), PROTO_OK);
	assert_true(op.name.ptr > buf && op.name.ptr < buf + len);
	assert_true(op.meta.ptr > op.name.ptr && op.meta.ptr < buf + len);
}

/* decode -> proto_req_add -> identical bytes, for every op. */
static void
test_reencode_is_identical(void **state)
{
	uint8_t buf[PROTO_MAX_DGRAM], out[PROTO_MAX_DGRAM];
	size_t len = build_all_ops(buf, sizeof(buf));
	struct proto_req req;
	struct proto_enc e;
	struct proto_op op;

	(void)state;
	assert_int_equal(proto_req_parse(&req, buf, len), PROTO_OK);
	assert_int_equal(proto_req_init(&e, out, sizeof(out), req.req_id),
			PROTO_OK);
	while (proto_req_next_op(&req, &op) == PROTO_OK)
		assert_int_equal(proto_req_add(&e, &op), PROTO_OK);
	assert_int_equal(proto_enc_finish(&e), len);
	assert_memory_equal(out, buf, len);
}

static void
test_header_bytes_are_as_documented(void **state)
{
	uint8_t buf[64];
	struct proto_enc e;
	const uint8_t want[16] = { 0x53, 0x57, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8,
		0, 1, 0, 0 };

	(void)state;
	assert_int_equal(proto_req_init(&e, buf, sizeof(buf), REQ_ID),
			PROTO_OK);
	assert_int_equal(proto_req_add_whereis(&e, "ab", 2), PROTO_OK);
	assert_int_equal(proto_enc_finish(&e), 16 + 4 + 3);
	assert_memory_equal(buf, want, 16);
	/* op header: opcode, flags, length 3; body: len 2, "ab" */
	assert_int_equal(buf[16], PROTO_OP_WHEREIS);
	assert_int_equal(buf[17], 0);
	assert_int_equal(buf[18], 0);
	assert_int_equal(buf[19], 3);
	assert_int_equal(buf[20], 2);
	assert_memory_equal(buf + 21, "ab", 2);
}

static void
test_endpoint_families(void **state)
{
	uint8_t buf[256];
	struct proto_enc e;
	struct proto_op ops[4];
	struct proto_endpoint none = { .family = PROTO_AF_NONE };
	struct proto_endpoint bad_fam = { .family = 5, .port = 1 };
	struct proto_endpoint v4_no_port = tu_ep4(1, 2, 3, 4, 0);
	struct proto_endpoint none_port = { .family = PROTO_AF_NONE,
		.port = 9 };
	size_t len;

	(void)state;
	assert_int_equal(proto_req_init(&e, buf, sizeof(buf), REQ_ID),
			PROTO_OK);
	assert_int_equal(proto_req_add_register(&e, "n", 1, 1, &none, NULL, 0,
				0), PROTO_OK);
	assert_int_equal(proto_req_add_register(&e, "n", 1, 1, &bad_fam, NULL,
				0, 0), PROTO_EINVAL);
	assert_int_equal(proto_req_add_register(&e, "n", 1, 1, &v4_no_port,
				NULL, 0, 0), PROTO_EINVAL);
	assert_int_equal(proto_req_add_register(&e, "n", 1, 1, &none_port,
				NULL, 0, 0), PROTO_EINVAL);
	assert_int_equal(proto_req_add_register(&e, "n", 1, 1, NULL, NULL, 0,
				0), PROTO_EINVAL);
	len = proto_enc_finish(&e);
	assert_int_equal(decode_all(buf, len, ops, 4), 1);
	assert_int_equal(ops[0].ep.family, PROTO_AF_NONE);
	assert_int_equal(ops[0].ep.port, 0);
}

static void
test_encoder_rejects_out_of_range(void **state)
{
	uint8_t buf[PROTO_MAX_DGRAM], before[PROTO_MAX_DGRAM];
	char big[300];
	struct proto_enc e;
	struct proto_endpoint ep = tu_ep4(1, 2, 3, 4, 5);
	struct proto_op op = { .opcode = PROTO_OP_WHEREIS, .flags = 0x80,
		.name = tu_str("x") };

	(void)state;
	memset(big, 'a', sizeof(big));
	assert_int_equal(proto_req_init(&e, buf, sizeof(buf), REQ_ID),
			PROTO_OK);
	memcpy(before, buf, sizeof(buf));
	assert_int_equal(proto_req_add_whereis(&e, big, 256), PROTO_EINVAL);
	assert_int_equal(proto_req_add_unregister(&e, big, 256, NULL),
			PROTO_EINVAL);
	assert_int_equal(proto_req_add_whereis(&e, big, 0), PROTO_EINVAL);
	assert_int_equal(proto_req_add_whereis(&e, NULL, 3), PROTO_EINVAL);
	assert_int_equal(proto_req_add_register(&e, "n", 1, 1, &ep, big, 256,
				0), PROTO_EINVAL);
	assert_int_equal(proto_req_add_join(&e, big, 256, "n", 1),
			PROTO_EINVAL);
	assert_int_equal(proto_req_add_leave(&e, "", 0, "n", 1), PROTO_EINVAL);
	assert_int_equal(proto_req_add_members(&e, "g", 1, big, 33, 1),
			PROTO_EINVAL);
	assert_int_equal(proto_req_add_registered(&e, big, 33, 1),
			PROTO_EINVAL);
	assert_int_equal(proto_req_add(&e, &op), PROTO_EINVAL);
	/* Refused adds wrote nothing. */
	assert_int_equal(e.nops, 0);
	assert_int_equal((size_t)(e.w.p - buf), PROTO_HDR_LEN);
	assert_memory_equal(buf, before, sizeof(buf));
	/* The largest legal values go through. */
	assert_int_equal(proto_req_add_register(&e, big, 255, 1, &ep, big, 255,
				0), PROTO_OK);
	assert_int_equal(proto_req_add_registered(&e, big, 32, 1), PROTO_OK);
	assert_int_equal(e.nops, 2);
	assert_int_equal(proto_enc_finish(&e), PROTO_HDR_LEN +
			4 + 12 + 7 + 256 + 256 + 4 + 2 + 33);
}

static void
test_encoder_refuses_ops_that_do_not_fit(void **state)
{
	uint8_t buf[200], snap[200];
	struct proto_op ops[8];
	struct proto_enc e;
	struct proto_endpoint ep = tu_ep4(1, 2, 3, 4, 5);
	size_t used;
	int added = 0, rc;

	(void)state;
	assert_int_equal(proto_req_init(&e, buf, sizeof(buf), REQ_ID),
			PROTO_OK);
	/* 16 + n * (4 + 12 + 7 + 25 + 17) = 16 + 65n <= 200 -> n = 2 */
	for (;;) {
		memcpy(snap, buf, sizeof(buf));
		used = (size_t)(e.w.p - buf);
		rc = proto_req_add_register(&e, "abcdefghijklmnopqrstuvwx", 24,
				(uint64_t)added, &ep, "0123456789abcdef", 16,
				0);
		if (rc != PROTO_OK)
			break;
		added++;
	}
	assert_int_equal(rc, PROTO_ENOSPC);
	assert_int_equal(added, 2);
	assert_int_equal(e.nops, 2);
	assert_int_equal((size_t)(e.w.p - buf), used);
	assert_memory_equal(snap, buf, sizeof(buf));
	/* A smaller op still fits in what is left. */
	assert_int_equal(proto_req_add_whereis(&e, "x", 1), PROTO_OK);
	assert_int_equal(decode_all(buf, proto_enc_finish(&e), ops, 8), 3);

	assert_int_equal(proto_req_init(&e, buf, PROTO_HDR_LEN - 1, 1),
			PROTO_ENOSPC);
	assert_int_equal(proto_req_init(&e, buf, PROTO_HDR_LEN, 1), PROTO_OK);
	assert_int_equal(proto_req_add_status(&e), PROTO_ENOSPC);
	assert_int_equal(proto_enc_finish(&e), 0);
}

/* The most ops a datagram can hold is PROTO_MAX_OPS empty STATUS ops. */
static void
test_capacity_is_clamped_to_max_dgram(void **state)
{
	static uint8_t buf[4096];
	struct proto_req req;
	struct proto_enc e;
	struct proto_op op;
	int n = 0;

	(void)state;
	assert_int_equal(PROTO_MAX_OPS, 364);
	assert_int_equal(proto_req_init(&e, buf, sizeof(buf), REQ_ID),
			PROTO_OK);
	while (proto_req_add_status(&e) == PROTO_OK)
		n++;
	assert_int_equal(n, PROTO_MAX_OPS);
	assert_int_equal(proto_enc_finish(&e), PROTO_MAX_DGRAM);
	assert_int_equal(proto_req_parse(&req, buf, PROTO_MAX_DGRAM),
			PROTO_OK);
	n = 0;
	while (proto_req_next_op(&req, &op) == PROTO_OK)
		n++;
	assert_int_equal(n, PROTO_MAX_OPS);
}

static void
test_raw_ops_and_names(void **state)
{
	(void)state;
	assert_string_equal(proto_opcode_name(PROTO_OP_WHEREIS_OR_REGISTER),
			"WHEREIS_OR_REGISTER");
	assert_string_equal(proto_opcode_name(0x7f), "?");
	assert_string_equal(proto_opcode_name(1000), "?");
	assert_string_equal(proto_status_name(PROTO_ST_HANDLE_MISMATCH),
			"handle_mismatch");
	assert_string_equal(proto_status_name(200), "?");
	assert_string_equal(proto_field_name(PROTO_F_OP_LENGTH), "op_length");
	assert_string_equal(proto_err_name(PROTO_EMALFORMED), "malformed");
	assert_string_equal(proto_err_name(PROTO_OK), "ok");
	assert_string_equal(proto_err_name(-100), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_every_op),
		cmocka_unit_test(test_decode_is_zero_copy),
		cmocka_unit_test(test_reencode_is_identical),
		cmocka_unit_test(test_header_bytes_are_as_documented),
		cmocka_unit_test(test_endpoint_families),
		cmocka_unit_test(test_encoder_rejects_out_of_range),
		cmocka_unit_test(test_encoder_refuses_ops_that_do_not_fit),
		cmocka_unit_test(test_capacity_is_clamped_to_max_dgram),
		cmocka_unit_test(test_raw_ops_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, free_kept);
}
