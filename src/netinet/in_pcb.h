/*
 * in_pcb.h -- Internet protocol control blocks, shared by UDP and TCP.
 *
 * A table keeps every PCB on two hashes: by local port (binding, and
 * input to unconnected sockets) and, once connected, by the 4-tuple (input
 * to connected sockets).  Everything is under the net lock.
 */
#ifndef NETINET_IN_PCB_H
#define NETINET_IN_PCB_H

#include "kern/libkern.h"
#include "kern/list.h"
#include "netinet/in.h"

struct socket;
struct rump_kernel;
struct pool_cache;

#define INP_HASHSIZE 4096		/* power of two: local ports */
#define INP_HASH4SIZE 16384		/* power of two: 4-tuples */
#define IPPORT_EPHEMERALFIRST 49152	/* RFC 6335 */
#define IPPORT_EPHEMERALLAST 65535
#define IPPORT_EPHEMERALSPAN \
	(IPPORT_EPHEMERALLAST - IPPORT_EPHEMERALFIRST + 1)

/* A socket's multicast options and memberships (in_mcast.c). */
struct ip_membership {
	unsigned im_ifindex;
	struct in_addr im_group;
	struct in_addr im_addr;		/* the join's imr_address */
};

struct ip_moptions {
	unsigned imo_ifindex;		/* IP_MULTICAST_IF, 0: the route's */
	struct in_addr imo_addr;	/* ... its source address, or any */
	uint8_t imo_ttl;		/* IP_MULTICAST_TTL */
	bool imo_loop;			/* IP_MULTICAST_LOOP */
	bool imo_all;			/* IP_MULTICAST_ALL */
	unsigned imo_n;
	struct ip_membership imo_m[IP_MAX_MEMBERSHIPS];
};

struct inpcb {
	struct list_node inp_porthash;	/* on inpt_porthash while bound */
	struct list_node inp_hash4;	/* on inpt_hash4 while connected */
	struct list_node inp_bindhash;	/* on inpt_bindhash: bound, no peer */
	struct list_node inp_list;	/* inpt_all */
	struct socket *inp_socket;	/* NULL: a TCP connection in TIME-WAIT */
	void *inp_ppcb;			/* the protocol's block (tcpcb) */
	struct inpcbtable *inp_table;
	struct in_addr inp_laddr;
	struct in_addr inp_faddr;
	in_port_t inp_lport;		/* network order, 0: unbound */
	in_port_t inp_fport;		/* network order, 0: unconnected */
	uint8_t inp_ttl;		/* IP_TTL */
	uint8_t inp_tos;		/* IP_TOS (TCP: ECN bits its own) */
	uint16_t inp_flags;		/* INP_* */
	uint8_t inp_pmtudisc;		/* IP_MTU_DISCOVER: IP_PMTUDISC_* */
	unsigned inp_bindif;		/* SO_BINDTODEVICE (so_bindif, kept
					   through TIME-WAIT); 0: any */
	uint16_t inp_gso_size;		/* UDP_SEGMENT; 0: off */
	in_port_t inp_pendport;		/* UDP_CORK, MSG_MORE: the datagram */
	struct in_addr inp_penddst;	/* being gathered goes there */
	struct mbuf *inp_pend;		/* its payload so far, or NULL */
	struct ip_moptions *inp_moptions; /* NULL: defaults, no groups */
};

/* inp_flags: what a datagram's receiver asked to be told (recvmsg) */
#define INP_RECVPKTINFO 0x01		/* IP_PKTINFO */
#define INP_RECVTOS 0x02		/* IP_RECVTOS */
#define INP_RECVTTL 0x04		/* IP_RECVTTL */
/* and TCP's: the path MTU toward the peer is locked (ip_pmtu.h) */
#define INP_PMTULOCKED 0x08
/* UDP's IP_RECVERR: ICMP errors queued for recvmsg(MSG_ERRQUEUE) */
#define INP_RECVERR 0x10
/* UDP_CORK: sends gather into one datagram until it is cleared */
#define INP_UDPCORK 0x20
/*
 * bind() named the address / the port (Linux's SOCK_BINDADDR_LOCK and
 * SOCK_BINDPORT_LOCK): a datagram socket's disconnect keeps them; what
 * connect() chose goes
 */
#define INP_BOUNDADDR 0x40
#define INP_BOUNDPORT 0x80
/*
 * bound to a group or a broadcast address (as Linux allows): the socket
 * hears what goes to it, and sends from an address of ours
 */
