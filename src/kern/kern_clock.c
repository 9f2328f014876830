/*
 * kern_clock.c -- an instance's clock: the host's monotonic clock (through
 * a hypercall) or a virtual clock that only rump_clock_advance() moves, and
 * the hardclock kernel threads that tick callouts on a real clock when no
 * driver poll loop does.
 *
 * Everything time-based in the kernel reads kern_clock_ns()/ticks, so a
 * test on a virtual clock controls all of it.
 *
 * On the real clock the time is read once per stretch of work on a vCPU
 * and kept in ci_clock_ns: one hold of the vCPU (a system call, a pass of
 * a driver's poll loop), one softint handler, one round of a busy poll.
 * A packet's way through the stack then costs one host clock read instead
 * of one per timer, timestamp and RACK record (each ~30 ns, a third of the
 * CPU time of rr before), the way Linux's TCP reads its clock once per
 * batch (tcp_mstamp_refresh()).  Within a stretch time stands still, as
 * it does on the virtual clock; everything that waits for time to pass
 * sleeps (and so lets go of the vCPU) or reads the host's clock itself.
 */
#include "kernel.h"
#include "callout.h"
#include "kthread.h"
#include "softint.h"

#define NS_PER_TICK (1000000000u / hz)

uint64_t
kern_clock_read(struct rump_kernel *k)
{
	struct lwp *l;
	struct cpu_info *ci;
	uint64_t now;

	if (k->k_vclock)
		return atomic_load_explicit(&k->k_vclock_ns,
		    memory_order_acquire);
	/* l_cpu is set only while l holds that vCPU */
	l = curlwp;
	ci = l != NULL ? l->l_cpu : NULL;
	if (ci != NULL && ci->ci_kernel == k) {
		if (ci->ci_clock_ns == 0) {
			hyper_clock_gettime(HYPER_CLOCK_MONO, &now);
			ci->ci_clock_ns = now - k->k_boot_ns;
		}
		return ci->ci_clock_ns;
	}
	hyper_clock_gettime(HYPER_CLOCK_MONO, &now);
	return now - k->k_boot_ns;
}

uint64_t
kern_clock_wall(struct rump_kernel *k)
{
	uint64_t now;

	if (k->k_vclock)
		return k->k_boot_wall_ns + kern_clock_read(k);
	hyper_clock_gettime(HYPER_CLOCK_WALL, &now);
	return now;
}

uint64_t
kern_clock_ticks(struct rump_kernel *k)
{
	return kern_clock_ns(k) / NS_PER_TICK;
}

/* One per vCPU on a real clock: a 1 kHz hardware clock interrupt. */
static void
clock_thread(void *arg)
{
	struct lwp *l = curlwp;
	struct rump_kernel *k = l->l_kernel;

	(void)arg;
	while (!atomic_load(&k->k_exiting)) {
		hardclock();
		sched_release_softints(l);
		hyper_clock_sleep(NS_PER_TICK);
		sched_acquire(l);
	}
}

int
clock_init(struct rump_kernel *k)
{
	void *mem;
	int error;

	k->k_softclock = softint_establish(k, SOFTINT_CLOCK | SOFTINT_MPSAFE,
	    softclock, NULL);
	if (k->k_softclock == NULL)
		return ENOMEM;
	if (k->k_vclock || !k->k_cfg.clock_thread)
		return 0;
	error = hyper_malloc(k->k_ncpu * sizeof(struct lwp *), 0, &mem);
	if (error)
		return error;
	k->k_clockthreads = mem;
	memset(mem, 0, k->k_ncpu * sizeof(struct lwp *));
	for (unsigned i = 0; i < k->k_ncpu; i++) {
		error = kthread_create(k, KTHREAD_MUSTJOIN | KTHREAD_INTR,
		    &k->k_cpus[i], clock_thread, NULL, "hardclock",
		    &k->k_clockthreads[i]);
		if (error)
			return error;
	}
	return 0;
}

/* Stops the clock threads; k_exiting is set. */
void
clock_fini(struct rump_kernel *k)
{
	if (k->k_clockthreads != NULL) {
		for (unsigned i = 0; i < k->k_ncpu; i++)
			if (k->k_clockthreads[i] != NULL)
				kthread_join(k->k_clockthreads[i]);
		hyper_free(k->k_clockthreads, k->k_ncpu * sizeof(struct lwp *));
		k->k_clockthreads = NULL;
	}
}
