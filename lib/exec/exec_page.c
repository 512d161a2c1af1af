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
 */
#include <string.h>

#include "exec_internal.h"

/* Entries asked for when the client says "as many as fit". */
#define EXEC_PAGE_ASK 64

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
		entry_to_proto(ents[k], c->now, &pe);
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
	reply_short(c, op->index, op->opcode, PROTO_ST_BAD_REQUEST,
			add_bad_cursor);
}

/* Opens a page, in a fresh datagram when the current one is too full. */
static bool
page_open(struct exec_ctx *c, const struct proto_op *op,
		struct proto_page_enc *pg, bool *fresh)
{
	*fresh = c->enc.nops == 0;
	if (reply_full_here(c) &&
			proto_rep_page_begin(&c->enc, pg, op->index,
				op->opcode) == 0)
		return true;
	if (*fresh || !reply_may_grow(c))
		return false;
	reply_close(c);
	reply_open(c);
	*fresh = true;
	return proto_rep_page_begin(&c->enc, pg, op->index, op->opcode) == 0;
}

void
exec_page(struct exec_ctx *c, const struct proto_op *op)
{
	const struct trk_entry *ents[EXEC_PAGE_ASK];
	struct trk_cursor start, cur;
	struct proto_page_enc pg;
	struct trk_key gkey, *group = NULL;
	size_t want, n, k;
	bool fresh, done;

	if (op->opcode == PROTO_OP_MEMBERS) {	/* hashed once, not per retry */
		gkey = trk_key(op->group.ptr, op->group.len);
		group = &gkey;
	}
	if (op->cursor.len != 0 && op->cursor.len != sizeof(start.b)) {
		page_bad_cursor(c, op);
		return;
	}
	trk_cursor_init(&start);
	if (op->cursor.len != 0)
		memcpy(start.b, op->cursor.ptr, sizeof(start.b));
	want = op->max_count == 0 || op->max_count > EXEC_PAGE_ASK ?
		EXEC_PAGE_ASK : op->max_count;
	for (;;) {
		cur = start;
		if (page_fetch(c, group, &cur, ents, want, &n) != TRK_OK) {
			page_bad_cursor(c, op);
			return;
		}
		if (!page_open(c, op, &pg, &fresh)) {
			reply_status(c, op, PROTO_ST_OVERLOADED);
			return;
		}
		k = page_fill(c, &pg, ents, n);
		if (k == n)
			break;
		proto_rep_page_abort(&c->enc, &pg);
		if (k == 0 && !fresh) {
			/* not even one entry beside the earlier ops: move on */
			if (!reply_may_grow(c)) {
				reply_status(c, op, PROTO_ST_OVERLOADED);
				return;
			}
			reply_close(c);
			reply_open(c);
			continue;
		}
		want = k > 0 ? k : 1;
	}
	done = trk_cursor_done(&cur);
	proto_rep_page_end(&c->enc, &pg, done, cur.b, done ? 0 : sizeof(cur.b));
	reply_count(c, PROTO_ST_OK);
}
