/*
 * callout.h -- timers with NetBSD's interface (callout(9)).
 *
 * Each vCPU keeps a hashed timing wheel of CALLOUT_WHEEL buckets of 1 ms
 * ticks (hz = 1000).  The softclock soft interrupt advances the wheel to the
 * instance's clock (virtual or real) and runs what expired, in expiry order
 * and, for one tick, in the order the callouts were armed; it jumps over
 * ticks before the earliest expiry (so a virtual clock moved by days costs
 * what fires, not a visit per millisecond).  A callout belongs
 * to the vCPU it was initialised on and fires there.
 *
 * callout_reset() from inside the callout's own handler re-arms it;
 * callout_halt() waits for a running handler on another LWP to finish.
 */
#ifndef KERN_CALLOUT_H
#define KERN_CALLOUT_H

#include "libkern.h"
#include "list.h"
#include "mutex.h"
#include "condvar.h"

#define hz 1000
#define CALLOUT_WHEEL 1024
#define CALLOUT_MPSAFE 0x01

/* c_flags */
#define CALLOUT_PENDING 0x02	/* on the wheel */
#define CALLOUT_FIRED 0x04	/* expired since the last reset */
#define CALLOUT_INVOKING 0x08	/* handler running now */

typedef struct callout {
	struct list_node c_link;	/* [cc_lock] wheel bucket */
	struct list_node c_plink;	/* [cc_lock] on cc_pending */
	uint64_t c_time;		/* [cc_lock] expiry tick */
	void (*c_func)(void *);		/* [cc_lock] */
	void *c_arg;			/* [cc_lock] */
	struct callout_cpu *c_cc;	/* [I] owning vCPU's wheel */
	unsigned c_flags;		/* [cc_lock] CALLOUT_* */
	unsigned c_magic;		/* [I] CALLOUT_MAGIC while initialised */
} callout_t;

struct callout_cpu {
	kmutex_t cc_lock;
	uint64_t cc_ticks;		/* [cc_lock] last tick processed */
	unsigned cc_npending;		/* [cc_lock] callouts on the wheel */
	struct list_node cc_pending;	/* [cc_lock] the same, unordered */
	uint64_t cc_next;		/* [cc_lock] none due before it */
	struct callout *cc_running;	/* [cc_lock] handler running now */
	struct lwp *cc_running_lwp;	/* [cc_lock] and who runs it */
	kcondvar_t cc_done;		/* handler finished / ticks advanced */
	struct cpu_info *cc_cpu;	/* [I] */
	struct list_node cc_wheel[CALLOUT_WHEEL];	/* [cc_lock] */
};

/* callout_init: on the current vCPU.  callout_init_cpu: on ci. */
void callout_init(callout_t *c, unsigned flags);
void callout_init_cpu(callout_t *c, unsigned flags, struct cpu_info *ci);
/* callout_destroy: c must be neither pending nor running. */
void callout_destroy(callout_t *c);
void callout_setfunc(callout_t *c, void (*func)(void *), void *arg);
/* callout_reset: fire func(arg) after ticks (>= 1) ticks; replaces any earlier arming. */
void callout_reset(callout_t *c, int ticks, void (*func)(void *), void *arg);
void callout_schedule(callout_t *c, int ticks);
/*
 * callout_reset_clock: as callout_reset, but ticks count from the clock's
 * tick when the wheel is behind it (its softclock has not run yet), so
 * the callout never fires early by the wheel's lag.  For timeouts a user
 * sees (SO_RCVTIMEO and every timed sleep); it reads the clock.
 */
void callout_reset_clock(callout_t *c, int ticks, void (*func)(void *),
    void *arg);
/*
 * callout_stop: disarm.  Returns true when the callout had fired since it was
 * last armed (its handler may still be running), as NetBSD does.
 */
bool callout_stop(callout_t *c);
/*
 * callout_halt: disarm and, if its handler is running on another LWP, wait
 * for it to finish; interlock (may be NULL) is released while waiting.
 * Returns as callout_stop().
 */
bool callout_halt(callout_t *c, kmutex_t *interlock);
bool callout_pending(callout_t *c);
bool callout_expired(callout_t *c);
bool callout_invoking(callout_t *c);
void callout_ack(callout_t *c);

/* Instance plumbing (kern_callout.c). */
int callout_init_cpu_state(struct rump_kernel *k, struct cpu_info *ci);
void callout_fini_cpu_state(struct cpu_info *ci);
void softclock(void *arg);
/* hardclock: raise softclock on curcpu() if the clock passed a tick. */
void hardclock(void);

#endif /* KERN_CALLOUT_H */
