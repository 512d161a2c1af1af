/*
 * proto_req.c - request datagram decoder and encoder.
 *
 * Each known opcode has a body layout (docs/protocol.md section 4.3). The
 * decoder reads it field by field in wire order and names the first field
 * that cannot be read or is out of range; a body with bytes left over is
 * blamed on the op length. The encoder computes the body length first
 * (validating every value the same way), checks the room once and then
 * writes, so a refused op leaves the buffer untouched.
 */
#include <string.h>

#include "proto_req.h"

/* Op flag bits each opcode defines; the others are reserved (zero). */
static uint8_t
allowed_flags(uint8_t opcode)
{
	return opcode == PROTO_OP_UNREGISTER ? PROTO_OPF_EXPECT_HANDLE : 0;
}

static bool
opcode_known(uint8_t opcode)
{
	switch (opcode) {
	case PROTO_OP_REGISTER:
	case PROTO_OP_UNREGISTER:
	case PROTO_OP_WHEREIS:
	case PROTO_OP_WHEREIS_OR_REGISTER:
	case PROTO_OP_REGISTERED:
	case PROTO_OP_JOIN:
	case PROTO_OP_LEAVE:
	case PROTO_OP_MEMBERS:
	case PROTO_OP_STATUS:
	case PROTO_OP_STATS:
	case PROTO_OP_READINESS:
		return true;
	default:
		return false;
	}
}

int
proto_req_parse(struct proto_req *req, const void *buf, size_t len)
{
	struct proto_dgram d;
	int rc;

	rc = proto_dgram_open(&d, buf, len, false, PROTO_OP_HDR_LEN, 2);
	memset(req, 0, sizeof(*req));
	req->req_id = d.req_id;
	req->bad_field = d.bad_field;
	if (rc != PROTO_OK)
		return rc;	/* nops stays 0: next_op has nothing to give */
	req->nops = d.nops;
	req->rd = d.ops;
	req->replicas = (d.flags & PROTO_FLAG_REPLICAS) >>
		PROTO_FLAG_REPLICAS_SHIFT;
	return PROTO_OK;
}

/* Sets the field to blame and returns false, for one-line checks. */
static bool
bad(struct proto_op *op, uint8_t field)
{
	op->bad_field = field;
	return false;
}

static bool
rd_name(struct proto_rd *r, struct proto_op *op)
{
	return proto_rd_str8(r, 1, PROTO_NAME_MAX, &op->name) ||
		bad(op, PROTO_F_NAME);
}

static bool
rd_group(struct proto_rd *r, struct proto_op *op)
{
	return proto_rd_str8(r, 1, PROTO_GROUP_MAX, &op->group) ||
		bad(op, PROTO_F_GROUP);
}

static bool
rd_cursor(struct proto_rd *r, struct proto_op *op)
{
	return proto_rd_str8(r, 0, PROTO_CURSOR_MAX, &op->cursor) ||
		bad(op, PROTO_F_CURSOR);
}

static bool
rd_max_count(struct proto_rd *r, struct proto_op *op)
{
	return proto_rd_u16(r, &op->max_count) || bad(op, PROTO_F_MAX_COUNT);
}

static bool
rd_handle(struct proto_rd *r, struct proto_op *op)
{
	return proto_rd_u64(r, &op->handle) || bad(op, PROTO_F_HANDLE);
}

/* REGISTER and WHEREIS_OR_REGISTER share one body. */
static bool
decode_register(struct proto_rd *r, struct proto_op *op)
{
	return rd_handle(r, op) &&
		(proto_rd_u32(r, &op->ttl_ms) || bad(op, PROTO_F_TTL)) &&
		(proto_endpoint_decode(r, &op->ep) ||
			bad(op, PROTO_F_ENDPOINT)) &&
		rd_name(r, op) &&
		(proto_rd_str8(r, 0, PROTO_META_MAX, &op->meta) ||
			bad(op, PROTO_F_METADATA));
}

