/*
 * test_proto_rep.c - reply datagrams: every reply kind round trip, pages,
 * splitting the replies of one request over several datagrams, and the
 * decoder's answer to malformed replies.
 */
#include "test_util.h"

static const uint64_t REQ_ID = 0xfeedfacecafebeefull;

static struct proto_entry
sample_entry(const char *name, const char *meta, uint64_t handle)
{
	struct proto_entry e = {
		.handle = handle, .node = 3,
		.ver = { .clock = 0x1122334455667788ull, .node = 4 },
		.ttl_ms = 60000, .ep = tu_ep4(192, 168, 1, 20, 7000),
		.name = tu_str(name), .meta = tu_str(meta),
	};

	return e;
}

/* Decodes the single reply op of buf from an exact-size copy. */
static uint8_t *
decode_one(const uint8_t *buf, size_t len, struct proto_reply *r)
{
	uint8_t *copy = tu_dup(buf, len);
	struct proto_rep rep;
	struct proto_reply extra;

	assert_int_equal(proto_rep_parse(&rep, copy, len), PROTO_OK);
	assert_int_equal(rep.req_id, REQ_ID);
	assert_int_equal(proto_rep_next(&rep, r), PROTO_OK);
	assert_int_equal(proto_rep_next(&rep, &extra), PROTO_END);
	return copy;
}

static void
test_empty_statuses(void **state)
{
	static const struct {
		uint8_t opcode, status;
	} cases[] = {
		{ PROTO_OP_UNREGISTER, PROTO_ST_OK },
		{ PROTO_OP_JOIN, PROTO_ST_OK },
		{ PROTO_OP_LEAVE, PROTO_ST_OK },
		{ PROTO_OP_WHEREIS, PROTO_ST_NOT_FOUND },
		{ 0x80, PROTO_ST_UNSUPPORTED },
		{ PROTO_OP_REGISTER, PROTO_ST_NO_NODE_AVAILABLE },
		{ PROTO_OP_REGISTER, PROTO_ST_INTERNAL },
	};
	uint8_t buf[64];
	struct proto_reply r;
	struct proto_enc e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *copy;

		assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID),
				PROTO_OK);
		assert_int_equal(proto_rep_add_empty(&e, (uint16_t)i,
					cases[i].opcode, cases[i].status),
				PROTO_OK);
		assert_int_equal(proto_enc_finish(&e), 16 + 6);
		copy = decode_one(buf, 22, &r);
		assert_int_equal(r.index, i);
		assert_int_equal(r.opcode, cases[i].opcode);
		assert_int_equal(r.status, cases[i].status);
		assert_int_equal(r.body.len, 0);
		free(copy);
	}
	/* Statuses with a body cannot be sent empty. */
	assert_int_equal(proto_rep_add_empty(&e, 0, PROTO_OP_WHEREIS,
				PROTO_ST_OK), PROTO_EINVAL);
	assert_int_equal(proto_rep_add_empty(&e, 0, PROTO_OP_REGISTER,
				PROTO_ST_ALREADY_REGISTERED), PROTO_EINVAL);
}

