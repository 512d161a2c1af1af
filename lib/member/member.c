/*
 * member.c - SWIM membership state machine (see member.h, docs/membership.md).
 *
 * Members live in a fixed table (index 0 = self) and are never removed, so
 * a stale update about a dead member is still recognised as stale. Each
 * member carries its own dissemination budget (tx_left): when its state
 * changes, the new state is piggybacked on the next tx_left messages.
 */
#include <stdlib.h>
#include <string.h>

#include "member.h"
#include "mix.h"
#include "mbr_internal.h"

#define SENDQ_CAP	256
#define EVQ_CAP		1024
#define RELAY_CAP	32

struct member {
	struct mbr_node node;
	uint8_t state;
	uint64_t suspect_at;	/* SUSPECT: when the suspicion started */
	unsigned tx_left;	/* piggyback budget for the current state */
	uint64_t gen;		/* last message it was piggybacked on */
};

struct relay {			/* a PING we send on behalf of a PING_REQ */
	bool used;
	uint32_t our_seq;
	uint32_t origin_seq;
	struct mbr_addr origin;
	uint64_t expires;
};

struct mbr {
	struct mbr_config cfg;
	uint64_t rng;
	struct member *mem;
	size_t n_mem;
	bool left;

	/* probing */
	uint32_t *order;	/* shuffled member indices */
	uint32_t *scratch;	/* indirect prober candidates */
	uint64_t gen;		/* piggyback generation */
	size_t order_len, order_pos;
	uint64_t next_probe_at;
	bool probing;		/* a probe is in flight */
	bool probe_acked;
	bool probe_indirect;	/* ping-reqs already sent */
	size_t probe_idx;
	uint32_t probe_seq;
	uint64_t probe_indirect_at;
	uint32_t seq;
	unsigned awareness;

	/* joining */
	struct mbr_addr *seeds;
	size_t n_seeds;
	bool joining;
	uint64_t join_retry_at;

	struct relay relay[RELAY_CAP];
	size_t relay_next;

	struct mbr_msg *sendq;
	size_t sq_head, sq_len;
	struct mbr_event evq[EVQ_CAP];
	size_t ev_head, ev_len;

	struct mbr_stats st;
};

/* ---- helpers ---------------------------------------------------------- */

static uint64_t rnd(struct mbr *m)	/* splitmix64 on the caller's seed */
{
	return mix_next(&m->rng);
}

static unsigned ceil_log2(uint64_t x)	/* ceil(log2(x)), x >= 1 */
{
	unsigned r = 0;

	while ((1ULL << r) < x)
		r++;
	return r;
}

static bool is_live(uint8_t state)
{
	return state == MBR_ALIVE || state == MBR_SUSPECT;
}

static bool same_name(const struct mbr_node *a, const char *name, size_t len)
{
	return a->name_len == len && memcmp(a->name, name, len) == 0;
}

static struct member *find(struct mbr *m, const struct mbr_node *n)
{
	for (size_t i = 0; i < m->n_mem; i++)
		if (same_name(&m->mem[i].node, n->name, n->name_len))
			return &m->mem[i];
	return NULL;
}

size_t mbr_alive_count(const struct mbr *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_mem; i++)
		n += is_live(m->mem[i].state);
	return n;
}

unsigned mbr_retransmit_limit(const struct mbr *m)
{
	unsigned l = ceil_log2(mbr_alive_count(m) + 1);

	return m->cfg.retransmit_mult * (l ? l : 1);
}

uint64_t mbr_suspicion_timeout(const struct mbr *m)
{
	unsigned l = ceil_log2(mbr_alive_count(m) + 1);

	return (uint64_t)m->cfg.suspicion_mult * (l ? l : 1) * m->cfg.probe_interval;
}

static uint64_t scaled(const struct mbr *m, uint64_t t)
{
	return t * (m->awareness + 1);
}

static void health(struct mbr *m, int delta)
{
	if (!m->cfg.awareness)
		return;
	if (delta < 0 && m->awareness > 0)
		m->awareness--;
	else if (delta > 0 && m->awareness < MBR_AWARENESS_MAX - 1)
		m->awareness++;
}

static void emit(struct mbr *m, uint8_t type, const struct member *mb, uint64_t now)
{
	struct mbr_event *e;

	if (m->ev_len == EVQ_CAP) {	/* drop the newest: keep order intact */
		m->st.events_dropped++;
		return;
	}
	e = &m->evq[(m->ev_head + m->ev_len++) % EVQ_CAP];
	e->type = type;
	e->at = now;
	e->node = mb->node;
}

