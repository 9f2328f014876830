/*
 * sys_socket.c -- the socket system calls (include/rumpnet/socket.h):
 * argument checks, the instance's descriptor table, entry into and exit
 * from the kernel, errno.
 *
 * rump_sys_*() -> sys_enter() (vCPU, net lock) -> fd_socket() -> so*()
 *     -> sys_exit() (unlock, give the vCPU back, errno)
 *
 * Arguments are the host's types (sys/socket.h gives the kernel the same
 * layouts).  User memory is this process's memory, so copyin/copyout are
 * plain copies; a NULL where a buffer is needed gives EFAULT.
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "netinet/udp_var.h"
#include "sys/filedesc.h"
#include "sys/socketvar.h"
#include "sys/syscalls.h"

int
fd_init(struct netstack *ns)
{
	void *mem;

	if (hyper_malloc(sizeof(struct sockfd_table), 0, &mem) != 0)
		return ENOMEM;
	memset(mem, 0, sizeof(struct sockfd_table));
	ns->ns_fds = mem;
	return 0;
}

/* Take descriptor fd away and close what it refers to; net lock held. */
static void
fd_close(struct netstack *ns, int fd)
{
	struct sockfd_table *ft = ns->ns_fds;
	void *obj = ft->ft_obj[fd];
	enum ftype type = ft->ft_type[fd];

	ft->ft_obj[fd] = NULL;
	ft->ft_type[fd] = FT_NONE;
	ft->ft_flags[fd] = 0;
	if (type == FT_SOCKET) {
		knote_socket_gone(obj);
		soclose(obj);
	} else if (type == FT_KQUEUE) {
		kqueue_close(ns, obj);
	}
}

/* Close every descriptor (instance teardown); net lock held. */
void
fd_fini(struct netstack *ns)
{
	/* kqueues first: their events point at sockets */
	for (int fd = 0; fd < FD_MAX; fd++)
		if (ns->ns_fds->ft_type[fd] == FT_KQUEUE)
			fd_close(ns, fd);
	for (int fd = 0; fd < FD_MAX; fd++)
		if (ns->ns_fds->ft_type[fd] != FT_NONE)
			fd_close(ns, fd);
	hyper_free(ns->ns_fds, sizeof(struct sockfd_table));
	ns->ns_fds = NULL;
}

int
fd_alloc(struct netstack *ns, enum ftype type, void *obj)
{
	struct sockfd_table *ft = ns->ns_fds;

	for (int fd = 0; fd < FD_MAX; fd++) {
		if (ft->ft_type[fd] == FT_NONE) {
			ft->ft_obj[fd] = obj;
			ft->ft_type[fd] = (uint8_t)type;
			ft->ft_flags[fd] = 0;
			return fd;
		}
	}
	return -1;
}

int
fd_socket(struct netstack *ns, int fd, struct socket **sop)
{
	struct socket *so;

	if (fd < 0 || fd >= FD_MAX || ns->ns_fds->ft_type[fd] == FT_NONE)
		return EBADF;
	if (ns->ns_fds->ft_type[fd] != FT_SOCKET)
		return ENOTSOCK;
	so = ns->ns_fds->ft_obj[fd];
	so->so_refs++;
	*sop = so;
	return 0;
}

int
fd_kqueue(struct netstack *ns, int fd, struct kqueue **kqp)
{
	if (fd < 0 || fd >= FD_MAX || ns->ns_fds->ft_type[fd] != FT_KQUEUE)
		return EBADF;
	*kqp = ns->ns_fds->ft_obj[fd];
	return 0;
}

/* ---- entry and exit ---- */

int
sys_enter(struct netstack **nsp)
{
	struct lwp *l = curlwp;

	if (l == NULL || (l->l_flags & (LW_IMPLICIT | LW_SYSTEM)) ||
	    l->l_cpu != NULL)
		return ENXIO;
	rump_schedule();
	*nsp = l->l_kernel->k_net;
	mutex_enter(&(*nsp)->ns_lock);
	return 0;
}

long
sys_return(int error, long ret)
{
	if (error != 0) {
		hyper_errno_set(hyper_errno_to_host(error));
		return -1;
	}
	return ret;
}

long
sys_exit(struct netstack *ns, int error, long ret)
{
	mutex_exit(&ns->ns_lock);
	rump_unschedule();
	return sys_return(error, ret);
}


/* Copy a socket address in: EFAULT, EINVAL (short), EAFNOSUPPORT. */
static int
sockaddr_in_copyin(const struct sockaddr *addr, socklen_t len,
    struct sockaddr_in *sin, bool unspec_ok)
{
	if (addr == NULL)
		return EFAULT;
	if (len < sizeof(sa_family_t))
		return EINVAL;
	memset(sin, 0, sizeof(*sin));
	memcpy(&sin->sin_family, addr, sizeof(sa_family_t));
	if (sin->sin_family == AF_UNSPEC && unspec_ok)
		return 0;
	if (sin->sin_family != AF_INET)
		return EAFNOSUPPORT;
	if (len < sizeof(*sin))
		return EINVAL;
	memcpy(sin, addr, sizeof(*sin));
	return 0;
}

/* Copy a socket address out, truncating to *len; NULL pointers: none. */
static void
sockaddr_in_copyout(const struct sockaddr_in *sin, struct sockaddr *addr,
    socklen_t *len)
{
	if (addr == NULL || len == NULL)
		return;
	memcpy(addr, sin, MIN(*len, (socklen_t)sizeof(*sin)));
	*len = sizeof(*sin);
}

