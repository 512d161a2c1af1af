/*
 * test_client.c - cmocka tests of lib/client (swc_).
 *
 * Most tests run the library against tests/support/udp_server (the real
 * request path on a loopback socket). Loss is made two ways: the server's
 * drop_every (requests lost before execution) and a proxy thread that
 * drops the REPLIES of chosen requests (the request was executed, the
 * answer is lost: the case that makes retries dangerous unless the ops are
 * idempotent). A scripted fake server sends what a real node would not:
 * datagram-level errors, strays, duplicates, mismatched opcodes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "swc.h"
#include "udp_server.h"

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct swc_client *
client_for(uint16_t port, uint32_t timeout_ms, uint32_t retries)
{
	char addr[32];
	const char *servers[1] = { addr };
	struct swc_options o = { .timeout_ms = timeout_ms, .retries = retries,
				 .backoff_ms = 5, .backoff_max_ms = 50 };
	char err[256];
	struct swc_client *c;

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	c = swc_client_new(servers, 1, &o, NULL, err, sizeof(err));
	assert_non_null(c);
	return c;
}

static int
bind_loopback(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* ---- basic ops against the real request path ------------------------ */

static void
test_roundtrip(void **state)
{
	uint16_t port;
	struct udp_server *s = udp_server_start(&port, 0);
	struct swc_client *c;
	struct proto_endpoint ep;
	struct swc_result r;
	uint64_t h = 42, wrong = 43;

	(void)state;
	assert_non_null(s);
	c = client_for(port, 500, 3);
	assert_int_equal(swc_endpoint_parse("192.168.1.20:5683", &ep), 0);
	assert_int_equal(swc_register(c, "dev-1", 5, 42, &ep, "v1", 2, 60000,
			&r), PROTO_ST_OK);
	assert_int_equal(r.receipt_node, 1);
	assert_int_equal(r.tries, 1);
	assert_int_equal(swc_whereis(c, "dev-1", 5, &r), PROTO_ST_OK);
	assert_true(r.has_entry);
	assert_int_equal(r.entry.handle, 42);
	assert_int_equal(r.entry.name_len, 5);
	assert_memory_equal(r.entry.name, "dev-1", 6);
	assert_int_equal(r.entry.meta_len, 2);
	assert_memory_equal(r.entry.meta, "v1", 2);
	assert_int_equal(r.entry.ep.family, PROTO_AF_IPV4);
	assert_int_equal(r.entry.ep.port, 5683);
	assert_true(r.entry.ttl_ms > 0 && r.entry.ttl_ms <= 60000);
	assert_int_equal(r.entry.node, 1);

	/* Same handle: ok (renewal); another handle: already_registered. */
	assert_int_equal(swc_register(c, "dev-1", 5, 42, NULL, NULL, 0, 0,
			&r), PROTO_ST_OK);
	assert_int_equal(swc_register(c, "dev-1", 5, 7, NULL, NULL, 0, 0, &r),
			PROTO_ST_ALREADY_REGISTERED);
	assert_true(r.has_entry);
	assert_int_equal(r.entry.handle, 42);

	assert_int_equal(swc_whereis_or_register(c, "dev-1", 5, 9, NULL,
			NULL, 0, 0, &r), PROTO_ST_OK);
	assert_int_equal(r.outcome, PROTO_WOR_FOUND);
	assert_int_equal(r.entry.handle, 42);
	assert_int_equal(swc_whereis_or_register(c, "dev-2", 5, 9, NULL,
			"m", 1, 0, &r), PROTO_ST_OK);
	assert_int_equal(r.outcome, PROTO_WOR_REGISTERED);

	/* Groups. */
	assert_int_equal(swc_join(c, "g", 1, "dev-1", 5, &r), PROTO_ST_OK);
	assert_int_equal(swc_join(c, "g", 1, "dev-2", 5, &r), PROTO_ST_OK);
	assert_int_equal(swc_join(c, "g", 1, "nobody", 6, &r),
			PROTO_ST_NOT_FOUND);
	assert_int_equal(swc_members(c, "g", 1, NULL, 0, 0, -1, &r),
			PROTO_ST_OK);
	assert_int_equal(r.count, 2);
	assert_true(r.end);
	assert_int_equal(swc_leave(c, "g", 1, "dev-2", 5, &r), PROTO_ST_OK);
	assert_int_equal(swc_members(c, "g", 1, NULL, 0, 0, -1, &r),
			PROTO_ST_OK);
	assert_int_equal(r.count, 1);
	assert_memory_equal(r.entries[0].name, "dev-1", 5);

	/* Status. */
	assert_int_equal(swc_status(c, &r), PROTO_ST_OK);
	assert_int_equal(r.node.node, 1);
	assert_string_equal(r.node.name, "test-node");
	assert_int_equal(r.node.partitions, 4);
	assert_int_equal(r.node.entries, 2);

	/* Unregister: wrong handle, right handle, gone. */
	assert_int_equal(swc_unregister(c, "dev-1", 5, &wrong, &r),
			PROTO_ST_HANDLE_MISMATCH);
	assert_int_equal(r.entry.handle, 42);
	assert_int_equal(swc_unregister(c, "dev-1", 5, &h, &r), PROTO_ST_OK);
	assert_false(r.retry_not_found);
	assert_int_equal(swc_unregister(c, "dev-1", 5, &h, &r),
			PROTO_ST_NOT_FOUND);
	assert_int_equal(swc_whereis(c, "dev-1", 5, &r), PROTO_ST_NOT_FOUND);
	assert_int_equal(swc_unregister(c, "dev-2", 5, NULL, &r), PROTO_ST_OK);
	swc_client_free(c);
	udp_server_stop(s);
}

