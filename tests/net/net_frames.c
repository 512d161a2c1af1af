/*
 * net_frames.c - test frame builders (see net_frames.h).
 *
 * UDP frames come from net_build_udp_frame() (itself checked against the
 * classifier and against hand-computed fields in test_net_reply.c); ARP
 * and ICMP requests and IP options are written field by field here.
 */
#include <stdlib.h>
#include <string.h>

#include "net_frames.h"

const struct rte_ether_addr us_mac = {{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }};
const struct rte_ether_addr peer_mac = {{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 }};
const struct rte_ether_addr bcast_mac = {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }};

void
us_cfg(struct net_if_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mac = us_mac;
	cfg->ip = US_IP;
	cfg->netmask = RTE_BE32(0xffffff00);
	cfg->gateway = RTE_BE32(RTE_IPV4(10, 0, 0, 1));
	cfg->udp_port = US_PORT;
}

void
peer_cfg(struct net_if_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mac = peer_mac;
	cfg->ip = PEER_IP;
	cfg->netmask = RTE_BE32(0xffffff00);
	cfg->udp_port = PEER_PORT;
}

struct rte_ether_hdr *
f_eth(uint8_t *f)
{
	return (struct rte_ether_hdr *)f;
}

struct rte_ipv4_hdr *
f_ip(uint8_t *f)
{
	return (struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);
}

struct rte_arp_hdr *
f_arp(uint8_t *f)
{
	return (struct rte_arp_hdr *)(f + RTE_ETHER_HDR_LEN);
}

void *
f_l4(uint8_t *f)
{
	return f + RTE_ETHER_HDR_LEN + rte_ipv4_hdr_len(f_ip(f));
}

void
fix_ip_cksum(uint8_t *f)
{
	f_ip(f)->hdr_checksum = 0;
	f_ip(f)->hdr_checksum = rte_ipv4_cksum(f_ip(f));
}

void
fix_udp_cksum(uint8_t *f)
{
	struct rte_udp_hdr *udp = f_l4(f);

	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(f_ip(f), udp);
}

void
fix_icmp_cksum(uint8_t *f)
{
	struct rte_ipv4_hdr *ip = f_ip(f);
	struct rte_icmp_hdr *icmp = f_l4(f);
	size_t l4_len = rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip);

	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, l4_len);
}

static void
fill_payload(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)('A' + i % 26);
}

size_t
frame_udp(uint8_t *f, size_t payload_len)
{
	uint8_t payload[FRAME_CAP];

	fill_payload(payload, payload_len);
	return net_build_udp_frame(f, FRAME_CAP, &peer_mac, &us_mac, PEER_IP,
			US_IP, PEER_PORT, US_PORT, payload, payload_len);
}

/* Insert opt_words NOP words after the 20-byte IPv4 header of an n-byte frame. */
static size_t
add_ip_options(uint8_t *f, size_t n, unsigned int opt_words)
{
	struct rte_ipv4_hdr *ip = f_ip(f);
	size_t opt = 4 * opt_words;
	uint8_t *l4 = f + RTE_ETHER_HDR_LEN + sizeof(*ip);

	memmove(l4 + opt, l4, n - RTE_ETHER_HDR_LEN - sizeof(*ip));
	memset(l4, RTE_IPV4_HDR_OPT_NOP, opt);
	ip->version_ihl = (uint8_t)(0x40 | (5 + opt_words));
	ip->total_length = rte_cpu_to_be_16(
			(uint16_t)(rte_be_to_cpu_16(ip->total_length) + opt));
	fix_ip_cksum(f);
	return n + opt;
}

size_t
frame_udp_opts(uint8_t *f, size_t payload_len, unsigned int opt_words)
{
	size_t n = add_ip_options(f, frame_udp(f, payload_len), opt_words);

	fix_udp_cksum(f);
	return n;
}

size_t
frame_arp(uint8_t *f, rte_be32_t target_ip)
{
	struct rte_ether_hdr *eth = f_eth(f);
	struct rte_arp_hdr *arp = f_arp(f);

	eth->dst_addr = bcast_mac;
	eth->src_addr = peer_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = peer_mac;
	arp->arp_data.arp_sip = PEER_IP;
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = target_ip;
	return RTE_ETHER_HDR_LEN + sizeof(*arp);
}

size_t
frame_icmp(uint8_t *f, size_t data_len, unsigned int opt_words)
{
	struct rte_ether_hdr *eth = f_eth(f);
	struct rte_ipv4_hdr *ip = f_ip(f);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	size_t n = RTE_ETHER_HDR_LEN + sizeof(*ip) + sizeof(*icmp) + data_len;

	eth->dst_addr = us_mac;
	eth->src_addr = peer_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(
			(uint16_t)(sizeof(*ip) + sizeof(*icmp) + data_len));
	ip->packet_id = RTE_BE16(0x4242);
	ip->time_to_live = 17;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = PEER_IP;
	ip->dst_addr = US_IP;
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	icmp->icmp_code = 0;
	icmp->icmp_ident = RTE_BE16(0x1234);
	icmp->icmp_seq_nb = RTE_BE16(7);
	fill_payload((uint8_t *)(icmp + 1), data_len);
	fix_ip_cksum(f);
	if (opt_words > 0)
		n = add_ip_options(f, n, opt_words);
	fix_icmp_cksum(f);
	return n;
}

uint8_t *
dup_exact(const uint8_t *f, size_t n)
{
	uint8_t *p = malloc(n > 0 ? n : 1);

	if (p != NULL && n > 0)
		memcpy(p, f, n);
	return p;
}
