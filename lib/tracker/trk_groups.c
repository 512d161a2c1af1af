/*
 * trk_groups.c - group membership (join, leave, members).
 *
 * A membership lives in the partition of its MEMBER entry, so the entry's
 * owner thread is the only writer of everything that concerns the entry,
 * and the one-writer-per-partition rule holds without locks. Per partition:
 *
 *   groups table   cds_lfht of struct trk_group, keyed by the group hash:
 *                  one record per group that has members here, holding an
 *                  RCU list of its memberships in join order;
 *   members table  cds_lfht of struct trk_member keyed by the record's
 *                  join sequence number (unique per partition), used only
 *                  to resume a paged listing at a known record;
 *   entry->groups  owner-only array of the entry's memberships, so that
 *                  join can detect duplicates and an entry that goes can
 *                  leave all its groups in O(groups of the entry).
 *
 * members(group) visits the P partitions in order, finds the group record
 * in each (one hash lookup) and walks its list. It never scans entries.
 * The list is ordered by sequence number, so a cursor that remembers the
 * last sequence numbers it visited can resume after them: entries present
 * for the whole listing come out exactly once. If every remembered record
 * was deleted meanwhile, the walk restarts at the head of that partition's
 * list and skips what was already returned (cost: the group's size in that
 * partition; counted in cursor_fallbacks).
 *
 * An entry is in at most TRK_GROUPS_PER_ENTRY groups. A copy-on-write
 * update of an entry repoints its memberships at the new copy.
 */
#include <stdlib.h>
#include <string.h>

#include "mix.h"
#include "trk_internal.h"

static int
match_group(struct cds_lfht_node *node, const void *arg)
{
	const struct trk_group *g = caa_container_of(node, struct trk_group, node);
	const struct trk_key *k = arg;

	return g->name_len == k->len && memcmp(g->name, k->name, k->len) == 0;
}

struct seq_match {
	uint64_t seq;
	const struct trk_group *group;
};

static int
match_seq(struct cds_lfht_node *node, const void *arg)
{
	const struct trk_member *m = caa_container_of(node, struct trk_member, node);
	const struct seq_match *s = arg;

	return m->seq == s->seq && m->group == s->group;
}

/* Any thread, online. */
static struct trk_group *
group_find(const struct trk_part *p, const struct trk_key *k)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;

	cds_lfht_lookup(p->groups, k->hash, match_group, k, &it);
	node = cds_lfht_iter_get_node(&it);
	return node ? caa_container_of(node, struct trk_group, node) : NULL;
}

/* Any thread, online. */
static struct trk_member *
member_by_seq(const struct trk_part *p, const struct trk_group *g,
		uint64_t seq)
{
	struct seq_match s = { .seq = seq, .group = g };
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;

	cds_lfht_lookup(p->members, mix_fmix64(seq), match_seq, &s, &it);
	node = cds_lfht_iter_get_node(&it);
	return node ? caa_container_of(node, struct trk_member, node) : NULL;
}

/* Owner. Slot of group k in e->groups, or -1. */
static int
member_index(const struct trk_entry *e, const struct trk_key *k)
{
	int i;

	for (i = 0; i < e->ngroups; i++) {
		const struct trk_group *g = e->groups[i]->group;

		if (g->hash == k->hash && g->name_len == k->len &&
				memcmp(g->name, k->name, k->len) == 0)
			return i;
	}
	return -1;
}

/* Owner. Room for one more membership in e->groups (doubling from 4). */
static int
groups_grow(struct trk_entry *e)
{
	unsigned int n = e->ngroups;
	struct trk_member **v;

	if (e->groups != NULL && (n < 4 || (n & (n - 1)) != 0))
		return TRK_OK;
	v = realloc(e->groups, (n < 4 ? 4 : 2 * n) * sizeof(*v));
	if (v == NULL)
		return TRK_NOMEM;
	e->groups = v;
	return TRK_OK;
}

static struct trk_group *
group_new(const struct trk_key *k)
{
	struct trk_group *g = malloc(sizeof(*g) + k->len);

	if (g == NULL)
		return NULL;
	memset(g, 0, sizeof(*g));
	g->hash = k->hash;
	g->name_len = (uint8_t)k->len;
	memcpy(g->name, k->name, k->len);
	CDS_INIT_LIST_HEAD(&g->members);
	return g;
}

