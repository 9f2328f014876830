/*
 * kern_callout.c -- callouts on a hashed timing wheel per vCPU.
 *
 * (hardclock() | rump_clock_advance() ->) softint_schedule(softclock) ->
 *     softclock() -> for each tick up to now: run the bucket's expired
 *     callouts, releasing cc_lock around each handler.
 *
 * Expiry ticks are absolute (c_time); a bucket holds every callout whose
 * c_time maps to it, whatever the round, so softclock() checks c_time.
 * Arming is relative to the wheel's current tick (callout_now()), so arming
 * never reads the clock (that is a hypercall on a real clock).  A wheel
 * whose softclock is late is behind the clock, and what is armed then
 * fires early by as much; callout_reset_clock() arms from the clock for
 * the timeouts a user sees.
 *
 * cc_ticks is the last tick whose handlers have all finished: it moves past
 * a tick only after the tick's last handler returned, even one that slept.
 * rump_clock_advance() waits for cc_ticks to reach the new time, and so
 * returns only when the expired callouts have run.
 *
 * Skipping idle ticks: cc_next is a lower bound of the pending callouts'
 * expiry ticks (arming lowers it; a stop or a firing leaves it a bound),
 * so softclock() jumps the wheel to the tick before it.  When it has been
 * passed and the ticks still to process outnumber the pending callouts
 * (a virtual clock moved far), one walk of cc_pending makes it exact.  A
 * walk is never longer than the ticks that remain; it saves the ticks to
 * the next expiry, so with many callouts expiring close together it can
 * cost more than walking the wheel would, at most by that bound.
 */
#include "kernel.h"
#include "callout.h"
#include "softint.h"

#define CALLOUT_MAGIC 0x43414c4cu

static inline struct list_node *
callout_bucket(struct callout_cpu *cc, uint64_t t)
{
	return &cc->cc_wheel[t & (CALLOUT_WHEEL - 1)];
}

void
callout_init_cpu(callout_t *c, unsigned flags, struct cpu_info *ci)
{
	(void)flags;
	memset(c, 0, sizeof(*c));
	list_node_init(&c->c_link);
	list_node_init(&c->c_plink);
	c->c_cc = ci->ci_cc;
	c->c_magic = CALLOUT_MAGIC;
}

void
callout_init(callout_t *c, unsigned flags)
{
	callout_init_cpu(c, flags, curcpu());
}

void
callout_destroy(callout_t *c)
{
	KASSERT(c->c_magic == CALLOUT_MAGIC);
	KASSERT(!(c->c_flags & CALLOUT_PENDING));
	KASSERT(!list_linked(&c->c_link) && !list_linked(&c->c_plink));
	c->c_magic = 0;
}

void
callout_setfunc(callout_t *c, void (*func)(void *), void *arg)
{
	struct callout_cpu *cc = c->c_cc;

	mutex_enter(&cc->cc_lock);
	c->c_func = func;
	c->c_arg = arg;
	mutex_exit(&cc->cc_lock);
}

/*
 * The wheel's current tick, cc_lock held: while a handler runs (cc_running,
 * and cc_lock is only ever dropped around a handler), the tick it fired at,
 * cc_ticks + 1; else the last tick processed.  A handler re-arming itself
 * for n ticks thus fires n ticks after its own tick, as in NetBSD.
 */
static inline uint64_t
callout_now(struct callout_cpu *cc)
{
	return cc->cc_ticks + (cc->cc_running != NULL ? 1 : 0);
}

/* Take pending c off the wheel. */
static inline void
callout_unlink(struct callout_cpu *cc, callout_t *c)
{
	list_remove(&c->c_link);
	list_remove(&c->c_plink);
	cc->cc_npending--;
}

static void
callout_arm(struct callout_cpu *cc, callout_t *c, uint64_t now, int ticks)
{
	if (c->c_flags & CALLOUT_PENDING)
		callout_unlink(cc, c);
	c->c_time = MAX(now, callout_now(cc)) + (uint64_t)(ticks > 0 ? ticks : 1);
	c->c_flags = (c->c_flags | CALLOUT_PENDING) &
	    ~(CALLOUT_FIRED | CALLOUT_INVOKING);
	list_insert_tail(callout_bucket(cc, c->c_time), &c->c_link);
	list_insert_tail(&cc->cc_pending, &c->c_plink);
	cc->cc_npending++;
	if (c->c_time < cc->cc_next)
		cc->cc_next = c->c_time;
}

