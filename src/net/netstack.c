/*
 * netstack.c -- an instance's network stack: set-up, the softnet soft
 * interrupt, the one-second slow timer.
 *
 * (if_input() ->) softint_schedule(ns_softnet) ... netstack_softnet()
 *     -> ether_input() for at most NS_SOFTNET_BATCH frames per run
 * (softclock, every second ->) netstack_slowtimo() -> arp_timer(),
 *     ip_reass_timeout() -> icmp time exceeded for expired datagrams
 */
#include "kern/kernel.h"
#include "kern/pool.h"
#include "kern/softint.h"
#include "net/if.h"
#include "net/if_ether.h"
#include "net/netstack.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_icmp.h"
#include "netinet/raw_ip_var.h"
#include "netinet/tcp_var.h"
#include "netinet/udp_var.h"
#include "sys/socketvar.h"
#include "sys/syscalls.h"

static void
netstack_softnet(void *arg)
{
	struct netstack *ns = arg;
	struct ifqueue *q = &ns->ns_inq[curcpu()->ci_index];
	struct mbuf *m;

	mutex_enter(&ns->ns_lock);
	for (int n = 0; n < NS_SOFTNET_BATCH; n++) {
		if ((m = ifq_dequeue(q)) == NULL)
			break;
		ether_input(m->m_pkthdr.rcvif, m);
	}
	mutex_exit(&ns->ns_lock);
	/* more than one batch waiting: run again, after others had a turn */
	if (q->ifq_len > 0)
		softint_schedule(ns->ns_softnet);
}

int
netstack_poll(struct netstack *ns, int flags)
{
	struct ifqueue *q = &ns->ns_inq[curcpu()->ci_index];
	struct list_node *ln;
	struct mbuf *m;
	bool blocked = false;
	int n = 0;

	KASSERT(mutex_owned(&ns->ns_lock));
	kern_clock_refresh(curcpu());	/* each round sees the time go on */
	/* the poller waits: it did not answer what it was woken for */
	if (!(flags & NS_POLL_SEND) && netstack_ackpass_pending(ns))
		netstack_ackpass_flush(ns);
	q->ifq_polled = true;
	for (ln = ns->ns_ifnets.ln_next; ln != &ns->ns_ifnets;
	    ln = ln->ln_next) {
		struct ifnet *ifp = container_of(ln, struct ifnet, if_link);

		if (ifp->if_poll != NULL && ifp->if_poll(ifp,
		    NS_SOFTNET_BATCH) < 0)
			blocked = true;
	}
	q->ifq_polled = false;
	/* what they queued (and anything queued before) goes up now */
	while (n < NS_SOFTNET_BATCH && (m = ifq_dequeue(q)) != NULL) {
		ether_input(m->m_pkthdr.rcvif, m);
		n++;
	}
	if (q->ifq_len > 0)
		softint_schedule(ns->ns_softnet);	/* the rest */
	return n == 0 && blocked ? -1 : n;
}

void
netstack_ackpass_flush(struct netstack *ns)
{
	KASSERT(mutex_owned(&ns->ns_lock));
	tcp_ackpass_flush(ns);
}

void
netstack_poll_done(struct netstack *ns)
{
	struct list_node *ln;

	for (ln = ns->ns_ifnets.ln_next; ln != &ns->ns_ifnets;
	    ln = ln->ln_next) {
		struct ifnet *ifp = container_of(ln, struct ifnet, if_link);

		if (ifp->if_poll_done != NULL)
			ifp->if_poll_done(ifp);
	}
}

/* A datagram the reassembly timer gave up on: RFC 792 time exceeded. */
static void
netstack_reass_expired(void *arg, struct mbuf *first)
{
	(void)arg;
	icmp_error(first, ICMP_TIMXCEED, ICMP_TIMXCEED_REASS, 0);
}

static void
netstack_slowtimo(void *arg)
{
	struct netstack *ns = arg;
	uint64_t now = kern_clock_ns(ns->ns_kernel) / 1000000u;

	mutex_enter(&ns->ns_lock);
	arp_timer(ns->ns_kernel, now);
	ip_reass_timeout(&ns->ns_reass, now, netstack_reass_expired, ns,
	    &ns->ns_ipstat);
	mutex_exit(&ns->ns_lock);
	callout_schedule(&ns->ns_slowtimer, NS_SLOWTIMO_TICKS);
}

/*
 * The pools of sockets and PCBs.  The sockets' hard limit is the
 * instance's socket_limit (kern.ipc.maxsockets of the BSDs); the PCBs
 * need none of their own, being bounded by the sockets and TIME-WAIT's
 * TCP_MAXTIMEWAIT.
 */
static int
netstack_pools(struct rump_kernel *k, struct netstack *ns)
{
	unsigned limit = k->k_cfg.socket_limit != 0 ? k->k_cfg.socket_limit :
	    NS_SOCKET_LIMIT;
	int error;

	if ((error = pool_cache_create(k, "socket", sizeof(struct socket), 0,
	    limit, &ns->ns_sopool)) != 0)
		return error;
	return pool_cache_create(k, "inpcb", sizeof(struct inpcb), 0, 0,
	    &ns->ns_pcbpool);
}

