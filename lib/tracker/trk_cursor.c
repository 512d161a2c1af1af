/*
 * trk_cursor.c - paged listing of all names, and the cursor format.
 *
 * A listing walks the partitions in index order and each partition's names
 * in split order: ascending bit-reversed hash (trk_names.c). That order
 * depends only on the hashes, not on the table size, so it is the same
 * before and after the table grows, and an entry inserted or deleted
 * elsewhere does not move the others. A position is therefore just
 * "partition p, after hash h", and the names table resumes at any
 * position directly, whether or not the entry at h still exists.
 *
 * The cursor (32 bytes, opaque to clients) holds the partition and the
 * hashes of the last TRK_CURSOR_ANCHORS distinct hashes visited, most
 * recent first. Names resume after the first anchor; the older ones let a
 * page that must end before a group of equal hashes step back one
 * (page_rollback). Group members resume from the most recent anchor that
 * still exists in the group's list; only when all of them were deleted
 * between two pages does that walk restart at the list's head and skip
 * forward, counted in cursor_fallbacks.
 *
 * Names with equal 64-bit hashes are never split across pages (a page that
 * would split them ends before the group), because nothing orders them
 * among themselves in a way a 32-byte cursor could name. Their number is
 * capped at TRK_HASH_DUP_MAX, so with pages of at least that size such a
 * group always fits an empty page. A smaller page that cannot hold the
 * group skips its rest rather than stall (only ever with colliding hashes).
 *
 * Guarantee: an entry present (and live) from the first page to the last
 * is returned exactly once. Entries added or removed during the listing
 * may or may not appear, once at most.
 *
 * Cursor bytes: [0] state (0 fresh, 1 resume, 2 done), [1] kind,
 * [2] partition, [3] anchor count, [4..7] zero, [8..31] anchors (LE).
 * Anything else is rejected with TRK_INVALID.
 */
#include <string.h>

#include "trk_internal.h"

enum cursor_state_byte {
	CUR_FRESH = 0,
	CUR_RESUME = 1,
	CUR_DONE = 2,
};

void
trk_cursor_init(struct trk_cursor *c)
{
	memset(c, 0, sizeof(*c));
}

bool
trk_cursor_done(const struct trk_cursor *c)
{
	return c->b[0] == CUR_DONE;
}

void
trk_cursor_init_part(struct trk_cursor *c, uint32_t part)
{
	memset(c, 0, sizeof(*c));
	if (part == 0)
		return;	/* a fresh cursor starts at partition 0 */
	c->b[0] = CUR_RESUME;
	c->b[1] = TRK_CUR_NAMES;
	c->b[2] = (uint8_t)part;
}

uint32_t
trk_cursor_part(const struct trk_cursor *c)
{
	return c->b[0] == CUR_DONE ? UINT32_MAX : c->b[2];
}

static uint64_t
get_le64(const uint8_t *b)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static void
put_le64(uint8_t *b, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		b[i] = (uint8_t)v;
}

int
trk_cursor_load(const struct trk *t, const struct trk_cursor *c,
		enum trk_cursor_kind kind, struct trk_cursor_state *s)
{
	static const uint8_t zero[TRK_CURSOR_SIZE];
	uint32_t i;

	memset(s, 0, sizeof(*s));
	if (c == NULL)
		return TRK_INVALID;
	if (c->b[0] == CUR_FRESH)
		return memcmp(c->b, zero, sizeof(zero)) == 0 ? TRK_OK : TRK_INVALID;
	if ((c->b[0] != CUR_RESUME && c->b[0] != CUR_DONE) || c->b[1] != kind ||
			c->b[2] >= t->nparts || c->b[3] > TRK_CURSOR_ANCHORS ||
			memcmp(c->b + 4, zero, 4) != 0)
		return TRK_INVALID;
	s->done = c->b[0] == CUR_DONE;
	s->part = c->b[2];
	s->nanchors = c->b[3];
	for (i = 0; i < s->nanchors; i++)
		s->anchor[i] = get_le64(c->b + 8 + 8 * i);
	return TRK_OK;
}

