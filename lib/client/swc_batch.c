/*
 * swc_batch.c - queuing ops. Every op is validated field by field (so a
 * bad argument is named, as the node would name it) and encoded once with
 * the proto encoder; the engine (swc_run.c) later packs the stored op
 * bytes into as few datagrams as fit.
 */
#include <stdlib.h>
#include <string.h>

#include "swc_internal.h"

struct swc_batch *
swc_batch_new(void)
{
	return calloc(1, sizeof(struct swc_batch));
}

void
swc_result_clear(struct swc_result *r)
{
	free(r->entries);
	free(r->raw);
	free(r->stats);
	memset(r, 0, sizeof(*r));
	r->status = SWC_ENOANSWER;
	r->server = -1;
}

void
swc_batch_reset(struct swc_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		swc_result_clear(&b->res[i]);
	b->n = 0;
	b->blen = 0;
	b->bad_field = PROTO_F_NONE;
}

void
swc_batch_free(struct swc_batch *b)
{
	if (b == NULL)
		return;
	swc_batch_reset(b);
	free(b->ops);
	free(b->res);
	free(b->bodies);
	free(b);
}

size_t
swc_batch_count(const struct swc_batch *b)
{
	return b->n;
}

uint8_t
swc_batch_bad_field(const struct swc_batch *b)
{
	return b->bad_field;
}

const struct swc_result *
swc_batch_result(const struct swc_batch *b, size_t i)
{
	return i < b->n ? &b->res[i] : NULL;
}

static int
bad(struct swc_batch *b, uint8_t field)
{
	b->bad_field = field;
	return SWC_EINVAL;
}

static bool
ep_ok(const struct proto_endpoint *ep)
{
	return ep == NULL || proto_endpoint_len(ep) != 0;
}

/* Stores the single op encoded in e (a datagram holding only it). */
static int
store(struct swc_batch *b, struct proto_enc *e, int rc, bool retry)
{
	size_t len = proto_enc_finish(e);
	const uint8_t *op = e->buf + PROTO_HDR_LEN;
	size_t blen;
	struct swc_bop *bop;

	if (rc != 0 || len <= PROTO_HDR_LEN + PROTO_OP_HDR_LEN - 1)
		return bad(b, PROTO_F_BODY);
	blen = len - PROTO_HDR_LEN - PROTO_OP_HDR_LEN;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct swc_bop *ops = realloc(b->ops, cap * sizeof(*ops));
		struct swc_result *res;

		if (ops == NULL)
			return SWC_ENOMEM;
		b->ops = ops;
		res = realloc(b->res, cap * sizeof(*res));
		if (res == NULL)
			return SWC_ENOMEM;
		b->res = res;
		b->cap = cap;
	}
	if (b->blen + blen > b->bcap) {
		size_t cap = b->bcap ? b->bcap * 2 : 4096;
		uint8_t *nb;

		while (cap < b->blen + blen)
			cap *= 2;
		nb = realloc(b->bodies, cap);
		if (nb == NULL)
			return SWC_ENOMEM;
		b->bodies = nb;
		b->bcap = cap;
	}
	bop = &b->ops[b->n];
	memset(bop, 0, sizeof(*bop));
	bop->opcode = op[0];
	bop->flags = op[1];
	bop->retry = retry;
	bop->body_len = (uint16_t)blen;
	bop->body_off = b->blen;
	if (blen)
		memcpy(b->bodies + b->blen, op + PROTO_OP_HDR_LEN, blen);
	b->blen += blen;
	memset(&b->res[b->n], 0, sizeof(b->res[b->n]));
	swc_result_clear(&b->res[b->n]);
	b->res[b->n].opcode = bop->opcode;
	b->bad_field = PROTO_F_NONE;
	return (int)b->n++;
}

#define ENC_BEGIN(b)							\
	uint8_t dg[PROTO_MAX_DGRAM];					\
	struct proto_enc e;						\
	proto_req_init(&e, dg, sizeof(dg), 0)

static int
add_reg(struct swc_batch *b, bool wor, const void *name, size_t name_len,
		uint64_t handle, const struct proto_endpoint *ep,
		const void *meta, size_t meta_len, uint32_t ttl_ms)
{
	static const struct proto_endpoint none;
	int rc;

	if (name == NULL || name_len < 1 || name_len > PROTO_NAME_MAX)
		return bad(b, PROTO_F_NAME);
	if (!ep_ok(ep))
		return bad(b, PROTO_F_ENDPOINT);
	if (meta_len > PROTO_META_MAX || (meta == NULL && meta_len))
		return bad(b, PROTO_F_METADATA);
	ENC_BEGIN(b);
	if (ep == NULL)
		ep = &none;
	if (wor)
		rc = proto_req_add_whereis_or_register(&e, name, name_len,
				handle, ep, meta, meta_len, ttl_ms);
	else
		rc = proto_req_add_register(&e, name, name_len, handle, ep,
				meta, meta_len, ttl_ms);
	return store(b, &e, rc, true);
}

