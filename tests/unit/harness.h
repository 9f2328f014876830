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
