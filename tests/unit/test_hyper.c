/*
 * test_hyper.c -- the hypercall layer on its own: version check, errno
 * translation, threads, host locks, clocks, random bytes, curlwp.
 *
 * Host-only suite: includes hyper.h (which includes nothing) and host
 * headers, no kernel header, so it may use <errno.h>.  Kernel errno values
 * are written as numbers (NetBSD's).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "hyper/hyper.h"

#define K_EBUSY 16
#define K_EAGAIN 35
#define K_EINPROGRESS 36
#define K_ECONNREFUSED 61
#define K_EPROGMISMATCH 75

static void
test_version(void **state)
{
	(void)state;
	assert_int_equal(hyper_init(HYPER_VERSION), 0);
	assert_int_equal(hyper_init(HYPER_VERSION + 1), K_EPROGMISMATCH);
	assert_int_equal(hyper_init(HYPER_VERSION), 0);
}

static void
test_errno_translation(void **state)
{
	(void)state;
	/* the numbers differ between NetBSD and Linux for these */
	assert_int_equal(hyper_errno_to_host(K_EAGAIN), EAGAIN);
	assert_int_equal(hyper_errno_to_host(K_EINPROGRESS), EINPROGRESS);
	assert_int_equal(hyper_errno_to_host(K_ECONNREFUSED), ECONNREFUSED);
	assert_int_equal(hyper_errno_from_host(EAGAIN), K_EAGAIN);
	assert_int_equal(hyper_errno_from_host(ECONNREFUSED), K_ECONNREFUSED);
	assert_int_equal(hyper_errno_to_host(0), 0);
	assert_int_equal(hyper_errno_from_host(0), 0);
	/* every kernel value the table knows round-trips */
	for (int k = 1; k < 100; k++) {
		int h = hyper_errno_to_host(k);

		if (h != EINVAL || k == 22)
			assert_int_equal(hyper_errno_from_host(h), k);
	}
	/* a host error the kernel lacks becomes EIO (5) */
	assert_int_equal(hyper_errno_from_host(EKEYEXPIRED), 5);
}

struct thr_arg {
	char name[16];
	int cpu;
	struct hyper_mtx *mtx;
	int tryresult;
};

static void *
thr_body(void *v)
{
	struct thr_arg *a = v;

	pthread_getname_np(pthread_self(), a->name, sizeof(a->name));
	a->cpu = sched_getcpu();
	a->tryresult = hyper_mutex_tryenter(a->mtx);
	if (a->tryresult == 0)
		hyper_mutex_exit(a->mtx);
	return NULL;
}

static void
test_thread_name_affinity_join(void **state)
{
	struct hyper_thread *t;
	struct thr_arg a = { .cpu = -1 };

	(void)state;
	assert_int_equal(hyper_mutex_init(&a.mtx), 0);
	hyper_mutex_enter(a.mtx);
	assert_int_equal(hyper_thread_create(thr_body, &a, "rn-test", 0, 1,
	    &t), 0);
	assert_int_equal(hyper_thread_join(t), 0);
	hyper_mutex_exit(a.mtx);
	assert_string_equal(a.name, "rn-test");
	assert_int_equal(a.cpu, 0);
	assert_int_equal(a.tryresult, K_EBUSY);	/* held by this thread */
	hyper_mutex_destroy(a.mtx);
}

static void
test_thread_bad_cpu(void **state)
{
	struct hyper_thread *t;

	(void)state;
	assert_int_equal(hyper_thread_create(thr_body, NULL, "x", 1 << 20, 1,
	    &t), 22);
}

struct cv_arg {
	struct hyper_mtx *mtx;
	struct hyper_cv *cv;
	int flag;
};

static void *
cv_signaller(void *v)
{
	struct cv_arg *a = v;

	hyper_clock_sleep(5 * 1000 * 1000);
	hyper_mutex_enter(a->mtx);
	a->flag = 1;
	hyper_cv_signal(a->cv);
	hyper_mutex_exit(a->mtx);
	return NULL;
}

