/*
 * clu_sync.c - anti-entropy, repair and sync, and the purge of dead nodes.
 *
 * Anti-entropy: every ae_interval_ms (plus up to a quarter of it of
 * jitter, so rounds of different nodes drift apart) each partition sends
 * its 256 segment digests to the next serving peer, round robin, folded to
 * 64 bits per segment (x ^ mix(count)) in two DIGEST datagrams. The peer
 * compares them with its own; for the segments that differ it pushes its
 * entries and tombstones to us and asks us (REPAIR_REQ) to push ours. Both
 * sides apply what they receive by the version rule, so after one
 * exchange both hold the newer of every differing record.
 *
 * A push is a paced scan of one partition (trk_registered from
 * trk_cursor_init_part, then trk_tombs_scan) filtered by the segment mask:
 * at most sync_scan entries and sync_dgrams datagrams per tick, so a sync
 * never stalls the node, and it always ends: segments asked for while a
 * scan runs wait for the next scan, which starts when this one ends.
 * Repair datagrams are not acknowledged: one that is lost leaves its
 * segments different, and the next round repairs them again.
 *
 * A joining or restarted node takes no part in anti-entropy until it is
 * ready: its verified sync (clu_verify.c) asks a peer for a push of every
 * segment it lacks, paced like any repair, with the peers serving lookups
 * and writes throughout.
 *
 * Purge: when a member dies or leaves, every node removes the plain
 * entries whose owner (the node the client registered through) it was, by
 * a paced scan (trk_drop: no change queued). Nothing is replicated:
 * every node sees the death and purges by itself, and REGISTERs of a dead
 * owner arriving late are dropped (clu_apply). trk_drop's tombstone sits
 * right below the entry's version: after a netsplit each side has purged
 * the other's entries, and when it heals anti-entropy must bring them
 * back (same version: allowed), but not an older copy of the name that
 * some node kept because it missed the purged entry (older: refused).
 */
#include <stdlib.h>
#include <string.h>

#include "clu_internal.h"
#include "mix.h"

#define PAGE 16

uint64_t
clu_fold_seg(const struct trk_digest_seg *s)
{
	uint64_t z = s->count * MIX_GAMMA;

	z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ULL;
	return s->x ^ z ^ (z >> 29);
}


static bool
mask_full(const uint64_t m[4])
{
	return (m[0] & m[1] & m[2] & m[3]) == UINT64_MAX;
}

/* ---- anti-entropy rounds ---- */

/*
 * Digests cannot agree while our stream to p has batches p has not
 * acknowledged: comparing then only finds changes in flight and pushes
 * whole segments the stream is about to deliver anyway. Such a round is
 * skipped (on both ends); the next one, a round later, compares.
 */
static bool
stream_busy(const struct clu *c, const struct clu_peer *p, uint32_t part)
{
	const struct clu_out *o = &p->out[part];

	return o->active && (o->acked < c->part[part].head ||
			c->part[part].open.count > 0);
}

/*
 * Anti-entropy is between nodes that hold the registry: a node that is
 * not ready, or a partition being verified, gets what it lacks from its
 * verified sync, which pushes each record once. Digests exchanged with
 * it would differ in every segment while it fills, and each round would
 * push the whole partition again (a restarted node's sync cost its peers
 * 20 full pushes before this rule).
 */
static bool
ae_between(const struct clu *c, const struct clu_peer *p, uint32_t part)
{
	return c->ready && !c->part[part].verifying && p->ready &&
		clu_peer_serves(p);
}

/* The next peer to exchange digests with, round robin. */
static struct clu_peer *
next_peer(struct clu *c, struct clu_part *pp, uint32_t part)
{
	uint32_t k;

	for (k = 0; k < c->npeers; k++) {
		struct clu_peer *p = &c->peer[(pp->ae_rr + k) % c->npeers];

		if (ae_between(c, p, part)) {
			pp->ae_rr = (pp->ae_rr + k + 1) % c->npeers;
			return p;
		}
	}
	return NULL;
}

