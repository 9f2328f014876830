/*
 * test_sack.c -- selective acknowledgments, segment by segment through a
 * tap playing the remote host (tcpseg.h):
 *
 *   negotiation and the SYN's option layout (RFC 2018 2);
 *   the blocks a receiver reports: the newest first, merged runs, at
 *   most three beside timestamps (RFC 2018 4), D-SACK for duplicates
 *   below RCV.NXT and inside a reported block (RFC 2883 4);
 *   the sender: RFC 6675 recovery entered on the third duplicate ACK
 *   carrying SACKs, the lost hole resent first, Proportional Rate
 *   Reduction pacing what follows (RFC 6937: one segment for every two
 *   ACKs when ssthresh is half of RecoverFS), cwnd = ssthresh at the
 *   end; a retransmission timeout forgets the scoreboard (RFC 2018 8);
 *   blocks that are not data in flight ignored and counted, and a flood
 *   of tiny blocks bounded by the scoreboard's size.
 *
 * Each test asserts the exact segments, counters and TCP_INFO values,
 * and ends with every pool back to zero.  NewReno is the algorithm here,
 * so that ssthresh is exactly half the flight.
 *
 * Needs no root, no DPDK, no network namespace.
 */
#define _DEFAULT_SOURCE		/* <netinet/tcp.h>: TH_*, TCPOPT_*, tcp_info */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "tcpseg.h"

#define PPORT 43001		/* the peer's port */
#define LPORT 80
#define MSS_TS (TS_MSS - 12)	/* the stack's segments with timestamps */

static uint8_t buf[64 * 1448];

/*
 * the instance (NewReno; RACK as asked), a peer offering opts, an open
 * connection
 */
static int
sack_open_rack(struct tenv *e, struct peer *p, unsigned opts, bool rack)
{
	tenv_up(e);
	assert_int_equal(rump_tcp_cc_set_default(e->k, "newreno"), 0);
	assert_int_equal(rump_tcp_param_set(e->k, "rack", rack), 0);
	peer_init(p, e, PPORT, opts);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	if (!rack)
		return active_open(p);
	/*
	 * A 10 ms handshake: SRTT 10 ms, so the probe timeout is 20 ms
	 * (with an RTT of 0 it would be its 10 ms floor, and fire in the
	 * middle of the tests' exchanges)
	 */
	{
		int fd = stack_connect(p);

		tenv_advance(e, 10);
		peer_synack(p);
		assert_int_equal(tinfo(fd).ti.tcpi_rtt, 10000);
		return fd;
	}
}

/* RFC 6675's rules alone: RACK off */
static int
sack_open(struct tenv *e, struct peer *p, unsigned opts)
{
	return sack_open_rack(e, p, opts, false);
}

/* read every segment the stack sent; the peer's RCV.NXT to the highest */
static unsigned
drain(struct peer *p)
{
	struct tseg s;
	unsigned n = 0;

	while (tap_read(p->e, &s)) {
		if ((int32_t)(s.seq + (uint32_t)s.len - p->rcv_nxt) > 0)
			p->rcv_nxt = s.seq + (uint32_t)s.len;
		n++;
	}
	return n;
}

static void
finish(struct tenv *e, struct peer *p, int fd)
{
	drain(p);
	conn_abort(p, fd);
	tenv_down(e);
}

/* the data segment of n bytes at seq */
static void
expect_at(struct peer *p, uint32_t seq, size_t n)
{
	struct tseg s;

	if (!tap_read(p->e, &s))
		fail_msg("expected data at +%u, got nothing", seq - p->stack_iss);
	assert_int_equal(s.seq, seq);
	assert_int_equal(s.len, n);
	assert_int_equal(s.ack, p->snd_nxt);
	assert_true(s.flags & TH_ACK);
	assert_false(s.flags & (TH_SYN | TH_FIN | TH_RST));
	if ((int32_t)(seq + (uint32_t)n - p->rcv_nxt) > 0)
		p->rcv_nxt = seq + (uint32_t)n;
}

/* ==== negotiation ==== */

/*
 * The SYN offers SACK-permitted in Linux's layout: MSS, SACK-permitted
 * and timestamps in one 12-byte run, NOP and window scale: 20 bytes.
 */
static void
test_sack_syn_layout(void **state)
{
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, PPORT, PO_ALL | PO_SACKOK);
	fd = stack_connect(&p);
	assert_int_equal(p.last.optlen, 20);
	assert_int_equal(p.last.opt[0], TCPOPT_MAXSEG);
	assert_int_equal(p.last.opt[1], 4);
	assert_int_equal(p.last.opt[4], TCPOPT_SACK_PERMITTED);
	assert_int_equal(p.last.opt[5], 2);
	assert_int_equal(p.last.opt[6], TCPOPT_TIMESTAMP);
	assert_int_equal(p.last.opt[7], 10);
	assert_int_equal(p.last.opt[16], TCPOPT_NOP);
	assert_int_equal(p.last.opt[17], TCPOPT_WINDOW);
	peer_synack(&p);
	assert_true(tinfo(fd).ti.tcpi_options & TCPI_OPT_SACK);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/* A peer that does not offer it: no SACK, and none in the SYN-ACK. */
