/*
 * test_softint.c -- soft interrupts (src/kern/kern_softint.c).
 *
 * Each invariant of softint.h is a test of its own, and every test runs in
 * both dispatch modes (the _inline and _threads variants).  Handlers run on
 * host threads other than the test's in threads mode, and block the host
 * thread that released the vCPU in inline mode, so they only record what
 * they see (atomics); the test thread asserts afterwards.  Helper pthreads
 * never assert either: cmocka's assertions may only fail on the test thread.
 */
#include "harness.h"

#include "kern/kernel.h"
#include "kern/condvar.h"
#include "kern/kthread.h"
#include "kern/mutex.h"
#include "kern/softint.h"

/* How long to wait for something another host thread does. */
/* How long to give a wrong behaviour the chance to show. */
#define GRACE_MS 20

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

/* ---- a handler that records its runs ---- */

struct run {
	_Atomic int count;		/* runs */
	_Atomic int first;		/* sequence number of the first run */
	_Atomic int last;		/* and of the last */
	_Atomic int cpu;		/* ci_index of the last run */
	_Atomic bool softlwp;		/* last run was in a softint LWP */
	_Atomic(struct lwp *) lwp;	/* curlwp of the last run */
	_Atomic int percpu[RUMP_MAXCPUS]; /* runs per vCPU */
};

static void
h_record(void *arg)
{
	struct run *r = arg;
	struct lwp *l = curlwp;
	int seq = next_seq();
	int zero = 0;

	atomic_compare_exchange_strong(&r->first, &zero, seq);
	atomic_store(&r->last, seq);
	atomic_store(&r->cpu, (int)curcpu()->ci_index);
	atomic_store(&r->softlwp, (l->l_flags & LW_SOFTINT) != 0);
	atomic_store(&r->lwp, l);
	atomic_fetch_add(&r->percpu[curcpu()->ci_index], 1);
	atomic_fetch_add(&r->count, 1);		/* last: waiters poll it */
}

/*
 * ran_n: after the scheduling LWP's rump_unschedule(), whether the handler
 * has run n times in all.  Inline mode ran it inside rump_unschedule()
 * already; threads mode runs it soon on the level's thread.
 */
static bool
ran_n(enum rump_softint_mode mode, struct run *r, int n)
{
	if (mode == RUMP_SOFTINT_THREADS)
		(void)th_wait_until(atomic_load(&r->count) >= n, BT_WAIT_MS);
	return atomic_load(&r->count) == n;
}

/*
 * settle: queue a sentinel at level on the caller's vCPU and wait for it.
 * Handlers run per level per vCPU in queue order, so afterwards everything
 * queued there before has run.  Needs a one-vCPU instance or a caller bound
 * to its vCPU.
 */
static void
settle(struct rump_kernel *k, enum rump_softint_mode mode, unsigned level)
{
	struct run r;
	void *s;

	memset(&r, 0, sizeof(r));
	rump_schedule();
	s = softint_establish(k, level | SOFTINT_MPSAFE, h_record, &r);
	if (s != NULL)
		softint_schedule(s);
	rump_unschedule();
	assert_non_null(s);
	assert_true(ran_n(mode, &r, 1));
	rump_schedule();
	softint_disestablish(s);
	rump_unschedule();
}

/* disestablish: remove handlers, holding a vCPU. */
static void
disestablish(void **si, int n)
{
	rump_schedule();
	for (int i = 0; i < n; i++)
		if (si[i] != NULL)
			softint_disestablish(si[i]);
	rump_unschedule();
}


/* ---- a handler that sleeps on a kernel condvar until released ---- */

struct sleeper {
	kmutex_t sl_mtx;
	kcondvar_t sl_cv;
	bool sl_release;		/* [sl_mtx] */
	_Atomic int sl_running;		/* handlers of the test running now */
	_Atomic int sl_maxrunning;
	_Atomic int sl_start;		/* sequence numbers, 0: not yet */
	_Atomic int sl_asleep;
	_Atomic int sl_end;
	_Atomic int sl_cpu;
	struct run sl_other;		/* the second handler's record */
};

static void
sleeper_init(struct sleeper *s)
{
	memset(s, 0, sizeof(*s));
	mutex_init(&s->sl_mtx, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&s->sl_cv, "sleeper");
}

static void
sleeper_destroy(struct sleeper *s)
{
	mutex_destroy(&s->sl_mtx);
	cv_destroy(&s->sl_cv);
}

