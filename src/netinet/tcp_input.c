/*
 * tcp_input.c -- TCP segment arrival (RFC 9293 3.10.7).
 *
 * (ip_deliver() ->) tcp_input() -> tcp_input_validate() -> tcp_dooptions()
 *     -> tcp_input_listen()   LISTEN (3.10.7.2) -> sonewconn() -> tcp_output()
 *          a SYN with the SYN queue or the embryo bound full:
 *            -> tcp_syncookie_send()                   (RFC 4987 3.6)
 *          an ACK: tcp_input_cookie() -> tcp_syncookie_check()
 *            -> sonewconn() -> tcp_input_sync() (completes the handshake)
 *     -> tcp_input_synsent()  SYN-SENT (3.10.7.3)
 *     -> tcp_input_sync()     every other state (3.10.7.4), one function
 *        per step of the RFC:
 *          tcp_timewait_reuse()   TIME-WAIT and a new SYN (RFC 6191)
 *          tcp_paws()             RFC 7323 5.3 (before the first step)
 *          tcp_step_rst()         first and second step for an RST (RFC 5961 3)
 *          tcp_step_seq()         first step: trim to the window
 *          tcp_ecn_input()        CE and CWR of an acceptable segment
 *          tcp_step_syn()         fourth step: SYN in window (RFC 5961 4)
 *          tcp_step_ack()         fifth step -> tcp_ecn_echo(),
 *                                 tcp_dupack() | tcp_newack()
 *          tcp_step_urg()         sixth step (RFC 6093)
 *          tcp_step_data()        seventh step -> tcp_reass() -> tcp_deliver()
 *          tcp_step_fin()         eighth step
 *     -> tcp_input_finish(): the named exits drop, dropafterack,
 *        dropwithreset, each counted by the step that chose it.
 *
 * Read first: RFC 9293 3.10.7 (all of it), RFC 5961 (blind in-window
 * attacks: RST, SYN, ACK), RFC 7323 (PAWS, RTTM, window scale), RFC 6298
 * (RTT samples), RFC 5681 and RFC 6582 (duplicate ACKs, fast retransmit,
 * NewReno), RFC 3042 (limited transmit), RFC 6093 (urgent), RFC 6191 and
 * RFC 1122 4.2.2.13 (TIME-WAIT reuse), RFC 3168 6.1 (ECN: negotiation,
 * CE echoed as ECE until CWR, the sender's response to ECE), RFC 4987
 * (SYN flooding: the bound on embryos, SYN cookies).
 *
 * The segment being processed travels in a struct tcp_seg; nothing of it
 * lives in file-scope state.  Untrusted bytes are read only in
 * tcp_input_validate() and tcp_dooptions(), after their length checks.
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "netinet/in_cksum.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/tcp_var.h"
#include "sys/socketvar.h"

/* Options of one segment, validated. */
struct tcp_opt {
	bool to_mss_present;
	bool to_ws_present;
	bool to_ts_present;
	bool to_sackperm;
	uint8_t to_nsacks;		/* SACK blocks (RFC 2018), raw */
	uint16_t to_mss;
	uint8_t to_wscale;
	uint32_t to_tsval;
	uint32_t to_tsecr;
	uint8_t to_sacks[TCP_SACK_MAXBLKS * TCPOLEN_SACK];
	bool to_tfo;			/* RFC 7413 option (in a SYN) */
	uint8_t to_tfo_len;		/* its cookie's length; 0: a request */
	uint8_t to_tfo_cookie[TCP_FASTOPEN_COOKIE_MAX];
};

/* The segment being processed. */
struct tcp_seg {
	struct mbuf *m;			/* whole datagram; NULL once handed on */
	struct in_addr src, dst;
	in_port_t sport, dport;		/* network order */
	tcp_seq seq, ack;
	tcp_seq seq0;			/* as received (SND.WL1 test) */
	uint32_t win;			/* as sent (unscaled) */
	uint16_t urp;
	uint8_t flags;			/* after trimming */
	uint8_t flags0;			/* as received */
	uint8_t ecn;			/* the IP header's ECN field */
	int doff;			/* offset of the first payload byte in m */
	int tlen;			/* payload bytes (after trimming) */
	int tlen0;			/* as received */
	struct tcp_opt to;
	bool iss_floor_set;		/* TIME-WAIT reuse: ISS above this */
	tcp_seq iss_floor;
	unsigned ifindex;		/* the interface it came in on */
};

enum tcp_verdict {
	TV_CONTINUE,			/* go on with the next step */
	TV_DONE,			/* segment consumed or freed */
	TV_DROP,			/* free it silently (counted already) */
	TV_DROPAFTERACK,		/* free it, send an ACK */
	TV_DROPWITHRESET,		/* free it, answer with an RST */
};

/* Queued out-of-order segments keep their sequence number and FIN flag
 * in the packet header's checksum fields, which are done with by then. */
#define TCP_REASS_SEQ(m) ((m)->m_pkthdr.csum_data)
#define TCP_REASS_FIN(m) ((m)->m_pkthdr.segsz)

static struct tcpstat *
tcpstat_of(struct netstack *ns)
{
	return &ns->ns_tcp->tcp_stat;
}

/* ---- parsing ---- */

/*
 * Parse the options (RFC 9293 3.1 and MUST-7: an illegal length must
 * not crash).  A malformed list (length 0 or 1, past the header) makes
 * the segment invalid: false.  A known option with a wrong length is
 * ignored and counted; unknown options are skipped (MUST-6).
 */
static bool
tcp_dooptions(struct tcpstat *st, const uint8_t *cp, int cnt, bool syn,
    struct tcp_opt *to)
{
	int optlen;

	memset(to, 0, sizeof(*to));
	for (; cnt > 0; cnt -= optlen, cp += optlen) {
		uint8_t opt = cp[0];

		if (opt == TCPOPT_EOL)
			break;
		if (opt == TCPOPT_NOP) {
			optlen = 1;
			continue;
		}
		if (cnt < 2)
			return false;
		optlen = cp[1];
		if (optlen < 2 || optlen > cnt)
			return false;
		switch (opt) {
		case TCPOPT_MAXSEG:
			if (optlen != TCPOLEN_MAXSEG) {
				st->tcps_rcvoptignored++;
				break;
			}
			if (!syn)
				break;	/* RFC 9293 3.7.1: only in a SYN */
			to->to_mss_present = true;
			to->to_mss = (uint16_t)(cp[2] << 8 | cp[3]);
			break;
		case TCPOPT_WINDOW:
			if (optlen != TCPOLEN_WINDOW) {
				st->tcps_rcvoptignored++;
				break;
			}
			if (!syn)
				break;	/* RFC 7323 2.2: ignored elsewhere */
			to->to_ws_present = true;
			/* RFC 7323 2.3: a shift above 14 is taken as 14 */
			to->to_wscale = MIN(cp[2], TCP_MAXWINSHIFT);
			break;
		case TCPOPT_TIMESTAMP:
			if (optlen != TCPOLEN_TIMESTAMP) {
				st->tcps_rcvoptignored++;
				break;
			}
			to->to_ts_present = true;
			to->to_tsval = (uint32_t)cp[2] << 24 |
			    (uint32_t)cp[3] << 16 | (uint32_t)cp[4] << 8 | cp[5];
			to->to_tsecr = (uint32_t)cp[6] << 24 |
			    (uint32_t)cp[7] << 16 | (uint32_t)cp[8] << 8 | cp[9];
			break;
		case TCPOPT_SACK_PERMITTED:
			if (optlen != TCPOLEN_SACK_PERMITTED) {
				st->tcps_rcvoptignored++;
				break;
			}
			to->to_sackperm = syn;
			break;
		case TCPOPT_SACK:
			/*
			 * RFC 2018 3: 2 + 8n bytes, n >= 1; at most 4 blocks
			 * fit in the option space.  A malformed list is
			 * counted like any other known option of the wrong
			 * length; one in a SYN means nothing.  The blocks
			 * are checked against the window by tcp_sack_update().
			 */
			if (optlen < 2 + TCPOLEN_SACK ||
			    (optlen - 2) % TCPOLEN_SACK != 0) {
				st->tcps_rcvoptignored++;
				break;
			}
			if (syn)
				break;
			to->to_nsacks = (uint8_t)MIN((optlen - 2) /
			    TCPOLEN_SACK, TCP_SACK_MAXBLKS);
			memcpy(to->to_sacks, cp + 2,
			    (size_t)to->to_nsacks * TCPOLEN_SACK);
			break;
		case TCPOPT_FASTOPEN:
			/*
			 * RFC 7413 4.1.1: no cookie (a request) or 4 to 16
			 * bytes, an even number; anything else is ignored
			 * and counted; outside a SYN it means nothing
			 */
			if (optlen != TCPOLEN_FASTOPEN_REQ &&
			    (optlen - 2 < TCP_FASTOPEN_COOKIE_MIN ||
			    optlen - 2 > TCP_FASTOPEN_COOKIE_MAX ||
			    (optlen & 1) != 0)) {
				st->tcps_rcvoptignored++;
				break;
			}
			if (!syn)
				break;
			to->to_tfo = true;
			to->to_tfo_len = (uint8_t)(optlen - 2);
			memcpy(to->to_tfo_cookie, cp + 2, to->to_tfo_len);
			break;
		default:
			break;	/* unknown: skipped */
		}
	}
	return true;
}

/*
 * Lengths, checksum, data offset, options, addresses.  Fills seg and
 * returns true with the IP and TCP headers contiguous; otherwise counts,
 * frees and returns false.
 */
static bool
tcp_input_validate(struct netstack *ns, struct mbuf *m, int hlen,
    struct tcp_seg *seg)
{
	struct tcpstat *st = tcpstat_of(ns);
	struct ip *ip = mtod(m, struct ip *);
	int len = ntohs(ip->ip_len) - hlen, off;
	struct tcphdr *th;

	if (len < (int)sizeof(struct tcphdr)) {
		st->tcps_rcvshort++;
		goto drop;
	}
	if (m->m_len < hlen + (int)sizeof(*th) &&
	    (m = m_pullup(m, hlen + (int)sizeof(*th))) == NULL) {
		st->tcps_rcvshort++;
		return false;
	}
	ip = mtod(m, struct ip *);
	if (IN_CKSUM_VERIFY && !(m->m_pkthdr.csum_flags & M_CSUM_TCPv4) &&
	    in4_cksum(m, ip->ip_src, ip->ip_dst, IPPROTO_TCP, hlen, len) != 0) {
		st->tcps_rcvbadsum++;
		goto drop;
	}
	if (m->m_pkthdr.csum_flags & M_CSUM_TCP_UDP_BAD) {
		st->tcps_rcvbadsum++;
		goto drop;
	}
	th = (struct tcphdr *)(void *)((char *)ip + hlen);
	off = TH_OFF(th) << 2;
	if (off < (int)sizeof(*th) || off > len) {
		st->tcps_rcvbadoff++;
		goto drop;
	}
	if (m->m_len < hlen + off) {
		if ((m = m_pullup(m, hlen + off)) == NULL) {
			st->tcps_rcvshort++;
			return false;
		}
		ip = mtod(m, struct ip *);
		th = (struct tcphdr *)(void *)((char *)ip + hlen);
	}
	if (!tcp_dooptions(st, (const uint8_t *)(th + 1),
	    off - (int)sizeof(*th), (th->th_flags & TH_SYN) != 0, &seg->to)) {
		st->tcps_rcvbadopt++;
		goto drop;
	}
	/*
	 * RFC 9293 3.10.7.2 and RFC 1122 4.2.3.10: nothing to or from a
	 * broadcast or multicast address, nor from 0.0.0.0.
	 */
	if ((m->m_flags & (M_BCAST | M_MCAST)) ||
	    IN_MULTICAST(ntohl(ip->ip_dst.s_addr)) ||
	    IN_MULTICAST(ntohl(ip->ip_src.s_addr)) ||
	    ip->ip_src.s_addr == INADDR_ANY ||
	    ip->ip_src.s_addr == htonl(INADDR_BROADCAST) ||
	    in_broadcast(ip->ip_dst, m->m_pkthdr.rcvif) ||
	    in_broadcast(ip->ip_src, m->m_pkthdr.rcvif)) {
		st->tcps_rcvbadaddr++;
		goto drop;
	}
	seg->m = m;
	seg->ifindex = in_arrival_ifindex(m->m_pkthdr.rcvif, ip->ip_dst);
	seg->src = ip->ip_src;
	seg->dst = ip->ip_dst;
	seg->sport = th->th_sport;
	seg->dport = th->th_dport;
	seg->seq = seg->seq0 = ntohl(th->th_seq);
	seg->ack = ntohl(th->th_ack);
	seg->win = ntohs(th->th_win);
	seg->urp = ntohs(th->th_urp);
	seg->flags = seg->flags0 = th->th_flags;
	seg->ecn = ip->ip_tos & IPTOS_ECN_MASK;
	seg->doff = hlen + off;
	seg->tlen = seg->tlen0 = len - off;
	return true;
drop:
	m_freem(m);
	return false;
}

