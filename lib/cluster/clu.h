/*
 * clu.h - one node of a swarm cluster, as a pure state machine (sans-IO).
 *
 * A struct clu joins SWIM membership (lib/member), the hash ring over the
 * live members the filters allow (lib/ring), the node's registry (lib/tracker) and
 * the client request path (lib/exec) into the cluster protocol of
 * docs/cluster.md:
 *
 *  - owner-serialized writes: a write op whose name belongs (by the ring)
 *    to another node is forwarded to that node, executed there, and its
 *    answer relayed back to the client by the node the client talked to;
 *  - replication: every change a node makes is appended to a per-partition
 *    log of batches, streamed to every live peer (excluded ones too: they are replicas) with sequence
 *    numbers, cumulative acks and go-back-N retransmission;
 *  - anti-entropy: per-partition digests are exchanged periodically and the
 *    differing segments repaired by paced scans; a joining node syncs the
 *    same way (all its segments differ), so no sync ever blocks anything;
 *  - topology: the ring is rebuilt when membership changes; the plain
 *    registrations of a dead node are purged everywhere by a paced scan.
 *
 * Inputs: a configuration, the tracker, time `now` in MILLISECONDS
 * (monotonic, never decreasing), received datagrams with their source, and
 * client requests with an opaque client tag. Outputs are pulled: gossip
 * datagrams to send (clu_poll_send) and client reply datagrams
 * (clu_poll_reply). There is no clock, socket, thread or randomness inside
 * (randomness comes from cfg->seed), so a test can run a whole cluster in
 * one process, deterministically.
 *
 * Threading: one thread drives a struct clu. It must be a registered
 * liburcu QSBR thread, online during every call, and the only writer of
 * every partition of the tracker (it executes and applies all writes).
 */
#ifndef SWARM_CLU_H
#define SWARM_CLU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clu_auth.h"
#include "exec.h"
#include "member.h"
#include "proto_rep.h"
#include "ring_strategy.h"
#include "tracker.h"

#define CLU_DGRAM_MAX		1472	/* largest gossip datagram (UDP payload) */
#define CLU_CLIENT_TAG		32	/* opaque bytes identifying a client */
/* not_ready retry hints: while syncing, and at least while joining */
#define CLU_SYNC_RETRY_MS	100
#define CLU_JOIN_RETRY_MIN_MS	20

struct clu_config {
	uint32_t node_id;		/* 1..2^32-2, cluster-wide unique */
	const char *name;		/* 1..MBR_NAME_MAX bytes */
	size_t name_len;
	struct mbr_addr addr;		/* our gossip address */
	uint64_t incarnation;		/* raise it across restarts (e.g. boot time in
					 * ms): it is also the node's epoch */
	uint64_t seed;			/* PRNG seed */
	struct mbr_config mbr;		/* membership timers */
	struct ring_policy policy;	/* strategy, quorum, vnodes, filter */
	const struct clu_keyring *keys;	/* NULL: authentication off */

	uint32_t repl_log;		/* batches kept per partition, power of 2; default 16384 */
	uint32_t repl_window;		/* unacked batches in flight per peer; default 512 */
	uint32_t repl_rto_ms;		/* retransmit after this silence; default 100 */
	uint32_t ae_interval_ms;	/* anti-entropy round per partition; default 2000 */
	uint32_t sync_scan;		/* entries scanned per tick per repair; default 1024 */
	uint32_t sync_dgrams;		/* repair datagrams per tick per partition; default 16 */
	uint32_t fwd_timeout_ms;	/* forwarded write unanswered -> no_node_available; default 2000 */
	uint32_t send_queue;		/* outgoing datagrams held between polls; default 4096 */
};

/* Fill cfg with the defaults above (identity, addr, seed and keys zeroed). */
void clu_config_default(struct clu_config *cfg);

/* One gossip datagram to send. */
struct clu_dgram {
	struct mbr_addr dst;
	uint16_t len;
	uint8_t buf[CLU_DGRAM_MAX];
};

/* One client reply datagram to send to the client named by tag. */
struct clu_reply {
	uint8_t tag[CLU_CLIENT_TAG];
	uint16_t len;
	uint8_t buf[PROTO_MAX_DGRAM];
};

struct clu_stats {
	uint64_t rx;			/* gossip datagrams received */
	uint64_t rx_auth_failed;	/* dropped: bad key id or tag */
	uint64_t rx_malformed;		/* dropped: framing, fields, wrong cluster */
	uint64_t rx_stale;		/* dropped: an older epoch of the sender, or
					 * sent to an earlier one of ours */
	uint64_t rx_replayed;		/* dropped: sequence seen, or too old */
	uint64_t epoch_bumps;		/* a peer knew us at a later epoch: moved on */
	uint64_t tx;			/* gossip datagrams queued */
	uint64_t tx_dropped;		/* send queue full */
	uint64_t repl_batches;		/* batches closed */
	uint64_t repl_sent;		/* batch datagrams sent (incl. resends) */
	uint64_t repl_resent;		/* of which retransmissions */
	uint64_t repl_resets;		/* peer streams restarted (log overrun) */
	uint64_t repl_applied;		/* received changes that changed state */
	uint64_t repl_ignored;		/* received changes already known/stale */
	uint64_t repl_out_of_order;	/* batches dropped for a gap */
	uint64_t apply_errors;		/* received changes refused by the tracker */
	uint64_t dead_owner_dropped;	/* received entries of dead nodes */
	uint64_t ae_rounds;		/* digests sent */
	uint64_t ae_segs_differ;	/* segments found different */
	uint64_t repair_sent;		/* records pushed by repair scans */
	uint64_t repair_applied;	/* repair records that changed state */
	uint64_t fwd_out;		/* sub-requests forwarded to owners */
	uint64_t fwd_in;		/* sub-requests executed for others */
	uint64_t fwd_misrouted;		/* forwarded ops this node does not own:
					 * answered not_ready */
	uint64_t fwd_timeouts;		/* sub-requests never answered */
	uint64_t fwd_unconfirmed;	/* owner's ok whose change never reached us:
					 * answered no_node_available */
	uint64_t no_node;		/* write ops answered no_node_available */
	uint64_t not_ready;		/* ops answered not_ready (syncing) */
	uint64_t purged;		/* entries of dead nodes removed here */
	uint64_t replicas_waited;	/* answers held for replica acks */
	uint64_t replicas_timeouts;	/* of which never confirmed in time */
	uint64_t ring_builds;
	uint64_t takeovers;		/* ring lost a member: partitions re-verified */
	uint64_t sync_short;		/* sync segments that came short: asked again */
	uint64_t sync_asks;		/* sync requests sent (verified sync) */
	uint64_t sync_reasks;		/* of which after no answer in time */
	uint64_t sync_forgot;		/* peers told we lost their stream */
	uint64_t sync_unpurged;		/* verified again: a purged member came back */
	uint64_t id_conflicts;		/* members refused: node id in use */
};