static void set_state(struct mbr *m, struct member *mb, uint8_t state, uint64_t now)
{
	mb->state = state;
	mb->tx_left = mbr_retransmit_limit(m);
	if (state == MBR_SUSPECT)
		mb->suspect_at = now;
}

/*
 * Piggyback: the freshest updates first (most budget left), each member at
 * most once per message. A non-alive `buddy` (the destination) goes first:
 * a suspect or dead node learns what is said about it and can refute.
 */
static void piggyback(struct mbr *m, struct mbr_msg *msg, struct member *buddy)
{
	unsigned max = m->cfg.max_piggyback;

	msg->n_updates = 0;
	m->gen++;
	if (buddy != NULL && buddy->state != MBR_ALIVE) {
		msg->updates[msg->n_updates].state = buddy->state;
		msg->updates[msg->n_updates++].node = buddy->node;
		buddy->gen = m->gen;
	}
	while (msg->n_updates < max) {
		struct member *best = NULL;

		for (size_t i = 0; i < m->n_mem; i++) {
			struct member *mb = &m->mem[i];

			if (mb->tx_left == 0 || mb->gen == m->gen)
				continue;
			if (best == NULL || mb->tx_left > best->tx_left)
				best = mb;
		}
		if (best == NULL)
			break;
		msg->updates[msg->n_updates].state = best->state;
		msg->updates[msg->n_updates++].node = best->node;
		best->tx_left--;
		best->gen = m->gen;
	}
}

static struct mbr_msg *queue(struct mbr *m, uint8_t type, struct mbr_addr dst,
			     uint32_t seq)
{
	struct mbr_msg *msg;

	if (m->sq_len == SENDQ_CAP) {
		m->st.send_dropped++;
		return NULL;
	}
	msg = &m->sendq[(m->sq_head + m->sq_len++) % SENDQ_CAP];
	memset(msg, 0, offsetof(struct mbr_msg, updates));
	msg->dst = dst;
	msg->type = type;
	msg->seq = seq;
	msg->from = m->mem[0].node;
	return msg;
}

static void send_msg(struct mbr *m, uint8_t type, struct mbr_addr dst, uint32_t seq,
		     const struct mbr_node *target, struct member *buddy)
{
	struct mbr_msg *msg = queue(m, type, dst, seq);

	if (msg == NULL)
		return;
	if (target != NULL)
		msg->target = *target;
	piggyback(m, msg, buddy);
}

/* ---- lifecycle -------------------------------------------------------- */

void mbr_config_default(struct mbr_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->probe_interval = 1000;
	cfg->probe_timeout = 500;
	cfg->indirect_k = 3;
	cfg->suspicion_mult = 4;
	cfg->max_piggyback = 8;
	cfg->retransmit_mult = 4;
	cfg->awareness = true;
	cfg->max_members = 256;
}

struct mbr *mbr_create(const struct mbr_config *cfg, const struct mbr_node *self,
		       uint64_t seed)
{
	struct mbr *m;

	if (cfg == NULL || self == NULL || !mbr_node_valid(self) ||
	    cfg->probe_interval == 0 || cfg->probe_timeout == 0 ||
	    cfg->probe_timeout >= cfg->probe_interval || cfg->suspicion_mult == 0 ||
	    cfg->max_piggyback == 0 || cfg->max_piggyback > MBR_MSG_MAX_UPDATES ||
	    cfg->retransmit_mult == 0 || cfg->max_members < 2 ||
	    cfg->max_members > 65536)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->cfg = *cfg;
	m->rng = seed;
	m->mem = calloc(cfg->max_members, sizeof(*m->mem));
	m->order = calloc(cfg->max_members, sizeof(*m->order));
	m->scratch = calloc(cfg->max_members, sizeof(*m->scratch));
	m->sendq = calloc(SENDQ_CAP, sizeof(*m->sendq));
	if (m->mem == NULL || m->order == NULL || m->scratch == NULL || m->sendq == NULL) {
		mbr_destroy(m);
		return NULL;
	}
	m->mem[0].node = *self;
	m->mem[0].state = MBR_ALIVE;
	m->n_mem = 1;
	return m;
}

void mbr_destroy(struct mbr *m)
{
	if (m == NULL)
		return;
	free(m->mem);
	free(m->order);
	free(m->scratch);
	free(m->sendq);
	free(m->seeds);
	free(m);
}

static void send_joins(struct mbr *m)
{
	for (size_t i = 0; i < m->n_seeds; i++)
		send_msg(m, MBR_MSG_JOIN, m->seeds[i], 0, NULL, NULL);
}

