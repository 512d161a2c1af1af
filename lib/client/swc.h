/*
 * swc.h - swarm client library: the client protocol v1 over a kernel UDP
 * socket, usable from any host (docs/protocol.md; docs/swarmctl.md shows
 * the command-line client built on it).
 *
 * A client holds a list of servers ("host:port"; IPv4 and IPv6 literals,
 * "[v6]:port", or names resolved once with getaddrinfo when the client is
 * created). Every call sends its ops to the current server; when a server
 * does not answer at all, the next attempt goes to the next server, and a
 * server that answered becomes the current one for later calls.
 *
 * Retries follow docs/protocol.md section 9:
 *  - every attempt is a new request with a new request id (a counter that
 *    starts at a random value); the still unanswered ops are renumbered;
 *  - a reply op is accepted only when (request id, op index, opcode) names
 *    an op of this call that has no final answer yet; duplicates, stray
 *    datagrams and replies from other addresses are ignored; late replies
 *    to earlier attempts of the same call still count;
 *  - replies split over several datagrams are collected, in any order;
 *  - datagram-level errors (op index 0xFFFF) apply to every op of that
 *    request;
 *  - `overloaded`, `not_ready` and `internal` are retried (after at least
 *    the hinted retry-after; after `not_ready` the next attempt goes to the
 *    next server, unless the call is pinned to one, since another node may
 *    be ready already); between attempts the client sleeps an exponential
 *    backoff with jitter: random in [b/2, b], b = backoff_ms * 2^(n-1)
 *    capped at backoff_max_ms;
 *  - bad_request, unsupported, bad_version, too_large (and every other
 *    status) are final and never retried;
 *  - UNREGISTER is retried only when it carries an expected handle, and a
 *    `not_found` answer to a retried attempt counts as success (ok, with
 *    result.retry_not_found set). An UNREGISTER without a handle is sent
 *    once; when its answer is lost its result is SWC_ENOANSWER.
 *
 * Timing: one attempt waits until every op it sent is answered, or until
 * no reply datagram has arrived for timeout_ms. A call makes at most
 * 1 + retries attempts. Large batches are sent as several datagrams, at
 * most `window` of them unanswered at a time.
 *
 * Threading: no global state. A client and its batches are used by one
 * thread at a time (one client per thread); distinct clients are
 * independent.
 *
 * Return codes: functions returning int give 0 (or a protocol status,
 * where said) on success and a negative enum swc_err otherwise.
 */
#ifndef SWARM_SWC_H
#define SWARM_SWC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define SWC_DEFAULT_PORT	7400u
#define SWC_MAX_SERVERS		16u
#define SWC_ADDR_STRLEN		64u	/* "[v6 literal]:port" and a NUL */

/* Errors that are not protocol statuses. Always negative. */
enum swc_err {
	SWC_OK		= 0,
	SWC_EINVAL	= -1,	/* an argument out of range (see *_field) */
	SWC_ETIMEDOUT	= -2,	/* some op got no answer after every try */
	SWC_ESOCKET	= -3,	/* socket() / sendto() / recv() failed */
	SWC_ENOMEM	= -4,
	SWC_ERESOLVE	= -5,	/* a server address could not be parsed or
				 * resolved */
	SWC_EBADREPLY	= -6,	/* the server's answer did not parse */
	SWC_ENOANSWER	= -7,	/* per op: no answer (the call says
				 * SWC_ETIMEDOUT) */
	SWC_ECANCELED	= -8,	/* an iterate callback asked to stop */
};

/* Name of an enum swc_err, or of a protocol status when code >= 0. */
const char *swc_strerror(int code);

struct swc_options {
	uint32_t timeout_ms;	/* idle wait of one attempt; default 500 */
	uint32_t retries;	/* attempts after the first; default 3 */
	uint32_t backoff_ms;	/* first backoff; default 20 */
	uint32_t backoff_max_ms; /* backoff cap; default 1000 */
	uint16_t window;	/* request datagrams in flight; default 8 */
	uint64_t seed;		/* request ids and jitter; 0 = random */
	uint8_t replicas;	/* REPLICAS request flag: 0 (the owner
				 * applied it), 1, 2, or 3 = every live node */
};

