/*
 * test_proto_stats.c - the STATS op: the request (empty body), counter
 * lists in replies (round trip, byte layout, re-encoding, encoder limits)
 * and the decoder's answer to malformed counter lists.
 */
#include "test_util.h"

static const uint64_t REQ_ID = 0x0102030405060708ull;

static const char NAME64[] =
	"abcdefghijklmnopqrstuvwxyz0123456789_.abcdefghijklmnopqrstuvwxyz";

/* A reply datagram with one STATS ok op whose body is body[0..len). */
static size_t
stats_dgram(uint8_t *out, const uint8_t *body, size_t len)
{
	static const uint8_t hdr[] = { 0x53, 0x57, 1, PROTO_FLAG_REPLY,
		1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 0,
		0, 0, PROTO_OP_STATS, PROTO_ST_OK };

	memcpy(out, hdr, sizeof(hdr));
	out[sizeof(hdr)] = (uint8_t)(len >> 8);
	out[sizeof(hdr) + 1] = (uint8_t)len;
	if (len)
		memcpy(out + sizeof(hdr) + 2, body, len);
	return sizeof(hdr) + 2 + len;
}

/* Decodes the single op of buf from an exact-size copy; returns the rc. */
static int
decode_one(const uint8_t *buf, size_t len, struct proto_reply *r,
		uint8_t **copy)
{
	struct proto_rep rep;

	*copy = tu_dup(buf, len);
	assert_int_equal(proto_rep_parse(&rep, *copy, len), PROTO_OK);
	return proto_rep_next(&rep, r);
}

static void
test_body_kind(void **state)
{
	(void)state;
	assert_int_equal(proto_rep_body_kind(PROTO_OP_STATS, PROTO_ST_OK),
			PROTO_BODY_STATS);
	assert_int_equal(proto_rep_body_kind(PROTO_OP_STATS,
				PROTO_ST_UNSUPPORTED), PROTO_BODY_EMPTY);
	assert_int_equal(proto_rep_body_kind(PROTO_OP_STATS,
				PROTO_ST_BAD_REQUEST), PROTO_BODY_FIELD);
	assert_string_equal(proto_opcode_name(PROTO_OP_STATS), "STATS");
	/* The largest list of the documented limits fits a reply datagram. */
	assert_int_equal(PROTO_REP_BODY_MAX, 1450);
	assert_true(2 + PROTO_STATS_MAX * (1 + 1 + 8) <= PROTO_REP_BODY_MAX);
}

static void
test_request(void **state)
{
	static const uint8_t x[] = { 'x' };
	uint8_t buf[128], out[128];
	struct proto_enc e, e2;
	struct proto_req req;
	struct proto_op op;
	uint8_t *copy;
	size_t len;

	(void)state;
	assert_int_equal(proto_req_init(&e, buf, sizeof(buf), REQ_ID), 0);
	assert_int_equal(proto_req_add_stats(&e), PROTO_OK);
	assert_int_equal(proto_req_add_raw(&e, PROTO_OP_STATS, 0, x, 1), 0);
	assert_int_equal(proto_req_add_raw(&e, PROTO_OP_STATS, 1, NULL, 0), 0);
	len = proto_enc_finish(&e);
	/* header, then 31 00 00 00 */
	assert_int_equal(len, 16 + 4 + 5 + 4);
	assert_int_equal(buf[16], 0x31);
	assert_int_equal(buf[17], 0);
	assert_int_equal(buf[18], 0);
	assert_int_equal(buf[19], 0);
	copy = tu_dup(buf, len);
	assert_int_equal(proto_req_parse(&req, copy, len), PROTO_OK);
	assert_int_equal(proto_req_next_op(&req, &op), PROTO_OK);
	assert_int_equal(op.opcode, PROTO_OP_STATS);
	assert_int_equal(op.body.len, 0);
	/* re-encoded byte for byte */
	assert_int_equal(proto_req_init(&e2, out, sizeof(out), REQ_ID), 0);
	assert_int_equal(proto_req_add(&e2, &op), PROTO_OK);
	assert_int_equal(proto_enc_finish(&e2), 16 + 4);
	assert_memory_equal(out + 16, buf + 16, 4);
	/* a body is malformed, as for STATUS */
	assert_int_equal(proto_req_next_op(&req, &op), PROTO_EMALFORMED);
	assert_int_equal(op.bad_field, PROTO_F_OP_LENGTH);
	assert_int_equal(op.opcode, PROTO_OP_STATS);
	/* STATS defines no op flags */
	assert_int_equal(proto_req_next_op(&req, &op), PROTO_EMALFORMED);
	assert_int_equal(op.bad_field, PROTO_F_OP_FLAGS);
	assert_int_equal(proto_req_next_op(&req, &op), PROTO_END);
	free(copy);
}

