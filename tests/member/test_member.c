/*
 * test_member.c - lib/member: the wire codec, and SWIM membership driven in
 * a deterministic simulation: N nodes in one process exchange encoded
 * datagrams through a simulated network with a seeded drop probability and
 * random delay, time stepping in fixed increments. Every run is replayable
 * from its seed. Measured figures are printed (docs/membership.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "member.h"
#include "mix.h"

#define MAXN	16
#define STEP	50		/* ms per simulation step */
#define PORT	7946

/* ---- simulated network ------------------------------------------------- */

struct pkt {
	uint64_t at;
	int src, dst;
	size_t len;
	uint8_t buf[MBR_WIRE_MAX];
};

struct sim {
	int n;
	struct mbr *node[MAXN];
	struct mbr_config cfg;
	bool crashed[MAXN];
	bool isolated[MAXN];
	bool left[MAXN];
	uint64_t inc[MAXN];	/* incarnation a node was (re)started with */
	uint64_t now;
	uint64_t rng;
	unsigned drop_pct;	/* 0..100 */
	unsigned max_delay;	/* ms, uniform 0..max_delay */
	struct pkt *pk;
	size_t npk, cappk;
	/* observations */
	uint64_t dead_at[MAXN][MAXN];	/* [observer][subject] first DEAD event */
	uint64_t left_at[MAXN][MAXN];
	unsigned false_dead;		/* DEAD events about running nodes */
	unsigned suspects;		/* SUSPECT events in total */
	unsigned alive_again;		/* ALIVE events (refuted suspicions) */
	unsigned joined_after_dead[MAXN][MAXN];
	uint64_t digest;		/* hash of every datagram, for replay */
	uint64_t sent;
};

static uint64_t srnd(struct sim *s)
{
	return mix_next(&s->rng);
}

static struct mbr_addr addr_of(int i)
{
	struct mbr_addr a = { .ip = 0x0a000001u + (uint32_t)i, .port = PORT };

	return a;
}

static void make_node(struct mbr_node *nd, int i, uint64_t inc)
{
	memset(nd, 0, sizeof(*nd));
	nd->name_len = (uint8_t)snprintf(nd->name, sizeof(nd->name), "node-%02d", i);
	nd->addr = addr_of(i);
	nd->incarnation = inc;
}

static int index_of_name(const struct sim *s, const struct mbr_node *nd)
{
	for (int i = 0; i < s->n; i++) {
		char nm[16];
		int l = snprintf(nm, sizeof(nm), "node-%02d", i);

		if (nd->name_len == l && memcmp(nd->name, nm, (size_t)l) == 0)
			return i;
	}
	return -1;
}

static void start_node(struct sim *s, int i, uint64_t inc)
{
	struct mbr_node self;

	make_node(&self, i, inc);
	s->inc[i] = inc;
	s->node[i] = mbr_create(&s->cfg, &self, s->rng ^ (uint64_t)(i + 1) * 7919);
	assert_non_null(s->node[i]);
	s->crashed[i] = false;
	s->left[i] = false;
}

static void sim_init(struct sim *s, int n, uint64_t seed, unsigned drop_pct,
		     unsigned max_delay)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->rng = seed;
	s->drop_pct = drop_pct;
	s->max_delay = max_delay;
	s->now = 1000;
	mbr_config_default(&s->cfg);
	for (int i = 0; i < n; i++)
		start_node(s, i, 0);
}

static void sim_free(struct sim *s)
{
	for (int i = 0; i < s->n; i++)
		mbr_destroy(s->node[i]);
	free(s->pk);
}

static void sim_join_all(struct sim *s)
{
	struct mbr_addr seed = addr_of(0);

	for (int i = 1; i < s->n; i++)
		assert_int_equal(mbr_join(s->node[i], &seed, 1, s->now), 1);
}

static bool running(const struct sim *s, int i)
{
	return !s->crashed[i] && !s->left[i];
}

