/*
 * test_exec.c - cmocka tests of lib/exec (one request datagram in, replies out).
 *
 * Requests are built with the proto ENCODER and every reply datagram is
 * taken apart with the proto DECODER, as a client would: each test goes
 * over real bytes. run() checks what must hold for every answered
 * request (each reply datagram parses, carries the request id, is at most
 * PROTO_MAX_DGRAM bytes, there are at most EXEC_MAX_REPLIES of them) and
 * keeps the decoded reply ops for the test to look at.
 *
 * RCU: each test registers its thread in setup, stays online while it
 * calls exec_datagram(), announces a quiescent state before each request
 * (the reply bytes are copies, so nothing from the tracker is held across
 * it), and destroys the tracker and unregisters in teardown.
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

#define NODE_ID		7u
#define NODE_NAME	"swarm-test-node"
#define T0		1000000ull	/* `now` of most tests, in ms */
#define START_MS	(T0 - 5000)	/* the node started 5 s before T0 */
#define MAX_REPS	(PROTO_MAX_OPS + 8)

struct fx {
	struct trk *t;
	struct exec_node node;
	struct exec_out *out;
	uint64_t req_id;		/* of the last request run */
	int rc;				/* of the last exec_datagram() */
	size_t nreps;
	struct proto_reply reps[MAX_REPS];
	size_t dgram_of[MAX_REPS];	/* reply datagram of each reply op */
};

struct req {
	uint8_t buf[PROTO_MAX_DGRAM + 64];
	struct proto_enc e;
	uint64_t id;
};

static int
fx_setup_parts(void **state, uint32_t nparts)
{
	struct trk_config cfg = {
		.nparts = nparts,
		.node_id = NODE_ID,
		.expected_entries = 4096,
	};
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->out = calloc(1, sizeof(*f->out));
	if (f->out == NULL)
		return -1;
	urcu_qsbr_register_thread();
	f->t = trk_create(&cfg);
	if (f->t == NULL)
		return -1;
	f->node.node_id = NODE_ID;
	f->node.name = NODE_NAME;
	f->node.start_ms = START_MS;
	*state = f;
	return 0;
}

static int
fx_setup(void **state)
{
	return fx_setup_parts(state, 4);
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	trk_destroy(f->t);
	urcu_qsbr_thread_offline();
	urcu_qsbr_unregister_thread();
	free(f->out);
	free(f);
	return 0;
}

/* ---- building requests ---- */

static void
req_begin(struct req *r, uint64_t id)
{
	r->id = id;
	assert_int_equal(proto_req_init(&r->e, r->buf, PROTO_MAX_DGRAM, id), 0);
}

static size_t
req_end(struct req *r)
{
	size_t n = proto_enc_finish(&r->e);

	assert_true(n >= PROTO_HDR_LEN);
	return n;
}

static struct proto_endpoint
ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct proto_endpoint ep;

	memset(&ep, 0, sizeof(ep));
	ep.family = PROTO_AF_IPV4;
	ep.port = port;
	ep.addr[0] = a;
	ep.addr[1] = b;
	ep.addr[2] = c;
	ep.addr[3] = d;
	return ep;
}

/* ---- running a request and decoding its replies ---- */

static uint64_t
rd_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Executes buf[0..len) at now and decodes every reply datagram into
 * f->reps. Returns exec_datagram()'s result.
 */
static int
run_raw(struct fx *f, const void *buf, size_t len, uint64_t now)
{
	struct exec_out *o = f->out;
	size_t d;

	urcu_qsbr_quiescent_state();
	f->nreps = 0;
	f->req_id = len >= 12 ? rd_be64((const uint8_t *)buf + 4) : 0;
	f->rc = exec_datagram(f->t, &f->node, buf, len, now, o);
	if (f->rc == EXEC_DROPPED)
		return f->rc;
	assert_int_equal(f->rc, EXEC_ANSWERED);
	assert_true(o->n >= 1);
	assert_true(o->n <= EXEC_MAX_REPLIES);
	for (d = 0; d < o->n; d++) {
		struct proto_rep rep;
		uint16_t seen = 0;
		int rc;

		assert_true(o->len[d] >= PROTO_HDR_LEN + PROTO_REP_HDR_LEN);
		assert_true(o->len[d] <= PROTO_MAX_DGRAM);
		assert_int_equal(proto_rep_parse(&rep, o->dgram[d], o->len[d]), 0);
		assert_true(rep.req_id == f->req_id);
		assert_true(rep.nops >= 1);
		for (;;) {
			assert_true(f->nreps < MAX_REPS);
			rc = proto_rep_next(&rep, &f->reps[f->nreps]);
			if (rc == PROTO_END)
				break;
			if (rc != 0)
				fail_msg("reply op %zu of datagram %zu does not "
						"decode: %s (field %s)", f->nreps, d,
						proto_err_name(rc),
						proto_field_name(rep.bad_field));
			f->dgram_of[f->nreps] = d;
			f->nreps++;
			seen++;
		}
		assert_int_equal(seen, rep.nops);
	}
	return f->rc;
}

/* The one reply op answering index; fails unless there is exactly one. */
static const struct proto_reply *
rep_at(const struct fx *f, uint16_t index)
{
	const struct proto_reply *found = NULL;
	size_t i, n = 0;

	for (i = 0; i < f->nreps; i++)
		if (f->reps[i].index == index) {
			found = &f->reps[i];
			n++;
		}
	if (n != 1)
		fail_msg("op %u answered %zu times (want exactly once)",
				index, n);
	return found;
}

/* Every op 0..nops-1 answered exactly once, and nothing else. */
static void
expect_all_answered(const struct fx *f, uint16_t nops)
{
	uint16_t i;

	for (i = 0; i < nops; i++)
		(void)rep_at(f, i);
	assert_int_equal(f->nreps, nops);
}

/* Runs r at now: must be answered, every op exactly once. */
static void
run(struct fx *f, struct req *r, uint64_t now)
{
	size_t len = req_end(r);

	assert_int_equal(run_raw(f, r->buf, len, now), EXEC_ANSWERED);
	expect_all_answered(f, r->e.nops);
	assert_int_equal(f->out->ops, r->e.nops);
}

static void
expect_status(const struct proto_reply *r, uint8_t opcode, uint8_t status)
{
	if (r->opcode != opcode || r->status != status)
		fail_msg("op %u: got %s/%s, want %s/%s", r->index,
				proto_opcode_name(r->opcode),
				proto_status_name(r->status),
				proto_opcode_name(opcode),
				proto_status_name(status));
}

static void
expect_bad_request(const struct proto_reply *r, uint8_t opcode, uint8_t field)
{
	expect_status(r, opcode, PROTO_ST_BAD_REQUEST);
	if (r->u.field != field)
		fail_msg("op %u: bad_request field %s, want %s", r->index,
				proto_field_name(r->u.field),
				proto_field_name(field));
}

static bool
bytes_eq(struct proto_bytes b, const void *p, size_t len)
{
	return b.len == len && (len == 0 || memcmp(b.ptr, p, len) == 0);
}


/* ---- helpers on top of run() ---- */

/* Registers one name (single-op request); expects ok; returns the receipt. */
static struct proto_receipt
reg_one(struct fx *f, const char *name, uint64_t handle,
		const struct proto_endpoint *ep, const void *meta,
		size_t meta_len, uint32_t ttl, uint64_t now)
{
	struct req r;
	const struct proto_reply *p;

	req_begin(&r, 0x1000 + handle);
	assert_int_equal(proto_req_add_register(&r.e, name, strlen(name),
			handle, ep, meta, meta_len, ttl), 0);
	run(f, &r, now);
	p = rep_at(f, 0);
	expect_status(p, PROTO_OP_REGISTER, PROTO_ST_OK);
	return p->u.receipt;
}

