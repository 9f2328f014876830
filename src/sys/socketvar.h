/*
 * socketvar.h -- sockets, socket buffers and the protocol switch.
 *
 * Locking: every field of a socket and its buffers is under the instance's
 * net lock (ns_lock), the one lock of the network stack (netstack.h);
 * blocking calls sleep on a buffer's condvar with it as the interlock.
 *
 * A datagram socket buffer holds records chained by m_nextpkt; a record is
 * an MT_SONAME mbuf with the sender's address followed by the data.  A
 * stream socket buffer holds one chain of data mbufs linked by m_next from
 * sb_mb to sb_mbtail: no records, no addresses, no packet headers, and
 * sb_cc is exactly the bytes of the chain.
 *
 * The protocol switch (struct protosw) is how the socket layer reaches a
 * protocol.  Each entry is called with the net lock held, and never (but
 * pr_attach) on a socket whose so_pcb is NULL: once the protocol has let
 * go of its PCB (sopcbgone()) the socket layer answers for it.
 *   pr_attach    create the protocol control block (so->so_pcb); errno.
 *                so_protocol holds the protocol socket() asked for (raw
 *                sockets: the IP protocol, 0..255).  For a connection
 *                made by sonewconn(), so_head is already the listener.
 *                On failure leave so_refs as it was.
 *   pr_detach    the descriptor is going away.  A datagram protocol frees
 *                the PCB.  A stream protocol may keep it (and a reference
 *                of its own) to finish the connection: it starts the
 *                orderly close, reads so_snd later and calls sopcbgone()
 *                when done; so_rcv still holds any unread data when
 *                pr_detach runs (it is flushed right after).
 *   pr_bind      bind to the local address nam; errno
 *   pr_connect   set the peer nam (UDP: remember it; TCP: send a SYN and
 *                call soisconnecting())
 *   pr_fastopen  sendto(MSG_FASTOPEN) on a stream socket not connected:
 *                connect to nam as pr_connect does, but send no SYN;
 *                *room is how much data the SYN can carry.  The
 *                pr_send() that follows (with at most *room bytes, or
 *                m NULL) sends it.  nam NULL: the first send on a socket
 *                whose connect() pr_connect deferred (SS_TFODEFER): only
 *                *room.  NULL: MSG_FASTOPEN is ignored
 *   pr_disconnect forget the peer (TCP: send a FIN after the queued data;
 *                used by close() with SO_LINGER, before pr_detach)
 *   pr_shutdown  no more sends (SHUT_WR; TCP: send a FIN)
 *   pr_send      send m (data, consumed even on error) to nam or the
 *                connected peer.  Streams: nam is NULL, m is a chain with
 *                a packet header holding at most sbspace(&so_snd) bytes;
 *                the protocol appends it to so_snd (sbappendstream()) and
 *                transmits
 *   pr_sockaddr / pr_peeraddr  fill in the local / peer address
 *   pr_ctloutput protocol-level socket options (level != SOL_SOCKET);
 *                also told, after the fact, of SO_KEEPALIVE being set;
 *                a get may come after the PCB is gone (so_pcb NULL)
 *   pr_listen    enter the listening state, binding an ephemeral port if
 *                unbound; errno.  NULL: listen() gives EOPNOTSUPP
 *   pr_unlisten  leave it (shutdown(SHUT_RD) of a listener, whose queues
 *                the socket layer has emptied); the port stays bound
 *   pr_rcvd      soreceive() took data out of a stream socket's so_rcv
 *                (not for MSG_PEEK): a window update may be due.  May be
 *                NULL
 *   pr_abort     an unaccepted connection on a listener's queue is thrown
 *                away (the listener is closing; so_head is NULL already):
 *                reset the connection, free the PCB and call sopcbgone()
 *   pr_sendoob   send(MSG_OOB) on a stream socket: m (consumed) is the
 *                data, its last byte urgent; errno.  NULL: EOPNOTSUPP
 *   pr_rcvoob    recv(MSG_OOB): the out-of-band byte into *c (consumed
 *                unless peek); EINVAL (none, or SO_OOBINLINE set) or
 *                EWOULDBLOCK (announced, not yet arrived).  NULL:
 *                EOPNOTSUPP
 *   pr_notsent   a stream socket's bytes in so_snd never sent yet
 *                (TCP_NOTSENT_LOWAT, SIOCOUTQNSD).  NULL: no such bytes
 *
 * Connections and references.  so_refs counts the descriptor, each call
 * in progress, a listener's queue holding an unaccepted connection, and
 * whatever the protocol takes (TCP: one per socket with a PCB, taken in
 * pr_attach and given back by sopcbgone()).  The socket is freed with the
 * last reference, after close (so_closing) and with no PCB.
 *
 * A listener (SOO_ACCEPTCONN) keeps the connections sonewconn() made for
 * it on two queues: so_q0, handshake in progress (at most so_q0limit),
 * and so_q, established and waiting for accept() (at most so_qlimit).
 * soisconnected() moves a connection from so_q0 to so_q; soaccept() takes
 * it off so_q, and the queue's reference becomes the new descriptor's.
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
	struct mbuf *sb_mb;		/* first record, or the stream's data */
	struct mbuf *sb_lastrecord;	/* datagrams: the last record */
	struct mbuf *sb_mbtail;		/* streams: the last mbuf of sb_mb */
	/*
	 * Streams: where the protocol last read (sbsndptr()): an mbuf of the
	 * chain and the offset of its first byte, or NULL.
	 */
	struct mbuf *sb_sndptr;
	unsigned sb_sndptroff;
	unsigned sb_cc;			/* data bytes held */
	unsigned sb_dgcost;		/* datagrams: SB_DG_COST()s held */
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
#define SS_ISDISCONNECTING 0x0008	/* closing: FIN sent or queued */
#define SS_CANTSENDMORE 0x0010
#define SS_CANTRCVMORE 0x0020
#define SS_NBIO 0x0100
#define SS_ISBOUND 0x0200
#define SS_ISDISCONNECTED 0x0800	/* the connection is over */
#define SS_TFODEFER 0x1000	/* TCP_FASTOPEN_CONNECT: connect() done,
				   the SYN waits for the first send */

