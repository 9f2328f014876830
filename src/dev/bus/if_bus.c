/*
 * if_bus.c -- the in-memory Ethernet bus (public interface:
 * include/rumpnet/bus.h).
 *
 * Two halves as every driver here has: the medium (struct bus, its ports
 * and their receive queues of frames in host memory, under b_mtx, a host
 * mutex: it is shared by instances) and the kernel half of each port (an
 * ifnet and a receive thread).
 *
 * send:    ether_output() -> if_transmit() -> bus_start()
 *              -> bus_send_locked() -> impairments, capture, bus_deliver()
 *              to each receiver
 * receive: bus_rxthread() (hardware interrupt LWP on vCPU 0), a burst of
 *              up to BUS_RX_BURST frames at a time -> m_devget()
 *              -> if_input() -> softnet, run inline when it releases
 *
 * A frame is copied once into host memory on send (and once more for each
 * extra receiver) and once into mbufs on receive: the bus models a wire,
 * not shared buffers.
 */
#include "kern/kernel.h"
#include "kern/kthread.h"
#include "kern/mbuf.h"
#include "net/if.h"
#include "net/if_ether.h"
#include "net/netstack.h"
#include "rumpnet/bus.h"

#define BUS_QUEUE_MAX 4096
#define BUS_SLOT 2048		/* frames up to this size are recycled */
#define BUS_FREE_MAX 8192	/* recycled frames kept, per bus */
#define BUS_RX_BURST 64		/* frames per turn of the receive loop */

struct bus_frame {
	struct bus_frame *bf_next;
	size_t bf_len;
	size_t bf_cap;
	unsigned char bf_data[];
};

struct bus_port {
	struct bus *bp_bus;			/* [I] */
	struct list_node bp_link;		/* [b_mtx] */
	uint8_t bp_mac[6];			/* [I] */
	bool bp_promisc;			/* [I] tap without a MAC */
	struct bus_frame *bp_head, *bp_tail;	/* [b_mtx] received */
	unsigned bp_qlen;			/* [b_mtx] */
	struct hyper_cv *bp_cv;			/* frames arrived / exit */
	bool bp_busy;				/* [b_mtx] rx thread working */
	bool bp_waiting;			/* [b_mtx] rx thread asleep */
	bool bp_exiting;			/* [b_mtx] */
	/* instance ports only */
	struct ifnet bp_if;
	struct rump_kernel *bp_kernel;		/* [I] NULL for a tap */
	struct lwp *bp_rxthread;		/* [I] */
};

struct bus {
	struct hyper_mtx *b_mtx;
	struct hyper_cv *b_idle;		/* a receive thread went idle */
	struct list_node b_ports;		/* [b_mtx] */
	unsigned b_nports;			/* [b_mtx] */
	struct rump_bus_config b_cfg;		/* [I] */
	uint64_t b_rng;				/* [b_mtx] */
	struct hyper_pcap *b_pcap;		/* [I] */
	struct rump_bus_stats b_stats;		/* [b_mtx] */
	struct bus_frame *b_free;		/* [b_mtx] recycled frames */
	unsigned b_nfree;			/* [b_mtx] */
};

struct rump_bus_tap {
	struct bus_port t_port;
};

/* ---- the medium ---- */