#define INP_GROUPADDR 0x100
/* the flags that make a datagram carry a so_rcvinfo */
#define INP_RECVMASK (INP_RECVPKTINFO | INP_RECVTOS | INP_RECVTTL)

/*
 * in_pcb_df: whether a TCP segment gets DF (Linux's ip_dont_fragment()):
 * IP_PMTUDISC_DO, or _WANT unless the path MTU is locked.
 */
static inline bool
in_pcb_df(const struct inpcb *inp)
{
	return inp->inp_pmtudisc == IP_PMTUDISC_DO ||
	    (inp->inp_pmtudisc == IP_PMTUDISC_WANT &&
	    !(inp->inp_flags & INP_PMTULOCKED));
}

struct inpcbtable {
	struct list_node inpt_all;
	struct list_node inpt_porthash[INP_HASHSIZE];
	struct list_node inpt_hash4[INP_HASH4SIZE];
	/*
	 * Bound PCBs without a peer (listeners, unconnected UDP), by local
	 * port: what input looks for when no 4-tuple matches, so a listener
	 * is found without walking the connections that share its port.
	 */
	struct list_node inpt_bindhash[INP_HASHSIZE];
	uint16_t inpt_lastport;		/* host order */
	unsigned inpt_count;
	uint32_t inpt_flowkey;		/* [I] SO_REUSEPORT's flow hash */
	bool inpt_stream;		/* TCP: the stream binding rules */
	/*
	 * Stream tables: recycle a connection in TIME-WAIT (no socket) whose
	 * 4-tuple a new connect() wants, if safe; true when it is gone.
	 */
	bool (*inpt_reclaim)(struct inpcb *);
	struct pool_cache *inpt_pool;	/* [I] the instance's ns_pcbpool */
};

/* in_pcbinit: an empty table whose PCBs come from pool. */
void in_pcbinit(struct inpcbtable *t, bool stream, struct pool_cache *pool);
/* in_pcballoc: a PCB for so in t; 0 or ENOBUFS. */
int in_pcballoc(struct socket *so, struct inpcbtable *t);
void in_pcbdetach(struct inpcb *inp);
/*
 * Binding rules for stream tables (TCP, as Linux): a port is shared when
 * both sockets set SO_REUSEPORT, or both set SO_REUSEADDR and the other
 * is not listening; a connection in TIME-WAIT (no socket) gives way to a
 * socket with SO_REUSEADDR.
 *
 * in_pcbbind: bind to sin (NULL, or port 0: an ephemeral port).  Returns
 * 0, EADDRINUSE, EADDRNOTAVAIL (not one of our addresses), EINVAL
 * (already bound), EACCES (broadcast without SO_BROADCAST).
 */
int in_pcbbind(struct inpcb *inp, const struct sockaddr_in *sin);
/*
 * in_pcbconnect: set the peer; binds first (source chosen by route, an
 * ephemeral port whose replies the instance's RSS queue receives).
 * Returns 0, EAFNOSUPPORT, EADDRNOTAVAIL (port 0 in sin; no ephemeral
 * port left), EACCES (broadcast without SO_BROADCAST), EHOSTUNREACH (no
 * route), or in a stream table EADDRINUSE (the 4-tuple is in use).
 */
int in_pcbconnect(struct inpcb *inp, const struct sockaddr_in *sin);
void in_pcbdisconnect(struct inpcb *inp);
/*
 * in_pcbbind_connect: an ephemeral port for a stream PCB about to connect
 * from laddr to sin, whose replies the instance's RSS queue receives;
 * 0 or EADDRNOTAVAIL.
 */
int in_pcbbind_connect(struct inpcb *inp, struct in_addr laddr,
    const struct sockaddr_in *sin);
/*
 * in_pcbsetconnected: give a new PCB (an accepted connection) its local
 * and foreign address at once; the 4-tuple must be unused.
 */
void in_pcbsetconnected(struct inpcb *inp, struct in_addr laddr,
    in_port_t lport, struct in_addr faddr, in_port_t fport);
/*
 * in_pathmtu: IP_MTU, the MTU of a connected PCB's path: its interface's,
 * or less if the path MTU cache says (ip_pmtu.h); 0 without a route.
 */
unsigned in_pathmtu(struct inpcb *inp);
/*
 * in_selectsrc: our address on the route to dst (255.255.255.255:
 * ip_lbcast_ifa()'s; with oif, a socket's SO_BINDTODEVICE, that
 * interface's); 0, EHOSTUNREACH, ENETUNREACH (no interface for a limited
 * broadcast), ENODEV or EADDRNOTAVAIL (oif gone, or without an address).
 */
