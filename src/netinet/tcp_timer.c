/*
 * tcp_timer.c -- the per-connection timers: retransmission, persist,
 * keepalive, 2 MSL and delayed ACK.
 *
 * (softclock -> callout ->) tcp_timer_rexmt() -> tcp_output() | tcp_drop()
 *                           tcp_timer_persist() -> tcp_output()
 *                           tcp_timer_keep() -> tcp_respond() | tcp_drop()
 *                           tcp_timer_2msl() -> tcp_close()
 *                           tcp_timer_delack() -> tcp_output()
 *                           tcp_timer_rack() -> tcp_rack_timeout()
 *
 * Read first: RFC 6298 (retransmission timer), RFC 5681 3.1 and RFC 6582
 * (what a timeout does to the window), RFC 9293 3.8.6.1 (zero-window
 * probing; MUST-26: never give up while the peer keeps answering),
 * RFC 1122 4.2.3.6 (keepalive), RFC 9293 3.6.1 (TIME-WAIT).
 *
 * Each handler takes the net lock and then checks that its callout really
 * fired and was not stopped or re-armed meanwhile (a stop clears
 * CALLOUT_FIRED; tcp_close() halts every timer, waiting for a handler
 * that runs, before the tcpcb goes).
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"
#include "sys/socketvar.h"

static void tcp_timer_rexmt(void *);
static void tcp_timer_persist(void *);
static void tcp_timer_keep(void *);
static void tcp_timer_2msl(void *);
static void tcp_timer_delack(void *);
static void tcp_timer_rack(void *);

static void (*const tcp_timer_funcs[TCPT_NTIMERS])(void *) = {
	[TCPT_REXMT] = tcp_timer_rexmt,
	[TCPT_PERSIST] = tcp_timer_persist,
	[TCPT_KEEP] = tcp_timer_keep,
	[TCPT_2MSL] = tcp_timer_2msl,
	[TCPT_DELACK] = tcp_timer_delack,
	[TCPT_RACK] = tcp_timer_rack,
};

void
tcp_timer_init(struct tcpcb *tp)
{
	for (int t = 0; t < TCPT_NTIMERS; t++) {
		callout_init(&tp->t_timer[t], CALLOUT_MPSAFE);
		callout_setfunc(&tp->t_timer[t], tcp_timer_funcs[t], tp);
	}
}

/*
 * Lazy timers.  A timer is armed when t_due[t] (its expiry tick) is not
 * 0; the callout behind it may be set for an earlier tick than that,
 * and then re-arms itself for the rest when it fires (tcp_timer_enter()),
 * and disarming does not stop it.  So the retransmission timer restarted
 * on every ACK and the delayed ACK timer set on every segment cost a
 * store, not a callout operation each.
 */
void
tcp_timer_arm(struct tcpcb *tp, int t, int ticks)
{
	tcp_timer_arm_from(tp, t, kern_clock_ticks(tp->t_ns->ns_kernel),
	    ticks);
}

void
tcp_timer_arm_from(struct tcpcb *tp, int t, uint64_t now, int ticks)
{
	callout_t *c = &tp->t_timer[t];
	uint64_t due;

	if (tp->t_flags & TF_DEAD)
		return;

	ticks = MAX(ticks, 1);
	due = now + (uint64_t)ticks;
	tp->t_due[t] = due;
	/* a callout due no later than this fires and re-arms if early */
	if (callout_pending(c) && tp->t_calloutdue[t] <= due)
		return;
	tp->t_calloutdue[t] = due;
	callout_schedule(c, ticks);
}

void
tcp_timer_disarm(struct tcpcb *tp, int t)
{
	tp->t_due[t] = 0;
}

bool
tcp_timer_armed(const struct tcpcb *tp, int t)
{
	return tp->t_due[t] != 0;
}

void
tcp_timer_stop_all(struct tcpcb *tp)
{
	for (int t = 0; t < TCPT_NTIMERS; t++) {
		tp->t_due[t] = 0;
		(void)callout_stop(&tp->t_timer[t]);
	}
}

void
tcp_timer_halt_all(struct tcpcb *tp)
{
	for (int t = 0; t < TCPT_NTIMERS; t++) {
		(void)callout_halt(&tp->t_timer[t], &tp->t_ns->ns_lock);
		callout_destroy(&tp->t_timer[t]);
	}
}

/* RFC 6298 5.5: the RTO doubles with each retransmission, up to the cap. */
int
tcp_rexmt_backoff(const struct tcpcb *tp, int n)
{
	uint64_t rto = (uint64_t)tp->t_rxtcur << MIN(n, 16);

	return (int)MIN(rto, (uint64_t)TCPTV_REXMTMAX);
}