/* ---- helpers of several steps ---- */

static void
tcp_trim_front(struct tcp_seg *seg, int n)
{
	seg->doff += n;
	seg->tlen -= n;
	seg->seq += (uint32_t)n;
	if (seg->urp > n) {
		seg->urp = (uint16_t)(seg->urp - n);
	} else {
		seg->flags &= (uint8_t)~TH_URG;
		seg->urp = 0;
	}
}

/*
 * RFC 5961 7: challenge ACKs are rate limited, per connection, to
 * TCP_CHALLENGE_MAX a second.
 */
static void
tcp_challenge_ack(struct tcpcb *tp)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	uint64_t now = kern_clock_ns(tp->t_ns->ns_kernel);

	if (now - tp->t_challenge_ns >= 1000000000u) {
		tp->t_challenge_ns = now;
		tp->t_challenge_cnt = 0;
	}
	if (tp->t_challenge_cnt >= TCP_CHALLENGE_MAX) {
		st->tcps_challengelimit++;
		return;
	}
	tp->t_challenge_cnt++;
	st->tcps_challengeack++;
	tp->t_flags |= TF_ACKNOW;
	(void)tcp_output(tp);
}

/* A SYN's options, for a connection being opened either way. */
static void
tcp_syn_options(struct tcpcb *tp, const struct tcp_seg *seg)
{
	if (seg->to.to_ws_present && (tp->t_flags & TF_REQ_SCALE)) {
		tp->t_flags |= TF_RCVD_SCALE;
		tp->snd_scale = seg->to.to_wscale;
		tp->rcv_scale = tp->request_r_scale;
	} else {
		/* RFC 7323 2.2: both offer it, or neither side scales */
		tp->snd_scale = 0;
		tp->rcv_scale = 0;
	}
	if (seg->to.to_ts_present && (tp->t_flags & TF_REQ_TSTMP)) {
		tp->t_flags |= TF_RCVD_TSTMP;
		tp->ts_recent = seg->to.to_tsval;
		tp->ts_recent_age = kern_clock_ticks(tp->t_ns->ns_kernel);
	}
	/* RFC 2018 2: both sides offered SACK-permitted */
	if (seg->to.to_sackperm && (tp->t_flags & TF_REQ_SACK) &&
	    !(tp->t_flags & TF_NOOPT))
		tp->t_flags |= TF_SACK_PERMIT;
	if (seg->to.to_mss_present)
		tp->t_flags |= TF_RCVD_MSS;
	tcp_mss_update(tp, seg->to.to_mss_present ? seg->to.to_mss : 0);
}

/*
 * RFC 3168 6.1.1: the peer's SYN is an ECN-setup SYN (ECE and CWR both
 * set); we agree when we ask for ECN ourselves, and say so with ECE
 * alone in our SYN-ACK (tcp_ecn_output()).  Any other SYN, or ECN off
 * here, leaves the connection without ECN.
 */
static void
tcp_ecn_syn(struct tcpcb *tp, const struct tcp_seg *seg)
{
	tp->t_flags &= ~TF_ECN_PERMIT;
	if ((tp->t_flags & TF_REQ_ECN) &&
	    (seg->flags0 & (TH_ECE | TH_CWR)) == (TH_ECE | TH_CWR))
		tp->t_flags |= TF_ECN_PERMIT;
}

/*
 * RFC 3168 6.1.1: a SYN-ACK agrees to our ECN-setup SYN with ECE and
 * without CWR; one with both set is not an agreement (a peer that
 * reflects the flags it does not know).
 */
static void
tcp_ecn_synack(struct tcpcb *tp, const struct tcp_seg *seg)
{
	if ((tp->t_flags & TF_REQ_ECN) &&
	    (seg->flags0 & (TH_ECE | TH_CWR)) == TH_ECE)
		tp->t_flags |= TF_ECN_PERMIT;
}

/*
 * tcp_rtt_elapsed: microseconds since the timed segment left.  One sent
 * when the clock said 0 was stamped 1 ns (0 means "not timing"), so an
 * answer still at time 0 took 0 us, not 2^64 - 1 ns (which made the RTO
 * the 60 s maximum).
 */
static uint32_t
tcp_rtt_elapsed(const struct tcpcb *tp)
{
	uint64_t now = kern_clock_ns(tp->t_ns->ns_kernel);

	if (now <= tp->t_rtttime)
		return 0;
	return (uint32_t)((now - tp->t_rtttime) / 1000);
}

/*
 * The handshake completed (SYN-SENT or SYN-RECEIVED to ESTABLISHED):
 * RFC 6928 initial window, the RTT of the handshake, keepalive.
 */
static bool tcp_defer_start(struct tcpcb *tp, struct socket *so);

static struct tcpcb *
tcp_established(struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct socket *so = tp->t_inpcb->inp_socket;
	struct netstack *ns = tp->t_ns;
	uint64_t now = kern_clock_ticks(ns->ns_kernel);

	tcp_set_state(tp, TCPS_ESTABLISHED);
	tcpstat_of(ns)->tcps_connects++;
	/* RFC 8985: RACK-TLP where SACK was agreed */
	if ((tp->t_flags & TF_SACK_PERMIT) && ns->ns_tcp->tcp_do_rack)
		tp->t_flags |= TF_RACK;
	if (tp->t_flags & TF_ECN_PERMIT) {
		tcpstat_of(ns)->tcps_ecn_shs++;
		tp->snd_ecn_recover = tp->snd_una - 1;
	}
	/*
	 * RFC 5681 3.1, RFC 6928 2: after a lost SYN or SYN-ACK (it was
	 * sent again), the initial window is one segment
	 */
	tp->snd_cwnd = tp->t_rxtshift > 0 ? tp->t_maxseg :
	    TCP_INITWND(tp->t_maxseg);
	tp->t_cc->cc_init(tp);
	if (tp->t_rtttime != 0 && SEQ_GT(seg->ack, tp->t_rtseq)) {
		tcp_xmit_timer(tp, tcp_rtt_elapsed(tp));
		tp->t_rtttime = 0;
	} else if (tp->t_rxtshift > 0 && tp->t_rttupdated == 0) {
		/* RFC 6298 5.7: the SYN was resent: start data at 3 s */
		tp->t_rxtcur = 3000;
	}
	tp->t_rxtshift = 0;
	tcp_timer_disarm(tp, TCPT_REXMT);
	tp->t_rcvtime = tp->t_sndtime = now;
	if (so != NULL && (so->so_options & SOO_KEEPALIVE))
		tcp_timer_arm(tp, TCPT_KEEP, (int)tp->t_keepidle);
	if (so != NULL && !tcp_defer_start(tp, so))
		soisconnected(so);
	if (tp->t_flags & TF_NEEDFIN) {
		tp->t_flags &= ~TF_NEEDFIN;
		tp = tcp_usrclosed(tp);
	}
	return tp;
}

int
tcp_finwait2_time(const struct tcpcb *tp)
{
	if (tp->t_linger2 < 0)
		return 1;
	return tp->t_linger2 != 0 ? tp->t_linger2 : TCPTV_FINWAIT2;
}

/*
 * TCP_DEFER_ACCEPT (Linux's, BSD's "dataready" accept filter): a
 * connection its listener accepts only once data (or a FIN) comes, or the
 * listener's time has passed since the handshake (the keepalive timer
 * then ends the wait: tcp_timer_keep()).  Until then it stays on the
 * listener's SYN queue, established and connected.  Linux drops the
 * handshake's ACK instead and keeps only the SYN-ACK's state; here the
 * connection is whole, and the time is the seconds asked for, not rounded
 * to SYN-ACK retransmissions.
 */
static bool
tcp_defer_start(struct tcpcb *tp, struct socket *so)
{
	struct socket *head = so->so_head;
	struct tcpcb *ltp;

	/*
	 * Not past the SYN queue's bound: a connection a SYN cookie made
	 * (the queue was full) goes to the accept queue, or cookies would
	 * let a flood hold any number of them
	 */
	if (head == NULL || so->so_onq != &head->so_q0 ||
	    head->so_q0len > head->so_q0limit || head->so_pcb == NULL ||
	    (ltp = sototcpcb(head))->t_deferaccept == 0)
		return false;
	so->so_state = (so->so_state & ~SS_ISCONNECTING) | SS_ISCONNECTED;
	tp->t_flags |= TF_DEFERRED;
	tcpstat_of(tp->t_ns)->tcps_deferred++;
	tcp_timer_arm(tp, TCPT_KEEP, (int)ltp->t_deferaccept);
	return true;
}

bool
tcp_defer_end(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;

	if (so == NULL || so->so_head == NULL)
		return false;
	if (so->so_head->so_qlen >= so->so_head->so_qlimit) {
		/* the accept queue is full: again in a while */
		tcp_timer_arm(tp, TCPT_KEEP, TCP_DEFER_RETRY);
		return false;
	}
	tp->t_flags &= ~TF_DEFERRED;
	/* the keepalive timer is its own again */
	if (so->so_options & SOO_KEEPALIVE)
		tcp_timer_arm(tp, TCPT_KEEP, (int)tp->t_keepidle);
	else
		tcp_timer_disarm(tp, TCPT_KEEP);
	soisconnected(so);	/* onto the accept queue */
	return true;
}

/*
 * Enter TIME-WAIT (RFC 9293 3.6.1): 2 MSL.  A socket the user closed
 * already is let go now, as the connection needs nothing of it.
 */
static struct tcpcb *
tcp_timewait(struct tcpcb *tp)
{
	struct tcp_state *ts = tp->t_ns->ns_tcp;
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp->inp_socket;

	if (ts->tcp_ntimewait >= TCP_MAXTIMEWAIT) {
		ts->tcp_stat.tcps_twoverflow++;
		if (tp->t_flags & TF_ACKNOW)
			(void)tcp_output(tp);	/* the peer's FIN, at least */
		return tcp_close(tp);
	}
	tcp_set_state(tp, TCPS_TIME_WAIT);
	for (int t = 0; t < TCPT_NTIMERS; t++)
		tcp_timer_disarm(tp, t);
	tcp_rack_free(tp);		/* nothing more to send */
	tp->t_flags &= ~TF_RACK;
	tcp_timer_arm(tp, TCPT_2MSL, 2 * TCPTV_MSL);
	if (so != NULL) {
		soisdisconnected(so);
		if (so->so_closing) {
			sbflush(&so->so_snd);
			inp->inp_socket = NULL;
			sopcbgone(so);
		}
	}
	return tp;
}

/* Hand in-order payload to the user, pulling out an urgent byte. */
static void
tcp_deliver(struct tcpcb *tp, struct mbuf *m, tcp_seq seq, int len)
{
	struct socket *so = tp->t_inpcb->inp_socket;
	struct tcpstat *st = tcpstat_of(tp->t_ns);

	tp->t_bytes_rcvd_total += (uint64_t)len;
	if (so == NULL || (so->so_state & SS_CANTRCVMORE)) {
		m_freem(m);	/* shut down for reading: acked, discarded */
		return;
	}
	/*
	 * RFC 9293 MUST-30/31 and RFC 6093: without SO_OOBINLINE the byte
	 * before the urgent pointer is taken out of the stream for
	 * recv(MSG_OOB); its offset is checked against this segment.
	 */
	if ((tp->t_flags & TF_RCVDURG) && !(so->so_options & SOO_OOBINLINE)) {
		int32_t uoff = (int32_t)(tp->rcv_up - 1 - seq);

		if (uoff >= 0 && uoff < len) {
			struct mbuf *n = NULL;

			m_copydata(m, uoff, 1, &tp->t_iobc);
			if (uoff == 0) {
				m_adj(m, 1);
			} else if ((n = m_split(m, uoff, M_DONTWAIT)) != NULL) {
				m_adj(n, 1);
				m_cat(m, n);
				m->m_pkthdr.len = len - 1;
			} else {
				st->tcps_urgdrop++;	/* left inline */
				goto append;
			}
			if (uoff == 0)
				m->m_pkthdr.len = len - 1;
			tp->t_flags &= ~TF_RCVDURG;
			tp->t_flags |= TF_HAVEURG;
			so->so_haveoob = true;
			st->tcps_rcvoob++;
		}
	}
append:
	if (m->m_pkthdr.len > 0)
		sbappendstream(&so->so_rcv, m);
	else
		m_freem(m);
}

