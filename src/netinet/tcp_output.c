/*
 * tcp_output.c -- decide what to send and send it.
 *
 * (tcp_usrreq.c, tcp_input(), timers ->) tcp_output() -> tcp_send_segment()
 *     -> tcp_build_options(), tcp_ecn_output() -> ip_output()
 * (tcp_usrreq.c, tcp_input() ->) tcp_usrclosed()
 * (tcp_drop() ->) tcp_output_rst()
 *
 * Read first: RFC 9293 3.8.6.2.1 (sender silly window avoidance and
 * Nagle, MUST-40/41), 3.8.6.2.2 (receiver SWS avoidance: the window
 * moves by at least min(RCV.BUFF/2, MSS)), 3.8.6.3 (ACK generation),
 * 3.7.1 (MSS); RFC 5681 (cwnd limits what is sent); RFC 7323 (window
 * scale, timestamps); RFC 6093 (urgent pointer: the byte after the
 * urgent data, as BSD and Linux send it); RFC 3168 6.1 (ECN: which
 * segments carry ECE, CWR and ECT).
 *
 * The send buffer so_snd holds the bytes from SND.UNA on; the offset of
 * SND.NXT into it is SND.NXT - SND.UNA once the SYN is acknowledged.  The
 * FIN takes the sequence number after the last byte of so_snd.
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "netinet/in_cksum.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_output.h"
#include "netinet/tcp_var.h"
#include "sys/socketvar.h"

/* What each state sends when it sends at all. */
static const uint8_t tcp_outflags[TCP_NSTATES] = {
	[TCPS_CLOSED] = TH_RST | TH_ACK,
	[TCPS_LISTEN] = 0,
	[TCPS_SYN_SENT] = TH_SYN,
	[TCPS_SYN_RECEIVED] = TH_SYN | TH_ACK,
	[TCPS_ESTABLISHED] = TH_ACK,
	[TCPS_CLOSE_WAIT] = TH_ACK,
	[TCPS_FIN_WAIT_1] = TH_FIN | TH_ACK,
	[TCPS_CLOSING] = TH_FIN | TH_ACK,
	[TCPS_LAST_ACK] = TH_FIN | TH_ACK,
	[TCPS_FIN_WAIT_2] = TH_ACK,
	[TCPS_TIME_WAIT] = TH_ACK,
};

/* The timestamp option's 10 bytes (RFC 7323 3.2) at opt. */
static void
tcp_put_ts(struct tcpcb *tp, uint8_t *opt)
{
	uint32_t v;

	opt[0] = TCPOPT_TIMESTAMP;
	opt[1] = TCPOLEN_TIMESTAMP;
	v = htonl(tcp_now(tp->t_ns) + tp->ts_offset);
	memcpy(opt + 2, &v, 4);
	v = htonl(tp->ts_recent);
	memcpy(opt + 6, &v, 4);
}

/*
 * The options of a segment into opt (at most TCP_MAXOLEN bytes), padded
 * to a multiple of 4, with SACK blocks in at most sackroom bytes.
 * Returns the length.  A SYN's options go in the order Linux sends them
 * (MSS, SACK-permitted and timestamps sharing a word, window scale), so
 * that the peer and captures see the familiar 20 bytes.
 */
static int
tcp_build_options(struct tcpcb *tp, uint8_t flags, uint8_t *opt,
    int sackroom)
{
	int n = 0;
	bool ts, sack;

	if (tp->t_flags & TF_NOOPT)
		return 0;
	/* RFC 7323 3.2: in a SYN, and in every segment once both agreed */
	ts = (tp->t_flags & TF_REQ_TSTMP) && !(flags & TH_RST) &&
	    ((flags & TH_SYN) ? (!(flags & TH_ACK) ||
	    (tp->t_flags & TF_RCVD_TSTMP)) :
	    (tp->t_flags & TF_RCVD_TSTMP));
	if (flags & TH_SYN) {
		/* RFC 9293 3.7.1 / RFC 6691: MSS is the payload size */
		tp->t_ourmss = tcp_mss_local(tp);
		opt[n++] = TCPOPT_MAXSEG;
		opt[n++] = TCPOLEN_MAXSEG;
		opt[n++] = (uint8_t)(tp->t_ourmss >> 8);
		opt[n++] = (uint8_t)tp->t_ourmss;
		/* RFC 2018 2: in a SYN; in a SYN-ACK only if offered */
		sack = (tp->t_flags & TF_REQ_SACK) &&
		    (!(flags & TH_ACK) || (tp->t_flags & TF_SACK_PERMIT));
		if ((ts || sack) && !(ts && sack)) {
			opt[n++] = TCPOPT_NOP;
			opt[n++] = TCPOPT_NOP;
		}
		if (sack) {
			opt[n++] = TCPOPT_SACK_PERMITTED;
			opt[n++] = TCPOLEN_SACK_PERMITTED;
		}
		if (ts) {
			tcp_put_ts(tp, opt + n);
			n += TCPOLEN_TIMESTAMP;
		}
		/* RFC 7323 2.2: offer in a SYN; in a SYN-ACK only if offered */
		if ((tp->t_flags & TF_REQ_SCALE) &&
		    (!(flags & TH_ACK) || (tp->t_flags & TF_RCVD_SCALE))) {
			opt[n++] = TCPOPT_NOP;
			opt[n++] = TCPOPT_WINDOW;
			opt[n++] = TCPOLEN_WINDOW;
			opt[n++] = tp->request_r_scale;
		}
		/* RFC 7413 4.1.1: a cookie, or a request for one */
		n += tcp_tfo_option(tp, flags, opt + n, TCP_MAXOLEN - n);
	} else {
		if (ts) {
			opt[n++] = TCPOPT_NOP;
			opt[n++] = TCPOPT_NOP;
			tcp_put_ts(tp, opt + n);
			n += TCPOLEN_TIMESTAMP;
		}
		/* RFC 2018 4: SACK blocks while data is queued out of order */
		if (!(flags & TH_RST) && sackroom > 0) {
			int sl = tcp_sack_rcv_options(tp, opt + n,
			    MIN(TCP_MAXOLEN - n, sackroom));

			if (sl > 0) {
				n += sl;
				tp->t_ns->ns_tcp->tcp_stat.tcps_sndsack++;
			}
		}
	}
	while (n & 3)
		opt[n++] = TCPOPT_EOL;
	return n;
}

