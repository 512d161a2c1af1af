/*
 * clu_internal.h - state of a cluster node, shared by the lib/cluster files.
 */
#ifndef SWARM_CLU_INTERNAL_H
#define SWARM_CLU_INTERNAL_H

#include "clu.h"
#include "clu_wire.h"
#include "ring.h"

#define CLU_PEERS_MAX		256
#define CLU_BATCH_HDR		18	/* base u64, seq u64, count u16 */
#define CLU_BODY_MAX		(CLU_DGRAM_MAX - CLU_HDR_LEN - CLU_TAG_LEN)
#define CLU_BATCH_CAP		(CLU_BODY_MAX - CLU_BATCH_HDR)
#define CLU_FWD_REPLY_HDR	29	/* units u8; token, base, seq u64, idx,
					 * count u8, len u16 */
#define CLU_FWD_REPLY_CAP	(CLU_BODY_MAX - CLU_FWD_REPLY_HDR)
#define CLU_PENDING_MAX		1024	/* forwarded sub-requests in flight */
#define CLU_HOLD_MAX		256	/* replies waiting for replication */
#define CLU_ANNOUNCE_WAIT_MS	50	/* for a READY seen flagged elsewhere */
#define CLU_REPLY_QUEUE		1024
#define CLU_SUBS_MAX		32	/* (owner, partition) splits per request */
#define CLU_FWD_OPS_MAX		64	/* write ops in one forwarded sub-request */
#define CLU_REORDER		64	/* batches a receiver holds past a gap */
#define CLU_WIN_BITS		4096	/* replay window: datagrams per peer epoch */
#define CLU_HELLO_MS		20	/* HELLO again while a peer's epoch is unknown */
#define CLU_STALE_REPLY_MS	100	/* tell a stale sender at most this often */
#define CLU_CLOCK_EPOCH_SHIFT	20	/* partition clocks start at epoch << 20 */
#define CLU_EPOCH_MAX		(1ULL << 42)	/* ms: year 2109; keeps the shift in range */

/*
 * An entry the purge found on one page and drops after fetching the next:
 * dropping it at once would delete the listing cursor's anchors and force
 * the cursor to rescan the partition from its start for every page.
 */
#define CLU_DROP_MAX		64
struct clu_drop {
	uint64_t hash;
	struct trk_version v;
	uint32_t owner;		/* dropped only while it is still dead */
	uint8_t len;
	uint8_t name[TRK_NAME_MAX];
};

/* One closed (or open) replication batch: encoded records. */
struct clu_batch {
	uint64_t seq;
	uint16_t len;
	uint16_t count;
	uint8_t body[CLU_BATCH_CAP];
};

/* Our stream of partition p to one peer. */
struct clu_out {
	bool active;
	uint64_t base;		/* stream starts after this batch seq */
	uint64_t acked;		/* peer has applied every batch <= acked */
	uint64_t sent;		/* highest seq sent */
	uint64_t sack;		/* bit i: acked + 2 + i is held by the peer */
	uint64_t gen;		/* receiver's generation of this stream, 0: none yet */
	uint64_t floor;		/* batches <= floor were skipped (restart): not held */
	uint64_t progress_ms;	/* last send or ack progress */
};

/* A peer's stream of partition p to us. */
struct clu_in {
	uint64_t epoch;		/* 0: none yet */
	uint64_t base;
	uint64_t expected;	/* next seq to apply */
	uint64_t gen;		/* raised each time we adopt a stream */
	uint64_t have;		/* bit i: expected + 1 + i is held in buf */
	struct clu_batch *buf;	/* [CLU_REORDER], allocated on first gap */
	bool ack_due;
};

/* A paced push of some segments of partition p to one peer. */
struct clu_repair {
	bool active;
	uint8_t phase;		/* 0 entries, 1 tombstones */
	uint64_t mask[4];	/* segments this scan pushes */
	uint64_t next[4];	/* asked for during the scan: the next one */
	bool full_next;		/* a full push was asked for during the scan */
	struct trk_cursor cur;
	uint64_t tomb_cur;
	/* a verified sync push (clu_verify.c): its id, 0 for a plain one */
	uint32_t sync_id;
	uint64_t req[4];	/* the segments it answers for */
	uint32_t *cnt;		/* [TRK_DIGEST_SEGS] records pushed per segment */
	uint32_t sync_next;	/* a sync asked for during this push */
	uint64_t sync_sent_ms;	/* a datagram of the sync push last went */
	uint64_t next_req[4], next_diff[4];
};

