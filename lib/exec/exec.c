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
 * budget gets `overloaded` instead, so every op is still answered. For a
 * source the caller does not trust it also sets a byte budget
 * (exec_opts.budget): every full answer is checked against what the bytes
 * of the request up to its op allow (the credit), less one datagram header
 * kept back while more ops follow; short answers always go out, and each
 * op's own share pays for its short answer (EXEC_AMP x 4 >= EXEC_SHORT_MAX).
 * The adds themselves are unchanged: exec_room_begin() lowers the
 * encoder's room to what the budget leaves, so an add that would overrun
 * it fails with PROTO_ENOSPC like one that overruns the datagram.
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
exec_reply_open(struct exec_ctx *c)
{
	struct exec_out *o = c->out;

	proto_rep_init(&c->enc, o->dgram[o->n], c->dgram_cap, c->req_id);
}

void
exec_reply_close(struct exec_ctx *c)
{
	size_t len = proto_enc_finish(&c->enc);

	if (len > 0) {
		c->out->len[c->out->n++] = len;
		c->spent += len;
	}
}

/*
 * Full answers may go into the current datagram only while it is outside
 * the reserve, and into a next one only if that one is outside it too.
 */
static bool
reply_full_here(const struct exec_ctx *c)
{
	return c->out->n < EXEC_MAX_REPLIES - EXEC_RESERVE;
}

static bool
reply_may_grow(const struct exec_ctx *c)
{
	return c->out->n + 1 < EXEC_MAX_REPLIES - EXEC_RESERVE;
}

bool
exec_budgeted(const struct exec_ctx *c)
{
	return c->budget.reply_bytes_max != 0;
}

/*
 * What the byte budget leaves once `used` reply bytes are written: the
 * credit so far, less a datagram header kept back while more ops follow
 * (their short answers are paid by their own shares, but one of them may
 * need a datagram of its own).
 */
static size_t
budget_left(const struct exec_ctx *c, size_t used)
{
	size_t keep = c->more_ops ? PROTO_HDR_LEN : 0;

	return c->credit > used + keep ? c->credit - used - keep : 0;
}

size_t
exec_room_here(const struct exec_ctx *c)
{
	size_t room = reply_full_here(c) ? c->enc.w.left : 0, b;

	if (!exec_budgeted(c))
		return room;
	b = budget_left(c, c->spent + (c->dgram_cap - c->enc.w.left));
	return room < b ? room : b;
}

size_t
exec_room_next(const struct exec_ctx *c)
{
	size_t room = reply_may_grow(c) ? c->dgram_cap - PROTO_HDR_LEN : 0, b;

	if (!exec_budgeted(c))
		return room;
	b = budget_left(c, c->spent + PROTO_HDR_LEN + (c->enc.nops > 0 ?
			c->dgram_cap - c->enc.w.left : 0));
	return room < b ? room : b;
}

size_t
exec_room_begin(struct exec_ctx *c, size_t room)
{
	size_t hidden = c->enc.w.left > room ? c->enc.w.left - room : 0;

	c->enc.w.left -= hidden;
	return hidden;
}

void
exec_room_end(struct exec_ctx *c, size_t hidden)
{
	c->enc.w.left += hidden;
}

void
exec_reply_count(struct exec_ctx *c, uint8_t status)
{
	c->out->ops++;
	c->out->status[status & 15]++;
}

