/*
 * test_badinput_tcp.c -- the bad-input suite (issue 8), TCP: data
 * offsets that disagree, malformed options, the urgent pointer,
 * out-of-order floods, impossible flag combinations, ICMP
 * fragmentation needed with absurd MTUs, ISN predictability.
 *
 * One named test per bug class, segments written out through
 * tcpseg.h's fake peer (or byte by byte where the peer cannot build
 * them), the exact outcome asserted: the counter that dropped the
 * segment, or the exact answer, and nothing else sent; every pool back
 * to zero at the end (tenv_down()).
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

#define PORT 80

/*
 * send_tcp: tlen bytes of TCP at t (header fields already in place)
 * from the peer to the stack, checksummed here over exactly those bytes.
 */
static void
send_tcp(struct tenv *e, uint8_t *t, size_t tlen)
{
	uint8_t f[TS_FRAME_MAX];
	size_t n;
	uint16_t c;

	t[16] = t[17] = 0;
	c = ref_cksum(t, tlen, ref_pseudo(ip(TS_PEER_ADDR), ip(TS_STACK_ADDR),
	    6, tlen));
	memcpy(t + 16, &c, 2);
	n = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0,
	    (uint16_t)(20 + tlen), 0x300, 0x4000, 6);
	memcpy(f + n, t, tlen);
	bi_send(e, f, n + tlen);
}

/* A TCP header at t with data offset doff (in 32-bit words). */
static void
tcp_hdr(uint8_t *t, uint16_t sport, uint16_t dport, uint32_t seq,
    uint32_t ack, unsigned doff, uint8_t flags)
{
	memset(t, 0, 20);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)(doff << 4);
	t[13] = flags;
	put16(t + 14, 65535);
}

/* peer_opts: a segment from p with raw option bytes (padded with EOL) */
static void
peer_opts(struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack,
    const uint8_t *o, size_t olen, const void *data, size_t len)
{
	uint8_t opt[40] = { 0 };

	assert_true(olen <= 40);
	memcpy(opt, o, olen);
	peer_raw(p, flags, seq, ack, p->win, opt, (olen + 3) & ~(size_t)3,
	    data, len);
}

/* peer_urg: a segment from p with URG and urgent pointer urp */
static void
peer_urg(struct peer *p, uint8_t flags, uint32_t ack, uint16_t urp,
    const void *data, size_t len)
{
	uint8_t f[TS_FRAME_MAX], *th;
	size_t n = 20 + len;

	assert_false(p->ts_on);
	th = f;
	tcp_hdr(th, p->port, p->sport, p->snd_nxt, ack, 5,
	    (uint8_t)(flags | TH_URG));
	put16(th + 14, p->win);
	put16(th + 18, urp);
	if (len > 0)
		memcpy(th + 20, data, len);
	send_tcp(p->e, th, n);
	p->snd_nxt += (uint32_t)len + ((flags & TH_FIN) ? 1u : 0u);
}

/*
 * Lengths that disagree, TCP (AMNESIA:33 CVE-2020-17443/24336, Ripple20
 * CVE-2020-11901's class, NUCLEUS:13 CVE-2021-31881: the data offset
 * trusted): fewer than 20 bytes of TCP, data offsets 0 and 4 (inside
 * the fixed header), 15 (60 bytes) with 20 present, 6 with 20 present;
 * to a listening port and to a closed one.  No SYN-ACK, no RST.
 */
