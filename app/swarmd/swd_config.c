/*
 * swd_config.c - swarmd command line, configuration file syntax, the rules
 * between keys, --help and --print-config. The keys themselves (types,
 * ranges, meanings) are the table in swd_config_keys.c.
 *
 * File syntax, one assignment per line:
 *
 *     # a comment line
 *     key = value              # a comment after whitespace
 *     key = "quoted \"value\"" # quotes: \" and \\ are the only escapes
 *     key = a, "b,c", d        # lists: comma-separated, items trimmed
 *
 * The whole file is checked before use: at most SWD_CONFIG_FILE_MAX bytes,
 * lines of at most SWD_CONFIG_LINE_MAX bytes, valid UTF-8 without NUL or
 * control characters (tab excepted; CRLF endings are accepted).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "swd_config_int.h"

#define KEYS_MAX 64

/* Where each key was last set, for messages about it. */
struct load_ctx {
	struct swd_config *cfg;
	const char *file;		/* the file being read, or NULL */
	unsigned line_of[KEYS_MAX];	/* line in the file, 0: not there */
	bool by_set[KEYS_MAX];		/* last set by --set */
	char *err;
	size_t errlen;
};

static void __attribute__((format(printf, 3, 4)))
err_set(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* "config FILE:LINE", "--set", "config FILE" or "config". */
static void
where(const struct load_ctx *c, unsigned line, bool set, char *buf,
		size_t len)
{
	if (set)
		snprintf(buf, len, "--set");
	else if (c->file != NULL && line > 0)
		snprintf(buf, len, "config %s:%u", c->file, line);
	else if (c->file != NULL)
		snprintf(buf, len, "config %s", c->file);
	else
		snprintf(buf, len, "config");
}

/* Location of the last assignment of key ki. */
static void
key_where(const struct load_ctx *c, int ki, char *buf, size_t len)
{
	where(c, c->line_of[ki], c->by_set[ki], buf, len);
}

static bool
key_is_set(const struct load_ctx *c, int ki)
{
	return c->line_of[ki] != 0 || c->by_set[ki];
}

/* ---- defaults and free ------------------------------------------------- */

void
swd_config_defaults(struct swd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->udp_port = 7400;
	cfg->gossip_port = 7401;
	cfg->trusted_subnet = true;
	cfg->partitions = 0;
	cfg->expected_entries = 1048576;
	cfg->max_entries = 0;
	cfg->burst = 32;
	cfg->rx_desc = 1024;
	cfg->tx_desc = 1024;
	cfg->mbufs = 0;
	cfg->tx_drain_us = 100;
	cfg->idle_policy = SWD_IDLE_BACKOFF;
	cfg->idle_pause_polls = 256;
	cfg->idle_sleep_us = 200;
	cfg->lease_sweep_ms = 100;
	cfg->lease_max_ms = 0;
	cfg->telemetry = true;
	cfg->log_level = SWD_LOG_INFO;
	cfg->stats_interval_s = 0;
	cfg->strategy = RING_STRATEGY_RING;
	cfg->static_quorum_size = RING_QUORUM_DEFAULT;
	cfg->vnodes = RING_VNODES_DEFAULT;
	cfg->probe_interval_ms = 1000;
	cfg->probe_timeout_ms = 500;
	cfg->suspicion_mult = 4;
	/* lib/cluster's built-in values (clu_config_default) and the
	 * tracker's (TRK_TOMBSTONE_MS_DEFAULT) */
	cfg->fwd_timeout_ms = 2000;
	cfg->repl_rto_ms = 100;
	cfg->ae_interval_ms = 2000;
	cfg->tombstone_ms = 60000;
}

void
swd_config_free(struct swd_config *cfg)
{
	if (cfg == NULL)
		return;
	swd_free_lists(cfg);
	free(cfg->config_path);
	swd_config_defaults(cfg);
}

/* ---- text checks ------------------------------------------------------- */

/*
 * Checks len bytes of s: UTF-8 (no overlong forms, no surrogates, at most
 * U+10FFFF), no NUL or control characters except tab. Returns 0 or writes
 * the reason into why.
 */
static int
check_text(const unsigned char *s, size_t len, char *why, size_t whylen)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i], need, cp, min;
		size_t j;

		if (c == 0) {
			err_set(why, whylen, "NUL byte at column %zu", i + 1);
			return -EINVAL;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			err_set(why, whylen, "control character 0x%02x at "
					"column %zu", c, i + 1);
			return -EINVAL;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			goto bad;
		}
		if (len - i <= need)
			goto bad;
		for (j = 1; j <= need; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += need + 1;
		continue;
bad:
		err_set(why, whylen, "invalid UTF-8 at column %zu", i + 1);
		return -EINVAL;
	}
	return 0;
}

