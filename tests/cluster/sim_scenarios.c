/*
 * sim_scenarios.c - cluster scenarios for the simulator, each a function
 * of a seed that returns NULL or what went wrong. The unit test runs a few
 * seeds of each; `swarm-sim` runs many (the soak) or replays one.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "clu_wire.h"
#include "ring_hash.h"
#include "sim.h"

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		snprintf(why, sizeof(why), __VA_ARGS__);		\
		goto out;						\
	}								\
} while (0)

/*
 * At quiescence: one entry per name everywhere, the model, bounded work,
 * and the exact history checker (a netsplit with `ring` lets one of two
 * conflicting writes lose, so those are exempt there: hist_flags).
 */
#define INVARIANTS(s, quiet_ms) do {					\
	const char *e_;							\
	CHECK(sim_quiesce(s, quiet_ms), "no quiescence in %u ms",	\
		(unsigned)(quiet_ms));					\
	if ((e_ = sim_check_converged(s)) != NULL ||			\
	    (e_ = sim_check_model(s)) != NULL ||			\
	    (e_ = sim_check_bounded(s)) != NULL ||			\
	    (e_ = sim_check_history(s, hist_flags)) != NULL)		\
		CHECK(0, "%s", e_);					\
} while (0)

static unsigned hist_flags;

static char why[256];

/*
 * A client's REGISTER: not_ready (the node is syncing, or verifying a
 * partition it took over) means "not done, ask again shortly", and every
 * client does; the scenarios do too, within the same overall bound.
 */
static int
reg_replicas(struct sim *s, uint32_t node, const char *name, uint64_t handle,
		unsigned int replicas, uint64_t timeout_ms)
{
	uint64_t end = sim_now(s) + timeout_ms;
	int st;

	for (;;) {
		st = sim_register_replicas(s, node, name, handle, replicas,
				end - sim_now(s));
		if (st != PROTO_ST_NOT_READY || sim_now(s) + 20 >= end)
			return st;
		sim_run(s, 20);
	}
}

static int
reg(struct sim *s, uint32_t node, const char *name, uint64_t handle,
		uint64_t timeout_ms)
{
	return reg_replicas(s, node, name, handle, 0, timeout_ms);
}

static struct sim *
make(uint32_t nodes, uint64_t seed, enum ring_strategy st, uint32_t quorum)
{
	struct sim_opts o = {
		.nodes = nodes, .nparts = 2, .strategy = st, .quorum = quorum,
		.delay_min_ms = 1, .delay_max_ms = 3, .seed = seed,
		.keys = seed % 2 == 0,
	};

	hist_flags = st == RING_STRATEGY_RING ? SIM_HIST_AP : 0;
	return sim_create(&o);
}

static bool
all_see(struct sim *s, uint32_t n, size_t alive)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (sim_up(s, i) && sim_alive_view(s, i) != alive)
			return false;
	return true;
}

/* Wait until node i sees want[i] live members, for every i < n. */
static bool
wait_views(struct sim *s, uint32_t n, const uint8_t *want, uint64_t max_ms)
{
	uint64_t end = sim_now(s) + max_ms;
	uint32_t i;

	for (;;) {
		for (i = 0; i < n; i++)
			if (sim_alive_view(s, i) != want[i])
				break;
		if (i == n)
			return true;
		if (sim_now(s) >= end)
			return false;
		sim_run(s, 10);
	}
}

static bool
wait_alive(struct sim *s, uint32_t n, size_t alive, uint64_t max_ms)
{
	uint64_t end = sim_now(s) + max_ms;

	while (!all_see(s, n, alive) && sim_now(s) < end)
		sim_run(s, 10);
	return all_see(s, n, alive);
}

/* Every node's ring holds all n nodes: views agree on every owner. */
static bool
wait_rings(struct sim *s, uint32_t n, uint64_t max_ms)
{
	uint64_t end = sim_now(s) + max_ms;
	uint32_t i;

	for (;;) {
		for (i = 0; i < n; i++)
			if (clu_ring_nodes(sim_clu(s, i)) != n)
				break;
		if (i == n)
			return true;
		if (sim_now(s) >= end)
			return false;
		sim_run(s, 10);
	}
}

