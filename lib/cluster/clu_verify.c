/*
 * clu_verify.c - verified sync: a node owns names only once it provably
 * holds everything its ready peers hold.
 *
 * Two moments need it. A node that is not ready yet (it joined, or it
 * restarted) must not answer for names it has not received; and a ready
 * node whose ring lost a member takes over that member's names, some of
 * whose latest writes (acknowledged through another node) it may not have
 * seen. In both cases a write the node decided without them could beat an
 * acknowledged entry it could not see. So, per partition, the node asks
 * EVERY ready serving peer for a sync (a REPAIR_REQ with CLU_F_SYNC): a
 * request id, the segments to check, and our folded 32-bit digest of each.
 * The peer pushes the segments whose digests differ from its own (the
 * usual paced repair scan, REPAIR datagrams flagged SYNC and carrying the
 * id) and ends with a LAST datagram listing, per checked segment, how many
 * records it pushed, the position of its replication stream to us at
 * that moment, and its partition clock (which ours then passes: a write we
 * decide later is newer than anything the peer knows).
 *
 * We count the records of the push per segment as they arrive (duplicates
 * never count: the replay window drops them). A segment whose count
 * matches is verified. The LAST may overtake records of its push (paths
 * that reorder), so records that arrive after it still count, and the
 * segments still short repl_rto_ms after the last datagram of the push
 * are asked for again: loss on the link costs a few more rounds over
 * fewer and fewer segments, never a sync that is declared complete with
 * data missing. A record registered through a member we purged is
 * dropped here (clu_apply) and so never counts: a node cut off by a
 * netsplit, which purged the members it could not reach, verifies with a
 * peer that still holds their entries only once those members are back
 * in its view (or the peer purged them too), asking again with a backoff
 * meanwhile; else it could take a name the majority had acknowledged. Changes the peer made
 * while pushing travel on its stream, so the partition is verified with
 * that peer only once our copy of the stream has reached the position the
 * LAST named. The partition is synced when it is verified with every
 * ready serving peer; while it is not, its writes are answered not_ready.
 *
 * A pusher whose push sends nothing for repl_rto_ms (a scan over many
 * entries of which few differ, or a request queued behind a plain repair)
 * sends an empty datagram of the push to say it is still at it. A request
 * whose push has gone quiet (no datagram of it for 4 x repl_rto_ms,
 * doubling with each unanswered request up to ae_interval_ms) is asked
 * again; the pusher then drops the push it was running for us and starts
 * the new one. A push that is still arriving is never interrupted,
 * however long it takes (a full sync of millions of records). Records
 * apply by the version rule whatever their push, so an abandoned push
 * does no harm.
 */
#include <stdlib.h>
#include <string.h>

#include "clu_internal.h"

/* The 32 bits a sync request carries per segment. */
static uint32_t
fold32(const struct trk_digest_seg *s)
{
	uint64_t z = clu_fold_seg(s);

	return (uint32_t)(z ^ (z >> 32));
}

/* ---- requester ---- */

/* Nothing is verified with that peer any more. */
static void
vs_reset(struct clu_vsync *v)
{
	v->id = 0;
	v->tries = 0;
	v->done = false;
	v->last = false;
	v->dead_seen = false;
	v->dead_rounds = 0;
	memset(v->mask, 0xff, sizeof(v->mask));
}

/* Start (again) verifying every partition with every peer. */
void
clu_verify_start_all(struct clu *c)
{
	uint32_t part;

	for (part = 0; part < c->nparts; part++)
		clu_verify_start(c, part);
}

void
clu_verify_start(struct clu *c, uint32_t part)
{
	uint32_t i;

	c->part[part].verifying = true;
	for (i = 0; i < c->npeers; i++)
		vs_reset(&c->peer[i].vs[part]);
}

void
clu_verify_reopen(struct clu *c)
{
	uint32_t part;

	for (part = 0; part < c->nparts; part++)
		c->part[part].verifying = true;
}

/* p restarted or came back: nothing verified with it holds any more. */
void
clu_verify_peer_reset(struct clu *c, struct clu_peer *p)
{
	uint32_t part;

	for (part = 0; part < c->nparts; part++)
		vs_reset(&p->vs[part]);
}

