/*
 * test_node.c - a registry node for shell tests of swarmctl.
 *
 *   test_node [DROP_EVERY]   runs tests/support/udp_server on 127.0.0.1
 *   test_node --silent       binds a UDP port and never answers
 *   test_node --old          a node older than every op: answers each op
 *                            `unsupported` (e.g. STATS)
 *
 * Prints the port on the first line of stdout, then serves until stdin
 * reaches end of file (or the process is killed).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"
#include "udp_server.h"

/* --old: answers every op of every request `unsupported`, until stdin
 * reaches end of file. */
static void
serve_old(int fd)
{
	struct pollfd pfd[2] = { { .fd = 0, .events = POLLIN },
				 { .fd = fd, .events = POLLIN } };
	uint8_t buf[2048], out[PROTO_MAX_DGRAM];
	struct sockaddr_storage from;
	struct proto_req req;
	struct proto_op op;
	struct proto_enc e;
	socklen_t flen;
	ssize_t n;

	for (;;) {
		if (poll(pfd, 2, -1) < 0)
			return;
		if (pfd[0].revents && read(0, buf, sizeof(buf)) <= 0)
			return;
		if (!pfd[1].revents)
			continue;
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0,
				(struct sockaddr *)&from, &flen);
		if (n <= 0 || proto_req_parse(&req, buf, (size_t)n) != 0)
			continue;
		proto_rep_init(&e, out, sizeof(out), req.req_id);
		while (proto_req_next_op(&req, &op) != PROTO_END)
			proto_rep_add_error(&e, op.index, op.opcode,
					PROTO_EUNSUPP, 0);
		sendto(fd, out, proto_enc_finish(&e), 0,
			(struct sockaddr *)&from, flen);
	}
}

int
main(int argc, char **argv)
{
	struct udp_server *s = NULL;
	uint16_t port = 0;
	char buf[256];
	int fd = -1;

	if (argc > 1 && (strcmp(argv[1], "--silent") == 0 ||
			 strcmp(argv[1], "--old") == 0)) {
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
	if (argc > 1 && strcmp(argv[1], "--old") == 0) {
		serve_old(fd);
		close(fd);
		return 0;
	}
	while (fgets(buf, sizeof(buf), stdin) != NULL)
		;
	if (s)
		udp_server_stop(s);
	if (fd >= 0)
		close(fd);
	return 0;
}
