/*
 * uipc_socket.c -- the socket layer: creation, binding, connecting,
 * listening and accepting, sending and receiving through socket buffers,
 * options, shutdown, close.
 *
 * (rump_sys_sendto() ->) sosend() -> copy in -> pr_send()
 *     streams: sosend_stream() -> wait for room in so_snd -> pr_send()
 * (rump_sys_recvfrom() ->) soreceive() -> wait on so_rcv -> copy out
 *     streams: soreceive_stream() -> copy out -> sbdrop() -> pr_rcvd()
 * (rump_sys_connect() ->) soconnect() -> pr_connect() -> wait on so_snd
 * (rump_sys_accept() ->) soaccept() -> wait on head's so_rcv -> so_q
 * (rump_sys_close() ->) soclose() -> pr_abort() for unaccepted
 *     connections -> [SO_LINGER: pr_disconnect(), wait] -> pr_detach()
 *
 * What protocols call (buffers, state changes, sonewconn()) is in
 * uipc_socket2.c.  All of it runs with the instance's net lock held; a
 * call that must wait sleeps on a socket buffer's condvar, which releases
 * the lock and the vCPU.
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "sys/socketvar.h"

#define SB_MAX (4 * 1024 * 1024)

/*
 * The SYN queue of a listener: twice its accept queue, so a burst of
 * handshakes can complete while the application accepts, but never fewer
 * than SOQ0_MIN (a listen(fd, 1) server still takes a few SYNs at once)
 * nor more than SOMAXCONN (one listener cannot take all the memory).
 */
#define SOQ0_MIN 16

extern const struct protosw udp_protosw;
extern const struct protosw tcp_protosw;
extern const struct protosw rip_protosw;

static const struct protosw *
pffindproto(int type, int proto)
{
	if (type == SOCK_DGRAM && (proto == 0 || proto == IPPROTO_UDP))
		return &udp_protosw;
	if (type == SOCK_STREAM && (proto == 0 || proto == IPPROTO_TCP))
		return &tcp_protosw;
	/* raw: any IP protocol, 0 receiving every one (raw_ip.c) */
	if (type == SOCK_RAW && proto >= 0 && proto < IPPROTO_MAX)
		return &rip_protosw;
	return NULL;
}

int
socreate(struct rump_kernel *k, int type, int proto, struct socket **sop)
{
	const struct protosw *pr;
	struct socket *so;
	int error;

	if (type != SOCK_DGRAM && type != SOCK_STREAM && type != SOCK_RAW)
		return ESOCKTNOSUPPORT;
	if ((pr = pffindproto(type, proto)) == NULL)
		return EPROTONOSUPPORT;
	if ((so = soalloc(k, pr, type)) == NULL)
		return ENOBUFS;
	so->so_protocol = (short)(proto != 0 ? proto : pr->pr_protocol);
	if ((error = pr->pr_attach(so)) != 0) {
		sodealloc(so);
		return error;
	}
	*sop = so;
	return 0;
}

static void
sofree(struct socket *so)
{
	KASSERT(so->so_closing && so->so_pcb == NULL);
	KASSERT(so->so_head == NULL && so->so_q0len == 0 && so->so_qlen == 0);
	KASSERT(so->so_tfohead == NULL && so->so_tfoqlen == 0);
	/* a protocol may have queued data after the close */
	sbflush(&so->so_rcv);
	sbflush(&so->so_snd);
	so_errq_flush(so);
	sodealloc(so);
}

void
sorele(struct socket *so)
{
	KASSERT(so->so_refs > 0);
	if (--so->so_refs == 0)
		sofree(so);
}

/* so_error, cleared: an error is reported once. */
static int
sotakeerror(struct socket *so)
{
	int error = so->so_error;

	so->so_error = 0;
	return error;
}

/*
 * The listener is closing: throw away every connection it has not handed
 * to accept().  Each is taken off the queue before the protocol sees it,
 * so sopcbgone() finds it on no queue and only drops the protocol's
 * reference; the queue's goes here.
 */
static void
soabortqueue(struct list_node *q)
{
	struct list_node *ln;

	while ((ln = list_first(q)) != NULL) {
		struct socket *so = container_of(ln, struct socket, so_qe);

		soqremque(so);
		so->so_closing = true;
		so->so_state |= SS_CANTRCVMORE | SS_CANTSENDMORE;
		if (so->so_pcb != NULL)
			so->so_proto->pr_abort(so);
		sorele(so);
	}
}

/*
 * SO_LINGER with a time on a blocking, connected stream socket: close()
 * starts the orderly close and waits until the peer has acknowledged the
 * queued data (so_snd empty) or the connection is over, for at most
 * l_linger seconds.  What is still queued then is the protocol's to finish
 * or drop.
 */
static void
solinger(struct socket *so)
{
	struct rump_kernel *k = so->so_kernel;
	uint64_t deadline;

	if (so->so_proto->pr_disconnect(so) != 0)
		return;
	deadline = kern_clock_ns(k) + (uint64_t)so->so_linger.l_linger *
	    1000000000u;
	while (so->so_pcb != NULL && so->so_snd.sb_cc > 0 &&
	    !(so->so_state & SS_ISDISCONNECTED)) {
		uint64_t now = kern_clock_ns(k);

		if (now >= deadline)
			break;
		(void)cv_timedwait(&so->so_snd.sb_cv, &k->k_net->ns_lock,
		    (int)MIN((deadline - now + 999999) / 1000000,
		    (uint64_t)0x7fffffff));
	}
}

/*
 * The descriptor is gone: throw away a listener's unaccepted connections,
 * detach from the protocol, drop what is buffered and wake sleepers, who
 * see EBADF.  A stream protocol may keep its PCB to finish the connection
 * (pr_detach), and then so_snd too.  The socket itself is freed when the
 * last reference goes (sorele()).
 */
void
soclose(struct socket *so)
{
	so->so_closing = true;
	sowakeall(so);
	if (so->so_options & SOO_ACCEPTCONN) {
		soabortqueue(&so->so_q0);
		soabortqueue(&so->so_q);
	}
	if (so->so_type == SOCK_STREAM && so->so_pcb != NULL &&
	    (so->so_state & SS_ISCONNECTED) && !(so->so_state & SS_NBIO) &&
	    so->so_linger.l_onoff && so->so_linger.l_linger > 0)
		solinger(so);
	so->so_state |= SS_CANTRCVMORE | SS_CANTSENDMORE;
	if (so->so_pcb != NULL)
		so->so_proto->pr_detach(so);
	sbflush(&so->so_rcv);
	so_errq_flush(so);
	if (so->so_pcb == NULL)
		sbflush(&so->so_snd);
	sowakeall(so);
	sorele(so);
}

