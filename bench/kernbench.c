/*
 * kernbench -- micro-benchmarks of the kernel runtime, each next to the
 * host (Linux/glibc) primitive it replaces where there is one.
 *
 * Prints one `BENCH <name> <value> <unit>` line per figure, then a table.
 * Figures depend on the build (-Dlocks, -Dcurlwp); scripts/bench-kern builds
 * the configurations and puts them side by side.  Every figure is the median
 * of REPEATS timed runs of a loop, in nanoseconds per operation (latencies:
 * median of single samples).
 *
 * Usage: kernbench [--config NAME] [--quick]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "median.h"
#include "rumpnet/kernel.h"
#include "kern/kernel.h"
#include "kern/callout.h"
#include "kern/mbuf.h"
#include "kern/mutex.h"
#include "kern/softint.h"

#define REPEATS 7

static long iters = 2000000;
static const char *config = "default";

struct fig {
	char name[48];
	double value;
	const char *unit;
};
static struct fig figs[32];
static int nfigs;

#define barrier() __asm__ __volatile__("" ::: "memory")

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * A cheap timestamp for latencies: the CPU's cycle counter, converted with
 * a rate measured against CLOCK_MONOTONIC (clock_gettime() itself costs
 * about as much as the inline path being measured).
 */
static inline uint64_t
ticks(void)
{
#if defined(__x86_64__)
	return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
	uint64_t v;

	__asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
	return v;
#else
	return now_ns();
#endif
}

static double ticks_per_ns = 1.0;

static void
calibrate_ticks(void)
{
	uint64_t n0 = now_ns(), t0 = ticks();

	while (now_ns() - n0 < 50 * 1000 * 1000)
		;
	ticks_per_ns = (double)(ticks() - t0) / (double)(now_ns() - n0);
}

static void
report(const char *name, double value, const char *unit)
{
	struct fig *f = &figs[nfigs++];

	snprintf(f->name, sizeof(f->name), "%s", name);
	f->value = value;
	f->unit = unit;
	printf("BENCH %s %.2f %s\n", name, value, unit);
	fflush(stdout);
}

/* ns per iteration of body(arg, n), median over REPEATS runs */
static double
time_loop(void (*body)(void *, long), void *arg, long n)
{
	double v[REPEATS];

	body(arg, n / 10);	/* warm up caches and pools */
	for (int r = 0; r < REPEATS; r++) {
		uint64_t t0 = now_ns();

		body(arg, n);
		v[r] = (double)(now_ns() - t0) / (double)n;
	}
	return median(v, REPEATS);
}

/* ---- curlwp ---- */

static void
curlwp_loop(void *arg, long n)
{
	struct lwp *sum = NULL;

	(void)arg;
	for (long i = 0; i < n; i++) {
		struct lwp *l = curlwp;

		sum = (struct lwp *)((uintptr_t)sum ^ (uintptr_t)l);
		barrier();	/* forces a fresh read each time */
	}
	__asm__ __volatile__("" : : "r"(sum));
}

/* ---- mutexes ---- */

static void
kmutex_loop(void *arg, long n)
{
	kmutex_t *m = arg;

	for (long i = 0; i < n; i++) {
		mutex_enter(m);
		barrier();
		mutex_exit(m);
	}
}

static void
pthread_mutex_loop(void *arg, long n)
{
	pthread_mutex_t *m = arg;

	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(m);
		barrier();
		pthread_mutex_unlock(m);
	}
}

/* ---- vCPU scheduling ---- */

static void
sched_loop(void *arg, long n)
{
	(void)arg;
	for (long i = 0; i < n; i++) {
		rump_schedule();
		rump_unschedule();
	}
}

/* ---- mbufs, callouts ---- */

static void
mbuf_loop(void *arg, long n)
{
	(void)arg;
	for (long i = 0; i < n; i++) {
		struct mbuf *m = m_get(M_DONTWAIT, MT_DATA);

		if (m == NULL)
			abort();
		m_free(m);
	}
}

static void
callout_noop(void *arg)
{
	(void)arg;
}

static void
callout_loop(void *arg, long n)
{
	callout_t *c = arg;

	for (long i = 0; i < n; i++) {
		callout_reset(c, 100, callout_noop, NULL);
		callout_stop(c);
	}
}

