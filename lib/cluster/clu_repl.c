/*
 * clu_repl.c - replication streams: a log of batches per partition,
 * go-back-N to every serving peer.
 *
 * Every change the tracker queues in partition p is encoded once into the
 * partition's open batch; a batch is closed when the next record does not
 * fit, or at the end of every tick, and gets the next sequence number. The
 * last repl_log closed batches stay in a ring. Each serving peer has a
 * cursor into that one log (acked, sent), so a change costs one encoding
 * whatever the cluster size, and a slow peer costs no copy.
 *
 * Sending: up to repl_window batches past `acked` are in flight per peer;
 * when nothing progresses for repl_rto_ms, the batches the peer has not
 * reported holding (its ack carries a 64-bit selective-ack map after the
 * cumulative point) are sent again. The receiver applies batches in order
 * only (a membership must not arrive before its entry), and keeps up to
 * CLU_REORDER batches that arrive past a gap, so reordering on the wire
 * costs neither a resend nor a stall.
 *
 * A peer so far behind that the batch it needs has been overwritten gets
 * its stream restarted: a new `base` (the receiver resets to it) and an
 * anti-entropy repair right away, which recovers exactly what the lost
 * batches carried. Memory per partition is therefore bounded by repl_log
 * batches however slow or dead a peer is.
 *
 * Receiving: a peer's stream is known by (its epoch, base). A new epoch
 * (the peer restarted) or a larger base restarts our expectation at
 * base + 1; older bases are stale datagrams. Batches are applied only in
 * order; acks (cumulative: every seq <= acked) go out once per tick per
 * stream that received something.
 */
#include <stdlib.h>
#include <string.h>

#include "clu_internal.h"

int
clu_repl_init(struct clu *c)
{
	uint32_t i;

	for (i = 0; i < c->nparts; i++) {
		c->part[i].log = calloc(c->cfg.repl_log, sizeof(struct clu_batch));
		if (c->part[i].log == NULL)
			return -1;
		c->part[i].open.seq = 1;
	}
	return 0;
}

void
clu_repl_free(struct clu *c)
{
	uint32_t i;

	for (i = 0; c->part != NULL && i < c->nparts; i++) {
		free(c->part[i].log);
		free(c->part[i].drop);
	}
}

static struct clu_batch *
log_slot(struct clu *c, struct clu_part *pp, uint64_t seq)
{
	return &pp->log[seq & (c->cfg.repl_log - 1)];
}

static void
want_full_repair(struct clu_repair *rp, uint32_t part)
{
	if (rp->active)
		return;
	clu_repair_reset(rp);
	memset(rp->mask, 0xff, sizeof(rp->mask));
	trk_cursor_init_part(&rp->cur, part);
	rp->active = true;
}

/* Starts p's stream of part over after what is logged now. */
static void
restart_stream(struct clu *c, struct clu_peer *p, uint32_t part, uint64_t now)
{
	struct clu_out *o = &p->out[part];

	o->base = o->acked = o->sent = o->floor = c->part[part].head;
	o->sack = 0;
	o->gen = 0;
	o->progress_ms = now;
	c->st.repl_resets++;
	want_full_repair(&p->rep[part], part);
}

/* Restarts every stream of partition part that needs batch `lost`. */
static void
reset_overrun(struct clu *c, uint32_t part, uint64_t lost, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < c->npeers; i++) {
		struct clu_peer *p = &c->peer[i];
		struct clu_out *o = &p->out[part];

		if (!o->active || o->acked >= lost)
			continue;
		/* what the lost batches carried comes back by repair */
		restart_stream(c, p, part, now);
	}
}

void
clu_repl_flush(struct clu *c, uint32_t part)
{
	struct clu_part *pp = &c->part[part];
	uint64_t seq = pp->head + 1;

	if (pp->open.count == 0)
		return;
	if (seq > c->cfg.repl_log)
		reset_overrun(c, part, seq - c->cfg.repl_log, 0);
	pp->open.seq = seq;
	*log_slot(c, pp, seq) = pp->open;
	pp->head = seq;
	pp->open.len = 0;
	pp->open.count = 0;
	pp->open.seq = seq + 1;
	c->st.repl_batches++;
}

