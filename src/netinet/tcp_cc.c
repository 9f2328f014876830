/*
 * tcp_cc.c -- congestion control algorithms (struct tcp_cc in tcp_var.h)
 * and the table that names them (TCP_CONGESTION): CUBIC, the default
 * (tcp_init()), and NewReno.
 *
 * (tcp_input() -> tcp_established(), tcp_newack(), tcp_dupack();
 *  tcp_timer_rexmt(); tcp_output(); TCP_CONGESTION ->) tp->t_cc->cc_*():
 *   tcp_cc_newreno: newreno_*()
 *   tcp_cc_cubic:   cubic_init(), cubic_ack() -> cubic_avoid() ->
 *                   cubic_epoch(), cubic_window() -> tcp_cubic_cbrt();
 *                   cubic_recovery(), newreno_recovered(), cubic_timeout(),
 *                   cubic_idle()
 *
 * Read first: RFC 5681 (slow start, congestion avoidance, the loss
 * window, restart after idle), RFC 3465 (byte counting, L = 2*SMSS),
 * RFC 6582 (NewReno's window at the end of recovery), RFC 9438 (CUBIC:
 * all of section 4, and 5.8 on application-limited flows).
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "netinet/tcp_var.h"

#define TCP_CWND_MAX ((uint32_t)TCP_MAXWIN << TCP_MAXWINSHIFT)

static uint32_t
tcp_flight(const struct tcpcb *tp)
{
	return tp->snd_max - tp->snd_una;
}

/*
 * FlightSize for ssthresh on a loss found by duplicate ACKs: without what
 * limited transmit sent (RFC 5681 3.2 step 2, RFC 6675 5 (4.2)).
 */
static uint32_t
tcp_flight_dupack(const struct tcpcb *tp)
{
	uint32_t f = tcp_flight(tp);

	return f - MIN(f, tp->t_ltbytes);
}

static void
newreno_init(struct tcpcb *tp)
{
	tp->t_bytes_acked = 0;
}

/*
 * RFC 5681 3.1: slow start below ssthresh (RFC 3465: by the bytes
 * acked, at most 2*SMSS per ACK), then one SMSS per window of data acked
 * (byte counting).
 */
static void
newreno_ack(struct tcpcb *tp, uint32_t acked)
{
	unsigned mss = tp->t_maxseg;

	if (tp->snd_cwnd < tp->snd_ssthresh) {
		tp->snd_cwnd += MIN(acked, 2 * mss);
	} else {
		tp->t_bytes_acked += acked;
		if (tp->t_bytes_acked >= tp->snd_cwnd) {
			tp->t_bytes_acked -= tp->snd_cwnd;
			tp->snd_cwnd += mss;
		}
	}
	tp->snd_cwnd = MIN(tp->snd_cwnd, TCP_CWND_MAX);
}

/* RFC 5681 3.2 step 2 (eq. 4): ssthresh = max(FlightSize / 2, 2*SMSS) */
static void
newreno_recovery(struct tcpcb *tp)
{
	tp->snd_ssthresh = MAX(tcp_flight_dupack(tp) / 2, 2 * tp->t_maxseg);
	tp->t_bytes_acked = 0;
}

/* RFC 6582 3.2 step 3 (option 1): min(ssthresh, max(FlightSize, SMSS) + SMSS) */
static void
newreno_recovered(struct tcpcb *tp)
{
	uint32_t flight = tcp_flight(tp);

	tp->snd_cwnd = MIN(tp->snd_ssthresh, MAX(flight, tp->t_maxseg) +
	    tp->t_maxseg);
}

/* RFC 5681 3.1 eq. 4 and the loss window LW = 1 SMSS */
static void
newreno_timeout(struct tcpcb *tp)
{
	tp->snd_ssthresh = MAX(tcp_flight(tp) / 2, 2 * tp->t_maxseg);
	tp->snd_cwnd = tp->t_maxseg;
	tp->t_bytes_acked = 0;
}

/* RFC 5681 4.1: restart window RW = min(IW, cwnd) */
static void
newreno_idle(struct tcpcb *tp)
{
	tp->snd_cwnd = MIN(tp->snd_cwnd, TCP_INITWND(tp->t_maxseg));
}

const struct tcp_cc tcp_cc_newreno = {
	.cc_name = "newreno",
	.cc_init = newreno_init,
	.cc_ack = newreno_ack,
	.cc_recovery = newreno_recovery,
	.cc_recovered = newreno_recovered,
	.cc_timeout = newreno_timeout,
	.cc_idle = newreno_idle,
};

