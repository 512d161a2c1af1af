/*
 * test_net_classify.c - net_classify(): accepted frames and their offsets,
 * one crafted frame per drop reason (and a check that the table covers
 * every reason), martian sources, checksum offload flags, Ethernet
 * padding, and truncation of valid frames at every offset in heap blocks
 * of the exact size, so that ASan reports any read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net_frames.h"

static enum net_verdict
classify(const uint8_t *f, size_t n, struct net_pkt *p)
{
	struct net_if_cfg cfg;

	us_cfg(&cfg);
	return net_classify(f, n, &cfg, false, false, p);
}

static void
test_udp_valid(void **state)
{
	uint8_t f[FRAME_CAP];
	struct net_pkt p;
	size_t n = frame_udp(f, 100);
	bool flags;

	(void)state;
	assert_int_equal(n, NET_UDP_HDRS_LEN + 100);
	for (flags = false; ; flags = true) {
		struct net_if_cfg cfg;

		us_cfg(&cfg);
		assert_int_equal(net_classify(f, n, &cfg, flags, flags, &p),
				NET_V_UDP);
		assert_int_equal(p.drop, NET_DROP_NONE);
		assert_int_equal(p.l3_off, 14);
		assert_int_equal(p.l4_off, 34);
		assert_int_equal(p.payload_off, 42);
		assert_int_equal(p.payload_len, 100);
		assert_memory_equal(&p.src_mac, &peer_mac, 6);
		assert_true(p.src_ip == PEER_IP);
		assert_int_equal(p.src_port, PEER_PORT);
		assert_int_equal(p.dst_port, US_PORT);
		assert_int_equal(f[p.payload_off], 'A');
		if (flags)
			break;
	}
}

static void
test_udp_ip_options(void **state)
{
	uint8_t f[FRAME_CAP];
	struct net_pkt p;
	size_t n = frame_udp_opts(f, 5, 10);	/* IHL 15: 40 option bytes */

	(void)state;
	assert_int_equal(classify(f, n, &p), NET_V_UDP);
	assert_int_equal(p.l4_off, 14 + 60);
	assert_int_equal(p.payload_off, 14 + 60 + 8);
	assert_int_equal(p.payload_len, 5);
	assert_memory_equal(f + p.payload_off, "ABCDE", 5);
}

/* A short datagram padded with junk, with and without a UDP checksum. */
static void
test_udp_padding(void **state)
{
	uint8_t f[FRAME_CAP];
	struct net_pkt p;
	size_t n = frame_udp(f, 2);

	(void)state;
	assert_int_equal(n, 44);
	memset(f + n, 0xa5, NET_ETHER_MIN_FRAME - n);
	assert_int_equal(classify(f, NET_ETHER_MIN_FRAME, &p), NET_V_UDP);
	assert_int_equal(p.payload_len, 2);
	((struct rte_udp_hdr *)f_l4(f))->dgram_cksum = 0;
	assert_int_equal(classify(f, NET_ETHER_MIN_FRAME, &p), NET_V_UDP);
	/* Empty payload is a valid datagram too. */
	n = frame_udp(f, 0);
	assert_int_equal(classify(f, n, &p), NET_V_UDP);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.payload_off, n);
}

static void
test_udp_extra_port(void **state)
{
	uint8_t f[FRAME_CAP];
	struct net_if_cfg cfg;
	struct net_pkt p;
	size_t n = frame_udp(f, 8);

	(void)state;
	((struct rte_udp_hdr *)f_l4(f))->dst_port = RTE_BE16(7946);
	fix_udp_cksum(f);
	us_cfg(&cfg);
	assert_int_equal(net_classify(f, n, &cfg, false, false, &p), NET_V_DROP);
	assert_int_equal(p.drop, NET_DROP_UDP_PORT);
	cfg.udp_port_extra[1] = 7946;
	assert_int_equal(net_classify(f, n, &cfg, false, false, &p), NET_V_UDP);
	assert_int_equal(p.dst_port, 7946);
}

