/*
 * storm_stats.c - latency histogram, progress line, final report, exit code.
 *
 * The histogram is log-linear over nanoseconds: values below 64 have a
 * bucket each; above, every power of two [2^m, 2^(m+1)) is cut into 32
 * equal buckets, so a quantile is known within 1/32 (3 %) of its value
 * with 1920 counters and no stored samples.
 */
#include <inttypes.h>
#include <string.h>

#include "storm.h"

static unsigned int
hist_index(uint64_t v)
{
	unsigned int msb, shift;

	if (v < (1u << STORM_HIST_SUB_BITS))
		return (unsigned int)v;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	shift = msb - (STORM_HIST_SUB_BITS - 1);
	return (shift << (STORM_HIST_SUB_BITS - 1)) + (unsigned int)(v >> shift);
}

/* Lower bound and width of bucket i. */
static void
hist_bucket(unsigned int i, uint64_t *lo, uint64_t *width)
{
	unsigned int half = 1u << (STORM_HIST_SUB_BITS - 1), shift;

	if (i < 2 * half) {
		*lo = i;
		*width = 1;
		return;
	}
	shift = i / half - 1;
	*lo = (uint64_t)(i - shift * half) << shift;
	*width = 1ull << shift;
}

void
storm_hist_add(struct storm_hist *h, uint64_t ns)
{
	h->b[hist_index(ns)]++;
	h->count++;
	if (ns > h->max)
		h->max = ns;
}

uint64_t
storm_hist_quantile(const struct storm_hist *h, double q)
{
	uint64_t rank, seen = 0, lo, width;
	unsigned int i;

	if (h->count == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = (uint64_t)(q * (double)h->count + 0.5);
	if (rank < 1)
		rank = 1;
	if (rank >= h->count)
		return h->max;	/* the top is known exactly */
	for (i = 0; i < STORM_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t mid;

			hist_bucket(i, &lo, &width);
			mid = lo + width / 2;
			return mid > h->max ? h->max : mid;
		}
	}
	return h->max;
}

void
storm_progress(FILE *f, const struct storm_phase *ph, uint64_t now_ns,
	       uint64_t ops_last, uint64_t ns_last, uint64_t outstanding_dgrams,
	       uint64_t outstanding_ops)
{
	double rate = ns_last ? (double)ops_last * 1e9 / (double)ns_last : 0;

	fprintf(f, "%s %6.1fs  ops %" PRIu64 "/%" PRIu64 "  rate %.0f/s  "
		"outstanding %" PRIu64 " dgrams (%" PRIu64 " ops)  "
		"retransmits %" PRIu64 "  overloaded %" PRIu64 "\n",
		ph->name, (double)now_ns * 1e-9, ph->answered + ph->lost,
		ph->ops, rate, outstanding_dgrams, outstanding_ops,
		ph->retransmits, ph->overloaded);
	fflush(f);
}

static bool
phase_ok(const struct storm_phase *ph)
{
	if (ph->lost != 0 || ph->status[ph->expect] != ph->ops)
		return false;
	if (ph->check_handle && ph->correct != ph->ops)
		return false;
	return true;
}

int
storm_exit_code(const struct storm_report *rep)
{
	if (!phase_ok(&rep->main))
		return 1;
	if (rep->has_verify && !phase_ok(&rep->verify))
		return 1;
	return 0;
}

static double
per_s(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0;
}

/*
 * Offered rate: ops sent for the first time over the time until the last
 * of them was. When the whole pass fits the window it leaves in one burst
 * (under 1 ms) and that quotient means nothing.
 */
static bool
offered_known(const struct storm_phase *ph)
{
	return ph->t_last_first_send_ns >= 1000000;
}

/* The verification pass after a register storm runs flat out. */
static uint64_t
phase_rate(const struct storm_cfg *cfg, const struct storm_phase *ph)
{
	if (cfg->mode == STORM_REGISTER && ph->opcode == PROTO_OP_WHEREIS)
		return 0;
	return cfg->rate;
}

