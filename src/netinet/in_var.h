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
/* in_broadcast: a is the limited broadcast or a subnet broadcast of ifp. */
bool in_broadcast(struct in_addr a, struct ifnet *ifp);
/*
 * in_ours: a is one of our addresses, or a broadcast address of ifp (where
 * a datagram arriving on ifp is for us); *bcastp says whether it is the
 * latter (it may be both).
 */
bool in_ours(struct rump_kernel *k, struct in_addr a, struct ifnet *ifp,
    bool *bcastp);

#endif /* NETINET_IN_VAR_H */
