/*
 * exec.c - one request datagram in, its reply datagrams out.
 *
 * The request is decoded in two stages (lib/proto): the header and the
 * framing of the whole datagram first, so a broken datagram executes
 * nothing, then op by op. Each op is executed against the tracker and its
 * reply op encoded at once into the current reply datagram; when it does
 * not fit, the datagram is closed and the next one opened under the same
 * request id. Reply ops are encoded straight from the tracker's entries
 * (zero copy), which is why the caller must stay RCU-online throughout.
 *
 * Amplification: a request of at most 1472 bytes could ask for far more
 * bytes of answers (hundreds of WHEREIS of large entries). The reply is
 * capped at EXEC_MAX_REPLIES datagrams; the last EXEC_RESERVE of them are
 * kept for short answers, and an op whose full answer no longer fits the
 * budget gets `overloaded` instead, so every op is still answered.
 */
#include <string.h>

#include "exec_internal.h"



uint8_t
exec_status_of(int trk_status)
{
	switch (trk_status) {
	case TRK_OK:
		return PROTO_ST_OK;
	case TRK_NOT_FOUND:
		return PROTO_ST_NOT_FOUND;
	case TRK_EXISTS:
		return PROTO_ST_ALREADY_REGISTERED;
	case TRK_INVALID:
		return PROTO_ST_BAD_REQUEST;
	case TRK_FULL:
	case TRK_BUSY:
		return PROTO_ST_OVERLOADED;
	default:
		return PROTO_ST_INTERNAL;
	}
}

/* ---- reply datagram management ---- */

void
reply_open(struct exec_ctx *c)
{
	struct exec_out *o = c->out;

	proto_rep_init(&c->enc, o->dgram[o->n], c->dgram_cap, c->req_id);
}

void
reply_close(struct exec_ctx *c)
{
	size_t len = proto_enc_finish(&c->enc);

	if (len > 0)
		c->out->len[c->out->n++] = len;
}

/*
 * Full answers may go into the current datagram only while it is outside
 * the reserve, and into a next one only if that one is outside it too.
 */
bool
reply_full_here(const struct exec_ctx *c)
{
	return c->out->n < EXEC_MAX_REPLIES - EXEC_RESERVE;
}

bool
reply_may_grow(const struct exec_ctx *c)
{
	return c->out->n + 1 < EXEC_MAX_REPLIES - EXEC_RESERVE;
}

void
reply_count(struct exec_ctx *c, uint8_t status)
{
	c->out->ops++;
	c->out->status[status & 15]++;
}

/* Any short answer: always finds room (the reserve guarantees it). */
void
reply_short(struct exec_ctx *c, uint16_t index, uint8_t opcode,
		uint8_t status, int (*add)(struct exec_ctx *, uint16_t,
			uint8_t, uint8_t))
{
	int rc = add(c, index, opcode, status);

	if (rc == PROTO_ENOSPC && c->out->n + 1 < EXEC_MAX_REPLIES) {
		reply_close(c);
		reply_open(c);
		rc = add(c, index, opcode, status);
	}
	/* The reserve makes this impossible; count it if it ever happens. */
	if (rc != 0) {
		c->out->unanswered++;
		return;
	}
	reply_count(c, status);
}

static int
add_empty(struct exec_ctx *c, uint16_t index, uint8_t opcode, uint8_t status)
{
	if (status == PROTO_ST_OVERLOADED)
		return proto_rep_add_overloaded(&c->enc, index, opcode, 0);
	if (status == PROTO_ST_BAD_REQUEST)	/* the decoder passed each field */
		return proto_rep_add_bad_request(&c->enc, index, opcode,
				PROTO_F_BODY);
	return proto_rep_add_empty(&c->enc, index, opcode, status);
}

void
reply_status(struct exec_ctx *c, const struct proto_op *op, uint8_t status)
{
	reply_short(c, op->index, op->opcode, status, add_empty);
}

static void
reply_bad_field(struct exec_ctx *c, const struct proto_op *op, int err)
{
	int rc = proto_rep_add_error(&c->enc, op->index, op->opcode, err,
			op->bad_field);

	if (rc == PROTO_ENOSPC && c->out->n + 1 < EXEC_MAX_REPLIES) {
		reply_close(c);
		reply_open(c);
		rc = proto_rep_add_error(&c->enc, op->index, op->opcode, err,
				op->bad_field);
	}
	if (rc != 0) {
		c->out->unanswered++;
		return;
	}
	reply_count(c, err == PROTO_EUNSUPP ? PROTO_ST_UNSUPPORTED :
			PROTO_ST_BAD_REQUEST);
}