/* Our verification of partition p with one peer (clu_verify.c). */
struct clu_vsync {
	uint32_t id;		/* the request in flight, 0: none */
	bool done;		/* every segment verified; stream target below */
	uint64_t mask[4];	/* segments not verified yet */
	uint64_t heard_ms;	/* asked, or a record of the push arrived */
	uint32_t tries;		/* requests without an answer so far */
	bool last;		/* LAST came: waiting for records it overtook */
	bool dead_seen;		/* the push held entries of a member we purged */
	uint64_t forgot_ms;	/* we last told it we lost its stream */
	uint32_t dead_rounds;	/* requests asked again for that reason */
	uint64_t base, head;	/* its stream position at LAST */
	uint32_t *cnt;		/* [TRK_DIGEST_SEGS] records received */
	uint32_t *want;		/* [TRK_DIGEST_SEGS] pushed, as LAST says */
};

struct clu_peer {
	bool used;
	uint8_t state;		/* enum mbr_state */
	bool conflict;		/* id clash: ignored */
	bool ready;		/* it said it has synced: it may own names */
	bool heard;		/* a datagram of it (this epoch) reached us */
	bool cold;		/* its last datagram: not ready, knows no ready node */
	bool adopted;		/* we counted it ready at our cold start */
	bool founder;		/* it counted us ready at its cold start */
	bool announced;		/* its READY datagram arrived (founder or not) */
	uint64_t ready_ms;	/* when we first saw it ready */
	uint64_t epoch;		/* its highest epoch heard; never goes back */
	uint64_t rx_top;	/* highest seq seen in that epoch */
	uint64_t rx_win[CLU_WIN_BITS / 64];	/* seqs seen, by seq % BITS */
	uint64_t hello_ms;	/* next HELLO while its epoch is unknown */
	uint64_t stale_ms;	/* last time we told it its epoch is old */
	uint64_t heard_ms;	/* last authentic datagram of this epoch */
	uint64_t purge_ms;	/* dead: purge its entries then (0: no) */
	uint64_t purged_epoch;	/* we purged that life of it (0: none) */
	bool votes;		/* the filters let it own names: a quorum vote */
	uint32_t id;
	struct mbr_addr addr;
	char name[MBR_NAME_MAX + 1];
	struct clu_out *out;	/* [nparts] */
	struct clu_in *in;	/* [nparts] */
	struct clu_repair *rep;	/* [nparts] */
	struct clu_vsync *vs;	/* [nparts] */
};

struct clu_part {
	struct clu_batch *log;	/* repl_log slots, seq & (repl_log - 1) */
	uint64_t head;		/* last closed seq (0: none) */
	uint64_t appended;	/* records ever appended to the log */
	struct clu_batch open;	/* seq head + 1, being filled */
	uint64_t ae_next_ms;
	uint32_t ae_rr;		/* round-robin position over peers */
	bool purge_active;
	struct trk_cursor purge_cur;
	struct clu_drop *drop;	/* [CLU_DROP_MAX] found, not yet dropped */
	uint32_t ndrop;
	uint32_t dgrams_tick;	/* repair datagrams sent this tick */
	bool verifying;		/* not yet verified with every ready peer: its
				 * writes are answered not_ready */
};

/* A forwarded sub-request waiting for its owner's answer. */
struct clu_pending {
	bool used;
	uint16_t gen;
	uint16_t part;
	uint16_t nops;
	uint16_t answered;
	uint32_t owner;		/* node id */
	uint64_t req_id;
	uint64_t deadline;
	uint8_t tag[CLU_CLIENT_TAG];
	uint16_t index[CLU_FWD_OPS_MAX];
	uint8_t opcode[CLU_FWD_OPS_MAX];
	uint8_t done[CLU_FWD_OPS_MAX];
};

