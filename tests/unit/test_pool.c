/*
 * test_pool.c -- object pools with per-vCPU caches (pool.h), used directly
 * on an instance: exact counters, hard limits, cache overflow and underflow
 * into the depot, callers that hold no vCPU, leak reporting, and two vCPUs
 * hammering the same pools.
 *
 * Besides the counters, the tests check the pool's bookkeeping invariant:
 * every object ever created is outstanding, in the depot, or in a vCPU's
 * cache -- exactly one of the three.
 */
#include "harness.h"

#include "kern/kernel.h"
#include "kern/pool.h"

/* What a test created, so the teardown can clean up after a failure. */
struct pl_env {
	struct rump_kernel *k;
	struct rump_kernel *k2;
	pool_cache_t *pc[2];
};

static struct pl_env pl_env;

static struct rump_kernel *
pl_kernel(void **state, unsigned ncpu)
{
	memset(&pl_env, 0, sizeof(pl_env));
	*state = &pl_env;
	pl_env.k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, ncpu);
	return pl_env.k;
}

/* Bind this thread to k and take a vCPU. */
static void
pl_enter(struct rump_kernel *k)
{
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
}

static void
pl_exit(void)
{
	rump_unschedule();
	assert_int_equal(rump_thread_unbind(), 0);
}

static pool_cache_t *
pl_create(struct rump_kernel *k, int slot, const char *name, size_t size,
    size_t align, unsigned limit)
{
	pool_cache_t *pc = NULL;

	assert_int_equal(pool_cache_create(k, name, size, align, limit, &pc),
	    0);
	assert_non_null(pc);
	pl_env.pc[slot] = pc;
	return pc;
}

static void
pl_destroy(int slot)
{
	pool_cache_destroy(pl_env.pc[slot]);
	pl_env.pc[slot] = NULL;
}

/* End of a test: pools gone, instance destroyed with its leak check. */
static void
pl_done(void **state)
{
	th_kernel_destroy(pl_env.k);
	pl_env.k = NULL;
	*state = NULL;
}

static int
pl_teardown(void **state)
{
	if (*state == NULL)
		return 0;
	/* a failed assertion may have left this thread inside the kernel */
	if (curlwp != NULL) {
		if (curlwp->l_cpu != NULL)
			rump_unschedule();
		rump_thread_unbind();
	}
	for (int i = 0; i < 2; i++)
		if (pl_env.pc[i] != NULL)
			pool_cache_destroy(pl_env.pc[i]);
	if (pl_env.k2 != NULL)
		rump_kernel_destroy(pl_env.k2);
	if (pl_env.k != NULL)
		rump_kernel_destroy(pl_env.k);
	memset(&pl_env, 0, sizeof(pl_env));
	*state = NULL;
	return 0;
}

static struct pool_stats
pl_stats(pool_cache_t *pc)
{
	struct pool_stats ps;

	pool_cache_stats(pc, &ps);
	return ps;
}

/* Created objects are outstanding, in the depot or cached: no more, no less. */
static void
pl_check_books(pool_cache_t *pc)
{
	uint64_t cached = 0;

	for (unsigned i = 0; i < pc->pc_ncpu; i++) {
		assert_true(pc->pc_cpu[i].pcc_n <= POOL_CPU_CACHE);
		cached += pc->pc_cpu[i].pcc_n;
	}
	assert_int_equal(pool_cache_outstanding(pc) + pc->pc_ndepot + cached,
	    pc->pc_nobjects);
}

static int
ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a;
	uintptr_t y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

/* n objects, pairwise at least size bytes apart. */
static void
pl_assert_distinct(void **objs, int n, size_t size)
{
	void **sorted = malloc((size_t)n * sizeof(void *));

	assert_non_null(sorted);
	memcpy(sorted, objs, (size_t)n * sizeof(void *));
	qsort(sorted, (size_t)n, sizeof(void *), ptr_cmp);
	for (int i = 1; i < n; i++)
		assert_true((uintptr_t)sorted[i] - (uintptr_t)sorted[i - 1] >=
		    size);
	free(sorted);
}

/* Whether rump_kernel_pool_stats() lists pool name (its record in *out). */
static bool
pl_find(struct rump_kernel *k, const char *name, struct rump_pool_stat *out,
    unsigned *npools)
{
	struct rump_pool_stat st[16];
	unsigned n = 16;

	assert_int_equal(rump_kernel_pool_stats(k, st, &n), 0);
	assert_true(n <= 16);
	*npools = n;
	for (unsigned i = 0; i < n; i++) {
		if (strcmp(st[i].name, name) == 0) {
			*out = st[i];
			return true;
		}
	}
	return false;
}