/* ---- one assignment ---------------------------------------------------- */

static void
value_free(struct swd_value *v)
{
	free(v->items);
	v->items = NULL;
	v->count = 0;
}

static int
value_push(struct swd_value *v, char *item, uint32_t *cap)
{
	char **n;

	if (v->count == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		n = realloc(v->items, *cap * sizeof(*n));
		if (n == NULL)
			return -ENOMEM;
		v->items = n;
	}
	v->items[v->count++] = item;
	return 0;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Splits line (modified in place) into a key and value items. With
 * comments, '#' at the start of the line or after whitespace starts a
 * comment. Returns 0, 1 for a blank or comment line, or a negative errno
 * with the reason in why; *key is set whenever the key could be read.
 */
static int
split_line(char *line, bool comments, char **key, struct swd_value *v,
		char *why, size_t whylen)
{
	char *r = line, *w, *k;
	uint32_t cap = 0;
	bool after_comma = false;

	*key = NULL;
	v->items = NULL;
	v->count = 0;
	while (is_ws(*r))
		r++;
	if (*r == '\0' || (comments && *r == '#'))
		return 1;
	k = r;
	while (*r != '\0' && *r != '=' && !is_ws(*r))
		r++;
	if (r == k) {
		err_set(why, whylen, "expected \"key = value\", the key is "
				"missing");
		return -EINVAL;
	}
	w = r;
	while (is_ws(*r))
		r++;
	if (*r != '=') {
		*w = '\0';
		err_set(why, whylen, "expected \"key = value\" (no '=' after "
				"the key)");
		*key = k;
		return -EINVAL;
	}
	*w = '\0';
	*key = k;
	r++;
	w = r;
	for (;;) {
		char *item, prev = ' ';

		while (is_ws(*r))
			r++;
		if (*r == '\0' || (comments && *r == '#')) {
			if (after_comma) {
				err_set(why, whylen, "empty list item after "
						"the last comma");
				goto fail;
			}
			return 0;
		}
		item = w;
		if (*r == '"') {
			r++;
			for (;;) {
				if (*r == '\0') {
					err_set(why, whylen, "unterminated "
							"quoted string");
					goto fail;
				}
				if (*r == '"')
					break;
				if (*r == '\\') {
					if (r[1] != '"' && r[1] != '\\') {
						err_set(why, whylen, "unknown "
							"escape \\%c in quoted "
							"string (only \\\" and "
							"\\\\)", r[1] == '\0' ?
							' ' : r[1]);
						goto fail;
					}
					r++;
				}
				*w++ = *r++;
			}
			r++;
			while (is_ws(*r))
				r++;
			if (*r != '\0' && *r != ',' && !(comments && *r == '#')) {
				err_set(why, whylen, "unexpected text after "
						"a quoted string");
				goto fail;
			}
		} else {
			char *end;

			while (*r != '\0' && *r != ',' &&
					!(comments && *r == '#' && is_ws(prev))) {
				if (*r == '"') {
					err_set(why, whylen, "unexpected '\"' "
						"inside an unquoted value "
						"(quote the whole item)");
					goto fail;
				}
				prev = *r;
				*w++ = *r++;
			}
			end = w;
			while (end > item && is_ws(end[-1]))
				end--;
			w = end;
			if (w == item) {
				err_set(why, whylen, "empty list item");
				goto fail;
			}
		}
		/* r is at ',', '#' or the end; terminate the item */
		{
			char c = *r;

			*w++ = '\0';
			if (value_push(v, item, &cap) < 0) {
				err_set(why, whylen, "out of memory");
				value_free(v);
				return -ENOMEM;
			}
			if (c == ',') {
				r++;
				after_comma = true;
			} else {
				return 0;
			}
		}
	}
fail:
	value_free(v);
	return -EINVAL;
}

/* Levenshtein distance, capped; for "did you mean". */
static unsigned
distance(const char *a, const char *b)
{
	unsigned row[72], i, j, la = (unsigned)strlen(a),
		lb = (unsigned)strlen(b);

	if (la > 64 || lb > 64)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		unsigned diag = row[0], tmp;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			diag = tmp;
		}
	}
	return row[lb];
}

