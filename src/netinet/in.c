/*
 * in.c -- IPv4 interface addresses (interface: in_var.h).
 *
 * (configuration API ->) in_control_add() -> connected route, ARP
 * announcement; in_control_del() -> route removed.
 * (ip_input() ->) in_ours(), in_broadcast().
 */
#include "kern/kernel.h"
#include "net/if.h"
#include "net/netstack.h"
#include "netinet/if_arp.h"
#include "netinet/in_var.h"

struct in_ifaddr *
in_ifaddr_lookup(struct rump_kernel *k, struct in_addr a)
{
	struct netstack *ns = k->k_net;
	struct list_node *ln;

	for (ln = ns->ns_ifaddrs.ln_next; ln != &ns->ns_ifaddrs;
	    ln = ln->ln_next) {
		struct in_ifaddr *ia = container_of(ln, struct in_ifaddr,
		    ia_link);

		if (ia->ia_addr.s_addr == a.s_addr)
			return ia;
	}
	return NULL;
}

struct in_ifaddr *
in_ifaddr_of(struct ifnet *ifp)
{
	struct list_node *ln = list_first(&ifp->if_addrlist);

	return ln == NULL ? NULL : container_of(ln, struct in_ifaddr,
	    ia_iflink);
}

unsigned
in_arrival_ifindex(const struct ifnet *ifp, struct in_addr dst)
{
	struct in_ifaddr *ia;

	if (ifp == NULL)
		return 0;
	if ((ifp->if_flags & IFF_LOOPBACK) &&
	    (ia = in_ifaddr_lookup(ifp->if_kernel, dst)) != NULL)
		return ia->ia_ifp->if_index;
	return ifp->if_index;
}

bool
in_broadcast(struct in_addr a, struct ifnet *ifp)
{
	struct list_node *ln;

	if (a.s_addr == htonl(INADDR_BROADCAST) || a.s_addr == INADDR_ANY)
		return a.s_addr != INADDR_ANY;
	if (ifp == NULL)
		return false;
	for (ln = ifp->if_addrlist.ln_next; ln != &ifp->if_addrlist;
	    ln = ln->ln_next) {
		struct in_ifaddr *ia = container_of(ln, struct in_ifaddr,
		    ia_iflink);

		if (in_ifaddr_broadcast(ia, a))
			return true;
	}
	return false;
}

bool
in_broadcast_ours(struct rump_kernel *k, struct in_addr a)
{
	struct netstack *ns = k->k_net;
	struct list_node *ln;

	if (a.s_addr == htonl(INADDR_BROADCAST))
		return true;
	for (ln = ns->ns_ifaddrs.ln_next; ln != &ns->ns_ifaddrs;
	    ln = ln->ln_next) {
		struct in_ifaddr *ia = container_of(ln, struct in_ifaddr,
		    ia_link);

		if (in_ifaddr_broadcast(ia, a))
			return true;
	}
	return false;
}

bool
in_groupaddr(struct rump_kernel *k, struct in_addr a)
{
	return IN_MULTICAST(ntohl(a.s_addr)) || in_broadcast_ours(k, a);
}

bool
in_ours(struct rump_kernel *k, struct in_addr a, struct ifnet *ifp,
    bool *bcastp)
{
	/* an address of ours may be ifp's broadcast too: all-ones host part */
	*bcastp = in_broadcast(a, ifp);
	return *bcastp || in_ifaddr_lookup(k, a) != NULL;
}

