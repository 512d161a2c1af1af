/*
 * sim.c - the deterministic cluster simulator (see sim.h).
 *
 * One thread, one PRNG, one virtual clock. Each millisecond: deliver every
 * datagram due (in (time, sequence) order), tick every live node, collect
 * what the nodes want to send (each datagram independently lost,
 * duplicated, and delayed by a uniform draw, so reordering happens) and
 * the client replies. The thread is a registered QSBR reader, online,
 * announcing a quiescent state once per millisecond like a worker loop.
 *
 * Protocol faults (drop and dup rules, capture and replay, a split at a
 * request) act in transmit() and send_op(); every client op and fault is
 * also recorded in the history (sim_history.c), which judges it exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>

#include "mix.h"
#include "proto_rep.h"
#include "proto_req.h"
#include "ring_filter.h"
#include "ring_hash.h"
#include "sim.h"

#define SIM_PORT	7401
#define SIM_IP(i)	(0x0a000001u + (i))
#define MAX_CLIENT_OPS	4096
#define MAX_NAMES	65536
#define GIVE_UP_MS	5000	/* a contended client forgets an op this old */

struct msg {
	uint64_t at, seq;
	uint32_t from, to;
	uint16_t len;
	uint8_t buf[CLU_DGRAM_MAX];
};

struct node {
	bool up;
	struct trk *t;
	struct clu *c;
	char name[16];
	uint64_t incarnation;
	uint64_t crashed_at;	/* last crash, 0 = never */
};

struct client_op {
	bool used;
	uint64_t req_id;
	int *status;
	int local;		/* status when *status is NULL */
	uint32_t name;		/* workload name index, or UINT32_MAX */
	uint8_t kind;		/* PROTO_OP_* */
	uint64_t handle;
	uint32_t node;
	uint32_t hist;		/* history id, or SIMH_NONE */
};

/* A drop or dup rule, or a capture filter. */
struct rule {
	uint32_t from, to, kinds;
	double p;
};

struct frame {
	uint32_t from, to;
	uint16_t len;
	uint8_t buf[CLU_DGRAM_MAX];
};

/* A client of sim_workload_contended: one op in flight at most. */
struct client {
	bool busy;
	int status;
	uint64_t req_id, since, counter;
	uint32_t node, hist;
};

/* What the model knows of one workload name. */
struct model {
	bool busy;		/* an op is in flight */
	bool uncertain;		/* an op's outcome is unknown */
	bool present;
	uint64_t handle;
	uint32_t origin;	/* node index that registered it */
	uint64_t at;		/* time of the last definite answer */
	uint64_t next_handle;
};

struct sim {
	struct sim_opts o;
	uint64_t now, rng, msg_seq, req_seq;
	struct node node[SIM_NODES_MAX];
	uint8_t group[SIM_NODES_MAX];
	struct clu_keyring keys;
	struct ring_filter *filter;	/* built-in deny patterns, or NULL */
	struct msg **heap;
	size_t nheap, capheap;
	struct client_op ops[MAX_CLIENT_OPS];
	struct model *model;
	uint32_t nnames;
	uint64_t crash_times[64];
	uint32_t ncrash;
	uint64_t split_at;	/* 0: no partition now */
	uint64_t window[16][2];	/* partition windows, for the model */
	uint32_t nwindow;
	struct clu_dgram dg[64];
	struct clu_reply rp[32];
	uint8_t replicas;	/* REPLICAS flag of the next op sent */
	struct rule drop[SIM_RULES_MAX], dup[SIM_RULES_MAX];
	struct rule capf[SIM_RULES_MAX];
	uint32_t ndrop, ndup, ncapf;
	struct frame *cap;	/* SIM_CAPTURE_MAX frames, once capturing */
	size_t ncap, cap_overflow;
	bool split_armed;
	uint8_t split_group[SIM_NODES_MAX];
	struct sim_hist *hist;
	uint32_t dead_mask;	/* nodes some live node holds dead */
	uint32_t last_hist;	/* history id of the last op sent */
	struct client client[SIM_CLIENTS_MAX];
};

static uint64_t
rnd(struct sim *s)
{
	return mix_next(&s->rng);
}

static double
rnd01(struct sim *s)
{
	return (double)(rnd(s) >> 11) / (double)(1ULL << 53);
}

/* ---- network: a binary heap of datagrams by (at, seq) ---- */

