/*
 * uipc_socket.c -- the socket layer: creation, binding, sending and
 * receiving through socket buffers, options, shutdown, close.
 *
 * (rump_sys_sendto() ->) sosend() -> copy in -> pr_send()
 * (rump_sys_recvfrom() ->) soreceive() -> wait on so_rcv -> copy out
 * (udp_input() ->) sbappendaddr() -> sorwakeup()
 *
 * All of it runs with the instance's net lock held; a call that must wait
 * sleeps on a socket buffer's condvar, which releases the lock and the vCPU.
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "sys/socketvar.h"

#define SB_DEFAULT_RCV (208 * 1024)	/* what Linux gives a UDP socket */
#define SB_DEFAULT_SND (208 * 1024)
#define SB_MAX (4 * 1024 * 1024)

extern const struct protosw udp_protosw;

static const struct protosw *
pffindproto(int type, int proto)
{
	if (type == SOCK_DGRAM && (proto == 0 || proto == IPPROTO_UDP))
		return &udp_protosw;
	return NULL;
}

static void
sb_init(struct sockbuf *sb, unsigned hiwat)
{
	memset(sb, 0, sizeof(*sb));
	sb->sb_hiwat = hiwat;
	sb->sb_lowat = 1;
	cv_init(&sb->sb_cv, "sbwait");
}

static void
sbflush(struct sockbuf *sb)
{
	struct mbuf *m, *next;

	for (m = sb->sb_mb; m != NULL; m = next) {
		next = m->m_nextpkt;
		m_freem(m);
	}
	sb->sb_mb = sb->sb_lastrecord = NULL;
	sb->sb_cc = 0;
}

int
socreate(struct rump_kernel *k, int type, int proto, struct socket **sop)
{
	const struct protosw *pr;
	struct socket *so;
	void *mem;
	int error;

	if (type != SOCK_DGRAM && type != SOCK_STREAM && type != SOCK_RAW)
		return ESOCKTNOSUPPORT;
	if ((pr = pffindproto(type, proto)) == NULL)
		return EPROTONOSUPPORT;
	if ((error = hyper_malloc(sizeof(*so), 0, &mem)) != 0)
		return ENOBUFS;
	so = mem;
	memset(so, 0, sizeof(*so));
	so->so_kernel = k;
	so->so_proto = pr;
	so->so_type = (short)type;
	so->so_refs = 1;
	list_init(&so->so_klist);
	sb_init(&so->so_rcv, SB_DEFAULT_RCV);
	sb_init(&so->so_snd, SB_DEFAULT_SND);
	if ((error = pr->pr_attach(so)) != 0) {
		cv_destroy(&so->so_rcv.sb_cv);
		cv_destroy(&so->so_snd.sb_cv);
		hyper_free(so, sizeof(*so));
		return error;
	}
	*sop = so;
	return 0;
}

/* Wake everyone sleeping on so (readers, writers, poll) before it goes. */
static void
sowakeall(struct socket *so)
{
	so->so_rcv.sb_gen++;
	so->so_snd.sb_gen++;
	cv_broadcast(&so->so_rcv.sb_cv);
	cv_broadcast(&so->so_snd.sb_cv);
	if (so->so_kernel->k_net->ns_npollers > 0)
		cv_broadcast(&so->so_kernel->k_net->ns_pollcv);
}

static void
sofree(struct socket *so)
{
	KASSERT(so->so_closing && so->so_pcb == NULL);
	cv_destroy(&so->so_rcv.sb_cv);
	cv_destroy(&so->so_snd.sb_cv);
	hyper_free(so, sizeof(*so));
}

void
sorele(struct socket *so)
{
	KASSERT(so->so_refs > 0);
	if (--so->so_refs == 0)
		sofree(so);
}

/*
 * The descriptor is gone: detach from the protocol, drop what is buffered
 * and wake sleepers, who see EBADF.  The socket itself is freed when the
 * last call using it lets go (sorele()).
 */
void
soclose(struct socket *so)
{
	so->so_closing = true;
	so->so_state |= SS_CANTRCVMORE | SS_CANTSENDMORE;
	if (so->so_pcb != NULL)
		so->so_proto->pr_detach(so);
	sbflush(&so->so_rcv);
	sbflush(&so->so_snd);
	sowakeall(so);
	sorele(so);
}

int
sobind(struct socket *so, const struct sockaddr_in *sin)
{
	return so->so_proto->pr_bind(so, sin);
}

