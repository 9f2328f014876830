/*
 * ip_output.c -- IPv4 output: route lookup, source address, header
 * completion, fragmentation.
 *
 * (icmp_*, udp_output(), tcp_output() ->) ip_output() -> ip_route()
 *     -> ip_output_if() -> [ip_fragment()] -> ether_output()
 * (ip_forward() -> ip_route(), then) ip_output_if()
 *
 * Read first: RFC 791 (fragmentation, 3.2 example algorithm; which options
 * are copied into every fragment), RFC 1122 3.3.1 (routing outbound
 * datagrams), RFC 6864 (the Identification field).
 */
#include "kern/kernel.h"
#include "net/if.h"
#include "net/if_ether.h"
#include "net/netstack.h"
#include "netinet/in_cksum.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"
#include "netinet/ip_output.h"
#include "netinet/ip_pmtu.h"
#include "netinet/tcp_var.h"

/*
 * The interface a route sends by: its own, or for a gateway route without
 * one, the interface of the connected route to the gateway (RFC 1122
 * 3.3.1.1: the gateway must be on-link).  NULL if there is none.
 */
struct ifnet *
ip_rt_ifp(struct netstack *ns, const struct rtentry *rt)
{
	const struct rtentry *grt;

	if (rt->rt_ifp != NULL || !(rt->rt_flags & RTF_GATEWAY))
		return rt->rt_ifp;
	grt = rt_lookup(&ns->ns_rt, rt->rt_gateway.s_addr);
	return grt == NULL || (grt->rt_flags & RTF_GATEWAY) ? NULL :
	    grt->rt_ifp;
}

/*
 * The address a datagram to 255.255.255.255 from src goes out with: src's
 * own when it is ours; else, as Linux and the BSDs, the first address of
 * the interface the route for 255.255.255.255 (the default route) takes;
 * else, with no such route, that of the first interface, not a loopback
 * one, that is up and has an address (Linux would refuse, ENETUNREACH; an
 * instance with one port and no gateway is the common case here).
 */
struct in_ifaddr *
ip_lbcast_ifa(struct netstack *ns, struct in_addr src)
{
	struct in_ifaddr *ia;
	struct rtentry *rt;
	struct ifnet *ifp;
	struct list_node *ln;

	if (src.s_addr != INADDR_ANY &&
	    (ia = in_ifaddr_lookup(ns->ns_kernel, src)) != NULL)
		return ia;
	if ((rt = rt_lookup(&ns->ns_rt, htonl(INADDR_BROADCAST))) != NULL &&
	    (ifp = ip_rt_ifp(ns, rt)) != NULL &&
	    !(ifp->if_flags & IFF_LOOPBACK) &&
	    (ia = in_ifaddr_of(ifp)) != NULL)
		return ia;
	for (ln = ns->ns_ifaddrs.ln_next; ln != &ns->ns_ifaddrs;
	    ln = ln->ln_next) {
		ia = container_of(ln, struct in_ifaddr, ia_link);
		if ((ia->ia_ifp->if_flags & (IFF_UP | IFF_LOOPBACK)) ==
		    IFF_UP)
			return ia;
	}
	return NULL;
}

int
ip_route(struct netstack *ns, struct in_addr src, struct in_addr dst,
    struct ifnet **ifpp, struct in_addr *nexthop)
{
	return ip_route_oif(ns, src, dst, 0, ifpp, nexthop);
}

/*
 * Choose the interface and next hop for dst.  The limited broadcast goes
 * out of the interface ip_lbcast_ifa() chooses.  With oif (a socket's
 * SO_BINDTODEVICE), only a route by that interface (or to an address of
 * ours) will do, and with none, as Linux, dst is taken to be on its link.
 */
