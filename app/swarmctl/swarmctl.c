/*
 * swarmctl - command-line client of a swarm node (docs/swarmctl.md).
 *
 *   swarmctl [-s host:port]... [--timeout MS] [--retries N] [--replicas K] [--json]
 *            COMMAND ARGS
 *
 * Exit codes: 0 ok / found, 1 not found, 2 usage error, 3 the server
 * refused or failed the op (any other protocol status, or a reply that
 * does not parse), 4 no answer, 5 local failure (socket, name
 * resolution, memory).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swc.h"

#define EX_OK		0
#define EX_NOTFOUND	1
#define EX_USAGE	2
#define EX_SERVER	3
#define EX_NOANSWER	4
#define EX_LOCAL	5

#define DEFAULT_SERVER	"127.0.0.1:7400"
#define MAX_POS		8

struct args {
	const char *servers[SWC_MAX_SERVERS];
	size_t nservers;
	uint32_t timeout_ms;
	uint32_t retries;
	uint32_t replicas;
	bool json;
	bool help;
	const char *cmd;
	const char *pos[MAX_POS];
	size_t npos;
	/* command options (NULL / false when absent) */
	const char *endpoint, *meta, *meta_hex, *ttl, *handle, *max, *cursor;
	const char *wait;
	bool all, writable;
};

struct cmd {
	const char *name;
	const char *synopsis;
	const char *help;
	const char *opts;	/* accepted command options, space separated */
	size_t min_pos, max_pos;
	int (*run)(struct swc_client *c, const struct args *a);
};

static const struct cmd *cur_cmd;

/* ---- messages and escaping ---------------------------------------- */

static void usage_err(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void
usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "swarmctl: ");
	if (cur_cmd)
		fprintf(stderr, "%s: ", cur_cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (cur_cmd)
		fprintf(stderr, "usage: swarmctl [OPTIONS] %s\n"
			"(swarmctl %s --help for more)\n", cur_cmd->synopsis,
			cur_cmd->name);
	else
		fprintf(stderr, "(swarmctl --help for usage)\n");
	exit(EX_USAGE);
}

/* Bytes for humans: printable ASCII as is, '\' as "\\", others "\xHH". */
static void
put_escaped(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\\')
			fputs("\\\\", f);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			fputc(p[i], f);
		else
			fprintf(f, "\\x%02x", p[i]);
	}
}

/* The same rendering, as a JSON string (so "\x00" appears as "\\x00"). */
static void
put_json_str(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		if (p[i] == '\\')
			fputs("\\\\\\\\", f);
		else if (p[i] == '"')
			fputs("\\\"", f);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			fputc(p[i], f);
		else
			fprintf(f, "\\\\x%02x", p[i]);
	}
	fputc('"', f);
}

static void
put_json_cstr(FILE *f, const char *s)
{
	put_json_str(f, (const uint8_t *)s, strlen(s));
}

static void
put_hex(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

/* ---- argument parsing --------------------------------------------- */

static bool
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (s[2] == '\0' || s[2] == '-' || s[2] == '+' || s[2] == ' ')
			return false;
		v = strtoull(s + 2, &end, 16);
	} else {
		v = strtoull(s, &end, 10);
	}
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes hex into out (at most max bytes); false if not valid. */
static bool
parse_hex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 > max)
		return false;
	for (i = 0; i < n / 2; i++) {
		int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);

		if (h < 0 || l < 0)
			return false;
		out[i] = (uint8_t)(h << 4 | l);
	}
	*len = n / 2;
	return true;
}

static void
check_name(const char *what, const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > PROTO_NAME_MAX)
		usage_err("%s must be 1..255 bytes (got %zu)", what, n);
}

static uint64_t
arg_handle(const char *what, const char *s)
{
	uint64_t v;

	if (!parse_u64(s, UINT64_MAX, &v))
		usage_err("%s '%s' is not a u64 (decimal, or hex with 0x)",
			what, s);
	return v;
}

static uint64_t
arg_num(const char *what, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (!parse_u64(s, UINT64_MAX, &v) || v < min || v > max)
		usage_err("%s '%s' must be a number in %" PRIu64 "..%" PRIu64,
			what, s, min, max);
	return v;
}

/* ---- output ------------------------------------------------------- */

static void
human_entry(const struct swc_entry *e)
{
	char ep[SWC_ADDR_STRLEN];

	printf("name      ");
	put_escaped(stdout, e->name, e->name_len);
	printf("\nhandle    %" PRIu64 " (0x%" PRIx64 ")\n", e->handle,
		e->handle);
	printf("endpoint  %s\n", swc_endpoint_format(&e->ep, ep, sizeof(ep)));
	printf("node      %" PRIu32 "\n", e->node);
	printf("version   %" PRIu64 ".%" PRIu32 "\n", e->version_clock,
		e->version_node);
	if (e->ttl_ms)
		printf("ttl       %" PRIu32 " ms remaining\n", e->ttl_ms);
	else
		printf("ttl       none\n");
	printf("metadata  ");
	put_escaped(stdout, e->meta, e->meta_len);
	printf("\n");
}