void
callout_reset(callout_t *c, int ticks, void (*func)(void *), void *arg)
{
	struct callout_cpu *cc = c->c_cc;

	KASSERT(c->c_magic == CALLOUT_MAGIC);
	mutex_enter(&cc->cc_lock);
	c->c_func = func;
	c->c_arg = arg;
	callout_arm(cc, c, 0, ticks);
	mutex_exit(&cc->cc_lock);
}

void
callout_reset_clock(callout_t *c, int ticks, void (*func)(void *), void *arg)
{
	struct callout_cpu *cc = c->c_cc;
	uint64_t now;

	KASSERT(c->c_magic == CALLOUT_MAGIC);
	now = kern_clock_ticks(cc->cc_cpu->ci_kernel);
	mutex_enter(&cc->cc_lock);
	c->c_func = func;
	c->c_arg = arg;
	callout_arm(cc, c, now, ticks);
	mutex_exit(&cc->cc_lock);
}

void
callout_schedule(callout_t *c, int ticks)
{
	struct callout_cpu *cc = c->c_cc;

	KASSERT(c->c_magic == CALLOUT_MAGIC && c->c_func != NULL);
	mutex_enter(&cc->cc_lock);
	callout_arm(cc, c, 0, ticks);
	mutex_exit(&cc->cc_lock);
}

static bool
callout_stop_locked(struct callout_cpu *cc, callout_t *c)
{
	/*
	 * CALLOUT_FIRED only, as NetBSD: it is set from expiry (so while the
	 * handler runs) until a stop or re-arm.  CALLOUT_INVOKING outlives
	 * the handler until callout_ack(), so counting it made every later
	 * stop of a callout that fired once return true again.
	 */
	bool expired = (c->c_flags & CALLOUT_FIRED) != 0;

	if (c->c_flags & CALLOUT_PENDING)
		callout_unlink(cc, c);
	c->c_flags &= ~(CALLOUT_PENDING | CALLOUT_FIRED);
	return expired;
}

bool
callout_stop(callout_t *c)
{
	struct callout_cpu *cc = c->c_cc;
	bool expired;

	KASSERT(c->c_magic == CALLOUT_MAGIC);
	mutex_enter(&cc->cc_lock);
	expired = callout_stop_locked(cc, c);
	mutex_exit(&cc->cc_lock);
	return expired;
}

bool
callout_halt(callout_t *c, kmutex_t *interlock)
{
	struct callout_cpu *cc = c->c_cc;
	struct lwp *l = curlwp;
	bool expired;

	KASSERT(c->c_magic == CALLOUT_MAGIC);
	mutex_enter(&cc->cc_lock);
	expired = callout_stop_locked(cc, c);
	while (cc->cc_running == c && cc->cc_running_lwp != l) {
		if (interlock != NULL)
			mutex_exit(interlock);
		cv_wait(&cc->cc_done, &cc->cc_lock);
		if (interlock != NULL) {
			mutex_exit(&cc->cc_lock);
			mutex_enter(interlock);
			mutex_enter(&cc->cc_lock);
		}
		/* re-armed by its handler meanwhile: disarm again */
		callout_stop_locked(cc, c);
	}
	mutex_exit(&cc->cc_lock);
	return expired;
}

bool
callout_pending(callout_t *c)
{
	return (__atomic_load_n(&c->c_flags, __ATOMIC_RELAXED) &
	    CALLOUT_PENDING) != 0;
}

bool
callout_expired(callout_t *c)
{
	return (__atomic_load_n(&c->c_flags, __ATOMIC_RELAXED) &
	    CALLOUT_FIRED) != 0;
}

bool
callout_invoking(callout_t *c)
{
	return (__atomic_load_n(&c->c_flags, __ATOMIC_RELAXED) &
	    CALLOUT_INVOKING) != 0;
}

void
callout_ack(callout_t *c)
{
	struct callout_cpu *cc = c->c_cc;

	mutex_enter(&cc->cc_lock);
	c->c_flags &= ~CALLOUT_INVOKING;
	mutex_exit(&cc->cc_lock);
}

