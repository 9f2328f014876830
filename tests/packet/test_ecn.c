/*
 * test_ecn.c -- Explicit Congestion Notification (RFC 3168) in TCP,
 * segment by segment through a tap playing the remote host (tcpseg.h):
 *
 *   negotiation (6.1.1): off by default (a plain SYN; an ECN-setup SYN
 *   gets a plain SYN-ACK); with the "ecn" parameter on, an ECN-setup SYN
 *   (ECE and CWR) from connect(), agreement by a SYN-ACK with ECE alone
 *   and by nothing else (ECE and CWR together is no agreement), a
 *   listener's SYN-ACK with ECE alone for an ECN-setup SYN only, the SYN
 *   retransmission without ECN setup (6.1.1.1), a retransmitted SYN that
 *   drops ECN setup;
 *   the sender (6.1.2, 6.1.4-6.1.6): ECT(0) on new data and never on a
 *   SYN, a pure ACK, a FIN alone, a retransmission or a window probe; an
 *   ECE answered once per window of data (ssthresh and cwnd exact, for
 *   NewReno), never on top of a loss recovery of the same window, and CWR
 *   on the first new data after each reduction (ECE, fast retransmit,
 *   retransmission timeout); ECE ignored where ECN was not agreed;
 *   the receiver (6.1.3, 6.1.5): a CE mark on in-window data echoed with
 *   ECE on every ACK until a CWR arrives, the first ACK at once; ECT(0),
 *   ECT(1), CE outside the window or on a pure ACK change nothing.
 *
 * The counters tcp.ecn_* and TCP_INFO (TCPI_OPT_ECN, cwnd, ssthresh)
 * are asserted with the segments.  The congestion control is set to
 * NewReno with TCP_CONGESTION wherever exact windows are checked, so the
 * instance's default algorithm does not matter.  Peers offer MSS 1460
 * without timestamps, so every full segment holds 1460 bytes.
 *
 * Needs no root, no DPDK, no network namespace.
 */
#define _DEFAULT_SOURCE	/* <netinet/tcp.h>: TH_*, TCPOPT_*, tcp_info */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "tcpseg.h"

#define LPORT 80		/* the stack's listening port */
#define PPORT 43001		/* the peer's port */
#define MSS TS_MSS		/* the stack's segments: no timestamps */
#define IW (10 * MSS)		/* RFC 6928 initial window for MSS 1460 */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* the ECN field (RFC 3168 5) */
#define NOT_ECT 0x00
#define ECT1 0x01
#define ECT0 0x02
#define CE 0x03

#define ECN_SETUP (TH_ECE | TH_CWR)	/* of a SYN asking for ECN */
#define PEER_OPTS (PO_MSS | PO_WS)

/* ==== helpers ==== */

/* A pattern of n bytes from offset off, the same for every caller. */
static const uint8_t *
pattern(size_t off, size_t n)
{
	static uint8_t buf[256 * 1024];
	static bool filled;

	if (!filled) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(i * 7 + i / 251);
		filled = true;
	}
	assert_true(off + n <= sizeof(buf));
	return buf + off;
}

static void
ecn_param(struct tenv *e, int v)
{
	int got = -1;

	assert_int_equal(rump_tcp_param_set(e->k, "ecn", v), 0);
	assert_int_equal(rump_tcp_param_get(e->k, "ecn", &got), 0);
	assert_int_equal(got, v);
}

/* newreno: fd's congestion control is NewReno, whatever the default. */
static void
newreno(int fd)
{
	assert_int_equal(rump_sys_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION,
	    "newreno", 7), 0);
}

static bool
ecn_agreed(int fd)
{
	return (tinfo(fd).ti.tcpi_options & TCPI_OPT_ECN) != 0;
}

static void
start(struct tenv *e, struct peer *p, uint16_t port)
{
	tenv_up(e);
	peer_init(p, e, port, PEER_OPTS);
}

/*
 * connect_ecn: a NewReno socket connecting to the peer; its SYN must
 * carry exactly syn_ecn of ECE and CWR (and is never ECT: tcpseg.h).
 */
static int
connect_ecn(struct peer *p, uint8_t syn_ecn)
{
	int fd = tcp_socket();

	newreno(fd);
	p->syn_ecn = syn_ecn;
	stack_connect_fd(p, fd);
	return fd;
}

/*
 * synack_ecn: the peer's SYN-ACK with ecn of ECE and CWR added; the
 * stack's ACK completes the handshake (a pure ACK: never ECT, no ECE).
 */
