/*
 * test_fiber.c -- cooperative fibers of the hypercall layer: run order,
 * switch, park/unpark (permits, wake-ups from other host threads, timed
 * waits), exit and reaping, register and FPU state across
 * switches, deep stacks, independent schedulers per host thread.
 * Host-only suite (hyper.h and host headers).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "hyper/hyper.h"

#define LOGMAX 64

struct runlog {
	char buf[LOGMAX];
	int n;
};

static void
logc(struct runlog *lg, char c)
{
	if (lg->n < LOGMAX - 1)
		lg->buf[lg->n++] = c;
	lg->buf[lg->n] = '\0';
}

struct yarg {
	struct runlog *lg;
	char c;
	int rounds;
};

static void
yielder(void *v)
{
	struct yarg *a = v;

	for (int i = 0; i < a->rounds; i++) {
		logc(a->lg, a->c);
		hyper_fiber_yield();
	}
}

static void
test_yield_round_robin(void **state)
{
	struct runlog lg = { .n = 0 };
	struct yarg a = { &lg, 'a', 3 }, b = { &lg, 'b', 3 }, c = { &lg, 'c', 2 };

	(void)state;
	assert_int_equal(hyper_fiber_count(), 1);
	assert_int_equal(hyper_fiber_create(yielder, &a, 0, NULL), 0);
	assert_int_equal(hyper_fiber_create(yielder, &b, 0, NULL), 0);
	assert_int_equal(hyper_fiber_create(yielder, &c, 0, NULL), 0);
	assert_int_equal(hyper_fiber_count(), 4);
	while (hyper_fiber_count() > 1) {
		logc(&lg, 'M');
		hyper_fiber_yield();
	}
	/* FIFO: main, a, b, c, main, ... ; c leaves after two rounds */
	assert_string_equal(lg.buf, "MabcMabcMabM");
}

static struct hyper_fiber *main_fiber;

static void
switcher(void *v)
{
	struct runlog *lg = v;

	logc(lg, 's');
	hyper_fiber_switch(main_fiber);
	logc(lg, 'S');
}

static void
test_switch_to(void **state)
{
	struct runlog lg = { .n = 0 };
	struct hyper_fiber *f, *g;

	(void)state;
	assert_int_equal(hyper_fiber_self(&main_fiber), 0);
	assert_int_equal(hyper_fiber_create(switcher, &lg, 0, &f), 0);
	assert_int_equal(hyper_fiber_create(switcher, &lg, 0, &g), 0);
	hyper_fiber_switch(g);		/* g first, although f is older */
	logc(&lg, 'M');
	hyper_fiber_switch(f);
	logc(&lg, 'M');
	while (hyper_fiber_count() > 1)
		hyper_fiber_yield();
	/* after the two switches, run queue order finishes f then g */
	assert_string_equal(lg.buf, "sMsMSS");
}

struct parg {
	struct runlog *lg;
	struct hyper_fiber *self;
	int result;
};

static void
parker(void *v)
{
	struct parg *a = v;

	logc(a->lg, 'p');
	a->result = hyper_fiber_park();
	logc(a->lg, 'u');
}