/* The payload of seg as its own chain (headers and trimmed tail gone). */
static struct mbuf *
tcp_seg_payload(struct tcp_seg *seg)
{
	struct mbuf *m = seg->m;

	seg->m = NULL;
	m_adj(m, seg->doff);
	if (m->m_pkthdr.len > seg->tlen)
		m_adj(m, seg->tlen - m->m_pkthdr.len);
	m->m_pkthdr.rcvif = NULL;
	return m;
}

/*
 * The queued run of contiguous bytes that holds seq becomes the first
 * SACK block to report (RFC 2018 4).
 */
static void
tcp_reass_sack(struct tcpcb *tp, tcp_seq seq)
{
	struct mbuf *q;
	tcp_seq rs = 0, re = 0;
	bool run = false;

	for (q = tp->t_segq; q != NULL; q = q->m_nextpkt) {
		tcp_seq s = TCP_REASS_SEQ(q);

		if (!run || s != re) {
			if (run && SEQ_LEQ(rs, seq) && SEQ_LT(seq, re))
				break;
			rs = s;
			run = true;
		}
		re = s + (uint32_t)q->m_pkthdr.len;
	}
	if (run && SEQ_LEQ(rs, seq) && SEQ_LT(seq, re))
		tcp_sack_rcv_add(tp, rs, re);
}

/*
 * The segments the reassembly queue may hold: a window's worth of full
 * segments for the receive buffer (a 4 MiB buffer's losses would
 * otherwise drop the rest of the window), at least TCP_REASS_MAXSEGS,
 * at most TCP_REASS_MAXSEGS_CAP.  Tiny segments then cost memory in
 * proportion to the buffer the application asked for.
 */
static unsigned
tcp_reass_limit(const struct tcpcb *tp)
{
	const struct socket *so = tp->t_inpcb->inp_socket;
	unsigned n = so != NULL ? so->so_rcv.sb_hiwat /
	    MAX(tp->t_ourmss, 536u) : 0;

	return MIN(MAX(n, (unsigned)TCP_REASS_MAXSEGS),
	    (unsigned)TCP_REASS_MAXSEGS_CAP);
}

/* The reassembly queue of tp holds n segments more (n < 0: fewer). */
static void
tcp_reass_count(struct tcpcb *tp, int n)
{
	tp->t_segqlen += (unsigned)n;
	tp->t_ns->ns_tcp->tcp_reass_nsegs += (unsigned)n;
}

/*
 * Queue an out-of-order segment (RFC 9293 3.10.7.4 seventh step),
 * trimming what overlaps the neighbours so that the queue holds every
 * byte once.  Bounded: at most tcp_reass_limit() segments, all within
 * the receive window, and all queues of the instance together at most
 * tcp_reass_max; each insertion costs at most one walk of the queue,
 * and none for the usual case of a segment after the last.  The
 * segment at RCV.NXT is always taken: it drains the queue.
 */
static void
tcp_reass(struct tcpcb *tp, struct tcp_seg *seg)
{
	struct tcp_state *ts = tp->t_ns->ns_tcp;
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	struct mbuf *m, *q, *prev = NULL, *next;
	tcp_seq seq = seg->seq;
	int len = seg->tlen;
	bool fin = (seg->flags & TH_FIN) != 0;

	if (tp->t_segqlen >= tcp_reass_limit(tp) && seq != tp->rcv_nxt) {
		st->tcps_rcvreassfull++;
		return;		/* the peer resends it */
	}
	if (ts->tcp_reass_nsegs >= ts->tcp_reass_max && seq != tp->rcv_nxt) {
		st->tcps_rcvreassmem++;
		return;		/* the same */
	}
	/* prev: the last queued segment starting at or before seq */
	if (tp->t_segqtail != NULL &&
	    SEQ_LEQ(TCP_REASS_SEQ(tp->t_segqtail), seq)) {
		prev = tp->t_segqtail;
		q = NULL;
	} else {
		for (q = tp->t_segq; q != NULL &&
		    SEQ_LEQ(TCP_REASS_SEQ(q), seq); q = q->m_nextpkt)
			prev = q;
	}
	if (prev != NULL) {
		int32_t i = (int32_t)(TCP_REASS_SEQ(prev) +
		    (uint32_t)prev->m_pkthdr.len - seq);

		if (i > 0) {
			if (i >= len && !(fin && !TCP_REASS_FIN(prev) &&
			    i == len)) {
				st->tcps_rcvduppack++;
				st->tcps_rcvdupbyte += (uint64_t)len;
				tcp_sack_rcv_dup(tp, seq, seq + (uint32_t)len);
				return;
			}
			i = MIN(i, len);
			tcp_trim_front(seg, i);
			seq = seg->seq;
			len = seg->tlen;
		}
	}
	/* drop or trim the queued segments the new one covers */
	while (q != NULL && SEQ_GT(seq + (uint32_t)len, TCP_REASS_SEQ(q))) {
		int32_t i = (int32_t)(seq + (uint32_t)len - TCP_REASS_SEQ(q));

		if (i < q->m_pkthdr.len) {
			m_adj(q, i);
			TCP_REASS_SEQ(q) += (uint32_t)i;
			break;
		}
		if (TCP_REASS_FIN(q) && i == q->m_pkthdr.len)
			fin = true;
		next = q->m_nextpkt;
		tcp_reass_count(tp, -1);
		m_freem(q);
		q = next;
		if (prev != NULL)
			prev->m_nextpkt = q;
		else
			tp->t_segq = q;
	}
	if (seq == tp->rcv_nxt) {
		/* the segment that fills the hole is in sequence */
		st->tcps_rcvpack++;
		st->tcps_rcvbyte += (uint64_t)len;
	} else {
		st->tcps_rcvoopack++;
		st->tcps_rcvoobyte += (uint64_t)len;
	}
	m = tcp_seg_payload(seg);
	TCP_REASS_SEQ(m) = seq;
	TCP_REASS_FIN(m) = fin;
	m->m_nextpkt = q;
	if (prev != NULL)
		prev->m_nextpkt = m;
	else
		tp->t_segq = m;
	if (q == NULL)
		tp->t_segqtail = m;
	tcp_reass_count(tp, 1);
	if ((tp->t_flags & TF_SACK_PERMIT) && len > 0) {
		/* the common case: the newest block grows at the tail */
		if (q == NULL && tp->t_rsackn > 0 && tp->t_rsack[0].end == seq)
			tp->t_rsack[0].end = seq + (uint32_t)len;
		else
			tcp_reass_sack(tp, seq);
	}
}

/* Move what became in order to the socket; true if a FIN came with it. */
static bool
tcp_reass_pull(struct tcpcb *tp)
{
	struct mbuf *q;
	bool fin = false;

	while ((q = tp->t_segq) != NULL && TCP_REASS_SEQ(q) == tp->rcv_nxt) {
		int len = q->m_pkthdr.len;

		tp->t_segq = q->m_nextpkt;
		if (tp->t_segq == NULL)
			tp->t_segqtail = NULL;
		q->m_nextpkt = NULL;
		tcp_reass_count(tp, -1);
		tp->rcv_nxt += (uint32_t)len;
		fin = TCP_REASS_FIN(q) != 0;
		tcp_deliver(tp, q, TCP_REASS_SEQ(q), len);
		if (fin)
			break;
	}
	return fin;
}

/* ---- LISTEN (RFC 9293 3.10.7.2) ---- */

static enum tcp_verdict tcp_input_sync(struct tcpcb **tpp,
    struct tcp_seg *seg);
static enum tcp_verdict tcp_input_rest(struct tcpcb **tpp,
    struct tcp_seg *seg);

/*
 * A connection of listener ltp for seg's 4-tuple takes what it inherits:
 * the listener's TCP options, the timestamp clock offset, the window
 * shift to offer.
 */
static void
tcp_passive_init(struct tcpcb *ltp, struct tcpcb *tp,
    const struct tcp_seg *seg)
{
	struct inpcb *inp = tp->t_inpcb;

	in_pcbsetconnected(inp, seg->dst, seg->dport, seg->src, seg->sport);
	/* the listener's TCP options carry over, as Linux and BSD do */
	tp->t_flags |= ltp->t_flags & (TF_NODELAY | TF_CORK | TF_NOOPT |
	    TF_REQ_ECN);
	if (ltp->t_flags & TF_NOOPT)
		tp->t_flags &= ~(TF_REQ_SCALE | TF_REQ_TSTMP | TF_REQ_SACK);
	inp->inp_ttl = ltp->t_inpcb->inp_ttl;	/* IP_TTL, IP_TOS (Linux) */
	inp->inp_tos = ltp->t_inpcb->inp_tos;
	inp->inp_pmtudisc = ltp->t_inpcb->inp_pmtudisc;
	inp->inp_bindif = ltp->t_inpcb->inp_bindif;	/* SO_BINDTODEVICE */
	tp->t_keepidle = ltp->t_keepidle;
	tp->t_keepintvl = ltp->t_keepintvl;
	tp->t_keepcnt = ltp->t_keepcnt;
	tp->t_usertimeo = ltp->t_usertimeo;
	tp->t_synretries = ltp->t_synretries;	/* the SYN-ACK's, as Linux */
	tp->t_linger2 = ltp->t_linger2;
	tp->t_usermss = ltp->t_usermss;
	tp->t_window_clamp = ltp->t_window_clamp;
	tp->t_cc = ltp->t_cc;
	tp->request_r_scale = tcp_rscale(tp);
	tp->ts_offset = tcp_ts_offset(ltp->t_ns, seg->dst, seg->src);
}

/*
 * The SYN queue or the bound on embryos is full: answer with a SYN
 * cookie (RFC 4987 3.6).  What the SYN-ACK agrees to is what a
 * connection made now would: timestamps and window scaling unless
 * TF_NOOPT, SACK with TF_REQ_SACK, ECN with the "ecn" parameter (RFC
 * 3168 6.1.1: the peer's SYN has ECE and CWR) -- each only with
 * timestamps, whose echo carries them back.  Data on the SYN is
 * discarded: the peer sends it again.
 */
static void
tcp_syncookie_answer(struct tcpcb *ltp, const struct tcp_seg *seg)
{
	struct tcp_state *ts = ltp->t_ns->ns_tcp;
	struct tcp_syncookie sc;
	bool noopt = (ltp->t_flags & TF_NOOPT) != 0;

	/*
	 * A SYN that took over a TIME-WAIT 4-tuple wants an ISS above
	 * seg->iss_floor (RFC 1122 4.2.2.13); a cookie cannot promise it.
	 * Its timestamps, newer than the old incarnation's, or its sequence
	 * number still keep old duplicates apart (RFC 6191).
	 */
	memset(&sc, 0, sizeof(sc));
	sc.sc_laddr = seg->dst;
	sc.sc_faddr = seg->src;
	sc.sc_lport = seg->dport;
	sc.sc_fport = seg->sport;
	sc.sc_irs = seg->seq;
	sc.sc_mss = tcp_syncookie_mss(seg->to.to_mss_present ?
	    seg->to.to_mss : 0);
	sc.sc_ts = seg->to.to_ts_present && !noopt;
	sc.sc_wscale = sc.sc_ts && seg->to.to_ws_present ?
	    seg->to.to_wscale : -1;
	sc.sc_sack = sc.sc_ts && seg->to.to_sackperm &&
	    (ltp->t_flags & TF_REQ_SACK);
	sc.sc_ecn = sc.sc_ts && (ltp->t_flags & TF_REQ_ECN) &&
	    (seg->flags0 & (TH_ECE | TH_CWR)) == (TH_ECE | TH_CWR);
	if (seg->tlen > 0)
		ts->tcp_stat.tcps_synwithdata++;
	tcp_syncookie_send(ltp, &sc, sc.sc_ts ? seg->to.to_tsval : 0);
}

