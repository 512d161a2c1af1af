/*
 * clu_fwd.c - the client request path of a cluster node: owner-serialized
 * writes.
 *
 * A request runs through exec_datagram_opts() with a take hook. Reads run
 * here (every node holds a full replica). A write whose name the ring
 * gives to this node runs here too. A write owned by another node is
 * copied into a sub-request for (owner, partition) and sent to the owner
 * as FWD, with the map from its op positions to the client's op indexes;
 * the owner executes it (it never forwards again, so views that disagree
 * for a moment cannot make a loop) with the client's original indexes and
 * sends each reply datagram back as FWD_REPLY, which we relay verbatim. A
 * WHEREIS that follows a forwarded write to the same owner goes along, so
 * "REGISTER x; WHEREIS x" in one datagram reads its own write.
 *
 * Every op is answered exactly once: refused ops (below quorum:
 * no_node_available; no room: overloaded) at once, by exec in the replies
 * of the run; forwarded ops by the owner's replies, or, if the owner has
 * not answered after fwd_timeout_ms or dies first, with no_node_available
 * (the write may or may not have happened: repeating a REGISTER with the
 * same handle is harmless).
 *
 * Byte budget (a client the node does not trust, exec_budget): the local
 * run keeps to the shares of the ops it answers; each sub-request gets the
 * shares of its ops (a new one only when they pay for a reply datagram of
 * its own, EXEC_PART_MIN: else the op is refused `overloaded`). The owner
 * knows nothing of it (FWD is unchanged); we apply the sub-request's
 * budget when relaying its FWD_REPLY datagrams: answers that changed
 * nothing and do not fit (an entry of another holder, a WHEREIS) become
 * `overloaded`, which stays true; answers that report a change are short
 * or the op's own bytes (a receipt, an empty ok, a WHEREIS_OR_REGISTER's
 * own entry) and always go out, paid by their op's share.
 *
 * Read-your-writes at the node the client talks to: the owner flushes the
 * changes a FWD made into its replication stream before replying and puts
 * the stream position in FWD_REPLY; we hold the reply until our copy of
 * that stream has applied it, so a WHEREIS right after the answer sees the
 * write here too, and an ok through a node that is not the owner means two
 * nodes hold the write. If the change does not arrive (the owner dies, or
 * fwd_timeout_ms pass) the ok becomes no_node_available: outcome unknown.
 *
 * Replica acknowledgement (the REPLICAS request flag, k): the owner holds
 * its answer - the client reply of a local request, the FWD_REPLY of a
 * forwarded one - until k other serving nodes (all of them for
 * PROTO_REPLICAS_ALL, or all there are when fewer) have acknowledged the
 * stream position of the changes. If that does not happen within
 * fwd_timeout_ms the writes are answered no_node_available (outcome
 * unknown): a forwarded request by its origin's own timeout (the owner
 * drops the held FWD_REPLY), a local one by the owner (reads keep their
 * answers).
 */
#include <stdlib.h>
#include <string.h>

#include "clu_internal.h"
#include "proto_rep.h"
#include "proto_req.h"

#define FWD_HDR 13	/* units u8; token u64, nops u16, len u16 */
#define FWD_UNIT_FIXED 12	/* token, nops, len */
#define FWD_REPLY_UNIT_FIXED 28	/* token, base, seq, idx, count, len */
#define SUB_CAP (CLU_BODY_MAX - FWD_HDR - 2 * CLU_FWD_OPS_MAX)

struct sub {
	uint32_t owner;
	uint16_t part;
	uint16_t nops;
	uint16_t index[CLU_FWD_OPS_MAX];
	uint8_t opcode[CLU_FWD_OPS_MAX];
	uint16_t share[CLU_FWD_OPS_MAX];	/* of the byte budget, per op */
	size_t budget;				/* their sum */
	struct proto_enc enc;
	uint8_t buf[SUB_CAP];
};

/* Ops answered here without running: index, opcode, status. */
struct refused {
	uint16_t n;
	uint16_t index[PROTO_MAX_OPS];
	uint8_t opcode[PROTO_MAX_OPS];
	uint8_t status[PROTO_MAX_OPS];
	uint32_t retry_ms;	/* the hint of not_ready answers */
};

/*
 * The byte budget of a forwarded sub-request, applied when its replies are
 * relayed (by pending slot). credit: the shares of the ops answered so far;
 * spent: bytes relayed to the client.
 */
struct pend_budget {
	bool on;
	uint32_t credit;
	uint32_t spent;
	uint16_t share[CLU_FWD_OPS_MAX];
};

struct clu_reqctx {
	struct clu *c;
	uint64_t req_id;
	uint8_t replicas;	/* from the request header */
	uint64_t now;
	uint64_t local_parts;	/* bit p: a write of partition p ran here */
	struct exec_budget budget;	/* of the request being run */
	size_t req_len;
	uint32_t nsub;
	struct sub sub[CLU_SUBS_MAX];
	struct refused ref;
	struct pend_budget pb[CLU_PENDING_MAX];
};

static struct clu_reqctx *
reqctx(struct clu *c)
{
	if (c->rq == NULL)
		c->rq = calloc(1, sizeof(*c->rq));
	return c->rq;
}

