/*
 * swd_port.c - the mbuf pool and the port: one rx and one tx queue per
 * worker lcore, RSS over IP addresses and UDP ports when the device has it
 * (so a client's sockets spread over the workers), checksum offload used
 * only where the device offers it.
 */
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "swd.h"

#define SWD_MEMPOOL_CACHE 256

static uint32_t
pool_size(const struct swd_ctx *c)
{
	uint32_t n;

	if (c->prm.mbufs)
		return c->prm.mbufs;
	/* every descriptor, plus a burst and a cache per worker, plus slack */
	n = c->nworkers * (c->prm.rx_desc + c->prm.tx_desc + SWD_MAX_BURST +
			   SWD_MEMPOOL_CACHE) + 4096;
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
	if (rc != 0)
		RTE_LOG(ERR, USER1, "port %u MAC address: %s\n", port,
			rte_strerror(-rc));
	return rc;
}

void
swd_port_close(struct swd_ctx *c)
{
	rte_eth_dev_stop(c->prm.port_id);
	rte_eth_dev_close(c->prm.port_id);
	rte_mempool_free(c->pool);
}
