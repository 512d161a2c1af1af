/*
 * proto_fields.h - field types and codecs shared by requests and replies.
 *
 * Three things both directions need:
 *  - the endpoint (family + port + 0/4/16 address bytes) and the entry
 *    (the registration as replies carry it), with decode functions that
 *    validate every value and encode functions that refuse what the
 *    decoder would refuse, so decode(encode(x)) == x always holds;
 *  - the datagram header;
 *  - the framing walk: before any op is decoded, the whole datagram is
 *    checked op header by op header (lengths against the bytes left, the
 *    op count against the ops present, nothing after the last op). After a
 *    successful walk, op bodies can be sliced without further framing
 *    checks, and a broken datagram has executed nothing.
 * All functions are pure; any thread.
 */
#ifndef SWARM_PROTO_FIELDS_H
#define SWARM_PROTO_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto_defs.h"
#include "proto_wire.h"

struct proto_endpoint {
	uint8_t family;		/* PROTO_AF_NONE, _IPV4 or _IPV6 */
	uint16_t port;		/* host order; 0 iff family is none */
	uint8_t addr[16];	/* network order; first 4 bytes for IPv4 */
};

struct proto_version {
	uint64_t clock;
	uint32_t node;
};

/* A registration as replies carry it; name and meta are views. */
struct proto_entry {
	uint64_t handle;
	uint32_t node;
	struct proto_version ver;
	uint32_t ttl_ms;	/* remaining lease; 0 = none */
	struct proto_endpoint ep;
	struct proto_bytes name;
	struct proto_bytes meta;
};

/* Result of checking a datagram's header and framing. */
struct proto_dgram {
	uint64_t req_id;	/* valid from PROTO_EVERSION onwards */
	uint16_t nops;
	uint8_t version;
	uint8_t flags;		/* header flags as received */
	uint8_t bad_field;	/* enum proto_field when EMALFORMED */
	struct proto_rd ops;	/* the op bytes, after the header */
};

/* Encoder state over one outgoing datagram (requests and replies). */
struct proto_enc {
	uint8_t *buf;
	struct proto_wr w;
	uint16_t nops;
};

/* Encoded size of an endpoint (3, 7 or 19), or 0 when it is invalid. */
size_t proto_endpoint_len(const struct proto_endpoint *ep);
bool proto_endpoint_decode(struct proto_rd *r, struct proto_endpoint *ep);
/* Needs proto_endpoint_len(ep) bytes of room, reserved by the caller. */
void proto_endpoint_encode(struct proto_wr *w, const struct proto_endpoint *ep);

/* Encoded size of an entry, or 0 when a value is out of range. */
size_t proto_entry_len(const struct proto_entry *e);
/* On failure returns false and sets *field to the first bad field. */
bool proto_entry_decode(struct proto_rd *r, struct proto_entry *e,
		uint8_t *field);
/* Needs proto_entry_len(e) bytes of room, reserved by the caller. */
void proto_entry_encode(struct proto_wr *w, const struct proto_entry *e);

/*
 * Checks the header and the framing of a datagram. want_reply selects the
 * direction (REPLY flag set or clear); op_hdr_len and len_off describe the
 * op header of that direction (size, offset of its u16 body length).
 * Returns 0, or PROTO_ESHORT / EMAGIC / EKIND (drop), PROTO_EVERSION,
 * PROTO_ETOOLARGE, PROTO_EMALFORMED (d->bad_field set).
 */
int proto_dgram_open(struct proto_dgram *d, const void *buf, size_t len,
		bool want_reply, size_t op_hdr_len, size_t len_off);

/*
 * Starts a datagram in buf: writes the header with op count 0. cap above
 * PROTO_MAX_DGRAM is clamped to it. Returns 0 or PROTO_ENOSPC.
 */
int proto_enc_start(struct proto_enc *e, void *buf, size_t cap,
		uint8_t flags, uint64_t req_id);

/*
 * Writes the op count into the header and returns the datagram length, or
 * 0 when no op was added (a datagram without ops is invalid). Requests and
 * replies alike; more ops may still be added afterwards.
 */
size_t proto_enc_finish(struct proto_enc *e);

#endif /* SWARM_PROTO_FIELDS_H */
