/*
 * exec.h - execute decoded client requests against the tracker.
 *
 * The glue between lib/proto and lib/tracker: one request datagram in, its
 * reply datagrams out. It holds no state of its own and does no I/O, so
 * swarmd's worker lcores, the in-process pipeline and the tests all run
 * the same request path. Every op of a datagram is answered exactly once;
 * a datagram whose header or framing is broken executes nothing and gets
 * one datagram-level answer (or none, when it is not ours to answer).
 *
 * Threading: the caller is a registered liburcu QSBR thread, online, and
 * stays so for the whole call (replies are encoded straight from entries).
 * Writes (REGISTER, WHEREIS_OR_REGISTER, UNREGISTER, JOIN, LEAVE) go to
 * the tracker as they are: the caller must be the owner thread of every
 * written name's partition (the data plane steers or forwards ops to make
 * that true; struct exec_op says which partition an op writes).
 */
#ifndef SWARM_EXEC_H
#define SWARM_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "tracker.h"

/* Most reply datagrams one request can produce (pages stop when full). */
#define EXEC_MAX_REPLIES 16

/*
 * Reply bytes an unverified source may draw per request byte: swarmd gives
 * a request from a source outside trusted_clients a byte budget of
 * EXEC_AMP x its length (docs/protocol.md 5.1 and 12). 3 is the least
 * factor with which every op still gets a short answer (at most
 * EXEC_SHORT_MAX bytes for an op of at least 4).
 */
#define EXEC_AMP 3
/* Largest short answer: a reply op of overloaded or not_ready (retry u32). */
#define EXEC_SHORT_MAX (PROTO_REP_HDR_LEN + 4)
/* Smallest share that pays for a reply datagram of its own (its header and
 * one short answer): see exec_budget_share(). */
#define EXEC_PART_MIN (PROTO_HDR_LEN + EXEC_SHORT_MAX)

/*
 * What the node says about itself in STATUS and STATS replies.
 *
 * stats (optional) answers STATS: it fills names[i] and values[i] for
 * i < n and returns n (0..max), or a negative value when the counters
 * cannot be read (answered `internal`). Names are NUL-terminated, valid
 * counter names (1..PROTO_STATS_NAME_MAX bytes of [a-z0-9_.]), distinct,
 * and must stay valid until exec_datagram() returns; max is
 * PROTO_STATS_MAX. Counters that would take the reply body past
 * PROTO_REP_BODY_MAX are left out from the end, so list the important
 * ones first. It is called on the thread that executes the request, by
 * every thread that does, with stats_arg. NULL: STATS is answered
 * `unsupported`, whatever its body.
 *
 * lease_max_ms (0: no limit): a REGISTER or WHEREIS_OR_REGISTER that asks
 * for a longer lease (ttl) gets exactly lease_max_ms; a ttl of 0 (no lease)
 * is kept. The entry then carries the shortened lease, so lookups report
 * the time left on it.
 */
struct exec_node {
	uint32_t node_id;
	const char *name;		/* 1..255 bytes */
	uint64_t start_ms;		/* `now` when the node started */
	uint32_t lease_max_ms;		/* longest lease granted; 0: no limit */
	int (*stats)(void *arg, const char **names, uint64_t *values,
			size_t max);
	void *stats_arg;
	/*
	 * readiness (optional) answers READINESS: fills *out for time now.
	 * Called like stats, with readiness_arg. NULL: a node that is always
	 * serving (a standalone node: every partition is its own).
	 */
	void (*readiness)(void *arg, uint64_t now, struct proto_readiness *out);
	void *readiness_arg;
};

/* Reply datagrams for one request, and what they said. */
struct exec_out {
	uint8_t dgram[EXEC_MAX_REPLIES][PROTO_MAX_DGRAM];
	size_t len[EXEC_MAX_REPLIES];
	size_t n;			/* datagrams written */
	uint32_t status[16];		/* reply ops by proto status */
	uint32_t ops;			/* request ops answered */
	uint32_t unanswered;		/* ops left without an answer: always 0
					 * unless the reply budget is broken */
};

