/*
 * if_ethersubr.c -- Ethernet input demultiplexing and output.
 *
 * (softnet ->) ether_input() -> [ip_input() | arp_input()]
 * (ip_output() ->) ether_output() -> arpresolve() -> ether_output_frame()
 *     -> if_transmit()
 */
#include "kern/kernel.h"
#include "net/if.h"
#include "net/if_ether.h"
#include "net/netstack.h"
#include "netinet/if_arp.h"
#include "netinet/in_var.h"
#include "netinet/ip_var.h"

void ip_input(struct ifnet *ifp, struct mbuf *m);

void
ether_input(struct ifnet *ifp, struct mbuf *m)
{
	struct ether_header *eh;
	uint16_t type;

	/* a multicast we sent, looped back (in_mcast.c): not off the wire */
	if (!(m->m_flags & M_LOOP))
		if_tap(ifp, m);
	if (unlikely(!(ifp->if_flags & IFF_UP))) {
		if_count(ifp, IFC_IDOWN, 1);
		goto drop;
	}
	if (unlikely(m->m_pkthdr.len < ETHER_HDR_LEN)) {
		if_count(ifp, IFC_IRUNT, 1);
		goto drop;
	}
	if (m->m_len < ETHER_HDR_LEN &&
	    (m = m_pullup(m, ETHER_HDR_LEN)) == NULL) {
		if_count(ifp, IFC_IQDROPS, 1);
		return;
	}
	eh = mtod(m, struct ether_header *);
	if (ether_is_multicast(eh->ether_dhost)) {
		m->m_flags |= memcmp(eh->ether_dhost, etherbroadcastaddr, 6) ==
		    0 ? M_BCAST : M_MCAST;
		if_count(ifp, IFC_IMCASTS, 1);
	} else if (memcmp(eh->ether_dhost, ifp->if_lladdr, 6) != 0 &&
	    !(ifp->if_flags & IFF_PROMISC)) {
		if_count(ifp, IFC_INOTUS, 1);
		goto drop;
	}
	if (unlikely(memcmp(eh->ether_shost, ifp->if_lladdr, 6) == 0) &&
	    !(ifp->if_flags & IFF_LOOPBACK) && !(m->m_flags & M_LOOP)) {
		/* our own frame came back (a loop, or a spoof) */
		if_count(ifp, IFC_ILOOP, 1);
		goto drop;
	}
	if_count(ifp, IFC_IPACKETS, 1);
	if_count(ifp, IFC_IBYTES, (uint64_t)m->m_pkthdr.len);
	type = ntohs(eh->ether_type);
	m_adj(m, ETHER_HDR_LEN);
	switch (type) {
	case ETHERTYPE_IP:
		ip_input(ifp, m);
		return;
	case ETHERTYPE_ARP:
		arp_input(ifp, m);
		return;
	default:
		if_count(ifp, IFC_NOPROTO, 1);
		goto drop;
	}
drop:
	m_freem(m);
}

int
ether_output_frame(struct ifnet *ifp, struct mbuf *m, const uint8_t *dst,
    uint16_t type)
{
	struct ether_header *eh;

	if ((m = m_prepend_fast(m, ETHER_HDR_LEN, M_DONTWAIT)) == NULL) {
		if_count(ifp, IFC_OQDROPS, 1);
		return ENOBUFS;
	}
	eh = mtod(m, struct ether_header *);
	memcpy(eh->ether_dhost, dst, 6);
	memcpy(eh->ether_shost, ifp->if_lladdr, 6);
	eh->ether_type = htons(type);
	if (ether_is_multicast(dst))
		if_count(ifp, IFC_OMCASTS, 1);
	return if_transmit(ifp, m);
}

int
ether_output(struct ifnet *ifp, struct mbuf *m, struct in_addr nexthop)
{
	uint8_t mac[6];
	int error;

	if (ifp->if_flags & IFF_LOOPBACK) {
		/* lo0: no neighbours to resolve (if_loop.c) */
		return ether_output_frame(ifp, m, ifp->if_lladdr,
		    ETHERTYPE_IP);
	}
	if (nexthop.s_addr == htonl(INADDR_BROADCAST) ||
	    in_broadcast(nexthop, ifp) || (m->m_flags & M_BCAST)) {
		memcpy(mac, etherbroadcastaddr, 6);
	} else if (IN_MULTICAST(ntohl(nexthop.s_addr))) {
		ether_mcast_mac(nexthop, mac);
	} else if ((error = arpresolve(ifp, nexthop, m, mac)) != 0) {
		/* held while resolving (EWOULDBLOCK) or dropped and counted */
		return error == EWOULDBLOCK ? 0 : error;
	}
	return ether_output_frame(ifp, m, mac, ETHERTYPE_IP);
}