/*
 * An ACK to listener ltp (RFC 4987 3.6): if it returns a cookie ltp sent,
 * make the connection as if its SYN had come and our SYN-ACK left --
 * SYN-RECEIVED with ISS the cookie, IRS SEG.SEQ - 1, the options the
 * cookie kept -- and let tcp_input_sync() complete the handshake and
 * take any data.  Otherwise reset, as for any ACK in LISTEN.
 */
static enum tcp_verdict
tcp_input_cookie(struct tcpcb *ltp, struct tcp_seg *seg, struct tcpcb **tpp)
{
	struct netstack *ns = ltp->t_ns;
	struct tcpstat *st = tcpstat_of(ns);
	struct socket *head = ltp->t_inpcb->inp_socket, *so;
	struct tcp_syncookie sc;
	struct tcpcb *tp;

	memset(&sc, 0, sizeof(sc));
	sc.sc_laddr = seg->dst;
	sc.sc_faddr = seg->src;
	sc.sc_lport = seg->dport;
	sc.sc_fport = seg->sport;
	sc.sc_irs = seg->seq - 1;
	if (!tcp_syncookie_check(ltp, &sc, seg->ack - 1,
	    seg->to.to_ts_present, seg->to.to_tsecr)) {
		st->tcps_sc_failed++;
		st->tcps_badack++;
		return TV_DROPWITHRESET;
	}
	/* the handshake completes at once: only the accept queue matters */
	if (head->so_qlen >= head->so_qlimit) {
		st->tcps_listendrop++;	/* its next segment may do */
		return TV_DROP;
	}
	if ((so = sonewconn(head, true)) == NULL) {
		/* no socket: dropped as its SYN would have been */
		st->tcps_nosocket++;
		return TV_DROP;
	}
	st->tcps_sc_recvd++;
	st->tcps_accepts++;
	tp = sototcpcb(so);
	tcp_passive_init(ltp, tp, seg);
	/* the options the SYN-ACK agreed to (RFC 7323, RFC 2018, RFC 3168) */
	if (sc.sc_wscale >= 0 && (tp->t_flags & TF_REQ_SCALE)) {
		tp->t_flags |= TF_RCVD_SCALE;
		tp->snd_scale = (uint8_t)sc.sc_wscale;
		tp->rcv_scale = tp->request_r_scale;
	}
	if (sc.sc_ts && (tp->t_flags & TF_REQ_TSTMP)) {
		tp->t_flags |= TF_RCVD_TSTMP;
		/* the SYN's TSval is gone: the ACK's is as good (PAWS) */
		tp->ts_recent = seg->to.to_tsval;
		tp->ts_recent_age = kern_clock_ticks(ns->ns_kernel);
	}
	if (sc.sc_sack && (tp->t_flags & TF_REQ_SACK))
		tp->t_flags |= TF_SACK_PERMIT;
	/* (tcp_passive_init() gave it the listener's TF_REQ_ECN) */
	if (sc.sc_ecn && (tp->t_flags & TF_REQ_ECN))
		tp->t_flags |= TF_ECN_PERMIT;
	tcp_mss_update(tp, sc.sc_mss);
	tp->t_ourmss = tcp_mss_local(tp);
	tp->irs = sc.sc_irs;
	tp->rcv_nxt = sc.sc_irs + 1;
	/* the window the SYN-ACK offered: a SYN's, unscaled */
	tp->rcv_wnd = MIN(tcp_rcvspace(tp), (unsigned)TCP_MAXWIN);
	tp->rcv_adv = tp->rcv_nxt + tp->rcv_wnd;
	tp->rcv_up = tp->rcv_nxt;
	tp->last_ack_sent = tp->rcv_nxt;
	tp->iss = seg->ack - 1;
	tp->snd_una = tp->snd_up = tp->snd_recover = tp->iss;
	tp->snd_nxt = tp->snd_max = tp->iss + 1;
	tp->snd_wl1 = tp->irs;
	tp->snd_wl2 = tp->iss;
	tp->t_rcvtime = kern_clock_ticks(ns->ns_kernel);
	/* not an embryo for the bound: the ACK below establishes it */
	tcp_set_state(tp, TCPS_SYN_RECEIVED);
	*tpp = tp;
	return tcp_input_sync(tpp, seg);
}

/*
 * TCP Fast Open, a SYN with the option to a listener with TCP_FASTOPEN
 * (RFC 7413 4.2.2), its embryo tp just made: true when its cookie is the
 * one we give its address and the listener's TCP_FASTOPEN queue has
 * room: the connection goes to the accept queue at once, and its SYN's
 * data is taken (tcp_tfo_syn_text()).  Otherwise the handshake is the
 * usual one, the data discarded, and a SYN-ACK that answers a request or
 * a cookie not ours brings our cookie.  A full queue (5.1: a flood with
 * a stolen cookie) only falls back to the usual handshake.
 */
static bool
tcp_tfo_passive(struct tcpcb *ltp, struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	struct socket *head = ltp->t_inpcb->inp_socket;
	struct socket *so = tp->t_inpcb->inp_socket;
	uint8_t cookie[TCP_FASTOPEN_COOKIE_LEN];

	tcp_tfo_cookie(tp->t_ns, seg->src, seg->dst, cookie);
	if (seg->to.to_tfo_len == 0) {
		st->tcps_tfo_cookiereq++;
		tp->t_flags |= TF_TFO_COOKIE;
		return false;
	}
	if (seg->to.to_tfo_len != TCP_FASTOPEN_COOKIE_LEN ||
	    memcmp(seg->to.to_tfo_cookie, cookie, sizeof(cookie)) != 0) {
		st->tcps_tfo_badcookie++;
		tp->t_flags |= TF_TFO_COOKIE;
		return false;
	}
	if (head->so_tfoqlen >= ltp->t_tfo_qlen) {
		st->tcps_tfo_qfull++;
		return false;
	}
	st->tcps_tfo_accepted++;
	tp->t_flags |= TF_TFO_PASSIVE;
	sotfostart(so, head);		/* until the handshake completes */
	soisconnected(so);		/* onto the accept queue */
	return true;
}

/*
 * The SYN's data, for a connection tcp_tfo_passive() made: in order past
 * the SYN, within our receive space; the SYN-ACK that follows acks it.
 */
static enum tcp_verdict
tcp_tfo_syn_text(struct tcpcb *tp, struct tcp_seg *seg)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	int room = (int)tcp_rcvspace(tp);

	seg->seq++;
	seg->flags &= (uint8_t)~TH_SYN;
	if (seg->urp > 0)
		seg->urp--;
	if (seg->tlen > room) {
		st->tcps_rcvpackafterwin++;
		st->tcps_rcvbyteafterwin += (uint64_t)(seg->tlen - room);
		seg->tlen = room;
		seg->flags &= (uint8_t)~(TH_FIN | TH_PUSH);
	}
	return tcp_input_rest(&tp, seg);
}

/*
 * LISTEN.  A SYN makes an embryo (SYN-RECEIVED) on the listener's SYN
 * queue, within the queue's limit and the instance's bound on embryos
 * (tcp_syncache_limit, RFC 4987 3.1 and 3.3); past either a SYN cookie
 * answers instead, or with "syncookies" 0 the SYN is dropped.  An ACK
 * may return a cookie: *tpp is then the connection it made.
 */
static enum tcp_verdict
tcp_input_listen(struct tcpcb *ltp, struct tcp_seg *seg, struct tcpcb **tpp)
{
	struct netstack *ns = ltp->t_ns;
	struct tcp_state *ts = ns->ns_tcp;
	struct tcpstat *st = tcpstat_of(ns);
	struct socket *head = ltp->t_inpcb->inp_socket, *so;
	struct tcpcb *tp;

	*tpp = NULL;
	/* "first check for an RST": ignore it */
	if (seg->flags & TH_RST) {
		st->tcps_badrst++;
		return TV_DROP;
	}
	/* "second check for an ACK": bad here, unless it returns a cookie */
	if (seg->flags & TH_ACK) {
		if (!(seg->flags & TH_SYN) && tcp_syncookie_active(ltp))
			return tcp_input_cookie(ltp, seg, tpp);
		st->tcps_badack++;
		return TV_DROPWITHRESET;
	}
	if (!(seg->flags & TH_SYN)) {
		st->tcps_badsyn++;
		return TV_DROP;
	}
	if (seg->flags & TH_FIN) {
		st->tcps_synfin++;	/* SYN+FIN: a scan, never a peer */
		return TV_DROP;
	}
	if (head->so_qlen >= head->so_qlimit) {
		st->tcps_listendrop++;	/* the peer will resend its SYN */
		return TV_DROP;
	}
	if (head->so_q0len >= head->so_q0limit ||
	    st->tcps_syncache >= (uint64_t)ts->tcp_syncache_limit) {
		if (!ts->tcp_do_syncookies) {
			st->tcps_synqdrop++;
			return TV_DROP;
		}
		tcp_syncookie_answer(ltp, seg);
		return TV_DROP;
	}
	if ((so = sonewconn(head, false)) == NULL) {
		/* the instance's socket_limit, or memory: the peer resends */
		st->tcps_nosocket++;
		return TV_DROP;
	}
	tp = sototcpcb(so);
	tcp_passive_init(ltp, tp, seg);
	tcp_syn_options(tp, seg);
	tcp_ecn_syn(tp, seg);
	tp->irs = seg->seq;
	tp->rcv_nxt = seg->seq + 1;
	tp->rcv_adv = tp->rcv_nxt;
	tp->rcv_up = tp->rcv_nxt;
	tp->iss = tcp_new_isn(ns, seg->dst, seg->dport, seg->src, seg->sport);
	if (seg->iss_floor_set && SEQ_LT(tp->iss, seg->iss_floor))
		tp->iss = seg->iss_floor;
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->snd_up = tp->iss;
	tp->snd_recover = tp->iss;
	tp->snd_wnd = seg->win;		/* RFC 7323 2.2: a SYN's is unscaled */
	tp->max_sndwnd = tp->snd_wnd;
	tp->snd_wl1 = seg->seq;
	tp->snd_wl2 = tp->iss;
	tp->t_rcvtime = kern_clock_ticks(ns->ns_kernel);
	tcp_set_state(tp, TCPS_SYN_RECEIVED);
	tcp_syncache_enter(tp);
	st->tcps_accepts++;
	tp->t_flags |= TF_ACKNOW;
	if (seg->to.to_tfo && ltp->t_tfo_qlen > 0 &&
	    tcp_tfo_passive(ltp, tp, seg))
		return tcp_tfo_syn_text(tp, seg);
	if (seg->tlen > 0)
		st->tcps_synwithdata++;	/* discarded; the peer resends it */
	(void)tcp_output(tp);
	return TV_DROP;
}

/* ---- SYN-SENT (RFC 9293 3.10.7.3) ---- */

/*
 * TCP Fast Open, the SYN-ACK to our SYN of MSG_FASTOPEN (RFC 7413
 * 4.2.1): keep the cookie it brings, with the MSS it offers; drop from
 * so_snd what of our SYN's data it acks, and send again at once what it
 * does not (the server did not take it).
 */
static void
tcp_tfo_synack(struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	struct socket *so = tp->t_inpcb->inp_socket;
	uint32_t acked = seg->ack - (tp->iss + 1);

	if (seg->to.to_tfo && seg->to.to_tfo_len > 0) {
		tcp_tfo_cache_put(tp->t_ns, tp->t_inpcb->inp_faddr,
		    seg->to.to_tfo_cookie, seg->to.to_tfo_len,
		    seg->to.to_mss_present ? seg->to.to_mss : 0);
		st->tcps_tfo_cookierecv++;
	}
	if (tp->t_flags & TF_TFO_SYNDATA) {
		if (acked == tp->t_tfo_synlen)
			st->tcps_tfo_dataacked++;
		else
			st->tcps_tfo_datanotacked++;
		if (acked > 0 && so != NULL) {
			sbdrop(&so->so_snd, (int)MIN(acked, so->so_snd.sb_cc));
			sowwakeup(so);
		}
		/* what is not acked goes again, after the handshake's ACK */
		tp->snd_nxt = seg->ack;
	}
	tp->t_flags &= ~(TF_TFO_ACTIVE | TF_TFO_SYNDATA);
	tp->t_tfo_synlen = 0;
}

