/*
 * softint.h -- soft interrupts with NetBSD's interface.
 *
 * softint_establish() registers a handler at a level; softint_schedule()
 * queues it on the calling vCPU.  Invariants, in both dispatch modes:
 *  - a handler is queued at most once per vCPU (scheduling it again before
 *    it ran is a no-op);
 *  - at most one handler per level per vCPU runs at a time;
 *  - a handler runs on the vCPU that scheduled it;
 *  - it runs only after the LWP that scheduled it released that vCPU, so
 *    never before the hardware interrupt handler that raised it finished.
 *
 * Dispatch modes (struct rump_kernel_config, per instance):
 *  - inline: pending handlers run in rump_unschedule(), on the releasing
 *    host thread (a hardware interrupt LWP's poll loop, or any LWP leaving
 *    the kernel), in the context of a per-level softint LWP.  An LWP that
 *    releases its vCPU to *sleep* may hold locks a handler needs, and its
 *    host thread cannot run a handler that blocks on them; so a sleeper
 *    hands pending handlers to the vCPU's softint helper, a kernel thread
 *    that otherwise sleeps.  The fast path (interrupt LWP raises, releases,
 *    handler runs) wakes no thread.
 *  - threads: one kernel thread per level per vCPU, woken through a sleep
 *    queue (the classic rump kernel behaviour).
 */
#ifndef KERN_SOFTINT_H
#define KERN_SOFTINT_H

/* Levels, lowest priority first; dispatch runs the highest first. */
#define SOFTINT_CLOCK 0
#define SOFTINT_BIO 1
#define SOFTINT_NET 2
#define SOFTINT_SERIAL 3
#define SOFTINT_COUNT 4
#define SOFTINT_LVLMASK 0xff
#define SOFTINT_MPSAFE 0x100

struct rump_kernel;
struct softint_percpu;

struct softint_queue {
	struct softint_percpu *sq_head;
	struct softint_percpu *sq_tail;
};

/*
 * softint_establish: a handler fn(arg) at level (SOFTINT_* | flags) of
 * kernel k.  Returns the cookie, or NULL (bad level, out of memory).
 */
void *softint_establish(struct rump_kernel *k, unsigned flags,
    void (*fn)(void *), void *arg);
/*
 * softint_schedule: queue the handler on the current vCPU.  Callable from
 * any LWP holding a vCPU, including interrupt LWPs and handlers.
 */
void softint_schedule(void *cookie);
/*
 * softint_disestablish: remove a handler.  Waits until it is neither queued
 * nor running on any vCPU.  The caller holds a vCPU.
 */
void softint_disestablish(void *cookie);

/* Used by the scheduler and instance set-up. */
struct cpu_info;
struct lwp;
void softint_run_inline(struct cpu_info *ci);
void softint_kick_helper(struct cpu_info *ci, struct lwp *l);
int softint_init_cpu(struct rump_kernel *k, struct cpu_info *ci);
void softint_fini_cpu(struct rump_kernel *k, struct cpu_info *ci);

#endif /* KERN_SOFTINT_H */
