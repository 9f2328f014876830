/*
 * tcp_timer.h -- the per-connection timers and their values.  Times are
 * callout ticks (1 ms, hz = 1000).
 *
 * Read first: RFC 6298 (retransmission timer), RFC 9293 3.8.1 and RFC
 * 1122 4.2.3.5 (R1/R2), 3.8.6.1 (zero-window probes), RFC 1122 4.2.3.6
 * (keepalive), RFC 9293 3.6.1 (TIME-WAIT, 2 MSL).
 */
#ifndef NETINET_TCP_TIMER_H
#define NETINET_TCP_TIMER_H

#include "kern/libkern.h"

struct tcpcb;

#define TCPT_REXMT 0		/* retransmit */
#define TCPT_PERSIST 1		/* zero-window probe */
#define TCPT_KEEP 2		/* keepalive, or connection establishment */
#define TCPT_2MSL 3		/* TIME-WAIT; FIN-WAIT-2 of an orphan */
#define TCPT_DELACK 4		/* delayed ACK */
#define TCPT_RACK 5		/* RACK reordering window or TLP (RFC 8985) */
#define TCPT_NTIMERS 6

/*
 * RFC 6298 2.4 says the RTO SHOULD be at least 1 s; like Linux and the
 * BSDs we use 200 ms, which the RFC's own note allows for stacks whose
 * clock and delayed ACKs make spurious timeouts unlikely.
 */
#define TCPTV_MIN 200			/* RTO floor */
#define TCPTV_REXMTMAX (60 * 1000)	/* RFC 6298 2.5: at least 60 s */
#define TCPTV_RTOBASE 1000		/* RFC 6298 2.1: initial RTO 1 s */
#define TCPTV_PERSMIN 200		/* zero-window probes, from RTO */
#define TCPTV_PERSMAX (60 * 1000)
#define TCPTV_KEEP_INIT (75 * 1000)	/* connection establishment limit */
#define TCPTV_KEEP_IDLE (2 * 60 * 60 * 1000)	/* RFC 1122: >= 2 h */
#define TCPTV_KEEPINTVL (75 * 1000)
#define TCPTV_KEEPCNT 9
#define TCPTV_MSL (30 * 1000)		/* 2 MSL = 60 s, as Linux and BSD */
#define TCPTV_DELACK 40			/* RFC 9293 3.8.6.3: < 500 ms */
#define TCPTV_FINWAIT2 (60 * 1000)	/* orphan in FIN-WAIT-2 */

/*
 * R2 (RFC 1122 4.2.3.5): give up a connection after TCP_MAXRXTSHIFT
 * backed-off retransmissions of data (6 to 8 minutes with the 60 s
 * cap, above the RFC's 100 s minimum), of a SYN after TCP_SYNRXTSHIFT:
 * RFC 9293 MUST-23 wants a SYN retransmitted for at least 3 minutes, so
 * resends at 1, 3, 7, 15, 31, 63 and 123 s and the end at 183 s (Linux's
 * 6 stop at 127 s).  R1 is 3.
 */
#define TCP_MAXRXTSHIFT 12
#define TCP_SYNRXTSHIFT 7
#define TCP_R1 3

void tcp_timer_init(struct tcpcb *tp);
/* tcp_timer_arm / tcp_timer_disarm: (re)start or stop timer t of tp */
void tcp_timer_arm(struct tcpcb *tp, int t, int ticks);
/* tcp_timer_arm_from: the same, counting from now, the clock's tick */
void tcp_timer_arm_from(struct tcpcb *tp, int t, uint64_t now, int ticks);
void tcp_timer_disarm(struct tcpcb *tp, int t);
bool tcp_timer_armed(const struct tcpcb *tp, int t);
/* tcp_timer_stop_all: stop every timer now (no waiting) */
void tcp_timer_stop_all(struct tcpcb *tp);
/* tcp_timer_halt_all: wait for a handler still running, and destroy */
void tcp_timer_halt_all(struct tcpcb *tp);
/* tcp_rexmt_backoff: RTO for retransmission n (0: the first send) */
int tcp_rexmt_backoff(const struct tcpcb *tp, int n);
void tcp_setpersist(struct tcpcb *tp);
/*
 * tcp_rexmt_start: arm the retransmission timer for what is now in
 * flight (RFC 6298 5.1); TCP_USER_TIMEOUT counts from here.
 */
void tcp_rexmt_start(struct tcpcb *tp);

#endif /* NETINET_TCP_TIMER_H */