static void
send_digest(struct clu *c, struct clu_peer *p, uint32_t part)
{
	struct trk_digest_seg seg[TRK_DIGEST_SEGS];
	uint32_t first, i;
	struct clu_wr w;

	trk_digest(c->t, part, seg, TRK_DIGEST_SEGS);
	for (first = 0; first < TRK_DIGEST_SEGS; first += CLU_DIGEST_PER_DGRAM) {
		if (clu_msg_begin(c, &w, CLU_T_DIGEST, (uint16_t)part) == NULL)
			return;
		clu_put_be(&w, first, 2);
		clu_put_be(&w, CLU_DIGEST_PER_DGRAM, 2);
		for (i = 0; i < CLU_DIGEST_PER_DGRAM; i++)
			clu_put_be(&w, clu_fold_seg(&seg[first + i]), 8);
		clu_msg_send(c, &w, p);
	}
	c->st.ae_rounds++;
}

bool
clu_knows_ready_peer(const struct clu *c)
{
	uint32_t i;

	for (i = 0; i < c->npeers; i++)
		if (clu_peer_serves(&c->peer[i]) && c->peer[i].ready)
			return true;
	return false;
}

/* Forget a push (keeps the count buffer's memory). */
void
clu_repair_reset(struct clu_repair *rp)
{
	uint32_t *cnt = rp->cnt;

	memset(rp, 0, sizeof(*rp));
	rp->cnt = cnt;
}

/* Starts a push of mask to p, or queues the bits a running one lacks. */
static void
repair_want(struct clu_repair *rp, uint32_t part, const uint64_t mask[4])
{
	int i;

	if (!rp->active) {
		clu_repair_reset(rp);
		memcpy(rp->mask, mask, sizeof(rp->mask));
		trk_cursor_init_part(&rp->cur, part);
		rp->active = true;
		return;
	}
	for (i = 0; i < 4; i++)
		rp->next[i] |= mask[i] & ~rp->mask[i];
	/* a syncing node waits for a complete push: owe it one */
	if (mask_full(mask) && !mask_full(rp->mask))
		rp->full_next = true;
}

void
clu_sync_rx_digest(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		struct clu_rd *r, uint64_t now)
{
	struct trk_digest_seg seg[TRK_DIGEST_SEGS];
	uint64_t mask[4] = { 0 };
	uint32_t first = (uint32_t)clu_get_be(r, 2);
	uint32_t n = (uint32_t)clu_get_be(r, 2), i;
	struct clu_wr w;

	if (r->bad || n > CLU_DIGEST_PER_DGRAM || first + n > TRK_DIGEST_SEGS ||
	    clu_rd_left(r) != 8 * n) {
		c->st.rx_malformed++;
		return;
	}
	(void)now;
	if (!ae_between(c, p, h->part))
		return;	/* one of us is syncing: its verified sync does it */
	if (stream_busy(c, p, h->part))
		return;	/* our changes to the sender are still in flight */
	trk_digest(c->t, h->part, seg, TRK_DIGEST_SEGS);
	for (i = first; i < first + n; i++) {
		if (clu_get_be(r, 8) == clu_fold_seg(&seg[i]))
			continue;
		mask[i / 64] |= 1ULL << (i % 64);
		c->st.ae_segs_differ++;
	}
	if (clu_mask_empty(mask))
		return;
	repair_want(&p->rep[h->part], h->part, mask);
	if (clu_msg_begin(c, &w, CLU_T_REPAIR_REQ, h->part) == NULL)
		return;
	for (i = 0; i < 4; i++)
		clu_put_be(&w, mask[i], 8);
	clu_msg_send(c, &w, p);
}

