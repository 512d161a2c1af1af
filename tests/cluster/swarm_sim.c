/*
 * swarm-sim - run the cluster simulator's scenarios over many seeds (the
 * soak), or replay one seed.
 *
 *   swarm-sim --seed 42 --scenario partition    replay one run
 *   swarm-sim --seeds 500 [--from 1000] [--scenario crash]   soak
 *
 * Exit status 0 when every run held its invariants, 1 otherwise; each
 * failure prints the command that replays it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>

#include "sim.h"

static int
run(const char *sc, uint64_t seed, bool verbose)
{
	const char *err = sim_scenario(sc, seed);

	if (err == NULL) {
		if (verbose)
			printf("ok   %-10s seed %llu\n", sc,
				(unsigned long long)seed);
		return 0;
	}
	printf("FAIL %-10s seed %llu: %s\n  replay: swarm-sim --seed %llu "
		"--scenario %s\n", sc, (unsigned long long)seed, err,
		(unsigned long long)seed, sc);
	return 1;
}

int
main(int argc, char **argv)
{
	const char *only = NULL;
	uint64_t seed = 0, from = 1, nseeds = 0;
	bool one = false;
	int i, fails = 0, runs = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
			one = true;
		} else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) {
			nseeds = strtoull(argv[++i], NULL, 0);
		} else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
			from = strtoull(argv[++i], NULL, 0);
		} else if (strcmp(argv[i], "--scenario") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else {
			fprintf(stderr, "usage: swarm-sim [--seed S | --seeds N "
				"[--from S0]] [--scenario NAME]\nscenarios:");
			for (int k = 0; sim_scenarios[k]; k++)
				fprintf(stderr, " %s", sim_scenarios[k]);
			fprintf(stderr, "\n");
			return 2;
		}
	}
	if (!one && nseeds == 0)
		nseeds = 20;
	urcu_qsbr_register_thread();
	for (int k = 0; sim_scenarios[k]; k++) {
		const char *sc = sim_scenarios[k];

		if (only != NULL && strcmp(only, sc) != 0)
			continue;
		if (one) {
			fails += run(sc, seed, true);
			runs++;
			continue;
		}
		for (uint64_t s = from; s < from + nseeds; s++) {
			fails += run(sc, s, false);
			runs++;
		}
		printf("%-10s %llu seeds from %llu done\n", sc,
			(unsigned long long)nseeds, (unsigned long long)from);
		fflush(stdout);
	}
	urcu_qsbr_unregister_thread();
	printf("%d runs, %d failed\n", runs, fails);
	return fails ? 1 : 0;
}
