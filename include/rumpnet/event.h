/*
 * rumpnet/event.h -- kqueue and kevent for rumpnet descriptors, with the
 * BSD interface (the host, Linux, has no kqueue of its own, so the
 * structure and constants are defined here, with FreeBSD's layout and
 * values).
 *
 * Filters: EVFILT_READ (data: bytes ready to read; EV_EOF when the socket
 * can receive no more) and EVFILT_WRITE (data: space in the send buffer;
 * EV_EOF when it can send no more); with EV_EOF, fflags is the pending
 * socket error (0 for none), as FreeBSD.
 * EVFILT_READ fires when poll() would say POLLIN: on a stream socket once
 * SO_RCVLOWAT bytes are there; on a datagram socket whenever a datagram
 * is queued, as Linux's epoll has it (SO_RCVLOWAT is not used), a datagram
 * of zero bytes included (data 0).
 * Flags: EV_ADD, EV_DELETE, EV_ENABLE, EV_DISABLE, EV_ONESHOT (reported
 * once, then deleted), EV_CLEAR (reported again only after new activity),
 * EV_RECEIPT.  Events are level-triggered otherwise.  Closing a socket
 * removes its events; closing the kqueue removes them all.
 */
#ifndef RUMPNET_EVENT_H
#define RUMPNET_EVENT_H

#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kevent {
	uintptr_t ident;	/* descriptor */
	int16_t filter;		/* EVFILT_* */
	uint16_t flags;		/* EV_* */
	uint32_t fflags;
	int64_t data;
	void *udata;
};

#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)

#define EV_ADD 0x0001
#define EV_DELETE 0x0002
#define EV_ENABLE 0x0004
#define EV_DISABLE 0x0008
#define EV_ONESHOT 0x0010
#define EV_CLEAR 0x0020
#define EV_RECEIPT 0x0040
#define EV_ERROR 0x4000
#define EV_EOF 0x8000

#define EV_SET(kevp, a, b, c, d, e, f) do {		\
	struct kevent *ev_p_ = (kevp);			\
	ev_p_->ident = (a);				\
	ev_p_->filter = (b);				\
	ev_p_->flags = (c);				\
	ev_p_->fflags = (d);				\
	ev_p_->data = (e);				\
	ev_p_->udata = (f);				\
} while (0)

/* rump_sys_kqueue: a new kqueue descriptor of the calling thread's instance. */
int rump_sys_kqueue(void);
/*
 * rump_sys_kevent: apply nchanges changes, then return up to nevents
 * events, waiting up to timeout (NULL: forever; zero: not at all).
 * Returns the number of events; a change that fails is reported as an
 * event with EV_ERROR and data = errno when there is room, else -1/errno.
 * Errors: EBADF (kq not a kqueue, or closed while the call waited),
 * EFAULT, EINVAL (nevents < 0, bad timeout), ENOENT (EV_DELETE of
 * nothing), EBADF (ident not a descriptor).  A level-triggered event
 * reported goes behind the others, so a short eventlist gives each ready
 * one its turn.
 */
int rump_sys_kevent(int kq, const struct kevent *changelist, int nchanges,
    struct kevent *eventlist, int nevents, const struct timespec *timeout);

#ifdef __cplusplus
}
#endif

#endif /* RUMPNET_EVENT_H */