/* Outcome of exec_datagram(). */
enum exec_result {
	EXEC_ANSWERED = 0,		/* out holds >= 1 reply datagram */
	EXEC_DROPPED = -1,		/* not ours to answer: send nothing */
};

/*
 * Execute one request datagram at time now (ms) and write its replies into
 * out (which is reset first). Registered QSBR thread, online; owner of the
 * partitions it writes.
 */
int exec_datagram(struct trk *t, const struct exec_node *node,
		const void *req, size_t len, uint64_t now, struct exec_out *out);

/*
 * A byte budget for the replies of one request (exec_opts.budget).
 *
 * reply_bytes_max caps the UDP payload bytes of every reply datagram the
 * run writes, headers included (0: no byte budget, only the datagram
 * budget of EXEC_MAX_REPLIES). It is spread over the request's bytes: the
 * answer of op i may use what the request header and ops 0..i carry
 * (reply_bytes_max x their bytes / the request's length) less what the
 * earlier answers took, so an op skipped by the take hook leaves its share
 * to whoever answers it (exec_budget_share()). Every op still gets exactly
 * one answer: short ones (statuses, at most EXEC_SHORT_MAX bytes) always;
 * a full one (an entry, a page, a status, counters) only when it fits, else
 * `overloaded` with a retry hint of 0. A page is cut short (fewer entries,
 * a cursor to go on). A write runs only when the answer it gives if it
 * changes something fits (a receipt, an empty ok, its own entry for
 * WHEREIS_OR_REGISTER); when it changes nothing and its answer (the entry
 * of another holder) does not fit, it is answered `overloaded`, which is
 * still true: nothing was done, a retry is clean.
 *
 * cursor_tag (0: none) proves a source, as a DNS cookie does: page cursors
 * handed out carry cursor_tag[0] in their bytes 4..7 (which the tracker
 * keeps zero), and a request cursor that carries cursor_tag[0] or [1]
 * there shows that the client received that page at its address; the
 * byte budget is lifted for the rest of the request. The caller derives
 * the tags from the source address, a secret and the time (cursor_tag[1]:
 * the previous period's), never 0. Without a verified cursor, a page that
 * cannot hold even one entry in the budget is sent empty with its cursor
 * stamped, so a listing always goes on (the next request is verified);
 * without tags such a page is `overloaded` instead.
 */
struct exec_budget {
	size_t reply_bytes_max;		/* 0: no byte budget */
	uint32_t cursor_tag[2];		/* 0: no source verification */
};

/*
 * One op of a request as every layer of a node sees it: decoded once, its
 * names hashed once (ring_hash_name, the hash that places them), and the
 * partition it writes. exec builds it for each well-formed op and hands
 * it to the take hook; the steering, the cluster's owner routing and the
 * tracker calls all use these hashes, none hashes the name again.
 */
struct exec_op {
	struct proto_op op;
	uint64_t hash;		/* of op.name; 0 when the op has none */
	uint64_t group_hash;	/* of op.group; 0 when the op has none */
	int32_t part;		/* partition the op writes; -1: it only reads */
};

/* The hashes of one op, carried to the hop that runs it. */
struct exec_hashes {
	uint64_t name;
	uint64_t group;
};

/*
 * Fills xo's hashes and partition from xo->op (a well-formed op). For JOIN
 * and LEAVE the partition is the member name's, which holds the
 * membership. Pure.
 */
void exec_op_hash(const struct trk *t, struct exec_op *xo);
/* The same with hashes an earlier hop computed (h, for xo->op's names). */
void exec_op_hashed(const struct trk *t, struct exec_op *xo,
		const struct exec_hashes *h);

/* What the take hook decided for one op. */
enum exec_take {
	EXEC_TAKE_SKIP = 0,	/* the caller sees to its answer (forwarded) */
	EXEC_TAKE_RUN = 1,	/* execute it here */
	EXEC_TAKE_REFUSE = 2,	/* answer it with the refusal, unexecuted */
};