/*
 * Adds a large answer with add_fn(c, arg); when it does not fit, moves to
 * a new datagram if the budget allows, else answers `overloaded`.
 */
static void
reply_large(struct exec_ctx *c, const struct proto_op *op, uint8_t status,
		int (*add_fn)(struct exec_ctx *, const struct proto_op *,
			const void *), const void *arg)
{
	int rc = PROTO_ENOSPC;

	if (reply_full_here(c))
		rc = add_fn(c, op, arg);
	if (rc == PROTO_ENOSPC && reply_may_grow(c)) {
		reply_close(c);
		reply_open(c);
		rc = add_fn(c, op, arg);
	}
	if (rc == PROTO_ENOSPC) {
		reply_status(c, op, PROTO_ST_OVERLOADED);
		return;
	}
	reply_count(c, rc == 0 ? status : PROTO_ST_INTERNAL);
}

/* ---- conversions ---- */

void
entry_to_proto(const struct trk_entry *e, uint64_t now, struct proto_entry *p)
{
	uint64_t lease = trk_entry_lease(e);
	uint64_t left = lease > now ? lease - now : 0;

	memset(p, 0, sizeof(*p));
	p->handle = e->handle;
	p->node = e->owner;
	p->ver.clock = e->version.clock;
	p->ver.node = e->version.node;
	p->ttl_ms = lease == 0 ? 0 : (left > UINT32_MAX ? UINT32_MAX :
			(left == 0 ? 1 : (uint32_t)left));
	p->ep.family = e->ep.family;
	p->ep.port = e->ep.port;
	memcpy(p->ep.addr, e->ep.addr, sizeof(p->ep.addr));
	p->name.ptr = trk_entry_name(e);
	p->name.len = e->name_len;
	p->meta.ptr = trk_entry_meta(e);
	p->meta.len = e->meta_len;
}

/* The lease granted for a requested ttl: at most lease_max_ms, if set. */
static uint32_t
lease_granted(const struct exec_node *node, uint32_t ttl_ms)
{
	if (node->lease_max_ms != 0 && ttl_ms > node->lease_max_ms)
		return node->lease_max_ms;
	return ttl_ms;
}

static void
reg_from_op(const struct proto_op *op, const struct exec_node *node,
		struct trk_reg *r)
{
	memset(r, 0, sizeof(*r));
	r->key = trk_key(op->name.ptr, op->name.len);
	r->handle = op->handle;
	r->ep.family = op->ep.family;
	r->ep.port = op->ep.port;
	memcpy(r->ep.addr, op->ep.addr, sizeof(r->ep.addr));
	r->owner = node->node_id;
	r->meta = op->meta.ptr;
	r->meta_len = op->meta.len;
	r->ttl_ms = lease_granted(node, op->ttl_ms);
}

/* ---- ops ---- */

struct entry_arg {
	const struct trk_entry *e;
	uint8_t status;
	uint8_t outcome;
};

static int
add_entry(struct exec_ctx *c, const struct proto_op *op, const void *arg)
{
	const struct entry_arg *a = arg;
	struct proto_entry pe;

	entry_to_proto(a->e, c->now, &pe);
	if (op->opcode == PROTO_OP_WHEREIS_OR_REGISTER)
		return proto_rep_add_wor(&c->enc, op->index, a->outcome, &pe);
	return proto_rep_add_entry(&c->enc, op->index, op->opcode, a->status,
			&pe);
}

static int
add_receipt(struct exec_ctx *c, const struct proto_op *op, const void *arg)
{
	const struct trk_entry *e = arg;
	struct proto_receipt rc = {
		.node = e->owner,
		.ver = { .clock = e->version.clock, .node = e->version.node },
	};

	return proto_rep_add_receipt(&c->enc, op->index, &rc);
}

