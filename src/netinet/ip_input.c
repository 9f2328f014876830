/*
 * ip_input.c -- IPv4 input.
 *
 * (ether_input() ->) ip_input() -> ip_validate() -> ip_dooptions()
 *     -> ip_reass() for fragments -> ip_deliver() -> icmp_input() | ...
 *        | rip_input() (raw sockets) for protocols the kernel lacks
 *     -> ip_forward() (ip_forward.c) for others, when forwarding is on
 *
 * Read first: RFC 791 (the header), RFC 1122 3.2.1 (what a host MUST
 * check and silently discard), RFC 1812 5.3.7 (martian sources), RFC 6946
 * (atomic fragments are ordinary datagrams).
 *
 * Every drop goes to a named ipstat counter; nothing is dropped silently.
 */
#include "kern/kernel.h"
#include "net/if.h"
#include "net/netstack.h"
#include "netinet/igmp_var.h"
#include "netinet/in_cksum.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/ip_icmp.h"
#include "netinet/ip_reass.h"
#include "netinet/ip_var.h"
#include "netinet/raw_ip_var.h"
#include "netinet/tcp_var.h"
#include "netinet/udp_var.h"

void ip_input(struct ifnet *ifp, struct mbuf *m);

/*
 * Header checks, RFC 1122 3.2.1.1-3.  Returns 0 and the header length, or
 * the counter to increment.  On success the whole header is contiguous.
 */
static uint64_t *
ip_validate(struct netstack *ns, struct mbuf **mp, int *hlenp)
{
	struct ipstat *st = &ns->ns_ipstat;
	struct mbuf *m = *mp;
	struct ip *ip;
	int hlen, len;

	if (m->m_pkthdr.len < IP_MINHLEN)
		return &st->ips_toosmall;
	if (m->m_len < IP_MINHLEN &&
	    (*mp = m = m_pullup(m, IP_MINHLEN)) == NULL)
		return &st->ips_toosmall;	/* chain freed by m_pullup */
	ip = mtod(m, struct ip *);
	if (IP_V(ip) != IPVERSION)
		return &st->ips_badvers;
	hlen = IP_HL(ip) << 2;
	if (hlen < IP_MINHLEN || hlen > m->m_pkthdr.len)
		return &st->ips_badhlen;
	if (m->m_len < hlen && (*mp = m = m_pullup(m, hlen)) == NULL)
		return &st->ips_badhlen;
	ip = mtod(m, struct ip *);
	if (IN_CKSUM_VERIFY && in_cksum(m, 0, hlen) != 0)
		return &st->ips_badsum;
	len = ntohs(ip->ip_len);
	if (len < hlen)
		return &st->ips_badlen;
	if (m->m_pkthdr.len < len)
		return &st->ips_tooshort;
	/* Ethernet padding (or trailing junk) beyond ip_len goes */
	if (m->m_pkthdr.len > len)
		m_adj(m, len - m->m_pkthdr.len);
	*hlenp = hlen;
	return NULL;
}

/*
 * Martian sources (RFC 1122 3.2.1.3, RFC 1812 5.3.7): multicast, limited
 * broadcast, experimental, loopback from the wire, "this network", and a
 * subnet broadcast of the receiving interface.
 */
static bool
ip_badsrc(struct in_addr src, struct ifnet *ifp)
{
	uint32_t s = ntohl(src.s_addr);

	return IN_MULTICAST(s) || IN_EXPERIMENTAL(s) || IN_LOOPBACK(s) ||
	    (IN_ZERONET(s) && s != INADDR_ANY) || in_broadcast(src, ifp);
}

/*
 * Options, RFC 791 3.1, RFC 1122 3.2.1.8: every length checked against the
 * header.  Source routes are not honoured (RFC 1122 3.3.5), only counted,
 * and *srcrt set (a router does not forward them: ip_forward.c); a route
 * not finished (its pointer still at an address, RFC 791) also sets
 * *srcpend: this host is not the datagram's final destination.  Returns
 * false for a malformed option (counted).
 */
static bool
ip_dooptions(struct netstack *ns, const uint8_t *cp, int cnt, bool *srcrt,
    bool *srcpend)
{
	struct ipstat *st = &ns->ns_ipstat;
	int opt, optlen;

	for (; cnt > 0; cnt -= optlen, cp += optlen) {
		opt = cp[0];
		if (opt == IPOPT_EOL)
			break;
		if (opt == IPOPT_NOP) {
			optlen = 1;
			continue;
		}
		if (cnt < 2) {
			st->ips_badoptions++;
			return false;
		}
		optlen = cp[1];
		if (optlen < 2 || optlen > cnt) {
			st->ips_badoptions++;
			return false;
		}
		switch (opt) {
		case IPOPT_LSRR:
		case IPOPT_SSRR:
			/* pointer (third byte) must point inside the option */
			if (optlen < 3 || cp[2] < 4) {
				st->ips_badoptions++;
				return false;
			}
			st->ips_srcroute++;
			*srcrt = true;
			if (cp[2] + 3 <= optlen)	/* an address is left */
				*srcpend = true;
			break;
		case IPOPT_RR:
			if (optlen < 3 || cp[2] < 4) {
				st->ips_badoptions++;
				return false;
			}
			break;
		case IPOPT_TS:
			/* RFC 791: overflow and flags byte; pointer from 5 */
			if (optlen < 4 || cp[2] < 5) {
				st->ips_badoptions++;
				return false;
			}
			break;
		default:
			break;	/* unknown options are skipped (RFC 1122) */
		}
	}
	return true;
}