/*
 * An answer held by the owner until enough replicas have acknowledged the
 * request's changes (the REPLICAS request flag): a client reply (local
 * request) or a FWD_REPLY datagram (forwarded one). marks point into
 * clu.amark: per partition, the log position to be acknowledged (0: none).
 */
#define CLU_AHOLD_MAX		256
#define CLU_AHOLD_QUORUM	2048	/* static_quorum_ring: every write waits */
struct clu_ahold {
	bool used;
	bool gossip;		/* d is a FWD_REPLY (unsealed); else r is a client reply */
	uint8_t replicas;
	uint16_t peer;		/* slot the FWD_REPLY goes to */
	uint64_t deadline;
	uint64_t *mark;		/* [nparts] */
	struct clu_reply r;
	struct clu_dgram d;
};

/* An open FWD or FWD_REPLY datagram (clu_fwdq.c). */
#define CLU_FWDQ_MAX		16
struct clu_fwdq {
	bool used;
	uint8_t type;
	uint8_t units;
	uint16_t peer;		/* slot */
	uint16_t part;
	struct clu_wr w;	/* into buf, after the unit count */
	uint8_t buf[CLU_DGRAM_MAX];
};

/* A relayed reply held until the change it reports has replicated here. */
struct clu_hold {
	bool used;
	uint16_t peer;		/* slot */
	uint16_t part;
	uint64_t epoch, base, seq;	/* the owner's stream position */
	uint64_t deadline;
	struct clu_reply r;
};

struct clu {
	struct clu_config cfg;
	struct clu_keyring nokeys;
	const struct clu_keyring *keys;
	struct trk *t;
	struct exec_node xn;
	uint32_t nparts;
	uint64_t epoch;		/* ours: from the incarnation, only grows */
	uint64_t tx_seq;	/* last datagram sequence of this epoch */
	uint64_t rng;
	bool left;
	bool ready;		/* synced (or alone): may own names */
	const char *ready_how;	/* "synced", "cold start", "alone" */
	uint64_t ready_deadline; /* alone until then: ready without sync */
	uint64_t reconnect_ms;	/* next attempt to reach dead members */
	uint64_t seek_ms;	/* not ready: next JOIN to unheard seeds */
	uint64_t in_gen;	/* last stream generation handed out */
	uint32_t vs_ids;	/* last sync request id */
	uint32_t ring_ids[CLU_PEERS_MAX + 1];	/* members of the last ring */
	uint32_t nring_ids;
	bool lease;		/* static_quorum_ring: a quorum heard lately */
	bool votes;		/* the filters let this node own names */
	uint64_t lease_ms;	/* how lately: half the fastest failure detection */
	uint64_t beat_ms;	/* next heartbeat to the ring */
	struct mbr_addr seeds[CLU_PEERS_MAX];
	uint32_t nseeds;

	struct mbr *mbr;
	struct ring *ring;	/* NULL: no owner (alone below quorum) */
	struct clu_peer peer[CLU_PEERS_MAX];
	uint32_t npeers;	/* slots used (high-water mark) */
	uint32_t dead[CLU_PEERS_MAX];	/* ids whose entries are purged */
	uint32_t ndead;

	struct clu_part *part;	/* [nparts] */

	struct clu_pending *pending;	/* [CLU_PENDING_MAX] */
	uint32_t pend_rr;
	uint32_t npending;		/* used slots: ticks skip the scan at 0 */
	struct clu_reqctx *rq;		/* request scratch (clu_fwd.c) */
	struct clu_hold *hold;		/* [CLU_HOLD_MAX] */
	uint32_t nhold;
	struct clu_ahold *ahold;	/* [ahold_max] */
	uint64_t *amark;		/* [ahold_max * nparts] */
	uint32_t ahold_max, ahold_rr;
	uint32_t nahold;

	struct clu_fwdq *fwdq;		/* [CLU_FWDQ_MAX], on first use */
	uint32_t nfwdq, fwdq_rr;
	struct clu_dgram *sendq;	/* ring of cfg.send_queue */
	uint32_t sq_head, sq_len;
	struct clu_reply *replyq;	/* ring of CLU_REPLY_QUEUE */
	uint32_t rq_head, rq_len;

