/*
 * test_exec_opts.c - exec_datagram_opts(): the index map and the take hook
 * that swarmd uses to split a request between worker lcores.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include "exec.h"

#define NOW 5000

struct fx {
	struct trk *t;
	struct exec_node node;
	struct exec_out out;
	uint8_t req[PROTO_MAX_DGRAM];
	size_t len;
};

static int
setup(void **state)
{
	struct trk_config cfg = { .nparts = 4, .node_id = 3,
				  .expected_entries = 1024 };
	struct fx *f = calloc(1, sizeof(*f));

	urcu_qsbr_register_thread();
	f->t = trk_create(&cfg);
	f->node.node_id = 3;
	f->node.name = "opts";
	*state = f;
	return f->t ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	trk_destroy(f->t);
	urcu_qsbr_unregister_thread();
	free(f);
	return 0;
}

/* REGISTER a, WHEREIS b, WHEREIS a, REGISTER c. */
static void
build(struct fx *f)
{
	struct proto_endpoint ep = { .family = PROTO_AF_IPV4, .port = 9,
				     .addr = { 10, 0, 0, 9 } };
	struct proto_enc e;

	proto_req_init(&e, f->req, sizeof(f->req), 77);
	assert_int_equal(proto_req_add_register(&e, "a", 1, 1, &ep, NULL, 0, 0), 0);
	assert_int_equal(proto_req_add_whereis(&e, "b", 1), 0);
	assert_int_equal(proto_req_add_whereis(&e, "a", 1), 0);
	assert_int_equal(proto_req_add_register(&e, "c", 1, 3, &ep, NULL, 0, 0), 0);
	f->len = proto_enc_finish(&e);
}

/* Decodes every reply op: index -> status (0xff = not answered). */
static void
answers(const struct exec_out *out, uint8_t status[64], uint8_t opcode[64])
{
	struct proto_reply r;
	struct proto_rep rep;
	size_t k;

	memset(status, 0xff, 64);
	for (k = 0; k < out->n; k++) {
		assert_int_equal(proto_rep_parse(&rep, out->dgram[k], out->len[k]), 0);
		assert_int_equal(rep.req_id, 77);
		while (proto_rep_next(&rep, &r) == 0) {
			assert_true(r.index < 64);
			assert_int_equal(status[r.index], 0xff);	/* once */
			status[r.index] = r.status;
			opcode[r.index] = r.opcode;
		}
	}
}

static void
test_index_map_renumbers_replies(void **state)
{
	struct fx *f = *state;
	const uint16_t map[4] = { 40, 11, 12, 63 };
	struct exec_opts o = { .index_map = map, .index_map_len = 4 };
	uint8_t st[64], opc[64];

	build(f);
	assert_int_equal(exec_datagram_opts(f->t, &f->node, f->req, f->len,
			NOW, &o, &f->out), EXEC_ANSWERED);
	answers(&f->out, st, opc);
	assert_int_equal(st[40], PROTO_ST_OK);
	assert_int_equal(opc[40], PROTO_OP_REGISTER);
	assert_int_equal(st[11], PROTO_ST_NOT_FOUND);
	assert_int_equal(st[12], PROTO_ST_OK);
	assert_int_equal(opc[12], PROTO_OP_WHEREIS);
	assert_int_equal(st[63], PROTO_ST_OK);
	assert_int_equal(st[0], 0xff);
	assert_int_equal(st[1], 0xff);
	assert_int_equal(f->out.ops, 4);
}

static void
test_short_map_answers_internal(void **state)
{
	struct fx *f = *state;
	const uint16_t map[2] = { 5, 6 };
	struct exec_opts o = { .index_map = map, .index_map_len = 2 };
	uint8_t st[64], opc[64];

	build(f);
	exec_datagram_opts(f->t, &f->node, f->req, f->len, NOW, &o, &f->out);
	answers(&f->out, st, opc);
	assert_int_equal(st[5], PROTO_ST_OK);
	assert_int_equal(st[6], PROTO_ST_NOT_FOUND);
	/* ops 2 and 3 have no map entry: answered internal, not executed */
	assert_int_equal(st[2], PROTO_ST_INTERNAL);
	assert_int_equal(st[3], PROTO_ST_INTERNAL);
	assert_null(trk_whereis(f->t, &(struct trk_key){ "c", 1,
			ring_hash_name("c", 1) }, NOW));
}

