/*
 * rumpnet/bus.h -- the in-memory Ethernet bus (like NetBSD's shmif).
 *
 * Any number of interfaces, of one or several instances in this process,
 * attach to a bus and see each other's frames: unicast frames reach the
 * port with that MAC, broadcast and multicast frames reach every other
 * port.  A test can also open a tap: a port with no instance behind it
 * that sends raw frames and receives copies (of every frame, when
 * promiscuous), for "bytes in, bytes out" tests.
 *
 * Impairments are drawn from a generator seeded by the configuration, so a
 * run repeats exactly for a seed (given the same order of sends).
 *
 * Time.  delay_ns, jitter_ns, reorder and rate_bps give each copy of a
 * frame on the wire (a duplicate is drawn anew) a delivery time, on the
 * clock of the SENDING instance at send time:
 *
 *   delivery = leave + delay_ns + U[0, jitter_ns]
 *              + (reorder_ns, with probability reorder)
 *
 * where leave is the send time or, with rate_bps, the time the frame's
 * last bit leaves the sender: frames queue behind each other on the
 * sending port, each taking len * 8 / rate_bps seconds (len: the Ethernet
 * frame without preamble or FCS); at most queue_max wait, the excess is
 * dropped and counted in ratedrops.  A frame held back by the reorder knob
 * is overtaken by the frames sent up to reorder_ns after it; jitter
 * reorders frames sent less than jitter_ns apart.
 *
 * A receiving port keeps its queue in delivery-time order (equal times in
 * send order) and hands a frame to its interface once the RECEIVER's clock
 * has reached the first tick (1 ms, the callout granularity) at or after
 * the delivery time.  The clocks of the instances must therefore agree:
 * all virtual and advanced together with rump_clock_advance() (then
 * minutes of network time run in seconds, and the order of delivery
 * repeats for a seed), or all real (the bus then compares them on the
 * host's clock, whenever each instance started).  Each interface wakes at
 * the next delivery time with a callout of its instance: a real clock
 * ticks them on its clock thread (clock_thread must be on), a virtual one
 * in rump_clock_advance().
 *
 * Taps have no clock: what a tap sends skips delay, jitter, reordering and
 * the rate limit (loss, duplication and corruption still apply), and a tap
 * receives each frame as soon as it is queued, in delivery-time order.
 * With all four knobs 0 the bus never reads a clock.
 *
 * Functions return 0 or a host errno value.
 */
#ifndef RUMPNET_BUS_H
#define RUMPNET_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "rumpnet/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rump_bus;
struct rump_bus_tap;

struct rump_bus_config {
	uint64_t seed;			/* impairment generator */
	double loss;			/* probability a frame is lost */
	double duplicate;		/* probability a frame arrives twice */
	double corrupt;			/* probability one byte is flipped */
	/*
	 * Frames queued per port (0: 4096, at most 1048576): on a receiving
	 * port, including those not yet due; on a sending port with
	 * rate_bps, those waiting for the wire.
	 */
	unsigned queue_max;
	const char *pcap_path;		/* capture of every frame, or NULL */
	/* time (see above); each of the three delays at most one hour */
	uint64_t delay_ns;		/* fixed one-way delay */
	uint64_t jitter_ns;		/* plus U[0, jitter_ns] per frame */
	double reorder;			/* probability a frame is held back */
	uint64_t reorder_ns;		/* by this much (> 0 when reorder > 0) */
	uint64_t rate_bps;		/* bits/s leaving each port (0: no limit) */
	/*
	 * Offloads, as Linux's lo and veth have them: the instances' ports
	 * take TCP segments of up to 64 KiB (TSO; the frame crosses the bus
	 * whole, as a GSO packet crosses lo) and leave TCP and UDP checksums
	 * to the "hardware": a frame whose checksum was left out arrives marked
	 * checked, since it never left memory.  The bus computes it after
	 * all when the frame is captured, goes to a tap, or may be
	 * corrupted.  Off by default.
	 */
	bool offload;
	/*
	 * ECN marking (RFC 3168 5), what an AQM router does instead of
	 * dropping: the probability that an IPv4 frame whose ECN field is
	 * ECT(0) or ECT(1) arrives with it set to CE (the header checksum
	 * updated as RFC 1624 has it).  Frames that are not ECN-capable are
	 * never touched, and cost no draw.  0 by default.
	 */
	double ce;
	/*
	 * Receive interrupt moderation, as a NIC's rx-usecs: an interface's
	 * receive loop that found fewer frames than a full burst (64), and so
	 * emptied its queue, sleeps this long (host time, at most 1000 us;
	 * the host may add its timer slack, 50 us by default on Linux)
	 * before it looks again, so that frames reach it in bursts and it
	 * leaves the CPU meanwhile, at the price of up to that much latency
	 * for the frames that arrive in the wait, and of a timed wake-up
	 * after every short burst (a lone frame's too).
	 * It does not sleep while a busy poller has the interface.  A fiber
	 * port (rump_bus_attach_fiber()) first lets the thread's runnable
	 * fibers run, then sleeps the thread: a fiber woken from another
	 * thread meanwhile waits for the end of the sleep.
	 * Untimed bus only (ignored with delay, jitter, reorder or rate_bps);
	 * 0 (the default): look again at once.
	 */
	unsigned rx_coalesce_us;
	/*
	 * The instances' ports hold TCP's ACK of a SYN-ACK, and of a FIN
	 * that comes in ESTABLISHED, as a DPDK port does by default
	 * (rump_dpdk_config.ack_now): what the application sends first
	 * carries it, or the port's receive loop sends it at the start of
	 * its next burst, or a busy poller, or its delayed-ACK timer.
	 * Unlike a DPDK loop, which passes all the time, the bus's loop
	 * sleeps while nothing comes: when the peer waits for that very ACK
	 * (its accept(), a server that speaks first; its FIN's ACK while
	 * the application does not close) it comes with the timer, 40 ms
	 * late.  Off by default: the ACK goes at once, as the BSDs send it.
	 */
	bool ack_pass;
};

