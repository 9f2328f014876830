/*
 * hyper.h -- the hypercall interface: everything the rumpnet kernel asks of
 * its host goes through the functions declared here.
 *
 * Rules of this header (they are what keep the kernel hostable anywhere):
 *  - it includes nothing, so kernel code can include it without pulling in a
 *    single host header;
 *  - HYPER_VERSION is bumped on every incompatible change and checked by
 *    hyper_init();
 *  - every call that can fail returns 0 or a *kernel* errno value (the
 *    NetBSD numbering of src/kern/errno_list.h) and passes results out
 *    through pointers;
 *  - host objects are opaque: the kernel holds pointers and never looks in.
 *
 * The POSIX implementation lives in hyper_posix.c (threads, locks, clock,
 * memory, random, curlwp, errno) and hyper_fiber.c (fibers).
 */
#ifndef RUMPNET_HYPER_H
#define RUMPNET_HYPER_H

#define HYPER_VERSION 1

typedef __SIZE_TYPE__ hyper_size_t;
typedef __UINT64_TYPE__ hyper_u64;

struct lwp;
struct hyper_thread;
struct hyper_mtx;
struct hyper_rw;
struct hyper_cv;
struct hyper_fiber;

/*
 * hyper_init: check that kernel and host agree on HYPER_VERSION and set up
 * process-wide host state.  May be called any number of times.
 * Returns 0, or EPROGMISMATCH when the versions differ.
 */
int hyper_init(int version);

/* ---- memory ---- */

/*
 * hyper_malloc: allocate size bytes aligned to align (a power of two, 0 for
 * the natural alignment).  Returns 0 and *memp, or ENOMEM / EINVAL.
 */
int hyper_malloc(hyper_size_t size, hyper_size_t align, void **memp);
/* hyper_free: release memory from hyper_malloc (size as allocated). */
void hyper_free(void *mem, hyper_size_t size);

/* ---- threads ---- */

/*
 * hyper_thread_create: start fn(arg) on a new host thread.  name is shown by
 * the host tools (truncated to 15 bytes); cpu >= 0 pins the thread to that
 * host CPU.  With joinable, *tp receives a handle for hyper_thread_join().
 * Returns 0, EAGAIN (host out of threads) or EINVAL (bad cpu).
 */
int hyper_thread_create(void *(*fn)(void *), void *arg, const char *name,
    int cpu, int joinable, struct hyper_thread **tp);
/* hyper_thread_join: wait for a joinable thread and free its handle. */
int hyper_thread_join(struct hyper_thread *t);
/* hyper_thread_exit: end the calling host thread. */
void hyper_thread_exit(void) __attribute__((__noreturn__));
/* hyper_thread_setname: rename the calling host thread. */
int hyper_thread_setname(const char *name);
/* hyper_thread_yield: give up the host CPU. */
void hyper_thread_yield(void);

/* ---- host mutex, rwlock, condvar (never held across a vCPU switch) ---- */

int hyper_mutex_init(struct hyper_mtx **mtxp);
void hyper_mutex_enter(struct hyper_mtx *mtx);
/* hyper_mutex_tryenter: 0 when taken, EBUSY when held elsewhere. */
int hyper_mutex_tryenter(struct hyper_mtx *mtx);
void hyper_mutex_exit(struct hyper_mtx *mtx);
void hyper_mutex_destroy(struct hyper_mtx *mtx);

#define HYPER_RW_READER 0
#define HYPER_RW_WRITER 1
int hyper_rw_init(struct hyper_rw **rwp);
void hyper_rw_enter(struct hyper_rw *rw, int write);
/* hyper_rw_tryenter: 0 when taken, EBUSY otherwise. */
int hyper_rw_tryenter(struct hyper_rw *rw, int write);
void hyper_rw_exit(struct hyper_rw *rw);
void hyper_rw_destroy(struct hyper_rw *rw);

int hyper_cv_init(struct hyper_cv **cvp);
void hyper_cv_wait(struct hyper_cv *cv, struct hyper_mtx *mtx);
/*
 * hyper_cv_timedwait: wait at most ns nanoseconds.  Returns 0 when woken,
 * EWOULDBLOCK when the time ran out (spurious wake-ups return 0).
 */
int hyper_cv_timedwait(struct hyper_cv *cv, struct hyper_mtx *mtx,
    hyper_u64 ns);
void hyper_cv_signal(struct hyper_cv *cv);
void hyper_cv_broadcast(struct hyper_cv *cv);
void hyper_cv_destroy(struct hyper_cv *cv);

/* ---- time ---- */

#define HYPER_CLOCK_MONO 0 /* since an arbitrary point, never steps */
#define HYPER_CLOCK_WALL 1 /* since the Unix epoch */
/* hyper_clock_gettime: nanoseconds on the given clock; EINVAL for others. */
int hyper_clock_gettime(int which, hyper_u64 *nsp);
/* hyper_clock_sleep: sleep the host thread for ns nanoseconds. */
int hyper_clock_sleep(hyper_u64 ns);

/* ---- random ---- */

/* hyper_getrandom: fill buf from the host's random source; 0 or EIO. */
int hyper_getrandom(void *buf, hyper_size_t len);
/*
 * hyper_siphash24: SipHash-2-4 of len bytes at buf under the 16-byte key
 * (TCP initial sequence numbers, RFC 6528; SYN cookies).  Writes the
 * 64-bit result to *out.  Returns 0.
 */
int hyper_siphash24(const unsigned char key[16], const void *buf,
    hyper_size_t len, hyper_u64 *out);

/* ---- curlwp, the hypercall flavour ---- */