int in_selectsrc(struct rump_kernel *k, struct in_addr dst, unsigned oif,
    struct in_addr *src);
/*
 * lookups for input of what came in on interface ifindex (0: any): a PCB
 * bound to another interface (SO_BINDTODEVICE) is not found.  A bound
 * one: the address's first, then one bound to the interface, newest first.
 */
struct inpcb *in_pcblookup_connect(struct inpcbtable *t, struct in_addr faddr,
    in_port_t fport, struct in_addr laddr, in_port_t lport, unsigned ifindex);
/*
 * in_pcblookup_bind_if: a bound PCB without a peer, among those ok() (NULL:
 * all) accepts (TCP: those listening; a socket only bound, or a listener
 * shut down, must not hide one that listens)
 */
struct inpcb *in_pcblookup_bind_if(struct inpcbtable *t, struct in_addr laddr,
    in_port_t lport, unsigned ifindex, bool (*ok)(const struct inpcb *));
/*
 * in_pcblookup_bind_flow: in_pcblookup_bind_if() for what came from
 * faddr:fport.  PCBs that set SO_REUSEPORT and bound the same address, port
 * and interface are a group (Linux's reuseport groups) sharing what comes
 * to them: a keyed hash of the flow picks the member, so every datagram
 * or SYN of a flow reaches the same socket, and flows spread.
 */
struct inpcb *in_pcblookup_bind_flow(struct inpcbtable *t,
    struct in_addr laddr, in_port_t lport, unsigned ifindex,
    bool (*ok)(const struct inpcb *), struct in_addr faddr, in_port_t fport);
/*
 * in_pcbgroup_foreach: fn(member, arg) for every PCB of inp's SO_REUSEPORT
 * group (inp too, if ok() accepts it) that ok() accepts
 */
void in_pcbgroup_foreach(struct inpcb *inp, bool (*ok)(const struct inpcb *),
    void (*fn)(struct inpcb *, void *), void *arg);
/* in_pcb_ifok: may inp hear what came in on interface ifindex (0: any)? */
static inline bool
in_pcb_ifok(const struct inpcb *inp, unsigned ifindex)
{
	return inp->inp_bindif == 0 || ifindex == 0 ||
	    inp->inp_bindif == ifindex;
}
/*
 * in_pcb_ctloutput: the IPPROTO_IP options of a TCP or UDP socket: IP_TOS,
 * IP_TTL, IP_PKTINFO, IP_RECVTOS, IP_RECVTTL (set: 1), IP_MTU_DISCOVER,
 * IP_MTU (get only) and the multicast ones.  0 or the errno.
 */
int in_pcb_ctloutput(struct inpcb *inp, int set, int name, void *val,
    uint32_t *len);
/*
 * in_optin: an IPPROTO_IP option's value of len bytes at val: an int, or
 * (shorter) a byte, as Linux takes them; 0 or EINVAL.
 * in_optout: a get's answer, size bytes at v, cut to *len; 0 or EFAULT.
 */
int in_optin(const void *val, uint32_t len, int *v);
int in_optout(void *val, uint32_t *len, const void *v, uint32_t size);
/*
 * in_mcast_ctloutput: the multicast options (in_pcb_ctloutput() passes
 * them on): IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP, IP_MULTICAST_IF,
 * IP_MULTICAST_TTL, IP_MULTICAST_LOOP, IP_MULTICAST_ALL.
 * in_mcast_member: a multicast to group that came in on ifp is for inp.
 * in_mcast_free: leave every group and free the options (detach).
 */
int in_mcast_ctloutput(struct inpcb *inp, int set, int name, void *val,
    uint32_t *len);
struct ifnet;
bool in_mcast_member(const struct inpcb *inp, const struct ifnet *ifp,
    struct in_addr group);
void in_mcast_free(struct inpcb *inp);
/* in_mcast_src: *src from IP_MULTICAST_IF, if set (and it has one). */
bool in_mcast_src(const struct inpcb *inp, struct in_addr *src);
/* in_pcbforeach_port: call fn for each PCB bound to lport (broadcast). */
void in_pcbforeach_port(struct inpcbtable *t, in_port_t lport,
    void (*fn)(struct inpcb *, void *), void *arg);

#endif /* NETINET_IN_PCB_H */
