/*
 * udp_usrreq.c -- UDP (RFC 768) over the socket layer.
 *
 * (ip_input() -> ip_deliver() ->) udp_input() -> udp_validate()
 *     -> udp_deliver() -> sbappendaddr() -> sorwakeup()
 *     | icmp_error(port unreachable)
 * (sosend() ->) udp_send() -> udp_output() -> ip_output()
 * (icmp_input() -> icmp_ctlinput() ->) udp_ctlinput() -> soseterror()
 *
 * Read first: RFC 768; RFC 1122 4.1 (checksums: a zero checksum means
 * none was computed and MUST be accepted; ICMP port unreachable; 4.1.3.3
 * errors to the application); RFC 6335/6056 (ephemeral ports, in_pcb.c).
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "netinet/in_cksum.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/ip_icmp.h"
#include "netinet/ip_output.h"
#include "netinet/ip_pmtu.h"
#include "netinet/udp_var.h"
#include "sys/socketvar.h"

static struct netstack *
udp_ns(void)
{
	return curlwp->l_kernel->k_net;
}

static struct inpcb *
sotoinpcb(struct socket *so)
{
	return so->so_pcb;
}

/* ---- input ---- */

/*
 * Length and checksum, RFC 768 / RFC 1122 4.1.3.4.  Returns the UDP
 * length, or -1 after counting and freeing.  The IP and UDP headers are
 * contiguous on success.
 */
static int
udp_validate(struct netstack *ns, struct mbuf **mp, int hlen)
{
	struct udpstat *st = ns->ns_udpstat;
	struct mbuf *m = *mp;
	struct ip *ip = mtod(m, struct ip *);
	int iplen = ntohs(ip->ip_len), ulen;
	struct udphdr *uh;

	if (iplen - hlen < (int)sizeof(struct udphdr)) {
		st->udps_hdrops++;
		goto drop;
	}
	if (m->m_len < hlen + (int)sizeof(struct udphdr) &&
	    (*mp = m = m_pullup(m, hlen + (int)sizeof(*uh))) == NULL) {
		st->udps_hdrops++;
		return -1;
	}
	ip = mtod(m, struct ip *);
	uh = (struct udphdr *)(void *)((char *)ip + hlen);
	ulen = ntohs(uh->uh_ulen);
	/* the UDP length includes its header; 0 is no valid IPv4 length */
	if (ulen < (int)sizeof(*uh) || ulen > iplen - hlen) {
		st->udps_badlen++;
		goto drop;
	}
	if (ulen < iplen - hlen) {
		/* bytes after the datagram (RFC 768 says the length rules) */
		m_adj(m, ulen - (iplen - hlen));
		ip->ip_len = htons((uint16_t)(hlen + ulen));
	}
	/*
	 * Checked by the hardware, or never left memory (the field may then
	 * be unfilled, 0): not "no checksum".
	 */
	if (m->m_pkthdr.csum_flags & M_CSUM_UDPv4)
		return ulen;
	if (uh->uh_sum == 0) {
		st->udps_nosum++;	/* RFC 1122 4.1.3.4: accepted */
	} else if ((m->m_pkthdr.csum_flags & M_CSUM_TCP_UDP_BAD) ||
	    (IN_CKSUM_VERIFY && in4_cksum(m, ip->ip_src, ip->ip_dst,
	    IPPROTO_UDP, hlen, ulen) != 0)) {
		st->udps_badsum++;
		goto drop;
	}
	return ulen;
drop:
	m_freem(m);
	*mp = NULL;
	return -1;
}

