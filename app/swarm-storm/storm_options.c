/*
 * storm_options.c - command line, name pattern and the per-name formulas.
 *
 * The pattern is user input that ends up in every name, so it is never
 * passed to printf: it is parsed here into a literal prefix, exactly one
 * integer conversion and a literal suffix, and names are formatted by
 * storm_pattern_format() digit by digit.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mix.h"
#include "storm.h"

#define MAX_NAMES	(1ull << 40)
#define MAX_RATE	1000000000ull

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
storm_cfg_defaults(struct storm_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->server, sizeof(cfg->server), "%s", STORM_DEFAULT_SERVER);
	cfg->mode = STORM_REGISTER;
	cfg->names = 100000;
	cfg->start = 0;
	snprintf(cfg->pattern_text, sizeof(cfg->pattern_text), "dev-%%08u");
	cfg->batch = 16;
	cfg->window = 64;
	cfg->timeout_ms = 200;
	cfg->retries = 5;
	cfg->sockets = 1;
	cfg->order = STORM_SEQUENTIAL;
	cfg->seed = 1;
	cfg->expect = PROTO_ST_OK;
	cfg->verify = true;
}

void
storm_usage(FILE *f)
{
	fprintf(f,
"usage: swarm-storm [-s host:port] register|lookup|verify [options]\n"
"  -s, --server HOST:PORT  node to load (default " STORM_DEFAULT_SERVER ")\n"
"  --names N               names in the storm (default 100000; k/M suffix)\n"
"  --pattern P             name pattern with one integer conversion\n"
"                          (%%u %%d %%x %%X, flags 0 and -, width; %%%% is %%)\n"
"                          (default 'dev-%%08u')\n"
"  --start I               first name number (default 0)\n"
"  --batch K               ops per request datagram, 1..64 (default 16)\n"
"  --meta BYTES            metadata size of each registration, 0..255\n"
"  --ttl MS                lease of each registration, 0 = none\n"
"  --rate OPS              target rate in ops/s (token bucket; k/M suffix);\n"
"                          default flat out\n"
"  --window W              request datagrams in flight, 1..16384 (default 64)\n"
"  --timeout MS            resend unanswered ops after MS ms (default 200)\n"
"  --retries R             resends before an op is lost (default 5)\n"
"  --sockets S             UDP sockets (source ports), 1..64 (default 1)\n"
"  --order seq|random      order of the names (default seq)\n"
"  --seed N                seed of the random order and request ids\n"
"  --expect STATUS         lookup: status every op must get (default ok)\n"
"  --verify, --no-verify   register: look every name up afterwards (on)\n"
"  -q, --quiet             no progress line\n"
"  --json                  final report as JSON on stdout\n"
"  -h, --help              this text\n"
"Exit: 0 all ops answered as expected and none lost, 1 otherwise,\n"
"2 usage error. See docs/storm.md.\n");
}

/* --- pattern --- */

static int
lit_add(char *buf, uint16_t *len, char c, char *err, size_t errlen)
{
	if (*len >= PROTO_NAME_MAX) {
		seterr(err, errlen, "--pattern: literal text longer than %u "
		       "bytes", PROTO_NAME_MAX);
		return -1;
	}
	buf[(*len)++] = c;
	buf[*len] = '\0';
	return 0;
}