static void
synack_ecn(struct peer *p, uint8_t ecn)
{
	p->ts_on = (p->opts & PO_TS) && p->stack_syn_ts;
	if (!(p->opts & PO_WS))
		p->stack_ws = -1;
	peer_send(p, TH_SYN | TH_ACK | ecn, NULL, 0);
	expect_seg(p, TH_ACK, p->stack_iss + 1, p->snd_nxt);
}

/* active_ecn: connect() with ECN asked for and agreed; returns fd. */
static int
active_ecn(struct peer *p)
{
	int fd = connect_ecn(p, ECN_SETUP);

	synack_ecn(p, TH_ECE);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	assert_true(ecn_agreed(fd));
	return fd;
}

/*
 * passive_ecn: the peer's SYN carries syn_ecn; the stack's SYN-ACK must
 * carry synack_ecn (never ECT); ACK, accept.  Returns the connection.
 */
static int
passive_ecn(struct peer *p, int lfd, uint8_t syn_ecn, uint8_t synack_ecn)
{
	int fd;

	peer_send(p, TH_SYN | syn_ecn, NULL, 0);
	expect_segx(p, TH_SYN | TH_ACK | synack_ecn, true, 0, p->snd_nxt);
	peer_ack(p);
	expect_nothing(p->e);
	fd = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	newreno(fd);
	return fd;
}

/*
 * expect_dataf: a data segment of len bytes at the peer's RCV.NXT, ACK
 * of its SND.NXT, flags exactly TH_ACK | flags, the ECN field tos.
 */
static const struct tseg *
expect_dataf(struct peer *p, size_t len, uint8_t flags, uint8_t tos)
{
	const struct tseg *s = expect_seg(p, TH_ACK | flags, p->rcv_nxt,
	    p->snd_nxt);

	assert_int_equal(s->len, len);
	assert_int_equal(s->tos & TS_ECN_MASK, tos);
	return s;
}

/* expect_ackf: a pure ACK, flags exactly TH_ACK | flags, not ECT. */
static void
expect_ackf(struct peer *p, uint8_t flags)
{
	const struct tseg *s = expect_seg(p, TH_ACK | flags, p->rcv_nxt,
	    p->snd_nxt);

	assert_int_equal(s->len, 0);
	assert_int_equal(s->tos & TS_ECN_MASK, NOT_ECT);
}

/* peer_data: len bytes of the peer's stream, ECN field tos, flags added. */
static void
peer_data(struct peer *p, uint8_t tos, uint8_t flags, size_t off,
    size_t len)
{
	p->tos = tos;
	peer_send(p, TH_ACK | flags, pattern(off, len), len);
	p->tos = NOT_ECT;
}

/* peer_ack_to: an ACK of the stack's stream up to ack, flags added. */
static void
peer_ack_to(struct peer *p, uint32_t ack, uint8_t flags)
{
	peer_seg(p, TH_ACK | flags, p->snd_nxt, ack, p->win, PO_AUTO, NULL,
	    0);
}

/*
 * expect_burst: n full segments in a row from the stack, each new data
 * with the ECN field tos; the first carries first_flags (CWR or nothing)
 * and ECE when ece, the others only ECE when ece.
 */
static void
expect_burst(struct peer *p, unsigned n, uint8_t first_flags, bool ece,
    uint8_t tos)
{
	for (unsigned i = 0; i < n; i++)
		expect_dataf(p, MSS, (i == 0 ? first_flags : 0) |
		    (ece ? TH_ECE : 0), tos);
}

/*
 * peer_window: a pure ACK from the peer with its (scaled) window, which
 * its SYN-ACK could not offer: ACKs after it are duplicates when they
 * acknowledge nothing new (RFC 5681 2: same window).
 */
static void
peer_window(struct peer *p)
{
	peer_ack(p);
	expect_nothing(p->e);
}

/* What drain() saw. */
struct drained {
	unsigned fresh;		/* new data segments */
	unsigned resent;	/* retransmissions */
	unsigned cwr;		/* segments with CWR */
	uint32_t cwr_seq;	/* the last of them */
};

/*
 * drain: every segment the stack has sent, each a full segment of data
 * in order or a retransmission: new data (at *high, which follows the
 * highest byte sent) must be ECT(0); a retransmission (below it) must be
 * neither ECT nor carry CWR (6.1.5).
 */
