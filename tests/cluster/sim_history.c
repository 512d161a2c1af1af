/*
 * sim_history.c - the simulator's history of client ops and faults, and the
 * exact checker over it (the rules are at the top of sim.h).
 *
 * Per name, ops are classed DEF (took effect once, inside [invoke,
 * answer]), MAYBE (took effect there, or never) or NONE. The final value
 * of a name is that of the last op to take effect, perhaps purged after.
 * An op X can be last iff no DEF op has to come after it, that is iff every
 * other DEF op was invoked before X was answered: put X just before its
 * answer, every other DEF op before X, every MAYBE op nowhere. So the set
 * of legal final values is exact over all linearizations without
 * enumerating any, in O(ops) per name, however the ops overlap. The
 * two-owner check is a pairwise interval argument (order_ok).
 *
 * Stamps (ms << 20 | order within the ms) give the real-time order of
 * invocations, answers and faults; "a before b" is a strict stamp order.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto_defs.h"
#include "sim.h"

#define SHIFT		20
#define MS(st)		((st) >> SHIFT)
#define NEVER		UINT64_MAX
#define AP_SETTLE_MS	3000	/* after a heal, writes still merge */
#define LOSS_MS		3000	/* a crash this soon after an ack may lose it */
#define IN_FLIGHT_MS	5000	/* unanswered this long: never will be */

enum { C_NONE, C_DEF, C_MAYBE };

struct hop {
	uint64_t handle;
	uint64_t inv, ans;	/* stamps; ans NEVER: not answered */
	uint32_t name, next;	/* next op of the name */
	int16_t status;		/* proto status, -1, SIM_ST_UNDELIVERED */
	uint8_t kind;		/* PROTO_OP_REGISTER or _UNREGISTER */
	uint8_t node;		/* via: index */
	uint8_t exec;		/* ring owner the via node saw: id, 0 none */
	bool gave_up;
};

struct hname {
	char s[SIM_NAME_MAX + 1];
	uint32_t first, last, nops;
};

struct hev {
	uint64_t stamp;
	uint8_t type, node;
};

struct sim_hist {
	struct hop *op;
	uint32_t nop, capop;
	struct hname *nm;
	uint32_t nnm, capnm;
	uint32_t *tab;		/* open addressing over nm, SIMH_NONE empty */
	uint32_t tabcap;
	struct hev *ev;
	uint32_t nev, capev;
	uint64_t lost, ev_lost;
	uint64_t last_ms, ctr, ictr;
};

/* A purge span (node) or a partition window. */
struct span {
	uint32_t node;
	uint64_t start, end;
};

struct ctx {
	struct sim_hist *h;
	struct sim *s;
	unsigned flags;
	uint64_t now;
	struct span *purge, *win, *crash;	/* crash: start only */
	uint32_t npurge, nwin, ncrash;
	uint32_t *ops;		/* the current name's ops, by invocation */
	uint8_t *cls;
	uint64_t *end;		/* latest point each can take effect */
	uint32_t n, name;
	uint64_t top1, top2;	/* latest DEF invocations */
	uint32_t top1_i;
	uint64_t best;		/* stamp of the op named in msg */
	char msg[640];
};

/* ---- recording ---- */

static void *
grow(void *p, uint32_t *cap, uint32_t need, size_t size)
{
	uint32_t n = *cap ? *cap : 256;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	if ((p = realloc(p, (size_t)n * size)) == NULL)
		abort();
	*cap = n;
	return p;
}

struct sim_hist *
simh_create(void)
{
	return calloc(1, sizeof(struct sim_hist));
}

void
simh_destroy(struct sim_hist *h)
{
	if (h == NULL)
		return;
	free(h->op);
	free(h->nm);
	free(h->tab);
	free(h->ev);
	free(h);
}

uint64_t
simh_stamp(struct sim_hist *h, uint64_t now_ms)
{
	if (now_ms != h->last_ms) {
		h->last_ms = now_ms;
		h->ctr = 0;
	}
	/* the upper half of a ms is for injected events */
	return now_ms << SHIFT | (h->ctr < 0x7ffff ? h->ctr++ : h->ctr);
}

static uint32_t
name_hash(const char *s)
{
	uint32_t x = 2166136261u;

	while (*s)
		x = (x ^ (uint8_t)*s++) * 16777619u;
	return x;
}

