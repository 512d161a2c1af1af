/*
 * proto_rep.h - reply datagrams: encoder and zero-copy decoder.
 *
 * Every request op gets exactly one reply op, which names the request op
 * by index; a datagram-level error uses index PROTO_INDEX_DGRAM. The body
 * of a reply op depends on (opcode, status) only, as proto_rep_body_kind()
 * says, so encoder and decoder share one table (docs/protocol.md 5.3-5.5).
 *
 * Splitting: the node adds reply ops to a datagram until an add returns
 * PROTO_ENOSPC, then finishes and sends that datagram, starts the next one
 * with the same request id and adds the op again. A single reply op always
 * fits an empty datagram (the largest entry is 559 bytes; pages stop when
 * full).
 *
 * Pages (REGISTERED, MEMBERS) are built in three steps because the cursor
 * follows the entries on the wire and is only known once the page is full:
 * proto_rep_page_begin() reserves room for the trailer, proto_rep_page_add()
 * appends entries until PROTO_ENOSPC, proto_rep_page_end() writes count,
 * flags and cursor. No other op may be added between begin and end.
 *
 * STATS counters are encoded in one go from arrays of names and values
 * (proto_rep_add_stats()): a counter list is limited to PROTO_STATS_MAX
 * counters and to a body of PROTO_REP_BODY_MAX bytes, so it always fits
 * an empty datagram.
 *
 * The decoder validates a reply op's whole body (every entry of a page and
 * every counter name included) before returning it, so iterating a page
 * or a counter list afterwards cannot fail. Names, metadata, cursors, node
 * names and counter names are views into the input.
 *
 * Any thread; no shared state; no RCU involvement.
 */
#ifndef SWARM_PROTO_REP_H
#define SWARM_PROTO_REP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto_defs.h"
#include "proto_fields.h"

/* What a reply op body holds, decided by (opcode, status). */
enum proto_body_kind {
	PROTO_BODY_EMPTY,
	PROTO_BODY_RECEIPT,	/* REGISTER ok */
	PROTO_BODY_ENTRY,	/* WHEREIS ok, already_registered, handle_mismatch */
	PROTO_BODY_WOR,		/* WHEREIS_OR_REGISTER ok: outcome + entry */
	PROTO_BODY_PAGE,	/* REGISTERED ok, MEMBERS ok */
	PROTO_BODY_NODE,	/* STATUS ok */
	PROTO_BODY_STATS,	/* STATS ok */
	PROTO_BODY_FIELD,	/* bad_request */
	PROTO_BODY_VERSIONS,	/* bad_version */
	PROTO_BODY_LIMIT,	/* too_large */
	PROTO_BODY_RETRY,	/* overloaded, not_ready */
	PROTO_BODY_READINESS,	/* READINESS ok */
	PROTO_BODY_RAW,		/* unknown status, or ok of an unknown opcode */
};

struct proto_receipt {
	uint32_t node;
	struct proto_version ver;
};

struct proto_page {
	uint16_t count;
	uint8_t flags;			/* PROTO_PAGE_END */
	struct proto_bytes items;	/* count encoded entries */
	struct proto_bytes cursor;
};

struct proto_node_status {
	uint8_t version_min;
	uint8_t version_max;
	uint32_t node;
	uint16_t partitions;		/* >= 1 */
	uint64_t entries;
	uint64_t uptime_ms;
	struct proto_bytes name;	/* 1..255 bytes */
};

/* READINESS ok (section 5.3): what the node is doing, 13 bytes. */
struct proto_readiness {
	uint8_t state;			/* enum proto_ready_state */
	uint16_t partitions;		/* >= 1 */
	uint16_t synced;		/* partitions holding the registry, <= partitions */
	uint16_t alive;			/* live cluster members, self included, >= 1 */
	uint16_t owners;		/* nodes that may own names now */
	uint32_t retry_after_ms;	/* when not serving: when to ask again */
};