static const char *
suggest(const char *key)
{
	const char *best = NULL;
	unsigned d, bd = 3;
	size_t i;

	for (i = 0; i < swd_keys_count; i++) {
		d = distance(key, swd_keys[i].name);
		if (d < bd) {
			bd = d;
			best = swd_keys[i].name;
		}
	}
	return best;
}

/*
 * Applies one line of text (from the file when set is false, else a --set
 * argument). Returns 0 or a negative errno with the message in c->err.
 */
static int
apply_text(struct load_ctx *c, char *text, unsigned line, bool set)
{
	struct swd_value v;
	char loc[SWD_CONFIG_ERR_MAX / 2], why[SWD_CONFIG_ERR_MAX / 2];
	const char *hint;
	char *key;
	int ki, rc;

	where(c, line, set, loc, sizeof(loc));
	rc = split_line(text, !set, &key, &v, why, sizeof(why));
	if (rc == 1)
		return 0;
	if (rc < 0) {
		if (key != NULL && swd_key_find(key) >= 0)
			err_set(c->err, c->errlen, "%s: %s: %s", loc, key, why);
		else
			err_set(c->err, c->errlen, "%s: %s", loc, why);
		return rc;
	}
	ki = swd_key_find(key);
	if (ki < 0) {
		hint = suggest(key);
		err_set(c->err, c->errlen, "%s: %.64s: unknown key%s%s%s", loc,
				key, hint ? " (did you mean " : "",
				hint ? hint : "", hint ? "?)" : "");
		value_free(&v);
		return -EINVAL;
	}
	if (!set && c->line_of[ki] != 0) {
		err_set(c->err, c->errlen, "%s: %s: duplicate key (first set "
				"on line %u)", loc, key, c->line_of[ki]);
		value_free(&v);
		return -EINVAL;
	}
	if (v.count == 0 && (swd_keys[ki].flags &
				(SWD_KEY_OPTIONAL | SWD_KEY_LIST)) == 0) {
		err_set(c->err, c->errlen, "%s: %s: empty value", loc, key);
		value_free(&v);
		return -EINVAL;
	}
	why[0] = '\0';
	rc = swd_keys[ki].kind->parse(&swd_keys[ki], c->cfg, &v, why,
			sizeof(why));
	value_free(&v);
	if (rc < 0) {
		err_set(c->err, c->errlen, "%s: %s: %s", loc, key, why);
		return rc;
	}
	if (set) {
		c->by_set[ki] = true;
	} else {
		c->line_of[ki] = line;
		c->by_set[ki] = false;
	}
	return 0;
}

/* ---- the file ---------------------------------------------------------- */

static int
read_all(const char *path, char **out, size_t *outlen, char *err,
		size_t errlen)
{
	size_t cap = SWD_CONFIG_FILE_MAX + 1, len = 0;
	char *buf;
	ssize_t n;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		err_set(err, errlen, "config %s: cannot open: %s", path,
				strerror(e));
		return -e;
	}
	buf = malloc(cap);
	if (buf == NULL) {
		close(fd);
		err_set(err, errlen, "config %s: out of memory", path);
		return -ENOMEM;
	}
	for (;;) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			err_set(err, errlen, "config %s: cannot read: %s", path,
					strerror(e));
			free(buf);
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > SWD_CONFIG_FILE_MAX) {
			err_set(err, errlen, "config %s: file larger than "
					"%u bytes (1 MiB)", path,
					SWD_CONFIG_FILE_MAX);
			free(buf);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
}

