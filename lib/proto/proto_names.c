/*
 * proto_names.c - printable names of opcodes, statuses, fields and return
 * codes, spelled as docs/protocol.md spells them, for logs and swarmctl.
 */
#include <stddef.h>

#include "proto_defs.h"

static const char *
lookup(const char *const *names, size_t n, unsigned int v)
{
	return v < n && names[v] != NULL ? names[v] : "?";
}

const char *
proto_opcode_name(unsigned int opcode)
{
	static const char *const names[] = {
		[PROTO_OP_REGISTER] = "REGISTER",
		[PROTO_OP_UNREGISTER] = "UNREGISTER",
		[PROTO_OP_WHEREIS] = "WHEREIS",
		[PROTO_OP_WHEREIS_OR_REGISTER] = "WHEREIS_OR_REGISTER",
		[PROTO_OP_REGISTERED] = "REGISTERED",
		[PROTO_OP_REGISTER_MANAGED] = "REGISTER_MANAGED",
		[PROTO_OP_JOIN] = "JOIN",
		[PROTO_OP_LEAVE] = "LEAVE",
		[PROTO_OP_MEMBERS] = "MEMBERS",
		[PROTO_OP_SEND] = "SEND",
		[PROTO_OP_PUBLISH] = "PUBLISH",
		[PROTO_OP_MULTI_CALL] = "MULTI_CALL",
		[PROTO_OP_STATUS] = "STATUS",
		[PROTO_OP_STATS] = "STATS",
		[PROTO_OP_READINESS] = "READINESS",
	};

	return lookup(names, sizeof(names) / sizeof(names[0]), opcode);
}

const char *
proto_status_name(unsigned int status)
{
	static const char *const names[] = {
		[PROTO_ST_OK] = "ok",
		[PROTO_ST_NOT_FOUND] = "not_found",
		[PROTO_ST_ALREADY_REGISTERED] = "already_registered",
		[PROTO_ST_HANDLE_MISMATCH] = "handle_mismatch",
		[PROTO_ST_BAD_REQUEST] = "bad_request",
		[PROTO_ST_UNSUPPORTED] = "unsupported",
		[PROTO_ST_BAD_VERSION] = "bad_version",
		[PROTO_ST_TOO_LARGE] = "too_large",
		[PROTO_ST_OVERLOADED] = "overloaded",
		[PROTO_ST_NO_NODE_AVAILABLE] = "no_node_available",
		[PROTO_ST_INTERNAL] = "internal",
		[PROTO_ST_NOT_READY] = "not_ready",
	};

	return lookup(names, sizeof(names) / sizeof(names[0]), status);
}

const char *
proto_field_name(unsigned int field)
{
	static const char *const names[] = {
		[PROTO_F_NONE] = "none",
		[PROTO_F_VERSION] = "version",
		[PROTO_F_FLAGS] = "flags",
		[PROTO_F_RESERVED] = "reserved",
		[PROTO_F_OP_COUNT] = "op_count",
		[PROTO_F_OP_LENGTH] = "op_length",
		[PROTO_F_TRAILING] = "trailing",
		[PROTO_F_OPCODE] = "opcode",
		[PROTO_F_OP_FLAGS] = "op_flags",
		[PROTO_F_NAME] = "name",
		[PROTO_F_GROUP] = "group",
		[PROTO_F_METADATA] = "metadata",
		[PROTO_F_HANDLE] = "handle",
		[PROTO_F_ENDPOINT] = "endpoint",
		[PROTO_F_TTL] = "ttl",
		[PROTO_F_CURSOR] = "cursor",
		[PROTO_F_MAX_COUNT] = "max_count",
		[PROTO_F_BODY] = "body",
	};

	return lookup(names, sizeof(names) / sizeof(names[0]), field);
}

const char *
proto_ready_state_name(unsigned int state)
{
	static const char *const names[] = {
		[PROTO_READY_SERVING] = "serving",
		[PROTO_READY_JOINING] = "joining",
		[PROTO_READY_SYNCING] = "syncing",
		[PROTO_READY_NO_OWNER] = "no_owner",
	};

	return lookup(names, sizeof(names) / sizeof(names[0]), state);
}

const char *
proto_err_name(int err)
{
	static const char *const names[] = {
		[-PROTO_ESHORT] = "short datagram",
		[-PROTO_EMAGIC] = "bad magic",
		[-PROTO_EKIND] = "wrong direction",
		[-PROTO_EVERSION] = "unsupported version",
		[-PROTO_ETOOLARGE] = "datagram too large",
		[-PROTO_EMALFORMED] = "malformed",
		[-PROTO_EUNSUPP] = "unsupported opcode",
		[-PROTO_ENOSPC] = "no space",
		[-PROTO_EINVAL] = "invalid value",
	};

	if (err == PROTO_OK)
		return "ok";
	if (err == PROTO_END)
		return "end";
	if (err > 0)
		return "?";
	return lookup(names, sizeof(names) / sizeof(names[0]),
			(unsigned int)-err);
}