static void
test_sack_not_offered(void **state)
{
	const struct tseg *s;
	struct tenv e;
	struct peer p;
	int fd, lfd;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, PPORT, PO_ALL);
	fd = active_open(&p);
	assert_false(tinfo(fd).ti.tcpi_options & TCPI_OPT_SACK);
	conn_abort(&p, fd);

	lfd = tcp_listener(LPORT, 4);
	peer_init(&p, &e, PPORT + 1, PO_ALL);
	p.sport = LPORT;
	peer_send(&p, TH_SYN, NULL, 0);
	s = expect_synack(&p);
	assert_false(s->sackok_p);
	/* MSS, NOP NOP TS, NOP WS */
	assert_int_equal(s->optlen, 20);
	assert_int_equal(s->opt[4], TCPOPT_NOP);
	assert_int_equal(s->opt[6], TCPOPT_TIMESTAMP);
	peer_ack(&p);
	fd = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_false(tinfo(fd).ti.tcpi_options & TCPI_OPT_SACK);
	conn_abort(&p, fd);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/* "sack" 0: not offered, and a peer's offer is not taken up. */
static void
test_sack_param_off(void **state)
{
	const struct tseg *s;
	struct tenv e;
	struct peer p;
	int fd, lfd;

	(void)state;
	tenv_up(&e);
	assert_int_equal(rump_tcp_param_set(e.k, "sack", 0), 0);
	peer_init(&p, &e, PPORT, PO_ALL | PO_SACKOK);
	fd = stack_connect(&p);
	assert_false(p.last.sackok_p);
	peer_synack(&p);
	assert_false(tinfo(fd).ti.tcpi_options & TCPI_OPT_SACK);
	conn_abort(&p, fd);

	lfd = tcp_listener(LPORT, 4);
	peer_init(&p, &e, PPORT + 1, PO_ALL | PO_SACKOK);
	p.sport = LPORT;
	peer_send(&p, TH_SYN, NULL, 0);
	s = expect_synack(&p);
	assert_false(s->sackok_p);
	peer_ack(&p);
	fd = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_false(tinfo(fd).ti.tcpi_options & TCPI_OPT_SACK);
	conn_abort(&p, fd);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/* ==== the receiver ==== */

/* peer data [off, off+len) of its stream (SND.NXT stays) */
static void
pdata(struct peer *p, uint32_t base, uint32_t off, uint32_t len)
{
	peer_seg(p, TH_ACK, base + off, p->rcv_nxt, p->win, PO_AUTO,
	    buf + off, len);
}

/* the ACK of base+ack with the blocks b (relative to base) */
static void
expect_blocks(struct peer *p, uint32_t base, uint32_t ack,
    const uint32_t (*b)[2], unsigned n)
{
	const struct tseg *s = expect_seg(p, TH_ACK, p->rcv_nxt, base + ack);

	assert_int_equal(s->len, 0);
	if (s->nsack != n)
		fail_msg("%u SACK blocks, expected %u", s->nsack, n);
	for (unsigned i = 0; i < n; i++) {
		if (s->sack[i][0] != base + b[i][0] ||
		    s->sack[i][1] != base + b[i][1])
			fail_msg("block %u is %u-%u, expected %u-%u", i,
			    s->sack[i][0] - base, s->sack[i][1] - base,
			    b[i][0], b[i][1]);
	}
}

/*
 * RFC 2018 4: every ACK while data is queued out of order carries the
 * blocks, the one holding the newest segment first; runs merge; at most
 * three fit beside timestamps; none once the holes are filled.
 */
static void
test_sack_receiver_blocks(void **state)
{
	struct tenv e;
	struct peer p;
	uint32_t base;
	int fd;

	(void)state;
	fd = sack_open(&e, &p, PO_ALL | PO_SACKOK);
	base = p.snd_nxt;
	pdata(&p, base, 100, 100);
	expect_blocks(&p, base, 0, (const uint32_t[][2]){ { 100, 200 } }, 1);
	pdata(&p, base, 300, 100);
	expect_blocks(&p, base, 0, (const uint32_t[][2]){ { 300, 400 },
	    { 100, 200 } }, 2);
	pdata(&p, base, 200, 100);
	expect_blocks(&p, base, 0, (const uint32_t[][2]){ { 100, 400 } }, 1);
	pdata(&p, base, 500, 100);
	pdata(&p, base, 700, 100);
	pdata(&p, base, 900, 100);
	drain(&p);
	pdata(&p, base, 1100, 100);
	/* four runs, three blocks: the newest and the two reported last */
	expect_blocks(&p, base, 0, (const uint32_t[][2]){ { 1100, 1200 },
	    { 900, 1000 }, { 700, 800 } }, 3);
	pdata(&p, base, 0, 100);
	expect_blocks(&p, base, 400, (const uint32_t[][2]){ { 1100, 1200 },
	    { 900, 1000 }, { 700, 800 } }, 3);
	pdata(&p, base, 400, 100);
	expect_blocks(&p, base, 600, (const uint32_t[][2]){ { 1100, 1200 },
	    { 900, 1000 }, { 700, 800 } }, 3);
	pdata(&p, base, 600, 100);
	pdata(&p, base, 800, 100);
	pdata(&p, base, 1000, 100);
	drain(&p);
	/* all in: no blocks */
	pdata(&p, base, 1200, 100);
	pdata(&p, base, 1300, 100);
	expect_blocks(&p, base, 1400, NULL, 0);
	p.snd_nxt = base + 1400;
	stack_read(fd, buf, 1400);
	assert_int_equal(tstat(&e, "sndsack"), 11);
	finish(&e, &p, fd);
}

/*
 * RFC 2883 4.1.1: a duplicate below RCV.NXT is reported as the first
 * block, once; 4.1.2: a duplicate of queued data, first, followed by the
 * block that holds it.
 */
static void
test_sack_dsack(void **state)
{
	struct tenv e;
	struct peer p;
	uint32_t base;
	int fd;

	(void)state;
	fd = sack_open(&e, &p, PO_ALL | PO_SACKOK);
	base = p.snd_nxt;
	pdata(&p, base, 0, 100);
	pdata(&p, base, 100, 100);
	expect_blocks(&p, base, 200, NULL, 0);
	pdata(&p, base, 0, 100);
	expect_blocks(&p, base, 200, (const uint32_t[][2]){ { 0, 100 } }, 1);
	pdata(&p, base, 300, 100);
	expect_blocks(&p, base, 200, (const uint32_t[][2]){ { 300, 400 } }, 1);
	pdata(&p, base, 300, 100);
	expect_blocks(&p, base, 200, (const uint32_t[][2]){ { 300, 400 },
	    { 300, 400 } }, 2);
	/* reported once: the next ACK has the ordinary block only */
	pdata(&p, base, 500, 100);
	expect_blocks(&p, base, 200, (const uint32_t[][2]){ { 500, 600 },
	    { 300, 400 } }, 2);
	/* 4.1.2 again: the block holding it second, ahead of newer ones */
	pdata(&p, base, 300, 100);
	expect_blocks(&p, base, 200, (const uint32_t[][2]){ { 300, 400 },
	    { 300, 400 }, { 500, 600 } }, 3);
	/* partly old: the old part */
	pdata(&p, base, 150, 150);
	expect_blocks(&p, base, 400, (const uint32_t[][2]){ { 150, 200 },
	    { 500, 600 } }, 2);
	assert_int_equal(tstat(&e, "snddsack"), 4);
	p.snd_nxt = base + 400;
	stack_read(fd, buf, 400);
	finish(&e, &p, fd);
}

/* ==== the sender ==== */

#define SEG MSS_TS

/* write n segments' worth and expect the first m of them */
static uint32_t
send_segs(struct peer *p, int fd, unsigned n, unsigned m)
{
	uint32_t s0 = p->rcv_nxt;

	stack_write(fd, buf, (size_t)n * SEG);
	for (unsigned i = 0; i < m; i++)
		expect_at(p, s0 + i * SEG, SEG);
	expect_nothing(p->e);
	return s0;
}

/* the ACK of s0 SACKing segments [from, to) */
static void
sack_segs(struct peer *p, uint32_t s0, unsigned from, unsigned to)
{
	const uint32_t b[1][2] = { { s0 + from * SEG, s0 + to * SEG } };

	peer_sack(p, s0, b, 1);
}

/*
 * Segment 0 of 10 lost.  Duplicate ACKs 1 and 2 (SACKing 1, then 1-2)
 * send a new segment each (RFC 3042); the third, SACKing 1-3, enters
 * recovery (RFC 6675 5): segment 0 again at once.  ssthresh = the 10
 * segments of flight, without the 2 limited transmit sent (RFC 6675 5
 * (4.2)), / 2 = 5; RecoverFS = 12.  While pipe is above ssthresh, PRR
 * (RFC 6937 3) lets 5/12 of what is delivered go, whole segments only:
 * nothing on the next three ACKs; at pipe = ssthresh nothing either;
 * below it PRR-SSRB sends one segment per ACK (12).  The ACK of
 * everything up to the recovery point ends recovery with cwnd = ssthresh.
 */
static void
test_sack_recovery_prr(void **state)
{
	struct rn_tcp_info i;
	struct tenv e;
	struct peer p;
	uint32_t s0;
	int fd;

	(void)state;
	fd = sack_open(&e, &p, PO_ALL | PO_SACKOK);
	s0 = send_segs(&p, fd, 20, 10);
	p.win = 30000;
	sack_segs(&p, s0, 1, 2);
	expect_at(&p, s0 + 10 * SEG, SEG);	/* limited transmit */
	expect_nothing(&e);
	sack_segs(&p, s0, 1, 3);
	expect_at(&p, s0 + 11 * SEG, SEG);
	expect_nothing(&e);
	sack_segs(&p, s0, 1, 4);
	expect_at(&p, s0, SEG);			/* the fast retransmit */
	expect_nothing(&e);
	i = tinfo(fd);
	assert_int_equal(i.ti.tcpi_ca_state, 3);
	assert_int_equal(i.snd_ssthresh_bytes, 5 * SEG);
	assert_int_equal(i.ti.tcpi_sacked, 3);
	sack_segs(&p, s0, 1, 5);		/* pipe 8: 2 * 5/12 due, 1 out */
	expect_nothing(&e);
	sack_segs(&p, s0, 1, 6);		/* pipe 7: 3 * 5/12 */
	expect_nothing(&e);
	sack_segs(&p, s0, 1, 7);		/* pipe 6: 4 * 5/12 */
	expect_nothing(&e);
	sack_segs(&p, s0, 1, 8);		/* pipe 5 = ssthresh */
	expect_nothing(&e);
	sack_segs(&p, s0, 1, 9);		/* pipe 4: PRR-SSRB */
	expect_at(&p, s0 + 12 * SEG, SEG);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "sackrecovery"), 1);
	assert_int_equal(tstat(&e, "sackrexmit"), 1);
	assert_int_equal(tstat(&e, "limitedxmit"), 2);
	assert_int_equal(tstat(&e, "rcvsack"), 8);
	assert_int_equal(tstat(&e, "sndrexmitpack"), 1);
	/* everything up to the end of recovery (segment 12) */
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + 12 * SEG, p.win, PO_AUTO, NULL,
	    0);
	i = tinfo(fd);
	assert_int_equal(i.ti.tcpi_ca_state, 0);
	assert_int_equal(i.snd_cwnd_bytes, 5 * SEG);
	assert_int_equal(i.ti.tcpi_sacked, 0);
	/* 1 in flight, cwnd 5: 4 new segments */
	for (unsigned k = 13; k < 17; k++)
		expect_at(&p, s0 + k * SEG, SEG);
	expect_nothing(&e);
	finish(&e, &p, fd);
}