/* Any short answer: always finds room (the reserve guarantees it). */
void
exec_reply_short(struct exec_ctx *c, uint16_t index, uint8_t opcode,
		uint8_t status, int (*add)(struct exec_ctx *, uint16_t,
			uint8_t, uint8_t))
{
	int rc = add(c, index, opcode, status);

	if (rc == PROTO_ENOSPC && c->out->n + 1 < EXEC_MAX_REPLIES) {
		exec_reply_close(c);
		exec_reply_open(c);
		rc = add(c, index, opcode, status);
	}
	/* The reserve makes this impossible; count it if it ever happens. */
	if (rc != 0) {
		c->out->unanswered++;
		return;
	}
	exec_reply_count(c, status);
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
exec_reply_status(struct exec_ctx *c, const struct proto_op *op,
		uint8_t status)
{
	exec_reply_short(c, op->index, op->opcode, status, add_empty);
}

/* A refusal of the take hook: a retry hint, or no body. */
static int
add_refusal(struct exec_ctx *c, uint16_t index, uint8_t opcode,
		uint8_t status)
{
	if (proto_rep_body_kind(opcode, status) == PROTO_BODY_RETRY)
		return proto_rep_add_retry(&c->enc, index, opcode, status,
				c->retry_ms);
	return proto_rep_add_empty(&c->enc, index, opcode, status);
}

static void
reply_refusal(struct exec_ctx *c, const struct proto_op *op,
		const struct exec_refusal *rf)
{
	enum proto_body_kind k = proto_rep_body_kind(op->opcode, rf->status);
	uint8_t status = k == PROTO_BODY_RETRY || k == PROTO_BODY_EMPTY ?
		rf->status : PROTO_ST_INTERNAL;	/* not a refusal: a bug */

	c->retry_ms = rf->retry_ms;
	exec_reply_short(c, op->index, op->opcode, status, add_refusal);
}

static void
reply_bad_field(struct exec_ctx *c, const struct proto_op *op, int err)
{
	int rc = proto_rep_add_error(&c->enc, op->index, op->opcode, err,
			op->bad_field);

	if (rc == PROTO_ENOSPC && c->out->n + 1 < EXEC_MAX_REPLIES) {
		exec_reply_close(c);
		exec_reply_open(c);
		rc = proto_rep_add_error(&c->enc, op->index, op->opcode, err,
				op->bad_field);
	}
	if (rc != 0) {
		c->out->unanswered++;
		return;
	}
	exec_reply_count(c, err == PROTO_EUNSUPP ? PROTO_ST_UNSUPPORTED :
			PROTO_ST_BAD_REQUEST);
}

typedef int (*add_fn)(struct exec_ctx *, const struct proto_op *,
		const void *);

static int
add_within(struct exec_ctx *c, size_t room, add_fn add,
		const struct proto_op *op, const void *arg)
{
	size_t hidden = exec_room_begin(c, room);
	int rc = add(c, op, arg);

	exec_room_end(c, hidden);
	return rc;
}

/*
 * Adds a full answer with add(c, op, arg) where it fits: the current
 * datagram, else a fresh one when that leaves more room. PROTO_ENOSPC
 * when it fits neither (nothing written).
 */
static int
add_full(struct exec_ctx *c, const struct proto_op *op, add_fn add,
		const void *arg)
{
	size_t here = exec_room_here(c), next = exec_room_next(c);
	int rc = PROTO_ENOSPC;

	if (here > 0)
		rc = add_within(c, here, add, op, arg);
	if (rc == PROTO_ENOSPC && next > here) {
		exec_reply_close(c);
		exec_reply_open(c);
		rc = add_within(c, exec_room_here(c), add, op, arg);
	}
	return rc;
}

/*
 * Adds a large answer with add(c, op, arg); when it fits neither the
 * datagram budget nor the byte budget, answers `overloaded`.
 */
static void
reply_large(struct exec_ctx *c, const struct proto_op *op, uint8_t status,
		add_fn add, const void *arg)
{
	int rc = add_full(c, op, add, arg);

	if (rc != 0)	/* EINVAL: nothing written, a bug: say so */
		exec_reply_status(c, op, rc == PROTO_ENOSPC ?
				PROTO_ST_OVERLOADED : PROTO_ST_INTERNAL);
	else
		exec_reply_count(c, status);
}

/* ---- conversions ---- */

void
exec_entry_to_proto(const struct trk_entry *e, uint64_t now,
		struct proto_entry *p)
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
reg_from_op(const struct exec_ctx *c, const struct proto_op *op,
		struct trk_reg *r)
{
	const struct exec_node *node = c->node;

	memset(r, 0, sizeof(*r));
	r->key = exec_name_key(c);
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

	exec_entry_to_proto(a->e, c->now, &pe);
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

	reg_from_op(c, op, &r);
	rc = trk_register(c->t, &r, c->now, &e);
	if (rc == TRK_OK)
		reply_large(c, op, PROTO_ST_OK, add_receipt, e);
	else if (rc == TRK_EXISTS) {
		struct entry_arg a = { e, PROTO_ST_ALREADY_REGISTERED, 0 };

		reply_large(c, op, a.status, add_entry, &a);
	} else
		exec_reply_status(c, op, exec_status_of(rc));
}

static void
op_whereis_or_register(struct exec_ctx *c, const struct proto_op *op)
{
	const struct trk_entry *e = NULL;
	struct trk_reg r;
	int rc;

	reg_from_op(c, op, &r);
	rc = trk_whereis_or_register(c->t, &r, c->now, &e);
	if (rc == TRK_OK || rc == TRK_EXISTS) {
		struct entry_arg a = { e, PROTO_ST_OK, rc == TRK_OK ?
			PROTO_WOR_REGISTERED : PROTO_WOR_FOUND };

		reply_large(c, op, PROTO_ST_OK, add_entry, &a);
	} else
		exec_reply_status(c, op, exec_status_of(rc));
}

static void
op_unregister(struct exec_ctx *c, const struct proto_op *op)
{
	struct trk_key k = exec_name_key(c);
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
	exec_reply_status(c, op, exec_status_of(rc));
}

static void
op_whereis(struct exec_ctx *c, const struct proto_op *op)
{
	struct trk_key k = exec_name_key(c);
	const struct trk_entry *e = trk_whereis(c->t, &k, c->now);
	struct entry_arg a = { e, PROTO_ST_OK, 0 };

	if (e == NULL)
		exec_reply_status(c, op, PROTO_ST_NOT_FOUND);
	else
		reply_large(c, op, PROTO_ST_OK, add_entry, &a);
}

static void
op_join_leave(struct exec_ctx *c, const struct proto_op *op)
{
	struct trk_key g = exec_group_key(c);
	struct trk_key k = exec_name_key(c);
	int rc;

	if (op->opcode == PROTO_OP_JOIN)
		rc = trk_join(c->t, &g, &k, c->now);
	else {
		rc = trk_leave(c->t, &g, &k, c->now);
		if (rc == TRK_NOT_FOUND)	/* leaving is idempotent */
			rc = TRK_OK;
	}
	exec_reply_status(c, op, exec_status_of(rc));
}

static int
add_node_status(struct exec_ctx *c, const struct proto_op *op,
		const void *arg)
{
	return proto_rep_add_node_status(&c->enc, op->index, arg);
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

	reply_large(c, op, PROTO_ST_OK, add_node_status, &ns);
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

struct stats_arg {
	const char *const *names;
	const uint64_t *values;
	size_t n;
};

static int
add_stats(struct exec_ctx *c, const struct proto_op *op, const void *arg)
{
	const struct stats_arg *a = arg;

	return proto_rep_add_stats(&c->enc, op->index, a->names, a->values,
			a->n);
}

/*
 * Counters from the node's callback; the ones that would take the body
 * past one reply op are dropped from the end. Under a byte budget the list
 * is answered whole or `overloaded`, never cut to the budget: a client
 * looks counters up by name and could not tell a missing one from a cut.
 */
static void
op_stats(struct exec_ctx *c, const struct proto_op *op)
{
	const char *names[PROTO_STATS_MAX];
	uint64_t values[PROTO_STATS_MAX];
	struct stats_arg a = { names, values, 0 };
	size_t blen = 2;
	int got;

	got = c->node->stats(c->node->stats_arg, names, values,
			PROTO_STATS_MAX);
	if (got < 0 || got > (int)PROTO_STATS_MAX) {
		exec_reply_status(c, op, PROTO_ST_INTERNAL);
		return;
	}
	while (a.n < (size_t)got && names[a.n] != NULL) {
		blen += 1 + strnlen(names[a.n], PROTO_STATS_NAME_MAX + 1) + 8;
		if (blen > PROTO_REP_BODY_MAX)
			break;
		a.n++;
	}
	reply_large(c, op, PROTO_ST_OK, add_stats, &a);
}

/* Largest answer of a write: a WHEREIS_OR_REGISTER entry at full size. */
#define EXEC_WRITE_ANSWER_MAX (PROTO_REP_HDR_LEN + 1 + PROTO_ENTRY_FIXED_LEN + \
		19 + 2 * (1 + PROTO_NAME_MAX))

/*
 * Under a byte budget, the answer a write gives when it changes something:
 * a receipt (REGISTER), its own entry (WHEREIS_OR_REGISTER registering),
 * an empty ok (UNREGISTER, JOIN, LEAVE). Its other answers change nothing
 * (an entry held by another handle, one found) and become `overloaded`
 * when they do not fit, which stays true: nothing was done.
 */
static size_t
write_answer_len(const struct proto_op *op)
{
	switch (op->opcode) {
	case PROTO_OP_REGISTER:
		return PROTO_REP_HDR_LEN + PROTO_RECEIPT_LEN;
	case PROTO_OP_WHEREIS_OR_REGISTER:
		return PROTO_REP_HDR_LEN + 1 + PROTO_ENTRY_FIXED_LEN +
			proto_endpoint_len(&op->ep) + 2 + op->name.len +
			op->meta.len;
	default:
		return PROTO_REP_HDR_LEN;
	}
}

/*
 * A write runs only when its largest answer (under a byte budget: the
 * largest one that says it changed something) is sure to fit, so that
 * `overloaded` always means "not executed" and a retry is clean.
 */
static bool
reply_room_for_write(struct exec_ctx *c, const struct proto_op *op)
{
	size_t need = exec_budgeted(c) ? write_answer_len(op) :
		EXEC_WRITE_ANSWER_MAX;

	if (exec_room_here(c) >= need)
		return true;
	if (exec_room_next(c) < need)
		return false;
	exec_reply_close(c);
	exec_reply_open(c);
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
	if (exec_opcode_writes(op->opcode) && !reply_room_for_write(c, op)) {
		exec_reply_status(c, op, PROTO_ST_OVERLOADED);
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
			exec_reply_status(c, op, PROTO_ST_UNSUPPORTED);
		else
			op_stats(c, op);
		break;
	default:
		exec_reply_status(c, op, PROTO_ST_UNSUPPORTED);
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
	exec_reply_open(c);
	if (proto_rep_add_error(&c->enc, PROTO_INDEX_DGRAM, 0, err,
			req->bad_field) != 0)
		return EXEC_DROPPED;
	exec_reply_close(c);
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

/* A budget that could never bind is none: more than every datagram holds. */
#define EXEC_BUDGET_CEIL ((size_t)EXEC_MAX_REPLIES * PROTO_MAX_DGRAM)

size_t
exec_budget_share(const struct exec_budget *b, size_t req_len,
		size_t op_len)
{
	if (b == NULL || b->reply_bytes_max == 0 ||
	    b->reply_bytes_max >= EXEC_BUDGET_CEIL || req_len == 0)
		return 0;
	return (size_t)((uint64_t)b->reply_bytes_max * op_len / req_len);
}

/* Op op is answered here: its bytes now count towards the credit. */
static void
credit_op(struct exec_ctx *c, const struct proto_op *op)
{
	c->credit_bytes += exec_op_len(op);
	if (exec_budgeted(c))
		c->credit = (size_t)((uint64_t)c->budget.reply_bytes_max *
				c->credit_bytes / c->req_len);
}

/*
 * A datagram's ops are decoded, hashed and prefetched in stages of up to
 * EXEC_STAGE_OPS before any of them runs: the index buckets of every name
 * in the stage are requested, then every candidate entry, so the table
 * misses of the stage overlap instead of queueing one behind the other.
 * The ops then run in datagram order, as before: staging changes when
 * memory is touched, never what an op sees.
 */
#define EXEC_STAGE_OPS 16

struct exec_staged {
	struct exec_op xo;
	int rc;			/* proto_req_next_op's verdict on the op */
	bool mapped;		/* its reply index is known */
};

/* Decode and hash up to EXEC_STAGE_OPS ops; their table lines in flight. */
static unsigned int
stage_ops(const struct exec_ctx *c, struct proto_req *r,
		const struct exec_opts *o, struct exec_staged *s)
{
	unsigned int n = 0, i;

	while (n < EXEC_STAGE_OPS) {
		struct exec_staged *st = &s[n];
		uint16_t pos;

		st->rc = proto_req_next_op(r, &st->xo.op);
		if (st->rc == PROTO_END)
			break;
		pos = st->xo.op.index;
		st->mapped = map_index(o, &st->xo.op);
		if (st->rc == 0 && o != NULL && o->hashes != NULL &&
		    pos < o->nhashes)
			exec_op_hashed(c->t, &st->xo, &o->hashes[pos]);
		else if (st->rc == 0)
			exec_op_hash(c->t, &st->xo);
		else
			st->xo = (struct exec_op){ .op = st->xo.op, .part = -1 };
		n++;
	}
	for (i = 0; i < n; i++)
		if (s[i].xo.hash != 0)
			trk_prefetch(c->t, s[i].xo.hash);
	for (i = 0; i < n; i++)
		if (s[i].xo.hash != 0)
			trk_prefetch_entry(c->t, s[i].xo.hash);
	return n;
}

/* Take, credit and answer one staged op. */
static void
run_op(struct exec_ctx *c, struct exec_staged *st, const struct exec_opts *o)
{
	struct proto_op *op = &st->xo.op;
	struct exec_refusal rf;
	int verdict = EXEC_TAKE_RUN;

	c->cur = &st->xo;
	if (st->mapped && st->rc == 0 && o != NULL && o->take != NULL) {
		rf = (struct exec_refusal){ PROTO_ST_INTERNAL, 0 };
		verdict = o->take(&st->xo, o->arg, &rf);
	}
	if (verdict == EXEC_TAKE_SKIP)
		return;		/* answered elsewhere, with its share */
	credit_op(c, op);
	if (!st->mapped)
		exec_reply_status(c, op, PROTO_ST_INTERNAL);
	else if (st->rc == PROTO_EMALFORMED && !implemented(c->node, op))
		exec_reply_status(c, op, PROTO_ST_UNSUPPORTED);
	else if (st->rc != 0)
		reply_bad_field(c, op, st->rc);
	else if (verdict == EXEC_TAKE_REFUSE)
		reply_refusal(c, op, &rf);
	else
		dispatch(c, op);
}

int
exec_datagram_opts(struct trk *t, const struct exec_node *node,
		const void *req, size_t len, uint64_t now,
		const struct exec_opts *o, struct exec_out *out)
{
	struct exec_ctx c = { .t = t, .node = node, .now = now, .out = out,
		.dgram_cap = PROTO_MAX_DGRAM, .req_len = len,
		.credit_bytes = PROTO_HDR_LEN };
	struct exec_staged stage[EXEC_STAGE_OPS];
	struct proto_req r;
	unsigned int n, i;
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
	if (o != NULL) {
		c.budget = o->budget;
		if (c.budget.reply_bytes_max >= EXEC_BUDGET_CEIL)
			c.budget.reply_bytes_max = 0;
	}
	exec_reply_open(&c);
	while ((n = stage_ops(&c, &r, o, stage)) != 0) {
		for (i = 0; i < n; i++) {
			c.more_ops = i + 1 < n || r.next < r.nops;
			run_op(&c, &stage[i], o);
		}
	}
	exec_reply_close(&c);
	return EXEC_ANSWERED;
}

int
exec_datagram(struct trk *t, const struct exec_node *node, const void *req,
		size_t len, uint64_t now, struct exec_out *out)
{
	return exec_datagram_opts(t, node, req, len, now, NULL, out);
}

/* Ops that carry a name, and those that carry a group. */
static bool
has_name(uint8_t opcode)
{
	return exec_opcode_writes(opcode) || opcode == PROTO_OP_WHEREIS;
}

static bool
has_group(uint8_t opcode)
{
	return opcode == PROTO_OP_JOIN || opcode == PROTO_OP_LEAVE ||
		opcode == PROTO_OP_MEMBERS;
}

void
exec_op_hashed(const struct trk *t, struct exec_op *xo,
		const struct exec_hashes *h)
{
	xo->hash = has_name(xo->op.opcode) ? h->name : 0;
	xo->group_hash = has_group(xo->op.opcode) ? h->group : 0;
	xo->part = exec_opcode_writes(xo->op.opcode) ?
		(int32_t)trk_part_of(t, xo->hash) : -1;
}

void
exec_op_hash(const struct trk *t, struct exec_op *xo)
{
	const struct proto_op *op = &xo->op;
	struct exec_hashes h = {
		.name = has_name(op->opcode) ?
			ring_hash_name(op->name.ptr, op->name.len) : 0,
		.group = has_group(op->opcode) ?
			ring_hash_name(op->group.ptr, op->group.len) : 0,
	};

	exec_op_hashed(t, xo, &h);
}
