/*
 * if_dpdk.c -- the kernel half of the DPDK driver (public interface:
 * include/rumpnet/dpdk.h; host half: dpdk_host.c behind dpdk_host.h).
 *
 * Each attachment is an ifnet ("dpdk0", ...) for one RX/TX queue pair and
 * a poll loop: a hardware interrupt LWP bound to vCPU 0 of its instance.
 *
 * poll loop: dpdk_loop()                      holding vCPU 0
 *              hardclock()                    callouts: no clock thread
 *              dpdk_reap()                    frames the PMD sent: free
 *              dpdk_rx() -> dpdk_host_rx()    a burst, wrapped in mbufs
 *                        -> if_input()        queued for softnet
 *              netstack_ackpass_flush()       TCP ACKs held since the
 *                                             last pass (ack_now off)
 *              softint_run_inline()           softnet, TCP, ... (inline
 *                                             mode); their output is
 *                                             staged (dpdk_start())
 *              dpdk_flush()                   one burst out
 *            release the vCPU; no frame: yield the host CPU (an
 *            application thread pinned to it runs), and after
 *            idle_spin_us of that sleep idle_sleep_us (at most a tick);
 *            RUMP_DPDK_IDLE_BUSY: spin
 *
 * fiber mode (rump_dpdk_config.fiber): the loop is a fiber of the thread
 * that attached; after each pass it yields to that thread's runnable
 * fibers (the application's, woken by the softints) with sc_batching
 * still on, so what they send is staged and leaves in one burst when the
 * loop comes back; idle, it waits for a wake-up from another host thread
 * (hyper_fiber_wait()) instead of sleeping.
 *
 * send:    ether_output() -> if_transmit() -> dpdk_start(): frames staged
 *          while the poll loop runs softints (sent as one burst when they
 *          are done), sent at once from any other context
 *          -> dpdk_flush() -> dpdk_host_tx(): the mbufs' data attached
 *          (zero copy) or copied.
 *
 * Busy polling (if_poll, SO_BUSY_POLL): an application LWP holding the
 * vCPU takes bursts itself, reaps and ticks the callouts; while it keeps
 * coming back (within DPDK_POLL_GRACE_NS) the loop leaves the queue and
 * the vCPU to it and only sleeps (but for the port's counters once a
 * second), so poller and loop do not both spin on one queue.
 */
#include "kern/kernel.h"
#include "kern/kthread.h"
#include "kern/mbuf.h"
#include "kern/softint.h"
#include "net/if.h"
#include "net/if_ether.h"
#include "net/netstack.h"
#include "netinet/in_cksum.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/tcp.h"
#include "rumpnet/dpdk.h"
#include "rumpnet/net.h"

#include "dpdk_host.h"

#define DPDK_POLL_GRACE_NS 5000000ull	/* a busy poller comes back within */
#define DPDK_STATS_NS 1000000000ull	/* port counters merged every second */
#define DPDK_CLOSE_MS 2000		/* wait for frames the PMD holds */
/*
 * Fiber mode, spinning with nothing to do: give the host CPU away at most
 * this often, and only when nothing has come for as long (a sched_yield()
 * is a system call: on every pass it took a third of the time of rr, with
 * each instance alone on its core; once in 16 passes, with passes made
 * short, still 2 us of rr's median 6.5; every 50 us between rr's
 * messages, a tenth of its rate and p99 up from 4 to 5-13 us)
 */
#define DPDK_FIBER_YIELD_NS 50000ull

struct dpdk_softc {
	struct ifnet sc_if;
	struct dpdk_queue *sc_q;		/* [I] */
	struct dpdk_port_info sc_info;		/* [I] */
	struct lwp *sc_lwp;			/* [I] the poll loop */
	struct hyper_fiber *sc_fiber;		/* [I] fiber mode: its fiber */
	struct rump_dpdk_config sc_cfg;		/* [I] */
	bool sc_exiting;			/* [C] */
	/* frames staged by dpdk_start() while sc_batching */
	bool sc_batching;			/* [N] */
	struct mbuf *sc_txm[DPDK_BURST];	/* [N] */
	unsigned sc_ntx;			/* [N] */
	/*
	 * dpdk_flush()'s burst, here rather than on its stack (33 KiB): it
	 * runs on application fibers' stacks too
	 */
	struct dpdk_txframe sc_txfr[DPDK_BURST];		/* [N] */
	struct dpdk_txseg sc_txsegs[DPDK_BURST][DPDK_TX_MAXSEGS]; /* [N] */
	/* busy polling */
	_Atomic uint64_t sc_polled_ns;		/* last if_poll, 0: none */
	_Atomic bool sc_rxbusy;			/* someone is in dpdk_rx() */
	/* the loop waits out an active poller (dpdk_wait_poller()) */
	struct hyper_mtx *sc_pollmtx;
	struct hyper_cv *sc_pollcv;
	_Atomic bool sc_loopwait;		/* [sc_pollmtx] it waits */
	/* port counters already merged into if_counters */
	struct rump_dpdk_stats sc_merged;	/* [C] */
	uint64_t sc_stats_ns;			/* [C] */
	uint64_t sc_gathered;			/* [N] dpdk_compact() calls */
	uint64_t sc_yield_ns;			/* [C] fiber mode: last yield */
};

