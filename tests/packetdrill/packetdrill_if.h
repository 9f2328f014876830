/*
 * packetdrill_if.h -- the function table of packetdrill's shared-object
 * mode (`packetdrill --so_filename=lib.so --so_flags=...`), written here
 * from its published field list and signatures and checked against
 * packetdrill's own header (gtests/net/packetdrill/packetdrill.h); no
 * packetdrill code is copied.
 *
 * packetdrill dlopen()s the object (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE |
 * RTLD_DEEPBIND), looks up packetdrill_interface_init, calls it once with
 * the --so_flags string (NULL when the option was not given) and a zeroed
 * table, then makes every socket call, every packet injection and every
 * clock reading of the script through the table, passing userdata as the
 * first argument.  At the end it calls free(userdata) and dlclose()s.
 *
 * The entries, in the order packetdrill's layout has them:
 *
 *   userdata        handed back as the first argument of every call
 *   free            tear down everything init made
 *   socket .. poll  the calls of the same name, with the host's ABI: -1
 *                   and errno on failure
 *   netdev_send     inject one IPv4 or IPv6 packet (count bytes at buf, no
 *                   link-layer header) into the stack; 0, or -1
 *   netdev_receive  the next packet the stack sent, IP header first, into
 *                   buf (*count: its size in, the packet's length out) and
 *                   its send time in microseconds on gettimeofday's
 *                   clock; 0, or -1 for "nothing yet" (packetdrill calls
 *                   again).  *count = 0 with 0 makes packetdrill fail the
 *                   script (it cannot parse an empty packet).
 *   usleep          sleep on the stack's clock
 *   gettimeofday    the stack's clock, which every time packetdrill
 *                   checks is measured on
 *   epoll_*         the Linux calls of the same name
 *   pipe, splice    the Linux calls of the same name
 */
#ifndef TESTS_PACKETDRILL_IF_H
#define TESTS_PACKETDRILL_IF_H

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

struct packetdrill_interface {
	void *userdata;
	void (*free)(void *userdata);
	int (*socket)(void *userdata, int domain, int type, int protocol);
	int (*bind)(void *userdata, int sockfd, const struct sockaddr *addr,
	    socklen_t addrlen);
	int (*listen)(void *userdata, int sockfd, int backlog);
	int (*accept)(void *userdata, int sockfd, struct sockaddr *addr,
	    socklen_t *addrlen);
	int (*connect)(void *userdata, int sockfd, const struct sockaddr *addr,
	    socklen_t addrlen);
	ssize_t (*read)(void *userdata, int fd, void *buf, size_t count);
	ssize_t (*readv)(void *userdata, int fd, const struct iovec *iov,
	    int iovcnt);
	ssize_t (*recv)(void *userdata, int sockfd, void *buf, size_t len,
	    int flags);
	ssize_t (*recvfrom)(void *userdata, int sockfd, void *buf, size_t len,
	    int flags, struct sockaddr *src_addr, socklen_t *addrlen);
	ssize_t (*recvmsg)(void *userdata, int sockfd, struct msghdr *msg,
	    int flags);
	ssize_t (*write)(void *userdata, int fd, const void *buf,
	    size_t count);
	ssize_t (*writev)(void *userdata, int fd, const struct iovec *iov,
	    int iovcnt);
	ssize_t (*send)(void *userdata, int sockfd, const void *buf,
	    size_t len, int flags);
	ssize_t (*sendto)(void *userdata, int sockfd, const void *buf,
	    size_t len, int flags, const struct sockaddr *dest_addr,
	    socklen_t addrlen);
	ssize_t (*sendmsg)(void *userdata, int sockfd,
	    const struct msghdr *msg, int flags);
	/* packetdrill passes a third int argument only when the script has one */
	int (*fcntl)(void *userdata, int fd, int cmd, ...);
	/* likewise; the third argument is an int * */
	int (*ioctl)(void *userdata, int fd, unsigned long request, ...);
	int (*close)(void *userdata, int fd);
	int (*shutdown)(void *userdata, int sockfd, int how);
	int (*getsockopt)(void *userdata, int sockfd, int level, int optname,
	    void *optval, socklen_t *optlen);
	int (*setsockopt)(void *userdata, int sockfd, int level, int optname,
	    const void *optval, socklen_t optlen);
	int (*poll)(void *userdata, struct pollfd *fds, nfds_t nfds,
	    int timeout);
	int (*netdev_send)(void *userdata, const void *buf, size_t count);
	int (*netdev_receive)(void *userdata, void *buf, size_t *count,
	    long long *time_usecs);
	int (*usleep)(void *userdata, useconds_t usec);
	int (*gettimeofday)(void *userdata, struct timeval *tv,
	    struct timezone *tz);
	int (*epoll_create)(void *userdata, int size);
	int (*epoll_ctl)(void *userdata, int epfd, int op, int fd,
	    struct epoll_event *event);
	int (*epoll_wait)(void *userdata, int epfd, struct epoll_event *events,
	    int maxevents, int timeout);
	int (*pipe)(void *userdata, int pipefd[2]);
	int (*splice)(void *userdata, int fd_in, loff_t *off_in, int fd_out,
	    loff_t *off_out, size_t len, unsigned int flags);
};

/* The one symbol packetdrill looks up, and its type for dlsym(). */
void packetdrill_interface_init(const char *flags,
    struct packetdrill_interface *ifc);
typedef void (*packetdrill_interface_init_t)(const char *flags,
    struct packetdrill_interface *ifc);

/*
 * rumpnet's own additions, for its test driver (packetdrill never calls
 * them): rumpnet_packetdrill_settle() runs the stack until every
 * connection is gone (TIME-WAIT waited out, FINs given up on; on the
 * virtual clock this takes no real time) or max_ms of its clock passed,
 * then returns the pool objects still out (rump_kernel_leaks(): 0 is
 * clean).  rumpnet_packetdrill_stat() reads one counter by name
 * (rump_stat_get()); 0 or a host errno value.
 */
unsigned long long rumpnet_packetdrill_settle(void *userdata,
    unsigned max_ms);
int rumpnet_packetdrill_stat(void *userdata, const char *name,
    unsigned long long *value);
typedef unsigned long long (*rumpnet_packetdrill_settle_t)(void *userdata,
    unsigned max_ms);
typedef int (*rumpnet_packetdrill_stat_t)(void *userdata, const char *name,
    unsigned long long *value);

#endif /* TESTS_PACKETDRILL_IF_H */
