/*
 * bench_ring.c - lookup rate, build time, balance and movement of the ring.
 *
 *   bm_ring_lookup/N       one ring_lookup() per iteration, N nodes, over
 *                          1M precomputed name hashes (names/s = items/s)
 *   bm_ring_lookup_bulk/N  ring_lookup_bulk() on bursts of 32 hashes
 *   bm_ring_lookup_name/N  hash the name bytes, then look it up
 *   bm_ring_build/N        ring_build() from N members (default vnodes)
 *   bm_ring_balance/N      one pass, figures as counters: max/mean owned
 *                          names over 1M names, and the fraction of names
 *                          moved when node N+1 joins, for the default ring
 *                          and for a libring-like ring of 128 vnodes
 *   bm_ring_vnodes_sweep/V max/mean for 3, 5 and 16 nodes with V vnodes,
 *                          worst and mean over 10 differently named clusters
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "ring.h"

#define NAMES (1u << 20)
#define NAMES_MASK (NAMES - 1)
#define BURST 32
#define MAX_NODES 17
#define LIBRING_VNODES 128

static uint64_t *hashes;
static char (*names)[24];

static void
names_init(void)
{
	uint32_t i;

	if (hashes != NULL)
		return;
	hashes = malloc(NAMES * sizeof(*hashes));
	names = malloc(NAMES * sizeof(*names));
	if (hashes == NULL || names == NULL)
		abort();
	for (i = 0; i < NAMES; i++) {
		snprintf(names[i], sizeof(names[i]), "device-%08u", i);
		hashes[i] = ring_hash_name(names[i], 15);
	}
}

/*
 * Members of cluster c: "node<i>@10.0.0.<i>" for c = 0, "c<c>-gw<i>" for
 * the other clusters (used to see how much balance varies with names).
 */
static struct ring_members *
members_n(int n, int c)
{
	struct ring_members *m = ring_members_create();
	char name[48];
	int i;

	if (m == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (c == 0)
			snprintf(name, sizeof(name), "node%d@10.0.0.%d",
					i + 1, i + 1);
		else
			snprintf(name, sizeof(name), "c%d-gw%d", c, i + 1);
		if (ring_members_add(m, name, 1, (uint32_t)i) != 0)
			abort();
	}
	return m;
}

static struct ring *
ring_n(int n, uint32_t vnodes, int c)
{
	struct ring_members *m = members_n(n, c);
	struct ring_policy p;
	struct ring *r;

	ring_policy_init(&p);
	p.vnodes = vnodes;
	r = ring_build(m, &p, NULL);
	ring_members_destroy(m);
	if (r == NULL)
		abort();
	return r;
}

/* Default rings by node count, built once and kept for the whole run. */
static const struct ring *
cached_ring(int n)
{
	static struct ring *rings[MAX_NODES + 1];

	if (n < 1 || n > MAX_NODES)
		abort();
	if (rings[n] == NULL)
		rings[n] = ring_n(n, RING_VNODES_DEFAULT, 0);
	return rings[n];
}

static void
bm_ring_lookup(struct bench_state *st)
{
	const struct ring *r;
	uint32_t i = 0, sink = 0;

	names_init();
	r = cached_ring((int)bench_arg(st));
	while (bench_keep_running(st))
		sink += ring_lookup(r, hashes[i++ & NAMES_MASK]);
	bench_set_items(st, bench_iterations(st));
	bench_counter(st, "sink", sink & 1);
}
BENCH_REGISTER(bm_ring_lookup, BENCH_ARGS(3, 5, 16));

static void
bm_ring_lookup_bulk(struct bench_state *st)
{
	const struct ring *r;
	uint32_t out[BURST], i = 0, sink = 0;

	names_init();
	r = cached_ring((int)bench_arg(st));
	while (bench_keep_running(st)) {
		ring_lookup_bulk(r, &hashes[i & NAMES_MASK], BURST, out);
		sink += out[0] + out[BURST - 1];
		i += BURST;
	}
	bench_set_items(st, bench_iterations(st) * BURST);
	bench_counter(st, "sink", sink & 1);
}
BENCH_REGISTER(bm_ring_lookup_bulk, BENCH_ARGS(3, 5, 16));

