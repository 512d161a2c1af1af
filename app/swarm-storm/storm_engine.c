/*
 * storm_engine.c - one thread, S connected UDP sockets, a window of W
 * request datagrams ("slots").
 *
 * A slot holds up to K ops (name numbers), which of them are answered (a
 * bit mask), and the datagram currently in flight for the rest. Its request
 * id is base ^ (generation << 16 | slot index): the low 16 bits find the
 * slot of a reply in O(1), the full 64 bits must match the id last sent,
 * so replies to an earlier attempt are ignored ("stale"; protocol 9,
 * rules 1-3). Every resend re-encodes only the unanswered ops under a new
 * id, with op indexes renumbered from 0 (map[] takes them back).
 *
 *   timeout:     a slot in flight for --timeout ms is resent; after
 *                --retries resends its unanswered ops are lost.
 *   overloaded:  (and not_ready, internal) the op is not final; once every op of the
 *                datagram has its reply the slot waits for the hinted time
 *                (or an exponential back-off with jitter when the hint is
 *                0) and is resent. These rounds do not use up --retries;
 *                after STORM_SOFT_ROUNDS of them the last answer is final.
 *
 * Sends go through per-socket queues flushed with sendmmsg, 32 at a time;
 * receives use recvmmsg, 32 at a time, until the sockets are empty. A slot's
 * first-send time is taken when its datagram leaves, and every op of it is
 * timed from then to its final answer (latency includes retries).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mix.h"
#include "storm.h"

#define STORM_SOFT_ROUNDS	64u
#define RX_BUF			2048u
#define BACKOFF_MAX_NS		1000000000ull

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_INFLIGHT, SLOT_WAIT };

struct slot {
	uint64_t req_id;
	uint64_t t_first;		/* 0 until the first datagram left */
	uint64_t t_sent;
	uint64_t resend_at;		/* SLOT_WAIT */
	uint64_t answered;		/* bit per op position */
	uint64_t awaiting;		/* positions in flight without a reply */
	uint64_t names[STORM_MAX_BATCH];
	uint8_t soft_status[STORM_MAX_BATCH];	/* last overloaded/internal */
	uint8_t map[STORM_MAX_BATCH];	/* datagram op index -> position */
	uint32_t hint_ms;		/* largest retry-after of this round */
	uint16_t attempts;		/* sends caused by timeouts, 1 = first */
	uint16_t soft_rounds;
	uint8_t nops, cur_nops;
	uint8_t state;
	uint8_t sock;
	bool soft;			/* an overloaded/internal this round */
	uint16_t len;
	uint8_t *buf;
};

struct txq {
	uint32_t *idx;
	uint32_t n;
};

