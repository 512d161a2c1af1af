/*
 * swd.h - swarmd's shared state: the port, the worker lcores, who owns
 * which partition, and the per-lcore counters.
 *
 * Lcore roles: every lcore given to EAL with -l is a worker, the main lcore
 * included (a 2-core gateway can then run one worker per core). Worker w
 * polls rx/tx queue w of the port, and owns partitions p with p % W == w:
 * it is their only writer. Any worker answers lookups from any partition
 * under RCU. A request datagram's writes for partitions owned by another
 * worker are re-encoded into a smaller request and handed to that worker
 * over its forward ring (rte_ring, multi-producer / single-consumer); the
 * owner answers them to the client directly under their original op
 * indexes, which the protocol allows (replies of one request may arrive in
 * several datagrams).
 *
 * What one lcore may read of another's state (the rule for any new code):
 *  - the registry: any lcore, under RCU (QSBR), through lib/tracker;
 *  - per-worker counters (struct swd_stats) and the tracker's counters:
 *    written by their owner only, read by others without a lock as
 *    naturally aligned 64-bit loads (a little stale, never torn);
 *  - the cluster node (struct clu: ring, members, streams): worker 0
 *    only. Other lcores read the snapshot worker 0 publishes after each
 *    tick (swd_cluster_stats, swd_cluster_ready, swd_cluster_readiness)
 *    and hand frames to it over its gossip ring; the ring and member
 *    tables are freed and rebuilt by worker 0 at any time;
 *  - configuration and part_owner: written before the lcores start,
 *    read-only afterwards.
 */
#ifndef SWD_H
#define SWD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "clu.h"
#include "exec.h"
#include "net.h"
#include "swd_config.h"
#include "tracker.h"

#define SWD_MAX_WORKERS		RTE_MAX_LCORE
#define SWD_MAX_BURST		64
#define SWD_FWD_RING_SIZE	1024

/* Counters of one worker lcore; written by it only, read by telemetry. */
struct swd_stats {
	uint64_t rx_pkts;
	uint64_t tx_pkts;
	uint64_t tx_dropped;		/* tx queue full */
	uint64_t requests;		/* request datagrams executed here */
	uint64_t replies;		/* reply datagrams sent */
	uint64_t shed;			/* requests answered overloaded unexecuted
					 * while behind (swd_shed.c) */
	uint64_t arp_replies;
	uint64_t icmp_replies;
	uint64_t drops[NET_DROP__MAX];
	uint64_t proto_dropped;		/* not ours to answer (lib/exec) */
	uint64_t multi_seg;		/* frames in several segments: dropped */
	uint64_t op_status[16];		/* reply ops by protocol status */
	uint64_t fwd_out;		/* sub-requests forwarded to owners */
	uint64_t fwd_in;		/* sub-requests executed for others */
	uint64_t fwd_ring_full;		/* forwards refused: answered overloaded */
	uint64_t mbuf_alloc_failed;
	uint64_t expired;		/* leases reclaimed */
	uint64_t polls;
	uint64_t idle_polls;		/* polls that found nothing */
	uint64_t sleeps;
	uint64_t shed_level;		/* gauges of swd_shed.c: level now, */
	uint64_t shed_armed;		/* 1 while it may shed, */
	uint64_t shed_hint_ms;		/* the retry hint now */
} __rte_cache_aligned;

/* An IPv4 network, host order: a matches when (a & mask) == net. */
struct swd_net {
	uint32_t net, mask;
};

/* Static configuration of the data plane, filled from swd_config. */
struct swd_params {
	uint16_t port_id;
	struct net_if_cfg ifc;
	uint32_t burst;
	uint64_t tx_drain_us;
	enum swd_idle_policy idle;
	uint32_t idle_pause_polls;
	uint32_t idle_sleep_us;
	uint64_t lease_sweep_ms;
	uint64_t stats_interval_ms;	/* worker 0's counter line; 0 = off */
	enum swd_log_level log_level;
	uint16_t rx_desc, tx_desc;
	uint32_t mbufs;
	/*
	 * The reply byte budget of sources outside trusted (trusted_clients,
	 * the subnet of ip resolved): see swd_budget(). false: none for
	 * anybody (a data plane set up without a configuration).
	 */
	bool budget_untrusted;
	uint32_t ntrusted;
	struct swd_net trusted[SWD_TRUSTED_MAX + 1];
};

/* Frames waiting for the next tx burst of one worker (swd_tx.c). */
struct swd_txq {
	struct rte_mbuf *m[SWD_MAX_BURST];
	uint16_t n;
	uint64_t drain_tsc;		/* tx_drain_us in TSC cycles */
	uint64_t last_tsc;		/* the last timed drain */
};

