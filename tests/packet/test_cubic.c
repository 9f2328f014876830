/*
 * test_cubic.c -- CUBIC (RFC 9438) segment by segment.  A fake peer on a
 * tap (tcpseg.h) acknowledges the stack's data on the virtual clock, one
 * round trip at a time: a window goes out at one instant, and rtt ms
 * later the peer acknowledges each (or every other) segment of it.  The
 * application keeps data waiting in the send buffer unless a test says
 * otherwise.
 *
 * The window the stack reports in TCP_INFO (snd_cwnd_bytes,
 * snd_ssthresh_bytes) is compared after every ACK (every burst of ACKs
 * when the window is certain to be full) with a model of RFC 9438
 * written here in floating point from the RFC's equations: eq. 1-4, the
 * target W_cubic(t + RTT) within [cwnd, 1.5 cwnd] (4.2), the
 * Reno-friendly region (4.3), the concave and convex regions (4.4, 4.5),
 * the multiplicative decrease and fast convergence (4.6, 4.7), the
 * timeout (4.8), Reno's slow start (4.10), and t standing still while
 * the flow is application-limited (5.8).  Its inputs are what the peer
 * sees and what TCP_INFO says (the window before a loss, SRTT), none of
 * tcp_cc.c's fixed point.  Losses, the recovery around them (RFC 5681,
 * RFC 6582) and the timeouts are checked exactly.  The tolerance is what
 * tcp_cc.c's rounding needs: a byte, 2^-15 of a byte an ACK (fractions
 * kept to 2^-16), and, while W_cubic steers, its slope over the
 * millisecond to which K is rounded down.  A test of a rule also runs a
 * model with the rule left out (no fast convergence; t running through
 * unused and idle time) and shows it off by more than a segment beyond
 * that tolerance.
 *
 * Each test ends with every pool back to zero.  Needs no root, no DPDK,
 * no network namespace.
 */
#define _DEFAULT_SOURCE		/* <netinet/tcp.h>: TH_*, TCPOPT_*, tcp_info */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/tcp.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "tcpseg.h"

#define PPORT 42011		/* the peer's port */
#define SMSS (TS_MSS - 12)	/* the stack's segments, with timestamps */
#define IW (10 * SMSS)		/* RFC 6928 */
#define SNDBUF (1024 * 1024)	/* twice that, as Linux */
#define AHEAD (256 * SMSS)	/* unsent data the application keeps */
#define MAXSEGS 8192		/* segments the peer remembers */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
/* sequence space (RFC 9293 3.4) */
#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)

#define C_CUBIC 0.4		/* RFC 9438 4.1.1 */
#define BETA_CUBIC 0.7
#define ALPHA_CUBIC (3.0 * (1.0 - BETA_CUBIC) / (1.0 + BETA_CUBIC))

/* ==== the model: RFC 9438 in segments and seconds, as the RFC has it ==== */

struct model {
	double mss;
	double cwnd, ssthresh;	/* bytes, as TCP_INFO has them */
	double wmax, prior, k;	/* W_max, cwnd_prior (segments), K (s) */
	double west;		/* W_est, segments */
	double epoch, last;	/* t_epoch, the last new ACK (ms); -1: none */
	bool fc;		/* fast convergence (4.7) */
	bool t_runs;		/* wrong on purpose: t counts unused time */
	double tol;		/* bytes the stack's rounding may be off by */
	unsigned nreno, nconcave, nconvex;	/* ACKs in each region */
	unsigned ncap;		/* ... with the target held to 1.5 cwnd */
};

static void
model_init(struct model *m, double cwnd)
{
	memset(m, 0, sizeof(*m));
	m->mss = SMSS;
	m->cwnd = cwnd;
	m->ssthresh = 1e12;
	m->epoch = -1;
	m->fc = true;
}

/* eq. 1: W_cubic(t), segments */
static double
model_w(const struct model *m, double t)
{
	double d = t - m->k;

	return C_CUBIC * d * d * d + m->wmax;
}

