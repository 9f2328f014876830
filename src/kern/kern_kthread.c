/*
 * kern_kthread.c -- kernel threads.
 *
 * kthread_create() -> hyper_thread_create() -> kthread_start():
 *     curlwp_set(), rump_schedule(), fn(arg), kthread_exit()
 * kthread_create(KTHREAD_FIBER) -> hyper_fiber_create() -> kthread_fiber():
 *     the same, on a fiber of the creating host thread
 */
#include "kernel.h"
#include "kthread.h"

static void *
kthread_start(void *arg)
{
	struct lwp *l = arg;

	curlwp_set(l);
	sched_acquire(l);
	l->l_func(l->l_arg);
	kthread_exit(0);
}

static void
kthread_fiber(void *arg)
{
	(void)kthread_start(arg);
}

int
kthread_create(struct rump_kernel *k, unsigned flags, struct cpu_info *ci,
    void (*fn)(void *), void *arg, const char *name, struct lwp **lp)
{
	unsigned lflags = LW_SYSTEM;
	struct lwp *l;
	int error;

	if (flags & KTHREAD_INTR)
		lflags |= LW_INTR;
	if (flags & KTHREAD_SOFTINT)
		lflags |= LW_SOFTINT;
	if (flags & KTHREAD_MUSTJOIN)
		lflags |= LW_MUSTJOIN;
	if ((error = lwp_create(k, lflags, ci, name, &l)) != 0)
		return error;
	l->l_func = fn;
	l->l_arg = arg;
	if (flags & KTHREAD_FIBER) {
		struct lwp *cur = curlwp;

		if (cur != NULL && !(cur->l_flags & LW_IMPLICIT))
			(void)fiber_adopt(cur);
		error = hyper_fiber_create(kthread_fiber, l, 256 * 1024,
		    &l->l_fiber);
		if (error == 0)		/* rump_fiber_run() does not wait */
			hyper_fiber_daemon(l->l_fiber);
	} else
		error = hyper_thread_create(kthread_start, l, name, -1,
		    (flags & KTHREAD_MUSTJOIN) != 0, &l->l_thread);
	if (error) {
		lwp_destroy(l);
		return error;
	}
	if (lp != NULL)
		*lp = l;
	return 0;
}

void
kthread_exit(int ecode)
{
	struct lwp *l = curlwp;
	bool mustjoin = (l->l_flags & LW_MUSTJOIN) != 0;

	(void)ecode;
	sched_release_softints(l);
	curlwp_set(NULL);
	if (l->l_fiber != NULL) {
		fiber_exited();
		if (!mustjoin)
			lwp_destroy(l);
		else
			atomic_store(&l->l_exited, true);
		hyper_fiber_exit();
	}
	if (!mustjoin)
		lwp_destroy(l);
	else
		atomic_store(&l->l_exited, true);
	hyper_thread_exit();
}

int
kthread_join(struct lwp *l)
{
	int error;

	KASSERT(l->l_flags & LW_MUSTJOIN);
	if (l->l_thread == NULL) {		/* a fiber */
		struct lwp *self = curlwp;

		KASSERT(self == NULL || self->l_cpu == NULL);
		while (!atomic_load(&l->l_exited)) {
			if (hyper_fiber_mine(l->l_fiber)) {
				hyper_fiber_yield();
				curlwp_set(self);
			} else
				hyper_clock_sleep(50000);
		}
		lwp_destroy(l);
		return 0;
	}
	error = hyper_thread_join(l->l_thread);
	lwp_destroy(l);
	return error;
}