static enum tcp_verdict
tcp_input_synsent(struct tcpcb *tp, struct tcp_seg *seg)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);

	/* first: the ACK must cover our SYN and nothing more */
	if ((seg->flags & TH_ACK) && (SEQ_LEQ(seg->ack, tp->iss) ||
	    SEQ_GT(seg->ack, tp->snd_max))) {
		if (seg->flags & TH_RST) {
			st->tcps_badrst++;
			return TV_DROP;
		}
		st->tcps_badack++;
		return TV_DROPWITHRESET;
	}
	/* second: an RST is acceptable only with an acceptable ACK */
	if (seg->flags & TH_RST) {
		if (seg->flags & TH_ACK) {
			st->tcps_refused++;
			(void)tcp_drop(tp, ECONNREFUSED);
			return TV_DROP;
		}
		st->tcps_badrst++;
		return TV_DROP;
	}
	/* fourth: the SYN */
	if (!(seg->flags & TH_SYN)) {
		st->tcps_badsyn++;
		return TV_DROP;
	}
	tcp_syn_options(tp, seg);
	tp->irs = seg->seq;
	tp->rcv_nxt = seg->seq + 1;
	tp->rcv_adv = tp->rcv_nxt + tp->rcv_wnd;
	tp->rcv_up = tp->rcv_nxt;
	tp->snd_wnd = seg->win;
	tp->max_sndwnd = tp->snd_wnd;
	tp->snd_wl1 = seg->seq;
	if (!(seg->flags & TH_ACK)) {
		/* simultaneous open: SYN-RECEIVED, send SYN,ACK */
		tcp_ecn_syn(tp, seg);
		tcp_set_state(tp, TCPS_SYN_RECEIVED);
		tp->snd_wl2 = tp->iss;
		tp->snd_nxt = tp->iss;
		tp->t_flags |= TF_ACKNOW;
		if (seg->tlen > 0)
			st->tcps_synwithdata++;
		(void)tcp_output(tp);
		return TV_DROP;
	}
	tcp_ecn_synack(tp, seg);
	if (tp->t_flags & TF_TFO_ACTIVE)
		tcp_tfo_synack(tp, seg);
	tp->snd_una = seg->ack;
	tp->snd_wl2 = seg->ack;
	if (SEQ_LT(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	if ((tp = tcp_established(tp, seg)) == NULL)
		return TV_DROP;
	/* the request the application writes next may carry it */
	tcp_ack_pass(tp);
	/* "continue processing at the sixth step" with the rest */
	seg->seq++;
	seg->flags &= (uint8_t)~TH_SYN;
	if (seg->urp > 0)
		seg->urp--;
	{
		/* data beyond the window we offered in our SYN goes */
		int32_t over = (int32_t)(seg->seq + (uint32_t)seg->tlen -
		    (tp->rcv_nxt + tcp_rcv_wnd_adv(tp)));

		if (over > 0) {
			st->tcps_rcvpackafterwin++;
			st->tcps_rcvbyteafterwin += (uint64_t)MIN(over,
			    seg->tlen);
			seg->tlen -= MIN(over, seg->tlen);
			seg->flags &= (uint8_t)~(TH_FIN | TH_PUSH);
		}
	}
	return tcp_input_rest(&tp, seg);
}

/* ---- synchronized states and SYN-RECEIVED (RFC 9293 3.10.7.4) ---- */

bool
tcp_inp_listening(const struct inpcb *inp)
{
	return inp->inp_ppcb != NULL &&
	    intotcpcb(inp)->t_state == TCPS_LISTEN;
}

/*
 * TIME-WAIT and a new SYN for the same 4-tuple (RFC 6191, RFC 1122
 * 4.2.2.13): the old incarnation gives way when the new SYN is
 * unambiguously newer: a larger timestamp, or without timestamps a
 * sequence number beyond the old one's.  Returns true when tp is gone;
 * *ltpp is then the listener to hand the SYN to (NULL if it went too,
 * while tcp_close() waited for a timer on another vCPU).
 */
static bool
tcp_timewait_reuse(struct tcpcb *tp, struct tcp_seg *seg,
    struct tcpcb **ltpp)
{
	struct netstack *ns = tp->t_ns;
	struct inpcb *linp;
	bool newer;

	*ltpp = NULL;
	linp = in_pcblookup_bind_flow(ns->ns_tcp->tcp_tbl, seg->dst,
	    seg->dport, seg->ifindex, tcp_inp_listening, seg->src, seg->sport);
	if (linp == NULL)
		return false;
	if (seg->to.to_ts_present && (tp->t_flags & TF_RCVD_TSTMP))
		newer = TSTMP_LT(tp->ts_recent, seg->to.to_tsval);
	else if (seg->to.to_ts_present &&
	    (intotcpcb(linp)->t_flags & TF_REQ_TSTMP))
		newer = true;	/* RFC 6191 2: old segments carry no TSopt */
	else
		newer = SEQ_GT(seg->seq, tp->rcv_nxt);
	if (!newer)
		return false;
	tcpstat_of(ns)->tcps_timewaitreuse++;
	/*
	 * RFC 1122 4.2.2.13 (1): the new ISS above the largest sequence
	 * number of the old incarnation (a window beyond it, as Linux).
	 */
	seg->iss_floor_set = true;
	seg->iss_floor = tp->snd_max + TCP_MAXWIN + 2;
	(void)tcp_close(tp);
	linp = in_pcblookup_bind_flow(ns->ns_tcp->tcp_tbl, seg->dst,
	    seg->dport, seg->ifindex, tcp_inp_listening, seg->src, seg->sport);
	if (linp != NULL)
		*ltpp = intotcpcb(linp);
	return true;
}

/*
 * RFC 7323 5.3 PAWS: a segment whose timestamp is older than TS.Recent
 * is an old duplicate: ACK and drop.  TS.Recent older than 24 days is
 * invalid (R3).  RFC 7323 3.2: once timestamps are agreed, a segment
 * without one is dropped (other than an RST).
 */
static enum tcp_verdict
tcp_paws(struct tcpcb *tp, struct tcp_seg *seg)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);

	if (!(tp->t_flags & TF_RCVD_TSTMP) || (seg->flags & TH_RST))
		return TV_CONTINUE;
	if (!seg->to.to_ts_present) {
		st->tcps_rcvnots++;
		return TV_DROP;
	}
	if (tp->ts_recent != 0 && TSTMP_LT(seg->to.to_tsval, tp->ts_recent)) {
		uint64_t age = kern_clock_ticks(tp->t_ns->ns_kernel) -
		    tp->ts_recent_age;

		if (age > 24ull * 24 * 3600 * 1000) {
			tp->ts_recent = 0;
			return TV_CONTINUE;
		}
		st->tcps_pawsdrop++;
		if (seg->tlen > 0) {
			st->tcps_rcvduppack++;
			st->tcps_rcvdupbyte += (uint64_t)seg->tlen;
		}
		return TV_DROPAFTERACK;
	}
	return TV_CONTINUE;
}

/*
 * An RST (RFC 9293 first and second steps with RFC 5961 3.2): exactly
 * RCV.NXT resets the connection; elsewhere in the window draws a
 * challenge ACK; outside the window it is dropped.
 */
static enum tcp_verdict
tcp_step_rst(struct tcpcb *tp, struct tcp_seg *seg)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	struct socket *so = tp->t_inpcb->inp_socket;
	uint32_t wnd = tcp_rcv_wnd_adv(tp);

	if (seg->seq != tp->rcv_nxt) {
		if (wnd > 0 && SEQ_INRANGE(seg->seq, tp->rcv_nxt,
		    tp->rcv_nxt + wnd)) {
			st->tcps_rstinwin++;
			tcp_challenge_ack(tp);
		} else {
			st->tcps_badrst++;
		}
		return TV_DROP;
	}
	switch (tp->t_state) {
	case TCPS_SYN_RECEIVED:
		/*
		 * passive: the embryo goes ("return to LISTEN"), or a TCP
		 * Fast Open connection the user may have is reset; active:
		 * refused
		 */
		if (tp->t_flags & TF_TFO_PASSIVE) {
			st->tcps_rcvrst++;
			st->tcps_drops++;
			if (so != NULL)
				soseterror(so, ECONNRESET);
		} else if (so != NULL && so->so_head == NULL) {
			st->tcps_refused++;
			soseterror(so, ECONNREFUSED);
		} else {
			st->tcps_conndrops++;
		}
		break;
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSE_WAIT:
		st->tcps_rcvrst++;
		st->tcps_drops++;
		if (so != NULL)
			soseterror(so, ECONNRESET);
		break;
	default:		/* CLOSING, LAST-ACK, TIME-WAIT */
		st->tcps_rcvrst++;
		break;
	}
	(void)tcp_close(tp);
	return TV_DROP;
}

/*
 * First step (RFC 9293 3.10.7.4): is the segment acceptable?  Trim what
 * lies before RCV.NXT (old duplicates) and beyond the window.
 */
static enum tcp_verdict
tcp_step_seq(struct tcpcb *tp, struct tcp_seg *seg)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	uint32_t wnd = tcp_rcv_wnd_adv(tp);
	int32_t todrop = (int32_t)(tp->rcv_nxt - seg->seq);

	if (todrop > 0) {
		if (seg->flags & TH_SYN) {
			/* an old SYN: its sequence number is behind us */
			seg->flags &= (uint8_t)~TH_SYN;
			seg->seq++;
			if (seg->urp > 1)
				seg->urp--;
			else
				seg->flags &= (uint8_t)~TH_URG;
			todrop--;
		}
		if (todrop > seg->tlen ||
		    (todrop == seg->tlen && !(seg->flags & TH_FIN))) {
			/* all old: ACK it (it may be a lost ACK's retry) */
			tcp_sack_rcv_dup(tp, seg->seq,
			    seg->seq + (uint32_t)seg->tlen);
			st->tcps_rcvduppack++;
			st->tcps_rcvdupbyte += (uint64_t)seg->tlen;
			seg->flags &= (uint8_t)~TH_FIN;
			tp->t_flags |= TF_ACKNOW;
			todrop = seg->tlen;
		} else if (todrop > 0) {
			tcp_sack_rcv_dup(tp, seg->seq,
			    seg->seq + (uint32_t)todrop);
			st->tcps_rcvpartduppack++;
			st->tcps_rcvpartdupbyte += (uint64_t)todrop;
		}
		tcp_trim_front(seg, todrop);
	}
	todrop = (int32_t)(seg->seq + (uint32_t)seg->tlen -
	    (tp->rcv_nxt + wnd));
	if (todrop > 0) {
		st->tcps_rcvpackafterwin++;
		if (todrop >= seg->tlen) {
			st->tcps_rcvbyteafterwin += (uint64_t)seg->tlen;
			/* a probe of our zero window: ACK, keep nothing */
			if (wnd == 0 && seg->seq == tp->rcv_nxt) {
				st->tcps_rcvwinprobe++;
				tp->t_flags |= TF_ACKNOW;
			} else {
				return TV_DROPAFTERACK;
			}
		} else {
			st->tcps_rcvbyteafterwin += (uint64_t)todrop;
		}
		seg->tlen -= MIN(todrop, seg->tlen);
		seg->flags &= (uint8_t)~(TH_PUSH | TH_FIN);
	}
	return TV_CONTINUE;
}

/*
 * Fourth step: a SYN still in the segment is inside the window.  RFC
 * 5961 4.2: challenge ACK, whatever the sequence number; an embryo
 * from a listener goes back to LISTEN (RFC 9293), i.e. goes.
 */
static enum tcp_verdict
tcp_step_syn(struct tcpcb *tp, struct tcp_seg *seg)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	struct socket *so = tp->t_inpcb->inp_socket;

	st->tcps_synchallenge++;
	if (tp->t_state == TCPS_SYN_RECEIVED && so != NULL &&
	    so->so_head != NULL) {
		st->tcps_conndrops++;
		(void)tcp_close(tp);
		(void)seg;
		return TV_DROP;
	}
	tcp_challenge_ack(tp);
	return TV_DROP;
}

/*
 * RFC 7323 4.3 (2), 5.3 R3: remember the timestamp to echo.  Called
 * before the fifth step checks the ACK, in the order of RFC 7323
 * Appendix D (and of the BSDs): a segment whose ACK then turns out to be
 * beyond SND.NXT, dropped with an ACK, has set TS.Recent all the same.
 * Linux takes TS.Recent only once tcp_ack() accepted the ACK
 * (packetdrill's ts_recent/invalid_ack.pkt).
 */
