/*
 * proto_page.c - building paged replies.
 *
 * A page is count (u16), the entries, flags (u8), cursor (str8). The count
 * and the cursor are only known when the page is full, so begin writes the
 * op header and a zero count, and hides room for the largest trailer from
 * the writer (the writer's `left` is lowered by PAGE_TRAILER_MAX). Entries
 * then stop at exactly the point where the trailer still fits, and end
 * gives the room back, writes the trailer and patches count and length.
 */
#include <string.h>

#include "proto_rep.h"

#define PAGE_HEAD_LEN		2u
#define PAGE_TRAILER_MAX	(1u + 1u + PROTO_CURSOR_MAX)

int
proto_rep_page_begin(struct proto_enc *e, struct proto_page_enc *pg,
		uint16_t index, uint8_t opcode)
{
	if (e->buf == NULL ||
			proto_rep_body_kind(opcode, PROTO_ST_OK) != PROTO_BODY_PAGE)
		return PROTO_EINVAL;
	if (!proto_wr_room(&e->w, PROTO_REP_HDR_LEN + PAGE_HEAD_LEN +
				PAGE_TRAILER_MAX))
		return PROTO_ENOSPC;
	pg->op = e->w.p;
	pg->count = 0;
	proto_wr_u16(&e->w, index);
	proto_wr_u8(&e->w, opcode);
	proto_wr_u8(&e->w, PROTO_ST_OK);
	proto_wr_u16(&e->w, 0);		/* body length, patched by end */
	proto_wr_u16(&e->w, 0);		/* count, patched by end */
	e->w.left -= PAGE_TRAILER_MAX;
	return PROTO_OK;
}

int
proto_rep_page_add(struct proto_enc *e, struct proto_page_enc *pg,
		const struct proto_entry *ent)
{
	size_t len = proto_entry_len(ent);

	if (len == 0 || pg->count == UINT16_MAX)
		return PROTO_EINVAL;
	if (!proto_wr_room(&e->w, len))
		return PROTO_ENOSPC;
	proto_entry_encode(&e->w, ent);
	pg->count++;
	return PROTO_OK;
}

void
proto_rep_page_abort(struct proto_enc *e, struct proto_page_enc *pg)
{
	size_t written = (size_t)(e->w.p - pg->op);

	e->w.p = pg->op;
	e->w.left += written + PAGE_TRAILER_MAX;
}

int
proto_rep_page_end(struct proto_enc *e, struct proto_page_enc *pg, bool end,
		const void *cursor, size_t cursor_len)
{
	struct proto_bytes c = { cursor, (uint16_t)cursor_len };
	size_t blen;

	if (cursor_len > PROTO_CURSOR_MAX || (cursor_len && cursor == NULL)) {
		proto_rep_page_abort(e, pg);
		return PROTO_EINVAL;
	}
	e->w.left += PAGE_TRAILER_MAX;
	proto_wr_u8(&e->w, end ? PROTO_PAGE_END : 0);
	proto_wr_str8(&e->w, c);
	blen = (size_t)(e->w.p - pg->op) - PROTO_REP_HDR_LEN;
	proto_put_u16_at(pg->op + 4, (uint16_t)blen);
	proto_put_u16_at(pg->op + PROTO_REP_HDR_LEN, pg->count);
	e->nops++;
	return PROTO_OK;
}

/* True when items holds exactly count valid entries. */
static bool
items_valid(const struct proto_page *page)
{
	struct proto_page_iter it;
	struct proto_entry ent;
	int rc;

	if (page->items.len && page->items.ptr == NULL)
		return false;
	proto_page_iter_init(&it, page);
	while ((rc = proto_page_next(&it, &ent)) == PROTO_OK)
		;
	return rc == PROTO_END && it.rd.left == 0;
}

/*
 * Unlike the begin/add/end path, the size is known here, so the page is
 * checked against the exact room it needs: a page that fit one datagram
 * always fits an empty one again.
 */
int
proto_rep_add_page(struct proto_enc *e, uint16_t index, uint8_t opcode,
		const struct proto_page *page)
{
	size_t blen = PAGE_HEAD_LEN + page->items.len + 2 + page->cursor.len;

	if (e->buf == NULL ||
			proto_rep_body_kind(opcode, PROTO_ST_OK) != PROTO_BODY_PAGE ||
			(page->flags & ~PROTO_PAGE_END) ||
			page->cursor.len > PROTO_CURSOR_MAX ||
			(page->cursor.len && page->cursor.ptr == NULL) ||
			!items_valid(page))
		return PROTO_EINVAL;
	if (!proto_wr_room(&e->w, PROTO_REP_HDR_LEN + blen))
		return PROTO_ENOSPC;
	proto_wr_u16(&e->w, index);
	proto_wr_u8(&e->w, opcode);
	proto_wr_u8(&e->w, PROTO_ST_OK);
	proto_wr_u16(&e->w, (uint16_t)blen);
	proto_wr_u16(&e->w, page->count);
	proto_wr_bytes(&e->w, page->items.ptr, page->items.len);
	proto_wr_u8(&e->w, page->flags);
	proto_wr_str8(&e->w, page->cursor);
	e->nops++;
	return PROTO_OK;
}
