/*
 * test_locks.c -- kernel mutexes, rwlocks and condition variables: the
 * NetBSD semantics, many host threads hammering them (across two vCPUs in
 * the mp build), contention with an owner that sleeps holding the lock (the
 * only contention a locks=up build can see), and cv timeouts on the
 * virtual clock.
 */
#include "harness.h"

#include "kern/kernel.h"
#include "kern/condvar.h"
#include "kern/mutex.h"
#include "kern/rwlock.h"

static void
test_mutex_basics(void **state)
{
	struct rump_kernel *k = th_kernel(RUMP_SOFTINT_INLINE,
	    RUMP_CLOCK_VIRTUAL, 1);
	kmutex_t m;

	(void)state;
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	assert_false(mutex_owned(&m));
	mutex_enter(&m);
	assert_true(mutex_owned(&m));
	assert_false(mutex_tryenter(&m));
	mutex_exit(&m);
	assert_true(mutex_tryenter(&m));
	mutex_exit(&m);
	mutex_destroy(&m);
	rump_unschedule();
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/* Hammer: host threads, each iteration a vCPU entry and a locked update. */
struct hammer {
	struct rump_kernel *k;
	kmutex_t m;
	krwlock_t rw;
	long counter;		/* under m, or rw as writer */
	long a, b;		/* rw: writers keep a == b */
	int iters;
	_Atomic int torn;	/* readers that saw a != b */
};

static void *
mutex_hammer_body(void *v)
{
	struct hammer *h = v;

	rump_thread_bind(h->k);
	for (int i = 0; i < h->iters; i++) {
		rump_schedule();
		mutex_enter(&h->m);
		h->counter++;
		mutex_exit(&h->m);
		rump_unschedule();
	}
	rump_thread_unbind();
	return NULL;
}

static void
test_mutex_hammer(void **state)
{
	struct hammer h = { .iters = 50000 };
	pthread_t t[4];

	(void)state;
	h.k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, TH_MAXCPU);
	mutex_init(&h.m, MUTEX_DEFAULT, IPL_NONE);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, mutex_hammer_body, &h);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(h.counter, 4L * h.iters);
	assert_int_equal(atomic_load(&h.m.mtx_owner), 0);
	th_kernel_destroy(h.k);
}

static void *
rw_hammer_body(void *v)
{
	struct hammer *h = v;
	uint64_t seed = (uint64_t)(uintptr_t)&seed | 1;

	rump_thread_bind(h->k);
	for (int i = 0; i < h->iters; i++) {
		rump_schedule();
		if (th_rand(&seed) % 4 == 0) {
			rw_enter(&h->rw, RW_WRITER);
			h->a++;
			h->counter++;
			h->b++;
			rw_exit(&h->rw);
		} else {
			rw_enter(&h->rw, RW_READER);
			if (__atomic_load_n(&h->a, __ATOMIC_RELAXED) !=
			    __atomic_load_n(&h->b, __ATOMIC_RELAXED))
				atomic_fetch_add(&h->torn, 1);
			rw_exit(&h->rw);
		}
		rump_unschedule();
	}
	rump_thread_unbind();
	return NULL;
}

static void
test_rwlock_hammer(void **state)
{
	struct hammer h = { .iters = 40000 };
	pthread_t t[4];

	(void)state;
	h.k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, TH_MAXCPU);
	rw_init(&h.rw);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, rw_hammer_body, &h);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&h.torn), 0);
	assert_int_equal(h.a, h.counter);
	assert_int_equal(h.b, h.counter);
	assert_int_equal(atomic_load(&h.rw.rw_owner), 0);
	th_kernel_destroy(h.k);
}

