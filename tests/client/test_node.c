/*
 * test_node.c - a registry node for shell tests of swarmctl.
 *
 *   test_node [DROP_EVERY]   runs tests/support/udp_server on 127.0.0.1
 *   test_node --silent       binds a UDP port and never answers
 *
 * Prints the port on the first line of stdout, then serves until stdin
 * reaches end of file (or the process is killed).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp_server.h"

int
main(int argc, char **argv)
{
	struct udp_server *s = NULL;
	uint16_t port = 0;
	char buf[256];
	int fd = -1;

	if (argc > 1 && strcmp(argv[1], "--silent") == 0) {
		struct sockaddr_in a = { .sin_family = AF_INET,
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t alen = sizeof(a);

		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
			perror("test_node");
			return 1;
		}
		port = ntohs(a.sin_port);
	} else {
		s = udp_server_start(&port,
			argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 0);
		if (s == NULL) {
			fprintf(stderr, "test_node: cannot start the server\n");
			return 1;
		}
	}
	printf("%u\n", port);
	fflush(stdout);
	while (fgets(buf, sizeof(buf), stdin) != NULL)
		;
	if (s)
		udp_server_stop(s);
	if (fd >= 0)
		close(fd);
	return 0;
}
