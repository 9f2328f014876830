/*
 * ip_forward.c -- IPv4 forwarding: what an instance does with a datagram
 * for another host when it is a router (rump_ip_forwarding(); off by
 * default, as RFC 1122 3.3.4 wants of a host, and per instance).
 *
 * (ip_input(): not ours, forwarding on ->) ip_forward()
 *     -> ip_forward_martian() -> TTL -> ip_route() -> MTU
 *     -> [icmp_error()] or ip_output_if(IP_FORWARDING) -> [ip_fragment()]
 *     -> ether_output()
 *
 * Read first: RFC 1812 5.2.1 (the forwarding algorithm), 5.3.1 (TTL),
 * 5.3.4 (link-layer broadcasts), 5.3.5 with RFC 2644 (directed broadcasts
 * are not forwarded by default), 5.3.7 (martian addresses), 4.3.3.1 (no
 * route: network unreachable), RFC 1191 (the next-hop MTU in need-frag),
 * RFC 1624 (incremental checksum update), RFC 7126 4.3/4.4 (source-routed
 * datagrams are dropped).
 *
 * Not done: redirects (RFC 1812 5.2.7.2: MAY), source routing, updating
 * record-route and timestamp options (they travel unchanged), host
 * unreachable when the next hop does not answer ARP (the datagrams held
 * for it are dropped and counted by ARP).
 *
 * Every datagram given to ip_forward() is counted once (ip_var.h).
 */
#include "kern/kernel.h"
#include "net/if.h"
#include "net/netstack.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/ip_icmp.h"
#include "netinet/ip_output.h"
#include "netinet/ip_var.h"

/*
 * RFC 1812 5.3.7: addresses a router forwards neither to nor from:
 * network 0 (0.0.0.0 included), 127/8, class E and the limited broadcast,
 * multicast (no multicast routing here); and, RFC 1812 5.3.5.2 with RFC
 * 2644, a subnet-directed broadcast of any of our interfaces.
 */
static bool
ip_forward_martian(struct netstack *ns, struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	/* (class E includes the limited broadcast) */
	return IN_ZERONET(h) || IN_LOOPBACK(h) || IN_EXPERIMENTAL(h) ||
	    IN_MULTICAST(h) || in_broadcast_ours(ns->ns_kernel, a);
}

/*
 * RFC 1812 5.3.1: TTL minus IPTTLDEC, and RFC 1624 eqn. 3 for the
 * checksum: HC' = ~(~HC + ~m + m'), where m is the 16-bit word holding the
 * TTL (its high byte) and the protocol, so ~m + m' is -(IPTTLDEC << 8) in
 * one's complement, that is 0xffff - (IPTTLDEC << 8).
 */
static void
ip_forward_ttl(struct ip *ip)
{
	uint32_t sum;

	ip->ip_ttl = (uint8_t)(ip->ip_ttl - IPTTLDEC);
	sum = (uint32_t)(uint16_t)~ntohs(ip->ip_sum) +
	    (0xffffu - (IPTTLDEC << 8));
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->ip_sum = htons((uint16_t)~sum);
}

void
ip_forward(struct netstack *ns, struct mbuf *m, bool srcrt)
{
	struct ipstat *st = &ns->ns_ipstat;
	struct ip *ip = mtod(m, struct ip *);
	struct in_addr nexthop;
	struct ifnet *ifp;
	int error;

	KASSERT(mutex_owned(&ns->ns_lock));
	/*
	 * RFC 1812 5.3.4: not what came as a link-layer broadcast or
	 * multicast; 5.3.7: not from or to a martian address; RFC 7126
	 * 4.3/4.4: not with a source route.
	 */
	if ((m->m_flags & (M_BCAST | M_MCAST)) || srcrt ||
	    ip_forward_martian(ns, ip->ip_src) ||
	    ip_forward_martian(ns, ip->ip_dst)) {
		st->ips_cantforward++;
		goto drop;
	}
	/* RFC 1812 5.3.1: a TTL that would reach 0 ends here, with an error */
	if (ip->ip_ttl <= IPTTLDEC) {
		st->ips_timxceed++;
		icmp_error(m, ICMP_TIMXCEED, ICMP_TIMXCEED_INTRANS, 0);
		return;
	}
	/* RFC 1812 4.3.3.1: no route at all (nor default): net unreachable */
	if (ip_route(ns, ip->ip_src, ip->ip_dst, &ifp, &nexthop) != 0 ||
	    !(ifp->if_flags & IFF_UP)) {
		st->ips_noroute++;
		icmp_error(m, ICMP_UNREACH, ICMP_UNREACH_NET, 0);
		return;
	}
	/*
	 * Never back to the host that sent it: a route through the sender
	 * itself would only bounce the datagram between us until its TTL
	 * runs out.
	 */
	if (nexthop.s_addr == ip->ip_src.s_addr) {
		st->ips_cantforward++;
		goto drop;
	}
	/*
	 * RFC 1191 / RFC 1812 5.2.7.1: too big for the next hop with DF set:
	 * need-frag carrying the next hop's MTU (without DF, ip_output_if()
	 * fragments it, RFC 1812 5.2.6).
	 */
	if (ntohs(ip->ip_len) > ifp->if_mtu && (ntohs(ip->ip_off) & IP_DF)) {
		st->ips_cantfrag++;
		icmp_error(m, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG,
		    (uint16_t)ifp->if_mtu);
		return;
	}
	ip_forward_ttl(ip);
	/* ip_id and ip_src stay as the source made them */
	error = ip_output_if(m, IP_RAWOUTPUT | IP_FORWARDING, ifp, nexthop);
	if (error != 0)
		st->ips_cantforward++;
	else
		st->ips_forward++;
	return;
drop:
	m_freem(m);
}