/* The NIC's word replaces the software check; broken sums pass when it says good. */
static void
test_offload_flags(void **state)
{
	uint8_t f[FRAME_CAP];
	struct net_if_cfg cfg;
	struct net_pkt p;
	size_t n = frame_udp(f, 8);

	(void)state;
	us_cfg(&cfg);
	((struct rte_udp_hdr *)f_l4(f))->dgram_cksum ^= 0x0101;
	assert_int_equal(net_classify(f, n, &cfg, false, false, &p), NET_V_DROP);
	assert_int_equal(p.drop, NET_DROP_UDP_CKSUM);
	assert_int_equal(net_classify(f, n, &cfg, false, true, &p), NET_V_UDP);
	f_ip(f)->hdr_checksum ^= 0x0101;
	assert_int_equal(net_classify(f, n, &cfg, false, true, &p), NET_V_DROP);
	assert_int_equal(p.drop, NET_DROP_IP_CKSUM);
	assert_int_equal(net_classify(f, n, &cfg, true, true, &p), NET_V_UDP);
}

static void
test_arp_and_icmp_valid(void **state)
{
	uint8_t f[FRAME_CAP];
	struct net_pkt p;
	size_t n;

	(void)state;
	n = frame_arp(f, US_IP);
	assert_int_equal(classify(f, n, &p), NET_V_ARP_REPLY);
	assert_int_equal(p.l3_off, 14);
	assert_memory_equal(&p.src_mac, &peer_mac, 6);
	assert_true(p.src_ip == PEER_IP);

	n = frame_icmp(f, 56, 0);
	assert_int_equal(classify(f, n, &p), NET_V_ICMP_REPLY);
	assert_int_equal(p.l4_off, 34);
	assert_int_equal(p.payload_off, 42);
	assert_int_equal(p.payload_len, 56);
	n = frame_icmp(f, 3, 2);
	assert_int_equal(classify(f, n, &p), NET_V_ICMP_REPLY);
	assert_int_equal(p.l4_off, 42);
	assert_int_equal(p.payload_len, 3);
}

/* ---- one crafted frame per drop reason ---- */

static void
set_mac(struct rte_ether_addr *a, uint8_t first, uint8_t last)
{
	memset(a, 0, sizeof(*a));
	a->addr_bytes[0] = first;
	a->addr_bytes[5] = last;
}

/* Rewrite the IPv4 header field by field and fix both sums. */
static void
fix_udp_frame(uint8_t *f)
{
	fix_ip_cksum(f);
	fix_udp_cksum(f);
}

static size_t m_short(uint8_t *f) { frame_udp(f, 4); return 13; }
static size_t m_short_ip(uint8_t *f) { frame_udp(f, 4); return 33; }
static size_t m_short_opts(uint8_t *f) { frame_udp_opts(f, 0, 4); return 40; }
static size_t m_short_arp(uint8_t *f) { return frame_arp(f, US_IP) - 1; }

static size_t
m_l2_dst(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	set_mac(&f_eth(f)->dst_addr, 0x02, 0x03);
	return n;
}

static size_t
m_l2_dst_mcast(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	set_mac(&f_eth(f)->dst_addr, 0x01, 0x01);
	return n;
}

static size_t
m_l2_src(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	set_mac(&f_eth(f)->src_addr, 0x01, 0x01);
	return n;
}

static size_t
m_l2_src_zero(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	set_mac(&f_eth(f)->src_addr, 0x00, 0x00);
	return n;
}

static size_t
m_ethertype(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_eth(f)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	return n;
}

static size_t
m_vlan(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_eth(f)->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
	return n;
}

static size_t
m_qinq(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_eth(f)->ether_type = RTE_BE16(RTE_ETHER_TYPE_QINQ);
	return n;
}

static size_t
m_arp_hlen(uint8_t *f)
{
	size_t n = frame_arp(f, US_IP);

	f_arp(f)->arp_hlen = 8;
	return n;
}

static size_t
m_arp_ptype(uint8_t *f)
{
	size_t n = frame_arp(f, US_IP);

	f_arp(f)->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	return n;
}

static size_t
m_arp_sha(uint8_t *f)
{
	size_t n = frame_arp(f, US_IP);

	f_arp(f)->arp_data.arp_sha = bcast_mac;
	return n;
}

static size_t
m_arp_other(uint8_t *f)
{
	return frame_arp(f, RTE_BE32(RTE_IPV4(10, 0, 0, 3)));
}

static size_t
m_arp_gratuitous(uint8_t *f)
{
	size_t n = frame_arp(f, US_IP);

	f_arp(f)->arp_data.arp_sip = US_IP;
	return n;
}

static size_t
m_arp_op(uint8_t *f)
{
	size_t n = frame_arp(f, US_IP);

	f_arp(f)->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	return n;
}

static size_t
m_ip_version(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_ip(f)->version_ihl = 0x65;
	return n;
}

static size_t
m_ip_hdrlen(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_ip(f)->version_ihl = 0x44;
	return n;
}

