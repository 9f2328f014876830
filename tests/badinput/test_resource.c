/*
 * test_resource.c -- resource exhaustion (issue 8, "Resources"): the
 * instance's pools run dry, its sockets and descriptors run out, a peer
 * floods it with SYNs or out-of-order segments.  Each test asserts the
 * exact outcome: which named counter took each drop (if.<if>.iqdrops,
 * udp.nobufs, tcp.nosocket, tcp.rcvreassfull, tcp.nobufs, a pool's
 * nfail), that nothing crashed, and that once memory is back the stack
 * works again in full: new connections, data intact, every pool back to
 * zero (tenv_down()).
 *
 * Instances with small limits come from tenv_up_limits(): mbuf_limit,
 * cluster_limit and socket_limit of struct rump_kernel_config.  An mbuf
 * of the bus driver holds a received frame (with a cluster when the
 * frame is longer than MHLEN); a UDP datagram on a socket keeps that
 * mbuf and one more for the sender's address; a TCP segment in a socket
 * buffer or the reassembly queue keeps the mbuf (and its cluster) it
 * came in.  That is what the exact counts below are made of.
 *
 * Covered elsewhere and not repeated: the SYN cache bound and the ways
 * out of it (test_syncookie.c test_syncookie_bound), the reassembly
 * queue's per-connection bound and its linear time
 * (test_tcpdata.c test_reass_queue_bound, test_reass_flood_bounded;
 * test_badinput_tcp.c test_badinput_ooo_flood), the pool limits
 * themselves (tests/unit/test_mbuf.c, test_pool.c), and the driver's
 * mempool (tests/dpdk/test_dpdk.c test_dpdk_mempool_exhaustion).
 *
 * Needs no root, no DPDK, no network namespace.
 */
#define _DEFAULT_SOURCE	/* <netinet/tcp.h>: TH_*, TCPOPT_*, tcp_info */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>

#include "../unit/harness.h"
#include "../packet/pkt.h"
#include "../packet/tcpseg.h"
#include "badinput.h"
#include "rumpnet/event.h"

#define PORT 80			/* the stack's listening port */
#define UPORT 5000		/* the stack's UDP port */
#define PPORT 40000		/* the peer's ports from here */
#define FD_TABLE 4096		/* descriptors of an instance (FD_MAX) */
#define SB_MAX (4 * 1024 * 1024)	/* the most a socket buffer holds */

/* tenv_up_limits: tenv_up() with the given pool and socket limits. */
static void
tenv_up_limits(struct tenv *e, unsigned mbufs, unsigned clusters,
    unsigned sockets)
{
	struct rump_kernel_config lim;

	memset(&lim, 0, sizeof(lim));
	lim.mbuf_limit = mbufs;
	lim.cluster_limit = clusters;
	lim.socket_limit = sockets;
	tenv_up0_limits(e, &lim);
	tenv_advance(e, 1000);
}

/* The record of pool name of e. */
static struct rump_pool_stat
pool(struct tenv *e, const char *name)
{
	struct rump_pool_stat st[32];
	unsigned n = BI_NITEMS(st);

	tenv_settle(e);
	assert_int_equal(rump_kernel_pool_stats(e->k, st, &n), 0);
	for (unsigned i = 0; i < n && i < BI_NITEMS(st); i++)
		if (strcmp(st[i].name, name) == 0)
			return st[i];
	fail_msg("no pool %s", name);
	return st[0];
}

/* Objects of pool name held now. */
static uint64_t
pool_out(struct tenv *e, const char *name)
{
	struct rump_pool_stat st = pool(e, name);

	return st.nget - st.nput;
}

/* Byte off of the peer's stream on connection c. */
static uint8_t
pat(unsigned c, size_t off)
{
	return (uint8_t)(off * 13 + c * 101 + (off >> 9));
}

/* Frames the stack sent, thrown away; how many. */
static unsigned
drain(struct tenv *e)
{
	static uint8_t f[TS_FRAME_MAX];
	unsigned n = 0;
	size_t len;

	tenv_settle(e);
	while (rump_bus_tap_recv(e->tap, f, sizeof(f), &len, 0) == 0)
		n++;
	return n;
}

/*
 * Segment k (MSS bytes at k * TS_MSS) of connection c's stream from the
 * peer, not moving the peer's SND.NXT.
 */
static void
peer_mss(struct peer *p, unsigned c, size_t k)
{
	static uint8_t d[TS_MSS];

	for (size_t i = 0; i < TS_MSS; i++)
		d[i] = pat(c, k * TS_MSS + i);
	peer_seg(p, TH_ACK, p->iss + 1 + (uint32_t)(k * TS_MSS), p->rcv_nxt,
	    p->win, PO_AUTO, d, TS_MSS);
}

