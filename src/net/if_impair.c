/*
 * if_impair.c -- impairment of any interface's frames, in both
 * directions, for links the host cannot impair (rump_if_impair(),
 * include/rumpnet/net.h, has the contract).
 *
 * receive: (driver ->) if_input() -> if_impair_input() -> impair_frame()
 *              -> [lost | held: impair_hold() | if_input_enqueue()]
 * send:    (ether_output() ->) if_transmit() -> if_impair_output()
 *              -> impair_frame() -> [lost | held | if_handoff()]
 * release: callout of vCPU 0 ... softclock -> impair_timer()
 *              -> if_input_enqueue() / if_handoff() for what is due
 * control: rump_if_impair() -> impair_attach(), impair_configure()
 *              (turning off releases what is held at once)
 * teardown: if_detach() -> if_impair_detach()
 *
 * Each frame draws, from the interface's own generator (xorshift64*, as
 * the bus has, seeded by the configuration), in this order: loss,
 * corruption (where, which bit), duplication, then for each copy its
 * delay (jitter, reordering).  The draws are made under ii_lock in the
 * order the frames come, so a run repeats for a seed when the frames
 * come in the same order (one receive thread; the sender's calls).
 *
 * A copy whose delay is not 0 waits on a heap ordered by (due time,
 * arrival), at most queue_max of them, and is released by the first
 * tick at or after its due time (the callout wheel's 1 ms), as the bus
 * releases its frames (if_bus.c, bus_arm()).  A frame delayed by 0 goes
 * on at once, so it overtakes the ones held: that is reordering (and
 * jitter).
 *
 * Corruption flips one bit of one byte of the frame, written through
 * m_copyback() so that storage shared with a socket buffer (TCP's
 * retransmission queue) is copied first.  A checksum the hardware was to
 * compute would cover the flipped byte and hide it: an outgoing frame
 * with M_CSUM_TCPv4 or M_CSUM_UDPv4 gets its checksum here first, and one the hardware
 * segments (M_CSUM_TSOv4, whose checksums it recomputes per segment) is
 * corrupted in its Ethernet and IP headers only.  An incoming frame gets
 * a sum it arrived without (offload: it never left memory) and loses the
 * "checked by the hardware" marks, so the stack checks it.
 *
 * A duplicate is a copy of the frame's bytes, not of its storage: the
 * stack writes into received frames (ip_forward() decrements the TTL).
 * A received frame held in a driver's own buffer (m_extadd(): DPDK's
 * zero-copy receive) is copied before it waits, so the delay queue never
 * starves the driver's buffer pool.
 *
 * Locking: ii_lock (a kernel mutex) covers the state; it is taken after
 * the net lock where both are held (output, the callout, configuration),
 * and alone on input from a driver's receive thread.  Frames are handed
 * on after ii_lock is dropped.  ifp->if_impair is set once, under the net
 * lock, and read without it on input; it goes only in if_detach(), after
 * the driver's threads stopped.
 */
#include "kern/kernel.h"
#include "kern/callout.h"
#include "net/if.h"
#include "net/if_ether.h"
#include "net/if_impair.h"
#include "net/netstack.h"
#include "netinet/in_cksum.h"
#include "netinet/ip.h"
#include "netinet/tcp.h"
#include "netinet/udp_var.h"
#include "rumpnet/net.h"

#define IMPAIR_QUEUE_MAX 4096
#define IMPAIR_DELAY_MAX (3600ull * 1000000000ull)	/* an hour */
#define IMPAIR_NS_PER_TICK (1000000000u / hz)
#define IMPAIR_NEVER UINT64_MAX		/* ii_wake: no callout armed */

struct impair_held {
	uint64_t ih_due;		/* ns, the instance's clock */
	uint64_t ih_seq;		/* arrival: equal times keep order */
	struct mbuf *ih_m;
	bool ih_out;			/* for the driver (else for softnet) */
};

/* Frames to hand on once ii_lock is dropped, each way in order. */
struct impair_batch {
	struct mbuf *ib_in, **ib_intail;
	struct mbuf *ib_out, **ib_outtail;
};

