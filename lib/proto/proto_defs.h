/*
 * proto_defs.h - every constant of the client wire protocol v1.
 *
 * Limits, opcodes, status codes, field codes and the library's return codes
 * live here and nowhere else, so that the daemon, the client library and the
 * tools cannot disagree about a number. docs/protocol.md is the normative
 * description; the section numbers below point into it.
 */
#ifndef SWARM_PROTO_DEFS_H
#define SWARM_PROTO_DEFS_H

#include <stdint.h>

/* Header (section 3). */
#define PROTO_MAGIC		0x5357u	/* "SW" */
#define PROTO_VERSION		1u
#define PROTO_VERSION_MIN	1u
#define PROTO_VERSION_MAX	1u
#define PROTO_HDR_LEN		16u
#define PROTO_FLAG_REPLY	0x01u
/*
 * Requests only: bits 1..2 = REPLICAS, how many other live nodes must have
 * applied the request's writes before it is answered (0: the owner alone;
 * PROTO_REPLICAS_ALL: every live node). See docs/protocol.md.
 */
#define PROTO_FLAG_REPLICAS_SHIFT 1
#define PROTO_FLAG_REPLICAS	0x06u
#define PROTO_REPLICAS_ALL	3u

/* Sizes and limits (sections 1, 4, 5, 7). */
#define PROTO_MAX_DGRAM		1472u	/* 1500 MTU - IPv4 20 - UDP 8 */
#define PROTO_OP_HDR_LEN	4u	/* request op: opcode, flags, length */
#define PROTO_REP_HDR_LEN	6u	/* reply op: index, opcode, status, length */
#define PROTO_MAX_OPS		((PROTO_MAX_DGRAM - PROTO_HDR_LEN) / PROTO_OP_HDR_LEN)
#define PROTO_NAME_MAX		255u
#define PROTO_GROUP_MAX		255u
#define PROTO_META_MAX		255u
#define PROTO_NODE_NAME_MAX	255u
#define PROTO_CURSOR_MAX	32u
#define PROTO_INDEX_DGRAM	0xffffu	/* reply op index: the whole datagram */
#define PROTO_ENTRY_FIXED_LEN	28u	/* entry without endpoint and strings */
#define PROTO_RECEIPT_LEN	16u
#define PROTO_STATS_MAX		64u	/* counters in one STATS reply */
#define PROTO_STATS_NAME_MAX	64u	/* counter name: 1..64 of [a-z0-9_.] */
/* Largest reply op body: a reply op alone in a datagram (1450). */
#define PROTO_REP_BODY_MAX	(PROTO_MAX_DGRAM - PROTO_HDR_LEN - \
				 PROTO_REP_HDR_LEN)

/* Endpoint address families (section 7). */
#define PROTO_AF_NONE		0u
#define PROTO_AF_IPV4		4u
#define PROTO_AF_IPV6		6u

/* Request op flags (section 4.3). */
#define PROTO_OPF_EXPECT_HANDLE	0x01u	/* UNREGISTER */

/* Page flags (section 5.3). */
#define PROTO_PAGE_END		0x01u

/* WHEREIS_OR_REGISTER outcome (section 5.3). */
#define PROTO_WOR_FOUND		0u
#define PROTO_WOR_REGISTERED	1u

/* Opcodes (section 4.2). Reserved ones are listed so nobody reuses them. */
enum proto_opcode {
	PROTO_OP_REGISTER		= 0x01,
	PROTO_OP_UNREGISTER		= 0x02,
	PROTO_OP_WHEREIS		= 0x03,
	PROTO_OP_WHEREIS_OR_REGISTER	= 0x04,
	PROTO_OP_REGISTERED		= 0x05,
	PROTO_OP_REGISTER_MANAGED	= 0x06,	/* reserved */
	PROTO_OP_JOIN			= 0x10,
	PROTO_OP_LEAVE			= 0x11,
	PROTO_OP_MEMBERS		= 0x12,
	PROTO_OP_SEND			= 0x20,	/* reserved */
	PROTO_OP_PUBLISH		= 0x21,	/* reserved */
	PROTO_OP_MULTI_CALL		= 0x22,	/* reserved */
	PROTO_OP_STATUS			= 0x30,
	PROTO_OP_STATS			= 0x31,
	PROTO_OP_READINESS		= 0x32,
};

