/*
 * test_sched.c -- instances, LWPs and the vCPU scheduler: configuration
 * errors, binding rules, mutual exclusion on a vCPU, at most ncpu LWPs in
 * the kernel, bound and implicit LWPs, kernel threads, several instances
 * in one process.
 */
#include "harness.h"

#include "kern/kernel.h"
#include "kern/kthread.h"

/* host errno values the public API returns (Linux numbering) */
#define H_EINVAL 22
#define H_EBUSY 16

static void
test_create_destroy_default(void **state)
{
	struct rump_kernel *k = NULL;

	(void)state;
	assert_int_equal(rump_kernel_create(NULL, &k), 0);
	assert_int_equal(rump_kernel_leaks(k), 0);
	assert_int_equal(rump_kernel_destroy(k), 0);
}

static void
test_config_errors(void **state)
{
	struct rump_kernel_config cfg;
	struct rump_kernel *k = NULL;

	(void)state;
	rump_kernel_config_default(&cfg);
	cfg.ncpu = 0;
	assert_int_equal(rump_kernel_create(&cfg, &k), H_EINVAL);
	cfg.ncpu = 65;
	assert_int_equal(rump_kernel_create(&cfg, &k), H_EINVAL);
	cfg.ncpu = 1;
	cfg.softint_mode = 7;
	assert_int_equal(rump_kernel_create(&cfg, &k), H_EINVAL);
	cfg.softint_mode = RUMP_SOFTINT_INLINE;
	cfg.clock = 9;
	assert_int_equal(rump_kernel_create(&cfg, &k), H_EINVAL);
	cfg.clock = RUMP_CLOCK_VIRTUAL;
	cfg.ncpu = 2;
#ifdef RUMP_LOCKS_UP
	/* locks=up: a second vCPU would make plain-store locks unsafe */
	assert_int_equal(rump_kernel_create(&cfg, &k), H_EINVAL);
#else
	assert_int_equal(rump_kernel_create(&cfg, &k), 0);
	th_kernel_destroy(k);
#endif
}

static void
test_build_options(void **state)
{
	(void)state;
#ifdef RUMP_LOCKS_UP
	assert_non_null(strstr(rump_build_options(), "locks=up"));
#else
	assert_non_null(strstr(rump_build_options(), "locks=mp"));
#endif
#ifdef RUMP_CURLWP_HYPERCALL
	assert_non_null(strstr(rump_build_options(), "curlwp=hypercall"));
#else
	assert_non_null(strstr(rump_build_options(), "curlwp=tls"));
#endif
}

static void
test_bind_rules(void **state)
{
	struct rump_kernel *k = th_kernel(RUMP_SOFTINT_INLINE,
	    RUMP_CLOCK_VIRTUAL, 1);

	(void)state;
	assert_int_equal(rump_thread_unbind(), H_EINVAL);
	assert_int_equal(rump_thread_bind(k), 0);
	assert_int_equal(rump_thread_bind(k), H_EBUSY);
	assert_int_equal(rump_intr_bind(k, 0), H_EBUSY);
	/* an instance with a bound thread cannot go away */
	assert_int_equal(rump_kernel_destroy(k), H_EBUSY);
	rump_schedule();
	assert_non_null(curlwp);
	assert_ptr_equal(curcpu(), &k->k_cpus[0]);
	assert_int_equal(rump_thread_unbind(), H_EBUSY);	/* scheduled */
	rump_unschedule();
	assert_int_equal(rump_thread_unbind(), 0);
	assert_null(curlwp);
	assert_int_equal(rump_intr_bind(k, 5), H_EINVAL);
	th_kernel_destroy(k);
}

/* Many host threads, one vCPU: the vCPU is a mutual exclusion. */
struct excl {
	struct rump_kernel *k;
	int iters;
	volatile int inside;
	int max_inside;
	long counter;		/* plain: protected by the vCPU alone */
	_Atomic int running;
	unsigned ncpu;
	_Atomic unsigned cpus_seen;
};

static void *
excl_body(void *v)
{
	struct excl *e = v;

	assert_int_equal(rump_thread_bind(e->k), 0);
	for (int i = 0; i < e->iters; i++) {
		rump_schedule();
		int in = __atomic_add_fetch(&e->inside, 1, __ATOMIC_SEQ_CST);
		if (in > __atomic_load_n(&e->max_inside, __ATOMIC_RELAXED))
			__atomic_store_n(&e->max_inside, in, __ATOMIC_RELAXED);
		atomic_fetch_or(&e->cpus_seen, 1u << curcpu()->ci_index);
		if (e->ncpu == 1)
			e->counter++;
		else
			__atomic_add_fetch(&e->counter, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&e->inside, 1, __ATOMIC_SEQ_CST);
		rump_unschedule();
	}
	assert_int_equal(rump_thread_unbind(), 0);
	return NULL;
}

static void
run_excl(unsigned ncpu, int nthreads, int iters)
{
	struct excl e = { .iters = iters, .ncpu = ncpu };
	pthread_t t[8];

	e.k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, ncpu);
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, excl_body, &e);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(e.counter, (long)nthreads * iters);
	assert_true(e.max_inside >= 1 && e.max_inside <= (int)ncpu);
	assert_int_equal(e.cpus_seen & ~((1u << ncpu) - 1), 0);
	th_kernel_destroy(e.k);
}

static void
test_one_vcpu_mutual_exclusion(void **state)
{
	(void)state;
	run_excl(1, 4, 20000);
}

static void
test_ncpu_bound_on_concurrency(void **state)
{
	(void)state;
	run_excl(TH_MAXCPU, 4, 20000);
}