static void
human_line(const struct swc_entry *e)
{
	char ep[SWC_ADDR_STRLEN];

	put_escaped(stdout, e->name, e->name_len);
	printf("  handle=%" PRIu64 " endpoint=%s node=%" PRIu32
		" version=%" PRIu64 ".%" PRIu32 " ttl=%" PRIu32 " meta=",
		e->handle, swc_endpoint_format(&e->ep, ep, sizeof(ep)),
		e->node, e->version_clock, e->version_node, e->ttl_ms);
	put_escaped(stdout, e->meta, e->meta_len);
	printf("\n");
}

static void
json_entry(const struct swc_entry *e)
{
	char ep[SWC_ADDR_STRLEN];

	printf("{\"name\":");
	put_json_str(stdout, e->name, e->name_len);
	printf(",\"name_hex\":\"");
	put_hex(stdout, e->name, e->name_len);
	printf("\",\"handle\":%" PRIu64 ",\"node\":%" PRIu32
		",\"version\":{\"clock\":%" PRIu64 ",\"node\":%" PRIu32 "}"
		",\"ttl_ms\":%" PRIu32 ",\"endpoint\":", e->handle, e->node,
		e->version_clock, e->version_node, e->ttl_ms);
	if (e->ep.family == PROTO_AF_NONE)
		printf("null");
	else
		put_json_cstr(stdout,
			swc_endpoint_format(&e->ep, ep, sizeof(ep)));
	printf(",\"metadata\":");
	put_json_str(stdout, e->meta, e->meta_len);
	printf(",\"metadata_hex\":\"");
	put_hex(stdout, e->meta, e->meta_len);
	printf("\"}");
}

/* Opens the JSON object of a command. */
static void
json_begin(const struct args *a)
{
	printf("{\"command\":");
	put_json_cstr(stdout, a->cmd);
}

static const char *
server_of(struct swc_client *c, const struct swc_result *r)
{
	int s = r->server >= 0 ? r->server : swc_client_current(c);

	return swc_client_server(c, (size_t)s);
}

/* Exit code of a protocol status or swc error. */
static int
exit_of(int rc)
{
	switch (rc) {
	case PROTO_ST_OK:
		return EX_OK;
	case PROTO_ST_NOT_FOUND:
		return EX_NOTFOUND;
	case SWC_ETIMEDOUT:
	case SWC_ENOANSWER:
		return EX_NOANSWER;
	case SWC_EINVAL:
		return EX_USAGE;
	case SWC_ESOCKET:
	case SWC_ENOMEM:
	case SWC_ERESOLVE:
		return EX_LOCAL;
	default:
		return EX_SERVER;	/* other statuses, SWC_EBADREPLY */
	}
}

static const char *
status_word(int rc)
{
	if (rc == SWC_ETIMEDOUT || rc == SWC_ENOANSWER)
		return "no_answer";
	if (rc == SWC_EBADREPLY)
		return "bad_reply";
	if (rc < 0)
		return "local_error";
	return proto_status_name((unsigned int)rc);
}

/*
 * Reports a failed op (anything but ok) and returns the exit code. The
 * JSON object has been begun by the caller and is closed here.
 */