static void collect(struct sim *s, int i)
{
	struct mbr_msg out[16];
	size_t k;

	while ((k = mbr_poll_send(s->node[i], out, 16)) > 0) {
		for (size_t j = 0; j < k; j++) {
			struct pkt *p;
			int dst = (int)(out[j].dst.ip - 0x0a000001u);

			assert_true(dst >= 0 && dst < s->n);
			assert_int_equal(out[j].dst.port, PORT);
			if (s->npk == s->cappk) {
				s->cappk = s->cappk ? 2 * s->cappk : 256;
				s->pk = realloc(s->pk, s->cappk * sizeof(*s->pk));
				assert_non_null(s->pk);
			}
			p = &s->pk[s->npk];
			p->len = mbr_encode(&out[j], p->buf, sizeof(p->buf));
			assert_true(p->len > 0);
			for (size_t b = 0; b < p->len; b++)
				s->digest = (s->digest ^ p->buf[b]) * 0x100000001b3ULL;
			s->sent++;
			if (srnd(s) % 100 < s->drop_pct)
				continue;
			p->src = i;
			p->dst = dst;
			p->at = s->now + srnd(s) % (s->max_delay + 1);
			s->npk++;
		}
	}
}

static void observe(struct sim *s, int i)
{
	struct mbr_event ev[32];
	size_t k;

	while ((k = mbr_poll_events(s->node[i], ev, 32)) > 0) {
		for (size_t j = 0; j < k; j++) {
			int subj = index_of_name(s, &ev[j].node);

			assert_true(subj >= 0);
			switch (ev[j].type) {
			case MBR_EV_DEAD:
				if (running(s, subj) && !s->isolated[subj])
					s->false_dead++;
				if (s->dead_at[i][subj] == 0)
					s->dead_at[i][subj] = ev[j].at;
				break;
			case MBR_EV_LEFT:
				if (s->left_at[i][subj] == 0)
					s->left_at[i][subj] = ev[j].at;
				break;
			case MBR_EV_SUSPECT:
				s->suspects++;
				break;
			case MBR_EV_ALIVE:
				s->alive_again++;
				break;
			case MBR_EV_JOINED:
				if (s->dead_at[i][subj] != 0)
					s->joined_after_dead[i][subj]++;
				break;
			default:
				fail();
			}
		}
	}
}

static void step(struct sim *s)
{
	size_t w = 0;

	s->now += STEP;
	/* deliver what is due (in send order), keep the rest */
	for (size_t r = 0; r < s->npk; r++) {
		struct pkt *p = &s->pk[r];
		struct mbr_msg msg;

		if (p->at > s->now) {
			if (w != r)
				s->pk[w] = *p;
			w++;
			continue;
		}
		if (!running(s, p->dst) || s->isolated[p->dst] || s->isolated[p->src])
			continue;
		assert_int_equal(mbr_decode(p->buf, p->len, &msg), 0);
		mbr_receive(s->node[p->dst], &msg, s->now);
	}
	s->npk = w;
	for (int i = 0; i < s->n; i++) {
		if (s->crashed[i])
			continue;
		if (!s->left[i])
			mbr_tick(s->node[i], s->now);
		collect(s, i);
		observe(s, i);
	}
}

static void run_ms(struct sim *s, uint64_t ms)
{
	uint64_t end = s->now + ms;

	while (s->now < end)
		step(s);
}

/* Every running node holds every running node as alive or suspect. */
static bool all_live(const struct sim *s)
{
	for (int i = 0; i < s->n; i++) {
		if (!running(s, i))
			continue;
		for (int j = 0; j < s->n; j++) {
			struct mbr_member_info mi;
			char nm[16];
			int l = snprintf(nm, sizeof(nm), "node-%02d", j);

			if (!running(s, j))
				continue;
			if (mbr_lookup(s->node[i], nm, (size_t)l, &mi) != 0 ||
			    (mi.state != MBR_ALIVE && mi.state != MBR_SUSPECT))
				return false;
		}
	}
	return true;
}

/* Every running node knows every running node as alive. */
static bool converged(const struct sim *s)
{
	for (int i = 0; i < s->n; i++) {
		if (!running(s, i))
			continue;
		for (int j = 0; j < s->n; j++) {
			struct mbr_member_info mi;
			char nm[16];
			int l = snprintf(nm, sizeof(nm), "node-%02d", j);

			if (!running(s, j))
				continue;
			if (mbr_lookup(s->node[i], nm, (size_t)l, &mi) != 0 ||
			    mi.state != MBR_ALIVE)
				return false;
		}
	}
	return true;
}

static uint64_t run_until_converged(struct sim *s, uint64_t limit)
{
	uint64_t start = s->now;

	while (!converged(s)) {
		assert_true(s->now - start < limit);
		step(s);
	}
	return s->now - start;
}

