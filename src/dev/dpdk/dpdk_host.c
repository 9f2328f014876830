/*
 * dpdk_host.c -- the host half of the DPDK driver (dpdk_host.h): EAL,
 * ports, queues, mempools and bursts.  The only kernel-library file that
 * includes DPDK.
 *
 * Ports live for the whole process (DPDK's do: an ethdev port is process
 * state), configured and started by their first attachment with as many
 * queue pairs as it asks for; each struct dpdk_queue is one queue pair,
 * claimed by one attachment at a time.
 *
 * Zero copy.  Receive: the kernel wraps each rte_mbuf segment as external
 * storage and gives it back through dpdk_host_rx_free().  Transmit
 * (frames over DPDK_TX_COPYBREAK, below): each segment of the kernel's
 * frame gets a data-less rte_mbuf from the port's attach pool with the
 * segment attached as an external buffer; the frame's segments share one
 * descriptor (struct txd: the DPDK shared-info with its reference count,
 * and the kernel's token), whose free callback
 * runs in whatever thread frees the last segment (the PMD after sending,
 * or the receiving instance of a net_ring pair) and pushes it on the
 * queue's lock-free reap list; the poll loop reaps it and frees the
 * kernel's mbufs on its own vCPU.  A frame whose data is not the
 * receiver's own (an external or indirect rte_mbuf: another instance's
 * kernel memory, on a net_ring) is flagged for the receiving kernel to
 * copy, so no instance ever holds another's memory beyond the wire.
 *
 * Dispatch (software RSS, dpdk_open_args.dispatch): for ports without
 * RSS (net_ring, net_memif, net_pcap, single-queue NICs) the poller of
 * queue 0 receives from every receive queue of the port and steers each
 * frame, by the Toeplitz hash of its IPv4 addresses and TCP/UDP ports
 * through the redirection table (net/rss.h, what a NIC would compute), to
 * the inbox ring of the queue pair that owns the flow; each attachment
 * then receives from its inbox.  Frames that are not per flow (ARP,
 * broadcasts and multicasts, anything but IPv4) go to every attachment,
 * copied.  ICMP errors go where the flow they quote lives; fragments are
 * hashed by their addresses only, as NICs do.  Each attachment sends on
 * its own transmit queue.
 *
 * Hardware RSS (dpdk_open_args.rss): a port with several queue pairs whose
 * PMD hashes IPv4 TCP and UDP and has a redirection table of a multiple
 * of 128 entries gets the same key and table as the dispatcher uses, so a
 * flow lands on the queue (the instance) the software hash names; the
 * instances' connect() ports then come back to them.  What a NIC cannot
 * give its owner is passed on as the dispatcher would pass it: an ICMP
 * error (hashed by its addresses, not by the flow it quotes) to the
 * inbox of the quoted flow's owner, and what is not per flow (ARP and
 * anything but IPv4, on whatever queue the NIC chose; broadcasts and
 * multicasts) copied to every other attachment's inbox; each poller
 * also reads its inbox (rss_steer()).  Ports that cannot (of the PMDs
 * here only net_null takes a table and a key, and it hashes nothing;
 * net_tap's RSS needs rte_flow and the multiq qdisc) are refused with
 * EINVAL: use dispatch for them.
 *
 * Copy path: ports on a physical bus (their DMA needs IO addresses the
 * kernel's heap does not have), virtual ports whose PMD is not known to
 * copy what it sends with the CPU (dpdk_host_zerocopy_ok(): net_memif
 * with zero-copy=yes, virtio-user, vhost, any other), multi-segment
 * frames to a port without multi-segment support, tx_copy, or an empty
 * attach pool.
 *
 * Small frames (DPDK_TX_COPYBREAK: ACKs, SYNs, a request of a few bytes)
 * are copied on every port, as NIC drivers copy small packets: four
 * lines of copy cost less than attaching (a descriptor and an rte_mbuf
 * to take, a free callback on the receiver's CPU writing the sender's
 * lines, a reap).  Their rte_mbuf comes from the pool the queue last
 * received from (recycle_note()): the one this CPU has just freed is at
 * the top of its mempool cache (a poller's: an application thread that
 * sends outside a poll has no cache), its lines still in this CPU's
 * cache, so writing the frame takes no line from the other CPU.  On a
 * net_ring pair the two ends so pass the same few rte_mbufs back and
 * forth; from the port's own pool, each frame's lines were last written
 * by the peer (it freed them), and an rr round trip took a fifth longer.
 */
#define _GNU_SOURCE 1		/* pthread_setaffinity_np, CPU_SET */
#define ALLOW_EXPERIMENTAL_API 1

#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "hyper/hyper.h"
#include "rumpnet/dpdk.h"
#include "../../net/rss.h"
#include "dpdk_host.h"

#define DPDK_MAXQ 16
#define DPDK_TX_RETRIES 64
#define DPDK_ATTACH_MBUFS 32767
#define DPDK_TXDS 16383
#define DPDK_MEMPOOL_CACHE 256u
#define DPDK_TX_COPYBREAK 256u		/* frames copied on any port */
#define DPDK_TX_WARM 4			/* rte_mbufs tx_warm() fetches */
#define DPDK_INBOX 4096			/* frames waiting in a dispatch inbox */
#define DPDK_DRAIN_BURSTS (DPDK_INBOX / DPDK_BURST)	/* a drain's bursts */

struct dpdk_port;

/* One frame sent zero copy: what its segments share. */
struct txd {
	struct rte_mbuf_ext_shared_info shinfo;
	void *token;
	struct dpdk_queue *q;
	unsigned gen;			/* q->gen when attached */
	struct txd *next;
};

struct dpdk_queue {
	struct dpdk_port *hp;
	uint16_t port, queue;
	bool attached;				/* [H.mtx] */
	bool closing;		/* [H.mtx] dpdk_host_close() reaps it */
	_Atomic(struct txd *) reap;		/* pushed by any thread */
	struct txd *reaped;			/* popped, not yet handed over */
	/*
	 * Frames held: attached by the transmit path, reaped; each count has
	 * one writer at a time (the queue's sender, its reaper), so it grows
	 * by a plain load and store.  A locked add made the sender wait, for
	 * every frame, for its stores to the rte_mbufs it had just filled
	 * (which the receiver on another CPU last freed) to leave its store
	 * buffer.
	 */
	atomic_ulong nattached, nreaped;
	/*
	 * Attachments whose close gave up on frames still held (a peer that
	 * never took them): the frames that come back later belong to an
	 * instance that is gone, and are not handed to the next one
	 * (dpdk_host_tx_reap()).  [H.mtx]
	 */
	unsigned gen;
	uint64_t tx_copied, tx_full, tx_dropped, rx_copied, rx_lowcopied;
	uint64_t tx_small, tx_recycled;
	/*
	 * the pool of the last frame received, when small frames may be
	 * copied into its rte_mbufs (recycle_note()); written by the
	 * receive side, read by the sender
	 */
	_Atomic(struct rte_mempool *) recycle;
	uint64_t stale;				/* see gen */
	void *warm_top;				/* tx_warm()'s last */
	/* the receive side's last looks at two mempools' levels (pool_low) */
	struct {
		struct rte_mempool *mp;
		unsigned wait;			/* frames until the next look */
		bool low;			/* below a quarter free */
	} level[2];
	unsigned level_next;			/* the one replaced next */
	/*
	 * dispatch: frames for this queue pair, steered by queue 0's
	 * poller; hardware RSS: by any other queue pair's poller
	 */
	struct rte_ring *inbox;
	atomic_ulong steered;			/* [steering pollers] */
	atomic_ulong steer_drops;		/* [steering pollers] full */
	/* dpdk_host_mcast(): the multicast MACs its instance receives */
	uint8_t mc[DPDK_MC_MAX][6];		/* [H.mtx] */
	unsigned nmc;				/* [H.mtx] */
	bool mc_all;				/* [H.mtx] more than DPDK_MC_MAX */
};