/*
 * The groups of the interface changed (in_addmulti(), in_delmulti()):
 * the port receives their MACs and 224.0.0.1's (RFC 1112 6.4), and the
 * host half makes that its filter (dpdk_host_mcast()).
 */
static void
dpdk_mcast(struct ifnet *ifp)
{
	struct dpdk_softc *sc = ifp->if_softc;
	struct in_addr allhosts = { htonl(INADDR_ALLHOSTS_GROUP) };
	uint8_t macs[DPDK_MC_MAX][6];
	struct list_node *ln;
	unsigned n = 1;

	ether_mcast_mac(allhosts, macs[0]);
	for (ln = ifp->if_multiaddrs.ln_next; ln != &ifp->if_multiaddrs;
	    ln = ln->ln_next) {
		uint8_t mac[6];
		unsigned i;

		ether_mcast_mac(container_of(ln, struct in_multi,
		    inm_link)->inm_addr, mac);
		for (i = 0; i < n; i++)
			if (memcmp(macs[i], mac, 6) == 0)
				break;
		if (i < n)
			continue;	/* two groups, one MAC (23 bits) */
		if (n == DPDK_MC_MAX) {
			n = DPDK_MC_MAX + 1;	/* too many: all of them */
			break;
		}
		memcpy(macs[n++], mac, 6);
	}
	dpdk_host_mcast(sc->sc_q, (const uint8_t (*)[6])macs, n);
}

static uint64_t
dpdk_now(void)
{
	uint64_t now;

	hyper_clock_gettime(HYPER_CLOCK_MONO, &now);
	return now;
}

/*
 * dpdk_now() from the instance's clock on the vCPU the caller holds, which
 * hardclock() has just read: one host clock read a pass, not two (each
 * pass of a busy poller or of the loop made both).
 */
static uint64_t
dpdk_now_held(struct dpdk_softc *sc)
{
	struct rump_kernel *k = sc->sc_if.if_kernel;

	return k->k_vclock ? dpdk_now() : kern_clock_ns(k) + k->k_boot_ns;
}

/*
 * Is now past the grace of a busy poll at polled?  Signed: a poller on
 * another vCPU may have stamped a time later than the caller's now.
 */
static bool
dpdk_after(uint64_t now, uint64_t polled)
{
	return (int64_t)(now - polled) > (int64_t)DPDK_POLL_GRACE_NS;
}

/* ---- receive ---- */

static void
dpdk_rxfree(void *buf, size_t size, void *arg)
{
	(void)buf;
	(void)size;
	dpdk_host_rx_free(arg);
}

/*
 * A received frame as a kernel mbuf chain: small frames and frames whose
 * data is not the port's (DPDK_RX_COPY) copied, the rest wrapped segment
 * by segment as external storage.  Every host segment is given back or
 * owned by an mbuf either way.  NULL (counted by the caller) when out of
 * mbufs.
 */
static struct mbuf *
dpdk_wrap(const struct dpdk_rxframe *f)
{
	bool copy = f->pktlen <= (unsigned)MHLEN || (f->flags & DPDK_RX_COPY);
	void *cookie = f->cookie, *data = f->data, *next, *ndata = NULL;
	unsigned len = f->len, nlen = 0;
	struct mbuf *m, *tail;

	if ((m = tail = m_gethdr(M_DONTWAIT, MT_DATA)) != NULL) {
		m->m_len = 0;
		m->m_pkthdr.len = 0;
	}
	for (; cookie != NULL; cookie = next, data = ndata, len = nlen) {
		next = dpdk_host_rx_next(cookie, &ndata, &nlen);
		if (m == NULL) {
			dpdk_host_rx_free(cookie);
			continue;
		}
		if (copy) {
			if (!m_append_bulk(m, (int)len, data)) {
				m_freem(m);
				m = NULL;
			}
			dpdk_host_rx_free(cookie);
			continue;
		}
		if (tail->m_flags & M_EXT) {
			if ((tail->m_next = m_get(M_DONTWAIT, MT_DATA)) ==
			    NULL) {
				m_freem(m);
				m = NULL;
				dpdk_host_rx_free(cookie);
				continue;
			}
			tail = tail->m_next;
		}
		if (m_extadd(tail, data, len, dpdk_rxfree, cookie) != 0) {
			m_freem(m);
			m = NULL;
			dpdk_host_rx_free(cookie);
			continue;
		}
		tail->m_len = (int)len;
		m->m_pkthdr.len += (int)len;
	}
	return m;
}

