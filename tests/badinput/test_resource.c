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
#define RS_MIN(a, b) ((a) < (b) ? (a) : (b))

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

/* The record of pool name of e, once e is quiet. */
static struct rump_pool_stat
pool(struct tenv *e, const char *name)
{
	tenv_settle(e);
	return th_pool(e->k, name);
}

/* Objects of pool name held now, once e is quiet. */
static uint64_t
pool_out(struct tenv *e, const char *name)
{
	tenv_settle(e);
	return th_pool_out(e->k, name);
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
		ssize_t r = rump_sys_read(fd, buf,
		    RS_MIN(sizeof(buf), len - have));

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

/* Moves the virtual clock 1 ms per real ms until told to stop. */
struct clockrun {
	struct tenv *e;
	_Atomic bool stop;
};

static void
clockrun_body(struct bthread *bt)
{
	struct clockrun *c = bt->bt_arg;

	for (int i = 0; i < 3000 && !atomic_load(&c->stop); i++) {
		(void)rump_clock_advance(c->e->k, 1000000);
		usleep(1000);
	}
}

/*
 * The peer, from a helper thread while the test's thread is blocked in a
 * write: opens its window, then acknowledges what the stack sends, until
 * told to stop; got counts the bytes (no cmocka assertions here).
 */
struct acker {
	struct peer *p;
	_Atomic bool stop;
	_Atomic size_t got;
};

static void
acker_body(struct bthread *bt)
{
	static uint8_t f[TS_FRAME_MAX];
	struct acker *a = bt->bt_arg;
	struct peer *p = a->p;
	size_t len;

	usleep(50000);		/* the writer is waiting for memory by now */
	p->win = 65535;
	peer_seg_put(p, TH_ACK, p->snd_nxt, p->rcv_nxt, p->win, PO_AUTO, NULL,
	    0);
	for (int i = 0; i < 1000 && !atomic_load(&a->stop); i++) {
		size_t n = 0;

		while (rump_bus_tap_recv(p->e->tap, f, sizeof(f), &len, 5) == 0) {
			size_t ihl = (size_t)(f[14] & 0xf) * 4;

			if (len < 14 + 40 || be16(f + 12) != 0x0800 ||
			    f[14 + 9] != 6)
				continue;
			n += be16(f + 16) - ihl - (size_t)(f[14 + ihl + 12] >>
			    4) * 4;
		}
		if (n > 0) {
			p->rcv_nxt += (uint32_t)n;
			atomic_fetch_add(&a->got, n);
			peer_seg_put(p, TH_ACK, p->snd_nxt, p->rcv_nxt, p->win,
			    PO_AUTO, NULL, 0);
		}
	}
}

/*
 * Read the stack's data segments until none come, acknowledging each
 * burst, checking they continue the stream and carry exp's bytes from
 * *off on; returns the bytes read.
 */
static size_t
read_acked(struct peer *p, const uint8_t *exp, size_t *off)
{
	struct tseg s;
	size_t got = 0;

	for (;;) {
		size_t burst = 0;

		while (tap_read(p->e, &s)) {
			assert_int_equal(s.seq, p->rcv_nxt);
			assert_memory_equal(s.data, exp + *off, s.len);
			p->rcv_nxt += (uint32_t)s.len;
			*off += s.len;
			burst += s.len;
		}
		if (burst == 0)
			return got;
		got += burst;
		peer_ack(p);
	}
}

/*
 * A stream send when the clusters run out (cluster_limit 8: 16 KiB),
 * non-blocking then blocking with SO_SNDTIMEO 20 ms.  Non-blocking, a
 * 64 KiB write takes what the 8 clusters hold, 16384 bytes, and the
 * next finds none: EAGAIN as Linux (BSD: ENOBUFS), nothing taken, the
 * clusters' nfail counting it.  Blocking, a write takes
 * what it can, waits for more memory (Linux's sk_stream_wait_memory())
 * and, when the timeout passes with none, returns what it took (EAGAIN
 * if nothing); when the peer's ACKs free memory during the wait, it goes
 * on and takes all.  Every byte taken reaches the peer, once.
 */
static void
test_resource_tcp_send_memwait(void **state)
{
	static uint8_t d[65536], exp[65536];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 20000 };
	struct clockrun c;
	struct bthread bt;
	struct tenv e;
	struct peer p;
	size_t off = 0, taken;
	uint64_t t0, nfail;
	int fd, err;
	ssize_t rc;

	(void)state;
	tenv_up_limits(&e, 0, 8, 0);
	peer_init(&p, &e, PPORT, PO_MSS | PO_WS);
	fd = active_open(&p);
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = pat(11, i);
	assert_int_equal(rump_sys_write(fd, d, sizeof(d)), 16384);
	memcpy(exp, d, 16384);
	assert_true(pool(&e, "mclpl").nfail > 0);
	assert_int_equal(pool_out(&e, "mclpl"), 8);
	nfail = pool(&e, "mclpl").nfail;
	errno = 0;
	assert_int_equal(rump_sys_write(fd, d, 4096), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(pool(&e, "mclpl").nfail, nfail + 1);
	/* the initial window (RFC 6928: 10 segments) */
	assert_int_equal(read_acked(&p, exp, &off), 16384);
	assert_int_equal(pool_out(&e, "mclpl"), 0);

	/* blocking: the clusters are taken by 16 KiB that wait for the peer */
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)), 0);
	assert_int_equal(rump_sys_fcntl(fd, F_SETFL, 0), 0);	/* blocking */
	/* the peer's window closes (after a byte: see the test above) */
	peer_send(&p, TH_ACK, "z", 1);
	p.win = 0;
	peer_ack(&p);
	tenv_advance(&e, 500);
	(void)drain(&e);			/* the delayed ACK of "z" */
	assert_int_equal(rump_sys_write(fd, d, 16384), 16384);
	memcpy(exp + 16384, d, 16384);
	expect_nothing(&e);
	assert_int_equal(pool_out(&e, "mclpl"), 8);
	c.e = &e;
	atomic_store(&c.stop, false);
	t0 = tenv_now_ms(&e);
	bthread_start(&bt, e.k, BT_UNBOUND, clockrun_body, &c);
	errno = 0;
	rc = rump_sys_write(fd, d, sizeof(d));
	err = errno;
	atomic_store(&c.stop, true);
	bthread_join(&bt);
	assert_int_equal(rc, -1);
	assert_int_equal(err, EAGAIN);
	assert_true(tenv_now_ms(&e) - t0 >= 20);
	assert_int_equal(pool_out(&e, "mclpl"), 8);

	/* half the clusters come back: a write takes 8 KiB of 64, then times out */
	p.win = 65535;
	peer_seg(&p, TH_ACK, p.snd_nxt, p.rcv_nxt, p.win, PO_AUTO, NULL, 0);
	taken = 0;
	{
		struct tseg s;

		/* the window opened: the stack sends; 4 clusters acked */
		while (tap_read(&e, &s)) {
			assert_int_equal(s.seq, p.rcv_nxt);
			assert_memory_equal(s.data, exp + off, s.len);
			p.rcv_nxt += (uint32_t)s.len;
			off += s.len;
			taken += s.len;
		}
	}
	/* the initial window again (RFC 5681 4.1: it was idle) */
	assert_int_equal(taken, 10 * TS_MSS);
	p.rcv_nxt -= (uint32_t)(taken - 8192);
	off -= taken - 8192;
	peer_ack(&p);		/* acknowledges the first 8192 */
	assert_int_equal(pool_out(&e, "mclpl"), 4);
	atomic_store(&c.stop, false);
	bthread_start(&bt, e.k, BT_UNBOUND, clockrun_body, &c);
	rc = rump_sys_write(fd, d, sizeof(d));
	atomic_store(&c.stop, true);
	bthread_join(&bt);
	assert_int_equal(rc, 8192);
	memcpy(exp + 32768, d, 8192);
	/* the rest arrives whole, after what the peer has and did not ack */
	p.rcv_nxt += (uint32_t)(taken - 8192);
	off += taken - 8192;
	peer_ack(&p);
	assert_int_equal(read_acked(&p, exp, &off), 16384 - taken + 8192);
	assert_int_equal(off, 40960);
	assert_int_equal(pool_out(&e, "mclpl"), 0);

	/*
	 * Blocking, and the memory comes back while it waits: the window
	 * shut again, 16 KiB take the clusters; a 4 KiB write waits (no
	 * timeout: the virtual clock stands still) until the peer's ACKs
	 * free them, then takes all of it.
	 */
	peer_send(&p, TH_ACK, "y", 1);
	p.win = 0;
	peer_ack(&p);
	tenv_advance(&e, 500);
	(void)drain(&e);
	assert_int_equal(rump_sys_write(fd, d, 16384), 16384);
	assert_int_equal(pool_out(&e, "mclpl"), 8);
	{
		struct acker a = { .p = &p };

		bthread_start(&bt, e.k, BT_UNBOUND, acker_body, &a);
		assert_int_equal(rump_sys_write(fd, d, 4096), 4096);
		assert_true(th_wait_until(atomic_load(&a.got) == 20480, 5000));
		atomic_store(&a.stop, true);
		bthread_join(&bt);
	}
	assert_int_equal(pool_out(&e, "mclpl"), 0);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * tcp.nobufs: a send with no mbuf for the segment.  cluster_limit 8
 * (16 KiB): a 64 KiB write takes the 16 KiB the clusters hold
 * (test_resource_tcp_send_memwait has the rest of that); once they are
 * acknowledged, 8 KiB fits and goes.  Then the mbufs run
 * out while data waits for the peer's window (a UDP socket that does not
 * read holds them, one left over): the ACK that opens the window takes
 * the last mbuf, the segment it lets go finds none (tcp.nobufs) and is
 * lost to the stack as if dropped on the wire.  Once the UDP socket
 * reads, the retransmission timer sends it, intact.
 */