/* so_options: one bit per boolean SOL_SOCKET option */
#define SOO_REUSEADDR 0x0001
#define SOO_REUSEPORT 0x0002
#define SOO_BROADCAST 0x0004
#define SOO_KEEPALIVE 0x0008
#define SOO_DONTROUTE 0x0010
#define SOO_OOBINLINE 0x0020
#define SOO_DEBUG 0x0040
#define SOO_ACCEPTCONN 0x0080	/* listening (SO_ACCEPTCONN, read-only) */

struct protosw {
	int pr_type;			/* SOCK_* */
	int pr_protocol;		/* IPPROTO_* */
	int (*pr_attach)(struct socket *);
	void (*pr_detach)(struct socket *);
	int (*pr_bind)(struct socket *, const struct sockaddr_in *);
	int (*pr_connect)(struct socket *, const struct sockaddr_in *);
	int (*pr_fastopen)(struct socket *, const struct sockaddr_in *,
	    unsigned *room);
	int (*pr_disconnect)(struct socket *);
	int (*pr_shutdown)(struct socket *);
	int (*pr_send)(struct socket *, struct mbuf *,
	    const struct sockaddr_in *);
	void (*pr_sockaddr)(struct socket *, struct sockaddr_in *);
	void (*pr_peeraddr)(struct socket *, struct sockaddr_in *);
	int (*pr_ctloutput)(struct socket *, int set, int level, int name,
	    void *val, socklen_t *len);
	int (*pr_listen)(struct socket *);
	void (*pr_unlisten)(struct socket *);
	int (*pr_rcvd)(struct socket *);
	void (*pr_abort)(struct socket *);
	int (*pr_sendoob)(struct socket *, struct mbuf *);
	int (*pr_rcvoob)(struct socket *, uint8_t *c, bool peek);
	unsigned (*pr_notsent)(const struct socket *);
};