/*
 * The port checked "the L4 checksum" of frame m: whose, TCP's or UDP's
 * (the flag a forwarded packet keeps for its way out).  Anything else is
 * left to the stack.
 */
static int
dpdk_l4_checked(const struct mbuf *m)
{
	const uint8_t *f = mtod(m, const uint8_t *);

	if (m->m_len < ETHER_HDR_LEN + IP_MINHLEN || f[12] != 0x08 ||
	    f[13] != 0x00)
		return 0;
	if (f[ETHER_HDR_LEN + 9] == IPPROTO_TCP)
		return M_CSUM_TCPv4;
	if (f[ETHER_HDR_LEN + 9] == IPPROTO_UDP)
		return M_CSUM_UDPv4;
	return 0;
}

static void dpdk_reap(struct dpdk_softc *);

/*
 * Free what the PMD is done with, then take a burst from the queue and
 * hand it up; the caller holds the vCPU.  Returns the frames received,
 * or -1 when another LWP is in here right now.  The reaping is in here
 * too, so that a poller on another vCPU and the loop never reap at once
 * (the reap list's consumer side is single-threaded).
 */
static int
dpdk_rx(struct dpdk_softc *sc)
{
	struct dpdk_rxframe fr[DPDK_BURST];
	struct ifnet *ifp = &sc->sc_if;
	bool expect = false;
	unsigned n;

	if (!atomic_compare_exchange_strong(&sc->sc_rxbusy, &expect, true))
		return -1;
	dpdk_reap(sc);
	n = dpdk_host_rx(sc->sc_q, fr, DPDK_BURST);
	for (unsigned i = 0; i < n; i++) {
		struct mbuf *m = dpdk_wrap(&fr[i]);

		if (m == NULL) {
			if_count(ifp, IFC_IQDROPS, 1);
			continue;
		}
		if (fr[i].flags & DPDK_RX_L4_OK)
			m->m_pkthdr.csum_flags = dpdk_l4_checked(m);
		else if (fr[i].flags & DPDK_RX_L4_BAD)
			m->m_pkthdr.csum_flags = M_CSUM_TCP_UDP_BAD;
		if_input(ifp, m);
	}
	atomic_store(&sc->sc_rxbusy, false);
	return (int)n;
}

/* ---- transmit ---- */

static void
dpdk_reap_one(void *token, void *arg)
{
	(void)arg;
	m_freem(token);
}

/*
 * Free the frames the PMD is done with; the caller holds a vCPU and is
 * the queue's only reaper (dpdk_rx(), or the destructor).
 */
static void
dpdk_reap(struct dpdk_softc *sc)
{
	void *tok[DPDK_BURST];
	unsigned n;

	while ((n = dpdk_host_tx_reap(sc->sc_q, tok, DPDK_BURST)) > 0)
		for (unsigned i = 0; i < n; i++)
			m_freem(tok[i]);
}

/*
 * The offload description of frame m for the host: headers contiguous in
 * the first mbuf when the port is to fill in a checksum or segment.
 * Returns the (possibly new) chain, NULL when it was freed.
 */
static struct mbuf *
dpdk_tx_prepare(struct mbuf *m, struct dpdk_txframe *f)
{
	int flags = m->m_pkthdr.csum_flags;
	struct ip *ip;
	struct tcphdr *th;
	int hlen;

	f->flags = 0;
	if (!(flags & (M_CSUM_TCPv4 | M_CSUM_TSOv4)))
		return m;
	if ((m = m_pullup(m, ETHER_HDR_LEN + (int)sizeof(struct ip))) == NULL)
		return NULL;
	ip = (struct ip *)(void *)(mtod(m, char *) + ETHER_HDR_LEN);
	hlen = IP_HL(ip) << 2;
	if ((m = m_pullup(m, ETHER_HDR_LEN + hlen +
	    (int)sizeof(struct tcphdr))) == NULL)
		return NULL;
	th = (struct tcphdr *)(void *)(mtod(m, char *) + ETHER_HDR_LEN +
	    hlen);
	if ((m = m_pullup(m, ETHER_HDR_LEN + hlen + (TH_OFF(th) << 2))) ==
	    NULL)
		return NULL;
	th = (struct tcphdr *)(void *)(mtod(m, char *) + ETHER_HDR_LEN +
	    hlen);
	f->l3len = (unsigned)hlen;
	f->l4len = (unsigned)(TH_OFF(th) << 2);
	f->flags = DPDK_TX_CSUM_TCP;
	if (flags & M_CSUM_TSOv4) {
		f->flags |= DPDK_TX_TSO;
		f->tso_segsz = m->m_pkthdr.segsz;
	}
	return m;
}