/* Read exactly len bytes of connection c's stream from off on fd. */
static void
read_pat(int fd, unsigned c, size_t off, size_t len)
{
	static uint8_t buf[65536];
	size_t have = 0;

	while (have < len) {
		size_t want = len - have < sizeof(buf) ? len - have :
		    sizeof(buf);
		ssize_t r = rump_sys_read(fd, buf, want);

		assert_true(r > 0);
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pat(c, off + have + (size_t)i))
				fail_msg("conn %u byte %zu wrong", c,
				    off + have + (size_t)i);
		have += (size_t)r;
	}
	stack_read_none(fd);
}

/* A UDP datagram of len bytes (byte i: seed + i) to the stack's UPORT. */
static void
udp_in(struct tenv *e, uint16_t sport, uint8_t seed, size_t len)
{
	uint8_t f[TS_FRAME_MAX], *u;
	size_t off;
	uint16_t c;

	off = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0,
	    (uint16_t)(20 + 8 + len), sport, 0, 17);
	u = f + off;
	put16(u, sport);
	put16(u + 2, UPORT);
	put16(u + 4, (uint16_t)(8 + len));
	u[6] = u[7] = 0;
	for (size_t i = 0; i < len; i++)
		u[8 + i] = (uint8_t)(seed + i);
	c = ref_cksum(u, 8 + len, ref_pseudo(ip(TS_PEER_ADDR),
	    ip(TS_STACK_ADDR), 17, 8 + len));
	memcpy(u + 6, &c, 2);
	bi_send(e, f, off + 8 + len);
}

/* A bound, non-blocking UDP socket on UPORT. */
static int
udp_socket(void)
{
	struct sockaddr_in a = sa(TS_STACK_ADDR, UPORT);
	int fd = rump_sys_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(rump_sys_bind(fd, (struct sockaddr *)&a, sizeof(a)),
	    0);
	return fd;
}

/* Read the next datagram on fd: len bytes from sport, byte i seed + i. */
static void
udp_read(int fd, uint16_t sport, uint8_t seed, size_t len)
{
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	uint8_t buf[256];

	assert_int_equal(rump_sys_recvfrom(fd, buf, sizeof(buf), 0,
	    (struct sockaddr *)&from, &flen), (ssize_t)len);
	assert_int_equal(ntohs(from.sin_port), sport);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(buf[i], (uint8_t)(seed + i));
}

/*
 * A TCP connection from the peer on port pport to the listener lfd,
 * carrying 3 full segments each way, checked byte by byte, then reset:
 * the proof that the stack works in full after an exhaustion.
 */
static void
tcp_works(struct tenv *e, int lfd, uint16_t pport)
{
	struct peer p;
	uint8_t d[3 * TS_MSS];
	int fd;

	peer_init(&p, e, pport, PO_MSS | PO_WS);
	p.sport = PORT;
	fd = passive_open(&p, lfd);
	for (size_t k = 0; k < 3; k++) {
		peer_mss(&p, 7, k);
		p.snd_nxt += TS_MSS;
		if (k == 1)
			expect_ack(&p);		/* RFC 5681 4.2: every second */
	}
	read_pat(fd, 7, 0, 3 * TS_MSS);
	(void)drain(e);		/* the window update of the read */
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = pat(8, i);
	stack_write(fd, d, sizeof(d));
	for (size_t k = 0; k < 3; k++) {
		const struct tseg *s = expect_data(&p, TS_MSS, k == 2);

		assert_memory_equal(s->data, d + k * TS_MSS, TS_MSS);
	}
	peer_ack(&p);
	conn_abort(&p, fd);
}

/*
 * UDP flood into a socket that does not read, 64 mbufs: each datagram
 * held keeps 2 (the frame's, the sender's address), so 32 fit and the
 * next 8 find no mbuf for their frame (if.bus0.iqdrops, mbpl nfail).
 * With 65 the 33rd and later get a frame's mbuf but none for the
 * address: udp.nobufs, not udp.fullsock (there is room in the buffer).
 * Reading gives the memory back; UDP and TCP then work in full.
 */
