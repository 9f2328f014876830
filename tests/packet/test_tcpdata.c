/*
 * test_tcpdata.c -- the TCP data path and malformed segments, segment by
 * segment through a tap playing the remote host (tcpseg.h):
 *
 *   out-of-order and overlapping data, the reassembly queue's bound and a
 *   flood of tiny segments (RFC 9293 3.10.7.4 seventh step, RFC 5681 4.2);
 *   data outside the window, zero windows and window probes, receiver
 *   silly window avoidance and the right edge (RFC 9293 3.8.6);
 *   the sender: zero window and persist, Nagle, sender SWS avoidance, the
 *   MSS, delayed and piggybacked ACKs (RFC 9293 3.8.6.2.1, 3.8.6.3);
 *   urgent data (RFC 9293 3.8.5, RFC 6093, MUST-30/31/32);
 *   malformed headers, option lists, addresses, and every flag
 *   combination in every state a tap can reach;
 *   a transfer across the sequence number wrap.
 *
 * Each test asserts the exact segments that come back, the bytes the
 * application reads, errno values and counters, and ends with every pool
 * back to zero.  The peer's data is the fixed pseudo-random stream
 * stream(off): byte off of the peer's stream sits at IRS + 1 + off, so
 * any lost, shifted or duplicated byte shows in what the application
 * reads.  Times are on the virtual clock.
 *
 * A table row that shows a known bug names it in its bug field and is
 * skipped unless RUMPNET_TCP_BUGS is set (none is now).
 *
 * Needs no root, no DPDK, no network namespace.
 */
#define _DEFAULT_SOURCE		/* <netinet/tcp.h>: TH_*, TCPOPT_*, tcp_info */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>	/* SIOCOUTQNSD */
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>		/* SIOCOUTQ */
#include <unistd.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "tcpseg.h"

#define LPORT 80		/* the stack's listening port */
#define PPORT 42001		/* the peer's port */
#define TSOPT 12		/* NOP NOP TS: bytes taken from each segment */
#define MSS_TS (TS_MSS - TSOPT)	/* the stack's segments with timestamps */
#define RCVBUF (256 * 1024)	/* the stack's default receive buffer */
#define DELACK_MS 40		/* TCPTV_DELACK */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* ==== helpers ==== */

/*
 * The data of the tests, either way: a fixed pseudo-random stream, from
 * byte off on.
 */
static const uint8_t *
stream(size_t off)
{
	static uint8_t buf[512 * 1024];
	static bool filled;

	if (!filled) {
		uint64_t s = 0x5eed5eed5eedull;

		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)th_rand(&s);
		filled = true;
	}
	assert_true(off < sizeof(buf));
	return buf + off;
}

/* The sequence number of byte off of the peer's stream. */
static uint32_t
pseq(const struct peer *p, size_t off)
{
	return p->iss + 1 + (uint32_t)off;
}

/*
 * peer_at: bytes [off, off+len) of the peer's stream with flags, ACK of
 * its RCV.NXT, its window and options; SND.NXT is left alone.
 */
static void
peer_at(struct peer *p, uint8_t flags, size_t off, size_t len)
{
	peer_seg(p, flags, pseq(p, off), p->rcv_nxt, p->win, PO_AUTO,
	    stream(off), len);
}

/* peer_ack_win: an ACK of ack with window win (the peer's own SEQ). */
static void
peer_ack_win(struct peer *p, uint32_t ack, uint16_t win)
{
	peer_seg(p, TH_ACK, p->snd_nxt, ack, win, PO_AUTO, NULL, 0);
}

/* expect_ack_at: a pure ACK of the peer's stream up to offset off. */
static const struct tseg *
expect_ack_at(struct peer *p, size_t off)
{
	const struct tseg *s = expect_seg(p, TH_ACK, p->rcv_nxt, pseq(p, off));

	assert_int_equal(s->len, 0);
	return s;
}

/* expect_ack_win: expect_ack_at with exactly win bytes of window. */
static void
expect_ack_win(struct peer *p, size_t off, uint32_t win)
{
	assert_int_equal(stack_window(p, expect_ack_at(p, off)), win);
}

/* read_upto: the next len bytes readable on fd are want's. */
static void
read_upto(int fd, const uint8_t *want, size_t len)
{
	static uint8_t got[512 * 1024];
	size_t have = 0;

	assert_true(len < sizeof(got));
	while (have < len) {
		ssize_t n = rump_sys_read(fd, got + have, len - have);

		if (n <= 0)
			fail_msg("read %zd (errno %d) after %zu of %zu bytes", n,
			    errno, have, len);
		have += (size_t)n;
	}
	assert_memory_equal(got, want, len);
}

/* read_expect: exactly the len bytes of want are readable on fd, no more. */
static void
read_expect(int fd, const uint8_t *want, size_t len)
{
	read_upto(fd, want, len);
	stack_read_none(fd);
}

/* read_stream: bytes [off, off+len) of the peer's stream, and no more. */
static void
read_stream(int fd, size_t off, size_t len)
{
	read_expect(fd, stream(off), len);
}

/* The instance's counter ip.<name>. */
static uint64_t
ipstat(struct tenv *e, const char *name)
{
	char full[64] = "ip.";
	uint64_t v = 0;

	strncat(full, name, sizeof(full) - 4);
	assert_int_equal(rump_stat_get(e->k, full, &v), 0);
	return v;
}

/*
 * A TCP/IPv4 frame from the peer with every field given, for malformed
 * segments: options of any length (padded by the caller), the data
 * offset, the IP total length and the bytes of TCP in the frame can all
 * disagree with the truth.  The TCP checksum covers the TCP bytes built
 * unless badsum.
 */
struct raw {
	const uint8_t *eth_dst;	/* NULL: the stack's MAC */
	const char *src, *dst;	/* NULL: the peer's, the stack's address */
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t win, urp;
	bool autoopt;		/* the connection's options (PO_AUTO) */
	const uint8_t *opt;	/* else these option bytes */
	size_t optlen;
	unsigned doff;		/* data offset in words; 0: the true one */
	const void *data;
	size_t len;
	unsigned ip_len;	/* IP total length; 0: the true one */
	size_t tcp_bytes;	/* TCP bytes in the frame; 0: all */
	bool badsum;
	bool nowait;		/* do not wait for the stack to take it */
};

static void
raw_send(struct peer *p, const struct raw *r)
{
	static uint8_t f[TS_FRAME_MAX];
	uint8_t o[40];
	const uint8_t *opt = r->opt;
	size_t optlen = r->optlen, thlen, tcplen, off;
	uint16_t c;
	uint8_t *th;

	if (r->autoopt) {
		optlen = peer_options(p, r->flags, PO_AUTO, o);
		while (optlen % 4 != 0)
			o[optlen++] = TCPOPT_EOL;
		opt = o;
	}
	thlen = 20 + optlen;
	tcplen = thlen + r->len;
	assert_true(optlen <= 40 && (r->doff != 0 || thlen % 4 == 0));
	assert_true(14 + 20 + tcplen <= sizeof(f));
	off = eth(f, r->eth_dst != NULL ? r->eth_dst : ts_stack_mac,
	    ts_peer_mac, 0x0800);
	off += ipv4(f + off, NULL, 0, (uint16_t)(r->ip_len != 0 ? r->ip_len :
	    20 + tcplen), p->ipid++, 0x4000, 64, 6,
	    r->src != NULL ? r->src : TS_PEER_ADDR,
	    r->dst != NULL ? r->dst : TS_STACK_ADDR);
	th = f + off;
	put16(th, p->port);
	put16(th + 2, p->sport);
	put32(th + 4, r->seq);
	put32(th + 8, r->ack);
	th[12] = (uint8_t)((r->doff != 0 ? r->doff : thlen / 4) << 4);
	th[13] = r->flags;
	put16(th + 14, r->win);
	th[16] = th[17] = 0;
	put16(th + 18, r->urp);
	if (optlen > 0)
		memcpy(th + 20, opt, optlen);
	if (r->len > 0)
		memcpy(th + thlen, r->data, r->len);
	c = ref_cksum(th, tcplen, ref_pseudo(ip(r->src != NULL ? r->src :
	    TS_PEER_ADDR), ip(r->dst != NULL ? r->dst : TS_STACK_ADDR), 6,
	    tcplen));
	if (r->badsum)
		c ^= 0x0100;
	memcpy(th + 16, &c, 2);
	assert_int_equal(rump_bus_tap_send(p->e->tap, f, off +
	    (r->tcp_bytes != 0 ? r->tcp_bytes : tcplen)), 0);
	if (!r->nowait)
		tenv_settle(p->e);
	if (r->autoopt && p->ts_on)
		p->tsval++;
}

/*
 * peer_atx: bytes [off, off+len) of the peer's stream with flags, the
 * urgent pointer urp (TH_URG is the caller's to set), ACK of its RCV.NXT
 * and the connection's options; with nowait, without waiting for the
 * stack to take it (a burst then reaches it back to back, and
 * tenv_settle() waits for all of it).
 */
static void
peer_atx(struct peer *p, uint8_t flags, size_t off, size_t len, uint16_t urp,
    bool nowait)
{
	struct raw r = {
		.flags = flags, .seq = pseq(p, off), .ack = p->rcv_nxt,
		.win = p->win, .urp = urp, .autoopt = true,
		.data = stream(off), .len = len, .nowait = nowait,
	};

	raw_send(p, &r);
}

static void
peer_urg(struct peer *p, uint8_t flags, size_t off, size_t len, uint16_t urp)
{
	peer_atx(p, flags, off, len, urp, false);
}

/* conn_up: the instance, and a connection to the peer PPORT (options opts). */
static int
conn_up(struct tenv *e, struct peer *p, unsigned opts)
{
	tenv_up(e);
	peer_init(p, e, PPORT, opts);
	return active_open(p);
}

/*
 * active_open_rcvbuf: active_open() from a socket with SO_RCVBUF rcvbuf,
 * set before connect() so that the window scale offered suits it.
 */
static int
active_open_rcvbuf(struct peer *p, int rcvbuf)
{
	int fd = tcp_socket();

	setopt_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
	stack_connect_fd(p, fd);
	peer_synack(p);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	return fd;
}

/*
 * The right edges the stack offers: never a scale unit (2^shift bytes)
 * or more left of the furthest one yet, max, nor right of limit, the end
 * of the receive buffer.
 */
struct edges {
	uint32_t max;
	uint32_t limit;
};

static void
edge_check(const struct peer *p, struct edges *w, const struct tseg *s)
{
	int32_t unit = p->stack_ws > 0 ? 1 << p->stack_ws : 1;
	uint32_t edge = s->ack + stack_window(p, s);

	if ((int32_t)(edge - w->max) <= -unit ||
	    (int32_t)(edge - w->limit) >= unit)
		fail_msg("ack %u win %u: right edge %u, the furthest before "
		    "%u, the buffer's end %u", s->ack, s->win, edge, w->max,
		    w->limit);
	if ((int32_t)(edge - w->max) > 0)
		w->max = edge;
}

/*
 * drain_acks_edges: every frame the stack has sent is a pure ACK at the
 * peer's RCV.NXT whose ACK never goes back; *last (in: the ACK before)
 * becomes the last one; with w, the right edges are checked
 * (edge_check()).  Returns how many there were.
 */
static unsigned
drain_acks_edges(struct peer *p, uint32_t *last, struct edges *w)
{
	static uint8_t f[TS_FRAME_MAX];
	struct tseg s;
	unsigned n = 0;
	size_t len;

	tenv_settle(p->e);
	while (rump_bus_tap_recv(p->e->tap, f, sizeof(f), &len, 0) == 0) {
		assert_true(len <= sizeof(f));
		tseg_parse(f, len, &s);
		if (s.flags != TH_ACK || s.seq != p->rcv_nxt || s.len != 0)
			fail_msg("expected a pure ACK at %u, got flags %#x seq %u "
			    "ack %u len %zu", p->rcv_nxt, s.flags, s.seq, s.ack,
			    s.len);
		assert_int_equal(s.ts_p, p->ts_on);
		assert_true((int32_t)(s.ack - *last) >= 0);
		if (w != NULL)
			edge_check(p, w, &s);
		*last = s.ack;
		n++;
	}
	return n;
}

static unsigned
drain_acks(struct peer *p, uint32_t *last)
{
	return drain_acks_edges(p, last, NULL);
}

/* ==== out-of-order data (RFC 9293 3.10.7.4 seventh step, RFC 5681 4.2) ==== */

/*
 * Segments 3, 2, 1: each out-of-order segment draws an immediate
 * duplicate ACK that echoes the TSval of the last in-order segment (RFC
 * 7323 4.3), and nothing is readable; the segment that fills the hole
 * draws an immediate ACK of all three, echoing its own TSval.
 */
static void
test_ooo_reverse_order(void **state)
{
	const struct tseg *s;
	struct tenv e;
	struct peer p;
	uint32_t ts0, ts;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_ALL);
	ts0 = p.tsval - 1;		/* the SYN-ACK's TSval: TS.Recent */
	peer_at(&p, TH_ACK | TH_PUSH, 200, 100);
	s = expect_ack_at(&p, 0);
	assert_int_equal(s->tsecr, ts0);
	assert_int_equal(stack_window(&p, s), RCVBUF);
	assert_int_equal(tstat(&e, "rcvoopack"), 1);
	assert_int_equal(tstat(&e, "rcvoobyte"), 100);
	stack_read_none(fd);
	assert_int_equal(poll_now(fd, POLLIN), 0);
	peer_at(&p, TH_ACK, 100, 100);
	assert_int_equal(expect_ack_at(&p, 0)->tsecr, ts0);
	assert_int_equal(tstat(&e, "rcvoopack"), 2);
	assert_int_equal(tstat(&e, "rcvoobyte"), 200);
	stack_read_none(fd);
	ts = p.tsval;
	peer_at(&p, TH_ACK, 0, 100);
	s = expect_ack_at(&p, 300);
	assert_int_equal(s->tsecr, ts);
	assert_int_equal(tstat(&e, "rcvoopack"), 2);	/* the filler is */
	assert_int_equal(tstat(&e, "rcvpack"), 1);	/* in sequence */
	assert_int_equal(tstat(&e, "rcvbyte"), 100);
	assert_int_equal(tstat(&e, "rcvduppack"), 0);
	assert_int_equal(tstat(&e, "rcvpartduppack"), 0);
	assert_int_equal(tstat(&e, "rcvreassfull"), 0);
	p.snd_nxt = pseq(&p, 300);
	assert_int_equal(poll_now(fd, POLLIN), POLLIN);
	read_stream(fd, 0, 300);
	tenv_advance(&e, DELACK_MS);
	expect_nothing(&e);		/* no delayed ACK left behind */
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * A hole filled in parts: every segment that fills all or part of a gap
 * is acknowledged at once (RFC 5681 4.2), and a FIN that came out of
 * order takes effect when the data before it is in.
 */
static void
test_ooo_hole_filled_in_parts(void **state)
{
	struct tenv e;
	struct peer p;
	char c;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_ALL);
	peer_at(&p, TH_ACK, 0, 100);
	expect_nothing(&e);		/* in order: the ACK is delayed */
	peer_at(&p, TH_ACK, 200, 100);
	expect_ack_at(&p, 100);		/* out of order: at once */
	peer_at(&p, TH_ACK | TH_FIN, 400, 100);
	expect_ack_at(&p, 100);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	peer_at(&p, TH_ACK, 100, 100);	/* the first gap */
	expect_ack_at(&p, 300);
	read_stream(fd, 0, 300);
	peer_at(&p, TH_ACK, 300, 100);	/* the last gap: the FIN too */
	expect_ack_at(&p, 501);
	assert_int_equal(tstate(fd), TCP_CLOSE_WAIT);
	assert_int_equal(tstat(&e, "rcvoopack"), 2);
	assert_int_equal(tstat(&e, "rcvpack"), 3);
	p.snd_nxt = pseq(&p, 501);
	read_upto(fd, stream(300), 200);
	assert_int_equal(rump_sys_read(fd, &c, 1), 0);	/* end of file */
	tenv_advance(&e, DELACK_MS);
	expect_nothing(&e);
	assert_int_equal(rump_sys_close(fd), 0);
	expect_seg(&p, TH_FIN | TH_ACK, p.rcv_nxt, p.snd_nxt);
	peer_ack(&p);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "closed"), 1);
	tenv_down(&e);
}

/*
 * Overlaps with the reassembly queue: data covered entirely by a queued
 * segment is a duplicate (tcp.rcvduppack); new data overlapping queued
 * data on its left or right, or covering a queued segment, keeps every
 * byte once; old data before RCV.NXT is trimmed (tcp.rcvpartduppack) or
 * dropped with an ACK (tcp.rcvduppack).  Every out-of-order segment is
 * answered at once; the application reads each byte once.
 */