/*
 * A duplicate ACK that SACKs new data and opens the window: counted as a
 * duplicate (RFC 6675 2) and the window is taken too (RFC 9293 3.10.7.4,
 * fifth step: SND.WL1 = SEG.SEQ, SND.WL2 = SEG.ACK, a larger window), so
 * limited transmit and recovery work within it.
 */
static void
test_sack_dupack_moves_window(void **state)
{
	struct tenv e;
	struct peer p;
	uint32_t s0;
	int fd;

	(void)state;
	fd = sack_open(&e, &p, PO_ALL | PO_SACKOK);
	s0 = send_segs(&p, fd, 20, 10);
	p.win = 30000;
	sack_segs(&p, s0, 1, 2);
	expect_at(&p, s0 + 10 * SEG, SEG);	/* limited transmit */
	expect_nothing(&e);
	assert_int_equal(tinfo(fd).snd_wnd, (uint32_t)p.win << p.ws);
	/* the same ACK with more SACKed and a larger window */
	p.win = 30100;
	sack_segs(&p, s0, 1, 3);
	expect_at(&p, s0 + 11 * SEG, SEG);
	expect_nothing(&e);
	assert_int_equal(tinfo(fd).snd_wnd, (uint32_t)p.win << p.ws);
	assert_int_equal(tstat(&e, "rcvdupack"), 2);
	assert_int_equal(tstat(&e, "limitedxmit"), 2);
	finish(&e, &p, fd);
}

