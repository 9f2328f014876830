/*
 * test_callout.c -- callouts (src/kern/kern_callout.c) and the clock they
 * run on (kern_clock.c), with the timeouts of cv_timedwait() (sleep queues).
 *
 * Almost everything runs on a virtual clock: time moves only with
 * rump_clock_advance() (1 tick = 1 ms), which returns once the callouts that
 * expired have run, so expiry is checked to the tick.  The main tests run in
 * both softint dispatch modes (_inline and _threads).  Handlers only record
 * what they see (atomics); the test thread asserts.  Helper pthreads never
 * assert either: cmocka's assertions may only fail on the test thread.
 */
#include "harness.h"

#include "kern/kernel.h"
#include "kern/callout.h"
#include "kern/condvar.h"
#include "kern/kthread.h"
#include "kern/mutex.h"
#include "kern/softint.h"

/* How long to wait for something another host thread does. */

/* How long to give a wrong behaviour the chance to show. */
#define GRACE_MS 20
#define NS_PER_MS 1000000ull

static enum rump_softint_mode mode_inline = RUMP_SOFTINT_INLINE;
static enum rump_softint_mode mode_threads = RUMP_SOFTINT_THREADS;

static enum rump_softint_mode
test_mode(void **state)
{
	return *(enum rump_softint_mode *)*state;
}

/* Order of events within a test: 1, 2, 3, ... */
static _Atomic int g_seq;

static int
next_seq(void)
{
	return atomic_fetch_add(&g_seq, 1) + 1;
}

/* advance: move the virtual clock by ms (the caller holds no vCPU). */
static void
advance(struct rump_kernel *k, uint64_t ms)
{
	assert_int_equal(rump_clock_advance(k, ms * NS_PER_MS), 0);
}

static uint64_t
ticks(struct rump_kernel *k)
{
	return kern_clock_ticks(k);
}

/* ---- a callout that records its runs ---- */

struct co {
	callout_t co_c;
	struct rump_kernel *co_k;
	_Atomic int co_count;
	_Atomic int co_order;		/* sequence number of the last run */
	_Atomic uint64_t co_tick;	/* clock ticks at the last run */
	_Atomic uint64_t co_due;	/* its expiry tick, at the last run */
	_Atomic int co_cpu;
	/* flags seen inside the handler at the last run */
	_Atomic bool co_in_pending, co_in_expired, co_in_invoking;
	int co_rearm;			/* re-arm from the handler, ticks */
	int co_rearm_max;		/* ... while co_count < this */
};

static void
co_fire(void *arg)
{
	struct co *x = arg;

	atomic_store(&x->co_tick, ticks(curlwp->l_kernel));
	atomic_store(&x->co_due, x->co_c.c_time);
	atomic_store(&x->co_cpu, (int)curcpu()->ci_index);
	atomic_store(&x->co_in_pending, callout_pending(&x->co_c));
	atomic_store(&x->co_in_expired, callout_expired(&x->co_c));
	atomic_store(&x->co_in_invoking, callout_invoking(&x->co_c));
	atomic_store(&x->co_order, next_seq());
	if (x->co_rearm > 0 && atomic_load(&x->co_count) + 1 < x->co_rearm_max)
		callout_schedule(&x->co_c, x->co_rearm);
	atomic_fetch_add(&x->co_count, 1);	/* last: waiters poll it */
}

/* co_init: on the caller's vCPU, which it holds. */
static void
co_init(struct co *x, struct rump_kernel *k)
{
	memset(x, 0, sizeof(*x));
	x->co_k = k;
	callout_init(&x->co_c, CALLOUT_MPSAFE);
	callout_setfunc(&x->co_c, co_fire, x);
}

/* co_fini: halt and destroy, holding a vCPU. */
static void
co_fini(struct co *x)
{
	(void)callout_halt(&x->co_c, NULL);
	callout_destroy(&x->co_c);
}


/*
 * After a failed test, leave the test thread unbound so that the next tests
 * can run (the failed test's instance is abandoned).
 */
static int
unbind_teardown(void **state)
{
	(void)state;
	if (curlwp != NULL) {
		if (curlwp->l_cpu != NULL)
			rump_unschedule();
		(void)rump_thread_unbind();
	}
	return 0;
}

/* begin/end: a one-vCPU virtual-clock instance, test thread bound. */
static struct rump_kernel *
begin(enum rump_softint_mode mode, unsigned ncpu)
{
	struct rump_kernel *k = th_kernel(mode, RUMP_CLOCK_VIRTUAL, ncpu);

	assert_int_equal(rump_thread_bind(k), 0);
	return k;
}

