/*
 * ring.h - immutable consistent-hash ring: name hash -> owner node.
 *
 * ring_build() turns a member set (ring_members.h) and a policy
 * (ring_strategy.h) into a read-only lookup structure. Placement is a
 * function of node names, weights, vnode count, filter and strategy only:
 * two nodes that know the same members compute the same owner for every
 * name, whatever order the members were added in. A join moves names only
 * to the joining node, a leave moves only the leaving node's names. The
 * algorithm and its measured balance are described in ring.c and
 * docs/ring.md.
 *
 * Concurrency and RCU contract:
 *
 *   - A built ring is never modified. ring_lookup() reads it without locks
 *     or atomics, allocates nothing and may run on any number of threads.
 *   - To change placement, the control thread builds a new ring from the
 *     updated member set and publishes it by swapping a shared pointer
 *     (rcu_xchg_pointer() / rcu_assign_pointer()). Readers load the pointer
 *     with rcu_dereference() while RCU-online (QSBR: between two quiescent
 *     states) and must not keep it across a quiescent state.
 *   - The old ring is freed with ring_free() only after a grace period
 *     (synchronize_rcu() or call_rcu()); the thread that unpublished it
 *     owns it and frees it.
 *   - ring_build() and ring_free() are control-side calls: any thread, but
 *     not concurrently on the same object, and they allocate.
 *
 * This library itself calls no RCU function: it only promises immutability.
 */
#ifndef SWARM_RING_H
#define SWARM_RING_H

#include <stddef.h>
#include <stdint.h>

#include "ring_hash.h"
#include "ring_members.h"
#include "ring_strategy.h"

/* Most points one ring may hold (nodes x weight x vnodes). */
#define RING_POINTS_MAX (1u << 22)

struct ring;

/*
 * Builds a ring over the members the policy's filter allows. Returns the
 * ring, or NULL with *errp (if errp is not NULL) set to -EINVAL (NULL
 * argument, policy values out of range), -E2BIG (more than RING_POINTS_MAX
 * points) or -ENOMEM. An empty set, or a static_quorum_ring policy with
 * fewer allowed members than the quorum, gives a valid ring whose lookups
 * all return RING_NO_NODE.
 */
struct ring *ring_build(const struct ring_members *m,
		const struct ring_policy *p, int *errp);

/* Frees a ring (after an RCU grace period if it was published). NULL ok. */
void ring_free(struct ring *r);

/*
 * Owner of a name, given its ring_hash_name() value: the caller's node id,
 * or RING_NO_NODE when the ring has no owner. O(1) expected, no allocation.
 */
uint32_t ring_lookup(const struct ring *r, uint64_t hash);

/*
 * ring_lookup() over n hashes, writing n ids to out. Faster on bursts: the
 * memory accesses of all n lookups are issued before any is used.
 */
void ring_lookup_bulk(const struct ring *r, const uint64_t *hashes,
		size_t n, uint32_t *out);

/* Convenience: owner of a name given its bytes. */
static inline uint32_t
ring_lookup_name(const struct ring *r, const void *name, size_t len)
{
	return ring_lookup(r, ring_hash_name(name, len));
}

/* Nodes placing names (allowed members; 0 when there is no owner). */
size_t ring_node_count(const struct ring *r);
/* Allowed members counted for the quorum, owner or not. */
size_t ring_allowed_count(const struct ring *r);
/* 1 when the ring has owners: it has nodes and, if CP, quorum. */
int ring_has_owner(const struct ring *r);
/* Number of points (vnodes) in the ring. */
size_t ring_point_count(const struct ring *r);

#endif /* SWARM_RING_H */