/* Starts a sync push of diff (answering req) to p, now. */
static void
sync_push_start(struct clu_repair *rp, uint32_t part, uint32_t id,
		const uint64_t req_in[4], const uint64_t diff_in[4])
{
	uint64_t next[4], req[4], diff[4];
	bool full_next = rp->full_next;

	memcpy(req, req_in, sizeof(req));	/* they may point into rp */
	memcpy(diff, diff_in, sizeof(diff));
	memcpy(next, rp->next, sizeof(next));
	clu_repair_reset(rp);
	memcpy(rp->next, next, sizeof(next));	/* plain asks still owed */
	rp->full_next = full_next;
	if (rp->cnt != NULL)
		memset(rp->cnt, 0, TRK_DIGEST_SEGS * sizeof(*rp->cnt));
	memcpy(rp->mask, diff, sizeof(rp->mask));
	memcpy(rp->req, req, sizeof(rp->req));
	rp->sync_id = id;
	trk_cursor_init_part(&rp->cur, part);
	rp->active = true;
}

static void
rx_sync_request(struct clu *c, struct clu_peer *p, uint32_t part,
		const uint64_t mask[4], struct clu_rd *r)
{
	struct clu_repair *rp = &p->rep[part];
	uint64_t req[4], diff[4];
	uint32_t id;

	memcpy(req, mask, sizeof(req));
	if (!clu_verify_rx_request(c, r, part, req, diff, &id)) {
		c->st.rx_malformed++;
		return;
	}
	if (clu_mask_empty(diff)) {		/* all equal: nothing to push */
		clu_verify_send_last(c, p, part, id, req, NULL);
		return;
	}
	if (rp->cnt == NULL &&
	    (rp->cnt = calloc(TRK_DIGEST_SEGS, sizeof(*rp->cnt))) == NULL)
		return;
	/* a sync push of an older request is worth nothing to p any more
	 * (it counts only the newest): this one replaces it at once */
	if (!rp->active || rp->sync_id != 0) {
		sync_push_start(rp, part, id, req, diff);
		return;
	}
	rp->sync_next = id;	/* after the plain repair; a newer ask wins */
	memcpy(rp->next_req, req, sizeof(req));
	memcpy(rp->next_diff, diff, sizeof(diff));
}

void
clu_sync_rx_request(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		struct clu_rd *r)
{
	uint64_t mask[4];
	int i;

	for (i = 0; i < 4; i++)
		mask[i] = clu_get_be(r, 8);
	if (!r->bad && (h->flags & CLU_F_SYNC)) {
		rx_sync_request(c, p, h->part, mask, r);
		return;
	}
	if (r->bad || clu_rd_left(r) != 0) {
		c->st.rx_malformed++;
		return;
	}
	if (!clu_mask_empty(mask))
		repair_want(&p->rep[h->part], h->part, mask);
}

void
clu_sync_rx_repair(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		struct clu_rd *r, uint64_t now)
{
	struct trk_change *ch = &c->chbuf[0];
	bool sync = (h->flags & CLU_F_SYNC) != 0;
	uint32_t id = sync ? (uint32_t)clu_get_be(r, 4) : 0;
	uint32_t n = (uint32_t)clu_get_be(r, 2), i;
	int rc;

	if (sync && (h->flags & CLU_F_LAST)) {
		if (n != 0 || r->bad)
			c->st.rx_malformed++;
		else
			clu_verify_rx_last(c, p, h->part, id, r, now);
		return;
	}
	if (sync && !r->bad)
		clu_verify_heard(p, h->part, id, now);
	for (i = 0; i < n && !r->bad; i++) {
		if (!clu_rec_get(r, ch) || trk_part_of(c->t, ch->rec.hash) !=
				h->part) {
			c->st.rx_malformed++;
			return;
		}
		rc = clu_apply(c, ch, now);
		if (sync && rc == CLU_DEAD_OWNER)
			clu_verify_dead(p, h->part, id);
		else if (sync)
			clu_verify_count(p, h->part, id, ch->rec.hash);
		if (rc == TRK_OK)
			c->st.repair_applied++;
	}
	if (r->bad || clu_rd_left(r) != 0)
		c->st.rx_malformed++;
}

static bool
addr_eq(const struct mbr_addr *a, const struct mbr_addr *b)
{
	return a->ip == b->ip && a->port == b->port;
}