static void
test_receipt_and_entries(void **state)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	struct proto_entry ent = sample_entry("sensor-42", "fw=1.2", 99);
	struct proto_receipt rc = { .node = 8, .ver = { 12, 8 } };
	struct proto_reply r;
	struct proto_enc e;
	struct proto_rep rep;
	uint8_t *copy;
	size_t len;

	(void)state;
	ent.ep = tu_ep6(0x42, 1);
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID),
			PROTO_OK);
	assert_int_equal(proto_rep_add_receipt(&e, 0, &rc), PROTO_OK);
	assert_int_equal(proto_rep_add_entry(&e, 1, PROTO_OP_WHEREIS,
				PROTO_ST_OK, &ent), PROTO_OK);
	assert_int_equal(proto_rep_add_entry(&e, 2, PROTO_OP_REGISTER,
				PROTO_ST_ALREADY_REGISTERED, &ent), PROTO_OK);
	assert_int_equal(proto_rep_add_entry(&e, 3, PROTO_OP_UNREGISTER,
				PROTO_ST_HANDLE_MISMATCH, &ent), PROTO_OK);
	assert_int_equal(proto_rep_add_wor(&e, 4, PROTO_WOR_REGISTERED, &ent),
			PROTO_OK);
	assert_int_equal(proto_rep_add_entry(&e, 5, PROTO_OP_REGISTER,
				PROTO_ST_OK, &ent), PROTO_EINVAL);
	assert_int_equal(proto_rep_add_wor(&e, 5, 2, &ent), PROTO_EINVAL);
	len = proto_enc_finish(&e);
	assert_int_equal(len, 16 + 6 + 16 + 4 * (6 + 28 + 19 + 10 + 7) + 1);

	copy = tu_dup(buf, len);
	assert_int_equal(proto_rep_parse(&rep, copy, len), PROTO_OK);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_OK);
	assert_int_equal(r.u.receipt.node, 8);
	assert_int_equal(r.u.receipt.ver.clock, 12);
	assert_int_equal(r.u.receipt.ver.node, 8);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_OK);
	assert_int_equal(r.index, 1);
	tu_assert_entry(&r.u.entry, &ent);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_OK);
	assert_int_equal(r.status, PROTO_ST_ALREADY_REGISTERED);
	tu_assert_entry(&r.u.entry, &ent);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_OK);
	assert_int_equal(r.status, PROTO_ST_HANDLE_MISMATCH);
	tu_assert_entry(&r.u.entry, &ent);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_OK);
	assert_int_equal(r.opcode, PROTO_OP_WHEREIS_OR_REGISTER);
	assert_int_equal(r.outcome, PROTO_WOR_REGISTERED);
	tu_assert_entry(&r.u.entry, &ent);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_END);
	free(copy);
}

static void
test_error_bodies(void **state)
{
	uint8_t buf[256];
	struct proto_reply r;
	struct proto_enc e;
	struct proto_rep rep;
	uint8_t *copy;
	size_t len;

	(void)state;
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID),
			PROTO_OK);
	assert_int_equal(proto_rep_add_bad_request(&e, 0, PROTO_OP_JOIN,
				PROTO_F_GROUP), PROTO_OK);
	assert_int_equal(proto_rep_add_overloaded(&e, 1, PROTO_OP_REGISTER,
				250), PROTO_OK);
	assert_int_equal(proto_rep_add_bad_version(&e), PROTO_OK);
	assert_int_equal(proto_rep_add_too_large(&e), PROTO_OK);
	/* Decoder errors map onto their documented answers. */
	assert_int_equal(proto_rep_add_error(&e, 4, PROTO_OP_WHEREIS,
				PROTO_EMALFORMED, PROTO_F_NAME), PROTO_OK);
	assert_int_equal(proto_rep_add_error(&e, 5, 0x99, PROTO_EUNSUPP, 0),
			PROTO_OK);
	assert_int_equal(proto_rep_add_error(&e, PROTO_INDEX_DGRAM, 0,
				PROTO_EMAGIC, 0), PROTO_EINVAL);
	len = proto_enc_finish(&e);

	copy = tu_dup(buf, len);
	assert_int_equal(proto_rep_parse(&rep, copy, len), PROTO_OK);
	assert_int_equal(rep.nops, 6);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_OK);
	assert_int_equal(r.status, PROTO_ST_BAD_REQUEST);
	assert_int_equal(r.u.field, PROTO_F_GROUP);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_OK);
	assert_int_equal(r.status, PROTO_ST_OVERLOADED);
	assert_int_equal(r.u.retry_after_ms, 250);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_OK);
	assert_int_equal(r.index, PROTO_INDEX_DGRAM);
	assert_int_equal(r.status, PROTO_ST_BAD_VERSION);
	assert_int_equal(r.u.versions.min, PROTO_VERSION_MIN);
	assert_int_equal(r.u.versions.max, PROTO_VERSION_MAX);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_OK);
	assert_int_equal(r.index, PROTO_INDEX_DGRAM);
	assert_int_equal(r.status, PROTO_ST_TOO_LARGE);
	assert_int_equal(r.u.limit, PROTO_MAX_DGRAM);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_OK);
	assert_int_equal(r.index, 4);
	assert_int_equal(r.u.field, PROTO_F_NAME);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_OK);
	assert_int_equal(r.status, PROTO_ST_UNSUPPORTED);
	assert_int_equal(r.opcode, 0x99);
	free(copy);
}

