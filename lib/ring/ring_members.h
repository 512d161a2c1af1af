/*
 * ring_members.h - the mutable set of nodes a ring is built from.
 *
 * A member set is what the control side knows about the cluster: every live
 * node's name, its weight and the caller's id for it. It is edited as nodes
 * come and go, and ring_build() (ring.h) turns a snapshot of it into an
 * immutable lookup structure. The set itself is never read by the packet
 * path.
 *
 * Node ids belong to the caller (typically the index of the node in the
 * membership table). The ring returns them from lookups and compares them for
 * equality only: placement never depends on ids or on the order in which
 * nodes were added, only on names and weights. Ids must be unique within a
 * set, and RING_NO_NODE is reserved for "no owner".
 *
 * Threading: a member set is plain single-threaded data. One thread (the
 * control thread that handles membership) owns it; no RCU is involved.
 */
#ifndef SWARM_RING_MEMBERS_H
#define SWARM_RING_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

/* Lookup result meaning "no node available" (empty ring or no quorum). */
#define RING_NO_NODE UINT32_MAX
/* A node name is a C string of 1..RING_NAME_MAX bytes. */
#define RING_NAME_MAX 255
/* Weights are integers in 1..RING_WEIGHT_MAX; 1 is the usual value. */
#define RING_WEIGHT_MAX 64
/* Upper bound on the nodes of one set (ranks are stored in 16 bits). */
#define RING_NODES_MAX 4096

struct ring_members;

/* One node as stored in a set; name points into the set's own copy. */
struct ring_member {
	const char *name;
	uint32_t weight;
	uint32_t id;
};

/* Empty set, or NULL when out of memory. */
struct ring_members *ring_members_create(void);
/* Frees the set and its name copies. NULL is accepted. */
void ring_members_destroy(struct ring_members *m);

/*
 * Adds a node. The name is copied. Returns 0, -EINVAL (NULL/empty/too long
 * name, weight outside 1..RING_WEIGHT_MAX, id RING_NO_NODE), -EEXIST (name or
 * id already present), -ENOSPC (RING_NODES_MAX reached) or -ENOMEM.
 */
int ring_members_add(struct ring_members *m, const char *name,
		uint32_t weight, uint32_t id);
/* Removes the node with this name. Returns 0, -EINVAL or -ENOENT. */
int ring_members_remove(struct ring_members *m, const char *name);
/* Number of nodes in the set. */
size_t ring_members_count(const struct ring_members *m);
/* The i-th node in insertion order (i < count), or NULL. */
const struct ring_member *ring_members_at(const struct ring_members *m,
		size_t i);
/* The node with this name, or NULL. */
const struct ring_member *ring_members_find(const struct ring_members *m,
		const char *name);

#endif /* SWARM_RING_MEMBERS_H */
