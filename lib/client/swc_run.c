/*
 * swc_run.c - the client: servers, sockets, and the request engine that
 * sends a batch and collects its answers under loss (docs/protocol.md
 * section 9; the rules are summarised in swc.h).
 *
 * One call (swc_run) is a series of attempts. An attempt packs the ops
 * still lacking an answer into request datagrams (each with a new request
 * id), sends them to one server with at most `window` unanswered at a
 * time, and reads replies until every request of the attempt is answered
 * or nothing has arrived for timeout_ms. Every request sent during the
 * call is remembered (id -> its ops), so a late reply to an earlier
 * attempt still counts. Between attempts: backoff with jitter, at least
 * the largest overloaded retry-after; a server that answered nothing is
 * left for the next one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "swc_internal.h"

/* One request datagram sent during the current call. */
struct sreq {
	int server;
	unsigned int attempt;
	uint16_t nops;
	uint16_t left;			/* ops of it not answered yet */
	size_t first;			/* into run.map / run.seen */
};

struct run {
	struct swc_client *c;
	struct swc_batch *b;
	uint64_t id0;			/* request id of sreq[0] */
	struct sreq *rq;
	size_t nrq, caprq;
	uint32_t *map;			/* batch op of each request op */
	uint8_t *seen;			/* request op answered */
	size_t nmap, capmap;
	unsigned int attempt;
	int server;			/* of the current attempt */
	size_t inflight;		/* unanswered requests of the attempt */
	bool answered;			/* the attempt's server said something */
	bool refused;
	bool not_ready;			/* the attempt's server is syncing */
	uint16_t max_ops;		/* ops per datagram (shrinks) */
	int err;			/* SWC_ESOCKET / SWC_ENOMEM */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
swc_rand(struct swc_client *c)
{
	uint64_t x = c->rng;	/* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* ---- client ------------------------------------------------------- */

static int
resolve(struct swc_server *s, const char *spec, char *errbuf, size_t errlen)
{
	char host[256];
	uint16_t port;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM };
	struct addrinfo *ai = NULL;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&s->sa;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&s->sa;
	char abuf[INET6_ADDRSTRLEN];
	int rc;

	if (swc_parse_hostport(spec, host, sizeof(host), &port) != 0) {
		snprintf(errbuf, errlen,
			"bad server address '%s' (want host:port, "
			"[ipv6]:port, port 1..65535)", spec);
		return SWC_EINVAL;
	}
	memset(&s->sa, 0, sizeof(s->sa));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		s->salen = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		s->salen = sizeof(*a6);
	} else {
		rc = getaddrinfo(host, NULL, &hints, &ai);
		if (rc != 0 || ai == NULL) {
			snprintf(errbuf, errlen,
				"cannot resolve server '%s': %s", spec,
				rc ? gai_strerror(rc) : "no address");
			if (ai)
				freeaddrinfo(ai);
			return SWC_ERESOLVE;
		}
		memcpy(&s->sa, ai->ai_addr, ai->ai_addrlen);
		s->salen = ai->ai_addrlen;
		if (s->sa.ss_family == AF_INET)
			a4->sin_port = htons(port);
		else
			a6->sin6_port = htons(port);
		freeaddrinfo(ai);
	}
	if (s->sa.ss_family == AF_INET6) {
		if (strchr(host, ':') == NULL)	/* a name: keep it */
			snprintf(s->display, sizeof(s->display), "%s:%u",
				host, port);
		else
			snprintf(s->display, sizeof(s->display), "[%s]:%u",
				inet_ntop(AF_INET6, &a6->sin6_addr, abuf,
					sizeof(abuf)), port);
	} else {
		snprintf(s->display, sizeof(s->display), "%s:%u", host, port);
	}
	s->fd = socket(s->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&s->sa,
			s->salen) < 0) {
		snprintf(errbuf, errlen, "server %s: socket: %s", s->display,
			strerror(errno));
		return SWC_ESOCKET;
	}
	return 0;
}