size_t mbr_join(struct mbr *m, const struct mbr_addr *seeds, size_t n, uint64_t now)
{
	struct mbr_addr *s;
	size_t k = 0;

	if (m->left || seeds == NULL || n == 0)
		return 0;
	s = realloc(m->seeds, n * sizeof(*s));
	if (s == NULL)
		return 0;
	m->seeds = s;
	for (size_t i = 0; i < n; i++)
		if (seeds[i].ip != m->mem[0].node.addr.ip ||
		    seeds[i].port != m->mem[0].node.addr.port)
			s[k++] = seeds[i];
	m->n_seeds = k;
	if (k == 0)
		return 0;
	m->joining = true;
	m->join_retry_at = now + m->cfg.probe_interval;
	send_joins(m);
	return k;
}

void mbr_leave(struct mbr *m, uint64_t now)
{
	struct member *self = &m->mem[0];

	if (m->left)
		return;
	self->node.incarnation++;
	set_state(m, self, MBR_LEFT, now);
	emit(m, MBR_EV_LEFT, self, now);
	for (size_t i = 1; i < m->n_mem; i++)
		if (is_live(m->mem[i].state))
			send_msg(m, MBR_MSG_PING, m->mem[i].node.addr, ++m->seq,
				 &m->mem[i].node, NULL);
	m->left = true;
	m->probing = false;
	m->joining = false;
}

/* ---- applying updates (SWIM rules) ------------------------------------ */

static void refute(struct mbr *m, uint64_t seen_inc, uint64_t now)
{
	struct member *self = &m->mem[0];

	self->node.incarnation = seen_inc + 1;
	set_state(m, self, MBR_ALIVE, now);
	m->st.refutes++;
	health(m, +1);
}

static void apply(struct mbr *m, uint8_t state, const struct mbr_node *n, uint64_t now)
{
	struct member *mb = find(m, n);
	uint64_t inc = n->incarnation;

	if (mb == &m->mem[0]) {
		if (m->left)
			return;
		/* Anyone claiming otherwise about us at >= our incarnation: refute. */
		if (inc >= mb->node.incarnation &&
		    (state != MBR_ALIVE || inc > mb->node.incarnation))
			refute(m, inc, now);
		return;
	}
	if (mb == NULL) {
		if (!is_live(state))
			return;		/* never learn a member from its death */
		if (m->n_mem == m->cfg.max_members) {
			m->st.table_full++;
			return;
		}
		mb = &m->mem[m->n_mem++];
		mb->node = *n;
		set_state(m, mb, MBR_ALIVE, now);
		emit(m, MBR_EV_JOINED, mb, now);
		if (state == MBR_SUSPECT) {
			set_state(m, mb, MBR_SUSPECT, now);
			emit(m, MBR_EV_SUSPECT, mb, now);
		}
		return;
	}
	/*
	 * A member is declared dead only by our own suspicion timer. A death
	 * heard from elsewhere may be a verdict some node reached while it
	 * was cut off, carried here when its split heals, about a member we
	 * never lost: we suspect it (we keep probing it, and it refutes at
	 * once) and do not act on it sooner than our own timer would.
	 */
	if (state == MBR_DEAD) {
		state = MBR_SUSPECT;
		m->st.deaths_suspected += mb->state == MBR_ALIVE &&
			inc >= mb->node.incarnation;
	}
	switch (state) {
	case MBR_ALIVE:
		if (inc <= mb->node.incarnation)
			return;
		mb->node = *n;	/* may carry a new address after a restart */
		if (mb->state != MBR_ALIVE) {
			uint8_t was = mb->state;

			set_state(m, mb, MBR_ALIVE, now);
			emit(m, was == MBR_SUSPECT ? MBR_EV_ALIVE : MBR_EV_JOINED,
			     mb, now);
		} else {
			mb->tx_left = mbr_retransmit_limit(m);
		}
		return;
	case MBR_SUSPECT:
		if (!is_live(mb->state) || inc < mb->node.incarnation)
			return;
		if (mb->state == MBR_SUSPECT && inc == mb->node.incarnation)
			return;	/* already suspected; keep the original timer */
		mb->node.incarnation = inc;
		if (mb->state == MBR_SUSPECT) {
			mb->tx_left = mbr_retransmit_limit(m);
			return;
		}
		set_state(m, mb, MBR_SUSPECT, now);
		emit(m, MBR_EV_SUSPECT, mb, now);
		return;
	case MBR_DEAD:
	case MBR_LEFT:
		if (inc < mb->node.incarnation || !is_live(mb->state))
			return;
		mb->node.incarnation = inc;
		set_state(m, mb, state, now);
		emit(m, state == MBR_DEAD ? MBR_EV_DEAD : MBR_EV_LEFT, mb, now);
		return;
	default:
		return;
	}
}