static void
test_round_trip(void **state)
{
	static const char *const names[] = { "rx_pkts", "drop.ip_cksum",
		NAME64, "z" };
	static const uint64_t values[] = { 42, 0, UINT64_MAX,
		0x0102030405060708ull };
	uint8_t buf[PROTO_MAX_DGRAM], again[PROTO_MAX_DGRAM];
	struct proto_stats_iter it;
	struct proto_bytes name;
	struct proto_reply r;
	struct proto_enc e;
	uint64_t v;
	uint8_t *copy;
	size_t len, blen, i;

	(void)state;
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID), 0);
	assert_int_equal(proto_rep_add_stats(&e, 7, names, values, 4),
			PROTO_OK);
	len = proto_enc_finish(&e);
	blen = 2 + (1 + 7 + 8) + (1 + 13 + 8) + (1 + 64 + 8) + (1 + 1 + 8);
	assert_int_equal(len, 16 + 6 + blen);
	/* op header, count, then the first counter as documented */
	assert_int_equal(buf[18], PROTO_OP_STATS);
	assert_int_equal(buf[19], PROTO_ST_OK);
	assert_int_equal(buf[20] << 8 | buf[21], blen);
	assert_int_equal(buf[22] << 8 | buf[23], 4);
	assert_int_equal(buf[24], 7);
	assert_memory_equal(buf + 25, "rx_pkts", 7);
	assert_memory_equal(buf + 32, "\0\0\0\0\0\0\0\x2a", 8);

	assert_int_equal(decode_one(buf, len, &r, &copy), PROTO_OK);
	assert_int_equal(r.index, 7);
	assert_int_equal(r.u.stats.count, 4);
	assert_int_equal(r.u.stats.items.len, blen - 2);
	proto_stats_iter_init(&it, &r.u.stats);
	for (i = 0; i < 4; i++) {
		assert_int_equal(proto_stats_next(&it, &name, &v), PROTO_OK);
		tu_assert_str(name, names[i]);
		assert_true(v == values[i]);
	}
	assert_int_equal(proto_stats_next(&it, &name, &v), PROTO_END);

	/* proto_rep_add() gives the same bytes back */
	assert_int_equal(proto_rep_init(&e, again, sizeof(again), REQ_ID), 0);
	assert_int_equal(proto_rep_add(&e, &r), PROTO_OK);
	assert_int_equal(proto_enc_finish(&e), len);
	assert_memory_equal(again, copy, len);
	free(copy);

	/* an empty list */
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID), 0);
	assert_int_equal(proto_rep_add_stats(&e, 0, NULL, NULL, 0), PROTO_OK);
	len = proto_enc_finish(&e);
	assert_int_equal(len, 16 + 6 + 2);
	assert_int_equal(decode_one(buf, len, &r, &copy), PROTO_OK);
	assert_int_equal(r.u.stats.count, 0);
	proto_stats_iter_init(&it, &r.u.stats);
	assert_int_equal(proto_stats_next(&it, &name, &v), PROTO_END);
	free(copy);
}

/* PROTO_STATS_MAX distinct names of len bytes each ("a0000".."a0063"). */
static void
make_names(char store[][PROTO_STATS_NAME_MAX + 1], const char **names,
		size_t n, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(store[i], 'a', len);
		store[i][len] = '\0';
		snprintf(store[i] + len - 4, 5, "%04u",
			(unsigned int)(i % 10000));
		names[i] = store[i];
	}
}

