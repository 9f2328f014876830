/*
 * harness.h -- shared helpers for the unit suites.
 *
 * Include order matters: host headers first (this file does them), then
 * kernel headers, because the kernel's libkern.h maps memcpy & co. to
 * compiler builtins and its errno.h defines the kernel's own errno values
 * (so a suite that includes kernel headers must not include <errno.h>).
 *
 * Every test that creates an instance ends with th_kernel_destroy(), which
 * asserts that every pool is back to zero before the instance goes away.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "rumpnet/kernel.h"

#ifdef RUMP_LOCKS_UP
#define TH_MAXCPU 1	/* locks=up: one vCPU per instance */
#else
#define TH_MAXCPU 2
#endif

/* th_kernel: an instance with the given softint mode, clock and vCPUs. */
static inline struct rump_kernel *
th_kernel(enum rump_softint_mode mode, enum rump_clock_kind clock,
    unsigned ncpu)
{
	struct rump_kernel_config cfg;
	struct rump_kernel *k = NULL;

	rump_kernel_config_default(&cfg);
	cfg.softint_mode = mode;
	cfg.clock = clock;
	cfg.ncpu = ncpu;
	assert_int_equal(rump_kernel_create(&cfg, &k), 0);
	assert_non_null(k);
	return k;
}

/* th_kernel_destroy: assert no pool object is outstanding, then destroy. */
static inline void
th_kernel_destroy(struct rump_kernel *k)
{
	assert_int_equal(rump_kernel_leaks(k), 0);
	assert_int_equal(rump_kernel_destroy(k), 0);
}

/* th_pool: the statistics record of k's pool called name. */
static inline struct rump_pool_stat
th_pool(struct rump_kernel *k, const char *name)
{
	struct rump_pool_stat st[32];
	unsigned n = 32;

	assert_int_equal(rump_kernel_pool_stats(k, st, &n), 0);
	for (unsigned i = 0; i < n && i < 32; i++)
		if (strcmp(st[i].name, name) == 0)
			return st[i];
	fail_msg("no pool named %s", name);
	return st[0];
}

/* th_pool_out: objects of k's pool name handed out and not given back. */
static inline uint64_t
th_pool_out(struct rump_kernel *k, const char *name)
{
	struct rump_pool_stat st = th_pool(k, name);

	return st.nget - st.nput;
}

/* th_sleep_ms: sleep the host thread. */
static inline void
th_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* th_now_ns: the host's monotonic clock. */
static inline uint64_t
th_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * th_wait_until: poll cond() every millisecond for up to ms; returns
 * whether it became true.  For waiting on another host thread.
 */
#define th_wait_until(cond, ms) ({					\
	bool th_ok_ = false;						\
	for (unsigned th_i_ = 0; th_i_ < (ms); th_i_++) {		\
		if (cond) {						\
			th_ok_ = true;					\
			break;						\
		}							\
		th_sleep_ms(1);						\
	}								\
	th_ok_ || (cond);						\
})

/*
 * A helper host thread for a test: binds (as an ordinary thread, or as the
 * hardware interrupt LWP of one vCPU, or not at all), runs bt_body holding
 * no vCPU, unbinds, and records the bind/unbind result for bthread_join().
 */
#define BT_UNBOUND (-2)	/* no LWP of its own */
#define BT_BOUND (-1)	/* rump_thread_bind() */
			/* >= 0: rump_intr_bind() to that vCPU */
#define BT_WAIT_MS 5000

struct bthread {
	pthread_t bt_t;
	struct rump_kernel *bt_k;
	int bt_bind;				/* BT_* or a vCPU */
	void (*bt_body)(struct bthread *);
	void *bt_arg;
	_Atomic int bt_rc;			/* bind, then unbind, result */
	_Atomic bool bt_done;
};

static inline void *
bthread_main(void *arg)
{
	struct bthread *bt = arg;
	int rc = 0;

	if (bt->bt_bind == BT_BOUND)
		rc = rump_thread_bind(bt->bt_k);
	else if (bt->bt_bind >= 0)
		rc = rump_intr_bind(bt->bt_k, (unsigned)bt->bt_bind);
	if (rc == 0) {
		bt->bt_body(bt);
		if (bt->bt_bind != BT_UNBOUND)
			rc = rump_thread_unbind();
	}
	atomic_store(&bt->bt_rc, rc);
	atomic_store(&bt->bt_done, true);
	return NULL;
}

static inline void
bthread_start(struct bthread *bt, struct rump_kernel *k, int bind,
    void (*body)(struct bthread *), void *arg)
{
	memset(bt, 0, sizeof(*bt));
	bt->bt_k = k;
	bt->bt_bind = bind;
	bt->bt_body = body;
	bt->bt_arg = arg;
	assert_int_equal(pthread_create(&bt->bt_t, NULL, bthread_main, bt), 0);
}

static inline void
bthread_join(struct bthread *bt)
{
	assert_true(th_wait_until(atomic_load(&bt->bt_done), BT_WAIT_MS));
	assert_int_equal(pthread_join(bt->bt_t, NULL), 0);
	assert_int_equal(atomic_load(&bt->bt_rc), 0);
}

/*
 * th_filter: called by main() before running its group, so that only the
 * tests matching $RUMPNET_TEST (a cmocka pattern, `*` and `?` allowed) run.
 */
static inline void
th_filter(void)
{
	const char *pattern = getenv("RUMPNET_TEST");

	if (pattern != NULL && *pattern != '\0')
		cmocka_set_test_filter(pattern);
}

/* A fixed-seed generator so every run sees the same sequences. */
static inline uint32_t
th_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return (uint32_t)(x >> 16);
}

#endif /* TESTS_HARNESS_H */