static void
refuse(struct refused *f, const struct proto_op *op, uint8_t status)
{
	f->index[f->n] = op->index;
	f->opcode[f->n] = op->opcode;
	f->status[f->n++] = status;
}

/* One reply datagram answering every refused op; its length, 0 if none. */
static size_t
encode_refused(const struct refused *f, uint64_t req_id, uint8_t *buf,
		size_t cap)
{
	struct proto_enc e;
	uint16_t i;
	int rc;

	if (f->n == 0)
		return 0;
	proto_rep_init(&e, buf, cap, req_id);
	for (i = 0; i < f->n; i++) {
		if (f->status[i] == PROTO_ST_OVERLOADED ||
		    f->status[i] == PROTO_ST_NOT_READY)
			rc = proto_rep_add_retry(&e, f->index[i], f->opcode[i],
					f->status[i], f->status[i] ==
					PROTO_ST_NOT_READY ? f->retry_ms : 0);
		else
			rc = proto_rep_add_empty(&e, f->index[i], f->opcode[i],
					f->status[i]);
		if (rc != 0)
			break;	/* short answers of a datagram's ops always fit */
	}
	return proto_enc_finish(&e);
}

/* ---- replica acknowledgement (owner side) ---- */

static struct clu_ahold *
ahold_alloc(struct clu *c, uint8_t replicas, uint64_t now)
{
	uint32_t i, k;

	for (k = 0; k < c->ahold_max; k++) {
		struct clu_ahold *a;

		i = (c->ahold_rr + k) % c->ahold_max;
		a = &c->ahold[i];
		if (a->used)
			continue;
		c->ahold_rr = i + 1;
		a->used = true;
		a->replicas = replicas;
		a->deadline = now + c->cfg.fwd_timeout_ms;
		a->mark = &c->amark[(size_t)i * c->nparts];
		memset(a->mark, 0, c->nparts * sizeof(*a->mark));
		c->nahold++;
		c->st.replicas_waited++;
		return a;
	}
	return NULL;
}

/* Flushes partition part and marks its log head as the point to confirm. */
static void
ahold_mark(struct clu *c, struct clu_ahold *a, uint32_t part)
{
	clu_repl_drain(c, part);
	clu_repl_flush(c, part);
	a->mark[part] = c->part[part].head;
}

/* True when enough serving peers acknowledged every marked position. */
static bool
ahold_confirmed(const struct clu *c, const struct clu_ahold *a)
{
	uint32_t part, i, have, peers, need;

	for (part = 0; part < c->nparts; part++) {
		if (a->mark[part] == 0)
			continue;
		have = peers = 0;
		for (i = 0; i < c->npeers; i++) {
			const struct clu_peer *p = &c->peer[i];
			const struct clu_out *o = &p->out[part];

			if (!clu_peer_serves(p) || !o->active)
				continue;
			peers++;
			/* a restarted stream skipped what is below its floor */
			have += o->acked >= a->mark[part] &&
				a->mark[part] > o->floor;
		}
		need = a->replicas == PROTO_REPLICAS_ALL ||
			a->replicas > peers ? peers : a->replicas;
		/* a quorum's acks are not waived for want of peers */
		if (need < clu_min_replicas(c))
			need = clu_min_replicas(c);
		if (have < need)
			return false;
	}
	return true;
}

/*
 * A reply whose writes could not be confirmed (replicas, or the owner's
 * change never reached us): every write it answers ok becomes
 * no_node_available, since the write may or may not survive. Refusals
 * (already_registered, not_found, ...) changed nothing and stay; reads
 * keep their answers.
 */
static void
reply_unconfirmed(struct clu *c, const uint8_t *tag, const uint8_t *reply,
		size_t len)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	struct proto_reply rr;
	struct proto_rep rep;
	struct proto_enc e;
	size_t n;

	if (proto_rep_parse(&rep, reply, len) != 0)
		return;
	proto_rep_init(&e, buf, sizeof(buf), rep.req_id);
	while (proto_rep_next(&rep, &rr) == 0) {
		if (exec_opcode_writes(rr.opcode) && rr.status == PROTO_ST_OK)
			proto_rep_add_empty(&e, rr.index, rr.opcode,
					PROTO_ST_NO_NODE_AVAILABLE);
		else
			proto_rep_add(&e, &rr);
	}
	n = proto_enc_finish(&e);
	if (n > 0)
		clu_reply_push(c, tag, buf, n);
}

static void
ahold_local(struct clu *c, struct clu_reqctx *x, const uint8_t *tag,
		uint64_t now)
{
	size_t i;
	uint32_t part;

	for (i = 0; i < c->xout->n; i++) {
		struct clu_ahold *a = ahold_alloc(c, x->replicas, now);

		if (a == NULL) {	/* no room: cannot be confirmed */
			c->st.replicas_timeouts++;
			reply_unconfirmed(c, tag, c->xout->dgram[i],
					c->xout->len[i]);
			continue;
		}
		for (part = 0; part < c->nparts; part++)
			if (x->local_parts & (1ULL << part))
				ahold_mark(c, a, part);
		a->gossip = false;
		memcpy(a->r.tag, tag, CLU_CLIENT_TAG);
		memcpy(a->r.buf, c->xout->dgram[i], c->xout->len[i]);
		a->r.len = (uint16_t)c->xout->len[i];
	}
	for (part = 0; part < c->nparts; part++)
		if (x->local_parts & (1ULL << part))
			clu_repl_tick_part(c, part, now);
	clu_fwd_release_acked(c, now);
}