/* A new request to p for the segments of part not verified with it yet. */
static void
ask(struct clu *c, struct clu_peer *p, uint32_t part, uint64_t now)
{
	struct clu_vsync *v = &p->vs[part];
	struct trk_digest_seg seg[TRK_DIGEST_SEGS];
	struct clu_wr w;
	uint32_t i;

	if (v->cnt == NULL &&
	    (v->cnt = malloc(2 * TRK_DIGEST_SEGS * sizeof(*v->cnt))) == NULL)
		return;
	v->want = v->cnt + TRK_DIGEST_SEGS;
	memset(v->cnt, 0, TRK_DIGEST_SEGS * sizeof(*v->cnt));
	v->last = false;
	v->dead_seen = false;
	v->id = ++c->vs_ids;
	v->heard_ms = now;
	v->tries++;
	c->st.sync_asks++;
	if (clu_msg_begin(c, &w, CLU_T_REPAIR_REQ, (uint16_t)part) == NULL)
		return;
	w.p[5] |= CLU_F_SYNC;	/* header flags byte */
	trk_digest(c->t, part, seg, TRK_DIGEST_SEGS);
	for (i = 0; i < 4; i++)
		clu_put_be(&w, v->mask[i], 8);
	clu_put_be(&w, v->id, 4);
	for (i = 0; i < TRK_DIGEST_SEGS; i++)
		clu_put_be(&w, clu_mask_has(v->mask, i) ? fold32(&seg[i]) : 0, 4);
	clu_msg_send(c, &w, p);
}

/*
 * Our copy of p's stream has applied what p had made when it sent LAST.
 * A stream p restarted since (a new base) skipped batches that come by a
 * plain repair at some later time: verify again from scratch. A stream
 * we have no copy of at all (we restarted ours alone, after a death that
 * only we saw) would never be reached if p has nothing new to send: after
 * 4 x repl_rto_ms, tell p (clu_repl_forgot, at most that often), so that
 * it starts a new one, and verify again. (Seen on a real cluster: a node
 * that took over after such a death stayed `syncing` 22 s, then >30 s.)
 */
static bool
stream_reached(struct clu *c, struct clu_peer *p, uint32_t part,
		uint64_t now)
{
	struct clu_vsync *v = &p->vs[part];
	const struct clu_in *in = &p->in[part];

	if (v->head <= v->base)
		return true;
	if (in->epoch == p->epoch && in->base == v->base)
		return in->expected > v->head;
	if (in->epoch == p->epoch) {
		if (in->base > v->base)
			vs_reset(v);
		return false;	/* else an older stream: the new one is coming */
	}
	if (now - v->heard_ms >= 4ULL * c->cfg.repl_rto_ms &&
	    now - v->forgot_ms >= 4ULL * c->cfg.repl_rto_ms) {
		v->forgot_ms = now;
		clu_repl_forgot(c, p, part, v->base);
		c->st.sync_forgot++;
		vs_reset(v);
	}
	return false;
}

/* Segments of the answered request that are still short. */
static void
short_count(struct clu *c, const struct clu_vsync *v)
{
	uint32_t i;

	for (i = 0; i < TRK_DIGEST_SEGS; i++)
		c->st.sync_short += clu_mask_has(v->mask, i);
}

/* Segment i of the answered request has all its records: verified. */
static void
seg_check(struct clu_vsync *v, uint32_t i)
{
	if (clu_mask_has(v->mask, i) && v->cnt[i] == v->want[i])
		v->mask[i / 64] &= ~(1ULL << (i % 64));
	if (clu_mask_empty(v->mask))
		v->done = true;
}

/* 4 x repl_rto_ms, doubled n times (at most 8), capped at ae_interval_ms. */
static uint64_t
backoff_ms(const struct clu *c, uint32_t n)
{
	uint64_t t = 4ULL * c->cfg.repl_rto_ms << (n < 8 ? n : 8);

	return t < c->cfg.ae_interval_ms ? t : c->cfg.ae_interval_ms;
}

/* How long a request's push may stay quiet before we ask again. */
static uint64_t
quiet_ms(const struct clu *c, const struct clu_vsync *v)
{
	return backoff_ms(c, v->tries > 1 ? v->tries - 1 : 0);
}