/* Sum of iov lengths; EINVAL for a bad vector. */
static int
iov_total(const struct iovec *iov, int iovcnt, size_t *resid)
{
	size_t total = 0;

	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return EINVAL;
	if (iovcnt > 0 && iov == NULL)
		return EFAULT;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0 && iov[i].iov_base == NULL)
			return EFAULT;
		if (iov[i].iov_len > (size_t)0x7fffffff - total)
			return EINVAL;
		total += iov[i].iov_len;
	}
	*resid = total;
	return 0;
}

/*
 * A descriptor for the new socket so, with SOCK_NONBLOCK and SOCK_CLOEXEC
 * taken from flags: the descriptor, or -1 (EMFILE) after closing so.
 */
static int
fd_install(struct netstack *ns, struct socket *so, int flags)
{
	int fd;

	if ((fd = fd_alloc(ns, FT_SOCKET, so)) < 0) {
		soclose(so);
		return -1;
	}
	if (flags & SOCK_NONBLOCK)
		so->so_state |= SS_NBIO;
	ns->ns_fds->ft_flags[fd] = (flags & SOCK_CLOEXEC) ? FD_CLOEXEC : 0;
	return fd;
}

/* ---- calls ---- */

int
rump_sys_socket(int domain, int type, int protocol)
{
	struct netstack *ns;
	struct socket *so;
	int error, fd, base = type & SOCK_TYPE_MASK;

	if (domain != AF_INET)
		return (int)sys_return(EAFNOSUPPORT, 0);
	if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return (int)sys_return(EINVAL, 0);
	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if ((error = socreate(ns->ns_kernel, base, protocol, &so)) != 0)
		return (int)sys_exit(ns, error, 0);
	if ((fd = fd_install(ns, so, type)) < 0)
		return (int)sys_exit(ns, EMFILE, 0);
	return (int)sys_exit(ns, 0, fd);
}

int
rump_sys_close(int fd)
{
	struct netstack *ns;
	int error;

	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if (fd < 0 || fd >= FD_MAX || ns->ns_fds->ft_type[fd] == FT_NONE)
		return (int)sys_exit(ns, EBADF, 0);
	fd_close(ns, fd);
	return (int)sys_exit(ns, 0, 0);
}

/* bind(2) and connect(2): one address in, one socket-layer call. */
static int
sys_addrcall(int fd, const struct sockaddr *addr, socklen_t len,
    bool connect)
{
	struct sockaddr_in sin;
	struct netstack *ns;
	struct socket *so;
	int error;

	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if ((error = fd_socket(ns, fd, &so)) != 0)
		return (int)sys_exit(ns, error, 0);
	/* connect(AF_UNSPEC) dissolves a datagram association */
	if ((error = sockaddr_in_copyin(addr, len, &sin, connect)) == 0)
		error = connect ? soconnect(so, &sin) : sobind(so, &sin);
	sorele(so);
	return (int)sys_exit(ns, error, 0);
}

int
rump_sys_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return sys_addrcall(fd, addr, len, false);
}

int
rump_sys_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return sys_addrcall(fd, addr, len, true);
}

/* A call on one socket with one int argument: listen(2), shutdown(2). */
static int
sys_intcall(int fd, int arg, int (*call)(struct socket *, int))
{
	struct netstack *ns;
	struct socket *so;
	int error;

	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if ((error = fd_socket(ns, fd, &so)) != 0)
		return (int)sys_exit(ns, error, 0);
	error = call(so, arg);
	sorele(so);
	return (int)sys_exit(ns, error, 0);
}

int
rump_sys_listen(int fd, int backlog)
{
	return sys_intcall(fd, backlog, solisten);
}

/* A socket's local or peer address; a socket whose PCB is gone has none. */
static void
sys_sockname(struct socket *so, struct sockaddr_in *sin, bool peer)
{
	if (so->so_pcb == NULL) {
		memset(sin, 0, sizeof(*sin));
		sin->sin_family = AF_INET;
	} else if (peer) {
		so->so_proto->pr_peeraddr(so, sin);
	} else {
		so->so_proto->pr_sockaddr(so, sin);
	}
}

/* Whether the descriptor table has room; net lock held. */
static bool
fd_available(struct netstack *ns)
{
	for (int fd = 0; fd < FD_MAX; fd++)
		if (ns->ns_fds->ft_type[fd] == FT_NONE)
			return true;
	return false;
}

/*
 * accept(2) and accept4(2).  As Linux, a full descriptor table gives
 * EMFILE before a connection is taken, and the connection waits on the
 * queue.  Only if the table filled up while this call slept is the
 * connection taken and then closed (lost): the descriptor was checked
 * before the wait.
 */
static int
sys_acceptit(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct sockaddr_in sin;
	struct netstack *ns;
	struct socket *head, *so;
	int error, nfd;

	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return (int)sys_return(EINVAL, 0);
	if (addr != NULL && len == NULL)
		return (int)sys_return(EFAULT, 0);
	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if ((error = fd_socket(ns, fd, &head)) != 0)
		return (int)sys_exit(ns, error, 0);
	if (!fd_available(ns))
		error = EMFILE;
	else
		error = soaccept(head, &so);
	sorele(head);
	if (error != 0)
		return (int)sys_exit(ns, error, 0);
	if ((nfd = fd_install(ns, so, flags)) < 0)
		return (int)sys_exit(ns, EMFILE, 0);
	if (addr != NULL) {
		sys_sockname(so, &sin, true);
		sockaddr_in_copyout(&sin, addr, len);
	}
	return (int)sys_exit(ns, 0, nfd);
}