static void fwd_reply_write(struct clu_wr *w, uint64_t token, uint64_t base,
		uint64_t seq, uint8_t idx, uint8_t count, const uint8_t *dgram,
		size_t len);

/*
 * Holds one FWD_REPLY until its replicas confirm. It is kept unsealed:
 * sealing gives it a sequence number, which must be a fresh one when it
 * finally goes out, or the origin's replay window could refuse it.
 */
static bool
ahold_fwd_reply(struct clu *c, struct clu_peer *p, uint16_t part,
		uint64_t mark, uint8_t replicas, uint64_t now, uint64_t token,
		uint64_t base, uint64_t seq, uint8_t idx, uint8_t count,
		const uint8_t *dgram, size_t len)
{
	struct clu_ahold *a = ahold_alloc(c, replicas, now);
	struct clu_wr w;

	if (a == NULL) {
		/* cannot be confirmed: drop it, the origin times out and
		 * answers no_node_available */
		c->st.replicas_timeouts++;
		return true;
	}
	a->mark[part] = mark;
	a->gossip = true;
	a->peer = (uint16_t)(p - c->peer);
	clu_msg_init(c, &w, a->d.buf, CLU_T_FWD_REPLY, part);
	clu_put_be(&w, 1, 1);	/* one unit */
	fwd_reply_write(&w, token, base, seq, idx, count, dgram, len);
	if (w.bad) {
		a->used = false;
		c->nahold--;
		return true;
	}
	a->d.len = (uint16_t)w.len;
	clu_fwd_release_acked(c, now);
	return true;
}

void
clu_fwd_release_acked(struct clu *c, uint64_t now)
{
	uint32_t i, left = c->nahold;

	for (i = 0; i < c->ahold_max && left > 0; i++) {
		struct clu_ahold *a = &c->ahold[i];
		bool ok;

		if (!a->used)
			continue;
		left--;
		ok = ahold_confirmed(c, a);
		if (!ok && now < a->deadline)
			continue;
		if (ok && a->gossip) {
			if (clu_peer_serves(&c->peer[a->peer]))
				clu_msg_queue(c, a->d.buf, a->d.len,
						&c->peer[a->peer]);
		} else if (ok) {
			clu_reply_push(c, a->r.tag, a->r.buf, a->r.len);
		} else {
			c->st.replicas_timeouts++;
			if (!a->gossip)	/* a forwarded one times out at its origin */
				reply_unconfirmed(c, a->r.tag, a->r.buf,
						a->r.len);
		}
		a->used = false;
		c->nahold--;
	}
}

/* ---- origin side ---- */

/* A new, empty sub-request for (owner, part); NULL when none is left. */
static struct sub *
sub_open(struct clu_reqctx *x, uint32_t owner, uint16_t part)
{
	struct sub *s;

	if (x->nsub == CLU_SUBS_MAX)
		return NULL;
	s = &x->sub[x->nsub++];
	s->owner = owner;
	s->part = part;
	s->nops = 0;
	s->budget = 0;
	proto_req_init(&s->enc, s->buf, SUB_CAP, x->req_id);
	proto_req_set_replicas(&s->enc, x->replicas);
	return s;
}

/* The latest sub-request for (owner, part) with room for an op, or NULL. */
static struct sub *
sub_for(struct clu_reqctx *x, uint32_t owner, uint16_t part)
{
	uint32_t i;

	for (i = x->nsub; i-- > 0;)
		if (x->sub[i].owner == owner && x->sub[i].part == part &&
		    x->sub[i].nops < CLU_FWD_OPS_MAX)
			return &x->sub[i];
	return NULL;
}

static bool
sub_try(struct sub *s, const struct proto_op *op)
{
	return s != NULL && proto_req_add_raw(&s->enc, op->opcode, op->flags,
			op->body.ptr, op->body.len) == 0;
}

/* True while the request being run has a byte budget. */
static bool
budgeted(const struct clu_reqctx *x)
{
	return exec_budget_share(&x->budget, x->req_len, x->req_len) != 0;
}

/*
 * Adds op to a sub-request for (owner, part); false when there is none
 * with room and no new one may be started (none left, or, under a byte
 * budget, the op's share does not pay for the new one's reply datagram).
 */
static bool
sub_add(struct clu_reqctx *x, uint32_t owner, uint16_t part,
		const struct proto_op *op)
{
	struct sub *s = sub_for(x, owner, part);
	size_t share = exec_budget_share(&x->budget, x->req_len,
			exec_op_len(op));

	/* none yet, or the last one's datagram is full: start another */
	if (!sub_try(s, op)) {
		if (budgeted(x) && share < EXEC_PART_MIN)
			return false;	/* too small to pay for its datagram */
		if (!sub_try(s = sub_open(x, owner, part), op))
			return false;
	}
	s->index[s->nops] = op->index;
	s->opcode[s->nops] = op->opcode;
	s->share[s->nops++] = (uint16_t)(share > UINT16_MAX ? UINT16_MAX :
			share);
	s->budget += share;
	return true;
}

