/*
 * ring_filter.c - allow and deny lists of node names.
 *
 * Each list is an array of entries; an entry is either an exact name (kept
 * as a string) or a compiled regex_t. Matching a node tries the entries in
 * order and stops at the first hit. Lists are short and filters are
 * consulted when a ring is rebuilt, not per packet, so no index is kept.
 */
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring_filter.h"

struct filter_entry {
	char *exact;		/* NULL for a regex entry */
	regex_t re;
};

struct filter_list {
	struct filter_entry *entries;
	size_t count;
	size_t cap;
};

struct ring_filter {
	struct filter_list deny;
	struct filter_list allow;
	size_t builtin_deny;	/* leading deny entries that are built in */
};

/* Swarm's defaults: remote shells, upgraders and maintenance nodes. */
static const char *const builtin_deny[] = {
	"/^remsh.*$/",
	"/^.+_upgrader_.+$/",
	"/^.+_maint_.+$/",
};

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

const char *
ring_filter_list_key(enum ring_filter_list list)
{
	return list == RING_FILTER_ALLOW ? "node_whitelist" : "node_blacklist";
}

static void
entry_free(struct filter_entry *e)
{
	if (e->exact != NULL)
		free(e->exact);
	else
		regfree(&e->re);
}

static void
list_free(struct filter_list *l)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		entry_free(&l->entries[i]);
	free(l->entries);
}

void
ring_filter_destroy(struct ring_filter *f)
{
	if (f == NULL)
		return;
	list_free(&f->deny);
	list_free(&f->allow);
	free(f);
}

static int
list_reserve_one(struct filter_list *l)
{
	size_t cap = l->cap ? l->cap * 2 : 8;
	struct filter_entry *n;

	if (l->count < l->cap)
		return 0;
	n = realloc(l->entries, cap * sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	l->entries = n;
	l->cap = cap;
	return 0;
}

/* Compiles the body of "/body/" into e; the message names key and entry. */
static int
compile_regex(struct filter_entry *e, const char *entry, size_t len,
		const char *key, char *err, size_t errlen)
{
	char body[RING_FILTER_ENTRY_MAX];
	char why[128];
	int rc;

	memcpy(body, entry + 1, len - 2);
	body[len - 2] = '\0';
	rc = regcomp(&e->re, body, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &e->re, why, sizeof(why));
		set_err(err, errlen, "%s: invalid pattern %s: %s", key, entry,
				why);
		return rc == REG_ESPACE ? -ENOMEM : -EINVAL;
	}
	e->exact = NULL;
	return 0;
}

/* Validates and parses entry into e (exact copy or compiled regex). */
static int
entry_parse(struct filter_entry *e, const char *entry, const char *key,
		char *err, size_t errlen)
{
	size_t len;

	if (entry == NULL || entry[0] == '\0') {
		set_err(err, errlen, "%s: empty entry", key);
		return -EINVAL;
	}
	len = strnlen(entry, RING_FILTER_ENTRY_MAX);
	if (len >= RING_FILTER_ENTRY_MAX) {
		set_err(err, errlen, "%s: entry longer than %d bytes", key,
				RING_FILTER_ENTRY_MAX - 1);
		return -EINVAL;
	}
	if (entry[0] != '/') {
		e->exact = strdup(entry);
		return e->exact == NULL ? -ENOMEM : 0;
	}
	if (len < 2 || entry[len - 1] != '/') {
		set_err(err, errlen, "%s: unterminated pattern %s "
				"(write regular expressions as /pattern/)",
				key, entry);
		return -EINVAL;
	}
	if (len == 2) {
		set_err(err, errlen, "%s: empty pattern //", key);
		return -EINVAL;
	}
	return compile_regex(e, entry, len, key, err, errlen);
}

int
ring_filter_add(struct ring_filter *f, enum ring_filter_list list,
		const char *entry, char *err, size_t errlen)
{
	const char *key = ring_filter_list_key(list);
	struct filter_list *l;
	size_t user;
	int rc;

	set_err(err, errlen, "%s", "");
	if (f == NULL || (list != RING_FILTER_DENY && list != RING_FILTER_ALLOW)) {
		set_err(err, errlen, "invalid filter or list");
		return -EINVAL;
	}
	l = list == RING_FILTER_ALLOW ? &f->allow : &f->deny;
	user = l->count - (list == RING_FILTER_DENY ? f->builtin_deny : 0);
	if (user >= RING_FILTER_ENTRIES_MAX) {
		set_err(err, errlen, "%s: more than %d entries", key,
				RING_FILTER_ENTRIES_MAX);
		return -ENOSPC;
	}
	if (list_reserve_one(l) != 0) {
		set_err(err, errlen, "%s: out of memory", key);
		return -ENOMEM;
	}
	rc = entry_parse(&l->entries[l->count], entry, key, err, errlen);
	if (rc == 0)
		l->count++;
	else if (rc == -ENOMEM && (err == NULL || err[0] == '\0'))
		set_err(err, errlen, "%s: out of memory", key);
	return rc;
}

struct ring_filter *
ring_filter_create(void)
{
	struct ring_filter *f = calloc(1, sizeof(*f));
	size_t i;

	if (f == NULL)
		return NULL;
	for (i = 0; i < sizeof(builtin_deny) / sizeof(builtin_deny[0]); i++) {
		if (ring_filter_add(f, RING_FILTER_DENY, builtin_deny[i],
				NULL, 0) != 0) {
			ring_filter_destroy(f);
			return NULL;
		}
		f->builtin_deny++;
	}
	return f;
}

static bool
list_matches(const struct filter_list *l, const char *node)
{
	size_t i;

	for (i = 0; i < l->count; i++) {
		const struct filter_entry *e = &l->entries[i];

		if (e->exact != NULL ? strcmp(e->exact, node) == 0 :
				regexec(&e->re, node, 0, NULL, 0) == 0)
			return true;
	}
	return false;
}

bool
ring_filter_allows(const struct ring_filter *f, const char *node)
{
	if (node == NULL)
		return false;
	if (f == NULL)
		return true;
	if (f->allow.count > 0)
		return list_matches(&f->allow, node);
	return !list_matches(&f->deny, node);
}