static const struct clu_peer *
peer_at(const struct clu *c, const struct mbr_addr *a)
{
	uint32_t i;

	for (i = 0; i < c->npeers; i++)
		if (c->peer[i].used && clu_peer_live(&c->peer[i]) &&
		    addr_eq(&c->peer[i].addr, a))
			return &c->peer[i];
	return NULL;
}

/*
 * A cold start: every seed has answered, and every member we know is, by
 * its own last word, not ready and unaware of any ready node. Nobody then
 * holds a registry to sync from (a node that is not ready has never owned
 * a name): the nodes are a new cluster and become ready together, without
 * a sync and without waiting out ready_deadline.
 */
static bool
cold_start(const struct clu *c)
{
	const struct clu_peer *p;
	uint32_t i;

	for (i = 0; i < c->nseeds; i++) {
		if (addr_eq(&c->seeds[i], &c->cfg.addr))
			continue;
		if ((p = peer_at(c, &c->seeds[i])) == NULL || !p->heard)
			return false;
	}
	for (i = 0; i < c->npeers; i++) {
		p = &c->peer[i];
		if (clu_peer_serves(p) && (!p->heard || !p->cold))
			return false;
	}
	return true;
}

/*
 * Becoming ready without a sync, we count the cold members we heard as
 * ready too: they decide the same way at about the same moment, and a
 * ring that already holds them means no two nodes own one name while the
 * ready flags cross. A member counted too early refuses the writes it is
 * sent (not_ready) until it is ready; a member that restarts is taken out
 * again by its new epoch.
 */
static void
adopt_cold_peers(struct clu *c)
{
	uint32_t i;

	for (i = 0; i < c->npeers; i++) {
		struct clu_peer *p = &c->peer[i];

		if (clu_peer_serves(p) && p->heard && p->cold && !p->ready)
			p->ready = p->adopted = p->announced = true;
	}
}

/*
 * A node still cold when its peers completed a cold start was counted in
 * their rings: it owns its names there already (and has refused them,
 * not_ready), so no write of them was made anywhere it has not seen, and
 * the peers' streams bring it their own writes. When every ready peer it
 * knows says so (READY with the founder flag), it joins them without a
 * sync, which on a presized table would be a walk of every bucket.
 */
enum founded { FOUNDED_NO, FOUNDED_YES, FOUNDED_UNKNOWN };

/*
 * A peer seen ready on some other datagram may still be sending its
 * READY: until it arrives (or CLU_ANNOUNCE_WAIT_MS pass, should it be
 * lost) we cannot tell whether it counted us, and asking it for a full
 * push in the meantime would cost it a walk of its whole table.
 */
static enum founded
founded(const struct clu *c, uint64_t now)
{
	uint32_t i, n = 0;
	bool unknown = false;

	for (i = 0; i < c->npeers; i++) {
		const struct clu_peer *p = &c->peer[i];

		if (!clu_peer_serves(p) || !p->ready)
			continue;
		if (!p->announced && now - p->ready_ms < CLU_ANNOUNCE_WAIT_MS)
			unknown = true;
		else if (!p->founder)
			return FOUNDED_NO;
		n++;
	}
	return unknown ? FOUNDED_UNKNOWN : n > 0 ? FOUNDED_YES : FOUNDED_NO;
}

/*
 * Ready: own names from now on, and tell every serving peer at once
 * rather than with the next probe (up to a probe interval later): until
 * a peer knows, its ring and ours disagree on who owns what. A lost
 * READY costs only that wait: every later datagram carries the flag.
 */
static void
become_ready(struct clu *c)
{
	struct clu_wr w;
	uint32_t i;

	c->ready = true;
	clu_view_rebuild(c);
	/*
	 * The names our ring now gives us were decided by other nodes until
	 * they see us ready. Verify once more before deciding any: a peer
	 * answers our sync request only after its header (ready flag) put us
	 * in its ring, so what it decided before is in its stream up to the
	 * position it names, and nothing after. With no ready peer (alone, a
	 * cold start) this ends at once.
	 */
	clu_verify_start_all(c);
	for (i = 0; i < c->npeers; i++) {
		struct clu_peer *p = &c->peer[i];

		if (!clu_peer_serves(p) ||
		    clu_msg_begin(c, &w, CLU_T_READY, 0) == NULL)
			continue;
		if (p->adopted)
			w.p[5] |= CLU_F_FOUNDER;	/* header flags byte */
		clu_msg_send(c, &w, p);
	}
}

