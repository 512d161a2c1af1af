/*
 * clusterbench.c - replication and sync cost of lib/cluster, in process.
 *
 *   swarm-clusterbench [--names N] [--parts P]
 *
 * Two nodes, A and B, exchange datagrams directly (every datagram is
 * delivered in the same virtual millisecond it is sent). Phase 1,
 * replication: N registrations are made on A's tracker in batches of 1000
 * per virtual millisecond; A drains them into batches, streams them, B
 * applies them and acks. Reported: wall time, changes/s, datagrams and
 * bytes per change. Phase 2, sync: B is replaced by a fresh node C with an
 * empty tracker that joins; reported: wall time and virtual (paced) time
 * until C holds all N entries, i.e. the full-sync time with the default
 * pacing (sync_scan, sync_dgrams per partition per millisecond), and the
 * CPU cost of sending and applying it. Both phases include encoding,
 * a keyed BLAKE2b-256 tag on every datagram, decoding and applying. First,
 * the authentication alone: sealing and opening datagrams of 64 to 1400
 * bytes with the keyring (its per-key precomputed state), beside
 * HMAC-SHA-512/256 from a precomputed state (the tag of wire version 3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <urcu/urcu-qsbr.h>

#include "clu.h"

struct node {
	struct trk *t;
	struct clu *c;
	char name[8];
	uint32_t id;
};

static struct clu_keyring keys;
static struct clu_dgram dg[256];
static uint64_t n_dgrams, n_bytes;

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
boot(struct node *n, uint32_t id, uint32_t parts, uint64_t names, uint64_t now)
{
	struct trk_config tc = { .nparts = parts, .node_id = id,
		.expected_entries = names + 1024, .change_queue_len = 65536 };
	struct exec_node xn = { .node_id = id, .name = n->name };
	struct clu_config cc;
	struct mbr_addr seed = { 0x0a000001, 7401 };

	snprintf(n->name, sizeof(n->name), "n%u", id);
	n->id = id;
	clu_config_default(&cc);
	cc.node_id = id;
	cc.name = n->name;
	cc.name_len = strlen(n->name);
	cc.addr.ip = 0x0a000000 + id;
	cc.addr.port = 7401;
	cc.incarnation = now;
	cc.seed = id * 7919ULL + now;
	cc.keys = &keys;
	n->t = trk_create(&tc);
	n->c = n->t ? clu_create(&cc, n->t, &xn, now) : NULL;
	if (n->c == NULL) {
		fprintf(stderr, "clusterbench: cannot create node %u\n", id);
		exit(1);
	}
	clu_join(n->c, &seed, 1, now);
}

static void
pump(struct node *from, struct node *to, uint64_t now)
{
	size_t k, n;

	while ((n = clu_poll_send(from->c, dg, 256)) > 0) {
		for (k = 0; k < n; k++) {
			struct mbr_addr src = { 0x0a000000 + from->id, 7401 };

			n_dgrams++;
			n_bytes += dg[k].len;
			if (dg[k].dst.ip == 0x0a000000 + to->id)
				clu_receive(to->c, &src, dg[k].buf, dg[k].len,
						now);
		}
	}
}

static void
step(struct node *a, struct node *b, uint64_t now)
{
	clu_tick(a->c, now);
	clu_tick(b->c, now);
	pump(a, b, now);
	pump(b, a, now);
	pump(a, b, now);
	urcu_qsbr_quiescent_state();
}

static void
print_stats(const char *who, const struct node *n)
{
	struct clu_stats s;

	clu_get_stats(n->c, &s);
	printf("  %s: batches %llu sent %llu resent %llu applied %llu "
		"out-of-order %llu resets %llu differ %llu repair sent %llu applied %llu ae %llu\n", who,
		(unsigned long long)s.repl_batches,
		(unsigned long long)s.repl_sent,
		(unsigned long long)s.repl_resent,
		(unsigned long long)s.repl_applied,
		(unsigned long long)s.repl_out_of_order,
		(unsigned long long)s.repl_resets,
		(unsigned long long)s.ae_segs_differ,
		(unsigned long long)s.repair_sent,
		(unsigned long long)s.repair_applied,
		(unsigned long long)s.ae_rounds);
}

static void
register_batch(struct node *a, uint64_t from, uint64_t n, uint64_t now)
{
	char name[32];
	uint64_t i;

	for (i = from; i < from + n; i++) {
		struct trk_reg r = { 0 };
		int len = snprintf(name, sizeof(name), "dev-%08llu",
				(unsigned long long)i);

		r.key = trk_key(name, (size_t)len);
		r.handle = i + 1;
		r.owner = a->id;
		if (trk_register(a->t, &r, now, NULL) < 0) {
			fprintf(stderr, "clusterbench: register failed\n");
			exit(1);
		}
	}
}

/* The tag of wire version 3, from its precomputed pads, for comparison:
 * ns per datagram of len bytes. */
