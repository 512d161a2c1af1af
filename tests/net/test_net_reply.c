/*
 * test_net_reply.c - the frame builders: ARP reply (every byte), ICMP echo
 * reply (checksums, data, options removed), UDP replies accepted by the
 * classifier on the peer's side (software and offloaded checksums), and
 * net_build_udp_frame() (software and offloaded checksums) / net_pad()
 * limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net_frames.h"

static void
test_arp_reply_fields(void **state)
{
	static const uint8_t want[42] = {
		/* Ethernet: to the requester, from us, ARP */
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06,
		/* htype 1, ptype 0x0800, hlen 6, plen 4, op 2 (reply) */
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02,
		/* sender: our MAC, 10.0.0.2 */
		0x02, 0, 0, 0, 0, 0x01, 10, 0, 0, 2,
		/* target: the requester's MAC, 10.0.0.9 */
		0x02, 0, 0, 0, 0, 0x02, 10, 0, 0, 9,
	};
	uint8_t f[FRAME_CAP];
	struct net_if_cfg cfg;
	struct net_pkt p;
	size_t n, i;
	uint8_t *h;

	(void)state;
	us_cfg(&cfg);
	/* Unpadded request (veth, af_packet): a 42-byte reply. */
	n = frame_arp(f, US_IP);
	h = dup_exact(f, n);
	assert_int_equal(net_classify(h, n, &cfg, false, false, &p),
			NET_V_ARP_REPLY);
	assert_int_equal(net_arp_reply(h, n, &cfg), 42);
	assert_memory_equal(h, want, sizeof(want));
	free(h);

	/* Padded request (real wire, junk in the pad): 60 bytes, zero pad. */
	n = frame_arp(f, US_IP);
	memset(f + n, 0xee, NET_ETHER_MIN_FRAME - n);
	h = dup_exact(f, NET_ETHER_MIN_FRAME);
	assert_int_equal(net_arp_reply(h, NET_ETHER_MIN_FRAME, &cfg), 60);
	assert_memory_equal(h, want, sizeof(want));
	for (i = sizeof(want); i < NET_ETHER_MIN_FRAME; i++)
		assert_int_equal(h[i], 0);

	/* The peer sees an ARP reply: counted, not answered. */
	peer_cfg(&cfg);
	assert_int_equal(net_classify(h, 60, &cfg, false, false, &p), NET_V_DROP);
	assert_int_equal(p.drop, NET_DROP_ARP_OP);
	free(h);
}

static void
test_arp_reply_refuses(void **state)
{
	uint8_t f[FRAME_CAP];
	struct net_if_cfg cfg;
	size_t n;

	(void)state;
	us_cfg(&cfg);
	n = frame_arp(f, US_IP);
	assert_int_equal(net_arp_reply(f, n - 1, &cfg), 0);
	f_arp(f)->arp_plen = 16;
	assert_int_equal(net_arp_reply(f, n, &cfg), 0);
	n = frame_udp(f, 40);
	assert_int_equal(net_arp_reply(f, n, &cfg), 0);
}

/* The echo reply for a request of data_len bytes and opt_words option words. */
static void
check_icmp_reply(size_t data_len, unsigned int opt_words, size_t pad_to)
{
	uint8_t f[FRAME_CAP], data[FRAME_CAP];
	struct net_if_cfg cfg;
	struct net_pkt p;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;
	size_t n = frame_icmp(f, data_len, opt_words), r, cap;
	size_t want = 14 + 20 + 8 + data_len;
	uint8_t *h;

	us_cfg(&cfg);
	cap = n < pad_to ? pad_to : n;
	memset(f + n, 0x77, cap - n);
	assert_int_equal(net_classify(f, cap, &cfg, false, false, &p),
			NET_V_ICMP_REPLY);
	memcpy(data, f + p.payload_off, data_len);
	h = dup_exact(f, cap);
	r = net_icmp_echo_reply(h, cap, &cfg);
	if (want < NET_ETHER_MIN_FRAME && cap >= NET_ETHER_MIN_FRAME)
		want = NET_ETHER_MIN_FRAME;
	assert_int_equal(r, want);

	ip = f_ip(h);
	icmp = (struct rte_icmp_hdr *)(ip + 1);
	assert_memory_equal(&f_eth(h)->dst_addr, &peer_mac, 6);
	assert_memory_equal(&f_eth(h)->src_addr, &us_mac, 6);
	assert_int_equal(ip->version_ihl, 0x45);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), 28 + data_len);
	assert_true(ip->src_addr == US_IP);
	assert_true(ip->dst_addr == PEER_IP);
	assert_int_equal(ip->time_to_live, NET_TTL);
	assert_int_equal(rte_ipv4_cksum(ip), 0);
	assert_int_equal(icmp->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	assert_int_equal(icmp->icmp_code, 0);
	assert_true(icmp->icmp_ident == RTE_BE16(0x1234));
	assert_true(icmp->icmp_seq_nb == RTE_BE16(7));
	assert_int_equal(rte_raw_cksum(icmp, 8 + data_len), 0xffff);
	assert_memory_equal(icmp + 1, data, data_len);

	/* From the peer's side: a well-formed IPv4 ICMP packet, not a request. */
	peer_cfg(&cfg);
	assert_int_equal(net_classify(h, r, &cfg, false, false, &p), NET_V_DROP);
	assert_int_equal(p.drop, NET_DROP_ICMP_TYPE);
	free(h);
}