/* WHEREIS of one name; returns the reply (valid until the next run). */
static const struct proto_reply *
whereis_one(struct fx *f, const void *name, size_t len, uint64_t now)
{
	struct req r;

	req_begin(&r, 0x2000);
	assert_int_equal(proto_req_add_whereis(&r.e, name, len), 0);
	run(f, &r, now);
	return rep_at(f, 0);
}

static void
expect_entry(const struct proto_entry *e, uint64_t handle,
		const struct proto_endpoint *ep, const void *name,
		size_t name_len, const void *meta, size_t meta_len)
{
	assert_true(e->handle == handle);
	assert_int_equal(e->node, NODE_ID);
	assert_int_equal(e->ep.family, ep->family);
	assert_int_equal(e->ep.port, ep->port);
	assert_memory_equal(e->ep.addr, ep->addr, sizeof(ep->addr));
	assert_true(bytes_eq(e->name, name, name_len));
	assert_true(bytes_eq(e->meta, meta, meta_len));
}

/* Names "<prefix>-<i>" with i printed as 5 digits. */
static size_t
name_of(char *buf, size_t cap, const char *prefix, unsigned int i)
{
	int n = snprintf(buf, cap, "%s-%05u", prefix, i);

	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

/* Index of a name made by name_of, or UINT32_MAX when it is not one. */
static unsigned int
index_of(struct proto_bytes name, const char *prefix)
{
	size_t pl = strlen(prefix);
	char tmp[16];

	if (name.len != pl + 6 || memcmp(name.ptr, prefix, pl) != 0 ||
			name.ptr[pl] != '-')
		return UINT32_MAX;
	memcpy(tmp, name.ptr + pl + 1, 5);
	tmp[5] = 0;
	return (unsigned int)strtoul(tmp, NULL, 10);
}

/* Metadata of name i: 200 bytes for every third name when big, else short. */
static size_t
meta_of(uint8_t *buf, unsigned int i, bool big)
{
	size_t n, k;

	if (big && i % 3 == 0) {
		n = 200;
		for (k = 0; k < n; k++)
			buf[k] = (uint8_t)(i * 31 + k);
		return n;
	}
	return (size_t)snprintf((char *)buf, 32, "m%u", i);
}

/* Registers names 0..n-1 of prefix, packing as many ops per request as fit. */
static void
reg_many(struct fx *f, const char *prefix, unsigned int n, bool big,
		uint64_t now)
{
	struct proto_endpoint ep = ep4(10, 0, 0, 1, 5683);
	char name[32];
	uint8_t meta[256];
	struct req r;
	unsigned int i = 0, id = 1;
	uint16_t k;

	while (i < n) {
		req_begin(&r, 0x3000 + id++);
		while (i < n) {
			size_t nl = name_of(name, sizeof(name), prefix, i);
			size_t ml = meta_of(meta, i, big);
			int rc = proto_req_add_register(&r.e, name, nl, i, &ep,
					meta, ml, 0);

			if (rc == PROTO_ENOSPC)
				break;
			assert_int_equal(rc, 0);
			i++;
		}
		run(f, &r, now);
		for (k = 0; k < r.e.nops; k++)
			expect_status(rep_at(f, k), PROTO_OP_REGISTER,
					PROTO_ST_OK);
	}
}

/* JOINs (or LEAVEs) names lo..hi-1 (step) of prefix to group; all ok. */
static void
group_many(struct fx *f, bool join, const char *group, const char *prefix,
		unsigned int lo, unsigned int hi, unsigned int step,
		uint64_t now)
{
	uint8_t opcode = join ? PROTO_OP_JOIN : PROTO_OP_LEAVE;
	char name[32];
	struct req r;
	unsigned int i = lo, id = 1;
	uint16_t k;

	while (i < hi) {
		req_begin(&r, 0x4000 + id++);
		while (i < hi) {
			size_t nl = name_of(name, sizeof(name), prefix, i);
			int rc = join ?
				proto_req_add_join(&r.e, group, strlen(group),
						name, nl) :
				proto_req_add_leave(&r.e, group, strlen(group),
						name, nl);

			if (rc == PROTO_ENOSPC)
				break;
			assert_int_equal(rc, 0);
			i += step;
		}
		run(f, &r, now);
		for (k = 0; k < r.e.nops; k++)
			expect_status(rep_at(f, k), opcode, PROTO_ST_OK);
	}
}

/*
 * Walks a whole listing (REGISTERED, or MEMBERS of group) with max_count,
 * one op per request, counting each entry of prefix into counts[index]
 * and checking its content. Returns the number of pages.
 */
static unsigned int
list_all(struct fx *f, uint8_t opcode, const char *group, uint16_t max_count,
		const char *prefix, bool big, unsigned int *counts,
		unsigned int n, uint64_t now)
{
	uint8_t cursor[PROTO_CURSOR_MAX];
	size_t cursor_len = 0;
	unsigned int pages = 0;

	for (;;) {
		const struct proto_reply *p;
		struct proto_page_iter it;
		struct proto_entry e;
		struct req r;
		uint16_t got = 0;
		int rc;

		req_begin(&r, 0x5000 + pages);
		if (opcode == PROTO_OP_REGISTERED)
			rc = proto_req_add_registered(&r.e, cursor, cursor_len,
					max_count);
		else
			rc = proto_req_add_members(&r.e, group, strlen(group),
					cursor, cursor_len, max_count);
		assert_int_equal(rc, 0);
		run(f, &r, now);
		p = rep_at(f, 0);
		if (p->status != PROTO_ST_OK)
			fail_msg("page %u (max_count %u): status %s, field %s",
					pages, max_count,
					proto_status_name(p->status),
					p->status == PROTO_ST_BAD_REQUEST ?
					proto_field_name(p->u.field) : "-");
		expect_status(p, opcode, PROTO_ST_OK);
		if (max_count != 0)
			assert_true(p->u.page.count <= max_count);
		proto_page_iter_init(&it, &p->u.page);
		while ((rc = proto_page_next(&it, &e)) == 0) {
			unsigned int i = index_of(e.name, prefix);
			uint8_t meta[256];
			size_t ml;

			assert_true(i < n);
			ml = meta_of(meta, i, big);
			assert_true(e.handle == i);
			assert_true(bytes_eq(e.meta, meta, ml));
			counts[i]++;
			got++;
		}
		assert_int_equal(rc, PROTO_END);
		assert_int_equal(got, p->u.page.count);
		pages++;
		assert_true(pages < 20000);
		if (p->u.page.flags & PROTO_PAGE_END) {
			assert_int_equal(p->u.page.cursor.len, 0);
			break;
		}
		assert_int_equal(p->u.page.cursor.len, TRK_CURSOR_SIZE);
		cursor_len = p->u.page.cursor.len;
		memcpy(cursor, p->u.page.cursor.ptr, cursor_len);
	}
	return pages;
}

/* ---- registry ops ---- */

static void
test_register_then_whereis(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(192, 168, 1, 20, 5683);
	const struct proto_reply *p;
	struct proto_receipt rc;

	rc = reg_one(f, "dev-1", 42, &ep, "v1", 2, 60000, T0);
	assert_int_equal(rc.node, NODE_ID);
	assert_int_equal(rc.ver.node, NODE_ID);
	assert_true(rc.ver.clock > 0);
	assert_int_equal(f->out->status[PROTO_ST_OK], 1);

	p = whereis_one(f, "dev-1", 5, T0 + 1000);
	expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_OK);
	expect_entry(&p->u.entry, 42, &ep, "dev-1", 5, "v1", 2);
	assert_int_equal(p->u.entry.ttl_ms, 59000);
	/* the receipt names the version the entry now has */
	assert_true(p->u.entry.ver.clock == rc.ver.clock);
	assert_int_equal(p->u.entry.ver.node, rc.ver.node);
	assert_int_equal(p->u.entry.node, rc.node);
}

