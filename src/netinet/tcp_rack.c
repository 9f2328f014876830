/*
 * tcp_rack.c -- RACK-TLP loss detection (RFC 8985): what was sent when,
 * losses inferred from time instead of from counting duplicate ACKs, and
 * a probe that turns a lost tail into a fast recovery instead of a
 * retransmission timeout.
 *
 * (tcp_send_segment() ->) tcp_rack_sent()        a segment left
 * (tcp_step_ack() ->)     tcp_rack_ack()         SND.UNA moved, SACKs came:
 *                             deliveries -> RACK.xmit_ts/end_seq/rtt,
 *                             reordering seen; tcp_rack_detect() marks
 *                             losses, arms the reordering timer
 * (tcp_sack_nextseg(), tcp_sack_pipe() ->) tcp_rack_nextlost(),
 *                                          tcp_rack_pipe()
 * (tcp_output(), tcp_input() ->) tcp_rack_arm_pto()   the TLP timer
 * (softclock ->) tcp_timer_rack() (tcp_timer.c) -> tcp_rack_timeout():
 *                             reordering window over -> detect;
 *                             PTO -> one new segment or the last again
 * (tcp_timer_rexmt() ->)  tcp_rack_rto()         everything unSACKed lost
 * (tcp_close() ->)        tcp_rack_free()
 *
 * Read first: RFC 8985 (all of it; 6.2 the RACK steps, 7 TLP), RFC 6675
 * (the scoreboard this builds on: tcp_sack.c).
 *
 * The records: t_rec[0 .. t_nrec) cover [SND.UNA, SND.MAX) in sequence
 * order, one per transmission (new data sent in one instant, with nothing
 * else between, shares one), each with its last transmit stamp and
 * whether it was SACKed, resent, or is lost and not yet resent.  Stamps
 * are the clock, but strictly increasing per connection (a nanosecond
 * later than the last if the clock has not moved): RFC 8985 breaks ties
 * between equal times by sequence number, which is wrong for a resend
 * that goes after new data in the same instant (a virtual clock's tick,
 * a coarse host clock), and would find the resend lost as soon as the
 * new data is SACKed.  The array doubles up to TCP_REC_MAX records.
 * Memory comes from hyper_malloc(), counted in tcp_state.tcp_rack_bytes,
 * at most TCP_RACK_MEM_MAX an instance.  A connection that cannot get
 * more (a peer SACKing byte by byte gets there) stops using RACK
 * (TF_RACK off, counted in tcp.rackoff) and keeps RFC 6675's rules.
 * TIME-WAIT frees the records.
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"
#include "sys/socketvar.h"

#define TCP_REC_MIN 16
#define TCP_RACK_WCDELACK 200		/* RFC 8985 7.2 WCDelAckT, ticks */
#define TCP_RACK_REO_PERSIST 16		/* RFC 8985 6.2 RACK.reo_wnd_persist */
#define TCP_PTO_MIN 10			/* ticks */

static void
tcp_rack_off(struct tcpcb *tp)
{
	tcp_rack_free(tp);
	tp->t_flags &= ~TF_RACK;
}

void
tcp_rack_free(struct tcpcb *tp)
{
	if (tp->t_rec != NULL) {
		hyper_free(tp->t_rec, tp->t_caprec * sizeof(*tp->t_rec));
		tp->t_ns->ns_tcp->tcp_rack_bytes -= tp->t_caprec *
		    sizeof(*tp->t_rec);
	}
	tp->t_rec = NULL;
	tp->t_nrec = tp->t_caprec = 0;
}

/*
 * Room for one more record.  Without it (TCP_REC_MAX records, the
 * instance's TCP_RACK_MEM_MAX bytes of records, no memory) the
 * connection gives RACK up, records and all: false.
 */