static void
test_cv_timedwait(void **state)
{
	struct cv_arg a = { 0 };
	struct hyper_thread *t;
	hyper_u64 t0, t1;

	(void)state;
	assert_int_equal(hyper_mutex_init(&a.mtx), 0);
	assert_int_equal(hyper_cv_init(&a.cv), 0);

	/* nobody signals: times out after at least the time asked */
	hyper_mutex_enter(a.mtx);
	hyper_clock_gettime(HYPER_CLOCK_MONO, &t0);
	assert_int_equal(hyper_cv_timedwait(a.cv, a.mtx, 20 * 1000 * 1000),
	    K_EAGAIN);
	hyper_clock_gettime(HYPER_CLOCK_MONO, &t1);
	hyper_mutex_exit(a.mtx);
	assert_true(t1 - t0 >= 20 * 1000 * 1000);

	/* signalled: returns 0 with the flag set */
	assert_int_equal(hyper_thread_create(cv_signaller, &a, "sig", -1, 1,
	    &t), 0);
	hyper_mutex_enter(a.mtx);
	while (a.flag == 0)
		assert_int_equal(hyper_cv_timedwait(a.cv, a.mtx,
		    10ull * 1000 * 1000 * 1000), 0);
	hyper_mutex_exit(a.mtx);
	assert_int_equal(hyper_thread_join(t), 0);
	hyper_cv_destroy(a.cv);
	hyper_mutex_destroy(a.mtx);
}

static void
test_rwlock(void **state)
{
	struct hyper_rw *rw;

	(void)state;
	assert_int_equal(hyper_rw_init(&rw), 0);
	hyper_rw_enter(rw, HYPER_RW_READER);
	assert_int_equal(hyper_rw_tryenter(rw, HYPER_RW_READER), 0);
	assert_int_equal(hyper_rw_tryenter(rw, HYPER_RW_WRITER), K_EBUSY);
	hyper_rw_exit(rw);
	hyper_rw_exit(rw);
	assert_int_equal(hyper_rw_tryenter(rw, HYPER_RW_WRITER), 0);
	assert_int_equal(hyper_rw_tryenter(rw, HYPER_RW_READER), K_EBUSY);
	hyper_rw_exit(rw);
	hyper_rw_destroy(rw);
}

static void
test_clocks(void **state)
{
	hyper_u64 a, b, wall;

	(void)state;
	assert_int_equal(hyper_clock_gettime(HYPER_CLOCK_MONO, &a), 0);
	assert_int_equal(hyper_clock_sleep(2 * 1000 * 1000), 0);
	assert_int_equal(hyper_clock_gettime(HYPER_CLOCK_MONO, &b), 0);
	assert_true(b - a >= 2 * 1000 * 1000);
	assert_int_equal(hyper_clock_gettime(HYPER_CLOCK_WALL, &wall), 0);
	time_t now = time(NULL);
	assert_true(wall / 1000000000u + 2 >= (hyper_u64)now);
	assert_true(wall / 1000000000u <= (hyper_u64)now + 2);
	assert_int_equal(hyper_clock_gettime(7, &a), 22);
}

static void
test_random(void **state)
{
	unsigned char a[32], b[32], zero[32] = { 0 };

	(void)state;
	assert_int_equal(hyper_getrandom(a, sizeof(a)), 0);
	assert_int_equal(hyper_getrandom(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
}

static void
test_malloc_aligned(void **state)
{
	void *p;

	(void)state;
	assert_int_equal(hyper_malloc(100, 4096, &p), 0);
	assert_int_equal((uintptr_t)p % 4096, 0);
	memset(p, 0xa5, 100);
	hyper_free(p, 100);
	assert_int_equal(hyper_malloc(100, 48, &p), 22);	/* not 2^n */
}

static void *
curlwp_body(void *v)
{
	hyper_curlwp_set((struct lwp *)v);
	return hyper_curlwp_get();
}

static void
test_curlwp_per_thread(void **state)
{
	pthread_t t;
	void *ret;
	int mine, theirs;

	(void)state;
	hyper_init(HYPER_VERSION);
	hyper_curlwp_set((struct lwp *)&mine);
	pthread_create(&t, NULL, curlwp_body, &theirs);
	pthread_join(t, &ret);
	assert_ptr_equal(ret, &theirs);
	assert_ptr_equal(hyper_curlwp_get(), &mine);
	hyper_curlwp_set(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_errno_translation),
		cmocka_unit_test(test_thread_name_affinity_join),
		cmocka_unit_test(test_thread_bad_cpu),
		cmocka_unit_test(test_cv_timedwait),
		cmocka_unit_test(test_rwlock),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_malloc_aligned),
		cmocka_unit_test(test_curlwp_per_thread),
	};

	if (getenv("RUMPNET_TEST") != NULL)	/* run one test: see README */
		cmocka_set_test_filter(getenv("RUMPNET_TEST"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
