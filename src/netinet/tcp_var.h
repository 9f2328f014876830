/*
 * tcp_var.h -- the TCP control block, statistics, congestion control
 * interface and the entry points shared by the tcp_*.c files.
 *
 * (ip_deliver() ->) tcp_input()                       tcp_input.c
 * (pr_send(), timers, tcp_input() ->) tcp_output()    tcp_output.c
 * (callouts ->) tcp_timer_*()                          tcp_timer.c
 * tcp_newtcpcb(), tcp_close(), tcp_drop(), tcp_respond(), ISNs, ICMP
 *                                                      tcp_subr.c
 * the protocol switch and TCP socket options           tcp_usrreq.c
 * CUBIC, NewReno and the algorithm table               tcp_cc.c
 * SACK blocks and the scoreboard                       tcp_sack.c
 * RACK-TLP: transmit times, time-based loss, probes    tcp_rack.c
 * SYN cookies (RFC 4987)                               tcp_syncookie.c
 *
 * Locking: every field is under the instance's net lock (ns_lock) [N],
 * except [I] (set at creation).
 *
 * Sequence space (RFC 9293 3.3.1):
 *   SND.UNA = snd_una  SND.NXT = snd_nxt  SND.WND = snd_wnd
 *   SND.UP = snd_up  SND.WL1 = snd_wl1  SND.WL2 = snd_wl2  ISS = iss
 *   RCV.NXT = rcv_nxt  RCV.WND = rcv_wnd  RCV.UP = rcv_up  IRS = irs
 * snd_max is the highest sequence number sent (snd_nxt goes back to
 * snd_una on a retransmission timeout, snd_max does not).
 */
#ifndef NETINET_TCP_VAR_H
#define NETINET_TCP_VAR_H

#include "kern/libkern.h"
#include "kern/callout.h"
#include "kern/list.h"
#include "kern/mbuf.h"
#include "netinet/in.h"
#include "netinet/ip.h"
#include "netinet/tcp.h"
#include "netinet/tcp_fsm.h"
#include "netinet/tcp_seq.h"
#include "netinet/tcp_timer.h"

struct netstack;
struct inpcb;
struct socket;
struct tcpcb;

/*
 * A congestion control algorithm (RFC 5681 and its successors).  tcp_input
 * runs loss detection and recovery (NewReno, RFC 6582); the algorithm
 * decides the window:
 *   cc_init         connection established: the initial window is set
 *                   already (RFC 6928); set up private state
 *   cc_ack          acked bytes of new data arrived outside recovery:
 *                   grow snd_cwnd (slow start or congestion avoidance)
 *   cc_recovery     loss detected by duplicate ACKs: set snd_ssthresh
 *                   (and snd_cwnd for the start of recovery)
 *   cc_recovered    recovery ended with a full ACK: deflate snd_cwnd
 *   cc_timeout      retransmission timeout: snd_ssthresh, snd_cwnd = LW
 *   cc_idle         sending restarts after an idle period (RFC 5681 4.1)
 */
struct tcp_cc {
	const char *cc_name;
	void (*cc_init)(struct tcpcb *);
	void (*cc_ack)(struct tcpcb *, uint32_t acked);
	void (*cc_recovery)(struct tcpcb *);
	void (*cc_recovered)(struct tcpcb *);
	void (*cc_timeout)(struct tcpcb *);
	void (*cc_idle)(struct tcpcb *);
};

extern const struct tcp_cc tcp_cc_newreno;
extern const struct tcp_cc tcp_cc_cubic;	/* RFC 9438, the default */
/* tcp_cc_find: the algorithm called name, or NULL */
const struct tcp_cc *tcp_cc_find(const char *name);
/* tcp_cubic_cbrt: floor of the cube root of x (CUBIC's K) */
uint32_t tcp_cubic_cbrt(uint64_t x);

/* t_flags */
#define TF_ACKNOW 0x00000001	/* ACK at once */
#define TF_DELACK 0x00000002	/* ACK delayed */
#define TF_NODELAY 0x00000004	/* TCP_NODELAY: no Nagle */
#define TF_NOOPT 0x00000008	/* send no options */
#define TF_SENTFIN 0x00000010	/* a FIN has been sent */
#define TF_REQ_SCALE 0x00000020	/* we ask for window scaling */
#define TF_RCVD_SCALE 0x00000040	/* the peer offered it */
#define TF_REQ_TSTMP 0x00000080	/* we ask for timestamps */
#define TF_RCVD_TSTMP 0x00000100	/* the peer offered them */
#define TF_FASTRECOVERY 0x00000200	/* NewReno fast recovery */
#define TF_CORK 0x00000400	/* TCP_CORK: no partial segments */
#define TF_NEEDFIN 0x00000800	/* send a FIN once the data is out */
#define TF_RCVD_MSS 0x00001000	/* the peer's SYN had an MSS option */
#define TF_PUSH 0x00002000	/* this call: send what is left (uncork) */
#define TF_FORCEDATA 0x00004000	/* send one byte into a zero window */
#define TF_HAVEURG 0x00008000	/* urgent byte t_iobc is waiting */
#define TF_RCVDURG 0x00010000	/* urgent pointer seen, byte not yet */
#define TF_DEAD 0x00040000	/* tcp_close() under way: unreachable */
#define TF_REQ_SACK 0x00080000	/* we offer SACK-permitted */
#define TF_SACK_PERMIT 0x00100000	/* both offered: SACK in use */
#define TF_REQ_ECN 0x00200000	/* we ask for (or agree to) ECN */
#define TF_ECN_PERMIT 0x00400000	/* ECN agreed (RFC 3168 6.1.1) */
#define TF_ECN_SND_ECE 0x00800000	/* CE seen: ECE on every ACK */
#define TF_ECN_SND_CWR 0x01000000	/* window reduced: CWR on the next data */
#define TF_RACK 0x02000000	/* RACK-TLP loss detection (tcp_rack.c) */
#define TF_QUICKACK 0x04000000	/* TCP_QUICKACK: no delayed ACKs */
#define TF_DEFERRED 0x08000000	/* TCP_DEFER_ACCEPT: not yet acceptable */
#define TF_TFO_COOKIE 0x00020000	/* the SYN-ACK carries our TFO cookie */
#define TF_TFO_PASSIVE 0x10000000	/* TFO: took the SYN's data, may send
					   before the handshake completes */
