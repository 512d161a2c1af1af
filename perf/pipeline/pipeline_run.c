/*
 * pipeline_run.c - writer and reader threads of swarm-pipeline, and the
 * phases that combine them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>

#include "exec.h"
#include "pipeline.h"

#define PL_BURST 32		/* datagrams between quiescent states */
#define PL_NOW_MS 1000		/* the registry's clock: no leases here */

static const struct exec_node pl_node = {
	.node_id = 1,
	.name = "pipeline",
	.start_ms = 0,
};

struct pl_thread {
	struct pl_run *run;
	uint32_t id;
	uint64_t (*clock_ns)(void);
	uint64_t t0, t1;
	uint64_t ops, ok;
	struct exec_out *out;
};

static void
pl_fail(struct pl_thread *th, const char *what, uint64_t detail)
{
	if (!__atomic_exchange_n(&th->run->failed, 1, __ATOMIC_RELAXED))
		fprintf(stderr, "swarm-pipeline: %s (%" PRIu64 ")\n", what,
			detail);
}

/* Executes one request; returns the reply datagrams in th->out. */
static void
pl_exec(struct pl_thread *th, const struct pl_dgrams *d, size_t i)
{
	if (exec_datagram(th->run->trk, &pl_node, d->buf + d->off[i], d->len[i],
			  PL_NOW_MS, th->out) != EXEC_ANSWERED)
		pl_fail(th, "request dropped", i);
	th->ops += th->out->ops;
	th->ok += th->out->status[PROTO_ST_OK];
}

/* Writer: owner of partitions p with p % writers == id. */
static void *
pl_writer(void *arg)
{
	struct pl_thread *th = arg;
	struct pl_run *run = th->run;
	uint32_t p, burst = 0;
	size_t i;

	urcu_qsbr_register_thread();
	pthread_barrier_wait(&run->start);
	th->t0 = th->clock_ns();
	for (p = th->id; p < run->cfg.parts; p += run->cfg.writers) {
		for (i = 0; i < run->writes[p].n; i++) {
			pl_exec(th, &run->writes[p], i);
			if (++burst == PL_BURST) {
				urcu_qsbr_quiescent_state();
				burst = 0;
			}
		}
	}
	th->t1 = th->clock_ns();
	urcu_qsbr_unregister_thread();
	return NULL;
}

/* Checks every WHEREIS answer of request i against the registered name. */
static void
pl_check_lookup(struct pl_thread *th, const struct pl_dgrams *d, size_t i)
{
	const struct exec_out *o = th->out;
	struct proto_reply r;
	struct proto_rep rep;
	size_t k;

	for (k = 0; k < o->n; k++) {
		if (proto_rep_parse(&rep, o->dgram[k], o->len[k]) != 0) {
			pl_fail(th, "undecodable reply", i);
			return;
		}
		while (proto_rep_next(&rep, &r) == 0) {
			uint64_t want = d->first[i] + r.index;

			if (r.status != PROTO_ST_OK ||
			    r.u.entry.handle != pl_handle(want))
				pl_fail(th, "wrong lookup answer for name", want);
		}
	}
}

/* Reader: resolves its share of the names, checking every answer. */
static void *
pl_reader(void *arg)
{
	struct pl_thread *th = arg;
	struct pl_run *run = th->run;
	const struct pl_dgrams *d = &run->reads;
	size_t i, lo = d->n * th->id / run->cfg.readers;
	size_t hi = d->n * (th->id + 1) / run->cfg.readers;
	uint32_t burst = 0;

	urcu_qsbr_register_thread();
	pthread_barrier_wait(&run->start);
	th->t0 = th->clock_ns();
	for (i = lo; i < hi; i++) {
		pl_exec(th, d, i);
		pl_check_lookup(th, d, i);
		if (++burst == PL_BURST) {
			urcu_qsbr_quiescent_state();
			burst = 0;
		}
	}
	th->t1 = th->clock_ns();
	urcu_qsbr_unregister_thread();
	return NULL;
}

struct pl_group {
	uint32_t n;
	struct pl_thread *th;
	pthread_t *tid;
};

