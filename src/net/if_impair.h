/*
 * if_impair.h -- impairing the frames of any interface: loss,
 * duplication, corruption, delay, jitter, reordering (if_impair.c; the
 * contract is rump_if_impair()'s, include/rumpnet/net.h).
 *
 * if.c calls in only once ifp->if_impair is set (the first
 * rump_if_impair() that turns it on), so an interface never impaired
 * pays one load per frame.  The state stays until if_detach(); turning
 * impairment off releases what it holds and leaves it idle.
 */
#ifndef NET_IF_IMPAIR_H
#define NET_IF_IMPAIR_H

#include "kern/libkern.h"
#include "kern/mbuf.h"

struct ifnet;

enum if_impair_counter {
	IFI_LOST,		/* dropped by the loss draw */
	IFI_DUPLICATED,		/* sent on twice */
	IFI_CORRUPTED,		/* one byte flipped */
	IFI_DELAYED,		/* held on the delay queue */
	IFI_REORDERED,		/* given the extra reorder_ns */
	IFI_QDROPS,		/* dropped: the delay queue was full */
	IFI_NCOUNTERS
};

/*
 * if_impair_input: (if_input() ->) a received frame of ifp, from the
 * driver's interrupt LWP or a busy poller.  Returns false, m untouched,
 * when impairment is off: the caller queues it as usual.  Otherwise m is
 * consumed: lost, held on the delay queue, or queued for softnet
 * (if_input_enqueue()), a duplicate too.
 */
bool if_impair_input(struct ifnet *ifp, struct mbuf *m);
/*
 * if_impair_output: (if_transmit() ->) a frame for the driver of ifp
 * (up), net lock held.  Returns false, m untouched, when impairment is
 * off.  Otherwise m is consumed: lost, held, or handed to the driver
 * (if_handoff()), whose result goes to *errorp (0 for a frame lost or
 * held: the wire does not report those).
 */
bool if_impair_output(struct ifnet *ifp, struct mbuf *m, int *errorp);
/*
 * if_impair_detach: (if_detach() ->) stop the callout and free the frames
 * held and the state.  The driver's own threads must be gone; the net
 * lock is not held (it is taken here).
 */
void if_impair_detach(struct ifnet *ifp);
/* if_impair_counters: ifp's impairment counters (zeros if never on). */
void if_impair_counters(struct ifnet *ifp, uint64_t c[IFI_NCOUNTERS]);

#endif /* NET_IF_IMPAIR_H */
