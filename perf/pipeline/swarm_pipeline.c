/*
 * swarm_pipeline.c - the request path of a node, in one process.
 *
 * Until swarmd exists this is the demo, and afterwards it stays as the
 * in-process figure of the request path without packet I/O. It plays both
 * sides of the protocol:
 *
 *   client:  encodes N device names into REGISTER datagrams, K ops each,
 *            grouped by partition the way a client steers by name hash
 *            (MICA-style: every write datagram goes to its owner);
 *   node:    W writer threads, each the owner of the partitions p with
 *            p % W == w, run exec_datagram() over their datagrams: decode,
 *            register in the RCU tables, encode replies;
 *   lookups: R reader threads resolve every name with WHEREIS datagrams
 *            of K ops from any partition, and check each answer;
 *   mixed:   writers refresh every registration (idempotent re-register)
 *            while readers keep resolving, as during a reconnect storm.
 *
 * Every reply datagram is decoded and every op must be answered ok;
 * any mismatch makes the program exit non-zero.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <urcu/urcu-qsbr.h>

#include "exec.h"
#include "pipeline.h"
#include "ring.h"

static struct pl_config cfg = {
	.names = 1000000,
	.parts = 4,
	.writers = 2,
	.readers = 2,
	.batch = 16,
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
usage(const char *prog)
{
	printf("usage: %s [--names N] [--partitions P] [--writers W]\n"
	       "          [--readers R] [--batch K]\n"
	       "Registers N device names through the protocol encoder, the\n"
	       "request executor and the partitioned registry, resolves them\n"
	       "all, then refreshes them while lookups run. Defaults: N=%"
	       PRIu64 " P=%u W=%u R=%u K=%u.\n", prog, cfg.names, cfg.parts,
	       cfg.writers, cfg.readers, cfg.batch);
}

static int
parse_u64(const char *key, const char *s, uint64_t lo, uint64_t hi,
	  uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v < lo || v > hi) {
		fprintf(stderr, "swarm-pipeline: --%s: '%s' is not an integer "
			"in [%" PRIu64 ", %" PRIu64 "]\n", key, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "names", required_argument, NULL, 'n' },
		{ "partitions", required_argument, NULL, 'p' },
		{ "writers", required_argument, NULL, 'w' },
		{ "readers", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const char *key = c == 'n' ? "names" : c == 'p' ? "partitions" :
			c == 'w' ? "writers" : c == 'r' ? "readers" : "batch";

		switch (c) {
		case 'n':
			if (parse_u64(key, optarg, 1, 50000000, &v) < 0)
				return -1;
			cfg.names = v;
			break;
		case 'p':
		case 'w':
		case 'r':
			if (parse_u64(key, optarg, 1, c == 'p' ? TRK_MAX_PARTS : 64,
				      &v) < 0)
				return -1;
			*(c == 'p' ? &cfg.parts : c == 'w' ? &cfg.writers :
			  &cfg.readers) = (uint32_t)v;
			break;
		case 'k':
			if (parse_u64(key, optarg, 1, 32, &v) < 0)
				return -1;
			cfg.batch = (uint32_t)v;
			break;
		case 'h':
			usage(argv[0]);
			exit(0);
		default:
			usage(argv[0]);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "swarm-pipeline: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (cfg.writers > cfg.parts)
		cfg.writers = cfg.parts;
	return 0;
}

/* How a 3-node cluster would place these names (lib/ring). */
static void
show_placement(void)
{
	static const char *nodes[] = { "gw-north", "gw-south", "gw-east" };
	uint64_t owned[3] = { 0 };
	struct ring_members *m = ring_members_create();
	struct ring_policy pol;
	struct ring *r;
	char name[PL_NAME_MAX];
	uint64_t i;
	int err = 0;

	ring_policy_init(&pol);
	for (i = 0; i < 3; i++)
		ring_members_add(m, nodes[i], 1, (uint32_t)i);
	r = ring_build(m, &pol, &err);
	if (r == NULL) {
		fprintf(stderr, "ring_build: %d\n", err);
		ring_members_destroy(m);
		return;
	}
	for (i = 0; i < cfg.names; i++) {
		size_t len = pl_name(name, i);

		owned[ring_lookup_name(r, name, len)]++;
	}
	printf("placement on a 3-node ring (%zu points):", ring_point_count(r));
	for (i = 0; i < 3; i++)
		printf(" %s %.2f%%", nodes[i], 100.0 * (double)owned[i] /
		       (double)cfg.names);
	printf("\n");
	ring_free(r);
	ring_members_destroy(m);
}

int
main(int argc, char **argv)
{
	struct pl_run run;
	int rc;

	if (parse_args(argc, argv) < 0)
		return 2;
	printf("swarm-pipeline: %" PRIu64 " names, %u partitions, %u writer(s), "
	       "%u reader(s), %u ops per datagram\n", cfg.names, cfg.parts,
	       cfg.writers, cfg.readers, cfg.batch);
	show_placement();
	if (pl_setup(&run, &cfg) < 0)
		return 1;
	rc = pl_run_all(&run, mono_ns);
	pl_teardown(&run);
	return rc < 0 ? 1 : 0;
}