/* Takes only the ops whose name is "a": the others are someone else's. */
static int
take_a_only(const struct exec_op *xo, void *arg, struct exec_refusal *rf)
{
	const struct proto_op *op = &xo->op;
	int *skipped = arg;

	(void)rf;
	if (op->name.len == 1 && op->name.ptr[0] == 'a')
		return EXEC_TAKE_RUN;
	(*skipped)++;
	return EXEC_TAKE_SKIP;
}

static void
test_take_hook_skips_ops(void **state)
{
	struct fx *f = *state;
	int skipped = 0;
	struct exec_opts o = { .take = take_a_only, .arg = &skipped };
	uint8_t st[64], opc[64];

	build(f);
	exec_datagram_opts(f->t, &f->node, f->req, f->len, NOW, &o, &f->out);
	answers(&f->out, st, opc);
	assert_int_equal(skipped, 2);
	assert_int_equal(st[0], PROTO_ST_OK);
	assert_int_equal(st[1], 0xff);		/* skipped: not answered */
	assert_int_equal(st[2], PROTO_ST_OK);
	assert_int_equal(st[3], 0xff);
	assert_int_equal(f->out.ops, 2);
	/* the skipped REGISTER did not run */
	assert_null(trk_whereis(f->t, &(struct trk_key){ "c", 1,
			ring_hash_name("c", 1) }, NOW));
}

static int
take_none(const struct exec_op *op, void *arg, struct exec_refusal *rf)
{
	(void)op;
	(void)arg;
	(void)rf;
	return EXEC_TAKE_SKIP;
}

/* What the take hook was shown, per op. */
struct seen {
	unsigned int n;
	struct exec_op xo[8];
};

static int
take_record(const struct exec_op *xo, void *arg, struct exec_refusal *rf)
{
	struct seen *s = arg;

	(void)rf;
	if (s->n < 8)
		s->xo[s->n++] = *xo;
	return EXEC_TAKE_RUN;
}

/* Every op reaches the hook hashed once, with the partition it writes,
 * and runs with those hashes: the entry lands where the hash says. */
static void
test_take_hook_sees_hashes(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = { .family = PROTO_AF_IPV4, .port = 9,
				     .addr = { 10, 0, 0, 9 } };
	struct seen s = { 0 };
	struct exec_opts o = { .take = take_record, .arg = &s };
	uint64_t hx = ring_hash_name("dev-x", 5), hg = ring_hash_name("grp", 3);
	struct proto_enc e;

	proto_req_init(&e, f->req, sizeof(f->req), 77);
	assert_int_equal(proto_req_add_register(&e, "dev-x", 5, 1, &ep, NULL,
			0, 0), 0);
	assert_int_equal(proto_req_add_join(&e, "grp", 3, "dev-x", 5), 0);
	assert_int_equal(proto_req_add_whereis(&e, "dev-x", 5), 0);
	assert_int_equal(proto_req_add_members(&e, "grp", 3, NULL, 0, 10), 0);
	assert_int_equal(proto_req_add_status(&e), 0);
	f->len = proto_enc_finish(&e);
	exec_datagram_opts(f->t, &f->node, f->req, f->len, NOW, &o, &f->out);
	assert_int_equal(s.n, 5);
	/* REGISTER and JOIN write the name's partition */
	assert_int_equal(s.xo[0].hash, hx);
	assert_int_equal(s.xo[0].group_hash, 0);
	assert_int_equal(s.xo[0].part, (int32_t)trk_part_of(f->t, hx));
	assert_int_equal(s.xo[1].hash, hx);
	assert_int_equal(s.xo[1].group_hash, hg);
	assert_int_equal(s.xo[1].part, (int32_t)trk_part_of(f->t, hx));
	/* reads: hashed, no partition written */
	assert_int_equal(s.xo[2].hash, hx);
	assert_int_equal(s.xo[2].part, -1);
	assert_int_equal(s.xo[3].hash, 0);
	assert_int_equal(s.xo[3].group_hash, hg);
	assert_int_equal(s.xo[3].part, -1);
	assert_int_equal(s.xo[4].hash, 0);
	assert_int_equal(s.xo[4].group_hash, 0);
	assert_int_equal(s.xo[4].part, -1);
	/* the ops ran with those hashes */
	assert_non_null(trk_whereis(f->t, &(struct trk_key){ "dev-x", 5, hx },
			NOW));
	assert_int_equal(f->out.ops, 5);
}