struct boundarg {
	struct rump_kernel *k;
	unsigned cpu;
	int iters;
	int wrong;
};

static void *
bound_body(void *v)
{
	struct boundarg *b = v;

	assert_int_equal(rump_intr_bind(b->k, b->cpu), 0);
	for (int i = 0; i < b->iters; i++) {
		rump_schedule();
		if (curcpu()->ci_index != b->cpu)
			b->wrong++;
		rump_unschedule();
	}
	assert_int_equal(rump_thread_unbind(), 0);
	return NULL;
}

static void
test_bound_lwp_stays_on_its_vcpu(void **state)
{
	struct rump_kernel *k = th_kernel(RUMP_SOFTINT_INLINE,
	    RUMP_CLOCK_VIRTUAL, TH_MAXCPU);
	struct boundarg b[2];
	pthread_t t[2];

	(void)state;
	for (int i = 0; i < 2; i++) {
		b[i] = (struct boundarg){ k, (unsigned)(TH_MAXCPU - 1), 5000, 0 };
		pthread_create(&t[i], NULL, bound_body, &b[i]);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(b[i].wrong, 0);
	}
	th_kernel_destroy(k);
}

static void
test_implicit_lwp(void **state)
{
	struct rump_kernel *k = th_kernel(RUMP_SOFTINT_INLINE,
	    RUMP_CLOCK_VIRTUAL, 1);

	(void)state;
	assert_null(curlwp);
	assert_int_equal(rump_schedule_kernel(k), 0);
	assert_non_null(curlwp);
	assert_true(curlwp->l_flags & LW_IMPLICIT);
	assert_ptr_equal(curlwp->l_kernel, k);
	rump_unschedule();
	assert_null(curlwp);
	th_kernel_destroy(k);
}

static void
test_two_instances_side_by_side(void **state)
{
	struct rump_kernel *a = th_kernel(RUMP_SOFTINT_INLINE,
	    RUMP_CLOCK_VIRTUAL, 1);
	struct rump_kernel *b = th_kernel(RUMP_SOFTINT_THREADS,
	    RUMP_CLOCK_VIRTUAL, 1);
	struct lwp *mine;

	(void)state;
	assert_int_equal(rump_thread_bind(a), 0);
	mine = curlwp;
	rump_schedule();
	/* while in a, borrow an implicit LWP to do something in b */
	assert_int_equal(rump_schedule_kernel(b), 0);
	assert_ptr_equal(curlwp->l_kernel, b);
	assert_ptr_equal(curcpu(), &b->k_cpus[0]);
	rump_unschedule();
	assert_ptr_equal(curlwp, mine);
	assert_ptr_equal(curcpu(), &a->k_cpus[0]);
	rump_unschedule();
	assert_int_equal(rump_thread_unbind(), 0);
	/* the clocks are separate */
	assert_int_equal(rump_clock_advance(a, 5000000), 0);
	assert_int_equal(rump_clock_now(a), 5000000);
	assert_int_equal(rump_clock_now(b), 0);
	th_kernel_destroy(a);
	th_kernel_destroy(b);
}

struct kt {
	int ran;
	unsigned cpu;
	bool intr;
};

static void
kt_body(void *v)
{
	struct kt *a = v;

	a->ran++;
	a->cpu = curcpu()->ci_index;
	a->intr = (curlwp->l_flags & LW_INTR) != 0;
}

static void
test_kthread_create_join(void **state)
{
	struct rump_kernel *k = th_kernel(RUMP_SOFTINT_INLINE,
	    RUMP_CLOCK_VIRTUAL, TH_MAXCPU);
	struct kt a = { 0 };
	struct lwp *l;

	(void)state;
	assert_int_equal(rump_schedule_kernel(k), 0);
	assert_int_equal(kthread_create(k, KTHREAD_MUSTJOIN | KTHREAD_INTR,
	    &k->k_cpus[TH_MAXCPU - 1], kt_body, &a, "kt", &l), 0);
	rump_unschedule();
	assert_int_equal(kthread_join(l), 0);
	assert_int_equal(a.ran, 1);
	assert_int_equal(a.cpu, TH_MAXCPU - 1);
	assert_true(a.intr);
	th_kernel_destroy(k);
}

static void
test_clock_real_vs_virtual(void **state)
{
	struct rump_kernel *v = th_kernel(RUMP_SOFTINT_INLINE,
	    RUMP_CLOCK_VIRTUAL, 1);
	struct rump_kernel *r = th_kernel(RUMP_SOFTINT_INLINE,
	    RUMP_CLOCK_REAL, 1);

	(void)state;
	assert_int_equal(rump_clock_now(v), 0);
	th_sleep_ms(5);
	assert_int_equal(rump_clock_now(v), 0);
	assert_true(rump_clock_now(r) >= 5000000);
	assert_int_equal(rump_clock_advance(r, 1), H_EINVAL);
	assert_int_equal(rump_clock_advance(v, 1234567), 0);
	assert_int_equal(rump_clock_now(v), 1234567);
	th_kernel_destroy(v);
	th_kernel_destroy(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_destroy_default),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_build_options),
		cmocka_unit_test(test_bind_rules),
		cmocka_unit_test(test_one_vcpu_mutual_exclusion),
		cmocka_unit_test(test_ncpu_bound_on_concurrency),
		cmocka_unit_test(test_bound_lwp_stays_on_its_vcpu),
		cmocka_unit_test(test_implicit_lwp),
		cmocka_unit_test(test_two_instances_side_by_side),
		cmocka_unit_test(test_kthread_create_join),
		cmocka_unit_test(test_clock_real_vs_virtual),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
