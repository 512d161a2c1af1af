/*
 * clu_node.c - a cluster node: lifecycle, datagram dispatch, membership
 * view and ring, output queues.
 *
 * The view: every member lib/member reports alive or suspect is live; a
 * suspect keeps its ring position (suspicion is not death), a dead or left
 * member loses it. The ring is rebuilt from self plus the live members the
 * filter allows whenever that set changes; building it costs a few ms per
 * thousand vnodes, which membership changes can afford. A member whose node
 * id is already used by a live member of another name is refused
 * (id_conflicts) rather than allowed to steal its ring position.
 */
#include <stdlib.h>
#include <string.h>

#include "clu_internal.h"
#include "mix.h"
#include "ring_filter.h"

void
clu_config_default(struct clu_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	mbr_config_default(&cfg->mbr);
	ring_policy_init(&cfg->policy);
	cfg->repl_log = 16384;
	cfg->repl_window = 512;
	cfg->repl_rto_ms = 100;
	cfg->ae_interval_ms = 2000;
	cfg->sync_scan = 1024;
	cfg->sync_dgrams = 16;
	cfg->fwd_timeout_ms = 2000;
	cfg->send_queue = 4096;
}

uint64_t
clu_rand(struct clu *c)
{
	return mix_next(&c->rng);
}

static bool
config_valid(const struct clu_config *cfg, const struct trk *t,
		const struct exec_node *xn)
{
	return cfg->node_id != 0 && cfg->node_id != UINT32_MAX &&
		xn->node_id == cfg->node_id && cfg->name != NULL &&
		cfg->name_len >= 1 && cfg->name_len <= MBR_NAME_MAX &&
		cfg->repl_log >= 4 && (cfg->repl_log & (cfg->repl_log - 1)) == 0 &&
		cfg->repl_window >= 1 && cfg->repl_window <= cfg->repl_log / 2 &&
		cfg->repl_rto_ms >= 1 &&
		cfg->ae_interval_ms >= 1 && cfg->sync_scan >= 16 &&
		cfg->sync_dgrams >= 1 && cfg->fwd_timeout_ms >= 1 &&
		cfg->send_queue >= 64 && trk_nparts(t) <= CLU_NO_PART &&
		cfg->incarnation < CLU_EPOCH_MAX;
}

/* ---- peers and view ---- */

bool
clu_peer_live(const struct clu_peer *p)
{
	return p->used && (p->state == MBR_ALIVE || p->state == MBR_SUSPECT);
}

/*
 * A serving peer takes part in the registry: it gets our replication
 * stream and repairs, and we take its forwards and answer them. Whether
 * it may also own names is the ring's business: ring_build leaves out
 * the members the filters exclude, so an excluded node is a full replica
 * that forwards every write, never an owner.
 */
bool
clu_peer_serves(const struct clu_peer *p)
{
	return clu_peer_live(p) && !p->conflict;
}

struct clu_peer *
clu_peer_by_id(struct clu *c, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < c->npeers; i++)
		if (c->peer[i].used && c->peer[i].id == id)
			return &c->peer[i];
	return NULL;
}

bool
clu_is_dead(const struct clu *c, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < c->ndead; i++)
		if (c->dead[i] == id)
			return true;
	return false;
}

static void
dead_set(struct clu *c, uint32_t id, bool dead)
{
	uint32_t i;

	for (i = 0; i < c->ndead; i++) {
		if (c->dead[i] != id)
			continue;
		if (!dead)
			c->dead[i] = c->dead[--c->ndead];
		return;
	}
	if (dead && c->ndead < CLU_PEERS_MAX)
		c->dead[c->ndead++] = id;
}

/*
 * static_quorum_ring: the members left in the ring take over the names of
 * one that left it. A node cut off with a minority may have applied
 * writes of those names in the moments before it lost its lease (never
 * acknowledged: they lacked a quorum's replica acks), possibly more of
 * them than the majority has made since. So the majority moves every
 * partition clock to the next era (the high 32 bits): whatever it writes
 * from now on is newer than anything the minority wrote, and wins when
 * the split heals.
 */
static void
era_bump(struct clu *c)
{
	uint32_t part;

	for (part = 0; part < c->nparts; part++) {
		struct trk_version v = {
			.clock = ((trk_clock_now(c->t, part) >> 32) + 1) << 32,
		};

		trk_clock_observe(c->t, part, &v);
	}
}

/* True when some member of the last ring is not among ids[0..n). */
static bool
ring_lost_member(const struct clu *c, const uint32_t *ids, uint32_t n)
{
	uint32_t i, k;

	for (i = 0; i < c->nring_ids; i++) {
		for (k = 0; k < n && ids[k] != c->ring_ids[i]; k++)
			;
		if (k == n)
			return true;
	}
	return false;
}

/*
 * Rebuilds the ring from self and the serving peers. When a member left
 * the ring, its names now belong to the others, and the latest writes of
 * some of them (acknowledged through a third node) may not have reached
 * us: a ready node verifies every partition with its peers again before
 * it decides writes there (clu_verify.c).
 */