/* Owner. Unlink membership idx of e; record a LEAVE change if asked. */
static void
member_remove(struct trk_part *p, struct trk_entry *e, int idx, bool record)
{
	struct trk_member *m = e->groups[idx];
	struct trk_group *g = m->group;
	struct trk_version v;

	cds_list_del_rcu(&m->link);
	if (cds_lfht_del(p->members, &m->node) != 0)
		abort();
	e->groups[idx] = e->groups[--e->ngroups];
	if (record) {
		v = trk_clock_tick(p);
		trk_chq_push(&p->chq, TRK_CH_LEAVE, e, &v, g);
	}
	if (--g->nmembers == 0) {
		if (cds_lfht_del(p->groups, &g->node) != 0)
			abort();
		trk_retire(p, g);
		TRK_COUNT_ADD(p, ngroups, -1);
	}
	trk_retire(p, m);
	TRK_COUNT_ADD(p, nmembers, -1);
}

void
trk_groups_leave_all(struct trk_part *p, struct trk_entry *e, bool record)
{
	while (e->ngroups > 0)
		member_remove(p, e, e->ngroups - 1, record);
	free(e->groups);	/* owner-only array: no reader ever sees it */
	e->groups = NULL;
}

void
trk_groups_follow(struct trk_entry *old, struct trk_entry *e)
{
	int i;

	e->groups = old->groups;
	e->ngroups = old->ngroups;
	for (i = 0; i < e->ngroups; i++)
		rcu_assign_pointer(e->groups[i]->entry, e);
	old->groups = NULL;
	old->ngroups = 0;
}

/* Owner. Link a new membership of e in g (room already checked). */
static struct trk_member *
member_add(struct trk_part *p, struct trk_entry *e, struct trk_group *g,
		bool new_group, const struct trk_version *v)
{
	struct trk_member *m = malloc(sizeof(*m));

	if (m == NULL)
		return NULL;
	m->seq = ++p->member_seq;
	m->group = g;
	m->entry = e;
	m->version = v ? *v : trk_clock_tick(p);
	if (new_group) {
		cds_lfht_add(p->groups, g->hash, &g->node);
		TRK_COUNT_ADD(p, ngroups, 1);
	}
	g->nmembers++;
	cds_list_add_tail_rcu(&m->link, &g->members);
	cds_lfht_add(p->members, mix_fmix64(m->seq), &m->node);
	e->groups[e->ngroups++] = m;
	TRK_COUNT_ADD(p, nmembers, 1);
	return m;
}

int
trk_join(struct trk *t, const struct trk_key *group,
		const struct trk_key *member, uint64_t now)
{
	struct trk_member *m;
	struct trk_group *g;
	struct trk_entry *e;
	struct trk_part *p;
	bool new_group;

	if (!trk_key_valid(group) || !trk_key_valid(member))
		return TRK_INVALID;
	p = trk_part_get(t, member->hash);
	e = trk_names_find(p, member, NULL);
	if (e == NULL || !trk_entry_live(e, now))
		return TRK_NOT_FOUND;
	if (member_index(e, group) >= 0)
		return TRK_OK;
	if (e->ngroups >= TRK_GROUPS_PER_ENTRY)
		return TRK_FULL;
	if (!trk_chq_room(&p->chq, 1)) {
		TRK_COUNT_ADD(p, busy, 1);
		return TRK_BUSY;
	}
	if (groups_grow(e) != TRK_OK)
		return TRK_NOMEM;
	g = group_find(p, group);
	new_group = g == NULL;
	if (new_group && (g = group_new(group)) == NULL)
		return TRK_NOMEM;
	m = member_add(p, e, g, new_group, NULL);
	if (m == NULL) {
		if (new_group)
			free(g);
		return TRK_NOMEM;
	}
	trk_chq_push(&p->chq, TRK_CH_JOIN, e, &m->version, g);
	return TRK_OK;
}

/*
 * Owner. A JOIN or LEAVE from a peer for the stored entry e: the newer
 * version wins, nothing is recorded in the change queue.
 */