#define TF_TFO_ACTIVE 0x20000000	/* MSG_FASTOPEN: the SYN asks for TFO */
#define TF_TFO_SYNDATA 0x40000000	/* our SYN carried t_tfo_synlen bytes */

/* A SACK block (RFC 2018 3): [start, end) */
struct tcp_sackblk {
	tcp_seq start;
	tcp_seq end;
};

#define TCPOLEN_SACK 8			/* one block */
#define TCP_SACK_MAXBLKS 4		/* blocks in one option (TCP_MAXOLEN) */
#define TCP_SCB_MAX 32			/* ranges in a sender's scoreboard */
#define TCP_DUPTHRESH 3			/* RFC 6675 DupThresh */

/* What tcp_rack.c keeps of one transmission (RFC 8985 "segment"). */
struct tcp_rec {
	tcp_seq start;
	tcp_seq end;
	uint64_t xmit_ns;		/* the last time it left */
	uint8_t flags;			/* TR_* */
};
#define TR_SACKED 0x01
#define TR_RXT 0x02			/* resent: xmit_ns is the resend's */
#define TR_LOST 0x04			/* lost, not resent since */
#define TCP_REC_MAX 8192		/* records per connection */
#define TCP_RACK_MEM_MAX (64u << 20)	/* bytes of records per instance */
#define TCP_RACK_REO 1			/* t_rack_timer: reordering window */
#define TCP_RACK_PTO 2			/* ... tail loss probe */

/* tcp_sack_nextseg() */
#define TCP_NEXT_NONE 0
#define TCP_NEXT_REXMT 1
#define TCP_NEXT_NEW 2
#define TCP_NEXT_RESCUE 3

struct tcpcb {
	struct inpcb *t_inpcb;		/* [I] */
	struct netstack *t_ns;		/* [I] */
	int t_state;			/* TCPS_* */
	unsigned t_flags;		/* TF_* */
	callout_t t_timer[TCPT_NTIMERS];
	uint64_t t_due[TCPT_NTIMERS];	/* expiry tick, 0: disarmed */
	uint64_t t_calloutdue[TCPT_NTIMERS];	/* tick the callout is set for */
	int t_rxtshift;			/* retransmissions of the head so far */
	int t_rxtcur;			/* current RTO, ticks */
	int t_dupacks;			/* consecutive duplicate ACKs */
	uint32_t t_ltbytes;		/* sent by limited transmit since */
	int t_softerror;		/* an ICMP error, reported on timeout */
	unsigned t_maxseg;		/* send MSS: largest segment payload */
	unsigned t_ourmss;		/* the MSS we offered */
	unsigned t_peermss;		/* the MSS the peer offered */
	unsigned t_usermss;		/* TCP_MAXSEG, 0: none */
	unsigned t_tsomax;		/* TSO: payload per send, 0: no TSO */
	unsigned t_keepidle;		/* ticks */
	unsigned t_keepintvl;
	unsigned t_keepcnt;
	unsigned t_keepprobes;		/* unanswered keepalive probes */
	unsigned t_persistprobes;	/* unanswered zero-window probes */
	unsigned t_usertimeo;		/* TCP_USER_TIMEOUT, ticks; 0: none */
	unsigned t_deferaccept;		/* listener: TCP_DEFER_ACCEPT, ticks */
	unsigned t_tfo_qlen;		/* listener: TCP_FASTOPEN, 0: off */
	uint32_t t_window_clamp;	/* TCP_WINDOW_CLAMP: the most window
					   to offer, 0: the buffer's */
	unsigned t_tfo_synlen;		/* TF_TFO_SYNDATA: bytes in our SYN */
	bool t_tfo_connect;		/* TCP_FASTOPEN_CONNECT */
	uint8_t t_synretries;		/* TCP_SYNCNT; 0: TCP_SYNRXTSHIFT */
	int t_linger2;			/* TCP_LINGER2, ticks an orphan stays in
					   FIN-WAIT-2; 0: TCPTV_FINWAIT2; < 0:
					   none */
	uint64_t t_progress;		/* tick the retransmission timer
					   started, or SND.UNA last moved */
	uint64_t t_persiststart;	/* tick the persist timer began */

	/* send sequence variables */
	tcp_seq snd_una;
	tcp_seq snd_nxt;
	tcp_seq snd_max;
	tcp_seq snd_up;
	tcp_seq snd_wl1;
	tcp_seq snd_wl2;
	tcp_seq iss;
	uint32_t snd_wnd;		/* bytes, scaled */
	uint32_t max_sndwnd;		/* largest window the peer offered */
	/* receive sequence variables */
	tcp_seq rcv_nxt;
	tcp_seq rcv_adv;		/* rcv_nxt + the window advertised */
	tcp_seq rcv_up;
	tcp_seq irs;
	uint32_t rcv_wnd;