/*
 * Readiness: a node may own names only once it holds the registry, or it
 * would answer not_found for names it has not received yet, or accept a
 * write that an acknowledged entry it lacks should have refused. Until
 * then it verifies every partition with every ready peer (clu_verify.c)
 * and becomes ready when all are synced. A node that finds no ready peer
 * before ready_deadline is alone and ready at once; so are the nodes of a
 * cold start.
 */
void
clu_sync_ready_tick(struct clu *c, uint64_t now)
{
	enum founded f = founded(c, now);

	if (f == FOUNDED_YES) {
		c->ready_how = "cold start, founded";
		adopt_cold_peers(c);
		become_ready(c);
		return;
	}
	if (f == FOUNDED_UNKNOWN)
		return;	/* a READY in flight may spare the sync */
	if (clu_knows_ready_peer(c)) {
		if (clu_verify_tick(c, now) == c->nparts) {
			c->ready_how = "synced";
			become_ready(c);
		}
	} else if (now >= c->ready_deadline || cold_start(c)) {
		c->ready_how = now >= c->ready_deadline ? "alone" : "cold start";
		adopt_cold_peers(c);
		become_ready(c);
	}
}

/* ---- push scans ---- */

/* A REPAIR datagram being filled for one peer. */
struct push {
	struct clu *c;
	struct clu_peer *p;
	uint32_t part;
	struct clu_wr w;
	bool open;
	uint16_t count;
	struct clu_repair *rp;	/* a sync push counts what it sends */
	uint64_t now;
};

/* Where the record count sits: after the push id in a sync push. */
static size_t
count_off(const struct push *x)
{
	return CLU_HDR_LEN + (x->rp->sync_id != 0 ? 4 : 0);
}

static void
push_close(struct push *x)
{
	if (!x->open)
		return;
	x->w.p[count_off(x)] = (uint8_t)(x->count >> 8);
	x->w.p[count_off(x) + 1] = (uint8_t)x->count;
	clu_msg_send(x->c, &x->w, x->p);
	x->c->part[x->part].dgrams_tick++;
	x->c->st.repair_sent += x->count;
	x->rp->sync_sent_ms = x->now;
	x->open = false;
}

/*
 * A sync push (running, or waiting behind a plain repair) that has sent
 * nothing for repl_rto_ms sends an empty datagram of it: the requester
 * then knows it is coming and does not ask again (clu_verify.c).
 */
static void
push_keepalive(struct push *x)
{
	struct clu_repair *rp = x->rp;
	uint32_t id = rp->sync_id != 0 ? rp->sync_id : rp->sync_next;

	if (id == 0 || x->now - rp->sync_sent_ms < x->c->cfg.repl_rto_ms)
		return;
	if (clu_msg_begin(x->c, &x->w, CLU_T_REPAIR, (uint16_t)x->part) == NULL)
		return;
	x->w.p[5] |= CLU_F_SYNC;	/* header flags byte */
	clu_put_be(&x->w, id, 4);
	clu_put_be(&x->w, 0, 2);	/* no records */
	clu_msg_send(x->c, &x->w, x->p);
	rp->sync_sent_ms = x->now;
}

static bool
push_rec(struct push *x, const struct trk_change *ch)
{
	/* a sync push counts every record it means to send, so one it could
	 * not (a full send queue) leaves its segment short, never "equal" */
	if (x->rp->sync_id != 0 && x->rp->cnt != NULL)
		x->rp->cnt[trk_digest_seg_of(ch->rec.hash)]++;
	if (x->open && x->w.cap - x->w.len < clu_rec_size(ch))
		push_close(x);
	if (!x->open) {
		if (clu_msg_begin(x->c, &x->w, CLU_T_REPAIR,
				(uint16_t)x->part) == NULL)
			return false;
		if (x->rp->sync_id != 0) {
			x->w.p[5] |= CLU_F_SYNC;	/* header flags byte */
			clu_put_be(&x->w, x->rp->sync_id, 4);
		}
		clu_put_be(&x->w, 0, 2);	/* count, patched on close */
		x->open = true;
		x->count = 0;
	}
	if (!clu_rec_put(&x->w, ch))
		return false;
	x->count++;
	return true;
}