struct swc_client *
swc_client_new(const char *const *servers, size_t n,
		const struct swc_options *opt, int *err, char *errbuf,
		size_t errlen)
{
	char dummy[8];
	struct swc_client *c;
	size_t i;
	int rc = 0;

	if (errbuf == NULL || errlen == 0) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	errbuf[0] = '\0';
	if (n < 1 || n > SWC_MAX_SERVERS || servers == NULL) {
		snprintf(errbuf, errlen, "need 1..%u servers",
			SWC_MAX_SERVERS);
		if (err)
			*err = SWC_EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->one = swc_batch_new()) == NULL) {
		free(c);
		if (err)
			*err = SWC_ENOMEM;
		return NULL;
	}
	for (i = 0; i < SWC_MAX_SERVERS; i++)
		c->srv[i].fd = -1;
	for (i = 0; i < n && rc == 0; i++) {
		rc = resolve(&c->srv[i], servers[i] ? servers[i] : "",
				errbuf, errlen);
		c->nsrv = i + 1;
	}
	if (rc != 0) {
		swc_client_free(c);
		if (err)
			*err = rc;
		return NULL;
	}
	c->opt.timeout_ms = 500;
	c->opt.retries = 3;
	c->opt.backoff_ms = 20;
	c->opt.backoff_max_ms = 1000;
	c->opt.window = 8;
	if (opt) {
		if (opt->timeout_ms)
			c->opt.timeout_ms = opt->timeout_ms;
		c->opt.retries = opt->retries;
		if (opt->backoff_ms)
			c->opt.backoff_ms = opt->backoff_ms;
		if (opt->backoff_max_ms)
			c->opt.backoff_max_ms = opt->backoff_max_ms;
		if (opt->window)
			c->opt.window = opt->window;
		c->opt.seed = opt->seed;
		c->opt.replicas = opt->replicas > PROTO_REPLICAS_ALL ?
			PROTO_REPLICAS_ALL : opt->replicas;
	}
	c->rng = c->opt.seed;
	if (c->rng == 0 && getrandom(&c->rng, sizeof(c->rng),
			GRND_NONBLOCK) != sizeof(c->rng))
		c->rng = now_ms() ^ ((uint64_t)getpid() << 32) ^
			(uint64_t)(uintptr_t)c;
	if (c->rng == 0)
		c->rng = 0x9e3779b97f4a7c15ull;
	c->next_id = swc_rand(c);
	if (err)
		*err = 0;
	return c;
}

void
swc_client_free(struct swc_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nsrv; i++)
		if (c->srv[i].fd >= 0)
			close(c->srv[i].fd);
	swc_batch_free(c->one);
	free(c);
}

void
swc_client_set_timeout(struct swc_client *c, uint32_t timeout_ms,
		uint32_t retries)
{
	if (timeout_ms)
		c->opt.timeout_ms = timeout_ms;
	c->opt.retries = retries;
}

size_t
swc_client_nservers(const struct swc_client *c)
{
	return c->nsrv;
}

const char *
swc_client_server(const struct swc_client *c, size_t i)
{
	return i < c->nsrv ? c->srv[i].display : "?";
}

int
swc_client_current(const struct swc_client *c)
{
	return c->cur;
}

void
swc_client_counters(const struct swc_client *c, struct swc_counters *out)
{
	*out = c->cnt;
}

const char *
swc_client_errmsg(const struct swc_client *c)
{
	return c->errmsg;
}

unsigned int
swc_client_tries_of(const struct swc_client *c, size_t i, bool *answered)
{
	if (i >= c->nsrv) {
		if (answered)
			*answered = false;
		return 0;
	}
	if (answered)
		*answered = c->srv[i].answered;
	return c->srv[i].tries;
}

/* ---- answers ------------------------------------------------------ */