/*
 * CUBIC (RFC 9438).  Windows are in bytes, as snd_cwnd is: the RFC's
 * window of W segments is W * SMSS bytes here.  No floating point: time
 * in milliseconds of the instance clock, C = 0.4 and beta_cubic = 0.7 as
 * fractions, and the parts of a byte that W_est and the per-ACK increase
 * leave over kept with CUBIC_FRAC bits below the byte.  The state is the
 * t_cub_* block of struct tcpcb.
 *
 * With C = 2/5 segment/s^3, C * (t - K)^3 segments for t - K = d ms is
 * 2 * SMSS * d^3 / CUBIC_CDEN bytes.
 */
#define CUBIC_CDEN 5000000000ull	/* 5 * 10^9: C per ms^3, see above */
#define CUBIC_BETA_NUM 7		/* beta_cubic = 7/10 (4.6) */
#define CUBIC_BETA_DEN 10
#define CUBIC_FC_NUM 17			/* (1 + beta_cubic) / 2 = 17/20 (4.7) */
#define CUBIC_FC_DEN 20
#define CUBIC_ALPHA_NUM 9		/* 3 (1 - beta) / (1 + beta) = 9/17 (4.3) */
#define CUBIC_ALPHA_DEN 17
#define CUBIC_FRAC 16			/* fixed point: bits below the byte */
/*
 * |t - K| beyond which W_cubic is taken as 0 or the largest window:
 * 2^20 ms (17 minutes) keeps d^3 in 60 bits; K itself is at most some
 * 350 s (a 1 GiB W_max, 64-byte segments), and C * (2^20 ms)^3 is past
 * any window.
 */
#define CUBIC_TMAX (1ull << 20)

/*
 * tcp_cubic_cbrt: floor(cbrt(x)).  Newton's iteration from above: from
 * r > cbrt(x), r' = floor((2r + floor(x / r^2)) / 3) is the floor of the
 * real iteration, which never falls below cbrt(x) (AM-GM) and is below r
 * while r^3 > x; so the sequence falls and stops at floor(cbrt(x)).
 */
uint32_t
tcp_cubic_cbrt(uint64_t x)
{
	uint64_t r, y;
	int bits;

	if (x == 0)
		return 0;
	bits = 64 - __builtin_clzll(x);
	r = 1ull << ((bits + 2) / 3);	/* r^3 >= 2^bits > x; r <= 2^22 */
	for (;;) {
		y = (2 * r + x / (r * r)) / 3;
		if (y >= r)
			return (uint32_t)r;
		r = y;
	}
}

static uint64_t
cubic_now(const struct tcpcb *tp)
{
	/* 0 means "no epoch": time 0 is 1 ns */
	return MAX(kern_clock_ns(tp->t_ns->ns_kernel), 1);
}

/* RFC 9438 4.2 eq. 1: W_cubic(t) = C * (t - K)^3 + W_max, t in ms, bytes */
static uint32_t
cubic_window(const struct tcpcb *tp, uint64_t t)
{
	uint64_t k = tp->t_cub_k, wmax = tp->t_cub_wmax, mss = tp->t_maxseg;
	uint64_t d, d3, delta;
	bool below = t < k;

	d = below ? k - t : t - k;
	if (d >= CUBIC_TMAX)
		return below ? 0 : TCP_CWND_MAX;
	d3 = d * d * d;
	/* 2 * SMSS * d^3 / CUBIC_CDEN, split so that nothing overflows */
	delta = d3 / CUBIC_CDEN * 2 * mss + d3 % CUBIC_CDEN * 2 * mss /
	    CUBIC_CDEN;
	if (below)
		return delta >= wmax ? 0 : (uint32_t)(wmax - delta);
	return (uint32_t)MIN(wmax + delta, TCP_CWND_MAX);
}

/* n / d with CUBIC_FRAC bits below the point; n / d and d < 2^48 */
static uint64_t
cubic_frac_div(uint64_t n, uint64_t d)
{
	return (n / d) << CUBIC_FRAC | ((n % d) << CUBIC_FRAC) / d;
}