	struct trk_change *chbuf;	/* scratch for drains and scans */
	struct exec_out *xout;		/* scratch for exec */
	struct clu_stats st;
};

/* clu_node.c */
uint64_t clu_rand(struct clu *c);
struct clu_peer *clu_peer_by_id(struct clu *c, uint32_t id);
bool clu_peer_live(const struct clu_peer *p);
bool clu_peer_serves(const struct clu_peer *p);	/* live, no id clash */
bool clu_is_dead(const struct clu *c, uint32_t id);
/* Start a datagram to dst: the writer is positioned after the header. */
struct clu_wr *clu_msg_begin(struct clu *c, struct clu_wr *w, uint8_t type,
		uint16_t part);
/* Seal and queue it to a member (its epoch as we know it goes along). */
void clu_msg_send(struct clu *c, struct clu_wr *w, const struct clu_peer *p);
/* Seal and queue it to an address (a member's, or a seed's). */
void clu_msg_end(struct clu *c, struct clu_wr *w, const struct mbr_addr *dst);
/* Write a header for a datagram to be queued later (clu_msg_queue). */
void clu_msg_init(struct clu *c, struct clu_wr *w, uint8_t *buf, uint8_t type,
		uint16_t part);
/* Seal and queue a datagram built with clu_msg_init, to p. */
void clu_msg_queue(struct clu *c, const uint8_t *buf, size_t len,
		const struct clu_peer *p);
/* Rebuild the ring (membership or readiness changed). */
void clu_view_rebuild(struct clu *c);
/* Replica acks every write waits for: a quorum's in static_quorum_ring. */
uint32_t clu_min_replicas(const struct clu *c);
/* The REPLICAS value a write asked for, raised so that it waits for them. */
uint8_t clu_replicas_flag(const struct clu *c, uint8_t asked);
/* Queue a client reply. */
void clu_reply_push(struct clu *c, const uint8_t *tag, const uint8_t *buf,
		size_t len);

/* clu_repl.c */
int clu_repl_init(struct clu *c);
void clu_repl_free(struct clu *c);
void clu_repl_drain(struct clu *c, uint32_t part);	/* tracker -> open batch */
void clu_repl_flush(struct clu *c, uint32_t part);	/* close open batch */
void clu_repl_tick(struct clu *c, uint64_t now);
/* Send what partition part has ready for every peer, now. */
void clu_repl_tick_part(struct clu *c, uint32_t part, uint64_t now);
void clu_repl_peer_up(struct clu *c, struct clu_peer *p, uint64_t now);
void clu_repl_peer_down(struct clu *c, struct clu_peer *p);
void clu_repl_forgot(struct clu *c, struct clu_peer *p, uint32_t part,
		uint64_t base);
void clu_repl_rx_batch(struct clu *c, struct clu_peer *p,
		const struct clu_hdr *h, struct clu_rd *r, uint64_t now);
void clu_repl_rx_ack(struct clu *c, struct clu_peer *p,
		const struct clu_hdr *h, struct clu_rd *r, uint64_t now);
/*
 * Apply one received record: trk_apply's status (TRK_OK: it changed
 * state), or CLU_DEAD_OWNER for a REGISTER of a member we purged, which is
 * dropped (counted dead_owner_dropped).
 */
#define CLU_DEAD_OWNER	(TRK_IGNORED + 1)
int clu_apply(struct clu *c, const struct trk_change *ch, uint64_t now);
/*
 * Decode up to max (at most CLU_STAGE_RECS) records of r into c->chbuf,
 * then prefetch their names-table buckets and entries, so that applying
 * them in order overlaps their misses (as lib/exec does for requests).
 * Returns how many were decoded; *bad when the next one is malformed (the
 * decoded ones before it are still good, to apply). For replication
 * batches, whose records come in write order (random positions); a sync
 * push comes in position order, whose lines the CPU already streams in,
 * and staging it measured 3-15 % slower (perf/cluster).
 */
#define CLU_STAGE_RECS	16
uint32_t clu_rec_stage(struct clu *c, struct clu_rd *r, uint32_t max,
		bool *bad);
bool clu_repl_idle(const struct clu *c);
/* Forget a peer's stream (keeps the reorder buffer's memory). */
void clu_in_reset(struct clu_in *in);