static void
sleeper_enter(struct sleeper *s)
{
	int n = atomic_fetch_add(&s->sl_running, 1) + 1;
	int m = atomic_load(&s->sl_maxrunning);

	while (n > m && !atomic_compare_exchange_weak(&s->sl_maxrunning, &m, n))
		continue;
}

/* Handler A: sleeps (releasing the vCPU) until sleeper_release(). */
static void
h_sleeper(void *arg)
{
	struct sleeper *s = arg;

	sleeper_enter(s);
	atomic_store(&s->sl_start, next_seq());
	atomic_store(&s->sl_cpu, (int)curcpu()->ci_index);
	mutex_enter(&s->sl_mtx);
	atomic_store(&s->sl_asleep, 1);
	while (!s->sl_release)
		cv_wait(&s->sl_cv, &s->sl_mtx);
	mutex_exit(&s->sl_mtx);
	atomic_store(&s->sl_end, next_seq());
	atomic_fetch_sub(&s->sl_running, 1);
}

/* Handler B: counted in the same concurrency counter as A. */
static void
h_sleeper_other(void *arg)
{
	struct sleeper *s = arg;

	sleeper_enter(s);
	h_record(&s->sl_other);
	atomic_fetch_sub(&s->sl_running, 1);
}

/* Wait until h_sleeper is about to sleep or asleep on its condvar. */
static bool
sleeper_wait_asleep(struct sleeper *s)
{
	return th_wait_until(atomic_load(&s->sl_asleep) != 0 &&
	    cv_has_waiters(&s->sl_cv), BT_WAIT_MS);
}