static void
tcp_update_ts_recent(struct tcpcb *tp, const struct tcp_seg *seg)
{
	/* TS.Recent 0: none, or made invalid after 24 days (RFC 7323 5.5) */
	if (seg->to.to_ts_present && (tp->t_flags & TF_RCVD_TSTMP) &&
	    (tp->ts_recent == 0 ||
	    TSTMP_GEQ(seg->to.to_tsval, tp->ts_recent)) &&
	    SEQ_LEQ(seg->seq, tp->last_ack_sent)) {
		tp->ts_recent = seg->to.to_tsval;
		tp->ts_recent_age = kern_clock_ticks(tp->t_ns->ns_kernel);
	}
}

/*
 * SACK loss recovery (RFC 6675 5) with Proportional Rate Reduction (RFC
 * 6937), for an ACK that acknowledged acked new bytes and SACKed sackd
 * more.  Enters recovery on the DupThresh-th duplicate ACK or when the
 * scoreboard says SND.UNA is lost (RFC 6675 5 (b)), not again for the
 * same window (RFC 6582 "recover").  In recovery PRR decides how much
 * may go (t_prr_sndcnt) and tcp_output() sends what NextSeg() picks.
 * Returns false when no recovery is under way.
 */
static bool
tcp_sack_recovery(struct tcpcb *tp, uint32_t acked, uint32_t sackd)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	unsigned mss = tp->t_maxseg;
	uint32_t pipe, sndcnt, delivered = acked + sackd;
	bool entered = false;

	if (!(tp->t_flags & TF_FASTRECOVERY)) {
		if (tp->snd_max == tp->snd_una ||
		    (tp->t_dupacks < TCP_DUPTHRESH && !(tp->t_scbn > 0 &&
		    tcp_sack_islost(tp, tp->snd_una)) &&
		    !((tp->t_flags & TF_RACK) && tcp_rack_lost_any(tp))))
			return false;
		if (SEQ_LEQ(tp->snd_una, tp->snd_recover)) {
			tcp_dupacks_end(tp);	/* RFC 6582 3.2 step 2 */
			return false;
		}
		st->tcps_fastrexmit++;
		st->tcps_recovery++;
		st->tcps_sackrecovery++;
		tp->snd_recover = tp->snd_max;	/* RecoveryPoint */
		/* RFC 3168 6.1.2: one reduction a window, ECE or loss */
		if (!(tp->t_flags & TF_ECN_PERMIT) ||
		    !SEQ_LT(tp->snd_una, tp->snd_ecn_recover))
			tp->t_cc->cc_recovery(tp);
		if (tp->t_flags & TF_ECN_PERMIT)
			tp->t_flags |= TF_ECN_SND_CWR;
		tp->t_flags |= TF_FASTRECOVERY;
		tp->t_rtttime = 0;
		tp->snd_nxt = tp->snd_max;
		tp->t_highrxt = tp->snd_una;
		tp->t_sack_first = true;	/* RFC 6675 5 (4.3) */
		tp->t_rescue_set = false;
		tp->t_prr_recoverfs = tp->snd_max - tp->snd_una;
		tp->t_prr_delivered = 0;
		tp->t_prr_out = 0;
		entered = true;
		tcp_rack_stop(tp, TCP_RACK_PTO);
	}
	tp->t_prr_delivered += delivered;
	pipe = tcp_sack_pipe(tp);
	if (pipe > tp->snd_ssthresh) {
		/* RFC 6937 3: proportional to what was delivered */
		uint64_t due = ((uint64_t)tp->t_prr_delivered *
		    tp->snd_ssthresh + tp->t_prr_recoverfs - 1) /
		    tp->t_prr_recoverfs;

		sndcnt = due > tp->t_prr_out ? (uint32_t)(due - tp->t_prr_out) :
		    0;
	} else {
		/* PRR-SSRB: grow back to ssthresh, a segment ahead */
		uint32_t limit = tp->t_prr_delivered > tp->t_prr_out ?
		    tp->t_prr_delivered - tp->t_prr_out : 0;

		limit = MAX(limit, delivered) + mss;
		sndcnt = MIN(tp->snd_ssthresh - pipe, limit);
	}
	/* the fast retransmit goes whatever the arithmetic says */
	if (entered)
		sndcnt = MAX(sndcnt, mss);
	tp->t_prr_sndcnt = sndcnt;
	tp->snd_cwnd = pipe + sndcnt;
	(void)tcp_output(tp);
	return true;
}

void
tcp_sack_lost(struct tcpcb *tp)
{
	(void)tcp_sack_recovery(tp, 0, 0);
}

/*
 * The receiver's side of ECN (RFC 3168 6.1.3), for a segment found
 * acceptable: a CWR ends the echo; a CE mark on data inside the window
 * (6.1.5: marks outside it are ignored) starts it: ECE on every ACK until
 * a CWR arrives, the first of them sent at once so that the sender learns
 * of the congestion without the delayed-ACK wait.  CWR first: a segment
 * with both ends one episode and starts the next.
 */
static void
tcp_ecn_input(struct tcpcb *tp, const struct tcp_seg *seg)
{
	if (!(tp->t_flags & TF_ECN_PERMIT))
		return;
	if ((seg->flags0 & (TH_CWR | TH_SYN)) == TH_CWR)
		tp->t_flags &= ~TF_ECN_SND_ECE;
	if (seg->ecn == IPTOS_ECN_CE && seg->tlen > 0) {
		tcpstat_of(tp->t_ns)->tcps_ecn_ce++;
		tp->t_flags |= TF_ECN_SND_ECE | TF_ACKNOW;
	}
}

/*
 * An acceptable ACK with ECE, ECN agreed (RFC 3168 6.1.2): congestion
 * on the way to the peer, answered as a loss would be: ssthresh from
 * the algorithm (cc_recovery), cwnd down to it, and CWR on the next new
 * data.  At most once per window of data: not again until an ACK passes
 * SND.MAX as it was at the answer (snd_ecn_recover); not while a loss
 * recovery reduces for the same window (fast recovery, or the window
 * before a retransmission timeout: ACK =< recover); not for an old ACK
 * or with nothing in flight, as there is no window to reduce.
 */
static void
tcp_ecn_echo(struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);

	st->tcps_ecn_rcvece++;
	if (tp->snd_max == tp->snd_una || SEQ_LT(seg->ack, tp->snd_una) ||
	    (tp->t_flags & TF_FASTRECOVERY) ||
	    SEQ_LEQ(seg->ack, tp->snd_recover) ||
	    SEQ_LEQ(seg->ack, tp->snd_ecn_recover))
		return;
	st->tcps_ecn_ece++;
	tp->snd_ecn_recover = tp->snd_max;
	tp->t_cc->cc_recovery(tp);
	tp->snd_cwnd = tp->snd_ssthresh;
	tp->t_flags |= TF_ECN_SND_CWR;
}

/*
 * A duplicate ACK (RFC 5681 2): fast retransmit on the third (RFC 5681
 * 3.2, RFC 6582 3.2 step 2), window inflation after it, limited transmit
 * (RFC 3042) on the first two.  With SACK, RFC 6675 recovery instead of
 * NewReno's (sackd: bytes the ACK SACKed anew).
 */
static void
tcp_dupack(struct tcpcb *tp, const struct tcp_seg *seg, uint32_t sackd)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	unsigned mss = tp->t_maxseg;

	st->tcps_rcvdupack++;
	tp->t_dupacks++;
	if ((tp->t_flags & TF_SACK_PERMIT) && tcp_sack_recovery(tp, 0, sackd))
		return;
	if (tp->t_flags & TF_FASTRECOVERY) {
		/* RFC 6582 3.2 step 4: inflate by one segment */
		if (tp->snd_cwnd < ((uint32_t)TCP_MAXWIN << TCP_MAXWINSHIFT))
			tp->snd_cwnd += mss;
		(void)tcp_output(tp);
		return;
	}
	if (tp->t_dupacks == 3 && !(tp->t_flags & TF_SACK_PERMIT)) {
		tcp_seq onxt = tp->snd_nxt;

		/* RFC 6582 3.2 step 2: not again for the same window */
		if (SEQ_LEQ(seg->ack, tp->snd_recover)) {
			tcp_dupacks_end(tp);
			return;
		}
		st->tcps_fastrexmit++;
		st->tcps_recovery++;
		tp->snd_recover = tp->snd_max;
		/*
		 * RFC 3168 6.1.2: one reduction per window for losses and
		 * ECE together: none if the lost data went before an ECE
		 * answer; CWR on the first new data after it.
		 */
		if (!(tp->t_flags & TF_ECN_PERMIT) ||
		    !SEQ_LT(seg->ack, tp->snd_ecn_recover))
			tp->t_cc->cc_recovery(tp);
		if (tp->t_flags & TF_ECN_PERMIT)
			tp->t_flags |= TF_ECN_SND_CWR;
		tp->t_flags |= TF_FASTRECOVERY;
		tcp_timer_disarm(tp, TCPT_REXMT);
		tp->t_rtttime = 0;
		tp->snd_nxt = seg->ack;
		tp->snd_cwnd = mss;
		(void)tcp_output(tp);
		/* RFC 5681 3.2 step 3: cwnd = ssthresh + 3*SMSS */
		tp->snd_cwnd = tp->snd_ssthresh + 3 * mss;
		if (SEQ_GT(onxt, tp->snd_nxt))
			tp->snd_nxt = onxt;
		return;
	}
	if (tp->t_dupacks < 3) {
		/* RFC 3042: a new segment for each of the first two */
		uint32_t ocwnd = tp->snd_cwnd;
		tcp_seq omax = tp->snd_max;

		tp->snd_cwnd += (uint32_t)tp->t_dupacks * mss;
		(void)tcp_output(tp);
		tp->snd_cwnd = ocwnd;
		if (tp->snd_max != omax) {
			st->tcps_limitedxmit++;
			tp->t_ltbytes += tp->snd_max - omax;
		}
	}
}

/*
 * New data acknowledged: RTT, retransmission timer, congestion window,
 * the send buffer, NewReno's partial and full ACKs (RFC 6582 3.2 steps
 * 3 and 5).  Returns true when our FIN is acknowledged.
 */