/* ---- probing ---------------------------------------------------------- */

static void reshuffle(struct mbr *m)
{
	m->order_len = 0;
	for (size_t i = 1; i < m->n_mem; i++)
		if (is_live(m->mem[i].state))
			m->order[m->order_len++] = (uint32_t)i;
	for (size_t i = m->order_len; i > 1; i--) {
		size_t j = rnd(m) % i;
		uint32_t t = m->order[i - 1];

		m->order[i - 1] = m->order[j];
		m->order[j] = t;
	}
	m->order_pos = 0;
}

static bool next_target(struct mbr *m, size_t *idx)
{
	for (int pass = 0; pass < 2; pass++) {
		while (m->order_pos < m->order_len) {
			size_t i = m->order[m->order_pos++];

			if (is_live(m->mem[i].state)) {
				*idx = i;
				return true;
			}
		}
		reshuffle(m);
	}
	return false;
}

static void end_probe(struct mbr *m, uint64_t now)
{
	struct member *mb = &m->mem[m->probe_idx];

	m->probing = false;
	if (m->probe_acked) {
		health(m, -1);
		return;
	}
	m->st.probes_failed++;
	health(m, +1);
	if (mb->state == MBR_ALIVE) {
		set_state(m, mb, MBR_SUSPECT, now);
		emit(m, MBR_EV_SUSPECT, mb, now);
	}
}

static void send_ping_reqs(struct mbr *m)
{
	uint32_t *cand = m->scratch;
	size_t nc = 0;

	for (size_t i = 1; i < m->n_mem; i++)
		if (i != m->probe_idx && m->mem[i].state == MBR_ALIVE)
			cand[nc++] = (uint32_t)i;
	for (unsigned k = 0; k < m->cfg.indirect_k && nc > 0; k++) {
		size_t j = rnd(m) % nc;

		send_msg(m, MBR_MSG_PING_REQ, m->mem[cand[j]].node.addr,
			 m->probe_seq, &m->mem[m->probe_idx].node, NULL);
		m->st.ping_reqs_sent++;
		cand[j] = cand[--nc];
	}
	m->probe_indirect = true;
}

static void check_suspects(struct mbr *m, uint64_t now)
{
	uint64_t timeout = mbr_suspicion_timeout(m);

	for (size_t i = 1; i < m->n_mem; i++) {
		struct member *mb = &m->mem[i];

		if (mb->state == MBR_SUSPECT && now - mb->suspect_at >= timeout) {
			set_state(m, mb, MBR_DEAD, now);
			emit(m, MBR_EV_DEAD, mb, now);
		}
	}
}

void mbr_tick(struct mbr *m, uint64_t now)
{
	if (m->left)
		return;
	for (size_t i = 0; i < RELAY_CAP; i++)
		if (m->relay[i].used && now >= m->relay[i].expires)
			m->relay[i].used = false;
	if (m->joining && now >= m->join_retry_at) {
		send_joins(m);
		m->join_retry_at = now + m->cfg.probe_interval;
	}
	if (m->probing && !m->probe_acked && !m->probe_indirect &&
	    now >= m->probe_indirect_at)
		send_ping_reqs(m);
	if (m->probing && now >= m->next_probe_at)
		end_probe(m, now);
	check_suspects(m, now);
	if (!m->probing && now >= m->next_probe_at) {
		size_t idx;

		m->next_probe_at = now + scaled(m, m->cfg.probe_interval);
		if (!next_target(m, &idx))
			return;
		m->probing = true;
		m->probe_acked = false;
		m->probe_indirect = false;
		m->probe_idx = idx;
		m->probe_seq = ++m->seq;
		m->probe_indirect_at = now + scaled(m, m->cfg.probe_timeout);
		m->st.probes++;
		send_msg(m, MBR_MSG_PING, m->mem[idx].node.addr, m->probe_seq,
			 &m->mem[idx].node, &m->mem[idx]);
	}
}

/* ---- receiving -------------------------------------------------------- */

static void got_ack(struct mbr *m, uint32_t seq)
{
	if (m->probing && seq == m->probe_seq)
		m->probe_acked = true;
}

static void relay_ping(struct mbr *m, const struct mbr_msg *msg, uint64_t now)
{
	struct relay *r = &m->relay[m->relay_next++ % RELAY_CAP];
	struct member *t = find(m, &msg->target);

	r->used = true;
	r->our_seq = ++m->seq;
	r->origin_seq = msg->seq;
	r->origin = msg->from.addr;
	r->expires = now + m->cfg.probe_interval;
	send_msg(m, MBR_MSG_PING, msg->target.addr, r->our_seq, &msg->target, t);
}