static void
test_rwlock_semantics(void **state)
{
	struct rump_kernel *k = th_kernel(RUMP_SOFTINT_INLINE,
	    RUMP_CLOCK_VIRTUAL, 1);
	krwlock_t rw;

	(void)state;
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	rw_init(&rw);
	rw_enter(&rw, RW_READER);
	assert_true(rw_read_held(&rw));
	assert_false(rw_write_held(&rw));
	assert_true(rw_tryenter(&rw, RW_READER));	/* a second reader */
	assert_false(rw_tryenter(&rw, RW_WRITER));
	assert_false(rw_tryupgrade(&rw));		/* two readers */
	rw_exit(&rw);
	assert_true(rw_tryupgrade(&rw));		/* now the only one */
	assert_true(rw_write_held(&rw));
	assert_false(rw_tryenter(&rw, RW_READER));
	rw_downgrade(&rw);
	assert_true(rw_read_held(&rw));
	assert_false(rw_write_held(&rw));
	rw_exit(&rw);
	assert_false(rw_lock_held(&rw));
	rw_destroy(&rw);
	rump_unschedule();
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/*
 * Owner sleeps holding the lock: A takes M, then waits on cv with N as the
 * interlock (vCPU released, M still held).  B wakes A, then wants M: it must
 * sleep until A gives M up, and then see A's update.
 */
struct sleepy {
	struct rump_kernel *k;
	kmutex_t m, n;
	krwlock_t rw;
	kcondvar_t cv;
	bool use_rw;
	_Atomic int stage;
	int value;		/* written by A under M */
	int seen_by_b;
};

static void *
sleepy_a(void *v)
{
	struct sleepy *s = v;

	rump_thread_bind(s->k);
	rump_schedule();
	if (s->use_rw)
		rw_enter(&s->rw, RW_WRITER);
	else
		mutex_enter(&s->m);
	mutex_enter(&s->n);
	atomic_store(&s->stage, 1);
	while (atomic_load(&s->stage) < 2)
		cv_wait(&s->cv, &s->n);
	mutex_exit(&s->n);
	/*
	 * Let B run into the lock and sleep on it: lend the vCPU out (as a
	 * kernel sleep would, still holding the lock) until the waiters bit
	 * shows up in the lock word.
	 */
	while (!(atomic_load(s->use_rw ? &s->rw.rw_owner : &s->m.mtx_owner) &
	    1)) {
		sched_release(curlwp);
		th_sleep_ms(1);
		sched_acquire(curlwp);
	}
	s->value = 42;
	if (s->use_rw)
		rw_exit(&s->rw);
	else
		mutex_exit(&s->m);
	rump_unschedule();
	rump_thread_unbind();
	return NULL;
}

static void *
sleepy_b(void *v)
{
	struct sleepy *s = v;

	rump_thread_bind(s->k);
	while (atomic_load(&s->stage) < 1)
		th_sleep_ms(1);
	rump_schedule();
	mutex_enter(&s->n);
	atomic_store(&s->stage, 2);
	cv_signal(&s->cv);
	mutex_exit(&s->n);
	if (s->use_rw)
		rw_enter(&s->rw, RW_READER);
	else
		mutex_enter(&s->m);
	s->seen_by_b = s->value;
	if (s->use_rw)
		rw_exit(&s->rw);
	else
		mutex_exit(&s->m);
	rump_unschedule();
	rump_thread_unbind();
	return NULL;
}

static void
run_sleepy(bool use_rw)
{
	struct sleepy s = { .use_rw = use_rw };
	pthread_t a, b;

	s.k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, 1);
	mutex_init(&s.m, MUTEX_DEFAULT, IPL_NONE);
	mutex_init(&s.n, MUTEX_DEFAULT, IPL_NONE);
	rw_init(&s.rw);
	cv_init(&s.cv, "sleepy");
	pthread_create(&a, NULL, sleepy_a, &s);
	pthread_create(&b, NULL, sleepy_b, &s);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(s.seen_by_b, 42);
	assert_int_equal(atomic_load(&s.m.mtx_owner), 0);
	assert_int_equal(atomic_load(&s.rw.rw_owner), 0);
	th_kernel_destroy(s.k);
}

static void
test_mutex_owner_sleeps(void **state)
{
	(void)state;
	run_sleepy(false);
}

