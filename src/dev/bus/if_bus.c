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
 *              -> bus_send_locked()
 *              -> [timed bus: bus_send_timed_locked(): sender's clock,
 *                 bus_tx_admit() (rate limit)]
 *              -> bus_impair(): capture, loss, ECN marking,
 *                 corruption, duplication
 *              -> bus_fanout(): [timed: bus_delivery_time() (delay,
 *                 jitter, reordering) for each copy], bus_deliver() to
 *                 each receiver [timed: bus_deliver_timed()
 *                 -> bus_enqueue(), in delivery-time order]
 * receive: bus_rxthread() (hardware interrupt LWP on vCPU 0)
 *              -> bus_take() (untimed, without b_mtx) or
 *              bus_take_locked(): a burst of up to BUS_RX_BURST (due)
 *              frames -> [ack_pass: netstack_ackpass_flush(), the
 *              ACKs held since the last burst] -> bus_input_burst():
 *              m_devget() -> if_input()
 *              -> softnet, run inline when it releases; a short
 *              burst (the queue emptied): bus_rx_coalesce() sleeps
 *              rx_coalesce_us (interrupt moderation) if configured
 *          timed bus, none due yet: bus_arm() -> callout on vCPU 0 ...
 *              softclock -> bus_rxtimer() -> wakes bus_rxthread()
 *          fiber mode (rump_bus_attach_fiber()): the same loop as a
 *              fiber of the attaching host thread; after each burst it
 *              yields to the fibers the softints woke, and it parks
 *              instead of sleeping (senders unpark it: bus_rx_wake())
 *
 * A frame is copied once into host memory on send (and once more for each
 * extra receiver) and once into mbufs on receive: the bus models a wire,
 * not shared buffers.
 *
 * Untimed, a port's queue is a ring of frame pointers, as a NIC's receive
 * ring is: the receiver reads a burst's slots without the lock and
 * prefetches frames a few slots ahead, where a list would make it chase
 * links the sender wrote on another CPU, one cache miss after the other.
 * Senders fill it under b_mtx and publish its tail (bp_rtail); its one
 * consumer at a time, whoever holds bp_busy, publishes its head
 * (bp_rhead) on a line of its own, as a NIC's driver writes its ring's
 * head register.  So the receive loop goes from burst to burst without
 * b_mtx, which the senders on the other CPU take for every frame: it
 * takes the lock only to go to sleep (or to give the port to a poller),
 * and gives its frames back on a lock-free stack (b_returned).
 * Timed, the queue is a list in delivery-time order (frames are
 * inserted), all under b_mtx.
 *
 * Time (include/rumpnet/bus.h has the model).  With delay, jitter,
 * reordering and rate limit all off (!b_timed) every frame is due at once
 * and each queue is a FIFO: no clock is read, no callout armed, and the
 * path is that of a plain hub, the time code kept out of line.  Otherwise
 * the sender stamps each copy with its delivery time on its own clock,
 * drawing jitter and reordering under b_mtx in send order (so a seed
 * repeats); the receiving port turns it into its own clock
 * (bus_clock_base()) and its receive thread takes only the frames due on
 * it.  When the head of its queue is not due, the thread arms a callout of
 * its own instance for the head's tick: the clock that makes the frame
 * due, real or virtual, is the one that runs the callout, and no host
 * timer is needed.  A frame is due from the first tick at or after its
 * exact time (which still orders the queue), so that "due" is what the
 * callout sees: a virtual clock advanced by a fraction of a tick leaves
 * nothing due that no callout would deliver.
 */
#include "kern/kernel.h"
#include "kern/callout.h"
#include "kern/kthread.h"
#include "kern/mbuf.h"
#include "net/if.h"
#include "net/if_ether.h"
#include "net/netstack.h"
#include "netinet/in_cksum.h"
#include "netinet/ip.h"
#include "rumpnet/bus.h"

#define BUS_QUEUE_MAX 4096
#define BUS_QUEUE_LIMIT (1u << 20)	/* most queue_max may be */
#define BUS_SLOT 2048		/* frames up to this size are recycled */
#define BUS_FREE_MAX 8192	/* recycled frames kept, per bus */
#define BUS_RX_BURST 64		/* frames per turn of the receive loop */
#define BUS_DELAY_MAX (3600ull * 1000000000ull)	/* per knob: an hour */
#define BUS_NS_PER_TICK (1000000000u / hz)
#define BUS_NEVER UINT64_MAX	/* bp_wake: no callout armed */
#define BUS_POLL_GRACE_NS 5000000	/* a poller returns within this */
#define BUS_COALESCE_MAX_US 1000	/* rx_coalesce_us: at most a tick */

/*
 * A frame starts a cache line and its header is short, so that a small
 * frame (a 64-byte datagram's is 106 bytes) fits in two lines: every line
 * of it crosses from the sender's CPU to the receiver's and back.  A timed
 * bus's fields follow the data (bus_ft()).
 */
struct bus_frame {
	struct bus_frame *bf_next;
	uint32_t bf_len;
	uint32_t bf_cap;
	uint16_t bf_csum;		/* M_CSUM_TCPv4/UDPv4: sum left out */
	unsigned char bf_data[];
};

struct bus_frame_time {
	struct bus_frame *bt_prev;	/* on a port's queue */
	uint64_t bt_due;	/* delivery time (ns), receiver's clock */
};

#define BUS_FRAME_DATA offsetof(struct bus_frame, bf_data)
#define BUS_FRAME_MAX (UINT32_MAX / 2)	/* bytes, to keep sizes exact */

/* Where a frame of cap data bytes keeps its timed fields, and its size. */
static inline size_t
bus_frame_ft_off(size_t cap)
{
	return (BUS_FRAME_DATA + cap + 7) & ~(size_t)7;
}

static inline size_t
bus_frame_size(size_t cap)
{
	return bus_frame_ft_off(cap) + sizeof(struct bus_frame_time);
}

static inline struct bus_frame_time *
bus_ft(const struct bus_frame *bf)
{
	return (struct bus_frame_time *)((uintptr_t)bf +
	    bus_frame_ft_off(bf->bf_cap));
}

/*
 * A port's fields are grouped by who writes them, each group on cache
 * lines of its own: the senders on other CPUs write the queue's tail, the
 * receiver its head, and neither should miss on a field the other wrote
 * when it only reads one that never changes.
 */