static bool
tcp_newack(struct tcpcb *tp, const struct tcp_seg *seg, uint32_t sackd)
{
	struct netstack *ns = tp->t_ns;
	struct tcpstat *st = tcpstat_of(ns);
	struct socket *so = tp->t_inpcb->inp_socket;
	uint32_t acked = seg->ack - tp->snd_una;
	unsigned mss = tp->t_maxseg;
	bool finacked = false, partial = false;

	st->tcps_rcvackpack++;
	st->tcps_rcvackbyte += acked;
	tp->t_bytes_acked_total += acked;
	/* RTT (RFC 6298; RFC 7323 4.1 with timestamps, from any ACK) */
	if (tp->t_rtttime != 0 && SEQ_GT(seg->ack, tp->t_rtseq)) {
		tcp_xmit_timer(tp, tcp_rtt_elapsed(tp));
		tp->t_rtttime = 0;
	} else if (seg->to.to_ts_present && seg->to.to_tsecr != 0 &&
	    (tp->t_flags & TF_RCVD_TSTMP)) {
		uint32_t ms = tcp_now(ns) + tp->ts_offset - seg->to.to_tsecr;

		if (ms < (uint32_t)TCPTV_REXMTMAX)
			tcp_xmit_timer(tp, ms * 1000);
	}
	if (tp->t_flags & TF_FASTRECOVERY) {
		if (SEQ_LT(seg->ack, tp->snd_recover)) {
			partial = true;
			st->tcps_partialack++;
		} else {
			/* full ACK: deflate (RFC 6582 3.2 step 3) */
			tp->t_flags &= ~TF_FASTRECOVERY;
			tcp_dupacks_end(tp);
			tp->snd_una = seg->ack;
			tp->t_cc->cc_recovered(tp);
			/* RFC 6937 3: PRR ends with cwnd = ssthresh */
			if (tp->t_flags & TF_SACK_PERMIT)
				tp->snd_cwnd = tp->snd_ssthresh;
			if (tp->t_flags & TF_RACK)
				tcp_rack_recovered(tp);
		}
	} else {
		tcp_dupacks_end(tp);
		if (tp->t_tlp_noinc)
			tp->t_tlp_noinc = false;
		/* RFC 3168 6.1.2: no growth on an ECN-Echo ACK */
		else if (!(tp->t_flags & TF_ECN_PERMIT) ||
		    !(seg->flags0 & TH_ECE))
			tp->t_cc->cc_ack(tp, acked);
	}
	/* RFC 6298 5.2/5.3: stop when all is acked, else restart */
	if (seg->ack == tp->snd_max)
		tcp_timer_disarm(tp, TCPT_REXMT);
	else if (!tcp_timer_armed(tp, TCPT_PERSIST))
		tcp_timer_arm(tp, TCPT_REXMT,
		    tcp_rexmt_backoff(tp, tp->t_rxtshift));
	if (so != NULL) {
		if (acked > so->so_snd.sb_cc) {
			tp->snd_wnd -= MIN(tp->snd_wnd, so->so_snd.sb_cc);
			sbdrop(&so->so_snd, (int)so->so_snd.sb_cc);
			finacked = true;
		} else {
			sbdrop(&so->so_snd, (int)acked);
			tp->snd_wnd -= MIN(tp->snd_wnd, acked);
		}
		sowwakeup(so);
	} else {
		finacked = (tp->t_flags & TF_SENTFIN) &&
		    seg->ack == tp->snd_max;
	}
	tp->snd_una = seg->ack;
	tp->t_progress = tp->t_rcvtime;		/* TCP_USER_TIMEOUT */
	if (SEQ_LT(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	/*
	 * Drag the urgent pointer and the recovery points along behind
	 * SND.UNA: left behind, 2^31 bytes later they would compare as
	 * ahead of it again (a phantom URG; no fast retransmit; no answer
	 * to ECE).
	 */
	if (SEQ_LT(tp->snd_up, tp->snd_una))
		tp->snd_up = tp->snd_una;
	if (!(tp->t_flags & TF_FASTRECOVERY) &&
	    SEQ_LT(tp->snd_recover, tp->snd_una - 1))
		tp->snd_recover = tp->snd_una - 1;
	if (SEQ_LT(tp->snd_ecn_recover, tp->snd_una - 1))
		tp->snd_ecn_recover = tp->snd_una - 1;
	if (tp->t_flags & TF_SACK_PERMIT) {
		/* RFC 6675: partial ACKs feed PRR; SACKs may show a loss */
		(void)tcp_sack_recovery(tp, partial ? acked -
		    MIN(acked, tp->t_sack_trimmed) : 0, sackd);
	} else if (partial) {
		/* RFC 6582 3.2 step 5: resend the next hole, deflate */
		tcp_seq onxt = tp->snd_nxt;
		uint32_t ocwnd = tp->snd_cwnd;

		tp->snd_nxt = seg->ack;
		tp->snd_cwnd = mss;
		(void)tcp_output(tp);
		tp->snd_cwnd = ocwnd;
		if (SEQ_GT(onxt, tp->snd_nxt))
			tp->snd_nxt = onxt;
		tp->snd_cwnd -= MIN(tp->snd_cwnd, acked);
		if (acked >= mss)
			tp->snd_cwnd += mss;
	}
	return finacked && (tp->t_flags & TF_SENTFIN);
}

/*
 * The send window (RFC 9293 fifth step, ESTABLISHED), from the segment's
 * window tiwin (scaled unless a SYN).  SEG.SEQ as sent: an old segment
 * trimmed to RCV.NXT is still old; and only SND.UNA =< SEG.ACK (an old
 * ACK says nothing of now).  Returns whether it was taken.
 */
static bool
tcp_sndwnd_update(struct tcpcb *tp, const struct tcp_seg *seg, uint32_t tiwin)
{
	if (!(SEQ_GEQ(seg->ack, tp->snd_una) &&
	    (SEQ_LT(tp->snd_wl1, seg->seq0) || (tp->snd_wl1 == seg->seq0 &&
	    (SEQ_LT(tp->snd_wl2, seg->ack) || (tp->snd_wl2 == seg->ack &&
	    tiwin > tp->snd_wnd))))))
		return false;
	if (seg->tlen == 0 && tp->snd_wl2 == seg->ack && tiwin > tp->snd_wnd)
		tcpstat_of(tp->t_ns)->tcps_rcvwinupd++;
	tp->snd_wnd = tiwin;
	tp->snd_wl1 = seg->seq0;
	tp->snd_wl2 = seg->ack;
	tp->max_sndwnd = MAX(tp->max_sndwnd, tiwin);
	return true;
}

/*
 * Fifth step: the ACK field.  SYN-RECEIVED completes the handshake;
 * everywhere the ACK must lie in RFC 5961 5.2's window [SND.UNA -
 * MAX.SND.WND, SND.NXT]; then new data acked, duplicate ACKs, the send
 * window, and the closing transitions.
 */
static enum tcp_verdict
tcp_step_ack(struct tcpcb **tpp, struct tcp_seg *seg, bool *needoutput)
{
	struct tcpcb *tp = *tpp;
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	struct socket *so = tp->t_inpcb->inp_socket;
	uint32_t tiwin, sackd = 0;
	bool finacked = false, handshake = false;

	if (!(seg->flags & TH_ACK)) {
		st->tcps_noack++;
		return (tp->t_flags & TF_ACKNOW) ? TV_DROPAFTERACK : TV_DROP;
	}
	if (tp->t_state == TCPS_SYN_RECEIVED) {
		if (!SEQ_GT(seg->ack, tp->snd_una) ||
		    SEQ_GT(seg->ack, tp->snd_max)) {
			st->tcps_badack++;
			return TV_DROPWITHRESET;
		}
		tp->snd_una++;		/* our SYN */
		handshake = true;
		/*
		 * RFC 7323 2.2: the window of a SYN is not scaled (the
		 * peer's SYN-ACK of a simultaneous open, its SYN trimmed
		 * as old); SND.WL1 is the segment's sequence number as sent
		 */
		tp->snd_wnd = (seg->flags0 & TH_SYN) ? seg->win :
		    seg->win << tp->snd_scale;
		tp->max_sndwnd = MAX(tp->max_sndwnd, tp->snd_wnd);
		tp->snd_wl1 = seg->seq0;
		tp->snd_wl2 = seg->ack;
		if ((tp = tcp_established(tp, seg)) == NULL) {
			*tpp = NULL;
			return TV_DROP;
		}
		*tpp = tp;
		so = tp->t_inpcb->inp_socket;
		/*
		 * Data sent before the handshake completed (TCP Fast Open,
		 * either end) and not acked by this ACK: the timer that
		 * tcp_established() stopped runs for it again, and what the
		 * SYN-ACK's timeout held back goes now
		 */
		if (tp->snd_max != tp->snd_una && SEQ_LT(seg->ack, tp->snd_max)) {
			tcp_timer_arm(tp, TCPT_REXMT,
			    tcp_rexmt_backoff(tp, tp->t_rxtshift));
			*needoutput = true;
		}
		/* closed before it (TF_NEEDFIN): the FIN goes now */
		if (tp->t_state != TCPS_ESTABLISHED)
			*needoutput = true;
	}
	if (SEQ_GT(seg->ack, tp->snd_max)) {
		st->tcps_rcvacktoomuch++;
		return TV_DROPAFTERACK;
	}
	if (SEQ_LT(seg->ack, tp->snd_una - MAX(tp->max_sndwnd,
	    (uint32_t)tp->t_maxseg))) {
		st->tcps_rcvacktooold++;
		tcp_challenge_ack(tp);
		return TV_DROP;
	}
	tiwin = (seg->flags0 & TH_SYN) ? seg->win : seg->win << tp->snd_scale;
	if ((tp->t_flags & TF_SACK_PERMIT) && TCPS_HAVEESTABLISHED(tp->t_state)) {
		if (seg->to.to_nsacks > 0)
			st->tcps_rcvsack++;
		sackd = tcp_sack_update(tp, seg->to.to_sacks, seg->to.to_nsacks,
		    SEQ_GT(seg->ack, tp->snd_una) ? seg->ack : tp->snd_una);
		if (tp->t_flags & TF_RACK) {
			tcp_seq a = SEQ_GT(seg->ack, tp->snd_una) ? seg->ack :
			    tp->snd_una;

			(void)tcp_rack_ack(tp, a);
			tcp_rack_tlp_ack(tp, a);
		}
	}
	/* ECE on a SYN-ACK (simultaneous open) agrees, it echoes nothing */
	if ((tp->t_flags & TF_ECN_PERMIT) &&
	    (seg->flags0 & (TH_ECE | TH_SYN)) == TH_ECE)
		tcp_ecn_echo(tp, seg);
	if (SEQ_LEQ(seg->ack, tp->snd_una)) {
		/*
		 * RFC 5681 2 "duplicate ACK"; only while the retransmission
		 * timer runs (BSD): answers to zero-window probes are not.
		 * RFC 6675 2: with SACK, one that SACKs new data is too.
		 */
		bool dup = !handshake && seg->tlen0 == 0 &&
		    !(seg->flags0 & (TH_SYN | TH_FIN)) &&
		    tp->snd_max != tp->snd_una && seg->ack == tp->snd_una;

		/*
		 * With SACK in use (RFC 6675 2) a duplicate ACK is one that
		 * SACKs new data, whatever else it carries; one whose blocks
		 * say nothing new (a D-SACK) is not.
		 */
		if (dup && (sackd > 0 || (tiwin == tp->snd_wnd && tiwin != 0 &&
		    tcp_timer_armed(tp, TCPT_REXMT) &&
		    !((tp->t_flags & TF_SACK_PERMIT) &&
		    seg->to.to_nsacks > 0)))) {
			/*
			 * one with SACKs may move the window too (RFC 9293
			 * fifth step); recovery sends within the new one
			 */
			bool wupd = tcp_sndwnd_update(tp, seg, tiwin);

			tcp_dupack(tp, seg, sackd);
			if (wupd)
				(void)tcp_output(tp);
			return TV_DROP;
		}
		if (sackd > 0 && seg->ack == tp->snd_una &&
		    tp->snd_max != tp->snd_una) {
			/* data or a window with the SACKs: counted, kept */
			tcpstat_of(tp->t_ns)->tcps_rcvdupack++;
			tp->t_dupacks++;
			(void)tcp_sack_recovery(tp, 0, sackd);
		} else if (!(tp->t_flags & TF_FASTRECOVERY)) {
			tcp_dupacks_end(tp);
		}
	} else {
		finacked = tcp_newack(tp, seg, sackd);
		*needoutput = true;
		/* RFC 8985 7.2: new data acknowledged: the probe restarts */
		if (tp->t_flags & TF_RACK)
			tcp_rack_arm_pto(tp);
	}
	if (tcp_sndwnd_update(tp, seg, tiwin))
		*needoutput = true;
	switch (tp->t_state) {
	case TCPS_FIN_WAIT_1:
		if (!finacked)
			break;
		tcp_set_state(tp, TCPS_FIN_WAIT_2);
		/*
		 * closed by the user: the peer's FIN may never come (with
		 * TCP_LINGER2 -1 it goes at once, as Linux's, without a reset)
		 */
		if (so == NULL || so->so_closing) {
			if (so != NULL)
				soisdisconnected(so);
			tcp_timer_arm(tp, TCPT_2MSL, tcp_finwait2_time(tp));
		}
		break;
	case TCPS_CLOSING:
		if (finacked) {
			if (seg->tlen > 0)
				st->tcps_rcvafterfin++;
			/* the peer's FIN again (first step): ACK it, then wait */
			if (tp->t_flags & TF_ACKNOW)
				(void)tcp_output(tp);
			*tpp = tcp_timewait(tp);
			return TV_DROP;
		}
		break;
	case TCPS_LAST_ACK:
		if (finacked) {
			if (seg->tlen > 0)
				st->tcps_rcvafterfin++;
			if (tp->t_flags & TF_ACKNOW)
				(void)tcp_output(tp);
			*tpp = tcp_close(tp);
			return TV_DROP;
		}
		break;
	default:
		break;
	}
	return TV_CONTINUE;
}

/*
 * Sixth step: URG (RFC 9293 3.8.5 with RFC 6093: the pointer is the
 * sequence number after the urgent byte).  Pointer 0 cannot point past
 * anything: ignored and counted.
 */
static void
tcp_step_urg(struct tcpcb *tp, struct tcp_seg *seg)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	struct socket *so = tp->t_inpcb->inp_socket;

	if ((seg->flags & TH_URG) && !TCPS_HAVERCVDFIN(tp->t_state) &&
	    so != NULL && !(so->so_state & SS_CANTRCVMORE)) {
		if (seg->urp == 0) {
			st->tcps_urgzero++;
		} else if (SEQ_GT(seg->seq + seg->urp, tp->rcv_up)) {
			tp->rcv_up = seg->seq + seg->urp;
			/*
			 * The mark: the urgent byte's place in what the
			 * reader will see; reads stop there (BSD, Linux)
			 */
			so->so_oobmark = so->so_rcv.sb_cc +
			    (tp->rcv_up - 1 - tp->rcv_nxt);
			so->so_atmark = so->so_oobmark == 0;
			if (!(so->so_options & SOO_OOBINLINE)) {
				if (tp->t_flags & TF_HAVEURG)
					st->tcps_urgdrop++;	/* unread */
				tp->t_flags &= ~TF_HAVEURG;
				so->so_haveoob = false;
				tp->t_flags |= TF_RCVDURG;
			} else {
				/*
				 * Inline, the byte stays in the stream, but
				 * RFC 9293 MUST-32 still wants the user told:
				 * POLLPRI until it is read.
				 */
				so->so_haveoob = true;
				sorwakeup(so);
			}
		}
	}
	if (SEQ_GT(tp->rcv_nxt, tp->rcv_up))
		tp->rcv_up = tp->rcv_nxt;
}

/*
 * Seventh step: the text.  In order: to the socket, with a delayed ACK
 * for every other segment (RFC 9293 3.8.6.3, RFC 5681 4.2); out of
 * order: queued, and an immediate duplicate ACK (RFC 5681 4.2).  Returns
 * true when a FIN became in order with it.
 */
static bool
tcp_step_data(struct tcpcb *tp, struct tcp_seg *seg, bool *wakeup)
{
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	bool fin = (seg->flags & TH_FIN) != 0;

	if (TCPS_HAVERCVDFIN(tp->t_state) || tp->t_state < TCPS_SYN_RECEIVED) {
		/* the peer has said all: text ignored (seventh step) */
		if (seg->tlen > 0)
			st->tcps_rcvafterfin++;
		return false;
	}
	if (seg->tlen == 0 && !fin)
		return false;
	if (seg->seq == tp->rcv_nxt && tp->t_segq == NULL) {
		if (seg->tlen > 0) {
			int len = seg->tlen;

			/*
			 * every second full segment (one LRO frame may hold
			 * many); every one with TCP_QUICKACK
			 */
			if ((tp->t_flags & (TF_DELACK | TF_QUICKACK)) ||
			    len > (int)tp->t_ourmss) {
				tp->t_flags |= TF_ACKNOW;
			} else {
				tp->t_flags |= TF_DELACK;
				tcp_timer_arm(tp, TCPT_DELACK, TCPTV_DELACK);
			}
			st->tcps_rcvpack++;
			st->tcps_rcvbyte += (uint64_t)len;
			tp->rcv_nxt += (uint32_t)len;
			tcp_deliver(tp, tcp_seg_payload(seg), seg->seq, len);
			*wakeup = true;
			if (tp->t_rsackn > 0)
				tcp_sack_rcv_trim(tp);
		}
		return fin;
	}
	tcp_reass(tp, seg);
	tp->t_flags |= TF_ACKNOW;
	if (tp->t_segq != NULL && TCP_REASS_SEQ(tp->t_segq) == tp->rcv_nxt) {
		fin = tcp_reass_pull(tp);
		*wakeup = true;
		tcp_sack_rcv_trim(tp);
		return fin;
	}
	return false;
}

/* Eighth step: the FIN, once in order. */
static struct tcpcb *
tcp_step_fin(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;

	if (!TCPS_HAVERCVDFIN(tp->t_state)) {
		if (so != NULL)
			socantrcvmore(so);
		tp->rcv_nxt++;
	}
	if (tp->t_state == TCPS_ESTABLISHED) {
		tcp_set_state(tp, TCPS_CLOSE_WAIT);
		/* the FIN of the close() after reading the end may carry it */
		tcp_ack_pass(tp);
		return tp;
	}
	tp->t_flags |= TF_ACKNOW;
	switch (tp->t_state) {
	case TCPS_SYN_RECEIVED:
		tcp_set_state(tp, TCPS_CLOSE_WAIT);
		break;
	case TCPS_FIN_WAIT_1:
		/* our FIN is not acked, or we would be in FIN-WAIT-2 */
		tcp_set_state(tp, TCPS_CLOSING);
		break;
	case TCPS_FIN_WAIT_2:
		tp = tcp_timewait(tp);
		break;
	case TCPS_TIME_WAIT:
		tcp_timer_arm(tp, TCPT_2MSL, 2 * TCPTV_MSL);
		break;
	default:
		break;		/* CLOSE-WAIT, CLOSING, LAST-ACK: stay */
	}
	return tp;
}

/* Steps six to eight, and the output they call for. */
static enum tcp_verdict
tcp_input_rest(struct tcpcb **tpp, struct tcp_seg *seg)
{
	struct tcpcb *tp = *tpp;
	struct socket *so;
	bool wakeup = false;

	tcp_step_urg(tp, seg);
	if (tcp_step_data(tp, seg, &wakeup))
		tp = *tpp = tcp_step_fin(tp);
	if (tp == NULL)
		return TV_DROP;
	so = tp->t_inpcb->inp_socket;
	if (wakeup && so != NULL)
		sorwakeup(so);
	/* TCP_DEFER_ACCEPT: something to read (or the end): acceptable */
	if ((tp->t_flags & TF_DEFERRED) && so != NULL &&
	    (so->so_rcv.sb_cc > 0 || so->so_haveoob ||
	    (so->so_state & SS_CANTRCVMORE)))
		(void)tcp_defer_end(tp);
	if (tp->t_flags & TF_ACKNOW)
		(void)tcp_output(tp);
	return seg->m == NULL ? TV_DONE : TV_DROP;
}

static enum tcp_verdict
tcp_input_sync(struct tcpcb **tpp, struct tcp_seg *seg)
{
	struct tcpcb *tp = *tpp;
	struct tcpstat *st = tcpstat_of(tp->t_ns);
	struct socket *so = tp->t_inpcb->inp_socket;
	bool needoutput = false;
	enum tcp_verdict v;

	/* a retransmitted SYN for our SYN-ACK: send it again */
	if (tp->t_state == TCPS_SYN_RECEIVED &&
	    (seg->flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN &&
	    seg->seq == tp->irs) {
		st->tcps_rcvduppack++;
		/* answered as it asks now: it may come without ECN setup */
		tcp_ecn_syn(tp, seg);
		tp->snd_nxt = tp->iss;
		tp->t_flags |= TF_ACKNOW;
		(void)tcp_output(tp);
		return TV_DROP;
	}
	if ((v = tcp_paws(tp, seg)) != TV_CONTINUE)
		return v;
	if (seg->flags & TH_RST) {
		v = tcp_step_rst(tp, seg);
		*tpp = NULL;	/* perhaps closed: the caller must not use it */
		return v;
	}
	if ((v = tcp_step_seq(tp, seg)) != TV_CONTINUE)
		return v;
	/*
	 * acceptable: the peer is alive (keepalive and persist idle time);
	 * the keepalive probes out were answered (RFC 1122 4.2.3.6 counts
	 * the unanswered ones; Linux's tcp_ack() resets its probes_out)
	 */
	tp->t_rcvtime = kern_clock_ticks(tp->t_ns->ns_kernel);
	tp->t_keepprobes = 0;
	if (seg->flags & TH_SYN) {
		v = tcp_step_syn(tp, seg);
		*tpp = NULL;
		return v;
	}
	/* data for a connection the user closed: RST (RFC 9293 3.10.4) */
	if (so != NULL && so->so_closing && seg->tlen > 0 &&
	    tp->t_state > TCPS_CLOSE_WAIT) {
		st->tcps_rcvafterclose++;
		*tpp = tcp_close(tp);
		return TV_DROPWITHRESET;
	}
	tcp_ecn_input(tp, seg);
	tcp_update_ts_recent(tp, seg);
	v = tcp_step_ack(tpp, seg, &needoutput);
	if ((tp = *tpp) == NULL || v != TV_CONTINUE)
		return v;
	if (tp->t_state == TCPS_TIME_WAIT && (seg->flags0 & TH_FIN)) {
		/* the peer resent its FIN: ACK it, wait 2 MSL again */
		tcp_timer_arm(tp, TCPT_2MSL, 2 * TCPTV_MSL);
		tp->t_flags |= TF_ACKNOW;
	}
	v = tcp_input_rest(tpp, seg);
	if ((tp = *tpp) != NULL && needoutput)
		(void)tcp_output(tp);
	return v;
}

/* ---- the named exits ---- */

/* dropwithreset: RFC 9293 3.10.7.1 "reset generation". */
static void
tcp_reset_reply(struct netstack *ns, const struct tcp_seg *seg)
{
	if (seg->flags0 & TH_RST)
		return;		/* never an RST for an RST */
	if (seg->flags0 & TH_ACK) {
		tcp_respond(ns, NULL, seg->dst, seg->dport, seg->src,
		    seg->sport, seg->ack, 0, TH_RST, 0, NULL);
	} else {
		tcp_seq ack = seg->seq + (uint32_t)seg->tlen0 +
		    ((seg->flags0 & TH_SYN) ? 1 : 0) +
		    ((seg->flags0 & TH_FIN) ? 1 : 0);

		tcp_respond(ns, NULL, seg->dst, seg->dport, seg->src,
		    seg->sport, 0, ack, TH_RST | TH_ACK, 0, NULL);
	}
}

static void
tcp_input_finish(struct netstack *ns, struct tcpcb *tp, struct tcp_seg *seg,
    enum tcp_verdict v)
{
	switch (v) {
	case TV_DROPAFTERACK:
		if (tp != NULL && !(seg->flags0 & TH_RST)) {
			tp->t_flags |= TF_ACKNOW;
			(void)tcp_output(tp);
		}
		break;
	case TV_DROPWITHRESET:
		tcp_reset_reply(ns, seg);
		break;
	default:
		break;
	}
	if (seg->m != NULL)
		m_freem(seg->m);
}

void
tcp_input(struct mbuf *m, int hlen)
{
	struct netstack *ns = curlwp->l_kernel->k_net;
	struct tcpstat *st = tcpstat_of(ns);
	struct inpcbtable *tbl = ns->ns_tcp->tcp_tbl;
	struct tcp_seg seg;
	struct tcpcb *tp = NULL;
	struct inpcb *inp;
	enum tcp_verdict v;

	st->tcps_rcvtotal++;
	seg.iss_floor_set = false;
	if (!tcp_input_validate(ns, m, hlen, &seg))
		return;
	inp = in_pcblookup_connect(tbl, seg.src, seg.sport, seg.dst,
	    seg.dport, seg.ifindex);
	if (inp == NULL)
		inp = in_pcblookup_bind_flow(tbl, seg.dst, seg.dport,
		    seg.ifindex, tcp_inp_listening, seg.src, seg.sport);
	if (inp == NULL || (tp = intotcpcb(inp)) == NULL ||
	    tp->t_state == TCPS_CLOSED) {
		/* RFC 9293 3.10.7.1: no connection: RST */
		st->tcps_noport++;
		tcp_input_finish(ns, NULL, &seg, TV_DROPWITHRESET);
		return;
	}
	if (tp->t_state == TCPS_TIME_WAIT &&
	    (seg.flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN) {
		struct tcpcb *ltp;

		if (tcp_timewait_reuse(tp, &seg, &ltp)) {
			tp = NULL;	/* a SYN: no cookie to return */
			if (ltp != NULL)
				v = tcp_input_listen(ltp, &seg, &tp);
			else {
				st->tcps_noport++;
				v = TV_DROPWITHRESET;
			}
			tcp_input_finish(ns, tp, &seg, v);
			return;
		}
	}
	switch (tp->t_state) {
	case TCPS_LISTEN:
		/* tp becomes the connection a returned cookie made, or NULL */
		v = tcp_input_listen(tp, &seg, &tp);
		break;
	case TCPS_SYN_SENT:
		tp->t_rcvtime = kern_clock_ticks(ns->ns_kernel);
		v = tcp_input_synsent(tp, &seg);
		tp = NULL;	/* the exits below only ACK or RST */
		break;
	default:
		v = tcp_input_sync(&tp, &seg);
		break;
	}
	tcp_input_finish(ns, tp, &seg, v);
}