static int
load_file(struct load_ctx *c, const char *path)
{
	char *buf = NULL, *line, why[128];
	size_t len = 0, pos = 0;
	unsigned lineno = 0;
	int rc;

	rc = read_all(path, &buf, &len, c->err, c->errlen);
	if (rc < 0)
		return rc;
	line = malloc(SWD_CONFIG_LINE_MAX + 1);
	if (line == NULL) {
		free(buf);
		err_set(c->err, c->errlen, "config %s: out of memory", path);
		return -ENOMEM;
	}
	/* a UTF-8 byte order mark is tolerated */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - buf) : len, n;

		lineno++;
		n = end - pos;
		if (n > 0 && buf[pos + n - 1] == '\r')
			n--;
		if (n > SWD_CONFIG_LINE_MAX) {
			err_set(c->err, c->errlen, "config %s:%u: line longer "
					"than %d bytes", path, lineno,
					SWD_CONFIG_LINE_MAX);
			rc = -EINVAL;
			break;
		}
		if (check_text((const unsigned char *)buf + pos, n, why,
					sizeof(why)) < 0) {
			err_set(c->err, c->errlen, "config %s:%u: %s", path,
					lineno, why);
			rc = -EINVAL;
			break;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		rc = apply_text(c, line, lineno, false);
		if (rc < 0)
			break;
		pos = end + 1;
	}
	free(line);
	free(buf);
	return rc;
}

/* ---- rules between keys ------------------------------------------------ */

/*
 * The key a rule between first and second is reported at: first where it
 * was last set if it was, else second (wherever that was set, if at all).
 */
static int
pick_key(const struct load_ctx *c, const char *first, const char *second)
{
	int ki = swd_key_find(first);

	return key_is_set(c, ki) ? ki : swd_key_find(second);
}

static int
finalize(struct load_ctx *c)
{
	struct swd_config *cfg = c->cfg;
	char loc[SWD_CONFIG_ERR_MAX / 2], why[SWD_CONFIG_ERR_MAX / 2];
	uint32_t mask;
	size_t i;
	int ki, rc;

	for (i = 0; i < swd_keys_count; i++) {
		if (!(swd_keys[i].flags & SWD_KEY_REQUIRED) ||
				key_is_set(c, (int)i))
			continue;
		where(c, 0, false, loc, sizeof(loc));
		err_set(c->err, c->errlen, "%s: %s: required key missing%s",
				loc, swd_keys[i].name, c->file == NULL ?
				" (no config file: give -c FILE or --set "
				"key=value)" : "");
		return -EINVAL;
	}
	if (cfg->udp_port == cfg->gossip_port) {
		ki = swd_key_find("gossip_port");
		if (!key_is_set(c, ki))
			ki = swd_key_find("udp_port");
		key_where(c, ki, loc, sizeof(loc));
		err_set(c->err, c->errlen, "%s: %s: gossip_port and udp_port "
				"must differ, both are %u", loc,
				swd_keys[ki].name, cfg->udp_port);
		return -EINVAL;
	}
	if (cfg->probe_timeout_ms >= cfg->probe_interval_ms) {
		ki = swd_key_find("probe_timeout_ms");
		if (!key_is_set(c, ki))
			ki = swd_key_find("probe_interval_ms");
		key_where(c, ki, loc, sizeof(loc));
		err_set(c->err, c->errlen, "%s: %s: probe_timeout_ms (%u) must "
				"be below probe_interval_ms (%u)", loc,
				swd_keys[ki].name, cfg->probe_timeout_ms,
				cfg->probe_interval_ms);
		return -EINVAL;
	}
	/* a lost batch must get a resend before a held answer times out */
	if (cfg->repl_rto_ms >= cfg->fwd_timeout_ms) {
		ki = pick_key(c, "repl_rto_ms", "fwd_timeout_ms");
		key_where(c, ki, loc, sizeof(loc));
		err_set(c->err, c->errlen, "%s: %s: repl_rto_ms (%u) must be "
				"below fwd_timeout_ms (%u)", loc,
				swd_keys[ki].name, cfg->repl_rto_ms,
				cfg->fwd_timeout_ms);
		return -EINVAL;
	}
	/* a removal must outlive an anti-entropy round and its push */
	if ((uint64_t)cfg->tombstone_ms < 2 * (uint64_t)cfg->ae_interval_ms) {
		ki = pick_key(c, "tombstone_ms", "ae_interval_ms");
		key_where(c, ki, loc, sizeof(loc));
		err_set(c->err, c->errlen, "%s: %s: tombstone_ms (%u) must be "
				"at least 2 x ae_interval_ms (%u)", loc,
				swd_keys[ki].name, cfg->tombstone_ms,
				cfg->ae_interval_ms);
		return -EINVAL;
	}
	/* the counter lines are info messages */
	if (cfg->stats_interval_s > 0 && cfg->log_level < SWD_LOG_INFO) {
		ki = pick_key(c, "stats_interval_s", "log_level");
		key_where(c, ki, loc, sizeof(loc));
		err_set(c->err, c->errlen, "%s: %s: stats_interval_s needs "
				"log_level info or debug (the counter lines "
				"are info messages), log_level is %s", loc,
				swd_keys[ki].name,
				swd_log_level_name(cfg->log_level));
		return -EINVAL;
	}
	if (cfg->has_gateway) {
		ki = swd_key_find("gateway");
		key_where(c, ki, loc, sizeof(loc));
		mask = cfg->prefix_len == 0 ? 0 :
			(uint32_t)(0xffffffffu << (32 - cfg->prefix_len));
		if ((cfg->gateway & mask) != (cfg->ip & mask)) {
			err_set(c->err, c->errlen, "%s: gateway: %u.%u.%u.%u is "
				"outside the subnet %u.%u.%u.%u/%u of ip", loc,
				cfg->gateway >> 24, (cfg->gateway >> 16) & 0xff,
				(cfg->gateway >> 8) & 0xff, cfg->gateway & 0xff,
				(cfg->ip & mask) >> 24,
				((cfg->ip & mask) >> 16) & 0xff,
				((cfg->ip & mask) >> 8) & 0xff,
				cfg->ip & mask & 0xff, cfg->prefix_len);
			return -EINVAL;
		}
		if (cfg->gateway == cfg->ip) {
			err_set(c->err, c->errlen, "%s: gateway: is this "
					"node's own address (ip)", loc);
			return -EINVAL;
		}
		if (cfg->prefix_len <= 30 && ((cfg->gateway & ~mask) == 0 ||
				(cfg->gateway & ~mask) == ~mask)) {
			err_set(c->err, c->errlen, "%s: gateway: is the "
					"network or broadcast address of the "
					"subnet of ip", loc);
			return -EINVAL;
		}
	}
	if (cfg->cluster_keys_accepted_count > 0 && !cfg->has_cluster_key) {
		ki = swd_key_find("cluster_keys_accepted");
		key_where(c, ki, loc, sizeof(loc));
		err_set(c->err, c->errlen, "%s: cluster_keys_accepted: needs "
				"cluster_key (the key gossip is sent with)",
				loc);
		return -EINVAL;
	}
	rc = swd_build_filter(cfg, why, sizeof(why));
	if (rc < 0) {
		where(c, 0, false, loc, sizeof(loc));
		err_set(c->err, c->errlen, "%s: %s", loc, why);
		return rc;
	}
	return 0;
}

