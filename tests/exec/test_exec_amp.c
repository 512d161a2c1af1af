/*
 * test_exec_amp.c - the reply byte budget of lib/exec (exec_opts.budget):
 * a request from a source the node does not trust may draw at most
 * EXEC_AMP reply bytes per request byte (UDP payloads, headers included),
 * and every op is still answered exactly once.
 *
 * The worst case is measured over adversarial requests against a registry
 * built to make answers large: 1-byte names whose entries carry an IPv6
 * endpoint and 255 bytes of metadata, entries with 255-byte names, a group
 * of them, a 255-byte node name, a full counter list. Every op kind is
 * sent alone and repeated to the largest count a datagram holds, and in
 * seeded random mixes; listings with max_count 0, from the start and from
 * a cursor. The figure is printed. Further tests: requests split between
 * places (the take hook forwards ops; the sub-requests run with the shares
 * of their ops) stay within the same bound; a trusted request (no byte
 * budget) keeps the full datagram budget; a listing walked by an untrusted
 * client goes on page by page (cut short) and, with cursor tags, gets full
 * pages once its cursor verifies it; writes under a budget.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include "exec.h"

#define NOW		1000000ull
#define NODE_ID		5u
#define SMALL_NAMES	52		/* 1-byte names A..Z a..z */
#define LONG_NAMES	40		/* 255-byte names */
#define TAG0		0x5eed0001u
#define TAG1		0x5eed0000u
#define MAX_ANS		(PROTO_MAX_OPS + 1)

struct fx {
	struct trk *t;
	struct exec_node node;
	struct exec_out *out;
	char node_name[PROTO_NODE_NAME_MAX + 1];
	char stat_names[PROTO_STATS_MAX][14];
	uint64_t fresh;			/* names made by writes */
	double worst;
	size_t worst_len, worst_bytes;
	char worst_what[64];
};

struct req {
	uint8_t buf[PROTO_MAX_DGRAM];
	struct proto_enc e;
	size_t len;
	uint16_t nops;
};

static int
counters(void *arg, const char **names, uint64_t *values, size_t max)
{
	struct fx *f = arg;
	size_t i;

	for (i = 0; i < max; i++) {
		names[i] = f->stat_names[i];
		values[i] = UINT64_MAX - i;
	}
	return (int)max;
}

static void
readiness(void *arg, uint64_t now, struct proto_readiness *out)
{
	(void)arg;
	(void)now;
	out->state = PROTO_READY_SYNCING;
	out->partitions = 4;
	out->synced = 1;
	out->alive = 3;
	out->owners = 2;
	out->retry_after_ms = 100;
}

static struct proto_endpoint
ep6(void)
{
	struct proto_endpoint ep;

	memset(&ep, 0, sizeof(ep));
	ep.family = PROTO_AF_IPV6;
	ep.port = 5683;
	memset(ep.addr, 0xfd, 16);
	return ep;
}

static void
must_register(struct fx *f, const void *name, size_t len, uint64_t handle)
{
	struct proto_endpoint ep = ep6();
	uint8_t meta[PROTO_META_MAX];
	struct req r;

	memset(meta, 'm', sizeof(meta));
	proto_req_init(&r.e, r.buf, sizeof(r.buf), 1);
	assert_int_equal(proto_req_add_register(&r.e, name, len, handle, &ep,
			meta, sizeof(meta), 0), 0);
	r.len = proto_enc_finish(&r.e);
	urcu_qsbr_quiescent_state();
	assert_int_equal(exec_datagram(f->t, &f->node, r.buf, r.len, NOW,
			f->out), EXEC_ANSWERED);
	assert_int_equal(f->out->status[PROTO_ST_OK], 1);
	proto_req_init(&r.e, r.buf, sizeof(r.buf), 2);
	assert_int_equal(proto_req_add_join(&r.e, "g", 1, name, len), 0);
	r.len = proto_enc_finish(&r.e);
	assert_int_equal(exec_datagram(f->t, &f->node, r.buf, r.len, NOW,
			f->out), EXEC_ANSWERED);
	assert_int_equal(f->out->status[PROTO_ST_OK], 1);
}

static uint8_t
small_name(unsigned int i)
{
	i %= SMALL_NAMES;
	return (uint8_t)(i < 26 ? 'A' + i : 'a' + i - 26);
}