struct bus_port {
	/* [I], read by both sides for every frame */
	struct bus *bp_bus;			/* [I] */
	struct bus_frame **bp_ring;		/* [I] untimed bus only */
	/* fiber mode (rump_bus_attach_fiber()): the rx loop's fiber */
	struct hyper_fiber *bp_fiber;		/* [I] */
	struct hyper_cv *bp_cv;		/* frames arrived / due / exit */
	uint8_t bp_mac[6];			/* [I] */
	bool bp_promisc;			/* [I] tap without a MAC */
	/*
	 * Received: untimed, the frames in the ring (b_rmask + 1 slots)
	 * from index bp_rhead to bp_rtail (free-running, a slot is index &
	 * b_rmask), at most queue_max; timed, bp_qlen frames on the list
	 * bp_head, in delivery-time order (bt_due), equal times in send
	 * order.  A burst the receiver took stays queued (in the ring, or
	 * counted in bp_qlen) until it is done.  The senders' line:
	 */
	unsigned bp_rtail		/* [b_mtx] stored with release */
	    __attribute__((__aligned__(CACHE_LINE_SIZE)));
	unsigned bp_rseen;		/* [b_mtx] bp_rhead, last read */
	bool bp_waiting;			/* [b_mtx] rx thread asleep */
	bool bp_exiting;			/* [b_mtx] */
	/*
	 * A busy poller (bus_poll()) takes this port's frames: senders do
	 * not wake the receive thread, which sleeps at most
	 * BUS_POLL_GRACE_NS and takes over (clearing it) if the poller did
	 * not come back.  So a thread that returns to the kernel often
	 * keeps the port to itself across calls, without wake-ups.
	 */
	bool bp_polled;				/* [b_mtx] */
	struct bus_frame *bp_head, *bp_tail;	/* [b_mtx] */
	unsigned bp_qlen;			/* [b_mtx] */
	struct list_node bp_link;		/* [b_mtx] */
	/*
	 * The consumer's line: bp_busy is taken (bus_claim()) by the receive
	 * loop or a poller, which then alone takes frames off the queue and
	 * advances bp_rhead; senders read bp_rhead only when the ring looks
	 * full (bp_rseen).
	 */
	unsigned bp_rhead __attribute__((__aligned__(CACHE_LINE_SIZE)));
	bool bp_busy;				/* atomic */
	/*
	 * Instance ports only.  The ifnet, which softnet reads for every
	 * packet, starts a cache line of its own.
	 */
	struct ifnet bp_if __attribute__((__aligned__(CACHE_LINE_SIZE)));
	struct rump_kernel *bp_kernel;		/* [I] NULL for a tap */
	struct lwp *bp_rxthread;		/* [I] */
	/*
	 * Timed bus: bp_ch wakes the rx thread when the head becomes due.
	 * bp_wake is the delivery time it was armed for, BUS_NEVER once it
	 * fired; only the rx thread arms it, so while bp_wake is a time a
	 * callout will fire no later than that time's tick.
	 */
	callout_t bp_ch;			/* vCPU 0 of bp_kernel */
	uint64_t bp_wake;			/* [b_mtx] */
	/*
	 * Rate limit: when each frame waiting for the wire will have left it
	 * (rising, a ring of queue_max), and when the wire is free.
	 */
	uint64_t *bp_txleave;			/* [b_mtx] */
	unsigned bp_txfirst, bp_txn;		/* [b_mtx] */
	uint64_t bp_txfree;			/* [b_mtx] */
};

/* As a port's: what never changes, what the senders write, and the rest. */
struct bus {
	struct hyper_mtx *b_mtx;		/* [I] */
	struct rump_bus_config b_cfg;		/* [I] */
	bool b_timed;			/* [I] delay/jitter/reorder/rate */
	unsigned b_rmask;			/* [I] ring slots - 1 */
	struct hyper_pcap *b_pcap;		/* [I] */
	struct list_node b_ports		/* [b_mtx] */
	    __attribute__((__aligned__(CACHE_LINE_SIZE)));
	unsigned b_nports;			/* [b_mtx] */
	unsigned b_ntaps;			/* [b_mtx] taps attached */
	uint64_t b_rng;				/* [b_mtx] */
	struct rump_bus_stats b_stats;		/* [b_mtx] */
	struct bus_frame *b_free;		/* [b_mtx] recycled frames */
	unsigned b_nfree;			/* [b_mtx] */
	/*
	 * Recycled by receive loops without b_mtx: a stack (atomic) whose
	 * top frame has in bf_len how many it holds.
	 */
	struct bus_frame *b_returned
	    __attribute__((__aligned__(CACHE_LINE_SIZE)));
	uint64_t b_coalesced;		/* atomic: rx_coalesce_us sleeps */
};

struct rump_bus_tap {
	struct bus_port t_port;
};

/*
 * Wake port p's receive loop, which said it waits (bp_waiting); b_mtx
 * held.  A loop running as a fiber is unparked (from any host thread).
 */
static inline void
bus_rx_wake(struct bus_port *p)
{
	if (p->bp_fiber != NULL) {
		/* one unpark a wait: no permit left over for the next */
		p->bp_waiting = false;
		hyper_fiber_unpark(p->bp_fiber);
	} else
		hyper_cv_signal(p->bp_cv);
}

/* ---- the medium ---- */

/* the seeded generator (libkern.h's), b_mtx held */
static uint64_t
bus_rand(struct bus *b)
{
	return rand_next(&b->b_rng);
}

/* true with probability p */
static bool
bus_chance(struct bus *b, double p)
{
	return rand_chance(&b->b_rng, p);
}

/*
 * Frames are host memory.  Those up to BUS_SLOT bytes are recycled through
 * the bus's free list (under b_mtx, at most BUS_FREE_MAX) instead of going
 * back to malloc: a frame is allocated by the sending thread and freed by
 * a receiving one, which malloc handles slowly.  A receive loop gives its
 * bursts back without the lock, onto b_returned (also at most
 * BUS_FREE_MAX), which a sender takes whole when the free list runs out.
 */
