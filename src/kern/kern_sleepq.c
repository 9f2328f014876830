/*
 * kern_sleepq.c -- sleep queues and turnstiles: where LWPs block.
 *
 * A sleeping LWP is on a chain's list with l_wchan set; it blocks on its own
 * host condvar with the chain's host mutex, so a wake-up wakes exactly the
 * LWPs chosen.  The vCPU is released between enqueueing and blocking, with
 * the chain mutex dropped (releasing may run inline soft interrupts, which
 * may wake sleepers on the same chain).  A wake-up that comes in between
 * sets l_woken, which the sleeper checks under the chain mutex before it
 * blocks, so none is lost.
 *
 * An LWP that runs as a fiber (l_fiber) parks its fiber instead, so the
 * other fibers of its host thread run while it sleeps; the wake-up unparks
 * it, from whatever host thread (hyper_fiber_unpark()).
 *
 * In an instance with one vCPU, a host thread woken by the vCPU's holder
 * cannot go on before the holder lets the vCPU go: signalled at once, it
 * would wake (the host scheduler often runs it at once, on the waker's
 * CPU), find the vCPU taken, sleep again in sched_acquire_slow() and be
 * woken a second time by sched_release(): four host context switches
 * instead of two, each time a softint wakes a reader.  So the
 * holder keeps such wake-ups in its cpu_info (ci_wakeq) and
 * sched_release() signals them once the vCPU is free (sleepq_flush()).
 * Nothing is lost by the wait: the sleeper already counts as woken
 * (l_woken, set under the chain), and a holder always releases its vCPU
 * before it blocks.  l_wakeref keeps the sleeper's host condvar until
 * the late signal is made (lwp_destroy() waits for it).
 *
 * Timeouts are callouts (l_timeout_ch) on the instance's clock.  The handler
 * finds the timed sleep's chain in l_timeout_chain (fixed until the sleeper
 * has halted the callout) and acts only while l_timeout_armed, which the
 * sleeper clears under that chain when the sleep ends: by then the LWP may
 * already sleep elsewhere (callout_halt() itself can sleep), with l_wchan and
 * the list link belonging to another chain.
 */
#include "kernel.h"
#include "callout.h"
#include "sleepq.h"

static unsigned
sleepq_hash(const void *wchan)
{
	uintptr_t a = (uintptr_t)wchan;

	return (unsigned)((a >> 6) ^ (a >> 12)) & (SLEEPQ_NCHAINS - 1);
}

struct sleepq_chain *
sleepq_chain(struct rump_kernel *k, const void *wchan)
{
	return &k->k_sleepq[sleepq_hash(wchan)];
}

struct sleepq_chain *
turnstile_chain(struct rump_kernel *k, const void *wchan)
{
	return &k->k_turnstile[sleepq_hash(wchan)];
}

static int
chains_init(struct sleepq_chain *sc)
{
	for (unsigned i = 0; i < SLEEPQ_NCHAINS; i++) {
		int error = hyper_mutex_init(&sc[i].sc_mtx);

		if (error) {
			while (i-- > 0)
				hyper_mutex_destroy(sc[i].sc_mtx);
			return error;
		}
		list_init(&sc[i].sc_sleepers);
	}
	return 0;
}

static void
chains_fini(struct sleepq_chain *sc)
{
	for (unsigned i = 0; i < SLEEPQ_NCHAINS; i++) {
		KASSERT(list_empty(&sc[i].sc_sleepers));
		hyper_mutex_destroy(sc[i].sc_mtx);
	}
}

int
sleepq_init(struct rump_kernel *k)
{
	int error;

	if ((error = chains_init(k->k_sleepq)) != 0)
		return error;
	if ((error = chains_init(k->k_turnstile)) != 0) {
		chains_fini(k->k_sleepq);
		return error;
	}
	return 0;
}

void
sleepq_fini(struct rump_kernel *k)
{
	chains_fini(k->k_sleepq);
	chains_fini(k->k_turnstile);
}

