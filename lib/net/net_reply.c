/*
 * net_reply.c - build outgoing frames: ARP and ICMP echo replies in place
 * (the request mbuf becomes the reply, as testpmd's icmpecho mode does),
 * UDP reply headers in front of an encoded payload, and whole UDP frames
 * for tools and tests.
 *
 * The in-place builders expect a frame net_classify() answered with
 * NET_V_ARP_REPLY / NET_V_ICMP_REPLY, but still check every length they
 * rely on, so a wrong call returns 0 instead of touching memory outside
 * the frame. Checksums are computed in full: ARP and ping are rare, and
 * a full sum cannot inherit a sender's mistake.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "net.h"


size_t
net_pad(uint8_t *frame, size_t len, size_t cap)
{
	if (len >= NET_ETHER_MIN_FRAME || cap < NET_ETHER_MIN_FRAME)
		return len;
	memset(frame + len, 0, NET_ETHER_MIN_FRAME - len);
	return NET_ETHER_MIN_FRAME;
}

size_t
net_arp_reply(uint8_t *frame, size_t len, const struct net_if_cfg *cfg)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_arp_hdr *arp;
	struct rte_ether_addr sha;
	rte_be32_t sip;

	if (len < NET_ARP_FRAME_LEN ||
			eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_ARP))
		return 0;
	arp = (struct rte_arp_hdr *)(frame + RTE_ETHER_HDR_LEN);
	if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
			arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
			arp->arp_hlen != RTE_ETHER_ADDR_LEN ||
			arp->arp_plen != sizeof(rte_be32_t))
		return 0;

	sha = arp->arp_data.arp_sha;
	sip = arp->arp_data.arp_sip;
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = sha;
	arp->arp_data.arp_tip = sip;
	arp->arp_data.arp_sha = cfg->mac;
	arp->arp_data.arp_sip = cfg->ip;
	eth->dst_addr = sha;
	eth->src_addr = cfg->mac;
	return net_pad(frame, NET_ARP_FRAME_LEN, len);
}

/* Drop IP options: move the l4_len bytes after them up to offset 20. */
static void
net_ipv4_strip_options(struct rte_ipv4_hdr *ip, size_t hlen, size_t l4_len)
{
	uint8_t *base = (uint8_t *)ip;

	memmove(base + sizeof(*ip), base + hlen, l4_len);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4_len));
}

size_t
net_icmp_echo_reply(uint8_t *frame, size_t len, const struct net_if_cfg *cfg)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;
	size_t hlen, tot, l4_len;

	if (len < RTE_ETHER_HDR_LEN + sizeof(*ip) ||
			eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return 0;
	ip = (struct rte_ipv4_hdr *)(frame + RTE_ETHER_HDR_LEN);
	hlen = rte_ipv4_hdr_len(ip);
	tot = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != IPVERSION ||
			ip->next_proto_id != IPPROTO_ICMP ||
			hlen < sizeof(*ip) || tot < hlen + sizeof(*icmp) ||
			tot > len - RTE_ETHER_HDR_LEN)
		return 0;
	l4_len = tot - hlen;
	if (hlen > sizeof(*ip)) {
		net_ipv4_strip_options(ip, hlen, l4_len);
		tot = sizeof(*ip) + l4_len;
	}
	icmp = (struct rte_icmp_hdr *)(ip + 1);

	eth->dst_addr = eth->src_addr;
	eth->src_addr = cfg->mac;
	ip->dst_addr = ip->src_addr;
	ip->src_addr = cfg->ip;
	ip->time_to_live = NET_TTL;
	ip->fragment_offset &= RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_code = 0;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, l4_len);
	return net_pad(frame, RTE_ETHER_HDR_LEN + tot, len);
}

/* Ethernet + IPv4 + UDP headers for payload_len bytes at NET_UDP_HDRS_LEN. */
static void
net_write_udp_hdrs(uint8_t *frame, const struct rte_ether_addr *src_mac,
		const struct rte_ether_addr *dst_mac, rte_be32_t src_ip,
		rte_be32_t dst_ip, uint16_t src_port, uint16_t dst_port,
		size_t payload_len, bool tx_cksum_offload)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t udp_len = (uint16_t)(sizeof(*udp) + payload_len);

	eth->dst_addr = *dst_mac;
	eth->src_addr = *src_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + udp_len));
	ip->packet_id = 0;	/* atomic datagram (DF): RFC 6864 */
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = NET_TTL;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = src_ip;
	ip->dst_addr = dst_ip;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	udp->src_port = rte_cpu_to_be_16(src_port);
	udp->dst_port = rte_cpu_to_be_16(dst_port);
	udp->dgram_len = rte_cpu_to_be_16(udp_len);
	udp->dgram_cksum = 0;
	if (tx_cksum_offload)
		udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, 0);
	else
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
}

size_t
net_udp_reply(uint8_t *frame, const struct net_pkt *req,
		const struct net_if_cfg *cfg, size_t payload_len,
		bool tx_cksum_offload)
{
	uint16_t from_port = req->dst_port != 0 ? req->dst_port : cfg->udp_port;

	if (payload_len > NET_UDP_PAYLOAD_MAX)
		return 0;
	net_write_udp_hdrs(frame, &cfg->mac, &req->src_mac, cfg->ip,
			req->src_ip, from_port, req->src_port, payload_len,
			tx_cksum_offload);
	return NET_UDP_HDRS_LEN + payload_len;
}

size_t
net_build_udp_frame_ol(uint8_t *frame, size_t cap,
		const struct rte_ether_addr *src_mac,
		const struct rte_ether_addr *dst_mac,
		rte_be32_t src_ip, rte_be32_t dst_ip,
		uint16_t src_port, uint16_t dst_port,
		const void *payload, size_t payload_len,
		bool tx_cksum_offload)
{
	if (payload_len > NET_UDP_PAYLOAD_MAX ||
			cap < NET_UDP_HDRS_LEN ||
			payload_len > cap - NET_UDP_HDRS_LEN)
		return 0;
	if (payload_len > 0)
		memmove(frame + NET_UDP_HDRS_LEN, payload, payload_len);
	net_write_udp_hdrs(frame, src_mac, dst_mac, src_ip, dst_ip, src_port,
			dst_port, payload_len, tx_cksum_offload);
	return NET_UDP_HDRS_LEN + payload_len;
}

size_t
net_build_udp_frame(uint8_t *frame, size_t cap,
		const struct rte_ether_addr *src_mac,
		const struct rte_ether_addr *dst_mac,
		rte_be32_t src_ip, rte_be32_t dst_ip,
		uint16_t src_port, uint16_t dst_port,
		const void *payload, size_t payload_len)
{
	return net_build_udp_frame_ol(frame, cap, src_mac, dst_mac, src_ip,
			dst_ip, src_port, dst_port, payload, payload_len, false);
}