/* A new ACK of acked bytes at now (ms), SRTT rtt (ms) */
static void
model_ack(struct model *m, double acked, double now, double rtt,
    bool limited)
{
	double w, t, target, slope;

	if (!limited) {
		/* 5.8: no growth, and t does not run */
		if (m->epoch >= 0 && !m->t_runs)
			m->epoch += now - m->last;
		m->last = now;
		return;
	}
	m->last = now;
	if (m->cwnd < m->ssthresh) {
		/* 4.10: Reno's slow start, RFC 3465 with L = 2 SMSS */
		m->cwnd += MIN(acked, 2 * m->mss);
		m->epoch = -1;
		return;
	}
	w = m->cwnd / m->mss;
	if (m->epoch < 0) {
		/* 4.2: a congestion avoidance stage starts */
		m->epoch = now;
		m->west = w;
		if (m->prior == 0)
			m->prior = w;
		if (m->wmax <= w) {
			m->wmax = w;	/* 4.8, 4.10 */
			m->k = 0;
		} else
			m->k = cbrt((m->wmax - w) / C_CUBIC);	/* eq. 2 */
	}
	t = (now - m->epoch) / 1000;
	/* 4.3 eq. 4 */
	m->west += (m->west >= m->prior ? 1.0 : ALPHA_CUBIC) *
	    (acked / m->mss) / w;
	/*
	 * tcp_cc.c's rounding: fractions of a byte (2^-16) of W_est and of
	 * each increase, and a byte of cwnd
	 */
	m->tol = MAX(m->tol, 1) + 1.0 / 32768;
	if (model_w(m, t) < m->west) {
		m->nreno++;
		m->cwnd = MAX(m->cwnd, m->west * m->mss);
		return;
	}
	if (w < m->wmax)
		m->nconcave++;
	else
		m->nconvex++;
	target = model_w(m, t + rtt / 1000);
	/* K to the millisecond moves the target by the slope of a ms */
	slope = 3 * C_CUBIC * (t + rtt / 1000 - m->k) *
	    (t + rtt / 1000 - m->k) / 1000;
	if (target > 1.5 * w) {
		target = 1.5 * w;
		slope = 0;
		m->ncap++;
	}
	target = MAX(target, w);
	/* 4.4, 4.5: (target - cwnd) / cwnd a segment acked */
	m->cwnd += (target - w) * acked / w;
	m->tol += slope * acked / w;
}

/* 4.6, 4.7: a loss found by duplicate ACKs with cwnd and flight (bytes) */
static void
model_loss(struct model *m, double cwnd, double flight)
{
	double w = cwnd / m->mss;

	m->cwnd = cwnd;
	m->wmax = m->fc && w < m->wmax ? w * (1 + BETA_CUBIC) / 2 : w;
	m->prior = w;
	m->ssthresh = MAX(floor(flight * 7 / 10), 2 * m->mss);	/* beta */
	m->cwnd = m->ssthresh;
	m->epoch = -1;
	m->tol = 0;		/* the windows are exact again */
}

/*
 * 4.8: a retransmission timeout, the first for its segment: ssthresh as
 * on a loss, cwnd the loss window; the next stage has K = 0 and W_max
 * its cwnd_epoch.
 */
static void
model_timeout(struct model *m, double cwnd, double flight)
{
	m->prior = cwnd / m->mss;
	m->ssthresh = MAX(floor(flight * 7 / 10), 2 * m->mss);
	m->wmax = 0;
	m->cwnd = m->mss;
	m->epoch = -1;
	m->tol = 0;
}

/* RFC 6582 3.2 step 3: the full ACK, flight bytes left (tcp_input's) */
static void
model_recovered(struct model *m, double flight)
{
	m->cwnd = MIN(m->ssthresh, MAX(flight, m->mss) + m->mss);
}

/* RFC 5681 4.1: the restart window; a new stage after it (5.8) */
static void
model_idle(struct model *m)
{
	m->cwnd = MIN(m->cwnd, IW);
	if (!m->t_runs)
		m->epoch = -1;
}

/* ==== the connection and the peer ==== */

struct cub {
	struct tenv e;
	struct peer p;
	int fd;
	unsigned rtt;		/* ms from a window out to its ACKs */
	uint32_t una;		/* the peer's cumulative ACK */
	uint32_t max;		/* past the last byte the stack sent */
	uint32_t end[MAXSEGS];	/* ends of the segments in [una, max) */
	uint32_t tsval[MAXSEGS];	/* ... and their TSval */
	unsigned nend;
	uint64_t written, limit;	/* bytes the application wrote, may */
	unsigned nrexmit;	/* retransmissions seen */
	uint32_t rexmit_seq;	/* the last one's */
	uint32_t rexmit_tsval;
	struct rn_tcp_info ti;	/* after the last ACK */
	struct model m[2];	/* the model, and one with a rule left out */
	unsigned nmodel;
	bool parted;		/* m[1] was off by more than m[0]'s tolerance */
};

static uint8_t zeros[AHEAD];

/*
 * The application keeps AHEAD bytes more than the stack has sent in the
 * send buffer (so the stack never waits for data, and stops soon once
 * the application does), in whole segments, up to its limit.
 */