/*
 * ECN of one segment (RFC 3168 6.1): returns the TCP flags it adds and
 * sets *tos to the ECN field of its IP header.
 *   SYN        ECE and CWR when we ask for ECN (6.1.1), on the first SYN
 *              only: one lost to a middlebox that drops ECN-setup SYNs
 *              goes again without them (6.1.1.1 MAY, as Linux does)
 *   SYN-ACK    ECE alone when we agreed to the peer's ECN-setup SYN
 *   later      once agreed, ECE on every ACK while a CE mark is to be
 *              echoed (6.1.3); new data is ECT(0) (6.1.2), the first new
 *              data after a window reduction carries CWR (6.1.2)
 * Never ECT on a SYN or SYN-ACK (6.1.1), a segment without data (6.1.4:
 * pure ACKs), a retransmission (6.1.5) or a window probe (6.1.6).
 */
static uint8_t
tcp_ecn_output(struct tcpcb *tp, uint8_t flags, int len, tcp_seq seq,
    uint8_t *tos)
{
	uint8_t ecnflags = 0;

	*tos = IPTOS_ECN_NOT_ECT;
	if (flags & TH_RST)
		return 0;
	if (flags & TH_SYN) {
		if (flags & TH_ACK)
			return (tp->t_flags & TF_ECN_PERMIT) ? TH_ECE : 0;
		if ((tp->t_flags & TF_REQ_ECN) && tp->t_rxtshift == 0)
			return TH_ECE | TH_CWR;
		return 0;
	}
	if (!(tp->t_flags & TF_ECN_PERMIT))
		return 0;
	if ((tp->t_flags & TF_ECN_SND_ECE) && (flags & TH_ACK))
		ecnflags |= TH_ECE;
	if (len > 0 && SEQ_GEQ(seq, tp->snd_max) &&
	    !((tp->t_flags & TF_FORCEDATA) &&
	    tcp_timer_armed(tp, TCPT_PERSIST))) {
		*tos = IPTOS_ECN_ECT0;
		if (tp->t_flags & TF_ECN_SND_CWR) {
			tp->t_flags &= ~TF_ECN_SND_CWR;
			tp->t_ns->ns_tcp->tcp_stat.tcps_ecn_cwr++;
			ecnflags |= TH_CWR;
		}
	}
	return ecnflags;
}

/*
 * The receive window to advertise.  RFC 9293 3.8.6.2.2 (MUST-39): no
 * small increments (a window below min(RCV.BUFF/2, MSS) is offered as 0
 * when it would not reach past the edge already offered), and the right
 * edge never moves left (SHOULD NOT shrink).
 */
static uint32_t
tcp_rcv_window(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;
	uint32_t win = tcp_rcvspace(tp);
	uint32_t adv = tcp_rcv_wnd_adv(tp);

	if (so != NULL && win < tcp_rcvbuff(tp) / 2 && win < tp->t_maxseg)
		win = 0;
	if (win > ((uint32_t)TCP_MAXWIN << tp->rcv_scale))
		win = (uint32_t)TCP_MAXWIN << tp->rcv_scale;
	if (win < adv)
		win = adv;
	return win;
}

/*
 * The scaled window field for win.  Rounded down as RFC 7323 2.3 has it,
 * which can pull the right edge left of where it was offered by less than
 * a unit (RFC 9293 SHLD-14 would rather not); rounded up instead when the
 * buffer has room for the unit.  Never beyond the buffer: an edge rounded
 * up on every ACK with no room behind it creeps right without end (RFC
 * 7323 appendix F; Linux's 2023 receive-memory fix).
 */
static uint32_t
tcp_win_field(const struct tcpcb *tp, uint32_t win)
{
	uint32_t field = win >> tp->rcv_scale;
	uint32_t adv = tcp_rcv_wnd_adv(tp);

	if ((field << tp->rcv_scale) < adv && field < TCP_MAXWIN &&
	    ((uint64_t)(field + 1) << tp->rcv_scale) <= tcp_rcvspace(tp))
		field++;
	return MIN(field, (uint32_t)TCP_MAXWIN);
}

/*
 * Build and send one segment: len bytes of so_snd at off, with flags.
 * Returns 0 or the errno of ip_output (ENOBUFS ...).  A segment the
 * interface refused as too big (EMSGSIZE) lowers the MSS to what its MTU
 * carries (tcp_mss_shrink_local()); tcp_output() then resends.
 */