/*
 * TCP_USER_TIMEOUT (RFC 5482; RFC 9293 MUST-21, the user's R2): the
 * interval t of a timer that gives up usertimeo after since, cut so that
 * it fires at that deadline, as Linux does; t when there is none.
 */
static int
tcp_usertimeo_clamp(const struct tcpcb *tp, uint64_t since, int t)
{
	uint64_t now = kern_clock_ticks(tp->t_ns->ns_kernel);
	uint64_t end = since + tp->t_usertimeo;

	if (tp->t_usertimeo == 0)
		return t;
	if (end <= now)
		return 1;
	return (int)MIN((uint64_t)t, end - now);
}

void
tcp_rexmt_start(struct tcpcb *tp)
{
	tcp_timer_arm(tp, TCPT_REXMT, tcp_rexmt_backoff(tp, tp->t_rxtshift));
	tp->t_progress = kern_clock_ticks(tp->t_ns->ns_kernel);
}

/*
 * Arm the persist timer (RFC 9293 3.8.6.1): the interval starts at the
 * RTO and backs off exponentially, within [TCPTV_PERSMIN, TCPTV_PERSMAX].
 */
void
tcp_setpersist(struct tcpcb *tp)
{
	int t = tcp_rexmt_backoff(tp, (int)tp->t_persistprobes);

	if (tp->t_persistprobes == 0)
		tp->t_persiststart = kern_clock_ticks(tp->t_ns->ns_kernel);
	t = MIN(MAX(t, TCPTV_PERSMIN), TCPTV_PERSMAX);
	t = tcp_usertimeo_clamp(tp, tp->t_persiststart, t);
	tcp_timer_arm(tp, TCPT_PERSIST, t);
	/* no tail loss probe into a closed window (RFC 8985 7) */
	tcp_rack_stop(tp, TCP_RACK_PTO);
	if (tp->t_persistprobes < TCP_MAXRXTSHIFT)
		tp->t_persistprobes++;
}

/* Take the net lock; false if the callout was stopped or re-armed. */
static bool
tcp_timer_enter(struct tcpcb *tp, int t)
{
	callout_t *c = &tp->t_timer[t];

	uint64_t now;

	mutex_enter(&tp->t_ns->ns_lock);
	if (callout_pending(c) || !callout_expired(c)) {
		mutex_exit(&tp->t_ns->ns_lock);
		return false;
	}
	callout_ack(c);
	if (tp->t_due[t] == 0 || (tp->t_flags & TF_DEAD)) {
		mutex_exit(&tp->t_ns->ns_lock);
		return false;		/* disarmed since */
	}
	now = kern_clock_ticks(tp->t_ns->ns_kernel);
	if (now < tp->t_due[t]) {
		/* re-armed for later since: wait for the rest */
		tp->t_calloutdue[t] = tp->t_due[t];
		callout_schedule(c, (int)MIN(tp->t_due[t] - now,
		    (uint64_t)__INT_MAX__));
		mutex_exit(&tp->t_ns->ns_lock);
		return false;
	}
	tp->t_due[t] = 0;
	return true;
}