/* ---- tests ---- */

static void
test_pool_counters(void **state)
{
	struct rump_kernel *k = pl_kernel(state, 1);
	struct rump_pool_stat rs;
	struct pool_stats ps;
	pool_cache_t *pc;
	void *objs[10];
	unsigned npools;

	pl_enter(k);
	pc = pl_create(k, 0, "tpool", 100, 0, 0);
	ps = pl_stats(pc);
	assert_int_equal(ps.ps_nget, 0);
	assert_int_equal(ps.ps_nobjects, 0);
	for (int i = 0; i < 10; i++) {
		objs[i] = pool_cache_get(pc);
		assert_non_null(objs[i]);
		/* default alignment 16 */
		assert_int_equal((uintptr_t)objs[i] % 16, 0);
		memset(objs[i], i, 100);
	}
	pl_assert_distinct(objs, 10, 100);
	for (int i = 0; i < 10; i++)
		assert_int_equal(((unsigned char *)objs[i])[99], i);
	ps = pl_stats(pc);
	assert_int_equal(ps.ps_nget, 10);
	assert_int_equal(ps.ps_nput, 0);
	assert_int_equal(ps.ps_nfail, 0);
	assert_int_equal(ps.ps_hardlimit, 0);
	/* one 64 KiB chunk of 112-byte (100 rounded to 16) objects */
	assert_int_equal(ps.ps_nobjects, 65536 / 112);
	assert_int_equal(pool_cache_outstanding(pc), 10);
	pl_check_books(pc);

	for (int i = 6; i < 10; i++)
		pool_cache_put(pc, objs[i]);
	ps = pl_stats(pc);
	assert_int_equal(ps.ps_nput, 4);
	assert_int_equal(pool_cache_outstanding(pc), 6);
	/* the vCPU cache is a stack: the last object put comes back first */
	assert_ptr_equal(pool_cache_get(pc), objs[9]);
	pool_cache_put(pc, objs[9]);
	for (int i = 0; i < 6; i++)
		pool_cache_put(pc, objs[i]);
	assert_int_equal(pool_cache_outstanding(pc), 0);
	pl_check_books(pc);

	/* the instance reports the same numbers */
	assert_true(pl_find(k, "tpool", &rs, &npools));
	assert_int_equal(rs.nget, 11);
	assert_int_equal(rs.nput, 11);
	assert_int_equal(rs.nfail, 0);
	assert_int_equal(rs.nobjects, 65536 / 112);
	pl_destroy(0);
	pl_exit();
	pl_done(state);
}

static void
test_pool_align_and_tiny(void **state)
{
	struct rump_kernel *k = pl_kernel(state, 1);
	pool_cache_t *a64, *tiny;
	void *objs[8];

	pl_enter(k);
	a64 = pl_create(k, 0, "a64", 40, 64, 0);
	tiny = pl_create(k, 1, "tiny", 1, 0, 0);
	for (int i = 0; i < 8; i++) {
		objs[i] = pool_cache_get(a64);
		assert_non_null(objs[i]);
		assert_int_equal((uintptr_t)objs[i] % 64, 0);
	}
	pl_assert_distinct(objs, 8, 64);
	for (int i = 0; i < 8; i++)
		pool_cache_put(a64, objs[i]);
	/* a 1-byte object still has room for the depot's link */
	for (int i = 0; i < 8; i++) {
		objs[i] = pool_cache_get(tiny);
		assert_non_null(objs[i]);
		memset(objs[i], 0xff, sizeof(void *));
	}
	pl_assert_distinct(objs, 8, sizeof(void *));
	for (int i = 0; i < 8; i++)
		pool_cache_put(tiny, objs[i]);
	assert_int_equal(pool_cache_outstanding(a64), 0);
	assert_int_equal(pool_cache_outstanding(tiny), 0);
	pl_check_books(a64);
	pl_check_books(tiny);
	pl_destroy(0);
	pl_destroy(1);
	pl_exit();
	pl_done(state);
}

