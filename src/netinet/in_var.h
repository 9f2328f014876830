/*
 * in_var.h -- IPv4 interface addresses.
 *
 * in_control_add() assigns an address with its prefix to an interface,
 * adds the connected route and announces the address with a gratuitous
 * ARP request (RFC 5227 2.3); in_control_del() undoes it.
 */
#ifndef NETINET_IN_VAR_H
#define NETINET_IN_VAR_H

#include "kern/libkern.h"
#include "kern/list.h"
#include "netinet/in.h"

struct ifnet;
struct rump_kernel;

struct in_ifaddr {
	struct ifnet *ia_ifp;		/* [I] */
	struct in_addr ia_addr;		/* [I] */
	in_addr_t ia_netmask;		/* [I] network order */
	unsigned ia_plen;		/* [I] */
	struct in_addr ia_broadaddr;	/* [I] subnet-directed broadcast */
	struct list_node ia_link;	/* [ns_lock] ns_ifaddrs */
	struct list_node ia_iflink;	/* [ns_lock] ifp->if_addrlist */
};

/* Is a ia's subnet broadcast?  A /31 or /32 has none (RFC 3021). */
static inline bool
in_ifaddr_broadcast(const struct in_ifaddr *ia, struct in_addr a)
{
	return ia->ia_plen < 31 && a.s_addr == ia->ia_broadaddr.s_addr;
}

/*
 * A group joined on an interface (RFC 1112 7.2), by one or more sockets;
 * IGMP (igmp.c) reports it.  224.0.0.1, which every interface is in,
 * has none.
 */
struct in_multi {
	struct list_node inm_link;	/* [ns_lock] ifp->if_multiaddrs */
	struct ifnet *inm_ifp;		/* [I] */
	struct in_addr inm_addr;	/* [I] the group */
	unsigned inm_refcount;		/* [ns_lock] sockets in it */
	uint64_t inm_due;		/* [ns_lock] IGMP: ms a report is due, 0: none */
	bool inm_reporter;		/* [ns_lock] IGMP: our report was the last */
};

/* in_control_add: 0, EEXIST (address already on some interface), EINVAL, ENOMEM. */
int in_control_add(struct ifnet *ifp, struct in_addr addr, unsigned plen);
/* in_control_del: 0 or EADDRNOTAVAIL. */
int in_control_del(struct ifnet *ifp, struct in_addr addr);
/* in_purgeaddrs: remove every address of ifp (detach). */
void in_purgeaddrs(struct ifnet *ifp);

/* in_ifaddr_lookup: the address record for one of our addresses, or NULL. */
struct in_ifaddr *in_ifaddr_lookup(struct rump_kernel *k, struct in_addr a);
/* in_ifaddr_of: the first address of ifp, or NULL. */
struct in_ifaddr *in_ifaddr_of(struct ifnet *ifp);
/*
 * in_arrival_ifindex: the interface a datagram to dst that came in on ifp
 * (NULL: 0) came in on for the sockets' SO_BINDTODEVICE: ifp's, but for
 * one to an address of ours that took lo0 (sent by the host to itself),
 * that address's interface, as Linux.
 */
unsigned in_arrival_ifindex(const struct ifnet *ifp, struct in_addr dst);
/* in_broadcast: a is the limited broadcast or a subnet broadcast of ifp. */
bool in_broadcast(struct in_addr a, struct ifnet *ifp);
/* in_broadcast_ours: the limited broadcast or any interface's subnet one. */
bool in_broadcast_ours(struct rump_kernel *k, struct in_addr a);
/*
 * in_groupaddr: a group's address or a broadcast one of ours: what a
 * datagram socket may bind to hear (as Linux's RTN_MULTICAST and
 * RTN_BROADCAST), and never sends from
 */
bool in_groupaddr(struct rump_kernel *k, struct in_addr a);
/*
 * in_ours: a is one of our addresses, or a broadcast address of ifp (where
 * a datagram arriving on ifp is for us); *bcastp says whether it is the
 * latter (it may be both).
 */
bool in_ours(struct rump_kernel *k, struct in_addr a, struct ifnet *ifp,
    bool *bcastp);

/*
 * in_multi_lookup: ifp's record of group, or NULL.
 * in_addmulti: one more member of group on ifp (a new record is reported
 * by IGMP); 0 or ENOMEM.  in_delmulti: one fewer (the last one's leave is
 * reported).  in_purgemulti: every record of ifp goes (detach).
 * Net lock held.
 */
struct in_multi *in_multi_lookup(struct ifnet *ifp, struct in_addr group);
int in_addmulti(struct ifnet *ifp, struct in_addr group);
void in_delmulti(struct ifnet *ifp, struct in_addr group);
void in_purgemulti(struct ifnet *ifp);

#endif /* NETINET_IN_VAR_H */
