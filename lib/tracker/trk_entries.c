/*
 * trk_entries.c - registrations: register, unregister, whereis, expire.
 *
 * Each partition keeps its entries in its names table (trk_names.c), keyed
 * by the 64-bit name hash. Names whose hashes collide are duplicates in the
 * table and are told apart by comparing the bytes.
 *
 * Readers never see a torn entry because entries are immutable once
 * published, with one exception: lease_expiry, a single aligned 64-bit word
 * the owner may overwrite to refresh a lease. Any other change (endpoint,
 * metadata, owner node, flags) builds a new entry and stores it into the old
 * one's slot (trk_names_swap); the old one is retired and freed
 * after a grace period. A reader holding the old pointer keeps a coherent,
 * if slightly stale, view until its next quiescent state.
 *
 * Expired entries are invisible from the instant their lease runs out
 * (lookups compare with the caller's `now`); they are unlinked later by
 * trk_expire, or on the spot when a write touches the same name.
 *
 * The number of names sharing one 64-bit hash in a partition is capped
 * (TRK_HASH_DUP_MAX) so that a crafted set of colliding names cannot fill
 * a bucket with equal tags, and so that listings can always keep equal
 * hashes on one page. (Names crafted to share only a home bucket are not
 * stopped by it: docs/tracker.md, "Not done yet".)
 */
#include <stdlib.h>
#include <string.h>

#include "trk_internal.h"

/* Any thread, online. The entry of k (live or not), or NULL. */
static inline struct trk_entry *
names_lookup(struct trk_part *p, const struct trk_key *k, unsigned int *dups)
{
	return trk_names_find(p, k, dups);
}

static bool
endpoint_valid(const struct trk_endpoint *ep)
{
	static const uint8_t zero[16];

	if (ep->reserved != 0)
		return false;
	if (ep->family == TRK_EP_NONE)
		return ep->port == 0 && memcmp(ep->addr, zero, 16) == 0;
	if (ep->port == 0)
		return false;
	if (ep->family == TRK_INET6)
		return true;
	/* IPv4 keeps the unused bytes zero so equal endpoints compare equal */
	return ep->family == TRK_INET4 && memcmp(ep->addr + 4, zero, 12) == 0;
}

static bool
reg_valid(const struct trk_reg *r)
{
	return r != NULL && trk_key_valid(&r->key) &&
		r->meta_len <= TRK_META_MAX &&
		(r->meta_len == 0 || r->meta != NULL) &&
		(r->flags & ~(uint32_t)TRK_F_MANAGED) == 0 &&
		endpoint_valid(&r->ep);
}

static uint64_t
lease_of(const struct trk_reg *r, uint64_t now)
{
	if (r->ttl_ms == 0)
		return 0;
	return r->ttl_ms > UINT64_MAX - now ? UINT64_MAX : now + r->ttl_ms;
}

/*
 * A new, unpublished entry carrying r's content; NULL when out of memory,
 * or at an address the names table cannot tag (trk_names_taggable).
 */