int
sobind(struct socket *so, const struct sockaddr_in *sin)
{
	if (so->so_pcb == NULL)
		return EINVAL;
	return so->so_proto->pr_bind(so, sin);
}

/*
 * Sleep on sb for up to its timeout: 0, EWOULDBLOCK (timed out) or EBADF
 * (the socket was closed meanwhile).
 */
/*
 * SO_BUSY_POLL: before sleeping, poll the interfaces from this LWP for up
 * to so_busy_poll_us of host time, running what arrives through the stack
 * here (netstack_poll()); true when something happened to sb (a wake-up)
 * or the socket, false when the time ran out.  This is how a thread of a
 * pinned, run-to-completion application avoids the two thread switches of
 * a wake-up on every message.  The interfaces stay with the poller when
 * it returns with something (it will likely be back soon; the drivers'
 * threads take over if not), and go back to their threads when it gives
 * up and sleeps.
 */
static bool
sb_busy_poll(struct socket *so, struct sockbuf *sb)
{
	struct netstack *ns = so->so_kernel->k_net;
	uint64_t gen = sb->sb_gen, start, now;
	bool woke = false;

	(void)hyper_clock_gettime(HYPER_CLOCK_MONO, &start);
	for (unsigned spins = 1;; spins++) {
		int n = netstack_poll(ns, 0);

		if (n < 0)
			break;		/* a receive thread needs the vCPU */
		if (n == 0)
			spin_pause();
		if (sb->sb_gen != gen || so->so_error != 0 || so->so_closing) {
			woke = true;
			break;
		}
		if (spins % 64 != 0)
			continue;	/* the clock only now and then */
		(void)hyper_clock_gettime(HYPER_CLOCK_MONO, &now);
		if (now - start >= (uint64_t)so->so_busy_poll_us * 1000u)
			break;
	}
	if (!woke)
		netstack_poll_done(ns);
	return woke;
}

/*
 * The wait of one call: *until is 0 before its first wait, then the time
 * its timeout (SO_RCVTIMEO, SO_SNDTIMEO) ends, so that however many
 * wake-ups come without what the call waits for, it waits no longer in
 * all than the timeout (as Linux counts its timeo down).
 */
static int
sbwait(struct socket *so, struct sockbuf *sb, uint64_t *until)
{
	struct rump_kernel *k = so->so_kernel;
	kmutex_t *lock = &k->k_net->ns_lock;
	int ticks = 0, error;

	/* first the timeout: a busy poller woken again and again ends too */
	if (sb->sb_timeo_ns != 0) {
		uint64_t now = kern_clock_ns(k), t;

		if (*until == 0)
			*until = sb->sb_timeo_ns > UINT64_MAX - now ?
			    UINT64_MAX : now + sb->sb_timeo_ns;
		else if (now >= *until)
			return EWOULDBLOCK;
		t = (*until - now + 999999) / 1000000;
		ticks = t > 0x7fffffff ? 0x7fffffff : (int)t;
	}
	if (so->so_busy_poll_us != 0 && sb_busy_poll(so, sb))
		return so->so_closing ? EBADF : 0;
	error = cv_timedwait(&sb->sb_cv, lock, ticks);
	if (so->so_closing)
		return EBADF;
	/* a sleep cut at the most ticks one can take: not the end yet */
	if (error == EWOULDBLOCK && *until != 0 && kern_clock_ns(k) < *until)
		error = 0;
	return error;
}

/*
 * A blocking connect: wait for the handshake (SO_SNDTIMEO bounds it:
 * EINPROGRESS).  0 when connected, or why not.
 */
static int
soconnect_wait(struct socket *so)
{
	uint64_t until = 0;	/* sbwait(): the timeout's end */
	int error;

	while ((so->so_state & SS_ISCONNECTING) && so->so_error == 0) {
		if ((error = sbwait(so, &so->so_snd, &until)) != 0)
			return error == EWOULDBLOCK ? EINPROGRESS : error;
	}
	if (so->so_error != 0)
		return sotakeerror(so);
	if (!(so->so_state & SS_ISCONNECTED))
		return ECONNREFUSED;
	return 0;
}

/*
 * connect(2) on a stream socket, with Linux's errors: a listener counts as
 * connected (EISCONN), and a timeout of SO_SNDTIMEO leaves the connection
 * going (EINPROGRESS).  Linux takes AF_UNSPEC as "abort the connection";
 * the protocol switch has no such entry, so it is EAFNOSUPPORT here.
 */
static int
soconnect_stream(struct socket *so, const struct sockaddr_in *sin)
{
	int error;

	if ((so->so_state & SS_ISCONNECTED) ||
	    (so->so_options & SOO_ACCEPTCONN))
		return EISCONN;
	if (so->so_state & SS_ISCONNECTING)
		return EALREADY;
	if (sin->sin_family != AF_INET)
		return EAFNOSUPPORT;
	if (so->so_pcb == NULL)
		return EINVAL;
	if ((error = so->so_proto->pr_connect(so, sin)) != 0)
		return error;
	if ((so->so_state & SS_ISCONNECTING) && (so->so_state & SS_NBIO))
		return EINPROGRESS;
	return soconnect_wait(so);
}

int
soconnect(struct socket *so, const struct sockaddr_in *sin)
{
	if (so->so_type == SOCK_STREAM)
		return soconnect_stream(so, sin);
	if (sin->sin_family == AF_UNSPEC) {
		/*
		 * connect(AF_UNSPEC) dissolves a datagram association; none
		 * to dissolve is no error (Linux)
		 */
		int error;

		so->so_state &= ~SS_ISCONNECTED;
		error = so->so_proto->pr_disconnect(so);
		return error == ENOTCONN ? 0 : error;
	}
	return so->so_proto->pr_connect(so, sin);
}

int
solisten(struct socket *so, int backlog)
{
	int error;

	if (so->so_proto->pr_listen == NULL)
		return EOPNOTSUPP;
	if ((so->so_state & (SS_ISCONNECTED | SS_ISCONNECTING)) ||
	    so->so_pcb == NULL)
		return EINVAL;
	/* a second listen() only changes the limit (Linux) */
	if (!(so->so_options & SOO_ACCEPTCONN) &&
	    (error = so->so_proto->pr_listen(so)) != 0)
		return error;
	/* as Linux and the BSDs: a negative backlog asks for the most */
	if (backlog < 0 || backlog > SOMAXCONN)
		backlog = SOMAXCONN;
	so->so_qlimit = (unsigned)MAX(backlog, 1);
	so->so_q0limit = MIN(MAX(2 * so->so_qlimit, SOQ0_MIN), SOMAXCONN);
	so->so_options |= SOO_ACCEPTCONN;
	return 0;
}