/* Per-call overrides (swc_run_opts). */
struct swc_call {
	uint32_t timeout_ms;	/* 0 = the client's */
	int32_t retries;	/* -1 = the client's */
	int server;		/* >= 0: only this server (no failover),
				 * e.g. to follow a cursor; -1 = any */
};

/* A registration, copied out of the reply. name and meta are followed by
 * a NUL (not counted) for convenience; both may contain zero bytes. */
struct swc_entry {
	uint64_t handle;
	uint32_t node;
	uint64_t version_clock;
	uint32_t version_node;
	uint32_t ttl_ms;		/* remaining lease; 0 = none */
	struct proto_endpoint ep;
	uint16_t name_len;
	uint16_t meta_len;
	uint8_t name[PROTO_NAME_MAX + 1];
	uint8_t meta[PROTO_META_MAX + 1];
};

struct swc_node_info {
	uint8_t version_min, version_max;
	uint32_t node;
	uint16_t partitions;
	uint64_t entries;
	uint64_t uptime_ms;
	uint16_t name_len;
	char name[PROTO_NODE_NAME_MAX + 1];
};

/* One counter of a STATS answer; name is NUL-terminated. */
struct swc_stat {
	char name[PROTO_STATS_NAME_MAX + 1];
	uint64_t value;
};

/* The final answer to one op. Only the members of its (opcode, status)
 * are meaningful; pointers stay valid until the batch is reset or freed
 * (for the convenience calls: until the next call on the client). */
struct swc_result {
	int status;		/* enum proto_status (>= 0), or SWC_ENOANSWER
				 * / SWC_EBADREPLY */
	uint8_t opcode;
	bool dgram_level;	/* a datagram-level answer (index 0xFFFF) */
	bool retry_not_found;	/* UNREGISTER: not_found to a retry, made ok */
	uint16_t tries;		/* attempts that carried this op */
	int server;		/* index of the answering server, or -1 */
	uint8_t field;		/* bad_request: enum proto_field */
	bool has_entry;		/* WHEREIS / WOR ok, already_registered,
				 * handle_mismatch */
	struct swc_entry entry;
	uint8_t outcome;	/* WOR: PROTO_WOR_FOUND / PROTO_WOR_REGISTERED */
	uint32_t receipt_node;	/* REGISTER ok */
	uint64_t receipt_clock;
	uint32_t receipt_vnode;
	struct swc_node_info node;	/* STATUS ok */
	uint16_t nstats;		/* STATS ok: the counters, in the */
	struct swc_stat *stats;		/* node's order (NULL when none) */
	uint16_t count;		/* REGISTERED / MEMBERS ok: the page */
	struct swc_entry *entries;
	bool end;
	uint8_t cursor_len;
	uint8_t cursor[PROTO_CURSOR_MAX];
	uint32_t retry_after_ms;	/* overloaded, not_ready */
	struct proto_readiness ready;	/* READINESS ok */
	uint8_t version_min, version_max;	/* bad_version */
	uint16_t limit;			/* too_large */
	uint16_t raw_len;		/* body of an unknown op or status */
	uint8_t *raw;
};

/* Counters of one client, for tests and tools. */
struct swc_counters {
	uint64_t calls;
	uint64_t requests;	/* request datagrams sent */
	uint64_t attempts;
	uint64_t replies;	/* reply datagrams accepted (right id) */
	uint64_t reply_ops;	/* reply ops accepted */
	uint64_t ignored;	/* strays, duplicates, mismatches */
};

struct swc_client;
struct swc_batch;

/*
 * Creates a client for servers[0..n-1] (1 <= n <= SWC_MAX_SERVERS).
 * opt NULL means defaults. On failure returns NULL, *err (if not NULL)
 * gets SWC_ERESOLVE / SWC_EINVAL / SWC_ENOMEM and errbuf a message that
 * names the bad server.
 */
struct swc_client *swc_client_new(const char *const *servers, size_t n,
		const struct swc_options *opt, int *err, char *errbuf,
		size_t errlen);
void swc_client_free(struct swc_client *c);

/* Changes the defaults of later calls. */
void swc_client_set_timeout(struct swc_client *c, uint32_t timeout_ms,
		uint32_t retries);