static void
op_register(struct exec_ctx *c, const struct proto_op *op)
{
	const struct trk_entry *e = NULL;
	struct trk_reg r;
	int rc;

	reg_from_op(op, c->node, &r);
	rc = trk_register(c->t, &r, c->now, &e);
	if (rc == TRK_OK)
		reply_large(c, op, PROTO_ST_OK, add_receipt, e);
	else if (rc == TRK_EXISTS) {
		struct entry_arg a = { e, PROTO_ST_ALREADY_REGISTERED, 0 };

		reply_large(c, op, a.status, add_entry, &a);
	} else
		reply_status(c, op, exec_status_of(rc));
}

static void
op_whereis_or_register(struct exec_ctx *c, const struct proto_op *op)
{
	const struct trk_entry *e = NULL;
	struct trk_reg r;
	int rc;

	reg_from_op(op, c->node, &r);
	rc = trk_whereis_or_register(c->t, &r, c->now, &e);
	if (rc == TRK_OK || rc == TRK_EXISTS) {
		struct entry_arg a = { e, PROTO_ST_OK, rc == TRK_OK ?
			PROTO_WOR_REGISTERED : PROTO_WOR_FOUND };

		reply_large(c, op, PROTO_ST_OK, add_entry, &a);
	} else
		reply_status(c, op, exec_status_of(rc));
}

static void
op_unregister(struct exec_ctx *c, const struct proto_op *op)
{
	struct trk_key k = trk_key(op->name.ptr, op->name.len);
	bool check = (op->flags & PROTO_OPF_EXPECT_HANDLE) != 0;
	const struct trk_entry *e;
	int rc;

	rc = trk_unregister(c->t, &k, check, op->handle, c->now);
	if (rc == TRK_NOT_FOUND && check &&
			(e = trk_whereis(c->t, &k, c->now)) != NULL) {
		struct entry_arg a = { e, PROTO_ST_HANDLE_MISMATCH, 0 };

		reply_large(c, op, a.status, add_entry, &a);
		return;
	}
	reply_status(c, op, exec_status_of(rc));
}

static void
op_whereis(struct exec_ctx *c, const struct proto_op *op)
{
	struct trk_key k = trk_key(op->name.ptr, op->name.len);
	const struct trk_entry *e = trk_whereis(c->t, &k, c->now);
	struct entry_arg a = { e, PROTO_ST_OK, 0 };

	if (e == NULL)
		reply_status(c, op, PROTO_ST_NOT_FOUND);
	else
		reply_large(c, op, PROTO_ST_OK, add_entry, &a);
}

static void
op_join_leave(struct exec_ctx *c, const struct proto_op *op)
{
	struct trk_key g = trk_key(op->group.ptr, op->group.len);
	struct trk_key k = trk_key(op->name.ptr, op->name.len);
	int rc;

	if (op->opcode == PROTO_OP_JOIN)
		rc = trk_join(c->t, &g, &k, c->now);
	else {
		rc = trk_leave(c->t, &g, &k, c->now);
		if (rc == TRK_NOT_FOUND)	/* leaving is idempotent */
			rc = TRK_OK;
	}
	reply_status(c, op, exec_status_of(rc));
}

static void
op_status(struct exec_ctx *c, const struct proto_op *op)
{
	const char *name = c->node->name;
	struct proto_node_status ns = {
		.version_min = PROTO_VERSION_MIN,
		.version_max = PROTO_VERSION_MAX,
		.node = c->node->node_id,
		.partitions = (uint16_t)trk_nparts(c->t),
		.entries = trk_count(c->t),
		.uptime_ms = c->now > c->node->start_ms ?
			c->now - c->node->start_ms : 0,
		.name = { (const uint8_t *)name, (uint16_t)strlen(name) },
	};
	int rc = PROTO_ENOSPC;

	if (reply_full_here(c))
		rc = proto_rep_add_node_status(&c->enc, op->index, &ns);

	if (rc == PROTO_ENOSPC && reply_may_grow(c)) {
		reply_close(c);
		reply_open(c);
		rc = proto_rep_add_node_status(&c->enc, op->index, &ns);
	}
	if (rc != 0)
		reply_status(c, op, rc == PROTO_ENOSPC ? PROTO_ST_OVERLOADED :
				PROTO_ST_INTERNAL);
	else
		reply_count(c, PROTO_ST_OK);
}

static int
add_readiness(struct exec_ctx *c, const struct proto_op *op, const void *arg)
{
	return proto_rep_add_readiness(&c->enc, op->index, arg);
}