int
soaccept(struct socket *head, struct socket **sop)
{
	uint64_t until = 0;	/* sbwait(): the timeout's end */
	struct socket *so;
	int error;

	if (head->so_proto->pr_listen == NULL)
		return EOPNOTSUPP;
	if (!(head->so_options & SOO_ACCEPTCONN))
		return EINVAL;
	while (head->so_qlen == 0) {
		if (!(head->so_options & SOO_ACCEPTCONN))
			return EINVAL;	/* shut down meanwhile (Linux) */
		if (head->so_error != 0)
			return sotakeerror(head);
		if (head->so_state & SS_NBIO)
			return EWOULDBLOCK;
		/* soisconnected() wakes the listener's readers */
		if ((error = sbwait(head, &head->so_rcv, &until)) != 0)
			return error;
	}
	so = container_of(list_first(&head->so_q), struct socket, so_qe);
	soqremque(so);
	*sop = so;
	return 0;
}

/*
 * Gather len bytes of iov, starting skip bytes in, into a new packet,
 * leaving reserve bytes in front for the headers a protocol prepends.
 * ENOBUFS when the mbufs run out; with partial, only when not even the
 * first could be had: the packet then holds what fitted (its
 * m_pkthdr.len), as a stream send goes on with whatever it can take.
 */
static int
m_uiomove_in(const struct iovec *iov, int iovcnt, size_t skip, size_t len,
    int reserve, bool partial, struct mbuf **mp)
{
	struct mbuf *m = NULL;

	bool bulk = len + (size_t)reserve >= MJUMBYTES_BULK;

	/* bulk data in jumbo clusters (m_append_bulk()), while there are */
	if (bulk && (m = m_getjcl(M_DONTWAIT, MT_DATA, M_PKTHDR)) == NULL)
		bulk = false;
	if (m == NULL)
		m = len + (size_t)reserve > (size_t)MHLEN ?
		    m_getcl(M_DONTWAIT, MT_DATA, M_PKTHDR) :
		    m_gethdr(M_DONTWAIT, MT_DATA);
	if (m == NULL)
		return ENOBUFS;
	m->m_data += reserve;
	for (int i = 0; i < iovcnt && len > 0; i++) {
		size_t n;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		n = MIN(iov[i].iov_len - skip, len);
		if (!(bulk ? m_append_bulk : m_append)(m, (int)n,
		    (char *)iov[i].iov_base + skip)) {
			if (partial && m->m_pkthdr.len > 0)
				break;
			m_freem(m);
			return ENOBUFS;
		}
		skip = 0;
		len -= n;
	}
	*mp = m;
	return 0;
}

#define SB_OOB_EXTRA 1024	/* send(MSG_OOB): room past so_snd's size */

/*
 * TCP_NOTSENT_LOWAT, as Linux's tcp_stream_memory_free(): a send waits
 * while the stream has the mark's worth of bytes it has not sent yet
 * (shift 0); poll and kevent call it writable only below half that
 * (shift 1), so that a writer woken has room for a good piece.
 */
static bool
sonotsent_high(const struct socket *so, unsigned shift)
{
	return so->so_notsent_lowat != 0 && so->so_proto->pr_notsent != NULL &&
	    ((uint64_t)so->so_proto->pr_notsent(so) << shift) >=
	    so->so_notsent_lowat;
}

/*
 * sbspace() with extra bytes allowed past the high mark (an urgent
 * send's, as BSD allows, so that it goes even when the buffer is full).
 */
static unsigned
sosend_space(const struct sockbuf *sb, unsigned extra)
{
	unsigned limit = sb->sb_hiwat + extra;

	return sb->sb_cc >= limit ? 0 : limit - sb->sb_cc;
}

/*
 * Whether a stream send can go on: 0, EWOULDBLOCK (not now: connecting,
 * or no room), or the error that ends it.  so_error is taken only when
 * nothing was sent yet (done == 0).  As Linux: a socket that is not
 * connected (never, or no longer) gives EPIPE.
 */
static int
sosend_stream_ready(struct socket *so, size_t done, size_t want,
    unsigned extra)
{
	struct sockbuf *sb = &so->so_snd;
	unsigned space;

	if (so->so_error != 0)
		return done == 0 ? sotakeerror(so) : so->so_error;
	if ((so->so_state & SS_CANTSENDMORE) || so->so_pcb == NULL)
		return EPIPE;
	if (so->so_state & SS_ISCONNECTING)
		return EWOULDBLOCK;
	if (!(so->so_state & SS_ISCONNECTED))
		return EPIPE;
	/* nothing left to take: done, whatever is unsent (Linux) */
	if (want > 0 && sonotsent_high(so, 0))
		return EWOULDBLOCK;
	/* BSD: go on with what fits once it is at least the low mark */
	space = sosend_space(sb, extra);
	if (space < want && space < MAX(sb->sb_lowat, 1u))
		return EWOULDBLOCK;
	return 0;
}

/*
 * A blocking stream send found no mbuf for its data (the instance's pools
 * are bounded: mbuf_limit, cluster_limit, jumbo_limit).  Linux waits for memory
 * (sk_stream_wait_memory()); so does this, a tick at a time, as what
 * frees mbufs (an ACK, a reader, a driver's transmit) is anywhere in the
 * stack and wakes no one; an ACK that frees so_snd's data wakes it
 * sooner.  SO_SNDTIMEO bounds the wait from the first (since: 0 before
 * it), as it bounds a wait for room.  0 (try again), EWOULDBLOCK (the
 * timeout passed) or EBADF (closed meanwhile).
 */
static int
sosend_memwait(struct socket *so, uint64_t *since)
{
	struct sockbuf *sb = &so->so_snd;
	struct rump_kernel *k = so->so_kernel;
	uint64_t now = kern_clock_ns(k);
	int error;

	if (*since == 0)
		*since = MAX(now, 1u);
	else if (sb->sb_timeo_ns != 0 && now - *since >= sb->sb_timeo_ns)
		return EWOULDBLOCK;
	error = cv_timedwait(&sb->sb_cv, &k->k_net->ns_lock, 1);
	if (so->so_closing)
		return EBADF;
	return error == EWOULDBLOCK ? 0 : error;
}

/*
 * send(2) on a stream socket: copy in as much as so_snd has room for and
 * hand it to the protocol, waiting for room (unless non-blocking) until
 * all of resid is taken.  MSG_OOB does the same with SB_OOB_EXTRA bytes
 * of room past the buffer's size (BSD's 1024), and each piece goes at
 * once with its last byte urgent, as BSD's and Linux's senders do: the
 * urgent pointer ends after what was taken, and a receiver without
 * SO_OOBINLINE keeps only the last urgent byte it saw out of band.  When
 * the mbufs run out it takes the part that fitted, and waits for more
 * (sosend_memwait()) unless non-blocking: EAGAIN if nothing was taken.
 */