/* Run the expired callouts of tick t; cc_lock held, dropped around handlers. */
static void
softclock_tick(struct callout_cpu *cc, uint64_t t, struct lwp *l)
{
	struct list_node *bucket = callout_bucket(cc, t);
	struct list_node *ln;

again:
	for (ln = bucket->ln_next; ln != bucket; ln = ln->ln_next) {
		callout_t *c = container_of(ln, callout_t, c_link);
		void (*func)(void *);
		void *arg;

		if (c->c_time > t)
			continue;	/* a later round of the wheel */
		callout_unlink(cc, c);
		c->c_flags = (c->c_flags & ~CALLOUT_PENDING) |
		    CALLOUT_FIRED | CALLOUT_INVOKING;
		func = c->c_func;
		arg = c->c_arg;
		cc->cc_running = c;
		cc->cc_running_lwp = l;
		mutex_exit(&cc->cc_lock);
		func(arg);
		mutex_enter(&cc->cc_lock);
		/*
		 * The handler may have freed c: do not touch it.
		 * CALLOUT_INVOKING stays until callout_ack() or a re-arm.
		 */
		cc->cc_running = NULL;
		cc->cc_running_lwp = NULL;
		cv_broadcast(&cc->cc_done);
		/* the bucket may have changed while unlocked: rescan it */
		goto again;
	}
}

/* The earliest expiry tick of the pending callouts (there are some). */
static uint64_t
callout_earliest(struct callout_cpu *cc)
{
	uint64_t t = UINT64_MAX;
	struct list_node *ln;

	for (ln = cc->cc_pending.ln_next; ln != &cc->cc_pending;
	    ln = ln->ln_next) {
		callout_t *c = container_of(ln, callout_t, c_plink);

		if (c->c_time < t)
			t = c->c_time;
	}
	return t;
}

void
softclock(void *arg)
{
	struct cpu_info *ci = curcpu();
	struct callout_cpu *cc = ci->ci_cc;
	uint64_t now = kern_clock_ticks(ci->ci_kernel);
	struct lwp *l = curlwp;

	(void)arg;
	mutex_enter(&cc->cc_lock);
	while (cc->cc_ticks < now) {
		if (cc->cc_npending == 0) {
			cc->cc_ticks = now;	/* nothing to run: jump */
			break;
		}
		if (cc->cc_next <= cc->cc_ticks &&
		    now - cc->cc_ticks > cc->cc_npending)
			cc->cc_next = callout_earliest(cc);
		if (cc->cc_next > cc->cc_ticks + 1) {
			/* nothing expires before cc_next: jump */
			cc->cc_ticks = MIN(cc->cc_next - 1, now);
			continue;
		}
		/*
		 * Count the tick as processed only after its handlers: one
		 * may sleep, and rump_clock_advance() must wait for it.
		 */
		softclock_tick(cc, cc->cc_ticks + 1, l);
		cc->cc_ticks++;
	}
	cv_broadcast(&cc->cc_done);
	mutex_exit(&cc->cc_lock);
}

void
hardclock(void)
{
	struct cpu_info *ci = curcpu();
	struct rump_kernel *k = ci->ci_kernel;

	/* cc_ticks is read without cc_lock: a stale value only delays a tick */
	if (kern_clock_ticks(k) > __atomic_load_n(&ci->ci_cc->cc_ticks,
	    __ATOMIC_RELAXED))
		softint_schedule(k->k_softclock);
}

int
callout_init_cpu_state(struct rump_kernel *k, struct cpu_info *ci)
{
	struct callout_cpu *cc;
	void *mem;
	int error;

	if ((error = hyper_malloc(sizeof(*cc), CACHE_LINE_SIZE, &mem)) != 0)
		return error;
	cc = mem;
	memset(cc, 0, sizeof(*cc));
	mutex_init(&cc->cc_lock, MUTEX_DEFAULT, IPL_SOFTCLOCK);
	cv_init(&cc->cc_done, "callout");
	for (unsigned i = 0; i < CALLOUT_WHEEL; i++)
		list_init(&cc->cc_wheel[i]);
	list_init(&cc->cc_pending);
	cc->cc_cpu = ci;
	cc->cc_ticks = kern_clock_ticks(k);
	ci->ci_cc = cc;
	return 0;
}

void
callout_fini_cpu_state(struct cpu_info *ci)
{
	struct callout_cpu *cc = ci->ci_cc;

	if (cc == NULL)
		return;
	mutex_destroy(&cc->cc_lock);
	cv_destroy(&cc->cc_done);
	hyper_free(cc, sizeof(*cc));
	ci->ci_cc = NULL;
}
