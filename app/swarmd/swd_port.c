/*
 * swd_port.c - the mbuf pool and the port: one rx and one tx queue per
 * worker lcore, RSS over IP addresses and UDP ports when the device has it
 * (so a client's sockets spread over the workers), checksum offload used
 * only where the device offers it: IPv4 and UDP checksum checks on
 * receive, UDP checksums on transmit (swd.tx_udp_cksum; the IPv4 header
 * checksum, 20 bytes, is always computed in software).
 *
 * The port's counters (rx misses above all: frames the port received and
 * dropped because a receive queue was full, never seen by a worker) are
 * sampled by worker 0 every SWD_PORT_SAMPLE_MS into a snapshot that any
 * thread reads (telemetry, the STATS op, the shedding of every worker).
 * Only worker 0 calls rte_eth_stats_get(): ethdev's control functions are
 * not made for concurrent callers, and worker 0 is one caller at a known
 * pace; the stats_get of most PMDs (af_packet: plain per-queue counters;
 * NICs: registers) may run while other lcores receive and transmit, as
 * testpmd does. DPDK's own /ethdev/stats telemetry command calls it too,
 * from the telemetry thread, when somebody asks.
 *
 * net_af_packet (DPDK 22.11) reports imissed as 0 and has no xstats of
 * its own (rte_eth_xstats_get_names() gives the generic ones only, and
 * its rx_missed_errors is that 0): a frame the kernel could not put in
 * the PMD's rx ring is counted only by the kernel, on the socket
 * (PACKET_STATISTICS tp_drops), and the PMD never asks. swarmd finds the PMD's AF_PACKET sockets among
 * its own file descriptors once the port is started (bound to the port's
 * interface) and reads PACKET_STATISTICS on each sample. Reading clears
 * the kernel's counts, so the snapshot accumulates them; nobody else reads
 * them.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_packet.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "swd.h"

#define SWD_MEMPOOL_CACHE 256

/* The snapshot: written by worker 0 (swd_port_sample), read by anyone. */
static struct swd_port_stats port_stats;
static char port_driver[RTE_ETH_NAME_MAX_LEN];
/* net_af_packet: the PMD's sockets, one per queue pair. */
static int afp_fd[RTE_MAX_QUEUES_PER_PORT];
static unsigned int afp_nfd;

static void
put(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static uint64_t
get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* True for an AF_PACKET socket bound to interface ifindex (0: any). */
static bool
afp_socket_of(int fd, unsigned int ifindex)
{
	struct sockaddr_ll sll;
	socklen_t len = sizeof(int);
	int domain = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 ||
	    domain != AF_PACKET)
		return false;
	len = sizeof(sll);
	memset(&sll, 0, sizeof(sll));
	if (getsockname(fd, (struct sockaddr *)&sll, &len) != 0)
		return false;
	return ifindex == 0 || (unsigned int)sll.sll_ifindex == ifindex;
}

/* Finds the af_packet PMD's sockets among our descriptors. */
static void
afp_find(const struct rte_eth_dev_info *info)
{
	struct dirent *de;
	DIR *d;

	afp_nfd = 0;
	if (info->driver_name == NULL ||
	    strcmp(info->driver_name, "net_af_packet") != 0)
		return;
	d = opendir("/proc/self/fd");
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && afp_nfd < RTE_DIM(afp_fd)) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end != '\0' || end == de->d_name || fd < 0 ||
		    fd == dirfd(d))
			continue;
		if (afp_socket_of((int)fd, info->if_index))
			afp_fd[afp_nfd++] = (int)fd;
	}
	closedir(d);
	if (afp_nfd == 0)
		RTE_LOG(WARNING, USER1, "net_af_packet: no AF_PACKET socket "
			"found, kernel rx ring drops are not counted\n");
}