void
clu_view_rebuild(struct clu *c)
{
	struct ring_members *m = ring_members_create();
	uint32_t ids[CLU_PEERS_MAX + 1], n = 0, i;
	struct ring *r = NULL;
	char self[MBR_NAME_MAX + 1];
	bool lost;
	int err;

	if (m == NULL)
		return;	/* keep the old ring: better than none */
	memcpy(self, c->cfg.name, c->cfg.name_len);
	self[c->cfg.name_len] = '\0';
	if (c->ready) {
		ring_members_add(m, self, 1, c->cfg.node_id);
		ids[n++] = c->cfg.node_id;
	}
	for (i = 0; i < c->npeers; i++)
		if (clu_peer_serves(&c->peer[i]) && c->peer[i].ready) {
			ring_members_add(m, c->peer[i].name, 1, c->peer[i].id);
			ids[n++] = c->peer[i].id;
		}
	r = ring_build(m, &c->cfg.policy, &err);
	ring_members_destroy(m);
	if (r == NULL)
		return;
	/* names come to us when a member leaves the ring, or when the ring
	 * has owners again after it had none (a minority healed: what it
	 * holds is what it purged and missed) */
	lost = ring_lost_member(c, ids, n);
	if (c->ready && ring_has_owner(r) && (lost || c->ring == NULL ||
	    !ring_has_owner(c->ring))) {
		clu_verify_start_all(c);
		if (lost && c->cfg.policy.strategy == RING_STRATEGY_STATIC_QUORUM)
			era_bump(c);
		c->st.takeovers++;
	}
	memcpy(c->ring_ids, ids, n * sizeof(ids[0]));
	c->nring_ids = n;
	ring_free(c->ring);
	c->ring = r;
	c->st.ring_builds++;
}

static struct clu_peer *
peer_slot(struct clu *c, const struct mbr_node *n)
{
	struct clu_peer *p = NULL;
	uint32_t i;

	for (i = 0; i < c->npeers; i++) {
		if (c->peer[i].used && strlen(c->peer[i].name) == n->name_len &&
		    memcmp(c->peer[i].name, n->name, n->name_len) == 0)
			return &c->peer[i];
		if (p == NULL && !c->peer[i].used)
			p = &c->peer[i];
	}
	if (p == NULL && c->npeers < CLU_PEERS_MAX)
		p = &c->peer[c->npeers++];
	if (p == NULL)
		return NULL;
	memset(p->out, 0, c->nparts * sizeof(*p->out));
	for (i = 0; i < c->nparts; i++)
		clu_in_reset(&p->in[i]);
	for (i = 0; i < c->nparts; i++)
		clu_repair_reset(&p->rep[i]);
	clu_verify_peer_reset(c, p);
	p->used = true;
	p->state = MBR_DEAD;
	memcpy(p->name, n->name, n->name_len);
	p->name[n->name_len] = '\0';
	p->votes = ring_filter_allows(c->cfg.policy.filter, p->name);
	return p;
}

static bool
id_taken(struct clu *c, const struct clu_peer *self_p, uint32_t id)
{
	uint32_t i;

	if (id == c->cfg.node_id || id == 0 || id == UINT32_MAX)
		return true;
	for (i = 0; i < c->npeers; i++)
		if (&c->peer[i] != self_p && clu_peer_live(&c->peer[i]) &&
		    !c->peer[i].conflict && c->peer[i].id == id)
			return true;
	return false;
}

/*
 * The plain registrations of a member that died are purged everywhere,
 * but not at once: a healed netsplit can bring back a rumour that a live
 * member is dead, which that member refutes within a round trip or two.
 * Purging on the rumour would hide its registrations until anti-entropy
 * restored them (a not_found for names that exist). So a death is acted
 * on two probe intervals later if the member has not come back; a
 * graceful leave at once.
 */
static void
purge_due(struct clu *c, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < c->npeers; i++) {
		struct clu_peer *p = &c->peer[i];

		if (p->purge_ms == 0 || now < p->purge_ms)
			continue;
		p->purge_ms = 0;
		if (clu_peer_live(p))
			continue;
		dead_set(c, p->id, true);
		p->purged_epoch = p->epoch;
		clu_sync_start_purge(c);
	}
}

static void
on_event(struct clu *c, const struct mbr_event *ev, uint64_t now)
{
	struct clu_peer *p;
	bool served, was_live;

	/* ring members are C strings: a name with a NUL could pose as another */
	if (memchr(ev->node.name, 0, ev->node.name_len) != NULL) {
		c->st.id_conflicts++;
		return;
	}
	if ((p = peer_slot(c, &ev->node)) == NULL)
		return;
	served = clu_peer_serves(p);
	was_live = clu_peer_live(p);
	if (ev->type == MBR_EV_JOINED) {
		p->id = ev->node.id;
		p->conflict = id_taken(c, p, p->id);
		c->st.id_conflicts += p->conflict;
	}
	p->addr = ev->node.addr;
	switch (ev->type) {
	case MBR_EV_JOINED:
	case MBR_EV_ALIVE:
		p->state = MBR_ALIVE;
		break;
	case MBR_EV_SUSPECT:
		p->state = MBR_SUSPECT;
		break;
	default:
		p->state = ev->type == MBR_EV_LEFT ? MBR_LEFT : MBR_DEAD;
		break;
	}
	if (clu_peer_serves(p) && !served) {
		dead_set(c, p->id, false);	/* back: stop purging it */
		p->purge_ms = 0;
		p->ready = false;		/* until it says so */
		p->heard = false;
		p->cold = false;
		p->adopted = false;
		p->founder = false;
		p->announced = false;
		clu_verify_peer_reset(c, p);
		clu_repl_peer_up(c, p, now);
	} else if (!clu_peer_serves(p) && served) {
		clu_repl_peer_down(c, p);
		clu_fwd_peer_down(c, p->id);
	}
	if (was_live && !clu_peer_live(p) && !p->conflict) {
		/* a leave is certain; a death may be a stale rumour */
		if (ev->type == MBR_EV_LEFT) {
			dead_set(c, p->id, true);
			p->purged_epoch = p->epoch;
			clu_sync_start_purge(c);
		} else {
			p->purge_ms = now + 2ULL * c->cfg.mbr.probe_interval;
		}
	}
	if (clu_peer_serves(p) != served)
		clu_view_rebuild(c);
}