static void
test_rwlock_owner_sleeps(void **state)
{
	(void)state;
	run_sleepy(true);
}

/* cv_signal wakes one waiter, cv_broadcast all of them. */
struct cvw {
	struct rump_kernel *k;
	kmutex_t m;
	kcondvar_t cv;
	int tokens;		/* under m */
	_Atomic int woken;
};

static void *
cv_waiter(void *v)
{
	struct cvw *w = v;

	rump_thread_bind(w->k);
	rump_schedule();
	mutex_enter(&w->m);
	while (w->tokens == 0)
		cv_wait(&w->cv, &w->m);
	w->tokens--;
	atomic_fetch_add(&w->woken, 1);
	mutex_exit(&w->m);
	rump_unschedule();
	rump_thread_unbind();
	return NULL;
}

static bool
cv_nwaiters_is(struct cvw *w, unsigned n)
{
	return atomic_load(&w->cv.cv_waiters) == n;
}

static void
cv_give(struct cvw *w, int tokens, bool broadcast)
{
	rump_schedule();
	mutex_enter(&w->m);
	w->tokens += tokens;
	if (broadcast)
		cv_broadcast(&w->cv);
	else
		cv_signal(&w->cv);
	mutex_exit(&w->m);
	rump_unschedule();
}

static void
test_cv_signal_broadcast(void **state)
{
	struct cvw w = { 0 };
	pthread_t t[3];

	(void)state;
	w.k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, 1);
	mutex_init(&w.m, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&w.cv, "cvw");
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, cv_waiter, &w);
	assert_true(th_wait_until(cv_nwaiters_is(&w, 3), 5000));
	assert_int_equal(rump_thread_bind(w.k), 0);
	cv_give(&w, 1, false);
	assert_true(th_wait_until(atomic_load(&w.woken) == 1, 5000));
	assert_true(th_wait_until(cv_nwaiters_is(&w, 2), 5000));
	th_sleep_ms(20);
	assert_int_equal(atomic_load(&w.woken), 1);	/* only one woke */
	cv_give(&w, 2, true);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&w.woken), 3);
	assert_int_equal(w.tokens, 0);
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(w.k);
}

/*
 * One vCPU: a host thread woken by the vCPU's holder is signalled when the
 * holder lets the vCPU go (ci_wakeq), not while it still holds it; the
 * waiter count drops at the wake-up, so a second signal with nobody left
 * asleep takes no chain.
 */
static void
test_cv_wakeup_kept_until_release(void **state)
{
	struct cvw w = { 0 };
	pthread_t t[2];
	struct cpu_info *ci;

	(void)state;
	w.k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, 1);
	mutex_init(&w.m, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&w.cv, "cvw");
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, cv_waiter, &w);
	assert_true(th_wait_until(cv_nwaiters_is(&w, 2), 5000));
	assert_int_equal(rump_thread_bind(w.k), 0);
	rump_schedule();
	ci = curcpu();
	mutex_enter(&w.m);
	w.tokens = 2;
	cv_signal(&w.cv);
	assert_int_equal(atomic_load(&w.cv.cv_waiters), 1);
	assert_int_equal(ci->ci_nwake, 1);
	cv_signal(&w.cv);
	assert_int_equal(atomic_load(&w.cv.cv_waiters), 0);
	assert_int_equal(ci->ci_nwake, 2);
	cv_signal(&w.cv);		/* nobody waits: nothing kept */
	assert_int_equal(ci->ci_nwake, 2);
	mutex_exit(&w.m);
	th_sleep_ms(20);
	assert_int_equal(atomic_load(&w.woken), 0);	/* still ours */
	rump_unschedule();
	assert_int_equal(ci->ci_nwake, 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&w.woken), 2);
	assert_int_equal(w.tokens, 0);
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(w.k);
}

/* cv_timedwait follows the virtual clock, to the tick. */
struct tw {
	struct rump_kernel *k;
	kmutex_t m;
	kcondvar_t cv;
	int timo;
	bool wake;		/* under m */
	_Atomic int result;	/* -1 until cv_timedwait returned */
};

