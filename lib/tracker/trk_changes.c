/*
 * trk_changes.c - the per-partition change queue (replication output).
 *
 * Every state change the owner makes (register, unregister, expire, join,
 * leave) is appended, in order, to a fixed ring of struct trk_change that
 * the owner drains (trk_drain_changes) and turns into gossip. Records are
 * self-contained copies (names, group, endpoint, metadata), so they stay
 * valid after the entry itself is gone.
 *
 * Losing a change silently would leave replicas diverged until anti-entropy
 * notices, so the queue is never overwritten: a write first checks that all
 * the records it will produce fit (one, plus one LEAVE per group for a
 * removal) and is refused with TRK_BUSY otherwise, before anything changes.
 * A capacity of 0 switches the queue off (single-node use); then every check
 * passes and nothing is recorded.
 */
#include <stdlib.h>
#include <string.h>

#include "trk_internal.h"

int
trk_chq_init(struct trk_chq *q, uint32_t cap)
{
	q->head = q->len = 0;
	q->cap = cap;
	q->ring = NULL;
	if (cap == 0)
		return TRK_OK;
	q->ring = calloc(cap, sizeof(*q->ring));
	return q->ring ? TRK_OK : TRK_NOMEM;
}

void
trk_chq_fini(struct trk_chq *q)
{
	free(q->ring);
	q->ring = NULL;
	q->cap = q->len = 0;
}

bool
trk_chq_room(const struct trk_chq *q, uint32_t need)
{
	return q->cap == 0 || q->cap - q->len >= need;
}

void
trk_chq_push(struct trk_chq *q, enum trk_change_kind kind,
		const struct trk_entry *e, const struct trk_version *v,
		const struct trk_group *g)
{
	struct trk_change *c;

	if (q->cap == 0 || q->len == q->cap)
		return;
	c = &q->ring[(q->head + q->len) % q->cap];
	q->len++;
	c->kind = (uint8_t)kind;
	trk_entry_copy(e, &c->rec);
	c->rec.version = *v;
	c->group_len = g ? g->name_len : 0;
	if (g)
		memcpy(c->group, g->name, g->name_len);
}

size_t
trk_chq_drain(struct trk_chq *q, struct trk_change *out, size_t max)
{
	size_t n = 0;

	while (n < max && q->len > 0) {
		out[n++] = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	return n;
}

size_t
trk_drain_changes(struct trk *t, uint32_t part, struct trk_change *out,
		size_t max)
{
	if (part >= t->nparts || out == NULL)
		return 0;
	return trk_chq_drain(&t->part[part].chq, out, max);
}
