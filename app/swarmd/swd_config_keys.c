/*
 * swd_config_keys.c - the key table of swarmd: one row per key with its
 * field, type, range, flags and meaning. The parser, --print-config and
 * --help all walk this table, so they cannot drift apart.
 *
 * Value parsers are strict and hand-written: no strtoul (it skips spaces,
 * takes signs and wraps "-1"), no inet_aton (it takes "10.1" and octal).
 * Secrets are never echoed, not even in error messages.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swd_config_int.h"

#define FIELD(cfg, k) ((void *)((char *)(cfg) + (k)->off))
#define CFIELD(cfg, k) ((const void *)((const char *)(cfg) + (k)->off))

_Static_assert(sizeof(enum swd_idle_policy) == sizeof(unsigned),
		"enums are stored as unsigned");
_Static_assert(sizeof(enum swd_log_level) == sizeof(unsigned),
		"enums are stored as unsigned");

static void __attribute__((format(printf, 3, 4)))
why_set(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

void
swd_quote_got(char *buf, size_t len, const char *s)
{
	size_t n = strlen(s);
	const char *more = "";

	if (n > 64) {
		n = 64;
		/* do not cut a UTF-8 sequence in half */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		more = "...";
	}
	snprintf(buf, len, "\"%.*s%s\"", (int)n, s, more);
}

void
swd_print_item(FILE *out, const char *s)
{
	size_t n = strlen(s);
	bool quote = n == 0 || s[0] == ' ' || s[0] == '\t' ||
		s[n - 1] == ' ' || s[n - 1] == '\t' ||
		strpbrk(s, ",\"#") != NULL;

	if (!quote) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* Scalar keys take exactly one item. */
static const char *
single(const struct swd_value *v, char *why, size_t len)
{
	if (v->count == 0) {
		why_set(why, len, "empty value");
		return NULL;
	}
	if (v->count > 1) {
		why_set(why, len, "expected a single value, got a list of %u "
				"items (quote a value that holds a comma)",
				v->count);
		return NULL;
	}
	return v->items[0];
}

/* ---- integers ---------------------------------------------------------- */

static bool
digits_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

static void
uint_range_text(const struct swd_key *k, char *buf, size_t len)
{
	if (k->flags & SWD_KEY_POW2)
		snprintf(buf, len, "a power of two in %llu..%llu",
				(unsigned long long)k->min,
				(unsigned long long)k->max);
	else if (k->flags & SWD_KEY_ZERO)
		snprintf(buf, len, "0 (%s) or an integer in %llu..%llu",
				k->zero, (unsigned long long)k->min,
				(unsigned long long)k->max);
	else
		snprintf(buf, len, "an integer in %llu..%llu",
				(unsigned long long)k->min,
				(unsigned long long)k->max);
}

static int
uint_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	const char *s = single(v, why, len);
	char range[128], got[80];
	uint64_t x;
	bool ok;

	if (s == NULL)
		return -EINVAL;
	ok = digits_u64(s, &x);
	if (ok && x == 0 && (k->flags & SWD_KEY_ZERO))
		; /* the special zero */
	else if (ok && (x < k->min || x > k->max))
		ok = false;
	else if (ok && (k->flags & SWD_KEY_POW2) && (x & (x - 1)) != 0)
		ok = false;
	if (!ok) {
		uint_range_text(k, range, sizeof(range));
		swd_quote_got(got, sizeof(got), s);
		why_set(why, len, "must be %s, got %s", range, got);
		return -EINVAL;
	}
	switch (k->width) {
	case 2: {
		uint16_t y = (uint16_t)x;

		memcpy(FIELD(cfg, k), &y, sizeof(y));
		break;
	}
	case 4: {
		uint32_t y = (uint32_t)x;

		memcpy(FIELD(cfg, k), &y, sizeof(y));
		break;
	}
	default:
		memcpy(FIELD(cfg, k), &x, sizeof(x));
		break;
	}
	return 0;
}

static uint64_t
uint_get(const struct swd_key *k, const struct swd_config *cfg)
{
	uint16_t a;
	uint32_t b;
	uint64_t c;

	switch (k->width) {
	case 2:
		memcpy(&a, CFIELD(cfg, k), sizeof(a));
		return a;
	case 4:
		memcpy(&b, CFIELD(cfg, k), sizeof(b));
		return b;
	default:
		memcpy(&c, CFIELD(cfg, k), sizeof(c));
		return c;
	}
}

static int
uint_print(const struct swd_key *k, const struct swd_config *cfg, FILE *out)
{
	fprintf(out, "%llu", (unsigned long long)uint_get(k, cfg));
	return 0;
}

static void
uint_describe(const struct swd_key *k, char *buf, size_t len)
{
	if (k->flags & SWD_KEY_POW2)
		snprintf(buf, len, "power of two %llu..%llu",
				(unsigned long long)k->min,
				(unsigned long long)k->max);
	else if (k->flags & SWD_KEY_ZERO)
		snprintf(buf, len, "0 (%s) or integer %llu..%llu", k->zero,
				(unsigned long long)k->min,
				(unsigned long long)k->max);
	else if (k->zero != NULL)
		snprintf(buf, len, "integer %llu..%llu (0: %s)",
				(unsigned long long)k->min,
				(unsigned long long)k->max, k->zero);
	else
		snprintf(buf, len, "integer %llu..%llu",
				(unsigned long long)k->min,
				(unsigned long long)k->max);
}

static const struct swd_kind kind_uint = {
	uint_parse, uint_print, uint_describe,
};