/*
 * sendto(MSG_FASTOPEN) on a stream socket not connected (TCP Fast Open,
 * RFC 7413; Linux's semantics): connect to to, with as much of the data
 * as the SYN can carry in it (none without a cookie for the server: the
 * SYN asks for one).  *done is what went into the SYN.  The caller goes
 * on as for any send: blocking, it waits for the connection and sends
 * the rest; non-blocking, it returns what the SYN took, or EINPROGRESS.
 * The first send on a socket whose connect() TCP_FASTOPEN_CONNECT
 * deferred (SS_TFODEFER) goes the same way, to the address it has.
 */
static int
sosend_fastopen(struct socket *so, const struct sockaddr_in *to,
    const struct iovec *iov, int iovcnt, size_t resid, size_t *done)
{
	struct mbuf *m = NULL;
	unsigned room;
	size_t n;
	int error;

	*done = 0;
	if (so->so_state & SS_CANTSENDMORE)
		return EPIPE;
	if (so->so_state & SS_TFODEFER) {
		/*
		 * TCP_FASTOPEN_CONNECT: connect() returned 0 and left the
		 * SYN to this send; from now on the socket is connecting,
		 * as after sendto(MSG_FASTOPEN)
		 */
		so->so_state &= ~SS_TFODEFER;
		soisconnecting(so);
		to = NULL;
	} else if (so->so_state & SS_ISCONNECTING)
		return EALREADY;
	else if ((so->so_state & SS_ISCONNECTED) ||
	    (so->so_options & SOO_ACCEPTCONN))
		return EISCONN;
	else if (to == NULL)
		return EDESTADDRREQ;
	else if (to->sin_family != AF_INET)
		return EAFNOSUPPORT;
	if (so->so_pcb == NULL)
		return EINVAL;
	if ((error = so->so_proto->pr_fastopen(so, to, &room)) != 0)
		return error;
	n = MIN(resid, (size_t)MIN(room, sosend_space(&so->so_snd, 0)));
	/* no mbufs for the data: the SYN goes without, the data after */
	if (n > 0 && m_uiomove_in(iov, iovcnt, 0, n, 0, true, &m) != 0)
		m = NULL;
	if (m != NULL)
		n = (size_t)m->m_pkthdr.len;
	error = so->so_proto->pr_send(so, m, NULL);
	if (error == 0 && m != NULL)
		*done = n;
	return error;
}

static int
sosend_stream(struct socket *so, const struct sockaddr_in *to,
    const struct iovec *iov, int iovcnt, size_t resid, int flags,
    size_t *sent)
{
	uint64_t until = 0;	/* sbwait(): the timeout's end */
	bool nbio = (so->so_state & SS_NBIO) || (flags & MSG_DONTWAIT);
	unsigned extra = (flags & MSG_OOB) ? SB_OOB_EXTRA : 0;
	uint64_t since = 0;
	size_t done = 0, n;
	struct mbuf *m;
	int error;

	if ((flags & MSG_OOB) && so->so_proto->pr_sendoob == NULL)
		return EOPNOTSUPP;
	/* MSG_MORE corks the stream until a send without it (Linux) */
	so->so_msgmore = (flags & MSG_MORE) != 0;
	/* a busy poller takes in what came (ACKs, window) before it sends */
	if (so->so_busy_poll_us != 0)
		(void)netstack_poll(so->so_kernel->k_net, NS_POLL_SEND);
	if (((flags & MSG_FASTOPEN) || (so->so_state & SS_TFODEFER)) &&
	    so->so_proto->pr_fastopen != NULL) {
		if ((error = sosend_fastopen(so, to, iov, iovcnt, resid,
		    &done)) != 0)
			return error;
		if (nbio) {
			/* connecting: what the SYN did not take waits for
			 * the user (Linux) */
			*sent = done;
			return done > 0 ? 0 : EINPROGRESS;
		}
		/*
		 * as connect(): the handshake's outcome, then the rest; when
		 * SO_SNDTIMEO ends the wait the connection goes on, with
		 * what the SYN took (Linux)
		 */
		if ((error = soconnect_wait(so)) != 0) {
			if (error != EINPROGRESS || done == 0)
				return error;
			*sent = done;
			return 0;
		}
	}
	for (;;) {
		error = sosend_stream_ready(so, done, resid - done, extra);
		if (error == EWOULDBLOCK) {
			if (nbio)
				break;
			if ((error = sbwait(so, &so->so_snd, &until)) != 0)
				break;
			continue;
		}
		if (error != 0 || done == resid)
			break;
		n = MIN(resid - done, (size_t)sosend_space(&so->so_snd, extra));
		if ((error = m_uiomove_in(iov, iovcnt, done, n, 0, true,
		    &m)) != 0) {
			/* non-blocking: EAGAIN as Linux (BSD: ENOBUFS) */
			if (nbio) {
				error = EWOULDBLOCK;
				break;
			}
			if ((error = sosend_memwait(so, &since)) != 0)
				break;
			continue;
		}
		n = (size_t)m->m_pkthdr.len;	/* what the mbufs held */
		if (flags & MSG_OOB)	/* the pointer after each piece */
			error = so->so_proto->pr_sendoob(so, m);
		else
			error = so->so_proto->pr_send(so, m, NULL);
		if (error != 0)
			break;
		done += n;
	}
	*sent = done;
	return done > 0 ? 0 : error;
}

int
sosend(struct socket *so, const struct sockaddr_in *to,
    const struct iovec *iov, int iovcnt, size_t resid, int flags,
    size_t *sent)
{
	struct mbuf *m;
	int error;

	*sent = 0;
	if (so->so_type == SOCK_STREAM)
		return sosend_stream(so, to, iov, iovcnt, resid, flags, sent);
	if (flags & MSG_OOB)
		return EOPNOTSUPP;	/* no urgent data (Linux: first) */
	if (so->so_state & SS_CANTSENDMORE)
		return EPIPE;
	if (so->so_error != 0)
		return sotakeerror(so);
	if (so->so_type == SOCK_DGRAM || so->so_type == SOCK_RAW) {
		/*
		 * an address given goes first, connected or not (Linux's
		 * UDP and raw sockets; the BSDs say EISCONN)
		 */
		if (to == NULL && !(so->so_state & SS_ISCONNECTED) &&
		    !so->so_dgpend)
			return EDESTADDRREQ;
		/*
		 * 65535 - 20 (IP) - 8 (UDP): RFC 768's largest payload; a
		 * raw datagram is at most 65535 with its header, which the
		 * protocol checks when it builds the header itself
		 */
		if (resid > (so->so_type == SOCK_DGRAM ? 65507u : 65535u))
			return EMSGSIZE;
		/* leave room for the headers the protocols prepend */
		if ((error = m_uiomove_in(iov, iovcnt, 0, resid, 64, false,
		    &m)) != 0)
			return error;
		/* UDP: MSG_MORE gathers this send into the next (Linux) */
		so->so_msgmore = (flags & MSG_MORE) != 0;
		error = so->so_proto->pr_send(so, m, to);
		if (error == 0)
			*sent = resid;
		return error;
	}
	return EOPNOTSUPP;
}