int
storm_pattern_parse(struct storm_pattern *p, const char *text, char *err,
		size_t errlen)
{
	unsigned int nconv = 0;
	const char *s = text;

	memset(p, 0, sizeof(*p));
	while (*s != '\0') {
		char *buf = nconv ? p->suffix : p->prefix;
		uint16_t *len = nconv ? &p->suffix_len : &p->prefix_len;
		const char *conv = s;
		unsigned int width = 0, ndig = 0;

		if (*s != '%') {
			if (lit_add(buf, len, *s++, err, errlen) < 0)
				return -1;
			continue;
		}
		s++;
		if (*s == '%') {
			if (lit_add(buf, len, '%', err, errlen) < 0)
				return -1;
			s++;
			continue;
		}
		if (nconv > 0) {
			seterr(err, errlen, "--pattern: '%s' has more than one "
			       "conversion; exactly one integer conversion "
			       "(%%u, %%d, %%x or %%X) is allowed (write %%%% "
			       "for a literal %%)", text);
			return -1;
		}
		while (*s == '0' || *s == '-') {
			if (*s == '0')
				p->zero = true;
			else
				p->left = true;
			s++;
		}
		while (*s >= '0' && *s <= '9') {
			width = width * 10 + (unsigned int)(*s - '0');
			if (++ndig > 3)
				break;
			s++;
		}
		if (ndig > 3 || width > PROTO_NAME_MAX) {
			seterr(err, errlen, "--pattern: field width in '%s' is "
			       "above %u", text, PROTO_NAME_MAX);
			return -1;
		}
		switch (*s) {
		case 'u':
		case 'd':
		case 'i':
			p->base = 10;
			break;
		case 'x':
			p->base = 16;
			break;
		case 'X':
			p->base = 16;
			p->upper = true;
			break;
		case '\0':
			seterr(err, errlen, "--pattern: '%s' ends inside a "
			       "conversion", text);
			return -1;
		default:
			seterr(err, errlen, "--pattern: unsupported conversion "
			       "'%.*s' in '%s'; only %%u, %%d, %%x and %%X with "
			       "flags 0 and - and a width are allowed",
			       (int)(s - conv + 1), conv, text);
			return -1;
		}
		s++;
		p->width = (uint8_t)width;
		if (p->left)
			p->zero = false;	/* as printf: '-' overrides '0' */
		nconv++;
	}
	if (nconv == 0) {
		seterr(err, errlen, "--pattern: '%s' has no conversion; it needs "
		       "exactly one integer conversion (%%u, %%d, %%x or %%X)",
		       text);
		return -1;
	}
	return 0;
}

size_t
storm_pattern_format(const struct storm_pattern *p, uint64_t n, char *buf)
{
	static const char lower[] = "0123456789abcdef";
	static const char upper[] = "0123456789ABCDEF";
	const char *dig = p->upper ? upper : lower;
	char tmp[24];
	size_t nd = 0, pad, len = 0, i;

	do {
		tmp[nd++] = dig[n % p->base];
		n /= p->base;
	} while (n != 0);
	pad = p->width > nd ? p->width - nd : 0;
	memcpy(buf, p->prefix, p->prefix_len);
	len = p->prefix_len;
	if (!p->left)
		for (i = 0; i < pad; i++)
			buf[len++] = p->zero ? '0' : ' ';
	while (nd > 0)
		buf[len++] = tmp[--nd];
	if (p->left)
		for (i = 0; i < pad; i++)
			buf[len++] = ' ';
	memcpy(buf + len, p->suffix, p->suffix_len);
	len += p->suffix_len;
	buf[len] = '\0';
	return len;
}

/* Longest name of the run: digits only grow with n, so the last name. */
static size_t
pattern_max_len(const struct storm_pattern *p, uint64_t last)
{
	size_t nd = 0;

	do {
		nd++;
		last /= p->base;
	} while (last != 0);
	if (nd < p->width)
		nd = p->width;
	return p->prefix_len + nd + p->suffix_len;
}

/* --- per-name formulas --- */

static uint64_t
splitmix64(uint64_t x)
{
	return mix_splitmix64(x + MIX_GAMMA);
}

uint64_t
storm_handle(uint64_t n)
{
	return splitmix64(n);
}

void
storm_endpoint(uint64_t n, struct proto_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = PROTO_AF_IPV4;
	ep->port = STORM_ENDPOINT_PORT;
	ep->addr[0] = 10;
	ep->addr[1] = (uint8_t)(n >> 16);
	ep->addr[2] = (uint8_t)(n >> 8);
	ep->addr[3] = (uint8_t)n;
}

/*
 * Random order: a 4-round Feistel permutation of [0, 2^b) keyed by the
 * seed, cycle-walked into [0, names). No memory, any size, each name once.
 */
static uint64_t
feistel(uint64_t x, unsigned int half, uint64_t seed)
{
	uint64_t mask = (1ull << half) - 1, l = x >> half, r = x & mask;
	unsigned int round;

	for (round = 0; round < 4; round++) {
		uint64_t t = l ^ (splitmix64(r ^ (seed + round) * 0x100000001b3ull)
				  & mask);

		l = r;
		r = t;
	}
	return l << half | r;
}