	/* congestion control (RFC 5681, RFC 6582) */
	const struct tcp_cc *t_cc;
	uint32_t snd_cwnd;
	uint32_t snd_ssthresh;
	tcp_seq snd_recover;		/* RFC 6582 "recover" */
	tcp_seq snd_ecn_recover;	/* SND.MAX at the last ECE response:
					 * none again until an ACK passes it */
	uint32_t t_bytes_acked;		/* RFC 3465 byte counting in CA */
	/*
	 * CUBIC's own (RFC 9438 4.1.2; tcp_cc.c), in bytes and the
	 * instance clock's ns; set up by cc_init, used by no one else.
	 */
	uint64_t t_cub_epoch;		/* t_epoch; 0: no CA stage under way */
	uint64_t t_cub_lastack;		/* time of the last new ACK */
	uint64_t t_cub_west;		/* W_est, << 16 (a byte's fraction) */
	uint32_t t_cub_wmax;		/* W_max; 0: none (after an RTO) */
	uint32_t t_cub_prior;		/* cwnd_prior */
	uint32_t t_cub_k;		/* K, ms */
	uint32_t t_cub_frac;		/* increase below a byte, 1/65536 */

	/* round-trip time (RFC 6298), microseconds */
	uint64_t t_rtttime;		/* ns the timed segment left, 0: none */
	tcp_seq t_rtseq;		/* its sequence number */
	uint32_t t_srtt;		/* SRTT, 0: no sample yet */
	uint32_t t_rttvar;		/* RTTVAR */
	uint32_t t_rttupdated;		/* samples so far */

	/* options (RFC 7323) */
	uint8_t snd_scale;		/* the peer's shift for our sends */
	uint8_t rcv_scale;		/* our shift for what we receive */
	uint8_t request_r_scale;	/* the shift we offer */
	uint32_t ts_recent;		/* TS.Recent */
	uint64_t ts_recent_age;		/* tick TS.Recent was set */
	uint32_t ts_offset;		/* added to our clock for TSval */
	tcp_seq last_ack_sent;		/* Last.ACK.sent */

	/* urgent data (RFC 9293 3.8.5; RFC 6093) */
	uint8_t t_iobc;			/* the out-of-band byte */

	/* out-of-order segments, sorted by sequence, no overlaps */
	struct mbuf *t_segq;		/* m_nextpkt list of segments */
	struct mbuf *t_segqtail;	/* its last, NULL when empty */
	unsigned t_segqlen;		/* segments held */

	/*
	 * SACK (RFC 2018, RFC 2883): the receiver's blocks to report, most
	 * recent first, and a D-SACK to report once; the sender's
	 * scoreboard, SACKed ranges above SND.UNA, sorted and disjoint.
	 */
	struct tcp_sackblk t_rsack[TCP_SACK_MAXBLKS];
	uint8_t t_rsackn;
	bool t_dsack_pending;
	struct tcp_sackblk t_dsack;
	uint8_t t_scbn;
	struct tcp_sackblk t_scb[TCP_SCB_MAX];
	uint32_t t_sacked;		/* bytes in t_scb */
	uint32_t t_sack_trimmed;	/* SACKed bytes the last ACK covered */
	tcp_seq t_rxtmax;		/* end of the highest retransmission */
	/* SACK loss recovery (RFC 6675) with PRR (RFC 6937) */
	tcp_seq t_highrxt;		/* HighRxt (exclusive end) */
	tcp_seq t_rescuerxt;		/* RescueRxt */
	bool t_rescue_set;
	bool t_sack_first;		/* HighACK + 1 not resent yet */
	uint32_t t_prr_recoverfs;	/* RecoverFS */
	uint32_t t_prr_delivered;	/* prr_delivered */
	uint32_t t_prr_out;		/* prr_out */
	uint32_t t_prr_sndcnt;		/* bytes PRR lets go now */

	/* RACK-TLP (RFC 8985, tcp_rack.c) */
	struct tcp_rec *t_rec;		/* [SND.UNA, SND.MAX), in order */
	uint32_t t_nrec;
	uint32_t t_caprec;
	uint64_t t_rack_stamp;		/* the last transmit stamp given */
	uint64_t t_rack_xmit;		/* RACK.xmit_ts, ns */
	tcp_seq t_rack_end;		/* RACK.end_seq */
	uint64_t t_rack_rtt;		/* RACK.rtt, ns */
	uint64_t t_rack_minrtt;		/* RACK.min_RTT, ns, 0: none */
	bool t_rack_reord;		/* RACK.reordering_seen */
	uint8_t t_rack_reo_inc;		/* RACK.reo_wnd_mult - 1 */
	uint8_t t_rack_reo_persist;	/* RACK.reo_wnd_persist */
	bool t_rack_dsack;		/* this ACK carries a D-SACK block */
	bool t_rack_dsack_round_set;	/* RACK.dsack_round is set ... */
	tcp_seq t_rack_dsack_round;	/* ... to this */
	bool t_rack_rtorec;		/* in RTO recovery, to snd_recover */
	uint8_t t_rack_timer;		/* TCPT_RACK is: TCP_RACK_* or 0 */
	bool t_tlp_end_set;		/* a probe is out: TLP.end_seq */
	bool t_tlp_rxt;			/* ... and it was a resend */
	bool t_tlp_dsacked;		/* ... reported twice (D-SACK) */
	bool t_tlp_noinc;		/* the ACK ending it does not grow cwnd */
	tcp_seq t_tlp_end;

