/*
 * hyper_posix.c -- the hypercall interface on a POSIX host (glibc, Linux):
 * threads, host locks, clocks, memory, random bytes, curlwp and errno
 * translation.  This file and hyper_fiber.c are the only ones in the kernel
 * library that include host headers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include <sodium.h>

#include "hyper.h"

/* The kernel's numbers for the few host errors used below (errno_list.h). */
#define K_EINVAL 22
#define K_EIO 5
#define K_EPROGMISMATCH 75

static const struct {
	int kerr;
	int herr;
} errtab[] = {
#define KERRNO(name, value) { value, name },
#include "../kern/errno_list.h"
#undef KERRNO
};

int
hyper_errno_from_host(int herr)
{
	if (herr == 0)
		return 0;
	for (size_t i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].herr == herr)
			return errtab[i].kerr;
	return K_EIO;
}

int
hyper_errno_to_host(int kerr)
{
	if (kerr == 0)
		return 0;
	for (size_t i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].kerr == kerr)
			return errtab[i].herr;
	return EINVAL;
}

static pthread_key_t curlwp_key;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
hyper_init_once(void)
{
	if (pthread_key_create(&curlwp_key, NULL) != 0)
		hyper_abort();
}

int
hyper_init(int version)
{
	if (version != HYPER_VERSION)
		return K_EPROGMISMATCH;
	pthread_once(&init_once, hyper_init_once);
	return 0;
}

/* ---- memory ---- */

int
hyper_malloc(hyper_size_t size, hyper_size_t align, void **memp)
{
	void *p;

	if (align == 0) {
		p = malloc(size ? size : 1);
		if (p == NULL)
			return hyper_errno_from_host(ENOMEM);
		*memp = p;
		return 0;
	}
	if (align < sizeof(void *))
		align = sizeof(void *);
	if ((align & (align - 1)) != 0)
		return K_EINVAL;
	int error = posix_memalign(&p, align, size ? size : 1);
	if (error)
		return hyper_errno_from_host(error);
	*memp = p;
	return 0;
}

void
hyper_free(void *mem, hyper_size_t size)
{
	(void)size;
	free(mem);
}

/* ---- threads ---- */

struct hyper_thread {
	pthread_t pt;
};

struct thread_start {
	void *(*fn)(void *);
	void *arg;
	char name[16];
};

static void *
thread_trampoline(void *v)
{
	struct thread_start ts = *(struct thread_start *)v;

	free(v);
	if (ts.name[0] != '\0')
		pthread_setname_np(pthread_self(), ts.name);
	return ts.fn(ts.arg);
}

int
hyper_thread_create(void *(*fn)(void *), void *arg, const char *name,
    int cpu, int joinable, struct hyper_thread **tp)
{
	pthread_attr_t attr;
	struct thread_start *ts;
	struct hyper_thread *t = NULL;
	pthread_t pt;
	int error;

	if (cpu >= CPU_SETSIZE)
		return K_EINVAL;
	if ((ts = calloc(1, sizeof(*ts))) == NULL)
		return hyper_errno_from_host(ENOMEM);
	ts->fn = fn;
	ts->arg = arg;
	if (name != NULL)
		snprintf(ts->name, sizeof(ts->name), "%s", name);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr,
	    joinable ? PTHREAD_CREATE_JOINABLE : PTHREAD_CREATE_DETACHED);
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	if (joinable && (t = malloc(sizeof(*t))) == NULL) {
		pthread_attr_destroy(&attr);
		free(ts);
		return hyper_errno_from_host(ENOMEM);
	}
	error = pthread_create(&pt, &attr, thread_trampoline, ts);
	pthread_attr_destroy(&attr);
	if (error) {
		free(ts);
		free(t);
		return hyper_errno_from_host(error);
	}
	if (joinable) {
		t->pt = pt;
		*tp = t;
	}
	return 0;
}

int
hyper_thread_join(struct hyper_thread *t)
{
	int error = pthread_join(t->pt, NULL);

	free(t);
	return hyper_errno_from_host(error);
}

void
hyper_thread_exit(void)
{
	pthread_exit(NULL);
}

int
hyper_thread_setname(const char *name)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%s", name);
	return hyper_errno_from_host(pthread_setname_np(pthread_self(), buf));
}

void
hyper_thread_yield(void)
{
	sched_yield();
}

/* ---- host locks ---- */

struct hyper_mtx {
	pthread_mutex_t pm;
};

struct hyper_rw {
	pthread_rwlock_t prw;
};

struct hyper_cv {
	pthread_cond_t pc;
};

int
hyper_mutex_init(struct hyper_mtx **mtxp)
{
	struct hyper_mtx *mtx = malloc(sizeof(*mtx));

	if (mtx == NULL)
		return hyper_errno_from_host(ENOMEM);
	/*
	 * Adaptive: host mutexes guard short sections (pool depots, the bus)
	 * that threads pinned to different cores take at once; a short spin
	 * beats the futex round trip a plain mutex makes on contention.
	 */
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&mtx->pm, &attr);
	pthread_mutexattr_destroy(&attr);
	*mtxp = mtx;
	return 0;
}