/*
 * Segments 0 and 3 of 10 lost.  The third duplicate ACK enters recovery
 * and resends 0.  RecoverFS 10, ssthresh 5: the ACK SACKing 4-6 leaves
 * nothing due; the one SACKing 4-7 makes hole 3 lost (three segments
 * SACKed above it) with pipe 4 below ssthresh, and PRR-SSRB sends it;
 * the next, with nothing lost left and no new data, sends the rescue
 * retransmission of segment 9 (RFC 6675 NextSeg rule 4), once.
 */
static void
test_sack_two_holes(void **state)
{
	uint32_t blk[2][2];
	struct tenv e;
	struct peer p;
	uint32_t s0;
	int fd;

	(void)state;
	fd = sack_open(&e, &p, PO_ALL | PO_SACKOK);
	s0 = send_segs(&p, fd, 10, 10);
	sack_segs(&p, s0, 1, 2);
	sack_segs(&p, s0, 1, 3);
	blk[0][0] = s0 + 4 * SEG;
	blk[0][1] = s0 + 5 * SEG;
	blk[1][0] = s0 + 1 * SEG;
	blk[1][1] = s0 + 3 * SEG;
	peer_sack(&p, s0, (const uint32_t (*)[2])blk, 2);
	expect_at(&p, s0, SEG);
	expect_nothing(&e);
	blk[0][1] = s0 + 6 * SEG;
	peer_sack(&p, s0, (const uint32_t (*)[2])blk, 2);
	expect_nothing(&e);
	blk[0][1] = s0 + 7 * SEG;
	peer_sack(&p, s0, (const uint32_t (*)[2])blk, 2);
	expect_at(&p, s0 + 3 * SEG, SEG);
	expect_nothing(&e);
	blk[0][1] = s0 + 8 * SEG;
	peer_sack(&p, s0, (const uint32_t (*)[2])blk, 2);
	expect_at(&p, s0 + 9 * SEG, SEG);	/* the rescue */
	expect_nothing(&e);
	for (unsigned k = 9; k <= 10; k++) {
		blk[0][1] = s0 + k * SEG;
		peer_sack(&p, s0, (const uint32_t (*)[2])blk, 2);
		expect_nothing(&e);
	}
	assert_int_equal(tstat(&e, "sackrexmit"), 2);
	assert_int_equal(tstat(&e, "sackrescue"), 1);
	assert_int_equal(tstat(&e, "sndrexmitpack"), 3);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + 10 * SEG, p.win, PO_AUTO, NULL,
	    0);
	assert_int_equal(tinfo(fd).ti.tcpi_ca_state, 0);
	assert_int_equal(tinfo(fd).bytes_in_flight, 0);
	finish(&e, &p, fd);
}