static void
test_park_unpark(void **state)
{
	struct runlog lg = { .n = 0 };
	struct parg a = { &lg, NULL, -1 };

	(void)state;
	assert_int_equal(hyper_fiber_create(parker, &a, 0, &a.self), 0);
	hyper_fiber_yield();		/* runs parker until it parks */
	logc(&lg, 'M');
	hyper_fiber_yield();		/* parked: nothing else to run */
	logc(&lg, 'M');
	hyper_fiber_unpark(a.self);
	hyper_fiber_yield();
	assert_int_equal(hyper_fiber_count(), 1);
	assert_int_equal(a.result, 0);
	assert_string_equal(lg.buf, "pMMu");
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A wake-up before the park is kept: the park returns at once. */
static void
test_permit(void **state)
{
	struct hyper_fiber *self;

	(void)state;
	assert_int_equal(hyper_fiber_self(&self), 0);
	hyper_fiber_unpark(self);
	hyper_fiber_unpark(self);		/* permits do not add up */
	assert_int_equal(hyper_fiber_park(), 0);
}

struct remote {
	struct hyper_fiber *target;
	unsigned delay_ms;
	uint64_t sent_ns;
};

static void *
remote_unparker(void *v)
{
	struct remote *r = v;
	struct timespec ts = { 0, (long)r->delay_ms * 1000000L };

	nanosleep(&ts, NULL);
	r->sent_ns = now_ns();
	hyper_fiber_unpark(r->target);
	return NULL;
}

/* Alone on its thread, a parked fiber blocks until another thread wakes it. */
static void
test_park_alone_woken_remotely(void **state)
{
	struct remote r = { NULL, 30, 0 };
	pthread_t t;
	uint64_t t0;

	(void)state;
	assert_int_equal(hyper_fiber_count(), 1);
	assert_int_equal(hyper_fiber_self(&r.target), 0);
	t0 = now_ns();
	assert_int_equal(pthread_create(&t, NULL, remote_unparker, &r), 0);
	assert_int_equal(hyper_fiber_park(), 0);
	assert_true(now_ns() - t0 >= 30000000u);
	assert_true(now_ns() >= r.sent_ns && r.sent_ns != 0);
	pthread_join(t, NULL);
}

static int remote_woken;

static void
remote_parker(void *v)
{
	struct hyper_fiber **self = v;

	assert_int_equal(hyper_fiber_self(self), 0);
	assert_int_equal(hyper_fiber_park(), 0);
	remote_woken++;
}

/*
 * A fiber parked while its thread's main fiber waits: the remote wake-up
 * ends the wait early and the fiber runs at the next yield.
 */
static void
test_wait_ends_on_remote_wakeup(void **state)
{
	struct remote r = { NULL, 20, 0 };
	pthread_t t;
	uint64_t t0, waited;

	(void)state;
	remote_woken = 0;
	assert_int_equal(hyper_fiber_create(remote_parker, &r.target, 0, NULL),
	    0);
	hyper_fiber_yield();			/* it parks */
	assert_int_equal(remote_woken, 0);
	assert_int_equal(hyper_fiber_runnable(), 0);
	/* nothing to do: a timed wait sleeps the whole time */
	t0 = now_ns();
	assert_int_equal(hyper_fiber_wait(10000000u), 0);
	waited = now_ns() - t0;
	assert_true(waited >= 10000000u);
	assert_int_equal(pthread_create(&t, NULL, remote_unparker, &r), 0);
	t0 = now_ns();
	assert_int_equal(hyper_fiber_wait(5000000000u), 0);	/* 5 s */
	waited = now_ns() - t0;
	assert_true(waited < 2000000000u);	/* woken, not timed out */
	assert_int_equal(hyper_fiber_runnable(), 1);
	assert_true(hyper_fiber_mine(r.target));
	hyper_fiber_yield();
	assert_int_equal(remote_woken, 1);
	assert_int_equal(hyper_fiber_count(), 1);
	pthread_join(t, NULL);
}

/* Many wake-ups from another thread, racing with parks: none is lost. */
struct pingpong {
	struct hyper_fiber *fiber;	/* parks n times */
	_Atomic int parked;		/* rounds the fiber has started */
	int rounds;
	int woken;
};

static void
pp_fiber(void *v)
{
	struct pingpong *p = v;

	for (int i = 0; i < p->rounds; i++) {
		atomic_fetch_add(&p->parked, 1);
		assert_int_equal(hyper_fiber_park(), 0);
		p->woken++;
	}
}

static void *
pp_waker(void *v)
{
	struct pingpong *p = v;

	for (int i = 1; i <= p->rounds; i++) {
		while (atomic_load(&p->parked) < i)
			sched_yield();
		hyper_fiber_unpark(p->fiber);
	}
	return NULL;
}

static void
test_remote_wakeups_not_lost(void **state)
{
	struct pingpong p = { .rounds = 20000 };
	pthread_t t;

	(void)state;
	assert_int_equal(hyper_fiber_create(pp_fiber, &p, 0, &p.fiber), 0);
	assert_int_equal(pthread_create(&t, NULL, pp_waker, &p), 0);
	while (hyper_fiber_count() > 1) {
		hyper_fiber_yield();
		(void)hyper_fiber_wait(1000000u);
	}
	pthread_join(t, NULL);
	assert_int_equal(p.woken, p.rounds);
}

static int exited;

static void
short_lived(void *v)
{
	(void)v;
	exited++;
}

static void
test_many_exit_and_reap(void **state)
{
	(void)state;
	exited = 0;
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 100; i++)
			assert_int_equal(hyper_fiber_create(short_lived, NULL,
			    16 * 1024, NULL), 0);
		while (hyper_fiber_count() > 1)
			hyper_fiber_yield();
	}
	assert_int_equal(exited, 1000);
}

