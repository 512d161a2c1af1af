/*
 * pipeline.h - phases of the in-process request path (swarm_pipeline.c).
 */
#ifndef SWARM_PIPELINE_H
#define SWARM_PIPELINE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "tracker.h"

#define PL_NAME_MAX 32

struct pl_config {
	uint64_t names;
	uint32_t parts;
	uint32_t writers;
	uint32_t readers;
	uint32_t batch;		/* ops per request datagram */
};

/* A list of request datagrams stored back to back in one buffer. */
struct pl_dgrams {
	uint8_t *buf;
	size_t used, cap;
	uint32_t *off;		/* start of datagram i */
	uint32_t *len;
	uint64_t *first;	/* index of the name in its first op (lookups) */
	size_t n, ncap;
};

struct pl_run {
	struct pl_config cfg;
	struct trk *trk;
	struct pl_dgrams *writes;	/* one list per partition */
	struct pl_dgrams reads;
	pthread_barrier_t start;
	int failed;			/* set by any thread that saw a wrong answer */
};

/* Device name number i ("dev-" and ten digits); returns its length. */
size_t pl_name(char *buf, uint64_t i);
/* The handle registered for name i. */
uint64_t pl_handle(uint64_t i);

int pl_setup(struct pl_run *run, const struct pl_config *cfg);
int pl_run_all(struct pl_run *run, uint64_t (*clock_ns)(void));
void pl_teardown(struct pl_run *run);

#endif /* SWARM_PIPELINE_H */