/*
 * One worker lcore's own state (DPDK's per-lcore conf): only it writes.
 * Cache-aligned, so that the tx buffer at the start of one worker's and
 * the counters at the end of its neighbour's in the workers array never
 * share a line (allocate the array with swd_workers_alloc()).
 */
struct swd_worker {
	unsigned int lcore_id;
	uint16_t queue;			/* rx/tx queue index == worker index */
	uint16_t index;
	struct swd_txq txq;
	struct rte_ring *fwd;		/* sub-requests for this worker */
	struct exec_out *out;		/* reply scratch (large: heap) */
	struct swd_fwd *fwd_state;	/* forwarding scratch (swd_fwd.c) */
	struct swd_stats stats;
} __rte_cache_aligned;

struct swd_ctx {
	struct swd_params prm;
	struct exec_node node;
	struct trk *trk;
	struct rte_mempool *pool;
	struct rte_mempool *fwd_pool;	/* forwarded sub-requests */
	uint32_t nworkers;
	struct swd_worker *workers;	/* nworkers */
	uint16_t part_owner[TRK_MAX_PARTS];	/* partition -> worker index */
	uint64_t tsc_hz;
	bool tx_udp_cksum;		/* the port finishes UDP checksums */
	struct swd_cluster *cl;		/* NULL: a standalone node */
	volatile bool quit;
};

/* Counters of the cluster driver (worker 0). */
struct swd_cluster_stats {
	uint64_t gossip_rx;		/* gossip datagrams handed to the node */
	uint64_t gossip_tx;		/* gossip frames sent */
	uint64_t gossip_no_neigh;	/* gossip dropped: peer MAC still
					 * unknown after ARP_WAIT_MS */
	uint64_t arp_requests;		/* ARP requests we sent */
	uint64_t handoff_full;		/* frames lost: gossip ring full */
};

extern struct swd_ctx swd;

/* swd_core.c: the context; messages at or above log_level (warnings and
 * errors to stderr, the rest to stdout, flushed); the ms clock. Any thread. */
