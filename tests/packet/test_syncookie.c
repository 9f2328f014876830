/*
 * test_syncookie.c -- SYN flood defence (RFC 4987): the bound on
 * embryonic connections of all listeners (tcp.syncache, its peak and
 * every way an embryo leaves the count) and SYN cookies, through real
 * SYN, SYN-ACK and ACK exchanges with a fake peer on a tap (tcpseg.h).
 *
 * Cookies are forced by the bound: syncache_limit 1 and one embryo that
 * never completes (or a listen() backlog whose SYN queue fills).  Each
 * test asserts the segments, what the connection a cookie made agreed to
 * (TCP_INFO), and the counters tcp.sc_sent, sc_recvd, sc_failed,
 * badack, synqdrop, listendrop exactly, and ends with every pool back to
 * zero.  A cookie lasts two periods of 16 s of the virtual clock.
 *
 * Needs no root, no DPDK, no network namespace.
 */
#define _DEFAULT_SOURCE	/* <netinet/tcp.h>: TH_*, TCPOPT_*, tcp_info */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "tcpseg.h"

#define LPORT 80		/* the stack's listening port */
#define LPORT2 81		/* a second listener */
#define EPORT 39999		/* the peer port of the embryo that stays */
#define PPORT 40001		/* peers' ports from here on */
#define TSOPT 12		/* NOP NOP TS: bytes taken from each segment */
#define STACK_WS 3		/* the stack's shift for its 256 KiB buffer */
#define PERIOD_MS 16000		/* a cookie's period */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
/* RFC 3168 flags, which <netinet/tcp.h> leaves out */
#define TH_ECE 0x40
#define TH_CWR 0x80

/* The MSS values a cookie carries (tcp_syncookie.c), smallest first. */
static const uint16_t cookie_mss[] = {
	64, 536, 1220, 1380, 1440, 1452, 1460, 8960,
};

/* An offer rounded down to the table; 0 (no option) is 536. */
static unsigned
cookie_mss_of(unsigned offer)
{
	size_t i = NELEM(cookie_mss) - 1;

	if (offer == 0)
		offer = 536;
	while (i > 0 && cookie_mss[i] > offer)
		i--;
	return cookie_mss[i];
}

static void
param(struct tenv *e, const char *name, int v)
{
	assert_int_equal(rump_tcp_param_set(e->k, name, v), 0);
}

/* An embryo of the listener on port lport: SYN in, SYN-ACK out. */
static void
embryo_open(struct tenv *e, struct peer *pe, uint16_t port, uint16_t lport)
{
	uint64_t n = tstat(e, "syncache");

	peer_init(pe, e, port, PO_ALL);
	pe->sport = lport;
	peer_send(pe, TH_SYN, NULL, 0);
	expect_synack(pe);
	assert_int_equal(tstat(e, "syncache"), n + 1);
}

/*
 * Move the clock by ms, 1 s at a time; what the stack sends meanwhile
 * must be SYN-ACKs resent by the embryos of pe[0..n-1] (RFC 6298 5.5),
 * or the RST of one that timed out.  Returns how many RSTs.
 */
static int
advance_embryos(struct tenv *e, uint64_t ms, struct peer *pe, int n)
{
	int rsts = 0;

	for (uint64_t t = 0; t < ms; t += MIN(ms - t, 1000)) {
		struct tseg s;

		tenv_advance(e, MIN(ms - t, 1000));
		while (tap_read(e, &s)) {
			int i = 0;

			while (i < n && s.dport != pe[i].port)
				i++;
			if (i == n)
				fail_msg("unexpected segment to port %u flags "
				    "%#x", s.dport, s.flags);
			if (s.flags & TH_RST) {
				/* RFC 1122 4.2.3.5 R2: given up, reset */
				assert_int_equal(s.flags, TH_RST | TH_ACK);
				assert_int_equal(s.seq, pe[i].rcv_nxt);
				rsts++;
				continue;
			}
			assert_int_equal(s.flags, TH_SYN | TH_ACK);
			assert_int_equal(s.seq, pe[i].stack_iss);
			assert_int_equal(s.ack, pe[i].snd_nxt);
		}
	}
	return rsts;
}

/*
 * Close listener lfd: its embryos pe[0..n-1] are reset (RST,ACK at their
 * SND.NXT, in any order) and leave the count.
 */
static void
listener_close(struct tenv *e, int lfd, struct peer *pe, int n)
{
	uint64_t before = tstat(e, "syncache");
	bool seen[16] = { false };

	assert_true(n <= (int)NELEM(seen));
	assert_int_equal(rump_sys_close(lfd), 0);
	for (int k = 0; k < n; k++) {
		struct tseg s;
		int i = 0;

		if (!tap_read(e, &s))
			fail_msg("listener close: %d RSTs of %d", k, n);
		while (i < n && (s.dport != pe[i].port || seen[i]))
			i++;
		assert_true(i < n);
		seen[i] = true;
		assert_int_equal(s.flags, TH_RST | TH_ACK);
		assert_int_equal(s.seq, pe[i].rcv_nxt);
		assert_int_equal(s.ack, pe[i].snd_nxt);
	}
	expect_nothing(e);
	assert_int_equal(tstat(e, "syncache"), before - (uint64_t)n);
}