static int
report_failure(struct swc_client *c, const struct args *a, int rc,
		const struct swc_result *r, const char *what)
{
	char detail[1200] = "";

	switch (rc) {
	case PROTO_ST_NOT_FOUND:
		snprintf(detail, sizeof(detail), "not found");
		break;
	case PROTO_ST_BAD_REQUEST:
		snprintf(detail, sizeof(detail),
			"bad_request: the server refused field '%s'",
			proto_field_name(r->field));
		break;
	case PROTO_ST_OVERLOADED:
		snprintf(detail, sizeof(detail),
			"overloaded (retry after %" PRIu32 " ms), after %u tries",
			r->retry_after_ms, r->tries);
		break;
	case PROTO_ST_NOT_READY:
		snprintf(detail, sizeof(detail),
			"not_ready: the node is still joining or syncing "
			"(retry after %" PRIu32 " ms), after %u tries",
			r->retry_after_ms, r->tries);
		break;
	case PROTO_ST_BAD_VERSION:
		snprintf(detail, sizeof(detail),
			"bad_version: the server speaks versions %u..%u",
			r->version_min, r->version_max);
		break;
	case PROTO_ST_TOO_LARGE:
		snprintf(detail, sizeof(detail),
			"too_large: the server accepts %u bytes", r->limit);
		break;
	case SWC_ETIMEDOUT:
	case SWC_ENOANSWER:
	case SWC_ESOCKET:
		snprintf(detail, sizeof(detail), "%s",
			swc_client_errmsg(c)[0] ? swc_client_errmsg(c) :
			swc_strerror(rc));
		break;
	default:
		snprintf(detail, sizeof(detail), "%s", swc_strerror(rc));
		break;
	}
	if (a->json) {
		printf(",\"ok\":false,\"status\":\"%s\",\"error\":",
			status_word(rc));
		put_json_cstr(stdout, detail);
		if (rc == PROTO_ST_BAD_REQUEST)
			printf(",\"field\":\"%s\"", proto_field_name(r->field));
		if (r->has_entry && (rc == PROTO_ST_ALREADY_REGISTERED ||
				rc == PROTO_ST_HANDLE_MISMATCH)) {
			printf(",\"entry\":");
			json_entry(&r->entry);
		}
		if (rc == SWC_ETIMEDOUT || rc == SWC_ENOANSWER) {
			size_t i;
			bool first = true;

			printf(",\"servers\":[");
			for (i = 0; i < swc_client_nservers(c); i++) {
				bool ans;
				unsigned int t = swc_client_tries_of(c, i, &ans);

				if (t == 0)
					continue;
				printf("%s{\"server\":", first ? "" : ",");
				put_json_cstr(stdout, swc_client_server(c, i));
				printf(",\"tries\":%u,\"answered\":%s}", t,
					ans ? "true" : "false");
				first = false;
			}
			printf("]");
		} else if (rc >= 0) {
			printf(",\"server\":");
			put_json_cstr(stdout, server_of(c, r));
		}
		printf("}\n");
		return exit_of(rc);
	}
	if (rc == PROTO_ST_NOT_FOUND) {
		printf("%s: not found\n", what);
		return EX_NOTFOUND;
	}
	if (rc == PROTO_ST_ALREADY_REGISTERED ||
	    rc == PROTO_ST_HANDLE_MISMATCH) {
		fprintf(stderr, "swarmctl: %s: %s; the name is held by handle "
			"%" PRIu64 "\n", a->cmd, swc_strerror(rc),
			r->entry.handle);
		if (r->has_entry)
			human_entry(&r->entry);
		return EX_SERVER;
	}
	if (rc >= 0)
		fprintf(stderr, "swarmctl: %s: %s (server %s)\n", a->cmd,
			detail, server_of(c, r));
	else
		fprintf(stderr, "swarmctl: %s: %s\n", a->cmd, detail);
	return exit_of(rc);
}

/* ---- commands ----------------------------------------------------- */

static int
cmd_register(struct swc_client *c, const struct args *a)
{
	bool wor = strcmp(a->cmd, "whereis-or-register") == 0;
	const char *name = a->pos[0];
	uint64_t handle, ttl = 0;
	struct proto_endpoint ep;
	uint8_t meta[PROTO_META_MAX];
	size_t meta_len = 0;
	struct swc_result r;
	int rc;

	check_name("NAME", name);
	handle = arg_handle("HANDLE", a->pos[1]);
	memset(&ep, 0, sizeof(ep));
	if (a->endpoint && swc_endpoint_parse(a->endpoint, &ep) != 0)
		usage_err("--endpoint '%s' is not IPv4:PORT, [IPv6]:PORT or "
			"none (port 1..65535)", a->endpoint);
	if (a->meta && a->meta_hex)
		usage_err("--meta and --meta-hex exclude each other");
	if (a->meta) {
		meta_len = strlen(a->meta);
		if (meta_len > PROTO_META_MAX)
			usage_err("--meta must be 0..255 bytes (got %zu)",
				meta_len);
		memcpy(meta, a->meta, meta_len);
	}
	if (a->meta_hex && !parse_hex(a->meta_hex, meta, sizeof(meta),
			&meta_len))
		usage_err("--meta-hex must be an even number of hex digits, "
			"0..255 bytes");
	if (a->ttl)
		ttl = arg_num("--ttl", a->ttl, 0, UINT32_MAX);
	if (wor)
		rc = swc_whereis_or_register(c, name, strlen(name), handle,
				&ep, meta, meta_len, (uint32_t)ttl, &r);
	else
		rc = swc_register(c, name, strlen(name), handle, &ep, meta,
				meta_len, (uint32_t)ttl, &r);
	if (a->json) {
		json_begin(a);
		printf(",\"name\":");
		put_json_cstr(stdout, name);
	}
	if (rc != PROTO_ST_OK)
		return report_failure(c, a, rc, &r, name);
	if (a->json) {
		printf(",\"ok\":true,\"status\":\"ok\",\"server\":");
		put_json_cstr(stdout, server_of(c, &r));
		if (wor) {
			printf(",\"outcome\":\"%s\",\"entry\":",
				r.outcome == PROTO_WOR_REGISTERED ?
				"registered" : "found");
			json_entry(&r.entry);
		} else {
			printf(",\"handle\":%" PRIu64 ",\"node\":%" PRIu32
				",\"version\":{\"clock\":%" PRIu64
				",\"node\":%" PRIu32 "}", handle,
				r.receipt_node, r.receipt_clock,
				r.receipt_vnode);
		}
		printf("}\n");
		return EX_OK;
	}
	if (wor) {
		printf("%s\n", r.outcome == PROTO_WOR_REGISTERED ?
			"registered" : "found (already registered)");
		human_entry(&r.entry);
	} else {
		printf("registered ");
		put_escaped(stdout, (const uint8_t *)name, strlen(name));
		printf(" handle %" PRIu64 " on node %" PRIu32 " version %"
			PRIu64 ".%" PRIu32 "\n", handle, r.receipt_node,
			r.receipt_clock, r.receipt_vnode);
	}
	return EX_OK;
}