static void
cubic_init(struct tcpcb *tp)
{
	tp->t_bytes_acked = 0;
	tp->t_cub_epoch = 0;
	tp->t_cub_lastack = cubic_now(tp);
	tp->t_cub_west = 0;
	tp->t_cub_wmax = 0;
	tp->t_cub_prior = 0;
	tp->t_cub_k = 0;
	tp->t_cub_frac = 0;
}

/*
 * RFC 9438 4.2: a congestion avoidance stage starts: t_epoch, K from
 * cwnd_epoch (eq. 2), W_est = cwnd_epoch (4.3).  Without a W_max above
 * cwnd_epoch (the first stage after a timeout, 4.8, or one reached
 * without a loss, 4.10): K = 0 and W_max = cwnd_epoch.
 */
static void
cubic_epoch(struct tcpcb *tp, uint64_t now)
{
	uint32_t cwnd = tp->snd_cwnd;

	tp->t_cub_epoch = now;
	tp->t_cub_west = (uint64_t)cwnd << CUBIC_FRAC;
	tp->t_cub_frac = 0;
	if (tp->t_cub_prior == 0)
		tp->t_cub_prior = cwnd;		/* 4.10 */
	if (tp->t_cub_wmax <= cwnd) {
		tp->t_cub_wmax = cwnd;
		tp->t_cub_k = 0;
		return;
	}
	/* K = cbrt((W_max - cwnd_epoch) / C), in ms: < 2^30 * 5 * 10^9 */
	tp->t_cub_k = tcp_cubic_cbrt((uint64_t)(tp->t_cub_wmax - cwnd) *
	    CUBIC_CDEN / (2 * (uint64_t)tp->t_maxseg));
}

/* RFC 9438 4.2-4.5: congestion avoidance, one new ACK of acked bytes */
static void
cubic_avoid(struct tcpcb *tp, uint32_t acked, uint64_t now)
{
	uint32_t cwnd = tp->snd_cwnd, west, w, target;
	uint64_t t, rtt, alpha, inc;

	if (tp->t_cub_epoch == 0)
		cubic_epoch(tp, now);
	t = (now - tp->t_cub_epoch) / 1000000;
	/*
	 * 4.3 eq. 4, by bytes acked (RFC 3465): W_est grows by alpha_cubic
	 * segments a window acked, by 1 once it has reached cwnd_prior.
	 */
	alpha = (tp->t_cub_west >> CUBIC_FRAC) >= tp->t_cub_prior ?
	    CUBIC_ALPHA_DEN : CUBIC_ALPHA_NUM;
	tp->t_cub_west += cubic_frac_div(alpha * acked * tp->t_maxseg,
	    CUBIC_ALPHA_DEN * (uint64_t)cwnd);
	west = (uint32_t)MIN(tp->t_cub_west >> CUBIC_FRAC, TCP_CWND_MAX);
	/* 4.3: the Reno-friendly region, where W_cubic(t) < W_est */
	w = cubic_window(tp, t);
	if (w < west) {
		tp->snd_cwnd = MAX(cwnd, west);
		return;
	}
	/*
	 * 4.4 concave (cwnd < W_max), 4.5 convex: (target - cwnd) / cwnd a
	 * segment acked, target = W_cubic(t + RTT) within [cwnd, 1.5 cwnd]
	 * (4.2).  Without an RTT sample yet, RTT = 0.
	 */
	rtt = (tp->t_srtt + 500) / 1000;
	target = cubic_window(tp, t + rtt);
	target = MAX(target, cwnd);
	target = MIN(target, cwnd + cwnd / 2);
	inc = cubic_frac_div((uint64_t)(target - cwnd) * MIN(acked, cwnd),
	    cwnd) + tp->t_cub_frac;
	tp->t_cub_frac = (uint32_t)(inc & ((1u << CUBIC_FRAC) - 1));
	tp->snd_cwnd = (uint32_t)MIN(cwnd + (inc >> CUBIC_FRAC), TCP_CWND_MAX);
}

/*
 * A new ACK outside recovery.  RFC 9438 5.8: the window grows only while
 * the flow uses it; segments leave whole (tcp_output()), so a sender that
 * fills its window leaves less than an SMSS of it unused.  The time an
 * ACK finds the window not in use (the application or the peer's window
 * held the sender back) is taken out of t: the epoch moves with it.
 */