static size_t
m_ip_len_long(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_ip(f)->total_length = rte_cpu_to_be_16((uint16_t)(n - 14 + 1));
	fix_ip_cksum(f);
	return n;
}

static size_t
m_ip_len_under_hdr(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_ip(f)->total_length = RTE_BE16(19);
	fix_ip_cksum(f);
	return n;
}

static size_t
m_ip_cksum(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_ip(f)->hdr_checksum ^= RTE_BE16(0x0001);
	return n;
}

static size_t
m_ip_mf(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_ip(f)->fragment_offset = RTE_BE16(RTE_IPV4_HDR_MF_FLAG);
	fix_ip_cksum(f);
	return n;
}

static size_t
m_ip_offset(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_ip(f)->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG | 1);
	fix_ip_cksum(f);
	return n;
}

static size_t
m_ip_ttl(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_ip(f)->time_to_live = 0;
	fix_ip_cksum(f);
	return n;
}

static size_t
m_ip_dst(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_ip(f)->dst_addr = RTE_BE32(RTE_IPV4(10, 0, 0, 3));
	fix_udp_frame(f);
	return n;
}

static size_t
m_ip_dst_bcast(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_ip(f)->dst_addr = RTE_BE32(RTE_IPV4(10, 0, 0, 255));
	fix_udp_frame(f);
	return n;
}

static size_t
m_ip_src(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_ip(f)->src_addr = RTE_BE32(RTE_IPV4(127, 0, 0, 1));
	fix_udp_frame(f);
	return n;
}

static size_t
m_ip_proto(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_ip(f)->next_proto_id = IPPROTO_TCP;
	fix_ip_cksum(f);
	return n;
}

static size_t
m_udp_len(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	((struct rte_udp_hdr *)f_l4(f))->dgram_len = RTE_BE16(8 + 3);
	fix_udp_cksum(f);
	return n;
}

static size_t
m_udp_no_hdr(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	f_ip(f)->total_length = RTE_BE16(20 + 7);
	fix_ip_cksum(f);
	return n;
}

static size_t
m_udp_cksum(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	((struct rte_udp_hdr *)f_l4(f))->dgram_cksum ^= RTE_BE16(0x0100);
	return n;
}

static size_t
m_udp_port(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	((struct rte_udp_hdr *)f_l4(f))->dst_port = RTE_BE16(US_PORT + 1);
	fix_udp_cksum(f);
	return n;
}

static size_t
m_udp_src_port0(uint8_t *f)
{
	size_t n = frame_udp(f, 4);

	((struct rte_udp_hdr *)f_l4(f))->src_port = 0;
	fix_udp_cksum(f);
	return n;
}

static size_t
m_icmp_type(uint8_t *f)
{
	size_t n = frame_icmp(f, 8, 0);

	((struct rte_icmp_hdr *)f_l4(f))->icmp_type = 13;
	fix_icmp_cksum(f);
	return n;
}

static size_t
m_icmp_code(uint8_t *f)
{
	size_t n = frame_icmp(f, 8, 0);

	((struct rte_icmp_hdr *)f_l4(f))->icmp_code = 1;
	fix_icmp_cksum(f);
	return n;
}

static size_t
m_icmp_cksum(uint8_t *f)
{
	size_t n = frame_icmp(f, 8, 0);

	((struct rte_icmp_hdr *)f_l4(f))->icmp_cksum ^= RTE_BE16(0x0001);
	return n;
}

static size_t
m_icmp_len(uint8_t *f)
{
	size_t n = frame_icmp(f, 8, 0);

	f_ip(f)->total_length = RTE_BE16(20 + 4);
	fix_ip_cksum(f);
	return n;
}

struct drop_case {
	const char *what;
	size_t (*make)(uint8_t *f);
	enum net_drop want;
};