int
ip_route_oif(struct netstack *ns, struct in_addr src, struct in_addr dst,
    unsigned oif, struct ifnet **ifpp, struct in_addr *nexthop)
{
	struct ifnet *oifp = NULL, *ifp;
	struct in_ifaddr *ia;
	struct rtentry *rt;

	if (oif != 0 && (oifp = if_byindex(ns->ns_kernel, oif)) == NULL)
		return ENODEV;
	/* not to 127/8 by another interface (Linux: EINVAL) */
	if (oifp != NULL && !(oifp->if_flags & IFF_LOOPBACK) &&
	    IN_LOOPBACK(ntohl(dst.s_addr)))
		return EINVAL;
	if (dst.s_addr == htonl(INADDR_BROADCAST)) {
		if (oifp != NULL)
			*ifpp = oifp;
		else if ((ia = ip_lbcast_ifa(ns, src)) != NULL)
			*ifpp = ia->ia_ifp;
		else
			return ENETUNREACH;
		*nexthop = dst;
		return 0;
	}
	for (rt = rt_lookup_next(&ns->ns_rt, dst.s_addr, NULL); rt != NULL;
	    rt = rt_lookup_next(&ns->ns_rt, dst.s_addr, rt)) {
		ifp = ip_rt_ifp(ns, rt);
		if (oifp == NULL && ifp == NULL)
			return EHOSTUNREACH;
		if (ifp != NULL && (oifp == NULL || ifp == oifp ||
		    (rt->rt_flags & RTF_LOCAL))) {
			*ifpp = ifp;
			*nexthop = rt->rt_flags & RTF_GATEWAY ?
			    rt->rt_gateway : dst;
			return 0;
		}
	}
	if (oifp == NULL)
		return EHOSTUNREACH;
	*ifpp = oifp;
	*nexthop = dst;
	return 0;
}

static void
ip_header_finish(struct ip *ip, int hlen)
{
	ip->ip_sum = 0;
	ip->ip_sum = in_cksum_buf(ip, (size_t)hlen);
}

/*
 * The options a non-first fragment carries: those with the copy bit set
 * (RFC 791 3.1), padded with EOL to a multiple of four.  Returns the new
 * option length.
 */
static int
ip_optcopy(const uint8_t *src, int cnt, uint8_t *dst)
{
	int n = 0, optlen;

	for (; cnt > 0; cnt -= optlen, src += optlen) {
		if (src[0] == IPOPT_EOL)
			break;
		if (src[0] == IPOPT_NOP) {
			optlen = 1;
			continue;
		}
		optlen = cnt >= 2 ? src[1] : cnt;
		if (optlen < 2 || optlen > cnt)
			break;	/* our own options were checked when built */
		if (src[0] & 0x80) {
			memcpy(dst + n, src, (size_t)optlen);
			n += optlen;
		}
	}
	while (n & 3)
		dst[n++] = IPOPT_EOL;
	return n;
}

/*
 * Cut m (a complete datagram with header) into fragments of at most mtu
 * bytes and send them.  RFC 791 3.2 "Fragmentation" / RFC 1122 3.3.3.
 */
static int
ip_fragment(struct netstack *ns, struct ifnet *ifp, struct mbuf *m,
    struct in_addr nexthop, unsigned mtu)
{
	struct ipstat *st = &ns->ns_ipstat;
	struct ip *ip = mtod(m, struct ip *);
	int hlen = IP_HL(ip) << 2, totlen = ntohs(ip->ip_len);
	uint16_t off0 = ntohs(ip->ip_off);
	uint8_t opts[IP_MAXHLEN - IP_MINHLEN];
	int optlen, flen, len, off, error = 0;
	struct mbuf *frags = NULL, **tail = &frags, *n;