static void
test_ooo_overlaps(void **state)
{
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_ALL);
	peer_at(&p, TH_ACK, 100, 100);	/* queue [100,200) */
	expect_ack_at(&p, 0);
	peer_at(&p, TH_ACK, 300, 100);	/* queue [100,200) [300,400) */
	expect_ack_at(&p, 0);
	assert_int_equal(tstat(&e, "rcvoopack"), 2);
	assert_int_equal(tstat(&e, "rcvoobyte"), 200);
	/* inside [100,200): nothing new */
	peer_at(&p, TH_ACK, 120, 60);
	expect_ack_at(&p, 0);
	assert_int_equal(tstat(&e, "rcvduppack"), 1);
	assert_int_equal(tstat(&e, "rcvdupbyte"), 60);
	assert_int_equal(tstat(&e, "rcvoopack"), 2);
	/* [50,150): its tail overlaps the head of [100,200) */
	peer_at(&p, TH_ACK, 50, 100);
	expect_ack_at(&p, 0);
	assert_int_equal(tstat(&e, "rcvoopack"), 3);
	assert_int_equal(tstat(&e, "rcvoobyte"), 300);
	/* [180,250): its head overlaps the tail of [100,200): 50 new bytes */
	peer_at(&p, TH_ACK, 180, 70);
	expect_ack_at(&p, 0);
	assert_int_equal(tstat(&e, "rcvoopack"), 4);
	assert_int_equal(tstat(&e, "rcvoobyte"), 350);
	/* [250,450): covers [300,400) and goes beyond it */
	peer_at(&p, TH_ACK, 250, 200);
	expect_ack_at(&p, 0);
	assert_int_equal(tstat(&e, "rcvoopack"), 5);
	assert_int_equal(tstat(&e, "rcvoobyte"), 550);
	/* [440,460): 10 bytes new */
	peer_at(&p, TH_ACK, 440, 20);
	expect_ack_at(&p, 0);
	assert_int_equal(tstat(&e, "rcvoopack"), 6);
	assert_int_equal(tstat(&e, "rcvoobyte"), 560);
	stack_read_none(fd);
	/* [0,60) fills the hole and overlaps [50,...): all 460 in order */
	peer_at(&p, TH_ACK, 0, 60);
	expect_ack_at(&p, 460);
	assert_int_equal(tstat(&e, "rcvoopack"), 6);
	assert_int_equal(tstat(&e, "rcvpack"), 1);
	assert_int_equal(tstat(&e, "rcvduppack"), 1);
	assert_int_equal(tstat(&e, "rcvpartduppack"), 0);
	read_stream(fd, 0, 460);
	/* [400,500): 60 old bytes trimmed, 40 new ones in order (delayed) */
	peer_at(&p, TH_ACK, 400, 100);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "rcvpartduppack"), 1);
	assert_int_equal(tstat(&e, "rcvpartdupbyte"), 60);
	/* [100,200) again: all old, acknowledged at once */
	peer_at(&p, TH_ACK, 100, 100);
	expect_ack_at(&p, 500);
	assert_int_equal(tstat(&e, "rcvduppack"), 2);
	assert_int_equal(tstat(&e, "rcvdupbyte"), 160);
	read_stream(fd, 460, 40);
	p.snd_nxt = pseq(&p, 500);
	tenv_advance(&e, DELACK_MS);
	expect_nothing(&e);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * A segment that repeats queued data from the same sequence number
 * (an exact duplicate, or a shorter one) brings nothing new: it is a
 * duplicate (tcp.rcvduppack, "entirely duplicate data"), not new
 * out-of-order data, as a segment inside a queued one already is (D2,
 * fixed).
 */
static void
test_ooo_exact_duplicate(void **state)
{
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_ALL);
	peer_at(&p, TH_ACK, 100, 100);
	expect_ack_at(&p, 0);
	peer_at(&p, TH_ACK, 100, 100);	/* exactly the same */
	expect_ack_at(&p, 0);
	assert_int_equal(tstat(&e, "rcvduppack"), 1);
	assert_int_equal(tstat(&e, "rcvdupbyte"), 100);
	assert_int_equal(tstat(&e, "rcvoopack"), 1);
	assert_int_equal(tstat(&e, "rcvoobyte"), 100);
	peer_at(&p, TH_ACK, 100, 50);	/* the same start, shorter */
	expect_ack_at(&p, 0);
	assert_int_equal(tstat(&e, "rcvduppack"), 2);
	assert_int_equal(tstat(&e, "rcvdupbyte"), 150);
	assert_int_equal(tstat(&e, "rcvoopack"), 1);
	peer_at(&p, TH_ACK, 0, 100);
	expect_ack_at(&p, 200);
	read_stream(fd, 0, 200);
	p.snd_nxt = pseq(&p, 200);
	conn_abort(&p, fd);
	tenv_down(&e);
}

#define REASS_MAX 256		/* TCP_REASS_MAXSEGS */

/*
 * The reassembly queue holds TCP_REASS_MAXSEGS segments: beyond that an
 * out-of-order segment is dropped (tcp.rcvreassfull) but still answered
 * with a duplicate ACK; the segment at RCV.NXT is always taken.  The
 * queue's mbufs are all there is (one each), and all go back; the data
 * arrives intact when the hole fills and the rest is resent.
 */
static void
test_reass_queue_bound(void **state)
{
	const size_t n = REASS_MAX + 44;
	uint32_t last;
	uint64_t mb0;
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_WS);
	mb0 = th_pool_out(e.k, "mbpl");
	for (size_t k = 1; k <= n; k++)
		peer_atx(&p, TH_ACK, k, 1, 0, true);
	last = pseq(&p, 0);
	assert_int_equal(drain_acks(&p, &last), n);
	assert_int_equal(last, pseq(&p, 0));
	assert_int_equal(tstat(&e, "rcvoopack"), REASS_MAX);
	assert_int_equal(tstat(&e, "rcvoobyte"), REASS_MAX);
	assert_int_equal(tstat(&e, "rcvreassfull"), n - REASS_MAX);
	assert_int_equal(th_pool_out(e.k, "mbpl"), mb0 + REASS_MAX);
	assert_int_equal(th_pool_out(e.k, "mclpl"), 0);
	stack_read_none(fd);
	/* the hole: the queue drains up to the first segment it dropped */
	peer_at(&p, TH_ACK, 0, 1);
	expect_ack_at(&p, REASS_MAX + 1);
	read_stream(fd, 0, REASS_MAX + 1);
	assert_int_equal(th_pool_out(e.k, "mbpl"), mb0);
	/* the peer resends the rest */
	peer_at(&p, TH_ACK | TH_PUSH, REASS_MAX + 1, n - REASS_MAX);
	expect_nothing(&e);
	read_stream(fd, REASS_MAX + 1, n - REASS_MAX);
	tenv_advance(&e, DELACK_MS);
	expect_ack_at(&p, n + 1);
	p.snd_nxt = pseq(&p, n + 1);
	assert_int_equal(tstat(&e, "rcvreassfull"), n - REASS_MAX);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * With a 4 MiB receive buffer the queue holds a window's worth of full
 * segments (hiwat / MSS, 8 MiB / 1460 = 5745 here, as SO_RCVBUF is
 * doubled), not just TCP_REASS_MAXSEGS: 600 out-of-order segments are
 * all kept, and the one that fills the hole delivers them all.
 */
static void
test_reass_queue_scales_with_rcvbuf(void **state)
{
	const size_t n = 600;
	uint32_t last;
	uint64_t mb0;
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, PPORT, PO_MSS | PO_WS);
	fd = active_open_rcvbuf(&p, 4 * 1024 * 1024);
	mb0 = th_pool_out(e.k, "mbpl");
	for (size_t k = 1; k <= n; k++)
		peer_atx(&p, TH_ACK, 2 * k, 1, 0, true);
	last = pseq(&p, 0);
	assert_int_equal(drain_acks(&p, &last), n);
	assert_int_equal(tstat(&e, "rcvoopack"), n);
	assert_int_equal(tstat(&e, "rcvreassfull"), 0);
	assert_int_equal(th_pool_out(e.k, "mbpl"), mb0 + n);
	for (size_t k = 0; k <= n; k++)
		peer_atx(&p, TH_ACK, 2 * k - (k > 0), 1, 0, true);
	(void)drain_acks(&p, &last);
	assert_int_equal(last, pseq(&p, 2 * n + 1));
	read_stream(fd, 0, 2 * n + 1);
	p.snd_nxt = pseq(&p, 2 * n + 1);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * A connection that goes with segments in its reassembly queue gives
 * their mbufs back: reset by the peer (RFC 9293: ECONNRESET), or aborted
 * by the application.
 */
static void
test_reass_queue_freed(void **state)
{
	uint64_t mb0;
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_WS);
	mb0 = th_pool_out(e.k, "mbpl");
	for (size_t k = 1; k <= 10; k++) {
		peer_at(&p, TH_ACK, 2 * k, 1);
		expect_ack_at(&p, 0);
	}
	peer_at(&p, TH_ACK, 100, TS_MSS);	/* a cluster too */
	expect_ack_at(&p, 0);
	assert_int_equal(th_pool_out(e.k, "mbpl"), mb0 + 11);
	assert_int_equal(th_pool_out(e.k, "mclpl"), 1);
	peer_rst(&p, p.snd_nxt, true);
	expect_nothing(&e);
	assert_int_equal(th_pool_out(e.k, "mbpl"), mb0);
	assert_int_equal(th_pool_out(e.k, "mclpl"), 0);
	read_error(fd, ECONNRESET);
	assert_int_equal(rump_sys_close(fd), 0);

	peer_init(&p, &e, PPORT + 1, PO_MSS | PO_WS);
	fd = active_open(&p);
	for (size_t k = 1; k <= 10; k++) {
		peer_at(&p, TH_ACK, 2 * k, 1);
		expect_ack_at(&p, 0);
	}
	conn_abort(&p, fd);
	assert_int_equal(th_pool_out(e.k, "mbpl"), mb0);
	tenv_down(&e);
}

/*
 * A flood of 1-byte segments, each out of order and none adjacent:
 * memory stays bounded (the queue's TCP_REASS_MAXSEGS mbufs, no
 * clusters), each is answered with one duplicate ACK, the flood takes
 * little time, and the data sent in order afterwards (covering what was
 * queued) arrives intact.
 */
static void
test_reass_flood_bounded(void **state)
{
	const size_t n = 3000, total = 2 * n + 2;
	uint64_t mb0, t0, ms;
	uint32_t last;
	struct tenv e;
	struct peer p;
	size_t off;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_WS);
	mb0 = th_pool_out(e.k, "mbpl");
	last = pseq(&p, 0);
	t0 = th_now_ns();
	for (size_t k = 0; k < n; k++) {
		peer_atx(&p, TH_ACK, 2 + 2 * k, 1, 0, true);
		if (k % 500 == 499) {
			assert_int_equal(drain_acks(&p, &last), 500);
			assert_int_equal(last, pseq(&p, 0));
			assert_true(th_pool_out(e.k, "mbpl") <= mb0 + REASS_MAX);
			assert_int_equal(th_pool_out(e.k, "mclpl"), 0);
		}
	}
	ms = (th_now_ns() - t0) / 1000000;
	print_message("# %zu out-of-order segments in %llu ms\n", n,
	    (unsigned long long)ms);
	assert_true(ms < 2000);
	assert_int_equal(tstat(&e, "rcvoopack"), REASS_MAX);
	assert_int_equal(tstat(&e, "rcvreassfull"), n - REASS_MAX);
	assert_int_equal(th_pool_out(e.k, "mbpl"), mb0 + REASS_MAX);
	/* the peer sends it all in order */
	for (off = 0; off < total; off += TS_MSS) {
		peer_at(&p, TH_ACK, off, MIN(TS_MSS, total - off));
		(void)drain_acks(&p, &last);
	}
	tenv_advance(&e, DELACK_MS);
	(void)drain_acks(&p, &last);
	assert_int_equal(last, pseq(&p, total));
	p.snd_nxt = pseq(&p, total);
	read_stream(fd, 0, total);
	expect_ack_win(&p, total, RCVBUF);	/* the window update */
	assert_int_equal(th_pool_out(e.k, "mbpl"), mb0);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * The same flood in order, the application not reading: the socket
 * buffer packs the bytes (a 1-byte segment does not keep an mbuf of its
 * own), every second segment is ACKed, and the bytes read are exact.
 */
static void
test_tiny_segments_packed(void **state)
{
	const size_t n = 4000;
	uint64_t mb0;
	uint32_t last;
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_WS);
	mb0 = th_pool_out(e.k, "mbpl");
	last = pseq(&p, 0);
	for (size_t k = 0; k < n; k++) {
		peer_atx(&p, TH_ACK, k, 1, 0, true);
		if (k % 500 == 499) {
			assert_int_equal(drain_acks(&p, &last), 250);
			assert_int_equal(last, pseq(&p, k + 1));
		}
	}
	print_message("# %zu bytes in 1-byte segments: %llu mbufs\n", n,
	    (unsigned long long)(th_pool_out(e.k, "mbpl") - mb0));
	assert_true(th_pool_out(e.k, "mbpl") <= mb0 + n / 64);
	assert_int_equal(tstat(&e, "rcvpack"), n);
	read_stream(fd, 0, n);
	/* the window update (or not: see D11, test_rcv_scaled_window_edge) */
	(void)drain_acks(&p, &last);
	assert_int_equal(th_pool_out(e.k, "mbpl"), mb0);
	p.snd_nxt = pseq(&p, n);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/* ==== the receive window (RFC 9293 3.10.7.4 first step, 3.8.6) ==== */

/*
 * A 2 KiB receive buffer (SO_RCVBUF 1024, doubled as Linux does): data
 * past the window is trimmed (tcp.rcvpackafterwin, rcvbyteafterwin) and a
 * FIN with it dropped; a segment at RCV.NXT into the zero window is a
 * window probe, answered with an ACK (tcp.rcvwinprobe); a segment entirely
 * outside the window is ACKed and dropped, old data is ACKed and dropped
 * (tcp.rcvduppack) or trimmed (tcp.rcvpartduppack); what was accepted
 * arrives intact.
 */
static void
test_rcv_beyond_window(void **state)
{
	uint64_t winup;
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, PPORT, PO_ALL);
	fd = active_open_rcvbuf(&p, 1024);
	assert_int_equal(p.stack_ws, 0);
	assert_int_equal(stack_window(&p, &p.last), 2048);
	peer_at(&p, TH_ACK, 0, MSS_TS);
	expect_nothing(&e);
	/* 1000 bytes where 600 fit: 400 trimmed, and the FIN with them */
	peer_at(&p, TH_ACK | TH_PUSH | TH_FIN, MSS_TS, 1000);
	expect_ack_win(&p, 2048, 0);
	assert_int_equal(tstat(&e, "rcvpackafterwin"), 1);
	assert_int_equal(tstat(&e, "rcvbyteafterwin"), 400);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	/* probes of the zero window: at RCV.NXT, one byte or more */
	peer_at(&p, TH_ACK, 2048, 1);
	expect_ack_win(&p, 2048, 0);
	peer_at(&p, TH_ACK, 2048, 100);
	expect_ack_win(&p, 2048, 0);
	assert_int_equal(tstat(&e, "rcvwinprobe"), 2);
	assert_int_equal(tstat(&e, "rcvpackafterwin"), 3);
	assert_int_equal(tstat(&e, "rcvbyteafterwin"), 501);
	/* not at RCV.NXT: outside the window, ACKed and dropped */
	peer_at(&p, TH_ACK, 2058, 10);
	expect_ack_win(&p, 2048, 0);
	assert_int_equal(tstat(&e, "rcvwinprobe"), 2);
	assert_int_equal(tstat(&e, "rcvpackafterwin"), 4);
	assert_int_equal(tstat(&e, "rcvbyteafterwin"), 511);
	/* the application reads it all: the window opens */
	winup = tstat(&e, "sndwinup");
	read_stream(fd, 0, 2048);
	expect_ack_win(&p, 2048, 2048);
	assert_int_equal(tstat(&e, "sndwinup"), winup + 1);
	/* old data: ACKed at once */
	peer_at(&p, TH_ACK, 1000, 100);
	expect_ack_win(&p, 2048, 2048);
	assert_int_equal(tstat(&e, "rcvduppack"), 1);
	assert_int_equal(tstat(&e, "rcvdupbyte"), 100);
	/* partly old: 48 bytes trimmed, 52 taken (the ACK waits) */
	peer_at(&p, TH_ACK, 2000, 100);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "rcvpartduppack"), 1);
	assert_int_equal(tstat(&e, "rcvpartdupbyte"), 48);
	/* out of order and past the right edge (4096): 104 bytes trimmed */
	peer_at(&p, TH_ACK, 3100, 1100);
	expect_ack_win(&p, 2100, 1996);
	assert_int_equal(tstat(&e, "rcvpackafterwin"), 5);
	assert_int_equal(tstat(&e, "rcvbyteafterwin"), 615);
	assert_int_equal(tstat(&e, "rcvoopack"), 1);
	assert_int_equal(tstat(&e, "rcvoobyte"), 996);
	/* entirely past it */
	peer_at(&p, TH_ACK, 4096, 10);
	expect_ack_win(&p, 2100, 1996);
	assert_int_equal(tstat(&e, "rcvpackafterwin"), 6);
	assert_int_equal(tstat(&e, "rcvbyteafterwin"), 625);
	/* the hole: the buffer is full again */
	peer_at(&p, TH_ACK, 2100, 1000);
	expect_ack_win(&p, 4096, 0);
	read_stream(fd, 2048, 2048);
	expect_ack_win(&p, 4096, 2048);
	assert_int_equal(tstat(&e, "rcvduppack"), 1);
	assert_int_equal(tstat(&e, "rcvwinprobe"), 2);
	p.snd_nxt = pseq(&p, 4096);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * A 1 KiB window (SO_RCVBUF 512): a SYN-ACK carrying 1500 bytes and a FIN
 * has the 476 bytes past the window offered in the SYN trimmed, and the
 * FIN with them (RFC 9293 3.10.7.3 sixth step onwards); a segment that
 * starts before RCV.NXT and ends past the window is trimmed at both ends.
 */