static struct trk_entry *
entry_new(struct trk_part *p, const struct trk_reg *r,
		const struct trk_version *v)
{
	size_t size = sizeof(struct trk_entry) + r->key.len + r->meta_len;
	struct trk_entry *e = trk_slab_alloc(&p->slab, size);

	if (e == NULL)
		return NULL;
	if (!trk_names_taggable(e)) {
		trk_slab_free_owned(&p->slab, e, size);
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->hash = r->key.hash;
	e->handle = r->handle;
	e->version = *v;
	e->ep = r->ep;
	e->owner = r->owner;
	e->flags = (uint8_t)r->flags;
	e->name_len = (uint8_t)r->key.len;
	e->meta_len = (uint8_t)r->meta_len;
	e->heap_idx = TRK_NO_HEAP;
	memcpy(e->data, r->key.name, r->key.len);
	if (r->meta_len)
		memcpy(e->data + r->key.len, r->meta, r->meta_len);
	return e;
}

static bool
same_content(const struct trk_entry *e, const struct trk_reg *r)
{
	return memcmp(&e->ep, &r->ep, sizeof(e->ep)) == 0 &&
		e->owner == r->owner && e->flags == r->flags &&
		e->meta_len == r->meta_len &&
		memcmp(trk_entry_meta(e), r->meta ? r->meta : "", r->meta_len) == 0;
}

/* Owner. Set e's lease to exp, keeping the heap in step (room reserved). */
static void
lease_set(struct trk_part *p, struct trk_entry *e, uint64_t exp)
{
	uint64_t old = e->lease_expiry;

	if (exp == old)
		return;
	CMM_STORE_SHARED(e->lease_expiry, exp);
	if (exp == 0) {
		trk_heap_remove(&p->heap, e);
		TRK_COUNT_ADD(p, nleased, -1);
	} else if (old == 0) {
		trk_heap_push(&p->heap, e);
		TRK_COUNT_ADD(p, nleased, 1);
	} else {
		trk_heap_fix(&p->heap, e, old);
	}
}

/* Owner. Unlink e from the table, heap and digest; the caller retires it. */
static void
entry_unlink(struct trk_part *p, struct trk_entry *e)
{
	trk_names_del(p, e);
	if (e->heap_idx != TRK_NO_HEAP) {
		trk_heap_remove(&p->heap, e);
		TRK_COUNT_ADD(p, nleased, -1);
	}
	trk_digest_toggle(p, e, -1);
	TRK_COUNT_ADD(p, nentries, -1);
}

int
trk_entry_remove(struct trk_part *p, struct trk_entry *e,
		enum trk_change_kind kind, uint64_t now)
{
	struct trk_key k = trk_key_hashed(e->data, e->name_len, e->hash);
	struct trk_version v;

	if (!trk_chq_room(&p->chq, 1u + e->ngroups)) {
		TRK_COUNT_ADD(p, busy, 1);
		return TRK_BUSY;
	}
	trk_groups_leave_all(p, e, true);
	v = trk_clock_tick(p);
	/* best effort: without the tombstone, anti-entropy repairs */
	(void)trk_tomb_put(p, &k, &v, now);
	entry_unlink(p, e);
	if (kind == TRK_CH_EXPIRE)
		TRK_COUNT_ADD(p, expired, 1);
	else
		TRK_COUNT_ADD(p, unregisters, 1);
	trk_chq_push(&p->chq, kind, e, &v, NULL);
	trk_retire_entry(p, e);
	return TRK_OK;
}

static int
insert_new(struct trk_part *p, const struct trk_reg *r, uint64_t now,
		unsigned int dups, const struct trk_entry **out)
{
	uint64_t exp = lease_of(r, now);
	struct trk_version v;
	struct trk_entry *e;

	if (p->cap && p->nentries >= p->cap) {
		TRK_COUNT_ADD(p, full, 1);
		return TRK_FULL;
	}
	if (dups >= TRK_HASH_DUP_MAX)
		return TRK_COLLISION;
	if (!trk_chq_room(&p->chq, 1)) {
		TRK_COUNT_ADD(p, busy, 1);
		return TRK_BUSY;
	}
	if ((exp && trk_heap_reserve(&p->heap) != TRK_OK) ||
			trk_names_reserve(p) != TRK_OK)
		return TRK_NOMEM;
	v = trk_clock_tick(p);
	e = entry_new(p, r, &v);
	if (e == NULL)
		return TRK_NOMEM;
	lease_set(p, e, exp);
	trk_names_add(p, e);
	trk_digest_toggle(p, e, 1);
	trk_tomb_drop(p, &r->key);
	TRK_COUNT_ADD(p, nentries, 1);
	TRK_COUNT_ADD(p, registers, 1);
	trk_chq_push(&p->chq, TRK_CH_REGISTER, e, &v, NULL);
	if (out)
		*out = e;
	return TRK_OK;
}

/* Same name, same handle: extend the lease, replace content if it moved. */
static int
refresh(struct trk_part *p, struct trk_entry *e, const struct trk_reg *r,
		uint64_t now, const struct trk_entry **out)
{
	uint64_t exp = lease_of(r, now);
	struct trk_version v;
	struct trk_entry *n;

	if (exp && e->heap_idx == TRK_NO_HEAP &&
			trk_heap_reserve(&p->heap) != TRK_OK)
		return TRK_NOMEM;
	if (same_content(e, r)) {
		lease_set(p, e, exp);
		if (out)
			*out = e;
		return TRK_OK;
	}
	if (!trk_chq_room(&p->chq, 1)) {
		TRK_COUNT_ADD(p, busy, 1);
		return TRK_BUSY;
	}
	v = trk_clock_tick(p);
	n = entry_new(p, r, &v);
	if (n == NULL)
		return TRK_NOMEM;
	/* n inherits e's owner-side state before anyone can see it */
	n->managed_state = e->managed_state;
	n->lease_expiry = e->lease_expiry;
	trk_heap_replace(&p->heap, e, n);
	lease_set(p, n, exp);
	trk_groups_follow(e, n);
	trk_names_swap(p, e, n);
	trk_digest_toggle(p, e, -1);
	trk_digest_toggle(p, n, 1);
	TRK_COUNT_ADD(p, updates, 1);
	trk_chq_push(&p->chq, TRK_CH_REGISTER, n, &v, NULL);
	trk_retire_entry(p, e);
	if (out)
		*out = n;
	return TRK_OK;
}

/* Owner. The entry of k if live; an expired one is reclaimed on the way. */
static int
find_live(struct trk_part *p, const struct trk_key *k, uint64_t now,
		unsigned int *dups, struct trk_entry **out)
{
	struct trk_entry *e = names_lookup(p, k, dups);
	int rc;

	if (e != NULL && !trk_entry_live(e, now)) {
		rc = trk_entry_remove(p, e, TRK_CH_EXPIRE, now);
		if (rc != TRK_OK)
			return rc;
		e = names_lookup(p, k, dups);
	}
	*out = e;
	return TRK_OK;
}

int
trk_register(struct trk *t, const struct trk_reg *req, uint64_t now,
		const struct trk_entry **out)
{
	struct trk_entry *e;
	struct trk_part *p;
	unsigned int dups;
	int rc;

	if (!reg_valid(req))
		return TRK_INVALID;
	p = trk_part_get(t, req->key.hash);
	rc = find_live(p, &req->key, now, &dups, &e);
	if (rc != TRK_OK)
		return rc;
	if (e == NULL)
		return insert_new(p, req, now, dups, out);
	if (e->handle != req->handle) {
		if (out)
			*out = e;
		return TRK_EXISTS;
	}
	return refresh(p, e, req, now, out);
}

int
trk_whereis_or_register(struct trk *t, const struct trk_reg *req,
		uint64_t now, const struct trk_entry **out)
{
	const struct trk_entry *e;

	if (!reg_valid(req))
		return TRK_INVALID;
	e = trk_whereis(t, &req->key, now);
	if (e != NULL) {
		if (out)
			*out = e;
		return TRK_EXISTS;
	}
	return trk_register(t, req, now, out);
}

int
trk_unregister(struct trk *t, const struct trk_key *key, bool check_handle,
		uint64_t handle, uint64_t now)
{
	struct trk_entry *e;
	struct trk_part *p;
	int rc;

	if (!trk_key_valid(key))
		return TRK_INVALID;
	p = trk_part_get(t, key->hash);
	rc = find_live(p, key, now, NULL, &e);
	if (rc != TRK_OK)
		return rc;
	if (e == NULL || (check_handle && e->handle != handle))
		return TRK_NOT_FOUND;
	return trk_entry_remove(p, e, TRK_CH_UNREGISTER, now);
}

size_t
trk_expire(struct trk *t, uint32_t part, uint64_t now, size_t budget)
{
	struct trk_entry *e;
	struct trk_part *p;
	size_t n = 0;

	if (part >= t->nparts)
		return 0;
	p = &t->part[part];
	while (n < budget && (e = trk_heap_min(&p->heap)) != NULL &&
			e->lease_expiry <= now) {
		if (trk_entry_remove(p, e, TRK_CH_EXPIRE, now) != TRK_OK)
			break;
		n++;
	}
	trk_tombs_expire(p, now, budget);
	trk_retire_flush(p);
	return n;
}

void
trk_flush(struct trk *t, uint32_t part)
{
	if (part < t->nparts)
		trk_retire_flush(&t->part[part]);
}

void
trk_prefetch(const struct trk *t, uint64_t hash)
{
	trk_names_prefetch(trk_part_get(t, hash), hash);
}

void
trk_prefetch_entry(const struct trk *t, uint64_t hash)
{
	trk_names_prefetch_entry(trk_part_get(t, hash), hash);
}

const struct trk_entry *
trk_whereis(const struct trk *t, const struct trk_key *key, uint64_t now)
{
	struct trk_entry *e;

	if (!trk_key_valid(key))
		return NULL;
	e = names_lookup(trk_part_get(t, key->hash), key, NULL);
	return e != NULL && trk_entry_live(e, now) ? e : NULL;
}

void
trk_entry_copy(const struct trk_entry *e, struct trk_record *out)
{
	out->hash = e->hash;
	out->handle = e->handle;
	out->version = e->version;
	out->lease_expiry = trk_entry_lease(e);
	out->ep = e->ep;
	out->owner = e->owner;
	out->flags = e->flags;
	out->name_len = e->name_len;
	out->meta_len = e->meta_len;
	memcpy(out->name, trk_entry_name(e), e->name_len);
	memcpy(out->meta, trk_entry_meta(e), e->meta_len);
}

int
trk_whereis_copy(const struct trk *t, const struct trk_key *key,
		uint64_t now, struct trk_record *out)
{
	const struct trk_entry *e;

	if (!trk_key_valid(key) || out == NULL)
		return TRK_INVALID;
	e = trk_whereis(t, key, now);
	if (e == NULL)
		return TRK_NOT_FOUND;
	trk_entry_copy(e, out);
	return TRK_OK;
}

/* ---- Changes from peers ---- */

static bool
change_valid(const struct trk_change *ch)
{
	const struct trk_record *r = &ch->rec;

	if (ch->kind < TRK_CH_REGISTER || ch->kind > TRK_CH_LEAVE ||
			r->name_len == 0 ||
			r->hash != ring_hash_name(r->name, r->name_len))
		return false;
	if ((ch->kind == TRK_CH_JOIN || ch->kind == TRK_CH_LEAVE) &&
			ch->group_len == 0)
		return false;
	if (ch->kind == TRK_CH_REGISTER)
		return (r->flags & ~(uint32_t)TRK_F_MANAGED) == 0 &&
			endpoint_valid(&r->ep);
	return true;
}

/* The content of a change as a registration request (no local lease). */
static void
reg_of(const struct trk_record *rec, struct trk_reg *r)
{
	memset(r, 0, sizeof(*r));
	r->key = trk_key_hashed(rec->name, rec->name_len, rec->hash);
	r->handle = rec->handle;
	r->ep = rec->ep;
	r->owner = rec->owner;
	r->flags = rec->flags;
	r->meta = rec->meta;
	r->meta_len = rec->meta_len;
}

static int
apply_register(struct trk_part *p, const struct trk_record *rec)
{
	struct trk_entry *e, *n;
	struct trk_tomb *tb;
	unsigned int dups;
	struct trk_reg r;

	reg_of(rec, &r);
	e = names_lookup(p, &r.key, &dups);
	if (e != NULL) {
		if (trk_version_cmp(&rec->version, &e->version) <= 0)
			return TRK_IGNORED;
		n = entry_new(p, &r, &rec->version);
		if (n == NULL)
			return TRK_NOMEM;
		n->managed_state = e->managed_state;
		if (e->heap_idx != TRK_NO_HEAP) {
			/* the peer's newer content carries no local lease */
			trk_heap_remove(&p->heap, e);
			TRK_COUNT_ADD(p, nleased, -1);
		}
		trk_groups_follow(e, n);
		trk_names_swap(p, e, n);
		trk_digest_toggle(p, e, -1);
		trk_digest_toggle(p, n, 1);
		TRK_COUNT_ADD(p, updates, 1);
		trk_retire_entry(p, e);
		return TRK_OK;
	}
	tb = trk_tomb_find(p, &r.key);
	if (tb != NULL && trk_version_cmp(&rec->version, &tb->version) <= 0)
		return TRK_IGNORED;	/* removed after this was written */
	if (p->cap && p->nentries >= p->cap) {
		TRK_COUNT_ADD(p, full, 1);
		return TRK_FULL;
	}
	if (dups >= TRK_HASH_DUP_MAX)
		return TRK_COLLISION;
	if (trk_names_reserve(p) != TRK_OK)
		return TRK_NOMEM;
	n = entry_new(p, &r, &rec->version);
	if (n == NULL)
		return TRK_NOMEM;
	trk_names_add(p, n);
	trk_digest_toggle(p, n, 1);
	if (tb != NULL)
		trk_tomb_drop(p, &r.key);
	TRK_COUNT_ADD(p, nentries, 1);
	TRK_COUNT_ADD(p, registers, 1);
	return TRK_OK;
}

static int
apply_remove(struct trk_part *p, const struct trk_change *ch, uint64_t now)
{
	const struct trk_record *rec = &ch->rec;
	struct trk_key k = trk_key_hashed(rec->name, rec->name_len, rec->hash);
	struct trk_entry *e;
	struct trk_tomb *tb;

	e = names_lookup(p, &k, NULL);
	if (e != NULL && trk_version_cmp(&e->version, &rec->version) > 0)
		return TRK_IGNORED;	/* re-registered after this removal */
	tb = trk_tomb_find(p, &k);
	if (e == NULL && tb != NULL &&
			trk_version_cmp(&tb->version, &rec->version) >= 0)
		return TRK_IGNORED;
	if (trk_tomb_put(p, &k, &rec->version, now) != TRK_OK)
		return TRK_NOMEM;
	if (e == NULL)
		return TRK_OK;	/* only the tombstone: a late REGISTER loses */
	trk_groups_leave_all(p, e, false);
	entry_unlink(p, e);
	if (ch->kind == TRK_CH_EXPIRE)
		TRK_COUNT_ADD(p, expired, 1);
	else
		TRK_COUNT_ADD(p, unregisters, 1);
	trk_retire_entry(p, e);
	return TRK_OK;
}

int
trk_apply(struct trk *t, const struct trk_change *ch, uint64_t now)
{
	struct trk_key k, g;
	struct trk_entry *e;
	struct trk_part *p;
	int rc;

	if (t == NULL || ch == NULL || !change_valid(ch))
		return TRK_INVALID;
	p = trk_part_get(t, ch->rec.hash);
	switch (ch->kind) {
	case TRK_CH_REGISTER:
		rc = apply_register(p, &ch->rec);
		break;
	case TRK_CH_UNREGISTER:
	case TRK_CH_EXPIRE:
		rc = apply_remove(p, ch, now);
		break;
	default:
		k = trk_key_hashed(ch->rec.name, ch->rec.name_len, ch->rec.hash);
		g = trk_key(ch->group, ch->group_len);
		e = names_lookup(p, &k, NULL);
		rc = e ? trk_groups_apply(p, e, ch, &g) : TRK_NOT_FOUND;
		break;
	}
	/* Lamport receive rule, whatever the outcome */
	trk_clock_observe(t, trk_part_of(t, ch->rec.hash), &ch->rec.version);
	return rc;
}

int
trk_drop(struct trk *t, const struct trk_key *key,
		const struct trk_version *v, uint64_t now)
{
	struct trk_entry *e;
	struct trk_part *p;

	struct trk_version below;

	if (t == NULL || key == NULL || v == NULL || key->len == 0 ||
	    key->len > TRK_NAME_MAX || v->clock == 0)
		return TRK_INVALID;
	p = trk_part_get(t, key->hash);
	e = names_lookup(p, key, NULL);
	if (e == NULL || trk_version_cmp(&e->version, v) != 0)
		return TRK_NOT_FOUND;
	trk_groups_leave_all(p, e, false);
	entry_unlink(p, e);
	TRK_COUNT_ADD(p, unregisters, 1);
	trk_retire_entry(p, e);
	/* the version right below v: older copies stay out, v comes back */
	below = v->node > 0 ? (struct trk_version){ v->clock, v->node - 1 } :
		(struct trk_version){ v->clock - 1, UINT32_MAX };
	(void)trk_tomb_put(p, key, &below, now);	/* no memory: no guard */
	return TRK_OK;
}