static struct bus_frame *
bus_frame_get(struct bus *b, size_t len)
{
	struct bus_frame *bf;
	size_t cap = len <= BUS_SLOT ? BUS_SLOT : len;
	void *mem;

	if (len <= BUS_SLOT && b->b_free == NULL &&
	    __atomic_load_n(&b->b_returned, __ATOMIC_RELAXED) != NULL) {
		b->b_free = __atomic_exchange_n(&b->b_returned, NULL,
		    __ATOMIC_ACQUIRE);
		b->b_nfree = b->b_free->bf_len;
	}
	if (len <= BUS_SLOT && (bf = b->b_free) != NULL) {
		b->b_free = bf->bf_next;
		b->b_nfree--;
		/*
		 * The next one was last read on a receiver's CPU: have its
		 * lines on ours, for writing, by the time a frame is sent.
		 */
		if (b->b_free != NULL) {
			__builtin_prefetch(b->b_free, 1);
			__builtin_prefetch((char *)b->b_free +
			    CACHE_LINE_SIZE, 1);
		}
	} else {
		if (len > BUS_FRAME_MAX || hyper_malloc(bus_frame_size(cap),
		    CACHE_LINE_SIZE, &mem) != 0)
			return NULL;
		bf = mem;
		bf->bf_cap = (uint32_t)cap;
	}
	bf->bf_next = NULL;
	bf->bf_len = (uint32_t)len;
	bf->bf_csum = 0;
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
	hyper_free(bf, bus_frame_size(bf->bf_cap));
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

/* Give a list of frames back to the host. */
static void
bus_frame_put_host(struct bus_frame *bf)
{
	struct bus_frame *next;

	for (; bf != NULL; bf = next) {
		next = bf->bf_next;
		hyper_free(bf, bus_frame_size(bf->bf_cap));
	}
}

/*
 * Return a list of frames without b_mtx (a receive loop).  The stack's
 * count is its top's: the frames below were pushed by this loop (a hit)
 * unless a sender took them meanwhile.  Beyond BUS_FREE_MAX they are freed,
 * as bus_frame_put() does.
 */
static void
bus_frame_return(struct bus *b, struct bus_frame *bf)
{
	struct bus_frame *first = NULL, *last = NULL, *next, *old;
	uint32_t n = 0;

	for (; bf != NULL; bf = next) {
		next = bf->bf_next;
		if (bf->bf_cap != BUS_SLOT) {
			hyper_free(bf, bus_frame_size(bf->bf_cap));
			continue;
		}
		if (first == NULL)
			last = bf;
		bf->bf_next = first;
		first = bf;
		n++;
	}
	if (first == NULL)
		return;
	old = __atomic_load_n(&b->b_returned, __ATOMIC_ACQUIRE);
	do {
		if (old != NULL && old->bf_len + n > BUS_FREE_MAX) {
			bus_frame_put_host(first);
			return;
		}
		last->bf_next = old;
		first->bf_len = n + (old != NULL ? old->bf_len : 0);
	} while (!__atomic_compare_exchange_n(&b->b_returned, &old, first,
	    true, __ATOMIC_RELEASE, __ATOMIC_ACQUIRE));
}

/* A hub filters on the destination; a runt reaches everyone (to be dropped). */
static bool
bus_port_wants(const struct bus_port *p, const struct bus_frame *bf)
{
	return p->bp_promisc || bf->bf_len < 6 ||
	    ether_is_multicast(bf->bf_data) ||
	    memcmp(bf->bf_data, p->bp_mac, 6) == 0;
}

/* a + b, saturating: an absurd rate must not wrap a time around */
static inline uint64_t
bus_time_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/*
 * Where k's clock starts on the bus's time line.  Virtual clocks all start
 * at 0 and move together.  Real clocks count from each instance's creation:
 * the bus stamps frames on the host's monotonic clock instead, and turns
 * the stamp into the receiver's clock when it queues the frame.
 */
static inline uint64_t
bus_clock_base(const struct rump_kernel *k)
{
	return k->k_vclock ? 0 : k->k_boot_ns;
}

/*
 * The receiver's clock as its queue sees it: its last tick.  A frame is
 * due when bt_due <= this, which is exactly when the callout armed for the
 * tick of bt_due has run (bus_arm()).
 */
static inline uint64_t
bus_now(struct rump_kernel *k)
{
	return kern_clock_ticks(k) * BUS_NS_PER_TICK;
}

/*
 * Link bf into p's queue after the last frame due no later (so equal times
 * keep send order); timed bus, b_mtx held.  Searched from the tail: a frame
 * is mostly due after those queued before it, only the held-back ones are
 * passed.  A frame due nearer the head's time than the tail's -- a tap's,
 * due at once, while an instance's rate limit spread its frames over the
 * next milliseconds -- is searched for from the head instead, passing only
 * the frames due before it.
 */
static void
bus_enqueue(struct bus_port *p, struct bus_frame *bf)
{
	struct bus_frame *at = p->bp_tail, *h = p->bp_head;

	uint64_t due = bus_ft(bf)->bt_due;

	if (h != NULL && due < bus_ft(at)->bt_due &&
	    (due < bus_ft(h)->bt_due ||
	    due - bus_ft(h)->bt_due < bus_ft(at)->bt_due - due)) {
		for (at = NULL; h != NULL && bus_ft(h)->bt_due <= due;
		    h = h->bf_next)
			at = h;
	}
	while (at != NULL && bus_ft(at)->bt_due > due)
		at = bus_ft(at)->bt_prev;
	bus_ft(bf)->bt_prev = at;
	if (at != NULL) {
		bf->bf_next = at->bf_next;
		at->bf_next = bf;
	} else {
		bf->bf_next = p->bp_head;
		p->bp_head = bf;
	}
	if (bf->bf_next != NULL)
		bus_ft(bf->bf_next)->bt_prev = bf;
	else
		p->bp_tail = bf;
}

/* bus_deliver() on a timed bus: in delivery-time order. */
static void __attribute__((__noinline__))
bus_deliver_timed(struct bus_port *p, struct bus_frame *bf, uint64_t due)
{
	if (p->bp_kernel != NULL) {
		uint64_t base = bus_clock_base(p->bp_kernel);

		due = due > base ? due - base : 0;	/* receiver's clock */
	}
	bus_ft(bf)->bt_due = due;
	bus_enqueue(p, bf);
	/*
	 * An instance's receive thread sleeps until its callout fires for
	 * the head: wake it only for a new head due before that (it then
	 * takes the frame or re-arms).  A tap takes any frame.
	 */
	if (p->bp_waiting && (p->bp_kernel == NULL ||
	    (p->bp_head == bf && due < p->bp_wake)))
		bus_rx_wake(p);
}

/* Frames queued on p; b_mtx held (a burst in flight counts). */
static inline unsigned
bus_queued(const struct bus *b, const struct bus_port *p)
{
	if (b->b_timed)
		return p->bp_qlen;
	return p->bp_rtail - __atomic_load_n(&p->bp_rhead, __ATOMIC_ACQUIRE);
}

/* Take p's queue as its consumer (false: another has it). */
static inline bool
bus_claim(struct bus_port *p)
{
	bool no = false;

	return __atomic_compare_exchange_n(&p->bp_busy, &no, true, false,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void
bus_unclaim(struct bus_port *p)
{
	__atomic_store_n(&p->bp_busy, false, __ATOMIC_RELEASE);
}

/* bp_polled is written under b_mtx, read also without it (bus_take()) */
static inline void
bus_set_polled(struct bus_port *p, bool polled)
{
	__atomic_store_n(&p->bp_polled, polled, __ATOMIC_RELAXED);
}

/* An untimed port's ring looks empty (a peek, without b_mtx). */
static inline bool
bus_ring_empty(const struct bus_port *p)
{
	return __atomic_load_n(&p->bp_rtail, __ATOMIC_RELAXED) ==
	    __atomic_load_n(&p->bp_rhead, __ATOMIC_RELAXED);
}

/* Its consumer is done with the n frames at the ring's head. */
static inline void
bus_ring_consumed(struct bus_port *p, unsigned n)
{
	__atomic_store_n(&p->bp_rhead, p->bp_rhead + n, __ATOMIC_RELEASE);
}

/*
 * Queue bf, due at time due of the bus, on port p (consumed); b_mtx held.
 * Untimed, the queue is a plain FIFO in the ring (bus_ft() fields
 * unused): the hot path stays that of a hub.
 */
static inline void
bus_deliver(struct bus *b, struct bus_port *p, struct bus_frame *bf,
    uint64_t due)
{
	unsigned tail;

	if (unlikely(b->b_timed)) {
		if (p->bp_qlen >= b->b_cfg.queue_max) {
			b->b_stats.qdrops++;
			bus_frame_put(b, bf);
			return;
		}
		b->b_stats.delivered++;
		p->bp_qlen++;
		bus_deliver_timed(p, bf, due);
		return;
	}
	tail = p->bp_rtail;
	if (tail - p->bp_rseen >= b->b_cfg.queue_max) {
		/* looks full: where is the consumer now? */
		p->bp_rseen = __atomic_load_n(&p->bp_rhead, __ATOMIC_ACQUIRE);
		if (tail - p->bp_rseen >= b->b_cfg.queue_max) {
			b->b_stats.qdrops++;
			bus_frame_put(b, bf);
			return;
		}
	}
	b->b_stats.delivered++;
	p->bp_ring[tail & b->b_rmask] = bf;
	__atomic_store_n(&p->bp_rtail, tail + 1, __ATOMIC_RELEASE);
	if (p->bp_waiting && !p->bp_polled)
		bus_rx_wake(p);
}

/* Time on the wire of len bytes at rate_bps, rounded up. */
static uint64_t
bus_wire_ns(const struct bus *b, size_t len)
{
	uint64_t rate = b->b_cfg.rate_bps;
	/* frames are far below the 2 GB that would overflow this */
	uint64_t bits_ns = (uint64_t)len * 8u * 1000000000u;

	return bits_ns / rate + (bits_ns % rate != 0);
}

/*
 * Rate limit: queue a frame of len bytes on sending port p at time now (its
 * clock).  Frames leave one after another, so it leaves (*leavep: its last
 * bit is on the wire) one wire time after the later of now and the previous
 * frame's leaving.  Returns false when queue_max frames still wait; b_mtx
 * held.
 */
static bool
bus_tx_admit(struct bus *b, struct bus_port *p, uint64_t now, size_t len,
    uint64_t *leavep)
{
	unsigned qmax = b->b_cfg.queue_max;
	uint64_t leave;

	/* forget those that left by now */
	while (p->bp_txn > 0 && p->bp_txleave[p->bp_txfirst] <= now) {
		if (++p->bp_txfirst == qmax)
			p->bp_txfirst = 0;
		p->bp_txn--;
	}
	if (p->bp_txn == qmax)
		return false;
	leave = bus_time_add(MAX(now, p->bp_txfree), bus_wire_ns(b, len));
	p->bp_txleave[(p->bp_txfirst + p->bp_txn) % qmax] = leave;
	p->bp_txn++;
	p->bp_txfree = leave;
	*leavep = leave;
	return true;
}

/*
 * The delivery time of one copy of a frame sent at now that left the
 * sender at leave: delay, jitter and reordering, drawn here, under b_mtx,
 * in send order so that a seed repeats.
 */
static uint64_t
bus_delivery_time(struct bus *b, uint64_t now, uint64_t leave)
{
	uint64_t d = b->b_cfg.delay_ns, due;

	if (b->b_cfg.jitter_ns != 0)
		d += bus_rand(b) % (b->b_cfg.jitter_ns + 1);
	if (bus_chance(b, b->b_cfg.reorder)) {
		d += b->b_cfg.reorder_ns;
		b->b_stats.reordered++;
	}
	due = bus_time_add(leave, d);	/* d: three hours at most */
	if (due > now)
		b->b_stats.delayed++;
	return due;
}

/*
 * The ce knob: when bf is an untagged IPv4 frame whose ECN field says
 * ECT(0) or ECT(1), set it to CE (RFC 3168 5) and update the header
 * checksum incrementally (RFC 1624 3: HC' = ~(~HC + ~m + m')), with the
 * knob's probability.  Returns true when it marked bf.  A frame that is
 * not ECN-capable costs no draw.
 */
static bool
bus_ecn_mark(struct bus *b, struct bus_frame *bf)
{
	unsigned char *iph = bf->bf_data + 14;
	uint32_t sum;
	uint16_t oldw, neww;

	if (bf->bf_len < 14 + 20 || bf->bf_data[12] != 0x08 ||
	    bf->bf_data[13] != 0x00 || (iph[0] >> 4) != 4 ||
	    (iph[1] & 0x03) == 0x00 || (iph[1] & 0x03) == 0x03)
		return false;
	if (!bus_chance(b, b->b_cfg.ce))
		return false;
	oldw = (uint16_t)(iph[0] << 8 | iph[1]);
	iph[1] |= 0x03;
	neww = (uint16_t)(iph[0] << 8 | iph[1]);
	sum = (uint16_t)~(iph[10] << 8 | iph[11]);
	sum += (uint16_t)~oldw;
	sum += neww;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	iph[10] = (unsigned char)(~sum >> 8);
	iph[11] = (unsigned char)~sum;
	return true;
}

/*
 * Capture, loss, ECN marking, corruption, duplication of bf on the wire:
 * returns how many copies of it travel on (0: lost, bf freed); b_mtx
 * held.
 */
static inline int
bus_impair(struct bus *b, struct bus_frame *bf)
{
	int copies = 1;

	if (b->b_pcap != NULL) {
		struct hyper_iovec iov = { bf->bf_data, bf->bf_len };
		uint64_t wall;

		hyper_clock_gettime(HYPER_CLOCK_WALL, &wall);
		(void)hyper_pcap_write(b->b_pcap, wall, &iov, 1,
		    (unsigned)bf->bf_len);
	}
	if (bus_chance(b, b->b_cfg.loss)) {
		b->b_stats.lost++;
		bus_frame_put(b, bf);
		return 0;
	}
	if (b->b_cfg.ce > 0 && bus_ecn_mark(b, bf))
		b->b_stats.marked++;
	if (bus_chance(b, b->b_cfg.corrupt) && bf->bf_len > 0) {
		size_t at = (size_t)(bus_rand(b) % bf->bf_len);

		bf->bf_data[at] ^= (unsigned char)(1u << (bus_rand(b) % 8));
		b->b_stats.corrupted++;
	}
	if (bus_chance(b, b->b_cfg.duplicate)) {
		b->b_stats.duplicated++;
		copies = 2;
	}
	return copies;
}

/*
 * Hand the copies of frame bf from port src to every port that wants it;
 * b_mtx held, bf consumed.  Every receiver but the last gets a copy; the
 * last gets bf itself.  timed: each copy gets a delivery time drawn for a
 * frame sent at now that left the sender at leave; else all are due at
 * once.  Inlined twice, so the untimed case loses the time code.
 */
static inline void
bus_fanout(struct bus *b, struct bus_port *src, struct bus_frame *bf,
    int copies, bool timed, uint64_t now, uint64_t leave)
{
	struct bus_port *last = NULL;
	struct list_node *ln;
	uint64_t due = 0, lastdue = 0;

	for (; copies > 0; copies--) {
		/* one draw per copy on the wire, whoever receives it */
		if (timed)
			due = bus_delivery_time(b, now, leave);
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
				c->bf_csum = bf->bf_csum;
				bus_deliver(b, last, c, lastdue);
			}
			last = p;
			lastdue = due;
		}
	}
	if (last != NULL)
		bus_deliver(b, last, bf, lastdue);
	else
		bus_frame_put(b, bf);
}

/*
 * bus_send_locked() from an instance's port on a timed bus: stamped with
 * the sender's clock, through its rate limit.
 */
static void __attribute__((__noinline__))
bus_send_timed_locked(struct bus *b, struct bus_port *src,
    struct bus_frame *bf)
{
	uint64_t now, leave;
	int copies;

	now = leave = kern_clock_ns(src->bp_kernel) +
	    bus_clock_base(src->bp_kernel);
	if (b->b_cfg.rate_bps != 0 &&
	    !bus_tx_admit(b, src, now, bf->bf_len, &leave)) {
		b->b_stats.ratedrops++;
		bus_frame_put(b, bf);
		return;
	}
	if ((copies = bus_impair(b, bf)) != 0)
		bus_fanout(b, src, bf, copies, true, now, leave);
}

/* Put frame bf from port src on the bus; b_mtx held, bf consumed. */
static void
bus_send_locked(struct bus *b, struct bus_port *src, struct bus_frame *bf)
{
	int copies;

	b->b_stats.frames++;
	/* a tap has no clock: what it sends is due at once (0) */
	if (unlikely(b->b_timed) && src->bp_kernel != NULL) {
		bus_send_timed_locked(b, src, bf);
		return;
	}
	if ((copies = bus_impair(b, bf)) != 0)
		bus_fanout(b, src, bf, copies, false, 0, 0);
}

static void
bus_port_free(struct bus *b, struct bus_port *p)
{
	if (p->bp_txleave != NULL)
		hyper_free(p->bp_txleave, b->b_cfg.queue_max * sizeof(uint64_t));
	if (p->bp_ring != NULL)
		hyper_free(p->bp_ring, (b->b_rmask + 1) * sizeof(*p->bp_ring));
}

/* k: the instance of an interface's port, NULL for a tap. */
static int
bus_port_init(struct bus *b, struct bus_port *p, const uint8_t *mac,
    struct rump_kernel *k)
{
	void *mem;
	int error;

	memset(p, 0, sizeof(*p));
	p->bp_bus = b;
	p->bp_kernel = k;
	p->bp_wake = BUS_NEVER;
	if (mac != NULL)
		memcpy(p->bp_mac, mac, 6);
	else
		p->bp_promisc = true;
	/* a tap's sends skip the rate limit: it has no clock */
	if (k != NULL && b->b_cfg.rate_bps != 0) {
		error = hyper_malloc(b->b_cfg.queue_max * sizeof(uint64_t), 0,
		    &mem);
		if (error)
			return error;
		p->bp_txleave = mem;
	}
	if (!b->b_timed) {
		error = hyper_malloc((b->b_rmask + 1) * sizeof(*p->bp_ring),
		    CACHE_LINE_SIZE, &mem);
		if (error) {
			bus_port_free(b, p);
			return error;
		}
		p->bp_ring = mem;
	}
	if ((error = hyper_cv_init(&p->bp_cv)) != 0) {
		bus_port_free(b, p);
		return error;
	}
	hyper_mutex_enter(b->b_mtx);
	list_insert_tail(&b->b_ports, &p->bp_link);
	b->b_nports++;
	hyper_mutex_exit(b->b_mtx);
	return 0;
}

/*
 * Unlink and return the head of p's queue, which is not empty; b_mtx held,
 * by its only consumer (a tap, or a port whose receive thread is gone).
 */
static struct bus_frame *
bus_pop_locked(struct bus *b, struct bus_port *p)
{
	struct bus_frame *bf;

	if (!b->b_timed) {
		bf = p->bp_ring[p->bp_rhead & b->b_rmask];
		bus_ring_consumed(p, 1);
		return bf;
	}
	p->bp_qlen--;
	bf = p->bp_head;
	p->bp_head = bf->bf_next;
	if (p->bp_head != NULL)
		bus_ft(p->bp_head)->bt_prev = NULL;
	else
		p->bp_tail = NULL;
	return bf;
}

static void
bus_port_fini(struct bus_port *p)
{
	struct bus *b = p->bp_bus;

	hyper_mutex_enter(b->b_mtx);
	list_remove(&p->bp_link);
	b->b_nports--;
	while (bus_queued(b, p) != 0)
		bus_frame_put(b, bus_pop_locked(b, p));
	hyper_mutex_exit(b->b_mtx);
	hyper_cv_destroy(p->bp_cv);
	bus_port_free(b, p);
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

		/* only what the port offloads: it sends what it is given */
		int csum = b->b_cfg.offload ? m->m_pkthdr.csum_flags &
		    (M_CSUM_TCPv4 | M_CSUM_UDPv4) : 0;

		/* offload: the checksum is computed only if someone looks */
		if (csum != 0 && (b->b_pcap != NULL || b->b_cfg.corrupt > 0 ||
		    __atomic_load_n(&b->b_ntaps, __ATOMIC_RELAXED) > 0 ||
		    ifp->if_pcap != NULL)) {
			in_delayed_cksum_at(m, ETHER_HDR_LEN);
			csum = 0;
		}
		if_tap(ifp, m);
		hyper_mutex_enter(b->b_mtx);
		if ((bf = bus_frame_get(b, (size_t)len)) == NULL) {
			hyper_mutex_exit(b->b_mtx);
			if_count(ifp, IFC_OERRORS, 1);
			m_freem(m);
			continue;
		}
		m_copydata(m, 0, len, bf->bf_data);
		bf->bf_csum = (uint16_t)csum;
		bus_send_locked(b, p, bf);
		hyper_mutex_exit(b->b_mtx);
		if_count(ifp, IFC_OPACKETS, 1);
		if_count(ifp, IFC_OBYTES, (uint64_t)len);
		m_freem(m);
	}
}

