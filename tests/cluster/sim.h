/*
 * sim.h - a whole swarm cluster in one process, deterministically.
 *
 * N nodes (a tracker and a struct clu each) exchange datagrams over a
 * simulated network driven by one seeded PRNG and a virtual clock in
 * milliseconds: per-datagram loss, duplication and delay (hence
 * reordering), partitions into groups, heals, crashes (the node's memory is
 * thrown away) and restarts (fresh tracker, higher incarnation). Clients
 * send protocol requests to chosen nodes and the replies are decoded.
 *
 * Each name in sim_workload is written by one client at a time (its next op
 * waits for the previous answer), so the expected final state of a name is
 * known from the acknowledged ops; sim_check_model compares it with the
 * nodes, permissively (it skips names written near any fault).
 *
 * Everything is reproducible from the seed: a failing run prints its seed
 * and `swarm-sim --seed S --scenario X` replays it exactly.
 *
 * FAULTS AIMED AT THE PROTOCOL. Node arguments are indexes (0..nodes-1) or
 * SIM_ANY; kinds is a mask of SIM_KIND(clu_type) bits (type = byte 3 of
 * every gossip datagram) or SIM_KINDS_ALL.
 *  - sim_drop / sim_dup: up to SIM_RULES_MAX rules each. A datagram that
 *    survives the global loss meets every matching drop rule (each drops
 *    it with its probability), then every matching dup rule (each adds a
 *    copy with its probability); copies get independent delays. p >= 1
 *    and p <= 0 draw nothing from the PRNG, and with no rule the draws are
 *    those of a sim without rules, so old seeds replay unchanged.
 *  - sim_capture: copies of every datagram a node sends that matches a
 *    filter are kept (before any loss: what was sent, not what arrived),
 *    up to SIM_CAPTURE_MAX, oldest kept, the rest counted. sim_replay
 *    re-injects frames: the exact bytes, from the original source address,
 *    to the original or an overridden destination, with the normal delay,
 *    subject to partitions and to the receiver being up, never to loss or
 *    drop rules, so a replay is deterministic. Frames outlive restarts of
 *    their sender and receiver (that is how stale epochs are replayed).
 *  - sim_split_on_request: the partition is applied right before the next
 *    client request is handed to a node (the request itself sees it) and
 *    recorded as a partition window, as sim_partition.
 *  - sim_bounce: crash and restart at once, faster than failure detection;
 *    incarnations (and so epochs) always grow across restarts.
 *
 * HISTORY. Every client op (sim_register, sim_unregister,
 * sim_register_async, sim_register_replicas, the workloads) is recorded:
 * name, kind, handle, the node it was sent to ("via"), invocation and
 * answer in real-time order (a stamp: ms << 20 | order within the ms), the
 * status (-1 never answered, SIM_ST_UNDELIVERED when the node was down),
 * and the ring owner the via node saw. So are crashes, restarts,
 * partitions and heals, and every time a live node holds another node
 * dead (sampled each ms), since that node's plain registrations may then
 * be purged. More than SIM_HIST_MAX ops or SIM_HIST_EVENTS events and the
 * checker fails loudly.
 *
 * sim_check_history(s, flags), after sim_quiesce (+ sim_check_converged):
 * for every name whose ops are all answered or given up (never answered
 * and: the client timed out, its via node crashed, or 5 s passed), the
 * value every live node holds (handle and entry owner) must be the same,
 * and must be a legal final state:
 *  - Classes. Definite (DEF): REGISTER ok sets (handle, owner = via node);
 *    UNREGISTER ok or not_found removes. Unknown (MAYBE): no_node_available,
 *    internal, never answered: the effect happened or not. Not executed
 *    (NONE): every other answer (not_ready, overloaded, already_registered,
 *    refusals) and undelivered ops. With SIM_HIST_AP (strategy ring) a DEF
 *    op whose [invoke, answer] overlaps a partition window (split .. heal
 *    + 3000 ms) is MAYBE: the two sides merge by version and one loses.
 *    With SIM_HIST_CRASH_LOSS a DEF op whose executing node (the ring
 *    owner the via node saw) crashed in [invoke, answer + 3000 ms] is MAYBE
 *    (asynchronous replication may lose it). With SIM_HIST_LATE_UNKNOWN a
 *    MAYBE op may take effect any time after its invocation, even after
 *    its answer (Jepsen's indeterminate ops: e.g. a minority's write that
 *    only the heal spreads). Without flags, no exemption.
 *  - Concurrency: each DEF op takes effect once at a point inside its
 *    [invoke, answer], each MAYBE op once there or never (never answered:
 *    any time after invoke); the order of overlapping ops is free. The
 *    final value is that of the last op to take effect, so a value is
 *    legal iff some op X writing it can be last: every other DEF op was
 *    invoked before X was answered. That is exact over all orders of the
 *    effects, with no enumeration; what an answer says about the state
 *    its op saw (already_registered: taken) is only used by the two-owner
 *    rule below. ABSENT is legal iff there is no DEF op, or a remover can
 *    be last, or a register X can be last and a purge of its owner can
 *    come after it.
 *  - Purges: a plain registration belongs to its via node; it may vanish
 *    (ABSENT added, the value kept) at a crash of that node (a restart
 *    included), or while some live node holds that node dead; not
 *    after (a node that purged them holds them again before it decides
 *    their names: it verifies with the node that came back).
 *  - Two owners: two DEF REGISTERs of one name with different handles
 *    need, in one of their two possible orders, something between them
 *    that could have removed the first (a DEF or MAYBE UNREGISTER, or a
 *    purge of a node that registered the first's handle); else both were
 *    acknowledged as the only holder.
 *  - An UNREGISTER answered not_found is a remover: the name staying with
 *    a value registered before it is reported as such. Except while a
 *    node that registered the name is held dead (a purge span overlaps
 *    the op): its entry is then hidden, not removed, and comes back with
 *    the node, so that not_found is MAYBE.
 * The message names the FIRST violating op (by invocation) over all
 * names: name, kind, handle, via node, invoke..answer ms, status, what the
 * nodes hold and the entry owner. With SIM_HISTORY=name (or =1: the
 * violating name) in the environment a failure also dumps that name's
 * history to stderr.
 */
