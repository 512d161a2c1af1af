/*
 * swd_cluster.c - swarmd's driver of lib/cluster (docs/cluster.md).
 *
 * Cluster mode is on when the configuration names seeds or a cluster key.
 * Then worker 0 runs the node's struct clu and is the single writer of
 * every partition: the cluster's replication and repair apply changes to
 * any partition, and one writer per partition is the tracker's rule. The
 * other workers still answer reads from every partition and hand writes
 * to worker 0 over the forward rings (swd_fwd.c), and they pass gossip and
 * ARP replies they happen to receive to worker 0 over its gossip ring.
 *
 * Worker 0, each loop iteration: drains its gossip ring, ticks the node
 * (at most once per millisecond), and puts the node's outputs on the
 * wire: gossip datagrams as UDP frames from our gossip port (the MAC of
 * the next hop - the peer, or the gateway for a peer off the subnet - from
 * the neighbor table; a miss sends one ARP request per address per 100 ms
 * and drops the datagram: membership retries anyway), client replies back
 * to the client recorded in the request's tag.
 */
#include <inttypes.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "swd.h"

#define GOSSIP_RING	4096
#define ARP_EVERY_MS	100
#define ARP_WAIT_MAX	64	/* gossip datagrams held for an ARP answer */
#define ARP_WAIT_MS	1000	/* then dropped (membership resends) */
#define ARP_ANSWER_MS	1000	/* a reply later than this was not asked for */

/*
 * A gossip datagram whose next hop's MAC is not known yet waits here for
 * the ARP reply, as a kernel holds packets on an unresolved neighbour:
 * dropping it instead would lose every node's first JOIN after a start
 * (nobody knows anybody's MAC yet) and cost a whole reconnect period.
 */
struct arp_wait {
	bool used;
	rte_be32_t hop;
	uint64_t since;
	struct clu_dgram d;
};

_Static_assert(sizeof(struct net_pkt) <= CLU_CLIENT_TAG,
		"a client's address must fit a cluster request tag");

/*
 * What other lcores may know of the cluster node: worker 0 copies it out
 * after each tick (at most once per ms) under a sequence count, and every
 * other reader (the telemetry thread, STATS, STATUS and READINESS on any
 * worker) copies it back, retrying while a copy was being written. Nothing
 * but worker 0 ever touches struct clu itself: its ring and member tables
 * are freed and rebuilt by worker 0 at any time.
 */
struct swd_cluster_snap {
	struct swd_cluster_stats st;
	struct clu_stats cs;
	struct proto_readiness rd;
	uint64_t at_ms;			/* when it was taken */
	size_t alive, ring_nodes;
};

struct swd_cluster {
	struct clu *clu;
	uint32_t snap_seq;		/* odd while worker 0 writes snap */
	struct swd_cluster_snap snap;
	bool ready;			/* clu_ready(), for any lcore */
	struct proto_readiness logged;	/* the view view_log last saw */
	uint64_t unserving_ms;		/* when it stopped serving writes */
	struct clu_keyring keys;
	struct net_neigh neigh;
	struct rte_ring *rx;		/* mbufs for worker 0 */
	struct mbr_addr seeds[SWD_SEEDS_MAX];
	uint32_t nseeds;
	bool joined;
	uint64_t last_tick;
	struct clu_dgram dg[32];
	struct clu_reply rp[32];
	struct arp_wait aw[ARP_WAIT_MAX];
	uint32_t naw;			/* used slots of aw */
	struct swd_cluster_stats st;
};

static uint64_t
wall_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/*
 * Worker 0, once ready: one log line whenever the members alive, the ring
 * or the readiness state change, so that an operator (and a failed test)
 * can tell when a node took over names and how long it verified them.
 */