struct dpdk_port {
	bool configured;
	bool zerocopy, multiseg, virtual_offload;
	/*
	 * A port bound to a host interface (net_tap) has that interface's
	 * flags for its link state, looked up by name in this process's
	 * network namespace: "down" once the interface is moved to another
	 * (scripts/run-main does), which is then not believed.
	 */
	unsigned host_ifindex;			/* 0: none */
	char host_ifname[IF_NAMESIZE];
	uint16_t nqueues;
	bool dispatch;				/* software RSS by queue 0 */
	struct rss_key *rk;			/* dispatch, RSS: key tables */
	uint16_t reta[RSS_RETA_SIZE];		/* dispatch, RSS */
	uint64_t txoff;				/* offloads configured */
	struct rte_mempool *rxpool;		/* rx and copied tx */
	struct rte_mempool *attpool;		/* data-less, for attaching */
	struct rte_mempool *txdpool;		/* struct txd */
	struct dpdk_queue q[DPDK_MAXQ];
	struct dpdk_port_info info;
	bool mc_filter;			/* [H.mtx] the PMD filters multicast */
	unsigned mc_naddrs;		/* [H.mtx] ... on this many MACs */
};

static struct {
	pthread_mutex_t mtx;
	bool eal_done;
	bool eal_gone;			/* rump_dpdk_fini(): no second init */
	struct dpdk_port ports[RTE_MAX_ETHPORTS];
} H = { .mtx = PTHREAD_MUTEX_INITIALIZER };

static int
kerr(int herr)
{
	return hyper_errno_from_host(herr);
}

int
dpdk_host_init(const char *eal_args)
{
	/* the EAL keeps pointers into argv: both live as long as it does */
	static char buf[4096];
	static char *argv[128];
	char *save = NULL, *tok;
	int argc = 0, error = 0;

	pthread_mutex_lock(&H.mtx);
	if (H.eal_done)
		goto out;
	if (H.eal_gone) {
		error = EALREADY;
		goto out;
	}
	if (eal_args == NULL || eal_args[0] == '\0')
		eal_args = RUMP_DPDK_DEFAULT_EAL;
	if (strlen(eal_args) >= sizeof(buf)) {
		error = EINVAL;
		goto out;
	}
	strcpy(buf, eal_args);
	argv[argc++] = "rumpnet";
	for (tok = strtok_r(buf, " \t\n", &save); tok != NULL &&
	    argc < (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	    tok = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "rumpnet: DPDK EAL init (%s): %s\n", eal_args,
		    rte_strerror(rte_errno));
		if (rte_errno == EALREADY)
			H.eal_done = true;
		else
			error = EINVAL;
		goto out;
	}
	H.eal_done = true;
out:
	pthread_mutex_unlock(&H.mtx);
	return kerr(error);
}

static int
port_lookup(const char *name, uint16_t *pid)
{
	char *end;
	unsigned long v = strtoul(name, &end, 10);

	if (end != name && *end == '\0') {
		if (v >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(
		    (uint16_t)v))
			return ENODEV;
		*pid = (uint16_t)v;
		return 0;
	}
	if (rte_eth_dev_get_port_by_name(name, pid) == 0)
		return 0;
	/* rte_eth_from_rings() names its ports "net_ring_<name>" */
	char ring[RTE_ETH_NAME_MAX_LEN];

	snprintf(ring, sizeof(ring), "net_ring_%s", name);
	return rte_eth_dev_get_port_by_name(ring, pid) == 0 ? 0 : ENODEV;
}

int
dpdk_host_ring_pair(const char *name, unsigned nq)
{
	struct rte_ring *ab[DPDK_MAXQ], *ba[DPDK_MAXQ];
	char rname[RTE_RING_NAMESIZE], pname[64];
	uint16_t pid;

	if (nq == 0 || nq > DPDK_MAXQ || strlen(name) > 20)
		return kerr(EINVAL);
	snprintf(pname, sizeof(pname), "%sa", name);
	if (port_lookup(pname, &pid) == 0)
		return kerr(EEXIST);
	/*
	 * Each ring has one producer and one consumer at a time: a queue
	 * pair is attached once, its instance sends under its net lock and
	 * receives under sc_rxbusy (or queue 0's dispatcher receives for
	 * all).  So no CAS on either end: a lock-prefixed instruction on a
	 * line the other CPU reads, in the path of every frame.
	 */
	for (unsigned i = 0; i < nq; i++) {
		snprintf(rname, sizeof(rname), "%s_ab%u", name, i);
		ab[i] = rte_ring_create(rname, 4096, (int)rte_socket_id(),
		    RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(rname, sizeof(rname), "%s_ba%u", name, i);
		ba[i] = rte_ring_create(rname, 4096, (int)rte_socket_id(),
		    RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (ab[i] == NULL || ba[i] == NULL) {
			fprintf(stderr, "rumpnet: ring %s: %s\n", rname,
			    rte_strerror(rte_errno));
			return kerr(rte_errno == EEXIST ? EEXIST : ENOMEM);
		}
	}
	/* a receives what b sends and the other way round */
	if (rte_eth_from_rings(pname, ba, nq, ab, nq, rte_socket_id()) < 0)
		goto fail;
	snprintf(pname, sizeof(pname), "%sb", name);
	if (rte_eth_from_rings(pname, ab, nq, ba, nq, rte_socket_id()) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "rumpnet: net_ring port %s: %s\n", pname,
	    rte_strerror(rte_errno));
	return kerr(ENOMEM);
}

static uint8_t rss_key_copy[RSS_KEY_LEN];	/* DPDK's key is not const */

/*
 * The NIC's redirection table: entry j is the dispatcher's entry j % 128
 * (j % nq), so that a table of any multiple of 128 entries sends a hash to
 * the queue rss_queue() names.  0 or a negative DPDK error.
 */
static int
rss_program(uint16_t pid, uint16_t nq, uint16_t size)
{
	struct rte_eth_rss_reta_entry64 reta[4096 / RTE_ETH_RETA_GROUP_SIZE];
	uint16_t tbl[RSS_RETA_SIZE];

	if (size > 4096)
		return -EINVAL;
	rss_reta_default(tbl, RSS_RETA_SIZE, nq);
	memset(reta, 0, sizeof(reta));
	for (uint16_t j = 0; j < size; j++) {
		struct rte_eth_rss_reta_entry64 *g =
		    &reta[j / RTE_ETH_RETA_GROUP_SIZE];

		g->mask |= 1ull << (j % RTE_ETH_RETA_GROUP_SIZE);
		g->reta[j % RTE_ETH_RETA_GROUP_SIZE] = tbl[j % RSS_RETA_SIZE];
	}
	return rte_eth_dev_rss_reta_update(pid, reta, size);
}

/*
 * Inbox rings and the hash tables of a dispatched port, or of one with
 * hardware RSS (rss: every poller may steer into any inbox): 0 or ENOMEM.
 */
static int
dispatch_setup(uint16_t pid, struct dpdk_port *hp, bool rss)
{
	if (hp->rk == NULL && (hp->rk = malloc(sizeof(*hp->rk))) == NULL)
		return ENOMEM;
	rss_key_init(hp->rk, rss_default_key, RSS_KEY_LEN);
	rss_reta_default(hp->reta, RSS_RETA_SIZE, hp->nqueues);
	for (uint16_t i = 0; i < hp->nqueues; i++) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "rn_in_%u_%u", pid, i);
		/* one consumer (the owner); one producer (the dispatcher) */
		if ((hp->q[i].inbox = rte_ring_lookup(name)) == NULL &&
		    (hp->q[i].inbox = rte_ring_create(name, DPDK_INBOX,
		    rte_socket_id(), RING_F_SC_DEQ |
		    (rss ? 0 : RING_F_SP_ENQ))) == NULL) {
			fprintf(stderr, "rumpnet: ring %s: %s\n", name,
			    rte_strerror(rte_errno));
			return ENOMEM;
		}
	}
	hp->dispatch = !rss;
	return 0;
}

/*
 * The per-lcore cache of a pool of n objects.  Every poll loop and busy
 * poller has one (dpdk_host_thread_register()), and a cache holds up to
 * 1.5 times its size of objects the other threads cannot have: a small
 * pool gets small caches, so that a dozen threads cannot strand it (a
 * frame a thread holds back waits for an mbuf another one cached).
 */