/*
 * cookie_syn: the peer's SYN (ECE and CWR too when ecn) while the bound
 * is full; the answer must be a cookie's SYN-ACK -- counted in sc_sent,
 * no embryo, no tcpcb -- with flags TH_SYN|TH_ACK plus ece.  Returns it.
 */
static const struct tseg *
cookie_syn(struct peer *p, bool ecn, bool ece)
{
	struct tenv *e = p->e;
	uint64_t sent = tstat(e, "sc_sent"), n = tstat(e, "syncache");
	uint64_t cbs = th_pool_out(e->k, "tcpcb"), acc = tstat(e, "accepts");
	const struct tseg *s;

	peer_seg(p, TH_SYN | (ecn ? TH_ECE | TH_CWR : 0), p->snd_nxt, 0,
	    p->win, PO_AUTO, NULL, 0);
	p->snd_nxt++;
	s = expect_segx(p, TH_SYN | TH_ACK | (ece ? TH_ECE : 0), true, 0,
	    p->snd_nxt);
	assert_int_equal(s->len, 0);
	assert_int_equal(tstat(e, "sc_sent"), sent + 1);
	assert_int_equal(tstat(e, "syncache"), n);
	assert_int_equal(th_pool_out(e->k, "tcpcb"), cbs);
	assert_int_equal(tstat(e, "accepts"), acc);
	return s;
}

/* The ACK of p's cookie is refused: an RST at its ACK number. */
static void
expect_refused(struct peer *p, uint32_t ack, uint64_t *failed)
{
	expect_seg(p, TH_RST, ack, 0);
	expect_nothing(p->e);
	(*failed)++;
	assert_int_equal(tstat(p->e, "sc_failed"), *failed);
}

/* The connection p's cookie ACK made, accepted from lfd. */
static int
cookie_accept(struct peer *p, int lfd)
{
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	int fd = rump_sys_accept4(lfd, (struct sockaddr *)&from, &fromlen,
	    SOCK_NONBLOCK);

	assert_true(fd >= 0);
	assert_int_equal(from.sin_addr.s_addr, ip(TS_PEER_ADDR));
	assert_int_equal(ntohs(from.sin_port), p->port);
	return fd;
}

/* ==== the options a cookie carries ==== */

struct ckcase {
	unsigned mss;		/* the peer's MSS offer, 0: no option */
	int ws;			/* its window shift, -1: not offered */
	bool ts, sack, ecn;	/* it offers timestamps, SACK, asks ECN */
};

/*
 * One connection through a cookie with the offers of c: the SYN-ACK
 * answers them as a cookie can (window scale, SACK and ECN only with
 * timestamps), the connection agrees to exactly that with the MSS
 * rounded down to the table, data goes both ways, and the stack's TSval
 * never goes back from the SYN-ACK's (RFC 7323 5.4).
 */
static void
cookie_case(struct tenv *e, int lfd, uint16_t port, const struct ckcase *c,
    uint16_t ourmss)
{
	unsigned opts = (c->mss ? PO_MSS : 0) | (c->ws >= 0 ? PO_WS : 0) |
	    (c->ts ? PO_TS : 0) | (c->sack ? PO_SACKOK : 0);
	bool ws = c->ts && c->ws >= 0, sack = c->ts && c->sack;
	bool ecn = c->ts && c->ecn;
	unsigned mss = cookie_mss_of(c->mss), want_mss;
	uint64_t recvd = tstat(e, "sc_recvd");
	const struct tseg *s;
	struct rn_tcp_info i;
	struct peer p;
	uint32_t tsv, iss;
	int fd;

	peer_init(&p, e, port, opts);
	p.sport = LPORT;
	p.mss = (uint16_t)c->mss;
	p.ws = (uint8_t)(c->ws >= 0 ? c->ws : 0);
	tsv = p.tsval;
	s = cookie_syn(&p, c->ecn, ecn);
	assert_true(s->mss_p);
	assert_int_equal(s->mss, ourmss);
	assert_int_equal(s->ts_p, c->ts);
	if (c->ts)
		assert_int_equal(s->tsecr, tsv);	/* RFC 7323 3.2 */
	assert_int_equal(s->ws_p, ws);
	if (ws)
		assert_int_equal(s->ws, STACK_WS);
	assert_int_equal(s->sackok_p, sack);
	assert_int_equal(s->win, 65535);	/* RFC 7323 2.2: unscaled */
	iss = s->seq;
	/* the SYN again: the same cookie (nothing was kept to differ) */
	p.snd_nxt = p.iss;
	p.stack_ts_seen = false;
	s = cookie_syn(&p, c->ecn, ecn);
	assert_int_equal(s->seq, iss);

	peer_ack(&p);
	expect_nothing(e);
	assert_int_equal(tstat(e, "sc_recvd"), recvd + 1);
	fd = cookie_accept(&p, lfd);
	i = tinfo(fd);
	assert_int_equal(i.ti.tcpi_state, TCP_ESTABLISHED);
	want_mss = MIN(mss, ourmss);
	if (c->ts && want_mss > TSOPT)
		want_mss -= TSOPT;
	want_mss = MAX(want_mss, 64u);
	assert_int_equal(i.ti.tcpi_snd_mss, want_mss);
	assert_int_equal(i.ti.tcpi_rcv_mss, ourmss);
	assert_int_equal(!!(i.ti.tcpi_options & TCPI_OPT_TIMESTAMPS), c->ts);
	assert_int_equal(!!(i.ti.tcpi_options & TCPI_OPT_WSCALE), ws);
	assert_int_equal(!!(i.ti.tcpi_options & TCPI_OPT_SACK), sack);
	assert_int_equal(!!(i.ti.tcpi_options & TCPI_OPT_ECN), ecn);
	if (ws) {
		assert_int_equal(i.ti.tcpi_snd_wscale, c->ws);
		assert_int_equal(i.ti.tcpi_rcv_wscale, STACK_WS);
	}
	/* the handshake's ACK carried the window, scaled as agreed */
	assert_int_equal(i.snd_wnd, (uint32_t)p.win << (ws ? c->ws : 0));

	/* both ways: the stack's window is scaled as it offered */
	stack_write(fd, "x", 1);
	s = expect_data(&p, 1, true);
	assert_int_equal(s->win, ws ? (256 * 1024) >> STACK_WS : 65535);
	peer_send(&p, TH_ACK | TH_PUSH, "y", 1);
	stack_read(fd, "y", 1);
	conn_abort(&p, fd);
}

