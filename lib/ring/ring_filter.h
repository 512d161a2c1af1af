/*
 * ring_filter.h - which nodes may own names: allow and deny lists.
 *
 * Swarm's node_blacklist / node_whitelist, with the same decision rule:
 *
 *   - the deny list always holds the three built-in patterns
 *     /^remsh.*$/, /^.+_upgrader_.+$/ and /^.+_maint_.+$/ (remote shells,
 *     release upgraders and maintenance nodes never own names), plus the
 *     configured entries;
 *   - allow list empty: a node is included unless a deny entry matches;
 *   - allow list non-empty: a node is included if and only if an allow
 *     entry matches, so an allowed node is included even when denied too.
 *
 * Entry syntax: an entry written between slashes, "/pattern/", is a POSIX
 * extended regular expression, unanchored like Elixir's Regex.match?/2 (use
 * ^ and $ to anchor). Any other entry is an exact node name. Node names
 * never start with a slash, so the two cannot be confused. Entries are
 * validated when added: an empty entry, an empty or unterminated "/.../"
 * and a pattern regcomp() rejects are errors whose message names the list
 * key, the entry and the reason.
 *
 * Threading: build a filter on one thread; once built it is read-only and
 * ring_filter_allows() may be called from any thread (regexec is MT-safe).
 */
#ifndef SWARM_RING_FILTER_H
#define SWARM_RING_FILTER_H

#include <stdbool.h>
#include <stddef.h>

/* Longest accepted entry, slashes included. */
#define RING_FILTER_ENTRY_MAX 1024
/* Most entries per list (the built-in deny patterns do not count). */
#define RING_FILTER_ENTRIES_MAX 256

enum ring_filter_list {
	RING_FILTER_DENY,	/* node_blacklist */
	RING_FILTER_ALLOW,	/* node_whitelist */
};

struct ring_filter;

/*
 * New filter holding only the built-in deny patterns, or NULL when out of
 * memory (or, impossibly, if the built-in patterns failed to compile).
 */
struct ring_filter *ring_filter_create(void);
/* Frees the filter and its compiled patterns. NULL is accepted. */
void ring_filter_destroy(struct ring_filter *f);

/*
 * Adds one entry to a list. Returns 0, -EINVAL (bad entry or pattern; err
 * then holds e.g. "node_blacklist: invalid pattern /a(/: Unmatched ( or \("),
 * -ENOSPC (list full) or -ENOMEM. err may be NULL when errlen is 0; the
 * message is always NUL-terminated and truncated to errlen.
 */
int ring_filter_add(struct ring_filter *f, enum ring_filter_list list,
		const char *entry, char *err, size_t errlen);

/*
 * True when node may take part in placement. A NULL filter allows every
 * node (no filtering at all); a NULL node is never allowed.
 */
bool ring_filter_allows(const struct ring_filter *f, const char *node);

/* Configuration key of a list: "node_blacklist" or "node_whitelist". */
const char *ring_filter_list_key(enum ring_filter_list list);

#endif /* SWARM_RING_FILTER_H */
