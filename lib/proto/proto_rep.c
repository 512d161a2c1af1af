/*
 * proto_rep.c - reply datagram encoder and decoder.
 *
 * The body of every reply op is chosen by proto_rep_body_kind(); encoder
 * and decoder both switch on that kind, which keeps them symmetric. The
 * decoder insists that a body holds exactly its fields (no bytes left
 * over), as the request decoder does.
 */
#include <string.h>

#include "proto_rep.h"

#define NODE_FIXED_LEN		24u

enum proto_body_kind
proto_rep_body_kind(uint8_t opcode, uint8_t status)
{
	switch (status) {
	case PROTO_ST_OK:
		break;
	case PROTO_ST_NOT_FOUND:
	case PROTO_ST_UNSUPPORTED:
	case PROTO_ST_NO_NODE_AVAILABLE:
	case PROTO_ST_INTERNAL:
		return PROTO_BODY_EMPTY;
	case PROTO_ST_ALREADY_REGISTERED:
	case PROTO_ST_HANDLE_MISMATCH:
		return PROTO_BODY_ENTRY;
	case PROTO_ST_BAD_REQUEST:
		return PROTO_BODY_FIELD;
	case PROTO_ST_BAD_VERSION:
		return PROTO_BODY_VERSIONS;
	case PROTO_ST_TOO_LARGE:
		return PROTO_BODY_LIMIT;
	case PROTO_ST_OVERLOADED:
	case PROTO_ST_NOT_READY:
		return PROTO_BODY_RETRY;
	default:
		return PROTO_BODY_RAW;
	}
	switch (opcode) {
	case PROTO_OP_REGISTER:
		return PROTO_BODY_RECEIPT;
	case PROTO_OP_UNREGISTER:
	case PROTO_OP_JOIN:
	case PROTO_OP_LEAVE:
		return PROTO_BODY_EMPTY;
	case PROTO_OP_WHEREIS:
		return PROTO_BODY_ENTRY;
	case PROTO_OP_WHEREIS_OR_REGISTER:
		return PROTO_BODY_WOR;
	case PROTO_OP_REGISTERED:
	case PROTO_OP_MEMBERS:
		return PROTO_BODY_PAGE;
	case PROTO_OP_STATUS:
		return PROTO_BODY_NODE;
	case PROTO_OP_STATS:
		return PROTO_BODY_STATS;
	case PROTO_OP_READINESS:
		return PROTO_BODY_READINESS;
	default:
		return PROTO_BODY_RAW;
	}
}

int
proto_rep_parse(struct proto_rep *rep, const void *buf, size_t len)
{
	struct proto_dgram d;
	int rc;

	rc = proto_dgram_open(&d, buf, len, true, PROTO_REP_HDR_LEN, 4);
	memset(rep, 0, sizeof(*rep));
	rep->req_id = d.req_id;
	rep->bad_field = d.bad_field;
	if (rc != PROTO_OK)
		return rc;
	rep->nops = d.nops;
	rep->rd = d.ops;
	return PROTO_OK;
}

/* Walks count entries to find where they end; validates each one. */
static bool
decode_page_items(struct proto_rd *r, struct proto_page *pg, uint8_t *field)
{
	const uint8_t *start = r->p;
	struct proto_entry e;
	uint16_t i;

	for (i = 0; i < pg->count; i++)
		if (!proto_entry_decode(r, &e, field))
			return false;
	pg->items.ptr = start;
	pg->items.len = (uint16_t)(r->p - start);
	return true;
}

static bool
decode_page(struct proto_rd *r, struct proto_page *pg, uint8_t *field)
{
	*field = PROTO_F_BODY;
	if (!proto_rd_u16(r, &pg->count) ||
			!decode_page_items(r, pg, field))
		return false;
	*field = PROTO_F_BODY;
	if (!proto_rd_u8(r, &pg->flags) || (pg->flags & ~PROTO_PAGE_END))
		return false;
	*field = PROTO_F_CURSOR;
	return proto_rd_str8(r, 0, PROTO_CURSOR_MAX, &pg->cursor);
}

static bool
decode_node(struct proto_rd *r, struct proto_node_status *ns, uint8_t *field)
{
	*field = PROTO_F_BODY;
	if (!proto_rd_u8(r, &ns->version_min) ||
			!proto_rd_u8(r, &ns->version_max) ||
			ns->version_min > ns->version_max ||
			!proto_rd_u32(r, &ns->node) ||
			!proto_rd_u16(r, &ns->partitions) ||
			ns->partitions == 0 ||
			!proto_rd_u64(r, &ns->entries) ||
			!proto_rd_u64(r, &ns->uptime_ms))
		return false;
	*field = PROTO_F_NAME;
	return proto_rd_str8(r, 1, PROTO_NODE_NAME_MAX, &ns->name);
}

