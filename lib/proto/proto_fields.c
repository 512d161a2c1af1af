/*
 * proto_fields.c - endpoint and entry codecs, header and framing checks.
 * See proto_fields.h for the contract and docs/protocol.md for the format.
 */
#include <string.h>

#include "proto_fields.h"

static size_t
addr_len(uint8_t family)
{
	switch (family) {
	case PROTO_AF_NONE:
		return 0;
	case PROTO_AF_IPV4:
		return 4;
	case PROTO_AF_IPV6:
		return 16;
	default:
		return SIZE_MAX;
	}
}

/* "None" has no port; a real address without a port is unreachable. */
static bool
port_fits_family(uint8_t family, uint16_t port)
{
	return (family == PROTO_AF_NONE) == (port == 0);
}

size_t
proto_endpoint_len(const struct proto_endpoint *ep)
{
	size_t alen = addr_len(ep->family);

	if (alen == SIZE_MAX || !port_fits_family(ep->family, ep->port))
		return 0;
	return 3 + alen;
}

bool
proto_endpoint_decode(struct proto_rd *r, struct proto_endpoint *ep)
{
	struct proto_bytes a;
	size_t alen;

	memset(ep, 0, sizeof(*ep));
	if (!proto_rd_u8(r, &ep->family) || !proto_rd_u16(r, &ep->port))
		return false;
	alen = addr_len(ep->family);
	if (alen == SIZE_MAX || !port_fits_family(ep->family, ep->port) ||
			!proto_rd_bytes(r, alen, &a))
		return false;
	if (alen)
		memcpy(ep->addr, a.ptr, alen);
	return true;
}

void
proto_endpoint_encode(struct proto_wr *w, const struct proto_endpoint *ep)
{
	proto_wr_u8(w, ep->family);
	proto_wr_u16(w, ep->port);
	proto_wr_bytes(w, ep->addr, addr_len(ep->family));
}

size_t
proto_entry_len(const struct proto_entry *e)
{
	size_t eplen = proto_endpoint_len(&e->ep);

	if (eplen == 0 || e->name.len < 1 || e->name.len > PROTO_NAME_MAX ||
			e->meta.len > PROTO_META_MAX)
		return 0;
	return PROTO_ENTRY_FIXED_LEN + eplen + 1 + e->name.len +
		1 + e->meta.len;
}

/* Reads the fixed-size head of an entry, in wire order. */
static bool
entry_decode_fixed(struct proto_rd *r, struct proto_entry *e, uint8_t *field)
{
	if (!proto_rd_u64(r, &e->handle)) {
		*field = PROTO_F_HANDLE;
		return false;
	}
	if (!proto_rd_u32(r, &e->node) || !proto_rd_u64(r, &e->ver.clock) ||
			!proto_rd_u32(r, &e->ver.node)) {
		*field = PROTO_F_BODY;
		return false;
	}
	if (!proto_rd_u32(r, &e->ttl_ms)) {
		*field = PROTO_F_TTL;
		return false;
	}
	return true;
}

bool
proto_entry_decode(struct proto_rd *r, struct proto_entry *e, uint8_t *field)
{
	if (!entry_decode_fixed(r, e, field))
		return false;
	if (!proto_endpoint_decode(r, &e->ep)) {
		*field = PROTO_F_ENDPOINT;
		return false;
	}
	if (!proto_rd_str8(r, 1, PROTO_NAME_MAX, &e->name)) {
		*field = PROTO_F_NAME;
		return false;
	}
	if (!proto_rd_str8(r, 0, PROTO_META_MAX, &e->meta)) {
		*field = PROTO_F_METADATA;
		return false;
	}
	return true;
}

void
proto_entry_encode(struct proto_wr *w, const struct proto_entry *e)
{
	proto_wr_u64(w, e->handle);
	proto_wr_u32(w, e->node);
	proto_wr_u64(w, e->ver.clock);
	proto_wr_u32(w, e->ver.node);
	proto_wr_u32(w, e->ttl_ms);
	proto_endpoint_encode(w, &e->ep);
	proto_wr_str8(w, e->name);
	proto_wr_str8(w, e->meta);
}