	/* RFC 5961 challenge ACK rate limit */
	uint64_t t_challenge_ns;	/* start of the current second */
	unsigned t_challenge_cnt;

	/* on ns_ackpass: an ACK held for the next poll pass (netstack.h) */
	struct list_node t_ackpass;

	/* SYN flood defence (RFC 4987) */
	bool t_syncache;		/* an embryo, in tcps_syncache */
	uint64_t t_sc_period;		/* listener: last cookie period+1 */

	/* for TCP_INFO and counters */
	uint64_t t_rcvtime;		/* tick of the last segment in */
	uint64_t t_sndtime;		/* tick of the last data out */
	uint64_t t_bytes_acked_total;
	uint64_t t_bytes_rcvd_total;
	uint32_t t_total_retrans;
};

#define intotcpcb(inp) ((struct tcpcb *)(inp)->inp_ppcb)
#define sototcpcb(so) (intotcpcb((struct inpcb *)(so)->so_pcb))

/*
 * Statistics, the `netstat -s` TCP set: every drop and every unusual
 * event has its counter (rump_stat_get("tcp.<name>")).
 */
struct tcpstat {
	uint64_t tcps_connattempt;	/* connect() calls: SYN sent */
	uint64_t tcps_accepts;		/* connections accepted (SYN in) */
	uint64_t tcps_connects;		/* connections established */
	uint64_t tcps_drops;		/* established connections dropped */
	uint64_t tcps_conndrops;	/* embryonic connections dropped */
	uint64_t tcps_closed;		/* connections freed */
	uint64_t tcps_segstimed;	/* segments timed for RTT */
	uint64_t tcps_rttupdated;	/* RTT samples */
	uint64_t tcps_delack;		/* delayed ACKs sent */
	uint64_t tcps_timeoutdrop;	/* dropped by retransmission timeout */
	uint64_t tcps_rexmttimeo;	/* retransmission timeouts */
	uint64_t tcps_persisttimeo;	/* persist timeouts */
	uint64_t tcps_keeptimeo;	/* keepalive timeouts */
	uint64_t tcps_keepprobe;	/* keepalive probes sent */
	uint64_t tcps_keepdrops;	/* dropped by keepalive */
	uint64_t tcps_sndtotal;		/* segments sent */
	uint64_t tcps_sndpack;		/* data segments sent */
	uint64_t tcps_sndbyte;		/* data bytes sent */
	uint64_t tcps_sndrexmitpack;	/* data segments retransmitted */
	uint64_t tcps_sndrexmitbyte;
	uint64_t tcps_sndacks;		/* pure ACKs */
	uint64_t tcps_sndprobe;		/* window probes */
	uint64_t tcps_sndurg;		/* segments with URG */
	uint64_t tcps_sndwinup;		/* window updates */
	uint64_t tcps_ackpass;		/* ACKs held for the next poll pass */
	uint64_t tcps_ackpassout;	/* ... that the pass sent alone */
	uint64_t tcps_sndctrl;		/* SYN, FIN, RST only */
	uint64_t tcps_sndrst;		/* RSTs sent */
	uint64_t tcps_nobufs;		/* no mbuf for a segment */
	uint64_t tcps_rcvtotal;		/* segments received */
	uint64_t tcps_rcvpack;		/* in-sequence data segments */
	uint64_t tcps_rcvbyte;
	uint64_t tcps_rcvbadsum;	/* checksum wrong */
	uint64_t tcps_rcvbadoff;	/* data offset < 5 or past the segment */
	uint64_t tcps_rcvshort;		/* shorter than a TCP header */
	uint64_t tcps_rcvbadopt;	/* malformed option list: dropped */
	uint64_t tcps_rcvoptignored;	/* known option, wrong length: ignored */
	uint64_t tcps_rcvbadaddr;	/* broadcast/multicast endpoint */
	uint64_t tcps_rcvduppack;	/* entirely duplicate data */
	uint64_t tcps_rcvdupbyte;
	uint64_t tcps_rcvpartduppack;	/* partly duplicate */
	uint64_t tcps_rcvpartdupbyte;
	uint64_t tcps_rcvoopack;	/* out of order, queued */
	uint64_t tcps_rcvoobyte;
	uint64_t tcps_rcvreassfull;	/* out of order, queue full: dropped */
	uint64_t tcps_rcvreassmem;	/* ... all queues of the instance
					   full (tcp_reass_max): dropped */
	uint64_t tcps_rcvpackafterwin;	/* data beyond the window */
	uint64_t tcps_rcvbyteafterwin;
	uint64_t tcps_rcvafterclose;	/* data after the user closed */
	uint64_t tcps_rcvafterfin;	/* data after the peer's FIN: ignored */
	uint64_t tcps_rcvwinprobe;	/* zero-window probes received */
	uint64_t tcps_rcvdupack;	/* duplicate ACKs */
	uint64_t tcps_rcvacktoomuch;	/* ACK for data not sent */
	uint64_t tcps_rcvacktooold;	/* ACK below the RFC 5961 window */
	uint64_t tcps_rcvackpack;	/* ACKs of new data */
	uint64_t tcps_rcvackbyte;
	uint64_t tcps_rcvwinupd;	/* window updates */
	uint64_t tcps_pawsdrop;		/* PAWS rejections */
	uint64_t tcps_persistdrop;	/* dropped in persist */
	uint64_t tcps_noport;		/* no socket: RST sent */
	uint64_t tcps_listendrop;	/* SYN dropped: accept queue full */
	uint64_t tcps_deferred;		/* accept deferred until data came */
	uint64_t tcps_defertimeo;	/* ... or TCP_DEFER_ACCEPT ran out */
	/* TCP Fast Open (RFC 7413) */
	uint64_t tcps_tfo_cookiereq;	/* SYNs asking for a cookie */
	uint64_t tcps_tfo_cookiesent;	/* SYN-ACKs with our cookie */
	uint64_t tcps_tfo_accepted;	/* SYNs whose data was taken */
	uint64_t tcps_tfo_badcookie;	/* SYNs with a cookie not ours */
	uint64_t tcps_tfo_qfull;	/* valid, but TCP_FASTOPEN's queue full */
	uint64_t tcps_tfo_syndata;	/* SYNs we sent with data */
	uint64_t tcps_tfo_synreq;	/* SYNs we sent asking for a cookie */
	uint64_t tcps_tfo_cookierecv;	/* cookies a SYN-ACK gave us */
	uint64_t tcps_tfo_dataacked;	/* our SYN's data acked by the SYN-ACK */
	uint64_t tcps_tfo_datanotacked;	/* ... not: sent again after it */
	uint64_t tcps_tfo_synloss;	/* our SYN with data timed out */
	uint64_t tcps_synqdrop;		/* SYN dropped: SYN queue full */
	uint64_t tcps_nosocket;		/* SYN or cookie ACK to a listener
					   dropped: no socket (socket_limit,
					   memory) */
	uint64_t tcps_badsyn;		/* SYN with other bad flags */
	uint64_t tcps_synfin;		/* SYN+FIN dropped */
	uint64_t tcps_badrst;		/* RST out of window: ignored */
	uint64_t tcps_rstinwin;		/* RST in window, not exact: challenged */
	uint64_t tcps_synchallenge;	/* SYN in a synchronized state */
	uint64_t tcps_challengeack;	/* challenge ACKs sent (RFC 5961) */
	uint64_t tcps_challengelimit;	/* ... suppressed by the rate limit */
	uint64_t tcps_badack;		/* unacceptable ACK in SYN states */
	uint64_t tcps_noack;		/* segment without ACK: dropped */
	uint64_t tcps_rcvrst;		/* connections reset by the peer */
	uint64_t tcps_refused;		/* RST to our SYN: ECONNREFUSED */
	uint64_t tcps_fastrexmit;	/* fast retransmits */
	uint64_t tcps_recovery;		/* fast recoveries entered */
	uint64_t tcps_partialack;	/* partial ACKs in recovery */
	uint64_t tcps_limitedxmit;	/* RFC 3042 segments */
	uint64_t tcps_ecn_shs;		/* handshakes that agreed on ECN */
	uint64_t tcps_ecn_ce;		/* in-window data segments marked CE */
	uint64_t tcps_ecn_ece;		/* ECE ACKs that reduced the window */
	uint64_t tcps_ecn_cwr;		/* segments sent with CWR */
	uint64_t tcps_ecn_rcvece;	/* ACKs with ECE, ECN agreed */
	uint64_t tcps_icmperr;		/* ICMP errors for a connection */
	uint64_t tcps_icmpbadseq;	/* ... quoting a sequence not in flight */
	uint64_t tcps_pmtuchange;	/* MSS lowered by fragmentation needed */
	uint64_t tcps_mtushrink;	/* MSS lowered to the interface's MTU
					   (a segment refused: EMSGSIZE) */
	uint64_t tcps_pmtubad;		/* ... with an MTU below 68: ignored */
	uint64_t tcps_urgdrop;		/* urgent byte discarded */
	uint64_t tcps_rcvoob;		/* urgent bytes kept for MSG_OOB */
	uint64_t tcps_timewaitreuse;	/* TIME-WAIT reused by a new SYN */
	uint64_t tcps_nopcb;		/* no memory for a connection */
	uint64_t tcps_twoverflow;	/* TIME-WAIT skipped: too many */
	uint64_t tcps_twrecycled;	/* TIME-WAIT recycled by connect() */
	uint64_t tcps_synwithdata;	/* data on a SYN: discarded */
	uint64_t tcps_rcvnots;		/* no timestamp once agreed: dropped */
	uint64_t tcps_urgzero;		/* URG with pointer 0: ignored */
	uint64_t tcps_rcvsack;		/* ACKs with SACK blocks */
	uint64_t tcps_rcvsackbad;	/* SACK blocks not in flight: ignored */
	uint64_t tcps_rcvdsack;		/* D-SACK blocks received */
	uint64_t tcps_dsackspurious;	/* ... for data sent twice: spurious */
	uint64_t tcps_sackboardfull;	/* a range the scoreboard had no room for */
	uint64_t tcps_sndsack;		/* segments sent with SACK blocks */
	uint64_t tcps_snddsack;		/* D-SACK blocks to send */
	uint64_t tcps_sackrecovery;	/* SACK loss recoveries entered */
	uint64_t tcps_sackrexmit;	/* segments resent from the scoreboard */
	uint64_t tcps_sackrescue;	/* RFC 6675 rescue retransmissions */
	uint64_t tcps_racklost;		/* segments RACK found lost by time */
	uint64_t tcps_rackreorder;	/* connections that saw reordering */
	uint64_t tcps_rackreowide;	/* reordering windows widened (D-SACK) */
	uint64_t tcps_tlpprobe;		/* tail loss probes sent */
	uint64_t tcps_tlprexmit;	/* ... that resent the last segment */
	uint64_t tcps_tlprecovered;	/* ... that repaired a loss (RFC 8985 7.4) */
	uint64_t tcps_rackoff;		/* RACK given up: no room for records */
	/* SYN flood defence (RFC 4987) */
	uint64_t tcps_syncache;		/* gauge: embryos now */
	uint64_t tcps_syncache_peak;	/* the most there ever were */
	uint64_t tcps_sc_sent;		/* SYN-ACKs with a cookie sent */
	uint64_t tcps_sc_recvd;		/* valid cookies: connections */
	uint64_t tcps_sc_failed;	/* ACKs to listener: no cookie */
};

