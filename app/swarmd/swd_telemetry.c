/*
 * swd_telemetry.c - counters out: DPDK telemetry commands under /swarm/
 * and the final stats line.
 *
 * Counters are written by their worker only, as plain 64-bit stores, and
 * read here from another thread (the telemetry thread, or main at exit):
 * each value is read whole on x86-64 and arm64, and totals are a snapshot
 * that may mix moments by a few microseconds, which is all a counter needs.
 */
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "swd.h"

static uint64_t
load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void
swd_stats_sum(struct swd_stats *sum)
{
	const size_t nfields = sizeof(*sum) / sizeof(uint64_t);
	uint32_t i;
	size_t f;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < swd.nworkers; i++) {
		const uint64_t *src = (const uint64_t *)&swd.workers[i].stats;
		uint64_t *dst = (uint64_t *)sum;

		for (f = 0; f < nfields; f++)
			dst[f] += load(&src[f]);
	}
}

static void
add_totals(struct rte_tel_data *d, const struct swd_stats *s)
{
	rte_tel_data_add_dict_u64(d, "rx_pkts", s->rx_pkts);
	rte_tel_data_add_dict_u64(d, "tx_pkts", s->tx_pkts);
	rte_tel_data_add_dict_u64(d, "tx_dropped", s->tx_dropped);
	rte_tel_data_add_dict_u64(d, "requests", s->requests);
	rte_tel_data_add_dict_u64(d, "replies", s->replies);
	rte_tel_data_add_dict_u64(d, "arp_replies", s->arp_replies);
	rte_tel_data_add_dict_u64(d, "icmp_replies", s->icmp_replies);
	rte_tel_data_add_dict_u64(d, "proto_dropped", s->proto_dropped);
	rte_tel_data_add_dict_u64(d, "multi_seg", s->multi_seg);
	rte_tel_data_add_dict_u64(d, "fwd_out", s->fwd_out);
	rte_tel_data_add_dict_u64(d, "fwd_in", s->fwd_in);
	rte_tel_data_add_dict_u64(d, "fwd_ring_full", s->fwd_ring_full);
	rte_tel_data_add_dict_u64(d, "mbuf_alloc_failed", s->mbuf_alloc_failed);
	rte_tel_data_add_dict_u64(d, "expired", s->expired);
	rte_tel_data_add_dict_u64(d, "polls", s->polls);
	rte_tel_data_add_dict_u64(d, "idle_polls", s->idle_polls);
	rte_tel_data_add_dict_u64(d, "sleeps", s->sleeps);
	rte_tel_data_add_dict_u64(d, "entries", trk_count(swd.trk));
}

/* /swarm/stats: totals over all workers. */
static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct swd_stats s;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	swd_stats_sum(&s);
	rte_tel_data_start_dict(d);
	add_totals(d, &s);
	return 0;
}

/* /swarm/drops: dropped frames by reason. */
static int
tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct swd_stats s;
	int r;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	swd_stats_sum(&s);
	rte_tel_data_start_dict(d);
	for (r = 1; r < NET_DROP__MAX; r++)
		rte_tel_data_add_dict_u64(d, net_drop_name((enum net_drop)r),
				s.drops[r]);
	return 0;
}

/* /swarm/ops: reply ops by protocol status. */
static int
tel_ops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct swd_stats s;
	unsigned int st;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	swd_stats_sum(&s);
	rte_tel_data_start_dict(d);
	for (st = 0; st <= PROTO_ST_INTERNAL; st++)
		rte_tel_data_add_dict_u64(d, proto_status_name(st),
				s.op_status[st]);
	return 0;
}

/* /swarm/worker,N: one worker's counters. */
static int
tel_worker(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char *end;
	unsigned long i;

	RTE_SET_USED(cmd);
	if (params == NULL || *params == '\0')
		return -1;
	i = strtoul(params, &end, 10);
	if (*end != '\0' || i >= swd.nworkers)
		return -1;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "lcore", (int)swd.workers[i].lcore_id);
	add_totals(d, &swd.workers[i].stats);
	return 0;
}

int
swd_telemetry_init(void)
{
	return rte_telemetry_register_cmd("/swarm/stats", tel_stats,
			"Totals over all workers. No parameters.") |
		rte_telemetry_register_cmd("/swarm/drops", tel_drops,
			"Dropped frames by reason. No parameters.") |
		rte_telemetry_register_cmd("/swarm/ops", tel_ops,
			"Reply ops by protocol status. No parameters.") |
		rte_telemetry_register_cmd("/swarm/worker", tel_worker,
			"One worker's counters. Parameter: worker index.");
}

void
swd_print_stats(FILE *f)
{
	struct swd_stats s;
	uint64_t busy;

	swd_stats_sum(&s);
	busy = s.polls ? 100 - 100 * s.idle_polls / s.polls : 0;
	fprintf(f, "swarmd: rx %" PRIu64 " tx %" PRIu64 " requests %" PRIu64
		" replies %" PRIu64 " ok-ops %" PRIu64 " arp %" PRIu64
		" icmp %" PRIu64 " dropped %" PRIu64 " fwd %" PRIu64
		" entries %" PRIu64 " busy-polls %" PRIu64 "%%\n",
		s.rx_pkts, s.tx_pkts, s.requests, s.replies,
		s.op_status[PROTO_ST_OK], s.arp_replies, s.icmp_replies,
		s.proto_dropped + s.multi_seg + s.tx_dropped, s.fwd_out,
		trk_count(swd.trk), busy);
}