static int
tcp_send_segment(struct tcpcb *tp, int off, int len, uint8_t flags,
    uint32_t win)
{
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp->inp_socket;
	struct tcpstat *st = &tp->t_ns->ns_tcp->tcp_stat;
	uint8_t opt[TCP_MAXOLEN];
	int optlen, hdrlen;
	struct tcphdr *th;
	struct mbuf *m;
	struct ip *ip;
	tcp_seq seq;
	uint8_t tos;
	int error;

	optlen = tcp_build_options(tp, flags, opt, len > (int)tp->t_maxseg ?
	    0 : (int)tp->t_maxseg - len);
	hdrlen = (int)(sizeof(struct ip) + sizeof(struct tcphdr)) + optlen;
	if ((m = m_gethdr(M_DONTWAIT, MT_HEADER)) == NULL) {
		st->tcps_nobufs++;
		return ENOBUFS;
	}
	m->m_data += TCP_LINKHDR;
	m->m_len = hdrlen;
	if (len > 0) {
		unsigned moff;
		struct mbuf *sb_mb = sbsndptr(&so->so_snd, (unsigned)off,
		    &moff);

		off -= (int)moff;	/* into the chain from sb_mb */
		if (len <= MHLEN - TCP_LINKHDR - hdrlen) {
			m_copydata(sb_mb, off, len, mtod(m, char *) + hdrlen);
			m->m_len += len;
		} else if ((m->m_next = m_copym(sb_mb, off, len,
		    M_DONTWAIT)) == NULL) {
			m_free(m);
			st->tcps_nobufs++;
			return ENOBUFS;
		}
	}
	m->m_pkthdr.len = hdrlen + len;
	ip = mtod(m, struct ip *);
	th = (struct tcphdr *)(void *)(ip + 1);
	memset(ip, 0, sizeof(*ip));
	ip->ip_vhl = IP_VHL(IPVERSION, sizeof(*ip) >> 2);
	ip->ip_len = htons((uint16_t)m->m_pkthdr.len);
	/* RFC 1191 path MTU discovery, unless IP_MTU_DISCOVER says not */
	if (in_pcb_df(inp))
		ip->ip_off = htons(IP_DF);
	ip->ip_ttl = inp->inp_ttl;
	ip->ip_p = IPPROTO_TCP;
	ip->ip_src = inp->inp_laddr;
	ip->ip_dst = inp->inp_faddr;

	/*
	 * Data, SYN and FIN go at SND.NXT; so do probes.  A bare ACK goes
	 * at SND.MAX so that after a timeout it does not look like old data.
	 */
	if (len > 0 || (flags & (TH_SYN | TH_FIN)) ||
	    tcp_timer_armed(tp, TCPT_PERSIST))
		seq = tp->snd_nxt;
	else
		seq = tp->snd_max;
	flags |= tcp_ecn_output(tp, flags, len, seq, &tos);
	/* IP_TOS, with the ECN field TCP's own (RFC 3168 6.1) */
	ip->ip_tos = (uint8_t)((inp->inp_tos & ~IPTOS_ECN_MASK) | tos);
	th->th_sport = inp->inp_lport;
	th->th_dport = inp->inp_fport;
	th->th_seq = htonl(seq);
	th->th_ack = (flags & TH_ACK) ? htonl(tp->rcv_nxt) : 0;
	TH_SETOFF(th, (sizeof(*th) + (size_t)optlen) >> 2);
	th->th_flags = flags;
	/* RFC 7323 2.2: the window of a SYN is never scaled */
	th->th_win = htons((uint16_t)((flags & TH_SYN) ?
	    MIN(win, (uint32_t)TCP_MAXWIN) : tcp_win_field(tp, win)));
	th->th_sum = 0;
	th->th_urp = 0;
	if (SEQ_GT(tp->snd_up, seq) && SEQ_LEQ(tp->snd_up, tp->snd_una +
	    (so != NULL ? so->so_snd.sb_cc : 0))) {
		th->th_flags |= TH_URG;
		th->th_urp = htons((uint16_t)MIN(tp->snd_up - seq, 65535u));
		st->tcps_sndurg++;
	}
	if (optlen > 0)
		memcpy(th + 1, opt, (size_t)optlen);
	/* the checksum is left to ip_output_if() or the interface */
	m->m_pkthdr.csum_flags = M_CSUM_TCPv4;
	if (len > (int)tp->t_maxseg && !(flags & TH_SYN)) {
		m->m_pkthdr.csum_flags |= M_CSUM_TSOv4;
		m->m_pkthdr.segsz = (uint16_t)tp->t_maxseg;
	}

	/* counters */
	st->tcps_sndtotal++;
	if (len > 0 || (flags & TH_FIN))
		tcp_rack_sent(tp, seq, (uint32_t)len + ((flags & TH_FIN) ? 1 : 0));
	if (len > 0) {
		if (SEQ_LT(seq, tp->snd_max)) {
			/* (0 is a sequence number too: the first sets it) */
			if (tp->t_total_retrans == 0 ||
			    SEQ_GT(seq + (uint32_t)len, tp->t_rxtmax))
				tp->t_rxtmax = seq + (uint32_t)len;
			st->tcps_sndrexmitpack++;
			st->tcps_sndrexmitbyte += (uint64_t)len;
			tp->t_total_retrans++;
		} else {
			st->tcps_sndpack++;
			st->tcps_sndbyte += (uint64_t)len;
		}
		tp->t_sndtime = kern_clock_ticks(tp->t_ns->ns_kernel);
	} else if (flags & (TH_SYN | TH_FIN | TH_RST)) {
		st->tcps_sndctrl++;
	} else if (tp->t_flags & TF_ACKNOW) {
		st->tcps_sndacks++;
	} else {
		st->tcps_sndwinup++;
	}

	/*
	 * The window now advertised: what the header says, truncated to a
	 * SYN's 16 bits or to the scale (RFC 7323 2.3); and the ACK now
	 * sent (RFC 7323 4.3).
	 */
	win = (flags & TH_SYN) ? MIN(win, (uint32_t)TCP_MAXWIN) :
	    tcp_win_field(tp, win) << tp->rcv_scale;
	if (win > 0 && SEQ_GT(tp->rcv_nxt + win, tp->rcv_adv))
		tp->rcv_adv = tp->rcv_nxt + win;
	tp->rcv_wnd = win;
	tp->last_ack_sent = tp->rcv_nxt;
	tp->t_flags &= ~(TF_ACKNOW | TF_DELACK);
	tcp_timer_disarm(tp, TCPT_DELACK);
	tcp_ackpass_drop(tp);
	error = ip_output_oif(m, 0, inp->inp_bindif);
	if (error == EMSGSIZE)
		(void)tcp_mss_shrink_local(tp);	/* the MTU came down */
	return error;
}