int
rump_sys_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return sys_acceptit(fd, addr, len, 0);
}

int
rump_sys_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return sys_acceptit(fd, addr, len, flags);
}

/*
 * sendmsg()'s control messages for a datagram of so into *si, as Linux's
 * ip_cmsg_send(): IPPROTO_IP's IP_PKTINFO (ipi_spec_dst, when not 0, is
 * the source address; ipi_ifindex, when not 0, must name an interface,
 * ENODEV otherwise, which the datagram leaves by; the last IP_PKTINFO
 * counts), IP_TTL (an int, 1..255) and IP_TOS (an int or a byte, 0..255);
 * on a UDP socket, SOL_UDP's UDP_SEGMENT (a 16-bit size).  Anything else,
 * or a malformed header: EINVAL.
 */
static int
cmsg_sndinfo(struct netstack *ns, const struct socket *so,
    const struct msghdr *msg, struct so_sndinfo *si)
{
	const char *p = msg->msg_control;
	size_t left = msg->msg_control != NULL ? msg->msg_controllen : 0;

	memset(si, 0, sizeof(*si));
	while (left >= sizeof(struct cmsghdr)) {
		struct cmsghdr h;
		const char *data;
		size_t dlen;
		int v;

		memcpy(&h, p, sizeof(h));
		if (h.cmsg_len < CMSG_LEN(0) || h.cmsg_len > left)
			return EINVAL;
		data = p + CMSG_LEN(0);
		dlen = h.cmsg_len - CMSG_LEN(0);
		if (h.cmsg_level == IPPROTO_UDP && h.cmsg_type == UDP_SEGMENT &&
		    so->so_proto->pr_protocol == IPPROTO_UDP) {
			/* Linux's: a 16-bit size for this send */
			if (dlen != sizeof(uint16_t))
				return EINVAL;
			memcpy(&si->si_gso, data, sizeof(si->si_gso));
			si->si_set |= SO_SI_GSO;
			goto next;
		}
		/*
		 * as Linux's udp_sendmsg()/raw_sendmsg(): SOL_SOCKET's
		 * SCM_RIGHTS and SCM_CREDENTIALS mean nothing here and are
		 * passed over (__sock_cmsg_send()), its others (SO_MARK,
		 * SCM_TXTIME: not had here) and an unknown type of UDP's or
		 * IP's level are EINVAL; other levels are not the
		 * protocol's: skipped
		 */
		if (h.cmsg_level == SOL_SOCKET &&
		    (h.cmsg_type == SCM_RIGHTS || h.cmsg_type == SCM_CREDENTIALS))
			goto next;
		if (h.cmsg_level == SOL_SOCKET ||
		    (h.cmsg_level == IPPROTO_UDP &&
		    so->so_proto->pr_protocol == IPPROTO_UDP))
			return EINVAL;
		if (h.cmsg_level != IPPROTO_IP)
			goto next;
		switch (h.cmsg_type) {
		case IP_PKTINFO: {
			struct in_pktinfo pi;

			if (dlen != sizeof(pi))
				return EINVAL;
			memcpy(&pi, data, sizeof(pi));
			si->si_set &= ~(unsigned)(SO_SI_IFINDEX | SO_SI_SRC);
			if (pi.ipi_ifindex != 0) {
				if (pi.ipi_ifindex < 0 || if_byindex(
				    ns->ns_kernel, (unsigned)pi.ipi_ifindex) ==
				    NULL)
					return ENODEV;
				si->si_ifindex = (unsigned)pi.ipi_ifindex;
				si->si_set |= SO_SI_IFINDEX;
			}
			if (pi.ipi_spec_dst.s_addr != INADDR_ANY) {
				si->si_src = pi.ipi_spec_dst;
				si->si_set |= SO_SI_SRC;
			}
			break;
		}
		case IP_TTL:
			if (dlen != sizeof(int))
				return EINVAL;
			memcpy(&v, data, sizeof(v));
			if (v < 1 || v > 255)
				return EINVAL;
			si->si_ttl = (uint8_t)v;
			si->si_set |= SO_SI_TTL;
			break;
		case IP_TOS:
			if (dlen == sizeof(int))
				memcpy(&v, data, sizeof(v));
			else if (dlen == 1)
				v = *(const uint8_t *)data;
			else
				return EINVAL;
			if (v < 0 || v > 255)
				return EINVAL;
			si->si_tos = (uint8_t)v;
			si->si_set |= SO_SI_TOS;
			break;
		default:
			return EINVAL;
		}
next:
		if (CMSG_SPACE(dlen) >= left)
			break;
		p += CMSG_SPACE(dlen);
		left -= CMSG_SPACE(dlen);
	}
	return 0;
}

/*
 * One send on so, the instance entered: the body of send(), sendto(),
 * sendmsg() (msg: its control messages) and each of sendmmsg()'s.
 */
