/*
 * tcp_subr.c -- TCP control blocks, closing and dropping, bare segments
 * (RST and ACK), initial sequence numbers, RTT estimation, MSS, ICMP
 * errors, TCP_INFO.
 *
 * (tcp_attach(), tcp_input() for a SYN ->) tcp_newtcpcb()
 * (tcp_input() for a SYN ->) tcp_syncache_enter(); tcp_set_state() counts
 *     the embryo out again
 * (timers, tcp_input(), tcp_usrreq.c ->) tcp_drop() -> tcp_close()
 * (tcp_input() ->) tcp_respond()
 * (icmp_input() -> icmp_ctlinput() ->) tcp_ctlinput()
 *
 * Read first: RFC 6528 (ISNs), RFC 6298 (RTO), RFC 9293 3.7.1 and RFC
 * 6691 (MSS), RFC 5927 and RFC 1122 4.2.3.9 (ICMP), RFC 7323 5.4
 * (timestamp clock), RFC 4987 (the bound on embryonic connections).
 */
#include "kern/kernel.h"
#include "kern/pool.h"
#include "net/netstack.h"
#include "net/route.h"
#include "netinet/in_cksum.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/ip_icmp.h"
#include "netinet/ip_output.h"
#include "netinet/ip_pmtu.h"
#include "netinet/tcp_var.h"
#include "sys/socketvar.h"

const char *const tcpstates[TCP_NSTATES] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED",
	"CLOSE_WAIT", "FIN_WAIT_1", "CLOSING", "LAST_ACK", "FIN_WAIT_2",
	"TIME_WAIT",
};

/*
 * A connect() wants the 4-tuple of a connection in TIME-WAIT (inpt_reclaim
 * of the PCB table).  Safe when timestamps were in use and our clock has
 * moved since the old connection's last segment: the new connection's
 * timestamps are then all newer, so the peer's PAWS and RFC 6191 tell the
 * two incarnations apart (what Linux's tcp_tw_reuse does).
 */
static bool
tcp_tw_reclaim(struct inpcb *inp)
{
	struct tcpcb *tp = intotcpcb(inp);

	if (tp == NULL || tp->t_state != TCPS_TIME_WAIT ||
	    !(tp->t_flags & TF_RCVD_TSTMP) ||
	    kern_clock_ticks(tp->t_ns->ns_kernel) <= tp->t_rcvtime)
		return false;
	tp->t_ns->ns_tcp->tcp_stat.tcps_twrecycled++;
	(void)tcp_close(tp);
	return true;
}

int
tcp_init(struct netstack *ns)
{
	struct tcp_state *ts;
	void *mem;
	int error;

	if (hyper_malloc(sizeof(*ts), 0, &mem) != 0)
		return ENOMEM;
	ts = mem;
	memset(ts, 0, sizeof(*ts));
	if (hyper_malloc(sizeof(struct inpcbtable), 0, &mem) != 0) {
		hyper_free(ts, sizeof(*ts));
		return ENOMEM;
	}
	ts->tcp_tbl = mem;
	in_pcbinit(ts->tcp_tbl, true, ns->ns_pcbpool);
	ts->tcp_tbl->inpt_reclaim = tcp_tw_reclaim;
	if ((error = pool_cache_create(ns->ns_kernel, "tcpcb",
	    sizeof(struct tcpcb), 0, 0, &ts->tcp_pool)) != 0) {
		hyper_free(ts->tcp_tbl, sizeof(struct inpcbtable));
		hyper_free(ts, sizeof(*ts));
		return error;
	}
	/* RFC 6528 3: a secret key, random at boot */
	(void)hyper_getrandom(ts->tcp_isn_key, sizeof(ts->tcp_isn_key));
	(void)hyper_getrandom(ts->tcp_sc_key, sizeof(ts->tcp_sc_key));
	(void)hyper_getrandom(ts->tcp_tfo_key, sizeof(ts->tcp_tfo_key));
	ts->tcp_cc_default = &tcp_cc_cubic;	/* RFC 9438 */
	ts->tcp_do_sack = 1;
	ts->tcp_do_rack = 1;
	ts->tcp_do_ecn = 0;
	ts->tcp_do_syncookies = 1;
	ts->tcp_syncache_limit = TCP_SYNCACHE_LIMIT;
	ts->tcp_reass_max = MIN(ns->ns_kernel->k_mbpool->pc_hardlimit,
	    ns->ns_kernel->k_clpool->pc_hardlimit) / 4;
	ns->ns_tcp = ts;
	return 0;
}