static int
refuse_with(struct exec_refusal *rf, uint8_t status, uint32_t retry_ms)
{
	rf->status = status;
	rf->retry_ms = retry_ms;
	return EXEC_TAKE_REFUSE;
}

/* Answered not_ready: the registry here is not complete yet (not ready,
 * or the partition is being verified after a takeover). */
static int
refuse_not_ready(struct clu_reqctx *x, struct exec_refusal *rf)
{
	x->c->st.not_ready++;
	return refuse_with(rf, PROTO_ST_NOT_READY, x->c->ready ?
			CLU_SYNC_RETRY_MS : clu_retry_hint_ms(x->c, x->now));
}

/*
 * A read runs here, on our replica, unless the replica is not complete
 * yet (not_ready rather than a not_found that may be false) or it reads a
 * name this request has just forwarded a write of (it goes along).
 */
static int
origin_take_read(struct clu_reqctx *x, const struct exec_op *xo,
		struct exec_refusal *rf)
{
	const struct proto_op *op = &xo->op;
	struct clu *c = x->c;
	uint32_t owner;
	uint16_t part;

	if (!exec_opcode_reads_registry(op->opcode))
		return EXEC_TAKE_RUN;
	if (op->opcode == PROTO_OP_WHEREIS && x->nsub > 0) {
		owner = clu_owner_of(c, xo->hash);
		part = (uint16_t)trk_part_of(c->t, xo->hash);
		if (owner != 0 && sub_for(x, owner, part) != NULL)
			return sub_add(x, owner, part, op) ? EXEC_TAKE_SKIP :
				refuse_with(rf, PROTO_ST_OVERLOADED, 0);
	}
	return c->ready ? EXEC_TAKE_RUN : refuse_not_ready(x, rf);
}

static int
origin_take(const struct exec_op *xo, void *arg, struct exec_refusal *rf)
{
	const struct proto_op *op = &xo->op;
	struct clu_reqctx *x = arg;
	struct clu *c = x->c;
	uint32_t owner;
	uint16_t part;

	if (xo->part < 0)
		return origin_take_read(x, xo, rf);
	owner = clu_owner_of(c, xo->hash);
	part = (uint16_t)xo->part;
	if (owner == 0 && !c->ready)
		return refuse_not_ready(x, rf);
	if (owner == 0) {
		c->st.no_node++;
		return refuse_with(rf, PROTO_ST_NO_NODE_AVAILABLE, 0);
	}
	if (owner == c->cfg.node_id) {
		if (c->part[part].verifying)
			return refuse_not_ready(x, rf);
		x->local_parts |= 1ULL << part;
		return EXEC_TAKE_RUN;
	}
	return sub_add(x, owner, part, op) ? EXEC_TAKE_SKIP :
		refuse_with(rf, PROTO_ST_OVERLOADED, 0);
}

static void
pending_free(struct clu *c, struct clu_pending *pd)
{
	pd->used = false;
	c->npending--;
}

static struct clu_pending *
pending_alloc(struct clu *c, uint64_t *token)
{
	uint32_t i;

	for (i = 0; i < CLU_PENDING_MAX; i++) {
		uint32_t k = (c->pend_rr + i) % CLU_PENDING_MAX;
		struct clu_pending *pd = &c->pending[k];

		if (pd->used)
			continue;
		c->pend_rr = k + 1;
		pd->used = true;
		c->npending++;
		pd->gen++;
		pd->answered = 0;
		*token = (uint64_t)pd->gen << 16 | k;
		return pd;
	}
	return NULL;
}

static void
send_sub(struct clu *c, struct clu_reqctx *x, struct sub *s,
		const uint8_t *tag, uint64_t now)
{
	struct clu_peer *p = clu_peer_by_id(c, s->owner);
	struct clu_pending *pd = NULL;
	struct pend_budget *pb;
	uint64_t token = 0;
	size_t len = proto_enc_finish(&s->enc);
	struct clu_wr *w = NULL;
	uint16_t i;

	if (p != NULL && len > 0)
		pd = pending_alloc(c, &token);
	if (pd != NULL)
		w = clu_fwdq_unit(c, CLU_T_FWD, p, s->part,
				FWD_UNIT_FIXED + 2u * s->nops + len);
	if (w == NULL) {
		if (pd != NULL)
			pending_free(c, pd);
		for (i = 0; i < s->nops; i++) {
			struct proto_op op = { .index = s->index[i],
				.opcode = s->opcode[i] };

			refuse(&x->ref, &op, PROTO_ST_OVERLOADED);
		}
		return;
	}
	pd->part = s->part;
	pd->nops = s->nops;
	pd->owner = s->owner;
	pd->req_id = x->req_id;
	pd->deadline = now + c->cfg.fwd_timeout_ms;
	memcpy(pd->tag, tag, CLU_CLIENT_TAG);
	memcpy(pd->index, s->index, s->nops * sizeof(s->index[0]));
	memcpy(pd->opcode, s->opcode, s->nops);
	memset(pd->done, 0, s->nops);
	pb = &x->pb[token & 0xffff];
	pb->on = s->budget != 0;
	pb->credit = 0;
	pb->spent = 0;
	memcpy(pb->share, s->share, s->nops * sizeof(s->share[0]));
	clu_put_be(w, token, 8);
	clu_put_be(w, s->nops, 2);
	for (i = 0; i < s->nops; i++)
		clu_put_be(w, s->index[i], 2);
	clu_put_be(w, len, 2);
	clu_put(w, s->buf, len);
	c->st.fwd_out++;
}