void
trk_cursor_store(struct trk_cursor *c, enum trk_cursor_kind kind,
		const struct trk_cursor_state *s)
{
	uint32_t i, n = s->nanchors;

	if (n > TRK_CURSOR_ANCHORS)
		n = TRK_CURSOR_ANCHORS;
	memset(c, 0, sizeof(*c));
	c->b[0] = s->done ? CUR_DONE : CUR_RESUME;
	c->b[1] = (uint8_t)kind;
	c->b[2] = s->done ? 0 : (uint8_t)s->part;
	c->b[3] = s->done ? 0 : (uint8_t)n;
	for (i = 0; i < n && !s->done; i++)
		put_le64(c->b + 8 + 8 * i, s->anchor[i]);
}

void
trk_cursor_push_anchor(struct trk_cursor_state *s, uint64_t a)
{
	memmove(&s->anchor[1], &s->anchor[0],
			TRK_CURSOR_ANCHORS * sizeof(s->anchor[0]));
	s->anchor[0] = a;
	if (s->nanchors <= TRK_CURSOR_ANCHORS)
		s->nanchors++;
}

void
trk_cursor_next_part(struct trk_cursor_state *s, uint32_t nparts)
{
	s->nanchors = 0;
	if (++s->part >= nparts)
		s->done = true;
}

/*
 * The page is full and the next node shares the last visited hash h: take
 * that hash group back out of the page. Not when it is all this call
 * visited (possible only under adversarial churn, as groups are capped):
 * the cursor would not move, so the rest of the group is skipped instead.
 */
static bool
page_rollback(struct trk_cursor_state *s, uint64_t h,
		const struct trk_entry **out, size_t *n, size_t visited)
{
	size_t k = *n;

	if (visited <= 1)
		return false;
	while (k > 0 && out[k - 1]->hash == h)
		k--;
	*n = k;
	memmove(&s->anchor[0], &s->anchor[1],
			TRK_CURSOR_ANCHORS * sizeof(s->anchor[0]));
	s->nanchors--;
	return true;
}

/*
 * Any thread, online. Fill the page from p; true when the page is full.
 * *visited counts the distinct hashes this call visited, all partitions.
 */
static bool
names_page(struct trk_part *p, struct trk_cursor_state *s, uint64_t now,
		const struct trk_entry **out, size_t max, size_t *n,
		size_t *visited)
{
	uint64_t last = s->nanchors ? trk_split_key(s->anchor[0]) : 0;
	bool skipping = false;
	size_t here = 0;	/* distinct hashes visited in p by this call */
	struct trk_names_iter it;
	const struct trk_entry *e;

	trk_names_iter_start(p, &it, s->nanchors > 0, last);
	while ((e = trk_names_iter_next(&it)) != NULL) {
		bool same = here > 0 && s->anchor[0] == e->hash;

		if (skipping && same)
			continue;
		if (*n == max) {
			if (!same || page_rollback(s, e->hash, out, n, *visited))
				return true;
			skipping = true;
			continue;
		}
		if (trk_entry_live(e, now))
			out[(*n)++] = e;
		if (!same) {
			trk_cursor_push_anchor(s, e->hash);
			here++;
			(*visited)++;
		}
	}
	return false;
}

int
trk_registered(const struct trk *t, struct trk_cursor *cur, uint64_t now,
		const struct trk_entry **out, size_t max, size_t *n)
{
	struct trk_cursor_state s;
	size_t visited = 0;

	*n = 0;
	if (out == NULL || max < TRK_PAGE_MIN)
		return TRK_INVALID;
	if (trk_cursor_load(t, cur, TRK_CUR_NAMES, &s) != TRK_OK)
		return TRK_INVALID;
	while (!s.done) {
		if (names_page((struct trk_part *)&t->part[s.part], &s, now,
				out, max, n, &visited))
			break;
		trk_cursor_next_part(&s, t->nparts);
	}
	trk_cursor_store(cur, TRK_CUR_NAMES, &s);
	return TRK_OK;
}