/*
 * Callout of port p, in softclock on vCPU 0 of its instance: the head of
 * the queue is due (or the clock passed the tick it was armed for): wake
 * the receive thread, which takes it or re-arms.
 */
static void
bus_rxtimer(void *arg)
{
	struct bus_port *p = arg;
	struct bus *b = p->bp_bus;

	hyper_mutex_enter(b->b_mtx);
	p->bp_wake = BUS_NEVER;
	if (p->bp_waiting)
		bus_rx_wake(p);
	hyper_mutex_exit(b->b_mtx);
}

/*
 * A burst of frames a receiver took: untimed, bb_n slots of the ring from
 * index bb_slot, which stay in it (senders write only past them) until
 * done; timed, the list bb_list, unlinked.
 */
struct bus_burst {
	struct bus_frame *bb_list;
	unsigned bb_slot;
	unsigned bb_n;
};

/*
 * The burst at the head of an untimed port's ring into *bb, for its
 * consumer (bp_busy taken), which lets go of the port if there is none.
 */
static bool
bus_ring_burst(struct bus_port *p, struct bus_burst *bb)
{
	unsigned tail = __atomic_load_n(&p->bp_rtail, __ATOMIC_ACQUIRE);

	bb->bb_list = NULL;
	bb->bb_slot = p->bp_rhead;
	bb->bb_n = MIN(tail - p->bp_rhead, BUS_RX_BURST);
	if (bb->bb_n == 0)
		bus_unclaim(p);
	return bb->bb_n != 0;
}