/* Queue the datagram (IP and UDP headers still in front) on so. */
static void
udp_append(struct netstack *ns, struct socket *so, struct mbuf *m,
    int hlen)
{
	struct ip *ip = mtod(m, struct ip *);
	struct udphdr *uh = (struct udphdr *)(void *)((char *)ip + hlen);
	struct sockaddr_in from = {
		.sin_family = AF_INET,
		.sin_port = uh->uh_sport,
		.sin_addr = ip->ip_src,
	};
	struct inpcb *inp = sotoinpcb(so);
	struct so_rcvinfo ri, *rip = NULL;

	if (inp != NULL && ((inp->inp_flags & INP_RECVMASK) ||
	    (so->so_tstamp & SO_TS_TIMING))) {
		struct ifnet *ifp = m->m_pkthdr.rcvif;
		struct in_ifaddr *ia;

		memset(&ri, 0, sizeof(ri));
		ri.ri_want = ((inp->inp_flags & INP_RECVPKTINFO) ?
		    SO_RI_PKTINFO : 0) | ((inp->inp_flags & INP_RECVTOS) ?
		    SO_RI_TOS : 0) | ((inp->inp_flags & INP_RECVTTL) ?
		    SO_RI_TTL : 0);
		ri.ri_ifindex = ifp != NULL ? ifp->if_index : 0;
		ri.ri_dst = ip->ip_dst;
		/* a broadcast (multicast) is answered from ours */
		ri.ri_spec = ip->ip_dst;
		if ((m->m_flags & (M_BCAST | M_MCAST)) && ifp != NULL &&
		    (ia = in_ifaddr_of(ifp)) != NULL)
			ri.ri_spec = ia->ia_addr;
		ri.ri_tos = ip->ip_tos;
		ri.ri_ttl = ip->ip_ttl;
		so_rcvinfo_stamp(so, &ri);
		rip = &ri;
	}
	m_adj(m, hlen + (int)sizeof(*uh));
	m->m_pkthdr.rcvif = NULL;
	if (!sbdgfits(&so->so_rcv, m->m_pkthdr.len)) {
		so->so_rcv.sb_overflowed++;
		ns->ns_udpstat->udps_fullsock++;
		m_freem(m);
		return;
	}
	if (!sbappendaddr(&so->so_rcv, &from, m, rip)) {
		ns->ns_udpstat->udps_nobufs++;	/* no mbuf for the address */
		m_freem(m);
		return;
	}
	ns->ns_udpstat->udps_delivered++;
	sorwakeup(so);
}

struct udp_bcast {
	struct netstack *ub_ns;
	struct mbuf *ub_m;
	struct in_addr ub_dst;
	struct in_addr ub_src;		/* who sent it */
	in_port_t ub_sport;
	struct ifnet *ub_ifp;		/* a multicast's; NULL: broadcast */
	unsigned ub_ifindex;		/* the interface it came in on */
	int ub_hlen;
	unsigned ub_delivered;
};

static void
udp_bcast_one(struct inpcb *inp, void *arg)
{
	struct udp_bcast *ub = arg;
	struct mbuf *n;

	if ((inp->inp_laddr.s_addr != INADDR_ANY &&
	    inp->inp_laddr.s_addr != ub->ub_dst.s_addr) ||
	    !in_pcb_ifok(inp, ub->ub_ifindex))
		return;
	/* connected: from its peer only (Linux's __udp_is_mcast_sock()) */
	if (inp->inp_faddr.s_addr != INADDR_ANY &&
	    (inp->inp_faddr.s_addr != ub->ub_src.s_addr ||
	    inp->inp_fport != ub->ub_sport))
		return;
	/* a multicast: for the sockets that joined its group (in_mcast.c) */
	if (ub->ub_ifp != NULL && !in_mcast_member(inp, ub->ub_ifp, ub->ub_dst))
		return;
	if ((n = m_copym(ub->ub_m, 0, M_COPYALL, M_DONTWAIT)) == NULL) {
		ub->ub_ns->ns_udpstat->udps_nobufs++;
		return;
	}
	udp_append(ub->ub_ns, inp->inp_socket, n, ub->ub_hlen);
	ub->ub_delivered++;
}

