/*
 * net_frames.h - frames and interfaces shared by the lib/net tests.
 *
 * "us" is the appliance (10.0.0.2/24, client port US_PORT); "peer" is a
 * client on the same subnet. Builders write into a caller buffer of at
 * least FRAME_CAP bytes and return the frame length; the fixers recompute
 * a checksum after a test has mutated a header.
 */
#ifndef SWARM_TEST_NET_FRAMES_H
#define SWARM_TEST_NET_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "net.h"

#define FRAME_CAP	2048
#define US_PORT		7400
#define PEER_PORT	40000
#define US_IP		RTE_BE32(RTE_IPV4(10, 0, 0, 2))
#define PEER_IP		RTE_BE32(RTE_IPV4(10, 0, 0, 9))

extern const struct rte_ether_addr us_mac, peer_mac, bcast_mac;

/* The appliance's interface, and the peer's as seen when it receives replies. */
void us_cfg(struct net_if_cfg *cfg);
void peer_cfg(struct net_if_cfg *cfg);

/* Peer -> us UDP datagram carrying payload_len bytes 'A', 'B', ... */
size_t frame_udp(uint8_t *f, size_t payload_len);
/* Same, with opt_words 32-bit words of IP options (NOPs) after the header. */
size_t frame_udp_opts(uint8_t *f, size_t payload_len, unsigned int opt_words);
/* Peer -> broadcast ARP request for target_ip. */
size_t frame_arp(uint8_t *f, rte_be32_t target_ip);
/* Peer -> us ICMP echo request (id 0x1234, seq 7) with data_len data bytes. */
size_t frame_icmp(uint8_t *f, size_t data_len, unsigned int opt_words);

/* Header views of a frame built above (IPv4 at 14, L4 after the options). */
struct rte_ether_hdr *f_eth(uint8_t *f);
struct rte_ipv4_hdr *f_ip(uint8_t *f);
struct rte_arp_hdr *f_arp(uint8_t *f);
void *f_l4(uint8_t *f);

/* Recompute checksums after a mutation. */
void fix_ip_cksum(uint8_t *f);
void fix_udp_cksum(uint8_t *f);
void fix_icmp_cksum(uint8_t *f);

/* A heap block of exactly n bytes holding f[0..n) (so ASan sees over-reads). */
uint8_t *dup_exact(const uint8_t *f, size_t n);

/* Groups of cmocka tests, each returning its failure count. */
int net_tests_classify(void);
int net_tests_reply(void);
int net_tests_parse(void);
int net_tests_neigh(void);

#endif /* SWARM_TEST_NET_FRAMES_H */
