/*
 * kern_event.c -- kqueue and kevent over the instance's sockets
 * (interface: include/rumpnet/event.h).
 *
 * rump_sys_kevent() -> kqueue_register() for each change
 *     -> kqueue_scan(): filt_read()/filt_write() on each knote, waiting on
 *        the instance's poll condvar (signalled by sorwakeup()/sowwakeup())
 *        while nothing is ready
 *
 * A knote is on its kqueue's list and on its socket's so_klist; closing
 * either side frees it, so no knote outlives its socket.  EV_CLEAR is
 * implemented with the socket buffers' wake-up generations: a cleared
 * knote fires again only after the buffer saw a new wake-up.
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "sys/filedesc.h"
#include "sys/socketvar.h"
#include "sys/syscalls.h"

/* the public layout (include/rumpnet/event.h) */
struct kevent {
	uintptr_t ident;
	int16_t filter;
	uint16_t flags;
	uint32_t fflags;
	int64_t data;
	void *udata;
};

struct timespec {
	long tv_sec;
	long tv_nsec;
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

struct kqueue {
	struct list_node kq_knotes;
	unsigned kq_waiters;		/* kevent() calls asleep on it */
	bool kq_closed;			/* its descriptor went meanwhile: the
					   last waiter frees it */
};

struct knote {
	struct list_node kn_kqlink;	/* kq_knotes */
	struct list_node kn_solink;	/* so_klist */
	struct kqueue *kn_kq;
	struct socket *kn_so;
	uintptr_t kn_ident;
	int16_t kn_filter;
	uint16_t kn_flags;		/* EV_ONESHOT, EV_CLEAR */
	bool kn_disabled;
	void *kn_udata;
	uint64_t kn_gen;		/* buffer generation last reported */
};

static void
knote_free(struct knote *kn)
{
	list_remove(&kn->kn_kqlink);
	list_remove(&kn->kn_solink);
	hyper_free(kn, sizeof(*kn));
}

void
kqueue_close(struct netstack *ns, struct kqueue *kq)
{
	struct list_node *ln;

	while ((ln = list_first(&kq->kq_knotes)) != NULL)
		knote_free(container_of(ln, struct knote, kn_kqlink));
	if (kq->kq_waiters > 0) {
		/*
		 * a kevent() waits on it: it wakes and fails with EBADF (the
		 * descriptor may name another kqueue by then)
		 */
		kq->kq_closed = true;
		cv_broadcast(&ns->ns_pollcv);
		return;
	}
	hyper_free(kq, sizeof(*kq));
}

void
knote_socket_gone(struct socket *so)
{
	struct list_node *ln;

	while ((ln = list_first(&so->so_klist)) != NULL)
		knote_free(container_of(ln, struct knote, kn_solink));
}

int
rump_sys_kqueue(void)
{
	struct netstack *ns;
	struct kqueue *kq;
	void *mem;
	int error, fd;

	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if (hyper_malloc(sizeof(*kq), 0, &mem) != 0)
		return (int)sys_exit(ns, ENOMEM, 0);
	kq = mem;
	memset(kq, 0, sizeof(*kq));
	list_init(&kq->kq_knotes);
	if ((fd = fd_alloc(ns, FT_KQUEUE, kq)) < 0) {
		hyper_free(kq, sizeof(*kq));
		return (int)sys_exit(ns, EMFILE, 0);
	}
	return (int)sys_exit(ns, 0, fd);
}

static struct knote *
knote_find(struct kqueue *kq, uintptr_t ident, int16_t filter)
{
	struct list_node *ln;

	for (ln = kq->kq_knotes.ln_next; ln != &kq->kq_knotes;
	    ln = ln->ln_next) {
		struct knote *kn = container_of(ln, struct knote, kn_kqlink);

		if (kn->kn_ident == ident && kn->kn_filter == filter)
			return kn;
	}
	return NULL;
}

/* Apply one change; 0 or an errno. */
static int
kqueue_register(struct netstack *ns, struct kqueue *kq,
    const struct kevent *kev)
{
	struct knote *kn;
	struct socket *so;
	void *mem;
	int error;

	if (kev->filter != EVFILT_READ && kev->filter != EVFILT_WRITE)
		return EINVAL;
	kn = knote_find(kq, kev->ident, kev->filter);
	if (kev->flags & EV_DELETE) {
		if (kn == NULL)
			return ENOENT;
		knote_free(kn);
		return 0;
	}
	if (kn == NULL) {
		if (!(kev->flags & EV_ADD))
			return ENOENT;
		if (kev->ident > 0x7fffffff)
			return EBADF;
		if ((error = fd_socket(ns, (int)kev->ident, &so)) != 0)
			return error == ENOTSOCK ? EINVAL : error;
		sorele(so);	/* the descriptor keeps it; so_klist ties us */
		if (hyper_malloc(sizeof(*kn), 0, &mem) != 0)
			return ENOMEM;
		kn = mem;
		memset(kn, 0, sizeof(*kn));
		kn->kn_kq = kq;
		kn->kn_so = so;
		kn->kn_ident = kev->ident;
		kn->kn_filter = kev->filter;
		kn->kn_gen = UINT64_MAX;	/* first report needs no wake-up */
		list_insert_tail(&kq->kq_knotes, &kn->kn_kqlink);
		list_insert_tail(&so->so_klist, &kn->kn_solink);
		/* as FreeBSD: its kind is set once; later changes keep it */
		kn->kn_flags = kev->flags & (EV_ONESHOT | EV_CLEAR);
	}
	kn->kn_udata = kev->udata;
	if (kev->flags & EV_DISABLE)
		kn->kn_disabled = true;
	if (kev->flags & (EV_ENABLE | EV_ADD))
		kn->kn_disabled = (kev->flags & EV_DISABLE) != 0;
	return 0;
}

/* Whether kn fires now; fills kev. */
static bool
knote_fires(struct knote *kn, struct kevent *kev)
{
	struct socket *so = kn->kn_so;
	struct sockbuf *sb;
	bool ready;

	memset(kev, 0, sizeof(*kev));
	kev->ident = kn->kn_ident;
	kev->filter = kn->kn_filter;
	kev->udata = kn->kn_udata;
	if (kn->kn_filter == EVFILT_READ) {
		sb = &so->so_rcv;
		kev->data = sb->sb_cc;
		/* EV_EOF carries the socket's error (FreeBSD's filt_soread) */
		if (so->so_state & SS_CANTRCVMORE) {
			kev->flags |= EV_EOF;
			kev->fflags = (uint32_t)hyper_errno_to_host(
			    so->so_error);
		}
		if (so->so_options & SOO_ACCEPTCONN) {
			/* a listener: connections waiting for accept() */
			kev->data = so->so_qlen;
			ready = so->so_qlen > 0;
		} else {
			/*
			 * As poll: a datagram socket is readable while it
			 * holds a datagram, be it of zero bytes (data 0).
			 */
			ready = soreadable(so);
		}
	} else {
		sb = &so->so_snd;
		kev->data = sbspace(sb);
		if (so->so_state & SS_CANTSENDMORE) {
			kev->flags |= EV_EOF;
			kev->fflags = (uint32_t)hyper_errno_to_host(
			    so->so_error);
		}
		/* streams: as poll, nothing while connecting */
		ready = sowriteable(so) || (kev->flags & EV_EOF);
	}
	if (!ready || kn->kn_disabled)
		return false;
	if ((kn->kn_flags & EV_CLEAR) && kn->kn_gen == sb->sb_gen)
		return false;	/* already reported, nothing new since */
	kn->kn_gen = sb->sb_gen;
	kev->flags |= kn->kn_flags;
	return true;
}

static int
kqueue_scan(struct kqueue *kq, struct kevent *out, int nevents)
{
	struct list_node *ln, *next, reported;
	int n = 0;

	/*
	 * What is reported goes to the back, so that a short event list
	 * gives every ready knote its turn (one flooded socket does not
	 * hide the others: FreeBSD requeues them so)
	 */
	list_init(&reported);
	for (ln = kq->kq_knotes.ln_next; ln != &kq->kq_knotes && n < nevents;
	    ln = next) {
		struct knote *kn = container_of(ln, struct knote, kn_kqlink);
		struct kevent kev;

		next = ln->ln_next;
		if (!knote_fires(kn, &kev))
			continue;
		memcpy(&out[n++], &kev, sizeof(kev));
		if (kn->kn_flags & EV_ONESHOT) {
			knote_free(kn);
			continue;
		}
		list_remove(ln);
		list_insert_tail(&reported, ln);
	}
	while ((ln = list_first(&reported)) != NULL) {
		list_remove(ln);
		list_insert_tail(&kq->kq_knotes, ln);
	}
	return n;
}

int
rump_sys_kevent(int kqfd, const struct kevent *changelist, int nchanges,
    struct kevent *eventlist, int nevents, const struct timespec *timeout)
{
	struct netstack *ns;
	struct kqueue *kq;
	uint64_t deadline = 0;
	int error, n = 0;