/*
 * A frame of more pieces than one zero-copy send takes (a 64 KiB TSO
 * frame of small mbufs has 356), copied into clusters (at most 33).
 * Frees m; NULL when out of mbufs.
 */
static struct mbuf *
dpdk_compact(struct mbuf *m)
{
	int len = m->m_pkthdr.len, off = 0;
	struct mbuf *n = NULL, *tail = NULL;

	/* clusters filled whole: not m_append(), which adds small mbufs */
	while (off < len) {
		struct mbuf *c = m_getcl(M_DONTWAIT, MT_DATA,
		    n == NULL ? M_PKTHDR : 0);

		if (c == NULL) {
			m_freem(n);
			n = NULL;
			break;
		}
		c->m_len = MIN(len - off, MCLBYTES);
		m_copydata(m, off, c->m_len, mtod(c, void *));
		off += c->m_len;
		if (n == NULL) {
			n = c;
			n->m_pkthdr = m->m_pkthdr;
		} else
			tail->m_next = c;
		tail = c;
	}
	m_freem(m);
	return n;
}

/* Send the staged frames as one burst.  Net lock held. */
static void
dpdk_flush(struct dpdk_softc *sc)
{
	struct dpdk_txframe *fr = sc->sc_txfr;
	struct dpdk_txseg (*segs)[DPDK_TX_MAXSEGS] = sc->sc_txsegs;
	struct ifnet *ifp = &sc->sc_if;
	unsigned n = 0;

	if (sc->sc_ntx == 0)
		return;
	for (unsigned i = 0; i < sc->sc_ntx; i++) {
		struct mbuf *m = sc->sc_txm[i], *s;
		struct dpdk_txframe *f = &fr[n];
		unsigned ns = 0;

		if ((m = dpdk_tx_prepare(m, f)) == NULL) {
			if_count(ifp, IFC_OERRORS, 1);
			continue;
		}
		for (s = m; s != NULL; s = s->m_next)
			if (s->m_len > 0)
				ns++;
		if (ns > DPDK_TX_MAXSEGS && (sc->sc_gathered++,
		    (m = dpdk_compact(m)) == NULL)) {
			if_count(ifp, IFC_OERRORS, 1);
			continue;
		}
		ns = 0;
		for (s = m; s != NULL && ns < DPDK_TX_MAXSEGS; s = s->m_next)
			if (s->m_len > 0) {
				segs[n][ns].data = s->m_data;
				segs[n][ns].len = (unsigned)s->m_len;
				ns++;
			}
		f->segs = segs[n];
		f->nsegs = ns;
		f->pktlen = (unsigned)m->m_pkthdr.len;
		f->token = m;
		n++;
	}
	sc->sc_ntx = 0;
	(void)dpdk_host_tx(sc->sc_q, fr, n);
	for (unsigned i = 0; i < n; i++) {
		struct mbuf *m = fr[i].token;

		if (fr[i].sent) {
			if_count(ifp, IFC_OPACKETS, 1);
			if_count(ifp, IFC_OBYTES, fr[i].pktlen);
		}
		if (!fr[i].held)
			m_freem(m);
	}
	/* frames not sent: the host's tx_dropped, merged as oqdrops */
}

/* ifnet if_start: net lock held. */
static void
dpdk_start(struct ifnet *ifp)
{
	struct dpdk_softc *sc = ifp->if_softc;
	struct mbuf *m;

	while ((m = ifq_dequeue(&ifp->if_snd)) != NULL) {
		/* a capture shows the checksum the wire will carry */
		if (ifp->if_pcap != NULL) {
			/* a TSO frame is captured whole, as Linux shows it */
			if (m->m_pkthdr.csum_flags & M_CSUM_TCPv4)
				in_delayed_cksum_at(m, ETHER_HDR_LEN);
			if_tap(ifp, m);
		}
		sc->sc_txm[sc->sc_ntx++] = m;
		if (sc->sc_ntx == DPDK_BURST)
			dpdk_flush(sc);
	}
	if (!sc->sc_batching ||
	    (curlwp != sc->sc_lwp && !hyper_fiber_mine(sc->sc_fiber)))
		dpdk_flush(sc);
}