size_t swc_client_nservers(const struct swc_client *c);
/* "host:port" as given, "[v6]:port" style; never NULL for i < n. */
const char *swc_client_server(const struct swc_client *c, size_t i);
/* Index of the server that answered last (where the next call starts). */
int swc_client_current(const struct swc_client *c);
void swc_client_counters(const struct swc_client *c,
		struct swc_counters *out);

/*
 * After a call that returned SWC_ETIMEDOUT (or SWC_ESOCKET): a message
 * such as "no answer from 127.0.0.1:7401 after 3 tries". Empty when the
 * last call succeeded. tries_of() gives the attempts made to server i in
 * the last call and whether it answered any of them.
 */
const char *swc_client_errmsg(const struct swc_client *c);
unsigned int swc_client_tries_of(const struct swc_client *c, size_t i,
		bool *answered);

/* Parses "host:port", "[v6]:port", "v6-literal" or "host" (default port
 * 7400) into host and port. Returns 0 or SWC_EINVAL. host must hold
 * hostlen bytes. */
int swc_parse_hostport(const char *s, char *host, size_t hostlen,
		uint16_t *port);

/* Parses an endpoint "a.b.c.d:port" or "[v6]:port" (literals only,
 * port 1..65535), or "none". Returns 0 or SWC_EINVAL. */
int swc_endpoint_parse(const char *s, struct proto_endpoint *ep);
/* Formats an endpoint ("none" for family none); returns buf. */
char *swc_endpoint_format(const struct proto_endpoint *ep, char *buf,
		size_t len);

/* ---- Batches: many ops, as few datagrams as possible ---------------- */

struct swc_batch *swc_batch_new(void);
void swc_batch_free(struct swc_batch *b);
/* Forgets every op and result (keeps the memory). */
void swc_batch_reset(struct swc_batch *b);
size_t swc_batch_count(const struct swc_batch *b);

/*
 * Each add returns the op's index in the batch (>= 0), or SWC_EINVAL
 * (nothing added; swc_batch_bad_field() names the argument as an
 * enum proto_field) or SWC_ENOMEM. ep NULL means no endpoint.
 */
int swc_batch_register(struct swc_batch *b, const void *name,
		size_t name_len, uint64_t handle, const struct proto_endpoint *ep,
		const void *meta, size_t meta_len, uint32_t ttl_ms);
int swc_batch_whereis_or_register(struct swc_batch *b, const void *name,
		size_t name_len, uint64_t handle, const struct proto_endpoint *ep,
		const void *meta, size_t meta_len, uint32_t ttl_ms);
/* expect_handle NULL: unconditional, and then never retried. */
int swc_batch_unregister(struct swc_batch *b, const void *name,
		size_t name_len, const uint64_t *expect_handle);
int swc_batch_whereis(struct swc_batch *b, const void *name,
		size_t name_len);
int swc_batch_join(struct swc_batch *b, const void *group,
		size_t group_len, const void *name, size_t name_len);
int swc_batch_leave(struct swc_batch *b, const void *group,
		size_t group_len, const void *name, size_t name_len);
int swc_batch_members(struct swc_batch *b, const void *group,
		size_t group_len, const void *cursor, size_t cursor_len,
		uint16_t max_count);
int swc_batch_registered(struct swc_batch *b, const void *cursor,
		size_t cursor_len, uint16_t max_count);
int swc_batch_status(struct swc_batch *b);
int swc_batch_stats(struct swc_batch *b);
int swc_batch_readiness(struct swc_batch *b);
/* Any opcode with a raw body (probing, forward compatibility). retry says
 * whether the op is safe to repeat. */
int swc_batch_raw(struct swc_batch *b, uint8_t opcode, uint8_t flags,
		const void *body, size_t body_len, bool retry);
/* enum proto_field of the last SWC_EINVAL from an add. */
uint8_t swc_batch_bad_field(const struct swc_batch *b);

/*
 * Sends every op of the batch and waits for their answers. Returns 0 when
 * every op has a final result (whatever its status: look at each result),
 * SWC_ETIMEDOUT when some op got no answer (its status is SWC_ENOANSWER;
 * see swc_client_errmsg()), SWC_ESOCKET or SWC_ENOMEM. Running a batch
 * again sends every op again.
 */
