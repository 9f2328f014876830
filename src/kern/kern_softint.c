/*
 * kern_softint.c -- soft interrupts (interface and invariants: softint.h).
 *
 * softint_schedule() -> queue on curcpu()->ci_softq[level]
 *     inline:  (rump_unschedule() -> sched_release_softints() ->)
 *                  softint_run_inline() -> softint_run_level() in the
 *                  level's softint LWP context
 *              (sleepq_block() -> sched_release() ->) softint_kick_helper()
 *                  -> softint_helper() -> softint_run_inline()
 *     threads: sleepq_wake() of the level's thread -> softint_thread()
 *                  -> softint_run_level()
 *
 * Each handler has one struct softint_percpu per vCPU, which is its queue
 * entry there; sip_pending makes a second softint_schedule() before the run a
 * no-op.  ci_softrunning has a bit per level while a handler of that level
 * runs on the vCPU, so a handler that sleeps (releasing the vCPU) cannot be
 * overtaken by another of its level on that vCPU.  The queues are only ever
 * touched by the LWP holding the vCPU.
 */
#include "kernel.h"
#include "kthread.h"
#include "sleepq.h"
#include "softint.h"

/*
 * Levels one inline dispatch runs before leaving the rest pending (to the
 * next release or the helper): a handler that keeps rescheduling itself must
 * not pin the vCPU.
 */
#define SOFTINT_INLINE_ROUNDS 16

struct softint_percpu {
	struct softint *sip_si;
	struct softint_percpu *sip_next;
	bool sip_pending;
	bool sip_running;	/* its handler runs (or sleeps) on the vCPU */
};

struct softint {
	void (*si_func)(void *);
	void *si_arg;
	unsigned si_level;
	struct rump_kernel *si_kernel;
	struct softint_percpu si_pc[];
};

/* Sleep on wchan with the vCPU as the interlock (its wakers hold it too). */
static void
softint_sleep(struct lwp *l, const void *wchan)
{
	struct sleepq_chain *sc = sleepq_chain(l->l_kernel, wchan);

	sleepq_prepare(l, wchan, 0);
	hyper_mutex_enter(sc->sc_mtx);
	sleepq_enqueue(sc, l);
	sleepq_block(sc, l);
}

static void
softint_wakeup(struct rump_kernel *k, const void *wchan)
{
	struct sleepq_chain *sc = sleepq_chain(k, wchan);

	hyper_mutex_enter(sc->sc_mtx);
	sleepq_wake(sc, wchan, 1);
	hyper_mutex_exit(sc->sc_mtx);
}

void *
softint_establish(struct rump_kernel *k, unsigned flags, void (*fn)(void *),
    void *arg)
{
	unsigned level = flags & SOFTINT_LVLMASK;
	struct softint *si;
	size_t size;
	void *mem;

	if (level >= SOFTINT_COUNT || fn == NULL)
		return NULL;
	size = sizeof(*si) + k->k_ncpu * sizeof(struct softint_percpu);
	if (hyper_malloc(size, 0, &mem) != 0)
		return NULL;
	si = mem;
	memset(si, 0, size);
	si->si_func = fn;
	si->si_arg = arg;
	si->si_level = level;
	si->si_kernel = k;
	for (unsigned i = 0; i < k->k_ncpu; i++)
		si->si_pc[i].sip_si = si;
	return si;
}

void
softint_schedule(void *cookie)
{
	struct softint *si = cookie;
	struct cpu_info *ci = curcpu();
	struct softint_percpu *sip = &si->si_pc[ci->ci_index];
	struct softint_queue *sq = &ci->ci_softq[si->si_level];

	KASSERT(ci->ci_kernel == si->si_kernel);
	if (sip->sip_pending)
		return;		/* queued at most once per vCPU */
	sip->sip_pending = true;
	sip->sip_next = NULL;
	if (sq->sq_tail != NULL)
		sq->sq_tail->sip_next = sip;
	else
		sq->sq_head = sip;
	sq->sq_tail = sip;
	ci->ci_softpending |= 1u << si->si_level;
	if (!ci->ci_kernel->k_softint_inline)
		softint_wakeup(ci->ci_kernel, sq);
}

