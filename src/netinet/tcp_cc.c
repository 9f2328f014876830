/*
 * tcp_cc.c -- congestion control algorithms (struct tcp_cc in tcp_var.h)
 * and the table that names them (TCP_CONGESTION).
 *
 * (tcp_input() -> tcp_newack(), tcp_dupack(); tcp_timer_rexmt();
 *  tcp_output() ->) tcp_cc_newreno.cc_*()
 *
 * Read first: RFC 5681 (slow start, congestion avoidance, the loss
 * window, restart after idle), RFC 3465 (byte counting, L = 2*SMSS),
 * RFC 6582 (NewReno's window at the end of recovery).
 */
#include "kern/kernel.h"
#include "netinet/tcp_var.h"

#define TCP_CWND_MAX ((uint32_t)TCP_MAXWIN << TCP_MAXWINSHIFT)

static uint32_t
tcp_flight(const struct tcpcb *tp)
{
	return tp->snd_max - tp->snd_una;
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
	tp->snd_ssthresh = MAX(tcp_flight(tp) / 2, 2 * tp->t_maxseg);
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

static const struct tcp_cc *const tcp_cc_algos[] = {
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
