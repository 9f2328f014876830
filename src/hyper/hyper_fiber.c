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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hyper.h"

#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIBER_ASAN 1
#endif
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

enum fiber_state { FIBER_RUNNABLE, FIBER_PARKED, FIBER_DEAD };

struct hyper_fiber {
	void *f_sp;			/* saved stack pointer while off CPU */
	struct hyper_fiber *f_next;	/* run queue link */
	enum fiber_state f_state;
	void (*f_fn)(void *);
	void *f_arg;
	void *f_map;			/* mapping: guard page + stack */
	size_t f_maplen;
	const void *f_stack;		/* lowest usable stack byte */
	size_t f_stacksize;
	void *f_fake_stack;		/* ASan's fake stack while switched out */
};

struct fiber_sched {
	struct hyper_fiber *fs_cur;
	struct hyper_fiber *fs_head, *fs_tail;	/* runnable, not fs_cur */
	struct hyper_fiber *fs_dead;		/* to free after the switch */
	struct hyper_fiber fs_main;
	int fs_count;
	int fs_ready;
};

static __thread struct fiber_sched fsched;

static struct fiber_sched *
sched_get(void)
{
	struct fiber_sched *fs = &fsched;

	if (__builtin_expect(!fs->fs_ready, 0)) {
		fs->fs_main.f_state = FIBER_RUNNABLE;
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

static void
fiber_free(struct hyper_fiber *f)
{
	munmap(f->f_map, f->f_maplen);
	free(f);
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
		fiber_free(fs->fs_dead);
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
		fiber_free(fs->fs_dead);
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

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return 12; /* ENOMEM */
	f->f_maplen = stacksize + page;
	f->f_map = mmap(NULL, f->f_maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (f->f_map == MAP_FAILED) {
		free(f);
		return 12; /* ENOMEM */
	}
	/* guard page below the stack: an overflow faults instead of corrupting */
	mprotect(f->f_map, page, PROT_NONE);
	f->f_stack = (char *)f->f_map + page;
	f->f_stacksize = stacksize;
	f->f_fn = fn;
	f->f_arg = arg;
	f->f_state = FIBER_RUNNABLE;
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
	struct hyper_fiber *next = runq_pop(fs);

	if (next == NULL)
		return;
	runq_push(fs, fs->fs_cur);
	fiber_run(fs, next, 0);
}

int
hyper_fiber_park(void)
{
	struct fiber_sched *fs = sched_get();
	struct hyper_fiber *next = runq_pop(fs);

	if (next == NULL)
		return 11; /* EDEADLK: nobody would ever unpark us */
	fs->fs_cur->f_state = FIBER_PARKED;
	fiber_run(fs, next, 0);
	return 0;
}

void
hyper_fiber_unpark(struct hyper_fiber *f)
{
	struct fiber_sched *fs = sched_get();

	if (f->f_state != FIBER_PARKED)
		return;
	f->f_state = FIBER_RUNNABLE;
	runq_push(fs, f);
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
	if ((next = runq_pop(fs)) == NULL) {
		hyper_putstr("hyper_fiber_exit: no runnable fiber left\n");
		hyper_abort();
	}
	self->f_state = FIBER_DEAD;
	fs->fs_count--;
	fs->fs_dead = self;
	fiber_run(fs, next, 1);
	__builtin_unreachable();
}

int
hyper_fiber_count(void)
{
	return sched_get()->fs_count;
}