static void
test_node_status(void **state)
{
	uint8_t buf[256];
	struct proto_node_status ns = { .version_min = 1, .version_max = 1,
		.node = 0xabcdef01u, .partitions = 2, .entries = 5000000,
		.uptime_ms = 123456789, .name = tu_str("gw-east-1") };
	struct proto_reply r;
	struct proto_enc e;
	uint8_t *copy;

	(void)state;
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID),
			PROTO_OK);
	assert_int_equal(proto_rep_add_node_status(&e, 0, &ns), PROTO_OK);
	ns.partitions = 0;
	assert_int_equal(proto_rep_add_node_status(&e, 1, &ns), PROTO_EINVAL);
	copy = decode_one(buf, proto_enc_finish(&e), &r);
	assert_int_equal(r.opcode, PROTO_OP_STATUS);
	assert_int_equal(r.u.node.node, 0xabcdef01u);
	assert_int_equal(r.u.node.partitions, 2);
	assert_int_equal(r.u.node.entries, 5000000);
	assert_int_equal(r.u.node.uptime_ms, 123456789);
	tu_assert_str(r.u.node.name, "gw-east-1");
	free(copy);
}

static void
test_readiness_and_not_ready(void **state)
{
	uint8_t buf[256], raw[64];
	struct proto_readiness rd = { .state = PROTO_READY_SYNCING,
		.partitions = 4, .synced = 3, .alive = 5, .owners = 4,
		.retry_after_ms = 100 };
	struct proto_readiness bad;
	struct proto_rep rep;
	struct proto_reply r;
	struct proto_enc e;
	uint8_t *copy;
	size_t len;

	(void)state;
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID),
			PROTO_OK);
	assert_int_equal(proto_rep_add_readiness(&e, 0, &rd), PROTO_OK);
	assert_int_equal(proto_rep_add_retry(&e, 1, PROTO_OP_WHEREIS,
				PROTO_ST_NOT_READY, 40), PROTO_OK);
	/* only the two statuses whose body is a hint */
	assert_int_equal(proto_rep_add_retry(&e, 2, PROTO_OP_WHEREIS,
				PROTO_ST_NO_NODE_AVAILABLE, 40), PROTO_EINVAL);
	/* out of range: state, synced > partitions, no partition, alive 0 */
	bad = rd, bad.state = PROTO_READY_STATE_MAX + 1;
	assert_int_equal(proto_rep_add_readiness(&e, 2, &bad), PROTO_EINVAL);
	bad = rd, bad.synced = 5;
	assert_int_equal(proto_rep_add_readiness(&e, 2, &bad), PROTO_EINVAL);
	bad = rd, bad.partitions = 0, bad.synced = 0;
	assert_int_equal(proto_rep_add_readiness(&e, 2, &bad), PROTO_EINVAL);
	bad = rd, bad.alive = 0;
	assert_int_equal(proto_rep_add_readiness(&e, 2, &bad), PROTO_EINVAL);
	len = proto_enc_finish(&e);
	/* 16 header + 6 + 13 readiness + 6 + 4 hint */
	assert_int_equal(len, 16 + 6 + 13 + 6 + 4);
	copy = tu_dup(buf, len);
	assert_int_equal(proto_rep_parse(&rep, copy, len), PROTO_OK);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_OK);
	assert_int_equal(r.opcode, PROTO_OP_READINESS);
	assert_int_equal(r.u.ready.state, PROTO_READY_SYNCING);
	assert_int_equal(r.u.ready.partitions, 4);
	assert_int_equal(r.u.ready.synced, 3);
	assert_int_equal(r.u.ready.alive, 5);
	assert_int_equal(r.u.ready.owners, 4);
	assert_int_equal(r.u.ready.retry_after_ms, 100);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_OK);
	assert_int_equal(r.status, PROTO_ST_NOT_READY);
	assert_int_equal(r.u.retry_after_ms, 40);
	assert_string_equal(proto_status_name(PROTO_ST_NOT_READY),
			"not_ready");
	assert_string_equal(proto_opcode_name(PROTO_OP_READINESS),
			"READINESS");
	assert_string_equal(proto_ready_state_name(PROTO_READY_NO_OWNER),
			"no_owner");
	free(copy);

	/* a decoder refuses a readiness body with an unknown state */
	assert_int_equal(proto_rep_init(&e, raw, sizeof(raw), REQ_ID),
			PROTO_OK);
	assert_int_equal(proto_rep_add_readiness(&e, 0, &rd), PROTO_OK);
	assert_int_equal(proto_enc_finish(&e), 16 + 6 + 13);
	raw[16 + 6] = PROTO_READY_STATE_MAX + 1;
	copy = tu_dup(raw, 16 + 6 + 13);
	assert_int_equal(proto_rep_parse(&rep, copy, 16 + 6 + 13), PROTO_OK);
	assert_int_equal(proto_rep_next(&rep, &r), PROTO_EMALFORMED);
	assert_int_equal(r.bad_field, PROTO_F_BODY);
	free(copy);
}

