/*
 * tracker.c - tracker lifetime, partitions, counters.
 *
 * A tracker is P partitions, each with a names table of its own
 * (trk_names.c), two cds_lfht tables (groups, memberships) and
 * owner-private state. The names table is presized from the expected
 * number of entries: it doubles when it reaches its load limit, an O(n)
 * pause of that partition's writer that a correct presize never pays.
 * Deletions never shrink it.
 */
#include <stdlib.h>
#include <string.h>

#include "trk_internal.h"

_Static_assert(sizeof(unsigned long) == sizeof(uint64_t),
	"cds_lfht hashes must hold a whole 64-bit name hash");

#define TRK_MIN_BUCKETS 64

const char *
trk_status_str(int status)
{
	switch (status) {
	case TRK_OK: return "ok";
	case TRK_NOT_FOUND: return "not_found";
	case TRK_EXISTS: return "already_registered";
	case TRK_INVALID: return "invalid";
	case TRK_FULL: return "full";
	case TRK_NOMEM: return "nomem";
	case TRK_BUSY: return "busy";
	case TRK_COLLISION: return "collision";
	default: return "unknown";
	}
}

static unsigned long
pow2_at_least(uint64_t n)
{
	unsigned long v = TRK_MIN_BUCKETS;

	while (v < n && v < (1UL << 40))
		v <<= 1;
	return v;
}

static bool
config_valid(const struct trk_config *c)
{
	return c != NULL && c->nparts >= 1 && c->nparts <= TRK_MAX_PARTS &&
		c->change_queue_len <= (1u << 24);
}

static int
part_init(struct trk_part *p, const struct trk_config *c)
{
	unsigned long size = pow2_at_least(c->expected_entries / c->nparts);

	p->node_id = c->node_id;
	if (trk_slab_init(&p->slab, (size_t)(c->expected_entries / c->nparts) *
			TRK_SLAB_PER_ENTRY) != TRK_OK)
		return TRK_NOMEM;
	trk_tombs_init(p, c->tombstone_ms);
	if (c->max_entries)
		p->cap = (c->max_entries + c->nparts - 1) / c->nparts;
	p->names = trk_names_new(c->expected_entries / c->nparts);
	if (p->names == NULL)
		return TRK_NOMEM;
	if (trk_groups_init(p, pow2_at_least(size / 8)) != TRK_OK)
		return TRK_NOMEM;
	return trk_chq_init(&p->chq, c->change_queue_len);
}

/* Tables are empty or never used here: no reader, no resize in flight. */
static void
part_free(struct trk_part *p)
{
	if (p->groups)
		cds_lfht_destroy(p->groups, NULL);
	if (p->members)
		cds_lfht_destroy(p->members, NULL);
	trk_names_free(p->names);
	trk_slab_fini(&p->slab);
	trk_heap_fini(&p->heap);
	trk_chq_fini(&p->chq);
	trk_tombs_fini(p);
}

struct trk *
trk_create(const struct trk_config *cfg)
{
	struct trk *t;
	uint32_t i;

	if (!config_valid(cfg))
		return NULL;
	t = aligned_alloc(64, sizeof(*t) + cfg->nparts * sizeof(t->part[0]));
	if (t == NULL)
		return NULL;
	memset(t, 0, sizeof(*t) + cfg->nparts * sizeof(t->part[0]));
	t->nparts = cfg->nparts;
	t->node_id = cfg->node_id;
	for (i = 0; i < t->nparts; i++) {
		if (part_init(&t->part[i], cfg) != TRK_OK) {
			do
				part_free(&t->part[i]);
			while (i-- > 0);
			free(t);
			return NULL;
		}
	}
	return t;
}

static void
entry_drop(struct trk_part *p, struct trk_entry *e)
{
	trk_groups_leave_all(p, e, false);
	trk_retire_entry(p, e);
}

/* Owner side of destroy, online: unlink everything and retire it. */
static void
part_clear(struct trk_part *p)
{
	trk_names_clear(p, entry_drop);
	trk_retire_flush(p);
}

void
trk_destroy(struct trk *t)
{
	bool online;
	uint32_t i;

	if (t == NULL)
		return;
	online = urcu_qsbr_read_ongoing();
	if (!online)
		urcu_qsbr_thread_online();
	for (i = 0; i < t->nparts; i++)
		part_clear(&t->part[i]);
	/* liburcu 0.13.2: destroy tables offline, after pending callbacks */
	urcu_qsbr_thread_offline();
	urcu_qsbr_barrier();
	for (i = 0; i < t->nparts; i++)
		part_free(&t->part[i]);
	if (online)
		urcu_qsbr_thread_online();
	free(t);
}

uint32_t
trk_nparts(const struct trk *t)
{
	return t->nparts;
}

uint32_t
trk_part_of(const struct trk *t, uint64_t hash)
{
	return ring_hash_partition(hash, t->nparts);
}

void
trk_stats(const struct trk *t, struct trk_stats *out)
{
	uint32_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < t->nparts; i++) {
		const struct trk_part *p = &t->part[i];

		out->entries += CMM_LOAD_SHARED(p->nentries);
		out->leased += CMM_LOAD_SHARED(p->nleased);
		out->groups += CMM_LOAD_SHARED(p->ngroups);
		out->memberships += CMM_LOAD_SHARED(p->nmembers);
		out->changes_pending += CMM_LOAD_SHARED(p->chq.len);
		out->registers += CMM_LOAD_SHARED(p->registers);
		out->updates += CMM_LOAD_SHARED(p->updates);
		out->unregisters += CMM_LOAD_SHARED(p->unregisters);
		out->expired += CMM_LOAD_SHARED(p->expired);
		out->busy += CMM_LOAD_SHARED(p->busy);
		out->full += CMM_LOAD_SHARED(p->full);
		out->cursor_fallbacks += uatomic_read(&p->cursor_fallbacks);
	}
}

uint64_t
trk_count(const struct trk *t)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < t->nparts; i++)
		n += CMM_LOAD_SHARED(t->part[i].nentries);
	return n;
}

uint64_t
trk_part_count(const struct trk *t, uint32_t part)
{
	return part < t->nparts ? CMM_LOAD_SHARED(t->part[part].nentries) : 0;
}