static void
view_log(struct swd_cluster *k, uint64_t now)
{
	const struct proto_readiness *was = &k->logged, *rd = &k->snap.rd;
	char more[64] = "";

	if (rd->alive == was->alive && rd->owners == was->owners &&
	    rd->state == was->state)
		return;
	if (rd->state != PROTO_READY_SERVING && was->state == PROTO_READY_SERVING)
		k->unserving_ms = now;
	if (rd->state == PROTO_READY_SYNCING)
		snprintf(more, sizeof(more), " (%u of %u partitions verified)",
			rd->synced, rd->partitions);
	else if (rd->state == PROTO_READY_SERVING &&
		 was->state != PROTO_READY_SERVING)
		snprintf(more, sizeof(more), " after %" PRIu64 " ms without serving writes",
			now - k->unserving_ms);
	swd_log(SWD_LOG_INFO, "swarmd: cluster at %" PRIu64 " ms: %u members "
		"alive, %u owning names, %s%s\n", now - swd.node.start_ms,
		rd->alive, rd->owners, proto_ready_state_name(rd->state), more);
}

/* Worker 0: publish what other lcores may read (see swd_cluster_snap). */
static void
snap_publish(struct swd_cluster *k, uint64_t now)
{
	uint32_t seq = k->snap_seq;

	__atomic_store_n(&k->snap_seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	k->snap.st = k->st;
	clu_get_stats(k->clu, &k->snap.cs);
	clu_readiness(k->clu, now, &k->snap.rd);
	k->snap.alive = clu_alive(k->clu);
	k->snap.ring_nodes = clu_ring_nodes(k->clu);
	k->snap.at_ms = now;
	__atomic_store_n(&k->snap_seq, seq + 2, __ATOMIC_RELEASE);
	if (!k->ready && clu_ready(k->clu)) {
		k->unserving_ms = now;	/* it may verify once more */
		swd_log(SWD_LOG_INFO, "swarmd: ready (%s) %" PRIu64 " ms after "
			"the start; %u members alive, %u owning names\n",
			clu_ready_how(k->clu), now - swd.node.start_ms,
			k->snap.rd.alive, k->snap.rd.owners);
	} else if (k->ready) {
		view_log(k, now);
	}
	k->logged = k->snap.rd;
	__atomic_store_n(&k->ready, clu_ready(k->clu), __ATOMIC_RELEASE);
}

/* Any lcore: a consistent copy of the last snapshot. */
static void
snap_read(const struct swd_cluster *k, struct swd_cluster_snap *out)
{
	uint32_t s0, s1;

	do {
		while ((s0 = __atomic_load_n(&k->snap_seq, __ATOMIC_ACQUIRE)) & 1)
			rte_pause();
		memcpy(out, &k->snap, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s1 = __atomic_load_n(&k->snap_seq, __ATOMIC_RELAXED);
	} while (s0 != s1);
}

bool
swd_cluster_wanted(const struct swd_config *cfg)
{
	return cfg->seeds_count > 0 || cfg->has_cluster_key;
}

int
swd_cluster_init(struct swd_ctx *c, const struct swd_config *cfg)
{
	struct swd_cluster *k = calloc(1, sizeof(*k));
	struct clu_config cc;
	uint32_t i;

	if (k == NULL)
		return -1;
	c->cl = k;
	if (clu_keyring_init(&k->keys, cfg->has_cluster_key ?
			cfg->cluster_key : NULL,
			(const uint8_t (*)[CLU_KEY_LEN])cfg->cluster_keys_accepted,
			cfg->cluster_keys_accepted_count) != 0)
		return -1;
	clu_config_default(&cc);
	cc.node_id = cfg->node_id;
	cc.name = cfg->node_name;
	cc.name_len = strlen(cfg->node_name);
	cc.addr.ip = cfg->ip;
	cc.addr.port = cfg->gossip_port;
	/* a restart must come back with a higher incarnation */
	cc.incarnation = wall_ms();
	cc.seed = rte_get_tsc_cycles() ^ ((uint64_t)getpid() << 32) ^ wall_ms();
	cc.mbr.probe_interval = cfg->probe_interval_ms;
	cc.mbr.probe_timeout = cfg->probe_timeout_ms;
	cc.mbr.suspicion_mult = (uint8_t)cfg->suspicion_mult;
	cc.fwd_timeout_ms = cfg->fwd_timeout_ms;
	cc.repl_rto_ms = cfg->repl_rto_ms;
	cc.ae_interval_ms = cfg->ae_interval_ms;
	cc.policy.strategy = cfg->strategy;
	cc.policy.quorum = cfg->static_quorum_size;
	cc.policy.vnodes = cfg->vnodes;
	cc.policy.filter = cfg->filter;
	cc.keys = &k->keys;
	k->clu = clu_create(&cc, c->trk, &c->node, swd_now_ms(c));
	k->rx = rte_ring_create("swd_gossip", GOSSIP_RING,
			(int)rte_socket_id(), RING_F_SC_DEQ);
	if (k->clu == NULL || k->rx == NULL)
		return -1;
	for (i = 0; i < cfg->seeds_count; i++) {
		k->seeds[i].ip = cfg->seeds[i].ip;
		k->seeds[i].port = cfg->seeds[i].port;
	}
	k->nseeds = cfg->seeds_count;
	c->prm.ifc.udp_port_extra[0] = cfg->gossip_port;
	snap_publish(k, swd_now_ms(c));
	return 0;
}

/* Worker 0, online, on the way out: announce the leave, send it, free. */
void
swd_cluster_stop(struct swd_worker *w, uint64_t now)
{
	struct swd_cluster *k = swd.cl;

	if (k == NULL || k->clu == NULL)
		return;
	clu_leave(k->clu, now);
	swd_cluster_flush(w, now);
}

void
swd_cluster_free(struct swd_ctx *c)
{
	struct swd_cluster *k = c->cl;
	void *m;

	if (k == NULL)
		return;
	while (k->rx != NULL && rte_ring_dequeue(k->rx, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(k->rx);
	clu_destroy(k->clu);
	free(k);
	c->cl = NULL;
}

/* ---- input ---- */

static void
gossip_in(struct swd_cluster *k, const uint8_t *frame,
		const struct net_pkt *pkt, uint64_t now)
{
	struct mbr_addr src = { rte_be_to_cpu_32(pkt->src_ip), pkt->src_port };

	/* learn (confirm) the MAC of the sender's next hop only from a
	 * datagram that proved to be its (authentic and new): the sender's
	 * own on our subnet, the gateway's for a peer beyond it. The node's
	 * answers are sent after this. */
	if (clu_receive(k->clu, &src, frame + pkt->payload_off,
			pkt->payload_len, now))
		net_neigh_learn(&k->neigh, net_next_hop(&swd.prm.ifc,
				pkt->src_ip), &pkt->src_mac, now);
	k->st.gossip_rx++;
}

static void
arp_in(struct swd_cluster *k, const uint8_t *frame, size_t len, uint64_t now)
{
	struct rte_ether_addr mac;
	rte_be32_t ip;

	/* only the first reply to a request of ours, and only until gossip
	 * confirms it: unsolicited ARP is forgeable (lib/net/net_neigh.c) */
	if (net_arp_learn(frame, len, &swd.prm.ifc, &ip, &mac) &&
	    net_arp_is_reply_to(frame, len, &swd.prm.ifc))
		net_neigh_answered(&k->neigh, ip, &mac, now, ARP_ANSWER_MS);
}

bool
swd_cluster_take(struct swd_worker *w, struct rte_mbuf *m,
		const struct net_pkt *pkt, enum net_verdict v, uint64_t now)
{
	struct swd_cluster *k = swd.cl;
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	bool gossip = v == NET_V_UDP &&
		pkt->dst_port == swd.prm.ifc.udp_port_extra[0];
	bool arp = v == NET_V_ARP_REPLY || (v == NET_V_DROP &&
		(pkt->drop == NET_DROP_ARP_OP ||
		 pkt->drop == NET_DROP_ARP_NOT_US));

	if (k == NULL || (!gossip && !arp))
		return false;
	if (w->index != 0) {
		if (v == NET_V_ARP_REPLY)
			return false;	/* answered here; worker 0 learns later */
		if (rte_ring_mp_enqueue(k->rx, m) != 0) {
			k->st.handoff_full++;
			rte_pktmbuf_free(m);
		}
		return true;
	}
	if (arp) {
		arp_in(k, frame, m->data_len, now);
		return v != NET_V_ARP_REPLY ? (rte_pktmbuf_free(m), true) :
			false;
	}
	gossip_in(k, frame, pkt, now);
	rte_pktmbuf_free(m);
	return true;
}

/* Worker 0: frames other workers handed over. */
static unsigned int
drain_handoff(struct swd_cluster *k, uint64_t now)
{
	void *ms[SWD_MAX_BURST];
	unsigned int n, i;

	n = rte_ring_sc_dequeue_burst(k->rx, ms, SWD_MAX_BURST, NULL);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = ms[i];
		const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
		struct net_pkt pkt;

		if (net_classify(frame, m->data_len, &swd.prm.ifc, false,
				false, &pkt) == NET_V_UDP)
			gossip_in(k, frame, &pkt, now);
		else
			arp_in(k, frame, m->data_len, now);
		rte_pktmbuf_free(m);
	}
	return n;
}

void
swd_cluster_request(const struct net_pkt *pkt, const uint8_t *req,
		size_t len, const uint16_t *map, size_t map_len,
		const struct exec_budget *budget, uint64_t now)
{
	uint8_t tag[CLU_CLIENT_TAG] = { 0 };
	struct exec_budget own;

	if (budget == NULL) {
		swd_budget(pkt, len, now, &own);
		budget = &own;
	}
	memcpy(tag, pkt, sizeof(*pkt));
	clu_request_mapped(swd.cl->clu, tag, req, len, map, map_len, budget,
			now);
}

/* ---- output ---- */

static void
arp_hold(struct swd_cluster *k, rte_be32_t hop, const struct clu_dgram *d,
		uint64_t now)
{
	uint32_t i;

	for (i = 0; i < ARP_WAIT_MAX; i++) {
		struct arp_wait *a = &k->aw[i];

		if (a->used)
			continue;
		a->used = true;
		a->hop = hop;
		a->since = now;
		a->d = *d;
		k->naw++;
		return;
	}
	k->st.gossip_no_neigh++;	/* no room: dropped */
}

static void gossip_out(struct swd_worker *w, struct swd_cluster *k,
		const struct clu_dgram *d, uint64_t now);

/* Worker 0: send what waited for a MAC we now know; drop what waited
 * too long. */
static void
arp_release(struct swd_worker *w, struct swd_cluster *k, uint64_t now)
{
	struct rte_ether_addr mac;
	struct clu_dgram d;
	uint32_t i;

	for (i = 0; i < ARP_WAIT_MAX && k->naw > 0; i++) {
		struct arp_wait *a = &k->aw[i];

		if (!a->used)
			continue;
		if (net_neigh_lookup(&k->neigh, a->hop, &mac, now)) {
			d = a->d;
			a->used = false;
			k->naw--;
			gossip_out(w, k, &d, now);
		} else if (now - a->since >= ARP_WAIT_MS) {
			a->used = false;
			k->naw--;
			k->st.gossip_no_neigh++;
		}
	}
}

static void
gossip_out(struct swd_worker *w, struct swd_cluster *k,
		const struct clu_dgram *d, uint64_t now)
{
	rte_be32_t dst = rte_cpu_to_be_32(d->dst.ip);
	rte_be32_t hop = net_next_hop(&swd.prm.ifc, dst);
	struct rte_ether_addr mac;
	struct rte_mbuf *m;
	size_t len;

	if (!net_neigh_lookup(&k->neigh, hop, &mac, now)) {
		arp_hold(k, hop, d, now);
		if (!net_neigh_want(&k->neigh, hop, now, ARP_EVERY_MS) ||
		    (m = rte_pktmbuf_alloc(swd.pool)) == NULL)
			return;
		len = net_arp_request(rte_pktmbuf_mtod(m, uint8_t *),
				rte_pktmbuf_tailroom(m), &swd.prm.ifc, hop);
		m->data_len = (uint16_t)len;
		m->pkt_len = (uint32_t)len;
		k->st.arp_requests++;
		swd_tx_queue(w, m);
		return;
	}
	if ((m = rte_pktmbuf_alloc(swd.pool)) == NULL) {
		w->stats.mbuf_alloc_failed++;
		return;
	}
	len = net_build_udp_frame_ol(rte_pktmbuf_mtod(m, uint8_t *),
			rte_pktmbuf_tailroom(m), &swd.prm.ifc.mac, &mac,
			swd.prm.ifc.ip, dst, swd.prm.ifc.udp_port_extra[0],
			d->dst.port, d->buf, d->len, swd.tx_udp_cksum);
	if (len == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (swd.tx_udp_cksum)
		swd_tx_udp_cksum(m);
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	k->st.gossip_tx++;
	swd_tx_queue(w, m);
}

void
swd_cluster_flush(struct swd_worker *w, uint64_t now)
{
	struct swd_cluster *k = swd.cl;
	size_t n, i;

	while ((n = clu_poll_send(k->clu, k->dg, RTE_DIM(k->dg))) > 0)
		for (i = 0; i < n; i++)
			gossip_out(w, k, &k->dg[i], now);
	while ((n = clu_poll_reply(k->clu, k->rp, RTE_DIM(k->rp))) > 0) {
		for (i = 0; i < n; i++) {
			struct net_pkt pkt;

			memcpy(&pkt, k->rp[i].tag, sizeof(pkt));
			swd_send_one(w, &pkt, k->rp[i].buf, k->rp[i].len);
		}
	}
}

unsigned int
swd_cluster_poll(struct swd_worker *w, uint64_t now)
{
	struct swd_cluster *k = swd.cl;
	unsigned int n;

	if (!k->joined) {
		clu_join(k->clu, k->seeds, k->nseeds, now);
		k->joined = true;
	}
	n = drain_handoff(k, now);
	if (now != k->last_tick) {
		clu_tick(k->clu, now);
		k->last_tick = now;
		snap_publish(k, now);
	}
	if (k->naw > 0)
		arp_release(w, k, now);
	swd_cluster_flush(w, now);
	return n;
}

void
swd_cluster_stats(struct swd_cluster_stats *out, struct clu_stats *cs,
		size_t *alive, size_t *ring_nodes)
{
	struct swd_cluster *k = swd.cl;
	struct swd_cluster_snap sn;

	memset(out, 0, sizeof(*out));
	memset(cs, 0, sizeof(*cs));
	*alive = *ring_nodes = 0;
	if (k == NULL)
		return;
	snap_read(k, &sn);
	*out = sn.st;
	*cs = sn.cs;
	*alive = sn.alive;
	*ring_nodes = sn.ring_nodes;
}

bool
swd_cluster_ready(void)
{
	return swd.cl == NULL || __atomic_load_n(&swd.cl->ready,
			__ATOMIC_ACQUIRE);
}

void
swd_cluster_readiness(void *arg, uint64_t now, struct proto_readiness *out)
{
	struct swd_cluster_snap sn;

	RTE_SET_USED(arg);
	if (swd.cl == NULL)
		return;	/* keep exec's "serving" */
	snap_read(swd.cl, &sn);
	*out = sn.rd;
	/* the hint counts from the snapshot: a millisecond or so ago */
	if (out->retry_after_ms > 0 && now > sn.at_ms &&
	    out->retry_after_ms > now - sn.at_ms + CLU_JOIN_RETRY_MIN_MS)
		out->retry_after_ms -= (uint32_t)(now - sn.at_ms);
}