static bool
readiness_ok(const struct proto_readiness *rd)
{
	return rd->state <= PROTO_READY_STATE_MAX && rd->partitions >= 1 &&
		rd->synced <= rd->partitions && rd->alive >= 1;
}

static bool
decode_readiness(struct proto_rd *r, struct proto_readiness *rd)
{
	return proto_rd_u8(r, &rd->state) && proto_rd_u16(r, &rd->partitions) &&
		proto_rd_u16(r, &rd->synced) && proto_rd_u16(r, &rd->alive) &&
		proto_rd_u16(r, &rd->owners) &&
		proto_rd_u32(r, &rd->retry_after_ms) && readiness_ok(rd);
}

static bool
decode_receipt(struct proto_rd *r, struct proto_receipt *rc)
{
	return proto_rd_u32(r, &rc->node) && proto_rd_u64(r, &rc->ver.clock) &&
		proto_rd_u32(r, &rc->ver.node);
}

static bool
decode_body(struct proto_rd *r, struct proto_reply *rp, uint8_t *field)
{
	*field = PROTO_F_BODY;
	switch (proto_rep_body_kind(rp->opcode, rp->status)) {
	case PROTO_BODY_EMPTY:
		return true;
	case PROTO_BODY_RECEIPT:
		return decode_receipt(r, &rp->u.receipt);
	case PROTO_BODY_WOR:
		if (!proto_rd_u8(r, &rp->outcome) ||
				rp->outcome > PROTO_WOR_REGISTERED)
			return false;
		/* fall through */
	case PROTO_BODY_ENTRY:
		return proto_entry_decode(r, &rp->u.entry, field);
	case PROTO_BODY_PAGE:
		return decode_page(r, &rp->u.page, field);
	case PROTO_BODY_NODE:
		return decode_node(r, &rp->u.node, field);
	case PROTO_BODY_STATS:
		return proto_stats_decode(r, &rp->u.stats, field);
	case PROTO_BODY_READINESS:
		return decode_readiness(r, &rp->u.ready);
	case PROTO_BODY_FIELD:
		return proto_rd_u8(r, &rp->u.field);
	case PROTO_BODY_VERSIONS:
		return proto_rd_u8(r, &rp->u.versions.min) &&
			proto_rd_u8(r, &rp->u.versions.max) &&
			rp->u.versions.min <= rp->u.versions.max;
	case PROTO_BODY_LIMIT:
		return proto_rd_u16(r, &rp->u.limit);
	case PROTO_BODY_RETRY:
		return proto_rd_u32(r, &rp->u.retry_after_ms);
	case PROTO_BODY_RAW:
	default:
		r->p += r->left;
		r->left = 0;
		return true;
	}
}

int
proto_rep_next(struct proto_rep *rep, struct proto_reply *r)
{
	struct proto_rd body;
	uint16_t blen;

	if (rep->next >= rep->nops)
		return PROTO_END;
	memset(r, 0, sizeof(*r));
	rep->next++;
	if (!proto_rd_u16(&rep->rd, &r->index) ||
			!proto_rd_u8(&rep->rd, &r->opcode) ||
			!proto_rd_u8(&rep->rd, &r->status) ||
			!proto_rd_u16(&rep->rd, &blen) ||
			!proto_rd_bytes(&rep->rd, blen, &r->body)) {
		rep->nops = rep->next;	/* framing was checked; never here */
		r->bad_field = PROTO_F_OP_LENGTH;
		return PROTO_EMALFORMED;
	}
	proto_rd_init(&body, r->body.ptr, r->body.len);
	if (!decode_body(&body, r, &r->bad_field))
		return PROTO_EMALFORMED;
	if (body.left != 0) {
		r->bad_field = PROTO_F_OP_LENGTH;
		return PROTO_EMALFORMED;
	}
	r->bad_field = PROTO_F_NONE;
	return PROTO_OK;
}

void
proto_page_iter_init(struct proto_page_iter *it, const struct proto_page *page)
{
	proto_rd_init(&it->rd, page->items.ptr, page->items.len);
	it->left = page->count;
}

int
proto_page_next(struct proto_page_iter *it, struct proto_entry *e)
{
	uint8_t field;

	if (it->left == 0)
		return PROTO_END;
	if (!proto_entry_decode(&it->rd, e, &field)) {
		it->left = 0;
		return PROTO_EMALFORMED;
	}
	it->left--;
	return PROTO_OK;
}

int
proto_rep_init(struct proto_enc *e, void *buf, size_t cap, uint64_t req_id)
{
	return proto_enc_start(e, buf, cap, PROTO_FLAG_REPLY, req_id);
}

/*
 * Reserves a reply op with a body of blen bytes and writes its header; the
 * caller writes exactly blen body bytes next. Returns ENOSPC or 0.
 */