static void
test_icmp_echo_reply(void **state)
{
	(void)state;
	check_icmp_reply(56, 0, 0);	/* ping's default */
	check_icmp_reply(1, 0, 0);	/* odd length */
	check_icmp_reply(0, 0, 60);	/* padded request, padded reply */
	check_icmp_reply(7, 10, 0);	/* 40 option bytes removed */
	check_icmp_reply(1400, 2, 0);
}

static void
test_icmp_reply_refuses(void **state)
{
	uint8_t f[FRAME_CAP];
	struct net_if_cfg cfg;
	size_t n;

	(void)state;
	us_cfg(&cfg);
	n = frame_icmp(f, 8, 0);
	assert_int_equal(net_icmp_echo_reply(f, n - 1, &cfg), 0);
	n = frame_udp(f, 8);
	assert_int_equal(net_icmp_echo_reply(f, n, &cfg), 0);
	n = frame_arp(f, US_IP);
	assert_int_equal(net_icmp_echo_reply(f, n, &cfg), 0);
}

/* Reply to a classified request; the peer must accept it as ours. */
static void
check_udp_reply(size_t payload_len, bool offload)
{
	uint8_t f[FRAME_CAP], r[FRAME_CAP];
	struct net_if_cfg cfg;
	struct net_pkt req, rep;
	struct rte_udp_hdr *udp;
	size_t n = frame_udp(f, 10), i;

	us_cfg(&cfg);
	assert_int_equal(net_classify(f, n, &cfg, false, false, &req), NET_V_UDP);
	for (i = 0; i < payload_len; i++)
		r[NET_UDP_HDRS_LEN + i] = (uint8_t)(i * 7);
	n = net_udp_reply(r, &req, &cfg, payload_len, offload);
	assert_int_equal(n, NET_UDP_HDRS_LEN + payload_len);
	udp = f_l4(r);
	assert_int_equal(rte_be_to_cpu_16(f_ip(r)->fragment_offset),
			RTE_IPV4_HDR_DF_FLAG);
	assert_int_equal(f_ip(r)->time_to_live, NET_TTL);
	if (offload) {
		/* The pseudo-header sum, then what the NIC would do. */
		assert_int_equal(udp->dgram_cksum,
				rte_ipv4_phdr_cksum(f_ip(r), 0));
		udp->dgram_cksum = (uint16_t)~rte_raw_cksum(udp, 8 + payload_len);
		if (udp->dgram_cksum == 0)
			udp->dgram_cksum = 0xffff;
	}
	assert_int_not_equal(udp->dgram_cksum, 0);

	peer_cfg(&cfg);
	assert_int_equal(net_classify(r, n, &cfg, false, false, &rep), NET_V_UDP);
	assert_memory_equal(&rep.src_mac, &us_mac, 6);
	assert_true(rep.src_ip == US_IP);
	assert_int_equal(rep.src_port, US_PORT);
	assert_int_equal(rep.dst_port, PEER_PORT);
	assert_int_equal(rep.payload_off, NET_UDP_HDRS_LEN);
	assert_int_equal(rep.payload_len, payload_len);
	for (i = 0; i < payload_len; i++)
		assert_int_equal(r[NET_UDP_HDRS_LEN + i], (uint8_t)(i * 7));
}

static void
test_udp_reply(void **state)
{
	(void)state;
	check_udp_reply(0, false);
	check_udp_reply(1, false);
	check_udp_reply(1200, false);
	check_udp_reply(1, true);
	check_udp_reply(1201, true);
}

/* A reply comes from the port the request was sent to. */
static void
test_udp_reply_port(void **state)
{
	uint8_t f[FRAME_CAP];
	struct net_if_cfg cfg;
	struct net_pkt req;
	struct rte_udp_hdr *udp;

	(void)state;
	us_cfg(&cfg);
	memset(&req, 0, sizeof(req));
	req.src_mac = peer_mac;
	req.src_ip = PEER_IP;
	req.src_port = PEER_PORT;
	req.dst_port = 7946;
	assert_int_equal(net_udp_reply(f, &req, &cfg, 4, false), 46);
	udp = f_l4(f);
	assert_int_equal(rte_be_to_cpu_16(udp->src_port), 7946);
	req.dst_port = 0;
	assert_int_equal(net_udp_reply(f, &req, &cfg, 4, false), 46);
	assert_int_equal(rte_be_to_cpu_16(udp->src_port), US_PORT);
	assert_int_equal(net_udp_reply(f, &req, &cfg, NET_UDP_PAYLOAD_MAX + 1,
			false), 0);
}

