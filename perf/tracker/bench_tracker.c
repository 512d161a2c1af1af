/*
 * bench_tracker.c - lib/tracker micro-benchmarks (single thread).
 *
 *   bm_trk_register_p{1,4}/N  register N new names into a tracker presized
 *                             for N (P partitions), one quiescent state per
 *                             1024 operations as a poll loop would; the
 *                             name is formatted and hashed inside the loop;
 *                             trk_create (bucket presizing) is not timed
 *                             but reported as create_s.
 *                             Counter bytes_per_entry = RSS growth / N
 *                             (table buckets + entries + allocator slack;
 *                             exact only when the run starts in a fresh
 *                             process, as freed memory is reused).
 *   bm_trk_whereis_p{1,4}/N   zero-copy lookups of random registered names
 *                             (all hits), keys prepared outside the timing.
 *   bm_trk_whereis_burst_p1/N the same in bursts of 32, as the packet path
 *                             does them: trk_prefetch for the 32 hashes,
 *                             trk_prefetch_entry for the 32, then the 32
 *                             lookups (items = lookups).
 *
 * Each tracker is built once per (N, P) and cached for the next benchmark.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "tracker.h"

#define NAME_LEN	12
#define BURST		1024
#define NKEYS		(1u << 20)	/* random keys cycled through: more than the caches hold */

struct cache {
	struct trk *t;
	int64_t n;
	uint32_t nparts;
};

static struct cache cache;
static __thread int rcu_registered;

static void
rcu_enter(void)
{
	if (!rcu_registered) {
		urcu_qsbr_register_thread();
		rcu_registered = 1;
	}
}

/* "dev-" and 8 hex digits: cheap, unique for i < 2^32. */
static void
name_fmt(char *out, uint64_t i)
{
	static const char hex[] = "0123456789abcdef";
	int k;

	memcpy(out, "dev-", 4);
	for (k = 0; k < 8; k++)
		out[4 + k] = hex[(i >> (28 - 4 * k)) & 0xf];
}

static long
rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

static void
cache_drop(void)
{
	if (cache.t != NULL)
		trk_destroy(cache.t);
	memset(&cache, 0, sizeof(cache));
}

static struct trk *
create(int64_t n, uint32_t nparts)
{
	struct trk_config cfg = {
		.nparts = nparts,
		.node_id = 1,
		.expected_entries = (uint64_t)n,
	};

	return trk_create(&cfg);
}

/* Register n names into t; false if any registration failed. */
static bool
fill(struct trk *t, int64_t n)
{
	struct trk_reg r = {
		.ep = { .addr = { 10, 0, 0, 1 }, .port = 5683, .family = TRK_INET4 },
		.owner = 1,
	};
	char name[NAME_LEN];
	int64_t i;

	for (i = 0; i < n; i++) {
		name_fmt(name, (uint64_t)i);
		r.key = trk_key(name, NAME_LEN);
		r.handle = (uint64_t)i + 1;
		if (trk_register(t, &r, 0, NULL) != TRK_OK)
			return false;
		if ((i & (BURST - 1)) == BURST - 1)
			urcu_qsbr_quiescent_state();
	}
	return true;
}

static bool
cache_build(int64_t n, uint32_t nparts)
{
	cache_drop();
	cache.t = create(n, nparts);
	if (cache.t == NULL || !fill(cache.t, n)) {
		cache_drop();
		return false;
	}
	cache.n = n;
	cache.nparts = nparts;
	return true;
}

static void
bm_register(struct bench_state *st, uint32_t nparts)
{
	int64_t n = bench_arg(st);
	double create_s = 0;
	struct timespec a, b;
	long rss0 = 0;
	bool ok = true;

	rcu_enter();
	while (bench_keep_running(st)) {
		bench_pause(st);
		cache_drop();
		rss0 = rss_bytes();
		clock_gettime(CLOCK_MONOTONIC, &a);
		cache.t = create(n, nparts);
		clock_gettime(CLOCK_MONOTONIC, &b);
		create_s += (double)(b.tv_sec - a.tv_sec) +
			(double)(b.tv_nsec - a.tv_nsec) * 1e-9;
		bench_resume(st);
		ok = cache.t != NULL && fill(cache.t, n);
	}
	if (!ok) {
		cache_drop();
		bench_skip(st, "registration failed");
		return;
	}
	cache.n = n;
	cache.nparts = nparts;
	bench_counter(st, "bytes_per_entry",
			(double)(rss_bytes() - rss0) / (double)n);
	bench_counter(st, "create_s", create_s / (double)bench_iterations(st));
	bench_set_items(st, n * bench_iterations(st));
}