static int
op_begin(struct proto_enc *e, uint16_t index, uint8_t opcode, uint8_t status,
		size_t blen)
{
	if (e->buf == NULL || blen > UINT16_MAX)
		return PROTO_EINVAL;
	if (!proto_wr_room(&e->w, PROTO_REP_HDR_LEN + blen))
		return PROTO_ENOSPC;
	proto_wr_u16(&e->w, index);
	proto_wr_u8(&e->w, opcode);
	proto_wr_u8(&e->w, status);
	proto_wr_u16(&e->w, (uint16_t)blen);
	e->nops++;
	return PROTO_OK;
}

int
proto_rep_add_empty(struct proto_enc *e, uint16_t index, uint8_t opcode,
		uint8_t status)
{
	if (proto_rep_body_kind(opcode, status) != PROTO_BODY_EMPTY)
		return PROTO_EINVAL;
	return op_begin(e, index, opcode, status, 0);
}

int
proto_rep_add_receipt(struct proto_enc *e, uint16_t index,
		const struct proto_receipt *rc)
{
	int ret = op_begin(e, index, PROTO_OP_REGISTER, PROTO_ST_OK,
			PROTO_RECEIPT_LEN);

	if (ret != PROTO_OK)
		return ret;
	proto_wr_u32(&e->w, rc->node);
	proto_wr_u64(&e->w, rc->ver.clock);
	proto_wr_u32(&e->w, rc->ver.node);
	return PROTO_OK;
}

int
proto_rep_add_entry(struct proto_enc *e, uint16_t index, uint8_t opcode,
		uint8_t status, const struct proto_entry *ent)
{
	size_t len = proto_entry_len(ent);
	int ret;

	if (len == 0 ||
			proto_rep_body_kind(opcode, status) != PROTO_BODY_ENTRY)
		return PROTO_EINVAL;
	ret = op_begin(e, index, opcode, status, len);
	if (ret == PROTO_OK)
		proto_entry_encode(&e->w, ent);
	return ret;
}

int
proto_rep_add_wor(struct proto_enc *e, uint16_t index, uint8_t outcome,
		const struct proto_entry *ent)
{
	size_t len = proto_entry_len(ent);
	int ret;

	if (len == 0 || outcome > PROTO_WOR_REGISTERED)
		return PROTO_EINVAL;
	ret = op_begin(e, index, PROTO_OP_WHEREIS_OR_REGISTER, PROTO_ST_OK,
			1 + len);
	if (ret != PROTO_OK)
		return ret;
	proto_wr_u8(&e->w, outcome);
	proto_entry_encode(&e->w, ent);
	return PROTO_OK;
}

int
proto_rep_add_node_status(struct proto_enc *e, uint16_t index,
		const struct proto_node_status *ns)
{
	int ret;

	if (ns->partitions == 0 || ns->version_min > ns->version_max ||
			ns->name.len < 1 || ns->name.len > PROTO_NODE_NAME_MAX ||
			ns->name.ptr == NULL)
		return PROTO_EINVAL;
	ret = op_begin(e, index, PROTO_OP_STATUS, PROTO_ST_OK,
			NODE_FIXED_LEN + 1 + ns->name.len);
	if (ret != PROTO_OK)
		return ret;
	proto_wr_u8(&e->w, ns->version_min);
	proto_wr_u8(&e->w, ns->version_max);
	proto_wr_u32(&e->w, ns->node);
	proto_wr_u16(&e->w, ns->partitions);
	proto_wr_u64(&e->w, ns->entries);
	proto_wr_u64(&e->w, ns->uptime_ms);
	proto_wr_str8(&e->w, ns->name);
	return PROTO_OK;
}

int
proto_rep_add_bad_request(struct proto_enc *e, uint16_t index,
		uint8_t opcode, uint8_t field)
{
	int ret = op_begin(e, index, opcode, PROTO_ST_BAD_REQUEST, 1);

	if (ret == PROTO_OK)
		proto_wr_u8(&e->w, field);
	return ret;
}

int
proto_rep_add_retry(struct proto_enc *e, uint16_t index, uint8_t opcode,
		uint8_t status, uint32_t retry_after_ms)
{
	int ret;

	if (status != PROTO_ST_OVERLOADED && status != PROTO_ST_NOT_READY)
		return PROTO_EINVAL;
	ret = op_begin(e, index, opcode, status, 4);
	if (ret == PROTO_OK)
		proto_wr_u32(&e->w, retry_after_ms);
	return ret;
}

int
proto_rep_add_overloaded(struct proto_enc *e, uint16_t index, uint8_t opcode,
		uint32_t retry_after_ms)
{
	return proto_rep_add_retry(e, index, opcode, PROTO_ST_OVERLOADED,
			retry_after_ms);
}