/* ---- node_name --------------------------------------------------------- */

static bool
name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
		c == '-';
}

static int
name_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	const char *s = single(v, why, len);
	char got[80];
	size_t i, n;

	(void)k;
	if (s == NULL)
		return -EINVAL;
	n = strlen(s);
	swd_quote_got(got, sizeof(got), s);
	if (n == 0 || n > SWD_NODE_NAME_MAX) {
		why_set(why, len, "must be 1..%d characters, got %zu",
				SWD_NODE_NAME_MAX, n);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (name_char(s[i]))
			continue;
		if ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f)
			why_set(why, len, "character '%c' not allowed (only "
					"A-Z a-z 0-9 . _ @ -), got %s",
					s[i], got);
		else
			why_set(why, len, "byte 0x%02x not allowed (only "
					"A-Z a-z 0-9 . _ @ -), got %s",
					(unsigned char)s[i], got);
		return -EINVAL;
	}
	memcpy(cfg->node_name, s, n + 1);
	return 0;
}

static int
name_print(const struct swd_key *k, const struct swd_config *cfg, FILE *out)
{
	(void)k;
	if (cfg->node_name[0] == '\0')
		return 1;
	fputs(cfg->node_name, out);
	return 0;
}

static void
name_describe(const struct swd_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "string of 1..%d characters A-Z a-z 0-9 . _ @ -",
			SWD_NODE_NAME_MAX);
}

static const struct swd_kind kind_name = {
	name_parse, name_print, name_describe,
};

/* ---- IPv4 -------------------------------------------------------------- */

/*
 * Dotted quad, four decimal octets 0..255, no leading zeros (010 would be
 * octal to inet_aton), nothing else. Returns the end or NULL.
 */
static const char *
ipv4_scan(const char *s, uint32_t *out)
{
	uint32_t a = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned o = 0, nd = 0;

		if (i > 0) {
			if (*s != '.')
				return NULL;
			s++;
		}
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return NULL;
		while (*s >= '0' && *s <= '9' && nd < 4) {
			o = o * 10 + (unsigned)(*s - '0');
			s++;
			nd++;
		}
		if (nd == 0 || nd > 3 || o > 255)
			return NULL;
		a = a << 8 | o;
	}
	*out = a;
	return s;
}

static void
ipv4_text(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
			(a >> 8) & 0xff, a & 0xff);
}

static uint32_t
prefix_mask(unsigned len)
{
	return len == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - len));
}

static bool
ipv4_unicast(uint32_t a)
{
	unsigned top = a >> 24;

	return top != 0 && top != 127 && top < 224;
}

static int
ipv4_prefix_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	const char *s = single(v, why, len), *e;
	char got[80], text[16];
	uint64_t plen;
	uint32_t a, mask;

	(void)k;
	if (s == NULL)
		return -EINVAL;
	swd_quote_got(got, sizeof(got), s);
	e = ipv4_scan(s, &a);
	if (e == NULL || (*e != '/' && *e != '\0')) {
		why_set(why, len, "must be an IPv4 address with a prefix "
				"length like 10.0.0.2/24, got %s", got);
		return -EINVAL;
	}
	if (*e == '\0') {
		why_set(why, len, "missing the prefix length (like "
				"10.0.0.2/24), got %s", got);
		return -EINVAL;
	}
	if (!digits_u64(e + 1, &plen) || plen < 1 || plen > 32 ||
			(e[1] == '0' && e[2] != '\0')) {
		why_set(why, len, "prefix length must be an integer in 1..32, "
				"got %s", got);
		return -EINVAL;
	}
	ipv4_text(a, text, sizeof(text));
	if (!ipv4_unicast(a)) {
		why_set(why, len, "%s is not a unicast host address (0/8, "
				"127/8 and 224/3 are refused)", text);
		return -EINVAL;
	}
	mask = prefix_mask((unsigned)plen);
	if (plen <= 30 && (a & ~mask) == 0) {
		why_set(why, len, "%s is the network address of %s, not a "
				"host address", text, s);
		return -EINVAL;
	}
	if (plen <= 30 && (a & ~mask) == ~mask) {
		why_set(why, len, "%s is the broadcast address of %s, not a "
				"host address", text, s);
		return -EINVAL;
	}
	cfg->ip = a;
	cfg->prefix_len = (uint8_t)plen;
	return 0;
}

static int
ipv4_prefix_print(const struct swd_key *k, const struct swd_config *cfg,
		FILE *out)
{
	char text[16];

	(void)k;
	if (cfg->prefix_len == 0)
		return 1;
	ipv4_text(cfg->ip, text, sizeof(text));
	fprintf(out, "%s/%u", text, cfg->prefix_len);
	return 0;
}

static void
ipv4_prefix_describe(const struct swd_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "IPv4 address/prefix length (a.b.c.d/1..32)");
}

static const struct swd_kind kind_ipv4_prefix = {
	ipv4_prefix_parse, ipv4_prefix_print, ipv4_prefix_describe,
};

static int
gateway_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	const char *s, *e;
	char got[80], text[16];
	uint32_t a;

	(void)k;
	if (v->count == 0) {
		cfg->has_gateway = false;
		cfg->gateway = 0;
		return 0;
	}
	s = single(v, why, len);
	if (s == NULL)
		return -EINVAL;
	swd_quote_got(got, sizeof(got), s);
	e = ipv4_scan(s, &a);
	if (e == NULL || *e != '\0') {
		why_set(why, len, "must be an IPv4 address like 10.0.0.1, "
				"got %s", got);
		return -EINVAL;
	}
	if (!ipv4_unicast(a)) {
		ipv4_text(a, text, sizeof(text));
		why_set(why, len, "%s is not a unicast host address", text);
		return -EINVAL;
	}
	cfg->has_gateway = true;
	cfg->gateway = a;
	return 0;
}