static uint8_t state_of(const struct sim *s, int obs, int subj)
{
	struct mbr_member_info mi;
	char nm[16];
	int l = snprintf(nm, sizeof(nm), "node-%02d", subj);

	if (mbr_lookup(s->node[obs], nm, (size_t)l, &mi) != 0)
		return 0;
	return mi.state;
}

/* ---- codec ------------------------------------------------------------- */

static void fill_msg(struct mbr_msg *m, uint8_t type, unsigned nup)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->seq = 0xdeadbeef;
	make_node(&m->from, 3, 0x0102030405060708ULL);
	m->from.name_len = MBR_NAME_MAX;
	memset(m->from.name, 'f', MBR_NAME_MAX);
	make_node(&m->target, 9, 77);
	m->target.name_len = MBR_NAME_MAX;
	memset(m->target.name, 't', MBR_NAME_MAX);
	m->n_updates = (uint8_t)nup;
	for (unsigned i = 0; i < nup; i++) {
		m->updates[i].state = (uint8_t)(MBR_ALIVE + i % 4);
		m->updates[i].node.name_len = MBR_NAME_MAX;
		memset(m->updates[i].node.name, 'a' + (int)i, MBR_NAME_MAX);
		m->updates[i].node.addr.ip = 0xc0a80000u + i;
		m->updates[i].node.addr.port = (uint16_t)(1000 + i);
		m->updates[i].node.incarnation = UINT64_MAX - i;
	}
}

static void same_node(const struct mbr_node *a, const struct mbr_node *b)
{
	assert_int_equal(a->name_len, b->name_len);
	assert_memory_equal(a->name, b->name, a->name_len);
	assert_int_equal(a->addr.ip, b->addr.ip);
	assert_int_equal(a->addr.port, b->addr.port);
	assert_true(a->incarnation == b->incarnation);
}

static void test_codec_roundtrip(void **state)
{
	(void)state;
	for (uint8_t t = MBR_MSG_PING; t <= MBR_MSG_JOIN_REPLY; t++) {
		for (unsigned nup = 0; nup <= MBR_MSG_MAX_UPDATES; nup += 7) {
			struct mbr_msg in, out;
			uint8_t buf[MBR_WIRE_MAX + 8];
			size_t len;

			fill_msg(&in, t, nup);
			len = mbr_encode(&in, buf, sizeof(buf));
			assert_true(len > 0 && len <= MBR_WIRE_MAX);
			if (nup == MBR_MSG_MAX_UPDATES && t == MBR_MSG_PING)
				assert_int_equal(len, MBR_WIRE_MAX);
			assert_int_equal(buf[0], 0x53);
			assert_int_equal(buf[1], 0x47);
			assert_int_equal(mbr_decode(buf, len, &out), 0);
			assert_int_equal(out.type, t);
			assert_int_equal(out.seq, 0xdeadbeef);
			same_node(&in.from, &out.from);
			if (t == MBR_MSG_PING || t == MBR_MSG_PING_REQ ||
			    t == MBR_MSG_INDIRECT_ACK)
				same_node(&in.target, &out.target);
			assert_int_equal(out.n_updates, nup);
			for (unsigned i = 0; i < nup; i++) {
				assert_int_equal(out.updates[i].state, in.updates[i].state);
				same_node(&in.updates[i].node, &out.updates[i].node);
			}
			/* truncation at every offset, and one trailing byte */
			for (size_t cut = 0; cut < len; cut++)
				assert_int_equal(mbr_decode(buf, cut, &out), -1);
			buf[len] = 0;
			assert_int_equal(mbr_decode(buf, len + 1, &out), -1);
			/* encoding into a buffer one byte short fails */
			assert_int_equal(mbr_encode(&in, buf, len - 1), 0);
		}
	}
}

