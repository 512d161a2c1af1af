/*
 * test_balance.c - balance of the ring over many families of node names.
 *
 * Point i of a node once was XXH3-64 of its name with seed i. For names of
 * 1-3 bytes XXH3 folds the seed into the input linearly before its final
 * mix, so "hx1", "hx2" and "hx3" shared most of their points, every tie
 * went to the first name, and 100 000 names split 99 967 / 30 / 3. Points
 * are now derived from one full hash of the name (docs/ring.md), and these
 * tests check that every naming scheme a cluster is likely to use, plus the
 * awkward ones (one byte apart at the start, middle or end, in every XXH3
 * length class, random bytes), is balanced: the most loaded of 3 or 5 nodes
 * owns at most 1.05 x the mean at the default vnode count, for 100 000
 * names of two kinds (dev-%08d, random bytes).
 *
 * Hashing is deterministic, so the figures are fixed and printed by the
 * test. When it was written the worst family gave 1.029 at 3 nodes and
 * 1.038 at 5 (255-byte names one byte apart); over 1 000 other clusters of
 * short or random names the 3-node figure had mean 1.010, sd 0.006 and
 * worst 1.040, so 1.05 is not a marginal bound at the default 8192 vnodes.
 * (With the old derivation "hx#" and "gw#" gave 2.999 at 3 nodes.)
 *
 * Also pinned: the owners of a few names in two fixed clusters. Placement
 * is part of the cluster protocol (every node must compute the same
 * owners), so a change of hash, mixer or point derivation must be
 * deliberate: it shows up here first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mix.h"
#include "ring.h"

#define KEYS 100000
#define FAMILY_NODES 5
#define MAX_RATIO 1.05

enum key_kind { KEYS_DEV, KEYS_RANDOM, KEY_KINDS };

static uint64_t *keys[KEY_KINDS];
static const char *const key_label[KEY_KINDS] = { "dev-%08d", "random" };

/* splitmix64: a fixed, portable stream for the random names and keys. */
static uint64_t
next_rand(uint64_t *s)
{
	return mix_next(s);
}

static int
setup_keys(void **state)
{
	uint64_t seed = 0x5eed0001;
	unsigned char buf[48];
	int i, k, len;

	(void)state;
	for (k = 0; k < KEY_KINDS; k++) {
		keys[k] = malloc(KEYS * sizeof(*keys[k]));
		if (keys[k] == NULL)
			return -1;
	}
	for (i = 0; i < KEYS; i++) {
		len = snprintf((char *)buf, sizeof(buf), "dev-%08d", i);
		if (len < 0 || (size_t)len >= sizeof(buf))
			return -1;
		keys[KEYS_DEV][i] = ring_hash_name(buf, (size_t)len);
		/* 1..40 arbitrary bytes (names on the wire are bytes) */
		len = 1 + (int)(next_rand(&seed) % 40);
		for (k = 0; k < len; k++)
			buf[k] = (unsigned char)next_rand(&seed);
		keys[KEYS_RANDOM][i] = ring_hash_name(buf, (size_t)len);
	}
	return 0;
}

static int
teardown_keys(void **state)
{
	int k;

	(void)state;
	for (k = 0; k < KEY_KINDS; k++)
		free(keys[k]);
	return 0;
}

/*
 * A family names node i (0-based) into buf (RING_NAME_MAX + 1 bytes):
 *
 *   PATTERN  arg with every '#' replaced by i + 1 ("node#@10.0.0.#")
 *   LIST     the i-th space-separated word of arg
 *   BYTE     arg with its '#' replaced by the single byte 'a' + i
 *   FILL     len bytes of 'q' with byte pos set to 'a' + i (pos -1: last)
 *   RANDOM   1..32 random non-zero bytes from a stream seeded by len
 */
enum family_kind { PATTERN, LIST, BYTE, FILL, RANDOM };

struct family {
	const char *label;
	enum family_kind kind;
	const char *arg;
	int len;
	int pos;
};