/*
 * Instance teardown: the descriptors are closed already; connections
 * still closing (FIN-WAIT, TIME-WAIT, ...) go without a word, as when a
 * host powers off.  Net lock held.
 */
void
tcp_fini(struct netstack *ns)
{
	struct tcp_state *ts = ns->ns_tcp;
	struct list_node *ln;

	while ((ln = list_first(&ts->tcp_tbl->inpt_all)) != NULL) {
		struct inpcb *inp = container_of(ln, struct inpcb, inp_list);

		(void)tcp_close(intotcpcb(inp));
	}
	KASSERT(ts->tcp_ncbs == 0);
	KASSERT(ts->tcp_rack_bytes == 0);
	KASSERT(ts->tcp_stat.tcps_syncache == 0);
	KASSERT(ts->tcp_reass_nsegs == 0);
	pool_cache_destroy(ts->tcp_pool);
	hyper_free(ts->tcp_tbl, sizeof(struct inpcbtable));
	hyper_free(ts, sizeof(*ts));
	ns->ns_tcp = NULL;
}

struct tcpcb *
tcp_newtcpcb(struct inpcb *inp)
{
	struct netstack *ns = inp->inp_socket->so_kernel->k_net;
	struct tcp_state *ts = ns->ns_tcp;
	struct tcpcb *tp;

	if ((tp = pool_cache_get(ts->tcp_pool)) == NULL)
		return NULL;
	memset(tp, 0, sizeof(*tp));
	tp->t_inpcb = inp;
	tp->t_ns = ns;
	tp->t_state = TCPS_CLOSED;
	tcp_timer_init(tp);
	tp->t_maxseg = TCP_MSS;
	tp->t_ourmss = TCP_MSS;
	tp->t_flags = TF_REQ_SCALE | TF_REQ_TSTMP;
	if (ts->tcp_do_sack)
		tp->t_flags |= TF_REQ_SACK;
	tp->t_rxtcur = TCPTV_RTOBASE;
	/* RFC 5681 3.1: ssthresh starts arbitrarily high */
	tp->snd_cwnd = TCP_MAXWIN << TCP_MAXWINSHIFT;
	tp->snd_ssthresh = TCP_MAXWIN << TCP_MAXWINSHIFT;
	tp->t_keepidle = TCPTV_KEEP_IDLE;
	tp->t_keepintvl = TCPTV_KEEPINTVL;
	tp->t_keepcnt = TCPTV_KEEPCNT;
	tp->t_cc = ts->tcp_cc_default;
	inp->inp_ppcb = tp;
	ts->tcp_ncbs++;
	return tp;
}

/*
 * Every way out of SYN-RECEIVED passes here (ESTABLISHED, and CLOSED from
 * tcp_close() after a reset, a timeout, the listener's close or the
 * instance's teardown): an embryo leaves the count of the bound on
 * embryonic connections (RFC 4987 3.1 and 3.3).
 */
void
tcp_set_state(struct tcpcb *tp, int state)
{
	struct tcp_state *ts = tp->t_ns->ns_tcp;

	if (tp->t_state == TCPS_TIME_WAIT)
		ts->tcp_ntimewait--;
	if (state == TCPS_TIME_WAIT)
		ts->tcp_ntimewait++;
	if (tp->t_syncache && state != TCPS_SYN_RECEIVED) {
		KASSERT(ts->tcp_stat.tcps_syncache > 0);
		tp->t_syncache = false;
		ts->tcp_stat.tcps_syncache--;
	}
	if (tp->t_state == TCPS_SYN_RECEIVED && state != TCPS_SYN_RECEIVED &&
	    tp->t_inpcb->inp_socket != NULL)
		sotfodone(tp->t_inpcb->inp_socket);
	tp->t_state = state;
}

static void
tcp_ackpass_count(struct netstack *ns, int d)
{
	atomic_store_explicit(&ns->ns_ackpass_n, atomic_load_explicit(
	    &ns->ns_ackpass_n, memory_order_relaxed) + (unsigned)d,
	    memory_order_relaxed);
}