static int
cmd_unregister(struct swc_client *c, const struct args *a)
{
	const char *name = a->pos[0];
	uint64_t handle = 0;
	struct swc_result r;
	int rc;

	check_name("NAME", name);
	if (a->handle)
		handle = arg_handle("--handle", a->handle);
	rc = swc_unregister(c, name, strlen(name), a->handle ? &handle : NULL,
			&r);
	if (a->json) {
		json_begin(a);
		printf(",\"name\":");
		put_json_cstr(stdout, name);
	}
	if (rc != PROTO_ST_OK)
		return report_failure(c, a, rc, &r, name);
	if (a->json) {
		printf(",\"ok\":true,\"status\":\"ok\",\"server\":");
		put_json_cstr(stdout, server_of(c, &r));
		printf("}\n");
	} else {
		printf("unregistered ");
		put_escaped(stdout, (const uint8_t *)name, strlen(name));
		printf("\n");
	}
	return EX_OK;
}

static int
cmd_whereis(struct swc_client *c, const struct args *a)
{
	const char *name = a->pos[0];
	struct swc_result r;
	int rc;

	check_name("NAME", name);
	rc = swc_whereis(c, name, strlen(name), &r);
	if (a->json) {
		json_begin(a);
		printf(",\"name\":");
		put_json_cstr(stdout, name);
	}
	if (rc != PROTO_ST_OK)
		return report_failure(c, a, rc, &r, name);
	if (a->json) {
		printf(",\"ok\":true,\"status\":\"ok\",\"server\":");
		put_json_cstr(stdout, server_of(c, &r));
		printf(",\"entry\":");
		json_entry(&r.entry);
		printf("}\n");
	} else {
		human_entry(&r.entry);
	}
	return EX_OK;
}

static int
cmd_group(struct swc_client *c, const struct args *a)
{
	bool join = strcmp(a->cmd, "join") == 0;
	const char *group = a->pos[0], *name = a->pos[1];
	struct swc_result r;
	int rc;

	check_name("GROUP", group);
	check_name("NAME", name);
	if (join)
		rc = swc_join(c, group, strlen(group), name, strlen(name), &r);
	else
		rc = swc_leave(c, group, strlen(group), name, strlen(name),
				&r);
	if (a->json) {
		json_begin(a);
		printf(",\"group\":");
		put_json_cstr(stdout, group);
		printf(",\"name\":");
		put_json_cstr(stdout, name);
	}
	if (rc != PROTO_ST_OK)
		return report_failure(c, a, rc, &r, name);
	if (a->json) {
		printf(",\"ok\":true,\"status\":\"ok\",\"server\":");
		put_json_cstr(stdout, server_of(c, &r));
		printf("}\n");
	} else {
		put_escaped(stdout, (const uint8_t *)name, strlen(name));
		printf(join ? " joined " : " left ");
		put_escaped(stdout, (const uint8_t *)group, strlen(group));
		printf("\n");
	}
	return EX_OK;
}

struct walk_out {
	const struct args *a;
	uint64_t n;
};

static int
print_one(const struct swc_entry *e, void *arg)
{
	struct walk_out *w = arg;

	if (w->a->json) {
		if (w->n)
			printf(",");
		json_entry(e);
	} else {
		human_line(e);
	}
	w->n++;
	return 0;
}

static int
cmd_list(struct swc_client *c, const struct args *a)
{
	bool members = strcmp(a->cmd, "members") == 0;
	const char *group = members ? a->pos[0] : NULL;
	bool all = a->all || (a->max == NULL && a->cursor == NULL);
	uint8_t cursor[PROTO_CURSOR_MAX];
	size_t clen = 0, i;
	uint16_t max = 0;
	struct walk_out w = { .a = a, .n = 0 };
	struct swc_result r;
	int rc;

	if (members)
		check_name("GROUP", group);
	if (a->all && a->cursor)
		usage_err("--all and --cursor exclude each other");
	if (a->max)
		max = (uint16_t)arg_num("--max", a->max, 0, UINT16_MAX);
	if (a->cursor && !parse_hex(a->cursor, cursor, sizeof(cursor), &clen))
		usage_err("--cursor must be hex, 0..32 bytes");
	if (a->json) {
		json_begin(a);
		if (members) {
			printf(",\"group\":");
			put_json_cstr(stdout, group);
		}
		printf(",\"entries\":[");
	}
	if (all) {
		if (members)
			rc = swc_members_all(c, group, strlen(group), max,
					print_one, &w, &r);
		else
			rc = swc_registered_all(c, max, print_one, &w, &r);
	} else {
		if (members)
			rc = swc_members(c, group, strlen(group), cursor, clen,
					max, -1, &r);
		else
			rc = swc_registered(c, cursor, clen, max, -1, &r);
		for (i = 0; rc == PROTO_ST_OK && i < r.count; i++)
			print_one(&r.entries[i], &w);
	}
	if (a->json) {
		printf("],\"count\":%" PRIu64, w.n);
		if (rc != PROTO_ST_OK)
			return report_failure(c, a, rc, &r, group ? group :
					"registered");
		printf(",\"ok\":true,\"status\":\"ok\",\"server\":");
		put_json_cstr(stdout, server_of(c, &r));
		if (!all) {
			printf(",\"end\":%s,\"cursor\":\"",
				r.end ? "true" : "false");
			put_hex(stdout, r.cursor, r.cursor_len);
			printf("\"");
		}
		printf("}\n");
		return EX_OK;
	}
	if (rc != PROTO_ST_OK)
		return report_failure(c, a, rc, &r, group ? group :
				"registered");
	if (all) {
		printf("(%" PRIu64 " %s)\n", w.n, members ? "members" :
			"registrations");
	} else if (r.end) {
		printf("(%" PRIu64 " on this page; end)\n", w.n);
	} else {
		printf("(%" PRIu64 " on this page; next: --cursor ", w.n);
		put_hex(stdout, r.cursor, r.cursor_len);
		printf(")\n");
	}
	return EX_OK;
}

