/*
 * bench.h - register Google Benchmark benchmarks from C.
 *
 * Google Benchmark is a C++ library; the code under test is C. This header
 * is the whole C side of the bridge: a C file defines a function
 *
 *	static void
 *	bm_ring_lookup(struct bench_state *st)
 *	{
 *		setup();                         // untimed: runs once per run
 *		while (bench_keep_running(st))
 *			work();
 *		bench_set_items(st, bench_iterations(st));
 *	}
 *	BENCH_REGISTER(bm_ring_lookup, BENCH_ARGS(1000000, 10000000));
 *
 * and the shim (bench_shim.cc) turns each registration into one Google
 * Benchmark per argument, named "bm_ring_lookup/1000000". Registration runs
 * from an ELF constructor, before main(), so no central list is kept.
 */
#ifndef SWARM_BENCH_H
#define SWARM_BENCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bench_state;
typedef void (*bench_fn)(struct bench_state *st);

#define BENCH_MAX_ARGS 8

/* True while the timed loop should go on; the first call starts timing. */
int bench_keep_running(struct bench_state *st);
/* The argument this run was registered with (0 when none). */
int64_t bench_arg(struct bench_state *st);
/* Iterations done so far (use after the loop). */
int64_t bench_iterations(struct bench_state *st);
/* Report items/s (printed as items_per_second). */
void bench_set_items(struct bench_state *st, int64_t items);
/* Report bytes/s. */
void bench_set_bytes(struct bench_state *st, int64_t bytes);
/* A named figure printed beside the timing (plain value, not a rate). */
void bench_counter(struct bench_state *st, const char *name, double value);
/* Stop and restart the timer around untimed work inside the loop. */
void bench_pause(struct bench_state *st);
void bench_resume(struct bench_state *st);
/* Fail the run with a message (the benchmark reports an error). */
void bench_skip(struct bench_state *st, const char *msg);

/*
 * Register fn under name with nargs arguments (nargs 0 = one run with arg 0).
 * iterations > 0 fixes the iteration count (for heavy set-ups); 0 lets
 * Google Benchmark choose.
 */
void bench_register(const char *name, bench_fn fn, const int64_t *args,
		int nargs, int64_t iterations);

#define BENCH_ARGS(...) ((const int64_t[]){ __VA_ARGS__ }), \
	(int)(sizeof((const int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t))
#define BENCH_NOARGS NULL, 0

#define BENCH_REGISTER_ITERS(fn, iters, ...) \
	__attribute__((constructor)) static void \
	fn##_register(void) \
	{ \
		bench_register(#fn, fn, __VA_ARGS__, iters); \
	}
#define BENCH_REGISTER(fn, ...) BENCH_REGISTER_ITERS(fn, 0, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif /* SWARM_BENCH_H */