static const struct family families[] = {
	/* short: XXH3's 1-3 byte path, where the old derivation failed */
	{ "short hx#", PATTERN, "hx#", 0, 0 },
	{ "short gw#", PATTERN, "gw#", 0, 0 },
	{ "short n#", PATTERN, "n#", 0, 0 },
	{ "short x#", PATTERN, "x#", 0, 0 },
	{ "one letter", LIST, "a b c d e", 0, 0 },
	{ "two letters", LIST, "aa ab ac ad ae", 0, 0 },
	{ "3 bytes, last differs", BYTE, "hx#", 0, 0 },
	{ "3 bytes, first differs", BYTE, "#x1", 0, 0 },
	{ "3 bytes, high bit", LIST, "x\x81\x01 x\x81\x02 x\x81\x03 x\x81\x04 x\x81\x05",
		0, 0 },
	/* 4-8 and 9-16 bytes, numbered with a common prefix */
	{ "gw-#", PATTERN, "gw-#", 0, 0 },
	{ "node#", PATTERN, "node#", 0, 0 },
	{ "gw-berlin-0#", PATTERN, "gw-berlin-0#", 0, 0 },
	{ "gw-berlin-0#@site-7", PATTERN, "gw-berlin-0#@site-7", 0, 0 },
	{ "node#@10.0.0.#", PATTERN, "node#@10.0.0.#", 0, 0 },
	{ "swarm@gw#", PATTERN, "swarm@gw#.fleet.example.com", 0, 0 },
	/* long */
	{ "long fqdn", PATTERN,
		"swarm-gateway-node-#.eu-central-1.compute.internal", 0, 0 },
	{ "one byte, middle", BYTE, "gw-berlin-#-rack-12@site-7.example", 0, 0 },
	/* one byte apart in the longer XXH3 length classes */
	{ "100 bytes, first differs", FILL, NULL, 100, 0 },
	{ "100 bytes, last differs", FILL, NULL, 100, -1 },
	{ "200 bytes, middle differs", FILL, NULL, 200, 100 },
	{ "255 bytes, last differs", FILL, NULL, RING_NAME_MAX, -1 },
	/* random bytes, three different clusters */
	{ "random bytes 1", RANDOM, NULL, 1, 0 },
	{ "random bytes 2", RANDOM, NULL, 2, 0 },
	{ "random bytes 3", RANDOM, NULL, 3, 0 },
};

#define NFAMILIES (sizeof(families) / sizeof(families[0]))

static void
family_name(const struct family *f, int i, char *buf)
{
	size_t o = 0;
	const char *p;
	int k, len;
	uint64_t s;

	switch (f->kind) {
	case PATTERN:
		for (p = f->arg; *p != '\0'; p++) {
			if (*p == '#')
				o += (size_t)snprintf(buf + o, RING_NAME_MAX + 1 - o,
						"%d", i + 1);
			else
				buf[o++] = *p;
		}
		buf[o] = '\0';
		break;
	case LIST:
		p = f->arg;
		for (k = 0; k < i; k++) {
			p = strchr(p, ' ');
			assert_non_null(p);
			p++;
		}
		len = (int)strcspn(p, " ");
		memcpy(buf, p, (size_t)len);
		buf[len] = '\0';
		break;
	case BYTE:
		strcpy(buf, f->arg);
		*strchr(buf, '#') = (char)('a' + i);
		break;
	case FILL:
		memset(buf, 'q', (size_t)f->len);
		buf[f->pos < 0 ? f->len - 1 : f->pos] = (char)('a' + i);
		buf[f->len] = '\0';
		break;
	case RANDOM:
		s = 0xbadc0ffee0000000ull + (uint64_t)f->len * 1000 + (uint64_t)i;
		len = 1 + (int)(next_rand(&s) % 32);
		for (k = 0; k < len; k++)
			buf[k] = (char)(1 + next_rand(&s) % 255);
		buf[len] = '\0';
		break;
	}
	assert_true(strlen(buf) >= 1 && strlen(buf) <= RING_NAME_MAX);
}

