/*
 * swarmd - the swarm registry appliance.
 *
 *     swarmd [EAL args] -- [-c FILE] [--set key=value]... [--help]
 *
 * Init order, as DPDK examples do it: EAL; configuration (exit 2 naming
 * the key on any error); the registry (tracker, presized); per-worker
 * state and forward rings; mbuf pool and port; telemetry; signal handlers;
 * then every lcore runs swd_worker_main(), the main lcore included. SIGINT
 * or SIGTERM sets swd.quit; the workers finish their burst, flush and
 * return; main prints a final stats line and frees everything.
 *
 * Messages: errors go to stderr always; the rest through swd_log(), which
 * prints what log_level lets through (warnings to stderr, info and debug
 * to stdout). log_level is also DPDK's global log level once the
 * configuration is loaded (EAL's own start-up messages come before it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include <urcu/urcu-qsbr.h>

#include "swd.h"

static void
on_signal(int sig)
{
	(void)sig;
	swd.quit = true;
}

/* DPDK's level for log_level: rte_log prints what is at most this. */
static uint32_t
rte_level_of(enum swd_log_level l)
{
	switch (l) {
	case SWD_LOG_ERROR:
		return RTE_LOG_ERR;
	case SWD_LOG_WARNING:
		return RTE_LOG_WARNING;
	case SWD_LOG_DEBUG:
		return RTE_LOG_DEBUG;
	default:
		return RTE_LOG_INFO;
	}
}

/* The netmask of a prefix length 0..32, host order. */
static uint32_t
mask_of(unsigned len)
{
	return len == 0 ? 0 : ~(UINT32_MAX >> 1 >> (len - 1));
}

/* Data-plane parameters from the validated configuration. */
static void
params_from_config(struct swd_params *p, const struct swd_config *cfg)
{
	uint32_t mask = mask_of(cfg->prefix_len);

	memset(p, 0, sizeof(*p));
	p->port_id = 0;
	if (cfg->has_mac)
		memcpy(p->ifc.mac.addr_bytes, cfg->mac, RTE_ETHER_ADDR_LEN);
	p->ifc.ip = rte_cpu_to_be_32(cfg->ip);
	p->ifc.netmask = rte_cpu_to_be_32(mask);
	p->ifc.gateway = cfg->has_gateway ? rte_cpu_to_be_32(cfg->gateway) : 0;
	p->ifc.udp_port = cfg->udp_port;
	p->burst = cfg->burst;
	p->tx_drain_us = cfg->tx_drain_us;
	p->idle = cfg->idle_policy;
	p->idle_pause_polls = cfg->idle_pause_polls;
	p->idle_sleep_us = cfg->idle_sleep_us;
	p->lease_sweep_ms = cfg->lease_sweep_ms;
	p->stats_interval_ms = (uint64_t)cfg->stats_interval_s * 1000;
	p->log_level = cfg->log_level;
	p->rx_desc = (uint16_t)cfg->rx_desc;
	p->tx_desc = (uint16_t)cfg->tx_desc;
	p->mbufs = cfg->mbufs;
	/* trusted_clients, the subnet of ip ("subnet") resolved */
	p->budget_untrusted = true;
	if (cfg->trusted_subnet)
		p->trusted[p->ntrusted++] = (struct swd_net){ cfg->ip & mask,
			mask };
	for (uint32_t i = 0; i < cfg->trusted_clients_count; i++)
		p->trusted[p->ntrusted++] = (struct swd_net){
			cfg->trusted_clients[i].net,
			mask_of(cfg->trusted_clients[i].len) };
}

static int
worker_init(struct swd_worker *w, unsigned int lcore, uint32_t index)
{
	w->lcore_id = lcore;
	w->index = (uint16_t)index;
	w->queue = (uint16_t)index;
	w->out = malloc(sizeof(*w->out));
	return w->out ? 0 : -1;
}

/* Worker 0 is the main lcore; the others follow in lcore order. */
static int
workers_init(struct swd_ctx *c, uint32_t nparts)
{
	unsigned int lcore;
	uint32_t i = 1, p;

	c->nworkers = rte_lcore_count();
	c->workers = swd_workers_alloc(c->nworkers);
	if (c->workers == NULL ||
	    worker_init(&c->workers[0], rte_get_main_lcore(), 0) < 0)
		return -1;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (worker_init(&c->workers[i], lcore, i) < 0)
			return -1;
		i++;
	}
	for (p = 0; p < nparts; p++)
		c->part_owner[p] = (uint16_t)(p % c->nworkers);
	return swd_fwd_init(c);
}