static bool
tcp_rec_room(struct tcpcb *tp)
{
	struct tcp_state *ts = tp->t_ns->ns_tcp;
	uint32_t cap;
	void *mem;

	if (tp->t_nrec < tp->t_caprec)
		return true;
	cap = tp->t_caprec == 0 ? TCP_REC_MIN : 2 * tp->t_caprec;
	if (tp->t_caprec >= TCP_REC_MAX || ts->tcp_rack_bytes +
	    (cap - tp->t_caprec) * sizeof(*tp->t_rec) > TCP_RACK_MEM_MAX ||
	    hyper_malloc(cap * sizeof(*tp->t_rec), 0, &mem) != 0) {
		ts->tcp_stat.tcps_rackoff++;
		tcp_rack_off(tp);
		return false;
	}
	if (tp->t_nrec > 0)
		memcpy(mem, tp->t_rec, tp->t_nrec * sizeof(*tp->t_rec));
	if (tp->t_rec != NULL)
		hyper_free(tp->t_rec, tp->t_caprec * sizeof(*tp->t_rec));
	tp->t_ns->ns_tcp->tcp_rack_bytes += (cap - tp->t_caprec) *
	    sizeof(*tp->t_rec);
	tp->t_rec = mem;
	tp->t_caprec = cap;
	return true;
}

/* Split record i at seq (inside it); false when there is no room. */
static bool
tcp_rec_split(struct tcpcb *tp, uint32_t i, tcp_seq seq)
{
	if (!tcp_rec_room(tp))
		return false;
	memmove(&tp->t_rec[i + 1], &tp->t_rec[i],
	    (tp->t_nrec - i) * sizeof(*tp->t_rec));
	tp->t_nrec++;
	tp->t_rec[i].end = seq;
	tp->t_rec[i + 1].start = seq;
	return true;
}