/* xorshift64*: a seeded generator, b_mtx held */
static uint64_t
bus_rand(struct bus *b)
{
	uint64_t x = b->b_rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	b->b_rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* true with probability p */
static bool
bus_chance(struct bus *b, double p)
{
	if (p <= 0.0)
		return false;
	return (double)(bus_rand(b) >> 11) * (1.0 / 9007199254740992.0) < p;
}

/*
 * Frames are host memory.  Those up to BUS_SLOT bytes are recycled through
 * the bus's free list (under b_mtx) instead of going back to malloc: a
 * frame is allocated by the sending thread and freed by a receiving one,
 * which malloc handles slowly.
 */
static struct bus_frame *
bus_frame_get(struct bus *b, size_t len)
{
	struct bus_frame *bf;
	size_t cap = len <= BUS_SLOT ? BUS_SLOT : len;
	void *mem;

	if (len <= BUS_SLOT && (bf = b->b_free) != NULL) {
		b->b_free = bf->bf_next;
		b->b_nfree--;
	} else {
		if (hyper_malloc(sizeof(struct bus_frame) + cap, 0, &mem) != 0)
			return NULL;
		bf = mem;
		bf->bf_cap = cap;
	}
	bf->bf_next = NULL;
	bf->bf_len = len;
	return bf;
}

static void
bus_frame_put(struct bus *b, struct bus_frame *bf)
{
	if (bf->bf_cap == BUS_SLOT && b->b_nfree < BUS_FREE_MAX) {
		bf->bf_next = b->b_free;
		b->b_free = bf;
		b->b_nfree++;
		return;
	}
	hyper_free(bf, sizeof(*bf) + bf->bf_cap);
}

/* Return a list of frames; b_mtx held. */
static void
bus_frame_put_list(struct bus *b, struct bus_frame *bf)
{
	struct bus_frame *next;

	for (; bf != NULL; bf = next) {
		next = bf->bf_next;
		bus_frame_put(b, bf);
	}
}

/* A hub filters on the destination; a runt reaches everyone (to be dropped). */
static bool
bus_port_wants(const struct bus_port *p, const struct bus_frame *bf)
{
	return p->bp_promisc || bf->bf_len < 6 ||
	    ether_is_multicast(bf->bf_data) ||
	    memcmp(bf->bf_data, p->bp_mac, 6) == 0;
}

/* Queue bf on port p (consumed); b_mtx held. */
static void
bus_deliver(struct bus *b, struct bus_port *p, struct bus_frame *bf)
{
	if (p->bp_qlen >= b->b_cfg.queue_max) {
		b->b_stats.qdrops++;
		bus_frame_put(b, bf);
		return;
	}
	bf->bf_next = NULL;
	if (p->bp_tail != NULL)
		p->bp_tail->bf_next = bf;
	else
		p->bp_head = bf;
	p->bp_tail = bf;
	p->bp_qlen++;
	b->b_stats.delivered++;
	if (p->bp_waiting)
		hyper_cv_signal(p->bp_cv);
}

/*
 * Put frame bf from port src on the bus; b_mtx held, bf consumed.  Every
 * receiver but the last gets a copy; the last gets bf itself.
 */
static void
bus_send_locked(struct bus *b, struct bus_port *src, struct bus_frame *bf)
{
	struct bus_port *last = NULL;
	struct list_node *ln;
	int copies = 1;

	b->b_stats.frames++;
	if (b->b_pcap != NULL) {
		struct hyper_iovec iov = { bf->bf_data, bf->bf_len };
		uint64_t now;

		hyper_clock_gettime(HYPER_CLOCK_WALL, &now);
		(void)hyper_pcap_write(b->b_pcap, now, &iov, 1,
		    (unsigned)bf->bf_len);
	}
	if (bus_chance(b, b->b_cfg.loss)) {
		b->b_stats.lost++;
		bus_frame_put(b, bf);
		return;
	}
	if (bus_chance(b, b->b_cfg.corrupt) && bf->bf_len > 0) {
		size_t at = (size_t)(bus_rand(b) % bf->bf_len);

		bf->bf_data[at] ^= (unsigned char)(1u << (bus_rand(b) % 8));
		b->b_stats.corrupted++;
	}
	if (bus_chance(b, b->b_cfg.duplicate)) {
		b->b_stats.duplicated++;
		copies = 2;
	}
	for (; copies > 0; copies--) {
		for (ln = b->b_ports.ln_next; ln != &b->b_ports;
		    ln = ln->ln_next) {
			struct bus_port *p = container_of(ln, struct bus_port,
			    bp_link);
			struct bus_frame *c;

			if (p == src || !bus_port_wants(p, bf))
				continue;
			if (last != NULL) {
				if ((c = bus_frame_get(b, bf->bf_len)) == NULL) {
					b->b_stats.qdrops++;
					continue;
				}
				memcpy(c->bf_data, bf->bf_data, bf->bf_len);
				bus_deliver(b, last, c);
			}
			last = p;
		}
	}
	if (last != NULL)
		bus_deliver(b, last, bf);
	else
		bus_frame_put(b, bf);
}

static int
bus_port_init(struct bus *b, struct bus_port *p, const uint8_t *mac)
{
	int error;

	memset(p, 0, sizeof(*p));
	p->bp_bus = b;
	if (mac != NULL)
		memcpy(p->bp_mac, mac, 6);
	else
		p->bp_promisc = true;
	if ((error = hyper_cv_init(&p->bp_cv)) != 0)
		return error;
	hyper_mutex_enter(b->b_mtx);
	list_insert_tail(&b->b_ports, &p->bp_link);
	b->b_nports++;
	hyper_mutex_exit(b->b_mtx);
	return 0;
}

static void
bus_port_fini(struct bus_port *p)
{
	struct bus *b = p->bp_bus;

	hyper_mutex_enter(b->b_mtx);
	list_remove(&p->bp_link);
	b->b_nports--;
	bus_frame_put_list(b, p->bp_head);
	p->bp_head = NULL;
	p->bp_tail = NULL;
	p->bp_qlen = 0;
	hyper_cv_broadcast(b->b_idle);
	hyper_mutex_exit(b->b_mtx);
	hyper_cv_destroy(p->bp_cv);
}

/* ---- the kernel half of a port ---- */

static void
bus_start(struct ifnet *ifp)
{
	struct bus_port *p = ifp->if_softc;
	struct bus *b = p->bp_bus;
	struct mbuf *m;

	while ((m = ifq_dequeue(&ifp->if_snd)) != NULL) {
		int len = m->m_pkthdr.len;
		struct bus_frame *bf;

		if_tap(ifp, m);
		hyper_mutex_enter(b->b_mtx);
		if ((bf = bus_frame_get(b, (size_t)len)) == NULL) {
			hyper_mutex_exit(b->b_mtx);
			if_count(ifp, IFC_OERRORS, 1);
			m_freem(m);
			continue;
		}
		m_copydata(m, 0, len, bf->bf_data);
		bus_send_locked(b, p, bf);
		hyper_mutex_exit(b->b_mtx);
		if_count(ifp, IFC_OPACKETS, 1);
		if_count(ifp, IFC_OBYTES, (uint64_t)len);
		m_freem(m);
	}
}

static void
bus_rxthread(void *arg)
{
	struct bus_port *p = arg;
	struct bus *b = p->bp_bus;
	struct lwp *l = curlwp;
	struct bus_frame *bf, *done = NULL;

	for (;;) {
		/* give the vCPU back (softnet runs here, inline), then wait */
		sched_release_softints(l);
		hyper_mutex_enter(b->b_mtx);
		bus_frame_put_list(b, done);
		done = NULL;
		p->bp_busy = false;
		hyper_cv_broadcast(b->b_idle);
		while (p->bp_head == NULL && !p->bp_exiting) {
			p->bp_waiting = true;
			hyper_cv_wait(p->bp_cv, b->b_mtx);
			p->bp_waiting = false;
		}
		if (p->bp_exiting) {
			hyper_mutex_exit(b->b_mtx);
			sched_acquire(l);
			return;
		}
		/*
		 * A burst at a time, as a NIC's poll loop does: softnet runs
		 * when the vCPU is released between bursts, so the input
		 * queue (NS_INQ_MAXLEN) never has to hold more than one.
		 */
		struct bus_frame *last = p->bp_head;
		unsigned n = 1;

		bf = p->bp_head;
		while (n < BUS_RX_BURST && last->bf_next != NULL) {
			last = last->bf_next;
			n++;
		}
		p->bp_head = last->bf_next;
		if (p->bp_head == NULL)
			p->bp_tail = NULL;
		last->bf_next = NULL;
		p->bp_qlen -= n;
		p->bp_busy = true;
		hyper_mutex_exit(b->b_mtx);
		sched_acquire(l);
		done = bf;
		for (; bf != NULL; bf = bf->bf_next) {
			struct mbuf *m = m_devget(bf->bf_data, (int)bf->bf_len);

			if (m == NULL) {
				if_count(&p->bp_if, IFC_IQDROPS, 1);
				continue;
			}
			if_input(&p->bp_if, m);
		}
	}
}

/* ifnet destructor: the instance goes away, or rump_if_destroy(). */
static void
bus_if_destroy(struct ifnet *ifp)
{
	struct bus_port *p = ifp->if_softc;
	struct bus *b = p->bp_bus;

	/* stop the receive thread first: it hands frames to ifp */
	hyper_mutex_enter(b->b_mtx);
	p->bp_exiting = true;
	hyper_cv_signal(p->bp_cv);
	hyper_mutex_exit(b->b_mtx);
	sched_release(curlwp);		/* it needs the vCPU to exit */
	kthread_join(p->bp_rxthread);
	sched_acquire(curlwp);
	if_detach(ifp);
	bus_port_fini(p);
	hyper_free(p, sizeof(*p));
}

int
rump_bus_attach(struct rump_bus *rb, struct rump_kernel *k, const char *ifname,
    const uint8_t mac[6], unsigned *ifindex)
{
	struct bus *b = (struct bus *)rb;
	struct bus_port *p;
	size_t n;
	void *mem;
	int error;

	if (ifname == NULL || mac == NULL || ether_is_multicast(mac) ||
	    (n = strlen(ifname)) == 0 || n >= IFNAMSIZ)
		return hyper_errno_to_host(EINVAL);
	if ((error = rump_schedule_kernel(k)) != 0)
		return hyper_errno_to_host(error);
	if (if_byname(k, ifname) != NULL) {
		error = EEXIST;
		goto out;
	}
	if ((error = hyper_malloc(sizeof(*p), CACHE_LINE_SIZE, &mem)) != 0)
		goto out;
	p = mem;
	if ((error = bus_port_init(b, p, mac)) != 0) {
		hyper_free(p, sizeof(*p));
		goto out;
	}
	p->bp_kernel = k;
	memcpy(p->bp_if.if_xname, ifname, n + 1);
	memcpy(p->bp_if.if_lladdr, mac, 6);
	p->bp_if.if_mtu = ETHERMTU;
	p->bp_if.if_start = bus_start;
	p->bp_if.if_destroy = bus_if_destroy;
	p->bp_if.if_softc = p;
	if_attach(k, &p->bp_if);
	/* the thread is named after the interface: "bus0rx" */
	char tname[IFNAMSIZ + 2];

	memcpy(tname, ifname, n);
	memcpy(tname + n, "rx", 3);
	error = kthread_create(k, KTHREAD_MUSTJOIN | KTHREAD_INTR,
	    &k->k_cpus[0], bus_rxthread, p, tname, &p->bp_rxthread);
	if (error) {
		if_detach(&p->bp_if);
		bus_port_fini(p);
		hyper_free(p, sizeof(*p));
		goto out;
	}
	*ifindex = p->bp_if.if_index;
out:
	rump_unschedule();
	return hyper_errno_to_host(error);
}

/* ---- the public bus API ---- */

void
rump_bus_config_default(struct rump_bus_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->seed = 1;
	cfg->queue_max = BUS_QUEUE_MAX;
}

int
rump_bus_create(const struct rump_bus_config *cfg, struct rump_bus **bp)
{
	struct rump_bus_config def;
	struct bus *b;
	void *mem;
	int error;

	if (cfg == NULL) {
		rump_bus_config_default(&def);
		cfg = &def;
	}
	if (!(cfg->loss >= 0 && cfg->loss <= 1) ||
	    !(cfg->duplicate >= 0 && cfg->duplicate <= 1) ||
	    !(cfg->corrupt >= 0 && cfg->corrupt <= 1))
		return hyper_errno_to_host(EINVAL);
	if ((error = hyper_init(HYPER_VERSION)) != 0)
		return hyper_errno_to_host(error);
	if ((error = hyper_malloc(sizeof(*b), 0, &mem)) != 0)
		return hyper_errno_to_host(error);
	b = mem;
	memset(b, 0, sizeof(*b));
	b->b_cfg = *cfg;
	b->b_cfg.pcap_path = NULL;
	if (b->b_cfg.queue_max == 0)
		b->b_cfg.queue_max = BUS_QUEUE_MAX;
	b->b_rng = cfg->seed ? cfg->seed : 1;
	list_init(&b->b_ports);
	if ((error = hyper_mutex_init(&b->b_mtx)) != 0)
		goto fail;
	if ((error = hyper_cv_init(&b->b_idle)) != 0)
		goto fail;
	if (cfg->pcap_path != NULL &&
	    (error = hyper_pcap_open(cfg->pcap_path, HYPER_PCAP_ETHERNET,
	    65535, &b->b_pcap)) != 0)
		goto fail;
	*bp = (struct rump_bus *)b;
	return 0;
fail:
	if (b->b_idle != NULL)
		hyper_cv_destroy(b->b_idle);
	if (b->b_mtx != NULL)
		hyper_mutex_destroy(b->b_mtx);
	hyper_free(b, sizeof(*b));
	return hyper_errno_to_host(error);
}

int
rump_bus_destroy(struct rump_bus *rb)
{
	struct bus *b = (struct bus *)rb;

	hyper_mutex_enter(b->b_mtx);
	if (b->b_nports != 0) {
		hyper_mutex_exit(b->b_mtx);
		return hyper_errno_to_host(EBUSY);
	}
	while (b->b_free != NULL) {
		struct bus_frame *bf = b->b_free;

		b->b_free = bf->bf_next;
		hyper_free(bf, sizeof(*bf) + bf->bf_cap);
	}
	hyper_mutex_exit(b->b_mtx);
	if (b->b_pcap != NULL)
		hyper_pcap_close(b->b_pcap);
	hyper_cv_destroy(b->b_idle);
	hyper_mutex_destroy(b->b_mtx);
	hyper_free(b, sizeof(*b));
	return 0;
}

void
rump_bus_stats(struct rump_bus *rb, struct rump_bus_stats *st)
{
	struct bus *b = (struct bus *)rb;

	hyper_mutex_enter(b->b_mtx);
	*st = b->b_stats;
	hyper_mutex_exit(b->b_mtx);
}

/* Nothing queued, no receive thread busy; b_mtx held. */
static bool
bus_idle_locked(struct bus *b)
{
	struct list_node *ln;

	for (ln = b->b_ports.ln_next; ln != &b->b_ports; ln = ln->ln_next) {
		struct bus_port *p = container_of(ln, struct bus_port, bp_link);

		if (p->bp_kernel != NULL && (p->bp_head != NULL || p->bp_busy))
			return false;
	}
	return true;
}

/* No soft interrupt pending or running on any vCPU of k (a peek). */
static bool
kernel_softints_idle(struct rump_kernel *k)
{
	for (unsigned i = 0; i < k->k_ncpu; i++) {
		struct cpu_info *ci = &k->k_cpus[i];

		if (__atomic_load_n(&ci->ci_softpending, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&ci->ci_softrunning, __ATOMIC_ACQUIRE))
			return false;
	}
	return true;
}

static bool
bus_quiet(struct bus *b)
{
	struct list_node *ln;
	bool quiet;

	hyper_mutex_enter(b->b_mtx);
	quiet = bus_idle_locked(b);
	for (ln = b->b_ports.ln_next; quiet && ln != &b->b_ports;
	    ln = ln->ln_next) {
		struct bus_port *p = container_of(ln, struct bus_port, bp_link);

		if (p->bp_kernel != NULL && !kernel_softints_idle(p->bp_kernel))
			quiet = false;
	}
	hyper_mutex_exit(b->b_mtx);
	return quiet;
}

int
rump_bus_quiesce(struct rump_bus *rb, unsigned timeout_ms)
{
	struct bus *b = (struct bus *)rb;
	int calm = 0;

	/* quiet twice in a row, a millisecond apart: nothing in flight */
	for (unsigned t = 0; t <= timeout_ms; t++) {
		calm = bus_quiet(b) ? calm + 1 : 0;
		if (calm == 2)
			return 0;
		hyper_clock_sleep(1000000);
	}
	return hyper_errno_to_host(ETIMEDOUT);
}

/* ---- taps ---- */

int
rump_bus_tap_open(struct rump_bus *rb, const uint8_t mac[6],
    struct rump_bus_tap **tp)
{
	struct bus *b = (struct bus *)rb;
	struct rump_bus_tap *t;
	void *mem;
	int error;

	if ((error = hyper_malloc(sizeof(*t), 0, &mem)) != 0)
		return hyper_errno_to_host(error);
	t = mem;
	if ((error = bus_port_init(b, &t->t_port, mac)) != 0) {
		hyper_free(t, sizeof(*t));
		return hyper_errno_to_host(error);
	}
	*tp = t;
	return 0;
}

void
rump_bus_tap_close(struct rump_bus_tap *t)
{
	bus_port_fini(&t->t_port);
	hyper_free(t, sizeof(*t));
}

int
rump_bus_tap_send(struct rump_bus_tap *t, const void *frame, size_t len)
{
	struct bus *b = t->t_port.bp_bus;
	struct bus_frame *bf;

	if (frame == NULL && len > 0)
		return hyper_errno_to_host(EINVAL);
	hyper_mutex_enter(b->b_mtx);
	if ((bf = bus_frame_get(b, len)) == NULL) {
		hyper_mutex_exit(b->b_mtx);
		return hyper_errno_to_host(ENOMEM);
	}
	if (len > 0)
		memcpy(bf->bf_data, frame, len);
	bus_send_locked(b, &t->t_port, bf);
	hyper_mutex_exit(b->b_mtx);
	return 0;
}

int
rump_bus_tap_recv(struct rump_bus_tap *t, void *buf, size_t buflen,
    size_t *len, unsigned timeout_ms)
{
	struct bus_port *p = &t->t_port;
	struct bus *b = p->bp_bus;
	struct bus_frame *bf;
	uint64_t start, now;

	hyper_clock_gettime(HYPER_CLOCK_MONO, &start);
	hyper_mutex_enter(b->b_mtx);
	while ((bf = p->bp_head) == NULL) {
		hyper_clock_gettime(HYPER_CLOCK_MONO, &now);
		if (now - start >= (uint64_t)timeout_ms * 1000000u) {
			hyper_mutex_exit(b->b_mtx);
			return hyper_errno_to_host(EAGAIN);
		}
		/* bus_deliver() signals bp_cv only to a waiter that says so */
		p->bp_waiting = true;
		(void)hyper_cv_timedwait(p->bp_cv, b->b_mtx,
		    (uint64_t)timeout_ms * 1000000u - (now - start));
		p->bp_waiting = false;
	}
	p->bp_head = bf->bf_next;
	if (p->bp_head == NULL)
		p->bp_tail = NULL;
	p->bp_qlen--;
	*len = bf->bf_len;
	if (buf != NULL)
		memcpy(buf, bf->bf_data, MIN(buflen, bf->bf_len));
	bus_frame_put(b, bf);
	hyper_mutex_exit(b->b_mtx);
	return 0;
}