/* A counter list (STATS ok): count, then count x (name str8, value u64). */
struct proto_stats {
	uint16_t count;			/* <= PROTO_STATS_MAX */
	struct proto_bytes items;	/* count encoded counters */
};

/* One decoded reply op. Only the member of proto_rep_body_kind() is set. */
struct proto_reply {
	uint16_t index;
	uint8_t opcode;
	uint8_t status;
	uint8_t bad_field;		/* decoder: on EMALFORMED */
	struct proto_bytes body;	/* the raw body, always */
	union {
		struct proto_receipt receipt;
		struct proto_entry entry;	/* ENTRY and WOR */
		struct proto_page page;
		struct proto_node_status node;
		struct proto_stats stats;
		uint8_t field;			/* bad_request */
		struct proto_readiness ready;
		uint32_t retry_after_ms;	/* overloaded, not_ready */
		uint16_t limit;			/* too_large */
		struct {
			uint8_t min, max;
		} versions;			/* bad_version */
	} u;
	uint8_t outcome;		/* WOR: PROTO_WOR_FOUND / _REGISTERED */
};

/* Decoder state over one reply datagram (which must outlive it). */
struct proto_rep {
	uint64_t req_id;
	uint16_t nops;
	uint16_t next;
	uint8_t bad_field;
	struct proto_rd rd;
};

/* Page builder state between begin and end. */
struct proto_page_enc {
	uint8_t *op;			/* the reply op header */
	uint16_t count;
};

/* Page iterator over a decoded page. */
struct proto_page_iter {
	struct proto_rd rd;
	uint16_t left;
};

/* Counter iterator over a decoded counter list. */
struct proto_stats_iter {
	struct proto_rd rd;
	uint16_t left;
};

enum proto_body_kind proto_rep_body_kind(uint8_t opcode, uint8_t status);

/* Same return values as proto_req_parse(), for the reply direction. */
int proto_rep_parse(struct proto_rep *rep, const void *buf, size_t len);

/*
 * Decodes the next reply op. Returns 0, PROTO_END, or PROTO_EMALFORMED
 * (r->bad_field set; r->index/opcode/status/body valid; iteration goes on).
 */
int proto_rep_next(struct proto_rep *rep, struct proto_reply *r);

void proto_page_iter_init(struct proto_page_iter *it,
		const struct proto_page *page);
/* Returns 0 with *e filled, PROTO_END, or PROTO_EMALFORMED. */
int proto_page_next(struct proto_page_iter *it, struct proto_entry *e);

/* True when name[0..len) is a valid counter name: 1..64 of [a-z0-9_.]. */
bool proto_stats_name_ok(const void *name, size_t len);
/*
 * Decodes a counter list body (count, then the counters), validating every
 * counter; on failure returns false with *field set (PROTO_F_NAME for a
 * bad or repeated name, PROTO_F_BODY otherwise). Used by proto_rep_next().
 */
bool proto_stats_decode(struct proto_rd *r, struct proto_stats *st,
		uint8_t *field);

void proto_stats_iter_init(struct proto_stats_iter *it,
		const struct proto_stats *st);
/*
 * Returns 0 with *name (a view) and *value filled, PROTO_END, or
 * PROTO_EMALFORMED (only for a list that was not decoded by
 * proto_rep_next()).
 */
int proto_stats_next(struct proto_stats_iter *it, struct proto_bytes *name,
		uint64_t *value);

/* Starts a reply datagram; as proto_req_init(). */
int proto_rep_init(struct proto_enc *e, void *buf, size_t cap,
		uint64_t req_id);

/*
 * Every add returns 0, PROTO_ENOSPC (nothing written) or PROTO_EINVAL (a
 * value out of range, or a body that does not match (opcode, status)).
 */
int proto_rep_add_empty(struct proto_enc *e, uint16_t index, uint8_t opcode,
		uint8_t status);
