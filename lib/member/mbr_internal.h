/* mbr_internal.h - shared between the lib/member sources. */
#ifndef SWARM_MBR_INTERNAL_H
#define SWARM_MBR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "member.h"

bool mbr_type_has_target(uint8_t type);
bool mbr_node_valid(const struct mbr_node *n);
bool mbr_msg_valid(const struct mbr_msg *msg);

#endif