/* RFC 2018 8: a retransmission timeout forgets what was SACKed. */
static void
test_sack_rto_clears(void **state)
{
	struct tenv e;
	struct peer p;
	uint32_t s0;
	int fd;

	(void)state;
	fd = sack_open(&e, &p, PO_ALL | PO_SACKOK);
	s0 = send_segs(&p, fd, 4, 4);
	sack_segs(&p, s0, 1, 4);
	assert_int_equal(tinfo(fd).ti.tcpi_sacked, 3);
	/* three segments SACKed above it: segment 0 is lost (IsLost) */
	expect_at(&p, s0, SEG);
	expect_nothing(&e);
	tenv_advance(&e, tinfo(fd).ti.tcpi_rto / 1000);
	expect_at(&p, s0, SEG);
	assert_int_equal(tinfo(fd).ti.tcpi_sacked, 0);
	assert_int_equal(tstat(&e, "rexmttimeo"), 1);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + 4 * SEG, p.win, PO_AUTO, NULL,
	    0);
	assert_int_equal(tinfo(fd).bytes_in_flight, 0);
	finish(&e, &p, fd);
}

/*
 * Blocks that are not data in flight are ignored and counted: start not
 * before end, beyond SND.MAX, wrapped, wholly below the ACK (not first).
 * A first block below the ACK is a D-SACK; one for data never resent is
 * not spurious.
 */
static void
test_sack_bad_blocks(void **state)
{
	uint32_t b[4][2];
	struct tenv e;
	struct peer p;
	uint32_t s0;
	int fd;

	(void)state;
	fd = sack_open(&e, &p, PO_ALL | PO_SACKOK);
	s0 = send_segs(&p, fd, 4, 4);
	b[0][0] = s0 + 2 * SEG;			/* inverted */
	b[0][1] = s0 + SEG;
	b[1][0] = s0 + 4 * SEG;			/* beyond SND.MAX */
	b[1][1] = s0 + 5 * SEG;
	b[2][0] = s0 + 0x80000000u;		/* wrapped */
	b[2][1] = s0 + 0x80000100u;
	b[3][0] = s0 - 2000;			/* below, not first */
	b[3][1] = s0 - 1000;
	peer_sack(&p, s0, (const uint32_t (*)[2])b, 3);
	/* 3 blocks with timestamps (36 bytes is too many for 40 - 12) */
	assert_int_equal(tstat(&e, "rcvsackbad"), 3);
	b[0][0] = s0 - 2000;			/* a D-SACK ... */
	b[0][1] = s0 - 1000;
	b[1][0] = s0 - 2000;			/* ... and a bad one */
	b[1][1] = s0 - 1000;
	peer_sack(&p, s0, (const uint32_t (*)[2])b, 2);
	assert_int_equal(tstat(&e, "rcvsackbad"), 4);
	assert_int_equal(tstat(&e, "rcvdsack"), 1);
	assert_int_equal(tstat(&e, "dsackspurious"), 0);
	assert_int_equal(tinfo(fd).ti.tcpi_sacked, 0);
	expect_nothing(&e);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + 4 * SEG, p.win, PO_AUTO, NULL,
	    0);
	assert_int_equal(tinfo(fd).bytes_in_flight, 0);
	finish(&e, &p, fd);
}

/*
 * SACK Panic class: a flood of one-byte blocks, each a new range.  The
 * scoreboard keeps TCP_SCB_MAX (32) ranges, the rest are counted and
 * forgotten; the connection recovers and completes.
 */
static void
test_sack_tiny_block_flood(void **state)
{
	uint32_t b[1][2];
	struct tenv e;
	struct peer p;
	uint32_t s0;
	int fd;

	(void)state;
	fd = sack_open(&e, &p, PO_ALL | PO_SACKOK);
	s0 = send_segs(&p, fd, 10, 10);
	for (unsigned k = 0; k < 2000; k++) {
		b[0][0] = s0 + SEG + 2 * k;
		b[0][1] = b[0][0] + 1;
		peer_sack(&p, s0, (const uint32_t (*)[2])b, 1);
	}
	assert_int_equal(tstat(&e, "sackboardfull"), 2000 - 32);
	assert_int_equal(tstat(&e, "rcvsack"), 2000);
	drain(&p);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + 10 * SEG, p.win, PO_AUTO, NULL,
	    0);
	assert_int_equal(tinfo(fd).bytes_in_flight, 0);
	assert_int_equal(tinfo(fd).ti.tcpi_sacked, 0);
	finish(&e, &p, fd);
}

/*
 * RFC 6675 5 (4.3): recovery begins by resending HighACK + 1, even when
 * the duplicate ACKs carry no SACK blocks (a middlebox stripped them).
 */
static void
test_sack_recovery_without_blocks(void **state)
{
	struct tenv e;
	struct peer p;
	uint32_t s0;
	int fd;

	(void)state;
	fd = sack_open(&e, &p, PO_ALL | PO_SACKOK);
	s0 = send_segs(&p, fd, 10, 10);
	/* the first moves the window (the SYN-ACK's is unscaled) */
	for (int k = 0; k < 3; k++) {
		peer_seg(&p, TH_ACK, p.snd_nxt, s0, p.win, PO_AUTO, NULL, 0);
		expect_nothing(&e);
	}
	peer_seg(&p, TH_ACK, p.snd_nxt, s0, p.win, PO_AUTO, NULL, 0);
	expect_at(&p, s0, SEG);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "sackrecovery"), 1);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + 10 * SEG, p.win, PO_AUTO, NULL,
	    0);
	finish(&e, &p, fd);
}