static int
gateway_print(const struct swd_key *k, const struct swd_config *cfg,
		FILE *out)
{
	char text[16];

	(void)k;
	if (!cfg->has_gateway)
		return 1;
	ipv4_text(cfg->gateway, text, sizeof(text));
	fputs(text, out);
	return 0;
}

static void
gateway_describe(const struct swd_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "IPv4 address (a.b.c.d) inside the subnet of ip");
}

static const struct swd_kind kind_gateway = {
	gateway_parse, gateway_print, gateway_describe,
};

/* ---- trusted_clients ---------------------------------------------------- */

/*
 * Items: "subnet" (the subnet of ip, once), a.b.c.d/len (len 0..32, no
 * host bits) or a.b.c.d (a /32). An empty list trusts nobody.
 */
static int
trusted_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	struct swd_cidr nets[SWD_TRUSTED_MAX];
	char got[80], text[16];
	bool subnet = false;
	uint32_t i, j, n = 0, a, mask;
	uint64_t plen;
	const char *e;

	(void)k;
	for (i = 0; i < v->count; i++) {
		const char *s = v->items[i];

		swd_quote_got(got, sizeof(got), s);
		if (strcmp(s, "subnet") == 0) {
			if (subnet) {
				why_set(why, len, "subnet is listed twice");
				return -EINVAL;
			}
			subnet = true;
			continue;
		}
		e = ipv4_scan(s, &a);
		plen = 32;
		if (e == NULL || (*e != '\0' && (*e != '/' ||
				!digits_u64(e + 1, &plen) || plen > 32 ||
				(e[1] == '0' && e[2] != '\0')))) {
			why_set(why, len, "must be IPv4 networks like "
					"192.168.1.0/24, addresses, or subnet "
					"(the subnet of ip), got %s", got);
			return -EINVAL;
		}
		mask = prefix_mask((unsigned)plen);
		if ((a & ~mask) != 0) {
			ipv4_text(a & mask, text, sizeof(text));
			why_set(why, len, "%s has host bits set (the network "
					"is %s/%u)", got, text, (unsigned)plen);
			return -EINVAL;
		}
		if (n == SWD_TRUSTED_MAX) {
			why_set(why, len, "more than %d networks",
					SWD_TRUSTED_MAX);
			return -EINVAL;
		}
		for (j = 0; j < n; j++) {
			if (nets[j].net == a && nets[j].len == plen) {
				why_set(why, len, "%s is listed twice", got);
				return -EINVAL;
			}
		}
		nets[n].net = a;
		nets[n++].len = (uint8_t)plen;
	}
	cfg->trusted_subnet = subnet;
	memcpy(cfg->trusted_clients, nets, n * sizeof(nets[0]));
	cfg->trusted_clients_count = n;
	return 0;
}

static int
trusted_print(const struct swd_key *k, const struct swd_config *cfg,
		FILE *out)
{
	char text[16];
	uint32_t i;

	(void)k;
	if (cfg->trusted_subnet)
		fputs("subnet", out);
	for (i = 0; i < cfg->trusted_clients_count; i++) {
		ipv4_text(cfg->trusted_clients[i].net, text, sizeof(text));
		fprintf(out, "%s%s/%u", i > 0 || cfg->trusted_subnet ?
				", " : "", text, cfg->trusted_clients[i].len);
	}
	return 0;
}

static void
trusted_describe(const struct swd_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "list of IPv4 networks (a.b.c.d/0..32, or an "
			"address) and subnet (the subnet of ip), up to %d",
			SWD_TRUSTED_MAX);
}

static const struct swd_kind kind_trusted = {
	trusted_parse, trusted_print, trusted_describe,
};

/* ---- MAC --------------------------------------------------------------- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
mac_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	const char *s;
	char got[80];
	uint8_t m[6];
	int i;

	(void)k;
	if (v->count == 0) {
		cfg->has_mac = false;
		memset(cfg->mac, 0, sizeof(cfg->mac));
		return 0;
	}
	s = single(v, why, len);
	if (s == NULL)
		return -EINVAL;
	swd_quote_got(got, sizeof(got), s);
	if (strlen(s) != 17)
		goto bad;
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			goto bad;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if (m[0] & 1) {
		why_set(why, len, "%s is a multicast address, not a port's "
				"address", got);
		return -EINVAL;
	}
	if ((m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0) {
		why_set(why, len, "the all-zeros address is not valid");
		return -EINVAL;
	}
	cfg->has_mac = true;
	memcpy(cfg->mac, m, sizeof(m));
	return 0;
bad:
	why_set(why, len, "must be a MAC address like 02:00:5e:10:00:01, "
			"got %s", got);
	return -EINVAL;
}

static int
mac_print(const struct swd_key *k, const struct swd_config *cfg, FILE *out)
{
	(void)k;
	if (!cfg->has_mac)
		return 1;
	fprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x", cfg->mac[0],
			cfg->mac[1], cfg->mac[2], cfg->mac[3], cfg->mac[4],
			cfg->mac[5]);
	return 0;
}

static void
mac_describe(const struct swd_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "MAC address (xx:xx:xx:xx:xx:xx, unicast)");
}

static const struct swd_kind kind_mac = {
	mac_parse, mac_print, mac_describe,
};

/* ---- enums and booleans ------------------------------------------------ */

