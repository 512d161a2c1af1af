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
 * Each name in a workload is written by one client at a time (its next op
 * waits for the previous answer), so the expected final state of a name is
 * known from the acknowledged ops; sim_check_* compare it with the nodes.
 *
 * Everything is reproducible from the seed: a failing run prints its seed
 * and `swarm-sim --seed S --scenario X` replays it exactly.
 */
#ifndef SWARM_SIM_H
#define SWARM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clu.h"

#define SIM_NODES_MAX	8

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
bool sim_up(const struct sim *s, uint32_t node);

/*
 * Client ops: send one op to node, run until it is answered (or
 * timeout_ms passes: returns -1). Returns the protocol status.
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

/* Run until every live node is idle and the network is empty, or give up
 * after max_ms; true if quiescent. */
bool sim_quiesce(struct sim *s, uint64_t max_ms);

/* Invariants; each returns NULL when it holds, else a message. */
const char *sim_check_converged(struct sim *s);
const char *sim_check_model(struct sim *s);
const char *sim_check_bounded(struct sim *s);

/* A fingerprint of every live node's registry (replay determinism). */
uint64_t sim_fingerprint(struct sim *s);
size_t sim_alive_view(struct sim *s, uint32_t node);
struct clu *sim_clu(struct sim *s, uint32_t node);
uint64_t sim_count(struct sim *s, uint32_t node);

/* Scenarios used by the unit test and the soak tool; NULL on success. */
const char *sim_scenario(const char *name, uint64_t seed);
extern const char *const sim_scenarios[];

#endif /* SWARM_SIM_H */