#define TCP_WINDOW_CLAMP_MIN 1152	/* Linux's SOCK_MIN_RCVBUF / 2 */
#define TCP_TFO_CACHE 64		/* TFO cookies kept, least recent goes */
#define TCP_TFO_LOSS_TICKS 300000	/* no TFO to a server for 5 min after
					   a SYN with data to it was lost */

/* per-instance TCP state (ns->ns_tcp) */
struct tcp_state {
	struct inpcbtable *tcp_tbl;	/* [I] */
	struct tcpstat tcp_stat;
	uint8_t tcp_isn_key[16];	/* [I] RFC 6528 secret */
	uint8_t tcp_sc_key[16];		/* [I] SYN cookie secret */
	uint8_t tcp_tfo_key[16];	/* [I] TFO cookie secret (RFC 7413) */
	/* the cookies servers gave us (RFC 7413 4.1.3), by address */
	struct tcp_tfo_ent {
		struct in_addr te_addr;		/* 0: free */
		uint8_t te_len;
		uint16_t te_mss;		/* the server's MSS, 0: unknown */
		uint8_t te_cookie[TCP_FASTOPEN_COOKIE_MAX];
		uint64_t te_used;		/* tick last used or given */
		uint64_t te_lost;		/* tick a SYN with data to it
						   was lost, 0: none */
	} tcp_tfo_cache[TCP_TFO_CACHE];
	const struct tcp_cc *tcp_cc_default;
	/* parameters (rump_tcp_param_set()); read when a connection opens */
	int tcp_do_sack;		/* offer and use SACK */
	int tcp_do_rack;		/* RACK-TLP where SACK was agreed */
	int tcp_do_ecn;			/* ask for and agree to ECN */
	int tcp_do_syncookies;		/* cookies once the SYN queue is full */
	int tcp_syncache_limit;		/* embryonic connections, all listeners */
	uint64_t tcp_rack_bytes;	/* hyper_malloc()ed for RACK records */
	struct pool_cache *tcp_pool;	/* [I] tcpcbs */
	unsigned tcp_ncbs;		/* tcpcbs alive */
	unsigned tcp_ntimewait;		/* of which in TIME-WAIT */
	/*
	 * Out-of-order segments held by all reassembly queues, and the
	 * most they may hold: a quarter of the smaller of the mbuf and
	 * cluster pools, so that a peer flooding holes into a few
	 * connections cannot take the memory the segments that fill the
	 * holes (or anything else) need to come in.  (Segments copied into
	 * jumbo clusters may hold them all; the receive path then takes
	 * clusters, which this bound keeps.)
	 */
	unsigned tcp_reass_nsegs;
	unsigned tcp_reass_max;		/* [I] */
};

