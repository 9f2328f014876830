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

/*
 * kthread_create: start fn(arg) in a new kernel thread of k.  The thread
 * starts holding a vCPU (ci, or any when ci is NULL) and gives it back when
 * fn returns or calls kthread_exit().  With KTHREAD_MUSTJOIN, *lp receives
 * the LWP to pass to kthread_join().  Returns 0, ENOMEM or EAGAIN.
 */
int kthread_create(struct rump_kernel *k, unsigned flags, struct cpu_info *ci,
    void (*fn)(void *), void *arg, const char *name, struct lwp **lp);
/* kthread_exit: end the calling kernel thread. */
void kthread_exit(int ecode) __attribute__((__noreturn__));
/* kthread_join: wait for a KTHREAD_MUSTJOIN thread and free it. */
int kthread_join(struct lwp *l);

#endif /* KERN_KTHREAD_H */