static void
test_pool_hardlimit(void **state)
{
	struct rump_kernel *k = pl_kernel(state, 1);
	struct pool_stats ps;
	pool_cache_t *pc;
	void *objs[100];

	pl_enter(k);
	pc = pl_create(k, 0, "lim", 64, 0, 100);
	for (int i = 0; i < 100; i++) {
		objs[i] = pool_cache_get(pc);
		assert_non_null(objs[i]);
	}
	pl_assert_distinct(objs, 100, 64);
	assert_null(pool_cache_get(pc));
	ps = pl_stats(pc);
	assert_int_equal(ps.ps_nget, 100);
	assert_int_equal(ps.ps_nfail, 1);
	assert_int_equal(ps.ps_nobjects, 100);
	assert_int_equal(ps.ps_hardlimit, 100);
	pl_check_books(pc);

	/* one back: one more get succeeds, and it is that object */
	pool_cache_put(pc, objs[50]);
	assert_ptr_equal(pool_cache_get(pc), objs[50]);
	assert_null(pool_cache_get(pc));
	ps = pl_stats(pc);
	assert_int_equal(ps.ps_nget, 101);
	assert_int_equal(ps.ps_nput, 1);
	assert_int_equal(ps.ps_nfail, 2);
	for (int i = 0; i < 100; i++)
		pool_cache_put(pc, objs[i]);
	ps = pl_stats(pc);
	assert_int_equal(ps.ps_nput, 101);
	assert_int_equal(ps.ps_nobjects, 100);
	assert_int_equal(pool_cache_outstanding(pc), 0);
	pl_check_books(pc);
	pl_destroy(0);
	pl_exit();
	pl_done(state);
}

/* Far more than a cache holds, both ways, and back and forth at the edges. */
static void
test_pool_cache_overflow(void **state)
{
	enum { N = 16 * POOL_CPU_CACHE };
	struct rump_kernel *k = pl_kernel(state, 1);
	static void *objs[N];
	struct pool_cpu *pcc;
	struct pool_stats ps;
	pool_cache_t *pc;

	pl_enter(k);
	pc = pl_create(k, 0, "ovf", 32, 0, 0);
	pcc = &pc->pc_cpu[0];
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			objs[i] = pool_cache_get(pc);
			assert_non_null(objs[i]);
			*(int *)((char *)objs[i] + sizeof(void *)) = i;
		}
		pl_assert_distinct(objs, N, 32);
		pl_check_books(pc);
		for (int i = 0; i < N; i++) {
			/* nobody wrote over an object we hold */
			assert_int_equal(*(int *)((char *)objs[i] +
			    sizeof(void *)), i);
			pool_cache_put(pc, objs[i]);
			assert_true(pcc->pcc_n <= POOL_CPU_CACHE);
		}
		pl_check_books(pc);
	}
	/* around the refill and spill points */
	for (int round = 0; round < 50; round++) {
		int n = 1 + (round * 29) % (3 * POOL_CPU_CACHE);

		for (int i = 0; i < n; i++)
			objs[i] = pool_cache_get(pc);
		pl_assert_distinct(objs, n, 32);
		for (int i = 0; i < n; i++)
			pool_cache_put(pc, objs[i]);
	}
	ps = pl_stats(pc);
	assert_int_equal(ps.ps_nget, ps.ps_nput);
	assert_int_equal(ps.ps_nfail, 0);
	/* all of it on the vCPU's counters, none through the slow path */
	assert_int_equal(pcc->pcc_nget, ps.ps_nget);
	assert_int_equal(atomic_load(&pc->pc_nget_slow), 0);
	assert_int_equal(atomic_load(&pc->pc_nput_slow), 0);
	/* whole 64 KiB chunks of 32-byte objects, as many as N needed */
	assert_int_equal(ps.ps_nobjects,
	    (N + 65536 / 32 - 1) / (65536 / 32) * (65536 / 32));
	pl_check_books(pc);
	pl_destroy(0);
	pl_exit();
	pl_done(state);
}

struct pl_host {
	pool_cache_t *pc;
	struct rump_kernel *bind;	/* instance to bind to, or NULL */
	int n;
	int got;			/* non-NULL gets */
	int distinct;			/* all objects distinct */
};

/* A host thread: get n objects and put them back. */
static void *
pl_host_main(void *arg)
{
	struct pl_host *h = arg;
	void **objs = calloc((size_t)h->n, sizeof(void *));

	if (objs == NULL)
		return NULL;
	if (h->bind != NULL) {
		if (rump_thread_bind(h->bind) != 0)
			goto out;
		rump_schedule();
	}
	for (int i = 0; i < h->n; i++)
		if ((objs[i] = pool_cache_get(h->pc)) != NULL)
			h->got++;
	qsort(objs, (size_t)h->n, sizeof(void *), ptr_cmp);
	h->distinct = 1;
	for (int i = 1; i < h->n; i++)
		if (objs[i] == objs[i - 1])
			h->distinct = 0;
	for (int i = 0; i < h->n; i++)
		if (objs[i] != NULL)
			pool_cache_put(h->pc, objs[i]);
	if (h->bind != NULL) {
		rump_unschedule();
		rump_thread_unbind();
	}
out:
	free(objs);
	return NULL;
}