static void
pump_membership(struct clu *c, uint64_t now)
{
	struct mbr_event ev[16];
	struct mbr_msg msg;
	struct clu_wr w;
	size_t i, n;

	while ((n = mbr_poll_events(c->mbr, ev, 16)) > 0)
		for (i = 0; i < n; i++)
			on_event(c, &ev[i], now);
	while (mbr_poll_send(c->mbr, &msg, 1) == 1) {
		size_t len;

		if (clu_msg_begin(c, &w, CLU_T_MEMBER, CLU_NO_PART) == NULL)
			continue;
		len = mbr_encode(&msg, w.p + w.len, w.cap - w.len);
		if (len == 0)
			continue;
		w.len += len;
		clu_msg_end(c, &w, &msg.dst);
	}
}

/* ---- lifecycle ---- */

static int
alloc_parts(struct clu *c)
{
	uint32_t i;

	c->part = calloc(c->nparts, sizeof(*c->part));
	if (c->part == NULL)
		return -1;
	for (i = 0; i < CLU_PEERS_MAX; i++) {
		c->peer[i].out = calloc(c->nparts, sizeof(struct clu_out));
		c->peer[i].in = calloc(c->nparts, sizeof(struct clu_in));
		c->peer[i].rep = calloc(c->nparts, sizeof(struct clu_repair));
		c->peer[i].vs = calloc(c->nparts, sizeof(struct clu_vsync));
		if (!c->peer[i].out || !c->peer[i].in || !c->peer[i].rep ||
		    !c->peer[i].vs)
			return -1;
	}
	return 0;
}

/*
 * Versions this node decides must be newer than any it decided in an
 * earlier life, even when it becomes ready without a sync that would teach
 * it (alone, or a cold start among nodes cut off from the rest): equal
 * versions are taken for the same event, so a restarted node counting
 * from 0 again could give two different writes of a name one version.
 * The epoch (the incarnation: the start time in ms) grows across restarts,
 * so partition clocks start at epoch << CLU_CLOCK_EPOCH_SHIFT: an earlier
 * life would have had to decide 2^20 writes per partition per millisecond
 * of its life to reach it.
 */
/* Whether the filters let this node own names (count in a quorum). */
static bool
self_votes(const struct clu_config *cfg)
{
	char self[MBR_NAME_MAX + 1];

	memcpy(self, cfg->name, cfg->name_len);
	self[cfg->name_len] = '\0';
	return ring_filter_allows(cfg->policy.filter, self);
}

static void
clock_from_epoch(struct clu *c)
{
	struct trk_version v = { .clock = c->epoch << CLU_CLOCK_EPOCH_SHIFT };
	uint32_t part;

	for (part = 0; part < c->nparts; part++)
		trk_clock_observe(c->t, part, &v);
}

struct clu *
clu_create(const struct clu_config *cfg, struct trk *t,
		const struct exec_node *xn, uint64_t now)
{
	struct mbr_node self = { 0 };
	struct clu *c;

	if (cfg == NULL || t == NULL || xn == NULL || !config_valid(cfg, t, xn))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->cfg = *cfg;
	c->keys = cfg->keys != NULL ? cfg->keys : &c->nokeys;
	c->t = t;
	c->xn = *xn;
	c->nparts = trk_nparts(t);
	c->rng = cfg->seed;
	c->epoch = cfg->incarnation != 0 ? cfg->incarnation : 1;
	self.name_len = (uint8_t)cfg->name_len;
	memcpy(self.name, cfg->name, cfg->name_len);
	self.addr = cfg->addr;
	self.id = cfg->node_id;
	self.incarnation = cfg->incarnation;
	c->mbr = mbr_create(&cfg->mbr, &self, clu_rand(c));
	c->sendq = calloc(cfg->send_queue, sizeof(*c->sendq));
	c->replyq = calloc(CLU_REPLY_QUEUE, sizeof(*c->replyq));
	c->pending = calloc(CLU_PENDING_MAX, sizeof(*c->pending));
	c->hold = calloc(CLU_HOLD_MAX, sizeof(*c->hold));
	c->ahold_max = cfg->policy.strategy == RING_STRATEGY_STATIC_QUORUM ?
		CLU_AHOLD_QUORUM : CLU_AHOLD_MAX;
	c->ahold = calloc(c->ahold_max, sizeof(*c->ahold));
	c->amark = calloc((size_t)c->ahold_max * c->nparts, sizeof(uint64_t));
	_Static_assert(CLU_STAGE_RECS <= 64, "a stage fits chbuf");
	c->chbuf = calloc(TRK_GROUPS_PER_ENTRY + 64, sizeof(*c->chbuf));
	c->xout = malloc(sizeof(*c->xout));
	if (c->mbr == NULL || !c->sendq || !c->replyq || !c->pending ||
	    !c->hold || !c->ahold || !c->amark || !c->chbuf || !c->xout || alloc_parts(c) != 0 ||
	    clu_repl_init(c) != 0) {
		clu_destroy(c);
		return NULL;
	}
	clock_from_epoch(c);
	c->ready_deadline = now + 3ULL * c->cfg.mbr.probe_interval;
	c->lease_ms = (cfg->mbr.probe_timeout + (uint64_t)cfg->mbr.suspicion_mult *
			cfg->mbr.probe_interval) / 2;
	c->votes = self_votes(cfg);
	clu_verify_start_all(c);
	clu_view_rebuild(c);
	return c;
}