/*
 * RFC 6675 NextSeg rule 4: the rescue retransmission holds the highest
 * unSACKed sequence number, the FIN's when it was sent: segments 0 and
 * the FIN lost, 1-3 SACKed: 0 goes again, then the FIN.
 */
static void
test_sack_rescue_fin(void **state)
{
	struct tseg t;
	struct tenv e;
	struct peer p;
	uint32_t s0;
	int fd;

	(void)state;
	fd = sack_open(&e, &p, PO_ALL | PO_SACKOK);
	s0 = send_segs(&p, fd, 4, 4);
	assert_int_equal(rump_sys_shutdown(fd, SHUT_WR), 0);
	assert_true(tap_read(&e, &t));
	assert_int_equal(t.flags & TH_FIN, TH_FIN);
	assert_int_equal(t.seq, s0 + 4 * SEG);
	p.rcv_nxt = s0 + 4 * SEG + 1;
	sack_segs(&p, s0, 1, 2);
	sack_segs(&p, s0, 1, 3);
	expect_nothing(&e);
	sack_segs(&p, s0, 1, 4);
	expect_at(&p, s0, SEG);
	assert_true(tap_read(&e, &t));
	assert_int_equal(t.flags & TH_FIN, TH_FIN);
	assert_int_equal(t.seq, s0 + 4 * SEG);
	assert_int_equal(t.len, 0);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "sackrescue"), 1);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + 4 * SEG + 1, p.win, PO_AUTO,
	    NULL, 0);
	assert_int_equal(tstate(fd), TCP_FIN_WAIT2);
	finish(&e, &p, fd);
}

/* ==== RACK-TLP (RFC 8985) ==== */

/*
 * Time-based loss: ten segments leave at t0; 10 ms later the peer SACKs
 * segment 1 only.  Segment 0 left no later than segment 1, so it is lost
 * once RACK.rtt (10 ms) plus the reordering window (min RTT / 4 = 2.5
 * ms: no reordering seen, not in recovery, fewer than DupThresh
 * SACKed) has passed since it left: at t0 + 12.5 ms, the reordering
 * timer's third tick, and not before; one duplicate ACK only.
 */
static void
test_rack_reordering_window(void **state)
{
	struct tenv e;
	struct peer p;
	uint32_t s0;
	int fd;

	(void)state;
	fd = sack_open_rack(&e, &p, PO_ALL | PO_SACKOK, true);
	s0 = send_segs(&p, fd, 10, 10);
	tenv_advance(&e, 10);
	sack_segs(&p, s0, 1, 2);
	expect_nothing(&e);
	tenv_advance(&e, 2);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	expect_at(&p, s0, SEG);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "racklost"), 1);
	assert_int_equal(tstat(&e, "sackrecovery"), 1);
	assert_int_equal(tstat(&e, "rexmttimeo"), 0);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + 10 * SEG, p.win, PO_AUTO, NULL,
	    0);
	assert_int_equal(tinfo(fd).bytes_in_flight, 0);
	finish(&e, &p, fd);
}

/*
 * RFC 8985 6.2 step 4: a round trip that brings D-SACKs widens the
 * reordering window by min RTT / 4, once however many it brings.  After
 * two D-SACKs of old data while a second flight is out, the loss of
 * test_rack_reordering_window is found at RACK.rtt + 2 * 2.5 ms = 15 ms
 * after the flight left, not at 12.5 ms.
 */
static void
test_rack_dsack_widens_window(void **state)
{
	uint32_t s0, s1, d[1][2];
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	fd = sack_open_rack(&e, &p, PO_ALL | PO_SACKOK, true);
	s0 = send_segs(&p, fd, 10, 10);
	tenv_advance(&e, 10);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + 10 * SEG, p.win, PO_AUTO, NULL,
	    0);
	expect_nothing(&e);
	s1 = send_segs(&p, fd, 10, 10);
	d[0][0] = s0;		/* segment 0, acknowledged before */
	d[0][1] = s0 + SEG;
	peer_sack(&p, s1, (const uint32_t (*)[2])d, 1);
	peer_sack(&p, s1, (const uint32_t (*)[2])d, 1);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "rcvdsack"), 2);
	assert_int_equal(tstat(&e, "rackreowide"), 1);
	tenv_advance(&e, 10);
	sack_segs(&p, s1, 1, 2);
	expect_nothing(&e);
	tenv_advance(&e, 4);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	expect_at(&p, s1, SEG);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "racklost"), 1);
	assert_int_equal(tstat(&e, "sackrecovery"), 1);
	assert_int_equal(tstat(&e, "rexmttimeo"), 0);
	peer_seg(&p, TH_ACK, p.snd_nxt, s1 + 10 * SEG, p.win, PO_AUTO, NULL,
	    0);
	assert_int_equal(tinfo(fd).bytes_in_flight, 0);
	finish(&e, &p, fd);
}

