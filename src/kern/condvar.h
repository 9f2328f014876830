/*
 * condvar.h -- condition variables with NetBSD's interface (condvar(9)).
 * cv_wait() releases the interlock mutex and the vCPU while it sleeps.
 * Timeouts are callouts, so they follow the instance's clock, virtual or
 * real.  cv_signal()/cv_broadcast() must be called with the interlock held
 * for a wake-up not to be missed, as in NetBSD.
 */
#ifndef KERN_CONDVAR_H
#define KERN_CONDVAR_H

#include "libkern.h"
#include "mutex.h"

typedef struct kcondvar {
	_Atomic unsigned cv_waiters;	/* LWPs waiting and not yet woken */
} kcondvar_t;

void cv_init(kcondvar_t *cv, const char *wmesg);
void cv_destroy(kcondvar_t *cv);
void cv_wait(kcondvar_t *cv, kmutex_t *mtx);
/* cv_timedwait: 0 when woken, EWOULDBLOCK after timo ticks (1 ms); 0 = none. */
int cv_timedwait(kcondvar_t *cv, kmutex_t *mtx, int timo);
/* The _sig variants: the kernel has no signals; they equal the others. */
int cv_wait_sig(kcondvar_t *cv, kmutex_t *mtx);
int cv_timedwait_sig(kcondvar_t *cv, kmutex_t *mtx, int timo);
void cv_signal(kcondvar_t *cv);
void cv_broadcast(kcondvar_t *cv);
bool cv_has_waiters(kcondvar_t *cv);

#endif /* KERN_CONDVAR_H */