static void
test_register_conflict_and_idempotent(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(10, 1, 1, 1, 1000);
	struct proto_endpoint ep2 = ep4(10, 2, 2, 2, 2000);
	const struct proto_reply *p;
	struct proto_receipt r1, r2, r3;
	struct req r;

	r1 = reg_one(f, "dev-1", 42, &ep, "meta-a", 6, 0, T0);

	/* another handle: already_registered carrying the holder */
	req_begin(&r, 77);
	assert_int_equal(proto_req_add_register(&r.e, "dev-1", 5, 43, &ep2,
			"meta-b", 6, 0), 0);
	run(f, &r, T0);
	p = rep_at(f, 0);
	expect_status(p, PROTO_OP_REGISTER, PROTO_ST_ALREADY_REGISTERED);
	expect_entry(&p->u.entry, 42, &ep, "dev-1", 5, "meta-a", 6);
	assert_true(p->u.entry.ver.clock == r1.ver.clock);
	assert_int_equal(p->u.entry.ttl_ms, 0);

	/* same handle, same content: ok, nothing changes */
	r2 = reg_one(f, "dev-1", 42, &ep, "meta-a", 6, 0, T0 + 1);
	assert_true(r2.ver.clock == r1.ver.clock);

	/* same handle, new content: ok, replaced, newer version */
	r3 = reg_one(f, "dev-1", 42, &ep2, "meta-c", 6, 0, T0 + 2);
	assert_true(r3.ver.clock > r1.ver.clock);
	p = whereis_one(f, "dev-1", 5, T0 + 3);
	expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_OK);
	expect_entry(&p->u.entry, 42, &ep2, "dev-1", 5, "meta-c", 6);
	assert_true(p->u.entry.ver.clock == r3.ver.clock);
	assert_int_equal(trk_count(f->t), 1);
}

static void
test_whereis_unknown(void **state)
{
	struct fx *f = *state;
	const struct proto_reply *p = whereis_one(f, "nobody", 6, T0);

	expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_NOT_FOUND);
	assert_int_equal(p->body.len, 0);
	assert_int_equal(f->out->status[PROTO_ST_NOT_FOUND], 1);
}

static void
test_unregister_expect_handle(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(10, 0, 0, 9, 99);
	uint64_t wrong = 43, right = 42;
	const struct proto_reply *p;
	struct req r;

	reg_one(f, "dev-9", right, &ep, "x", 1, 0, T0);

	req_begin(&r, 1);
	assert_int_equal(proto_req_add_unregister(&r.e, "dev-9", 5, &wrong), 0);
	run(f, &r, T0);
	p = rep_at(f, 0);
	expect_status(p, PROTO_OP_UNREGISTER, PROTO_ST_HANDLE_MISMATCH);
	expect_entry(&p->u.entry, right, &ep, "dev-9", 5, "x", 1);
	expect_status(whereis_one(f, "dev-9", 5, T0), PROTO_OP_WHEREIS,
			PROTO_ST_OK);

	req_begin(&r, 2);
	assert_int_equal(proto_req_add_unregister(&r.e, "dev-9", 5, &right), 0);
	run(f, &r, T0);
	expect_status(rep_at(f, 0), PROTO_OP_UNREGISTER, PROTO_ST_OK);
	assert_int_equal(rep_at(f, 0)->body.len, 0);
	expect_status(whereis_one(f, "dev-9", 5, T0), PROTO_OP_WHEREIS,
			PROTO_ST_NOT_FOUND);

	/* a retry of the successful attempt: not_found */
	req_begin(&r, 3);
	assert_int_equal(proto_req_add_unregister(&r.e, "dev-9", 5, &right), 0);
	run(f, &r, T0);
	expect_status(rep_at(f, 0), PROTO_OP_UNREGISTER, PROTO_ST_NOT_FOUND);
	assert_int_equal(trk_count(f->t), 0);
}

static void
test_unregister_unconditional(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(10, 0, 0, 9, 99);
	struct req r;

	reg_one(f, "dev-u", 5, &ep, NULL, 0, 0, T0);
	req_begin(&r, 1);
	assert_int_equal(proto_req_add_unregister(&r.e, "dev-u", 5, NULL), 0);
	assert_int_equal(proto_req_add_unregister(&r.e, "dev-u", 5, NULL), 0);
	assert_int_equal(proto_req_add_whereis(&r.e, "dev-u", 5), 0);
	run(f, &r, T0);
	expect_status(rep_at(f, 0), PROTO_OP_UNREGISTER, PROTO_ST_OK);
	expect_status(rep_at(f, 1), PROTO_OP_UNREGISTER, PROTO_ST_NOT_FOUND);
	expect_status(rep_at(f, 2), PROTO_OP_WHEREIS, PROTO_ST_NOT_FOUND);
}

static void
test_whereis_or_register(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(10, 3, 3, 3, 3333);
	struct proto_endpoint ep2 = ep4(10, 4, 4, 4, 4444);
	const struct proto_reply *p;
	struct req r;

	req_begin(&r, 1);
	assert_int_equal(proto_req_add_whereis_or_register(&r.e, "wor", 3, 42,
			&ep, "first", 5, 10000), 0);
	run(f, &r, T0);
	p = rep_at(f, 0);
	expect_status(p, PROTO_OP_WHEREIS_OR_REGISTER, PROTO_ST_OK);
	assert_int_equal(p->outcome, PROTO_WOR_REGISTERED);
	expect_entry(&p->u.entry, 42, &ep, "wor", 3, "first", 5);
	assert_int_equal(p->u.entry.ttl_ms, 10000);

	/* another handle: the existing entry comes back, nothing changes */
	req_begin(&r, 2);
	assert_int_equal(proto_req_add_whereis_or_register(&r.e, "wor", 3, 43,
			&ep2, "second", 6, 0), 0);
	run(f, &r, T0 + 500);
	p = rep_at(f, 0);
	expect_status(p, PROTO_OP_WHEREIS_OR_REGISTER, PROTO_ST_OK);
	assert_int_equal(p->outcome, PROTO_WOR_FOUND);
	expect_entry(&p->u.entry, 42, &ep, "wor", 3, "first", 5);
	assert_int_equal(p->u.entry.ttl_ms, 9500);

	/* a retry with the same handle finds its own entry (outcome 0) */
	req_begin(&r, 3);
	assert_int_equal(proto_req_add_whereis_or_register(&r.e, "wor", 3, 42,
			&ep, "first", 5, 10000), 0);
	run(f, &r, T0 + 600);
	p = rep_at(f, 0);
	assert_int_equal(p->outcome, PROTO_WOR_FOUND);
	assert_true(p->u.entry.handle == 42);
	assert_int_equal(trk_count(f->t), 1);
}

