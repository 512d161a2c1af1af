/*
 * exec_internal.h - state shared by the files of lib/exec while one request
 * datagram is executed. Not for use outside lib/exec.
 */
#ifndef SWARM_EXEC_INTERNAL_H
#define SWARM_EXEC_INTERNAL_H

#include "exec.h"

/* Datagrams kept back so that every op can get at least a short answer. */
#define EXEC_RESERVE 3

struct exec_ctx {
	struct trk *t;
	const struct exec_node *node;
	uint64_t now;
	uint64_t req_id;
	struct exec_out *out;
	size_t dgram_cap;		/* reply datagram size, <= PROTO_MAX_DGRAM */
	struct proto_enc enc;		/* the reply datagram being filled */
};

/* Start out->dgram[out->n] as the current reply datagram. */
void reply_open(struct exec_ctx *c);
/* Finish the current reply datagram (kept only when it holds an op). */
void reply_close(struct exec_ctx *c);
/* True while the current datagram may take full answers. */
bool reply_full_here(const struct exec_ctx *c);
/* True while another datagram of full answers fits the reply budget. */
bool reply_may_grow(const struct exec_ctx *c);
/* Count one answered op with its status. */
void reply_count(struct exec_ctx *c, uint8_t status);
/*
 * Answer with a short reply op made by add(); uses the reserve datagrams
 * when needed, counts the op, or counts it unanswered if even that fails.
 */
void reply_short(struct exec_ctx *c, uint16_t index, uint8_t opcode,
		uint8_t status, int (*add)(struct exec_ctx *, uint16_t,
			uint8_t, uint8_t));
/* Answer op with a bodiless status (overloaded gets retry-after 0). */
void reply_status(struct exec_ctx *c, const struct proto_op *op,
		uint8_t status);
/* The wire form of a tracker entry at time now (views into e). */
void entry_to_proto(const struct trk_entry *e, uint64_t now,
		struct proto_entry *p);

/* exec_page.c: REGISTERED and MEMBERS. */
void exec_page(struct exec_ctx *c, const struct proto_op *op);

#endif /* SWARM_EXEC_INTERNAL_H */
