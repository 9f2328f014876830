/*
 * test_dpdk.c -- the DPDK driver over net_ring: two instances in this
 * process joined by a pair of DPDK rings, as rumpnet-perf both and the
 * benchmark join them.  No root and no hugepages (--no-huge --no-shconf).
 *
 * Each transfer test sends data the receiver checks byte by byte (a
 * pattern of the offset), through the zero-copy path, the copy path and
 * virtual offload (64 KiB TCP segments on the ring), and ends with the
 * pools of both instances back to zero (the connection ends with a reset,
 * so no TIME-WAIT state is left) and every transmitted frame given back
 * by the PMD.  test_mempool_exhaustion runs the sender's mempool dry
 * with a receiver that does not read, and checks that the stack recovers.
 */
#define _DEFAULT_SOURCE 1	/* u_int &co. for <pcap/pcap.h> under -std=c11 */

#include "../unit/harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <pcap/pcap.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dev/dpdk/dpdk_host.h"
#include "net/rss.h"
#include "rumpnet/dpdk.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

#define EAL_BASE "--no-huge --no-shconf --no-pci -m 1536 --log-level=*:error"
/* EAL_BASE and a net_pcap port reading pcap_in and writing pcap_out */
static char EAL[512];
static char pcap_in[128], pcap_out[128];
#define XFER_BYTES (16u << 20)

static enum rump_softint_mode mode;

struct pair {
	struct rump_kernel *k[2];
	unsigned ifindex[2];
	uint32_t addr[2];
};

/*
 * pair_up with a receive mempool of mbufs rte_mbufs (0: 8191) on each,
 * end a's poll loop a fiber of the calling thread if fiber_a
 */
static void
pair_up_fiber(struct pair *p, const char *ring, bool tx_copy, bool voff,
    unsigned mbufs, bool fiber_a)
{
	struct rump_kernel_config kc;
	char port[32];
	int error;

	assert_int_equal(rump_dpdk_init(EAL), 0);
	/* EEXIST: the pair of an earlier test, attached again */
	error = rump_dpdk_ring_pair(ring, 1);
	assert_true(error == 0 || error == EEXIST);
	for (int i = 0; i < 2; i++) {
		struct rump_dpdk_config dc;

		rump_kernel_config_default(&kc);
		kc.softint_mode = mode;
		kc.clock_thread = false;	/* the poll loop ticks */
		assert_int_equal(rump_kernel_create(&kc, &p->k[i]), 0);
		rump_dpdk_config_default(&dc);
		snprintf(port, sizeof(port), "%s%c", ring, i == 0 ? 'a' : 'b');
		dc.port = port;
		dc.tx_copy = tx_copy;
		dc.virtual_offload = voff;
		dc.mbufs = mbufs;
		dc.fiber = i == 0 && fiber_a;
		assert_int_equal(rump_dpdk_attach(p->k[i], &dc,
		    &p->ifindex[i]), 0);
		p->addr[i] = inet_addr(i == 0 ? "198.18.0.1" : "198.18.0.2");
		assert_int_equal(rump_if_addr_add(p->k[i], p->ifindex[i],
		    p->addr[i], 24), 0);
		assert_int_equal(rump_if_up(p->k[i], p->ifindex[i]), 0);
	}
}

static void
pair_up_mbufs(struct pair *p, const char *ring, bool tx_copy, bool voff,
    unsigned mbufs)
{
	pair_up_fiber(p, ring, tx_copy, voff, mbufs, false);
}

static void
pair_up(struct pair *p, const char *ring, bool tx_copy, bool voff)
{
	pair_up_mbufs(p, ring, tx_copy, voff, 0);
}

static uint64_t
stat(struct rump_kernel *k, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(rump_stat_get(k, name, &v), 0);
	return v;
}

static void
pair_down(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		/* nothing the stack sent is still held by the PMD */
		th_wait_until(rump_kernel_leaks(p->k[i]) == 0, 5000);
		th_kernel_destroy(p->k[i]);
	}
}

static uint8_t
pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 11));
}

struct server {
	struct rump_kernel *k;
	int lfd;
	uint64_t bytes, bad;
};

/* Accept one connection, read XFER_BYTES checking each byte, reply "ok". */
static void *
server_main(void *arg)
{
	struct server *s = arg;
	static uint8_t buf[65536];
	int fd;

	assert_int_equal(rump_thread_bind(s->k), 0);
	fd = rump_sys_accept(s->lfd, NULL, NULL);
	if (fd >= 0) {
		while (s->bytes < XFER_BYTES) {
			ssize_t n = rump_sys_read(fd, buf, sizeof(buf));

			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] != pattern(s->bytes + (uint64_t)i))
					s->bad++;
			s->bytes += (uint64_t)n;
		}
		(void)rump_sys_write(fd, "ok", 2);
		/* the client resets the connection when it has read this */
		while (rump_sys_read(fd, buf, sizeof(buf)) > 0)
			;
		rump_sys_close(fd);
	}
	rump_sys_close(s->lfd);
	rump_thread_unbind();
	return NULL;
}

/* A TCP transfer from instance 1 to instance 0 over the ring pair. */
static void
transfer(const char *ring, bool tx_copy, bool voff, size_t chunk)
{
	const struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	static uint8_t buf[65536];
	struct server s = { 0 };
	struct rump_dpdk_stats st;
	struct pair p;
	pthread_t t;
	uint64_t off = 0;
	char reply[2];
	int fd;

	pair_up(&p, ring, tx_copy, voff);
	s.k = p.k[0];
	assert_int_equal(rump_thread_bind(p.k[0]), 0);
	sin.sin_port = htons(5001);
	s.lfd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s.lfd >= 0);
	assert_int_equal(rump_sys_bind(s.lfd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	assert_int_equal(rump_sys_listen(s.lfd, 8), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(pthread_create(&t, NULL, server_main, &s), 0);

	assert_int_equal(rump_thread_bind(p.k[1]), 0);
	fd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	sin.sin_addr.s_addr = p.addr[0];
	assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	while (off < XFER_BYTES) {
		size_t len = chunk;
		ssize_t n;

		if (len > XFER_BYTES - off)
			len = XFER_BYTES - off;
		for (size_t i = 0; i < len; i++)
			buf[i] = pattern(off + i);
		n = rump_sys_write(fd, buf, len);
		assert_true(n > 0);
		off += (uint64_t)n;
	}
	assert_int_equal(rump_sys_read(fd, reply, 2), 2);
	assert_memory_equal(reply, "ok", 2);
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst,
	    sizeof(rst)), 0);
	assert_int_equal(rump_sys_close(fd), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	pthread_join(t, NULL);
	assert_int_equal(s.bytes, XFER_BYTES);
	assert_int_equal(s.bad, 0);

	/* the frames crossed the ring, through the path asked for */
	assert_int_equal(rump_dpdk_port_stats(p.k[1], p.ifindex[1], &st), 0);
	assert_true(st.opackets > 0);
	/* small frames (ACKs, the SYN) are copied on any port */
	assert_true(st.tx_small > 0);
	if (tx_copy)
		assert_int_equal(st.tx_copied + st.tx_small, st.opackets);
	else
		assert_int_equal(st.tx_copied, 0);
	assert_true(stat(p.k[1], "if.dpdk0.opackets") >= st.opackets);
	assert_true(stat(p.k[0], "if.dpdk0.ipackets") > 0);
	assert_int_equal(stat(p.k[0], "tcp.rcvbadsum"), 0);
	if (chunk < 1000)	/* TSO frames of small mbufs were gathered */
		assert_true(st.tx_gathered > 0);
	else
		assert_int_equal(st.tx_gathered, 0);
	if (voff)	/* 64 KiB segments, checksums left out */
		assert_true(stat(p.k[0], "if.dpdk0.ibytes") /
		    stat(p.k[0], "if.dpdk0.ipackets") > 1514);
	else
		assert_true(stat(p.k[0], "if.dpdk0.ibytes") /
		    stat(p.k[0], "if.dpdk0.ipackets") <= 1514);
	pair_down(&p);
}

static void
test_tcp_zerocopy(void **state)
{
	(void)state;
	transfer(mode == RUMP_SOFTINT_INLINE ? "zci" : "zct", false, false,
	    65536);
}

static void
test_tcp_copy(void **state)
{
	(void)state;
	transfer(mode == RUMP_SOFTINT_INLINE ? "cpi" : "cpt", true, false,
	    65536);
}

static void
test_tcp_virtual_offload(void **state)
{
	(void)state;
	transfer(mode == RUMP_SOFTINT_INLINE ? "voi" : "vot", false, true,
	    65536);
}

/*
 * Writes of 100 bytes each sit in small mbufs: a 64 KiB TSO frame of them
 * has more pieces than one zero-copy send takes, and is gathered into
 * clusters first (a stack overflow once, when it was not).
 */
static void
test_tcp_small_writes_virtual_offload(void **state)
{
	(void)state;
	transfer(mode == RUMP_SOFTINT_INLINE ? "swi" : "swt", false, true, 100);
}

/* ICMP echo and UDP both ways: ARP resolved over the ring first. */
static void
test_ping_udp(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct rump_ping_reply r;
	struct pair p;
	char buf[64];
	int fd0, fd1;

	(void)state;
	pair_up(&p, mode == RUMP_SOFTINT_INLINE ? "pui" : "put", false, false);
	for (uint16_t seq = 1; seq <= 3; seq++) {
		assert_int_equal(rump_ping_send(p.k[1], p.addr[0], 77, seq, 56),
		    0);
		th_wait_until(rump_ping_last(p.k[1], &r) == 0 &&
		    r.count == seq, 5000);
		assert_int_equal(r.count, seq);
		assert_int_equal(r.seq, seq);
		assert_int_equal(r.src, p.addr[0]);
	}
	assert_int_equal(rump_thread_bind(p.k[0]), 0);
	fd0 = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_port = htons(7);
	assert_int_equal(rump_sys_bind(fd0, (struct sockaddr *)&a, sizeof(a)),
	    0);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_thread_bind(p.k[1]), 0);
	fd1 = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_addr.s_addr = p.addr[0];
	assert_int_equal(rump_sys_sendto(fd1, "hello", 5, 0,
	    (struct sockaddr *)&a, sizeof(a)), 5);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_thread_bind(p.k[0]), 0);
	assert_int_equal(rump_sys_recv(fd0, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(rump_sys_close(fd0), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_thread_bind(p.k[1]), 0);
	assert_int_equal(rump_sys_close(fd1), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	pair_down(&p);
}

/* Send len bytes of pattern seed from fd of k to a, as one datagram. */
static void
udp_send(struct rump_kernel *k, int fd, const struct sockaddr_in *a,
    size_t len, unsigned seed)
{
	uint8_t buf[1500];

	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(seed * 4096u + i);
	assert_int_equal(rump_thread_bind(k), 0);
	assert_int_equal(rump_sys_sendto(fd, buf, len, 0,
	    (const struct sockaddr *)a, sizeof(*a)), (ssize_t)len);
	assert_int_equal(rump_thread_unbind(), 0);
}

/* Receive on fd of k the datagram udp_send(len, seed) sent, intact. */
static void
udp_expect(struct rump_kernel *k, int fd, size_t len, unsigned seed)
{
	uint8_t buf[1501];

	assert_int_equal(rump_thread_bind(k), 0);
	assert_int_equal(rump_sys_recv(fd, buf, sizeof(buf), 0),
	    (ssize_t)len);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(buf[i], pattern(seed * 4096u + i));
	assert_int_equal(rump_thread_unbind(), 0);
}

/* A UDP socket on each end of p, bound to port 7000 of its address a[i]. */
static void
udp_pair_open(const struct pair *p, struct sockaddr_in a[2], int fd[2])
{
	for (int i = 0; i < 2; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].sin_family = AF_INET;
		a[i].sin_addr.s_addr = p->addr[i];
		a[i].sin_port = htons(7000);
		assert_int_equal(rump_thread_bind(p->k[i]), 0);
		fd[i] = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
		assert_true(fd[i] >= 0);
		assert_int_equal(rump_sys_bind(fd[i], (struct sockaddr *)&a[i],
		    sizeof(a[i])), 0);
		assert_int_equal(rump_thread_unbind(), 0);
	}
}

static void
udp_pair_close(const struct pair *p, const int fd[2])
{
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rump_thread_bind(p->k[i]), 0);
		assert_int_equal(rump_sys_close(fd[i]), 0);
		assert_int_equal(rump_thread_unbind(), 0);
	}
}