static const struct drop_case drop_cases[] = {
	{ "runt", m_short, NET_DROP_SHORT },
	{ "ip header cut", m_short_ip, NET_DROP_SHORT },
	{ "ip options cut", m_short_opts, NET_DROP_SHORT },
	{ "arp cut", m_short_arp, NET_DROP_SHORT },
	{ "other mac", m_l2_dst, NET_DROP_L2_DST },
	{ "multicast mac", m_l2_dst_mcast, NET_DROP_L2_DST },
	{ "multicast src mac", m_l2_src, NET_DROP_L2_SRC },
	{ "zero src mac", m_l2_src_zero, NET_DROP_L2_SRC },
	{ "ipv6", m_ethertype, NET_DROP_ETHERTYPE },
	{ "802.1q", m_vlan, NET_DROP_VLAN },
	{ "802.1ad", m_qinq, NET_DROP_VLAN },
	{ "arp hlen", m_arp_hlen, NET_DROP_ARP_MALFORMED },
	{ "arp ptype", m_arp_ptype, NET_DROP_ARP_MALFORMED },
	{ "arp broadcast sha", m_arp_sha, NET_DROP_ARP_MALFORMED },
	{ "arp for another", m_arp_other, NET_DROP_ARP_NOT_US },
	{ "gratuitous arp", m_arp_gratuitous, NET_DROP_ARP_NOT_US },
	{ "arp reply", m_arp_op, NET_DROP_ARP_OP },
	{ "ip version 6", m_ip_version, NET_DROP_IP_VERSION },
	{ "ihl 4", m_ip_hdrlen, NET_DROP_IP_HDRLEN },
	{ "total length > frame", m_ip_len_long, NET_DROP_IP_LEN },
	{ "total length < header", m_ip_len_under_hdr, NET_DROP_IP_LEN },
	{ "ip checksum", m_ip_cksum, NET_DROP_IP_CKSUM },
	{ "more fragments", m_ip_mf, NET_DROP_IP_FRAGMENT },
	{ "fragment offset", m_ip_offset, NET_DROP_IP_FRAGMENT },
	{ "ttl 0", m_ip_ttl, NET_DROP_IP_TTL },
	{ "other ip", m_ip_dst, NET_DROP_IP_DST },
	{ "subnet broadcast dst", m_ip_dst_bcast, NET_DROP_IP_DST },
	{ "loopback src", m_ip_src, NET_DROP_IP_SRC },
	{ "tcp", m_ip_proto, NET_DROP_IP_PROTO },
	{ "udp length", m_udp_len, NET_DROP_UDP_LEN },
	{ "no udp header", m_udp_no_hdr, NET_DROP_UDP_LEN },
	{ "udp checksum", m_udp_cksum, NET_DROP_UDP_CKSUM },
	{ "other port", m_udp_port, NET_DROP_UDP_PORT },
	{ "source port 0", m_udp_src_port0, NET_DROP_UDP_PORT },
	{ "icmp timestamp", m_icmp_type, NET_DROP_ICMP_TYPE },
	{ "echo code 1", m_icmp_code, NET_DROP_ICMP_TYPE },
	{ "icmp checksum", m_icmp_cksum, NET_DROP_ICMP_CKSUM },
	{ "icmp 4 bytes", m_icmp_len, NET_DROP_ICMP_LEN },
};

static void
test_every_drop_reason(void **state)
{
	uint8_t f[FRAME_CAP];
	struct net_pkt p;
	bool seen[NET_DROP__MAX] = { false };
	size_t i, n;
	int d;

	(void)state;
	for (i = 0; i < sizeof(drop_cases) / sizeof(drop_cases[0]); i++) {
		const struct drop_case *c = &drop_cases[i];
		uint8_t *h;

		memset(f, 0, sizeof(f));
		n = c->make(f);
		h = dup_exact(f, n);
		assert_non_null(h);
		if (classify(h, n, &p) != NET_V_DROP || p.drop != c->want)
			fail_msg("%s: got %s, want %s", c->what,
					net_drop_name(p.drop),
					net_drop_name(c->want));
		free(h);
		seen[c->want] = true;
	}
	for (d = NET_DROP_NONE + 1; d < NET_DROP__MAX; d++)
		if (!seen[d])
			fail_msg("no frame produces %s",
					net_drop_name((enum net_drop)d));
}

static void
test_martian_sources(void **state)
{
	static const uint32_t bad[] = {
		RTE_IPV4(0, 0, 0, 0), RTE_IPV4(0, 1, 2, 3),
		RTE_IPV4(127, 0, 0, 1), RTE_IPV4(127, 255, 0, 9),
		RTE_IPV4(224, 0, 0, 1), RTE_IPV4(239, 255, 255, 250),
		RTE_IPV4(240, 0, 0, 1), RTE_IPV4(255, 255, 255, 255),
		RTE_IPV4(10, 0, 0, 255), RTE_IPV4(10, 0, 0, 2),
	};
	static const uint32_t good[] = {
		RTE_IPV4(10, 0, 0, 1), RTE_IPV4(10, 0, 1, 255),
		RTE_IPV4(192, 168, 1, 1), RTE_IPV4(223, 255, 255, 254),
		RTE_IPV4(1, 0, 0, 0),
	};
	uint8_t f[FRAME_CAP];
	struct net_pkt p;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = frame_udp(f, 4);
		f_ip(f)->src_addr = rte_cpu_to_be_32(bad[i]);
		fix_udp_frame(f);
		assert_int_equal(classify(f, n, &p), NET_V_DROP);
		assert_int_equal(p.drop, NET_DROP_IP_SRC);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = frame_udp(f, 4);
		f_ip(f)->src_addr = rte_cpu_to_be_32(good[i]);
		fix_udp_frame(f);
		assert_int_equal(classify(f, n, &p), NET_V_UDP);
		assert_true(p.src_ip == rte_cpu_to_be_32(good[i]));
	}
}