/*
 * What sendmsg()'s control messages ask of one datagram (IP_PKTINFO's
 * source address and interface, IP_TTL, IP_TOS), over the socket's own
 * settings.
 */
struct so_sndinfo {
	unsigned si_set;		/* SO_SI_* */
	struct in_addr si_src;
	unsigned si_ifindex;		/* IP_PKTINFO's interface */
	uint8_t si_ttl;
	uint8_t si_tos;
	uint16_t si_gso;		/* UDP_SEGMENT's */
};
#define SO_SI_SRC 0x1
#define SO_SI_TTL 0x2
#define SO_SI_TOS 0x4
#define SO_SI_IFINDEX 0x8
#define SO_SI_GSO 0x10


struct socket {
	struct rump_kernel *so_kernel;	/* [I] */
	const struct protosw *so_proto;	/* [I] */
	short so_type;			/* [I] */
	short so_protocol;		/* [I] SO_PROTOCOL; raw: the IP
					   protocol, 0..255 (0: any) */
	unsigned so_state;		/* SS_* */
	unsigned so_options;		/* SOO_* */
	int so_error;			/* pending error (SO_ERROR) */
	struct linger so_linger;
	void *so_pcb;			/* protocol control block */
	struct sockbuf so_rcv;
	struct sockbuf so_snd;
	unsigned so_refs;		/* descriptor, calls, queue, protocol */
	bool so_closing;		/* the descriptor is gone */
	bool so_haveoob;		/* the protocol holds an out-of-band
					   byte not yet read (POLLPRI) */
	unsigned so_oobmark;		/* bytes to read before the urgent
					   mark (the urgent byte's place in
					   the stream); 0: none, or at it */
	bool so_atmark;			/* the reader is at the mark: the
					   next byte read is the one after
					   it (BSD's SS_RCVATMARK) */
	struct list_node so_klist;	/* kevent knotes on this socket */
	bool so_msgmore;		/* the last send had MSG_MORE */
	bool so_dgpend;			/* UDP: a datagram is being gathered
					   (UDP_CORK, MSG_MORE): a send
					   needs no address, and its
					   control messages are the first
					   send's, so_dgpendsi */
	struct so_sndinfo so_dgpendsi;
	/* sendmsg()'s control messages, for the datagram it sends now */
	const struct so_sndinfo *so_sndinfo;
	unsigned so_busy_poll_us;	/* SO_BUSY_POLL: spin this long in
					   a blocking call before sleeping */
	unsigned so_notsent_lowat;	/* TCP_NOTSENT_LOWAT: writable only
					   below this many unsent bytes; 0:
					   off */
	unsigned so_bindif;		/* SO_BINDTODEVICE: an interface
					   index; 0: any */
	/*
	 * IP_RECVERR's error queue: records as a datagram socket's
	 * (address, so_rcvinfo, data), read by recvmsg(MSG_ERRQUEUE)
	 */
	struct mbuf *so_errq, *so_errqtail;
	unsigned so_errqcc;		/* SO_ERRQ_COST()s held */
	uint8_t so_tstamp;		/* SO_TS_* */
	uint64_t so_laststamp;		/* SIOCGSTAMP (SO_TS_HAVE): wall ns
					   of the last datagram read, 0:
					   it was not timed */

	/* a connection on a listener's queue */
	struct socket *so_head;		/* the listener, NULL: on no queue */
	struct list_node *so_onq;	/* &so_head->so_q0 or &so_head->so_q */
	struct list_node so_qe;		/* link on that queue */
	struct socket *so_tfohead;	/* a TCP Fast Open connection before
					   its handshake completes: the
					   listener whose so_tfoqlen counts
					   it (a reference, sotfostart()) */