static int
pl_group_start(struct pl_run *run, struct pl_group *g, uint32_t n,
	       void *(*fn)(void *), uint64_t (*clock_ns)(void))
{
	uint32_t i;

	g->n = n;
	g->th = calloc(n, sizeof(*g->th));
	g->tid = calloc(n, sizeof(*g->tid));
	if (g->th == NULL || g->tid == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		g->th[i].run = run;
		g->th[i].id = i;
		g->th[i].clock_ns = clock_ns;
		g->th[i].out = malloc(sizeof(*g->th[i].out));
		if (g->th[i].out == NULL ||
		    pthread_create(&g->tid[i], NULL, fn, &g->th[i]) != 0)
			return -1;
	}
	return 0;
}

/* Joins the group; reports ops/s over the group's whole span. */
static double
pl_group_join(struct pl_group *g, uint64_t *ops, uint64_t *ok)
{
	uint64_t t0 = UINT64_MAX, t1 = 0;
	uint32_t i;

	*ops = *ok = 0;
	for (i = 0; i < g->n; i++) {
		pthread_join(g->tid[i], NULL);
		t0 = g->th[i].t0 < t0 ? g->th[i].t0 : t0;
		t1 = g->th[i].t1 > t1 ? g->th[i].t1 : t1;
		*ops += g->th[i].ops;
		*ok += g->th[i].ok;
		free(g->th[i].out);
	}
	free(g->th);
	free(g->tid);
	return t1 > t0 ? (double)(t1 - t0) / 1e9 : 1e-9;
}

static int
pl_phase(struct pl_run *run, const char *label, bool writers, bool readers,
	 uint64_t (*clock_ns)(void))
{
	uint32_t n = (writers ? run->cfg.writers : 0) +
		(readers ? run->cfg.readers : 0);
	struct pl_group w = { 0 }, r = { 0 };
	uint64_t ops, ok;
	double s;

	pthread_barrier_init(&run->start, NULL, n);
	urcu_qsbr_thread_offline();	/* main only waits from here on */
	if ((writers && pl_group_start(run, &w, run->cfg.writers, pl_writer,
				       clock_ns) < 0) ||
	    (readers && pl_group_start(run, &r, run->cfg.readers, pl_reader,
				       clock_ns) < 0)) {
		fprintf(stderr, "swarm-pipeline: cannot start threads\n");
		exit(1);
	}
	if (writers) {
		s = pl_group_join(&w, &ops, &ok);
		printf("%-9s registrations: %9" PRIu64 " ops in %6.3f s = "
		       "%6.2f M/s (%u writer threads), %" PRIu64 " ok\n", label,
		       ops, s, (double)ops / s / 1e6, run->cfg.writers, ok);
		if (ok != run->cfg.names)
			run->failed = 1;
	}
	if (readers) {
		s = pl_group_join(&r, &ops, &ok);
		printf("%-9s lookups:       %9" PRIu64 " ops in %6.3f s = "
		       "%6.2f M/s (%u reader threads), %" PRIu64 " resolved to "
		       "the right handle\n", label, ops, s,
		       (double)ops / s / 1e6, run->cfg.readers, ok);
		if (ok != run->cfg.names)
			run->failed = 1;
	}
	urcu_qsbr_thread_online();
	pthread_barrier_destroy(&run->start);
	return run->failed ? -1 : 0;
}

int
pl_run_all(struct pl_run *run, uint64_t (*clock_ns)(void))
{
	struct trk_stats st;

	if (pl_phase(run, "storm", true, false, clock_ns) < 0 ||
	    pl_phase(run, "resolve", false, true, clock_ns) < 0 ||
	    pl_phase(run, "mixed", true, true, clock_ns) < 0) {
		fprintf(stderr, "swarm-pipeline: FAILED: some answers were "
			"wrong or missing\n");
		return -1;
	}
	trk_stats(run->trk, &st);
	printf("registry: %" PRIu64 " entries, %" PRIu64 " new registrations, "
	       "%" PRIu64 " refreshes with new content, %" PRIu64
	       " refused (full)\n", st.entries, st.registers, st.updates,
	       st.full);
	if (st.entries != run->cfg.names) {
		fprintf(stderr, "swarm-pipeline: FAILED: %" PRIu64 " entries "
			"stored, %" PRIu64 " registered\n", st.entries,
			run->cfg.names);
		return -1;
	}
	printf("swarm-pipeline: all %" PRIu64 " names registered and resolved\n",
	       run->cfg.names);
	return 0;
}