/*
 * Take the next burst of frames port p may hand to its interface into *bb
 * (false: none), and with it the port (bp_busy); b_mtx held.  On a timed
 * bus only frames due on the receiver's clock, a prefix of the queue.
 * When the head is not due and no callout is armed for its time or
 * earlier, *wakep becomes its time (else 0) for the caller to arm the
 * callout; bp_wake says so already, so that senders do not wake the
 * thread for it.
 *
 * A burst at a time, as a NIC's poll loop does: softnet runs when the vCPU
 * is released between bursts, so the input queue (NS_INQ_MAXLEN) never has
 * to hold more than one.
 */
static bool
bus_take_locked(struct bus *b, struct bus_port *p, struct bus_burst *bb,
    uint64_t *wakep)
{
	struct bus_frame *bf = p->bp_head, *last, *next;
	uint64_t now;
	unsigned n = 1;

	*wakep = 0;
	bb->bb_list = NULL;
	bb->bb_slot = 0;
	bb->bb_n = 0;
	/* a burst in flight (the other's) stays queued: wait for it */
	if (!bus_claim(p))
		return false;
	if (!b->b_timed)
		return bus_ring_burst(p, bb);
	if (bf == NULL) {
		bus_unclaim(p);
		return false;
	}
	if (bus_ft(bf)->bt_due > (now = bus_now(p->bp_kernel))) {
		/* bt_due > now >= 0: never 0, which means "nothing to arm" */
		if (bus_ft(bf)->bt_due < p->bp_wake)
			*wakep = p->bp_wake = bus_ft(bf)->bt_due;
		bus_unclaim(p);
		return false;
	}
	last = bf;
	while (n < BUS_RX_BURST && (next = last->bf_next) != NULL &&
	    bus_ft(next)->bt_due <= now) {
		last = next;
		n++;
	}
	p->bp_head = last->bf_next;
	if (p->bp_head == NULL)
		p->bp_tail = NULL;
	else
		bus_ft(p->bp_head)->bt_prev = NULL;
	last->bf_next = NULL;
	bb->bb_list = bf;
	bb->bb_n = n;
	return true;
}