/* Fills a page until it is full; checks count, cursor and every entry. */
static void
test_page_fills_and_round_trips(void **state)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	char names[64][8];
	struct proto_page_enc pg;
	struct proto_page_iter it;
	struct proto_entry ent, got;
	struct proto_reply r;
	struct proto_enc e;
	uint8_t *copy;
	int n = 0, i, rc;
	size_t len;

	(void)state;
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID),
			PROTO_OK);
	assert_int_equal(proto_rep_page_begin(&e, &pg, 0, PROTO_OP_REGISTERED),
			PROTO_OK);
	for (;;) {
		assert_true(n < 64);
		snprintf(names[n], sizeof(names[n]), "n%05u",
				(unsigned int)n % 100000u);
		ent = sample_entry(names[n], "", (uint64_t)n);
		rc = proto_rep_page_add(&e, &pg, &ent);
		if (rc != PROTO_OK)
			break;
		n++;
	}
	assert_int_equal(rc, PROTO_ENOSPC);
	/* 16 + 6 + 2 + 34 reserved; each entry 28 + 7 + 7 + 1 = 43 bytes */
	assert_int_equal(n, (1472 - 16 - 6 - 2 - 34) / 43);
	assert_int_equal(proto_rep_page_end(&e, &pg, false,
				"0123456789abcdef0123456789abcdef", 32),
			PROTO_OK);
	len = proto_enc_finish(&e);
	assert_true(len <= PROTO_MAX_DGRAM);

	copy = decode_one(buf, len, &r);
	assert_int_equal(r.u.page.count, n);
	assert_int_equal(r.u.page.flags, 0);
	tu_assert_str(r.u.page.cursor, "0123456789abcdef0123456789abcdef");
	proto_page_iter_init(&it, &r.u.page);
	for (i = 0; i < n; i++) {
		ent = sample_entry(names[i], "", (uint64_t)i);
		assert_int_equal(proto_page_next(&it, &got), PROTO_OK);
		tu_assert_entry(&got, &ent);
	}
	assert_int_equal(proto_page_next(&it, &got), PROTO_END);
	free(copy);
}

