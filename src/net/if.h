/*
 * if.h -- network interfaces (struct ifnet).
 *
 * Owners: [I] immutable after if_attach(), [N] under the instance's net
 * lock (ns_lock), [C] the vCPU holder, [D] the driver.
 *
 * A driver fills in if_xname, if_lladdr, if_mtu, if_start and if_softc and
 * calls if_attach().  Received frames go up with if_input() from the
 * driver's hardware interrupt LWP: they are queued per vCPU and the
 * "softnet" soft interrupt runs them through ether_input() and the
 * protocols.  Output goes down through if_transmit(): onto if_snd (bounded)
 * and into if_start(), which takes frames off if_snd and hands them to the
 * hardware.
 *
 * Every frame that is dropped increments one of the named counters of
 * enum if_counter; nothing disappears silently.
 */
#ifndef NET_IF_H
#define NET_IF_H

#include "kern/libkern.h"
#include "kern/list.h"
#include "kern/mbuf.h"

struct rump_kernel;
struct hyper_pcap;
struct if_impair;

#define IFNAMSIZ 16
#define ETHER_ADDR_LEN 6

/* if_flags */
#define IFF_UP 0x0001
#define IFF_BROADCAST 0x0002
#define IFF_LOOPBACK 0x0008
#define IFF_RUNNING 0x0040
#define IFF_PROMISC 0x0100
#define IFF_MULTICAST 0x8000

enum if_counter {
	IFC_IPACKETS,		/* frames received and accepted */
	IFC_IBYTES,
	IFC_IMCASTS,		/* of which broadcast or multicast */
	IFC_OPACKETS,		/* frames handed to the driver */
	IFC_OBYTES,
	IFC_OMCASTS,
	IFC_IERRORS,		/* driver-reported receive errors */
	IFC_OERRORS,		/* driver-reported transmit errors */
	IFC_IQDROPS,		/* input queue full */
	IFC_OQDROPS,		/* if_snd full */
	IFC_IDOWN,		/* received while the interface is down */
	IFC_ODOWN,		/* sent while the interface is down */
	IFC_IRUNT,		/* shorter than an Ethernet header */
	IFC_INOTUS,		/* destination MAC not ours, not promiscuous */
	IFC_ILOOP,		/* source MAC is our own */
	IFC_NOPROTO,		/* unknown ethertype */
	IFC_LINKDOWN,		/* the driver saw the link go down */
	IFC_NCOUNTERS
};

/* if_capenable: what the driver does for the stack */
#define IFCAP_CSUM_TCPv4 0x0001	/* computes TCP checksums on output */
#define IFCAP_TSOv4 0x0002	/* segments TCP (M_CSUM_TSOv4) on output */
#define IFCAP_CSUM_UDPv4 0x0004	/* computes UDP checksums on output */

struct ifqueue {
	struct mbuf *ifq_head;
	struct mbuf *ifq_tail;
	unsigned ifq_len;
	unsigned ifq_maxlen;
	bool ifq_polled;	/* an input queue a poller empties itself */
};