/*
 * Data waits and no timer runs to send it: the persist timer starts
 * (it probes a shut window, and forces out what a cork held back).
 */
static void
tcp_persist_start(struct tcpcb *tp)
{
	if (!tcp_timer_armed(tp, TCPT_REXMT) &&
	    !tcp_timer_armed(tp, TCPT_PERSIST)) {
		tp->t_rxtshift = 0;
		tcp_setpersist(tp);
	}
}

/*
 * TCP_CORK, or MSG_MORE on the last send (Linux): partial segments wait
 * for more, even with TCP_NODELAY, until uncorked, or until the persist
 * timer forces them out (tcp_output() arms it when nothing is in flight:
 * Linux's 200 ms ceiling is its probe timer too).  Only while the user
 * may still send: a close or shutdown sends what is left.
 */
static bool
tcp_corked(const struct tcpcb *tp)
{
	const struct socket *so = tp->t_inpcb->inp_socket;

	return ((tp->t_flags & TF_CORK) || (so != NULL && so->so_msgmore)) &&
	    (tp->t_state == TCPS_ESTABLISHED || tp->t_state == TCPS_CLOSE_WAIT);
}

/*
 * May len bytes at offset off go now?  RFC 9293 3.8.6.2.1 (MUST-40):
 * a full segment, or all that is left when nothing is outstanding (Nagle)
 * or TCP_NODELAY is set, or at least half the largest window the peer
 * ever offered; a retransmission and a forced probe always go; corked
 * (tcp_corked()), only full segments.
 */
static bool
tcp_send_now(struct tcpcb *tp, int off, int len, int sbcc, bool idle)
{
	if (len >= (int)tp->t_maxseg)
		return true;
	if (tp->t_flags & TF_FORCEDATA)
		return true;
	if ((tp->t_flags & TF_PUSH) && off + len >= sbcc)
		return true;	/* uncorked, or TCP_NODELAY set: a push */
	if (tcp_corked(tp))
		return SEQ_LT(tp->snd_nxt, tp->snd_max);
	if ((idle || (tp->t_flags & TF_NODELAY)) && off + len >= sbcc)
		return true;
	if (tp->max_sndwnd > 0 && (uint32_t)len >= tp->max_sndwnd / 2)
		return true;
	return SEQ_LT(tp->snd_nxt, tp->snd_max);
}

/*
 * Should a segment without data go, to move the window?  RFC 9293
 * 3.8.6.2.2: when the right edge moves by min(RCV.BUFF/2, MSS) or more.
 * Never once the peer's FIN is in: nothing more will come to fill the
 * window, and the update would only reach a connection the peer may
 * already have closed, which answers it with a reset (BSD's tcp_output
 * has the same rule).
 */
static bool
tcp_window_update_due(struct tcpcb *tp, uint32_t win)
{
	struct socket *so = tp->t_inpcb->inp_socket;
	uint32_t adv, step, open = tcp_rcv_wnd_adv(tp);

	if (so == NULL || win == 0 || TCPS_HAVERCVDFIN(tp->t_state))
		return false;
	/*
	 * A request-sized ACK is delayed (less than a full segment came
	 * since the last ACK) and the peer may still send a few segments:
	 * the new window goes with that ACK, or with the answer the
	 * application is about to write, instead of in a segment of its
	 * own; the peer is not held up meanwhile, and what it sends makes
	 * us ACK.  A read after a SYN-ACK (which could offer only 65535)
	 * sent one such segment per connection.  After full segments the
	 * update goes at once: it is the ACK that clocks a bulk sender.
	 * (FreeBSD's tcp_output leaves every update to a delayed ACK.)
	 */
	if ((tp->t_flags & TF_DELACK) && open >= 4u * tp->t_maxseg &&
	    tp->rcv_nxt - tp->last_ack_sent < tp->t_maxseg)
		return false;
	adv = win - MIN(win, open);
	step = MIN(tcp_rcvbuff(tp) / 2, tp->t_maxseg);
	return adv >= step;
}

/*
 * SACK loss recovery (RFC 6675 5 step (C)): while PRR's count lasts,
 * send what NextSeg() picks: lost holes, new data, other holes, a rescue.
 * SND.NXT stays at SND.MAX; a resend goes at its own sequence number.
 * Whole segments only: a short count waits for the next ACK (PRR counts
 * what went, so nothing is lost by waiting).
 */