/*
 * Frames of at most 256 bytes are copied on transmit on every port
 * (tx_small), each into an rte_mbuf of the pool its queue last received
 * from (tx_recycled: here, once each end has received a frame, all of
 * them); larger ones go zero copy, or through the copy path with tx_copy
 * (tx_copied).  Datagrams on either side of the line arrive intact.
 */
static void
small_frames(const char *ring, bool tx_copy)
{
	/* UDP payloads: frames of 43, 60, 142 and 256 bytes, then larger */
	static const size_t lens[] = { 1, 18, 100, 214, 215, 1000, 1472 };
	const unsigned rounds = 20, nsmall = 4, nlens = 7;
	struct sockaddr_in a[2];
	struct rump_dpdk_stats before[2], after[2];
	struct pair p;
	int fd[2];

	pair_up_mbufs(&p, ring, tx_copy, false, 1023);
	udp_pair_open(&p, a, fd);
	/* ARP, and a frame received on each end */
	udp_send(p.k[1], fd[1], &a[0], 1, 0);
	udp_expect(p.k[0], fd[0], 1, 0);
	udp_send(p.k[0], fd[0], &a[1], 1, 0);
	udp_expect(p.k[1], fd[1], 1, 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(rump_dpdk_port_stats(p.k[i], p.ifindex[i],
		    &before[i]), 0);
	for (unsigned r = 1; r <= rounds; r++)
		for (unsigned j = 0; j < nlens; j++) {
			udp_send(p.k[1], fd[1], &a[0], lens[j], r);
			udp_expect(p.k[0], fd[0], lens[j], r);
			udp_send(p.k[0], fd[0], &a[1], lens[j], r + 1000);
			udp_expect(p.k[1], fd[1], lens[j], r + 1000);
		}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rump_dpdk_port_stats(p.k[i], p.ifindex[i],
		    &after[i]), 0);
		assert_int_equal(after[i].opackets - before[i].opackets,
		    rounds * nlens);
		assert_int_equal(after[i].tx_small - before[i].tx_small,
		    rounds * nsmall);
		assert_int_equal(after[i].tx_recycled - before[i].tx_recycled,
		    rounds * nsmall);
		assert_int_equal(after[i].tx_copied - before[i].tx_copied,
		    tx_copy ? rounds * (nlens - nsmall) : 0);
		assert_int_equal(after[i].tx_dropped, 0);
		assert_int_equal(stat(p.k[i], "udp.badsum"), 0);
	}
	udp_pair_close(&p, fd);
	pair_down(&p);
}

static void
test_small_frames_copied(void **state)
{
	(void)state;
	small_frames(mode == RUMP_SOFTINT_INLINE ? "sfi" : "sft", false);
	small_frames(mode == RUMP_SOFTINT_INLINE ? "sci" : "sct", true);
}