/*
 * Every MSS of the table (and offers between its entries, rounded down),
 * every window shift 0..14 and none, SACK and ECN on and off, with and
 * without timestamps: 32 connections through cookies.  The interface's
 * MTU is 9000 so that every entry shows in the connection's MSS.
 */
static void
test_syncookie_options(void **state)
{
	static const unsigned offers[] = {
		64, 536, 1220, 1380, 1440, 1452, 1460, 8960,
		100, 1000, 1459, 9000, 65535, 0,
	};
	struct tenv e;
	struct peer pe;
	int lfd;

	(void)state;
	tenv_up(&e);
	assert_int_equal(rump_if_set_mtu(e.k, e.ifx, 9000), 0);
	param(&e, "syncache_limit", 1);
	param(&e, "ecn", 1);
	lfd = tcp_listener(LPORT, 64);
	embryo_open(&e, &pe, EPORT, LPORT);
	for (int n = 0; n < 32; n++) {
		struct ckcase c = {
			.mss = offers[n % NELEM(offers)],
			.ws = (n >> 1) % 16 == 15 ? -1 : (n >> 1) % 16,
			.ts = (n & 1) != 0,
			.sack = ((n >> 1) & 1) != 0,
			.ecn = ((n >> 2) & 1) != 0,
		};

		cookie_case(&e, lfd, (uint16_t)(PPORT + n), &c, 9000 - 40);
	}
	assert_int_equal(tstat(&e, "sc_sent"), 64);
	assert_int_equal(tstat(&e, "sc_recvd"), 32);
	assert_int_equal(tstat(&e, "sc_failed"), 0);
	assert_int_equal(tstat(&e, "syncache"), 1);
	assert_int_equal(tstat(&e, "syncache_peak"), 1);
	listener_close(&e, lfd, &pe, 1);
	assert_int_equal(tstat(&e, "syncache"), 0);
	tenv_down(&e);
}

/*
 * What the parameters say at the time: "sack" 0 (TF_REQ_SACK off) and
 * "ecn" 0 (the default) leave them out of the SYN-ACK and of the
 * connection, while timestamps and window scaling are agreed.
 */
static void
test_syncookie_params_off(void **state)
{
	struct ckcase c = { .mss = 1460, .ws = 5, .ts = true, .sack = true,
	    .ecn = true };
	const struct tseg *s;
	struct rn_tcp_info i;
	struct tenv e;
	struct peer pe, p;
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	param(&e, "syncache_limit", 1);
	param(&e, "sack", 0);
	lfd = tcp_listener(LPORT, 64);
	embryo_open(&e, &pe, EPORT, LPORT);
	peer_init(&p, &e, PPORT, PO_ALL | PO_SACKOK);
	p.sport = LPORT;
	p.ws = (uint8_t)c.ws;
	s = cookie_syn(&p, true, false);
	assert_true(s->ts_p && s->ws_p);
	assert_false(s->sackok_p);
	peer_ack(&p);
	fd = cookie_accept(&p, lfd);
	i = tinfo(fd);
	assert_int_equal(i.ti.tcpi_options & (TCPI_OPT_SACK | TCPI_OPT_ECN),
	    0);
	assert_int_equal(i.ti.tcpi_options & (TCPI_OPT_TIMESTAMPS |
	    TCPI_OPT_WSCALE), TCPI_OPT_TIMESTAMPS | TCPI_OPT_WSCALE);
	assert_int_equal(i.ti.tcpi_snd_wscale, c.ws);
	conn_abort(&p, fd);
	listener_close(&e, lfd, &pe, 1);
	assert_int_equal(tstat(&e, "sc_recvd"), 1);
	tenv_down(&e);
}