/* Final statuses are never retried: one request each. */
static void
test_no_retry_statuses(void **state)
{
	uint16_t port;
	struct udp_server *s = udp_server_start(&port, 0);
	struct swc_client *c;
	uint64_t before;
	const uint8_t short_body[3] = { 0, 0, 0 };

	(void)state;
	assert_non_null(s);
	c = client_for(port, 200, 3);
	/* An opcode the node does not implement: unsupported, once. */
	{
		struct swc_batch *b = swc_batch_new();

		assert_int_equal(swc_batch_raw(b, PROTO_OP_REGISTER_MANAGED, 0,
				NULL, 0, true), 0);
		before = udp_server_requests(s);
		assert_int_equal(swc_run(c, b), 0);
		assert_int_equal(swc_batch_result(b, 0)->status,
				PROTO_ST_UNSUPPORTED);
		assert_int_equal(swc_batch_result(b, 0)->tries, 1);
		assert_int_equal(udp_server_requests(s) - before, 1);
		swc_batch_free(b);
	}

	/* A REGISTER whose body is cut short: bad_request naming handle. */
	{
		struct swc_batch *b = swc_batch_new();

		assert_int_equal(swc_batch_raw(b, PROTO_OP_REGISTER, 0,
				short_body, sizeof(short_body), true), 0);
		assert_int_equal(swc_batch_raw(b, 0x80, 0, NULL, 0, true), 1);
		assert_int_equal(swc_batch_whereis(b, "x", 1), 2);
		before = udp_server_requests(s);
		assert_int_equal(swc_run(c, b), 0);
		assert_int_equal(udp_server_requests(s) - before, 1);
		assert_int_equal(swc_batch_result(b, 0)->status,
				PROTO_ST_BAD_REQUEST);
		assert_int_equal(swc_batch_result(b, 0)->field,
				PROTO_F_HANDLE);
		assert_int_equal(swc_batch_result(b, 1)->status,
				PROTO_ST_UNSUPPORTED);
		assert_int_equal(swc_batch_result(b, 2)->status,
				PROTO_ST_NOT_FOUND);
		assert_null(swc_batch_result(b, 3));
		swc_batch_free(b);
	}
	swc_client_free(c);
	udp_server_stop(s);
}

/* ---- loss ----------------------------------------------------------- */

/* Requests lost before the node sees them (drop_every). */
static void
test_drop_every(void **state)
{
	uint16_t port;
	struct udp_server *s = udp_server_start(&port, 3);
	struct swc_client *c;
	struct swc_result r;
	struct swc_counters k;
	char name[32];
	uint64_t h;
	int i, retried = 0;

	(void)state;
	assert_non_null(s);
	c = client_for(port, 60, 6);
	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "drop-%d", i);
		assert_int_equal(swc_register(c, name, strlen(name),
				(uint64_t)i, NULL, NULL, 0, 0, &r),
				PROTO_ST_OK);
		retried += r.tries > 1;
	}
	assert_true(retried >= 15);
	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "drop-%d", i);
		assert_int_equal(swc_whereis(c, name, strlen(name), &r),
				PROTO_ST_OK);
		assert_int_equal(r.entry.handle, (uint64_t)i);
	}
	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "drop-%d", i);
		h = (uint64_t)i;
		assert_int_equal(swc_unregister(c, name, strlen(name), &h,
				&r), PROTO_ST_OK);
	}
	assert_int_equal(swc_status(c, &r), PROTO_ST_OK);
	assert_int_equal(r.node.entries, 0);
	swc_client_counters(c, &k);
	assert_true(k.requests > 181);
	swc_client_free(c);
	udp_server_stop(s);
}

/*
 * A proxy that forwards requests to the node and drops every reply to
 * the requests numbered odd (1st, 3rd, ...): the node executes them, the
 * client never hears.
 */
struct proxy {
	int fd;
	uint16_t port;
	struct sockaddr_in server, client;
	volatile int stop;
	uint64_t nreq;
	uint64_t drop_ids[64];
	pthread_t tid;
};

static uint64_t
rd_id(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 4; i < 12; i++)
		v = v << 8 | p[i];
	return v;
}

static void *
proxy_main(void *arg)
{
	struct proxy *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	uint8_t buf[2048];
	struct sockaddr_in from;
	socklen_t flen;
	ssize_t n;
	size_t i;
	bool drop;

	while (!p->stop) {
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		flen = sizeof(from);
		n = recvfrom(p->fd, buf, sizeof(buf), 0,
				(struct sockaddr *)&from, &flen);
		if (n < 16)
			continue;
		if (from.sin_port == p->server.sin_port) {
			drop = false;
			for (i = 0; i < 64; i++)
				drop |= p->drop_ids[i] == rd_id(buf);
			if (!drop)
				sendto(p->fd, buf, (size_t)n, 0,
					(struct sockaddr *)&p->client,
					sizeof(p->client));
			continue;
		}
		p->client = from;
		if (p->nreq++ % 2 == 0)
			p->drop_ids[(p->nreq / 2) % 64] = rd_id(buf);
		sendto(p->fd, buf, (size_t)n, 0,
			(struct sockaddr *)&p->server, sizeof(p->server));
	}
	return NULL;
}