/* READINESS: the node's callback, or "serving" for a standalone node. */
static void
op_readiness(struct exec_ctx *c, const struct proto_op *op)
{
	struct proto_readiness rd = {
		.state = PROTO_READY_SERVING,
		.partitions = (uint16_t)trk_nparts(c->t),
		.synced = (uint16_t)trk_nparts(c->t),
		.alive = 1,
		.owners = 1,
	};

	if (c->node->readiness != NULL)
		c->node->readiness(c->node->readiness_arg, c->now, &rd);
	reply_large(c, op, PROTO_ST_OK, add_readiness, &rd);
}

/*
 * Counters from the node's callback; the ones that would take the body
 * past one reply op are dropped from the end.
 */
static void
op_stats(struct exec_ctx *c, const struct proto_op *op)
{
	const char *names[PROTO_STATS_MAX];
	uint64_t values[PROTO_STATS_MAX];
	size_t blen = 2, n = 0;
	int got, rc = PROTO_ENOSPC;

	got = c->node->stats(c->node->stats_arg, names, values,
			PROTO_STATS_MAX);
	if (got < 0 || got > (int)PROTO_STATS_MAX) {
		reply_status(c, op, PROTO_ST_INTERNAL);
		return;
	}
	while (n < (size_t)got && names[n] != NULL) {
		blen += 1 + strnlen(names[n], PROTO_STATS_NAME_MAX + 1) + 8;
		if (blen > PROTO_REP_BODY_MAX)
			break;
		n++;
	}
	if (reply_full_here(c))
		rc = proto_rep_add_stats(&c->enc, op->index, names, values, n);
	if (rc == PROTO_ENOSPC && reply_may_grow(c)) {
		reply_close(c);
		reply_open(c);
		rc = proto_rep_add_stats(&c->enc, op->index, names, values, n);
	}
	if (rc != 0)
		reply_status(c, op, rc == PROTO_ENOSPC ? PROTO_ST_OVERLOADED :
				PROTO_ST_INTERNAL);
	else
		reply_count(c, PROTO_ST_OK);
}

/* Largest answer of a write: a WHEREIS_OR_REGISTER entry at full size. */
#define EXEC_WRITE_ANSWER_MAX (PROTO_REP_HDR_LEN + 1 + PROTO_ENTRY_FIXED_LEN + \
		19 + 2 * (1 + PROTO_NAME_MAX))

/*
 * A write runs only when its largest answer is sure to fit the budget, so
 * that `overloaded` always means "not executed" and a retry is clean.
 */
static bool
reply_room_for_write(struct exec_ctx *c)
{
	if (reply_full_here(c) && c->enc.w.left >= EXEC_WRITE_ANSWER_MAX)
		return true;
	if (!reply_may_grow(c))
		return false;
	reply_close(c);
	reply_open(c);
	return true;
}

bool
exec_opcode_writes(uint8_t opcode)
{
	return opcode == PROTO_OP_REGISTER || opcode == PROTO_OP_UNREGISTER ||
		opcode == PROTO_OP_WHEREIS_OR_REGISTER ||
		opcode == PROTO_OP_JOIN || opcode == PROTO_OP_LEAVE;
}

bool
exec_opcode_reads_registry(uint8_t opcode)
{
	return opcode == PROTO_OP_WHEREIS || opcode == PROTO_OP_REGISTERED ||
		opcode == PROTO_OP_MEMBERS;
}

static void
dispatch(struct exec_ctx *c, const struct proto_op *op)
{
	if (exec_opcode_writes(op->opcode) && !reply_room_for_write(c)) {
		reply_status(c, op, PROTO_ST_OVERLOADED);
		return;
	}
	switch (op->opcode) {
	case PROTO_OP_REGISTER:
		op_register(c, op);
		break;
	case PROTO_OP_WHEREIS_OR_REGISTER:
		op_whereis_or_register(c, op);
		break;
	case PROTO_OP_UNREGISTER:
		op_unregister(c, op);
		break;
	case PROTO_OP_WHEREIS:
		op_whereis(c, op);
		break;
	case PROTO_OP_JOIN:
	case PROTO_OP_LEAVE:
		op_join_leave(c, op);
		break;
	case PROTO_OP_REGISTERED:
	case PROTO_OP_MEMBERS:
		exec_page(c, op);
		break;
	case PROTO_OP_STATUS:
		op_status(c, op);
		break;
	case PROTO_OP_READINESS:
		op_readiness(c, op);
		break;
	case PROTO_OP_STATS:
		if (c->node->stats == NULL)
			reply_status(c, op, PROTO_ST_UNSUPPORTED);
		else
			op_stats(c, op);
		break;
	default:
		reply_status(c, op, PROTO_ST_UNSUPPORTED);
		break;
	}
}