/*
 * A lost retransmission (RFC 8985 2.2, the case RFC 6675 leaves to the
 * retransmission timer): segment 0 of 10 lost; at t0 + 10 ms the peer
 * SACKs 1-9; recovery resends 0 and PRR-SSRB sends new segments 10-13
 * (ssthresh 5, pipe 0).  The resend of 0 is lost too: at t0 + 20 ms the
 * peer SACKs segment 10, sent with it but after it, so 0 is lost again
 * (reordering window 0 in recovery) and goes a third time, with new
 * segment 14, and no timeout.
 */
static void
test_rack_lost_retransmission(void **state)
{
	struct tenv e;
	struct peer p;
	uint32_t s0;
	int fd;

	(void)state;
	fd = sack_open_rack(&e, &p, PO_ALL | PO_SACKOK, true);
	s0 = send_segs(&p, fd, 20, 10);
	tenv_advance(&e, 10);
	sack_segs(&p, s0, 1, 10);
	expect_at(&p, s0, SEG);
	for (unsigned k = 10; k < 14; k++)
		expect_at(&p, s0 + k * SEG, SEG);
	expect_nothing(&e);
	tenv_advance(&e, 10);
	sack_segs(&p, s0, 1, 11);
	expect_at(&p, s0, SEG);
	expect_at(&p, s0 + 14 * SEG, SEG);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "sndrexmitpack"), 2);
	assert_int_equal(tstat(&e, "rexmttimeo"), 0);
	assert_int_equal(tstat(&e, "sackrecovery"), 1);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + 15 * SEG, p.win, PO_AUTO, NULL,
	    0);
	assert_int_equal(tinfo(fd).ti.tcpi_ca_state, 0);
	finish(&e, &p, fd);
}

/* read everything sent; how many segments began at seq */
static unsigned
drain_count(struct peer *p, uint32_t seq)
{
	struct tseg s;
	unsigned n = 0;

	while (tap_read(p->e, &s)) {
		if (s.len > 0 && s.seq == seq)
			n++;
		if ((int32_t)(s.seq + (uint32_t)s.len - p->rcv_nxt) > 0)
			p->rcv_nxt = s.seq + (uint32_t)s.len;
	}
	return n;
}

/*
 * A resend that leaves after new data in the same instant is not older
 * than that data: when the new data is SACKed first (it went first),
 * the resend is not lost.  RFC 8985 orders equal times by sequence
 * number, which would call it lost at once; rumpnet's transmit stamps
 * are strictly increasing (tcp_rack.c).
 */
static void
test_rack_resend_after_new_data(void **state)
{
	uint32_t b[2][2];
	struct tenv e;
	struct peer p;
	uint32_t s0;
	int fd;

	(void)state;
	fd = sack_open_rack(&e, &p, PO_ALL | PO_SACKOK, true);
	s0 = send_segs(&p, fd, 30, 10);
	tenv_advance(&e, 10);
	/* segment 0 acknowledged: new data goes; then 1 turns out lost */
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + SEG, p.win, PO_AUTO, NULL, 0);
	for (unsigned k = 3; k <= 5; k++) {
		b[0][0] = s0 + 2 * SEG;
		b[0][1] = s0 + k * SEG;
		peer_sack(&p, s0 + SEG, (const uint32_t (*)[2])b, 1);
	}
	assert_int_equal(drain_count(&p, s0 + SEG), 1);
	assert_int_equal(tstat(&e, "sackrecovery"), 1);
	/* 10 ms on, the new data is SACKed, the resend not yet */
	tenv_advance(&e, 10);
	b[0][0] = s0 + 10 * SEG;
	b[0][1] = p.rcv_nxt;
	b[1][0] = s0 + 2 * SEG;
	b[1][1] = s0 + 10 * SEG;
	peer_sack(&p, s0 + SEG, (const uint32_t (*)[2])b, 2);
	assert_int_equal(drain_count(&p, s0 + SEG), 0);
	assert_int_equal(tstat(&e, "sndrexmitpack"), 1);
	peer_seg(&p, TH_ACK, p.snd_nxt, p.rcv_nxt, p.win, PO_AUTO, NULL, 0);
	finish(&e, &p, fd);
}

/*
 * expected PTO of fd (RFC 8985 7.2): 2 * SRTT, at least 10 ms, in ms
 */
static uint64_t
pto_ms(int fd)
{
	uint64_t pto = 2 * (uint64_t)tinfo(fd).ti.tcpi_rtt / 1000;

	return pto < 10 ? 10 : pto;
}

/*
 * Tail loss probe: three segments, the peer ACKs the first 10 ms later
 * and nothing more.  One PTO after that ACK (two segments in flight, no
 * WCDelAckT), with no new data to send, the last segment goes again
 * (RFC 8985 7.3).  The peer then ACKs everything; the episode ends with
 * the ACK of the next segment, beyond TLP.end_seq, with no D-SACK: the
 * probe repaired a loss, and the window is reduced as a fast recovery
 * would (7.4): ssthresh = cwnd = 2 segments (the floor).
 */
