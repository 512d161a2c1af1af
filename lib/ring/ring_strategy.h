/*
 * ring_strategy.h - distribution strategies and the placement policy.
 *
 * Two strategies, as in Swarm:
 *
 *   ring                AP. The owner of a name is its point on the ring of
 *                       live, allowed nodes. Both sides of a network split
 *                       keep placing names; duplicates are resolved on heal.
 *   static_quorum_ring  CP. The same ring, but while fewer than
 *                       static_quorum_size live allowed nodes are known the
 *                       ring has no owner for any name, and lookups answer
 *                       RING_NO_NODE ("no node available").
 *
 * A policy gathers everything besides the member set that placement depends
 * on. Every node of a cluster must use the same strategy, quorum and vnode
 * count, or nodes would disagree on owners; the filter should match too.
 *
 * The parse functions turn configuration strings into values. Input is
 * untrusted: anything that is not exactly a known strategy name or a plain
 * positive decimal integer is rejected with a message naming the key and the
 * reason, ready for the caller to print before exiting.
 */
#ifndef SWARM_RING_STRATEGY_H
#define SWARM_RING_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include "ring_filter.h"

enum ring_strategy {
	RING_STRATEGY_RING,
	RING_STRATEGY_STATIC_QUORUM,
};

/* Swarm's default static_quorum_size. */
#define RING_QUORUM_DEFAULT 2
/* A quorum larger than any possible set is meaningless; reject it. */
#define RING_QUORUM_MAX 4096
/*
 * Virtual nodes per unit of weight (see docs/ring.md for the figures). A
 * ring holds at most RING_POINTS_MAX points, so with the default the total
 * weight of the allowed nodes is limited to 512.
 */
#define RING_VNODES_DEFAULT 8192
#define RING_VNODES_MAX 65536

struct ring_policy {
	enum ring_strategy strategy;
	uint32_t quorum;		/* static_quorum_size, 1..RING_QUORUM_MAX */
	uint32_t vnodes;		/* per unit of weight, 1..RING_VNODES_MAX */
	const struct ring_filter *filter; /* NULL: every node allowed */
};

/* Defaults: strategy ring, quorum 2, RING_VNODES_DEFAULT, no filter. */
void ring_policy_init(struct ring_policy *p);

/*
 * Parses a distribution_strategy value: "ring" or "static_quorum_ring"
 * (Swarm's module names Swarm.Distribution.Ring and
 * Swarm.Distribution.StaticQuorumRing are accepted as aliases).
 * Returns 0 or -EINVAL with a message in err (err may be NULL if errlen 0).
 */
int ring_strategy_parse(const char *s, enum ring_strategy *out, char *err,
		size_t errlen);
/* Canonical name of a strategy ("ring", "static_quorum_ring"). */
const char *ring_strategy_name(enum ring_strategy s);

/*
 * Parses a static_quorum_size value: decimal digits only, 1..RING_QUORUM_MAX.
 * No sign, no spaces, no trailing characters. Returns 0, -EINVAL (empty,
 * not a number, zero, negative, junk) or -ERANGE (too large), with a
 * message "static_quorum_size: <reason>" in err.
 */
int ring_quorum_parse(const char *s, uint32_t *out, char *err, size_t errlen);

/*
 * Parses a ring_vnodes value (vnodes per unit of weight, a swarm key with no
 * Swarm counterpart) by the same rules, range 1..RING_VNODES_MAX.
 */
int ring_vnodes_parse(const char *s, uint32_t *out, char *err, size_t errlen);

#endif /* SWARM_RING_STRATEGY_H */