static void
cub_fill(struct cub *c)
{
	uint64_t sent = c->max - (c->p.stack_iss + 1);
	uint64_t want = MIN(c->limit, sent + AHEAD);

	while (c->written + SMSS <= want) {
		size_t n = (size_t)MIN(want - c->written, sizeof(zeros));

		n -= n % SMSS;
		assert_int_equal(rump_sys_write(c->fd, zeros, n), (ssize_t)n);
		c->written += n;
	}
}

/* every segment the stack has sent since the last look */
static void
cub_read(struct cub *c)
{
	static uint8_t f[TS_FRAME_MAX];
	struct tseg s;
	size_t len;

	tenv_settle(&c->e);
	while (rump_bus_tap_recv(c->e.tap, f, sizeof(f), &len, 0) == 0) {
		tseg_parse(f, len, &s);
		assert_int_equal(s.flags & ~TH_PUSH, TH_ACK);
		assert_int_equal(s.ack, c->p.snd_nxt);
		assert_true(s.ts_p);
		assert_true(s.len > 0 && s.len <= SMSS);
		if (s.seq != c->max) {
			/* a retransmission: whole, from what was sent */
			assert_true(SEQ_LT(s.seq, c->max));
			c->nrexmit++;
			c->rexmit_seq = s.seq;
			c->rexmit_tsval = s.tsval;
			continue;
		}
		assert_true(c->nend < MAXSEGS);
		c->max += (uint32_t)s.len;
		c->tsval[c->nend] = s.tsval;
		c->end[c->nend++] = c->max;
	}
}

/*
 * The peer's cumulative ACK of ack; wait: until the stack has taken it.
 * It echoes (RFC 7323 4.3) the TSval of the segment that moved its
 * RCV.NXT last: the last one acked, or the retransmission that filled
 * the hole at una; a duplicate ACK the last.
 */
static void
cub_ack_put(struct cub *c, uint32_t ack, bool wait)
{
	unsigned i = 0;

	if (c->nrexmit > 0 && c->rexmit_seq == c->una && SEQ_GT(ack, c->una))
		c->p.ts_recent = c->rexmit_tsval;
	else
		for (unsigned j = 0; j < c->nend && SEQ_LEQ(c->end[j], ack);
		    j++)
			c->p.ts_recent = c->tsval[j];
	peer_seg_put(&c->p, TH_ACK, c->p.snd_nxt, ack, c->p.win, PO_AUTO,
	    NULL, 0);
	if (wait)
		tenv_settle(&c->e);
	if (SEQ_GT(ack, c->una))
		c->una = ack;
	while (i < c->nend && SEQ_LEQ(c->end[i], c->una))
		i++;
	memmove(c->end, c->end + i, (c->nend - i) * sizeof(c->end[0]));
	memmove(c->tsval, c->tsval + i, (c->nend - i) * sizeof(c->tsval[0]));
	c->nend -= i;
}

/* the stack's window must agree with the model within its tolerance */
static void
cub_check(struct cub *c)
{
	double now = (double)tenv_now_ms(&c->e);

	if (c->nmodel == 0)
		return;
	if (fabs(c->ti.snd_cwnd_bytes - c->m[0].cwnd) > c->m[0].tol)
		fail_msg("%.0f ms: cwnd %u, the model says %.1f (+-%.1f)", now,
		    c->ti.snd_cwnd_bytes, c->m[0].cwnd, c->m[0].tol);
	/* the model with a rule left out: off by more than that? */
	if (c->nmodel > 1 &&
	    fabs(c->ti.snd_cwnd_bytes - c->m[1].cwnd) > c->m[0].tol + SMSS)
		c->parted = true;
}

/*
 * An ACK of new data up to ack, the stack's answer read before the next:
 * the models take it (limited: whether the stack was using its window,
 * RFC 9438 5.8's test, from what the peer has seen and the cwnd TCP_INFO
 * gave before; RTT: the SRTT after it), and the stack's window must agree.
 */
static void
cub_ack(struct cub *c, uint32_t ack)
{
	uint32_t acked = ack - c->una;
	bool limited = c->max - c->una + SMSS > c->ti.snd_cwnd_bytes;
	double now = (double)tenv_now_ms(&c->e);

	cub_ack_put(c, ack, true);
	c->ti = tinfo(c->fd);
	for (unsigned i = 0; i < c->nmodel; i++)
		model_ack(&c->m[i], acked, now, c->ti.ti.tcpi_rtt / 1000.0,
		    limited);
	cub_check(c);
	cub_fill(c);
	cub_read(c);
}

/*
 * One round trip: rtt ms after the window went out, the peer ACKs every
 * per-th segment of it (and the last).  When the send buffer holds more
 * than the window can take in the round (it at most doubles), the stack
 * fills its window at every ACK by construction: the ACKs go in one
 * burst, and the models take them with the round trip as RTT, which the
 * SRTT after them must be.  Otherwise one at a time (cub_ack()).
 */
