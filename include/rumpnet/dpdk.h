/*
 * rumpnet/dpdk.h -- DPDK ports as rumpnet interfaces (dpdk0, dpdk1, ...).
 *
 * The process initialises DPDK's EAL once (rump_dpdk_init()), then attaches
 * ports to instances: each attachment is one RX/TX queue pair of one
 * rte_ethdev port, an ifnet in the instance, and a poll loop: a hardware
 * interrupt LWP of the instance that receives bursts, hands the frames to
 * Ethernet input, releases its vCPU (soft interrupts run there, inline) and
 * sends what the stack queued meanwhile in bursts.
 *
 * Large buffers are not copied: a received rte_mbuf becomes the external
 * storage of a kernel mbuf, and a kernel mbuf chain being sent is attached
 * to rte_mbufs as external buffers, on ports whose PMD copies what it
 * sends with the CPU (net_ring, net_af_packet, net_tap, net_pcap,
 * net_null, net_memif without zero-copy).  Other ports (physical NICs,
 * whose DMA needs IO addresses the kernel's memory does not have;
 * virtio-user, vhost, memif's zero copy, PMDs not known here), and
 * tx_copy, copy on transmit instead.  Frames of at most 256 bytes are
 * copied on transmit on every port: the copy costs less than attaching.
 *
 * Every function returns 0 or a host errno value; a DPDK failure also
 * prints DPDK's reason on stderr.
 */
#ifndef RUMPNET_DPDK_H
#define RUMPNET_DPDK_H

#include <stdbool.h>
#include <stdint.h>

#include "rumpnet/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * rump_dpdk_init: initialise the EAL with args, split at white space as a
 * shell would not (no quoting), e.g. "--no-huge --no-shconf -l 0
 * --vdev=net_tap0".  NULL or "" means RUMP_DPDK_DEFAULT_EAL.  The EAL can
 * be initialised once per process: a second call with any arguments
 * returns 0 and changes nothing.  EINVAL: the EAL refused the arguments;
 * ENODEV: DPDK is not built in; EALREADY: after rump_dpdk_fini().
 */
#define RUMP_DPDK_DEFAULT_EAL "--no-huge --no-shconf --no-pci -m 512 --log-level=*:warning"
int rump_dpdk_init(const char *eal_args);
/*
 * rump_dpdk_fini: stop and close every port and release the EAL (at the
 * end of a process, so that the PMDs release what they hold).  The EAL
 * cannot be initialised again afterwards.  EBUSY while an interface is
 * still attached (nothing is done); 0 when the EAL was never initialised.
 */
int rump_dpdk_fini(void);
/* rump_dpdk_available: DPDK support was built in (meson -Ddpdk=enabled/auto). */
bool rump_dpdk_available(void);

/*
 * rump_dpdk_ring_pair: create two connected net_ring ports (a wire inside
 * the process: what one sends the other receives), nqueues queue pairs
 * each, named "<name>a" and "<name>b".  After rump_dpdk_init().  Their
 * rings are single-producer, single-consumer: the ports are for
 * rump_dpdk_attach(), which sends and receives on a queue pair from one
 * thread at a time.  EEXIST: a port of that name exists; ENOMEM.
 */
int rump_dpdk_ring_pair(const char *name, unsigned nqueues);

enum rump_dpdk_idle {
	RUMP_DPDK_IDLE_SLEEP = 0,	/* spin idle_spin_us, then sleep (default) */
	RUMP_DPDK_IDLE_BUSY = 1,	/* never sleep */
};