void
udp_input(struct mbuf *m, int hlen)
{
	struct netstack *ns = udp_ns();
	struct udpstat *st = ns->ns_udpstat;
	unsigned ifindex;
	struct inpcb *inp;
	struct udphdr *uh;
	struct ip *ip;

	st->udps_ipackets++;
	if (udp_validate(ns, &m, hlen) < 0)
		return;
	ip = mtod(m, struct ip *);
	uh = (struct udphdr *)(void *)((char *)ip + hlen);
	ifindex = in_arrival_ifindex(m->m_pkthdr.rcvif, ip->ip_dst);
	/*
	 * by the IP destination, as Linux by the route's type: a unicast
	 * datagram in a link-layer broadcast frame goes to one socket
	 */
	if (IN_MULTICAST(ntohl(ip->ip_dst.s_addr)) ||
	    in_broadcast(ip->ip_dst, m->m_pkthdr.rcvif)) {
		/* every socket bound to the port and the address gets a copy */
		struct udp_bcast ub = { ns, m, ip->ip_dst, ip->ip_src,
		    uh->uh_sport, IN_MULTICAST(ntohl(ip->ip_dst.s_addr)) ?
		    m->m_pkthdr.rcvif : NULL, ifindex, hlen, 0 };

		in_pcbforeach_port(ns->ns_udbtable, uh->uh_dport,
		    udp_bcast_one, &ub);
		if (ub.ub_delivered == 0)
			st->udps_noportbcast++;
		m_freem(m);
		return;
	}
	inp = in_pcblookup_connect(ns->ns_udbtable, ip->ip_src, uh->uh_sport,
	    ip->ip_dst, uh->uh_dport, ifindex);
	if (inp == NULL)
		inp = in_pcblookup_bind_flow(ns->ns_udbtable, ip->ip_dst,
		    uh->uh_dport, ifindex, NULL, ip->ip_src, uh->uh_sport);
	if (inp == NULL) {
		/* RFC 1122 4.1.3.1: port unreachable */
		st->udps_noport++;
		icmp_error(m, ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
		return;
	}
	udp_append(ns, inp->inp_socket, m, hlen);
}

/*
 * Queue the error (errno error) an ICMP message (type, code, mtu) brings
 * about the datagram qip/uh of inp's, for recvmsg(MSG_ERRQUEUE)
 * (IP_RECVERR): the data quoted past the UDP header (m from off + 8), the
 * destination, the ICMP message's sender.  Dropped when the queue is full.
 */
static void
udp_errq(struct inpcb *inp, const struct ip *qip, const struct udphdr *uh,
    int error, int type, int code, uint16_t mtu, struct mbuf *m, int off)
{
	struct sockaddr_in dst = { .sin_family = AF_INET,
	    .sin_addr = qip->ip_dst, .sin_port = uh->uh_dport };
	struct so_rcvinfo ri;
	struct mbuf *n;

	memset(&ri, 0, sizeof(ri));
	ri.ri_want = SO_RI_RECVERR;
	ri.ri_ee_errno = error;
	ri.ri_ee_origin = SO_EE_ORIGIN_ICMP;
	ri.ri_ee_type = (uint8_t)type;
	ri.ri_ee_code = (uint8_t)code;
	ri.ri_ee_info = type == ICMP_UNREACH && code == ICMP_UNREACH_NEEDFRAG ?
	    mtu : 0;
	ri.ri_offender = mtod(m, const struct ip *)->ip_src;
	/* the quote past the UDP header, with a packet header of its own */
	if ((n = m_copym(m, 0, M_COPYALL, M_DONTWAIT)) != NULL) {
		m_adj(n, off + (int)sizeof(*uh));
		n->m_pkthdr.rcvif = NULL;
	}
	if (n == NULL)
		inp->inp_socket->so_kernel->k_net->ns_udpstat->udps_nobufs++;
	else if (!so_errq_append(inp->inp_socket, &dst, &ri, n))
		inp->inp_socket->so_kernel->k_net->ns_udpstat->udps_fullsock++;
}

/*
 * An ICMP error quoting one of our datagrams (ip: the quoted header,
 * m at off holds its first 8 bytes).  RFC 1122 4.1.3.3: passed to the
 * application; as BSD does, only to connected sockets, which know the
 * peer the error is about -- and, as Linux, to any socket with
 * IP_RECVERR, which queues it (udp_errq()).
 */
void
udp_ctlinput(int type, int code, uint16_t mtu, const struct ip *qip,
    struct mbuf *m, int off)
{
	struct netstack *ns = udp_ns();
	struct udphdr uh;
	struct inpcb *inp;
	unsigned ifindex;
	bool hard;
	int error;

	if ((error = icmp_errno(type, code, &hard)) == 0)
		return;
	m_copydata(m, off, (int)sizeof(uh), &uh);
	ifindex = in_arrival_ifindex(m->m_pkthdr.rcvif,
	    mtod(m, const struct ip *)->ip_dst);
	inp = in_pcblookup_connect(ns->ns_udbtable, qip->ip_dst, uh.uh_dport,
	    qip->ip_src, uh.uh_sport, ifindex);
	/* unconnected: heard of with IP_RECVERR, or for the path MTU */
	if (inp == NULL && (inp = in_pcblookup_bind_flow(ns->ns_udbtable,
	    qip->ip_src, uh.uh_sport, ifindex, NULL, qip->ip_dst,
	    uh.uh_dport)) == NULL)
		return;
	if (type == ICMP_UNREACH && code == ICMP_UNREACH_NEEDFRAG) {
		bool locked;

		/*
		 * About a datagram with DF from a socket of ours: the path
		 * MTU (RFC 1191), for every socket.  An error for the
		 * socket unless IP_PMTUDISC_DONT (Linux's udp_err()).
		 */
		if (!(ntohs(qip->ip_off) & IP_DF) ||
		    ip_pmtu_update(ns, qip, mtu, &locked) == 0 ||
		    inp->inp_pmtudisc == IP_PMTUDISC_DONT)
			return;
		hard = true;	/* the sender must hear of it (Linux) */
	}
	if (inp->inp_flags & INP_RECVERR) {
		/* Linux's ip_icmp_error(): queued, and the socket's error */
		udp_errq(inp, qip, &uh, error, type, code, mtu, m, off);
		soseterror(inp->inp_socket, error);
	} else if (inp->inp_faddr.s_addr != INADDR_ANY && hard) {
		/*
		 * without it, a connected socket's error if a hard one
		 * (Linux's __udp4_lib_err(): a net or host unreachable, a
		 * time exceeded say nothing of the peer, and may pass)
		 */
		soseterror(inp->inp_socket, error);
	}
}

/* ---- output ---- */

/*
 * IP_MTU_DISCOVER's rules for ip_output() (Linux's __ip_append_data()):
 * the path MTU or the interface's; DF set always (DO, PROBE: udp_output()
 * sets it), when the datagram fits (WANT) or never; too large: fragments
 * or EMSGSIZE.
 */
static const unsigned udp_pmtuflags[] = {
	[IP_PMTUDISC_DONT] = IP_USEPMTU,
	[IP_PMTUDISC_WANT] = IP_USEPMTU | IP_DFIFFITS,
	[IP_PMTUDISC_DO] = IP_USEPMTU | IP_NOFRAG,
	[IP_PMTUDISC_PROBE] = IP_NOFRAG,
	[IP_PMTUDISC_INTERFACE] = IP_NOFRAG,
	[IP_PMTUDISC_OMIT] = 0,
};

/*
 * The interface a datagram of inp's must leave by: IP_PKTINFO's, else
 * SO_BINDTODEVICE's (Linux's ipc.oif); 0: any.
 */
static unsigned
udp_oif(const struct inpcb *inp)
{
	const struct so_sndinfo *si = inp->inp_socket->so_sndinfo;

	return si != NULL && (si->si_set & SO_SI_IFINDEX) ? si->si_ifindex :
	    inp->inp_bindif;
}

static int
udp_output(struct inpcb *inp, struct mbuf *m, struct in_addr dst,
    in_port_t dport)
{
	struct socket *so = inp->inp_socket;
	struct netstack *ns = so->so_kernel->k_net;
	const struct so_sndinfo *si = so->so_sndinfo;
	int len = m->m_pkthdr.len, error;
	struct in_addr src = inp->inp_laddr;
	struct ifnet *oifp = NULL;	/* the limited broadcast's */
	unsigned oif;
	struct in_ifaddr *ia;
	unsigned flags;
	bool mcast;
	struct udphdr *uh;
	struct ip *ip;

	/* IP_PKTINFO: one of our addresses, as Linux (EINVAL otherwise) */
	if (si != NULL && (si->si_set & SO_SI_SRC)) {
		if (in_ifaddr_lookup(so->so_kernel, si->si_src) == NULL) {
			m_freem(m);
			return EINVAL;
		}
		src = si->si_src;
	}
	mcast = IN_MULTICAST(ntohl(dst.s_addr));
	/*
	 * Bound to a group or a broadcast address (to receive it): sends
	 * go from an address of ours, as Linux's inet_bind() has it
	 */
	if ((inp->inp_flags & INP_GROUPADDR) && src.s_addr ==
	    inp->inp_laddr.s_addr)
		src.s_addr = INADDR_ANY;
	/* the limited broadcast goes out of udp_oif(), from its address */
	oif = udp_oif(inp);
	if (dst.s_addr == htonl(INADDR_BROADCAST) && oif != 0) {
		if ((oifp = if_byindex(so->so_kernel, oif)) == NULL) {
			m_freem(m);
			return ENODEV;
		}
		if (src.s_addr == INADDR_ANY &&
		    (ia = in_ifaddr_of(oifp)) != NULL)
			src = ia->ia_addr;
	}
	/* a multicast's source is its interface's (ip_mcast_output()) */
	if (src.s_addr == INADDR_ANY && !mcast &&
	    (error = in_selectsrc(so->so_kernel, dst, oif, &src)) != 0) {
		m_freem(m);
		return error;
	}
	if ((m = m_prepend_fast(m, (int)(sizeof(*ip) + sizeof(*uh)),
	    M_DONTWAIT)) == NULL) {
		ns->ns_udpstat->udps_nobufs++;
		return ENOBUFS;
	}
	ip = mtod(m, struct ip *);
	uh = (struct udphdr *)(void *)(ip + 1);
	uh->uh_sport = inp->inp_lport;
	uh->uh_dport = dport;
	uh->uh_ulen = htons((uint16_t)(len + (int)sizeof(*uh)));
	uh->uh_sum = 0;
	memset(ip, 0, sizeof(*ip));
	ip->ip_vhl = IP_VHL(IPVERSION, sizeof(*ip) >> 2);
	ip->ip_len = htons((uint16_t)m->m_pkthdr.len);
	if (si != NULL && (si->si_set & SO_SI_TTL))
		ip->ip_ttl = si->si_ttl;
	else if (mcast)
		ip->ip_ttl = inp->inp_moptions != NULL ?
		    inp->inp_moptions->imo_ttl : IP_DEFAULT_MULTICAST_TTL;
	else
		ip->ip_ttl = inp->inp_ttl;
	/* ECN bits too: the user's (QUIC) */
	ip->ip_tos = si != NULL && (si->si_set & SO_SI_TOS) ? si->si_tos :
	    inp->inp_tos;
	ip->ip_p = IPPROTO_UDP;
	ip->ip_src = src;
	ip->ip_dst = dst;
	if (inp->inp_pmtudisc == IP_PMTUDISC_DO ||
	    inp->inp_pmtudisc == IP_PMTUDISC_PROBE)
		ip->ip_off = htons(IP_DF);
	/* the checksum is left to ip_output_if() or the interface */
	m->m_pkthdr.csum_flags = M_CSUM_UDPv4;
	ns->ns_udpstat->udps_opackets++;
	if (mcast)
		return ip_mcast_output(m, udp_pmtuflags[inp->inp_pmtudisc],
		    inp->inp_moptions, oif);
	flags = (so->so_options & SOO_BROADCAST) ? IP_ALLOWBROADCAST : 0;
	flags |= udp_pmtuflags[inp->inp_pmtudisc];
	if (oifp != NULL) {
		ns->ns_ipstat.ips_localout++;
		return ip_output_if(m, flags, oifp, dst);
	}
	return ip_output_oif(m, flags, oif);
}

/*
 * The MTU a datagram of inp to dst must fit: the interface's it leaves by
 * (as udp_output() and ip_mcast_output() choose it: IP_PKTINFO's or
 * SO_BINDTODEVICE's, a group's IP_MULTICAST_IF, else the route's), or the
 * path's when its IP_MTU_DISCOVER mode uses it; no limit (the first
 * datagram will say why it cannot go) without an interface.
 */
static unsigned
udp_gso_mtu(struct inpcb *inp, struct in_addr dst)
{
	struct socket *so = inp->inp_socket;
	const struct so_sndinfo *si = so->so_sndinfo;
	struct netstack *ns = so->so_kernel->k_net;
	struct in_addr nexthop, src;
	struct in_ifaddr *ia;
	struct ifnet *ifp = NULL;
	unsigned oif = udp_oif(inp);

	src = si != NULL && (si->si_set & SO_SI_SRC) ? si->si_src :
	    inp->inp_laddr;
	if ((inp->inp_flags & INP_GROUPADDR) && src.s_addr ==
	    inp->inp_laddr.s_addr)
		src.s_addr = INADDR_ANY;	/* as udp_output() */
	if (IN_MULTICAST(ntohl(dst.s_addr))) {
		if (oif == 0 && inp->inp_moptions != NULL)
			oif = inp->inp_moptions->imo_ifindex;
		if (oif != 0)
			ifp = if_byindex(so->so_kernel, oif);
		else if ((ia = in_ifaddr_lookup(so->so_kernel, src)) != NULL)
			ifp = ia->ia_ifp;
	}
	if (ifp == NULL && ip_route_oif(ns, src, dst, oif, &ifp, &nexthop) != 0)
		ifp = NULL;
	if (ifp == NULL)
		return IP_MAXPACKET;
	return (udp_pmtuflags[inp->inp_pmtudisc] & IP_USEPMTU) ?
	    ip_pmtu_min(ns, dst, ifp->if_mtu, NULL) : ifp->if_mtu;
}

/*
 * UDP_SEGMENT (GSO), as Linux: a send larger than the segment size (the
 * control message's, else the socket's) goes as datagrams of that size,
 * the last one shorter, each with its own headers.  As udp_send_skb():
 * with a size set, EMSGSIZE when the first datagram would not fit the
 * MTU, EINVAL when more than UDP_MAX_SEGMENTS would be needed.  Linux
 * segments one buffer late, in the device or in software: an error past
 * the first datagram is a drop, not the send's.
 */
static int
udp_output_gso(struct inpcb *inp, struct mbuf *m, struct in_addr dst,
    in_port_t dport)
{
	struct socket *so = inp->inp_socket;
	const struct so_sndinfo *si = so->so_sndinfo;
	unsigned gso = si != NULL && (si->si_set & SO_SI_GSO) ? si->si_gso :
	    inp->inp_gso_size;
	int len = m->m_pkthdr.len, error, first;
	struct mbuf *tail;

	if (gso == 0)
		return udp_output(inp, m, dst, dport);
	if (sizeof(struct ip) + sizeof(struct udphdr) +
	    (unsigned)MIN(len, (int)gso) > udp_gso_mtu(inp, dst)) {
		m_freem(m);
		return EMSGSIZE;
	}
	if (len <= (int)gso)
		return udp_output(inp, m, dst, dport);
	if ((len + (int)gso - 1) / (int)gso > UDP_MAX_SEGMENTS) {
		m_freem(m);
		return EINVAL;
	}
	for (first = 1; m != NULL; first = 0) {
		tail = NULL;
		if (m->m_pkthdr.len > (int)gso &&
		    (tail = m_split(m, (int)gso, M_DONTWAIT)) == NULL) {
			m_freem(m);
			so->so_kernel->k_net->ns_udpstat->udps_nobufs++;
			return first ? ENOBUFS : 0;
		}
		error = udp_output(inp, m, dst, dport);
		if (error != 0 && first) {
			m_freem(tail);
			return error;
		}
		m = tail;
	}
	return 0;
}

/* ---- the protocol switch ---- */

static int
udp_attach(struct socket *so)
{
	return in_pcballoc(so, so->so_kernel->k_net->ns_udbtable);
}

static void
udp_detach(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);

	m_freem(inp->inp_pend);		/* a datagram never finished goes */
	inp->inp_pend = NULL;
	in_pcbdetach(inp);
}