static void
choices_text(const struct swd_key *k, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; k->choices[i] != NULL && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
				i == 0 ? "" : ", ", k->choices[i]);
}

static int
enum_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	const char *s = single(v, why, len);
	char list[128], got[80];
	unsigned i;

	if (s == NULL)
		return -EINVAL;
	for (i = 0; k->choices[i] != NULL; i++) {
		if (strcmp(s, k->choices[i]) == 0) {
			memcpy(FIELD(cfg, k), &i, sizeof(i));
			return 0;
		}
	}
	choices_text(k, list, sizeof(list));
	swd_quote_got(got, sizeof(got), s);
	why_set(why, len, "must be one of %s, got %s", list, got);
	return -EINVAL;
}

static int
enum_print(const struct swd_key *k, const struct swd_config *cfg, FILE *out)
{
	unsigned i;

	memcpy(&i, CFIELD(cfg, k), sizeof(i));
	fputs(k->choices[i], out);
	return 0;
}

static void
enum_describe(const struct swd_key *k, char *buf, size_t len)
{
	char list[128];

	choices_text(k, list, sizeof(list));
	snprintf(buf, len, "one of: %s", list);
}

static const struct swd_kind kind_enum = {
	enum_parse, enum_print, enum_describe,
};

static int
bool_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	const char *s = single(v, why, len);
	char got[80];
	bool b;
	size_t i;

	if (s == NULL)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
			b = strcmp(s, yes[i]) == 0;
			memcpy(FIELD(cfg, k), &b, sizeof(b));
			return 0;
		}
	}
	swd_quote_got(got, sizeof(got), s);
	why_set(why, len, "must be a boolean (true/false, yes/no, on/off, "
			"1/0), got %s", got);
	return -EINVAL;
}

static int
bool_print(const struct swd_key *k, const struct swd_config *cfg, FILE *out)
{
	bool b;

	memcpy(&b, CFIELD(cfg, k), sizeof(b));
	fputs(b ? "true" : "false", out);
	return 0;
}

static void
bool_describe(const struct swd_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "boolean (true/false, yes/no, on/off, 1/0)");
}

static const struct swd_kind kind_bool = {
	bool_parse, bool_print, bool_describe,
};

/* ---- distribution: lib/ring parsers ------------------------------------ */

/* lib/ring messages start with their own key name; keep the reason. */
static void
ring_reason(const char *msg, char *why, size_t len)
{
	const char *p = strstr(msg, ": ");

	why_set(why, len, "%s", p != NULL ? p + 2 : msg);
}

static int
strategy_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	const char *s = single(v, why, len);
	char msg[256];
	enum ring_strategy st;
	int rc;

	(void)k;
	if (s == NULL)
		return -EINVAL;
	rc = ring_strategy_parse(s, &st, msg, sizeof(msg));
	if (rc < 0) {
		ring_reason(msg, why, len);
		return rc;
	}
	cfg->strategy = st;
	return 0;
}

static int
strategy_print(const struct swd_key *k, const struct swd_config *cfg,
		FILE *out)
{
	(void)k;
	fputs(ring_strategy_name(cfg->strategy), out);
	return 0;
}

static void
strategy_describe(const struct swd_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "one of: ring, static_quorum_ring");
}

static const struct swd_kind kind_strategy = {
	strategy_parse, strategy_print, strategy_describe,
};

static int
ring_uint_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	const char *s = single(v, why, len);
	char msg[256];
	uint32_t x;
	int rc;

	if (s == NULL)
		return -EINVAL;
	if (k->max == RING_QUORUM_MAX)
		rc = ring_quorum_parse(s, &x, msg, sizeof(msg));
	else
		rc = ring_vnodes_parse(s, &x, msg, sizeof(msg));
	if (rc < 0) {
		ring_reason(msg, why, len);
		return rc;
	}
	memcpy(FIELD(cfg, k), &x, sizeof(x));
	return 0;
}

static const struct swd_kind kind_ring_uint = {
	ring_uint_parse, uint_print, uint_describe,
};

/* ---- node filter lists ------------------------------------------------- */

static char ***
list_field(struct swd_config *cfg, enum ring_filter_list l, uint32_t **count)
{
	if (l == RING_FILTER_DENY) {
		*count = &cfg->node_blacklist_count;
		return &cfg->node_blacklist;
	}
	*count = &cfg->node_whitelist_count;
	return &cfg->node_whitelist;
}

