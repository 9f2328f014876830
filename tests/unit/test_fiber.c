/*
 * test_fiber.c -- cooperative fibers of the hypercall layer: run order,
 * switch, park/unpark, exit and reaping, register and FPU state across
 * switches, deep stacks, independent schedulers per host thread.
 * Host-only suite (hyper.h and host headers).
 */
#include <pthread.h>
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

static void
test_park_alone_is_deadlock(void **state)
{
	(void)state;
	assert_int_equal(hyper_fiber_count(), 1);
	assert_int_equal(hyper_fiber_park(), 11);	/* EDEADLK */
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
		cmocka_unit_test(test_park_alone_is_deadlock),
		cmocka_unit_test(test_many_exit_and_reap),
		cmocka_unit_test(test_fpu_state_preserved),
		cmocka_unit_test(test_deep_stack),
		cmocka_unit_test(test_per_thread_schedulers),
	};

	if (getenv("RUMPNET_TEST") != NULL)	/* run one test: see README */
		cmocka_set_test_filter(getenv("RUMPNET_TEST"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
