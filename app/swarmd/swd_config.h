/*
 * swd_config.h - swarmd configuration: command line, file, validation.
 *
 * The daemon is started as
 *
 *     swarmd [EAL args] -- [-c FILE] [--set key=value]... [--check]
 *                          [--print-config] [--help]
 *
 * and hands everything after "--" to swd_config_load(). The loader starts
 * from the defaults, reads the file (if any), applies every --set in order
 * (they override the file), checks required keys and the rules between keys,
 * and builds the node filter. It never touches DPDK, so it is testable
 * without EAL. docs/configuration.md is the operator's reference; --help
 * prints the same key table the parser uses.
 *
 * Every error is one line naming the source, the key and the reason, e.g.
 *   config /etc/swarm/swarmd.conf:12: udp_port: must be an integer in
 *   1..65535, got "70000"
 * and the daemon exits with status SWD_CONFIG_EXIT_STATUS (2).
 *
 * Byte order: IPv4 addresses are stored in host byte order (10.0.0.2 is
 * 0x0a000002); convert with rte_cpu_to_be_32() for packet headers.
 */
#ifndef SWARM_SWD_CONFIG_H
#define SWARM_SWD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ring_filter.h"
#include "ring_strategy.h"

/* Positive returns of swd_config_load(): the request was served, exit 0. */
#define SWD_CONFIG_EXIT_HELP	1	/* --help printed */
#define SWD_CONFIG_EXIT_PRINTED	2	/* --print-config printed */
#define SWD_CONFIG_EXIT_CHECKED	3	/* --check: configuration valid */
/* Process exit status after a negative return (bad configuration/usage). */
#define SWD_CONFIG_EXIT_STATUS	2

/* Limits of the file format. */
#define SWD_CONFIG_FILE_MAX	(1u << 20)	/* bytes per file */
#define SWD_CONFIG_LINE_MAX	4096		/* bytes per line, no newline */
/* A buffer of this size always holds a whole error message. */
#define SWD_CONFIG_ERR_MAX	1024

#define SWD_NODE_NAME_MAX	64	/* characters, without the NUL */
#define SWD_SEEDS_MAX		64
#define SWD_CLUSTER_KEY_LEN	32	/* bytes (64 hex digits) */
#define SWD_CLUSTER_KEYS_MAX	16	/* cluster_keys_accepted entries */
#define SWD_TRUSTED_MAX		64	/* trusted_clients networks */

enum swd_idle_policy {
	SWD_IDLE_POLL,		/* spin on empty queues (lowest latency) */
	SWD_IDLE_BACKOFF,	/* pause, then sleep up to idle_sleep_us */
};

/* Least severe message printed; also DPDK's global log level. */
enum swd_log_level {
	SWD_LOG_ERROR,
	SWD_LOG_WARNING,
	SWD_LOG_INFO,
	SWD_LOG_DEBUG,
};

/* An IPv4 network: address (host order, host bits zero) and prefix length. */
struct swd_cidr {
	uint32_t net;
	uint8_t len;			/* 0..32 */
};

/* A seed peer: IPv4 address (host order) and gossip port. */
struct swd_seed {
	uint32_t ip;
	uint16_t port;
};

struct swd_config {
	/* identity */
	char node_name[SWD_NODE_NAME_MAX + 1];	/* required */
	uint32_t node_id;			/* required, 1..2^32-1 */

	/* network (addresses in host byte order) */
	uint32_t ip;				/* required */
	uint8_t prefix_len;			/* 1..32, from ip = a.b.c.d/len */
	bool has_gateway;
	uint32_t gateway;			/* inside ip/prefix_len */
	bool has_mac;				/* false: the port's own MAC */
	uint8_t mac[6];
	uint16_t udp_port;			/* client protocol, default 7400 */
	uint16_t gossip_port;			/* cluster protocol, default 7401 */
	/*
	 * trusted_clients: sources whose requests keep the full reply budget
	 * (the others get a byte budget, docs/protocol.md 5.1). The subnet of
	 * ip is in it while trusted_subnet (the item "subnet", the default).
	 */
	bool trusted_subnet;
	struct swd_cidr trusted_clients[SWD_TRUSTED_MAX];
	uint32_t trusted_clients_count;

	/* tables */
	uint32_t partitions;			/* 0 = one per worker lcore */
	uint64_t expected_entries;		/* 1..2^32, presizes tables */
	uint64_t max_entries;			/* 0 = no limit */

