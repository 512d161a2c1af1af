/*
 * swd_worker.c - the worker lcore loop.
 *
 * Each iteration: receive from the worker's rx queue into its FIFO (below)
 * and handle a burst from it: classify every frame (lib/net); answer ARP
 * and ICMP echo in place; run protocol datagrams through lib/exec
 * (splitting foreign writes off to their owner,
 * swd_fwd.c); serve sub-requests other workers forwarded here; flush the
 * tx buffer when its drain timer expired (swd_tx.c); reclaim expired
 * leases of the worker's partitions every lease_sweep_ms; on worker 0 (the
 * main lcore), sample the port's counters every SWD_PORT_SAMPLE_MS and
 * print the counter line every stats_interval_s; announce one RCU
 * quiescent state.
 *
 * Frames go through a FIFO of SWD_RXQ_SIZE: each iteration first drains
 * the rx queue into it (while bursts come back full), then handles one
 * burst from it, draining again every RXQ_REFILL frames, so that arrivals
 * faster than the worker wait in its memory instead of overflowing the
 * port's ring while it executes.
 *
 * Overload: the FIFO's depth and the port's rx.missed counter feed the
 * worker's shedding state (swd_shed.c). While the worker is behind, a
 * share of the client request datagrams (to udp_port; never gossip, ARP
 * or ICMP, nor forwarded sub-requests) is answered at once with one
 * datagram-level `overloaded` and a retry hint, in the request's own mbuf,
 * from its 16-byte header: no op is decoded or executed, so nothing that
 * was answered `ok` is ever shed, and a shed request costs little more
 * than its rx and tx.
 *
 * Idle back-off: after idle_pause_polls polls that found nothing, the
 * worker sleeps, doubling the sleep up to idle_sleep_us, RCU-offline while
 * it sleeps so that it never holds up a grace period. A 2-core test
 * machine can then run several swarmd processes and a client.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <urcu/urcu-qsbr.h>

#include "swd.h"

/* Answers a shed request overloaded in its own mbuf (swd_shed.c). */
static void
shed_answer(struct swd_worker *w, struct rte_mbuf *m,
		const struct net_pkt *pkt, const uint8_t *req,
		uint32_t retry_ms)
{
	uint8_t rep[PROTO_HDR_LEN + PROTO_REP_HDR_LEN + 4];
	size_t len = swd_shed_reply(rep, sizeof(rep), req, pkt->payload_len,
			retry_ms);

	if (len == 0) {		/* cannot happen: the header was checked */
		rte_pktmbuf_free(m);
		return;
	}
	rte_pktmbuf_reset(m);
	w->stats.shed++;
	w->stats.op_status[PROTO_ST_OVERLOADED]++;
	swd_tx_reply(w, m, pkt, rep, len);
}

