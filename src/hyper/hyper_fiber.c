/*
 * hyper_fiber.c -- cooperative fibers multiplexed on one host thread.
 *
 * Each host thread has its own fiber scheduler (thread-local): the fiber
 * running now, a FIFO of runnable fibers (the running one is not in it), and
 * the main fiber, which is the host thread's own stack.  Switching is the
 * assembly in fiber_switch.S: callee-saved registers and the stack pointer,
 * no system call.
 *
 * A fiber that exits cannot free the stack it is running on; the fiber that
 * runs next frees it (fiber_reap()).
 *
 * Wake-ups (hyper_fiber_unpark) may come from any host thread.  All state
 * changes of a fiber happen on its own host thread: a wake-up from another
 * thread goes into the owner's inbox (a host mutex and condvar), which the
 * owner drains whenever it parks, yields or waits, and which wakes the owner
 * when it blocks with nothing to run.  A wake-up for a fiber that is not
 * parked leaves a permit, so its next park returns at once: a sleeper that
 * checks its condition and then parks loses no wake-up that came in between.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hyper.h"

#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIBER_ASAN 1
#endif
#endif

/*
 * Under valgrind (make check-valgrind) each fiber stack is registered,
 * so that memcheck takes a switch onto it for a stack switch and not for
 * a wild stack pointer; outside valgrind the requests cost a few
 * instructions, at stack creation and removal only.
 */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define FIBER_VALGRIND 1
#endif
#endif
#ifndef FIBER_VALGRIND
#define VALGRIND_STACK_REGISTER(lo, hi) 0u
#define VALGRIND_STACK_DEREGISTER(id) ((void)(id))
#endif

#ifdef FIBER_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom,
    size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save,
    const void **bottom_old, size_t *size_old);
#endif

void hyper_ctx_switch(void **save_sp, void *new_sp);
void hyper_ctx_entry(void);
void hyper_fiber_main(struct hyper_fiber *f) __attribute__((__noreturn__));

#define FIBER_STACK_DEFAULT (64 * 1024)
#define FIBER_CACHE 256		/* dead fibers' stacks kept per thread */
#define FIBER_IDLE_SPIN_NS 20000	/* inbox_spin() */

enum fiber_state { FIBER_RUNNABLE, FIBER_PARKED, FIBER_DEAD };

struct fiber_sched;

struct hyper_fiber {
	void *f_sp;			/* saved stack pointer while off CPU */
	struct hyper_fiber *f_next;	/* run queue link */
	enum fiber_state f_state;
	struct fiber_sched *f_sched;	/* the host thread's scheduler */
	int f_permit;			/* woken while not parked */
	struct hyper_fiber *f_inext;	/* inbox link [fs_mtx] */
	int f_inboxed;			/* on the inbox [fs_mtx] */
	int f_daemon;			/* not in hyper_fiber_count() */
	void (*f_fn)(void *);
	void *f_arg;
	void *f_map;			/* mapping: guard page + stack */
	size_t f_maplen;
	unsigned f_vgstack;		/* valgrind's id of the stack */
	const void *f_stack;		/* lowest usable stack byte */
	size_t f_stacksize;
	void *f_fake_stack;		/* ASan's fake stack while switched out */
};

struct fiber_sched {
	struct hyper_fiber *fs_cur;
	struct hyper_fiber *fs_head, *fs_tail;	/* runnable, not fs_cur */
	struct hyper_fiber *fs_dead;		/* to free after the switch */
	struct hyper_fiber *fs_cache;		/* freed, stack kept */
	int fs_ncache;
	struct hyper_fiber fs_main;
	int fs_count;
	int fs_ndaemon;
	int fs_ready;
	/* wake-ups from other host threads */
	pthread_mutex_t fs_mtx;
	pthread_cond_t fs_cv;
	struct hyper_fiber *fs_inbox;		/* [fs_mtx] */
	int fs_blocked;				/* [fs_mtx] owner waits on fs_cv */
	atomic_int fs_pending;			/* inbox not empty */
};

static __thread struct fiber_sched fsched;
static pthread_key_t fsched_key;
static pthread_once_t fsched_once = PTHREAD_ONCE_INIT;