static void
bm_ring_lookup_name(struct bench_state *st)
{
	const struct ring *r;
	uint32_t i = 0, sink = 0;

	names_init();
	r = cached_ring((int)bench_arg(st));
	while (bench_keep_running(st)) {
		sink += ring_lookup_name(r, names[i & NAMES_MASK], 15);
		i++;
	}
	bench_set_items(st, bench_iterations(st));
	bench_counter(st, "sink", sink & 1);
}
BENCH_REGISTER(bm_ring_lookup_name, BENCH_ARGS(16));

static void
bm_ring_build(struct bench_state *st)
{
	struct ring_members *m = members_n((int)bench_arg(st), 0);
	struct ring_policy p;

	ring_policy_init(&p);
	while (bench_keep_running(st))
		ring_free(ring_build(m, &p, NULL));
	bench_set_items(st, bench_iterations(st));
	ring_members_destroy(m);
}
BENCH_REGISTER(bm_ring_build, BENCH_ARGS(3, 5, 16));

/* Largest owned share over the mean, for the n first nodes. */
static double
max_over_mean(const struct ring *r, int n, uint32_t *owner)
{
	uint32_t count[MAX_NODES] = { 0 }, max = 0, i;

	for (i = 0; i < NAMES; i++) {
		owner[i] = ring_lookup(r, hashes[i]);
		count[owner[i]]++;
	}
	for (i = 0; i < (uint32_t)n; i++)
		max = count[i] > max ? count[i] : max;
	return (double)max * n / NAMES;
}

/* Fraction of names whose owner differs from owner[]. */
static double
moved_fraction(const struct ring *r, const uint32_t *owner)
{
	uint32_t i, moved = 0;

	for (i = 0; i < NAMES; i++)
		moved += ring_lookup(r, hashes[i]) != owner[i];
	return (double)moved / NAMES;
}

static void
balance(struct bench_state *st, int n, uint32_t vnodes, const char *tag)
{
	static uint32_t owner[NAMES];
	struct ring *before = ring_n(n, vnodes, 0);
	struct ring *after = ring_n(n + 1, vnodes, 0);
	char key[64];

	snprintf(key, sizeof(key), "%smax_mean", tag);
	bench_counter(st, key, max_over_mean(before, n, owner));
	snprintf(key, sizeof(key), "%smoved_join", tag);
	bench_counter(st, key, moved_fraction(after, owner));
	ring_free(before);
	ring_free(after);
}

static void
bm_ring_balance(struct bench_state *st)
{
	int n = (int)bench_arg(st);

	names_init();
	while (bench_keep_running(st)) {
		balance(st, n, RING_VNODES_DEFAULT, "");
		balance(st, n, LIBRING_VNODES, "libring128_");
	}
	bench_counter(st, "moved_ideal", 1.0 / (n + 1));
	bench_set_items(st, bench_iterations(st) * NAMES);
}
BENCH_REGISTER_ITERS(bm_ring_balance, 1, BENCH_ARGS(3, 5, 16));

/*
 * Balance of 3, 5 and 16 nodes for another vnode count (the argument):
 * worst and mean max/mean over SWEEP_CLUSTERS differently named clusters.
 */
#define SWEEP_CLUSTERS 10

static void
sweep_size(struct bench_state *st, int n, uint32_t vnodes)
{
	static uint32_t owner[NAMES];
	double worst = 0, sum = 0, v;
	char key[32];
	int c;

	for (c = 0; c < SWEEP_CLUSTERS; c++) {
		struct ring *r = ring_n(n, vnodes, c);

		v = max_over_mean(r, n, owner);
		worst = v > worst ? v : worst;
		sum += v;
		ring_free(r);
	}
	snprintf(key, sizeof(key), "worst_%d", n);
	bench_counter(st, key, worst);
	snprintf(key, sizeof(key), "mean_%d", n);
	bench_counter(st, key, sum / SWEEP_CLUSTERS);
}

static void
bm_ring_vnodes_sweep(struct bench_state *st)
{
	uint32_t vnodes = (uint32_t)bench_arg(st);

	names_init();
	while (bench_keep_running(st)) {
		sweep_size(st, 3, vnodes);
		sweep_size(st, 5, vnodes);
		sweep_size(st, 16, vnodes);
	}
	bench_set_items(st, bench_iterations(st) * 3 * SWEEP_CLUSTERS * NAMES);
}
BENCH_REGISTER_ITERS(bm_ring_vnodes_sweep, 1,
		BENCH_ARGS(128, 1024, 2048, 4096, 8192));