static void
strv_free(char **v, uint32_t n)
{
	uint32_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
swd_free_lists(struct swd_config *cfg)
{
	strv_free(cfg->node_blacklist, cfg->node_blacklist_count);
	strv_free(cfg->node_whitelist, cfg->node_whitelist_count);
	cfg->node_blacklist = NULL;
	cfg->node_blacklist_count = 0;
	cfg->node_whitelist = NULL;
	cfg->node_whitelist_count = 0;
	ring_filter_destroy(cfg->filter);
	cfg->filter = NULL;
}

static int
filter_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	enum ring_filter_list l = (enum ring_filter_list)k->min;
	struct ring_filter *f;
	char msg[RING_FILTER_ENTRY_MAX + 256];
	char **copy = NULL, ***field;
	uint32_t i, *count;
	int rc = 0;

	/* Every entry goes into a real filter, so bad patterns fail here. */
	f = ring_filter_create();
	if (f == NULL) {
		why_set(why, len, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < v->count; i++) {
		rc = ring_filter_add(f, l, v->items[i], msg, sizeof(msg));
		if (rc < 0) {
			ring_reason(msg, why, len);
			goto out;
		}
	}
	if (v->count > 0) {
		copy = calloc(v->count, sizeof(*copy));
		if (copy == NULL)
			goto nomem;
		for (i = 0; i < v->count; i++) {
			copy[i] = strdup(v->items[i]);
			if (copy[i] == NULL)
				goto nomem;
		}
	}
	field = list_field(cfg, l, &count);
	strv_free(*field, *count);
	*field = copy;
	*count = v->count;
	copy = NULL;
	goto out;
nomem:
	why_set(why, len, "out of memory");
	rc = -ENOMEM;
out:
	strv_free(copy, v->count);
	ring_filter_destroy(f);
	return rc;
}

static int
filter_print(const struct swd_key *k, const struct swd_config *cfg,
		FILE *out)
{
	const char *const *v;
	uint32_t i, n;

	if ((enum ring_filter_list)k->min == RING_FILTER_DENY) {
		v = (const char *const *)cfg->node_blacklist;
		n = cfg->node_blacklist_count;
	} else {
		v = (const char *const *)cfg->node_whitelist;
		n = cfg->node_whitelist_count;
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", out);
		swd_print_item(out, v[i]);
	}
	return 0;
}

static void
filter_describe(const struct swd_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "list of node names and /regex/ (POSIX ERE), up "
			"to %d entries", RING_FILTER_ENTRIES_MAX);
}

static const struct swd_kind kind_filter = {
	filter_parse, filter_print, filter_describe,
};

int
swd_build_filter(struct swd_config *cfg, char *why, size_t len)
{
	struct ring_filter *f;
	char msg[RING_FILTER_ENTRY_MAX + 256];
	uint32_t i;
	int rc;

	f = ring_filter_create();
	if (f == NULL) {
		why_set(why, len, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < cfg->node_blacklist_count; i++) {
		rc = ring_filter_add(f, RING_FILTER_DENY,
				cfg->node_blacklist[i], msg, sizeof(msg));
		if (rc < 0)
			goto fail;
	}
	for (i = 0; i < cfg->node_whitelist_count; i++) {
		rc = ring_filter_add(f, RING_FILTER_ALLOW,
				cfg->node_whitelist[i], msg, sizeof(msg));
		if (rc < 0)
			goto fail;
	}
	ring_filter_destroy(cfg->filter);
	cfg->filter = f;
	return 0;
fail:
	why_set(why, len, "%s", msg);
	ring_filter_destroy(f);
	return rc;
}

/* ---- seeds ------------------------------------------------------------- */

static int
seeds_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	struct swd_seed seeds[SWD_SEEDS_MAX];
	char got[80];
	uint32_t i, j;

	(void)k;
	if (v->count > SWD_SEEDS_MAX) {
		why_set(why, len, "more than %d seeds (got %u)", SWD_SEEDS_MAX,
				v->count);
		return -EINVAL;
	}
	for (i = 0; i < v->count; i++) {
		const char *s = v->items[i], *e;
		uint64_t port;

		swd_quote_got(got, sizeof(got), s);
		e = ipv4_scan(s, &seeds[i].ip);
		if (e == NULL || *e != ':' || !digits_u64(e + 1, &port) ||
				port < 1 || port > 65535 || e[1] == '0') {
			why_set(why, len, "seed %s: must be IPv4:port like "
					"10.0.0.3:7401 (port 1..65535)", got);
			return -EINVAL;
		}
		if (!ipv4_unicast(seeds[i].ip)) {
			why_set(why, len, "seed %s: not a unicast host "
					"address", got);
			return -EINVAL;
		}
		seeds[i].port = (uint16_t)port;
		for (j = 0; j < i; j++) {
			if (seeds[j].ip == seeds[i].ip &&
					seeds[j].port == seeds[i].port) {
				why_set(why, len, "seed %s is listed twice",
						got);
				return -EINVAL;
			}
		}
	}
	memcpy(cfg->seeds, seeds, v->count * sizeof(seeds[0]));
	cfg->seeds_count = v->count;
	return 0;
}

static int
seeds_print(const struct swd_key *k, const struct swd_config *cfg,
		FILE *out)
{
	char text[16];
	uint32_t i;

	(void)k;
	for (i = 0; i < cfg->seeds_count; i++) {
		ipv4_text(cfg->seeds[i].ip, text, sizeof(text));
		fprintf(out, "%s%s:%u", i > 0 ? ", " : "", text,
				cfg->seeds[i].port);
	}
	return 0;
}

static void
seeds_describe(const struct swd_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "list of IPv4:port (a.b.c.d:1..65535), up to %d",
			SWD_SEEDS_MAX);
}

static const struct swd_kind kind_seeds = {
	seeds_parse, seeds_print, seeds_describe,
};

/* ---- cluster keys (secret: never echoed) ------------------------------- */

static int
key32_scan(const char *s, uint8_t out[SWD_CLUSTER_KEY_LEN], char *why,
		size_t len)
{
	size_t n = strlen(s), i;
	uint8_t acc = 0;

	if (n != 2 * SWD_CLUSTER_KEY_LEN) {
		why_set(why, len, "must be %d hex digits (%d bytes), got %zu "
				"characters", 2 * SWD_CLUSTER_KEY_LEN,
				SWD_CLUSTER_KEY_LEN, n);
		return -EINVAL;
	}
	for (i = 0; i < SWD_CLUSTER_KEY_LEN; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			why_set(why, len, "must be %d hex digits, found a "
					"non-hex character at offset %zu",
					2 * SWD_CLUSTER_KEY_LEN,
					2 * i + (hi < 0 ? 0 : 1));
			return -EINVAL;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
		acc |= out[i];
	}
	if (acc == 0) {
		why_set(why, len, "an all-zeros key is refused");
		return -EINVAL;
	}
	return 0;
}

