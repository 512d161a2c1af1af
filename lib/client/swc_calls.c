/*
 * swc_calls.c - one-op convenience calls and the iterate-all walks, on
 * the client's own batch.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "swc_internal.h"

/* Runs the client's one-op batch; idx is what the add returned. */
static int
one(struct swc_client *c, int idx, int server, struct swc_result *res)
{
	struct swc_call call = { .timeout_ms = 0, .retries = -1,
				 .server = server };
	const struct swc_result *r;
	int rc;

	if (idx < 0) {
		snprintf(c->errmsg, sizeof(c->errmsg), "invalid argument: %s",
			proto_field_name(c->one->bad_field));
		if (res) {
			memset(res, 0, sizeof(*res));
			res->status = idx;
			res->field = c->one->bad_field;
			res->server = -1;
		}
		return idx;
	}
	rc = swc_run_opts(c, c->one, &call);
	r = swc_batch_result(c->one, (size_t)idx);
	if (res)
		*res = *r;
	if (rc != 0 && rc != SWC_ETIMEDOUT)
		return rc;
	if (r->status == SWC_ENOANSWER)
		return SWC_ETIMEDOUT;
	return r->status;
}

#define RESET(c) swc_batch_reset((c)->one)

int
swc_register(struct swc_client *c, const void *name, size_t name_len,
		uint64_t handle, const struct proto_endpoint *ep,
		const void *meta, size_t meta_len, uint32_t ttl_ms,
		struct swc_result *res)
{
	RESET(c);
	return one(c, swc_batch_register(c->one, name, name_len, handle, ep,
			meta, meta_len, ttl_ms), -1, res);
}

int
swc_whereis_or_register(struct swc_client *c, const void *name,
		size_t name_len, uint64_t handle,
		const struct proto_endpoint *ep, const void *meta,
		size_t meta_len, uint32_t ttl_ms, struct swc_result *res)
{
	RESET(c);
	return one(c, swc_batch_whereis_or_register(c->one, name, name_len,
			handle, ep, meta, meta_len, ttl_ms), -1, res);
}

int
swc_unregister(struct swc_client *c, const void *name, size_t name_len,
		const uint64_t *expect_handle, struct swc_result *res)
{
	RESET(c);
	return one(c, swc_batch_unregister(c->one, name, name_len,
			expect_handle), -1, res);
}

int
swc_whereis(struct swc_client *c, const void *name, size_t name_len,
		struct swc_result *res)
{
	RESET(c);
	return one(c, swc_batch_whereis(c->one, name, name_len), -1, res);
}

int
swc_join(struct swc_client *c, const void *group, size_t group_len,
		const void *name, size_t name_len, struct swc_result *res)
{
	RESET(c);
	return one(c, swc_batch_join(c->one, group, group_len, name,
			name_len), -1, res);
}

int
swc_leave(struct swc_client *c, const void *group, size_t group_len,
		const void *name, size_t name_len, struct swc_result *res)
{
	RESET(c);
	return one(c, swc_batch_leave(c->one, group, group_len, name,
			name_len), -1, res);
}

int
swc_members(struct swc_client *c, const void *group, size_t group_len,
		const void *cursor, size_t cursor_len, uint16_t max_count,
		int server, struct swc_result *res)
{
	RESET(c);
	return one(c, swc_batch_members(c->one, group, group_len, cursor,
			cursor_len, max_count), server, res);
}

int
swc_registered(struct swc_client *c, const void *cursor, size_t cursor_len,
		uint16_t max_count, int server, struct swc_result *res)
{
	RESET(c);
	return one(c, swc_batch_registered(c->one, cursor, cursor_len,
			max_count), server, res);
}

int
swc_status(struct swc_client *c, struct swc_result *res)
{
	RESET(c);
	return one(c, swc_batch_status(c->one), -1, res);
}

int
swc_stats(struct swc_client *c, struct swc_result *res)
{
	RESET(c);
	return one(c, swc_batch_stats(c->one), -1, res);
}

int
swc_readiness(struct swc_client *c, int server, struct swc_result *res)
{
	RESET(c);
	return one(c, swc_batch_readiness(c->one), server, res);
}

static uint64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool
ready_enough(const struct proto_readiness *rd, bool writable)
{
	return rd->state == PROTO_READY_SERVING ||
		(!writable && rd->state == PROTO_READY_NO_OWNER);
}

int
swc_wait_ready(struct swc_client *c, int server, uint32_t wait_ms,
		bool writable, struct swc_result *res)
{
	uint64_t end = clock_ms() + wait_ms, t;
	struct swc_result r;
	int rc;

	for (;;) {
		rc = swc_readiness(c, server, &r);
		if (res)
			*res = r;
		if (rc != PROTO_ST_OK)
			return rc;
		if (ready_enough(&r.ready, writable))
			return PROTO_ST_OK;
		if ((t = clock_ms()) >= end)
			return PROTO_ST_NOT_READY;
		/* the node's hint, at least 10 ms, never past the end */
		t = end - t;
		if (r.ready.retry_after_ms > 10 && r.ready.retry_after_ms < t)
			t = r.ready.retry_after_ms;
		else if (t > 10)
			t = 10;
		nanosleep(&(struct timespec){ .tv_sec = (time_t)(t / 1000),
				.tv_nsec = (long)(t % 1000) * 1000000 }, NULL);
	}
}

/* group NULL: REGISTERED, else MEMBERS of group. */
static int
walk(struct swc_client *c, const void *group, size_t group_len,
		uint16_t page_max, swc_entry_cb cb, void *arg,
		struct swc_result *out)
{
	uint8_t cursor[PROTO_CURSOR_MAX];
	struct swc_result r;
	size_t clen = 0, i;
	int server = -1, rc;

	for (;;) {
		if (group)
			rc = swc_members(c, group, group_len, cursor, clen,
					page_max, server, &r);
		else
			rc = swc_registered(c, cursor, clen, page_max, server,
					&r);
		if (out)
			*out = r;
		if (rc != PROTO_ST_OK)
			return rc;
		server = r.server;	/* cursors belong to that node */
		for (i = 0; i < r.count; i++)
			if (cb(&r.entries[i], arg) != 0)
				return SWC_ECANCELED;
		if (r.end)
			return PROTO_ST_OK;
		clen = r.cursor_len;
		memcpy(cursor, r.cursor, clen);
	}
}

int
swc_members_all(struct swc_client *c, const void *group, size_t group_len,
		uint16_t page_max, swc_entry_cb cb, void *arg,
		struct swc_result *res)
{
	if (group == NULL || group_len < 1 || group_len > PROTO_GROUP_MAX) {
		if (res) {
			memset(res, 0, sizeof(*res));
			res->status = SWC_EINVAL;
			res->field = PROTO_F_GROUP;
			res->server = -1;
		}
		snprintf(c->errmsg, sizeof(c->errmsg),
			"invalid argument: group");
		return SWC_EINVAL;
	}
	return walk(c, group, group_len, page_max, cb, arg, res);
}

int
swc_registered_all(struct swc_client *c, uint16_t page_max,
		swc_entry_cb cb, void *arg, struct swc_result *res)
{
	return walk(c, NULL, 0, page_max, cb, arg, res);
}
