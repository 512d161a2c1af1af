/*
 * test_exec_stats.c - the STATS op in lib/exec: answered `unsupported`
 * without a node callback (whatever the body), `ok` with the callback's
 * counters, `internal` when the callback fails or gives bad names, cut to
 * what fits one reply op, and held to the reply budget like every large
 * answer. And READINESS: "serving" for a standalone node, the node
 * callback's word otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include "exec.h"

#define NOW 5000
#define REQ_ID 91

/* What the test callback returns. */
enum cb_mode {
	CB_SMALL,	/* requests, entries, calls */
	CB_FAIL,	/* -1 */
	CB_TOO_MANY,	/* max + 1 */
	CB_BAD_NAME,	/* "Bad-Name" */
	CB_DUP,		/* "x" twice */
	CB_HUGE,	/* max names of 64 bytes: far more than a body holds */
};

struct fx {
	struct trk *t;
	struct exec_node node;
	struct exec_out out;
	enum cb_mode mode;
	unsigned int calls;
	size_t last_max;
	char huge[PROTO_STATS_MAX][PROTO_STATS_NAME_MAX + 1];
	uint8_t req[PROTO_MAX_DGRAM];
	size_t len;
};

static int
counters(void *arg, const char **names, uint64_t *values, size_t max)
{
	struct fx *f = arg;
	size_t i;

	f->calls++;
	f->last_max = max;
	switch (f->mode) {
	case CB_SMALL:
		names[0] = "requests";
		values[0] = 7;
		names[1] = "entries";
		values[1] = trk_count(f->t);
		names[2] = "calls";
		values[2] = f->calls;
		return 3;
	case CB_FAIL:
		return -1;
	case CB_TOO_MANY:
		return (int)max + 1;
	case CB_BAD_NAME:
		names[0] = "Bad-Name";
		values[0] = 1;
		return 1;
	case CB_DUP:
		names[0] = names[1] = "x";
		values[0] = values[1] = 1;
		return 2;
	case CB_HUGE:
		for (i = 0; i < max; i++) {
			memset(f->huge[i], 'c', PROTO_STATS_NAME_MAX);
			snprintf(f->huge[i] + PROTO_STATS_NAME_MAX - 4, 5,
				"%04u", (unsigned int)(i % 10000));
			names[i] = f->huge[i];
			values[i] = i;
		}
		return (int)max;
	}
	return -1;
}