static void
cub_round(struct cub *c, unsigned per)
{
	uint32_t acks[MAXSEGS], prev = c->una;
	uint64_t sent = c->max - (c->p.stack_iss + 1);
	double now;
	unsigned n = 0;

	assert_true(c->nend > 0);
	for (unsigned i = 0; i < c->nend; i++)
		if ((i + 1) % per == 0 || i + 1 == c->nend)
			acks[n++] = c->end[i];
	tenv_advance(&c->e, c->rtt);
	if (c->written - sent < 2ull * c->ti.snd_cwnd_bytes + SMSS) {
		for (unsigned i = 0; i < n; i++)
			cub_ack(c, acks[i]);
		assert_int_equal(c->ti.ti.tcpi_rtt, c->rtt * 1000);
		return;
	}
	now = (double)tenv_now_ms(&c->e);
	for (unsigned i = 0; i < n; i++) {
		cub_ack_put(c, acks[i], false);
		for (unsigned j = 0; j < c->nmodel; j++)
			model_ack(&c->m[j], acks[i] - prev, now, c->rtt, true);
		prev = acks[i];
	}
	tenv_settle(&c->e);
	c->ti = tinfo(c->fd);
	assert_int_equal(c->ti.ti.tcpi_rtt, c->rtt * 1000);
	cub_check(c);
	cub_fill(c);
	cub_read(c);
}

/*
 * A connection from the stack to the peer with algorithm cc (NULL: the
 * instance's default, def unless NULL), every round trip rtt ms (the
 * handshake's too, so SRTT is rtt from the start), the models at the
 * initial window.
 */
static void
cub_open(struct cub *c, const char *def, const char *cc, unsigned rtt)
{
	int sndbuf = SNDBUF;

	memset(c, 0, sizeof(*c));
	tenv_up(&c->e);
	if (def != NULL)
		assert_int_equal(rump_tcp_cc_set_default(c->e.k, def), 0);
	peer_init(&c->p, &c->e, PPORT, PO_ALL);
	c->rtt = rtt;
	c->fd = tcp_socket();
	if (cc != NULL)
		assert_int_equal(rump_sys_setsockopt(c->fd, IPPROTO_TCP,
		    TCP_CONGESTION, cc, (socklen_t)strlen(cc)), 0);
	assert_int_equal(rump_sys_setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF,
	    &sndbuf, sizeof(sndbuf)), 0);
	stack_connect_fd(&c->p, c->fd);
	tenv_advance(&c->e, rtt);
	peer_synack(&c->p);
	c->una = c->max = c->p.rcv_nxt;
	c->ti = tinfo(c->fd);
	assert_int_equal(c->ti.ti.tcpi_snd_mss, SMSS);
	assert_int_equal(c->ti.snd_cwnd_bytes, IW);
	assert_int_equal(c->ti.ti.tcpi_rtt, rtt * 1000);
	c->nmodel = 2;
	model_init(&c->m[0], IW);
	model_init(&c->m[1], IW);
	c->limit = UINT64_MAX;
	cub_fill(c);
	cub_read(c);
	assert_int_equal(c->max - c->una, IW);
}

/* the end: where the window and the model stand, then abort */
static void
cub_close(struct cub *c)
{
	const struct model *m = &c->m[0];

	if (c->nmodel > 0)
		print_message("# cwnd %u, the model %.1f +- %.1f (ACKs: "
		    "Reno-friendly %u, concave %u, convex %u, target held "
		    "to 1.5 cwnd %u)\n", c->ti.snd_cwnd_bytes, m->cwnd, m->tol,
		    m->nreno, m->nconcave, m->nconvex, m->ncap);
	c->p.rcv_nxt = c->max;
	conn_abort(&c->p, c->fd);
	tenv_down(&c->e);
}

/* slow start (full windows, an ACK a segment) until cwnd reaches w */
static void
cub_grow(struct cub *c, uint32_t w)
{
	while (c->ti.snd_cwnd_bytes < w)
		cub_round(c, 1);
}

/*
 * The first segment of the window in flight is lost: rtt ms after it
 * went out the peer answers each of the others with a duplicate ACK
 * (RFC 3042 limited transmit on the first two, the fast retransmit on
 * the third, window inflation after), and rtt ms later ACKs everything
 * up to the recovery point at once (its retransmission arrived) -- the
 * full ACK -- then, one by one, what went out during recovery.  The
 * models take the loss with the cwnd and FlightSize of the third
 * duplicate, checked to give ssthresh = beta * FlightSize exactly (num /
 * den), cwnd = ssthresh + 3 SMSS in recovery (RFC 5681 3.2), and the
 * window at the full ACK (RFC 6582).
 */
