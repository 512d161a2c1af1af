/*
 * test_proto_doc.c - the examples printed in docs/protocol.md are true.
 *
 * A client writer works from the document alone, so its hash vectors and
 * its worked example are checked here against the real code; when the
 * format changes, this test fails until the document is updated.
 */
#include "test_util.h"
#include "ring_hash.h"

static void
test_name_hash_vectors(void **state)
{
	static const struct {
		const char *name;
		uint64_t hash;
		uint32_t part4;
	} vec[] = {
		{ "a", 0xe6c632b61e964e1full, 0 },
		{ "device-0001", 0xa8aa308388148b11ull, 0 },
		{ "device-00000000000000001", 0x66b0a5628fe9d265ull, 2 },
		{ "gw-east-1/sensor/42", 0x67584011b8fe8266ull, 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		uint64_t h = ring_hash_name(vec[i].name, strlen(vec[i].name));

		assert_int_equal(h, vec[i].hash);
		assert_int_equal(ring_hash_partition(h, 4), vec[i].part4);
	}
}

static void
test_worked_example_request(void **state)
{
	static const uint8_t doc[] = {
		0x53, 0x57, 0x01, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11,
		0x00, 0x02, 0x00, 0x00,
		0x01, 0x00, 0x00, 0x1c,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,
		0x00, 0x00, 0xea, 0x60,
		0x04, 0x16, 0x33, 0xc0, 0xa8, 0x01, 0x14,
		0x05, 'd', 'e', 'v', '-', '1',
		0x02, 'v', '1',
		0x03, 0x00, 0x00, 0x06,
		0x05, 'd', 'e', 'v', '-', '2',
	};
	struct proto_endpoint ep = tu_ep4(192, 168, 1, 20, 5683);
	uint8_t buf[128];
	struct proto_enc e;

	(void)state;
	assert_int_equal(sizeof(doc), 58);
	assert_int_equal(proto_req_init(&e, buf, sizeof(buf), 0x11), PROTO_OK);
	assert_int_equal(proto_req_add_register(&e, "dev-1", 5, 42, &ep, "v1",
				2, 60000), PROTO_OK);
	assert_int_equal(proto_req_add_whereis(&e, "dev-2", 5), PROTO_OK);
	assert_int_equal(proto_enc_finish(&e), sizeof(doc));
	assert_memory_equal(buf, doc, sizeof(doc));
}

static void
test_worked_example_reply(void **state)
{
	static const uint8_t doc[] = {
		0x53, 0x57, 0x01, 0x01,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11,
		0x00, 0x02, 0x00, 0x00,
		0x00, 0x00, 0x01, 0x00, 0x00, 0x10,
		0x00, 0x00, 0x00, 0x03,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
		0x00, 0x00, 0x00, 0x03,
		0x00, 0x01, 0x03, 0x01, 0x00, 0x00,
	};
	struct proto_receipt rc = { 3, { 7, 3 } };
	uint8_t buf[128];
	struct proto_enc e;

	(void)state;
	assert_int_equal(sizeof(doc), 44);
	assert_int_equal(proto_rep_init(&e, buf, sizeof(buf), 0x11), PROTO_OK);
	assert_int_equal(proto_rep_add_receipt(&e, 0, &rc), PROTO_OK);
	assert_int_equal(proto_rep_add_empty(&e, 1, PROTO_OP_WHEREIS,
				PROTO_ST_NOT_FOUND), PROTO_OK);
	assert_int_equal(proto_enc_finish(&e), sizeof(doc));
	assert_memory_equal(buf, doc, sizeof(doc));
}

/* Limits the document states as numbers. */
static void
test_documented_limits(void **state)
{
	(void)state;
	assert_int_equal(PROTO_MAX_DGRAM, 1500 - 20 - 8);
	assert_int_equal(PROTO_HDR_LEN, 16);
	assert_int_equal(PROTO_MAX_OPS, 364);
	assert_true(PROTO_MAX_OPS < PROTO_INDEX_DGRAM);
	/* Largest entry: IPv6, 255-byte name and metadata. */
	assert_int_equal(PROTO_ENTRY_FIXED_LEN + 19 + 256 + 256, 559);
	assert_true(PROTO_REP_HDR_LEN + 559 + PROTO_HDR_LEN <= PROTO_MAX_DGRAM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_hash_vectors),
		cmocka_unit_test(test_worked_example_request),
		cmocka_unit_test(test_worked_example_reply),
		cmocka_unit_test(test_documented_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