int swc_run(struct swc_client *c, struct swc_batch *b);
int swc_run_opts(struct swc_client *c, struct swc_batch *b,
		const struct swc_call *call);
/* Result of op i after swc_run(), or NULL when i is out of range. */
const struct swc_result *swc_batch_result(const struct swc_batch *b,
		size_t i);

/* ---- Convenience calls: one op, one round trip ----------------------
 *
 * Each returns the op's protocol status (>= 0: PROTO_ST_OK,
 * PROTO_ST_NOT_FOUND, ...) or a negative enum swc_err. *res (may be NULL)
 * gets the whole result; its pointers stay valid until the next call on
 * the client.
 */
int swc_register(struct swc_client *c, const void *name, size_t name_len,
		uint64_t handle, const struct proto_endpoint *ep,
		const void *meta, size_t meta_len, uint32_t ttl_ms,
		struct swc_result *res);
int swc_whereis_or_register(struct swc_client *c, const void *name,
		size_t name_len, uint64_t handle,
		const struct proto_endpoint *ep, const void *meta,
		size_t meta_len, uint32_t ttl_ms, struct swc_result *res);
int swc_unregister(struct swc_client *c, const void *name, size_t name_len,
		const uint64_t *expect_handle, struct swc_result *res);
int swc_whereis(struct swc_client *c, const void *name, size_t name_len,
		struct swc_result *res);
int swc_join(struct swc_client *c, const void *group, size_t group_len,
		const void *name, size_t name_len, struct swc_result *res);
int swc_leave(struct swc_client *c, const void *group, size_t group_len,
		const void *name, size_t name_len, struct swc_result *res);
/* One page; pass res->cursor of the previous page to continue, on the
 * same server (server >= 0 pins it: cursors belong to one node). */
int swc_members(struct swc_client *c, const void *group, size_t group_len,
		const void *cursor, size_t cursor_len, uint16_t max_count,
		int server, struct swc_result *res);
int swc_registered(struct swc_client *c, const void *cursor,
		size_t cursor_len, uint16_t max_count, int server,
		struct swc_result *res);
int swc_status(struct swc_client *c, struct swc_result *res);
/* STATS: on ok, res->stats[0..nstats) holds the node's counters (names
 * are stable identifiers; a node may add counters, so look names up
 * rather than relying on positions). Nodes that do not implement STATS
 * answer PROTO_ST_UNSUPPORTED. */
int swc_stats(struct swc_client *c, struct swc_result *res);
/* READINESS of server (-1: the current one); res->ready on ok. Nodes
 * older than the op answer PROTO_ST_UNSUPPORTED. */
int swc_readiness(struct swc_client *c, int server, struct swc_result *res);
/*
 * Asks server (-1: the current one) for READINESS until it holds the
 * registry (state serving or no_owner; with writable, serving only) or
 * wait_ms have passed, sleeping the node's retry hint in between.
 * PROTO_ST_OK when it is; PROTO_ST_NOT_READY when the time ran out
 * (res->ready has the last answer, res->status is ok); another status
 * (unsupported: the node does not know READINESS) or a negative
 * enum swc_err (SWC_ETIMEDOUT: it never answered) otherwise.
 */
int swc_wait_ready(struct swc_client *c, int server, uint32_t wait_ms,
		bool writable, struct swc_result *res);

/*
 * Walks a whole listing page by page (page_max entries per page, 0 = as
 * many as fit), calling cb for every entry. After the first page every
 * request goes to the server that answered it (a cursor means nothing to
 * another node). cb returns 0 to go on, non-zero to stop (the walk then
 * returns SWC_ECANCELED). Returns PROTO_ST_OK, another protocol status
 * (*res holds the failed page's result when res is not NULL), or a
 * negative enum swc_err.
 */
typedef int (*swc_entry_cb)(const struct swc_entry *e, void *arg);
int swc_members_all(struct swc_client *c, const void *group,
		size_t group_len, uint16_t page_max, swc_entry_cb cb, void *arg,
		struct swc_result *res);
int swc_registered_all(struct swc_client *c, uint16_t page_max,
		swc_entry_cb cb, void *arg, struct swc_result *res);

#endif /* SWARM_SWC_H */
