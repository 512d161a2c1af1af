/*
 * trk_test.h - helpers shared by the lib/tracker unit tests.
 *
 * Entries built here carry content derived from (name, handle): the port
 * and metadata are functions of both, so a test (or a reader thread) can
 * check that an entry it sees is internally consistent.
 */
#ifndef SWARM_TRK_TEST_H
#define SWARM_TRK_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tracker.h"

struct name_buf {
	char s[32];
	struct trk_key k;
};

static inline void
name_make(struct name_buf *b, const char *prefix, unsigned int i)
{
	int len = snprintf(b->s, sizeof(b->s), "%s-%u", prefix, i);

	b->k = trk_key(b->s, (size_t)len);
}

static inline uint16_t
port_of(uint64_t handle)
{
	return (uint16_t)(1 + handle % 60000);
}

/* Metadata "m:<handle>:<name>", so it can be checked against both. */
static inline size_t
meta_of(char *out, size_t cap, const struct trk_key *k, uint64_t handle)
{
	const char *name = k->name ? (const char *)k->name : "";
	int len = k->name ? (int)k->len : 0;
	int n = snprintf(out, cap, "m:%llu:%.*s", (unsigned long long)handle,
			len, name);

	return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}

struct reg_buf {
	struct trk_reg r;
	char meta[TRK_META_MAX + 1];
};

static inline void
reg_make(struct reg_buf *b, const struct trk_key *k, uint64_t handle,
		uint64_t ttl)
{
	memset(b, 0, sizeof(*b));
	b->r.key = *k;
	b->r.handle = handle;
	b->r.ep.family = TRK_INET4;
	b->r.ep.addr[0] = 10;
	b->r.ep.addr[3] = (uint8_t)handle;
	b->r.ep.port = port_of(handle);
	b->r.owner = 7;
	b->r.meta_len = meta_of(b->meta, sizeof(b->meta), k, handle);
	b->r.meta = b->meta;
	b->r.ttl_ms = ttl;
}

/* True when e's fields agree with each other the way reg_make made them. */
static inline bool
entry_consistent(const struct trk_entry *e)
{
	char want[TRK_META_MAX + 1];
	struct trk_key k = trk_key_hashed(trk_entry_name(e), e->name_len, e->hash);
	size_t n = meta_of(want, sizeof(want), &k, e->handle);

	return e->hash == ring_hash_name(trk_entry_name(e), e->name_len) &&
		e->ep.port == port_of(e->handle) &&
		e->ep.addr[3] == (uint8_t)e->handle &&
		e->meta_len == n && memcmp(trk_entry_meta(e), want, n) == 0;
}

static inline struct trk *
trk_make(uint32_t nparts, uint64_t expected, uint64_t max, uint32_t chq)
{
	struct trk_config c = {
		.nparts = nparts,
		.node_id = 7,
		.expected_entries = expected,
		.max_entries = max,
		.change_queue_len = chq,
	};
	struct trk *t = trk_create(&c);

	assert_non_null(t);
	return t;
}

static inline int
reg_simple(struct trk *t, const struct trk_key *k, uint64_t handle,
		uint64_t ttl, uint64_t now)
{
	struct reg_buf b;

	reg_make(&b, k, handle, ttl);
	return trk_register(t, &b.r, now, NULL);
}

/* Drain every partition's changes (partition order, then queue order). */
static inline size_t
drain_all(struct trk *t, struct trk_change *out, size_t max)
{
	size_t n = 0;
	uint32_t p;

	for (p = 0; p < trk_nparts(t); p++)
		n += trk_drain_changes(t, p, out + n, max - n);
	return n;
}

#endif /* SWARM_TRK_TEST_H */