static void
handle_frame(struct swd_worker *w, struct rte_mbuf *m, uint64_t now,
		struct swd_shed *shed)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	bool ip_ok = (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) ==
		RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	bool l4_ok = (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
		RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	struct net_pkt pkt;
	enum net_verdict v;
	size_t len;

	if (m->nb_segs != 1) {
		w->stats.multi_seg++;
		rte_pktmbuf_free(m);
		return;
	}
	v = net_classify(frame, m->data_len, &swd.prm.ifc, ip_ok, l4_ok, &pkt);
	if (swd.cl != NULL && swd_cluster_take(w, m, &pkt, v, now))
		return;
	switch (v) {
	case NET_V_UDP:
		if (shed->level > 0 && pkt.dst_port == swd.prm.ifc.udp_port &&
		    swd_shed_take(shed, swd_shed_classify(frame +
				pkt.payload_off, pkt.payload_len))) {
			shed_answer(w, m, &pkt, frame + pkt.payload_off,
					swd_shed_hint(shed));
			return;
		}
		if (swd.cl != NULL && w->index == 0) {
			w->stats.requests++;
			swd_cluster_request(&pkt, frame + pkt.payload_off,
					pkt.payload_len, NULL, 0, NULL, now);
			rte_pktmbuf_free(m);
			return;
		}
		swd_fwd_execute(w, &pkt, m, frame + pkt.payload_off,
				pkt.payload_len, now);
		return;
	case NET_V_ARP_REPLY:
		len = net_arp_reply(frame, m->data_len, &swd.prm.ifc);
		w->stats.arp_replies++;
		break;
	case NET_V_ICMP_REPLY:
		len = net_icmp_echo_reply(frame, m->data_len, &swd.prm.ifc);
		w->stats.icmp_replies++;
		break;
	default:
		w->stats.drops[pkt.drop]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (len == 0) {		/* the builders refuse what is not a request */
		rte_pktmbuf_free(m);
		return;
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	swd_tx_queue(w, m);
}

/* Frames handled between two drains of the rx queue into the FIFO. */
#define RXQ_REFILL 8

/* Frames received and not handled yet (SWD_RXQ_SIZE in swd.h). */
struct swd_rxq {
	struct rte_mbuf *m[SWD_RXQ_SIZE];
	uint32_t head;			/* the next one to handle */
	uint32_t n;			/* waiting */
};

/*
 * Drains the worker's rx queue into q, a burst at a time, while bursts
 * come back full and q has room: the port's ring is emptied at the cost
 * of a receive (a copy, for af_packet), whatever handling the frames will
 * cost. Returns the frames received.
 */
static uint32_t
rxq_fill(struct swd_worker *w, struct swd_rxq *q)
{
	uint32_t got = 0;

	for (;;) {
		uint32_t tail = (q->head + q->n) & (SWD_RXQ_SIZE - 1);
		uint32_t want = swd.prm.burst, n;

		if (want > SWD_RXQ_SIZE - q->n)
			want = SWD_RXQ_SIZE - q->n;
		if (want > SWD_RXQ_SIZE - tail)		/* up to the wrap */
			want = SWD_RXQ_SIZE - tail;
		if (want == 0)
			break;
		n = rte_eth_rx_burst(swd.prm.port_id, w->queue, &q->m[tail],
				(uint16_t)want);
		q->n += n;
		got += n;
		if (n < want)
			break;
	}
	return got;
}

/* Sleeps after a run of empty polls; returns the next sleep in us. */
static uint32_t
idle_backoff(struct swd_worker *w, uint32_t sleep_us)
{
	w->stats.sleeps++;
	urcu_qsbr_thread_offline();
	usleep(sleep_us);
	urcu_qsbr_thread_online();
	sleep_us *= 2;
	return sleep_us > swd.prm.idle_sleep_us ? swd.prm.idle_sleep_us :
		sleep_us;
}

static void
sweep_leases(struct swd_worker *w, uint64_t now)
{
	uint32_t p;

	for (p = 0; p < trk_nparts(swd.trk); p++)
		if (swd.part_owner[p] == w->index)
			w->stats.expired += trk_expire(swd.trk, p, now, 1024);
}

int
swd_worker_main(void *arg)
{
	struct swd_worker *w = arg;
	struct swd_rxq rxq;		/* 32 KiB: the lcore's stack */
	uint64_t next_sweep = 0;
	uint64_t next_stats = swd_now_ms(&swd) + swd.prm.stats_interval_ms;
	uint64_t next_port = 0;
	struct swd_shed shed;
	uint32_t empty = 0, sleep_us = 1, n, i;

	rxq.head = rxq.n = 0;
	swd_tx_init(w);
	swd_shed_init(&shed);
	urcu_qsbr_register_thread();
	while (!swd.quit) {
		uint64_t tsc = rte_get_tsc_cycles();
		uint64_t now = tsc / (swd.tsc_hz / 1000);

		w->stats.rx_pkts += rxq_fill(w, &rxq);
		w->stats.polls++;
		swd_shed_poll(&shed, rxq.n, swd.prm.burst,
				swd_port_rx_missed(), now);
		w->stats.shed_level = shed.level;
		w->stats.shed_armed = swd_shed_armed(&shed, now);
		w->stats.shed_hint_ms = swd_shed_retry_ms(&shed);
		n = rxq.n < swd.prm.burst ? rxq.n : swd.prm.burst;
		for (i = 0; i < n; i++) {
			struct rte_mbuf *m = rxq.m[rxq.head];

			rxq.head = (rxq.head + 1) & (SWD_RXQ_SIZE - 1);
			rxq.n--;
			handle_frame(w, m, now, &shed);
			/* a burst of requests takes ~1 ms: drain meanwhile */
			if (i % RXQ_REFILL == RXQ_REFILL - 1)
				w->stats.rx_pkts += rxq_fill(w, &rxq);
		}
		n += swd_fwd_serve(w, now);
		if (swd.cl != NULL && w->index == 0)
			n += swd_cluster_poll(w, now);
		swd_tx_drain(w, tsc);
		if (w->index == 0 && now >= next_port) {
			swd_port_sample(&swd, now);
			next_port = now + SWD_PORT_SAMPLE_MS;
		}
		if (now >= next_sweep) {
			sweep_leases(w, now);
			next_sweep = now + swd.prm.lease_sweep_ms;
		}
		if (w->index == 0 && swd.prm.stats_interval_ms != 0 &&
		    now >= next_stats && swd_log_on(SWD_LOG_INFO)) {
			swd_print_stats(stdout);
			fflush(stdout);
			next_stats = now + swd.prm.stats_interval_ms;
		}
		urcu_qsbr_quiescent_state();
		if (n > 0) {
			empty = 0;
			sleep_us = 1;
			continue;
		}
		w->stats.idle_polls++;
		if (swd.prm.idle == SWD_IDLE_BACKOFF &&
				++empty >= swd.prm.idle_pause_polls) {
			swd_tx_flush(w);
			sleep_us = idle_backoff(w, sleep_us);
		} else {
			rte_pause();
		}
	}
	while (rxq.n > 0) {	/* not handled: as if never received */
		rte_pktmbuf_free(rxq.m[rxq.head]);
		rxq.head = (rxq.head + 1) & (SWD_RXQ_SIZE - 1);
		rxq.n--;
	}
	if (swd.cl != NULL && w->index == 0)
		swd_cluster_stop(w, swd_now_ms(&swd));
	swd_tx_flush(w);
	if (w->index == 0)	/* the final counters */
		swd_port_sample(&swd, swd_now_ms(&swd));
	urcu_qsbr_unregister_thread();
	return 0;
}
