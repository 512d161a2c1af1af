/*
 * udp_server.h - a registry node on a kernel UDP socket, for tests.
 *
 * Runs the real request path (lib/exec over lib/tracker) behind a loopback
 * UDP socket on a thread of its own, so that clients (lib/client, swarmctl,
 * swarm-storm) can be tested over real datagrams without DPDK. It is a
 * test harness, not a product: one thread owns every partition.
 */
#ifndef SWARM_TEST_UDP_SERVER_H
#define SWARM_TEST_UDP_SERVER_H

#include <stdint.h>

struct udp_server;

/*
 * Starts a server on 127.0.0.1 with an ephemeral port (returned in *port).
 * drop_every > 0 drops every n-th request datagram unanswered, to exercise
 * client retries. Returns NULL on failure.
 */
struct udp_server *udp_server_start(uint16_t *port, uint32_t drop_every);

/* Requests received so far (answered or dropped). */
uint64_t udp_server_requests(const struct udp_server *s);

/* Stops the thread and frees everything. Call from a thread that is not
 * registered with liburcu QSBR (it registers itself for the teardown). */
void udp_server_stop(struct udp_server *s);

#endif /* SWARM_TEST_UDP_SERVER_H */