static int
tcp_sack_output(struct tcpcb *tp, int sbcc, uint32_t win)
{
	struct tcpstat *st = &tp->t_ns->ns_tcp->tcp_stat;
	tcp_seq avail = tp->snd_una + (uint32_t)sbcc, seq, onxt;
	uint32_t len, dlen;
	int kind, error = 0;
	uint8_t flags;

	while (tp->t_prr_sndcnt > 0) {
		kind = tcp_sack_nextseg(tp, avail, tp->t_maxseg, &seq, &len);
		if (kind == TCP_NEXT_NONE)
			break;
		if (kind == TCP_NEXT_NEW) {
			/* RFC 6675 rule 2 (b): within the peer's window */
			tcp_seq wend = tp->snd_una + tp->snd_wnd;

			if (!SEQ_LT(seq, wend))
				break;
			len = MIN(len, wend - seq);
			/* no runt while more is coming (Nagle) */
			if (len < tp->t_maxseg && seq + len != avail)
				break;
		}
		if (len > tp->t_prr_sndcnt) {
			if (kind == TCP_NEXT_RESCUE)
				tp->t_rescue_set = false;	/* later */
			break;
		}
		/* a hole reaching SND.MAX past the data holds the FIN */
		flags = TH_ACK;
		dlen = len;
		if (kind != TCP_NEXT_NEW && (tp->t_flags & TF_SENTFIN) &&
		    SEQ_GT(seq + len, avail)) {
			dlen = avail - seq;
			flags |= TH_FIN;
		}
		if (seq + dlen == avail)
			flags |= TH_PUSH;
		onxt = tp->snd_nxt;
		tp->snd_nxt = seq;
		error = tcp_send_segment(tp, (int)(seq - tp->snd_una),
		    (int)dlen, flags, win);
		if (kind == TCP_NEXT_NEW) {
			tp->snd_nxt = seq + dlen;
			tp->snd_max = tp->snd_nxt;
		} else {
			tp->snd_nxt = onxt;
			if (kind == TCP_NEXT_REXMT) {
				tp->t_sack_first = false;
				if (SEQ_GT(seq + len, tp->t_highrxt))
					tp->t_highrxt = seq + len;
				st->tcps_sackrexmit++;
			} else {
				st->tcps_sackrescue++;
			}
		}
		tp->t_prr_out += len;
		tp->t_prr_sndcnt -= len;
		if (!tcp_timer_armed(tp, TCPT_REXMT))
			tcp_timer_arm(tp, TCPT_REXMT,
			    tcp_rexmt_backoff(tp, tp->t_rxtshift));
		if (error != 0)
			break;
	}
	return error == ENOBUFS ? 0 : error;
}

unsigned
tcp_unsent(const struct tcpcb *tp, const struct socket *so)
{
	uint32_t sent = tp->snd_max - tp->snd_una;	/* a SYN, a FIN too */

	return so->so_snd.sb_cc > sent ? so->so_snd.sb_cc - sent : 0;
}

static int tcp_output_one(struct tcpcb *tp);

/*
 * Send what there is to send (tcp_output_one()).  With TCP_NOTSENT_LOWAT,
 * what goes out can make the socket writable (fewer than half the mark
 * unsent: sowriteable()): a writer waits for that, not for an ACK
 * (Linux's tcp_check_space()).
 */
/*
 * TCP Fast Open, our first SYN (RFC 7413 4.2.1): how much of so_snd it
 * carries (tcp_tfo_syn_room()); a SYN sent again carries no data (4.2.2).
 */
static int
tcp_tfo_syn_data(struct tcpcb *tp, const struct socket *so)
{
	struct tcpstat *st = &tp->t_ns->ns_tcp->tcp_stat;
	unsigned room;

	if (tp->t_rxtshift > 0) {
		if (tp->t_rxtshift == 1 && (tp->t_flags & TF_TFO_SYNDATA)) {
			st->tcps_tfo_synloss++;
			tcp_tfo_lost(tp);
		}
		return 0;
	}
	room = tcp_tfo_syn_room(tp);
	if (room == 0 || so == NULL || so->so_snd.sb_cc == 0)
		return 0;
	st->tcps_tfo_syndata++;
	return (int)MIN(so->so_snd.sb_cc, room);
}

/*
 * TCP Fast Open, a server's connection that took its SYN's data: after
 * the SYN-ACK it may send before the handshake completes (RFC 7413
 * 4.2.2), up to the initial window.  After a timeout (the SYN-ACK sent
 * again) the data waits for the handshake.
 */
static int
tcp_tfo_output(struct tcpcb *tp, struct socket *so)
{
	int off, sbcc, limit, error = 0;

	if (!(tp->t_flags & TF_TFO_PASSIVE) || so == NULL ||
	    tp->t_state != TCPS_SYN_RECEIVED || tp->snd_nxt == tp->iss ||
	    tp->t_rxtshift > 0)
		return 0;
	sbcc = (int)so->so_snd.sb_cc;
	/* the first byte of so_snd is ISS + 1 */
	off = (int)(tp->snd_nxt - tp->iss - 1);
	limit = (int)MIN(tp->snd_wnd, TCP_INITWND(tp->t_maxseg));
	while (off < sbcc && off < limit) {
		int len = MIN(MIN(sbcc, limit) - off, (int)tp->t_maxseg);
		uint8_t flags = TH_ACK;

		if (off + len == sbcc)
			flags |= TH_PUSH;
		if ((error = tcp_send_segment(tp, off, len, flags,
		    tcp_rcv_window(tp))) != 0)
			break;
		off += len;
		tp->snd_nxt += (uint32_t)len;
		if (SEQ_GT(tp->snd_nxt, tp->snd_max))
			tp->snd_max = tp->snd_nxt;
		if (!tcp_timer_armed(tp, TCPT_REXMT))
			tcp_timer_arm(tp, TCPT_REXMT,
			    tcp_rexmt_backoff(tp, tp->t_rxtshift));
	}
	return error;
}

int
tcp_output(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;
	unsigned before;
	int error;

	if (so == NULL || so->so_notsent_lowat == 0)
		return tcp_output_one(tp);
	before = tcp_unsent(tp, so);
	error = tcp_output_one(tp);
	if (2 * (uint64_t)before >= so->so_notsent_lowat &&
	    2 * (uint64_t)tcp_unsent(tp, so) < so->so_notsent_lowat)
		sowwakeup(so);
	return error;
}

