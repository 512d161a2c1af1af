/*
 * test_swd_shed.c - the shedding decision of swarmd's workers (swd_shed.c):
 * which datagrams may be shed, the level controller, the spreading of
 * sheds over datagrams, the retry hint, the answer on the wire, and a
 * queue model of one worker (512-frame port ring, its FIFO) below, at and
 * above its capacity, with even arrivals and with waves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "swd.h"

/* A request datagram header with one op of opcode op (body empty). */
static size_t
dgram(uint8_t *d, uint8_t op)
{
	struct proto_enc e;

	assert_int_equal(proto_req_init(&e, d, PROTO_MAX_DGRAM,
			0x0102030405060708ull), 0);
	assert_int_equal(proto_req_add_raw(&e, op, 0, NULL, 0), 0);
	return proto_enc_finish(&e);
}

static void
test_classify(void **state)
{
	uint8_t d[PROTO_MAX_DGRAM + 1];
	size_t len;

	(void)state;
	len = dgram(d, PROTO_OP_REGISTER);
	assert_int_equal(swd_shed_classify(d, len), SWD_SHED_WRITE);
	len = dgram(d, PROTO_OP_UNREGISTER);
	assert_int_equal(swd_shed_classify(d, len), SWD_SHED_WRITE);
	len = dgram(d, PROTO_OP_WHEREIS_OR_REGISTER);
	assert_int_equal(swd_shed_classify(d, len), SWD_SHED_WRITE);
	len = dgram(d, PROTO_OP_JOIN);
	assert_int_equal(swd_shed_classify(d, len), SWD_SHED_WRITE);
	len = dgram(d, PROTO_OP_LEAVE);
	assert_int_equal(swd_shed_classify(d, len), SWD_SHED_WRITE);
	len = dgram(d, PROTO_OP_WHEREIS);
	assert_int_equal(swd_shed_classify(d, len), SWD_SHED_LOOKUP);
	len = dgram(d, PROTO_OP_REGISTERED);
	assert_int_equal(swd_shed_classify(d, len), SWD_SHED_READ);
	len = dgram(d, PROTO_OP_MEMBERS);
	assert_int_equal(swd_shed_classify(d, len), SWD_SHED_READ);
	len = dgram(d, 0x7e);	/* unknown opcodes cost little: reads */
	assert_int_equal(swd_shed_classify(d, len), SWD_SHED_READ);
	len = dgram(d, PROTO_OP_STATUS);
	assert_int_equal(swd_shed_classify(d, len), SWD_SHED_NODE);
	len = dgram(d, PROTO_OP_STATS);
	assert_int_equal(swd_shed_classify(d, len), SWD_SHED_NODE);
	len = dgram(d, PROTO_OP_READINESS);
	assert_int_equal(swd_shed_classify(d, len), SWD_SHED_NODE);

	/* REPLICAS is a request flag: still a request */
	len = dgram(d, PROTO_OP_REGISTER);
	d[3] = 2u << PROTO_FLAG_REPLICAS_SHIFT;
	assert_int_equal(swd_shed_classify(d, len), SWD_SHED_WRITE);
}