static void
test_resource_tcp_send_nobufs(void **state)
{
	static uint8_t d[65536];
	struct tenv e;
	struct peer p;
	int fd, ufd;
	unsigned n;

	(void)state;
	tenv_up_limits(&e, 129, 8, 0);
	ufd = udp_socket();
	peer_init(&p, &e, PPORT, PO_MSS | PO_WS);
	fd = active_open(&p);
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = pat(9, i);
	assert_int_equal(rump_sys_write(fd, d, sizeof(d)), 16384);
	assert_true(pool(&e, "mclpl").nfail > 0);
	for (size_t off = 0; off < 16384; off += TS_MSS) {
		size_t len = RS_MIN((size_t)TS_MSS, 16384 - off);

		if (off == 10 * TS_MSS)
			peer_ack(&p);	/* the initial window is 10 */
		assert_memory_equal(expect_data(&p, len, off + len == 16384)->
		    data, d + off, len);
	}
	peer_ack(&p);
	assert_int_equal(pool_out(&e, "mclpl"), 0);
	/* 4 clusters: out in 6 segments, all acknowledged */
	stack_write(fd, d, 8192);
	for (size_t off = 0; off < 8192; off += TS_MSS) {
		size_t len = RS_MIN((size_t)TS_MSS, 8192 - off);
		const struct tseg *sg = expect_data(&p, len, off + len == 8192);

		assert_memory_equal(sg->data, d + off, len);
	}
	peer_ack(&p);
	assert_int_equal(pool_out(&e, "mclpl"), 0);
	/*
	 * the peer's window closes (after a byte of data: an ACK with the
	 * SEQ and ACK of the last window update may not shrink it, RFC
	 * 9293 3.10.7.4 fifth step); 1000 bytes wait in so_snd
	 */
	peer_send(&p, TH_ACK, "z", 1);
	p.win = 0;
	peer_ack(&p);
	tenv_advance(&e, 500);
	(void)drain(&e);			/* the delayed ACK of "z" */
	assert_int_equal(tinfo(fd).snd_wnd, 0);
	stack_write(fd, d + 8192, 1000);
	expect_nothing(&e);
	/* the UDP socket takes every mbuf but one: 2 a datagram */
	n = (unsigned)((129 - pool_out(&e, "mbpl")) / 2);
	for (unsigned i = 0; i < n; i++)
		udp_in(&e, (uint16_t)(PPORT + 100 + i), (uint8_t)i, 10);
	assert_int_equal(pool_out(&e, "mbpl"), 128);
	assert_int_equal(tstat(&e, "nobufs"), 0);
	p.win = 65535;
	peer_ack(&p);
	assert_int_equal(tstat(&e, "nobufs"), 1);
	expect_nothing(&e);
	for (unsigned i = 0; i < n; i++)
		udp_read(ufd, (uint16_t)(PPORT + 100 + i), (uint8_t)i, 10);
	/* RFC 6298 5.4: the retransmission timer resends it */
	tenv_advance(&e, 1000);
	{
		const struct tseg *sg = expect_data(&p, 1000, true);

		assert_memory_equal(sg->data, d + 8192, 1000);
	}
	assert_int_equal(tstat(&e, "sndrexmitpack"), 1);
	peer_ack(&p);
	assert_int_equal(rump_sys_read(fd, d, 10), 1);
	assert_int_equal(d[0], 'z');
	(void)drain(&e);
	conn_abort(&p, fd);
	assert_int_equal(rump_sys_close(ufd), 0);
	tenv_down(&e);
}

