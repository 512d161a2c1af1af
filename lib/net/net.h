/*
 * net.h - the appliance's packet layer: pure functions over Ethernet frames.
 *
 * swarmd's worker lcores call net_classify() on every received frame, in
 * the rx burst loop, with the frame bytes (rte_pktmbuf_mtod(), data_len)
 * and the mbuf's rx checksum flags turned into two booleans. The verdict
 * says what to do with it: hand the UDP payload to the protocol layer,
 * answer ARP or ICMP echo in place (the request mbuf becomes the reply),
 * or drop it and count the reason (struct net_pkt.drop indexes a per-lcore
 * counter array of NET_DROP__MAX entries; net_drop_name() names them).
 *
 * Nothing here allocates, logs, touches global state or calls into the
 * EAL: only DPDK's header structs and inline helpers are used, so the
 * functions run in unit tests and fuzzers without rte_eal_init(), and
 * net_dep carries DPDK's compile flags but links none of its libraries.
 *
 * Frames: `frame` must be 2-byte aligned (mbuf data always is: DPDK's
 * Ethernet structs are __rte_aligned(2)). `len` is the number of bytes
 * that may be read; nothing is read or written outside [frame, frame+len)
 * except by net_udp_reply() and net_build_udp_frame(), whose contracts
 * state how much room they need.
 *
 * What is accepted (everything else is NET_V_DROP with a reason):
 *   L2    destination is our MAC or broadcast; the source MAC is unicast;
 *         ethertype ARP or IPv4. VLAN/QinQ tags are dropped (NET_DROP_VLAN,
 *         the appliance sits on an untagged port or the NIC strips tags);
 *         IPv6 and anything else is NET_DROP_ETHERTYPE for now.
 *   ARP   Ethernet/IPv4 request (htype 1, ptype 0x0800, hlen 6, plen 4)
 *         whose target is our IP, from a unicast sender MAC -> reply.
 *         Replies, gratuitous ARP and requests for other hosts are counted.
 *   IPv4  version 4, IHL 5..15 (options allowed, skipped), header checksum
 *         valid (unless ip_ok), total length >= header and within the frame
 *         (Ethernet padding after it is ignored), not a fragment (the
 *         protocol never fragments), TTL > 0, destination exactly our IP
 *         (no broadcast: no smurf replies), source not martian (0/8,
 *         127/8, 224/4 multicast, 240/4 incl. 255.255.255.255, our subnet's
 *         broadcast address, our own address).
 *   UDP   length equals the IP payload length, destination port is one of
 *         ours, source port non-zero (port 0 cannot be answered), checksum
 *         0 (none, allowed in IPv4) or valid (unless l4_ok).
 *   ICMP  echo request (type 8, code 0) with a valid checksum -> reply.
 *
 * Multi-byte fields: rte_be*_t are network order, plain uint16_t ports are
 * host order.
 */
#ifndef SWARM_NET_H
#define SWARM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

/* Ethernet + IPv4 (no options) + UDP: where net_udp_reply() wants payload. */
#define NET_UDP_HDRS_LEN	(RTE_ETHER_HDR_LEN + 20 + 8)
/* Largest UDP payload an IPv4 datagram can carry. */
#define NET_UDP_PAYLOAD_MAX	(65535 - 20 - 8)
/* Shortest Ethernet frame on the wire, without the CRC. */
#define NET_ETHER_MIN_FRAME	(RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN)
/* TTL of every frame we originate. */
#define NET_TTL			64
/* Extra UDP ports accepted besides udp_port (e.g. cluster gossip). */
#define NET_UDP_PORTS_EXTRA	3

/* This appliance's interface. */
struct net_if_cfg {
	struct rte_ether_addr mac;
	rte_be32_t ip;			/* network order */
	rte_be32_t netmask;		/* network order; 0 = unknown */
	rte_be32_t gateway;		/* network order; 0 = none (net_next_hop) */
	uint16_t udp_port;		/* host order: client protocol port */
	/* Host order, 0 = unused slot. net_pkt.dst_port tells the caller
	 * which port a datagram came to, so it can dispatch on it. */
	uint16_t udp_port_extra[NET_UDP_PORTS_EXTRA];
};

