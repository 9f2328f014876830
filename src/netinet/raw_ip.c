/*
 * raw_ip.c -- raw IPv4 sockets: socket(AF_INET, SOCK_RAW, proto), with
 * the semantics of the BSD raw_ip.c (NetBSD, FreeBSD).
 *
 * (ip_deliver(), protocols the kernel lacks ->) rip_input()
 *     -> rip_append() -> sbappendaddr() -> sorwakeup()
 *     | none matched: ip.noproto, icmp_error(protocol unreachable)
 * (icmp_input(), after its own processing ->) rip_input()
 * (sosend() ->) rip_send() -> rip_output() -> [rip_hdrcheck()]
 *     -> ip_output()
 * (sosetopt()/sogetopt() ->) rip_ctloutput()
 *
 * Input.  Every datagram that reaches local delivery (after reassembly)
 * and whose protocol has no kernel implementation, and every ICMP message
 * once ICMP is done with it, is copied to each raw socket whose protocol
 * (0: any) matches, that is bound to its destination or not bound, and
 * that is connected to its source or not connected.  As in BSD, TCP and
 * UDP datagrams are not (Linux gives raw sockets of those protocols a
 * copy too), nor are the echo requests the kernel answers itself (echo
 * replies, errors and the other ICMP messages are), nor ICMP messages too
 * short or with a bad checksum.  A protocol without a kernel
 * implementation gets ICMP protocol unreachable (RFC 1122 3.2.2.1) only
 * when no raw socket matched: a socket that matched but had no room
 * counts as the protocol being there.
 *
 * What a socket reads is the datagram with its IP header, as it came off
 * the wire: ip_len and ip_off in network byte order (as Linux and
 * FreeBSD 11+ give them; the older BSDs turned them to host order and took
 * the header length off ip_len), a reassembled datagram with the header
 * ip_reass() made (ip_len the total, ip_off 0, checksum recomputed).  The
 * source address is the sockaddr (port 0).
 *
 * Output.  Without IP_HDRINCL the kernel builds the header: the socket's
 * protocol, IP_TTL (64) and IP_TOS (0), no options, DF clear; ip_output()
 * routes, numbers and fragments it.  With IP_HDRINCL (always for
 * IPPROTO_RAW) the user gives the header; rip_hdrcheck() refuses what
 * would be malformed on the wire, and the kernel fills in a zero ip_id, a
 * zero source (the route's) or destination (the sendto()/connect()
 * address), and the checksum.  The header's destination is where it goes,
 * as BSD.  Anything larger than the MTU is fragmented unless DF is set
 * (then EMSGSIZE).
 *
 * Privilege.  BSD and Linux reserve raw sockets to root because they let
 * a user forge any datagram onto a shared network.  Here the stack is the
 * process's own: an application that can open a raw socket could equally
 * put any frame on its interface, so raw sockets need no privilege.
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/ip_output.h"
#include "netinet/ip_var.h"
#include "netinet/raw_ip_var.h"
#include "sys/socketvar.h"

static struct rawcb *
sotorawcb(struct socket *so)
{
	return so->so_pcb;
}

/* ---- input ---- */

/* Whether rcb wants a datagram of protocol p from src to dst. */
static bool
rip_match(const struct rawcb *rcb, uint8_t p, struct in_addr src,
    struct in_addr dst)
{
	if (rcb->rcb_proto != 0 && rcb->rcb_proto != p)
		return false;
	if (rcb->rcb_laddr.s_addr != INADDR_ANY &&
	    rcb->rcb_laddr.s_addr != dst.s_addr)
		return false;
	if (rcb->rcb_faddr.s_addr != INADDR_ANY &&
	    rcb->rcb_faddr.s_addr != src.s_addr)
		return false;
	return true;
}

/* Queue a copy of datagram m, which came from src, on so. */
static void
rip_append(struct rip_state *rs, struct socket *so, struct mbuf *m,
    struct in_addr src)
{
	struct sockaddr_in from = {
		.sin_family = AF_INET,
		.sin_addr = src,
	};
	struct so_rcvinfo ri, *rip = NULL;
	struct mbuf *n;

