/*
 * test_cluster_amp.c - the reply byte budget of a cluster node
 * (clu_request_mapped() with an exec_budget): the writes of a request from
 * a source the node does not trust are forwarded to their owner, which
 * answers without knowing of any budget; the node the client talks to
 * applies the sub-request's budget when it relays the owner's replies.
 * Two nodes on a perfect in-process network; every request is checked
 * for: every op answered exactly once, reply bytes <= EXEC_AMP x request
 * bytes; and that a trusted request (no budget) keeps its full answers.
 * The same harness checks that the sub-requests of many client requests
 * to one owner share FWD datagrams (and their answers FWD_REPLY ones),
 * and that one bad unit makes the whole FWD change nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <urcu/urcu-qsbr.h>

#include "clu.h"
#include "proto.h"
#include "ring_hash.h"

#define NODES	2
#define PORT	7401
#define IP(i)	(0x0a000001u + (i))
#define MAXREP	256

struct node {
	struct trk *t;
	struct clu *c;
	char name[8];
};

static struct node nd[NODES];
static uint64_t now_ms = 1000;
static struct clu_dgram dg[64];
static struct clu_reply rp[MAXREP];
static size_t nrp;			/* replies of node 0 collected */
static struct clu_reply junk[32];

static void
boot(uint32_t i)
{
	struct trk_config tc = { .nparts = 2, .node_id = i + 1,
		.expected_entries = 4096, .change_queue_len = 4096 };
	struct exec_node xn = { .node_id = i + 1, .name = nd[i].name };
	struct mbr_addr seeds[NODES];
	struct clu_config cc;
	uint32_t k;

	snprintf(nd[i].name, sizeof(nd[i].name), "n%u", i + 1);
	clu_config_default(&cc);
	cc.node_id = i + 1;
	cc.name = nd[i].name;
	cc.name_len = strlen(nd[i].name);
	cc.addr.ip = IP(i);
	cc.addr.port = PORT;
	cc.incarnation = 1;
	cc.seed = 11 + i;
	cc.mbr.probe_interval = 200;
	cc.mbr.probe_timeout = 80;
	cc.mbr.suspicion_mult = 3;
	cc.policy.strategy = RING_STRATEGY_RING;
	cc.policy.quorum = 1;
	cc.policy.vnodes = 256;
	cc.fwd_timeout_ms = 1000;
	nd[i].t = trk_create(&tc);
	assert_non_null(nd[i].t);
	nd[i].c = clu_create(&cc, nd[i].t, &xn, now_ms);
	assert_non_null(nd[i].c);
	for (k = 0; k < NODES; k++) {
		seeds[k].ip = IP(k);
		seeds[k].port = PORT;
	}
	clu_join(nd[i].c, seeds, NODES, now_ms);
}

/* Delivers everything at once; node 0's client replies go to rp. */
static void
pump(void)
{
	size_t n, k, j;
	bool more = true;

	while (more) {
		more = false;
		for (j = 0; j < NODES; j++) {
			while ((n = clu_poll_send(nd[j].c, dg, 64)) > 0) {
				more = true;
				for (k = 0; k < n; k++) {
					struct mbr_addr src = { IP(j), PORT };
					uint32_t to = dg[k].dst.ip - IP(0);

					if (to < NODES)
						clu_receive(nd[to].c, &src,
							dg[k].buf, dg[k].len,
							now_ms);
				}
			}
		}
	}
	while (nrp < MAXREP &&
	       (n = clu_poll_reply(nd[0].c, rp + nrp, MAXREP - nrp)) > 0)
		nrp += n;
	/* node 1's client replies are not looked at */
	while (clu_poll_reply(nd[1].c, junk, 32) > 0)
		;
}

static void
run(uint64_t ms)
{
	uint64_t end = now_ms + ms;
	uint32_t j;

	while (now_ms < end) {
		now_ms++;
		for (j = 0; j < NODES; j++)
			clu_tick(nd[j].c, now_ms);
		pump();
		urcu_qsbr_quiescent_state();
	}
}