enum net_verdict {
	NET_V_UDP,		/* payload for us: see net_pkt */
	NET_V_ARP_REPLY,	/* call net_arp_reply() and send the frame */
	NET_V_ICMP_REPLY,	/* call net_icmp_echo_reply() and send */
	NET_V_DROP,		/* free it; count net_pkt.drop */
};

/* Why a frame was dropped. Stable order and names (telemetry keys). */
enum net_drop {
	NET_DROP_NONE,
	NET_DROP_SHORT,		/* frame ends inside a header it announces */
	NET_DROP_L2_DST,	/* not our MAC nor broadcast */
	NET_DROP_L2_SRC,	/* multicast/broadcast/zero source MAC */
	NET_DROP_ETHERTYPE,	/* not ARP nor IPv4 (IPv6 included) */
	NET_DROP_VLAN,		/* 802.1Q / 802.1ad tagged */
	NET_DROP_ARP_MALFORMED,	/* not Ethernet/IPv4 ARP, or bad sender MAC */
	NET_DROP_ARP_NOT_US,	/* target IP is not ours (incl. gratuitous) */
	NET_DROP_ARP_OP,	/* not a request (replies etc.) */
	NET_DROP_IP_VERSION,
	NET_DROP_IP_HDRLEN,	/* IHL < 5 */
	NET_DROP_IP_LEN,	/* total length < header or > frame */
	NET_DROP_IP_CKSUM,
	NET_DROP_IP_FRAGMENT,	/* MF set or offset != 0 */
	NET_DROP_IP_TTL,	/* TTL 0 */
	NET_DROP_IP_DST,	/* not our address */
	NET_DROP_IP_SRC,	/* martian source */
	NET_DROP_IP_PROTO,	/* not UDP nor ICMP */
	NET_DROP_UDP_LEN,	/* header missing or length != IP payload */
	NET_DROP_UDP_CKSUM,
	NET_DROP_UDP_PORT,	/* destination port not ours, or source 0 */
	NET_DROP_ICMP_TYPE,	/* anything but echo request code 0 */
	NET_DROP_ICMP_CKSUM,
	NET_DROP_ICMP_LEN,	/* shorter than the 8-byte echo header */
	NET_DROP__MAX
};

/*
 * Result of net_classify(). Offsets are from the start of the frame.
 *   UDP:  l3_off = 14, l4_off = UDP header, payload_off/len = UDP payload,
 *         src_* = the requester (where the reply goes), dst_port = the
 *         port of ours it was sent to.
 *   ICMP: l4_off = ICMP header, payload_off/len = echo data after the
 *         8-byte echo header, src_port = dst_port = 0.
 *   ARP:  l3_off = 14 (ARP header), l4_off = payload_off = payload_len = 0,
 *         src_mac/src_ip = the ARP sender.
 *   DROP: drop says why; the other fields are unspecified.
 */
struct net_pkt {
	enum net_drop drop;
	uint16_t l3_off, l4_off, payload_off, payload_len;
	struct rte_ether_addr src_mac;
	rte_be32_t src_ip;
	uint16_t src_port;		/* host order */
	uint16_t dst_port;		/* host order */
};

/*
 * Classify one received frame for the interface cfg. ip_ok / l4_ok: the
 * NIC verified the IPv4 / UDP checksum (RTE_MBUF_F_RX_IP_CKSUM_GOOD /
 * RTE_MBUF_F_RX_L4_CKSUM_GOOD); when false the checksum is verified in
 * software (pass false for UNKNOWN and BAD alike). ICMP checksums are
 * always verified in software. Reads at most len bytes; fills *out
 * (out->drop is NET_DROP_NONE unless the verdict is NET_V_DROP).
 */
enum net_verdict
net_classify(const uint8_t *frame, size_t len, const struct net_if_cfg *cfg,
		bool ip_ok, bool l4_ok, struct net_pkt *out);