static int
udp_bind(struct socket *so, const struct sockaddr_in *sin)
{
	return in_pcbbind(sotoinpcb(so), sin);
}

static int
udp_connect(struct socket *so, const struct sockaddr_in *sin)
{
	return in_pcbconnect(sotoinpcb(so), sin);
}

static int
udp_disconnect(struct socket *so)
{
	/*
	 * connected or not (Linux's __udp_disconnect()): a port sendto()
	 * took is given back too
	 */
	in_pcbdisconnect(sotoinpcb(so));
	return 0;
}

/* The datagram UDP_CORK and MSG_MORE gathered goes (RFC 768: one). */
static int
udp_push_pending(struct inpcb *inp)
{
	struct socket *so = inp->inp_socket;
	const struct so_sndinfo *si = so->so_sndinfo;
	struct mbuf *m = inp->inp_pend;
	int error;

	if (m == NULL)
		return 0;
	inp->inp_pend = NULL;
	so->so_dgpend = false;
	/* the first send's control messages (Linux's cork) */
	so->so_sndinfo = so->so_dgpendsi.si_set != 0 ? &so->so_dgpendsi :
	    NULL;
	error = udp_output_gso(inp, m, inp->inp_penddst, inp->inp_pendport);
	so->so_sndinfo = si;
	return error;
}