/*
 * How long the request in flight may stay silent before we ask again:
 * quiet_ms() while its push runs; once its LAST came, repl_rto_ms for
 * the records it overtook, or, when the push held entries of a member we
 * purged (not counted: we drop them), a backoff from 4 x repl_rto_ms up
 * to ae_interval_ms. Those segments verify only once the member is back
 * (its entries then apply) or the peer has purged them too.
 */
static uint64_t
wait_ms(const struct clu *c, const struct clu_vsync *v)
{
	if (!v->last)
		return quiet_ms(c, v);
	return v->dead_seen ? backoff_ms(c, v->dead_rounds) :
		c->cfg.repl_rto_ms;
}

/*
 * Drives the partition's verification; true when it is synced. A node
 * that is not ready asks one peer at a time: the first push fills the
 * partition, and the digests it then sends the others mostly match, so a
 * joining node costs its peers one full push, not one each. A ready node
 * (a takeover, mostly equal digests) asks them all at once.
 */
static bool
verify_part(struct clu *c, uint32_t part, uint64_t now)
{
	bool all = true, busy = false;
	uint32_t i;

	for (i = 0; i < c->npeers; i++) {
		struct clu_peer *p = &c->peer[i];
		struct clu_vsync *v = &p->vs[part];

		if (!clu_peer_serves(p) || !p->ready)
			continue;
		if (v->done && stream_reached(c, p, part, now))
			continue;
		all = false;
		if (v->done)
			continue;
		if (v->id != 0 && now - v->heard_ms < wait_ms(c, v)) {
			busy = true;
			continue;
		}
		if (busy && !c->ready)
			continue;
		if (v->last)
			short_count(c, v);	/* a new round for those */
		else
			c->st.sync_reasks += v->id != 0;
		v->dead_rounds += v->last && v->dead_seen;
		ask(c, p, part, now);
		busy = true;
	}
	return all;
}

/* Returns how many partitions are synced. */
uint32_t
clu_verify_tick(struct clu *c, uint64_t now)
{
	uint32_t part, n = 0;

	for (part = 0; part < c->nparts; part++) {
		struct clu_part *pp = &c->part[part];

		if (pp->verifying && verify_part(c, part, now))
			pp->verifying = false;
		n += !pp->verifying;
	}
	return n;
}

/* A record of a sync push arrived (from p, for part, push id). */
void
clu_verify_count(struct clu_peer *p, uint32_t part, uint32_t id,
		uint64_t hash)
{
	struct clu_vsync *v = &p->vs[part];
	uint32_t i = trk_digest_seg_of(hash);

	if (v->id != id || v->done || v->cnt == NULL)
		return;
	v->cnt[i]++;
	if (v->last)
		seg_check(v, i);	/* a straggler the LAST overtook */
}

/*
 * A record of push id registered through a member we purged: we drop it
 * (clu_apply), so it does not count, and its segment stays short. A node
 * that purged a member it could not reach (a netsplit) and hears a peer
 * that still holds that member's entries must not own names before it
 * holds them too: it could decide a name the majority acknowledged.
 */
void
clu_verify_dead(struct clu_peer *p, uint32_t part, uint32_t id)
{
	struct clu_vsync *v = &p->vs[part];

	if (v->id == id && !v->done)
		v->dead_seen = true;
}

/* A datagram of push id arrived (records, or none: the pusher is busy). */
void
clu_verify_heard(struct clu_peer *p, uint32_t part, uint32_t id,
		uint64_t now)
{
	struct clu_vsync *v = &p->vs[part];

	if (v->id == id && !v->done) {
		v->heard_ms = now;
		v->tries = 1;	/* it is pushing: back to the first timeout */
	}
}