	/* no copy for a buffer that cannot take it */
	if (!sbdgfits(&so->so_rcv, m->m_pkthdr.len)) {
		so->so_rcv.sb_overflowed++;
		rs->rip_stat.rips_fullsock++;
		return;
	}
	if ((n = m_copym(m, 0, M_COPYALL, M_DONTWAIT)) == NULL) {
		rs->rip_stat.rips_nobufs++;
		return;
	}
	n->m_pkthdr.rcvif = NULL;	/* the interface may go first */
	if (so->so_tstamp & SO_TS_TIMING) {
		memset(&ri, 0, sizeof(ri));
		so_rcvinfo_stamp(so, &ri);
		rip = &ri;
	}
	if (!sbappendaddr(&so->so_rcv, &from, n, rip)) {
		rs->rip_stat.rips_nobufs++;	/* no mbuf for the address */
		m_freem(n);
		return;
	}
	rs->rip_stat.rips_delivered++;
	sorwakeup(so);
}

unsigned
rip_input(struct netstack *ns, struct mbuf *m)
{
	struct rip_state *rs = ns->ns_raw;
	const struct ip *ip = mtod(m, const struct ip *);
	struct in_addr src = ip->ip_src, dst = ip->ip_dst;
	unsigned ifindex = in_arrival_ifindex(m->m_pkthdr.rcvif, dst);
	uint8_t p = ip->ip_p;
	struct list_node *ln;
	unsigned matched = 0;

	if (rs->rip_count == 0)
		return 0;
	for (ln = rs->rip_pcbs.ln_next; ln != &rs->rip_pcbs;
	    ln = ln->ln_next) {
		struct rawcb *rcb = container_of(ln, struct rawcb, rcb_link);

		unsigned bif = rcb->rcb_socket->so_bindif;

		if (!rip_match(rcb, p, src, dst) ||
		    (bif != 0 && ifindex != 0 && bif != ifindex))
			continue;
		matched++;
		rip_append(rs, rcb->rcb_socket, m, src);
	}
	if (matched > 0)
		ns->ns_ipstat.ips_rawin++;
	return matched;
}

/* ---- output ---- */

/*
 * The options of a header the user built: each length inside the header,
 * and the pointer of the options that have one at or after its first
 * possible value, as ip_dooptions() checks those that arrive (RFC 791
 * 3.1).  ip_fragment() copies them relying on this.
 */
static bool
rip_optcheck(const uint8_t *cp, int cnt)
{
	int optlen;

	for (; cnt > 0; cnt -= optlen, cp += optlen) {
		if (cp[0] == IPOPT_EOL)
			break;
		if (cp[0] == IPOPT_NOP) {
			optlen = 1;
			continue;
		}
		if (cnt < 2)
			return false;
		optlen = cp[1];
		if (optlen < 2 || optlen > cnt)
			return false;
		switch (cp[0]) {
		case IPOPT_LSRR:
		case IPOPT_SSRR:
		case IPOPT_RR:
			if (optlen < 3 || cp[2] < 4)
				return false;
			break;
		case IPOPT_TS:	/* RFC 791: a flags byte; pointer from 5 */
			if (optlen < 4 || cp[2] < 5)
				return false;
			break;
		default:
			break;
		}
	}
	return true;
}

/*
 * IP_HDRINCL: check the header the user wrote at the front of *mp and
 * make it contiguous.  Returns 0, EINVAL (too short, not version 4, a
 * header length below 20 or beyond the data, ip_len other than the
 * datagram's length, malformed options) or ENOBUFS (*mp freed).
 */
static int
rip_hdrcheck(struct mbuf **mp)
{
	struct mbuf *m = *mp;
	struct ip *ip;
	int hlen;

	if (m->m_pkthdr.len < IP_MINHLEN)
		return EINVAL;
	if (m->m_len < IP_MINHLEN &&
	    (*mp = m = m_pullup(m, IP_MINHLEN)) == NULL)
		return ENOBUFS;
	ip = mtod(m, struct ip *);
	hlen = IP_HL(ip) << 2;
	if (IP_V(ip) != IPVERSION || hlen < IP_MINHLEN ||
	    hlen > m->m_pkthdr.len)
		return EINVAL;
	if (m->m_len < hlen && (*mp = m = m_pullup(m, hlen)) == NULL)
		return ENOBUFS;
	ip = mtod(m, struct ip *);
	if (ntohs(ip->ip_len) != m->m_pkthdr.len)
		return EINVAL;
	if (hlen > IP_MINHLEN &&
	    !rip_optcheck((const uint8_t *)(ip + 1), hlen - IP_MINHLEN))
		return EINVAL;
	return 0;
}