static double
hmac_ns(uint8_t *buf, size_t len, uint32_t n)
{
	static const uint8_t key[crypto_auth_hmacsha512256_KEYBYTES] = { 42 };
	crypto_auth_hmacsha512256_state st0, st;
	uint8_t tag[crypto_auth_hmacsha512256_BYTES];
	double t0;
	uint32_t i;

	crypto_auth_hmacsha512256_init(&st0, key, sizeof(key));
	t0 = wall();
	for (i = 0; i < n; i++) {
		buf[0] = (uint8_t)i;
		memcpy(&st, &st0, sizeof(st));
		crypto_auth_hmacsha512256_update(&st, buf, len);
		crypto_auth_hmacsha512256_final(&st, tag);
		buf[1] ^= tag[0];
	}
	return (wall() - t0) / n * 1e9;
}

/* Seal and open cost per datagram of each size, in ns (one thread). */
static void
bench_auth(void)
{
	static const size_t size[] = { 64, 128, 512, 1400 };
	static uint8_t buf[1400 + CLU_TAG_LEN];
	size_t k, body, bad = 0;
	uint32_t i, n = 200000;

	for (k = 0; k < sizeof(size) / sizeof(size[0]); k++) {
		double t0, t1, t2;

		memset(buf, (int)k, size[k]);
		t0 = wall();
		for (i = 0; i < n; i++) {
			buf[0] = (uint8_t)i;
			clu_seal(&keys, buf, size[k], sizeof(buf));
		}
		t1 = wall();
		for (i = 0; i < n; i++)
			bad += !clu_open(&keys, clu_keyring_primary_id(&keys),
					buf, size[k] + CLU_TAG_LEN, &body);
		t2 = wall();
		printf("auth: %4zu-byte datagrams: seal %.0f ns, open %.0f ns "
			"each%s; HMAC-SHA-512/256 %.0f ns\n", size[k],
			(t1 - t0) / n * 1e9, (t2 - t1) / n * 1e9,
			bad ? " (OPEN FAILED)" : "", hmac_ns(buf, size[k], n));
	}
}

int
main(int argc, char **argv)
{
	static const uint8_t key[CLU_KEY_LEN] = { 42 };
	uint64_t names = 1000000, now = 1000, done = 0, t_sync;
	uint32_t parts = 1;
	struct node a, b, c;
	double t0, t1;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--names") == 0)
			names = strtoull(argv[i + 1], NULL, 0);
		else if (strcmp(argv[i], "--parts") == 0)
			parts = (uint32_t)strtoul(argv[i + 1], NULL, 0);
	}
	urcu_qsbr_register_thread();
	clu_keyring_init(&keys, key, NULL, 0);
	bench_auth();
	boot(&a, 1, parts, names, now);
	boot(&b, 2, parts, names, now);
	while (clu_ring_nodes(a.c) != 2 || clu_ring_nodes(b.c) != 2)
		step(&a, &b, ++now);

	/* phase 1: replication */
	n_dgrams = n_bytes = 0;
	t0 = wall();
	while (done < names) {
		uint64_t k = names - done < 1000 ? names - done : 1000;

		register_batch(&a, done, k, now);
		done += k;
		step(&a, &b, ++now);
	}
	while (trk_count(b.t) < names)
		step(&a, &b, ++now);
	t1 = wall();
	printf("replication: %llu changes A -> B in %.2f s wall: %.2f M changes/s "
		"(incl. registering them on A); %.1f changes per datagram, "
		"%.0f bytes per change\n", (unsigned long long)names, t1 - t0,
		names / (t1 - t0) / 1e6, (double)names / n_dgrams,
		(double)n_bytes / names);
	print_stats("A", &a);
	print_stats("B", &b);

	/* phase 2: a fresh node joins and syncs everything from A */
	clu_destroy(b.c);
	trk_destroy(b.t);
	for (i = 0; i < 20000 && clu_alive(a.c) != 1; i++)
		step(&a, &a, ++now);	/* A notices B is gone */
	boot(&c, 3, parts, names, now);
	n_dgrams = n_bytes = 0;
	t_sync = now;
	t0 = wall();
	while (trk_count(c.t) < names)
		step(&a, &c, ++now);
	t1 = wall();
	printf("sync: a joining node pulled %llu entries in %llu ms paced "
		"(virtual time, default pacing) and %.2f s of CPU for both "
		"nodes: %.2f M entries/s; %llu datagrams, %.0f bytes per entry\n",
		(unsigned long long)names, (unsigned long long)(now - t_sync),
		t1 - t0, names / (t1 - t0) / 1e6,
		(unsigned long long)n_dgrams, (double)n_bytes / names);
	clu_destroy(a.c);
	clu_destroy(c.c);
	trk_destroy(a.t);
	trk_destroy(c.t);
	urcu_qsbr_unregister_thread();
	return 0;
}