/*
 * ---- softint latency, threads mode: raise on an interrupt LWP, stamp,
 * release, stamp again in the handler on the softint thread ----
 */

struct si_bench {
	void *cookie;
	volatile uint64_t t_run;	/* ticks() */
	volatile int ran;
};

static void
si_handler(void *arg)
{
	struct si_bench *b = arg;

	b->t_run = ticks();
	__atomic_store_n(&b->ran, 1, __ATOMIC_RELEASE);
}

static double
softint_latency_threads(int samples)
{
	struct rump_kernel_config cfg;
	struct rump_kernel *k;
	struct si_bench b = { 0 };
	double *v = calloc((size_t)samples, sizeof(double));
	double med;

	rump_kernel_config_default(&cfg);
	cfg.softint_mode = RUMP_SOFTINT_THREADS;
	cfg.clock = RUMP_CLOCK_VIRTUAL;
	if (v == NULL || rump_kernel_create(&cfg, &k) != 0)
		abort();
	if (rump_intr_bind(k, 0) != 0)
		abort();
	rump_schedule();
	b.cookie = softint_establish(k, SOFTINT_NET, si_handler, &b);
	rump_unschedule();
	for (int i = -samples / 10; i < samples; i++) {
		uint64_t t_raise;

		__atomic_store_n(&b.ran, 0, __ATOMIC_RELAXED);
		rump_schedule();
		t_raise = ticks();
		softint_schedule(b.cookie);
		rump_unschedule();
		while (!__atomic_load_n(&b.ran, __ATOMIC_ACQUIRE))
			;
		if (i >= 0)
			v[i] = (double)(b.t_run - t_raise) / ticks_per_ns;
	}
	med = median(v, (unsigned)samples);
	rump_schedule();
	softint_disestablish(b.cookie);
	rump_unschedule();
	rump_thread_unbind();
	if (rump_kernel_destroy(k) != 0)
		abort();
	free(v);
	return med;
}

/*
 * Inline dispatch runs the handler inside rump_unschedule(), on the raising
 * thread, so its raise-to-run latency is a cost: the time of a loop of
 * {schedule, raise, unschedule (handler runs)} minus that of a loop of
 * {schedule, unschedule}.  That difference also counts the handler's
 * return, so it bounds the latency from above.  (Per-sample timestamps
 * would mostly measure the timer here: a cycle-counter read costs tens of
 * nanoseconds on this kind of virtual machine.)
 */
static void
si_count(void *arg)
{
	struct si_bench *b = arg;

	b->ran++;
}

static void
si_raise_loop(void *arg, long n)
{
	struct si_bench *b = arg;

	for (long i = 0; i < n; i++) {
		rump_schedule();
		softint_schedule(b->cookie);
		rump_unschedule();
	}
}

static double
softint_latency_inline(void)
{
	struct rump_kernel_config cfg;
	struct rump_kernel *k;
	struct si_bench b = { 0 };
	double with, without;

	rump_kernel_config_default(&cfg);
	cfg.clock = RUMP_CLOCK_VIRTUAL;
	if (rump_kernel_create(&cfg, &k) != 0 || rump_intr_bind(k, 0) != 0)
		abort();
	rump_schedule();
	b.cookie = softint_establish(k, SOFTINT_NET, si_count, &b);
	rump_unschedule();
	without = time_loop(sched_loop, NULL, iters);
	with = time_loop(si_raise_loop, &b, iters);
	if (!b.ran)
		abort();
	rump_schedule();
	softint_disestablish(b.cookie);
	rump_unschedule();
	rump_thread_unbind();
	if (rump_kernel_destroy(k) != 0)
		abort();
	return with - without;
}

/* ---- fibers vs a pthread condvar hand-off ---- */

static void
fiber_peer(void *arg)
{
	long n = *(long *)arg;

	for (long i = 0; i < n; i++)
		hyper_fiber_yield();
}

static void
fiber_loop(void *arg, long n)
{
	long rounds = n / 2;	/* each round is two switches */

	(void)arg;
	hyper_fiber_create(fiber_peer, &rounds, 0, NULL);
	for (long i = 0; i < rounds; i++)
		hyper_fiber_yield();
	while (hyper_fiber_count() > 1)
		hyper_fiber_yield();
}