/* Send m (consumed) from rcb to dst; errno as ip_output(), or EINVAL. */
static int
rip_output(struct rawcb *rcb, struct mbuf *m, struct in_addr dst)
{
	struct socket *so = rcb->rcb_socket;
	struct netstack *ns = so->so_kernel->k_net;
	struct rip_state *rs = ns->ns_raw;
	unsigned flags = (so->so_options & SOO_BROADCAST) ?
	    IP_ALLOWBROADCAST : 0;
	struct ip *ip;
	int error;

	if (rcb->rcb_hdrincl) {
		if ((error = rip_hdrcheck(&m)) != 0) {
			if (error == EINVAL)
				rs->rip_stat.rips_badhdr++;
			if (m != NULL)
				m_freem(m);
			return error;
		}
		ip = mtod(m, struct ip *);
		/* ip_output() keeps our ip_id: the user's, or the next one */
		if (ip->ip_id == 0)
			ip->ip_id = htons(ns->ns_ip_id++);
		if (ip->ip_dst.s_addr == INADDR_ANY)
			ip->ip_dst = dst;
		flags |= IP_RAWOUTPUT;
	} else {
		if (m->m_pkthdr.len > IP_MAXPACKET - IP_MINHLEN) {
			m_freem(m);
			return EMSGSIZE;
		}
		if ((m = m_prepend_fast(m, IP_MINHLEN, M_DONTWAIT)) == NULL)
			return ENOBUFS;
		ip = mtod(m, struct ip *);
		memset(ip, 0, sizeof(*ip));
		ip->ip_vhl = IP_VHL(IPVERSION, IP_MINHLEN >> 2);
		ip->ip_tos = rcb->rcb_tos;
		ip->ip_len = htons((uint16_t)m->m_pkthdr.len);
		ip->ip_ttl = rcb->rcb_ttl;
		ip->ip_p = rcb->rcb_proto;
		ip->ip_src = rcb->rcb_saddr;	/* 0: the route's */
		ip->ip_dst = dst;
	}
	rs->rip_stat.rips_opackets++;
	return ip_output_oif(m, flags, so->so_bindif);
}

/* ---- the protocol switch ---- */

static int
rip_attach(struct socket *so)
{
	struct rip_state *rs = so->so_kernel->k_net->ns_raw;
	struct rawcb *rcb;
	void *mem;

	KASSERT(so->so_protocol >= 0 && so->so_protocol < IPPROTO_MAX);
	if (hyper_malloc(sizeof(*rcb), 0, &mem) != 0)
		return ENOBUFS;
	rcb = mem;
	memset(rcb, 0, sizeof(*rcb));
	rcb->rcb_socket = so;
	rcb->rcb_proto = (uint8_t)so->so_protocol;
	/* IPPROTO_RAW: the user writes every header (as BSD and Linux) */
	rcb->rcb_hdrincl = so->so_protocol == IPPROTO_RAW;
	rcb->rcb_ttl = IPDEFTTL;
	list_insert_tail(&rs->rip_pcbs, &rcb->rcb_link);
	rs->rip_count++;
	so->so_pcb = rcb;
	return 0;
}

static void
rip_detach(struct socket *so)
{
	struct rip_state *rs = so->so_kernel->k_net->ns_raw;
	struct rawcb *rcb = sotorawcb(so);

	list_remove(&rcb->rcb_link);
	rs->rip_count--;
	so->so_pcb = NULL;
	hyper_free(rcb, sizeof(*rcb));
}

/*
 * bind: receive only datagrams to one of our addresses (or any); or, as
 * Linux's raw_bind(), to a group or a broadcast address of ours, and then
 * send from the route's address
 */
static int
rip_bind(struct socket *so, const struct sockaddr_in *sin)
{
	struct rawcb *rcb = sotorawcb(so);
	struct in_addr a = sin->sin_addr;
	bool group;

	if (sin->sin_family != AF_INET)
		return EAFNOSUPPORT;
	group = in_groupaddr(so->so_kernel, a);
	if (a.s_addr != INADDR_ANY && !group &&
	    in_ifaddr_lookup(so->so_kernel, a) == NULL)
		return EADDRNOTAVAIL;
	rcb->rcb_laddr = a;
	rcb->rcb_saddr.s_addr = group ? INADDR_ANY : a.s_addr;
	so->so_state |= SS_ISBOUND;
	return 0;
}

/* connect: the default destination, and receive only from it. */
static int
rip_connect(struct socket *so, const struct sockaddr_in *sin)
{
	struct rawcb *rcb = sotorawcb(so);

	if (sin->sin_family != AF_INET)
		return EAFNOSUPPORT;
	if (sin->sin_addr.s_addr == INADDR_ANY)
		return EADDRNOTAVAIL;
	rcb->rcb_faddr = sin->sin_addr;
	so->so_state |= SS_ISCONNECTED;
	return 0;
}

