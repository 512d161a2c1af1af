/*
 * swd_shed.c - load shedding: while a worker is behind, answer a share of
 * the request datagrams `overloaded` (datagram level, op index 0xFFFF,
 * with a retry hint) instead of executing them, so that clients back off
 * instead of timing out on requests the port would have dropped unseen.
 *
 * Everything here is pure (no DPDK call, no clock, no shared state): the
 * worker loop feeds swd_shed_poll() the depth of its rx FIFO, the port's
 * rx.missed counter and the time, and asks swd_shed_take() per client
 * datagram. The policy is described in swd.h and docs/operations.md
 * ("Overload").
 *
 * Why full bursts alone do not start shedding: a client that keeps a
 * window of requests in flight (swarm-storm --window 64, the dataplane
 * benchmark with 512) keeps a whole burst or more waiting at capacity
 * while nothing is lost, and shedding would only slow it down; and a
 * client that resends by a timer sends waves the FIFO absorbs. A worker
 * is behind when far more is waiting (SWD_SHED_ARM_DEPTH), or when frames
 * are being lost (rx.missed); then polls that find SWD_SHED_TARGET frames
 * waiting say by how much, and the level settles where about that many
 * wait: a few ms of work.
 */
#include <string.h>

#include "swd.h"

void
swd_shed_init(struct swd_shed *s)
{
	memset(s, 0, sizeof(*s));
	s->hint_ms = SWD_SHED_HINT_MIN_MS;
	s->rng = 0x9e3779b9u;
}

/*
 * Every SWD_SHED_HINT_STEP_MS: double the hint when more than half of what
 * was handled was shed, halve it when less than 1/8 was, else keep it.
 * (Shortening it whenever the worker runs dry was tried: a client with
 * thousands of requests waiting out a short hint comes back as one wave,
 * which overflows the FIFO, and the worker sheds more than it executes.)
 */
static void
hint_step(struct swd_shed *s, uint64_t now)
{
	uint64_t shed = s->step_shed, handled = s->step_handled;

	if (now < s->hint_next)
		return;
	if (shed * 2 > handled)
		s->hint_ms = s->hint_ms >= SWD_SHED_HINT_MAX_MS / 2 ?
			SWD_SHED_HINT_MAX_MS : s->hint_ms * 2;
	else if (shed * 8 < handled || handled == 0)
		s->hint_ms = s->hint_ms <= 2 * SWD_SHED_HINT_MIN_MS ?
			SWD_SHED_HINT_MIN_MS : s->hint_ms / 2;
	s->step_shed = s->step_handled = 0;
	s->hint_next = now + SWD_SHED_HINT_STEP_MS;
}

static void
level_down(struct swd_shed *s)
{
	if (s->level > 0)
		s->level--;
}

void
swd_shed_poll(struct swd_shed *s, uint32_t waiting, uint32_t burst,
		uint64_t missed, uint64_t now)
{
	hint_step(s, now);
	s->step_handled += waiting < burst ? waiting : burst;
	if (missed != s->misses || waiting >= SWD_SHED_ARM_DEPTH) {
		s->misses = missed;
		s->armed_until = now + SWD_SHED_ARM_MS;
	}
	if (waiting >= burst && waiting >= SWD_SHED_TARGET) {
		s->calm_run = 0;
		if (s->full_run < UINT32_MAX)
			s->full_run++;
		if (s->full_run < SWD_SHED_FULL_POLLS)
			return;
		if (swd_shed_armed(s, now)) {
			if (s->level < SWD_SHED_LEVEL_MAX)
				s->level++;
		} else {
			level_down(s);	/* behind no more: wind down */
		}
		return;
	}
	s->full_run = 0;
	if (++s->calm_run < SWD_SHED_CALM_POLLS)
		return;
	s->calm_run = 0;
	level_down(s);
}

enum swd_shed_class
swd_shed_classify(const uint8_t *d, size_t len)
{
	uint8_t op;

	/* the rules of lib/exec (protocol 8.1, 8.2) for what is answered:
	 * anything it would drop or refuse is left to it */
	if (len < PROTO_HDR_LEN + PROTO_OP_HDR_LEN || len > PROTO_MAX_DGRAM)
		return SWD_SHED_EXEC;
	if ((unsigned int)(d[0] << 8 | d[1]) != PROTO_MAGIC ||
	    d[2] != PROTO_VERSION ||
	    (d[3] & ~PROTO_FLAG_REPLICAS) != 0 ||	/* REPLY or reserved */
	    (d[12] == 0 && d[13] == 0) || d[14] != 0 || d[15] != 0)
		return SWD_SHED_EXEC;
	op = d[PROTO_HDR_LEN];
	if (op == PROTO_OP_STATUS || op == PROTO_OP_STATS ||
	    op == PROTO_OP_READINESS)
		return SWD_SHED_NODE;
	/* a lookup costs about what its shed answer does (a receive, a hash
	 * lookup, one short datagram back): shedding it saves nothing, and
	 * lookups are what must keep working in a registration storm or
	 * while the node's port is flooded by a sync */
	if (op == PROTO_OP_WHEREIS)
		return SWD_SHED_LOOKUP;
	return exec_opcode_writes(op) ? SWD_SHED_WRITE : SWD_SHED_READ;
}

/* Sheds num/SWD_SHED_STEPS of the calls, spread evenly. */
static bool
spread(uint16_t *acc, unsigned int num)
{
	if (num == 0)
		return false;
	if (num >= SWD_SHED_STEPS)
		return true;
	*acc = (uint16_t)(*acc + num);
	if (*acc < SWD_SHED_STEPS)
		return false;
	*acc = (uint16_t)(*acc - SWD_SHED_STEPS);
	return true;
}

bool
swd_shed_take(struct swd_shed *s, enum swd_shed_class c)
{
	unsigned int l = s->level;
	bool t;

	switch (c) {
	case SWD_SHED_WRITE:
		t = spread(&s->acc[1], l > SWD_SHED_STEPS ? SWD_SHED_STEPS : l);
		break;
	case SWD_SHED_READ:
		t = spread(&s->acc[0], l > SWD_SHED_STEPS ?
				l - SWD_SHED_STEPS : 0);
		break;
	default:
		return false;
	}
	s->step_shed += t;
	return t;
}

uint32_t
swd_shed_retry_ms(const struct swd_shed *s)
{
	return s->hint_ms;
}

uint32_t
swd_shed_hint(struct swd_shed *s)
{
	uint32_t x = s->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	s->rng = x;
	return s->hint_ms / 2 + x % s->hint_ms;
}

size_t
swd_shed_reply(uint8_t *out, size_t cap, const uint8_t *req, size_t len,
		uint32_t retry_ms)
{
	struct proto_enc e;
	uint64_t id = 0;
	unsigned int i;

	if (len < PROTO_HDR_LEN)
		return 0;
	for (i = 4; i < 12; i++)
		id = id << 8 | req[i];
	if (proto_rep_init(&e, out, cap, id) != 0 ||
	    proto_rep_add_overloaded(&e, PROTO_INDEX_DGRAM, 0, retry_ms) != 0)
		return 0;
	return proto_enc_finish(&e);
}
