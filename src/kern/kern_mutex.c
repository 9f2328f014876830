/*
 * kern_mutex.c -- the slow paths of kernel mutexes (fast paths: mutex.h).
 *
 * mutex_enter() -> mutex_enter_slow(): spin a little while the owner runs
 *     on another vCPU (mp only), then set MUTEX_BIT_WAITERS and sleep on the
 *     mutex's turnstile.
 * mutex_exit() -> mutex_exit_slow(): the waiters bit is set; clear the word
 *     and wake every sleeper under the turnstile chain mutex (they race for
 *     the lock again; losers set the bit again and go back to sleep).
 *
 * Setting the bit and enqueueing happen under the chain mutex, and so does
 * the exit that sees the bit, so no wake-up is lost.
 */
#include "kernel.h"
#include "mutex.h"
#include "sleepq.h"

#define MUTEX_SPINS 1000

static inline uintptr_t
mtx_load(kmutex_t *m)
{
	return atomic_load_explicit(&m->mtx_owner, memory_order_relaxed);
}

/* Compare-and-swap, or its plain equivalent when only one vCPU exists. */
static inline bool
mtx_cas(kmutex_t *m, uintptr_t old, uintptr_t new)
{
#ifdef RUMP_LOCKS_UP
	if (atomic_load_explicit(&m->mtx_owner, memory_order_relaxed) != old)
		return false;
	atomic_store_explicit(&m->mtx_owner, new, memory_order_relaxed);
	return true;
#else
	return atomic_compare_exchange_strong_explicit(&m->mtx_owner, &old,
	    new, memory_order_acq_rel, memory_order_relaxed);
#endif
}

void
mutex_init(kmutex_t *m, kmutex_type_t type, int ipl)
{
	(void)type;
	(void)ipl;
	atomic_init(&m->mtx_owner, 0);
}

void
mutex_destroy(kmutex_t *m)
{
	KASSERT(mtx_load(m) == 0);
}

bool
mutex_tryenter(kmutex_t *m)
{
	return mtx_cas(m, 0, (uintptr_t)curlwp);
}

void
mutex_enter_slow(kmutex_t *m, struct lwp *l)
{
	struct sleepq_chain *ts;
	uintptr_t o;

	if ((mtx_load(m) & ~MUTEX_BIT_WAITERS) == (uintptr_t)l)
		panic("mutex_enter: locking against myself");
#ifndef RUMP_LOCKS_UP
	for (int i = 0; i < MUTEX_SPINS; i++) {
		o = mtx_load(m);
		if (o == 0 && mtx_cas(m, 0, (uintptr_t)l))
			return;
		if (o & MUTEX_BIT_WAITERS)
			break;
		struct lwp *owner = (struct lwp *)(o & ~MUTEX_BIT_WAITERS);
		if (owner != NULL && owner->l_cpu == NULL)
			break;		/* owner sleeps: spinning is useless */
		spin_pause();
	}
#endif
	ts = turnstile_chain(l->l_kernel, m);
	hyper_mutex_enter(ts->sc_mtx);
	for (;;) {
		o = mtx_load(m);
		if (o == 0) {
			if (mtx_cas(m, 0, (uintptr_t)l))
				break;
			continue;
		}
		if (!(o & MUTEX_BIT_WAITERS) &&
		    !mtx_cas(m, o, o | MUTEX_BIT_WAITERS))
			continue;
		sleepq_prepare(l, m, 0);
		sleepq_enqueue(ts, l);
		sleepq_block(ts, l);	/* returns with the vCPU, no chain */
		hyper_mutex_enter(ts->sc_mtx);
	}
	hyper_mutex_exit(ts->sc_mtx);
}

void
mutex_exit_slow(kmutex_t *m, struct lwp *l)
{
	struct sleepq_chain *ts;

	if ((mtx_load(m) & ~MUTEX_BIT_WAITERS) != (uintptr_t)l)
		panic("mutex_exit: not the owner");
	ts = turnstile_chain(l->l_kernel, m);
	hyper_mutex_enter(ts->sc_mtx);
	atomic_store_explicit(&m->mtx_owner, 0, memory_order_release);
	sleepq_wake(ts, m, __INT_MAX__);
	hyper_mutex_exit(ts->sc_mtx);
}