/* ==== data, and the connection afterwards ==== */

/*
 * The ACK that returns the cookie carries data: it is delivered, and
 * acknowledged as data on any new connection would be; one with data
 * and FIN leaves the connection in CLOSE-WAIT with the data readable.
 */
static void
test_syncookie_data_on_ack(void **state)
{
	const uint8_t *d = (const uint8_t *)"the first request, on the ACK";
	size_t n = strlen((const char *)d);
	struct tenv e;
	struct peer pe, p;
	char c;
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	param(&e, "syncache_limit", 1);
	lfd = tcp_listener(LPORT, 64);
	embryo_open(&e, &pe, EPORT, LPORT);
	for (int ts = 0; ts < 2; ts++) {
		peer_init(&p, &e, (uint16_t)(PPORT + ts), ts ? PO_ALL : PO_MSS);
		p.sport = LPORT;
		(void)cookie_syn(&p, false, false);
		peer_send(&p, TH_ACK | TH_PUSH, d, n);
		expect_nothing(&e);	/* the ACK is delayed */
		fd = cookie_accept(&p, lfd);
		stack_read(fd, d, n);
		tenv_advance(&e, 40);	/* TCPTV_DELACK */
		expect_ack(&p);
		assert_int_equal(tstat(&e, "rcvbyte"), (uint64_t)n * (ts + 1));
		conn_abort(&p, fd);
	}
	/* data and FIN on the cookie's ACK */
	peer_init(&p, &e, PPORT + 2, PO_ALL);
	p.sport = LPORT;
	(void)cookie_syn(&p, false, false);
	peer_send(&p, TH_ACK | TH_PUSH | TH_FIN, d, n);
	expect_ack(&p);		/* RFC 9293 3.10.7.4: ACK the FIN now */
	fd = cookie_accept(&p, lfd);
	assert_int_equal(tstate(fd), TCP_CLOSE_WAIT);
	stack_read(fd, d, n);
	assert_int_equal(rump_sys_read(fd, &c, 1), 0);
	assert_int_equal(rump_sys_close(fd), 0);
	expect_seg(&p, TH_FIN | TH_ACK, p.rcv_nxt, p.snd_nxt);
	peer_ack(&p);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "sc_recvd"), 3);
	listener_close(&e, lfd, &pe, 1);
	tenv_down(&e);
}

/*
 * After a cookie the connection sends with the MSS and window shift the
 * cookie brought back: the peer's window of 1000 << 2 lets exactly 4000
 * bytes out, in segments of its MSS (1220 less the timestamps); without
 * timestamps no scaling, and 1380-byte segments.  Then data the other
 * way, acknowledged with the stack's own scaled window.
 */
static void
test_syncookie_transfer(void **state)
{
	static uint8_t buf[8000];
	struct tenv e;
	struct peer pe, p;
	int lfd, fd;

	(void)state;
	for (size_t j = 0; j < sizeof(buf); j++)
		buf[j] = (uint8_t)(j * 13 + 5);
	tenv_up(&e);
	param(&e, "syncache_limit", 1);
	lfd = tcp_listener(LPORT, 64);
	embryo_open(&e, &pe, EPORT, LPORT);
	for (int ts = 1; ts >= 0; ts--) {
		unsigned mss = ts ? 1220 - TSOPT : 1380, sent = 0;
		const struct tseg *s;

		peer_init(&p, &e, (uint16_t)(PPORT + ts),
		    PO_MSS | PO_WS | (ts ? PO_TS : 0));
		p.sport = LPORT;
		p.mss = ts ? 1220 : 1380;
		p.ws = 2;
		p.win = ts ? 1000 : 4000;
		(void)cookie_syn(&p, false, false);
		peer_ack(&p);
		fd = cookie_accept(&p, lfd);
		assert_int_equal(tinfo(fd).snd_wnd, 4000);
		stack_write(fd, buf, sizeof(buf));
		/*
		 * full segments into the 4000 bytes; the tail waits (RFC 9293
		 * 3.8.6.2.1: less than half the largest window, data in flight)
		 */
		while (sent + mss <= 4000) {
			s = expect_data(&p, mss, false);
			assert_memory_equal(s->data, buf + sent, mss);
			sent += mss;
		}
		expect_nothing(&e);
		p.win = 65535;
		peer_ack(&p);
		while (sent < sizeof(buf)) {
			unsigned len = MIN(mss, (unsigned)sizeof(buf) - sent);

			s = expect_data(&p, len, sent + len == sizeof(buf));
			assert_memory_equal(s->data, buf + sent, len);
			sent += len;
		}
		peer_ack(&p);
		/* the other way: two full segments, ACKed at once */
		peer_send(&p, TH_ACK, buf, mss);
		peer_send(&p, TH_ACK | TH_PUSH, buf + mss, mss);
		s = expect_ack(&p);
		assert_int_equal(stack_window(&p, s), ts ?
		    256 * 1024 - 2 * mss : 65535);
		stack_read(fd, buf, 2 * mss);
		/* read: the scaled window opens again (RFC 9293 3.8.6.2.2) */
		if (ts)
			assert_int_equal(stack_window(&p, expect_ack(&p)),
			    256 * 1024);
		expect_nothing(&e);
		conn_abort(&p, fd);
	}
	listener_close(&e, lfd, &pe, 1);
	tenv_down(&e);
}