static void
tcp_timer_rexmt(void *arg)
{
	struct tcpcb *tp = arg;
	struct netstack *ns = tp->t_ns;
	struct tcpstat *st = &ns->ns_tcp->tcp_stat;
	struct socket *so;
	bool user, zwin;
	int maxshift;

	if (!tcp_timer_enter(tp, TCPT_REXMT))
		return;
	user = tp->t_usertimeo != 0 && TCPS_HAVEESTABLISHED(tp->t_state);
	maxshift = TCPS_HAVEESTABLISHED(tp->t_state) ? TCP_MAXRXTSHIFT :
	    tp->t_synretries != 0 ? tp->t_synretries : TCP_SYNRXTSHIFT;
	/*
	 * RFC 9293 3.8.6.1 (MUST-26): the peer's window is shut, so what
	 * goes now probes it (a FIN, or a byte), and a peer that answers
	 * keeps the connection however long it stays shut, as Linux's
	 * tcp_retransmit_timer(); an orphan, or a peer silent for two of
	 * the longest backoffs, times out as usual
	 */
	so = tp->t_inpcb->inp_socket;
	zwin = tp->snd_wnd == 0 && TCPS_HAVEESTABLISHED(tp->t_state) &&
	    !user && so != NULL && !so->so_closing &&
	    kern_clock_ticks(ns->ns_kernel) - tp->t_rcvtime <
	    2 * TCPTV_REXMTMAX;
	if (zwin && tp->t_rxtshift >= maxshift)
		tp->t_rxtshift = maxshift - 1;	/* backed off all the way */
	/*
	 * RFC 1122 4.2.3.5 R2: give up, reporting any ICMP error seen.  With
	 * TCP_USER_TIMEOUT, R2 is that long without progress (Linux: in place
	 * of the count), from the first of what is outstanding.
	 */
	if (user ? kern_clock_ticks(ns->ns_kernel) - tp->t_progress >=
	    tp->t_usertimeo : ++tp->t_rxtshift > maxshift) {
		tp->t_rxtshift = MIN(tp->t_rxtshift, maxshift);
		st->tcps_timeoutdrop++;
		(void)tcp_drop(tp, ETIMEDOUT);
		mutex_exit(&ns->ns_lock);
		return;
	}
	if (user && tp->t_rxtshift < maxshift)
		tp->t_rxtshift++;
	st->tcps_rexmttimeo++;
	/* RFC 6298 5.4-5.6: retransmit the earliest segment, back off */
	tcp_timer_arm(tp, TCPT_REXMT, user ? tcp_usertimeo_clamp(tp,
	    tp->t_progress, tcp_rexmt_backoff(tp, tp->t_rxtshift)) :
	    tcp_rexmt_backoff(tp, tp->t_rxtshift));
	tp->snd_nxt = tp->snd_una;
	tp->snd_recover = tp->snd_max;	/* RFC 6582 4: no recovery below */
	tp->t_rtttime = 0;		/* Karn: no sample from a resend */
	tcp_dupacks_end(tp);
	tp->t_flags &= ~TF_FASTRECOVERY;
	/* RFC 2018 8: the receiver may have reneged; forget the SACKs */
	tcp_sack_clear(tp);
	tcp_rack_rto(tp);
	if (TCPS_HAVEESTABLISHED(tp->t_state)) {
		tp->t_cc->cc_timeout(tp);
		/* RFC 3168 6.1.2: CWR on the first new data after it */
		if (tp->t_flags & TF_ECN_PERMIT)
			tp->t_flags |= TF_ECN_SND_CWR;
	}
	if (zwin)
		tp->t_flags |= TF_FORCEDATA;	/* a byte into the shut window */
	(void)tcp_output(tp);
	tp->t_flags &= ~TF_FORCEDATA;
	mutex_exit(&ns->ns_lock);
}

/*
 * Zero-window probe.  RFC 9293 MUST-26: the connection stays open while
 * the peer answers the probes; it is dropped only when nothing at all has
 * come back for as long as the retransmission timer would wait (R2).
 */
static void
tcp_timer_persist(void *arg)
{
	struct tcpcb *tp = arg;
	struct netstack *ns = tp->t_ns;
	struct tcpstat *st = &ns->ns_tcp->tcp_stat;
	struct socket *so;
	uint64_t idle, now;

	if (!tcp_timer_enter(tp, TCPT_PERSIST))
		return;
	/*
	 * Nothing left to send (the peer took it all, a probe's byte too,
	 * or what is left went before the window shrank): the persist is
	 * over, without a probe (as Linux's tcp_probe_timer()); what is in
	 * flight has the retransmission timer (RFC 6298 5.1)
	 */
	so = tp->t_inpcb->inp_socket;
	if (so == NULL || so->so_snd.sb_cc <= tp->snd_nxt - tp->snd_una) {
		tp->t_persistprobes = 0;
		if (tp->snd_nxt != tp->snd_una &&
		    !tcp_timer_armed(tp, TCPT_REXMT))
			tcp_rexmt_start(tp);
		mutex_exit(&ns->ns_lock);
		return;
	}
	st->tcps_persisttimeo++;
	now = kern_clock_ticks(ns->ns_kernel);
	idle = now - tp->t_rcvtime;
	/*
	 * TCP_USER_TIMEOUT: so long with the window shut, answered or not.
	 * Only a shut window: the persist timer also forces out what a
	 * cork or a small window held back.
	 */
	if (tp->snd_wnd == 0 && ((tp->t_usertimeo != 0 && now -
	    tp->t_persiststart >= tp->t_usertimeo) ||
	    (tp->t_persistprobes >= TCP_MAXRXTSHIFT &&
	    idle >= (uint64_t)TCPTV_REXMTMAX * TCP_MAXRXTSHIFT))) {
		st->tcps_persistdrop++;
		(void)tcp_drop(tp, ETIMEDOUT);
		mutex_exit(&ns->ns_lock);
		return;
	}
	tcp_setpersist(tp);
	tp->t_flags |= TF_FORCEDATA;
	(void)tcp_output(tp);
	tp->t_flags &= ~TF_FORCEDATA;
	mutex_exit(&ns->ns_lock);
}

