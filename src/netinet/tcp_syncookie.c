/*
 * tcp_syncookie.c -- SYN cookies (RFC 4987 3.6): a SYN-ACK that keeps no
 * state, and the ACK that brings the state back.
 *
 * (tcp_input_listen(), SYN queue or the embryo bound full ->)
 *     tcp_syncookie_send() -> tcp_sc_cookie() -> ip_output()
 * (tcp_input_listen(), an ACK ->) tcp_syncookie_active(),
 *     tcp_syncookie_check() -> tcp_sc_cookie()
 *
 * Read first: RFC 4987 3.6 (cookies) and 3.3 (what the SYN-ACK cannot
 * remember), RFC 7323 (timestamps, window scale), RFC 2018
 * (SACK-permitted), RFC 3168 6.1.1 (ECN setup), RFC 6528 (a keyed hash
 * of the 4-tuple).
 *
 * The cookie is the ISS of our SYN-ACK:
 *
 *   bits 31..4  MAC: 28 bits of SipHash-2-4 under tcp_sc_key of the
 *               4-tuple, the peer's ISN, the period, the MSS index and
 *               the option byte (below)
 *   bit  3      the period's parity: the ACK says which of the last two
 *   bits 2..0   index into tcp_sc_msstab, the peer's MSS rounded down
 *
 * The period is TCP_SC_PERIOD of the instance's clock: a cookie is good
 * in its own period and the next, so for 16 to 32 seconds; the MAC
 * covers everything in the cookie, so one hash decides, and a flipped
 * bit anywhere fails it (2^-28 to guess).
 *
 * The option byte: what the SYN-ACK agreed to besides the MSS.  With
 * timestamps it travels in the low TCP_SC_OPTBITS bits of our TSval
 * and comes back in the ACK's TSecr: the peer's window shift (4 bits,
 * TCP_SC_WS_NONE when the peer did not offer scaling), SACK-permitted,
 * ECN.  Without timestamps there is nowhere to keep them: the SYN-ACK
 * offers neither window scaling nor SACK nor ECN (RFC 4987 3.6: the
 * price of a cookie).  The MAC covers the byte and whether timestamps
 * were agreed, so a TSecr that lost its bits does not make a connection
 * with the wrong window scale.
 *
 * Keeping TSval no greater than the clock: the low bits are replaced and,
 * when that moved TSval forward, 64 ms taken off; the connection's own
 * TSvals, read from the clock later, are never below it (RFC 7323 5.4).
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_output.h"
#include "netinet/tcp_var.h"
#include "sys/socketvar.h"

#define TCP_SC_PERIOD (16ull * 1000 * 1000 * 1000)	/* ns */
#define TCP_SC_MSSBITS 3
#define TCP_SC_PARITY 0x8u		/* the period's low bit */
#define TCP_SC_MACMASK 0xfffffff0u

/* the option byte: low bits in TSval, TCP_SC_TS hashed only */
#define TCP_SC_OPTBITS 6
#define TCP_SC_OPTMASK ((1u << TCP_SC_OPTBITS) - 1)
#define TCP_SC_WSMASK 0x0fu
#define TCP_SC_WS_NONE 0x0fu		/* no window scaling */
#define TCP_SC_SACK 0x10u
#define TCP_SC_ECN 0x20u
#define TCP_SC_TS 0x40u

/*
 * The MSS values a cookie can carry: the peer's offer is rounded down to
 * one of them (never up: we must not send segments it cannot take), so
 * they sit at or just below the offers seen in practice.
 *   64    the stack's own floor (tcp_mss_update()): nothing below it is
 *         used anyway, and an absurdly small offer is still honoured
 *   536   RFC 9293 3.7.1: the default without an MSS option
 *   1220  IPv6's minimum MTU 1280 less 60: clients clamped for tunnels
 *         and IPv6 paths
 *   1380  1420-byte tunnel MTUs (WireGuard) and VPN clamps
 *   1440  1500 less 60: common clamps on mobile and tunnelled paths
 *   1452  PPPoE (MTU 1492 less 40)
 *   1460  Ethernet: most offers
 *   8960  9000-byte jumbo frames (data centres)
 * Between entries a peer is served by the one below, at worst 5 % short
 * of its offer (1440 for 1450), which costs that much goodput only.
 */
static const uint16_t tcp_sc_msstab[1u << TCP_SC_MSSBITS] = {
	64, 536, 1220, 1380, 1440, 1452, 1460, 8960,
};

static uint64_t
tcp_sc_period_now(struct netstack *ns)
{
	return kern_clock_ns(ns->ns_kernel) / TCP_SC_PERIOD;
}

static unsigned
tcp_sc_mssidx(unsigned offer)
{
	unsigned i = __arraycount(tcp_sc_msstab) - 1;

	if (offer == 0)
		offer = TCP_MSS;
	while (i > 0 && tcp_sc_msstab[i] > offer)
		i--;
	return i;
}