static void
test_rcv_window_both_ends(void **state)
{
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, PPORT, PO_MSS | PO_WS);
	fd = tcp_socket();
	setopt_int(fd, SOL_SOCKET, SO_RCVBUF, 512);
	stack_connect_fd(&p, fd);
	assert_int_equal(p.last.win, 1024);
	peer_seg(&p, TH_SYN | TH_ACK | TH_PUSH | TH_FIN, p.iss, p.rcv_nxt,
	    p.win, PO_AUTO, stream(0), 1500);
	p.snd_nxt = pseq(&p, 1024);
	expect_ack_win(&p, 1024, 0);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	assert_int_equal(tstat(&e, "rcvpackafterwin"), 1);
	assert_int_equal(tstat(&e, "rcvbyteafterwin"), 476);
	read_stream(fd, 0, 1024);
	expect_ack_win(&p, 1024, 1024);
	/* [1014, 2058): 10 old bytes, 1024 new, 10 past the window */
	peer_at(&p, TH_ACK | TH_PUSH, 1014, 1044);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "rcvpartduppack"), 1);
	assert_int_equal(tstat(&e, "rcvpartdupbyte"), 10);
	assert_int_equal(tstat(&e, "rcvpackafterwin"), 2);
	assert_int_equal(tstat(&e, "rcvbyteafterwin"), 486);
	tenv_advance(&e, DELACK_MS);
	expect_ack_win(&p, 2048, 0);
	read_stream(fd, 1024, 1024);
	expect_ack_win(&p, 2048, 1024);
	p.snd_nxt = pseq(&p, 2048);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * fill_window: the peer sends total bytes from offset 0 in segments of
 * MSS_TS; every second segment is ACKed at once with the window left,
 * the last (odd) one after the delayed-ACK time.  The stack's buffer is
 * hiwat bytes and its right edge must stay at hiwat.
 */
static void
fill_window(struct peer *p, size_t total, size_t hiwat)
{
	size_t off, k = 0;

	for (off = 0; off < total; off += MSS_TS, k++) {
		size_t len = MIN(MSS_TS, total - off);

		peer_at(p, TH_ACK, off, len);
		if (k % 2 == 1)
			expect_ack_win(p, off + len, (uint32_t)(hiwat - off -
			    len));
		else
			expect_nothing(p->e);
	}
	if (k % 2 == 1) {
		tenv_advance(p->e, DELACK_MS);
		expect_ack_win(p, total, (uint32_t)(hiwat - total));
	}
	p->snd_nxt = pseq(p, total);
}

/*
 * Once the peer's FIN is in (CLOSE-WAIT), reading the data opens the
 * window, but no window update goes: nothing more can come, and the peer
 * may already have closed (a closed peer answers the update with a reset,
 * as the dispatch test over net_ring saw; BSD's tcp_output has the rule).
 */
static void
test_rcv_no_window_update_after_fin(void **state)
{
	struct tenv e;
	struct peer p;
	uint64_t winup;
	char c;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_WS);
	/* 4096 bytes (a multiple of the window scale unit), then the FIN */
	peer_at(&p, TH_ACK, 0, TS_MSS);
	peer_at(&p, TH_ACK, TS_MSS, TS_MSS);
	(void)expect_ack_at(&p, 2 * TS_MSS);		/* every second one */
	peer_at(&p, TH_ACK | TH_FIN, 2 * TS_MSS, 4096 - 2 * TS_MSS);
	expect_ack_win(&p, 4097, RCVBUF - 4096);	/* the FIN: at once */
	assert_int_equal(tstate(fd), TCP_CLOSE_WAIT);
	winup = tstat(&e, "sndwinup");
	read_upto(fd, stream(0), 4096);
	assert_int_equal(rump_sys_read(fd, &c, 1), 0);	/* the FIN */
	tenv_advance(&e, DELACK_MS);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "sndwinup"), winup);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * Receiver SWS avoidance (RFC 9293 3.8.6.2.2, MUST-39), a 16 KiB buffer
 * filled: as the application reads a little at a time, the window stays
 * shut, with no segment and no timer sending one, until the space reaches
 * min(RCV.BUFF/2, Eff.snd.MSS) = 1448; then one window update; then the
 * full buffer.
 */
static void
test_rcv_sws_avoidance(void **state)
{
	uint64_t winup;
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, PPORT, PO_ALL);
	fd = active_open_rcvbuf(&p, 8192);
	assert_int_equal(stack_window(&p, &p.last), 16384);
	fill_window(&p, 16384, 16384);
	winup = tstat(&e, "sndwinup");
	read_upto(fd, stream(0), 100);
	expect_nothing(&e);
	read_upto(fd, stream(100), MSS_TS - 1 - 100);
	expect_nothing(&e);
	tenv_advance(&e, 1000);
	expect_nothing(&e);
	read_upto(fd, stream(MSS_TS - 1), 1);
	expect_ack_win(&p, 16384, MSS_TS);
	assert_int_equal(tstat(&e, "sndwinup"), winup + 1);
	read_stream(fd, MSS_TS, 16384 - MSS_TS);
	expect_ack_win(&p, 16384, 16384);
	assert_int_equal(tstat(&e, "sndwinup"), winup + 2);
	tenv_advance(&e, 1000);
	expect_nothing(&e);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * The same with a 2 KiB buffer, where RCV.BUFF/2 = 1024 is the step:
 * after the application reads 600 bytes of a full buffer the right edge
 * must stay where it is, also in the ACK of a window probe (D3, fixed).
 */
static void
test_rcv_sws_small_buffer(void **state)
{
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, PPORT, PO_ALL);
	fd = active_open_rcvbuf(&p, 1024);
	fill_window(&p, 2048, 2048);
	read_upto(fd, stream(0), 600);
	expect_nothing(&e);
	peer_at(&p, TH_ACK, 2048, 1);		/* a probe */
	expect_ack_win(&p, 2048, 0);
	read_upto(fd, stream(600), 424);
	expect_ack_win(&p, 2048, 1024);
	read_stream(fd, 1024, 1024);
	expect_ack_win(&p, 2048, 2048);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * The right edge never moves left (RFC 9293 3.8.6, SHLD-14): the
 * application shrinks SO_RCVBUF below the window it was offered; the
 * window of the next ACKs keeps the edge, the peer may fill all of it and
 * it is all delivered; the next window update offers the new buffer.
 */
static void
test_rcv_window_never_shrinks(void **state)
{
	uint32_t last = 0;
	struct tseg s;
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, PPORT, PO_ALL);
	fd = active_open_rcvbuf(&p, 8192);
	assert_int_equal(stack_window(&p, &p.last), 16384);
	setopt_int(fd, SOL_SOCKET, SO_RCVBUF, 1024);	/* 2048 */
	peer_at(&p, TH_ACK, 0, 100);
	tenv_advance(&e, DELACK_MS);
	expect_ack_win(&p, 100, 16384 - 100);
	/* the rest of what was offered: every byte of it taken */
	for (size_t off = 100; off < 16384; off += MSS_TS) {
		size_t len = MIN(MSS_TS, 16384 - off);

		peer_at(&p, TH_ACK, off, len);
		while (tap_read(&e, &s)) {
			assert_int_equal(s.flags, TH_ACK);
			assert_int_equal(s.len, 0);
			assert_int_equal(s.ack + stack_window(&p, &s),
			    pseq(&p, 16384));
			last = s.ack;
		}
	}
	assert_int_equal(last, pseq(&p, 16384));
	tenv_advance(&e, DELACK_MS);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "rcvpackafterwin"), 0);
	p.snd_nxt = pseq(&p, 16384);
	read_stream(fd, 0, 16384);
	expect_ack_win(&p, 16384, 2048);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * The right edge with a scaled window (2^3 here): the field is the window
 * truncated to the scale (RFC 7323 2.3), which can pull the edge left by
 * less than 8 bytes (RFC 7323 2.4); rounding it up instead keeps the edge
 * but moves it right with no room behind it.  Either way by less than
 * one unit: the edge never retracts by 8 bytes or more, and never passes
 * the end of the unread buffer by 8 or more, however the data comes:
 * 5-byte segments ACKed one by one, then 1-byte segments, an ACK every 2
 * bytes (a field rounded up on every ACK, the window never closes, and the
 * peer may fill memory past SO_RCVBUF without end).
 */
static void
test_rcv_scaled_window_edge(void **state)
{
	struct edges w;
	uint32_t last;
	struct tenv e;
	struct peer p;
	size_t off;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_WS);
	w.max = p.last.ack + stack_window(&p, &p.last);
	w.limit = pseq(&p, RCVBUF);
	for (off = 0; off < 40; off += 5) {
		peer_at(&p, TH_ACK, off, 5);
		tenv_advance(&e, DELACK_MS);
		edge_check(&p, &w, expect_ack_at(&p, off + 5));
	}
	last = pseq(&p, off);
	for (; off < 4000; off++) {
		peer_atx(&p, TH_ACK, off, 1, 0, true);
		if (off % 500 == 499)
			(void)drain_acks_edges(&p, &last, &w);
	}
	(void)drain_acks_edges(&p, &last, &w);
	assert_int_equal(last, pseq(&p, off));
	assert_true(tinfo(fd).rcv_wnd < RCVBUF - off + 8);
	read_stream(fd, 0, off);
	expect_ack_win(&p, off, RCVBUF);	/* the window update */
	p.snd_nxt = pseq(&p, off);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/* ==== the sender (RFC 9293 3.8.6.1, 3.8.6.2.1, 3.7.1) ==== */

/*
 * expect_sdata: the stack's data segment with bytes [off, off+len) of
 * what the application wrote (stream(off)), at the peer's RCV.NXT.
 */
static void
expect_sdata(struct peer *p, size_t off, size_t len, bool push)
{
	const struct tseg *s;

	assert_int_equal(p->rcv_nxt, p->stack_iss + 1 + (uint32_t)off);
	s = expect_data(p, len, push);
	assert_memory_equal(s->data, stream(off), len);
}

/* expect_sprobe: a zero-window probe, byte off, which the peer refuses. */
static void
expect_sprobe(struct peer *p, size_t off)
{
	const struct tseg *s = expect_seg(p, TH_ACK, p->rcv_nxt, p->snd_nxt);

	assert_int_equal(s->len, 1);
	assert_int_equal(s->data[0], stream(off)[0]);
	p->rcv_nxt--;
}

/* The persist (and retransmission) timeout of fd now, in ms. */
static unsigned
rto_ms(int fd)
{
	unsigned rto = tinfo(fd).ti.tcpi_rto / 1000;

	return rto < 200 ? 200 : rto;
}

/*
 * write_5000: 5000 bytes written on an idle connection go at once: three
 * full segments and the tail (the connection was idle when the write
 * began: Nagle holds nothing back, as in BSD; Linux's Minshall variant
 * agrees, as no short segment is unacknowledged).
 */
static void
write_5000(struct peer *p, int fd)
{
	stack_write(fd, stream(0), 5000);
	for (int i = 0; i < 3; i++)
		expect_sdata(p, (size_t)i * MSS_TS, MSS_TS, false);
	expect_sdata(p, 3 * MSS_TS, 5000 - 3 * MSS_TS, true);
	expect_nothing(p->e);
}

/*
 * The peer's window goes to 0 with data waiting: one-byte probes, and
 * when the window opens the data goes on from the probe's byte, nothing
 * lost or sent twice but the refused probe; Nagle holds the tail until
 * the ACK.  Then the window shrinks under data in flight (RFC 9293
 * 3.8.6.2.1: the sender must cope): SND.NXT goes back to what the peer
 * acknowledged and the data resumes there.
 */
static void
test_snd_zero_window_resume(void **state)
{
	struct tenv e;
	struct peer p;
	unsigned rto;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_TS);
	write_5000(&p, fd);
	p.win = 0;
	peer_ack(&p);
	stack_write(fd, stream(5000), 2000);
	expect_nothing(&e);
	rto = rto_ms(fd);
	tenv_advance(&e, rto - 1);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	expect_sprobe(&p, 5000);
	assert_int_equal(tstat(&e, "sndprobe"), 1);
	peer_ack(&p);
	expect_nothing(&e);
	p.win = 65535;
	peer_ack(&p);
	expect_sdata(&p, 5000, MSS_TS, false);
	expect_nothing(&e);			/* Nagle: the tail waits */
	peer_ack(&p);
	expect_sdata(&p, 5000 + MSS_TS, 2000 - MSS_TS, true);
	peer_ack(&p);
	tenv_advance(&e, 4 * rto);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "sndprobe"), 1);
	assert_int_equal(tinfo(fd).bytes_acked, 7000);
	conn_abort(&p, fd);

	/* the window shrinks to 0 with 5000 bytes in flight, 1448 acked */
	peer_init(&p, &e, PPORT + 1, PO_MSS | PO_TS);
	fd = active_open(&p);
	write_5000(&p, fd);
	p.rcv_nxt = p.stack_iss + 1 + MSS_TS;	/* the rest is thrown away */
	p.win = 0;
	peer_ack(&p);
	expect_nothing(&e);
	rto = rto_ms(fd);
	tenv_advance(&e, rto);
	expect_sprobe(&p, MSS_TS);
	p.win = 65535;
	peer_ack(&p);
	expect_sdata(&p, MSS_TS, MSS_TS, false);
	expect_sdata(&p, 2 * MSS_TS, MSS_TS, false);
	expect_sdata(&p, 3 * MSS_TS, 5000 - 3 * MSS_TS, true);
	peer_ack(&p);
	expect_nothing(&e);
	assert_int_equal(tinfo(fd).bytes_acked, 5000);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * Nagle (RFC 9293 3.8.6.2.1, MUST-41 lets the application turn it off):
 * with unacknowledged data, small writes wait and go together when the
 * ACK comes; a full segment goes at once and its tail waits; with
 * TCP_NODELAY every write goes at once.
 */
static void
test_snd_nagle(void **state)
{
	const struct tseg *s;
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_TS);
	stack_write(fd, "a", 1);
	assert_int_equal(expect_data(&p, 1, true)->data[0], 'a');
	stack_write(fd, "b", 1);
	stack_write(fd, "c", 1);
	expect_nothing(&e);
	peer_ack(&p);
	s = expect_data(&p, 2, true);
	assert_memory_equal(s->data, "bc", 2);
	/* "bc" in flight: a full segment goes, the rest waits */
	stack_write(fd, stream(3), 2000);
	expect_sdata(&p, 3, MSS_TS, false);
	expect_nothing(&e);
	peer_ack(&p);
	expect_sdata(&p, 3 + MSS_TS, 2000 - MSS_TS, true);
	peer_ack(&p);
	setopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	stack_write(fd, stream(2003), 1);
	expect_sdata(&p, 2003, 1, true);
	stack_write(fd, stream(2004), 1);
	expect_sdata(&p, 2004, 1, true);
	stack_write(fd, stream(2005), 2000);
	expect_sdata(&p, 2005, MSS_TS, false);
	expect_sdata(&p, 2005 + MSS_TS, 2000 - MSS_TS, true);
	peer_ack(&p);
	expect_nothing(&e);
	/* what Nagle holds goes with the FIN at shutdown */
	setopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 0);
	stack_write(fd, stream(4005), 1);
	expect_sdata(&p, 4005, 1, true);
	stack_write(fd, stream(4006), 1);
	expect_nothing(&e);
	assert_int_equal(rump_sys_shutdown(fd, SHUT_WR), 0);
	s = expect_seg(&p, TH_ACK | TH_PUSH | TH_FIN, p.rcv_nxt, p.snd_nxt);
	assert_int_equal(s->len, 1);
	assert_int_equal(s->data[0], stream(4006)[0]);
	peer_ack(&p);
	assert_int_equal(tstate(fd), TCP_FIN_WAIT2);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * A connection with 5,000 bytes sent and acknowledged and 5,000 more
 * waiting, first behind a closed window, then behind one of 10 bytes,
 * which sender SWS avoidance holds back (nothing goes yet); *rto: the
 * retransmission timeout then.
 */
static int
sws_small_window(struct tenv *e, struct peer *p, unsigned *rto)
{
	int fd = conn_up(e, p, PO_MSS | PO_TS);

	write_5000(p, fd);
	p->win = 0;
	peer_ack(p);
	stack_write(fd, stream(5000), 5000);
	*rto = rto_ms(fd);
	p->win = 10;
	peer_ack(p);
	expect_nothing(e);
	return fd;
}

/*
 * Sender SWS avoidance (RFC 9293 3.8.6.2.1, MUST-38): with a full
 * segment waiting, a window that opens by 10 bytes draws nothing until
 * the override (persist) timeout; then full segments only, the part of
 * the window below an MSS left unused.  A peer whose largest window is
 * below an MSS gets segments of half that window or more (Fs = 1/2),
 * never less.
 */