static bool
softint_dequeue(struct softint_queue *sq, struct softint_percpu *sip)
{
	struct softint_percpu **pp, *prev = NULL;

	for (pp = &sq->sq_head; *pp != NULL; prev = *pp, pp = &(*pp)->sip_next) {
		if (*pp == sip) {
			*pp = sip->sip_next;
			if (sq->sq_tail == sip)
				sq->sq_tail = prev;
			sip->sip_pending = false;
			return true;
		}
	}
	return false;
}

void
softint_disestablish(void *cookie)
{
	struct softint *si = cookie;
	struct rump_kernel *k = si->si_kernel;
	struct lwp *l = curlwp;

	for (unsigned i = 0; i < k->k_ncpu; i++) {
		struct cpu_info *ci = &k->k_cpus[i];

		for (;;) {
			if (ci == l->l_cpu) {
				struct softint_queue *sq =
				    &ci->ci_softq[si->si_level];

				if (softint_dequeue(sq, &si->si_pc[i]) &&
				    sq->sq_head == NULL)
					ci->ci_softpending &=
					    ~(1u << si->si_level);
				/*
				 * Not from its own handler, which would wait
				 * for itself (the level's LWP is in it).
				 */
				KASSERT(l != ci->ci_softlwp[si->si_level] ||
				    !si->si_pc[i].sip_running);
			}
			/*
			 * Racy peeks at other vCPUs are re-checked each round.
			 * Wait for a running handler too (it may be asleep, or
			 * on another vCPU): the caller frees what it uses once
			 * we return.  pending is read before running, the
			 * reverse of the order softint_run_level() changes
			 * them in, so a handler is never seen as neither.
			 */
			if (!__atomic_load_n(&si->si_pc[i].sip_pending,
			    __ATOMIC_ACQUIRE) &&
			    !__atomic_load_n(&si->si_pc[i].sip_running,
			    __ATOMIC_ACQUIRE))
				break;
			sched_release(l);
			hyper_clock_sleep(100000);
			sched_acquire(l);
		}
	}
	hyper_free(si, sizeof(*si) + k->k_ncpu * sizeof(struct softint_percpu));
}

/* Run the handlers queued at level on ci; the caller holds ci. */
static void
softint_run_level(struct cpu_info *ci, unsigned level)
{
	struct softint_queue *sq = &ci->ci_softq[level];
	/*
	 * Run the handlers queued now, not those they queue meanwhile: a
	 * handler that reschedules itself runs once per call, and callers
	 * bound how often they call (SOFTINT_INLINE_ROUNDS, the helper's and
	 * the threads' yields).
	 */
	struct softint_percpu *last = sq->sq_tail;
	struct softint_percpu *sip;

	ci->ci_softrunning |= 1u << level;
	while ((sip = sq->sq_head) != NULL) {
		struct softint *si = sip->sip_si;

		sq->sq_head = sip->sip_next;
		if (sq->sq_head == NULL)
			sq->sq_tail = NULL;
		/* running before not pending: see softint_disestablish() */
		__atomic_store_n(&sip->sip_running, true, __ATOMIC_RELAXED);
		__atomic_store_n(&sip->sip_pending, false, __ATOMIC_RELEASE);
		ci->ci_nsoftint++;
		kern_clock_refresh(ci);
		si->si_func(si->si_arg);
		/* a sleeping handler may come back on the same vCPU only */
		KASSERT(curcpu() == ci);
		/* the last touch: softint_disestablish() may free si now */
		__atomic_store_n(&sip->sip_running, false, __ATOMIC_RELEASE);
		if (sip == last)
			break;
	}
	if (sq->sq_head == NULL)
		ci->ci_softpending &= ~(1u << level);
	ci->ci_softrunning &= ~(1u << level);
}

void
softint_run_inline(struct cpu_info *ci)
{
	struct lwp *l = curlwp;
	unsigned ready;

	for (int round = 0; round < SOFTINT_INLINE_ROUNDS; round++) {
		ready = ci->ci_softpending & ~ci->ci_softrunning;
		if (ready == 0)
			return;
		/* the highest pending level first */
		unsigned level = 31u - (unsigned)__builtin_clz(ready);
		struct lwp *sl = ci->ci_softlwp[level];

		/* lend the vCPU to the level's softint LWP */
		atomic_store_explicit(&ci->ci_owner, sl, memory_order_relaxed);
		sl->l_cpu = ci;
		l->l_cpu = NULL;
		curlwp_set(sl);
		softint_run_level(ci, level);
		curlwp_set(l);
		sl->l_cpu = NULL;
		l->l_cpu = ci;
		atomic_store_explicit(&ci->ci_owner, l, memory_order_relaxed);
	}
}