static void
end(struct rump_kernel *k)
{
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/* ==== tests ==== */

/*
 * A callout armed for 10 ticks fires exactly at its tick, once: not after
 * 9 ms, at 10 ms; not again later.  Also after the clock moved with nothing
 * armed, and for sub-tick advances.
 */
static void
test_fires_at_its_tick(void **state)
{
	struct rump_kernel *k = begin(test_mode(state), 1);
	struct co x;

	rump_schedule();
	co_init(&x, k);
	callout_schedule(&x.co_c, 10);
	rump_unschedule();
	advance(k, 9);
	assert_int_equal(atomic_load(&x.co_count), 0);
	advance(k, 1);
	assert_int_equal(atomic_load(&x.co_count), 1);
	assert_int_equal(atomic_load(&x.co_tick), 10);
	advance(k, 50);
	assert_int_equal(atomic_load(&x.co_count), 1);

	/* armed after a jump of the clock with nothing pending (now 60) */
	advance(k, 7);
	rump_schedule();
	callout_schedule(&x.co_c, 10);
	rump_unschedule();
	for (int i = 0; i < 9; i++)
		advance(k, 1);
	assert_int_equal(atomic_load(&x.co_count), 1);
	advance(k, 1);
	assert_int_equal(atomic_load(&x.co_count), 2);
	assert_int_equal(atomic_load(&x.co_tick), 77);

	/* a tick is 1 ms: 1 ns short of it does not fire */
	rump_schedule();
	callout_schedule(&x.co_c, 1);
	rump_unschedule();
	assert_int_equal(rump_clock_advance(k, NS_PER_MS - 1), 0);
	assert_int_equal(atomic_load(&x.co_count), 2);
	assert_int_equal(rump_clock_advance(k, 1), 0);
	assert_int_equal(atomic_load(&x.co_count), 3);
	assert_int_equal(atomic_load(&x.co_tick), 78);

	/* ticks <= 0 means the next tick */
	rump_schedule();
	callout_schedule(&x.co_c, 0);
	rump_unschedule();
	assert_int_equal(atomic_load(&x.co_count), 3);
	advance(k, 1);
	assert_int_equal(atomic_load(&x.co_count), 4);
	assert_int_equal(atomic_load(&x.co_tick), 79);

	rump_schedule();
	co_fini(&x);
	rump_unschedule();
	end(k);
}

/*
 * Several callouts (ticks 5, 3, 3, 1, armed in that order) fire in expiry
 * order, and those of one tick in the order they were armed: 1, 3 (first
 * armed), 3 (second), 5.  Advancing 1 ms at a time or in one 10 ms jump.
 */
static void
order_of_callouts(enum rump_softint_mode mode, bool jump)
{
	static const int when[4] = { 5, 3, 3, 1 };
	static const int expect[4] = { 3, 1, 2, 0 };	/* firing order */
	struct rump_kernel *k = begin(mode, 1);
	struct co x[4];

	rump_schedule();
	for (int i = 0; i < 4; i++) {
		co_init(&x[i], k);
		callout_schedule(&x[i].co_c, when[i]);
	}
	rump_unschedule();
	if (jump) {
		advance(k, 10);
	} else {
		for (uint64_t t = 1; t <= 10; t++) {
			advance(k, 1);
			for (int i = 0; i < 4; i++)
				assert_int_equal(atomic_load(&x[i].co_count),
				    (uint64_t)when[i] <= t ? 1 : 0);
		}
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(atomic_load(&x[i].co_count), 1);
		assert_int_equal(atomic_load(&x[i].co_due), when[i]);
		if (!jump)
			assert_int_equal(atomic_load(&x[i].co_tick), when[i]);
	}
	for (int i = 1; i < 4; i++)
		assert_true(atomic_load(&x[expect[i - 1]].co_order) <
		    atomic_load(&x[expect[i]].co_order));
	rump_schedule();
	for (int i = 0; i < 4; i++)
		co_fini(&x[i]);
	rump_unschedule();
	end(k);
}

static void
test_order_stepwise(void **state)
{
	order_of_callouts(test_mode(state), false);
}

static void
test_order_jump(void **state)
{
	order_of_callouts(test_mode(state), true);
}

/*
 * callout_stop() of a pending callout returns false and it never fires;
 * callout_stop() after it fired returns true (and false a second time).
 */
static void
test_stop(void **state)
{
	struct rump_kernel *k = begin(test_mode(state), 1);
	struct co x;
	bool r1, r2, r3, pending;

	rump_schedule();
	co_init(&x, k);
	callout_schedule(&x.co_c, 5);
	rump_unschedule();
	advance(k, 2);
	rump_schedule();
	r1 = callout_stop(&x.co_c);
	pending = callout_pending(&x.co_c);
	rump_unschedule();
	assert_false(r1);
	assert_false(pending);
	for (int i = 0; i < 10; i++)
		advance(k, 1);
	advance(k, 2000);
	assert_int_equal(atomic_load(&x.co_count), 0);

	rump_schedule();
	callout_schedule(&x.co_c, 1);
	rump_unschedule();
	advance(k, 1);
	assert_int_equal(atomic_load(&x.co_count), 1);
	rump_schedule();
	r2 = callout_stop(&x.co_c);
	r3 = callout_stop(&x.co_c);
	rump_unschedule();
	assert_true(r2);
	assert_false(r3);
	advance(k, 10);
	assert_int_equal(atomic_load(&x.co_count), 1);

	rump_schedule();
	co_fini(&x);
	rump_unschedule();
	end(k);
}

/*
 * callout_reset() of a pending callout replaces its time (earlier and
 * later) and its function; it fires once, at the new time.
 */
static int g_other_runs;

static void
co_other(void *arg)
{
	(void)arg;
	g_other_runs++;
}

static void
test_reset_pending(void **state)
{
	struct rump_kernel *k = begin(test_mode(state), 1);
	struct co x;

	g_other_runs = 0;
	rump_schedule();
	co_init(&x, k);
	callout_reset(&x.co_c, 10, co_fire, &x);
	rump_unschedule();
	advance(k, 3);
	rump_schedule();
	callout_reset(&x.co_c, 2, co_fire, &x);		/* 10 -> 5 */
	rump_unschedule();
	advance(k, 1);
	assert_int_equal(atomic_load(&x.co_count), 0);
	advance(k, 1);
	assert_int_equal(atomic_load(&x.co_count), 1);
	assert_int_equal(atomic_load(&x.co_tick), 5);
	advance(k, 10);
	assert_int_equal(atomic_load(&x.co_count), 1);

	/* later (now 15): 20 -> 40 */
	rump_schedule();
	callout_reset(&x.co_c, 5, co_fire, &x);
	rump_unschedule();
	advance(k, 4);
	rump_schedule();
	callout_reset(&x.co_c, 21, co_fire, &x);
	rump_unschedule();
	advance(k, 1);
	assert_int_equal(atomic_load(&x.co_count), 1);
	advance(k, 19);
	assert_int_equal(atomic_load(&x.co_count), 1);
	advance(k, 1);
	assert_int_equal(atomic_load(&x.co_count), 2);
	assert_int_equal(atomic_load(&x.co_tick), 40);

	/* another function: only the last one set runs */
	rump_schedule();
	callout_reset(&x.co_c, 3, co_fire, &x);
	callout_reset(&x.co_c, 3, co_other, NULL);
	rump_unschedule();
	advance(k, 5);
	assert_int_equal(atomic_load(&x.co_count), 2);
	assert_int_equal(g_other_runs, 1);

	rump_schedule();
	co_fini(&x);
	rump_unschedule();
	end(k);
}

/*
 * A callout re-armed from its own handler for 2 ticks fires at 2, 4, 6:
 * re-arming is relative to the tick it fired at, also when the clock
 * jumped past several of them at once.
 */
static void
rearm_from_handler(enum rump_softint_mode mode, bool jump)
{
	struct rump_kernel *k = begin(mode, 1);
	struct co x;

	rump_schedule();
	co_init(&x, k);
	x.co_rearm = 2;
	x.co_rearm_max = 4;		/* fires at 2, 4, 6 and 8 */
	callout_schedule(&x.co_c, 2);
	rump_unschedule();
	if (jump) {
		advance(k, 6);
		assert_int_equal(atomic_load(&x.co_count), 3);
		assert_int_equal(atomic_load(&x.co_due), 6);
		advance(k, 1);
		assert_int_equal(atomic_load(&x.co_count), 3);
		advance(k, 1);
		assert_int_equal(atomic_load(&x.co_count), 4);
		assert_int_equal(atomic_load(&x.co_due), 8);
	} else {
		for (uint64_t t = 1; t <= 8; t++) {
			advance(k, 1);
			assert_int_equal(atomic_load(&x.co_count), t / 2);
			if (t % 2 == 0) {
				assert_int_equal(atomic_load(&x.co_tick), t);
				assert_int_equal(atomic_load(&x.co_due), t);
				/* re-armed inside, but for the last time */
				assert_true(callout_pending(&x.co_c) == (t < 8));
			}
		}
	}
	advance(k, 20);
	assert_int_equal(atomic_load(&x.co_count), 4);
	rump_schedule();
	assert_false(callout_pending(&x.co_c));
	co_fini(&x);
	rump_unschedule();
	end(k);
}

static void
test_rearm_from_handler_stepwise(void **state)
{
	rearm_from_handler(test_mode(state), false);
}

static void
test_rearm_from_handler_jump(void **state)
{
	rearm_from_handler(test_mode(state), true);
}

/*
 * Callouts further out than the wheel (CALLOUT_WHEEL ticks) fire exactly at
 * their tick, not in an earlier round of the wheel.
 */
static void
test_beyond_wheel(void **state)
{
	static const int when[] = {
		CALLOUT_WHEEL - 1, CALLOUT_WHEEL, CALLOUT_WHEEL + 1,
		2 * CALLOUT_WHEEL, 3000,
	};
	enum { N = sizeof(when) / sizeof(when[0]) };
	struct rump_kernel *k = begin(test_mode(state), 1);
	struct co x[N];

	rump_schedule();
	for (int i = 0; i < N; i++) {
		co_init(&x[i], k);
		callout_schedule(&x[i].co_c, when[i]);
	}
	rump_unschedule();
	for (uint64_t t = 1; t <= 3000; t++) {
		advance(k, 1);
		for (int i = 0; i < N; i++) {
			int want = (uint64_t)when[i] <= t ? 1 : 0;

			if (atomic_load(&x[i].co_count) != want)
				fail_msg("callout %d (tick %d): %d runs at %ju",
				    i, when[i], atomic_load(&x[i].co_count),
				    (uintmax_t)t);
		}
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(atomic_load(&x[i].co_tick), when[i]);

	/* and in jumps: 3000 ticks from now, the clock moves 2999 then 1 */
	rump_schedule();
	callout_schedule(&x[N - 1].co_c, 3000);
	rump_unschedule();
	advance(k, 2999);
	assert_int_equal(atomic_load(&x[N - 1].co_count), 1);
	advance(k, 1);
	assert_int_equal(atomic_load(&x[N - 1].co_count), 2);
	assert_int_equal(atomic_load(&x[N - 1].co_tick), 6000);

	rump_schedule();
	for (int i = 0; i < N; i++)
		co_fini(&x[i]);
	rump_unschedule();
	end(k);
}

/*
 * 10000 callouts at random ticks (fixed seed) fire each exactly once, in
 * non-decreasing tick order (those of one tick in arming order), each at
 * its own tick: advancing 1 ms at a time, or in random jumps.
 */
#define NRANDOM 10000
#define RANDOM_SPAN 4000	/* ticks: almost four rounds of the wheel */

struct many {
	callout_t m_c;
	struct rump_kernel *m_k;
	int m_idx;
	uint64_t m_when;		/* expiry tick */
	_Atomic int m_count;
	_Atomic uint64_t m_tick;	/* clock at the run */
	_Atomic uint64_t m_due;		/* c_time at the run */
};

static struct many *g_many;
static int *g_log;
static _Atomic int g_nlog;

static void
many_fire(void *arg)
{
	struct many *m = arg;
	int n = atomic_fetch_add(&g_nlog, 1);

	if (n < NRANDOM)
		g_log[n] = m->m_idx;
	atomic_store(&m->m_tick, ticks(m->m_k));
	atomic_store(&m->m_due, m->m_c.c_time);
	atomic_fetch_add(&m->m_count, 1);
}

static void
random_callouts(enum rump_softint_mode mode, bool jumps)
{
	struct rump_kernel *k = begin(mode, 1);
	uint64_t seed = 0x9e3779b97f4a7c15ull, now = 0;
	int fired_by_now;

	g_many = calloc(NRANDOM, sizeof(*g_many));
	g_log = calloc(NRANDOM, sizeof(*g_log));
	assert_non_null(g_many);
	assert_non_null(g_log);
	atomic_store(&g_nlog, 0);
	rump_schedule();
	for (int i = 0; i < NRANDOM; i++) {
		struct many *m = &g_many[i];

		m->m_k = k;
		m->m_idx = i;
		m->m_when = 1 + th_rand(&seed) % RANDOM_SPAN;
		callout_init(&m->m_c, CALLOUT_MPSAFE);
		callout_reset(&m->m_c, (int)m->m_when, many_fire, m);
	}
	rump_unschedule();

	while (now < RANDOM_SPAN + 1) {
		uint64_t step = jumps ? 1 + th_rand(&seed) % 97 : 1;

		advance(k, step);
		now += step;
		/* exactly those due by now have fired */
		fired_by_now = 0;
		for (int i = 0; i < NRANDOM; i++)
			if (g_many[i].m_when <= now)
				fired_by_now++;
		if (atomic_load(&g_nlog) != fired_by_now)
			fail_msg("at tick %ju: %d fired, %d due", (uintmax_t)now,
			    atomic_load(&g_nlog), fired_by_now);
	}
	assert_int_equal(atomic_load(&g_nlog), NRANDOM);
	for (int i = 0; i < NRANDOM; i++) {
		struct many *m = &g_many[i];

		assert_int_equal(atomic_load(&m->m_count), 1);
		assert_int_equal(atomic_load(&m->m_due), m->m_when);
		if (!jumps)
			assert_int_equal(atomic_load(&m->m_tick), m->m_when);
	}
	for (int n = 1; n < NRANDOM; n++) {
		struct many *a = &g_many[g_log[n - 1]], *b = &g_many[g_log[n]];

		if (a->m_when > b->m_when ||
		    (a->m_when == b->m_when && a->m_idx > b->m_idx))
			fail_msg("run %d: callout %d (tick %ju) after %d "
			    "(tick %ju)", n, b->m_idx, (uintmax_t)b->m_when,
			    a->m_idx, (uintmax_t)a->m_when);
	}

	rump_schedule();
	for (int i = 0; i < NRANDOM; i++) {
		assert_false(callout_pending(&g_many[i].m_c));
		callout_destroy(&g_many[i].m_c);
	}
	rump_unschedule();
	free(g_many);
	free(g_log);
	g_many = NULL;
	g_log = NULL;
	end(k);
}

static void
test_random_stepwise(void **state)
{
	random_callouts(test_mode(state), false);
}

static void
test_random_jumps(void **state)
{
	random_callouts(test_mode(state), true);
}

/*
 * callout_pending/expired/invoking/ack through a callout's life, and from
 * inside its handler.
 */
static void
test_state_flags(void **state)
{
	struct rump_kernel *k = begin(test_mode(state), 1);
	struct co x;
	bool p, e, i, stopped;

	rump_schedule();
	co_init(&x, k);
	p = callout_pending(&x.co_c);
	e = callout_expired(&x.co_c);
	i = callout_invoking(&x.co_c);
	rump_unschedule();
	assert_false(p);
	assert_false(e);
	assert_false(i);

	rump_schedule();
	callout_schedule(&x.co_c, 3);
	p = callout_pending(&x.co_c);
	e = callout_expired(&x.co_c);
	i = callout_invoking(&x.co_c);
	rump_unschedule();
	assert_true(p);
	assert_false(e);
	assert_false(i);

	advance(k, 2);
	assert_true(callout_pending(&x.co_c));
	assert_false(callout_expired(&x.co_c));
	advance(k, 1);
	assert_int_equal(atomic_load(&x.co_count), 1);
	/* inside the handler */
	assert_false(atomic_load(&x.co_in_pending));
	assert_true(atomic_load(&x.co_in_expired));
	assert_true(atomic_load(&x.co_in_invoking));
	/* after it: invoking stays until callout_ack() */
	rump_schedule();
	p = callout_pending(&x.co_c);
	e = callout_expired(&x.co_c);
	i = callout_invoking(&x.co_c);
	rump_unschedule();
	assert_false(p);
	assert_true(e);
	assert_true(i);

	rump_schedule();
	callout_ack(&x.co_c);
	p = callout_pending(&x.co_c);
	e = callout_expired(&x.co_c);
	i = callout_invoking(&x.co_c);
	rump_unschedule();
	assert_false(p);
	assert_true(e);
	assert_false(i);

	/* stop after it fired: true, and it is no longer expired */
	rump_schedule();
	stopped = callout_stop(&x.co_c);
	e = callout_expired(&x.co_c);
	rump_unschedule();
	assert_true(stopped);
	assert_false(e);

	/* re-arming clears expired and invoking */
	advance(k, 1);
	rump_schedule();
	callout_schedule(&x.co_c, 1);
	rump_unschedule();
	advance(k, 1);
	assert_int_equal(atomic_load(&x.co_count), 2);
	assert_true(callout_invoking(&x.co_c));
	rump_schedule();
	callout_schedule(&x.co_c, 5);
	p = callout_pending(&x.co_c);
	e = callout_expired(&x.co_c);
	i = callout_invoking(&x.co_c);
	stopped = callout_stop(&x.co_c);
	rump_unschedule();
	assert_true(p);
	assert_false(e);
	assert_false(i);
	assert_false(stopped);
	assert_false(callout_pending(&x.co_c));
	advance(k, 10);
	assert_int_equal(atomic_load(&x.co_count), 2);

	rump_schedule();
	co_fini(&x);
	rump_unschedule();
	end(k);
}

/* A callout fires on the vCPU it was initialised on. */
static void
test_fires_on_its_cpu(void **state)
{
	struct rump_kernel *k = th_kernel(test_mode(state), RUMP_CLOCK_VIRTUAL,
	    TH_MAXCPU);
	struct co x[TH_MAXCPU];

	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	for (unsigned i = 0; i < TH_MAXCPU; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		callout_init_cpu(&x[i].co_c, CALLOUT_MPSAFE, &k->k_cpus[i]);
		callout_reset(&x[i].co_c, 2 + (int)i, co_fire, &x[i]);
	}
	rump_unschedule();
	for (uint64_t t = 1; t <= TH_MAXCPU + 2; t++) {
		advance(k, 1);
		for (unsigned i = 0; i < TH_MAXCPU; i++)
			assert_int_equal(atomic_load(&x[i].co_count),
			    2 + i <= t ? 1 : 0);
	}
	for (unsigned i = 0; i < TH_MAXCPU; i++) {
		assert_int_equal(atomic_load(&x[i].co_cpu), (int)i);
		assert_int_equal(atomic_load(&x[i].co_tick), 2 + i);
	}
	rump_schedule();
	for (unsigned i = 0; i < TH_MAXCPU; i++)
		co_fini(&x[i]);
	rump_unschedule();
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/*
 * callout_halt() from the callout's own handler does not wait for itself;
 * it disarms the re-arm the handler just made.
 */
struct selfhalt {
	callout_t sh_c;
	_Atomic int sh_count;
	_Atomic bool sh_pending_after;
};

static void
selfhalt_fire(void *arg)
{
	struct selfhalt *sh = arg;

	callout_schedule(&sh->sh_c, 1);
	(void)callout_halt(&sh->sh_c, NULL);
	atomic_store(&sh->sh_pending_after, callout_pending(&sh->sh_c));
	atomic_fetch_add(&sh->sh_count, 1);
}

static void
test_halt_from_own_handler(void **state)
{
	struct rump_kernel *k = begin(test_mode(state), 1);
	struct selfhalt sh;

	memset(&sh, 0, sizeof(sh));
	rump_schedule();
	callout_init(&sh.sh_c, CALLOUT_MPSAFE);
	callout_reset(&sh.sh_c, 1, selfhalt_fire, &sh);
	rump_unschedule();
	advance(k, 1);
	assert_int_equal(atomic_load(&sh.sh_count), 1);
	assert_false(atomic_load(&sh.sh_pending_after));
	advance(k, 5);
	assert_int_equal(atomic_load(&sh.sh_count), 1);
	rump_schedule();
	callout_destroy(&sh.sh_c);
	rump_unschedule();
	end(k);
}

/*
 * callout_halt() of a pending callout disarms it without waiting and
 * returns false; of an idle one, returns false at once.
 */
static void
test_halt_not_running(void **state)
{
	struct rump_kernel *k = begin(test_mode(state), 1);
	struct co x;
	bool r1, r2;

	rump_schedule();
	co_init(&x, k);
	callout_schedule(&x.co_c, 3);
	r1 = callout_halt(&x.co_c, NULL);
	r2 = callout_halt(&x.co_c, NULL);
	rump_unschedule();
	assert_false(r1);
	assert_false(r2);
	advance(k, 10);
	assert_int_equal(atomic_load(&x.co_count), 0);
	rump_schedule();
	co_fini(&x);
	rump_unschedule();
	end(k);
}

/*
 * callout_halt() waits for a handler running on another LWP (asleep on a
 * kernel condvar): it returns only after the handler was released and
 * finished, and returns true.  rump_clock_advance() runs in its own pthread
 * since it returns only when the handler finished.  With an interlock,
 * callout_halt() releases it while it waits (the handler takes it once
 * released) and holds it again when it returns.  A re-arm the handler made
 * meanwhile is cancelled too.
 */
struct halt {
	struct rump_kernel *h_k;
	callout_t h_c;
	kmutex_t h_mtx;
	kcondvar_t h_cv;
	bool h_release;			/* [h_mtx] */
	kmutex_t h_ilock;		/* the interlock */
	bool h_use_ilock;
	bool h_rearm;			/* the handler re-arms itself */
	_Atomic int h_runs;
	_Atomic int h_asleep;
	_Atomic int h_end;		/* sequence numbers, 0: not yet */
	_Atomic int h_halt_called;
	_Atomic int h_halt_ret;
	_Atomic int h_adv_ret;
	_Atomic int h_adv_rc;
	uint64_t h_adv_ms;		/* body_advance moves the clock so much */
	_Atomic bool h_halt_result;
	_Atomic bool h_ilock_owned;
};

static void
halt_fire(void *arg)
{
	struct halt *h = arg;

	mutex_enter(&h->h_mtx);
	atomic_store(&h->h_asleep, 1);
	while (!h->h_release)
		cv_wait(&h->h_cv, &h->h_mtx);
	mutex_exit(&h->h_mtx);
	if (h->h_use_ilock) {
		mutex_enter(&h->h_ilock);
		mutex_exit(&h->h_ilock);
	}
	if (h->h_rearm)
		callout_schedule(&h->h_c, 1);
	atomic_fetch_add(&h->h_runs, 1);
	atomic_store(&h->h_end, next_seq());
}

static void
body_advance(struct bthread *bt)
{
	struct halt *h = bt->bt_arg;

	atomic_store(&h->h_adv_rc, rump_clock_advance(bt->bt_k,
	    h->h_adv_ms * NS_PER_MS));
	atomic_store(&h->h_adv_ret, next_seq());
}

static void
body_halt(struct bthread *bt)
{
	struct halt *h = bt->bt_arg;
	bool r;

	rump_schedule();
	if (h->h_use_ilock)
		mutex_enter(&h->h_ilock);
	atomic_store(&h->h_halt_called, 1);
	r = callout_halt(&h->h_c, h->h_use_ilock ? &h->h_ilock : NULL);
	atomic_store(&h->h_halt_ret, next_seq());
	atomic_store(&h->h_halt_result, r);
	if (h->h_use_ilock) {
		atomic_store(&h->h_ilock_owned, mutex_owned(&h->h_ilock));
		mutex_exit(&h->h_ilock);
	}
	rump_unschedule();
}

static void
halt_waits(enum rump_softint_mode mode, bool use_ilock, bool rearm)
{
	struct rump_kernel *k = begin(mode, 1);
	struct bthread adv, halter;
	struct callout_cpu *cc = k->k_cpus[0].ci_cc;
	unsigned expect_waiters;
	struct halt h;

	memset(&h, 0, sizeof(h));
	h.h_k = k;
	h.h_use_ilock = use_ilock;
	h.h_rearm = rearm;
	h.h_adv_ms = 1;
	rump_schedule();
	mutex_init(&h.h_mtx, MUTEX_DEFAULT, IPL_NONE);
	mutex_init(&h.h_ilock, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&h.h_cv, "halt");
	callout_init(&h.h_c, CALLOUT_MPSAFE);
	callout_reset(&h.h_c, 1, halt_fire, &h);
	rump_unschedule();

	bthread_start(&adv, k, BT_UNBOUND, body_advance, &h);
	assert_true(th_wait_until(atomic_load(&h.h_asleep) != 0 &&
	    cv_has_waiters(&h.h_cv), BT_WAIT_MS));
	bthread_start(&halter, k, BT_BOUND, body_halt, &h);
	assert_true(th_wait_until(atomic_load(&h.h_halt_called) != 0,
	    BT_WAIT_MS));
	/*
	 * Best effort: until callout_halt() sleeps on cc_done (in threads
	 * mode, rump_clock_advance() waits there too).
	 */
	expect_waiters = mode == RUMP_SOFTINT_THREADS ? 2 : 1;
	(void)th_wait_until(atomic_load(&cc->cc_done.cv_waiters) >=
	    expect_waiters, BT_WAIT_MS);
	th_sleep_ms(GRACE_MS);
	assert_int_equal(atomic_load(&h.h_halt_ret), 0);
	assert_int_equal(atomic_load(&h.h_adv_ret), 0);
	assert_int_equal(atomic_load(&h.h_end), 0);

	rump_schedule();
	mutex_enter(&h.h_mtx);
	h.h_release = true;
	cv_signal(&h.h_cv);
	mutex_exit(&h.h_mtx);
	rump_unschedule();

	bthread_join(&halter);
	bthread_join(&adv);
	assert_int_equal(atomic_load(&h.h_adv_rc), 0);
	assert_int_not_equal(atomic_load(&h.h_end), 0);
	assert_true(atomic_load(&h.h_end) < atomic_load(&h.h_halt_ret));
	assert_true(atomic_load(&h.h_end) < atomic_load(&h.h_adv_ret));
	assert_true(atomic_load(&h.h_halt_result));
	if (use_ilock)
		assert_true(atomic_load(&h.h_ilock_owned));
	assert_false(callout_pending(&h.h_c));
	advance(k, 5);
	assert_int_equal(atomic_load(&h.h_runs), 1);

	rump_schedule();
	callout_destroy(&h.h_c);
	mutex_destroy(&h.h_mtx);
	mutex_destroy(&h.h_ilock);
	cv_destroy(&h.h_cv);
	rump_unschedule();
	end(k);
}

static void
test_halt_waits_for_handler(void **state)
{
	halt_waits(test_mode(state), false, false);
}

static void
test_halt_waits_interlock(void **state)
{
	halt_waits(test_mode(state), true, false);
}

static void
test_halt_waits_rearming_handler(void **state)
{
	halt_waits(test_mode(state), false, true);
}

/*
 * rump_clock_advance() returns only when the handlers of the callouts that
 * expired have finished, also when one of them sleeps (here on a kernel
 * condvar; a contended mutex does the same) after another one ran.
 */
static void
test_advance_waits_for_sleeping_handler(void **state)
{
	enum rump_softint_mode mode = test_mode(state);
	struct rump_kernel *k = begin(mode, 1);
	struct bthread adv;
	struct halt h;
	struct co x;

	memset(&h, 0, sizeof(h));
	h.h_k = k;
	h.h_adv_ms = 2;
	rump_schedule();
	mutex_init(&h.h_mtx, MUTEX_DEFAULT, IPL_NONE);
	mutex_init(&h.h_ilock, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&h.h_cv, "advance");
	co_init(&x, k);
	callout_schedule(&x.co_c, 1);
	callout_init(&h.h_c, CALLOUT_MPSAFE);
	callout_reset(&h.h_c, 2, halt_fire, &h);
	rump_unschedule();

	/* one advance: x runs at tick 1, then h_c sleeps at tick 2 */
	bthread_start(&adv, k, BT_UNBOUND, body_advance, &h);
	assert_true(th_wait_until(atomic_load(&h.h_asleep) != 0 &&
	    cv_has_waiters(&h.h_cv), BT_WAIT_MS));
	assert_int_equal(atomic_load(&x.co_count), 1);
	th_sleep_ms(GRACE_MS);
	assert_int_equal(atomic_load(&h.h_adv_ret), 0);

	rump_schedule();
	mutex_enter(&h.h_mtx);
	h.h_release = true;
	cv_signal(&h.h_cv);
	mutex_exit(&h.h_mtx);
	rump_unschedule();
	bthread_join(&adv);
	assert_int_equal(atomic_load(&h.h_adv_rc), 0);
	assert_int_not_equal(atomic_load(&h.h_end), 0);
	assert_true(atomic_load(&h.h_end) < atomic_load(&h.h_adv_ret));

	rump_schedule();
	co_fini(&x);
	callout_destroy(&h.h_c);
	mutex_destroy(&h.h_mtx);
	mutex_destroy(&h.h_ilock);
	cv_destroy(&h.h_cv);
	rump_unschedule();
	end(k);
}

/*
 * cv_timedwait(cv, mtx, 10) on a virtual clock: EWOULDBLOCK exactly after
 * 10 ms of virtual time (not after 9); 0 when signalled earlier, after
 * which the stale deadline disturbs nothing: a second timed wait ends at
 * its own deadline, with EWOULDBLOCK.
 */
struct tw {
	kmutex_t tw_mtx;
	kcondvar_t tw_cv;
	int tw_timo1, tw_timo2;		/* second wait if tw_timo2 > 0 */
	struct lwp *_Atomic tw_lwp;
	_Atomic int tw_phase;		/* 1, 2: about to wait (mtx held) */
	_Atomic int tw_ret1, tw_ret2;
	_Atomic bool tw_done1, tw_done2;
	_Atomic uint64_t tw_tick1, tw_tick2;
};

static void
body_timedwait(struct bthread *bt)
{
	struct tw *tw = bt->bt_arg;
	int r;

	rump_schedule();
	mutex_enter(&tw->tw_mtx);
	atomic_store(&tw->tw_lwp, curlwp);
	atomic_store(&tw->tw_phase, 1);
	r = cv_timedwait(&tw->tw_cv, &tw->tw_mtx, tw->tw_timo1);
	atomic_store(&tw->tw_tick1, ticks(bt->bt_k));
	atomic_store(&tw->tw_ret1, r);
	atomic_store(&tw->tw_done1, true);
	if (tw->tw_timo2 > 0) {
		atomic_store(&tw->tw_phase, 2);
		r = cv_timedwait(&tw->tw_cv, &tw->tw_mtx, tw->tw_timo2);
		atomic_store(&tw->tw_tick2, ticks(bt->bt_k));
		atomic_store(&tw->tw_ret2, r);
		atomic_store(&tw->tw_done2, true);
	}
	mutex_exit(&tw->tw_mtx);
	rump_unschedule();
}

/*
 * Wait until the waiter sleeps in its wait number phase: it holds the mutex
 * from before tw_phase is set until cv_timedwait() armed its timeout and
 * went to sleep, so taking the mutex once it is set proves both.
 */
static void
tw_wait_asleep(struct tw *tw, int phase)
{
	assert_true(th_wait_until(atomic_load(&tw->tw_phase) == phase,
	    BT_WAIT_MS));
	rump_schedule();
	mutex_enter(&tw->tw_mtx);
	mutex_exit(&tw->tw_mtx);
	rump_unschedule();
}

static void
tw_setup(struct tw *tw, int timo1, int timo2)
{
	memset(tw, 0, sizeof(*tw));
	tw->tw_timo1 = timo1;
	tw->tw_timo2 = timo2;
	rump_schedule();
	mutex_init(&tw->tw_mtx, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&tw->tw_cv, "timedwait");
	rump_unschedule();
}

static void
tw_teardown(struct tw *tw)
{
	rump_schedule();
	mutex_destroy(&tw->tw_mtx);
	cv_destroy(&tw->tw_cv);
	rump_unschedule();
}

static void
test_timedwait_times_out(void **state)
{
	struct rump_kernel *k = begin(test_mode(state), 1);
	struct bthread bt;
	struct tw tw;

	tw_setup(&tw, 10, 0);
	advance(k, 3);			/* start off tick 0 */
	bthread_start(&bt, k, BT_BOUND, body_timedwait, &tw);
	tw_wait_asleep(&tw, 1);
	advance(k, 5);
	advance(k, 4);
	assert_true(callout_pending(atomic_load(&tw.tw_lwp)->l_timeout_ch));
	th_sleep_ms(GRACE_MS);
	assert_false(atomic_load(&tw.tw_done1));
	advance(k, 1);
	assert_true(th_wait_until(atomic_load(&tw.tw_done1), BT_WAIT_MS));
	assert_int_equal(atomic_load(&tw.tw_ret1), EWOULDBLOCK);
	assert_int_equal(atomic_load(&tw.tw_tick1), 13);
	bthread_join(&bt);
	tw_teardown(&tw);
	end(k);
}

static void
test_timedwait_signalled(void **state)
{
	struct rump_kernel *k = begin(test_mode(state), 1);
	struct bthread bt;
	struct tw tw;

	tw_setup(&tw, 10, 20);
	bthread_start(&bt, k, BT_BOUND, body_timedwait, &tw);
	tw_wait_asleep(&tw, 1);
	advance(k, 5);
	assert_false(atomic_load(&tw.tw_done1));
	rump_schedule();
	mutex_enter(&tw.tw_mtx);
	cv_signal(&tw.tw_cv);
	mutex_exit(&tw.tw_mtx);
	rump_unschedule();
	assert_true(th_wait_until(atomic_load(&tw.tw_done1), BT_WAIT_MS));
	assert_int_equal(atomic_load(&tw.tw_ret1), 0);
	assert_int_equal(atomic_load(&tw.tw_tick1), 5);

	/* second wait: from tick 5 for 20, so until 25 */
	tw_wait_asleep(&tw, 2);
	advance(k, 5);			/* the first wait's deadline */
	th_sleep_ms(GRACE_MS);
	assert_false(atomic_load(&tw.tw_done2));
	advance(k, 14);
	th_sleep_ms(GRACE_MS);
	assert_false(atomic_load(&tw.tw_done2));
	advance(k, 1);
	assert_true(th_wait_until(atomic_load(&tw.tw_done2), BT_WAIT_MS));
	assert_int_equal(atomic_load(&tw.tw_ret2), EWOULDBLOCK);
	assert_int_equal(atomic_load(&tw.tw_tick2), 25);
	bthread_join(&bt);
	advance(k, 100);
	tw_teardown(&tw);
	end(k);
}

/*
 * A real-clock instance (with its default hardclock threads) fires a
 * 5-tick callout within 1 s of wall time, and not before its tick.
 */
struct realco {
	callout_t rc_c;
	struct rump_kernel *rc_k;
	_Atomic int rc_count;
	_Atomic uint64_t rc_tick;
	_Atomic uint64_t rc_wall;
};

static void
realco_fire(void *arg)
{
	struct realco *rc = arg;

	atomic_store(&rc->rc_tick, ticks(rc->rc_k));
	atomic_store(&rc->rc_wall, th_now_ns());
	atomic_fetch_add(&rc->rc_count, 1);
}

static void
test_real_clock(void **state)
{
	struct rump_kernel *k = th_kernel(test_mode(state), RUMP_CLOCK_REAL, 1);
	struct realco rc;
	uint64_t due, t0;

	/* only a virtual clock can be moved */
	assert_int_not_equal(rump_clock_advance(k, NS_PER_MS), 0);
	memset(&rc, 0, sizeof(rc));
	rc.rc_k = k;
	assert_int_equal(rump_thread_bind(k), 0);
	t0 = th_now_ns();
	rump_schedule();
	callout_init(&rc.rc_c, CALLOUT_MPSAFE);
	callout_reset(&rc.rc_c, 5, realco_fire, &rc);
	due = rc.rc_c.c_time;
	rump_unschedule();
	assert_true(th_wait_until(atomic_load(&rc.rc_count) > 0, BT_WAIT_MS));
	assert_true(atomic_load(&rc.rc_wall) - t0 <= 1000 * NS_PER_MS);
	assert_true(atomic_load(&rc.rc_tick) >= due);
	th_sleep_ms(GRACE_MS);
	assert_int_equal(atomic_load(&rc.rc_count), 1);
	rump_schedule();
	(void)callout_halt(&rc.rc_c, NULL);
	callout_destroy(&rc.rc_c);
	rump_unschedule();
	end(k);
}

/* A real-clock instance without clock threads, bound to this thread. */
static struct rump_kernel *
real_kernel(void **state)
{
	struct rump_kernel_config cfg;
	struct rump_kernel *k = NULL;

	rump_kernel_config_default(&cfg);
	cfg.softint_mode = test_mode(state);
	cfg.clock = RUMP_CLOCK_REAL;
	cfg.clock_thread = false;
	assert_int_equal(rump_kernel_create(&cfg, &k), 0);
	assert_int_equal(rump_thread_bind(k), 0);
	return k;
}

/*
 * A real clock whose wheel is behind: no hardclock thread and nothing
 * ticked for 30 ms (a host that did not run the clock thread for a while;
 * valgrind does that).  callout_reset() counts from the wheel, so a
 * 10-tick callout is already overdue when armed; callout_reset_clock()
 * counts from the clock.  A cv_timedwait() (SO_RCVTIMEO and every timed
 * sleep) armed then sleeps its whole timeout once ticking resumes,
 * instead of returning at the first catch-up tick.
 */
static _Atomic bool ticker_stop;

static void
body_ticker(struct bthread *bt)
{
	(void)bt;
	while (!atomic_load(&ticker_stop)) {
		rump_schedule();
		rump_intr_tick();
		rump_unschedule();
		th_sleep_ms(1);
	}
}

static void
test_real_clock_late_wheel(void **state)
{
	struct rump_kernel *k;
	struct bthread bt, tick;
	struct realco c1, c2;
	struct tw tw;
	uint64_t now;

	k = real_kernel(state);
	th_sleep_ms(30);

	memset(&c1, 0, sizeof(c1));
	memset(&c2, 0, sizeof(c2));
	rump_schedule();
	callout_init(&c1.rc_c, CALLOUT_MPSAFE);
	callout_init(&c2.rc_c, CALLOUT_MPSAFE);
	now = ticks(k);
	callout_reset(&c1.rc_c, 10, realco_fire, &c1);
	callout_reset_clock(&c2.rc_c, 10, realco_fire, &c2);
	assert_true(c1.rc_c.c_time < now);
	assert_true(c2.rc_c.c_time >= now + 10);
	assert_true(c2.rc_c.c_time <= ticks(k) + 10);
	(void)callout_stop(&c1.rc_c);
	(void)callout_stop(&c2.rc_c);
	callout_destroy(&c1.rc_c);
	callout_destroy(&c2.rc_c);
	rump_unschedule();

	tw_setup(&tw, 10, 0);
	now = ticks(k);
	bthread_start(&bt, k, BT_BOUND, body_timedwait, &tw);
	tw_wait_asleep(&tw, 1);
	atomic_store(&ticker_stop, false);
	bthread_start(&tick, k, 0, body_ticker, NULL);
	assert_true(th_wait_until(atomic_load(&tw.tw_done1), BT_WAIT_MS));
	assert_int_equal(atomic_load(&tw.tw_ret1), EWOULDBLOCK);
	assert_true(atomic_load(&tw.tw_tick1) >= now + 10);
	atomic_store(&ticker_stop, true);
	bthread_join(&tick);
	bthread_join(&bt);
	tw_teardown(&tw);
	end(k);
}

/*
 * The real clock is read once per stretch of work on a vCPU: two reads in
 * one hold agree though time went on between them; a new hold (or a
 * refresh, as a softint handler or a busy poll round does) reads again;
 * without a vCPU every read is the host's clock.
 */
static void
test_real_clock_per_hold(void **state)
{
	struct rump_kernel *k;
	uint64_t t0, t1, t2;

	k = real_kernel(state);

	rump_schedule();
	t0 = kern_clock_ns(k);
	th_sleep_ms(3);
	assert_int_equal(kern_clock_ns(k), t0);
	assert_int_equal(kern_clock_ticks(k), t0 / (1000000000u / hz));
	kern_clock_refresh(curcpu());
	t1 = kern_clock_ns(k);
	assert_true(t1 >= t0 + 3 * NS_PER_MS);
	rump_unschedule();

	t2 = kern_clock_ns(k);
	assert_true(t2 >= t1);
	th_sleep_ms(3);
	assert_true(kern_clock_ns(k) >= t2 + 3 * NS_PER_MS);
	rump_schedule();
	assert_true(kern_clock_ns(k) >= t2 + 3 * NS_PER_MS);
	rump_unschedule();
	end(k);
}

#define BOTH_MODES(f)							\
	{ #f "_inline", f, NULL, unbind_teardown, &mode_inline },	\
	{ #f "_threads", f, NULL, unbind_teardown, &mode_threads }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH_MODES(test_fires_at_its_tick),
		BOTH_MODES(test_order_stepwise),
		BOTH_MODES(test_order_jump),
		BOTH_MODES(test_stop),
		BOTH_MODES(test_reset_pending),
		BOTH_MODES(test_rearm_from_handler_stepwise),
		BOTH_MODES(test_rearm_from_handler_jump),
		BOTH_MODES(test_beyond_wheel),
		BOTH_MODES(test_random_stepwise),
		BOTH_MODES(test_random_jumps),
		BOTH_MODES(test_state_flags),
		BOTH_MODES(test_fires_on_its_cpu),
		BOTH_MODES(test_halt_from_own_handler),
		BOTH_MODES(test_halt_not_running),
		BOTH_MODES(test_halt_waits_for_handler),
		BOTH_MODES(test_halt_waits_interlock),
		BOTH_MODES(test_halt_waits_rearming_handler),
		BOTH_MODES(test_advance_waits_for_sleeping_handler),
		BOTH_MODES(test_timedwait_times_out),
		BOTH_MODES(test_timedwait_signalled),
		BOTH_MODES(test_real_clock),
		BOTH_MODES(test_real_clock_late_wheel),
		BOTH_MODES(test_real_clock_per_hold),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
