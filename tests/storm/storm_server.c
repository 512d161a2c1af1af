/*
 * storm_server.c - starts the loopback test node (tests/support) for the
 * shell test of the swarm-storm binary: prints its UDP port on stdout,
 * then serves until SIGTERM/SIGINT or for at most SECONDS (default 120).
 *
 *   storm_server [DROP_EVERY [SECONDS]]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "udp_server.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	uint32_t drop = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 0;
	long secs = argc > 2 ? strtol(argv[2], NULL, 10) : 120;
	struct sigaction sa = { .sa_handler = on_signal };
	struct udp_server *s;
	uint16_t port;
	long t;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	s = udp_server_start(&port, drop);
	if (s == NULL) {
		fprintf(stderr, "storm_server: cannot start the node\n");
		return 1;
	}
	printf("%u\n", port);
	fflush(stdout);
	for (t = 0; t < secs * 10 && !stop; t++)
		usleep(100000);
	udp_server_stop(s);
	return 0;
}