static void
test_lease(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(10, 0, 0, 5, 555);
	const struct proto_reply *p;
	unsigned int counts[1] = { 0 };

	reg_one(f, "lease-a", 1, &ep, NULL, 0, 5000, T0);
	reg_one(f, "lease-b", 2, &ep, NULL, 0, 5000, T0);

	p = whereis_one(f, "lease-a", 7, T0 + 1000);
	expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_OK);
	assert_int_equal(p->u.entry.ttl_ms, 4000);
	p = whereis_one(f, "lease-a", 7, T0 + 4999);
	expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_OK);
	assert_int_equal(p->u.entry.ttl_ms, 1);

	/* re-REGISTER with the same handle renews the lease from now */
	reg_one(f, "lease-b", 2, &ep, NULL, 0, 5000, T0 + 3000);

	p = whereis_one(f, "lease-a", 7, T0 + 5000);
	expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_NOT_FOUND);
	p = whereis_one(f, "lease-b", 7, T0 + 7000);
	expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_OK);
	assert_int_equal(p->u.entry.ttl_ms, 1000);

	/* the listing at T0 + 8000 holds neither */
	list_all(f, PROTO_OP_REGISTERED, NULL, 0, "none", false, counts, 1,
			T0 + 8000);

	/* an expired name can be taken by another handle */
	reg_one(f, "lease-a", 9, &ep, NULL, 0, 0, T0 + 8000);
	p = whereis_one(f, "lease-a", 7, T0 + 8000);
	assert_true(p->u.entry.handle == 9);
	assert_int_equal(p->u.entry.ttl_ms, 0);
}

/* lease_max_ms: a longer lease is shortened to it; no lease stays none. */
static void
test_lease_max(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(10, 0, 0, 5, 555);
	const struct proto_reply *p;
	struct req r;

	f->node.lease_max_ms = 2000;
	reg_one(f, "long", 1, &ep, NULL, 0, 60000, T0);
	reg_one(f, "short", 2, &ep, NULL, 0, 1500, T0);
	reg_one(f, "exact", 3, &ep, NULL, 0, 2000, T0);
	reg_one(f, "none", 4, &ep, NULL, 0, 0, T0);
	p = whereis_one(f, "long", 4, T0);
	expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_OK);
	assert_int_equal(p->u.entry.ttl_ms, 2000);
	p = whereis_one(f, "short", 5, T0);
	assert_int_equal(p->u.entry.ttl_ms, 1500);
	p = whereis_one(f, "exact", 5, T0);
	assert_int_equal(p->u.entry.ttl_ms, 2000);
	p = whereis_one(f, "none", 4, T0);
	assert_int_equal(p->u.entry.ttl_ms, 0);

	/* WHEREIS_OR_REGISTER registers with the shortened lease and says so */
	req_begin(&r, 0x3000);
	assert_int_equal(proto_req_add_whereis_or_register(&r.e, "wor", 3, 5,
			&ep, NULL, 0, 3600000), 0);
	run(f, &r, T0);
	p = rep_at(f, 0);
	assert_int_equal(p->outcome, PROTO_WOR_REGISTERED);
	assert_int_equal(p->u.entry.ttl_ms, 2000);

	/* a renewal is shortened too, and the lease really ends there */
	reg_one(f, "long", 1, &ep, NULL, 0, UINT32_MAX, T0 + 1000);
	p = whereis_one(f, "long", 4, T0 + 2999);
	expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_OK);
	assert_int_equal(p->u.entry.ttl_ms, 1);
	p = whereis_one(f, "long", 4, T0 + 3000);
	expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_NOT_FOUND);
	p = whereis_one(f, "wor", 3, T0 + 2000);
	expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_NOT_FOUND);
	p = whereis_one(f, "none", 4, T0 + 3600000);
	expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_OK);

	/* 0: no limit */
	f->node.lease_max_ms = 0;
	reg_one(f, "free", 6, &ep, NULL, 0, 60000, T0);
	p = whereis_one(f, "free", 4, T0);
	assert_int_equal(p->u.entry.ttl_ms, 60000);
}

/*
 * BUG (lib/exec + lib/tracker): the protocol allows endpoint family
 * "none" (port 0, no address) for plain name-to-handle registrations
 * (docs/protocol.md 7) and lib/proto decodes it, but trk_register rejects
 * it (endpoint_valid: port 0) with TRK_INVALID. exec maps that to
 * bad_request through exec_reply_status(), which calls proto_rep_add_empty()
 * for a status whose body is a field byte: the encoder refuses (EINVAL)
 * and the op is counted in out->ops but NEVER answered. A lone op of this
 * kind even yields EXEC_ANSWERED with zero reply datagrams.
 */
static void
test_register_endpoint_none(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint none;
	const struct proto_reply *p;
	struct req r;
	size_t len;

	memset(&none, 0, sizeof(none));
	req_begin(&r, 1);
	assert_int_equal(proto_req_add_register(&r.e, "plain", 5, 42, &none,
			NULL, 0, 0), 0);
	assert_int_equal(proto_req_add_whereis(&r.e, "plain", 5), 0);
	len = req_end(&r);
	assert_int_equal(run_raw(f, r.buf, len, T0), EXEC_ANSWERED);
	expect_all_answered(f, 2);
	expect_status(rep_at(f, 0), PROTO_OP_REGISTER, PROTO_ST_OK);
	p = rep_at(f, 1);
	expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_OK);
	assert_int_equal(p->u.entry.ep.family, PROTO_AF_NONE);
	assert_int_equal(p->u.entry.ep.port, 0);
}

/* ---- groups ---- */

static void
test_join_unknown_and_idempotent(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(10, 0, 0, 1, 1);
	struct req r;

	reg_one(f, "known", 1, &ep, NULL, 0, 0, T0);
	req_begin(&r, 1);
	assert_int_equal(proto_req_add_join(&r.e, "g", 1, "unknown", 7), 0);
	assert_int_equal(proto_req_add_join(&r.e, "g", 1, "known", 5), 0);
	assert_int_equal(proto_req_add_join(&r.e, "g", 1, "known", 5), 0);
	assert_int_equal(proto_req_add_leave(&r.e, "g", 1, "unknown", 7), 0);
	assert_int_equal(proto_req_add_leave(&r.e, "other", 5, "known", 5), 0);
	run(f, &r, T0);
	expect_status(rep_at(f, 0), PROTO_OP_JOIN, PROTO_ST_NOT_FOUND);
	expect_status(rep_at(f, 1), PROTO_OP_JOIN, PROTO_ST_OK);
	expect_status(rep_at(f, 2), PROTO_OP_JOIN, PROTO_ST_OK);
	expect_status(rep_at(f, 3), PROTO_OP_LEAVE, PROTO_ST_OK);
	expect_status(rep_at(f, 4), PROTO_OP_LEAVE, PROTO_ST_OK);
}

static void
test_members_unknown_group(void **state)
{
	struct fx *f = *state;
	const struct proto_reply *p;
	struct req r;

	req_begin(&r, 1);
	assert_int_equal(proto_req_add_members(&r.e, "nogroup", 7, NULL, 0, 0),
			0);
	run(f, &r, T0);
	p = rep_at(f, 0);
	expect_status(p, PROTO_OP_MEMBERS, PROTO_ST_OK);
	assert_int_equal(p->u.page.count, 0);
	assert_int_equal(p->u.page.flags, PROTO_PAGE_END);
	assert_int_equal(p->u.page.cursor.len, 0);
}