static bool
before(const struct msg *a, const struct msg *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void
heap_push(struct sim *s, struct msg *m)
{
	size_t i;

	if (s->nheap == s->capheap) {
		s->capheap = s->capheap ? 2 * s->capheap : 1024;
		s->heap = realloc(s->heap, s->capheap * sizeof(*s->heap));
		if (s->heap == NULL)
			abort();
	}
	i = s->nheap++;
	while (i > 0 && before(m, s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = m;
}

static struct msg *
heap_pop(struct sim *s)
{
	struct msg *top = s->heap[0], *last = s->heap[--s->nheap];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, m = l;

		if (l >= s->nheap)
			break;
		if (l + 1 < s->nheap && before(s->heap[l + 1], s->heap[l]))
			m = l + 1;
		if (!before(s->heap[m], last))
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	if (s->nheap > 0)
		s->heap[i] = last;
	return top;
}

static bool
connected(const struct sim *s, uint32_t a, uint32_t b)
{
	return s->group[a] == s->group[b];
}

/* Puts one datagram on the wire, with the normal delay. */
static void
enqueue(struct sim *s, uint32_t from, uint32_t to, const uint8_t *buf,
		size_t len)
{
	struct msg *m = malloc(sizeof(*m));

	if (m == NULL)
		abort();
	m->at = s->now + s->o.delay_min_ms + (s->o.delay_max_ms >
		s->o.delay_min_ms ? rnd(s) % (s->o.delay_max_ms -
		s->o.delay_min_ms + 1) : 0);
	m->seq = s->msg_seq++;
	m->from = from;
	m->to = to;
	m->len = (uint16_t)len;
	memcpy(m->buf, buf, len);
	heap_push(s, m);
}

/* The clu_type of a datagram: byte 3 of the header. */
static uint8_t
kind_of(const uint8_t *buf, size_t len)
{
	return len > 3 ? buf[3] : 0;
}

static bool
rule_hit(const struct rule *r, uint32_t from, uint32_t to, uint8_t kind)
{
	return (r->from == SIM_ANY || r->from == from) &&
		(r->to == SIM_ANY || r->to == to) &&
		(r->kinds == SIM_KINDS_ALL ||
		 (kind < 32 && (r->kinds >> kind & 1)));
}

/* Certain outcomes draw nothing: adding a p = 1 rule keeps the PRNG
 * stream of everything else. */
static bool
chance(struct sim *s, double p)
{
	if (p >= 1)
		return true;
	return p > 0 && rnd01(s) < p;
}

static void
capture(struct sim *s, uint32_t from, uint32_t to, const uint8_t *buf,
		size_t len)
{
	uint8_t kind = kind_of(buf, len);
	struct frame *f;
	uint32_t k;

	for (k = 0; k < s->ncapf; k++)
		if (rule_hit(&s->capf[k], from, to, kind))
			break;
	if (k == s->ncapf)
		return;
	if (s->ncap == SIM_CAPTURE_MAX) {
		s->cap_overflow++;	/* the oldest are kept */
		return;
	}
	if (s->cap == NULL && (s->cap = malloc(SIM_CAPTURE_MAX *
			sizeof(*s->cap))) == NULL)
		abort();
	f = &s->cap[s->ncap++];
	f->from = from;
	f->to = to;
	f->len = (uint16_t)len;
	memcpy(f->buf, buf, len);
}

static void
transmit(struct sim *s, uint32_t from, const struct clu_dgram *d)
{
	uint32_t to = d->dst.ip - SIM_IP(0), copies = 1, k;
	uint8_t kind = kind_of(d->buf, d->len);

	if (to >= s->o.nodes || d->dst.port != SIM_PORT)
		return;
	capture(s, from, to, d->buf, d->len);
	/* the global draws first, as before rules existed */
	if (rnd01(s) < s->o.loss)
		return;
	if (rnd01(s) < s->o.dup)
		copies = 2;
	for (k = 0; k < s->ndrop; k++)
		if (rule_hit(&s->drop[k], from, to, kind) &&
		    chance(s, s->drop[k].p))
			return;
	for (k = 0; k < s->ndup; k++)
		copies += rule_hit(&s->dup[k], from, to, kind) &&
			chance(s, s->dup[k].p);
	for (k = 0; k < copies; k++)
		enqueue(s, from, to, d->buf, d->len);
}

/* ---- nodes ---- */

static void
node_boot(struct sim *s, uint32_t i)
{
	struct node *n = &s->node[i];
	struct trk_config tc = {
		.nparts = s->o.nparts, .node_id = i + 1,
		.expected_entries = 8192, .change_queue_len = 8192,
		.tombstone_ms = 600000,
	};
	struct exec_node xn = { .node_id = i + 1, .name = n->name };
	struct clu_config cc;
	struct mbr_addr seeds[SIM_NODES_MAX];
	uint32_t k;

	snprintf(n->name, sizeof(n->name), i + s->o.excluded >= s->o.nodes ?
			"remsh-%u" : "n%u", i + 1);
	clu_config_default(&cc);
	cc.node_id = i + 1;
	cc.name = n->name;
	cc.name_len = strlen(n->name);
	cc.addr.ip = SIM_IP(i);
	cc.addr.port = SIM_PORT;
	/* strictly growing across restarts, as boot time in ms would be: the
	 * incarnation is also the node's epoch */
	n->incarnation = n->incarnation + 1 > s->now ? n->incarnation + 1 :
		s->now;
	cc.incarnation = n->incarnation;
	cc.seed = rnd(s);
	cc.mbr.probe_interval = 200;
	cc.mbr.probe_timeout = 80;
	cc.mbr.suspicion_mult = 3;
	cc.policy.strategy = s->o.strategy;
	cc.policy.quorum = s->o.quorum ? s->o.quorum : 1;
	cc.policy.vnodes = 256;
	cc.policy.filter = s->filter;
	cc.keys = s->o.keys ? &s->keys : NULL;
	cc.repl_log = 256;
	cc.repl_window = 64;
	cc.repl_rto_ms = 30;
	cc.ae_interval_ms = 500;
	cc.sync_scan = 256;
	cc.sync_dgrams = 8;
	cc.fwd_timeout_ms = 1000;
	n->t = trk_create(&tc);
	n->c = n->t ? clu_create(&cc, n->t, &xn, s->now) : NULL;
	if (n->c == NULL)
		abort();
	n->up = true;
	for (k = 0; k < s->o.nodes; k++) {
		seeds[k].ip = SIM_IP(k);
		seeds[k].port = SIM_PORT;
	}
	clu_join(n->c, seeds, s->o.nodes, s->now);
}

static void
node_kill(struct sim *s, uint32_t i)
{
	struct node *n = &s->node[i];

	if (!n->up)
		return;
	/* refutations raised it: the next life must start above */
	if (mbr_incarnation(clu_member(n->c)) > n->incarnation)
		n->incarnation = mbr_incarnation(clu_member(n->c));
	clu_destroy(n->c);
	trk_destroy(n->t);
	n->c = NULL;
	n->t = NULL;
	n->up = false;
}

struct sim *
sim_create(const struct sim_opts *o)
{
	static const uint8_t key[CLU_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct sim *s = calloc(1, sizeof(*s));
	uint32_t i;

	if (s == NULL || o->nodes == 0 || o->nodes > SIM_NODES_MAX)
		abort();
	s->o = *o;
	if (s->o.nparts == 0)
		s->o.nparts = 2;
	s->rng = o->seed;
	s->now = 1000;
	clu_keyring_init(&s->keys, key, NULL, 0);
	if ((s->hist = simh_create()) == NULL)
		abort();
	if (o->excluded > 0 && (s->filter = ring_filter_create()) == NULL)
		abort();
	for (i = 0; i < o->nodes; i++)
		node_boot(s, i);
	return s;
}

void
sim_destroy(struct sim *s)
{
	uint32_t i;

	for (i = 0; s->o.nodes && getenv("SIM_STATS") && i < s->o.nodes; i++) {
		struct clu_stats st;

		if (!s->node[i].up)
			continue;
		clu_get_stats(s->node[i].c, &st);
		fprintf(stderr, "n%u: batches %llu sent %llu resent %llu resets "
			"%llu applied %llu ooo %llu ae %llu differ %llu repair "
			"%llu/%llu fwd %llu/%llu timeouts %llu malformed %llu "
			"auth %llu txdrop %llu purged %llu deaddrop %llu\n", i + 1,
			(unsigned long long)st.repl_batches,
			(unsigned long long)st.repl_sent,
			(unsigned long long)st.repl_resent,
			(unsigned long long)st.repl_resets,
			(unsigned long long)st.repl_applied,
			(unsigned long long)st.repl_out_of_order,
			(unsigned long long)st.ae_rounds,
			(unsigned long long)st.ae_segs_differ,
			(unsigned long long)st.repair_sent,
			(unsigned long long)st.repair_applied,
			(unsigned long long)st.fwd_out,
			(unsigned long long)st.fwd_in,
			(unsigned long long)st.fwd_timeouts,
			(unsigned long long)st.rx_malformed,
			(unsigned long long)st.rx_auth_failed,
			(unsigned long long)st.tx_dropped,
			(unsigned long long)st.purged,
			(unsigned long long)st.dead_owner_dropped);
	}
	for (i = 0; i < s->o.nodes; i++)
		node_kill(s, i);
	while (s->nheap > 0)
		free(heap_pop(s));
	free(s->heap);
	free(s->model);
	free(s->cap);
	simh_destroy(s->hist);
	ring_filter_destroy(s->filter);
	free(s);
}

/* ---- clients ---- */

static struct client_op *
op_by_req(struct sim *s, uint64_t req_id)
{
	struct client_op *op = &s->ops[req_id % MAX_CLIENT_OPS];

	return op->used && op->req_id == req_id ? op : NULL;
}

static void
model_answer(struct sim *s, struct client_op *op, int status)
{
	struct model *m = &s->model[op->name];

	m->busy = false;
	if (status == PROTO_ST_OK && op->kind == PROTO_OP_REGISTER) {
		m->present = true;
		m->handle = op->handle;
		m->origin = op->node;
		m->uncertain = false;
	} else if ((status == PROTO_ST_OK || status == PROTO_ST_NOT_FOUND) &&
		   op->kind == PROTO_OP_UNREGISTER) {
		m->present = false;
		m->uncertain = false;
	} else if (status != PROTO_ST_OVERLOADED) {
		m->uncertain = true;	/* unknown outcome, or a refusal */
	}
	m->at = s->now;
}

static void
answer(struct sim *s, struct client_op *op, int status)
{
	if (status >= 0)
		simh_end(s->hist, op->hist, status,
				simh_stamp(s->hist, s->now));
	else
		simh_give_up(s->hist, op->hist);	/* forgotten */
	if (op->status != NULL)
		*op->status = status;
	op->local = status;
	if (op->name != UINT32_MAX)
		model_answer(s, op, status);
	op->used = false;
}

static void
collect_replies(struct sim *s, uint32_t i)
{
	struct proto_reply rr;
	struct proto_rep rep;
	size_t n, k;

	while ((n = clu_poll_reply(s->node[i].c, s->rp, 32)) > 0) {
		for (k = 0; k < n; k++) {
			struct client_op *op;

			if (proto_rep_parse(&rep, s->rp[k].buf, s->rp[k].len) ||
			    (op = op_by_req(s, rep.req_id)) == NULL ||
			    proto_rep_next(&rep, &rr) != 0)
				continue;
			answer(s, op, rr.status);
		}
	}
}

/* Records an op's invocation, with the owner its node sees for it. */
static uint32_t
history_begin(struct sim *s, uint32_t node, uint8_t kind, const char *name,
		uint64_t handle)
{
	uint32_t exec = 0;

	if (s->node[node].up)
		exec = clu_owner_of(s->node[node].c,
				ring_hash_name(name, strlen(name)));
	return simh_begin(s->hist, name, kind, node, exec, handle,
			simh_stamp(s->hist, s->now));
}

static struct client_op *
send_op(struct sim *s, uint32_t node, uint8_t kind, const char *name,
		uint64_t handle, int *status, uint32_t name_idx)
{
	uint8_t buf[PROTO_MAX_DGRAM], tag[CLU_CLIENT_TAG] = { 0 };
	uint64_t req_id = ++s->req_seq;
	struct client_op *op = &s->ops[req_id % MAX_CLIENT_OPS];
	struct proto_endpoint ep = { .family = PROTO_AF_IPV4, .port = 5683,
		.addr = { 10, 9, 0, 1 } };
	struct proto_enc e;
	size_t len;

	if (op->used)
		answer(s, op, -1);	/* forgotten: never answered */
	if (s->split_armed) {
		s->split_armed = false;
		sim_partition(s, s->split_group);
	}
	memset(op, 0, sizeof(*op));
	op->used = true;
	op->req_id = req_id;
	op->status = status;
	op->local = -1;
	op->name = name_idx;
	op->kind = kind;
	op->handle = handle;
	op->node = node;
	op->hist = s->last_hist = history_begin(s, node, kind, name, handle);
	if (status != NULL)
		*status = -1;
	proto_req_init(&e, buf, sizeof(buf), req_id);
	if (kind == PROTO_OP_REGISTER)
		proto_req_add_register(&e, name, strlen(name), handle, &ep,
				NULL, 0, 0);
	else
		proto_req_add_unregister(&e, name, strlen(name), NULL);
	proto_req_set_replicas(&e, s->replicas);
	len = proto_enc_finish(&e);
	if (!s->node[node].up) {
		simh_end(s->hist, op->hist, SIM_ST_UNDELIVERED,
				simh_stamp(s->hist, s->now));
		answer(s, op, -1);
		return NULL;
	}
	clu_request(s->node[node].c, tag, buf, len, s->now);
	collect_replies(s, node);
	return op->used ? op : NULL;
}

/* ---- the clock ---- */

static void
pump(struct sim *s, uint32_t i)
{
	size_t n, k;

	if (!s->node[i].up)
		return;
	while ((n = clu_poll_send(s->node[i].c, s->dg, 64)) > 0)
		for (k = 0; k < n; k++)
			transmit(s, i, &s->dg[k]);
	collect_replies(s, i);
}

static const struct trk_entry *lookup(struct sim *s, uint32_t node,
		const char *name);

/* SIM_TRACE=name prints every change of that name on every node. */
static void
trace(struct sim *s)
{
	static const char *name;
	static bool init;
	static uint64_t last[SIM_NODES_MAX];
	uint32_t i;

	if (!init) {
		name = getenv("SIM_TRACE");
		init = true;
	}
	if (name == NULL)
		return;
	for (i = 0; i < s->o.nodes; i++) {
		const struct trk_entry *e = lookup(s, i, name);
		uint64_t h = e ? e->handle : 0;

		if (h != last[i])
			fprintf(stderr, "t=%llu n%u %s: %llx owner n%u v%llu.%u\n",
				(unsigned long long)s->now, i + 1, name,
				(unsigned long long)h, e ? e->owner : 0,
				e ? (unsigned long long)e->version.clock : 0ULL,
				e ? e->version.node : 0);
		last[i] = h;
	}
}

/*
 * A node some live node holds dead may lose its plain registrations (the
 * purge), crash or no crash (a split, or false suspicion under loss): the
 * history records when that holds, sampled every ms.
 */
static void
sample_deaths(struct sim *s)
{
	struct mbr_member_info mi;
	uint32_t mask = 0, diff, i;
	size_t k;

	for (i = 0; i < s->o.nodes; i++) {
		const struct mbr *m;

		if (!s->node[i].up)
			continue;
		m = clu_member(s->node[i].c);
		for (k = 1; k < mbr_member_count(m); k++)
			if (mbr_member_get(m, k, &mi) == 0 &&
			    (mi.state == MBR_DEAD || mi.state == MBR_LEFT) &&
			    mi.node.id >= 1 && mi.node.id <= s->o.nodes)
				mask |= 1u << (mi.node.id - 1);
	}
	diff = mask ^ s->dead_mask;
	for (i = 0; diff != 0 && i < s->o.nodes; i++)
		if (diff >> i & 1)
			simh_event(s->hist, mask >> i & 1 ? SIMH_DEAD :
				SIMH_UNDEAD, i, simh_stamp(s->hist, s->now));
	s->dead_mask = mask;
}

static void
step(struct sim *s)
{
	uint32_t i;

	trace(s);
	s->now++;
	while (s->nheap > 0 && s->heap[0]->at <= s->now) {
		struct msg *m = heap_pop(s);
		struct mbr_addr src = { SIM_IP(m->from), SIM_PORT };

		if (s->node[m->to].up && connected(s, m->from, m->to)) {
			clu_receive(s->node[m->to].c, &src, m->buf, m->len,
					s->now);
			pump(s, m->to);
		}
		free(m);
	}
	for (i = 0; i < s->o.nodes; i++) {
		if (!s->node[i].up)
			continue;
		clu_tick(s->node[i].c, s->now);
		pump(s, i);
	}
	sample_deaths(s);
	urcu_qsbr_quiescent_state();
}

void
sim_run(struct sim *s, uint64_t ms)
{
	uint64_t end = s->now + ms;

	while (s->now < end)
		step(s);
}

uint64_t
sim_now(const struct sim *s)
{
	return s->now;
}

/* ---- faults ---- */

void
sim_partition(struct sim *s, const uint8_t *group)
{
	memcpy(s->group, group, s->o.nodes);
	simh_event(s->hist, SIMH_SPLIT, 0, simh_stamp(s->hist, s->now));
	if (s->split_at == 0)
		s->split_at = s->now;
}

void
sim_heal(struct sim *s)
{
	memset(s->group, 0, sizeof(s->group));
	if (s->split_at != 0)
		simh_event(s->hist, SIMH_HEAL, 0, simh_stamp(s->hist, s->now));
	if (s->split_at != 0 && s->nwindow < 16) {
		s->window[s->nwindow][0] = s->split_at;
		s->window[s->nwindow++][1] = s->now;
	}
	s->split_at = 0;
}

void
sim_set_loss(struct sim *s, double loss, double dup)
{
	s->o.loss = loss;
	s->o.dup = dup;
}

void
sim_crash(struct sim *s, uint32_t node)
{
	if (s->node[node].up)
		simh_event(s->hist, SIMH_CRASH, node,
				simh_stamp(s->hist, s->now));
	node_kill(s, node);
	s->node[node].crashed_at = s->now;
	if (s->ncrash < 64)
		s->crash_times[s->ncrash++] = s->now;
}

void
sim_restart(struct sim *s, uint32_t node)
{
	if (s->node[node].up)
		return;
	simh_event(s->hist, SIMH_RESTART, node, simh_stamp(s->hist, s->now));
	node_boot(s, node);
}

void
sim_bounce(struct sim *s, uint32_t node)
{
	sim_crash(s, node);
	sim_restart(s, node);
}

uint32_t
sim_nodes(const struct sim *s)
{
	return s->o.nodes;
}

struct sim_hist *
sim_hist(struct sim *s)
{
	return s->hist;
}

static void
rule_add(struct rule *table, uint32_t *n, uint32_t from, uint32_t to,
		uint32_t kinds, double p)
{
	if (*n == SIM_RULES_MAX) {
		fprintf(stderr, "sim: more than %u rules of one kind\n",
			SIM_RULES_MAX);
		abort();
	}
	table[*n] = (struct rule){ from, to, kinds, p };
	(*n)++;
}

void
sim_drop(struct sim *s, uint32_t from, uint32_t to, uint32_t kinds, double p)
{
	rule_add(s->drop, &s->ndrop, from, to, kinds, p);
}

void
sim_drop_clear(struct sim *s)
{
	s->ndrop = 0;
}

void
sim_dup(struct sim *s, uint32_t from, uint32_t to, uint32_t kinds, double p)
{
	rule_add(s->dup, &s->ndup, from, to, kinds, p);
}

void
sim_dup_clear(struct sim *s)
{
	s->ndup = 0;
}

void
sim_capture(struct sim *s, uint32_t from, uint32_t to, uint32_t kinds,
		bool on)
{
	bool all = from == SIM_ANY && to == SIM_ANY && kinds == SIM_KINDS_ALL;
	uint32_t i, n = 0;

	if (on) {
		rule_add(s->capf, &s->ncapf, from, to, kinds, 1);
		return;
	}
	for (i = 0; i < s->ncapf; i++) {
		const struct rule *r = &s->capf[i];

		if (!all && (r->from != from || r->to != to ||
			     r->kinds != kinds))
			s->capf[n++] = *r;
	}
	s->ncapf = n;
}

size_t
sim_captured(const struct sim *s)
{
	return s->ncap;
}

size_t
sim_capture_overflow(const struct sim *s)
{
	return s->cap_overflow;
}

void
sim_capture_clear(struct sim *s)
{
	s->ncap = 0;
	s->cap_overflow = 0;
}

const uint8_t *
sim_captured_frame(const struct sim *s, size_t i, size_t *len,
		uint32_t *from, uint32_t *to)
{
	if (i >= s->ncap)
		return NULL;
	if (len != NULL)
		*len = s->cap[i].len;
	if (from != NULL)
		*from = s->cap[i].from;
	if (to != NULL)
		*to = s->cap[i].to;
	return s->cap[i].buf;
}

/* Not through transmit(): loss and drop rules do not apply, partitions
 * and a down receiver still do (at delivery). */
size_t
sim_replay(struct sim *s, uint32_t first, uint32_t count, uint32_t to)
{
	size_t i, n = 0;

	for (i = first; i < s->ncap && i - first < count; i++) {
		const struct frame *f = &s->cap[i];
		uint32_t dst = to == SIM_ANY ? f->to : to;

		if (dst >= s->o.nodes)
			continue;
		enqueue(s, f->from, dst, f->buf, f->len);
		n++;
	}
	return n;
}

void
sim_split_on_request(struct sim *s, const uint8_t *group)
{
	memcpy(s->split_group, group, s->o.nodes);
	s->split_armed = true;
}

bool
sim_up(const struct sim *s, uint32_t node)
{
	return s->node[node].up;
}

/* ---- client API ---- */

/*
 * On a timeout the client forgets the op: a late answer must not write
 * into *st (the caller's stack is gone by then), and the history marks it
 * given up. Only step() runs meanwhile, so the slot is still this op's.
 */
static int
wait_op(struct sim *s, struct client_op *op, int *st, uint64_t timeout_ms)
{
	uint64_t end = s->now + timeout_ms;

	while (op != NULL && *st == -1 && s->now < end)
		step(s);
	if (op != NULL && *st == -1 && op->used) {
		op->status = NULL;
		simh_give_up(s->hist, op->hist);
	}
	return *st;
}

int
sim_register(struct sim *s, uint32_t node, const char *name, uint64_t handle,
		uint64_t timeout_ms)
{
	int st = -1;

	return wait_op(s, send_op(s, node, PROTO_OP_REGISTER, name, handle,
			&st, UINT32_MAX), &st, timeout_ms);
}

int
sim_unregister(struct sim *s, uint32_t node, const char *name,
		uint64_t timeout_ms)
{
	int st = -1;

	return wait_op(s, send_op(s, node, PROTO_OP_UNREGISTER, name, 0, &st,
			UINT32_MAX), &st, timeout_ms);
}

int
sim_register_replicas(struct sim *s, uint32_t node, const char *name,
		uint64_t handle, unsigned int replicas, uint64_t timeout_ms)
{
	int st;

	s->replicas = (uint8_t)replicas;
	st = sim_register(s, node, name, handle, timeout_ms);
	s->replicas = 0;
	return st;
}

void
sim_register_async(struct sim *s, uint32_t node, const char *name,
		uint64_t handle, int *status)
{
	send_op(s, node, PROTO_OP_REGISTER, name, handle, status, UINT32_MAX);
}

static const struct trk_entry *
lookup(struct sim *s, uint32_t node, const char *name)
{
	struct trk_key k = trk_key(name, strlen(name));

	if (!s->node[node].up)
		return NULL;
	return trk_whereis(s->node[node].t, &k, s->now);
}

uint64_t
sim_whereis(struct sim *s, uint32_t node, const char *name)
{
	const struct trk_entry *e = lookup(s, node, name);

	return e ? e->handle : 0;
}

uint32_t
sim_entry_owner(struct sim *s, uint32_t node, const char *name)
{
	const struct trk_entry *e = lookup(s, node, name);

	return e ? e->owner : 0;
}

size_t
sim_alive_view(struct sim *s, uint32_t node)
{
	return s->node[node].up ? clu_alive(s->node[node].c) : 0;
}

struct clu *
sim_clu(struct sim *s, uint32_t node)
{
	return s->node[node].c;
}

struct trk *
sim_trk(struct sim *s, uint32_t node)
{
	return s->node[node].t;
}

uint64_t
sim_count(struct sim *s, uint32_t node)
{
	return s->node[node].up ? trk_count(s->node[node].t) : 0;
}

/* ---- workload ---- */

static void
name_of(uint32_t i, char *buf, size_t len)
{
	snprintf(buf, len, "dev/%u", i);
}

static uint32_t
random_live(struct sim *s)
{
	uint32_t i, k = (uint32_t)(rnd(s) % s->o.nodes);

	for (i = 0; i < s->o.nodes; i++)
		if (s->node[(k + i) % s->o.nodes].up)
			return (k + i) % s->o.nodes;
	return 0;
}

void
sim_workload(struct sim *s, uint32_t nnames, uint32_t nops,
		uint32_t spacing_ms)
{
	char name[32];
	uint32_t i;

	if (s->model == NULL || nnames > s->nnames) {
		s->model = realloc(s->model, nnames * sizeof(*s->model));
		memset(s->model + s->nnames, 0,
				(nnames - s->nnames) * sizeof(*s->model));
		s->nnames = nnames;
	}
	for (i = 0; i < nops; i++) {
		uint32_t k = (uint32_t)(rnd(s) % nnames);
		struct model *m = &s->model[k];
		uint8_t kind;

		if (m->busy)
			continue;
		name_of(k, name, sizeof(name));
		kind = m->present && !m->uncertain && rnd(s) % 3 == 0 ?
			PROTO_OP_UNREGISTER : PROTO_OP_REGISTER;
		if (kind == PROTO_OP_REGISTER && !(m->present && !m->uncertain))
			m->next_handle = (uint64_t)k << 20 | (m->next_handle + 1);
		m->busy = true;
		send_op(s, random_live(s), kind, name, m->present &&
			!m->uncertain ? m->handle : m->next_handle | 1ULL << 60,
			NULL, k);
		if (spacing_ms > 0)
			sim_run(s, spacing_ms);
	}
}

/* A client's previous op is over: answered, or given up now. */
static bool
client_idle(struct sim *s, struct client *cl)
{
	struct client_op *op;

	if (!cl->busy || cl->status != -1)
		return true;
	if (s->node[cl->node].up && s->now - cl->since < GIVE_UP_MS)
		return false;
	if ((op = op_by_req(s, cl->req_id)) != NULL)
		op->status = NULL;
	simh_give_up(s->hist, cl->hist);
	return true;
}

void
sim_workload_contended(struct sim *s, uint32_t nnames, uint32_t nops,
		uint32_t clients, uint32_t spacing_ms)
{
	char name[32];
	uint32_t i;

	if (clients == 0 || clients > SIM_CLIENTS_MAX || nnames == 0)
		abort();
	for (i = 0; i < nops; i++) {
		uint32_t c = (uint32_t)(rnd(s) % clients);
		struct client *cl = &s->client[c];
		uint8_t kind;
		uint64_t h = 0;

		if (!client_idle(s, cl))
			continue;
		snprintf(name, sizeof(name), "hot/%u",
			(uint32_t)(rnd(s) % nnames));
		kind = rnd(s) % 3 == 0 ? PROTO_OP_UNREGISTER :
			PROTO_OP_REGISTER;
		if (kind == PROTO_OP_REGISTER)
			h = (uint64_t)(c + 1) << 56 | ++cl->counter;
		cl->busy = true;
		cl->since = s->now;
		cl->node = random_live(s);
		cl->req_id = s->req_seq + 1;	/* send_op's */
		send_op(s, cl->node, kind, name, h, &cl->status, UINT32_MAX);
		cl->hist = s->last_hist;
		if (spacing_ms > 0)
			sim_run(s, spacing_ms);
	}
}

/*
 * Every live node sees the same number of live members and ring nodes:
 * quiescence is not declared while views still disagree (right after a
 * heal the nodes may all be idle, yet one is about to be declared dead).
 */
static bool
views_agree(const struct sim *s)
{
	size_t alive = SIZE_MAX, ring = SIZE_MAX;
	uint32_t i;

	for (i = 0; i < s->o.nodes; i++) {
		if (!s->node[i].up)
			continue;
		if (alive == SIZE_MAX) {
			alive = clu_alive(s->node[i].c);
			ring = clu_ring_nodes(s->node[i].c);
		} else if (clu_alive(s->node[i].c) != alive ||
			   clu_ring_nodes(s->node[i].c) != ring) {
			return false;
		}
	}
	return true;
}

bool
sim_quiesce(struct sim *s, uint64_t max_ms)
{
	uint64_t end = s->now + max_ms;
	uint32_t i, quiet = 0;

	while (s->now < end) {
		bool idle = views_agree(s);	/* membership never stops */

		for (i = 0; i < s->o.nodes && idle; i++)
			idle = !s->node[i].up || clu_idle(s->node[i].c);
		quiet = idle ? quiet + 1 : 0;
		if (getenv("SIM_STATS") && s->now + 1 == end)
			for (i = 0; i < s->o.nodes; i++)
				if (s->node[i].up)
					fprintf(stderr, "n%u idle %d alive %zu "
						"count %llu\n", i + 1,
						clu_idle(s->node[i].c),
						clu_alive(s->node[i].c),
						(unsigned long long)sim_count(s, i));
		/* idle through two anti-entropy rounds: nothing left to find */
		if (quiet > 1500)
			return true;
		step(s);
	}
	return false;
}

/* ---- invariants ---- */

const char *
sim_check_converged(struct sim *s)
{
	static char msg[160];
	struct trk_digest_seg a[TRK_DIGEST_SEGS], b[TRK_DIGEST_SEGS];
	uint32_t first = UINT32_MAX, i, p;

	for (i = 0; i < s->o.nodes; i++) {
		if (!s->node[i].up)
			continue;
		if (first == UINT32_MAX) {
			first = i;
			continue;
		}
		for (p = 0; p < s->o.nparts; p++) {
			trk_digest(s->node[first].t, p, a, TRK_DIGEST_SEGS);
			trk_digest(s->node[i].t, p, b, TRK_DIGEST_SEGS);
			if (memcmp(a, b, sizeof(a)) != 0) {
				snprintf(msg, sizeof(msg), "n%u and n%u differ in "
					"partition %u (%llu vs %llu entries)",
					first + 1, i + 1, p,
					(unsigned long long)sim_count(s, first),
					(unsigned long long)sim_count(s, i));
				return msg;
			}
		}
	}
	return NULL;
}

/*
 * Acknowledged writes the model cannot vouch for:
 *  - near a crash: the owner may die before its stream reached anyone;
 *  - during a netsplit (and until the heal settles): both sides accept
 *    writes (ring), or the minority does until it sees the split
 *    (static_quorum_ring), and writes of one name on both sides are
 *    resolved by version, so one of them loses. Convergence to one entry
 *    per name is still checked for those names (sim_check_converged).
 */
static bool
crash_near(const struct sim *s, uint64_t at)
{
	uint32_t i;

	for (i = 0; i < s->ncrash; i++)
		if (s->crash_times[i] + 3000 >= at && s->crash_times[i] <= at + 3000)
			return true;
	for (i = 0; i < s->nwindow; i++)
		if (at + 100 >= s->window[i][0] && at <= s->window[i][1] + 3000)
			return true;
	return s->split_at != 0 && at + 100 >= s->split_at;
}

const char *
sim_check_model(struct sim *s)
{
	static char msg[160];
	char name[32];
	uint32_t k, i;

	for (k = 0; k < s->nnames; k++) {
		const struct model *m = &s->model[k];
		uint64_t want;

		if (m->uncertain || m->busy || m->at == 0 || crash_near(s, m->at))
			continue;
		/* a dead origin's plain registrations are purged */
		if (m->present && s->node[m->origin].crashed_at > m->at)
			continue;
		want = m->present ? m->handle : 0;
		name_of(k, name, sizeof(name));
		for (i = 0; i < s->o.nodes; i++) {
			if (!s->node[i].up || sim_whereis(s, i, name) == want)
				continue;
			snprintf(msg, sizeof(msg), "%s on n%u: handle %llx, "
				"acknowledged %llx at %llu through n%u; held by"
				" n%u n%u n%u n%u n%u", name, i + 1,
				(unsigned long long)sim_whereis(s, i, name),
				(unsigned long long)want,
				(unsigned long long)m->at, m->origin + 1,
				sim_entry_owner(s, 0, name),
				sim_entry_owner(s, 1, name),
				sim_entry_owner(s, 2, name),
				sim_entry_owner(s, 3, name),
				sim_entry_owner(s, 4, name));
			return msg;
		}
	}
	return NULL;
}

const char *
sim_check_bounded(struct sim *s)
{
	static char msg[160];
	uint32_t i;

	for (i = 0; i < s->o.nodes; i++) {
		struct clu_stats st;

		if (!s->node[i].up)
			continue;
		clu_get_stats(s->node[i].c, &st);
		if (sim_count(s, i) > (uint64_t)s->nnames + 4096) {
			snprintf(msg, sizeof(msg), "n%u holds %llu entries",
				i + 1, (unsigned long long)sim_count(s, i));
			return msg;
		}
		if (!clu_idle(s->node[i].c)) {
			snprintf(msg, sizeof(msg), "n%u still has replication "
				"or sync work", i + 1);
			return msg;
		}
	}
	return NULL;
}

uint64_t
sim_fingerprint(struct sim *s)
{
	struct trk_digest_seg d[TRK_DIGEST_SEGS];
	uint64_t f = s->now;
	uint32_t i, p, k;

	for (i = 0; i < s->o.nodes; i++) {
		if (!s->node[i].up)
			continue;
		for (p = 0; p < s->o.nparts; p++) {
			trk_digest(s->node[i].t, p, d, TRK_DIGEST_SEGS);
			for (k = 0; k < TRK_DIGEST_SEGS; k++)
				f = (f ^ d[k].x ^ d[k].count) * 0x100000001b3ULL;
		}
	}
	return f;
}