/* The LAST of a sync push: its counts and the stream position. */
void
clu_verify_rx_last(struct clu *c, struct clu_peer *p, uint32_t part,
		uint32_t id, struct clu_rd *r, uint64_t now)
{
	struct clu_vsync *v = &p->vs[part];
	uint64_t base = clu_get_be(r, 8), head = clu_get_be(r, 8);
	struct trk_version clock = { .clock = clu_get_be(r, 8) };
	uint64_t mask[4];
	uint32_t i;

	for (i = 0; i < 4; i++)
		mask[i] = clu_get_be(r, 8);
	if (r->bad || clu_rd_left(r) % 4 != 0) {
		c->st.rx_malformed++;
		return;
	}
	/*
	 * The peer's partition clock: versions we decide from now on must be
	 * newer than every one it knows, tombstones of a previous life of ours
	 * included (a restarted node's clock starts at 0, and the pushed
	 * differences need not carry the newest version it has seen).
	 */
	trk_clock_observe(c->t, part, &clock);
	if (v->id != id || v->done || v->last || v->cnt == NULL)
		return;	/* an answer to an older request */
	for (i = 0; i < TRK_DIGEST_SEGS; i++) {
		v->want[i] = UINT32_MAX;	/* not answered for: short */
		if (clu_mask_has(mask, i) && !r->bad)
			v->want[i] = (uint32_t)clu_get_be(r, 4);
	}
	if (r->bad || clu_rd_left(r) != 0) {
		c->st.rx_malformed++;
		return;
	}
	v->last = true;
	v->heard_ms = now;
	v->tries = 0;			/* answered */
	v->base = base;
	v->head = head;
	for (i = 0; i < TRK_DIGEST_SEGS && !v->done; i++)
		seg_check(v, i);
}

/* ---- pusher ---- */

/*
 * A sync request from p: the segments of its mask whose digest differs
 * from ours are pushed (a scan, flagged SYNC); the others count as equal.
 * diff receives that mask.
 */
bool
clu_verify_rx_request(struct clu *c, struct clu_rd *r, uint32_t part,
		uint64_t req[4], uint64_t diff[4], uint32_t *id)
{
	struct trk_digest_seg seg[TRK_DIGEST_SEGS];
	uint32_t i;

	*id = (uint32_t)clu_get_be(r, 4);
	if (r->bad || clu_rd_left(r) != 4 * TRK_DIGEST_SEGS || *id == 0)
		return false;
	trk_digest(c->t, part, seg, TRK_DIGEST_SEGS);
	memset(diff, 0, 4 * sizeof(*diff));
	for (i = 0; i < TRK_DIGEST_SEGS; i++) {
		uint32_t theirs = (uint32_t)clu_get_be(r, 4);

		if (clu_mask_has(req, i) && theirs != fold32(&seg[i]))
			diff[i / 64] |= 1ULL << (i % 64);
	}
	return !r->bad;
}

/* Sends the LAST of sync push id to p: per requested segment, the count
 * pushed (0 for the equal ones), and our stream's position. */
void
clu_verify_send_last(struct clu *c, struct clu_peer *p, uint32_t part,
		uint32_t id, const uint64_t req[4], const uint32_t *cnt)
{
	const struct clu_out *o = &p->out[part];
	struct clu_wr w;
	uint32_t i;

	/* what the scan pushed is on the queue: close the stream up to now */
	clu_repl_drain(c, part);
	clu_repl_flush(c, part);
	if (clu_msg_begin(c, &w, CLU_T_REPAIR, (uint16_t)part) == NULL)
		return;
	w.p[5] |= CLU_F_SYNC | CLU_F_LAST;	/* header flags byte */
	clu_put_be(&w, id, 4);
	clu_put_be(&w, 0, 2);			/* no records */
	clu_put_be(&w, o->active ? o->base : 0, 8);
	clu_put_be(&w, o->active ? c->part[part].head : 0, 8);
	clu_put_be(&w, trk_clock_now(c->t, part), 8);
	for (i = 0; i < 4; i++)
		clu_put_be(&w, req[i], 8);
	for (i = 0; i < TRK_DIGEST_SEGS; i++)
		if (clu_mask_has(req, i))
			clu_put_be(&w, cnt != NULL ? cnt[i] : 0, 4);
	clu_msg_send(c, &w, p);
}

void
clu_verify_free(struct clu *c)
{
	uint32_t i, part;

	for (i = 0; i < CLU_PEERS_MAX; i++) {
		for (part = 0; c->peer[i].vs != NULL && part < c->nparts;
		     part++)
			free(c->peer[i].vs[part].cnt);
		for (part = 0; c->peer[i].rep != NULL && part < c->nparts;
		     part++)
			free(c->peer[i].rep[part].cnt);
		free(c->peer[i].vs);
	}
}
