/*
 * test_slab.c - a partition's entry memory (white box): classes are
 * reused, objects freed from another thread come back to the owner,
 * presizing makes its chunks up front, and entries stay intact through
 * churn that reuses their memory.
 */
#include <pthread.h>
#include <stdlib.h>

#include "trk_test.h"
#include "trk_internal.h"

/* Freed objects of a class are reused for that class, not another. */
static void
test_classes_reuse(void **state)
{
	struct trk_slab s;
	void *a, *b, *c;

	(void)state;
	assert_int_equal(trk_slab_init(&s, 0), TRK_OK);
	assert_null(s.spare);
	a = trk_slab_alloc(&s, 100);
	b = trk_slab_alloc(&s, 100);
	assert_non_null(a);
	assert_non_null(b);
	assert_true((uint8_t *)b - (uint8_t *)a == 112);	/* 16-byte classes */
	assert_int_equal((uintptr_t)a % TRK_SLAB_GRAIN, 0);
	trk_slab_free_owned(&s, a, 100);
	c = trk_slab_alloc(&s, 300);		/* another class: fresh */
	assert_ptr_not_equal(c, a);
	assert_ptr_equal(trk_slab_alloc(&s, 97), a);	/* same class */
	assert_null(trk_slab_alloc(&s, TRK_ENTRY_SIZE_MAX + TRK_SLAB_GRAIN));
	assert_non_null(trk_slab_alloc(&s, TRK_ENTRY_SIZE_MAX));
	trk_slab_fini(&s);
}

/* Presizing makes the chunks (and their pages) before any entry. */
static void
test_prefault(void **state)
{
	struct trk_slab s;
	unsigned int n = 0;
	const struct slab_chunk *k;

	(void)state;
	assert_int_equal(trk_slab_init(&s, 5 * (size_t)TRK_SLAB_CHUNK), TRK_OK);
	for (k = s.spare; k != NULL; k = *(const struct slab_chunk *const *)k)
		n++;
	assert_true(n >= 5 && n <= 6);
	assert_non_null(trk_slab_alloc(&s, 128));
	assert_int_equal(s.nchunks, 1);
	trk_slab_fini(&s);
}

struct remote {
	struct trk_slab *s;
	void **obj;
	unsigned int n;
};

static void *
free_remote(void *arg)
{
	struct remote *r = arg;
	unsigned int i;

	for (i = 0; i < r->n; i++)
		trk_slab_free_remote(r->s, r->obj[i], 128);
	return NULL;
}

/* What another thread frees (the call_rcu worker's way) is reused. */
static void
test_remote_free(void **state)
{
	enum { N = 2000 };
	static void *obj[N];
	struct trk_slab s;
	struct remote r = { &s, obj, N };
	pthread_t th;
	uint64_t chunks;
	unsigned int i, back = 0, j;

	(void)state;
	assert_int_equal(trk_slab_init(&s, 0), TRK_OK);
	for (i = 0; i < N; i++)
		assert_non_null(obj[i] = trk_slab_alloc(&s, 128));
	chunks = s.nchunks;
	assert_int_equal(pthread_create(&th, NULL, free_remote, &r), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	for (i = 0; i < N; i++) {
		void *p = trk_slab_alloc(&s, 120);

		for (j = 0; j < N && obj[j] != p; j++)
			;
		back += j < N;
	}
	assert_int_equal(back, N);
	assert_int_equal(s.nchunks, chunks);
	trk_slab_fini(&s);
}

/* Entries through registration, re-registration and removal, reused. */
static void
test_entries_reused(void **state)
{
	enum { N = 600 };
	struct trk *t = trk_make(2, N, 0, 0);
	struct name_buf nb[N];
	unsigned int i, round;

	(void)state;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < N; i++) {
			name_make(&nb[i], "slab", i);
			assert_int_equal(reg_simple(t, &nb[i].k, i + round, 0, 0),
					TRK_OK);
		}
		for (i = 0; i < N; i++) {
			const struct trk_entry *e = trk_whereis(t, &nb[i].k, 0);

			assert_non_null(e);
			assert_int_equal(e->handle, i + round);
			assert_memory_equal(e->data, nb[i].k.name, nb[i].k.len);
		}
		for (i = 0; i < N; i += 2)
			assert_int_equal(trk_unregister(t, &nb[i].k, false, 0, 0),
					TRK_OK);
		for (i = 0; i < N; i++)
			trk_flush(t, i % 2);
		for (i = 1; i < N; i += 2)
			assert_int_equal(trk_unregister(t, &nb[i].k, false, 0, 0),
					TRK_OK);
	}
	trk_destroy(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes_reuse),
		cmocka_unit_test(test_prefault),
		cmocka_unit_test(test_remote_free),
		cmocka_unit_test(test_entries_reused),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