static void test_codec_rejects(void **state)
{
	struct mbr_msg in, out;
	uint8_t buf[MBR_WIRE_MAX], bad[MBR_WIRE_MAX];
	size_t len, fl, ul;

	(void)state;
	fill_msg(&in, MBR_MSG_PING, 1);
	in.from.name_len = 5;
	len = mbr_encode(&in, buf, sizeof(buf));
	assert_true(len > 0);
	/* fixed header: magic, version, type, auth */
	struct { size_t off; uint8_t v; } hdr[] = {
		{ 0, 0x54 }, { 1, 0x57 }, { 2, 0 }, { 2, 2 }, { 3, 0 }, { 3, 7 },
		{ 8, 1 }, { 9, 32 },
	};
	for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
		memcpy(bad, buf, len);
		bad[hdr[i].off] = hdr[i].v;
		assert_int_equal(mbr_decode(bad, len, &out), -1);
	}
	/* name lengths 0 and 65 in `from` (offset 10) */
	memcpy(bad, buf, len);
	bad[10] = 0;
	assert_int_equal(mbr_decode(bad, len, &out), -1);
	bad[10] = MBR_NAME_MAX + 1;
	assert_int_equal(mbr_decode(bad, len, &out), -1);
	/* a name length claiming more bytes than remain */
	memcpy(bad, buf, len);
	assert_int_equal(mbr_decode(bad, 10 + 1 + 4, &out), -1);
	/* target name length, update count and update state */
	fl = 10 + 1 + 5 + 18;		/* from: len, name, ip, port, id, inc */
	memcpy(bad, buf, len);
	bad[fl] = 0;
	assert_int_equal(mbr_decode(bad, len, &out), -1);
	ul = fl + 1 + in.target.name_len + 18;
	memcpy(bad, buf, len);
	assert_int_equal(bad[ul], 1);
	bad[ul] = MBR_MSG_MAX_UPDATES + 1;
	assert_int_equal(mbr_decode(bad, len, &out), -1);
	bad[ul] = 2;			/* claims a second update that is absent */
	assert_int_equal(mbr_decode(bad, len, &out), -1);
	bad[ul] = 0;			/* claims none: the update is trailing */
	assert_int_equal(mbr_decode(bad, len, &out), -1);
	memcpy(bad, buf, len);
	bad[ul + 1] = 0;
	assert_int_equal(mbr_decode(bad, len, &out), -1);
	bad[ul + 1] = 5;
	assert_int_equal(mbr_decode(bad, len, &out), -1);
	bad[ul + 1] = MBR_LEFT;
	assert_int_equal(mbr_decode(bad, len, &out), 0);
	assert_int_equal(mbr_decode(NULL, len, &out), -1);

	/* the encoder refuses what the decoder would refuse */
	fill_msg(&in, MBR_MSG_ACK, 2);
	in.n_updates = MBR_MSG_MAX_UPDATES + 1;
	assert_int_equal(mbr_encode(&in, buf, sizeof(buf)), 0);
	fill_msg(&in, MBR_MSG_ACK, 2);
	in.updates[1].state = 0;
	assert_int_equal(mbr_encode(&in, buf, sizeof(buf)), 0);
	fill_msg(&in, MBR_MSG_ACK, 2);
	in.from.name_len = 0;
	assert_int_equal(mbr_encode(&in, buf, sizeof(buf)), 0);
	fill_msg(&in, MBR_MSG_PING_REQ, 0);
	in.target.name_len = MBR_NAME_MAX + 1;
	assert_int_equal(mbr_encode(&in, buf, sizeof(buf)), 0);
	fill_msg(&in, 9, 0);
	assert_int_equal(mbr_encode(&in, buf, sizeof(buf)), 0);
	/* ACK has no target: its name length does not matter */
	fill_msg(&in, MBR_MSG_ACK, 0);
	in.target.name_len = 0;
	assert_true(mbr_encode(&in, buf, sizeof(buf)) > 0);
}

/* ---- API contracts ----------------------------------------------------- */