static void
test_badinput_len_tcp(void **state)
{
	static const unsigned doffs[] = { 0, 4, 15, 6 };
	struct tenv e;
	uint8_t t[64];
	int lfd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);
	tcp_hdr(t, 30000, PORT, 1000, 0, 5, TH_SYN);
	send_tcp(&e, t, 12);
	assert_int_equal(tstat(&e, "rcvshort"), 1);
	for (size_t i = 0; i < BI_NITEMS(doffs); i++) {
		tcp_hdr(t, 30000, PORT, 1000, 0, doffs[i], TH_SYN);
		send_tcp(&e, t, 20);
		tcp_hdr(t, 30000, 81, 1000, 0, doffs[i], TH_SYN);
		send_tcp(&e, t, 20);
	}
	assert_int_equal(tstat(&e, "rcvbadoff"), 2 * BI_NITEMS(doffs));
	/* the IP total length says 20 bytes of TCP, 40 sit in the frame */
	{
		uint8_t f[128];
		size_t n = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 40,
		    0x301, 0x4000, 6);

		uint16_t c;

		tcp_hdr(f + n, 30000, PORT, 1000, 0, 10, TH_SYN);
		memset(f + n + 20, 0, 20);
		c = ref_cksum(f + n, 20, ref_pseudo(ip(TS_PEER_ADDR),
		    ip(TS_STACK_ADDR), 6, 20));
		memcpy(f + n + 16, &c, 2);
		bi_send(&e, f, n + 40);
	}
	assert_int_equal(tstat(&e, "rcvbadoff"), 2 * BI_NITEMS(doffs) + 1);
	assert_int_equal(tstat(&e, "accepts"), 0);
	assert_int_equal(tstat(&e, "noport"), 0);
	expect_nothing(&e);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * TCP options with length 0, 1 and past the header (AMNESIA:33
 * CVE-2020-17439/24335, URGENT/11 CVE-2019-12255's parser, NUCLEUS:13
 * CVE-2021-31881, Ripple20 CVE-2020-11901): every known option and an
 * unknown one, in a SYN to a listener and in a data segment of an
 * established connection; an option kind as the last byte.  The segment
 * is dropped (tcp.rcvbadopt), nothing answered, no data delivered.
 */
static void
test_badinput_tcpopt_lengths(void **state)
{
	static const uint8_t kinds[] = { 2, 3, 4, 5, 8, 30 };
	struct tenv e;
	struct peer p;
	uint8_t o[8];
	uint64_t bad = 0;
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);
	peer_init(&p, &e, 30001, PO_NONE);
	p.sport = PORT;
	for (size_t i = 0; i < BI_NITEMS(kinds); i++) {
		/* length 0, length 1, length 5 in 4 bytes, 41 in 40 */
		static const uint8_t lens[] = { 0, 1, 5, 41 };

		for (size_t j = 0; j < BI_NITEMS(lens); j++) {
			uint8_t big[40] = { kinds[i], lens[j] };

			memset(o, 0, sizeof(o));
			o[0] = kinds[i];
			o[1] = lens[j];
			if (lens[j] == 41)
				peer_opts(&p, TH_SYN, p.iss, 0, big, 40, NULL,
				    0);
			else
				peer_opts(&p, TH_SYN, p.iss, 0, o, 4, NULL, 0);
			assert_int_equal(tstat(&e, "rcvbadopt"), ++bad);
		}
	}
	/* NOP NOP NOP and the kind of an MSS with no room for its length */
	o[0] = o[1] = o[2] = 1;
	o[3] = 2;
	peer_opts(&p, TH_SYN, p.iss, 0, o, 4, NULL, 0);
	assert_int_equal(tstat(&e, "rcvbadopt"), ++bad);
	assert_int_equal(tstat(&e, "accepts"), 0);
	expect_nothing(&e);

	/* an established connection: the data is not taken */
	fd = passive_open(&p, lfd);
	o[0] = 8;
	o[1] = 0;
	peer_opts(&p, TH_ACK | TH_PUSH, p.snd_nxt, p.rcv_nxt, o, 4, "abcd", 4);
	assert_int_equal(tstat(&e, "rcvbadopt"), ++bad);
	expect_nothing(&e);
	stack_read_none(fd);
	/* the same data, well formed, is */
	peer_send(&p, TH_ACK | TH_PUSH, "abcd", 4);
	stack_read(fd, "abcd", 4);
	tenv_advance(&e, 500);	/* the delayed ACK */
	expect_ack(&p);
	conn_abort(&p, fd);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * Odd alignment (the unaligned reads of URGENT/11 and AMNESIA:33 on
 * strict CPUs): MSS, window scale, SACK permitted and timestamps packed
 * without NOP padding, starting at odd offsets.  Every one is parsed:
 * the SYN-ACK answers window scale and timestamps, the MSS is used.
 */
