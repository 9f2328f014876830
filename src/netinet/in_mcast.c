/*
 * in_mcast.c -- IPv4 multicast for hosts (RFC 1112 level 2): the groups
 * an interface is in, the sockets' memberships and options, and sending.
 *
 * (setsockopt(IPPROTO_IP) -> in_pcb_ctloutput() ->) in_mcast_ctloutput()
 *     -> in_addmulti() | in_delmulti() -> igmp_joingroup() | _leavegroup()
 * (in_pcbdetach() ->) in_mcast_free() -> in_delmulti()
 * (ip_input()) in_multi_lookup(): is the host in the destination group
 * (udp_input() ->) in_mcast_member(): is this socket
 * (udp_output() ->) ip_mcast_output() -> ip_output_if() -> [ip_mloopback()]
 *
 * Read first: RFC 1112 (6: sending, 7: receiving, the loopback of our own
 * datagrams), RFC 2236 (igmp.c).
 *
 * Two levels of membership, as in BSD: a struct in_multi per group and
 * interface says what the host is in (ip_input() drops the rest, counted
 * in ip.notmember) and what IGMP reports; each socket keeps the
 * (interface, group) pairs it joined, and a datagram to a group goes to
 * the sockets bound to its port that joined that group on the interface
 * it came in on.  That differs from Linux's default, where a socket
 * bound to the port gets every group any socket joined: Linux's
 * IP_MULTICAST_ALL, which is off here until set (and which Linux programs
 * that care set off).
 *
 * The socket API is Linux's: struct ip_mreq or ip_mreqn, its errno values
 * (EADDRINUSE: joined already; EADDRNOTAVAIL: not joined; ENODEV: no such
 * interface; ENOBUFS: IP_MAX_MEMBERSHIPS; EPROTO: a TCP socket).  A
 * socket's memberships name the interface by index, so an interface that
 * goes away leaves nothing dangling: its records go with it
 * (in_purgemulti()), and a later drop finds no interface to tell.
 */
#include "kern/kernel.h"
#include "net/if.h"
#include "net/if_ether.h"
#include "net/netstack.h"
#include "netinet/igmp_var.h"
#include "netinet/in_cksum.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/ip_output.h"

/* ---- the host's groups, per interface ---- */

struct in_multi *
in_multi_lookup(struct ifnet *ifp, struct in_addr group)
{
	struct list_node *ln;

	for (ln = ifp->if_multiaddrs.ln_next; ln != &ifp->if_multiaddrs;
	    ln = ln->ln_next) {
		struct in_multi *inm = container_of(ln, struct in_multi,
		    inm_link);

		if (inm->inm_addr.s_addr == group.s_addr)
			return inm;
	}
	return NULL;
}

int
in_addmulti(struct ifnet *ifp, struct in_addr group)
{
	struct in_multi *inm;
	void *mem;

	KASSERT(mutex_owned(&ifp->if_kernel->k_net->ns_lock));
	if ((inm = in_multi_lookup(ifp, group)) != NULL) {
		inm->inm_refcount++;
		return 0;
	}
	if (hyper_malloc(sizeof(*inm), 0, &mem) != 0)
		return ENOMEM;
	inm = mem;
	memset(inm, 0, sizeof(*inm));
	inm->inm_ifp = ifp;
	inm->inm_addr = group;
	inm->inm_refcount = 1;
	list_insert_tail(&ifp->if_multiaddrs, &inm->inm_link);
	if (ifp->if_mcast != NULL)
		ifp->if_mcast(ifp);	/* the NIC's filter, before the report */
	igmp_joingroup(inm);
	return 0;
}

static void
in_multi_free(struct in_multi *inm)
{
	list_remove(&inm->inm_link);
	hyper_free(inm, sizeof(*inm));
}

void
in_delmulti(struct ifnet *ifp, struct in_addr group)
{
	struct in_multi *inm = in_multi_lookup(ifp, group);

	KASSERT(mutex_owned(&ifp->if_kernel->k_net->ns_lock));
	if (inm == NULL || --inm->inm_refcount > 0)
		return;
	igmp_leavegroup(inm);
	in_multi_free(inm);
	if (ifp->if_mcast != NULL)
		ifp->if_mcast(ifp);
}