static void test_create_and_receive_contracts(void **state)
{
	struct mbr_config cfg;
	struct mbr_node self, other;
	struct mbr_msg msg, out[4];
	struct mbr *m;

	(void)state;
	mbr_config_default(&cfg);
	make_node(&self, 0, 0);
	make_node(&other, 1, 0);
	cfg.probe_timeout = cfg.probe_interval;
	assert_null(mbr_create(&cfg, &self, 1));
	mbr_config_default(&cfg);
	cfg.max_piggyback = MBR_MSG_MAX_UPDATES + 1;
	assert_null(mbr_create(&cfg, &self, 1));
	mbr_config_default(&cfg);
	self.name_len = 0;
	assert_null(mbr_create(&cfg, &self, 1));
	make_node(&self, 0, 0);
	m = mbr_create(&cfg, &self, 1);
	assert_non_null(m);
	assert_int_equal(mbr_member_count(m), 1);
	/* suspicion and retransmission scale with log2(n+1) */
	assert_int_equal(mbr_suspicion_timeout(m), 4 * 1 * 1000);
	assert_int_equal(mbr_retransmit_limit(m), 4);

	/* a ping for another name is rejected, and so is one from ourselves */
	memset(&msg, 0, sizeof(msg));
	msg.type = MBR_MSG_PING;
	msg.seq = 5;
	msg.from = other;
	msg.target = other;
	assert_int_equal(mbr_receive(m, &msg, 10), -1);
	msg.from = self;
	msg.target = self;
	assert_int_equal(mbr_receive(m, &msg, 10), -1);
	/* a proper ping: the sender joins and gets an ack with the same seq */
	msg.from = other;
	assert_int_equal(mbr_receive(m, &msg, 10), 0);
	assert_int_equal(mbr_member_count(m), 2);
	assert_int_equal(mbr_poll_send(m, out, 4), 1);
	assert_int_equal(out[0].type, MBR_MSG_ACK);
	assert_int_equal(out[0].seq, 5);
	assert_int_equal(out[0].dst.ip, other.addr.ip);
	/* n = 2: ceil(log2 3) = 2 */
	assert_int_equal(mbr_suspicion_timeout(m), 4 * 2 * 1000);
	/* a dead update about an unknown node teaches nothing */
	msg.n_updates = 1;
	msg.updates[0].state = MBR_DEAD;
	make_node(&msg.updates[0].node, 7, 3);
	assert_int_equal(mbr_receive(m, &msg, 20), 0);
	assert_int_equal(mbr_member_count(m), 2);
	/* join with our own address only contacts nobody */
	assert_int_equal(mbr_join(m, &self.addr, 1, 30), 0);
	mbr_destroy(m);
}

/* A lone node whose only peer never answers: probes fail, health degrades
 * (Lifeguard), its probe timeout scales, and the peer goes suspect -> dead. */
static void test_awareness_and_suspicion_timer(void **state)
{
	struct mbr_config cfg;
	struct mbr_node self, other;
	struct mbr_msg msg, out[8];
	struct mbr_event ev[8];
	struct mbr_member_info mi;
	struct mbr *m;
	uint64_t now = 0, suspect_at = 0, dead_at = 0;

	(void)state;
	mbr_config_default(&cfg);
	make_node(&self, 0, 0);
	make_node(&other, 1, 0);
	m = mbr_create(&cfg, &self, 42);
	memset(&msg, 0, sizeof(msg));
	msg.type = MBR_MSG_JOIN;
	msg.from = other;
	assert_int_equal(mbr_receive(m, &msg, now), 0);
	while (now < 60000 && dead_at == 0) {
		size_t k;

		now += 10;
		mbr_tick(m, now);
		while (mbr_poll_send(m, out, 8) > 0)
			;
		while ((k = mbr_poll_events(m, ev, 8)) > 0)
			for (size_t i = 0; i < k; i++) {
				if (ev[i].type == MBR_EV_SUSPECT)
					suspect_at = ev[i].at;
				if (ev[i].type == MBR_EV_DEAD)
					dead_at = ev[i].at;
			}
	}
	assert_true(suspect_at > 0);
	assert_true(dead_at > suspect_at);
	/* the suspect still counts in n: 4 x ceil(log2 3) x 1000 */
	assert_int_equal(dead_at - suspect_at, 8000);
	assert_int_equal(mbr_lookup(m, other.name, other.name_len, &mi), 0);
	assert_int_equal(mi.state, MBR_DEAD);
	/* the first probe failed: awareness went up */
	assert_true(mbr_awareness(m) >= 1);
	mbr_destroy(m);
}

/* ---- simulation -------------------------------------------------------- */

/* Seeds per simulated case: `dflt`, or MEMBER_SEEDS from the environment
 * for a longer soak run (e.g. MEMBER_SEEDS=200). */
static uint64_t n_seeds(uint64_t dflt)
{
	const char *e = getenv("MEMBER_SEEDS");
	long v = e ? strtol(e, NULL, 10) : 0;

	return v > 0 ? (uint64_t)v : dflt;
}

static void converge_case(int n, uint64_t seed, unsigned drop)
{
	struct sim s;
	uint64_t t;

	sim_init(&s, n, seed, drop, 100);
	sim_join_all(&s);
	t = run_until_converged(&s, 60000);
	printf("# converge n=%d seed=%llu drop=%u%%: %llu ms\n", n,
	       (unsigned long long)seed, drop, (unsigned long long)t);
	for (int i = 0; i < n; i++)
		assert_int_equal(mbr_member_count(s.node[i]), n);
	sim_free(&s);
}