static bool
has_listener(const struct clu *c, uint32_t part)
{
	uint32_t i;

	for (i = 0; i < c->npeers; i++)
		if (c->peer[i].out[part].active)
			return true;
	return false;
}

static void
append(struct clu *c, uint32_t part, const struct trk_change *ch)
{
	struct clu_part *pp = &c->part[part];
	struct clu_wr w;

	clu_wr_init(&w, pp->open.body, CLU_BATCH_CAP);
	w.len = pp->open.len;
	if (!clu_rec_put(&w, ch)) {
		clu_repl_flush(c, part);
		clu_wr_init(&w, pp->open.body, CLU_BATCH_CAP);
		if (!clu_rec_put(&w, ch))
			return;	/* cannot happen: CLU_REC_MAX < CLU_BATCH_CAP */
	}
	pp->open.len = (uint16_t)w.len;
	pp->open.count++;
	pp->appended++;
}

void
clu_repl_drain(struct clu *c, uint32_t part)
{
	bool keep = has_listener(c, part);
	size_t i, n;

	/* Alone, changes are drained and dropped: a peer that joins later
	 * gets the state by sync, not by replaying history. */
	while ((n = trk_drain_changes(c->t, part, c->chbuf, 64)) > 0)
		for (i = 0; keep && i < n; i++)
			append(c, part, &c->chbuf[i]);
}

static void
send_batch(struct clu *c, struct clu_peer *p, uint32_t part,
		const struct clu_batch *b)
{
	struct clu_wr w;

	if (clu_msg_begin(c, &w, CLU_T_BATCH, (uint16_t)part) == NULL)
		return;
	clu_put_be(&w, p->out[part].base, 8);
	clu_put_be(&w, b->seq, 8);
	clu_put_be(&w, b->count, 2);
	clu_put(&w, b->body, b->len);
	clu_msg_send(c, &w, p);
	c->st.repl_sent++;
}

static void
stream_send(struct clu *c, struct clu_peer *p, uint32_t part, uint64_t now)
{
	struct clu_part *pp = &c->part[part];
	struct clu_out *o = &p->out[part];
	uint64_t seq;

	if (o->sent > o->acked &&
	    now - o->progress_ms >= c->cfg.repl_rto_ms) {
		for (seq = o->acked + 1; seq <= o->sent; seq++) {
			uint64_t bit = seq - o->acked - 2;

			if (seq > o->acked + 1 && bit < 64 &&
			    ((o->sack >> bit) & 1))
				continue;	/* the peer holds it */
			send_batch(c, p, part, log_slot(c, pp, seq));
			c->st.repl_resent++;
		}
		o->progress_ms = now;
	}
	while (o->sent < pp->head &&
	       o->sent - o->acked < c->cfg.repl_window) {
		o->sent++;
		send_batch(c, p, part, log_slot(c, pp, o->sent));
		if (o->sent == o->acked + 1)
			o->progress_ms = now;
	}
}

static void
send_ack(struct clu *c, struct clu_peer *p, uint32_t part)
{
	struct clu_in *in = &p->in[part];
	struct clu_wr w;

	in->ack_due = false;
	if (clu_msg_begin(c, &w, CLU_T_ACK, (uint16_t)part) == NULL)
		return;
	clu_put_be(&w, in->epoch, 8);
	clu_put_be(&w, in->base, 8);
	clu_put_be(&w, in->expected - 1, 8);
	clu_put_be(&w, in->have, 8);
	clu_put_be(&w, in->gen, 8);
	clu_msg_send(c, &w, p);
}

void
clu_repl_tick_part(struct clu *c, uint32_t part, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < c->npeers; i++) {
		struct clu_peer *p = &c->peer[i];

		if (!clu_peer_serves(p))
			continue;
		if (p->out[part].active)
			stream_send(c, p, part, now);
		if (p->in[part].ack_due)
			send_ack(c, p, part);
	}
}

void
clu_repl_tick(struct clu *c, uint64_t now)
{
	uint32_t part;

	for (part = 0; part < c->nparts; part++) {
		clu_repl_drain(c, part);
		clu_repl_flush(c, part);
		clu_repl_tick_part(c, part, now);
	}
	clu_fwd_release_held(c, now);
}

