/*
 * net_neigh.c - the neighbor table (IPv4 -> Ethernet address) for traffic
 * this appliance originates (cluster gossip), ARP requests, and learning
 * from ARP packets.
 *
 * Replies to clients never need it (they go back to the frame's source
 * MAC). Gossip does: a node talks first to peers it may never have heard
 * from. A peer off our subnet is reached through the gateway: its frames
 * go to the gateway's MAC (net_next_hop), which is resolved like any
 * neighbor's. The table is a small open-addressed array with linear probing,
 * written and read by one thread (the lcore that runs the cluster).
 * Entries are learned only from what an attacker on the segment cannot
 * forge, or not for long: gossip datagrams that passed authentication and
 * replay checks confirm a MAC (net_neigh_learn); an ARP reply addressed to
 * us, the first one to a request we sent within a second, makes a
 * tentative entry (net_neigh_answered) that never replaces a confirmed one.
 * Anyone can send a frame with a peer's source IP, or flood ARP replies
 * naming it; so a tentative entry that no authentic datagram confirms
 * within NET_NEIGH_TENTATIVE_MS, and a confirmed one not heard from for
 * NET_NEIGH_STALE_MS, stop resolving (net_neigh_lookup) and are asked
 * for again: a poisoned entry lasts a second after the poisoning stops.
 * A full table evicts the stalest entry of the probe run. A lookup that
 * misses tells the caller to send an ARP request (rate-limited per
 * address by net_neigh_want()).
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>

#include "net.h"

static uint32_t
slot_of(rte_be32_t ip)
{
	uint32_t h = (uint32_t)ip * 0x9e3779b1u;

	return h >> (32 - 8);	/* NET_NEIGH_SLOTS == 256 */
}

static struct net_neigh_entry *
find(struct net_neigh *t, rte_be32_t ip, bool insert, uint64_t now)
{
	struct net_neigh_entry *stale = NULL;
	uint32_t i, k = slot_of(ip);

	for (i = 0; i < NET_NEIGH_PROBE; i++) {
		struct net_neigh_entry *e = &t->e[(k + i) % NET_NEIGH_SLOTS];

		if (e->ip == ip && e->ip != 0)
			return e;
		if (!insert)
			continue;
		if (e->ip == 0)
			return e;
		if (stale == NULL || e->seen_ms < stale->seen_ms)
			stale = e;
	}
	(void)now;
	return stale;
}

void
net_neigh_learn(struct net_neigh *t, rte_be32_t ip,
		const struct rte_ether_addr *mac, uint64_t now)
{
	struct net_neigh_entry *e;

	if (ip == 0 || !rte_is_unicast_ether_addr(mac) ||
	    rte_is_zero_ether_addr(mac))
		return;
	e = find(t, ip, true, now);
	if (e->ip != ip) {
		memset(e, 0, sizeof(*e));
		e->ip = ip;
	}
	e->mac = *mac;
	e->known = true;
	e->seen_ms = now;
	e->confirmed_ms = now;
}

bool
net_neigh_answered(struct net_neigh *t, rte_be32_t ip,
		const struct rte_ether_addr *mac, uint64_t now,
		uint64_t within_ms)
{
	struct net_neigh_entry *e = find(t, ip, false, now);

	if (e == NULL || e->asked_ms == 0 || now - e->asked_ms >= within_ms ||
	    !rte_is_unicast_ether_addr(mac) || rte_is_zero_ether_addr(mac))
		return false;
	if (e->known && e->confirmed_ms != 0 &&
	    now - e->confirmed_ms < NET_NEIGH_STALE_MS)
		return false;	/* authentic gossip says otherwise */
	e->asked_ms = 0;	/* one answer per request */
	e->mac = *mac;
	e->known = true;
	e->seen_ms = now;
	e->confirmed_ms = 0;
	return true;
}

bool
net_neigh_lookup(struct net_neigh *t, rte_be32_t ip,
		struct rte_ether_addr *mac, uint64_t now)
{
	struct net_neigh_entry *e = find(t, ip, false, 0);

	if (e == NULL || !e->known)
		return false;
	if (e->confirmed_ms != 0 ? now - e->confirmed_ms >= NET_NEIGH_STALE_MS :
			now - e->seen_ms >= NET_NEIGH_TENTATIVE_MS)
		return false;
	*mac = e->mac;
	return true;
}

bool
net_neigh_want(struct net_neigh *t, rte_be32_t ip, uint64_t now,
		uint64_t every_ms)
{
	struct net_neigh_entry *e = find(t, ip, true, now);

	if (e->ip != ip) {
		memset(e, 0, sizeof(*e));
		e->ip = ip;
		e->seen_ms = now;
	} else if (e->asked_ms != 0 && now - e->asked_ms < every_ms) {
		return false;
	}
	e->asked_ms = now;
	return true;
}

bool
net_arp_is_reply_to(const uint8_t *frame, size_t len,
		const struct net_if_cfg *cfg)
{
	struct rte_arp_hdr arp;

	if (len < NET_ARP_FRAME_LEN)
		return false;
	memcpy(&arp, frame + RTE_ETHER_HDR_LEN, sizeof(arp));
	return arp.arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY) &&
		arp.arp_data.arp_tip == cfg->ip;
}

bool
net_arp_learn(const uint8_t *frame, size_t len, const struct net_if_cfg *cfg,
		rte_be32_t *ip, struct rte_ether_addr *mac)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	struct rte_arp_hdr arp;

	if (len < NET_ARP_FRAME_LEN ||
	    eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_ARP))
		return false;
	memcpy(&arp, frame + RTE_ETHER_HDR_LEN, sizeof(arp));
	if (arp.arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp.arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    arp.arp_hlen != RTE_ETHER_ADDR_LEN ||
	    arp.arp_plen != sizeof(rte_be32_t) ||
	    (arp.arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) &&
	     arp.arp_opcode != RTE_BE16(RTE_ARP_OP_REPLY)) ||
	    !rte_is_unicast_ether_addr(&arp.arp_data.arp_sha) ||
	    arp.arp_data.arp_sip == 0 || arp.arp_data.arp_sip == cfg->ip)
		return false;
	/* only neighbors on our subnet: nothing else is reached directly */
	if (cfg->netmask != 0 && ((arp.arp_data.arp_sip ^ cfg->ip) &
			cfg->netmask) != 0)
		return false;
	*ip = arp.arp_data.arp_sip;
	*mac = arp.arp_data.arp_sha;
	return true;
}

size_t
net_arp_request(uint8_t *frame, size_t cap, const struct net_if_cfg *cfg,
		rte_be32_t target)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_arp_hdr arp;

	if (cap < NET_ARP_FRAME_LEN)
		return 0;
	memset(frame, 0, NET_ARP_FRAME_LEN);
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	eth->src_addr = cfg->mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	memset(&arp, 0, sizeof(arp));
	arp.arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp.arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp.arp_hlen = RTE_ETHER_ADDR_LEN;
	arp.arp_plen = sizeof(rte_be32_t);
	arp.arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	arp.arp_data.arp_sha = cfg->mac;
	arp.arp_data.arp_sip = cfg->ip;
	arp.arp_data.arp_tip = target;
	memcpy(frame + RTE_ETHER_HDR_LEN, &arp, sizeof(arp));
	return net_pad(frame, NET_ARP_FRAME_LEN, cap);
}

rte_be32_t
net_next_hop(const struct net_if_cfg *cfg, rte_be32_t dst)
{
	if (cfg->gateway == 0 || cfg->netmask == 0 ||
	    ((dst ^ cfg->ip) & cfg->netmask) == 0)
		return dst;
	return cfg->gateway;
}
