/*
 * rumpnet/socket.h -- the socket system calls of a rumpnet instance.
 *
 * Same signatures, structures, constants and errno values as the host's
 * own calls: a program ported from kernel sockets changes socket() to
 * rump_sys_socket() and nothing else.  A host thread must be bound to an
 * instance first (rump_thread_bind()); the descriptors are the instance's
 * own (0, 1, 2, ... lowest free first), not host descriptors.  Calls from
 * an unbound thread fail with ENXIO.  Errors: -1 and errno, per thread.
 *
 * Blocking calls release the instance's virtual CPU while they wait.
 *
 * Raw sockets: socket(AF_INET, SOCK_RAW, proto), proto 0..255 (0: receive
 * every protocol; outside: EPROTONOSUPPORT), with BSD's semantics
 * (src/netinet/raw_ip.c has them in full).  They need no privilege: the
 * stack is the process's own.  A read returns the datagram with its IP
 * header as on the wire (ip_len, ip_off in network order) and the source
 * as the address.  They receive the protocols the kernel lacks and every
 * ICMP message but the echo requests the kernel answers; not TCP nor UDP.
 * A send needs a destination (EDESTADDRREQ); without IP_HDRINCL the
 * kernel writes the header (IP_TTL, IP_TOS), with it (setsockopt
 * IPPROTO_IP IP_HDRINCL, always for IPPROTO_RAW) the user does, and a
 * header the kernel would send malformed gives EINVAL.  A broadcast needs
 * SO_BROADCAST (EACCES).
 */
#ifndef RUMPNET_SOCKET_H
#define RUMPNET_SOCKET_H

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * socket: ENOBUFS when the instance has its socket_limit of sockets
 * (rump_kernel_config), EMFILE when its 4096 descriptors are all taken.
 */
int rump_sys_socket(int domain, int type, int protocol);
int rump_sys_bind(int fd, const struct sockaddr *addr, socklen_t len);
int rump_sys_connect(int fd, const struct sockaddr *addr, socklen_t len);
/*
 * listen: backlog is the most established connections waiting for
 * accept() (at least 1; negative or above 4096: 4096).  EOPNOTSUPP on a
 * datagram socket, EINVAL on a connected one.
 */
int rump_sys_listen(int fd, int backlog);
int rump_sys_accept(int fd, struct sockaddr *addr, socklen_t *len);
/*
 * accept, accept4: the new socket is blocking unless accept4 has
 * SOCK_NONBLOCK (flags: SOCK_NONBLOCK, SOCK_CLOEXEC; any other bit:
 * EINVAL).  Errors: EOPNOTSUPP (a datagram socket), EINVAL (not
 * listening), EAGAIN (non-blocking, or SO_RCVTIMEO ran out), EMFILE (no
 * free descriptor: the connection stays queued), EBADF (the listener was
 * closed meanwhile).
 */
int rump_sys_accept4(int fd, struct sockaddr *addr, socklen_t *len,
    int flags);
/*
 * send, sendto, sendmsg, write, writev on a stream socket: what was taken
 * is counted, whatever happens after.  When the instance's mbufs or
 * clusters (mbuf_limit, cluster_limit) run out, a call takes what fitted;
 * a blocking one then waits for memory, within SO_SNDTIMEO (EAGAIN if
 * it ran out with nothing taken), and a non-blocking one returns what it
 * took, or EAGAIN if nothing (as Linux; BSD says ENOBUFS).  MSG_MORE
 * (streams only) holds partial segments until a send without it, as
 * TCP_CORK does.
 */
ssize_t rump_sys_send(int fd, const void *buf, size_t len, int flags);
ssize_t rump_sys_sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *to, socklen_t tolen);
/*
 * sendmsg: on a UDP socket, IPPROTO_IP control messages as Linux's:
 * IP_PKTINFO (ipi_spec_dst, if not 0, the source: one of the instance's
 * addresses, EINVAL otherwise; ipi_ifindex, if not 0, must name an
 * interface, ENODEV otherwise: the datagram leaves by it, as with
 * SO_BINDTODEVICE, which it overrides), IP_TTL (int), IP_TOS
 * (int or byte) for that datagram, and IPPROTO_UDP's UDP_SEGMENT (a
 * uint16_t: this send goes as datagrams of that size, as the socket
 * option of that name); any other: EINVAL.  A stream socket ignores
 * control messages, as Linux's TCP.
 */
ssize_t rump_sys_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t rump_sys_recv(int fd, void *buf, size_t len, int flags);
ssize_t rump_sys_recvfrom(int fd, void *buf, size_t len, int flags,
    struct sockaddr *from, socklen_t *fromlen);