struct rump_dpdk_config {
	/*
	 * The port: its DPDK name ("net_tap0", "net_ring0a", "0000:01:00.0")
	 * or its port number as a decimal string ("0").
	 */
	const char *port;
	/*
	 * A port is set up once, by its first attachment: nqueues, rx_desc,
	 * tx_desc, mbufs, tx_copy, virtual_offload, dispatch and rss are
	 * that attachment's for as long as the process runs (a later one
	 * must agree on dispatch and rss, or is refused with EINVAL).
	 */
	unsigned queue;			/* RX/TX queue pair this ifnet uses */
	unsigned nqueues;		/* queue pairs to set up (0: queue + 1) */
	unsigned rx_desc, tx_desc;	/* ring sizes (0: 1024 each) */
	unsigned mbufs;			/* receive mempool size (0: 8191) */
	enum rump_dpdk_idle idle;
	unsigned idle_spin_us;		/* spin this long with no frames (0: 200) */
	unsigned idle_sleep_us;		/* then sleep this long (0: 100, max 1000) */
	bool tx_copy;			/* copy on transmit even when zero copy works */
	/*
	 * TCP's ACK of a SYN-ACK, and of a FIN that comes in ESTABLISHED,
	 * goes at once, as the BSDs send it.  Default (false): while this
	 * interface is attached, the instance holds such an ACK, on every
	 * connection it has (over any interface), until the next pass of
	 * this loop or of a busy poller, so that what the application
	 * sends meanwhile (the request after connect(), the FIN of the
	 * close() after reading the end) carries it: a connect-request-
	 * close transaction in 7 frames instead of 9.  It is owed as a
	 * delayed ACK is, and goes no later (40 ms) when no pass comes.
	 */
	bool ack_now;
	bool promisc;			/* receive every frame */
	/*
	 * The port is a net_ring whose other end is a rumpnet instance of
	 * this process: like Linux's veth, the stack hands it TCP segments
	 * of up to 64 KiB and leaves checksums out, and the peer, seeing
	 * the offload flags on the rte_mbuf it receives, takes them as
	 * checked.  Ignored (with a message) on other PMDs, whose frames
	 * cannot carry the flags.
	 */
	bool virtual_offload;
	int cpu;			/* pin the poll loop to this host CPU (-1: no) */
	/*
	 * Run the poll loop as a fiber of the calling host thread instead of
	 * a host thread of its own (cpu is then ignored: pin the caller).
	 * The caller's thread must run its fibers (rump_fiber_run(), or
	 * blocking calls of a bound thread); the loop gives the core to the
	 * application's fibers after every burst, and frames they send go
	 * out in the loop's next burst.
	 */
	bool fiber;
	/*
	 * Software RSS for a port without it (net_ring, net_memif,
	 * net_pcap, a single-queue NIC): queue pairs 0..nqueues-1 are
	 * attached by nqueues instances (usually one per core), and queue
	 * 0's poll loop receives from all of the port's receive queues and
	 * hands each frame to the instance that owns its flow: the Toeplitz
	 * hash (Microsoft's key) of its IPv4 addresses and TCP/UDP ports
	 * through a 128-entry redirection table, entry i = i % nqueues, as
	 * a NIC with RSS would.  Frames not of one flow (ARP, broadcasts)
	 * go to every instance.  Each instance sends on its own queue, and
	 * its connect() ports are chosen so that replies hash to it
	 * (rump_rss_set() with instance = queue of nqueues).  Every
	 * attachment of the port must set it, with the same nqueues;
	 * queue 0 must be attached for the others to receive.
	 */
	bool dispatch;
	/*
	 * The port's own RSS instead, for NICs that have it: the port is
	 * configured with nqueues queue pairs, RSS over IPv4 TCP/UDP (and
	 * the addresses of other IPv4) with Microsoft's key, and its
	 * redirection table filled as the dispatcher's (entry i = i %
	 * nqueues); each instance receives from its own queue.  EINVAL when
	 * the PMD has no such RSS (a table of a multiple of 128 entries, a
	 * 40-byte key, IPv4 TCP and UDP hashing): use dispatch.  What a NIC
	 * cannot give its owner is passed on between the instances through
	 * rings, as dispatch does: an ICMP error (hashed by its addresses)
	 * to the instance of the flow it quotes; ARP, broadcasts, multicasts
	 * and anything but IPv4 (on whichever queue the NIC put them) to
	 * every instance.  Tested with net_null, which takes the table and
	 * key (read back, they give every flow the dispatcher's owner) but
	 * receives nothing; no NIC that hashes frames was at hand.
	 */
	bool rss;
};

void rump_dpdk_config_default(struct rump_dpdk_config *cfg);

/*
 * rump_dpdk_attach: configure and start the port (when no attachment has
 * yet) and create interface "dpdkN" in k for queue pair cfg->queue, with
 * the port's MAC address and MTU (1500 unless the port says less).
 * Returns 0 and *ifindex, ENODEV (no such port), EBUSY (queue already
 * attached), EINVAL (bad queue count or configuration the PMD refused),
 * ENOMEM (mempool), EIO (the port failed to start).
 */
int rump_dpdk_attach(struct rump_kernel *k, const struct rump_dpdk_config *cfg,
    unsigned *ifindex);

/*
 * rump_dpdk_port_stats: the port's own counters (rte_eth_stats), whole
 * since it started: packets and bytes, ierrors, oerrors, imissed (the
 * NIC had no room), rx_nombuf (the mempool was empty).  Once a second
 * their growth since the attachment goes into the interface counters of
 * the instance on queue 0 (ierrors, oerrors; imissed and rx_nombuf as
 * iqdrops), and this queue's tx_dropped into its own (oqdrops).
 */
struct rump_dpdk_stats {
	uint64_t ipackets, opackets, ibytes, obytes;
	uint64_t imissed, ierrors, oerrors, rx_nombuf;
	uint64_t tx_copied;		/* frames over 256 bytes sent through
					   the copy path (no zero copy here,
					   or it failed) */
	uint64_t tx_small;		/* frames of at most 256 bytes, copied
					   on any port (cheaper than zero copy) */
	uint64_t tx_recycled;		/* of those, into an rte_mbuf of the
					   pool the queue last received from
					   (the poller has just freed one) */
	uint64_t tx_full;		/* bursts the PMD did not take at once */
	uint64_t tx_dropped;		/* frames not sent (no rte_mbuf, or the
					   PMD kept refusing them) */
	uint64_t rx_copied;		/* received frames of another instance's
					   memory, copied */
	uint64_t rx_lowcopied;		/* received frames copied because their
					   mempool was running low (below a
					   quarter free): the stack holds no
					   more of it while they wait */
	uint64_t tx_gathered;		/* frames of too many pieces, gathered
					   into clusters before sending */
	uint64_t tx_stale;		/* frames an earlier attachment of the
					   queue sent, that came back after it
					   was closed without them (dropped) */
	uint64_t rx_steered;		/* dispatch, rss: frames steered to
					   this queue pair (broadcast copies
					   too) */
	uint64_t rx_steer_drops;	/* dispatch, rss: frames for it dropped
					   (inbox full, not attached, no
					   mbuf for a copy) */
	/*
	 * The port filters multicast on the MACs of the groups its
	 * instances joined (and 224.0.0.1's), mc_addrs of them; false:
	 * it receives every multicast (the PMD cannot filter, or more
	 * than 32 MACs; ports start so)
	 */
	bool mc_filter;
	uint32_t mc_addrs;
	bool link_up;			/* a port bound to a host interface
					   (net_tap): up once that interface
					   has left this network namespace
					   (its state is not seen there) */
	uint32_t link_speed_mbps;
};
int rump_dpdk_port_stats(struct rump_kernel *k, unsigned ifindex,
    struct rump_dpdk_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* RUMPNET_DPDK_H */