/* At host thread exit: unmap the stacks kept for reuse. */
static void
fsched_exit(void *arg)
{
	struct fiber_sched *fs = arg;
	struct hyper_fiber *f;

	while ((f = fs->fs_cache) != NULL) {
		fs->fs_cache = f->f_next;
		VALGRIND_STACK_DEREGISTER(f->f_vgstack);
		munmap(f->f_map, f->f_maplen);
		free(f);
	}
	fs->fs_ncache = 0;
}

static void
fsched_key_init(void)
{
	(void)pthread_key_create(&fsched_key, fsched_exit);
}

static struct fiber_sched *
sched_get(void)
{
	struct fiber_sched *fs = &fsched;

	if (__builtin_expect(!fs->fs_ready, 0)) {
		pthread_condattr_t ca;

		pthread_mutex_init(&fs->fs_mtx, NULL);
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&fs->fs_cv, &ca);
		pthread_condattr_destroy(&ca);
		pthread_once(&fsched_once, fsched_key_init);
		(void)pthread_setspecific(fsched_key, fs);
		fs->fs_main.f_state = FIBER_RUNNABLE;
		fs->fs_main.f_sched = fs;
		fs->fs_cur = &fs->fs_main;
		fs->fs_count = 1;
		fs->fs_ready = 1;
	}
	return fs;
}

static void
runq_push(struct fiber_sched *fs, struct hyper_fiber *f)
{
	f->f_next = NULL;
	if (fs->fs_tail != NULL)
		fs->fs_tail->f_next = f;
	else
		fs->fs_head = f;
	fs->fs_tail = f;
}

static struct hyper_fiber *
runq_pop(struct fiber_sched *fs)
{
	struct hyper_fiber *f = fs->fs_head;

	if (f != NULL) {
		fs->fs_head = f->f_next;
		if (fs->fs_head == NULL)
			fs->fs_tail = NULL;
		f->f_next = NULL;
	}
	return f;
}

static void
runq_remove(struct fiber_sched *fs, struct hyper_fiber *f)
{
	struct hyper_fiber **pp, *prev = NULL;

	for (pp = &fs->fs_head; *pp != NULL; prev = *pp, pp = &(*pp)->f_next) {
		if (*pp == f) {
			*pp = f->f_next;
			if (fs->fs_tail == f)
				fs->fs_tail = prev;
			f->f_next = NULL;
			return;
		}
	}
}

/* A wake-up on the owner's thread: runnable if parked, else a permit. */
static void
fiber_wake_local(struct fiber_sched *fs, struct hyper_fiber *f)
{
	if (f->f_state == FIBER_PARKED) {
		f->f_state = FIBER_RUNNABLE;
		runq_push(fs, f);
	} else if (f->f_state == FIBER_RUNNABLE)
		f->f_permit = 1;
}

/* Take the wake-ups other host threads left in the inbox. */
static void
inbox_drain(struct fiber_sched *fs)
{
	struct hyper_fiber *f;

	if (atomic_load_explicit(&fs->fs_pending, memory_order_acquire) == 0)
		return;
	pthread_mutex_lock(&fs->fs_mtx);
	atomic_store_explicit(&fs->fs_pending, 0, memory_order_relaxed);
	while ((f = fs->fs_inbox) != NULL) {
		fs->fs_inbox = f->f_inext;
		f->f_inext = NULL;
		f->f_inboxed = 0;
		fiber_wake_local(fs, f);
	}
	pthread_mutex_unlock(&fs->fs_mtx);
}

/*
 * Before blocking, watch the inbox for up to FIBER_IDLE_SPIN_NS (or *ns,
 * if shorter; *ns becomes what is left of it): a wake-up that comes in
 * that time costs neither side a system call (the waker signals only a
 * blocked thread) nor this one a sleep and a host context switch.  That
 * is the common case of a pinned fiber thread fed by another core.
 * True: a wake-up came.
 */