static void relay_ack(struct mbr *m, const struct mbr_msg *msg)
{
	for (size_t i = 0; i < RELAY_CAP; i++) {
		struct relay *r = &m->relay[i];

		if (r->used && r->our_seq == msg->seq) {
			r->used = false;
			send_msg(m, MBR_MSG_INDIRECT_ACK, r->origin, r->origin_seq,
				 &msg->from, NULL);
			return;
		}
	}
}

static void join_reply(struct mbr *m, struct mbr_addr dst)
{
	size_t i = 0;

	while (i < m->n_mem) {
		struct mbr_msg *msg = queue(m, MBR_MSG_JOIN_REPLY, dst, 0);

		if (msg == NULL)
			return;
		msg->n_updates = 0;
		for (; i < m->n_mem && msg->n_updates < MBR_MSG_MAX_UPDATES; i++) {
			msg->updates[msg->n_updates].state = m->mem[i].state;
			msg->updates[msg->n_updates++].node = m->mem[i].node;
		}
	}
}

int mbr_receive(struct mbr *m, const struct mbr_msg *msg, uint64_t now)
{
	const struct mbr_node *self = &m->mem[0].node;

	if (m->left || msg == NULL || !mbr_msg_valid(msg) ||
	    same_name(&msg->from, self->name, self->name_len) ||
	    (msg->type == MBR_MSG_PING &&
	     !same_name(&msg->target, self->name, self->name_len))) {
		m->st.rejected++;
		return -1;
	}
	/* The sender speaks for itself: an alive claim at its incarnation. */
	apply(m, MBR_ALIVE, &msg->from, now);
	for (unsigned i = 0; i < msg->n_updates; i++)
		apply(m, msg->updates[i].state, &msg->updates[i].node, now);

	switch (msg->type) {
	case MBR_MSG_PING:
		/* buddy: a sender we hold suspect or dead hears it in the ack */
		send_msg(m, MBR_MSG_ACK, msg->from.addr, msg->seq, NULL,
			 find(m, &msg->from));
		break;
	case MBR_MSG_ACK:
		got_ack(m, msg->seq);
		relay_ack(m, msg);
		break;
	case MBR_MSG_INDIRECT_ACK:
		got_ack(m, msg->seq);
		break;
	case MBR_MSG_PING_REQ:
		if (same_name(&msg->target, self->name, self->name_len))
			send_msg(m, MBR_MSG_INDIRECT_ACK, msg->from.addr, msg->seq,
				 self, NULL);	/* asked to probe ourselves */
		else
			relay_ping(m, msg, now);
		break;
	case MBR_MSG_JOIN:
		join_reply(m, msg->from.addr);
		break;
	case MBR_MSG_JOIN_REPLY:
		m->joining = false;
		break;
	default:
		break;
	}
	return 0;
}

/* ---- outputs and queries ---------------------------------------------- */

size_t mbr_poll_send(struct mbr *m, struct mbr_msg *out, size_t max)
{
	size_t n = 0;

	while (n < max && m->sq_len > 0) {
		out[n++] = m->sendq[m->sq_head];
		m->sq_head = (m->sq_head + 1) % SENDQ_CAP;
		m->sq_len--;
	}
	return n;
}

size_t mbr_poll_events(struct mbr *m, struct mbr_event *out, size_t max)
{
	size_t n = 0;

	while (n < max && m->ev_len > 0) {
		out[n++] = m->evq[m->ev_head];
		m->ev_head = (m->ev_head + 1) % EVQ_CAP;
		m->ev_len--;
	}
	return n;
}

size_t mbr_member_count(const struct mbr *m)
{
	return m->n_mem;
}

int mbr_member_get(const struct mbr *m, size_t i, struct mbr_member_info *out)
{
	if (i >= m->n_mem)
		return -1;
	out->node = m->mem[i].node;
	out->state = m->mem[i].state;
	return 0;
}

int mbr_lookup(const struct mbr *m, const char *name, size_t len,
	       struct mbr_member_info *out)
{
	for (size_t i = 0; i < m->n_mem; i++)
		if (same_name(&m->mem[i].node, name, len))
			return mbr_member_get(m, i, out);
	return -1;
}

uint64_t mbr_incarnation(const struct mbr *m)
{
	return m->mem[0].node.incarnation;
}

unsigned mbr_awareness(const struct mbr *m)
{
	return m->awareness;
}

void mbr_get_stats(const struct mbr *m, struct mbr_stats *out)
{
	*out = m->st;
}