/* READINESS fields as JSON members (after a comma) or text lines. */
static void
json_readiness(const struct proto_readiness *rd)
{
	printf("\"state\":\"%s\",\"synced\":%u,\"partitions\":%u,"
		"\"alive\":%u,\"owners\":%u,\"retry_after_ms\":%" PRIu32,
		proto_ready_state_name(rd->state), rd->synced, rd->partitions,
		rd->alive, rd->owners, rd->retry_after_ms);
}

static void
human_readiness(const struct proto_readiness *rd)
{
	printf("state       %s", proto_ready_state_name(rd->state));
	switch (rd->state) {
	case PROTO_READY_JOINING:
		printf(" (looking for its peers; not answering registry ops)");
		break;
	case PROTO_READY_SYNCING:
		printf(" (%u of %u partitions received)", rd->synced,
			rd->partitions);
		break;
	case PROTO_READY_NO_OWNER:
		printf(" (below quorum or no allowed node: writes refused)");
		break;
	default:
		break;
	}
	printf("\nmembers     %u alive, %u owning names\n", rd->alive,
		rd->owners);
}

static int
cmd_status(struct swc_client *c, const struct args *a)
{
	struct swc_result r, rr;
	int rc = swc_status(c, &r);
	bool has_rd;

	if (a->json)
		json_begin(a);
	if (rc != PROTO_ST_OK)
		return report_failure(c, a, rc, &r, "status");
	/* older nodes do not know READINESS: then say nothing about it */
	has_rd = swc_readiness(c, r.server, &rr) == PROTO_ST_OK;
	if (a->json) {
		printf(",\"ok\":true,\"status\":\"ok\",\"server\":");
		put_json_cstr(stdout, server_of(c, &r));
		printf(",\"node\":%" PRIu32 ",\"node_name\":", r.node.node);
		put_json_str(stdout, (const uint8_t *)r.node.name,
			r.node.name_len);
		printf(",\"version_min\":%u,\"version_max\":%u,"
			"\"partitions\":%u,\"entries\":%" PRIu64
			",\"uptime_ms\":%" PRIu64, r.node.version_min,
			r.node.version_max, r.node.partitions,
			r.node.entries, r.node.uptime_ms);
		if (has_rd) {
			printf(",\"readiness\":{");
			json_readiness(&rr.ready);
			printf("}");
		}
		printf("}\n");
		return EX_OK;
	}
	printf("server      %s\n", server_of(c, &r));
	printf("node        %" PRIu32 " (", r.node.node);
	put_escaped(stdout, (const uint8_t *)r.node.name, r.node.name_len);
	printf(")\nprotocol    %u..%u\n", r.node.version_min,
		r.node.version_max);
	printf("partitions  %u\n", r.node.partitions);
	printf("entries     %" PRIu64 "\n", r.node.entries);
	printf("uptime      %" PRIu64 " ms\n", r.node.uptime_ms);
	if (has_rd)
		human_readiness(&rr.ready);
	return EX_OK;
}

static int
cmd_wait_ready(struct swc_client *c, const struct args *a)
{
	uint32_t wait_ms = a->wait ? (uint32_t)arg_num("--wait", a->wait, 0,
			3600000) : 30000;
	struct swc_result r;
	int rc = swc_wait_ready(c, -1, wait_ms, a->writable, &r);

	if (a->json)
		json_begin(a);
	if (rc == PROTO_ST_NOT_READY && r.status == PROTO_ST_OK) {
		if (a->json) {
			printf(",\"ok\":false,\"status\":\"not_ready\","
				"\"server\":");
			put_json_cstr(stdout, server_of(c, &r));
			printf(",");
			json_readiness(&r.ready);
			printf("}\n");
		} else {
			fprintf(stderr, "swarmctl: wait-ready: %s is still "
				"%s after %" PRIu32 " ms\n", server_of(c, &r),
				proto_ready_state_name(r.ready.state), wait_ms);
			human_readiness(&r.ready);
		}
		return EX_SERVER;
	}
	if (rc != PROTO_ST_OK)
		return report_failure(c, a, rc, &r, "wait-ready");
	if (a->json) {
		printf(",\"ok\":true,\"status\":\"ok\",\"server\":");
		put_json_cstr(stdout, server_of(c, &r));
		printf(",");
		json_readiness(&r.ready);
		printf("}\n");
		return EX_OK;
	}
	human_readiness(&r.ready);
	return EX_OK;
}