enum { GROUP_N = 300 };

/* 300 registered, all joined, every 10th left again; unregister 5. */
static void
members_prepare(struct fx *f, unsigned int *want)
{
	uint64_t h = 5;
	struct req r;
	unsigned int i;
	char name[32];

	reg_many(f, "mem", GROUP_N, false, T0);
	reg_many(f, "out", 20, false, T0);
	group_many(f, true, "grp", "mem", 0, GROUP_N, 1, T0);
	group_many(f, true, "grp", "mem", 0, GROUP_N, 7, T0);	/* again: ok */
	group_many(f, true, "other", "out", 0, 20, 1, T0);
	group_many(f, false, "grp", "mem", 0, GROUP_N, 10, T0);
	/* unregistering a member takes it out of its groups */
	req_begin(&r, 99);
	assert_int_equal(proto_req_add_unregister(&r.e, name,
			name_of(name, sizeof(name), "mem", 5), &h), 0);
	run(f, &r, T0);
	expect_status(rep_at(f, 0), PROTO_OP_UNREGISTER, PROTO_ST_OK);
	for (i = 0; i < GROUP_N; i++)
		want[i] = i % 10 != 0 && i != 5;
}

static void
members_check(struct fx *f, uint16_t max_count)
{
	unsigned int want[GROUP_N], counts[GROUP_N] = { 0 };
	unsigned int i, pages;

	members_prepare(f, want);
	pages = list_all(f, PROTO_OP_MEMBERS, "grp", max_count, "mem", false,
			counts, GROUP_N, T0);
	for (i = 0; i < GROUP_N; i++)
		if (counts[i] != want[i])
			fail_msg("member %u listed %u times, want %u", i,
					counts[i], want[i]);
	if (max_count != 0)
		assert_true(pages >= (GROUP_N * 9 / 10 - 1) / max_count);
}

static void
test_members_paging_as_many_as_fit(void **state)
{
	members_check(*state, 0);
}

static void
test_members_paging_max16(void **state)
{
	members_check(*state, 16);
}

/*
 * KNOWN LIMITATION (lib/tracker TRK_PAGE_MIN = 16): the protocol allows
 * max_count 1..15, but trk_members refuses max < TRK_PAGE_MIN, so exec
 * answers bad_request(cursor). Fails until TRK_PAGE_MIN is lowered.
 */
static void
test_members_paging_small_max(void **state)
{
	members_check(*state, 7);
}

/* ---- REGISTERED paging ---- */

enum { LIST_N = 2000 };

/* File scope, not the heap: a failing assertion longjmps out of the test. */
static unsigned int list_counts[LIST_N];

static void
registered_check(struct fx *f, uint16_t max_count, bool big)
{
	unsigned int i, pages;

	memset(list_counts, 0, sizeof(list_counts));
	reg_many(f, "dev", LIST_N, big, T0);
	assert_int_equal(trk_count(f->t), LIST_N);
	pages = list_all(f, PROTO_OP_REGISTERED, NULL, max_count, "dev", big,
			list_counts, LIST_N, T0);
	for (i = 0; i < LIST_N; i++)
		if (list_counts[i] != 1)
			fail_msg("name %u listed %u times", i, list_counts[i]);
	/* a page carries at most one datagram of entries */
	assert_true(pages >= LIST_N / (max_count ? max_count : 64));
}

static void
test_registered_paging_as_many_as_fit(void **state)
{
	registered_check(*state, 0, false);
}

static void
test_registered_paging_max20(void **state)
{
	registered_check(*state, 20, false);
}

/*
 * KNOWN LIMITATION, same cause: with 200-byte metadata only ~5..11
 * entries fit a datagram, exec_page shrinks its ask to that many and
 * trk_registered refuses max < 16, so the page is answered
 * bad_request(cursor). Fails until TRK_PAGE_MIN is lowered.
 */
static void
test_registered_paging_big_meta(void **state)
{
	registered_check(*state, 0, true);
}

/* KNOWN LIMITATION: max_count 5 < TRK_PAGE_MIN. */
static void
test_registered_paging_small_max(void **state)
{
	registered_check(*state, 5, false);
}

static void
test_forged_cursor(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(10, 0, 0, 1, 1);
	uint8_t junk[32], saved[32];
	const struct proto_reply *p;
	struct req r;
	unsigned int i;

	reg_many(f, "dev", 100, false, T0);
	/* a genuine REGISTERED cursor, for the MEMBERS op below */
	req_begin(&r, 1);
	assert_int_equal(proto_req_add_registered(&r.e, NULL, 0, 16), 0);
	run(f, &r, T0);
	p = rep_at(f, 0);
	expect_status(p, PROTO_OP_REGISTERED, PROTO_ST_OK);
	assert_int_equal(p->u.page.cursor.len, 32);
	memcpy(saved, p->u.page.cursor.ptr, 32);

	srand(12345);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();
	junk[0] |= 0x80;	/* never a state byte the tracker uses */
	req_begin(&r, 2);
	assert_int_equal(proto_req_add_registered(&r.e, junk, 5, 0), 0);
	assert_int_equal(proto_req_add_registered(&r.e, junk, 32, 0), 0);
	assert_int_equal(proto_req_add_members(&r.e, "g", 1, junk, 31, 0), 0);
	assert_int_equal(proto_req_add_members(&r.e, "g", 1, junk, 32, 0), 0);
	/* a REGISTERED cursor is not a MEMBERS cursor */
	assert_int_equal(proto_req_add_members(&r.e, "g", 1, saved, 32, 0), 0);
	assert_int_equal(proto_req_add_register(&r.e, "after", 5, 1, &ep,
			NULL, 0, 0), 0);
	run(f, &r, T0);
	expect_bad_request(rep_at(f, 0), PROTO_OP_REGISTERED, PROTO_F_CURSOR);
	expect_bad_request(rep_at(f, 1), PROTO_OP_REGISTERED, PROTO_F_CURSOR);
	expect_bad_request(rep_at(f, 2), PROTO_OP_MEMBERS, PROTO_F_CURSOR);
	expect_bad_request(rep_at(f, 3), PROTO_OP_MEMBERS, PROTO_F_CURSOR);
	expect_bad_request(rep_at(f, 4), PROTO_OP_MEMBERS, PROTO_F_CURSOR);
	expect_status(rep_at(f, 5), PROTO_OP_REGISTER, PROTO_ST_OK);
	assert_int_equal(f->out->status[PROTO_ST_BAD_REQUEST], 5);

	/* random cursors, many seeds: never anything but bad_request */
	for (i = 0; i < 200; i++) {
		unsigned int k;

		for (k = 0; k < sizeof(junk); k++)
			junk[k] = (uint8_t)rand();
		junk[0] = (uint8_t)(3 + junk[0] % 253);
		req_begin(&r, 100 + i);
		assert_int_equal(proto_req_add_registered(&r.e, junk, 32, 0),
				0);
		run(f, &r, T0);
		expect_bad_request(rep_at(f, 0), PROTO_OP_REGISTERED,
				PROTO_F_CURSOR);
	}
}

/* ---- STATUS ---- */