static int
so_sendit(struct netstack *ns, struct socket *so, const struct iovec *iov,
    int iovcnt, const struct sockaddr *to, socklen_t tolen, int flags,
    const struct msghdr *msg, size_t *sent, size_t *wanted)
{
	struct so_sndinfo si;
	struct sockaddr_in sin;
	size_t resid = 0;
	int error;

	*sent = 0;
	if ((error = iov_total(iov, iovcnt, &resid)) != 0)
		return error;
	*wanted = resid;
	/*
	 * as Linux, a stream socket ignores the address it is given, but
	 * for MSG_FASTOPEN (sosend_fastopen())
	 */
	if (so->so_type == SOCK_STREAM && !(flags & MSG_FASTOPEN))
		to = NULL;
	if (to != NULL)
		error = sockaddr_in_copyin(to, tolen, &sin, false);
	/* control messages: a datagram's (Linux's TCP ignores them) */
	/* (a datagram being gathered keeps its first send's: Linux's cork) */
	if (error == 0 && msg != NULL && so->so_type == SOCK_DGRAM &&
	    !so->so_dgpend &&
	    (error = cmsg_sndinfo(ns, so, msg, &si)) == 0 && si.si_set != 0)
		so->so_sndinfo = &si;
	if (error == 0)
		error = sosend(so, to != NULL ? &sin : NULL, iov, iovcnt, resid,
		    flags, sent);
	so->so_sndinfo = NULL;
	return error;
}

static ssize_t
sys_sendit(int fd, const struct iovec *iov, int iovcnt,
    const struct sockaddr *to, socklen_t tolen, int flags,
    const struct msghdr *msg)
{
	struct netstack *ns;
	struct socket *so;
	size_t sent = 0, wanted = 0;
	int error;

	if ((error = sys_enter(&ns)) != 0)
		return sys_return(error, 0);
	if ((error = fd_socket(ns, fd, &so)) != 0)
		return sys_exit(ns, error, 0);
	error = so_sendit(ns, so, iov, iovcnt, to, tolen, flags, msg, &sent,
	    &wanted);
	sorele(so);
	return sys_exit(ns, error, (long)sent);
}

/*
 * One receive on so, the instance entered: the body of recv(),
 * recvfrom(), recvmsg() and each of recvmmsg()'s.
 */
static int
so_recvit(struct socket *so, const struct iovec *iov, int iovcnt,
    struct sockaddr *from, socklen_t *fromlen, int flags, int *msgflags,
    struct so_rcvinfo *ri, size_t *got)
{
	struct sockaddr_in sin;
	size_t resid = 0;
	int error, mf = 0;

	*got = 0;
	if ((error = iov_total(iov, iovcnt, &resid)) != 0)
		return error;
	if (from != NULL && fromlen == NULL)
		return EFAULT;
	memset(&sin, 0, sizeof(sin));
	error = soreceive(so, &sin, iov, iovcnt, resid, flags, got, &mf, ri);
	if (error == 0 && so->so_type == SOCK_STREAM && from != NULL)
		*fromlen = 0;	/* as Linux: no address with stream data */
	else if (error == 0)
		sockaddr_in_copyout(&sin, from, fromlen);
	if (msgflags != NULL)
		*msgflags = mf;
	return error;
}

static ssize_t
sys_recvit(int fd, const struct iovec *iov, int iovcnt, struct sockaddr *from,
    socklen_t *fromlen, int flags, int *msgflags, struct so_rcvinfo *ri)
{
	struct netstack *ns;
	struct socket *so;
	size_t got = 0;
	int error;

	if ((error = sys_enter(&ns)) != 0)
		return sys_return(error, 0);
	if ((error = fd_socket(ns, fd, &so)) != 0)
		return sys_exit(ns, error, 0);
	error = so_recvit(so, iov, iovcnt, from, fromlen, flags, msgflags, ri,
	    &got);
	sorele(so);
	return sys_exit(ns, error, (long)got);
}

ssize_t
rump_sys_send(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = { (void *)(uintptr_t)buf, len };

	return sys_sendit(fd, &iov, 1, NULL, 0, flags, NULL);
}

ssize_t
rump_sys_sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *to, socklen_t tolen)
{
	struct iovec iov = { (void *)(uintptr_t)buf, len };

	return sys_sendit(fd, &iov, 1, to, tolen, flags, NULL);
}

ssize_t
rump_sys_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (msg == NULL)
		return sys_return(EFAULT, 0);
	if (msg->msg_iovlen > IOV_MAX)
		return sys_return(EMSGSIZE, 0);
	/* as Linux: a name of length 0 is no name (a reused msghdr) */
	return sys_sendit(fd, msg->msg_iov, (int)msg->msg_iovlen,
	    msg->msg_namelen != 0 ? msg->msg_name : NULL, msg->msg_namelen,
	    flags, msg);
}

ssize_t
rump_sys_write(int fd, const void *buf, size_t len)
{
	return rump_sys_send(fd, buf, len, 0);
}

ssize_t
rump_sys_writev(int fd, const struct iovec *iov, int iovcnt)
{
	return sys_sendit(fd, iov, iovcnt, NULL, 0, 0, NULL);
}

ssize_t
rump_sys_recv(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = { buf, len };

	return sys_recvit(fd, &iov, 1, NULL, NULL, flags, NULL, NULL);
}

ssize_t
rump_sys_recvfrom(int fd, void *buf, size_t len, int flags,
    struct sockaddr *from, socklen_t *fromlen)
{
	struct iovec iov = { buf, len };

	return sys_recvit(fd, &iov, 1, from, fromlen, flags, NULL, NULL);
}