struct if_impair {
	struct ifnet *ii_ifp;			/* [I] */
	kmutex_t ii_lock;
	struct rump_impair_config ii_cfg;	/* [ii_lock] */
	bool ii_on;				/* [ii_lock] */
	uint64_t ii_rng;			/* [ii_lock] */
	struct impair_held *ii_heap;		/* [ii_lock] ii_qmax slots */
	unsigned ii_n;				/* [ii_lock] held */
	unsigned ii_qmax;			/* [ii_lock] */
	uint64_t ii_seq;			/* [ii_lock] next arrival */
	callout_t ii_ch;			/* vCPU 0 */
	uint64_t ii_wake;			/* [ii_lock] tick armed for */
	uint64_t ii_counters[IFI_NCOUNTERS];	/* [ii_lock] */
};

/* ---- draws ---- */

/* the seeded generator (libkern.h's), drawn as the bus draws */
static uint64_t
impair_rand(struct if_impair *ii)
{
	return rand_next(&ii->ii_rng);
}

/* true with probability p (no draw for p == 0) */
static bool
impair_chance(struct if_impair *ii, double p)
{
	return rand_chance(&ii->ii_rng, p);
}

/* ---- the delay queue: a heap on (due, seq) ---- */

static bool
impair_before(const struct impair_held *a, const struct impair_held *b)
{
	return a->ih_due < b->ih_due ||
	    (a->ih_due == b->ih_due && a->ih_seq < b->ih_seq);
}