/* What lib/exec drops or answers with an error is never shed. */
static void
test_classify_not_ours(void **state)
{
	uint8_t d[PROTO_MAX_DGRAM + 1], c[PROTO_MAX_DGRAM + 1];
	size_t len;

	(void)state;
	len = dgram(d, PROTO_OP_REGISTER);
	memcpy(c, d, len);
	c[3] |= PROTO_FLAG_REPLY;		/* a reply: never answered */
	assert_int_equal(swd_shed_classify(c, len), SWD_SHED_EXEC);
	memcpy(c, d, len);
	c[0] = 'X';				/* not this protocol */
	assert_int_equal(swd_shed_classify(c, len), SWD_SHED_EXEC);
	memcpy(c, d, len);
	c[2] = 2;				/* bad_version */
	assert_int_equal(swd_shed_classify(c, len), SWD_SHED_EXEC);
	memcpy(c, d, len);
	c[3] = 0x80;				/* reserved flag: bad_request */
	assert_int_equal(swd_shed_classify(c, len), SWD_SHED_EXEC);
	memcpy(c, d, len);
	c[15] = 1;				/* reserved bytes */
	assert_int_equal(swd_shed_classify(c, len), SWD_SHED_EXEC);
	memcpy(c, d, len);
	c[12] = c[13] = 0;			/* op count 0 */
	assert_int_equal(swd_shed_classify(c, len), SWD_SHED_EXEC);
	assert_int_equal(swd_shed_classify(d, PROTO_HDR_LEN), SWD_SHED_EXEC);
	assert_int_equal(swd_shed_classify(d, 3), SWD_SHED_EXEC);
	memset(c, 0, sizeof(c));
	memcpy(c, d, len);
	assert_int_equal(swd_shed_classify(c, PROTO_MAX_DGRAM), SWD_SHED_WRITE);
	assert_int_equal(swd_shed_classify(c, PROTO_MAX_DGRAM + 1),
			SWD_SHED_EXEC);		/* too_large */
}

/* Frames waiting in a full poll, and one less. */
#define FULL	SWD_SHED_TARGET
#define SHORT	(SWD_SHED_TARGET - 1)

static void
polls(struct swd_shed *s, unsigned int n, uint32_t waiting, uint64_t missed,
		uint64_t now)
{
	while (n-- > 0)
		swd_shed_poll(s, waiting, 32, missed, now);
}

/* A standing queue alone (a client window, nothing lost) sheds nothing. */
static void
test_full_bursts_without_loss(void **state)
{
	struct swd_shed s;

	(void)state;
	swd_shed_init(&s);
	polls(&s, 100000, 32, 0, 1000);
	assert_int_equal(s.level, 0);
	polls(&s, 100000, FULL, 0, 1000);
	assert_int_equal(s.level, 0);
	polls(&s, 100000, SWD_SHED_ARM_DEPTH - 1, 0, 1000);
	assert_int_equal(s.level, 0);
	assert_false(swd_shed_armed(&s, 1000));
	polls(&s, 100, 31, 0, 2000);
	assert_int_equal(s.level, 0);
}

static void
test_level_controller(void **state)
{
	struct swd_shed s;
	uint64_t now = 5000;

	(void)state;
	swd_shed_init(&s);
	/* losses, but little waiting: this worker is not behind */
	polls(&s, 100, SHORT, 7, now);
	assert_int_equal(s.level, 0);
	assert_true(swd_shed_armed(&s, now));
	/* full for SWD_SHED_FULL_POLLS polls in a row: level 1, then +1 */
	polls(&s, SWD_SHED_FULL_POLLS - 1, FULL, 7, now);
	assert_int_equal(s.level, 0);
	polls(&s, 1, FULL, 7, now);
	assert_int_equal(s.level, 1);
	polls(&s, 5, 3 * FULL, 7, now);
	assert_int_equal(s.level, 6);
	/* one short poll breaks the run */
	polls(&s, 1, SHORT, 7, now);
	polls(&s, SWD_SHED_FULL_POLLS - 1, FULL, 7, now);
	assert_int_equal(s.level, 6);
	polls(&s, 1, FULL, 7, now);
	assert_int_equal(s.level, 7);
	/* capped */
	polls(&s, 1000, FULL, 8, now);
	assert_int_equal(s.level, SWD_SHED_LEVEL_MAX);
	/* SWD_SHED_CALM_POLLS short polls in a row: one level down */
	polls(&s, SWD_SHED_CALM_POLLS - 1, 0, 8, now);
	assert_int_equal(s.level, SWD_SHED_LEVEL_MAX);
	polls(&s, 1, 0, 8, now);
	assert_int_equal(s.level, SWD_SHED_LEVEL_MAX - 1);
	polls(&s, 3 * SWD_SHED_CALM_POLLS, 5, 8, now);
	assert_int_equal(s.level, SWD_SHED_LEVEL_MAX - 4);
	/* still armed just before SWD_SHED_ARM_MS after the last loss */
	polls(&s, SWD_SHED_FULL_POLLS + 1, FULL, 8, now + SWD_SHED_ARM_MS - 1);
	assert_int_equal(s.level, SWD_SHED_LEVEL_MAX - 2);
	/* no loss for SWD_SHED_ARM_MS: full polls wind it down */
	assert_false(swd_shed_armed(&s, now + SWD_SHED_ARM_MS));
	polls(&s, 1, FULL, 8, now + SWD_SHED_ARM_MS);
	assert_int_equal(s.level, SWD_SHED_LEVEL_MAX - 3);
	polls(&s, 1000, FULL, 8, now + SWD_SHED_ARM_MS);
	assert_int_equal(s.level, 0);
	/* a new loss arms it again: the run of full polls goes on */
	polls(&s, 3, FULL, 9, now + SWD_SHED_ARM_MS + 1);
	assert_int_equal(s.level, 3);
	/* and an idle worker comes down on its own */
	polls(&s, 3 * SWD_SHED_CALM_POLLS, 0, 9, now + SWD_SHED_ARM_MS + 1);
	assert_int_equal(s.level, 0);
}

