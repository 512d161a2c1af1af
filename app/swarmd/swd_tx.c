/*
 * swd_tx.c - the transmit side of a worker: its tx buffer and the reply
 * frames built into mbufs.
 *
 * As in DPDK's l3fwd, each worker (its per-lcore struct swd_worker)
 * buffers frames for its own tx queue and sends them in one
 * rte_eth_tx_burst when the buffer holds a burst, or when the drain timer
 * (tx_drain_us) expired with frames waiting, so a lone reply is not held
 * back longer than that; frames the port does not take are freed and
 * counted (tx_dropped). Only the worker that owns w calls these.
 *
 * Replies: the request's mbuf is reused for the first reply datagram of
 * a request (reset, since the request's bytes are done with), fresh
 * mbufs from the port's pool for the others; the UDP payload is written
 * after room for the Ethernet, IPv4 and UDP headers, which lib/net fills
 * from the request (addresses and ports swapped).
 *
 * UDP checksums: where the port offers RTE_ETH_TX_OFFLOAD_UDP_CKSUM
 * (swd.tx_udp_cksum, swd_port.c) the frame carries the pseudo-header sum
 * and the mbuf asks the port to finish it; elsewhere lib/net computes the
 * checksum in software.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "swd.h"

void
swd_tx_init(struct swd_worker *w)
{
	w->txq.n = 0;
	w->txq.drain_tsc = (swd.tsc_hz + 999999) / 1000000 *
		swd.prm.tx_drain_us;
	w->txq.last_tsc = rte_get_tsc_cycles();
}

void
swd_tx_flush(struct swd_worker *w)
{
	struct swd_txq *q = &w->txq;
	uint16_t sent;

	if (q->n == 0)
		return;
	sent = rte_eth_tx_burst(swd.prm.port_id, w->queue, q->m, q->n);
	w->stats.tx_pkts += sent;
	if (sent < q->n) {
		w->stats.tx_dropped += q->n - sent;
		rte_pktmbuf_free_bulk(&q->m[sent], q->n - sent);
	}
	q->n = 0;
}

void
swd_tx_drain(struct swd_worker *w, uint64_t tsc)
{
	if (tsc - w->txq.last_tsc > w->txq.drain_tsc) {
		swd_tx_flush(w);
		w->txq.last_tsc = tsc;
	}
}

void
swd_tx_queue(struct swd_worker *w, struct rte_mbuf *m)
{
	struct swd_txq *q = &w->txq;

	if (q->n == RTE_DIM(q->m))
		swd_tx_flush(w);
	q->m[q->n++] = m;
	if (q->n >= swd.prm.burst)
		swd_tx_flush(w);
}

void
swd_tx_udp_cksum(struct rte_mbuf *m)
{
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(struct rte_ipv4_hdr);
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
}

void
swd_tx_reply(struct swd_worker *w, struct rte_mbuf *m,
		const struct net_pkt *pkt, const uint8_t *dgram, size_t len)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	size_t flen;

	memcpy(frame + NET_UDP_HDRS_LEN, dgram, len);
	flen = net_udp_reply(frame, pkt, &swd.prm.ifc, len, swd.tx_udp_cksum);
	if (swd.tx_udp_cksum)
		swd_tx_udp_cksum(m);
	m->data_len = (uint16_t)flen;
	m->pkt_len = (uint32_t)flen;
	w->stats.replies++;
	swd_tx_queue(w, m);
}

void
swd_send_replies(struct swd_worker *w, const struct net_pkt *pkt,
		struct rte_mbuf *reuse, const struct exec_out *out)
{
	size_t k;

	for (k = 0; k < out->n; k++) {
		struct rte_mbuf *m = reuse;

		reuse = NULL;
		if (m != NULL)
			rte_pktmbuf_reset(m);	/* a request mbuf: fresh ones are */
		else if ((m = rte_pktmbuf_alloc(swd.pool)) == NULL) {
			w->stats.mbuf_alloc_failed++;
			continue;
		}
		swd_tx_reply(w, m, pkt, out->dgram[k], out->len[k]);
	}
	if (reuse != NULL)
		rte_pktmbuf_free(reuse);
}

void
swd_send_one(struct swd_worker *w, const struct net_pkt *pkt,
		const uint8_t *dgram, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(swd.pool);

	if (m == NULL) {
		w->stats.mbuf_alloc_failed++;
		return;
	}
	swd_tx_reply(w, m, pkt, dgram, len);
}