static unsigned
pool_cache_size(unsigned n)
{
	return n / 16 < DPDK_MEMPOOL_CACHE ? n / 16 : DPDK_MEMPOOL_CACHE;
}

static struct rte_mempool *
pool_create(const char *what, uint16_t pid, unsigned n, uint16_t room)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;

	snprintf(name, sizeof(name), "rn_%s_%u", what, pid);
	mp = rte_pktmbuf_pool_create(name, n, pool_cache_size(n), 0, room,
	    rte_eth_dev_socket_id(pid) < 0 ? 0 : rte_eth_dev_socket_id(pid));
	if (mp == NULL)
		fprintf(stderr, "rumpnet: mempool %s (%u mbufs): %s\n", name, n,
		    rte_strerror(rte_errno));
	return mp;
}

/*
 * Does devargs (comma-separated key=value pairs, or NULL) give key a
 * value other than other?  Every pair counts: DPDK's kvargs applies them
 * all, in order.
 */
static bool
devarg_other(const char *devargs, const char *key, const char *other)
{
	size_t klen = strlen(key), olen = strlen(other);

	for (const char *p = devargs; p != NULL && *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == '=' && (len - klen - 1 != olen ||
		    strncmp(p + klen + 1, other, olen) != 0))
			return true;
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}

bool
dpdk_host_zerocopy_ok(const char *driver, const char *bus,
    const char *devargs)
{
	static const char *const copying[] = { "net_ring", "net_af_packet",
	    "net_tap", "net_pcap", "net_memif", "net_null" };

	if (bus == NULL || strcmp(bus, "vdev") != 0 || driver == NULL)
		return false;
	for (size_t i = 0; i < RTE_DIM(copying); i++)
		if (strcmp(driver, copying[i]) == 0)
			/*
			 * memif's zero copy sends offsets into its regions;
			 * it is on for any value with "yes" in it: anything
			 * but "no" is taken for it here
			 */
			return strcmp(driver, "net_memif") != 0 ||
			    !devarg_other(devargs, "zero-copy", "no");
	return false;
}