static int
inbox_spin(struct fiber_sched *fs, long long *ns)
{
	long long limit = *ns < 0 || *ns > FIBER_IDLE_SPIN_NS ?
	    FIBER_IDLE_SPIN_NS : *ns, spun = 0;
	hyper_u64 start, now;

	(void)hyper_clock_gettime(HYPER_CLOCK_MONO, &start);
	for (unsigned i = 1;; i++) {
		if (atomic_load_explicit(&fs->fs_pending, memory_order_acquire))
			return 1;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#elif defined(__aarch64__)
		__asm__ __volatile__("yield");
#endif
		if ((i & 63) != 0)
			continue;
		(void)hyper_clock_gettime(HYPER_CLOCK_MONO, &now);
		if ((spun = (long long)(now - start)) >= limit)
			break;
	}
	if (*ns > 0)
		*ns = *ns > spun ? *ns - spun : 0;
	return 0;
}

/*
 * Block the host thread until a wake-up arrives in the inbox, or ns pass
 * (ns < 0: no limit), after a short spin (inbox_spin()).
 */
static void
inbox_wait(struct fiber_sched *fs, long long ns)
{
	struct timespec ts;

	if (ns != 0 && (inbox_spin(fs, &ns) || ns == 0)) {
		inbox_drain(fs);
		return;
	}
	pthread_mutex_lock(&fs->fs_mtx);
	if (fs->fs_inbox == NULL) {
		fs->fs_blocked = 1;
		if (ns < 0)
			pthread_cond_wait(&fs->fs_cv, &fs->fs_mtx);
		else {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += ns / 1000000000;
			ts.tv_nsec += ns % 1000000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			(void)pthread_cond_timedwait(&fs->fs_cv, &fs->fs_mtx,
			    &ts);
		}
		fs->fs_blocked = 0;
	}
	pthread_mutex_unlock(&fs->fs_mtx);
	inbox_drain(fs);
}

/*
 * A dead fiber: its stack mapping is kept for the next fiber of the same
 * size (a connection's fiber comes and goes with the connection: mmap,
 * mprotect and munmap would cost more than the connection's work).
 */
static void
fiber_free(struct fiber_sched *fs, struct hyper_fiber *f)
{
	if (fs->fs_ncache < FIBER_CACHE) {
		f->f_next = fs->fs_cache;
		fs->fs_cache = f;
		fs->fs_ncache++;
		return;
	}
	VALGRIND_STACK_DEREGISTER(f->f_vgstack);
	munmap(f->f_map, f->f_maplen);
	free(f);
}

static struct hyper_fiber *
fiber_cached(struct fiber_sched *fs, size_t stacksize)
{
	struct hyper_fiber **pp, *f;

	for (pp = &fs->fs_cache; (f = *pp) != NULL; pp = &f->f_next)
		if (f->f_stacksize == stacksize) {
			*pp = f->f_next;
			fs->fs_ncache--;
			return f;
		}
	return NULL;
}

/* Runs in the context that was just switched to. */
static void
fiber_reap(struct fiber_sched *fs, struct hyper_fiber *self)
{
#ifdef FIBER_ASAN
	__sanitizer_finish_switch_fiber(self->f_fake_stack, NULL, NULL);
#else
	(void)self;
#endif
	if (fs->fs_dead != NULL) {
		fiber_free(fs, fs->fs_dead);
		fs->fs_dead = NULL;
	}
}

/* Switch from fs_cur to `to`; `dying` when fs_cur will never run again. */
static void
fiber_run(struct fiber_sched *fs, struct hyper_fiber *to, int dying)
{
	struct hyper_fiber *from = fs->fs_cur;

	fs->fs_cur = to;
#ifdef FIBER_ASAN
	__sanitizer_start_switch_fiber(dying ? NULL : &from->f_fake_stack,
	    to->f_stack, to->f_stacksize);
#else
	(void)dying;
#endif
	hyper_ctx_switch(&from->f_sp, to->f_sp);
	fiber_reap(fs, from);
}

void
hyper_fiber_main(struct hyper_fiber *f)
{
	struct fiber_sched *fs = &fsched;

#ifdef FIBER_ASAN
	const void *bottom;
	size_t size;

	__sanitizer_finish_switch_fiber(NULL, &bottom, &size);
	if (fs->fs_main.f_stack == NULL) {
		/* the host thread's stack, as ASan knows it */
		fs->fs_main.f_stack = bottom;
		fs->fs_main.f_stacksize = size;
	}
#endif
	if (fs->fs_dead != NULL) {
		fiber_free(fs, fs->fs_dead);
		fs->fs_dead = NULL;
	}
	f->f_fn(f->f_arg);
	hyper_fiber_exit();
}

