/*
 * swd_fwd.c - software steering of writes to their partition's owner.
 *
 * A worker executes a request datagram with exec_datagram_opts(); the take
 * hook lets reads and the worker's own writes run, and copies every write
 * for another worker's partition into a sub-request for that worker: a
 * valid request datagram (same request id, the op bytes unchanged) plus the
 * map from its op positions to the original op indexes and the client's
 * address. Sub-requests live in objects of a DPDK mempool and travel over
 * the owner's forward ring (MP/SC); the owner executes them with the index
 * map and answers the client itself.
 *
 * When an owner's ring is full the sub-request is not queued: its ops are
 * answered `overloaded` (not executed) by the receiving worker, so the
 * client knows to retry them and nothing waits silently.
 *
 * The reply budget (swd_budget.c): the receiving worker's run keeps to
 * the shares of the ops it answers; a sub-request carries the shares of
 * its ops as its own budget, and is only started for an op whose share
 * pays for its reply datagram (EXEC_PART_MIN): a smaller op is refused
 * `overloaded`.
 *
 * With one worker nothing is ever forwarded and this costs one partition
 * lookup per write op.
 */
#include <string.h>

#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "swd.h"


struct swd_fwd_msg {
	struct net_pkt client;		/* where the answers go */
	struct exec_budget budget;	/* the shares of its ops; 0: none */
	uint16_t nops;
	uint16_t len;			/* of dgram */
	uint16_t index_map[PROTO_MAX_OPS];
	uint8_t opcode[PROTO_MAX_OPS];	/* to answer `overloaded` if refused */
	struct exec_hashes hash[PROTO_MAX_OPS];	/* computed once, here */
	uint8_t dgram[PROTO_MAX_DGRAM];
};

/* Per-worker scratch while one request is executed. */
struct swd_fwd {
	struct swd_worker *w;
	const struct net_pkt *pkt;
	uint64_t req_id;
	struct exec_budget budget;	/* of the request being run */
	size_t len;			/* of the request being run */
	struct swd_fwd_msg *msg[SWD_MAX_WORKERS];	/* by owner; NULL = none */
	struct proto_enc enc[SWD_MAX_WORKERS];
	uint16_t touched[SWD_MAX_WORKERS];		/* owners with a msg */
	uint16_t ntouched;
};

int
swd_fwd_init(struct swd_ctx *c)
{
	uint32_t i;

	if (swd_budget_init() != 0)
		return -1;
	if (c->nworkers > 1) {
		c->fwd_pool = rte_mempool_create("swd_fwd", 4096 - 1,
				sizeof(struct swd_fwd_msg), 64, 0, NULL, NULL,
				NULL, NULL, (int)rte_socket_id(), 0);
		if (c->fwd_pool == NULL)
			return -1;
	}
	for (i = 0; i < c->nworkers; i++) {
		struct swd_worker *w = &c->workers[i];
		char name[RTE_RING_NAMESIZE];

		w->fwd_state = calloc(1, sizeof(*w->fwd_state));
		if (w->fwd_state == NULL)
			return -1;
		if (c->nworkers == 1)
			continue;
		snprintf(name, sizeof(name), "swd_fwd_%u", i);
		w->fwd = rte_ring_create(name, SWD_FWD_RING_SIZE,
				(int)rte_socket_id(), RING_F_SC_DEQ);
		if (w->fwd == NULL)
			return -1;
	}
	return 0;
}

void
swd_fwd_free(struct swd_ctx *c)
{
	uint32_t i;

	for (i = 0; c->workers != NULL && i < c->nworkers; i++) {
		free(c->workers[i].fwd_state);
		rte_ring_free(c->workers[i].fwd);
	}
	rte_mempool_free(c->fwd_pool);
}

/* Starts the sub-request for owner o; false when no object is free. */
static bool
fwd_open(struct swd_fwd *f, uint16_t o)
{
	struct swd_fwd_msg *m;

	if (rte_mempool_get(swd.fwd_pool, (void **)&m) != 0)
		return false;
	m->client = *f->pkt;
	m->budget = f->budget;
	m->budget.reply_bytes_max = 0;	/* the shares of its ops, added up */
	m->nops = 0;
	proto_req_init(&f->enc[o], m->dgram, sizeof(m->dgram), f->req_id);
	f->msg[o] = m;
	f->touched[f->ntouched++] = o;
	return true;
}

static int
fwd_refuse_op(struct exec_refusal *rf)
{
	rf->status = PROTO_ST_OVERLOADED;
	rf->retry_ms = 0;
	return EXEC_TAKE_REFUSE;
}

/*
 * Owner of the partition a WHEREIS reads, when an earlier op of the same
 * request was forwarded to that owner (-1 otherwise): the read must follow
 * the write it may depend on ("REGISTER x; WHEREIS x" in one datagram).
 */
static int
fwd_read_owner(const struct swd_fwd *f, const struct exec_op *xo)
{
	uint16_t o;

	if (xo->op.opcode != PROTO_OP_WHEREIS || f->ntouched == 0)
		return -1;
	o = swd.part_owner[trk_part_of(swd.trk, xo->hash)];
	return o != f->w->index && f->msg[o] != NULL ? o : -1;
}