/*
 * UDP_CORK or MSG_MORE (Linux's): this send's payload joins the datagram
 * being gathered (the first send's destination is the datagram's); it
 * goes with a send that has neither.  Past the largest payload a
 * datagram takes the whole datagram is dropped: EMSGSIZE, as Linux's
 * udp_flush_pending_frames().
 */
static int
udp_gather(struct inpcb *inp, struct mbuf *m, struct in_addr dst,
    in_port_t dport)
{
	struct socket *so = inp->inp_socket;
	struct mbuf *p = inp->inp_pend;

	if (p == NULL) {
		inp->inp_pend = m;
		inp->inp_penddst = dst;
		inp->inp_pendport = dport;
		so->so_dgpend = true;
		so->so_dgpendsi = so->so_sndinfo != NULL ? *so->so_sndinfo :
		    (struct so_sndinfo){ 0 };
	} else if (p->m_pkthdr.len + m->m_pkthdr.len > UDP_MAXPAYLOAD) {
		m_freem(m);
		m_freem(p);
		inp->inp_pend = NULL;
		so->so_dgpend = false;
		return EMSGSIZE;
	} else {
		p->m_pkthdr.len += m->m_pkthdr.len;
		m_cat(p, m);
	}
	if (so->so_msgmore || (inp->inp_flags & INP_UDPCORK))
		return 0;
	return udp_push_pending(inp);
}

