/*
 * member.h - SWIM-style cluster membership as a pure state machine (sans-IO).
 *
 * The state machine never reads a clock, opens a socket, starts a thread or
 * draws randomness of its own. Inputs: a configuration, this node's identity,
 * a 64-bit PRNG seed (the only source of randomness: probe order and the
 * choice of indirect probers), received messages and the current time `now`
 * in MILLISECONDS (monotonic, any epoch, never decreasing between calls).
 * Outputs are pulled by the caller: messages to put on the wire
 * (mbr_poll_send, each with a destination address) and membership events
 * (mbr_poll_events). The protocol is described in docs/membership.md.
 *
 * Not thread safe: one struct mbr is driven by one thread.
 *
 * Node identity: a name (1..MBR_NAME_MAX bytes, opaque), an address (IPv4 and
 * UDP port, opaque to this library: host byte order by convention) and an
 * incarnation. Names identify members; the address is where messages go.
 */
#ifndef SWARM_MEMBER_H
#define SWARM_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MBR_NAME_MAX		64	/* node name: 1..64 bytes */
#define MBR_MSG_MAX_UPDATES	14	/* piggybacked updates in one message */
#define MBR_WIRE_MAGIC		0x5347	/* "SG"; the client protocol is 0x5357 */
#define MBR_WIRE_VERSION	1
#define MBR_WIRE_MAX		1353	/* largest encoded message, bytes */
#define MBR_AWARENESS_MAX	8	/* Lifeguard: timeouts scale up to 8x */

struct mbr_addr {
	uint32_t ip;
	uint16_t port;
};

struct mbr_node {
	uint8_t name_len;		/* 1..MBR_NAME_MAX */
	char name[MBR_NAME_MAX];	/* not NUL terminated */
	struct mbr_addr addr;
	uint32_t id;			/* cluster node id, opaque here */
	uint64_t incarnation;
};

enum mbr_state {
	MBR_ALIVE = 1,
	MBR_SUSPECT = 2,
	MBR_DEAD = 3,
	MBR_LEFT = 4,		/* graceful leave: final like dead */
};

/* One piggybacked membership update: `node` is in `state` at its incarnation. */
struct mbr_update {
	uint8_t state;		/* enum mbr_state */
	struct mbr_node node;
};

enum mbr_msg_type {
	MBR_MSG_PING = 1,	/* direct probe of `target`; answered by ACK */
	MBR_MSG_ACK = 2,	/* answer to PING with the same seq */
	MBR_MSG_PING_REQ = 3,	/* ask the receiver to probe `target` for us */
	MBR_MSG_INDIRECT_ACK = 4, /* relayed: `target` answered; seq is ours */
	MBR_MSG_JOIN = 5,	/* a new node asks a seed for the member list */
	MBR_MSG_JOIN_REPLY = 6,	/* (part of) the member list, in updates */
};

struct mbr_msg {
	struct mbr_addr dst;	/* output: where to send; input: ignored */
	uint8_t type;		/* enum mbr_msg_type */
	uint32_t seq;
	struct mbr_node from;	/* sender identity (an alive claim) */
	struct mbr_node target;	/* PING, PING_REQ, INDIRECT_ACK only */
	uint8_t n_updates;	/* 0..MBR_MSG_MAX_UPDATES */
	struct mbr_update updates[MBR_MSG_MAX_UPDATES];
};

enum mbr_event_type {
	MBR_EV_JOINED = 1,	/* new member, or a dead/left one back with a higher incarnation */
	MBR_EV_SUSPECT = 2,
	MBR_EV_ALIVE = 3,	/* a suspect member refuted: alive again */
	MBR_EV_DEAD = 4,
	MBR_EV_LEFT = 5,
};

struct mbr_event {
	uint8_t type;		/* enum mbr_event_type */
	uint64_t at;		/* `now` of the call that produced it */
	struct mbr_node node;	/* the member, incarnation as of the event */
};

struct mbr_config {
	uint32_t probe_interval;	/* ms between probes (T); default 1000 */
	uint32_t probe_timeout;		/* ms before indirect probes; default 500, < interval */
	uint8_t indirect_k;		/* indirect probers per failed probe; default 3 */
	uint8_t suspicion_mult;		/* suspicion = mult x ceil(log2(n+1)) x T; default 4 */
	uint8_t max_piggyback;		/* updates per message, 1..MBR_MSG_MAX_UPDATES; default 8 */
	uint8_t retransmit_mult;	/* sends per update = mult x ceil(log2(n+1)); default 4 */
	bool awareness;			/* Lifeguard local health scaling; default true */
	uint32_t max_members;		/* member table size incl. self; default 256 */
};