struct clu;

/*
 * Create a node over tracker t (its node_id must equal cfg->node_id) that
 * answers requests as xn (xn->node_id must equal it too). NULL on a bad
 * configuration or no memory. The node starts alone: writes are owned by
 * itself until it learns of others (strategy `ring`), or refused
 * (no_node_available) while below the quorum (static_quorum_ring).
 */
struct clu *clu_create(const struct clu_config *cfg, struct trk *t,
		const struct exec_node *xn, uint64_t now);

/* Free everything (not the tracker). Any state of the node. */
void clu_destroy(struct clu *c);

/* Join through seed gossip addresses (ours is skipped). Returns how many. */
size_t clu_join(struct clu *c, const struct mbr_addr *seeds, size_t n,
		uint64_t now);

/*
 * Drive everything time-based: membership timers, draining the tracker's
 * change queues into batches, streaming and retransmission, acks,
 * anti-entropy, repair and purge scans (paced), forward timeouts. Call it
 * often (every millisecond or so when busy); it does bounded work.
 */
void clu_tick(struct clu *c, uint64_t now);

/*
 * Handle one gossip datagram from src. Hostile input: anything that fails
 * authentication or framing, or is stale or a replay, is dropped and
 * counted, nothing else changes. Returns true when the datagram was
 * authentic and new (the caller may then trust its source address).
 */
bool clu_receive(struct clu *c, const struct mbr_addr *src,
		const uint8_t *buf, size_t len, uint64_t now);

/*
 * Execute one client request datagram from the client named by tag: reads
 * and locally owned writes run at once, foreign writes are forwarded. Every
 * op is answered exactly once, through clu_poll_reply (now or later).
 */
void clu_request(struct clu *c, const uint8_t tag[CLU_CLIENT_TAG],
		const uint8_t *req, size_t len, uint64_t now);

/*
 * clu_request() with the request's byte budget (NULL: none), for a client
 * the node does not trust (exec_budget, docs/protocol.md 5.1), and for a
 * sub-request another thread split off a client's request: op i is
 * answered under index index_map[i] (NULL: i; see exec_opts), and budget
 * is then the sub-request's own (the shares of its ops). The budget binds
 * every answer of the request, the owners' answers to its forwarded writes
 * too (applied here when they are relayed: an answer that changed nothing
 * and does not fit becomes `overloaded`).
 */
void clu_request_mapped(struct clu *c, const uint8_t tag[CLU_CLIENT_TAG],
		const uint8_t *req, size_t len, const uint16_t *index_map,
		size_t map_len, const struct exec_budget *budget, uint64_t now);

/* Pull queued outputs, oldest first; return how many were copied. */
size_t clu_poll_send(struct clu *c, struct clu_dgram *out, size_t max);
size_t clu_poll_reply(struct clu *c, struct clu_reply *out, size_t max);

/*
 * Graceful leave: announce it to every member. Afterwards the node ignores
 * input; drain clu_poll_send and destroy it.
 */
void clu_leave(struct clu *c, uint64_t now);

/* ---- Queries (the driving thread) ---- */

/*
 * Ready: the node holds the registry (it synced, or it is alone, or it
 * started with its seeds as a new cluster) and answers registry ops. Until
 * then reads and writes that need the registry are answered not_ready.
 */
bool clu_ready(const struct clu *c);
/* How it became ready: "synced", "cold start", "alone" (or "not ready"). */
const char *clu_ready_how(const struct clu *c);
/* What the node is doing, as the READINESS op reports it. */
void clu_readiness(const struct clu *c, uint64_t now,
		struct proto_readiness *out);
/* The retry hint of a not_ready answer now (0 once ready). */
uint32_t clu_retry_hint_ms(const struct clu *c, uint64_t now);
/* True while writes can be placed: a ring exists (quorum met). */
bool clu_writable(const struct clu *c);
/* Nodes in the current ring (ready, allowed, live; self if ready). */
size_t clu_ring_nodes(const struct clu *c);
/* Live (alive or suspect) members, self included. */
size_t clu_alive(const struct clu *c);
/* Node id owning a name hash under the current ring, or 0 if none. */
uint32_t clu_owner_of(const struct clu *c, uint64_t hash);
/* True when no replication, repair or purge work is outstanding. */
bool clu_idle(const struct clu *c);
void clu_get_stats(const struct clu *c, struct clu_stats *out);
const struct mbr *clu_member(const struct clu *c);

#endif /* SWARM_CLU_H */