/*
 * Keepalive (RFC 1122 4.2.3.6), when SO_KEEPALIVE is on: after t_keepidle
 * without a segment from the peer, a probe every t_keepintvl; after
 * t_keepcnt unanswered probes the connection is dropped.  The timer is
 * armed once and re-arms itself from the time of the last segment in, so
 * input never touches it.
 */
static void
tcp_timer_keep(void *arg)
{
	struct tcpcb *tp = arg;
	struct netstack *ns = tp->t_ns;
	struct tcpstat *st = &ns->ns_tcp->tcp_stat;
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp->inp_socket;
	uint64_t idle, now;
	uint32_t ts[2];

	if (!tcp_timer_enter(tp, TCPT_KEEP))
		return;
	if (tp->t_flags & TF_DEFERRED) {
		/* TCP_DEFER_ACCEPT's time is up: acceptable, data or not */
		if (tcp_defer_end(tp))
			st->tcps_defertimeo++;
		mutex_exit(&ns->ns_lock);
		return;
	}
	if (so == NULL || !(so->so_options & SOO_KEEPALIVE) ||
	    !TCPS_HAVEESTABLISHED(tp->t_state) ||
	    tp->t_state > TCPS_CLOSING) {
		mutex_exit(&ns->ns_lock);
		return;
	}
	st->tcps_keeptimeo++;
	now = kern_clock_ticks(ns->ns_kernel);
	idle = now - tp->t_rcvtime;
	if (idle < tp->t_keepidle) {
		tp->t_keepprobes = 0;
		tcp_timer_arm(tp, TCPT_KEEP, (int)(tp->t_keepidle - idle));
		mutex_exit(&ns->ns_lock);
		return;
	}
	/*
	 * TCP_USER_TIMEOUT in place of the count (Linux): a probe out and
	 * nothing from the peer for that long
	 */
	if (tp->t_usertimeo != 0 ? tp->t_keepprobes > 0 &&
	    idle >= tp->t_usertimeo : tp->t_keepprobes >= tp->t_keepcnt) {
		st->tcps_keepdrops++;
		(void)tcp_drop(tp, ETIMEDOUT);
		mutex_exit(&ns->ns_lock);
		return;
	}
	/*
	 * RFC 1122: SEG.SEQ = SND.NXT - 1, so the peer must answer; RFC
	 * 7323 3.2: with the timestamps agreed on (MUST, every segment).
	 */
	st->tcps_keepprobe++;
	tp->t_keepprobes++;
	ts[0] = tcp_now(ns) + tp->ts_offset;
	ts[1] = tp->ts_recent;
	tcp_respond(ns, inp, inp->inp_laddr, inp->inp_lport, inp->inp_faddr,
	    inp->inp_fport, tp->snd_una - 1, tp->rcv_nxt, TH_ACK,
	    (uint16_t)MIN(MAX(tcp_rcvspace(tp), tcp_rcv_wnd_adv(tp)) >>
	    tp->rcv_scale, TCP_MAXWIN),
	    (tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) ==
	    (TF_REQ_TSTMP | TF_RCVD_TSTMP) ? ts : NULL);
	tcp_timer_arm(tp, TCPT_KEEP, (int)tp->t_keepintvl);
	mutex_exit(&ns->ns_lock);
}

/* TIME-WAIT is over, or an orphan sat in FIN-WAIT-2 too long. */
static void
tcp_timer_2msl(void *arg)
{
	struct tcpcb *tp = arg;
	struct netstack *ns = tp->t_ns;

	if (!tcp_timer_enter(tp, TCPT_2MSL))
		return;
	(void)tcp_close(tp);
	mutex_exit(&ns->ns_lock);
}

static void
tcp_timer_delack(void *arg)
{
	struct tcpcb *tp = arg;
	struct netstack *ns = tp->t_ns;

	if (!tcp_timer_enter(tp, TCPT_DELACK))
		return;
	if (tp->t_flags & TF_DELACK) {
		tp->t_flags |= TF_ACKNOW;
		ns->ns_tcp->tcp_stat.tcps_delack++;
		(void)tcp_output(tp);
	}
	mutex_exit(&ns->ns_lock);
}

/* RACK's reordering window ran out, or the tail loss probe is due. */
static void
tcp_timer_rack(void *arg)
{
	struct tcpcb *tp = arg;
	struct netstack *ns = tp->t_ns;

	if (!tcp_timer_enter(tp, TCPT_RACK))
		return;
	tcp_rack_timeout(tp);
	mutex_exit(&ns->ns_lock);
}