static void *
tw_body(void *v)
{
	struct tw *w = v;
	int error = 0;

	rump_thread_bind(w->k);
	rump_schedule();
	mutex_enter(&w->m);
	while (!w->wake && error == 0)
		error = cv_timedwait(&w->cv, &w->m, w->timo);
	mutex_exit(&w->m);
	atomic_store(&w->result, error);
	rump_unschedule();
	rump_thread_unbind();
	return NULL;
}

static void
test_cv_timedwait_virtual(void **state)
{
	struct tw w = { .timo = 10, .result = -1 };
	pthread_t t;

	(void)state;
	w.k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, 1);
	mutex_init(&w.m, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&w.cv, "tw");
	pthread_create(&t, NULL, tw_body, &w);
	assert_true(th_wait_until(atomic_load(&w.cv.cv_waiters) == 1, 5000));
	assert_int_equal(rump_clock_advance(w.k, 9000000), 0);
	th_sleep_ms(20);
	assert_int_equal(atomic_load(&w.result), -1);	/* 9 ms: still asleep */
	assert_int_equal(rump_clock_advance(w.k, 1000000), 0);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&w.result), EWOULDBLOCK);
	assert_int_equal(atomic_load(&w.cv.cv_waiters), 0);
	th_kernel_destroy(w.k);
}

static void
test_cv_timedwait_signalled_first(void **state)
{
	struct tw w = { .timo = 10, .result = -1 };
	pthread_t t;

	(void)state;
	w.k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, 1);
	mutex_init(&w.m, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&w.cv, "tw");
	pthread_create(&t, NULL, tw_body, &w);
	assert_true(th_wait_until(atomic_load(&w.cv.cv_waiters) == 1, 5000));
	assert_int_equal(rump_clock_advance(w.k, 5000000), 0);
	assert_int_equal(rump_schedule_kernel(w.k), 0);
	mutex_enter(&w.m);
	w.wake = true;
	cv_signal(&w.cv);
	mutex_exit(&w.m);
	rump_unschedule();
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&w.result), 0);
	/*
	 * The LWP and its timeout callout are gone; had the timeout stayed
	 * armed, lwp_destroy() would have panicked, and this advance would
	 * run it on freed memory (ASan builds catch that).
	 */
	assert_int_equal(rump_clock_advance(w.k, 20000000), 0);
	assert_int_equal(atomic_load(&w.result), 0);
	th_kernel_destroy(w.k);
}

/*
 * Timed waits that time out, on every vCPU, against the real clock's
 * softclock: however each sleep ends (its timeout may be running on
 * another vCPU while the sleeper halts it, and the halt may sleep), the
 * condvar's count of waiters is back to zero.
 */
#define TO_THREADS 4
#define TO_WAITS 300

struct tohammer {
	struct rump_kernel *k;
	kmutex_t m;
	kcondvar_t cv;
	_Atomic int timedout;
};

static void *
timeout_hammer_body(void *v)
{
	struct tohammer *h = v;

	rump_thread_bind(h->k);
	for (int i = 0; i < TO_WAITS; i++) {
		rump_schedule();
		mutex_enter(&h->m);
		if (cv_timedwait(&h->cv, &h->m, 1) == EWOULDBLOCK)
			atomic_fetch_add(&h->timedout, 1);
		mutex_exit(&h->m);
		rump_unschedule();
	}
	rump_thread_unbind();
	return NULL;
}

static void
test_cv_timedwait_hammer(void **state)
{
	struct tohammer h = { 0 };
	pthread_t t[TO_THREADS];

	(void)state;
	h.k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_REAL, TH_MAXCPU);
	mutex_init(&h.m, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&h.cv, "tohammer");
	for (int i = 0; i < TO_THREADS; i++)
		pthread_create(&t[i], NULL, timeout_hammer_body, &h);
	for (int i = 0; i < TO_THREADS; i++)
		pthread_join(t[i], NULL);
	/* nobody signals: every wait timed out */
	assert_int_equal(atomic_load(&h.timedout), TO_THREADS * TO_WAITS);
	assert_int_equal(atomic_load(&h.cv.cv_waiters), 0);
	cv_destroy(&h.cv);
	mutex_destroy(&h.m);
	th_kernel_destroy(h.k);
}

