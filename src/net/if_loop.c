/*
 * if_loop.c -- the loopback interface, lo0 (NetBSD's if_loop.c).
 *
 * Every instance has one, made with the network stack, holding 127.0.0.1/8.
 * Datagrams to 127/8 and to the instance's own addresses come here: each
 * address added to another interface also gets a host route to lo0
 * (in_control_add()), so the routing table sends a datagram for ourselves
 * through lo0 instead of asking ARP who we are.  BSD and Linux deliver
 * local traffic the same way.
 *
 * send:    ip_output_if() -> ether_output() (no ARP on a loopback) ->
 *          ether_output_frame() -> if_transmit() -> loop_start() ->
 *          if_input(): queued for softnet like a received frame, so the
 *          receiving side runs later, never inside the sender's call.
 *
 * The frame keeps a zero Ethernet header, so that softnet and the packet
 * tap treat it as any other.  Like Linux's lo it takes TCP segments of up
 * to 64 KiB whole and leaves their checksums out: they never leave memory.
 */
#include "kern/kernel.h"
#include "kern/mbuf.h"
#include "net/if.h"
#include "net/if_ether.h"
#include "net/netstack.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"

#define LOMTU 16384

static void
loop_start(struct ifnet *ifp)
{
	struct mbuf *m;

	while ((m = ifq_dequeue(&ifp->if_snd)) != NULL) {
		/* a checksum left out was never at risk: "checked" now */
		m->m_pkthdr.csum_flags = ((m->m_pkthdr.csum_flags &
		    (M_CSUM_TCPv4 | M_CSUM_TSOv4)) ? M_CSUM_TCPv4 : 0) |
		    (m->m_pkthdr.csum_flags & M_CSUM_UDPv4);
		m->m_flags &= ~(M_BCAST | M_MCAST);
		if_count(ifp, IFC_OPACKETS, 1);
		if_count(ifp, IFC_OBYTES, (uint64_t)m->m_pkthdr.len);
		if_input(ifp, m);
	}
}

static void
loop_destroy(struct ifnet *ifp)
{
	struct netstack *ns = ifp->if_kernel->k_net;

	if_detach(ifp);
	if (ns->ns_loif == ifp)
		ns->ns_loif = NULL;
	hyper_free(ifp, sizeof(*ifp));
}

int
loop_attach(struct rump_kernel *k)
{
	struct netstack *ns = k->k_net;
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	struct ifnet *ifp;
	void *mem;
	int error;

	if ((error = hyper_malloc(sizeof(*ifp), CACHE_LINE_SIZE, &mem)) != 0)
		return error;
	ifp = mem;
	memset(ifp, 0, sizeof(*ifp));
	memcpy(ifp->if_xname, "lo0", 4);
	ifp->if_mtu = LOMTU;
	ifp->if_capenable = IFCAP_CSUM_TCPv4 | IFCAP_CSUM_UDPv4 | IFCAP_TSOv4;
	ifp->if_tsomax = IP_MAXPACKET;
	ifp->if_start = loop_start;
	ifp->if_destroy = loop_destroy;
	ifp->if_softc = NULL;
	if_attach(k, ifp);
	mutex_enter(&ns->ns_lock);
	ifp->if_flags = (ifp->if_flags & ~IFF_BROADCAST) | IFF_LOOPBACK;
	ns->ns_loif = ifp;
	if_up(ifp);
	error = in_control_add(ifp, lo, 8);
	mutex_exit(&ns->ns_lock);
	return error;
}