static void
proxy_start(struct proxy *p, uint16_t server_port)
{
	memset(p, 0, sizeof(*p));
	p->fd = bind_loopback(&p->port);
	p->server.sin_family = AF_INET;
	p->server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->server.sin_port = htons(server_port);
	assert_int_equal(pthread_create(&p->tid, NULL, proxy_main, p), 0);
}

static void
proxy_stop(struct proxy *p)
{
	p->stop = 1;
	pthread_join(p->tid, NULL);
	close(p->fd);
}

static void
test_reply_loss(void **state)
{
	uint16_t port;
	struct udp_server *s = udp_server_start(&port, 0);
	struct swc_client *c, *direct;
	struct proxy p;
	struct swc_result r;
	uint64_t h = 77;

	(void)state;
	assert_non_null(s);
	proxy_start(&p, port);
	c = client_for(p.port, 80, 3);
	direct = client_for(port, 500, 0);

	/* Executed, answer lost, retried: the retry finds its own handle. */
	assert_int_equal(swc_register(c, "lossy", 5, h, NULL, NULL, 0, 0, &r),
			PROTO_ST_OK);
	assert_int_equal(r.tries, 2);
	assert_int_equal(swc_whereis(direct, "lossy", 5, &r), PROTO_ST_OK);
	assert_int_equal(r.entry.handle, h);

	/* WHEREIS_OR_REGISTER: the retry finds the entry it made. */
	assert_int_equal(swc_whereis_or_register(c, "lossy-2", 7, h, NULL,
			NULL, 0, 0, &r), PROTO_ST_OK);
	assert_int_equal(r.tries, 2);
	assert_int_equal(r.outcome, PROTO_WOR_FOUND);
	assert_int_equal(r.entry.handle, h);

	/* UNREGISTER with the handle: executed, lost, retried -> not_found,
	 * reported as success. */
	assert_int_equal(swc_unregister(c, "lossy", 5, &h, &r), PROTO_ST_OK);
	assert_true(r.retry_not_found);
	assert_int_equal(r.tries, 2);
	assert_int_equal(swc_whereis(direct, "lossy", 5, &r),
			PROTO_ST_NOT_FOUND);

	/* UNREGISTER without a handle is never retried. */
	assert_int_equal(swc_unregister(c, "lossy-2", 7, NULL, &r),
			SWC_ETIMEDOUT);
	assert_int_equal(r.status, SWC_ENOANSWER);
	assert_int_equal(r.tries, 1);
	assert_int_equal(swc_whereis(direct, "lossy-2", 7, &r),
			PROTO_ST_NOT_FOUND);

	swc_client_free(direct);
	swc_client_free(c);
	proxy_stop(&p);
	udp_server_stop(s);
}

/* ---- batches -------------------------------------------------------- */

/* 40 WHEREIS in one request; the entries (200-byte metadata) come back
 * split over several reply datagrams. */
static void
test_split_reply(void **state)
{
	uint16_t port;
	struct udp_server *s = udp_server_start(&port, 0);
	struct swc_client *c;
	struct swc_batch *b = swc_batch_new();
	struct swc_counters k0, k1;
	uint8_t meta[200];
	char name[32];
	uint64_t before;
	int i;

	(void)state;
	assert_non_null(s);
	c = client_for(port, 500, 3);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "split-%02d", i);
		memset(meta, 'a' + i % 26, sizeof(meta));
		assert_int_equal(swc_batch_register(b, name, strlen(name),
				(uint64_t)i + 1000, NULL, meta, sizeof(meta),
				0), i);
	}
	assert_int_equal(swc_run(c, b), 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(swc_batch_result(b, (size_t)i)->status,
				PROTO_ST_OK);
	swc_batch_reset(b);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "split-%02d", i);
		assert_int_equal(swc_batch_whereis(b, name, strlen(name)), i);
	}
	swc_client_counters(c, &k0);
	before = udp_server_requests(s);
	assert_int_equal(swc_run(c, b), 0);
	swc_client_counters(c, &k1);
	assert_int_equal(udp_server_requests(s) - before, 1);
	assert_int_equal(k1.requests - k0.requests, 1);
	assert_true(k1.replies - k0.replies >= 6);
	assert_int_equal(k1.reply_ops - k0.reply_ops, 40);
	for (i = 0; i < 40; i++) {
		const struct swc_result *r = swc_batch_result(b, (size_t)i);

		assert_int_equal(r->status, PROTO_ST_OK);
		assert_int_equal(r->entry.handle, (uint64_t)i + 1000);
		assert_int_equal(r->entry.meta_len, 200);
		memset(meta, 'a' + i % 26, sizeof(meta));
		assert_memory_equal(r->entry.meta, meta, 200);
	}
	swc_batch_free(b);
	swc_client_free(c);
	udp_server_stop(s);
}

#define NPAGED 3000

struct seen {
	uint8_t hit[NPAGED];
	int n, dup;
};

static int
count_cb(const struct swc_entry *e, void *arg)
{
	struct seen *sn = arg;
	int i;

	assert_int_equal(sscanf((const char *)e->name, "page-%d", &i), 1);
	assert_true(i >= 0 && i < NPAGED);
	assert_int_equal(e->handle, (uint64_t)i);
	sn->dup += sn->hit[i];
	sn->hit[i] = 1;
	sn->n++;
	return 0;
}