static int
key_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	uint8_t key[SWD_CLUSTER_KEY_LEN];
	const char *s;
	int rc;

	(void)k;
	if (v->count == 0) {
		cfg->has_cluster_key = false;
		memset(cfg->cluster_key, 0, sizeof(cfg->cluster_key));
		return 0;
	}
	if (v->count > 1) {
		why_set(why, len, "expected a single key, got a list of %u "
				"(older keys go in cluster_keys_accepted)",
				v->count);
		return -EINVAL;
	}
	s = v->items[0];
	rc = key32_scan(s, key, why, len);
	if (rc < 0)
		return rc;
	cfg->has_cluster_key = true;
	memcpy(cfg->cluster_key, key, sizeof(key));
	return 0;
}

static int
key_print(const struct swd_key *k, const struct swd_config *cfg, FILE *out)
{
	(void)k;
	if (!cfg->has_cluster_key)
		return 1;
	fputs("<set>", out);
	return 0;
}

static void
key_describe(const struct swd_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "%d hex digits (%d bytes), secret",
			2 * SWD_CLUSTER_KEY_LEN, SWD_CLUSTER_KEY_LEN);
}

static const struct swd_kind kind_key = {
	key_parse, key_print, key_describe,
};

static int
keys_parse(const struct swd_key *k, struct swd_config *cfg,
		const struct swd_value *v, char *why, size_t len)
{
	uint8_t keys[SWD_CLUSTER_KEYS_MAX][SWD_CLUSTER_KEY_LEN];
	char reason[256];
	uint32_t i, j;
	int rc;

	(void)k;
	if (v->count > SWD_CLUSTER_KEYS_MAX) {
		why_set(why, len, "more than %d keys (got %u)",
				SWD_CLUSTER_KEYS_MAX, v->count);
		return -EINVAL;
	}
	for (i = 0; i < v->count; i++) {
		rc = key32_scan(v->items[i], keys[i], reason, sizeof(reason));
		if (rc < 0) {
			why_set(why, len, "key %u: %s", i + 1, reason);
			return rc;
		}
		for (j = 0; j < i; j++) {
			if (memcmp(keys[j], keys[i], SWD_CLUSTER_KEY_LEN) == 0) {
				why_set(why, len, "key %u repeats key %u",
						i + 1, j + 1);
				return -EINVAL;
			}
		}
	}
	memcpy(cfg->cluster_keys_accepted, keys,
			v->count * sizeof(keys[0]));
	cfg->cluster_keys_accepted_count = v->count;
	return 0;
}

static int
keys_print(const struct swd_key *k, const struct swd_config *cfg, FILE *out)
{
	uint32_t i;

	(void)k;
	for (i = 0; i < cfg->cluster_keys_accepted_count; i++)
		fprintf(out, "%s<set>", i > 0 ? ", " : "");
	return 0;
}

static void
keys_describe(const struct swd_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "list of %d-hex-digit keys, up to %d, secret",
			2 * SWD_CLUSTER_KEY_LEN, SWD_CLUSTER_KEYS_MAX);
}

static const struct swd_kind kind_keys = {
	keys_parse, keys_print, keys_describe,
};

/* ---- the table --------------------------------------------------------- */

static const char *const idle_names[] = { "poll", "backoff", NULL };
static const char *const log_names[] = { "error", "warning", "info",
	"debug", NULL };

const char *
swd_idle_policy_name(enum swd_idle_policy p)
{
	return (unsigned)p <= SWD_IDLE_BACKOFF ? idle_names[p] : "?";
}

const char *
swd_log_level_name(enum swd_log_level l)
{
	return (unsigned)l <= SWD_LOG_DEBUG ? log_names[l] : "?";
}

#define OFF(f) offsetof(struct swd_config, f)
#define W(f) ((uint8_t)sizeof(((struct swd_config *)0)->f))