static int
udp_send(struct socket *so, struct mbuf *m, const struct sockaddr_in *to)
{
	struct inpcb *inp = sotoinpcb(so);
	struct in_addr dst = inp->inp_faddr;
	in_port_t dport = inp->inp_fport;
	int error;

	/* the datagram being gathered: its address, whatever this one's */
	if (inp->inp_pend != NULL)
		return udp_gather(inp, m, inp->inp_penddst,
		    inp->inp_pendport);
	if (to != NULL) {
		if (to->sin_family != AF_INET) {
			m_freem(m);
			return EAFNOSUPPORT;
		}
		if (to->sin_port == 0) {
			m_freem(m);
			return EINVAL;
		}
		if (inp->inp_lport == 0) {
			/* the address bind() named stays (Linux) */
			struct sockaddr_in any = { .sin_family = AF_INET,
			    .sin_addr = inp->inp_laddr };

			if ((error = in_pcbbind(inp, &any)) != 0) {
				m_freem(m);
				/* no port free: Linux's inet_autobind() */
				return error == EADDRINUSE ? EAGAIN : error;
			}
		}
		dst = to->sin_addr;
		dport = to->sin_port;
	}
	if (so->so_msgmore || (inp->inp_flags & INP_UDPCORK))
		return udp_gather(inp, m, dst, dport);
	return udp_output_gso(inp, m, dst, dport);
}