static int
stop_cb(const struct swc_entry *e, void *arg)
{
	(void)e;
	return ++*(int *)arg == 5;
}

static void
test_paging(void **state)
{
	uint16_t port;
	struct udp_server *s = udp_server_start(&port, 0);
	struct swc_client *c;
	struct swc_batch *b = swc_batch_new();
	struct swc_counters k0, k1;
	struct swc_result r;
	struct seen *sn = calloc(1, sizeof(*sn));
	uint8_t cursor[PROTO_CURSOR_MAX];
	size_t clen = 0;
	char name[32];
	int i, total = 0, stop = 0;

	(void)state;
	assert_non_null(s);
	c = client_for(port, 500, 3);
	for (i = 0; i < NPAGED; i++) {
		snprintf(name, sizeof(name), "page-%d", i);
		assert_true(swc_batch_register(b, name, strlen(name),
				(uint64_t)i, NULL, NULL, 0, 0) >= 0);
		if (i % 10 == 0)
			assert_true(swc_batch_join(b, "tens", 4, name,
					strlen(name)) >= 0);
	}
	swc_client_counters(c, &k0);
	assert_int_equal(swc_run(c, b), 0);
	swc_client_counters(c, &k1);
	/* Packed: far fewer datagrams than ops. */
	assert_true(k1.requests - k0.requests < swc_batch_count(b) / 10);
	for (i = 0; i < (int)swc_batch_count(b); i++)
		assert_int_equal(swc_batch_result(b, (size_t)i)->status,
				PROTO_ST_OK);

	assert_int_equal(swc_registered_all(c, 0, count_cb, sn, &r),
			PROTO_ST_OK);
	assert_int_equal(sn->n, NPAGED);
	assert_int_equal(sn->dup, 0);
	memset(sn, 0, sizeof(*sn));
	assert_int_equal(swc_registered_all(c, 7, count_cb, sn, NULL),
			PROTO_ST_OK);
	assert_int_equal(sn->n, NPAGED);
	assert_int_equal(sn->dup, 0);
	memset(sn, 0, sizeof(*sn));
	assert_int_equal(swc_members_all(c, "tens", 4, 0, count_cb, sn,
			NULL), PROTO_ST_OK);
	assert_int_equal(sn->n, NPAGED / 10);
	assert_int_equal(swc_registered_all(c, 3, stop_cb, &stop, NULL),
			SWC_ECANCELED);
	assert_int_equal(swc_members_all(c, "", 0, 0, count_cb, sn, NULL),
			SWC_EINVAL);

	/* By hand, with a cursor, on the server that made it. */
	for (;;) {
		assert_int_equal(swc_registered(c, cursor, clen, 250, 0, &r),
				PROTO_ST_OK);
		assert_true(r.count <= 250);
		total += r.count;
		if (r.end)
			break;
		assert_true(r.cursor_len > 0);
		clen = r.cursor_len;
		memcpy(cursor, r.cursor, clen);
	}
	assert_int_equal(total, NPAGED);
	/* A cursor the node did not make. */
	memset(cursor, 0xee, sizeof(cursor));
	assert_int_equal(swc_registered(c, cursor, 32, 0, -1, &r),
			PROTO_ST_BAD_REQUEST);
	assert_int_equal(r.field, PROTO_F_CURSOR);
	free(sn);
	swc_batch_free(b);
	swc_client_free(c);
	udp_server_stop(s);
}

/* ---- no answer, failover ------------------------------------------- */

static void
test_timeout(void **state)
{
	uint16_t port;
	int fd = bind_loopback(&port);	/* bound, never read */
	struct swc_client *c = client_for(port, 50, 2);
	struct swc_result r;
	char want[64];
	uint64_t t0 = now_ms();
	bool answered = true;

	(void)state;
	assert_int_equal(swc_whereis(c, "x", 1, &r), SWC_ETIMEDOUT);
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(r.status, SWC_ENOANSWER);
	assert_int_equal(r.tries, 3);
	snprintf(want, sizeof(want), "no answer from 127.0.0.1:%u after 3 tries",
		port);
	assert_non_null(strstr(swc_client_errmsg(c), want));
	assert_int_equal(swc_client_tries_of(c, 0, &answered), 3);
	assert_false(answered);
	swc_client_free(c);
	close(fd);

	/* Nothing bound at all: port unreachable, still a timeout. */
	c = client_for(port, 50, 1);
	t0 = now_ms();
	assert_int_equal(swc_status(c, &r), SWC_ETIMEDOUT);
	assert_true(now_ms() - t0 < 2000);
	assert_non_null(strstr(swc_client_errmsg(c), "after 2 tries"));
	swc_client_free(c);
}