void
in_purgemulti(struct ifnet *ifp)
{
	while (!list_empty(&ifp->if_multiaddrs))
		in_multi_free(container_of(list_first(&ifp->if_multiaddrs),
		    struct in_multi, inm_link));
}

/* ---- a socket's memberships and options ---- */

/* The index of (ifindex, group) in imo's memberships, or -1. */
static int
in_mcast_find(const struct ip_moptions *imo, unsigned ifindex,
    struct in_addr group)
{
	for (unsigned i = 0; i < imo->imo_n; i++)
		if (imo->imo_m[i].im_ifindex == ifindex &&
		    imo->imo_m[i].im_group.s_addr == group.s_addr)
			return (int)i;
	return -1;
}

bool
in_mcast_member(const struct inpcb *inp, const struct ifnet *ifp,
    struct in_addr group)
{
	const struct ip_moptions *imo = inp->inp_moptions;

	if (imo == NULL)
		return false;
	/* IP_MULTICAST_ALL: any group ip_input() found the host in */
	return imo->imo_all || in_mcast_find(imo, ifp->if_index, group) >= 0;
}

void
in_mcast_free(struct inpcb *inp)
{
	struct ip_moptions *imo = inp->inp_moptions;
	struct rump_kernel *k = curlwp->l_kernel;
	struct ifnet *ifp;

	if (imo == NULL)
		return;
	for (unsigned i = 0; i < imo->imo_n; i++)
		if ((ifp = if_byindex(k, imo->imo_m[i].im_ifindex)) != NULL)
			in_delmulti(ifp, imo->imo_m[i].im_group);
	hyper_free(imo, sizeof(*imo));
	inp->inp_moptions = NULL;
}

bool
in_mcast_src(const struct inpcb *inp, struct in_addr *src)
{
	const struct ip_moptions *imo = inp->inp_moptions;
	struct in_ifaddr *ia;
	struct ifnet *ifp;

	if (imo == NULL || imo->imo_ifindex == 0)
		return false;
	if (imo->imo_addr.s_addr != INADDR_ANY) {
		*src = imo->imo_addr;
		return true;
	}
	if ((ifp = if_byindex(curlwp->l_kernel, imo->imo_ifindex)) == NULL ||
	    (ia = in_ifaddr_of(ifp)) == NULL)
		return false;
	*src = ia->ia_addr;
	return true;
}

/* The socket's options, made with the defaults on first use; or NULL. */
static struct ip_moptions *
in_mcast_options(struct inpcb *inp)
{
	struct ip_moptions *imo;
	void *mem;

	if (inp->inp_moptions != NULL)
		return inp->inp_moptions;
	if (hyper_malloc(sizeof(*imo), 0, &mem) != 0)
		return NULL;
	imo = mem;
	memset(imo, 0, sizeof(*imo));
	imo->imo_ttl = IP_DEFAULT_MULTICAST_TTL;
	imo->imo_loop = IP_DEFAULT_MULTICAST_LOOP;
	inp->inp_moptions = imo;
	return imo;
}

/*
 * The interface a request names: by index, by one of its addresses, or
 * (neither) the one the route to the group takes, as Linux's
 * ip_mc_find_dev().  NULL: none.
 */
static struct ifnet *
in_mcast_ifp(struct rump_kernel *k, const struct ip_mreqn *mr)
{
	struct in_ifaddr *ia;
	struct in_addr nexthop;
	struct ifnet *ifp;

	if (mr->imr_ifindex != 0)
		return mr->imr_ifindex < 0 ? NULL :
		    if_byindex(k, (unsigned)mr->imr_ifindex);
	if (mr->imr_address.s_addr != INADDR_ANY)
		return (ia = in_ifaddr_lookup(k, mr->imr_address)) != NULL ?
		    ia->ia_ifp : NULL;
	if (ip_route(k->k_net, mr->imr_address, mr->imr_multiaddr, &ifp,
	    &nexthop) != 0)
		return NULL;
	return ifp;
}

/* A request of len bytes at val: an ip_mreqn, or an ip_mreq. */
static int
in_mcast_mreq(const void *val, uint32_t len, struct ip_mreqn *mr)
{
	memset(mr, 0, sizeof(*mr));
	if (val == NULL || len < sizeof(struct ip_mreq))
		return EINVAL;
	memcpy(mr, val, len >= sizeof(*mr) ? sizeof(*mr) :
	    sizeof(struct ip_mreq));
	return 0;
}