/* exec take hook: run here, forwarded (skipped), or refused. */
static int
fwd_take(const struct exec_op *xo, void *arg, struct exec_refusal *rf)
{
	const struct proto_op *op = &xo->op;
	struct swd_fwd *f = arg;
	int part = xo->part;
	size_t share;
	uint16_t o;

	if (part < 0) {
		int ro = fwd_read_owner(f, xo);

		/* a cluster node still syncing: worker 0 answers not_ready */
		if (ro < 0 && !swd_cluster_ready() &&
		    exec_opcode_reads_registry(op->opcode))
			ro = 0;
		if (ro < 0)
			return EXEC_TAKE_RUN;
		o = (uint16_t)ro;
	} else {
		o = swd.part_owner[part];
		if (o == f->w->index)
			return EXEC_TAKE_RUN;
	}
	share = exec_budget_share(&f->budget, f->len, exec_op_len(op));
	/* a sub-request of its own must be paid for by the op's share */
	if (f->msg[o] == NULL && f->budget.reply_bytes_max != 0 &&
	    share < EXEC_PART_MIN)
		return fwd_refuse_op(rf);
	/* never write another worker's partition: refuse instead */
	if (f->msg[o] == NULL && !fwd_open(f, o))
		return fwd_refuse_op(rf);
	if (proto_req_add_raw(&f->enc[o], op->opcode, op->flags, op->body.ptr,
			op->body.len) != 0)
		return fwd_refuse_op(rf);	/* a subset always fits */
	f->msg[o]->index_map[f->msg[o]->nops] = op->index;
	f->msg[o]->hash[f->msg[o]->nops] = (struct exec_hashes){
		xo->hash, xo->group_hash };
	f->msg[o]->opcode[f->msg[o]->nops++] = op->opcode;
	f->msg[o]->budget.reply_bytes_max += share;
	return EXEC_TAKE_SKIP;
}

/* Answers every op of an unsent sub-request `overloaded`. */
static void
fwd_refuse(struct swd_fwd *f, struct swd_fwd_msg *m)
{
	struct exec_out *out = f->w->out;
	struct proto_enc e;
	uint16_t i;

	out->n = 0;
	proto_rep_init(&e, out->dgram[0], PROTO_MAX_DGRAM, f->req_id);
	for (i = 0; i < m->nops; i++) {
		if (proto_rep_add_overloaded(&e, m->index_map[i],
				m->opcode[i], 0) != 0)
			break;	/* 364 short answers always fit: defensive */
	}
	out->len[0] = proto_enc_finish(&e);
	out->n = out->len[0] > 0;
	f->w->stats.op_status[PROTO_ST_OVERLOADED] += i;
	swd_send_replies(f->w, &m->client, NULL, out);
}

/* Queues the finished sub-requests; refuses those whose ring is full. */
static void
fwd_flush(struct swd_fwd *f)
{
	uint16_t i;

	for (i = 0; i < f->ntouched; i++) {
		uint16_t o = f->touched[i];
		struct swd_fwd_msg *m = f->msg[o];

		m->len = (uint16_t)proto_enc_finish(&f->enc[o]);
		f->msg[o] = NULL;
		if (rte_ring_mp_enqueue(swd.workers[o].fwd, m) == 0) {
			f->w->stats.fwd_out++;
			continue;
		}
		f->w->stats.fwd_ring_full++;
		fwd_refuse(f, m);
		rte_mempool_put(swd.fwd_pool, m);
	}
	f->ntouched = 0;
}

/* Counts the reply ops of out in the worker's statistics. */
static void
count_out(struct swd_worker *w, const struct exec_out *out)
{
	int s;

	for (s = 0; s < 16; s++)
		w->stats.op_status[s] += out->status[s];
}

void
swd_fwd_execute(struct swd_worker *w, const struct net_pkt *pkt,
		struct rte_mbuf *m, const uint8_t *req, size_t len,
		uint64_t now)
{
	struct swd_fwd *f = w->fwd_state;
	struct exec_opts o = { .take = swd.nworkers > 1 ? fwd_take : NULL,
		.arg = f };

	swd_budget(pkt, len, now, &o.budget);
	f->w = w;
	f->pkt = pkt;
	f->budget = o.budget;
	f->len = len;
	/*
	 * The request id for sub-requests, read straight from the header
	 * (bytes 4..11): take is only called once exec has validated it.
	 */
	f->req_id = 0;
	if (len >= PROTO_HDR_LEN) {
		memcpy(&f->req_id, req + 4, sizeof(f->req_id));
		f->req_id = rte_be_to_cpu_64(f->req_id);
	}
	w->stats.requests++;
	if (exec_datagram_opts(swd.trk, &swd.node, req, len, now, &o,
			w->out) != EXEC_ANSWERED) {
		w->stats.proto_dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	count_out(w, w->out);
	/* replies first: they reuse m, whose request bytes are done with */
	swd_send_replies(w, pkt, m, w->out);
	if (swd.nworkers > 1)
		fwd_flush(f);
}

uint16_t
swd_fwd_serve(struct swd_worker *w, uint64_t now)
{
	void *msgs[SWD_MAX_BURST];
	unsigned int n, i;

	if (w->fwd == NULL)
		return 0;
	n = rte_ring_sc_dequeue_burst(w->fwd, msgs, swd.prm.burst, NULL);
	for (i = 0; i < n; i++) {
		struct swd_fwd_msg *m = msgs[i];
		struct exec_opts o = { .index_map = m->index_map,
				       .index_map_len = m->nops,
				       .budget = m->budget,
				       .hashes = m->hash, .nhashes = m->nops };

		w->stats.fwd_in++;
		if (swd.cl != NULL) {	/* worker 0 of a cluster node */
			swd_cluster_request(&m->client, m->dgram, m->len,
					m->index_map, m->nops, &m->budget, now);
			rte_mempool_put(swd.fwd_pool, m);
			continue;
		}
		if (exec_datagram_opts(swd.trk, &swd.node, m->dgram, m->len,
				now, &o, w->out) == EXEC_ANSWERED) {
			count_out(w, w->out);
			swd_send_replies(w, &m->client, NULL, w->out);
		}
		rte_mempool_put(swd.fwd_pool, m);
	}
	return (uint16_t)n;
}