static const char *
mode_name(enum storm_mode m)
{
	return m == STORM_REGISTER ? "register" : m == STORM_LOOKUP ?
		"lookup" : "verify";
}

static void
phase_text(FILE *f, const struct storm_cfg *cfg, const struct storm_phase *ph)
{
	const struct storm_hist *h = &ph->lat;
	unsigned int st;
	bool any = false;

	fprintf(f, "%s: %" PRIu64 " ops in %.3f s (expect %s for every op)\n",
		ph->name, ph->ops, (double)ph->elapsed_ns * 1e-9,
		proto_status_name(ph->expect));
	if (offered_known(ph))
		fprintf(f, "  rate       offered %.0f ops/s",
			per_s(ph->first_sent, ph->t_last_first_send_ns));
	else
		fprintf(f, "  rate       offered in one burst");
	fprintf(f, " (%s), achieved %.0f ops/s\n",
		phase_rate(cfg, ph) ? "token bucket" : "flat out",
		per_s(ph->answered, ph->t_last_answer_ns));
	fprintf(f, "  latency    p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  "
		"max %.3f ms\n", storm_hist_quantile(h, 0.50) * 1e-6,
		storm_hist_quantile(h, 0.99) * 1e-6,
		storm_hist_quantile(h, 0.999) * 1e-6, (double)h->max * 1e-6);
	fprintf(f, "  answers   ");
	for (st = 0; st < 256; st++)
		if (ph->status[st]) {
			fprintf(f, " %s %" PRIu64, proto_status_name(st),
				ph->status[st]);
			any = true;
		}
	fprintf(f, "%s\n", any ? "" : " none");
	fprintf(f, "  lost       %" PRIu64 "\n", ph->lost);
	fprintf(f, "  resends    %" PRIu64 " retransmits (%" PRIu64 " ops), %"
		PRIu64 " after overloaded (%" PRIu64 " overloaded, %" PRIu64
		" not_ready, %" PRIu64 " internal answers)\n", ph->retransmits,
		ph->retransmit_ops, ph->overload_resends, ph->overloaded,
		ph->not_ready, ph->internal_retries);
	fprintf(f, "  datagrams  sent %" PRIu64 ", received %" PRIu64
		", stale %" PRIu64 ", duplicate ops %" PRIu64 ", undecodable %"
		PRIu64 ", send errors %" PRIu64 "\n", ph->dgrams_sent,
		ph->dgrams_recv, ph->stale, ph->duplicates, ph->bad_replies,
		ph->send_errors);
	if (ph->opcode == PROTO_OP_WHEREIS)
		fprintf(f, "  resolved   %" PRIu64 " of %" PRIu64 " correctly "
			"(handle and name)%s, %" PRIu64 " with another "
			"handle\n", ph->correct, ph->ops,
			ph->check_handle ? "" : " [not checked]", ph->wrong);
}

void
storm_report_text(FILE *f, const struct storm_cfg *cfg,
		  const struct storm_report *rep)
{
	int code = storm_exit_code(rep);

	fprintf(f, "swarm-storm %s: %s, %" PRIu64 " names '%s' from %" PRIu64
		", batch %u, window %u, %u socket(s), timeout %u ms, "
		"retries %u\n", mode_name(cfg->mode), cfg->server, cfg->names,
		cfg->pattern_text, cfg->start, cfg->batch, cfg->window,
		cfg->sockets, cfg->timeout_ms, cfg->retries);
	phase_text(f, cfg, &rep->main);
	if (rep->has_verify)
		phase_text(f, cfg, &rep->verify);
	fprintf(f, "result: %s (exit %d)\n", code == 0 ? "PASS" : "FAIL", code);
}