static void
cubic_ack(struct tcpcb *tp, uint32_t acked)
{
	uint64_t now = cubic_now(tp);
	uint64_t gap = now - MIN(tp->t_cub_lastack, now);

	tp->t_cub_lastack = now;
	if (tcp_flight(tp) + tp->t_maxseg <= tp->snd_cwnd) {
		if (tp->t_cub_epoch != 0)
			tp->t_cub_epoch += gap;
		return;
	}
	if (tp->snd_cwnd < tp->snd_ssthresh) {
		/* 4.10: Reno's slow start (RFC 5681 3.1, RFC 3465 L = 2) */
		tp->t_cub_epoch = 0;
		tp->snd_cwnd = MIN(tp->snd_cwnd + MIN(acked, 2 * tp->t_maxseg),
		    TCP_CWND_MAX);
		return;
	}
	cubic_avoid(tp, acked, now);
}

/* beta_cubic * FlightSize, at least 2 SMSS (RFC 9438 4.6 eq. 5) */
static uint32_t
cubic_ssthresh(const struct tcpcb *tp, uint32_t flight)
{
	uint64_t s = (uint64_t)flight * CUBIC_BETA_NUM / CUBIC_BETA_DEN;

	return (uint32_t)MAX(s, 2 * tp->t_maxseg);
}

/*
 * A congestion event: loss found by duplicate ACKs (or SACK), or an ECN
 * echo (the caller then sets cwnd to ssthresh itself).  RFC 9438 4.7:
 * below the last W_max the flow releases more (fast convergence); 4.6:
 * cwnd_prior, ssthresh and cwnd.  The next ACK in congestion avoidance
 * starts a new stage.
 */
static void
cubic_recovery(struct tcpcb *tp)
{
	uint32_t cwnd = tp->snd_cwnd;

	if (cwnd < tp->t_cub_wmax)
		tp->t_cub_wmax = (uint32_t)((uint64_t)cwnd * CUBIC_FC_NUM /
		    CUBIC_FC_DEN);
	else
		tp->t_cub_wmax = cwnd;
	tp->t_cub_prior = cwnd;
	tp->snd_ssthresh = cubic_ssthresh(tp, tcp_flight_dupack(tp));
	tp->snd_cwnd = tp->snd_ssthresh;
	tp->t_cub_epoch = 0;
	tp->t_bytes_acked = 0;
}

/*
 * RFC 9438 4.8: the loss window as Reno's, ssthresh as in 4.6 -- once,
 * for the first timeout of a segment (RFC 5681 3.1): a backed-off
 * retransmission changes neither it nor cwnd_prior.  W_max = 0: the
 * first stage after the timeout takes K = 0 and W_max = cwnd_epoch
 * (cubic_epoch()).
 */
static void
cubic_timeout(struct tcpcb *tp)
{
	if (tp->t_rxtshift <= 1) {
		tp->t_cub_prior = tp->snd_cwnd;
		tp->snd_ssthresh = cubic_ssthresh(tp, tcp_flight(tp));
		tp->t_cub_wmax = 0;
	}
	tp->snd_cwnd = tp->t_maxseg;
	tp->t_cub_epoch = 0;
	tp->t_bytes_acked = 0;
}

/*
 * Sending restarts after an idle retransmission timeout: RFC 5681 4.1's
 * restart window, as NewReno's; and a new congestion avoidance stage
 * from the next ACK, so that the idle time does not count in t (RFC 9438
 * 5.8) and W_cubic does not leap by it.
 */
static void
cubic_idle(struct tcpcb *tp)
{
	tp->snd_cwnd = MIN(tp->snd_cwnd, TCP_INITWND(tp->t_maxseg));
	tp->t_cub_epoch = 0;
}

/* RFC 9438 changes neither fast retransmit nor fast recovery (4.2) */
const struct tcp_cc tcp_cc_cubic = {
	.cc_name = "cubic",
	.cc_init = cubic_init,
	.cc_ack = cubic_ack,
	.cc_recovery = cubic_recovery,
	.cc_recovered = newreno_recovered,
	.cc_timeout = cubic_timeout,
	.cc_idle = cubic_idle,
};

static const struct tcp_cc *const tcp_cc_algos[] = {
	&tcp_cc_cubic,
	&tcp_cc_newreno,
};

const struct tcp_cc *
tcp_cc_find(const char *name)
{
	for (size_t i = 0; i < __arraycount(tcp_cc_algos); i++)
		if (strcmp(tcp_cc_algos[i]->cc_name, name) == 0)
			return tcp_cc_algos[i];
	return NULL;
}
