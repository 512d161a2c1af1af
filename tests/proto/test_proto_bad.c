/*
 * test_proto_bad.c - hostile request datagrams.
 *
 * Datagrams are built byte by byte (struct raw) so that they can be wrong
 * in exactly one way, then decoded from an exact-size heap copy so that
 * ASan catches any read past the end. Each test checks the documented
 * answer (docs/protocol.md section 8): which error, which field, and
 * whether the other ops of the datagram are still decoded.
 */
#include "test_util.h"

struct raw {
	uint8_t b[2048];
	size_t n;
};

static void
put8(struct raw *r, unsigned int v)
{
	r->b[r->n++] = (uint8_t)v;
}

static void
put16(struct raw *r, unsigned int v)
{
	put8(r, v >> 8);
	put8(r, v);
}

static void
put64(struct raw *r, uint64_t v)
{
	int i;

	for (i = 56; i >= 0; i -= 8)
		put8(r, (unsigned int)(v >> i));
}

static void
putmem(struct raw *r, const void *p, size_t n)
{
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

/* A valid request header announcing nops ops. */
static void
hdr(struct raw *r, unsigned int nops)
{
	r->n = 0;
	put16(r, PROTO_MAGIC);
	put8(r, PROTO_VERSION);
	put8(r, 0);
	put64(r, 42);
	put16(r, nops);
	put16(r, 0);
}

static void
op(struct raw *r, unsigned int opcode, unsigned int flags, const void *body,
		size_t blen)
{
	put8(r, opcode);
	put8(r, flags);
	put16(r, (unsigned int)blen);
	putmem(r, body, blen);
}

/* A valid WHEREIS "ok", used as the op after a bad one. */
static void
good_op(struct raw *r)
{
	op(r, PROTO_OP_WHEREIS, 0, "\002ok", 3);
}

/* Parses r, which must be framed correctly. */
static void
parse_ok(const struct raw *r, struct proto_req *req, uint8_t **copy)
{
	*copy = tu_dup(r->b, r->n);
	assert_int_equal(proto_req_parse(req, *copy, r->n), PROTO_OK);
}

/* Expects the framing to be refused as a whole, naming field. */
static void
expect_parse_error(const struct raw *r, int err, uint8_t field)
{
	uint8_t *copy = tu_dup(r->b, r->n);
	struct proto_req req;
	struct proto_op o;

	assert_int_equal(proto_req_parse(&req, copy, r->n), err);
	if (err == PROTO_EMALFORMED)
		assert_int_equal(req.bad_field, field);
	/* Nothing of a refused datagram may be handed out. */
	assert_int_equal(proto_req_next_op(&req, &o), PROTO_END);
	free(copy);
}

/* Expects op 0 to fail with (err, field) and op 1 to be the good op. */
static void
expect_first_op_error(const struct raw *r, int err, uint8_t field)
{
	struct proto_req req;
	struct proto_op o;
	uint8_t *copy;

	parse_ok(r, &req, &copy);
	assert_int_equal(proto_req_next_op(&req, &o), err);
	assert_int_equal(o.index, 0);
	if (err == PROTO_EMALFORMED)
		assert_int_equal(o.bad_field, field);
	assert_int_equal(proto_req_next_op(&req, &o), PROTO_OK);
	assert_int_equal(o.index, 1);
	tu_assert_str(o.name, "ok");
	assert_int_equal(proto_req_next_op(&req, &o), PROTO_END);
	free(copy);
}

static size_t
build_multi(uint8_t *buf, size_t cap, size_t *bounds, int *nbounds)
{
	struct proto_endpoint ep = tu_ep6(1, 9000);
	struct proto_enc e;
	uint64_t h = 5;

	assert_int_equal(proto_req_init(&e, buf, cap, 9), PROTO_OK);
	*nbounds = 0;
	bounds[(*nbounds)++] = PROTO_HDR_LEN;
	assert_int_equal(proto_req_add_register(&e, "device-000001", 13, 1,
				&ep, "m", 1, 1000), PROTO_OK);
	bounds[(*nbounds)++] = (size_t)(e.w.p - buf);
	assert_int_equal(proto_req_add_unregister(&e, "d", 1, &h), PROTO_OK);
	bounds[(*nbounds)++] = (size_t)(e.w.p - buf);
	assert_int_equal(proto_req_add_status(&e), PROTO_OK);
	bounds[(*nbounds)++] = (size_t)(e.w.p - buf);
	assert_int_equal(proto_req_add_members(&e, "grp", 3, "c", 1, 7),
			PROTO_OK);
	bounds[(*nbounds)++] = (size_t)(e.w.p - buf);
	return proto_enc_finish(&e);
}

static bool
is_bound(const size_t *bounds, int n, size_t off, int *complete)
{
	int i;

	for (i = 0; i < n; i++)
		if (bounds[i] == off) {
			*complete = i;
			return true;
		}
	return false;
}

/* Ops whose bytes lie wholly inside the first off bytes. */
static int
ops_before(const size_t *bounds, int n, size_t off)
{
	int i, k = 0;

	for (i = 1; i < n; i++)
		if (bounds[i] <= off)
			k = i;
	return k;
}

/*
 * Every prefix of a valid datagram: rejected as a whole (the count says
 * more ops), and with the count patched to the ops present, either decoded
 * cleanly to fewer ops (cut on an op boundary) or rejected (cut inside).
 */
static void
test_truncation_at_every_offset(void **state)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	size_t bounds[8], off, len;
	int nb, complete, k;

	(void)state;
	len = build_multi(buf, sizeof(buf), bounds, &nb);
	for (off = 0; off < len; off++) {
		struct proto_req req;
		struct proto_op o;
		uint8_t *copy = tu_dup(buf, off);
		bool at_bound = is_bound(bounds, nb, off, &complete);
		int rc = proto_req_parse(&req, copy, off);

		if (off < PROTO_HDR_LEN) {
			assert_int_equal(rc, PROTO_ESHORT);
		} else {
			assert_int_equal(rc, PROTO_EMALFORMED);
			assert_int_equal(req.bad_field, at_bound ?
					PROTO_F_OP_COUNT : PROTO_F_OP_LENGTH);
		}
		assert_int_equal(proto_req_next_op(&req, &o), PROTO_END);

		k = ops_before(bounds, nb, off);
		if (off >= PROTO_HDR_LEN && k > 0) {
			proto_put_u16_at(copy + 12, (uint16_t)k);
			rc = proto_req_parse(&req, copy, off);
			if (at_bound) {
				int n = 0;

				assert_int_equal(rc, PROTO_OK);
				while (proto_req_next_op(&req, &o) == PROTO_OK)
					n++;
				assert_int_equal(n, k);
			} else {
				assert_int_equal(rc, PROTO_EMALFORMED);
				assert_int_equal(req.bad_field,
						PROTO_F_TRAILING);
			}
		}
		free(copy);
	}
}