struct pingpong {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int turn;
	long n;
};

static void *
pong(void *arg)
{
	struct pingpong *p = arg;

	pthread_mutex_lock(&p->m);
	for (long i = 0; i < p->n; i++) {
		while (p->turn != 1)
			pthread_cond_wait(&p->cv, &p->m);
		p->turn = 0;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->m);
	return NULL;
}

static void
pthread_cv_loop(void *arg, long n)
{
	struct pingpong p = { .turn = 0, .n = n / 2 };
	pthread_t t;

	(void)arg;
	pthread_mutex_init(&p.m, NULL);
	pthread_cond_init(&p.cv, NULL);
	pthread_create(&t, NULL, pong, &p);
	pthread_mutex_lock(&p.m);
	for (long i = 0; i < p.n; i++) {
		p.turn = 1;
		pthread_cond_signal(&p.cv);
		while (p.turn != 0)
			pthread_cond_wait(&p.cv, &p.m);
	}
	pthread_mutex_unlock(&p.m);
	pthread_join(t, NULL);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.m);
}

static void
print_table(void)
{
	printf("\nkernbench (%s, %s)\n", config, rump_build_options());
	printf("%-34s %12s  %s\n", "figure", "value", "unit");
	for (int i = 0; i < nfigs; i++)
		printf("%-34s %12.2f  %s\n", figs[i].name, figs[i].value,
		    figs[i].unit);
}

int
main(int argc, char **argv)
{
	struct rump_kernel_config cfg;
	struct rump_kernel *k;
	pthread_mutex_t pm = PTHREAD_MUTEX_INITIALIZER;
	kmutex_t km;
	callout_t c;
	char name[64];
	int lat_samples = 5000;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
		} else if (strcmp(argv[i], "--quick") == 0) {
			iters = 200000;
			lat_samples = 1000;
		} else {
			fprintf(stderr, "usage: kernbench [--config NAME] "
			    "[--quick]\n");
			return 2;
		}
	}

	calibrate_ticks();
	rump_kernel_config_default(&cfg);
	cfg.clock = RUMP_CLOCK_VIRTUAL;	/* no clock thread in the way */
	if (rump_kernel_create(&cfg, &k) != 0 || rump_thread_bind(k) != 0) {
		fprintf(stderr, "kernbench: cannot start an instance\n");
		return 1;
	}
	rump_schedule();

#ifdef RUMP_CURLWP_HYPERCALL
	report("curlwp_read_hypercall", time_loop(curlwp_loop, NULL, iters),
	    "ns");
#else
	report("curlwp_read_tls", time_loop(curlwp_loop, NULL, iters), "ns");
#endif
	mutex_init(&km, MUTEX_DEFAULT, IPL_NONE);
#ifdef RUMP_LOCKS_UP
	snprintf(name, sizeof(name), "mutex_enter_exit_up");
#else
	snprintf(name, sizeof(name), "mutex_enter_exit_mp");
#endif
	report(name, time_loop(kmutex_loop, &km, iters), "ns");
	mutex_destroy(&km);
	report("pthread_mutex_lock_unlock",
	    time_loop(pthread_mutex_loop, &pm, iters), "ns");
	report("mbuf_get_free", time_loop(mbuf_loop, NULL, iters), "ns");
	callout_init(&c, CALLOUT_MPSAFE);
	report("callout_reset_stop", time_loop(callout_loop, &c, iters), "ns");
	callout_destroy(&c);
	rump_unschedule();
	report("schedule_unschedule", time_loop(sched_loop, NULL, iters), "ns");
	rump_thread_unbind();
	if (rump_kernel_leaks(k) != 0 || rump_kernel_destroy(k) != 0) {
		fprintf(stderr, "kernbench: instance did not shut down clean\n");
		return 1;
	}

	report("softint_latency_inline", softint_latency_inline(), "ns");
	report("softint_latency_threads",
	    softint_latency_threads(lat_samples), "ns");
	report("fiber_switch", time_loop(fiber_loop, NULL, iters), "ns");
	report("pthread_cv_handoff",
	    time_loop(pthread_cv_loop, NULL, iters / 100), "ns");
	print_table();
	return 0;
}