/* Producers and consumers on a bounded buffer: cv_wait/cv_signal hammer. */
#define BB_SIZE 4
#define BB_ITEMS 20000

struct bbuf {
	struct rump_kernel *k;
	kmutex_t m;
	kcondvar_t notfull, notempty;
	long items[BB_SIZE];
	int head, count;	/* under m */
	long consumed_sum;	/* under m */
	int consumed;		/* under m */
};

static void *
bb_producer(void *v)
{
	struct bbuf *b = v;

	rump_thread_bind(b->k);
	for (long i = 1; i <= BB_ITEMS; i++) {
		rump_schedule();
		mutex_enter(&b->m);
		while (b->count == BB_SIZE)
			cv_wait(&b->notfull, &b->m);
		b->items[(b->head + b->count) % BB_SIZE] = i;
		b->count++;
		cv_signal(&b->notempty);
		mutex_exit(&b->m);
		rump_unschedule();
	}
	rump_thread_unbind();
	return NULL;
}

static void *
bb_consumer(void *v)
{
	struct bbuf *b = v;
	bool done = false;

	rump_thread_bind(b->k);
	while (!done) {
		rump_schedule();
		mutex_enter(&b->m);
		while (b->count == 0 && b->consumed < 2 * BB_ITEMS)
			cv_wait(&b->notempty, &b->m);
		if (b->count > 0) {
			b->consumed_sum += b->items[b->head];
			b->head = (b->head + 1) % BB_SIZE;
			b->count--;
			b->consumed++;
			cv_signal(&b->notfull);
		}
		if (b->consumed == 2 * BB_ITEMS) {
			done = true;
			cv_broadcast(&b->notempty);	/* release the other */
		}
		mutex_exit(&b->m);
		rump_unschedule();
	}
	rump_thread_unbind();
	return NULL;
}

static void
test_cv_producer_consumer_hammer(void **state)
{
	struct bbuf b = { 0 };
	pthread_t t[4];

	(void)state;
	b.k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, TH_MAXCPU);
	mutex_init(&b.m, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&b.notfull, "notfull");
	cv_init(&b.notempty, "notempty");
	pthread_create(&t[0], NULL, bb_producer, &b);
	pthread_create(&t[1], NULL, bb_producer, &b);
	pthread_create(&t[2], NULL, bb_consumer, &b);
	pthread_create(&t[3], NULL, bb_consumer, &b);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(b.consumed, 2 * BB_ITEMS);
	assert_int_equal(b.consumed_sum,
	    2L * BB_ITEMS * (BB_ITEMS + 1) / 2);
	assert_int_equal(b.count, 0);
	assert_int_equal(atomic_load(&b.notfull.cv_waiters), 0);
	assert_int_equal(atomic_load(&b.notempty.cv_waiters), 0);
	th_kernel_destroy(b.k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutex_basics),
		cmocka_unit_test(test_mutex_hammer),
		cmocka_unit_test(test_rwlock_semantics),
		cmocka_unit_test(test_rwlock_hammer),
		cmocka_unit_test(test_mutex_owner_sleeps),
		cmocka_unit_test(test_rwlock_owner_sleeps),
		cmocka_unit_test(test_cv_signal_broadcast),
		cmocka_unit_test(test_cv_wakeup_kept_until_release),
		cmocka_unit_test(test_cv_producer_consumer_hammer),
		cmocka_unit_test(test_cv_timedwait_virtual),
		cmocka_unit_test(test_cv_timedwait_signalled_first),
		cmocka_unit_test(test_cv_timedwait_hammer),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