#define TCP_REASS_MAXSEGS 256		/* out-of-order segments held, at least */
#define TCP_REASS_MAXSEGS_CAP 8192	/* ... at most (tcp_reass_limit()) */
#define TCP_SYNCACHE_LIMIT 1024	/* default of tcp_syncache_limit */
#define TCP_DEFER_ACCEPT_MAX 86400	/* s: TCP_DEFER_ACCEPT at most */
#define TCP_DEFER_RETRY 100		/* ticks: ... its accept queue full */
#define TCP_SYNCNT_MAX 127		/* TCP_SYNCNT at most (Linux's) */
#define TCP_LINGER2_MAX 120		/* s: TCP_LINGER2 at most (Linux's) */
/* RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600)) */
#define TCP_INITWND(mss) MIN(10 * (mss), MAX(2 * (mss), 14600u))
#define TCP_MAXTIMEWAIT 65536		/* TIME-WAIT connections kept */
#define TCP_LINKHDR 16			/* room left for the link header */
#define TCP_CHALLENGE_MAX 100		/* challenge ACKs per second */
#define TCP_SNDBUF_DEFAULT (256 * 1024)
#define TCP_RCVBUF_DEFAULT (256 * 1024)

/*
 * What we last advertised and the peer may still send: RCV.WND for the
 * acceptability tests, and the edge no window may pull left.
 */
static inline uint32_t
tcp_rcv_wnd_adv(const struct tcpcb *tp)
{
	return SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
}

/* The run of duplicate ACKs ends, and with it what limited transmit sent. */
static inline void
tcp_dupacks_end(struct tcpcb *tp)
{
	tp->t_dupacks = 0;
	tp->t_ltbytes = 0;
}

/* tcp_subr.c */
int tcp_init(struct netstack *ns);
void tcp_fini(struct netstack *ns);
struct tcpcb *tcp_newtcpcb(struct inpcb *inp);
/* tcp_close: free tp (and its socket reference); returns NULL */
struct tcpcb *tcp_close(struct tcpcb *tp);
/* tcp_drop: send RST if synchronized, report errno to the user, close */
struct tcpcb *tcp_drop(struct tcpcb *tp, int error);
/* tcp_bare_segment: headers of a segment built outside tcp_output() */
struct mbuf *tcp_bare_segment(struct netstack *ns, struct in_addr src,
    in_port_t sport, struct in_addr dst, in_port_t dport, int optlen,
    struct tcphdr **thp);