/*
 * One control message of len bytes at *off of msg's buffer: MSG_CTRUNC
 * (and false) when it does not fit, as Linux's put_cmsg() says.
 */
static bool
cmsg_put(struct msghdr *msg, size_t *off, int level, int type,
    const void *data, size_t len)
{
	struct cmsghdr h = { .cmsg_len = CMSG_LEN(len), .cmsg_level = level,
	    .cmsg_type = type };
	char *p = (char *)msg->msg_control + *off;

	if (msg->msg_controllen - *off < CMSG_LEN(len)) {
		msg->msg_flags |= MSG_CTRUNC;
		return false;
	}
	memcpy(p, &h, sizeof(h));
	memcpy(p + CMSG_ALIGN(sizeof(h)), data, len);
	*off += MIN(CMSG_SPACE(len), msg->msg_controllen - *off);
	return true;
}

/* A wall time in ns as the host's struct timeval, struct timespec. */
static struct timeval
ns_timeval(uint64_t ns)
{
	return (struct timeval){ .tv_sec = (long)(ns / 1000000000u),
	    .tv_usec = (long)(ns % 1000000000u / 1000u) };
}

static struct so_timespec
ns_timespec(uint64_t ns)
{
	return (struct so_timespec){ .tv_sec = (long)(ns / 1000000000u),
	    .tv_nsec = (long)(ns % 1000000000u) };
}

/*
 * SIOCGSTAMP (ns: SIOCGSTAMPNS), as Linux's sock_gettstamp(): the time the
 * last datagram read without SO_TIMESTAMP(NS) came in (ENOENT: none was;
 * one that was not timed: now).  The first call starts timing them.
 */
static int
so_gettstamp(struct socket *so, bool ns, void *arg)
{
	so->so_tstamp |= SO_TS_TIMING;
	if (!(so->so_tstamp & SO_TS_HAVE))
		return ENOENT;
	if (so->so_laststamp == 0)
		so->so_laststamp = kern_clock_wall(so->so_kernel);
	if (ns) {
		struct so_timespec ts = ns_timespec(so->so_laststamp);

		memcpy(arg, &ts, sizeof(ts));
	} else {
		struct timeval tv = ns_timeval(so->so_laststamp);

		memcpy(arg, &tv, sizeof(tv));
	}
	return 0;
}

/*
 * The control messages of ri into msg: SCM_TIMESTAMP or SCM_TIMESTAMPNS,
 * IP_PKTINFO, IP_TTL, IP_TOS (Linux's order).
 */
static void
cmsg_rcvinfo(struct msghdr *msg, const struct so_rcvinfo *ri)
{
	size_t off = 0;

	if (msg->msg_control == NULL)
		msg->msg_controllen = 0;
	if ((ri->ri_want & SO_RI_TSTAMPNS) && msg->msg_control != NULL) {
		struct so_timespec ts = ns_timespec(ri->ri_stamp);

		if (!cmsg_put(msg, &off, SOL_SOCKET, SCM_TIMESTAMPNS, &ts,
		    sizeof(ts)))
			goto out;
	} else if ((ri->ri_want & SO_RI_TSTAMP) && msg->msg_control != NULL) {
		struct timeval tv = ns_timeval(ri->ri_stamp);

		if (!cmsg_put(msg, &off, SOL_SOCKET, SCM_TIMESTAMP, &tv,
		    sizeof(tv)))
			goto out;
	}
	if ((ri->ri_want & SO_RI_PKTINFO) && msg->msg_control != NULL) {
		struct in_pktinfo pi = { .ipi_ifindex = (int)ri->ri_ifindex,
		    .ipi_spec_dst = ri->ri_spec, .ipi_addr = ri->ri_dst };

		if (!cmsg_put(msg, &off, IPPROTO_IP, IP_PKTINFO, &pi,
		    sizeof(pi)))
			goto out;
	}
	if ((ri->ri_want & SO_RI_TTL) && msg->msg_control != NULL) {
		int ttl = ri->ri_ttl;

		if (!cmsg_put(msg, &off, IPPROTO_IP, IP_TTL, &ttl,
		    sizeof(ttl)))
			goto out;
	}
	if ((ri->ri_want & SO_RI_TOS) && msg->msg_control != NULL &&
	    !cmsg_put(msg, &off, IPPROTO_IP, IP_TOS, &ri->ri_tos, 1))
		goto out;
	if ((ri->ri_want & SO_RI_RECVERR) && msg->msg_control != NULL) {
		/* Linux's struct sock_extended_err, then the offender */
		struct {
			uint32_t ee_errno;
			uint8_t ee_origin, ee_type, ee_code, ee_pad;
			uint32_t ee_info, ee_data;
			struct sockaddr_in offender;
		} ee = {
			.ee_errno = (uint32_t)hyper_errno_to_host(
			    ri->ri_ee_errno),
			.ee_origin = ri->ri_ee_origin,
			.ee_type = ri->ri_ee_type,
			.ee_code = ri->ri_ee_code,
			.ee_info = ri->ri_ee_info,
			.offender = { .sin_family = AF_INET,
			    .sin_addr = ri->ri_offender },
		};

		(void)cmsg_put(msg, &off, IPPROTO_IP, IP_RECVERR, &ee,
		    sizeof(ee));
	}
out:
	if (ri->ri_want != 0 && msg->msg_control == NULL)
		msg->msg_flags |= MSG_CTRUNC;
	msg->msg_controllen = off;
}