void
clu_request(struct clu *c, const uint8_t tag[CLU_CLIENT_TAG],
		const uint8_t *req, size_t len, uint64_t now)
{
	clu_request_mapped(c, tag, req, len, NULL, 0, NULL, now);
}

void
clu_request_mapped(struct clu *c, const uint8_t tag[CLU_CLIENT_TAG],
		const uint8_t *req, size_t len, const uint16_t *index_map,
		size_t map_len, const struct exec_budget *budget, uint64_t now)
{
	struct clu_reqctx *x = reqctx(c);
	struct exec_opts o = { .take = origin_take, .arg = x,
		.index_map = index_map, .index_map_len = map_len };
	struct proto_req pr;
	uint8_t buf[PROTO_MAX_DGRAM];
	size_t i, n;

	if (x == NULL || c->left)
		return;
	x->c = c;
	x->now = now;
	x->nsub = 0;
	x->ref.n = 0;
	x->local_parts = 0;
	x->req_id = 0;
	x->replicas = 0;
	x->budget = budget != NULL ? *budget : (struct exec_budget){ 0 };
	x->req_len = len;
	o.budget = x->budget;
	if (proto_req_parse(&pr, req, len) == 0) {
		x->req_id = pr.req_id;
		x->replicas = pr.replicas;
	}
	x->replicas = clu_replicas_flag(c, x->replicas);
	if (exec_datagram_opts(c->t, &c->xn, req, len, now, &o, c->xout) !=
			EXEC_ANSWERED)
		return;
	if (x->replicas > 0 && x->local_parts != 0)
		ahold_local(c, x, tag, now);
	else
		for (i = 0; i < c->xout->n; i++)
			clu_reply_push(c, tag, c->xout->dgram[i],
					c->xout->len[i]);
	for (i = 0; i < x->nsub; i++)
		send_sub(c, x, &x->sub[i], tag, now);
	n = encode_refused(&x->ref, x->req_id, buf, sizeof(buf));
	if (n > 0)
		clu_reply_push(c, tag, buf, n);
}

/* ---- owner side ---- */

/*
 * A forwarded write runs here only if this node decides it: it is ready,
 * the partition is not being verified, and its own ring gives it the
 * name. A sender whose ring disagrees (it has not seen a member become
 * ready, or leave) gets not_ready, and its client asks again once the
 * views agree: executing it here would let two nodes decide one name.
 * Never forwarded again, so disagreeing views cannot make a loop.
 */
static int
owner_take(const struct exec_op *xo, void *arg, struct exec_refusal *rf)
{
	struct clu_reqctx *x = arg;
	struct clu *c = x->c;
	uint32_t owner;

	if (xo->part < 0)
		return EXEC_TAKE_RUN;
	if (!c->ready || c->part[xo->part].verifying)
		return refuse_not_ready(x, rf);
	owner = clu_owner_of(c, xo->hash);
	if (owner == c->cfg.node_id)
		return EXEC_TAKE_RUN;
	if (owner != 0) {
		c->st.fwd_misrouted++;
		return refuse_not_ready(x, rf);
	}
	c->st.no_node++;
	return refuse_with(rf, PROTO_ST_NO_NODE_AVAILABLE, 0);
}

static void
fwd_reply_write(struct clu_wr *w, uint64_t token, uint64_t base, uint64_t seq,
		uint8_t idx, uint8_t count, const uint8_t *dgram, size_t len)
{
	clu_put_be(w, token, 8);
	clu_put_be(w, base, 8);
	clu_put_be(w, seq, 8);
	clu_put_be(w, idx, 1);
	clu_put_be(w, count, 1);
	clu_put_be(w, len, 2);
	clu_put(w, dgram, len);
}

static void
send_fwd_reply(struct clu *c, struct clu_peer *p, uint16_t part,
		uint64_t token, uint64_t base, uint64_t seq, uint8_t idx,
		uint8_t count, const uint8_t *dgram, size_t len)
{
	struct clu_wr *w = clu_fwdq_unit(c, CLU_T_FWD_REPLY, p, part,
			FWD_REPLY_UNIT_FIXED + len);

	if (w != NULL)	/* else the origin times out: no_node_available */
		fwd_reply_write(w, token, base, seq, idx, count, dgram, len);
	else
		c->st.tx_dropped++;
}