unsigned
tcp_syncookie_mss(unsigned offer)
{
	return tcp_sc_msstab[tcp_sc_mssidx(offer)];
}

/* The option byte of sc (TCP_SC_TS included). */
static unsigned
tcp_sc_optbyte(const struct tcp_syncookie *sc)
{
	unsigned o;

	if (!sc->sc_ts)
		return TCP_SC_WS_NONE;
	o = TCP_SC_TS;
	o |= sc->sc_wscale >= 0 ? (unsigned)sc->sc_wscale : TCP_SC_WS_NONE;
	if (sc->sc_sack)
		o |= TCP_SC_SACK;
	if (sc->sc_ecn)
		o |= TCP_SC_ECN;
	return o;
}

/* The cookie of sc's connection for period, MSS index and option byte. */
static tcp_seq
tcp_sc_cookie(struct netstack *ns, const struct tcp_syncookie *sc,
    uint64_t period, unsigned idx, unsigned opt)
{
	uint32_t msg[7] = {
		sc->sc_laddr.s_addr, sc->sc_faddr.s_addr,
		(uint32_t)sc->sc_lport << 16 | sc->sc_fport, sc->sc_irs,
		(uint32_t)period, (uint32_t)(period >> 32), idx | opt << 8,
	};
	uint64_t h;

	(void)hyper_siphash24(ns->ns_tcp->tcp_sc_key, msg, sizeof(msg), &h);
	return ((uint32_t)(h >> 32) & TCP_SC_MACMASK) |
	    ((uint32_t)period & 1) * TCP_SC_PARITY | idx;
}

/* The options of the SYN-ACK into opt (RFC 9293 3.7.1, RFC 7323, 2018). */
static int
tcp_sc_options(struct tcpcb *ltp, const struct tcp_syncookie *sc,
    uint32_t tsval, uint32_t tsecr, uint8_t *opt)
{
	struct netstack *ns = ltp->t_ns;
	unsigned mss;
	int n = 0;

	if (ltp->t_flags & TF_NOOPT)
		return 0;
	mss = tcp_mss_offer(ns, sc->sc_laddr, sc->sc_faddr,
	    ltp->t_inpcb->inp_bindif, ltp->t_usermss);
	opt[n++] = TCPOPT_MAXSEG;
	opt[n++] = TCPOLEN_MAXSEG;
	opt[n++] = (uint8_t)(mss >> 8);
	opt[n++] = (uint8_t)mss;
	/* tcp_build_options()'s layout: SACK-permitted shares a word */
	if (sc->sc_sack) {
		opt[n++] = TCPOPT_SACK_PERMITTED;
		opt[n++] = TCPOLEN_SACK_PERMITTED;
	} else if (sc->sc_ts) {
		opt[n++] = TCPOPT_NOP;
		opt[n++] = TCPOPT_NOP;
	}
	if (sc->sc_ts) {
		uint32_t v;

		opt[n++] = TCPOPT_TIMESTAMP;
		opt[n++] = TCPOLEN_TIMESTAMP;
		v = htonl(tsval);
		memcpy(opt + n, &v, 4);
		v = htonl(tsecr);
		memcpy(opt + n + 4, &v, 4);
		n += 8;
	}
	if (sc->sc_wscale >= 0) {
		opt[n++] = TCPOPT_NOP;
		opt[n++] = TCPOPT_WINDOW;
		opt[n++] = TCPOLEN_WINDOW;
		opt[n++] = tcp_rscale(ltp);
	}
	return n;
}

/*
 * tcp_sc_tsval: our TSval for the SYN-ACK, the option byte in its low
 * bits, never ahead of the clock (the connection's TSvals come from it).
 */
static uint32_t
tcp_sc_tsval(struct netstack *ns, const struct tcp_syncookie *sc)
{
	uint32_t now = tcp_now(ns) + tcp_ts_offset(ns, sc->sc_laddr,
	    sc->sc_faddr);
	uint32_t o = tcp_sc_optbyte(sc) & TCP_SC_OPTMASK;
	uint32_t tsval = (now & ~TCP_SC_OPTMASK) | o;

	if (o > (now & TCP_SC_OPTMASK))
		tsval -= TCP_SC_OPTMASK + 1;
	return tsval;
}