static void
push_entry(struct push *x, const struct trk_entry *e)
{
	struct trk_change *ch = &x->c->chbuf[0];
	size_t i, n;

	memset(ch, 0, offsetof(struct trk_change, rec));
	ch->kind = TRK_CH_REGISTER;
	trk_entry_copy(e, &ch->rec);
	push_rec(x, ch);
	n = trk_entry_joins(x->c->t, x->part, e, &x->c->chbuf[1],
			TRK_GROUPS_PER_ENTRY);
	for (i = 0; i < n; i++)
		push_rec(x, &x->c->chbuf[1 + i]);
}

static bool
budget_left(const struct push *x)
{
	return x->c->part[x->part].dgrams_tick < x->c->cfg.sync_dgrams;
}

static void
scan_entries(struct push *x, struct clu_repair *rp, uint64_t now)
{
	const struct trk_entry *ent[PAGE];
	uint32_t scanned = 0;
	size_t n, i;

	/* an empty partition: no walk over its (presized, so possibly
	 * millions of) empty buckets, which takes hundreds of ms */
	if (trk_part_count(x->c->t, x->part) == 0) {
		rp->phase = 1;
		return;
	}
	while (scanned < x->c->cfg.sync_scan && budget_left(x)) {
		if (trk_cursor_part(&rp->cur) != x->part) {
			rp->phase = 1;
			return;
		}
		if (trk_registered(x->c->t, &rp->cur, now, ent, PAGE, &n) != 0) {
			rp->phase = 1;
			return;
		}
		for (i = 0; i < n; i++) {
			if (trk_part_of(x->c->t, ent[i]->hash) == x->part &&
			    clu_mask_has(rp->mask, trk_digest_seg_of(ent[i]->hash)))
				push_entry(x, ent[i]);
		}
		scanned += PAGE;
	}
}

static void
scan_tombs(struct push *x, struct clu_repair *rp)
{
	struct trk_change *buf = &x->c->chbuf[1];
	size_t n, i;

	while (budget_left(x) && rp->tomb_cur != TRK_SCAN_DONE) {
		n = trk_tombs_scan(x->c->t, x->part, &rp->tomb_cur, rp->mask,
				buf, 32);
		for (i = 0; i < n; i++)
			push_rec(x, &buf[i]);
	}
	if (rp->tomb_cur != TRK_SCAN_DONE)
		return;
	if (rp->sync_id != 0) {
		push_close(x);
		clu_verify_send_last(x->c, x->p, x->part, rp->sync_id, rp->req,
				rp->cnt);
		rp->sync_id = 0;
	}
	/* done; a sync asked for meanwhile goes first, then plain asks */
	if (rp->sync_next != 0) {
		uint32_t id = rp->sync_next;

		rp->sync_next = 0;
		sync_push_start(rp, x->part, id, rp->next_req, rp->next_diff);
		return;
	}
	if (rp->full_next) {
		memset(rp->next, 0xff, sizeof(rp->next));
		rp->full_next = false;
	}
	if (clu_mask_empty(rp->next)) {
		rp->active = false;
		return;
	}
	memcpy(rp->mask, rp->next, sizeof(rp->mask));
	memset(rp->next, 0, sizeof(rp->next));
	trk_cursor_init_part(&rp->cur, x->part);
	rp->tomb_cur = 0;
	rp->phase = 0;
}