void
hyper_mutex_enter(struct hyper_mtx *mtx)
{
	if (pthread_mutex_lock(&mtx->pm) != 0)
		hyper_abort();
}

int
hyper_mutex_tryenter(struct hyper_mtx *mtx)
{
	return hyper_errno_from_host(pthread_mutex_trylock(&mtx->pm));
}

void
hyper_mutex_exit(struct hyper_mtx *mtx)
{
	pthread_mutex_unlock(&mtx->pm);
}

void
hyper_mutex_destroy(struct hyper_mtx *mtx)
{
	pthread_mutex_destroy(&mtx->pm);
	free(mtx);
}

int
hyper_rw_init(struct hyper_rw **rwp)
{
	struct hyper_rw *rw = malloc(sizeof(*rw));

	if (rw == NULL)
		return hyper_errno_from_host(ENOMEM);
	pthread_rwlock_init(&rw->prw, NULL);
	*rwp = rw;
	return 0;
}

void
hyper_rw_enter(struct hyper_rw *rw, int write)
{
	int error = write ? pthread_rwlock_wrlock(&rw->prw) :
	    pthread_rwlock_rdlock(&rw->prw);

	if (error)
		hyper_abort();
}

int
hyper_rw_tryenter(struct hyper_rw *rw, int write)
{
	int error = write ? pthread_rwlock_trywrlock(&rw->prw) :
	    pthread_rwlock_tryrdlock(&rw->prw);

	return hyper_errno_from_host(error);
}

void
hyper_rw_exit(struct hyper_rw *rw)
{
	pthread_rwlock_unlock(&rw->prw);
}

void
hyper_rw_destroy(struct hyper_rw *rw)
{
	pthread_rwlock_destroy(&rw->prw);
	free(rw);
}

int
hyper_cv_init(struct hyper_cv **cvp)
{
	struct hyper_cv *cv = malloc(sizeof(*cv));
	pthread_condattr_t ca;

	if (cv == NULL)
		return hyper_errno_from_host(ENOMEM);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cv->pc, &ca);
	pthread_condattr_destroy(&ca);
	*cvp = cv;
	return 0;
}

void
hyper_cv_wait(struct hyper_cv *cv, struct hyper_mtx *mtx)
{
	pthread_cond_wait(&cv->pc, &mtx->pm);
}

int
hyper_cv_timedwait(struct hyper_cv *cv, struct hyper_mtx *mtx, hyper_u64 ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ns / 1000000000u);
	ts.tv_nsec += (long)(ns % 1000000000u);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	int error = pthread_cond_timedwait(&cv->pc, &mtx->pm, &ts);
	return error == ETIMEDOUT ? hyper_errno_from_host(EWOULDBLOCK) : 0;
}

void
hyper_cv_signal(struct hyper_cv *cv)
{
	pthread_cond_signal(&cv->pc);
}

void
hyper_cv_broadcast(struct hyper_cv *cv)
{
	pthread_cond_broadcast(&cv->pc);
}

void
hyper_cv_destroy(struct hyper_cv *cv)
{
	pthread_cond_destroy(&cv->pc);
	free(cv);
}

/* ---- time ---- */

int
hyper_clock_gettime(int which, hyper_u64 *nsp)
{
	struct timespec ts;
	clockid_t id;

	switch (which) {
	case HYPER_CLOCK_MONO:
		id = CLOCK_MONOTONIC;
		break;
	case HYPER_CLOCK_WALL:
		id = CLOCK_REALTIME;
		break;
	default:
		return K_EINVAL;
	}
	clock_gettime(id, &ts);
	*nsp = (hyper_u64)ts.tv_sec * 1000000000u + (hyper_u64)ts.tv_nsec;
	return 0;
}

int
hyper_clock_sleep(hyper_u64 ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u),
	};

	while (nanosleep(&ts, &ts) == -1)
		if (errno != EINTR)
			return hyper_errno_from_host(errno);
	return 0;
}

/* ---- random ---- */

int
hyper_siphash24(const unsigned char key[16], const void *buf,
    hyper_size_t len, hyper_u64 *out)
{
	unsigned char h[crypto_shorthash_siphash24_BYTES];

	(void)crypto_shorthash_siphash24(h, buf, len, key);
	memcpy(out, h, sizeof(*out));	/* little-endian, as the reference */
	return 0;
}

int
hyper_getrandom(void *buf, hyper_size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return K_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- curlwp through a thread-specific key: the classic rumpuser way ---- */

void
hyper_curlwp_set(struct lwp *l)
{
	pthread_setspecific(curlwp_key, l);
}

struct lwp *
hyper_curlwp_get(void)
{
	return pthread_getspecific(curlwp_key);
}

void
hyper_errno_set(int herr)
{
	errno = herr;
}

/* ---- console ---- */

void
hyper_putstr(const char *s)
{
	fputs(s, stderr);
	fflush(stderr);
}

void
hyper_abort(void)
{
	abort();
}