/* A datagram that failed header/framing checks: one answer, or none. */
static int
answer_datagram(struct exec_ctx *c, const struct proto_req *req, int err)
{
	if (err != PROTO_EVERSION && err != PROTO_ETOOLARGE &&
			err != PROTO_EMALFORMED)
		return EXEC_DROPPED;
	c->req_id = req->req_id;
	reply_open(c);
	if (proto_rep_add_error(&c->enc, PROTO_INDEX_DGRAM, 0, err,
			req->bad_field) != 0)
		return EXEC_DROPPED;
	reply_close(c);
	c->out->status[err == PROTO_EVERSION ? PROTO_ST_BAD_VERSION :
		err == PROTO_ETOOLARGE ? PROTO_ST_TOO_LARGE :
		PROTO_ST_BAD_REQUEST]++;
	return EXEC_ANSWERED;
}

/*
 * Opcodes the decoder knows but this node may not implement: such an op
 * is answered `unsupported` even when its body is malformed (section 4.2).
 */
static bool
implemented(const struct exec_node *node, const struct proto_op *op)
{
	return op->opcode != PROTO_OP_STATS || node->stats != NULL;
}

/* Renumbers op to its reply index; false when the map does not cover it. */
static bool
map_index(const struct exec_opts *o, struct proto_op *op)
{
	if (o == NULL || o->index_map == NULL)
		return true;
	if (op->index >= o->index_map_len)
		return false;
	op->index = o->index_map[op->index];
	return true;
}

int
exec_datagram_opts(struct trk *t, const struct exec_node *node,
		const void *req, size_t len, uint64_t now,
		const struct exec_opts *o, struct exec_out *out)
{
	struct exec_ctx c = { .t = t, .node = node, .now = now, .out = out,
		.dgram_cap = PROTO_MAX_DGRAM };
	struct proto_req r;
	struct proto_op op;
	int rc;

	out->n = 0;
	out->unanswered = 0;
	out->ops = 0;
	memset(out->status, 0, sizeof(out->status));
	rc = proto_req_parse(&r, req, len);
	if (rc != 0)
		return answer_datagram(&c, &r, rc);
	c.req_id = r.req_id;
	if (o != NULL && o->dgram_cap != 0)
		c.dgram_cap = o->dgram_cap < EXEC_MIN_REPLY_CAP ?
			EXEC_MIN_REPLY_CAP : o->dgram_cap > PROTO_MAX_DGRAM ?
			PROTO_MAX_DGRAM : o->dgram_cap;
	reply_open(&c);
	while ((rc = proto_req_next_op(&r, &op)) != PROTO_END) {
		if (!map_index(o, &op))
			reply_status(&c, &op, PROTO_ST_INTERNAL);
		else if (rc == PROTO_EMALFORMED && !implemented(node, &op))
			reply_status(&c, &op, PROTO_ST_UNSUPPORTED);
		else if (rc != 0)
			reply_bad_field(&c, &op, rc);
		else if (o == NULL || o->take == NULL || o->take(&op, o->arg))
			dispatch(&c, &op);
	}
	reply_close(&c);
	return EXEC_ANSWERED;
}

int
exec_datagram(struct trk *t, const struct exec_node *node, const void *req,
		size_t len, uint64_t now, struct exec_out *out)
{
	return exec_datagram_opts(t, node, req, len, now, NULL, out);
}

bool
exec_op_write_hash(const struct proto_op *op, uint64_t *hash)
{
	switch (op->opcode) {
	case PROTO_OP_REGISTER:
	case PROTO_OP_WHEREIS_OR_REGISTER:
	case PROTO_OP_UNREGISTER:
	case PROTO_OP_JOIN:
	case PROTO_OP_LEAVE:
		*hash = ring_hash_name(op->name.ptr, op->name.len);
		return true;
	default:
		return false;
	}
}

int
exec_op_partition(const struct trk *t, const struct proto_op *op)
{
	uint64_t h;

	return exec_op_write_hash(op, &h) ? (int)trk_part_of(t, h) : -1;
}
