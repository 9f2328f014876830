/*
 * kern_instance.c -- creating and destroying instances, binding host
 * threads, the virtual clock and statistics: the public API of
 * include/rumpnet/kernel.h.  Kernel errno values are turned into host ones
 * here, at the boundary.
 *
 * rump_kernel_create() -> kern_create(): vCPUs, sleep queues, callout
 *     wheels, mbuf pools, softint LWPs or threads, softclock, clock threads.
 * rump_kernel_destroy() -> kern_teardown(): the same in reverse.
 */
#include "kernel.h"
#include "callout.h"
#include "kthread.h"
#include "mbuf.h"
#include "softint.h"

#ifdef RUMP_LOCKS_UP
#define LOCKS_NAME "locks=up"
#else
#define LOCKS_NAME "locks=mp"
#endif
#ifdef RUMP_CURLWP_HYPERCALL
#define CURLWP_NAME "curlwp=hypercall"
#else
#define CURLWP_NAME "curlwp=tls"
#endif

const char *
rump_build_options(void)
{
	return LOCKS_NAME " " CURLWP_NAME;
}

void
rump_kernel_config_default(struct rump_kernel_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ncpu = 1;
	cfg->softint_mode = RUMP_SOFTINT_INLINE;
	cfg->clock = RUMP_CLOCK_REAL;
	cfg->clock_thread = true;
}

static int
kern_check_config(const struct rump_kernel_config *cfg)
{
	if (cfg->ncpu < 1 || cfg->ncpu > RUMP_MAXCPUS) {
		kern_print("rumpnet: ncpu must be 1..64\n");
		return EINVAL;
	}
#ifdef RUMP_LOCKS_UP
	if (cfg->ncpu > 1) {
		kern_print_u64("rumpnet: built with -Dlocks=up, an instance "
		    "may have only one vCPU; asked for ", cfg->ncpu);
		return EINVAL;
	}
#endif
	if (cfg->softint_mode != RUMP_SOFTINT_INLINE &&
	    cfg->softint_mode != RUMP_SOFTINT_THREADS)
		return EINVAL;
	if (cfg->clock != RUMP_CLOCK_REAL && cfg->clock != RUMP_CLOCK_VIRTUAL)
		return EINVAL;
	return 0;
}

/* Free whatever kern_create() got to; also the normal teardown's tail. */
static void
kern_free(struct rump_kernel *k)
{
	if (k->k_vclocklwps != NULL) {
		for (unsigned i = 0; i < k->k_ncpu; i++)
			if (k->k_vclocklwps[i] != NULL)
				lwp_destroy(k->k_vclocklwps[i]);
		hyper_free(k->k_vclocklwps, k->k_ncpu * sizeof(struct lwp *));
	}
	sched_implicit_drain(k);
	lwp_free_all(k);
	mbuf_fini(k);
	if (k->k_cpus != NULL)
		for (unsigned i = 0; i < k->k_ncpu; i++)
			callout_fini_cpu_state(&k->k_cpus[i]);
	if (k->k_sleepq[0].sc_mtx != NULL)
		sleepq_fini(k);
	if (k->k_vclock_mtx != NULL)
		hyper_mutex_destroy(k->k_vclock_mtx);
	if (k->k_pools_mtx != NULL)
		hyper_mutex_destroy(k->k_pools_mtx);
	if (k->k_implicit_mtx != NULL)
		hyper_mutex_destroy(k->k_implicit_mtx);
	if (k->k_schedcv != NULL)
		hyper_cv_destroy(k->k_schedcv);
	if (k->k_schedmtx != NULL)
		hyper_mutex_destroy(k->k_schedmtx);
	if (k->k_cpus != NULL)
		hyper_free(k->k_cpus, k->k_ncpu * sizeof(struct cpu_info));
	hyper_free(k, sizeof(*k));
}

/* Stop threads and soft interrupts; leaves what kern_free() frees. */
static void
kern_stop(struct rump_kernel *k)
{
	if (k->k_net != NULL && rump_schedule_kernel(k) == 0) {
		netstack_fini(k);
		rump_unschedule();
	}
	atomic_store(&k->k_exiting, true);
	clock_fini(k);
	if (k->k_softclock != NULL) {
		if (rump_schedule_kernel(k) == 0) {
			softint_disestablish(k->k_softclock);
			rump_unschedule();
		}
		k->k_softclock = NULL;
	}
	if (k->k_cpus != NULL)
		for (unsigned i = 0; i < k->k_ncpu; i++)
			softint_fini_cpu(k, &k->k_cpus[i]);
}