static void
impair_heap_push(struct if_impair *ii, const struct impair_held *h)
{
	struct impair_held *q = ii->ii_heap;
	unsigned i = ii->ii_n++;

	while (i > 0 && impair_before(h, &q[(i - 1) / 2])) {
		q[i] = q[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	q[i] = *h;
}

static struct impair_held
impair_heap_pop(struct if_impair *ii)
{
	struct impair_held *q = ii->ii_heap, top = q[0], last;
	unsigned i = 0, n;

	KASSERT(ii->ii_n > 0);
	n = --ii->ii_n;
	last = q[n];
	for (;;) {
		unsigned c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && impair_before(&q[c + 1], &q[c]))
			c++;
		if (!impair_before(&q[c], &last))
			break;
		q[i] = q[c];
		i = c;
	}
	if (n > 0)
		q[i] = last;
	return top;
}

static void
impair_batch_init(struct impair_batch *b)
{
	b->ib_in = b->ib_out = NULL;
	b->ib_intail = &b->ib_in;
	b->ib_outtail = &b->ib_out;
}

static void
impair_batch_add(struct impair_batch *b, struct mbuf *m, bool out)
{
	m->m_nextpkt = NULL;
	if (out) {
		*b->ib_outtail = m;
		b->ib_outtail = &m->m_nextpkt;
	} else {
		*b->ib_intail = m;
		b->ib_intail = &m->m_nextpkt;
	}
}

/*
 * Hand the batch on: to softnet, and to the driver (net lock held when
 * there is output).  ii_lock not held.  Returns the first output's
 * result.
 */
static int
impair_batch_release(struct ifnet *ifp, struct impair_batch *b)
{
	struct mbuf *m;
	int error = 0, e;
	bool first = true;

	while ((m = b->ib_in) != NULL) {
		b->ib_in = m->m_nextpkt;
		m->m_nextpkt = NULL;
		if_input_enqueue(ifp, m);
	}
	while ((m = b->ib_out) != NULL) {
		b->ib_out = m->m_nextpkt;
		m->m_nextpkt = NULL;
		e = if_handoff(ifp, m);
		if (first)
			error = e;
		first = false;
	}
	return error;
}

/* Free what the batch holds (teardown). */
static void
impair_batch_free(struct impair_batch *b)
{
	struct mbuf *m;

	while ((m = b->ib_in) != NULL) {
		b->ib_in = m->m_nextpkt;
		m_freem(m);
	}
	while ((m = b->ib_out) != NULL) {
		b->ib_out = m->m_nextpkt;
		m_freem(m);
	}
}

/*
 * Arm the callout for the first tick at or after the earliest due time,
 * unless it is armed for that tick or an earlier one; ii_lock held.  As
 * bus_arm(): ticks count from the wheel's last tick, which may trail the
 * clock but never leads it, so the callout fires at that tick or before
 * (then impair_timer() re-arms); only the clock moving while we arm could
 * make it late: arm again.
 */
static void
impair_arm(struct if_impair *ii)
{
	struct rump_kernel *k = ii->ii_ifp->if_kernel;
	uint64_t due, at, now, then;

	if (ii->ii_n == 0)
		return;
	due = ii->ii_heap[0].ih_due;
	at = due / IMPAIR_NS_PER_TICK + (due % IMPAIR_NS_PER_TICK != 0);
	if (at >= ii->ii_wake)
		return;
	ii->ii_wake = at;
	then = kern_clock_ticks(k);
	do {
		now = then;
		callout_schedule(&ii->ii_ch, at <= now ? 1 :
		    (int)MIN(at - now, (uint64_t)__INT_MAX__));
	} while ((then = kern_clock_ticks(k)) != now);
}

/* A copy of m's bytes in storage of its own, with its packet header. */
static struct mbuf *
impair_dup(const struct mbuf *m)
{
	int len = m->m_pkthdr.len;
	struct mbuf *n;

	if (len > MHLEN)
		n = m_getcl(M_DONTWAIT, MT_DATA, M_PKTHDR);
	else
		n = m_gethdr(M_DONTWAIT, MT_DATA);
	if (n == NULL)
		return NULL;
	for (const struct mbuf *p = m; p != NULL; p = p->m_next) {
		if (p->m_len > 0 && !m_append(n, p->m_len, p->m_data)) {
			m_freem(n);
			return NULL;
		}
	}
	n->m_flags |= m->m_flags & (M_BCAST | M_MCAST);
	n->m_pkthdr.rcvif = m->m_pkthdr.rcvif;
	n->m_pkthdr.csum_flags = m->m_pkthdr.csum_flags;
	n->m_pkthdr.csum_data = m->m_pkthdr.csum_data;
	n->m_pkthdr.segsz = m->m_pkthdr.segsz;
	return n;
}

/* Whether any storage of chain m is a driver's (m_extadd()). */
static bool
impair_driver_storage(const struct mbuf *m)
{
	for (; m != NULL; m = m->m_next)
		if ((m->m_flags & M_EXT) && m->m_ext->ext_type == EXT_EXTERNAL)
			return true;
	return false;
}

/* Hold m (due at due) or drop it when the queue is full; ii_lock held. */
static void
impair_hold(struct if_impair *ii, struct mbuf *m, bool out, uint64_t due)
{
	struct impair_held h = { due, ii->ii_seq++, m, out };
	struct mbuf *n;

	if (ii->ii_n >= ii->ii_qmax) {
		ii->ii_counters[IFI_QDROPS]++;
		m_freem(m);
		return;
	}
	/*
	 * A received frame in a driver's buffer (a DPDK mempool's, without
	 * a copy) would keep it from the driver for the whole delay: hold a
	 * copy in our own clusters instead, if there are any.
	 */
	if (!out && impair_driver_storage(m) && (n = impair_dup(m)) != NULL) {
		m_freem(m);
		h.ih_m = n;
	}
	impair_heap_push(ii, &h);
	ii->ii_counters[IFI_DELAYED]++;
	impair_arm(ii);
}

/* Take every held frame due by now (ns) into b; ii_lock held. */
static void
impair_take_due(struct if_impair *ii, uint64_t now, struct impair_batch *b)
{
	while (ii->ii_n > 0 && ii->ii_heap[0].ih_due <= now) {
		struct impair_held h = impair_heap_pop(ii);

		impair_batch_add(b, h.ih_m, h.ih_out);
	}
}

/*
 * The callout: hand on what is due on the instance's last tick (what
 * the callout armed for that tick sees), and arm for the next.
 */
static void
impair_timer(void *arg)
{
	struct if_impair *ii = arg;
	struct ifnet *ifp = ii->ii_ifp;
	struct netstack *ns = ifp->if_kernel->k_net;
	struct impair_batch b;

	impair_batch_init(&b);
	mutex_enter(&ns->ns_lock);	/* if_handoff() needs it */
	mutex_enter(&ii->ii_lock);
	ii->ii_wake = IMPAIR_NEVER;
	impair_take_due(ii, kern_clock_ticks(ifp->if_kernel) *
	    IMPAIR_NS_PER_TICK, &b);
	impair_arm(ii);
	mutex_exit(&ii->ii_lock);
	(void)impair_batch_release(ifp, &b);
	mutex_exit(&ns->ns_lock);
}

/* ---- one frame ---- */

/* The IPv4 header of frame m, if it has one: true and its length. */
static bool
impair_iphdr(const struct mbuf *m, struct ip *ip, int *hlen)
{
	uint8_t type[2];

	if (m->m_pkthdr.len < ETHER_HDR_LEN + IP_MINHLEN)
		return false;
	m_copydata(m, ETHER_HDR_LEN - 2, 2, type);
	if ((type[0] << 8 | type[1]) != ETHERTYPE_IP)
		return false;
	m_copydata(m, ETHER_HDR_LEN, IP_MINHLEN, ip);
	*hlen = IP_HL(ip) << 2;
	return *hlen >= IP_MINHLEN &&
	    ETHER_HDR_LEN + ntohs(ip->ip_len) <= m->m_pkthdr.len &&
	    ntohs(ip->ip_len) >= *hlen + (ip->ip_p == IPPROTO_UDP ?
	    (int)sizeof(struct udphdr) : (int)sizeof(struct tcphdr));
}

/*
 * The TCP or UDP checksum of an outgoing frame left to the hardware
 * (M_CSUM_TCPv4, M_CSUM_UDPv4), computed here: in_delayed_cksum() with the
 * Ethernet header in front, once the frame is known to hold all of the
 * datagram its header describes.
 */
static void
impair_l4_cksum(struct mbuf *m)
{
	int hlen;
	struct ip ip;

	if (impair_iphdr(m, &ip, &hlen))
		in_delayed_cksum_at(m, ETHER_HDR_LEN);
}

/* Flip one bit of one byte of m; ii_lock held.  See the file's header. */
static void
impair_corrupt(struct if_impair *ii, struct mbuf *m, bool out)
{
	int len = m->m_pkthdr.len, span = len, at, hlen;
	uint64_t r1 = impair_rand(ii), r2 = impair_rand(ii);
	struct ip ip;
	uint8_t b;

	if (len == 0)
		return;
	if (out && (m->m_pkthdr.csum_flags & M_CSUM_TSOv4)) {
		if (impair_iphdr(m, &ip, &hlen))
			span = ETHER_HDR_LEN + hlen;
	} else if (m->m_pkthdr.csum_flags & (M_CSUM_TCPv4 | M_CSUM_UDPv4)) {
		/*
		 * Going out, a sum left to the hardware; coming in, one
		 * that may never have been filled in (a UDP field left 0
		 * would read "no checksum"): computed before the flip.
		 */
		impair_l4_cksum(m);
	}
	if (!out)
		m->m_pkthdr.csum_flags &= ~(M_CSUM_TCPv4 | M_CSUM_UDPv4 |
		    M_CSUM_IPv4 | M_CSUM_DATA);
	at = (int)(r1 % (uint64_t)span);
	m_copydata(m, at, 1, &b);
	b ^= (uint8_t)(1u << (r2 % 8));
	if (m_copyback(m, at, 1, &b) == 0)
		ii->ii_counters[IFI_CORRUPTED]++;
}

/* The delay of one copy: delay_ns + U[0, jitter_ns] (+ reorder_ns). */
static uint64_t
impair_delay(struct if_impair *ii)
{
	const struct rump_impair_config *c = &ii->ii_cfg;
	uint64_t d = c->delay_ns;

	if (c->jitter_ns != 0)
		d += impair_rand(ii) % (c->jitter_ns + 1);
	if (impair_chance(ii, c->reorder)) {
		d += c->reorder_ns;
		ii->ii_counters[IFI_REORDERED]++;
	}
	return d;
}

/*
 * Impair frame m (consumed) going out or in: lost, or each copy (one, or
 * two when duplicated) held or added to b to go on now; ii_lock held.
 */
static void
impair_frame(struct if_impair *ii, struct mbuf *m, bool out,
    struct impair_batch *b)
{
	const struct rump_impair_config *c = &ii->ii_cfg;
	struct mbuf *copies[2] = { m, NULL };
	uint64_t now;

	if (impair_chance(ii, c->loss)) {
		ii->ii_counters[IFI_LOST]++;
		m_freem(m);
		return;
	}
	if (impair_chance(ii, c->corrupt))
		impair_corrupt(ii, m, out);
	if (impair_chance(ii, c->duplicate) &&
	    (copies[1] = impair_dup(m)) != NULL)
		ii->ii_counters[IFI_DUPLICATED]++;
	now = kern_clock_ns(ii->ii_ifp->if_kernel);
	for (int i = 0; i < 2 && copies[i] != NULL; i++) {
		uint64_t d = impair_delay(ii);

		if (d == 0)
			impair_batch_add(b, copies[i], out);
		else
			impair_hold(ii, copies[i], out, now + d);
	}
}

bool
if_impair_input(struct ifnet *ifp, struct mbuf *m)
{
	struct if_impair *ii = __atomic_load_n(&ifp->if_impair,
	    __ATOMIC_ACQUIRE);
	struct impair_batch b;

	mutex_enter(&ii->ii_lock);
	if (!ii->ii_on) {
		mutex_exit(&ii->ii_lock);
		return false;
	}
	impair_batch_init(&b);
	impair_frame(ii, m, false, &b);
	mutex_exit(&ii->ii_lock);
	(void)impair_batch_release(ifp, &b);
	return true;
}

bool
if_impair_output(struct ifnet *ifp, struct mbuf *m, int *errorp)
{
	struct if_impair *ii = ifp->if_impair;
	struct impair_batch b;

	KASSERT(mutex_owned(&ifp->if_kernel->k_net->ns_lock));
	mutex_enter(&ii->ii_lock);
	if (!ii->ii_on) {
		mutex_exit(&ii->ii_lock);
		return false;
	}
	impair_batch_init(&b);
	impair_frame(ii, m, true, &b);
	mutex_exit(&ii->ii_lock);
	*errorp = impair_batch_release(ifp, &b);
	return true;
}

void
if_impair_counters(struct ifnet *ifp, uint64_t c[IFI_NCOUNTERS])
{
	struct if_impair *ii = __atomic_load_n(&ifp->if_impair,
	    __ATOMIC_ACQUIRE);

	if (ii == NULL) {
		memset(c, 0, IFI_NCOUNTERS * sizeof(c[0]));
		return;
	}
	mutex_enter(&ii->ii_lock);
	memcpy(c, ii->ii_counters, IFI_NCOUNTERS * sizeof(c[0]));
	mutex_exit(&ii->ii_lock);
}

/* ---- configuration ---- */

/* Every frame held, in due order, into b (turning off, teardown). */
static void
impair_take_all(struct if_impair *ii, struct impair_batch *b)
{
	impair_take_due(ii, UINT64_MAX, b);
}

/* The state of ifp, created idle on first use; net lock held. */
static int
impair_attach(struct ifnet *ifp, struct if_impair **iip)
{
	struct if_impair *ii;
	void *mem;

	if ((ii = ifp->if_impair) != NULL) {
		*iip = ii;
		return 0;
	}
	if (hyper_malloc(sizeof(*ii), CACHE_LINE_SIZE, &mem) != 0)
		return ENOMEM;
	ii = mem;
	memset(ii, 0, sizeof(*ii));
	ii->ii_ifp = ifp;
	ii->ii_wake = IMPAIR_NEVER;
	mutex_init(&ii->ii_lock, MUTEX_DEFAULT, IPL_NET);
	callout_init_cpu(&ii->ii_ch, CALLOUT_MPSAFE,
	    &ifp->if_kernel->k_cpus[0]);
	callout_setfunc(&ii->ii_ch, impair_timer, ii);
	/* if_input() may look from a receive thread from now on */
	__atomic_store_n(&ifp->if_impair, ii, __ATOMIC_RELEASE);
	*iip = ii;
	return 0;
}

/*
 * Apply cfg (NULL: off), with heap, a queue of qmax slots allocated by
 * the caller (NULL when the size is unchanged or impairment goes off).
 * What no longer fits, or everything when going off, goes into b.
 * Returns the queue no longer used, and in *oldmax its size, for the
 * caller to free.
 */
static struct impair_held *
impair_configure(struct if_impair *ii, const struct rump_impair_config *cfg,
    struct impair_held *heap, unsigned qmax, struct impair_batch *b,
    unsigned *oldmax)
{
	struct impair_held *old = NULL;

	*oldmax = 0;
	mutex_enter(&ii->ii_lock);
	if (cfg == NULL) {
		ii->ii_on = false;
		impair_take_all(ii, b);
		mutex_exit(&ii->ii_lock);
		return NULL;
	}
	if (heap != NULL) {
		/* the earliest go on now if the new queue is smaller */
		while (ii->ii_n > qmax) {
			struct impair_held h = impair_heap_pop(ii);

			impair_batch_add(b, h.ih_m, h.ih_out);
		}
		/* a heap copied as it is stays a heap */
		if (ii->ii_n > 0)
			memcpy(heap, ii->ii_heap, ii->ii_n * sizeof(*heap));
		old = ii->ii_heap;
		*oldmax = ii->ii_qmax;
		ii->ii_heap = heap;
		ii->ii_qmax = qmax;
	}
	ii->ii_cfg = *cfg;
	ii->ii_cfg.queue_max = qmax;
	ii->ii_rng = cfg->seed != 0 ? cfg->seed : 1;
	ii->ii_on = true;
	mutex_exit(&ii->ii_lock);
	return old;
}

/* Whether cfg is acceptable: the EINVAL cases of the contract. */
static bool
impair_valid(const struct rump_impair_config *c)
{
	/* written so that a NaN fails too */
	return c->loss >= 0 && c->loss <= 1 &&
	    c->duplicate >= 0 && c->duplicate <= 1 &&
	    c->corrupt >= 0 && c->corrupt <= 1 &&
	    c->reorder >= 0 && c->reorder <= 1 &&
	    !(c->reorder > 0 && c->reorder_ns == 0) &&
	    c->delay_ns <= IMPAIR_DELAY_MAX &&
	    c->jitter_ns <= IMPAIR_DELAY_MAX &&
	    c->reorder_ns <= IMPAIR_DELAY_MAX;
}

/* Whether cfg does anything (reorder_ns alone holds nothing back). */
static bool
impair_any(const struct rump_impair_config *c)
{
	return c->loss > 0 || c->duplicate > 0 || c->corrupt > 0 ||
	    c->reorder > 0 || c->delay_ns != 0 || c->jitter_ns != 0;
}

int
rump_if_impair(struct rump_kernel *k, unsigned ifindex,
    const struct rump_impair_config *cfg)
{
	struct impair_held *heap = NULL, *old = NULL;
	struct impair_batch b;
	struct if_impair *ii;
	struct netstack *ns;
	struct ifnet *ifp;
	unsigned qmax = 0, oldmax = 0;
	void *mem;
	int error;

	if (cfg != NULL && !impair_valid(cfg))
		return hyper_errno_to_host(EINVAL);
	if (cfg != NULL && !impair_any(cfg))
		cfg = NULL;
	if (cfg != NULL)
		qmax = cfg->queue_max != 0 ? cfg->queue_max : IMPAIR_QUEUE_MAX;
	if ((error = rump_schedule_kernel(k)) != 0)
		return hyper_errno_to_host(error);
	ns = k->k_net;
	mutex_enter(&ns->ns_lock);
	impair_batch_init(&b);
	if ((ifp = if_byindex(k, ifindex)) == NULL) {
		error = ENXIO;
		goto out;
	}
	if (cfg == NULL && ifp->if_impair == NULL)
		goto out;		/* never on: nothing to turn off */
	if ((error = impair_attach(ifp, &ii)) != 0)
		goto out;
	/* the queue, unless it has that size already (read under ns_lock:
	   only configuration, which holds it, changes ii_qmax) */
	if (cfg != NULL && qmax != ii->ii_qmax) {
		if ((error = hyper_malloc(qmax * sizeof(*heap), 0, &mem)) != 0)
			goto out;
		heap = mem;
	}
	old = impair_configure(ii, cfg, heap, qmax, &b, &oldmax);
	/* what was held goes on at once, in due order */
	(void)impair_batch_release(ifp, &b);
	if (cfg == NULL) {
		(void)callout_stop(&ii->ii_ch);
		mutex_enter(&ii->ii_lock);
		ii->ii_wake = IMPAIR_NEVER;
		mutex_exit(&ii->ii_lock);
	}
out:
	mutex_exit(&ns->ns_lock);
	rump_unschedule();
	if (old != NULL)
		hyper_free(old, oldmax * sizeof(*old));
	return hyper_errno_to_host(error);
}

void
if_impair_detach(struct ifnet *ifp)
{
	struct netstack *ns = ifp->if_kernel->k_net;
	struct impair_batch b;
	struct if_impair *ii;

	impair_batch_init(&b);
	mutex_enter(&ns->ns_lock);
	if ((ii = ifp->if_impair) == NULL) {
		mutex_exit(&ns->ns_lock);
		return;
	}
	__atomic_store_n(&ifp->if_impair, NULL, __ATOMIC_RELEASE);
	mutex_enter(&ii->ii_lock);
	ii->ii_on = false;
	impair_take_all(ii, &b);
	mutex_exit(&ii->ii_lock);
	mutex_exit(&ns->ns_lock);
	/* a handler running now finds nothing held and does not re-arm */
	callout_halt(&ii->ii_ch, NULL);
	callout_destroy(&ii->ii_ch);
	impair_batch_free(&b);
	mutex_destroy(&ii->ii_lock);
	if (ii->ii_heap != NULL)
		hyper_free(ii->ii_heap, ii->ii_qmax * sizeof(*ii->ii_heap));
	hyper_free(ii, sizeof(*ii));
}