struct engine {
	const struct storm_cfg *cfg;
	struct storm_phase *ph;
	FILE *progress;
	int fd[STORM_MAX_SOCKETS];
	uint32_t nsock;
	struct slot *slots;
	uint8_t *bufs;
	uint32_t nslots;
	uint32_t *free_stack;
	uint32_t nfree;
	struct txq tx[STORM_MAX_SOCKETS];
	uint64_t id_base;
	uint64_t gen;
	uint64_t rng;
	uint64_t t0;
	uint64_t done;			/* ops answered or lost */
	uint64_t out_ops;		/* ops in slots not free */
	uint32_t next_sock;
	uint8_t rx[STORM_IO_BATCH][RX_BUF];
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
rng_next(struct engine *e)
{
	return mix_next(&e->rng);
}

static uint64_t
full_mask(unsigned int n)
{
	return n >= 64 ? ~0ull : (1ull << n) - 1;
}

static int
engine_open(struct engine *e, const struct storm_cfg *cfg, char *err,
	    size_t errlen)
{
	uint32_t i;
	int sz = 4 << 20;

	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->nslots = cfg->window;
	e->slots = calloc(e->nslots, sizeof(*e->slots));
	e->bufs = malloc((size_t)e->nslots * PROTO_MAX_DGRAM);
	e->free_stack = malloc(e->nslots * sizeof(uint32_t));
	for (i = 0; i < STORM_MAX_SOCKETS; i++)
		e->fd[i] = -1;
	if (e->slots == NULL || e->bufs == NULL || e->free_stack == NULL) {
		snprintf(err, errlen, "out of memory for --window %u",
			 cfg->window);
		return -1;
	}
	for (i = 0; i < cfg->sockets; i++) {
		e->tx[i].idx = malloc(e->nslots * sizeof(uint32_t));
		if (e->tx[i].idx == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	for (i = 0; i < e->nslots; i++)
		e->slots[i].buf = e->bufs + (size_t)i * PROTO_MAX_DGRAM;
	for (i = 0; i < cfg->sockets; i++) {
		int fd = socket(cfg->addr.ss_family,
				SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			return -1;
		}
		e->fd[i] = fd;
		e->nsock = i + 1;
		/* Best effort: the kernel caps these at rmem_max/wmem_max. */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		if (connect(fd, (const struct sockaddr *)&cfg->addr,
			    cfg->addrlen) < 0) {
			snprintf(err, errlen, "connect to %s: %s", cfg->server,
				 strerror(errno));
			return -1;
		}
	}
	e->rng = cfg->seed ^ mono_ns() ^ ((uint64_t)getpid() << 32);
	e->id_base = rng_next(e);
	return 0;
}

static void
engine_close(struct engine *e)
{
	uint32_t i;

	for (i = 0; i < STORM_MAX_SOCKETS; i++) {
		if (e->fd[i] >= 0)
			close(e->fd[i]);
		free(e->tx[i].idx);
	}
	free(e->slots);
	free(e->bufs);
	free(e->free_stack);
}

/* Encodes the unanswered ops of slot i under a new id and queues it. */
static void
slot_send(struct engine *e, uint32_t i)
{
	struct slot *s = &e->slots[i];
	const struct storm_cfg *cfg = e->cfg;
	struct proto_enc enc;
	struct proto_endpoint ep;
	char name[STORM_NAME_BUF];
	static const uint8_t meta[PROTO_META_MAX];	/* zero bytes */
	unsigned int pos, k = 0;

	s->req_id = e->id_base ^ (++e->gen << 16 | i);
	proto_req_init(&enc, s->buf, PROTO_MAX_DGRAM, s->req_id);
	for (pos = 0; pos < s->nops; pos++) {
		uint64_t n = s->names[pos];
		size_t len;
		int rc;

		if (s->answered >> pos & 1)
			continue;
		len = storm_pattern_format(&cfg->pat, n, name);
		if (e->ph->opcode == PROTO_OP_REGISTER) {
			storm_endpoint(n, &ep);
			rc = proto_req_add_register(&enc, name, len,
					storm_handle(n), &ep, meta,
					cfg->meta_len, cfg->ttl_ms);
		} else {
			rc = proto_req_add_whereis(&enc, name, len);
		}
		/* storm_cfg_check() proved that K ops fit. */
		if (rc != 0)
			abort();
		s->map[k++] = (uint8_t)pos;
	}
	s->cur_nops = (uint8_t)k;
	s->awaiting = ~s->answered & full_mask(s->nops);
	s->len = (uint16_t)proto_enc_finish(&enc);
	s->soft = false;
	s->hint_ms = 0;
	s->state = SLOT_QUEUED;
	e->tx[s->sock].idx[e->tx[s->sock].n++] = i;
}

static void
slot_free(struct engine *e, uint32_t i)
{
	struct slot *s = &e->slots[i];

	e->out_ops -= s->nops;
	s->state = SLOT_FREE;
	e->free_stack[e->nfree++] = i;
}

static void
tx_flush(struct engine *e, uint32_t sock, uint64_t now)
{
	struct txq *q = &e->tx[sock];
	struct mmsghdr msgs[STORM_IO_BATCH];
	struct iovec iov[STORM_IO_BATCH];
	uint32_t done = 0;

	while (done < q->n) {
		uint32_t n = q->n - done, j;
		int rc;

		if (n > STORM_IO_BATCH)
			n = STORM_IO_BATCH;
		memset(msgs, 0, sizeof(msgs[0]) * n);
		for (j = 0; j < n; j++) {
			struct slot *s = &e->slots[q->idx[done + j]];

			iov[j].iov_base = s->buf;
			iov[j].iov_len = s->len;
			msgs[j].msg_hdr.msg_iov = &iov[j];
			msgs[j].msg_hdr.msg_iovlen = 1;
		}
		rc = sendmmsg(e->fd[sock], msgs, n, 0);
		if (rc < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS || errno == EINTR)
				break;
			/* ECONNREFUSED (an ICMP error) and friends: the
			 * first datagram counts as sent and will time out. */
			e->ph->send_errors++;
			rc = 1;
		}
		for (j = 0; j < (uint32_t)rc; j++) {
			struct slot *s = &e->slots[q->idx[done + j]];

			s->t_sent = now;
			if (s->t_first == 0)
				s->t_first = now;
			s->state = SLOT_INFLIGHT;
			e->ph->dgrams_sent++;
		}
		done += (uint32_t)rc;
	}
	if (done > 0) {
		memmove(q->idx, q->idx + done, (q->n - done) * sizeof(uint32_t));
		q->n -= done;
	}
}

/* A final answer for the op at position pos of slot s. */
static void
op_final(struct engine *e, struct slot *s, unsigned int pos, uint8_t status,
	 uint64_t now)
{
	struct storm_phase *ph = e->ph;

	s->answered |= 1ull << pos;
	ph->answered++;
	ph->status[status]++;
	e->done++;
	storm_hist_add(&ph->lat, now - s->t_first);
	ph->t_last_answer_ns = now - e->t0;
}

static void
op_soft(struct slot *s, unsigned int pos, uint8_t status, uint32_t hint)
{
	s->soft = true;
	s->soft_status[pos] = status;
	if (hint > s->hint_ms)
		s->hint_ms = hint;
}

static bool
entry_matches(const struct storm_cfg *cfg, const struct proto_entry *ent,
	      uint64_t n)
{
	char name[STORM_NAME_BUF];
	size_t len = storm_pattern_format(&cfg->pat, n, name);

	return ent->handle == storm_handle(n) && ent->name.len == len &&
		memcmp(ent->name.ptr, name, len) == 0;
}

/* One reply op for position pos of slot s (already checked unanswered). */
static void
reply_op(struct engine *e, struct slot *s, unsigned int pos,
	 const struct proto_reply *r, uint64_t now)
{
	struct storm_phase *ph = e->ph;

	s->awaiting &= ~(1ull << pos);
	switch (r->status) {
	case PROTO_ST_OVERLOADED:
	case PROTO_ST_NOT_READY:
		if (r->status == PROTO_ST_NOT_READY)
			ph->not_ready++;
		else
			ph->overloaded++;
		op_soft(s, pos, r->status,
			proto_rep_body_kind(r->opcode, r->status) ==
			PROTO_BODY_RETRY ? r->u.retry_after_ms : 0);
		return;
	case PROTO_ST_INTERNAL:
		ph->internal_retries++;
		op_soft(s, pos, r->status, 0);
		return;
	case PROTO_ST_OK:
		if (r->opcode == PROTO_OP_WHEREIS) {
			if (entry_matches(e->cfg, &r->u.entry, s->names[pos]))
				ph->correct++;
			else
				ph->wrong++;
		}
		break;
	default:
		break;
	}
	op_final(e, s, pos, r->status, now);
}

/* Every op of the round has its reply: free the slot or wait to resend. */
static void
slot_settle(struct engine *e, uint32_t i, uint64_t now)
{
	struct slot *s = &e->slots[i];
	uint64_t delay, left = ~s->answered & full_mask(s->nops);
	unsigned int pos;

	if (s->awaiting != 0)
		return;
	if (left == 0) {
		slot_free(e, i);
		return;
	}
	if (++s->soft_rounds > STORM_SOFT_ROUNDS) {
		for (pos = 0; pos < s->nops; pos++)
			if (left >> pos & 1)
				op_final(e, s, pos, s->soft_status[pos], now);
		slot_free(e, i);
		return;
	}
	/* Rule 4: at least the hint; else exponential back-off, jittered. */
	if (s->hint_ms > 0) {
		delay = (uint64_t)s->hint_ms * 1000000ull;
		delay += rng_next(e) % (delay / 4 + 1);
	} else {
		unsigned int sh = s->soft_rounds < 20 ? s->soft_rounds : 20;

		delay = 1000000ull << sh;	/* 2 ms, 4 ms, ... */
		if (delay > BACKOFF_MAX_NS)
			delay = BACKOFF_MAX_NS;
		delay = delay / 2 + rng_next(e) % delay;
	}
	s->state = SLOT_WAIT;
	s->resend_at = now + delay;
}

static void
rx_dgram(struct engine *e, const uint8_t *buf, size_t len, uint64_t now)
{
	struct storm_phase *ph = e->ph;
	struct proto_rep rep;
	struct proto_reply r;
	struct slot *s;
	uint32_t i;
	int rc;

	ph->dgrams_recv++;
	if (proto_rep_parse(&rep, buf, len) != 0) {
		ph->bad_replies++;
		return;
	}
	i = (uint32_t)((rep.req_id ^ e->id_base) & 0xffff);
	if (i >= e->nslots || e->slots[i].req_id != rep.req_id ||
	    e->slots[i].state != SLOT_INFLIGHT) {
		ph->stale++;
		return;
	}
	s = &e->slots[i];
	while ((rc = proto_rep_next(&rep, &r)) != PROTO_END) {
		unsigned int pos, k;

		if (rc != 0) {
			ph->bad_replies++;
			continue;
		}
		if (r.index == PROTO_INDEX_DGRAM) {
			/* The whole datagram: every op still in flight. */
			for (k = 0; k < s->cur_nops; k++) {
				pos = s->map[k];
				if (s->awaiting >> pos & 1)
					reply_op(e, s, pos, &r, now);
			}
			continue;
		}
		if (r.index >= s->cur_nops || r.opcode != e->ph->opcode) {
			ph->bad_replies++;
			continue;
		}
		pos = s->map[r.index];
		if (!(s->awaiting >> pos & 1)) {
			ph->duplicates++;
			continue;
		}
		reply_op(e, s, pos, &r, now);
	}
	slot_settle(e, i, now);
}

static bool
rx_all(struct engine *e)
{
	struct mmsghdr msgs[STORM_IO_BATCH];
	struct iovec iov[STORM_IO_BATCH];
	bool got = false;
	uint32_t sock, j;

	for (sock = 0; sock < e->nsock; sock++) {
		unsigned int rounds;

		for (rounds = 0; rounds < 16; rounds++) {
			uint64_t now;
			int rc;

			memset(msgs, 0, sizeof(msgs));
			for (j = 0; j < STORM_IO_BATCH; j++) {
				iov[j].iov_base = e->rx[j];
				iov[j].iov_len = RX_BUF;
				msgs[j].msg_hdr.msg_iov = &iov[j];
				msgs[j].msg_hdr.msg_iovlen = 1;
			}
			rc = recvmmsg(e->fd[sock], msgs, STORM_IO_BATCH,
				      MSG_DONTWAIT, NULL);
			if (rc <= 0)
				break;	/* EAGAIN, or an ICMP error: retries */
			got = true;
			now = mono_ns();
			for (j = 0; j < (uint32_t)rc; j++)
				rx_dgram(e, e->rx[j], msgs[j].msg_len, now);
			if (rc < (int)STORM_IO_BATCH)
				break;
		}
	}
	return got;
}

/* Timeouts and the end of overload waits. */
static void
scan_timers(struct engine *e, uint64_t now)
{
	const struct storm_cfg *cfg = e->cfg;
	uint64_t tmo = (uint64_t)cfg->timeout_ms * 1000000ull;
	uint32_t i;

	for (i = 0; i < e->nslots; i++) {
		struct slot *s = &e->slots[i];
		uint64_t left;

		if (s->state == SLOT_WAIT && now >= s->resend_at) {
			e->ph->overload_resends++;
			slot_send(e, i);
			continue;
		}
		if (s->state != SLOT_INFLIGHT || now - s->t_sent < tmo)
			continue;
		left = ~s->answered & full_mask(s->nops);
		if (s->attempts > cfg->retries) {
			unsigned int nlost = (unsigned int)__builtin_popcountll(left);

			e->ph->lost += nlost;
			e->done += nlost;
			slot_free(e, i);
			continue;
		}
		s->attempts++;
		e->ph->retransmits++;
		e->ph->retransmit_ops += (uint64_t)__builtin_popcountll(left);
		slot_send(e, i);
	}
}

static void
wait_io(struct engine *e, int timeout_ms)
{
	struct pollfd pfd[STORM_MAX_SOCKETS];
	uint32_t i;

	for (i = 0; i < e->nsock; i++) {
		pfd[i].fd = e->fd[i];
		pfd[i].events = POLLIN | (e->tx[i].n ? POLLOUT : 0);
		pfd[i].revents = 0;
	}
	poll(pfd, e->nsock, timeout_ms);
}

static void
run_phase(struct engine *e, struct storm_phase *ph)
{
	const struct storm_cfg *cfg = e->cfg;
	double tokens = cfg->batch, cap;
	uint64_t next_j = 0, now, last_refill, next_scan, next_progress;
	uint64_t prog_done = 0, prog_ns = 0, scan_ns;
	uint32_t i;

	e->ph = ph;
	e->done = 0;
	e->out_ops = 0;
	e->nfree = 0;
	for (i = 0; i < e->nslots; i++) {
		e->slots[i].state = SLOT_FREE;
		e->free_stack[e->nfree++] = e->nslots - 1 - i;
	}
	cap = cfg->rate ? (double)cfg->rate / 200.0 : 0;	/* 5 ms burst */
	if (cap < cfg->batch)
		cap = cfg->batch;
	scan_ns = (uint64_t)cfg->timeout_ms * 1000000ull / 8;
	if (scan_ns < 100000)
		scan_ns = 100000;
	if (scan_ns > 10000000)
		scan_ns = 10000000;
	e->t0 = now = last_refill = mono_ns();
	next_scan = now + scan_ns;
	next_progress = now + 1000000000ull;

	while (e->done < ph->ops) {
		bool busy = false;

		now = mono_ns();
		if (cfg->rate) {
			tokens += (double)(now - last_refill) * 1e-9 *
				(double)cfg->rate;
			if (tokens > cap)
				tokens = cap;
			last_refill = now;
		}
		if (now >= next_scan) {
			scan_timers(e, now);
			next_scan = now + scan_ns;
		}
		while (e->nfree > 0 && next_j < ph->ops) {
			uint64_t k = ph->ops - next_j;
			struct slot *s;
			uint32_t idx, p;

			if (k > cfg->batch)
				k = cfg->batch;
			if (cfg->rate) {
				if (tokens < (double)k)
					break;
				tokens -= (double)k;
			}
			idx = e->free_stack[--e->nfree];
			s = &e->slots[idx];
			for (p = 0; p < k; p++)
				s->names[p] = storm_name_number(cfg, next_j + p);
			s->nops = (uint8_t)k;
			s->answered = 0;
			s->attempts = 1;
			s->soft_rounds = 0;
			s->t_first = 0;
			s->sock = (uint8_t)(e->next_sock++ % e->nsock);
			slot_send(e, idx);
			next_j += k;
			ph->first_sent += k;
			e->out_ops += k;
			ph->t_last_first_send_ns = now - e->t0;
			busy = true;
		}
		for (i = 0; i < e->nsock; i++)
			if (e->tx[i].n)
				tx_flush(e, i, mono_ns());
		if (rx_all(e))
			busy = true;
		if (e->progress && now >= next_progress) {
			uint32_t inflight = e->nslots - e->nfree;

			storm_progress(e->progress, ph, now - e->t0,
				       e->done - prog_done, now - e->t0 - prog_ns,
				       inflight, e->out_ops);
			prog_done = e->done;
			prog_ns = now - e->t0;
			next_progress += 1000000000ull;
		}
		if (!busy)
			wait_io(e, 1);
	}
	ph->elapsed_ns = mono_ns() - e->t0;
}

static void
phase_init(struct storm_phase *ph, const char *name, uint8_t opcode,
	   uint8_t expect, bool check, uint64_t ops)
{
	memset(ph, 0, sizeof(*ph));
	ph->name = name;
	ph->opcode = opcode;
	ph->expect = expect;
	ph->check_handle = check;
	ph->ops = ops;
}

int
storm_run(const struct storm_cfg *cfg, struct storm_report *rep,
	  FILE *progress, char *err, size_t errlen)
{
	struct engine *e = malloc(sizeof(*e));
	int rc = 0;

	memset(rep, 0, sizeof(*rep));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (engine_open(e, cfg, err, errlen) < 0) {
		engine_close(e);
		free(e);
		return -1;
	}
	e->progress = progress;
	switch (cfg->mode) {
	case STORM_REGISTER:
		phase_init(&rep->main, "register", PROTO_OP_REGISTER,
			   PROTO_ST_OK, false, cfg->names);
		break;
	case STORM_LOOKUP:
		phase_init(&rep->main, "lookup", PROTO_OP_WHEREIS, cfg->expect,
			   false, cfg->names);
		break;
	case STORM_VERIFY:
		phase_init(&rep->main, "verify", PROTO_OP_WHEREIS, PROTO_ST_OK,
			   true, cfg->names);
		break;
	}
	run_phase(e, &rep->main);
	if (cfg->mode == STORM_REGISTER && cfg->verify) {
		/* The verification pass: same engine, WHEREIS, no rate. */
		struct storm_cfg vcfg = *cfg;

		vcfg.rate = 0;
		e->cfg = &vcfg;
		phase_init(&rep->verify, "verify", PROTO_OP_WHEREIS,
			   PROTO_ST_OK, true, cfg->names);
		rep->has_verify = true;
		run_phase(e, &rep->verify);
		e->cfg = cfg;
	}
	engine_close(e);
	free(e);
	return rc;
}