void
clu_repl_peer_up(struct clu *c, struct clu_peer *p, uint64_t now)
{
	uint32_t part;

	for (part = 0; part < c->nparts; part++) {
		struct clu_out *o = &p->out[part];

		/* drain what was made before: it reaches the peer by sync */
		clu_repl_drain(c, part);
		clu_repl_flush(c, part);
		o->active = true;
		o->base = o->acked = o->sent = o->floor = c->part[part].head;
		o->progress_ms = now;
		o->sack = 0;
		o->gen = 0;
		clu_in_reset(&p->in[part]);
		clu_repair_reset(&p->rep[part]);
		/* meet the newcomer soon: its first anti-entropy round is a sync */
		c->part[part].ae_next_ms = now;
	}
}

/*
 * We are not on p's stream `base` of part (we restarted our copy of it
 * alone: we thought p gone and back, p never noticed) and p, with nothing
 * new to send, would never tell us where it is. An ACK of that stream
 * from a new generation makes p start a new one (clu_repl_rx_ack), whose
 * batches we then adopt; it acknowledges nothing (seq 0). What p's old
 * stream carried reaches us by the full repair that restart schedules.
 */
void
clu_repl_forgot(struct clu *c, struct clu_peer *p, uint32_t part,
		uint64_t base)
{
	struct clu_wr w;

	if (clu_msg_begin(c, &w, CLU_T_ACK, (uint16_t)part) == NULL)
		return;
	clu_put_be(&w, p->epoch, 8);
	clu_put_be(&w, base, 8);
	clu_put_be(&w, 0, 8);		/* nothing acknowledged */
	clu_put_be(&w, 0, 8);
	clu_put_be(&w, ++c->in_gen, 8);
	clu_msg_send(c, &w, p);
}

void
clu_repl_peer_down(struct clu *c, struct clu_peer *p)
{
	uint32_t part;

	for (part = 0; part < c->nparts; part++) {
		p->out[part].active = false;
		p->rep[part].active = false;
		p->in[part].ack_due = false;
	}
}

void
clu_in_reset(struct clu_in *in)
{
	struct clu_batch *buf = in->buf;

	memset(in, 0, sizeof(*in));
	in->buf = buf;	/* kept for the next stream */
}

int
clu_apply(struct clu *c, const struct trk_change *ch, uint64_t now)
{
	int rc;

	if (ch->kind == TRK_CH_REGISTER && clu_is_dead(c, ch->rec.owner)) {
		c->st.dead_owner_dropped++;
		return CLU_DEAD_OWNER;
	}
	rc = trk_apply(c->t, ch, now);
	if (rc < 0)
		c->st.apply_errors++;
	return rc;
}

uint32_t
clu_rec_stage(struct clu *c, struct clu_rd *r, uint32_t max, bool *bad)
{
	uint32_t n = 0, i;

	if (max > CLU_STAGE_RECS)
		max = CLU_STAGE_RECS;
	*bad = false;
	while (n < max) {
		if (!clu_rec_get(r, &c->chbuf[n])) {
			*bad = true;
			break;
		}
		trk_prefetch(c->t, c->chbuf[n++].rec.hash);
	}
	for (i = 0; i < n; i++)
		trk_prefetch_entry(c->t, c->chbuf[i].rec.hash);
	return n;
}

/* Applies the records of one in-order batch; false if it is malformed. */
static bool
apply_batch(struct clu *c, struct clu_rd *r, uint16_t count, uint64_t now)
{
	uint32_t done = 0, n, i;
	bool bad = false;

	while (done < count && !bad) {
		n = clu_rec_stage(c, r, count - done, &bad);
		for (i = 0; i < n; i++) {
			if (clu_apply(c, &c->chbuf[i], now) == TRK_OK)
				c->st.repl_applied++;
			else
				c->st.repl_ignored++;
		}
		done += n;
	}
	return !bad && clu_rd_left(r) == 0;
}

/* Keeps a batch that arrived past a gap (dropped when beyond the buffer). */
static void
hold_batch(struct clu *c, struct clu_in *in, uint64_t seq, uint16_t count,
		struct clu_rd *r)
{
	uint64_t bit = seq - in->expected - 1;
	struct clu_batch *b;

