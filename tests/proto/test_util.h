/*
 * test_util.h - helpers shared by the lib/proto unit tests.
 *
 * Decoders under test always get an exact-size heap copy of the datagram
 * (tu_dup), so that AddressSanitizer reports any read past its end: a
 * stack or oversized buffer would hide an over-read of a few bytes.
 */
#ifndef SWARM_TEST_PROTO_UTIL_H
#define SWARM_TEST_PROTO_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

static inline uint8_t *
tu_dup(const void *buf, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	if (len)
		memcpy(p, buf, len);
	return p;
}

static inline struct proto_endpoint
tu_ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct proto_endpoint ep = { .family = PROTO_AF_IPV4, .port = port,
		.addr = { a, b, c, d } };

	return ep;
}

static inline struct proto_endpoint
tu_ep6(uint8_t last, uint16_t port)
{
	struct proto_endpoint ep = { .family = PROTO_AF_IPV6, .port = port,
		.addr = { 0xfd, 0x00, 0, 0, 0, 0, 0, 0,
			  0, 0, 0, 0, 0, 0, 0, last } };

	return ep;
}

static inline struct proto_bytes
tu_str(const char *s)
{
	struct proto_bytes b = { (const uint8_t *)s, (uint16_t)strlen(s) };

	return b;
}

static inline void
tu_assert_bytes(struct proto_bytes b, const void *want, size_t len)
{
	assert_int_equal(b.len, len);
	if (len)
		assert_memory_equal(b.ptr, want, len);
}

static inline void
tu_assert_str(struct proto_bytes b, const char *want)
{
	tu_assert_bytes(b, want, strlen(want));
}

static inline void
tu_assert_ep(const struct proto_endpoint *a, const struct proto_endpoint *b)
{
	assert_int_equal(a->family, b->family);
	assert_int_equal(a->port, b->port);
	assert_memory_equal(a->addr, b->addr, sizeof(a->addr));
}

static inline void
tu_assert_entry(const struct proto_entry *a, const struct proto_entry *b)
{
	assert_int_equal(a->handle, b->handle);
	assert_int_equal(a->node, b->node);
	assert_int_equal(a->ver.clock, b->ver.clock);
	assert_int_equal(a->ver.node, b->ver.node);
	assert_int_equal(a->ttl_ms, b->ttl_ms);
	tu_assert_ep(&a->ep, &b->ep);
	tu_assert_bytes(a->name, b->name.ptr, b->name.len);
	tu_assert_bytes(a->meta, b->meta.ptr, b->meta.len);
}

#endif /* SWARM_TEST_PROTO_UTIL_H */