static void
cub_loss(struct cub *c, unsigned num, unsigned den)
{
	unsigned ndup = c->nend - 1, n;
	uint32_t flight = 0, cwnd = 0, recover = 0, ssthresh, rmax;
	uint32_t acks[MAXSEGS];
	uint64_t fastrexmit = tstat(&c->e, "fastrexmit");

	assert_true(ndup >= 3);
	tenv_advance(&c->e, c->rtt);
	for (unsigned i = 1; i <= ndup; i++) {
		/* FlightSize without what limited transmit sends (RFC 5681 3.2) */
		if (i == 1)
			flight = c->max - c->una;
		if (i == 3) {
			cwnd = tinfo(c->fd).snd_cwnd_bytes;
			recover = c->max;
		}
		cub_ack_put(c, c->una, true);
		cub_fill(c);
		cub_read(c);
		if (i == 3) {
			assert_int_equal(c->nrexmit, 1);
			assert_int_equal(c->rexmit_seq, c->una);
		}
	}
	assert_int_equal(tstat(&c->e, "fastrexmit"), fastrexmit + 1);
	c->ti = tinfo(c->fd);
	ssthresh = MAX((uint32_t)((uint64_t)flight * num / den), 2 * SMSS);
	assert_int_equal(c->ti.snd_ssthresh_bytes, ssthresh);
	assert_int_equal(c->ti.ti.tcpi_snd_ssthresh, ssthresh / SMSS);
	assert_int_equal(c->ti.snd_cwnd_bytes, ssthresh + ndup * SMSS);
	assert_int_equal(c->ti.ti.tcpi_ca_state, 3);	/* recovery */
	for (unsigned i = 0; i < c->nmodel; i++)
		model_loss(&c->m[i], cwnd, flight);
	/* the retransmission arrived: the full ACK */
	tenv_advance(&c->e, c->rtt);
	rmax = c->max;
	cub_ack_put(c, recover, true);
	c->ti = tinfo(c->fd);
	assert_int_equal(c->ti.ti.tcpi_ca_state, 0);
	for (unsigned i = 0; i < c->nmodel; i++)
		model_recovered(&c->m[i], rmax - recover);
	assert_int_equal(c->ti.snd_cwnd_bytes, MIN(ssthresh,
	    MAX(rmax - recover, SMSS) + SMSS));
	assert_int_equal(c->ti.snd_ssthresh_bytes, ssthresh);
	/* what went out during recovery arrives too: an ACK a segment */
	for (n = 0; n < c->nend && SEQ_LEQ(c->end[n], rmax); n++)
		acks[n] = c->end[n];
	cub_fill(c);
	cub_read(c);
	for (unsigned i = 0; i < n; i++)
		cub_ack(c, acks[i]);
	c->nrexmit = 0;
}

/*
 * Nothing of the window in flight arrives: the n-th retransmission
 * timeout comes rto ms after the last (not a ms before), and resends the
 * first segment.
 */
static void
cub_timeout(struct cub *c, unsigned rto, unsigned n)
{
	tenv_advance(&c->e, rto - 1);
	cub_read(c);
	assert_int_equal(c->nrexmit, n - 1);
	tenv_advance(&c->e, 1);
	cub_read(c);
	assert_int_equal(c->nrexmit, n);
	assert_int_equal(c->rexmit_seq, c->una);
	c->ti = tinfo(c->fd);
	assert_int_equal(c->ti.ti.tcpi_ca_state, 4);	/* loss */
}

/* what the stack's TCP_CONGESTION says */
static void
expect_cc(struct cub *c, const char *name)
{
	char got[16];
	socklen_t len = sizeof(got);

	memset(got, 0, sizeof(got));
	assert_int_equal(rump_sys_getsockopt(c->fd, IPPROTO_TCP,
	    TCP_CONGESTION, got, &len), 0);
	assert_string_equal(got, name);
}

/* ==== the tests ==== */

/* the algorithm picked by default or by TCP_CONGESTION, and its beta */
static const struct {
	const char *def;	/* the instance's default */
	const char *set;	/* TCP_CONGESTION on the socket, or NULL */
	const char *algo;	/* what the socket runs */
	unsigned num, den;	/* its multiplicative decrease */
} decrease_cases[] = {
	{ NULL, NULL, "cubic", 7, 10 },		/* RFC 9438 4.6 */
	{ "newreno", NULL, "newreno", 1, 2 },	/* RFC 5681 eq. 4 */
	{ "newreno", "cubic", "cubic", 7, 10 },
	{ NULL, "newreno", "newreno", 1, 2 },
};