void
tcp_ack_pass(struct tcpcb *tp)
{
	struct netstack *ns = tp->t_ns;
	struct socket *so = tp->t_inpcb->inp_socket;

	if (tp->t_flags & TF_ACKNOW)
		return;		/* going now anyway (data out of order...) */
	/*
	 * at once: nothing flushes; TCP_QUICKACK; data or a FIN waiting
	 * for the handshake (what TFO's SYN carried and was not acked, a
	 * shutdown() meanwhile: FIN-WAIT-1 now), which only an ACK now
	 * sends; no socket
	 */
	if (ns->ns_ackpass_ifs == 0 || (tp->t_flags & TF_QUICKACK) ||
	    so == NULL || so->so_snd.sb_cc > 0 ||
	    (tp->t_state != TCPS_ESTABLISHED &&
	    tp->t_state != TCPS_CLOSE_WAIT)) {
		tp->t_flags |= TF_ACKNOW;
		return;
	}
	if (list_linked(&tp->t_ackpass))
		return;
	list_insert_tail(&ns->ns_ackpass, &tp->t_ackpass);
	tcp_ackpass_count(ns, 1);
	ns->ns_tcp->tcp_stat.tcps_ackpass++;
	/*
	 * and owed as a delayed ACK is: no later than its timer, should
	 * no pass come first (a busy poller that only sends does not
	 * flush, and keeps the loop away)
	 */
	if (!(tp->t_flags & TF_DELACK)) {
		/* (one owed already keeps its time) */
		tp->t_flags |= TF_DELACK;
		tcp_timer_arm(tp, TCPT_DELACK, TCPTV_DELACK);
	}
}

void
tcp_ackpass_remove(struct tcpcb *tp)
{
	list_remove(&tp->t_ackpass);
	tcp_ackpass_count(tp->t_ns, -1);
}

void
tcp_ackpass_flush(struct netstack *ns)
{
	struct list_node *ln;

	while ((ln = list_first(&ns->ns_ackpass)) != NULL) {
		struct tcpcb *tp = container_of(ln, struct tcpcb, t_ackpass);

		tcp_ackpass_remove(tp);
		tp->t_flags |= TF_ACKNOW;
		ns->ns_tcp->tcp_stat.tcps_ackpassout++;
		(void)tcp_output(tp);
	}
}

void
tcp_syncache_enter(struct tcpcb *tp)
{
	struct tcpstat *st = &tp->t_ns->ns_tcp->tcp_stat;

	KASSERT(tp->t_state == TCPS_SYN_RECEIVED && !tp->t_syncache);
	tp->t_syncache = true;
	st->tcps_syncache++;
	if (st->tcps_syncache > st->tcps_syncache_peak)
		st->tcps_syncache_peak = st->tcps_syncache;
}

static void
tcp_freeq(struct tcpcb *tp)
{
	struct mbuf *m, *next;

	for (m = tp->t_segq; m != NULL; m = next) {
		next = m->m_nextpkt;
		m_freem(m);
	}
	tp->t_segq = NULL;
	tp->t_segqtail = NULL;
	tp->t_ns->ns_tcp->tcp_reass_nsegs -= tp->t_segqlen;
	tp->t_segqlen = 0;
}

/*
 * Free the connection: timers, queues, the PCB, and the reference the
 * connection held on its socket (which goes when the user has closed it,
 * or off a listener's queue when it was never accepted).  Returns NULL.
 */
struct tcpcb *
tcp_close(struct tcpcb *tp)
{
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp->inp_socket;
	struct tcp_state *ts = tp->t_ns->ns_tcp;

	/*
	 * Unreachable first: out of the PCB tables and off the socket, the
	 * timers stopped (a handler waiting for the net lock then finds its
	 * callout stopped, or TF_DEAD).  Only then wait for a handler
	 * running on another vCPU, which releases the net lock: nothing can
	 * find the connection meanwhile.
	 */
	tp->t_flags |= TF_DEAD;
	tcp_ackpass_drop(tp);
	tcp_timer_stop_all(tp);
	tcp_freeq(tp);
	tcp_rack_free(tp);
	tcp_set_state(tp, TCPS_CLOSED);
	ts->tcp_stat.tcps_closed++;
	ts->tcp_ncbs--;
	inp->inp_ppcb = NULL;
	in_pcbdetach(inp);
	if (so != NULL) {
		soisdisconnected(so);
		if (so->so_closing)
			sbflush(&so->so_snd);	/* nobody will send it now */
		sopcbgone(so);
	}
	tcp_timer_halt_all(tp);
	pool_cache_put(ts->tcp_pool, tp);
	return NULL;
}