/* ---- busy polling ---- */

static int
dpdk_poll(struct ifnet *ifp, int budget)
{
	struct dpdk_softc *sc = ifp->if_softc;

	(void)budget;		/* a burst is DPDK_BURST, below any budget */
	/*
	 * what a fiber staged while the loop batches (dpdk_start()) goes
	 * now: the poller waits for the answer to it (net lock held)
	 */
	if (sc->sc_ntx != 0)
		dpdk_flush(sc);
	dpdk_host_thread_register();
	hardclock();		/* the loop stays off the vCPU meanwhile */
	atomic_store_explicit(&sc->sc_polled_ns, dpdk_now_held(sc),
	    memory_order_relaxed);
	return dpdk_rx(sc);
}

/* Wake the loop from dpdk_wait_poller(): it looks again at once. */
static void
dpdk_wake_loop(struct dpdk_softc *sc)
{
	hyper_mutex_enter(sc->sc_pollmtx);
	hyper_cv_signal(sc->sc_pollcv);
	hyper_mutex_exit(sc->sc_pollmtx);
}

/*
 * The poller gives up (it is about to sleep): the loop takes the queue
 * back at once.  Stores and loads of sc_polled_ns and sc_loopwait are
 * sequentially consistent, so either the loop sees 0 before it waits or
 * this sees it waiting and wakes it.
 */
static void
dpdk_poll_done(struct ifnet *ifp)
{
	struct dpdk_softc *sc = ifp->if_softc;

	atomic_store(&sc->sc_polled_ns, 0);
	if (atomic_load(&sc->sc_loopwait))
		dpdk_wake_loop(sc);
}

/* ---- the poll loop ---- */

/*
 * A busy poller has the queue and ticks the callouts (dpdk_poll()): the
 * loop, off the vCPU, sleeps until the poller gives up (dpdk_poll_done()),
 * stays away DPDK_POLL_GRACE_NS, or the port's counters are due (once a
 * second), so that it does not wake on the poller's core meanwhile.
 */
static void
dpdk_wait_poller(struct dpdk_softc *sc)
{
	hyper_mutex_enter(sc->sc_pollmtx);
	atomic_store(&sc->sc_loopwait, true);
	while (!sc->sc_exiting) {
		uint64_t polled = atomic_load(&sc->sc_polled_ns);
		uint64_t now = dpdk_now(), until;

		if (polled == 0 || dpdk_after(now, polled) ||
		    now - sc->sc_stats_ns >= DPDK_STATS_NS)
			break;
		until = MIN(polled + DPDK_POLL_GRACE_NS,
		    sc->sc_stats_ns + DPDK_STATS_NS);
		(void)hyper_cv_timedwait(sc->sc_pollcv, sc->sc_pollmtx,
		    until - now + 1);
	}
	atomic_store(&sc->sc_loopwait, false);
	hyper_mutex_exit(sc->sc_pollmtx);
}

/*
 * The port's link state into IFF_RUNNING of an interface that is up:
 * while the link is down, output fails with ENETDOWN (counted odown)
 * instead of handing frames to a port that drops them.
 */
static void
dpdk_link(struct dpdk_softc *sc, bool up)
{
	struct ifnet *ifp = &sc->sc_if;
	struct netstack *ns = ifp->if_kernel->k_net;
	bool running;

	mutex_enter(&ns->ns_lock);
	running = (ifp->if_flags & IFF_RUNNING) != 0;
	if ((ifp->if_flags & IFF_UP) && up != running) {
		if (up)
			ifp->if_flags |= IFF_RUNNING;
		else {
			ifp->if_flags &= ~IFF_RUNNING;
			if_count(ifp, IFC_LINKDOWN, 1);
		}
	}
	mutex_exit(&ns->ns_lock);
}

/*
 * Add what the port counted since last time to the interface's counters
 * (sc_merged starts as the counts at the attachment: a port's history,
 * a previous attachment's, is not this interface's).  The port's own
 * error counters are port-wide: they go to the interface of queue 0
 * only, not once for every instance that shares the port.
 */
