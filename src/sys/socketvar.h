/*
 * socketvar.h -- sockets, socket buffers and the protocol switch.
 *
 * Locking: every field of a socket and its buffers is under the instance's
 * net lock (ns_lock), the one lock of the network stack (netstack.h);
 * blocking calls sleep on a buffer's condvar with it as the interlock.
 *
 * A socket buffer holds records chained by m_nextpkt; a datagram record is
 * an MT_SONAME mbuf with the sender's address followed by the data.
 *
 * The protocol switch (struct protosw) is how the socket layer reaches a
 * protocol.  Each entry is called with the net lock held:
 *   pr_attach    create the protocol control block (so->so_pcb); errno
 *   pr_detach    free it; the socket is going away
 *   pr_bind      bind to the local address nam; errno
 *   pr_connect   set the peer nam (UDP: remember it; TCP: start connecting)
 *   pr_disconnect forget the peer
 *   pr_shutdown  no more sends (SHUT_WR)
 *   pr_send      send m (data, consumed) to nam or the connected peer
 *   pr_sockaddr / pr_peeraddr  fill in the local / peer address
 *   pr_ctloutput protocol-level socket options (level != SOL_SOCKET)
 */
#ifndef SYS_SOCKETVAR_H
#define SYS_SOCKETVAR_H

#include "kern/libkern.h"
#include "kern/condvar.h"
#include "kern/list.h"
#include "kern/mbuf.h"
#include "netinet/in.h"
#include "sys/socket.h"

struct rump_kernel;
struct socket;

struct sockbuf {
	struct mbuf *sb_mb;		/* first record */
	struct mbuf *sb_lastrecord;
	unsigned sb_cc;			/* data bytes held */
	unsigned sb_hiwat;		/* SO_RCVBUF / SO_SNDBUF */
	unsigned sb_lowat;
	uint64_t sb_timeo_ns;		/* SO_RCVTIMEO / SO_SNDTIMEO, 0: none */
	kcondvar_t sb_cv;		/* data, space or an error arrived */
	uint64_t sb_overflowed;		/* records dropped: buffer full */
	uint64_t sb_gen;		/* wake-ups so far (EV_CLEAR) */
};

/* so_state */
#define SS_ISCONNECTED 0x0002
#define SS_ISCONNECTING 0x0004
#define SS_CANTSENDMORE 0x0010
#define SS_CANTRCVMORE 0x0020
#define SS_NBIO 0x0100
#define SS_ISBOUND 0x0200

/* so_options: one bit per boolean SOL_SOCKET option */
#define SOO_REUSEADDR 0x0001
#define SOO_REUSEPORT 0x0002
#define SOO_BROADCAST 0x0004
#define SOO_KEEPALIVE 0x0008
#define SOO_DONTROUTE 0x0010
#define SOO_OOBINLINE 0x0020
#define SOO_DEBUG 0x0040

struct protosw {
	int pr_type;			/* SOCK_* */
	int pr_protocol;		/* IPPROTO_* */
	int (*pr_attach)(struct socket *);
	void (*pr_detach)(struct socket *);
	int (*pr_bind)(struct socket *, const struct sockaddr_in *);
	int (*pr_connect)(struct socket *, const struct sockaddr_in *);
	int (*pr_disconnect)(struct socket *);
	int (*pr_shutdown)(struct socket *);
	int (*pr_send)(struct socket *, struct mbuf *,
	    const struct sockaddr_in *);
	void (*pr_sockaddr)(struct socket *, struct sockaddr_in *);
	void (*pr_peeraddr)(struct socket *, struct sockaddr_in *);
	int (*pr_ctloutput)(struct socket *, int set, int level, int name,
	    void *val, socklen_t *len);
};

struct socket {
	struct rump_kernel *so_kernel;	/* [I] */
	const struct protosw *so_proto;	/* [I] */
	short so_type;			/* [I] */
	unsigned so_state;		/* SS_* */
	unsigned so_options;		/* SOO_* */
	int so_error;			/* pending error (SO_ERROR) */
	struct linger so_linger;
	void *so_pcb;			/* protocol control block */
	struct sockbuf so_rcv;
	struct sockbuf so_snd;
	unsigned so_refs;		/* descriptor + calls in progress */
	bool so_closing;
	struct list_node so_klist;	/* kevent knotes on this socket */
};

/* socket layer (uipc_socket.c) */
int socreate(struct rump_kernel *k, int type, int proto, struct socket **sop);
/* soclose: the descriptor's close; sorele: a call is done with so. */
void soclose(struct socket *so);
void sorele(struct socket *so);
int sobind(struct socket *so, const struct sockaddr_in *sin);
int soconnect(struct socket *so, const struct sockaddr_in *sin);
/* sosend: send resid bytes of iov (copied in) as one datagram or stream data */
int sosend(struct socket *so, const struct sockaddr_in *to,
    const struct iovec *iov, int iovcnt, size_t resid, int flags,
    size_t *sent);
/* soreceive: copy out up to resid bytes; from/fromlen optional */
int soreceive(struct socket *so, struct sockaddr_in *from,
    const struct iovec *iov, int iovcnt, size_t resid, int flags,
    size_t *got, int *msgflags);
int sosetopt(struct socket *so, int level, int name, const void *val,
    socklen_t len);
int sogetopt(struct socket *so, int level, int name, void *val,
    socklen_t *len);
int soshutdown(struct socket *so, int how);
/* sopoll: the poll(2) events of so that are ready now */
short sopoll(struct socket *so, short events);

/* buffers (for protocols) */
bool sbappendaddr(struct sockbuf *sb, const struct sockaddr_in *from,
    struct mbuf *m);
unsigned sbspace(const struct sockbuf *sb);
/* sorwakeup/sowwakeup/soerror: wake readers / writers / record an error */
void sorwakeup(struct socket *so);
void sowwakeup(struct socket *so);
void soseterror(struct socket *so, int error);

#endif /* SYS_SOCKETVAR_H */