/* Lay out the first frame hyper_ctx_switch() will pop (fiber_switch.S). */
static void
ctx_init(struct hyper_fiber *f)
{
	uintptr_t top = ((uintptr_t)f->f_stack + f->f_stacksize) & ~(uintptr_t)15;
	uint64_t *sp;

#if defined(__x86_64__)
	/* stack at hyper_ctx_entry must be 16-aligned before its call */
	uintptr_t entry_sp = top - 16;

	sp = (uint64_t *)(entry_sp - 8 - 6 * 8 - 16);
	sp[0] = 0x037f;			/* x87 control word: default */
	sp[1] = 0x1f80;			/* MXCSR: default */
	sp[2] = 0;			/* r15 */
	sp[3] = 0;			/* r14 */
	sp[4] = 0;			/* r13 */
	sp[5] = 0;			/* r12 */
	sp[6] = (uint64_t)(uintptr_t)f;	/* rbx: argument for the entry */
	sp[7] = 0;			/* rbp */
	sp[8] = (uint64_t)(uintptr_t)hyper_ctx_entry; /* return address */
#elif defined(__aarch64__)
	sp = (uint64_t *)(top - 176);
	memset(sp, 0, 176);
	sp[0] = (uint64_t)(uintptr_t)f;	/* x19: argument for the entry */
	sp[11] = (uint64_t)(uintptr_t)hyper_ctx_entry; /* x30 */
#endif
	f->f_sp = sp;
}

int
hyper_fiber_self(struct hyper_fiber **fp)
{
	*fp = sched_get()->fs_cur;
	return 0;
}

int
hyper_fiber_create(void (*fn)(void *), void *arg, hyper_size_t stacksize,
    struct hyper_fiber **fp)
{
	struct fiber_sched *fs = sched_get();
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct hyper_fiber *f;

	if (fn == NULL)
		return 22; /* EINVAL */
	if (stacksize == 0)
		stacksize = FIBER_STACK_DEFAULT;
	if (stacksize < 4 * page)
		stacksize = 4 * page;
	stacksize = (stacksize + page - 1) & ~(page - 1);

