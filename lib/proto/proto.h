/*
 * proto.h - the client wire protocol v1 (docs/protocol.md), in one include.
 *
 *   proto_defs.h    constants: limits, opcodes, statuses, field codes
 *   proto_wire.h    bounded big-endian reader/writer, byte views
 *   proto_fields.h  endpoint, entry, header and framing codecs
 *   proto_req.h     request decoder and encoder
 *   proto_rep.h     reply encoder and decoder, paged replies
 *
 * Plain byte buffers only: no sockets, no DPDK, no allocation, no clock.
 */
#ifndef SWARM_PROTO_H
#define SWARM_PROTO_H

#include "proto_defs.h"
#include "proto_wire.h"
#include "proto_fields.h"
#include "proto_req.h"
#include "proto_rep.h"

#endif /* SWARM_PROTO_H */