/*
 * Drop the connection with error for the user: RST to the peer when the
 * connection is synchronized (RFC 9293 3.10.7.1 "abort").
 */
struct tcpcb *
tcp_drop(struct tcpcb *tp, int error)
{
	struct socket *so = tp->t_inpcb->inp_socket;
	struct tcpstat *st = &tp->t_ns->ns_tcp->tcp_stat;

	if (TCPS_HAVERCVDSYN(tp->t_state)) {
		tcp_set_state(tp, TCPS_CLOSED);
		(void)tcp_output_rst(tp);
		st->tcps_drops++;
	} else {
		st->tcps_conndrops++;
	}
	if (error == ETIMEDOUT && tp->t_softerror != 0)
		error = tp->t_softerror;
	if (so != NULL)
		soseterror(so, error);
	return tcp_close(tp);
}

/*
 * A segment without a connection behind it: an RST, or an ACK (TIME-WAIT,
 * challenge ACKs of embryos).  ts: {TSval, TSecr} to echo, or NULL.
 */
/*
 * A segment built outside tcp_output(): one mbuf, room left for the link
 * header, zeroed IPv4 and TCP headers with optlen bytes of options after
 * them; version, length, protocol, addresses, ports and data offset set.
 * NULL (tcps_nobufs counted) without an mbuf.
 */
struct mbuf *
tcp_bare_segment(struct netstack *ns, struct in_addr src, in_port_t sport,
    struct in_addr dst, in_port_t dport, int optlen, struct tcphdr **thp)
{
	int len = (int)(sizeof(struct ip) + sizeof(struct tcphdr)) + optlen;
	struct tcphdr *th;
	struct mbuf *m;
	struct ip *ip;

	if ((m = m_gethdr(M_DONTWAIT, MT_HEADER)) == NULL) {
		ns->ns_tcp->tcp_stat.tcps_nobufs++;
		return NULL;
	}
	m->m_data += TCP_LINKHDR;
	m->m_len = m->m_pkthdr.len = len;
	ip = mtod(m, struct ip *);
	th = (struct tcphdr *)(void *)(ip + 1);
	memset(ip, 0, (size_t)len);
	ip->ip_vhl = IP_VHL(IPVERSION, sizeof(*ip) >> 2);
	ip->ip_len = htons((uint16_t)len);
	ip->ip_p = IPPROTO_TCP;
	ip->ip_src = src;
	ip->ip_dst = dst;
	th->th_sport = sport;
	th->th_dport = dport;
	TH_SETOFF(th, (sizeof(*th) + (size_t)optlen) >> 2);
	*thp = th;
	return m;
}

void
tcp_respond(struct netstack *ns, const struct inpcb *inp,
    struct in_addr src, in_port_t sport, struct in_addr dst, in_port_t dport,
    tcp_seq seq, tcp_seq ack, uint8_t flags, uint16_t win,
    const uint32_t *ts)
{
	struct tcpstat *st = &ns->ns_tcp->tcp_stat;
	int optlen = ts != NULL ? TCPOLEN_TSTAMP_APPA : 0;
	int len = (int)(sizeof(struct ip) + sizeof(struct tcphdr)) + optlen;
	struct tcphdr *th;
	struct mbuf *m;

	if ((m = tcp_bare_segment(ns, src, sport, dst, dport, optlen,
	    &th)) == NULL)
		return;
	mtod(m, struct ip *)->ip_ttl = inp != NULL ? inp->inp_ttl : IPDEFTTL;
	mtod(m, struct ip *)->ip_tos = inp != NULL ?
	    (uint8_t)(inp->inp_tos & ~IPTOS_ECN_MASK) : 0;
	th->th_seq = htonl(seq);
	th->th_ack = htonl(ack);
	th->th_flags = flags;
	th->th_win = htons(win);
	if (ts != NULL) {
		uint32_t *lp = (uint32_t *)(void *)(th + 1);

		lp[0] = htonl(TCPOPT_TSTAMP_HDR);
		lp[1] = htonl(ts[0]);
		lp[2] = htonl(ts[1]);
	}
	th->th_sum = in4_cksum(m, src, dst, IPPROTO_TCP,
	    (int)sizeof(struct ip), len - (int)sizeof(struct ip));
	st->tcps_sndtotal++;
	if (flags & TH_RST)
		st->tcps_sndrst++;
	else
		st->tcps_sndacks++;
	(void)ip_output_oif(m, 0, inp != NULL ? inp->inp_bindif : 0);
}

