/*
 * test_concurrent.c - one owner thread writing, reader threads under QSBR.
 *
 * The owner (the test's main thread, owner of all partitions) runs OPS
 * random registers, content updates (copy on write), unregisters, group
 * joins/leaves and lease expiries against a shadow model, asserting every
 * status. Meanwhile READERS threads look names up, page through the
 * registry and through a group, one quiescent state per loop iteration,
 * and check that every entry they see is internally consistent (its port
 * and metadata are functions of its name and handle). A torn or freed entry
 * fails the check, or ASan reports the use after free in the sanitizer
 * build. The tables start small, so each partition's names table doubles
 * while the readers look through it. At the end the tracker must agree with
 * the shadow model.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "trk_test.h"
#include "trk_internal.h"	/* white box: the tables did grow */

enum {
	NAMES = 2048,
	OPS = 200000,
	READERS = 2,
	TTL = 40,		/* ms of simulated time */
	OPS_PER_MS = 256,
};

struct shadow {
	uint64_t handle;	/* 0 = absent */
	uint64_t expiry;
	bool member;
};

struct reader {
	pthread_t tid;
	unsigned int seed;
	uint64_t lookups, hits, seen, bad;
};

static struct trk *tr;
static uint64_t sim_now;	/* simulated ms, written by the owner */
static int stop;
static int started;
static const char group_name[] = "fleet";

static bool
check_page(const struct trk_entry **out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!entry_consistent(out[i]))
			return false;
	return true;
}