static void
tab_put(struct sim_hist *h, uint32_t idx)
{
	uint32_t k = name_hash(h->nm[idx].s) & (h->tabcap - 1);

	while (h->tab[k] != SIMH_NONE)
		k = (k + 1) & (h->tabcap - 1);
	h->tab[k] = idx;
}

/* Doubles the table when half full; names are never removed. */
static void
tab_grow(struct sim_hist *h)
{
	uint32_t i;

	if (h->tabcap != 0 && 2 * (h->nnm + 1) <= h->tabcap)
		return;
	free(h->tab);
	h->tabcap = h->tabcap ? 2 * h->tabcap : 1024;
	if ((h->tab = malloc(h->tabcap * sizeof(*h->tab))) == NULL)
		abort();
	memset(h->tab, 0xff, h->tabcap * sizeof(*h->tab));
	for (i = 0; i < h->nnm; i++)
		tab_put(h, i);
}

static uint32_t
name_find(const struct sim_hist *h, const char *name)
{
	uint32_t k;

	if (h->tabcap == 0)
		return SIMH_NONE;
	k = name_hash(name) & (h->tabcap - 1);
	for (; h->tab[k] != SIMH_NONE; k = (k + 1) & (h->tabcap - 1))
		if (strcmp(h->nm[h->tab[k]].s, name) == 0)
			return h->tab[k];
	return SIMH_NONE;
}

static uint32_t
name_intern(struct sim_hist *h, const char *name)
{
	uint32_t i = name_find(h, name);
	struct hname *n;

	if (i != SIMH_NONE)
		return i;
	tab_grow(h);
	h->nm = grow(h->nm, &h->capnm, h->nnm + 1, sizeof(*h->nm));
	n = &h->nm[h->nnm];
	snprintf(n->s, sizeof(n->s), "%s", name);
	n->first = n->last = SIMH_NONE;
	n->nops = 0;
	tab_put(h, h->nnm);
	return h->nnm++;
}

uint32_t
simh_begin(struct sim_hist *h, const char *name, uint8_t kind, uint32_t node,
		uint32_t exec_id, uint64_t handle, uint64_t stamp)
{
	struct hname *n;
	struct hop *o;
	uint32_t id;

	/* an op we cannot keep makes the whole check fail: count it */
	if (h->nop == SIM_HIST_MAX || strlen(name) > SIM_NAME_MAX) {
		h->lost++;
		return SIMH_NONE;
	}
	h->op = grow(h->op, &h->capop, h->nop + 1, sizeof(*h->op));
	id = h->nop++;
	o = &h->op[id];
	memset(o, 0, sizeof(*o));
	o->handle = handle;
	o->inv = stamp;
	o->ans = NEVER;
	o->status = -1;
	o->kind = kind;
	o->node = (uint8_t)node;
	o->exec = (uint8_t)exec_id;
	o->name = name_intern(h, name);
	o->next = SIMH_NONE;
	n = &h->nm[o->name];
	if (n->last != SIMH_NONE)
		h->op[n->last].next = id;
	else
		n->first = id;
	n->last = id;
	n->nops++;
	return id;
}

/* A late answer (after the client gave up) is still the truth: kept. */
void
simh_end(struct sim_hist *h, uint32_t id, int status, uint64_t stamp)
{
	if (id >= h->nop || h->op[id].ans != NEVER)
		return;
	h->op[id].status = (int16_t)status;
	h->op[id].ans = stamp;
}

void
simh_give_up(struct sim_hist *h, uint32_t id)
{
	if (id < h->nop && h->op[id].ans == NEVER)
		h->op[id].gave_up = true;
}

void
simh_event(struct sim_hist *h, enum simh_ev type, uint32_t node,
		uint64_t stamp)
{
	if (h->nev == SIM_HIST_EVENTS) {
		h->ev_lost++;
		return;
	}
	h->ev = grow(h->ev, &h->capev, h->nev + 1, sizeof(*h->ev));
	h->ev[h->nev++] = (struct hev){ stamp, (uint8_t)type, (uint8_t)node };
}

size_t
sim_history_ops(const struct sim *s)
{
	return sim_hist((struct sim *)s)->nop;
}

