/*
 * test_net_neigh.c - the neighbor table, ARP learning and ARP requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "net_frames.h"

static void
test_arp_request_is_answered(void **state)
{
	struct net_if_cfg us, peer;
	uint8_t f[FRAME_CAP];
	struct rte_ether_addr mac;
	struct net_pkt pkt;
	rte_be32_t ip;
	size_t len;

	(void)state;
	us_cfg(&us);
	peer_cfg(&peer);
	/* we ask for the peer: it sees a request for it from us ... */
	len = net_arp_request(f, sizeof(f), &us, PEER_IP);
	assert_int_equal(len, 60);
	assert_true(rte_is_broadcast_ether_addr(&f_eth(f)->dst_addr));
	assert_int_equal(f_arp(f)->arp_data.arp_tip, PEER_IP);
	assert_int_equal(net_classify(f, len, &peer, false, false, &pkt),
			NET_V_ARP_REPLY);
	/* ... learns us from it, and its answer teaches us its MAC */
	assert_true(net_arp_learn(f, len, &peer, &ip, &mac));
	assert_int_equal(ip, US_IP);
	assert_true(rte_is_same_ether_addr(&mac, &us_mac));
	len = net_arp_reply(f, len, &peer);
	assert_true(len > 0);
	assert_true(net_arp_learn(f, len, &us, &ip, &mac));
	assert_int_equal(ip, PEER_IP);
	assert_true(rte_is_same_ether_addr(&mac, &peer_mac));
	assert_int_equal(net_arp_request(f, 41, &us, PEER_IP), 0);
}

static void
test_arp_learn_refuses(void **state)
{
	struct net_if_cfg us;
	uint8_t f[FRAME_CAP];
	struct rte_ether_addr mac;
	rte_be32_t ip;
	size_t len;

	(void)state;
	us_cfg(&us);
	len = frame_arp(f, US_IP);
	assert_true(net_arp_learn(f, len, &us, &ip, &mac));
	/* truncated, not ARP, bad opcode, multicast sender, from ourselves,
	 * from outside our subnet */
	assert_false(net_arp_learn(f, 41, &us, &ip, &mac));
	f_eth(f)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	assert_false(net_arp_learn(f, len, &us, &ip, &mac));
	len = frame_arp(f, US_IP);
	f_arp(f)->arp_opcode = RTE_BE16(9);
	assert_false(net_arp_learn(f, len, &us, &ip, &mac));
	len = frame_arp(f, US_IP);
	f_arp(f)->arp_data.arp_sha.addr_bytes[0] |= 1;
	assert_false(net_arp_learn(f, len, &us, &ip, &mac));
	len = frame_arp(f, US_IP);
	f_arp(f)->arp_data.arp_sip = US_IP;
	assert_false(net_arp_learn(f, len, &us, &ip, &mac));
	len = frame_arp(f, US_IP);
	f_arp(f)->arp_data.arp_sip = RTE_BE32(RTE_IPV4(100, 64, 1, 1)); /* < 128: RTE_IPV4 shifts an int */
	assert_false(net_arp_learn(f, len, &us, &ip, &mac));
}

static void
test_neigh_table(void **state)
{
	static struct net_neigh t;
	struct rte_ether_addr mac, got;
	uint32_t i;

	(void)state;
	memset(&t, 0, sizeof(t));
	mac = peer_mac;
	assert_false(net_neigh_lookup(&t, PEER_IP, &got, 1000));
	/* ARP requests for one address are rate limited */
	assert_true(net_neigh_want(&t, PEER_IP, 1000, 100));
	assert_false(net_neigh_want(&t, PEER_IP, 1050, 100));
	assert_true(net_neigh_want(&t, PEER_IP, 1100, 100));
	assert_false(net_neigh_lookup(&t, PEER_IP, &got, 1100));
	net_neigh_learn(&t, PEER_IP, &mac, 1200);
	assert_true(net_neigh_lookup(&t, PEER_IP, &got, 1200));
	assert_true(rte_is_same_ether_addr(&got, &mac));
	/* zero and multicast MACs are never learned */
	net_neigh_learn(&t, US_IP, &bcast_mac, 1200);
	assert_false(net_neigh_lookup(&t, US_IP, &got, 1200));
	/* a thousand neighbors in 256 slots: the newest always resolve */
	for (i = 1; i <= 1000; i++) {
		mac.addr_bytes[5] = (uint8_t)i;
		net_neigh_learn(&t, RTE_BE32(RTE_IPV4(10, 0, i >> 8, i & 255)),
				&mac, 2000 + i);
		assert_true(net_neigh_lookup(&t,
				RTE_BE32(RTE_IPV4(10, 0, i >> 8, i & 255)), &got,
				2000 + i));
		assert_int_equal(got.addr_bytes[5], (uint8_t)i);
	}
}

/*
 * A spoofer must not move a peer's MAC, and a poisoned entry must not
 * last: only an ARP reply addressed to us, the first to a request we sent
 * within the window, is taken, and only tentatively; it never replaces a
 * MAC that authentic gossip confirmed; a tentative entry nobody confirms,
 * or a confirmed one not heard from, stops resolving and is asked again.
 */
