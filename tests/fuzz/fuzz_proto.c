/*
 * fuzz_proto.c - libFuzzer target for the client wire protocol decoders.
 *
 * Each input is decoded both as a request and as a reply datagram. What
 * decodes is encoded again and decoded a second time, and the two decodes
 * must agree op for op. The encoding is canonical (no slack anywhere in
 * the format), so when every op of the input decoded, the re-encoded
 * datagram must also be byte-for-byte the input. Errors are turned into
 * the answers a node would send, and those answers must decode to the
 * same status and field. Out-of-bounds reads are left to ASan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 512

/* A failed property names its line: libFuzzer only shows the abort. */
#define check(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "fuzz_proto: check failed at %s:%d: %s\n", \
					__FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

static int
bytes_eq(struct proto_bytes a, struct proto_bytes b)
{
	return a.len == b.len && (a.len == 0 || !memcmp(a.ptr, b.ptr, a.len));
}

/* The answer a node sends for a request error must decode back to it. */
static void
check_error_answer(int err, uint16_t index, uint8_t opcode, uint8_t field)
{
	uint8_t buf[64];
	struct proto_enc e;
	struct proto_rep rep;
	struct proto_reply r;

	check(proto_rep_init(&e, buf, sizeof(buf), 1) == PROTO_OK);
	check(proto_rep_add_error(&e, index, opcode, err, field) == PROTO_OK);
	check(proto_rep_parse(&rep, buf, proto_enc_finish(&e)) == PROTO_OK);
	check(proto_rep_next(&rep, &r) == PROTO_OK);
	check(r.index == index && r.opcode == opcode);
	if (err == PROTO_EMALFORMED)
		check(r.status == PROTO_ST_BAD_REQUEST && r.u.field == field);
	else if (err == PROTO_EUNSUPP)
		check(r.status == PROTO_ST_UNSUPPORTED);
}

static void
fuzz_request(const uint8_t *data, size_t size)
{
	static struct proto_op ops[MAX_OPS];
	uint8_t out[PROTO_MAX_DGRAM];
	struct proto_req req, again;
	struct proto_enc e;
	struct proto_op op;
	int n = 0, bad = 0, rc, i;
	size_t len;

	rc = proto_req_parse(&req, data, size);
	if (rc == PROTO_EVERSION || rc == PROTO_ETOOLARGE ||
			rc == PROTO_EMALFORMED)
		check_error_answer(rc, PROTO_INDEX_DGRAM, 0, req.bad_field);
	if (rc != PROTO_OK)
		return;
	check(proto_req_init(&e, out, sizeof(out), req.req_id) == PROTO_OK);
	check(proto_req_set_replicas(&e, req.replicas) == PROTO_OK);
	while ((rc = proto_req_next_op(&req, &op)) != PROTO_END) {
		check(op.index == n + bad);
		if (rc == PROTO_EMALFORMED) {
			check_error_answer(rc, op.index, op.opcode,
					op.bad_field);
			bad++;
			continue;
		}
		check(rc == PROTO_OK || rc == PROTO_EUNSUPP);
		check(n < MAX_OPS);
		ops[n++] = op;
		check(proto_req_add(&e, &op) == PROTO_OK);
	}
	check(n + bad == req.nops);
	len = proto_enc_finish(&e);
	if (n == 0)
		return;
	if (bad == 0)
		check(len == size && !memcmp(out, data, size));
	check(proto_req_parse(&again, out, len) == PROTO_OK);
	check(again.req_id == req.req_id && again.nops == n &&
	      again.replicas == req.replicas);
	for (i = 0; i < n; i++) {
		rc = proto_req_next_op(&again, &op);
		check(rc == PROTO_OK || rc == PROTO_EUNSUPP);
		check(op.opcode == ops[i].opcode && op.flags == ops[i].flags);
		check(bytes_eq(op.body, ops[i].body));
		check(bytes_eq(op.name, ops[i].name));
		check(bytes_eq(op.group, ops[i].group));
		check(bytes_eq(op.meta, ops[i].meta));
		check(bytes_eq(op.cursor, ops[i].cursor));
		check(op.handle == ops[i].handle && op.ttl_ms == ops[i].ttl_ms);
		check(op.max_count == ops[i].max_count);
		check(!memcmp(&op.ep, &ops[i].ep, sizeof(op.ep)));
	}
	check(proto_req_next_op(&again, &op) == PROTO_END);
}

static void
fuzz_reply(const uint8_t *data, size_t size)
{
	static struct proto_reply reps[MAX_OPS];
	uint8_t out[PROTO_MAX_DGRAM];
	struct proto_rep rep, again;
	struct proto_reply r;
	struct proto_enc e;
	int n = 0, bad = 0, rc, i;
	size_t len;

	if (proto_rep_parse(&rep, data, size) != PROTO_OK)
		return;
	check(proto_rep_init(&e, out, sizeof(out), rep.req_id) == PROTO_OK);
	while ((rc = proto_rep_next(&rep, &r)) != PROTO_END) {
		if (rc != PROTO_OK) {
			check(rc == PROTO_EMALFORMED);
			bad++;
			continue;
		}
		if (proto_rep_body_kind(r.opcode, r.status) ==
				PROTO_BODY_PAGE) {
			struct proto_page_iter it;
			struct proto_entry ent;
			int k = 0;

			proto_page_iter_init(&it, &r.u.page);
			while (proto_page_next(&it, &ent) == PROTO_OK)
				k++;
			check(k == r.u.page.count);
		}
		check(n < MAX_OPS);
		reps[n++] = r;
		check(proto_rep_add(&e, &r) == PROTO_OK);
	}
	len = proto_enc_finish(&e);
	if (n == 0)
		return;
	if (bad == 0)
		check(len == size && !memcmp(out, data, size));
	check(proto_rep_parse(&again, out, len) == PROTO_OK);
	for (i = 0; i < n; i++) {
		check(proto_rep_next(&again, &r) == PROTO_OK);
		check(r.index == reps[i].index && r.opcode == reps[i].opcode &&
				r.status == reps[i].status);
		check(bytes_eq(r.body, reps[i].body));
	}
	check(proto_rep_next(&again, &r) == PROTO_END);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request(data, size);
	fuzz_reply(data, size);
	return 0;
}
