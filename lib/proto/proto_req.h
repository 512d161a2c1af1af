/*
 * proto_req.h - request datagrams: zero-copy decoder and encoder.
 *
 * Decoding is two-stage (docs/protocol.md section 8). proto_req_parse()
 * checks the header and walks the framing of the whole datagram; if that
 * fails nothing may be executed and the caller answers (or drops) the
 * datagram as a whole. Then proto_req_next_op() hands out one op at a
 * time. An op with a bad body or an unknown opcode is reported with its
 * index and the bad field, and iteration goes on with the next op: the
 * framing is already known to be sound.
 *
 * Decoded names, groups, metadata and cursors are views into the input
 * buffer: they stay valid as long as the buffer does and are never copied.
 *
 * The encoder builds a datagram op by op into a caller buffer of at most
 * PROTO_MAX_DGRAM bytes. An op that does not fit returns PROTO_ENOSPC and
 * leaves the buffer as it was, so the caller can finish the datagram, send
 * it and start a new one. A value the decoder would reject returns
 * PROTO_EINVAL instead of producing a datagram the node would refuse.
 *
 * No state is shared: every function works on the structs it is given.
 * Any thread; no RCU involvement.
 */
#ifndef SWARM_PROTO_REQ_H
#define SWARM_PROTO_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "proto_defs.h"
#include "proto_fields.h"

/* One decoded request op. Only the fields of its opcode are meaningful. */
struct proto_op {
	uint16_t index;			/* position in the datagram, from 0 */
	uint8_t opcode;			/* enum proto_opcode */
	uint8_t flags;			/* op flags (PROTO_OPF_*) */
	uint8_t bad_field;		/* enum proto_field, on EMALFORMED */
	struct proto_bytes body;	/* the raw body, for every op */
	struct proto_bytes name;	/* REGISTER, WOR, UNREGISTER, WHEREIS, JOIN, LEAVE */
	struct proto_bytes group;	/* JOIN, LEAVE, MEMBERS */
	struct proto_bytes meta;	/* REGISTER, WOR */
	struct proto_bytes cursor;	/* REGISTERED, MEMBERS */
	uint64_t handle;		/* REGISTER, WOR; UNREGISTER if EXPECT_HANDLE */
	uint32_t ttl_ms;		/* REGISTER, WOR */
	uint16_t max_count;		/* REGISTERED, MEMBERS */
	struct proto_endpoint ep;	/* REGISTER, WOR */
};

/* Decoder state over one request datagram (which must outlive it). */
struct proto_req {
	uint64_t req_id;
	uint16_t nops;
	uint16_t next;			/* index of the next op */
	uint8_t replicas;		/* 0..PROTO_REPLICAS_ALL (header flags) */
	uint8_t bad_field;		/* enum proto_field, on EMALFORMED */
	struct proto_rd rd;		/* ops not yet handed out */
};

/*
 * Checks header and framing. Returns 0, or:
 *   PROTO_ESHORT, PROTO_EMAGIC, PROTO_EKIND: drop silently;
 *   PROTO_EVERSION, PROTO_ETOOLARGE, PROTO_EMALFORMED (req->bad_field):
 *     answer with a datagram-level error under req->req_id.
 */
int proto_req_parse(struct proto_req *req, const void *buf, size_t len);

/*
 * Decodes the next op into *op. Returns 0 (op valid), PROTO_END (no more
 * ops), PROTO_EMALFORMED (op->bad_field says which field) or PROTO_EUNSUPP
 * (unknown opcode; op->body holds its bytes). After either error the next
 * call continues with the following op. op->index and op->opcode are set
 * in every case but PROTO_END.
 */
int proto_req_next_op(struct proto_req *req, struct proto_op *op);

/*
 * Starts a request datagram in buf. cap above PROTO_MAX_DGRAM is clamped to
 * it. Returns 0, or PROTO_ENOSPC when cap cannot hold the header.
 */
int proto_req_init(struct proto_enc *e, void *buf, size_t cap,
		uint64_t req_id);

/*
 * Ask that the request's writes be answered only once `replicas` other
 * live nodes (0..2, or PROTO_REPLICAS_ALL for all) have applied them.
 * Call after proto_req_init(); 0 or PROTO_EINVAL.
 */
int proto_req_set_replicas(struct proto_enc *e, unsigned int replicas);

/*
 * Appends an op built from a decoded-op struct (fields of op->opcode, and
 * op->flags). Unknown opcodes are written from op->body unchanged. Returns
 * 0, PROTO_ENOSPC (does not fit; nothing written) or PROTO_EINVAL.
 */
int proto_req_add(struct proto_enc *e, const struct proto_op *op);

/* Typed shorthands for proto_req_add(); same return values. */
int proto_req_add_register(struct proto_enc *e, const void *name,
		size_t name_len, uint64_t handle, const struct proto_endpoint *ep,
		const void *meta, size_t meta_len, uint32_t ttl_ms);
int proto_req_add_whereis_or_register(struct proto_enc *e, const void *name,
		size_t name_len, uint64_t handle, const struct proto_endpoint *ep,
		const void *meta, size_t meta_len, uint32_t ttl_ms);
/* expect_handle NULL: unconditional (unsafe to retry, see the spec). */
int proto_req_add_unregister(struct proto_enc *e, const void *name,
		size_t name_len, const uint64_t *expect_handle);
int proto_req_add_whereis(struct proto_enc *e, const void *name,
		size_t name_len);
int proto_req_add_join(struct proto_enc *e, const void *group,
		size_t group_len, const void *name, size_t name_len);
int proto_req_add_leave(struct proto_enc *e, const void *group,
		size_t group_len, const void *name, size_t name_len);
int proto_req_add_members(struct proto_enc *e, const void *group,
		size_t group_len, const void *cursor, size_t cursor_len,
		uint16_t max_count);
int proto_req_add_registered(struct proto_enc *e, const void *cursor,
		size_t cursor_len, uint16_t max_count);
int proto_req_add_status(struct proto_enc *e);
int proto_req_add_readiness(struct proto_enc *e);
int proto_req_add_stats(struct proto_enc *e);
/* Any opcode with a raw body (probing, forward compatibility, tests). */
int proto_req_add_raw(struct proto_enc *e, uint8_t opcode, uint8_t flags,
		const void *body, size_t body_len);

#endif /* SWARM_PROTO_REQ_H */