int
soconnect(struct socket *so, const struct sockaddr_in *sin)
{
	if (sin->sin_family == AF_UNSPEC) {
		/* connect(AF_UNSPEC) dissolves a datagram association */
		so->so_state &= ~SS_ISCONNECTED;
		return so->so_proto->pr_disconnect(so);
	}
	return so->so_proto->pr_connect(so, sin);
}

unsigned
sbspace(const struct sockbuf *sb)
{
	return sb->sb_cc >= sb->sb_hiwat ? 0 : sb->sb_hiwat - sb->sb_cc;
}

bool
sbappendaddr(struct sockbuf *sb, const struct sockaddr_in *from,
    struct mbuf *m)
{
	struct mbuf *n;
	int len = m->m_pkthdr.len;

	if ((unsigned)len > sbspace(sb)) {
		sb->sb_overflowed++;
		return false;
	}
	if ((n = m_get(M_DONTWAIT, MT_SONAME)) == NULL)
		return false;
	n->m_len = (int)sizeof(*from);
	memcpy(n->m_data, from, sizeof(*from));
	n->m_next = m;
	n->m_nextpkt = NULL;
	if (sb->sb_lastrecord != NULL)
		sb->sb_lastrecord->m_nextpkt = n;
	else
		sb->sb_mb = n;
	sb->sb_lastrecord = n;
	sb->sb_cc += (unsigned)len;
	return true;
}

void
sorwakeup(struct socket *so)
{
	so->so_rcv.sb_gen++;
	cv_broadcast(&so->so_rcv.sb_cv);
	if (so->so_kernel->k_net->ns_npollers > 0)
		cv_broadcast(&so->so_kernel->k_net->ns_pollcv);
}

void
sowwakeup(struct socket *so)
{
	so->so_snd.sb_gen++;
	cv_broadcast(&so->so_snd.sb_cv);
	if (so->so_kernel->k_net->ns_npollers > 0)
		cv_broadcast(&so->so_kernel->k_net->ns_pollcv);
}

void
soseterror(struct socket *so, int error)
{
	so->so_error = error;
	sowakeall(so);
}

/*
 * Sleep on sb for up to its timeout: 0, EWOULDBLOCK (timed out) or EBADF
 * (the socket was closed meanwhile).
 */
static int
sbwait(struct socket *so, struct sockbuf *sb)
{
	kmutex_t *lock = &so->so_kernel->k_net->ns_lock;
	int ticks = 0, error;

	if (sb->sb_timeo_ns != 0) {
		uint64_t t = (sb->sb_timeo_ns + 999999) / 1000000;

		ticks = t > 0x7fffffff ? 0x7fffffff : (int)t;
	}
	error = cv_timedwait(&sb->sb_cv, lock, ticks);
	if (so->so_closing)
		return EBADF;
	return error;
}

/* Gather resid bytes of iov into a new packet. */
static int
m_uiomove_in(const struct iovec *iov, int iovcnt, size_t resid,
    struct mbuf **mp)
{
	struct mbuf *m;

	if (resid + 64 > (size_t)MHLEN)
		m = m_getcl(M_DONTWAIT, MT_DATA, M_PKTHDR);
	else
		m = m_gethdr(M_DONTWAIT, MT_DATA);
	if (m == NULL)
		return ENOBUFS;
	/* leave room for the headers the protocols prepend */
	m->m_data += 64;
	for (int i = 0; i < iovcnt && resid > 0; i++) {
		size_t n = MIN(iov[i].iov_len, resid);

		if (n > 0 && !m_append(m, (int)n, iov[i].iov_base)) {
			m_freem(m);
			return ENOBUFS;
		}
		resid -= n;
	}
	*mp = m;
	return 0;
}

int
sosend(struct socket *so, const struct sockaddr_in *to,
    const struct iovec *iov, int iovcnt, size_t resid, int flags,
    size_t *sent)
{
	struct mbuf *m;
	int error;

	*sent = 0;
	if (so->so_state & SS_CANTSENDMORE)
		return EPIPE;
	if (so->so_error != 0) {
		error = so->so_error;
		so->so_error = 0;
		return error;
	}
	if (so->so_type == SOCK_DGRAM) {
		if (to == NULL && !(so->so_state & SS_ISCONNECTED))
			return EDESTADDRREQ;
		if (to != NULL && (so->so_state & SS_ISCONNECTED))
			return EISCONN;
		/* 65535 - 20 (IP) - 8 (UDP): RFC 768's largest payload */
		if (resid > 65507)
			return EMSGSIZE;
		if ((error = m_uiomove_in(iov, iovcnt, resid, &m)) != 0)
			return error;
		(void)flags;
		error = so->so_proto->pr_send(so, m, to);
		if (error == 0)
			*sent = resid;
		return error;
	}
	return EOPNOTSUPP;
}