static void
test_page_end_empty_and_abort(void **state)
{
	uint8_t buf[256];
	struct proto_page_enc pg;
	struct proto_entry ent = sample_entry("m1", "x", 1);
	struct proto_reply r;
	struct proto_enc e;
	uint8_t *copy;
	size_t before;

	(void)state;
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID),
			PROTO_OK);
	assert_int_equal(proto_rep_page_begin(&e, &pg, 0, PROTO_OP_WHEREIS),
			PROTO_EINVAL);
	/* An aborted page leaves no trace. */
	before = e.w.left;
	assert_int_equal(proto_rep_page_begin(&e, &pg, 0, PROTO_OP_MEMBERS),
			PROTO_OK);
	assert_int_equal(proto_rep_page_add(&e, &pg, &ent), PROTO_OK);
	proto_rep_page_abort(&e, &pg);
	assert_int_equal(e.w.left, before);
	assert_int_equal(e.nops, 0);
	/* A bad cursor at end aborts the page too. */
	assert_int_equal(proto_rep_page_begin(&e, &pg, 0, PROTO_OP_MEMBERS),
			PROTO_OK);
	assert_int_equal(proto_rep_page_end(&e, &pg, true, "c", 33),
			PROTO_EINVAL);
	assert_int_equal(e.w.left, before);
	assert_int_equal(proto_enc_finish(&e), 0);

	assert_int_equal(proto_rep_page_begin(&e, &pg, 7, PROTO_OP_MEMBERS),
			PROTO_OK);
	assert_int_equal(proto_rep_page_end(&e, &pg, true, NULL, 0), PROTO_OK);
	copy = decode_one(buf, proto_enc_finish(&e), &r);
	assert_int_equal(r.index, 7);
	assert_int_equal(r.u.page.count, 0);
	assert_int_equal(r.u.page.flags, PROTO_PAGE_END);
	assert_int_equal(r.u.page.cursor.len, 0);
	free(copy);
}

/*
 * The replies to 40 WHEREIS ops with large entries do not fit one
 * datagram: the node splits them, and the client finds every op index
 * exactly once across the datagrams.
 */
static void
test_reply_splitting(void **state)
{
	enum { NOPS = 40 };
	uint8_t dgrams[8][PROTO_MAX_DGRAM];
	size_t lens[8];
	char meta[200];
	int seen[NOPS] = { 0 };
	struct proto_entry ent;
	struct proto_enc e;
	int nd = 0, i, rc;

	(void)state;
	memset(meta, 'm', sizeof(meta) - 1);
	meta[sizeof(meta) - 1] = '\0';
	ent = sample_entry("a-fairly-long-device-name", meta, 0);
	assert_int_equal(proto_rep_init(&e, dgrams[0], PROTO_MAX_DGRAM,
				REQ_ID), PROTO_OK);
	for (i = 0; i < NOPS; i++) {
		ent.handle = (uint64_t)i;
		rc = proto_rep_add_entry(&e, (uint16_t)i, PROTO_OP_WHEREIS,
				PROTO_ST_OK, &ent);
		if (rc == PROTO_ENOSPC) {
			lens[nd++] = proto_enc_finish(&e);
			assert_true(nd < 8);
			assert_int_equal(proto_rep_init(&e, dgrams[nd],
						PROTO_MAX_DGRAM, REQ_ID),
					PROTO_OK);
			rc = proto_rep_add_entry(&e, (uint16_t)i,
					PROTO_OP_WHEREIS, PROTO_ST_OK, &ent);
		}
		assert_int_equal(rc, PROTO_OK);
	}
	lens[nd++] = proto_enc_finish(&e);
	/* 6 + 28 + 7 + 26 + 200 = 267 bytes per op: 5 per datagram. */
	assert_int_equal(nd, 8);

	for (i = 0; i < nd; i++) {
		uint8_t *copy = tu_dup(dgrams[i], lens[i]);
		struct proto_rep rep;
		struct proto_reply r;

		assert_true(lens[i] <= PROTO_MAX_DGRAM);
		assert_int_equal(proto_rep_parse(&rep, copy, lens[i]),
				PROTO_OK);
		assert_int_equal(rep.req_id, REQ_ID);
		while (proto_rep_next(&rep, &r) == PROTO_OK) {
			assert_true(r.index < NOPS);
			assert_int_equal(r.u.entry.handle, r.index);
			seen[r.index]++;
		}
		free(copy);
	}
	for (i = 0; i < NOPS; i++)
		assert_int_equal(seen[i], 1);
}