/*
 * Listeners sharing a port (SO_REUSEPORT) share their cookies, as Linux's
 * reuseport group keeps one record of them (commit 3b24d854cb35): a
 * listener joins while two others answer SYNs with cookies, and they go
 * (a rolling restart); the ACKs all reach the newcomer, which sent no
 * cookie itself, and each makes its connection.  Another group is
 * another record: a listener on the stack's own address (a better match
 * than the wildcard group's) takes a cookie's ACK as a bad one.
 */
#define RP_COOKIES 8

static void
test_syncookie_reuseport_group_change(void **state)
{
	struct sockaddr_in a = sa("0.0.0.0", LPORT),
	    own = sa(TS_STACK_ADDR, LPORT);
	struct tenv e;
	struct peer pe, p[RP_COOKIES], q;
	int one = 1, lfd[3], le, fd, lo;

	(void)state;
	tenv_up(&e);
	param(&e, "syncache_limit", 1);
	le = tcp_listener(LPORT2, 64);
	embryo_open(&e, &pe, EPORT, LPORT2);	/* the bound is full */
	for (int i = 0; i < 3; i++) {
		lfd[i] = tcp_socket();
		assert_int_equal(rump_sys_setsockopt(lfd[i], SOL_SOCKET,
		    SO_REUSEPORT, &one, sizeof(one)), 0);
		assert_int_equal(rump_sys_bind(lfd[i], (struct sockaddr *)&a,
		    sizeof(a)), 0);
		if (i < 2)
			assert_int_equal(rump_sys_listen(lfd[i], 64), 0);
	}
	for (int i = 0; i < RP_COOKIES; i++) {
		peer_init(&p[i], &e, (uint16_t)(PPORT + i), PO_ALL);
		p[i].sport = LPORT;
		(void)cookie_syn(&p[i], false, false);
	}
	assert_int_equal(rump_sys_listen(lfd[2], 64), 0);
	listener_close(&e, lfd[0], NULL, 0);
	listener_close(&e, lfd[1], NULL, 0);
	for (int i = 0; i < RP_COOKIES; i++) {
		peer_ack(&p[i]);
		expect_nothing(&e);
		assert_int_equal(tstat(&e, "sc_recvd"), (uint64_t)i + 1);
		fd = cookie_accept(&p[i], lfd[2]);
		conn_abort(&p[i], fd);
	}
	assert_int_equal(tstat(&e, "sc_failed"), 0);
	/* the other group */
	peer_init(&q, &e, (uint16_t)(PPORT + RP_COOKIES), PO_ALL);
	q.sport = LPORT;
	(void)cookie_syn(&q, false, false);
	lo = tcp_socket();
	assert_int_equal(rump_sys_setsockopt(lo, SOL_SOCKET, SO_REUSEPORT,
	    &one, sizeof(one)), 0);
	assert_int_equal(rump_sys_bind(lo, (struct sockaddr *)&own,
	    sizeof(own)), 0);
	assert_int_equal(rump_sys_listen(lo, 64), 0);
	peer_ack(&q);
	expect_seg(&q, TH_RST, q.rcv_nxt, 0);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "badack"), 1);
	assert_int_equal(tstat(&e, "sc_failed"), 0);
	assert_int_equal(tstat(&e, "sc_recvd"), RP_COOKIES);
	assert_int_equal(rump_sys_close(lo), 0);
	assert_int_equal(rump_sys_close(lfd[2]), 0);
	listener_close(&e, le, &pe, 1);
	tenv_down(&e);
}

/* ==== cookies that must fail ==== */

/*
 * A cookie is good in its period and the next (16 to 32 s), and only
 * while the listener has sent one in the last two periods: an ACK to a
 * listener that has not is an ordinary bad ACK (RST, badack) and no
 * cookie is even looked at (no sc_failed).
 */