static void
test_status(void **state)
{
	struct fx *f = *state;
	const struct proto_reply *p;
	struct req r;

	reg_many(f, "st", 3, false, T0);
	req_begin(&r, 0xabcdef0123456789ull);
	assert_int_equal(proto_req_add_status(&r.e), 0);
	run(f, &r, T0);
	assert_true(f->req_id == 0xabcdef0123456789ull);
	p = rep_at(f, 0);
	expect_status(p, PROTO_OP_STATUS, PROTO_ST_OK);
	assert_int_equal(p->u.node.version_min, PROTO_VERSION_MIN);
	assert_int_equal(p->u.node.version_max, PROTO_VERSION_MAX);
	assert_int_equal(p->u.node.node, NODE_ID);
	assert_int_equal(p->u.node.partitions, 4);
	assert_true(p->u.node.entries == 3);
	assert_true(p->u.node.uptime_ms == T0 - START_MS);
	assert_true(bytes_eq(p->u.node.name, NODE_NAME, strlen(NODE_NAME)));
}

/* ---- datagram handling ---- */

static void
test_multi_op_split(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(10, 9, 9, 9, 999);
	uint8_t names[5][255], meta[255];
	const struct proto_reply *p;
	bool dgram_used[EXEC_MAX_REPLIES] = { false };
	struct req r;
	unsigned int i;
	size_t d, ndg = 0;

	memset(meta, 'M', sizeof(meta));
	for (i = 0; i < 5; i++) {
		memset(names[i], 'a' + i, sizeof(names[i]));
		req_begin(&r, 10 + i);
		assert_int_equal(proto_req_add_register(&r.e, names[i], 255,
				100 + i, &ep, meta, 255, 0), 0);
		run(f, &r, T0);
		expect_status(rep_at(f, 0), PROTO_OP_REGISTER, PROTO_ST_OK);
	}
	/* 5 largest entries (553-byte reply ops) + a miss + STATUS */
	req_begin(&r, 0x77);
	for (i = 0; i < 5; i++)
		assert_int_equal(proto_req_add_whereis(&r.e, names[i], 255), 0);
	assert_int_equal(proto_req_add_whereis(&r.e, "zz", 2), 0);
	assert_int_equal(proto_req_add_status(&r.e), 0);
	run(f, &r, T0);
	assert_true(f->out->n >= 3);
	for (i = 0; i < 5; i++) {
		p = rep_at(f, (uint16_t)i);
		expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_OK);
		expect_entry(&p->u.entry, 100 + i, &ep, names[i], 255, meta,
				255);
	}
	expect_status(rep_at(f, 5), PROTO_OP_WHEREIS, PROTO_ST_NOT_FOUND);
	expect_status(rep_at(f, 6), PROTO_OP_STATUS, PROTO_ST_OK);
	for (i = 0; i < f->nreps; i++)
		dgram_used[f->dgram_of[i]] = true;
	for (d = 0; d < f->out->n; d++)
		ndg += dgram_used[d];
	assert_int_equal(ndg, f->out->n);
	assert_int_equal(f->out->status[PROTO_ST_OK], 6);
	assert_int_equal(f->out->status[PROTO_ST_NOT_FOUND], 1);
}

/*
 * The amplification cap. 240 WHEREIS of 1-byte names whose entries carry
 * 255 bytes of metadata would need ~50 datagrams of answers; the reply is
 * capped at EXEC_MAX_REPLIES and every op must still be answered once,
 * the ones past the budget with `overloaded`.
 *
 * BUG (lib/exec/exec.c, reply_large and exec_page's page_open): a large
 * answer is first tried in the CURRENT datagram even when that datagram
 * is one of the EXEC_RESERVE datagrams kept for short answers, so full
 * entries eat the reserve; once the last datagram is full, exec_reply_short()
 * cannot open another one and silently drops the answer (it still counts
 * it in out->ops). With this request 72 of the 240 ops get no answer.
 */
static void
test_amplification_cap(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(10, 7, 7, 7, 777);
	uint8_t meta[255], name;
	const struct proto_reply *p;
	unsigned int i, nok = 0, novl = 0;
	struct req r;
	size_t len;
	uint16_t k;

	memset(meta, 0xee, sizeof(meta));
	for (i = 0; i < 40; i++) {
		name = (uint8_t)('A' + i);
		req_begin(&r, 1 + i);
		assert_int_equal(proto_req_add_register(&r.e, &name, 1, i, &ep,
				meta, 255, 0), 0);
		run(f, &r, T0);
		expect_status(rep_at(f, 0), PROTO_OP_REGISTER, PROTO_ST_OK);
	}
	req_begin(&r, 0xa5a5);
	for (i = 0; i < 240; i++) {
		name = (uint8_t)('A' + i % 40);
		assert_int_equal(proto_req_add_whereis(&r.e, &name, 1), 0);
	}
	len = req_end(&r);
	assert_int_equal(run_raw(f, r.buf, len, T0), EXEC_ANSWERED);
	assert_true(f->out->n <= EXEC_MAX_REPLIES);
	if (f->nreps != 240)
		fail_msg("%zu reply ops for 240 ops in %zu datagrams "
				"(out->ops says %u)", f->nreps, f->out->n,
				f->out->ops);
	expect_all_answered(f, 240);
	for (k = 0; k < 240; k++) {
		p = rep_at(f, k);
		if (p->status == PROTO_ST_OK) {
			name = (uint8_t)('A' + k % 40);
			expect_entry(&p->u.entry, k % 40, &ep, &name, 1, meta,
					255);
			nok++;
		} else {
			expect_status(p, PROTO_OP_WHEREIS, PROTO_ST_OVERLOADED);
			assert_int_equal(p->body.len, 4);
			novl++;
		}
	}
	assert_int_equal(nok + novl, 240);
	/* the budget is used: at least 4 full answers a datagram, 13 of them */
	assert_true(nok >= 4 * (EXEC_MAX_REPLIES - 3));
	assert_true(novl > 0);
	assert_int_equal(f->out->status[PROTO_ST_OK], nok);
	assert_int_equal(f->out->status[PROTO_ST_OVERLOADED], novl);
}

/* A good two-op datagram (REGISTER then WHEREIS) to break in ways. */
static size_t
good_pair(struct req *r)
{
	struct proto_endpoint ep = ep4(10, 0, 0, 1, 1);

	req_begin(r, 0x0102030405060708ull);
	assert_int_equal(proto_req_add_register(&r->e, "broken", 6, 1, &ep,
			"m", 1, 0), 0);
	assert_int_equal(proto_req_add_whereis(&r->e, "broken", 6), 0);
	return req_end(r);
}

static void
expect_dgram_error(struct fx *f, const void *buf, size_t len, uint8_t status,
		uint8_t field)
{
	struct trk_key k = trk_key("broken", 6);
	const struct proto_reply *p;

	assert_int_equal(run_raw(f, buf, len, T0), EXEC_ANSWERED);
	assert_int_equal(f->out->n, 1);
	assert_int_equal(f->nreps, 1);
	assert_true(f->req_id == 0x0102030405060708ull);
	p = rep_at(f, PROTO_INDEX_DGRAM);
	assert_int_equal(p->opcode, 0);
	if (p->status != status)
		fail_msg("datagram-level %s, want %s",
				proto_status_name(p->status),
				proto_status_name(status));
	if (status == PROTO_ST_BAD_REQUEST && p->u.field != field)
		fail_msg("datagram-level field %s, want %s",
				proto_field_name(p->u.field),
				proto_field_name(field));
	/* nothing was executed */
	assert_int_equal(trk_count(f->t), 0);
	assert_null(trk_whereis(f->t, &k, T0));
}