static void
test_arp_only_asked_replies(void **state)
{
	static struct net_neigh t;
	struct net_if_cfg us, peer;
	struct rte_ether_addr evil = peer_mac, got;
	uint8_t f[FRAME_CAP];
	size_t len;

	(void)state;
	memset(&t, 0, sizeof(t));
	us_cfg(&us);
	peer_cfg(&peer);
	evil.addr_bytes[5] ^= 0x55;
	len = net_arp_request(f, sizeof(f), &us, PEER_IP);
	assert_false(net_arp_is_reply_to(f, len, &us));
	assert_false(net_arp_is_reply_to(f, 41, &us));
	len = net_arp_reply(f, len, &peer);
	assert_true(net_arp_is_reply_to(f, len, &us));
	assert_false(net_arp_is_reply_to(f, len, &peer));	/* not to it */
	/* never asked: refused; asked: the first answer in time only */
	assert_false(net_neigh_answered(&t, PEER_IP, &evil, 1000, 1000));
	assert_true(net_neigh_want(&t, PEER_IP, 1000, 100));
	assert_false(net_neigh_answered(&t, PEER_IP, &evil, 2000, 1000));
	assert_true(net_neigh_want(&t, PEER_IP, 2000, 100));
	assert_true(net_neigh_answered(&t, PEER_IP, &evil, 2100, 1000));
	assert_false(net_neigh_answered(&t, PEER_IP, &peer_mac, 2101, 1000));
	/* tentative: resolves for a second, then is asked for again */
	assert_true(net_neigh_lookup(&t, PEER_IP, &got, 2500));
	assert_true(rte_is_same_ether_addr(&got, &evil));
	assert_false(net_neigh_lookup(&t, PEER_IP, &got, 3100));
	/* gossip confirms the real MAC; a later answer cannot move it */
	net_neigh_learn(&t, PEER_IP, &peer_mac, 3200);
	assert_true(net_neigh_want(&t, PEER_IP, 3300, 100));
	assert_false(net_neigh_answered(&t, PEER_IP, &evil, 3301, 1000));
	assert_true(net_neigh_lookup(&t, PEER_IP, &got, 3400));
	assert_true(rte_is_same_ether_addr(&got, &peer_mac));
	/* confirmed but silent for NET_NEIGH_STALE_MS: asked for again */
	assert_false(net_neigh_lookup(&t, PEER_IP, &got,
			3200 + NET_NEIGH_STALE_MS));
}

/* Frames to peers off the subnet go to the gateway's MAC, found by ARP. */
static void
test_next_hop_gateway(void **state)
{
	static struct net_neigh t;
	const rte_be32_t gw = RTE_BE32(RTE_IPV4(10, 0, 0, 1));
	/* 172.16.7.9, not RTE_IPV4(172, ...): it shifts an int (UBSan) */
	const rte_be32_t far = RTE_BE32(0xac100709u);
	struct net_if_cfg us, router;
	struct rte_ether_addr mac;
	uint8_t f[FRAME_CAP];
	struct net_pkt pkt;
	rte_be32_t ip, hop;
	size_t len;

	(void)state;
	memset(&t, 0, sizeof(t));
	us_cfg(&us);		/* 10.0.0.2/24, gateway 10.0.0.1 */
	/* on the subnet: the peer itself, gateway or not */
	assert_int_equal(net_next_hop(&us, PEER_IP), PEER_IP);
	assert_int_equal(net_next_hop(&us, RTE_BE32(RTE_IPV4(10, 0, 0, 254))),
			RTE_BE32(RTE_IPV4(10, 0, 0, 254)));
	/* off the subnet: the gateway (a /24 boundary, and far away) */
	assert_int_equal(net_next_hop(&us, RTE_BE32(RTE_IPV4(10, 0, 1, 2))), gw);
	assert_int_equal(net_next_hop(&us, far), gw);
	/* no gateway, or no netmask: every address is asked for directly */
	us.gateway = 0;
	assert_int_equal(net_next_hop(&us, far), far);
	us_cfg(&us);
	us.netmask = 0;
	assert_int_equal(net_next_hop(&us, far), far);
	us_cfg(&us);

	/* the whole path: a miss asks ARP for the gateway, not for far */
	hop = net_next_hop(&us, far);
	assert_false(net_neigh_lookup(&t, hop, &mac, 1000));
	assert_true(net_neigh_want(&t, hop, 1000, 100));
	len = net_arp_request(f, sizeof(f), &us, hop);
	assert_int_equal(f_arp(f)->arp_data.arp_tip, gw);
	/* the router answers; its reply is learned under its address */
	peer_cfg(&router);
	router.ip = gw;
	router.mac = peer_mac;
	assert_int_equal(net_classify(f, len, &router, false, false, &pkt),
			NET_V_ARP_REPLY);
	len = net_arp_reply(f, len, &router);
	assert_true(net_arp_learn(f, len, &us, &ip, &mac));
	assert_int_equal(ip, gw);
	net_neigh_learn(&t, ip, &mac, 1010);
	/* far is now reached through the router's MAC; far itself is unknown */
	assert_true(net_neigh_lookup(&t, net_next_hop(&us, far), &mac, 1100));
	assert_true(rte_is_same_ether_addr(&mac, &peer_mac));
	assert_false(net_neigh_lookup(&t, far, &mac, 1100));
	/* and the frame built for it: router's MAC, far's IP */
	len = net_build_udp_frame(f, sizeof(f), &us.mac, &mac, us.ip, far,
			7401, 7401, "x", 1);
	assert_true(len > 0);
	assert_true(rte_is_same_ether_addr(&f_eth(f)->dst_addr, &peer_mac));
	assert_int_equal(f_ip(f)->dst_addr, far);
}

int
net_tests_neigh(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_request_is_answered),
		cmocka_unit_test(test_arp_learn_refuses),
		cmocka_unit_test(test_neigh_table),
		cmocka_unit_test(test_arp_only_asked_replies),
		cmocka_unit_test(test_next_hop_gateway),
	};

	return cmocka_run_group_tests_name("net_neigh", tests, NULL, NULL);
}
