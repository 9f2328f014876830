/*
 * ip_output.h -- sending IPv4 datagrams.
 */
#ifndef NETINET_IP_OUTPUT_H
#define NETINET_IP_OUTPUT_H

#include "kern/mbuf.h"
#include "netinet/in.h"

struct ifnet;
struct netstack;

#define IP_ALLOWBROADCAST 0x01	/* SO_BROADCAST: may send to a broadcast */
#define IP_RAWOUTPUT 0x02	/* the caller set ip_id */
#define IP_FORWARDING 0x04	/* ip_forward(): header final, sum updated */
/* the path MTU (IP_MTU_DISCOVER; Linux's __ip_append_data() rules) */
#define IP_USEPMTU 0x08		/* no larger than ip_pmtu_get()'s */
#define IP_DFIFFITS 0x10	/* DF if it fits the MTU, not locked (WANT) */
#define IP_NOFRAG 0x20		/* too large: EMSGSIZE, even without DF */
/*
 * ip_mcast_output(): a copy for the host's own members of the group
 * (IP_MULTICAST_LOOP), made when the datagram is sent (a broadcast's
 * always is, as Linux's ip_mc_output() does)
 */
#define IP_MCASTLOOP 0x40

/*
 * ip_output: send the datagram m of the calling LWP's instance.  m starts
 * with a complete IPv4 header in its first mbuf (version, IHL, tos,
 * ip_len = the chain length, ip_off with DF as wanted, ttl, protocol, dst;
 * src 0 to let the route choose); ip_id (unless IP_RAWOUTPUT) and ip_sum
 * are filled here.  Consumes m.  Returns 0, EHOSTUNREACH or ENETUNREACH
 * (no route), ENETDOWN, EACCES (broadcast without IP_ALLOWBROADCAST),
 * EMSGSIZE (DF or IP_NOFRAG set and larger than the MTU: the interface's,
 * or with IP_USEPMTU the path's if smaller), EADDRNOTAVAIL, ENOBUFS.
 */
int ip_output(struct mbuf *m, unsigned flags);
/*
 * ip_output_oif: ip_output() by interface oif only (a socket's
 * SO_BINDTODEVICE; 0: any), as ip_route_oif(); ENODEV if it is gone.
 */
int ip_output_oif(struct mbuf *m, unsigned flags, unsigned oif);
/*
 * ip_route: the interface and next hop a datagram from src to dst takes
 * (the limited broadcast: ip_lbcast_ifa()'s).  Net lock held.  Returns 0,
 * EHOSTUNREACH (no route, or a gateway that is not on-link) or
 * ENETUNREACH (no address for a broadcast).
 */
int ip_route(struct netstack *ns, struct in_addr src, struct in_addr dst,
    struct ifnet **ifpp, struct in_addr *nexthop);
/*
 * ip_route_oif: ip_route() by interface oif (0: any) only: a route by it
 * or to an address of ours, else dst on its link (Linux).  ENODEV: no
 * interface oif.
 */
int ip_route_oif(struct netstack *ns, struct in_addr src, struct in_addr dst,
    unsigned oif, struct ifnet **ifpp, struct in_addr *nexthop);
/*
 * ip_rt_ifp: the interface route rt sends by (a gateway route's: that of
 * the connected route to its gateway), or NULL.  Net lock held.
 */
struct rtentry;
struct ifnet *ip_rt_ifp(struct netstack *ns, const struct rtentry *rt);
/*
 * ip_lbcast_ifa: the address (and so the interface) a datagram to
 * 255.255.255.255 from src takes: src's if ours, else the first of the
 * default route's interface, else of the first interface up that is not a
 * loopback.  NULL if none.  Net lock held.
 */
struct in_ifaddr;
struct in_ifaddr *ip_lbcast_ifa(struct netstack *ns, struct in_addr src);
/*
 * ip_output_if: the second half of ip_output(), once ip_route() chose ifp
 * and nexthop: source address, ip_id, checksum, fragmentation.  With
 * IP_FORWARDING (ip_forward()) the header is left as it is (source set,
 * ip_id kept: pass IP_RAWOUTPUT too, checksum already updated) and nothing
 * is counted as locally sent.  Consumes m; returns as ip_output().
 */
int ip_output_if(struct mbuf *m, unsigned flags, struct ifnet *ifp,
    struct in_addr nexthop);
/*
 * ip_mcast_output: ip_output() for a datagram to a multicast group, with
 * a socket's options (NULL: the defaults): out of interface ifindex (not
 * 0: sendmsg()'s IP_PKTINFO), IP_MULTICAST_IF's, the source address's or
 * the route's, from its address, and a copy to the host's
 * own members if IP_MULTICAST_LOOP (RFC 1112 6).  The caller set the TTL
 * (0: the copy only).
 * Returns as ip_output(), or ENODEV (the interface named went).
 */
struct ip_moptions;
int ip_mcast_output(struct mbuf *m, unsigned flags,
    const struct ip_moptions *imo, unsigned ifindex);
/*
 * ip_mloopback: a copy of our datagram m (header final but its checksum)
 * to the host itself, as if it came in on ifp: m is a multicast, or a
 * broadcast (M_BCAST).  m stays the caller's.
 */
void ip_mloopback(struct netstack *ns, struct ifnet *ifp, struct mbuf *m);

#endif /* NETINET_IP_OUTPUT_H */