/* SWD_SHED_ARM_DEPTH frames waiting arm it as a loss does. */
static void
test_armed_by_depth(void **state)
{
	struct swd_shed s;

	(void)state;
	swd_shed_init(&s);
	polls(&s, 1, SWD_SHED_ARM_DEPTH, 0, 100);
	assert_true(swd_shed_armed(&s, 100 + SWD_SHED_ARM_MS - 1));
	assert_false(swd_shed_armed(&s, 100 + SWD_SHED_ARM_MS));
	polls(&s, SWD_SHED_FULL_POLLS - 1, FULL, 0, 200);
	assert_int_equal(s.level, 1);
	/* it stays armed while the depth is there, at any time */
	polls(&s, 1, SWD_SHED_ARM_DEPTH, 0, 50000);
	assert_int_equal(s.level, 2);
	polls(&s, 1, SWD_SHED_ARM_DEPTH + 1, 0, 50000 + SWD_SHED_ARM_MS);
	assert_int_equal(s.level, 3);
}

/* Of n datagrams of class c at level l, how many are shed. */
static unsigned int
shed_of(unsigned int l, enum swd_shed_class c, unsigned int n)
{
	struct swd_shed s;
	unsigned int k = 0;

	swd_shed_init(&s);
	s.level = (uint16_t)l;
	while (n-- > 0)
		k += swd_shed_take(&s, c);
	return k;
}

static void
test_take(void **state)
{
	unsigned int l;

	(void)state;
	for (l = 0; l <= SWD_SHED_LEVEL_MAX; l++) {
		unsigned int w = l > SWD_SHED_STEPS ? SWD_SHED_STEPS : l;
		unsigned int r = l > SWD_SHED_STEPS ? l - SWD_SHED_STEPS : 0;

		/* exactly level/16 of every 16 datagrams, writes first */
		assert_int_equal(shed_of(l, SWD_SHED_WRITE, 16), w);
		assert_int_equal(shed_of(l, SWD_SHED_READ, 16), r);
		assert_int_equal(shed_of(l, SWD_SHED_WRITE, 1600), 100 * w);
		assert_int_equal(shed_of(l, SWD_SHED_READ, 1600), 100 * r);
		assert_int_equal(shed_of(l, SWD_SHED_NODE, 100), 0);
		assert_int_equal(shed_of(l, SWD_SHED_LOOKUP, 100), 0);
		assert_int_equal(shed_of(l, SWD_SHED_EXEC, 100), 0);
	}
}