int
proto_enc_start(struct proto_enc *e, void *buf, size_t cap, uint8_t flags,
		uint64_t req_id)
{
	memset(e, 0, sizeof(*e));
	if (buf == NULL || cap < PROTO_HDR_LEN)
		return PROTO_ENOSPC;
	if (cap > PROTO_MAX_DGRAM)
		cap = PROTO_MAX_DGRAM;
	e->buf = buf;
	proto_wr_init(&e->w, buf, cap);
	proto_wr_u16(&e->w, PROTO_MAGIC);
	proto_wr_u8(&e->w, PROTO_VERSION);
	proto_wr_u8(&e->w, flags);
	proto_wr_u64(&e->w, req_id);
	proto_wr_u16(&e->w, 0);
	proto_wr_u16(&e->w, 0);
	return PROTO_OK;
}

size_t
proto_enc_finish(struct proto_enc *e)
{
	if (e->buf == NULL || e->nops == 0)
		return 0;
	proto_put_u16_at(e->buf + 12, e->nops);
	return (size_t)(e->w.p - e->buf);
}

static int
malformed(struct proto_dgram *d, uint8_t field)
{
	d->bad_field = field;
	return PROTO_EMALFORMED;
}

/*
 * Walks the op headers without decoding bodies. Only lengths are read, each
 * checked against the bytes left before the walk moves past it.
 */
static int
walk_ops(struct proto_dgram *d, size_t op_hdr_len, size_t len_off)
{
	struct proto_rd r = d->ops;
	struct proto_bytes skip;
	uint16_t i, blen;

	for (i = 0; i < d->nops; i++) {
		if (r.left == 0)
			return malformed(d, PROTO_F_OP_COUNT);
		if (r.left < op_hdr_len)
			return malformed(d, PROTO_F_OP_LENGTH);
		blen = (uint16_t)((unsigned int)r.p[len_off] << 8 |
				r.p[len_off + 1]);
		if (r.left - op_hdr_len < blen)
			return malformed(d, PROTO_F_OP_LENGTH);
		proto_rd_bytes(&r, op_hdr_len + blen, &skip);
	}
	if (r.left != 0)
		return malformed(d, PROTO_F_TRAILING);
	return PROTO_OK;
}

int
proto_dgram_open(struct proto_dgram *d, const void *buf, size_t len,
		bool want_reply, size_t op_hdr_len, size_t len_off)
{
	struct proto_rd r;
	uint16_t magic, reserved;
	uint8_t flags;

	memset(d, 0, sizeof(*d));
	if (buf == NULL || len < PROTO_HDR_LEN)
		return PROTO_ESHORT;
	proto_rd_init(&r, buf, len);
	proto_rd_u16(&r, &magic);
	proto_rd_u8(&r, &d->version);
	proto_rd_u8(&r, &flags);
	proto_rd_u64(&r, &d->req_id);
	proto_rd_u16(&r, &d->nops);
	proto_rd_u16(&r, &reserved);
	d->ops = r;
	if (magic != PROTO_MAGIC)
		return PROTO_EMAGIC;
	if (!!(flags & PROTO_FLAG_REPLY) != want_reply)
		return PROTO_EKIND;
	if (d->version != PROTO_VERSION)
		return PROTO_EVERSION;
	if (len > PROTO_MAX_DGRAM)
		return PROTO_ETOOLARGE;
	d->flags = flags;
	if (flags & ~(PROTO_FLAG_REPLY | (want_reply ? 0 : PROTO_FLAG_REPLICAS)))
		return malformed(d, PROTO_F_FLAGS);
	if (reserved != 0)
		return malformed(d, PROTO_F_RESERVED);
	if (d->nops == 0)
		return malformed(d, PROTO_F_OP_COUNT);
	return walk_ops(d, op_hdr_len, len_off);
}