int
trk_groups_apply(struct trk_part *p, struct trk_entry *e,
		const struct trk_change *ch, const struct trk_key *group)
{
	const struct trk_version *v = &ch->rec.version;
	int idx = member_index(e, group);
	struct trk_member *m;
	struct trk_group *g;
	bool new_group;

	if (ch->kind == TRK_CH_LEAVE) {
		if (idx < 0 || trk_version_cmp(&e->groups[idx]->version, v) > 0)
			return TRK_IGNORED;
		member_remove(p, e, idx, false);
		return TRK_OK;
	}
	if (idx >= 0) {
		m = e->groups[idx];
		if (trk_version_cmp(v, &m->version) <= 0)
			return TRK_IGNORED;
		m->version = *v;	/* owner-only field */
		return TRK_OK;
	}
	if (e->ngroups >= TRK_GROUPS_PER_ENTRY)
		return TRK_FULL;
	if (groups_grow(e) != TRK_OK)
		return TRK_NOMEM;
	g = group_find(p, group);
	new_group = g == NULL;
	if (new_group && (g = group_new(group)) == NULL)
		return TRK_NOMEM;
	if (member_add(p, e, g, new_group, v) == NULL) {
		if (new_group)
			free(g);
		return TRK_NOMEM;
	}
	return TRK_OK;
}

int
trk_leave(struct trk *t, const struct trk_key *group,
		const struct trk_key *member, uint64_t now)
{
	struct trk_entry *e;
	struct trk_part *p;
	int idx;

	if (!trk_key_valid(group) || !trk_key_valid(member))
		return TRK_INVALID;
	p = trk_part_get(t, member->hash);
	e = trk_names_find(p, member, NULL);
	if (e == NULL || !trk_entry_live(e, now))
		return TRK_NOT_FOUND;
	idx = member_index(e, group);
	if (idx < 0)
		return TRK_NOT_FOUND;
	if (!trk_chq_room(&p->chq, 1)) {
		TRK_COUNT_ADD(p, busy, 1);
		return TRK_BUSY;
	}
	member_remove(p, e, idx, true);
	return TRK_OK;
}

/* Any thread. Where to start walking g's list for cursor state s. */
static struct cds_list_head *
members_resume(struct trk_part *p, const struct trk_group *g,
		const struct trk_cursor_state *s)
{
	struct trk_member *m;
	uint32_t i;

	if (s->nanchors == 0)
		return rcu_dereference(g->members.next);
	for (i = 0; i < s->nanchors; i++) {
		m = member_by_seq(p, g, s->anchor[i]);
		if (m != NULL)
			return &m->link;
	}
	uatomic_inc(&p->cursor_fallbacks);
	return rcu_dereference(g->members.next);
}

/* Any thread. Fill the page from g's list; true when the page is full. */
static bool
members_page(struct trk_part *p, const struct trk_group *g,
		struct trk_cursor_state *s, uint64_t now,
		const struct trk_entry **out, size_t max, size_t *n)
{
	const struct cds_list_head *head = &g->members;
	uint64_t last = s->nanchors ? s->anchor[0] : 0;
	struct cds_list_head *l;

	for (l = members_resume(p, g, s); l != head; l = rcu_dereference(l->next)) {
		const struct trk_member *m = caa_container_of(l, struct trk_member, link);
		const struct trk_entry *e;

		if (m->seq <= last)
			continue;
		if (*n == max)
			return true;
		e = rcu_dereference(m->entry);
		if (trk_entry_live(e, now))
			out[(*n)++] = e;
		trk_cursor_push_anchor(s, m->seq);
	}
	return false;
}

int
trk_members(const struct trk *t, const struct trk_key *group,
		struct trk_cursor *cur, uint64_t now,
		const struct trk_entry **out, size_t max, size_t *n)
{
	struct trk_cursor_state s;
	struct trk_group *g;
	struct trk_part *p;

	*n = 0;
	if (!trk_key_valid(group) || out == NULL || max < TRK_PAGE_MIN)
		return TRK_INVALID;
	if (trk_cursor_load(t, cur, TRK_CUR_MEMBERS, &s) != TRK_OK)
		return TRK_INVALID;
	while (!s.done) {
		p = (struct trk_part *)&t->part[s.part];
		g = group_find(p, group);
		if (g != NULL && members_page(p, g, &s, now, out, max, n))
			break;
		trk_cursor_next_part(&s, t->nparts);
	}
	trk_cursor_store(cur, TRK_CUR_MEMBERS, &s);
	return TRK_OK;
}

int
trk_groups_init(struct trk_part *p, unsigned long size)
{
	int flags = CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING;

	p->groups = cds_lfht_new_flavor(16, 16, 0, flags, &urcu_qsbr_flavor, NULL);
	p->members = cds_lfht_new_flavor(size, size, 0, flags,
			&urcu_qsbr_flavor, NULL);
	return p->groups && p->members ? TRK_OK : TRK_NOMEM;
}
