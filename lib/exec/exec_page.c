/*
 * exec_page.c - REGISTERED and MEMBERS: one page per op.
 *
 * The tracker hands out a page of entry pointers and advances its cursor
 * past all of them, but how many entries fit the reply datagram is only
 * known while encoding (entries are 30 to 560 bytes). So a page is built
 * optimistically: ask for up to `want` entries, encode them; if only k fit,
 * throw the encoded page away and ask again from the same starting cursor
 * for k entries. Under concurrent writes the second answer may differ, so
 * this repeats until a whole answer fits; it ends because the ask shrinks
 * every time and one entry always fits an empty datagram. The common case
 * (entries fit) costs one pass.
 *
 * The cursor goes to the client as the tracker's 32 opaque bytes; a page
 * that ends the listing carries the END flag and an empty cursor. A cursor
 * coming back is checked by the tracker (a forged one is a bad_request).
 *
 * Under a byte budget (exec_opts.budget) the page stops where the budget
 * does, and with source tags its cursor carries the tag in bytes 4..7,
 * which the tracker's cursors keep zero: a request cursor whose bytes 4..7
 * hold a valid tag verifies the source and lifts the budget; the bytes are
 * zeroed before the tracker sees the cursor. When not even one entry fits
 * the budget, the page goes out empty with its starting cursor stamped, so
 * that the next request (which echoes it) is verified and gets a full page.
 */
#include <string.h>

#include "exec_internal.h"

/* Entries asked for when the client says "as many as fit". */
#define EXEC_PAGE_ASK 64
/* Room proto_rep_page_begin() needs: op header, count, largest trailer. */
#define EXEC_PAGE_MIN (PROTO_REP_HDR_LEN + 2 + 2 + PROTO_CURSOR_MAX)
/* Where a cursor carries the source tag (the tracker keeps them zero). */
#define EXEC_TAG_OFF 4

/* One page from the tracker; group is NULL for REGISTERED. */
static int
page_fetch(struct exec_ctx *c, const struct trk_key *group,
		struct trk_cursor *cur, const struct trk_entry **ents,
		size_t ask, size_t *n)
{
	if (group == NULL)
		return trk_registered(c->t, cur, c->now, ents, ask, n);
	return trk_members(c->t, group, cur, c->now, ents, ask, n);
}

/* Encodes entries into the open page; returns how many fit. */
static size_t
page_fill(struct exec_ctx *c, struct proto_page_enc *pg,
		const struct trk_entry **ents, size_t n)
{
	struct proto_entry pe;
	size_t k;

	for (k = 0; k < n; k++) {
		exec_entry_to_proto(ents[k], c->now, &pe);
		if (proto_rep_page_add(&c->enc, pg, &pe) != 0)
			break;
	}
	return k;
}

static int
add_bad_cursor(struct exec_ctx *c, uint16_t index, uint8_t opcode,
		uint8_t status)
{
	(void)status;
	return proto_rep_add_bad_request(&c->enc, index, opcode,
			PROTO_F_CURSOR);
}

/* A short answer: it may use the reserve datagrams like any error. */
static void
page_bad_cursor(struct exec_ctx *c, const struct proto_op *op)
{
	exec_reply_short(c, op->index, op->opcode, PROTO_ST_BAD_REQUEST,
			add_bad_cursor);
}

static uint32_t
get_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		(uint32_t)b[2] << 8 | b[3];
}

/* A request cursor: takes its tag out; a valid one lifts the budget. */
static void
cursor_untag(struct exec_ctx *c, struct trk_cursor *cur)
{
	uint32_t tag = get_be32(cur->b + EXEC_TAG_OFF);

	if (c->budget.cursor_tag[0] == 0)
		return;		/* no tags: the tracker judges every byte */
	memset(cur->b + EXEC_TAG_OFF, 0, 4);
	if (tag != 0 && (tag == c->budget.cursor_tag[0] ||
			tag == c->budget.cursor_tag[1]))
		c->budget.reply_bytes_max = 0;	/* a verified source */
}

