/*
 * net_classify.c - classify a received frame: ours (UDP), answer (ARP,
 * ICMP echo) or drop with a reason.
 *
 * Checks run cheapest first, layer by layer, and every length is checked
 * against `len` before the bytes behind it are read, so a frame cut at any
 * offset is dropped without reading past its end. Lengths announced
 * inside the packet (IPv4 total length, UDP length) must agree with each
 * other and fit in the frame; bytes after the IPv4 datagram are Ethernet
 * padding and ignored. The rules and their reasons are listed in net.h.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "net.h"

static inline enum net_verdict
net_drop(struct net_pkt *out, enum net_drop why)
{
	out->drop = why;
	return NET_V_DROP;
}

/* Ones' complement sum (uncomplemented): pseudo-header + l4_len bytes at l4. */
static uint16_t
net_l4_sum(const struct rte_ipv4_hdr *ip, const void *l4, size_t l4_len)
{
	uint32_t sum;

	sum = (uint32_t)rte_raw_cksum(l4, l4_len) +
		rte_ipv4_phdr_cksum(ip, 0);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Is port (host order) one of the UDP ports cfg listens on? */
static bool
net_port_ours(const struct net_if_cfg *cfg, uint16_t port)
{
	unsigned int i;

	if (port == 0)
		return false;
	if (port == cfg->udp_port)
		return true;
	for (i = 0; i < NET_UDP_PORTS_EXTRA; i++)
		if (port == cfg->udp_port_extra[i])
			return true;
	return false;
}

/*
 * A source address no reply may go to: "this network" 0/8, loopback
 * 127/8, multicast 224/4 and reserved 240/4 (which holds the limited
 * broadcast), the directed broadcast of our subnet (when the mask is
 * known and shorter than /31) and our own address (spoofed or looped).
 */
static bool
net_ip_martian(rte_be32_t src, const struct net_if_cfg *cfg)
{
	uint32_t a = rte_be_to_cpu_32(src);
	uint32_t mask = rte_be_to_cpu_32(cfg->netmask);
	uint32_t top = a >> 24;

	if (top == 0 || top == 127 || top >= 224)
		return true;
	if (src == cfg->ip)
		return true;
	if (mask != 0 && ~mask > 1 &&
			(a & mask) == (rte_be_to_cpu_32(cfg->ip) & mask) &&
			(a & ~mask) == ~mask)
		return true;
	return false;
}

/*
 * ARP: only Ethernet/IPv4 requests for our address from a unicast sender
 * are answered. A gratuitous request (sender IP == target IP) announces,
 * it does not ask: counted as not for us.
 */
static enum net_verdict
net_classify_arp(const uint8_t *frame, size_t len,
		const struct net_if_cfg *cfg, struct net_pkt *out)
{
	const struct rte_arp_hdr *arp;
	struct rte_ether_addr sha;

	if (len < RTE_ETHER_HDR_LEN + sizeof(*arp))
		return net_drop(out, NET_DROP_SHORT);
	arp = (const struct rte_arp_hdr *)(frame + RTE_ETHER_HDR_LEN);
	if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
			arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
			arp->arp_hlen != RTE_ETHER_ADDR_LEN ||
			arp->arp_plen != sizeof(rte_be32_t))
		return net_drop(out, NET_DROP_ARP_MALFORMED);
	if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST))
		return net_drop(out, NET_DROP_ARP_OP);
	sha = arp->arp_data.arp_sha;
	if (!rte_is_unicast_ether_addr(&sha) || rte_is_zero_ether_addr(&sha))
		return net_drop(out, NET_DROP_ARP_MALFORMED);
	if (arp->arp_data.arp_tip != cfg->ip ||
			arp->arp_data.arp_sip == arp->arp_data.arp_tip)
		return net_drop(out, NET_DROP_ARP_NOT_US);
	out->src_mac = sha;
	out->src_ip = arp->arp_data.arp_sip;
	return NET_V_ARP_REPLY;
}

/* UDP inside a checked IPv4 datagram: l4_len bytes at out->l4_off. */
static enum net_verdict
net_classify_udp(const uint8_t *frame, const struct rte_ipv4_hdr *ip,
		size_t l4_len, const struct net_if_cfg *cfg, bool l4_ok,
		struct net_pkt *out)
{
	const struct rte_udp_hdr *udp;

	if (l4_len < sizeof(*udp))
		return net_drop(out, NET_DROP_UDP_LEN);
	udp = (const struct rte_udp_hdr *)(frame + out->l4_off);
	if (rte_be_to_cpu_16(udp->dgram_len) != l4_len)
		return net_drop(out, NET_DROP_UDP_LEN);
	out->dst_port = rte_be_to_cpu_16(udp->dst_port);
	out->src_port = rte_be_to_cpu_16(udp->src_port);
	if (!net_port_ours(cfg, out->dst_port) || out->src_port == 0)
		return net_drop(out, NET_DROP_UDP_PORT);
	/* Checksum 0: the sender computed none (legal in IPv4). */
	if (!l4_ok && udp->dgram_cksum != 0 &&
			net_l4_sum(ip, udp, l4_len) != 0xffff)
		return net_drop(out, NET_DROP_UDP_CKSUM);
	out->payload_off = out->l4_off + sizeof(*udp);
	out->payload_len = (uint16_t)(l4_len - sizeof(*udp));
	return NET_V_UDP;
}