/* The receive mempool of end ('a' or 'b') of net_ring pair ring. */
static struct rte_mempool *
ring_rxpool(const char *ring, char end)
{
	char name[RTE_ETH_NAME_MAX_LEN], pool[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;
	uint16_t pid;

	snprintf(name, sizeof(name), "net_ring_%s%c", ring, end);
	assert_int_equal(rte_eth_dev_get_port_by_name(name, &pid), 0);
	snprintf(pool, sizeof(pool), "rn_rx_%u", pid);
	mp = rte_mempool_lookup(pool);
	assert_non_null(mp);
	return mp;
}

/*
 * Take every rte_mbuf of mp this thread can get (the poll loops' caches
 * keep theirs: this thread sends without them).  Returns how many.
 */
static unsigned
pool_dry(struct rte_mempool *mp, struct rte_mbuf **held, unsigned max)
{
	unsigned n = 0;

	while (n < max && (held[n] = rte_pktmbuf_alloc(mp)) != NULL)
		n++;
	assert_true(n > 0 && n < max);
	assert_null(rte_pktmbuf_alloc(mp));
	return n;
}

/* One datagram of len from a's fd[0] to b; the deltas of a's port. */
static void
small_one(struct pair *p, const int fd[2], const struct sockaddr_in a[2],
    size_t len, unsigned seed, struct rump_dpdk_stats *d)
{
	struct rump_dpdk_stats before, after;

	assert_int_equal(rump_dpdk_port_stats(p->k[0], p->ifindex[0],
	    &before), 0);
	udp_send(p->k[0], fd[0], &a[1], len, seed);
	assert_int_equal(rump_dpdk_port_stats(p->k[0], p->ifindex[0],
	    &after), 0);
	d->opackets = after.opackets - before.opackets;
	d->tx_small = after.tx_small - before.tx_small;
	d->tx_recycled = after.tx_recycled - before.tx_recycled;
	d->tx_dropped = after.tx_dropped - before.tx_dropped;
}

/*
 * A small frame whose recycled pool has run dry goes into an rte_mbuf of
 * the port's own pool, and the queue stays with its own until it receives
 * again; with both dry it goes zero copy (attached), or is dropped and
 * counted on a port without zero copy.  Then both pools come back, and so
 * does recycling.  Every datagram that went arrives intact, and nothing
 * else does.  a is k[0], b is k[1].
 */
static void
small_frames_dry(const char *ring, bool tx_copy)
{
	enum { MBUFS = 1023 };
	struct sockaddr_in a[2];
	static struct rte_mbuf *held[2][MBUFS + 1];
	struct rte_mempool *pool[2];
	struct rump_dpdk_stats d;
	unsigned nheld[2];
	uint8_t buf[64];
	struct pair p;
	int fd[2];

	pair_up_mbufs(&p, ring, tx_copy, false, MBUFS);
	for (int i = 0; i < 2; i++)
		pool[i] = ring_rxpool(ring, i == 0 ? 'a' : 'b');
	udp_pair_open(&p, a, fd);
	/* ARP both ways */
	udp_send(p.k[1], fd[1], &a[0], 1, 0);
	udp_expect(p.k[0], fd[0], 1, 0);
	/*
	 * Which pool each end copies into depends on what it received last
	 * (the gratuitous ARPs race the attach): with a's pool dry, b's
	 * frame goes into b's own, so a copies into b's from now on
	 */
	nheld[0] = pool_dry(pool[0], held[0], MBUFS + 1);
	udp_send(p.k[1], fd[1], &a[0], 18, 1);
	udp_expect(p.k[0], fd[0], 18, 1);
	for (unsigned j = 0; j < nheld[0]; j++)
		rte_pktmbuf_free(held[0][j]);
	small_one(&p, fd, a, 18, 2, &d);
	assert_int_equal(d.tx_small, 1);
	assert_int_equal(d.tx_recycled, 1);
	udp_expect(p.k[1], fd[1], 18, 2);

	/* b's pool dry: a's own, and it stays there */
	nheld[1] = pool_dry(pool[1], held[1], MBUFS + 1);
	for (unsigned seed = 3; seed <= 4; seed++) {
		small_one(&p, fd, a, 18, seed, &d);
		assert_int_equal(d.opackets, 1);
		assert_int_equal(d.tx_small, 1);
		assert_int_equal(d.tx_recycled, 0);
		assert_int_equal(d.tx_dropped, 0);
		udp_expect(p.k[1], fd[1], 18, seed);
	}

	/* both dry: attached, or dropped */
	nheld[0] = pool_dry(pool[0], held[0], MBUFS + 1);
	small_one(&p, fd, a, 18, 5, &d);
	assert_int_equal(d.tx_small, 0);
	assert_int_equal(d.tx_recycled, 0);
	assert_int_equal(d.opackets, tx_copy ? 0 : 1);
	assert_int_equal(d.tx_dropped, tx_copy ? 1 : 0);
	if (!tx_copy)
		udp_expect(p.k[1], fd[1], 18, 5);

	/* the pools back: a's own, then recycled once a has received */
	for (int i = 0; i < 2; i++)
		for (unsigned j = 0; j < nheld[i]; j++)
			rte_pktmbuf_free(held[i][j]);
	small_one(&p, fd, a, 18, 6, &d);
	assert_int_equal(d.opackets, 1);
	assert_int_equal(d.tx_small, 1);
	assert_int_equal(d.tx_recycled, 0);
	udp_expect(p.k[1], fd[1], 18, 6);
	udp_send(p.k[1], fd[1], &a[0], 18, 7);
	udp_expect(p.k[0], fd[0], 18, 7);
	small_one(&p, fd, a, 18, 8, &d);
	assert_int_equal(d.opackets, 1);
	assert_int_equal(d.tx_small, 1);
	assert_int_equal(d.tx_recycled, 1);
	udp_expect(p.k[1], fd[1], 18, 8);

	/* the dropped datagram never came: nothing more waits */
	assert_int_equal(rump_thread_bind(p.k[1]), 0);
	assert_int_equal(rump_sys_recv(fd[1], buf, sizeof(buf),
	    MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(rump_thread_unbind(), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(stat(p.k[i], "udp.badsum"), 0);
	udp_pair_close(&p, fd);
	pair_down(&p);
}

/*
 * The bytes of the frames a burst sent are counted, when one before them
 * was not: a 3000-byte datagram leaves in fragments of 1514, 1514 and 82
 * bytes, and with a's own pool dry (tx_copy: the large ones go nowhere)
 * only the last, copied into b's, goes.  With a's poll loop a fiber of
 * this thread, the datagram is sent while the loop batches, so the three
 * leave in one burst (the case that credited the first frame's bytes);
 * without, one at a time.  b is down, so it drops what comes (no
 * fragment waits for its datagram).
 */
struct sent_bytes {
	const char *ring;
	bool fiber;
};

static void *
sent_bytes_main(void *arg)
{
	const struct sent_bytes *sb = arg;
	enum { MBUFS = 1023 };
	struct sockaddr_in a[2];
	static struct rte_mbuf *held[MBUFS + 1];
	static uint8_t big[3000];
	struct rump_dpdk_stats before, after;
	struct rte_mempool *pool;
	int fd[2], dont = IP_PMTUDISC_DONT;
	uint64_t opk, obytes;
	unsigned nheld;
	struct pair p;

	pair_up_fiber(&p, sb->ring, true, false, MBUFS, sb->fiber);
	pool = ring_rxpool(sb->ring, 'a');
	udp_pair_open(&p, a, fd);
	/* ARP both ways; then a copies its small frames into b's pool */
	udp_send(p.k[1], fd[1], &a[0], 1, 0);
	udp_expect(p.k[0], fd[0], 1, 0);
	nheld = pool_dry(pool, held, MBUFS + 1);
	udp_send(p.k[1], fd[1], &a[0], 18, 1);
	udp_expect(p.k[0], fd[0], 18, 1);
	for (unsigned j = 0; j < nheld; j++)
		rte_pktmbuf_free(held[j]);
	assert_int_equal(rump_if_down(p.k[1], p.ifindex[1]), 0);

	nheld = pool_dry(pool, held, MBUFS + 1);
	assert_int_equal(rump_dpdk_port_stats(p.k[0], p.ifindex[0], &before),
	    0);
	opk = stat(p.k[0], "if.dpdk0.opackets");
	obytes = stat(p.k[0], "if.dpdk0.obytes");
	assert_int_equal(rump_thread_bind(p.k[0]), 0);
	assert_int_equal(rump_sys_setsockopt(fd[0], IPPROTO_IP,
	    IP_MTU_DISCOVER, &dont, sizeof(dont)), 0);
	/* a fiber's turn: the loop has yielded to it in its batch */
	if (sb->fiber)
		rump_fiber_yield();
	assert_int_equal(rump_sys_sendto(fd[0], big, sizeof(big), 0,
	    (const struct sockaddr *)&a[1], sizeof(a[1])), sizeof(big));
	if (sb->fiber) {
		/* staged: nothing went yet */
		assert_int_equal(rump_dpdk_port_stats(p.k[0], p.ifindex[0],
		    &after), 0);
		assert_int_equal(after.tx_dropped, before.tx_dropped);
		assert_int_equal(after.tx_small, before.tx_small);
		assert_int_equal(stat(p.k[0], "if.dpdk0.opackets"), opk);
		rump_fiber_yield();	/* the loop sends the batch */
	}
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_dpdk_port_stats(p.k[0], p.ifindex[0], &after),
	    0);
	assert_int_equal(after.tx_dropped - before.tx_dropped, 2);
	assert_int_equal(after.tx_recycled - before.tx_recycled, 1);
	assert_int_equal(stat(p.k[0], "if.dpdk0.opackets") - opk, 1);
	assert_int_equal(stat(p.k[0], "if.dpdk0.obytes") - obytes, 82);
	for (unsigned j = 0; j < nheld; j++)
		rte_pktmbuf_free(held[j]);

	udp_pair_close(&p, fd);
	for (uint64_t t0 = th_now_ns(); sb->fiber &&
	    rump_kernel_leaks(p.k[0]) != 0 && th_now_ns() - t0 < 5000000000u;)
		rump_fiber_yield();	/* the loop frees what came back */
	pair_down(&p);		/* joins a fiber loop */
	return NULL;
}

static void
test_sent_bytes(void **state)
{
	/* test_small_frames_copied's tx_copy pair (DPDK has 32 ports) */
	struct sent_bytes sb = { mode == RUMP_SOFTINT_INLINE ? "sci" : "sct",
	    false };
	pthread_t t;

	(void)state;
	assert_int_equal(rump_dpdk_init(EAL), 0);
	(void)sent_bytes_main(&sb);
	/* a thread of its own: its fibers end with it */
	sb.fiber = true;
	assert_int_equal(pthread_create(&t, NULL, sent_bytes_main, &sb), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
}

static void
test_small_frames_pool_dry(void **state)
{
	(void)state;
	/* the pairs of test_small_frames_copied (DPDK has 32 ports) */
	small_frames_dry(mode == RUMP_SOFTINT_INLINE ? "sfi" : "sft", false);
	small_frames_dry(mode == RUMP_SOFTINT_INLINE ? "sci" : "sct", true);
}

/*
 * Which PMDs get frames attached as external buffers: only those that copy
 * them with the CPU in this process.  net_memif with zero-copy=yes would
 * send offsets into its shared regions (the peer read garbage and
 * crashed: seen with hugepages, which its zero copy needs, so not here).
 */
static void
test_zerocopy_pmds(void **state)
{
	static const struct {
		const char *driver, *bus, *devargs;
		bool ok;
	} cases[] = {
		{ "net_ring", "vdev", NULL, true },
		{ "net_af_packet", "vdev", "iface=veth0", true },
		{ "net_tap", "vdev", "", true },
		{ "net_pcap", "vdev", NULL, true },
		{ "net_null", "vdev", "no-rx=1", true },
		{ "net_memif", "vdev", "role=client,socket=/tmp/m.sock", true },
		{ "net_memif", "vdev", "role=client,zero-copy=no", true },
		/* memif takes any value with "yes" in it for yes */
		{ "net_memif", "vdev", "zero-copy=yesno,role=server", false },
		{ "net_memif", "vdev", "zero-copy=no,zero-copy=yes", false },
		{ "net_memif", "vdev", "role=client,zero-copy=", false },
		{ "net_memif", "vdev", "zero-copy-x=yes,role=client", true },
		{ "net_memif", "vdev", "role=client,zero-copy=yes", false },
		{ "net_memif", "vdev", "zero-copy=yes", false },
		{ "net_memif", "vdev",
		    "socket=/tmp/m.sock,zero-copy=yes,role=server", false },
		{ "net_virtio_user", "vdev", "path=/dev/vhost-net", false },
		{ "net_vhost", "vdev", NULL, false },
		{ "net_ring", "pci", NULL, false },
		{ "net_ice", "pci", NULL, false },
		{ "net_ring", "", NULL, false },
		{ NULL, "vdev", NULL, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = dpdk_host_zerocopy_ok(cases[i].driver, cases[i].bus,
		    cases[i].devargs);

		if (ok != cases[i].ok)
			print_message("# case %zu: %s on %s, %s\n", i,
			    cases[i].driver ? cases[i].driver : "(null)",
			    cases[i].bus, cases[i].devargs ? cases[i].devargs :
			    "(null)");
		assert_int_equal(ok, cases[i].ok);
	}
}

/*
 * Multicast over a port: a group joined on one end receives what the
 * other sends to it (IP_MULTICAST_IF), and the port's filter says what
 * the PMD does: net_ring cannot filter, so its ports keep receiving
 * every multicast (a NIC that can would filter on the group's MAC and
 * 224.0.0.1's).
 */
static void
test_multicast(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 5 };
	struct rump_dpdk_stats st;
	struct ip_mreq mr;
	struct pair p;
	char buf[16];
	int fd0, fd1;

	(void)state;
	pair_up(&p, mode == RUMP_SOFTINT_INLINE ? "mci" : "mct", false, false);
	assert_int_equal(rump_dpdk_port_stats(p.k[0], p.ifindex[0], &st), 0);
	assert_false(st.mc_filter);
	assert_int_equal(rump_thread_bind(p.k[0]), 0);
	fd0 = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_port = htons(5000);
	assert_int_equal(rump_sys_bind(fd0, (struct sockaddr *)&a, sizeof(a)),
	    0);
	assert_int_equal(rump_sys_setsockopt(fd0, SOL_SOCKET, SO_RCVTIMEO,
	    &tv, sizeof(tv)), 0);
	mr.imr_multiaddr.s_addr = inet_addr("239.1.2.3");
	mr.imr_interface.s_addr = p.addr[0];
	assert_int_equal(rump_sys_setsockopt(fd0, IPPROTO_IP,
	    IP_ADD_MEMBERSHIP, &mr, sizeof(mr)), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_dpdk_port_stats(p.k[0], p.ifindex[0], &st), 0);
	assert_false(st.mc_filter);
	assert_int_equal(st.mc_addrs, 0);

	assert_int_equal(rump_thread_bind(p.k[1]), 0);
	fd1 = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(rump_sys_setsockopt(fd1, IPPROTO_IP, IP_MULTICAST_IF,
	    &p.addr[1], sizeof(p.addr[1])), 0);
	a.sin_addr.s_addr = inet_addr("239.1.2.3");
	assert_int_equal(rump_sys_sendto(fd1, "group", 5, 0,
	    (struct sockaddr *)&a, sizeof(a)), 5);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_thread_bind(p.k[0]), 0);
	assert_int_equal(rump_sys_recv(fd0, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "group", 5);
	assert_int_equal(rump_sys_close(fd0), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(stat(p.k[0], "igmp.sndleaves"), 1);
	assert_int_equal(rump_thread_bind(p.k[1]), 0);
	assert_int_equal(rump_sys_close(fd1), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	pair_down(&p);
}

#define ME_MBUFS 512		/* the sender's mempool */
#define ME_MORE (256u << 10)	/* sent after the receiver has read */

/* Read len bytes of the pattern from off on fd (blocking, with timeout). */
static void
read_pattern(int fd, uint64_t off, uint64_t len)
{
	static uint8_t buf[65536];

	while (len > 0) {
		ssize_t n = rump_sys_read(fd, buf, len < sizeof(buf) ?
		    (size_t)len : sizeof(buf));

		if (n <= 0)
			fail_msg("read at %llu, %llu to go: %zd (%s)",
			    (unsigned long long)off, (unsigned long long)len,
			    n, n < 0 ? strerror(errno) : "end of file");
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(off + (uint64_t)i))
				fail_msg("byte %llu wrong",
				    (unsigned long long)(off + (uint64_t)i));
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
}

/* Write len bytes of the pattern from off on non-blocking fd; bytes taken. */
static uint64_t
write_pattern(int fd, uint64_t off, uint64_t len)
{
	static uint8_t buf[65536];
	uint64_t done = 0;

	while (done < len) {
		size_t chunk = len - done < sizeof(buf) ? (size_t)(len - done) :
		    sizeof(buf);
		ssize_t n;

		for (size_t i = 0; i < chunk; i++)
			buf[i] = pattern(off + done + i);
		if ((n = rump_sys_write(fd, buf, chunk)) < 0) {
			assert_int_equal(errno, EAGAIN);
			break;
		}
		done += (uint64_t)n;
	}
	return done;
}

/*
 * The driver's mempool runs low.  On net_ring a frame crosses as the
 * sender's rte_mbuf: with tx_copy the sender copies each frame into its
 * own receive mempool (512 here), and the receiver keeps that rte_mbuf,
 * without a copy, as the storage of the mbuf in its socket buffer.  A
 * receiver that does not read (a 4 MiB buffer) would so hold the
 * sender's whole mempool, and the sender could send nothing more (a NIC's
 * port the same: its receive ring could not refill, and not even the
 * segment that frees the others would come in).  Below a quarter free,
 * the receiver copies what comes from that mempool instead (port
 * rx_lowcopied): it never holds more than the rest, the data keeps
 * flowing far beyond what the mempool could hold, every byte arrives
 * intact, and the rte_mbufs go back once it reads.  (rx_nombuf cannot
 * happen on net_ring: the PMD takes no buffer from the receiver's
 * mempool, it passes the sender's.)
 */
static void
test_mempool_exhaustion(void **state)
{
	const struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	const struct timeval tmo = { .tv_sec = 65 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct rump_dpdk_stats st, rst0;
	uint64_t sent = 0, t0;
	struct pair p;
	int lfd, fd0, fd1, big = 4 << 20;

	(void)state;
	pair_up_mbufs(&p, mode == RUMP_SOFTINT_INLINE ? "mei" : "met", true,
	    false, ME_MBUFS);
	assert_int_equal(rump_thread_bind(p.k[0]), 0);
	lfd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(rump_sys_setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &big,
	    sizeof(big)), 0);
	sin.sin_port = htons(5003);
	assert_int_equal(rump_sys_bind(lfd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	assert_int_equal(rump_sys_listen(lfd, 8), 0);
	assert_int_equal(rump_thread_unbind(), 0);

	assert_int_equal(rump_thread_bind(p.k[1]), 0);
	fd1 = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd1 >= 0);
	assert_int_equal(rump_sys_setsockopt(fd1, SOL_SOCKET, SO_SNDBUF, &big,
	    sizeof(big)), 0);
	sin.sin_addr.s_addr = p.addr[0];
	assert_int_equal(rump_sys_connect(fd1, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	assert_int_equal(rump_sys_fcntl(fd1, F_SETFL, O_NONBLOCK), 0);
	/*
	 * write until the receiver has taken more than the mempool could
	 * hold, copying, without reading (the sender's retransmission timer
	 * backs off while its mempool is dry for a moment, with an ASan
	 * build's slow receiver)
	 */
	t0 = th_now_ns();
	for (;;) {
		sent += write_pattern(fd1, sent, 8u << 20);
		assert_int_equal(rump_dpdk_port_stats(p.k[0], p.ifindex[0],
		    &rst0), 0);
		/* what came in order, and out of order (holes, refilled) */
		if (rst0.rx_lowcopied > 0 && stat(p.k[0], "tcp.rcvbyte") +
		    stat(p.k[0], "tcp.rcvoobyte") > 3 * ME_MBUFS * 1448u / 2)
			break;
		assert_true(th_now_ns() - t0 < 60000000000ull);
		th_sleep_ms(1);
	}
	assert_int_equal(rump_thread_unbind(), 0);
	/*
	 * the receiver holds no more than three quarters, and the bursts
	 * before it looks at the level again (two of 32 here), and what a
	 * racy read of the other thread's cache missed
	 */
	assert_true(th_pool_out(p.k[0], "mextpl") > ME_MBUFS / 2);
	assert_true(th_pool_out(p.k[0], "mextpl") <= ME_MBUFS * 3 / 4 + 96);
	assert_int_equal(stat(p.k[0], "if.dpdk0.iqdrops"), 0);

	/* the receiver reads: the rte_mbufs go back, the rest gets through */
	assert_int_equal(rump_thread_bind(p.k[0]), 0);
	fd0 = rump_sys_accept(lfd, NULL, NULL);
	assert_true(fd0 >= 0);
	assert_int_equal(rump_sys_setsockopt(fd0, SOL_SOCKET, SO_RCVTIMEO,
	    &tmo, sizeof(tmo)), 0);
	read_pattern(fd0, 0, sent);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_thread_bind(p.k[1]), 0);
	assert_int_equal(write_pattern(fd1, sent, ME_MORE), ME_MORE);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_thread_bind(p.k[0]), 0);
	read_pattern(fd0, sent, ME_MORE);
	assert_int_equal(stat(p.k[0], "tcp.rcvbadsum"), 0);
	assert_int_equal(rump_sys_setsockopt(fd0, SOL_SOCKET, SO_LINGER, &rst,
	    sizeof(rst)), 0);
	assert_int_equal(rump_sys_close(fd0), 0);
	assert_int_equal(rump_sys_close(lfd), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_thread_bind(p.k[1]), 0);
	assert_int_equal(rump_sys_setsockopt(fd1, SOL_SOCKET, SO_LINGER, &rst,
	    sizeof(rst)), 0);
	assert_int_equal(rump_sys_close(fd1), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_dpdk_port_stats(p.k[1], p.ifindex[1], &st), 0);
	assert_int_equal(rump_dpdk_port_stats(p.k[0], p.ifindex[0], &rst0), 0);
	print_message("# %llu bytes before the receiver read; receiver: %llu "
	    "frames copied (mempool low); sender: %llu frames dropped (no "
	    "rte_mbuf)\n", (unsigned long long)sent,
	    (unsigned long long)rst0.rx_lowcopied,
	    (unsigned long long)st.tx_dropped);
	assert_true(st.tx_copied > 0);
	pair_down(&p);
}

/* An instance on end ('a' or 'b') of ring, up, with addr (NULL: none). */
static struct rump_kernel *
ring_instance(const char *ring, char end, const char *addr, unsigned *ifx)
{
	struct rump_kernel_config kc;
	struct rump_dpdk_config dc;
	struct rump_kernel *k;
	char port[32];

	rump_kernel_config_default(&kc);
	kc.softint_mode = mode;
	kc.clock_thread = false;
	rump_dpdk_config_default(&dc);
	snprintf(port, sizeof(port), "%s%c", ring, end);
	dc.port = port;
	assert_int_equal(rump_kernel_create(&kc, &k), 0);
	assert_int_equal(rump_dpdk_attach(k, &dc, ifx), 0);
	if (addr != NULL)
		assert_int_equal(rump_if_addr_add(k, *ifx, inet_addr(addr),
		    24), 0);
	assert_int_equal(rump_if_up(k, *ifx), 0);
	return k;
}

/*
 * An instance goes while frames it lent its port (zero copy) still sit
 * on the wire: nobody has attached the ring's other end.  The close
 * gives up after its wait, and the instance's mbuf memory stays (the
 * frames still point into it).  A later instance on the other end reads
 * those frames intact (a datagram of 1000 bytes from 198.18.0.1 to
 * 255.255.255.255, its checksum checked, after the copied ARP; the
 * limited broadcast, because b may read it before its address is set),
 * and when it
 * frees them they come back to the first port's queue: a new instance
 * there must not be handed them (they are the old instance's mbufs),
 * only counted (tx_stale).  An ASan build sees any use of the old
 * instance's memory.
 */
static void
test_close_with_frames_on_the_wire(void **state)
{
	const char *ring = mode == RUMP_SOFTINT_INLINE ? "owi" : "owt";
	struct sockaddr_in to = { .sin_family = AF_INET };
	static char data[1000];
	struct rump_dpdk_stats st;
	struct rump_kernel *a, *b, *c;
	unsigned ia, ib, ic;
	int fd, on = 1;

	(void)state;
	assert_int_equal(rump_dpdk_init(EAL), 0);
	assert_int_equal(rump_dpdk_ring_pair(ring, 1), 0);
	/*
	 * a: sends its gratuitous ARP (copied: small) and a datagram (lent)
	 * into the ring, which nobody reads
	 */
	a = ring_instance(ring, 'a', "198.18.0.1", &ia);
	assert_int_equal(rump_thread_bind(a), 0);
	fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_BROADCAST,
	    &on, sizeof(on)), 0);
	/* ours even before an address is set */
	to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
	to.sin_port = htons(9);
	memset(data, 0x5a, sizeof(data));
	assert_int_equal(rump_sys_sendto(fd, data, sizeof(data), 0,
	    (struct sockaddr *)&to, sizeof(to)), (ssize_t)sizeof(data));
	assert_int_equal(rump_sys_close(fd), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_true(th_wait_until(stat(a, "if.dpdk0.opackets") >= 2, 5000));
	assert_true(rump_kernel_leaks(a) > 0);	/* lent to the port */
	assert_int_equal(rump_kernel_destroy(a), 0);	/* waits, gives up */
	/*
	 * b, on the other end, takes them (its driver copies them: they are
	 * not its memory), and what went up the stack is intact (b's loop
	 * may read them before b is up: then they are dropped, idown)
	 */
	b = ring_instance(ring, 'b', "198.18.0.2", &ib);
	assert_true(th_wait_until(stat(b, "arp.rcvtotal") +
	    stat(b, "udp.noportbcast") + stat(b, "if.dpdk0.idown") >= 2, 5000));
	assert_int_equal(stat(b, "arp.rcvbadlen"), 0);
	assert_int_equal(stat(b, "arp.rcvbadproto"), 0);
	assert_int_equal(stat(b, "udp.badsum"), 0);
	assert_int_equal(stat(b, "ip.badsum"), 0);
	/* c, where a was: what b freed comes back there, and is dropped */
	c = ring_instance(ring, 'a', NULL, &ic);
	assert_true(th_wait_until(rump_dpdk_port_stats(c, ic, &st) == 0 &&
	    st.tx_stale >= 1, 5000));
	/* (threads mode: b's own announcement may still be in c's softnet) */
	th_wait_until(rump_kernel_leaks(c) == 0, 5000);
	th_kernel_destroy(c);
	th_wait_until(rump_kernel_leaks(b) == 0, 5000);
	th_kernel_destroy(b);
}

/* Bad arguments: errno values, nothing attached, nothing leaked. */
static void
test_attach_errors(void **state)
{
	struct rump_dpdk_config dc;
	struct rump_kernel *k;
	unsigned ifindex, again;
	const char *ring = mode == RUMP_SOFTINT_INLINE ? "eri" : "ert";
	char port[32];

	(void)state;
	assert_int_equal(rump_dpdk_init(EAL), 0);
	/* a second initialisation changes nothing */
	assert_int_equal(rump_dpdk_init("--bogus"), 0);
	assert_int_equal(rump_dpdk_ring_pair(ring, 1), 0);
	assert_int_equal(rump_dpdk_ring_pair(ring, 1), EEXIST);
	assert_int_equal(rump_dpdk_ring_pair("x", 0), EINVAL);
	k = th_kernel(mode, RUMP_CLOCK_REAL, 1);
	rump_dpdk_config_default(&dc);
	dc.port = "no_such_port";
	assert_int_equal(rump_dpdk_attach(k, &dc, &ifindex), ENODEV);
	dc.port = "4000";
	assert_int_equal(rump_dpdk_attach(k, &dc, &ifindex), ENODEV);
	snprintf(port, sizeof(port), "%sa", ring);
	dc.port = port;
	dc.queue = 1;		/* the port has one queue pair */
	dc.nqueues = 1;
	assert_int_equal(rump_dpdk_attach(k, &dc, &ifindex), EINVAL);
	dc.queue = 0;
	dc.idle_sleep_us = 5000;	/* a sleep over a tick */
	assert_int_equal(rump_dpdk_attach(k, &dc, &ifindex), EINVAL);
	dc.idle_sleep_us = 0;
	assert_int_equal(rump_dpdk_attach(k, &dc, &ifindex), 0);
	assert_int_equal(rump_dpdk_attach(k, &dc, &again), EBUSY);
	assert_int_equal(rump_if_index(k, "dpdk0", &again), 0);
	assert_int_equal(again, ifindex);
	/* the queue pair is free again once its interface is gone */
	assert_int_equal(rump_if_destroy(k, ifindex), 0);
	assert_int_equal(rump_dpdk_attach(k, &dc, &ifindex), 0);
	th_kernel_destroy(k);

	/*
	 * The port's own RSS: net_ring has none, so it is refused, and the
	 * instance is left as it was (no RSS membership); dispatch and RSS
	 * at once make no sense
	 */
	{
		const char *r2 = mode == RUMP_SOFTINT_INLINE ? "rsi" : "rst";
		struct rump_rss_config rc;

		assert_int_equal(rump_dpdk_ring_pair(r2, 2), 0);
		k = th_kernel(mode, RUMP_CLOCK_REAL, 1);
		rump_dpdk_config_default(&dc);
		snprintf(port, sizeof(port), "%sa", r2);
		dc.port = port;
		dc.nqueues = 2;
		dc.rss = true;
		assert_int_equal(rump_dpdk_attach(k, &dc, &ifindex), EINVAL);
		assert_int_equal(rump_rss_get(k, &rc), 0);
		assert_int_equal(rc.rss_ninstances, 1);
		dc.dispatch = true;
		assert_int_equal(rump_dpdk_attach(k, &dc, &ifindex), EINVAL);
		th_kernel_destroy(k);
	}
}

/* the frames net_pcap0 receives: an ARP request and an echo request */
#define PCAP_NIN 2

static void
pcap_input_write(void)
{
	static const uint8_t peer[6] = { 0x02, 0, 0, 0, 9, 1 };
	uint8_t f[PCAP_NIN][64];
	size_t len[PCAP_NIN];
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(p, pcap_in);

	assert_non_null(d);
	memset(f, 0, sizeof(f));
	/* who-has 198.18.9.2 tell 198.18.9.1 */
	memset(f[0], 0xff, 6);
	memcpy(f[0] + 6, peer, 6);
	memcpy(f[0] + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10);
	memcpy(f[0] + 22, peer, 6);
	memcpy(f[0] + 28, "\xc6\x12\x09\x01", 4);
	memcpy(f[0] + 38, "\xc6\x12\x09\x02", 4);
	len[0] = 42;
	/* a UDP datagram 198.18.9.1:9 -> 198.18.9.2:9 (discard), no checksum */
	memset(f[1], 0xff, 6);
	memcpy(f[1] + 6, peer, 6);
	memcpy(f[1] + 12, "\x08\x00\x45\x00\x00\x20\x00\x01\x00\x00\x40\x11"
	    "\x00\x00\xc6\x12\x09\x01\xc6\x12\x09\x02\x00\x09\x00\x09"
	    "\x00\x0c\x00\x00pcap", 34);
	len[1] = 14 + 32;
	for (int i = 0; i < PCAP_NIN; i++) {
		struct pcap_pkthdr h = { .caplen = (bpf_u_int32)len[i],
		    .len = (bpf_u_int32)len[i] };

		pcap_dump((u_char *)d, &h, f[i]);
	}
	pcap_dump_close(d);
	pcap_close(p);
}

/*
 * net_pcap: the port reads its capture file at once (while the interface
 * is still down: every frame is counted as such), and what the stack sends
 * lands in the output file byte for byte.
 */
static void
test_pcap_port(void **state)
{
	static const uint8_t peer[6] = { 0x02, 0, 0, 0, 9, 1 };
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct rump_dpdk_config dc;
	struct rump_kernel *k;
	char errbuf[PCAP_ERRBUF_SIZE];
	const u_char *data;
	struct pcap_pkthdr *h;
	unsigned ifindex, seen = 0;
	pcap_t *p;
	int fd;

	(void)state;
	assert_int_equal(rump_dpdk_init(EAL), 0);
	k = th_kernel(mode, RUMP_CLOCK_REAL, 1);
	rump_dpdk_config_default(&dc);
	dc.port = "net_pcap0";
	assert_int_equal(rump_dpdk_attach(k, &dc, &ifindex), 0);
	assert_true(th_wait_until(stat(k, "if.dpdk0.idown") == PCAP_NIN,
	    5000));
	assert_int_equal(rump_if_addr_add(k, ifindex, inet_addr("198.18.9.2"),
	    24), 0);
	assert_int_equal(rump_arp_add(k, ifindex, inet_addr("198.18.9.1"),
	    peer), 0);
	assert_int_equal(rump_if_up(k, ifindex), 0);
	assert_int_equal(rump_thread_bind(k), 0);
	fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	to.sin_port = htons(9);
	to.sin_addr.s_addr = inet_addr("198.18.9.1");
	assert_int_equal(rump_sys_sendto(fd, "to the file", 11, 0,
	    (struct sockaddr *)&to, sizeof(to)), 11);
	assert_int_equal(rump_sys_close(fd), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_true(th_wait_until(stat(k, "if.dpdk0.opackets") >= 2, 5000));
	/* the PMD writes at the end of each burst: the file has them now */
	assert_non_null(p = pcap_open_offline(pcap_out, errbuf));
	while (pcap_next_ex(p, &h, &data) == 1) {
		if (h->caplen == 14 + 28 + 11 && data[23] == 17) {
			assert_memory_equal(data, peer, 6);
			assert_memory_equal(data + 42, "to the file", 11);
			seen++;
		}
	}
	pcap_close(p);
	assert_int_equal(seen, 1);
	/* the poll loop frees what the PMD gave back on its next turn */
	th_wait_until(rump_kernel_leaks(k) == 0, 5000);
	th_kernel_destroy(k);
}

/*
 * ---- both ends in fiber mode ----
 *
 * Each instance is made by a host thread of its own, which runs the
 * instance's poll loop as a fiber (rump_dpdk_config.fiber) and the
 * application as fibers next to it: on the server, an accepting fiber
 * and a fiber per connection echoing what it reads; on the client, a
 * fiber per connection sending FIB_BYTES, reading them back and checking
 * them.  Nothing else runs in those instances: every wake-up is a fiber
 * switch on the thread.
 */
#define FIB_CONNS 40
#define FIB_BYTES (200 * 1000)

struct fib_side {
	const char *port;
	const char *addr;
	struct rump_kernel *k;
	int lfd;
	_Atomic int *listening;
	int ok, bad, handled;
	/*
	 * the application: the server's fiber, spawned once it listens, or
	 * the client's, spawned nfibers times
	 */
	void (*fiber)(void *);
	int nfibers;
	bool ack_now;			/* rump_dpdk_config.ack_now */
	/* the instance's TCP counters when its fibers were done */
	uint64_t ackpass, ackpassout, sndtotal, delack;
};

static void
fib_echo(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t buf[4096];
	ssize_t n;

	while ((n = rump_sys_read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0, m; off < n; off += m)
			if ((m = rump_sys_write(fd, buf + off,
			    (size_t)(n - off))) <= 0)
				goto out;
out:
	rump_sys_close(fd);
}

static struct fib_side *fib_server_side;

static void
fib_accept(void *arg)
{
	struct fib_side *sd = arg;

	for (int i = 0; i < FIB_CONNS; i++) {
		int fd = rump_sys_accept(sd->lfd, NULL, NULL);

		assert_true(fd >= 0);
		assert_int_equal(rump_fiber_spawn(sd->k, fib_echo,
		    (void *)(intptr_t)fd, 0), 0);
		sd->handled++;
	}
	rump_sys_close(sd->lfd);
}

static void
fib_client(void *arg)
{
	struct fib_side *sd = arg;
	const struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(5002) };
	static __thread int next;
	uint8_t out[4096], in[4096];
	uint64_t sent = 0, got = 0;
	int fd, idx = next++;
	bool good = true;

	sin.sin_addr.s_addr = inet_addr("198.18.0.1");
	fd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || rump_sys_connect(fd, (struct sockaddr *)&sin,
	    sizeof(sin)) != 0) {
		sd->bad++;
		return;
	}
	/* a write and a read in turn: neither end's buffers fill up */
	while (good && got < FIB_BYTES) {
		if (sent < FIB_BYTES) {
			size_t len = sizeof(out);
			ssize_t n;

			if (len > FIB_BYTES - sent)
				len = (size_t)(FIB_BYTES - sent);
			for (size_t i = 0; i < len; i++)
				out[i] = pattern(sent + i + (uint64_t)idx);
			if ((n = rump_sys_write(fd, out, len)) <= 0)
				good = false;
			else
				sent += (uint64_t)n;
		}
		ssize_t n = rump_sys_read(fd, in, sizeof(in));

		if (n <= 0)
			good = false;
		for (ssize_t i = 0; i < n; i++)
			if (in[i] != pattern(got + (uint64_t)i + (uint64_t)idx))
				good = false;
		if (n > 0)
			got += (uint64_t)n;
	}
	if (good)
		sd->ok++;
	else
		sd->bad++;
	(void)rump_sys_setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst,
	    sizeof(rst));
	rump_sys_close(fd);
}

static void *
fib_side_main(void *arg)
{
	struct fib_side *sd = arg;
	struct rump_kernel_config kc;
	struct rump_dpdk_config dc;
	unsigned ifx;
	bool server = sd == fib_server_side;

	rump_kernel_config_default(&kc);
	kc.softint_mode = mode;
	kc.clock_thread = false;
	assert_int_equal(rump_kernel_create(&kc, &sd->k), 0);
	rump_dpdk_config_default(&dc);
	dc.port = sd->port;
	dc.virtual_offload = true;
	dc.fiber = true;
	dc.ack_now = sd->ack_now;
	assert_int_equal(rump_dpdk_attach(sd->k, &dc, &ifx), 0);
	assert_int_equal(rump_if_addr_add(sd->k, ifx, inet_addr(sd->addr), 24),
	    0);
	assert_int_equal(rump_if_up(sd->k, ifx), 0);
	assert_int_equal(rump_thread_bind(sd->k), 0);
	if (server) {
		struct sockaddr_in sin = { .sin_family = AF_INET,
		    .sin_port = htons(5002) };

		sd->lfd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
		assert_true(sd->lfd >= 0);
		assert_int_equal(rump_sys_bind(sd->lfd,
		    (struct sockaddr *)&sin, sizeof(sin)), 0);
		assert_int_equal(rump_sys_listen(sd->lfd, FIB_CONNS), 0);
		assert_int_equal(rump_fiber_spawn(sd->k, sd->fiber, sd, 0), 0);
		atomic_store(sd->listening, 1);
	} else {
		/* the server listens; this thread's poll loop runs meanwhile */
		while (atomic_load(sd->listening) == 0)
			rump_fiber_yield();
		for (int i = 0; i < sd->nfibers; i++)
			assert_int_equal(rump_fiber_spawn(sd->k, sd->fiber, sd,
			    0), 0);
	}
	assert_int_equal(rump_fiber_run(), 0);
	sd->ackpass = stat(sd->k, "tcp.ackpass");
	sd->ackpassout = stat(sd->k, "tcp.ackpassout");
	sd->sndtotal = stat(sd->k, "tcp.sndtotal");
	sd->delack = stat(sd->k, "tcp.delack");
	assert_int_equal(rump_thread_unbind(), 0);
	/*
	 * The poll loop is a fiber of this thread: it runs (and frees what
	 * the PMD gave back) only when the thread yields to it.
	 */
	for (uint64_t t0 = th_now_ns(); rump_kernel_leaks(sd->k) != 0 &&
	    th_now_ns() - t0 < 5000000000u;) {
		rump_fiber_yield();
		usleep(100);
	}
	th_kernel_destroy(sd->k);	/* joins the poll loop's fiber */
	return NULL;
}

/* Server srv and client cli on the ring pair "fib", each on a thread. */
static void
fib_pair_run(struct fib_side *srv, struct fib_side *cli)
{
	pthread_t ts, tc;
	int error;

	assert_int_equal(rump_dpdk_init(EAL), 0);
	/* EEXIST: the pair of an earlier test, attached again */
	error = rump_dpdk_ring_pair("fib", 1);
	assert_true(error == 0 || error == EEXIST);
	fib_server_side = srv;
	assert_int_equal(pthread_create(&ts, NULL, fib_side_main, srv), 0);
	assert_int_equal(pthread_create(&tc, NULL, fib_side_main, cli), 0);
	pthread_join(tc, NULL);
	pthread_join(ts, NULL);
}

static void
test_fibers_both_ends(void **state)
{
	_Atomic int listening = 0;
	struct fib_side srv = { .port = "fiba", .addr = "198.18.0.1",
	    .lfd = -1, .listening = &listening, .fiber = fib_accept };
	struct fib_side cli = { .port = "fibb", .addr = "198.18.0.2",
	    .lfd = -1, .listening = &listening, .fiber = fib_client,
	    .nfibers = FIB_CONNS };

	(void)state;
	fib_pair_run(&srv, &cli);
	assert_int_equal(cli.bad, 0);
	assert_int_equal(cli.ok, FIB_CONNS);
	assert_int_equal(srv.handled, FIB_CONNS);
}

/*
 * ---- ACKs held for the next pass (rump_dpdk_config.ack_now off) ----
 *
 * Both ends in fiber mode, where the order of events is fixed: a pass
 * of the loop, then the fibers it woke, then the next pass.  The client
 * makes AP_CONNS transactions one after the other: connect, "ping",
 * "pong" back, shutdown (its FIN), the server's FIN, then a reset
 * (SO_LINGER 0: no TIME-WAIT left behind).  The handshake's ACK goes
 * with "ping", and the server's ACK of the client's FIN with its own FIN
 * (after its read of the end and close()): 5 segments from the client
 * and 3 from the server a transaction, against 6 and 4 with ack_now.
 * A last connection where the server speaks first: the client only
 * reads after connect(), so its ACK goes alone at the next pass
 * (ackpassout), and the server's accept() returns.  And a last one
 * whose client sends its FIN and a reset in one burst: the server's
 * connection is freed while the FIN's ACK is held (netstack_fini()
 * asserts that nothing is left held).
 */
#define AP_CONNS 20

static void
ap_server(void *arg)
{
	struct fib_side *sd = arg;
	char buf[8];

	for (int i = 0; i <= AP_CONNS + 1; i++) {
		int fd = rump_sys_accept(sd->lfd, NULL, NULL);

		assert_true(fd >= 0);
		if (i != AP_CONNS) {
			assert_int_equal(rump_sys_read(fd, buf, sizeof(buf)),
			    4);
			assert_memory_equal(buf, "ping", 4);
			assert_int_equal(rump_sys_write(fd, "pong", 4), 4);
		} else
			assert_int_equal(rump_sys_write(fd, "hello", 5), 5);
		if (i <= AP_CONNS)
			assert_int_equal(rump_sys_read(fd, buf, sizeof(buf)),
			    0);
		else {
			/* the FIN and the reset came in one burst */
			errno = 0;
			assert_int_equal(rump_sys_read(fd, buf, sizeof(buf)),
			    -1);
			assert_int_equal(errno, ECONNRESET);
		}
		assert_int_equal(rump_sys_close(fd), 0);
		sd->handled++;
	}
	rump_sys_close(sd->lfd);
}

static void
ap_client(void *arg)
{
	struct fib_side *sd = arg;
	const struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(5002) };
	char buf[8];

	sin.sin_addr.s_addr = inet_addr("198.18.0.1");
	for (int i = 0; i <= AP_CONNS + 1; i++) {
		int fd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);

		assert_true(fd >= 0);
		assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
		if (i != AP_CONNS) {
			assert_int_equal(rump_sys_write(fd, "ping", 4), 4);
			assert_int_equal(rump_sys_read(fd, buf, sizeof(buf)),
			    4);
			assert_memory_equal(buf, "pong", 4);
		} else {
			assert_int_equal(rump_sys_read(fd, buf, sizeof(buf)),
			    5);
			assert_memory_equal(buf, "hello", 5);
		}
		assert_int_equal(rump_sys_shutdown(fd, SHUT_WR), 0);
		/*
		 * the last: a FIN and at once a reset, both in one burst
		 * (what a fiber sends waits for the loop), and the server's
		 * connection goes, in the pass that holds the FIN's ACK,
		 * before anything sent it
		 */
		if (i <= AP_CONNS)
			assert_int_equal(rump_sys_read(fd, buf, sizeof(buf)),
			    0);
		assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_LINGER,
		    &rst, sizeof(rst)), 0);
		assert_int_equal(rump_sys_close(fd), 0);
		sd->ok++;
	}
}

static void
ack_pass(bool ack_now)
{
	_Atomic int listening = 0;
	struct fib_side srv = { .port = "fiba", .addr = "198.18.0.1",
	    .lfd = -1, .listening = &listening, .fiber = ap_server,
	    .ack_now = ack_now };
	struct fib_side cli = { .port = "fibb", .addr = "198.18.0.2",
	    .lfd = -1, .listening = &listening, .fiber = ap_client,
	    .nfibers = 1, .ack_now = ack_now };
	const uint64_t n = AP_CONNS;

	fib_pair_run(&srv, &cli);
	assert_int_equal(cli.ok, AP_CONNS + 2);
	assert_int_equal(srv.handled, AP_CONNS + 2);
	/*
	 * inline, a pass runs the softints and then the fibers they woke,
	 * and timers fire only at a pass's start: the order is fixed.  With
	 * softint threads a pass may come before the fiber a softint woke
	 * has run, and on a loaded machine a delayed ACK's timer (of "ping"
	 * or of a held ACK) before the answer: each ACK sent alone so is a
	 * segment more.
	 */
	if (mode == RUMP_SOFTINT_INLINE) {
		assert_int_equal(cli.delack, 0);
		assert_int_equal(srv.delack, 0);
	}
	if (ack_now) {
		assert_int_equal(cli.ackpass, 0);
		assert_int_equal(srv.ackpass, 0);
		/* the last: SYN, ACK, ping, FIN, RST; SYN-ACK, pong, ACK */
		assert_int_equal(cli.sndtotal, 6 * n + 5 + 5 + cli.delack);
		assert_int_equal(srv.sndtotal, 4 * (n + 1) + 3 + srv.delack);
		return;
	}
	assert_int_equal(cli.ackpass, n + 2);
	assert_int_equal(srv.ackpass, n + 2);
	/* the last: SYN, ping, FIN, RST; SYN-ACK, pong */
	assert_int_equal(cli.sndtotal, 5 * (n + 1) + 4 + cli.ackpassout - 1 +
	    cli.delack);
	assert_int_equal(srv.sndtotal, 3 * (n + 1) + 2 + srv.ackpassout +
	    srv.delack);
	if (mode == RUMP_SOFTINT_INLINE) {
		assert_int_equal(cli.ackpassout, 1);
		assert_int_equal(srv.ackpassout, 0);
	} else {
		assert_in_range(cli.ackpassout, 0, n + 2);
		assert_in_range(srv.ackpassout, 0, n + 1);
	}
}

static void
test_ack_pass(void **state)
{
	(void)state;
	ack_pass(false);
	ack_pass(true);
}

/*
 * ---- dispatch: two instances share a port ----
 *
 * A net_ring pair with two queue pairs per end; at each end two
 * instances attach queues 0 and 1 with dispatch (software RSS: queue 0's
 * poll loop steers every frame to the instance owning its flow).  Each
 * client instance makes DSP_CONNS connections to the server address;
 * both server instances listen on it.  Every connection must complete
 * with its data intact, and no segment may reach an instance without its
 * connection: that instance would answer with a reset.  The only resets
 * are the clients' own, one per connection (SO_LINGER 0 once the
 * server's FIN is in: no TIME-WAIT state left behind).
 */
#define DSP_CONNS 60
#define DSP_BYTES 8192

static _Atomic int dsp_accepted;

struct dsp_inst {
	struct rump_kernel *k;
	unsigned ifx;
	int lfd;
	int ok, bad;
};

static void *
dsp_server(void *arg)
{
	struct dsp_inst *si = arg;
	struct timeval tv = { 0, 50000 }, none = { 0, 0 };
	uint8_t buf[4096];

	assert_int_equal(rump_thread_bind(si->k), 0);
	(void)rump_sys_setsockopt(si->lfd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv));
	while (atomic_load(&dsp_accepted) < 2 * DSP_CONNS) {
		int fd = rump_sys_accept(si->lfd, NULL, NULL);
		ssize_t n;

		if (fd < 0)
			continue;
		/* the listener's timeout is inherited: not for the echo */
		(void)rump_sys_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none,
		    sizeof(none));
		atomic_fetch_add(&dsp_accepted, 1);
		while ((n = rump_sys_read(fd, buf, sizeof(buf))) > 0)
			if (rump_sys_write(fd, buf, (size_t)n) != n)
				break;
		rump_sys_close(fd);
	}
	rump_sys_close(si->lfd);
	rump_thread_unbind();
	return NULL;
}