/* ---- command line ------------------------------------------------------ */

static int
check_set_arg(const char *a, char *err, size_t errlen)
{
	char why[128];
	size_t n = strlen(a);

	if (n > SWD_CONFIG_LINE_MAX) {
		err_set(err, errlen, "--set: argument longer than %d bytes",
				SWD_CONFIG_LINE_MAX);
		return -EINVAL;
	}
	if (check_text((const unsigned char *)a, n, why, sizeof(why)) < 0) {
		err_set(err, errlen, "--set: %s", why);
		return -EINVAL;
	}
	if (strchr(a, '=') == NULL) {
		err_set(err, errlen, "--set: expected key=value, got \"%.64s\"",
				a);
		return -EINVAL;
	}
	return 0;
}

int
swd_config_load_to(struct swd_config *cfg, int argc, char **argv, FILE *out,
		char *err, size_t errlen)
{
	struct load_ctx c;
	const char **sets = NULL, *path = NULL, *opt, *arg;
	char usage[256], *text = NULL;
	bool help = false, check = false, print = false;
	int i = 1, nsets = 0, rc = 0;

	swd_config_defaults(cfg);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (swd_keys_count > KEYS_MAX) {
		err_set(err, errlen, "config: internal error: too many keys");
		return -EINVAL;
	}
	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.err = err;
	c.errlen = errlen;
	usage[0] = '\0';
	if (argc > 0) {
		sets = calloc((size_t)argc, sizeof(*sets));
		if (sets == NULL) {
			err_set(err, errlen, "config: out of memory");
			return -ENOMEM;
		}
	}
	if (argc > 1 && strcmp(argv[1], "--") == 0)
		i = 2;
	for (; i < argc; i++) {
		const char *a = argv[i];

		opt = NULL;
		arg = NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			help = true;
			continue;
		} else if (strcmp(a, "--check") == 0) {
			check = true;
			continue;
		} else if (strcmp(a, "--print-config") == 0) {
			print = true;
			continue;
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
				strcmp(a, "--set") == 0) {
			opt = a;
			if (i + 1 < argc)
				arg = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			opt = "--config";
			arg = a + 9;
		} else if (strncmp(a, "--set=", 6) == 0) {
			opt = "--set";
			arg = a + 6;
		} else if (usage[0] == '\0') {
			snprintf(usage, sizeof(usage), "usage: %s \"%.64s\" "
					"(see --help)", a[0] == '-' ?
					"unknown option" : "unexpected argument",
					a);
			continue;
		} else {
			continue;
		}
		if (arg == NULL) {
			if (usage[0] == '\0')
				snprintf(usage, sizeof(usage), "usage: %s "
						"needs %s", opt, strcmp(opt,
						"--set") == 0 ? "key=value" :
						"a file name");
		} else if (strcmp(opt, "--set") == 0) {
			sets[nsets++] = arg;
		} else if (path != NULL) {
			if (usage[0] == '\0')
				snprintf(usage, sizeof(usage), "usage: only "
						"one configuration file (-c) "
						"may be given");
		} else if (arg[0] == '\0') {
			if (usage[0] == '\0')
				snprintf(usage, sizeof(usage), "usage: %s "
						"needs a file name", opt);
		} else {
			path = arg;
		}
	}
	if (help) {
		rc = swd_config_help(argc > 0 ? argv[0] : NULL, out) < 0 ?
			-EIO : SWD_CONFIG_EXIT_HELP;
		if (rc < 0)
			err_set(err, errlen, "cannot write the help");
		goto out;
	}
	if (usage[0] != '\0') {
		err_set(err, errlen, "%s", usage);
		rc = -EINVAL;
		goto out;
	}
	for (i = 0; i < nsets; i++) {
		rc = check_set_arg(sets[i], err, errlen);
		if (rc < 0)
			goto out;
	}
	if (path != NULL) {
		cfg->config_path = strdup(path);
		if (cfg->config_path == NULL) {
			err_set(err, errlen, "config: out of memory");
			rc = -ENOMEM;
			goto out;
		}
		c.file = cfg->config_path;
		rc = load_file(&c, path);
		if (rc < 0)
			goto out;
	}
	for (i = 0; i < nsets; i++) {
		free(text);
		text = strdup(sets[i]);
		if (text == NULL) {
			err_set(err, errlen, "config: out of memory");
			rc = -ENOMEM;
			goto out;
		}
		rc = apply_text(&c, text, 0, true);
		if (rc < 0)
			goto out;
	}
	rc = finalize(&c);
	if (rc < 0)
		goto out;
	if (print) {
		rc = swd_config_print(cfg, out) < 0 ? -EIO :
			SWD_CONFIG_EXIT_PRINTED;
		if (rc < 0)
			err_set(err, errlen, "cannot write the configuration");
	} else if (check) {
		if (path != NULL)
			fprintf(out, "%s: configuration is valid\n", path);
		else
			fprintf(out, "configuration is valid\n");
		rc = fflush(out) != 0 ? -EIO : SWD_CONFIG_EXIT_CHECKED;
		if (rc < 0)
			err_set(err, errlen, "cannot write to the output");
	}