/* Stable 3-node cluster: placement, one winner, read-everywhere. */
static const char *
sc_basic(uint64_t seed)
{
	struct sim *s = make(3, seed, RING_STRATEGY_RING, 0);
	int a = -1, b = -1;
	uint32_t i;

	why[0] = '\0';
	CHECK(wait_alive(s, 3, 3, 5000), "membership did not converge");
	CHECK(wait_rings(s, 3, 5000), "rings did not converge");
	CHECK(reg(s, 0, "door/1", 11, 2000) == 0, "register failed");
	sim_run(s, 200);
	for (i = 0; i < 3; i++)
		CHECK(sim_whereis(s, i, "door/1") == 11 &&
			sim_entry_owner(s, i, "door/1") == 1,
			"door/1 not replicated to n%u", i + 1);
	/* the same name through two nodes at once: exactly one winner */
	sim_register_async(s, 1, "door/2", 21, &a);
	sim_register_async(s, 2, "door/2", 22, &b);
	sim_run(s, 500);
	CHECK((a == 0 && b == 2) || (a == 2 && b == 0),
		"two registrations of one name answered %d and %d", a, b);
	sim_workload(s, 400, 3000, 1);
	INVARIANTS(s, 20000);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/* 5 nodes over a bad network: loss, duplicates, reordering. */
static const char *
sc_lossy(uint64_t seed)
{
	struct sim *s = make(5, seed, RING_STRATEGY_RING, 0);

	why[0] = '\0';
	CHECK(wait_alive(s, 5, 5, 8000), "membership did not converge");
	sim_set_loss(s, 0.1, 0.05);
	sim_workload(s, 600, 4000, 1);
	sim_set_loss(s, 0, 0);
	INVARIANTS(s, 30000);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/* A netsplit with `ring`: both sides serve, and converge after the heal. */
static const char *
sc_partition(uint64_t seed)
{
	static const uint8_t split[] = { 0, 0, 0, 1, 1 };
	struct sim *s = make(5, seed, RING_STRATEGY_RING, 0);
	uint64_t h0, h4;
	uint32_t i;

	why[0] = '\0';
	CHECK(wait_alive(s, 5, 5, 8000), "membership did not converge");
	sim_workload(s, 500, 1500, 1);
	sim_partition(s, split);
	CHECK(wait_views(s, 5, (const uint8_t[]){ 3, 3, 3, 2, 2 }, 10000),
		"the split was not seen");
	CHECK(reg(s, 0, "split/x", 0xa, 2000) == 0,
		"majority side refused a write");
	CHECK(reg(s, 4, "split/x", 0xb, 2000) == 0,
		"minority side refused a write");
	sim_workload(s, 500, 1500, 1);
	sim_heal(s);
	CHECK(wait_alive(s, 5, 5, 15000), "membership did not heal");
	INVARIANTS(s, 30000);
	h0 = sim_whereis(s, 0, "split/x");
	for (i = 0; i < 5; i++) {
		h4 = sim_whereis(s, i, "split/x");
		CHECK(h4 == h0 && (h4 == 0xa || h4 == 0xb),
			"split/x on n%u: %llx", i + 1, (unsigned long long)h4);
	}
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

static uint32_t
count_owned(struct sim *s, uint32_t node, uint32_t owner, uint32_t nnames)
{
	char name[32];
	uint32_t k, n = 0;

	for (k = 0; k < nnames; k++) {
		snprintf(name, sizeof(name), "dev/%u", k);
		n += sim_entry_owner(s, node, name) == owner;
	}
	return n;
}

/* A crash purges the node's registrations; a restart resyncs it. */
static const char *
sc_crash(uint64_t seed)
{
	struct sim *s = make(5, seed, RING_STRATEGY_RING, 0);
	uint32_t i;

	why[0] = '\0';
	CHECK(wait_alive(s, 5, 5, 8000), "membership did not converge");
	sim_workload(s, 600, 3000, 1);
	CHECK(sim_quiesce(s, 20000), "no quiescence before the crash");
	CHECK(count_owned(s, 0, 3, 600) > 0, "n3 registered nothing");
	sim_crash(s, 2);
	CHECK(wait_alive(s, 5, 4, 10000), "the crash was not detected");
	CHECK(sim_quiesce(s, 20000), "no quiescence after the crash");
	for (i = 0; i < 5; i++)
		CHECK(i == 2 || count_owned(s, i, 3, 600) == 0,
			"n%u kept entries of the dead n3", i + 1);
	sim_workload(s, 600, 2000, 1);
	sim_restart(s, 2);
	CHECK(wait_alive(s, 5, 5, 10000), "the restarted node did not rejoin");
	sim_workload(s, 600, 1000, 1);
	INVARIANTS(s, 30000);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/* static_quorum_ring: the minority refuses writes, nothing acked is lost. */
static const char *
sc_quorum(uint64_t seed)
{
	static const uint8_t split[] = { 0, 0, 1 };
	struct sim *s = make(3, seed, RING_STRATEGY_STATIC_QUORUM, 2);
	int st;

	why[0] = '\0';
	CHECK(wait_alive(s, 3, 3, 5000), "membership did not converge");
	sim_workload(s, 300, 1000, 1);
	CHECK(reg(s, 2, "q/before", 7, 2000) == 0, "write refused");
	sim_partition(s, split);
	CHECK(wait_views(s, 3, (const uint8_t[]){ 2, 2, 1 }, 10000),
		"the split was not seen");
	st = reg(s, 2, "q/minority", 8, 2000);
	CHECK(st == 9, "minority answered %d, not no_node_available", st);
	CHECK(reg(s, 0, "q/majority", 9, 2000) == 0,
		"majority refused a write");
	sim_workload(s, 300, 1000, 1);
	sim_heal(s);
	CHECK(wait_alive(s, 3, 3, 15000), "membership did not heal");
	INVARIANTS(s, 30000);
	CHECK(sim_whereis(s, 2, "q/majority") == 9 &&
		sim_whereis(s, 1, "q/minority") == 0,
		"after the heal the registries disagree with the answers");
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/* The REPLICAS flag: answered only once that many other nodes applied. */
static const char *
sc_replicas(uint64_t seed)
{
	static const uint8_t split[] = { 0, 0, 0, 1 };
	struct sim *s = make(4, seed, RING_STRATEGY_RING, 0);
	char name[32];
	uint32_t k, i, on;
	int st;

	why[0] = '\0';
	CHECK(wait_alive(s, 4, 4, 8000), "membership did not converge");
	CHECK(wait_rings(s, 4, 8000), "rings did not converge");
	/* all: at the answer, every node already holds the name, whichever
	 * node owns it and whichever took the request */
	for (k = 0; k < 40; k++) {
		snprintf(name, sizeof(name), "rep/%u", k);
		st = reg_replicas(s, k % 4, name, 100 + k, 3, 2000);
		CHECK(st == 0, "%s answered %d", name, st);
		for (i = 0; i < 4; i++)
			CHECK(sim_whereis(s, i, name) == 100 + k,
				"%s not on n%u when answered", name, i + 1);
	}
	/* two: at least two other nodes hold it at the answer */
	for (k = 0; k < 40; k++) {
		snprintf(name, sizeof(name), "rep2/%u", k);
		st = reg_replicas(s, k % 4, name, 200 + k, 2, 2000);
		CHECK(st == 0, "%s answered %d", name, st);
		for (i = 0, on = 0; i < 4; i++)
			on += sim_whereis(s, i, name) == 200 + k;
		CHECK(on >= 3, "%s on %u nodes when answered", name, on);
	}
	/* a node cut off but not yet declared dead: "all" cannot be
	 * confirmed (no_node_available, outcome unknown), two can */
	sim_partition(s, split);
	sim_run(s, 50);
	st = reg_replicas(s, 0, "rep/cut-all", 7, 3, 3000);
	CHECK(st == 9, "all replicas with one cut off answered %d", st);
	st = reg_replicas(s, 1, "rep/cut-two", 8, 2, 3000);
	CHECK(st == 0 || st == 9, "two replicas with one cut off: %d", st);
	sim_heal(s);
	CHECK(wait_alive(s, 4, 4, 15000), "membership did not heal");
	INVARIANTS(s, 30000);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/* Random faults for a while, then everything heals and restarts. */
static const char *
sc_churn(uint64_t seed)
{
	struct sim *s = make(5, seed, RING_STRATEGY_RING, 0);
	uint8_t grp[5];
	uint32_t round, i;
	uint64_t r = seed * 0x9e3779b97f4a7c15ULL + 1;

	why[0] = '\0';
	CHECK(wait_alive(s, 5, 5, 8000), "membership did not converge");
	for (round = 0; round < 8; round++) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		switch ((r >> 33) % 4) {
		case 0:
			sim_crash(s, (uint32_t)(r >> 40) % 5);
			break;
		case 1:
			for (i = 0; i < 5; i++)
				sim_restart(s, i);
			break;
		case 2:
			for (i = 0; i < 5; i++)
				grp[i] = (uint8_t)((r >> (20 + i)) & 1);
			sim_partition(s, grp);
			break;
		default:
			sim_heal(s);
			sim_set_loss(s, (double)((r >> 45) % 15) / 100, 0.02);
			break;
		}
		sim_workload(s, 500, 600, 2);
	}
	sim_heal(s);
	sim_set_loss(s, 0, 0);
	for (i = 0; i < 5; i++)
		sim_restart(s, i);
	CHECK(wait_alive(s, 5, 5, 20000), "membership did not heal");
	INVARIANTS(s, 40000);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/* Milliseconds until every node i < n is ready, or UINT64_MAX. */
static uint64_t
time_to_ready(struct sim *s, uint32_t n, uint64_t max_ms)
{
	uint64_t t0 = sim_now(s);
	uint32_t i;

	for (;;) {
		for (i = 0; i < n; i++)
			if (sim_up(s, i) && !clu_ready(sim_clu(s, i)))
				break;
		if (i == n)
			return sim_now(s) - t0;
		if (sim_now(s) - t0 >= max_ms)
			return UINT64_MAX;
		sim_run(s, 1);
	}
}

static uint64_t
repairs_sent(struct sim *s, uint32_t n)
{
	struct clu_stats st;
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		clu_get_stats(sim_clu(s, i), &st);
		sum += st.repair_sent;
	}
	return sum;
}

/*
 * Starting together. Empty nodes that start at once are a new cluster:
 * they become ready as soon as each has heard its seeds (a few round
 * trips, long before the 3-probe-interval deadline of a node alone) with
 * no sync between them, and take writes through every node at once. A
 * node whose seeds do not answer says not_ready (never no_node_available)
 * until its deadline, then serves alone. A node started later into the
 * ready cluster syncs from it rather than starting a cluster of its own.
 */
static const char *
sc_coldstart(uint64_t seed)
{
	struct sim *s = make(3, seed, seed % 3 == 0 ?
			RING_STRATEGY_STATIC_QUORUM : RING_STRATEGY_RING, 2);
	uint8_t apart[3] = { 0, 1, 2 };
	struct proto_readiness rd;
	char name[32];
	uint64_t t;
	uint32_t i;

	why[0] = '\0';
	/* a few round trips; a ready flag that overtakes its READY datagram
	 * on the wire costs at most the announce wait (50 ms) on top (seed
	 * 1053) */
	t = time_to_ready(s, 3, 2000);
	CHECK(t <= 100, "a cold start took %llu ms to be ready (deadline %u)",
		(unsigned long long)t, 3 * 200);
	CHECK(repairs_sent(s, 3) == 0, "a cold start pushed %llu records",
		(unsigned long long)repairs_sent(s, 3));
	sim_run(s, 10);		/* the READY announcements cross */
	for (i = 0; i < 3; i++) {
		clu_readiness(sim_clu(s, i), sim_now(s), &rd);
		CHECK(rd.state == PROTO_READY_SERVING && rd.owners == 3 &&
			rd.synced == rd.partitions,
			"n%u after a cold start: state %u owners %u", i + 1,
			rd.state, rd.owners);
		snprintf(name, sizeof(name), "cold/%u", i);
		CHECK(reg(s, i, name, 100 + i, 2000) == PROTO_ST_OK,
			"a write through n%u right after a cold start failed",
			i + 1);
	}
	INVARIANTS(s, 20000);
	sim_destroy(s);

	/* seeds that never answer: not_ready with a hint, then alone */
	s = make(3, seed, RING_STRATEGY_RING, 0);
	sim_partition(s, apart);
	sim_run(s, 20);
	clu_readiness(sim_clu(s, 0), sim_now(s), &rd);
	CHECK(rd.state == PROTO_READY_JOINING && rd.retry_after_ms > 0,
		"a node without its seeds: state %u hint %u", rd.state,
		rd.retry_after_ms);
	CHECK(sim_register(s, 0, "lonely", 7, 50) == PROTO_ST_NOT_READY,
		"a node without its seeds did not answer not_ready");
	t = time_to_ready(s, 3, 5000);
	CHECK(t != UINT64_MAX, "a node without its seeds never got ready");
	CHECK(reg(s, 0, "lonely", 7, 2000) == PROTO_ST_OK,
		"a node alone did not take a write after its deadline");
	sim_heal(s);
	CHECK(wait_alive(s, 3, 3, 8000), "membership did not heal");
	INVARIANTS(s, 20000);
	sim_destroy(s);

	/* a late starter syncs from the ready cluster */
	s = make(3, seed, RING_STRATEGY_RING, 0);
	sim_crash(s, 2);
	CHECK(time_to_ready(s, 2, 3000) != UINT64_MAX,
		"two of three nodes never got ready");
	CHECK(reg(s, 0, "early", 9, 2000) == PROTO_ST_OK,
		"a write before the late node started failed");
	sim_restart(s, 2);
	CHECK(time_to_ready(s, 3, 5000) != UINT64_MAX,
		"the late node never got ready");
	CHECK(sim_whereis(s, 2, "early") == 9,
		"the late node got ready without the cluster's entry");
	INVARIANTS(s, 20000);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/*
 * A member the filters keep off the ring (Swarm's remsh pattern) still
 * takes part: it holds a full replica and answers reads from it, and the
 * writes a client sends through it are forwarded to their owners and
 * answered at once, never left to time out.
 */
static const char *
sc_excluded(uint64_t seed)
{
	struct sim_opts o = {
		.nodes = 3, .nparts = 2, .strategy = seed % 2 ?
			RING_STRATEGY_RING : RING_STRATEGY_STATIC_QUORUM,
		.quorum = 2, .delay_min_ms = 1, .delay_max_ms = 3,
		.seed = seed, .keys = seed % 3 == 0, .excluded = 1,
	};
	struct sim *s = sim_create(&o);
	struct proto_readiness rd;
	uint64_t t0;

	hist_flags = o.strategy == RING_STRATEGY_RING ? SIM_HIST_AP : 0;
	uint32_t i;
	char name[32];
	int st;

	why[0] = '\0';
	CHECK(wait_alive(s, 3, 3, 5000), "membership did not converge");
	CHECK(time_to_ready(s, 3, 5000) != UINT64_MAX, "not every node got ready");
	sim_run(s, 20);
	for (i = 0; i < 3; i++)
		CHECK(clu_ring_nodes(sim_clu(s, i)) == 2,
			"n%u's ring holds %zu nodes, not the 2 allowed", i + 1,
			clu_ring_nodes(sim_clu(s, i)));
	clu_readiness(sim_clu(s, 2), sim_now(s), &rd);
	CHECK(rd.state == PROTO_READY_SERVING && rd.owners == 2,
		"the excluded node says state %u owners %u", rd.state, rd.owners);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "via-remsh/%u", i);
		t0 = sim_now(s);
		st = reg(s, 2, name, 500 + i, 3000);
		CHECK(st == PROTO_ST_OK, "a write through the excluded node "
			"answered %d", st);
		CHECK(sim_now(s) - t0 < 500, "a write through the excluded node "
			"took %llu ms", (unsigned long long)(sim_now(s) - t0));
		CHECK(sim_entry_owner(s, 2, name) == 3,
			"%s does not belong to the node it was registered through",
			name);
	}
	CHECK(reg(s, 0, "via-n1", 77, 2000) == PROTO_ST_OK,
		"a write through n1 failed");
	sim_run(s, 200);
	CHECK(sim_whereis(s, 2, "via-n1") == 77,
		"the excluded node does not hold the replica");
	sim_workload(s, 300, 1500, 1);
	INVARIANTS(s, 20000);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}


/* ---- adversarial scenarios: each aims at one way `ok` used to break ---- */

#define HISTORY(s, flags) do {						\
	const char *h_;							\
	CHECK(sim_quiesce(s, 40000), "no quiescence");			\
	if ((h_ = sim_check_converged(s)) != NULL ||			\
	    (h_ = sim_check_history(s, flags)) != NULL)		\
		CHECK(0, "%s", h_);					\
} while (0)

static uint64_t
stat_sum(struct sim *s, size_t off)
{
	struct clu_stats st;
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < sim_nodes(s); i++) {
		if (!sim_up(s, i))
			continue;
		clu_get_stats(sim_clu(s, i), &st);
		sum += *(const uint64_t *)((const char *)&st + off);
	}
	return sum;
}
#define STAT(s, field) stat_sum(s, offsetof(struct clu_stats, field))

/*
 * 1. Replayed gossip and forwards. Frames n3 sent while booting, replayed
 * after it restarted (an older epoch), and FWD requests replayed after
 * the names they registered were removed (the same epoch, and after the
 * receiver restarted) must change nothing: no peer leaves a ring, no name
 * comes back, no name gets two owners.
 */
static const char *
sc_replay(uint64_t seed)
{
	struct sim_opts o = {
		.nodes = 3, .nparts = 2, .strategy = RING_STRATEGY_RING,
		.delay_min_ms = 1, .delay_max_ms = 3, .seed = seed,
		.keys = true,
	};
	struct sim *s = sim_create(&o);
	uint64_t stale0, n;
	char name[32];
	uint32_t i, k;

	why[0] = '\0';
	sim_capture(s, 2, SIM_ANY, SIM_KINDS_ALL, true);
	sim_run(s, 300);		/* n3 boots: not ready, then ready */
	sim_capture(s, 2, SIM_ANY, SIM_KINDS_ALL, false);
	CHECK(wait_rings(s, 3, 8000), "rings did not converge");
	sim_bounce(s, 2);		/* faster than failure detection */
	CHECK(time_to_ready(s, 3, 8000) != UINT64_MAX, "n3 never got ready");
	CHECK(wait_rings(s, 3, 8000), "rings did not converge after n3's restart");
	stale0 = STAT(s, rx_stale) + STAT(s, rx_replayed);
	n = sim_captured(s);
	for (k = 0; k < 5; k++) {	/* old frames keep coming during writes */
		sim_replay(s, 0, (uint32_t)n, SIM_ANY);
		sim_workload_contended(s, 60, 150, 6, 2);
		for (i = 0; i < 3; i++)
			CHECK(clu_ring_nodes(sim_clu(s, i)) == 3,
				"a replay took n%u's ring down to %zu nodes",
				i + 1, clu_ring_nodes(sim_clu(s, i)));
	}
	CHECK(STAT(s, rx_stale) + STAT(s, rx_replayed) > stale0,
		"replayed frames were not counted as stale");
	/* forwards: registered, removed, then replayed */
	sim_capture_clear(s);
	sim_capture(s, SIM_ANY, SIM_ANY, SIM_KIND(CLU_T_FWD), true);
	for (k = 0; k < 20; k++) {
		snprintf(name, sizeof(name), "fwd/%u", k);
		CHECK(reg(s, k % 3, name, 0x100 + k, 3000) == 0,
			"%s was refused", name);
	}
	for (k = 0; k < 20; k++) {
		snprintf(name, sizeof(name), "fwd/%u", k);
		CHECK(sim_unregister(s, (k + 1) % 3, name, 3000) == 0,
			"%s could not be removed", name);
	}
	sim_capture(s, SIM_ANY, SIM_ANY, SIM_KIND(CLU_T_FWD), false);
	CHECK(sim_captured(s) > 0, "no FWD was sent");
	sim_replay(s, 0, (uint32_t)sim_captured(s), SIM_ANY);
	sim_run(s, 200);
	sim_bounce(s, 0);		/* and to a restarted receiver */
	CHECK(time_to_ready(s, 3, 8000) != UINT64_MAX, "n1 never got ready");
	sim_replay(s, 0, (uint32_t)sim_captured(s), SIM_ANY);
	sim_run(s, 200);
	for (k = 0; k < 20; k++) {
		snprintf(name, sizeof(name), "fwd/%u", k);
		for (i = 0; i < 3; i++)
			CHECK(sim_whereis(s, i, name) == 0,
				"a replayed FWD revived %s on n%u", name, i + 1);
	}
	HISTORY(s, 0);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/*
 * 2. static_quorum_ring split at the moment of a write. The minority may
 * not acknowledge anything once cut off, the majority takes over, and
 * after the heal every write the majority acknowledged stands.
 */
static const char *
sc_qsplit(uint64_t seed)
{
	static const uint8_t split[] = { 0, 0, 1 };
	struct sim *s = make(3, seed, RING_STRATEGY_STATIC_QUORUM, 2);
	static int st[200];
	char name[32];
	uint32_t k;

	why[0] = '\0';
	CHECK(wait_rings(s, 3, 8000), "rings did not converge");
	sim_workload_contended(s, 80, 400, 8, 1);
	/* a burst through the node about to be cut off, split at its start */
	sim_split_on_request(s, split);
	for (k = 0; k < 200; k++) {
		snprintf(name, sizeof(name), "qs/%u", k);
		sim_register_async(s, 2, name, 0xa000 + k, &st[k]);
		if (k % 4 == 0)
			sim_run(s, 1);
	}
	sim_run(s, 2500);	/* the majority declares it dead, takes over */
	for (k = 0; k < 200; k++) {
		snprintf(name, sizeof(name), "qs/%u", k);
		reg(s, k % 2, name, 0xb000 + k, 3000);
	}
	sim_workload_contended(s, 80, 1000, 8, 1);
	sim_heal(s);
	CHECK(wait_alive(s, 3, 3, 15000), "membership did not heal");
	/* at once, other clients try to take the majority's names through
	 * the node that was cut off (and purged their registrations) */
	for (k = 0; k < 200; k += 3) {
		snprintf(name, sizeof(name), "qs/%u", k);
		sim_register_async(s, 2, name, 0xc000 + k, &st[k]);
	}
	sim_workload_contended(s, 80, 400, 8, 1);
	HISTORY(s, 0);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/*
 * 3. Loss on the links of a restarting node. It must become ready holding
 * every entry, and never acknowledge a new handle for a name it lacked.
 */
static const char *
sc_syncloss(uint64_t seed)
{
	struct sim *s = make(3, seed, RING_STRATEGY_RING, 0);
	double loss = seed % 2 ? 0.5 : 0.3;
	char name[32];
	uint32_t k, i;
	uint64_t want;

	why[0] = '\0';
	CHECK(wait_rings(s, 3, 8000), "rings did not converge");
	for (k = 0; k < 1500; k++) {
		snprintf(name, sizeof(name), "keep/%u", k);
		CHECK(reg(s, k % 2, name, 0x5000 + k, 3000) == 0,
			"%s was refused", name);
	}
	CHECK(sim_quiesce(s, 20000), "no quiescence before the restart");
	want = sim_count(s, 0);
	sim_crash(s, 2);
	/* the registry's traffic, not membership's: no false deaths */
	sim_drop(s, SIM_ANY, 2, SIM_KINDS_ALL & ~SIM_KIND(CLU_T_MEMBER), loss);
	sim_drop(s, 2, SIM_ANY, SIM_KINDS_ALL & ~SIM_KIND(CLU_T_MEMBER), loss);
	sim_restart(s, 2);
	CHECK(time_to_ready(s, 3, 60000) != UINT64_MAX, "n3 never got ready");
	CHECK(sim_count(s, 2) >= want, "n3 got ready with %llu of %llu entries",
		(unsigned long long)sim_count(s, 2), (unsigned long long)want);
	/* other clients now try to take the names through n3 */
	for (k = 0; k < 1500; k += 7) {
		snprintf(name, sizeof(name), "keep/%u", k);
		reg(s, 2, name, 0x9000 + k, 3000);
	}
	sim_drop_clear(s);
	HISTORY(s, 0);
	for (k = 0; k < 1500; k++) {
		snprintf(name, sizeof(name), "keep/%u", k);
		for (i = 0; i < 3; i++)
			CHECK(sim_whereis(s, i, name) == 0x5000 + k,
				"%s on n%u: %llx", name, i + 1,
				(unsigned long long)sim_whereis(s, i, name));
	}
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/*
 * 4. The owner dies with a forwarded write answered but not replicated.
 * The node the client talked to must not pass its ok on: the answer is
 * no_node_available (outcome unknown) unless the change reached it.
 */
static const char *
sc_ownerdeath(uint64_t seed)
{
	struct sim *s = make(3, seed, RING_STRATEGY_RING, 0);
	int st[10];
	char name[10][32];
	uint32_t k, n = 0, owner;

	why[0] = '\0';
	CHECK(wait_rings(s, 3, 8000), "rings did not converge");
	for (k = 0; n < 10 && k < 1000; k++) {
		snprintf(name[n], sizeof(name[n]), "od/%u", k);
		owner = clu_owner_of(sim_clu(s, 0),
				ring_hash_name(name[n], strlen(name[n])));
		n += owner == 2;
	}
	CHECK(n == 10, "too few names owned by n2");
	/* n2's changes reach nobody: its batches and repairs are lost */
	sim_drop(s, 1, SIM_ANY, SIM_KIND(CLU_T_BATCH) | SIM_KIND(CLU_T_REPAIR),
			1.0);
	for (k = 0; k < n; k++)
		sim_register_async(s, 0, name[k], 0x700 + k, &st[k]);
	sim_run(s, 30 + seed % 40);
	sim_crash(s, 1);
	sim_run(s, 3000);
	sim_drop_clear(s);
	for (k = 0; k < n; k++)
		CHECK(st[k] != PROTO_ST_OK || sim_whereis(s, 0, name[k]) != 0,
			"%.31s answered ok while only the dying owner held it",
			name[k]);
	HISTORY(s, 0);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/*
 * 5. The owner of some names restarts (crash and restart, or faster than
 * detection). Its partition clock starts over, below the tombstones its
 * previous life left everywhere; a REGISTER it then decides must still be
 * newer than those, or the write it acknowledged loses to a removal older
 * than it.
 */
static const char *
sc_ownerrestart(uint64_t seed)
{
	struct sim *s = make(4, seed, RING_STRATEGY_RING, 0);
	char name[20][32];
	uint32_t k, n = 0, r;

	why[0] = '\0';
	CHECK(wait_rings(s, 4, 8000), "rings did not converge");
	for (k = 0; n < 20 && k < 2000; k++) {
		snprintf(name[n], sizeof(name[n]), "or/%u", k);
		n += clu_owner_of(sim_clu(s, 1), ring_hash_name(name[n],
				strlen(name[n]))) == 1;
	}
	CHECK(n == 20, "too few names owned by n1");
	for (r = 0; r < 5; r++)	/* n1's clock and tombstones climb */
		for (k = 0; k < n; k++) {
			CHECK(reg(s, 1, name[k], 100 + r, 2000) == 0,
				"%.31s refused", name[k]);
			CHECK(sim_unregister(s, 1, name[k], 2000) == 0,
				"%.31s not removed", name[k]);
		}
	sim_run(s, 200);
	if (seed % 2) {
		sim_bounce(s, 0);
	} else {
		sim_crash(s, 0);
		CHECK(wait_alive(s, 4, 3, 10000), "the crash was not seen");
		sim_restart(s, 0);
	}
	CHECK(time_to_ready(s, 4, 8000) != UINT64_MAX, "n1 never got ready");
	CHECK(wait_rings(s, 4, 8000), "rings did not converge after the restart");
	for (k = 0; k < n; k++)
		reg(s, 1, name[k], 0xfeed, 2000);
	HISTORY(s, 0);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/*
 * 6. A node restarts into a cluster that holds a registry. Its verified
 * sync must bring every record about once: a joining node that also took
 * part in anti-entropy differed from its peers in every segment until it
 * was full, and each round pushed it the whole partition again (a real
 * 3-node cluster pushed 20 times its 666,678 entries). Its requests are
 * answered, so none is asked again on clean links.
 */
static const char *
sc_resync(uint64_t seed)
{
	struct sim *s = make(3, seed, RING_STRATEGY_RING, 0);
	uint64_t before, pushed, have;
	struct clu_stats st;
	char name[32];
	uint32_t k, n = 400 + (uint32_t)(seed % 5) * 100;

	why[0] = '\0';
	CHECK(wait_rings(s, 3, 8000), "rings did not converge");
	for (k = 0; k < n; k++) {
		snprintf(name, sizeof(name), "rs/%u", k);
		CHECK(reg(s, k % 2, name, 0x9000 + k, 2000) == PROTO_ST_OK,
			"%s refused", name);
	}
	sim_crash(s, 2);
	CHECK(wait_alive(s, 3, 2, 10000), "the crash was not seen");
	sim_run(s, seed % 700);	/* anti-entropy rounds fall anywhere */
	before = repairs_sent(s, 2);
	sim_restart(s, 2);
	CHECK(time_to_ready(s, 3, 8000) != UINT64_MAX, "n3 never got ready");
	CHECK(wait_rings(s, 3, 8000), "rings did not converge after the restart");
	have = sim_count(s, 2);
	pushed = repairs_sent(s, 2) - before;
	CHECK(have == n, "n3 holds %llu of %u names after its sync",
		(unsigned long long)have, n);
	CHECK(pushed <= n + n / 2, "n1 and n2 pushed %llu records to sync %u",
		(unsigned long long)pushed, n);
	clu_get_stats(sim_clu(s, 2), &st);
	CHECK(st.sync_reasks == 0, "n3 asked %llu sync requests again on clean "
		"links", (unsigned long long)st.sync_reasks);
	INVARIANTS(s, 20000);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/*
 * 7. A false death seen by one node only: n1 stops hearing n2 and n3 long
 * enough to declare them dead, then hears them again before it purges.
 * n1 restarted its copies of their streams; they never noticed and, with
 * nothing to write, send it nothing. When n3 then really dies, n1 takes
 * its names over and verifies them with n2, whose sync answer names a
 * position of a stream n1 has started over on: n1 must serve writes again
 * within a few round trips, not wait for n2's next write. (A real cluster
 * once refused writes through n1 for 22 s after a takeover that followed a
 * one-sided false death; this scenario did not reproduce it.)
 */
static const char *
sc_falsedeath(uint64_t seed)
{
	struct sim *s = make(3, seed, RING_STRATEGY_RING, 0);
	struct proto_readiness rd;
	uint8_t want[1] = { 1 };
	uint64_t t0, end;
	char name[32];
	uint32_t k;

	why[0] = '\0';
	CHECK(wait_rings(s, 3, 8000), "rings did not converge");
	for (k = 0; k < 60; k++) {
		snprintf(name, sizeof(name), "fd/%u", k);
		CHECK(reg(s, k % 3, name, 0x6000 + k, 2000) == PROTO_ST_OK,
			"%s refused", name);
	}
	sim_run(s, 500);
	sim_drop(s, 1, 0, SIM_KINDS_ALL, 1.0);
	sim_drop(s, 2, 0, SIM_KINDS_ALL, 1.0);
	CHECK(wait_views(s, 1, want, 10000), "n1 did not declare n2, n3 dead");
	sim_drop_clear(s);
	CHECK(wait_alive(s, 3, 3, 10000), "n1 did not see n2, n3 again");
	CHECK(wait_rings(s, 3, 8000), "rings did not converge after it");
	sim_run(s, 1000 + seed % 500);
	sim_crash(s, 2);
	CHECK(wait_alive(s, 2, 2, 10000), "the crash was not seen");
	t0 = sim_now(s);
	for (end = t0 + 5000;; sim_run(s, 10)) {
		clu_readiness(sim_clu(s, 0), sim_now(s), &rd);
		if (rd.state == PROTO_READY_SERVING)
			break;
		CHECK(sim_now(s) < end, "n1 still %s %llu ms after the takeover",
			proto_ready_state_name(rd.state),
			(unsigned long long)(sim_now(s) - t0));
	}
	INVARIANTS(s, 20000);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/*
 * 120 names PFX/k registered through n2 (handles base + k); n3 cut off
 * long enough for every node to see the deaths and purge; healed.
 */
static const char *
cut_n3_and_heal(struct sim *s, const char *pfx, uint64_t base,
		uint64_t seed)
{
	static const uint8_t split[] = { 0, 0, 1 };
	char name[32];
	uint32_t k;

	CHECK(wait_rings(s, 3, 8000), "rings did not converge");
	for (k = 0; k < 120; k++) {
		snprintf(name, sizeof(name), "%s/%u", pfx, k);
		CHECK(reg(s, 1, name, base + k, 3000) == PROTO_ST_OK,
			"%s refused", name);
	}
	CHECK(sim_quiesce(s, 20000), "no quiescence before the split");
	sim_partition(s, split);
	sim_run(s, 4000 + seed % 1000);	/* deaths seen, purges done */
	sim_heal(s);
out:
	return why[0] ? why : NULL;
}

/*
 * 8. static_quorum_ring: a heal that reaches the cut-off node one peer at
 * a time. n3 is cut off long enough to purge what was registered through
 * n1 and n2; the split heals towards n1 first, while n2 stays out of n3's
 * reach a while longer. n3 and n1 are a quorum again, and n3 takes back
 * its share of the names: it must not decide one before it holds what n1
 * holds, including the entries registered through n2, which n3 still
 * believes dead (their replication to it is dropped as a dead owner's).
 * Clients then try to take n2's names through n3 with other handles.
 */
static const char *
sc_qheal(uint64_t seed)
{
	struct sim *s = make(3, seed, RING_STRATEGY_STATIC_QUORUM, 2);
	char name[32];
	uint32_t k;

	why[0] = '\0';
	if (cut_n3_and_heal(s, "qh", 0xd000, seed) != NULL)
		goto out;
	sim_drop(s, 1, 2, SIM_KINDS_ALL, 1.0);
	sim_drop(s, 2, 1, SIM_KINDS_ALL, 1.0);
	for (k = 0; sim_alive_view(s, 2) < 2 && k < 1500; k++)
		sim_run(s, 10);
	CHECK(sim_alive_view(s, 2) >= 2, "n3 did not see n1 again");
	sim_run(s, seed % 300);
	for (k = 0; k < 120; k++) {
		snprintf(name, sizeof(name), "qh/%u", k);
		reg(s, 2, name, 0xe000 + k, 1000);
	}
	sim_drop_clear(s);
	CHECK(wait_alive(s, 3, 3, 15000), "membership did not heal");
	HISTORY(s, 0);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

/* Node obs (index) holds the member with node id `id` dead or left. */
static bool
holds_dead(struct sim *s, uint32_t obs, uint32_t id)
{
	const struct mbr *m = clu_member(sim_clu(s, obs));
	struct mbr_member_info mi;
	size_t k;

	for (k = 1; k < mbr_member_count(m); k++)
		if (mbr_member_get(m, k, &mi) == 0 && mi.node.id == id)
			return mi.state == MBR_DEAD || mi.state == MBR_LEFT;
	return false;
}

/* Registers ru/0..119 through n3 with handles base + k: how many ok. */
static uint32_t
take_through_n3(struct sim *s, uint64_t base)
{
	char name[32];
	uint32_t k, taken = 0;

	for (k = 0; k < 120; k++) {
		snprintf(name, sizeof(name), "ru/%u", k);
		taken += reg(s, 2, name, base + k, 1000) == PROTO_ST_OK;
	}
	return taken;
}

/*
 * 9. A heal must not kill the members that never lost each other, nor
 * let the node that was cut off decide names whose registrations it
 * purged. n3 is cut off long enough to declare n1 and n2 dead and purge
 * what was registered through n2. When the split heals, n3's first
 * messages carry its verdicts, at incarnations n1 and n2 never had a
 * reason to raise: taken as news, they made n1 and n2 hold each other
 * dead until the refutations got through (n2's are held back here for
 * half a suspicion timeout, as loss at a busy moment does), and a death
 * acted on purges: n1 dropped the registrations made through n2 and gave
 * their names to other clients. (A real static_quorum_ring cluster gave
 * 14 names the majority had acknowledged new handles 3 s after a heal.)
 * Neither majority node may hold the other dead; with static_quorum_ring,
 * names registered through n2 are never answered ok for other handles
 * through n3, and with either strategy not once n3's ring holds all three
 * nodes again (in `ring` n3 decides alone until it hears the others: a
 * netsplit's writes, merged by version).
 */
static const char *
sc_rumour(uint64_t seed)
{
	bool quorum = seed % 3 != 2;
	struct sim *s = make(3, seed, quorum ? RING_STRATEGY_STATIC_QUORUM :
			RING_STRATEGY_RING, 2);
	uint64_t end, held = 0;
	uint32_t taken = 0;

	why[0] = '\0';
	if (cut_n3_and_heal(s, "ru", 0x7000, seed) != NULL)
		goto out;
	/* no anti-entropy with n3 either: only a sync brings it what it
	 * purged before it decides those names */
	sim_drop(s, 2, SIM_ANY, SIM_KIND(CLU_T_DIGEST), 1.0);
	sim_drop(s, SIM_ANY, 2, SIM_KIND(CLU_T_DIGEST), 1.0);
	sim_drop(s, 1, SIM_ANY, SIM_KIND(CLU_T_MEMBER), 1.0);
	for (end = sim_now(s) + 600; sim_now(s) < end; sim_run(s, 5))
		if (held == 0 && (holds_dead(s, 0, 2) || holds_dead(s, 1, 1)))
			held = sim_now(s) - (end - 600);
	sim_drop_clear(s);
	sim_drop(s, 2, SIM_ANY, SIM_KIND(CLU_T_DIGEST), 1.0);
	sim_drop(s, SIM_ANY, 2, SIM_KIND(CLU_T_DIGEST), 1.0);
	if (quorum)
		taken = take_through_n3(s, 0x8000);
	CHECK(held == 0, "a majority node held the other dead %llu ms after "
		"the heal; then %u of 120 names registered through n2 were "
		"taken through n3", (unsigned long long)held, taken);
	CHECK(taken == 0, "%u of 120 names registered through n2 were taken "
		"through n3 right after the heal", taken);
	for (end = sim_now(s) + 15000; clu_ring_nodes(sim_clu(s, 2)) < 3 &&
	     sim_now(s) < end;)
		sim_run(s, 1);
	CHECK(clu_ring_nodes(sim_clu(s, 2)) == 3, "n3's ring did not get "
		"all three nodes back");
	taken = take_through_n3(s, 0x9000);
	CHECK(taken == 0, "%u of 120 names registered through n2 were taken "
		"through n3 once its ring held all three nodes", taken);
	sim_drop_clear(s);
	CHECK(wait_alive(s, 3, 3, 15000), "membership did not heal");
	HISTORY(s, 0);
out:
	sim_destroy(s);
	return why[0] ? why : NULL;
}

const char *const sim_scenarios[] = {
	"basic", "lossy", "partition", "crash", "quorum", "replicas", "churn",
	"coldstart", "excluded", "replay", "qsplit", "syncloss", "ownerdeath",
	"ownerrestart", "resync", "falsedeath", "qheal", "rumour",
	NULL,
};

const char *
sim_scenario(const char *name, uint64_t seed)
{
	if (strcmp(name, "basic") == 0)
		return sc_basic(seed);
	if (strcmp(name, "lossy") == 0)
		return sc_lossy(seed);
	if (strcmp(name, "partition") == 0)
		return sc_partition(seed);
	if (strcmp(name, "crash") == 0)
		return sc_crash(seed);
	if (strcmp(name, "quorum") == 0)
		return sc_quorum(seed);
	if (strcmp(name, "churn") == 0)
		return sc_churn(seed);
	if (strcmp(name, "replicas") == 0)
		return sc_replicas(seed);
	if (strcmp(name, "coldstart") == 0)
		return sc_coldstart(seed);
	if (strcmp(name, "excluded") == 0)
		return sc_excluded(seed);
	if (strcmp(name, "replay") == 0)
		return sc_replay(seed);
	if (strcmp(name, "qsplit") == 0)
		return sc_qsplit(seed);
	if (strcmp(name, "syncloss") == 0)
		return sc_syncloss(seed);
	if (strcmp(name, "ownerdeath") == 0)
		return sc_ownerdeath(seed);
	if (strcmp(name, "ownerrestart") == 0)
		return sc_ownerrestart(seed);
	if (strcmp(name, "resync") == 0)
		return sc_resync(seed);
	if (strcmp(name, "falsedeath") == 0)
		return sc_falsedeath(seed);
	if (strcmp(name, "qheal") == 0)
		return sc_qheal(seed);
	if (strcmp(name, "rumour") == 0)
		return sc_rumour(seed);
	return "unknown scenario";
}
