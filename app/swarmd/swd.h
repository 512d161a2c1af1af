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
} __rte_cache_aligned;

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
};

struct swd_worker {
	unsigned int lcore_id;
	uint16_t queue;			/* rx/tx queue index == worker index */
	uint16_t index;
	struct rte_ring *fwd;		/* sub-requests for this worker */
	struct exec_out *out;		/* reply scratch (large: heap) */
	struct swd_fwd *fwd_state;	/* forwarding scratch (swd_fwd.c) */
	struct swd_stats stats;
};

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

/* swd_worker.c: messages at or above log_level (warnings and errors to stderr,
 * the rest to stdout, flushed). Any thread. */
bool swd_log_on(enum swd_log_level level);
void swd_log(enum swd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* swd_port.c: mempool and port set-up, one rx/tx queue per worker. */
int swd_port_init(struct swd_ctx *c);
void swd_port_close(struct swd_ctx *c);

/* swd_worker.c: the lcore loop (rte_eal_remote_launch entry point). */
int swd_worker_main(void *arg);
uint64_t swd_now_ms(const struct swd_ctx *c);

/* swd_fwd.c: splitting a request between workers. */
struct swd_fwd;
int swd_fwd_init(struct swd_ctx *c);
void swd_fwd_free(struct swd_ctx *c);
/* Executes a request on worker w, forwarding foreign writes. */
void swd_fwd_execute(struct swd_worker *w, const struct net_pkt *pkt,
		struct rte_mbuf *m, const uint8_t *req, size_t len,
		uint64_t now);
/* Executes up to a burst of sub-requests other workers sent to w. */
uint16_t swd_fwd_serve(struct swd_worker *w, uint64_t now);

/* swd_worker.c: send reply datagrams in out to the client of pkt. */
void swd_send_replies(struct swd_worker *w, const struct net_pkt *pkt,
		struct rte_mbuf *reuse, const struct exec_out *out);

/* swd_worker.c: queue a frame for tx; send one reply datagram to pkt. */
void swd_tx_queue(struct swd_worker *w, struct rte_mbuf *m);
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
/* Worker 0 only. A client request (map NULL), or a sub-request another
 * worker split off one (op i answered under index map[i]). */
void swd_cluster_request(const struct net_pkt *pkt, const uint8_t *req,
		size_t len, const uint16_t *map, size_t map_len, uint64_t now);
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

#endif /* SWD_H */