struct rump_bus_stats {
	uint64_t frames;		/* frames sent onto the bus */
	uint64_t lost;			/* dropped by the loss knob */
	uint64_t duplicated;
	uint64_t corrupted;
	uint64_t qdrops;		/* a receiver's queue was full */
	uint64_t delivered;		/* copies queued for receivers */
	uint64_t delayed;		/* copies due later than sent */
	uint64_t reordered;		/* copies held back by the reorder knob */
	uint64_t ratedrops;		/* a sender's queue was full (rate_bps) */
	uint64_t marked;		/* ECT frames marked CE (the ce knob) */
	uint64_t rx_coalesced;		/* rx_coalesce_us sleeps of the ports */
};

void rump_bus_config_default(struct rump_bus_config *cfg);
/*
 * rump_bus_create: 0, EINVAL (a probability outside 0..1, a delay over an
 * hour, reorder without reorder_ns, rx_coalesce_us over 1000), ENOMEM, or
 * the capture file's error.
 */
int rump_bus_create(const struct rump_bus_config *cfg, struct rump_bus **bp);
/* rump_bus_destroy: 0, or EBUSY while interfaces or taps are attached. */
int rump_bus_destroy(struct rump_bus *b);
void rump_bus_stats(struct rump_bus *b, struct rump_bus_stats *st);

/*
 * rump_bus_attach: create interface ifname (e.g. "bus0") with MAC mac in
 * instance k, on bus b.  It has a receive thread (a hardware interrupt LWP
 * on vCPU 0) and goes away with rump_if_destroy() or the instance.  Returns
 * 0 and *ifindex, EEXIST (name taken), EINVAL, ENOMEM.
 */
int rump_bus_attach(struct rump_bus *b, struct rump_kernel *k,
    const char *ifname, const uint8_t mac[6], unsigned *ifindex);
/*
 * rump_bus_attach_fiber: the same, but the receive loop is a fiber of the
 * calling host thread (see "fibers" in kernel.h) instead of a host thread:
 * it takes frames only while that thread runs its fibers (in
 * rump_fiber_run() or rump_fiber_yield(), or blocked in a rumpnet call if
 * the thread is bound with rump_thread_bind()), and hands the
 * thread's application fibers what the soft interrupts woke them for
 * without a host thread wake-up.  That thread must remove the interface
 * (or the instance) before it ends.
 */
int rump_bus_attach_fiber(struct rump_bus *b, struct rump_kernel *k,
    const char *ifname, const uint8_t mac[6], unsigned *ifindex);

/*
 * rump_bus_quiesce: wait until no frame that is due is queued for an
 * interface, no receive thread is busy and the instances attached have no
 * soft interrupt pending or running.  Frames not due yet (delay, jitter,
 * reordering, rate limit) do not count: on a virtual clock they wait for
 * the test to advance the clocks, so counting them would make the bus
 * never quiet.  To deliver them, advance every instance's clock and
 * quiesce again.  Returns 0, or ETIMEDOUT after timeout_ms.
 */
int rump_bus_quiesce(struct rump_bus *b, unsigned timeout_ms);
/*
 * rump_bus_pending: *frames becomes the number of frames queued for
 * interfaces and not due yet on their receiver's clock.  Returns 0, or
 * EINVAL when frames is NULL.
 */
int rump_bus_pending(struct rump_bus *b, unsigned *frames);

/* A tap: mac NULL means promiscuous (receives every frame). */
int rump_bus_tap_open(struct rump_bus *b, const uint8_t mac[6],
    struct rump_bus_tap **tp);
void rump_bus_tap_close(struct rump_bus_tap *t);
/* rump_bus_tap_send: put a raw frame on the bus.  0, EINVAL, ENOMEM. */
int rump_bus_tap_send(struct rump_bus_tap *t, const void *frame, size_t len);
/*
 * rump_bus_tap_recv: the next frame the tap received, up to buflen bytes
 * (*len is the frame's full length).  Waits up to timeout_ms.  Returns 0,
 * or EAGAIN when nothing arrived in time.
 */
int rump_bus_tap_recv(struct rump_bus_tap *t, void *buf, size_t buflen,
    size_t *len, unsigned timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* RUMPNET_BUS_H */