/*
 * RFC 9438 4.6: on a loss found by duplicate ACKs, ssthresh =
 * max(beta_cubic * FlightSize, 2 SMSS) with beta_cubic = 0.7 (NewReno's
 * 0.5 beside it), cwnd = ssthresh + 3 SMSS in fast recovery and
 * min(ssthresh, FlightSize + SMSS) at its end (RFC 6582, unchanged by
 * CUBIC), exactly.  After it CUBIC grows as the model says.
 */
static void
test_cubic_decrease_fast_retransmit(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(decrease_cases); i++) {
		struct cub c;
		bool cubic = strcmp(decrease_cases[i].algo, "cubic") == 0;

		cub_open(&c, decrease_cases[i].def, decrease_cases[i].set, 100);
		expect_cc(&c, decrease_cases[i].algo);
		if (!cubic)
			c.nmodel = 0;
		cub_grow(&c, 20 * SMSS);
		assert_int_equal(c.ti.snd_cwnd_bytes, 20 * SMSS);
		assert_int_equal(c.nend, 20);
		cub_loss(&c, decrease_cases[i].num, decrease_cases[i].den);
		for (int r = 0; r < 3; r++)
			cub_round(&c, 1);
		cub_close(&c);
	}
}

/*
 * RFC 9438 4.8: a retransmission timeout (the window in flight lost
 * whole): ssthresh = max(0.7 FlightSize, 2 SMSS) (NewReno: 0.5), cwnd
 * the loss window of one SMSS; the backed-off second timeout changes
 * neither (RFC 5681 3.1: ssthresh only for the first).  Then slow start
 * from 1 SMSS to ssthresh, and a congestion avoidance stage with K = 0
 * and W_max = cwnd_epoch: convex from its start.  With a round trip of
 * 900 ms and a window of 10 segments, W_cubic(t + RTT) runs ahead of
 * 1.5 cwnd a few seconds in, and the target is held there (4.2).
 */
static void
test_cubic_decrease_rto(void **state)
{
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct cub c;
		bool cubic = strcmp(decrease_cases[i].algo, "cubic") == 0;
		uint32_t flight, cwnd, ssthresh;
		uint64_t rtos = 0;
		unsigned rto;

		cub_open(&c, decrease_cases[i].def, NULL, 900);
		if (!cubic)
			c.nmodel = 0;
		flight = c.max - c.una;
		cwnd = c.ti.snd_cwnd_bytes;
		rto = c.ti.ti.tcpi_rto / 1000;
		rtos = tstat(&c.e, "rexmttimeo");
		ssthresh = MAX((uint32_t)((uint64_t)flight *
		    decrease_cases[i].num / decrease_cases[i].den), 2 * SMSS);
		for (unsigned n = 1; n <= 2; n++) {
			cub_timeout(&c, rto, n);
			assert_int_equal(tstat(&c.e, "rexmttimeo"), rtos + n);
			assert_int_equal(c.ti.snd_ssthresh_bytes, ssthresh);
			assert_int_equal(c.ti.snd_cwnd_bytes, SMSS);
			rto *= 2;
		}
		for (unsigned m = 0; m < c.nmodel; m++)
			model_timeout(&c.m[m], cwnd, flight);
		/* the retransmission arrives, and with it all the rest */
		tenv_advance(&c.e, c.rtt);
		cub_ack(&c, c.max);
		assert_int_equal(c.ti.snd_cwnd_bytes, 3 * SMSS);
		assert_int_equal(c.ti.snd_ssthresh_bytes, ssthresh);
		if (!cubic) {
			cub_close(&c);
			continue;
		}
		while (c.m[0].nconvex < 100)
			cub_round(&c, 1);
		assert_int_equal(c.m[0].nconcave, 0);	/* K = 0 */
		assert_true(c.m[0].ncap > 0);
		assert_true(c.ti.snd_cwnd_bytes > 1.5 * ssthresh);
		cub_close(&c);
	}
}

/*
 * RFC 9438 4.2, 4.4, 4.5: after a loss at W_max = 40 segments (its ACKs
 * come every other segment, a round trip takes 500 ms), the window
 * climbs the concave side of W_cubic towards W_max, which it reaches
 * near t = K, then the convex side past it, as the model says after
 * every ACK.  Reno's W_est lags: after the first round trip (t = 0, where
 * W_cubic is cwnd_epoch) the Reno-friendly region has no say.
 */
