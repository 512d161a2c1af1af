/*
 * bench_proto.c - encode and decode rates of the client wire protocol.
 *
 * The datagrams are the design load: a gateway's REGISTER batch (16 ops,
 * 24-byte names, 16-byte metadata, IPv4 endpoints: 1056 bytes) and lookup
 * batches of WHEREIS ops (1 and 32 per datagram), plus the node's side of
 * a lookup batch (16 entries in one reply). Items are ops, so items/s is
 * ops per second on one core.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "proto.h"

static const struct proto_endpoint EP = { .family = PROTO_AF_IPV4,
	.port = 4000, .addr = { 10, 1, 2, 3 } };
static const char META[] = "fw=1.2.3;hw=rev4";	/* 16 bytes */

static volatile uint64_t sink;

/* 24-byte names "device-" + 17 digits, made once, outside timed loops. */
static char names[32][25];

__attribute__((constructor)) static void
make_names(void)
{
	int i;

	for (i = 0; i < 32; i++)
		snprintf(names[i], sizeof(names[i]), "device-%017u",
				(unsigned int)i);
}

static size_t
encode_register16(uint8_t *buf, uint64_t req_id)
{
	struct proto_enc e;
	int i;

	proto_req_init(&e, buf, PROTO_MAX_DGRAM, req_id);
	for (i = 0; i < 16; i++) {
		proto_req_add_register(&e, names[i], 24, (uint64_t)i, &EP, META,
				16, 60000);
	}
	return proto_enc_finish(&e);
}

static size_t
encode_whereis(uint8_t *buf, int nops)
{
	struct proto_enc e;
	int i;

	proto_req_init(&e, buf, PROTO_MAX_DGRAM, 1);
	for (i = 0; i < nops; i++)
		proto_req_add_whereis(&e, names[i], 24);
	return proto_enc_finish(&e);
}

/* Parse + every op; returns the number of valid ops. */
static int
decode_request(const uint8_t *buf, size_t len)
{
	struct proto_req req;
	struct proto_op op;
	uint64_t acc = 0;
	int n = 0;

	if (proto_req_parse(&req, buf, len) != PROTO_OK)
		return 0;
	while (proto_req_next_op(&req, &op) == PROTO_OK) {
		acc += op.handle + op.name.len;
		n++;
	}
	sink = acc;
	return n;
}

static void
bm_proto_decode_register16(struct bench_state *st)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	size_t len = encode_register16(buf, 1);
	int64_t ops = 0;

	while (bench_keep_running(st))
		ops += decode_request(buf, len);
	if (ops != 16 * bench_iterations(st))
		bench_skip(st, "decode failed");
	bench_set_items(st, ops);
	bench_set_bytes(st, (int64_t)len * bench_iterations(st));
}
BENCH_REGISTER(bm_proto_decode_register16, BENCH_NOARGS);

static void
bm_proto_encode_register16(struct bench_state *st)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	uint64_t id = 0;
	size_t len = 0;

	while (bench_keep_running(st)) {
		len = encode_register16(buf, id++);
		sink = len;
	}
	bench_set_items(st, 16 * bench_iterations(st));
	bench_counter(st, "dgram_bytes", (double)len);
}
BENCH_REGISTER(bm_proto_encode_register16, BENCH_NOARGS);

/* Argument: WHEREIS ops per datagram. */
static void
bm_proto_decode_whereis(struct bench_state *st)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	int nops = (int)bench_arg(st);
	size_t len = encode_whereis(buf, nops);
	int64_t ops = 0;

	while (bench_keep_running(st))
		ops += decode_request(buf, len);
	if (ops != nops * bench_iterations(st))
		bench_skip(st, "decode failed");
	bench_set_items(st, ops);
}
BENCH_REGISTER(bm_proto_decode_whereis, BENCH_ARGS(1, 32));

static void
bm_proto_encode_whereis(struct bench_state *st)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	int nops = (int)bench_arg(st);

	while (bench_keep_running(st))
		sink = encode_whereis(buf, nops);
	bench_set_items(st, nops * bench_iterations(st));
}
BENCH_REGISTER(bm_proto_encode_whereis, BENCH_ARGS(1, 32));

/* The node answering 16 WHEREIS hits: 16 entries into one reply. */
static size_t
encode_entries16(uint8_t *buf)
{
	struct proto_entry ent = { .node = 1, .ver = { 42, 1 },
		.ttl_ms = 30000, .ep = EP,
		.meta = { (const uint8_t *)META, 16 } };
	struct proto_enc e;
	int i;

	proto_rep_init(&e, buf, PROTO_MAX_DGRAM, 1);
	for (i = 0; i < 16; i++) {
		ent.handle = (uint64_t)i;
		ent.name.ptr = (const uint8_t *)names[i];
		ent.name.len = 24;
		proto_rep_add_entry(&e, (uint16_t)i, PROTO_OP_WHEREIS,
				PROTO_ST_OK, &ent);
	}
	return proto_enc_finish(&e);
}

static void
bm_proto_encode_reply_entries16(struct bench_state *st)
{
	uint8_t buf[PROTO_MAX_DGRAM];

	while (bench_keep_running(st))
		sink = encode_entries16(buf);
	bench_set_items(st, 16 * bench_iterations(st));
}
BENCH_REGISTER(bm_proto_encode_reply_entries16, BENCH_NOARGS);

static void
bm_proto_decode_reply_entries16(struct bench_state *st)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	struct proto_rep rep;
	struct proto_reply r;
	size_t len = encode_entries16(buf);
	int64_t ops = 0;

	while (bench_keep_running(st)) {
		uint64_t acc = 0;

		if (proto_rep_parse(&rep, buf, len) != PROTO_OK)
			break;
		while (proto_rep_next(&rep, &r) == PROTO_OK) {
			acc += r.u.entry.handle;
			ops++;
		}
		sink = acc;
	}
	if (ops != 16 * bench_iterations(st))
		bench_skip(st, "decode failed");
	bench_set_items(st, ops);
}
BENCH_REGISTER(bm_proto_decode_reply_entries16, BENCH_NOARGS);