static void
test_encoder_limits(void **state)
{
	static char store[PROTO_STATS_MAX + 1][PROTO_STATS_NAME_MAX + 1];
	const char *names[PROTO_STATS_MAX + 1];
	uint64_t values[PROTO_STATS_MAX + 1] = { 0 };
	static const char *const bad[] = { "", "Rx", "a-b", "a b", "a/b",
		"\xc3\xa9" };
	char n65[66];
	const char *one[1];
	const char *dup[2] = { "same", "same" };
	uint8_t buf[PROTO_MAX_DGRAM], small[40];
	struct proto_reply r;
	struct proto_enc e;
	uint8_t *copy;
	size_t i, len;

	(void)state;
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		one[0] = bad[i];
		assert_int_equal(proto_rep_add_stats(&e, 0, one, values, 1),
				PROTO_EINVAL);
		assert_false(proto_stats_name_ok(bad[i], strlen(bad[i])));
	}
	memset(n65, 'a', 65);
	n65[65] = '\0';
	one[0] = n65;
	assert_int_equal(proto_rep_add_stats(&e, 0, one, values, 1),
			PROTO_EINVAL);
	one[0] = NULL;
	assert_int_equal(proto_rep_add_stats(&e, 0, one, values, 1),
			PROTO_EINVAL);
	assert_int_equal(proto_rep_add_stats(&e, 0, dup, values, 2),
			PROTO_EINVAL);
	assert_int_equal(proto_rep_add_stats(&e, 0, NULL, values, 1),
			PROTO_EINVAL);
	assert_true(proto_stats_name_ok(NAME64, 64));
	assert_true(proto_stats_name_ok("ops.ok", 6));

	/* 64 short names fit; 65 are too many */
	make_names(store, names, PROTO_STATS_MAX + 1, 5);
	assert_int_equal(proto_rep_add_stats(&e, 0, names, values,
				PROTO_STATS_MAX + 1), PROTO_EINVAL);
	assert_int_equal(e.nops, 0);
	assert_int_equal(proto_rep_add_stats(&e, 0, names, values,
				PROTO_STATS_MAX), PROTO_OK);
	len = proto_enc_finish(&e);
	assert_int_equal(decode_one(buf, len, &r, &copy), PROTO_OK);
	assert_int_equal(r.u.stats.count, PROTO_STATS_MAX);
	free(copy);

	/* A body of exactly 1450 bytes fits an empty datagram; 1451 is
	 * refused. 19 names of 64 and one of 52: 2 + 19*73 + 61 = 1450. */
	make_names(store, names, 20, 64);
	store[19][52] = '\0';
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID), 0);
	assert_int_equal(proto_rep_add_stats(&e, 0, names, values, 20),
			PROTO_OK);
	len = proto_enc_finish(&e);
	assert_int_equal(len, PROTO_MAX_DGRAM);
	assert_int_equal(decode_one(buf, len, &r, &copy), PROTO_OK);
	assert_int_equal(r.u.stats.count, 20);
	free(copy);
	store[19][52] = 'a';
	store[19][53] = '\0';
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID), 0);
	assert_int_equal(proto_rep_add_stats(&e, 0, names, values, 20),
			PROTO_EINVAL);

	/* No room: ENOSPC, nothing written */
	assert_int_equal(proto_rep_init(&e, small, sizeof(small), REQ_ID), 0);
	assert_int_equal(proto_rep_add_stats(&e, 0, names, values, 1),
			PROTO_ENOSPC);
	assert_int_equal(e.nops, 0);
	assert_int_equal(e.w.left, sizeof(small) - PROTO_HDR_LEN);
}

/* A counter: str8 name and a u64 value, appended at p. */
static size_t
counter(uint8_t *p, const void *name, size_t len, uint64_t v)
{
	size_t i;

	p[0] = (uint8_t)len;
	memcpy(p + 1, name, len);
	for (i = 0; i < 8; i++)
		p[1 + len + i] = (uint8_t)(v >> (56 - 8 * i));
	return 1 + len + 8;
}

static void
expect_bad(const uint8_t *body, size_t len, uint8_t field)
{
	uint8_t dg[PROTO_MAX_DGRAM];
	struct proto_reply r;
	uint8_t *copy;
	size_t n = stats_dgram(dg, body, len);

	assert_int_equal(decode_one(dg, n, &r, &copy), PROTO_EMALFORMED);
	assert_int_equal(r.bad_field, field);
	assert_int_equal(r.opcode, PROTO_OP_STATS);
	tu_assert_bytes(r.body, body, len);
	free(copy);
}