	/* a listener (SOO_ACCEPTCONN) */
	struct list_node so_q0;		/* handshake in progress */
	struct list_node so_q;		/* established, waiting for accept() */
	unsigned so_q0len;
	unsigned so_qlen;
	unsigned so_tfoqlen;		/* of them, TFO before the handshake */
	unsigned so_q0limit;		/* SYN queue: 2 * so_qlimit, 16..4096 */
	unsigned so_qlimit;		/* accept queue: the listen() backlog */
};

/* socket layer (uipc_socket.c) */
int socreate(struct rump_kernel *k, int type, int proto, struct socket **sop);
/* soclose: the descriptor's close; sorele: a call is done with so. */
void soclose(struct socket *so);
void sorele(struct socket *so);
int sobind(struct socket *so, const struct sockaddr_in *sin);
/*
 * soconnect: datagrams: set (AF_UNSPEC: dissolve) the association.
 * Streams: start connecting and, unless SS_NBIO, wait until connected.
 * Returns 0, EISCONN (connected or listening), EALREADY (connecting),
 * EAFNOSUPPORT (not AF_INET), EINVAL (the connection is over and the
 * protocol let go of it), EINPROGRESS (SS_NBIO, or SO_SNDTIMEO ran out),
 * EBADF (closed meanwhile), the connection's error (ECONNREFUSED,
 * ETIMEDOUT, ...) or pr_connect's.
 */
int soconnect(struct socket *so, const struct sockaddr_in *sin);
/*
 * solisten: start listening with an accept queue of at most backlog
 * established connections (at least 1; a negative or too large backlog
 * means SOMAXCONN, as Linux); again on a listener: only the limit
 * changes.  Returns 0, EOPNOTSUPP (datagrams), EINVAL (connected or
 * connecting, or the connection is over) or pr_listen's error.
 */
int solisten(struct socket *so, int backlog);
/*
 * soaccept: take the first established connection off head's queue,
 * waiting for one unless SS_NBIO.  *sop gets the queue's reference.
 * Returns 0, EOPNOTSUPP (datagrams), EINVAL (not listening), EWOULDBLOCK
 * (none, SS_NBIO, or SO_RCVTIMEO ran out), EBADF (head closed meanwhile),
 * or head's so_error.
 */
int soaccept(struct socket *head, struct socket **sop);
/*
 * sosend: send resid bytes of iov (copied in) as one datagram or as stream
 * data.  *sent: bytes accepted; a stream send that accepted some bytes
 * returns 0 and reports its error with the next call.
 */
int sosend(struct socket *so, const struct sockaddr_in *to,
    const struct iovec *iov, int iovcnt, size_t resid, int flags,
    size_t *sent);
/* soreceive: copy out up to resid bytes; from (datagrams only) optional */
struct so_rcvinfo;
int soreceive(struct socket *so, struct sockaddr_in *from,
    const struct iovec *iov, int iovcnt, size_t resid, int flags,
    size_t *got, int *msgflags, struct so_rcvinfo *ri);
int sosetopt(struct socket *so, int level, int name, const void *val,
    socklen_t len);
int sogetopt(struct socket *so, int level, int name, void *val,
    socklen_t *len);
int soshutdown(struct socket *so, int how);
/* sopoll: the poll(2) events of so that are ready now */
short sopoll(struct socket *so, short events);
/*
 * soreadable / sowriteable: a read / a send would not block (data, a
 * connection to accept, room, an error or end of file).  For poll and
 * kevent.
 */
bool soreadable(const struct socket *so);
bool sowriteable(const struct socket *so);

/* socket layer internals (uipc_socket2.c) */
/* soalloc: a new socket with one reference; NULL when out of memory. */
struct socket *soalloc(struct rump_kernel *k, const struct protosw *pr,
    int type);