static int
rip_disconnect(struct socket *so)
{
	struct rawcb *rcb = sotorawcb(so);

	if (rcb->rcb_faddr.s_addr == INADDR_ANY)
		return ENOTCONN;
	rcb->rcb_faddr.s_addr = INADDR_ANY;
	so->so_state &= ~SS_ISCONNECTED;
	return 0;
}

/* sosend() checked: to given, or connected (to NULL). */
static int
rip_send(struct socket *so, struct mbuf *m, const struct sockaddr_in *to)
{
	struct rawcb *rcb = sotorawcb(so);

	if (to == NULL)
		return rip_output(rcb, m, rcb->rcb_faddr);
	if (to->sin_family != AF_INET) {
		m_freem(m);
		return EAFNOSUPPORT;
	}
	return rip_output(rcb, m, to->sin_addr);
}

static void
rip_sockaddr(struct socket *so, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr = sotorawcb(so)->rcb_laddr;
}

static void
rip_peeraddr(struct socket *so, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr = sotorawcb(so)->rcb_faddr;
}

static int
rip_optint(const void *val, socklen_t len, int *v)
{
	if (val == NULL || len < sizeof(int))
		return EINVAL;
	memcpy(v, val, sizeof(int));
	return 0;
}

static int
rip_setopt(struct rawcb *rcb, int name, const void *val, socklen_t len)
{
	int v, error;

	if ((error = rip_optint(val, len, &v)) != 0)
		return error;
	switch (name) {
	case IP_HDRINCL:
		/* an IPPROTO_RAW socket has no header of its own to build */
		if (rcb->rcb_proto == IPPROTO_RAW && v == 0)
			return EINVAL;
		rcb->rcb_hdrincl = v != 0;
		return 0;
	case IP_TTL:
		if (v == -1)
			v = IPDEFTTL;		/* Linux: back to the default */
		if (v < 1 || v > MAXTTL)
			return EINVAL;
		rcb->rcb_ttl = (uint8_t)v;
		return 0;
	case IP_TOS:
		if (v < 0 || v > 255)
			return EINVAL;
		rcb->rcb_tos = (uint8_t)v;
		return 0;
	default:
		return ENOPROTOOPT;
	}
}

static int
rip_getopt(struct rawcb *rcb, int name, void *val, socklen_t *len)
{
	int v;

	switch (name) {
	case IP_HDRINCL:
		v = rcb->rcb_hdrincl;
		break;
	case IP_TTL:
		v = rcb->rcb_ttl;
		break;
	case IP_TOS:
		v = rcb->rcb_tos;
		break;
	default:
		return ENOPROTOOPT;
	}
	return in_optout(val, len, &v, sizeof(v));
}

/* IPPROTO_IP options: IP_HDRINCL, IP_TTL, IP_TOS. */
static int
rip_ctloutput(struct socket *so, int set, int level, int name, void *val,
    socklen_t *len)
{
	struct rawcb *rcb = sotorawcb(so);

	if (level == SOL_SOCKET)
		return 0;	/* told of SO_KEEPALIVE: nothing to do */
	if (level != IPPROTO_IP)
		return ENOPROTOOPT;
	if (rcb == NULL)
		return EINVAL;	/* a get after close */
	if (set)
		return rip_setopt(rcb, name, val, *len);
	return rip_getopt(rcb, name, val, len);
}

const struct protosw rip_protosw = {
	.pr_type = SOCK_RAW,
	.pr_protocol = 0,		/* any: the socket has its own */
	.pr_attach = rip_attach,
	.pr_detach = rip_detach,
	.pr_bind = rip_bind,
	.pr_connect = rip_connect,
	.pr_disconnect = rip_disconnect,
	.pr_shutdown = NULL,
	.pr_send = rip_send,
	.pr_sockaddr = rip_sockaddr,
	.pr_peeraddr = rip_peeraddr,
	.pr_ctloutput = rip_ctloutput,
	.pr_listen = NULL,
	.pr_rcvd = NULL,
	.pr_abort = NULL,
	.pr_sendoob = NULL,
	.pr_rcvoob = NULL,
};

int
rip_init(struct netstack *ns)
{
	struct rip_state *rs;
	void *mem;

	if (hyper_malloc(sizeof(*rs), 0, &mem) != 0)
		return ENOMEM;
	rs = mem;
	memset(rs, 0, sizeof(*rs));
	list_init(&rs->rip_pcbs);
	ns->ns_raw = rs;
	return 0;
}

/* After every descriptor was closed. */
void
rip_fini(struct netstack *ns)
{
	KASSERT(ns->ns_raw->rip_count == 0);
	hyper_free(ns->ns_raw, sizeof(struct rip_state));
	ns->ns_raw = NULL;
}