static void
test_cubic_growth_after_loss(void **state)
{
	struct cub c;
	double wmax;
	uint32_t at_k = 0;

	(void)state;
	cub_open(&c, NULL, NULL, 500);
	cub_grow(&c, 40 * SMSS);
	wmax = c.ti.snd_cwnd_bytes;
	cub_loss(&c, 7, 10);
	assert_true(c.m[0].k > 2.5 && c.m[0].k < 3.5);
	while ((tenv_now_ms(&c.e) - c.m[0].epoch) / 1000 < c.m[0].k + 3) {
		cub_round(&c, 2);
		if (at_k == 0 && (tenv_now_ms(&c.e) - c.m[0].epoch) / 1000 >=
		    c.m[0].k)
			at_k = c.ti.snd_cwnd_bytes;
	}
	assert_true(c.m[0].nconcave > 20);
	assert_true(c.m[0].nconvex > 20);
	assert_true(c.m[0].nreno < c.m[0].nconcave);
	/* the plateau: at K about W_max (within a segment), then beyond */
	assert_true(fabs(at_k - wmax) < SMSS);
	assert_true(c.ti.snd_cwnd_bytes > wmax + 2 * SMSS);
	cub_close(&c);
}

/*
 * RFC 9438 4.7: a second loss before the window is back at W_max lowers
 * W_max below that loss's own window, to cwnd (1 + beta_cubic) / 2; the
 * growth after it follows the model with fast convergence and parts
 * from the one without by more than the tolerance.
 */
static void
test_cubic_fast_convergence(void **state)
{
	struct cub c;
	double w2;

	(void)state;
	cub_open(&c, NULL, NULL, 500);
	c.m[1].fc = false;
	cub_grow(&c, 40 * SMSS);
	cub_loss(&c, 7, 10);
	for (int r = 0; r < 3; r++)
		cub_round(&c, 1);
	w2 = c.ti.snd_cwnd_bytes;
	assert_true(w2 < c.m[0].wmax * SMSS);
	cub_loss(&c, 7, 10);
	assert_true(fabs(c.m[0].wmax - w2 / SMSS * 0.85) < 1e-9);
	assert_true(fabs(c.m[1].wmax - w2 / SMSS) < 1e-9);
	for (int r = 0; r < 10; r++)
		cub_round(&c, 1);
	assert_true(c.m[0].nconcave > 0);
	assert_true(c.parted);
	cub_close(&c);
}

/*
 * RFC 9438 4.3: with a short round trip (10 ms) and a small window, Reno
 * would grow far faster than W_cubic's concave climb (K is some 2.5 s):
 * W_est takes over, by alpha_cubic = 9/17 segment a round trip, then by 1
 * once it has reached cwnd_prior, the window before the loss.
 */
static void
test_cubic_reno_friendly(void **state)
{
	struct cub c;
	double prior;

	(void)state;
	cub_open(&c, NULL, NULL, 10);
	cub_grow(&c, 20 * SMSS);
	prior = c.ti.snd_cwnd_bytes;
	cub_loss(&c, 7, 10);
	for (int r = 0; r < 40; r++)
		cub_round(&c, 1);
	assert_true(c.m[0].nreno > 0);
	assert_int_equal(c.m[0].nconcave + c.m[0].nconvex, 0);
	/* past cwnd_prior, so the second pace too */
	assert_true(c.ti.snd_cwnd_bytes > prior + 10 * SMSS);
	/* W_cubic itself is still below W_max */
	assert_true(model_w(&c.m[0], (tenv_now_ms(&c.e) - c.m[0].epoch) /
	    1000) < c.m[0].wmax);
	cub_close(&c);
}

/*
 * RFC 9438 5.8: while the application sends less than the window allows
 * (three segments a round trip), the window stays as it is and t stands
 * still; once the application fills the window again, the growth goes on
 * from where it stopped, as the model says -- the model with t running
 * all along is off by more than the tolerance.
 */
static void
test_cubic_app_limited(void **state)
{
	struct cub c;
	uint32_t cwnd;
	uint64_t sent;

	(void)state;
	cub_open(&c, NULL, NULL, 500);
	c.m[1].t_runs = true;
	cub_grow(&c, 40 * SMSS);
	cub_loss(&c, 7, 10);
	for (int r = 0; r < 3; r++)
		cub_round(&c, 1);
	/* the application stops; what it wrote drains */
	c.limit = c.written;
	do {
		cub_round(&c, 1);
		sent = c.max - (c.p.stack_iss + 1);
	} while (sent < c.written);
	cwnd = c.ti.snd_cwnd_bytes;
	for (int r = 0; r < 8; r++) {
		c.limit += 3 * SMSS;
		cub_fill(&c);
		cub_read(&c);
		cub_round(&c, 1);
		assert_int_equal(c.ti.snd_cwnd_bytes, cwnd);
	}
	c.limit = UINT64_MAX;
	cub_fill(&c);
	cub_read(&c);
	for (int r = 0; r < 4; r++)
		cub_round(&c, 1);
	assert_true(c.ti.snd_cwnd_bytes > cwnd + SMSS);
	assert_true(c.parted);
	cub_close(&c);
}