	if (nchanges < 0 || nevents < 0)
		return (int)sys_return(EINVAL, 0);
	if ((nchanges > 0 && changelist == NULL) ||
	    (nevents > 0 && eventlist == NULL))
		return (int)sys_return(EFAULT, 0);
	if (timeout != NULL && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 ||
	    timeout->tv_nsec >= 1000000000L))
		return (int)sys_return(EINVAL, 0);
	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if ((error = fd_kqueue(ns, kqfd, &kq)) != 0)
		return (int)sys_exit(ns, error, 0);
	for (int i = 0; i < nchanges; i++) {
		struct kevent kev = changelist[i];

		error = kqueue_register(ns, kq, &kev);
		if (error == 0 && !(kev.flags & EV_RECEIPT))
			continue;
		/* report the outcome in the event list, or fail the call */
		if (n >= nevents)
			return (int)sys_exit(ns, error, 0);
		kev.flags = EV_ERROR;
		kev.data = error == 0 ? 0 :
		    hyper_errno_to_host(error);
		memcpy(&eventlist[n++], &kev, sizeof(kev));
	}
	if (n > 0 || nevents == 0)
		return (int)sys_exit(ns, 0, n);
	if (timeout != NULL) {
		/* saturating: a timeout of centuries is forever */
		uint64_t now = kern_clock_ns(ns->ns_kernel);
		uint64_t sec = (uint64_t)timeout->tv_sec;

		deadline = sec >= (UINT64_MAX - now) / 1000000000u - 1 ?
		    UINT64_MAX : now + sec * 1000000000u +
		    (uint64_t)timeout->tv_nsec;
	}
	for (;;) {
		int ticks = 0;

		if ((n = kqueue_scan(kq, eventlist, nevents)) > 0)
			break;
		if (timeout != NULL) {
			uint64_t now = kern_clock_ns(ns->ns_kernel);

			if (now >= deadline)
				break;
			ticks = (int)MIN((deadline - now + 999999) / 1000000,
			    (uint64_t)0x7fffffff);
		}
		/*
		 * A non-blocking SO_BUSY_POLL call may have taken the ports:
		 * a sleeper gives them back to the receive threads.
		 */
		netstack_poll_done(ns);
		ns->ns_npollers++;
		kq->kq_waiters++;
		(void)cv_timedwait(&ns->ns_pollcv, &ns->ns_lock, ticks);
		kq->kq_waiters--;
		ns->ns_npollers--;
		/* the kqueue may have been closed while we slept */
		if (kq->kq_closed) {
			if (kq->kq_waiters == 0)
				hyper_free(kq, sizeof(*kq));
			return (int)sys_exit(ns, EBADF, 0);
		}
	}
	return (int)sys_exit(ns, 0, n);
}