static void
test_failover(void **state)
{
	uint16_t port, dead;
	struct udp_server *s = udp_server_start(&port, 0);
	int fd = bind_loopback(&dead);
	char a0[32], a1[32];
	const char *servers[2] = { a0, a1 };
	struct swc_options o = { .timeout_ms = 60, .retries = 3 };
	struct swc_client *c;
	struct swc_result r;
	bool answered;

	(void)state;
	assert_non_null(s);
	snprintf(a0, sizeof(a0), "127.0.0.1:%u", dead);
	snprintf(a1, sizeof(a1), "127.0.0.1:%u", port);
	c = swc_client_new(servers, 2, &o, NULL, NULL, 0);
	assert_non_null(c);
	assert_int_equal(swc_client_nservers(c), 2);
	assert_string_equal(swc_client_server(c, 1), a1);
	assert_int_equal(swc_register(c, "fo", 2, 1, NULL, NULL, 0, 0, &r),
			PROTO_ST_OK);
	assert_int_equal(r.server, 1);
	assert_int_equal(r.tries, 2);
	assert_int_equal(swc_client_tries_of(c, 0, &answered), 1);
	assert_false(answered);
	assert_int_equal(swc_client_tries_of(c, 1, &answered), 1);
	assert_true(answered);
	assert_int_equal(swc_client_current(c), 1);
	/* The next call goes straight to the server that answered. */
	assert_int_equal(swc_whereis(c, "fo", 2, &r), PROTO_ST_OK);
	assert_int_equal(r.tries, 1);
	assert_int_equal(swc_client_tries_of(c, 0, NULL), 0);
	/* Pinned to the dead one: no failover. */
	assert_int_equal(swc_registered(c, NULL, 0, 0, 0, &r), SWC_ETIMEDOUT);
	assert_int_equal(swc_client_tries_of(c, 1, NULL), 0);
	assert_non_null(strstr(swc_client_errmsg(c), a0));
	swc_client_free(c);
	close(fd);
	udp_server_stop(s);
}

/* ---- a scripted server: what a real node would rarely send ----------- */

struct fake {
	int fd;
	uint16_t port;
	volatile int stop;
	int mode;
	int nreq;
	pthread_t tid;
};

static void
fake_send(struct fake *f, const struct sockaddr_in *to, struct proto_enc *e)
{
	size_t len = proto_enc_finish(e);

	sendto(f->fd, e->buf, len, 0, (const struct sockaddr *)to,
		sizeof(*to));
}

static void
fake_answer(struct fake *f, const uint8_t *buf, size_t len,
		const struct sockaddr_in *to)
{
	struct proto_req req;
	struct proto_op op;
	struct proto_enc e;
	uint8_t out[PROTO_MAX_DGRAM];
	uint8_t ops[16];
	int n = 0, i;

	if (proto_req_parse(&req, buf, len) != 0)
		return;
	while (n < 16 && proto_req_next_op(&req, &op) != PROTO_END)
		ops[n++] = op.opcode;
	f->nreq++;
	if (f->mode == 0 && f->nreq == 1) {
		/* datagram-level overloaded, retry after 150 ms */
		proto_rep_init(&e, out, sizeof(out), req.req_id);
		assert_int_equal(proto_rep_add_overloaded(&e,
				PROTO_INDEX_DGRAM, 0, 150), 0);
		fake_send(f, to, &e);
		return;
	}
	if (f->mode == 1) {
		proto_rep_init(&e, out, sizeof(out), req.req_id);
		assert_int_equal(proto_rep_add_bad_version(&e), 0);
		fake_send(f, to, &e);
		return;
	}
	if (f->mode == 2) {	/* a node older than STATS */
		proto_rep_init(&e, out, sizeof(out), req.req_id);
		for (i = 0; i < n; i++)
			assert_int_equal(proto_rep_add_error(&e, (uint16_t)i,
					ops[i], PROTO_EUNSUPP, 0), 0);
		fake_send(f, to, &e);
		return;
	}
	if (f->mode == 4 || f->mode == 5) {
		/* a syncing node: READINESS says so (mode 5: for 3 asks, then
		 * serving), every other op not_ready with a 30 ms hint */
		struct proto_readiness rd = { .state = PROTO_READY_SYNCING,
			.partitions = 2, .synced = 1, .alive = 3, .owners = 2,
			.retry_after_ms = 30 };

		proto_rep_init(&e, out, sizeof(out), req.req_id);
		for (i = 0; i < n; i++) {
			if (ops[i] != PROTO_OP_READINESS) {
				assert_int_equal(proto_rep_add_retry(&e,
					(uint16_t)i, ops[i], PROTO_ST_NOT_READY,
					30), 0);
				continue;
			}
			if (f->mode == 5 && f->nreq > 3) {
				rd.state = PROTO_READY_SERVING;
				rd.synced = 2;
				rd.owners = 3;
				rd.retry_after_ms = 0;
			}
			assert_int_equal(proto_rep_add_readiness(&e,
					(uint16_t)i, &rd), 0);
		}
		fake_send(f, to, &e);
		return;
	}
	if (f->mode == 3) {	/* STATS ok with a name out of [a-z0-9_.] */
		static const char *const names[] = { "abc" };
		static const uint64_t values[] = { 1 };

		proto_rep_init(&e, out, sizeof(out), req.req_id);
		assert_int_equal(proto_rep_add_stats(&e, 0, names, values, 1),
				0);
		out[PROTO_HDR_LEN + PROTO_REP_HDR_LEN + 3] = 'A';
		fake_send(f, to, &e);
		return;
	}
	/* A stray (unknown request id) and a wrong opcode first. */
	proto_rep_init(&e, out, sizeof(out), req.req_id + 1000);
	proto_rep_add_empty(&e, 0, ops[0], PROTO_ST_OK);
	fake_send(f, to, &e);
	proto_rep_init(&e, out, sizeof(out), req.req_id);
	proto_rep_add_empty(&e, 0, PROTO_OP_JOIN, PROTO_ST_OK);
	fake_send(f, to, &e);
	/* Then one datagram per op, last op first, each twice. */
	for (i = n - 1; i >= 0; i--) {
		proto_rep_init(&e, out, sizeof(out), req.req_id);
		if (i == 1 && f->mode == 0)
			proto_rep_add_overloaded(&e, (uint16_t)i, ops[i], 0);
		else
			proto_rep_add_empty(&e, (uint16_t)i, ops[i],
				PROTO_ST_NOT_FOUND);
		fake_send(f, to, &e);
		fake_send(f, to, &e);
	}
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
	uint8_t buf[2048];
	struct sockaddr_in from;
	socklen_t flen;
	ssize_t n;

	while (!f->stop) {
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		flen = sizeof(from);
		n = recvfrom(f->fd, buf, sizeof(buf), 0,
				(struct sockaddr *)&from, &flen);
		if (n > 0)
			fake_answer(f, buf, (size_t)n, &from);
	}
	return NULL;
}

