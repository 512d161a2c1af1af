/*
 * storm.h - the registration storm generator (docs/storm.md), as a library.
 *
 *   storm_options.c  command line -> struct storm_cfg; the name pattern
 *                    (parsed and formatted here, never handed to printf);
 *                    the handle, endpoint and order formulas
 *   storm_engine.c   kernel UDP sockets, a window of request datagrams,
 *                    token bucket, timeouts and retransmission, overloaded
 *                    back-off, reply matching (protocol section 9)
 *   storm_stats.c    log-linear latency histogram, progress line, the final
 *                    report as text or JSON, the exit code
 *
 * swarm_storm.c is only main(); the tests link this library directly.
 * One thread drives everything; nothing here is shared between threads.
 */
#ifndef SWARM_STORM_H
#define SWARM_STORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "proto.h"

#define STORM_DEFAULT_SERVER	"127.0.0.1:7400"
#define STORM_MAX_BATCH		64u
#define STORM_MAX_WINDOW	16384u
#define STORM_MAX_SOCKETS	64u
#define STORM_IO_BATCH		32u	/* datagrams per sendmmsg/recvmmsg */
#define STORM_NAME_BUF		(PROTO_NAME_MAX + 1)
#define STORM_REPLY_BUDGET	13u	/* reply datagrams for full answers (5.1) */
#define STORM_ENDPOINT_PORT	5683u	/* CoAP, for the derived endpoints */

enum storm_mode {
	STORM_REGISTER,		/* REGISTER every name, then verify */
	STORM_LOOKUP,		/* WHEREIS every name, expect a status */
	STORM_VERIFY,		/* WHEREIS every name, check the handle */
};

enum storm_order {
	STORM_SEQUENTIAL,
	STORM_RANDOM,
};

/* A name pattern: literal prefix, one integer conversion, literal suffix. */
struct storm_pattern {
	char prefix[STORM_NAME_BUF];
	char suffix[STORM_NAME_BUF];
	uint16_t prefix_len, suffix_len;
	uint8_t width;		/* minimum digits, 0 = none */
	bool zero;		/* pad with '0' (else spaces) */
	bool left;		/* '-': pad on the right */
	uint8_t base;		/* 10 or 16 */
	bool upper;		/* %X */
};

struct storm_cfg {
	char server[300];			/* as given: host:port */
	struct sockaddr_storage addr;		/* resolved by storm_resolve() */
	socklen_t addrlen;
	enum storm_mode mode;
	uint64_t names;
	uint64_t start;
	char pattern_text[512];
	struct storm_pattern pat;
	uint32_t batch;
	uint32_t meta_len;
	uint32_t ttl_ms;
	uint64_t rate;				/* ops/s, 0 = flat out */
	uint32_t window;			/* request datagrams in flight */
	uint32_t timeout_ms;
	uint32_t retries;
	uint32_t sockets;
	enum storm_order order;
	uint64_t seed;
	uint8_t expect;				/* lookup mode: expected status */
	bool verify;				/* register: verification pass */
	bool quiet;
	bool json;
};

/*
 * Log-linear histogram of nanoseconds: one bucket per value below 64, then
 * 32 buckets per power of two (about 3 % resolution).
 */
#define STORM_HIST_SUB_BITS	6u
#define STORM_HIST_BUCKETS	((64u - STORM_HIST_SUB_BITS + 2) << \
				 (STORM_HIST_SUB_BITS - 1))

struct storm_hist {
	uint64_t count;
	uint64_t max;
	uint64_t b[STORM_HIST_BUCKETS];
};