static void *
dsp_client(void *arg)
{
	struct dsp_inst *ci = arg;
	const struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(5003) };
	uint8_t out[DSP_BYTES], in[DSP_BYTES];

	sin.sin_addr.s_addr = inet_addr("198.18.0.1");
	assert_int_equal(rump_thread_bind(ci->k), 0);
	for (int c = 0; c < DSP_CONNS; c++) {
		size_t got = 0;
		ssize_t n;
		int fd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);

		for (size_t i = 0; i < sizeof(out); i++)
			out[i] = pattern(i + (uint64_t)c * 13);
		if (fd < 0 || rump_sys_connect(fd, (struct sockaddr *)&sin,
		    sizeof(sin)) != 0 ||
		    rump_sys_write(fd, out, sizeof(out)) != (ssize_t)sizeof(out) ||
		    rump_sys_shutdown(fd, SHUT_WR) != 0) {
			ci->bad++;
			if (fd >= 0)
				rump_sys_close(fd);
			continue;
		}
		while (got < sizeof(in) && (n = rump_sys_read(fd, in + got,
		    sizeof(in) - got)) > 0)
			got += (size_t)n;
		/* the server's FIN, before our reset */
		if (got == sizeof(in) && memcmp(in, out, sizeof(in)) == 0 &&
		    rump_sys_read(fd, in, 1) == 0)
			ci->ok++;
		else
			ci->bad++;
		(void)rump_sys_setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst,
		    sizeof(rst));
		rump_sys_close(fd);
	}
	rump_thread_unbind();
	return NULL;
}