	optlen = ip_optcopy((const uint8_t *)(ip + 1), hlen - IP_MINHLEN,
	    opts);
	/* payload per fragment: a multiple of eight bytes (RFC 791) */
	flen = ((int)mtu - hlen) & ~7;
	if (flen < 8) {
		st->ips_cantfrag++;
		m_freem(m);
		return EMSGSIZE;
	}
	/* fragments 2..n, each a header with the copied options plus data */
	for (off = hlen + flen; off < totlen; off += len) {
		int nhlen = IP_MINHLEN + optlen;
		struct ip *nip;
		struct mbuf *data;

		len = MIN((((int)mtu - nhlen) & ~7), totlen - off);
		if ((n = m_gethdr(M_DONTWAIT, MT_DATA)) == NULL) {
			error = ENOBUFS;
			goto fail;
		}
		*tail = n;
		tail = &n->m_nextpkt;
		n->m_data += ETHER_HDR_LEN + 2;	/* room for the link header */
		n->m_len = nhlen;
		nip = mtod(n, struct ip *);
		memcpy(nip, ip, IP_MINHLEN);
		memcpy(nip + 1, opts, (size_t)optlen);
		nip->ip_vhl = IP_VHL(IPVERSION, nhlen >> 2);
		nip->ip_off = htons((uint16_t)(((off - hlen) >> 3) +
		    (off0 & IP_OFFMASK)) | (uint16_t)(off0 & ~IP_OFFMASK) |
		    (off + len < totlen || (off0 & IP_MF) ? IP_MF : 0));
		nip->ip_len = htons((uint16_t)(nhlen + len));
		ip_header_finish(nip, nhlen);
		if ((data = m_copym(m, off, len, M_DONTWAIT)) == NULL) {
			error = ENOBUFS;
			goto fail;
		}
		m_cat(n, data);
		n->m_pkthdr.len = nhlen + len;
		st->ips_ofragments++;
	}
	/* the first fragment is the head of the original, trimmed */
	m_adj(m, (hlen + flen) - totlen);
	ip->ip_len = htons((uint16_t)(hlen + flen));
	ip->ip_off = htons(off0 | IP_MF);
	ip_header_finish(ip, hlen);
	st->ips_ofragments++;
	st->ips_fragmented++;
	error = ether_output(ifp, m, nexthop);
	for (n = frags; n != NULL; n = frags) {
		frags = n->m_nextpkt;
		n->m_nextpkt = NULL;
		if (error == 0)
			error = ether_output(ifp, n, nexthop);
		else
			m_freem(n);
	}
	return error;
fail:
	st->ips_odropped++;
	for (n = frags; n != NULL; n = frags) {
		frags = n->m_nextpkt;
		n->m_nextpkt = NULL;
		m_freem(n);
	}
	m_freem(m);
	return error;
}

/*
 * A TSO segment for an interface that cannot cut it: cut it here
 * (tcp_tso_segment()), each piece a datagram of its own with its own IP
 * id and checksums, and send them in order.
 */
static int
ip_output_tso(struct ifnet *ifp, struct mbuf *m, struct in_addr nexthop)
{
	struct mbuf *segs, *n;
	int error = 0;

	if ((segs = tcp_tso_segment(m)) == NULL) {
		ifp->if_kernel->k_net->ns_ipstat.ips_odropped++;
		return ENOBUFS;
	}
	for (n = segs; n != NULL; n = segs) {
		segs = n->m_nextpkt;
		n->m_nextpkt = NULL;
		if (error == 0)
			error = ip_output_if(n, 0, ifp, nexthop);
		else
			m_freem(n);
	}
	return error;
}

int
ip_output(struct mbuf *m, unsigned flags)
{
	return ip_output_oif(m, flags, 0);
}

int
ip_output_oif(struct mbuf *m, unsigned flags, unsigned oif)
{
	struct rump_kernel *k = curlwp->l_kernel;
	struct netstack *ns = k->k_net;
	struct ipstat *st = &ns->ns_ipstat;
	struct ip *ip = mtod(m, struct ip *);
	struct in_addr nexthop;
	struct ifnet *ifp;
	int error;

	KASSERT(m->m_len >= (IP_HL(ip) << 2) &&
	    m->m_pkthdr.len == ntohs(ip->ip_len));
	st->ips_localout++;
	error = ip_route_oif(ns, ip->ip_src, ip->ip_dst, oif, &ifp, &nexthop);
	if (error != 0) {
		st->ips_noroute++;
		m_freem(m);
		return error;
	}
	return ip_output_if(m, flags, ifp, nexthop);
}

int
ip_output_if(struct mbuf *m, unsigned flags, struct ifnet *ifp,
    struct in_addr nexthop)
{
	struct netstack *ns = ifp->if_kernel->k_net;
	struct ipstat *st = &ns->ns_ipstat;
	struct ip *ip = mtod(m, struct ip *);
	int hlen = IP_HL(ip) << 2;
	unsigned mtu = ifp->if_mtu, pmtu;
	bool locked = false, loop;