/* Figures of one pass over the names (the storm, or the verification). */
struct storm_phase {
	const char *name;			/* "register", "lookup", "verify" */
	uint8_t opcode;				/* PROTO_OP_REGISTER or _WHEREIS */
	uint8_t expect;				/* expected status of every op */
	bool check_handle;			/* WHEREIS ok: compare the handle */
	uint64_t ops;				/* names in the pass */
	uint64_t first_sent;			/* ops sent at least once */
	uint64_t answered;			/* ops with a final answer */
	uint64_t status[256];			/* final answers by status */
	uint64_t correct;			/* WHEREIS ok with the right handle */
	uint64_t wrong;				/* WHEREIS ok, another handle/name */
	uint64_t lost;				/* never answered after all retries */
	uint64_t overloaded;			/* overloaded answers (resent) */
	uint64_t not_ready;			/* not_ready answers (resent) */
	uint64_t internal_retries;		/* internal answers (resent) */
	uint64_t dgrams_sent;
	uint64_t dgrams_recv;
	uint64_t retransmits;			/* datagrams resent after timeout */
	uint64_t retransmit_ops;		/* ops in those datagrams */
	uint64_t overload_resends;		/* datagrams resent after overloaded */
	uint64_t stale;				/* replies to unknown/old request ids */
	uint64_t duplicates;			/* reply ops for answered ops */
	uint64_t bad_replies;			/* replies that do not decode */
	uint64_t send_errors;			/* sendmmsg failures (not EAGAIN) */
	uint64_t t_last_first_send_ns;		/* from the start of the pass */
	uint64_t t_last_answer_ns;
	uint64_t elapsed_ns;
	struct storm_hist lat;
};

struct storm_report {
	struct storm_phase main;
	struct storm_phase verify;
	bool has_verify;
};

/* --- storm_options.c --- */

/* Defaults for every option. */
void storm_cfg_defaults(struct storm_cfg *cfg);

/*
 * Parses argv. Returns 0 (cfg filled and checked, server resolved), 1
 * (--help: usage printed to stdout), or -1 with a message naming the
 * option in err (exit code 2). Uses getopt_long: resets optind itself.
 */
int storm_parse_args(struct storm_cfg *cfg, int argc, char **argv,
		char *err, size_t errlen);

/* Checks the combination of values (batch against the datagram, ...). */
int storm_cfg_check(struct storm_cfg *cfg, char *err, size_t errlen);

/* Resolves cfg->server ("host:port", "[v6]:port") into cfg->addr. */
int storm_resolve(struct storm_cfg *cfg, char *err, size_t errlen);

/* Parses a pattern; -1 with a message naming --pattern on error. */
int storm_pattern_parse(struct storm_pattern *p, const char *text,
		char *err, size_t errlen);

/* Formats name number n into buf (STORM_NAME_BUF bytes); returns length. */
size_t storm_pattern_format(const struct storm_pattern *p, uint64_t n,
		char *buf);

/* The handle registered for name number n: splitmix64(n). */
uint64_t storm_handle(uint64_t n);

/* The endpoint registered for name number n: 10.b2.b1.b0:5683. */
void storm_endpoint(uint64_t n, struct proto_endpoint *ep);

/* Name number of the j-th op of a pass (sequential or a permutation). */
uint64_t storm_name_number(const struct storm_cfg *cfg, uint64_t j);

void storm_usage(FILE *f);

/* --- storm_engine.c --- */

/*
 * Runs the configured storm: the main pass, then the verification pass
 * when cfg->verify is set in register mode. progress: where the progress
 * line goes once a second (NULL = none). Returns 0, or -1 with a message
 * in err when the sockets cannot be set up.
 */
int storm_run(const struct storm_cfg *cfg, struct storm_report *rep,
		FILE *progress, char *err, size_t errlen);

/* --- storm_stats.c --- */

void storm_hist_add(struct storm_hist *h, uint64_t ns);
/* Value (ns) at quantile q in [0, 1]: the middle of its bucket; 0 if empty. */
uint64_t storm_hist_quantile(const struct storm_hist *h, double q);

void storm_progress(FILE *f, const struct storm_phase *ph, uint64_t now_ns,
		uint64_t ops_last, uint64_t ns_last, uint64_t outstanding_dgrams,
		uint64_t outstanding_ops);

/* 0 when every pass lost nothing and got the expected answers; else 1. */
int storm_exit_code(const struct storm_report *rep);

void storm_report_text(FILE *f, const struct storm_cfg *cfg,
		const struct storm_report *rep);
void storm_report_json(FILE *f, const struct storm_cfg *cfg,
		const struct storm_report *rep);

#endif /* SWARM_STORM_H */