static void
test_snd_sws_avoidance(void **state)
{
	struct tenv e;
	struct peer p;
	unsigned rto;
	int fd;

	(void)state;
	fd = sws_small_window(&e, &p, &rto);
	tenv_advance(&e, rto - 1);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	expect_sdata(&p, 5000, 10, false);
	p.win = 3000;
	peer_ack(&p);
	expect_sdata(&p, 5010, MSS_TS, false);
	expect_sdata(&p, 5010 + MSS_TS, MSS_TS, false);
	expect_nothing(&e);		/* 104 bytes of window stay unused */
	p.win = 65535;
	peer_ack(&p);
	/* nothing in flight: Nagle lets the tail go with the rest */
	expect_sdata(&p, 5010 + 2 * MSS_TS, MSS_TS, false);
	expect_sdata(&p, 5010 + 3 * MSS_TS, 10000 - 5010 - 3 * MSS_TS, true);
	peer_ack(&p);
	conn_abort(&p, fd);

	/* the peer's largest window is 1000 bytes */
	peer_init(&p, &e, PPORT + 1, PO_MSS | PO_TS);
	p.win = 1000;
	fd = active_open(&p);
	stack_write(fd, stream(0), 3000);
	expect_sdata(&p, 0, 1000, false);
	peer_ack_win(&p, p.stack_iss + 1 + 400, 1000);	/* 400 usable */
	expect_nothing(&e);
	peer_ack(&p);					/* 1000 usable */
	expect_sdata(&p, 1000, 1000, false);
	peer_ack(&p);
	expect_sdata(&p, 2000, 1000, true);
	peer_ack(&p);
	expect_nothing(&e);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * The override (persist) timeout sends the small window that sender SWS
 * avoidance held back; that is data in flight like any other.  When it
 * or its ACK is lost, the retransmission timer sends it again one RTO
 * later (RFC 6298 5.1: the timer runs while data is outstanding).  Found
 * by the soak run: the persist timer stayed armed instead, and as the
 * window was full it had nothing to send, so the connection stalled
 * until tcp.persistdrop dropped it a quarter of an hour later.
 */
static void
test_snd_sws_override_lost(void **state)
{
	struct tenv e;
	struct peer p;
	unsigned rto;
	int fd;

	(void)state;
	fd = sws_small_window(&e, &p, &rto);
	tenv_advance(&e, rto);
	expect_sdata(&p, 5000, 10, false);
	/* lost: the peer never sees it; the same 10 bytes, one RTO later */
	p.rcv_nxt -= 10;
	rto = rto_ms(fd);
	tenv_advance(&e, rto - 1);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	expect_sdata(&p, 5000, 10, false);
	assert_int_equal(tstat(&e, "rexmttimeo"), 1);
	assert_int_equal(tstat(&e, "sndrexmitpack"), 1);
	assert_int_equal(tstat(&e, "sndprobe"), 0);
	/* its ACK opens the window: new data goes on from there (slow start) */
	p.win = 65535;
	peer_ack(&p);
	expect_sdata(&p, 5010, MSS_TS, false);
	expect_nothing(&e);
	assert_int_equal(tinfo(fd).bytes_acked, 5010);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * The send window is taken only from segments not older than the
 * one that set it (RFC 9293 3.10.7.4 fifth step: SND.WL1 < SEG.SEQ, or
 * SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK): the peer closes its window
 * with data [100,200); a late duplicate of [0,100) carrying the old open
 * window must not reopen it.  It is acknowledged (tcp.rcvduppack) and
 * nothing is sent into the closed window.
 */
static void
test_snd_window_from_old_segment(void **state)
{
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_WS);
	peer_at(&p, TH_ACK | TH_PUSH, 0, 100);		/* window 65535 */
	p.win = 0;
	peer_at(&p, TH_ACK | TH_PUSH, 100, 100);	/* window 0 */
	expect_ack_at(&p, 200);
	p.snd_nxt = pseq(&p, 200);
	assert_int_equal(tinfo(fd).snd_wnd, 0);
	stack_write(fd, stream(0), 3000);
	expect_nothing(&e);
	p.win = 65535;
	peer_at(&p, TH_ACK | TH_PUSH, 0, 100);		/* late, reordered */
	expect_ack_at(&p, 200);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "rcvduppack"), 1);
	assert_int_equal(tinfo(fd).snd_wnd, 0);
	read_stream(fd, 0, 200);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * pump: the peer takes every segment the stack sends, ACKing after each
 * burst, until total bytes came, each carrying the next bytes of
 * stream(): exactly mss bytes each but the last.
 */
static void
pump(struct peer *p, size_t total, unsigned mss)
{
	size_t got = 0;
	struct tseg s;

	while (got < total) {
		unsigned n = 0;

		while (tap_read(p->e, &s)) {
			assert_int_equal(s.flags & ~TH_PUSH, TH_ACK);
			assert_int_equal(s.seq, p->rcv_nxt);
			assert_int_equal(s.ts_p, p->ts_on);
			assert_true(s.len == mss || (s.len < mss &&
			    got + s.len == total));
			assert_memory_equal(s.data, stream(got), s.len);
			got += s.len;
			p->rcv_nxt += (uint32_t)s.len;
			if (s.ts_p)
				p->ts_recent = s.tsval;
			n++;
		}
		if (n == 0)
			fail_msg("the stack stopped after %zu of %zu bytes", got,
			    total);
		peer_ack(p);
	}
	expect_nothing(p->e);
}

/*
 * The peer's MSS option bounds every segment (RFC 9293 3.7.1, RFC 6691),
 * 536 without one, the stack's own MTU when the peer offers more, 12
 * bytes less with timestamps; no segment is short but the last.
 */
static void
test_snd_mss_respected(void **state)
{
	static const struct {
		unsigned opts;
		uint16_t mss;
		unsigned seg;
	} cases[] = {
		{ PO_MSS | PO_TS, 536, 536 - TSOPT },
		{ PO_NONE, 0, 536 },
		{ PO_MSS, 9000, TS_MSS },
		{ PO_MSS | PO_WS | PO_TS, 1000, 1000 - TSOPT },
	};
	struct tenv e;

	(void)state;
	tenv_up(&e);
	for (size_t c = 0; c < NELEM(cases); c++) {
		struct peer p;
		int fd;

		peer_init(&p, &e, (uint16_t)(PPORT + c), cases[c].opts);
		p.mss = cases[c].mss;
		fd = active_open(&p);
		assert_int_equal(tinfo(fd).ti.tcpi_snd_mss, cases[c].seg);
		stack_write(fd, stream(0), 20000);
		pump(&p, 20000, cases[c].seg);
		assert_int_equal(tinfo(fd).bytes_acked, 20000);
		conn_abort(&p, fd);
	}
	tenv_down(&e);
}

/*
 * Delayed ACK (RFC 9293 3.8.6.3): an ACK due is carried by the reply the
 * application writes before the 40 ms are up, and no pure ACK follows;
 * an out-of-order segment sends the delayed ACK at once (RFC 5681 4.2).
 */
static void
test_delack_piggyback(void **state)
{
	const struct tseg *s;
	uint64_t acks;
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_ALL);
	acks = tstat(&e, "sndacks");
	peer_at(&p, TH_ACK | TH_PUSH, 0, 100);
	tenv_advance(&e, DELACK_MS - 10);
	expect_nothing(&e);
	read_stream(fd, 0, 100);
	expect_nothing(&e);
	p.snd_nxt = pseq(&p, 100);
	stack_write(fd, "pong", 4);
	s = expect_data(&p, 4, true);		/* ACK = 100 with the data */
	assert_memory_equal(s->data, "pong", 4);
	tenv_advance(&e, DELACK_MS);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "delack"), 0);
	assert_int_equal(tstat(&e, "sndacks"), acks);
	peer_ack(&p);
	/* a delayed ACK pending, then a segment out of order */
	peer_at(&p, TH_ACK, 100, 100);
	expect_nothing(&e);
	peer_at(&p, TH_ACK, 300, 100);
	expect_ack_at(&p, 200);
	peer_at(&p, TH_ACK, 200, 100);
	expect_ack_at(&p, 400);
	read_stream(fd, 100, 300);
	p.snd_nxt = pseq(&p, 400);
	tenv_advance(&e, DELACK_MS);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "delack"), 0);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * ACKs held for the next pass (rump_bus_config.ack_pass, as a DPDK port's
 * default).  p's SYN-ACK: no ACK of its own, the request written next
 * carries it.  q's: nothing written, the delayed-ACK timer sends it at
 * 40 ms, not a millisecond before.  p's FIN: its ACK waits, and goes
 * alone at the start of the receive loop's next burst (q's pure ACK).
 * q's FIN: its ACK goes with the FIN of close().  r's SYN-ACK, then its
 * FIN: the burst of the FIN sends the first held ACK; then an abort: the
 * reset, and the FIN's held ACK never goes (the connection was freed
 * while it was held).
 */
static void
test_delack_ackpass(void **state)
{
	struct rump_bus_config bc;
	struct peer p, q, r;
	struct tenv e;
	int fd, fq, fr;

	(void)state;
	rump_bus_config_default(&bc);
	bc.ack_pass = true;
	tenv_up0_bus(&e, NULL, &bc);
	tenv_advance(&e, 1000);
	peer_init(&p, &e, PPORT, PO_ALL);
	peer_init(&q, &e, PPORT + 1, PO_ALL);
	peer_init(&r, &e, PPORT + 2, PO_ALL);
	/* p: the request carries the ACK of the SYN-ACK */
	fd = stack_connect(&p);
	peer_synack_send(&p);
	expect_nothing(&e);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	assert_int_equal(tstat(&e, "ackpass"), 1);
	stack_write(fd, "ping", 4);
	expect_data(&p, 4, true);
	peer_ack(&p);
	/* q: nothing to carry it: the delayed-ACK timer, at 40 ms */
	fq = stack_connect(&q);
	peer_synack_send(&q);
	tenv_advance(&e, DELACK_MS - 1);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	expect_ack(&q);
	assert_int_equal(tstat(&e, "delack"), 1);
	assert_int_equal(tstat(&e, "ackpassout"), 0);
	/* p's FIN: held, then the next burst's pass sends it alone */
	peer_send(&p, TH_FIN | TH_ACK, NULL, 0);
	expect_nothing(&e);
	assert_int_equal(tstate(fd), TCP_CLOSE_WAIT);
	peer_ack(&q);
	expect_ack(&p);
	assert_int_equal(tstat(&e, "ackpassout"), 1);
	/* q's FIN: its ACK goes with the FIN of close() */
	peer_send(&q, TH_FIN | TH_ACK, NULL, 0);
	expect_nothing(&e);
	assert_int_equal(rump_sys_close(fq), 0);
	expect_seg(&q, TH_FIN | TH_ACK, q.rcv_nxt, q.snd_nxt);
	peer_ack(&q);
	/* r: the FIN's burst sends the SYN-ACK's ACK; the FIN's is held */
	fr = stack_connect(&r);
	peer_synack_send(&r);
	expect_nothing(&e);
	peer_send(&r, TH_FIN | TH_ACK, NULL, 0);
	expect_seg(&r, TH_ACK, r.rcv_nxt, r.snd_nxt - 1);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "ackpassout"), 2);
	/* and the connection goes while it is held */
	conn_abort(&r, fr);
	tenv_advance(&e, DELACK_MS);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "ackpass"), 6);
	assert_int_equal(tstat(&e, "ackpassout"), 2);
	assert_int_equal(tstat(&e, "delack"), 1);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/* ==== urgent data (RFC 9293 3.8.5, RFC 6093, MUST-30/31/32) ==== */

static void
oob_read(int fd, uint8_t want, int flags)
{
	uint8_t c = 0;

	assert_int_equal(rump_sys_recv(fd, &c, 1, MSG_OOB | flags), 1);
	assert_int_equal(c, want);
}

static void
oob_error(int fd, int err)
{
	uint8_t c;

	errno = 0;
	assert_int_equal(rump_sys_recv(fd, &c, 1, MSG_OOB), -1);
	assert_int_equal(errno, err);
}

/*
 * URG with the pointer after the data (RFC 6093: the pointer is the
 * sequence number after the urgent byte): the byte before it leaves the
 * stream for recv(MSG_OOB) (MSG_PEEK leaves it there), poll reports
 * POLLPRI until it is read, recv(MSG_OOB) then says EINVAL, and the
 * stream never contains it.
 */
static void
test_urg_oob_byte(void **state)
{
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_ALL);
	assert_int_equal(poll_now(fd, POLLIN | POLLPRI), 0);
	oob_error(fd, EINVAL);			/* none announced */
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 0, 3, 3);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "rcvoob"), 1);
	assert_int_equal(poll_now(fd, POLLIN | POLLPRI), POLLIN | POLLPRI);
	oob_read(fd, stream(2)[0], MSG_PEEK);
	assert_int_equal(poll_now(fd, POLLPRI), POLLPRI);
	read_stream(fd, 0, 2);
	assert_int_equal(poll_now(fd, POLLIN | POLLPRI), POLLPRI);
	oob_read(fd, stream(2)[0], 0);
	assert_int_equal(poll_now(fd, POLLIN | POLLPRI), 0);
	oob_error(fd, EINVAL);
	/* the stream goes on without it */
	peer_at(&p, TH_ACK | TH_PUSH, 3, 3);
	expect_ack_at(&p, 6);
	read_stream(fd, 3, 3);
	oob_error(fd, EINVAL);
	assert_int_equal(tstat(&e, "rcvoob"), 1);
	assert_int_equal(tstat(&e, "urgdrop"), 0);
	p.snd_nxt = pseq(&p, 6);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * The pointer points past the segment's data: the urgent byte comes in a
 * later segment (without URG) and is taken out then; until it comes
 * recv(MSG_OOB) says EWOULDBLOCK (announced, not arrived) and poll has no
 * POLLPRI (as Linux: nothing to read yet).
 */
static void
test_urg_pointer_beyond_data(void **state)
{
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_ALL);
	peer_urg(&p, TH_ACK | TH_URG, 0, 3, 10);	/* byte 9 is urgent */
	oob_error(fd, EWOULDBLOCK);
	assert_int_equal(poll_now(fd, POLLIN | POLLPRI), POLLIN);
	read_stream(fd, 0, 3);
	/* the same pointer again, from the next segment: nothing new */
	peer_urg(&p, TH_ACK | TH_URG, 3, 3, 7);
	expect_ack_at(&p, 6);
	oob_error(fd, EWOULDBLOCK);
	read_stream(fd, 3, 3);
	assert_int_equal(tstat(&e, "rcvoob"), 0);
	peer_at(&p, TH_ACK | TH_PUSH, 6, 10);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "rcvoob"), 1);
	assert_int_equal(poll_now(fd, POLLIN | POLLPRI), POLLIN | POLLPRI);
	read_upto(fd, stream(6), 3);
	read_stream(fd, 10, 6);
	oob_read(fd, stream(9)[0], 0);
	oob_error(fd, EINVAL);
	assert_int_equal(tstat(&e, "urgdrop"), 0);
	assert_int_equal(tstat(&e, "urgzero"), 0);
	p.snd_nxt = pseq(&p, 16);
	tenv_advance(&e, DELACK_MS);
	expect_ack_at(&p, 16);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * URG with pointer 0 points before the segment: ignored and counted
 * (tcp.urgzero), the data delivered as it is.  A second pointer before
 * the first urgent byte was read replaces it: that byte is lost
 * (tcp.urgdrop), as in BSD.
 */
static void
test_urg_pointer_zero_and_replaced(void **state)
{
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_ALL);
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 0, 3, 0);
	assert_int_equal(tstat(&e, "urgzero"), 1);
	assert_int_equal(poll_now(fd, POLLIN | POLLPRI), POLLIN);
	oob_error(fd, EINVAL);
	read_stream(fd, 0, 3);
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 3, 3, 1);	/* byte 3 */
	expect_ack_at(&p, 6);
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 6, 3, 3);	/* byte 8 */
	assert_int_equal(tstat(&e, "rcvoob"), 2);
	assert_int_equal(tstat(&e, "urgdrop"), 1);
	read_upto(fd, stream(4), 4);
	read_stream(fd, 9, 0);
	oob_read(fd, stream(8)[0], 0);
	oob_error(fd, EINVAL);
	p.snd_nxt = pseq(&p, 9);
	tenv_advance(&e, DELACK_MS);
	expect_ack_at(&p, 9);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * The urgent pointer comes with a segment out of order: RCV.UP moves at
 * once, and the urgent byte leaves the stream when the hole fills.
 */
static void
test_urg_out_of_order(void **state)
{
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_ALL);
	peer_urg(&p, TH_ACK | TH_URG, 3, 7, 7);		/* byte 9 */
	expect_ack_at(&p, 0);
	oob_error(fd, EWOULDBLOCK);
	peer_at(&p, TH_ACK | TH_PUSH, 0, 3);
	expect_ack_at(&p, 10);
	assert_int_equal(tstat(&e, "rcvoob"), 1);
	read_stream(fd, 0, 9);
	oob_read(fd, stream(9)[0], 0);
	p.snd_nxt = pseq(&p, 10);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/* SO_OOBINLINE: the urgent byte stays in the stream; MSG_OOB is EINVAL. */
static void
test_urg_oobinline(void **state)
{
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_ALL);
	setopt_int(fd, SOL_SOCKET, SO_OOBINLINE, 1);
	assert_int_equal(getopt_int(fd, SOL_SOCKET, SO_OOBINLINE), 1);
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 0, 3, 3);
	oob_error(fd, EINVAL);
	read_stream(fd, 0, 3);
	peer_urg(&p, TH_ACK | TH_URG, 3, 3, 10);
	expect_ack_at(&p, 6);
	peer_at(&p, TH_ACK | TH_PUSH, 6, 10);
	read_stream(fd, 3, 13);
	oob_error(fd, EINVAL);
	assert_int_equal(tstat(&e, "rcvoob"), 0);
	p.snd_nxt = pseq(&p, 16);
	tenv_advance(&e, DELACK_MS);
	expect_ack_at(&p, 16);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * MUST-32 (RFC 9293 3.8.5): the application is told when an urgent
 * pointer arrives.  With SO_OOBINLINE too: poll reports POLLPRI until the
 * urgent byte is read (as Linux and BSD do).
 */
static void
test_urg_oobinline_pollpri(void **state)
{
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_ALL);
	setopt_int(fd, SOL_SOCKET, SO_OOBINLINE, 1);
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 0, 3, 3);
	assert_int_equal(poll_now(fd, POLLIN | POLLPRI), POLLIN | POLLPRI);
	read_stream(fd, 0, 3);
	assert_int_equal(poll_now(fd, POLLIN | POLLPRI), 0);
	p.snd_nxt = pseq(&p, 3);
	tenv_advance(&e, DELACK_MS);
	expect_ack_at(&p, 3);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/* SIOCATMARK of fd: 1 at the urgent mark, 0 before it. */