/* Hand a complete datagram to its protocol. */
static void
ip_deliver(struct netstack *ns, struct mbuf *m, int hlen)
{
	struct ip *ip = mtod(m, struct ip *);

	switch (ip->ip_p) {
	case IPPROTO_ICMP:
		ns->ns_ipstat.ips_delivered++;
		icmp_input(m, hlen);
		return;
	case IPPROTO_TCP:
		ns->ns_ipstat.ips_delivered++;
		tcp_input(m, hlen);
		return;
	case IPPROTO_UDP:
		ns->ns_ipstat.ips_delivered++;
		udp_input(m, hlen);
		return;
	case IPPROTO_IGMP:
		ns->ns_ipstat.ips_delivered++;
		igmp_input(m, hlen);
		return;
	default:
		break;
	}
	/* a protocol the kernel lacks: raw sockets may have it */
	if (rip_input(ns, m) > 0) {
		ns->ns_ipstat.ips_delivered++;
		m_freem(m);
		return;
	}
	/* RFC 1122 3.2.2.1: protocol unreachable (icmp_error applies the rules) */
	ns->ns_ipstat.ips_noproto++;
	icmp_error(m, ICMP_UNREACH, ICMP_UNREACH_PROTOCOL, 0);
}

void
ip_input(struct ifnet *ifp, struct mbuf *m)
{
	struct rump_kernel *k = ifp->if_kernel;
	struct netstack *ns = k->k_net;
	struct ipstat *st = &ns->ns_ipstat;
	uint64_t *drop;
	struct ip *ip;
	int hlen = 0;
	uint16_t off;
	bool srcrt = false, srcpend = false, bcast;

	st->ips_total++;
	if ((drop = ip_validate(ns, &m, &hlen)) != NULL) {
		(*drop)++;
		if (m != NULL)		/* NULL: m_pullup() freed it */
			m_freem(m);
		return;
	}
	ip = mtod(m, struct ip *);
	/*
	 * lo0 carries only what we sent ourselves, from our own addresses;
	 * so does a multicast looped back (M_LOOP, in_mcast.c)
	 */
	if (!(ifp->if_flags & IFF_LOOPBACK) && !(m->m_flags & M_LOOP) &&
	    (ip_badsrc(ip->ip_src, ifp) ||
	    in_ifaddr_lookup(k, ip->ip_src))) {
		st->ips_badaddr++;
		goto drop;
	}
	if (hlen > IP_MINHLEN && !ip_dooptions(ns,
	    (const uint8_t *)(ip + 1), hlen - IP_MINHLEN, &srcrt, &srcpend))
		goto drop;
	/*
	 * RFC 1122 3.3.4.2: accept on any interface if the address is ours;
	 * but 127/8 never from outside the host (RFC 1122 3.2.1.3 (g)).
	 */
	if ((!in_ours(k, ip->ip_dst, ifp, &bcast) ||
	    (IN_LOOPBACK(ntohl(ip->ip_dst.s_addr)) &&
	    !(ifp->if_flags & IFF_LOOPBACK))) &&
	    !IN_MULTICAST(ntohl(ip->ip_dst.s_addr))) {
		/* RFC 1812 5.2.1: a router forwards it; a host drops it */
		if (ns->ns_forwarding) {
			ip_forward(ns, m, srcrt);
			return;
		}
		st->ips_notforus++;
		goto drop;
	}
	if (srcpend) {
		/*
		 * RFC 1122 3.3.5: a source route not finished here names
		 * another destination; a host that does not route it drops
		 * the datagram and may say so (RFC 792: source route failed)
		 */
		st->ips_srcroutefail++;
		icmp_error(m, ICMP_UNREACH, ICMP_UNREACH_SRCFAIL, 0);
		return;
	}
	if (IN_MULTICAST(ntohl(ip->ip_dst.s_addr))) {
		/*
		 * RFC 1112 7.2: only the groups the host is in on ifp (and
		 * 224.0.0.1); IGMP has to see queries for the others too
		 */
		if (ip->ip_p != IPPROTO_IGMP &&
		    ip->ip_dst.s_addr != htonl(INADDR_ALLHOSTS_GROUP) &&
		    in_multi_lookup(ifp, ip->ip_dst) == NULL) {
			st->ips_notmember++;
			goto drop;
		}
		m->m_flags |= M_MCAST;
	} else if (bcast)
		m->m_flags |= M_BCAST;
	off = ntohs(ip->ip_off);
	if (off & (IP_MF | IP_OFFMASK)) {
		/* a fragment (RFC 6946: offset 0 without MF is not one) */
		m = ip_reass(&ns->ns_reass, m, kern_clock_ns(k) / 1000000u, st);
		if (m == NULL)
			return;
		ip = mtod(m, struct ip *);
		hlen = IP_HL(ip) << 2;
	}
	ip_deliver(ns, m, hlen);
	return;
drop:
	m_freem(m);
}