static int
setup(void **state)
{
	struct trk_config cfg = { .nparts = 2, .node_id = 3,
				  .expected_entries = 1024 };
	struct fx *f = calloc(1, sizeof(*f));

	urcu_qsbr_register_thread();
	f->t = trk_create(&cfg);
	f->node.node_id = 3;
	f->node.name = "stats";
	f->node.stats = counters;
	f->node.stats_arg = f;
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

static void
run(struct fx *f, struct proto_enc *e)
{
	f->len = proto_enc_finish(e);
	assert_true(f->len > 0);
	assert_int_equal(exec_datagram(f->t, &f->node, f->req, f->len, NOW,
			&f->out), EXEC_ANSWERED);
	assert_int_equal(f->out.unanswered, 0);
}

/* The reply op answering index i (asserts it exists, exactly once). */
static struct proto_reply
reply_for(const struct fx *f, uint16_t i)
{
	struct proto_reply r, found;
	struct proto_rep rep;
	int seen = 0;
	size_t k;

	memset(&found, 0, sizeof(found));
	for (k = 0; k < f->out.n; k++) {
		assert_int_equal(proto_rep_parse(&rep, f->out.dgram[k],
				f->out.len[k]), 0);
		assert_int_equal(rep.req_id, REQ_ID);
		while (proto_rep_next(&rep, &r) == PROTO_OK)
			if (r.index == i) {
				found = r;
				seen++;
			}
	}
	assert_int_equal(seen, 1);
	return found;
}

static void
begin(struct fx *f, struct proto_enc *e)
{
	assert_int_equal(proto_req_init(e, f->req, sizeof(f->req), REQ_ID),
			0);
}

static void
test_unsupported_without_callback(void **state)
{
	struct fx *f = *state;
	struct proto_enc e;
	struct proto_reply r;
	uint16_t i;

	f->node.stats = NULL;
	begin(f, &e);
	assert_int_equal(proto_req_add_stats(&e), 0);
	/* malformed STATS ops too: the node does not implement the op */
	assert_int_equal(proto_req_add_raw(&e, PROTO_OP_STATS, 0, "xyz", 3),
			0);
	assert_int_equal(proto_req_add_raw(&e, PROTO_OP_STATS, 0xff, NULL, 0),
			0);
	assert_int_equal(proto_req_add_status(&e), 0);
	run(f, &e);
	for (i = 0; i < 3; i++) {
		r = reply_for(f, i);
		assert_int_equal(r.opcode, PROTO_OP_STATS);
		assert_int_equal(r.status, PROTO_ST_UNSUPPORTED);
		assert_int_equal(r.body.len, 0);
	}
	assert_int_equal(reply_for(f, 3).status, PROTO_ST_OK);
	assert_int_equal(f->out.status[PROTO_ST_UNSUPPORTED], 3);
	assert_int_equal(f->calls, 0);
}

static void
test_counters(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = { .family = PROTO_AF_NONE };
	struct proto_stats_iter it;
	struct proto_bytes name;
	struct proto_enc e;
	struct proto_reply r;
	uint64_t v;

	begin(f, &e);
	assert_int_equal(proto_req_add_register(&e, "d1", 2, 1, &ep, NULL, 0,
			0), 0);
	assert_int_equal(proto_req_add_stats(&e), 0);
	assert_int_equal(proto_req_add_whereis(&e, "d1", 2), 0);
	run(f, &e);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->last_max, PROTO_STATS_MAX);
	assert_int_equal(reply_for(f, 0).status, PROTO_ST_OK);
	assert_int_equal(reply_for(f, 2).status, PROTO_ST_OK);
	r = reply_for(f, 1);
	assert_int_equal(r.opcode, PROTO_OP_STATS);
	assert_int_equal(r.status, PROTO_ST_OK);
	assert_int_equal(r.u.stats.count, 3);
	proto_stats_iter_init(&it, &r.u.stats);
	assert_int_equal(proto_stats_next(&it, &name, &v), PROTO_OK);
	assert_int_equal(name.len, 8);
	assert_memory_equal(name.ptr, "requests", 8);
	assert_int_equal(v, 7);
	assert_int_equal(proto_stats_next(&it, &name, &v), PROTO_OK);
	assert_memory_equal(name.ptr, "entries", 7);
	assert_int_equal(v, 1);		/* the REGISTER before it ran */
	assert_int_equal(proto_stats_next(&it, &name, &v), PROTO_OK);
	assert_memory_equal(name.ptr, "calls", 5);
	assert_int_equal(v, 1);
	assert_int_equal(proto_stats_next(&it, &name, &v), PROTO_END);
	assert_int_equal(f->out.status[PROTO_ST_OK], 3);
}

static void
test_malformed_requests(void **state)
{
	struct fx *f = *state;
	struct proto_enc e;
	struct proto_reply r;

	begin(f, &e);
	assert_int_equal(proto_req_add_raw(&e, PROTO_OP_STATS, 0, "x", 1), 0);
	assert_int_equal(proto_req_add_raw(&e, PROTO_OP_STATS, 1, NULL, 0), 0);
	run(f, &e);
	r = reply_for(f, 0);
	assert_int_equal(r.status, PROTO_ST_BAD_REQUEST);
	assert_int_equal(r.u.field, PROTO_F_OP_LENGTH);
	r = reply_for(f, 1);
	assert_int_equal(r.status, PROTO_ST_BAD_REQUEST);
	assert_int_equal(r.u.field, PROTO_F_OP_FLAGS);
	assert_int_equal(f->calls, 0);
}

static void
test_callback_failures_are_internal(void **state)
{
	static const enum cb_mode modes[] = { CB_FAIL, CB_TOO_MANY,
		CB_BAD_NAME, CB_DUP };
	struct fx *f = *state;
	struct proto_enc e;
	struct proto_reply r;
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		f->mode = modes[i];
		begin(f, &e);
		assert_int_equal(proto_req_add_stats(&e), 0);
		assert_int_equal(proto_req_add_status(&e), 0);
		run(f, &e);
		r = reply_for(f, 0);
		assert_int_equal(r.opcode, PROTO_OP_STATS);
		assert_int_equal(r.status, PROTO_ST_INTERNAL);
		assert_int_equal(r.body.len, 0);
		assert_int_equal(reply_for(f, 1).status, PROTO_ST_OK);
	}
}

