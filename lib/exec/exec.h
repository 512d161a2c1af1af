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
 * that true; exec_op_partition() tells which partition an op writes).
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
	 * Asked for each well-formed op before it runs; false skips it, and
	 * the caller must see to its answer. NULL: every op runs.
	 */
	bool (*take)(const struct proto_op *op, void *arg);
	void *arg;
	/*
	 * Largest reply datagram to write (0: PROTO_MAX_DGRAM). The cluster
	 * relays an owner's replies inside its own datagrams, so it asks for
	 * smaller ones; values below EXEC_MIN_REPLY_CAP are raised to it.
	 */
	size_t dgram_cap;
};

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

/*
 * Partition a decoded op writes, or -1 for ops that only read. Pure; used
 * by the data plane to steer writes to their owner.
 */
int exec_op_partition(const struct trk *t, const struct proto_op *op);

/*
 * For a write op, the hash of the name that places it (the entry's name;
 * for JOIN and LEAVE the member's, whose partition holds the membership)
 * into *hash, and true; false for ops that only read. Pure.
 */
bool exec_op_write_hash(const struct proto_op *op, uint64_t *hash);

/* True for the opcodes that write (REGISTER, WHEREIS_OR_REGISTER,
 * UNREGISTER, JOIN, LEAVE). Pure. */
bool exec_opcode_writes(uint8_t opcode);

#endif /* SWARM_EXEC_H */