/* Every prefix of a valid reply datagram is refused as a whole. */
static void
test_reply_truncation_at_every_offset(void **state)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	struct proto_entry ent = sample_entry("x1", "meta", 5);
	struct proto_receipt rc = { 1, { 2, 3 } };
	struct proto_page_enc pg;
	struct proto_enc e;
	size_t len, off;

	(void)state;
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID),
			PROTO_OK);
	assert_int_equal(proto_rep_add_receipt(&e, 0, &rc), PROTO_OK);
	assert_int_equal(proto_rep_page_begin(&e, &pg, 1, PROTO_OP_MEMBERS),
			PROTO_OK);
	assert_int_equal(proto_rep_page_add(&e, &pg, &ent), PROTO_OK);
	assert_int_equal(proto_rep_page_add(&e, &pg, &ent), PROTO_OK);
	assert_int_equal(proto_rep_page_end(&e, &pg, false, "cc", 2),
			PROTO_OK);
	assert_int_equal(proto_rep_add_wor(&e, 2, PROTO_WOR_FOUND, &ent),
			PROTO_OK);
	len = proto_enc_finish(&e);
	for (off = 0; off < len; off++) {
		uint8_t *copy = tu_dup(buf, off);
		struct proto_rep rep;
		struct proto_reply r;
		int ret = proto_rep_parse(&rep, copy, off);

		assert_int_equal(ret, off < PROTO_HDR_LEN ? PROTO_ESHORT :
				PROTO_EMALFORMED);
		assert_int_equal(proto_rep_next(&rep, &r), PROTO_END);
		free(copy);
	}
}

/* Replaces the body of reply op 0 (a lone op) with the given bytes. */
static int
decode_patched(uint8_t opcode, uint8_t status, const void *body, size_t blen,
		uint8_t *field)
{
	uint8_t buf[PROTO_MAX_DGRAM], *copy;
	struct proto_rep rep;
	struct proto_reply r;
	struct proto_enc e;
	int rc;

	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), REQ_ID),
			PROTO_OK);
	assert_int_equal(proto_rep_add_empty(&e, 0, PROTO_OP_JOIN,
				PROTO_ST_OK), PROTO_OK);
	proto_enc_finish(&e);
	buf[18] = opcode;
	buf[19] = status;
	proto_put_u16_at(buf + 20, (uint16_t)blen);
	memcpy(buf + 22, body, blen);
	copy = tu_dup(buf, 22 + blen);
	assert_int_equal(proto_rep_parse(&rep, copy, 22 + blen), PROTO_OK);
	rc = proto_rep_next(&rep, &r);
	*field = r.bad_field;
	free(copy);
	return rc;
}