void
tcp_syncookie_send(struct tcpcb *ltp, const struct tcp_syncookie *sc,
    uint32_t tsecr)
{
	struct netstack *ns = ltp->t_ns;
	struct tcpstat *st = &ns->ns_tcp->tcp_stat;
	uint64_t period = tcp_sc_period_now(ns);
	unsigned idx = tcp_sc_mssidx(sc->sc_mss);
	uint8_t opt[TCP_MAXOLEN];
	struct tcphdr *th;
	struct mbuf *m;
	struct ip *ip;
	int optlen;

	KASSERT(tcp_sc_msstab[idx] == sc->sc_mss);
	KASSERT(sc->sc_ts || (sc->sc_wscale < 0 && !sc->sc_sack &&
	    !sc->sc_ecn));
	optlen = tcp_sc_options(ltp, sc, tcp_sc_tsval(ns, sc), tsecr, opt);
	while (optlen & 3)
		opt[optlen++] = TCPOPT_EOL;
	if ((m = tcp_bare_segment(ns, sc->sc_laddr, sc->sc_lport,
	    sc->sc_faddr, sc->sc_fport, optlen, &th)) == NULL)
		return;
	ip = mtod(m, struct ip *);
	if (in_pcb_df(ltp->t_inpcb))	/* as tcp_output's SYN-ACK */
		ip->ip_off = htons(IP_DF);
	ip->ip_ttl = ltp->t_inpcb->inp_ttl;
	ip->ip_tos = ltp->t_inpcb->inp_tos & ~IPTOS_ECN_MASK;
	th->th_seq = htonl(tcp_sc_cookie(ns, sc, period, idx,
	    tcp_sc_optbyte(sc)));
	th->th_ack = htonl(sc->sc_irs + 1);
	/* RFC 3168 6.1.1: an ECN-setup SYN-ACK has ECE and not CWR */
	th->th_flags = TH_SYN | TH_ACK | (sc->sc_ecn ? TH_ECE : 0);
	/* RFC 7323 2.2: a SYN's window is never scaled */
	th->th_win = htons((uint16_t)MIN(tcp_rcvbuff(ltp), (unsigned)TCP_MAXWIN));
	if (optlen > 0)
		memcpy(th + 1, opt, (size_t)optlen);
	m->m_pkthdr.csum_flags = M_CSUM_TCPv4;
	/* the ACK of this cookie is looked for until the next period ends */
	ltp->t_sc_period = period + 1;
	tcp_syncookie_group(ltp);
	st->tcps_sndtotal++;
	st->tcps_sndctrl++;
	if (ip_output_oif(m, 0, ltp->t_inpcb->inp_bindif) == 0)
		st->tcps_sc_sent++;
}

bool
tcp_syncookie_active(const struct tcpcb *ltp)
{
	return ltp->t_sc_period != 0 &&
	    tcp_sc_period_now(ltp->t_ns) <= ltp->t_sc_period;
}

/* in_pcbgroup_foreach(): the latest cookie period of the group */
static void
tcp_sc_group_max(struct inpcb *inp, void *arg)
{
	struct tcpcb *tp = intotcpcb(inp);
	uint64_t *last = arg;

	if (tp != NULL)
		*last = MAX(*last, tp->t_sc_period);
}

static void
tcp_sc_group_set(struct inpcb *inp, void *arg)
{
	struct tcpcb *tp = intotcpcb(inp);

	if (tp != NULL)
		tp->t_sc_period = *(uint64_t *)arg;
}

void
tcp_syncookie_group(struct tcpcb *ltp)
{
	struct inpcb *inp = ltp->t_inpcb;
	uint64_t last = ltp->t_sc_period;

	if (!(inp->inp_socket->so_options & SOO_REUSEPORT))
		return;
	in_pcbgroup_foreach(inp, tcp_inp_listening, tcp_sc_group_max, &last);
	in_pcbgroup_foreach(inp, tcp_inp_listening, tcp_sc_group_set, &last);
}

bool
tcp_syncookie_check(struct tcpcb *ltp, struct tcp_syncookie *sc,
    tcp_seq iss, bool ts, uint32_t tsecr)
{
	struct netstack *ns = ltp->t_ns;
	uint64_t now = tcp_sc_period_now(ns), period = now;
	unsigned idx = iss & ((1u << TCP_SC_MSSBITS) - 1), opt;

	/* which of the last two periods: the one with the cookie's parity */
	if ((now & 1) != ((iss & TCP_SC_PARITY) != 0)) {
		if (now == 0)
			return false;
		period = now - 1;
	}
	opt = ts ? TCP_SC_TS | (tsecr & TCP_SC_OPTMASK) : TCP_SC_WS_NONE;
	if (tcp_sc_cookie(ns, sc, period, idx, opt) != iss)
		return false;
	sc->sc_mss = tcp_sc_msstab[idx];
	sc->sc_ts = ts;
	sc->sc_wscale = ts && (opt & TCP_SC_WSMASK) != TCP_SC_WS_NONE ?
	    (int)(opt & TCP_SC_WSMASK) : -1;
	sc->sc_sack = (opt & TCP_SC_SACK) != 0;
	sc->sc_ecn = (opt & TCP_SC_ECN) != 0;
	return true;
}