struct ifnet {
	char if_xname[IFNAMSIZ];		/* [I] */
	struct rump_kernel *if_kernel;		/* [I] */
	unsigned if_index;			/* [I] 1, 2, ... */
	struct list_node if_link;		/* [N] ns_ifnets */
	unsigned if_flags;			/* [N] IFF_* */
	unsigned if_mtu;			/* [N] */
	uint8_t if_lladdr[ETHER_ADDR_LEN];	/* [I] */
	unsigned if_capenable;			/* [I] IFCAP_* offloads */
	unsigned if_tsomax;			/* [I] largest TSO packet */
	void (*if_start)(struct ifnet *);	/* [I] driver: drain if_snd */
	/*
	 * [I] driver, optional (busy polling, netstack_poll()): if_poll
	 * hands up to budget received frames to if_input() on the calling
	 * LWP, which holds a vCPU and the net lock, and returns how many;
	 * from the first if_poll until if_poll_done the driver need not wake
	 * its own receive thread, since the poller takes the frames.  -1:
	 * the driver's own thread holds frames it has yet to hand up, and
	 * needs the vCPU the poller holds: the poller should sleep.
	 */
	int (*if_poll)(struct ifnet *, int budget);
	void (*if_poll_done)(struct ifnet *);
	/*
	 * [I] driver: its receive loop calls netstack_ackpass_flush() at
	 * the start of every pass (DPDK: all the time; the bus: of every
	 * burst), so TCP may hold the ACK of a SYN-ACK or a FIN for it
	 * (netstack.h, ns_ackpass)
	 */
	bool if_ackpass;
	/* [I] driver: stop, if_detach() and free (instance teardown) */
	void (*if_destroy)(struct ifnet *);
	/*
	 * [I] driver, optional: the groups of if_multiaddrs changed; filter
	 * the hardware's multicast on them (net lock held)
	 */
	void (*if_mcast)(struct ifnet *);
	void *if_softc;				/* [I] driver */
	struct ifqueue if_snd;			/* [C] */
	struct list_node if_addrlist;		/* [N] struct in_ifaddr */
	struct list_node if_multiaddrs;		/* [N] struct in_multi */
	uint64_t if_igmp_v1until;		/* [N] ms: an IGMPv1 querier */
	struct hyper_pcap *if_pcap;		/* [N] tap, or NULL */
	/*
	 * [N] rump_if_impair()'s state (if_impair.h), NULL until first
	 * turned on; set once and read without the lock by if_input()
	 * (atomically), cleared by if_detach() only.
	 */
	struct if_impair *if_impair;
	uint64_t if_counters[IFC_NCOUNTERS];	/* [C] */
};

static inline void
if_count(struct ifnet *ifp, enum if_counter c, uint64_t n)
{
	ifp->if_counters[c] += n;
}

/* ifq_enqueue: false (m untouched) when the queue is full. */
bool ifq_enqueue(struct ifqueue *q, struct mbuf *m);
struct mbuf *ifq_dequeue(struct ifqueue *q);
void ifq_purge(struct ifqueue *q);

/*
 * if_attach: give ifp an index, link it to instance k and its counters;
 * the interface starts down.  if_detach: take it away again (addresses,
 * routes and ARP entries through it go too; queued frames are freed).
 * Both are called holding a vCPU of k.
 */
void if_attach(struct rump_kernel *k, struct ifnet *ifp);
void if_detach(struct ifnet *ifp);
/*
 * if_up: mark ifp up and announce its addresses; if_down: mark it down
 * and drop what waits on if_snd.  Called with the net lock held.
 */
void if_up(struct ifnet *ifp);
void if_down(struct ifnet *ifp);
struct ifnet *if_byindex(struct rump_kernel *k, unsigned index);
struct ifnet *if_byname(struct rump_kernel *k, const char *name);

/*
 * if_input: a received frame (M_PKTHDR, whole Ethernet frame without FCS)
 * from the driver's interrupt LWP; impaired if rump_if_impair() says so,
 * then queued for softnet.  Consumes m.
 * if_input_enqueue: the second half, no impairment: queue m for softnet
 * on the current vCPU.
 */
void if_input(struct ifnet *ifp, struct mbuf *m);
void if_input_enqueue(struct ifnet *ifp, struct mbuf *m);
/*
 * if_transmit: a finished frame to send; impaired if rump_if_impair()
 * says so (a frame lost or held returns 0), then if_handoff().  Consumes
 * m.  Returns 0, ENETDOWN or ENOBUFS (queue full, counted).
 * if_handoff: the second half, no impairment: queue m on if_snd and
 * start the driver.  Net lock held.  Consumes m; returns as if_transmit.
 */
int if_transmit(struct ifnet *ifp, struct mbuf *m);
int if_handoff(struct ifnet *ifp, struct mbuf *m);
/* if_tap: copy a frame to the interface's capture file, if one is open. */
void if_tap(struct ifnet *ifp, const struct mbuf *m);

#endif /* NET_IF_H */