/* Most loaded node's share over the mean, first n nodes of a family. */
static double
family_ratio(const struct family *f, int n, enum key_kind kk)
{
	struct ring_members *m = ring_members_create();
	uint32_t count[FAMILY_NODES] = { 0 }, max = 0;
	struct ring_policy p;
	char name[RING_NAME_MAX + 1];
	struct ring *r;
	int i;

	assert_non_null(m);
	assert_true(n <= FAMILY_NODES);
	for (i = 0; i < n; i++) {
		family_name(f, i, name);
		assert_int_equal(ring_members_add(m, name, 1, (uint32_t)i), 0);
	}
	ring_policy_init(&p);
	r = ring_build(m, &p, NULL);
	assert_non_null(r);
	for (i = 0; i < KEYS; i++) {
		uint32_t o = ring_lookup(r, keys[kk][i]);

		assert_true(o < (uint32_t)n);
		count[o]++;
	}
	for (i = 0; i < n; i++)
		max = count[i] > max ? count[i] : max;
	ring_free(r);
	ring_members_destroy(m);
	return (double)max * n / KEYS;
}

static void
check_families(int n)
{
	double worst = 0;
	size_t f;
	int k, bad = 0;

	for (f = 0; f < NFAMILIES; f++) {
		double v[KEY_KINDS];

		for (k = 0; k < KEY_KINDS; k++)
			v[k] = family_ratio(&families[f], n, (enum key_kind)k);
		print_message("%d nodes  %-28s max/mean %s %.3f, %s %.3f\n",
				n, families[f].label, key_label[KEYS_DEV],
				v[KEYS_DEV], key_label[KEYS_RANDOM],
				v[KEYS_RANDOM]);
		for (k = 0; k < KEY_KINDS; k++) {
			worst = v[k] > worst ? v[k] : worst;
			if (v[k] > MAX_RATIO) {
				print_error("%d nodes, %s, keys %s: max/mean %.3f > %.2f\n",
						n, families[f].label, key_label[k],
						v[k], MAX_RATIO);
				bad++;
			}
		}
	}
	print_message("%d nodes  worst max/mean %.3f\n", n, worst);
	assert_int_equal(bad, 0);
}

static void
test_families_3_nodes(void **state)
{
	(void)state;
	check_families(3);
}

static void
test_families_5_nodes(void **state)
{
	(void)state;
	check_families(5);
}

/* The names of a family are distinct (else the test would test less). */
static void
test_family_names_distinct(void **state)
{
	char a[RING_NAME_MAX + 1], b[RING_NAME_MAX + 1];
	size_t f;
	int i, j;

	(void)state;
	for (f = 0; f < NFAMILIES; f++) {
		for (i = 0; i < FAMILY_NODES; i++) {
			family_name(&families[f], i, a);
			for (j = i + 1; j < FAMILY_NODES; j++) {
				family_name(&families[f], j, b);
				assert_string_not_equal(a, b);
			}
		}
	}
}

/*
 * Owners of dev-00000000.. dev-00000011 in two 3-node clusters, pinned.
 * These values follow from docs/ring.md's derivation (hash the node name
 * once, mix64(h + (i + 1) * golden) per point). If this test fails, the
 * placement changed: nodes of different versions would disagree on owners,
 * so the change needs a cluster-wide upgrade and a protocol version bump.
 */
static void
check_pinned(const char *const names[3], const char *want)
{
	struct ring_members *m = ring_members_create();
	struct ring_policy p;
	char got[16], key[16];
	struct ring *r;
	uint32_t i;

	assert_non_null(m);
	for (i = 0; i < 3; i++)
		assert_int_equal(ring_members_add(m, names[i], 1, i), 0);
	ring_policy_init(&p);
	r = ring_build(m, &p, NULL);
	assert_non_null(r);
	for (i = 0; i < 12; i++) {
		int len = snprintf(key, sizeof(key), "dev-%08u", i);

		got[i] = (char)('0' + ring_lookup_name(r, key, (size_t)len));
	}
	got[12] = '\0';
	assert_string_equal(got, want);
	ring_free(r);
	ring_members_destroy(m);
}

static void
test_pinned_owners(void **state)
{
	static const char *const hx[3] = { "hx1", "hx2", "hx3" };
	static const char *const erl[3] = {
		"node1@10.0.0.1", "node2@10.0.0.2", "node3@10.0.0.3"
	};

	(void)state;
	check_pinned(hx, "110201210111");
	check_pinned(erl, "112202110212");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_names_distinct),
		cmocka_unit_test(test_families_3_nodes),
		cmocka_unit_test(test_families_5_nodes),
		cmocka_unit_test(test_pinned_owners),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