static void
pl_run_host(struct pl_host *h)
{
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, pl_host_main, h), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(h->got, h->n);
	assert_int_equal(h->distinct, 1);
}

/* Callers without a vCPU of the pool's instance go through the depot. */
static void
test_pool_unbound(void **state)
{
	struct rump_kernel *k = pl_kernel(state, 1);
	struct pl_host h;
	pool_cache_t *pc;
	static void *objs[200];
	unsigned nobj;

	/* this thread: never bound */
	pc = pl_create(k, 0, "unb", 48, 0, 0);
	for (int i = 0; i < 200; i++) {
		objs[i] = pool_cache_get(pc);
		assert_non_null(objs[i]);
	}
	pl_assert_distinct(objs, 200, 48);
	nobj = pc->pc_nobjects;
	assert_int_equal(nobj, 65536 / 48);
	/* straight from the depot: no vCPU cache was filled */
	assert_int_equal(pc->pc_ndepot, nobj - 200);
	assert_int_equal(pc->pc_cpu[0].pcc_n, 0);
	assert_int_equal(pc->pc_cpu[0].pcc_nget, 0);
	assert_int_equal(atomic_load(&pc->pc_nget_slow), 200);
	for (int i = 0; i < 100; i++)
		pool_cache_put(pc, objs[i]);
	assert_int_equal(atomic_load(&pc->pc_nput_slow), 100);
	assert_int_equal(pc->pc_ndepot, nobj - 100);
	assert_int_equal(pool_cache_outstanding(pc), 100);

	/* the rest goes back from a vCPU: the cache takes it */
	pl_enter(k);
	for (int i = 100; i < 200; i++)
		pool_cache_put(pc, objs[i]);
	assert_int_equal(pc->pc_cpu[0].pcc_nput, 100);
	assert_int_equal(pool_cache_outstanding(pc), 0);
	pl_check_books(pc);
	/* bound but off the vCPU counts as no vCPU too */
	objs[0] = pool_cache_get(pc);
	assert_non_null(objs[0]);
	rump_unschedule();
	pool_cache_put(pc, objs[0]);
	assert_int_equal(atomic_load(&pc->pc_nput_slow), 101);
	assert_int_equal(rump_thread_unbind(), 0);

	/* another host thread, never bound */
	memset(&h, 0, sizeof(h));
	h.pc = pc;
	h.n = 300;
	pl_run_host(&h);
	assert_int_equal(atomic_load(&pc->pc_nget_slow), 200 + 300);
	assert_int_equal(atomic_load(&pc->pc_nput_slow), 101 + 300);
	/* a thread on another instance's vCPU: not this pool's cache */
	pl_env.k2 = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, 1);
	h.bind = pl_env.k2;
	h.got = 0;
	h.n = 50;
	pl_run_host(&h);
	assert_int_equal(atomic_load(&pc->pc_nget_slow), 200 + 300 + 50);
	assert_int_equal(atomic_load(&pc->pc_nput_slow), 101 + 300 + 50);
	assert_int_equal(pool_cache_outstanding(pc), 0);
	assert_int_equal(pl_stats(pc).ps_nget, 200 + 1 + 300 + 50);
	pl_check_books(pc);
	pl_destroy(0);
	th_kernel_destroy(pl_env.k2);
	pl_env.k2 = NULL;
	pl_done(state);
}

/* The hard limit holds on the depot path as well. */
static void
test_pool_unbound_limit(void **state)
{
	struct rump_kernel *k = pl_kernel(state, 1);
	pool_cache_t *pc;
	void *objs[10];

	pc = pl_create(k, 0, "unblim", 64, 0, 10);
	for (int i = 0; i < 10; i++) {
		objs[i] = pool_cache_get(pc);
		assert_non_null(objs[i]);
	}
	assert_null(pool_cache_get(pc));
	assert_int_equal(pl_stats(pc).ps_nfail, 1);
	pool_cache_put(pc, objs[3]);
	assert_ptr_equal(pool_cache_get(pc), objs[3]);
	for (int i = 0; i < 10; i++)
		pool_cache_put(pc, objs[i]);
	assert_int_equal(pool_cache_outstanding(pc), 0);
	assert_int_equal(pc->pc_ndepot, 10);
	pl_destroy(0);
	pl_done(state);
}