static uint64_t
inject_stamp(struct sim_hist *h, uint64_t ms)
{
	return ms << SHIFT | (0x80000 + (h->ictr++ & 0x7ffff));
}

void
sim_history_inject(struct sim *s, const char *name, uint8_t kind,
		uint32_t node, uint64_t handle, uint64_t invoke_ms,
		uint64_t answer_ms, int status)
{
	struct sim_hist *h = sim_hist(s);
	uint32_t exec = sim_up(s, node) ? clu_owner_of(sim_clu(s, node),
			ring_hash_name(name, strlen(name))) : 0;
	uint32_t id = simh_begin(h, name, kind, node, exec, handle,
			inject_stamp(h, invoke_ms));

	if (answer_ms == UINT64_MAX || status == -1)
		simh_give_up(h, id);
	else
		simh_end(h, id, status, inject_stamp(h, answer_ms));
}

/* ---- spans: purges and partition windows ---- */

static uint64_t
end_of_ms(uint64_t ms)
{
	return ((ms + 1) << SHIFT) - 1;
}

/*
 * Purges: an instant at each crash (the brief's rule: a restart loses
 * the node's entries, even one too fast to be noticed), and every stretch
 * during which some live node held the node dead, up to the moment none
 * does (a node that purged its entries verifies them again before it
 * decides their names: no settling time after). Windows: from a split
 * to AP_SETTLE_MS after its heal (open: forever).
 */
static void
build_spans(struct ctx *x)
{
	uint64_t dead[SIM_NODES_MAX], split = NEVER;
	uint32_t i;

	x->purge = calloc(x->h->nev + SIM_NODES_MAX + 1, sizeof(*x->purge));
	x->win = calloc(x->h->nev + 2, sizeof(*x->win));
	x->crash = calloc(x->h->nev + 1, sizeof(*x->crash));
	if (x->purge == NULL || x->win == NULL || x->crash == NULL)
		abort();
	for (i = 0; i < SIM_NODES_MAX; i++)
		dead[i] = NEVER;
	for (i = 0; i < x->h->nev; i++) {
		const struct hev *e = &x->h->ev[i];

		switch (e->type) {
		case SIMH_CRASH:
			x->purge[x->npurge++] = (struct span){ e->node,
				e->stamp, e->stamp };
			x->crash[x->ncrash++] = x->purge[x->npurge - 1];
			break;
		case SIMH_DEAD:
			dead[e->node] = e->stamp;
			break;
		case SIMH_UNDEAD:
			if (dead[e->node] != NEVER)
				x->purge[x->npurge++] = (struct span){ e->node,
					dead[e->node], end_of_ms(MS(e->stamp)) };
			dead[e->node] = NEVER;
			break;
		case SIMH_SPLIT:
			if (split == NEVER)
				split = e->stamp;
			break;
		case SIMH_HEAL:
			if (split != NEVER)
				x->win[x->nwin++] = (struct span){ 0, split,
					end_of_ms(MS(e->stamp) +
					AP_SETTLE_MS) };
			split = NEVER;
			break;
		}
	}
	for (i = 0; i < SIM_NODES_MAX; i++)
		if (dead[i] != NEVER)
			x->purge[x->npurge++] = (struct span){ i, dead[i],
				NEVER };
	if (split != NEVER)
		x->win[x->nwin++] = (struct span){ 0, split, NEVER };
}

/* ---- classes ---- */

static bool
in_window(const struct ctx *x, const struct hop *o)
{
	uint32_t i;

	for (i = 0; i < x->nwin; i++)
		if (o->inv <= x->win[i].end && o->ans >= x->win[i].start)
			return true;
	return false;
}

/* The node that executed o (its ring owner then) crashed soon after. */
static bool
exec_crashed(const struct ctx *x, const struct hop *o)
{
	uint64_t until = o->ans == NEVER ? NEVER :
		end_of_ms(MS(o->ans) + LOSS_MS);
	uint32_t i;

	for (i = 0; i < x->ncrash; i++)
		if (o->exec == x->crash[i].node + 1u &&
		    x->crash[i].start > o->inv && x->crash[i].start <= until)
			return true;
	return false;
}

/*
 * An UNREGISTER answered not_found while a node that registered this name
 * was held dead: that node's entry was purged, not removed, and comes back
 * with the node (docs/cluster.md, "What ok means"). The answer is true of
 * that moment but removes nothing for good.
 */