static void
test_op_length_larger_than_content(void **state)
{
	struct raw r;

	(void)state;
	hdr(&r, 2);
	op(&r, PROTO_OP_WHEREIS, 0, "\003abcXY", 6);
	good_op(&r);
	expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_OP_LENGTH);

	hdr(&r, 2);
	op(&r, PROTO_OP_STATUS, 0, "Z", 1);
	good_op(&r);
	expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_OP_LENGTH);
}

/* A REGISTER body cut at every length names the field it was cut in. */
static void
test_op_length_smaller_than_content(void **state)
{
	struct raw body, r;
	size_t k;

	(void)state;
	body.n = 0;
	put64(&body, 7);			/* handle   [0, 8) */
	put16(&body, 0);			/* ttl      [8, 12) */
	put16(&body, 1000);
	put8(&body, PROTO_AF_IPV4);		/* endpoint [12, 19) */
	put16(&body, 53);
	putmem(&body, "\x0a\x00\x00\x01", 4);
	put8(&body, 4);				/* name     [19, 24) */
	putmem(&body, "dev1", 4);
	put8(&body, 2);				/* metadata [24, 27) */
	putmem(&body, "mm", 2);
	for (k = 0; k < body.n; k++) {
		uint8_t want = k < 8 ? PROTO_F_HANDLE : k < 12 ? PROTO_F_TTL :
			k < 19 ? PROTO_F_ENDPOINT : k < 24 ? PROTO_F_NAME :
			PROTO_F_METADATA;

		hdr(&r, 2);
		op(&r, PROTO_OP_REGISTER, 0, body.b, k);
		good_op(&r);
		expect_first_op_error(&r, PROTO_EMALFORMED, want);
	}
	hdr(&r, 2);
	op(&r, PROTO_OP_REGISTER, 0, body.b, body.n);
	good_op(&r);
	{
		struct proto_req req;
		struct proto_op o;
		uint8_t *copy;

		parse_ok(&r, &req, &copy);
		assert_int_equal(proto_req_next_op(&req, &o), PROTO_OK);
		tu_assert_str(o.name, "dev1");
		tu_assert_str(o.meta, "mm");
		assert_int_equal(o.ttl_ms, 1000);
		free(copy);
	}
}