/* Sheds are spread: at level 8, every other write; reads untouched. */
static void
test_take_spread(void **state)
{
	struct swd_shed s;
	unsigned int i, run = 0, longest = 0;

	(void)state;
	swd_shed_init(&s);
	s.level = SWD_SHED_STEPS / 2;
	for (i = 0; i < 64; i++) {
		bool t = swd_shed_take(&s, SWD_SHED_WRITE);

		run = t ? run + 1 : 0;
		longest = run > longest ? run : longest;
		assert_false(swd_shed_take(&s, SWD_SHED_READ));
	}
	assert_int_equal(longest, 1);
}

/* One hint step in which `handled` frames were handled, `shed` shed. */
static void
hint_round(struct swd_shed *s, uint64_t *now, uint32_t handled,
		uint32_t shed)
{
	polls(s, 1, handled, 0, *now + 1);
	s->level = SWD_SHED_STEPS;
	while (s->step_shed < shed)
		assert_true(swd_shed_take(s, SWD_SHED_WRITE));
	s->level = 0;
	*now += SWD_SHED_HINT_STEP_MS;
	polls(s, 1, 0, 0, *now);
}

/*
 * The hint doubles every step in which more than half of the frames
 * handled were shed, halves in a step with less than 1/8 shed, and stays
 * in between.
 */
static void
test_retry_hint(void **state)
{
	struct swd_shed s;
	uint64_t now = 1000;
	uint32_t want = SWD_SHED_HINT_MIN_MS;
	unsigned int i;

	(void)state;
	swd_shed_init(&s);
	assert_int_equal(swd_shed_retry_ms(&s), SWD_SHED_HINT_MIN_MS);
	polls(&s, 1, 0, 0, now);		/* the first step: no shed */
	assert_int_equal(swd_shed_retry_ms(&s), SWD_SHED_HINT_MIN_MS);
	for (i = 0; i < 10; i++) {
		hint_round(&s, &now, 16, 9);
		want = want * 2 > SWD_SHED_HINT_MAX_MS ? SWD_SHED_HINT_MAX_MS :
			want * 2;
		assert_int_equal(swd_shed_retry_ms(&s), want);
	}
	assert_int_equal(want, SWD_SHED_HINT_MAX_MS);
	/* not before the step is over */
	polls(&s, 1, 0, 0, now + SWD_SHED_HINT_STEP_MS - 1);
	assert_int_equal(swd_shed_retry_ms(&s), SWD_SHED_HINT_MAX_MS);
	/* half, or 1/8 shed: the hint stays */
	hint_round(&s, &now, 16, 8);
	assert_int_equal(swd_shed_retry_ms(&s), SWD_SHED_HINT_MAX_MS);
	hint_round(&s, &now, 16, 2);
	assert_int_equal(swd_shed_retry_ms(&s), SWD_SHED_HINT_MAX_MS);
	/* less than 1/8: halves */
	hint_round(&s, &now, 32, 3);
	assert_int_equal(swd_shed_retry_ms(&s), SWD_SHED_HINT_MAX_MS / 2);
	/* nothing shed, nothing handled: down to the minimum */
	for (i = 0; i < 10; i++) {
		now += SWD_SHED_HINT_STEP_MS;
		polls(&s, 1, 0, 0, now);
	}
	assert_int_equal(swd_shed_retry_ms(&s), SWD_SHED_HINT_MIN_MS);
	/* what is not shed does not count */
	s.level = 0;
	assert_false(swd_shed_take(&s, SWD_SHED_WRITE));
	s.level = SWD_SHED_LEVEL_MAX;
	assert_false(swd_shed_take(&s, SWD_SHED_NODE));
	assert_int_equal(s.step_shed, 0);
}