/*
 * recvmsg: msg_flags says MSG_TRUNC, MSG_CTRUNC; msg_control gets what a
 * datagram socket asked for (IP_PKTINFO, IP_RECVTTL, IP_RECVTOS), in
 * Linux's order and layout; msg_controllen the bytes used.
 */
ssize_t
rump_sys_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct so_rcvinfo ri;
	ssize_t n;
	int mf = 0;

	if (msg == NULL)
		return sys_return(EFAULT, 0);
	if (msg->msg_iovlen > IOV_MAX)
		return sys_return(EMSGSIZE, 0);
	memset(&ri, 0, sizeof(ri));
	n = sys_recvit(fd, msg->msg_iov, (int)msg->msg_iovlen,
	    msg->msg_name, msg->msg_name != NULL ? &msg->msg_namelen : NULL,
	    flags, &mf, &ri);
	if (n >= 0) {
		msg->msg_flags = mf;
		cmsg_rcvinfo(msg, &ri);
	}
	return n;
}

int
rump_sys_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	struct netstack *ns;
	struct socket *so;
	unsigned i;
	size_t sent, wanted = 0;
	int error = 0;

	if (vec == NULL && vlen != 0)
		return (int)sys_return(EFAULT, 0);
	vlen = MIN(vlen, (unsigned)IOV_MAX);	/* Linux's UIO_MAXIOV */
	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if ((error = fd_socket(ns, fd, &so)) != 0)
		return (int)sys_exit(ns, error, 0);
	for (i = 0; i < vlen; i++) {
		struct msghdr *mh = &vec[i].msg_hdr;

		error = mh->msg_iovlen > IOV_MAX ? EMSGSIZE :
		    so_sendit(ns, so, mh->msg_iov, (int)mh->msg_iovlen,
		    mh->msg_namelen != 0 ? mh->msg_name : NULL,
		    mh->msg_namelen, flags, mh, &sent, &wanted);
		if (error != 0)
			break;
		vec[i].msg_len = (unsigned)sent;
		/* a stream send cut short: that one counts, and it ends */
		if (sent < wanted) {
			i++;
			break;
		}
	}
	sorele(so);
	/* as Linux: an error after the first is lost */
	return (int)sys_exit(ns, i == 0 ? error : 0, (long)i);
}

int
rump_sys_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
    struct timespec *timeout)
{
	struct so_timespec ts;
	struct so_rcvinfo ri;
	struct netstack *ns;
	struct socket *so;
	uint64_t end = 0, now;
	unsigned i;
	size_t got;
	int error = 0, mf;

	if (vec == NULL && vlen != 0)
		return (int)sys_return(EFAULT, 0);
	if (timeout != NULL) {
		memcpy(&ts, timeout, sizeof(ts));
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 ||
		    ts.tv_nsec >= 1000000000)
			return (int)sys_return(EINVAL, 0);
	}
	vlen = MIN(vlen, (unsigned)IOV_MAX);
	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if ((error = fd_socket(ns, fd, &so)) != 0)
		return (int)sys_exit(ns, error, 0);
	if (timeout != NULL) {
		/* saturated, as Linux's timespec64_add_safe() */
		now = kern_clock_ns(ns->ns_kernel);
		end = (uint64_t)ts.tv_sec >= (UINT64_MAX - now) / 1000000000u ?
		    UINT64_MAX : now + (uint64_t)ts.tv_sec * 1000000000u +
		    (uint64_t)ts.tv_nsec;
	}
	for (i = 0; i < vlen; i++) {
		struct msghdr *mh = &vec[i].msg_hdr;
		/* MSG_WAITFORONE: wait for the first one only */
		int f = (flags & ~MSG_WAITFORONE) |
		    (i > 0 && (flags & MSG_WAITFORONE) ? MSG_DONTWAIT : 0);

		memset(&ri, 0, sizeof(ri));
		error = mh->msg_iovlen > IOV_MAX ? EMSGSIZE :
		    so_recvit(so, mh->msg_iov, (int)mh->msg_iovlen,
		    mh->msg_name, mh->msg_name != NULL ? &mh->msg_namelen :
		    NULL, f, &mf, &ri, &got);
		if (error != 0)
			break;
		mh->msg_flags = mf;
		cmsg_rcvinfo(mh, &ri);
		vec[i].msg_len = (unsigned)got;
		/* as Linux: an urgent byte ends the batch */
		if (f & MSG_OOB) {
			i++;
			break;
		}
		/*
		 * as Linux, the time is looked at after each datagram (a
		 * wait for one is not cut short by it)
		 */
		if (timeout != NULL &&
		    (now = kern_clock_ns(ns->ns_kernel)) >= end) {
			i++;
			break;
		}
	}
	/* Linux's: what is left of the time */
	if (timeout != NULL && i > 0) {
		now = kern_clock_ns(ns->ns_kernel);
		ts = ns_timespec(now >= end ? 0 : end - now);
		memcpy(timeout, &ts, sizeof(ts));
	}
	/*
	 * an error after the first datagram is kept as SO_ERROR (Linux's
	 * sk_err; a receive returns it once no datagram is queued, as BSD's
	 * soreceive()); running out of them is no error
	 */
	if (i > 0 && error != 0 && error != EWOULDBLOCK)
		so->so_error = error;
	sorele(so);
	return (int)sys_exit(ns, i == 0 ? error : 0, (long)i);
}