uint64_t
storm_name_number(const struct storm_cfg *cfg, uint64_t j)
{
	unsigned int bits = 2, half;

	if (cfg->order == STORM_SEQUENTIAL || cfg->names <= 1)
		return cfg->start + j;
	while (bits < 64 && (1ull << bits) < cfg->names)
		bits++;
	bits += bits & 1;
	half = bits / 2;
	do
		j = feistel(j, half, cfg->seed);
	while (j >= cfg->names);
	return cfg->start + j;
}

/* --- options --- */

static int
parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi,
	  bool suffix, uint64_t *out, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (suffix && end != s && (*end == 'k' || *end == 'M') &&
	    end[1] == '\0') {
		mul = *end == 'k' ? 1000 : 1000000;
		end++;
	}
	if (errno != 0 || end == s || *end != '\0' || s[0] < '0' ||
	    s[0] > '9' || (mul > 1 && v > UINT64_MAX / mul) ||
	    v * mul < lo || v * mul > hi) {
		seterr(err, errlen, "%s: '%s' is not an integer in [%" PRIu64
		       ", %" PRIu64 "]", opt, s, lo, hi);
		return -1;
	}
	*out = v * mul;
	return 0;
}

static int
parse_status(const char *s, uint8_t *out)
{
	unsigned int st;

	for (st = 0; st <= PROTO_ST_NOT_READY; st++)
		if (strcmp(s, proto_status_name(st)) == 0) {
			*out = (uint8_t)st;
			return 0;
		}
	return -1;
}

enum {
	O_NAMES = 256, O_PATTERN, O_START, O_BATCH, O_META, O_TTL, O_RATE,
	O_WINDOW, O_TIMEOUT, O_RETRIES, O_SOCKETS, O_ORDER, O_SEED, O_EXPECT,
	O_VERIFY, O_NO_VERIFY, O_JSON,
};