	c->st.repl_out_of_order++;
	if (bit >= CLU_REORDER || clu_rd_left(r) > CLU_BATCH_CAP ||
	    ((in->have >> bit) & 1))
		return;
	if (in->buf == NULL &&
	    (in->buf = malloc(CLU_REORDER * sizeof(*in->buf))) == NULL)
		return;
	b = &in->buf[seq % CLU_REORDER];
	b->seq = seq;
	b->count = count;
	b->len = (uint16_t)clu_rd_left(r);
	memcpy(b->body, r->p + r->off, b->len);
	in->have |= 1ULL << bit;
}

/* Applies the held batches that the gap's filling made next in line. */
static void
apply_held(struct clu *c, struct clu_in *in, uint64_t now)
{
	while (in->have & 1) {
		struct clu_batch *b = &in->buf[in->expected % CLU_REORDER];
		struct clu_rd r;

		clu_rd_init(&r, b->body, b->len);
		if (!apply_batch(c, &r, b->count, now))
			c->st.rx_malformed++;
		in->expected++;
		in->have >>= 1;
	}
	in->have >>= 1;	/* the bit of the batch just applied in line */
}

void
clu_repl_rx_batch(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		struct clu_rd *r, uint64_t now)
{
	struct clu_in *in = &p->in[h->part];
	uint64_t base = clu_get_be(r, 8);
	uint64_t seq = clu_get_be(r, 8);
	uint16_t count = (uint16_t)clu_get_be(r, 2);

	if (r->bad || seq <= base) {
		c->st.rx_malformed++;
		return;
	}
	if (in->epoch != h->epoch || base > in->base) {
		clu_in_reset(in);
		in->epoch = h->epoch;
		in->base = base;
		in->expected = base + 1;
		in->gen = ++c->in_gen;
	} else if (base < in->base) {
		return;	/* a datagram of a stream since restarted */
	}
	in->ack_due = true;
	if (seq > in->expected) {
		hold_batch(c, in, seq, count, r);
		return;
	}
	if (seq < in->expected)
		return;	/* a duplicate */
	/* records are validated one by one as they apply: a malformed batch
	 * from an authenticated peer is a bug there; count it and move on */
	if (!apply_batch(c, r, count, now))
		c->st.rx_malformed++;
	in->expected++;
	apply_held(c, in, now);
	clu_fwd_release_held(c, now);
}

void
clu_repl_rx_ack(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		struct clu_rd *r, uint64_t now)
{
	struct clu_out *o = &p->out[h->part];
	uint64_t epoch = clu_get_be(r, 8);
	uint64_t base = clu_get_be(r, 8);
	uint64_t seq = clu_get_be(r, 8);
	uint64_t sack = clu_get_be(r, 8);
	uint64_t gen = clu_get_be(r, 8);

	if (r->bad || clu_rd_left(r) != 0) {
		c->st.rx_malformed++;
		return;
	}
	if (!o->active || epoch != c->epoch || base != o->base)
		return;	/* stale, or for a stream since restarted */
	if (gen < o->gen)
		return;	/* from before the receiver last adopted it */
	if (gen > o->gen && o->gen != 0) {
		/* The receiver forgot this stream (it thought us gone and
		 * back): start a new one; what it missed comes by repair. */
		restart_stream(c, p, h->part, now);
		return;
	}
	o->gen = gen;
	if (o->active && epoch == c->epoch && base == o->base &&
	    seq == o->acked)
		o->sack = sack;	/* same point, fresher map */
	if (seq <= o->acked || seq > c->part[h->part].head)
		return;
	o->acked = seq;
	o->sack = sack;
	if (c->nahold > 0)
		clu_fwd_release_acked(c, now);
	if (o->sent < seq)
		o->sent = seq;	/* an ack from before a go-back */
	o->progress_ms = now;
}

bool
clu_repl_idle(const struct clu *c)
{
	uint32_t part, i;

	for (part = 0; part < c->nparts; part++) {
		if (c->part[part].open.count > 0)
			return false;
		for (i = 0; i < c->npeers; i++) {
			const struct clu_peer *p = &c->peer[i];

			if (clu_peer_serves(p) && p->out[part].active &&
			    p->out[part].acked < c->part[part].head)
				return false;
		}
	}
	return true;
}