#ifndef SWARM_SIM_H
#define SWARM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clu.h"

#define SIM_NODES_MAX	8
#define SIM_ANY		UINT32_MAX	/* any node */
#define SIM_KIND(t)	(1u << (t))	/* a clu_type in a kinds mask */
#define SIM_KINDS_ALL	UINT32_MAX
#define SIM_RULES_MAX	16		/* drop, dup rules; capture filters */
#define SIM_CAPTURE_MAX	8192		/* captured datagrams kept */
#define SIM_HIST_MAX	262144		/* client ops recorded */
#define SIM_HIST_EVENTS	65536		/* crashes, splits, deaths recorded */
#define SIM_NAME_MAX	64		/* longest name recorded */
#define SIM_ST_UNDELIVERED	(-2)	/* history: the node was down */

/* sim_check_history() flags */
#define SIM_HIST_AP		0x1u	/* strategy ring: split writes may lose */
#define SIM_HIST_CRASH_LOSS	0x2u	/* a crashed executor may lose acks */
#define SIM_HIST_LATE_UNKNOWN	0x4u	/* unknown outcomes may land late */

struct sim_opts {
	uint32_t nodes;
	uint32_t nparts;
	enum ring_strategy strategy;
	uint32_t quorum;
	double loss;		/* 0..1 per datagram */
	double dup;		/* 0..1 per datagram */
	uint32_t delay_min_ms, delay_max_ms;
	uint64_t seed;
	bool keys;		/* authenticate gossip */
	uint32_t excluded;	/* the last ones are named remsh-N: members that
				 * the built-in deny patterns keep off the ring */
};

struct sim;

struct sim *sim_create(const struct sim_opts *o);
void sim_destroy(struct sim *s);

/* Advance the clock by ms, delivering datagrams and ticking nodes. */
void sim_run(struct sim *s, uint64_t ms);
uint64_t sim_now(const struct sim *s);

/* Faults. group[i] = partition group of node i (same group: connected). */
void sim_partition(struct sim *s, const uint8_t *group);
void sim_heal(struct sim *s);
void sim_set_loss(struct sim *s, double loss, double dup);
void sim_crash(struct sim *s, uint32_t node);
void sim_restart(struct sim *s, uint32_t node);
/* Crash and restart at once: back before failure detection notices. */
void sim_bounce(struct sim *s, uint32_t node);
bool sim_up(const struct sim *s, uint32_t node);
uint32_t sim_nodes(const struct sim *s);

/* Protocol faults (see the top of this file). Rules add up; a full table
 * aborts. sim_drop_clear / sim_dup_clear remove every rule of their kind. */
void sim_drop(struct sim *s, uint32_t from, uint32_t to, uint32_t kinds,
		double p);
void sim_drop_clear(struct sim *s);
void sim_dup(struct sim *s, uint32_t from, uint32_t to, uint32_t kinds,
		double p);
void sim_dup_clear(struct sim *s);

/*
 * Capture: on adds a filter, off removes the filters equal to (from, to,
 * kinds), or all of them for (SIM_ANY, SIM_ANY, SIM_KINDS_ALL).
 * sim_capture_clear forgets the frames and the overflow count (filters
 * stay). sim_replay re-injects frames first..first+count-1 (clamped) to
 * their destination, or to `to` unless it is SIM_ANY; returns how many.
 */
void sim_capture(struct sim *s, uint32_t from, uint32_t to, uint32_t kinds,
		bool on);
size_t sim_captured(const struct sim *s);
size_t sim_capture_overflow(const struct sim *s);
void sim_capture_clear(struct sim *s);
size_t sim_replay(struct sim *s, uint32_t first, uint32_t count, uint32_t to);
/* Frame i (NULL if none): its bytes, length, sender and destination. */
const uint8_t *sim_captured_frame(const struct sim *s, size_t i, size_t *len,
		uint32_t *from, uint32_t *to);

/* Partition right before the next client request reaches its node. */
void sim_split_on_request(struct sim *s, const uint8_t *group);