/* ICMP inside a checked IPv4 datagram: only echo requests are answered. */
static enum net_verdict
net_classify_icmp(const uint8_t *frame, size_t l4_len, struct net_pkt *out)
{
	const struct rte_icmp_hdr *icmp;

	if (l4_len < sizeof(*icmp))
		return net_drop(out, NET_DROP_ICMP_LEN);
	icmp = (const struct rte_icmp_hdr *)(frame + out->l4_off);
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0)
		return net_drop(out, NET_DROP_ICMP_TYPE);
	if (rte_raw_cksum(icmp, l4_len) != 0xffff)
		return net_drop(out, NET_DROP_ICMP_CKSUM);
	out->payload_off = out->l4_off + sizeof(*icmp);
	out->payload_len = (uint16_t)(l4_len - sizeof(*icmp));
	return NET_V_ICMP_REPLY;
}

/* IPv4: structure, checksum, fragmentation, TTL, addresses, then L4. */
static enum net_verdict
net_classify_ipv4(const uint8_t *frame, size_t len,
		const struct net_if_cfg *cfg, bool ip_ok, bool l4_ok,
		struct net_pkt *out)
{
	const struct rte_ipv4_hdr *ip;
	size_t hlen, tot;

	if (len < RTE_ETHER_HDR_LEN + sizeof(*ip))
		return net_drop(out, NET_DROP_SHORT);
	ip = (const struct rte_ipv4_hdr *)(frame + RTE_ETHER_HDR_LEN);
	if ((ip->version_ihl >> 4) != IPVERSION)
		return net_drop(out, NET_DROP_IP_VERSION);
	hlen = rte_ipv4_hdr_len(ip);
	if (hlen < sizeof(*ip))
		return net_drop(out, NET_DROP_IP_HDRLEN);
	if (len < RTE_ETHER_HDR_LEN + hlen)
		return net_drop(out, NET_DROP_SHORT);
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < hlen || tot > len - RTE_ETHER_HDR_LEN)
		return net_drop(out, NET_DROP_IP_LEN);
	/* A valid header sums to 0xffff, so its complement is 0. */
	if (!ip_ok && rte_ipv4_cksum(ip) != 0)
		return net_drop(out, NET_DROP_IP_CKSUM);
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG |
				RTE_IPV4_HDR_OFFSET_MASK))
		return net_drop(out, NET_DROP_IP_FRAGMENT);
	if (ip->time_to_live == 0)
		return net_drop(out, NET_DROP_IP_TTL);
	if (ip->dst_addr != cfg->ip)
		return net_drop(out, NET_DROP_IP_DST);
	if (net_ip_martian(ip->src_addr, cfg))
		return net_drop(out, NET_DROP_IP_SRC);

	out->src_ip = ip->src_addr;
	out->l4_off = (uint16_t)(RTE_ETHER_HDR_LEN + hlen);
	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		return net_classify_udp(frame, ip, tot - hlen, cfg, l4_ok, out);
	case IPPROTO_ICMP:
		return net_classify_icmp(frame, tot - hlen, out);
	default:
		return net_drop(out, NET_DROP_IP_PROTO);
	}
}

enum net_verdict
net_classify(const uint8_t *frame, size_t len, const struct net_if_cfg *cfg,
		bool ip_ok, bool l4_ok, struct net_pkt *out)
{
	const struct rte_ether_hdr *eth;

	memset(out, 0, sizeof(*out));
	if (len < RTE_ETHER_HDR_LEN)
		return net_drop(out, NET_DROP_SHORT);
	eth = (const struct rte_ether_hdr *)frame;
	if (!rte_is_same_ether_addr(&eth->dst_addr, &cfg->mac) &&
			!rte_is_broadcast_ether_addr(&eth->dst_addr))
		return net_drop(out, NET_DROP_L2_DST);
	if (!rte_is_unicast_ether_addr(&eth->src_addr) ||
			rte_is_zero_ether_addr(&eth->src_addr))
		return net_drop(out, NET_DROP_L2_SRC);
	out->src_mac = eth->src_addr;
	out->l3_off = RTE_ETHER_HDR_LEN;

	switch (eth->ether_type) {
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		return net_classify_ipv4(frame, len, cfg, ip_ok, l4_ok, out);
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		return net_classify_arp(frame, len, cfg, out);
	case RTE_BE16(RTE_ETHER_TYPE_VLAN):
	case RTE_BE16(RTE_ETHER_TYPE_QINQ):
	case RTE_BE16(RTE_ETHER_TYPE_QINQ1):
	case RTE_BE16(RTE_ETHER_TYPE_QINQ2):
	case RTE_BE16(RTE_ETHER_TYPE_QINQ3):
		return net_drop(out, NET_DROP_VLAN);
	default:
		/* IPv6 included, until the appliance speaks it. */
		return net_drop(out, NET_DROP_ETHERTYPE);
	}
}
