/*
 * kernel.h -- struct rump_kernel: one kernel instance and everything it
 * owns.  No kernel state lives outside it; code reaches it from the object at
 * hand or from curlwp->l_kernel.
 */
#ifndef KERN_KERNEL_H
#define KERN_KERNEL_H

#include "libkern.h"
#include "list.h"
#include "lwp.h"
#include "sleepq.h"
#include "pool.h"
#include "../../include/rumpnet/kernel.h"

#define RUMP_MAXCPUS 64

struct rump_kernel {
	struct rump_kernel_config k_cfg;	/* [I] */
	unsigned k_ncpu;			/* [I] */
	struct cpu_info *k_cpus;		/* [I] k_ncpu vCPUs */
	bool k_softint_inline;			/* [I] */

	/* vCPU hand-off: waiters sleep on k_schedcv */
	struct hyper_mtx *k_schedmtx;
	struct hyper_cv *k_schedcv;
	_Atomic unsigned k_schedwaiters;	/* [a] */

	struct sleepq_chain k_sleepq[SLEEPQ_NCHAINS];
	struct sleepq_chain k_turnstile[SLEEPQ_NCHAINS];

	/* clock */
	bool k_vclock;				/* [I] virtual clock */
	_Atomic uint64_t k_vclock_ns;		/* [a] virtual time */
	uint64_t k_boot_ns;			/* [I] real clock at creation */
	uint64_t k_boot_wall_ns;		/* [I] wall clock at creation */

	/* pools */
	struct hyper_mtx *k_pools_mtx;
	struct list_node k_pools;		/* [k_pools_mtx] */
	pool_cache_t *k_mbpool;			/* [I] */
	pool_cache_t *k_clpool;			/* [I] */
	pool_cache_t *k_jclpool;		/* [I] jumbo clusters, or NULL */
	pool_cache_t *k_extpool;		/* [I] m_ext of attached buffers */
	/*
	 * a driver gave up waiting for frames it lent a port (their data is
	 * in these pools): mbuf_fini() leaves the pools' memory be
	 */
	_Atomic bool k_mbuf_lent;

	/* LWPs */
	_Atomic int k_nlwps;			/* [a] alive */
	struct hyper_mtx *k_implicit_mtx;
	struct lwp *k_implicit_free;		/* [k_implicit_mtx] */
	struct lwp *k_lwp_free;			/* [k_implicit_mtx] lwp_destroy() */

	/* soft interrupts and clock */
	void *k_softclock;			/* [I] cookie */
	struct lwp **k_softthreads;		/* [I] threads mode */
	struct lwp **k_clockthreads;		/* [I] real clock */
	struct lwp **k_vclocklwps;		/* [I] virtual clock, per vCPU */
	struct hyper_mtx *k_vclock_mtx;		/* one advance at a time */
	_Atomic int k_nbound;			/* [a] host threads bound */

	struct netstack *k_net;			/* [I] net/netstack.h */
	_Atomic bool k_exiting;			/* [a] */
};

struct netstack;
int netstack_init(struct rump_kernel *k);
void netstack_fini(struct rump_kernel *k);

/* kern_clock.c */
uint64_t kern_clock_read(struct rump_kernel *k);
uint64_t kern_clock_ticks(struct rump_kernel *k);
/*
 * kern_clock_wall: the time of day in ns since the Unix epoch: the host's
 * now; on a virtual clock, the host's at creation plus the virtual time
 * since (so that a run repeats).
 */
uint64_t kern_clock_wall(struct rump_kernel *k);

/*
 * The instance's clock in ns: what its holder read first in this stretch
 * of work on the vCPU (kern_clock.c; never kept on a virtual clock), else
 * kern_clock_read()
 */
static inline uint64_t
kern_clock_ns(struct rump_kernel *k)
{
	struct lwp *l = curlwp;
	struct cpu_info *ci = l != NULL ? l->l_cpu : NULL;

	if (ci != NULL && ci->ci_clock_ns != 0 && ci->ci_kernel == k)
		return ci->ci_clock_ns;
	return kern_clock_read(k);
}
int clock_init(struct rump_kernel *k);
void clock_fini(struct rump_kernel *k);

#endif /* KERN_KERNEL_H */