static void
dpdk_merge_stats(struct dpdk_softc *sc)
{
	struct rump_dpdk_stats st, *old = &sc->sc_merged;
	struct ifnet *ifp = &sc->sc_if;

	dpdk_host_stats(sc->sc_q, &st);
	dpdk_link(sc, st.link_up);
	if (sc->sc_cfg.queue == 0) {
		if_count(ifp, IFC_IERRORS, st.ierrors - old->ierrors);
		if_count(ifp, IFC_IQDROPS, (st.imissed - old->imissed) +
		    (st.rx_nombuf - old->rx_nombuf));
		if_count(ifp, IFC_OERRORS, st.oerrors - old->oerrors);
	}
	/* frames the host half could not send: no rte_mbuf, PMD full */
	if_count(ifp, IFC_OQDROPS, st.tx_dropped - old->tx_dropped);
	*old = st;
}

/*
 * Fiber mode, end of a pass (holding the vCPU): let the thread's runnable
 * fibers run with transmits staged, then send what they staged.
 */
static void
dpdk_loop_fibers(struct dpdk_softc *sc, int n, uint64_t now, uint64_t last_rx)
{
	struct lwp *l = sc->sc_lwp;
	struct netstack *ns = sc->sc_if.if_kernel->k_net;
	uint64_t spin_ns = (uint64_t)sc->sc_cfg.idle_spin_us * 1000;

	mutex_enter(&ns->ns_lock);
	sc->sc_batching = true;
	mutex_exit(&ns->ns_lock);
	sched_release_softints(l);
	if (hyper_fiber_runnable())
		hyper_fiber_yield();
	else if (n == 0 && sc->sc_cfg.idle != RUMP_DPDK_IDLE_BUSY &&
	    now - last_rx > spin_ns)
		(void)hyper_fiber_wait((uint64_t)sc->sc_cfg.idle_sleep_us *
		    1000);
	else if (n == 0 && sc->sc_cfg.idle != RUMP_DPDK_IDLE_BUSY &&
	    now - last_rx >= DPDK_FIBER_YIELD_NS &&
	    now - sc->sc_yield_ns >= DPDK_FIBER_YIELD_NS) {
		sc->sc_yield_ns = now;
		hyper_thread_yield();	/* another thread on this CPU runs */
	}
	else if (n == 0)
		spin_pause();
	curlwp_set(l);
	sched_acquire(l);
	mutex_enter(&ns->ns_lock);
	sc->sc_batching = false;
	dpdk_flush(sc);
	mutex_exit(&ns->ns_lock);
}

static void
dpdk_loop(void *arg)
{
	struct dpdk_softc *sc = arg;
	struct lwp *l = curlwp;
	struct rump_kernel *k = sc->sc_if.if_kernel;
	struct netstack *ns = k->k_net;
	uint64_t spin_ns = (uint64_t)sc->sc_cfg.idle_spin_us * 1000;
	uint64_t sleep_ns = (uint64_t)sc->sc_cfg.idle_sleep_us * 1000;
	bool busy = sc->sc_cfg.idle == RUMP_DPDK_IDLE_BUSY;
	bool fiber = sc->sc_cfg.fiber;
	uint64_t last_rx = dpdk_now();

	if (sc->sc_cfg.cpu >= 0 && !fiber)
		(void)dpdk_host_pin(sc->sc_cfg.cpu);
	dpdk_host_thread_register();
	while (!sc->sc_exiting) {
		uint64_t now, polled;
		bool softints;
		int n = 0;

		hardclock();
		now = dpdk_now_held(sc);
		polled = atomic_load_explicit(&sc->sc_polled_ns,
		    memory_order_relaxed);
		if (polled == 0 || dpdk_after(now, polled))
			n = dpdk_rx(sc);
		if (now - sc->sc_stats_ns >= DPDK_STATS_NS) {
			sc->sc_stats_ns = now;
			dpdk_merge_stats(sc);
		}
		softints = n > 0 && k->k_softint_inline;
		if (softints ||
		    (sc->sc_if.if_ackpass && netstack_ackpass_pending(ns))) {
			/*
			 * what the softints send leaves in one burst, with
			 * the ACKs held since the last pass (the application
			 * has had its turn since)
			 */
			struct cpu_info *ci = l->l_cpu;

			mutex_enter(&ns->ns_lock);
			sc->sc_batching = true;
			if (sc->sc_if.if_ackpass)
				netstack_ackpass_flush(ns);
			mutex_exit(&ns->ns_lock);
			if (softints && ci->ci_softpending != 0)
				softint_run_inline(ci);
			mutex_enter(&ns->ns_lock);
			sc->sc_batching = false;
			dpdk_flush(sc);
			mutex_exit(&ns->ns_lock);
		}
		if (fiber) {
			dpdk_loop_fibers(sc, n, now, last_rx);
			if (n > 0)
				last_rx = now;
			continue;
		}
		sched_release_softints(l);
		if (n > 0)
			last_rx = now;
		else if (polled != 0 && !dpdk_after(now, polled)) {
			/*
			 * While the poller keeps coming back, taking the
			 * vCPU for a pass would only stall it (an rr
			 * transaction in twenty took ten times its time),
			 * and so would waking on its core to look (rr's
			 * p99 was four times its p90 with a look every
			 * 100 us).  When it gives up, the loop starts
			 * spinning: sleeping at once would leave the next
			 * frame up to a sleep late, the peer's poller would
			 * give up waiting for the answer, and so on.
			 */
			dpdk_wait_poller(sc);
			last_rx = dpdk_now();
		}
		else if (!busy && now - last_rx > spin_ns)
			hyper_clock_sleep(sleep_ns);
		else if (!busy)
			hyper_thread_yield();	/* an app thread on this CPU runs */
		else
			spin_pause();
		sched_acquire(l);
	}
	dpdk_host_thread_unregister();
}

