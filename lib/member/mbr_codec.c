/*
 * mbr_codec.c - wire format of membership messages (docs/membership.md).
 *
 *   0  u16 magic 0x5347        2  u8 version 1      3  u8 type 1..6
 *   4  u32 seq                 8  u16 auth (reserved for the MAC length, 0)
 *  10  node from
 *      node target             (PING, PING_REQ, INDIRECT_ACK only)
 *      u8 n_updates (<= 14), then n x { u8 state 1..4, node }
 *  node = u8 name_len 1..64, name, u32 ip, u16 port, u32 id, u64 incarnation
 *
 * No trailing bytes are allowed.
 */
#include <string.h>

#include "member.h"
#include "mbr_internal.h"

struct wr {
	uint8_t *p;
	size_t cap, len;
	bool bad;
};

static void put(struct wr *w, const void *src, size_t n)
{
	if (w->bad || w->cap - w->len < n) {
		w->bad = true;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void put_be(struct wr *w, uint64_t v, unsigned bytes)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	put(w, b, bytes);
}

static void put_node(struct wr *w, const struct mbr_node *n)
{
	put_be(w, n->name_len, 1);
	put(w, n->name, n->name_len);
	put_be(w, n->addr.ip, 4);
	put_be(w, n->addr.port, 2);
	put_be(w, n->id, 4);
	put_be(w, n->incarnation, 8);
}

bool mbr_type_has_target(uint8_t type)
{
	return type == MBR_MSG_PING || type == MBR_MSG_PING_REQ ||
	       type == MBR_MSG_INDIRECT_ACK;
}

bool mbr_node_valid(const struct mbr_node *n)
{
	return n->name_len >= 1 && n->name_len <= MBR_NAME_MAX;
}

bool mbr_msg_valid(const struct mbr_msg *msg)
{
	if (msg->type < MBR_MSG_PING || msg->type > MBR_MSG_JOIN_REPLY)
		return false;
	if (!mbr_node_valid(&msg->from))
		return false;
	if (mbr_type_has_target(msg->type) && !mbr_node_valid(&msg->target))
		return false;
	if (msg->n_updates > MBR_MSG_MAX_UPDATES)
		return false;
	for (unsigned i = 0; i < msg->n_updates; i++) {
		const struct mbr_update *u = &msg->updates[i];

		if (u->state < MBR_ALIVE || u->state > MBR_LEFT ||
		    !mbr_node_valid(&u->node))
			return false;
	}
	return true;
}

size_t mbr_encode(const struct mbr_msg *msg, uint8_t *buf, size_t cap)
{
	struct wr w = { .p = buf, .cap = cap };

	if (msg == NULL || buf == NULL || !mbr_msg_valid(msg))
		return 0;
	put_be(&w, MBR_WIRE_MAGIC, 2);
	put_be(&w, MBR_WIRE_VERSION, 1);
	put_be(&w, msg->type, 1);
	put_be(&w, msg->seq, 4);
	put_be(&w, 0, 2);
	put_node(&w, &msg->from);
	if (mbr_type_has_target(msg->type))
		put_node(&w, &msg->target);
	put_be(&w, msg->n_updates, 1);
	for (unsigned i = 0; i < msg->n_updates; i++) {
		put_be(&w, msg->updates[i].state, 1);
		put_node(&w, &msg->updates[i].node);
	}
	return w.bad ? 0 : w.len;
}

struct rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static uint64_t get_be(struct rd *r, unsigned bytes)
{
	uint64_t v = 0;

	if (r->bad || r->len - r->off < bytes) {
		r->bad = true;
		return 0;
	}
	for (unsigned i = 0; i < bytes; i++)
		v = (v << 8) | r->p[r->off + i];
	r->off += bytes;
	return v;
}

static void get_node(struct rd *r, struct mbr_node *n)
{
	uint64_t nl = get_be(r, 1);

	if (r->bad || nl < 1 || nl > MBR_NAME_MAX || r->len - r->off < nl) {
		r->bad = true;
		return;
	}
	n->name_len = (uint8_t)nl;
	memcpy(n->name, r->p + r->off, nl);
	r->off += nl;
	n->addr.ip = (uint32_t)get_be(r, 4);
	n->addr.port = (uint16_t)get_be(r, 2);
	n->id = (uint32_t)get_be(r, 4);
	n->incarnation = get_be(r, 8);
}

int mbr_decode(const uint8_t *buf, size_t len, struct mbr_msg *msg)
{
	struct rd r = { .p = buf, .len = len };
	uint64_t n;

	if (buf == NULL || msg == NULL)
		return -1;
	memset(msg, 0, sizeof(*msg));
	if (get_be(&r, 2) != MBR_WIRE_MAGIC || get_be(&r, 1) != MBR_WIRE_VERSION)
		return -1;
	msg->type = (uint8_t)get_be(&r, 1);
	if (r.bad || msg->type < MBR_MSG_PING || msg->type > MBR_MSG_JOIN_REPLY)
		return -1;
	msg->seq = (uint32_t)get_be(&r, 4);
	if (get_be(&r, 2) != 0)	/* auth: no MAC defined in version 1 */
		return -1;
	get_node(&r, &msg->from);
	if (mbr_type_has_target(msg->type))
		get_node(&r, &msg->target);
	n = get_be(&r, 1);
	if (r.bad || n > MBR_MSG_MAX_UPDATES)
		return -1;
	msg->n_updates = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		uint64_t st = get_be(&r, 1);

		if (r.bad || st < MBR_ALIVE || st > MBR_LEFT)
			return -1;
		msg->updates[i].state = (uint8_t)st;
		get_node(&r, &msg->updates[i].node);
	}
	if (r.bad || r.off != r.len)
		return -1;
	return 0;
}
