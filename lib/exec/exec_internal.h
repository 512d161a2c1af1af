/*
 * exec_internal.h - state shared by the files of lib/exec while one request
 * datagram is executed. Not for use outside lib/exec; every name shared
 * between exec.c and exec_page.c starts with exec_.
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
	/*
	 * The byte budget (budget.reply_bytes_max 0: none; set to 0 once a
	 * cursor verified the source). credit: the reply bytes the request
	 * bytes answered here so far allow (the header's and those of the
	 * ops up to the current one, skipped ops left out); spent: bytes of
	 * the closed reply datagrams; more_ops: ops follow the current one
	 * (a datagram header is then kept back for their short answers).
	 */
	struct exec_budget budget;
	size_t req_len;
	size_t credit_bytes;
	size_t credit;
	size_t spent;
	bool more_ops;
	uint32_t retry_ms;		/* hint of the refusal being answered */
	const struct exec_op *cur;	/* the op being run: its hashes */
};

/* The tracker keys of the op being run, with the hashes exec_op carries. */
static inline struct trk_key
exec_name_key(const struct exec_ctx *c)
{
	return trk_key_hashed(c->cur->op.name.ptr, c->cur->op.name.len,
			c->cur->hash);
}

static inline struct trk_key
exec_group_key(const struct exec_ctx *c)
{
	return trk_key_hashed(c->cur->op.group.ptr, c->cur->op.group.len,
			c->cur->group_hash);
}

/* Start out->dgram[out->n] as the current reply datagram. */
void exec_reply_open(struct exec_ctx *c);
/* Finish the current reply datagram (kept only when it holds an op). */
void exec_reply_close(struct exec_ctx *c);
/*
 * Bytes a full answer may take now in the current datagram, and in a fresh
 * one: what the datagram holds, the datagram budget (the reserve is for
 * short answers) and the byte budget allow. 0: none.
 */
size_t exec_room_here(const struct exec_ctx *c);
size_t exec_room_next(const struct exec_ctx *c);
/*
 * Hides all but room bytes of the current datagram from the encoder, so
 * that adds stop at room; returns what exec_room_end() gives back.
 */
size_t exec_room_begin(struct exec_ctx *c, size_t room);
void exec_room_end(struct exec_ctx *c, size_t hidden);
/* True while a byte budget applies. */
bool exec_budgeted(const struct exec_ctx *c);
/* Count one answered op with its status. */
void exec_reply_count(struct exec_ctx *c, uint8_t status);
/*
 * Answer with a short reply op made by add(); uses the reserve datagrams
 * when needed, counts the op, or counts it unanswered if even that fails.
 */
void exec_reply_short(struct exec_ctx *c, uint16_t index, uint8_t opcode,
		uint8_t status, int (*add)(struct exec_ctx *, uint16_t,
			uint8_t, uint8_t));
/* Answer op with a bodiless status (overloaded gets retry-after 0). */
void exec_reply_status(struct exec_ctx *c, const struct proto_op *op,
		uint8_t status);
/* The wire form of a tracker entry at time now (views into e). */
void exec_entry_to_proto(const struct trk_entry *e, uint64_t now,
		struct proto_entry *p);

/* exec_page.c: REGISTERED and MEMBERS. */
void exec_page(struct exec_ctx *c, const struct proto_op *op);

#endif /* SWARM_EXEC_INTERNAL_H */