/* tcp_respond: send a bare segment (RST or ACK) with the given numbers */
/* inp: the connection's (IP_TTL, IP_TOS), NULL for none (defaults) */
void tcp_respond(struct netstack *ns, const struct inpcb *inp,
    struct in_addr src, in_port_t sport, struct in_addr dst, in_port_t dport,
    tcp_seq seq, tcp_seq ack, uint8_t flags, uint16_t win,
    const uint32_t *ts);
tcp_seq tcp_new_isn(struct netstack *ns, struct in_addr laddr,
    in_port_t lport, struct in_addr faddr, in_port_t fport);
uint32_t tcp_ts_offset(struct netstack *ns, struct in_addr laddr,
    struct in_addr faddr);
uint32_t tcp_now(struct netstack *ns);	/* ms clock for timestamps */
void tcp_mss_update(struct tcpcb *tp, unsigned offer);
unsigned tcp_mss_local(struct tcpcb *tp);
bool tcp_mss_shrink_local(struct tcpcb *tp);
void tcp_mss_resend(struct tcpcb *tp);
/*
 * tcp_mss_offer: the MSS to offer a peer at faddr (no tcpcb yet), by
 * interface oif (SO_BINDTODEVICE; 0: the route's)
 */
unsigned tcp_mss_offer(struct netstack *ns, struct in_addr laddr,
    struct in_addr faddr, unsigned oif, unsigned usermss);
/* tcp_rscale: the window shift to offer for RCV.BUFF (tcp_rcvbuff()) */
uint8_t tcp_rscale(const struct tcpcb *tp);
void tcp_ctlinput(int type, int code, uint16_t mtu, const struct ip *qip,
    struct mbuf *m, int off);
void tcp_xmit_timer(struct tcpcb *tp, uint32_t rtt_us);
/* tcp_set_state: also takes an embryo leaving SYN-RECEIVED off the count */
void tcp_set_state(struct tcpcb *tp, int state);
/*
 * tcp_ack_pass: the ACK of a SYN-ACK or of a FIN is due: hold it for the
 * next poll pass (netstack.h, ns_ackpass) when the instance has a loop
 * that flushes and nothing else waits to go, else TF_ACKNOW.
 * tcp_ackpass_drop: tp's ACK goes (or tp does): off ns_ackpass.
 * tcp_ackpass_flush: send the held ACKs (netstack_ackpass_flush()).
 */
void tcp_ack_pass(struct tcpcb *tp);
void tcp_ackpass_flush(struct netstack *ns);
void tcp_ackpass_remove(struct tcpcb *tp);

static inline void
tcp_ackpass_drop(struct tcpcb *tp)
{
	if (list_linked(&tp->t_ackpass))
		tcp_ackpass_remove(tp);
}
/* tcp_syncache_enter: tp, a new embryo of a listener, is counted */
void tcp_syncache_enter(struct tcpcb *tp);
/*
 * tcp_rcvspace: the window there is room for (TCP_WINDOW_CLAMP at most);
 * tcp_rcvbuff: RCV.BUFF, the buffer's size or the clamp when smaller
 */
unsigned tcp_rcvspace(const struct tcpcb *tp);
unsigned tcp_rcvbuff(const struct tcpcb *tp);
void tcp_fill_info(const struct tcpcb *tp, struct tcp_info *ti);

/* tcp_sack.c */
void tcp_sack_rcv_add(struct tcpcb *tp, tcp_seq start, tcp_seq end);
void tcp_sack_rcv_trim(struct tcpcb *tp);
void tcp_sack_rcv_dup(struct tcpcb *tp, tcp_seq start, tcp_seq end);
int tcp_sack_rcv_optlen(const struct tcpcb *tp, int room);
int tcp_sack_rcv_options(struct tcpcb *tp, uint8_t *opt, int room);
uint32_t tcp_sack_update(struct tcpcb *tp, const uint8_t *blocks,
    int nblocks, tcp_seq ack);
void tcp_sack_clear(struct tcpcb *tp);
bool tcp_sack_islost(const struct tcpcb *tp, tcp_seq seq);
uint32_t tcp_sack_pipe(const struct tcpcb *tp);
int tcp_sack_nextseg(struct tcpcb *tp, tcp_seq avail, uint32_t maxlen,
    tcp_seq *seq, uint32_t *len);

/* tcp_rack.c */
void tcp_rack_sent(struct tcpcb *tp, tcp_seq seq, uint32_t len);
uint32_t tcp_rack_ack(struct tcpcb *tp, tcp_seq ack);
void tcp_rack_recovered(struct tcpcb *tp);
bool tcp_rack_lost_any(const struct tcpcb *tp);
bool tcp_rack_nextlost(const struct tcpcb *tp, uint32_t maxlen,
    tcp_seq *seq, uint32_t *len);
uint32_t tcp_rack_pipe(const struct tcpcb *tp);
void tcp_rack_rto(struct tcpcb *tp);
void tcp_rack_arm_pto(struct tcpcb *tp);
/* tcp_rack_stop: the RACK timer off if armed as which (0: any) */
void tcp_rack_stop(struct tcpcb *tp, int which);
void tcp_rack_timeout(struct tcpcb *tp);
void tcp_rack_tlp_ack(struct tcpcb *tp, tcp_seq ack);
void tcp_rack_free(struct tcpcb *tp);