/*
 * Turn an ARP request classified NET_V_ARP_REPLY into our reply, in place:
 * Ethernet to the sender, opcode 2, sender = our MAC/IP, target = the
 * requester. Returns the new frame length: 60 (zero-padded to the
 * Ethernet minimum) when len >= 60, else 42 (the NIC or kernel pads).
 * Returns 0, writing nothing, if the frame is not an Ethernet/IPv4 ARP
 * packet of at least 42 bytes.
 */
size_t
net_arp_reply(uint8_t *frame, size_t len, const struct net_if_cfg *cfg);

/*
 * Turn an ICMP echo request classified NET_V_ICMP_REPLY into the echo
 * reply, in place: MACs and IPs swapped (source = cfg), TTL reset to
 * NET_TTL, IP options removed (echo data moved up; RFC 1122 route
 * reversal is not implemented), full IPv4 and ICMP checksums. The echo
 * identifier, sequence and data are kept. Returns the new frame length
 * (padded to 60 bytes like net_arp_reply() when len allows), or 0 without
 * writing if the frame does not hold a consistent IPv4 ICMP packet.
 */
size_t
net_icmp_echo_reply(uint8_t *frame, size_t len, const struct net_if_cfg *cfg);

/*
 * Write Ethernet + IPv4 (IHL 5, DF, id 0, TTL NET_TTL) + UDP headers for
 * a reply to req (a NET_V_UDP classification) in front of payload_len
 * bytes the caller already placed at frame + NET_UDP_HDRS_LEN. The reply
 * goes from cfg->mac / cfg->ip and the port req was sent to (req->dst_port,
 * or cfg->udp_port when that is 0) to req's source MAC/IP/port.
 * The IPv4 checksum is always computed. The UDP checksum is computed in
 * software unless tx_cksum_offload, in which case the field holds the
 * pseudo-header sum (rte_ipv4_phdr_cksum()) as DPDK requires, and the
 * caller must set m->l2_len = RTE_ETHER_HDR_LEN, m->l3_len = 20 and
 * ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM.
 * frame must have room for NET_UDP_HDRS_LEN + payload_len bytes. Returns
 * the frame length, or 0 (nothing written) if payload_len exceeds
 * NET_UDP_PAYLOAD_MAX. Frames under 60 bytes are left for the NIC to pad
 * (see net_pad()).
 */
size_t
net_udp_reply(uint8_t *frame, const struct net_pkt *req,
		const struct net_if_cfg *cfg, size_t payload_len,
		bool tx_cksum_offload);

/*
 * Build a complete Ethernet/IPv4/UDP frame (headers as net_udp_reply(),
 * software checksums) for tests, the storm tool's raw mode and the
 * benchmarks. payload may overlap frame. Ports in host order. Returns the
 * frame length, or 0 if it would exceed cap or NET_UDP_PAYLOAD_MAX.
 */
size_t
net_build_udp_frame(uint8_t *frame, size_t cap,
		const struct rte_ether_addr *src_mac,
		const struct rte_ether_addr *dst_mac,
		rte_be32_t src_ip, rte_be32_t dst_ip,
		uint16_t src_port, uint16_t dst_port,
		const void *payload, size_t payload_len);

/* net_build_udp_frame() with the UDP checksum as net_udp_reply() leaves
 * it: the pseudo-header sum for the port to finish when tx_cksum_offload
 * (the caller then sets the mbuf's offload fields, as there). */
size_t
net_build_udp_frame_ol(uint8_t *frame, size_t cap,
		const struct rte_ether_addr *src_mac,
		const struct rte_ether_addr *dst_mac,
		rte_be32_t src_ip, rte_be32_t dst_ip,
		uint16_t src_port, uint16_t dst_port,
		const void *payload, size_t payload_len,
		bool tx_cksum_offload);

/*
 * Zero-pad a frame of len bytes to NET_ETHER_MIN_FRAME when cap allows.
 * Returns the new length (len when already long enough or cap is short).
 */
size_t
net_pad(uint8_t *frame, size_t len, size_t cap);

/* Ethernet + ARP, without padding: 42 bytes. */
#define NET_ARP_FRAME_LEN	(RTE_ETHER_HDR_LEN + 28)

/*
 * Neighbor table (net_neigh.c) for traffic we originate: IPv4 -> MAC,
 * NET_NEIGH_SLOTS entries, one thread. Zero it to start.
 */