static void
netstack_pools_destroy(struct netstack *ns)
{
	if (ns->ns_pcbpool != NULL)
		pool_cache_destroy(ns->ns_pcbpool);
	if (ns->ns_sopool != NULL)
		pool_cache_destroy(ns->ns_sopool);
	ns->ns_pcbpool = ns->ns_sopool = NULL;
}

int
netstack_init(struct rump_kernel *k)
{
	struct netstack *ns;
	size_t qbytes = k->k_ncpu * sizeof(struct ifqueue);
	void *mem;
	int error;

	if ((error = hyper_malloc(sizeof(*ns), CACHE_LINE_SIZE, &mem)) != 0)
		return error;
	ns = mem;
	memset(ns, 0, sizeof(*ns));
	if ((error = hyper_malloc(qbytes, CACHE_LINE_SIZE, &mem)) != 0) {
		hyper_free(ns, sizeof(*ns));
		return error;
	}
	ns->ns_inq = mem;
	memset(mem, 0, qbytes);
	if ((error = netstack_pools(k, ns)) != 0) {
		netstack_pools_destroy(ns);
		hyper_free(ns->ns_inq, qbytes);
		hyper_free(ns, sizeof(*ns));
		return error;
	}
	for (unsigned i = 0; i < k->k_ncpu; i++)
		ns->ns_inq[i].ifq_maxlen = NS_INQ_MAXLEN;
	ns->ns_kernel = k;
	mutex_init(&ns->ns_lock, MUTEX_DEFAULT, IPL_SOFTNET);
	list_init(&ns->ns_ifnets);
	list_init(&ns->ns_ifaddrs);
	list_init(&ns->ns_ackpass);
	ns->ns_nextindex = 1;
	arp_init(&ns->ns_arp);
	ip_reass_init(&ns->ns_reass, 0, 0, 0);
	(void)hyper_getrandom(&ns->ns_ip_id, sizeof(ns->ns_ip_id));
	ns->ns_softnet = softint_establish(k, SOFTINT_NET | SOFTINT_MPSAFE,
	    netstack_softnet, ns);
	if (ns->ns_softnet == NULL) {
		netstack_pools_destroy(ns);
		hyper_free(ns->ns_inq, qbytes);
		hyper_free(ns, sizeof(*ns));
		return ENOMEM;
	}
	cv_init(&ns->ns_pollcv, "poll");
	if ((error = udp_init(ns)) != 0 || (error = tcp_init(ns)) != 0 ||
	    (error = rip_init(ns)) != 0 || (error = fd_init(ns)) != 0) {
		if (ns->ns_raw != NULL)
			rip_fini(ns);
		if (ns->ns_tcp != NULL) {
			mutex_enter(&ns->ns_lock);
			tcp_fini(ns);
			mutex_exit(&ns->ns_lock);
		}
		if (ns->ns_udbtable != NULL)
			udp_fini(ns);
		softint_disestablish(ns->ns_softnet);
		netstack_pools_destroy(ns);
		hyper_free(ns->ns_inq, qbytes);
		hyper_free(ns, sizeof(*ns));
		return error;
	}
	k->k_net = ns;
	callout_init_cpu(&ns->ns_slowtimer, CALLOUT_MPSAFE, &k->k_cpus[0]);
	callout_reset(&ns->ns_slowtimer, NS_SLOWTIMO_TICKS, netstack_slowtimo,
	    ns);
	igmp_init(ns);
	if ((error = loop_attach(k)) != 0) {
		netstack_fini(k);
		return error;
	}
	return 0;
}

/* Called on a vCPU; interfaces must have been detached by their drivers. */
void
netstack_fini(struct rump_kernel *k)
{
	struct netstack *ns = k->k_net;

	if (ns == NULL)
		return;
	/* drivers take their interfaces away (and stop their threads) */
	while (!list_empty(&ns->ns_ifnets)) {
		struct ifnet *ifp = container_of(list_first(&ns->ns_ifnets),
		    struct ifnet, if_link);

		ifp->if_destroy(ifp);
	}
	callout_halt(&ns->ns_slowtimer, NULL);
	callout_destroy(&ns->ns_slowtimer);
	igmp_fini(ns);
	softint_disestablish(ns->ns_softnet);
	mutex_enter(&ns->ns_lock);
	fd_fini(ns);		/* sockets still open are closed */
	tcp_fini(ns);		/* connections still closing go */
	KASSERT(list_empty(&ns->ns_ackpass));
	udp_fini(ns);
	rip_fini(ns);
	for (unsigned i = 0; i < k->k_ncpu; i++)
		ifq_purge(&ns->ns_inq[i]);
	arp_fini(&ns->ns_arp);
	ip_reass_fini(&ns->ns_reass);
	mutex_exit(&ns->ns_lock);
	netstack_pools_destroy(ns);	/* every socket and PCB is gone */
	mutex_destroy(&ns->ns_lock);
	cv_destroy(&ns->ns_pollcv);
	if (ns->ns_rss != NULL)
		hyper_free(ns->ns_rss, sizeof(*ns->ns_rss));
	hyper_free(ns->ns_inq, k->k_ncpu * sizeof(struct ifqueue));
	hyper_free(ns, sizeof(*ns));
	k->k_net = NULL;
}