/*
 * The units of a FWD, checked before any runs (a bad one anywhere and the
 * datagram changes nothing): u8 count (1..255), then per unit u64 token,
 * u16 nops (1..CLU_FWD_OPS_MAX), nops x u16 client op index, u16 length,
 * a client request datagram of that length, and nothing after the last.
 */
static bool
fwd_units_valid(struct clu_rd r)
{
	uint32_t n = (uint32_t)clu_get_be(&r, 1), u;

	if (n == 0)
		return false;
	for (u = 0; u < n && !r.bad; u++) {
		uint16_t nops, len;
		struct proto_req pr;
		const uint8_t *req;

		clu_get_be(&r, 8);
		nops = (uint16_t)clu_get_be(&r, 2);
		if (nops == 0 || nops > CLU_FWD_OPS_MAX)
			return false;
		clu_get(&r, 2u * nops);
		len = (uint16_t)clu_get_be(&r, 2);
		req = clu_get(&r, len);
		if (r.bad || proto_req_parse(&pr, req, len) != 0)
			return false;
	}
	return !r.bad && clu_rd_left(&r) == 0;
}

/* The stream position a change drained just now will be closed under. */
static uint64_t
drained_pos(const struct clu *c, uint16_t part)
{
	const struct clu_part *pp = &c->part[part];

	return pp->open.count > 0 ? pp->head + 1 : pp->head;
}

/* Run one unit of a FWD and answer it (into the open FWD_REPLY to p). */
static void
fwd_run_unit(struct clu *c, struct clu_reqctx *x, struct clu_peer *p,
		const struct clu_hdr *h, struct clu_rd *r, uint64_t now)
{
	uint16_t index[CLU_FWD_OPS_MAX];
	struct exec_opts o = { .index_map = index, .take = owner_take,
		.arg = x, .dgram_cap = CLU_FWD_REPLY_CAP };
	struct exec_node xn = c->xn;
	struct exec_out *out = c->xout;
	uint64_t token = clu_get_be(r, 8), base = 0, seq = 0, pos;
	uint64_t appended = c->part[h->part].appended;
	uint16_t nops = (uint16_t)clu_get_be(r, 2), i, len;
	const uint8_t *req;
	struct proto_req pr;

	for (i = 0; i < nops; i++)
		index[i] = (uint16_t)clu_get_be(r, 2);
	len = (uint16_t)clu_get_be(r, 2);
	req = clu_get(r, len);
	proto_req_parse(&pr, req, len);	/* checked by fwd_units_valid */
	o.index_map_len = nops;
	xn.node_id = h->sender;	/* entries belong to the client's node */
	if (exec_datagram_opts(c->t, &xn, req, len, now, &o, out) !=
			EXEC_ANSWERED)
		return;
	c->st.fwd_in++;
	/* its changes join the open batch now; the batch is closed once the
	 * whole FWD ran, under the position the reply names (none if the
	 * unit changed nothing: a refusal or a no-op gives nothing to wait
	 * for) */
	clu_repl_drain(c, h->part);
	pos = drained_pos(c, h->part);
	if (p->out[h->part].active && c->part[h->part].appended != appended) {
		base = p->out[h->part].base;
		seq = pos;
	}
	pr.replicas = clu_replicas_flag(c, pr.replicas);
	for (i = 0; i < out->n; i++) {
		if (pr.replicas > 0 &&
		    ahold_fwd_reply(c, p, h->part, pos, pr.replicas, now,
				token, base, seq, (uint8_t)i, (uint8_t)out->n,
				out->dgram[i], out->len[i]))
			continue;
		send_fwd_reply(c, p, h->part, token, base, seq, (uint8_t)i,
				(uint8_t)out->n, out->dgram[i], out->len[i]);
	}
}

void
clu_fwd_rx(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		struct clu_rd *r, uint64_t now)
{
	struct clu_reqctx *x = reqctx(c);
	uint32_t n, u;

	if (x == NULL || !fwd_units_valid(*r)) {
		c->st.rx_malformed++;
		return;
	}
	x->c = c;
	x->now = now;
	clu_repl_drain(c, h->part);	/* earlier changes: not this FWD's */
	n = (uint32_t)clu_get_be(r, 1);
	for (u = 0; u < n; u++)
		fwd_run_unit(c, x, p, h, r, now);
	clu_repl_flush(c, h->part);
	clu_repl_tick_part(c, h->part, now);
}

/* ---- origin side: replies ---- */

static void
pending_finish(struct clu *c, struct clu_pending *pd)
{
	struct refused f;
	uint8_t buf[PROTO_MAX_DGRAM];
	size_t n;
	uint16_t i;

	f.n = 0;
	for (i = 0; i < pd->nops; i++) {
		if (pd->done[i])
			continue;
		f.index[f.n] = pd->index[i];
		f.opcode[f.n] = pd->opcode[i];
		f.status[f.n++] = PROTO_ST_NO_NODE_AVAILABLE;
	}
	n = encode_refused(&f, pd->req_id, buf, sizeof(buf));
	if (n > 0)
		clu_reply_push(c, pd->tag, buf, n);
	pending_free(c, pd);
}