static void
dpdk_softc_free(struct dpdk_softc *sc)
{
	if (sc->sc_pollcv != NULL)
		hyper_cv_destroy(sc->sc_pollcv);
	if (sc->sc_pollmtx != NULL)
		hyper_mutex_destroy(sc->sc_pollmtx);
	hyper_free(sc, sizeof(*sc));
}

/* ifnet destructor: the instance goes away, or rump_if_destroy(). */
static void
dpdk_if_destroy(struct ifnet *ifp)
{
	struct dpdk_softc *sc = ifp->if_softc;
	struct netstack *ns = ifp->if_kernel->k_net;

	sc->sc_exiting = true;
	dpdk_wake_loop(sc);
	sched_release(curlwp);		/* the loop needs the vCPU to exit */
	kthread_join(sc->sc_lwp);
	sched_acquire(curlwp);
	mutex_enter(&ns->ns_lock);
	for (unsigned i = 0; i < sc->sc_ntx; i++)
		m_freem(sc->sc_txm[i]);
	sc->sc_ntx = 0;
	mutex_exit(&ns->ns_lock);
	if_detach(ifp);
	dpdk_reap(sc);
	/*
	 * frames still on a wire (a net_ring) come back before we go; those
	 * that do not (a peer that never takes them) keep the instance's
	 * mbuf memory, which the peer may read yet
	 */
	if (dpdk_host_close(sc->sc_q, DPDK_CLOSE_MS, dpdk_reap_one, NULL) ==
	    ETIMEDOUT)
		atomic_store(&ifp->if_kernel->k_mbuf_lent, true);
	dpdk_softc_free(sc);
}

/* ---- the public API (include/rumpnet/dpdk.h) ---- */

/* "dpdk<unit>" into name (IFNAMSIZ) */
static void
dpdk_ifname(char *name, unsigned unit)
{
	char digits[12];
	int n = 0;

	do
		digits[n++] = (char)('0' + unit % 10);
	while ((unit /= 10) != 0 && n < 10);
	memcpy(name, "dpdk", 4);
	for (int i = 0; i < n; i++)
		name[4 + i] = digits[n - 1 - i];
	name[4 + n] = '\0';
}

void
rump_dpdk_config_default(struct rump_dpdk_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = "0";
	cfg->cpu = -1;
}