static void
test_resource_udp_mbuf_exhaustion(void **state)
{
	struct tenv e;
	int fd, lfd;

	(void)state;
	for (unsigned limit = 64; limit <= 65; limit++) {
		tenv_up_limits(&e, limit, 0, 0);
		fd = udp_socket();
		assert_int_equal(pool_out(&e, "mbpl"), 0);
		for (unsigned i = 0; i < 40; i++)
			udp_in(&e, (uint16_t)(PPORT + i), (uint8_t)i, 100);
		assert_int_equal(bi_stat(&e, "udp.delivered"), 32);
		assert_int_equal(pool_out(&e, "mbpl"), 64);
		assert_int_equal(pool(&e, "mbpl").nfail, 8);
		assert_int_equal(bi_stat(&e, "if.bus0.iqdrops"),
		    limit == 64 ? 8 : 0);
		assert_int_equal(bi_stat(&e, "udp.nobufs"), limit == 64 ? 0 : 8);
		assert_int_equal(bi_stat(&e, "udp.fullsock"), 0);
		/* a frame the driver had no mbuf for never came in */
		assert_int_equal(bi_stat(&e, "if.bus0.ipackets"),
		    limit == 64 ? 32 : 40);
		/* memory back: every datagram held is intact, new ones come */
		for (unsigned i = 0; i < 32; i++)
			udp_read(fd, (uint16_t)(PPORT + i), (uint8_t)i, 100);
		assert_int_equal(pool_out(&e, "mbpl"), 0);
		udp_in(&e, PPORT + 100, 0x55, 100);
		udp_read(fd, PPORT + 100, 0x55, 100);
		lfd = tcp_listener(PORT, 8);
		tcp_works(&e, lfd, PPORT + 200);
		assert_int_equal(rump_sys_close(lfd), 0);
		assert_int_equal(rump_sys_close(fd), 0);
		tenv_down(&e);
	}
}

#define NCONN 4
#define NSEG 25			/* full segments each connection is sent */
#define NCLUSTERS 64

/*
 * The instance's cluster pool is the global bound on what its socket
 * buffers hold together: 4 connections each sent 25 full segments
 * (each a cluster: a 1514-byte frame) by turns, the application not
 * reading.  Each socket buffer has room for all 25, but the 64 clusters
 * run out after the first 64 segments: the other 36 are dropped at the
 * interface (if.bus0.iqdrops, mclpl nfail), none reaches TCP.  Once the
 * application reads, the peer resends what was dropped and every byte
 * arrives intact, in order.
 */
static void
test_resource_cluster_limit_global(void **state)
{
	struct peer p[NCONN];
	struct tenv e;
	int fd[NCONN];
	size_t held;

	(void)state;
	tenv_up_limits(&e, 0, NCLUSTERS, 0);
	for (unsigned c = 0; c < NCONN; c++) {
		peer_init(&p[c], &e, (uint16_t)(PPORT + c), PO_MSS | PO_WS);
		fd[c] = active_open(&p[c]);
	}
	for (size_t k = 0; k < NSEG; k++)
		for (unsigned c = 0; c < NCONN; c++)
			peer_mss(&p[c], c, k);
	(void)drain(&e);
	assert_int_equal(pool_out(&e, "mclpl"), NCLUSTERS);
	assert_int_equal(pool(&e, "mclpl").nfail, NCONN * NSEG - NCLUSTERS);
	assert_int_equal(bi_stat(&e, "if.bus0.iqdrops"),
	    NCONN * NSEG - NCLUSTERS);
	assert_int_equal(tstat(&e, "rcvpack"), NCLUSTERS);
	assert_int_equal(tstat(&e, "rcvoopack"), 0);
	/* each connection got its first 16 segments */
	held = NCLUSTERS / NCONN;
	for (unsigned c = 0; c < NCONN; c++) {
		read_pat(fd[c], c, 0, held * TS_MSS);
		p[c].snd_nxt += (uint32_t)(held * TS_MSS);
	}
	assert_int_equal(pool_out(&e, "mclpl"), 0);
	/* the peer resends the rest */
	for (unsigned c = 0; c < NCONN; c++)
		for (size_t k = held; k < NSEG; k++)
			peer_mss(&p[c], c, k);
	(void)drain(&e);
	for (unsigned c = 0; c < NCONN; c++) {
		read_pat(fd[c], c, held * TS_MSS, (NSEG - held) * TS_MSS);
		p[c].snd_nxt += (uint32_t)((NSEG - held) * TS_MSS);
	}
	assert_int_equal(bi_stat(&e, "if.bus0.iqdrops"),
	    NCONN * NSEG - NCLUSTERS);
	(void)drain(&e);
	for (unsigned c = 0; c < NCONN; c++)
		conn_abort(&p[c], fd[c]);
	tenv_down(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resource_udp_mbuf_exhaustion),
		cmocka_unit_test(test_resource_cluster_limit_global),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