static int
registry_init(struct swd_ctx *c, const struct swd_config *cfg, uint32_t *np)
{
	struct trk_config tc = {
		.nparts = cfg->partitions ? cfg->partitions : c->nworkers,
		.node_id = cfg->node_id,
		.expected_entries = cfg->expected_entries,
		.max_entries = cfg->max_entries,
		.tombstone_ms = cfg->tombstone_ms,
		/* the cluster drains it every millisecond */
		.change_queue_len = swd_cluster_wanted(cfg) ? 16384 : 0,
	};

	if (tc.nparts > TRK_MAX_PARTS)
		tc.nparts = TRK_MAX_PARTS;
	if (tc.nparts < c->nworkers) {
		fprintf(stderr, "swarmd: partitions (%u) must be at least the "
			"number of worker lcores (%u)\n", tc.nparts,
			c->nworkers);
		return -1;
	}
	c->trk = trk_create(&tc);
	*np = tc.nparts;
	/* a cluster node has one writer: worker 0 runs the cluster */
	for (uint32_t p = 0; swd_cluster_wanted(cfg) && p < tc.nparts; p++)
		c->part_owner[p] = 0;
	return c->trk ? 0 : -1;
}

static int
launch_and_wait(struct swd_ctx *c)
{
	unsigned int lcore;
	uint32_t i = 0;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (rte_eal_remote_launch(swd_worker_main, &c->workers[++i],
				lcore) != 0)
			return -1;
	}
	swd_worker_main(&c->workers[0]);	/* main lcore is worker 0 */
	rte_eal_mp_wait_lcore();
	return 0;
}

static void
print_start(const struct swd_ctx *c, const struct swd_config *cfg,
	    uint32_t nparts)
{
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	struct in_addr ip = { .s_addr = c->prm.ifc.ip };

	rte_ether_format_addr(mac, sizeof(mac), &c->prm.ifc.mac);
	for (uint32_t i = 0; i < c->nworkers && swd_log_on(SWD_LOG_DEBUG);
	     i++) {
		uint32_t owned = 0;

		for (uint32_t p = 0; p < nparts; p++)
			owned += c->part_owner[p] == i;
		swd_log(SWD_LOG_DEBUG, "swarmd: worker %u on lcore %u: rx/tx "
			"queue %u, writer of %u partition(s)%s\n", i,
			c->workers[i].lcore_id, c->workers[i].queue, owned,
			i == 0 && c->cl != NULL ? ", runs the cluster" : "");
	}
	swd_log(SWD_LOG_INFO, "swarmd: node %s (id %u) on %s udp %u, mac %s, "
		"%u worker(s), %u partition(s), presized for %" PRIu64
		" entries\n", cfg->node_name, cfg->node_id, inet_ntoa(ip),
		cfg->udp_port, mac, c->nworkers, nparts,
		cfg->expected_entries);
}

int
main(int argc, char **argv)
{
	static struct swd_config cfg;
	char err[SWD_CONFIG_ERR_MAX];
	uint32_t nparts = 0;
	int ret, rc;

	/*
	 * The RCU reclamation thread inherits the CPU affinity of the thread
	 * that creates it. Created lazily it would start on a worker lcore
	 * and share that core; created here, before EAL pins this thread, it
	 * may run on any CPU.
	 */
	urcu_qsbr_get_default_call_rcu_data();
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "swarmd: EAL init failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argv[ret] = argv[0];
	rc = swd_config_load(&cfg, argc - ret, argv + ret, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "swarmd: %s\n", err);
		swd_config_free(&cfg);
		rte_eal_cleanup();
		return rc < 0 ? SWD_CONFIG_EXIT_STATUS : 0;
	}
	rte_log_set_global_level(rte_level_of(cfg.log_level));
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "swarmd: no port: give EAL a device, e.g. "
			"--vdev=net_af_packet0,iface=veth0\n");
		return 1;
	}
	swd.tsc_hz = rte_get_tsc_hz();
	params_from_config(&swd.prm, &cfg);
	swd.node.node_id = cfg.node_id;
	swd.node.name = cfg.node_name;
	swd.node.stats = swd_stats_counters;
	swd.node.lease_max_ms = cfg.lease_max_ms;
	if (swd_cluster_wanted(&cfg))
		swd.node.readiness = swd_cluster_readiness;
	/* before the cluster copies the node's description */
	swd.node.start_ms = swd_now_ms(&swd);
	if (workers_init(&swd, TRK_MAX_PARTS) < 0 ||
	    registry_init(&swd, &cfg, &nparts) < 0 ||
	    swd_port_init(&swd) < 0 ||
	    (swd_cluster_wanted(&cfg) && swd_cluster_init(&swd, &cfg) < 0)) {
		fprintf(stderr, "swarmd: start-up failed\n");
		return 1;
	}
	if (cfg.telemetry && swd_telemetry_init() != 0)
		swd_log(SWD_LOG_WARNING, "swarmd: telemetry commands not "
			"registered\n");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	print_start(&swd, &cfg, nparts);

	rc = launch_and_wait(&swd);

	if (swd_log_on(SWD_LOG_INFO)) {
		swd_print_stats(stdout);
		fflush(stdout);
	}
	swd_port_close(&swd);
	swd_cluster_free(&swd);
	urcu_qsbr_register_thread();
	trk_destroy(swd.trk);
	urcu_qsbr_unregister_thread();
	swd_fwd_free(&swd);
	for (uint32_t i = 0; i < swd.nworkers; i++)
		free(swd.workers[i].out);
	free(swd.workers);
	swd_config_free(&cfg);
	rte_eal_cleanup();
	return rc == 0 ? 0 : 1;
}