int
proto_rep_add_readiness(struct proto_enc *e, uint16_t index,
		const struct proto_readiness *rd)
{
	int ret;

	if (!readiness_ok(rd))
		return PROTO_EINVAL;
	ret = op_begin(e, index, PROTO_OP_READINESS, PROTO_ST_OK, 13);
	if (ret != PROTO_OK)
		return ret;
	proto_wr_u8(&e->w, rd->state);
	proto_wr_u16(&e->w, rd->partitions);
	proto_wr_u16(&e->w, rd->synced);
	proto_wr_u16(&e->w, rd->alive);
	proto_wr_u16(&e->w, rd->owners);
	proto_wr_u32(&e->w, rd->retry_after_ms);
	return PROTO_OK;
}

static int
add_versions(struct proto_enc *e, uint16_t index, uint8_t opcode,
		uint8_t min, uint8_t max)
{
	int ret;

	if (min > max)
		return PROTO_EINVAL;
	ret = op_begin(e, index, opcode, PROTO_ST_BAD_VERSION, 2);
	if (ret == PROTO_OK) {
		proto_wr_u8(&e->w, min);
		proto_wr_u8(&e->w, max);
	}
	return ret;
}

int
proto_rep_add_bad_version(struct proto_enc *e)
{
	return add_versions(e, PROTO_INDEX_DGRAM, 0, PROTO_VERSION_MIN,
			PROTO_VERSION_MAX);
}

static int
add_limit(struct proto_enc *e, uint16_t index, uint8_t opcode, uint16_t limit)
{
	int ret = op_begin(e, index, opcode, PROTO_ST_TOO_LARGE, 2);

	if (ret == PROTO_OK)
		proto_wr_u16(&e->w, limit);
	return ret;
}

int
proto_rep_add_too_large(struct proto_enc *e)
{
	return add_limit(e, PROTO_INDEX_DGRAM, 0, PROTO_MAX_DGRAM);
}

int
proto_rep_add_error(struct proto_enc *e, uint16_t index, uint8_t opcode,
		int err, uint8_t field)
{
	switch (err) {
	case PROTO_EMALFORMED:
		return proto_rep_add_bad_request(e, index, opcode, field);
	case PROTO_EUNSUPP:
		return op_begin(e, index, opcode, PROTO_ST_UNSUPPORTED, 0);
	case PROTO_EVERSION:
		return add_versions(e, index, opcode, PROTO_VERSION_MIN,
				PROTO_VERSION_MAX);
	case PROTO_ETOOLARGE:
		return add_limit(e, index, opcode, PROTO_MAX_DGRAM);
	default:
		return PROTO_EINVAL;
	}
}

/* Bodies without structure to rebuild: written back byte for byte. */
static int
copy_raw(struct proto_enc *e, const struct proto_reply *r)
{
	int ret;

	if (r->body.len && r->body.ptr == NULL)
		return PROTO_EINVAL;
	ret = op_begin(e, r->index, r->opcode, r->status, r->body.len);
	if (ret == PROTO_OK)
		proto_wr_bytes(&e->w, r->body.ptr, r->body.len);
	return ret;
}

int
proto_rep_add(struct proto_enc *e, const struct proto_reply *r)
{
	switch (proto_rep_body_kind(r->opcode, r->status)) {
	case PROTO_BODY_EMPTY:
		return proto_rep_add_empty(e, r->index, r->opcode, r->status);
	case PROTO_BODY_RECEIPT:
		return proto_rep_add_receipt(e, r->index, &r->u.receipt);
	case PROTO_BODY_ENTRY:
		return proto_rep_add_entry(e, r->index, r->opcode, r->status,
				&r->u.entry);
	case PROTO_BODY_WOR:
		return proto_rep_add_wor(e, r->index, r->outcome, &r->u.entry);
	case PROTO_BODY_PAGE:
		return proto_rep_add_page(e, r->index, r->opcode, &r->u.page);
	case PROTO_BODY_NODE:
		return proto_rep_add_node_status(e, r->index, &r->u.node);
	case PROTO_BODY_STATS:
		return proto_rep_add_stats_list(e, r->index, &r->u.stats);
	case PROTO_BODY_FIELD:
		return proto_rep_add_bad_request(e, r->index, r->opcode,
				r->u.field);
	case PROTO_BODY_RETRY:
		return proto_rep_add_retry(e, r->index, r->opcode, r->status,
				r->u.retry_after_ms);
	case PROTO_BODY_READINESS:
		return proto_rep_add_readiness(e, r->index, &r->u.ready);
	case PROTO_BODY_VERSIONS:
		return add_versions(e, r->index, r->opcode,
				r->u.versions.min, r->u.versions.max);
	case PROTO_BODY_LIMIT:
		return add_limit(e, r->index, r->opcode, r->u.limit);
	case PROTO_BODY_RAW:
	default:
		return copy_raw(e, r);
	}
}
