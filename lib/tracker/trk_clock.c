/*
 * trk_clock.c - versions: a Lamport clock per partition, and their order.
 *
 * Every state change gets a version (clock, node). The clock is the
 * partition's Lamport counter: a local change increments it, and a version
 * learned from a peer (trk_clock_observe) pulls it up to at least that
 * clock, so a change made after seeing another one always orders after it.
 *
 * All changes to one name are made by one partition of one node at a time
 * (the name's owner), so (clock, node) is unique per name and the order
 * "clock first, node id second" is total: two different changes never
 * compare equal, and every replica resolves a conflict the same way (the
 * higher version wins) without talking to anyone.
 */
#include "trk_internal.h"

int
trk_version_cmp(const struct trk_version *a, const struct trk_version *b)
{
	if (a->clock != b->clock)
		return a->clock < b->clock ? -1 : 1;
	if (a->node != b->node)
		return a->node < b->node ? -1 : 1;
	return 0;
}

struct trk_version
trk_clock_tick(struct trk_part *p)
{
	struct trk_version v = { .clock = ++p->clock, .node = p->node_id };

	return v;
}

void
trk_clock_observe(struct trk *t, uint32_t part, const struct trk_version *v)
{
	struct trk_part *p;

	if (part >= t->nparts || v == NULL)
		return;
	p = &t->part[part];
	if (v->clock > p->clock)
		p->clock = v->clock;
}

uint64_t
trk_clock_now(const struct trk *t, uint32_t part)
{
	return part < t->nparts ? t->part[part].clock : 0;
}
