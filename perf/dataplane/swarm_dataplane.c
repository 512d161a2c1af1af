/*
 * swarm_dataplane.c - the data path of one worker lcore, without a kernel.
 *
 *     swarm-dataplane [EAL args] -- [--names N] [--batch K] [--lookup-batch K]
 *
 * Builds swarmd's worker (the same code: swd_worker_main) on a port made
 * of two rte_rings (net_ring): the main lcore injects pre-built request
 * frames into the port's rx ring and drains the reply frames from its tx
 * ring; the worker lcore runs the real loop: rx burst, frame
 * classification, protocol decode, registry, reply encode, tx burst. The
 * figure is ops per second of that one worker lcore.
 *
 * Needs two lcores (-l 0-1): main injects, the other is the worker.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include <urcu/urcu-qsbr.h>

#include "swd.h"

#define DP_INFLIGHT	512	/* request frames injected but not answered */
#define DP_BURST	32

static uint64_t opt_names = 1000000;
static uint32_t opt_batch = 16, opt_lookup_batch = 32;

static const struct rte_ether_addr client_mac = {
	.addr_bytes = { 0x02, 0, 0, 0, 0, 0x01 } };

struct dp_frames {
	uint8_t *buf;		/* frames back to back */
	uint32_t *off, *len;
	size_t n;
};

/* Request datagrams for names [0, n), k ops each, wrapped in frames. */
static int
dp_build(struct dp_frames *f, bool lookup, uint32_t k)
{
	size_t nd = (opt_names + k - 1) / k, i = 0;
	uint8_t dgram[PROTO_MAX_DGRAM];
	struct proto_endpoint ep = { .family = PROTO_AF_IPV4, .port = 5683,
				     .addr = { 10, 77, 0, 1 } };
	uint64_t name_i = 0;

	f->buf = malloc(nd * 1514);
	f->off = malloc(nd * sizeof(*f->off));
	f->len = malloc(nd * sizeof(*f->len));
	if (!f->buf || !f->off || !f->len)
		return -1;
	for (i = 0; i < nd; i++) {
		struct proto_enc e;
		uint32_t j;
		size_t dlen, flen;

		proto_req_init(&e, dgram, sizeof(dgram), i + 1);
		for (j = 0; j < k && name_i < opt_names; j++, name_i++) {
			char name[32];
			int len = snprintf(name, sizeof(name), "dev-%08" PRIu64,
					   name_i);

			if (lookup)
				proto_req_add_whereis(&e, name, (size_t)len);
			else
				proto_req_add_register(&e, name, (size_t)len,
						name_i, &ep, "fw=1", 4, 0);
		}
		dlen = proto_enc_finish(&e);
		f->off[i] = (uint32_t)(i * 1514);
		flen = net_build_udp_frame(f->buf + f->off[i], 1514, &client_mac,
				&swd.prm.ifc.mac, rte_cpu_to_be_32(0x0a4d0001),
				swd.prm.ifc.ip, (uint16_t)(20000 + i % 1000),
				swd.prm.ifc.udp_port, dgram, dlen);
		if (flen == 0)
			return -1;
		f->len[i] = (uint32_t)flen;
	}
	f->n = nd;
	return 0;
}

/* Ops answered by a reply frame: the op count of its datagram header. */
static uint32_t
dp_reply_ops(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *) +
		NET_UDP_HDRS_LEN;

	return m->data_len >= NET_UDP_HDRS_LEN + PROTO_HDR_LEN ?
		(uint32_t)(p[12] << 8 | p[13]) : 0;
}

/*
 * Injects every frame of f, keeping at most DP_INFLIGHT frames' worth of
 * ops unanswered, until every op got its answer (an answer may come in
 * several reply frames). Returns seconds; *ops counts answered ops.
 */
static double
dp_run(struct rte_ring *rx, struct rte_ring *tx, const struct dp_frames *f,
       uint32_t k, uint64_t *ops)
{
	struct rte_mbuf *m[DP_BURST];
	uint64_t t0 = rte_get_tsc_cycles(), sent = 0;
	size_t next = 0;

	*ops = 0;
	while (*ops < opt_names) {
		unsigned int n = 0, i, got;

		while (next < f->n && sent - *ops + (uint64_t)(n + 1) * k <=
		       (uint64_t)DP_INFLIGHT * k && n < DP_BURST) {
			m[n] = rte_pktmbuf_alloc(swd.pool);
			if (m[n] == NULL)
				break;
			memcpy(rte_pktmbuf_mtod(m[n], void *),
			       f->buf + f->off[next], f->len[next]);
			m[n]->data_len = (uint16_t)f->len[next];
			m[n]->pkt_len = f->len[next];
			n++;
			next++;
		}
		i = n ? rte_ring_enqueue_burst(rx, (void **)m, n, NULL) : 0;
		if (i < n) {	/* ring full: take them back */
			rte_pktmbuf_free_bulk(&m[i], n - i);
			next -= n - i;
		}
		sent += (uint64_t)i * k;
		got = rte_ring_dequeue_burst(tx, (void **)m, DP_BURST, NULL);
		for (i = 0; i < got; i++)
			*ops += dp_reply_ops(m[i]);
		rte_pktmbuf_free_bulk(m, got);
	}
	return (double)(rte_get_tsc_cycles() - t0) / (double)rte_get_tsc_hz();
}