static void
test_fake_server(void **state)
{
	struct fake f;
	struct swc_client *c;
	struct swc_batch *b = swc_batch_new();
	struct swc_counters k;
	const struct swc_result *r;
	struct swc_result res;
	uint64_t t0;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.fd = bind_loopback(&f.port);
	assert_int_equal(pthread_create(&f.tid, NULL, fake_main, &f), 0);
	c = client_for(f.port, 300, 3);

	/* mode 0: overloaded(dgram, 150 ms), then strays, mismatches,
	 * duplicates, reordered answers, one per-op overloaded(0). */
	swc_batch_whereis(b, "a", 1);
	swc_batch_whereis(b, "b", 1);
	swc_batch_whereis(b, "c", 1);
	t0 = now_ms();
	assert_int_equal(swc_run(c, b), 0);
	assert_true(now_ms() - t0 >= 150);
	r = swc_batch_result(b, 0);
	assert_int_equal(r->status, PROTO_ST_NOT_FOUND);
	assert_int_equal(r->tries, 2);
	r = swc_batch_result(b, 1);	/* overloaded(0) in attempt 2 */
	assert_int_equal(r->status, PROTO_ST_NOT_FOUND);
	assert_int_equal(r->tries, 3);
	assert_int_equal(swc_batch_result(b, 2)->status, PROTO_ST_NOT_FOUND);
	swc_client_counters(c, &k);
	assert_true(k.ignored >= 4);

	/* mode 1: bad_version for the whole datagram, never retried. */
	f.mode = 1;
	f.nreq = 0;
	assert_int_equal(swc_run(c, b), 0);
	assert_int_equal(f.nreq, 1);
	r = swc_batch_result(b, 2);
	assert_int_equal(r->status, PROTO_ST_BAD_VERSION);
	assert_true(r->dgram_level);
	assert_int_equal(r->version_min, 1);
	assert_int_equal(r->tries, 1);

	/* mode 2: a node that does not implement STATS. */
	f.mode = 2;
	f.nreq = 0;
	memset(&res, 0, sizeof(res));
	assert_int_equal(swc_stats(c, &res), PROTO_ST_UNSUPPORTED);
	assert_int_equal(res.tries, 1);
	assert_int_equal(res.nstats, 0);
	assert_null(res.stats);
	assert_int_equal(f.nreq, 1);

	/* mode 3: a counter list that does not parse, never retried. */
	f.mode = 3;
	f.nreq = 0;
	assert_int_equal(swc_stats(c, &res), SWC_EBADREPLY);
	assert_int_equal(res.nstats, 0);
	assert_null(res.stats);
	assert_int_equal(f.nreq, 1);

	/* mode 4: a syncing node: not_ready is retried after its hint and
	 * is what the call ends with; READINESS reports the sync */
	f.mode = 4;
	f.nreq = 0;
	t0 = now_ms();
	assert_int_equal(swc_whereis(c, "x", 1, &res), PROTO_ST_NOT_READY);
	assert_true(now_ms() - t0 >= 3 * 30);
	assert_int_equal(res.tries, 4);
	assert_int_equal(res.retry_after_ms, 30);
	assert_int_equal(f.nreq, 4);
	assert_int_equal(swc_readiness(c, -1, &res), PROTO_ST_OK);
	assert_int_equal(res.ready.state, PROTO_READY_SYNCING);
	assert_int_equal(res.ready.synced, 1);
	assert_int_equal(res.ready.partitions, 2);
	/* waiting for it runs out */
	t0 = now_ms();
	assert_int_equal(swc_wait_ready(c, -1, 100, false, &res),
			PROTO_ST_NOT_READY);
	assert_true(now_ms() - t0 >= 100);
	assert_int_equal(res.status, PROTO_ST_OK);
	assert_int_equal(res.ready.state, PROTO_READY_SYNCING);

	/* mode 5: the node becomes ready on the fourth question */
	f.mode = 5;
	f.nreq = 0;
	assert_int_equal(swc_wait_ready(c, -1, 5000, true, &res), PROTO_ST_OK);
	assert_int_equal(res.ready.state, PROTO_READY_SERVING);
	assert_int_equal(f.nreq, 4);

	/* not_ready sends the next attempt to the next server at once */
	{
		uint16_t port;
		struct udp_server *s = udp_server_start(&port, 0);
		char a0[32], a1[32];
		const char *servers[2] = { a0, a1 };
		struct swc_options o = { .timeout_ms = 300, .retries = 3 };
		struct swc_client *c2;

		assert_non_null(s);
		snprintf(a0, sizeof(a0), "127.0.0.1:%u", f.port);
		snprintf(a1, sizeof(a1), "127.0.0.1:%u", port);
		c2 = swc_client_new(servers, 2, &o, NULL, NULL, 0);
		assert_non_null(c2);
		f.mode = 4;
		f.nreq = 0;
		assert_int_equal(swc_register(c2, "nr", 2, 7, NULL, NULL, 0, 0,
				&res), PROTO_ST_OK);
		assert_int_equal(res.server, 1);
		assert_int_equal(res.tries, 2);
		assert_int_equal(f.nreq, 1);
		/* and the syncing node does not become the current one */
		assert_int_equal(swc_client_current(c2), 1);
		swc_client_free(c2);
		udp_server_stop(s);
	}

	swc_batch_free(b);
	swc_client_free(c);
	f.stop = 1;
	pthread_join(f.tid, NULL);
	close(f.fd);
}

