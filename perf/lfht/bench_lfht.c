/*
 * bench_lfht.c - the raw liburcu cds_lfht baseline.
 *
 * Measures what the registry's partitions are built on, with nothing of
 * swarm around it: a presized QSBR cds_lfht, keys of 16 bytes with a 32-byte
 * value in one malloc'd node (jemalloc in normal builds), add_unique and
 * random-hit lookups from one thread. perf/RESULTS.md sets the tracker's
 * figures beside these, so the cost of the registry's own logic shows.
 *
 * The table for each size is built once and cached: Google Benchmark calls
 * a benchmark function several times and a 10M-key build takes seconds.
 * Tables are created as the tracker creates them (presized, AUTO_RESIZE
 * with ACCOUNTING): without ACCOUNTING, auto-resize reacts to chain length
 * alone and keeps resizing a presized table in the background, which
 * measured here roughly halves both insert and lookup rates.
 */
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include "bench.h"
#include "ring_hash.h"

struct lfht_item {
	struct cds_lfht_node node;
	uint64_t hash;
	uint8_t key[16];
	uint8_t value[32];
};

struct lfht_set {
	struct cds_lfht *ht;
	int64_t n;
};

static struct lfht_set cached[2];

static void
lfht_key(uint8_t key[16], uint64_t i)
{
	memcpy(key, "dev-", 4);
	memcpy(key + 4, &i, sizeof(i));
	memset(key + 12, 0x5a, 4);
}

static int
lfht_match(struct cds_lfht_node *node, const void *key)
{
	const struct lfht_item *it = caa_container_of(node, struct lfht_item, node);

	return memcmp(it->key, key, sizeof(it->key)) == 0;
}

static unsigned long
lfht_pow2(int64_t n)
{
	unsigned long s = 1;

	while ((int64_t)s < n)
		s <<= 1;
	return s;
}

static struct cds_lfht *
lfht_new_table(int64_t n)
{
	unsigned long sz = lfht_pow2(n);

	return cds_lfht_new_flavor(sz, sz, 0,
				   CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
				   &urcu_qsbr_flavor, NULL);
}

/* Inserts keys [0, n); returns the number inserted. Caller is online. */
static int64_t
lfht_fill(struct cds_lfht *ht, int64_t n)
{
	int64_t i;

	for (i = 0; i < n; i++) {
		struct lfht_item *it = malloc(sizeof(*it));

		if (it == NULL)
			break;
		lfht_key(it->key, (uint64_t)i);
		it->hash = ring_hash_name(it->key, sizeof(it->key));
		memset(it->value, (int)i, sizeof(it->value));
		cds_lfht_node_init(&it->node);
		cds_lfht_add_unique(ht, it->hash, lfht_match, it->key, &it->node);
	}
	return i;
}

static void
lfht_thread_enter(void)
{
	static __thread int registered;

	if (!registered) {
		urcu_qsbr_register_thread();
		registered = 1;
	}
}

static struct lfht_set *
lfht_get_filled(int64_t n)
{
	struct lfht_set *s = &cached[n > 1000000];

	if (s->ht == NULL) {
		s->ht = lfht_new_table(n);
		s->n = lfht_fill(s->ht, n);
	}
	return s;
}

/* add_unique into a fresh presized table, n keys per timed iteration. */
static void
bm_lfht_insert(struct bench_state *st)
{
	int64_t n = bench_arg(st);
	int64_t done = 0;

	lfht_thread_enter();
	while (bench_keep_running(st)) {
		struct cds_lfht *ht;

		bench_pause(st);
		ht = lfht_new_table(n);
		bench_resume(st);
		done += lfht_fill(ht, n);
		bench_pause(st);
		/*
		 * Nodes are leaked on purpose: freeing 10M nodes one by one
		 * would dominate the run, and the process exits soon after.
		 * The table itself is destroyed offline as liburcu requires.
		 */
		urcu_qsbr_thread_offline();
		cds_lfht_destroy(ht, NULL);
		urcu_qsbr_thread_online();
		bench_resume(st);
	}
	bench_set_items(st, done);
}
BENCH_REGISTER_ITERS(bm_lfht_insert, 1, BENCH_ARGS(1000000, 10000000))

/*
 * Random-hit lookups in a filled table: 2^20 random keys, hashed before
 * the timing starts, cycled through -- the same method as the tracker's
 * whereis benchmark, so the two figures compare.
 */
#define LFHT_NKEYS (1u << 20)

static void
bm_lfht_lookup(struct bench_state *st)
{
	static uint8_t keys[LFHT_NKEYS][16];
	static uint64_t hashes[LFHT_NKEYS];
	struct lfht_set *s;
	uint64_t x = 88172645463325252ull, hits = 0;
	int64_t ops = 0;
	uint32_t k;

	lfht_thread_enter();
	s = lfht_get_filled(bench_arg(st));
	for (k = 0; k < LFHT_NKEYS; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		lfht_key(keys[k], x % (uint64_t)s->n);
		hashes[k] = ring_hash_name(keys[k], sizeof(keys[k]));
	}
	while (bench_keep_running(st)) {
		struct cds_lfht_iter iter;
		uint32_t i = (uint32_t)ops & (LFHT_NKEYS - 1);

		cds_lfht_lookup(s->ht, hashes[i], lfht_match, keys[i], &iter);
		hits += cds_lfht_iter_get_node(&iter) != NULL;
		if ((++ops & 1023) == 0)
			urcu_qsbr_quiescent_state();
	}
	if (hits != (uint64_t)ops)
		bench_skip(st, "lookup missed a key that was inserted");
	bench_set_items(st, ops);
}
BENCH_REGISTER(bm_lfht_lookup, BENCH_ARGS(1000000, 10000000))
