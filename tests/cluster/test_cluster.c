/*
 * test_cluster.c - lib/cluster: datagram codec, keyring authentication,
 * hostile datagrams, and the simulator's scenarios over a few seeds each
 * (the soak, `swarm-sim --seeds N`, runs many more).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <urcu/urcu-qsbr.h>

#include "clu_wire.h"
#include "sim.h"

static const uint8_t key_a[CLU_KEY_LEN] = { 0xaa, 1, 2, 3 };
static const uint8_t key_b[CLU_KEY_LEN] = { 0xbb, 4, 5, 6 };

static void
test_header_roundtrip_and_rejects(void **state)
{
	struct clu_hdr h = { .type = CLU_T_BATCH, .key_id = 9, .part = 3,
		.nparts = 4, .sender = 0x01020304, .epoch = 0x1122334455667788 };
	struct clu_hdr g;
	uint8_t buf[64], bad[64];
	struct clu_wr w;
	struct clu_rd r;
	size_t i;

	(void)state;
	clu_wr_init(&w, buf, sizeof(buf));
	clu_hdr_put(&w, &h);
	assert_int_equal(w.len, CLU_HDR_LEN);
	clu_rd_init(&r, buf, w.len);
	assert_true(clu_hdr_get(&r, &g));
	assert_int_equal(g.type, h.type);
	assert_int_equal(g.part, 3);
	assert_int_equal(g.nparts, 4);
	assert_int_equal(g.sender, h.sender);
	assert_true(g.epoch == h.epoch);
	/* magic, version, type 0 and too large, reserved bytes, truncation */
	struct { size_t off; uint8_t v; } cases[] = {
		{ 0, 0x54 }, { 2, 1 }, { 2, 3 }, { 3, 0 }, { 3, CLU_T__MAX },
		{ 5, 0x80 },
		{ 10, 1 },
	};
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, buf, w.len);
		bad[cases[i].off] = cases[i].v;
		clu_rd_init(&r, bad, w.len);
		assert_false(clu_hdr_get(&r, &g));
	}
	clu_rd_init(&r, buf, CLU_HDR_LEN - 1);
	assert_false(clu_hdr_get(&r, &g));
}

static void
fill_change(struct trk_change *ch, uint8_t kind, const char *name,
		const char *group)
{
	memset(ch, 0, sizeof(*ch));
	ch->kind = kind;
	ch->rec.name_len = (uint8_t)strlen(name);
	memcpy(ch->rec.name, name, ch->rec.name_len);
	ch->rec.hash = ring_hash_name(ch->rec.name, ch->rec.name_len);
	ch->rec.handle = 0xfeedULL;
	ch->rec.version.clock = 77;
	ch->rec.version.node = 3;
	ch->rec.owner = 2;
	ch->rec.ep.family = TRK_INET4;
	ch->rec.ep.port = 9000;
	memcpy(ch->rec.ep.addr, "\x0a\x00\x00\x07", 4);
	ch->rec.meta_len = 3;
	memcpy(ch->rec.meta, "abc", 3);
	if (group != NULL) {
		ch->group_len = (uint8_t)strlen(group);
		memcpy(ch->group, group, ch->group_len);
	}
}

static void
test_record_roundtrip_and_rejects(void **state)
{
	struct trk_change in, out;
	uint8_t buf[CLU_REC_MAX], bad[CLU_REC_MAX];
	struct clu_wr w;
	struct clu_rd r;
	size_t len;

	(void)state;
	fill_change(&in, TRK_CH_JOIN, "sensor/1", "floor/2");
	clu_wr_init(&w, buf, sizeof(buf));
	assert_true(clu_rec_put(&w, &in));
	len = w.len;
	assert_int_equal(len, clu_rec_size(&in));
	clu_rd_init(&r, buf, len);
	assert_true(clu_rec_get(&r, &out));
	assert_int_equal(clu_rd_left(&r), 0);
	assert_int_equal(out.kind, TRK_CH_JOIN);
	assert_memory_equal(out.rec.name, "sensor/1", 8);
	assert_memory_equal(out.group, "floor/2", 7);
	assert_true(out.rec.hash == in.rec.hash);	/* recomputed */
	assert_true(out.rec.version.clock == 77 && out.rec.owner == 2);
	assert_memory_equal(out.rec.ep.addr, in.rec.ep.addr, 4);
	/* a record that does not fit leaves the writer usable */
	clu_wr_init(&w, buf, len - 1);
	assert_false(clu_rec_put(&w, &in));
	assert_false(w.bad);
	/* bad kind, a JOIN without group, zero name, clock 0, bad family,
	 * truncated */
	memcpy(bad, buf, len);
	bad[0] = 9;
	clu_rd_init(&r, bad, len);
	assert_false(clu_rec_get(&r, &out));
	memcpy(bad, buf, len);
	bad[4] = 0;
	clu_rd_init(&r, bad, len);
	assert_false(clu_rec_get(&r, &out));
	memcpy(bad, buf, len);
	bad[2] = 0;
	clu_rd_init(&r, bad, len);
	assert_false(clu_rec_get(&r, &out));
	memcpy(bad, buf, len);
	memset(bad + 16, 0, 8);
	clu_rd_init(&r, bad, len);
	assert_false(clu_rec_get(&r, &out));
	memcpy(bad, buf, len);
	bad[5] = 5;
	clu_rd_init(&r, bad, len);
	assert_false(clu_rec_get(&r, &out));
	for (size_t cut = 0; cut < len; cut++) {
		clu_rd_init(&r, buf, cut);
		assert_false(clu_rec_get(&r, &out));
	}
}