/* ---- STATS against the harness's counters --------------------------- */

static uint64_t
counter_of(const struct swc_result *r, const char *name, bool *found)
{
	uint16_t i;

	for (i = 0; i < r->nstats; i++)
		if (!strcmp(r->stats[i].name, name)) {
			*found = true;
			return r->stats[i].value;
		}
	*found = false;
	return 0;
}

static void
test_stats(void **state)
{
	uint16_t port;
	struct udp_server *s = udp_server_start(&port, 0);
	struct swc_client *c;
	struct swc_batch *b = swc_batch_new();
	const struct swc_result *br;
	struct swc_result r;
	bool found;
	uint64_t before;

	(void)state;
	assert_non_null(s);
	c = client_for(port, 500, 3);
	assert_int_equal(swc_register(c, "s-1", 3, 1, NULL, NULL, 0, 0, &r),
			PROTO_ST_OK);
	assert_int_equal(swc_register(c, "s-2", 3, 2, NULL, NULL, 0, 0, &r),
			PROTO_ST_OK);
	before = udp_server_requests(s);
	assert_int_equal(swc_stats(c, &r), PROTO_ST_OK);
	assert_int_equal(r.opcode, PROTO_OP_STATS);
	assert_int_equal(r.nstats, 2);
	assert_non_null(r.stats);
	assert_string_equal(r.stats[0].name, "requests");
	assert_string_equal(r.stats[1].name, "entries");
	assert_int_equal(counter_of(&r, "entries", &found), 2);
	assert_true(found);
	/* the STATS request itself is counted before it runs */
	assert_int_equal(counter_of(&r, "requests", &found), before + 1);
	assert_true(found);
	counter_of(&r, "nonexistent", &found);
	assert_false(found);

	/* in a batch, next to other ops */
	assert_int_equal(swc_batch_whereis(b, "s-1", 3), 0);
	assert_int_equal(swc_batch_stats(b), 1);
	assert_int_equal(swc_batch_status(b), 2);
	assert_int_equal(swc_run(c, b), 0);
	assert_int_equal(swc_batch_result(b, 0)->status, PROTO_ST_OK);
	br = swc_batch_result(b, 1);
	assert_int_equal(br->status, PROTO_ST_OK);
	assert_int_equal(br->nstats, 2);
	assert_int_equal(counter_of(br, "entries", &found), 2);
	assert_int_equal(swc_batch_result(b, 2)->status, PROTO_ST_OK);
	/* results are freed with the batch (ASan checks the leak) */
	swc_batch_reset(b);
	assert_int_equal(swc_batch_stats(b), 0);
	assert_int_equal(swc_run(c, b), 0);
	assert_int_equal(swc_batch_result(b, 0)->nstats, 2);

	swc_batch_free(b);
	swc_client_free(c);
	udp_server_stop(s);
}

/* ---- arguments ------------------------------------------------------ */