/* sodealloc: free a socket that never had a PCB nor a reference taken. */
void sodealloc(struct socket *so);
/* soqremque: take so off its listener's queue (so_head becomes NULL). */
void soqremque(struct socket *so);
/*
 * sotfostart / sotfodone: a TCP Fast Open connection so of listener head
 * is counted in head's so_tfoqlen until its handshake completes or it
 * fails (RFC 7413 5.1), even once accepted; it holds a reference on head
 * meanwhile.
 */
void sotfostart(struct socket *so, struct socket *head);
void sotfodone(struct socket *so);
/* sowakeall: wake everyone sleeping on so (readers, writers, poll). */
void sowakeall(struct socket *so);

/* for protocols (uipc_socket2.c) */
/*
 * sonewconn: a new connection for listener head (a SYN arrived): a socket
 * of head's protocol with head's options and buffer settings (not
 * SS_NBIO: accept() gives blocking sockets, as Linux), attached to the
 * protocol and put on head's so_q0.  Its one reference is the queue's.
 * NULL when the accept queue (so_qlen >= so_qlimit) or the SYN queue
 * (so_q0len >= so_q0limit) is full or memory is out: the caller counts
 * the drop.  complete: the caller completes the handshake before it
 * returns (the ACK of a SYN cookie), so the connection will not wait on
 * so_q0 and the SYN queue's limit does not apply.
 */
struct socket *sonewconn(struct socket *head, bool complete);
/*
 * State changes of a connection.  soisconnecting: a connect is under way.
 * soisconnected: established; a connection on a listener's so_q0 moves to
 * so_q and wakes accept(), others wake connect().  soisdisconnecting: the
 * close has begun, no more data either way.  soisdisconnected: the
 * connection is over.  socantsendmore: no more sends (EPIPE).
 * socantrcvmore: the peer sent FIN: readers see end of file after the
 * data.  Each wakes the sleepers concerned.
 */
void soisconnecting(struct socket *so);
void soisconnected(struct socket *so);
void soisdisconnecting(struct socket *so);
void soisdisconnected(struct socket *so);
void socantsendmore(struct socket *so);
void socantrcvmore(struct socket *so);
/*
 * sopcbgone: the protocol has freed so's PCB and gives back the reference
 * it held.  A connection still on a listener's queue (never accepted) is
 * taken off it and thrown away with the queue's reference.  so may be
 * freed on return: the caller must not touch it again.
 */
void sopcbgone(struct socket *so);

/*
 * What a datagram's receiver asked to be told of it (IP_PKTINFO,
 * IP_RECVTOS, IP_RECVTTL), kept with its address in the socket buffer
 * and handed to recvmsg() as control messages.
 */
struct so_rcvinfo {
	unsigned ri_want;		/* SO_RI_*: what to tell */
	unsigned ri_ifindex;
	struct in_addr ri_dst;		/* the header's destination */
	struct in_addr ri_spec;		/* our address to answer from */
	uint8_t ri_tos;
	uint8_t ri_ttl;
	uint64_t ri_stamp;		/* wall ns it came in; 0: not timed */
	/* IP_RECVERR (an error queue record): sock_extended_err's fields */
	int ri_ee_errno;		/* the kernel's errno */
	uint8_t ri_ee_origin, ri_ee_type, ri_ee_code;
	uint32_t ri_ee_info;
	struct in_addr ri_offender;	/* who sent the ICMP message */
};
#define SO_RI_PKTINFO 0x1
#define SO_RI_TOS 0x2
#define SO_RI_TTL 0x4
#define SO_RI_TSTAMP 0x8		/* SCM_TIMESTAMP */
#define SO_RI_TSTAMPNS 0x10		/* SCM_TIMESTAMPNS */
#define SO_RI_RECVERR 0x20		/* IP_RECVERR */

/* ri_ee_origin (Linux's SO_EE_ORIGIN_*) */
#define SO_EE_ORIGIN_ICMP 2