bool swd_log_on(enum swd_log_level level);
void swd_log(enum swd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint64_t swd_now_ms(const struct swd_ctx *c);
/* n zeroed, cache-aligned workers (free() them), or NULL. */
struct swd_worker *swd_workers_alloc(uint32_t n);

/* swd_port.c: mempool and port set-up, one rx/tx queue per worker. */
int swd_port_init(struct swd_ctx *c);
void swd_port_close(struct swd_ctx *c);

/* swd_worker.c: the lcore loop (rte_eal_remote_launch entry point). */
int swd_worker_main(void *arg);

/* swd_fwd.c: splitting a request between workers. */
struct swd_fwd;
int swd_fwd_init(struct swd_ctx *c);
void swd_fwd_free(struct swd_ctx *c);
/* Executes a request on worker w, forwarding foreign writes; the reply
 * budget follows from the client's address (swd_budget). */
void swd_fwd_execute(struct swd_worker *w, const struct net_pkt *pkt,
		struct rte_mbuf *m, const uint8_t *req, size_t len,
		uint64_t now);
/* Executes up to a burst of sub-requests other workers sent to w. */
uint16_t swd_fwd_serve(struct swd_worker *w, uint64_t now);

/*
 * swd_budget.c: the reply budget of a request of len bytes from pkt's
 * source at time now into *b: none (zeroed) for a trusted source; else
 * EXEC_AMP x len bytes and the source's cursor tags (a keyed hash of its
 * address and the 65.5 s period, the current and the previous one). Any
 * worker, once swd_budget_init() drew the key (at start-up).
 */
int swd_budget_init(void);
void swd_budget(const struct net_pkt *pkt, size_t len, uint64_t now,
		struct exec_budget *b);

/*
 * swd_tx.c, the worker that owns w only: its tx buffer (init at the start
 * of its loop; flush; flush when the drain timer expired at tsc; queue a
 * frame), the reply datagrams of out to the client of pkt (the first in
 * reuse, the request's mbuf, if not NULL), and one reply datagram.
 */
void swd_tx_init(struct swd_worker *w);
void swd_tx_flush(struct swd_worker *w);
void swd_tx_drain(struct swd_worker *w, uint64_t tsc);
void swd_tx_queue(struct swd_worker *w, struct rte_mbuf *m);
/* Any thread: marks a frame whose UDP checksum field holds the pseudo-
 * header sum for the port to finish (call only when swd.tx_udp_cksum). */
void swd_tx_udp_cksum(struct rte_mbuf *m);
/* Builds the reply frame of dgram to pkt's client in m (reset or fresh)
 * and queues it. */
void swd_tx_reply(struct swd_worker *w, struct rte_mbuf *m,
		const struct net_pkt *pkt, const uint8_t *dgram, size_t len);
void swd_send_replies(struct swd_worker *w, const struct net_pkt *pkt,
		struct rte_mbuf *reuse, const struct exec_out *out);
void swd_send_one(struct swd_worker *w, const struct net_pkt *pkt,
		const uint8_t *dgram, size_t len);

/* swd_cluster.c: cluster mode (worker 0 runs lib/cluster). */
struct swd_cluster;
bool swd_cluster_wanted(const struct swd_config *cfg);
int swd_cluster_init(struct swd_ctx *c, const struct swd_config *cfg);
void swd_cluster_free(struct swd_ctx *c);
/* Any worker: true when the frame was cluster traffic and is consumed
 * (or, for an ARP request, learned from and still to be answered: false). */
bool swd_cluster_take(struct swd_worker *w, struct rte_mbuf *m,
		const struct net_pkt *pkt, enum net_verdict v, uint64_t now);
/* Worker 0 only. A client request (map NULL; budget NULL: derived from
 * the client's address), or a sub-request another worker split off one (op
 * i answered under index map[i]; budget: the sub-request's). */
void swd_cluster_request(const struct net_pkt *pkt, const uint8_t *req,
		size_t len, const uint16_t *map, size_t map_len,
		const struct exec_budget *budget, uint64_t now);
unsigned int swd_cluster_poll(struct swd_worker *w, uint64_t now);
void swd_cluster_flush(struct swd_worker *w, uint64_t now);
void swd_cluster_stop(struct swd_worker *w, uint64_t now);
/*
 * Any thread: the snapshot worker 0 publishes after each tick (at most a
 * millisecond old). These, and swd_cluster_take's hand-off ring, are the
 * only ways another lcore learns about the cluster node: struct clu is
 * worker 0's alone (its ring and tables are rebuilt and freed at any time).
 */
void swd_cluster_stats(struct swd_cluster_stats *out, struct clu_stats *cs,
		size_t *alive, size_t *ring_nodes);
/* True for a standalone node, or once the cluster node holds the registry. */
bool swd_cluster_ready(void);
/* exec_node.readiness of a cluster node (READINESS on any worker). */
void swd_cluster_readiness(void *arg, uint64_t now,
		struct proto_readiness *out);

/* swd_telemetry.c */
int swd_telemetry_init(void);
void swd_stats_sum(struct swd_stats *sum);
/* exec_node.stats for the STATS op: the counters of /swarm/stats,
 * /swarm/ops ("ops.<status>") and /swarm/drops ("drop.<reason>"). */
int swd_stats_counters(void *arg, const char **names, uint64_t *values,
		size_t max);
void swd_print_stats(FILE *f);

/*
 * swd_port.c: the port's own counters, sampled by worker 0 every
 * SWD_PORT_SAMPLE_MS (never per packet): rte_eth_stats_get(), and for a
 * net_af_packet port the kernel's drops on the PMD's sockets
 * (PACKET_STATISTICS), which DPDK 22.11's af_packet PMD reports nowhere.
 * Written by worker 0 only; read by any thread (whole 64-bit values).
 */
#define SWD_PORT_SAMPLE_MS	5
struct swd_port_stats {
	uint64_t ipackets, opackets;
	uint64_t imissed;		/* ethdev: rx queue full (NIC) */
	uint64_t ierrors, oerrors;
	uint64_t rx_nombuf;		/* ethdev: no mbuf for a received frame */
	uint64_t afp_drops;		/* af_packet: kernel rx ring full */
	uint64_t afp_sockets;		/* af_packet sockets read; 0: other PMD */
	uint64_t samples;
	uint64_t sampled_ms;		/* swd_now_ms() of the last sample */
};
/* Worker 0: reads the port's counters into the shared snapshot. */
void swd_port_sample(struct swd_ctx *c, uint64_t now);
/* Any thread: the last snapshot. */
void swd_port_stats_get(struct swd_port_stats *out);
/* Any thread: frames lost because the port's receive queues were full
 * (imissed + afp_drops): "rx.missed". */
uint64_t swd_port_rx_missed(void);
const char *swd_port_driver(void);

/*
 * swd_worker.c: each worker drains its rx queue into a FIFO of
 * SWD_RXQ_SIZE frames ahead of the frames it handles, so that a burst of
 * arrivals waits in the worker's memory rather than overflow the port's
 * ring (512 frames for net_af_packet); the mbuf pool holds them too.
 */
#define SWD_RXQ_SIZE		4096	/* power of two */

/*
 * swd_shed.c: answering `overloaded` instead of executing, while a worker
 * is behind (docs/operations.md, "Overload"). Pure: no DPDK, no clock.
 *
 * Fed once per poll with the frames waiting in the worker's FIFO (after
 * the drain, before the burst is handled). A poll is full when a whole
 * burst is waiting, and more: SWD_SHED_TARGET frames, a few ms of work.
 * Shedding is armed for SWD_SHED_ARM_MS whenever SWD_SHED_ARM_DEPTH frames
 * or more are waiting (more than a client that waits for its answers
 * keeps in flight: tens of ms of work) or the port lost frames (rx.missed
 * grew). While armed, once SWD_SHED_FULL_POLLS polls in a row were full,
 * every further full poll raises the shed level by one; every
 * SWD_SHED_CALM_POLLS polls in a row that are not full lower it by one,
 * and so does every full poll once disarmed. Levels 1..16 shed level/16
 * of the request datagrams whose first op writes; levels 17..32 shed all
 * of those and (level-16)/16 of the others. Datagrams whose first op is
 * STATUS, STATS or READINESS are never shed. The level settles where
 * about SWD_SHED_TARGET frames wait.
 *
 * The retry hint starts at SWD_SHED_HINT_MIN_MS; every SWD_SHED_HINT_STEP_MS
 * it doubles (up to SWD_SHED_HINT_MAX_MS) if the worker shed more than
 * half of the frames it handled in that time, halves (down to
 * SWD_SHED_HINT_MIN_MS) if it shed less than 1/8, and stays otherwise:
 * clients that keep coming back are told to wait longer until what they
 * send is a little more than what the worker executes. Each answer
 * carries the hint jittered by +-50 %: clients shed together must not
 * come back together.
 */
#define SWD_SHED_STEPS		16	/* levels per class */
#define SWD_SHED_LEVEL_MAX	(2 * SWD_SHED_STEPS)
#define SWD_SHED_FULL_POLLS	4
#define SWD_SHED_CALM_POLLS	4
#define SWD_SHED_ARM_DEPTH	2048	/* frames waiting */
#define SWD_SHED_TARGET		256	/* frames waiting in a full poll */
#define SWD_SHED_ARM_MS		2000
#define SWD_SHED_HINT_MIN_MS	10
#define SWD_SHED_HINT_MAX_MS	1000
#define SWD_SHED_HINT_STEP_MS	100

enum swd_shed_class {
	SWD_SHED_EXEC,		/* not a sound v1 request header: lib/exec
				 * answers or drops it, never shed */
	SWD_SHED_NODE,		/* first op STATUS, STATS, READINESS */
	SWD_SHED_LOOKUP,	/* first op WHEREIS: never shed */
	SWD_SHED_READ,		/* first op any other non-write */
	SWD_SHED_WRITE,		/* first op writes (exec_opcode_writes) */
};

struct swd_shed {
	uint64_t misses;		/* rx.missed last seen */
	uint64_t armed_until;		/* ms; levels rise only before this */
	uint64_t hint_next;		/* ms; next hint step */
	uint32_t full_run, calm_run;	/* polls in a row */
	uint32_t hint_ms;
	uint32_t step_handled;		/* frames handled since the last step */
	uint32_t step_shed;		/* of which shed */
	uint32_t rng;			/* hint jitter (xorshift32) */
	uint16_t level;			/* 0: nothing is shed */
	uint16_t acc[2];		/* spreading: reads, writes */
};

void swd_shed_init(struct swd_shed *s);
/* Once per poll: frames waiting (burst to handle included), the burst
 * size, rx.missed now, the time now (ms). */
void swd_shed_poll(struct swd_shed *s, uint32_t waiting, uint32_t burst,
		uint64_t missed, uint64_t now);
static inline bool
swd_shed_armed(const struct swd_shed *s, uint64_t now)
{
	return now < s->armed_until;
}
/* The class of a UDP payload sent to udp_port: the header only, and the
 * first op's opcode. */
enum swd_shed_class swd_shed_classify(const uint8_t *dgram, size_t len);
/* True: answer this datagram of class c overloaded (do not execute it). */
bool swd_shed_take(struct swd_shed *s, enum swd_shed_class c);
/* The retry hint now, in ms (the mean of what swd_shed_hint() gives). */
uint32_t swd_shed_retry_ms(const struct swd_shed *s);
/* The hint for one answer: uniform in [hint/2, 3 hint/2), so that the
 * clients told to wait at the same moment do not all come back at once. */
uint32_t swd_shed_hint(struct swd_shed *s);
/*
 * Writes the answer to a shed request req (classified, so its header is
 * sound) into out: a reply header with the request id and one
 * datagram-level op (index 0xFFFF, opcode 0) `overloaded` retry_ms.
 * Returns its length (26), or 0 when cap is too small.
 */
size_t swd_shed_reply(uint8_t *out, size_t cap, const uint8_t *req,
		size_t len, uint32_t retry_ms);

#endif /* SWD_H */