static void
copy_entry(struct swc_entry *d, const struct proto_entry *s)
{
	d->handle = s->handle;
	d->node = s->node;
	d->version_clock = s->ver.clock;
	d->version_node = s->ver.node;
	d->ttl_ms = s->ttl_ms;
	d->ep = s->ep;
	d->name_len = s->name.len;
	memcpy(d->name, s->name.ptr, s->name.len);
	d->name[s->name.len] = '\0';
	d->meta_len = s->meta.len;
	if (s->meta.len)
		memcpy(d->meta, s->meta.ptr, s->meta.len);
	d->meta[s->meta.len] = '\0';
}

/* Fills *res from a decoded reply op; false when the page runs out of
 * memory (then the result says SWC_ENOMEM... reported as bad reply). */
static bool
fill(struct swc_result *res, const struct proto_reply *r)
{
	struct proto_page_iter it;
	struct proto_stats_iter sit;
	struct proto_entry e;
	struct proto_bytes name;
	uint64_t value;
	size_t i = 0;

	free(res->entries);
	free(res->raw);
	free(res->stats);
	res->entries = NULL;
	res->raw = NULL;
	res->stats = NULL;
	res->nstats = 0;
	res->has_entry = false;
	res->status = r->status;
	switch (proto_rep_body_kind(r->opcode, r->status)) {
	case PROTO_BODY_EMPTY:
		break;
	case PROTO_BODY_RECEIPT:
		res->receipt_node = r->u.receipt.node;
		res->receipt_clock = r->u.receipt.ver.clock;
		res->receipt_vnode = r->u.receipt.ver.node;
		break;
	case PROTO_BODY_WOR:
		res->outcome = r->outcome;
		/* fall through */
	case PROTO_BODY_ENTRY:
		res->has_entry = true;
		copy_entry(&res->entry, &r->u.entry);
		break;
	case PROTO_BODY_PAGE:
		res->count = r->u.page.count;
		res->end = (r->u.page.flags & PROTO_PAGE_END) != 0;
		res->cursor_len = (uint8_t)r->u.page.cursor.len;
		if (r->u.page.cursor.len)
			memcpy(res->cursor, r->u.page.cursor.ptr,
				r->u.page.cursor.len);
		if (res->count) {
			res->entries = calloc(res->count,
					sizeof(*res->entries));
			if (res->entries == NULL)
				return false;
		}
		proto_page_iter_init(&it, &r->u.page);
		while (i < res->count && proto_page_next(&it, &e) == 0)
			copy_entry(&res->entries[i++], &e);
		res->count = (uint16_t)i;
		break;
	case PROTO_BODY_NODE:
		res->node.version_min = r->u.node.version_min;
		res->node.version_max = r->u.node.version_max;
		res->node.node = r->u.node.node;
		res->node.partitions = r->u.node.partitions;
		res->node.entries = r->u.node.entries;
		res->node.uptime_ms = r->u.node.uptime_ms;
		res->node.name_len = r->u.node.name.len;
		memcpy(res->node.name, r->u.node.name.ptr,
			r->u.node.name.len);
		res->node.name[r->u.node.name.len] = '\0';
		break;
	case PROTO_BODY_STATS:
		if (r->u.stats.count) {
			res->stats = calloc(r->u.stats.count,
					sizeof(*res->stats));
			if (res->stats == NULL)
				return false;
		}
		proto_stats_iter_init(&sit, &r->u.stats);
		while (i < r->u.stats.count &&
		       proto_stats_next(&sit, &name, &value) == 0) {
			memcpy(res->stats[i].name, name.ptr, name.len);
			res->stats[i].name[name.len] = '\0';
			res->stats[i++].value = value;
		}
		res->nstats = (uint16_t)i;
		break;
	case PROTO_BODY_FIELD:
		res->field = r->u.field;
		break;
	case PROTO_BODY_VERSIONS:
		res->version_min = r->u.versions.min;
		res->version_max = r->u.versions.max;
		break;
	case PROTO_BODY_LIMIT:
		res->limit = r->u.limit;
		break;
	case PROTO_BODY_RETRY:
		res->retry_after_ms = r->u.retry_after_ms;
		break;
	case PROTO_BODY_READINESS:
		res->ready = r->u.ready;
		break;
	case PROTO_BODY_RAW:
		res->raw_len = r->body.len;
		if (r->body.len) {
			res->raw = malloc(r->body.len);
			if (res->raw == NULL)
				return false;
			memcpy(res->raw, r->body.ptr, r->body.len);
		}
		break;
	}
	return true;
}

