/*
 * fuzz_net.c - libFuzzer target for lib/net.
 *
 * Each input is a received frame. It is classified as it is, and again
 * after its IPv4, UDP and ICMP checksums have been repaired (random bytes
 * almost never carry valid sums, and the repaired copy lets the fuzzer
 * reach every check behind them). Whatever is accepted is answered the
 * way swarmd would, in an exact-size copy so ASan sees any write past the
 * frame, and the answer is classified from the requester's side:
 *   UDP  -> net_udp_reply() echoing the payload: the peer accepts it,
 *           from the port it wrote to, with the same payload;
 *   ARP  -> net_arp_reply(): the peer counts an ARP reply (NET_DROP_ARP_OP)
 *           carrying our MAC/IP as sender and its own as target;
 *   ICMP -> net_icmp_echo_reply(): a well-formed packet the peer counts as
 *           NET_DROP_ICMP_TYPE, with a valid ICMP checksum and the same
 *           echo data.
 * NIC checksum flags may only widen what is accepted. The same bytes, as
 * a string, go to the address parsers: the one spelling they accept must
 * print back identically.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed property names its line: libFuzzer only shows the abort. */
#define check(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "fuzz_net: check failed at %s:%d: %s\n", \
					__FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

static void
us_cfg(struct net_if_cfg *cfg)
{
	static const struct rte_ether_addr mac = {{ 2, 0, 0, 0, 0, 1 }};

	memset(cfg, 0, sizeof(*cfg));
	cfg->mac = mac;
	cfg->ip = RTE_BE32(RTE_IPV4(10, 0, 0, 2));
	cfg->netmask = RTE_BE32(0xffffff00);
	cfg->udp_port = 7400;
	cfg->udp_port_extra[0] = 7946;
}

/* The requester's interface, as far as the request shows it. */
static void
peer_cfg(struct net_if_cfg *cfg, const struct net_pkt *req)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mac = req->src_mac;
	cfg->ip = req->src_ip;
	cfg->udp_port = req->src_port;
}

/* Recompute the IPv4 and L4 checksums of f where its lengths allow it. */
static void
repair_cksums(uint8_t *f, size_t len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);
	size_t hlen, tot;
	uint8_t *l4;

	if (len < RTE_ETHER_HDR_LEN + sizeof(*ip) ||
			((struct rte_ether_hdr *)f)->ether_type !=
			RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return;
	hlen = rte_ipv4_hdr_len(ip);
	tot = rte_be_to_cpu_16(ip->total_length);
	if (hlen < sizeof(*ip) || tot < hlen || tot > len - RTE_ETHER_HDR_LEN)
		return;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	l4 = f + RTE_ETHER_HDR_LEN + hlen;
	if (ip->next_proto_id == IPPROTO_UDP && tot - hlen >= 8 &&
			rte_be_to_cpu_16(((struct rte_udp_hdr *)l4)->dgram_len) ==
			tot - hlen) {
		((struct rte_udp_hdr *)l4)->dgram_cksum = 0;
		((struct rte_udp_hdr *)l4)->dgram_cksum =
			rte_ipv4_udptcp_cksum(ip, l4);
	} else if (ip->next_proto_id == IPPROTO_ICMP && tot - hlen >= 8) {
		((struct rte_icmp_hdr *)l4)->icmp_cksum = 0;
		((struct rte_icmp_hdr *)l4)->icmp_cksum =
			(uint16_t)~rte_raw_cksum(l4, tot - hlen);
	}
}

static void
answer_udp(const uint8_t *f, const struct net_pkt *req,
		const struct net_if_cfg *cfg, bool offload)
{
	size_t cap = NET_UDP_HDRS_LEN + req->payload_len, n;
	uint8_t *r = malloc(cap);
	struct net_if_cfg peer;
	struct net_pkt rep;

	check(r != NULL);
	memcpy(r + NET_UDP_HDRS_LEN, f + req->payload_off, req->payload_len);
	n = net_udp_reply(r, req, cfg, req->payload_len, offload);
	check(n == cap);
	if (offload) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(r + 14);
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		check(udp->dgram_cksum == rte_ipv4_phdr_cksum(ip, 0));
		udp->dgram_cksum = 0;
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	}
	peer_cfg(&peer, req);
	check(net_classify(r, n, &peer, false, false, &rep) == NET_V_UDP);
	check(rep.src_port == req->dst_port && rep.dst_port == req->src_port);
	check(rep.src_ip == cfg->ip);
	check(rep.payload_off == NET_UDP_HDRS_LEN);
	check(rep.payload_len == req->payload_len);
	check(!memcmp(r + rep.payload_off, f + req->payload_off,
			req->payload_len));
	free(r);
}