#define NSOCK 6

/*
 * socket_limit 6: the 7th socket() fails with ENOBUFS (pool "socket"
 * nfail), whatever its type.  A SYN to a listener then finds no socket
 * for the connection: dropped without an answer (tcp.nosocket), so the
 * peer resends it, and once a socket is closed the resent SYN makes the
 * connection.  The ACK of a SYN cookie that finds no socket is dropped
 * the same way, and the peer's next segment (still carrying the cookie)
 * makes the connection once there is one.
 */
static void
test_resource_socket_limit(void **state)
{
	struct peer a, b, c;
	struct tenv e;
	int lfd, u[NSOCK], fd, fd2;
	uint8_t buf[8];

	(void)state;
	tenv_up_limits(&e, 0, 0, NSOCK);
	assert_int_equal(pool(&e, "socket").hardlimit, NSOCK);
	lfd = tcp_listener(PORT, 8);
	for (int i = 0; i < NSOCK - 1; i++) {
		u[i] = rump_sys_socket(AF_INET, i % 2 ? SOCK_DGRAM : SOCK_STREAM,
		    0);
		assert_true(u[i] >= 0);
	}
	for (int type = SOCK_STREAM; type <= SOCK_RAW; type++) {
		if (type != SOCK_STREAM && type != SOCK_DGRAM &&
		    type != SOCK_RAW)
			continue;
		errno = 0;
		assert_int_equal(rump_sys_socket(AF_INET, type,
		    type == SOCK_RAW ? 253 : 0), -1);
		assert_int_equal(errno, ENOBUFS);
	}
	assert_int_equal(pool(&e, "socket").nfail, 3);
	assert_int_equal(pool_out(&e, "socket"), NSOCK);

	/* a SYN: no socket, no answer; the peer resends it in time */
	peer_init(&a, &e, PPORT, PO_ALL);
	a.sport = PORT;
	peer_send(&a, TH_SYN, NULL, 0);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "nosocket"), 1);
	assert_int_equal(tstat(&e, "syncache"), 0);
	assert_int_equal(rump_sys_close(u[0]), 0);
	a.snd_nxt = a.iss;
	fd = passive_open(&a, lfd);
	stack_write(fd, "x", 1);
	expect_data(&a, 1, true);
	peer_send(&a, TH_ACK, "yz", 2);
	assert_int_equal(rump_sys_read(fd, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "yz", 2);
	assert_int_equal(tstat(&e, "nosocket"), 1);

	/* cookies: one embryo fills the SYN cache; the next SYN gets one */
	assert_int_equal(rump_tcp_param_set(e.k, "syncache_limit", 1), 0);
	assert_int_equal(rump_sys_close(u[1]), 0);
	peer_init(&b, &e, PPORT + 1, PO_ALL);
	b.sport = PORT;
	peer_send(&b, TH_SYN, NULL, 0);
	expect_synack(&b);			/* an embryo: the 6th socket */
	peer_init(&c, &e, PPORT + 2, PO_ALL);
	c.sport = PORT;
	peer_send(&c, TH_SYN, NULL, 0);
	expect_synack(&c);
	assert_int_equal(tstat(&e, "sc_sent"), 1);
	peer_ack(&c);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "nosocket"), 2);
	assert_int_equal(tstat(&e, "sc_recvd"), 0);
	/* a socket free: the peer's data, with the cookie's ACK, gets in */
	assert_int_equal(rump_sys_close(u[2]), 0);
	peer_send(&c, TH_ACK | TH_PUSH, "hi", 2);
	assert_int_equal(tstat(&e, "sc_recvd"), 1);
	fd2 = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd2 >= 0);
	assert_int_equal(rump_sys_read(fd2, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "hi", 2);
	assert_int_equal(pool(&e, "socket").nfail, 5);
	(void)drain(&e);			/* c's delayed ACK */
	conn_abort(&c, fd2);
	peer_rst(&b, b.snd_nxt, false);
	conn_abort(&a, fd);
	for (int i = 3; i < NSOCK - 1; i++)
		assert_int_equal(rump_sys_close(u[i]), 0);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * The descriptor table full (4096): socket() and kqueue() fail with
 * EMFILE, and so does accept(), leaving the connection on the queue;
 * once a descriptor is closed accept() takes it, and it carries data.
 * EMFILE is no pool failure: socket() made and freed its socket.
 */
static void
test_resource_emfile(void **state)
{
	static int fds[FD_TABLE];
	struct peer p;
	struct tenv e;
	int lfd, fd, kq, n = 0;
	uint8_t buf[8];

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);
	peer_init(&p, &e, PPORT, PO_ALL);
	p.sport = PORT;
	peer_send(&p, TH_SYN, NULL, 0);
	expect_synack(&p);
	peer_ack(&p);
	expect_nothing(&e);
	while ((fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0)) >= 0)
		fds[n++] = fd;
	assert_int_equal(errno, EMFILE);
	assert_int_equal(n, FD_TABLE - 1);
	errno = 0;
	assert_int_equal(rump_sys_socket(AF_INET, SOCK_STREAM, 0), -1);
	assert_int_equal(errno, EMFILE);
	errno = 0;
	assert_int_equal(rump_sys_kqueue(), -1);
	assert_int_equal(errno, EMFILE);
	errno = 0;
	assert_int_equal(rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK), -1);
	assert_int_equal(errno, EMFILE);
	assert_int_equal(pool(&e, "socket").nfail, 0);
	/* the listener, the UDP sockets, the connection still queued */
	assert_int_equal(pool_out(&e, "socket"), FD_TABLE + 1);
	expect_nothing(&e);
	/* one descriptor free: the connection, then a kqueue */
	assert_int_equal(rump_sys_close(fds[100]), 0);
	fd = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_int_equal(fd, fds[100]);
	peer_send(&p, TH_ACK | TH_PUSH, "abc", 3);
	assert_int_equal(rump_sys_read(fd, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "abc", 3);
	(void)drain(&e);
	assert_int_equal(rump_sys_close(fds[200]), 0);
	kq = rump_sys_kqueue();
	assert_int_equal(kq, fds[200]);
	assert_int_equal(rump_sys_close(kq), 0);
	conn_abort(&p, fd);
	for (int i = 0; i < n; i++)
		if (i != 100 && i != 200)
			assert_int_equal(rump_sys_close(fds[i]), 0);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * A socket buffer holds at most SB_MAX (4 MiB): SO_RCVBUF and SO_SNDBUF
 * beyond it are clamped (as Linux, the value set is doubled for
 * bookkeeping, and the clamp applies to the doubled value), on TCP and
 * UDP.  A sender queues at most SO_SNDBUF: a non-blocking write into a
 * closed window takes exactly that much, the next gets EAGAIN, and
 * nothing is sent until the window opens.
 */
static void
test_resource_sockbuf_limits(void **state)
{
	static uint8_t d[100000];
	const int big[] = { SB_MAX, SB_MAX + 1, 16 * 1024 * 1024, 0x7fffffff };
	struct tenv e;
	struct peer p;
	int fd, ufd;

	(void)state;
	tenv_up(&e);
	fd = tcp_socket();
	ufd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	for (size_t i = 0; i < BI_NITEMS(big); i++) {
		for (int s = 0; s < 2; s++) {
			int sfd = s == 0 ? fd : ufd;

			setopt_int(sfd, SOL_SOCKET, SO_RCVBUF, big[i]);
			setopt_int(sfd, SOL_SOCKET, SO_SNDBUF, big[i]);
			assert_int_equal(getopt_int(sfd, SOL_SOCKET, SO_RCVBUF),
			    SB_MAX);
			assert_int_equal(getopt_int(sfd, SOL_SOCKET, SO_SNDBUF),
			    SB_MAX);
		}
	}
	setopt_int(fd, SOL_SOCKET, SO_SNDBUF, SB_MAX / 2 - 1);
	assert_int_equal(getopt_int(fd, SOL_SOCKET, SO_SNDBUF), SB_MAX - 2);
	assert_int_equal(rump_sys_close(fd), 0);
	assert_int_equal(rump_sys_close(ufd), 0);

	/* the sender's limit, to the byte */
	peer_init(&p, &e, PPORT, PO_MSS | PO_WS);
	p.win = 0;
	fd = active_open(&p);
	setopt_int(fd, SOL_SOCKET, SO_SNDBUF, 20000);
	assert_int_equal(rump_sys_write(fd, d, sizeof(d)), 40000);
	errno = 0;
	assert_int_equal(rump_sys_write(fd, d, 1), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(poll_now(fd, POLLOUT), 0);
	expect_nothing(&e);
	conn_abort(&p, fd);
	tenv_down(&e);
}

#define SYNFLOOD 2000
#define SYNCACHE 16

/*
 * A SYN flood of 2000 SYNs from as many ports against syncache_limit
 * 16: at most 16 embryos, each a socket, a PCB and a tcpcb and nothing
 * more (no mbuf: the SYN-ACKs went out and were freed); the other 1984
 * answered with cookies that hold nothing.  So the flood costs the
 * instance 16 connections' worth of memory, whatever its size.  The
 * connection established before it keeps carrying data meanwhile.
 */
static void
test_resource_synflood_memory(void **state)
{
	struct tenv e;
	struct peer p, x;
	uint64_t mb0;
	int lfd, fd;
	uint8_t buf[8];

	(void)state;
	tenv_up(&e);
	assert_int_equal(rump_tcp_param_set(e.k, "syncache_limit", SYNCACHE),
	    0);
	lfd = tcp_listener(PORT, 128);
	peer_init(&p, &e, PPORT, PO_ALL);
	p.sport = PORT;
	fd = passive_open(&p, lfd);
	mb0 = pool_out(&e, "mbpl");
	for (unsigned i = 0; i < SYNFLOOD; i++) {
		peer_init(&x, &e, (uint16_t)(PPORT + 1 + i), PO_ALL);
		x.sport = PORT;
		peer_send(&x, TH_SYN, NULL, 0);
		expect_synack(&x);
		assert_true(tstat(&e, "syncache") <= SYNCACHE);
		if (i % 500 == 0) {
			/* the established connection still works */
			peer_send(&p, TH_ACK | TH_PUSH, "ab", 2);
			assert_int_equal(rump_sys_read(fd, buf, sizeof(buf)), 2);
			assert_memory_equal(buf, "ab", 2);
			(void)drain(&e);	/* its ACK, if not delayed */
			stack_write(fd, "cd", 2);
			expect_data(&p, 2, true);
			peer_ack(&p);
		}
	}
	assert_int_equal(tstat(&e, "syncache"), SYNCACHE);
	assert_int_equal(tstat(&e, "syncache_peak"), SYNCACHE);
	assert_int_equal(tstat(&e, "sc_sent"), SYNFLOOD - SYNCACHE);
	/* the listener, the connection, the embryos: nothing else */
	assert_int_equal(pool_out(&e, "socket"), 2 + SYNCACHE);
	assert_int_equal(pool_out(&e, "inpcb"), 2 + SYNCACHE);
	assert_int_equal(pool_out(&e, "tcpcb"), 2 + SYNCACHE);
	assert_int_equal(pool_out(&e, "mbpl"), mb0);
	assert_int_equal(pool_out(&e, "mclpl"), 0);
	conn_abort(&p, fd);
	/* the listener goes: its embryos are reset */
	assert_int_equal(rump_sys_close(lfd), 0);
	assert_int_equal(drain(&e), SYNCACHE);
	assert_int_equal(tstat(&e, "syncache"), 0);
	tenv_down(&e);
}

/*
 * Out-of-order flood into a connection with a 4 MiB receive buffer
 * (8 MiB doubled: its own queue may hold 8 MiB / 1460 = 5745 segments)
 * on an instance of 1024 mbufs: without a bound on all queues together,
 * 1-byte segments would take every mbuf, and the segment that fills the
 * hole could no longer come in -- the connection stuck for good, the
 * instance deaf.  The queues hold at most a quarter of the pool (256
 * here; tcp.rcvreassmem counts the rest), each segment one mbuf; the
 * hole fills and everything arrives intact.
 */
static void
test_resource_ooo_flood_pool(void **state)
{
	const unsigned n = 2000, qmax = 1024 / 4;
	static uint8_t got[2 * 2000 + 2];
	struct tenv e;
	struct peer p;
	uint64_t mb0;
	int fd;

	(void)state;
	tenv_up_limits(&e, 1024, 0, 0);
	peer_init(&p, &e, PPORT, PO_MSS | PO_WS);
	fd = tcp_socket();
	setopt_int(fd, SOL_SOCKET, SO_RCVBUF, SB_MAX / 2);
	stack_connect_fd(&p, fd);
	peer_synack(&p);
	mb0 = pool_out(&e, "mbpl");
	/* bytes 2, 4, ..., 2n: each leaves a hole */
	for (unsigned k = 1; k <= n; k++) {
		uint8_t ch = pat(3, 2 * k);

		peer_seg(&p, TH_ACK, p.snd_nxt + 2 * k, p.rcv_nxt, p.win,
		    PO_AUTO, &ch, 1);
		assert_true(pool_out(&e, "mbpl") <= mb0 + qmax + 2);
	}
	assert_int_equal(drain(&e), n);		/* a duplicate ACK each */
	assert_int_equal(tstat(&e, "rcvoopack"), qmax);
	assert_int_equal(tstat(&e, "rcvreassmem"), n - qmax);
	assert_int_equal(tstat(&e, "rcvreassfull"), 0);
	assert_int_equal(pool_out(&e, "mbpl"), mb0 + qmax);
	assert_int_equal(bi_stat(&e, "if.bus0.iqdrops"), 0);
	/* the whole stream in order: the queue drains as it comes */
	for (unsigned o = 0; o < sizeof(got); o += 500) {
		uint8_t d[500];
		size_t len = RS_MIN(sizeof(d), sizeof(got) - o);

		for (size_t i = 0; i < len; i++)
			d[i] = (o + i) % 2 == 0 && o + i > 0 ?
			    pat(3, o + i) : (uint8_t)'.';
		peer_seg(&p, TH_ACK, p.snd_nxt + o, p.rcv_nxt, p.win, PO_AUTO,
		    d, len);
	}
	p.snd_nxt += sizeof(got);
	(void)drain(&e);
	assert_int_equal(rump_sys_read(fd, got, sizeof(got)),
	    (ssize_t)sizeof(got));
	for (unsigned i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], i % 2 == 0 && i > 0 ? pat(3, i) : '.');
	assert_int_equal(pool_out(&e, "mbpl"), mb0);
	(void)drain(&e);
	conn_abort(&p, fd);
	tenv_down(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resource_udp_mbuf_exhaustion),
		cmocka_unit_test(test_resource_cluster_limit_global),
		cmocka_unit_test(test_resource_tcp_send_nobufs),
		cmocka_unit_test(test_resource_tcp_send_memwait),
		cmocka_unit_test(test_resource_socket_limit),
		cmocka_unit_test(test_resource_emfile),
		cmocka_unit_test(test_resource_sockbuf_limits),
		cmocka_unit_test(test_resource_synflood_memory),
		cmocka_unit_test(test_resource_ooo_flood_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