static void
dsp_print_tcp(const char *name, uint64_t value, void *arg)
{
	if (value != 0 && strncmp(name, "tcp.", 4) == 0)
		print_message("#   %s %s %llu\n", (const char *)arg, name,
		    (unsigned long long)value);
}

static void
test_dispatch_two_instances(void **state)
{
	struct dsp_inst srv[2], cli[2];
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(5003) };
	pthread_t t[4];

	(void)state;
	assert_int_equal(rump_dpdk_init(EAL), 0);
	assert_int_equal(rump_dpdk_ring_pair("dsp", 2), 0);
	atomic_store(&dsp_accepted, 0);
	for (int side = 0; side < 2; side++) {
		for (unsigned i = 0; i < 2; i++) {
			struct dsp_inst *x = side == 0 ? &srv[i] : &cli[i];
			struct rump_kernel_config kc;
			struct rump_dpdk_config dc;
			struct rump_rss_config rc;

			memset(x, 0, sizeof(*x));
			rump_kernel_config_default(&kc);
			kc.softint_mode = mode;
			kc.clock_thread = false;
			assert_int_equal(rump_kernel_create(&kc, &x->k), 0);
			rump_dpdk_config_default(&dc);
			dc.port = side == 0 ? "dspa" : "dspb";
			dc.queue = i;
			dc.nqueues = 2;
			dc.dispatch = true;
			assert_int_equal(rump_dpdk_attach(x->k, &dc, &x->ifx), 0);
			/* the attachment made the instance RSS member i of 2 */
			assert_int_equal(rump_rss_get(x->k, &rc), 0);
			assert_int_equal(rc.rss_instance, i);
			assert_int_equal(rc.rss_ninstances, 2);
		}
	}
	/*
	 * One address per end, on both of its instances, once all four
	 * are attached (a gratuitous ARP for a queue nobody has attached
	 * yet would be a counted drop)
	 */
	for (int side = 0; side < 2; side++)
		for (unsigned i = 0; i < 2; i++) {
			struct dsp_inst *x = side == 0 ? &srv[i] : &cli[i];

			assert_int_equal(rump_if_addr_add(x->k, x->ifx,
			    inet_addr(side == 0 ? "198.18.0.1" : "198.18.0.2"),
			    24), 0);
			assert_int_equal(rump_if_up(x->k, x->ifx), 0);
		}
	/* a second attachment without dispatch is refused */
	{
		struct rump_dpdk_config dc;
		unsigned ifx;

		rump_dpdk_config_default(&dc);
		dc.port = "dspa";
		dc.queue = 1;
		dc.nqueues = 2;
		assert_int_equal(rump_dpdk_attach(srv[0].k, &dc, &ifx), EINVAL);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rump_thread_bind(srv[i].k), 0);
		srv[i].lfd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
		assert_true(srv[i].lfd >= 0);
		assert_int_equal(rump_sys_bind(srv[i].lfd,
		    (struct sockaddr *)&sin, sizeof(sin)), 0);
		assert_int_equal(rump_sys_listen(srv[i].lfd, 64), 0);
		assert_int_equal(rump_thread_unbind(), 0);
		assert_int_equal(pthread_create(&t[i], NULL, dsp_server,
		    &srv[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[2 + i], NULL, dsp_client,
		    &cli[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	/*
	 * A segment sent again (a tail loss probe 10 ms on, when an ACK
	 * was late on a loaded machine) can meet a closed connection: a
	 * server's FIN sent again, or the server's duplicate ACK to a
	 * client's probe, reaches the client after its close, and the
	 * client answers it with another reset; a client's second ACK of
	 * a FIN sent again reaches the server after the first ACK closed
	 * its end, and the server answers it with a reset
	 */
	uint64_t again = 0;

	for (int i = 0; i < 2; i++)
		again += stat(srv[i].k, "tcp.tlpprobe") +
		    stat(srv[i].k, "tcp.rexmttimeo") +
		    stat(cli[i].k, "tcp.tlpprobe") +
		    stat(cli[i].k, "tcp.rexmttimeo");
	for (int i = 0; i < 2; i++)
		if (stat(cli[i].k, "tcp.sndrst") > DSP_CONNS + again ||
		    stat(srv[i].k, "tcp.sndrst") > again) {
			(void)rump_stat_list(srv[0].k, dsp_print_tcp, "srv0");
			(void)rump_stat_list(srv[1].k, dsp_print_tcp, "srv1");
			(void)rump_stat_list(cli[0].k, dsp_print_tcp, "cli0");
			(void)rump_stat_list(cli[1].k, dsp_print_tcp, "cli1");
			break;
		}
	for (int i = 0; i < 2; i++) {
		struct rump_dpdk_stats st;

		assert_int_equal(cli[i].bad, 0);
		assert_int_equal(cli[i].ok, DSP_CONNS);
		/*
		 * No segment reached an instance without its connection:
		 * the only resets are the clients' closes (and answers to
		 * segments sent again)
		 */
		assert_true(stat(srv[i].k, "tcp.sndrst") <= again);
		assert_true(stat(cli[i].k, "tcp.sndrst") >= DSP_CONNS);
		assert_true(stat(cli[i].k, "tcp.sndrst") <= DSP_CONNS + again);
		assert_true(stat(cli[i].k, "tcp.noport") <= again);
		/* the flows spread over both server instances */
		assert_true(stat(srv[i].k, "tcp.accepts") > 0);
		/* the dispatcher steered frames to both, dropping none */
		assert_int_equal(rump_dpdk_port_stats(srv[i].k, srv[i].ifx,
		    &st), 0);
		assert_true(st.rx_steered > 0);
		assert_int_equal(st.rx_steer_drops, 0);
		assert_int_equal(rump_dpdk_port_stats(cli[i].k, cli[i].ifx,
		    &st), 0);
		assert_true(st.rx_steered > 0);
		assert_int_equal(st.rx_steer_drops, 0);
	}
	assert_int_equal(stat(srv[0].k, "tcp.accepts") +
	    stat(srv[1].k, "tcp.accepts"), 2 * DSP_CONNS);
	/* clients: every connection's replies came back to its instance */
	assert_int_equal(stat(cli[0].k, "tcp.connects") +
	    stat(cli[1].k, "tcp.connects"), 2 * DSP_CONNS);
	for (int i = 0; i < 2; i++) {
		th_wait_until(rump_kernel_leaks(cli[i].k) == 0, 5000);
		th_kernel_destroy(cli[i].k);
	}
	for (int i = 0; i < 2; i++) {
		th_wait_until(rump_kernel_leaks(srv[i].k) == 0, 5000);
		th_kernel_destroy(srv[i].k);
	}
}

/*
 * The port's own RSS (rump_dpdk_config.rss, the path for NICs that have
 * it) on net_null, the PMD here that takes a redirection table and a key
 * (it hashes nothing itself, and with no-rx=1 receives nothing).  Two
 * instances attach its two queue pairs.  The table and key the port then
 * holds, read back through DPDK, are what a NIC hashes with (Toeplitz of
 * the addresses and ports, the table entry of the hash's low bits):
 *   - for 2000 random flows a NIC picks the queue the dispatcher
 *     (software RSS, dispatch) picks: both paths give a flow one owner;
 *   - each instance's connect() (to a peer ARP knows statically; the SYN
 *     goes into the null port) picks ports whose replies such a NIC
 *     hands to that instance's own queue;
 *   - frames not of one flow reach both instances (below).
 */
/* Two new instances k[0..1] on queue pairs 0 and 1 of port, with its RSS. */
static void
rss_attach(const char *port, struct rump_kernel **k, unsigned *ifx)
{
	for (unsigned i = 0; i < 2; i++) {
		struct rump_kernel_config kc;
		struct rump_dpdk_config dc;

		rump_kernel_config_default(&kc);
		kc.softint_mode = mode;
		kc.clock_thread = false;
		assert_int_equal(rump_kernel_create(&kc, &k[i]), 0);
		rump_dpdk_config_default(&dc);
		dc.port = port;
		dc.queue = i;
		dc.nqueues = 2;
		dc.rss = true;
		assert_int_equal(rump_dpdk_attach(k[i], &dc, &ifx[i]), 0);
	}
}

static void
test_rss_port(void **state)
{
	enum { NFLOWS = 2000, NCONN = 50 };
	struct rte_eth_rss_reta_entry64 reta_conf[4];
	struct rte_eth_rss_conf conf;
	struct rte_eth_dev_info di;
	struct rump_kernel *k[2];
	struct rss_key *rk;
	uint16_t reta[RSS_RETA_SIZE], sw_reta[RSS_RETA_SIZE];
	uint8_t key[RSS_KEY_LEN];
	unsigned ifx[2];
	uint16_t pid;
	const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 9, 9 };
	uint32_t seed = 12345;

	(void)state;
	assert_int_equal(rump_dpdk_init(EAL), 0);
	rss_attach("net_null0", k, ifx);
	for (unsigned i = 0; i < 2; i++) {
		struct rump_rss_config rc;

		assert_int_equal(rump_rss_get(k[i], &rc), 0);
		assert_int_equal(rc.rss_instance, i);
		assert_int_equal(rc.rss_ninstances, 2);
		assert_int_equal(rump_if_addr_add(k[i], ifx[i],
		    inet_addr("198.18.0.1"), 24), 0);
		assert_int_equal(rump_if_up(k[i], ifx[i]), 0);
		assert_int_equal(rump_arp_add(k[i], ifx[i],
		    inet_addr("198.18.0.2"), peer_mac), 0);
	}

	/* what the port holds */
	assert_int_equal(rte_eth_dev_get_port_by_name("net_null0", &pid), 0);
	assert_int_equal(rte_eth_dev_info_get(pid, &di), 0);
	assert_int_equal(di.reta_size, RSS_RETA_SIZE);
	memset(reta_conf, 0, sizeof(reta_conf));
	for (unsigned g = 0; g < RSS_RETA_SIZE / RTE_ETH_RETA_GROUP_SIZE; g++)
		reta_conf[g].mask = ~0ull;
	assert_int_equal(rte_eth_dev_rss_reta_query(pid, reta_conf,
	    RSS_RETA_SIZE), 0);
	for (unsigned e = 0; e < RSS_RETA_SIZE; e++)
		reta[e] = reta_conf[e / RTE_ETH_RETA_GROUP_SIZE].reta[e %
		    RTE_ETH_RETA_GROUP_SIZE];
	memset(&conf, 0, sizeof(conf));
	conf.rss_key = key;
	conf.rss_key_len = sizeof(key);
	assert_int_equal(rte_eth_dev_rss_hash_conf_get(pid, &conf), 0);
	assert_int_equal(conf.rss_key_len, RSS_KEY_LEN);
	assert_true((conf.rss_hf & (RTE_ETH_RSS_NONFRAG_IPV4_TCP |
	    RTE_ETH_RSS_NONFRAG_IPV4_UDP)) == (RTE_ETH_RSS_NONFRAG_IPV4_TCP |
	    RTE_ETH_RSS_NONFRAG_IPV4_UDP));

	/* a NIC with that table and key, and the dispatcher, agree */
	rk = malloc(sizeof(*rk));
	assert_non_null(rk);
	rss_key_init(rk, rss_default_key, RSS_KEY_LEN);
	rss_reta_default(sw_reta, RSS_RETA_SIZE, 2);
	for (unsigned f = 0; f < NFLOWS; f++) {
		uint8_t in[RSS_V4_L4_LEN];
		uint32_t src, dst;
		uint16_t sp, dp;

		for (unsigned b = 0; b < sizeof(in); b++) {
			seed = seed * 1103515245u + 12345u;
			in[b] = (uint8_t)(seed >> 16);
		}
		memcpy(&src, in, 4);
		memcpy(&dst, in + 4, 4);
		memcpy(&sp, in + 8, 2);
		memcpy(&dp, in + 10, 2);
		assert_int_equal(rss_queue(rss_toeplitz(key, RSS_KEY_LEN, in,
		    sizeof(in)), reta, RSS_RETA_SIZE),
		    rss_queue(rss_hash_ipv4_l4(rk, src, dst, sp, dp), sw_reta,
		    RSS_RETA_SIZE));
	}
	free(rk);

	/* connect(): the replies (peer to us) land on our own queue */
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(rump_thread_bind(k[i]), 0);
		for (unsigned c = 0; c < NCONN; c++) {
			struct sockaddr_in to = { .sin_family = AF_INET,
			    .sin_port = htons((uint16_t)(7000 + c)),
			    .sin_addr.s_addr = inet_addr("198.18.0.2") };
			struct sockaddr_in me;
			socklen_t len = sizeof(me);
			struct linger rst = { 1, 0 };
			uint8_t in[RSS_V4_L4_LEN];
			int fd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);

			assert_true(fd >= 0);
			assert_int_equal(rump_sys_fcntl(fd, F_SETFL,
			    O_NONBLOCK), 0);
			assert_int_equal(rump_sys_connect(fd,
			    (struct sockaddr *)&to, sizeof(to)), -1);
			assert_int_equal(errno, EINPROGRESS);
			assert_int_equal(rump_sys_getsockname(fd,
			    (struct sockaddr *)&me, &len), 0);
			/* the reply's header: from the peer to us */
			memcpy(in, &to.sin_addr.s_addr, 4);
			memcpy(in + 4, &me.sin_addr.s_addr, 4);
			memcpy(in + 8, &to.sin_port, 2);
			memcpy(in + 10, &me.sin_port, 2);
			assert_int_equal(rss_queue(rss_toeplitz(key,
			    RSS_KEY_LEN, in, sizeof(in)), reta, RSS_RETA_SIZE),
			    i);
			assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET,
			    SO_LINGER, &rst, sizeof(rst)), 0);
			assert_int_equal(rump_sys_close(fd), 0);
		}
		assert_int_equal(rump_thread_unbind(), 0);
	}
	for (unsigned i = 0; i < 2; i++) {
		th_wait_until(rump_kernel_leaks(k[i]) == 0, 5000);
		th_kernel_destroy(k[i]);
	}

	/*
	 * net_null1 receives without end: frames of 64 zero bytes, not
	 * IPv4 and not for our MAC.  Not being of a flow, each frame is
	 * kept by the queue pair the NIC put it on and copied to the other
	 * one's inbox: both instances get both streams (rx_steered counts
	 * the copies), drop every frame as not for them, and give back
	 * everything.
	 */
	rss_attach("net_null1", k, ifx);
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(rump_if_up(k[i], ifx[i]), 0);
	for (unsigned i = 0; i < 2; i++) {
		struct rump_dpdk_stats st;

		/* softnet may fall behind the flood: input queue drops too */
		assert_true(th_wait_until(rump_dpdk_port_stats(k[i], ifx[i],
		    &st) == 0 && st.rx_steered > 1000 &&
		    stat(k[i], "if.dpdk0.inotus") > 1000, 5000));
		assert_int_equal(stat(k[i], "if.dpdk0.ipackets"), 0);
	}
	for (unsigned i = 0; i < 2; i++) {
		th_wait_until(rump_kernel_leaks(k[i]) == 0, 5000);
		th_kernel_destroy(k[i]);
	}
}

