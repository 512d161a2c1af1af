/*
 * proto_stats.c - counter lists, the body of a STATS ok reply.
 *
 * A counter list is count (u16), then count x (name str8, value u64).
 * Names are 1..PROTO_STATS_NAME_MAX bytes of [a-z0-9_.] and do not repeat
 * within one list; count is at most PROTO_STATS_MAX and the whole body at
 * most PROTO_REP_BODY_MAX bytes, so a list always fits one reply op in an
 * empty datagram (docs/protocol.md 5.3). One walk validates a list for
 * the decoder and for re-encoding alike.
 */
#include <string.h>

#include "proto_rep.h"

#define STATS_HEAD_LEN		2u	/* count */
#define STATS_ITEM_FIXED	9u	/* name length byte + u64 value */

bool
proto_stats_name_ok(const void *name, size_t len)
{
	const uint8_t *p = name;
	size_t i;

	if (p == NULL || len < 1 || len > PROTO_STATS_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		      (p[i] >= '0' && p[i] <= '9') ||
		      p[i] == '_' || p[i] == '.'))
			return false;
	return true;
}

static bool
same(struct proto_bytes a, struct proto_bytes b)
{
	return a.len == b.len && !memcmp(a.ptr, b.ptr, a.len);
}

/*
 * Reads count counters from r, checking every name (charset, length, no
 * repeat) and that every value is whole. On failure *field names the
 * culprit: PROTO_F_NAME for a name, PROTO_F_BODY for a cut value.
 */
static bool
walk_items(struct proto_rd *r, uint16_t count, uint8_t *field)
{
	struct proto_bytes names[PROTO_STATS_MAX];
	uint64_t v;
	uint16_t i, j;

	*field = PROTO_F_BODY;
	if (count > PROTO_STATS_MAX)
		return false;
	for (i = 0; i < count; i++) {
		*field = PROTO_F_NAME;
		if (!proto_rd_str8(r, 1, PROTO_STATS_NAME_MAX, &names[i]) ||
				!proto_stats_name_ok(names[i].ptr,
					names[i].len))
			return false;
		for (j = 0; j < i; j++)
			if (same(names[i], names[j]))
				return false;
		*field = PROTO_F_BODY;
		if (!proto_rd_u64(r, &v))
			return false;
	}
	return true;
}

bool
proto_stats_decode(struct proto_rd *r, struct proto_stats *st,
		uint8_t *field)
{
	const uint8_t *start;

	*field = PROTO_F_BODY;
	if (!proto_rd_u16(r, &st->count))
		return false;
	start = r->p;
	if (!walk_items(r, st->count, field))
		return false;
	st->items.ptr = start;
	st->items.len = (uint16_t)(r->p - start);
	return true;
}

void
proto_stats_iter_init(struct proto_stats_iter *it,
		const struct proto_stats *st)
{
	proto_rd_init(&it->rd, st->items.ptr, st->items.len);
	it->left = st->count;
}

int
proto_stats_next(struct proto_stats_iter *it, struct proto_bytes *name,
		uint64_t *value)
{
	if (it->left == 0)
		return PROTO_END;
	if (!proto_rd_str8(&it->rd, 1, PROTO_STATS_NAME_MAX, name) ||
			!proto_rd_u64(&it->rd, value)) {
		it->left = 0;
		return PROTO_EMALFORMED;
	}
	it->left--;
	return PROTO_OK;
}

/* Writes a STATS ok reply op header for a body of blen bytes. */
static void
put_header(struct proto_enc *e, uint16_t index, size_t blen)
{
	proto_wr_u16(&e->w, index);
	proto_wr_u8(&e->w, PROTO_OP_STATS);
	proto_wr_u8(&e->w, PROTO_ST_OK);
	proto_wr_u16(&e->w, (uint16_t)blen);
}

int
proto_rep_add_stats(struct proto_enc *e, uint16_t index,
		const char *const *names, const uint64_t *values, size_t n)
{
	size_t blen = STATS_HEAD_LEN, i, j;
	struct proto_bytes b;

	if (e->buf == NULL || n > PROTO_STATS_MAX ||
			(n > 0 && (names == NULL || values == NULL)))
		return PROTO_EINVAL;
	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			return PROTO_EINVAL;
		b.len = (uint16_t)strnlen(names[i], PROTO_STATS_NAME_MAX + 1);
		if (!proto_stats_name_ok(names[i], b.len))
			return PROTO_EINVAL;
		for (j = 0; j < i; j++)
			if (!strcmp(names[i], names[j]))
				return PROTO_EINVAL;
		blen += STATS_ITEM_FIXED + b.len;
	}
	if (blen > PROTO_REP_BODY_MAX)
		return PROTO_EINVAL;
	if (!proto_wr_room(&e->w, PROTO_REP_HDR_LEN + blen))
		return PROTO_ENOSPC;
	put_header(e, index, blen);
	proto_wr_u16(&e->w, (uint16_t)n);
	for (i = 0; i < n; i++) {
		b.ptr = (const uint8_t *)names[i];
		b.len = (uint16_t)strlen(names[i]);
		proto_wr_str8(&e->w, b);
		proto_wr_u64(&e->w, values[i]);
	}
	e->nops++;
	return PROTO_OK;
}

int
proto_rep_add_stats_list(struct proto_enc *e, uint16_t index,
		const struct proto_stats *st)
{
	size_t blen = STATS_HEAD_LEN + (size_t)st->items.len;
	struct proto_rd r;
	uint8_t field;

	if (e->buf == NULL || blen > PROTO_REP_BODY_MAX ||
			(st->items.len && st->items.ptr == NULL))
		return PROTO_EINVAL;
	proto_rd_init(&r, st->items.ptr, st->items.len);
	if (!walk_items(&r, st->count, &field) || r.left != 0)
		return PROTO_EINVAL;
	if (!proto_wr_room(&e->w, PROTO_REP_HDR_LEN + blen))
		return PROTO_ENOSPC;
	put_header(e, index, blen);
	proto_wr_u16(&e->w, st->count);
	proto_wr_bytes(&e->w, st->items.ptr, st->items.len);
	e->nops++;
	return PROTO_OK;
}