static int
tcp_output_one(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;
	int off, len, sbcc, error = 0;
	uint32_t sendwin, win;
	unsigned mss0;
	uint8_t flags;
	bool idle, sendalot, zwprobe, sackrecov;

	if (so == NULL) {
		/* TIME-WAIT after the user closed: ACKs only */
		if (tp->t_state == TCPS_TIME_WAIT && (tp->t_flags & TF_ACKNOW))
			return tcp_send_segment(tp, 0, 0, TH_ACK, 0);
		return 0;
	}
	if (tp->t_state == TCPS_LISTEN || tp->t_state == TCPS_CLOSED)
		return 0;
	idle = tp->snd_max == tp->snd_una;
	/* RFC 5681 4.1: restart from the initial window after an idle RTO */
	if (idle && TCPS_HAVEESTABLISHED(tp->t_state) &&
	    kern_clock_ticks(tp->t_ns->ns_kernel) - tp->t_sndtime >=
	    (uint64_t)tp->t_rxtcur && tp->t_sndtime != 0)
		tp->t_cc->cc_idle(tp);
again:
	sendalot = false;
	mss0 = tp->t_maxseg;
	flags = tcp_outflags[tp->t_state];

	/*
	 * Before the handshake completes: only the SYN or SYN-ACK (with
	 * TCP Fast Open, a first SYN with data, and data after the SYN-ACK
	 * of a connection that took the SYN's).
	 */
	if (!TCPS_HAVEESTABLISHED(tp->t_state)) {
		int dlen = 0;

		if (tp->snd_nxt != tp->iss && !(tp->t_flags & TF_ACKNOW))
			return tcp_tfo_output(tp, so);
		if (tp->snd_nxt != tp->iss)
			flags &= (uint8_t)~TH_SYN;	/* ACK only */
		if (!(flags & (TH_SYN | TH_ACK)))
			return 0;
		if ((flags & (TH_SYN | TH_ACK)) == TH_SYN &&
		    (tp->t_flags & TF_TFO_ACTIVE))
			dlen = tcp_tfo_syn_data(tp, so);
		win = tcp_rcv_window(tp);
		error = tcp_send_segment(tp, 0, dlen, flags, win);
		if (error == 0 && dlen > 0) {
			tp->t_flags |= TF_TFO_SYNDATA;
			tp->t_tfo_synlen = (unsigned)dlen;
		}
		if (flags & TH_SYN) {
			tp->snd_nxt = tp->iss + 1 + (uint32_t)dlen;
			if (SEQ_GT(tp->snd_nxt, tp->snd_max)) {
				tp->snd_max = tp->snd_nxt;
				if (tp->t_rtttime == 0) {
					/* 0 means none: time 0 is 1 ns */
					tp->t_rtttime = MAX(kern_clock_ns(
					    tp->t_ns->ns_kernel), 1);
					tp->t_rtseq = tp->iss;
				}
			}
			if (!tcp_timer_armed(tp, TCPT_REXMT))
				tcp_timer_arm(tp, TCPT_REXMT,
				    tcp_rexmt_backoff(tp, tp->t_rxtshift));
		}
		if (error == 0 && (flags & TH_ACK))
			error = tcp_tfo_output(tp, so);
		return error;
	}

	sbcc = (int)so->so_snd.sb_cc;
	/* SACK recovery sends by the scoreboard; below, only ACK and FIN */
	sackrecov = (tp->t_flags & (TF_FASTRECOVERY | TF_SACK_PERMIT)) ==
	    (TF_FASTRECOVERY | TF_SACK_PERMIT);
	/*
	 * The peer's window closed in recovery: recovery ends, and the
	 * window is probed below from SND.UNA as anywhere else (persist;
	 * the timer cannot be left to resend what does not fit).
	 */
	if (sackrecov && tp->snd_wnd == 0) {
		tp->t_flags &= ~TF_FASTRECOVERY;
		tp->snd_cwnd = tp->snd_ssthresh;
		sackrecov = false;
	}
	if (sackrecov && (error = tcp_sack_output(tp, sbcc,
	    tcp_rcv_window(tp))) != 0) {
		if (error == EMSGSIZE && tp->t_maxseg < mss0)
			goto shrunk;
		return error;
	}
	off = (int)(tp->snd_nxt - tp->snd_una);
	sendwin = MIN(tp->snd_wnd, tp->snd_cwnd);
	zwprobe = false;
	if (tp->t_flags & TF_FORCEDATA) {
		/* persist: one byte into a zero window (RFC 9293 3.8.6.1) */
		if (sendwin == 0 && off < sbcc) {
			sendwin = 1;
			zwprobe = true;
		}
	}
	len = (int)MIN((uint32_t)sbcc, sendwin) - off;
	if (sackrecov)
		len = 0;
	if (len < 0) {
		/*
		 * The window shrank below what was sent: take SND.NXT back
		 * and wait in persist for it to open (RFC 9293 3.8.6.2.1).
		 */
		len = 0;
		if (sendwin == 0 && off > 0 && off <= sbcc) {
			tcp_timer_disarm(tp, TCPT_REXMT);
			tp->t_rxtshift = 0;
			tp->snd_nxt = tp->snd_una;
			if (!tcp_timer_armed(tp, TCPT_PERSIST))
				tcp_setpersist(tp);
		}
	}
	if (len > (int)tp->t_maxseg) {
		int mss = (int)tp->t_maxseg, maxlen = mss;

		/*
		 * TSO: many segments at once, never with urgent data, nor
		 * with a CWR to send: it goes on one segment (RFC 3168 6.1.2)
		 */
		if (tp->t_tsomax > (unsigned)mss && !(tp->t_flags &
		    (TF_FORCEDATA | TF_ECN_SND_CWR)) &&
		    !SEQ_GT(tp->snd_up, tp->snd_una))
			maxlen = (int)(tp->t_tsomax / (unsigned)mss) * mss;
		if (len > maxlen) {
			len = maxlen;
			sendalot = true;
		} else if (len % mss != 0 && (off + len < sbcc ||
		    !(idle || (tp->t_flags & (TF_NODELAY | TF_PUSH))) ||
		    (tcp_corked(tp) && !(tp->t_flags & TF_PUSH)))) {
			/* a short tail waits, as Nagle (or a cork) would have it */
			len -= len % mss;
			sendalot = true;
		}
	}
	/* room for the SACK blocks: a full segment gives way (RFC 2018 4) */
	if (len > 0 && len <= (int)tp->t_maxseg && tp->t_rsackn > 0) {
		int sl = tcp_sack_rcv_optlen(tp, TCP_MAXOLEN -
		    (int)(tp->t_flags & TF_RCVD_TSTMP ? TCPOLEN_TSTAMP_APPA : 0));

		if (sl > 0 && len > (int)tp->t_maxseg - sl) {
			len = (int)tp->t_maxseg - sl;
			sendalot = true;
		}
	}
	/*
	 * The FIN goes with (or after) the last byte, in the closing states,
	 * and not again once it is acknowledged.
	 */
	if ((flags & TH_FIN) && (tp->snd_nxt + (uint32_t)len !=
	    tp->snd_una + (uint32_t)sbcc || ((tp->t_flags & TF_SENTFIN) &&
	    tp->snd_una == tp->snd_max)))
		flags &= (uint8_t)~TH_FIN;
	if (off + len < sbcc)
		flags &= (uint8_t)~TH_PUSH;
	else if (len > 0)
		flags |= TH_PUSH;
	win = tcp_rcv_window(tp);

	if (len > 0 && tcp_send_now(tp, off, len, sbcc, idle))
		goto send;
	if (len > 0 && tcp_corked(tp) && !SEQ_GT(tp->snd_up, tp->snd_una)) {
		/*
		 * Held by the cork: an ACK or window update that goes now
		 * must not take the data with it (Linux sends ACKs alone),
		 * and the persist timer bounds the wait as below.
		 */
		len = 0;
		flags &= (uint8_t)~TH_PUSH;
		tcp_persist_start(tp);
	}
	if (tp->t_flags & TF_ACKNOW)
		goto send;
	if (flags & TH_FIN)
		goto send;
	if (SEQ_GT(tp->snd_up, tp->snd_una) && len > 0)
		goto send;
	if (tcp_window_update_due(tp, win))
		goto send;
	/*
	 * Data waiting, nothing in flight to bring an ACK, no timer: the
	 * window is closed; probe it (RFC 9293 3.8.6.1).
	 */
	if (sbcc > off)
		tcp_persist_start(tp);
	return 0;

send:
	/*
	 * Data into an open window ends persist, even when the persist
	 * timer forced it out (a small window that SWS avoidance held
	 * back): it is in flight, and the retransmission timer (armed
	 * below, RFC 6298 5.1) must resend it if it or its ACK is lost.
	 * Only a probe of a zero window stays in persist.
	 */
	if (len > 0 && !zwprobe && tcp_timer_armed(tp, TCPT_PERSIST)) {
		tcp_timer_disarm(tp, TCPT_PERSIST);
		tp->t_persistprobes = 0;
	}
	{
		tcp_seq startseq = tp->snd_nxt;

		error = tcp_send_segment(tp, off, len, flags, win);
		if (zwprobe) {
			/*
			 * A probe of a zero window: SND.NXT stays, so the
			 * next persist timeout sends the same byte again
			 * (the probe or its ACK may be lost); SND.MAX covers it.
			 */
			if (SEQ_GT(tp->snd_nxt + (uint32_t)len, tp->snd_max))
				tp->snd_max = tp->snd_nxt + (uint32_t)len;
			tp->t_ns->ns_tcp->tcp_stat.tcps_sndprobe++;
			/*
			 * one sent outside persist (MSG_OOB into the shut
			 * window): persist starts, or nothing would ask for
			 * the window update again (RFC 9293 3.8.6.1)
			 */
			if (!tcp_timer_armed(tp, TCPT_PERSIST) &&
			    !tcp_timer_armed(tp, TCPT_REXMT))
				tcp_setpersist(tp);
			return error == ENOBUFS ? 0 : error;
		}
		tp->snd_nxt += (uint32_t)len;
		if (flags & TH_FIN) {
			tp->snd_nxt++;
			tp->t_flags |= TF_SENTFIN;
		}
		if (SEQ_GT(tp->snd_nxt, tp->snd_max)) {
			tp->snd_max = tp->snd_nxt;
			/* time one segment per round trip (Karn: not resends) */
			if (tp->t_rtttime == 0 && (len > 0 ||
			    (flags & TH_FIN))) {
				tp->t_rtttime = MAX(kern_clock_ns(
				    tp->t_ns->ns_kernel), 1);
				tp->t_rtseq = startseq;
				tp->t_ns->ns_tcp->tcp_stat.tcps_segstimed++;
			}
		}
		/*
		 * RFC 6298 5.1: the timer runs while data is outstanding;
		 * TCP_USER_TIMEOUT counts from when it starts (after a
		 * persist, too: the window just opened)
		 */
		if (tp->snd_nxt != tp->snd_una &&
		    !tcp_timer_armed(tp, TCPT_REXMT) &&
		    !tcp_timer_armed(tp, TCPT_PERSIST))
			tcp_rexmt_start(tp);
	}
	/* RFC 8985 7.2: new data out, a probe may be due later */
	if (len > 0 && (tp->t_flags & TF_RACK))
		tcp_rack_arm_pto(tp);
	if (error != 0) {
		if (error == EMSGSIZE && tp->t_maxseg < mss0) {
shrunk:
			/*
			 * The interface's MTU came down under us and the MSS
			 * with it: all in flight again at the new size, as
			 * after an ICMP "fragmentation needed" (tcp_ctlinput())
			 */
			tcp_mss_resend(tp);
			goto again;
		}
		/* the segment is lost to us; the timers will recover it */
		if (error == ENOBUFS)
			return 0;
		if (TCPS_HAVERCVDSYN(tp->t_state) &&
		    (error == EHOSTUNREACH || error == ENETUNREACH ||
		    error == ENETDOWN || error == ENODEV)) {
			tp->t_softerror = error;
			return 0;
		}
		return error;
	}
	if (sendalot)
		goto again;
	return 0;
}