/*
 * RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a timer ticking every 4 microseconds, F SipHash-2-4.
 */
tcp_seq
tcp_new_isn(struct netstack *ns, struct in_addr laddr, in_port_t lport,
    struct in_addr faddr, in_port_t fport)
{
	struct {
		uint32_t la, fa;
		uint16_t lp, fp;
	} tuple = { laddr.s_addr, faddr.s_addr, lport, fport };
	uint64_t h;

	(void)hyper_siphash24(ns->ns_tcp->tcp_isn_key, &tuple, sizeof(tuple),
	    &h);
	return (tcp_seq)h + (tcp_seq)(kern_clock_ns(ns->ns_kernel) / 4000);
}

/* RFC 7323 5.4: a timestamp clock offset per pair of hosts. */
uint32_t
tcp_ts_offset(struct netstack *ns, struct in_addr laddr, struct in_addr faddr)
{
	uint32_t pair[3] = { laddr.s_addr, faddr.s_addr, 0x7473u };
	uint64_t h;

	(void)hyper_siphash24(ns->ns_tcp->tcp_isn_key, pair, sizeof(pair), &h);
	return (uint32_t)(h >> 32);
}

/* The timestamp clock: 1 ms (RFC 7323 5.4: between 1 ms and 1 s). */
uint32_t
tcp_now(struct netstack *ns)
{
	return (uint32_t)kern_clock_ticks(ns->ns_kernel);
}

/*
 * A new RTT sample of rtt_us microseconds (RFC 6298 2.2, 2.3):
 *   first:  SRTT = R, RTTVAR = R/2
 *   later:  RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, SRTT = 7/8 SRTT + 1/8 R
 *   RTO = SRTT + max(G, 4 RTTVAR), clamped to [TCPTV_MIN, TCPTV_REXMTMAX]
 */
void
tcp_xmit_timer(struct tcpcb *tp, uint32_t rtt_us)
{
	struct tcpstat *st = &tp->t_ns->ns_tcp->tcp_stat;
	uint64_t rto_us;

	if (rtt_us == 0)
		rtt_us = 1;
	if (tp->t_rttupdated == 0) {
		tp->t_srtt = rtt_us;
		tp->t_rttvar = rtt_us / 2;
	} else {
		uint32_t delta = tp->t_srtt > rtt_us ? tp->t_srtt - rtt_us :
		    rtt_us - tp->t_srtt;

		tp->t_rttvar = tp->t_rttvar - tp->t_rttvar / 4 + delta / 4;
		tp->t_srtt = tp->t_srtt - tp->t_srtt / 8 + rtt_us / 8;
	}
	tp->t_rttupdated++;
	st->tcps_rttupdated++;
	rto_us = tp->t_srtt + MAX(1000u, 4 * (uint64_t)tp->t_rttvar);
	tp->t_rxtcur = (int)MIN(MAX((rto_us + 999) / 1000,
	    (uint64_t)TCPTV_MIN), (uint64_t)TCPTV_REXMTMAX);
	/* RFC 6298 5.7 is for after backoff; a fresh sample resets it */
	tp->t_rxtshift = 0;
	tp->t_softerror = 0;
}

/* The interface toward the peer, or NULL (no route). */
static struct ifnet *
tcp_ifp(struct tcpcb *tp)
{
	struct inpcb *inp = tp->t_inpcb;
	struct ifnet *ifp = NULL;
	struct in_addr nexthop;

	if (ip_route_oif(tp->t_ns, inp->inp_laddr, inp->inp_faddr,
	    inp->inp_bindif, &ifp, &nexthop) != 0)
		return NULL;
	return ifp;
}

/*
 * The MSS to offer on ifp: its MTU less 40 (RFC 9293 3.7.1), or usermss
 * (TCP_MAXSEG) when smaller.
 */
static unsigned
tcp_mss_ifp(unsigned usermss, const struct ifnet *ifp)
{
	unsigned mss = TCP_MSS;

	if (ifp != NULL && ifp->if_mtu > 40)
		mss = ifp->if_mtu - 40;
	if (usermss != 0 && usermss < mss)
		mss = usermss;
	return MAX(mss, 64u);
}

/* The MSS we offer: the interface MTU toward the peer less 40. */
unsigned
tcp_mss_local(struct tcpcb *tp)
{
	return tcp_mss_ifp(tp->t_usermss, tcp_ifp(tp));
}