static bool
decode_body(struct proto_rd *r, struct proto_op *op)
{
	switch (op->opcode) {
	case PROTO_OP_REGISTER:
	case PROTO_OP_WHEREIS_OR_REGISTER:
		return decode_register(r, op);
	case PROTO_OP_UNREGISTER:
		return rd_name(r, op) &&
			(!(op->flags & PROTO_OPF_EXPECT_HANDLE) ||
			 rd_handle(r, op));
	case PROTO_OP_WHEREIS:
		return rd_name(r, op);
	case PROTO_OP_JOIN:
	case PROTO_OP_LEAVE:
		return rd_group(r, op) && rd_name(r, op);
	case PROTO_OP_MEMBERS:
		return rd_max_count(r, op) && rd_group(r, op) &&
			rd_cursor(r, op);
	case PROTO_OP_REGISTERED:
		return rd_max_count(r, op) && rd_cursor(r, op);
	case PROTO_OP_STATUS:
	case PROTO_OP_STATS:
	case PROTO_OP_READINESS:
	default:
		return true;
	}
}

int
proto_req_next_op(struct proto_req *req, struct proto_op *op)
{
	struct proto_rd body;
	uint16_t blen;

	if (req->next >= req->nops)
		return PROTO_END;
	memset(op, 0, sizeof(*op));
	op->index = req->next++;
	/* The framing walk proved these reads fit; checked again anyway. */
	if (!proto_rd_u8(&req->rd, &op->opcode) ||
			!proto_rd_u8(&req->rd, &op->flags) ||
			!proto_rd_u16(&req->rd, &blen) ||
			!proto_rd_bytes(&req->rd, blen, &op->body)) {
		req->nops = req->next;	/* nothing sane follows */
		op->bad_field = PROTO_F_OP_LENGTH;
		return PROTO_EMALFORMED;
	}
	if (!opcode_known(op->opcode))
		return PROTO_EUNSUPP;
	if (op->flags & ~allowed_flags(op->opcode)) {
		op->bad_field = PROTO_F_OP_FLAGS;
		return PROTO_EMALFORMED;
	}
	proto_rd_init(&body, op->body.ptr, op->body.len);
	if (!decode_body(&body, op))
		return PROTO_EMALFORMED;
	if (body.left != 0) {
		op->bad_field = PROTO_F_OP_LENGTH;
		return PROTO_EMALFORMED;
	}
	return PROTO_OK;
}

int
proto_req_init(struct proto_enc *e, void *buf, size_t cap, uint64_t req_id)
{
	return proto_enc_start(e, buf, cap, 0, req_id);
}

int
proto_req_set_replicas(struct proto_enc *e, unsigned int replicas)
{
	if (replicas > PROTO_REPLICAS_ALL || e->buf == NULL)
		return PROTO_EINVAL;
	e->buf[3] = (uint8_t)((e->buf[3] & ~PROTO_FLAG_REPLICAS) |
			replicas << PROTO_FLAG_REPLICAS_SHIFT);
	return PROTO_OK;
}

static bool
str_ok(struct proto_bytes b, unsigned int min, unsigned int max)
{
	return b.len >= min && b.len <= max && (b.len == 0 || b.ptr != NULL);
}

/* Body length of a known op, or -1 when a value is out of range. */
static long
body_len(const struct proto_op *op)
{
	size_t eplen;

	switch (op->opcode) {
	case PROTO_OP_REGISTER:
	case PROTO_OP_WHEREIS_OR_REGISTER:
		eplen = proto_endpoint_len(&op->ep);
		if (eplen == 0 || !str_ok(op->name, 1, PROTO_NAME_MAX) ||
				!str_ok(op->meta, 0, PROTO_META_MAX))
			return -1;
		return (long)(12 + eplen + 1 + op->name.len + 1 + op->meta.len);
	case PROTO_OP_UNREGISTER:
		if (!str_ok(op->name, 1, PROTO_NAME_MAX))
			return -1;
		return 1 + op->name.len +
			(op->flags & PROTO_OPF_EXPECT_HANDLE ? 8 : 0);
	case PROTO_OP_WHEREIS:
		return str_ok(op->name, 1, PROTO_NAME_MAX) ?
			1 + op->name.len : -1;
	case PROTO_OP_JOIN:
	case PROTO_OP_LEAVE:
		if (!str_ok(op->group, 1, PROTO_GROUP_MAX) ||
				!str_ok(op->name, 1, PROTO_NAME_MAX))
			return -1;
		return 1 + op->group.len + 1 + op->name.len;
	case PROTO_OP_MEMBERS:
		if (!str_ok(op->group, 1, PROTO_GROUP_MAX) ||
				!str_ok(op->cursor, 0, PROTO_CURSOR_MAX))
			return -1;
		return 2 + 1 + op->group.len + 1 + op->cursor.len;
	case PROTO_OP_REGISTERED:
		return str_ok(op->cursor, 0, PROTO_CURSOR_MAX) ?
			2 + 1 + op->cursor.len : -1;
	case PROTO_OP_STATUS:
	case PROTO_OP_STATS:
	case PROTO_OP_READINESS:
		return 0;
	default:
		return str_ok(op->body, 0, UINT16_MAX) ? op->body.len : -1;
	}
}

