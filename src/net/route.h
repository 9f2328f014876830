/*
 * route.h -- the IPv4 routing table: longest-prefix match over a small
 * table kept sorted by prefix length, longest first (linear lookup; a radix
 * tree can replace it behind the same functions when tables grow).
 *
 * Connected routes come and go with interface addresses (RTF_CONNECTED);
 * static routes and the default route come from the configuration API.
 */
#ifndef NET_ROUTE_H
#define NET_ROUTE_H

#include "kern/libkern.h"
#include "netinet/in.h"

struct ifnet;

#define RT_MAX 256

/* rt_flags */
#define RTF_UP 0x01
#define RTF_GATEWAY 0x02	/* next hop is rt_gateway */
#define RTF_HOST 0x04		/* a /32 */
#define RTF_CONNECTED 0x08	/* from an interface address */
#define RTF_STATIC 0x10		/* from the configuration API */
#define RTF_LOCAL 0x20		/* to an address of ours, through lo0 */

struct rtentry {
	in_addr_t rt_dst;		/* network order, masked */
	in_addr_t rt_mask;		/* network order */
	unsigned rt_plen;
	struct in_addr rt_gateway;	/* RTF_GATEWAY */
	struct ifnet *rt_ifp;
	unsigned rt_flags;
	uint64_t rt_use;		/* lookups that chose it */
};

struct rtable {
	struct rtentry rt_entries[RT_MAX];
	unsigned rt_n;
};

/*
 * rt_add: add a route; gateway 0 for a directly connected one (ifp must be
 * given then).  Returns 0, EEXIST (same dst/plen), ENOBUFS (table full) or
 * EINVAL.
 */
int rt_add(struct rtable *t, in_addr_t dst, unsigned plen,
    struct in_addr gateway, struct ifnet *ifp, unsigned flags);
/* rt_delete: remove dst/plen; 0 or ESRCH. */
int rt_delete(struct rtable *t, in_addr_t dst, unsigned plen);
/* rt_delete_ifp: remove every route through ifp. */
void rt_delete_ifp(struct rtable *t, struct ifnet *ifp);
/* rt_lookup: the longest matching route, or NULL. */
struct rtentry *rt_lookup(struct rtable *t, in_addr_t dst);
/*
 * rt_lookup_next: the next matching route after prev (NULL: the first),
 * longest prefix first, or NULL.
 */
struct rtentry *rt_lookup_next(struct rtable *t, in_addr_t dst,
    const struct rtentry *prev);

#endif /* NET_ROUTE_H */