static void
test_syncookie_stale(void **state)
{
	struct tenv e;
	struct peer pe, a, b, c, d;
	uint64_t failed = 0;
	int lfd, fd;

	(void)state;
	tenv_up(&e);	/* 1 s: period 0 */
	param(&e, "syncache_limit", 1);
	lfd = tcp_listener(LPORT, 64);
	embryo_open(&e, &pe, EPORT, LPORT);
	peer_init(&a, &e, PPORT, PO_ALL);
	peer_init(&b, &e, PPORT + 1, PO_ALL);
	a.sport = b.sport = LPORT;
	(void)cookie_syn(&a, false, false);
	(void)cookie_syn(&b, false, false);

	/* 17 s, period 1: a's cookie of period 0 is still good */
	assert_int_equal(advance_embryos(&e, PERIOD_MS, &pe, 1), 0);
	peer_ack(&a);
	fd = cookie_accept(&a, lfd);
	conn_abort(&a, fd);

	/*
	 * 33 s, period 2: no cookie sent since period 0, the listener looks
	 * for none -- b's ACK is just a bad ACK
	 */
	assert_int_equal(advance_embryos(&e, PERIOD_MS, &pe, 1), 0);
	b.tsval += PERIOD_MS * 2;
	peer_ack(&b);
	expect_seg(&b, TH_RST, b.rcv_nxt, 0);
	assert_int_equal(tstat(&e, "badack"), 1);
	assert_int_equal(tstat(&e, "sc_failed"), 0);
	/* a new cookie: now b's is looked at, and is stale */
	peer_init(&c, &e, PPORT + 2, PO_ALL);
	c.sport = LPORT;
	(void)cookie_syn(&c, false, false);
	peer_init(&d, &e, PPORT + 3, PO_ALL);
	d.sport = LPORT;
	(void)cookie_syn(&d, false, false);
	peer_ack(&b);
	expect_refused(&b, b.rcv_nxt, &failed);
	assert_int_equal(tstat(&e, "badack"), 2);
	peer_ack(&c);
	fd = cookie_accept(&c, lfd);
	conn_abort(&c, fd);

	/* 49 s, period 3: d's cookie of period 2 is good to the end */
	assert_int_equal(advance_embryos(&e, PERIOD_MS, &pe, 1), 0);
	d.tsval += PERIOD_MS;
	peer_ack(&d);
	fd = cookie_accept(&d, lfd);
	conn_abort(&d, fd);
	assert_int_equal(tstat(&e, "sc_recvd"), 3);
	assert_int_equal(tstat(&e, "sc_failed"), 1);
	listener_close(&e, lfd, &pe, 1);
	tenv_down(&e);
}

/*
 * Forged and mangled ACKs, each refused with an RST and sc_failed: every
 * one of the 32 bits of the cookie flipped, every bit of the option byte
 * in TSecr flipped, a wrong sequence number (another ISN), another
 * 4-tuple, no timestamps where the SYN-ACK had them.  The true ACK then
 * still makes the connection.
 */
static void
test_syncookie_forged(void **state)
{
	struct tenv e;
	struct peer pe, p, q;
	uint64_t failed = 0;
	uint32_t ack, tsr;
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	param(&e, "syncache_limit", 1);
	lfd = tcp_listener(LPORT, 64);
	embryo_open(&e, &pe, EPORT, LPORT);
	peer_init(&p, &e, PPORT, PO_ALL | PO_SACKOK);
	p.sport = LPORT;
	p.ws = 6;
	(void)cookie_syn(&p, false, false);
	ack = p.rcv_nxt;
	tsr = p.ts_recent;
	for (int bit = 0; bit < 32; bit++) {
		uint32_t bad = ack ^ (1u << bit);

		peer_seg(&p, TH_ACK, p.snd_nxt, bad, p.win, PO_AUTO, NULL, 0);
		expect_refused(&p, bad, &failed);
	}
	/* the option byte rides in TSecr's low 6 bits, under the MAC */
	for (int bit = 0; bit < 6; bit++) {
		p.ts_recent = tsr ^ (1u << bit);
		peer_seg(&p, TH_ACK, p.snd_nxt, ack, p.win, PO_AUTO, NULL, 0);
		expect_refused(&p, ack, &failed);
	}
	p.ts_recent = tsr;
	/* another ISN: SEG.SEQ - 1 is not the SYN's */
	peer_seg(&p, TH_ACK, p.snd_nxt + 1, ack, p.win, PO_AUTO, NULL, 0);
	expect_refused(&p, ack, &failed);
	/* timestamps gone: the cookie said they were agreed */
	peer_seg(&p, TH_ACK, p.snd_nxt, ack, p.win, PO_NONE, NULL, 0);
	expect_refused(&p, ack, &failed);
	/* the same numbers from another port */
	peer_init(&q, &e, PPORT + 1, PO_ALL);
	q.sport = LPORT;
	q.ts_on = true;
	q.ts_recent = tsr;
	peer_seg(&q, TH_ACK, p.snd_nxt, ack, p.win, PO_AUTO, NULL, 0);
	expect_refused(&q, ack, &failed);
	/* SYN,ACK and RST,ACK are not cookie ACKs: badack, badrst */
	peer_seg(&p, TH_SYN | TH_ACK, p.snd_nxt, ack, p.win, PO_NONE, NULL,
	    0);
	expect_seg(&p, TH_RST, ack, 0);
	peer_seg(&p, TH_RST | TH_ACK, p.snd_nxt, ack, 0, PO_NONE, NULL, 0);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "sc_failed"), failed);
	assert_int_equal(tstat(&e, "badack"), failed + 1);
	assert_int_equal(tstat(&e, "sc_recvd"), 0);
	assert_int_equal(th_pool_out(e.k, "tcpcb"), 2);

	peer_ack(&p);
	expect_nothing(&e);
	fd = cookie_accept(&p, lfd);
	assert_int_equal(tinfo(fd).ti.tcpi_snd_wscale, 6);
	conn_abort(&p, fd);
	assert_int_equal(tstat(&e, "sc_recvd"), 1);
	listener_close(&e, lfd, &pe, 1);
	tenv_down(&e);
}

