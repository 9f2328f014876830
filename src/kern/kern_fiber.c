/*
 * kern_fiber.c -- application fibers: LWPs that run as cooperative fibers
 * of one host thread (the public API is in include/rumpnet/kernel.h).
 *
 * rump_fiber_spawn() -> lwp_create() + hyper_fiber_create() -> fiber_start():
 *     curlwp_set(), fn(arg), fiber_exited(), lwp_destroy(), hyper_fiber_exit()
 * rump_fiber_run(): park the host thread's main fiber until its fibers end
 *
 * A fiber LWP that sleeps in the kernel parks its fiber (kern_sleepq.c), so
 * the other fibers of the host thread, and a driver's poll loop running as a
 * fiber there (KTHREAD_FIBER), run in the meantime: the core is shared
 * without preemption and without host thread wake-ups.  Every place where a
 * fiber comes back from a switch sets curlwp again, since the fibers that ran
 * in between set theirs.
 */
#include "kernel.h"
#include "kthread.h"

#define FIBER_STACK_MAX (64u << 20)

static void
fiber_start(void *arg)
{
	struct lwp *l = arg;
	struct rump_kernel *k = l->l_kernel;

	curlwp_set(l);
	l->l_func(l->l_arg);
	KASSERT(curlwp == l && l->l_cpu == NULL);
	curlwp_set(NULL);
	fiber_exited();
	atomic_fetch_sub(&k->k_nbound, 1);
	lwp_destroy(l);
	hyper_fiber_exit();
}

int
fiber_adopt(struct lwp *l)
{
	if (l->l_fiber == NULL)
		(void)hyper_fiber_self(&l->l_fiber);
	return 0;
}

void
fiber_exited(void)
{
	/* the last one wakes rump_fiber_run(): the exiting one still counts */
	if (hyper_fiber_count() <= 2)
		hyper_fiber_unpark(hyper_fiber_get_main());
}

int
rump_fiber_spawn(struct rump_kernel *k, void (*fn)(void *), void *arg,
    size_t stacksize)
{
	struct lwp *cur = curlwp, *l;
	int error;

	if (k == NULL || fn == NULL || stacksize > FIBER_STACK_MAX)
		return hyper_errno_to_host(EINVAL);
	if (cur != NULL && cur->l_cpu != NULL)
		return hyper_errno_to_host(EBUSY);	/* inside the kernel */
	if ((error = lwp_create(k, 0, NULL, "fiber", &l)) != 0)
		return hyper_errno_to_host(error);
	l->l_func = fn;
	l->l_arg = arg;
	if ((error = hyper_fiber_create(fiber_start, l, stacksize,
	    &l->l_fiber)) != 0) {
		lwp_destroy(l);
		return hyper_errno_to_host(error);
	}
	atomic_fetch_add(&k->k_nbound, 1);
	if (cur != NULL && !(cur->l_flags & LW_IMPLICIT))
		(void)fiber_adopt(cur);
	return 0;
}

void
rump_fiber_yield(void)
{
	struct lwp *l = curlwp;

	KASSERT(l == NULL || l->l_cpu == NULL);
	hyper_fiber_yield();
	curlwp_set(l);
}

int
rump_fiber_run(void)
{
	struct lwp *l = curlwp;

	if (l != NULL && l->l_cpu != NULL)
		return hyper_errno_to_host(EBUSY);
	if (!hyper_fiber_in_main())
		return hyper_errno_to_host(EINVAL);
	while (hyper_fiber_count() > 1) {
		(void)hyper_fiber_park();
		curlwp_set(l);
	}
	return 0;
}
