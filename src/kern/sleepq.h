/*
 * sleepq.h -- where LWPs wait: hashed chains of sleeping LWPs, each chain
 * under a host mutex.  Condition variables use the sleep queues; mutexes and
 * rwlocks use a separate array of chains, the turnstiles, so that cv_wait()
 * can release its interlock mutex while holding a sleep queue chain.
 * Lock order: sleep queue chain -> turnstile chain.  Neither is ever held
 * while waiting for a vCPU.
 *
 * (cv_wait() ->) sleepq_enter() -> sleepq_block() -> sched_release(),
 *     host wait, sched_acquire()
 * (cv_signal() ->) sleepq_wake()
 */
#ifndef KERN_SLEEPQ_H
#define KERN_SLEEPQ_H

#include "libkern.h"
#include "list.h"
#include "lwp.h"

#define SLEEPQ_NCHAINS 64

struct sleepq_chain {
	struct hyper_mtx *sc_mtx;
	struct list_node sc_sleepers;
} __cacheline_aligned;

struct sleepq_chain *sleepq_chain(struct rump_kernel *k, const void *wchan);
struct sleepq_chain *turnstile_chain(struct rump_kernel *k, const void *wchan);
int sleepq_init(struct rump_kernel *k);
void sleepq_fini(struct rump_kernel *k);

/*
 * sleepq_prepare: before taking the chain, note the wait channel and arm the
 * timeout (timo ticks, 0 for none) of curlwp.
 */
void sleepq_prepare(struct lwp *l, const void *wchan, int timo);
/* sleepq_enqueue: with sc_mtx held, put l on the chain. */
void sleepq_enqueue(struct sleepq_chain *sc, struct lwp *l);
/*
 * sleepq_block: called with sc_mtx held after sleepq_enqueue(); drops it,
 * releases the vCPU, waits until woken or timed out, and takes a vCPU again.
 * Returns 0 (woken) or EWOULDBLOCK (timed out).
 */
int sleepq_block(struct sleepq_chain *sc, struct lwp *l);
/* sleepq_wake: with sc_mtx held, wake up to n sleepers on wchan. */
int sleepq_wake(struct sleepq_chain *sc, const void *wchan, int n);
/*
 * sleepq_flush: signal the n host threads whose wake-up a vCPU's holder
 * kept (ci_wakeq), once it has released the vCPU (sched_release()).
 */
void sleepq_flush(struct lwp *const *wq, unsigned n);

#endif /* KERN_SLEEPQ_H */
