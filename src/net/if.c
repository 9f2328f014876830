/*
 * if.c -- interfaces: attach/detach, up/down, queues, input hand-off to
 * softnet, transmit, capture tap.
 *
 * driver interrupt LWP: if_input() -> [if_impair_input()]
 *     -> if_input_enqueue(): per-vCPU ns_inq -> softint_schedule()
 * softnet: netstack_softnet() (netstack.c) -> ether_input()
 * protocols: ip_output() -> ether_output() -> if_transmit()
 *     -> [if_impair_output()] -> if_handoff() -> if_start()
 */
#include "kern/kernel.h"
#include "kern/softint.h"
#include "net/if.h"
#include "net/if_ether.h"
#include "net/if_impair.h"
#include "net/netstack.h"
#include "netinet/if_arp.h"
#include "netinet/igmp_var.h"
#include "netinet/in_var.h"

bool
ifq_enqueue(struct ifqueue *q, struct mbuf *m)
{
	if (q->ifq_len >= q->ifq_maxlen)
		return false;
	m->m_nextpkt = NULL;
	if (q->ifq_tail != NULL)
		q->ifq_tail->m_nextpkt = m;
	else
		q->ifq_head = m;
	q->ifq_tail = m;
	q->ifq_len++;
	return true;
}

struct mbuf *
ifq_dequeue(struct ifqueue *q)
{
	struct mbuf *m = q->ifq_head;

	if (m == NULL)
		return NULL;
	q->ifq_head = m->m_nextpkt;
	if (q->ifq_head == NULL)
		q->ifq_tail = NULL;
	m->m_nextpkt = NULL;
	q->ifq_len--;
	return m;
}

void
ifq_purge(struct ifqueue *q)
{
	struct mbuf *m;

	while ((m = ifq_dequeue(q)) != NULL)
		m_freem(m);
}

void
if_attach(struct rump_kernel *k, struct ifnet *ifp)
{
	struct netstack *ns = k->k_net;

	mutex_enter(&ns->ns_lock);
	ifp->if_kernel = k;
	ifp->if_index = ns->ns_nextindex++;
	ifp->if_flags &= ~(IFF_UP | IFF_RUNNING);
	ifp->if_flags |= IFF_BROADCAST | IFF_MULTICAST;
	if (ifp->if_mtu == 0)
		ifp->if_mtu = ETHERMTU;
	if (ifp->if_snd.ifq_maxlen == 0)
		ifp->if_snd.ifq_maxlen = 512;
	list_init(&ifp->if_addrlist);
	list_init(&ifp->if_multiaddrs);
	list_insert_tail(&ns->ns_ifnets, &ifp->if_link);
	if (ifp->if_ackpass)
		ns->ns_ackpass_ifs++;
	mutex_exit(&ns->ns_lock);
}

void
if_detach(struct ifnet *ifp)
{
	struct rump_kernel *k = ifp->if_kernel;
	struct netstack *ns = k->k_net;

	if_impair_detach(ifp);		/* frames it holds are freed */
	mutex_enter(&ns->ns_lock);
	ifp->if_flags &= ~(IFF_UP | IFF_RUNNING);
	in_purgeaddrs(ifp);
	in_purgemulti(ifp);
	rt_delete_ifp(&ns->ns_rt, ifp);
	arp_purge_ifp(k, ifp);
	/* held fragments would keep a pointer to it (rcvif) */
	ip_reass_purge_ifp(&ns->ns_reass, ifp, &ns->ns_ipstat);
	ifq_purge(&ifp->if_snd);
	/* frames of ifp still waiting for softnet are dropped there */
	for (unsigned i = 0; i < k->k_ncpu; i++) {
		struct ifqueue *q = &ns->ns_inq[i];
		struct ifqueue keep = { .ifq_maxlen = q->ifq_maxlen };
		struct mbuf *m;

		while ((m = ifq_dequeue(q)) != NULL) {
			if (m->m_pkthdr.rcvif == ifp)
				m_freem(m);
			else
				ifq_enqueue(&keep, m);
		}
		*q = keep;
	}
	list_remove(&ifp->if_link);
	/* the last loop that flushes them goes: what it held goes now */
	if (ifp->if_ackpass && --ns->ns_ackpass_ifs == 0)
		netstack_ackpass_flush(ns);
	mutex_exit(&ns->ns_lock);
}