static void
drain(struct peer *p, uint32_t *high, struct drained *d)
{
	struct tseg s;

	memset(d, 0, sizeof(*d));
	while (tap_read(p->e, &s)) {
		assert_int_equal(s.flags & ~(TH_PUSH | TH_CWR), TH_ACK);
		assert_int_equal(s.len, MSS);
		if ((int32_t)(s.seq - *high) >= 0) {
			assert_int_equal(s.seq, *high);
			assert_int_equal(s.tos & TS_ECN_MASK, ECT0);
			*high = s.seq + (uint32_t)s.len;
			d->fresh++;
			if (s.flags & TH_CWR) {
				d->cwr++;
				d->cwr_seq = s.seq;
			}
		} else {
			assert_int_equal(s.tos & TS_ECN_MASK, NOT_ECT);
			assert_int_equal(s.flags & TH_CWR, 0);
			d->resent++;
		}
	}
}

static void
expect_window(int fd, uint32_t cwnd, uint32_t ssthresh)
{
	struct rn_tcp_info i = tinfo(fd);

	assert_int_equal(i.snd_cwnd_bytes, cwnd);
	assert_int_equal(i.snd_ssthresh_bytes, ssthresh);
	assert_int_equal(i.ti.tcpi_snd_cwnd, cwnd / MSS);
	assert_int_equal(i.ti.tcpi_snd_ssthresh, ssthresh / MSS);
}

/* The ECN counters, all five at once. */
static void
expect_counters(struct tenv *e, uint64_t shs, uint64_t ce, uint64_t ece,
    uint64_t cwr, uint64_t rcvece)
{
	assert_int_equal(tstat(e, "ecn_shs"), shs);
	assert_int_equal(tstat(e, "ecn_ce"), ce);
	assert_int_equal(tstat(e, "ecn_ece"), ece);
	assert_int_equal(tstat(e, "ecn_cwr"), cwr);
	assert_int_equal(tstat(e, "ecn_rcvece"), rcvece);
}

/* ==== negotiation (RFC 3168 6.1.1) ==== */

/*
 * Off by default: connect() sends a plain SYN; a listener answers an
 * ECN-setup SYN with a plain SYN-ACK; nothing of ECN happens after:
 * no ECT, CE not echoed (and the ACK stays delayed), ECE not answered.
 */