/*
 * read(2) and readv(2) of nothing: 0 at once on a socket, as Linux's
 * sock_read_iter(); a recv() would wait for (and take) a datagram.
 */
static ssize_t
sys_read_nothing(int fd)
{
	struct netstack *ns;
	struct socket *so;
	int error;

	if ((error = sys_enter(&ns)) != 0)
		return sys_return(error, 0);
	if ((error = fd_socket(ns, fd, &so)) != 0)
		return sys_exit(ns, error, 0);
	sorele(so);
	return sys_exit(ns, 0, 0);
}

ssize_t
rump_sys_read(int fd, void *buf, size_t len)
{
	if (len == 0)
		return sys_read_nothing(fd);
	return rump_sys_recv(fd, buf, len, 0);
}

ssize_t
rump_sys_readv(int fd, const struct iovec *iov, int iovcnt)
{
	size_t resid;

	if (iov_total(iov, iovcnt, &resid) == 0 && resid == 0)
		return sys_read_nothing(fd);
	return sys_recvit(fd, iov, iovcnt, NULL, NULL, 0, NULL, NULL);
}

int
rump_sys_shutdown(int fd, int how)
{
	return sys_intcall(fd, how, soshutdown);
}

int
rump_sys_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct netstack *ns;
	struct socket *so;
	int error;

	if (val == NULL || len == NULL)
		return (int)sys_return(EFAULT, 0);
	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if ((error = fd_socket(ns, fd, &so)) != 0)
		return (int)sys_exit(ns, error, 0);
	error = sogetopt(so, level, name, val, len);
	sorele(so);
	return (int)sys_exit(ns, error, 0);
}

int
rump_sys_setsockopt(int fd, int level, int name, const void *val,
    socklen_t len)
{
	struct netstack *ns;
	struct socket *so;
	int error;

	if (val == NULL && len > 0)
		return (int)sys_return(EFAULT, 0);
	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if ((error = fd_socket(ns, fd, &so)) != 0)
		return (int)sys_exit(ns, error, 0);
	error = sosetopt(so, level, name, val, len);
	sorele(so);
	return (int)sys_exit(ns, error, 0);
}

static int
sys_getname(int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct sockaddr_in sin;
	struct netstack *ns;
	struct socket *so;
	int error;

	if (addr == NULL || len == NULL)
		return (int)sys_return(EFAULT, 0);
	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if ((error = fd_socket(ns, fd, &so)) != 0)
		return (int)sys_exit(ns, error, 0);
	if (peer && !(so->so_state & SS_ISCONNECTED)) {
		error = ENOTCONN;
	} else {
		sys_sockname(so, &sin, peer);
		sockaddr_in_copyout(&sin, addr, len);
	}
	sorele(so);
	return (int)sys_exit(ns, error, 0);
}

int
rump_sys_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return sys_getname(fd, addr, len, false);
}

int
rump_sys_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return sys_getname(fd, addr, len, true);
}

/*
 * fcntl(2) of a kqueue descriptor (the net lock held): its descriptor
 * flags and O_NONBLOCK, as Linux's epoll descriptors have.
 */
static int
sys_fcntl_kqueue(struct netstack *ns, int fd, int cmd, int arg)
{
	uint8_t *fl = &ns->ns_fds->ft_flags[fd];
	int ret = 0, error = 0;

	switch (cmd) {
	case F_GETFL:
		ret = O_RDWR | ((*fl & FT_NONBLOCK) ? O_NONBLOCK : 0);
		break;
	case F_SETFL:
		*fl = (uint8_t)((*fl & ~FT_NONBLOCK) |
		    ((arg & O_NONBLOCK) ? FT_NONBLOCK : 0));
		break;
	case F_GETFD:
		ret = *fl & FD_CLOEXEC;
		break;
	case F_SETFD:
		*fl = (uint8_t)((*fl & ~FD_CLOEXEC) |
		    ((arg & FD_CLOEXEC) ? FD_CLOEXEC : 0));
		break;
	default:
		error = EINVAL;
		break;
	}
	return (int)sys_exit(ns, error, ret);
}

int
rump_sys_fcntl(int fd, int cmd, int arg)
{
	struct netstack *ns;
	struct socket *so;
	int error, ret = 0;

	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if (fd >= 0 && fd < FD_MAX && ns->ns_fds->ft_type[fd] == FT_KQUEUE)
		return sys_fcntl_kqueue(ns, fd, cmd, arg);
	if ((error = fd_socket(ns, fd, &so)) != 0)
		return (int)sys_exit(ns, error, 0);
	switch (cmd) {
	case F_GETFL:
		ret = O_RDWR | ((so->so_state & SS_NBIO) ? O_NONBLOCK : 0);
		break;
	case F_SETFL:
		if (arg & O_NONBLOCK)
			so->so_state |= SS_NBIO;
		else
			so->so_state &= ~SS_NBIO;
		break;
	case F_GETFD:
		ret = ns->ns_fds->ft_flags[fd];
		break;
	case F_SETFD:
		ns->ns_fds->ft_flags[fd] = (arg & FD_CLOEXEC) ? FD_CLOEXEC : 0;
		break;
	default:
		error = EINVAL;
		break;
	}
	sorele(so);
	return (int)sys_exit(ns, error, ret);
}