/*
 * Software TSO: cut the TCP segment m (M_CSUM_TSOv4, headers contiguous
 * in the first mbuf) into segments of m_pkthdr.segsz payload bytes, each
 * with a copy of the headers, its own sequence number and length; FIN and
 * PSH only on the last.  Their checksums are left pending (M_CSUM_TCPv4).
 * Consumes m; returns the segments linked by m_nextpkt, or NULL (no mbufs).
 */
struct mbuf *
tcp_tso_segment(struct mbuf *m)
{
	struct ip *ip = mtod(m, struct ip *);
	int iphlen = IP_HL(ip) << 2;
	struct tcphdr *th = (struct tcphdr *)(void *)((char *)ip + iphlen);
	int hlen = iphlen + (TH_OFF(th) << 2);
	int len = m->m_pkthdr.len - hlen, mss = m->m_pkthdr.segsz, off;
	struct mbuf *head = NULL, **tail = &head, *n, *data;
	tcp_seq seq = ntohl(th->th_seq);

	KASSERT(mss > 0 && m->m_len >= hlen);
	for (off = 0; off < len; off += mss) {
		int seglen = MIN(mss, len - off);
		struct tcphdr *nth;
		struct ip *nip;

		if ((n = m_gethdr(M_DONTWAIT, MT_HEADER)) == NULL)
			goto fail;
		n->m_data += TCP_LINKHDR;
		memcpy(mtod(n, char *), ip, (size_t)hlen);
		n->m_len = hlen;
		if ((data = m_copym(m, hlen + off, seglen, M_DONTWAIT)) ==
		    NULL) {
			m_free(n);
			goto fail;
		}
		n->m_next = data;
		n->m_pkthdr.len = hlen + seglen;
		n->m_pkthdr.csum_flags = M_CSUM_TCPv4;
		nip = mtod(n, struct ip *);
		nip->ip_len = htons((uint16_t)(hlen + seglen));
		nth = (struct tcphdr *)(void *)((char *)nip + iphlen);
		nth->th_seq = htonl(seq + (uint32_t)off);
		if (off + seglen < len)
			nth->th_flags &= (uint8_t)~(TH_FIN | TH_PUSH);
		*tail = n;
		tail = &n->m_nextpkt;
	}
	m_freem(m);
	return head;
fail:
	while ((n = head) != NULL) {
		head = n->m_nextpkt;
		m_freem(n);
	}
	m_freem(m);
	return NULL;
}