/* JSON string of user text (the pattern): escape what must be. */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
phase_json(FILE *f, const struct storm_cfg *cfg, const struct storm_phase *ph)
{
	const struct storm_hist *h = &ph->lat;
	unsigned int st;
	bool first = true;

	fprintf(f, "{\"name\": \"%s\", \"ops\": %" PRIu64 ", \"expect\": \"%s\", "
		"\"elapsed_s\": %.6f, ", ph->name, ph->ops,
		proto_status_name(ph->expect), (double)ph->elapsed_ns * 1e-9);
	fprintf(f, "\"target_rate\": %" PRIu64 ", ", phase_rate(cfg, ph));
	if (offered_known(ph))
		fprintf(f, "\"offered_rate\": %.1f, ",
			per_s(ph->first_sent, ph->t_last_first_send_ns));
	else
		fprintf(f, "\"offered_rate\": null, ");
	fprintf(f, "\"achieved_rate\": %.1f, ",
		per_s(ph->answered, ph->t_last_answer_ns));
	fprintf(f, "\"latency_ms\": {\"p50\": %.4f, \"p99\": %.4f, "
		"\"p999\": %.4f, \"max\": %.4f}, ",
		storm_hist_quantile(h, 0.50) * 1e-6,
		storm_hist_quantile(h, 0.99) * 1e-6,
		storm_hist_quantile(h, 0.999) * 1e-6, (double)h->max * 1e-6);
	fprintf(f, "\"answers\": {");
	for (st = 0; st < 256; st++)
		if (ph->status[st]) {
			if (st <= PROTO_ST_NOT_READY)
				fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ",
					proto_status_name(st), ph->status[st]);
			else
				fprintf(f, "%s\"status_%u\": %" PRIu64,
					first ? "" : ", ", st, ph->status[st]);
			first = false;
		}
	fprintf(f, "}, \"answered\": %" PRIu64 ", \"lost\": %" PRIu64 ", ",
		ph->answered, ph->lost);
	fprintf(f, "\"retransmits\": %" PRIu64 ", \"retransmit_ops\": %" PRIu64
		", \"overloaded\": %" PRIu64 ", \"overload_resends\": %" PRIu64
		", \"not_ready\": %" PRIu64 ", \"internal\": %" PRIu64 ", ",
		ph->retransmits, ph->retransmit_ops, ph->overloaded,
		ph->overload_resends, ph->not_ready, ph->internal_retries);
	fprintf(f, "\"dgrams_sent\": %" PRIu64 ", \"dgrams_received\": %" PRIu64
		", \"stale\": %" PRIu64 ", \"duplicates\": %" PRIu64
		", \"undecodable\": %" PRIu64 ", \"send_errors\": %" PRIu64,
		ph->dgrams_sent, ph->dgrams_recv, ph->stale, ph->duplicates,
		ph->bad_replies, ph->send_errors);
	if (ph->opcode == PROTO_OP_WHEREIS)
		fprintf(f, ", \"resolved_correctly\": %" PRIu64 ", "
			"\"other_handle\": %" PRIu64 ", \"checked\": %s",
			ph->correct, ph->wrong,
			ph->check_handle ? "true" : "false");
	fprintf(f, "}");
}

void
storm_report_json(FILE *f, const struct storm_cfg *cfg,
		  const struct storm_report *rep)
{
	fprintf(f, "{\"mode\": \"%s\", \"server\": ", mode_name(cfg->mode));
	json_str(f, cfg->server);
	fprintf(f, ", \"names\": %" PRIu64 ", \"pattern\": ", cfg->names);
	json_str(f, cfg->pattern_text);
	fprintf(f, ", \"start\": %" PRIu64 ", \"batch\": %u, \"window\": %u, "
		"\"sockets\": %u, \"timeout_ms\": %u, \"retries\": %u, "
		"\"meta\": %u, \"ttl_ms\": %u, \"order\": \"%s\",\n \"main\": ",
		cfg->start, cfg->batch, cfg->window, cfg->sockets,
		cfg->timeout_ms, cfg->retries, cfg->meta_len, cfg->ttl_ms,
		cfg->order == STORM_RANDOM ? "random" : "seq");
	phase_json(f, cfg, &rep->main);
	if (rep->has_verify) {
		fprintf(f, ",\n \"verify\": ");
		phase_json(f, cfg, &rep->verify);
	}
	fprintf(f, ",\n \"exit_code\": %d}\n", storm_exit_code(rep));
}