int
rump_sys_ioctl(int fd, unsigned long request, void *arg)
{
	struct netstack *ns;
	struct socket *so;
	int error, v;

	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if (fd >= 0 && fd < FD_MAX && ns->ns_fds->ft_type[fd] == FT_KQUEUE) {
		/* a kqueue: FIONBIO as any file; nothing else (Linux) */
		uint8_t *fl = &ns->ns_fds->ft_flags[fd];

		if (request != FIONBIO)
			error = ENOTTY;
		else if (arg == NULL)
			error = EFAULT;
		else {
			memcpy(&v, arg, sizeof(v));
			*fl = (uint8_t)((*fl & ~FT_NONBLOCK) |
			    (v ? FT_NONBLOCK : 0));
		}
		return (int)sys_exit(ns, error, 0);
	}
	if ((error = fd_socket(ns, fd, &so)) != 0)
		return (int)sys_exit(ns, error, 0);
	if (arg == NULL && (request == FIONREAD || request == FIONBIO ||
	    request == SIOCATMARK || request == SIOCOUTQ ||
	    request == SIOCOUTQNSD || request == SIOCGSTAMP ||
	    request == SIOCGSTAMPNS)) {
		error = EFAULT;
	} else if (request == SIOCGSTAMP || request == SIOCGSTAMPNS) {
		error = so_gettstamp(so, request == SIOCGSTAMPNS, arg);
	} else if ((request == FIONREAD || request == SIOCOUTQ ||
	    request == SIOCOUTQNSD) && (so->so_options & SOO_ACCEPTCONN)) {
		error = EINVAL;		/* as Linux: a listener has no data */
	} else if (request == SIOCOUTQ) {
		/*
		 * As Linux: a stream's bytes not yet acknowledged (sent or
		 * not); a datagram socket keeps none (each goes at once)
		 */
		v = so->so_type == SOCK_STREAM ? (int)so->so_snd.sb_cc : 0;
		memcpy(arg, &v, sizeof(v));
	} else if (request == SIOCOUTQNSD && so->so_proto->pr_notsent != NULL) {
		/* as Linux's TCP: the bytes not sent yet */
		v = (int)so->so_proto->pr_notsent(so);
		memcpy(arg, &v, sizeof(v));
	} else if (request == FIONREAD) {
		/* as Linux: the bytes buffered, or the next datagram's size */
		struct mbuf *rec = so->so_rcv.sb_mb;

		if (so->so_type == SOCK_STREAM)
			v = (int)so->so_rcv.sb_cc;
		else
			v = rec != NULL && rec->m_next != NULL ?
			    rec->m_next->m_pkthdr.len : 0;
		memcpy(arg, &v, sizeof(v));
	} else if (request == SIOCATMARK) {
		/* BSD's, Linux's: 1 when the next byte read is at the mark */
		v = so->so_atmark ? 1 : 0;
		memcpy(arg, &v, sizeof(v));
	} else if (request == FIONBIO) {
		memcpy(&v, arg, sizeof(v));
		if (v)
			so->so_state |= SS_NBIO;
		else
			so->so_state &= ~SS_NBIO;
	} else {
		error = ENOTTY;
	}
	sorele(so);
	return (int)sys_exit(ns, error, 0);
}

/* One pass over fds: how many have events. */
static int
poll_scan(struct netstack *ns, struct pollfd *fds, unsigned long nfds)
{
	int n = 0;

	for (unsigned long i = 0; i < nfds; i++) {
		struct pollfd *p = &fds[i];
		struct socket *so;

		p->revents = 0;
		if (p->fd < 0)
			continue;
		if (p->fd >= FD_MAX || ns->ns_fds->ft_type[p->fd] == FT_NONE)
			p->revents = POLLNVAL;
		else if (ns->ns_fds->ft_type[p->fd] != FT_SOCKET)
			p->revents = 0;	/* a kqueue is never ready here */
		else {
			so = ns->ns_fds->ft_obj[p->fd];
			p->revents = sopoll(so, p->events);
		}
		if (p->revents != 0)
			n++;
	}
	return n;
}

int
rump_sys_poll(struct pollfd *fds, unsigned long nfds, int timeout_ms)
{
	struct netstack *ns;
	uint64_t deadline = 0;
	int error, n;

	if (nfds > FD_MAX)
		return (int)sys_return(EINVAL, 0);
	if (nfds > 0 && fds == NULL)
		return (int)sys_return(EFAULT, 0);
	if ((error = sys_enter(&ns)) != 0)
		return (int)sys_return(error, 0);
	if (timeout_ms > 0)
		deadline = kern_clock_ns(ns->ns_kernel) +
		    (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		int ticks = 0;

		if ((n = poll_scan(ns, fds, nfds)) > 0 || timeout_ms == 0)
			break;
		if (timeout_ms > 0) {
			uint64_t now = kern_clock_ns(ns->ns_kernel);

			if (now >= deadline)
				break;
			ticks = (int)((deadline - now + 999999) / 1000000);
		}
		/*
		 * A non-blocking SO_BUSY_POLL call may have taken the ports:
		 * a sleeper gives them back to the receive threads.
		 */
		netstack_poll_done(ns);
		ns->ns_npollers++;
		(void)cv_timedwait(&ns->ns_pollcv, &ns->ns_lock, ticks);
		ns->ns_npollers--;
	}
	return (int)sys_exit(ns, 0, n);
}