static void
udp_sockaddr(struct socket *so, struct sockaddr_in *sin)
{
	struct inpcb *inp = sotoinpcb(so);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr = inp->inp_laddr;
	sin->sin_port = inp->inp_lport;
}

static void
udp_peeraddr(struct socket *so, struct sockaddr_in *sin)
{
	struct inpcb *inp = sotoinpcb(so);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr = inp->inp_faddr;
	sin->sin_port = inp->inp_fport;
}

/* IPPROTO_IP options (in_pcb_ctloutput()); UDP has none of its own. */
static int
udp_ctloutput(struct socket *so, int set, int level, int name, void *val,
    socklen_t *len)
{
	struct inpcb *inp = sotoinpcb(so);
	int error;

	if (level == SOL_SOCKET) {
		/* told of SO_KEEPALIVE (nothing to do), SO_BINDTODEVICE */
		if (name == SO_BINDTOIFINDEX && inp != NULL)
			inp->inp_bindif = so->so_bindif;
		return 0;
	}
	if (level != IPPROTO_IP && level != IPPROTO_UDP)
		return ENOPROTOOPT;
	if (inp == NULL)
		return EINVAL;
	if (level == IPPROTO_UDP) {
		int v;

		if (name == UDP_CORK) {
			/* an int; clearing it sends what was gathered */
			if (!set) {
				v = (inp->inp_flags & INP_UDPCORK) != 0;
				return in_optout(val, len, &v, sizeof(v));
			}
			if (val == NULL || *len < sizeof(int))
				return EINVAL;
			memcpy(&v, val, sizeof(v));
			if (v != 0) {
				inp->inp_flags |= INP_UDPCORK;
				return 0;
			}
			inp->inp_flags &= ~INP_UDPCORK;
			/* its error is lost, as Linux's: the option is off */
			(void)udp_push_pending(inp);
			return 0;
		}
		if (name != UDP_SEGMENT)
			return ENOPROTOOPT;
		/* Linux's: an int, 0 (off) .. 65535 */
		if (!set) {
			v = inp->inp_gso_size;
			return in_optout(val, len, &v, sizeof(v));
		}
		if (val == NULL || *len < sizeof(int))
			return EINVAL;
		memcpy(&v, val, sizeof(v));
		if (v < 0 || v > 65535)
			return EINVAL;
		inp->inp_gso_size = (uint16_t)v;
		return 0;
	}
	error = in_pcb_ctloutput(inp, set, name, val, len);
	/* as Linux: IP_RECVERR off empties the error queue */
	if (error == 0 && set && name == IP_RECVERR &&
	    !(inp->inp_flags & INP_RECVERR))
		so_errq_flush(so);
	return error;
}