/* With a /31 or unknown mask there is no subnet broadcast to refuse. */
static void
test_martian_mask(void **state)
{
	uint8_t f[FRAME_CAP];
	struct net_if_cfg cfg;
	struct net_pkt p;
	size_t n = frame_udp(f, 4);

	(void)state;
	f_ip(f)->src_addr = RTE_BE32(RTE_IPV4(10, 0, 0, 3));
	fix_udp_frame(f);
	us_cfg(&cfg);
	cfg.netmask = RTE_BE32(0xfffffffe);
	assert_int_equal(net_classify(f, n, &cfg, false, false, &p), NET_V_UDP);
	cfg.netmask = 0;
	assert_int_equal(net_classify(f, n, &cfg, false, false, &p), NET_V_UDP);
	cfg.netmask = RTE_BE32(0xfffffffc);	/* /30: .3 is the broadcast */
	assert_int_equal(net_classify(f, n, &cfg, false, false, &p), NET_V_DROP);
	assert_int_equal(p.drop, NET_DROP_IP_SRC);
}

/* Every proper prefix of a valid frame, in an exact-size heap block, is dropped. */
static void
check_truncations(const uint8_t *f, size_t n, enum net_verdict full)
{
	struct net_pkt p;
	size_t cut;

	assert_int_equal(classify(f, n, &p), full);
	for (cut = 0; cut < n; cut++) {
		uint8_t *h = dup_exact(f, cut);

		assert_non_null(h);
		assert_int_equal(classify(h, cut, &p), NET_V_DROP);
		assert_int_not_equal(p.drop, NET_DROP_NONE);
		if (cut < 14)
			assert_int_equal(p.drop, NET_DROP_SHORT);
		free(h);
	}
}

static void
test_truncation(void **state)
{
	uint8_t f[FRAME_CAP];
	size_t n;

	(void)state;
	n = frame_udp(f, 64);
	check_truncations(f, n, NET_V_UDP);
	n = frame_udp_opts(f, 3, 10);
	check_truncations(f, n, NET_V_UDP);
	n = frame_arp(f, US_IP);
	check_truncations(f, n, NET_V_ARP_REPLY);
	n = frame_icmp(f, 40, 0);
	check_truncations(f, n, NET_V_ICMP_REPLY);
	n = frame_icmp(f, 1, 3);
	check_truncations(f, n, NET_V_ICMP_REPLY);
}

static void
test_drop_names(void **state)
{
	int d, e;

	(void)state;
	assert_string_equal(net_drop_name(NET_DROP_NONE), "none");
	assert_string_equal(net_drop_name(NET_DROP_IP_CKSUM), "ip_cksum");
	assert_string_equal(net_drop_name(NET_DROP_UDP_PORT), "udp_port");
	assert_string_equal(net_drop_name(NET_DROP__MAX), "unknown");
	assert_string_equal(net_drop_name((enum net_drop)-1), "unknown");
	for (d = 0; d < NET_DROP__MAX; d++) {
		const char *s = net_drop_name((enum net_drop)d);

		assert_string_not_equal(s, "unknown");
		assert_true(strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
				strlen(s));
		for (e = 0; e < d; e++)
			assert_string_not_equal(s,
					net_drop_name((enum net_drop)e));
	}
}

int
net_tests_classify(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_valid),
		cmocka_unit_test(test_udp_ip_options),
		cmocka_unit_test(test_udp_padding),
		cmocka_unit_test(test_udp_extra_port),
		cmocka_unit_test(test_offload_flags),
		cmocka_unit_test(test_arp_and_icmp_valid),
		cmocka_unit_test(test_every_drop_reason),
		cmocka_unit_test(test_martian_sources),
		cmocka_unit_test(test_martian_mask),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_drop_names),
	};

	return cmocka_run_group_tests_name("net_classify", tests, NULL, NULL);
}