static void
test_malformed_lists(void **state)
{
	uint8_t b[PROTO_MAX_DGRAM];
	size_t n, i;
	static const char *const bad[] = { "A", "rx-pkts", "a b", "\x00",
		"a\xff", "\xc3\xa9" };
	char n65[65];

	(void)state;
	/* bad name characters, in the first or a later counter */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = bad[i][0] ? strlen(bad[i]) : 1;

		b[0] = 0;
		b[1] = 1;
		n = 2 + counter(b + 2, bad[i], len, 1);
		expect_bad(b, n, PROTO_F_NAME);
		b[1] = 2;
		n = 2 + counter(b + 2, "ok", 2, 1);
		n += counter(b + n, bad[i], len, 1);
		expect_bad(b, n, PROTO_F_NAME);
	}
	/* empty name, name of 65 bytes, repeated name */
	b[0] = 0;
	b[1] = 1;
	n = 2 + counter(b + 2, "", 0, 1);
	expect_bad(b, n, PROTO_F_NAME);
	memset(n65, 'a', sizeof(n65));
	n = 2 + counter(b + 2, n65, 65, 1);
	expect_bad(b, n, PROTO_F_NAME);
	b[1] = 3;
	n = 2 + counter(b + 2, "x", 1, 1);
	n += counter(b + n, "y", 1, 2);
	n += counter(b + n, "x", 1, 3);
	expect_bad(b, n, PROTO_F_NAME);
	/* count larger than the counters present: cut short */
	b[1] = 3;
	n = 2 + counter(b + 2, "x", 1, 1);
	n += counter(b + n, "y", 1, 2);
	expect_bad(b, n, PROTO_F_NAME);
	/* count smaller: bytes left over */
	b[1] = 1;
	expect_bad(b, n, PROTO_F_OP_LENGTH);
	/* count 0 with a counter after it */
	b[1] = 0;
	expect_bad(b, n, PROTO_F_OP_LENGTH);
	/* more than PROTO_STATS_MAX counters */
	b[0] = 0;
	b[1] = PROTO_STATS_MAX + 1;
	n = 2;
	for (i = 0; i < PROTO_STATS_MAX + 1; i++) {
		char nm[8];

		snprintf(nm, sizeof(nm), "c%zu", i);
		n += counter(b + n, nm, strlen(nm), i);
	}
	expect_bad(b, n, PROTO_F_BODY);
	/* no count at all, half a count */
	expect_bad(b, 0, PROTO_F_BODY);
	expect_bad(b, 1, PROTO_F_BODY);
}

static void
test_truncation_at_every_offset(void **state)
{
	static const char *const names[] = { "requests", "ops.ok",
		"drop.short" };
	static const uint64_t values[] = { 1, 2, 3 };
	uint8_t buf[PROTO_MAX_DGRAM], dg[PROTO_MAX_DGRAM];
	struct proto_enc e;
	struct proto_reply r;
	struct proto_rep rep;
	const uint8_t *body;
	uint8_t *copy;
	size_t len, blen, cut;

	(void)state;
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID), 0);
	assert_int_equal(proto_rep_add_stats(&e, 0, names, values, 3), 0);
	len = proto_enc_finish(&e);
	body = buf + 16 + 6;
	blen = len - 16 - 6;
	/* The body cut at every offset (op length says so): malformed. */
	for (cut = 0; cut < blen; cut++) {
		size_t n = stats_dgram(dg, body, cut);

		assert_int_equal(decode_one(dg, n, &r, &copy),
				PROTO_EMALFORMED);
		assert_true(r.bad_field == PROTO_F_BODY ||
				r.bad_field == PROTO_F_NAME);
		free(copy);
	}
	/* The datagram cut at every offset: the framing fails first. */
	for (cut = 0; cut < len; cut++) {
		copy = tu_dup(buf, cut);
		assert_int_not_equal(proto_rep_parse(&rep, copy, cut),
				PROTO_OK);
		free(copy);
	}
	assert_int_equal(decode_one(buf, len, &r, &copy), PROTO_OK);
	free(copy);
}

/* A list that did not come from the decoder: the iterator still stops. */
static void
test_iterator_on_bad_list(void **state)
{
	static const uint8_t items[] = { 3, 'a', 'b' };
	struct proto_stats st = { .count = 2, .items = { items, 3 } };
	struct proto_stats_iter it;
	struct proto_bytes name;
	uint8_t buf[64];
	struct proto_enc e;
	uint64_t v;

	(void)state;
	proto_stats_iter_init(&it, &st);
	assert_int_equal(proto_stats_next(&it, &name, &v), PROTO_EMALFORMED);
	assert_int_equal(proto_stats_next(&it, &name, &v), PROTO_END);
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID), 0);
	assert_int_equal(proto_rep_add_stats_list(&e, 0, &st), PROTO_EINVAL);
	assert_int_equal(e.nops, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_kind),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encoder_limits),
		cmocka_unit_test(test_malformed_lists),
		cmocka_unit_test(test_truncation_at_every_offset),
		cmocka_unit_test(test_iterator_on_bad_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