static void
test_tlp_probe_repairs(void **state)
{
	struct rn_tcp_info i;
	struct tenv e;
	struct peer p;
	uint32_t s0;
	uint64_t pto;
	int fd;

	(void)state;
	fd = sack_open_rack(&e, &p, PO_ALL | PO_SACKOK, true);
	s0 = send_segs(&p, fd, 3, 3);
	tenv_advance(&e, 10);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + SEG, p.win, PO_AUTO, NULL, 0);
	pto = pto_ms(fd);
	assert_true(pto < tinfo(fd).ti.tcpi_rto / 1000);
	tenv_advance(&e, pto - 1);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	expect_at(&p, s0 + 2 * SEG, SEG);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "tlpprobe"), 1);
	assert_int_equal(tstat(&e, "tlprexmit"), 1);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + 3 * SEG, p.win, PO_AUTO, NULL, 0);
	/* TLP.end_seq acknowledged: a D-SACK may still come; wait */
	assert_int_equal(tstat(&e, "tlprecovered"), 0);
	stack_write(fd, buf, SEG);
	expect_at(&p, s0 + 3 * SEG, SEG);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + 4 * SEG, p.win, PO_AUTO, NULL, 0);
	assert_int_equal(tstat(&e, "tlprecovered"), 1);
	i = tinfo(fd);
	assert_int_equal(i.snd_ssthresh_bytes, 2 * SEG);
	assert_int_equal(i.snd_cwnd_bytes, 2 * SEG);
	assert_int_equal(tstat(&e, "rexmttimeo"), 0);
	finish(&e, &p, fd);
}

/*
 * The probe reported twice (a D-SACK for it): nothing was lost, so no
 * window reduction; the window is what it was.
 */
static void
test_tlp_probe_dsacked(void **state)
{
	uint32_t b[1][2];
	uint32_t cwnd;
	struct tenv e;
	struct peer p;
	uint32_t s0;
	int fd;

	(void)state;
	fd = sack_open_rack(&e, &p, PO_ALL | PO_SACKOK, true);
	s0 = send_segs(&p, fd, 3, 3);
	tenv_advance(&e, 10);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + SEG, p.win, PO_AUTO, NULL, 0);
	cwnd = tinfo(fd).snd_cwnd_bytes;
	tenv_advance(&e, pto_ms(fd));
	expect_at(&p, s0 + 2 * SEG, SEG);
	b[0][0] = s0 + 2 * SEG;
	b[0][1] = s0 + 3 * SEG;
	peer_sack(&p, s0 + 3 * SEG, (const uint32_t (*)[2])b, 1);
	assert_int_equal(tstat(&e, "rcvdsack"), 1);
	assert_int_equal(tstat(&e, "tlprecovered"), 0);
	assert_true(tinfo(fd).snd_cwnd_bytes >= cwnd);
	finish(&e, &p, fd);
}

/*
 * One segment in flight: PTO = 2 * SRTT + WCDelAckT = 220 ms comes after
 * the RTO (200 ms after the send here), so the probe goes in the RTO's
 * place, a tick before it (RFC 8985 7.2): the segment again, counted as
 * a probe and not a timeout, the window untouched.  The probe re-arms
 * the RTO in full: with still no ACK, the timeout comes one RTO after
 * the probe, and only then is the window cut.
 */
static void
test_tlp_at_rto_one_segment(void **state)
{
	struct tenv e;
	struct peer p;
	uint32_t s0, cwnd;
	uint64_t rto;
	int fd;

	(void)state;
	fd = sack_open_rack(&e, &p, PO_ALL | PO_SACKOK, true);
	rto = tinfo(fd).ti.tcpi_rto / 1000;
	assert_true(pto_ms(fd) + 200 > rto);
	cwnd = tinfo(fd).snd_cwnd_bytes;
	s0 = send_segs(&p, fd, 1, 1);
	tenv_advance(&e, rto - 2);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	expect_at(&p, s0, SEG);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "tlpprobe"), 1);
	assert_int_equal(tstat(&e, "tlprexmit"), 1);
	assert_int_equal(tstat(&e, "rexmttimeo"), 0);
	assert_int_equal(tinfo(fd).snd_cwnd_bytes, cwnd);
	tenv_advance(&e, rto - 1);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	expect_at(&p, s0, SEG);
	assert_int_equal(tstat(&e, "rexmttimeo"), 1);
	assert_int_equal(tstat(&e, "tlpprobe"), 1);
	assert_int_equal(tinfo(fd).snd_cwnd_bytes, SEG);
	peer_seg(&p, TH_ACK, p.snd_nxt, s0 + SEG, p.win, PO_AUTO, NULL, 0);
	finish(&e, &p, fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sack_syn_layout),
		cmocka_unit_test(test_sack_not_offered),
		cmocka_unit_test(test_sack_param_off),
		cmocka_unit_test(test_sack_receiver_blocks),
		cmocka_unit_test(test_sack_dsack),
		cmocka_unit_test(test_sack_recovery_prr),
		cmocka_unit_test(test_sack_dupack_moves_window),
		cmocka_unit_test(test_sack_two_holes),
		cmocka_unit_test(test_sack_rto_clears),
		cmocka_unit_test(test_sack_bad_blocks),
		cmocka_unit_test(test_sack_tiny_block_flood),
		cmocka_unit_test(test_sack_recovery_without_blocks),
		cmocka_unit_test(test_sack_rescue_fin),
		cmocka_unit_test(test_rack_reordering_window),
		cmocka_unit_test(test_rack_lost_retransmission),
		cmocka_unit_test(test_rack_resend_after_new_data),
		cmocka_unit_test(test_tlp_probe_repairs),
		cmocka_unit_test(test_tlp_probe_dsacked),
		cmocka_unit_test(test_rack_dsack_widens_window),
		cmocka_unit_test(test_tlp_at_rto_one_segment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