void
swd_port_sample(struct swd_ctx *c, uint64_t now)
{
	struct rte_eth_stats st;
	uint64_t drops = 0;
	unsigned int i;

	for (i = 0; i < afp_nfd; i++) {
		struct tpacket_stats tp;
		socklen_t len = sizeof(tp);

		if (getsockopt(afp_fd[i], SOL_PACKET, PACKET_STATISTICS, &tp,
				&len) == 0)
			drops += tp.tp_drops;
	}
	if (drops != 0)
		put(&port_stats.afp_drops, port_stats.afp_drops + drops);
	if (rte_eth_stats_get(c->prm.port_id, &st) == 0) {
		put(&port_stats.ipackets, st.ipackets);
		put(&port_stats.opackets, st.opackets);
		put(&port_stats.imissed, st.imissed);
		put(&port_stats.ierrors, st.ierrors);
		put(&port_stats.oerrors, st.oerrors);
		put(&port_stats.rx_nombuf, st.rx_nombuf);
	}
	put(&port_stats.samples, port_stats.samples + 1);
	put(&port_stats.sampled_ms, now);
}

void
swd_port_stats_get(struct swd_port_stats *out)
{
	const uint64_t *src = (const uint64_t *)&port_stats;
	uint64_t *dst = (uint64_t *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = get(&src[i]);
}

uint64_t
swd_port_rx_missed(void)
{
	return get(&port_stats.imissed) + get(&port_stats.afp_drops);
}

const char *
swd_port_driver(void)
{
	return port_driver;
}

static uint32_t
pool_size(const struct swd_ctx *c)
{
	uint32_t n;

	if (c->prm.mbufs)
		return c->prm.mbufs;
	/* every descriptor, plus a burst, a cache and the rx FIFO per worker,
	 * plus slack */
	n = c->nworkers * (c->prm.rx_desc + c->prm.tx_desc + SWD_MAX_BURST +
			   SWD_MEMPOOL_CACHE + SWD_RXQ_SIZE) + 4096;
	return n < 8192 ? 8192 : n;
}

static void
port_rss(const struct rte_eth_dev_info *info, struct rte_eth_conf *conf,
	 uint16_t nq)
{
	uint64_t want = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;

	if (nq < 2 || (info->flow_type_rss_offloads & want) == 0)
		return;
	conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	conf->rx_adv_conf.rss_conf.rss_key = NULL;
	conf->rx_adv_conf.rss_conf.rss_hf = want & info->flow_type_rss_offloads;
}

int
swd_port_init(struct swd_ctx *c)
{
	uint16_t port = c->prm.port_id, nq = (uint16_t)c->nworkers, q;
	uint16_t nrx = c->prm.rx_desc, ntx = c->prm.tx_desc;
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	int rc;

	c->pool = rte_pktmbuf_pool_create("swd_mbufs", pool_size(c),
			SWD_MEMPOOL_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
			(int)rte_socket_id());
	if (c->pool == NULL) {
		RTE_LOG(ERR, USER1, "mbuf pool: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0)
		return rc;
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		RTE_LOG(ERR, USER1, "port %u has %u rx / %u tx queues, "
			"%u workers need one each\n", port, info.max_rx_queues,
			info.max_tx_queues, nq);
		return -1;
	}
	port_rss(&info, &conf, nq);
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_CHECKSUM;
	c->tx_udp_cksum = (info.tx_offload_capa &
			RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
	if (c->tx_udp_cksum)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	rc = rte_eth_dev_configure(port, nq, nq, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
	for (q = 0; rc == 0 && q < nq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, nrx,
				rte_eth_dev_socket_id(port), NULL, c->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port, q, ntx,
					rte_eth_dev_socket_id(port), NULL);
	}
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc != 0) {
		RTE_LOG(ERR, USER1, "port %u set-up: %s\n", port,
			rte_strerror(-rc));
		return rc;
	}
	/* a configured MAC becomes the port's, so frames to it are received */
	if (rte_is_zero_ether_addr(&c->prm.ifc.mac))
		rc = rte_eth_macaddr_get(port, &c->prm.ifc.mac);
	else
		rc = rte_eth_dev_default_mac_addr_set(port, &c->prm.ifc.mac);
	if (rc != 0) {
		RTE_LOG(ERR, USER1, "port %u MAC address: %s\n", port,
			rte_strerror(-rc));
		return rc;
	}
	snprintf(port_driver, sizeof(port_driver), "%s",
		info.driver_name != NULL ? info.driver_name : "");
	afp_find(&info);
	put(&port_stats.afp_sockets, afp_nfd);
	swd_port_sample(c, swd_now_ms(c));
	return 0;
}

void
swd_port_close(struct swd_ctx *c)
{
	rte_eth_dev_stop(c->prm.port_id);
	rte_eth_dev_close(c->prm.port_id);
	rte_mempool_free(c->pool);
}