void
clu_destroy(struct clu *c)
{
	uint32_t i;

	if (c == NULL)
		return;
	clu_repl_free(c);
	clu_fwd_free(c);
	clu_fwdq_free(c);
	clu_verify_free(c);
	for (i = 0; i < CLU_PEERS_MAX; i++) {
		for (uint32_t k = 0; c->peer[i].in != NULL && k < c->nparts; k++)
			free(c->peer[i].in[k].buf);
		free(c->peer[i].out);
		free(c->peer[i].in);
		free(c->peer[i].rep);
	}
	ring_free(c->ring);
	mbr_destroy(c->mbr);
	free(c->part);
	free(c->sendq);
	free(c->replyq);
	free(c->pending);
	free(c->hold);
	free(c->ahold);
	free(c->amark);
	free(c->chbuf);
	free(c->xout);
	free(c);
}

size_t
clu_join(struct clu *c, const struct mbr_addr *seeds, size_t n, uint64_t now)
{
	size_t k = mbr_join(c->mbr, seeds, n, now);

	c->nseeds = (uint32_t)(n < CLU_PEERS_MAX ? n : CLU_PEERS_MAX);
	memcpy(c->seeds, seeds, c->nseeds * sizeof(*seeds));
	c->reconnect_ms = now + 5ULL * c->cfg.mbr.probe_interval;

	pump_membership(c, now);
	return k;
}

/*
 * SWIM never probes the dead, so two sides of a healed netsplit would stay
 * strangers. Every 5 probe intervals, send a JOIN to every member we hold
 * dead (not left), and to the seeds when we are alone: the JOIN_REPLY tells
 * each side it was declared dead, it refutes with a higher incarnation, and
 * the next JOIN carries that, which the other side accepts as a rejoin.
 */
static void
reconnect(struct clu *c, uint64_t now)
{
	struct mbr_addr to[CLU_PEERS_MAX];
	uint32_t i, n = 0;

	c->reconnect_ms = now + 5ULL * c->cfg.mbr.probe_interval;
	for (i = 0; i < c->npeers; i++)
		if (c->peer[i].used && c->peer[i].state == MBR_DEAD)
			to[n++] = c->peer[i].addr;
	if (mbr_alive_count(c->mbr) <= 1)
		for (i = 0; i < c->nseeds && n < CLU_PEERS_MAX; i++)
			to[n++] = c->seeds[i];
	if (n > 0)
		mbr_join(c->mbr, to, n, now);
}

/*
 * Not ready yet: a JOIN every fifth of a probe interval to the seeds we
 * have not heard from. A cold start waits for every seed's word, and a
 * seed that was not up yet when our first JOIN came (nodes started
 * together) would otherwise be heard only at its first probe of us, up to
 * a few probe intervals later.
 */
static void
seek_seeds(struct clu *c, uint64_t now)
{
	struct mbr_addr to[CLU_PEERS_MAX];
	uint32_t i, k, n = 0;

	c->seek_ms = now + (c->cfg.mbr.probe_interval / 5 > 10 ?
			c->cfg.mbr.probe_interval / 5 : 10);
	for (i = 0; i < c->nseeds; i++) {
		const struct mbr_addr *a = &c->seeds[i];
		bool heard = a->ip == c->cfg.addr.ip &&
			a->port == c->cfg.addr.port;	/* ourselves */

		for (k = 0; k < c->npeers && !heard; k++)
			heard = c->peer[k].used && c->peer[k].heard &&
				c->peer[k].addr.ip == a->ip &&
				c->peer[k].addr.port == a->port;
		if (!heard)
			to[n++] = *a;
	}
	if (n > 0)
		mbr_join(c->mbr, to, n, now);
}

static void hello_tick(struct clu *c, uint64_t now);
static void send_hello(struct clu *c, struct clu_peer *p, uint8_t flags);

/*
 * The quorum lease of static_quorum_ring: a node decides writes only while
 * a quorum of its ring (itself included) has been heard from within
 * lease_ms, half the fastest failure detection. A node cut off with a
 * minority therefore stops deciding writes before the majority can have
 * declared it dead and taken its names over: at no moment do two nodes
 * decide one name. Members hear each other through HELLO heartbeats,
 * four per lease.
 */