static int
atmark(int fd)
{
	int v = -1;

	assert_int_equal(rump_sys_ioctl(fd, SIOCATMARK, &v), 0);
	return v;
}

/* A read of up to ask bytes: exactly [off, off + len) of the stream. */
static void
read_short(int fd, size_t ask, size_t off, size_t len, int flags)
{
	uint8_t b[100];

	assert_true(ask <= sizeof(b));
	assert_int_equal(rump_sys_recv(fd, b, ask, flags), (ssize_t)len);
	assert_memory_equal(b, stream(off), len);
}

/*
 * The urgent mark (BSD's SIOCATMARK, Linux's too): a read stops at the
 * urgent byte's place in the stream, and SIOCATMARK then says 1 until a
 * byte past it is read.  Ten bytes, the urgent byte the fifth: without
 * SO_OOBINLINE it is out of the stream, and the reads give 0-3, then
 * 5-9; with it, 0-3, then 4-9 (the urgent byte first, and POLLPRI ends
 * when it is read).  A peek stops at the mark too and moves nothing; an
 * urgent byte first in the stream puts the reader at the mark at once;
 * shutdown(SHUT_RD) leaves no mark.
 */
static void
test_urg_atmark(void **state)
{
	struct tenv e;
	struct peer p;
	int fd, v;

	(void)state;
	fd = conn_up(&e, &p, PO_ALL);
	assert_int_equal(atmark(fd), 0);
	errno = 0;
	assert_int_equal(rump_sys_ioctl(fd, SIOCATMARK, NULL), -1);
	assert_int_equal(errno, EFAULT);
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 0, 10, 5);	/* byte 4 */
	assert_int_equal(atmark(fd), 0);
	read_short(fd, 100, 0, 4, MSG_PEEK);
	assert_int_equal(atmark(fd), 0);
	read_short(fd, 2, 0, 2, 0);
	read_short(fd, 100, 2, 2, MSG_WAITALL);
	assert_int_equal(atmark(fd), 1);
	assert_int_equal(poll_now(fd, POLLIN | POLLPRI), POLLIN | POLLPRI);
	oob_read(fd, stream(4)[0], 0);
	assert_int_equal(atmark(fd), 1);
	read_short(fd, 100, 5, 5, 0);
	assert_int_equal(atmark(fd), 0);
	assert_int_equal(poll_now(fd, POLLIN | POLLPRI), 0);

	/* inline: the byte at the mark is the urgent byte */
	setopt_int(fd, SOL_SOCKET, SO_OOBINLINE, 1);
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 10, 10, 5);	/* byte 14 */
	assert_int_equal(atmark(fd), 0);
	read_short(fd, 100, 10, 4, 0);
	assert_int_equal(atmark(fd), 1);
	assert_int_equal(poll_now(fd, POLLIN | POLLPRI), POLLIN | POLLPRI);
	read_short(fd, 100, 14, 6, 0);
	assert_int_equal(atmark(fd), 0);
	assert_int_equal(poll_now(fd, POLLIN | POLLPRI), 0);

	/* the urgent byte first: at the mark at once */
	setopt_int(fd, SOL_SOCKET, SO_OOBINLINE, 0);
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 20, 3, 1);	/* byte 20 */
	assert_int_equal(atmark(fd), 1);
	oob_read(fd, stream(20)[0], 0);
	read_short(fd, 100, 21, 2, 0);
	assert_int_equal(atmark(fd), 0);
	assert_int_equal(tstat(&e, "rcvoob"), 2);
	/* shut down for reading: no mark is left in what went */
	setopt_int(fd, SOL_SOCKET, SO_OOBINLINE, 1);
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 23, 3, 1);	/* byte 23 */
	assert_int_equal(atmark(fd), 1);
	assert_int_equal(poll_now(fd, POLLPRI), POLLPRI);
	assert_int_equal(rump_sys_shutdown(fd, SHUT_RD), 0);
	assert_int_equal(atmark(fd), 0);
	assert_int_equal(poll_now(fd, POLLPRI), 0);
	p.snd_nxt = pseq(&p, 26);
	tenv_advance(&e, DELACK_MS);
	(void)drain_acks(&p, &(uint32_t){ 0 });
	conn_abort(&p, fd);
	/* a datagram socket is never at a mark */
	fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	v = -1;
	assert_int_equal(rump_sys_ioctl(fd, SIOCATMARK, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rump_sys_close(fd), 0);
	tenv_down(&e);
}

/*
 * The largest pointer, 0xffff: the urgent byte is 65534 bytes on, after
 * 45 more segments that carry URG with the same pointer and the data in
 * between; the stream is every byte but that one.
 */
static void
test_urg_pointer_ffff(void **state)
{
	static uint8_t want[65535 + 100];
	const size_t total = sizeof(want) + 1;
	uint32_t last;
	struct tenv e;
	struct peer p;
	size_t off;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_WS);
	peer_urg(&p, TH_ACK | TH_URG, 0, 3, 0xffff);
	for (off = 3; off < total; off += TS_MSS) {
		size_t len = MIN(TS_MSS, total - off);

		if (off < 65535)
			peer_urg(&p, TH_ACK | TH_URG, off, len,
			    (uint16_t)(65535 - off));
		else
			peer_at(&p, TH_ACK, off, len);
	}
	last = pseq(&p, 0);
	(void)drain_acks(&p, &last);
	assert_int_equal(tstat(&e, "rcvoob"), 1);
	memcpy(want, stream(0), 65534);
	memcpy(want + 65534, stream(65535), total - 65535);
	read_expect(fd, want, sizeof(want));
	oob_read(fd, stream(65534)[0], 0);
	oob_error(fd, EINVAL);
	tenv_advance(&e, DELACK_MS);
	(void)drain_acks(&p, &last);
	assert_int_equal(last, pseq(&p, total));
	p.snd_nxt = pseq(&p, total);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * Once the peer's FIN is in (CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT)
 * the urgent pointer means nothing (RFC 9293 3.10.7.4 sixth step: ignore
 * the URG): no MSG_OOB byte, no POLLPRI, no counter, no answer.
 */
static void
test_urg_ignored_after_fin(void **state)
{
	static const int states[] = {
		TCP_CLOSE_WAIT, TCP_CLOSING, TCP_LAST_ACK, TCP_TIME_WAIT,
	};
	struct tenv e;

	(void)state;
	tenv_up(&e);
	for (size_t i = 0; i < NELEM(states); i++) {
		int st = states[i], fd;
		struct peer p;
		struct raw r = { .flags = TH_ACK | TH_URG, .urp = 5 };

		peer_init(&p, &e, (uint16_t)(PPORT + i), PO_MSS | PO_WS);
		fd = active_open(&p);
		to_state(&p, fd, st);
		r.seq = p.snd_nxt;
		/* leave the stack's FIN unacknowledged where it is */
		r.ack = (st == TCP_CLOSING || st == TCP_LAST_ACK) ?
		    p.rcv_nxt - 1 : p.rcv_nxt;
		r.win = p.win;
		raw_send(&p, &r);
		expect_nothing(&e);
		assert_int_equal(tstate(fd), st);
		oob_error(fd, EINVAL);
		assert_int_equal(poll_now(fd, POLLPRI) & POLLPRI, 0);
		conn_abort(&p, fd);
	}
	assert_int_equal(tstat(&e, "urgzero"), 0);
	assert_int_equal(tstat(&e, "rcvoob"), 0);
	assert_int_equal(tstat(&e, "urgdrop"), 0);
	tenv_down(&e);
}

/*
 * send(MSG_OOB): the data goes at once, past Nagle and together with what
 * Nagle held, with URG and the pointer after its last byte (RFC 6093, as
 * BSD and Linux send it).  Until the urgent byte is acknowledged the
 * connection is in urgent mode and what is written goes at once (BSD);
 * segments after the pointer carry no URG.
 */
static void
test_urg_send_oob(void **state)
{
	const struct tseg *s;
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_TS);
	stack_write(fd, "ab", 2);
	s = expect_data(&p, 2, true);
	assert_int_equal(s->urp, 0);
	stack_write(fd, "xy", 2);
	expect_nothing(&e);			/* Nagle */
	assert_int_equal(rump_sys_send(fd, "z", 1, MSG_OOB), 1);
	s = expect_seg(&p, TH_ACK | TH_PUSH | TH_URG, p.rcv_nxt, p.snd_nxt);
	assert_int_equal(s->len, 3);
	assert_memory_equal(s->data, "xyz", 3);
	assert_int_equal(s->urp, 3);
	stack_write(fd, "w", 1);		/* urgent mode */
	s = expect_data(&p, 1, true);
	assert_int_equal(s->data[0], 'w');
	assert_int_equal(s->urp, 0);
	peer_ack(&p);
	expect_nothing(&e);
	assert_int_equal(rump_sys_send(fd, "c", 1, MSG_OOB), 1);
	s = expect_seg(&p, TH_ACK | TH_PUSH | TH_URG, p.rcv_nxt, p.snd_nxt);
	assert_int_equal(s->len, 1);
	assert_int_equal(s->data[0], 'c');
	assert_int_equal(s->urp, 1);
	assert_int_equal(tstat(&e, "sndurg"), 2);
	peer_ack(&p);
	stack_write(fd, "v", 1);
	s = expect_data(&p, 1, true);
	assert_int_equal(s->urp, 0);
	stack_write(fd, "u", 1);
	expect_nothing(&e);			/* Nagle again */
	peer_ack(&p);
	assert_int_equal(expect_data(&p, 1, true)->data[0], 'u');
	peer_ack(&p);
	assert_int_equal(tstat(&e, "sndurg"), 2);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * send(MSG_OOB) is bounded as a plain send is, but for 1024 bytes of room
 * past SO_SNDBUF (BSD's), so that an urgent byte still goes when the
 * buffer is full: with a buffer of 4096 (SO_SNDBUF 2048, doubled) filled
 * by a plain send, a 1-byte urgent send is taken, then 1023 bytes of a
 * 20000-byte one, then nothing.  The urgent pointer follows each piece:
 * after the byte, then after the 1023; nothing sent before it is urgent.
 */
static void
test_urg_send_oob_bounded(void **state)
{
	static char buf[20000];
	struct tseg s;
	struct tenv e;
	struct peer p;
	uint32_t start, got = 0;
	bool byte_seen = false;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_TS);
	setopt_int(fd, SOL_SOCKET, SO_SNDBUF, 2048);
	memset(buf, 'u', sizeof(buf));
	start = p.rcv_nxt;
	assert_int_equal(rump_sys_send(fd, buf, sizeof(buf), MSG_DONTWAIT),
	    4096);
	assert_int_equal(rump_sys_send(fd, buf, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(rump_sys_send(fd, "!", 1, MSG_OOB | MSG_DONTWAIT),
	    1);
	assert_int_equal(rump_sys_send(fd, buf, sizeof(buf),
	    MSG_OOB | MSG_DONTWAIT), 1023);
	assert_int_equal(rump_sys_send(fd, "x", 1, MSG_OOB | MSG_DONTWAIT),
	    -1);
	assert_int_equal(errno, EAGAIN);
	while (got < 5120) {
		uint32_t end;

		assert_true(tap_read(&e, &s));
		assert_int_equal(s.seq, start + got);
		assert_true(s.len > 0);
		got += (uint32_t)s.len;
		end = got;
		if (end <= 4096)
			assert_int_equal(s.flags & TH_URG, 0);
		if (end == 4097) {
			assert_true(s.flags & TH_URG);
			assert_int_equal(s.seq + s.urp, start + 4097);
			byte_seen = true;
		}
		if (end == 5120) {
			assert_true(s.flags & TH_URG);
			assert_int_equal(s.seq + s.urp, start + 5120);
		}
	}
	assert_int_equal(got, 5120);
	assert_true(byte_seen);
	p.rcv_nxt = start + got;
	expect_nothing(&e);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * Urgent data from a peer whose initial sequence number is in the upper
 * half of the space seen from 0 (0x90000000, 0xc0000000), by both
 * opens: RCV.UP starts at IRS+1 (D6, fixed: it started at 0, and then
 * SEQ_GT(pointer, RCV.UP) was false and every urgent pointer ignored).
 */
static void
test_urg_peer_isn_upper_half(void **state)
{
	struct tenv e;
	struct peer p;
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, PPORT, PO_ALL);
	p.iss = p.snd_nxt = 0x90000000u;
	fd = active_open(&p);
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 0, 3, 3);
	read_stream(fd, 0, 2);
	oob_read(fd, stream(2)[0], 0);
	p.snd_nxt = pseq(&p, 3);
	conn_abort(&p, fd);
	/* and through a listener */
	lfd = tcp_listener(LPORT, 4);
	peer_init(&p, &e, PPORT + 1, PO_ALL);
	p.sport = LPORT;
	p.iss = p.snd_nxt = 0xc0000000u;
	fd = passive_open(&p, lfd);
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 0, 3, 3);
	read_stream(fd, 0, 2);
	/*
	 * More than the SYN-ACK's 65535 at last, with the delayed ACK of
	 * the 3 bytes (not in a window update of its own: the peer may
	 * still send 65532)
	 */
	expect_nothing(&e);
	tenv_advance(&e, DELACK_MS);
	expect_ack_win(&p, 3, RCVBUF);
	oob_read(fd, stream(2)[0], 0);
	p.snd_nxt = pseq(&p, 3);
	conn_abort(&p, fd);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/* ==== malformed segments ==== */

/*
 * A data segment of the connection with a data offset, IP length or
 * frame length of the caller's choosing, and correct checksums.
 */
static void
send_bad(struct peer *p, const struct raw *shape)
{
	struct raw r = *shape;

	r.flags = TH_ACK | TH_PUSH;
	r.seq = p->snd_nxt;
	r.ack = p->rcv_nxt;
	r.win = p->win;
	raw_send(p, &r);
	expect_nothing(p->e);
}

/*
 * The data offset below 5 or past the end of the segment (tcp.rcvbadoff),
 * a TCP header shorter than 20 bytes (tcp.rcvshort, whether the frame or
 * the IP length cuts it), a wrong checksum (tcp.rcvbadsum); IP lengths
 * below the IP header (ip.badlen) or beyond the frame (ip.tooshort) never
 * reach TCP.  Each is dropped without an answer, nothing is delivered and
 * the connection goes on.
 */
static void
test_bad_headers(void **state)
{
	static const uint8_t four[4] = { 1, 2, 3, 4 };
	static const struct {
		const char *counter;	/* tcp.<name>, or ip.<name> */
		bool ip;
		struct raw r;
	} cases[] = {
		{ "rcvbadoff", false, { .doff = 4, .data = four, .len = 4 } },
		{ "rcvbadoff", false, { .doff = 0xf, .data = four, .len = 4 } },
		{ "rcvbadoff", false, { .doff = 6, .data = four, .len = 2 } },
		{ "rcvbadoff", false, { .doff = 1, .data = NULL, .len = 0 } },
		{ "rcvshort", false, { .data = four, .len = 4,
		    .ip_len = 20 + 19, .tcp_bytes = 19 } },
		{ "rcvshort", false, { .data = four, .len = 4,
		    .ip_len = 20 + 10 } },
		{ "rcvbadsum", false, { .data = four, .len = 4,
		    .badsum = true } },
		{ "badlen", true, { .data = four, .len = 4, .ip_len = 16 } },
		{ "tooshort", true, { .data = four, .len = 4,
		    .ip_len = 20 + 20 + 100 } },
	};
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_WS);
	for (size_t c = 0; c < NELEM(cases); c++) {
		const char *n = cases[c].counter;
		uint64_t v = cases[c].ip ? ipstat(&e, n) : tstat(&e, n);
		uint64_t total = tstat(&e, "rcvtotal");

		send_bad(&p, &cases[c].r);
		if (cases[c].ip) {
			assert_int_equal(ipstat(&e, n), v + 1);
			assert_int_equal(tstat(&e, "rcvtotal"), total);
		} else {
			assert_int_equal(tstat(&e, n), v + 1);
			assert_int_equal(tstat(&e, "rcvtotal"), total + 1);
		}
		stack_read_none(fd);
		assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	}
	assert_int_equal(tstat(&e, "rcvbadoff"), 4);
	assert_int_equal(tstat(&e, "rcvshort"), 2);
	assert_int_equal(tstat(&e, "rcvbadsum"), 1);
	assert_int_equal(tstat(&e, "rcvpack"), 0);
	/* the connection still takes good data */
	peer_at(&p, TH_ACK | TH_PUSH, 0, 4);
	read_stream(fd, 0, 4);
	p.snd_nxt = pseq(&p, 4);
	tenv_advance(&e, DELACK_MS);
	expect_ack(&p);
	conn_abort(&p, fd);
	tenv_down(&e);
}

struct optcase {
	const char *what;
	uint8_t opt[40];
	size_t len;		/* a multiple of 4 */
	bool dropped;		/* tcp.rcvbadopt, else taken */
};

/*
 * Option lists (RFC 9293 3.1, MUST-7: any length must be handled): a
 * length of 0 or 1 or one running past the header makes the list
 * malformed and the segment is dropped whole (tcp.rcvbadopt); NOPs and
 * unknown options anywhere, unaligned layouts and anything after EOL are
 * fine.  Each test segment carries one byte of data.
 */