/*
 * Arm p's callout for the tick of time due; the rx thread, holding vCPU 0.
 * Ticks count from the wheel's last tick, which may trail the clock but
 * never leads it: counted from the clock's tick, the callout fires at the
 * tick of due or before (then the thread just re-arms).  Only the clock
 * moving between reading it and arming could make it late: arm again.
 */
static void
bus_arm(struct bus_port *p, uint64_t due)
{
	struct rump_kernel *k = p->bp_kernel;
	uint64_t at = due / BUS_NS_PER_TICK + (due % BUS_NS_PER_TICK != 0);
	uint64_t now, then = kern_clock_ticks(k);

	do {
		now = then;
		callout_reset(&p->bp_ch, at <= now ? 1 :
		    (int)MIN(at - now, (uint64_t)__INT_MAX__), bus_rxtimer, p);
	} while ((then = kern_clock_ticks(k)) != now);
}

/* The lines of a short frame (header and data), read soon. */
static inline void
bus_frame_prefetch(const struct bus_frame *bf)
{
	__builtin_prefetch(bf);
	__builtin_prefetch((const char *)bf + CACHE_LINE_SIZE);
}

#define BUS_PREFETCH 4		/* frames ahead */

/*
 * Hand burst bb of port p up to its interface (copied into mbufs); returns
 * its frames, linked, for bus_input_done_locked().  Each frame was written
 * by the sender on another CPU: from the ring, the frame BUS_PREFETCH
 * slots ahead is prefetched, so that the misses overlap.
 */
static struct bus_frame *
bus_input_burst(struct bus_port *p, const struct bus_burst *bb)
{
	struct bus *b = p->bp_bus;
	struct ifnet *ifp = &p->bp_if;
	struct bus_frame *bf, *next = bb->bb_list, *done = NULL;
	unsigned slot = bb->bb_slot, ahead = slot, n = bb->bb_n;

	for (unsigned i = 0; p->bp_ring != NULL && i < MIN(n, BUS_PREFETCH);
	    i++)
		bus_frame_prefetch(p->bp_ring[ahead++ & b->b_rmask]);
	for (unsigned i = 0; i < n; i++) {
		struct mbuf *m;

		if (p->bp_ring != NULL) {
			if (i + BUS_PREFETCH < n)
				bus_frame_prefetch(
				    p->bp_ring[ahead++ & b->b_rmask]);
			bf = p->bp_ring[slot++ & b->b_rmask];
		} else {
			bf = next;
			next = bf->bf_next;
		}
		if ((m = m_devget(bf->bf_data, (int)bf->bf_len)) != NULL) {
			/* offload: a checksum left out was never at risk */
			m->m_pkthdr.csum_flags = bf->bf_csum;
			if_input(ifp, m);
		} else
			if_count(ifp, IFC_IQDROPS, 1);
		bf->bf_next = done;
		done = bf;
	}
	return done;
}

/*
 * After bus_input_burst(); b_mtx held: recycle the burst's frames (done),
 * take them off the queue, and let go of the port.  A poller's burst may
 * have kept the receive thread waiting for it without a timeout (it took
 * the port back meanwhile): wake it for what is left.
 */
static void
bus_input_done_locked(struct bus *b, struct bus_port *p,
    struct bus_frame *done, const struct bus_burst *bb)
{
	bus_frame_put_list(b, done);
	if (p->bp_ring != NULL)
		bus_ring_consumed(p, bb->bb_n);
	else
		p->bp_qlen -= bb->bb_n;
	bus_unclaim(p);
	if (p->bp_waiting && !p->bp_polled && bus_queued(b, p) != 0)
		bus_rx_wake(p);
}

/*
 * The same for the receive loop of an untimed port, without b_mtx: the
 * frames go back on b_returned, the slots to the senders (bp_rhead).
 * Nobody waits for the port but a poller, which does not sleep for it.
 */
static void
bus_input_done(struct bus *b, struct bus_port *p, struct bus_frame *done,
    const struct bus_burst *bb)
{
	bus_frame_return(b, done);
	bus_ring_consumed(p, bb->bb_n);
	bus_unclaim(p);
}

/*
 * The receive loop of an untimed port takes its next burst without b_mtx
 * (false: the queue is empty, a poller wants the port, or it goes away:
 * the loop takes the lock, to sleep, to share the port with the poller
 * under it, or to exit).
 */
static bool
bus_take(struct bus_port *p, struct bus_burst *bb)
{
	if (__atomic_load_n(&p->bp_polled, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&p->bp_exiting, __ATOMIC_RELAXED) ||
	    bus_ring_empty(p) || !bus_claim(p))
		return false;
	return bus_ring_burst(p, bb);
}

/*
 * Fiber mode: the receive loop waits for frames (b_mtx held, dropped
 * meanwhile).  Unpolled, its fiber parks until a sender, the callout or
 * the destructor unparks it, and the host thread runs its other fibers or
 * sleeps.  While a poller has the port the loop only lets the others run
 * (or sleeps up to the grace), and takes the port back once the poller
 * stayed away BUS_POLL_GRACE_NS from *since (0: now).
 */
static void
bus_rxfiber_wait(struct bus_port *p, uint64_t *since)
{
	struct bus *b = p->bp_bus;
	struct lwp *l = curlwp;
	bool polled = p->bp_polled;
	uint64_t now = 0;

	hyper_mutex_exit(b->b_mtx);
	if (!polled) {
		*since = 0;
		(void)hyper_fiber_park();
	} else {
		if (*since == 0)
			hyper_clock_gettime(HYPER_CLOCK_MONO, since);
		if (hyper_fiber_runnable())
			hyper_fiber_yield();
		else
			(void)hyper_fiber_wait(BUS_POLL_GRACE_NS);
		hyper_clock_gettime(HYPER_CLOCK_MONO, &now);
	}
	curlwp_set(l);
	hyper_mutex_enter(b->b_mtx);
	if (polled && p->bp_polled && now - *since >= BUS_POLL_GRACE_NS)
		bus_set_polled(p, false);		/* no poller came */
}

/*
 * Interrupt moderation (rx_coalesce_us): the receive loop, holding no
 * vCPU, emptied an untimed queue with a short burst; it sleeps before it
 * looks again, unless a poller has the port or it is to exit.  A fiber
 * loop sleeps its host thread, after its fibers had their turn (in
 * bus_rxthread()): one woken from another thread meanwhile waits for the
 * end of the sleep.  (hyper_fiber_wait() would end at such a wake-up, but
 * also at once whenever the loop's fiber holds a wake-up permit, which a
 * fiber that seldom parks keeps: it did not moderate at all.)
 */
static void
bus_rx_coalesce(struct bus_port *p)
{
	struct bus *b = p->bp_bus;

	if (b->b_cfg.rx_coalesce_us == 0 || p->bp_ring == NULL ||
	    __atomic_load_n(&p->bp_polled, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&p->bp_exiting, __ATOMIC_RELAXED))
		return;
	__atomic_fetch_add(&b->b_coalesced, 1, __ATOMIC_RELAXED);
	(void)hyper_clock_sleep((uint64_t)b->b_cfg.rx_coalesce_us * 1000u);
}

/*
 * The receive loop takes a burst, holding vCPU 0: first the ACKs held
 * since its last burst go (ack_pass; netstack.h, ns_ackpass), then the
 * burst's frames.
 */