static void
lease_tick(struct clu *c, uint64_t now)
{
	uint32_t i, n;

	if (c->cfg.policy.strategy != RING_STRATEGY_STATIC_QUORUM)
		return;
	n = c->ready && c->votes;
	for (i = 0; i < c->npeers; i++) {
		struct clu_peer *p = &c->peer[i];

		if (!clu_peer_serves(p) || !p->ready)
			continue;
		if (now >= c->beat_ms)
			send_hello(c, p, 0);
		/* the quorum counts owners: a member the filters keep off
		 * the ring is a replica, not a vote */
		n += now - p->heard_ms < c->lease_ms && p->votes;
	}
	if (now >= c->beat_ms)
		c->beat_ms = now + c->lease_ms / 4;
	c->lease = n >= c->cfg.policy.quorum;
}

uint32_t
clu_min_replicas(const struct clu *c)
{
	uint32_t q = c->cfg.policy.quorum;

	return c->cfg.policy.strategy == RING_STRATEGY_STATIC_QUORUM && q > 1 ?
		q - 1 : 0;
}

uint8_t
clu_replicas_flag(const struct clu *c, uint8_t asked)
{
	uint32_t min = clu_min_replicas(c);

	if (asked == PROTO_REPLICAS_ALL || asked >= min)
		return asked;
	/* any non-zero value holds the answer; the count is clu_min_replicas */
	return (uint8_t)(min < PROTO_REPLICAS_ALL ? min : PROTO_REPLICAS_ALL - 1);
}

void
clu_tick(struct clu *c, uint64_t now)
{
	if (c->left)
		return;
	if (c->reconnect_ms != 0 && now >= c->reconnect_ms)
		reconnect(c, now);
	if (!c->ready && c->nseeds > 0 && now >= c->seek_ms)
		seek_seeds(c, now);
	mbr_tick(c->mbr, now);
	pump_membership(c, now);
	purge_due(c, now);
	hello_tick(c, now);
	lease_tick(c, now);
	if (!c->ready)
		clu_sync_ready_tick(c, now);
	else
		clu_verify_tick(c, now);	/* a takeover's */
	clu_repl_tick(c, now);
	clu_sync_tick(c, now);
	clu_fwd_tick(c, now);
}

void
clu_leave(struct clu *c, uint64_t now)
{
	if (c->left)
		return;
	mbr_leave(c->mbr, now);
	pump_membership(c, now);
	c->left = true;
}

/* ---- receive ---- */

/*
 * Replay detection: a bitmap of the last CLU_WIN_BITS sequence numbers of
 * the peer's current epoch (seq % BITS), as IPsec's anti-replay window.
 * A datagram seen before, or older than the window, is dropped. Slots
 * the top moves past are cleared on the way.
 */
static uint64_t *
window_word(struct clu_peer *p, uint64_t seq)
{
	return &p->rx_win[(seq / 64) % (CLU_WIN_BITS / 64)];
}

static bool
window_admit(struct clu_peer *p, uint64_t seq)
{
	uint64_t s;

	if (seq > p->rx_top) {
		if (seq - p->rx_top >= CLU_WIN_BITS)
			memset(p->rx_win, 0, sizeof(p->rx_win));
		else
			for (s = p->rx_top + 1; s < seq; s++)
				*window_word(p, s) &= ~(1ULL << (s % 64));
		p->rx_top = seq;
	} else if (p->rx_top - seq >= CLU_WIN_BITS ||
		   (*window_word(p, seq) >> (seq % 64) & 1)) {
		return false;
	}
	*window_word(p, seq) |= 1ULL << (seq % 64);
	return true;
}

static void
send_hello(struct clu *c, struct clu_peer *p, uint8_t flags)
{
	struct clu_wr w;

	if (clu_msg_begin(c, &w, CLU_T_HELLO, CLU_NO_PART) == NULL)
		return;
	w.p[5] |= flags;	/* header flags byte */
	clu_msg_send(c, &w, p);
}

/*
 * A later epoch of a member: it restarted, possibly faster than failure
 * detection noticed, so its streams in both directions start over and it
 * must sync before it may own names again (its ready flag says when).
 */
static void
peer_restarted(struct clu *c, struct clu_peer *p, uint64_t epoch,
		uint64_t now)
{
	bool was_ready = p->ready;

	if (p->epoch != 0 && clu_peer_serves(p)) {
		clu_verify_peer_reset(c, p);
		clu_repl_peer_up(c, p, now);
		p->ready = false;
		p->adopted = false;
		p->founder = false;
		p->announced = false;
	}
	p->epoch = epoch;
	p->rx_top = 0;
	memset(p->rx_win, 0, sizeof(p->rx_win));
	if (was_ready && !p->ready)
		clu_view_rebuild(c);
}

/*
 * Is an authentic datagram new? Epochs only move forward: one from an
 * older epoch of its sender, or meant for an older epoch of ours, is a
 * replay or a straggler and changes nothing; within an epoch the window
 * drops repeats. A datagram meant for a LATER epoch of ours means our
 * epoch source went back (a clock step): we move past it, or every peer
 * would drop us as stale.
 */
