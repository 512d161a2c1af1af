/*
 * swd_telemetry.c - counters out: DPDK telemetry commands under /swarm/,
 * the STATS op of the client protocol (swd_stats_counters()) and the
 * final stats line.
 *
 * Counters are written by their worker only, as plain 64-bit stores, and
 * read here from another thread (the telemetry thread, or main at exit):
 * each value is read whole on x86-64 and arm64, and totals are a snapshot
 * that may mix moments by a few microseconds, which is all a counter needs.
 */
#include <pthread.h>
#include <stddef.h>
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

/* The totals of /swarm/stats and STATS, in this order, then "entries". */
#define TOTAL(f) { #f, offsetof(struct swd_stats, f) }
static const struct {
	const char *name;
	size_t off;
} totals[] = {
	TOTAL(rx_pkts),
	TOTAL(tx_pkts),
	TOTAL(tx_dropped),
	TOTAL(requests),
	TOTAL(replies),
	TOTAL(shed),
	TOTAL(arp_replies),
	TOTAL(icmp_replies),
	TOTAL(proto_dropped),
	TOTAL(multi_seg),
	TOTAL(fwd_out),
	TOTAL(fwd_in),
	TOTAL(fwd_ring_full),
	TOTAL(mbuf_alloc_failed),
	TOTAL(expired),
	TOTAL(polls),
	TOTAL(idle_polls),
	TOTAL(sleeps),
};
#undef TOTAL
#define NTOTALS (sizeof(totals) / sizeof(totals[0]))

static uint64_t
total_of(const struct swd_stats *s, size_t i)
{
	return *(const uint64_t *)(const void *)((const char *)s +
			totals[i].off);
}

static void
add_totals(struct rte_tel_data *d, const struct swd_stats *s)
{
	size_t i;

	for (i = 0; i < NTOTALS; i++)
		rte_tel_data_add_dict_u64(d, totals[i].name, total_of(s, i));
	rte_tel_data_add_dict_u64(d, "entries", trk_count(swd.trk));
}

/*
 * The port's counters of STATS, after "entries": frames lost before a
 * worker saw them (swd_port.c), the most telling counters of an
 * overloaded node.
 */
static size_t
port_counters(const char **names, uint64_t *values, size_t max)
{
	struct swd_port_stats p;
	size_t n = 0;

	swd_port_stats_get(&p);
	if (n < max) {
		names[n] = "rx.missed";
		values[n++] = p.imissed + p.afp_drops;
	}
	if (n < max) {
		names[n] = "rx.nombuf";
		values[n++] = p.rx_nombuf;
	}
	return n;
}

/*
 * /swarm/stats: totals over all workers, and the port's rx losses (DPDK
 * telemetry keys allow no '.': "rx_missed" is STATS' "rx.missed").
 */
static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct swd_port_stats p;
	struct swd_stats s;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	swd_stats_sum(&s);
	swd_port_stats_get(&p);
	rte_tel_data_start_dict(d);
	add_totals(d, &s);
	rte_tel_data_add_dict_u64(d, "rx_missed", p.imissed + p.afp_drops);
	rte_tel_data_add_dict_u64(d, "rx_nombuf", p.rx_nombuf);
	return 0;
}

/* /swarm/port: the port's counters as last sampled by worker 0. */
static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct swd_port_stats p;
	uint64_t now = swd_now_ms(&swd);

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	swd_port_stats_get(&p);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "driver", swd_port_driver());
	rte_tel_data_add_dict_u64(d, "rx_missed", p.imissed + p.afp_drops);
	rte_tel_data_add_dict_u64(d, "rx_nombuf", p.rx_nombuf);
	rte_tel_data_add_dict_u64(d, "imissed", p.imissed);
	rte_tel_data_add_dict_u64(d, "af_packet_drops", p.afp_drops);
	rte_tel_data_add_dict_u64(d, "af_packet_sockets", p.afp_sockets);
	rte_tel_data_add_dict_u64(d, "tx_udp_cksum_offload", swd.tx_udp_cksum);
	rte_tel_data_add_dict_u64(d, "ierrors", p.ierrors);
	rte_tel_data_add_dict_u64(d, "oerrors", p.oerrors);
	rte_tel_data_add_dict_u64(d, "ipackets", p.ipackets);
	rte_tel_data_add_dict_u64(d, "opackets", p.opackets);
	rte_tel_data_add_dict_u64(d, "samples", p.samples);
	rte_tel_data_add_dict_u64(d, "sample_age_ms",
			now > p.sampled_ms ? now - p.sampled_ms : 0);
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
	rte_tel_data_add_dict_u64(d, "shed_level",
			load(&swd.workers[i].stats.shed_level));
	rte_tel_data_add_dict_u64(d, "shed_armed",
			load(&swd.workers[i].stats.shed_armed));
	rte_tel_data_add_dict_u64(d, "shed_hint_ms",
			load(&swd.workers[i].stats.shed_hint_ms));
	return 0;
}

/*
 * STATS counter names "ops.<status>" and "drop.<reason>": built once, by
 * whichever worker answers STATS first, and constant afterwards.
 */