static int
setup(void **state)
{
	uint32_t i;

	(void)state;
	for (i = 0; i < NODES; i++)
		boot(i);
	for (i = 0; i < 10000 && (!clu_ready(nd[0].c) ||
			!clu_ready(nd[1].c) || clu_ring_nodes(nd[0].c) < 2 ||
			clu_ring_nodes(nd[1].c) < 2); i += 10)
		run(10);
	assert_true(clu_ready(nd[0].c) && clu_ring_nodes(nd[0].c) == 2);
	return 0;
}

static int
teardown(void **state)
{
	uint32_t i;

	(void)state;
	for (i = 0; i < NODES; i++) {
		clu_destroy(nd[i].c);
		trk_destroy(nd[i].t);
	}
	return 0;
}

/* Names of 1 byte owned by node 2 (so node 1 forwards their writes). */
static size_t
foreign_names(uint8_t *names, size_t max)
{
	size_t n = 0;
	unsigned int b;

	for (b = 'A'; b <= 'z' && n < max; b++) {
		uint8_t c = (uint8_t)b;

		if (clu_owner_of(nd[0].c, ring_hash_name(&c, 1)) == 2)
			names[n++] = c;
	}
	return n;
}

/* Sends req to node 0 as client 1 with the budget; the replies in rp. */
static size_t
request(const uint8_t *req, size_t len, const struct exec_budget *b,
		uint64_t req_id, uint16_t nops, uint8_t *status)
{
	uint8_t tag[CLU_CLIENT_TAG] = { 1 }, seen[PROTO_MAX_OPS] = { 0 };
	size_t bytes = 0, k, answered = 0;

	nrp = 0;
	clu_request_mapped(nd[0].c, tag, req, len, NULL, 0, b, now_ms);
	run(50);
	for (k = 0; k < nrp; k++) {
		struct proto_reply rr;
		struct proto_rep rep;

		assert_int_equal(proto_rep_parse(&rep, rp[k].buf, rp[k].len),
				0);
		if (rep.req_id != req_id)
			continue;
		bytes += rp[k].len;
		while (proto_rep_next(&rep, &rr) == 0) {
			assert_true(rr.index < nops);
			assert_int_equal(seen[rr.index], 0);
			seen[rr.index] = 1;
			status[rr.index] = rr.status;
			answered++;
		}
	}
	assert_int_equal(answered, nops);
	return bytes;
}