int
storm_parse_args(struct storm_cfg *cfg, int argc, char **argv, char *err,
		size_t errlen)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "names", required_argument, NULL, O_NAMES },
		{ "pattern", required_argument, NULL, O_PATTERN },
		{ "start", required_argument, NULL, O_START },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "meta", required_argument, NULL, O_META },
		{ "ttl", required_argument, NULL, O_TTL },
		{ "rate", required_argument, NULL, O_RATE },
		{ "window", required_argument, NULL, O_WINDOW },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "sockets", required_argument, NULL, O_SOCKETS },
		{ "order", required_argument, NULL, O_ORDER },
		{ "seed", required_argument, NULL, O_SEED },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "no-verify", no_argument, NULL, O_NO_VERIFY },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool expect_set = false, verify_set = false;
	uint64_t v;
	int c, idx;

	storm_cfg_defaults(cfg);
	optind = 0;		/* GNU: full re-initialisation (tests parse often) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:qh", opts, &idx)) != -1) {
		const char *name = c >= O_NAMES ? opts[idx].name : NULL;
		char opt[40];
		int rc = 0;

		snprintf(opt, sizeof(opt), "--%s", name ? name : "?");
		switch (c) {
		case 's':
			if (strlen(optarg) >= sizeof(cfg->server)) {
				seterr(err, errlen, "--server: too long");
				return -1;
			}
			snprintf(cfg->server, sizeof(cfg->server), "%s", optarg);
			break;
		case O_NAMES:
			rc = parse_u64(opt, optarg, 1, MAX_NAMES, true,
				       &cfg->names, err, errlen);
			break;
		case O_PATTERN:
			if (strlen(optarg) >= sizeof(cfg->pattern_text)) {
				seterr(err, errlen, "--pattern: too long");
				return -1;
			}
			snprintf(cfg->pattern_text, sizeof(cfg->pattern_text),
				 "%s", optarg);
			break;
		case O_START:
			rc = parse_u64(opt, optarg, 0, UINT64_MAX, false,
				       &cfg->start, err, errlen);
			break;
		case O_BATCH:
			rc = parse_u64(opt, optarg, 1, STORM_MAX_BATCH, false,
				       &v, err, errlen);
			cfg->batch = (uint32_t)v;
			break;
		case O_META:
			rc = parse_u64(opt, optarg, 0, PROTO_META_MAX, false,
				       &v, err, errlen);
			cfg->meta_len = (uint32_t)v;
			break;
		case O_TTL:
			rc = parse_u64(opt, optarg, 0, UINT32_MAX, false, &v,
				       err, errlen);
			cfg->ttl_ms = (uint32_t)v;
			break;
		case O_RATE:
			rc = parse_u64(opt, optarg, 1, MAX_RATE, true,
				       &cfg->rate, err, errlen);
			break;
		case O_WINDOW:
			rc = parse_u64(opt, optarg, 1, STORM_MAX_WINDOW, false,
				       &v, err, errlen);
			cfg->window = (uint32_t)v;
			break;
		case O_TIMEOUT:
			rc = parse_u64(opt, optarg, 1, 60000, false, &v, err,
				       errlen);
			cfg->timeout_ms = (uint32_t)v;
			break;
		case O_RETRIES:
			rc = parse_u64(opt, optarg, 0, 100, false, &v, err,
				       errlen);
			cfg->retries = (uint32_t)v;
			break;
		case O_SOCKETS:
			rc = parse_u64(opt, optarg, 1, STORM_MAX_SOCKETS, false,
				       &v, err, errlen);
			cfg->sockets = (uint32_t)v;
			break;
		case O_ORDER:
			if (strcmp(optarg, "seq") == 0 ||
			    strcmp(optarg, "sequential") == 0)
				cfg->order = STORM_SEQUENTIAL;
			else if (strcmp(optarg, "random") == 0)
				cfg->order = STORM_RANDOM;
			else {
				seterr(err, errlen, "--order: '%s' is neither "
				       "'seq' nor 'random'", optarg);
				return -1;
			}
			break;
		case O_SEED:
			rc = parse_u64(opt, optarg, 0, UINT64_MAX, false,
				       &cfg->seed, err, errlen);
			break;
		case O_EXPECT:
			if (parse_status(optarg, &cfg->expect) < 0) {
				seterr(err, errlen, "--expect: '%s' is not a "
				       "status name (ok, not_found, ...)",
				       optarg);
				return -1;
			}
			expect_set = true;
			break;
		case O_VERIFY:
		case O_NO_VERIFY:
			cfg->verify = c == O_VERIFY;
			verify_set = true;
			break;
		case 'q':
			cfg->quiet = true;
			break;
		case O_JSON:
			cfg->json = true;
			break;
		case 'h':
			storm_usage(stdout);
			return 1;
		case ':':
			seterr(err, errlen, "%s: needs a value",
			       argv[optind - 1]);
			return -1;
		default:
			seterr(err, errlen, "unknown option '%s'",
			       argv[optind - 1]);
			return -1;
		}
		if (rc < 0)
			return -1;
	}
	if (optind >= argc) {
		seterr(err, errlen, "missing mode: register, lookup or verify");
		return -1;
	}
	if (strcmp(argv[optind], "register") == 0)
		cfg->mode = STORM_REGISTER;
	else if (strcmp(argv[optind], "lookup") == 0)
		cfg->mode = STORM_LOOKUP;
	else if (strcmp(argv[optind], "verify") == 0)
		cfg->mode = STORM_VERIFY;
	else {
		seterr(err, errlen, "mode: '%s' is not register, lookup or "
		       "verify", argv[optind]);
		return -1;
	}
	if (optind + 1 < argc) {
		seterr(err, errlen, "unexpected argument '%s'", argv[optind + 1]);
		return -1;
	}
	if (expect_set && cfg->mode != STORM_LOOKUP) {
		seterr(err, errlen, "--expect: only for the lookup mode");
		return -1;
	}
	if (verify_set && cfg->mode != STORM_REGISTER) {
		seterr(err, errlen, "--%s: only for the register mode",
		       cfg->verify ? "verify" : "no-verify");
		return -1;
	}
	if (cfg->mode != STORM_REGISTER)
		cfg->verify = false;
	if (storm_cfg_check(cfg, err, errlen) < 0)
		return -1;
	return storm_resolve(cfg, err, errlen);
}

/* Largest reply op to a WHEREIS of our names (entry of our registration). */
static size_t
whereis_reply_len(size_t name_len, size_t meta_len)
{
	return PROTO_REP_HDR_LEN + PROTO_ENTRY_FIXED_LEN + 7 + 1 + name_len +
		1 + meta_len;
}

