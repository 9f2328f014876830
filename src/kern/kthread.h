/*
 * kthread.h -- kernel threads: a host thread with its own LWP that runs
 * kernel code holding a vCPU (bound to one when ci is given).
 */
#ifndef KERN_KTHREAD_H
#define KERN_KTHREAD_H

#include "lwp.h"

#define KTHREAD_MPSAFE 0x01
#define KTHREAD_MUSTJOIN 0x02
#define KTHREAD_INTR 0x04	/* a hardware interrupt LWP (poll loop) */
#define KTHREAD_SOFTINT 0x08	/* internal: runs softint handlers */
#define KTHREAD_FIBER 0x10	/* a fiber of the calling host thread */

/*
 * kthread_create: start fn(arg) in a new kernel thread of k.  The thread
 * starts holding a vCPU (ci, or any when ci is NULL) and gives it back when
 * fn returns or calls kthread_exit().  With KTHREAD_MUSTJOIN, *lp receives
 * the LWP to pass to kthread_join().  With KTHREAD_FIBER the thread is a
 * fiber of the calling host thread instead of a host thread of its own (it
 * runs when that thread parks or yields; see kern_fiber.c).  Returns 0,
 * ENOMEM or EAGAIN.
 */
int kthread_create(struct rump_kernel *k, unsigned flags, struct cpu_info *ci,
    void (*fn)(void *), void *arg, const char *name, struct lwp **lp);
/* kthread_exit: end the calling kernel thread. */
void kthread_exit(int ecode) __attribute__((__noreturn__));
/*
 * kthread_join: wait for a KTHREAD_MUSTJOIN thread and free it.  The caller
 * holds no vCPU.
 */
int kthread_join(struct lwp *l);

/* ---- fibers (kern_fiber.c) ---- */

/*
 * fiber_adopt: make the calling host thread's LWP l sleep by parking its
 * fiber (the thread's main fiber), so the thread's other fibers run while it
 * sleeps.  No-op for an LWP that already runs as a fiber.  Returns 0.
 */
int fiber_adopt(struct lwp *l);
/* fiber_exited: a fiber of the calling host thread is about to end. */
void fiber_exited(void);

#endif /* KERN_KTHREAD_H */