static int
cmd_stats(struct swc_client *c, const struct args *a)
{
	struct swc_result r;
	int rc = swc_stats(c, &r);
	size_t i, width = 0;

	if (a->json)
		json_begin(a);
	if (rc == PROTO_ST_UNSUPPORTED) {
		if (a->json) {
			printf(",\"ok\":false,\"status\":\"unsupported\","
				"\"supported\":false,\"server\":");
			put_json_cstr(stdout, server_of(c, &r));
			printf(",\"error\":\"not supported by this server "
				"yet\"}\n");
		} else {
			fprintf(stderr, "swarmctl: stats: not supported by "
				"this server yet (%s)\n", server_of(c, &r));
		}
		return EX_SERVER;
	}
	if (rc != PROTO_ST_OK)
		return report_failure(c, a, rc, &r, "stats");
	/* Counter names are [a-z0-9_.] (the decoder checks): no escaping. */
	if (a->json) {
		printf(",\"ok\":true,\"status\":\"ok\",\"supported\":true,"
			"\"server\":");
		put_json_cstr(stdout, server_of(c, &r));
		printf(",\"counters\":{");
		for (i = 0; i < r.nstats; i++) {
			printf("%s", i ? "," : "");
			put_json_cstr(stdout, r.stats[i].name);
			printf(":%" PRIu64, r.stats[i].value);
		}
		printf("}}\n");
		return EX_OK;
	}
	for (i = 0; i < r.nstats; i++)
		if (strlen(r.stats[i].name) > width)
			width = strlen(r.stats[i].name);
	for (i = 0; i < r.nstats; i++)
		printf("%-*s  %" PRIu64 "\n", (int)width, r.stats[i].name,
			r.stats[i].value);
	return EX_OK;
}