int proto_rep_add_receipt(struct proto_enc *e, uint16_t index,
		const struct proto_receipt *rc);
/* WHEREIS ok, already_registered or handle_mismatch. */
int proto_rep_add_entry(struct proto_enc *e, uint16_t index, uint8_t opcode,
		uint8_t status, const struct proto_entry *ent);
int proto_rep_add_wor(struct proto_enc *e, uint16_t index, uint8_t outcome,
		const struct proto_entry *ent);
int proto_rep_add_node_status(struct proto_enc *e, uint16_t index,
		const struct proto_node_status *ns);
/*
 * STATS ok with counters names[i] = values[i], i < n, in that order. Names
 * are NUL-terminated. PROTO_EINVAL when n > PROTO_STATS_MAX, a name is not
 * valid (proto_stats_name_ok()), a name repeats, or the body would exceed
 * PROTO_REP_BODY_MAX bytes; PROTO_ENOSPC when it does not fit the room
 * left (it always fits an empty datagram).
 */
int proto_rep_add_stats(struct proto_enc *e, uint16_t index,
		const char *const *names, const uint64_t *values, size_t n);
/* Appends a decoded counter list (re-encoding); validated again first. */
int proto_rep_add_stats_list(struct proto_enc *e, uint16_t index,
		const struct proto_stats *st);
int proto_rep_add_bad_request(struct proto_enc *e, uint16_t index,
		uint8_t opcode, uint8_t field);
int proto_rep_add_overloaded(struct proto_enc *e, uint16_t index,
		uint8_t opcode, uint32_t retry_after_ms);
/* overloaded or not_ready (the statuses whose body is a retry hint). */
int proto_rep_add_retry(struct proto_enc *e, uint16_t index, uint8_t opcode,
		uint8_t status, uint32_t retry_after_ms);
/* READINESS ok; PROTO_EINVAL when a field is out of range. */
int proto_rep_add_readiness(struct proto_enc *e, uint16_t index,
		const struct proto_readiness *rd);
int proto_rep_add_bad_version(struct proto_enc *e);
int proto_rep_add_too_large(struct proto_enc *e);

/*
 * Answers a decoder error: PROTO_EMALFORMED -> bad_request(field),
 * PROTO_EUNSUPP -> unsupported, PROTO_EVERSION -> bad_version,
 * PROTO_ETOOLARGE -> too_large. Other errors are PROTO_EINVAL (they are
 * dropped, never answered).
 */
int proto_rep_add_error(struct proto_enc *e, uint16_t index, uint8_t opcode,
		int err, uint8_t field);

int proto_rep_page_begin(struct proto_enc *e, struct proto_page_enc *pg,
		uint16_t index, uint8_t opcode);
int proto_rep_page_add(struct proto_enc *e, struct proto_page_enc *pg,
		const struct proto_entry *ent);
/* Cannot fail for lack of room (begin reserved it); EINVAL on a bad cursor. */
int proto_rep_page_end(struct proto_enc *e, struct proto_page_enc *pg,
		bool end, const void *cursor, size_t cursor_len);

/*
 * Appends a whole decoded page (forwarding, re-encoding) in one go; its
 * items are validated again first. PROTO_ENOSPC when it does not fit
 * (nothing written), PROTO_EINVAL when the page is not well formed.
 */
int proto_rep_add_page(struct proto_enc *e, uint16_t index, uint8_t opcode,
		const struct proto_page *page);

/* Removes a page begun but not ended, as if begin had never been called. */
void proto_rep_page_abort(struct proto_enc *e, struct proto_page_enc *pg);

/*
 * Re-encodes a decoded reply op (proxies, tests, the fuzzer): the bytes
 * come out identical to the ones decoded.
 */
int proto_rep_add(struct proto_enc *e, const struct proto_reply *r);

#endif /* SWARM_PROTO_REP_H */