/* Copy len bytes of chain m from offset off into iov (after skip bytes). */
static void
m_uiomove_out(const struct mbuf *m, int len, const struct iovec *iov,
    int iovcnt)
{
	int off = 0;

	for (int i = 0; i < iovcnt && len > 0; i++) {
		int n = (int)MIN(iov[i].iov_len, (size_t)len);

		if (n > 0)
			m_copydata(m, off, n, iov[i].iov_base);
		off += n;
		len -= n;
	}
}

int
soreceive(struct socket *so, struct sockaddr_in *from,
    const struct iovec *iov, int iovcnt, size_t resid, int flags,
    size_t *got, int *msgflags)
{
	struct sockbuf *sb = &so->so_rcv;
	struct mbuf *rec, *data;
	int error, len;

	*got = 0;
	*msgflags = 0;
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
		if ((error = sbwait(so, sb)) != 0)
			return error;
	}
	rec = sb->sb_mb;
	KASSERT(rec->m_type == MT_SONAME);
	data = rec->m_next;
	len = data != NULL ? data->m_pkthdr.len : 0;
	if (from != NULL)
		memcpy(from, rec->m_data, sizeof(*from));
	if ((size_t)len > resid) {
		/* the rest of a datagram is lost (POSIX): say so */
		*msgflags |= MSG_TRUNC;
		*got = (flags & MSG_TRUNC) ? (size_t)len : resid;
		len = (int)resid;
	} else {
		*got = (size_t)len;
	}
	if (data != NULL)
		m_uiomove_out(data, len, iov, iovcnt);
	if (!(flags & MSG_PEEK)) {
		sb->sb_mb = rec->m_nextpkt;
		if (sb->sb_mb == NULL)
			sb->sb_lastrecord = NULL;
		sb->sb_cc -= data != NULL ? (unsigned)data->m_pkthdr.len : 0;
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

int
sosetopt(struct socket *so, int level, int name, const void *val,
    socklen_t len)
{
	int v, error;

	if (level != SOL_SOCKET) {
		if (so->so_proto->pr_ctloutput == NULL)
			return ENOPROTOOPT;
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
	case SO_RCVTIMEO:
		return sockopt_timeo(val, len, &so->so_rcv.sb_timeo_ns);
	case SO_SNDTIMEO:
		return sockopt_timeo(val, len, &so->so_snd.sb_timeo_ns);
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
	case SO_TYPE:
		v = so->so_type;
		break;
	case SO_PROTOCOL:
		v = so->so_proto->pr_protocol;
		break;
	case SO_DOMAIN:
		v = AF_INET;
		break;
	case SO_ACCEPTCONN:
		v = 0;
		break;
	case SO_ERROR:
		v = so->so_error;
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

int
soshutdown(struct socket *so, int how)
{
	if (how < SHUT_RD || how > SHUT_RDWR)
		return EINVAL;
	if (so->so_type == SOCK_DGRAM && !(so->so_state & SS_ISCONNECTED))
		return ENOTCONN;
	if (how != SHUT_WR) {
		so->so_state |= SS_CANTRCVMORE;
		sbflush(&so->so_rcv);
		sorwakeup(so);
	}
	if (how != SHUT_RD) {
		so->so_state |= SS_CANTSENDMORE;
		sowwakeup(so);
		if (so->so_proto->pr_shutdown != NULL)
			return so->so_proto->pr_shutdown(so);
	}
	return 0;
}

short
sopoll(struct socket *so, short events)
{
	short revents = 0;

	if (events & (POLLIN | POLLRDNORM)) {
		if (so->so_rcv.sb_mb != NULL || so->so_error != 0 ||
		    (so->so_state & SS_CANTRCVMORE))
			revents |= events & (POLLIN | POLLRDNORM);
	}
	if (events & (POLLOUT | POLLWRNORM)) {
		if (!(so->so_state & SS_CANTSENDMORE) &&
		    sbspace(&so->so_snd) >= so->so_snd.sb_lowat)
			revents |= events & (POLLOUT | POLLWRNORM);
	}
	if (so->so_error != 0)
		revents |= POLLERR;
	if ((so->so_state & (SS_CANTRCVMORE | SS_CANTSENDMORE)) ==
	    (SS_CANTRCVMORE | SS_CANTSENDMORE))
		revents |= POLLHUP;
	return revents;
}
