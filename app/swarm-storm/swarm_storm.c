/*
 * swarm_storm.c - swarm-storm: registration and lookup storms against a
 * node over kernel UDP (docs/storm.md). Everything but main() is in the
 * storm_engine library (storm.h), which the tests link directly.
 */
#include <stdio.h>

#include "storm.h"

int
main(int argc, char **argv)
{
	static struct storm_cfg cfg;
	static struct storm_report rep;
	char err[512] = "";
	int rc;

	rc = storm_parse_args(&cfg, argc, argv, err, sizeof(err));
	if (rc == 1)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "swarm-storm: %s\n"
			"Try 'swarm-storm --help'.\n", err);
		return 2;
	}
	if (storm_run(&cfg, &rep, cfg.quiet ? NULL : stderr, err,
		      sizeof(err)) < 0) {
		fprintf(stderr, "swarm-storm: %s\n", err);
		return 1;
	}
	if (cfg.json)
		storm_report_json(stdout, &cfg, &rep);
	else
		storm_report_text(stdout, &cfg, &rep);
	return storm_exit_code(&rep);
}