/*
 * An RST for the connection (abort): <SEQ=SND.NXT><CTL=RST,ACK>.  RFC
 * 7323 3.2: once the timestamps are agreed on they SHOULD be sent in an
 * RST as well, TSval from the clock and TSecr = TS.Recent.
 */
int
tcp_output_rst(struct tcpcb *tp)
{
	struct inpcb *inp = tp->t_inpcb;
	uint32_t ts[2];
	bool tsok = !(tp->t_flags & TF_NOOPT) &&
	    (tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) ==
	    (TF_REQ_TSTMP | TF_RCVD_TSTMP);

	ts[0] = tcp_now(tp->t_ns) + tp->ts_offset;
	ts[1] = tp->ts_recent;
	tcp_respond(tp->t_ns, inp, inp->inp_laddr, inp->inp_lport,
	    inp->inp_faddr, inp->inp_fport, tp->snd_nxt, tp->rcv_nxt,
	    TH_RST | TH_ACK, 0, tsok ? ts : NULL);
	return 0;
}

/*
 * The highest segment sent, again, at most an MSS of it (RFC 8985 7.3:
 * a tail loss probe when there is no new data to send).
 */
void
tcp_output_last(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;
	bool fin = (tp->t_flags & TF_SENTFIN) != 0;
	tcp_seq top = fin ? tp->snd_max - 1 : tp->snd_max, onxt = tp->snd_nxt;
	uint32_t dlen;
	uint8_t flags = TH_ACK;

	if (so == NULL || !TCPS_HAVEESTABLISHED(tp->t_state))
		return;
	dlen = MIN(top - tp->snd_una, tp->t_maxseg);
	if (fin)
		flags |= TH_FIN;
	if (dlen > 0)
		flags |= TH_PUSH;
	if (dlen == 0 && !fin)
		return;
	tp->snd_nxt = top - dlen;
	(void)tcp_send_segment(tp, (int)(top - dlen - tp->snd_una), (int)dlen,
	    flags, tcp_rcv_window(tp));
	tp->snd_nxt = onxt;
}

/*
 * The user will send no more (close(), shutdown(SHUT_WR)): RFC 9293
 * 3.10.4.  Returns tp, or NULL when the connection is gone.
 */
struct tcpcb *
tcp_usrclosed(struct tcpcb *tp)
{
	switch (tp->t_state) {
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
		/* "delete the TCB"; queued sends get "closing" */
		return tcp_close(tp);
	case TCPS_SYN_RECEIVED:
		/* RFC 9293: queue the FIN until ESTABLISHED is reached */
		tp->t_flags |= TF_NEEDFIN;
		break;
	case TCPS_ESTABLISHED:
		tcp_set_state(tp, TCPS_FIN_WAIT_1);
		break;
	case TCPS_CLOSE_WAIT:
		tcp_set_state(tp, TCPS_LAST_ACK);
		break;
	default:
		break;		/* closing already */
	}
	return tp;
}