static void
test_keyring_seal_open_rotation(void **state)
{
	struct clu_keyring a, ab, b, none;
	const uint8_t (*acc)[CLU_KEY_LEN] = &key_a;
	uint8_t buf[128];
	size_t len, body;

	(void)state;
	assert_int_equal(clu_keyring_init(&a, key_a, NULL, 0), 0);
	assert_int_equal(clu_keyring_init(&ab, key_b, acc, 1), 0);
	assert_int_equal(clu_keyring_init(&b, key_b, NULL, 0), 0);
	assert_int_equal(clu_keyring_init(&none, NULL, NULL, 0), 0);
	assert_int_equal(clu_keyring_init(&none, NULL, acc, 1), -1);
	assert_int_equal(clu_keyring_init(&none, NULL, NULL, 0), 0);
	assert_true(clu_keyring_primary_id(&a) != 0);
	assert_int_equal(clu_keyring_primary_id(&none), 0);

	memset(buf, 0x5a, 40);
	len = clu_seal(&a, buf, 40, sizeof(buf));
	assert_int_equal(len, 40 + CLU_TAG_LEN);
	assert_true(clu_open(&a, clu_keyring_primary_id(&a), buf, len, &body));
	assert_int_equal(body, 40);
	/* rotation: the new node still accepts the old key ... */
	assert_true(clu_open(&ab, clu_keyring_primary_id(&a), buf, len, &body));
	/* ... a node with only the new key does not */
	assert_false(clu_open(&b, clu_keyring_primary_id(&a), buf, len, &body));
	/* wrong id, tampering, truncation, no-auth mixing */
	assert_false(clu_open(&a, 0, buf, len, &body));
	buf[3] ^= 1;
	assert_false(clu_open(&a, clu_keyring_primary_id(&a), buf, len, &body));
	buf[3] ^= 1;
	assert_false(clu_open(&a, clu_keyring_primary_id(&a), buf, 20, &body));
	assert_false(clu_open(&none, clu_keyring_primary_id(&a), buf, len,
			&body));
	assert_true(clu_open(&none, 0, buf, 40, &body));
	assert_int_equal(clu_seal(&none, buf, 40, 40), 40);
	assert_int_equal(clu_seal(&a, buf, 40, 40 + CLU_TAG_LEN - 1), 0);
}

