/*
 * clu_wire.h - the cluster protocol's datagram format (docs/cluster.md).
 *
 * Every gossip datagram is an envelope: a 24-byte header, a body, and the
 * keyring's tag (clu_auth.h). Big endian throughout. The readers here are
 * strict: every length is checked against the datagram, values out of
 * range are refused, trailing bytes are refused.
 */
#ifndef SWARM_CLU_WIRE_H
#define SWARM_CLU_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tracker.h"

#define CLU_MAGIC		0x5343	/* "SC" */
#define CLU_VERSION		5	/* 5: FWD units; 4: keyed BLAKE2b tags */
#define CLU_HDR_LEN		40
#define CLU_HDR_DST_OFF		24	/* dst epoch u64, then seq u64 */
#define CLU_NO_PART		0xffff
#define CLU_DIGEST_PER_DGRAM	128	/* segments per DIGEST datagram */
#define CLU_REC_FIXED		32	/* record bytes before address and names */
#define CLU_REC_MAX		(CLU_REC_FIXED + 16 + 3 * 255)

enum clu_type {
	CLU_T_MEMBER = 1,	/* body: a lib/member message */
	CLU_T_BATCH = 2,	/* sequenced replication batch */
	CLU_T_ACK = 3,		/* cumulative ack of a stream */
	CLU_T_DIGEST = 4,	/* anti-entropy segment digests */
	CLU_T_REPAIR_REQ = 5,	/* push me these segments */
	CLU_T_REPAIR = 6,	/* unsequenced records from a repair scan */
	CLU_T_FWD = 7,		/* client write ops for their owner */
	CLU_T_FWD_REPLY = 8,	/* owner's reply datagram for a FWD */
	CLU_T_READY = 9,	/* header only: the sender just became ready */
	CLU_T_HELLO = 10,	/* header only: here is my epoch (and lease) */
	CLU_T__MAX
};

/* Header flags. */
#define CLU_F_READY	0x01	/* sender has synced: it may own names */
#define CLU_F_LAST	0x02	/* REPAIR: the last datagram of a push */
#define CLU_F_COLD	0x04	/* sender is not ready and knows no ready node */
#define CLU_F_FOUNDER	0x08	/* READY: you are in my ring since my cold start */
#define CLU_F_ECHO	0x10	/* HELLO: answer with one (I lack your epoch) */
#define CLU_F_SYNC	0x20	/* REPAIR_REQ, REPAIR: a verified sync push */
#define CLU_F_ALL	(CLU_F_READY | CLU_F_LAST | CLU_F_COLD | \
			 CLU_F_FOUNDER | CLU_F_ECHO | CLU_F_SYNC)

struct clu_hdr {
	uint8_t type;
	uint8_t key_id;
	uint8_t flags;		/* CLU_F_* */
	uint16_t part;		/* CLU_NO_PART when not about a partition */
	uint16_t nparts;	/* sender's partition count */
	uint32_t sender;	/* node id */
	uint64_t epoch;		/* sender's epoch: grows with every restart */
	uint64_t dst_epoch;	/* receiver's epoch as the sender knows it, 0: none */
	uint64_t seq;		/* per sender epoch, from 1: replay detection */
};

/* A bounded big-endian writer / reader over caller memory. */
struct clu_wr {
	uint8_t *p;
	size_t cap, len;
	bool bad;
};

struct clu_rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

void clu_wr_init(struct clu_wr *w, uint8_t *buf, size_t cap);
void clu_put(struct clu_wr *w, const void *src, size_t n);
void clu_put_be(struct clu_wr *w, uint64_t v, unsigned bytes);

void clu_rd_init(struct clu_rd *r, const uint8_t *buf, size_t len);
uint64_t clu_get_be(struct clu_rd *r, unsigned bytes);
const uint8_t *clu_get(struct clu_rd *r, size_t n);	/* NULL when short */
static inline size_t clu_rd_left(const struct clu_rd *r) { return r->len - r->off; }

/* Header: write one (40 bytes) / parse one (false on bad magic, version,
 * type or reserved bytes). */
void clu_hdr_put(struct clu_wr *w, const struct clu_hdr *h);
bool clu_hdr_get(struct clu_rd *r, struct clu_hdr *h);
/* Fill in the destination epoch and sequence of a written header. */
void clu_hdr_set_dst(uint8_t *hdr, uint64_t dst_epoch, uint64_t seq);

/* Encoded size of a change record. */
size_t clu_rec_size(const struct trk_change *ch);
/* Append a change record; false (w->bad) when it does not fit. */
bool clu_rec_put(struct clu_wr *w, const struct trk_change *ch);
/*
 * Read one record into ch, validating everything the tracker would and
 * recomputing the name hash (a peer's hash is never trusted). false on
 * malformed input.
 */
bool clu_rec_get(struct clu_rd *r, struct trk_change *ch);

#endif /* SWARM_CLU_WIRE_H */