/* Each answer's hint: within +-50 % of the hint, spread, mean the hint. */
static void
test_hint_jitter(void **state)
{
	const uint32_t hints[] = { SWD_SHED_HINT_MIN_MS, 11, 640,
		SWD_SHED_HINT_MAX_MS };
	unsigned int h, i, low, high;
	struct swd_shed s;

	(void)state;
	swd_shed_init(&s);
	for (h = 0; h < RTE_DIM(hints); h++) {
		uint32_t base = hints[h], lo = UINT32_MAX, hi = 0;
		uint64_t sum = 0;

		s.hint_ms = base;
		low = high = 0;
		for (i = 0; i < 10000; i++) {
			uint32_t v = swd_shed_hint(&s);

			assert_true(v >= base / 2 && v < base / 2 + base);
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
			low += v < base;
			high += v >= base;
			sum += v;
		}
		assert_int_equal(swd_shed_retry_ms(&s), base);
		assert_true(lo == base / 2 && hi == base / 2 + base - 1);
		assert_true(low > 4000 && high > 4000);
		assert_true(sum / 10000 + 2 >= base - base / 20 &&
			    sum / 10000 <= base + base / 20);
	}
}

/* The answer: the request id, one datagram-level `overloaded`. */
static void
test_reply(void **state)
{
	uint8_t d[PROTO_MAX_DGRAM], rep[64];
	struct proto_rep r;
	struct proto_reply op;
	size_t len, rlen;

	(void)state;
	len = dgram(d, PROTO_OP_REGISTER);
	rlen = swd_shed_reply(rep, sizeof(rep), d, len, 40);
	assert_int_equal(rlen, PROTO_HDR_LEN + PROTO_REP_HDR_LEN + 4);
	assert_int_equal(proto_rep_parse(&r, rep, rlen), 0);
	assert_true(r.req_id == 0x0102030405060708ull);
	assert_int_equal(r.nops, 1);
	assert_int_equal(proto_rep_next(&r, &op), 0);
	assert_int_equal(op.index, PROTO_INDEX_DGRAM);
	assert_int_equal(op.opcode, 0);
	assert_int_equal(op.status, PROTO_ST_OVERLOADED);
	assert_int_equal(op.u.retry_after_ms, 40);
	assert_int_equal(proto_rep_next(&r, &op), PROTO_END);
	/* no room, or no header: nothing */
	assert_int_equal(swd_shed_reply(rep, rlen - 1, d, len, 40), 0);
	assert_int_equal(swd_shed_reply(rep, sizeof(rep), d, 15, 40), 0);
}

/*
 * A queue model of one worker: requests arrive at `load` times what it
 * can execute into the port's ring of 512 frames (the net_af_packet
 * default), whose overflow is counted (rx.missed, seen every
 * SWD_PORT_SAMPLE_MS). The worker drains the ring into its FIFO of
 * SWD_RXQ_SIZE (0.3 us a frame: the af_packet copy), then handles a burst
 * of 32: executing a request costs 25 us, shedding it 9 us (the rx and tx
 * around it), as measured on a 2-vCPU VM over af_packet.
 *
 * Arrivals are even, or come in waves: a client that resends by a timer
 * (swarm-storm scans every 25 ms) sends each 25 ms worth at once, at
 * 2 us a datagram. window > 0: a closed loop of that many requests in
 * flight instead.
 */
struct model {
	uint64_t arrived, lost, executed, shed, max_wait;
};

#define M_EXEC_US	25.0
#define M_SHED_US	9.0
#define M_RX_US		0.3
#define M_RING		512u
#define M_BURST		32u

static void
model_run(double load, bool waves, unsigned int window, double seconds,
		struct model *o)
{
	const double period = 25000, gap = 2;	/* waves, us */
	double t = 0, credit = 0, last = 0;
	uint64_t seen_missed = 0, next_sample = 0, due = 0;
	unsigned int ring = 0, fifo = 0;
	struct swd_shed s;