void
if_up(struct ifnet *ifp)
{
	struct list_node *ln;

	KASSERT(mutex_owned(&ifp->if_kernel->k_net->ns_lock));
	ifp->if_flags |= IFF_UP | IFF_RUNNING;
	/* announce the addresses it already had (RFC 5227 3) */
	for (ln = ifp->if_addrlist.ln_next; ln != &ifp->if_addrlist;
	    ln = ln->ln_next)
		arp_announce(ifp, container_of(ln, struct in_ifaddr,
		    ia_iflink)->ia_addr);
	igmp_ifup(ifp);		/* and its groups (RFC 2236 3) */
}

void
if_down(struct ifnet *ifp)
{
	KASSERT(mutex_owned(&ifp->if_kernel->k_net->ns_lock));
	ifp->if_flags &= ~(IFF_UP | IFF_RUNNING);
	ifq_purge(&ifp->if_snd);
}

struct ifnet *
if_byindex(struct rump_kernel *k, unsigned index)
{
	struct netstack *ns = k->k_net;
	struct list_node *ln;

	for (ln = ns->ns_ifnets.ln_next; ln != &ns->ns_ifnets; ln = ln->ln_next) {
		struct ifnet *ifp = container_of(ln, struct ifnet, if_link);

		if (ifp->if_index == index)
			return ifp;
	}
	return NULL;
}

struct ifnet *
if_byname(struct rump_kernel *k, const char *name)
{
	struct netstack *ns = k->k_net;
	struct list_node *ln;

	for (ln = ns->ns_ifnets.ln_next; ln != &ns->ns_ifnets; ln = ln->ln_next) {
		struct ifnet *ifp = container_of(ln, struct ifnet, if_link);
		size_t i;

		for (i = 0; i < IFNAMSIZ && name[i] != '\0' &&
		    name[i] == ifp->if_xname[i]; i++)
			;
		if (i < IFNAMSIZ && name[i] == '\0' && ifp->if_xname[i] == '\0')
			return ifp;
	}
	return NULL;
}

void
if_input(struct ifnet *ifp, struct mbuf *m)
{
	if (unlikely(__atomic_load_n(&ifp->if_impair, __ATOMIC_ACQUIRE) !=
	    NULL) && if_impair_input(ifp, m))
		return;
	if_input_enqueue(ifp, m);
}

void
if_input_enqueue(struct ifnet *ifp, struct mbuf *m)
{
	struct cpu_info *ci = curcpu();
	struct netstack *ns = ifp->if_kernel->k_net;
	struct ifqueue *q = &ns->ns_inq[ci->ci_index];

	m->m_pkthdr.rcvif = ifp;
	if (unlikely(!ifq_enqueue(q, m))) {
		if_count(ifp, IFC_IQDROPS, 1);
		m_freem(m);
		return;
	}
	/* a busy poller (netstack_poll()) runs the queue itself */
	if (!q->ifq_polled)
		softint_schedule(ns->ns_softnet);
}

int
if_transmit(struct ifnet *ifp, struct mbuf *m)
{
	int error;

	if (unlikely(ifp->if_impair != NULL) && (ifp->if_flags & IFF_UP) &&
	    if_impair_output(ifp, m, &error))
		return error;
	return if_handoff(ifp, m);
}

int
if_handoff(struct ifnet *ifp, struct mbuf *m)
{
	/* down, or its link is (IFF_RUNNING off), as BSD's ether_output */
	if (unlikely((ifp->if_flags & (IFF_UP | IFF_RUNNING)) !=
	    (IFF_UP | IFF_RUNNING))) {
		if_count(ifp, IFC_ODOWN, 1);
		m_freem(m);
		return ENETDOWN;
	}
	if (unlikely(!ifq_enqueue(&ifp->if_snd, m))) {
		if_count(ifp, IFC_OQDROPS, 1);
		m_freem(m);
		return ENOBUFS;
	}
	ifp->if_start(ifp);
	return 0;
}

void
if_tap(struct ifnet *ifp, const struct mbuf *m)
{
	struct hyper_iovec iov[16];
	unsigned origlen;
	uint64_t now;
	int n = 0;

	if (ifp->if_pcap == NULL)
		return;
	origlen = (m->m_flags & M_PKTHDR) ? (unsigned)m->m_pkthdr.len : 0;
	for (; m != NULL && n < (int)__arraycount(iov); m = m->m_next) {
		if (m->m_len == 0)
			continue;
		iov[n].iov_base = m->m_data;
		iov[n].iov_len = (size_t)m->m_len;
		n++;
	}
	hyper_clock_gettime(HYPER_CLOCK_WALL, &now);
	(void)hyper_pcap_write(ifp->if_pcap, now, iov, n, origlen);
}