/* Copy len bytes from the start of chain m into iov, skip bytes in. */
static void
m_uiomove_out(const struct mbuf *m, int len, const struct iovec *iov,
    int iovcnt, size_t skip)
{
	int off = 0;

	for (int i = 0; i < iovcnt && len > 0; i++) {
		int n;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		n = (int)MIN(iov[i].iov_len - skip, (size_t)len);
		m_copydata(m, off, n, (char *)iov[i].iov_base + skip);
		skip = 0;
		off += n;
		len -= n;
	}
}

/*
 * recv(MSG_OOB) on a stream socket: the out-of-band byte into the first
 * iov with room.  As Linux, a zero-length read takes the byte and says
 * MSG_TRUNC.
 */
static int
soreceive_oob(struct socket *so, const struct iovec *iov, int iovcnt,
    size_t resid, int flags, size_t *got, int *msgflags)
{
	uint8_t c;
	int error;

	if (so->so_proto->pr_rcvoob == NULL)
		return EOPNOTSUPP;
	if (so->so_pcb == NULL)
		return EINVAL;
	error = so->so_proto->pr_rcvoob(so, &c, (flags & MSG_PEEK) != 0);
	if (error != 0)
		return error;
	*msgflags |= MSG_OOB;
	if (resid == 0) {
		*msgflags |= MSG_TRUNC;
		return 0;
	}
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0) {
			memcpy(iov[i].iov_base, &c, 1);
			break;
		}
	}
	*got = 1;
	return 0;
}

/*
 * Whether a stream receive can copy now: 0, EWOULDBLOCK (not now),
 * EJUSTRETURN (return what was read: end of file, or bytes read before an
 * error), or the error that ends the call.  need is how many bytes
 * satisfy the call; fewer do when no more can come soon (an error, end of
 * file, non-blocking).
 */
static int
soreceive_stream_ready(struct socket *so, size_t need, bool nbio, int flags,
    size_t done)
{
	unsigned cc = so->so_rcv.sb_cc;

	if (cc >= need)
		return 0;
	if (cc > 0 && (so->so_error != 0 ||
	    (so->so_state & SS_CANTRCVMORE) || nbio))
		return 0;
	if (so->so_error != 0) {
		if (done > 0)
			return EJUSTRETURN;	/* the error comes next call */
		return (flags & MSG_PEEK) ? so->so_error : sotakeerror(so);
	}
	if (so->so_state & SS_CANTRCVMORE)
		return EJUSTRETURN;
	if (!(so->so_state & (SS_ISCONNECTED | SS_ISCONNECTING)))
		return done > 0 ? EJUSTRETURN : ENOTCONN;
	return EWOULDBLOCK;
}

/*
 * recv(2) on a stream socket: wait for SO_RCVLOWAT bytes, copy out, drop
 * what was read (not MSG_PEEK) and let the protocol update its window.
 * MSG_WAITALL goes on copying as data arrives until resid is filled: it
 * cannot wait for all of it to be buffered, as resid may be more than
 * so_rcv holds.  Returns what it got on end of file, an error or a timeout
 * once some bytes were read.
 */
static int
soreceive_stream(struct socket *so, const struct iovec *iov, int iovcnt,
    size_t resid, int flags, size_t *got)
{
	uint64_t until = 0;	/* sbwait(): the timeout's end */
	struct sockbuf *sb = &so->so_rcv;
	bool nbio = (so->so_state & SS_NBIO) || (flags & MSG_DONTWAIT);
	size_t done = 0, need, n;
	int error = 0;

	if (so->so_busy_poll_us != 0)
		(void)netstack_poll(so->so_kernel->k_net, 0);
	while (done < resid) {
		need = MIN(resid - done, (size_t)MAX(sb->sb_lowat, 1u));
		/* a peek copies once: wait for all that can be buffered */
		if ((flags & (MSG_WAITALL | MSG_PEEK)) ==
		    (MSG_WAITALL | MSG_PEEK))
			need = MIN(resid, (size_t)MAX(sb->sb_hiwat, 1u));
		if (so->so_oobmark != 0)	/* what is before the mark does */
			need = MIN(need, (size_t)so->so_oobmark);
		error = soreceive_stream_ready(so, need, nbio, flags, done);
		if (error == EWOULDBLOCK) {
			if (!nbio && (error = sbwait(so, sb, &until)) == 0)
				continue;
			if (done > 0)
				error = 0;
			break;
		}
		if (error != 0) {
			if (error == EJUSTRETURN)
				error = 0;
			break;
		}
		n = MIN(resid - done, (size_t)sb->sb_cc);
		if (so->so_oobmark != 0)
			n = MIN(n, (size_t)so->so_oobmark);	/* up to the mark */
		m_uiomove_out(sb->sb_mb, (int)n, iov, iovcnt, done);
		done += n;
		if (flags & MSG_PEEK)
			break;
		sbdrop(sb, (int)n);
		if (so->so_atmark) {
			/* read past the mark; inline, that was the urgent byte */
			so->so_atmark = false;
			if (so->so_options & SOO_OOBINLINE)
				so->so_haveoob = false;
		} else if (so->so_oobmark != 0) {
			so->so_oobmark -= (unsigned)n;
			so->so_atmark = so->so_oobmark == 0;
		}
		if (so->so_proto->pr_rcvd != NULL && so->so_pcb != NULL)
			(void)so->so_proto->pr_rcvd(so);
		if (!(flags & MSG_WAITALL) || so->so_atmark)
			break;		/* a read ends at the mark (BSD, Linux) */
	}
	*got = done;
	return error;
}

/*
 * recvmsg(MSG_ERRQUEUE), as Linux's ip_recv_error(): takes the oldest
 * queued error (IP_RECVERR), MSG_PEEK or not: the data the ICMP message
 * quoted past the UDP header, the datagram's destination as the address,
 * *ri its details; MSG_ERRQUEUE in the flags.  EAGAIN, never a wait, when
 * there is none.  so_error becomes the next one's errno, or 0
 * (sock_dequeue_err_skb()).
 */