static void
body_encode(struct proto_wr *w, const struct proto_op *op)
{
	switch (op->opcode) {
	case PROTO_OP_REGISTER:
	case PROTO_OP_WHEREIS_OR_REGISTER:
		proto_wr_u64(w, op->handle);
		proto_wr_u32(w, op->ttl_ms);
		proto_endpoint_encode(w, &op->ep);
		proto_wr_str8(w, op->name);
		proto_wr_str8(w, op->meta);
		break;
	case PROTO_OP_UNREGISTER:
		proto_wr_str8(w, op->name);
		if (op->flags & PROTO_OPF_EXPECT_HANDLE)
			proto_wr_u64(w, op->handle);
		break;
	case PROTO_OP_WHEREIS:
		proto_wr_str8(w, op->name);
		break;
	case PROTO_OP_JOIN:
	case PROTO_OP_LEAVE:
		proto_wr_str8(w, op->group);
		proto_wr_str8(w, op->name);
		break;
	case PROTO_OP_MEMBERS:
		proto_wr_u16(w, op->max_count);
		proto_wr_str8(w, op->group);
		proto_wr_str8(w, op->cursor);
		break;
	case PROTO_OP_REGISTERED:
		proto_wr_u16(w, op->max_count);
		proto_wr_str8(w, op->cursor);
		break;
	case PROTO_OP_STATUS:
	case PROTO_OP_STATS:
	case PROTO_OP_READINESS:
		break;
	default:
		proto_wr_bytes(w, op->body.ptr, op->body.len);
		break;
	}
}

int
proto_req_add(struct proto_enc *e, const struct proto_op *op)
{
	long blen;

	if (e->buf == NULL)
		return PROTO_EINVAL;
	if (opcode_known(op->opcode) && (op->flags & ~allowed_flags(op->opcode)))
		return PROTO_EINVAL;
	blen = body_len(op);
	if (blen < 0)
		return PROTO_EINVAL;
	if (!proto_wr_room(&e->w, PROTO_OP_HDR_LEN + (size_t)blen))
		return PROTO_ENOSPC;
	proto_wr_u8(&e->w, op->opcode);
	proto_wr_u8(&e->w, op->flags);
	proto_wr_u16(&e->w, (uint16_t)blen);
	body_encode(&e->w, op);
	e->nops++;
	return PROTO_OK;
}

/* Makes a view of caller bytes, refusing lengths the view cannot hold. */
static bool
view(struct proto_bytes *b, const void *p, size_t len, size_t max)
{
	if (len > max || (len > 0 && p == NULL))
		return false;
	b->ptr = p;
	b->len = (uint16_t)len;
	return true;
}

static int
add_register_like(struct proto_enc *e, uint8_t opcode, const void *name,
		size_t name_len, uint64_t handle,
		const struct proto_endpoint *ep, const void *meta,
		size_t meta_len, uint32_t ttl_ms)
{
	struct proto_op op = { .opcode = opcode, .handle = handle,
		.ttl_ms = ttl_ms };

	if (ep == NULL || !view(&op.name, name, name_len, PROTO_NAME_MAX) ||
			!view(&op.meta, meta, meta_len, PROTO_META_MAX))
		return PROTO_EINVAL;
	op.ep = *ep;
	return proto_req_add(e, &op);
}

int
proto_req_add_register(struct proto_enc *e, const void *name,
		size_t name_len, uint64_t handle, const struct proto_endpoint *ep,
		const void *meta, size_t meta_len, uint32_t ttl_ms)
{
	return add_register_like(e, PROTO_OP_REGISTER, name, name_len, handle,
			ep, meta, meta_len, ttl_ms);
}