const struct protosw udp_protosw = {
	.pr_type = SOCK_DGRAM,
	.pr_protocol = IPPROTO_UDP,
	.pr_attach = udp_attach,
	.pr_detach = udp_detach,
	.pr_bind = udp_bind,
	.pr_connect = udp_connect,
	.pr_disconnect = udp_disconnect,
	.pr_shutdown = NULL,
	.pr_send = udp_send,
	.pr_sockaddr = udp_sockaddr,
	.pr_peeraddr = udp_peeraddr,
	.pr_ctloutput = udp_ctloutput,
	.pr_listen = NULL,
	.pr_rcvd = NULL,
	.pr_abort = NULL,
	.pr_sendoob = NULL,
	.pr_rcvoob = NULL,
};

int
udp_init(struct netstack *ns)
{
	void *mem;

	if (hyper_malloc(sizeof(struct inpcbtable), 0, &mem) != 0)
		return ENOMEM;
	ns->ns_udbtable = mem;
	in_pcbinit(ns->ns_udbtable, false, ns->ns_pcbpool);
	if (hyper_malloc(sizeof(struct udpstat), 0, &mem) != 0) {
		hyper_free(ns->ns_udbtable, sizeof(struct inpcbtable));
		return ENOMEM;
	}
	ns->ns_udpstat = mem;
	memset(mem, 0, sizeof(struct udpstat));
	return 0;
}

void
udp_fini(struct netstack *ns)
{
	KASSERT(ns->ns_udbtable->inpt_count == 0);
	hyper_free(ns->ns_udbtable, sizeof(struct inpcbtable));
	hyper_free(ns->ns_udpstat, sizeof(struct udpstat));
}