static void
test_pool_leaks(void **state)
{
	struct rump_kernel *k = pl_kernel(state, 1);
	struct rump_pool_stat rs;
	unsigned npools, before;
	pool_cache_t *pc;
	void *obj, *mb;

	pl_enter(k);
	assert_false(pl_find(k, "leaky", &rs, &before));
	pc = pl_create(k, 0, "leaky", 48, 0, 0);
	assert_int_equal(rump_kernel_leaks(k), 0);
	obj = pool_cache_get(pc);
	assert_non_null(obj);
	assert_int_equal(rump_kernel_leaks(k), 1);
	assert_true(pl_find(k, "leaky", &rs, &npools));
	assert_int_equal(npools, before + 1);
	assert_int_equal(rs.nget, 1);
	assert_int_equal(rs.nput, 0);
	/* leaks add up over the instance's pools */
	mb = pool_cache_get(k->k_mbpool);
	assert_non_null(mb);
	assert_int_equal(rump_kernel_leaks(k), 2);
	pool_cache_put(k->k_mbpool, mb);
	pool_cache_put(pc, obj);
	assert_int_equal(rump_kernel_leaks(k), 0);
	pl_destroy(0);
	assert_false(pl_find(k, "leaky", &rs, &npools));
	assert_int_equal(npools, before);
	pl_exit();
	pl_done(state);
}

/* ---- two vCPUs (mp locks only: locks=up allows one vCPU) ---- */

#if TH_MAXCPU >= 2

#define HAMMER_ROUNDS 20000
#define HAMMER_MAX 150
/* below HAMMER_MAX: a round wanting more than this must see refusals */
#define HAMMER_LIMIT 100
#define XCHG_MAX 256

/* Objects handed from one thread to the other, put back by the taker. */
struct pl_xchg {
	pthread_mutex_t mtx;
	void *objs[XCHG_MAX];
	int n;
};

struct pl_worker {
	struct rump_kernel *k;
	pool_cache_t *pc;		/* no limit: gets never fail */
	pool_cache_t *lim;		/* at most HAMMER_LIMIT objects */
	struct pl_xchg *xchg;
	_Atomic int *start;		/* workers holding a vCPU */
	uint64_t tag;
	uint64_t rng;
	uint64_t gets, puts;		/* on pc */
	uint64_t lgets, lputs, lfails;	/* on lim */
	uint64_t errors;		/* NULL from pc, or a tag overwritten */
	void *held[HAMMER_MAX + XCHG_MAX];
	void *lheld[HAMMER_MAX];
};

/* Word 1 of an object holds its holder's tag (word 0 is the depot link). */
static void
pl_tag(void *obj, uint64_t tag)
{
	((volatile uint64_t *)obj)[1] = tag;
}

static bool
pl_tagged(void *obj, uint64_t tag)
{
	return ((volatile uint64_t *)obj)[1] == tag;
}

/* Pass some held objects to the other thread and take what it passed. */
static int
pl_swap(struct pl_worker *w, int n)
{
	struct pl_xchg *x = w->xchg;
	int give = MIN(n, 16), take;

	pthread_mutex_lock(&x->mtx);
	take = MIN(x->n, 16);
	for (int i = 0; i < take; i++) {
		w->held[n + i] = x->objs[--x->n];
		pl_tag(w->held[n + i], w->tag);
	}
	give = MIN(give, XCHG_MAX - x->n);
	for (int i = 0; i < give; i++)
		x->objs[x->n++] = w->held[--n];
	/* the taken ones moved down over the given ones */
	for (int i = 0; i < take; i++)
		w->held[n + i] = w->held[n + give + i];
	pthread_mutex_unlock(&x->mtx);
	return n + take;
}