/*
 * syncookies 0: past the bound a SYN is dropped (synqdrop) and nothing
 * answers; an ACK to the listener is a bad ACK, no cookie looked at.
 */
static void
test_syncookie_off(void **state)
{
	struct tenv e;
	struct peer pe, p;
	int lfd;

	(void)state;
	tenv_up(&e);
	param(&e, "syncache_limit", 1);
	param(&e, "syncookies", 0);
	lfd = tcp_listener(LPORT, 64);
	embryo_open(&e, &pe, EPORT, LPORT);
	peer_init(&p, &e, PPORT, PO_ALL);
	p.sport = LPORT;
	peer_send(&p, TH_SYN, NULL, 0);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "synqdrop"), 1);
	assert_int_equal(tstat(&e, "sc_sent"), 0);
	assert_int_equal(tstat(&e, "syncache"), 1);
	peer_seg(&p, TH_ACK, p.snd_nxt, 12345, p.win, PO_NONE, NULL, 0);
	expect_seg(&p, TH_RST, 12345, 0);
	assert_int_equal(tstat(&e, "badack"), 1);
	assert_int_equal(tstat(&e, "sc_failed"), 0);
	/* cookies on again: the SYN sent again gets one */
	param(&e, "syncookies", 1);
	p.snd_nxt = p.iss;
	(void)cookie_syn(&p, false, false);
	assert_int_equal(tstat(&e, "synqdrop"), 1);
	listener_close(&e, lfd, &pe, 1);
	tenv_down(&e);
}

/*
 * A valid cookie while the accept queue is full: the ACK is dropped
 * (listendrop), without an answer; once the application accepts, the
 * peer's next segment -- here its data -- makes the connection.
 */
static void
test_syncookie_accept_queue_full(void **state)
{
	const char *msg = "hello";
	struct tenv e;
	struct peer pe, p, q;
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	param(&e, "syncache_limit", 1);
	lfd = tcp_listener(LPORT, 1);
	embryo_open(&e, &pe, EPORT, LPORT);
	peer_init(&p, &e, PPORT, PO_ALL);
	peer_init(&q, &e, PPORT + 1, PO_ALL);
	p.sport = q.sport = LPORT;
	(void)cookie_syn(&p, false, false);
	(void)cookie_syn(&q, false, false);
	peer_ack(&q);		/* the accept queue: 1 of 1 */
	peer_ack(&p);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "listendrop"), 1);
	assert_int_equal(tstat(&e, "sc_recvd"), 1);
	assert_int_equal(tstat(&e, "sc_failed"), 0);
	fd = cookie_accept(&q, lfd);
	conn_abort(&q, fd);
	peer_send(&p, TH_ACK | TH_PUSH, msg, 5);
	fd = cookie_accept(&p, lfd);
	stack_read(fd, msg, 5);
	tenv_advance(&e, 40);
	expect_ack(&p);
	conn_abort(&p, fd);
	assert_int_equal(tstat(&e, "sc_recvd"), 2);
	listener_close(&e, lfd, &pe, 1);
	tenv_down(&e);
}

/* ==== the bound on embryos ==== */

/*
 * Two listeners, syncache_limit 8, 200 SYNs from as many ports: the
 * first 8 make embryos, the rest get cookies; the count never passes 8.
 * Then every way out of the count: the handshake completes, the peer
 * resets, the listener closes, the SYN-ACK times out; a slot freed is
 * taken by the next SYN.
 */