/* A list larger than one reply op is cut from the end to what fits. */
static void
test_long_list_is_cut(void **state)
{
	struct fx *f = *state;
	struct proto_stats_iter it;
	struct proto_bytes name;
	struct proto_enc e;
	struct proto_reply r;
	uint64_t v, k = 0;

	f->mode = CB_HUGE;
	begin(f, &e);
	assert_int_equal(proto_req_add_stats(&e), 0);
	run(f, &e);
	r = reply_for(f, 0);
	assert_int_equal(r.status, PROTO_ST_OK);
	/* 2 + 19 x (1 + 64 + 8) = 1389; a 20th would make 1462 > 1450 */
	assert_int_equal(r.u.stats.count, 19);
	proto_stats_iter_init(&it, &r.u.stats);
	while (proto_stats_next(&it, &name, &v) == PROTO_OK) {
		assert_int_equal(name.len, 64);
		assert_int_equal(v, k++);
	}
	assert_int_equal(k, 19);
}

/*
 * Many STATS ops in one request: full answers while the budget allows,
 * `overloaded` (retry-after 0) after that; every op answered once.
 */
static void
test_reply_budget(void **state)
{
	struct fx *f = *state;
	struct proto_enc e;
	struct proto_reply r;
	unsigned int ok = 0, over = 0;
	uint16_t i;

	f->mode = CB_HUGE;	/* 1389-byte bodies: one per datagram */
	begin(f, &e);
	for (i = 0; i < 40; i++)
		assert_int_equal(proto_req_add_stats(&e), 0);
	run(f, &e);
	assert_true(f->out.n <= EXEC_MAX_REPLIES);
	for (i = 0; i < 40; i++) {
		r = reply_for(f, i);
		if (r.status == PROTO_ST_OK)
			ok++;
		else {
			assert_int_equal(r.status, PROTO_ST_OVERLOADED);
			assert_int_equal(r.u.retry_after_ms, 0);
			over++;
		}
	}
	assert_int_equal(ok, EXEC_MAX_REPLIES - 3);
	assert_int_equal(over, 40 - ok);
	assert_int_equal(f->out.ops, 40);
}

static void
fake_readiness(void *arg, uint64_t now, struct proto_readiness *out)
{
	struct fx *f = arg;

	f->calls++;
	assert_int_equal(now, NOW);
	out->state = PROTO_READY_SYNCING;
	out->synced = 1;
	out->alive = 3;
	out->owners = 2;
	out->retry_after_ms = 100;
}

static void
test_readiness(void **state)
{
	struct fx *f = *state;
	struct proto_enc e;
	struct proto_reply r;

	/* standalone: always serving, every partition its own */
	begin(f, &e);
	assert_int_equal(proto_req_add_readiness(&e), 0);
	assert_int_equal(proto_req_add_raw(&e, PROTO_OP_READINESS, 0, "x", 1),
			0);
	run(f, &e);
	r = reply_for(f, 0);
	assert_int_equal(r.status, PROTO_ST_OK);
	assert_int_equal(r.u.ready.state, PROTO_READY_SERVING);
	assert_int_equal(r.u.ready.partitions, 2);
	assert_int_equal(r.u.ready.synced, 2);
	assert_int_equal(r.u.ready.alive, 1);
	assert_int_equal(r.u.ready.retry_after_ms, 0);
	r = reply_for(f, 1);	/* READINESS has no body */
	assert_int_equal(r.status, PROTO_ST_BAD_REQUEST);
	assert_int_equal(r.u.field, PROTO_F_OP_LENGTH);

	/* a cluster node: its callback answers */
	f->node.readiness = fake_readiness;
	f->node.readiness_arg = f;
	f->calls = 0;
	begin(f, &e);
	assert_int_equal(proto_req_add_readiness(&e), 0);
	run(f, &e);
	assert_int_equal(f->calls, 1);
	r = reply_for(f, 0);
	assert_int_equal(r.status, PROTO_ST_OK);
	assert_int_equal(r.u.ready.state, PROTO_READY_SYNCING);
	assert_int_equal(r.u.ready.partitions, 2);
	assert_int_equal(r.u.ready.synced, 1);
	assert_int_equal(r.u.ready.owners, 2);
	assert_int_equal(r.u.ready.retry_after_ms, 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_unsupported_without_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_malformed_requests,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_callback_failures_are_internal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_list_is_cut, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_reply_budget, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_readiness, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