/* Segment masks: bit s of m[s / 64]. */
static inline bool
clu_mask_has(const uint64_t m[4], uint32_t seg)
{
	return (m[seg / 64] >> (seg % 64)) & 1;
}

static inline bool
clu_mask_empty(const uint64_t m[4])
{
	return (m[0] | m[1] | m[2] | m[3]) == 0;
}

/* clu_sync.c */
void clu_repair_reset(struct clu_repair *rp);
/* A segment digest (x, count) folded to the 64 bits DIGEST carries. */
uint64_t clu_fold_seg(const struct trk_digest_seg *s);
void clu_sync_tick(struct clu *c, uint64_t now);
void clu_sync_rx_digest(struct clu *c, struct clu_peer *p,
		const struct clu_hdr *h, struct clu_rd *r, uint64_t now);
void clu_sync_rx_request(struct clu *c, struct clu_peer *p,
		const struct clu_hdr *h, struct clu_rd *r);
void clu_sync_rx_repair(struct clu *c, struct clu_peer *p,
		const struct clu_hdr *h, struct clu_rd *r, uint64_t now);
void clu_sync_start_purge(struct clu *c);
/* Not ready yet: ask for full pushes, become ready when they are in. */
void clu_sync_ready_tick(struct clu *c, uint64_t now);
/* Some serving peer said it is ready. */
bool clu_knows_ready_peer(const struct clu *c);
bool clu_sync_idle(const struct clu *c);

/* clu_verify.c */
void clu_verify_start(struct clu *c, uint32_t part);
void clu_verify_start_all(struct clu *c);
void clu_verify_peer_reset(struct clu *c, struct clu_peer *p);
/* Every partition is verified again with the peers it is not verified
 * with (a member we purged came back); the others stay verified. */
void clu_verify_reopen(struct clu *c);
uint32_t clu_verify_tick(struct clu *c, uint64_t now);	/* partitions synced */
void clu_verify_count(struct clu_peer *p, uint32_t part, uint32_t id,
		uint64_t hash);
void clu_verify_heard(struct clu_peer *p, uint32_t part, uint32_t id,
		uint64_t now);
void clu_verify_dead(struct clu_peer *p, uint32_t part, uint32_t id);
void clu_verify_rx_last(struct clu *c, struct clu_peer *p, uint32_t part,
		uint32_t id, struct clu_rd *r, uint64_t now);
bool clu_verify_rx_request(struct clu *c, struct clu_rd *r, uint32_t part,
		uint64_t req[4], uint64_t diff[4], uint32_t *id);
void clu_verify_send_last(struct clu *c, struct clu_peer *p, uint32_t part,
		uint32_t id, const uint64_t req[4], const uint32_t *cnt);
void clu_verify_free(struct clu *c);

/* clu_fwd.c */
void clu_fwd_tick(struct clu *c, uint64_t now);
void clu_fwd_rx(struct clu *c, struct clu_peer *p, const struct clu_hdr *h,
		struct clu_rd *r, uint64_t now);
void clu_fwd_rx_reply(struct clu *c, struct clu_peer *p,
		const struct clu_hdr *h, struct clu_rd *r, uint64_t now);
void clu_fwd_peer_down(struct clu *c, uint32_t id);
void clu_fwd_release_held(struct clu *c, uint64_t now);
void clu_fwd_free(struct clu *c);
/* Release owner-held answers whose replicas have acknowledged. */
void clu_fwd_release_acked(struct clu *c, uint64_t now);

/* clu_fwdq.c */
/*
 * A writer positioned for one unit of need bytes in the open datagram of
 * (type, p, part), the datagram's unit count already raised; NULL when
 * the send queue has no room for it (the caller answers overloaded).
 */
struct clu_wr *clu_fwdq_unit(struct clu *c, uint8_t type,
		const struct clu_peer *p, uint16_t part, size_t need);
/* Seal and queue every open datagram (clu_poll_send does, first). */
void clu_fwdq_close_all(struct clu *c);
void clu_fwdq_free(struct clu *c);

#endif /* SWARM_CLU_INTERNAL_H */