/*
 * so_tstamp, Linux's socket flags: SO_TIMESTAMP or SO_TIMESTAMPNS is on
 * (RCVTSTAMP; with NANO, RCVTSTAMPNS), the socket's datagrams are timed
 * as they come in (TIMING: set by either option or SIOCGSTAMP, never
 * cleared), and so_laststamp holds a read's (HAVE).  Whether a read gets
 * a control message, and which, is decided as it reads (soreceive()).
 */
#define SO_TS_MICRO 0x1
#define SO_TS_NANO 0x2
#define SO_TS_TIMING 0x4
#define SO_TS_HAVE 0x8

/*
 * so_rcvinfo_stamp: a datagram for so came in now: time it in *ri if so
 * is timing (SO_TS_TIMING), as Linux's software receive time, taken as the
 * stack delivers it.
 */
void so_rcvinfo_stamp(struct socket *so, struct so_rcvinfo *ri);
/*
 * so_errq_append: queue an error record for recvmsg(MSG_ERRQUEUE): the
 * datagram's destination, ri (SO_RI_RECVERR) and data m (consumed, a
 * packet header chain).  False (m freed) when the queue would pass
 * SO_RCVBUF, each record costing its data and two mbufs (SO_ERRQ_COST(),
 * so that a flood of empty ones is bounded too).  so_errq_flush: empty
 * the queue.
 */
#define SO_ERRQ_COST(len) ((unsigned)(len) + 2 * MSIZE)	/* Linux: truesize */
bool so_errq_append(struct socket *so, const struct sockaddr_in *dst,
    const struct so_rcvinfo *ri, struct mbuf *m);
void so_errq_flush(struct socket *so);

/* buffers (for protocols, uipc_socket2.c) */
/*
 * A datagram queued costs its data and two mbufs (as Linux charges an
 * skb's truesize), so that SO_RCVBUF bounds a flood of empty or tiny
 * datagrams too, not only their bytes.  sbdgfits: may one of len bytes be
 * queued on sb: the cost stays within SO_RCVBUF, and an empty buffer
 * takes one of any size (as Linux's).
 */
#define SB_DG_COST(len) ((unsigned)(len) + 2 * MSIZE)
static inline bool
sbdgfits(const struct sockbuf *sb, int len)
{
	return sb->sb_dgcost == 0 ||
	    (sb->sb_dgcost <= sb->sb_hiwat &&
	    SB_DG_COST(len) <= sb->sb_hiwat - sb->sb_dgcost);
}
/*
 * sbappendaddr: a datagram m (consumed on success) from from, with ri
 * (NULL: nothing to tell) as one record; false when it does not fit
 * (sbdgfits()) or no mbuf was had for the address.
 */
bool sbappendaddr(struct sockbuf *sb, const struct sockaddr_in *from,
    struct mbuf *m, const struct so_rcvinfo *ri);
/*
 * sbappendstream: append the data chain m (consumed) to stream buffer sb;
 * small mbufs are copied into the room at the end of the last one.  The
 * caller checked sbspace().
 */
void sbappendstream(struct sockbuf *sb, struct mbuf *m);
/* sbdrop: drop len (<= sb_cc) bytes from the front of stream buffer sb. */
void sbdrop(struct sockbuf *sb, int len);
/* sbsndptr: the mbuf of a stream buffer holding byte off (see sb_sndptr) */
struct mbuf *sbsndptr(struct sockbuf *sb, unsigned off, unsigned *moff);
/* sbflush: drop everything sb holds. */
void sbflush(struct sockbuf *sb);
unsigned sbspace(const struct sockbuf *sb);
/* sorwakeup/sowwakeup/soerror: wake readers / writers / record an error */
void sorwakeup(struct socket *so);
void sowwakeup(struct socket *so);
void soseterror(struct socket *so, int error);

#endif /* SYS_SOCKETVAR_H */