out:
	free(text);
	free(sets);
	if (rc < 0)
		swd_config_free(cfg);
	return rc;
}

int
swd_config_load(struct swd_config *cfg, int argc, char **argv, char *err,
		size_t errlen)
{
	return swd_config_load_to(cfg, argc, argv, stdout, err, errlen);
}

/* ---- printing ---------------------------------------------------------- */

/*
 * The value of key k in cfg as printed in file syntax (malloc'd), and
 * whether it is set. NULL when out of memory.
 */
static char *
value_text(const struct swd_key *k, const struct swd_config *cfg, bool *set)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int r;

	if (m == NULL)
		return NULL;
	r = k->kind->print(k, cfg, m);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	*set = r == 0;
	return buf;
}

int
swd_config_print(const struct swd_config *cfg, FILE *out)
{
	size_t i;
	char *v;
	bool set;

	fprintf(out, "# swarmd configuration (swarmd -- --print-config)\n");
	if (cfg->config_path != NULL &&
			strpbrk(cfg->config_path, "\r\n") == NULL)
		fprintf(out, "# loaded from %s\n", cfg->config_path);
	for (i = 0; i < swd_keys_count; i++) {
		const struct swd_key *k = &swd_keys[i];

		if (k->section != NULL)
			fprintf(out, "\n# %s\n", k->section);
		v = value_text(k, cfg, &set);
		if (v == NULL)
			return -EIO;
		if ((k->flags & SWD_KEY_SECRET) && set && v[0] != '\0')
			fprintf(out, "# %s = %s  (secret, not printed)\n",
					k->name, v);
		else if ((k->flags & SWD_KEY_SECRET) && set)
			fprintf(out, "%s =\n", k->name);
		else if (!set)
			fprintf(out, "%s =  # not set: %s\n", k->name,
					k->unset != NULL ? k->unset : "none");
		else if (v[0] == '\0')
			fprintf(out, "%s =\n", k->name);
		else
			fprintf(out, "%s = %s\n", k->name, v);
		free(v);
	}
	return fflush(out) != 0 || ferror(out) ? -EIO : 0;
}