int
swc_batch_register(struct swc_batch *b, const void *name, size_t name_len,
		uint64_t handle, const struct proto_endpoint *ep,
		const void *meta, size_t meta_len, uint32_t ttl_ms)
{
	return add_reg(b, false, name, name_len, handle, ep, meta, meta_len,
			ttl_ms);
}

int
swc_batch_whereis_or_register(struct swc_batch *b, const void *name,
		size_t name_len, uint64_t handle,
		const struct proto_endpoint *ep, const void *meta,
		size_t meta_len, uint32_t ttl_ms)
{
	return add_reg(b, true, name, name_len, handle, ep, meta, meta_len,
			ttl_ms);
}

int
swc_batch_unregister(struct swc_batch *b, const void *name,
		size_t name_len, const uint64_t *expect_handle)
{
	int rc;

	if (name == NULL || name_len < 1 || name_len > PROTO_NAME_MAX)
		return bad(b, PROTO_F_NAME);
	ENC_BEGIN(b);
	rc = proto_req_add_unregister(&e, name, name_len, expect_handle);
	return store(b, &e, rc, expect_handle != NULL);
}

int
swc_batch_whereis(struct swc_batch *b, const void *name, size_t name_len)
{
	int rc;

	if (name == NULL || name_len < 1 || name_len > PROTO_NAME_MAX)
		return bad(b, PROTO_F_NAME);
	ENC_BEGIN(b);
	rc = proto_req_add_whereis(&e, name, name_len);
	return store(b, &e, rc, true);
}

static int
add_group(struct swc_batch *b, bool join, const void *group,
		size_t group_len, const void *name, size_t name_len)
{
	int rc;

	if (group == NULL || group_len < 1 || group_len > PROTO_GROUP_MAX)
		return bad(b, PROTO_F_GROUP);
	if (name == NULL || name_len < 1 || name_len > PROTO_NAME_MAX)
		return bad(b, PROTO_F_NAME);
	ENC_BEGIN(b);
	if (join)
		rc = proto_req_add_join(&e, group, group_len, name, name_len);
	else
		rc = proto_req_add_leave(&e, group, group_len, name, name_len);
	return store(b, &e, rc, true);
}

int
swc_batch_join(struct swc_batch *b, const void *group, size_t group_len,
		const void *name, size_t name_len)
{
	return add_group(b, true, group, group_len, name, name_len);
}

int
swc_batch_leave(struct swc_batch *b, const void *group, size_t group_len,
		const void *name, size_t name_len)
{
	return add_group(b, false, group, group_len, name, name_len);
}

int
swc_batch_members(struct swc_batch *b, const void *group, size_t group_len,
		const void *cursor, size_t cursor_len, uint16_t max_count)
{
	int rc;

	if (group == NULL || group_len < 1 || group_len > PROTO_GROUP_MAX)
		return bad(b, PROTO_F_GROUP);
	if (cursor_len > PROTO_CURSOR_MAX || (cursor == NULL && cursor_len))
		return bad(b, PROTO_F_CURSOR);
	ENC_BEGIN(b);
	rc = proto_req_add_members(&e, group, group_len, cursor, cursor_len,
			max_count);
	return store(b, &e, rc, true);
}

int
swc_batch_registered(struct swc_batch *b, const void *cursor,
		size_t cursor_len, uint16_t max_count)
{
	int rc;

	if (cursor_len > PROTO_CURSOR_MAX || (cursor == NULL && cursor_len))
		return bad(b, PROTO_F_CURSOR);
	ENC_BEGIN(b);
	rc = proto_req_add_registered(&e, cursor, cursor_len, max_count);
	return store(b, &e, rc, true);
}

int
swc_batch_status(struct swc_batch *b)
{
	int rc;

	ENC_BEGIN(b);
	rc = proto_req_add_status(&e);
	return store(b, &e, rc, true);
}

int
swc_batch_stats(struct swc_batch *b)
{
	int rc;

	ENC_BEGIN(b);
	rc = proto_req_add_stats(&e);
	return store(b, &e, rc, true);
}

int
swc_batch_readiness(struct swc_batch *b)
{
	int rc;

	ENC_BEGIN(b);
	rc = proto_req_add_readiness(&e);
	return store(b, &e, rc, true);
}

int
swc_batch_raw(struct swc_batch *b, uint8_t opcode, uint8_t flags,
		const void *body, size_t body_len, bool retry)
{
	int rc;

	if (body_len > PROTO_MAX_DGRAM - PROTO_HDR_LEN - PROTO_OP_HDR_LEN ||
	    (body == NULL && body_len))
		return bad(b, PROTO_F_BODY);
	ENC_BEGIN(b);
	rc = proto_req_add_raw(&e, opcode, flags, body, body_len);
	return store(b, &e, rc, retry);
}