static bool
retryable(uint8_t status)
{
	return status == PROTO_ST_OVERLOADED || status == PROTO_ST_INTERNAL ||
		status == PROTO_ST_NOT_READY;
}

/* Applies the answer r (for request q) to batch op k. */
static void
answer(struct run *run, const struct sreq *q, uint32_t k,
		const struct proto_reply *r, bool malformed)
{
	struct swc_bop *op = &run->b->ops[k];
	struct swc_result *res = &run->b->res[k];

	if (op->state == SWC_OP_FINAL)
		return;		/* a late or duplicate answer: already final */
	res->server = q->server;
	res->dgram_level = r->index == PROTO_INDEX_DGRAM;
	if (malformed || !fill(res, r)) {
		free(res->entries);
		free(res->stats);
		res->entries = NULL;
		res->stats = NULL;
		res->count = 0;
		res->nstats = 0;
		res->status = SWC_EBADREPLY;
		op->state = SWC_OP_FINAL;
		return;
	}
	res->opcode = op->opcode;
	if (op->opcode == PROTO_OP_UNREGISTER &&
	    r->status == PROTO_ST_NOT_FOUND && q->attempt > 0 &&
	    (op->flags & PROTO_OPF_EXPECT_HANDLE)) {
		res->status = PROTO_ST_OK;	/* section 9, rule 5 */
		res->retry_not_found = true;
	}
	if (retryable(r->status) && op->retry) {
		op->state = SWC_OP_RETRY;
		op->retry_after_ms = r->status == PROTO_ST_OVERLOADED ||
			r->status == PROTO_ST_NOT_READY ?
			r->u.retry_after_ms : 0;
		if (r->status == PROTO_ST_NOT_READY)
			run->not_ready = true;
		/* A budget refusal: send fewer ops per request. */
		if (r->status == PROTO_ST_OVERLOADED &&
		    r->u.retry_after_ms == 0 && q->nops > 1 &&
		    run->max_ops > q->nops / 2)
			run->max_ops = (uint16_t)(q->nops / 2 ? q->nops / 2 : 1);
	} else {
		op->state = SWC_OP_FINAL;
	}
}

static void
request_done(struct run *run, struct sreq *q)
{
	if (q->attempt == run->attempt && run->inflight > 0)
		run->inflight--;
}

static void
handle_dgram(struct run *run, int server, const uint8_t *buf, size_t len)
{
	struct swc_client *c = run->c;
	struct proto_rep rep;
	struct proto_reply r;
	struct sreq *q;
	uint64_t off;
	size_t j;
	int rc;

	if (proto_rep_parse(&rep, buf, len) != 0) {
		c->cnt.ignored++;
		return;
	}
	off = rep.req_id - run->id0;
	if (off >= run->nrq || run->rq[off].server != server) {
		c->cnt.ignored++;	/* stray: not a request of this call */
		return;
	}
	q = &run->rq[off];
	c->cnt.replies++;
	c->srv[server].answered = true;
	if (server == run->server)
		run->answered = true;
	while ((rc = proto_rep_next(&rep, &r)) != PROTO_END) {
		if (r.index == PROTO_INDEX_DGRAM) {
			if (rc != 0 || q->left == 0) {
				c->cnt.ignored++;
				continue;
			}
			for (j = 0; j < q->nops; j++) {
				if (run->seen[q->first + j])
					continue;
				run->seen[q->first + j] = 1;
				answer(run, q, run->map[q->first + j], &r,
					false);
			}
			q->left = 0;
			c->cnt.reply_ops++;
			request_done(run, q);
			continue;
		}
		if (r.index >= q->nops || run->seen[q->first + r.index] ||
		    r.opcode != run->b->ops[run->map[q->first + r.index]]
				.opcode) {
			c->cnt.ignored++;	/* duplicate or mismatch */
			continue;
		}
		run->seen[q->first + r.index] = 1;
		c->cnt.reply_ops++;
		answer(run, q, run->map[q->first + r.index], &r, rc != 0);
		if (--q->left == 0)
			request_done(run, q);
	}
}