/* threads mode: the body of one level's thread on one vCPU */
static void
softint_thread(void *arg)
{
	struct lwp *l = curlwp;
	struct cpu_info *ci = l->l_boundcpu;
	unsigned level = (unsigned)(uintptr_t)arg;
	struct rump_kernel *k = ci->ci_kernel;

	for (;;) {
		while (!(ci->ci_softpending & (1u << level))) {
			if (atomic_load(&k->k_exiting))
				return;
			softint_sleep(l, &ci->ci_softq[level]);
		}
		softint_run_level(ci, level);
		if (ci->ci_softpending & (1u << level)) {
			/* rescheduled meanwhile: let others have the vCPU */
			sched_release(l);
			sched_acquire(l);
		}
	}
}

/* inline mode: runs what sleepers left pending (softint.h) */
static void
softint_helper(void *arg)
{
	struct lwp *l = curlwp;
	struct cpu_info *ci = l->l_boundcpu;
	struct rump_kernel *k = ci->ci_kernel;

	(void)arg;
	for (;;) {
		while (!(ci->ci_softpending & ~ci->ci_softrunning)) {
			if (atomic_load(&k->k_exiting))
				return;
			softint_sleep(l, &ci->ci_softhelper);
		}
		softint_run_inline(ci);
		/* let others have the vCPU between rounds */
		sched_release(l);
		sched_acquire(l);
	}
}

void
softint_kick_helper(struct cpu_info *ci, struct lwp *l)
{
	/*
	 * A sleeping handler (LW_SOFTINT) leaves the rest to whoever next
	 * releases the vCPU: it was woken by an LWP holding the vCPU.
	 */
	if (l->l_flags & LW_SOFTINT)
		return;
	softint_wakeup(ci->ci_kernel, &ci->ci_softhelper);
}

/* Stop a softint or helper thread sleeping on wchan; k_exiting is set. */
static void
softint_thread_stop(struct rump_kernel *k, struct lwp *l, const void *wchan)
{
	/* it may be between its look at k_exiting and its sleep: insist */
	while (!atomic_load(&l->l_exited)) {
		softint_wakeup(k, wchan);
		hyper_clock_sleep(50000);
	}
	kthread_join(l);
}

int
softint_init_cpu(struct rump_kernel *k, struct cpu_info *ci)
{
	static const char *const names[SOFTINT_COUNT] = {
		"softclk", "softbio", "softnet", "softser",
	};
	int error;

	for (unsigned level = 0; level < SOFTINT_COUNT; level++) {
		struct lwp *l;

		if (k->k_softint_inline)
			error = lwp_create(k, LW_SOFTINT | LW_SYSTEM, ci,
			    names[level], &l);
		else
			error = kthread_create(k,
			    KTHREAD_MUSTJOIN | KTHREAD_SOFTINT, ci,
			    softint_thread, (void *)(uintptr_t)level,
			    names[level], &l);
		if (error)
			return error;
		ci->ci_softlwp[level] = l;
	}
	if (k->k_softint_inline)
		return kthread_create(k, KTHREAD_MUSTJOIN | KTHREAD_SOFTINT, ci,
		    softint_helper, NULL, "softhelp", &ci->ci_softhelper);
	return 0;
}

void
softint_fini_cpu(struct rump_kernel *k, struct cpu_info *ci)
{
	if (ci->ci_softhelper != NULL) {
		softint_thread_stop(k, ci->ci_softhelper, &ci->ci_softhelper);
		ci->ci_softhelper = NULL;
	}
	for (unsigned level = 0; level < SOFTINT_COUNT; level++) {
		struct lwp *l = ci->ci_softlwp[level];

		if (l == NULL)
			continue;
		ci->ci_softlwp[level] = NULL;
		if (k->k_softint_inline)
			lwp_destroy(l);
		else
			softint_thread_stop(k, l, &ci->ci_softq[level]);
	}
}