static void
answer_arp(const uint8_t *f, size_t len, const struct net_pkt *req,
		const struct net_if_cfg *cfg)
{
	uint8_t *r = malloc(len);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(r + RTE_ETHER_HDR_LEN);
	struct net_if_cfg peer;
	struct net_pkt rep;
	struct rte_ether_addr tha;
	size_t n;

	check(r != NULL);
	memcpy(r, f, len);
	n = net_arp_reply(r, len, cfg);
	check(n == 42 || (n == 60 && len >= 60));
	check(n <= len);
	tha = arp->arp_data.arp_tha;
	check(rte_is_same_ether_addr(&tha, &req->src_mac));
	check(arp->arp_data.arp_tip == req->src_ip);
	check(arp->arp_data.arp_sip == cfg->ip);
	peer_cfg(&peer, req);
	check(net_classify(r, n, &peer, false, false, &rep) == NET_V_DROP);
	check(rep.drop == NET_DROP_ARP_OP);
	free(r);
}

static void
answer_icmp(const uint8_t *f, size_t len, const struct net_pkt *req,
		const struct net_if_cfg *cfg)
{
	uint8_t *r = malloc(len);
	struct net_if_cfg peer;
	struct net_pkt rep;
	size_t n, want;

	check(r != NULL);
	memcpy(r, f, len);
	n = net_icmp_echo_reply(r, len, cfg);
	/* Ethernet, IPv4 without options, echo header, data; maybe padded. */
	want = RTE_ETHER_HDR_LEN + 20 + 8 + (size_t)req->payload_len;
	check(n == want || (n == NET_ETHER_MIN_FRAME && want < n));
	check(n <= len);
	check(rte_raw_cksum(r + 34, 8 + (size_t)req->payload_len) == 0xffff);
	check(!memcmp(r + 42, f + req->payload_off, req->payload_len));
	peer_cfg(&peer, req);
	check(net_classify(r, n, &peer, false, false, &rep) == NET_V_DROP);
	check(rep.drop == NET_DROP_ICMP_TYPE);
	free(r);
}

static void
run_frame(const uint8_t *f, size_t len)
{
	struct net_if_cfg cfg;
	struct net_pkt p, q;
	enum net_verdict v, w;

	us_cfg(&cfg);
	v = net_classify(f, len, &cfg, false, false, &p);
	check((v == NET_V_DROP) == (p.drop != NET_DROP_NONE));
	check((unsigned int)p.drop < NET_DROP__MAX);
	check(strcmp(net_drop_name(p.drop), "unknown") != 0);
	w = net_classify(f, len, &cfg, true, true, &q);
	if (v != NET_V_DROP)
		check(w == v && !memcmp(&p, &q, sizeof(p)));

	switch (v) {
	case NET_V_UDP:
		check(p.l3_off == 14 && p.l4_off + 8 == p.payload_off);
		check((size_t)p.payload_off + p.payload_len <= len);
		answer_udp(f, &p, &cfg, false);
		answer_udp(f, &p, &cfg, true);
		break;
	case NET_V_ARP_REPLY:
		answer_arp(f, len, &p, &cfg);
		break;
	case NET_V_ICMP_REPLY:
		check((size_t)p.payload_off + p.payload_len <= len);
		answer_icmp(f, len, &p, &cfg);
		break;
	case NET_V_DROP:
		break;
	}
}

/* The strict parsers accept one spelling: it must print back as it was. */
static void
run_parsers(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), out[64];
	struct rte_ether_addr mac;
	rte_be32_t ip, mask;
	uint32_t a, m;
	unsigned int plen = 0;

	check(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	if (net_parse_ipv4(s, &ip) == 0) {
		a = rte_be_to_cpu_32(ip);
		snprintf(out, sizeof(out), "%u.%u.%u.%u", a >> 24,
				(a >> 16) & 255, (a >> 8) & 255, a & 255);
		check(strcmp(out, s) == 0);
	}
	if (net_parse_prefix(s, &ip, &mask) == 0) {
		a = rte_be_to_cpu_32(ip);
		for (m = rte_be_to_cpu_32(mask); m != 0; m <<= 1)
			plen++;
		check(plen == 32 ||
				(rte_be_to_cpu_32(mask) & (UINT32_MAX >> plen)) == 0);
		snprintf(out, sizeof(out), "%u.%u.%u.%u/%u", a >> 24,
				(a >> 16) & 255, (a >> 8) & 255, a & 255, plen);
		check(strcmp(out, s) == 0);
	}
	if (net_parse_mac(s, &mac) == 0) {
		const uint8_t *b = mac.addr_bytes;

		snprintf(out, sizeof(out), "%02x:%02x:%02x:%02x:%02x:%02x",
				b[0], b[1], b[2], b[3], b[4], b[5]);
		check(strcasecmp(out, s) == 0);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *f;

	run_frame(data, size);
	f = malloc(size > 0 ? size : 1);
	check(f != NULL);
	if (size > 0)
		memcpy(f, data, size);
	repair_cksums(f, size);
	run_frame(f, size);
	free(f);
	if (size < 40)
		run_parsers(data, size);
	return 0;
}