#define NET_NEIGH_SLOTS	256
#define NET_NEIGH_PROBE	8

#define NET_NEIGH_TENTATIVE_MS	1000	/* an ARP answer, until gossip confirms */
#define NET_NEIGH_STALE_MS	10000	/* confirmed, but not heard from since */

struct net_neigh_entry {
	rte_be32_t ip;			/* 0 = free */
	bool known;			/* mac is valid */
	struct rte_ether_addr mac;
	uint64_t seen_ms;		/* last learned or asked */
	uint64_t asked_ms;		/* last ARP request sent, 0 = never */
	uint64_t confirmed_ms;		/* last authentic gossip, 0 = tentative */
};

struct net_neigh {
	struct net_neigh_entry e[NET_NEIGH_SLOTS];
};

/* Record that ip is at mac, confirmed: an authentic datagram came from it
 * (unicast, non-zero; else ignored). */
void net_neigh_learn(struct net_neigh *t, rte_be32_t ip,
		const struct rte_ether_addr *mac, uint64_t now);
/* An ARP reply says ip is at mac: taken (tentatively) only as the first
 * answer to a request for ip sent less than within_ms ago, and never over
 * a MAC confirmed within NET_NEIGH_STALE_MS. True if taken. */
bool net_neigh_answered(struct net_neigh *t, rte_be32_t ip,
		const struct rte_ether_addr *mac, uint64_t now,
		uint64_t within_ms);
/* The MAC of ip if known and fresh: confirmed within NET_NEIGH_STALE_MS,
 * or tentative for less than NET_NEIGH_TENTATIVE_MS. */
bool net_neigh_lookup(struct net_neigh *t, rte_be32_t ip,
		struct rte_ether_addr *mac, uint64_t now);
/* True when a frame (at least an ARP frame long) is an ARP reply to us. */
bool net_arp_is_reply_to(const uint8_t *frame, size_t len,
		const struct net_if_cfg *cfg);
/* True when an ARP request for ip is due (at most one per every_ms). */
bool net_neigh_want(struct net_neigh *t, rte_be32_t ip, uint64_t now,
		uint64_t every_ms);
/*
 * The sender of a well-formed Ethernet/IPv4 ARP request or reply from our
 * subnet (not ourselves, unicast MAC), for net_neigh_learn(). False for
 * anything else.
 */
bool net_arp_learn(const uint8_t *frame, size_t len,
		const struct net_if_cfg *cfg, rte_be32_t *ip,
		struct rte_ether_addr *mac);
/* Build a broadcast ARP request for target; length, or 0 if cap < 42. */
size_t net_arp_request(uint8_t *frame, size_t cap,
		const struct net_if_cfg *cfg, rte_be32_t target);

/*
 * The address whose MAC a frame we originate to dst is sent to: dst itself
 * when it is on our subnet (or the netmask is unknown, or there is no
 * gateway), else cfg->gateway. Look that address up in the neighbor table
 * and ARP for it on a miss; the IP destination stays dst.
 */
rte_be32_t net_next_hop(const struct net_if_cfg *cfg, rte_be32_t dst);

/* Stable lower-case name of a drop reason ("ip_cksum"), or "unknown". */
const char *
net_drop_name(enum net_drop d);

/*
 * Strict parsers for the config loader; 0 or -EINVAL (out untouched).
 * net_parse_ipv4: "a.b.c.d", four decimal parts 0..255, no leading zeros,
 *   signs, spaces or trailing characters.
 * net_parse_prefix: "a.b.c.d/len", len 0..32 without leading zeros; *ip
 *   is the address as written (host bits allowed: an interface address),
 *   *mask the netmask. Either output may be NULL.
 * net_parse_mac: "aa:bb:cc:dd:ee:ff", six two-digit hex parts (either
 *   case), colons only.
 */
int
net_parse_ipv4(const char *s, rte_be32_t *out);
int
net_parse_prefix(const char *s, rte_be32_t *ip, rte_be32_t *mask);
int
net_parse_mac(const char *s, struct rte_ether_addr *out);

#endif /* SWARM_NET_H */