/* Wake h_sleeper: the caller is bound and holds no vCPU. */
static void
sleeper_release(struct sleeper *s)
{
	rump_schedule();
	mutex_enter(&s->sl_mtx);
	s->sl_release = true;
	cv_signal(&s->sl_cv);
	mutex_exit(&s->sl_mtx);
	rump_unschedule();
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

/* ==== tests ==== */

/* softint_establish refuses a bad level and a NULL function. */
static void
test_establish_args(void **state)
{
	enum rump_softint_mode mode = test_mode(state);
	struct rump_kernel *k = th_kernel(mode, RUMP_CLOCK_VIRTUAL, 1);
	struct run r;
	void *bad_level, *bad_fn, *si[SOFTINT_COUNT];

	memset(&r, 0, sizeof(r));
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	bad_level = softint_establish(k, SOFTINT_COUNT, h_record, &r);
	bad_fn = softint_establish(k, SOFTINT_NET, NULL, &r);
	for (unsigned lvl = 0; lvl < SOFTINT_COUNT; lvl++)
		si[lvl] = softint_establish(k, lvl | SOFTINT_MPSAFE, h_record,
		    &r);
	rump_unschedule();
	assert_null(bad_level);
	assert_null(bad_fn);
	for (unsigned lvl = 0; lvl < SOFTINT_COUNT; lvl++)
		assert_non_null(si[lvl]);
	disestablish(si, SOFTINT_COUNT);
	assert_int_equal(atomic_load(&r.count), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/*
 * (1) A handler runs after being scheduled, at every level, in a softint
 * LWP (not the scheduler's), and not while the scheduler holds the vCPU.
 */
static void
test_runs_after_schedule(void **state)
{
	enum rump_softint_mode mode = test_mode(state);
	struct rump_kernel *k = th_kernel(mode, RUMP_CLOCK_VIRTUAL, 1);
	struct run r[SOFTINT_COUNT];
	void *si[SOFTINT_COUNT];
	struct lwp *me;

	memset(r, 0, sizeof(r));
	assert_int_equal(rump_thread_bind(k), 0);
	me = curlwp;
	for (unsigned lvl = 0; lvl < SOFTINT_COUNT; lvl++) {
		int before;

		rump_schedule();
		si[lvl] = softint_establish(k, lvl | SOFTINT_MPSAFE, h_record,
		    &r[lvl]);
		if (si[lvl] != NULL)
			softint_schedule(si[lvl]);
		th_sleep_ms(1);		/* threads mode: the thread is woken */
		before = atomic_load(&r[lvl].count);
		rump_unschedule();
		assert_non_null(si[lvl]);
		assert_int_equal(before, 0);
		assert_true(ran_n(mode, &r[lvl], 1));
		assert_true(atomic_load(&r[lvl].softlwp));
		assert_ptr_not_equal(atomic_load(&r[lvl].lwp), me);
		assert_int_equal(atomic_load(&r[lvl].cpu), 0);
	}
	/* and again, each time it is scheduled after it ran */
	for (int round = 2; round <= 4; round++) {
		rump_schedule();
		for (unsigned lvl = 0; lvl < SOFTINT_COUNT; lvl++)
			softint_schedule(si[lvl]);
		rump_unschedule();
		for (unsigned lvl = 0; lvl < SOFTINT_COUNT; lvl++)
			assert_true(ran_n(mode, &r[lvl], round));
	}
	disestablish(si, SOFTINT_COUNT);
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/* (2) Scheduled several times before it runs: it runs exactly once. */
static void
test_once_per_schedule(void **state)
{
	enum rump_softint_mode mode = test_mode(state);
	struct rump_kernel *k = th_kernel(mode, RUMP_CLOCK_VIRTUAL, 1);
	struct run r;
	void *si;

	memset(&r, 0, sizeof(r));
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	si = softint_establish(k, SOFTINT_NET | SOFTINT_MPSAFE, h_record, &r);
	if (si != NULL)
		for (int i = 0; i < 5; i++)
			softint_schedule(si);
	rump_unschedule();
	assert_non_null(si);
	assert_true(ran_n(mode, &r, 1));
	settle(k, mode, SOFTINT_NET);
	assert_int_equal(atomic_load(&r.count), 1);

	/* after the run, scheduling works again, once more */
	rump_schedule();
	softint_schedule(si);
	softint_schedule(si);
	rump_unschedule();
	assert_true(ran_n(mode, &r, 2));
	settle(k, mode, SOFTINT_NET);
	assert_int_equal(atomic_load(&r.count), 2);

	disestablish(&si, 1);
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/* Handlers of one level on one vCPU run in the order they were scheduled. */
static void
test_fifo_within_level(void **state)
{
	enum rump_softint_mode mode = test_mode(state);
	struct rump_kernel *k = th_kernel(mode, RUMP_CLOCK_VIRTUAL, 1);
	struct run r[6];
	void *si[6];

	memset(r, 0, sizeof(r));
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	for (int i = 0; i < 6; i++)
		si[i] = softint_establish(k, SOFTINT_NET | SOFTINT_MPSAFE,
		    h_record, &r[i]);
	/* scheduled in the order 3, 0, 5, 1, 4, 2 */
	static const int order[6] = { 3, 0, 5, 1, 4, 2 };
	for (int i = 0; i < 6; i++)
		if (si[order[i]] != NULL)
			softint_schedule(si[order[i]]);
	rump_unschedule();
	for (int i = 0; i < 6; i++)
		assert_non_null(si[i]);
	for (int i = 0; i < 6; i++)
		assert_true(ran_n(mode, &r[i], 1));
	for (int i = 1; i < 6; i++)
		assert_true(atomic_load(&r[order[i - 1]].last) <
		    atomic_load(&r[order[i]].last));
	disestablish(si, 6);
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/* (3) A handler runs on the vCPU that scheduled it. */
struct percpu_sched {
	void *ps_si;
	_Atomic int *ps_nsched;		/* LWPs that scheduled and wait */
	int ps_nthreads;
};

static void
body_schedule_and_wait(struct bthread *bt)
{
	struct percpu_sched *ps = bt->bt_arg;

	rump_schedule();
	softint_schedule(ps->ps_si);
	/* keep the vCPU until every vCPU has the handler queued */
	atomic_fetch_add(ps->ps_nsched, 1);
	(void)th_wait_until(atomic_load(ps->ps_nsched) == ps->ps_nthreads,
	    BT_WAIT_MS);
	rump_unschedule();
}

static void
test_runs_on_scheduling_cpu(void **state)
{
	enum rump_softint_mode mode = test_mode(state);
	struct rump_kernel *k = th_kernel(mode, RUMP_CLOCK_VIRTUAL, TH_MAXCPU);
	static const unsigned cpus[2] = { 0, TH_MAXCPU - 1 };
	struct run r;
	void *si = NULL;

	memset(&r, 0, sizeof(r));
	/* one vCPU at a time, from a hardware interrupt LWP bound to it */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rump_intr_bind(k, cpus[i]), 0);
		rump_schedule();
		if (i == 0)
			si = softint_establish(k, SOFTINT_NET | SOFTINT_MPSAFE,
			    h_record, &r);
		if (si != NULL)
			softint_schedule(si);
		rump_unschedule();
		assert_non_null(si);
		assert_true(ran_n(mode, &r, i + 1));
		assert_int_equal(atomic_load(&r.cpu), (int)cpus[i]);
		assert_int_equal(atomic_load(&r.percpu[cpus[i]]),
		    cpus[0] == cpus[1] ? i + 1 : 1);
		assert_true(atomic_load(&r.softlwp));
		assert_int_equal(rump_thread_unbind(), 0);
	}

	/*
	 * Queued on every vCPU at once (each LWP keeps its vCPU until all
	 * have scheduled): it runs once on each.
	 */
	if (TH_MAXCPU > 1) {
		struct bthread bt[TH_MAXCPU];
		struct percpu_sched ps;
		_Atomic int nsched = 0;

		memset(&r, 0, sizeof(r));
		ps.ps_si = si;
		ps.ps_nsched = &nsched;
		ps.ps_nthreads = TH_MAXCPU;
		for (int i = 0; i < TH_MAXCPU; i++)
			bthread_start(&bt[i], k, i, body_schedule_and_wait, &ps);
		for (int i = 0; i < TH_MAXCPU; i++)
			bthread_join(&bt[i]);
		assert_int_equal(atomic_load(&nsched), TH_MAXCPU);
		assert_true(ran_n(mode, &r, TH_MAXCPU));
		for (int i = 0; i < TH_MAXCPU; i++)
			assert_int_equal(atomic_load(&r.percpu[i]), 1);
	}

	assert_int_equal(rump_intr_bind(k, 0), 0);
	disestablish(&si, 1);
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/*
 * (4) Never before the hardware interrupt handler that scheduled it
 * finished: the interrupt LWP keeps its vCPU a while after scheduling and
 * sets a flag just before it releases the vCPU.
 */
struct hwintr {
	_Atomic bool hw_done;		/* set by the interrupt handler */
	_Atomic int hw_runs;
	_Atomic int hw_saw_done;	/* runs that saw hw_done set */
	_Atomic int hw_cpu;
};

static void
h_after_hwintr(void *arg)
{
	struct hwintr *hw = arg;

	if (atomic_load(&hw->hw_done))
		atomic_fetch_add(&hw->hw_saw_done, 1);
	atomic_store(&hw->hw_cpu, (int)curcpu()->ci_index);
	atomic_fetch_add(&hw->hw_runs, 1);
}

static void
test_not_before_hwintr_done(void **state)
{
	enum rump_softint_mode mode = test_mode(state);
	struct rump_kernel *k = th_kernel(mode, RUMP_CLOCK_VIRTUAL, TH_MAXCPU);
	static const unsigned cpus[2] = { 0, TH_MAXCPU - 1 };
	struct hwintr hw;
	void *si = NULL;

	memset(&hw, 0, sizeof(hw));
	for (int i = 0; i < 2; i++) {
		atomic_store(&hw.hw_done, false);
		assert_int_equal(rump_intr_bind(k, cpus[i]), 0);
		rump_schedule();
		if (si == NULL)
			si = softint_establish(k, SOFTINT_NET | SOFTINT_MPSAFE,
			    h_after_hwintr, &hw);
		if (si != NULL)
			softint_schedule(si);
		th_sleep_ms(GRACE_MS);	/* the handler still runs */
		atomic_store(&hw.hw_done, true);
		rump_unschedule();
		assert_non_null(si);
		if (mode == RUMP_SOFTINT_THREADS)
			(void)th_wait_until(atomic_load(&hw.hw_runs) > i,
			    BT_WAIT_MS);
		assert_int_equal(atomic_load(&hw.hw_runs), i + 1);
		assert_int_equal(atomic_load(&hw.hw_saw_done), i + 1);
		assert_int_equal(atomic_load(&hw.hw_cpu), (int)cpus[i]);
		if (i == 1)
			disestablish(&si, 1);
		assert_int_equal(rump_thread_unbind(), 0);
	}
	th_kernel_destroy(k);
}

/*
 * (5) At most one handler per level per vCPU at a time: A sleeps in
 * cv_wait (releasing the vCPU); B, of the same level, scheduled on the same
 * vCPU meanwhile, starts only after A finished.  The first scheduler runs
 * in its own pthread: in inline mode its host thread runs A and blocks in it.
 */
struct excl {
	struct sleeper ex_s;
	void *ex_a;
	void *ex_b;
};

static void
body_schedule_a(struct bthread *bt)
{
	struct excl *ex = bt->bt_arg;

	rump_schedule();
	softint_schedule(ex->ex_a);
	rump_unschedule();
}

static void
test_one_per_level_per_cpu(void **state)
{
	enum rump_softint_mode mode = test_mode(state);
	struct rump_kernel *k = th_kernel(mode, RUMP_CLOCK_VIRTUAL, TH_MAXCPU);
	struct bthread bt;
	struct excl ex;
	struct sleeper *s = &ex.ex_s;

	memset(&ex, 0, sizeof(ex));
	/* everyone is an interrupt LWP of vCPU 0: one vCPU's queue */
	assert_int_equal(rump_intr_bind(k, 0), 0);
	rump_schedule();
	sleeper_init(s);
	ex.ex_a = softint_establish(k, SOFTINT_NET | SOFTINT_MPSAFE,
	    h_sleeper, s);
	ex.ex_b = softint_establish(k, SOFTINT_NET | SOFTINT_MPSAFE,
	    h_sleeper_other, s);
	rump_unschedule();
	assert_non_null(ex.ex_a);
	assert_non_null(ex.ex_b);

	bthread_start(&bt, k, 0, body_schedule_a, &ex);
	assert_true(sleeper_wait_asleep(s));

	/* A sleeps: the vCPU is free, B gets queued on it */
	rump_schedule();
	softint_schedule(ex.ex_b);
	rump_unschedule();
	th_sleep_ms(GRACE_MS);
	assert_int_equal(atomic_load(&s->sl_other.count), 0);
	assert_int_equal(atomic_load(&s->sl_end), 0);

	sleeper_release(s);
	assert_true(th_wait_until(atomic_load(&s->sl_other.count) == 1,
	    BT_WAIT_MS));
	bthread_join(&bt);

	assert_int_equal(atomic_load(&s->sl_maxrunning), 1);
	assert_int_equal(atomic_load(&s->sl_cpu), 0);
	assert_int_equal(atomic_load(&s->sl_other.cpu), 0);
	assert_true(atomic_load(&s->sl_start) < atomic_load(&s->sl_end));
	assert_true(atomic_load(&s->sl_end) <
	    atomic_load(&s->sl_other.first));
	settle(k, mode, SOFTINT_NET);
	assert_int_equal(atomic_load(&s->sl_other.count), 1);

	rump_schedule();
	softint_disestablish(ex.ex_a);
	softint_disestablish(ex.ex_b);
	sleeper_destroy(s);
	rump_unschedule();
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/*
 * (6) softint_disestablish() of a handler still queued on the caller's vCPU:
 * it never runs.  Queued at the head, in the middle and at the tail, or
 * alone; the rest of the queue still runs, in order, and a handler queued
 * after the removal of the tail still runs (the tail was fixed up).
 */
static void
test_disestablish_queued(void **state)
{
	enum rump_softint_mode mode = test_mode(state);
	struct rump_kernel *k = th_kernel(mode, RUMP_CLOCK_VIRTUAL, 1);
	struct run keep[3], gone[4];
	void *ks[3], *gs[4];

	memset(keep, 0, sizeof(keep));
	memset(gone, 0, sizeof(gone));
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	for (int i = 0; i < 3; i++)
		ks[i] = softint_establish(k, SOFTINT_NET | SOFTINT_MPSAFE,
		    h_record, &keep[i]);
	for (int i = 0; i < 4; i++)
		gs[i] = softint_establish(k, SOFTINT_NET | SOFTINT_MPSAFE,
		    h_record, &gone[i]);
	rump_unschedule();
	for (int i = 0; i < 3; i++)
		assert_non_null(ks[i]);
	for (int i = 0; i < 4; i++)
		assert_non_null(gs[i]);

	/* queue: gone0 keep0 gone1 keep1 gone2; remove the gones; add keep2 */
	rump_schedule();
	softint_schedule(gs[0]);
	softint_schedule(ks[0]);
	softint_schedule(gs[1]);
	softint_schedule(ks[1]);
	softint_schedule(gs[2]);
	softint_disestablish(gs[1]);
	softint_disestablish(gs[2]);
	softint_disestablish(gs[0]);
	softint_schedule(ks[2]);
	rump_unschedule();
	for (int i = 0; i < 3; i++)
		assert_true(ran_n(mode, &keep[i], 1));
	assert_true(atomic_load(&keep[0].last) < atomic_load(&keep[1].last));
	assert_true(atomic_load(&keep[1].last) < atomic_load(&keep[2].last));

	/* alone on its level's queue */
	rump_schedule();
	softint_schedule(gs[3]);
	softint_disestablish(gs[3]);
	rump_unschedule();
	settle(k, mode, SOFTINT_NET);
	for (int i = 0; i < 4; i++)
		assert_int_equal(atomic_load(&gone[i].count), 0);

	/* the level still works */
	rump_schedule();
	softint_schedule(ks[0]);
	rump_unschedule();
	assert_true(ran_n(mode, &keep[0], 2));
	settle(k, mode, SOFTINT_NET);
	for (int i = 0; i < 4; i++)
		assert_int_equal(atomic_load(&gone[i].count), 0);

	disestablish(ks, 3);
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/*
 * softint_disestablish() of a handler that is running (asleep in it) waits
 * until the handler returned: softint.h promises that it is neither queued
 * nor running anywhere when softint_disestablish() returns.
 */
struct disest {
	struct sleeper de_s;
	void *de_si;
	_Atomic int de_called;
	_Atomic int de_returned;	/* sequence number */
};

static void
body_disestablish(struct bthread *bt)
{
	struct disest *de = bt->bt_arg;

	rump_schedule();
	atomic_store(&de->de_called, 1);
	softint_disestablish(de->de_si);
	atomic_store(&de->de_returned, next_seq());
	rump_unschedule();
}

static void
body_schedule_de(struct bthread *bt)
{
	struct disest *de = bt->bt_arg;

	rump_schedule();
	softint_schedule(de->de_si);
	rump_unschedule();
}

static void
test_disestablish_waits_for_running(void **state)
{
	enum rump_softint_mode mode = test_mode(state);
	struct rump_kernel *k = th_kernel(mode, RUMP_CLOCK_VIRTUAL, TH_MAXCPU);
	struct bthread sched, dis;
	struct disest de;
	struct sleeper *s = &de.de_s;

	memset(&de, 0, sizeof(de));
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	sleeper_init(s);
	de.de_si = softint_establish(k, SOFTINT_NET | SOFTINT_MPSAFE,
	    h_sleeper, s);
	rump_unschedule();
	assert_non_null(de.de_si);

	bthread_start(&sched, k, 0, body_schedule_de, &de);
	assert_true(sleeper_wait_asleep(s));
	/* from the handler's own vCPU */
	bthread_start(&dis, k, 0, body_disestablish, &de);
	assert_true(th_wait_until(atomic_load(&de.de_called) != 0, BT_WAIT_MS));
	th_sleep_ms(GRACE_MS);
	assert_int_equal(atomic_load(&de.de_returned), 0);
	sleeper_release(s);
	bthread_join(&dis);
	bthread_join(&sched);
	assert_int_not_equal(atomic_load(&s->sl_end), 0);
	assert_true(atomic_load(&s->sl_end) < atomic_load(&de.de_returned));

	rump_schedule();
	sleeper_destroy(s);
	rump_unschedule();
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/*
 * (7) A handler that schedules other softints, at its own, a higher and a
 * lower level: all of them run, once each.  A handler that reschedules
 * itself runs again.
 */
struct chain {
	void *ch_si[3];			/* same level, higher, lower */
	struct run ch_r[3];
	struct run ch_first;
	void *ch_self;
	struct run ch_selfrun;
	int ch_selfmax;
};

static void
h_chain_first(void *arg)
{
	struct chain *ch = arg;

	for (int i = 0; i < 3; i++)
		softint_schedule(ch->ch_si[i]);
	h_record(&ch->ch_first);
}

static void
h_chain_self(void *arg)
{
	struct chain *ch = arg;

	h_record(&ch->ch_selfrun);
	if (atomic_load(&ch->ch_selfrun.count) < ch->ch_selfmax)
		softint_schedule(ch->ch_self);
}

static void
test_handler_schedules_softint(void **state)
{
	enum rump_softint_mode mode = test_mode(state);
	struct rump_kernel *k = th_kernel(mode, RUMP_CLOCK_VIRTUAL, 1);
	static const unsigned levels[3] = {
		SOFTINT_NET, SOFTINT_SERIAL, SOFTINT_CLOCK
	};
	struct chain ch;
	void *first;

	memset(&ch, 0, sizeof(ch));
	ch.ch_selfmax = 4;
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	first = softint_establish(k, SOFTINT_NET | SOFTINT_MPSAFE,
	    h_chain_first, &ch);
	for (int i = 0; i < 3; i++)
		ch.ch_si[i] = softint_establish(k, levels[i] | SOFTINT_MPSAFE,
		    h_record, &ch.ch_r[i]);
	ch.ch_self = softint_establish(k, SOFTINT_BIO | SOFTINT_MPSAFE,
	    h_chain_self, &ch);
	rump_unschedule();
	assert_non_null(first);
	for (int i = 0; i < 3; i++)
		assert_non_null(ch.ch_si[i]);
	assert_non_null(ch.ch_self);

	rump_schedule();
	softint_schedule(first);
	rump_unschedule();
	assert_true(ran_n(mode, &ch.ch_first, 1));
	for (int i = 0; i < 3; i++) {
		assert_true(ran_n(mode, &ch.ch_r[i], 1));
		assert_true(atomic_load(&ch.ch_first.last) <
		    atomic_load(&ch.ch_r[i].first));
	}

	rump_schedule();
	softint_schedule(ch.ch_self);
	rump_unschedule();
	assert_true(ran_n(mode, &ch.ch_selfrun, ch.ch_selfmax));

	for (unsigned lvl = 0; lvl < SOFTINT_COUNT; lvl++)
		settle(k, mode, lvl);
	assert_int_equal(atomic_load(&ch.ch_first.count), 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(atomic_load(&ch.ch_r[i].count), 1);
	assert_int_equal(atomic_load(&ch.ch_selfrun.count), ch.ch_selfmax);

	disestablish(&first, 1);
	disestablish(ch.ch_si, 3);
	disestablish(&ch.ch_self, 1);
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/*
 * A handler scheduled by an LWP that then goes to sleep, without leaving
 * the kernel, runs while that LWP sleeps: here it is what wakes the LWP.
 * Also when the sleeper holds a lock the handler needs: the handler then
 * blocks on the lock (its host thread is not the sleeper's) and finishes
 * once the sleeper woke and dropped the lock.
 */
struct wakeme {
	kmutex_t wm_mtx;
	kcondvar_t wm_cv;
	bool wm_flag;			/* [wm_mtx] set by the handler */
	bool wm_go;			/* [wm_mtx] set by the test */
	kmutex_t wm_lock;		/* held by the sleeper, wanted by h */
	void *wm_si;
	void *wm_si_locked;
	_Atomic int wm_woken;		/* sequence numbers, 0: not yet */
	_Atomic int wm_h_start;
	_Atomic int wm_h_end;
	_Atomic int wm_unlocked;
	_Atomic int wm_asleep;
};

static void
h_wake_sleeper(void *arg)
{
	struct wakeme *wm = arg;

	atomic_store(&wm->wm_h_start, next_seq());
	mutex_enter(&wm->wm_mtx);
	wm->wm_flag = true;
	cv_broadcast(&wm->wm_cv);
	mutex_exit(&wm->wm_mtx);
	atomic_store(&wm->wm_h_end, next_seq());
}

static void
h_needs_lock(void *arg)
{
	struct wakeme *wm = arg;

	atomic_store(&wm->wm_h_start, next_seq());
	mutex_enter(&wm->wm_lock);
	mutex_exit(&wm->wm_lock);
	atomic_store(&wm->wm_h_end, next_seq());
}

static void
body_schedule_and_sleep(struct bthread *bt)
{
	struct wakeme *wm = bt->bt_arg;

	rump_schedule();
	mutex_enter(&wm->wm_mtx);
	softint_schedule(wm->wm_si);
	while (!wm->wm_flag)
		cv_wait(&wm->wm_cv, &wm->wm_mtx);
	mutex_exit(&wm->wm_mtx);
	atomic_store(&wm->wm_woken, next_seq());
	rump_unschedule();
}

static void
body_schedule_and_sleep_locked(struct bthread *bt)
{
	struct wakeme *wm = bt->bt_arg;

	rump_schedule();
	mutex_enter(&wm->wm_lock);
	mutex_enter(&wm->wm_mtx);
	softint_schedule(wm->wm_si_locked);
	atomic_store(&wm->wm_asleep, 1);
	while (!wm->wm_go)
		cv_wait(&wm->wm_cv, &wm->wm_mtx);
	mutex_exit(&wm->wm_mtx);
	atomic_store(&wm->wm_woken, next_seq());
	atomic_store(&wm->wm_unlocked, next_seq());
	mutex_exit(&wm->wm_lock);
	rump_unschedule();
}

static void
test_runs_while_scheduler_sleeps(void **state)
{
	enum rump_softint_mode mode = test_mode(state);
	struct rump_kernel *k = th_kernel(mode, RUMP_CLOCK_VIRTUAL, 1);
	struct bthread bt;
	struct wakeme wm;

	memset(&wm, 0, sizeof(wm));
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	mutex_init(&wm.wm_mtx, MUTEX_DEFAULT, IPL_NONE);
	mutex_init(&wm.wm_lock, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&wm.wm_cv, "wakeme");
	wm.wm_si = softint_establish(k, SOFTINT_NET | SOFTINT_MPSAFE,
	    h_wake_sleeper, &wm);
	wm.wm_si_locked = softint_establish(k, SOFTINT_NET | SOFTINT_MPSAFE,
	    h_needs_lock, &wm);
	rump_unschedule();
	assert_non_null(wm.wm_si);
	assert_non_null(wm.wm_si_locked);

	/* the handler wakes its scheduler: nobody else enters the kernel */
	bthread_start(&bt, k, BT_BOUND, body_schedule_and_sleep, &wm);
	assert_true(th_wait_until(atomic_load(&wm.wm_woken) != 0, BT_WAIT_MS));
	bthread_join(&bt);
	assert_true(atomic_load(&wm.wm_h_start) < atomic_load(&wm.wm_woken));

	/* the sleeper holds wm_lock, which the handler needs */
	atomic_store(&wm.wm_h_start, 0);
	atomic_store(&wm.wm_h_end, 0);
	atomic_store(&wm.wm_woken, 0);
	bthread_start(&bt, k, BT_BOUND, body_schedule_and_sleep_locked, &wm);
	assert_true(th_wait_until(atomic_load(&wm.wm_h_start) != 0, BT_WAIT_MS));
	th_sleep_ms(GRACE_MS);
	assert_int_equal(atomic_load(&wm.wm_h_end), 0);
	assert_int_equal(atomic_load(&wm.wm_woken), 0);
	rump_schedule();
	mutex_enter(&wm.wm_mtx);
	wm.wm_go = true;
	cv_broadcast(&wm.wm_cv);
	mutex_exit(&wm.wm_mtx);
	rump_unschedule();
	assert_true(th_wait_until(atomic_load(&wm.wm_h_end) != 0, BT_WAIT_MS));
	bthread_join(&bt);
	assert_true(atomic_load(&wm.wm_unlocked) < atomic_load(&wm.wm_h_end));

	rump_schedule();
	softint_disestablish(wm.wm_si);
	softint_disestablish(wm.wm_si_locked);
	mutex_destroy(&wm.wm_mtx);
	mutex_destroy(&wm.wm_lock);
	cv_destroy(&wm.wm_cv);
	rump_unschedule();
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/*
 * Inline mode: the pending levels run highest first (SERIAL, NET, BIO,
 * CLOCK), whatever order they were scheduled in.
 */
static void
test_inline_level_priority(void **state)
{
	struct rump_kernel *k;
	static const unsigned sched_order[SOFTINT_COUNT] = {
		SOFTINT_CLOCK, SOFTINT_NET, SOFTINT_BIO, SOFTINT_SERIAL,
	};
	struct run r[SOFTINT_COUNT];
	void *si[SOFTINT_COUNT];

	(void)state;
	k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, 1);
	memset(r, 0, sizeof(r));
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	for (unsigned lvl = 0; lvl < SOFTINT_COUNT; lvl++)
		si[lvl] = softint_establish(k, lvl | SOFTINT_MPSAFE, h_record,
		    &r[lvl]);
	for (unsigned i = 0; i < SOFTINT_COUNT; i++)
		if (si[sched_order[i]] != NULL)
			softint_schedule(si[sched_order[i]]);
	rump_unschedule();
	for (unsigned lvl = 0; lvl < SOFTINT_COUNT; lvl++) {
		assert_non_null(si[lvl]);
		assert_int_equal(atomic_load(&r[lvl].count), 1);
	}
	assert_true(atomic_load(&r[SOFTINT_SERIAL].last) <
	    atomic_load(&r[SOFTINT_NET].last));
	assert_true(atomic_load(&r[SOFTINT_NET].last) <
	    atomic_load(&r[SOFTINT_BIO].last));
	assert_true(atomic_load(&r[SOFTINT_BIO].last) <
	    atomic_load(&r[SOFTINT_CLOCK].last));
	disestablish(si, SOFTINT_COUNT);
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

#define BOTH_MODES(f)							\
	{ #f "_inline", f, NULL, unbind_teardown, &mode_inline },	\
	{ #f "_threads", f, NULL, unbind_teardown, &mode_threads }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH_MODES(test_establish_args),
		BOTH_MODES(test_runs_after_schedule),
		BOTH_MODES(test_once_per_schedule),
		BOTH_MODES(test_fifo_within_level),
		BOTH_MODES(test_runs_on_scheduling_cpu),
		BOTH_MODES(test_not_before_hwintr_done),
		BOTH_MODES(test_one_per_level_per_cpu),
		BOTH_MODES(test_disestablish_queued),
		BOTH_MODES(test_disestablish_waits_for_running),
		BOTH_MODES(test_handler_schedules_softint),
		BOTH_MODES(test_runs_while_scheduler_sleeps),
		cmocka_unit_test_teardown(test_inline_level_priority,
		    unbind_teardown),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