static void
test_unknown_opcodes_are_skipped(void **state)
{
	static const uint8_t codes[] = { 0x00, PROTO_OP_REGISTER_MANAGED,
		PROTO_OP_SEND, 0x33, 0x40, 0x80, 0xff };
	struct proto_req req;
	struct proto_op o;
	struct raw r;
	uint8_t *copy;
	size_t i;

	(void)state;
	hdr(&r, sizeof(codes) + 1);
	for (i = 0; i < sizeof(codes); i++)
		op(&r, codes[i], 0xff, "payload", i);
	good_op(&r);
	parse_ok(&r, &req, &copy);
	for (i = 0; i < sizeof(codes); i++) {
		assert_int_equal(proto_req_next_op(&req, &o), PROTO_EUNSUPP);
		assert_int_equal(o.index, i);
		assert_int_equal(o.opcode, codes[i]);
		tu_assert_bytes(o.body, "payload", i);
	}
	assert_int_equal(proto_req_next_op(&req, &o), PROTO_OK);
	tu_assert_str(o.name, "ok");
	free(copy);
}

static void
test_empty_and_oversized_strings(void **state)
{
	struct raw r;
	char cur[40];

	(void)state;
	hdr(&r, 2);
	op(&r, PROTO_OP_WHEREIS, 0, "\000", 1);
	good_op(&r);
	expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_NAME);

	hdr(&r, 2);
	op(&r, PROTO_OP_JOIN, 0, "\000\001n", 3);
	good_op(&r);
	expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_GROUP);

	hdr(&r, 2);
	op(&r, PROTO_OP_JOIN, 0, "\001g\000", 3);
	good_op(&r);
	expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_NAME);

	/* Cursor of 33 bytes: one more than the limit. */
	cur[0] = 0;
	cur[1] = 1;
	cur[2] = 33;
	memset(cur + 3, 'c', 33);
	hdr(&r, 2);
	op(&r, PROTO_OP_REGISTERED, 0, cur, 36);
	good_op(&r);
	expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_CURSOR);

	/* A name length byte of 255 with 3 bytes behind it. */
	hdr(&r, 2);
	op(&r, PROTO_OP_WHEREIS, 0, "\377abc", 4);
	good_op(&r);
	expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_NAME);

	hdr(&r, 2);
	op(&r, PROTO_OP_MEMBERS, 0, "\000", 1);
	good_op(&r);
	expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_MAX_COUNT);
}

static void
test_op_flags(void **state)
{
	struct raw r;

	(void)state;
	hdr(&r, 2);
	op(&r, PROTO_OP_WHEREIS, PROTO_OPF_EXPECT_HANDLE, "\001n", 2);
	good_op(&r);
	expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_OP_FLAGS);

	hdr(&r, 2);
	op(&r, PROTO_OP_UNREGISTER, 0x02, "\001n", 2);
	good_op(&r);
	expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_OP_FLAGS);

	/* EXPECT_HANDLE set, handle missing or cut short. */
	hdr(&r, 2);
	op(&r, PROTO_OP_UNREGISTER, PROTO_OPF_EXPECT_HANDLE, "\001n", 2);
	good_op(&r);
	expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_HANDLE);

	hdr(&r, 2);
	op(&r, PROTO_OP_UNREGISTER, PROTO_OPF_EXPECT_HANDLE,
			"\001n\0\0\0\1", 6);
	good_op(&r);
	expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_HANDLE);

	/* Handle present without the flag: bytes left over. */
	hdr(&r, 2);
	op(&r, PROTO_OP_UNREGISTER, 0, "\001n\0\0\0\0\0\0\0\1", 10);
	good_op(&r);
	expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_OP_LENGTH);
}

static void
test_bad_endpoints_on_wire(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
	} eps[] = {
		{ "\005\000\001", 3 },			/* unknown family */
		{ "\004\000\000\001\002\003\004", 7 },	/* IPv4, port 0 */
		{ "\000\000\007", 3 },			/* none with a port */
		{ "\006\000\001\001\002\003", 6 },	/* IPv6 cut short */
	};
	struct raw body, r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		body.n = 0;
		put64(&body, 1);
		put16(&body, 0);
		put16(&body, 0);
		putmem(&body, eps[i].bytes, eps[i].len);
		putmem(&body, "\001n\000", 3);
		hdr(&r, 2);
		op(&r, PROTO_OP_WHEREIS_OR_REGISTER, 0, body.b, body.n);
		good_op(&r);
		expect_first_op_error(&r, PROTO_EMALFORMED, PROTO_F_ENDPOINT);
	}
}

