/*
 * clu_wire.c - envelope header and change records (docs/cluster.md).
 *
 *  header: u16 magic 0x5343, u8 version 5, u8 type, u8 key id, u8 flags,
 *          u16 partition, u16 nparts, u16 0, u32 sender id, u64 epoch,
 *          u64 destination epoch, u64 sequence
 *  record: u8 kind, u8 flags, u8 name_len, u8 meta_len, u8 group_len,
 *          u8 family, u16 port, u64 handle, u64 clock, u32 version node,
 *          u32 owner, address (4 bytes for IPv4, 16 for IPv6, none for
 *          none), name, meta, group
 */
#include <string.h>

#include "clu_wire.h"
#include "ring_hash.h"

void
clu_wr_init(struct clu_wr *w, uint8_t *buf, size_t cap)
{
	w->p = buf;
	w->cap = cap;
	w->len = 0;
	w->bad = false;
}

void
clu_put(struct clu_wr *w, const void *src, size_t n)
{
	if (w->bad || w->cap - w->len < n) {
		w->bad = true;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

void
clu_put_be(struct clu_wr *w, uint64_t v, unsigned bytes)
{
	uint8_t b[8];
	unsigned i;

	if (bytes > sizeof(b)) {
		w->bad = true;
		return;
	}
	for (i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	clu_put(w, b, bytes);
}

void
clu_rd_init(struct clu_rd *r, const uint8_t *buf, size_t len)
{
	r->p = buf;
	r->len = len;
	r->off = 0;
	r->bad = false;
}

const uint8_t *
clu_get(struct clu_rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint64_t
clu_get_be(struct clu_rd *r, unsigned bytes)
{
	const uint8_t *p = clu_get(r, bytes);
	uint64_t v = 0;
	unsigned i;

	if (p == NULL)
		return 0;
	for (i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

void
clu_hdr_put(struct clu_wr *w, const struct clu_hdr *h)
{
	clu_put_be(w, CLU_MAGIC, 2);
	clu_put_be(w, CLU_VERSION, 1);
	clu_put_be(w, h->type, 1);
	clu_put_be(w, h->key_id, 1);
	clu_put_be(w, h->flags, 1);
	clu_put_be(w, h->part, 2);
	clu_put_be(w, h->nparts, 2);
	clu_put_be(w, 0, 2);
	clu_put_be(w, h->sender, 4);
	clu_put_be(w, h->epoch, 8);
	clu_put_be(w, h->dst_epoch, 8);
	clu_put_be(w, h->seq, 8);
}

void
clu_hdr_set_dst(uint8_t *hdr, uint64_t dst_epoch, uint64_t seq)
{
	struct clu_wr w;

	clu_wr_init(&w, hdr + CLU_HDR_DST_OFF, 16);
	clu_put_be(&w, dst_epoch, 8);
	clu_put_be(&w, seq, 8);
}

bool
clu_hdr_get(struct clu_rd *r, struct clu_hdr *h)
{
	if (clu_get_be(r, 2) != CLU_MAGIC || clu_get_be(r, 1) != CLU_VERSION)
		return false;
	h->type = (uint8_t)clu_get_be(r, 1);
	h->key_id = (uint8_t)clu_get_be(r, 1);
	h->flags = (uint8_t)clu_get_be(r, 1);
	if (h->flags & ~CLU_F_ALL)
		return false;
	h->part = (uint16_t)clu_get_be(r, 2);
	h->nparts = (uint16_t)clu_get_be(r, 2);
	if (clu_get_be(r, 2) != 0)
		return false;
	h->sender = (uint32_t)clu_get_be(r, 4);
	h->epoch = clu_get_be(r, 8);
	h->dst_epoch = clu_get_be(r, 8);
	h->seq = clu_get_be(r, 8);
	return !r->bad && h->type >= CLU_T_MEMBER && h->type < CLU_T__MAX;
}

static size_t
addr_len(uint8_t family)
{
	return family == TRK_INET4 ? 4 : family == TRK_INET6 ? 16 : 0;
}

size_t
clu_rec_size(const struct trk_change *ch)
{
	return CLU_REC_FIXED + addr_len(ch->rec.ep.family) + ch->rec.name_len +
		ch->rec.meta_len + ch->group_len;
}

bool
clu_rec_put(struct clu_wr *w, const struct trk_change *ch)
{
	const struct trk_record *r = &ch->rec;

	if (w->cap - w->len < clu_rec_size(ch))
		return false;	/* leave w usable: the caller starts a new batch */
	clu_put_be(w, ch->kind, 1);
	clu_put_be(w, r->flags, 1);
	clu_put_be(w, r->name_len, 1);
	clu_put_be(w, r->meta_len, 1);
	clu_put_be(w, ch->group_len, 1);
	clu_put_be(w, r->ep.family, 1);
	clu_put_be(w, r->ep.port, 2);
	clu_put_be(w, r->handle, 8);
	clu_put_be(w, r->version.clock, 8);
	clu_put_be(w, r->version.node, 4);
	clu_put_be(w, r->owner, 4);
	clu_put(w, r->ep.addr, addr_len(r->ep.family));
	clu_put(w, r->name, r->name_len);
	clu_put(w, r->meta, r->meta_len);
	clu_put(w, ch->group, ch->group_len);
	return !w->bad;
}

static bool
kind_valid(uint8_t kind, uint8_t group_len)
{
	switch (kind) {
	case TRK_CH_REGISTER:
	case TRK_CH_UNREGISTER:
	case TRK_CH_EXPIRE:
		return group_len == 0;
	case TRK_CH_JOIN:
	case TRK_CH_LEAVE:
		return group_len > 0;
	default:
		return false;
	}
}

bool
clu_rec_get(struct clu_rd *r, struct trk_change *ch)
{
	struct trk_record *rec = &ch->rec;
	const uint8_t *p;
	size_t al;

	memset(rec, 0, offsetof(struct trk_record, name));
	ch->kind = (uint8_t)clu_get_be(r, 1);
	rec->flags = (uint8_t)clu_get_be(r, 1);
	rec->name_len = (uint8_t)clu_get_be(r, 1);
	rec->meta_len = (uint8_t)clu_get_be(r, 1);
	ch->group_len = (uint8_t)clu_get_be(r, 1);
	rec->ep.family = (uint8_t)clu_get_be(r, 1);
	rec->ep.port = (uint16_t)clu_get_be(r, 2);
	rec->handle = clu_get_be(r, 8);
	rec->version.clock = clu_get_be(r, 8);
	rec->version.node = (uint32_t)clu_get_be(r, 4);
	rec->owner = (uint32_t)clu_get_be(r, 4);
	if (r->bad || !kind_valid(ch->kind, ch->group_len) ||
	    rec->name_len == 0 || rec->version.clock == 0 ||
	    (rec->ep.family != TRK_EP_NONE && rec->ep.family != TRK_INET4 &&
	     rec->ep.family != TRK_INET6))
		return false;
	al = addr_len(rec->ep.family);
	if ((p = clu_get(r, al)) != NULL)
		memcpy(rec->ep.addr, p, al);
	if ((p = clu_get(r, rec->name_len)) != NULL)
		memcpy(rec->name, p, rec->name_len);
	if ((p = clu_get(r, rec->meta_len)) != NULL)
		memcpy(rec->meta, p, rec->meta_len);
	if ((p = clu_get(r, ch->group_len)) != NULL)
		memcpy(ch->group, p, ch->group_len);
	if (r->bad)
		return false;
	rec->hash = ring_hash_name(rec->name, rec->name_len);
	return true;
}
