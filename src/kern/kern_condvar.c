/*
 * kern_condvar.c -- condition variables over the sleep queues.
 *
 * cv_wait(): note the wait channel, arm the timeout, take the sleep queue
 * chain, enqueue, release the interlock mutex, block (vCPU released), then
 * take the interlock again.  Because the sleeper is on the chain before the
 * interlock goes, a cv_signal() made under the interlock always finds it.
 * cv_waiters counts the LWPs on the chain for this condvar, so that
 * cv_signal() skips the chain when nobody waits: the waker takes off what
 * it wakes, a sleeper that timed out takes itself off.  A woken sleeper is
 * not counted while it waits for a vCPU, so a burst of wake-ups (a
 * sorwakeup() per received datagram, while the reader has not run yet)
 * takes the chain once.
 */
#include "kernel.h"
#include "condvar.h"
#include "sleepq.h"

void
cv_init(kcondvar_t *cv, const char *wmesg)
{
	(void)wmesg;
	atomic_init(&cv->cv_waiters, 0);
}

void
cv_destroy(kcondvar_t *cv)
{
	KASSERT(atomic_load(&cv->cv_waiters) == 0);
}

static int
cv_sleep(kcondvar_t *cv, kmutex_t *mtx, int timo)
{
	struct lwp *l = curlwp;
	struct sleepq_chain *sc = sleepq_chain(l->l_kernel, cv);
	int error;

	KASSERT(mutex_owned(mtx));
	atomic_fetch_add_explicit(&cv->cv_waiters, 1, memory_order_relaxed);
	sleepq_prepare(l, cv, timo);
	hyper_mutex_enter(sc->sc_mtx);
	sleepq_enqueue(sc, l);
	mutex_exit(mtx);
	error = sleepq_block(sc, l);
	/*
	 * timed out: nobody took it off.  (Not l_woken: sleepq_block()'s
	 * callout_halt() may have slept and been woken since.)
	 */
	if (error != 0)
		atomic_fetch_sub_explicit(&cv->cv_waiters, 1,
		    memory_order_relaxed);
	mutex_enter(mtx);
	return error;
}

void
cv_wait(kcondvar_t *cv, kmutex_t *mtx)
{
	(void)cv_sleep(cv, mtx, 0);
}

int
cv_timedwait(kcondvar_t *cv, kmutex_t *mtx, int timo)
{
	return cv_sleep(cv, mtx, timo);
}

int
cv_wait_sig(kcondvar_t *cv, kmutex_t *mtx)
{
	return cv_sleep(cv, mtx, 0);
}

int
cv_timedwait_sig(kcondvar_t *cv, kmutex_t *mtx, int timo)
{
	return cv_sleep(cv, mtx, timo);
}

static void
cv_wake(kcondvar_t *cv, int n)
{
	struct sleepq_chain *sc;
	int woken;

	if (atomic_load_explicit(&cv->cv_waiters, memory_order_relaxed) == 0)
		return;
	sc = sleepq_chain(curlwp->l_kernel, cv);
	hyper_mutex_enter(sc->sc_mtx);
	woken = sleepq_wake(sc, cv, n);
	if (woken > 0)
		atomic_fetch_sub_explicit(&cv->cv_waiters, (unsigned)woken,
		    memory_order_relaxed);
	hyper_mutex_exit(sc->sc_mtx);
}

void
cv_signal(kcondvar_t *cv)
{
	cv_wake(cv, 1);
}

void
cv_broadcast(kcondvar_t *cv)
{
	cv_wake(cv, __INT_MAX__);
}

bool
cv_has_waiters(kcondvar_t *cv)
{
	return atomic_load_explicit(&cv->cv_waiters, memory_order_relaxed) != 0;
}