static void
test_broken_framing(void **state)
{
	struct fx *f = *state;
	uint8_t buf[PROTO_MAX_DGRAM + 64];
	struct req r;
	size_t len = good_pair(&r);
	const struct proto_reply *p;

	/* truncated: the last op runs past the end */
	expect_dgram_error(f, r.buf, len - 1, PROTO_ST_BAD_REQUEST,
			PROTO_F_OP_LENGTH);
	/* truncated inside the second op header */
	expect_dgram_error(f, r.buf, len - 9, PROTO_ST_BAD_REQUEST,
			PROTO_F_OP_LENGTH);
	/* first op's length points past the end */
	memcpy(buf, r.buf, len);
	buf[PROTO_HDR_LEN + 2] = 0x05;
	buf[PROTO_HDR_LEN + 3] = 0xdc;
	expect_dgram_error(f, buf, len, PROTO_ST_BAD_REQUEST, PROTO_F_OP_LENGTH);
	/* op count larger than the ops present */
	memcpy(buf, r.buf, len);
	buf[13] = 3;
	expect_dgram_error(f, buf, len, PROTO_ST_BAD_REQUEST, PROTO_F_OP_COUNT);
	/* op count 0 */
	buf[13] = 0;
	expect_dgram_error(f, buf, len, PROTO_ST_BAD_REQUEST, PROTO_F_OP_COUNT);
	/* bytes after the last op */
	memcpy(buf, r.buf, len);
	buf[len] = 0;
	expect_dgram_error(f, buf, len + 1, PROTO_ST_BAD_REQUEST,
			PROTO_F_TRAILING);
	/* reserved header bytes, reserved flag bits */
	memcpy(buf, r.buf, len);
	buf[15] = 1;
	expect_dgram_error(f, buf, len, PROTO_ST_BAD_REQUEST, PROTO_F_RESERVED);
	memcpy(buf, r.buf, len);
	buf[3] = 0x08;	/* a reserved flag (bits 1..2 are REPLICAS) */
	expect_dgram_error(f, buf, len, PROTO_ST_BAD_REQUEST, PROTO_F_FLAGS);
	/* other version */
	memcpy(buf, r.buf, len);
	buf[2] = 2;
	expect_dgram_error(f, buf, len, PROTO_ST_BAD_VERSION, 0);
	p = rep_at(f, PROTO_INDEX_DGRAM);
	assert_int_equal(p->u.versions.min, PROTO_VERSION_MIN);
	assert_int_equal(p->u.versions.max, PROTO_VERSION_MAX);
	/* too large */
	memcpy(buf, r.buf, len);
	memset(buf + len, 0, sizeof(buf) - len);
	expect_dgram_error(f, buf, PROTO_MAX_DGRAM + 1, PROTO_ST_TOO_LARGE, 0);
	assert_int_equal(rep_at(f, PROTO_INDEX_DGRAM)->u.limit,
			PROTO_MAX_DGRAM);

	/* and the intact datagram still works */
	assert_int_equal(run_raw(f, r.buf, len, T0), EXEC_ANSWERED);
	expect_all_answered(f, 2);
	expect_status(rep_at(f, 1), PROTO_OP_WHEREIS, PROTO_ST_OK);
}

static void
test_dropped(void **state)
{
	struct fx *f = *state;
	uint8_t buf[PROTO_MAX_DGRAM];
	struct req r;
	size_t len = good_pair(&r);

	/* REPLY flag */
	memcpy(buf, r.buf, len);
	buf[3] = PROTO_FLAG_REPLY;
	assert_int_equal(run_raw(f, buf, len, T0), EXEC_DROPPED);
	assert_int_equal(f->out->n, 0);
	/* a well formed reply datagram, fed back in */
	assert_int_equal(run_raw(f, r.buf, len, T0), EXEC_ANSWERED);
	memcpy(buf, f->out->dgram[0], f->out->len[0]);
	len = f->out->len[0];
	assert_int_equal(trk_count(f->t), 1);
	assert_int_equal(run_raw(f, buf, len, T0), EXEC_DROPPED);
	assert_int_equal(f->out->n, 0);
	/* wrong magic */
	len = good_pair(&r);
	memcpy(buf, r.buf, len);
	buf[0] = 'X';
	assert_int_equal(run_raw(f, buf, len, T0), EXEC_DROPPED);
	assert_int_equal(f->out->n, 0);
	/* shorter than a header */
	assert_int_equal(run_raw(f, r.buf, PROTO_HDR_LEN - 1, T0), EXEC_DROPPED);
	assert_int_equal(f->out->n, 0);
	assert_int_equal(run_raw(f, r.buf, 0, T0), EXEC_DROPPED);
	assert_int_equal(trk_count(f->t), 1);
}

static void
test_unknown_opcode(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(10, 0, 0, 1, 1);
	static const uint8_t opcodes[] = { 0x00, 0x06, 0x07, 0x20, 0x31, 0x80,
		0xff };
	struct req r;
	unsigned int i;

	req_begin(&r, 5);
	assert_int_equal(proto_req_add_register(&r.e, "u1", 2, 1, &ep, NULL,
			0, 0), 0);
	for (i = 0; i < sizeof(opcodes); i++)
		assert_int_equal(proto_req_add_raw(&r.e, opcodes[i], 0xff,
				"xyz", 3), 0);
	assert_int_equal(proto_req_add_whereis(&r.e, "u1", 2), 0);
	run(f, &r, T0);
	expect_status(rep_at(f, 0), PROTO_OP_REGISTER, PROTO_ST_OK);
	for (i = 0; i < sizeof(opcodes); i++) {
		const struct proto_reply *p = rep_at(f, (uint16_t)(1 + i));

		expect_status(p, opcodes[i], PROTO_ST_UNSUPPORTED);
		assert_int_equal(p->body.len, 0);
	}
	expect_status(rep_at(f, 8), PROTO_OP_WHEREIS, PROTO_ST_OK);
	assert_int_equal(f->out->status[PROTO_ST_UNSUPPORTED], 7);
}