static int
dp_args(int argc, char **argv)
{
	static const struct option o[] = {
		{ "names", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "lookup-batch", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		unsigned long v = strtoul(optarg, NULL, 10);

		if (c == 'n' && v >= 1 && v <= 20000000)
			opt_names = v;
		else if (c == 'b' && v >= 1 && v <= 64)
			opt_batch = (uint32_t)v;
		else if (c == 'l' && v >= 1 && v <= 64)
			opt_lookup_batch = (uint32_t)v;
		else {
			fprintf(stderr, "swarm-dataplane: bad option value "
				"'%s'\n", optarg);
			return -1;
		}
	}
	return 0;
}

static int
dp_setup(struct rte_ring **rx, struct rte_ring **tx)
{
	struct trk_config tc = { .nparts = 1, .node_id = 1,
				 .expected_entries = opt_names };
	int port;

	*rx = rte_ring_create("dp_rx", 4096, (int)rte_socket_id(),
			      RING_F_SP_ENQ | RING_F_SC_DEQ);
	*tx = rte_ring_create("dp_tx", 4096, (int)rte_socket_id(),
			      RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (*rx == NULL || *tx == NULL)
		return -1;
	port = rte_eth_from_rings("dp", rx, 1, tx, 1, (unsigned)rte_socket_id());
	if (port < 0)
		return -1;
	swd.prm = (struct swd_params){
		.port_id = (uint16_t)port, .burst = 32, .tx_drain_us = 100,
		.idle = SWD_IDLE_POLL, .idle_pause_polls = 256,
		.idle_sleep_us = 100, .lease_sweep_ms = 100,
		.rx_desc = 1024, .tx_desc = 1024,
	};
	swd.prm.ifc.ip = rte_cpu_to_be_32(0x0a4d0002);
	swd.prm.ifc.netmask = rte_cpu_to_be_32(0xffffff00);
	swd.prm.ifc.udp_port = 7400;
	swd.tsc_hz = rte_get_tsc_hz();
	swd.node = (struct exec_node){ .node_id = 1, .name = "dataplane" };
	swd.nworkers = 1;
	swd.workers = swd_workers_alloc(1);
	if (swd.workers == NULL)
		return -1;
	swd.workers[0].lcore_id = rte_get_next_lcore(-1, 1, 0);
	swd.workers[0].out = malloc(sizeof(*swd.workers[0].out));
	swd.trk = trk_create(&tc);
	if (swd.trk == NULL || swd.workers[0].out == NULL ||
	    swd_fwd_init(&swd) < 0 || swd_port_init(&swd) < 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct dp_frames reg = { 0 }, look = { 0 };
	struct rte_ring *rx, *tx;
	uint64_t ops;
	double s;
	int ret = rte_eal_init(argc, argv);

	if (ret < 0 || dp_args(argc - ret, argv + ret) < 0)
		return 2;
	if (rte_lcore_count() < 2) {
		fprintf(stderr, "swarm-dataplane: needs two lcores (-l 0-1)\n");
		return 2;
	}
	if (dp_setup(&rx, &tx) < 0 || dp_build(&reg, false, opt_batch) < 0 ||
	    dp_build(&look, true, opt_lookup_batch) < 0) {
		fprintf(stderr, "swarm-dataplane: set-up failed\n");
		return 1;
	}
	rte_eal_remote_launch(swd_worker_main, &swd.workers[0],
			      swd.workers[0].lcore_id);
	s = dp_run(rx, tx, &reg, opt_batch, &ops);
	printf("register: %" PRIu64 " names in %zu frames (%u per datagram): "
	       "%.3f s, %.2f M registrations/s on one worker lcore\n",
	       opt_names, reg.n, opt_batch, s, (double)opt_names / s / 1e6);
	s = dp_run(rx, tx, &look, opt_lookup_batch, &ops);
	printf("lookup:   %" PRIu64 " names in %zu frames (%u per datagram): "
	       "%.3f s, %.2f M lookups/s on one worker lcore\n",
	       opt_names, look.n, opt_lookup_batch, s,
	       (double)opt_names / s / 1e6);
	swd.quit = true;
	rte_eal_mp_wait_lcore();
	swd_print_stats(stdout);
	return trk_count(swd.trk) == opt_names ? 0 : 1;
}
