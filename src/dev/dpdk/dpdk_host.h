/*
 * dpdk_host.h -- between the two halves of the DPDK driver.
 *
 * The host half (dpdk_host.c) is the only file that includes DPDK's
 * headers: EAL, ports, queues, mempools, bursts.  The kernel half
 * (if_dpdk.c) is an ifnet and its poll loop.  They meet here, in types
 * that need no host header:
 *
 *   kernel -> host   dpdk_host_rx() a burst of received frames, each a
 *                    chain of segments named by cookies;
 *                    dpdk_host_rx_free() gives a segment back;
 *                    dpdk_host_tx() a burst of frames, each a list of
 *                    segments in kernel memory, attached as external
 *                    buffers (zero copy: the host holds the frame's token
 *                    until the PMD is done with it) or copied;
 *   host -> kernel   dpdk_host_tx_reap(): the tokens of frames the PMD is
 *                    done with, collected from whatever thread freed them,
 *                    for the poll loop to free in the kernel.
 *
 * Calls return 0 or a kernel errno value, as hypercalls do.  One struct
 * dpdk_queue is one RX/TX queue pair of a port, used by one attachment;
 * its rx and tx calls are made by one thread at a time (the vCPU holder).
 */
#ifndef DEV_DPDK_DPDK_HOST_H
#define DEV_DPDK_DPDK_HOST_H

/* freestanding headers only: the host half includes host <errno.h> */
#include <stdbool.h>
#include <stdint.h>

struct dpdk_queue;

#define DPDK_BURST 32
#define DPDK_MC_MAX 32			/* multicast MACs one attachment filters */
#define DPDK_TX_MAXSEGS 64		/* segments of one frame, zero copy */

struct dpdk_port_info {
	uint8_t mac[6];
	unsigned mtu;			/* the port's MTU */
	bool tx_csum_tcp;		/* TCP checksum computed by the port */
	bool tx_tso;			/* TCP segmentation by the port */
	unsigned tso_max;		/* largest TSO frame */
	bool zerocopy;			/* frames are attached, not copied */
	bool rss;			/* RSS programmed: flows spread by the port */
	char driver[32];		/* e.g. "net_ring" */
};

/*
 * dpdk_host_zerocopy_ok: may a port of PMD driver on bus (with devargs,
 * or NULL) send frames attached as external buffers?  Only where the PMD
 * is known to copy them with the CPU, in this process: net_ring (the peer
 * end is here), net_af_packet, net_tap, net_pcap, net_null, and
 * net_memif unless its zero-copy is on (its descriptors then carry
 * offsets into the shared regions, which our memory is not in: the peer
 * read garbage and crashed).  Not NICs (DMA needs rte_extmem_register),
 * nor virtio-user (its backend maps only DPDK's own memory), nor vhost or
 * a PMD not known here (vhost's asynchronous mode hands copies to DMA):
 * those get the copy path.
 */
bool dpdk_host_zerocopy_ok(const char *driver, const char *bus,
    const char *devargs);

/* rx frame flags */
#define DPDK_RX_L4_OK 0x01		/* TCP/UDP checksum checked (or never computed: virtual offload) */
#define DPDK_RX_L4_BAD 0x02
#define DPDK_RX_COPY 0x04		/* data is not the port's: copy it now */

struct dpdk_rxframe {
	void *data;			/* first segment */
	unsigned len;			/* of the first segment */
	unsigned pktlen;		/* of the whole frame */
	void *cookie;			/* first segment, for rx_next / rx_free */
	unsigned flags;			/* DPDK_RX_* */
};

/* tx frame flags */
#define DPDK_TX_CSUM_TCP 0x01		/* the port computes the TCP checksum */
#define DPDK_TX_TSO 0x02		/* the port cuts it in tso_segsz pieces */

struct dpdk_txseg {
	void *data;
	unsigned len;
};

struct dpdk_txframe {
	struct dpdk_txseg *segs;
	unsigned nsegs;
	unsigned pktlen;
	unsigned flags;			/* DPDK_TX_* */
	unsigned l3len, l4len;		/* IPv4 and TCP header lengths (offloads) */
	unsigned tso_segsz;
	void *token;			/* given back by dpdk_host_tx_reap() */
	bool held;			/* out: the host holds token until reaped */
	bool sent;			/* out: the PMD took it */
};

