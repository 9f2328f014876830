/*
 * socket.h -- socket-level definitions for kernel code.
 *
 * The public API speaks the host's socket ABI (DESIGN.md), so these
 * constants and structures carry the values and layouts of the host
 * (Linux, glibc, LP64): SOL_SOCKET is 1, SO_RCVTIMEO takes a 64-bit
 * struct timeval, msghdr has size_t lengths.  A port to another host adds
 * a translation at the system call boundary (sys_socket.c), not here.
 */
#ifndef SYS_SOCKET_H
#define SYS_SOCKET_H

#include "kern/libkern.h"
#include "netinet/in.h"

typedef uint32_t socklen_t;
typedef long ssize_t;

#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define SOCK_TYPE_MASK 0xf
#define SOCK_NONBLOCK 0x800	/* O_NONBLOCK */
#define SOCK_CLOEXEC 0x80000

#define PF_INET AF_INET

#define SOMAXCONN 4096		/* largest listen() backlog (Linux 5.4+) */

#define SOL_SOCKET 1
#define SO_DEBUG 1
#define SO_REUSEADDR 2
#define SO_TYPE 3
#define SO_ERROR 4
#define SO_DONTROUTE 5
#define SO_BROADCAST 6
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_KEEPALIVE 9
#define SO_OOBINLINE 10
#define SO_LINGER 13
#define SO_REUSEPORT 15
#define SO_RCVLOWAT 18
#define SO_SNDLOWAT 19
#define SO_RCVTIMEO 20
#define SO_SNDTIMEO 21
#define SO_BINDTODEVICE 25	/* an interface name */
#define SO_TIMESTAMP 29	/* struct timeval (SO_TIMESTAMP_OLD) */
#define SO_ACCEPTCONN 30
#define SO_TIMESTAMPNS 35	/* struct timespec (SO_TIMESTAMPNS_OLD) */
#define SCM_TIMESTAMP SO_TIMESTAMP
#define SCM_TIMESTAMPNS SO_TIMESTAMPNS
#define SCM_RIGHTS 1		/* Linux's: meaningless on an IP socket */
#define SCM_CREDENTIALS 2
#define SO_PROTOCOL 38
#define SO_DOMAIN 39
#define SO_BUSY_POLL 46
#define SO_BINDTOIFINDEX 62	/* an interface index */

#define MSG_OOB 0x1
#define MSG_PEEK 0x2
#define MSG_DONTROUTE 0x4
#define MSG_CTRUNC 0x8
#define MSG_TRUNC 0x20
#define MSG_DONTWAIT 0x40
#define MSG_EOR 0x80
#define MSG_WAITALL 0x100
#define MSG_ERRQUEUE 0x2000
#define MSG_NOSIGNAL 0x4000
#define MSG_MORE 0x8000
#define MSG_WAITFORONE 0x10000	/* recvmmsg() */
#define MSG_FASTOPEN 0x20000000	/* TCP Fast Open: connect, data in the SYN */

#define SHUT_RD 0
#define SHUT_WR 1
#define SHUT_RDWR 2

#define O_NONBLOCK 0x800
#define O_RDWR 0x2
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define FD_CLOEXEC 1
#define FIONREAD 0x541b
#define FIONBIO 0x5421
#define SIOCATMARK 0x8905
#define SIOCOUTQ 0x5411		/* TIOCOUTQ */
#define SIOCOUTQNSD 0x894b
#define SIOCGSTAMP 0x8906	/* struct timeval (SIOCGSTAMP_OLD) */
#define SIOCGSTAMPNS 0x8907	/* struct timespec (SIOCGSTAMPNS_OLD) */

#define POLLIN 0x001
#define POLLPRI 0x002
#define POLLOUT 0x004
#define POLLERR 0x008
#define POLLHUP 0x010
#define POLLNVAL 0x020
#define POLLRDNORM 0x040
#define POLLWRNORM 0x100
#define POLLRDHUP 0x2000	/* Linux: the peer shut its side (or SHUT_RD) */

struct iovec {
	void *iov_base;
	size_t iov_len;
};

struct msghdr {
	void *msg_name;
	socklen_t msg_namelen;
	struct iovec *msg_iov;
	size_t msg_iovlen;
	void *msg_control;
	size_t msg_controllen;
	int msg_flags;
};

/* sendmmsg(), recvmmsg() */
struct mmsghdr {
	struct msghdr msg_hdr;
	unsigned int msg_len;		/* bytes sent or received */
};

/* control messages (Linux's layout: the length is a size_t) */
struct cmsghdr {
	size_t cmsg_len;		/* with this header */
	int cmsg_level;
	int cmsg_type;
};
#define CMSG_ALIGN(n) (((n) + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1))
#define CMSG_LEN(n) (CMSG_ALIGN(sizeof(struct cmsghdr)) + (n))
#define CMSG_SPACE(n) (CMSG_ALIGN(sizeof(struct cmsghdr)) + CMSG_ALIGN(n))

struct linger {
	int l_onoff;
	int l_linger;
};

struct timeval {
	long tv_sec;
	long tv_usec;
};

/* the host's struct timespec (SCM_TIMESTAMPNS, SIOCGSTAMPNS) */
struct so_timespec {
	long tv_sec;
	long tv_nsec;
};

struct pollfd {
	int fd;
	short events;
	short revents;
};

#define IOV_MAX 1024

#endif /* SYS_SOCKET_H */