static struct bus_frame *
bus_rx_pass(struct bus_port *p, const struct bus_burst *bb)
{
	struct netstack *ns = p->bp_if.if_kernel->k_net;

	if (p->bp_if.if_ackpass && netstack_ackpass_pending(ns)) {
		mutex_enter(&ns->ns_lock);
		netstack_ackpass_flush(ns);
		mutex_exit(&ns->ns_lock);
	}
	return bus_input_burst(p, bb);
}

static void
bus_rxthread(void *arg)
{
	struct bus_port *p = arg;
	struct bus *b = p->bp_bus;
	struct lwp *l = curlwp;
	struct bus_frame *done = NULL;
	struct bus_burst bb = { .bb_n = 0 };
	uint64_t wake, since;
	unsigned got;
	bool took;

	for (;;) {
		/* give the vCPU back (softnet runs here, inline), then wait */
		sched_release_softints(l);
		if (bb.bb_n != 0 && p->bp_ring != NULL) {
			/* untimed: from burst to burst without the lock */
			bus_input_done(b, p, done, &bb);
		} else if (bb.bb_n != 0) {
			hyper_mutex_enter(b->b_mtx);
			bus_input_done_locked(b, p, done, &bb);
			hyper_mutex_exit(b->b_mtx);
		}
		done = NULL;
		got = bb.bb_n;
		bb.bb_n = 0;
		if (p->bp_fiber != NULL && hyper_fiber_runnable()) {
			/*
			 * The fibers the softints woke take what arrived (and
			 * may busy-poll the port: it is not busy any more).
			 */
			hyper_fiber_yield();
			curlwp_set(l);
		}
		if (got != 0 && got < BUS_RX_BURST)
			bus_rx_coalesce(p);
		if (p->bp_ring != NULL && bus_take(p, &bb)) {
			sched_acquire(l);
			done = bus_rx_pass(p, &bb);
			continue;
		}
		hyper_mutex_enter(b->b_mtx);
		since = 0;
		for (;;) {
			if (p->bp_exiting) {
				hyper_mutex_exit(b->b_mtx);
				sched_acquire(l);
				return;
			}
			took = bus_take_locked(b, p, &bb, &wake);
			if (took || wake != 0)
				break;
			p->bp_waiting = true;
			if (p->bp_fiber != NULL)
				bus_rxfiber_wait(p, &since);
			else if (!p->bp_polled)
				hyper_cv_wait(p->bp_cv, b->b_mtx);
			else if (hyper_cv_timedwait(p->bp_cv, b->b_mtx,
			    BUS_POLL_GRACE_NS) != 0)
				bus_set_polled(p, false); /* no poller came */
			p->bp_waiting = false;
		}
		if (!took) {
			/* nothing due yet: a callout wakes us when it is */
			hyper_mutex_exit(b->b_mtx);
			sched_acquire(l);
			bus_arm(p, wake);
			continue;
		}
		hyper_mutex_exit(b->b_mtx);
		sched_acquire(l);
		done = bus_rx_pass(p, &bb);
	}
}

/*
 * Busy polling (ifnet if_poll): a burst taken by the calling LWP, which
 * holds vCPU 0 and the net lock, exactly as the receive thread would take
 * it.  While bp_polled is set, senders do not wake the receive thread.
 * A timed bus is left to the receive thread and its callouts.
 */
static int
bus_poll(struct ifnet *ifp, int budget)
{
	struct bus_port *p = ifp->if_softc;
	struct bus *b = p->bp_bus;
	struct bus_frame *done;
	struct bus_burst bb;
	uint64_t wake;

	(void)budget;		/* a burst is BUS_RX_BURST, below any budget */
	if (b->b_timed)
		return 0;
	/* a spinning poller peeks without the lock */
	if (p->bp_polled && bus_ring_empty(p) &&
	    !__atomic_load_n(&p->bp_busy, __ATOMIC_RELAXED))
		return 0;
	hyper_mutex_enter(b->b_mtx);
	if (!p->bp_polled) {
		/*
		 * The receive thread may sleep without a timeout: wake it so
		 * that it sleeps again with one, in case this poller does
		 * not come back (it keeps the port when it returns).
		 */
		bus_set_polled(p, true);
		if (p->bp_waiting)
			bus_rx_wake(p);
	}
	if (__atomic_load_n(&p->bp_busy, __ATOMIC_RELAXED)) {
		/* the receive thread took a burst and waits for our vCPU */
		hyper_mutex_exit(b->b_mtx);
		return -1;
	}
	if (!bus_take_locked(b, p, &bb, &wake)) {
		/* or the receive thread took it meanwhile, without the lock */
		bool busy = __atomic_load_n(&p->bp_busy, __ATOMIC_RELAXED);

		hyper_mutex_exit(b->b_mtx);
		return busy ? -1 : 0;
	}
	hyper_mutex_exit(b->b_mtx);
	done = bus_input_burst(p, &bb);
	hyper_mutex_enter(b->b_mtx);
	bus_input_done_locked(b, p, done, &bb);
	hyper_mutex_exit(b->b_mtx);
	return (int)bb.bb_n;
}

static void
bus_poll_done(struct ifnet *ifp)
{
	struct bus_port *p = ifp->if_softc;
	struct bus *b = p->bp_bus;

	hyper_mutex_enter(b->b_mtx);
	bus_set_polled(p, false);
	if (bus_queued(b, p) != 0 && p->bp_waiting)
		bus_rx_wake(p);
	hyper_mutex_exit(b->b_mtx);
}

/* ifnet destructor: the instance goes away, or rump_if_destroy(). */
static void
bus_if_destroy(struct ifnet *ifp)
{
	struct bus_port *p = ifp->if_softc;
	struct bus *b = p->bp_bus;

	/* stop the receive thread first: it hands frames to ifp */
	hyper_mutex_enter(b->b_mtx);
	__atomic_store_n(&p->bp_exiting, true, __ATOMIC_RELAXED);
	if (p->bp_waiting)
		bus_rx_wake(p);
	hyper_mutex_exit(b->b_mtx);
	sched_release(curlwp);		/* it needs the vCPU to exit */
	kthread_join(p->bp_rxthread);
	sched_acquire(curlwp);
	/*
	 * Only the thread armed the callout, but its handler may still run
	 * on vCPU 0 while we hold another: wait for it before p goes.
	 */
	callout_halt(&p->bp_ch, NULL);
	callout_destroy(&p->bp_ch);
	if_detach(ifp);
	bus_port_fini(p);
	hyper_free(p, sizeof(*p));
}