static const struct hop *op_at(const struct ctx *x, uint32_t i);

static bool
hidden_by_purge(const struct ctx *x, const struct hop *o)
{
	uint32_t i, k, via = 0;

	for (k = 0; k < x->n; k++)
		if (op_at(x, k)->kind == PROTO_OP_REGISTER)
			via |= 1u << op_at(x, k)->node;
	for (i = 0; i < x->npurge; i++)
		if ((via >> x->purge[i].node & 1) &&
		    o->inv <= x->purge[i].end && o->ans >= x->purge[i].start)
			return true;
	return false;
}

static int
classify(const struct ctx *x, const struct hop *o)
{
	int c;

	if (o->status == SIM_ST_UNDELIVERED)
		return C_NONE;
	if (o->ans == NEVER || o->status < 0)
		return C_MAYBE;
	switch (o->status) {
	case PROTO_ST_OK:
		c = C_DEF;
		break;
	case PROTO_ST_NOT_FOUND:
		if (o->kind != PROTO_OP_UNREGISTER)
			return C_NONE;
		c = hidden_by_purge(x, o) ? C_MAYBE : C_DEF;
		break;
	case PROTO_ST_NO_NODE_AVAILABLE:
	case PROTO_ST_INTERNAL:
		return C_MAYBE;
	default:
		return C_NONE;	/* refused: not executed */
	}
	if ((x->flags & SIM_HIST_AP) && in_window(x, o))
		return C_MAYBE;
	if ((x->flags & SIM_HIST_CRASH_LOSS) && exec_crashed(x, o))
		return C_MAYBE;
	return c;
}

/* Unanswered, not given up, its node alive since, and young. */
static bool
in_flight(const struct ctx *x, const struct hop *o)
{
	uint32_t i;

	if (o->ans != NEVER || o->gave_up || MS(x->now) - MS(o->inv) >=
			IN_FLIGHT_MS)
		return false;
	for (i = 0; i < x->ncrash; i++)
		if (x->crash[i].node == o->node && x->crash[i].start > o->inv)
			return false;
	return true;
}

/* ---- the final value ---- */

static const struct hop *
op_at(const struct ctx *x, uint32_t i)
{
	return &x->h->op[x->ops[i]];
}

/* The latest invocation of a DEF op other than op i (0: none). */
static uint64_t
max_other(const struct ctx *x, uint32_t i)
{
	return i == x->top1_i ? x->top2 : x->top1;
}

static bool
can_be_last(const struct ctx *x, uint32_t i)
{
	return x->cls[i] != C_NONE && max_other(x, i) < x->end[i];
}

static bool
purge_after(const struct ctx *x, uint32_t node, uint64_t p)
{
	uint32_t i;

	for (i = 0; i < x->npurge; i++)
		if (x->purge[i].node == node && x->purge[i].end > p)
			return true;
	return false;
}

/* Register op i wrote (handle, owner id); owner 0 means ABSENT. */
static bool
writes(const struct ctx *x, uint32_t i, uint64_t handle, uint32_t owner)
{
	const struct hop *o = op_at(x, i);

	if (x->cls[i] == C_NONE)
		return false;
	if (owner == 0)
		return o->kind == PROTO_OP_UNREGISTER;
	return o->kind == PROTO_OP_REGISTER && o->handle == handle &&
		o->node + 1u == owner;
}

/* A register that can be last, purged afterwards. */
static bool
purged_last(const struct ctx *x, uint32_t i)
{
	const struct hop *o = op_at(x, i);
	uint64_t p = max_other(x, i) > o->inv ? max_other(x, i) : o->inv;

	return o->kind == PROTO_OP_REGISTER && can_be_last(x, i) &&
		purge_after(x, o->node, p);
}

static bool
legal(const struct ctx *x, uint64_t handle, uint32_t owner)
{
	uint32_t i;

	if (owner == 0 && x->top1 == 0)
		return true;	/* nothing had to happen: still absent */
	for (i = 0; i < x->n; i++)
		if ((writes(x, i, handle, owner) && can_be_last(x, i)) ||
		    (owner == 0 && purged_last(x, i)))
			return true;
	return false;
}

/* ---- reporting ---- */

