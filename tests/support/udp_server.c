/*
 * udp_server.c - see udp_server.h. The thread polls its socket with a
 * 50 ms timeout so that stop requests are seen promptly; it is RCU-online
 * only while it executes a datagram.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include "exec.h"
#include "udp_server.h"

struct udp_server {
	int fd;
	uint32_t drop_every;
	volatile int stop;
	uint64_t requests;
	pthread_t tid;
	struct trk *trk;
	struct exec_out out;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
serve_one(struct udp_server *s, const struct exec_node *node)
{
	uint8_t buf[2048];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n = recvfrom(s->fd, buf, sizeof(buf), MSG_DONTWAIT,
			(struct sockaddr *)&from, &flen);
	size_t i;

	if (n < 0)
		return;
	__atomic_add_fetch(&s->requests, 1, __ATOMIC_RELAXED);
	if (s->drop_every && s->requests % s->drop_every == 0)
		return;
	urcu_qsbr_thread_online();
	if (exec_datagram(s->trk, node, buf, (size_t)n, now_ms(),
			&s->out) == EXEC_ANSWERED)
		for (i = 0; i < s->out.n; i++)
			sendto(s->fd, s->out.dgram[i], s->out.len[i], 0,
				(struct sockaddr *)&from, flen);
	for (i = 0; i < trk_nparts(s->trk); i++)
		trk_expire(s->trk, (uint32_t)i, now_ms(), 64);
	urcu_qsbr_quiescent_state();
	urcu_qsbr_thread_offline();
}

/* STATS: "requests" (datagrams received) and "entries" (registrations). */
static int
stats(void *arg, const char **names, uint64_t *values, size_t max)
{
	struct udp_server *s = arg;

	if (max < 2)
		return 0;
	names[0] = "requests";
	values[0] = __atomic_load_n(&s->requests, __ATOMIC_RELAXED);
	names[1] = "entries";
	values[1] = trk_count(s->trk);
	return 2;
}

static void *
serve(void *arg)
{
	struct udp_server *s = arg;
	struct exec_node node = { .node_id = 1, .name = "test-node",
				  .start_ms = now_ms(), .stats = stats,
				  .stats_arg = s };
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };

	urcu_qsbr_register_thread();
	urcu_qsbr_thread_offline();
	while (!s->stop)
		if (poll(&pfd, 1, 50) > 0)
			serve_one(s, &node);
	urcu_qsbr_unregister_thread();
	return NULL;
}

struct udp_server *
udp_server_start(uint16_t *port, uint32_t drop_every)
{
	struct trk_config tc = { .nparts = 4, .node_id = 1,
				 .expected_entries = 1 << 16 };
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct udp_server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->drop_every = drop_every;
	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	s->trk = trk_create(&tc);
	if (s->fd < 0 || s->trk == NULL ||
	    bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &alen) < 0 ||
	    pthread_create(&s->tid, NULL, serve, s) != 0) {
		if (s->fd >= 0)
			close(s->fd);
		free(s);	/* the tracker is leaked: a failed test exits */
		return NULL;
	}
	*port = ntohs(a.sin_port);
	return s;
}

uint64_t
udp_server_requests(const struct udp_server *s)
{
	return __atomic_load_n(&s->requests, __ATOMIC_RELAXED);
}

void
udp_server_stop(struct udp_server *s)
{
	s->stop = 1;
	pthread_join(s->tid, NULL);
	close(s->fd);
	urcu_qsbr_register_thread();
	trk_destroy(s->trk);
	urcu_qsbr_unregister_thread();
	free(s);
}