/* Configure and start port pid with nq queue pairs; H.mtx held. */
static int
port_setup(uint16_t pid, const struct dpdk_open_args *a)
{
	struct dpdk_port *hp = &H.ports[pid];
	struct rte_eth_dev_info di;
	struct rte_eth_conf conf;
	struct rte_ether_addr mac;
	uint16_t nrxd = (uint16_t)(a->rx_desc ? a->rx_desc : 1024);
	uint16_t ntxd = (uint16_t)(a->tx_desc ? a->tx_desc : 1024);
	uint16_t nq = (uint16_t)(a->nqueues ? a->nqueues : a->queue + 1);
	const char *bus;
	uint16_t mtu;
	int rc;

	if (nq > DPDK_MAXQ || a->queue >= nq) {
		fprintf(stderr, "rumpnet: port %s: queue %u of %u (at most "
		    "%d)\n", a->port, a->queue, nq, DPDK_MAXQ);
		return EINVAL;
	}
	if ((rc = rte_eth_dev_info_get(pid, &di)) != 0) {
		fprintf(stderr, "rumpnet: port %s: %s\n", a->port,
		    rte_strerror(-rc));
		return ENODEV;
	}
	if (nq > di.max_rx_queues || nq > di.max_tx_queues) {
		fprintf(stderr, "rumpnet: port %s (%s): %u queue pairs asked, "
		    "the PMD has %u rx / %u tx\n", a->port, di.driver_name,
		    nq, di.max_rx_queues, di.max_tx_queues);
		return EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	memset(&hp->info, 0, sizeof(hp->info));
	snprintf(hp->info.driver, sizeof(hp->info.driver), "%s",
	    di.driver_name);
	hp->virtual_offload = a->virtual_offload &&
	    strcmp(di.driver_name, "net_ring") == 0;
	hp->host_ifindex = 0;
	if (di.if_index != 0 &&
	    if_indextoname(di.if_index, hp->host_ifname) != NULL)
		hp->host_ifindex = di.if_index;
	if (a->virtual_offload && !hp->virtual_offload)
		fprintf(stderr, "rumpnet: port %s: virtual offload is for "
		    "net_ring ports only (this is %s); off\n", a->port,
		    di.driver_name);
	/* net_ring hands mbufs over whole, chains included */
	hp->multiseg = (di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) ||
	    strcmp(di.driver_name, "net_ring") == 0;
	if (di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	bus = di.device != NULL && rte_dev_bus(di.device) != NULL ?
	    rte_bus_name(rte_dev_bus(di.device)) : "";
	/*
	 * Transmit offloads of virtual devices are software in the PMD
	 * (net_tap's TSO is rte_gso, which refused our frames): the stack
	 * does both as well itself, so only hardware gets them.
	 */
	if (strcmp(bus, "vdev") != 0 &&
	    (di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) &&
	    (di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
		    RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		hp->info.tx_csum_tcp = true;
		if ((di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) &&
		    hp->multiseg) {
			conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
			hp->info.tx_tso = true;
			hp->info.tso_max = 65535;
		}
	}
	if (hp->virtual_offload) {
		hp->info.tx_csum_tcp = hp->info.tx_tso = true;
		hp->info.tso_max = 65535;
	}
	conf.rxmode.offloads = di.rx_offload_capa &
	    (RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
	if (a->rss) {
		const uint64_t need = RTE_ETH_RSS_NONFRAG_IPV4_TCP |
		    RTE_ETH_RSS_NONFRAG_IPV4_UDP;

		if ((di.flow_type_rss_offloads & need) != need ||
		    di.reta_size < RSS_RETA_SIZE ||
		    di.reta_size % RSS_RETA_SIZE != 0 ||
		    (di.hash_key_size != 0 &&
		    di.hash_key_size != RSS_KEY_LEN) || nq < 2) {
			fprintf(stderr, "rumpnet: port %s (%s): no RSS over %u "
			    "queues here (hash types 0x%llx, table %u, key %u "
			    "bytes): use dispatch\n", a->port, di.driver_name,
			    nq, (unsigned long long)di.flow_type_rss_offloads,
			    di.reta_size, di.hash_key_size);
			return EINVAL;
		}
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = (uint8_t *)rss_key_copy;
		conf.rx_adv_conf.rss_conf.rss_key_len = RSS_KEY_LEN;
		/* fragments and other IPv4: the addresses, as dispatch does */
		conf.rx_adv_conf.rss_conf.rss_hf = di.flow_type_rss_offloads &
		    (need | RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 |
		    RTE_ETH_RSS_NONFRAG_IPV4_OTHER);
		memcpy(rss_key_copy, rss_default_key, RSS_KEY_LEN);
	}
	hp->txoff = conf.txmode.offloads;
	hp->zerocopy = !a->tx_copy && dpdk_host_zerocopy_ok(di.driver_name,
	    bus, di.device != NULL && rte_dev_devargs(di.device) != NULL ?
	    rte_dev_devargs(di.device)->args : NULL);
	hp->info.zerocopy = hp->zerocopy;
	if ((rc = rte_eth_dev_configure(pid, nq, nq, &conf)) != 0) {
		fprintf(stderr, "rumpnet: port %s (%s): configure with %u "
		    "queue pairs: %s\n", a->port, di.driver_name, nq,
		    rte_strerror(-rc));
		return EINVAL;
	}
	if (a->rss && (rc = rss_program(pid, nq, di.reta_size)) != 0) {
		fprintf(stderr, "rumpnet: port %s (%s): redirection table: "
		    "%s\n", a->port, di.driver_name, rte_strerror(-rc));
		return EINVAL;
	}
	hp->info.rss = a->rss;
	(void)rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrxd, &ntxd);
	/*
	 * by default the rings take at most half the pool: the receive path
	 * copies below a quarter free (dpdk_host_rx())
	 */
	if (hp->rxpool == NULL && (hp->rxpool = pool_create("rx", pid,
	    a->mbufs ? a->mbufs : RTE_MAX(8191u, 2u * nq * (unsigned)(nrxd +
	    ntxd)), RTE_MBUF_DEFAULT_BUF_SIZE)) == NULL)
		return ENOMEM;
	if (hp->attpool == NULL && (hp->attpool = pool_create("att", pid,
	    DPDK_ATTACH_MBUFS, 0)) == NULL)
		return ENOMEM;
	if (hp->txdpool == NULL) {
		char name[RTE_MEMPOOL_NAMESIZE];

		snprintf(name, sizeof(name), "rn_txd_%u", pid);
		if ((hp->txdpool = rte_mempool_create(name, DPDK_TXDS,
		    sizeof(struct txd), pool_cache_size(DPDK_TXDS), 0, NULL,
		    NULL, NULL, NULL, rte_socket_id(), 0)) == NULL) {
			fprintf(stderr, "rumpnet: mempool %s: %s\n", name,
			    rte_strerror(rte_errno));
			return ENOMEM;
		}
	}
	for (uint16_t i = 0; i < nq; i++) {
		int sock = rte_eth_dev_socket_id(pid);

		if (sock < 0)
			sock = 0;
		if ((rc = rte_eth_rx_queue_setup(pid, i, nrxd, (unsigned)sock,
		    NULL, hp->rxpool)) != 0 ||
		    (rc = rte_eth_tx_queue_setup(pid, i, ntxd, (unsigned)sock,
		    NULL)) != 0) {
			fprintf(stderr, "rumpnet: port %s: queue %u setup: %s\n",
			    a->port, i, rte_strerror(-rc));
			return EINVAL;
		}
	}
	if ((rc = rte_eth_dev_start(pid)) != 0) {
		fprintf(stderr, "rumpnet: port %s (%s): start: %s\n", a->port,
		    di.driver_name, rte_strerror(-rc));
		return EIO;
	}
	if (a->promisc)
		(void)rte_eth_promiscuous_enable(pid);
	(void)rte_eth_allmulticast_enable(pid);
	if (rte_eth_macaddr_get(pid, &mac) == 0)
		memcpy(hp->info.mac, mac.addr_bytes, 6);
	if (strcmp(di.driver_name, "net_ring") == 0 ||
	    strcmp(di.driver_name, "net_tap") == 0) {
		/*
		 * Every net_ring port reports the same made-up address, and
		 * a net_tap port the address of the host's end of the tap:
		 * neither filters anything.  Give each its own, locally
		 * administered (02:), so that the two ends of the wire can
		 * tell their frames apart.
		 */
		static const uint8_t rn[6] = { 0x02, 'r', 'n', 0, 0, 0 };

		memcpy(hp->info.mac, rn, 6);
		hp->info.mac[4] = (uint8_t)(pid >> 8);
		hp->info.mac[5] = (uint8_t)pid;
	}
	hp->info.mtu = rte_eth_dev_get_mtu(pid, &mtu) == 0 && mtu >= 68 &&
	    mtu < 1500 ? mtu : 1500;
	hp->nqueues = nq;
	for (uint16_t i = 0; i < nq; i++) {
		struct dpdk_queue *q = &hp->q[i];

		memset(q, 0, sizeof(*q));
		q->hp = hp;
		q->port = pid;
		q->queue = i;
	}
	if ((a->dispatch || a->rss) &&
	    (rc = dispatch_setup(pid, hp, a->rss)) != 0) {
		/* stopped, the next attachment can configure it again */
		(void)rte_eth_dev_stop(pid);
		return rc;
	}
	hp->configured = true;
	return 0;
}

int
dpdk_host_open(const struct dpdk_open_args *a, struct dpdk_port_info *info,
    struct dpdk_queue **qp)
{
	struct dpdk_port *hp;
	uint16_t pid;
	int error;

	pthread_mutex_lock(&H.mtx);
	if (!H.eal_done) {
		error = ENXIO;
		goto out;
	}
	if ((error = port_lookup(a->port, &pid)) != 0) {
		fprintf(stderr, "rumpnet: no DPDK port %s (%u ports)\n",
		    a->port, rte_eth_dev_count_avail());
		goto out;
	}
	hp = &H.ports[pid];
	if (!hp->configured && (error = port_setup(pid, a)) != 0)
		goto out;
	if (a->queue >= hp->nqueues) {
		fprintf(stderr, "rumpnet: port %s has %u queue pairs, not "
		    "queue %u\n", a->port, hp->nqueues, a->queue);
		error = EINVAL;
		goto out;
	}
	if (a->dispatch != hp->dispatch || a->rss != hp->info.rss) {
		fprintf(stderr, "rumpnet: port %s is %sdispatched and has "
		    "%sRSS: every attachment must say so\n", a->port,
		    hp->dispatch ? "" : "not ", hp->info.rss ? "" : "no ");
		error = EINVAL;
		goto out;
	}
	if (hp->q[a->queue].attached || hp->q[a->queue].closing) {
		error = EBUSY;
		goto out;
	}
	hp->q[a->queue].attached = true;
	hp->q[a->queue].nmc = 0;	/* its instance joined nothing yet */
	hp->q[a->queue].mc_all = false;
	*info = hp->info;
	*qp = &hp->q[a->queue];
out:
	pthread_mutex_unlock(&H.mtx);
	return kerr(error);
}

static void
drain_orphans_locked(void)
{
	struct rte_mbuf *m[DPDK_BURST];
	uint16_t pid;

	RTE_ETH_FOREACH_DEV(pid) {
		struct dpdk_port *hp = &H.ports[pid];
		uint16_t n;

		if (!hp->configured)
			continue;
		for (uint16_t i = 0; i < hp->nqueues; i++) {
			if (hp->q[i].attached)
				continue;
			/*
			 * A dispatched port's queues are queue 0's to read.
			 * A ring's worth at a time: a port that never stops
			 * receiving must not keep the caller here.
			 */
			for (unsigned b = 0; b < DPDK_DRAIN_BURSTS &&
			    (!hp->dispatch || !hp->q[0].attached) &&
			    (n = rte_eth_rx_burst(pid, i, m, DPDK_BURST)) > 0;
			    b++)
				rte_pktmbuf_free_bulk(m, n);
			for (unsigned b = 0; b < DPDK_DRAIN_BURSTS &&
			    hp->q[i].inbox != NULL &&
			    (n = (uint16_t)rte_ring_dequeue_burst(
			    hp->q[i].inbox, (void **)m, DPDK_BURST, NULL)) > 0;
			    b++)
				rte_pktmbuf_free_bulk(m, n);
		}
	}
}

/*
 * The port's multicast filter: the MACs its attached queues' instances
 * receive (dpdk_host_mcast()), or every multicast when one wants all,
 * the union is longer than DPDK_MC_MAX, or the PMD cannot filter (of
 * the PMDs here only net_tap says it can, and it filters nothing).
 */
static void
mcast_program_locked(uint16_t pid)
{
	struct dpdk_port *hp = &H.ports[pid];
	struct rte_ether_addr list[DPDK_MC_MAX];
	unsigned n = 0;
	bool all = false;

	for (uint16_t i = 0; i < hp->nqueues && !all; i++) {
		const struct dpdk_queue *q = &hp->q[i];

		if (!q->attached)
			continue;
		all = q->mc_all;
		for (unsigned j = 0; j < q->nmc && !all; j++) {
			unsigned k;

			for (k = 0; k < n; k++)
				if (memcmp(list[k].addr_bytes, q->mc[j], 6) == 0)
					break;
			if (k < n)
				continue;
			if (n == DPDK_MC_MAX)
				all = true;
			else
				memcpy(list[n++].addr_bytes, q->mc[j], 6);
		}
	}
	if (!all && rte_eth_dev_set_mc_addr_list(pid, list, n) == 0 &&
	    rte_eth_allmulticast_disable(pid) == 0) {
		hp->mc_filter = true;
		hp->mc_naddrs = n;
		return;
	}
	(void)rte_eth_allmulticast_enable(pid);
	hp->mc_filter = false;
	hp->mc_naddrs = 0;
}

void
dpdk_host_mcast(struct dpdk_queue *q, const uint8_t (*macs)[6], unsigned n)
{
	pthread_mutex_lock(&H.mtx);
	q->mc_all = n > DPDK_MC_MAX;
	q->nmc = q->mc_all ? 0 : n;
	memcpy(q->mc, macs, (size_t)q->nmc * 6);
	mcast_program_locked(q->port);
	pthread_mutex_unlock(&H.mtx);
}

/*
 * c += n, by c's only writer (no locked instruction); read by anyone.
 * A release store, so that a reader who sees a frame reaped (acquire)
 * sees it attached too: attaching it happened before its reaping.
 */
static inline void
count_add(atomic_ulong *c, unsigned long n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) +
	    n, memory_order_release);
}

int
dpdk_host_close(struct dpdk_queue *q, unsigned timeout_ms,
    void (*reap)(void *token, void *arg), void *arg)
{
	void *tokens[DPDK_BURST];
	unsigned waited = 0, n;

	pthread_mutex_lock(&H.mtx);
	/*
	 * Nothing is steered to it any more; and until the reaping below is
	 * over (the lock is dropped while it waits), nobody may attach it
	 * again and reap it too.
	 */
	q->attached = false;
	q->closing = true;
	for (;;) {
		/* decided first: the last pass reaps what came meanwhile */
		bool last = waited >= timeout_ms;

		drain_orphans_locked();
		while ((n = dpdk_host_tx_reap(q, tokens, DPDK_BURST)) > 0)
			for (unsigned i = 0; i < n; i++)
				reap(tokens[i], arg);
		if ((n = (unsigned)dpdk_host_outstanding(q)) == 0 || last)
			break;
		pthread_mutex_unlock(&H.mtx);
		usleep(1000);
		waited++;
		pthread_mutex_lock(&H.mtx);
	}
	if (n != 0) {
		/* what comes back from now on is nobody's (dpdk_host_tx_reap) */
		q->gen++;
		count_add(&q->nreaped, n);
	}
	q->closing = false;
	if (H.ports[q->port].mc_filter)
		mcast_program_locked(q->port);	/* without its groups */
	pthread_mutex_unlock(&H.mtx);
	if (n != 0) {
		fprintf(stderr, "rumpnet: port %u queue %u: %u frames still "
		    "held by the PMD after %u ms\n", q->port, q->queue, n,
		    timeout_ms);
		return kerr(ETIMEDOUT);
	}
	return 0;
}

/*
 * A poll loop, and an application thread that busy polls a port, gets an
 * lcore of its own the first time (dpdk_host_thread_register()), so that
 * the rte_mbufs it receives and sends from then on are allocated and
 * freed through a per-lcore mempool cache and not each through the
 * pool's shared ring (a CAS on a line the other CPU writes).  It gives it
 * back when it exits, or when a poll loop ends (dpdk_loop(): a fiber
 * loop's thread goes on, and may take one again).  A thread that found
 * none free (RTE_MAX_LCORE) goes on without.  Only the pollers: every
 * cache holds objects the others cannot have, and a small pool split
 * among the caches of every thread that ever sent ran dry for the one
 * that had to retransmit (test_mempool_exhaustion, now and then, with
 * caches of 1/16 of it).
 */
static pthread_key_t lcore_key;
static pthread_once_t lcore_once = PTHREAD_ONCE_INIT;
static __thread bool lcore_tried;

/* The calling thread gives its lcore back, and what its caches hold. */
void
dpdk_host_thread_unregister(void)
{
	unsigned lcore = rte_lcore_id();

	pthread_mutex_lock(&H.mtx);
	if (H.eal_done && lcore != LCORE_ID_ANY) {
		/* what its caches hold goes back: the next owner may idle */
		for (unsigned pid = 0; pid < RTE_MAX_ETHPORTS; pid++) {
			struct dpdk_port *hp = &H.ports[pid];
			struct rte_mempool *mp[3] = { hp->rxpool, hp->attpool,
			    hp->txdpool };

			for (unsigned i = 0; i < 3; i++)
				if (mp[i] != NULL)
					rte_mempool_cache_flush(
					    rte_mempool_default_cache(mp[i],
					    lcore), mp[i]);
		}
		rte_thread_unregister();
	}
	pthread_mutex_unlock(&H.mtx);
	lcore_tried = false;
}

static void
lcore_exit(void *arg)
{
	(void)arg;
	dpdk_host_thread_unregister();
}

static void
lcore_key_make(void)
{
	if (pthread_key_create(&lcore_key, lcore_exit) != 0)
		abort();
}

static void __attribute__((__noinline__))
lcore_take_slow(void)
{
	lcore_tried = true;
	(void)pthread_once(&lcore_once, lcore_key_make);
	if (rte_thread_register() == 0)
		(void)pthread_setspecific(lcore_key, (void *)1);
}

void
dpdk_host_thread_register(void)
{
	if (__builtin_expect(rte_lcore_id() == LCORE_ID_ANY && !lcore_tried,
	    0))
		lcore_take_slow();
}

/* ---- receive ---- */

/*
 * The queue pair that owns frame m under the port's redirection table, or
 * -1 for a frame every attachment gets.
 */
static int
dispatch_owner(const struct dpdk_port *hp, const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	unsigned len = m->data_len, hl;
	uint32_t src, dst, h;
	uint16_t fo, sport, dport;
	uint8_t proto;

	if (len < RTE_ETHER_HDR_LEN + 20 || (p[0] & 1) ||	/* group */
	    p[12] != 0x08 || p[13] != 0x00)			/* not IPv4 */
		return -1;
	p += RTE_ETHER_HDR_LEN;
	len -= RTE_ETHER_HDR_LEN;
	hl = (p[0] & 0x0f) * 4u;
	if ((p[0] >> 4) != 4 || hl < 20 || hl > len)
		return -1;
	memcpy(&src, p + 12, 4);
	memcpy(&dst, p + 16, 4);
	if (dst == 0xffffffffu || (dst & 0xf0) == 0xe0)	/* bcast, mcast */
		return -1;
	proto = p[9];
	fo = (uint16_t)(p[6] << 8 | p[7]);
	if ((fo & 0x3fff) != 0 || (proto != IPPROTO_TCP &&
	    proto != IPPROTO_UDP && proto != IPPROTO_ICMP) || len < hl + 8) {
		/* fragments and other protocols: the addresses (as NICs) */
		h = rss_hash_ipv4(hp->rk, src, dst);
	} else if (proto == IPPROTO_ICMP) {
		const uint8_t *in = p + hl + 8;		/* the quoted header */
		unsigned ihl = len >= hl + 28 ? (in[0] & 0x0f) * 4u : 0;

		/* an error about a flow goes where the flow's replies go */
		if ((p[hl] == 3 || p[hl] == 4 || p[hl] == 11 || p[hl] == 12) &&
		    ihl >= 20 && len >= hl + 8 + ihl + 4 &&
		    (in[9] == IPPROTO_TCP || in[9] == IPPROTO_UDP)) {
			memcpy(&src, in + 16, 4);	/* its destination */
			memcpy(&dst, in + 12, 4);	/* its source: us */
			memcpy(&sport, in + ihl + 2, 2);
			memcpy(&dport, in + ihl, 2);
			h = rss_hash_ipv4_l4(hp->rk, src, dst, sport, dport);
		} else
			h = rss_hash_ipv4(hp->rk, src, dst);
	} else {
		memcpy(&sport, p + hl, 2);
		memcpy(&dport, p + hl + 2, 2);
		h = rss_hash_ipv4_l4(hp->rk, src, dst, sport, dport);
	}
	return (int)rss_queue(h, hp->reta, RSS_RETA_SIZE);
}

/* Put m into queue pair i's inbox, or drop it (counted). */
static void
dispatch_to(struct dpdk_port *hp, unsigned i, struct rte_mbuf *m)
{
	struct dpdk_queue *q = &hp->q[i];

	if (!q->attached || rte_ring_enqueue(q->inbox, m) != 0) {
		rte_pktmbuf_free(m);
		atomic_fetch_add_explicit(&q->steer_drops, 1,
		    memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&q->steered, 1, memory_order_relaxed);
}

/* A copy of m for every queue pair but self (a frame not of one flow). */
static void
dispatch_copies(struct dpdk_port *hp, unsigned self, struct rte_mbuf *m)
{
	for (uint16_t j = 0; j < hp->nqueues; j++) {
		struct rte_mbuf *c;

		if (j == self)
			continue;
		if ((c = rte_pktmbuf_copy(m, hp->rxpool, 0, UINT32_MAX)) !=
		    NULL)
			dispatch_to(hp, j, c);
		else
			atomic_fetch_add_explicit(&hp->q[j].steer_drops, 1,
			    memory_order_relaxed);
	}
}

/* Queue 0's poller: everything the port received, to its owners. */
static void
dispatch_poll(struct dpdk_port *hp)
{
	struct rte_mbuf *m[DPDK_BURST];

	for (uint16_t rq = 0; rq < hp->nqueues; rq++) {
		uint16_t got = rte_eth_rx_burst(hp->q[0].port, rq, m,
		    DPDK_BURST);

		for (uint16_t i = 0; i < got; i++) {
			int owner = dispatch_owner(hp, m[i]);

			if (owner >= 0) {
				dispatch_to(hp, (unsigned)owner, m[i]);
				continue;
			}
			dispatch_copies(hp, 0, m[i]);
			dispatch_to(hp, 0, m[i]);
		}
	}
}

/*
 * Hardware RSS: did the NIC hash m by its flow?  Unicast IPv4 TCP and
 * UDP, yes (fragments and other IPv4 it hashes by the addresses, as
 * dispatch_owner() does); not ICMP, group frames or anything but IPv4.
 */
static bool
rss_hashed(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	return m->data_len >= RTE_ETHER_HDR_LEN + 20 && !(p[0] & 1) &&
	    p[12] == 0x08 && p[13] == 0x00 && p[RTE_ETHER_HDR_LEN + 9] !=
	    IPPROTO_ICMP;
}

/*
 * Hardware RSS, queue pair self's poller: of the got frames m received,
 * those the NIC could not give their owner go on as dispatch_poll()
 * would send them: to the owner's inbox (an ICMP error about another
 * queue pair's flow), or, not being of one flow, kept and copied to
 * every other queue pair.  Returns how many of m stay, moved up.
 */
static uint16_t
rss_steer(struct dpdk_port *hp, unsigned self, struct rte_mbuf **m,
    uint16_t got)
{
	uint16_t keep = 0;

	for (uint16_t i = 0; i < got; i++) {
		int owner;

		if (!rss_hashed(m[i])) {
			owner = dispatch_owner(hp, m[i]);
			if (owner < 0) {
				dispatch_copies(hp, self, m[i]);
			} else if ((unsigned)owner != self) {
				dispatch_to(hp, (unsigned)owner, m[i]);
				continue;
			}
		}
		m[keep++] = m[i];
	}
	return keep;
}

/*
 * The stack keeps a frame's rte_mbuf for as long as the frame waits (a
 * socket buffer, TCP's out-of-order queue, reassembly).  A pool (the
 * port's, or a net_ring peer's, whose rte_mbufs cross) running low so
 * would leave the port unable to take the very segment that lets the
 * waiting ones go: below a quarter free, its frames are copied.  The
 * levels of the last two pools seen (a net_ring end receives the
 * peer's small frames from one, the rest from another) are looked at
 * again before an eighth of the pool can have gone: the count walks
 * every thread's cache, too slow for every frame.
 */
static unsigned
pool_level(const struct dpdk_queue *q, const struct rte_mempool *mp)
{
	return q->level[0].mp == mp ? 0 : q->level[1].mp == mp ? 1 : 2;
}

static bool
pool_low(struct dpdk_queue *q, struct rte_mempool *mp)
{
	unsigned i = pool_level(q, mp);

	if (i == 2) {
		i = q->level_next;
		q->level_next ^= 1;
		q->level[i].mp = mp;
		q->level[i].wait = 0;
	}
	if (q->level[i].wait == 0) {
		q->level[i].low = rte_mempool_avail_count(mp) < mp->size / 4;
		q->level[i].wait = RTE_MAX(1u, mp->size / 8);
	}
	q->level[i].wait--;
	return q->level[i].low;
}

/*
 * A burst came from pool mp: small frames are copied into its rte_mbufs
 * from now on, if they fit as they would in the port's own (a pool of
 * rte_mbufs with data of their own, as large); others leave it as it is.
 * Not while it runs low (pool_low(), just looked at for the burst's
 * frames): then the port's own.  A net_ring end whose reader lags holds
 * the peer's pool; its ACKs taken from there too would leave the peer
 * less to send with (in test_mempool_exhaustion, more frames dropped).
 */
static void
recycle_note(struct dpdk_queue *q, struct rte_mempool *mp)
{
	unsigned i = pool_level(q, mp);

	if (i < 2 && q->level[i].low) {
		atomic_store_explicit(&q->recycle, NULL, memory_order_relaxed);
		return;
	}
	if (atomic_load_explicit(&q->recycle, memory_order_relaxed) == mp)
		return;
	if (mp->private_data_size < sizeof(struct rte_pktmbuf_pool_private) ||
	    rte_pktmbuf_data_room_size(mp) <
	    rte_pktmbuf_data_room_size(q->hp->rxpool))
		return;
	atomic_store_explicit(&q->recycle, mp, memory_order_release);
}

/*
 * Nothing came in: fetch, for writing, the rte_mbufs the next small
 * frames will be copied into (the top of this thread's cache of the pool
 * tx_copy_small() takes them from), their two lines and the first two of
 * their data room.  The two ends of a net_ring pair copy small frames
 * into one pool, and the end that sends more than it receives (a crr
 * client: 4 frames a transaction against 3) runs its cache down by one
 * a transaction: that one comes from what the peer freed, last written
 * on the other CPU, and the copy into it waited for three or four of its
 * lines (a quarter of the client's work in connect(), where the SYN
 * took it).  An idle poll has the time; only a new top is fetched.
 */
static void
tx_warm(struct dpdk_queue *q)
{
	struct rte_mempool *mp = atomic_load_explicit(&q->recycle,
	    memory_order_relaxed);
	struct rte_mempool_cache *c;
	void *top;

	if (mp == NULL)
		mp = q->hp->rxpool;
	if ((c = rte_mempool_default_cache(mp, rte_lcore_id())) == NULL ||
	    c->len == 0 || (top = c->objs[c->len - 1]) == q->warm_top)
		return;
	q->warm_top = top;
	for (unsigned i = 1; i <= DPDK_TX_WARM && i <= c->len; i++) {
		char *o = c->objs[c->len - i];
		char *room = o + sizeof(struct rte_mbuf) +
		    RTE_PKTMBUF_HEADROOM;

		/* rte_prefetch0_write() is experimental in 22.11 */
		__builtin_prefetch(o, 1, 3);
		__builtin_prefetch(o + RTE_CACHE_LINE_SIZE, 1, 3);
		__builtin_prefetch(room, 1, 3);
		__builtin_prefetch(room + RTE_CACHE_LINE_SIZE, 1, 3);
	}
}

unsigned
dpdk_host_rx(struct dpdk_queue *q, struct dpdk_rxframe *fr, unsigned n)
{
	struct rte_mbuf *m[DPDK_BURST];
	bool voff = q->hp->virtual_offload;
	uint16_t got;

	if (n > DPDK_BURST)
		n = DPDK_BURST;
	if (q->hp->dispatch) {
		if (q->queue == 0)
			dispatch_poll(q->hp);
		got = (uint16_t)rte_ring_dequeue_burst(q->inbox, (void **)m, n,
		    NULL);
	} else if (q->hp->info.rss) {
		/* what other queue pairs steered here, then the NIC's */
		got = (uint16_t)rte_ring_dequeue_burst(q->inbox, (void **)m, n,
		    NULL);
		if (got < n) {
			uint16_t hw = rte_eth_rx_burst(q->port, q->queue,
			    m + got, (uint16_t)(n - got));

			got = (uint16_t)(got + rss_steer(q->hp, q->queue,
			    m + got, hw));
		}
	} else
		got = rte_eth_rx_burst(q->port, q->queue, m, (uint16_t)n);
	if (got == 0) {
		tx_warm(q);
		return 0;
	}
	/*
	 * The sender wrote both lines of each rte_mbuf on its CPU, and the
	 * loop below reads both (ol_flags, next): fetch them together, and
	 * with them the two lines where a frame of a pool of ours starts
	 * (its data room right after the rte_mbuf, at the default headroom:
	 * a guess, but waiting for buf_addr and data_off to know made the
	 * frame's own miss come after the rte_mbuf's instead of with it;
	 * our pools have no private area, and an attached frame's guess is
	 * the next rte_mbuf of its attach pool), and the frame's first line
	 * as soon as its address is known.
	 */
	for (uint16_t i = 0; i < got; i++) {
		char *guess = (char *)m[i] + sizeof(struct rte_mbuf) +
		    RTE_PKTMBUF_HEADROOM;

		rte_prefetch0(m[i]);
		rte_prefetch0(&m[i]->cacheline1);
		rte_prefetch0(guess);
		rte_prefetch0(guess + RTE_CACHE_LINE_SIZE);
	}
	for (uint16_t i = 0; i < got; i++) {
		struct rte_mbuf *mb = m[i];
		uint64_t ol = mb->ol_flags;
		unsigned flags = 0;

		/*
		 * NONE: the checksum field is not right (a virtio peer left
		 * a partial one) but the data was verified
		 */
		if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
		    RTE_MBUF_F_RX_L4_CKSUM_GOOD ||
		    (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
		    RTE_MBUF_F_RX_L4_CKSUM_NONE)
			flags |= DPDK_RX_L4_OK;
		else if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
		    RTE_MBUF_F_RX_L4_CKSUM_BAD)
			flags |= DPDK_RX_L4_BAD;
		/* a net_ring peer with virtual offload left it out */
		if (voff && (ol & (RTE_MBUF_F_TX_TCP_CKSUM |
		    RTE_MBUF_F_TX_TCP_SEG)))
			flags |= DPDK_RX_L4_OK;
		for (struct rte_mbuf *s = mb; s != NULL; s = s->next)
			if (!RTE_MBUF_DIRECT(s)) {
				flags |= DPDK_RX_COPY;
				q->rx_copied++;
				break;
			}
		if (!(flags & DPDK_RX_COPY) && pool_low(q, mb->pool)) {
			flags |= DPDK_RX_COPY;
			q->rx_lowcopied++;
		}
		fr[i].data = rte_pktmbuf_mtod(mb, void *);
		rte_prefetch0(fr[i].data);
		fr[i].len = mb->data_len;
		fr[i].pktlen = mb->pkt_len;
		fr[i].cookie = mb;
		fr[i].flags = flags;
	}
	if (got > 0)
		recycle_note(q, m[got - 1]->pool);
	return got;
}

void *
dpdk_host_rx_next(void *cookie, void **data, unsigned *len)
{
	struct rte_mbuf *m = ((struct rte_mbuf *)cookie)->next;

	if (m != NULL) {
		*data = rte_pktmbuf_mtod(m, void *);
		*len = m->data_len;
	}
	return m;
}

void
dpdk_host_rx_free(void *cookie)
{
	rte_pktmbuf_free_seg(cookie);
}

/* ---- transmit ---- */

static void
txd_free_cb(void *addr, void *opaque)
{
	struct txd *d = opaque;
	struct dpdk_queue *q = d->q;
	struct txd *head = atomic_load_explicit(&q->reap, memory_order_relaxed);

	(void)addr;
	do
		d->next = head;
	while (!atomic_compare_exchange_weak_explicit(&q->reap, &head, d,
	    memory_order_release, memory_order_relaxed));
}

unsigned
dpdk_host_tx_reap(struct dpdk_queue *q, void **tokens, unsigned n)
{
	unsigned i = 0;

	if (q->reaped == NULL && atomic_load_explicit(&q->reap,
	    memory_order_relaxed) == NULL)
		return 0;
	if (q->reaped == NULL)
		q->reaped = atomic_exchange_explicit(&q->reap, NULL,
		    memory_order_acquire);
	while (i < n && q->reaped != NULL) {
		struct txd *d = q->reaped;

		q->reaped = d->next;
		if (d->gen == q->gen)
			tokens[i++] = d->token;
		else
			q->stale++;	/* an earlier attachment's: dropped */
		rte_mempool_put(q->hp->txdpool, d);
	}
	count_add(&q->nreaped, i);
	return i;
}

unsigned long
dpdk_host_outstanding(struct dpdk_queue *q)
{
	/* reaped first: no more can be reaped than were attached */
	unsigned long reaped = atomic_load_explicit(&q->nreaped,
	    memory_order_acquire);

	return atomic_load_explicit(&q->nattached, memory_order_acquire) -
	    reaped;
}

/* The offload fields of head for frame f (headers in the first segment). */
static void
tx_offload(struct dpdk_queue *q, struct rte_mbuf *head,
    const struct dpdk_txframe *f)
{
	struct rte_ipv4_hdr *ip;
	uint16_t *sum;

	if (!(f->flags & (DPDK_TX_CSUM_TCP | DPDK_TX_TSO)))
		return;
	head->l2_len = RTE_ETHER_HDR_LEN;
	head->l3_len = f->l3len;
	head->l4_len = f->l4len;
	head->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
	if (f->flags & DPDK_TX_TSO) {
		head->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
		head->tso_segsz = f->tso_segsz;
	}
	if (q->hp->virtual_offload)
		return;		/* the peer takes it as it is */
	if (q->hp->txoff & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
		head->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
	/*
	 * The port wants the pseudo-header sum in the TCP checksum field of
	 * the frame it sends: the copy, or the kernel's header it attached
	 * (not f->segs[0], which a copied frame no longer is).
	 */
	ip = rte_pktmbuf_mtod_offset(head, struct rte_ipv4_hdr *,
	    RTE_ETHER_HDR_LEN);
	sum = (uint16_t *)(void *)((char *)ip + f->l3len + 16);
	*sum = rte_ipv4_phdr_cksum(ip, head->ol_flags);
	if (head->ol_flags & RTE_MBUF_F_TX_IP_CKSUM)
		ip->hdr_checksum = 0;
}

/* Attach frame f's segments to rte_mbufs; NULL when out of them. */
static struct rte_mbuf *
tx_attach(struct dpdk_queue *q, struct dpdk_txframe *f)
{
	struct dpdk_port *hp = q->hp;
	struct rte_mbuf *m[DPDK_TX_MAXSEGS];
	struct txd *d;
	void *obj;
	bool va = rte_eal_iova_mode() == RTE_IOVA_VA;

	if (f->nsegs > DPDK_TX_MAXSEGS || (f->nsegs > 1 && !hp->multiseg))
		return NULL;
	for (unsigned i = 0; i < f->nsegs; i++)
		if (f->segs[i].len > UINT16_MAX)
			return NULL;
	if (rte_mempool_get(hp->txdpool, &obj) != 0)
		return NULL;
	d = obj;
	if (rte_pktmbuf_alloc_bulk(hp->attpool, m, f->nsegs) != 0) {
		rte_mempool_put(hp->txdpool, d);
		return NULL;
	}
	d->shinfo.free_cb = txd_free_cb;
	d->shinfo.fcb_opaque = d;
	rte_mbuf_ext_refcnt_set(&d->shinfo, (uint16_t)f->nsegs);
	d->token = f->token;
	d->q = q;
	d->gen = q->gen;
	for (unsigned i = 0; i < f->nsegs; i++) {
		void *data = f->segs[i].data;

		rte_pktmbuf_attach_extbuf(m[i], data, va ?
		    (rte_iova_t)(uintptr_t)data : RTE_BAD_IOVA,
		    (uint16_t)f->segs[i].len, &d->shinfo);
		m[i]->data_len = (uint16_t)f->segs[i].len;
		m[i]->next = i + 1 < f->nsegs ? m[i + 1] : NULL;
	}
	m[0]->nb_segs = (uint16_t)f->nsegs;
	m[0]->pkt_len = f->pktlen;
	count_add(&q->nattached, 1);
	f->held = true;
	return m[0];
}

/* Copy frame f into rte_mbufs of pool mp; NULL when out of them. */
static struct rte_mbuf *
tx_copy(struct dpdk_queue *q, struct dpdk_txframe *f, struct rte_mempool *mp)
{
	struct dpdk_port *hp = q->hp;
	struct rte_mbuf *head = NULL, *tail = NULL;
	unsigned seg = 0, off = 0;

	if (f->pktlen > RTE_MBUF_DEFAULT_DATAROOM && !hp->multiseg)
		return NULL;
	while (seg < f->nsegs) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		unsigned room;
		char *dst;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		room = rte_pktmbuf_tailroom(m);
		if (room == 0) {	/* not a pool of buffers with room */
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
		dst = rte_pktmbuf_mtod(m, char *);
		while (room > 0 && seg < f->nsegs) {
			unsigned take = f->segs[seg].len - off;

			if (take > room)
				take = room;
			memcpy(dst, (char *)f->segs[seg].data + off, take);
			dst += take;
			room -= take;
			m->data_len = (uint16_t)(m->data_len + take);
			if ((off += take) == f->segs[seg].len) {
				seg++;
				off = 0;
			}
		}
		if (head == NULL)
			head = m;
		else {
			tail->next = m;
			head->nb_segs++;
		}
		tail = m;
	}
	head->pkt_len = f->pktlen;
	f->held = false;
	return head;
}

/*
 * A small frame (DPDK_TX_COPYBREAK) copied: into an rte_mbuf of the pool
 * the queue last received from, else of the port's own.
 */
static struct rte_mbuf *
tx_copy_small(struct dpdk_queue *q, struct dpdk_txframe *f)
{
	struct rte_mempool *mp = atomic_load_explicit(&q->recycle,
	    memory_order_acquire);
	struct rte_mbuf *mb = NULL;

	if (mp != NULL && (mb = tx_copy(q, f, mp)) != NULL)
		q->tx_recycled++;
	else {
		/* ran dry: the port's own until the next receive says */
		if (mp != NULL)
			atomic_compare_exchange_strong_explicit(&q->recycle,
			    &mp, NULL, memory_order_relaxed,
			    memory_order_relaxed);
		if (mp != q->hp->rxpool)
			mb = tx_copy(q, f, q->hp->rxpool);
	}
	if (mb != NULL)
		q->tx_small++;
	return mb;
}

unsigned
dpdk_host_tx(struct dpdk_queue *q, struct dpdk_txframe *fr, unsigned n)
{
	struct rte_mbuf *m[DPDK_BURST];
	uint8_t frame[DPDK_BURST];	/* m[j] is fr[frame[j]] */
	unsigned built = 0, sent = 0, tries = 0;

	_Static_assert(DPDK_BURST <= 256, "frame[] holds 8-bit indices");
	for (unsigned i = DPDK_BURST; i < n; i++)
		fr[i].held = fr[i].sent = false;	/* not taken: the caller's */
	if (n > DPDK_BURST)
		n = DPDK_BURST;
	for (unsigned i = 0; i < n; i++) {
		struct dpdk_txframe *f = &fr[i];
		bool small = f->pktlen <= DPDK_TX_COPYBREAK;
		struct rte_mbuf *mb = NULL;

		f->held = f->sent = false;
		/* tx_offload writes the headers: before the frame is shared */
		if (small)
			mb = tx_copy_small(q, f);
		if (mb == NULL && q->hp->zerocopy)
			mb = tx_attach(q, f);
		/* (a small frame has had its try at the port's pool) */
		if (mb == NULL && !small &&
		    (mb = tx_copy(q, f, q->hp->rxpool)) != NULL)
			q->tx_copied++;
		if (mb == NULL) {
			q->tx_dropped++;
			continue;
		}
		tx_offload(q, mb, f);
		frame[built] = (uint8_t)i;
		m[built++] = mb;
	}
	while (sent < built) {
		sent += rte_eth_tx_burst(q->port, q->queue, m + sent,
		    (uint16_t)(built - sent));
		if (sent < built && ++tries == 1)
			q->tx_full++;
		if (tries >= DPDK_TX_RETRIES)
			break;
	}
	for (unsigned j = 0; j < sent; j++)
		fr[frame[j]].sent = true;
	if (sent < built) {
		/* attached frames come back through the reap list */
		q->tx_dropped += built - sent;
		rte_pktmbuf_free_bulk(m + sent, built - sent);
	}
	return sent;
}

void
dpdk_host_stats(struct dpdk_queue *q, struct rump_dpdk_stats *st)
{
	struct rte_eth_stats es;
	struct rte_eth_link link;

	memset(st, 0, sizeof(*st));
	if (rte_eth_stats_get(q->port, &es) == 0) {
		st->ipackets = es.ipackets;
		st->opackets = es.opackets;
		st->ibytes = es.ibytes;
		st->obytes = es.obytes;
		st->imissed = es.imissed;
		st->ierrors = es.ierrors;
		st->oerrors = es.oerrors;
		st->rx_nombuf = es.rx_nombuf;
	}
	if (rte_eth_link_get_nowait(q->port, &link) == 0) {
		const struct dpdk_port *hp = &H.ports[q->port];

		st->link_up = link.link_status == RTE_ETH_LINK_UP ||
		    (hp->host_ifindex != 0 &&
		    if_nametoindex(hp->host_ifname) != hp->host_ifindex);
		st->link_speed_mbps = link.link_speed;
	}
	st->tx_copied = q->tx_copied;
	st->tx_small = q->tx_small;
	st->tx_recycled = q->tx_recycled;
	st->tx_full = q->tx_full;
	st->tx_dropped = q->tx_dropped;
	st->rx_copied = q->rx_copied;
	st->rx_lowcopied = q->rx_lowcopied;
	st->tx_stale = q->stale;
	st->rx_steered = atomic_load(&q->steered);
	st->rx_steer_drops = atomic_load(&q->steer_drops);
	pthread_mutex_lock(&H.mtx);
	st->mc_filter = H.ports[q->port].mc_filter;
	st->mc_addrs = H.ports[q->port].mc_naddrs;
	pthread_mutex_unlock(&H.mtx);
}

int
dpdk_host_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return kerr(EINVAL);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return kerr(pthread_setaffinity_np(pthread_self(), sizeof(set), &set));
}

/* ---- the process-wide public API (include/rumpnet/dpdk.h) ---- */

bool
rump_dpdk_available(void)
{
	return true;
}

int
rump_dpdk_init(const char *eal_args)
{
	return hyper_errno_to_host(dpdk_host_init(eal_args));
}

int
rump_dpdk_ring_pair(const char *name, unsigned nqueues)
{
	if (name == NULL)
		return EINVAL;
	if (!H.eal_done)
		return ENXIO;
	return hyper_errno_to_host(dpdk_host_ring_pair(name, nqueues));
}

int
rump_dpdk_fini(void)
{
	uint16_t pid;
	int error = 0;

	pthread_mutex_lock(&H.mtx);
	if (!H.eal_done)
		goto out;
	RTE_ETH_FOREACH_DEV(pid) {
		struct dpdk_port *hp = &H.ports[pid];

		for (uint16_t i = 0; hp->configured && i < hp->nqueues; i++)
			if (hp->q[i].attached) {
				error = EBUSY;
				goto out;
			}
	}
	drain_orphans_locked();
	RTE_ETH_FOREACH_DEV(pid) {
		if (H.ports[pid].configured)
			(void)rte_eth_dev_stop(pid);
		(void)rte_eth_dev_close(pid);
		H.ports[pid].configured = false;
	}
	(void)rte_eal_cleanup();
	H.eal_done = false;
	H.eal_gone = true;
out:
	pthread_mutex_unlock(&H.mtx);
	return error;
}