static void
pl_round(struct pl_worker *w)
{
	int want = 1 + (int)(th_rand(&w->rng) % HAMMER_MAX), n = 0, nl = 0;

	for (int i = 0; i < want; i++) {
		void *l = pool_cache_get(w->lim), *o = pool_cache_get(w->pc);

		if (l != NULL) {
			w->lgets++;
			pl_tag(l, w->tag);
			w->lheld[nl++] = l;
		} else {
			w->lfails++;
		}
		if (o != NULL) {
			w->gets++;
			pl_tag(o, w->tag);
			w->held[n++] = o;
		} else {
			w->errors++;
		}
	}
	n = pl_swap(w, n);
	for (int i = 0; i < n; i++) {
		if (!pl_tagged(w->held[i], w->tag))
			w->errors++;
		pool_cache_put(w->pc, w->held[i]);
		w->puts++;
	}
	for (int i = 0; i < nl; i++) {
		if (!pl_tagged(w->lheld[i], w->tag))
			w->errors++;
		pool_cache_put(w->lim, w->lheld[i]);
		w->lputs++;
	}
}

static void *
pl_worker_main(void *arg)
{
	struct pl_worker *w = arg;

	if (rump_thread_bind(w->k) != 0) {
		w->errors++;
		return NULL;
	}
	/* both hold a vCPU at the start: each runs on its own at least once */
	rump_schedule();
	atomic_fetch_add(w->start, 1);
	while (atomic_load(w->start) < 2)
		spin_pause();
	for (int r = 0; r < HAMMER_ROUNDS; r++) {
		if (r > 0)
			rump_schedule();
		pl_round(w);
		rump_unschedule();
	}
	rump_thread_unbind();
	return NULL;
}

static void
pl_hammer_check(struct pl_worker *w, struct pl_xchg *x, pool_cache_t *pc,
    pool_cache_t *lim)
{
	struct pool_stats ps, ls;

	assert_int_equal(w[0].errors + w[1].errors, 0);
	/* what is left in the exchange goes back from this unbound thread */
	for (int i = 0; i < x->n; i++)
		pool_cache_put(pc, x->objs[i]);
	ps = pl_stats(pc);
	ls = pl_stats(lim);
	assert_int_equal(ps.ps_nget, w[0].gets + w[1].gets);
	assert_int_equal(ps.ps_nput, w[0].puts + w[1].puts + (uint64_t)x->n);
	assert_int_equal(ps.ps_nfail, 0);
	assert_int_equal(pool_cache_outstanding(pc), 0);
	assert_int_equal(ls.ps_nget, w[0].lgets + w[1].lgets);
	assert_int_equal(ls.ps_nput, w[0].lputs + w[1].lputs);
	assert_int_equal(ls.ps_nfail, w[0].lfails + w[1].lfails);
	assert_int_equal(pool_cache_outstanding(lim), 0);
	assert_true(ls.ps_nfail > 0);
	assert_int_equal(ls.ps_nobjects, HAMMER_LIMIT);
	/* both vCPUs' caches served gets */
	assert_true(pc->pc_cpu[0].pcc_nget > 0);
	assert_true(pc->pc_cpu[1].pcc_nget > 0);
	pl_check_books(pc);
	pl_check_books(lim);
}

#endif /* TH_MAXCPU >= 2 */

static void
test_pool_mp_hammer(void **state)
{
#if TH_MAXCPU >= 2
	struct rump_kernel *k = pl_kernel(state, 2);
	static struct pl_worker w[2];
	static struct pl_xchg x;
	static _Atomic int start;
	pthread_t t[2];

	memset(w, 0, sizeof(w));
	memset(&x, 0, sizeof(x));
	assert_int_equal(pthread_mutex_init(&x.mtx, NULL), 0);
	atomic_store(&start, 0);
	pl_create(k, 0, "hammer", 64, 0, 0);
	pl_create(k, 1, "hamlim", 64, 0, HAMMER_LIMIT);
	for (int i = 0; i < 2; i++) {
		w[i].k = k;
		w[i].pc = pl_env.pc[0];
		w[i].lim = pl_env.pc[1];
		w[i].xchg = &x;
		w[i].start = &start;
		w[i].tag = 0x7461670000000000ull + (uint64_t)i;
		w[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
		assert_int_equal(pthread_create(&t[i], NULL, pl_worker_main,
		    &w[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	pthread_mutex_destroy(&x.mtx);
	pl_hammer_check(w, &x, pl_env.pc[0], pl_env.pc[1]);
	pl_destroy(0);
	pl_destroy(1);
	pl_done(state);
#else
	(void)state;
	skip();
#endif
}

#define T(f) cmocka_unit_test_teardown(f, pl_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pool_counters),
		T(test_pool_align_and_tiny),
		T(test_pool_hardlimit),
		T(test_pool_cache_overflow),
		T(test_pool_unbound),
		T(test_pool_unbound_limit),
		T(test_pool_leaks),
		T(test_pool_mp_hammer),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