static struct trk_key bm_keys[NKEYS];
static char bm_names[NKEYS][NAME_LEN];

/* The tracker for (n, nparts) and NKEYS random keys of it; false: skip. */
static bool
whereis_setup(struct bench_state *st, int64_t n, uint32_t nparts)
{
	unsigned int seed = 42;
	uint32_t k;

	rcu_enter();
	if ((cache.t == NULL || cache.n != n || cache.nparts != nparts) &&
			!cache_build(n, nparts)) {
		bench_skip(st, "registration failed");
		return false;
	}
	for (k = 0; k < NKEYS; k++) {
		uint64_t idx = (((uint64_t)rand_r(&seed) << 31) ^
				(uint64_t)rand_r(&seed)) % (uint64_t)n;

		name_fmt(bm_names[k], idx);
		bm_keys[k] = trk_key(bm_names[k], NAME_LEN);
	}
	return true;
}

static void
whereis_report(struct bench_state *st, uint64_t sum, uint64_t misses,
		int64_t per_iteration)
{
	if (misses != 0)
		bench_skip(st, "lookup missed a registered name");
	bench_counter(st, "checksum", (double)(sum & 0xffff));
	bench_set_items(st, bench_iterations(st) * per_iteration);
}

static void
bm_whereis(struct bench_state *st, uint32_t nparts)
{
	uint64_t sum = 0, misses = 0, i = 0;

	if (!whereis_setup(st, bench_arg(st), nparts))
		return;
	while (bench_keep_running(st)) {
		const struct trk_entry *e = trk_whereis(cache.t,
				&bm_keys[i & (NKEYS - 1)], 0);

		if (e != NULL)
			sum += e->handle;
		else
			misses++;
		if ((++i & (BURST - 1)) == 0)
			urcu_qsbr_quiescent_state();
	}
	whereis_report(st, sum, misses, 1);
}

#define LOOKUP_BURST 32

static void
bm_whereis_burst(struct bench_state *st, uint32_t nparts)
{
	uint64_t sum = 0, misses = 0, i = 0;
	unsigned int j;

	if (!whereis_setup(st, bench_arg(st), nparts))
		return;
	while (bench_keep_running(st)) {
		const struct trk_key *k = &bm_keys[i & (NKEYS - 1)];

		for (j = 0; j < LOOKUP_BURST; j++)
			trk_prefetch(cache.t, k[j].hash);
		for (j = 0; j < LOOKUP_BURST; j++)
			trk_prefetch_entry(cache.t, k[j].hash);
		for (j = 0; j < LOOKUP_BURST; j++) {
			const struct trk_entry *e = trk_whereis(cache.t, &k[j], 0);

			if (e != NULL)
				sum += e->handle;
			else
				misses++;
		}
		i += LOOKUP_BURST;
		if ((i & (BURST - 1)) == 0)
			urcu_qsbr_quiescent_state();
	}
	whereis_report(st, sum, misses, LOOKUP_BURST);
}

static void
bm_trk_register_p1(struct bench_state *st)
{
	bm_register(st, 1);
}
BENCH_REGISTER_ITERS(bm_trk_register_p1, 1, BENCH_ARGS(1000000, 10000000));

static void
bm_trk_register_p4(struct bench_state *st)
{
	bm_register(st, 4);
}
BENCH_REGISTER_ITERS(bm_trk_register_p4, 1, BENCH_ARGS(1000000, 10000000));

static void
bm_trk_whereis_p1(struct bench_state *st)
{
	bm_whereis(st, 1);
}
BENCH_REGISTER(bm_trk_whereis_p1, BENCH_ARGS(1000000, 10000000));

static void
bm_trk_whereis_p4(struct bench_state *st)
{
	bm_whereis(st, 4);
}
BENCH_REGISTER(bm_trk_whereis_p4, BENCH_ARGS(1000000, 10000000));

static void
bm_trk_whereis_burst_p1(struct bench_state *st)
{
	bm_whereis_burst(st, 1);
}
BENCH_REGISTER(bm_trk_whereis_burst_p1, BENCH_ARGS(1000000, 10000000));
