/*
 * syscalls.h -- the socket system calls as kernel code sees them: the
 * prototypes of include/rumpnet/socket.h written with the kernel's
 * definitions of the host ABI types (sys/socket.h).  Keep the two in step.
 */
#ifndef SYS_SYSCALLS_H
#define SYS_SYSCALLS_H

#include "sys/socket.h"

struct netstack;

int fd_init(struct netstack *ns);
void fd_fini(struct netstack *ns);

/* system call entry and exit (sys_socket.c) */
int sys_enter(struct netstack **nsp);
long sys_exit(struct netstack *ns, int error, long ret);
long sys_return(int error, long ret);

int rump_sys_socket(int domain, int type, int protocol);
int rump_sys_bind(int fd, const struct sockaddr *addr, socklen_t len);
int rump_sys_connect(int fd, const struct sockaddr *addr, socklen_t len);
int rump_sys_listen(int fd, int backlog);
int rump_sys_accept(int fd, struct sockaddr *addr, socklen_t *len);
int rump_sys_accept4(int fd, struct sockaddr *addr, socklen_t *len,
    int flags);
ssize_t rump_sys_send(int fd, const void *buf, size_t len, int flags);
ssize_t rump_sys_sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *to, socklen_t tolen);
ssize_t rump_sys_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t rump_sys_recv(int fd, void *buf, size_t len, int flags);
ssize_t rump_sys_recvfrom(int fd, void *buf, size_t len, int flags,
    struct sockaddr *from, socklen_t *fromlen);
ssize_t rump_sys_recvmsg(int fd, struct msghdr *msg, int flags);
struct timespec;
int rump_sys_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
    int flags);
int rump_sys_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
    int flags, struct timespec *timeout);
ssize_t rump_sys_read(int fd, void *buf, size_t len);
ssize_t rump_sys_write(int fd, const void *buf, size_t len);
ssize_t rump_sys_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t rump_sys_writev(int fd, const struct iovec *iov, int iovcnt);
int rump_sys_shutdown(int fd, int how);
int rump_sys_close(int fd);
int rump_sys_getsockopt(int fd, int level, int name, void *val,
    socklen_t *len);
int rump_sys_setsockopt(int fd, int level, int name, const void *val,
    socklen_t len);
int rump_sys_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int rump_sys_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int rump_sys_fcntl(int fd, int cmd, int arg);
int rump_sys_ioctl(int fd, unsigned long request, void *arg);
int rump_sys_poll(struct pollfd *fds, unsigned long nfds, int timeout_ms);

struct kevent;
int rump_sys_kqueue(void);
int rump_sys_kevent(int kq, const struct kevent *changelist, int nchanges,
    struct kevent *eventlist, int nevents, const struct timespec *timeout);

#endif /* SYS_SYSCALLS_H */