/* Process-wide. */
int dpdk_host_init(const char *eal_args);
int dpdk_host_ring_pair(const char *name, unsigned nqueues);

struct dpdk_open_args {
	const char *port;		/* name or number */
	unsigned queue, nqueues;
	unsigned rx_desc, tx_desc, mbufs;
	bool tx_copy, promisc, virtual_offload;
	bool dispatch;			/* software RSS (dpdk_host.c) */
	bool rss;			/* the port's own RSS, same hash */
};
/*
 * dpdk_host_open: set the port up and started (first attachment), claim
 * queue pair queue.  ENODEV, EBUSY, EINVAL, ENOMEM, EIO; a message on
 * stderr says what DPDK refused.
 */
int dpdk_host_open(const struct dpdk_open_args *a, struct dpdk_port_info *info,
    struct dpdk_queue **qp);
/*
 * dpdk_host_close: give the queue pair back (the port keeps running for
 * other attachments).  Frames still held (dpdk_host_outstanding() > 0)
 * are waited for up to timeout_ms, draining the receive queues of ports
 * nobody attaches (net_ring peers gone) meanwhile; their tokens are
 * handed to reap(token, arg) as they come back.  Returns 0, or ETIMEDOUT
 * with frames still held (their kernel memory must then be kept).
 */
int dpdk_host_close(struct dpdk_queue *q, unsigned timeout_ms,
    void (*reap)(void *token, void *arg), void *arg);

/*
 * dpdk_host_thread_register: give the calling thread (a poll loop, a busy
 * poller) a DPDK lcore cache, once; unregister gives it back.
 */
void dpdk_host_thread_register(void);
void dpdk_host_thread_unregister(void);

/*
 * dpdk_host_rx: up to n received frames into fr; returns how many.  The
 * segments after the first: dpdk_host_rx_next() on the previous cookie
 * (NULL at the end).  Every segment goes back through dpdk_host_rx_free().
 */
unsigned dpdk_host_rx(struct dpdk_queue *q, struct dpdk_rxframe *fr,
    unsigned n);
void *dpdk_host_rx_next(void *cookie, void **data, unsigned *len);
void dpdk_host_rx_free(void *cookie);

/*
 * dpdk_host_tx: send n frames; returns how many the PMD took.  Frames it
 * did not take were dropped (counted) after DPDK_TX_RETRIES tries, or
 * before (no rte_mbuf), so the ones taken need not be the first: for
 * each frame, sent says whether it went, and held whether its token
 * comes back later through dpdk_host_tx_reap() (otherwise the kernel
 * frees the frame now).
 */
unsigned dpdk_host_tx(struct dpdk_queue *q, struct dpdk_txframe *fr,
    unsigned n);
/* dpdk_host_tx_reap: up to n tokens of frames the PMD is done with. */
unsigned dpdk_host_tx_reap(struct dpdk_queue *q, void **tokens, unsigned n);
/* dpdk_host_outstanding: frames held (sent, not yet reaped). */
unsigned long dpdk_host_outstanding(struct dpdk_queue *q);

struct rump_dpdk_stats;
/*
 * dpdk_host_stats: the port's counters and the queue's own, all of
 * rumpnet/dpdk.h's record but tx_gathered (the kernel half's).
 */
void dpdk_host_stats(struct dpdk_queue *q, struct rump_dpdk_stats *st);
/*
 * dpdk_host_mcast: the multicast MACs q's instance receives (n of them;
 * more than DPDK_MC_MAX: every multicast).  The port's filter becomes
 * the union of its attachments' (rte_eth_dev_set_mc_addr_list(), with
 * all-multicast off), or all-multicast when the PMD cannot filter or the
 * union is too long.
 */
void dpdk_host_mcast(struct dpdk_queue *q, const uint8_t (*macs)[6],
    unsigned n);

/* dpdk_host_pin: pin the calling thread to host CPU cpu. */
int dpdk_host_pin(int cpu);

#endif /* DEV_DPDK_DPDK_HOST_H */