static int
kern_create(const struct rump_kernel_config *cfg, struct rump_kernel **kp)
{
	struct rump_kernel *k;
	void *mem;
	int error;

	if ((error = hyper_init(HYPER_VERSION)) != 0)
		return error == EPROGMISMATCH ? EPROTO : error;
	if ((error = kern_check_config(cfg)) != 0)
		return error;
	if ((error = hyper_malloc(sizeof(*k), CACHE_LINE_SIZE, &mem)) != 0)
		return error;
	k = mem;
	memset(k, 0, sizeof(*k));
	k->k_cfg = *cfg;
	k->k_ncpu = cfg->ncpu;
	k->k_softint_inline = cfg->softint_mode == RUMP_SOFTINT_INLINE;
	k->k_vclock = cfg->clock == RUMP_CLOCK_VIRTUAL;
	list_init(&k->k_pools);
	if (!k->k_vclock)
		hyper_clock_gettime(HYPER_CLOCK_MONO, &k->k_boot_ns);
	hyper_clock_gettime(HYPER_CLOCK_WALL, &k->k_boot_wall_ns);

	error = hyper_malloc(k->k_ncpu * sizeof(struct cpu_info),
	    CACHE_LINE_SIZE, &mem);
	if (error)
		goto fail;
	k->k_cpus = mem;
	memset(mem, 0, k->k_ncpu * sizeof(struct cpu_info));
	if ((error = hyper_mutex_init(&k->k_schedmtx)) != 0 ||
	    (error = hyper_cv_init(&k->k_schedcv)) != 0 ||
	    (error = hyper_mutex_init(&k->k_implicit_mtx)) != 0 ||
	    (error = hyper_mutex_init(&k->k_pools_mtx)) != 0 ||
	    (error = hyper_mutex_init(&k->k_vclock_mtx)) != 0 ||
	    (error = sleepq_init(k)) != 0)
		goto fail;
	for (unsigned i = 0; i < k->k_ncpu; i++) {
		struct cpu_info *ci = &k->k_cpus[i];

		ci->ci_kernel = k;
		ci->ci_index = i;
		if ((error = callout_init_cpu_state(k, ci)) != 0)
			goto fail;
	}
	if ((error = mbuf_init(k)) != 0)
		goto fail;
	if (k->k_vclock) {
		error = hyper_malloc(k->k_ncpu * sizeof(struct lwp *), 0, &mem);
		if (error)
			goto fail;
		k->k_vclocklwps = mem;
		memset(mem, 0, k->k_ncpu * sizeof(struct lwp *));
		for (unsigned i = 0; i < k->k_ncpu; i++) {
			error = lwp_create(k, LW_INTR | LW_SYSTEM,
			    &k->k_cpus[i], "vclock", &k->k_vclocklwps[i]);
			if (error)
				goto fail;
		}
	}
	for (unsigned i = 0; i < k->k_ncpu; i++)
		if ((error = softint_init_cpu(k, &k->k_cpus[i])) != 0)
			goto failstop;
	if ((error = clock_init(k)) != 0)
		goto failstop;
	if ((error = rump_schedule_kernel(k)) != 0)
		goto failstop;
	error = netstack_init(k);
	rump_unschedule();
	if (error)
		goto failstop;
	*kp = k;
	return 0;
failstop:
	kern_stop(k);
fail:
	kern_free(k);
	return error;
}

int
rump_kernel_create(const struct rump_kernel_config *cfg,
    struct rump_kernel **kp)
{
	struct rump_kernel_config def;

	if (cfg == NULL) {
		rump_kernel_config_default(&def);
		cfg = &def;
	}
	return hyper_errno_to_host(kern_create(cfg, kp));
}

int
rump_kernel_destroy(struct rump_kernel *k)
{
	if (atomic_load(&k->k_nbound) != 0)
		return hyper_errno_to_host(EBUSY);
	kern_stop(k);
	kern_free(k);
	return 0;
}