/* Reply status codes (section 6). */
enum proto_status {
	PROTO_ST_OK			= 0,
	PROTO_ST_NOT_FOUND		= 1,
	PROTO_ST_ALREADY_REGISTERED	= 2,
	PROTO_ST_HANDLE_MISMATCH	= 3,
	PROTO_ST_BAD_REQUEST		= 4,
	PROTO_ST_UNSUPPORTED		= 5,
	PROTO_ST_BAD_VERSION		= 6,
	PROTO_ST_TOO_LARGE		= 7,
	PROTO_ST_OVERLOADED		= 8,
	PROTO_ST_NO_NODE_AVAILABLE	= 9,
	PROTO_ST_INTERNAL		= 10,
	PROTO_ST_NOT_READY		= 11,
};

/* What READINESS says a node is doing (section 5.3). */
enum proto_ready_state {
	PROTO_READY_SERVING	= 0,	/* reads and writes */
	PROTO_READY_JOINING	= 1,	/* looking for its peers */
	PROTO_READY_SYNCING	= 2,	/* receiving the registry */
	PROTO_READY_NO_OWNER	= 3,	/* serving reads; writes: no_node_available */
	PROTO_READY_STATE_MAX	= 3,
};

/* Which field was bad, carried by bad_request (section 8.3). */
enum proto_field {
	PROTO_F_NONE		= 0,
	PROTO_F_VERSION		= 1,
	PROTO_F_FLAGS		= 2,
	PROTO_F_RESERVED	= 3,
	PROTO_F_OP_COUNT	= 4,
	PROTO_F_OP_LENGTH	= 5,
	PROTO_F_TRAILING	= 6,
	PROTO_F_OPCODE		= 7,
	PROTO_F_OP_FLAGS	= 8,
	PROTO_F_NAME		= 9,
	PROTO_F_GROUP		= 10,
	PROTO_F_METADATA	= 11,
	PROTO_F_HANDLE		= 12,
	PROTO_F_ENDPOINT	= 13,
	PROTO_F_TTL		= 14,
	PROTO_F_CURSOR		= 15,
	PROTO_F_MAX_COUNT	= 16,
	PROTO_F_BODY		= 17,
};

/*
 * Return codes of every proto_ function: 0 on success, a negative value
 * otherwise. The decoders also set a field code telling what was wrong.
 */
enum proto_err {
	PROTO_OK	= 0,
	PROTO_END	= 1,	/* iterators: nothing left (not an error) */
	PROTO_ESHORT	= -1,	/* shorter than a header: drop */
	PROTO_EMAGIC	= -2,	/* not this protocol: drop */
	PROTO_EKIND	= -3,	/* reply where a request was expected, or back */
	PROTO_EVERSION	= -4,	/* other protocol version: answer bad_version */
	PROTO_ETOOLARGE	= -5,	/* above PROTO_MAX_DGRAM: answer too_large */
	PROTO_EMALFORMED = -6,	/* see the field code: answer bad_request */
	PROTO_EUNSUPP	= -7,	/* opcode not implemented: answer unsupported */
	PROTO_ENOSPC	= -8,	/* encoder: does not fit the buffer */
	PROTO_EINVAL	= -9,	/* encoder: a value outside its range */
};

/* Names for logs and tools; never NULL ("?" when unknown). Any thread. */
const char *proto_opcode_name(unsigned int opcode);
const char *proto_status_name(unsigned int status);
const char *proto_ready_state_name(unsigned int state);
const char *proto_field_name(unsigned int field);
const char *proto_err_name(int err);

#endif /* SWARM_PROTO_DEFS_H */