/*
 * Client ops: send one op to node, run until it is answered (or
 * timeout_ms passes: returns -1, and the client forgets the op; a late
 * answer still lands in the history). Returns the protocol status.
 */
int sim_register(struct sim *s, uint32_t node, const char *name,
		uint64_t handle, uint64_t timeout_ms);
int sim_unregister(struct sim *s, uint32_t node, const char *name,
		uint64_t timeout_ms);
/* Local read: handle of name on node, or 0 when absent. */
uint64_t sim_whereis(struct sim *s, uint32_t node, const char *name);
/* Owner (entry.owner) of name on node, or 0 when absent. */
uint32_t sim_entry_owner(struct sim *s, uint32_t node, const char *name);

/* sim_register() asking for `replicas` acknowledgements (REPLICAS flag). */
int sim_register_replicas(struct sim *s, uint32_t node, const char *name,
		uint64_t handle, unsigned int replicas, uint64_t timeout_ms);

/* Send a REGISTER without waiting; the answer's status lands in *status
 * (-1 until then) when the sim runs. */
void sim_register_async(struct sim *s, uint32_t node, const char *name,
		uint64_t handle, int *status);

/*
 * Random workload: nops ops over nnames names, one client per name, sent
 * to random live nodes, interleaved with the sim running. Records what was
 * acknowledged for sim_check_model().
 */
void sim_workload(struct sim *s, uint32_t nnames, uint32_t nops,
		uint32_t spacing_ms);

/*
 * Contended workload: `clients` (1..SIM_CLIENTS_MAX) independent clients,
 * nops attempts, each picking a random client: if that client's previous
 * op is still in flight nothing happens, else it sends an op on a random
 * name of hot/0..hot/nnames-1 (two clients may hit one name at once)
 * through a random live node: a REGISTER with a handle of its own,
 * distinct per client and op ((client + 1) << 56 | counter), or one time
 * in three an UNREGISTER. A client gives up an op whose via node died or
 * that went 5 s unanswered. Judge it with sim_check_history().
 */
#define SIM_CLIENTS_MAX	64
void sim_workload_contended(struct sim *s, uint32_t nnames, uint32_t nops,
		uint32_t clients, uint32_t spacing_ms);

/* Run until every live node is idle and the network is empty, or give up
 * after max_ms; true if quiescent. */
bool sim_quiesce(struct sim *s, uint64_t max_ms);

/* Invariants; each returns NULL when it holds, else a message. */
const char *sim_check_converged(struct sim *s);
const char *sim_check_model(struct sim *s);
const char *sim_check_bounded(struct sim *s);
/* The exact history checker (see the top of this file). */
const char *sim_check_history(struct sim *s, unsigned flags);
/* One name's ops, the faults around them and what each live node holds. */
void sim_history_dump(struct sim *s, const char *name, FILE *f);
size_t sim_history_ops(const struct sim *s);

/*
 * For tests: record an op as if a client had sent it to node at invoke_ms
 * and got status at answer_ms (UINT64_MAX: never answered, and given up),
 * its executor being the owner node sees now. Injected events of one ms
 * are ordered as injected, after live ones. Nothing is sent.
 */
void sim_history_inject(struct sim *s, const char *name, uint8_t kind,
		uint32_t node, uint64_t handle, uint64_t invoke_ms,
		uint64_t answer_ms, int status);

/* A fingerprint of every live node's registry (replay determinism). */
uint64_t sim_fingerprint(struct sim *s);
size_t sim_alive_view(struct sim *s, uint32_t node);
struct clu *sim_clu(struct sim *s, uint32_t node);
struct trk *sim_trk(struct sim *s, uint32_t node);	/* NULL when down */
uint64_t sim_count(struct sim *s, uint32_t node);

/* Scenarios used by the unit test and the soak tool; NULL on success. */
const char *sim_scenario(const char *name, uint64_t seed);
extern const char *const sim_scenarios[];

/*
 * Internal: the history recorder (sim_history.c) under sim.c. Stamps order
 * every recorded event in real time: ms << 20 | order within the ms.
 */
struct sim_hist;
enum simh_ev {
	SIMH_CRASH = 1, SIMH_RESTART, SIMH_SPLIT, SIMH_HEAL,
	SIMH_DEAD,	/* some live node holds the node dead */
	SIMH_UNDEAD,	/* no live node does any more */
};
#define SIMH_NONE	UINT32_MAX
struct sim_hist *simh_create(void);
void simh_destroy(struct sim_hist *h);
uint64_t simh_stamp(struct sim_hist *h, uint64_t now_ms);
uint32_t simh_begin(struct sim_hist *h, const char *name, uint8_t kind,
		uint32_t node, uint32_t exec_id, uint64_t handle,
		uint64_t stamp);
void simh_end(struct sim_hist *h, uint32_t id, int status, uint64_t stamp);
void simh_give_up(struct sim_hist *h, uint32_t id);
void simh_event(struct sim_hist *h, enum simh_ev type, uint32_t node,
		uint64_t stamp);
struct sim_hist *sim_hist(struct sim *s);

#endif /* SWARM_SIM_H */