static int
soreceive_errq(struct socket *so, struct sockaddr_in *from,
    const struct iovec *iov, int iovcnt, size_t resid, size_t *got,
    int *msgflags, struct so_rcvinfo *ri)
{
	struct mbuf *rec = so->so_errq, *data;
	struct so_rcvinfo next;
	int len;

	if (rec == NULL)
		return EAGAIN;
	data = rec->m_next;
	len = data->m_pkthdr.len;
	if (from != NULL)
		memcpy(from, rec->m_data, sizeof(*from));
	if (ri != NULL)
		memcpy(ri, rec->m_data + sizeof(*from), sizeof(*ri));
	*msgflags |= MSG_ERRQUEUE;
	if ((size_t)len > resid) {
		*msgflags |= MSG_TRUNC;
		len = (int)resid;
	}
	*got = (size_t)len;
	m_uiomove_out(data, len, iov, iovcnt, 0);
	/* as Linux, MSG_PEEK too takes it */
	so->so_errq = rec->m_nextpkt;
	if (so->so_errq == NULL)
		so->so_errqtail = NULL;
	so->so_errqcc -= SO_ERRQ_COST(data->m_pkthdr.len);
	rec->m_nextpkt = NULL;
	m_freem(rec);
	so->so_error = 0;
	if (so->so_errq != NULL) {
		memcpy(&next, so->so_errq->m_data + sizeof(*from),
		    sizeof(next));
		so->so_error = next.ri_ee_errno;
		sowakeall(so);		/* Linux's sk_error_report() */
	}
	return 0;
}

int
soreceive(struct socket *so, struct sockaddr_in *from,
    const struct iovec *iov, int iovcnt, size_t resid, int flags,
    size_t *got, int *msgflags, struct so_rcvinfo *ri)
{
	uint64_t until = 0;	/* sbwait(): the timeout's end */
	struct sockbuf *sb = &so->so_rcv;
	struct so_rcvinfo rl = { 0 };
	struct mbuf *rec, *data;
	int error, len;

	*got = 0;
	*msgflags = 0;
	if (flags & MSG_ERRQUEUE)
		return soreceive_errq(so, from, iov, iovcnt, resid, got,
		    msgflags, ri);
	if (so->so_type == SOCK_STREAM) {
		if (flags & MSG_OOB)
			return soreceive_oob(so, iov, iovcnt, resid, flags,
			    got, msgflags);
		return soreceive_stream(so, iov, iovcnt, resid, flags, got);
	}
	for (;;) {
		if (sb->sb_mb != NULL)
			break;
		if (so->so_error != 0) {
			error = so->so_error;
			if (!(flags & MSG_PEEK))
				so->so_error = 0;
			return error;
		}
		if (so->so_state & SS_CANTRCVMORE)
			return 0;	/* end of file */
		if ((so->so_state & SS_NBIO) || (flags & MSG_DONTWAIT))
			return EWOULDBLOCK;
		if ((error = sbwait(so, sb, &until)) != 0)
			return error;
	}
	rec = sb->sb_mb;
	KASSERT(rec->m_type == MT_SONAME);
	data = rec->m_next;
	len = data != NULL ? data->m_pkthdr.len : 0;
	if (from != NULL)
		memcpy(from, rec->m_data, sizeof(*from));
	if (rec->m_len >= (int)(sizeof(*from) + sizeof(rl)))
		memcpy(&rl, rec->m_data + sizeof(*from), sizeof(rl));
	/*
	 * As Linux's sock_recv_timestamp(): with SO_TIMESTAMP(NS) on, the
	 * time as a control message of the kind asked now (a datagram that
	 * came in before the timing began: now); else it is SIOCGSTAMP's
	 */
	rl.ri_want &= ~(unsigned)(SO_RI_TSTAMP | SO_RI_TSTAMPNS);
	if (so->so_tstamp & SO_TS_MICRO) {
		if (rl.ri_stamp == 0)
			rl.ri_stamp = kern_clock_wall(so->so_kernel);
		rl.ri_want |= (so->so_tstamp & SO_TS_NANO) ? SO_RI_TSTAMPNS :
		    SO_RI_TSTAMP;
	} else {
		so->so_laststamp = rl.ri_stamp;
		so->so_tstamp |= SO_TS_HAVE;
	}
	if (ri != NULL)
		*ri = rl;
	if ((size_t)len > resid) {
		/* the rest of a datagram is lost (POSIX): say so */
		*msgflags |= MSG_TRUNC;
		*got = (flags & MSG_TRUNC) ? (size_t)len : resid;
		len = (int)resid;
	} else {
		*got = (size_t)len;
	}
	if (data != NULL)
		m_uiomove_out(data, len, iov, iovcnt, 0);
	if (!(flags & MSG_PEEK)) {
		sb->sb_mb = rec->m_nextpkt;
		if (sb->sb_mb == NULL)
			sb->sb_lastrecord = NULL;
		sb->sb_cc -= data != NULL ? (unsigned)data->m_pkthdr.len : 0;
		sb->sb_dgcost -= SB_DG_COST(data != NULL ?
		    data->m_pkthdr.len : 0);
		rec->m_nextpkt = NULL;
		m_freem(rec);
	}
	return 0;
}