static void
test_op_count_checks(void **state)
{
	struct raw r;

	(void)state;
	hdr(&r, 0);
	expect_parse_error(&r, PROTO_EMALFORMED, PROTO_F_OP_COUNT);
	hdr(&r, 0);				/* zero count, op present */
	good_op(&r);
	expect_parse_error(&r, PROTO_EMALFORMED, PROTO_F_OP_COUNT);
	hdr(&r, 3);				/* count above ops */
	good_op(&r);
	good_op(&r);
	expect_parse_error(&r, PROTO_EMALFORMED, PROTO_F_OP_COUNT);
	hdr(&r, 1);				/* count below ops */
	good_op(&r);
	good_op(&r);
	expect_parse_error(&r, PROTO_EMALFORMED, PROTO_F_TRAILING);
	hdr(&r, 0xffff);			/* absurd count */
	good_op(&r);
	expect_parse_error(&r, PROTO_EMALFORMED, PROTO_F_OP_COUNT);
}

static void
test_trailing_garbage(void **state)
{
	struct raw r;
	size_t extra;

	(void)state;
	for (extra = 1; extra <= 5; extra++) {
		hdr(&r, 1);
		good_op(&r);
		memset(r.b + r.n, 0, extra);
		r.n += extra;
		expect_parse_error(&r, PROTO_EMALFORMED, PROTO_F_TRAILING);
	}
	/* An op length running past the end. */
	hdr(&r, 1);
	op(&r, PROTO_OP_WHEREIS, 0, "\002ok", 3);
	r.b[r.n - 4] = 4;
	expect_parse_error(&r, PROTO_EMALFORMED, PROTO_F_OP_LENGTH);
}

static void
test_header_checks(void **state)
{
	static const uint8_t zeros[PROTO_MAX_DGRAM];
	struct proto_req req;
	struct raw r;

	(void)state;
	hdr(&r, 1);
	good_op(&r);
	r.b[0] = 'X';
	expect_parse_error(&r, PROTO_EMAGIC, 0);

	hdr(&r, 1);
	good_op(&r);
	r.b[2] = 2;
	expect_parse_error(&r, PROTO_EVERSION, 0);
	/* The request id is known, so a bad_version answer can be sent. */
	assert_int_equal(proto_req_parse(&req, r.b, r.n), PROTO_EVERSION);
	assert_int_equal(req.req_id, 42);

	hdr(&r, 1);
	good_op(&r);
	r.b[3] = PROTO_FLAG_REPLY;
	expect_parse_error(&r, PROTO_EKIND, 0);

	hdr(&r, 1);
	good_op(&r);
	r.b[3] = 0x08;		/* bit 3: reserved */
	expect_parse_error(&r, PROTO_EMALFORMED, PROTO_F_FLAGS);

	/* bits 1..2 of a request: REPLICAS */
	for (unsigned int k = 0; k <= PROTO_REPLICAS_ALL; k++) {
		uint8_t *copy;
		struct proto_req rq;

		hdr(&r, 1);
		good_op(&r);
		r.b[3] = (uint8_t)(k << PROTO_FLAG_REPLICAS_SHIFT);
		copy = tu_dup(r.b, r.n);
		assert_int_equal(proto_req_parse(&rq, copy, r.n), PROTO_OK);
		assert_int_equal(rq.replicas, k);
		free(copy);
	}

	hdr(&r, 1);
	good_op(&r);
	r.b[15] = 1;
	expect_parse_error(&r, PROTO_EMALFORMED, PROTO_F_RESERVED);

	hdr(&r, 1);
	op(&r, 0x80, 0, zeros, PROTO_MAX_DGRAM + 1 - PROTO_HDR_LEN - 4);
	assert_int_equal(r.n, PROTO_MAX_DGRAM + 1);
	expect_parse_error(&r, PROTO_ETOOLARGE, 0);
	r.n--;
	r.b[19]--;
	{
		uint8_t *copy = tu_dup(r.b, r.n);

		assert_int_equal(proto_req_parse(&req, copy, r.n), PROTO_OK);
		free(copy);
	}

	hdr(&r, 1);
	r.n = PROTO_HDR_LEN - 1;
	expect_parse_error(&r, PROTO_ESHORT, 0);
	assert_int_equal(proto_req_parse(&req, NULL, 100), PROTO_ESHORT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncation_at_every_offset),
		cmocka_unit_test(test_op_length_larger_than_content),
		cmocka_unit_test(test_op_length_smaller_than_content),
		cmocka_unit_test(test_unknown_opcodes_are_skipped),
		cmocka_unit_test(test_empty_and_oversized_strings),
		cmocka_unit_test(test_op_flags),
		cmocka_unit_test(test_bad_endpoints_on_wire),
		cmocka_unit_test(test_op_count_checks),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_header_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