/* Marks the ops a reply answers; false if it is not a reply to pd. */
static bool
mark_answered(struct clu_pending *pd, const uint8_t *buf, size_t len)
{
	struct proto_rep rep;
	struct proto_reply rr;
	uint16_t i;
	int rc;

	uint8_t hit[CLU_FWD_OPS_MAX] = { 0 };
	uint16_t n = 0;

	if (proto_rep_parse(&rep, buf, len) != 0 || rep.req_id != pd->req_id)
		return false;
	/* validate every op first: a bad reply changes nothing */
	while ((rc = proto_rep_next(&rep, &rr)) != PROTO_END) {
		if (rc != 0)
			return false;
		for (i = 0; i < pd->nops; i++)
			if (pd->index[i] == rr.index && !pd->done[i] && !hit[i])
				break;
		if (i == pd->nops)
			return false;
		hit[i] = 1;
		n++;
	}
	if (n == 0)
		return false;
	for (i = 0; i < pd->nops; i++) {
		pd->done[i] |= hit[i];
		pd->answered += hit[i];
	}
	return true;
}

/*
 * Our copy of the owner's stream has applied batch seq of the stream
 * (epoch, base). A stream since restarted (a new base or epoch) does not
 * count: the batches it skipped come by repair, at an unknown time.
 */
static bool
caught_up(const struct clu_peer *p, uint16_t part, uint64_t epoch,
		uint64_t base, uint64_t seq)
{
	const struct clu_in *in = &p->in[part];

	return seq == 0 || (in->epoch == epoch && in->base == base &&
			in->expected > seq);
}

/*
 * The owner answered; our client hears it once our replica has the change
 * too (read-your-writes here, and two copies of an acknowledged write).
 * When the hold table is full, or later when the owner dies or the change
 * does not arrive within fwd_timeout_ms, the write is not known to be
 * anywhere but on the owner: its ok becomes no_node_available.
 */
static void
hold_or_push(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		uint64_t base, uint64_t seq, const uint8_t *tag,
		const uint8_t *buf, size_t len, uint64_t now)
{
	uint16_t part = h->part;
	uint32_t i;

	if (caught_up(p, part, h->epoch, base, seq)) {
		clu_reply_push(c, tag, buf, len);
		return;
	}
	if (c->nhold < CLU_HOLD_MAX) {
		for (i = 0; i < CLU_HOLD_MAX; i++) {
			struct clu_hold *hd = &c->hold[i];

			if (hd->used)
				continue;
			hd->used = true;
			hd->peer = (uint16_t)(p - c->peer);
			hd->part = part;
			hd->epoch = h->epoch;
			hd->base = base;
			hd->seq = seq;
			hd->deadline = now + c->cfg.fwd_timeout_ms;
			memcpy(hd->r.tag, tag, CLU_CLIENT_TAG);
			memcpy(hd->r.buf, buf, len);
			hd->r.len = (uint16_t)len;
			c->nhold++;
			return;
		}
	}
	c->st.fwd_unconfirmed++;
	reply_unconfirmed(c, tag, buf, len);
}

/*
 * Answers of a forwarded op that changed nothing and may be large (an
 * entry held by another handle, one found, a WHEREIS): the ones a byte
 * budget may turn into `overloaded`. Every other answer is short or says
 * that the op changed something, and goes out as it is.
 */
static bool
may_shrink(const struct proto_reply *rr)
{
	switch (proto_rep_body_kind(rr->opcode, rr->status)) {
	case PROTO_BODY_ENTRY:
	case PROTO_BODY_PAGE:
	case PROTO_BODY_NODE:
	case PROTO_BODY_STATS:
	case PROTO_BODY_READINESS:
		return true;
	case PROTO_BODY_WOR:
		return rr->outcome == PROTO_WOR_FOUND;
	default:
		return false;
	}
}

/*
 * A FWD_REPLY datagram of a sub-request with a byte budget, as the client
 * gets it (into out, its length returned): the shares of the ops it
 * answers join the credit; what the reply datagram may take is the credit
 * less what went out before and, while ops are still unanswered, a header
 * for their datagram. Answers that may shrink are kept, in order, while
 * they fit; the others become `overloaded` (retry 0). 0: relay as it is.
 */
static size_t
relay_budget(struct pend_budget *pb, const struct clu_pending *pd,
		const uint8_t *dgram, size_t len, uint8_t *out)
{
	struct proto_reply rr;
	struct proto_rep rep;
	struct proto_enc e;
	size_t avail, base = PROTO_HDR_LEN, cost;
	uint16_t i;

	if (proto_rep_parse(&rep, dgram, len) != 0)
		return 0;
	while (proto_rep_next(&rep, &rr) == 0) {
		for (i = 0; i < pd->nops && pd->index[i] != rr.index; i++)
			;
		if (i < pd->nops)
			pb->credit += pb->share[i];
		cost = PROTO_REP_HDR_LEN + rr.body.len;
		base += may_shrink(&rr) && cost > EXEC_SHORT_MAX ?
			EXEC_SHORT_MAX : cost;
	}
	avail = pb->credit > pb->spent ? pb->credit - pb->spent : 0;
	if (pd->answered < pd->nops)
		avail = avail > PROTO_HDR_LEN ? avail - PROTO_HDR_LEN : 0;
	proto_rep_parse(&rep, dgram, len);
	proto_rep_init(&e, out, PROTO_MAX_DGRAM, rep.req_id);
	while (proto_rep_next(&rep, &rr) == 0) {
		cost = PROTO_REP_HDR_LEN + rr.body.len;
		if (!may_shrink(&rr) || cost <= EXEC_SHORT_MAX) {
			proto_rep_add(&e, &rr);
		} else if (base - EXEC_SHORT_MAX + cost <= avail) {
			base += cost - EXEC_SHORT_MAX;
			proto_rep_add(&e, &rr);
		} else {
			proto_rep_add_overloaded(&e, rr.index, rr.opcode, 0);
		}
	}
	len = proto_enc_finish(&e);
	pb->spent += (uint32_t)len;
	return len;
}