/*
 * recvmsg: msg_flags MSG_TRUNC, MSG_CTRUNC; on a UDP socket with
 * IP_PKTINFO, IP_RECVTTL or IP_RECVTOS set, msg_control gets those control
 * messages (Linux's order and layout: struct in_pktinfo, an int TTL, a
 * TOS byte), and on a UDP or raw socket with SO_TIMESTAMP or
 * SO_TIMESTAMPNS the datagram's receive time first (SCM_TIMESTAMP, a
 * struct timeval; SCM_TIMESTAMPNS, a struct timespec; the time of day as
 * the stack took it in); msg_controllen is what was used.  A TCP socket
 * takes those two options but gives no timestamps.  MSG_ERRQUEUE (a UDP
 * socket with IP_RECVERR): the oldest queued ICMP error instead, never
 * waiting (EAGAIN): the quoted data, the datagram's destination, an
 * IP_RECVERR control message (struct sock_extended_err, then the
 * offender's struct sockaddr_in), MSG_ERRQUEUE in msg_flags.
 */
ssize_t rump_sys_recvmsg(int fd, struct msghdr *msg, int flags);
/*
 * sendmmsg, recvmmsg (Linux's; struct mmsghdr needs _GNU_SOURCE): up to
 * vlen (at most 1024) messages in one call, the instance entered once:
 * the number done, each message's msg_len its bytes, or -1 and the errno
 * when the first fails.  An error after the first: sendmmsg loses it (a
 * stream send cut short ends the batch, counted); recvmmsg keeps it as
 * SO_ERROR (a receive returns it once no datagram is queued), and running
 * out of datagrams is none.  recvmmsg: MSG_WAITFORONE waits for the first
 * datagram only; timeout, if not NULL, is looked at after each datagram
 * (it does not cut a wait short, as Linux) and left holding what remains.
 */
struct mmsghdr;
struct timespec;
int rump_sys_sendmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen,
    int flags);
int rump_sys_recvmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen,
    int flags, struct timespec *timeout);
ssize_t rump_sys_read(int fd, void *buf, size_t len);
ssize_t rump_sys_write(int fd, const void *buf, size_t len);
ssize_t rump_sys_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t rump_sys_writev(int fd, const struct iovec *iov, int iovcnt);
int rump_sys_shutdown(int fd, int how);
int rump_sys_close(int fd);
/*
 * IPv4 multicast (RFC 1112) on UDP sockets (raw sockets have no
 * multicast options: their sends to a group take the route), with Linux's
 * options and errors:
 * IP_ADD_MEMBERSHIP and IP_DROP_MEMBERSHIP take a struct ip_mreq or
 * ip_mreqn (the interface by index, by address, or neither: the route to
 * the group's; EINVAL: not a group; ENODEV: no such interface;
 * EADDRINUSE: joined; EADDRNOTAVAIL: not joined; ENOBUFS: more than 20;
 * EPROTO on TCP); IP_MULTICAST_IF (an in_addr, ip_mreq or ip_mreqn; any:
 * the route's), IP_MULTICAST_TTL (default 1; 0: the host only),
 * IP_MULTICAST_LOOP (default 1: the host's own members get a copy).
 * Without IP_MULTICAST_IF a datagram leaves by the interface of the
 * socket's address, or the route's.  The instance reports its
 * groups with IGMPv2 (RFC 2236; counters "igmp.*").  A datagram to a
 * group goes to the sockets bound to its port that joined it on the
 * interface it came in on, as BSD does; IP_MULTICAST_ALL 1 gives Linux's
 * default instead (any group the instance is in), and is 0 until set.
 */
int rump_sys_getsockopt(int fd, int level, int name, void *val,
    socklen_t *len);
int rump_sys_setsockopt(int fd, int level, int name, const void *val,
    socklen_t len);
int rump_sys_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int rump_sys_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
/* fcntl: F_GETFL, F_SETFL (O_NONBLOCK), F_GETFD, F_SETFD */
int rump_sys_fcntl(int fd, int cmd, int arg);
/*
 * ioctl: FIONREAD (int *: bytes of the next datagram, or all bytes
 * buffered on a stream socket; EINVAL on a listener), FIONBIO (int *),
 * SIOCATMARK (int *: 1 when the next byte read is at the urgent mark,
 * the place of the last urgent byte in the stream; as with BSD and
 * Linux, a read stops at the mark, and recv(MSG_OOB) gives the byte
 * unless SO_OOBINLINE keeps it in the stream, at the mark), SIOCOUTQ
 * (int *: a stream's bytes not acknowledged yet, sent or not; 0 on a
 * datagram socket), SIOCOUTQNSD (int *: TCP's bytes not sent yet; ENOTTY
 * on other sockets); both EINVAL on a listener; SIOCGSTAMP (struct
 * timeval *) and SIOCGSTAMPNS (struct timespec *; <linux/sockios.h>): the
 * receive time of the last datagram read without SO_TIMESTAMP(NS), ENOENT
 * before one (the first call starts timing the socket's datagrams, as
 * Linux)
 */
int rump_sys_ioctl(int fd, unsigned long request, void *arg);
int rump_sys_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* RUMPNET_SOCKET_H */