static int
setup(void **state)
{
	struct trk_config cfg = { .nparts = 4, .node_id = NODE_ID,
				  .expected_entries = 1 << 16 };
	struct fx *f = calloc(1, sizeof(*f));
	uint8_t name[PROTO_NAME_MAX];
	unsigned int i;

	if (f == NULL || (f->out = calloc(1, sizeof(*f->out))) == NULL)
		return -1;
	urcu_qsbr_register_thread();
	f->t = trk_create(&cfg);
	if (f->t == NULL)
		return -1;
	memset(f->node_name, 'n', PROTO_NODE_NAME_MAX);
	for (i = 0; i < PROTO_STATS_MAX; i++)
		snprintf(f->stat_names[i], sizeof(f->stat_names[i]),
				"counter.%05u", i);
	f->node.node_id = NODE_ID;
	f->node.name = f->node_name;
	f->node.start_ms = NOW - 1000;
	f->node.stats = counters;
	f->node.stats_arg = f;
	f->node.readiness = readiness;
	for (i = 0; i < SMALL_NAMES; i++) {
		name[0] = small_name(i);
		must_register(f, name, 1, 1000 + i);
	}
	for (i = 0; i < LONG_NAMES; i++) {
		memset(name, 'L', sizeof(name));
		snprintf((char *)name, 8, "%05u", i);
		name[5] = 'L';
		must_register(f, name, sizeof(name), 5000 + i);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	trk_destroy(f->t);
	urcu_qsbr_unregister_thread();
	free(f->out);
	free(f);
	return 0;
}

/* ---- requests ---- */

enum kind {
	K_WHEREIS,		/* a big entry for a 1-byte name */
	K_WHEREIS_MISS,
	K_REG_CONFLICT,		/* already_registered: the big entry */
	K_UNREG_MISMATCH,	/* handle_mismatch: the big entry */
	K_WOR_FOUND,		/* the big entry */
	K_JOIN,
	K_LEAVE,
	K_REGISTERED,		/* max_count 0, from the start */
	K_MEMBERS,		/* max_count 0, from the start */
	K_REGISTERED_CUR,	/* max_count 0, from a cursor (no valid tag) */
	K_STATUS,
	K_STATS,
	K_READINESS,
	K_UNKNOWN,		/* opcode 0x80, empty body */
	K_MALFORMED,		/* WHEREIS without a name */
	K_REG_NEW,		/* a new name: a receipt */
	K_WOR_NEW,		/* a new name with big metadata: its entry */
	K__MAX
};

static const char *const kind_name[K__MAX] = {
	"WHEREIS", "WHEREIS miss", "REGISTER conflict", "UNREGISTER mismatch",
	"WOR found", "JOIN", "LEAVE", "REGISTERED", "MEMBERS",
	"REGISTERED cursor", "STATUS", "STATS", "READINESS", "unknown op",
	"malformed op", "REGISTER new", "WOR new",
};

/* A cursor of the listing, some way in (bytes 4..7 as the tracker has them). */
static uint8_t mid_cursor[PROTO_CURSOR_MAX];

static int
add_op(struct fx *f, struct req *r, enum kind k, unsigned int i)
{
	struct proto_endpoint none = { 0 }, ep = ep6();
	uint8_t n = small_name(i), meta[PROTO_META_MAX], fresh[12];
	uint64_t wrong = 1;
	int rc;

	memset(meta, 'w', sizeof(meta));
	switch (k) {
	case K_WHEREIS:
		rc = proto_req_add_whereis(&r->e, &n, 1);
		break;
	case K_WHEREIS_MISS:
		rc = proto_req_add_whereis(&r->e, "#", 1);
		break;
	case K_REG_CONFLICT:
		rc = proto_req_add_register(&r->e, &n, 1, 1, &none, NULL, 0,
				0);
		break;
	case K_UNREG_MISMATCH:
		rc = proto_req_add_unregister(&r->e, &n, 1, &wrong);
		break;
	case K_WOR_FOUND:
		rc = proto_req_add_whereis_or_register(&r->e, &n, 1, 1, &none,
				NULL, 0, 0);
		break;
	case K_JOIN:
		rc = proto_req_add_join(&r->e, "g", 1, &n, 1);
		break;
	case K_LEAVE:
		rc = proto_req_add_leave(&r->e, "h", 1, &n, 1);
		break;
	case K_REGISTERED:
		rc = proto_req_add_registered(&r->e, NULL, 0, 0);
		break;
	case K_MEMBERS:
		rc = proto_req_add_members(&r->e, "g", 1, NULL, 0, 0);
		break;
	case K_REGISTERED_CUR:
		rc = proto_req_add_registered(&r->e, mid_cursor,
				sizeof(mid_cursor), 0);
		break;
	case K_STATUS:
		rc = proto_req_add_status(&r->e);
		break;
	case K_STATS:
		rc = proto_req_add_stats(&r->e);
		break;
	case K_READINESS:
		rc = proto_req_add_readiness(&r->e);
		break;
	case K_UNKNOWN:
		rc = proto_req_add_raw(&r->e, 0x80, 0, NULL, 0);
		break;
	case K_MALFORMED:
		rc = proto_req_add_raw(&r->e, PROTO_OP_WHEREIS, 0, NULL, 0);
		break;
	case K_REG_NEW:
		snprintf((char *)fresh, sizeof(fresh), "r%llu",
				(unsigned long long)f->fresh++);
		rc = proto_req_add_register(&r->e, fresh,
				strlen((char *)fresh), 7, &none, NULL, 0, 0);
		break;
	case K_WOR_NEW:
	default:
		snprintf((char *)fresh, sizeof(fresh), "w%llu",
				(unsigned long long)f->fresh++);
		rc = proto_req_add_whereis_or_register(&r->e, fresh,
				strlen((char *)fresh), 7, &ep, meta,
				sizeof(meta), 0);
		break;
	}
	if (rc == 0)
		r->nops++;
	return rc;
}

static void
req_begin(struct req *r, uint64_t id)
{
	assert_int_equal(proto_req_init(&r->e, r->buf, sizeof(r->buf), id), 0);
	r->nops = 0;
}

static void
req_end(struct req *r)
{
	r->len = proto_enc_finish(&r->e);
	assert_true(r->len > PROTO_HDR_LEN);
}

/* ---- replies ---- */

/* Total bytes of out; checks that the ops of want[] are answered once. */
static size_t
check_out(const struct exec_out *out, uint64_t req_id, const uint16_t *want,
		size_t nwant, uint8_t *status)
{
	uint8_t seen[1u << 16];
	struct proto_reply rr;
	struct proto_rep rep;
	size_t d, bytes = 0, n = 0, i;

	memset(seen, 0, sizeof(seen));
	assert_int_equal(out->unanswered, 0);
	for (d = 0; d < out->n; d++) {
		assert_true(out->len[d] <= PROTO_MAX_DGRAM);
		bytes += out->len[d];
		assert_int_equal(proto_rep_parse(&rep, out->dgram[d],
				out->len[d]), 0);
		assert_true(rep.req_id == req_id);
		while (proto_rep_next(&rep, &rr) == 0) {
			assert_int_equal(seen[rr.index], 0);
			seen[rr.index] = 1;
			if (status != NULL)
				status[rr.index] = rr.status;
			n++;
		}
	}
	for (i = 0; i < nwant; i++)
		assert_int_equal(seen[want[i]], 1);
	assert_int_equal(n, nwant);
	return bytes;
}

static void
note(struct fx *f, size_t len, size_t bytes, const char *what)
{
	double ratio = (double)bytes / (double)len;

	if (ratio > f->worst) {
		f->worst = ratio;
		f->worst_len = len;
		f->worst_bytes = bytes;
		snprintf(f->worst_what, sizeof(f->worst_what), "%s", what);
	}
	if (bytes > EXEC_AMP * len)
		fail_msg("%s: %zu reply bytes for a %zu-byte request (%.2fx)",
				what, bytes, len, ratio);
}

static uint64_t
rd_req_id(const struct req *r)
{
	uint64_t v = 0;
	int i;

	for (i = 4; i < 12; i++)
		v = v << 8 | r->buf[i];
	return v;
}

/*
 * Runs r untrusted (budget EXEC_AMP x len, tags or not); checks that every
 * op is answered once and, unless a cursor may verify the source
 * (verifies), that the replies keep to the budget.
 */
static size_t
run_as(struct fx *f, const struct req *r, bool tags, bool verifies,
		const char *what)
{
	struct exec_opts o = { .budget = { .reply_bytes_max =
		EXEC_AMP * r->len } };
	uint16_t want[MAX_ANS];
	size_t bytes, i;

	if (tags) {
		o.budget.cursor_tag[0] = TAG0;
		o.budget.cursor_tag[1] = TAG1;
	}
	for (i = 0; i < r->nops; i++)
		want[i] = (uint16_t)i;
	urcu_qsbr_quiescent_state();
	assert_int_equal(exec_datagram_opts(f->t, &f->node, r->buf, r->len,
			NOW, &o, f->out), EXEC_ANSWERED);
	bytes = check_out(f->out, rd_req_id(r), want, r->nops, NULL);
	if (!verifies)
		note(f, r->len, bytes, what);
	return bytes;
}

static size_t
run_untrusted(struct fx *f, const struct req *r, bool tags, const char *what)
{
	return run_as(f, r, tags, false, what);
}

/* A cursor some pages into the listing (trusted, so bytes 4..7 zero). */
static void
take_mid_cursor(struct fx *f)
{
	struct proto_reply rr;
	struct proto_rep rep;
	struct req r;

	req_begin(&r, 3);
	assert_int_equal(proto_req_add_registered(&r.e, NULL, 0, 5), 0);
	req_end(&r);
	urcu_qsbr_quiescent_state();
	exec_datagram(f->t, &f->node, r.buf, r.len, NOW, f->out);
	assert_int_equal(proto_rep_parse(&rep, f->out->dgram[0],
			f->out->len[0]), 0);
	assert_int_equal(proto_rep_next(&rep, &rr), 0);
	assert_int_equal(rr.u.page.cursor.len, PROTO_CURSOR_MAX);
	memcpy(mid_cursor, rr.u.page.cursor.ptr, PROTO_CURSOR_MAX);
}

/* ---- the worst case ---- */

static void
test_worst_case_ratio(void **state)
{
	struct fx *f = *state;
	unsigned int k, n, trial, i, counts[] = { 1, 2, 3, 5, 13, 40, 100 };
	uint32_t seed = 12345;
	char what[64];
	struct req r;
	int tags;

	take_mid_cursor(f);
	for (tags = 0; tags < 2; tags++) {
		for (k = 0; k < K__MAX; k++) {
			/* n of one kind, then as many as the datagram holds */
			for (n = 0; n <= sizeof(counts) / sizeof(counts[0]);
					n++) {
				unsigned int want = n < sizeof(counts) /
					sizeof(counts[0]) ? counts[n] :
					PROTO_MAX_OPS;

				req_begin(&r, 100 + k);
				for (i = 0; i < want; i++)
					if (add_op(f, &r, (enum kind)k, i) != 0)
						break;
				req_end(&r);
				snprintf(what, sizeof(what), "%u x %s%s",
						r.nops, kind_name[k],
						tags ? " (tags)" : "");
				run_untrusted(f, &r, tags, what);
			}
		}
		/* mixes: random kinds, random counts */
		for (trial = 0; trial < 3000; trial++) {
			unsigned int nops;

			seed = seed * 1103515245u + 12345u;
			nops = 1 + (seed >> 16) % 60;
			req_begin(&r, 1000 + trial);
			for (i = 0; i < nops; i++) {
				seed = seed * 1103515245u + 12345u;
				if (add_op(f, &r, (enum kind)((seed >> 16) %
						K__MAX), seed >> 8) != 0)
					break;
			}
			req_end(&r);
			snprintf(what, sizeof(what), "mix %u (%u ops)%s",
					trial, r.nops, tags ? " (tags)" : "");
			run_untrusted(f, &r, tags, what);
		}
	}
	printf("# reply budget of an untrusted source: worst case %.3f reply "
			"bytes per request byte (%zu bytes for %zu: %s); limit "
			"%u\n", f->worst, f->worst_bytes, f->worst_len,
			f->worst_what, EXEC_AMP);
	assert_true(f->worst <= EXEC_AMP);
}

/*
 * The issue's request: 13 REGISTERED of "as many as fit". Trusted (no
 * byte budget) it keeps today's datagram budget: 13 full pages. Untrusted
 * it stays within EXEC_AMP x its length, every op answered.
 */
static void
test_trusted_keeps_full_budget(void **state)
{
	struct fx *f = *state;
	uint8_t status[MAX_ANS];
	uint16_t want[MAX_ANS];
	struct req r;
	size_t bytes, i;

	req_begin(&r, 77);
	for (i = 0; i < 13; i++) {
		assert_int_equal(add_op(f, &r, K_REGISTERED, 0), 0);
		want[i] = (uint16_t)i;
	}
	req_end(&r);
	urcu_qsbr_quiescent_state();
	assert_int_equal(exec_datagram(f->t, &f->node, r.buf, r.len, NOW,
			f->out), EXEC_ANSWERED);
	bytes = check_out(f->out, 77, want, 13, status);
	assert_int_equal(f->out->n, 13);
	for (i = 0; i < 13; i++)
		assert_int_equal(status[i], PROTO_ST_OK);
	assert_true(bytes > 13 * (PROTO_MAX_DGRAM - 600));
	printf("# trusted: 13 REGISTERED in %zu bytes drew %zu bytes in %zu "
			"datagrams (%.1fx)\n", r.len, bytes, f->out->n,
			(double)bytes / (double)r.len);

	/* a zero budget is no budget: the same */
	{
		struct exec_opts o = { .budget = { 0 } };

		exec_datagram_opts(f->t, &f->node, r.buf, r.len, NOW, &o,
				f->out);
		assert_int_equal(f->out->n, 13);
	}
	bytes = run_untrusted(f, &r, true, "13 REGISTERED");
	printf("# untrusted: the same request drew %zu bytes in %zu "
			"datagram(s) (%.2fx)\n", bytes, f->out->n,
			(double)bytes / (double)r.len);
	assert_true(bytes <= EXEC_AMP * r.len);
}

/* ---- listings of an untrusted client ---- */

struct walk {
	unsigned int requests, entries, empty_pages;
	unsigned int seen_small[SMALL_NAMES];
	size_t max_page_entries;
};

/*
 * Walks REGISTERED from the start as swc_registered_all() does (the next
 * page from the last cursor until END), every request untrusted. With
 * expect_tag, checks bytes 4..7 of every cursor.
 */
static int
walk_listing(struct fx *f, bool tags, struct walk *w)
{
	uint8_t cursor[PROTO_CURSOR_MAX];
	size_t clen = 0;

	memset(w, 0, sizeof(*w));
	for (;;) {
		struct proto_page_iter it;
		struct proto_entry e;
		struct proto_reply rr;
		struct proto_rep rep;
		struct req r;
		size_t k = 0;

		req_begin(&r, 500 + w->requests);
		assert_int_equal(proto_req_add_registered(&r.e, cursor, clen,
				0), 0);
		r.nops = 1;
		req_end(&r);
		/* from the second page on, a tagged cursor verifies */
		run_as(f, &r, tags, tags && clen > 0, "listing walk");
		if (++w->requests > 100000)
			fail_msg("the walk does not end");
		assert_int_equal(f->out->n, 1);
		assert_int_equal(proto_rep_parse(&rep, f->out->dgram[0],
				f->out->len[0]), 0);
		assert_int_equal(proto_rep_next(&rep, &rr), 0);
		if (rr.status != PROTO_ST_OK)
			return rr.status;
		proto_page_iter_init(&it, &rr.u.page);
		while (proto_page_next(&it, &e) == 0) {
			if (e.name.len == 1)
				w->seen_small[e.name.ptr[0] <= 'Z' ?
					e.name.ptr[0] - 'A' :
					e.name.ptr[0] - 'a' + 26]++;
			w->entries++;
			k++;
		}
		if (k == 0)
			w->empty_pages++;
		if (k > w->max_page_entries)
			w->max_page_entries = k;
		if (rr.u.page.flags & PROTO_PAGE_END)
			return PROTO_ST_OK;
		assert_int_equal(rr.u.page.cursor.len, PROTO_CURSOR_MAX);
		if (tags) {
			const uint8_t *t = rr.u.page.cursor.ptr + 4;

			assert_int_equal((uint32_t)t[0] << 24 | t[1] << 16 |
					t[2] << 8 | t[3], TAG0);
		}
		clen = rr.u.page.cursor.len;
		memcpy(cursor, rr.u.page.cursor.ptr, clen);
	}
}

/*
 * With tags, the first page (23-byte request, 69 bytes of budget) holds
 * no entry but a stamped cursor; every later request echoes it, is
 * verified, and gets a full page: the walk sees every entry once.
 */
static void
test_untrusted_listing_with_tags(void **state)
{
	struct fx *f = *state;
	struct walk w;
	unsigned int i;

	assert_int_equal(walk_listing(f, true, &w), PROTO_ST_OK);
	assert_int_equal(w.entries, trk_count(f->t));
	for (i = 0; i < SMALL_NAMES; i++)
		assert_int_equal(w.seen_small[i], 1);
	assert_int_equal(w.empty_pages, 1);
	assert_true(w.max_page_entries >= 3);
	printf("# untrusted walk with tags: %u entries in %u requests\n",
			w.entries, w.requests);
}

/*
 * Without tags nothing verifies the client: pages are cut to the budget.
 * Small entries still come a few per page; a page that cannot hold one
 * entry is `overloaded`, never an empty page that would repeat forever.
 */
static void
test_untrusted_listing_without_tags(void **state)
{
	struct fx *f = *state;
	struct trk_config cfg = { .nparts = 2, .node_id = NODE_ID,
				  .expected_entries = 1024 };
	struct trk *big = f->t;
	struct walk w;
	unsigned int i;
	char name[8];

	/* a registry of small entries */
	f->t = trk_create(&cfg);
	assert_non_null(f->t);
	for (i = 0; i < 30; i++) {
		struct proto_endpoint none = { 0 };
		struct req r;

		snprintf(name, sizeof(name), "d%02u", i);
		req_begin(&r, 9);
		assert_int_equal(proto_req_add_register(&r.e, name, 3, i,
				&none, NULL, 0, 0), 0);
		req_end(&r);
		exec_datagram(f->t, &f->node, r.buf, r.len, NOW, f->out);
	}
	assert_int_equal(walk_listing(f, false, &w), PROTO_ST_OVERLOADED);
	assert_int_equal(w.requests, 1);	/* 69 bytes hold no entry */
	trk_destroy(f->t);
	f->t = big;
	/* the big registry: entries of 305 bytes never fit 3 x 55 bytes */
	assert_int_equal(walk_listing(f, false, &w), PROTO_ST_OVERLOADED);
}

/* A cursor with a stale or forged tag is not verified, but goes on. */
static void
test_stale_tag(void **state)
{
	struct fx *f = *state;
	struct exec_opts o = { .budget = { .cursor_tag = { TAG0, TAG1 } } };
	struct proto_reply rr;
	struct proto_rep rep;
	uint8_t cur[PROTO_CURSOR_MAX];
	struct req r;

	take_mid_cursor(f);
	memcpy(cur, mid_cursor, sizeof(cur));
	cur[4] = 0xde;	/* a tag that is neither */
	req_begin(&r, 41);
	assert_int_equal(proto_req_add_registered(&r.e, cur, sizeof(cur), 0),
			0);
	req_end(&r);
	o.budget.reply_bytes_max = EXEC_AMP * r.len;
	exec_datagram_opts(f->t, &f->node, r.buf, r.len, NOW, &o, f->out);
	assert_true(f->out->len[0] <= EXEC_AMP * r.len);
	assert_int_equal(proto_rep_parse(&rep, f->out->dgram[0],
			f->out->len[0]), 0);
	assert_int_equal(proto_rep_next(&rep, &rr), 0);
	assert_int_equal(rr.status, PROTO_ST_OK);
	assert_int_equal(rr.u.page.count, 0);	/* budget-bound, stalled */
	assert_int_equal(rr.u.page.cursor.len, PROTO_CURSOR_MAX);
	/* the same position, stamped with the current tag */
	assert_memory_equal(rr.u.page.cursor.ptr, mid_cursor, 4);
	assert_memory_equal(rr.u.page.cursor.ptr + 8, mid_cursor + 8, 24);
	assert_int_equal(rr.u.page.cursor.ptr[4], TAG0 >> 24);
	/* echoed: verified, a full page (entries of 305 and 559 bytes) */
	memcpy(cur, rr.u.page.cursor.ptr, sizeof(cur));
	req_begin(&r, 42);
	assert_int_equal(proto_req_add_registered(&r.e, cur, sizeof(cur), 0),
			0);
	req_end(&r);
	exec_datagram_opts(f->t, &f->node, r.buf, r.len, NOW, &o, f->out);
	assert_int_equal(proto_rep_parse(&rep, f->out->dgram[0],
			f->out->len[0]), 0);
	assert_int_equal(proto_rep_next(&rep, &rr), 0);
	assert_int_equal(rr.status, PROTO_ST_OK);
	assert_true(rr.u.page.count >= 2);
	assert_true(f->out->len[0] > 2 * 305);
	/* the previous period's tag verifies too */
	cur[4] = TAG1 >> 24;
	cur[5] = (TAG1 >> 16) & 0xff;
	cur[6] = (TAG1 >> 8) & 0xff;
	cur[7] = TAG1 & 0xff;
	req_begin(&r, 43);
	assert_int_equal(proto_req_add_registered(&r.e, cur, sizeof(cur), 0),
			0);
	req_end(&r);
	exec_datagram_opts(f->t, &f->node, r.buf, r.len, NOW, &o, f->out);
	assert_true(f->out->len[0] > 2 * 305);
	/* without tags (a trusted source) a stamped cursor is the tracker's
	 * to judge: not one of its cursors */
	o = (struct exec_opts){ 0 };
	exec_datagram_opts(f->t, &f->node, r.buf, r.len, NOW, &o, f->out);
	assert_int_equal(proto_rep_parse(&rep, f->out->dgram[0],
			f->out->len[0]), 0);
	assert_int_equal(proto_rep_next(&rep, &rr), 0);
	assert_int_equal(rr.status, PROTO_ST_BAD_REQUEST);
}

/* ---- writes ---- */

static void
test_writes_under_budget(void **state)
{
	struct fx *f = *state;
	struct proto_endpoint none = { 0 }, ep = ep6();
	struct exec_opts o = { 0 };
	uint8_t meta[PROTO_META_MAX], status[MAX_ANS];
	const uint16_t want[2] = { 0, 1 };
	struct trk_key k = trk_key("new-1", 5);
	struct req r;

	memset(meta, 'x', sizeof(meta));
	/* a new name: the receipt fits, the write runs */
	req_begin(&r, 61);
	assert_int_equal(proto_req_add_register(&r.e, "new-1", 5, 9, &none,
			NULL, 0, 0), 0);
	/* a conflict whose answer (305 bytes) does not fit: overloaded */
	assert_int_equal(proto_req_add_register(&r.e, "A", 1, 9, &none,
			NULL, 0, 0), 0);
	req_end(&r);
	o.budget.reply_bytes_max = EXEC_AMP * r.len;
	exec_datagram_opts(f->t, &f->node, r.buf, r.len, NOW, &o, f->out);
	check_out(f->out, 61, want, 2, status);
	assert_int_equal(status[0], PROTO_ST_OK);
	assert_int_equal(status[1], PROTO_ST_OVERLOADED);
	assert_non_null(trk_whereis(f->t, &k, NOW));
	/* WHEREIS_OR_REGISTER with big metadata: its own entry fits */
	req_begin(&r, 62);
	assert_int_equal(proto_req_add_whereis_or_register(&r.e, "new-2", 5,
			9, &ep, meta, sizeof(meta), 0), 0);
	req_end(&r);
	o.budget.reply_bytes_max = EXEC_AMP * r.len;
	exec_datagram_opts(f->t, &f->node, r.buf, r.len, NOW, &o, f->out);
	check_out(f->out, 62, want, 1, status);
	assert_int_equal(status[0], PROTO_ST_OK);
	/* found by a short request: its answer does not fit, nothing done */
	req_begin(&r, 63);
	assert_int_equal(proto_req_add_whereis_or_register(&r.e, "new-2", 5,
			10, &none, NULL, 0, 0), 0);
	req_end(&r);
	o.budget.reply_bytes_max = EXEC_AMP * r.len;
	exec_datagram_opts(f->t, &f->node, r.buf, r.len, NOW, &o, f->out);
	check_out(f->out, 63, want, 1, status);
	assert_int_equal(status[0], PROTO_ST_OVERLOADED);
}

/* ---- a request split between places ---- */

#define PARTS 6

/* What a data plane's take hook does, with the budget rule of exec.h. */
struct split {
	const struct exec_budget *b;
	size_t len;
	struct proto_enc enc[PARTS];
	uint8_t buf[PARTS][PROTO_MAX_DGRAM];
	uint16_t map[PARTS][MAX_ANS];
	uint16_t nops[PARTS];
	size_t budget[PARTS];
	uint64_t req_id;
	unsigned int refused;
};

static int
split_take(const struct exec_op *xo, void *arg, struct exec_refusal *rf)
{
	const struct proto_op *op = &xo->op;
	struct split *s = arg;
	size_t share = exec_budget_share(s->b, s->len, exec_op_len(op));
	unsigned int p;

	/* writes and hits of odd names go elsewhere, by name */
	if (op->name.len == 0 || (op->name.ptr[0] & 1) == 0)
		return EXEC_TAKE_RUN;
	p = (op->name.ptr[0] >> 1) % PARTS;
	if (s->nops[p] == 0 && share < EXEC_PART_MIN) {
		s->refused++;
		rf->status = PROTO_ST_OVERLOADED;
		rf->retry_ms = 0;
		return EXEC_TAKE_REFUSE;
	}
	if (s->nops[p] == 0)
		proto_req_init(&s->enc[p], s->buf[p], PROTO_MAX_DGRAM,
				s->req_id);
	assert_int_equal(proto_req_add_raw(&s->enc[p], op->opcode, op->flags,
			op->body.ptr, op->body.len), 0);
	s->map[p][s->nops[p]++] = op->index;
	s->budget[p] += share;
	return EXEC_TAKE_SKIP;
}

static void
test_split_requests(void **state)
{
	struct fx *f = *state;
	uint32_t seed = 777;
	unsigned int trial, i, p, refused = 0;
	double worst = 0;

	for (trial = 0; trial < 3000; trial++) {
		struct exec_opts o = { .take = split_take };
		struct split *s = calloc(1, sizeof(*s));
		uint16_t want[MAX_ANS];
		size_t bytes, total = 0, nwant = 0;
		struct req r;
		unsigned int nops;

		seed = seed * 1103515245u + 12345u;
		nops = 1 + (seed >> 16) % 80;
		req_begin(&r, 2000 + trial);
		for (i = 0; i < nops; i++) {
			seed = seed * 1103515245u + 12345u;
			if (add_op(f, &r, (enum kind)((seed >> 16) % K__MAX),
					seed >> 8) != 0)
				break;
		}
		req_end(&r);
		o.budget.reply_bytes_max = EXEC_AMP * r.len;
		o.arg = s;
		s->b = &o.budget;
		s->len = r.len;
		s->req_id = 2000 + trial;
		urcu_qsbr_quiescent_state();
		exec_datagram_opts(f->t, &f->node, r.buf, r.len, NOW, &o,
				f->out);
		/* the ops answered here: all but the skipped ones */
		for (i = 0; i < r.nops; i++) {
			bool skipped = false;

			for (p = 0; p < PARTS && !skipped; p++)
				for (size_t j = 0; j < s->nops[p]; j++)
					skipped |= s->map[p][j] == i;
			if (!skipped)
				want[nwant++] = (uint16_t)i;
		}
		total += check_out(f->out, s->req_id, want, nwant, NULL);
		for (p = 0; p < PARTS; p++) {
			struct exec_opts po = { .index_map = s->map[p],
				.index_map_len = s->nops[p],
				.budget = { .reply_bytes_max = s->budget[p] } };
			size_t plen;

			if (s->nops[p] == 0)
				continue;
			plen = proto_enc_finish(&s->enc[p]);
			assert_true(s->budget[p] >= EXEC_PART_MIN);
			exec_datagram_opts(f->t, &f->node, s->buf[p], plen,
					NOW, &po, f->out);
			bytes = check_out(f->out, s->req_id, s->map[p],
					s->nops[p], NULL);
			assert_true(bytes <= s->budget[p]);
			total += bytes;
		}
		refused += s->refused;
		if ((double)total / (double)r.len > worst)
			worst = (double)total / (double)r.len;
		if (total > EXEC_AMP * r.len)
			fail_msg("split request %u: %zu bytes for %zu", trial,
					total, r.len);
		free(s);
	}
	printf("# requests split between %d places: worst case %.3f reply "
			"bytes per request byte (%u tiny ops refused)\n",
			PARTS + 1, worst, refused);
}

/* Datagram-level answers stay within the budget of a 16-byte request. */
static void
test_datagram_errors(void **state)
{
	struct fx *f = *state;
	struct exec_opts o = { .budget = { .reply_bytes_max = 0 } };
	uint8_t bad[PROTO_HDR_LEN] = { 0x53, 0x57, 2, 0, 0, 0, 0, 0, 0, 0, 0,
		9, 0, 1, 0, 0 };

	o.budget.reply_bytes_max = EXEC_AMP * sizeof(bad);
	assert_int_equal(exec_datagram_opts(f->t, &f->node, bad, sizeof(bad),
			NOW, &o, f->out), EXEC_ANSWERED);
	assert_int_equal(f->out->n, 1);
	assert_true(f->out->len[0] <= EXEC_AMP * sizeof(bad));
	bad[2] = 1;	/* version 1, op count 1, no op: bad_request */
	exec_datagram_opts(f->t, &f->node, bad, sizeof(bad), NOW, &o, f->out);
	assert_int_equal(f->out->n, 1);
	assert_true(f->out->len[0] <= EXEC_AMP * sizeof(bad));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_worst_case_ratio,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_trusted_keeps_full_budget,
				setup, teardown),
		cmocka_unit_test_setup_teardown(
				test_untrusted_listing_with_tags,
				setup, teardown),
		cmocka_unit_test_setup_teardown(
				test_untrusted_listing_without_tags,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_tag, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_writes_under_budget,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_requests, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_datagram_errors, setup,
				teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