/* Wake a sleeper chosen under its chain's mutex. */
static void
sleepq_signal(struct lwp *l)
{
	struct lwp *cur = curlwp;
	struct cpu_info *ci;

	if (l->l_fiber != NULL) {
		hyper_fiber_unpark(l->l_fiber);
		return;
	}
	if (cur != NULL && (ci = cur->l_cpu) != NULL &&
	    cur->l_kernel == l->l_kernel && l->l_kernel->k_ncpu == 1 &&
	    ci->ci_nwake < CPU_WAKEQ) {
		atomic_fetch_add_explicit(&l->l_wakeref, 1,
		    memory_order_relaxed);
		ci->ci_wakeq[ci->ci_nwake++] = l;
		return;
	}
	hyper_cv_signal(l->l_hcv);
}

void
sleepq_flush(struct lwp *const *wq, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		hyper_cv_signal(wq[i]->l_hcv);
		atomic_fetch_sub_explicit(&wq[i]->l_wakeref, 1,
		    memory_order_release);
	}
}

static void
sleepq_timeout(void *arg)
{
	struct lwp *l = arg;
	struct sleepq_chain *sc = l->l_timeout_chain;

	hyper_mutex_enter(sc->sc_mtx);
	if (l->l_timeout_armed) {
		l->l_timedout = true;
		if (list_linked(&l->l_sleepq)) {
			list_remove(&l->l_sleepq);
			sleepq_signal(l);
		}
	}
	hyper_mutex_exit(sc->sc_mtx);
}

void
sleepq_prepare(struct lwp *l, const void *wchan, int timo)
{
	l->l_wchan = wchan;
	l->l_woken = false;
	l->l_timedout = false;
	l->l_sleeptimed = timo > 0;
	if (timo > 0) {
		/* only condvars time out, so the chain is a sleep queue's */
		l->l_timeout_chain = sleepq_chain(l->l_kernel, wchan);
		l->l_timeout_armed = true;
		callout_reset_clock(l->l_timeout_ch, timo, sleepq_timeout, l);
	}
}

void
sleepq_enqueue(struct sleepq_chain *sc, struct lwp *l)
{
	if (l->l_timedout)	/* the timeout beat us to the chain */
		return;
	list_insert_tail(&sc->sc_sleepers, &l->l_sleepq);
}

int
sleepq_block(struct sleepq_chain *sc, struct lwp *l)
{
	int error;

	hyper_mutex_exit(sc->sc_mtx);
	sched_release(l);

	hyper_mutex_enter(sc->sc_mtx);
	while (!l->l_woken && !l->l_timedout) {
		if (l->l_fiber == NULL) {
			hyper_cv_wait(l->l_hcv, sc->sc_mtx);
			continue;
		}
		hyper_mutex_exit(sc->sc_mtx);
		(void)hyper_fiber_park();
		curlwp_set(l);		/* the fibers that ran set theirs */
		hyper_mutex_enter(sc->sc_mtx);
	}
	if (list_linked(&l->l_sleepq))
		list_remove(&l->l_sleepq);
	error = (l->l_woken || !l->l_timedout) ? 0 : EWOULDBLOCK;
	if (l->l_sleeptimed) {
		KASSERT(sc == l->l_timeout_chain);
		l->l_timeout_armed = false;	/* a late timeout is stale */
	}
	hyper_mutex_exit(sc->sc_mtx);

	sched_acquire(l);
	if (l->l_sleeptimed)
		callout_halt(l->l_timeout_ch, NULL);
	l->l_wchan = NULL;
	return error;
}

int
sleepq_wake(struct sleepq_chain *sc, const void *wchan, int n)
{
	struct list_node *ln, *next;
	int woken = 0;

	for (ln = sc->sc_sleepers.ln_next; ln != &sc->sc_sleepers && woken < n;
	    ln = next) {
		struct lwp *l = container_of(ln, struct lwp, l_sleepq);

		next = ln->ln_next;
		if (l->l_wchan != wchan)
			continue;
		list_remove(ln);
		l->l_woken = true;
		sleepq_signal(l);
		woken++;
	}
	return woken;
}