static const struct cmd cmds[] = {
	{ "register",
	  "register NAME HANDLE [--endpoint IP:PORT] [--meta STR | "
	  "--meta-hex HEX] [--ttl MS]",
	  "Registers NAME to HANDLE. Exit 0 when registered (or already held\n"
	  "by the same HANDLE, which renews it), 3 with the holder's entry\n"
	  "when another handle holds NAME (already_registered).\n",
	  "endpoint meta meta-hex ttl", 2, 2, cmd_register },
	{ "unregister",
	  "unregister NAME [--handle H]",
	  "Removes the registration of NAME. With --handle, only if HANDLE\n"
	  "holds it (3, handle_mismatch, otherwise); this form is safe to\n"
	  "retry and is retried. Without --handle the request is sent once.\n"
	  "Exit 1 when NAME is not registered.\n",
	  "handle", 1, 1, cmd_unregister },
	{ "whereis",
	  "whereis NAME",
	  "Looks NAME up and prints its entry. Exit 1 when not registered.\n",
	  "", 1, 1, cmd_whereis },
	{ "whereis-or-register",
	  "whereis-or-register NAME HANDLE [--endpoint IP:PORT] [--meta STR | "
	  "--meta-hex HEX] [--ttl MS]",
	  "Prints the entry of NAME if it is registered (by any handle), else\n"
	  "registers it as register would and prints the new entry. Exit 0.\n",
	  "endpoint meta meta-hex ttl", 2, 2, cmd_register },
	{ "join",
	  "join GROUP NAME",
	  "Adds the registered NAME to GROUP. Exit 1 when NAME is not\n"
	  "registered.\n",
	  "", 2, 2, cmd_group },
	{ "leave",
	  "leave GROUP NAME",
	  "Removes NAME from GROUP (exit 0 also when it was not a member).\n",
	  "", 2, 2, cmd_group },
	{ "members",
	  "members GROUP [--all | --max N --cursor HEX]",
	  "Lists the members of GROUP. Default (or --all): every member, page\n"
	  "by page (--max N sets the page size). With --max and/or --cursor:\n"
	  "one page of at most N entries (0 = as many as fit) from CURSOR\n"
	  "(hex, from the previous page; ask the same server).\n",
	  "all max cursor", 1, 1, cmd_list },
	{ "registered",
	  "registered [--all | --max N --cursor HEX]",
	  "Lists every registration of the server's replica, as members.\n",
	  "all max cursor", 0, 0, cmd_list },
	{ "status",
	  "status",
	  "Prints the node's id, name, protocol versions, partitions, entry\n"
	  "count and uptime, and (READINESS) whether it is serving, joining,\n"
	  "syncing (with progress) or below quorum.\n",
	  "", 0, 0, cmd_status },
	{ "wait-ready",
	  "wait-ready [--wait MS] [--writable]",
	  "Asks the node (READINESS) until it holds the registry, at most\n"
	  "--wait MS (default 30000), sleeping the node's retry hint between\n"
	  "questions. With --writable, until it also takes writes (not below\n"
	  "quorum). Exit 0 when it does, 3 when it still does not (not_ready)\n"
	  "or does not know READINESS (unsupported), 4 when it never answers.\n",
	  "wait writable", 0, 0, cmd_wait_ready },
	{ "stats",
	  "stats",
	  "Prints the node's counters (STATS), one \"name value\" per line in\n"
	  "the node's order; with --json an object \"counters\" of name: value.\n"
	  "Nodes that do not implement STATS answer unsupported: swarmctl then\n"
	  "says \"not supported by this server yet\" and exits 3.\n",
	  "", 0, 0, cmd_stats },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void
global_help(void)
{
	size_t i;

	printf("usage: swarmctl [-s HOST:PORT]... [--timeout MS] [--retries N]"
		" [--json] COMMAND ARGS\n\n"
		"Client of a swarm name registry node (UDP protocol v1).\n\n"
		"Options:\n"
		"  -s, --server HOST:PORT  server to ask; repeat for fallbacks,"
		" tried in order\n"
		"                          when one does not answer. IPv6 as "
		"[ADDR]:PORT; the\n"
		"                          port defaults to 7400. Default: "
		"$SWARM_SERVER, else\n"
		"                          " DEFAULT_SERVER "\n"
		"      --timeout MS        wait per attempt, 1..600000 "
		"(default 500)\n"
		"      --retries N         attempts after the first, 0..100 "
		"(default 3)\n"
		"      --replicas K        answer writes once K other nodes "
		"applied them:\n"
		"                          0 (default: the owner), 1, 2 or "
		"all\n"
		"      --json              one JSON object on stdout per "
		"command\n"
		"  -h, --help              this help; COMMAND --help for a "
		"command\n\nCommands:\n");
	for (i = 0; i < NCMDS; i++)
		printf("  %s\n", cmds[i].synopsis);
	printf("\nExit codes: 0 ok/found, 1 not found, 2 usage error, "
		"3 refused by the server\n(already_registered, "
		"handle_mismatch, bad_request, unsupported, overloaded,\n"
		"...), 4 no answer (timeout), 5 local failure (socket, name "
		"resolution).\nNames are taken as the argument's bytes; use "
		"-- before a name that starts\nwith '-'. See "
		"docs/swarmctl.md.\n");
}

static void
cmd_help(const struct cmd *cmd)
{
	printf("usage: swarmctl [OPTIONS] %s\n\n%s", cmd->synopsis, cmd->help);
	if (strstr(cmd->opts, "endpoint"))
		printf("\n  HANDLE               u64: decimal, or hex with 0x\n"
			"  --endpoint IP:PORT   where NAME is reached: "
			"a.b.c.d:port, [v6]:port or none\n"
			"                       (default none)\n"
			"  --meta STR           metadata, 0..255 bytes\n"
			"  --meta-hex HEX       metadata as hex digits\n"
			"  --ttl MS             lease in ms, 0..4294967295; 0 ="
			" no lease (default)\n");
	if (strstr(cmd->opts, "handle"))
		printf("\n  --handle H           expected handle (u64, "
			"decimal or 0x hex)\n");
	if (strstr(cmd->opts, "cursor"))
		printf("\n  --all                every entry (the default)\n"
			"  --max N              page size, 0..65535 (0 = as many"
			" as fit)\n"
			"  --cursor HEX         continue after the page that "
			"returned HEX\n");
	printf("\nNAME and GROUP are 1..255 bytes. Global options "
		"(-s, --timeout, --retries,\n--replicas, --json) may also follow the "
		"command. Exit codes: swarmctl --help.\n");
}

static const struct cmd *
find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

/* Value of an option: "--opt=value", or the next argument. */
static const char *
opt_value(int argc, char **argv, int *i, const char *arg, size_t optlen)
{
	if (arg[optlen] == '=')
		return arg + optlen + 1;
	if (*i + 1 >= argc)
		usage_err("option %.*s needs a value", (int)optlen, arg);
	return argv[++*i];
}

static bool
is_opt(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return strncmp(arg, name, n) == 0 &&
		(arg[n] == '\0' || arg[n] == '=');
}

static void
parse_args(int argc, char **argv, struct args *a)
{
	static const char *const copts[] = { "endpoint", "meta", "meta-hex",
		"ttl", "handle", "max", "cursor", "wait" };
	const char **cslot[] = { &a->endpoint, &a->meta, &a->meta_hex,
		&a->ttl, &a->handle, &a->max, &a->cursor, &a->wait };
	bool dashdash = false;
	const char *v;
	int i;
	size_t k;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (dashdash || arg[0] != '-' || arg[1] == '\0') {
			if (a->cmd == NULL) {
				a->cmd = arg;
				cur_cmd = find_cmd(arg);
				if (cur_cmd == NULL)
					usage_err("unknown command '%s'", arg);
			} else if (a->npos < MAX_POS) {
				a->pos[a->npos++] = arg;
			} else {
				usage_err("too many arguments");
			}
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			dashdash = true;
		} else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			a->help = true;
		} else if (strcmp(arg, "--json") == 0) {
			a->json = true;
		} else if (strncmp(arg, "-s", 2) == 0 && arg[2] != '\0' &&
				arg[2] != '-') {
			v = arg + 2;
			goto server;
		} else if (strcmp(arg, "-s") == 0 || is_opt(arg, "--server")) {
			v = opt_value(argc, argv, &i, arg,
				arg[1] == 's' ? 2 : strlen("--server"));
server:
			if (a->nservers == SWC_MAX_SERVERS)
				usage_err("at most %u servers (-s)",
					SWC_MAX_SERVERS);
			a->servers[a->nservers++] = v;
		} else if (is_opt(arg, "--timeout")) {
			v = opt_value(argc, argv, &i, arg, strlen("--timeout"));
			a->timeout_ms = (uint32_t)arg_num("--timeout", v, 1,
					600000);
		} else if (is_opt(arg, "--retries")) {
			v = opt_value(argc, argv, &i, arg, strlen("--retries"));
			a->retries = (uint32_t)arg_num("--retries", v, 0, 100);
		} else if (is_opt(arg, "--replicas")) {
			v = opt_value(argc, argv, &i, arg, strlen("--replicas"));
			a->replicas = strcmp(v, "all") == 0 ? PROTO_REPLICAS_ALL :
				(uint32_t)arg_num("--replicas", v, 0, 2);
		} else if (strcmp(arg, "--all") == 0) {
			if (cur_cmd == NULL || !strstr(cur_cmd->opts, "all"))
				usage_err("option --all is not valid here");
			a->all = true;
		} else if (strcmp(arg, "--writable") == 0) {
			if (cur_cmd == NULL || !strstr(cur_cmd->opts, "writable"))
				usage_err("option --writable is not valid here");
			a->writable = true;
		} else {
			for (k = 0; k < sizeof(copts) / sizeof(copts[0]); k++) {
				char full[32];

				snprintf(full, sizeof(full), "--%s", copts[k]);
				if (!is_opt(arg, full))
					continue;
				/* "meta" must not match "meta-hex": is_opt
				 * wants '=' or the end after the name. */
				if (cur_cmd == NULL) {
					usage_err("option %s must follow the "
						"command", full);
				} else {
					const char *o = cur_cmd->opts;
					size_t wl = strlen(copts[k]);
					bool ok = false;

					/* whole-word match in opts */
					while ((o = strstr(o, copts[k]))) {
						if ((o == cur_cmd->opts ||
						     o[-1] == ' ') &&
						    (o[wl] == ' ' ||
						     o[wl] == '\0'))
							ok = true;
						o += wl;
					}
					if (!ok)
						usage_err("option %s is not "
							"valid here", full);
				}
				if (*cslot[k] != NULL)
					usage_err("option %s given twice",
						full);
				*cslot[k] = opt_value(argc, argv, &i, arg,
						strlen(full));
				break;
			}
			if (k == sizeof(copts) / sizeof(copts[0]))
				usage_err("unknown option '%s'", arg);
		}
	}
}

