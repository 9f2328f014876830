/*
 * filedesc.h -- an instance's descriptor table: sockets and kqueues.
 * Everything here is under the net lock.
 */
#ifndef SYS_FILEDESC_H
#define SYS_FILEDESC_H

#include "kern/libkern.h"

struct netstack;
struct socket;
struct kqueue;

#define FD_MAX 4096

enum ftype { FT_NONE = 0, FT_SOCKET, FT_KQUEUE };

struct sockfd_table {
	void *ft_obj[FD_MAX];
	uint8_t ft_type[FD_MAX];		/* enum ftype */
	uint8_t ft_flags[FD_MAX];		/* FD_CLOEXEC, FT_NONBLOCK */
};

/*
 * A kqueue's O_NONBLOCK (a socket keeps its own, SS_NBIO): only kept for
 * F_GETFL, as kevent() waits as its timeout says (Linux's epoll fd too)
 */
#define FT_NONBLOCK 0x80

/* fd_alloc: the lowest free descriptor for obj; -1 when full (EMFILE). */
int fd_alloc(struct netstack *ns, enum ftype type, void *obj);
/* fd_socket: the socket at fd, with a reference; EBADF or ENOTSOCK. */
int fd_socket(struct netstack *ns, int fd, struct socket **sop);
/* fd_kqueue: the kqueue at fd; EBADF. */
int fd_kqueue(struct netstack *ns, int fd, struct kqueue **kqp);

/* kern_event.c */
void kqueue_close(struct netstack *ns, struct kqueue *kq);
void knote_socket_gone(struct socket *so);

#endif /* SYS_FILEDESC_H */