static bool
datagram_fresh(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		uint64_t now)
{
	if (h->dst_epoch > c->epoch && h->dst_epoch < CLU_EPOCH_MAX) {
		c->epoch = h->dst_epoch + 1;
		c->tx_seq = 0;
		c->st.epoch_bumps++;
		clock_from_epoch(c);
	}
	if (h->dst_epoch != 0 && h->dst_epoch != c->epoch) {
		c->st.rx_stale++;
		return false;
	}
	if (p == NULL)
		return true;
	if (h->epoch < p->epoch) {
		c->st.rx_stale++;
		if (now - p->stale_ms >= CLU_STALE_REPLY_MS) {
			p->stale_ms = now;
			send_hello(c, p, 0);	/* names the epoch we know */
		}
		return false;
	}
	if (h->epoch > p->epoch)
		peer_restarted(c, p, h->epoch, now);
	if (!window_admit(p, h->seq)) {
		c->st.rx_replayed++;
		return false;
	}
	p->heard_ms = now;
	return true;
}

/* What a datagram's header tells about its sender. */
static void
peer_noted(struct clu_peer *p, const struct clu_hdr *h)
{
	p->heard = true;
	p->cold = (h->flags & CLU_F_COLD) != 0;
}

/*
 * A member we held dead, and whose registrations we purged, is back and
 * ready. If it is the same life (no restart: a healed split, a false
 * death), its registrations come back with it, and until they are here
 * again we must not decide their names: a node that decided one would
 * answer ok for a name the member's client holds. So every partition is
 * verified again, with it; what is verified with the others stays. After
 * a restart its registrations are gone for good: nothing to wait for.
 */
static void
peer_unpurged(struct clu *c, struct clu_peer *p)
{
	if (p->purged_epoch != 0 && p->purged_epoch == p->epoch) {
		clu_verify_reopen(c);
		c->st.sync_unpurged++;
	}
	p->purged_epoch = 0;
}

/* The ready flag of a serving member: it may own names from now on. */
static void
peer_heard(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		uint64_t now)
{
	if ((h->flags & CLU_F_READY) && !p->ready) {
		p->ready = true;
		p->ready_ms = now;
		clu_view_rebuild(c);
		peer_unpurged(c, p);
	}
}

/* The member that sent h from src, if we know it at that address. */
static struct clu_peer *
sender_of(struct clu *c, const struct clu_hdr *h, const struct mbr_addr *src)
{
	struct clu_peer *p = clu_peer_by_id(c, h->sender);

	return p != NULL && p->addr.ip == src->ip ? p : NULL;
}

/*
 * Membership messages come from members and from nodes not known yet (a
 * JOIN). Freshness is judged by the sender's id whatever address it came
 * from (a replay from another address is still a replay); what it says
 * about the sender's address and readiness only from the address we know.
 */
static void
rx_member(struct clu *c, const struct clu_hdr *h, const struct mbr_addr *src,
		const uint8_t *body, size_t len, uint64_t now)
{
	struct clu_peer *p = clu_peer_by_id(c, h->sender);
	struct mbr_msg msg;

	if (h->part != CLU_NO_PART || mbr_decode(body, len, &msg) != 0) {
		c->st.rx_malformed++;
		return;
	}
	if (!datagram_fresh(c, p, h, now))
		return;
	mbr_receive(c->mbr, &msg, now);
	pump_membership(c, now);
	if (p == NULL && (p = clu_peer_by_id(c, h->sender)) != NULL) {
		/* a new member: this datagram starts its epoch's window */
		peer_restarted(c, p, h->epoch, now);
		window_admit(p, h->seq);
		p->heard_ms = now;
	}
	if ((p = sender_of(c, h, src)) == NULL)
		return;
	peer_noted(p, h);
	if (clu_peer_serves(p))
		peer_heard(c, p, h, now);
}

static void
rx_hello(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		size_t left, uint64_t now)
{
	if (p == NULL || left != 0) {
		c->st.rx_malformed++;
		return;
	}
	if (!datagram_fresh(c, p, h, now))
		return;
	peer_noted(p, h);
	if (clu_peer_serves(p))
		peer_heard(c, p, h, now);
	if (h->flags & CLU_F_ECHO)
		send_hello(c, p, 0);
}

/* Registry traffic: only from a serving member at its address, meant for
 * this epoch of ours, with our partitioning. */
static void
rx_registry(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		struct clu_rd *r, uint64_t now)
{
	if (p == NULL || !clu_peer_serves(p) || h->nparts != c->nparts ||
	    h->part >= c->nparts) {
		c->st.rx_malformed++;
		return;
	}
	if (h->dst_epoch != c->epoch) {
		c->st.rx_stale++;
		return;
	}
	if (!datagram_fresh(c, p, h, now))
		return;
	peer_noted(p, h);
	peer_heard(c, p, h, now);
	switch (h->type) {
	case CLU_T_BATCH:
		clu_repl_rx_batch(c, p, h, r, now);
		break;
	case CLU_T_ACK:
		clu_repl_rx_ack(c, p, h, r, now);
		break;
	case CLU_T_DIGEST:
		clu_sync_rx_digest(c, p, h, r, now);
		break;
	case CLU_T_REPAIR_REQ:
		clu_sync_rx_request(c, p, h, r);
		break;
	case CLU_T_REPAIR:
		clu_sync_rx_repair(c, p, h, r, now);
		break;
	case CLU_T_FWD:
		clu_fwd_rx(c, p, h, r, now);
		break;
	case CLU_T_READY:	/* its flags said it all */
		if (clu_rd_left(r) != 0)
			c->st.rx_malformed++;
		else {
			p->announced = true;
			p->founder = (h->flags & CLU_F_FOUNDER) != 0;
		}
		break;
	default:
		clu_fwd_rx_reply(c, p, h, r, now);
		break;
	}
}