static void
fpu_worker(void *v)
{
	double *out = v;
	volatile double x = 1.0;

	for (int i = 0; i < 50; i++) {
		x = x * 1.5 + 0.25;
		hyper_fiber_yield();
	}
	*out = x;
}

static void
test_fpu_state_preserved(void **state)
{
	double r1 = 0, r2 = 0, expect = 1.0;

	(void)state;
	for (int i = 0; i < 50; i++)
		expect = expect * 1.5 + 0.25;
	assert_int_equal(hyper_fiber_create(fpu_worker, &r1, 0, NULL), 0);
	assert_int_equal(hyper_fiber_create(fpu_worker, &r2, 0, NULL), 0);
	while (hyper_fiber_count() > 1)
		hyper_fiber_yield();
	assert_true(r1 == expect);
	assert_true(r2 == expect);
}

static int
recurse(volatile char *prev, int depth)
{
	volatile char frame[512];

	frame[0] = (char)depth;
	frame[511] = prev != NULL ? prev[0] : 0;
	if (depth == 0)
		return frame[0] + frame[511];
	if (depth % 16 == 0)
		hyper_fiber_yield();	/* switch with a deep stack */
	return recurse(frame, depth - 1) + 1;
}

static void
deep(void *v)
{
	*(int *)v = recurse(NULL, 60);	/* ~35 KiB of a 64 KiB stack */
}

static void
test_deep_stack(void **state)
{
	int r = -1;

	(void)state;
	assert_int_equal(hyper_fiber_create(deep, &r, 0, NULL), 0);
	while (hyper_fiber_count() > 1)
		hyper_fiber_yield();
	assert_int_equal(r, 60 + 1);
}

static void *
other_thread(void *v)
{
	struct runlog *lg = v;
	struct yarg a = { lg, 'x', 2 };

	hyper_fiber_create(yielder, &a, 0, NULL);
	while (hyper_fiber_count() > 1)
		hyper_fiber_yield();
	return (void *)(intptr_t)hyper_fiber_count();
}

static void
test_per_thread_schedulers(void **state)
{
	struct runlog lg = { .n = 0 }, other = { .n = 0 };
	struct yarg a = { &lg, 'a', 2 };
	pthread_t t;
	void *ret;

	(void)state;
	assert_int_equal(hyper_fiber_create(yielder, &a, 0, NULL), 0);
	pthread_create(&t, NULL, other_thread, &other);
	pthread_join(t, &ret);
	assert_int_equal((intptr_t)ret, 1);
	assert_string_equal(other.buf, "xx");
	/* our own fiber did not run on the other thread */
	assert_int_equal(lg.n, 0);
	while (hyper_fiber_count() > 1)
		hyper_fiber_yield();
	assert_string_equal(lg.buf, "aa");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yield_round_robin),
		cmocka_unit_test(test_switch_to),
		cmocka_unit_test(test_park_unpark),
		cmocka_unit_test(test_permit),
		cmocka_unit_test(test_park_alone_woken_remotely),
		cmocka_unit_test(test_wait_ends_on_remote_wakeup),
		cmocka_unit_test(test_remote_wakeups_not_lost),
		cmocka_unit_test(test_many_exit_and_reap),
		cmocka_unit_test(test_fpu_state_preserved),
		cmocka_unit_test(test_deep_stack),
		cmocka_unit_test(test_per_thread_schedulers),
	};

	if (getenv("RUMPNET_TEST") != NULL)	/* run one test: see README */
		cmocka_set_test_filter(getenv("RUMPNET_TEST"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