static void
test_relayed_replies_keep_the_budget(void **state)
{
	struct proto_endpoint ep = { .family = PROTO_AF_IPV6, .port = 9,
		.addr = { 0xfd } }, none = { 0 };
	uint8_t names[64], meta[PROTO_META_MAX], buf[PROTO_MAX_DGRAM];
	uint8_t status[PROTO_MAX_OPS], tag[CLU_CLIENT_TAG] = { 2 };
	struct proto_enc e;
	size_t n, i, len, bytes, round;
	uint64_t id = 100, wrong = 1;
	uint32_t seed = 4242;
	double worst = 0;
	int rc;

	(void)state;
	n = foreign_names(names, 40);
	assert_true(n >= 8);
	memset(meta, 'm', sizeof(meta));
	/* big entries, registered at their owner */
	for (i = 0; i < n; i++) {
		proto_req_init(&e, buf, sizeof(buf), 1);
		assert_int_equal(proto_req_add_register(&e, &names[i], 1,
				1000 + i, &ep, meta, sizeof(meta), 0), 0);
		len = proto_enc_finish(&e);
		clu_request(nd[1].c, tag, buf, len, now_ms);
	}
	run(200);
	assert_int_equal(trk_count(nd[0].t), n);

	for (round = 0; round < 306; round++) {
		struct exec_budget b = { 0 };
		uint16_t nops = 0;
		bool trusted = round == 5;
		size_t count = round < 6 ? n : 1 + (seed >> 16) % 50;

		proto_req_init(&e, buf, sizeof(buf), ++id);
		for (i = 0; i < count; i++) {
			size_t kind = round < 6 ? (i + round) % 6 :
				(seed >> 20) % 7, nm_i = round < 6 ? i :
				(seed >> 8) % n;
			char nm[24];

			seed = seed * 1103515245u + 12345u;
			switch (kind) {
			case 0:	/* conflict: the owner answers the big entry */
				rc = proto_req_add_register(&e, &names[nm_i],
						1, 1, &none, NULL, 0, 0);
				break;
			case 1:	/* a new name, owned wherever: a receipt */
				snprintf(nm, sizeof(nm), "new-%zu-%zu", round,
						i);
				rc = proto_req_add_register(&e, nm, strlen(nm),
						7, &none, NULL, 0, 0);
				break;
			case 2:	/* a mismatch: the big entry */
				rc = proto_req_add_unregister(&e, &names[nm_i],
						1, &wrong);
				break;
			case 3:	/* a tiny op for the owner */
				rc = proto_req_add_leave(&e, "g", 1,
						&names[nm_i], 1);
				break;
			case 4:	/* found: the big entry */
				rc = proto_req_add_whereis_or_register(&e,
						&names[nm_i], 1, 1, &none,
						NULL, 0, 0);
				break;
			case 5: /* a read of our replica (or along) */
				rc = proto_req_add_whereis(&e, &names[nm_i],
						1);
				break;
			default: /* a big registration of a new name */
				snprintf(nm, sizeof(nm), "big-%zu-%zu", round,
						i);
				rc = proto_req_add_whereis_or_register(&e, nm,
						strlen(nm), 7, &ep, meta,
						sizeof(meta), 0);
				break;
			}
			if (rc != 0)
				break;
			nops++;
		}
		len = proto_enc_finish(&e);
		if (!trusted)
			b.reply_bytes_max = EXEC_AMP * len;
		bytes = request(buf, len, &b, id, nops, status);
		if (trusted) {
			/* every big answer given in full */
			for (i = 0; i < n; i++)
				if ((i + round) % 6 == 0)
					assert_int_equal(status[i],
						PROTO_ST_ALREADY_REGISTERED);
			assert_true(bytes > EXEC_AMP * len);
			printf("# trusted: %zu ops in %zu bytes drew %zu bytes "
				"(%.1fx)\n", n, len, bytes,
				(double)bytes / (double)len);
			continue;
		}
		for (i = 0; i < n && round < 6; i++)
			if ((i + round) % 6 == 1)
				assert_int_equal(status[i], PROTO_ST_OK);
		if ((double)bytes / (double)len > worst)
			worst = (double)bytes / (double)len;
		if (bytes > EXEC_AMP * len)
			fail_msg("round %zu: %zu reply bytes for %zu", round,
					bytes, len);
	}
	printf("# cluster, untrusted, writes forwarded to their owner: worst "
		"case %.3f reply bytes per request byte\n", worst);
	/* the new names were written */
	assert_true(trk_count(nd[1].t) > n);
}

/* n names "<prefix>-<i>" owned by node 2 (node 1 forwards their writes). */
static void
foreign_many(const char *prefix, char names[][16], size_t n)
{
	size_t k = 0;
	unsigned int i;

	for (i = 0; k < n && i < 100000; i++) {
		snprintf(names[k], 16, "%s-%u", prefix, i);
		if (clu_owner_of(nd[0].c, ring_hash_name(names[k],
				strlen(names[k]))) == 2)
			k++;
	}
	assert_int_equal(k, n);
}

/* n one-op REGISTER requests to node 0, ids from id0, nothing pumped. */
static void
register_each(char names[][16], size_t n, uint64_t id0)
{
	uint8_t tag[CLU_CLIENT_TAG] = { 3 }, buf[PROTO_MAX_DGRAM];
	struct proto_endpoint none = { 0 };
	struct proto_enc e;
	size_t i;

	for (i = 0; i < n; i++) {
		proto_req_init(&e, buf, sizeof(buf), id0 + i);
		assert_int_equal(proto_req_add_register(&e, names[i],
				strlen(names[i]), 500 + i, &none, NULL, 0, 0),
				0);
		clu_request(nd[0].c, tag, buf, proto_enc_finish(&e), now_ms);
	}
}

/* Node j's queued datagrams into dg (at most 64); how many of type t. */
static size_t
take_sends(uint32_t j, size_t *n, uint8_t t)
{
	size_t k, of = 0;

	*n = clu_poll_send(nd[j].c, dg, 64);
	for (k = 0; k < *n; k++)
		of += dg[k].buf[3] == t;
	return of;
}