const struct swd_key swd_keys[] = {
	{ .name = "node_name", .kind = &kind_name, .off = OFF(node_name),
	  .flags = SWD_KEY_REQUIRED, .section = "identity",
	  .help = "Name of this node in the cluster; node_blacklist and "
		  "node_whitelist match it. Unique per cluster." },
	{ .name = "node_id", .kind = &kind_uint, .off = OFF(node_id),
	  .width = W(node_id), .flags = SWD_KEY_REQUIRED, .min = 1,
	  .max = UINT32_MAX,
	  .help = "Numeric id of this node, unique per cluster; it orders "
		  "versions written by different nodes." },

	{ .name = "ip", .kind = &kind_ipv4_prefix, .off = OFF(ip),
	  .flags = SWD_KEY_REQUIRED, .section = "network",
	  .help = "Address of this node on the port, with the prefix length "
		  "of its subnet. swarmd answers ARP and ICMP echo for it." },
	{ .name = "gateway", .kind = &kind_gateway, .off = OFF(gateway),
	  .flags = SWD_KEY_OPTIONAL, .unset = "none (every peer is on the "
		  "subnet)",
	  .help = "Next hop for frames swarmd originates (cluster gossip) to "
		  "addresses outside the subnet of ip: they go to the "
		  "gateway's MAC, resolved by ARP. Replies to clients always "
		  "go back to the MAC their request came from." },
	{ .name = "mac", .kind = &kind_mac, .off = OFF(mac),
	  .flags = SWD_KEY_OPTIONAL, .unset = "the port's own address",
	  .help = "Ethernet address to use instead of the port's own." },
	{ .name = "udp_port", .kind = &kind_uint, .off = OFF(udp_port),
	  .width = W(udp_port), .min = 1, .max = 65535,
	  .help = "UDP port of the client protocol (docs/protocol.md)." },
	{ .name = "gossip_port", .kind = &kind_uint, .off = OFF(gossip_port),
	  .width = W(gossip_port), .min = 1, .max = 65535,
	  .help = "UDP port of the cluster protocol; must differ from "
		  "udp_port." },
	{ .name = "trusted_clients", .kind = &kind_trusted,
	  .off = OFF(trusted_clients), .flags = SWD_KEY_LIST,
	  .help = "Sources answered in full (up to 16 reply datagrams a "
		  "request). Any other source may draw at most 3 bytes of "
		  "replies per byte of its request, so that a spoofed request "
		  "cannot make the node an amplifier (docs/protocol.md). "
		  "subnet: the subnet of ip; empty: nobody; 0.0.0.0/0: "
		  "everybody." },

	{ .name = "partitions", .kind = &kind_uint, .off = OFF(partitions),
	  .width = W(partitions), .flags = SWD_KEY_ZERO, .min = 1, .max = 64,
	  .zero = "one per worker lcore", .section = "tables",
	  .help = "Registry partitions (hash tables), each owned by one "
		  "worker lcore." },
	{ .name = "expected_entries", .kind = &kind_uint,
	  .off = OFF(expected_entries), .width = W(expected_entries),
	  .min = 1, .max = (uint64_t)1 << 32,
	  .help = "Names expected on this node; tables are presized for them "
		  "so a registration storm does not resize them." },
	{ .name = "max_entries", .kind = &kind_uint, .off = OFF(max_entries),
	  .width = W(max_entries), .min = 0, .max = (uint64_t)1 << 32,
	  .zero = "no limit",
	  .help = "Most names held; registrations beyond it are answered "
		  "'overloaded'." },

	{ .name = "burst", .kind = &kind_uint, .off = OFF(burst),
	  .width = W(burst), .min = 1, .max = 64, .section = "data plane",
	  .help = "Packets taken from or given to a queue per call." },
	{ .name = "rx_desc", .kind = &kind_uint, .off = OFF(rx_desc),
	  .width = W(rx_desc), .flags = SWD_KEY_POW2, .min = 64, .max = 4096,
	  .help = "Descriptors per receive queue." },
	{ .name = "tx_desc", .kind = &kind_uint, .off = OFF(tx_desc),
	  .width = W(tx_desc), .flags = SWD_KEY_POW2, .min = 64, .max = 4096,
	  .help = "Descriptors per transmit queue." },
	{ .name = "mbufs", .kind = &kind_uint, .off = OFF(mbufs),
	  .width = W(mbufs), .flags = SWD_KEY_ZERO, .min = 1024,
	  .max = 1048576, .zero = "computed from queues and descriptors",
	  .help = "Packet buffers in the mbuf pool." },
	{ .name = "tx_drain_us", .kind = &kind_uint, .off = OFF(tx_drain_us),
	  .width = W(tx_drain_us), .min = 1, .max = 10000,
	  .help = "Longest time a partly filled transmit batch waits before "
		  "it is sent, in microseconds." },
	{ .name = "idle_policy", .kind = &kind_enum, .off = OFF(idle_policy),
	  .choices = idle_names,
	  .help = "What a worker does when its queues are empty: poll spins "
		  "(lowest latency, a full core), backoff pauses for "
		  "idle_pause_polls empty polls, then sleeps up to "
		  "idle_sleep_us." },
	{ .name = "idle_pause_polls", .kind = &kind_uint,
	  .off = OFF(idle_pause_polls), .width = W(idle_pause_polls),
	  .min = 1, .max = 1000000,
	  .help = "Empty polls before a backing-off worker starts sleeping." },
	{ .name = "idle_sleep_us", .kind = &kind_uint,
	  .off = OFF(idle_sleep_us), .width = W(idle_sleep_us), .min = 1,
	  .max = 100000,
	  .help = "Longest sleep of an idle worker, in microseconds." },

	{ .name = "lease_sweep_ms", .kind = &kind_uint,
	  .off = OFF(lease_sweep_ms), .width = W(lease_sweep_ms), .min = 1,
	  .max = 60000, .section = "leases",
	  .help = "Interval between sweeps for expired leases, in "
		  "milliseconds." },
	{ .name = "lease_max_ms", .kind = &kind_uint, .off = OFF(lease_max_ms),
	  .width = W(lease_max_ms), .min = 0, .max = UINT32_MAX,
	  .zero = "no limit",
	  .help = "Longest lease a REGISTER or WHEREIS_OR_REGISTER gets, in "
		  "milliseconds: a longer ttl is shortened to it. A ttl of 0 "
		  "(no lease) is kept." },

	{ .name = "telemetry", .kind = &kind_bool, .off = OFF(telemetry),
	  .section = "operations",
	  .help = "Expose counters through the DPDK telemetry socket." },
	{ .name = "log_level", .kind = &kind_enum, .off = OFF(log_level),
	  .choices = log_names,
	  .help = "Least severe messages printed: swarmd's own (error, "
		  "warning, info: the start and counter lines, debug: per-worker "
		  "details) and DPDK's after start-up (the global rte_log "
		  "level)." },
	{ .name = "stats_interval_s", .kind = &kind_uint,
	  .off = OFF(stats_interval_s), .width = W(stats_interval_s),
	  .min = 0, .max = 3600, .zero = "off",
	  .help = "Interval between counter lines (the totals, as printed at "
		  "exit) on stdout, in seconds; info messages, so log_level "
		  "must be info or debug." },

	{ .name = "strategy", .kind = &kind_strategy, .off = OFF(strategy),
	  .section = "distribution",
	  .help = "ring (AP: both sides of a split keep placing names) or "
		  "static_quorum_ring (CP: no owner below static_quorum_size "
		  "live nodes). The same on every node." },
	{ .name = "static_quorum_size", .kind = &kind_ring_uint,
	  .off = OFF(static_quorum_size), .width = 4, .min = 1,
	  .max = RING_QUORUM_MAX,
	  .help = "Live allowed nodes needed by static_quorum_ring." },
	{ .name = "vnodes", .kind = &kind_ring_uint, .off = OFF(vnodes),
	  .width = 4, .min = 1, .max = RING_VNODES_MAX,
	  .help = "Virtual nodes per unit of weight on the hash ring. The "
		  "same on every node." },
	{ .name = "node_blacklist", .kind = &kind_filter,
	  .off = OFF(node_blacklist), .flags = SWD_KEY_LIST,
	  .min = RING_FILTER_DENY,
	  .help = "Nodes that never own names, besides the built-in "
		  "/^remsh.*$/, /^.+_upgrader_.+$/, /^.+_maint_.+$/. "
		  "Entries in slashes are unanchored regexes." },
	{ .name = "node_whitelist", .kind = &kind_filter,
	  .off = OFF(node_whitelist), .flags = SWD_KEY_LIST,
	  .min = RING_FILTER_ALLOW,
	  .help = "When not empty, only matching nodes own names (even if "
		  "blacklisted)." },

	{ .name = "seeds", .kind = &kind_seeds, .off = OFF(seeds),
	  .flags = SWD_KEY_LIST, .section = "cluster",
	  .help = "Gossip addresses of nodes to join through; empty: a "
		  "single node, or wait to be joined." },
	{ .name = "cluster_key", .kind = &kind_key, .off = OFF(cluster_key),
	  .flags = SWD_KEY_OPTIONAL | SWD_KEY_SECRET,
	  .unset = "none (gossip is not authenticated)",
	  .help = "Key that authenticates gossip sent and received." },
	{ .name = "cluster_keys_accepted", .kind = &kind_keys,
	  .off = OFF(cluster_keys_accepted),
	  .flags = SWD_KEY_LIST | SWD_KEY_SECRET,
	  .help = "Further keys accepted on received gossip, for key "
		  "rotation; needs cluster_key." },
	{ .name = "probe_interval_ms", .kind = &kind_uint,
	  .off = OFF(probe_interval_ms), .width = W(probe_interval_ms),
	  .min = 10, .max = 60000,
	  .help = "SWIM probe period T in milliseconds; failure detection "
		  "takes a few T (docs/membership.md)." },
	{ .name = "probe_timeout_ms", .kind = &kind_uint,
	  .off = OFF(probe_timeout_ms), .width = W(probe_timeout_ms),
	  .min = 1, .max = 59999,
	  .help = "Wait for a probe's ack before asking others to probe, in "
		  "milliseconds; below probe_interval_ms." },
	{ .name = "suspicion_mult", .kind = &kind_uint,
	  .off = OFF(suspicion_mult), .width = W(suspicion_mult),
	  .min = 1, .max = 32,
	  .help = "A suspect is declared dead after suspicion_mult x "
		  "log2(members + 1) probe periods unless it refutes." },
	{ .name = "fwd_timeout_ms", .kind = &kind_uint,
	  .off = OFF(fwd_timeout_ms), .width = W(fwd_timeout_ms),
	  .min = 10, .max = 60000,
	  .help = "A write forwarded to its owner, or held for replica acks, "
		  "that is not answered in this many milliseconds is answered "
		  "no_node_available; above repl_rto_ms." },
	{ .name = "repl_rto_ms", .kind = &kind_uint,
	  .off = OFF(repl_rto_ms), .width = W(repl_rto_ms),
	  .min = 1, .max = 10000,
	  .help = "Replication batches a peer has not acknowledged after this "
		  "many milliseconds without progress are resent; a forwarded "
		  "write's answer waits up to 4 x this for the local copy." },
	{ .name = "ae_interval_ms", .kind = &kind_uint,
	  .off = OFF(ae_interval_ms), .width = W(ae_interval_ms),
	  .min = 100, .max = 600000,
	  .help = "Anti-entropy period per partition (plus up to a quarter of "
		  "jitter), in milliseconds; also how long a joining node "
		  "waits for a sync before asking another peer." },
	{ .name = "tombstone_ms", .kind = &kind_uint,
	  .off = OFF(tombstone_ms), .width = W(tombstone_ms),
	  .min = 1000, .max = 86400000,
	  .help = "How long a removed name is remembered, so that an older "
		  "write arriving late cannot bring it back, in milliseconds; "
		  "at least 2 x ae_interval_ms." },
};

const size_t swd_keys_count = sizeof(swd_keys) / sizeof(swd_keys[0]);

int
swd_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < swd_keys_count; i++)
		if (strcmp(swd_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}