	memset(o, 0, sizeof(*o));
	swd_shed_init(&s);
	while (t < seconds * 1e6) {
		uint64_t now = (uint64_t)(t / 1000), k;
		unsigned int n, i;

		if (window != 0) {	/* answers free their slots */
			o->arrived += window - ring - fifo;
			ring = window - fifo;
		} else {
			if (!waves) {
				credit += (t - last) * load / M_EXEC_US;
			} else {	/* due: arrivals of the waves begun */
				double w0 = (double)(uint64_t)(t / period) *
					period, per = period * load / M_EXEC_US;
				double in = (t - w0) / gap;

				k = (uint64_t)(t / period) * (uint64_t)per +
					(uint64_t)(in < per ? in : per);
				credit += (double)(k - due);
				due = k;
			}
			last = t;
			for (; credit >= 1; credit -= 1) {
				o->arrived++;
				if (ring < M_RING)
					ring++;
				else
					o->lost++;
			}
		}
		if (now >= next_sample) {
			seen_missed = o->lost;
			next_sample = now + SWD_PORT_SAMPLE_MS;
		}
		n = ring < SWD_RXQ_SIZE - fifo ? ring : SWD_RXQ_SIZE - fifo;
		ring -= n;
		fifo += n;
		t += n * M_RX_US + 0.2;
		if (fifo > o->max_wait)
			o->max_wait = fifo;
		swd_shed_poll(&s, fifo, M_BURST, seen_missed, now);
		n = fifo < M_BURST ? fifo : M_BURST;
		fifo -= n;
		for (i = 0; i < n; i++) {
			if (swd_shed_take(&s, SWD_SHED_WRITE)) {
				o->shed++;
				t += M_SHED_US;
			} else {
				o->executed++;
				t += M_EXEC_US;
			}
		}
	}
}

static void
test_model_below_capacity(void **state)
{
	struct model m;

	(void)state;
	model_run(0.9, false, 0, 3, &m);
	assert_true(m.lost == 0 && m.shed == 0);
	/* waves below capacity: the FIFO takes them, nothing is shed */
	model_run(0.9, true, 0, 3, &m);
	assert_true(m.lost == 0 && m.shed == 0);
	assert_true(m.max_wait > 500);
	/* closed loops at full speed: a burst and more waiting, nothing shed */
	model_run(1, false, 64, 3, &m);
	assert_true(m.lost == 0 && m.shed == 0);
	assert_true(m.executed > 100000);
	model_run(1, false, 512, 3, &m);
	assert_true(m.lost == 0 && m.shed == 0);
}

static void
check_overload(double load, bool waves)
{
	/* executing (1 - f) and shedding f keeps up when
	 * (1 - f) * 25 + f * 9 <= 25 / load (the rx copy aside) */
	double f_min = (M_EXEC_US - M_EXEC_US / load) / (M_EXEC_US - M_SHED_US);
	double lost, shed, exec_max;	/* exec_max: the most it can */
	struct model m;

	model_run(load, waves, 0, 5, &m);
	lost = (double)m.lost / (double)m.arrived;
	shed = (double)m.shed / (double)m.arrived;
	exec_max = (1 - f_min) * (double)m.arrived;
	print_message("load %.1fx%s: arrived %llu lost %.4f shed %.3f "
		"(least possible %.3f) executed %.0f%% of the most possible, "
		"most waiting %llu\n", load, waves ? " in waves" : "",
		(unsigned long long)m.arrived, lost, shed, f_min,
		100.0 * (double)m.executed / exec_max,
		(unsigned long long)m.max_wait);
	assert_true(m.lost == 0);
	/* and sheds at most 5 points more of the requests than it must */
	assert_true(shed < f_min + 0.05);
}

static void
test_model_overload(void **state)
{
	(void)state;
	check_overload(1.3, false);
	check_overload(2, false);
	check_overload(2, true);
	/* at 25/9 = 2.8x shedding every request would take the whole core:
	 * beyond that the ring overflows whatever is shed (rx.missed) */
	check_overload(2.5, false);
	check_overload(2.5, true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_classify_not_ours),
		cmocka_unit_test(test_full_bursts_without_loss),
		cmocka_unit_test(test_level_controller),
		cmocka_unit_test(test_armed_by_depth),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_take_spread),
		cmocka_unit_test(test_retry_hint),
		cmocka_unit_test(test_hint_jitter),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_model_below_capacity),
		cmocka_unit_test(test_model_overload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