int
storm_cfg_check(struct storm_cfg *cfg, char *err, size_t errlen)
{
	size_t name_max, reg_op, where_op, op_max, rep, per_dgram;
	uint64_t last;
	bool lookups = cfg->mode != STORM_REGISTER || cfg->verify;

	if (storm_pattern_parse(&cfg->pat, cfg->pattern_text, err, errlen) < 0)
		return -1;
	if (cfg->start > UINT64_MAX - (cfg->names - 1)) {
		seterr(err, errlen, "--start: %" PRIu64 " + --names %" PRIu64
		       " runs past 2^64", cfg->start, cfg->names);
		return -1;
	}
	last = cfg->start + cfg->names - 1;
	name_max = pattern_max_len(&cfg->pat, last);
	if (name_max > PROTO_NAME_MAX) {
		seterr(err, errlen, "--pattern: names reach %zu bytes (name "
		       "number %" PRIu64 "); the protocol allows 1..%u",
		       name_max, last, PROTO_NAME_MAX);
		return -1;
	}
	reg_op = PROTO_OP_HDR_LEN + 8 + 4 + 7 + 1 + name_max + 1 + cfg->meta_len;
	where_op = PROTO_OP_HDR_LEN + 1 + name_max;
	op_max = cfg->mode == STORM_REGISTER ? reg_op : where_op;
	if (PROTO_HDR_LEN + cfg->batch * op_max > PROTO_MAX_DGRAM) {
		seterr(err, errlen, "--batch: %u %s ops of up to %zu bytes need "
		       "%zu bytes, more than the %u-byte datagram; at most %zu "
		       "fit (shorten --pattern or --meta)", cfg->batch,
		       cfg->mode == STORM_REGISTER ? "REGISTER" : "WHEREIS",
		       op_max, PROTO_HDR_LEN + cfg->batch * op_max,
		       PROTO_MAX_DGRAM, (PROTO_MAX_DGRAM - PROTO_HDR_LEN) / op_max);
		return -1;
	}
	if (lookups) {
		/* The answers must fit the node's reply budget (5.1). */
		rep = whereis_reply_len(name_max, cfg->meta_len);
		per_dgram = (PROTO_MAX_DGRAM - PROTO_HDR_LEN) / rep;
		if (cfg->batch > per_dgram * STORM_REPLY_BUDGET) {
			seterr(err, errlen, "--batch: the answers to %u WHEREIS "
			       "ops (%zu bytes each) exceed the node's reply "
			       "budget of %u datagrams; at most %zu", cfg->batch,
			       rep, STORM_REPLY_BUDGET,
			       per_dgram * STORM_REPLY_BUDGET);
			return -1;
		}
	}
	return 0;
}

int
storm_resolve(struct storm_cfg *cfg, char *err, size_t errlen)
{
	char host[sizeof(cfg->server)];
	const char *port;
	char *colon;
	struct addrinfo hints, *res = NULL;
	uint64_t pv;
	int rc;

	snprintf(host, sizeof(host), "%s", cfg->server);
	colon = strrchr(host, ':');
	if (colon == NULL || colon == host) {
		seterr(err, errlen, "--server: '%s' is not host:port",
		       cfg->server);
		return -1;
	}
	*colon = '\0';
	port = colon + 1;
	if (parse_u64("--server", port, 1, 65535, false, &pv, err, errlen) < 0)
		return -1;
	if (host[0] == '[') {
		size_t n = strlen(host);

		if (n < 3 || host[n - 1] != ']') {
			seterr(err, errlen, "--server: '%s' is not [v6addr]:port",
			       cfg->server);
			return -1;
		}
		host[n - 1] = '\0';
		memmove(host, host + 1, n - 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0 || res == NULL) {
		seterr(err, errlen, "--server: cannot resolve '%s': %s", host,
		       gai_strerror(rc));
		return -1;
	}
	memcpy(&cfg->addr, res->ai_addr, res->ai_addrlen);
	cfg->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}