int
proto_req_add_whereis_or_register(struct proto_enc *e, const void *name,
		size_t name_len, uint64_t handle, const struct proto_endpoint *ep,
		const void *meta, size_t meta_len, uint32_t ttl_ms)
{
	return add_register_like(e, PROTO_OP_WHEREIS_OR_REGISTER, name,
			name_len, handle, ep, meta, meta_len, ttl_ms);
}

int
proto_req_add_unregister(struct proto_enc *e, const void *name,
		size_t name_len, const uint64_t *expect_handle)
{
	struct proto_op op = { .opcode = PROTO_OP_UNREGISTER };

	if (!view(&op.name, name, name_len, PROTO_NAME_MAX))
		return PROTO_EINVAL;
	if (expect_handle != NULL) {
		op.flags = PROTO_OPF_EXPECT_HANDLE;
		op.handle = *expect_handle;
	}
	return proto_req_add(e, &op);
}

int
proto_req_add_whereis(struct proto_enc *e, const void *name, size_t name_len)
{
	struct proto_op op = { .opcode = PROTO_OP_WHEREIS };

	if (!view(&op.name, name, name_len, PROTO_NAME_MAX))
		return PROTO_EINVAL;
	return proto_req_add(e, &op);
}

static int
add_group_op(struct proto_enc *e, uint8_t opcode, const void *group,
		size_t group_len, const void *name, size_t name_len)
{
	struct proto_op op = { .opcode = opcode };

	if (!view(&op.group, group, group_len, PROTO_GROUP_MAX) ||
			!view(&op.name, name, name_len, PROTO_NAME_MAX))
		return PROTO_EINVAL;
	return proto_req_add(e, &op);
}

int
proto_req_add_join(struct proto_enc *e, const void *group, size_t group_len,
		const void *name, size_t name_len)
{
	return add_group_op(e, PROTO_OP_JOIN, group, group_len, name,
			name_len);
}

int
proto_req_add_leave(struct proto_enc *e, const void *group, size_t group_len,
		const void *name, size_t name_len)
{
	return add_group_op(e, PROTO_OP_LEAVE, group, group_len, name,
			name_len);
}

int
proto_req_add_members(struct proto_enc *e, const void *group,
		size_t group_len, const void *cursor, size_t cursor_len,
		uint16_t max_count)
{
	struct proto_op op = { .opcode = PROTO_OP_MEMBERS,
		.max_count = max_count };

	if (!view(&op.group, group, group_len, PROTO_GROUP_MAX) ||
			!view(&op.cursor, cursor, cursor_len, PROTO_CURSOR_MAX))
		return PROTO_EINVAL;
	return proto_req_add(e, &op);
}

int
proto_req_add_registered(struct proto_enc *e, const void *cursor,
		size_t cursor_len, uint16_t max_count)
{
	struct proto_op op = { .opcode = PROTO_OP_REGISTERED,
		.max_count = max_count };

	if (!view(&op.cursor, cursor, cursor_len, PROTO_CURSOR_MAX))
		return PROTO_EINVAL;
	return proto_req_add(e, &op);
}

int
proto_req_add_status(struct proto_enc *e)
{
	struct proto_op op = { .opcode = PROTO_OP_STATUS };

	return proto_req_add(e, &op);
}

int
proto_req_add_readiness(struct proto_enc *e)
{
	struct proto_op op = { .opcode = PROTO_OP_READINESS };

	return proto_req_add(e, &op);
}

int
proto_req_add_stats(struct proto_enc *e)
{
	struct proto_op op = { .opcode = PROTO_OP_STATS };

	return proto_req_add(e, &op);
}

int
proto_req_add_raw(struct proto_enc *e, uint8_t opcode, uint8_t flags,
		const void *body, size_t body_len)
{
	struct proto_bytes b;

	if (e->buf == NULL || !view(&b, body, body_len, UINT16_MAX))
		return PROTO_EINVAL;
	if (!proto_wr_room(&e->w, PROTO_OP_HDR_LEN + body_len))
		return PROTO_ENOSPC;
	proto_wr_u8(&e->w, opcode);
	proto_wr_u8(&e->w, flags);
	proto_wr_u16(&e->w, (uint16_t)body_len);
	proto_wr_bytes(&e->w, body, body_len);
	e->nops++;
	return PROTO_OK;
}