static void
test_option_lists(void **state)
{
	static const struct optcase cases[] = {
		{ "length 0", { 0x4c, 0, 0, 0 }, 4, true },
		{ "length 1", { 0x4c, 1, 0, 0 }, 4, true },
		{ "MSS of length 1", { TCPOPT_MAXSEG, 1, 0, 0 }, 4, true },
		{ "past the header", { 1, 1, 0x4c, 6 }, 4, true },
		{ "a kind with no length byte", { 1, 1, 1, TCPOPT_WINDOW }, 4,
		    true },
		{ "timestamp past the header", { 1, 1, TCPOPT_TIMESTAMP, 10,
		    0, 0, 0, 1 }, 8, true },
		{ "unknown of 40", { 0x4c, 40 }, 40, false },
		{ "unknown of 41", { 0x4c, 41 }, 40, true },
		{ "only NOPs", { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		    1, 1, 1, 1, 1 }, 40, false },
		{ "EOL, then garbage", { 0, 0x4c, 0, 1 }, 4, false },
		{ "EOL in the middle", { 1, 0, 0x4c, 1 }, 4, false },
		{ "unknown 3 bytes, EOL", { 0x4c, 3, 9, 0 }, 4, false },
		{ "odd layout", { 1, 0x4c, 2, 1, 1, 0x4d, 5, 1, 2, 3, 1, 0 },
		    12, false },
		{ "SACK block, odd place", { 1, TCPOPT_SACK, 10, 0, 0, 0, 1,
		    0, 0, 0, 2, 1 }, 12, false },
	};
	uint64_t bad = 0;
	struct tenv e;
	struct peer p;
	size_t off = 0;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_WS);
	for (size_t c = 0; c < NELEM(cases); c++) {
		struct raw r = {
			.flags = TH_ACK | TH_PUSH, .seq = pseq(&p, off),
			.ack = p.rcv_nxt, .win = p.win, .opt = cases[c].opt,
			.optlen = cases[c].len, .data = stream(off), .len = 1,
		};

		raw_send(&p, &r);
		expect_nothing(&e);
		if (cases[c].dropped) {
			bad++;
			stack_read_none(fd);
		} else {
			read_stream(fd, off, 1);
			off++;
			tenv_advance(&e, DELACK_MS);
			expect_ack_at(&p, off);
		}
		if (tstat(&e, "rcvbadopt") != bad)
			fail_msg("%s: rcvbadopt %llu, expected %llu",
			    cases[c].what, (unsigned long long)tstat(&e,
			    "rcvbadopt"), (unsigned long long)bad);
	}
	assert_int_equal(tstat(&e, "rcvoptignored"), 0);
	p.snd_nxt = pseq(&p, off);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/* A timestamp option at o: kind, len, TSval, TSecr (len - 10 more bytes). */
static size_t
ts_at(uint8_t *o, uint8_t len, uint32_t tsval, uint32_t tsecr)
{
	memset(o, 0, len);
	o[0] = TCPOPT_TIMESTAMP;
	o[1] = len;
	put32(o + 2, tsval);
	put32(o + 6, tsecr);
	return len;
}

/*
 * Timestamps agreed: an unaligned timestamp option is read right (its
 * TSval is echoed); one after EOL is not there, and one of length 9 or
 * 11 is ignored (tcp.rcvoptignored): the segment then has none and is
 * dropped (RFC 7323 3.2, tcp.rcvnots).
 */
static void
test_option_timestamp_lengths(void **state)
{
	uint8_t o[40];
	struct tenv e;
	struct peer p;
	struct raw r;
	size_t n;
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_ALL);
	memset(&r, 0, sizeof(r));
	r.flags = TH_ACK | TH_PUSH;
	r.seq = pseq(&p, 0);
	r.ack = p.rcv_nxt;
	r.win = p.win;
	r.opt = o;
	r.data = stream(0);
	r.len = 1;
	/* NOP, TS, NOP: TSval at an odd offset */
	o[0] = TCPOPT_NOP;
	n = 1 + ts_at(o + 1, 10, 0x01020304, p.ts_recent);
	o[n++] = TCPOPT_NOP;
	r.optlen = n;
	raw_send(&p, &r);
	read_stream(fd, 0, 1);
	tenv_advance(&e, DELACK_MS);
	assert_int_equal(expect_ack_at(&p, 1)->tsecr, 0x01020304);
	p.tsval = 0x01020305;
	r.seq = pseq(&p, 1);
	r.data = stream(1);
	/* EOL first: the timestamp after it does not exist */
	o[0] = TCPOPT_EOL;
	o[1] = TCPOPT_NOP;
	r.optlen = 2 + ts_at(o + 2, 10, p.tsval, p.ts_recent);
	raw_send(&p, &r);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "rcvnots"), 1);
	/* lengths 9 and 11: ignored */
	(void)ts_at(o, 9, p.tsval, p.ts_recent);
	o[9] = o[10] = o[11] = TCPOPT_NOP;
	r.optlen = 12;
	raw_send(&p, &r);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "rcvoptignored"), 1);
	assert_int_equal(tstat(&e, "rcvnots"), 2);
	(void)ts_at(o, 11, p.tsval, p.ts_recent);
	o[11] = TCPOPT_NOP;
	r.optlen = 12;
	raw_send(&p, &r);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "rcvoptignored"), 2);
	assert_int_equal(tstat(&e, "rcvnots"), 3);
	assert_int_equal(tstat(&e, "rcvbadopt"), 0);
	stack_read_none(fd);
	/* the right one is taken */
	peer_at(&p, TH_ACK | TH_PUSH, 1, 1);
	read_stream(fd, 1, 1);
	p.snd_nxt = pseq(&p, 2);
	tenv_advance(&e, DELACK_MS);
	expect_ack_at(&p, 2);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * syn_with_options: the peer's SYN to the listener with option bytes o
 * (n, a multiple of 4); the peer's p->opts say what the stack should
 * have understood of them (the SYN-ACK mirrors that, tcpseg.h checks).
 * Then the handshake completes and accept() returns the connection.
 */
static int
syn_with_options(struct peer *p, int lfd, const uint8_t *o, size_t n)
{
	int fd;

	peer_raw(p, TH_SYN, p->iss, 0, p->win, o, n, NULL, 0);
	p->snd_nxt = p->iss + 1;
	expect_synack(p);
	peer_ack(p);
	expect_nothing(p->e);
	fd = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	return fd;
}

/*
 * Options of a SYN: MSS of length 3, window scale of length 4, a
 * timestamp of length 11 and SACK-permitted of length 3 are ignored
 * (tcp.rcvoptignored): 536-byte segments, no scaling, no timestamps; a
 * window scale of 255 is taken as 14 (RFC 7323 2.3); a malformed list
 * drops the SYN (tcp.rcvbadopt, no SYN-ACK, nothing to accept).  MSS and
 * window scale outside a SYN are ignored.
 */