static void
test_ecn_off_by_default(void **state)
{
	struct tenv e;
	struct peer p, q;
	int v = -1, fd, lfd, cfd;

	(void)state;
	start(&e, &p, PPORT);
	assert_int_equal(rump_tcp_param_get(e.k, "ecn", &v), 0);
	assert_int_equal(v, 0);

	/* active: p.syn_ecn is 0, so the SYN must be exactly SYN */
	fd = connect_ecn(&p, 0);
	synack_ecn(&p, TH_ECE);
	assert_false(ecn_agreed(fd));
	stack_write(fd, pattern(0, 2 * MSS), 2 * MSS);
	expect_dataf(&p, MSS, 0, NOT_ECT);
	expect_dataf(&p, MSS, TH_PUSH, NOT_ECT);
	peer_ack_to(&p, p.rcv_nxt, TH_ECE);
	expect_nothing(&e);
	/* slow start grew the window as if no ECE were there */
	expect_window(fd, IW + 2 * MSS, (uint32_t)65535 << 14);
	/* CE on data: a delayed ACK without ECE */
	peer_data(&p, CE, 0, 0, 100);
	expect_nothing(&e);
	tenv_advance(&e, 40);
	expect_ackf(&p, 0);
	stack_read(fd, pattern(0, 100), 100);

	/* passive: an ECN-setup SYN gets a plain SYN-ACK */
	peer_init(&q, &e, PPORT + 1, PEER_OPTS);
	q.sport = LPORT;
	lfd = tcp_listener(LPORT, 4);
	cfd = passive_ecn(&q, lfd, ECN_SETUP, 0);
	assert_false(ecn_agreed(cfd));
	peer_data(&q, CE, TH_CWR, 0, 10);
	expect_nothing(&e);
	tenv_advance(&e, 40);
	expect_ackf(&q, 0);
	stack_read(cfd, pattern(0, 10), 10);

	expect_counters(&e, 0, 0, 0, 0, 0);
	conn_abort(&q, cfd);
	assert_int_equal(rump_sys_close(lfd), 0);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * connect() with ECN on: an ECN-setup SYN (ECE and CWR, not ECT).  Only
 * a SYN-ACK with ECE and without CWR agrees; one with both set, with
 * CWR alone or with neither does not (6.1.1), and the connection then
 * sends no ECT and no ECN flags.
 */
static void
test_ecn_active_negotiation(void **state)
{
	static const struct {
		uint8_t synack;
		bool agreed;
	} cases[] = {
		{ TH_ECE, true },
		{ TH_ECE | TH_CWR, false },
		{ TH_CWR, false },
		{ 0, false },
	};
	struct tenv e;
	unsigned agreed = 0;

	(void)state;
	tenv_up(&e);
	ecn_param(&e, 1);
	for (size_t c = 0; c < NELEM(cases); c++) {
		struct peer p;
		int fd;

		peer_init(&p, &e, (uint16_t)(PPORT + c),
		    c == 0 ? PO_ALL : PEER_OPTS);
		fd = connect_ecn(&p, ECN_SETUP);
		synack_ecn(&p, cases[c].synack);
		assert_int_equal(tstate(fd), TCP_ESTABLISHED);
		assert_int_equal(ecn_agreed(fd), cases[c].agreed);
		agreed += cases[c].agreed;
		assert_int_equal(tstat(&e, "ecn_shs"), agreed);
		stack_write(fd, "hello", 5);
		expect_dataf(&p, 5, TH_PUSH,
		    cases[c].agreed ? ECT0 : NOT_ECT);
		/* ECE from a peer that did not agree changes nothing */
		peer_ack_to(&p, p.rcv_nxt, cases[c].agreed ? 0 : TH_ECE);
		expect_nothing(&e);
		conn_abort(&p, fd);
	}
	expect_counters(&e, 1, 0, 0, 0, 0);
	tenv_down(&e);
}

/*
 * A listener with ECN on answers an ECN-setup SYN (ECE and CWR both)
 * with ECE alone in its SYN-ACK, and any other SYN with a plain SYN-ACK;
 * a listener made while the parameter was off agrees to nothing, even
 * after the parameter is turned on (it is read at listen()).
 */
static void
test_ecn_passive_negotiation(void **state)
{
	static const struct {
		uint8_t syn;
		bool agreed;
	} cases[] = {
		{ ECN_SETUP, true },
		{ TH_ECE, false },
		{ TH_CWR, false },
		{ 0, false },
	};
	struct tenv e;
	int lfd, offfd;

	(void)state;
	tenv_up(&e);
	offfd = tcp_listener(LPORT + 1, 4);
	ecn_param(&e, 1);
	lfd = tcp_listener(LPORT, 4);
	for (size_t c = 0; c < NELEM(cases); c++) {
		struct peer p;
		int fd;

		peer_init(&p, &e, (uint16_t)(PPORT + c),
		    c == 0 ? PO_ALL : PEER_OPTS);
		p.sport = LPORT;
		fd = passive_ecn(&p, lfd, cases[c].syn,
		    cases[c].agreed ? TH_ECE : 0);
		assert_int_equal(ecn_agreed(fd), cases[c].agreed);
		stack_write(fd, "hello", 5);
		expect_dataf(&p, 5, TH_PUSH,
		    cases[c].agreed ? ECT0 : NOT_ECT);
		conn_abort(&p, fd);
	}
	assert_int_equal(tstat(&e, "ecn_shs"), 1);
	{
		struct peer p;
		int fd;

		peer_init(&p, &e, PPORT + 10, PEER_OPTS);
		p.sport = LPORT + 1;
		fd = passive_ecn(&p, offfd, ECN_SETUP, 0);
		assert_false(ecn_agreed(fd));
		conn_abort(&p, fd);
	}
	expect_counters(&e, 1, 0, 0, 0, 0);
	assert_int_equal(rump_sys_close(lfd), 0);
	assert_int_equal(rump_sys_close(offfd), 0);
	tenv_down(&e);
}

/*
 * RFC 3168 6.1.1.1: a SYN lost to a path that drops ECN-setup SYNs goes
 * again without ECE and CWR; a SYN-ACK with ECE (the answer to the first
 * SYN) still agrees.  On the listener's side, a retransmitted SYN that
 * no longer asks for ECN gets a plain SYN-ACK and no ECN.
 */
static void
test_ecn_syn_retransmissions(void **state)
{
	struct tenv e;
	struct peer p, q;
	int fd, lfd, cfd;

	(void)state;
	start(&e, &p, PPORT);
	ecn_param(&e, 1);
	fd = connect_ecn(&p, ECN_SETUP);
	tenv_advance(&e, 999);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	p.syn_ecn = 0;
	if (!tap_read(&e, &p.last))
		fail_msg("no SYN retransmission");
	peer_learn_syn(&p);		/* exactly SYN, not ECT */
	synack_ecn(&p, TH_ECE);
	assert_true(ecn_agreed(fd));
	stack_write(fd, "x", 1);
	expect_dataf(&p, 1, TH_PUSH, ECT0);

	peer_init(&q, &e, PPORT + 1, PEER_OPTS);
	q.sport = LPORT;
	lfd = tcp_listener(LPORT, 4);
	peer_send(&q, TH_SYN | ECN_SETUP, NULL, 0);
	expect_segx(&q, TH_SYN | TH_ACK | TH_ECE, true, 0, q.snd_nxt);
	q.snd_nxt = q.iss;
	peer_send(&q, TH_SYN, NULL, 0);
	expect_segx(&q, TH_SYN | TH_ACK, true, 0, q.snd_nxt);
	peer_ack(&q);
	expect_nothing(&e);
	cfd = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(cfd >= 0);
	assert_false(ecn_agreed(cfd));
	stack_write(cfd, "y", 1);
	expect_dataf(&q, 1, TH_PUSH, NOT_ECT);

	expect_counters(&e, 1, 0, 0, 0, 0);
	conn_abort(&q, cfd);
	assert_int_equal(rump_sys_close(lfd), 0);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * Simultaneous open (RFC 9293 3.5): the peer's SYN crossing ours asks
 * for ECN; our SYN-ACK agrees with ECE alone, and the connection uses
 * ECN once established.
 */
static void
test_ecn_simultaneous_open(void **state)
{
	struct tenv e;
	struct peer p;
	int fd;

	(void)state;
	start(&e, &p, PPORT);
	ecn_param(&e, 1);
	fd = connect_ecn(&p, ECN_SETUP);
	peer_send(&p, TH_SYN | ECN_SETUP, NULL, 0);
	expect_seg(&p, TH_SYN | TH_ACK | TH_ECE, p.stack_iss, p.snd_nxt);
	/* the peer's SYN-ACK: its SYN again, and the ACK of ours */
	peer_seg(&p, TH_SYN | TH_ACK | TH_ECE, p.iss, p.rcv_nxt, p.win,
	    PO_AUTO, NULL, 0);
	expect_ackf(&p, 0);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	assert_true(ecn_agreed(fd));
	stack_write(fd, "x", 1);
	expect_dataf(&p, 1, TH_PUSH, ECT0);
	expect_counters(&e, 1, 0, 0, 0, 0);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/* ==== the sender (RFC 3168 6.1.2, 6.1.4-6.1.6) ==== */

/*
 * ECT(0) on new data only: pure ACKs, a FIN alone, a retransmission
 * (6.1.5) and a zero-window probe (6.1.6) are not ECT; an ECE for the
 * window a retransmission timeout reduced is not answered again; after
 * the timeout's reduction the first new data carries CWR (6.1.2: a
 * reduction for any reason).
 */
static void
test_ecn_ect_on_new_data_only(void **state)
{
	struct tenv e;
	struct peer p;
	uint32_t una;
	unsigned rto;
	int fd;

	(void)state;
	start(&e, &p, PPORT);
	ecn_param(&e, 1);
	fd = active_ecn(&p);

	/* the stack's ACK of the peer's (ECT) data: not ECT */
	peer_data(&p, ECT0, 0, 0, 10);
	tenv_advance(&e, 40);
	expect_ackf(&p, 0);
	stack_read(fd, pattern(0, 10), 10);

	/* new data: ECT(0); nothing acked: the retransmission is not ECT */
	stack_write(fd, pattern(0, 2 * MSS), 2 * MSS);
	una = p.rcv_nxt;
	expect_dataf(&p, MSS, 0, ECT0);
	expect_dataf(&p, MSS, TH_PUSH, ECT0);
	rto = tinfo(fd).ti.tcpi_rto / 1000;
	tenv_advance(&e, rto - 1);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	p.rcv_nxt = una;
	expect_dataf(&p, MSS, 0, NOT_ECT);	/* and no CWR */
	p.rcv_nxt = una + 2 * MSS;
	/*
	 * ECE for the window the timeout reduced already (ACK =< recover):
	 * counted, not answered again
	 */
	peer_ack_to(&p, p.rcv_nxt, TH_ECE);
	expect_nothing(&e);
	expect_counters(&e, 1, 0, 0, 0, 1);
	assert_int_equal(tstat(&e, "rexmttimeo"), 1);

	/* the first new data after the timeout's reduction: CWR */
	stack_write(fd, pattern(0, 100), 100);
	expect_dataf(&p, 100, TH_PUSH | TH_CWR, ECT0);
	peer_ack(&p);
	stack_write(fd, pattern(0, 100), 100);
	expect_dataf(&p, 100, TH_PUSH, ECT0);
	assert_int_equal(tstat(&e, "ecn_cwr"), 1);

	/* a zero window: the probe is not ECT */
	p.win = 0;
	peer_ack(&p);
	stack_write(fd, pattern(0, 10), 10);
	expect_nothing(&e);
	rto = tinfo(fd).ti.tcpi_rto / 1000;
	tenv_advance(&e, rto);
	expect_dataf(&p, 1, 0, NOT_ECT);
	p.rcv_nxt--;			/* the peer keeps nothing */
	assert_int_equal(tstat(&e, "sndprobe"), 1);
	/* the window opens: the probe's byte again, then new data is ECT */
	p.win = 65535;
	peer_ack(&p);
	expect_dataf(&p, 10, TH_PUSH, NOT_ECT);
	peer_ack(&p);
	stack_write(fd, pattern(0, 10), 10);
	expect_dataf(&p, 10, TH_PUSH, ECT0);
	peer_ack(&p);

	/* a FIN alone is not ECT (tcpseg.h checks every empty segment) */
	assert_int_equal(rump_sys_shutdown(fd, SHUT_WR), 0);
	expect_seg(&p, TH_FIN | TH_ACK, p.rcv_nxt, p.snd_nxt);
	assert_int_equal(p.last.tos & TS_ECN_MASK, NOT_ECT);
	expect_counters(&e, 1, 0, 0, 1, 1);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * An ECE answered once per window of data (6.1.2), with NewReno: ten
 * segments in flight, an ECE ACK makes ssthresh = FlightSize / 2 and
 * cwnd = ssthresh; more ECE ACKs for the same window change nothing and
 * do not grow the window; the first new data carries CWR; an ECE ACK
 * beyond the window of the first answer is answered again.
 */
static void
test_ecn_ece_once_per_window(void **state)
{
	struct tenv e;
	struct peer p;
	uint32_t iss1;
	int fd;

	(void)state;
	start(&e, &p, PPORT);
	ecn_param(&e, 1);
	fd = active_ecn(&p);
	iss1 = p.rcv_nxt;
	expect_window(fd, IW, (uint32_t)65535 << 14);
	stack_write(fd, pattern(0, 20 * MSS), 20 * MSS);
	expect_burst(&p, 10, 0, false, ECT0);
	expect_nothing(&e);

	/* the first ECE: 10 MSS in flight, so 5 MSS; CWR to send */
	peer_ack_to(&p, iss1 + 2 * MSS, TH_ECE);
	expect_nothing(&e);
	expect_window(fd, 5 * MSS, 5 * MSS);
	assert_int_equal(tinfo(fd).ti.tcpi_ca_state, 2);	/* CWR */
	expect_counters(&e, 1, 0, 1, 0, 1);
	/* the same window: no second answer, no growth */
	peer_ack_to(&p, iss1 + 4 * MSS, TH_ECE);
	expect_nothing(&e);
	expect_window(fd, 5 * MSS, 5 * MSS);
	/* 4 MSS in flight: one new segment, with CWR */
	peer_ack_to(&p, iss1 + 6 * MSS, TH_ECE);
	expect_burst(&p, 1, TH_CWR, false, ECT0);
	expect_nothing(&e);
	expect_window(fd, 5 * MSS, 5 * MSS);
	expect_counters(&e, 1, 0, 1, 1, 3);
	/* the peer saw CWR: plain ACKs, congestion avoidance from 5 MSS */
	peer_ack_to(&p, iss1 + 8 * MSS, 0);
	expect_burst(&p, 2, 0, false, ECT0);
	expect_nothing(&e);
	expect_window(fd, 5 * MSS, 5 * MSS);
	assert_int_equal(tinfo(fd).ti.tcpi_ca_state, 2);
	/* all acked with ECE: a new window, answered (5 MSS in flight) */
	peer_ack_to(&p, iss1 + 13 * MSS, TH_ECE);
	expect_window(fd, 5 * MSS / 2, 5 * MSS / 2);
	/* 2.5 MSS: two full segments, the first with CWR */
	expect_burst(&p, 2, TH_CWR, false, ECT0);
	expect_nothing(&e);
	expect_counters(&e, 1, 0, 2, 2, 4);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * Loss first: fast retransmit reduces for the window (ssthresh half the
 * flight: ten segments, the two of limited transmit not counted);
 * ECE ACKs during that recovery and on the ACK that ends it are not
 * answered again (6.1.2: one reduction per window, losses and marks
 * together); CWR goes on the first new data after the fast retransmit.
 */
static void
test_ecn_loss_then_ece(void **state)
{
	struct drained d;
	struct tenv e;
	struct peer p;
	uint32_t iss1, high, recover, ss;
	int fd;

	(void)state;
	start(&e, &p, PPORT);
	ecn_param(&e, 1);
	fd = active_ecn(&p);
	peer_window(&p);
	iss1 = high = p.rcv_nxt;
	stack_write(fd, pattern(0, 20 * MSS), 20 * MSS);
	drain(&p, &high, &d);
	assert_int_equal(d.fresh, 10);
	/* the first segment lost: three duplicate ACKs */
	for (int i = 0; i < 3; i++)
		peer_ack_to(&p, iss1, 0);
	drain(&p, &high, &d);
	assert_int_equal(d.resent, 1);		/* not ECT, no CWR */
	assert_int_equal(d.cwr, 0);
	recover = high;
	ss = (recover - iss1 - 2 * MSS) / 2;
	assert_int_equal(ss, 5 * MSS);
	assert_int_equal(tstat(&e, "fastrexmit"), 1);
	assert_int_equal(tinfo(fd).snd_ssthresh_bytes, ss);
	/* ECE during the recovery: counted, not answered */
	peer_ack_to(&p, iss1, TH_ECE);
	drain(&p, &high, &d);
	assert_int_equal(d.cwr, 0);
	assert_int_equal(tinfo(fd).snd_ssthresh_bytes, ss);
	expect_counters(&e, 1, 0, 0, 0, 1);
	/* the ACK that ends the recovery has ECE: not answered either */
	peer_ack_to(&p, recover, TH_ECE);
	drain(&p, &high, &d);
	assert_int_equal(tinfo(fd).snd_ssthresh_bytes, ss);
	assert_true(d.fresh > 0);
	/* CWR once, on the first new data after the fast retransmit */
	assert_int_equal(d.cwr, 1);
	assert_int_equal(d.cwr_seq, recover);
	expect_counters(&e, 1, 0, 0, 1, 2);
	p.rcv_nxt = high;
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * ECE first, loss of the same window after: the fast retransmit does not
 * reduce again (ssthresh stays at the ECE answer's 5 MSS, 6.1.2); ECE
 * on the duplicate ACKs is not answered either.
 */
static void
test_ecn_ece_then_loss(void **state)
{
	struct drained d;
	struct tenv e;
	struct peer p;
	uint32_t iss1, high;
	int fd;

	(void)state;
	start(&e, &p, PPORT);
	ecn_param(&e, 1);
	fd = active_ecn(&p);
	peer_window(&p);
	iss1 = high = p.rcv_nxt;
	stack_write(fd, pattern(0, 20 * MSS), 20 * MSS);
	drain(&p, &high, &d);
	assert_int_equal(d.fresh, 10);
	peer_ack_to(&p, iss1 + MSS, TH_ECE);
	expect_nothing(&e);
	expect_window(fd, 5 * MSS, 5 * MSS);
	/* the second segment lost: three duplicate ACKs, still with ECE */
	for (int i = 0; i < 3; i++)
		peer_ack_to(&p, iss1 + MSS, TH_ECE);
	drain(&p, &high, &d);
	assert_int_equal(d.resent, 1);
	assert_int_equal(d.cwr, 0);
	assert_int_equal(tstat(&e, "fastrexmit"), 1);
	assert_int_equal(tinfo(fd).snd_ssthresh_bytes, 5 * MSS);
	expect_counters(&e, 1, 0, 1, 0, 4);
	p.rcv_nxt = high;
	conn_abort(&p, fd);
	tenv_down(&e);
}

/*
 * ECE where ECN was not agreed (the peer's SYN-ACK did not agree): not
 * counted, not answered; slow start goes on, no CWR.
 */
static void
test_ecn_ece_ignored_without_agreement(void **state)
{
	struct tenv e;
	struct peer p;
	uint32_t iss1;
	int fd;

	(void)state;
	start(&e, &p, PPORT);
	ecn_param(&e, 1);
	fd = connect_ecn(&p, ECN_SETUP);
	synack_ecn(&p, 0);
	assert_false(ecn_agreed(fd));
	iss1 = p.rcv_nxt;
	stack_write(fd, pattern(0, 20 * MSS), 20 * MSS);
	expect_burst(&p, 10, 0, false, NOT_ECT);
	peer_ack_to(&p, iss1 + 2 * MSS, TH_ECE);
	/* RFC 5681 3.1 slow start: + min(acked, 2 MSS) (RFC 3465) */
	expect_window(fd, IW + 2 * MSS, (uint32_t)65535 << 14);
	expect_burst(&p, 4, 0, false, NOT_ECT);
	expect_nothing(&e);
	expect_counters(&e, 0, 0, 0, 0, 0);
	conn_abort(&p, fd);
	tenv_down(&e);
}

/* ==== the receiver (RFC 3168 6.1.3, 6.1.5) ==== */

/*
 * A CE mark on data: the ACK goes at once, with ECE, and so does every
 * ACK (and data segment) after it until a segment with CWR arrives.
 * ECT(0) and ECT(1) are no marks; a segment with CWR and CE ends one
 * episode and starts the next; a CE mark on an old duplicate (outside
 * the window, 6.1.5) or on a pure ACK is ignored.
 */
static void
test_ecn_ce_echoed_until_cwr(void **state)
{
	struct tenv e;
	struct peer p;
	size_t off = 0;
	int lfd, fd;

	(void)state;
	start(&e, &p, PPORT);
	ecn_param(&e, 1);
	p.sport = LPORT;
	lfd = tcp_listener(LPORT, 4);
	fd = passive_ecn(&p, lfd, ECN_SETUP, TH_ECE);
	assert_true(ecn_agreed(fd));

	/* not marked: ECT(0), ECT(1): the usual delayed ACK, no ECE */
	peer_data(&p, ECT0, 0, off, 100);
	off += 100;
	peer_data(&p, ECT1, 0, off, 100);
	off += 100;
	expect_ackf(&p, 0);		/* every second segment */
	/* CE: an ACK at once, with ECE */
	peer_data(&p, CE, 0, off, 100);
	off += 100;
	expect_ackf(&p, TH_ECE);
	expect_counters(&e, 1, 1, 0, 0, 0);
	/* the next ACK, delayed as usual, still has ECE */
	peer_data(&p, ECT0, 0, off, 100);
	off += 100;
	expect_nothing(&e);
	tenv_advance(&e, 40);
	expect_ackf(&p, TH_ECE);
	/* so does the stack's data (not ECT(0)'s business: new data is) */
	stack_write(fd, "abc", 3);
	expect_dataf(&p, 3, TH_PUSH | TH_ECE, ECT0);
	/* a window update from the peer with CE: no data, ignored */
	p.tos = CE;
	peer_ack(&p);
	p.tos = NOT_ECT;
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "ecn_ce"), 1);
	/* CWR ends the echo */
	peer_data(&p, ECT0, TH_CWR, off, 100);
	off += 100;
	tenv_advance(&e, 40);
	expect_ackf(&p, 0);
	/* CWR and CE together: a new episode */
	peer_data(&p, CE, TH_CWR, off, 100);
	off += 100;
	expect_ackf(&p, TH_ECE);
	peer_data(&p, NOT_ECT, TH_CWR, off, 100);
	off += 100;
	tenv_advance(&e, 40);
	expect_ackf(&p, 0);
	/* CE on an old duplicate: ACKed (as a duplicate), not echoed */
	p.tos = CE;
	peer_seg(&p, TH_ACK, p.snd_nxt - 100, p.rcv_nxt, p.win, PO_AUTO,
	    pattern(off - 100, 100), 100);
	p.tos = NOT_ECT;
	expect_ackf(&p, 0);
	stack_read(fd, pattern(0, off), off);
	expect_counters(&e, 1, 2, 0, 0, 0);
	assert_int_equal(tstat(&e, "rcvduppack"), 1);
	conn_abort(&p, fd);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecn_off_by_default),
		cmocka_unit_test(test_ecn_active_negotiation),
		cmocka_unit_test(test_ecn_passive_negotiation),
		cmocka_unit_test(test_ecn_syn_retransmissions),
		cmocka_unit_test(test_ecn_simultaneous_open),
		cmocka_unit_test(test_ecn_ect_on_new_data_only),
		cmocka_unit_test(test_ecn_ece_once_per_window),
		cmocka_unit_test(test_ecn_loss_then_ece),
		cmocka_unit_test(test_ecn_ece_then_loss),
		cmocka_unit_test(test_ecn_ece_ignored_without_agreement),
		cmocka_unit_test(test_ecn_ce_echoed_until_cwr),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