static int
sockopt_int(const void *val, socklen_t len, int *out)
{
	if (val == NULL || len < sizeof(int))
		return EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

static int
sockopt_timeo(const void *val, socklen_t len, uint64_t *ns)
{
	struct timeval tv;

	if (val == NULL || len < sizeof(tv))
		return EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return EDOM;
	*ns = (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
	return 0;
}

static const struct {
	int name;
	unsigned bit;
} sobool[] = {
	{ SO_REUSEADDR, SOO_REUSEADDR }, { SO_REUSEPORT, SOO_REUSEPORT },
	{ SO_BROADCAST, SOO_BROADCAST }, { SO_KEEPALIVE, SOO_KEEPALIVE },
	{ SO_DONTROUTE, SOO_DONTROUTE }, { SO_OOBINLINE, SOO_OOBINLINE },
	{ SO_DEBUG, SOO_DEBUG },
};

/*
 * SO_BINDTODEVICE (an interface name, up to IFNAMSIZ - 1 bytes of it; ""
 * or none: no interface; ENODEV: no such interface) and SO_BINDTOIFINDEX
 * (an index, not checked, as Linux; 0: none): the socket sends by that
 * interface only (ENODEV while it does not exist) and hears only what
 * came in on it; the protocol's PCB is told.
 */
static int
so_bindtodevice(struct socket *so, int name, const void *val, socklen_t len)
{
	char ifname[IFNAMSIZ];
	struct ifnet *ifp;
	int error, idx = 0;

	if (name == SO_BINDTOIFINDEX) {
		if ((error = sockopt_int(val, len, &idx)) != 0)
			return error;
		if (idx < 0)
			return EINVAL;	/* any other index, as Linux */
	} else {
		if (len > 0 && val == NULL)
			return EFAULT;
		memset(ifname, 0, sizeof(ifname));
		memcpy(ifname, val, MIN(len, (socklen_t)IFNAMSIZ - 1));
		if (ifname[0] != '\0') {
			if ((ifp = if_byname(so->so_kernel, ifname)) == NULL)
				return ENODEV;
			idx = (int)ifp->if_index;
		}
	}
	so->so_bindif = (unsigned)idx;
	if (so->so_pcb != NULL && so->so_proto->pr_ctloutput != NULL)
		(void)so->so_proto->pr_ctloutput(so, 1, SOL_SOCKET,
		    SO_BINDTOIFINDEX, NULL, NULL);
	return 0;
}

int
sosetopt(struct socket *so, int level, int name, const void *val,
    socklen_t len)
{
	int v, error;

	if (level != SOL_SOCKET) {
		if (so->so_proto->pr_ctloutput == NULL)
			return ENOPROTOOPT;
		if (so->so_pcb == NULL)
			return EINVAL;
		return so->so_proto->pr_ctloutput(so, 1, level, name,
		    (void *)(uintptr_t)val, &len);
	}
	for (size_t i = 0; i < __arraycount(sobool); i++) {
		if (sobool[i].name != name)
			continue;
		if ((error = sockopt_int(val, len, &v)) != 0)
			return error;
		if (v)
			so->so_options |= sobool[i].bit;
		else
			so->so_options &= ~sobool[i].bit;
		/* the protocol hears of SO_KEEPALIVE (TCP arms its timer) */
		if (name == SO_KEEPALIVE && so->so_pcb != NULL &&
		    so->so_proto->pr_ctloutput != NULL)
			(void)so->so_proto->pr_ctloutput(so, 1, SOL_SOCKET,
			    name, (void *)(uintptr_t)val, &len);
		return 0;
	}
	switch (name) {
	case SO_SNDBUF:
	case SO_RCVBUF:
		if ((error = sockopt_int(val, len, &v)) != 0)
			return error;
		if (v <= 0)
			return EINVAL;
		/* as Linux: the value is doubled for bookkeeping, capped */
		v = (int)MIN((unsigned)v, SB_MAX / 2) * 2;
		if (name == SO_SNDBUF)
			so->so_snd.sb_hiwat = (unsigned)v;
		else
			so->so_rcv.sb_hiwat = (unsigned)v;
		return 0;
	case SO_RCVLOWAT:
	case SO_SNDLOWAT:
		if ((error = sockopt_int(val, len, &v)) != 0)
			return error;
		if (v <= 0)
			return EINVAL;
		if (name == SO_RCVLOWAT)
			so->so_rcv.sb_lowat = (unsigned)v;
		else
			so->so_snd.sb_lowat = (unsigned)v;
		return 0;
	case SO_BUSY_POLL:
		if ((error = sockopt_int(val, len, &v)) != 0)
			return error;
		if (v < 0)
			return EINVAL;
		so->so_busy_poll_us = (unsigned)v;
		return 0;
	case SO_RCVTIMEO:
		return sockopt_timeo(val, len, &so->so_rcv.sb_timeo_ns);
	case SO_SNDTIMEO:
		return sockopt_timeo(val, len, &so->so_snd.sb_timeo_ns);
	case SO_BINDTODEVICE:
	case SO_BINDTOIFINDEX:
		return so_bindtodevice(so, name, val, len);
	case SO_TIMESTAMP:
	case SO_TIMESTAMPNS:
		/*
		 * as Linux: either on says which, and starts the timing for
		 * good; either off, both off
		 */
		if ((error = sockopt_int(val, len, &v)) != 0)
			return error;
		so->so_tstamp &= (uint8_t)~(SO_TS_MICRO | SO_TS_NANO);
		if (v)
			so->so_tstamp |= SO_TS_TIMING | (name == SO_TIMESTAMP ?
			    SO_TS_MICRO : SO_TS_MICRO | SO_TS_NANO);
		return 0;
	case SO_LINGER:
		if (val == NULL || len < sizeof(struct linger))
			return EINVAL;
		memcpy(&so->so_linger, val, sizeof(struct linger));
		return 0;
	case SO_TYPE:
	case SO_ERROR:
	case SO_ACCEPTCONN:
	case SO_PROTOCOL:
	case SO_DOMAIN:
		return ENOPROTOOPT;	/* read-only */
	default:
		return ENOPROTOOPT;
	}
}

static int
sockopt_put(void *val, socklen_t *len, const void *v, socklen_t vlen)
{
	if (val == NULL || len == NULL)
		return EFAULT;
	if (*len > vlen)
		*len = vlen;
	memcpy(val, v, *len);
	return 0;
}

int
sogetopt(struct socket *so, int level, int name, void *val, socklen_t *len)
{
	struct timeval tv;
	int v;

	if (level != SOL_SOCKET) {
		/* a get reaches the protocol even after its PCB is gone */
		if (so->so_proto->pr_ctloutput == NULL)
			return ENOPROTOOPT;
		return so->so_proto->pr_ctloutput(so, 0, level, name, val, len);
	}
	for (size_t i = 0; i < __arraycount(sobool); i++) {
		if (sobool[i].name == name) {
			v = (so->so_options & sobool[i].bit) != 0;
			return sockopt_put(val, len, &v, sizeof(v));
		}
	}
	switch (name) {
	case SO_SNDBUF:
		v = (int)so->so_snd.sb_hiwat;
		break;
	case SO_RCVBUF:
		v = (int)so->so_rcv.sb_hiwat;
		break;
	case SO_RCVLOWAT:
		v = (int)so->so_rcv.sb_lowat;
		break;
	case SO_SNDLOWAT:
		v = (int)so->so_snd.sb_lowat;
		break;
	case SO_BUSY_POLL:
		v = (int)so->so_busy_poll_us;
		break;
	case SO_BINDTOIFINDEX:
		v = (int)so->so_bindif;
		break;
	case SO_BINDTODEVICE: {
		/* as Linux: the name and its NUL, nothing when unbound */
		struct ifnet *ifp;
		size_t n;

		if (len == NULL)
			return EFAULT;
		if (so->so_bindif == 0) {
			*len = 0;
			return 0;
		}
		if (*len < IFNAMSIZ)
			return EINVAL;
		if ((ifp = if_byindex(so->so_kernel, so->so_bindif)) == NULL)
			return ENODEV;
		n = strlen(ifp->if_xname) + 1;
		*len = (socklen_t)n;
		return sockopt_put(val, len, ifp->if_xname, (socklen_t)n);
	}
	case SO_TIMESTAMP:
		v = (so->so_tstamp & (SO_TS_MICRO | SO_TS_NANO)) == SO_TS_MICRO;
		break;
	case SO_TIMESTAMPNS:
		v = (so->so_tstamp & SO_TS_NANO) != 0;
		break;
	case SO_TYPE:
		v = so->so_type;
		break;
	case SO_PROTOCOL:
		v = so->so_protocol;
		break;
	case SO_DOMAIN:
		v = AF_INET;
		break;
	case SO_ACCEPTCONN:
		v = (so->so_options & SOO_ACCEPTCONN) != 0;
		break;
	case SO_ERROR:
		/* an option's value is the user's: the host's errno */
		v = hyper_errno_to_host(so->so_error);
		so->so_error = 0;
		break;
	case SO_LINGER:
		return sockopt_put(val, len, &so->so_linger,
		    sizeof(so->so_linger));
	case SO_RCVTIMEO:
	case SO_SNDTIMEO: {
		uint64_t ns = name == SO_RCVTIMEO ? so->so_rcv.sb_timeo_ns :
		    so->so_snd.sb_timeo_ns;

		tv.tv_sec = (long)(ns / 1000000000u);
		tv.tv_usec = (long)(ns % 1000000000u / 1000u);
		return sockopt_put(val, len, &tv, sizeof(tv));
	}
	default:
		return ENOPROTOOPT;
	}
	return sockopt_put(val, len, &v, sizeof(v));
}

/*
 * shutdown(2).  SHUT_RD drops what is buffered and reads see end of file
 * (BSD); SHUT_WR lets the protocol send what is queued and then a FIN.
 * As Linux: a listener given SHUT_RD (or SHUT_RDWR) stops listening, its
 * unaccepted connections reset and a waiting accept() failing with
 * EINVAL (SHUT_WR alone does nothing); a datagram socket that is not
 * connected is shut all the same (a reader blocked on it wakes up to end
 * of file) but the call says ENOTCONN.
 */
int
soshutdown(struct socket *so, int how)
{
	int error = 0;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return EINVAL;
	if (so->so_options & SOO_ACCEPTCONN) {
		if (how == SHUT_WR)
			return 0;
		soabortqueue(&so->so_q0);
		soabortqueue(&so->so_q);
		so->so_options &= ~SOO_ACCEPTCONN;
		if (so->so_proto->pr_unlisten != NULL && so->so_pcb != NULL)
			so->so_proto->pr_unlisten(so);
		sowakeall(so);
		return 0;
	}
	if ((so->so_type == SOCK_DGRAM || so->so_type == SOCK_RAW) &&
	    !(so->so_state & SS_ISCONNECTED))
		error = ENOTCONN;
	if (so->so_type == SOCK_STREAM &&
	    !(so->so_state & (SS_ISCONNECTED | SS_ISCONNECTING)))
		return ENOTCONN;
	if (how != SHUT_WR) {
		sbflush(&so->so_rcv);
		/* no mark in what is gone, nor an inline urgent byte */
		so->so_oobmark = 0;
		so->so_atmark = false;
		if (so->so_options & SOO_OOBINLINE)
			so->so_haveoob = false;
		socantrcvmore(so);
	}
	if (how != SHUT_RD) {
		socantsendmore(so);
		if (so->so_proto->pr_shutdown != NULL && so->so_pcb != NULL &&
		    error == 0)
			return so->so_proto->pr_shutdown(so);
	}
	return error;
}

bool
soreadable(const struct socket *so)
{
	if (so->so_options & SOO_ACCEPTCONN)
		return so->so_qlen > 0;
	if (so->so_error != 0 || (so->so_state & SS_CANTRCVMORE))
		return true;
	if (so->so_type == SOCK_STREAM)
		return so->so_rcv.sb_cc >= MAX(MIN(so->so_rcv.sb_lowat,
		    so->so_oobmark != 0 ? so->so_oobmark : ~0u), 1u);
	return so->so_rcv.sb_mb != NULL;
}

/*
 * As Linux for streams: a send that would fail at once (an error, shut
 * down, not connected) does not block either; a connection under way is
 * not writable yet.
 */
bool
sowriteable(const struct socket *so)
{
	const struct sockbuf *sb = &so->so_snd;

	if (so->so_options & SOO_ACCEPTCONN)
		return false;
	/* a datagram socket shut for sending stays writable (Linux) */
	if (so->so_type != SOCK_STREAM)
		return (so->so_state & SS_CANTSENDMORE) ||
		    sbspace(sb) >= sb->sb_lowat;
	if (so->so_error != 0 || (so->so_state & SS_CANTSENDMORE))
		return true;
	if (so->so_state & SS_ISCONNECTING)
		return false;
	if (!(so->so_state & SS_ISCONNECTED))
		return true;
	return sbspace(sb) >= sb->sb_lowat && !sonotsent_high(so, 1);
}

/*
 * Whether the peer can no longer be reached this way: both directions
 * shut, or (Linux) a stream socket that is neither connected, connecting
 * nor listening.
 */
static bool
sohup(const struct socket *so)
{
	if ((so->so_state & (SS_CANTRCVMORE | SS_CANTSENDMORE)) ==
	    (SS_CANTRCVMORE | SS_CANTSENDMORE))
		return true;
	return so->so_type == SOCK_STREAM &&
	    !(so->so_options & SOO_ACCEPTCONN) &&
	    !(so->so_state & (SS_ISCONNECTED | SS_ISCONNECTING));
}

short
sopoll(struct socket *so, short events)
{
	short revents = 0;

	if ((events & (POLLIN | POLLRDNORM)) && soreadable(so))
		revents |= events & (POLLIN | POLLRDNORM);
	if ((events & (POLLOUT | POLLWRNORM)) && sowriteable(so))
		revents |= events & (POLLOUT | POLLWRNORM);
	if ((events & POLLPRI) && so->so_haveoob)
		revents |= POLLPRI;
	/* Linux: end of the stream from the peer, or SHUT_RD */
	if ((events & POLLRDHUP) && (so->so_state & SS_CANTRCVMORE) &&
	    !(so->so_options & SOO_ACCEPTCONN))
		revents |= POLLRDHUP;
	if (so->so_error != 0 || so->so_errq != NULL)
		revents |= POLLERR;
	if (sohup(so))
		revents |= POLLHUP;
	return revents;
}