static void
test_option_syn_lengths(void **state)
{
	static const uint8_t mss3[] = { TCPOPT_MAXSEG, 3, 5, TCPOPT_NOP };
	static const uint8_t ws4[] = { TCPOPT_WINDOW, 4, 7, 0 };
	static const uint8_t ws255[] = { TCPOPT_NOP, TCPOPT_WINDOW, 3, 255 };
	static const uint8_t sack3[] = { TCPOPT_SACK_PERMITTED, 3, 0, 1 };
	static const uint8_t bad[] = { TCPOPT_MAXSEG, 4, 5, 0xb4, 0x4c, 0,
	    0, 0 };
	static const uint8_t late[] = { TCPOPT_MAXSEG, 4, 0, 100, 1,
	    TCPOPT_WINDOW, 3, 0 };
	uint8_t ts11[12];
	struct tenv e;
	struct peer p;
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(LPORT, 4);
	peer_init(&p, &e, PPORT, PO_NONE);
	p.sport = LPORT;
	fd = syn_with_options(&p, lfd, mss3, sizeof(mss3));
	assert_int_equal(tstat(&e, "rcvoptignored"), 1);
	assert_int_equal(tinfo(fd).ti.tcpi_snd_mss, 536);
	conn_abort(&p, fd);

	peer_init(&p, &e, PPORT + 1, PO_NONE);
	p.sport = LPORT;
	fd = syn_with_options(&p, lfd, ws4, sizeof(ws4));
	assert_int_equal(tstat(&e, "rcvoptignored"), 2);
	assert_int_equal(tinfo(fd).ti.tcpi_options & TCPI_OPT_WSCALE, 0);
	conn_abort(&p, fd);

	peer_init(&p, &e, PPORT + 2, PO_WS);
	p.sport = LPORT;
	fd = syn_with_options(&p, lfd, ws255, sizeof(ws255));
	assert_int_equal(tinfo(fd).ti.tcpi_snd_wscale, 14);
	assert_int_equal(tstat(&e, "rcvoptignored"), 2);
	conn_abort(&p, fd);

	peer_init(&p, &e, PPORT + 3, PO_NONE);
	p.sport = LPORT;
	(void)ts_at(ts11, 11, 77, 0);
	ts11[11] = TCPOPT_NOP;
	fd = syn_with_options(&p, lfd, ts11, sizeof(ts11));
	assert_int_equal(tstat(&e, "rcvoptignored"), 3);
	assert_int_equal(tinfo(fd).ti.tcpi_options & TCPI_OPT_TIMESTAMPS, 0);
	conn_abort(&p, fd);

	peer_init(&p, &e, PPORT + 4, PO_NONE);
	p.sport = LPORT;
	fd = syn_with_options(&p, lfd, sack3, sizeof(sack3));
	assert_int_equal(tstat(&e, "rcvoptignored"), 4);
	/* MSS and window scale on data: ignored, not counted */
	peer_raw(&p, TH_ACK | TH_PUSH, pseq(&p, 0), p.rcv_nxt, p.win, late,
	    sizeof(late), stream(0), 1);
	read_stream(fd, 0, 1);
	p.snd_nxt = pseq(&p, 1);
	assert_int_equal(tinfo(fd).ti.tcpi_snd_mss, 536);
	assert_int_equal(tstat(&e, "rcvoptignored"), 4);
	tenv_advance(&e, DELACK_MS);
	expect_ack(&p);
	conn_abort(&p, fd);

	/* a malformed list: the SYN is dropped whole */
	peer_init(&p, &e, PPORT + 5, PO_MSS);
	p.sport = LPORT;
	peer_raw(&p, TH_SYN, p.iss, 0, p.win, bad, sizeof(bad), NULL, 0);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "rcvbadopt"), 1);
	assert_int_equal(tstat(&e, "accepts"), 5);
	errno = 0;
	assert_int_equal(rump_sys_accept(lfd, NULL, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

static const uint8_t eth_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t eth_mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

/*
 * RFC 9293 3.10.7.2 and RFC 1122 4.2.3.10: nothing to or from a broadcast
 * or multicast address, at the link or IP level, nor from 0.0.0.0: a SYN
 * to a listener on INADDR_ANY or an ACK to a closed port is dropped
 * without an answer (tcp.rcvbadaddr).  Martian sources never reach TCP
 * (ip.badaddr).
 */
static void
test_bad_addresses(void **state)
{
	static const struct {
		const uint8_t *eth_dst;
		const char *src, *dst;
		bool ip;		/* IP's drop, not TCP's */
	} cases[] = {
		{ eth_bcast, NULL, NULL, false },
		{ eth_mcast, NULL, NULL, false },
		{ NULL, NULL, "198.18.0.255", false },
		{ eth_bcast, NULL, "255.255.255.255", false },
		{ eth_mcast, NULL, "224.0.0.1", false },
		{ NULL, "0.0.0.0", NULL, false },
		{ NULL, "224.1.2.3", NULL, true },
		{ NULL, "198.18.0.255", NULL, true },
		{ NULL, "255.255.255.255", NULL, true },
	};
	struct sockaddr_in any = sa("0.0.0.0", LPORT);
	uint64_t tcpbad = 0, ipbad;
	struct tenv e;
	struct peer p;
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	ipbad = ipstat(&e, "badaddr");
	lfd = tcp_socket();
	assert_int_equal(rump_sys_bind(lfd, (struct sockaddr *)&any,
	    sizeof(any)), 0);
	assert_int_equal(rump_sys_listen(lfd, 4), 0);
	peer_init(&p, &e, PPORT, PO_NONE);
	for (size_t c = 0; c < NELEM(cases); c++) {
		struct raw r = {
			.eth_dst = cases[c].eth_dst, .src = cases[c].src,
			.dst = cases[c].dst, .win = 65535,
		};

		p.sport = LPORT;
		r.flags = TH_SYN;
		r.seq = p.iss;
		raw_send(&p, &r);
		p.sport = 9;
		r.flags = TH_ACK | TH_PUSH;
		r.ack = 1000;
		r.data = "x";
		r.len = 1;
		raw_send(&p, &r);
		expect_nothing(&e);
		if (cases[c].ip)
			ipbad += 2;
		else
			tcpbad += 2;
		assert_int_equal(tstat(&e, "rcvbadaddr"), tcpbad);
		assert_int_equal(ipstat(&e, "badaddr"), ipbad);
	}
	assert_int_equal(tstat(&e, "noport"), 0);
	assert_int_equal(tstat(&e, "accepts"), 0);
	/* from and to the right addresses: a connection */
	p.sport = LPORT;
	fd = passive_open(&p, lfd);
	conn_abort(&p, fd);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/* ==== every flag combination in every state ==== */

/* What the peer sends, at its SND.NXT, with ACK of its RCV.NXT if any. */
enum kind {
	K_SYNFIN,		/* SYN+FIN */
	K_SYNRST,		/* SYN+RST */
	K_FINNOACK,		/* FIN without ACK */
	K_DATANOACK,		/* one byte, PSH, no ACK */
	K_DATA,			/* one byte, ACK+PSH */
	K_FIN,			/* FIN+ACK; a resent FIN if it sent one */
	K_ACK,			/* a pure ACK */
};

static const char *const kind_name[] = {
	"SYN+FIN", "SYN+RST", "FIN without ACK", "data without ACK", "data",
	"FIN", "ACK",
};

/* What the stack answers. */
enum resp {
	R_NONE,
	R_ACK,			/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> now */
	R_DELACK,		/* the same after the delayed-ACK time */
	R_SYNACK,		/* <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
	R_RST,			/* <SEQ=SEG.ACK><CTL=RST> */
	R_RSTACK,		/* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
};

struct row {
	int state;		/* Linux numbering; TCP_CLOSE: no socket */
	enum kind kind;
	enum resp resp;
	unsigned takes;		/* sequence numbers the stack takes */
	const char *counters;	/* each +1, every other watched one still */
	int after;		/* the state after */
	int err;		/* what read() says after, 0: nothing */
	const char *bug;	/* a known bug: skipped until fixed */
};

#define ST_CLOSED TCP_CLOSE
#define CHALLENGE "synchallenge challengeack"

static const struct row rows[] = {
	/* RFC 9293 3.10.7.1: no connection; an RST for all but an RST */
	{ ST_CLOSED, K_SYNFIN, R_RSTACK, 0, "noport", ST_CLOSED, 0, NULL },
	{ ST_CLOSED, K_SYNRST, R_NONE, 0, "noport", ST_CLOSED, 0, NULL },
	{ ST_CLOSED, K_FINNOACK, R_RSTACK, 0, "noport", ST_CLOSED, 0, NULL },
	{ ST_CLOSED, K_DATANOACK, R_RSTACK, 0, "noport", ST_CLOSED, 0, NULL },
	{ ST_CLOSED, K_DATA, R_RST, 0, "noport", ST_CLOSED, 0, NULL },
	{ ST_CLOSED, K_FIN, R_RST, 0, "noport", ST_CLOSED, 0, NULL },
	{ ST_CLOSED, K_ACK, R_RST, 0, "noport", ST_CLOSED, 0, NULL },
	/* 3.10.7.2: LISTEN ignores RST, resets ACK, wants a SYN */
	{ TCP_LISTEN, K_SYNFIN, R_NONE, 0, "synfin", TCP_LISTEN, 0, NULL },
	{ TCP_LISTEN, K_SYNRST, R_NONE, 0, "badrst", TCP_LISTEN, 0, NULL },
	{ TCP_LISTEN, K_FINNOACK, R_NONE, 0, "badsyn", TCP_LISTEN, 0, NULL },
	{ TCP_LISTEN, K_DATANOACK, R_NONE, 0, "badsyn", TCP_LISTEN, 0, NULL },
	{ TCP_LISTEN, K_DATA, R_RST, 0, "badack", TCP_LISTEN, 0, NULL },
	{ TCP_LISTEN, K_FIN, R_RST, 0, "badack", TCP_LISTEN, 0, NULL },
	{ TCP_LISTEN, K_ACK, R_RST, 0, "badack", TCP_LISTEN, 0, NULL },
	/*
	 * 3.10.7.3: SYN-SENT (the ACK, when there is one, is acceptable):
	 * an RST needs an ACK; without SYN the segment goes; SYN+FIN is a
	 * simultaneous open, its FIN left for the peer to resend.
	 */
	{ TCP_SYN_SENT, K_SYNFIN, R_SYNACK, 1, NULL, TCP_SYN_RECV, 0, NULL },
	{ TCP_SYN_SENT, K_SYNRST, R_NONE, 0, "badrst", TCP_SYN_SENT, 0,
	    NULL },
	{ TCP_SYN_SENT, K_FINNOACK, R_NONE, 0, "badsyn", TCP_SYN_SENT, 0,
	    NULL },
	{ TCP_SYN_SENT, K_DATANOACK, R_NONE, 0, "badsyn", TCP_SYN_SENT, 0,
	    NULL },
	{ TCP_SYN_SENT, K_DATA, R_NONE, 0, "badsyn", TCP_SYN_SENT, 0, NULL },
	{ TCP_SYN_SENT, K_FIN, R_NONE, 0, "badsyn", TCP_SYN_SENT, 0, NULL },
	{ TCP_SYN_SENT, K_ACK, R_NONE, 0, "badsyn", TCP_SYN_SENT, 0, NULL },
	/*
	 * 3.10.7.4 in SYN-RECEIVED (simultaneous open): the RST check comes
	 * before the SYN's, so SYN+RST at RCV.NXT refuses the connection;
	 * no ACK bit: dropped (fifth step); an acceptable ACK establishes.
	 */
	{ TCP_SYN_RECV, K_SYNFIN, R_ACK, 0, CHALLENGE, TCP_SYN_RECV, 0, NULL },
	{ TCP_SYN_RECV, K_SYNRST, R_NONE, 0, "refused", ST_CLOSED,
	    ECONNREFUSED, NULL },
	{ TCP_SYN_RECV, K_FINNOACK, R_NONE, 0, "noack", TCP_SYN_RECV, 0,
	    NULL },
	{ TCP_SYN_RECV, K_DATANOACK, R_NONE, 0, "noack", TCP_SYN_RECV, 0,
	    NULL },
	{ TCP_SYN_RECV, K_DATA, R_DELACK, 1, "connects rcvpack",
	    TCP_ESTABLISHED, 0, NULL },
	{ TCP_SYN_RECV, K_FIN, R_ACK, 1, "connects", TCP_CLOSE_WAIT, 0, NULL },
	{ TCP_SYN_RECV, K_ACK, R_NONE, 0, "connects", TCP_ESTABLISHED, 0,
	    NULL },
	/* synchronized states: RFC 5961 for SYN, RST before SYN */
	{ TCP_ESTABLISHED, K_SYNFIN, R_ACK, 0, CHALLENGE, TCP_ESTABLISHED, 0,
	    NULL },
	{ TCP_ESTABLISHED, K_SYNRST, R_NONE, 0, "rcvrst drops", ST_CLOSED,
	    ECONNRESET, NULL },
	{ TCP_ESTABLISHED, K_FINNOACK, R_NONE, 0, "noack", TCP_ESTABLISHED, 0,
	    NULL },
	{ TCP_ESTABLISHED, K_DATANOACK, R_NONE, 0, "noack", TCP_ESTABLISHED,
	    0, NULL },
	{ TCP_ESTABLISHED, K_DATA, R_DELACK, 1, "rcvpack", TCP_ESTABLISHED, 0,
	    NULL },
	{ TCP_ESTABLISHED, K_FIN, R_ACK, 1, NULL, TCP_CLOSE_WAIT, 0, NULL },
	{ TCP_ESTABLISHED, K_ACK, R_NONE, 0, NULL, TCP_ESTABLISHED, 0, NULL },
	/* FIN-WAIT-1: the peer's ACK (of everything) takes our FIN */
	{ TCP_FIN_WAIT1, K_SYNFIN, R_ACK, 0, CHALLENGE, TCP_FIN_WAIT1, 0,
	    NULL },
	{ TCP_FIN_WAIT1, K_SYNRST, R_NONE, 0, "rcvrst drops", ST_CLOSED,
	    ECONNRESET, NULL },
	{ TCP_FIN_WAIT1, K_FINNOACK, R_NONE, 0, "noack", TCP_FIN_WAIT1, 0,
	    NULL },
	{ TCP_FIN_WAIT1, K_DATANOACK, R_NONE, 0, "noack", TCP_FIN_WAIT1, 0,
	    NULL },
	{ TCP_FIN_WAIT1, K_DATA, R_DELACK, 1, "rcvpack", TCP_FIN_WAIT2, 0,
	    NULL },
	{ TCP_FIN_WAIT1, K_FIN, R_ACK, 1, NULL, TCP_TIME_WAIT, 0, NULL },
	{ TCP_FIN_WAIT1, K_ACK, R_NONE, 0, NULL, TCP_FIN_WAIT2, 0, NULL },
	/* FIN-WAIT-2 (shut down for writing only: data is still read) */
	{ TCP_FIN_WAIT2, K_SYNFIN, R_ACK, 0, CHALLENGE, TCP_FIN_WAIT2, 0,
	    NULL },
	{ TCP_FIN_WAIT2, K_SYNRST, R_NONE, 0, "rcvrst drops", ST_CLOSED,
	    ECONNRESET, NULL },
	{ TCP_FIN_WAIT2, K_FINNOACK, R_NONE, 0, "noack", TCP_FIN_WAIT2, 0,
	    NULL },
	{ TCP_FIN_WAIT2, K_DATANOACK, R_NONE, 0, "noack", TCP_FIN_WAIT2, 0,
	    NULL },
	{ TCP_FIN_WAIT2, K_DATA, R_DELACK, 1, "rcvpack", TCP_FIN_WAIT2, 0,
	    NULL },
	{ TCP_FIN_WAIT2, K_FIN, R_ACK, 1, NULL, TCP_TIME_WAIT, 0, NULL },
	{ TCP_FIN_WAIT2, K_ACK, R_NONE, 0, NULL, TCP_FIN_WAIT2, 0, NULL },
	/*
	 * After the peer's FIN: its text is ignored (seventh step); a resent
	 * FIN is old, acknowledged (first step: not acceptable, ACK).
	 */
	{ TCP_CLOSE_WAIT, K_SYNFIN, R_ACK, 0, CHALLENGE, TCP_CLOSE_WAIT, 0,
	    NULL },
	{ TCP_CLOSE_WAIT, K_SYNRST, R_NONE, 0, "rcvrst drops", ST_CLOSED,
	    ECONNRESET, NULL },
	{ TCP_CLOSE_WAIT, K_FINNOACK, R_NONE, 0, "noack", TCP_CLOSE_WAIT, 0,
	    NULL },
	{ TCP_CLOSE_WAIT, K_DATANOACK, R_NONE, 0, "noack", TCP_CLOSE_WAIT, 0,
	    NULL },
	{ TCP_CLOSE_WAIT, K_DATA, R_NONE, 0, "rcvafterfin", TCP_CLOSE_WAIT,
	    0, NULL },
	{ TCP_CLOSE_WAIT, K_FIN, R_ACK, 0, "rcvduppack", TCP_CLOSE_WAIT, 0,
	    NULL },
	{ TCP_CLOSE_WAIT, K_ACK, R_NONE, 0, NULL, TCP_CLOSE_WAIT, 0, NULL },
	/* CLOSING: the ACK of our FIN leads to TIME-WAIT */
	{ TCP_CLOSING, K_SYNFIN, R_ACK, 0, CHALLENGE, TCP_CLOSING, 0, NULL },
	{ TCP_CLOSING, K_SYNRST, R_NONE, 0, "rcvrst", ST_CLOSED, 0, NULL },
	{ TCP_CLOSING, K_FINNOACK, R_NONE, 0, "noack", TCP_CLOSING, 0, NULL },
	{ TCP_CLOSING, K_DATANOACK, R_NONE, 0, "noack", TCP_CLOSING, 0,
	    NULL },
	{ TCP_CLOSING, K_DATA, R_NONE, 0, "rcvafterfin", TCP_TIME_WAIT, 0,
	    NULL },
	{ TCP_CLOSING, K_FIN, R_ACK, 0, "rcvduppack", TCP_TIME_WAIT, 0,
	    NULL },
	{ TCP_CLOSING, K_ACK, R_NONE, 0, NULL, TCP_TIME_WAIT, 0, NULL },
	/* LAST-ACK: the ACK of our FIN ends the connection */
	{ TCP_LAST_ACK, K_SYNFIN, R_ACK, 0, CHALLENGE, TCP_LAST_ACK, 0, NULL },
	{ TCP_LAST_ACK, K_SYNRST, R_NONE, 0, "rcvrst", ST_CLOSED, 0, NULL },
	{ TCP_LAST_ACK, K_FINNOACK, R_NONE, 0, "noack", TCP_LAST_ACK, 0,
	    NULL },
	{ TCP_LAST_ACK, K_DATANOACK, R_NONE, 0, "noack", TCP_LAST_ACK, 0,
	    NULL },
	{ TCP_LAST_ACK, K_DATA, R_NONE, 0, NULL, ST_CLOSED, 0, NULL },
	{ TCP_LAST_ACK, K_FIN, R_ACK, 0, "rcvduppack", ST_CLOSED, 0, NULL },
	{ TCP_LAST_ACK, K_ACK, R_NONE, 0, NULL, ST_CLOSED, 0, NULL },
	/* TIME-WAIT: a resent FIN is acknowledged (and 2 MSL restart) */
	{ TCP_TIME_WAIT, K_SYNFIN, R_ACK, 0, CHALLENGE, TCP_TIME_WAIT, 0,
	    NULL },
	{ TCP_TIME_WAIT, K_SYNRST, R_NONE, 0, "rcvrst", ST_CLOSED, 0, NULL },
	{ TCP_TIME_WAIT, K_FINNOACK, R_NONE, 0, "noack", TCP_TIME_WAIT, 0,
	    NULL },
	{ TCP_TIME_WAIT, K_DATANOACK, R_NONE, 0, "noack", TCP_TIME_WAIT, 0,
	    NULL },
	{ TCP_TIME_WAIT, K_DATA, R_NONE, 0, "rcvafterfin", TCP_TIME_WAIT, 0,
	    NULL },
	{ TCP_TIME_WAIT, K_FIN, R_ACK, 0, "rcvduppack", TCP_TIME_WAIT, 0,
	    NULL },
	{ TCP_TIME_WAIT, K_ACK, R_NONE, 0, NULL, TCP_TIME_WAIT, 0, NULL },
};

/* Counters a row may move; each row names the ones that move, by one. */
static const char *const watched[] = {
	"noport", "synfin", "badsyn", "badack", "badrst", "noack", "rstinwin",
	"synchallenge", "challengeack", "challengelimit", "refused", "rcvrst",
	"drops", "conndrops", "connects", "rcvpack", "rcvoopack", "rcvduppack",
	"rcvpartduppack", "rcvpackafterwin", "rcvafterclose", "rcvwinprobe",
	"rcvacktoomuch", "rcvacktooold", "rcvdupack", "synwithdata",
	"listendrop", "synqdrop", "rcvbadopt", "rcvbadoff", "rcvshort",
	"rcvbadsum", "rcvbadaddr", "rcvnots", "pawsdrop", "urgzero",
};

/* The Linux state numbers of TCP_INFO, by RFC 9293 name. */
static const char *const state_names[] = {
	[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN-SENT",
	[TCP_SYN_RECV] = "SYN-RECEIVED", [TCP_FIN_WAIT1] = "FIN-WAIT-1",
	[TCP_FIN_WAIT2] = "FIN-WAIT-2", [TCP_TIME_WAIT] = "TIME-WAIT",
	[TCP_CLOSE] = "CLOSED", [TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[TCP_LAST_ACK] = "LAST-ACK", [TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",
};

static const char *
state_name(int st)
{
	return st > 0 && (size_t)st < NELEM(state_names) &&
	    state_names[st] != NULL ? state_names[st] : "?";
}

static bool
named(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *s = list; s != NULL && *s != '\0';) {
		if (strncmp(s, name, n) == 0 && (s[n] == ' ' || s[n] == '\0'))
			return true;
		s = strchr(s, ' ');
		if (s != NULL)
			s++;
	}
	return false;
}

static bool
peer_fin_sent(int state)
{
	return state == TCP_CLOSE_WAIT || state == TCP_CLOSING ||
	    state == TCP_LAST_ACK || state == TCP_TIME_WAIT;
}

/* The connection (or listener, or nothing) of a row; returns its fd. */
static int
row_setup(struct tenv *e, struct peer *p, int lfd, int state, uint16_t port)
{
	int fd = -1;

	peer_init(p, e, port, PO_MSS | PO_WS);
	switch (state) {
	case ST_CLOSED:
		p->sport = 9;
		p->rcv_nxt = 777;
		return -1;
	case TCP_LISTEN:
		p->sport = LPORT;
		p->rcv_nxt = 777;
		return lfd;
	case TCP_SYN_SENT:
		return stack_connect(p);
	case TCP_SYN_RECV:
		fd = stack_connect(p);
		peer_send(p, TH_SYN, NULL, 0);
		expect_seg(p, TH_SYN | TH_ACK, p->stack_iss, p->snd_nxt);
		assert_int_equal(tstate(fd), TCP_SYN_RECV);
		return fd;
	default:
		fd = active_open(p);
		to_state(p, fd, state);
		return fd;
	}
}

/* Send the row's segment; returns SEG.SEQ + SEG.LEN. */
static uint32_t
row_send(struct peer *p, const struct row *r)
{
	uint32_t seq = p->snd_nxt;

	switch (r->kind) {
	case K_SYNFIN:
		peer_seg(p, TH_SYN | TH_FIN, seq, 0, p->win, PO_AUTO, NULL, 0);
		return seq + 2;
	case K_SYNRST:
		peer_seg(p, TH_SYN | TH_RST, seq, 0, p->win, PO_NONE, NULL, 0);
		return seq + 1;
	case K_FINNOACK:
		peer_seg(p, TH_FIN, seq, 0, p->win, PO_AUTO, NULL, 0);
		return seq + 1;
	case K_DATANOACK:
		peer_seg(p, TH_PUSH, seq, 0, p->win, PO_AUTO, "x", 1);
		return seq + 1;
	case K_DATA:
		peer_seg(p, TH_ACK | TH_PUSH, seq, p->rcv_nxt, p->win, PO_AUTO,
		    "x", 1);
		return seq + 1;
	case K_FIN:
		if (peer_fin_sent(r->state))
			seq--;
		peer_seg(p, TH_FIN | TH_ACK, seq, p->rcv_nxt, p->win, PO_AUTO,
		    NULL, 0);
		return seq + 1;
	case K_ACK:
		peer_seg(p, TH_ACK, seq, p->rcv_nxt, p->win, PO_AUTO, NULL, 0);
		return seq;
	}
	return seq;
}

/* The stack's answer to the row's segment. */
static void
row_response(struct tenv *e, struct peer *p, const struct row *r,
    uint32_t segack, uint32_t segend)
{
	switch (r->resp) {
	case R_NONE:
		expect_nothing(e);
		break;
	case R_DELACK:
		expect_nothing(e);
		tenv_advance(e, DELACK_MS);
		/* FALLTHROUGH */
	case R_ACK:
		expect_ack(p);
		break;
	case R_SYNACK:
		expect_seg(p, TH_SYN | TH_ACK, p->stack_iss, p->snd_nxt);
		break;
	case R_RST:
		expect_seg(p, TH_RST, segack, 0);
		break;
	case R_RSTACK:
		expect_seg(p, TH_RST | TH_ACK, 0, segend);
		break;
	}
	expect_nothing(e);
}

/*
 * A counter a row names that is not watched must exist and move by one
 * too: *before (in) its value before the segment, or with before NULL
 * its value is returned.
 */
static uint64_t
row_extra(struct tenv *e, const struct row *r, size_t n, uint64_t *before)
{
	char name[32];
	const char *s = r->counters;
	size_t k = 0;

	while (s != NULL && *s != '\0') {
		size_t len = strcspn(s, " ");
		bool w = false;

		snprintf(name, sizeof(name), "%.*s", (int)len, s);
		for (size_t i = 0; i < NELEM(watched); i++)
			w = w || strcmp(watched[i], name) == 0;
		if (!w && k++ == n) {
			if (before != NULL && tstat(e, name) != *before + 1)
				fail_msg("%s in %s: tcp.%s did not move",
				    kind_name[r->kind], state_name(r->state),
				    name);
			return tstat(e, name);
		}
		s += len;
		s += *s == ' ';
	}
	return 0;
}

static void
row_run(struct tenv *e, int lfd, const struct row *r, uint16_t port)
{
	uint64_t before[NELEM(watched)], leaks = rump_kernel_leaks(e->k);
	uint64_t extra[2];
	uint32_t segack, segend;
	struct peer p;
	int fd;

	fd = row_setup(e, &p, lfd, r->state, port);
	for (size_t i = 0; i < NELEM(watched); i++)
		before[i] = tstat(e, watched[i]);
	for (size_t i = 0; i < NELEM(extra); i++)
		extra[i] = row_extra(e, r, i, NULL);
	segack = p.rcv_nxt;
	segend = row_send(&p, r);
	p.snd_nxt += r->takes;
	row_response(e, &p, r, segack, segend);
	for (size_t i = 0; i < NELEM(watched); i++) {
		uint64_t want = before[i] + (named(r->counters, watched[i]) ?
		    1 : 0);

		if (tstat(e, watched[i]) != want)
			fail_msg("%s in %s: tcp.%s went from %llu to %llu",
			    kind_name[r->kind], state_name(r->state), watched[i],
			    (unsigned long long)before[i],
			    (unsigned long long)tstat(e, watched[i]));
	}
	for (size_t i = 0; i < NELEM(extra); i++)
		(void)row_extra(e, r, i, &extra[i]);
	if (r->state == ST_CLOSED)
		return;
	if (r->state == TCP_LISTEN) {
		assert_int_equal(tstate(lfd), TCP_LISTEN);
		errno = 0;
		assert_int_equal(rump_sys_accept(lfd, NULL, NULL), -1);
		assert_int_equal(errno, EAGAIN);
		return;
	}
	if (tstate(fd) != r->after)
		fail_msg("%s in %s: %s after, expected %s",
		    kind_name[r->kind], state_name(r->state),
		    state_name(tstate(fd)), state_name(r->after));
	if (r->kind == K_DATA && r->takes > 0)
		stack_read(fd, "x", 1);
	if (r->err != 0)
		read_error(fd, r->err);
	else
		assert_int_equal(so_error(fd), 0);
	if (r->after == ST_CLOSED || r->after == TCP_SYN_SENT) {
		assert_int_equal(rump_sys_close(fd), 0);
		expect_nothing(e);
	} else {
		conn_abort(&p, fd);
	}
	assert_int_equal(rump_kernel_leaks(e->k), leaks);
}

/*
 * SYN+FIN, SYN+RST, FIN and data without ACK, data, FIN and a pure ACK in
 * every state the tap can reach (and to a port with no socket): the exact
 * answer, the counters that move (and that no other drop counter does),
 * the state after, what the application is told, and every object back
 * once the connection is gone.  Each row on a fresh connection.
 */
static void
test_flags_in_every_state(void **state)
{
	struct tenv e;
	int lfd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(LPORT, 4);
	for (size_t i = 0; i < NELEM(rows); i++) {
		if (rows[i].bug != NULL && getenv("RUMPNET_TCP_BUGS") == NULL) {
			print_message("known bug %s, row skipped: %s in %s\n",
			    rows[i].bug, kind_name[rows[i].kind],
			    state_name(rows[i].state));
			continue;
		}
		row_run(&e, lfd, &rows[i], (uint16_t)(PPORT + i));
	}
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/* ==== the interface's MTU comes down under a connection ==== */

/*
 * The MTU of the interface goes from 1500 to 1000 while a connection
 * runs.  Its next segment (1460 bytes, DF) is refused by ip_output()
 * (ip.cantfrag); TCP lowers its MSS to 960 (tcp.mtushrink), as BSD's
 * tcp_mtudisc() does, and sends the data again at once in segments of
 * 960.  The write() that was refused still counts all it took: the
 * user must not send it twice.
 */
static void
test_mtu_shrinks_under_connection(void **state)
{
	static uint8_t d[3000];
	const size_t lens[] = { 960, 960, 960, 120 };
	struct tenv e;
	struct peer p;
	size_t off = 0;
	int fd;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, 30070, PO_MSS);
	fd = active_open(&p);
	assert_int_equal(tinfo(fd).ti.tcpi_snd_mss, TS_MSS);
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(rump_if_set_mtu(e.k, e.ifx, 1000), 0);
	assert_int_equal(rump_sys_write(fd, d, sizeof(d)), (ssize_t)sizeof(d));
	assert_int_equal(ipstat(&e, "cantfrag"), 1);
	assert_int_equal(tstat(&e, "mtushrink"), 1);
	assert_int_equal(tinfo(fd).ti.tcpi_snd_mss, 960);
	for (size_t i = 0; i < 4; i++) {
		const struct tseg *sg = expect_data(&p, lens[i], i == 3);

		assert_memory_equal(sg->data, d + off, lens[i]);
		off += lens[i];
	}
	expect_nothing(&e);
	peer_ack(&p);
	/* the two that carry the refused segment's 1460 bytes are resends */
	assert_int_equal(tstat(&e, "sndrexmitpack"), 2);
	assert_int_equal(ipstat(&e, "cantfrag"), 1);
	/* the MTU back up: the MSS stays (it is only ever lowered here) */
	assert_int_equal(rump_if_set_mtu(e.k, e.ifx, 1500), 0);
	stack_write(fd, d, 1000);
	assert_memory_equal(expect_data(&p, 960, false)->data, d, 960);
	assert_memory_equal(expect_data(&p, 40, true)->data, d + 960, 40);
	assert_int_equal(tstat(&e, "mtushrink"), 1);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/* ==== TCP_CORK and MSG_MORE (Linux) ==== */

/*
 * TCP_CORK: partial segments wait, even for an ACK that goes meanwhile
 * (the delayed ACK of the peer's data goes alone); a full segment goes.
 * Uncorking sends what waited at once, with data in flight and Nagle on.
 * Setting TCP_NODELAY pushes too, cork or not.  Corked data with nothing
 * in flight goes when the persist timer fires (Linux's ceiling: its
 * probe timer), and a shorter TCP_USER_TIMEOUT does not drop it.
 * MSG_MORE holds one send's data until a send without it, which goes
 * with it.
 */
static void
test_cork(void **state)
{
	static uint8_t d[4000];
	struct tenv e;
	struct peer p;
	unsigned rto;
	uint8_t c[5];
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_WS);
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(getopt_int(fd, IPPROTO_TCP, TCP_CORK), 0);
	setopt_int(fd, IPPROTO_TCP, TCP_CORK, 1);
	assert_int_equal(getopt_int(fd, IPPROTO_TCP, TCP_CORK), 1);
	stack_write(fd, d, 100);
	expect_nothing(&e);
	/* the peer's data: its delayed ACK carries none of the 100 */
	peer_send(&p, TH_ACK | TH_PUSH, "hello", 5);
	expect_nothing(&e);
	tenv_advance(&e, DELACK_MS);
	expect_ack(&p);
	expect_nothing(&e);
	assert_int_equal(rump_sys_read(fd, c, sizeof(c)), 5);
	stack_write(fd, d + 100, 2000);
	assert_memory_equal(expect_data(&p, TS_MSS, false)->data, d, TS_MSS);
	expect_nothing(&e);
	/* uncorked with Nagle on and 1460 in flight: the rest goes now */
	setopt_int(fd, IPPROTO_TCP, TCP_CORK, 0);
	assert_memory_equal(expect_data(&p, 2100 - TS_MSS, true)->data,
	    d + TS_MSS, 2100 - TS_MSS);
	peer_ack(&p);
	expect_nothing(&e);

	/* TCP_NODELAY pushes a corked partial segment */
	setopt_int(fd, IPPROTO_TCP, TCP_CORK, 1);
	stack_write(fd, d + 2100, 50);
	expect_nothing(&e);
	setopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	assert_memory_equal(expect_data(&p, 50, true)->data, d + 2100, 50);
	peer_ack(&p);

	/* the ceiling: nothing in flight, the persist timer sends it */
	stack_write(fd, d + 2150, 50);
	expect_nothing(&e);
	rto = tinfo(fd).ti.tcpi_rto / 1000;
	rto = rto > 200 ? rto : 200;	/* TCPTV_PERSMIN */
	tenv_advance(&e, rto - 1);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	assert_memory_equal(expect_data(&p, 50, true)->data, d + 2150, 50);
	peer_ack(&p);
	setopt_int(fd, IPPROTO_TCP, TCP_CORK, 0);
	expect_nothing(&e);

	/* MSG_MORE (TCP_NODELAY still on) */
	assert_int_equal(rump_sys_send(fd, d + 2200, 100, MSG_MORE), 100);
	expect_nothing(&e);
	assert_int_equal(rump_sys_send(fd, d + 2300, 100, 0), 100);
	assert_memory_equal(expect_data(&p, 200, true)->data, d + 2200, 200);
	peer_ack(&p);
	expect_nothing(&e);

	/* TCP_USER_TIMEOUT under the ceiling: the data goes at it, no drop */
	setopt_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 100);
	setopt_int(fd, IPPROTO_TCP, TCP_CORK, 1);
	stack_write(fd, d + 2400, 50);
	tenv_advance(&e, 99);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	assert_memory_equal(expect_data(&p, 50, true)->data, d + 2400, 50);
	peer_ack(&p);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/* ==== sequence number wrap (RFC 9293 3.4) ==== */

/*
 * The peer's ISN is 50000 below 2^32: 100 KB in blocks of eight
 * segments, each block sent 7,5,3,1,0,2,4,6 (out of order, across the
 * wrap in one block); every ACK is a pure ACK that never goes back, each
 * block is readable once complete, and the data read is exact.  Then an
 * urgent pointer across the wrap.
 */
static void
test_seq_wrap(void **state)
{
	static const int order[8] = { 7, 5, 3, 1, 0, 2, 4, 6 };
	const size_t total = 100 * 1024, nseg = (total + MSS_TS - 1) / MSS_TS;
	uint32_t last;
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, PPORT, PO_ALL);
	p.iss = p.snd_nxt = 0xffffffffu - 50000;
	fd = active_open(&p);
	last = pseq(&p, 0);
	for (size_t b = 0; b < nseg; b += 8) {
		size_t start = b * MSS_TS, end = MIN((b + 8) * MSS_TS, total);

		for (int i = 0; i < 8; i++) {
			size_t off = (b + (size_t)order[i]) * MSS_TS;

			if (off < total)
				peer_at(&p, TH_ACK, off, MIN(MSS_TS,
				    total - off));
		}
		(void)drain_acks(&p, &last);
		if (b + 8 > nseg) {
			/* the last came in order to an empty queue: delayed */
			assert_int_equal(last, pseq(&p, (nseg - 1) * MSS_TS));
			tenv_advance(&e, DELACK_MS);
			(void)drain_acks(&p, &last);
		}
		assert_int_equal(last, pseq(&p, end));
		read_stream(fd, start, end - start);
		(void)drain_acks(&p, &last);	/* window updates */
	}
	assert_true(pseq(&p, total) < pseq(&p, 0));	/* it did wrap */
	tenv_advance(&e, DELACK_MS);
	assert_int_equal(drain_acks(&p, &last), 0);
	assert_int_equal(tstat(&e, "rcvduppack"), 0);
	assert_int_equal(tstat(&e, "rcvpackafterwin"), 0);
	assert_int_equal(tstat(&e, "rcvreassfull"), 0);
	p.snd_nxt = pseq(&p, total);
	conn_abort(&p, fd);

	/* the urgent pointer: SEG.SEQ 2^32 - 10, the urgent byte at 9 */
	peer_init(&p, &e, PPORT + 1, PO_ALL);
	p.iss = p.snd_nxt = 0xffffffffu - 10;
	fd = active_open(&p);
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 0, 20, 20);
	read_stream(fd, 0, 19);
	oob_read(fd, stream(19)[0], 0);
	peer_urg(&p, TH_ACK | TH_PUSH | TH_URG, 20, 20, 10);
	expect_ack_at(&p, 40);
	read_upto(fd, stream(20), 9);
	read_stream(fd, 30, 10);
	oob_read(fd, stream(29)[0], 0);
	p.snd_nxt = pseq(&p, 40);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * TCP_QUICKACK: a held (delayed) ACK goes when it is set, and every data
 * segment is ACKed at once until it is cleared.
 */
static void
test_quickack(void **state)
{
	struct tenv e;
	struct peer p;
	uint8_t c[16];
	int fd;

	(void)state;
	fd = conn_up(&e, &p, PO_MSS | PO_WS);
	assert_int_equal(getopt_int(fd, IPPROTO_TCP, TCP_QUICKACK), 0);
	peer_send(&p, TH_ACK | TH_PUSH, "abc", 3);
	expect_nothing(&e);			/* delayed */
	setopt_int(fd, IPPROTO_TCP, TCP_QUICKACK, 1);
	assert_int_equal(getopt_int(fd, IPPROTO_TCP, TCP_QUICKACK), 1);
	expect_ack(&p);				/* the held one, now */
	expect_nothing(&e);
	peer_send(&p, TH_ACK | TH_PUSH, "defg", 4);
	expect_ack(&p);
	peer_send(&p, TH_ACK | TH_PUSH, "h", 1);
	expect_ack(&p);
	setopt_int(fd, IPPROTO_TCP, TCP_QUICKACK, 0);
	peer_send(&p, TH_ACK | TH_PUSH, "ij", 2);
	expect_nothing(&e);
	tenv_advance(&e, DELACK_MS);
	expect_ack(&p);
	assert_int_equal(rump_sys_read(fd, c, sizeof(c)), 10);
	assert_memory_equal(c, "abcdefghij", 10);
	conn_abort(&p, fd);
	tenv_down(&e);
}

struct lowat_writer {
	struct rump_kernel *k;
	int fd;
	const uint8_t *buf;
	atomic_bool started;
	ssize_t ret;
	int err;
};

static void *
lowat_write(void *arg)
{
	struct lowat_writer *w = arg;

	assert_int_equal(rump_thread_bind(w->k), 0);
	atomic_store(&w->started, true);
	errno = 0;
	w->ret = rump_sys_write(w->fd, w->buf, 200);
	w->err = errno;
	(void)rump_thread_unbind();
	return NULL;
}

static int
ioctl_int(int fd, unsigned long req)
{
	int v = -1;

	assert_int_equal(rump_sys_ioctl(fd, req, &v), 0);
	return v;
}

/*
 * TCP_NOTSENT_LOWAT (Linux): a send goes on while fewer bytes than the
 * mark wait unsent, and poll says writable below half of it; a blocking
 * send that crosses the mark returns once its data is taken; a writer
 * blocked on the mark goes on when the stack sends (uncorked here),
 * before any ACK.  SIOCOUTQNSD counts the unsent bytes, SIOCOUTQ the
 * unacknowledged ones.
 */
static void
test_notsent_lowat(void **state)
{
	static uint8_t d[1300];
	struct lowat_writer w;
	struct pollfd pfd;
	struct tenv e;
	struct peer p;
	pthread_t t;
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 7 + 3);
	fd = conn_up(&e, &p, PO_MSS | PO_WS);
	assert_int_equal(getopt_int(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT), 0);
	setopt_int(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 1000);
	assert_int_equal(getopt_int(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT), 1000);
	setopt_int(fd, IPPROTO_TCP, TCP_CORK, 1);
	stack_write(fd, d, 400);
	expect_nothing(&e);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	assert_int_equal(rump_sys_poll(&pfd, 1, 0), 1);
	assert_int_equal(ioctl_int(fd, SIOCOUTQNSD), 400);
	assert_int_equal(ioctl_int(fd, SIOCOUTQ), 400);
	/* 600 unsent: not writable (half the mark), but a send goes on */
	stack_write(fd, d + 400, 200);
	assert_int_equal(rump_sys_poll(&pfd, 1, 0), 0);
	assert_int_equal(rump_sys_send(fd, d + 600, 100, MSG_DONTWAIT), 100);
	/* a blocking send that crosses the mark returns with all taken */
	assert_int_equal(rump_sys_fcntl(fd, F_SETFL, 0), 0);
	stack_write(fd, d + 700, 400);
	assert_int_equal(rump_sys_send(fd, d, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(ioctl_int(fd, SIOCOUTQNSD), 1100);

	memset(&w, 0, sizeof(w));
	w.k = e.k;
	w.fd = fd;
	w.buf = d + 1100;
	assert_int_equal(pthread_create(&t, NULL, lowat_write, &w), 0);
	while (!atomic_load(&w.started))
		usleep(1000);
	usleep(50000);		/* blocked in write() by now */
	setopt_int(fd, IPPROTO_TCP, TCP_CORK, 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.ret, 200);
	assert_int_equal(rump_sys_fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	assert_memory_equal(expect_data(&p, 1100, true)->data, d, 1100);
	/* Nagle holds the 200 while the 1100 are unacknowledged */
	expect_nothing(&e);
	assert_int_equal(ioctl_int(fd, SIOCOUTQNSD), 200);
	assert_int_equal(ioctl_int(fd, SIOCOUTQ), 1300);
	assert_int_equal(rump_sys_poll(&pfd, 1, 0), 1);
	peer_ack(&p);
	assert_memory_equal(expect_data(&p, 200, true)->data, d + 1100, 200);
	peer_ack(&p);
	assert_int_equal(ioctl_int(fd, SIOCOUTQ), 0);
	assert_int_equal(ioctl_int(fd, SIOCOUTQNSD), 0);
	conn_abort(&p, fd);
	tenv_down(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ooo_reverse_order),
		cmocka_unit_test(test_ooo_hole_filled_in_parts),
		cmocka_unit_test(test_ooo_overlaps),
		cmocka_unit_test(test_ooo_exact_duplicate),
		cmocka_unit_test(test_reass_queue_bound),
		cmocka_unit_test(test_reass_queue_scales_with_rcvbuf),
		cmocka_unit_test(test_reass_queue_freed),
		cmocka_unit_test(test_reass_flood_bounded),
		cmocka_unit_test(test_tiny_segments_packed),
		cmocka_unit_test(test_rcv_beyond_window),
		cmocka_unit_test(test_rcv_window_both_ends),
		cmocka_unit_test(test_rcv_no_window_update_after_fin),
		cmocka_unit_test(test_rcv_sws_avoidance),
		cmocka_unit_test(test_rcv_sws_small_buffer),
		cmocka_unit_test(test_rcv_window_never_shrinks),
		cmocka_unit_test(test_rcv_scaled_window_edge),
		cmocka_unit_test(test_snd_zero_window_resume),
		cmocka_unit_test(test_snd_nagle),
		cmocka_unit_test(test_snd_sws_avoidance),
		cmocka_unit_test(test_snd_sws_override_lost),
		cmocka_unit_test(test_snd_window_from_old_segment),
		cmocka_unit_test(test_snd_mss_respected),
		cmocka_unit_test(test_delack_piggyback),
		cmocka_unit_test(test_delack_ackpass),
		cmocka_unit_test(test_urg_oob_byte),
		cmocka_unit_test(test_urg_pointer_beyond_data),
		cmocka_unit_test(test_urg_pointer_zero_and_replaced),
		cmocka_unit_test(test_urg_out_of_order),
		cmocka_unit_test(test_urg_oobinline),
		cmocka_unit_test(test_urg_oobinline_pollpri),
		cmocka_unit_test(test_urg_pointer_ffff),
		cmocka_unit_test(test_urg_ignored_after_fin),
		cmocka_unit_test(test_urg_send_oob),
		cmocka_unit_test(test_urg_send_oob_bounded),
		cmocka_unit_test(test_urg_peer_isn_upper_half),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_option_lists),
		cmocka_unit_test(test_option_timestamp_lengths),
		cmocka_unit_test(test_option_syn_lengths),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_flags_in_every_state),
		cmocka_unit_test(test_seq_wrap),
		cmocka_unit_test(test_mtu_shrinks_under_connection),
		cmocka_unit_test(test_urg_atmark),
		cmocka_unit_test(test_cork),
		cmocka_unit_test(test_quickack),
		cmocka_unit_test(test_notsent_lowat),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
