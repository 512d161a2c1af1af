/*
 * clu_fwdq.c - open FWD and FWD_REPLY datagrams, filled with units until
 * the next clu_poll_send.
 *
 * A client datagram of 16 writes spread over three owners used to cost
 * two FWD and two FWD_REPLY datagrams of a few hundred bytes each, every
 * one sealed, sent through the port and received by the kernel and the
 * NIC of the other side: in a write storm those were three quarters of
 * the gossip datagrams and most of a node's per-datagram cost. Now the
 * sub-requests (origin side) and their replies (owner side) of a whole
 * receive burst that go to one (peer, partition) share datagrams: a unit
 * is appended to the open datagram of its (type, peer, partition), which
 * is sealed and queued when the next unit does not fit, when 255 units
 * are in it, when its slot is needed for another key, or at the start of
 * clu_poll_send (so a driver that polls after each burst adds no delay).
 *
 * Body of both types: u8 unit count (1..255), then the units
 * (docs/cluster.md, "Wire format").
 */
#include <stdlib.h>
#include <string.h>

#include "clu_internal.h"

static struct clu_fwdq *
fwdq_slots(struct clu *c)
{
	if (c->fwdq == NULL)
		c->fwdq = calloc(CLU_FWDQ_MAX, sizeof(*c->fwdq));
	return c->fwdq;
}

/* Seal and queue q to its peer (dropped if the peer stopped serving:
 * the origin's pending ops are finished by clu_fwd_peer_down). */
static void
fwdq_close(struct clu *c, struct clu_fwdq *q)
{
	struct clu_peer *p = &c->peer[q->peer];

	q->buf[CLU_HDR_LEN] = q->units;
	if (q->units > 0 && clu_peer_serves(p))
		clu_msg_queue(c, q->buf, q->w.len, p);
	q->used = false;
	c->nfwdq--;
}

static struct clu_fwdq *
fwdq_find(struct clu *c, uint8_t type, uint16_t peer, uint16_t part)
{
	uint32_t i;

	for (i = 0; i < CLU_FWDQ_MAX && c->nfwdq > 0; i++) {
		struct clu_fwdq *q = &c->fwdq[i];

		if (q->used && q->type == type && q->peer == peer &&
		    q->part == part)
			return q;
	}
	return NULL;
}

static struct clu_fwdq *
fwdq_open(struct clu *c, uint8_t type, uint16_t peer, uint16_t part)
{
	struct clu_fwdq *q = NULL;
	uint32_t i;

	for (i = 0; i < CLU_FWDQ_MAX; i++)
		if (!c->fwdq[i].used) {
			q = &c->fwdq[i];
			break;
		}
	if (q == NULL) {	/* every slot open: the oldest key goes */
		q = &c->fwdq[c->fwdq_rr];
		c->fwdq_rr = (c->fwdq_rr + 1) % CLU_FWDQ_MAX;
		fwdq_close(c, q);
	}
	q->used = true;
	q->type = type;
	q->peer = peer;
	q->part = part;
	q->units = 0;
	clu_msg_init(c, &q->w, q->buf, type, part);
	clu_put_be(&q->w, 0, 1);	/* unit count, set when closed */
	c->nfwdq++;
	return q;
}

struct clu_wr *
clu_fwdq_unit(struct clu *c, uint8_t type, const struct clu_peer *p,
		uint16_t part, size_t need)
{
	uint16_t peer = (uint16_t)(p - c->peer);
	struct clu_fwdq *q;

	/* room in the send queue for every open datagram and this one's */
	if (fwdq_slots(c) == NULL ||
	    c->sq_len + c->nfwdq + 1 > c->cfg.send_queue)
		return NULL;
	q = fwdq_find(c, type, peer, part);
	if (q != NULL && (q->units == UINT8_MAX ||
			q->w.len + need > q->w.cap)) {
		fwdq_close(c, q);
		q = NULL;
	}
	if (q == NULL)
		q = fwdq_open(c, type, peer, part);
	if (q->w.len + need > q->w.cap)
		return NULL;	/* does not fit even alone: a caller's bug */
	q->units++;
	return &q->w;
}

void
clu_fwdq_close_all(struct clu *c)
{
	uint32_t i;

	for (i = 0; i < CLU_FWDQ_MAX && c->nfwdq > 0; i++)
		if (c->fwdq[i].used)
			fwdq_close(c, &c->fwdq[i]);
}

void
clu_fwdq_free(struct clu *c)
{
	free(c->fwdq);
	c->fwdq = NULL;
	c->nfwdq = 0;
}