/* tcp_input.c */
/* tcp_sack_lost: RACK's timer found a loss: recover */
void tcp_sack_lost(struct tcpcb *tp);
void tcp_input(struct mbuf *m, int hlen);

/* tcp_syncookie.c */
/*
 * A SYN cookie's connection (RFC 4987 3.6): the 4-tuple and the peer's
 * ISN the cookie is bound to, and what the SYN-ACK agreed to, which the
 * cookie and the TSval the peer echoes bring back.
 */
struct tcp_syncookie {
	struct in_addr sc_laddr, sc_faddr;
	in_port_t sc_lport, sc_fport;	/* network order */
	tcp_seq sc_irs;			/* the peer's ISN */
	unsigned sc_mss;		/* the peer's MSS, rounded down */
	bool sc_ts;			/* timestamps agreed */
	int sc_wscale;			/* the peer's shift, -1: none */
	bool sc_sack;			/* SACK-permitted both ways */
	bool sc_ecn;			/* ECN agreed (RFC 3168 6.1.1) */
};

/* tcp_syncookie_mss: the MSS a cookie can carry for an offer (0: none) */
unsigned tcp_syncookie_mss(unsigned offer);
/*
 * tcp_syncookie_send: answer the SYN of sc (sc_mss rounded already) on
 * listener ltp with a SYN-ACK whose ISS is the cookie; tsecr: the SYN's
 * TSval.  No state is kept but ltp's t_sc_period.
 */
void tcp_syncookie_send(struct tcpcb *ltp, const struct tcp_syncookie *sc,
    uint32_t tsecr);
/*
 * tcp_inp_listening: bound PCBs that take SYNs are the listening ones (a
 * socket only bound, or a listener shut down, hides none that listens on
 * the port)
 */
bool tcp_inp_listening(const struct inpcb *inp);
/* tcp_syncookie_active: ltp sent a cookie that may still come back */
bool tcp_syncookie_active(const struct tcpcb *ltp);
/*
 * tcp_syncookie_group: a SO_REUSEPORT listener that sends a cookie or
 * starts listening shares its group's latest cookie period with every
 * member, as Linux keeps it per reuseport group (commit 3b24d854cb35): a
 * cookie's ACK reaches another member than its sender once the group has
 * changed.
 */
void tcp_syncookie_group(struct tcpcb *ltp);
/*
 * tcp_syncookie_check: is iss a cookie ltp sent for the 4-tuple and
 * sc_irs of sc, no more than two periods ago?  ts, tsecr: the ACK's
 * timestamp option.  If so, fills the rest of sc and returns true.
 */
bool tcp_syncookie_check(struct tcpcb *ltp, struct tcp_syncookie *sc,
    tcp_seq iss, bool ts, uint32_t tsecr);

/*
 * tcp_finwait2_time: how long an orphan may wait in FIN-WAIT-2 for the
 * peer's FIN (TCP_LINGER2), in ticks; 1 when TCP_LINGER2 says not at all.
 */
int tcp_finwait2_time(const struct tcpcb *tp);
/*
 * tcp_defer_end: a connection TCP_DEFER_ACCEPT held off its listener's
 * accept queue goes on it (data came, or the time ran out); false if the
 * queue is full (it tries again in TCP_DEFER_RETRY).
 */
bool tcp_defer_end(struct tcpcb *tp);

/* tcp_fastopen.c (RFC 7413) */
/* tcp_tfo_cookie: the cookie this host gives a client at faddr */
void tcp_tfo_cookie(struct netstack *ns, struct in_addr faddr,
    struct in_addr laddr, uint8_t cookie[TCP_FASTOPEN_COOKIE_LEN]);
/*
 * tcp_tfo_cache_get: the cookie the server at addr gave us (its length,
 * 0: none) and the MSS it offered then (0: unknown) into *mss;
 * tcp_tfo_cache_put: keep one (len 0: forget it)
 */
unsigned tcp_tfo_cache_get(struct netstack *ns, struct in_addr addr,
    uint8_t cookie[TCP_FASTOPEN_COOKIE_MAX], unsigned *mss);
void tcp_tfo_cache_put(struct netstack *ns, struct in_addr addr,
    const uint8_t *cookie, unsigned len, unsigned mss);
/*
 * tcp_tfo_syn_room: bytes our first SYN can carry (0: no cookie, or Fast
 * Open to the server is off for a while); tcp_tfo_lost: our SYN with data
 * timed out: no Fast Open to that server for TCP_TFO_LOSS_TICKS
 */
unsigned tcp_tfo_syn_room(struct tcpcb *tp);
void tcp_tfo_lost(struct tcpcb *tp);
/* tcp_tfo_option: the TFO option of our SYN or SYN-ACK; 0: none */
int tcp_tfo_option(struct tcpcb *tp, uint8_t flags, uint8_t *opt, int room);

/* tcp_output.c */
int tcp_output(struct tcpcb *tp);
/* tcp_unsent: bytes of so's send buffer tp has never sent (snd_max on). */
unsigned tcp_unsent(const struct tcpcb *tp, const struct socket *so);
int tcp_output_rst(struct tcpcb *tp);
/* tcp_output_last: the highest segment sent, again (a tail loss probe) */
void tcp_output_last(struct tcpcb *tp);
struct mbuf *tcp_tso_segment(struct mbuf *m);
/* tcp_usrclosed: the user will send no more (close or shutdown) */
struct tcpcb *tcp_usrclosed(struct tcpcb *tp);

#endif /* NETINET_TCP_VAR_H */