/*
 * Drain: the application stops, and the peer ACKs until nothing is in
 * flight; then ms of idle time (longer than the retransmission timeout)
 * in which the stack sends nothing and its window does not move; then
 * the application writes again.
 */
static void
cub_idle(struct cub *c, unsigned ms)
{
	uint32_t cwnd, ssthresh;

	c->limit = c->written;
	while (c->nend > 0)
		cub_round(c, 1);
	cwnd = c->ti.snd_cwnd_bytes;
	ssthresh = c->ti.snd_ssthresh_bytes;
	assert_true(ms > c->ti.ti.tcpi_rto / 1000);
	tenv_advance(&c->e, ms);
	cub_read(c);
	assert_int_equal(c->nend, 0);
	c->ti = tinfo(c->fd);
	assert_int_equal(c->ti.snd_cwnd_bytes, cwnd);
	assert_int_equal(c->ti.snd_ssthresh_bytes, ssthresh);
	c->limit = UINT64_MAX;
	cub_fill(c);
	cub_read(c);
	c->ti = tinfo(c->fd);
	assert_int_equal(c->ti.snd_ssthresh_bytes, ssthresh);
	for (unsigned i = 0; i < c->nmodel; i++)
		model_idle(&c->m[i]);
	cub_check(c);
	assert_int_equal(c->max - c->una, c->ti.snd_cwnd_bytes -
	    c->ti.snd_cwnd_bytes % SMSS);
}

/*
 * Idle time does not count in t (RFC 9438 5.8).  A small window (a
 * timeout at the initial window: ssthresh 7 segments; slow start, then
 * congestion avoidance from K = 0), idle for 5 s: sending restarts with
 * the window as it was (no more than the restart window, RFC 5681 4.1,
 * so left alone) and a new stage from there; the model whose t ran on
 * through the idle time (W_cubic 5 s further along, the target held to
 * 1.5 cwnd) is off by more than the tolerance.
 */
static void
test_cubic_idle(void **state)
{
	struct cub c;
	uint32_t flight, cwnd;

	(void)state;
	cub_open(&c, NULL, NULL, 500);
	c.m[1].t_runs = true;
	flight = c.max - c.una;
	cwnd = c.ti.snd_cwnd_bytes;
	cub_timeout(&c, c.ti.ti.tcpi_rto / 1000, 1);
	for (unsigned i = 0; i < c.nmodel; i++)
		model_timeout(&c.m[i], cwnd, flight);
	tenv_advance(&c.e, c.rtt);
	cub_ack(&c, c.max);
	while (c.m[0].epoch < 0 || c.m[0].nconvex < 20)
		cub_round(&c, 1);
	cub_idle(&c, 5000);
	assert_true(c.ti.snd_cwnd_bytes <= IW);
	for (int r = 0; r < 4; r++)
		cub_round(&c, 1);
	assert_true(c.parted);
	cub_close(&c);
}

/*
 * The same after a window larger than the restart window: sending
 * restarts from the restart window, ssthresh as it was (RFC 5681 4.1),
 * slow start climbs back, and a new stage starts there.
 */
static void
test_cubic_idle_restart_window(void **state)
{
	struct cub c;

	(void)state;
	cub_open(&c, NULL, NULL, 500);
	cub_grow(&c, 40 * SMSS);
	cub_loss(&c, 7, 10);
	for (int r = 0; r < 3; r++)
		cub_round(&c, 1);
	assert_true(c.ti.snd_cwnd_bytes > IW);
	cub_idle(&c, 5000);
	assert_int_equal(c.ti.snd_cwnd_bytes, IW);
	c.m[0].nconcave = 0;
	for (int r = 0; r < 6; r++)
		cub_round(&c, 1);
	assert_true(c.ti.snd_cwnd_bytes > c.ti.snd_ssthresh_bytes);
	assert_true(c.m[0].nconcave > 0);
	cub_close(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cubic_decrease_fast_retransmit),
		cmocka_unit_test(test_cubic_decrease_rto),
		cmocka_unit_test(test_cubic_growth_after_loss),
		cmocka_unit_test(test_cubic_fast_convergence),
		cmocka_unit_test(test_cubic_reno_friendly),
		cmocka_unit_test(test_cubic_app_limited),
		cmocka_unit_test(test_cubic_idle),
		cmocka_unit_test(test_cubic_idle_restart_window),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