/* An instance on queue q of 2 of port "dspa" (dispatch), up, copying. */
static struct rump_kernel *
counters_inst(unsigned q, unsigned *ifx)
{
	struct rump_kernel_config kc;
	struct rump_dpdk_config dc;
	struct rump_kernel *k;

	rump_kernel_config_default(&kc);
	kc.softint_mode = mode;
	kc.clock_thread = false;
	assert_int_equal(rump_kernel_create(&kc, &k), 0);
	rump_dpdk_config_default(&dc);
	dc.port = "dspa";
	dc.queue = q;
	dc.nqueues = 2;
	dc.dispatch = true;
	/*
	 * (the port keeps the settings of test_dispatch_two_instances's
	 * first attachment: zero copy; the test's frames are small, copied
	 * into rte_mbufs all the same, so the ring keeps no mbuf of ours)
	 */
	assert_int_equal(rump_dpdk_attach(k, &dc, ifx), 0);
	assert_int_equal(rump_if_addr_add(k, *ifx, inet_addr("198.18.0.1"),
	    24), 0);
	assert_int_equal(rump_if_up(k, *ifx), 0);
	return k;
}

/*
 * An attachment counts from its start: a queue's drops before it (the
 * host half keeps a queue's counters across attachments), or the port's
 * errors, are not its interface's.  Broadcasts sent on the "dsp" pair's a
 * end, whose b end nobody reads, fill the ring, and the host half drops
 * the rest (tx_dropped: the interface's oqdrops).  The port-wide error
 * counters go to queue 0's interface only; net_ring counts none (a full
 * ring is no oerror to it), so this cannot show that part.
 */