static void
repair_tick(struct clu *c, uint32_t part, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < c->npeers; i++) {
		struct clu_peer *p = &c->peer[i];
		struct clu_repair *rp = &p->rep[part];
		struct push x = { .c = c, .p = p, .part = part, .rp = rp,
				  .now = now };

		if (!rp->active || !clu_peer_serves(p))
			continue;
		push_keepalive(&x);
		if (!budget_left(&x))
			continue;	/* the others still say they are busy */
		if (rp->phase == 0)
			scan_entries(&x, rp, now);
		if (rp->phase == 1)
			scan_tombs(&x, rp);
		push_close(&x);
	}
}

/* ---- purge of dead owners ---- */

void
clu_sync_start_purge(struct clu *c)
{
	uint32_t part;

	for (part = 0; part < c->nparts; part++) {
		c->part[part].purge_active = true;
		trk_cursor_init_part(&c->part[part].purge_cur, part);
	}
}

/* Drops the entries the purge found on earlier pages, but not those of a
 * member that came back meanwhile: its registrations come back with it. */
static void
purge_drop(struct clu *c, struct clu_part *pp, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < pp->ndrop; i++) {
		struct clu_drop *d = &pp->drop[i];
		struct trk_key key = trk_key_hashed(d->name, d->len, d->hash);

		if (clu_is_dead(c, d->owner) &&
		    trk_drop(c->t, &key, &d->v, now) == TRK_OK)
			c->st.purged++;
	}
	pp->ndrop = 0;
}

static void
purge_tick(struct clu *c, uint32_t part, uint64_t now)
{
	struct clu_part *pp = &c->part[part];
	const struct trk_entry *ent[PAGE];
	uint32_t scanned = 0;
	size_t n, i;

	if (pp->drop == NULL &&
	    (pp->drop = malloc(CLU_DROP_MAX * sizeof(*pp->drop))) == NULL)
		return;
	if (trk_part_count(c->t, part) == 0)
		pp->purge_active = false;	/* nothing to purge: no walk */
	while (pp->purge_active && scanned < c->cfg.sync_scan) {
		if (trk_cursor_part(&pp->purge_cur) != part ||
		    trk_registered(c->t, &pp->purge_cur, now, ent, PAGE, &n) != 0) {
			pp->purge_active = false;
			break;
		}
		/* the cursor has moved past the earlier pages: drop them now */
		if (pp->ndrop + n > CLU_DROP_MAX)
			purge_drop(c, pp, now);
		for (i = 0; i < n; i++) {
			struct clu_drop *d;

			if (trk_part_of(c->t, ent[i]->hash) != part ||
			    (ent[i]->flags & TRK_F_MANAGED) ||
			    !clu_is_dead(c, ent[i]->owner))
				continue;
			d = &pp->drop[pp->ndrop++];
			d->hash = ent[i]->hash;
			d->v = ent[i]->version;
			d->owner = ent[i]->owner;
			d->len = ent[i]->name_len;
			memcpy(d->name, trk_entry_name(ent[i]), d->len);
		}
		scanned += PAGE;
	}
	if (!pp->purge_active)
		purge_drop(c, pp, now);	/* the scan is over: nothing to keep */
}

/* ---- tick ---- */

void
clu_sync_tick(struct clu *c, uint64_t now)
{
	uint32_t part;

	for (part = 0; part < c->nparts; part++) {
		struct clu_part *pp = &c->part[part];

		pp->dgrams_tick = 0;
		if (now >= pp->ae_next_ms) {
			struct clu_peer *p = next_peer(c, pp, part);

			if (p != NULL && !stream_busy(c, p, part))
				send_digest(c, p, part);
			pp->ae_next_ms = now + c->cfg.ae_interval_ms +
				clu_rand(c) % (c->cfg.ae_interval_ms / 4 + 1);
		}
		repair_tick(c, part, now);
		purge_tick(c, part, now);
	}
}

bool
clu_sync_idle(const struct clu *c)
{
	uint32_t part, i;

	for (part = 0; part < c->nparts; part++) {
		if (c->part[part].purge_active || c->part[part].ndrop > 0)
			return false;
		for (i = 0; i < c->npeers; i++)
			if (c->peer[i].rep[part].active &&
			    clu_peer_serves(&c->peer[i]))
				return false;
	}
	return true;
}