static const char *
status_name(int st)
{
	static const char *const names[] = {
		"ok", "not_found", "already_registered", "handle_mismatch",
		"bad_request", "unsupported", "bad_version", "too_large",
		"overloaded", "no_node_available", "internal", "not_ready",
	};

	if (st == SIM_ST_UNDELIVERED)
		return "undelivered";
	if (st < 0)
		return "unanswered";
	return (size_t)st < sizeof(names) / sizeof(names[0]) ? names[st] :
		"status?";
}

static const char *
fmt_op(const struct hop *o, char *buf, size_t len)
{
	char ans[24] = "?";

	if (o->ans != NEVER)
		snprintf(ans, sizeof(ans), "%llu",
			(unsigned long long)MS(o->ans));
	if (o->kind == PROTO_OP_REGISTER)
		snprintf(buf, len, "REGISTER 0x%llx via n%u at %llu..%s %s",
			(unsigned long long)o->handle, o->node + 1u,
			(unsigned long long)MS(o->inv), ans,
			status_name(o->status));
	else
		snprintf(buf, len, "UNREGISTER via n%u at %llu..%s %s",
			o->node + 1u, (unsigned long long)MS(o->inv), ans,
			status_name(o->status));
	return buf;
}

static const char *
fmt_held(uint64_t handle, uint32_t owner, char *buf, size_t len)
{
	if (owner == 0 && handle == 0)
		snprintf(buf, len, "absent");
	else
		snprintf(buf, len, "held 0x%llx (owner n%u)",
			(unsigned long long)handle, owner);
	return buf;
}