unsigned
tcp_mss_offer(struct netstack *ns, struct in_addr laddr, struct in_addr faddr,
    unsigned oif, unsigned usermss)
{
	struct ifnet *ifp = NULL;
	struct in_addr nexthop;

	if (ip_route_oif(ns, laddr, faddr, oif, &ifp, &nexthop) != 0)
		ifp = NULL;
	return tcp_mss_ifp(usermss, ifp);
}

/* Window scale for so_rcv's size (RFC 7323 2.3). */
uint8_t
tcp_rscale(const struct tcpcb *tp)
{
	uint32_t space = tcp_rcvbuff(tp);
	uint8_t shift = 0;

	while (shift < TCP_MAXWINSHIFT &&
	    ((uint32_t)TCP_MAXWIN << shift) < space)
		shift++;
	return shift;
}

/*
 * Payload per segment for an MSS of mss (RFC 6691: the MSS counts
 * payload only): timestamps take 12 bytes of every segment once agreed.
 * Never below 64 bytes, so that a tiny (hostile) MSS cannot wrap it.
 */
static unsigned
tcp_mss_payload(const struct tcpcb *tp, unsigned mss)
{
	if ((tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) ==
	    (TF_REQ_TSTMP | TF_RCVD_TSTMP) && mss > TCPOLEN_TSTAMP_APPA)
		mss -= TCPOLEN_TSTAMP_APPA;
	return MAX(mss, 64u);
}

/*
 * Set the send MSS from the peer's offer (0: none, RFC 9293 3.7.1 says
 * assume 536) and our own limit, and TSO (RFC 9293 does not mind how
 * segments are cut): when the interface toward the peer segments TCP
 * itself, hand it up to a 64 KiB datagram.
 */
void
tcp_mss_update(struct tcpcb *tp, unsigned offer)
{
	struct ifnet *ifp = tcp_ifp(tp);
	struct inpcb *inp = tp->t_inpcb;
	unsigned mss = tcp_mss_ifp(tp->t_usermss, ifp);
	bool locked = false;

	/* what an ICMP taught about the path (ip_pmtu.h), as Linux's dst */
	if (inp->inp_pmtudisc < IP_PMTUDISC_PROBE) {
		mss = ip_pmtu_min(tp->t_ns, inp->inp_faddr, mss + 40,
		    &locked) - 40;
		if (locked)
			inp->inp_flags |= INP_PMTULOCKED;
	}
	tp->t_peermss = offer != 0 ? offer : TCP_MSS;
	tp->t_maxseg = tcp_mss_payload(tp, MIN(mss, tp->t_peermss));
	tp->t_tsomax = 0;
	if (ifp != NULL && (ifp->if_capenable & IFCAP_TSOv4))
		tp->t_tsomax = MIN(ifp->if_tsomax, (unsigned)IP_MAXPACKET) -
		    (unsigned)(sizeof(struct ip) + sizeof(struct tcphdr)) -
		    TCP_MAXOLEN;
}

/*
 * The send MSS came down (an ICMP "fragmentation needed", or the
 * interface's MTU): all in flight goes again at the new size, from
 * SND.UNA, and a fast recovery in progress ends (its scoreboard holds
 * segments of the old size), as BSD's tcp_mtudisc() does.  The caller
 * then calls tcp_output().
 */
void
tcp_mss_resend(struct tcpcb *tp)
{
	tp->snd_nxt = tp->snd_una;
	tp->t_rtttime = 0;		/* Karn: no sample from a resend */
	if (tp->t_flags & TF_FASTRECOVERY) {
		tp->t_flags &= ~TF_FASTRECOVERY;
		tcp_dupacks_end(tp);
		tp->snd_recover = tp->snd_max;
		tcp_sack_clear(tp);
	}
}

/*
 * ip_output() refused a segment as too big for the interface (EMSGSIZE:
 * its MTU went down under the connection).  As BSD's tcp_mtudisc() with
 * the interface's MTU: the send MSS comes down to what its MTU carries
 * (never up: an ICMP may have set it lower; the peer's offer is above
 * it, being above the old MSS).  True when it came down, so that the
 * caller resends at the new size.
 */
