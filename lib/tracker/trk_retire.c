/*
 * trk_retire.c - deferred freeing of memory that readers may still see.
 *
 * An entry, group or membership record unlinked by the owner can still be
 * in use by a reader on another thread until that reader's next quiescent
 * state. Instead of one call_rcu per object (an rcu_head in every entry,
 * and one callback per free), the owner collects unlinked pointers in a
 * per-partition batch of TRK_RETIRE_BATCH and hands the whole batch to
 * urcu_qsbr_call_rcu() when it is full or when the owner flushes it
 * (trk_expire and trk_flush do). The call_rcu worker frees the batch after
 * a grace period. Memory is therefore held for at most one batch plus the
 * call_rcu latency (about 10 ms in liburcu 0.13).
 *
 * Entries go back to the partition's slab (trk_slab.c), from the call_rcu
 * worker; every other pointer to free().
 *
 * If a new batch cannot be allocated, the owner falls back to waiting for a
 * grace period itself (urcu_qsbr_synchronize_rcu puts an online QSBR caller
 * offline for the wait) and frees at once: slow, but never a leak or a
 * use after free.
 */
#include <stdlib.h>

#include "trk_internal.h"

/* Frees one retired pointer: an entry (bit 0) to the slab, else free(). */
static void
retire_one(struct trk_part *p, void *ptr, bool remote)
{
	uintptr_t v = (uintptr_t)ptr;
	struct trk_entry *e = (struct trk_entry *)(v & ~(uintptr_t)1);

	if ((v & 1) == 0)
		free(ptr);
	else if (remote)
		trk_slab_free_remote(&p->slab, e, trk_entry_size(e));
	else
		trk_slab_free_owned(&p->slab, e, trk_entry_size(e));
}

static void
retire_free_batch(struct rcu_head *head)
{
	struct trk_retire *b = caa_container_of(head, struct trk_retire, head);
	uint32_t i;

	for (i = 0; i < b->n; i++)
		retire_one(b->part, b->ptr[i], true);
	free(b);
}

void
trk_retire_flush(struct trk_part *p)
{
	struct trk_retire *b = p->retire;

	if (b == NULL || b->n == 0)
		return;
	p->retire = NULL;
	urcu_qsbr_call_rcu(&b->head, retire_free_batch);
}

void
trk_retire(struct trk_part *p, void *ptr)
{
	if (ptr == NULL)
		return;
	if (p->retire == NULL) {
		p->retire = malloc(sizeof(*p->retire));
		if (p->retire == NULL) {
			urcu_qsbr_synchronize_rcu();
			retire_one(p, ptr, false);
			return;
		}
		p->retire->n = 0;
		p->retire->part = p;
	}
	p->retire->ptr[p->retire->n++] = ptr;
	if (p->retire->n == TRK_RETIRE_BATCH)
		trk_retire_flush(p);
}

void
trk_retire_entry(struct trk_part *p, struct trk_entry *e)
{
	trk_retire(p, (void *)((uintptr_t)e | 1));
}
