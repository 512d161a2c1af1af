/*
 * ring_hash.h - the one hash of a name, and how its bits are shared out.
 *
 * Every component that needs to place a name uses the same 64-bit hash:
 * XXH3-64 (xxHash 0.8, seed 0) over the raw name bytes. It is computed once
 * per name per datagram and then reused by three consumers that read
 * disjoint bit ranges of it, so that none of them biases another:
 *
 *   bits  0..31  hash tables inside a partition (the names table's home
 *                bucket is the low bits reversed, the split order; the
 *                cds_lfht tables of groups use the low bits);
 *   bits 32..47  partition (worker lcore) inside a node;
 *   bits 48..63  the names table's slot tag;
 *   bits  0..63  position on the consistent-hash ring (the ring passes the
 *                whole value through a 64-bit finalizer before placing it,
 *                so the owner is independent of the partition bits).
 *
 * Node names go through the same hash once, and the ring derives each
 * node's virtual-node points from that value (ring.c, docs/ring.md).
 *
 * The partition is picked with a multiply-shift over 16 bits instead of a
 * modulo: no division on the packet path and at most one partition's worth
 * of imbalance out of 65536 slots.
 */
#ifndef SWARM_RING_HASH_H
#define SWARM_RING_HASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * xxhash is inlined so that short names hash without a call. gcc 12 then
 * reports -Warray-bounds inside xxhash.h for callers whose name buffer it
 * cannot bound (a false positive of its range analysis on XXH3's length
 * dispatch); the pragma scopes the silence to xxhash's own lines.
 */
#define XXH_INLINE_ALL
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#include <xxhash.h>
#pragma GCC diagnostic pop

/* Hash of a name as carried everywhere in swarm. Pure; any thread. */
static inline uint64_t
ring_hash_name(const void *name, size_t len)
{
	return (uint64_t)XXH3_64bits(name, len);
}

/* Partition index in [0, nparts) for a name hash; nparts in [1, 65536]. */
static inline uint32_t
ring_hash_partition(uint64_t hash, uint32_t nparts)
{
	uint32_t slot = (uint32_t)(hash >> 32) & 0xffffu;

	return (uint32_t)(((uint64_t)slot * nparts) >> 16);
}

#endif /* SWARM_RING_HASH_H */