static void
test_bad_ops(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(10, 0, 0, 1, 1);
	static const uint8_t empty_name[] = { 0 };
	static const uint8_t cut_name[] = { 5, 'a', 'b' };
	static const uint8_t join_empty_group[] = { 0, 1, 'x' };
	static const uint8_t whereis_extra[] = { 1, 'x', 0 };
	static const uint8_t registered_cursor_33[] = { 0, 0, 33 };
	struct req r;

	req_begin(&r, 6);
	assert_int_equal(proto_req_add_raw(&r.e, PROTO_OP_WHEREIS, 0,
			empty_name, sizeof(empty_name)), 0);
	assert_int_equal(proto_req_add_register(&r.e, "b1", 2, 1, &ep, NULL,
			0, 0), 0);
	assert_int_equal(proto_req_add_raw(&r.e, PROTO_OP_UNREGISTER, 0,
			cut_name, sizeof(cut_name)), 0);
	assert_int_equal(proto_req_add_raw(&r.e, PROTO_OP_JOIN, 0,
			join_empty_group, sizeof(join_empty_group)), 0);
	assert_int_equal(proto_req_add_raw(&r.e, PROTO_OP_WHEREIS, 0,
			whereis_extra, sizeof(whereis_extra)), 0);
	assert_int_equal(proto_req_add_raw(&r.e, PROTO_OP_WHEREIS, 0x01,
			"\001x", 2), 0);
	assert_int_equal(proto_req_add_raw(&r.e, PROTO_OP_REGISTERED, 0,
			registered_cursor_33, sizeof(registered_cursor_33)), 0);
	assert_int_equal(proto_req_add_raw(&r.e, PROTO_OP_STATUS, 0, "x", 1),
			0);
	assert_int_equal(proto_req_add_whereis(&r.e, "b1", 2), 0);
	run(f, &r, T0);
	expect_bad_request(rep_at(f, 0), PROTO_OP_WHEREIS, PROTO_F_NAME);
	expect_status(rep_at(f, 1), PROTO_OP_REGISTER, PROTO_ST_OK);
	expect_bad_request(rep_at(f, 2), PROTO_OP_UNREGISTER, PROTO_F_NAME);
	expect_bad_request(rep_at(f, 3), PROTO_OP_JOIN, PROTO_F_GROUP);
	expect_bad_request(rep_at(f, 4), PROTO_OP_WHEREIS, PROTO_F_OP_LENGTH);
	expect_bad_request(rep_at(f, 5), PROTO_OP_WHEREIS, PROTO_F_OP_FLAGS);
	expect_bad_request(rep_at(f, 6), PROTO_OP_REGISTERED, PROTO_F_CURSOR);
	expect_bad_request(rep_at(f, 7), PROTO_OP_STATUS, PROTO_F_OP_LENGTH);
	expect_status(rep_at(f, 8), PROTO_OP_WHEREIS, PROTO_ST_OK);
	assert_int_equal(f->out->status[PROTO_ST_BAD_REQUEST], 7);
	assert_int_equal(trk_count(f->t), 1);
}

/* Each op of a 364-op datagram (4-byte STATUS ops) answered once. */
static void
test_max_ops(void **state)
{
	struct fx *f = *state;
	struct req r;
	unsigned int n = 0;

	req_begin(&r, 9);
	while (proto_req_add_status(&r.e) == 0)
		n++;
	assert_int_equal(n, PROTO_MAX_OPS);
	run(f, &r, T0);
	assert_int_equal(f->out->status[PROTO_ST_OK], PROTO_MAX_OPS);
}

/* ---- pure functions ---- */

static void
test_op_partition(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint ep = ep4(10, 0, 0, 1, 1);
	uint64_t h = 3;
	struct proto_req pr;
	struct proto_op op;
	struct req r;
	size_t len;
	unsigned int i, nw = 0;
	static const char *const names[] = { "a", "device-0001",
		"device-00000000000000001", "gw-east-1/sensor/42", "q" };

	req_begin(&r, 1);
	for (i = 0; i < 5; i++) {
		const char *nm = names[i];
		size_t nl = strlen(nm);

		assert_int_equal(proto_req_add_register(&r.e, nm, nl, 1, &ep,
				NULL, 0, 0), 0);
		assert_int_equal(proto_req_add_whereis_or_register(&r.e, nm,
				nl, 1, &ep, NULL, 0, 0), 0);
		assert_int_equal(proto_req_add_unregister(&r.e, nm, nl, &h),
				0);
		assert_int_equal(proto_req_add_unregister(&r.e, nm, nl, NULL),
				0);
		assert_int_equal(proto_req_add_join(&r.e, "grp-x", 5, nm, nl),
				0);
		assert_int_equal(proto_req_add_leave(&r.e, "grp-y", 5, nm, nl),
				0);
		assert_int_equal(proto_req_add_whereis(&r.e, nm, nl), 0);
	}
	assert_int_equal(proto_req_add_registered(&r.e, NULL, 0, 0), 0);
	assert_int_equal(proto_req_add_members(&r.e, "a", 1, NULL, 0, 0), 0);
	assert_int_equal(proto_req_add_status(&r.e), 0);
	len = req_end(&r);
	assert_int_equal(proto_req_parse(&pr, r.buf, len), 0);
	while (proto_req_next_op(&pr, &op) == 0) {
		struct exec_op xo = { .op = op };
		int part;

		exec_op_hash(f->t, &xo);
		part = xo.part;

		switch (op.opcode) {
		case PROTO_OP_REGISTER:
		case PROTO_OP_WHEREIS_OR_REGISTER:
		case PROTO_OP_UNREGISTER:
		case PROTO_OP_JOIN:
		case PROTO_OP_LEAVE:
			assert_int_equal(part, (int)trk_part_of(f->t,
					ring_hash_name(op.name.ptr,
						op.name.len)));
			assert_true(part >= 0 && part < 4);
			nw++;
			break;
		default:
			assert_int_equal(part, -1);
		}
	}
	assert_int_equal(nw, 30);
	/* the doc vectors (docs/protocol.md 10): partitions 0, 0, 2, 1 of 4 */
	{
		struct exec_op xo;
		struct proto_op *o = &xo.op;

		memset(&xo, 0, sizeof(xo));
		o->opcode = PROTO_OP_REGISTER;
		o->name.ptr = (const uint8_t *)"a";
		o->name.len = 1;
		exec_op_hash(f->t, &xo);
		assert_int_equal(xo.part, 0);
		o->name.ptr = (const uint8_t *)"device-00000000000000001";
		o->name.len = 24;
		exec_op_hash(f->t, &xo);
		assert_int_equal(xo.part, 2);
		o->opcode = PROTO_OP_JOIN;
		o->group.ptr = (const uint8_t *)"a";
		o->group.len = 1;
		o->name.ptr = (const uint8_t *)"gw-east-1/sensor/42";
		o->name.len = 19;
		exec_op_hash(f->t, &xo);
		assert_int_equal(xo.part, 1);
	}
}

static void
test_status_of(void **state)
{
	(void)state;
	assert_int_equal(exec_status_of(TRK_OK), PROTO_ST_OK);
	assert_int_equal(exec_status_of(TRK_NOT_FOUND), PROTO_ST_NOT_FOUND);
	assert_int_equal(exec_status_of(TRK_EXISTS),
			PROTO_ST_ALREADY_REGISTERED);
	assert_int_equal(exec_status_of(TRK_INVALID), PROTO_ST_BAD_REQUEST);
	assert_int_equal(exec_status_of(TRK_FULL), PROTO_ST_OVERLOADED);
	assert_int_equal(exec_status_of(TRK_BUSY), PROTO_ST_OVERLOADED);
	assert_int_equal(exec_status_of(TRK_NOMEM), PROTO_ST_INTERNAL);
	assert_int_equal(exec_status_of(TRK_COLLISION), PROTO_ST_INTERNAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_register_then_whereis),
		T(test_register_conflict_and_idempotent),
		T(test_whereis_unknown),
		T(test_unregister_expect_handle),
		T(test_unregister_unconditional),
		T(test_whereis_or_register),
		T(test_lease),
		T(test_lease_max),
		T(test_register_endpoint_none),
		T(test_join_unknown_and_idempotent),
		T(test_members_unknown_group),
		T(test_members_paging_as_many_as_fit),
		T(test_members_paging_max16),
		T(test_members_paging_small_max),
		T(test_registered_paging_as_many_as_fit),
		T(test_registered_paging_max20),
		T(test_registered_paging_big_meta),
		T(test_registered_paging_small_max),
		T(test_forged_cursor),
		T(test_status),
		T(test_multi_op_split),
		T(test_amplification_cap),
		T(test_broken_framing),
		T(test_dropped),
		T(test_unknown_opcode),
		T(test_bad_ops),
		T(test_max_ops),
		T(test_op_partition),
		cmocka_unit_test(test_status_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