/* The first record that ends after seq. */
static uint32_t
tcp_rec_find(const struct tcpcb *tp, tcp_seq seq)
{
	uint32_t lo = 0, hi = tp->t_nrec;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (SEQ_LEQ(tp->t_rec[mid].end, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The stamp of a transmission now: the clock, after every earlier one. */
static uint64_t
tcp_rack_stamp(struct tcpcb *tp, uint64_t now)
{
	tp->t_rack_stamp = MAX(now, tp->t_rack_stamp + 1);
	return tp->t_rack_stamp;
}

/* ns since stamp (0 if the stamp is ahead of the clock) */
static uint64_t
tcp_rack_since(uint64_t now, uint64_t stamp)
{
	return now > stamp ? now - stamp : 0;
}

/*
 * [seq, seq + len) left now (len counts a FIN).  New data becomes a
 * record (or joins the last one: new data, sent in this instant with
 * nothing since); a resend takes a new stamp, marks its records resent
 * and no longer lost.
 */
void
tcp_rack_sent(struct tcpcb *tp, tcp_seq seq, uint32_t len)
{
	uint64_t now = kern_clock_ns(tp->t_ns->ns_kernel);
	tcp_seq end = seq + len;
	struct tcp_rec *r;
	uint32_t i;

	if (!(tp->t_flags & TF_RACK) || len == 0)
		return;
	if (SEQ_GEQ(seq, tp->snd_max) || tp->t_nrec == 0 ||
	    SEQ_GEQ(seq, tp->t_rec[tp->t_nrec - 1].end)) {
		r = tp->t_nrec > 0 ? &tp->t_rec[tp->t_nrec - 1] : NULL;
		if (r != NULL && SEQ_LT(seq, r->end))
			return;		/* a probe inside: nothing new */
		if (r != NULL && r->end == seq && r->flags == 0 &&
		    r->xmit_ns == tp->t_rack_stamp && now <= r->xmit_ns) {
			r->end = end;
			return;
		}
		if (!tcp_rec_room(tp))
			return;		/* RACK is off for it now */
		r = &tp->t_rec[tp->t_nrec++];
		r->start = seq;
		r->end = end;
		r->xmit_ns = tcp_rack_stamp(tp, now);
		r->flags = 0;
		return;
	}
	now = tcp_rack_stamp(tp, now);
	/* a retransmission: records [i, j) cover [seq, end) */
	i = tcp_rec_find(tp, seq);
	if (i < tp->t_nrec && SEQ_LT(tp->t_rec[i].start, seq)) {
		if (!tcp_rec_split(tp, i, seq))
			return;		/* RACK is off for it now */
		i++;
	}
	for (; i < tp->t_nrec && SEQ_LT(tp->t_rec[i].start, end); i++) {
		if (SEQ_GT(tp->t_rec[i].end, end) &&
		    !tcp_rec_split(tp, i, end))
			return;
		r = &tp->t_rec[i];
		r->xmit_ns = now;
		r->flags = (uint8_t)((r->flags & ~TR_LOST) | TR_RXT);
	}
}

/*
 * RFC 8985 6.2 steps 1-3 for a record just delivered (cumulatively or
 * by SACK): the most recently sent delivery sets RACK.xmit_ts,
 * RACK.end_seq and RACK.rtt; a resend delivered sooner than the minimum
 * RTT was the original's ACK (step 2) and says nothing; one delivered
 * after a later-sent one shows reordering (step 3).
 */
static void
tcp_rack_delivered(struct tcpcb *tp, const struct tcp_rec *r, uint64_t now)
{
	uint64_t rtt = tcp_rack_since(now, r->xmit_ns);

	if ((r->flags & TR_RXT) && rtt < tp->t_rack_minrtt)
		return;
	if (!(r->flags & TR_RXT) && (tp->t_rack_minrtt == 0 ||
	    rtt < tp->t_rack_minrtt))
		tp->t_rack_minrtt = MAX(rtt, 1);
	if (SEQ_LT(r->end, tp->t_rack_end) && !(r->flags & TR_RXT) &&
	    r->xmit_ns < tp->t_rack_xmit && !tp->t_rack_reord) {
		tp->t_rack_reord = true;
		tp->t_ns->ns_tcp->tcp_stat.tcps_rackreorder++;
	}
	if (r->xmit_ns > tp->t_rack_xmit || (r->xmit_ns == tp->t_rack_xmit &&
	    SEQ_GT(r->end, tp->t_rack_end))) {
		tp->t_rack_xmit = r->xmit_ns;
		tp->t_rack_end = r->end;
		tp->t_rack_rtt = rtt;
	}
}

/*
 * RFC 8985 6.2 step 4, RACK_update_reo_wnd()'s first half, for an ACK
 * up to ack: the first D-SACK of a round trip widens the reordering window
 * by min RTT / 4 (up to SRTT, below), for the next 16 recoveries.
 */
static void
tcp_rack_update_reo(struct tcpcb *tp, tcp_seq ack)
{
	if (tp->t_rack_dsack_round_set && SEQ_GEQ(ack, tp->t_rack_dsack_round))
		tp->t_rack_dsack_round_set = false;
	if (!tp->t_rack_dsack_round_set && tp->t_rack_dsack) {
		tp->t_rack_dsack_round_set = true;
		tp->t_rack_dsack_round = tp->snd_max;
		if (tp->t_rack_reo_inc < UINT8_MAX) {
			tp->t_rack_reo_inc++;
			tp->t_ns->ns_tcp->tcp_stat.tcps_rackreowide++;
		}
		tp->t_rack_reo_persist = TCP_RACK_REO_PERSIST;
	}
	tp->t_rack_dsack = false;
	/* RTO recovery ends with what was outstanding at the timeout */
	if (tp->t_rack_rtorec && SEQ_GEQ(ack, tp->snd_recover)) {
		tp->t_rack_rtorec = false;
		tcp_rack_recovered(tp);
	}
}

/*
 * RFC 8985 6.2 step 4: on leaving fast or RTO recovery, 16 of them
 * without a D-SACK round bring the reordering window back to min RTT / 4.
 */
void
tcp_rack_recovered(struct tcpcb *tp)
{
	if (tp->t_rack_reo_persist > 0)
		tp->t_rack_reo_persist--;
	if (tp->t_rack_reo_persist == 0)
		tp->t_rack_reo_inc = 0;
}

/* RFC 8985 6.2 step 4: the reordering window. */
static uint64_t
tcp_rack_reo_wnd(const struct tcpcb *tp)
{
	uint64_t srtt = (uint64_t)tp->t_srtt * 1000;
	uint64_t w = tp->t_rack_minrtt / 4 * (tp->t_rack_reo_inc + 1u);

	if (!tp->t_rack_reord && ((tp->t_flags & TF_FASTRECOVERY) ||
	    tp->t_sacked >= TCP_DUPTHRESH * tp->t_maxseg))
		return 0;
	return srtt != 0 ? MIN(w, srtt) : w;
}

/*
 * RFC 8985 6.2 step 5: every record sent before RACK.segment and not
 * delivered is lost once RACK.rtt + the reordering window has passed
 * since it left; the soonest of the others sets the reordering timer.
 * RFC 6675's IsLost() marks too, on what was never resent.  Returns the
 * bytes newly marked.
 */
static uint32_t
tcp_rack_detect(struct tcpcb *tp, uint64_t now)
{
	struct tcpstat *st = &tp->t_ns->ns_tcp->tcp_stat;
	uint64_t reo = tcp_rack_reo_wnd(tp), wait = 0;
	uint32_t marked = 0;

	for (uint32_t i = 0; i < tp->t_nrec; i++) {
		struct tcp_rec *r = &tp->t_rec[i];

		if (r->flags & (TR_SACKED | TR_LOST))
			continue;
		if (r->xmit_ns < tp->t_rack_xmit ||
		    (r->xmit_ns == tp->t_rack_xmit &&
		    SEQ_LT(r->end, tp->t_rack_end))) {
			uint64_t due = r->xmit_ns + tp->t_rack_rtt + reo;

			if (due <= now) {
				r->flags |= TR_LOST;
				marked += r->end - r->start;
				st->tcps_racklost++;
				continue;
			}
			wait = MAX(wait, due - now);
		}
		if (!(r->flags & TR_RXT) && tcp_sack_islost(tp, r->start)) {
			r->flags |= TR_LOST;
			marked += r->end - r->start;
		}
	}
	if (wait > 0) {
		tp->t_rack_timer = TCP_RACK_REO;
		tcp_timer_arm(tp, TCPT_RACK, (int)MIN((wait + 999999) / 1000000,
		    (uint64_t)TCPTV_REXMTMAX));
	} else {
		tcp_rack_stop(tp, TCP_RACK_REO);
	}
	return marked;
}

/*
 * An acceptable ACK for ack, its SACKs already in the scoreboard:
 * deliveries, then loss detection.  Returns the bytes newly found lost.
 */
uint32_t
tcp_rack_ack(struct tcpcb *tp, tcp_seq ack)
{
	uint64_t now = kern_clock_ns(tp->t_ns->ns_kernel);
	uint32_t i, n, s = 0;

	if (!(tp->t_flags & TF_RACK))
		return 0;
	tcp_rack_update_reo(tp, ack);
	if (tp->t_nrec == 0)
		return 0;
	/* cumulatively acknowledged */
	for (n = 0; n < tp->t_nrec && SEQ_LEQ(tp->t_rec[n].end, ack); n++)
		if (!(tp->t_rec[n].flags & TR_SACKED))
			tcp_rack_delivered(tp, &tp->t_rec[n], now);
	if (n < tp->t_nrec && SEQ_LT(tp->t_rec[n].start, ack)) {
		if (!(tp->t_rec[n].flags & TR_SACKED))
			tcp_rack_delivered(tp, &tp->t_rec[n], now);
		tp->t_rec[n].start = ack;
	}
	memmove(&tp->t_rec[0], &tp->t_rec[n],
	    (tp->t_nrec - n) * sizeof(*tp->t_rec));
	tp->t_nrec -= n;
	/* SACKed: the scoreboard's ranges, records split to fit */
	for (i = 0; i < tp->t_nrec && s < tp->t_scbn; ) {
		struct tcp_rec *r = &tp->t_rec[i];
		const struct tcp_sackblk *b = &tp->t_scb[s];

		if (SEQ_LEQ(b->end, r->start)) {
			s++;
			continue;
		}
		if (SEQ_LEQ(r->end, b->start) || (r->flags & TR_SACKED)) {
			i++;
			continue;
		}
		if (SEQ_LT(r->start, b->start)) {
			if (tcp_rec_split(tp, i, b->start))
				i++;
			else
				i++;	/* no room: left unSACKed */
			continue;
		}
		if (SEQ_GT(r->end, b->end) && !tcp_rec_split(tp, i, b->end)) {
			i++;
			continue;
		}
		r = &tp->t_rec[i];
		r->flags = (uint8_t)((r->flags & ~TR_LOST) | TR_SACKED);
		tcp_rack_delivered(tp, r, now);
		i++;
	}
	if (!(tp->t_flags & TF_RACK))
		return 0;	/* memory ran out on the way */
	/*
	 * Nothing SACKed outside recovery: every record left was sent
	 * after the ones just acknowledged; nothing to find (the common
	 * case, kept cheap).
	 */
	if (tp->t_scbn == 0 && !(tp->t_flags & TF_FASTRECOVERY)) {
		tcp_rack_stop(tp, TCP_RACK_REO);
		return 0;
	}
	return tcp_rack_detect(tp, now);
}

/* Any record lost and not resent? */
bool
tcp_rack_lost_any(const struct tcpcb *tp)
{
	for (uint32_t i = 0; i < tp->t_nrec; i++)
		if (tp->t_rec[i].flags & TR_LOST)
			return true;
	return false;
}

/* NextSeg() rule 1 with RACK: the lowest lost record, a segment of it. */
bool
tcp_rack_nextlost(const struct tcpcb *tp, uint32_t maxlen, tcp_seq *seq,
    uint32_t *len)
{
	for (uint32_t i = 0; i < tp->t_nrec; i++) {
		const struct tcp_rec *r = &tp->t_rec[i];

		if (r->flags & TR_LOST) {
			uint32_t n = r->end - r->start;

			/* the lost records that follow it, up to a segment */
			while (n < maxlen && ++i < tp->t_nrec &&
			    (tp->t_rec[i].flags & TR_LOST) &&
			    tp->t_rec[i].start == r->start + n)
				n += tp->t_rec[i].end - tp->t_rec[i].start;
			*seq = r->start;
			*len = MIN(n, maxlen);
			return true;
		}
	}
	return false;
}

/* In flight: neither SACKed nor lost (a resend counts once). */
uint32_t
tcp_rack_pipe(const struct tcpcb *tp)
{
	uint32_t pipe = 0;

	for (uint32_t i = 0; i < tp->t_nrec; i++)
		if (!(tp->t_rec[i].flags & (TR_SACKED | TR_LOST)))
			pipe += tp->t_rec[i].end - tp->t_rec[i].start;
	return pipe;
}

/* Stop the RACK timer if it is armed as which (0: as anything). */
void
tcp_rack_stop(struct tcpcb *tp, int which)
{
	if (tp->t_rack_timer != 0 &&
	    (which == 0 || tp->t_rack_timer == which)) {
		tp->t_rack_timer = 0;
		tcp_timer_disarm(tp, TCPT_RACK);
	}
}

/* A retransmission timeout: the scoreboard is gone, nothing SACKed. */
void
tcp_rack_rto(struct tcpcb *tp)
{
	for (uint32_t i = 0; i < tp->t_nrec; i++)
		tp->t_rec[i].flags &= (uint8_t)~(TR_SACKED | TR_LOST);
	tp->t_tlp_end_set = false;
	tp->t_rack_rtorec = true;
	tcp_rack_stop(tp, 0);
}

/*
 * RFC 8985 7.2: arm the probe timeout when data is in flight outside
 * recovery and no probe is out: PTO = 2 * SRTT, plus WCDelAckT when one
 * segment is in flight.  A probe that would come after the RTO goes in
 * its place (as Linux does), a tick before it: the probe re-arms the RTO
 * in full (tcp_rack_probe()), and if no probe can go the RTO still comes.
 */
void
tcp_rack_arm_pto(struct tcpcb *tp)
{
	uint64_t pto, now, left;

	if (!(tp->t_flags & TF_RACK) || tp->t_rack_timer == TCP_RACK_REO)
		return;
	if (!TCPS_HAVEESTABLISHED(tp->t_state) ||
	    (tp->t_flags & TF_FASTRECOVERY) || tp->t_tlp_end_set ||
	    tp->snd_max == tp->snd_una || tp->t_srtt == 0 ||
	    tcp_timer_armed(tp, TCPT_PERSIST) || tp->t_rxtshift > 0 ||
	    !tcp_timer_armed(tp, TCPT_REXMT)) {
		tcp_rack_stop(tp, TCP_RACK_PTO);
		return;
	}
	pto = MAX(2 * (uint64_t)tp->t_srtt / 1000, TCP_PTO_MIN);
	if (tp->snd_max - tp->snd_una <= tp->t_maxseg)
		pto += TCP_RACK_WCDELACK;
	now = kern_clock_ticks(tp->t_ns->ns_kernel);
	left = tp->t_due[TCPT_REXMT] > now ? tp->t_due[TCPT_REXMT] - now : 1;
	if (pto >= left)
		pto = left - 1;
	if (pto == 0) {
		tcp_rack_stop(tp, TCP_RACK_PTO);
		return;
	}
	tp->t_rack_timer = TCP_RACK_PTO;
	tcp_timer_arm_from(tp, TCPT_RACK, now, (int)pto);
}

/*
 * RFC 8985 7.3: the probe.  New data if the windows allow one segment
 * of it, else the last segment again; the RTO is re-armed.
 */
static void
tcp_rack_probe(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;
	struct tcpstat *st = &tp->t_ns->ns_tcp->tcp_stat;
	tcp_seq omax = tp->snd_max;
	uint32_t ocwnd = tp->snd_cwnd;

	/* a closed window is persist's business (RFC 9293 3.8.6.1) */
	if (so == NULL || tp->snd_wnd == 0 ||
	    tcp_timer_armed(tp, TCPT_PERSIST))
		return;
	st->tcps_tlpprobe++;
	if (so->so_snd.sb_cc > tp->snd_max - tp->snd_una &&
	    tp->snd_wnd > tp->snd_max - tp->snd_una) {
		tp->snd_cwnd = tp->snd_max - tp->snd_una + tp->t_maxseg;
		(void)tcp_output(tp);
		tp->snd_cwnd = ocwnd;
	}
	if (tp->snd_max == omax) {
		tp->t_tlp_rxt = true;
		tcp_output_last(tp);
		st->tcps_tlprexmit++;
	} else {
		tp->t_tlp_rxt = false;
	}
	tp->t_tlp_end = tp->snd_max;
	tp->t_tlp_end_set = true;
	tp->t_tlp_dsacked = false;
	/* one probe at a time: sending it may have armed another */
	tcp_rack_stop(tp, TCP_RACK_PTO);
	tcp_timer_arm(tp, TCPT_REXMT, tcp_rexmt_backoff(tp, tp->t_rxtshift));
}

/* The RACK timer fired (net lock held): reordering window or PTO. */
void
tcp_rack_timeout(struct tcpcb *tp)
{
	int what = tp->t_rack_timer;

	tp->t_rack_timer = 0;
	if (!(tp->t_flags & TF_RACK) || tp->snd_max == tp->snd_una)
		return;
	if (what == TCP_RACK_REO) {
		if (tcp_rack_detect(tp, kern_clock_ns(tp->t_ns->ns_kernel)) > 0)
			tcp_sack_lost(tp);
	} else if (what == TCP_RACK_PTO && !tp->t_tlp_end_set &&
	    !(tp->t_flags & TF_FASTRECOVERY)) {
		tcp_rack_probe(tp);
	}
}

/*
 * RFC 8985 7.4: the episode of a probe ends with a D-SACK for it (both
 * copies arrived: nothing was lost) or with an ACK beyond TLP.end_seq.
 * An ACK of exactly TLP.end_seq may come from the original while the
 * probe's D-SACK is still on its way: wait.  Ended without a D-SACK, a
 * resent probe repaired a loss: the congestion response of a fast
 * recovery, without one.
 */
void
tcp_rack_tlp_ack(struct tcpcb *tp, tcp_seq ack)
{
	if (!tp->t_tlp_end_set)
		return;
	if (!tp->t_tlp_dsacked && !SEQ_GT(ack, tp->t_tlp_end))
		return;
	tp->t_tlp_end_set = false;
	if (!tp->t_tlp_rxt || tp->t_tlp_dsacked ||
	    (tp->t_flags & TF_FASTRECOVERY))
		return;
	tp->t_ns->ns_tcp->tcp_stat.tcps_tlprecovered++;
	tp->t_cc->cc_recovery(tp);
	tp->snd_cwnd = tp->snd_ssthresh;
	tp->t_tlp_noinc = true;	/* as a full ACK ending a recovery */
}