/* Hostile datagrams change nothing and are counted. */
static void
test_hostile_datagrams(void **state)
{
	struct trk_config tc = { .nparts = 2, .node_id = 1,
		.expected_entries = 64, .change_queue_len = 64 };
	struct exec_node xn = { .node_id = 1, .name = "n1" };
	struct clu_keyring kr;
	struct clu_config cc;
	struct clu_stats st;
	struct mbr_addr src = { 0x0a000002, 7401 };
	uint8_t buf[CLU_DGRAM_MAX];
	struct clu_hdr h = { .type = CLU_T_BATCH, .part = 0, .nparts = 2,
		.sender = 2, .epoch = 5 };
	struct clu_wr w;
	struct trk *t;
	struct clu *c;
	size_t len;
	uint64_t rng = 1;
	int i;

	(void)state;
	t = trk_create(&tc);
	assert_non_null(t);
	clu_keyring_init(&kr, key_a, NULL, 0);
	clu_config_default(&cc);
	cc.node_id = 1;
	cc.name = "n1";
	cc.name_len = 2;
	cc.keys = &kr;
	assert_null(clu_create(&cc, t, &(struct exec_node){ .node_id = 9 }, 0));
	c = clu_create(&cc, t, &xn, 0);
	assert_non_null(c);
	/* random garbage */
	for (i = 0; i < 2000; i++) {
		len = (size_t)(i % CLU_DGRAM_MAX);
		for (size_t k = 0; k < len; k++) {
			rng = rng * 6364136223846793005ULL + 1;
			buf[k] = (uint8_t)(rng >> 56);
		}
		clu_receive(c, &src, buf, len, 10);
	}
	/* a well-formed header under a wrong key */
	clu_wr_init(&w, buf, sizeof(buf));
	h.key_id = clu_keyring_primary_id(&kr);
	clu_hdr_put(&w, &h);
	clu_put_be(&w, 0, 8);	/* base */
	clu_put_be(&w, 1, 8);	/* seq */
	clu_put_be(&w, 0, 2);	/* count */
	memset(buf + w.len, 0, CLU_TAG_LEN);
	clu_receive(c, &src, buf, w.len + CLU_TAG_LEN, 10);
	/* a correctly sealed batch from a node that is not a member */
	len = clu_seal(&kr, buf, w.len, sizeof(buf));
	clu_receive(c, &src, buf, len, 10);
	clu_get_stats(c, &st);
	assert_true(st.rx_auth_failed >= 1);
	assert_true(st.rx_malformed >= 1);
	assert_int_equal(st.rx, 2002);
	assert_int_equal(st.repl_applied, 0);
	assert_int_equal(trk_count(t), 0);
	clu_destroy(c);
	trk_destroy(t);
}

static void
run_scenario(const char *sc, uint64_t seed)
{
	const char *err = sim_scenario(sc, seed);

	if (err != NULL)
		fail_msg("%s seed %llu: %s (replay: swarm-sim --seed %llu "
			"--scenario %s)", sc, (unsigned long long)seed, err,
			(unsigned long long)seed, sc);
}

static uint64_t seeds_per_scenario = 2;

#define SCENARIO_TEST(nm)						\
static void test_sim_##nm(void **state)				\
{									\
	(void)state;							\
	for (uint64_t s = 1; s <= seeds_per_scenario; s++)		\
		run_scenario(#nm, s);					\
}

SCENARIO_TEST(basic)
SCENARIO_TEST(lossy)
SCENARIO_TEST(partition)
SCENARIO_TEST(crash)
SCENARIO_TEST(quorum)
SCENARIO_TEST(churn)
SCENARIO_TEST(replicas)
SCENARIO_TEST(coldstart)
SCENARIO_TEST(excluded)

/* The same seed gives the same run, bit for bit. */
static void
test_sim_replay_is_deterministic(void **state)
{
	uint64_t f[2];

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct sim_opts o = { .nodes = 4, .nparts = 2,
			.strategy = RING_STRATEGY_RING, .loss = 0.05,
			.dup = 0.02, .delay_min_ms = 1, .delay_max_ms = 9,
			.seed = 99, .keys = true };
		struct sim *s = sim_create(&o);

		sim_run(s, 3000);
		sim_workload(s, 200, 800, 1);
		sim_run(s, 2000);
		f[k] = sim_fingerprint(s);
		sim_destroy(s);
	}
	assert_true(f[0] == f[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_roundtrip_and_rejects),
		cmocka_unit_test(test_record_roundtrip_and_rejects),
		cmocka_unit_test(test_keyring_seal_open_rotation),
		cmocka_unit_test(test_hostile_datagrams),
		cmocka_unit_test(test_sim_replay_is_deterministic),
		cmocka_unit_test(test_sim_basic),
		cmocka_unit_test(test_sim_lossy),
		cmocka_unit_test(test_sim_partition),
		cmocka_unit_test(test_sim_crash),
		cmocka_unit_test(test_sim_quorum),
		cmocka_unit_test(test_sim_churn),
		cmocka_unit_test(test_sim_replicas),
		cmocka_unit_test(test_sim_coldstart),
		cmocka_unit_test(test_sim_excluded),
	};
	const char *env = getenv("SWARM_SIM_SEEDS");
	int rc;

	if (env != NULL && atoi(env) > 0)
		seeds_per_scenario = (uint64_t)atoi(env);
	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