struct mbr_member_info {
	struct mbr_node node;
	uint8_t state;			/* enum mbr_state */
};

struct mbr_stats {
	uint64_t probes;		/* direct pings started */
	uint64_t probes_failed;		/* probes that ended without any ack */
	uint64_t ping_reqs_sent;
	uint64_t refutes;		/* incarnation bumps to refute suspicion/death */
	uint64_t deaths_suspected;	/* deaths heard of a member held alive: suspected */
	uint64_t rejected;		/* received messages rejected (bad/stale/ours) */
	uint64_t table_full;		/* new members dropped: table full */
	uint64_t send_dropped;		/* outgoing messages dropped: queue full */
	uint64_t events_dropped;	/* events dropped: queue full (oldest kept) */
};

struct mbr;

/* Fill `cfg` with the defaults above (memberlist LAN values). */
void mbr_config_default(struct mbr_config *cfg);

/*
 * Create a member state machine for `self` (valid name, any incarnation; the
 * caller persists and raises it across restarts so a restarted node rejoins).
 * NULL on an invalid config/identity or out of memory.
 */
struct mbr *mbr_create(const struct mbr_config *cfg, const struct mbr_node *self,
		       uint64_t seed);
void mbr_destroy(struct mbr *m);

/*
 * Start joining via `n` seed addresses (their names are unknown until they
 * answer): sends JOIN to each and resends every probe interval from mbr_tick
 * until a JOIN_REPLY arrives. Seeds equal to our own address are skipped.
 * Returns the number of seeds contacted.
 */
size_t mbr_join(struct mbr *m, const struct mbr_addr *seeds, size_t n, uint64_t now);

/* Drive timers: probes, indirect probes, suspicion timeouts, join retries. */
void mbr_tick(struct mbr *m, uint64_t now);

/*
 * Handle one decoded message. Returns 0 if accepted, -1 if rejected (invalid
 * fields, addressed to another node, from ourselves, or we have left).
 */
int mbr_receive(struct mbr *m, const struct mbr_msg *msg, uint64_t now);

/*
 * Graceful leave: bump our incarnation, mark ourselves LEFT and send the
 * update to every live member. Afterwards the node ignores input and tick
 * does nothing; drain mbr_poll_send and then destroy it.
 */
void mbr_leave(struct mbr *m, uint64_t now);

/* Pull up to `max` queued messages / events, oldest first; returns count. */
size_t mbr_poll_send(struct mbr *m, struct mbr_msg *out, size_t max);
size_t mbr_poll_events(struct mbr *m, struct mbr_event *out, size_t max);

/* Queries. Index 0 is always self; members are never removed (dead stay). */
size_t mbr_member_count(const struct mbr *m);
int mbr_member_get(const struct mbr *m, size_t i, struct mbr_member_info *out);
int mbr_lookup(const struct mbr *m, const char *name, size_t len,
	       struct mbr_member_info *out);
size_t mbr_alive_count(const struct mbr *m);	/* alive + suspect, incl. self */
uint64_t mbr_incarnation(const struct mbr *m);
unsigned mbr_awareness(const struct mbr *m);	/* 0..MBR_AWARENESS_MAX-1 */
void mbr_get_stats(const struct mbr *m, struct mbr_stats *out);

/* Timers as currently computed (ms), for tests and operators. */
uint64_t mbr_suspicion_timeout(const struct mbr *m);
unsigned mbr_retransmit_limit(const struct mbr *m);

/*
 * Wire codec (big endian, docs/membership.md). mbr_encode returns the number
 * of bytes written, 0 if `msg` is invalid or `cap` too small. mbr_decode
 * returns 0 on success, -1 on any malformed input (every length checked, no
 * trailing bytes); msg->dst is zeroed.
 */
size_t mbr_encode(const struct mbr_msg *msg, uint8_t *buf, size_t cap);
int mbr_decode(const uint8_t *buf, size_t len, struct mbr_msg *msg);

#endif