bool
tcp_mss_shrink_local(struct tcpcb *tp)
{
	unsigned mss = tcp_mss_payload(tp, tcp_mss_local(tp));

	if (mss >= tp->t_maxseg)
		return false;
	tp->t_maxseg = mss;
	tp->t_ns->ns_tcp->tcp_stat.tcps_mtushrink++;
	return true;
}

/* RCV.BUFF: the receive buffer, or TCP_WINDOW_CLAMP when smaller */
unsigned
tcp_rcvbuff(const struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;
	uint32_t buff = so != NULL ? so->so_rcv.sb_hiwat : 0;

	if (tp->t_window_clamp != 0)
		buff = MIN(buff, tp->t_window_clamp);
	return buff;
}

unsigned
tcp_rcvspace(const struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;
	uint32_t space = so != NULL ? sbspace(&so->so_rcv) : 0;

	/* TCP_WINDOW_CLAMP: never more window than that (Linux) */
	if (tp->t_window_clamp != 0)
		space = MIN(space, tp->t_window_clamp);
	return space;
}

/*
 * An ICMP error quoting one of our segments (RFC 5927, RFC 1122
 * 4.2.3.9): the quoted sequence number must be in flight (SND.UNA <= seq
 * < SND.MAX) or the message is forged or stale.  Hard errors (protocol
 * or port unreachable) abort a connection still opening; everywhere else
 * errors are soft (RFC 5927 4.1: no blind reset by ICMP) and reported if
 * the connection times out.  Fragmentation needed lowers the MSS.
 */
void
tcp_ctlinput(int type, int code, uint16_t mtu, const struct ip *qip,
    struct mbuf *m, int off)
{
	struct netstack *ns = curlwp->l_kernel->k_net;
	struct tcpstat *st = &ns->ns_tcp->tcp_stat;
	struct {
		uint16_t sport, dport;
		uint32_t seq;
	} q;
	struct inpcb *inp;
	struct tcpcb *tp;
	tcp_seq seq;
	bool hard;
	int error;

	m_copydata(m, off, (int)sizeof(q), &q);
	inp = in_pcblookup_connect(ns->ns_tcp->tcp_tbl, qip->ip_dst, q.dport,
	    qip->ip_src, q.sport, in_arrival_ifindex(m->m_pkthdr.rcvif,
	    mtod(m, const struct ip *)->ip_dst));
	if (inp == NULL || (tp = intotcpcb(inp)) == NULL)
		return;
	st->tcps_icmperr++;
	seq = ntohl(q.seq);
	if (!SEQ_GEQ(seq, tp->snd_una) || !SEQ_LT(seq, tp->snd_max)) {
		st->tcps_icmpbadseq++;
		return;
	}
	if (type == ICMP_UNREACH && code == ICMP_UNREACH_NEEDFRAG) {
		unsigned mss, pmtu;
		bool locked;

		/*
		 * RFC 1191: only ever lower.  An MTU below RFC 791's 68 is
		 * forged or from a router older than RFC 1191 (which sends
		 * 0): ignored, and counted.  Nor about a segment sent
		 * without DF.  The path MTU cache says how low (never below
		 * 552: below that, the segments go without DF, as Linux),
		 * also for the next connections to that host.
		 */
		if (mtu < 68) {
			st->tcps_pmtubad++;
			return;
		}
		if (!(ntohs(qip->ip_off) & IP_DF) ||
		    (pmtu = ip_pmtu_update(tp->t_ns, qip, mtu, &locked)) == 0)
			return;
		if (locked)
			inp->inp_flags |= INP_PMTULOCKED;
		mss = pmtu - 40;
		if ((tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) ==
		    (TF_REQ_TSTMP | TF_RCVD_TSTMP))
			mss -= TCPOLEN_TSTAMP_APPA;
		if (mss >= tp->t_maxseg)
			return;
		tp->t_maxseg = MAX(mss, 64u);
		st->tcps_pmtuchange++;
		tcp_mss_resend(tp);
		(void)tcp_output(tp);
		return;
	}
	if ((error = icmp_errno(type, code, &hard)) == 0)
		return;		/* source quench: ignored (RFC 6633) */
	/*
	 * a hard error ends an opening connection: RFC 1122 4.2.3.9 names
	 * protocol and port unreachable; with Linux's table the codes that
	 * came later (prohibited, ...) and a parameter problem count too
	 * (Linux ends it on any error)
	 */
	if (hard && tp->t_state == TCPS_SYN_SENT) {
		(void)tcp_drop(tp, error);
		return;
	}
	tp->t_softerror = error;
}