static void *
reader_main(void *arg)
{
	struct trk_key g = trk_key(group_name, sizeof(group_name) - 1);
	const struct trk_entry *out[16];
	struct trk_cursor names, members;
	struct reader *r = arg;
	struct name_buf n;
	uint64_t iter = 0;
	size_t got;

	urcu_qsbr_register_thread();
	trk_cursor_init(&names);
	trk_cursor_init(&members);
	uatomic_inc(&started);
	while (!CMM_LOAD_SHARED(stop)) {
		uint64_t now = CMM_LOAD_SHARED(sim_now);
		const struct trk_entry *e;

		name_make(&n, "dev", (unsigned int)rand_r(&r->seed) % NAMES);
		e = trk_whereis(tr, &n.k, now);
		r->lookups++;
		if (e != NULL) {
			r->hits++;
			if (!entry_consistent(e) || e->name_len != n.k.len ||
					memcmp(trk_entry_name(e), n.s, n.k.len) != 0)
				r->bad++;
		}
		if (iter % 16 == 0) {
			if (trk_registered(tr, &names, now, out, 16, &got) ||
					!check_page(out, got))
				r->bad++;
			r->seen += got;
			if (trk_cursor_done(&names))
				trk_cursor_init(&names);
		} else if (iter % 16 == 8) {
			if (trk_members(tr, &g, &members, now, out, 16, &got) ||
					!check_page(out, got))
				r->bad++;
			r->seen += got;
			if (trk_cursor_done(&members))
				trk_cursor_init(&members);
		}
		iter++;
		urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_unregister_thread();
	return NULL;
}

static bool
live(const struct shadow *s, uint64_t now)
{
	return s->handle != 0 && (s->expiry == 0 || now < s->expiry);
}

/* One random write on name i, its expected outcome asserted. */
static void
owner_op(struct shadow *sh, unsigned int i, unsigned int dice,
		uint64_t *next_handle, uint64_t now)
{
	struct trk_key g = trk_key(group_name, sizeof(group_name) - 1);
	struct shadow *s = &sh[i];
	struct name_buf n;
	struct reg_buf b;

	name_make(&n, "dev", i);
	if (!live(s, now)) {
		s->member = false;	/* a dead entry left its groups */
		if (dice % 4 == 0) {
			assert_int_equal(trk_unregister(tr, &n.k, false, 0, now),
					TRK_NOT_FOUND);
			s->handle = 0;
			return;
		}
		s->handle = (*next_handle)++;
		reg_make(&b, &n.k, s->handle, dice % 3 == 0 ? TTL : 0);
		assert_int_equal(trk_register(tr, &b.r, now, NULL), TRK_OK);
		s->expiry = b.r.ttl_ms ? now + b.r.ttl_ms : 0;
		return;
	}
	switch (dice % 6) {
	case 0:
	case 1:	/* refresh, often with new content (copy on write) */
		reg_make(&b, &n.k, s->handle, dice % 3 == 0 ? TTL : 0);
		b.r.ep.addr[1] = (uint8_t)(dice >> 8);
		assert_int_equal(trk_register(tr, &b.r, now, NULL), TRK_OK);
		s->expiry = b.r.ttl_ms ? now + b.r.ttl_ms : 0;
		break;
	case 2:	/* someone else wants the name */
		reg_make(&b, &n.k, *next_handle, 0);
		assert_int_equal(trk_register(tr, &b.r, now, NULL), TRK_EXISTS);
		break;
	case 3:
		assert_int_equal(trk_unregister(tr, &n.k, true, s->handle, now),
				TRK_OK);
		s->handle = 0;
		s->member = false;
		break;
	case 4:
		assert_int_equal(trk_join(tr, &g, &n.k, now), TRK_OK);
		s->member = true;
		break;
	default:
		assert_int_equal(trk_leave(tr, &g, &n.k, now),
				s->member ? TRK_OK : TRK_NOT_FOUND);
		s->member = false;
		break;
	}
}

/* After the run: the tracker agrees with the shadow, name by name. */
static void
verify_final(const struct shadow *sh, uint64_t now)
{
	struct trk_key g = trk_key(group_name, sizeof(group_name) - 1);
	const struct trk_entry *out[64];
	size_t members = 0, want_members = 0, got, k;
	struct trk_cursor c;
	struct name_buf n;
	unsigned int i;

	for (i = 0; i < NAMES; i++) {
		const struct trk_entry *e;

		name_make(&n, "dev", i);
		e = trk_whereis(tr, &n.k, now);
		if (live(&sh[i], now)) {
			assert_non_null(e);
			assert_int_equal(e->handle, sh[i].handle);
			assert_true(entry_consistent(e));
			want_members += sh[i].member;
		} else {
			assert_null(e);
		}
	}
	trk_cursor_init(&c);
	while (!trk_cursor_done(&c)) {
		assert_int_equal(trk_members(tr, &g, &c, now, out, 64, &got), TRK_OK);
		for (k = 0; k < got; k++) {
			unsigned int idx = (unsigned int)atoi((const char *)
					trk_entry_name(out[k]) + 4);

			assert_true(sh[idx].member);
		}
		members += got;
	}
	assert_int_equal(members, want_members);
}

static void
test_owner_with_readers(void **state)
{
	struct shadow *sh = calloc(NAMES, sizeof(*sh));
	struct reader rd[READERS];
	uint64_t next_handle = 1, now = 1;
	unsigned int seed = 12345, op, p;

	(void)state;
	assert_non_null(sh);
	/* presized far below NAMES: the names tables double under the readers */
	tr = trk_make(4, 64, 0, 0);
	CMM_STORE_SHARED(sim_now, now);
	CMM_STORE_SHARED(stop, 0);
	for (p = 0; p < READERS; p++) {
		memset(&rd[p], 0, sizeof(rd[p]));
		rd[p].seed = 777 + p;
		assert_int_equal(pthread_create(&rd[p].tid, NULL, reader_main,
				&rd[p]), 0);
	}
	while (uatomic_read(&started) < READERS)
		sched_yield();
	for (op = 0; op < OPS; op++) {
		unsigned int dice = (unsigned int)rand_r(&seed);

		owner_op(sh, (unsigned int)rand_r(&seed) % NAMES, dice,
				&next_handle, now);
		if (op % OPS_PER_MS == OPS_PER_MS - 1) {
			CMM_STORE_SHARED(sim_now, ++now);
			for (p = 0; p < trk_nparts(tr); p++)
				trk_expire(tr, p, now, 64);
			urcu_qsbr_quiescent_state();
		}
	}
	CMM_STORE_SHARED(stop, 1);
	urcu_qsbr_thread_offline();
	for (p = 0; p < READERS; p++)
		assert_int_equal(pthread_join(rd[p].tid, NULL), 0);
	urcu_qsbr_thread_online();
	for (p = 0; p < READERS; p++) {
		print_message("reader %u: %llu lookups, %llu hits, %llu listed\n",
				p, (unsigned long long)rd[p].lookups,
				(unsigned long long)rd[p].hits,
				(unsigned long long)rd[p].seen);
		assert_int_equal(rd[p].bad, 0);
		assert_true(rd[p].lookups > 0);
	}
	verify_final(sh, now);
	for (p = 0; p < trk_nparts(tr); p++)
		assert_true(tr->part[p].names->grows > 0);
	trk_destroy(tr);
	free(sh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_with_readers),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