	/* data plane */
	uint32_t burst;				/* 1..64 */
	uint32_t rx_desc;			/* power of two, 64..4096 */
	uint32_t tx_desc;			/* power of two, 64..4096 */
	uint32_t mbufs;				/* 0 = computed */
	uint32_t tx_drain_us;			/* 1..10000 */
	enum swd_idle_policy idle_policy;
	uint32_t idle_pause_polls;		/* empty polls before sleeping */
	uint32_t idle_sleep_us;			/* longest idle sleep */

	/* leases */
	uint32_t lease_sweep_ms;		/* 1..60000 */
	uint32_t lease_max_ms;			/* 0 = no limit; clamps client TTLs */

	/* operations */
	bool telemetry;
	enum swd_log_level log_level;		/* swarmd's messages and rte_log */
	uint32_t stats_interval_s;		/* 0 = off; needs log_level >= info */

	/* distribution */
	enum ring_strategy strategy;
	uint32_t static_quorum_size;
	uint32_t vnodes;
	char **node_blacklist;			/* entries as written */
	uint32_t node_blacklist_count;
	char **node_whitelist;
	uint32_t node_whitelist_count;
	/*
	 * Built by swd_config_load() from both lists (plus the built-in deny
	 * patterns); read-only afterwards, so any thread may call
	 * ring_filter_allows() on it. NULL after swd_config_defaults().
	 */
	struct ring_filter *filter;

	/* cluster */
	struct swd_seed seeds[SWD_SEEDS_MAX];
	uint32_t seeds_count;
	bool has_cluster_key;
	uint8_t cluster_key[SWD_CLUSTER_KEY_LEN];
	uint8_t cluster_keys_accepted[SWD_CLUSTER_KEYS_MAX][SWD_CLUSTER_KEY_LEN];
	uint32_t cluster_keys_accepted_count;
	uint32_t probe_interval_ms;		/* SWIM period, default 1000 */
	uint32_t probe_timeout_ms;		/* < probe_interval_ms, default 500 */
	uint32_t suspicion_mult;		/* default 4 */
	/* cluster protocol timers (struct clu_config; tombstones: trk_config) */
	uint32_t fwd_timeout_ms;		/* > repl_rto_ms, default 2000 */
	uint32_t repl_rto_ms;			/* default 100 */
	uint32_t ae_interval_ms;		/* default 2000 */
	uint32_t tombstone_ms;			/* >= 2 x ae_interval_ms, 60000 */

	/* where it came from (NULL: no file, only defaults and --set) */
	char *config_path;
};

/* Fills cfg with the defaults; owns nothing, so no free is needed yet. */
void swd_config_defaults(struct swd_config *cfg);

/*
 * Frees what cfg owns (lists, filter, path) and resets it to the defaults.
 * Always safe after swd_config_defaults() or swd_config_load(), whatever it
 * returned, and safe to call twice.
 */
void swd_config_free(struct swd_config *cfg);

/*
 * Loads the configuration from the swarmd arguments into cfg, which need
 * not be initialized and is overwritten (free a loaded one first). argv[0] is the program
 * name (as left by rte_eal_init() after the caller shifts past the EAL
 * arguments) and is only used in the usage line; parsing starts at argv[1].
 * A leading "--" is skipped.
 *
 * Returns 0 (cfg is ready), a positive SWD_CONFIG_EXIT_* after printing the
 * help, the configuration or nothing on stdout (the caller frees cfg and
 * exits 0), or a negative errno with a one-line message (no newline) in err
 * (the caller prints it, frees cfg and exits SWD_CONFIG_EXIT_STATUS).
 */
int swd_config_load(struct swd_config *cfg, int argc, char **argv, char *err,
		size_t errlen);

/* As swd_config_load(), printing help and --print-config output to out. */
int swd_config_load_to(struct swd_config *cfg, int argc, char **argv,
		FILE *out, char *err, size_t errlen);

/*
 * Prints cfg in file syntax, every key, one per line; the output loads back
 * to the same configuration, except that cluster keys are never printed
 * (their lines are comments saying "<set>"). Returns 0 or -EIO.
 */
int swd_config_print(const struct swd_config *cfg, FILE *out);

/* Prints the --help text (options, exit status, every key). 0 or -EIO. */
int swd_config_help(const char *prog, FILE *out);

/* Canonical names, as accepted by the parser and printed back. */
const char *swd_idle_policy_name(enum swd_idle_policy p);
const char *swd_log_level_name(enum swd_log_level l);

#endif /* SWARM_SWD_CONFIG_H */