static int
in_mcast_join(struct inpcb *inp, const void *val, uint32_t len)
{
	struct rump_kernel *k = curlwp->l_kernel;
	struct ip_moptions *imo;
	struct ip_mreqn mr;
	struct ifnet *ifp;
	int error;

	if ((error = in_mcast_mreq(val, len, &mr)) != 0)
		return error;
	if (!IN_MULTICAST(ntohl(mr.imr_multiaddr.s_addr)))
		return EINVAL;
	if ((ifp = in_mcast_ifp(k, &mr)) == NULL)
		return ENODEV;
	if ((imo = in_mcast_options(inp)) == NULL)
		return ENOBUFS;
	if (in_mcast_find(imo, ifp->if_index, mr.imr_multiaddr) >= 0)
		return EADDRINUSE;
	if (imo->imo_n == IP_MAX_MEMBERSHIPS)
		return ENOBUFS;
	if (in_addmulti(ifp, mr.imr_multiaddr) != 0)
		return ENOBUFS;
	imo->imo_m[imo->imo_n].im_ifindex = ifp->if_index;
	imo->imo_m[imo->imo_n].im_group = mr.imr_multiaddr;
	imo->imo_m[imo->imo_n].im_addr = mr.imr_address;
	imo->imo_n++;
	return 0;
}

static int
in_mcast_leave(struct inpcb *inp, const void *val, uint32_t len)
{
	struct rump_kernel *k = curlwp->l_kernel;
	struct ip_moptions *imo = inp->inp_moptions;
	struct ip_mreqn mr;
	struct ifnet *ifp;
	unsigned ifindex;
	int error, i;

	if ((error = in_mcast_mreq(val, len, &mr)) != 0)
		return error;
	/*
	 * As Linux's ip_mc_leave_group(): an index is taken as it is (its
	 * interface may have gone); an address names its interface, or if
	 * it has none (it went), the membership joined with it; neither
	 * names the route's interface.
	 */
	ifindex = 0;
	if (mr.imr_ifindex != 0)
		ifindex = mr.imr_ifindex > 0 ? (unsigned)mr.imr_ifindex : 0;
	else if ((ifp = in_mcast_ifp(k, &mr)) != NULL)
		ifindex = ifp->if_index;
	else if (mr.imr_address.s_addr == INADDR_ANY)
		return ENODEV;
	if (imo == NULL)
		return EADDRNOTAVAIL;
	if (ifindex != 0 || mr.imr_ifindex != 0)
		i = in_mcast_find(imo, ifindex, mr.imr_multiaddr);
	else
		for (i = (int)imo->imo_n - 1; i >= 0; i--)
			if (imo->imo_m[i].im_group.s_addr ==
			    mr.imr_multiaddr.s_addr &&
			    imo->imo_m[i].im_addr.s_addr ==
			    mr.imr_address.s_addr)
				break;
	if (i < 0)
		return EADDRNOTAVAIL;
	ifindex = imo->imo_m[i].im_ifindex;
	if ((ifp = if_byindex(k, ifindex)) != NULL)
		in_delmulti(ifp, mr.imr_multiaddr);
	imo->imo_m[i] = imo->imo_m[--imo->imo_n];
	return 0;
}

/* IP_MULTICAST_IF: an ip_mreqn, an ip_mreq or an in_addr; any: the route. */
static int
in_mcast_setif(struct inpcb *inp, const void *val, uint32_t len)
{
	struct ip_moptions *imo;
	struct ip_mreqn mr;
	struct ifnet *ifp;
	int error;

	if (len >= sizeof(struct ip_mreq)) {
		if ((error = in_mcast_mreq(val, len, &mr)) != 0)
			return error;
	} else if (val != NULL && len >= sizeof(struct in_addr)) {
		memset(&mr, 0, sizeof(mr));
		memcpy(&mr.imr_address, val, sizeof(mr.imr_address));
	} else {
		return EINVAL;
	}
	if ((imo = in_mcast_options(inp)) == NULL)
		return ENOBUFS;
	if (mr.imr_ifindex == 0 && mr.imr_address.s_addr == INADDR_ANY) {
		imo->imo_ifindex = 0;
		imo->imo_addr = mr.imr_address;
		return 0;
	}
	/* by index or by address (either is set: no route is asked) */
	if ((ifp = in_mcast_ifp(curlwp->l_kernel, &mr)) == NULL)
		return EADDRNOTAVAIL;
	imo->imo_ifindex = ifp->if_index;
	imo->imo_addr = mr.imr_address;
	return 0;
}