	KASSERT(m->m_len >= hlen && m->m_pkthdr.len == ntohs(ip->ip_len));
	if (!(ifp->if_flags & IFF_UP)) {
		if_count(ifp, IFC_ODOWN, 1);
		m_freem(m);
		return ENETDOWN;
	}
	if (ip->ip_src.s_addr == INADDR_ANY) {
		struct in_ifaddr *ia = (ifp->if_flags & IFF_LOOPBACK) ?
		    in_ifaddr_lookup(ifp->if_kernel, ip->ip_dst) : NULL;

		if (ia == NULL)
			ia = in_ifaddr_of(ifp);

		KASSERT(!(flags & IP_FORWARDING));
		if (ia == NULL) {
			st->ips_noroute++;
			m_freem(m);
			return EADDRNOTAVAIL;
		}
		ip->ip_src = ia->ia_addr;
	}
	if ((in_broadcast(ip->ip_dst, ifp)) && !(flags & IP_ALLOWBROADCAST)) {
		m_freem(m);
		return EACCES;
	}
	if (in_broadcast(ip->ip_dst, ifp))
		m->m_flags |= M_BCAST;
	if (!(flags & IP_RAWOUTPUT))
		ip->ip_id = htons(ns->ns_ip_id++);
	/*
	 * a copy for the host itself, made once the datagram is sure to go
	 * (not refused as too large): of a multicast its sender asked for,
	 * of every broadcast of ours (Linux's ip_mc_output(), BSD)
	 */
	loop = ((flags & IP_MCASTLOOP) || ((m->m_flags & M_BCAST) &&
	    !(flags & IP_FORWARDING))) && !(ifp->if_flags & IFF_LOOPBACK);
	/* what the path carries, if a message said (IP_MTU_DISCOVER) */
	if (flags & (IP_USEPMTU | IP_DFIFFITS)) {
		pmtu = ip_pmtu_min(ns, ip->ip_dst, mtu, &locked);
		if (flags & IP_USEPMTU)
			mtu = pmtu;
	}
	if ((flags & IP_DFIFFITS) && !locked && m->m_pkthdr.len <= (int)mtu)
		ip->ip_off |= htons(IP_DF);
	if (m->m_pkthdr.csum_flags & M_CSUM_TSOv4) {
		/* TCP: never a broadcast nor a multicast */
		if ((ifp->if_capenable & IFCAP_TSOv4) &&
		    m->m_pkthdr.len <= (int)ifp->if_tsomax) {
			ip_header_finish(ip, hlen);
			return ether_output(ifp, m, nexthop);
		}
		/* the interface cannot: cut it here (software TSO) */
		return ip_output_tso(ifp, m, nexthop);
	}
	if (((m->m_pkthdr.csum_flags & M_CSUM_TCPv4) &&
	    !(ifp->if_capenable & IFCAP_CSUM_TCPv4)) ||
	    ((m->m_pkthdr.csum_flags & M_CSUM_UDPv4) &&
	    !(ifp->if_capenable & IFCAP_CSUM_UDPv4)) ||
	    ((m->m_pkthdr.csum_flags & (M_CSUM_TCPv4 | M_CSUM_UDPv4)) &&
	    m->m_pkthdr.len > (int)mtu))
		in_delayed_cksum(m);
	if (m->m_pkthdr.len <= (int)mtu) {
		if (loop)
			ip_mloopback(ns, ifp, m);
		/* a forwarded header had its checksum updated (RFC 1624) */
		if (!(flags & IP_FORWARDING))
			ip_header_finish(ip, hlen);
		return ether_output(ifp, m, nexthop);
	}
	if ((ntohs(ip->ip_off) & IP_DF) || (flags & IP_NOFRAG)) {
		/* RFC 1191: the sender learns the MTU from EMSGSIZE */
		st->ips_cantfrag++;
		m_freem(m);
		return EMSGSIZE;
	}
	if (loop)
		ip_mloopback(ns, ifp, m);	/* whole: it is not on a wire */
	return ip_fragment(ns, ifp, m, nexthop, mtu);
}