/* Keeps the violation whose named op was invoked first. */
static void offer(struct ctx *x, uint64_t key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
offer(struct ctx *x, uint64_t key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (key >= x->best)
		return;
	x->best = key;
	n = snprintf(x->msg, sizeof(x->msg), "%s: ", x->h->nm[x->name].s);
	va_start(ap, fmt);
	vsnprintf(x->msg + n, sizeof(x->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

/*
 * The held value is illegal: name the first DEF op invoked after the last
 * moment anything could have written it (one exists, or the value would be
 * legal). For ABSENT, the first DEF register that had to stay.
 */
static void
report_final(struct ctx *x, uint64_t handle, uint32_t owner)
{
	char a[160], b[64];
	uint64_t t = 0;
	uint32_t i;

	for (i = 0; i < x->n; i++)
		if (writes(x, i, handle, owner) && x->end[i] > t)
			t = x->end[i];
	fmt_held(handle, owner, b, sizeof(b));
	for (i = 0; i < x->n; i++) {
		const struct hop *o = op_at(x, i);

		if (x->cls[i] != C_DEF || o->inv <= t ||
		    (owner == 0 && !can_be_last(x, i)))
			continue;
		fmt_op(o, a, sizeof(a));
		if (o->kind == PROTO_OP_REGISTER)
			offer(x, o->inv, "%s, now %s -- acked write lost", a,
				b);
		else if (o->status == PROTO_ST_OK)
			offer(x, o->inv, "%s, now %s, registered before it -- "
				"acked unregister lost (the name came back)",
				a, b);
		else
			offer(x, o->inv, "%s, now %s, registered before it -- "
				"not_found, yet the name stayed registered",
				a, b);
		return;
	}
	/* no op wrote it: a value from nowhere (a replay, a stale copy) */
	offer(x, op_at(x, x->n - 1)->inv,
		"now %s, which no op could have left there (%u ops; last %s)",
		b, x->n, fmt_op(op_at(x, x->n - 1), a, sizeof(a)));
}

/* ---- two owners ---- */

/* Nodes through which some op (DEF or MAYBE) registered handle. */
static uint32_t
owners_of(const struct ctx *x, uint64_t handle)
{
	uint32_t i, mask = 0;

	for (i = 0; i < x->n; i++) {
		const struct hop *o = op_at(x, i);

		if (x->cls[i] != C_NONE && o->kind == PROTO_OP_REGISTER &&
		    o->handle == handle)
			mask |= 1u << o->node;
	}
	return mask;
}

/*
 * Can register ia take effect before ib, with something between them that
 * removes ia's value? Points pa < r < pb inside their intervals exist iff
 * a.inv < r.end, r.inv < b.end and a.inv < b.end.
 */
static bool
order_ok(const struct ctx *x, uint32_t ia, uint32_t ib)
{
	const struct hop *a = op_at(x, ia);
	uint64_t bend = x->end[ib];
	uint32_t i, owners;

	if (a->inv >= bend)
		return false;
	for (i = 0; i < x->n; i++) {
		const struct hop *r = op_at(x, i);

		if (x->cls[i] != C_NONE && r->kind == PROTO_OP_UNREGISTER &&
		    a->inv < x->end[i] && r->inv < bend)
			return true;
	}
	owners = owners_of(x, a->handle);
	for (i = 0; i < x->npurge; i++) {
		const struct span *p = &x->purge[i];

		if ((owners >> p->node & 1) && a->inv < p->end &&
		    p->start < bend)
			return true;
	}
	return false;
}

static void
check_pairs(struct ctx *x)
{
	char a[160], b[160];
	uint32_t i, j;

	for (j = 0; j < x->n; j++) {
		const struct hop *ob = op_at(x, j);

		if (x->cls[j] != C_DEF || ob->kind != PROTO_OP_REGISTER ||
		    ob->inv >= x->best)
			continue;
		for (i = 0; i < j; i++) {
			const struct hop *oa = op_at(x, i);

			if (x->cls[i] != C_DEF ||
			    oa->kind != PROTO_OP_REGISTER ||
			    oa->handle == ob->handle || order_ok(x, i, j) ||
			    order_ok(x, j, i))
				continue;
			offer(x, ob->inv, "%s while %s could not have been "
				"removed -- two registrations of one name "
				"both acked", fmt_op(ob, b, sizeof(b)),
				fmt_op(oa, a, sizeof(a)));
			return;
		}
	}
}

/* ---- one name ---- */

static void
gather(struct ctx *x, uint32_t name)
{
	uint32_t id, i, k;

	x->name = name;
	x->n = 0;
	for (id = x->h->nm[name].first; id != SIMH_NONE; id = x->h->op[id].next)
		x->ops[x->n++] = id;
	/* injected ops may come out of order; live ones are sorted */
	for (i = 1; i < x->n; i++)
		for (k = i; k > 0 && x->h->op[x->ops[k - 1]].inv >
				x->h->op[x->ops[k]].inv; k--) {
			id = x->ops[k];
			x->ops[k] = x->ops[k - 1];
			x->ops[k - 1] = id;
		}
	x->top1 = x->top2 = 0;
	x->top1_i = SIMH_NONE;
	for (i = 0; i < x->n; i++) {
		const struct hop *o = op_at(x, i);

		x->cls[i] = (uint8_t)classify(x, o);
		/* indeterminate ops may land after their answer, if allowed */
		x->end[i] = x->cls[i] == C_MAYBE && (x->flags &
			SIM_HIST_LATE_UNKNOWN) ? NEVER : o->ans;
		if (x->cls[i] != C_DEF)
			continue;
		if (o->inv > x->top1) {
			x->top2 = x->top1;
			x->top1 = o->inv;
			x->top1_i = i;
		} else if (o->inv > x->top2) {
			x->top2 = o->inv;
		}
	}
}

/* What the first live node holds; false if another live one differs. */
static bool
held(struct ctx *x, uint64_t *handle, uint32_t *owner)
{
	const char *nm = x->h->nm[x->name].s;
	uint32_t i, first = SIMH_NONE;
	char a[64], b[64];

	for (i = 0; i < sim_nodes(x->s); i++) {
		uint64_t h;
		uint32_t o;

		if (!sim_up(x->s, i))
			continue;
		h = sim_whereis(x->s, i, nm);
		o = sim_entry_owner(x->s, i, nm);
		if (first == SIMH_NONE) {
			first = i;
			*handle = h;
			*owner = o;
		} else if (h != *handle || o != *owner) {
			offer(x, op_at(x, 0)->inv, "n%u %s but n%u %s -- live "
				"nodes disagree", first + 1,
				fmt_held(*handle, *owner, a, sizeof(a)), i + 1,
				fmt_held(h, o, b, sizeof(b)));
			return false;
		}
	}
	return first != SIMH_NONE;
}

static void
check_name(struct ctx *x, uint32_t name)
{
	uint64_t handle = 0;
	uint32_t owner = 0, i;

	gather(x, name);
	for (i = 0; i < x->n; i++)
		if (in_flight(x, op_at(x, i)))
			return;
	if (x->n == 0 || !held(x, &handle, &owner))
		return;
	check_pairs(x);
	if (!legal(x, handle, owner))
		report_final(x, handle, owner);
}

static void dump(struct sim *s, struct sim_hist *h, uint32_t name, FILE *f);

const char *
sim_check_history(struct sim *s, unsigned flags)
{
	static char msg[sizeof(((struct ctx *)0)->msg)];
	struct sim_hist *h = sim_hist(s);
	struct ctx x = { .h = h, .s = s, .flags = flags, .best = NEVER };
	uint32_t k, worst = SIMH_NONE, most = 1;
	const char *env = getenv("SIM_HISTORY");

	if (h->lost > 0 || h->ev_lost > 0) {
		snprintf(msg, sizeof(msg), "history overflowed: %llu ops and "
			"%llu events not recorded (SIM_HIST_MAX %u, "
			"SIM_HIST_EVENTS %u)", (unsigned long long)h->lost,
			(unsigned long long)h->ev_lost, SIM_HIST_MAX,
			SIM_HIST_EVENTS);
		return msg;
	}
	x.now = simh_stamp(h, sim_now(s));
	for (k = 0; k < h->nnm; k++)
		most = h->nm[k].nops > most ? h->nm[k].nops : most;
	x.ops = malloc(most * sizeof(*x.ops));
	x.cls = malloc(most);
	x.end = malloc(most * sizeof(*x.end));
	if (x.ops == NULL || x.cls == NULL || x.end == NULL)
		abort();
	build_spans(&x);
	for (k = 0; k < h->nnm; k++) {
		uint64_t before = x.best;

		check_name(&x, k);
		if (x.best != before)
			worst = k;
	}
	free(x.ops);
	free(x.cls);
	free(x.end);
	free(x.purge);
	free(x.win);
	free(x.crash);
	if (worst == SIMH_NONE)
		return NULL;
	if (env != NULL)
		dump(s, h, strcmp(env, "1") == 0 ? worst : name_find(h, env),
			stderr);
	memcpy(msg, x.msg, sizeof(msg));
	return msg;
}

/* ---- dump ---- */

static const char *
event_name(uint8_t type)
{
	static const char *const names[] = { "?", "crash", "restart", "split",
		"heal", "held dead", "no longer held dead" };

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

static void
dump(struct sim *s, struct sim_hist *h, uint32_t name, FILE *f)
{
	uint64_t from;
	uint32_t id, i;
	char a[160];

	if (name == SIMH_NONE || name >= h->nnm) {
		fprintf(f, "history: no such name\n");
		return;
	}
	fprintf(f, "history of %s (%u ops):\n", h->nm[name].s,
		h->nm[name].nops);
	for (id = h->nm[name].first; id != SIMH_NONE; id = h->op[id].next)
		fprintf(f, "  #%u %s%s (ring owner n%u)\n", id,
			fmt_op(&h->op[id], a, sizeof(a)),
			h->op[id].gave_up ? ", given up" : "", h->op[id].exec);
	from = h->op[h->nm[name].first].inv;
	from = MS(from) > 5000 ? (MS(from) - 5000) << SHIFT : 0;
	for (i = 0; i < h->nev; i++)
		if (h->ev[i].stamp >= from)
			fprintf(f, "  t=%llu %s n%u\n",
				(unsigned long long)MS(h->ev[i].stamp),
				event_name(h->ev[i].type), h->ev[i].node + 1u);
	fprintf(f, "  now (t=%llu):", (unsigned long long)sim_now(s));
	for (i = 0; i < sim_nodes(s); i++) {
		if (!sim_up(s, i)) {
			fprintf(f, " n%u down;", i + 1);
			continue;
		}
		fprintf(f, " n%u %s;", i + 1, fmt_held(sim_whereis(s, i,
			h->nm[name].s), sim_entry_owner(s, i, h->nm[name].s),
			a, sizeof(a)));
	}
	fprintf(f, "\n");
}

void
sim_history_dump(struct sim *s, const char *name, FILE *f)
{
	struct sim_hist *h = sim_hist(s);

	dump(s, h, name_find(h, name), f);
}