int
in_mcast_ctloutput(struct inpcb *inp, int set, int name, void *val,
    uint32_t *len)
{
	const struct ip_moptions *cur = inp->inp_moptions;
	bool stream = inp->inp_table->inpt_stream;
	struct ip_moptions *imo;
	int v = 0;

	if (!set) {
		struct in_addr a = { cur != NULL ? cur->imo_addr.s_addr :
		    INADDR_ANY };

		switch (name) {
		case IP_MULTICAST_IF:
			return in_optout(val, len, &a, sizeof(a));
		case IP_MULTICAST_TTL:
			v = cur != NULL ? cur->imo_ttl : IP_DEFAULT_MULTICAST_TTL;
			break;
		case IP_MULTICAST_LOOP:
			v = cur != NULL ? cur->imo_loop : IP_DEFAULT_MULTICAST_LOOP;
			break;
		case IP_MULTICAST_ALL:
			v = cur != NULL && cur->imo_all;
			break;
		default:
			return ENOPROTOOPT;	/* the memberships: set only */
		}
		return in_optout(val, len, &v, sizeof(v));
	}
	switch (name) {
	case IP_ADD_MEMBERSHIP:
	case IP_DROP_MEMBERSHIP:
		if (stream)
			return EPROTO;	/* Linux's answer for TCP */
		return name == IP_ADD_MEMBERSHIP ?
		    in_mcast_join(inp, val, *len) :
		    in_mcast_leave(inp, val, *len);
	case IP_MULTICAST_IF:
		return stream ? EINVAL : in_mcast_setif(inp, val, *len);
	default:
		break;
	}
	/* the rest take an int, or a byte (as Linux) */
	if (in_optin(val, *len, &v) != 0)
		return EINVAL;
	switch (name) {
	case IP_MULTICAST_TTL:
		if (stream)
			return EINVAL;
		if (v == -1)
			v = IP_DEFAULT_MULTICAST_TTL;
		if (v < 0 || v > MAXTTL)
			return EINVAL;
		if ((imo = in_mcast_options(inp)) == NULL)
			return ENOBUFS;
		imo->imo_ttl = (uint8_t)v;
		return 0;
	case IP_MULTICAST_LOOP:
		if ((imo = in_mcast_options(inp)) == NULL)
			return ENOBUFS;
		imo->imo_loop = v != 0;
		return 0;
	case IP_MULTICAST_ALL:
		if (v != 0 && v != 1)
			return EINVAL;
		if ((imo = in_mcast_options(inp)) == NULL)
			return ENOBUFS;
		imo->imo_all = v != 0;
		return 0;
	default:
		return ENOPROTOOPT;
	}
}

/* ---- output ---- */

/*
 * RFC 1112 6.3: a copy of our own datagram for the host's members of its
 * group, as if it came in on ifp: queued for softnet as a frame to the
 * group's MAC (a broadcast's: to the broadcast MAC, for the host's own
 * sockets, as Linux and the BSDs loop them back), marked M_LOOP (not
 * tapped, not taken for a frame of ours coming back).  The header is
 * copied; the payload is shared.
 */