static void
test_badinput_tcpopt_odd_alignment(void **state)
{
	struct tenv e;
	struct peer p;
	uint8_t o[20];
	int lfd, fd;
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);
	peer_init(&p, &e, 30002, PO_MSS | PO_WS | PO_TS);
	p.sport = PORT;
	o[0] = TCPOPT_NOP;
	o[1] = TCPOPT_WINDOW;		/* offset 1 */
	o[2] = 3;
	o[3] = 3;
	o[4] = TCPOPT_MAXSEG;		/* offset 4 */
	o[5] = 4;
	put16(o + 6, 1000);
	o[8] = TCPOPT_SACK_PERMITTED;
	o[9] = 2;
	o[10] = TCPOPT_TIMESTAMP;	/* offset 10: TSval at 12, TSecr 16 */
	o[11] = 10;
	put32(o + 12, p.tsval);
	put32(o + 16, 0);
	peer_opts(&p, TH_SYN, p.snd_nxt, 0, o, 20, NULL, 0);
	p.snd_nxt++;
	p.tsval++;
	expect_synack(&p);
	assert_true(p.last.ws_p && p.last.ts_p && p.last.mss_p);
	assert_int_equal(p.last.tsecr, p.tsval - 1);
	p.ws = 3;
	peer_ack(&p);
	fd = rump_sys_accept4(lfd, (struct sockaddr *)&from, &fromlen,
	    SOCK_NONBLOCK);
	assert_true(fd >= 0);
	/* RFC 6691: 1000 less the 12 bytes of timestamps */
	assert_int_equal(tinfo(fd).ti.tcpi_snd_mss, 988);
	assert_int_equal(tinfo(fd).ti.tcpi_snd_wscale, 3);
	assert_int_equal(tstat(&e, "rcvbadopt"), 0);
	assert_int_equal(tstat(&e, "rcvoptignored"), 0);
	conn_abort(&p, fd);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * Malformed SACK and timestamp options (SACK Panic CVE-2019-11477/
 * 11478/11479; AMNESIA:33 CVE-2020-24336's option lengths): SACK blocks
 * with lengths that are no 2 + 8n, blocks past SND.MAX or reversed, a
 * SACK-permitted and timestamps of the wrong length in a SYN, and an MSS
 * of 1 that would cut the stream in 1-byte segments (SACK Panic's
 * CVE-2019-11479): ignored and counted, never used, the data taken, the
 * MSS kept at the 64-byte floor.
 */
static void
test_badinput_tcpopt_sack_timestamp(void **state)
{
	struct tenv e;
	struct peer p;
	uint8_t o[40], big[600];
	int lfd, fd;
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	const struct tseg *s;
	uint64_t ign;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);
	peer_init(&p, &e, 30003, PO_MSS);
	p.sport = PORT;
	/* MSS 1, SACK permitted of length 3, timestamps of length 9 */
	memset(o, 0, sizeof(o));
	o[0] = TCPOPT_MAXSEG;
	o[1] = 4;
	put16(o + 2, 1);
	o[4] = TCPOPT_SACK_PERMITTED;
	o[5] = 3;
	o[7] = TCPOPT_TIMESTAMP;
	o[8] = 9;
	peer_opts(&p, TH_SYN, p.snd_nxt, 0, o, 16, NULL, 0);
	p.snd_nxt++;
	assert_int_equal(tstat(&e, "rcvoptignored"), 2);
	s = expect_synack(&p);
	assert_false(s->ts_p);
	assert_false(s->sackok_p);
	peer_ack(&p);
	fd = rump_sys_accept4(lfd, (struct sockaddr *)&from, &fromlen,
	    SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(tinfo(fd).ti.tcpi_snd_mss, 64);

	/* SACK options of lengths 2, 3, 9, 11 and 35 (no 2 + 8n) */
	ign = tstat(&e, "rcvoptignored");
	{
		static const uint8_t lens[] = { 2, 3, 9, 11, 35 };

		for (size_t i = 0; i < BI_NITEMS(lens); i++) {
			memset(o, 0, sizeof(o));
			o[0] = TCPOPT_NOP;
			o[1] = TCPOPT_NOP;
			o[2] = TCPOPT_SACK;
			o[3] = lens[i];
			/* (and within o, which -O3's overflow check cannot see) */
			for (size_t j = 4; j + 4 <= (size_t)lens[i] + 2 &&
			    j + 4 <= sizeof(o); j += 4)
				put32(o + j, p.rcv_nxt + (uint32_t)j);
			peer_opts(&p, TH_ACK, p.snd_nxt, p.rcv_nxt, o,
			    (size_t)lens[i] + 2, "x", 1);
			p.snd_nxt++;
			if (i % 2 == 1)
				expect_ack(&p);	/* every second one */
			assert_int_equal(tstat(&e, "rcvoptignored"),
			    ign + i + 1);
		}
	}
	/* well-formed SACK blocks, reversed and far past SND.MAX */
	memset(o, 0, sizeof(o));
	o[0] = TCPOPT_NOP;
	o[1] = TCPOPT_NOP;
	o[2] = TCPOPT_SACK;
	o[3] = 2 + 4 * 8;
	for (int j = 0; j < 4; j++) {
		put32(o + 4 + 8 * j, p.rcv_nxt + 0x40000000u * (uint32_t)j +
		    1000);
		put32(o + 8 + 8 * j, p.rcv_nxt + 0x40000000u * (uint32_t)j);
	}
	peer_opts(&p, TH_ACK, p.snd_nxt, p.rcv_nxt, o, 36, "y", 1);
	p.snd_nxt++;
	assert_int_equal(tstat(&e, "rcvoptignored"), ign + 5);
	expect_ack(&p);
	stack_read(fd, "xxxxxy", 6);
	expect_nothing(&e);

	/* 600 bytes go out in 64-byte segments: 10, no smaller */
	memset(big, 'z', sizeof(big));
	stack_write(fd, big, sizeof(big));
	for (int i = 0; i < 9; i++)
		assert_int_equal(expect_data(&p, 64, false)->len, 64);
	assert_int_equal(expect_data(&p, 24, true)->len, 24);
	peer_ack(&p);
	expect_nothing(&e);
	conn_abort(&p, fd);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * Window scale above 14 (RFC 7323 2.3; the shift overflow of the
 * SegmentSmack era and NUCLEUS:13 CVE-2021-31883): 15 and 255 are taken
 * as 14: a window field of 1 is 16,384 bytes, not 0 or 2^255.
 */
static void
test_badinput_tcpopt_wscale_above_14(void **state)
{
	static const uint8_t shifts[] = { 15, 255 };
	struct tenv e;
	struct peer p;
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);
	for (size_t i = 0; i < BI_NITEMS(shifts); i++) {
		peer_init(&p, &e, (uint16_t)(30004 + i), PO_MSS | PO_WS);
		p.sport = PORT;
		p.ws = shifts[i];
		p.win = 1;	/* the ACK of the handshake: 1 << 14 */
		fd = passive_open(&p, lfd);
		assert_int_equal(tinfo(fd).ti.tcpi_snd_wscale, 14);
		assert_int_equal(tinfo(fd).snd_wnd, 16384);
		conn_abort(&p, fd);
	}
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * Urgent pointer 0 (URGENT/11 CVE-2019-12255/12260/12261/12263: the
 * urgent pointer of 0 underflowed the length of the urgent data): the
 * segment's data all goes to the stream, counted in tcp.urgzero, no
 * out-of-band byte.
 */
static void
test_badinput_urg_zero(void **state)
{
	struct tenv e;
	struct peer p;
	uint8_t c;
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);
	peer_init(&p, &e, 30010, PO_MSS);
	p.sport = PORT;
	fd = passive_open(&p, lfd);
	peer_urg(&p, TH_ACK | TH_PUSH, p.rcv_nxt, 0, "hello", 5);
	assert_int_equal(tstat(&e, "urgzero"), 1);
	stack_read(fd, "hello", 5);
	errno = 0;
	assert_int_equal(rump_sys_recv(fd, &c, 1, MSG_OOB), -1);
	assert_int_equal(errno, EINVAL);
	tenv_advance(&e, 500);
	expect_ack(&p);
	conn_abort(&p, fd);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * Urgent pointer beyond the data (URGENT/11 CVE-2019-12255: a pointer
 * past the segment made the stack copy past the buffer): 5 bytes with a
 * pointer of 65535 are all in the stream; the urgent byte is still to
 * come (EWOULDBLOCK), and a later segment's smaller pointer does not
 * move it back.
 */
static void
test_badinput_urg_beyond_data(void **state)
{
	struct tenv e;
	struct peer p;
	uint8_t c = 0;
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);
	peer_init(&p, &e, 30011, PO_MSS);
	p.sport = PORT;
	fd = passive_open(&p, lfd);
	peer_urg(&p, TH_ACK | TH_PUSH, p.rcv_nxt, 65535, "hello", 5);
	stack_read(fd, "hello", 5);
	errno = 0;
	assert_int_equal(rump_sys_recv(fd, &c, 1, MSG_OOB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	tenv_advance(&e, 500);
	expect_ack(&p);
	/*
	 * RFC 9293 3.10.7.4 sixth step: RCV.UP <- max(RCV.UP, SEG.UP): a
	 * later, smaller pointer does not move it back, "abc" is ordinary
	 * data.
	 */
	peer_urg(&p, TH_ACK | TH_PUSH, p.rcv_nxt, 2, "abc", 3);
	stack_read(fd, "abc", 3);
	errno = 0;
	assert_int_equal(rump_sys_recv(fd, &c, 1, MSG_OOB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_int_equal(tstat(&e, "rcvoob"), 0);
	tenv_advance(&e, 500);
	expect_ack(&p);
	conn_abort(&p, fd);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * The urgent pointer in every state (URGENT/11: the urgent path of
 * every state, CVE-2019-12260 in SYN-SENT/LISTEN): URG with pointers 0
 * and 65535 on a SYN to LISTEN, a SYN-ACK in SYN-SENT, the ACK in
 * SYN-RECEIVED, and on a pure ACK in every synchronized state: nothing
 * but the ordinary answers, the state unchanged.
 */
static void
test_badinput_urg_every_state(void **state)
{
	static const int states[] = {
		TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_CLOSE_WAIT,
		TCP_CLOSING, TCP_LAST_ACK, TCP_TIME_WAIT,
	};
	struct tenv e;
	struct peer p;
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);

	/* LISTEN and SYN-RECEIVED */
	peer_init(&p, &e, 30020, PO_NONE);
	p.sport = PORT;
	peer_urg(&p, TH_SYN, 0, 65535, NULL, 0);
	p.snd_nxt++;
	expect_synack(&p);
	peer_urg(&p, TH_ACK, p.rcv_nxt, 0, NULL, 0);
	expect_nothing(&e);
	fd = rump_sys_accept4(lfd, (struct sockaddr *)&from, &fromlen,
	    SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	conn_abort(&p, fd);

	/* SYN-SENT: a SYN-ACK with URG, pointer 1 (the SYN itself) */
	peer_init(&p, &e, 30021, PO_NONE);
	fd = stack_connect(&p);
	peer_urg(&p, TH_SYN | TH_ACK, p.rcv_nxt, 1, NULL, 0);
	p.snd_nxt++;
	expect_ack(&p);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	conn_abort(&p, fd);

	for (size_t i = 0; i < BI_NITEMS(states); i++) {
		uint32_t ack;

		peer_init(&p, &e, (uint16_t)(30030 + i), PO_NONE);
		p.sport = PORT;
		fd = passive_open(&p, lfd);
		to_state(&p, fd, states[i]);
		/* our FIN unacknowledged in these: do not acknowledge it */
		ack = states[i] == TCP_FIN_WAIT1 || states[i] == TCP_CLOSING ||
		    states[i] == TCP_LAST_ACK ? p.rcv_nxt - 1 : p.rcv_nxt;
		peer_urg(&p, TH_ACK, ack, 0, NULL, 0);
		peer_urg(&p, TH_ACK, ack, 65535, NULL, 0);
		expect_nothing(&e);
		assert_int_equal(tstate(fd), states[i]);
		conn_abort(&p, fd);
	}
	/*
	 * SYN-RECEIVED, SYN-SENT (1 less the SYN), ESTABLISHED and
	 * FIN-WAIT-2; in FIN-WAIT-1 the pure duplicate ACK is dropped at the
	 * fifth step, before the urgent pointer is looked at (as BSD).
	 */
	assert_int_equal(tstat(&e, "urgzero"), 4);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/* Byte o of the stream test_badinput_ooo_flood sends. */
static uint8_t
stream_byte(unsigned o)
{
	return o % 2 == 0 && o > 0 ? (uint8_t)('a' + (o / 2) % 26) : '.';
}

/*
 * Out-of-order flood with tiny segments (SegmentSmack CVE-2018-5390:
 * each tiny segment made the receiver walk and merge its whole queue):
 * 3,000 one-byte segments, each leaving a hole, in descending order
 * (the worst case for an ordered insert).  At most TCP_REASS_MAXSEGS
 * (256) are held, the rest counted in tcp.rcvreassfull, each answered
 * with one duplicate ACK; pool usage stays bounded; the segment that
 * fills the holes delivers the stream once, in order.
 */
static void
test_badinput_ooo_flood(void **state)
{
	struct tenv e;
	struct peer p;
	uint8_t data[600], got[6001];
	uint64_t base, peak = 0;
	int lfd, fd;
	const unsigned n = 3000;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);
	peer_init(&p, &e, 30040, PO_MSS);
	p.sport = PORT;
	fd = passive_open(&p, lfd);
	base = bi_inuse(&e);
	/* bytes 2, 4, ..., 6000 of the stream; byte 2k is 'a' + k % 26 */
	for (unsigned k = n; k >= 1; k--) {
		uint8_t c = stream_byte(2 * k);

		peer_seg(&p, TH_ACK, p.snd_nxt + 2 * k, p.rcv_nxt, p.win,
		    PO_NONE, &c, 1);
		expect_ack(&p);		/* a duplicate ACK, RFC 5681 4.2 */
		if (bi_inuse(&e) - base > peak)
			peak = bi_inuse(&e) - base;
	}
	assert_int_equal(tstat(&e, "rcvoopack"), 256);
	assert_int_equal(tstat(&e, "rcvreassfull"), n - 256);
	/* one mbuf (at most a cluster too) per segment held */
	assert_true(peak <= 2 * 256 + 8);

	/*
	 * The stream itself, 600 bytes at a time: the chunk over 5400..5999
	 * covers every held byte but the last (6000), which it makes in
	 * order: all 6,001 bytes reach the socket once, in order.
	 */
	for (unsigned o = 0; o < 6000; o += sizeof(data)) {
		for (unsigned i = 0; i < sizeof(data); i++)
			data[i] = stream_byte(o + i);
		peer_send(&p, TH_ACK, data, sizeof(data));
		if (o + sizeof(data) == 6000)
			p.snd_nxt++;	/* byte 6000 came from the queue */
		expect_ack(&p);
	}
	for (size_t have = 0; have < sizeof(got); ) {
		ssize_t r = rump_sys_read(fd, got + have, sizeof(got) - have);

		assert_true(r > 0);
		have += (size_t)r;
	}
	for (unsigned i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], stream_byte(i));
	stack_read_none(fd);
	assert_int_equal(bi_inuse(&e), base);
	conn_abort(&p, fd);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * SYN+FIN (the scanner's probe; RFC 9293 leaves it undefined, BSD drops
 * it at a listener): dropped silently by a listener (tcp.synfin); a
 * closed port answers RST,ACK acknowledging the SYN and the FIN.
 */
static void
test_badinput_syn_fin(void **state)
{
	struct tenv e;
	struct peer p;
	int lfd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);
	peer_init(&p, &e, 30050, PO_NONE);
	p.sport = PORT;
	peer_seg(&p, TH_SYN | TH_FIN, p.iss, 0, p.win, PO_NONE, NULL, 0);
	assert_int_equal(tstat(&e, "synfin"), 1);
	assert_int_equal(tstat(&e, "accepts"), 0);
	expect_nothing(&e);
	/* RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
	p.sport = 81;
	peer_seg(&p, TH_SYN | TH_FIN, p.iss, 0, p.win, PO_NONE, "ab", 2);
	expect_seg(&p, TH_RST | TH_ACK, 0, p.iss + 4);
	assert_int_equal(tstat(&e, "noport"), 1);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * SYN+RST (a flag combination no peer sends; the RST is the one that
 * counts, and is never answered): dropped by a listener (tcp.badrst), by
 * a closed port, and by a connection in SYN-SENT, which stays there.
 */
static void
test_badinput_syn_rst(void **state)
{
	struct tenv e;
	struct peer p;
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);
	peer_init(&p, &e, 30051, PO_NONE);
	p.sport = PORT;
	peer_seg(&p, TH_SYN | TH_RST, p.iss, 0, p.win, PO_NONE, NULL, 0);
	assert_int_equal(tstat(&e, "badrst"), 1);
	p.sport = 81;
	peer_seg(&p, TH_SYN | TH_RST, p.iss, 0, p.win, PO_NONE, NULL, 0);
	assert_int_equal(tstat(&e, "noport"), 1);
	expect_nothing(&e);

	peer_init(&p, &e, 30052, PO_NONE);
	fd = stack_connect(&p);
	peer_seg(&p, TH_SYN | TH_RST, p.iss, 0, p.win, PO_NONE, NULL, 0);
	assert_int_equal(tstat(&e, "badrst"), 2);
	expect_nothing(&e);
	assert_int_equal(tstate(fd), TCP_SYN_SENT);
	assert_int_equal(rump_sys_close(fd), 0);
	expect_nothing(&e);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * Data on a SYN (RFC 9293 3.10.7.2 allows it to be queued; the stack
 * discards it, the peer resends): the SYN-ACK acknowledges the SYN only,
 * tcp.synwithdata counts it, and nothing of it reaches the socket.
 */
static void
test_badinput_syn_with_data(void **state)
{
	struct tenv e;
	struct peer p;
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);
	peer_init(&p, &e, 30053, PO_NONE);
	p.sport = PORT;
	peer_seg(&p, TH_SYN, p.iss, 0, p.win, PO_NONE, "GET /", 5);
	p.snd_nxt = p.iss + 1;
	expect_synack(&p);
	assert_int_equal(tstat(&e, "synwithdata"), 1);
	peer_ack(&p);
	fd = rump_sys_accept4(lfd, (struct sockaddr *)&from, &fromlen,
	    SOCK_NONBLOCK);
	assert_true(fd >= 0);
	stack_read_none(fd);
	peer_send(&p, TH_ACK | TH_PUSH, "GET /", 5);
	stack_read(fd, "GET /", 5);
	tenv_advance(&e, 500);
	expect_ack(&p);
	conn_abort(&p, fd);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * FIN in LISTEN (RFC 9293 3.10.7.2 "any other control or text-bearing
 * segment (not containing SYN) must have an ACK and thus would be
 * discarded by the ACK processing"): a bare FIN is dropped
 * (tcp.badsyn); FIN,ACK draws <SEQ=SEG.ACK><CTL=RST> (tcp.badack).
 */
static void
test_badinput_fin_in_listen(void **state)
{
	struct tenv e;
	struct peer p;
	int lfd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 8);
	peer_init(&p, &e, 30054, PO_NONE);
	p.sport = PORT;
	peer_seg(&p, TH_FIN, p.iss, 0, p.win, PO_NONE, NULL, 0);
	peer_seg(&p, TH_FIN | TH_PUSH, p.iss, 0, p.win, PO_NONE, "x", 1);
	assert_int_equal(tstat(&e, "badsyn"), 2);
	expect_nothing(&e);
	peer_seg(&p, TH_FIN | TH_ACK, p.iss, 0x55555555, p.win, PO_NONE, NULL,
	    0);
	assert_int_equal(tstat(&e, "badack"), 1);
	expect_seg(&p, TH_RST, 0x55555555, 0);
	assert_int_equal(tstat(&e, "accepts"), 0);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * ICMP fragmentation needed with absurd MTUs (NUCLEUS:13 CVE-2021-31887
 * class, RFC 1191, RFC 5927 blind PMTU attacks): MTU 0 (below the
 * 68-byte minimum of RFC 791) and 65535 (above the path's) change
 * nothing; 68 lowers the path MTU to its floor of 552 (RFC 5927 7.1,
 * Linux's min_pmtu), locked: the MSS to 512, and the data in flight goes
 * again in segments no larger, without DF.  The ignored MTU 0 is counted
 * in tcp.pmtubad, 65535 (not below the segment's length) in ip.pmtubad.
 */
static void
test_badinput_icmp_needfrag_mtu(void **state)
{
	struct tenv e;
	struct peer p;
	struct tseg s;
	uint8_t data[1000];
	uint32_t una, next;
	int fd;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, 30060, PO_MSS);
	fd = active_open(&p);
	memset(data, 'd', sizeof(data));
	stack_write(fd, data, sizeof(data));
	expect_data(&p, sizeof(data), true);
	una = p.rcv_nxt - (uint32_t)sizeof(data);

	peer_icmp(&p, 3, 4, 0, una);
	assert_int_equal(tstat(&e, "icmperr"), 1);
	assert_int_equal(tstat(&e, "pmtubad"), 1);
	peer_icmp(&p, 3, 4, 67, una);
	assert_int_equal(tstat(&e, "pmtubad"), 2);
	peer_icmp(&p, 3, 4, 65535, una);
	assert_int_equal(tstat(&e, "icmperr"), 3);
	assert_int_equal(tstat(&e, "pmtubad"), 2);
	assert_int_equal(tstat(&e, "pmtuchange"), 0);
	assert_int_equal(tinfo(fd).ti.tcpi_snd_mss, TS_MSS);
	expect_nothing(&e);

	assert_int_equal(bi_stat(&e, "ip.pmtubad"), 1);

	peer_icmp(&p, 3, 4, 68, una);
	assert_int_equal(tstat(&e, "pmtuchange"), 1);
	assert_int_equal(tinfo(fd).ti.tcpi_snd_mss, 512);
	/*
	 * the 1,000 bytes again, from SND.UNA, in segments of 512 at most,
	 * without DF
	 */
	next = una;
	while (tap_read(&e, &s)) {
		assert_true(s.flags & TH_ACK);
		assert_int_equal(s.seq, next);
		assert_true(s.len > 0 && s.len <= 512);
		assert_int_equal(s.ip_off, 0);
		next += (uint32_t)s.len;
	}
	assert_true(next != una);
	assert_true(next - una <= sizeof(data));
	peer_seg(&p, TH_ACK, p.snd_nxt, p.rcv_nxt, p.win, PO_AUTO, NULL, 0);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * ISN predictability (RFC 6528; the Mitnick attack, CVE-1999-0077,
 * and NUCLEUS:13 CVE-2021-31886's predictable ISNs): 100 connections
 * from the same peer, 1 ms apart on the virtual clock (a pure clock
 * would make every difference 250).  The differences between
 * consecutive ISNs are not all equal, nearly all distinct, and almost
 * none small.
 */
static void
test_badinput_isn_unpredictable(void **state)
{
	enum { N = 100 };
	struct tenv e;
	struct peer p;
	uint32_t isn[N], d[N - 1];
	unsigned distinct = 0, small = 0;
	int lfd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(PORT, 128);
	for (int i = 0; i < N; i++) {
		peer_init(&p, &e, (uint16_t)(31000 + i), PO_NONE);
		p.sport = PORT;
		peer_send(&p, TH_SYN, NULL, 0);
		expect_synack(&p);
		isn[i] = p.stack_iss;
		/* RFC 9293: an RST at RCV.NXT ends SYN-RECEIVED */
		peer_rst(&p, p.snd_nxt, false);
		expect_nothing(&e);
		tenv_advance(&e, 1);
	}
	for (int i = 0; i + 1 < N; i++) {
		d[i] = isn[i + 1] - isn[i];
		if (d[i] < 100000 || d[i] > 0u - 100000)
			small++;
	}
	for (int i = 0; i + 1 < N; i++) {
		bool seen = false;

		for (int j = 0; j < i && !seen; j++)
			seen = d[j] == d[i];
		distinct += !seen;
	}
	assert_true(distinct >= N - 5);
	assert_true(small <= 2);
	assert_int_equal(tstat(&e, "accepts"), N);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_badinput_len_tcp),
		cmocka_unit_test(test_badinput_tcpopt_lengths),
		cmocka_unit_test(test_badinput_tcpopt_odd_alignment),
		cmocka_unit_test(test_badinput_tcpopt_sack_timestamp),
		cmocka_unit_test(test_badinput_tcpopt_wscale_above_14),
		cmocka_unit_test(test_badinput_urg_zero),
		cmocka_unit_test(test_badinput_urg_beyond_data),
		cmocka_unit_test(test_badinput_urg_every_state),
		cmocka_unit_test(test_badinput_ooo_flood),
		cmocka_unit_test(test_badinput_syn_fin),
		cmocka_unit_test(test_badinput_syn_rst),
		cmocka_unit_test(test_badinput_syn_with_data),
		cmocka_unit_test(test_badinput_fin_in_listen),
		cmocka_unit_test(test_badinput_icmp_needfrag_mtu),
		cmocka_unit_test(test_badinput_isn_unpredictable),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
