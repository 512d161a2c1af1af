/*
 * ring_strategy.c - strategy names, quorum size parsing, policy defaults.
 *
 * The quorum parser is hand-written rather than strtoul(): strtoul skips
 * leading spaces, accepts a sign and silently negates "-1" into a huge
 * value, all of which must be configuration errors here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ring_strategy.h"

#define QUORUM_KEY "static_quorum_size"
#define STRATEGY_KEY "distribution_strategy"
#define VNODES_KEY "ring_vnodes"

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
ring_policy_init(struct ring_policy *p)
{
	p->strategy = RING_STRATEGY_RING;
	p->quorum = RING_QUORUM_DEFAULT;
	p->vnodes = RING_VNODES_DEFAULT;
	p->filter = NULL;
}

static const struct {
	const char *name;
	enum ring_strategy strategy;
} strategy_names[] = {
	{ "ring", RING_STRATEGY_RING },
	{ "static_quorum_ring", RING_STRATEGY_STATIC_QUORUM },
	{ "Swarm.Distribution.Ring", RING_STRATEGY_RING },
	{ "Swarm.Distribution.StaticQuorumRing", RING_STRATEGY_STATIC_QUORUM },
};

int
ring_strategy_parse(const char *s, enum ring_strategy *out, char *err,
		size_t errlen)
{
	size_t i;

	if (s == NULL || s[0] == '\0') {
		set_err(err, errlen, STRATEGY_KEY ": empty value "
				"(expected ring or static_quorum_ring)");
		return -EINVAL;
	}
	for (i = 0; i < sizeof(strategy_names) / sizeof(strategy_names[0]); i++) {
		if (strcmp(s, strategy_names[i].name) == 0) {
			*out = strategy_names[i].strategy;
			return 0;
		}
	}
	set_err(err, errlen, STRATEGY_KEY ": unknown strategy '%.64s' "
			"(expected ring or static_quorum_ring)", s);
	return -EINVAL;
}

const char *
ring_strategy_name(enum ring_strategy s)
{
	return s == RING_STRATEGY_STATIC_QUORUM ? "static_quorum_ring" : "ring";
}

/* Decimal digits only, value in 1..max; the message names key. */
static int
parse_positive(const char *key, const char *s, uint32_t max, uint32_t *out,
		char *err, size_t errlen)
{
	uint32_t v = 0;
	size_t i;

	if (s == NULL || s[0] == '\0') {
		set_err(err, errlen, "%s: empty value (expected a positive "
				"integer)", key);
		return -EINVAL;
	}
	if (s[0] == '-' && s[1] >= '0' && s[1] <= '9') {
		set_err(err, errlen, "%s: '%.32s' is negative (expected a "
				"positive integer)", key, s);
		return -EINVAL;
	}
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9') {
			set_err(err, errlen, "%s: '%.32s' is not a positive "
					"integer (unexpected character at "
					"offset %zu)", key, s, i);
			return -EINVAL;
		}
		v = v * 10 + (uint32_t)(s[i] - '0');
		if (v > max) {
			set_err(err, errlen, "%s: '%.32s' is too large (at "
					"most %u)", key, s, max);
			return -ERANGE;
		}
	}
	if (v == 0) {
		set_err(err, errlen, "%s: must be at least 1, got '%.32s'",
				key, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int
ring_quorum_parse(const char *s, uint32_t *out, char *err, size_t errlen)
{
	return parse_positive(QUORUM_KEY, s, RING_QUORUM_MAX, out, err, errlen);
}

int
ring_vnodes_parse(const char *s, uint32_t *out, char *err, size_t errlen)
{
	return parse_positive(VNODES_KEY, s, RING_VNODES_MAX, out, err, errlen);
}