static uint64_t
counters_flood(struct rump_kernel *k, unsigned ifx)
{
	struct sockaddr_in bc = { .sin_family = AF_INET,
	    .sin_port = htons(9) };
	struct rump_dpdk_stats before, after;
	uint8_t buf[18] = { 0 };
	int fd, on = 1;

	assert_int_equal(rump_dpdk_port_stats(k, ifx, &before), 0);
	bc.sin_addr.s_addr = inet_addr("198.18.0.255");
	assert_int_equal(rump_thread_bind(k), 0);
	fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_BROADCAST,
	    &on, sizeof(on)), 0);
	for (unsigned i = 0; i < 5000; i++)
		assert_int_equal(rump_sys_sendto(fd, buf, sizeof(buf), 0,
		    (const struct sockaddr *)&bc, sizeof(bc)),
		    (ssize_t)sizeof(buf));
	assert_int_equal(rump_sys_close(fd), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_dpdk_port_stats(k, ifx, &after), 0);
	assert_true(after.tx_dropped > before.tx_dropped);
	assert_int_equal(after.opackets - before.opackets +
	    after.tx_dropped - before.tx_dropped, 5000);
	return after.tx_dropped - before.tx_dropped;
}

static void
test_port_counters(void **state)
{
	struct rump_kernel *k[2], *k0;
	unsigned ifx[2], ifx0;
	uint64_t dropped;
	struct rte_ring *r;
	void *obj;
	int error;

	(void)state;
	assert_int_equal(rump_dpdk_init(EAL), 0);
	/* test_dispatch_two_instances' pair (DPDK has 32 ports) */
	error = rump_dpdk_ring_pair("dsp", 2);
	assert_true(error == 0 || error == EEXIST);
	for (unsigned i = 0; i < 2; i++)
		k[i] = counters_inst(i, &ifx[i]);
	dropped = counters_flood(k[0], ifx[0]);
	/* queue 0's interface gets them, once merged (once a second) */
	assert_true(th_wait_until(stat(k[0], "if.dpdk0.oqdrops") == dropped,
	    5000));
	/*
	 * A new attachment on queue 0 (the old one's going emptied the
	 * ring): its interface counts what it drops, not the queue's past
	 */
	th_kernel_destroy(k[0]);
	k0 = counters_inst(0, &ifx0);
	dropped = counters_flood(k0, ifx0);
	assert_true(th_wait_until(stat(k0, "if.dpdk0.oqdrops") == dropped,
	    5000));
	th_sleep_ms(1100);	/* merged again since: still that */
	assert_int_equal(stat(k0, "if.dpdk0.oqdrops"), dropped);
	/* what the ring kept */
	r = rte_ring_lookup("dsp_ab0");
	assert_non_null(r);
	while (rte_ring_dequeue(r, &obj) == 0)
		rte_pktmbuf_free(obj);
	th_kernel_destroy(k0);
	th_kernel_destroy(k[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_errors),
		cmocka_unit_test(test_ping_udp),
		cmocka_unit_test(test_multicast),
		cmocka_unit_test(test_tcp_zerocopy),
		cmocka_unit_test(test_tcp_copy),
		cmocka_unit_test(test_tcp_virtual_offload),
		cmocka_unit_test(test_tcp_small_writes_virtual_offload),
		cmocka_unit_test(test_small_frames_copied),
		cmocka_unit_test(test_small_frames_pool_dry),
		cmocka_unit_test(test_zerocopy_pmds),
		cmocka_unit_test(test_sent_bytes),
		cmocka_unit_test(test_mempool_exhaustion),
		cmocka_unit_test(test_close_with_frames_on_the_wire),
		cmocka_unit_test(test_pcap_port),
		cmocka_unit_test(test_fibers_both_ends),
		cmocka_unit_test(test_ack_pass),
		cmocka_unit_test(test_dispatch_two_instances),
		cmocka_unit_test(test_port_counters),
		cmocka_unit_test(test_rss_port),
	};
	int rc;
	const char *m = getenv("RUMPNET_SOFTINT");

	mode = m != NULL && strcmp(m, "threads") == 0 ? RUMP_SOFTINT_THREADS :
	    RUMP_SOFTINT_INLINE;
	snprintf(pcap_in, sizeof(pcap_in), "/tmp/rumpnet-test-dpdk-%d-in.pcap",
	    (int)getpid());
	snprintf(pcap_out, sizeof(pcap_out),
	    "/tmp/rumpnet-test-dpdk-%d-out.pcap", (int)getpid());
	snprintf(EAL, sizeof(EAL), "%s --vdev=net_pcap0,rx_pcap=%s,tx_pcap=%s "
	    "--vdev=net_null0,no-rx=1 --vdev=net_null1", EAL_BASE, pcap_in, pcap_out);
	pcap_input_write();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	/* the ports close: the PMDs let go of what they hold */
	if (rump_dpdk_fini() != 0)
		rc = 1;
	unlink(pcap_in);
	unlink(pcap_out);
	return rc;
}