static int
thread_bind(struct rump_kernel *k, unsigned flags, struct cpu_info *ci,
    const char *name)
{
	struct lwp *l;
	int error;

	if (curlwp != NULL)
		return EBUSY;
	if ((error = lwp_create(k, flags, ci, name, &l)) != 0)
		return error;
	atomic_fetch_add(&k->k_nbound, 1);
	if (hyper_fiber_hosting())	/* a fiber host: sleep by parking */
		(void)fiber_adopt(l);
	curlwp_set(l);
	return 0;
}

int
rump_thread_bind(struct rump_kernel *k)
{
	return hyper_errno_to_host(thread_bind(k, 0, NULL, "app"));
}

int
rump_intr_bind(struct rump_kernel *k, unsigned cpu)
{
	if (cpu >= k->k_ncpu)
		return hyper_errno_to_host(EINVAL);
	return hyper_errno_to_host(thread_bind(k, LW_INTR, &k->k_cpus[cpu],
	    "intr"));
}

int
rump_thread_unbind(void)
{
	struct lwp *l = curlwp;

	if (l == NULL || (l->l_flags & (LW_IMPLICIT | LW_SYSTEM)))
		return hyper_errno_to_host(EINVAL);
	if (l->l_cpu != NULL)
		return hyper_errno_to_host(EBUSY);
	atomic_fetch_sub(&l->l_kernel->k_nbound, 1);
	curlwp_set(NULL);
	lwp_destroy(l);
	return 0;
}

void
rump_intr_tick(void)
{
	hardclock();
}

/* Run softclock on ci with the vCPU's virtual clock LWP; wait for it. */
static void
vclock_run_cpu(struct rump_kernel *k, unsigned i, uint64_t target)
{
	struct lwp *l = k->k_vclocklwps[i];
	struct callout_cpu *cc = k->k_cpus[i].ci_cc;

	sched_acquire(l);
	hardclock();
	sched_release_softints(l);	/* inline mode: softclock runs here */
	sched_acquire(l);
	mutex_enter(&cc->cc_lock);
	while (cc->cc_ticks < target)
		cv_wait(&cc->cc_done, &cc->cc_lock);
	mutex_exit(&cc->cc_lock);
	sched_release_softints(l);
}

int
rump_clock_advance(struct rump_kernel *k, uint64_t ns)
{
	struct lwp *saved = curlwp;
	uint64_t target;

	if (!k->k_vclock)
		return hyper_errno_to_host(EINVAL);
	KASSERT(saved == NULL || saved->l_cpu == NULL);
	hyper_mutex_enter(k->k_vclock_mtx);
	atomic_fetch_add_explicit(&k->k_vclock_ns, ns, memory_order_release);
	target = kern_clock_ticks(k);
	for (unsigned i = 0; i < k->k_ncpu; i++) {
		curlwp_set(k->k_vclocklwps[i]);
		vclock_run_cpu(k, i, target);
	}
	curlwp_set(saved);
	hyper_mutex_exit(k->k_vclock_mtx);
	return 0;
}

uint64_t
rump_clock_now(struct rump_kernel *k)
{
	return kern_clock_ns(k);
}

int
rump_kernel_pool_stats(struct rump_kernel *k, struct rump_pool_stat *out,
    unsigned *n)
{
	unsigned i = 0;
	struct list_node *ln;

	hyper_mutex_enter(k->k_pools_mtx);
	for (ln = k->k_pools.ln_next; ln != &k->k_pools; ln = ln->ln_next) {
		pool_cache_t *pc = container_of(ln, pool_cache_t, pc_link);
		struct pool_stats ps;

		if (i < *n) {
			pool_cache_stats(pc, &ps);
			memcpy(out[i].name, pc->pc_name, sizeof(out[i].name));
			out[i].nget = ps.ps_nget;
			out[i].nput = ps.ps_nput;
			out[i].nfail = ps.ps_nfail;
			out[i].nobjects = ps.ps_nobjects;
			out[i].hardlimit = ps.ps_hardlimit;
		}
		i++;
	}
	hyper_mutex_exit(k->k_pools_mtx);
	*n = i;
	return 0;
}

uint64_t
rump_kernel_leaks(struct rump_kernel *k)
{
	uint64_t leaks = 0;
	struct list_node *ln;

	hyper_mutex_enter(k->k_pools_mtx);
	for (ln = k->k_pools.ln_next; ln != &k->k_pools; ln = ln->ln_next)
		leaks += pool_cache_outstanding(
		    container_of(ln, pool_cache_t, pc_link));
	hyper_mutex_exit(k->k_pools_mtx);
	return leaks;
}