/* A refusal (EXEC_TAKE_REFUSE): a bodiless status, or one with a hint. */
struct exec_refusal {
	uint8_t status;		/* overloaded, not_ready, no_node_available, ... */
	uint32_t retry_ms;	/* overloaded, not_ready: the retry-after hint */
};

/*
 * Options for exec_datagram_opts(), used by a data plane that splits a
 * request between worker lcores: the receiving worker runs the ops it may
 * run and forwards the others (re-encoded as a smaller request datagram)
 * to their partition's owner, which answers them under their original
 * indexes. Replies of both workers carry the client's request id; the
 * protocol lets a client collect one request's answers from several
 * datagrams.
 */
struct exec_opts {
	/* Reply index of op i is index_map[i] (NULL: i itself). */
	const uint16_t *index_map;
	size_t index_map_len;
	/*
	 * Asked for each well-formed op before it runs (NULL: every op
	 * runs): EXEC_TAKE_RUN runs it; EXEC_TAKE_SKIP leaves it to the
	 * caller, who must see to its answer; EXEC_TAKE_REFUSE answers it
	 * with what the hook wrote into *refusal, in this run's replies.
	 */
	int (*take)(const struct exec_op *op, void *arg,
			struct exec_refusal *refusal);
	void *arg;
	/*
	 * Largest reply datagram to write (0: PROTO_MAX_DGRAM). The cluster
	 * relays an owner's replies inside its own datagrams, so it asks for
	 * smaller ones; values below EXEC_MIN_REPLY_CAP are raised to it.
	 */
	size_t dgram_cap;
	/* The byte budget (zeroed: none, today's datagram budget only). */
	struct exec_budget budget;
	/*
	 * Hashes an earlier hop computed (NULL: exec hashes): op i of this
	 * datagram (its position, before index_map) gets the name and group
	 * hashes hashes[i], for i < nhashes. The caller vouches that they
	 * are those of op i's names: a sub-request built from exec_ops.
	 */
	const struct exec_hashes *hashes;
	size_t nhashes;
};

/*
 * The part of budget b that op_len bytes of a request of req_len bytes
 * carry (b->reply_bytes_max x op_len / req_len), or 0 without a byte
 * budget. A caller that forwards (skips) ops of a budgeted request gives
 * the sub-request that answers them the sum of their shares, and a
 * sub-request of its own (another reply datagram) only when that sum is at
 * least EXEC_PART_MIN: else it refuses the op. Pure.
 */
size_t exec_budget_share(const struct exec_budget *b, size_t req_len,
		size_t op_len);

/* Bytes of op in its request datagram: op header and body. Pure. */
static inline size_t
exec_op_len(const struct proto_op *op)
{
	return PROTO_OP_HDR_LEN + op->body.len;
}

/* Smallest dgram_cap honoured: any single non-page answer fits in it. */
#define EXEC_MIN_REPLY_CAP 1024

/*
 * exec_datagram() with options; o may be NULL. An op whose index has no
 * entry in the map is answered `internal` under its own index (it cannot
 * happen with a map built by the forwarder, which covers every op).
 * out->n may be 0 when every op was skipped.
 */
int exec_datagram_opts(struct trk *t, const struct exec_node *node,
		const void *req, size_t len, uint64_t now,
		const struct exec_opts *o, struct exec_out *out);

/* Protocol status for a tracker status. Pure. */
uint8_t exec_status_of(int trk_status);

/* True for the ops that read the registry (WHEREIS, REGISTERED, MEMBERS). */
bool exec_opcode_reads_registry(uint8_t opcode);

/* True for the opcodes that write (REGISTER, WHEREIS_OR_REGISTER,
 * UNREGISTER, JOIN, LEAVE). Pure. */
bool exec_opcode_writes(uint8_t opcode);

#endif /* SWARM_EXEC_H */
