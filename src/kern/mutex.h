/*
 * mutex.h -- kernel mutexes with NetBSD's interface (mutex(9)).
 *
 * The lock word holds the owning LWP, with MUTEX_BIT_WAITERS set when some
 * LWP sleeps on the lock's turnstile.  Two builds:
 *  - -Dlocks=mp: enter/exit are one compare-and-swap; contended entries spin
 *    briefly, then sleep on a turnstile (sleepq.c) and release the vCPU.
 *  - -Dlocks=up (RUMP_LOCKS_UP): an instance has one vCPU, so whoever runs
 *    kernel code holds that vCPU and the lock word needs no atomic operation:
 *    enter/exit are a plain load and store.  The only contention left is an
 *    owner that went to sleep holding the lock; the waiter then sleeps on the
 *    turnstile with the vCPU as the interlock.
 * Mutexes are not recursive; kernel code must not return to the host
 * (rump_unschedule()) with a mutex held: that is what lets rump_unschedule()
 * run soft interrupts inline.
 */
#ifndef KERN_MUTEX_H
#define KERN_MUTEX_H

#include "libkern.h"
#include "lwp.h"

typedef struct kmutex {
	_Atomic uintptr_t mtx_owner;	/* LWP | MUTEX_BIT_WAITERS, 0 if free */
} kmutex_t;

#define MUTEX_BIT_WAITERS ((uintptr_t)1)

/* NetBSD's type and IPL arguments; every kmutex here is adaptive. */
typedef enum { MUTEX_DEFAULT, MUTEX_DRIVER, MUTEX_SPIN } kmutex_type_t;
#define IPL_NONE 0
#define IPL_SOFTCLOCK 1
#define IPL_SOFTNET 2
#define IPL_VM 3
#define IPL_NET IPL_VM
#define IPL_SCHED 4
#define IPL_HIGH 5

void mutex_init(kmutex_t *m, kmutex_type_t type, int ipl);
void mutex_destroy(kmutex_t *m);
void mutex_enter_slow(kmutex_t *m, struct lwp *l);
void mutex_exit_slow(kmutex_t *m, struct lwp *l);

/* mutex_enter: take m, sleeping (vCPU released) while another LWP has it. */
static inline void
mutex_enter(kmutex_t *m)
{
	struct lwp *l = curlwp;

#ifdef RUMP_LOCKS_UP
	if (likely(atomic_load_explicit(&m->mtx_owner,
	    memory_order_relaxed) == 0)) {
		atomic_store_explicit(&m->mtx_owner, (uintptr_t)l,
		    memory_order_relaxed);
		return;
	}
#else
	uintptr_t free_word = 0;

	if (likely(atomic_compare_exchange_strong_explicit(&m->mtx_owner,
	    &free_word, (uintptr_t)l, memory_order_acquire,
	    memory_order_relaxed))) {
		return;
	}
#endif
	mutex_enter_slow(m, l);
}

/* mutex_exit: release m (held by curlwp) and wake its sleepers, if any. */
static inline void
mutex_exit(kmutex_t *m)
{
	struct lwp *l = curlwp;

#ifdef RUMP_LOCKS_UP
	if (likely(atomic_load_explicit(&m->mtx_owner,
	    memory_order_relaxed) == (uintptr_t)l)) {
		atomic_store_explicit(&m->mtx_owner, 0, memory_order_relaxed);
		return;
	}
#else
	uintptr_t mine = (uintptr_t)l;

	if (likely(atomic_compare_exchange_strong_explicit(&m->mtx_owner,
	    &mine, 0, memory_order_release, memory_order_relaxed))) {
		return;
	}
#endif
	mutex_exit_slow(m, l);
}

/* mutex_tryenter: take m if free; returns true when taken. */
bool mutex_tryenter(kmutex_t *m);

/* mutex_owned: whether curlwp holds m (for assertions). */
static inline bool
mutex_owned(const kmutex_t *m)
{
	uintptr_t o = atomic_load_explicit(&m->mtx_owner, memory_order_relaxed);

	return (o & ~MUTEX_BIT_WAITERS) == (uintptr_t)curlwp;
}

#endif /* KERN_MUTEX_H */