static int
bus_attach(struct rump_bus *rb, struct rump_kernel *k, const char *ifname,
    const uint8_t mac[6], unsigned *ifindex, bool fiber)
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
	if ((error = bus_port_init(b, p, mac, k)) != 0) {
		hyper_free(p, sizeof(*p));
		goto out;
	}
	callout_init_cpu(&p->bp_ch, CALLOUT_MPSAFE, &k->k_cpus[0]);
	memcpy(p->bp_if.if_xname, ifname, n + 1);
	memcpy(p->bp_if.if_lladdr, mac, 6);
	p->bp_if.if_mtu = ETHERMTU;
	if (b->b_cfg.offload) {
		p->bp_if.if_capenable = IFCAP_CSUM_TCPv4 | IFCAP_CSUM_UDPv4 |
		    IFCAP_TSOv4;
		p->bp_if.if_tsomax = IP_MAXPACKET;
	}
	p->bp_if.if_start = bus_start;
	p->bp_if.if_poll = bus_poll;
	p->bp_if.if_poll_done = bus_poll_done;
	p->bp_if.if_ackpass = b->b_cfg.ack_pass;	/* bus_rx_pass() */
	p->bp_if.if_destroy = bus_if_destroy;
	p->bp_if.if_softc = p;
	if_attach(k, &p->bp_if);
	/* the thread is named after the interface: "bus0rx" */
	char tname[IFNAMSIZ + 2];

	memcpy(tname, ifname, n);
	memcpy(tname + n, "rx", 3);
	error = kthread_create(k, KTHREAD_MUSTJOIN | KTHREAD_INTR |
	    (fiber ? KTHREAD_FIBER : 0), &k->k_cpus[0], bus_rxthread, p,
	    tname, &p->bp_rxthread);
	if (error) {
		callout_destroy(&p->bp_ch);
		if_detach(&p->bp_if);
		bus_port_fini(p);
		hyper_free(p, sizeof(*p));
		goto out;
	}
	/* before the fiber first runs: it runs when this thread lets it */
	if (fiber)
		p->bp_fiber = p->bp_rxthread->l_fiber;
	*ifindex = p->bp_if.if_index;
out:
	rump_unschedule();
	return hyper_errno_to_host(error);
}

int
rump_bus_attach(struct rump_bus *rb, struct rump_kernel *k, const char *ifname,
    const uint8_t mac[6], unsigned *ifindex)
{
	return bus_attach(rb, k, ifname, mac, ifindex, false);
}

int
rump_bus_attach_fiber(struct rump_bus *rb, struct rump_kernel *k,
    const char *ifname, const uint8_t mac[6], unsigned *ifindex)
{
	return bus_attach(rb, k, ifname, mac, ifindex, true);
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
	/* written so that a NaN fails too */
	if (!(cfg->loss >= 0 && cfg->loss <= 1) ||
	    !(cfg->duplicate >= 0 && cfg->duplicate <= 1) ||
	    !(cfg->corrupt >= 0 && cfg->corrupt <= 1) ||
	    !(cfg->ce >= 0 && cfg->ce <= 1) ||
	    !(cfg->reorder >= 0 && cfg->reorder <= 1) ||
	    (cfg->reorder > 0 && cfg->reorder_ns == 0) ||
	    cfg->delay_ns > BUS_DELAY_MAX || cfg->jitter_ns > BUS_DELAY_MAX ||
	    cfg->reorder_ns > BUS_DELAY_MAX || cfg->queue_max > BUS_QUEUE_LIMIT ||
	    cfg->rx_coalesce_us > BUS_COALESCE_MAX_US)
		return hyper_errno_to_host(EINVAL);
	if ((error = hyper_init(HYPER_VERSION)) != 0)
		return hyper_errno_to_host(error);
	if ((error = hyper_malloc(sizeof(*b), CACHE_LINE_SIZE, &mem)) != 0)
		return hyper_errno_to_host(error);
	b = mem;
	memset(b, 0, sizeof(*b));
	b->b_cfg = *cfg;
	b->b_cfg.pcap_path = NULL;
	if (b->b_cfg.queue_max == 0)
		b->b_cfg.queue_max = BUS_QUEUE_MAX;
	/* the ring: a power of two of slots, for the index arithmetic */
	b->b_rmask = 1;
	while (b->b_rmask < b->b_cfg.queue_max)
		b->b_rmask <<= 1;
	b->b_rmask--;
	/* reorder_ns alone (reorder 0) holds nothing back */
	b->b_timed = cfg->delay_ns != 0 || cfg->jitter_ns != 0 ||
	    cfg->reorder > 0 || cfg->rate_bps != 0;
	b->b_rng = cfg->seed ? cfg->seed : 1;
	list_init(&b->b_ports);
	if ((error = hyper_mutex_init(&b->b_mtx)) != 0)
		goto fail;
	if (cfg->pcap_path != NULL &&
	    (error = hyper_pcap_open(cfg->pcap_path, HYPER_PCAP_ETHERNET,
	    65535, &b->b_pcap)) != 0)
		goto fail;
	*bp = (struct rump_bus *)b;
	return 0;
fail:
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
	/* the ports are gone: so are their receive loops */
	bus_frame_put_host(b->b_free);
	bus_frame_put_host(b->b_returned);
	hyper_mutex_exit(b->b_mtx);
	if (b->b_pcap != NULL)
		hyper_pcap_close(b->b_pcap);
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
	st->rx_coalesced = __atomic_load_n(&b->b_coalesced, __ATOMIC_RELAXED);
}

/*
 * Nothing due queued for an interface, no receive thread busy; b_mtx held.
 * Frames not due yet do not count (rump_bus_quiesce() says why).
 */
static bool
bus_idle_locked(struct bus *b)
{
	struct list_node *ln;

	for (ln = b->b_ports.ln_next; ln != &b->b_ports; ln = ln->ln_next) {
		struct bus_port *p = container_of(ln, struct bus_port, bp_link);

		if (p->bp_kernel == NULL)
			continue;
		if (__atomic_load_n(&p->bp_busy, __ATOMIC_ACQUIRE))
			return false;
		if (!b->b_timed ? bus_queued(b, p) != 0 : p->bp_head != NULL &&
		    bus_ft(p->bp_head)->bt_due <= bus_now(p->bp_kernel))
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

int
rump_bus_pending(struct rump_bus *rb, unsigned *frames)
{
	struct bus *b = (struct bus *)rb;
	struct list_node *ln;
	unsigned n = 0;

	if (frames == NULL)
		return hyper_errno_to_host(EINVAL);
	hyper_mutex_enter(b->b_mtx);
	for (ln = b->b_ports.ln_next; b->b_timed && ln != &b->b_ports;
	    ln = ln->ln_next) {
		struct bus_port *p = container_of(ln, struct bus_port, bp_link);
		struct bus_frame *bf;
		uint64_t now;

		if (p->bp_kernel == NULL)
			continue;	/* a tap takes any frame at once */
		now = bus_now(p->bp_kernel);
		/* the queue is in time order: count from its end */
		for (bf = p->bp_tail; bf != NULL && bus_ft(bf)->bt_due > now;
		    bf = bus_ft(bf)->bt_prev)
			n++;
	}
	hyper_mutex_exit(b->b_mtx);
	*frames = n;
	return 0;
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

	if ((error = hyper_malloc(sizeof(*t), CACHE_LINE_SIZE, &mem)) != 0)
		return hyper_errno_to_host(error);
	t = mem;
	if ((error = bus_port_init(b, &t->t_port, mac, NULL)) != 0) {
		hyper_free(t, sizeof(*t));
		return hyper_errno_to_host(error);
	}
	hyper_mutex_enter(b->b_mtx);
	b->b_ntaps++;
	hyper_mutex_exit(b->b_mtx);
	*tp = t;
	return 0;
}

void
rump_bus_tap_close(struct rump_bus_tap *t)
{
	struct bus *b = t->t_port.bp_bus;

	hyper_mutex_enter(b->b_mtx);
	b->b_ntaps--;
	hyper_mutex_exit(b->b_mtx);
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
	while (bus_queued(b, p) == 0) {
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
	/* no clock: a tap takes the head whether due or not */
	bf = bus_pop_locked(b, p);
	*len = bf->bf_len;
	if (buf != NULL)
		memcpy(buf, bf->bf_data, MIN(buflen, bf->bf_len));
	bus_frame_put(b, bf);
	hyper_mutex_exit(b->b_mtx);
	return 0;
}