static void test_converge(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= n_seeds(3); seed++) {
		converge_case(3, seed, 0);
		converge_case(5, seed, 0);
		converge_case(16, seed, 0);
		converge_case(16, seed, 10);
	}
}

/* Documented bound on crash detection at every live node (docs). */
static uint64_t detect_bound(const struct sim *s)
{
	uint64_t T = s->cfg.probe_interval;
	unsigned l = 0;

	while ((1u << l) < (unsigned)s->n + 1)
		l++;
	return 2 * (uint64_t)s->n * T + (uint64_t)s->cfg.suspicion_mult * l * T;
}

static void crash_case(int n, uint64_t seed, unsigned drop)
{
	struct sim s;
	int victim = n - 1;
	uint64_t crash_at, first = UINT64_MAX, last = 0;
	bool all;

	sim_init(&s, n, seed, drop, 100);
	sim_join_all(&s);
	run_until_converged(&s, 60000);
	run_ms(&s, 5000);
	crash_at = s.now;
	s.crashed[victim] = true;
	do {
		step(&s);
		assert_true(s.now - crash_at <= detect_bound(&s));
		all = true;
		for (int i = 0; i < n; i++)
			if (i != victim && s.dead_at[i][victim] == 0)
				all = false;
	} while (!all);
	for (int i = 0; i < n; i++) {
		if (i == victim)
			continue;
		if (s.dead_at[i][victim] - crash_at < first)
			first = s.dead_at[i][victim] - crash_at;
		if (s.dead_at[i][victim] - crash_at > last)
			last = s.dead_at[i][victim] - crash_at;
		assert_int_equal(state_of(&s, i, victim), MBR_DEAD);
	}
	printf("# crash n=%d seed=%llu drop=%u%%: first dead %llu ms, all %llu ms "
	       "(bound %llu ms, suspicion %llu ms)\n", n, (unsigned long long)seed,
	       drop, (unsigned long long)first, (unsigned long long)last,
	       (unsigned long long)detect_bound(&s),
	       (unsigned long long)mbr_suspicion_timeout(s.node[0]));
	assert_int_equal(s.false_dead, 0);
	sim_free(&s);
}

static void test_crash_detected(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= n_seeds(3); seed++) {
		crash_case(3, seed, 0);
		crash_case(5, seed, 0);
		crash_case(16, seed, 0);
		crash_case(16, seed, 10);
	}
}

static void test_loss_no_false_dead(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= n_seeds(2); seed++) {
		struct sim s;
		struct mbr_stats st;
		uint64_t refutes = 0;

		sim_init(&s, 16, seed, 10, 100);
		sim_join_all(&s);
		run_until_converged(&s, 60000);
		run_ms(&s, 600000);	/* ten minutes at 10% loss */
		for (int i = 0; i < s.n; i++) {
			mbr_get_stats(s.node[i], &st);
			refutes += st.refutes;
		}
		printf("# loss 10%% n=16 seed=%llu 600 s: %u suspicions, %llu refutes, "
		       "%u false dead, %llu datagrams\n", (unsigned long long)seed,
		       s.suspects, (unsigned long long)refutes, s.false_dead,
		       (unsigned long long)s.sent);
		assert_int_equal(s.false_dead, 0);
		assert_true(all_live(&s));
		sim_free(&s);
	}
}

static void test_false_suspicion_refuted(void **state)
{
	struct sim s;
	int x = 3;
	bool suspected = false;

	(void)state;
	sim_init(&s, 5, 11, 0, 100);
	sim_join_all(&s);
	run_until_converged(&s, 60000);
	assert_int_equal(mbr_incarnation(s.node[x]), 0);
	/* cut x off for well under the suspicion timeout (12 s at n = 5) */
	s.isolated[x] = true;
	for (int t = 0; t < 6000 / STEP; t++) {
		step(&s);
		for (int i = 0; i < s.n; i++)
			if (i != x && state_of(&s, i, x) == MBR_SUSPECT)
				suspected = true;
	}
	assert_true(suspected);
	s.isolated[x] = false;
	run_until_converged(&s, 20000);
	assert_true(mbr_incarnation(s.node[x]) >= 1);
	for (int i = 0; i < s.n; i++) {
		struct mbr_member_info mi;

		assert_int_equal(mbr_lookup(s.node[i], "node-03", 7, &mi), 0);
		assert_int_equal(mi.state, MBR_ALIVE);
		assert_true(mi.node.incarnation == mbr_incarnation(s.node[x]));
		assert_int_equal(s.dead_at[i][x], 0);
	}
	assert_true(s.alive_again > 0);
	assert_int_equal(s.false_dead, 0);
	sim_free(&s);
}

