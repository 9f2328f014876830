/*
 * kern_rwlock.c -- reader/writer locks (layout of the word: rwlock.h).
 *
 * Fast paths are one compare-and-swap (a plain load and store with
 * -Dlocks=up).  Slow paths take the lock's turnstile chain: an LWP that
 * cannot have the lock sets RW_BIT_WAITERS (and RW_BIT_WRITE_WANTED for a
 * writer) and sleeps; a release that sees RW_BIT_WAITERS and leaves the lock
 * free clears the bits and wakes every sleeper, who compete again.
 */
#include "kernel.h"
#include "rwlock.h"
#include "sleepq.h"

static inline uintptr_t
rw_load(const krwlock_t *rw)
{
	return atomic_load_explicit(&rw->rw_owner, memory_order_relaxed);
}

static inline bool
rw_cas(krwlock_t *rw, uintptr_t old, uintptr_t new)
{
#ifdef RUMP_LOCKS_UP
	if (atomic_load_explicit(&rw->rw_owner, memory_order_relaxed) != old)
		return false;
	atomic_store_explicit(&rw->rw_owner, new, memory_order_relaxed);
	return true;
#else
	return atomic_compare_exchange_strong_explicit(&rw->rw_owner, &old,
	    new, memory_order_acq_rel, memory_order_relaxed);
#endif
}

void
rw_init(krwlock_t *rw)
{
	atomic_init(&rw->rw_owner, 0);
}

void
rw_destroy(krwlock_t *rw)
{
	KASSERT(rw_load(rw) == 0);
}

/* One attempt; true when taken.  *o is the word seen. */
static bool
rw_try_once(krwlock_t *rw, krw_t op, struct lwp *l, uintptr_t *op_word)
{
	uintptr_t o = rw_load(rw);

	*op_word = o;
	if (op == RW_READER) {
		if (o & (RW_BIT_WRITE_LOCKED | RW_BIT_WRITE_WANTED))
			return false;
		return rw_cas(rw, o, o + RW_READ_INCR);
	}
	if ((o & ~(RW_BIT_WAITERS | RW_BIT_WRITE_WANTED)) != 0)
		return false;
	/* keep RW_BIT_WAITERS: other sleepers must be woken on exit */
	return rw_cas(rw, o, (uintptr_t)l | RW_BIT_WRITE_LOCKED |
	    (o & RW_BIT_WAITERS));
}

bool
rw_tryenter(krwlock_t *rw, krw_t op)
{
	struct lwp *l = curlwp;
	uintptr_t o;

	for (int i = 0; i < 4; i++) {
		if (rw_try_once(rw, op, l, &o))
			return true;
		if (op == RW_WRITER ? (o & ~(RW_BIT_WAITERS |
		    RW_BIT_WRITE_WANTED)) != 0 :
		    (o & (RW_BIT_WRITE_LOCKED | RW_BIT_WRITE_WANTED)) != 0)
			return false;	/* held, not a lost race */
	}
	return false;
}

void
rw_enter(krwlock_t *rw, krw_t op)
{
	struct lwp *l = curlwp;
	struct sleepq_chain *ts;
	uintptr_t o;

	/* fast path: an uncontended reader or writer */
	if (likely(rw_try_once(rw, op, l, &o)))
		return;
	if ((o & RW_BIT_WRITE_LOCKED) &&
	    (o & ~RW_FLAGS) == (uintptr_t)l)
		panic("rw_enter: locking against myself");

	ts = turnstile_chain(l->l_kernel, rw);
	hyper_mutex_enter(ts->sc_mtx);
	for (;;) {
		uintptr_t want;

		if (rw_try_once(rw, op, l, &o))
			break;
		want = RW_BIT_WAITERS |
		    (op == RW_WRITER ? RW_BIT_WRITE_WANTED : 0);
		/* the lock may have been released since rw_try_once() */
		if (op == RW_READER ?
		    !(o & (RW_BIT_WRITE_LOCKED | RW_BIT_WRITE_WANTED)) :
		    (o & ~(RW_BIT_WAITERS | RW_BIT_WRITE_WANTED)) == 0)
			continue;
		if ((o & want) != want && !rw_cas(rw, o, o | want))
			continue;
		sleepq_prepare(l, rw, 0);
		sleepq_enqueue(ts, l);
		sleepq_block(ts, l);
		hyper_mutex_enter(ts->sc_mtx);
	}
	hyper_mutex_exit(ts->sc_mtx);
}

void
rw_exit(krwlock_t *rw)
{
	struct lwp *l = curlwp;
	struct sleepq_chain *ts;
	uintptr_t o, n;

	for (;;) {
		o = rw_load(rw);
		if (o & RW_BIT_WRITE_LOCKED) {
			KASSERT((o & ~RW_FLAGS) == (uintptr_t)l);
			n = 0;
		} else {
			KASSERT((o & ~RW_FLAGS) >= RW_READ_INCR);
			n = o - RW_READ_INCR;
			if ((n & ~RW_FLAGS) == 0)
				n = 0;	/* last reader: the lock goes free */
		}
		if (o & RW_BIT_WAITERS) {
			if (n != 0) {
				/* readers remain; the last one wakes */
				if (rw_cas(rw, o, n))
					break;
				continue;
			}
			ts = turnstile_chain(l->l_kernel, rw);
			hyper_mutex_enter(ts->sc_mtx);
			if (!rw_cas(rw, o, 0)) {
				hyper_mutex_exit(ts->sc_mtx);
				continue;
			}
			sleepq_wake(ts, rw, __INT_MAX__);
			hyper_mutex_exit(ts->sc_mtx);
			break;
		}
		if (rw_cas(rw, o, n))
			break;
	}
}

void
rw_downgrade(krwlock_t *rw)
{
	struct lwp *l = curlwp;
	struct sleepq_chain *ts = turnstile_chain(l->l_kernel, rw);
	uintptr_t o;

	hyper_mutex_enter(ts->sc_mtx);
	do {
		o = rw_load(rw);
		KASSERT((o & RW_BIT_WRITE_LOCKED) &&
		    (o & ~RW_FLAGS) == (uintptr_t)l);
	} while (!rw_cas(rw, o, RW_READ_INCR));
	/* waiting readers may now join; writers will set their bits again */
	if (o & RW_BIT_WAITERS)
		sleepq_wake(ts, rw, __INT_MAX__);
	hyper_mutex_exit(ts->sc_mtx);
}

bool
rw_tryupgrade(krwlock_t *rw)
{
	struct lwp *l = curlwp;
	uintptr_t o = rw_load(rw);

	if ((o & ~RW_FLAGS) != RW_READ_INCR || (o & RW_BIT_WRITE_LOCKED))
		return false;
	return rw_cas(rw, o, (uintptr_t)l | RW_BIT_WRITE_LOCKED |
	    (o & RW_BIT_WAITERS));
}

bool
rw_write_held(const krwlock_t *rw)
{
	uintptr_t o = rw_load(rw);

	return (o & RW_BIT_WRITE_LOCKED) && (o & ~RW_FLAGS) == (uintptr_t)curlwp;
}

bool
rw_read_held(const krwlock_t *rw)
{
	uintptr_t o = rw_load(rw);

	return !(o & RW_BIT_WRITE_LOCKED) && (o & ~RW_FLAGS) != 0;
}

bool
rw_lock_held(const krwlock_t *rw)
{
	return rw_write_held(rw) || rw_read_held(rw);
}