bool
clu_receive(struct clu *c, const struct mbr_addr *src, const uint8_t *buf,
		size_t len, uint64_t now)
{
	uint64_t before = c->st.rx_malformed + c->st.rx_stale +
		c->st.rx_replayed;
	struct clu_hdr h;
	struct clu_rd r;
	size_t body;

	c->st.rx++;
	if (c->left)
		return false;
	clu_rd_init(&r, buf, len);
	if (!clu_hdr_get(&r, &h)) {
		c->st.rx_malformed++;
		return false;
	}
	if (!clu_open(c->keys, h.key_id, buf, len, &body)) {
		c->st.rx_auth_failed++;
		return false;
	}
	if (body < CLU_HDR_LEN || h.epoch == 0 || h.seq == 0) {
		c->st.rx_malformed++;	/* a tag where the header should end */
		return false;
	}
	r.len = body;
	if (h.type == CLU_T_MEMBER)
		rx_member(c, &h, src, buf + r.off, body - r.off, now);
	else if (h.type == CLU_T_HELLO)
		rx_hello(c, sender_of(c, &h, src), &h, body - r.off, now);
	else
		rx_registry(c, sender_of(c, &h, src), &h, &r, now);
	return c->st.rx_malformed + c->st.rx_stale + c->st.rx_replayed ==
		before;
}

/*
 * A member we have streams with but never heard directly (it came by
 * rumour): our datagrams cannot name its epoch, and it drops registry
 * traffic that does not. Ask it for a HELLO until it answers.
 */
static void
hello_tick(struct clu *c, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < c->npeers; i++) {
		struct clu_peer *p = &c->peer[i];

		if (!clu_peer_serves(p) || p->epoch != 0 || now < p->hello_ms)
			continue;
		p->hello_ms = now + CLU_HELLO_MS;
		send_hello(c, p, CLU_F_ECHO);
	}
}

/* ---- output queues ---- */

static void
hdr_init(struct clu *c, struct clu_wr *w, uint8_t *buf, size_t cap,
		uint8_t type, uint16_t part)
{
	struct clu_hdr h = {
		.type = type, .key_id = clu_keyring_primary_id(c->keys),
		.flags = c->ready ? CLU_F_READY :
			clu_knows_ready_peer(c) ? 0 : CLU_F_COLD,
		.part = part, .nparts = (uint16_t)c->nparts,
		.sender = c->cfg.node_id, .epoch = c->epoch,
	};

	clu_wr_init(w, buf, cap);
	clu_hdr_put(w, &h);
}

struct clu_wr *
clu_msg_begin(struct clu *c, struct clu_wr *w, uint8_t type, uint16_t part)
{
	struct clu_dgram *d;

	if (c->sq_len == c->cfg.send_queue) {
		c->st.tx_dropped++;
		return NULL;
	}
	d = &c->sendq[(c->sq_head + c->sq_len) % c->cfg.send_queue];
	hdr_init(c, w, d->buf, CLU_DGRAM_MAX - clu_keyring_tag_len(c->keys),
			type, part);
	return w;
}

void
clu_msg_init(struct clu *c, struct clu_wr *w, uint8_t *buf, uint8_t type,
		uint16_t part)
{
	hdr_init(c, w, buf, CLU_DGRAM_MAX - clu_keyring_tag_len(c->keys), type,
			part);
}

/*
 * Every datagram gets the next sequence number of our epoch when it is
 * sealed (so one held for a while is not out of its receiver's window),
 * and the receiver's epoch as we know it: a datagram meant for an earlier
 * life of the receiver is recognised there and dropped.
 */
static void
seal_queue(struct clu *c, struct clu_dgram *d, size_t len,
		const struct mbr_addr *dst, uint64_t dst_epoch)
{
	clu_hdr_set_dst(d->buf, dst_epoch, ++c->tx_seq);
	len = clu_seal(c->keys, d->buf, len, CLU_DGRAM_MAX);
	if (len == 0)
		return;
	d->len = (uint16_t)len;
	d->dst = *dst;
	c->sq_len++;
	c->st.tx++;
}

static uint64_t
epoch_at(const struct clu *c, const struct mbr_addr *a)
{
	uint32_t i;

	for (i = 0; i < c->npeers; i++)
		if (c->peer[i].used && c->peer[i].addr.ip == a->ip &&
		    c->peer[i].addr.port == a->port)
			return c->peer[i].epoch;
	return 0;
}

void
clu_msg_end(struct clu *c, struct clu_wr *w, const struct mbr_addr *dst)
{
	struct clu_dgram *d = &c->sendq[(c->sq_head + c->sq_len) %
			c->cfg.send_queue];

	if (!w->bad)
		seal_queue(c, d, w->len, dst, epoch_at(c, dst));
}

void
clu_msg_send(struct clu *c, struct clu_wr *w, const struct clu_peer *p)
{
	struct clu_dgram *d = &c->sendq[(c->sq_head + c->sq_len) %
			c->cfg.send_queue];

	if (!w->bad)
		seal_queue(c, d, w->len, &p->addr, p->epoch);
}