static void
deliver(uint32_t from, size_t n)
{
	struct mbr_addr src = { IP(from), PORT };
	size_t k;

	for (k = 0; k < n; k++)
		clu_receive(nd[dg[k].dst.ip - IP(0)].c, &src, dg[k].buf,
				dg[k].len, now_ms);
}

/* The status of each reply of node 0 to ids id0.., in st (count returned). */
static size_t
statuses(uint64_t id0, size_t n, uint8_t *st)
{
	size_t k, got = 0;

	for (k = 0; k < nrp; k++) {
		struct proto_reply rr;
		struct proto_rep rep;

		assert_int_equal(proto_rep_parse(&rep, rp[k].buf, rp[k].len),
				0);
		if (rep.req_id < id0 || rep.req_id >= id0 + n)
			continue;
		assert_int_equal(proto_rep_next(&rep, &rr), 0);
		st[rep.req_id - id0] = rr.status;
		got++;
	}
	return got;
}

#define UNITS	40

static void
test_fwd_units_share_datagrams(void **state)
{
	char names[UNITS][16];
	uint8_t st[UNITS];
	struct clu_stats cs;
	size_t n, fwds, replies, i, before = trk_count(nd[1].t);

	(void)state;
	foreign_many("u", names, UNITS);
	run(5);
	nrp = 0;
	register_each(names, UNITS, 9000);
	fwds = take_sends(0, &n, 7 /* CLU_T_FWD */);
	printf("# %d forwarded requests went in %zu FWD datagrams\n", UNITS,
			fwds);
	assert_true(fwds >= 1 && fwds <= 3);
	clu_get_stats(nd[0].c, &cs);
	assert_int_equal(cs.fwd_out, UNITS);
	deliver(0, n);
	assert_int_equal(trk_count(nd[1].t), before + UNITS);
	replies = take_sends(1, &n, 8 /* CLU_T_FWD_REPLY */);
	printf("# their %d answers in %zu FWD_REPLY datagrams\n", UNITS,
			replies);
	assert_true(replies >= 1 && replies <= 3);
	deliver(1, n);
	run(50);
	memset(st, 0xff, sizeof(st));
	assert_int_equal(statuses(9000, UNITS, st), UNITS);
	for (i = 0; i < UNITS; i++)
		assert_int_equal(st[i], PROTO_ST_OK);
	assert_int_equal(trk_count(nd[0].t), trk_count(nd[1].t));
}

static void
test_fwd_bad_unit_changes_nothing(void **state)
{
	char names[UNITS][16];
	uint8_t st[UNITS];
	struct clu_stats before, after;
	size_t n, fwds, k, i, count = trk_count(nd[1].t);

	(void)state;
	foreign_many("v", names, UNITS);
	run(5);
	nrp = 0;
	register_each(names, 4, 9100);
	fwds = take_sends(0, &n, 7);	/* one per partition used */
	assert_true(fwds >= 1 && fwds <= 2);
	clu_get_stats(nd[1].c, &before);
	for (k = 0; k < n; k++)
		if (dg[k].buf[3] == 7)
			dg[k].len--;	/* the last unit's request runs short */
	deliver(0, n);
	clu_get_stats(nd[1].c, &after);
	assert_int_equal(after.rx_malformed, before.rx_malformed + fwds);
	assert_int_equal(after.fwd_in, before.fwd_in);
	assert_int_equal(trk_count(nd[1].t), count);	/* not even unit 1 */
	/* the origin cannot know: outcome unknown once fwd_timeout_ms pass */
	run(1100);
	memset(st, 0xff, sizeof(st));
	assert_int_equal(statuses(9100, 4, st), 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(st[i], PROTO_ST_NO_NODE_AVAILABLE);
	assert_int_equal(trk_count(nd[0].t), count);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
				test_relayed_replies_keep_the_budget, setup,
				teardown),
		cmocka_unit_test_setup_teardown(
				test_fwd_units_share_datagrams, setup,
				teardown),
		cmocka_unit_test_setup_teardown(
				test_fwd_bad_unit_changes_nothing, setup,
				teardown),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