/* hyper_curlwp_set/get: the LWP bound to the calling host thread. */
void hyper_curlwp_set(struct lwp *l);
struct lwp *hyper_curlwp_get(void);

/* ---- errno translation ---- */

/* hyper_errno_to_host: the host's value for a kernel errno. */
int hyper_errno_to_host(int kerr);
/* hyper_errno_from_host: the kernel's value for a host errno (EIO if none). */
int hyper_errno_from_host(int herr);

/* hyper_errno_set: set the calling host thread's errno (a host value). */
void hyper_errno_set(int herr);

/* ---- console ---- */

/* hyper_putstr: write a string to the host's diagnostic output. */
void hyper_putstr(const char *s);
/* hyper_abort: end the process after a kernel panic. */
void hyper_abort(void) __attribute__((__noreturn__));

/* ---- packet capture files (pcap: tcpdump, Wireshark) ---- */

#define HYPER_PCAP_ETHERNET 1	/* LINKTYPE_ETHERNET */
#define HYPER_PCAP_RAW_IPV4 228	/* LINKTYPE_IPV4 */

struct hyper_pcap;
struct hyper_iovec {
	const void *iov_base;
	hyper_size_t iov_len;
};

/*
 * hyper_pcap_open: create or truncate path as a capture file of linktype
 * (HYPER_PCAP_*), keeping at most snaplen bytes of each packet, with
 * nanosecond timestamps.  Returns 0 and *pp, or EINVAL, ENOENT, EACCES,
 * ENOMEM (kernel errnos).
 */
int hyper_pcap_open(const char *path, int linktype, unsigned snaplen,
    struct hyper_pcap **pp);
/*
 * hyper_pcap_write: append one packet stamped ts_ns (nanoseconds since the
 * Unix epoch) whose bytes are the iovcnt segments of iov, in order; origlen
 * is the packet's full length (more than the segments hold when the caller
 * already cut it).  Safe from several host threads at once.  Returns 0, EIO
 * or ENOMEM.
 */
int hyper_pcap_write(struct hyper_pcap *p, hyper_u64 ts_ns,
    const struct hyper_iovec *iov, int iovcnt, unsigned origlen);
/* hyper_pcap_flush: push buffered packets to the file.  0 or EIO. */
int hyper_pcap_flush(struct hyper_pcap *p);
/* hyper_pcap_close: flush and close. */
void hyper_pcap_close(struct hyper_pcap *p);

/* ---- fibers: cooperative threads multiplexed on one host thread ----
 *
 * Each host thread that uses fibers first calls hyper_fiber_self(), which
 * turns its own context into the "main" fiber of a run queue owned by that
 * host thread.  New fibers join the run queue of the host thread that creates
 * them and never migrate.  Nothing here is preemptive: a fiber runs until it
 * switches, yields, parks or exits.  hyper_fiber_unpark() may be called from
 * any host thread; everything else acts on the calling thread's fibers.
 */

/* hyper_fiber_self: the calling fiber (creates the main fiber on first use). */
int hyper_fiber_self(struct hyper_fiber **fp);
/*
 * hyper_fiber_create: a new runnable fiber that will call fn(arg) on its own
 * stack of stacksize bytes (0: 64 KiB), placed at the tail of the caller's
 * run queue.  Returns 0, ENOMEM or EINVAL.
 */
int hyper_fiber_create(void (*fn)(void *), void *arg, hyper_size_t stacksize,
    struct hyper_fiber **fp);
/* hyper_fiber_switch: run `to` now; the caller stays runnable. */
void hyper_fiber_switch(struct hyper_fiber *to);
/* hyper_fiber_yield: run the next runnable fiber, if any. */
void hyper_fiber_yield(void);
/*
 * hyper_fiber_park: stop being runnable and run the next fiber until the
 * caller is unparked; with no fiber to run, the host thread blocks until a
 * wake-up comes from another host thread.  Returns 0 after the wake-up, at
 * once if one came since the caller last parked (a permit).
 */
int hyper_fiber_park(void);
/*
 * hyper_fiber_unpark: make a parked fiber runnable, from any host thread;
 * a fiber that is not parked keeps a permit for its next park.  A fiber
 * must not exit while another host thread may still unpark it.
 */
void hyper_fiber_unpark(struct hyper_fiber *f);
/*
 * hyper_fiber_wait: when no other fiber of the calling host thread is
 * runnable, block it until a wake-up from another host thread or ns pass.
 * Returns 0.
 */
int hyper_fiber_wait(hyper_u64 ns);
/* hyper_fiber_runnable: nonzero when another fiber waits to run. */
int hyper_fiber_runnable(void);
/* hyper_fiber_get_main: the calling host thread's main fiber. */
struct hyper_fiber *hyper_fiber_get_main(void);
/* hyper_fiber_in_main: nonzero when the caller is its thread's main fiber. */
int hyper_fiber_in_main(void);
/* hyper_fiber_mine: nonzero when f belongs to the calling host thread. */
int hyper_fiber_mine(const struct hyper_fiber *f);
/* hyper_fiber_exit: end the calling (non-main) fiber. */
void hyper_fiber_exit(void) __attribute__((__noreturn__));
/*
 * hyper_fiber_count: fibers alive on the calling host thread (main
 * included), daemons left out.
 */
int hyper_fiber_count(void);
/*
 * hyper_fiber_daemon: leave f, a fiber of the calling thread, out of
 * hyper_fiber_count() (a service loop that lives as long as the thread).
 */
void hyper_fiber_daemon(struct hyper_fiber *f);
/* hyper_fiber_hosting: nonzero when the thread has fibers besides main. */
int hyper_fiber_hosting(void);

#endif /* RUMPNET_HYPER_H */