void
ip_mloopback(struct netstack *ns, struct ifnet *ifp, struct mbuf *m)
{
	const struct ip *ip = mtod(m, const struct ip *);
	int hlen = IP_HL(ip) << 2;
	struct ether_header *eh;
	struct mbuf *n, *d = NULL;
	struct ip *cip;

	if ((n = m_gethdr(M_DONTWAIT, MT_DATA)) == NULL ||
	    (m->m_pkthdr.len > hlen && (d = m_copym(m, hlen, M_COPYALL,
	    M_DONTWAIT)) == NULL)) {
		m_freem(n);
		ns->ns_ipstat.ips_odropped++;
		return;
	}
	n->m_data += 2;		/* the IP header 4-byte aligned */
	n->m_len = ETHER_HDR_LEN + hlen;
	eh = mtod(n, struct ether_header *);
	if (m->m_flags & M_BCAST)
		memcpy(eh->ether_dhost, etherbroadcastaddr, ETHER_ADDR_LEN);
	else
		ether_mcast_mac(ip->ip_dst, eh->ether_dhost);
	memcpy(eh->ether_shost, ifp->if_lladdr, ETHER_ADDR_LEN);
	eh->ether_type = htons(ETHERTYPE_IP);
	cip = (struct ip *)(void *)(eh + 1);
	memcpy(cip, ip, (size_t)hlen);
	cip->ip_sum = 0;
	cip->ip_sum = in_cksum_buf(cip, (size_t)hlen);
	if (d != NULL)
		m_cat(n, d);
	n->m_pkthdr.len = ETHER_HDR_LEN + m->m_pkthdr.len;
	/* a checksum left out never left memory: "checked", as on lo0 */
	n->m_pkthdr.csum_flags = m->m_pkthdr.csum_flags & M_CSUM_UDPv4;
	n->m_flags |= M_LOOP;
	if_input_enqueue(ifp, n);
}

int
ip_mcast_output(struct mbuf *m, unsigned flags, const struct ip_moptions *imo,
    unsigned ifindex)
{
	struct rump_kernel *k = curlwp->l_kernel;
	struct netstack *ns = k->k_net;
	struct ipstat *st = &ns->ns_ipstat;
	struct ip *ip = mtod(m, struct ip *);
	struct ifnet *ifp = NULL;
	struct in_ifaddr *ia;
	struct in_addr nexthop;
	int error = 0;

	KASSERT(IN_MULTICAST(ntohl(ip->ip_dst.s_addr)));
	st->ips_localout++;
	/*
	 * Out of IP_PKTINFO's interface, IP_MULTICAST_IF's, or the source
	 * address's (as Linux), or the route's
	 */
	if (ifindex == 0 && imo != NULL)
		ifindex = imo->imo_ifindex;
	if (ifindex != 0) {
		if ((ifp = if_byindex(k, ifindex)) == NULL)
			error = ENODEV;
	} else if (ip->ip_src.s_addr != INADDR_ANY &&
	    (ia = in_ifaddr_lookup(k, ip->ip_src)) != NULL) {
		ifp = ia->ia_ifp;
	} else if (ip_route(ns, ip->ip_src, ip->ip_dst, &ifp, &nexthop) != 0) {
		error = ENETUNREACH;	/* no IP_MULTICAST_IF, no route */
	}
	if (error == 0 && ip->ip_src.s_addr == INADDR_ANY) {
		/* IP_MULTICAST_IF's address even out of another (Linux) */
		if (imo != NULL && imo->imo_addr.s_addr != INADDR_ANY)
			ip->ip_src = imo->imo_addr;
		else if ((ia = in_ifaddr_of(ifp)) != NULL)
			ip->ip_src = ia->ia_addr;
		else
			error = EADDRNOTAVAIL;
	}
	if (error != 0) {
		st->ips_noroute++;
		m_freem(m);
		return error;
	}
	if (!(flags & IP_RAWOUTPUT)) {
		/* numbered here: the looped copy and the sent one are one */
		ip->ip_id = htons(ns->ns_ip_id++);
		flags |= IP_RAWOUTPUT;
	}
	if ((imo == NULL || imo->imo_loop) && (ifp->if_flags & IFF_UP) &&
	    !(ifp->if_flags & IFF_LOOPBACK) &&
	    (ip->ip_dst.s_addr == htonl(INADDR_ALLHOSTS_GROUP) ||
	    in_multi_lookup(ifp, ip->ip_dst) != NULL)) {
		if (ip->ip_ttl == 0) {
			/* RFC 1112 6.1: TTL 0 stays in the host */
			ip_mloopback(ns, ifp, m);
			m_freem(m);
			return 0;
		}
		/* the copy when it goes (not when too large: EMSGSIZE) */
		flags |= IP_MCASTLOOP;
	}
	if (ip->ip_ttl == 0) {
		m_freem(m);
		return 0;
	}
	return ip_output_if(m, flags, ifp, ip->ip_dst);
}