static void
test_malformed_reply_bodies(void **state)
{
	uint8_t f;

	(void)state;
	assert_int_equal(decode_patched(PROTO_OP_JOIN, PROTO_ST_OK, "x", 1,
				&f), PROTO_EMALFORMED);
	assert_int_equal(f, PROTO_F_OP_LENGTH);
	assert_int_equal(decode_patched(PROTO_OP_REGISTER, PROTO_ST_OK,
				"0123456789abcde", 15, &f), PROTO_EMALFORMED);
	assert_int_equal(f, PROTO_F_BODY);
	assert_int_equal(decode_patched(PROTO_OP_WHEREIS_OR_REGISTER,
				PROTO_ST_OK, "\002", 1, &f), PROTO_EMALFORMED);
	assert_int_equal(f, PROTO_F_BODY);
	/* bad_version with min > max. */
	assert_int_equal(decode_patched(0, PROTO_ST_BAD_VERSION, "\002\001", 2,
				&f), PROTO_EMALFORMED);
	/* Page: count 0, unknown flag bit. */
	assert_int_equal(decode_patched(PROTO_OP_MEMBERS, PROTO_ST_OK,
				"\000\000\002\000", 4, &f), PROTO_EMALFORMED);
	assert_int_equal(f, PROTO_F_BODY);
	/* Page: count 1 but no entry. */
	assert_int_equal(decode_patched(PROTO_OP_MEMBERS, PROTO_ST_OK,
				"\000\001\001\000", 4, &f), PROTO_EMALFORMED);
	assert_int_equal(f, PROTO_F_HANDLE);
	/* Page: cursor of 33 bytes. */
	{
		uint8_t pg[3 + 1 + 33] = { 0, 0, 1, 33 };

		assert_int_equal(decode_patched(PROTO_OP_REGISTERED,
					PROTO_ST_OK, pg, sizeof(pg), &f),
				PROTO_EMALFORMED);
		assert_int_equal(f, PROTO_F_CURSOR);
	}
	/* STATUS: versions min > max (found by fuzz_proto), partitions 0. */
	{
		uint8_t ns[26] = { 2, 1, 0, 0, 0, 1, 0, 1 };

		ns[24] = 1;
		ns[25] = 'n';
		assert_int_equal(decode_patched(PROTO_OP_STATUS, PROTO_ST_OK,
					ns, sizeof(ns), &f), PROTO_EMALFORMED);
		assert_int_equal(f, PROTO_F_BODY);
		ns[0] = 1;
		assert_int_equal(decode_patched(PROTO_OP_STATUS, PROTO_ST_OK,
					ns, sizeof(ns), &f), PROTO_OK);
		ns[7] = 0;
		assert_int_equal(decode_patched(PROTO_OP_STATUS, PROTO_ST_OK,
					ns, sizeof(ns), &f), PROTO_EMALFORMED);
		ns[7] = 1;
		ns[24] = 0;
		assert_int_equal(decode_patched(PROTO_OP_STATUS, PROTO_ST_OK,
					ns, sizeof(ns) - 1, &f),
				PROTO_EMALFORMED);
		assert_int_equal(f, PROTO_F_NAME);
	}
	/* Unknown status or opcode: raw body, accepted. */
	assert_int_equal(decode_patched(PROTO_OP_WHEREIS, 200, "abc", 3, &f),
			PROTO_OK);
	assert_int_equal(decode_patched(0x70, PROTO_ST_OK, "abc", 3, &f),
			PROTO_OK);
}

static void
test_direction_is_checked(void **state)
{
	uint8_t buf[64];
	struct proto_enc e;
	struct proto_rep rep;
	struct proto_req req;
	size_t len;

	(void)state;
	assert_int_equal(proto_req_init(&e, buf, sizeof(buf), 1), PROTO_OK);
	assert_int_equal(proto_req_add_status(&e), PROTO_OK);
	len = proto_enc_finish(&e);
	assert_int_equal(proto_rep_parse(&rep, buf, len), PROTO_EKIND);
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), 1), PROTO_OK);
	assert_int_equal(proto_rep_add_empty(&e, 0, PROTO_OP_JOIN,
				PROTO_ST_OK), PROTO_OK);
	len = proto_enc_finish(&e);
	assert_int_equal(proto_req_parse(&req, buf, len), PROTO_EKIND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_statuses),
		cmocka_unit_test(test_receipt_and_entries),
		cmocka_unit_test(test_error_bodies),
		cmocka_unit_test(test_node_status),
		cmocka_unit_test(test_readiness_and_not_ready),
		cmocka_unit_test(test_page_fills_and_round_trips),
		cmocka_unit_test(test_page_end_empty_and_abort),
		cmocka_unit_test(test_reply_splitting),
		cmocka_unit_test(test_reply_truncation_at_every_offset),
		cmocka_unit_test(test_malformed_reply_bodies),
		cmocka_unit_test(test_direction_is_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
