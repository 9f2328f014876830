/*
 * kern_sched.c -- LWPs, curlwp and the vCPU scheduler.
 *
 * (rump_sys_*() ->) rump_schedule() -> sched_acquire() -> [fast: one CAS on
 *     l_lastcpu | slow: sched_acquire_slow(), wait on k_schedcv]
 * rump_unschedule() -> sched_release_softints() -> softint_run_inline()
 *     (inline mode) -> sched_release()
 *
 * A free vCPU has ci_owner == NULL; taking it is a compare-and-swap from NULL
 * to the LWP.  Giving it back is a store of NULL followed by a look at
 * k_schedwaiters; the store and that load are sequentially consistent, as is
 * the waiters increment and the CAS on the other side, so either the waiter's
 * CAS sees the free vCPU or the releaser sees the waiter and wakes it.
 */
#include "kernel.h"
#include "callout.h"
#include "lwp.h"
#include "softint.h"

#ifndef RUMP_CURLWP_HYPERCALL
__thread struct lwp *rump_curlwp_tls;
#endif

/*
 * An LWP's memory outlives it: a mutex_enter() spinning on its owner may
 * read owner->l_cpu just after the owner let go, exited and was
 * destroyed.  Its instance keeps it for the next lwp_create() (or frees it
 * when it goes: lwp_free_all()).
 */
static void
lwp_keep(struct rump_kernel *k, struct lwp *l)
{
	if (k->k_implicit_mtx == NULL) {
		hyper_free(l, sizeof(*l));
		return;
	}
	hyper_mutex_enter(k->k_implicit_mtx);
	l->l_freenext = k->k_lwp_free;
	k->k_lwp_free = l;
	hyper_mutex_exit(k->k_implicit_mtx);
}

void
lwp_free_all(struct rump_kernel *k)
{
	struct lwp *l;

	while ((l = k->k_lwp_free) != NULL) {
		k->k_lwp_free = l->l_freenext;
		hyper_free(l, sizeof(*l));
	}
}

int
lwp_create(struct rump_kernel *k, unsigned flags, struct cpu_info *ci,
    const char *name, struct lwp **lp)
{
	struct lwp *l = NULL;
	void *mem;
	int error;

	if (k->k_implicit_mtx != NULL) {
		hyper_mutex_enter(k->k_implicit_mtx);
		if ((l = k->k_lwp_free) != NULL)
			k->k_lwp_free = l->l_freenext;
		hyper_mutex_exit(k->k_implicit_mtx);
	}
	if (l == NULL) {
		if ((error = hyper_malloc(sizeof(*l), CACHE_LINE_SIZE,
		    &mem)) != 0)
			return error;
		l = mem;
	}
	memset(l, 0, sizeof(*l));
	if ((error = hyper_malloc(sizeof(struct callout), 0, &mem)) != 0) {
		lwp_keep(k, l);
		return error;
	}
	l->l_timeout_ch = mem;
	if ((error = hyper_cv_init(&l->l_hcv)) != 0) {
		hyper_free(l->l_timeout_ch, sizeof(struct callout));
		lwp_keep(k, l);
		return error;
	}
	l->l_kernel = k;
	l->l_flags = flags;
	if (ci != NULL) {
		l->l_flags |= LW_BOUND;
		l->l_boundcpu = ci;
	}
	l->l_lastcpu = ci != NULL ? ci : &k->k_cpus[0];
	list_node_init(&l->l_sleepq);
	callout_init_cpu(l->l_timeout_ch, CALLOUT_MPSAFE, l->l_lastcpu);
	if (name != NULL) {
		size_t n = strlen(name);

		if (n >= sizeof(l->l_name))
			n = sizeof(l->l_name) - 1;
		memcpy(l->l_name, name, n);
	}
	atomic_fetch_add(&k->k_nlwps, 1);
	*lp = l;
	return 0;
}

void
lwp_destroy(struct lwp *l)
{
	KASSERT(l->l_cpu == NULL);
	KASSERT(!list_linked(&l->l_sleepq));
	/* a late signal of a kept wake-up may still be on its way */
	while (atomic_load_explicit(&l->l_wakeref, memory_order_acquire) != 0)
		hyper_thread_yield();
	atomic_fetch_sub(&l->l_kernel->k_nlwps, 1);
	callout_destroy(l->l_timeout_ch);
	hyper_cv_destroy(l->l_hcv);
	hyper_free(l->l_timeout_ch, sizeof(struct callout));
	lwp_keep(l->l_kernel, l);
}

static bool
sched_try(struct cpu_info *ci, struct lwp *l)
{
	struct lwp *expect = NULL;

	return atomic_compare_exchange_strong_explicit(&ci->ci_owner, &expect,
	    l, memory_order_seq_cst, memory_order_relaxed);
}