	if ((f = fiber_cached(fs, stacksize)) != NULL) {
		void *map = f->f_map;
		size_t maplen = f->f_maplen;
		unsigned vgstack = f->f_vgstack;

		memset(f, 0, sizeof(*f));
		f->f_map = map;
		f->f_maplen = maplen;
		f->f_vgstack = vgstack;
	} else {
		if ((f = calloc(1, sizeof(*f))) == NULL)
			return 12; /* ENOMEM */
		f->f_maplen = stacksize + page;
		f->f_map = mmap(NULL, f->f_maplen, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (f->f_map == MAP_FAILED) {
			free(f);
			return 12; /* ENOMEM */
		}
		/*
		 * a guard page below the stack: overflows fault.  Without it
		 * (the map count at vm.max_map_count) an overflow would
		 * write over whatever lies below: no fiber then.
		 */
		if (mprotect(f->f_map, page, PROT_NONE) != 0) {
			munmap(f->f_map, f->f_maplen);
			free(f);
			return 12; /* ENOMEM */
		}
		f->f_vgstack = VALGRIND_STACK_REGISTER(
		    (char *)f->f_map + page, (char *)f->f_map + f->f_maplen);
	}
	f->f_stack = (char *)f->f_map + page;
	f->f_stacksize = stacksize;
	f->f_fn = fn;
	f->f_arg = arg;
	f->f_state = FIBER_RUNNABLE;
	f->f_sched = fs;
	ctx_init(f);
	fs->fs_count++;
	runq_push(fs, f);
	if (fp != NULL)
		*fp = f;
	return 0;
}

void
hyper_fiber_switch(struct hyper_fiber *to)
{
	struct fiber_sched *fs = sched_get();

	if (to == fs->fs_cur || to->f_state != FIBER_RUNNABLE)
		return;
	runq_remove(fs, to);
	runq_push(fs, fs->fs_cur);
	fiber_run(fs, to, 0);
}

void
hyper_fiber_yield(void)
{
	struct fiber_sched *fs = sched_get();
	struct hyper_fiber *next;

	inbox_drain(fs);
	if ((next = runq_pop(fs)) == NULL)
		return;
	runq_push(fs, fs->fs_cur);
	fiber_run(fs, next, 0);
}

int
hyper_fiber_park(void)
{
	struct fiber_sched *fs = sched_get();
	struct hyper_fiber *self = fs->fs_cur, *next;

	inbox_drain(fs);
	for (;;) {
		if (self->f_permit) {
			self->f_permit = 0;
			return 0;
		}
		if ((next = runq_pop(fs)) != NULL)
			break;
		inbox_wait(fs, -1);	/* only another thread can wake us */
	}
	self->f_state = FIBER_PARKED;
	fiber_run(fs, next, 0);
	return 0;
}

void
hyper_fiber_unpark(struct hyper_fiber *f)
{
	struct fiber_sched *fs = &fsched, *owner = f->f_sched;

	if (owner == fs) {
		fiber_wake_local(fs, f);
		return;
	}
	pthread_mutex_lock(&owner->fs_mtx);
	if (!f->f_inboxed) {
		f->f_inboxed = 1;
		f->f_inext = owner->fs_inbox;
		owner->fs_inbox = f;
		atomic_store_explicit(&owner->fs_pending, 1,
		    memory_order_release);
	}
	if (owner->fs_blocked)
		pthread_cond_signal(&owner->fs_cv);
	pthread_mutex_unlock(&owner->fs_mtx);
}

int
hyper_fiber_wait(hyper_u64 ns)
{
	struct fiber_sched *fs = sched_get();

	inbox_drain(fs);
	if (fs->fs_cur->f_permit) {
		/* a wake-up the caller no longer waited for: spent here */
		fs->fs_cur->f_permit = 0;
		return 0;
	}
	if (fs->fs_head != NULL)
		return 0;
	inbox_wait(fs, (long long)ns);
	return 0;
}

int
hyper_fiber_runnable(void)
{
	struct fiber_sched *fs = sched_get();

	inbox_drain(fs);
	return fs->fs_head != NULL;
}

struct hyper_fiber *
hyper_fiber_get_main(void)
{
	return &sched_get()->fs_main;
}

int
hyper_fiber_in_main(void)
{
	struct fiber_sched *fs = sched_get();

	return fs->fs_cur == &fs->fs_main;
}

int
hyper_fiber_mine(const struct hyper_fiber *f)
{
	return f != NULL && f->f_sched == &fsched;
}

void
hyper_fiber_exit(void)
{
	struct fiber_sched *fs = sched_get();
	struct hyper_fiber *self = fs->fs_cur;
	struct hyper_fiber *next;

	if (self == &fs->fs_main) {
		hyper_putstr("hyper_fiber_exit: the main fiber cannot exit\n");
		hyper_abort();
	}
	pthread_mutex_lock(&fs->fs_mtx);	/* a late wake-up: forget it */
	if (self->f_inboxed) {
		struct hyper_fiber **pp = &fs->fs_inbox;

		while (*pp != self)
			pp = &(*pp)->f_inext;
		*pp = self->f_inext;
		self->f_inboxed = 0;
	}
	pthread_mutex_unlock(&fs->fs_mtx);
	inbox_drain(fs);
	while ((next = runq_pop(fs)) == NULL)
		inbox_wait(fs, -1);	/* the others wait for another thread */
	self->f_state = FIBER_DEAD;
	if (self->f_daemon)
		fs->fs_ndaemon--;
	else
		fs->fs_count--;
	fs->fs_dead = self;
	fiber_run(fs, next, 1);
	__builtin_unreachable();
}

void
hyper_fiber_daemon(struct hyper_fiber *f)
{
	struct fiber_sched *fs = sched_get();

	if (f->f_sched == fs && !f->f_daemon && f != &fs->fs_main) {
		f->f_daemon = 1;
		fs->fs_count--;
		fs->fs_ndaemon++;
	}
}

int
hyper_fiber_hosting(void)
{
	struct fiber_sched *fs = sched_get();

	return fs->fs_count + fs->fs_ndaemon > 1;
}

int
hyper_fiber_count(void)
{
	return sched_get()->fs_count;
}
