/*
 * rumpnet/kernel.h -- creating rumpnet kernel instances and binding host
 * threads to them.
 *
 * Every function here returns 0 or a host errno value (the same numbers as
 * <errno.h>), unless it says otherwise.
 */
#ifndef RUMPNET_KERNEL_H
#define RUMPNET_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rump_kernel;

enum rump_softint_mode {
	RUMP_SOFTINT_INLINE = 0,	/* run in rump_unschedule() (default) */
	RUMP_SOFTINT_THREADS = 1,	/* one host thread per level per vCPU */
};

enum rump_clock_kind {
	RUMP_CLOCK_REAL = 0,		/* the host's monotonic clock */
	RUMP_CLOCK_VIRTUAL = 1,		/* moved only by rump_clock_advance() */
};

struct rump_kernel_config {
	unsigned ncpu;			/* virtual CPUs, 1..64 (1 with locks=up) */
	enum rump_softint_mode softint_mode;
	enum rump_clock_kind clock;
	/*
	 * Real clock only: start one kernel thread per vCPU that ticks the
	 * callout wheel every millisecond.  Turn it off when a driver's poll
	 * loop calls rump_intr_tick() instead.
	 */
	bool clock_thread;
	unsigned mbuf_limit;		/* mbufs at most (0: 65536) */
	unsigned cluster_limit;		/* clusters at most (0: 32768) */
	/*
	 * Sockets at most (0: 65536), what the BSDs call kern.ipc.maxsockets:
	 * those with a descriptor, those on a listener's queues and those
	 * the application closed whose connection is still finishing.
	 * Beyond it socket() fails with ENOBUFS and a listener drops a new
	 * connection's SYN (tcp.nosocket; the peer's next SYN may find a
	 * socket free).  The pool "socket" of rump_kernel_pool_stats()
	 * counts them (nfail: sockets refused).  Each socket has at most one
	 * protocol control block (pool "inpcb"), and a TCP connection in
	 * TIME-WAIT keeps one without a socket (at most 65536 of those), so
	 * with mbuf_limit, cluster_limit and jumbo_limit this bounds an
	 * instance's memory.
	 */
	unsigned socket_limit;
	/*
	 * Jumbo clusters (16 KiB) at most: stream sends and large frames
	 * copied in take them for bulk data (a 64 KiB send in 4 buffers,
	 * not 32; pieces under 12 KiB take clusters).  0: 4096 (64 MiB, as
	 * much as the clusters), or none when cluster_limit is set (that
	 * limit then bounds the bulk memory, as before there were jumbo
	 * clusters: raising it turns them off unless this is set too).
	 */
	unsigned jumbo_limit;
};

/* rump_kernel_config_default: one vCPU, inline softints, real clock. */
void rump_kernel_config_default(struct rump_kernel_config *cfg);

/*
 * rump_kernel_create: start an instance.  Returns 0 and *kp, EINVAL for a
 * bad configuration (with locks=up: ncpu > 1, and a message on stderr),
 * ENOMEM, EAGAIN (no host threads) or EPROTO (hypercall version mismatch).
 */
int rump_kernel_create(const struct rump_kernel_config *cfg,
    struct rump_kernel **kp);
/*
 * rump_kernel_destroy: stop the instance's threads and free it.  No host
 * thread may be bound to it any more.  Returns 0 or EBUSY (threads still
 * bound; nothing was freed).
 */
int rump_kernel_destroy(struct rump_kernel *k);

/*
 * rump_thread_bind: bind the calling host thread to k with an LWP of its
 * own.  Returns 0, EBUSY (already bound) or ENOMEM.
 */
int rump_thread_bind(struct rump_kernel *k);
/*
 * rump_intr_bind: bind the calling host thread as a hardware interrupt LWP
 * of vCPU cpu of k (a driver's poll loop).  Returns 0, EBUSY, EINVAL (no such
 * vCPU) or ENOMEM.
 */
int rump_intr_bind(struct rump_kernel *k, unsigned cpu);
/* rump_thread_unbind: undo either binding.  Returns 0 or EINVAL (unbound). */
int rump_thread_unbind(void);

/* ---- fibers ----
 *
 * A fiber is a cooperative thread of the host thread that spawns it, with an
 * LWP of its own: it calls rump_sys_*() like any bound thread, and a call that
 * blocks parks the fiber and runs the thread's next runnable fiber instead of
 * blocking the host thread.  Fibers never migrate and are never preempted;
 * they switch only when they block in the kernel, call rump_fiber_yield() or
 * end.  A driver's poll loop can run as a fiber of the same thread (see
 * rump_dpdk_config.fiber), so the poll loop, soft interrupts and the
 * application's fibers share one core without host thread wake-ups.  Once a
 * bound thread has fibers, its own blocking calls park it the same way.
 */

/*
 * rump_fiber_spawn: a new fiber of the calling host thread, bound to k, that
 * runs fn(arg) on a stack of stacksize bytes (0: 64 KiB) and ends when fn
 * returns.  It first runs when the caller blocks, yields or calls
 * rump_fiber_run().  Returns 0, EINVAL (k or fn NULL, stacksize above
 * 64 MiB), EBUSY (called from inside the kernel) or ENOMEM.
 */
int rump_fiber_spawn(struct rump_kernel *k, void (*fn)(void *), void *arg,
    size_t stacksize);
/* rump_fiber_yield: let the calling thread's other runnable fibers run. */
void rump_fiber_yield(void);
/*
 * rump_fiber_run: run the calling host thread's fibers until all that
 * rump_fiber_spawn() made have ended (a poll loop running as a fiber here
 * keeps running until its interface goes away); the thread sleeps while
 * none is runnable.  Returns 0, EBUSY (called from inside the kernel) or
 * EINVAL (called from a fiber).
 */
int rump_fiber_run(void);

/*
 * rump_intr_tick: called by a hardware interrupt LWP's loop between
 * rump_schedule() and rump_unschedule(): raises softclock when the clock
 * passed a tick.
 */
void rump_intr_tick(void);

/*
 * rump_clock_advance: move a virtual clock forward by ns and run, on every
 * vCPU, the callouts that expired; returns when they have run.  EINVAL on a
 * real clock.
 */
int rump_clock_advance(struct rump_kernel *k, uint64_t ns);
/* rump_clock_now: the instance's clock, nanoseconds since creation. */
uint64_t rump_clock_now(struct rump_kernel *k);

struct rump_pool_stat {
	char name[24];
	uint64_t nget;			/* objects handed out */
	uint64_t nput;			/* objects given back */
	uint64_t nfail;			/* requests refused */
	unsigned nobjects;		/* objects created */
	unsigned hardlimit;		/* 0: none */
};

/*
 * rump_kernel_pool_stats: up to *n pool records into out; *n becomes the
 * number of pools.  Returns 0.
 */
int rump_kernel_pool_stats(struct rump_kernel *k, struct rump_pool_stat *out,
    unsigned *n);
/*
 * rump_kernel_leaks: objects of any of the instance's pools (mbufs,
 * clusters, and every pool later subsystems create) not given back.
 * 0 means clean; tests assert it at the end.
 */
uint64_t rump_kernel_leaks(struct rump_kernel *k);

/* rump_build_options: the compile-time options, e.g. "locks=mp curlwp=tls". */
const char *rump_build_options(void);

#ifdef __cplusplus
}
#endif

#endif /* RUMPNET_KERNEL_H */