int
main(int argc, char **argv)
{
	struct args a = { .timeout_ms = 500, .retries = 3 };
	struct swc_options o;
	struct swc_client *c;
	char errbuf[512];
	const char *env;
	int err, rc;

	parse_args(argc, argv, &a);
	if (a.help) {
		if (cur_cmd)
			cmd_help(cur_cmd);
		else
			global_help();
		return EX_OK;
	}
	if (a.cmd == NULL)
		usage_err("no command given");
	if (a.npos < cur_cmd->min_pos)
		usage_err("missing argument (%zu given, %zu needed)", a.npos,
			cur_cmd->min_pos);
	if (a.npos > cur_cmd->max_pos)
		usage_err("unexpected argument '%s'",
			a.pos[cur_cmd->max_pos]);
	if (a.nservers == 0) {
		env = getenv("SWARM_SERVER");
		a.servers[a.nservers++] = env && *env ? env : DEFAULT_SERVER;
	}
	memset(&o, 0, sizeof(o));
	o.timeout_ms = a.timeout_ms;
	o.retries = a.retries;
	o.replicas = (uint8_t)a.replicas;
	c = swc_client_new(a.servers, a.nservers, &o, &err, errbuf,
			sizeof(errbuf));
	if (c == NULL) {
		if (err == SWC_EINVAL)
			usage_err("-s: %s", errbuf);
		fprintf(stderr, "swarmctl: %s\n", errbuf);
		return EX_LOCAL;
	}
	rc = cur_cmd->run(c, &a);
	fflush(stdout);
	swc_client_free(c);
	return rc;
}
