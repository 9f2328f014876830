/*
 * lwp.h -- LWPs, virtual CPUs and the scheduler that hands vCPUs to host
 * threads.
 *
 * Owners of fields (OpenBSD-style legend):
 *   [I] immutable after creation
 *   [C] touched only by the LWP currently holding the vCPU (ci_owner)
 *   [a] atomic
 *   [S] under the sleep queue / turnstile chain's host mutex
 *   [H] host side only: the host thread running the LWP
 *
 * A host thread enters the kernel with rump_schedule(): one compare-and-swap
 * on the vCPU the LWP ran on last (fast path), else a wait for any free vCPU
 * (or the bound one).  rump_unschedule() gives the vCPU back; before that it
 * runs pending soft interrupts inline when the instance's softint mode is
 * "inline" (softint.c).
 */
#ifndef KERN_LWP_H
#define KERN_LWP_H

#include "libkern.h"
#include "list.h"
#include "softint.h"
#include "../hyper/hyper.h"

struct rump_kernel;
struct callout_cpu;
struct sleepq_chain;

/* l_flags */
#define LW_INTR 0x01	 /* hardware interrupt LWP (a driver's poll loop) */
#define LW_SOFTINT 0x02	 /* runs soft interrupt handlers */
#define LW_IMPLICIT 0x04 /* lent to an unbound host thread for one call */
#define LW_SYSTEM 0x08	 /* kernel thread */
#define LW_BOUND 0x10	 /* may only run on l_boundcpu */
#define LW_MUSTJOIN 0x20 /* kernel thread freed by kthread_join() */

struct lwp {
	struct cpu_info *l_cpu;		/* [C] vCPU held now, or NULL */
	struct cpu_info *l_lastcpu;	/* [H] vCPU held last */
	struct cpu_info *l_boundcpu;	/* [I] the only vCPU, if LW_BOUND */
	struct rump_kernel *l_kernel;	/* [I] */
	unsigned l_flags;		/* [I] LW_* */
	/* sleeping */
	struct list_node l_sleepq;	/* [S] on a sleep queue or turnstile */
	const void *l_wchan;		/* [S] what it sleeps on */
	bool l_woken;			/* [S] set by the waker */
	bool l_timedout;		/* [S] set by the timeout callout */
	bool l_sleeptimed;		/* [H] this sleep armed l_timeout_ch */
	bool l_timeout_armed;		/* [S of l_timeout_chain] */
	struct sleepq_chain *l_timeout_chain;	/* [H] chain of the timed sleep */
	struct hyper_cv *l_hcv;		/* [I] host condvar it blocks on */
	struct hyper_fiber *l_fiber;	/* [H] runs as this fiber: parks
					   instead of blocking on l_hcv */
	struct callout *l_timeout_ch;	/* [I] sleep timeout */
	/* bookkeeping */
	struct lwp *l_saved;		/* [H] curlwp before an implicit LWP */
	struct lwp *l_freenext;		/* implicit LWPs', destroyed LWPs' list */
	struct hyper_thread *l_thread;	/* [I] kernel thread's host thread */
	void (*l_func)(void *);		/* [I] kernel thread body */
	void *l_arg;			/* [I] */
	_Atomic bool l_exited;		/* [a] kernel thread has returned */
	_Atomic unsigned l_wakeref;	/* [a] held wake-ups not yet signalled
					   (kern_sleepq.c): its l_hcv stays */
	char l_name[16];		/* [I] */
} __cacheline_aligned;

#define CPU_WAKEQ 8

struct cpu_info {
	_Atomic(struct lwp *) ci_owner;		/* [a] LWP on this vCPU */
	struct rump_kernel *ci_kernel;		/* [I] */
	unsigned ci_index;			/* [I] */
	/* soft interrupts */
	unsigned ci_softpending;		/* [C] levels with work queued */
	unsigned ci_softrunning;		/* [C] levels with a handler running */
	struct softint_queue ci_softq[SOFTINT_COUNT];	/* [C] */
	struct lwp *ci_softlwp[SOFTINT_COUNT];	/* [I] handler context */
	struct lwp *ci_softhelper;		/* [I] inline mode: see softint.h */
	/* callouts */
	struct callout_cpu *ci_cc;		/* [I] */
	/*
	 * kern_clock_ns() as first read by the holder since the vCPU was
	 * taken, a softint handler began or a busy poll went round; 0: read
	 * the host's clock (kern_clock_refresh())
	 */
	uint64_t ci_clock_ns;			/* [C] */
	/*
	 * host threads woken while the vCPU is held, signalled when it is
	 * released (kern_sleepq.c)
	 */
	struct lwp *ci_wakeq[CPU_WAKEQ];	/* [C] */
	unsigned ci_nwake;			/* [C] */
	/* statistics */
	uint64_t ci_nschedule;			/* [C] */
	uint64_t ci_nsoftint;			/* [C] handlers run */
} __cacheline_aligned;

/* ---- curlwp ---- */

#ifdef RUMP_CURLWP_HYPERCALL
#define curlwp (hyper_curlwp_get())
static inline void
curlwp_set(struct lwp *l)
{
	hyper_curlwp_set(l);
}
#else
extern __thread struct lwp *rump_curlwp_tls;
#define curlwp (rump_curlwp_tls)
static inline void
curlwp_set(struct lwp *l)
{
	rump_curlwp_tls = l;
}
#endif

#define curcpu() (curlwp->l_cpu)

/* The next kern_clock_ns() on ci reads the host's clock (kern_clock.c). */
static inline void
kern_clock_refresh(struct cpu_info *ci)
{
	ci->ci_clock_ns = 0;
}

/* ---- LWPs ---- */

/*
 * lwp_create: a new LWP of kernel k with LW_* flags, bound to ci when ci is
 * not NULL.  Returns 0 or ENOMEM.
 */
int lwp_create(struct rump_kernel *k, unsigned flags, struct cpu_info *ci,
    const char *name, struct lwp **lp);
/* lwp_destroy: free an LWP that holds no vCPU and sleeps nowhere. */
void lwp_destroy(struct lwp *l);
/* lwp_free_all: the memory of k's destroyed LWPs (instance teardown). */
void lwp_free_all(struct rump_kernel *k);

/* ---- scheduling ---- */

/*
 * rump_schedule: give the calling host thread's LWP (curlwp, set by
 * rump_thread_bind() or kthread_create()) a vCPU.  Blocks while none is free.
 */
void rump_schedule(void);
/*
 * rump_unschedule: give the vCPU back; in inline mode, first run the soft
 * interrupts that are pending on it.  The caller holds no kernel lock.
 */
void rump_unschedule(void);
/*
 * rump_schedule_kernel: like rump_schedule() for a host thread that may not
 * be bound to k: it then borrows an implicit LWP, returned by the matching
 * rump_unschedule().  Returns 0 or ENOMEM.
 */
int rump_schedule_kernel(struct rump_kernel *k);

/* sched_implicit_drain: free the cached implicit LWPs (teardown). */
void sched_implicit_drain(struct rump_kernel *k);

/*
 * sched_release/sched_acquire: give up and take a vCPU.  sched_release() is
 * what a sleep uses: the LWP may hold locks, so it never runs soft
 * interrupts itself; in inline mode it hands pending ones to the vCPU's
 * softint helper.  sched_release_softints() is the top-level release (no
 * lock held): in inline mode it runs pending soft interrupts first.
 */
void sched_release(struct lwp *l);
void sched_release_softints(struct lwp *l);
void sched_acquire(struct lwp *l);

#endif /* KERN_LWP_H */