static struct cpu_info *
sched_try_any(struct rump_kernel *k, struct lwp *l)
{
	if (l->l_flags & LW_BOUND)
		return sched_try(l->l_boundcpu, l) ? l->l_boundcpu : NULL;
	if (sched_try(l->l_lastcpu, l))
		return l->l_lastcpu;
	for (unsigned i = 0; i < k->k_ncpu; i++)
		if (sched_try(&k->k_cpus[i], l))
			return &k->k_cpus[i];
	return NULL;
}

static void __attribute__((__noinline__))
sched_acquire_slow(struct lwp *l)
{
	struct rump_kernel *k = l->l_kernel;
	struct cpu_info *ci;

	hyper_mutex_enter(k->k_schedmtx);
	atomic_fetch_add(&k->k_schedwaiters, 1);
	while ((ci = sched_try_any(k, l)) == NULL)
		hyper_cv_wait(k->k_schedcv, k->k_schedmtx);
	atomic_fetch_sub(&k->k_schedwaiters, 1);
	hyper_mutex_exit(k->k_schedmtx);
	l->l_cpu = ci;
	l->l_lastcpu = ci;
	ci->ci_nschedule++;
}

void
sched_acquire(struct lwp *l)
{
	struct cpu_info *ci = l->l_lastcpu;

	if (likely(sched_try(ci, l))) {
		l->l_cpu = ci;
		ci->ci_nschedule++;
		return;
	}
	sched_acquire_slow(l);
}

void
sched_release(struct lwp *l)
{
	struct cpu_info *ci = l->l_cpu;
	struct rump_kernel *k = l->l_kernel;
	struct lwp *wq[CPU_WAKEQ];
	unsigned nwake;

	KASSERT(atomic_load_explicit(&ci->ci_owner, memory_order_relaxed) == l);
	if (unlikely(k->k_softint_inline &&
	    (ci->ci_softpending & ~ci->ci_softrunning) != 0))
		softint_kick_helper(ci, l);	/* a sleeper: see softint.h */
	kern_clock_refresh(ci);
	/* the wake-ups kept while we held it (kern_sleepq.c) */
	if ((nwake = ci->ci_nwake) != 0) {
		memcpy(wq, ci->ci_wakeq, nwake * sizeof(wq[0]));
		ci->ci_nwake = 0;
	}
	l->l_cpu = NULL;
	atomic_store_explicit(&ci->ci_owner, NULL, memory_order_seq_cst);
	if (unlikely(atomic_load_explicit(&k->k_schedwaiters,
	    memory_order_seq_cst) != 0)) {
		hyper_mutex_enter(k->k_schedmtx);
		hyper_cv_broadcast(k->k_schedcv);
		hyper_mutex_exit(k->k_schedmtx);
	}
	if (nwake != 0)
		sleepq_flush(wq, nwake);
}

void
sched_release_softints(struct lwp *l)
{
	struct cpu_info *ci = l->l_cpu;

	if (l->l_kernel->k_softint_inline && ci->ci_softpending != 0 &&
	    !(l->l_flags & LW_SOFTINT))
		softint_run_inline(ci);
	sched_release(l);
}

void
rump_schedule(void)
{
	struct lwp *l = curlwp;

	KASSERT(l != NULL);
	KASSERT(l->l_cpu == NULL);
	sched_acquire(l);
}

static void
implicit_put(struct lwp *l)
{
	struct rump_kernel *k = l->l_kernel;

	curlwp_set(l->l_saved);
	l->l_saved = NULL;
	hyper_mutex_enter(k->k_implicit_mtx);
	l->l_freenext = k->k_implicit_free;
	k->k_implicit_free = l;
	hyper_mutex_exit(k->k_implicit_mtx);
}

void
rump_unschedule(void)
{
	struct lwp *l = curlwp;

	KASSERT(l != NULL && l->l_cpu != NULL);
	sched_release_softints(l);
	if (l->l_flags & LW_IMPLICIT)
		implicit_put(l);
}

int
rump_schedule_kernel(struct rump_kernel *k)
{
	struct lwp *cur = curlwp, *l;
	int error;

	if (cur != NULL && cur->l_kernel == k) {
		KASSERT(cur->l_cpu == NULL);	/* no nested entry */
		sched_acquire(cur);
		return 0;
	}
	hyper_mutex_enter(k->k_implicit_mtx);
	if ((l = k->k_implicit_free) != NULL)
		k->k_implicit_free = l->l_freenext;
	hyper_mutex_exit(k->k_implicit_mtx);
	if (l == NULL) {
		error = lwp_create(k, LW_IMPLICIT, NULL, "implicit", &l);
		if (error)
			return error;
	}
	l->l_freenext = NULL;
	l->l_saved = cur;
	curlwp_set(l);
	sched_acquire(l);
	return 0;
}

/* Free the cached implicit LWPs (instance teardown). */
void
sched_implicit_drain(struct rump_kernel *k)
{
	struct lwp *l;

	while ((l = k->k_implicit_free) != NULL) {
		k->k_implicit_free = l->l_freenext;
		lwp_destroy(l);
	}
}