/*
 * The units of a FWD_REPLY: u8 count (1..255), then per unit u64 token,
 * u64 base, u64 seq, u8 idx, u8 count, u16 length, a client reply
 * datagram of that length, and nothing after the last.
 */
static bool
fwd_reply_units_valid(struct clu_rd r)
{
	uint32_t n = (uint32_t)clu_get_be(&r, 1), u;

	if (n == 0)
		return false;
	for (u = 0; u < n && !r.bad; u++) {
		clu_get(&r, 26);
		clu_get(&r, (size_t)clu_get_be(&r, 2));
	}
	return !r.bad && clu_rd_left(&r) == 0;
}

/* One answer of a FWD we sent: relay it (or hold it, hold_or_push). */
static void
fwd_reply_unit(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		struct clu_rd *r, uint64_t now)
{
	struct clu_reqctx *x = c->rq;
	uint8_t shrunk[PROTO_MAX_DGRAM];
	struct pend_budget *pb;
	uint64_t token = clu_get_be(r, 8);
	uint64_t base = clu_get_be(r, 8);
	uint64_t seq = clu_get_be(r, 8);
	struct clu_pending *pd;
	const uint8_t *dgram;
	size_t len;

	clu_get_be(r, 2);	/* idx, count: for the record */
	len = (size_t)clu_get_be(r, 2);
	dgram = clu_get(r, len);
	pd = &c->pending[(token & 0xffff) % CLU_PENDING_MAX];
	if ((token & 0xffff) >= CLU_PENDING_MAX || !pd->used ||
	    pd->gen != (uint16_t)(token >> 16) || pd->owner != p->id ||
	    pd->part != h->part || !mark_answered(pd, dgram, len)) {
		c->st.rx_malformed++;
		return;
	}
	pb = x != NULL ? &x->pb[token & 0xffff] : NULL;
	if (pb != NULL && pb->on && len <= PROTO_MAX_DGRAM) {
		size_t k = relay_budget(pb, pd, dgram, len, shrunk);

		if (k > 0) {
			dgram = shrunk;
			len = k;
		}
	}
	hold_or_push(c, p, h, base, seq, pd->tag, dgram, len, now);
	if (pd->answered == pd->nops)
		pending_free(c, pd);
}

void
clu_fwd_rx_reply(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		struct clu_rd *r, uint64_t now)
{
	uint32_t n, u;

	if (!fwd_reply_units_valid(*r)) {
		c->st.rx_malformed++;
		return;
	}
	n = (uint32_t)clu_get_be(r, 1);
	for (u = 0; u < n; u++)
		fwd_reply_unit(c, p, h, r, now);
}

void
clu_fwd_release_held(struct clu *c, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < CLU_HOLD_MAX && c->nhold > 0; i++) {
		struct clu_hold *hd = &c->hold[i];
		struct clu_peer *p;

		if (!hd->used)
			continue;
		p = &c->peer[hd->peer];
		if (caught_up(p, hd->part, hd->epoch, hd->base, hd->seq)) {
			clu_reply_push(c, hd->r.tag, hd->r.buf, hd->r.len);
		} else if (now >= hd->deadline || !clu_peer_serves(p)) {
			c->st.fwd_unconfirmed++;
			reply_unconfirmed(c, hd->r.tag, hd->r.buf, hd->r.len);
		} else {
			continue;
		}
		hd->used = false;
		c->nhold--;
	}
}

void
clu_fwd_tick(struct clu *c, uint64_t now)
{
	uint32_t i;

	if (c->nahold > 0)
		clu_fwd_release_acked(c, now);
	for (i = 0; i < CLU_PENDING_MAX && c->npending > 0; i++) {
		struct clu_pending *pd = &c->pending[i];

		if (pd->used && now >= pd->deadline) {
			c->st.fwd_timeouts++;
			pending_finish(c, pd);
		}
	}
}

void
clu_fwd_peer_down(struct clu *c, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < CLU_PENDING_MAX && c->npending > 0; i++) {
		struct clu_pending *pd = &c->pending[i];

		if (pd->used && pd->owner == id) {
			c->st.fwd_timeouts++;
			pending_finish(c, pd);
		}
	}
}

void
clu_fwd_free(struct clu *c)
{
	free(c->rq);
	c->rq = NULL;
}