static void
test_syncookie_bound(void **state)
{
	enum { NSYN = 200, LIMIT = 8 };
	static struct peer p[NSYN];
	struct peer emb[LIMIT + 1];
	struct peer l1[LIMIT], l2[LIMIT];
	int lfd1, lfd2, nemb = 0, n1 = 0, n2 = 0, fd;
	struct peer *x;
	struct tenv e;

	(void)state;
	tenv_up(&e);
	param(&e, "syncache_limit", LIMIT);
	lfd1 = tcp_listener(LPORT, 256);
	lfd2 = tcp_listener(LPORT2, 256);
	for (int i = 0; i < NSYN; i++) {
		uint64_t sent = tstat(&e, "sc_sent");

		peer_init(&p[i], &e, (uint16_t)(PPORT + i), PO_ALL);
		p[i].sport = i % 2 ? LPORT2 : LPORT;
		peer_send(&p[i], TH_SYN, NULL, 0);
		expect_synack(&p[i]);
		if (i < LIMIT) {
			assert_int_equal(tstat(&e, "sc_sent"), sent);
			emb[nemb++] = p[i];
		} else {
			assert_int_equal(tstat(&e, "sc_sent"), sent + 1);
		}
		assert_int_equal(tstat(&e, "syncache"), MIN(i + 1, LIMIT));
	}
	assert_int_equal(tstat(&e, "syncache_peak"), LIMIT);
	assert_int_equal(th_pool_out(e.k, "tcpcb"), 2 + LIMIT);

	/* out by the handshake: emb[0] (port 80) */
	peer_ack(&emb[0]);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "syncache"), LIMIT - 1);
	fd = rump_sys_accept4(lfd1, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	conn_abort(&emb[0], fd);
	/* out by the peer's reset: emb[1] (port 81) */
	peer_rst(&emb[1], emb[1].snd_nxt, false);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "syncache"), LIMIT - 2);
	/* two slots: two new embryos, then cookies again */
	for (int i = 0; i < 3; i++) {
		x = &emb[i < 2 ? i : LIMIT];
		peer_init(x, &e, (uint16_t)(PPORT + NSYN + i), PO_ALL);
		x->sport = LPORT2;
		if (i < 2) {
			peer_send(x, TH_SYN, NULL, 0);
			expect_synack(x);
		} else {
			(void)cookie_syn(x, false, false);
		}
	}
	assert_int_equal(tstat(&e, "syncache"), LIMIT);
	assert_int_equal(tstat(&e, "syncache_peak"), LIMIT);
	/* out by the listener's close: port 81's embryos */
	for (int i = 0; i < LIMIT; i++) {
		if (emb[i].sport == LPORT)
			l1[n1++] = emb[i];
		else
			l2[n2++] = emb[i];
	}
	listener_close(&e, lfd2, l2, n2);
	assert_int_equal(tstat(&e, "syncache"), (uint64_t)n1);
	/*
	 * out by the timeout: 7 SYN-ACKs resent 1, 2, 4 ... 32, 60, 60 s
	 * apart (RFC 6298 5.5, the RTO capped at 60 s), given up 60 s after
	 * the last: 183 s after the SYN, which came at 1 s
	 */
	assert_int_equal(advance_embryos(&e, 182 * 1000, l1, n1), 0);
	assert_int_equal(tstat(&e, "syncache"), (uint64_t)n1);
	assert_int_equal(advance_embryos(&e, 1000, l1, n1), n1);
	assert_int_equal(tstat(&e, "syncache"), 0);
	assert_int_equal(tstat(&e, "timeoutdrop"), (uint64_t)n1);
	assert_int_equal(tstat(&e, "syncache_peak"), LIMIT);
	assert_int_equal(rump_sys_close(lfd1), 0);
	tenv_down(&e);
}

/*
 * The listener's own SYN queue (2 * backlog, at least 16) fills before
 * the instance's bound: cookies from the 17th SYN on.
 */
static void
test_syncookie_synq_full(void **state)
{
	static struct peer p[17];
	struct tenv e;
	int lfd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(LPORT, 1);
	for (int i = 0; i < 17; i++) {
		peer_init(&p[i], &e, (uint16_t)(PPORT + i), PO_ALL);
		p[i].sport = LPORT;
		if (i < 16) {
			peer_send(&p[i], TH_SYN, NULL, 0);
			expect_synack(&p[i]);
		} else {
			(void)cookie_syn(&p[i], false, false);
		}
	}
	assert_int_equal(tstat(&e, "syncache"), 16);
	listener_close(&e, lfd, p, 16);
	assert_int_equal(tstat(&e, "syncache"), 0);
	tenv_down(&e);
}

/*
 * Instance teardown with embryos on an open listener: they go with it
 * (tcp_fini() asserts the count is back to zero, or the process ends).
 */
static void
test_syncookie_teardown(void **state)
{
	struct tenv e;
	struct peer pe[3];

	(void)state;
	tenv_up(&e);
	(void)tcp_listener(LPORT, 64);
	for (int i = 0; i < 3; i++)
		embryo_open(&e, &pe[i], (uint16_t)(PPORT + i), LPORT);
	assert_int_equal(tstat(&e, "syncache"), 3);
	assert_int_equal(rump_thread_unbind(), 0);
	rump_bus_tap_close(e.tap);
	tenv_settle(&e);
	assert_int_equal(rump_kernel_destroy(e.k), 0);
	assert_int_equal(rump_bus_destroy(e.bus), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syncookie_options),
		cmocka_unit_test(test_syncookie_params_off),
		cmocka_unit_test(test_syncookie_data_on_ack),
		cmocka_unit_test(test_syncookie_transfer),
		cmocka_unit_test(test_syncookie_reuseport_group_change),
		cmocka_unit_test(test_syncookie_stale),
		cmocka_unit_test(test_syncookie_forged),
		cmocka_unit_test(test_syncookie_off),
		cmocka_unit_test(test_syncookie_accept_queue_full),
		cmocka_unit_test(test_syncookie_bound),
		cmocka_unit_test(test_syncookie_synq_full),
		cmocka_unit_test(test_syncookie_teardown),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