/* Prints text wrapped to 78 columns, each line indented by indent. */
static void
wrap(FILE *out, const char *text, int indent)
{
	int col = 0;

	while (*text != '\0') {
		const char *sp = strchr(text, ' ');
		int n = sp != NULL ? (int)(sp - text) : (int)strlen(text);

		if (col > 0 && col + 1 + n > 78) {
			fputc('\n', out);
			col = 0;
		}
		if (col == 0)
			col = fprintf(out, "%*s", indent, "");
		else
			col += fprintf(out, " ");
		col += fprintf(out, "%.*s", n, text);
		text += n;
		while (*text == ' ')
			text++;
	}
	if (col > 0)
		fputc('\n', out);
}

int
swd_config_help(const char *prog, FILE *out)
{
	struct swd_config def;
	char type[256], line[512];
	size_t i;
	char *v;
	bool set;

	swd_config_defaults(&def);
	fprintf(out,
"usage: %s [EAL options] -- [-c FILE] [--set key=value]... [--check]\n"
"       [--print-config] [--help]\n"
"\n"
"swarmd, the swarm name registry appliance. Options after \"--\":\n"
"  -c, --config FILE   read the configuration file FILE (\"key = value\" lines)\n"
"  --set key=value     set a key, overriding the file; repeatable, applied in\n"
"                      order after the file (a later --set wins)\n"
"  --check             validate the configuration, then exit 0\n"
"  --print-config      print the effective configuration in file syntax, then\n"
"                      exit 0 (cluster keys are shown as <set>)\n"
"  -h, --help          print this help, then exit 0\n"
"\n"
"Exit status: 0 success (or --help, --check, --print-config); 2 bad\n"
"configuration or usage (the message names the file and line or --set, the\n"
"key and the reason).\n"
"\n"
"File syntax: one \"key = value\" per line; '#' starts a comment at the start\n"
"of a line or after whitespace; values may be double-quoted (escapes \\\" and\n"
"\\\\); lists are comma-separated. Each key at most once per file. Files up to\n"
"1 MiB, lines up to %d bytes, UTF-8. See docs/configuration.md.\n"
"\n"
"Keys:\n", prog != NULL ? prog : "swarmd", SWD_CONFIG_LINE_MAX);
	for (i = 0; i < swd_keys_count; i++) {
		const struct swd_key *k = &swd_keys[i];

		if (k->section != NULL)
			fprintf(out, "\n  [%s]\n", k->section);
		k->kind->describe(k, type, sizeof(type));
		v = value_text(k, &def, &set);
		if (v == NULL)
			return -EIO;
		if (k->flags & SWD_KEY_REQUIRED)
			snprintf(line, sizeof(line), "%s; required", type);
		else if (!set)
			snprintf(line, sizeof(line), "%s; default: %s", type,
					k->unset != NULL ? k->unset : "none");
		else if (v[0] == '\0')
			snprintf(line, sizeof(line), "%s; default: empty",
					type);
		else
			snprintf(line, sizeof(line), "%s; default: %s", type, v);
		free(v);
		fprintf(out, "  %s\n", k->name);
		wrap(out, line, 6);
		wrap(out, k->help, 6);
	}
	return fflush(out) != 0 || ferror(out) ? -EIO : 0;
}
