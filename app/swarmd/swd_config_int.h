/*
 * swd_config_int.h - internals shared by swd_config.c (command line, file
 * syntax) and swd_config_keys.c (the key table: parse, print, describe).
 * Not for the daemon: use swd_config.h.
 */
#ifndef SWARM_SWD_CONFIG_INT_H
#define SWARM_SWD_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "swd_config.h"

/* A value as written: its comma-separated items, unquoted. */
struct swd_value {
	char **items;
	uint32_t count;
};

/* Key flags. */
#define SWD_KEY_REQUIRED	0x01u	/* must be set somewhere */
#define SWD_KEY_OPTIONAL	0x02u	/* an empty value means "not set" */
#define SWD_KEY_SECRET		0x04u	/* never printed back */
#define SWD_KEY_POW2		0x08u	/* integer must be a power of two */
#define SWD_KEY_ZERO		0x10u	/* 0 accepted besides min..max */
#define SWD_KEY_LIST		0x20u	/* comma-separated list */

struct swd_key;

struct swd_kind {
	/*
	 * Parses v into cfg. On error returns a negative errno and writes the
	 * reason (without the key) into why; cfg is then unchanged.
	 */
	int (*parse)(const struct swd_key *k, struct swd_config *cfg,
			const struct swd_value *v, char *why, size_t whylen);
	/*
	 * Prints the value in file syntax. Returns 1 when the key is not set
	 * (an optional key: nothing printed), 0 otherwise.
	 */
	int (*print)(const struct swd_key *k, const struct swd_config *cfg,
			FILE *out);
	/* Type and range for --help, e.g. "integer 1..65535". */
	void (*describe)(const struct swd_key *k, char *buf, size_t len);
};

struct swd_key {
	const char *name;
	const struct swd_kind *kind;
	size_t off;		/* offset of the field in struct swd_config */
	uint8_t width;		/* integer fields: bytes */
	unsigned flags;
	uint64_t min, max;	/* integers; filter lists: the list in min */
	const char *const *choices; /* enums: names indexed by value */
	const char *zero;	/* meaning of 0 ("off", "no limit", ...) */
	const char *unset;	/* optional keys: meaning when not set */
	const char *section;	/* non-NULL on the first key of a section */
	const char *help;	/* meaning, one or two sentences */
};

extern const struct swd_key swd_keys[];
extern const size_t swd_keys_count;

/* Index of the key called name, or -1. */
int swd_key_find(const char *name);

/* Prints s as a value item, quoted (with \" and \\) when needed. */
void swd_print_item(FILE *out, const char *s);

/* Writes at most 64 bytes of s, quoted, into buf, for error messages. */
void swd_quote_got(char *buf, size_t len, const char *s);

/* Frees the filter lists and the filter (the rest of cfg owns nothing). */
void swd_free_lists(struct swd_config *cfg);

/* Builds cfg->filter from both lists. 0 or -ENOMEM/-EINVAL with why. */
int swd_build_filter(struct swd_config *cfg, char *why, size_t whylen);

#endif /* SWARM_SWD_CONFIG_INT_H */