int
in_control_add(struct ifnet *ifp, struct in_addr addr, unsigned plen)
{
	struct rump_kernel *k = ifp->if_kernel;
	struct netstack *ns = k->k_net;
	struct in_ifaddr *ia;
	struct in_addr nogw = { 0 };
	void *mem;
	uint32_t h = ntohl(addr.s_addr);
	int error;

	if (plen > 32 || h == INADDR_ANY || h == INADDR_BROADCAST ||
	    IN_MULTICAST(h) || IN_EXPERIMENTAL(h) || IN_ZERONET(h))
		return EINVAL;
	if (in_ifaddr_lookup(k, addr) != NULL)
		return EEXIST;
	if ((error = hyper_malloc(sizeof(*ia), 0, &mem)) != 0)
		return error;
	ia = mem;
	memset(ia, 0, sizeof(*ia));
	ia->ia_ifp = ifp;
	ia->ia_addr = addr;
	ia->ia_plen = plen;
	ia->ia_netmask = in_prefixmask(plen);
	ia->ia_broadaddr.s_addr = addr.s_addr | ~ia->ia_netmask;
	list_insert_tail(&ns->ns_ifaddrs, &ia->ia_link);
	list_insert_tail(&ifp->if_addrlist, &ia->ia_iflink);
	/* the connected route; a second address in the same prefix shares it */
	error = rt_add(&ns->ns_rt, addr.s_addr, plen, nogw, ifp, RTF_CONNECTED);
	if (error != 0 && error != EEXIST) {
		list_remove(&ia->ia_link);
		list_remove(&ia->ia_iflink);
		hyper_free(ia, sizeof(*ia));
		return error;
	}
	/*
	 * Datagrams to the address itself go through lo0 (if_loop.c).  A
	 * /32 address already has its route: it is not reached locally.
	 */
	if (!(ifp->if_flags & IFF_LOOPBACK) && ns->ns_loif != NULL)
		(void)rt_add(&ns->ns_rt, addr.s_addr, 32, nogw, ns->ns_loif,
		    RTF_LOCAL);
	if (ifp->if_flags & IFF_UP) {
		arp_announce(ifp, addr);
		igmp_ifup(ifp);		/* groups it could not report */
	}
	return 0;
}

static void
in_ifaddr_free(struct netstack *ns, struct in_ifaddr *ia)
{
	struct list_node *ln;
	bool shared = false;

	list_remove(&ia->ia_link);
	list_remove(&ia->ia_iflink);
	/* keep the connected route while another address uses its prefix */
	for (ln = ns->ns_ifaddrs.ln_next; ln != &ns->ns_ifaddrs;
	    ln = ln->ln_next) {
		struct in_ifaddr *o = container_of(ln, struct in_ifaddr,
		    ia_link);

		if (o->ia_ifp == ia->ia_ifp && o->ia_plen == ia->ia_plen &&
		    (o->ia_addr.s_addr & o->ia_netmask) ==
		    (ia->ia_addr.s_addr & ia->ia_netmask))
			shared = true;
	}
	if (!shared)
		(void)rt_delete(&ns->ns_rt, ia->ia_addr.s_addr, ia->ia_plen);
	if (!(ia->ia_ifp->if_flags & IFF_LOOPBACK)) {
		struct rtentry *rt = rt_lookup(&ns->ns_rt, ia->ia_addr.s_addr);

		if (rt != NULL && (rt->rt_flags & RTF_LOCAL))
			(void)rt_delete(&ns->ns_rt, ia->ia_addr.s_addr, 32);
	}
	hyper_free(ia, sizeof(*ia));
}

int
in_control_del(struct ifnet *ifp, struct in_addr addr)
{
	struct netstack *ns = ifp->if_kernel->k_net;
	struct in_ifaddr *ia = in_ifaddr_lookup(ifp->if_kernel, addr);

	if (ia == NULL || ia->ia_ifp != ifp)
		return EADDRNOTAVAIL;
	in_ifaddr_free(ns, ia);
	return 0;
}

void
in_purgeaddrs(struct ifnet *ifp)
{
	struct netstack *ns = ifp->if_kernel->k_net;
	struct list_node *ln;

	while ((ln = list_first(&ifp->if_addrlist)) != NULL)
		in_ifaddr_free(ns, container_of(ln, struct in_ifaddr,
		    ia_iflink));
}