/* The builder's bytes, checked by hand rather than by the classifier. */
static void
test_build_udp_frame(void **state)
{
	static const uint8_t hdr[NET_UDP_HDRS_LEN] = {
		0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00,
		0x45, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x40, 0x00, 64, 17,
		0x00, 0x00, /* header checksum, checked below */
		10, 0, 0, 9, 10, 0, 0, 2,
		0x9c, 0x40, 0x1c, 0xe8, 0x00, 0x0b,
	};
	uint8_t f[FRAME_CAP];
	size_t n;

	(void)state;
	n = net_build_udp_frame(f, sizeof(f), &peer_mac, &us_mac, PEER_IP,
			US_IP, PEER_PORT, US_PORT, "xyz", 3);
	assert_int_equal(n, 45);
	assert_memory_equal(f, hdr, 24);
	assert_memory_equal(f + 26, hdr + 26, 14);
	assert_int_equal(rte_ipv4_cksum(f_ip(f)), 0);
	assert_int_not_equal(((struct rte_udp_hdr *)f_l4(f))->dgram_cksum, 0);
	assert_memory_equal(f + 42, "xyz", 3);

	/* The payload may already sit in place. */
	memcpy(f + 42, "abc", 3);
	assert_int_equal(net_build_udp_frame(f, 45, &peer_mac, &us_mac,
			PEER_IP, US_IP, 1, 2, f + 42, 3), 45);
	assert_memory_equal(f + 42, "abc", 3);

	assert_int_equal(net_build_udp_frame(f, 44, &peer_mac, &us_mac,
			PEER_IP, US_IP, 1, 2, "xyz", 3), 0);
	assert_int_equal(net_build_udp_frame(f, 10, &peer_mac, &us_mac,
			PEER_IP, US_IP, 1, 2, NULL, 0), 0);
	assert_int_equal(net_build_udp_frame(f, SIZE_MAX, &peer_mac, &us_mac,
			PEER_IP, US_IP, 1, 2, f, NET_UDP_PAYLOAD_MAX + 1), 0);
}

/* The offload form: the same frame but for the pseudo-header sum, which
 * a NIC finishing it turns into the software checksum. */
static void
test_build_udp_frame_offload(void **state)
{
	uint8_t sw[FRAME_CAP], ol[FRAME_CAP];
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)f_l4(ol);
	size_t n;

	(void)state;
	n = net_build_udp_frame(sw, sizeof(sw), &peer_mac, &us_mac, PEER_IP,
			US_IP, PEER_PORT, US_PORT, "offload", 7);
	assert_int_equal(net_build_udp_frame_ol(ol, sizeof(ol), &peer_mac,
			&us_mac, PEER_IP, US_IP, PEER_PORT, US_PORT, "offload",
			7, true), n);
	assert_int_equal(udp->dgram_cksum, rte_ipv4_phdr_cksum(f_ip(ol), 0));
	udp->dgram_cksum = (uint16_t)~rte_raw_cksum(udp, 8 + 7);
	if (udp->dgram_cksum == 0)
		udp->dgram_cksum = 0xffff;
	assert_memory_equal(ol, sw, n);
	assert_int_equal(net_build_udp_frame_ol(ol, sizeof(ol), &peer_mac,
			&us_mac, PEER_IP, US_IP, PEER_PORT, US_PORT, "offload",
			7, false), n);
	assert_memory_equal(ol, sw, n);
	assert_int_equal(net_build_udp_frame_ol(ol, 48, &peer_mac, &us_mac,
			PEER_IP, US_IP, 1, 2, "offload", 7, true), 0);
}

static void
test_pad(void **state)
{
	uint8_t f[64];
	size_t i;

	(void)state;
	memset(f, 0xff, sizeof(f));
	assert_int_equal(net_pad(f, 42, 59), 42);
	assert_int_equal(f[42], 0xff);
	assert_int_equal(net_pad(f, 42, 60), 60);
	for (i = 42; i < 60; i++)
		assert_int_equal(f[i], 0);
	assert_int_equal(f[60], 0xff);
	assert_int_equal(net_pad(f, 61, 64), 61);
}

int
net_tests_reply(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_reply_fields),
		cmocka_unit_test(test_arp_reply_refuses),
		cmocka_unit_test(test_icmp_echo_reply),
		cmocka_unit_test(test_icmp_reply_refuses),
		cmocka_unit_test(test_udp_reply),
		cmocka_unit_test(test_udp_reply_port),
		cmocka_unit_test(test_build_udp_frame),
		cmocka_unit_test(test_build_udp_frame_offload),
		cmocka_unit_test(test_pad),
	};

	return cmocka_run_group_tests_name("net_reply", tests, NULL, NULL);
}
