/*
 * mix.h - the 64-bit mixers of swarm, in one place.
 *
 * Two bijections on 64-bit words, each of which spreads every input bit
 * over the whole output:
 *
 *   mix_fmix64()      murmur3's finalizer (shifts 33, multipliers
 *                     0xff51afd7ed558ccd and 0xc4ceb9fe1a85ec53). The
 *                     ring places names and vnode points with it, the
 *                     tracker spreads sequence numbers over its tables.
 *   mix_splitmix64()  splitmix64's finalizer (Stafford's variant 13:
 *                     shifts 30, 27, 31). Digests of entries, and the
 *                     generator below.
 *
 * mix_next() is splitmix64 itself: add the golden-ratio gamma to a state
 * word and finalize it. Equidistributed over the 2^64 states, seedable
 * with any value, a few cycles a call: the deterministic source of every
 * simulation, jitter and workload in the tree (not for secrets).
 *
 * Placement, digests and anything derived from them cross the wire, so
 * the outputs of these functions are part of the cluster protocol: never
 * change them without a new cluster wire version.
 */
#ifndef SWARM_MIX_H
#define SWARM_MIX_H

#include <stdint.h>

/* 2^64 / golden ratio, odd: k * MIX_GAMMA visits every word once. */
#define MIX_GAMMA 0x9e3779b97f4a7c15ULL

static inline uint64_t
mix_fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static inline uint64_t
mix_splitmix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The next value of the splitmix64 generator whose state is *state. */
static inline uint64_t
mix_next(uint64_t *state)
{
	return mix_splitmix64(*state += MIX_GAMMA);
}

#endif /* SWARM_MIX_H */