void
clu_msg_queue(struct clu *c, const uint8_t *buf, size_t len,
		const struct clu_peer *p)
{
	struct clu_dgram *d;

	if (c->sq_len == c->cfg.send_queue) {
		c->st.tx_dropped++;
		return;
	}
	d = &c->sendq[(c->sq_head + c->sq_len) % c->cfg.send_queue];
	memcpy(d->buf, buf, len);
	seal_queue(c, d, len, &p->addr, p->epoch);
}

size_t
clu_poll_send(struct clu *c, struct clu_dgram *out, size_t max)
{
	size_t n = 0;

	if (c->nfwdq > 0)
		clu_fwdq_close_all(c);
	while (n < max && c->sq_len > 0) {
		const struct clu_dgram *d = &c->sendq[c->sq_head];

		/* the bytes in use only: most datagrams are short */
		out[n].dst = d->dst;
		out[n].len = d->len;
		memcpy(out[n++].buf, d->buf, d->len);
		c->sq_head = (c->sq_head + 1) % c->cfg.send_queue;
		c->sq_len--;
	}
	return n;
}

void
clu_reply_push(struct clu *c, const uint8_t *tag, const uint8_t *buf,
		size_t len)
{
	struct clu_reply *r;

	if (c->rq_len == CLU_REPLY_QUEUE || len > PROTO_MAX_DGRAM) {
		c->st.tx_dropped++;
		return;
	}
	r = &c->replyq[(c->rq_head + c->rq_len++) % CLU_REPLY_QUEUE];
	memcpy(r->tag, tag, CLU_CLIENT_TAG);
	memcpy(r->buf, buf, len);
	r->len = (uint16_t)len;
}

size_t
clu_poll_reply(struct clu *c, struct clu_reply *out, size_t max)
{
	size_t n = 0;

	while (n < max && c->rq_len > 0) {
		const struct clu_reply *r = &c->replyq[c->rq_head];

		memcpy(out[n].tag, r->tag, CLU_CLIENT_TAG);
		out[n].len = r->len;
		memcpy(out[n++].buf, r->buf, r->len);
		c->rq_head = (c->rq_head + 1) % CLU_REPLY_QUEUE;
		c->rq_len--;
	}
	return n;
}

/* ---- queries ---- */

bool
clu_writable(const struct clu *c)
{
	return c->ring != NULL && ring_has_owner(c->ring) && !c->left &&
		(c->cfg.policy.strategy != RING_STRATEGY_STATIC_QUORUM ||
		 c->lease);
}

/*
 * When a client should ask again after not_ready: soon while the node is
 * looking for peers (a cold start ends one round trip after the last seed
 * answers), a little later while a sync is running.
 */
uint32_t
clu_retry_hint_ms(const struct clu *c, uint64_t now)
{
	uint64_t left;

	if (c->ready)
		return 0;
	if (clu_knows_ready_peer(c))
		return CLU_SYNC_RETRY_MS;
	left = c->ready_deadline > now ? c->ready_deadline - now : 0;
	return left < CLU_JOIN_RETRY_MIN_MS ? CLU_JOIN_RETRY_MIN_MS :
		left > CLU_SYNC_RETRY_MS ? CLU_SYNC_RETRY_MS : (uint32_t)left;
}

void
clu_readiness(const struct clu *c, uint64_t now, struct proto_readiness *out)
{
	uint32_t part, synced = 0;

	for (part = 0; part < c->nparts; part++)
		synced += !c->part[part].verifying;
	memset(out, 0, sizeof(*out));
	out->partitions = (uint16_t)c->nparts;
	out->alive = (uint16_t)clu_alive(c);
	out->owners = (uint16_t)clu_ring_nodes(c);
	if (c->ready && synced < c->nparts) {
		/* verifying after becoming ready, or after a takeover: reads
		 * are served, writes of those partitions wait */
		out->synced = (uint16_t)synced;
		out->state = PROTO_READY_SYNCING;
		out->retry_after_ms = CLU_SYNC_RETRY_MS;
		return;
	}
	if (c->ready) {
		out->synced = out->partitions;
		out->state = clu_writable(c) ? PROTO_READY_SERVING :
			PROTO_READY_NO_OWNER;
		return;
	}
	out->synced = (uint16_t)synced;
	out->state = clu_knows_ready_peer(c) ? PROTO_READY_SYNCING :
		PROTO_READY_JOINING;
	out->retry_after_ms = clu_retry_hint_ms(c, now);
}

bool
clu_ready(const struct clu *c)
{
	return c->ready;
}

const char *
clu_ready_how(const struct clu *c)
{
	return c->ready ? c->ready_how : "not ready";
}

size_t
clu_ring_nodes(const struct clu *c)
{
	return c->ring != NULL && ring_has_owner(c->ring) ?
		ring_node_count(c->ring) : 0;
}

size_t
clu_alive(const struct clu *c)
{
	return mbr_alive_count(c->mbr);
}

uint32_t
clu_owner_of(const struct clu *c, uint64_t hash)
{
	uint32_t id;

	if (!clu_writable(c))
		return 0;
	id = ring_lookup(c->ring, hash);
	return id == RING_NO_NODE ? 0 : id;
}

bool
clu_idle(const struct clu *c)
{
	return clu_repl_idle(c) && clu_sync_idle(c) && c->sq_len == 0;
}

void
clu_get_stats(const struct clu *c, struct clu_stats *out)
{
	*out = c->st;
}

const struct mbr *
clu_member(const struct clu *c)
{
	return c->mbr;
}