/* A cursor handed out: stamped with the tag, if any (in a copy). */
static void
cursor_tag(const struct exec_ctx *c, struct trk_cursor *cur)
{
	uint32_t tag = c->budget.cursor_tag[0];

	if (tag == 0 || get_be32(cur->b + EXEC_TAG_OFF) != 0)
		return;		/* never overwrite the tracker's bytes */
	cur->b[EXEC_TAG_OFF] = (uint8_t)(tag >> 24);
	cur->b[EXEC_TAG_OFF + 1] = (uint8_t)(tag >> 16);
	cur->b[EXEC_TAG_OFF + 2] = (uint8_t)(tag >> 8);
	cur->b[EXEC_TAG_OFF + 3] = (uint8_t)tag;
}

/*
 * Room for a page: the current datagram, or a fresh one when that holds
 * more. 0 when a page cannot even begin.
 */
static size_t
page_room(struct exec_ctx *c)
{
	size_t here = exec_room_here(c);

	if (here >= EXEC_PAGE_MIN)
		return here;
	if (exec_room_next(c) <= here)
		return 0;
	exec_reply_close(c);
	exec_reply_open(c);
	here = exec_room_here(c);
	return here >= EXEC_PAGE_MIN ? here : 0;
}

/*
 * Not one entry fits the byte budget: an empty page that hands the start
 * cursor back stamped (the listing goes on, verified), or, without tags,
 * `overloaded` (an empty page with the same cursor would never progress).
 */
static void
page_stalled(struct exec_ctx *c, const struct proto_op *op,
		const struct trk_cursor *start, size_t room)
{
	struct trk_cursor cur = *start;
	struct proto_page_enc pg;
	size_t hidden;

	if (!exec_budgeted(c) || c->budget.cursor_tag[0] == 0) {
		exec_reply_status(c, op, PROTO_ST_OVERLOADED);
		return;
	}
	cursor_tag(c, &cur);
	hidden = exec_room_begin(c, room);
	if (proto_rep_page_begin(&c->enc, &pg, op->index, op->opcode) != 0) {
		exec_room_end(c, hidden);
		exec_reply_status(c, op, PROTO_ST_OVERLOADED);
		return;
	}
	proto_rep_page_end(&c->enc, &pg, false, cur.b, sizeof(cur.b));
	exec_room_end(c, hidden);
	exec_reply_count(c, PROTO_ST_OK);
}

void
exec_page(struct exec_ctx *c, const struct proto_op *op)
{
	const struct trk_entry *ents[EXEC_PAGE_ASK];
	struct trk_cursor start, cur;
	struct proto_page_enc pg;
	struct trk_key gkey, *group = NULL;
	size_t want, n, k, room, hidden;
	bool done;

	if (op->opcode == PROTO_OP_MEMBERS) {
		gkey = exec_group_key(c);
		group = &gkey;
	}
	if (op->cursor.len != 0 && op->cursor.len != sizeof(start.b)) {
		page_bad_cursor(c, op);
		return;
	}
	trk_cursor_init(&start);
	if (op->cursor.len != 0) {
		memcpy(start.b, op->cursor.ptr, sizeof(start.b));
		cursor_untag(c, &start);
	}
	want = op->max_count == 0 || op->max_count > EXEC_PAGE_ASK ?
		EXEC_PAGE_ASK : op->max_count;
	for (;;) {
		cur = start;
		if (page_fetch(c, group, &cur, ents, want, &n) != TRK_OK) {
			page_bad_cursor(c, op);
			return;
		}
		room = page_room(c);
		if (room == 0) {
			exec_reply_status(c, op, PROTO_ST_OVERLOADED);
			return;
		}
		hidden = exec_room_begin(c, room);
		if (proto_rep_page_begin(&c->enc, &pg, op->index,
				op->opcode) != 0) {
			exec_room_end(c, hidden);
			exec_reply_status(c, op, PROTO_ST_INTERNAL);
			return;
		}
		k = page_fill(c, &pg, ents, n);
		if (k == n)
			break;
		proto_rep_page_abort(&c->enc, &pg);
		exec_room_end(c, hidden);
		if (k > 0) {
			want = k;
			continue;
		}
		/* not even one entry beside the earlier ops: move on */
		if (exec_room_next(c) > room) {
			exec_reply_close(c);
			exec_reply_open(c);
			continue;
		}
		page_stalled(c, op, &start, room);
		return;
	}
	done = trk_cursor_done(&cur);
	if (!done)
		cursor_tag(c, &cur);
	proto_rep_page_end(&c->enc, &pg, done, cur.b, done ? 0 : sizeof(cur.b));
	exec_room_end(c, hidden);
	exec_reply_count(c, PROTO_ST_OK);
}