/* Reads every waiting datagram of every socket. */
static void
drain(struct run *run, int server)
{
	struct swc_client *c = run->c;
	uint8_t buf[PROTO_MAX_DGRAM + 64];
	ssize_t n;

	for (;;) {
		n = recv(c->srv[server].fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ECONNREFUSED || errno == EHOSTUNREACH ||
			    errno == ENETUNREACH) {
				c->srv[server].refused = true;
				if (server == run->server)
					run->refused = true;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				run->err = SWC_ESOCKET;
			return;
		}
		if ((size_t)n > PROTO_MAX_DGRAM) {
			c->cnt.ignored++;
			continue;
		}
		handle_dgram(run, server, buf, (size_t)n);
	}
}

/*
 * Waits for replies until deadline (ms), or, when stop_when_idle, until
 * every request of the attempt is answered. Returns true if something
 * arrived.
 */
static bool
wait_replies(struct run *run, uint64_t deadline, bool attempt_wait)
{
	struct swc_client *c = run->c;
	struct pollfd pfd[SWC_MAX_SERVERS];
	uint64_t before = c->cnt.replies, now;
	size_t i;
	int n;

	for (;;) {
		if (attempt_wait && (run->inflight == 0 || run->refused ||
				run->err))
			break;
		now = now_ms();
		if (now >= deadline)
			break;
		for (i = 0; i < c->nsrv; i++) {
			pfd[i].fd = c->srv[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		n = poll(pfd, c->nsrv, (int)(deadline - now));
		if (n < 0 && errno != EINTR) {
			run->err = SWC_ESOCKET;
			break;
		}
		for (i = 0; n > 0 && i < c->nsrv; i++)
			if (pfd[i].revents)
				drain(run, (int)i);
		if (attempt_wait && c->cnt.replies != before)
			break;	/* progress: the caller restarts its timer */
	}
	return c->cnt.replies != before;
}

static bool
grow(void **p, size_t *cap, size_t need, size_t sz)
{
	size_t nc = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return true;
	while (nc < need)
		nc *= 2;
	np = realloc(*p, nc * sz);
	if (np == NULL)
		return false;
	*p = np;
	*cap = nc;
	return true;
}

/* Packs ops list[*pos..] into one request and sends it. */
static int
send_one(struct run *run, const uint32_t *list, size_t n, size_t *pos)
{
	struct swc_client *c = run->c;
	struct swc_batch *b = run->b;
	uint8_t dg[PROTO_MAX_DGRAM];
	struct proto_enc e;
	struct sreq *q;
	uint64_t id = c->next_id++;
	size_t len;
	ssize_t sent;

	if (run->nrq == 0)
		run->id0 = id;
	else if (id - run->id0 != run->nrq)
		return SWC_ESOCKET;	/* cannot happen: ids are sequential */
	if (!grow((void **)&run->rq, &run->caprq, run->nrq + 1,
			sizeof(*run->rq)) ||
	    !grow((void **)&run->map, &run->capmap, run->nmap + run->max_ops,
			sizeof(*run->map)))
		return SWC_ENOMEM;
	{
		/* seen[] follows map[] in size. */
		uint8_t *ns = realloc(run->seen, run->capmap);

		if (ns == NULL)
			return SWC_ENOMEM;
		run->seen = ns;
	}
	proto_req_init(&e, dg, sizeof(dg), id);
	proto_req_set_replicas(&e, run->c->opt.replicas);
	while (*pos < n && e.nops < run->max_ops) {
		const struct swc_bop *op = &b->ops[list[*pos]];

		if (proto_req_add_raw(&e, op->opcode, op->flags,
				b->bodies + op->body_off, op->body_len) != 0)
			break;
		run->map[run->nmap + e.nops - 1] = list[*pos];
		run->seen[run->nmap + e.nops - 1] = 0;
		(*pos)++;
	}
	len = proto_enc_finish(&e);
	q = &run->rq[run->nrq++];
	q->server = run->server;
	q->attempt = run->attempt;
	q->nops = e.nops;
	q->left = e.nops;
	q->first = run->nmap;
	run->nmap += e.nops;
	run->inflight++;
	c->cnt.requests++;
	sent = send(c->srv[run->server].fd, dg, len, 0);
	if (sent < 0 && (errno == ECONNREFUSED || errno == EHOSTUNREACH ||
			errno == ENETUNREACH)) {
		c->srv[run->server].refused = true;
		run->refused = true;
	} else if (sent < 0) {
		snprintf(c->errmsg, sizeof(c->errmsg), "send to %s: %s",
			c->srv[run->server].display, strerror(errno));
		return SWC_ESOCKET;
	}
	return 0;
}

/* One attempt over the ops in list (all PENDING). */
static int
attempt(struct run *run, uint32_t *list, size_t n)
{
	struct swc_client *c = run->c;
	uint32_t timeout = run->c->opt.timeout_ms;
	uint64_t deadline;
	size_t pos = 0, i;
	int rc;

	for (i = 0; i < n; i++) {
		run->b->ops[list[i]].state = SWC_OP_SENT;
		run->b->res[list[i]].tries++;
	}
	run->inflight = 0;
	run->answered = false;
	run->refused = false;
	run->not_ready = false;
	c->srv[run->server].tries++;
	c->cnt.attempts++;
	deadline = now_ms() + timeout;
	for (;;) {
		while (run->inflight < c->opt.window && pos < n &&
				!run->refused) {
			rc = send_one(run, list, n, &pos);
			if (rc != 0)
				return rc;
			deadline = now_ms() + timeout;
		}
		if ((pos == n && run->inflight == 0) || run->refused)
			break;
		if (wait_replies(run, deadline, true))
			deadline = now_ms() + timeout;
		else if (run->inflight > 0 || run->refused)
			break;		/* idle for timeout_ms */
		if (run->err)
			return run->err;
	}
	/* Ops never sent were not tried. */
	for (i = pos; i < n; i++) {
		run->b->ops[list[i]].state = SWC_OP_PENDING;
		run->b->res[list[i]].tries--;
	}
	return run->err;
}

static uint32_t
backoff(struct swc_client *c, unsigned int attempt_no)
{
	uint64_t b = c->opt.backoff_ms;
	unsigned int i;

	for (i = 1; i < attempt_no && b < c->opt.backoff_max_ms; i++)
		b *= 2;
	if (b > c->opt.backoff_max_ms)
		b = c->opt.backoff_max_ms;
	if (b < 2)
		return (uint32_t)b;
	return (uint32_t)(b / 2 + swc_rand(c) % (b / 2 + 1));
}

static void
timeout_message(struct run *run, size_t unanswered)
{
	struct swc_client *c = run->c;
	size_t i, off = 0;
	int w;

	c->errmsg[0] = '\0';
	for (i = 0; i < c->nsrv; i++) {
		const struct swc_server *s = &c->srv[i];

		if (s->tries == 0)
			continue;
		if (!s->answered)
			w = snprintf(c->errmsg + off, sizeof(c->errmsg) - off,
				"%sno answer from %s after %u %s%s",
				off ? "; " : "", s->display, s->tries,
				s->tries == 1 ? "try" : "tries",
				s->refused ? " (port unreachable)" : "");
		else
			w = snprintf(c->errmsg + off, sizeof(c->errmsg) - off,
				"%sno answer to %zu of %zu ops from %s "
				"after %u %s", off ? "; " : "", unanswered,
				run->b->n, s->display, s->tries,
				s->tries == 1 ? "try" : "tries");
		if (w < 0 || (size_t)w >= sizeof(c->errmsg) - off)
			break;
		off += (size_t)w;
	}
}

int
swc_run_opts(struct swc_client *c, struct swc_batch *b,
		const struct swc_call *call)
{
	struct swc_options saved = c->opt;
	struct run run = { .c = c, .b = b, .server = c->cur,
			   .max_ops = PROTO_MAX_OPS };
	uint32_t *list = NULL;
	uint32_t retries = c->opt.retries;
	bool pinned = false;
	size_t i, n, unanswered = 0;
	int rc = 0;

	if (call && call->server >= 0 && (size_t)call->server >= c->nsrv)
		return SWC_EINVAL;
	c->errmsg[0] = '\0';
	c->cnt.calls++;
	for (i = 0; i < c->nsrv; i++) {
		c->srv[i].tries = 0;
		c->srv[i].answered = false;
		c->srv[i].refused = false;
	}
	if (call) {
		if (call->timeout_ms)
			c->opt.timeout_ms = call->timeout_ms;
		if (call->retries >= 0)
			retries = (uint32_t)call->retries;
		if (call->server >= 0) {
			run.server = call->server;
			pinned = true;
		}
	}
	for (i = 0; i < b->n; i++) {
		swc_result_clear(&b->res[i]);
		b->res[i].opcode = b->ops[i].opcode;
		b->ops[i].state = SWC_OP_PENDING;
		b->ops[i].retry_after_ms = 0;
	}
	if (b->n && (list = malloc(b->n * sizeof(*list))) == NULL)
		rc = SWC_ENOMEM;
	for (run.attempt = 0; rc == 0; run.attempt++) {
		uint32_t wait = 0;

		/* Gather what still needs an answer. */
		for (i = 0, n = 0; i < b->n; i++) {
			struct swc_bop *op = &b->ops[i];

			if (op->state == SWC_OP_SENT ||
			    op->state == SWC_OP_RETRY)
				op->state = SWC_OP_PENDING;
			if (op->state != SWC_OP_PENDING)
				continue;
			if (run.attempt > 0 && !op->retry) {
				op->state = SWC_OP_FINAL;  /* not safe */
				continue;
			}
			if (op->retry_after_ms > wait)
				wait = op->retry_after_ms;
			list[n++] = (uint32_t)i;
		}
		if (n == 0 || run.attempt > retries)
			break;
		if (run.attempt > 0) {
			uint32_t bo = backoff(c, run.attempt);

			if (bo > wait)
				wait = bo;
			/* Late replies may still come in while we wait. */
			wait_replies(&run, now_ms() + wait, false);
			for (i = 0, n = 0; i < b->n; i++)
				if (b->ops[i].state == SWC_OP_PENDING)
					list[n++] = (uint32_t)i;
			if (n == 0)
				break;
		}
		rc = attempt(&run, list, n);
		if (rc != 0)
			break;
		if (run.answered && !run.refused && !run.not_ready)
			c->cur = run.server;
		else if (!pinned)
			run.server = (run.server + 1) % (int)c->nsrv;
	}
	for (i = 0; i < b->n; i++)
		if (b->res[i].status == SWC_ENOANSWER)
			unanswered++;
	if (rc == 0 && unanswered) {
		timeout_message(&run, unanswered);
		rc = SWC_ETIMEDOUT;
	}
	free(list);
	free(run.rq);
	free(run.map);
	free(run.seen);
	c->opt = saved;
	return rc;
}

int
swc_run(struct swc_client *c, struct swc_batch *b)
{
	return swc_run_opts(c, b, NULL);
}