/* TCP_INFO: Linux's state numbers for ours. */
static const uint8_t tcpi_states[TCP_NSTATES] = {
	[TCPS_CLOSED] = 7, [TCPS_LISTEN] = 10, [TCPS_SYN_SENT] = 2,
	[TCPS_SYN_RECEIVED] = 3, [TCPS_ESTABLISHED] = 1,
	[TCPS_CLOSE_WAIT] = 8, [TCPS_FIN_WAIT_1] = 4, [TCPS_CLOSING] = 11,
	[TCPS_LAST_ACK] = 9, [TCPS_FIN_WAIT_2] = 5, [TCPS_TIME_WAIT] = 6,
};

void
tcp_fill_info(const struct tcpcb *tp, struct tcp_info *ti)
{
	uint64_t now = kern_clock_ticks(tp->t_ns->ns_kernel);
	unsigned mss = MAX(tp->t_maxseg, 1u);

	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = tcpi_states[tp->t_state];
	/* Linux's numbers: 4 Loss, 3 Recovery, 2 CWR (ECE answered), 0 Open */
	ti->tcpi_ca_state = (tp->t_flags & TF_FASTRECOVERY) ? 3 :
	    tp->t_rxtshift > 0 ? 4 : ((tp->t_flags & TF_ECN_PERMIT) &&
	    SEQ_LT(tp->snd_una, tp->snd_ecn_recover)) ? 2 : 0;
	ti->tcpi_retransmits = (uint8_t)tp->t_rxtshift;
	ti->tcpi_backoff = (uint8_t)tp->t_rxtshift;
	ti->tcpi_probes = (uint8_t)MAX(tp->t_keepprobes, tp->t_persistprobes);
	if ((tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) ==
	    (TF_REQ_TSTMP | TF_RCVD_TSTMP))
		ti->tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (tp->t_flags & TF_SACK_PERMIT)
		ti->tcpi_options |= TCPI_OPT_SACK;
	ti->tcpi_sacked = tp->t_sacked / mss;
	if (tp->t_flags & TF_ECN_PERMIT)
		ti->tcpi_options |= TCPI_OPT_ECN;
	if ((tp->t_flags & (TF_REQ_SCALE | TF_RCVD_SCALE)) ==
	    (TF_REQ_SCALE | TF_RCVD_SCALE)) {
		ti->tcpi_options |= TCPI_OPT_WSCALE;
		ti->tcpi_wscale = (uint8_t)(tp->snd_scale |
		    tp->rcv_scale << 4);
	}
	ti->tcpi_rto = (uint32_t)tp->t_rxtcur * 1000;
	ti->tcpi_ato = TCPTV_DELACK * 1000;
	ti->tcpi_snd_mss = tp->t_maxseg;
	ti->tcpi_rcv_mss = tp->t_ourmss;
	ti->tcpi_unacked = (tp->snd_max - tp->snd_una + mss - 1) / mss;
	ti->tcpi_last_data_sent = (uint32_t)(now - tp->t_sndtime);
	ti->tcpi_last_data_recv = (uint32_t)(now - tp->t_rcvtime);
	ti->tcpi_last_ack_recv = ti->tcpi_last_data_recv;
	ti->tcpi_pmtu = tp->t_maxseg + 40;
	ti->tcpi_rtt = tp->t_srtt;
	ti->tcpi_rttvar = tp->t_rttvar;
	ti->tcpi_snd_ssthresh = tp->snd_ssthresh / mss;
	ti->tcpi_snd_cwnd = tp->snd_cwnd / mss;
	ti->tcpi_advmss = tp->t_ourmss;
	ti->tcpi_reordering = 3;
	ti->tcpi_rcv_space = tp->rcv_wnd;
	ti->tcpi_total_retrans = tp->t_total_retrans;
	ti->tcpi_bytes_in_flight = tp->snd_max - tp->snd_una;
	ti->tcpi_bytes_acked = tp->t_bytes_acked_total;
	ti->tcpi_bytes_received = tp->t_bytes_rcvd_total;
	ti->tcpi_snd_wnd = tp->snd_wnd;
	ti->tcpi_rcv_wnd = tp->rcv_wnd;
	ti->tcpi_snd_cwnd_bytes = tp->snd_cwnd;
	ti->tcpi_snd_ssthresh_bytes = tp->snd_ssthresh;
}
