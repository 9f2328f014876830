/*
 * rwlock.h -- reader/writer locks with NetBSD's interface (rwlock(9)).
 *
 * Lock word: RW_BIT_WAITERS | RW_BIT_WRITE_WANTED | RW_BIT_WRITE_LOCKED and
 * either the writer LWP (LWPs are cache-line aligned, so the low bits are
 * free) or the reader count in units of RW_READ_INCR.  A waiting writer sets
 * RW_BIT_WRITE_WANTED, which stops new readers, so writers do not starve.
 * Atomics in the mp build, plain loads and stores in the up build (see
 * mutex.h); sleepers use the same turnstiles as mutexes.
 */
#ifndef KERN_RWLOCK_H
#define KERN_RWLOCK_H

#include "libkern.h"
#include "lwp.h"

typedef struct krwlock {
	_Atomic uintptr_t rw_owner;
} krwlock_t;

typedef enum { RW_READER = 0, RW_WRITER = 1 } krw_t;

#define RW_BIT_WAITERS ((uintptr_t)1)
#define RW_BIT_WRITE_WANTED ((uintptr_t)2)
#define RW_BIT_WRITE_LOCKED ((uintptr_t)4)
#define RW_FLAGS ((uintptr_t)7)
#define RW_READ_INCR ((uintptr_t)8)

void rw_init(krwlock_t *rw);
void rw_destroy(krwlock_t *rw);
/* rw_enter: take rw as reader or writer, sleeping while that is not possible. */
void rw_enter(krwlock_t *rw, krw_t op);
/* rw_tryenter: take rw without sleeping; returns true when taken. */
bool rw_tryenter(krwlock_t *rw, krw_t op);
/* rw_exit: release one hold (read or write) of curlwp. */
void rw_exit(krwlock_t *rw);
/* rw_downgrade: turn curlwp's write hold into a read hold. */
void rw_downgrade(krwlock_t *rw);
/* rw_tryupgrade: turn the only read hold into a write hold; true if done. */
bool rw_tryupgrade(krwlock_t *rw);
/* rw_write_held: curlwp holds rw as writer.  rw_read_held: some reader does. */
bool rw_write_held(const krwlock_t *rw);
bool rw_read_held(const krwlock_t *rw);
bool rw_lock_held(const krwlock_t *rw);

#endif /* KERN_RWLOCK_H */