int
rump_dpdk_attach(struct rump_kernel *k, const struct rump_dpdk_config *cfg,
    unsigned *ifindex)
{
	struct dpdk_open_args a;
	struct dpdk_port_info info;
	struct dpdk_queue *q;
	struct dpdk_softc *sc;
	char tname[IFNAMSIZ + 2];
	size_t n;
	void *mem;
	int error;

	if (k == NULL || cfg == NULL || ifindex == NULL || cfg->port == NULL ||
	    cfg->idle_sleep_us > 1000 ||
	    (cfg->idle != RUMP_DPDK_IDLE_SLEEP &&
	    cfg->idle != RUMP_DPDK_IDLE_BUSY))
		return hyper_errno_to_host(EINVAL);
	memset(&a, 0, sizeof(a));
	a.port = cfg->port;
	a.queue = cfg->queue;
	a.nqueues = cfg->nqueues;
	a.rx_desc = cfg->rx_desc;
	a.tx_desc = cfg->tx_desc;
	a.mbufs = cfg->mbufs;
	a.tx_copy = cfg->tx_copy;
	a.promisc = cfg->promisc;
	a.virtual_offload = cfg->virtual_offload;
	a.dispatch = cfg->dispatch;
	a.rss = cfg->rss;
	if (cfg->dispatch && cfg->rss)
		return hyper_errno_to_host(EINVAL);
	if ((error = dpdk_host_open(&a, &info, &q)) != 0)
		return hyper_errno_to_host(error);
	if (cfg->dispatch || cfg->rss) {
		unsigned nq = cfg->nqueues ? cfg->nqueues : cfg->queue + 1;
		struct rump_rss_config rc;

		/* connect() ports whose replies the port steers here */
		rump_rss_config_default(&rc, cfg->queue, nq);
		if ((error = rump_rss_set(k, &rc)) != 0) {
			(void)dpdk_host_close(q, 0, dpdk_reap_one, NULL);
			return error;		/* a host errno already */
		}
	}
	if ((error = rump_schedule_kernel(k)) != 0) {
		(void)dpdk_host_close(q, 0, dpdk_reap_one, NULL);
		return hyper_errno_to_host(error);
	}
	if ((error = hyper_malloc(sizeof(*sc), CACHE_LINE_SIZE, &mem)) != 0)
		goto fail;
	sc = mem;
	memset(sc, 0, sizeof(*sc));
	if ((error = hyper_mutex_init(&sc->sc_pollmtx)) != 0 ||
	    (error = hyper_cv_init(&sc->sc_pollcv)) != 0) {
		dpdk_softc_free(sc);
		goto fail;
	}
	sc->sc_q = q;
	sc->sc_info = info;
	sc->sc_cfg = *cfg;
	dpdk_host_stats(q, &sc->sc_merged);	/* counting starts now */
	if (sc->sc_cfg.idle_spin_us == 0)
		sc->sc_cfg.idle_spin_us = 200;
	if (sc->sc_cfg.idle_sleep_us == 0)
		sc->sc_cfg.idle_sleep_us = 100;
	for (unsigned i = 0;; i++) {
		dpdk_ifname(sc->sc_if.if_xname, i);
		if (if_byname(k, sc->sc_if.if_xname) == NULL)
			break;
	}
	memcpy(sc->sc_if.if_lladdr, info.mac, ETHER_ADDR_LEN);
	sc->sc_if.if_mtu = info.mtu;
	if (info.tx_csum_tcp)
		sc->sc_if.if_capenable |= IFCAP_CSUM_TCPv4;
	if (info.tx_tso) {
		sc->sc_if.if_capenable |= IFCAP_TSOv4;
		sc->sc_if.if_tsomax = MIN(info.tso_max, (unsigned)IP_MAXPACKET);
	}
	sc->sc_if.if_start = dpdk_start;
	sc->sc_if.if_poll = dpdk_poll;
	sc->sc_if.if_poll_done = dpdk_poll_done;
	sc->sc_if.if_ackpass = !cfg->ack_now;	/* dpdk_loop() flushes */
	sc->sc_if.if_destroy = dpdk_if_destroy;
	sc->sc_if.if_mcast = dpdk_mcast;
	sc->sc_if.if_softc = sc;
	if_attach(k, &sc->sc_if);
	n = strlen(sc->sc_if.if_xname);
	memcpy(tname, sc->sc_if.if_xname, n);
	memcpy(tname + n, "rx", 3);
	if ((error = kthread_create(k, KTHREAD_MUSTJOIN | KTHREAD_INTR |
	    (cfg->fiber ? KTHREAD_FIBER : 0), &k->k_cpus[0], dpdk_loop, sc,
	    tname, &sc->sc_lwp)) != 0) {
		if_detach(&sc->sc_if);
		dpdk_softc_free(sc);
		goto fail;
	}
	sc->sc_fiber = sc->sc_lwp->l_fiber;
	*ifindex = sc->sc_if.if_index;
	rump_unschedule();
	return 0;
fail:
	rump_unschedule();
	(void)dpdk_host_close(q, 0, dpdk_reap_one, NULL);
	return hyper_errno_to_host(error);
}

int
rump_dpdk_port_stats(struct rump_kernel *k, unsigned ifindex,
    struct rump_dpdk_stats *st)
{
	struct ifnet *ifp;
	int error;

	if (st == NULL)
		return hyper_errno_to_host(EINVAL);
	if ((error = rump_schedule_kernel(k)) != 0)
		return hyper_errno_to_host(error);
	if ((ifp = if_byindex(k, ifindex)) == NULL ||
	    ifp->if_destroy != dpdk_if_destroy)
		error = ENXIO;
	else {
		struct dpdk_softc *sc = ifp->if_softc;

		dpdk_host_stats(sc->sc_q, st);
		st->tx_gathered = sc->sc_gathered;
	}
	rump_unschedule();
	return hyper_errno_to_host(error);
}