static void
test_arguments(void **state)
{
	struct swc_batch *b = swc_batch_new();
	struct proto_endpoint ep;
	uint8_t big[300];
	char host[64], buf[64], err[256];
	uint16_t port;
	const char *bad1[] = { "127.0.0.1:0" };
	const char *bad2[] = { "no-such-host.invalid:7400" };
	const char *ok6[] = { "[::1]:7400", "localhost" };
	struct swc_client *c;
	int e;

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(swc_batch_register(b, "", 0, 1, NULL, NULL, 0, 0),
			SWC_EINVAL);
	assert_int_equal(swc_batch_bad_field(b), PROTO_F_NAME);
	assert_int_equal(swc_batch_register(b, big, 256, 1, NULL, NULL, 0, 0),
			SWC_EINVAL);
	assert_int_equal(swc_batch_bad_field(b), PROTO_F_NAME);
	assert_int_equal(swc_batch_register(b, big, 255, 1, NULL, big, 256,
			0), SWC_EINVAL);
	assert_int_equal(swc_batch_bad_field(b), PROTO_F_METADATA);
	memset(&ep, 0, sizeof(ep));
	ep.family = 5;
	ep.port = 1;
	assert_int_equal(swc_batch_register(b, "n", 1, 1, &ep, NULL, 0, 0),
			SWC_EINVAL);
	assert_int_equal(swc_batch_bad_field(b), PROTO_F_ENDPOINT);
	ep.family = PROTO_AF_NONE;
	assert_int_equal(swc_batch_whereis_or_register(b, "n", 1, 1, &ep,
			NULL, 0, 0), SWC_EINVAL);
	assert_int_equal(swc_batch_join(b, "", 0, "n", 1), SWC_EINVAL);
	assert_int_equal(swc_batch_bad_field(b), PROTO_F_GROUP);
	assert_int_equal(swc_batch_leave(b, "g", 1, "", 0), SWC_EINVAL);
	assert_int_equal(swc_batch_bad_field(b), PROTO_F_NAME);
	assert_int_equal(swc_batch_members(b, "g", 1, big, 33, 0), SWC_EINVAL);
	assert_int_equal(swc_batch_bad_field(b), PROTO_F_CURSOR);
	assert_int_equal(swc_batch_registered(b, big, 33, 0), SWC_EINVAL);
	assert_int_equal(swc_batch_unregister(b, big, 0, NULL), SWC_EINVAL);
	assert_int_equal(swc_batch_whereis(b, NULL, 3), SWC_EINVAL);
	assert_int_equal(swc_batch_count(b), 0);
	assert_int_equal(swc_batch_register(b, big, 255, 1, NULL, big, 255,
			UINT32_MAX), 0);
	assert_int_equal(swc_batch_bad_field(b), PROTO_F_NONE);
	swc_batch_free(b);

	/* host:port */
	assert_int_equal(swc_parse_hostport("10.0.0.1:99", host, sizeof(host),
			&port), 0);
	assert_string_equal(host, "10.0.0.1");
	assert_int_equal(port, 99);
	assert_int_equal(swc_parse_hostport("gw", host, sizeof(host), &port),
			0);
	assert_int_equal(port, SWC_DEFAULT_PORT);
	assert_int_equal(swc_parse_hostport("[fe80::1]:65535", host,
			sizeof(host), &port), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(port, 65535);
	assert_int_equal(swc_parse_hostport("::1", host, sizeof(host), &port),
			0);
	assert_string_equal(host, "::1");
	assert_int_equal(swc_parse_hostport("h:65536", host, sizeof(host),
			&port), SWC_EINVAL);
	assert_int_equal(swc_parse_hostport("h:", host, sizeof(host), &port),
			SWC_EINVAL);
	assert_int_equal(swc_parse_hostport("h:1x", host, sizeof(host),
			&port), SWC_EINVAL);
	assert_int_equal(swc_parse_hostport("[::1", host, sizeof(host),
			&port), SWC_EINVAL);
	assert_int_equal(swc_parse_hostport("[::1]x", host, sizeof(host),
			&port), SWC_EINVAL);
	assert_int_equal(swc_parse_hostport(":7400", host, sizeof(host),
			&port), SWC_EINVAL);
	assert_int_equal(swc_parse_hostport("", host, sizeof(host), &port),
			SWC_EINVAL);

	/* endpoints */
	assert_int_equal(swc_endpoint_parse("192.168.1.20:5683", &ep), 0);
	assert_string_equal(swc_endpoint_format(&ep, buf, sizeof(buf)),
			"192.168.1.20:5683");
	assert_int_equal(swc_endpoint_parse("[2001:db8::7]:1", &ep), 0);
	assert_int_equal(ep.family, PROTO_AF_IPV6);
	assert_string_equal(swc_endpoint_format(&ep, buf, sizeof(buf)),
			"[2001:db8::7]:1");
	assert_int_equal(swc_endpoint_parse("none", &ep), 0);
	assert_int_equal(ep.family, PROTO_AF_NONE);
	assert_string_equal(swc_endpoint_format(&ep, buf, sizeof(buf)),
			"none");
	assert_int_equal(swc_endpoint_parse("1.2.3.4", &ep), SWC_EINVAL);
	assert_int_equal(swc_endpoint_parse("1.2.3.4:0", &ep), SWC_EINVAL);
	assert_int_equal(swc_endpoint_parse("1.2.3.256:1", &ep), SWC_EINVAL);
	assert_int_equal(swc_endpoint_parse("host:1", &ep), SWC_EINVAL);
	assert_int_equal(swc_endpoint_parse("::1:5", &ep), SWC_EINVAL);
	assert_int_equal(swc_endpoint_parse("[::1]", &ep), SWC_EINVAL);
	assert_int_equal(swc_endpoint_parse("[1.2.3.4]:5", &ep), SWC_EINVAL);

	/* clients */
	assert_null(swc_client_new(bad1, 1, NULL, &e, err, sizeof(err)));
	assert_int_equal(e, SWC_EINVAL);
	assert_non_null(strstr(err, "127.0.0.1:0"));
	assert_null(swc_client_new(bad2, 1, NULL, &e, err, sizeof(err)));
	assert_int_equal(e, SWC_ERESOLVE);
	assert_non_null(strstr(err, "no-such-host.invalid"));
	assert_null(swc_client_new(bad1, 0, NULL, &e, NULL, 0));
	assert_int_equal(e, SWC_EINVAL);
	c = swc_client_new(ok6, 2, NULL, &e, err, sizeof(err));
	if (c != NULL) {	/* needs IPv6 sockets on this host */
		assert_string_equal(swc_client_server(c, 0), "[::1]:7400");
		assert_string_equal(swc_client_server(c, 1),
				"localhost:7400");
		swc_client_free(c);
	}
	assert_string_equal(swc_strerror(SWC_ETIMEDOUT), "no answer");
	assert_string_equal(swc_strerror(PROTO_ST_NOT_FOUND), "not_found");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_no_retry_statuses),
		cmocka_unit_test(test_drop_every),
		cmocka_unit_test(test_reply_loss),
		cmocka_unit_test(test_split_reply),
		cmocka_unit_test(test_paging),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_failover),
		cmocka_unit_test(test_fake_server),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