static void test_graceful_leave(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= n_seeds(3); seed++) {
		struct sim s;
		int x = 2;
		uint64_t at, inc;
		bool all = false;

		sim_init(&s, 16, seed, 10, 100);
		sim_join_all(&s);
		run_until_converged(&s, 60000);
		at = s.now;
		inc = mbr_incarnation(s.node[x]);
		mbr_leave(s.node[x], s.now);
		collect(&s, x);
		observe(&s, x);
		s.left[x] = true;
		assert_true(mbr_incarnation(s.node[x]) == inc + 1);
		while (!all) {
			step(&s);
			assert_true(s.now - at < 10000);
			all = true;
			for (int i = 0; i < s.n; i++)
				if (i != x && s.left_at[i][x] == 0)
					all = false;
		}
		printf("# leave n=16 seed=%llu drop=10%%: seen by all in %llu ms\n",
		       (unsigned long long)seed, (unsigned long long)(s.now - at));
		run_ms(&s, 30000);
		for (int i = 0; i < s.n; i++) {
			if (i == x)
				continue;
			assert_int_equal(state_of(&s, i, x), MBR_LEFT);
			assert_int_equal(s.dead_at[i][x], 0);
		}
		assert_int_equal(s.false_dead, 0);
		sim_free(&s);
	}
}

static void restart_case(uint64_t new_inc)
{
	struct sim s;
	int x = 4;
	struct mbr_addr seed = addr_of(0);
	bool all = false;

	sim_init(&s, 5, 5 + new_inc, 0, 100);
	sim_join_all(&s);
	run_until_converged(&s, 60000);
	s.crashed[x] = true;
	while (!all) {
		step(&s);
		all = true;
		for (int i = 0; i < s.n; i++)
			if (i != x && s.dead_at[i][x] == 0)
				all = false;
	}
	mbr_destroy(s.node[x]);
	start_node(&s, x, new_inc);
	assert_int_equal(mbr_join(s.node[x], &seed, 1, s.now), 1);
	run_until_converged(&s, 30000);
	for (int i = 0; i < s.n; i++) {
		struct mbr_member_info mi;

		if (i == x)
			continue;
		assert_int_equal(mbr_lookup(s.node[i], "node-04", 7, &mi), 0);
		assert_int_equal(mi.state, MBR_ALIVE);
		assert_true(mi.node.incarnation >= 1);
		assert_int_equal(s.joined_after_dead[i][x], 1);
	}
	/* restarted at the old incarnation: it refuted its own death */
	if (new_inc == 0)
		assert_true(mbr_incarnation(s.node[x]) >= 1);
	else
		assert_true(mbr_incarnation(s.node[x]) == new_inc);
	assert_int_equal(s.false_dead, 0);
	sim_free(&s);
}

static void test_restart_rejoins(void **state)
{
	(void)state;
	restart_case(1);	/* the caller persisted and raised it */
	restart_case(0);	/* not persisted: refutation bumps it */
}

static void test_replay_is_deterministic(void **state)
{
	uint64_t d[2];

	(void)state;
	for (int r = 0; r < 2; r++) {
		struct sim s;

		sim_init(&s, 5, 99, 20, 150);
		sim_join_all(&s);
		run_ms(&s, 20000);
		s.crashed[1] = true;
		run_ms(&s, 20000);
		d[r] = s.digest ^ s.sent;
		sim_free(&s);
	}
	assert_true(d[0] == d[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_rejects),
		cmocka_unit_test(test_create_and_receive_contracts),
		cmocka_unit_test(test_awareness_and_suspicion_timer),
		cmocka_unit_test(test_converge),
		cmocka_unit_test(test_crash_detected),
		cmocka_unit_test(test_loss_no_false_dead),
		cmocka_unit_test(test_false_suspicion_refuted),
		cmocka_unit_test(test_graceful_leave),
		cmocka_unit_test(test_restart_rejoins),
		cmocka_unit_test(test_replay_is_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