#define NOPS		(PROTO_ST_INTERNAL + 1)
#define NAME_LEN	(PROTO_STATS_NAME_MAX + 1)
static char op_names[NOPS][NAME_LEN];
static char drop_names[NET_DROP__MAX][NAME_LEN];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void
build_names(void)
{
	unsigned int i;

	for (i = 0; i < NOPS; i++)
		snprintf(op_names[i], NAME_LEN, "ops.%s", proto_status_name(i));
	for (i = 1; i < NET_DROP__MAX; i++)
		snprintf(drop_names[i], NAME_LEN, "drop.%s",
			net_drop_name((enum net_drop)i));
}

/* The cluster's counters (none for a standalone node); returns how many. */
static size_t
cluster_counters(const char **names, uint64_t *values, size_t max)
{
	struct swd_cluster_stats k;
	struct clu_stats c;
	size_t alive, ring, n = 0, i;

	if (swd.cl == NULL)
		return 0;
	swd_cluster_stats(&k, &c, &alive, &ring);
	const struct { const char *name; uint64_t v; } all[] = {
		{ "cluster.alive", alive },
		{ "cluster.ring_nodes", ring },
		{ "cluster.ready", swd_cluster_ready() },
		{ "cluster.not_ready", c.not_ready },
		{ "cluster.auth_failed", c.rx_auth_failed },
		{ "cluster.malformed", c.rx_malformed },
		{ "cluster.rx_stale", c.rx_stale },
		{ "cluster.rx_replayed", c.rx_replayed },
		{ "cluster.epoch_bumps", c.epoch_bumps },
		{ "cluster.repl_applied", c.repl_applied },
		{ "cluster.repl_sent", c.repl_sent },
		{ "cluster.repl_resent", c.repl_resent },
		{ "cluster.repl_resets", c.repl_resets },
		{ "cluster.repair_sent", c.repair_sent },
		{ "cluster.repair_applied", c.repair_applied },
		{ "cluster.ae_rounds", c.ae_rounds },
		{ "cluster.fwd_out", c.fwd_out },
		{ "cluster.fwd_in", c.fwd_in },
		{ "cluster.fwd_timeouts", c.fwd_timeouts },
		{ "cluster.fwd_unconfirmed", c.fwd_unconfirmed },
		{ "cluster.fwd_misrouted", c.fwd_misrouted },
		{ "cluster.takeovers", c.takeovers },
		{ "cluster.sync_short", c.sync_short },
		{ "cluster.sync_asks", c.sync_asks },
		{ "cluster.sync_reasks", c.sync_reasks },
		{ "cluster.sync_forgot", c.sync_forgot },
		{ "cluster.sync_unpurged", c.sync_unpurged },
		{ "cluster.no_node", c.no_node },
		{ "cluster.purged", c.purged },
		{ "cluster.tx_dropped", c.tx_dropped },
		{ "cluster.gossip_rx", k.gossip_rx },
		{ "cluster.gossip_tx", k.gossip_tx },
		{ "cluster.gossip_no_neigh", k.gossip_no_neigh },
		{ "cluster.arp_requests", k.arp_requests },
	};

	for (i = 0; i < RTE_DIM(all) && n < max; i++, n++) {
		names[n] = all[i].name;
		values[n] = all[i].v;
	}
	return n;
}

/*
 * The totals of /swarm/stats (entries, rx.missed and rx.nombuf included),
 * the cluster's counters, then /swarm/ops as "ops.<status>" and
 * /swarm/drops as "drop.<reason>", zeros included, cut at max. Any worker
 * lcore, concurrently.
 */
int
swd_stats_counters(void *arg, const char **names, uint64_t *values,
		size_t max)
{
	struct swd_stats s;
	size_t n = 0, i;

	RTE_SET_USED(arg);
	pthread_once(&names_once, build_names);
	swd_stats_sum(&s);
	for (i = 0; i < NTOTALS && n < max; i++, n++) {
		names[n] = totals[i].name;
		values[n] = total_of(&s, i);
	}
	if (n < max) {
		names[n] = "entries";
		values[n++] = trk_count(swd.trk);
	}
	n += port_counters(names + n, values + n, max - n);
	n += cluster_counters(names + n, values + n, max - n);
	for (i = 0; i < NOPS && n < max; i++, n++) {
		names[n] = op_names[i];
		values[n] = s.op_status[i];
	}
	for (i = 1; i < NET_DROP__MAX && n < max; i++, n++) {
		names[n] = drop_names[i];
		values[n] = s.drops[i];
	}
	return (int)n;
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
			"One worker's counters. Parameter: worker index.") |
		rte_telemetry_register_cmd("/swarm/port", tel_port,
			"The port's counters (rx misses). No parameters.");
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
		" icmp %" PRIu64 " dropped %" PRIu64 " missed %" PRIu64
		" shed %" PRIu64 " fwd %" PRIu64
		" entries %" PRIu64 " busy-polls %" PRIu64 "%%\n",
		s.rx_pkts, s.tx_pkts, s.requests, s.replies,
		s.op_status[PROTO_ST_OK], s.arp_replies, s.icmp_replies,
		s.proto_dropped + s.multi_seg + s.tx_dropped,
		swd_port_rx_missed(), s.shed, s.fwd_out,
		trk_count(swd.trk), busy);
}