/* Hashes carried from an earlier hop are used as they are, not computed
 * again (a wrong one, here on purpose, shows where the entry went). */
static void
test_carried_hashes_are_used(void **state)
{
	struct fx *f = *state;
	struct exec_hashes h[4] = { { .name = 0x1234 }, { 0 }, { 0 },
		{ .name = ring_hash_name("c", 1) } };
	struct seen s = { 0 };
	struct exec_opts o = { .take = take_record, .arg = &s, .hashes = h,
		.nhashes = 1 };

	build(f);	/* REGISTER a, WHEREIS b, WHEREIS a, REGISTER c */
	exec_datagram_opts(f->t, &f->node, f->req, f->len, NOW, &o, &f->out);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.xo[0].hash, 0x1234);
	assert_int_equal(s.xo[0].part, (int32_t)trk_part_of(f->t, 0x1234));
	/* beyond nhashes: hashed here */
	assert_int_equal(s.xo[1].hash, ring_hash_name("b", 1));
	assert_non_null(trk_whereis(f->t, &(struct trk_key){ "a", 1, 0x1234 },
			NOW));
	assert_null(trk_whereis(f->t, &(struct trk_key){ "a", 1,
			ring_hash_name("a", 1) }, NOW));
	assert_non_null(trk_whereis(f->t, &(struct trk_key){ "c", 1,
			ring_hash_name("c", 1) }, NOW));
}

static void
test_all_skipped_sends_nothing(void **state)
{
	struct fx *f = *state;
	struct exec_opts o = { .take = take_none };

	build(f);
	assert_int_equal(exec_datagram_opts(f->t, &f->node, f->req, f->len,
			NOW, &o, &f->out), EXEC_ANSWERED);
	assert_int_equal(f->out.n, 0);
	assert_int_equal(f->out.ops, 0);
}

/*
 * The reply budget is spent by large answers; a later op with a bad cursor
 * must still get its (short) bad_request from the reserve datagrams.
 */
static void
test_bad_cursor_answered_after_budget(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = { .family = PROTO_AF_IPV4, .port = 9,
				     .addr = { 10, 0, 0, 9 } };
	uint8_t meta[255], st[64], opc[64];
	struct proto_enc e;
	struct proto_reply r;
	struct proto_rep rep;
	uint8_t last = 0xff;
	size_t k;
	int i, n = 0;

	memset(meta, 'm', sizeof(meta));
	proto_req_init(&e, f->req, sizeof(f->req), 77);
	assert_int_equal(proto_req_add_register(&e, "a", 1, 1, &ep, meta,
			sizeof(meta), 0), 0);
	f->len = proto_enc_finish(&e);
	exec_datagram(f->t, &f->node, f->req, f->len, NOW, &f->out);
	answers(&f->out, st, opc);
	assert_int_equal(st[0], PROTO_ST_OK);

	proto_req_init(&e, f->req, sizeof(f->req), 78);
	for (i = 0; i < 200; i++, n++)
		assert_int_equal(proto_req_add_whereis(&e, "a", 1), 0);
	assert_int_equal(proto_req_add_registered(&e, "12345", 5, 0), 0);
	n++;
	f->len = proto_enc_finish(&e);
	exec_datagram(f->t, &f->node, f->req, f->len, NOW, &f->out);
	assert_int_equal(f->out.unanswered, 0);
	assert_int_equal(f->out.ops, n);
	assert_true(f->out.status[PROTO_ST_OVERLOADED] > 0);
	for (k = 0; k < f->out.n; k++) {
		assert_int_equal(proto_rep_parse(&rep, f->out.dgram[k],
				f->out.len[k]), 0);
		while (proto_rep_next(&rep, &r) == 0)
			if (r.index == n - 1)
				last = r.status;
	}
	assert_int_equal(last, PROTO_ST_BAD_REQUEST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_index_map_renumbers_replies,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_map_answers_internal,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_hook_skips_ops,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_hook_sees_hashes,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_carried_hashes_are_used,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_skipped_sends_nothing,
				setup, teardown),
		cmocka_unit_test_setup_teardown(
				test_bad_cursor_answered_after_budget,
				setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
