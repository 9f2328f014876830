/*
 * tcp_fastopen.c -- TCP Fast Open (RFC 7413): the cookie a server makes,
 * the cookies a client keeps, and the option that carries them.
 *
 * (tcp_input_listen(), a SYN with the option ->) tcp_tfo_cookie()
 * (tcp_build_options(), our SYN or SYN-ACK ->) tcp_tfo_option()
 * (tcp_input_synsent(), a SYN-ACK with a cookie ->) tcp_tfo_cache_put()
 * (tcp_output(), our first SYN ->) tcp_tfo_cache_get()
 *
 * Read first: RFC 7413 4.1 (the option and the cookie), 4.2 (the
 * client's and the server's part), 5.1 (TCP_FASTOPEN's queue bounds what
 * a server takes on trust).
 *
 * The cookie (4.1.2) is the 8 bytes of SipHash-2-4 under tcp_tfo_key,
 * random for each instance, of the client's and the server's addresses:
 * only a host that received a SYN-ACK at its address can send it back.
 * The key does not change while the instance lives (the RFC's SHOULD for
 * a changing key is left to a restart).
 *
 * A client keeps the cookies servers gave it by server address, in
 * tcp_tfo_cache (TCP_TFO_CACHE of them; a new one takes the place of the
 * least recently used).  Only its first SYN carries data: one sent again
 * after a timeout goes without, and the data follows the handshake; and
 * for TCP_TFO_LOSS_TICKS after that the server gets no Fast Open at all
 * (4.1.3.1: a middlebox may drop SYNs with data or unknown options).
 *
 * Locks: the net lock, as for all TCP state.
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "netinet/in.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"

/* The cookie for a client at faddr talking to laddr (RFC 7413 4.1.2). */
void
tcp_tfo_cookie(struct netstack *ns, struct in_addr faddr, struct in_addr laddr,
    uint8_t cookie[TCP_FASTOPEN_COOKIE_LEN])
{
	uint32_t msg[2] = { faddr.s_addr, laddr.s_addr };
	uint64_t h;

	(void)hyper_siphash24(ns->ns_tcp->tcp_tfo_key, msg, sizeof(msg), &h);
	for (int i = 0; i < TCP_FASTOPEN_COOKIE_LEN; i++)
		cookie[i] = (uint8_t)(h >> (8 * i));
}

static struct tcp_tfo_ent *
tcp_tfo_cache_find(struct tcp_state *ts, struct in_addr addr)
{
	for (unsigned i = 0; i < TCP_TFO_CACHE; i++)
		if (ts->tcp_tfo_cache[i].te_addr.s_addr == addr.s_addr)
			return &ts->tcp_tfo_cache[i];
	return NULL;
}

/*
 * The cookie the server at addr gave us: its length, 0 when none; the
 * MSS it offered then into *mss (0: unknown).
 */
unsigned
tcp_tfo_cache_get(struct netstack *ns, struct in_addr addr,
    uint8_t cookie[TCP_FASTOPEN_COOKIE_MAX], unsigned *mss)
{
	struct tcp_tfo_ent *te;

	*mss = 0;
	if (addr.s_addr == INADDR_ANY ||
	    (te = tcp_tfo_cache_find(ns->ns_tcp, addr)) == NULL)
		return 0;
	te->te_used = kern_clock_ticks(ns->ns_kernel);
	memcpy(cookie, te->te_cookie, te->te_len);
	*mss = te->te_mss;
	return te->te_len;
}

/*
 * Keep the cookie the server at addr gave (len 4 to 16 bytes) and the
 * MSS its SYN-ACK offered (0: none), or with len 0 forget the one it had.
 */
void
tcp_tfo_cache_put(struct netstack *ns, struct in_addr addr,
    const uint8_t *cookie, unsigned len, unsigned mss)
{
	struct tcp_state *ts = ns->ns_tcp;
	struct tcp_tfo_ent *te = tcp_tfo_cache_find(ts, addr);

	KASSERT(len == 0 || (len >= TCP_FASTOPEN_COOKIE_MIN &&
	    len <= TCP_FASTOPEN_COOKIE_MAX));
	if (len == 0) {
		if (te != NULL)
			memset(te, 0, sizeof(*te));
		return;
	}
	if (te == NULL) {
		te = &ts->tcp_tfo_cache[0];
		for (unsigned i = 0; i < TCP_TFO_CACHE; i++) {
			struct tcp_tfo_ent *e = &ts->tcp_tfo_cache[i];

			if (e->te_addr.s_addr == INADDR_ANY) {
				te = e;
				break;
			}
			if (e->te_used < te->te_used)
				te = e;
		}
		te->te_lost = 0;	/* (a loss stays with its server) */
	}
	te->te_addr = addr;
	te->te_len = (uint8_t)len;
	te->te_mss = (uint16_t)MIN(mss, 65535u);
	memcpy(te->te_cookie, cookie, len);
	te->te_used = kern_clock_ticks(ns->ns_kernel);
}

/*
 * The data our first SYN can carry: with a cookie for the server, what
 * fits in the MSS it offered last time (536 if unknown, RFC 9293 3.7.1)
 * and ours, less the most the options can take; without one, nothing
 * (the SYN asks for a cookie).
 */
/* Fast Open to the server at addr is off for a while after a loss. */
static bool
tcp_tfo_off(struct netstack *ns, struct in_addr addr)
{
	struct tcp_tfo_ent *te = tcp_tfo_cache_find(ns->ns_tcp, addr);

	return te != NULL && te->te_lost != 0 &&
	    kern_clock_ticks(ns->ns_kernel) - te->te_lost < TCP_TFO_LOSS_TICKS;
}

void
tcp_tfo_lost(struct tcpcb *tp)
{
	struct tcp_tfo_ent *te = tcp_tfo_cache_find(tp->t_ns->ns_tcp,
	    tp->t_inpcb->inp_faddr);

	/* (a SYN with data had a cookie, so the server has an entry) */
	if (te != NULL)
		te->te_lost = MAX(kern_clock_ticks(tp->t_ns->ns_kernel), 1);
}

unsigned
tcp_tfo_syn_room(struct tcpcb *tp)
{
	uint8_t cookie[TCP_FASTOPEN_COOKIE_MAX];
	unsigned mss;

	if ((tp->t_flags & TF_NOOPT) ||
	    tcp_tfo_off(tp->t_ns, tp->t_inpcb->inp_faddr) ||
	    tcp_tfo_cache_get(tp->t_ns, tp->t_inpcb->inp_faddr, cookie,
	    &mss) == 0)
		return 0;
	if (mss == 0)
		mss = TCP_MSS;
	mss = MIN(mss, tcp_mss_local(tp));
	return mss > TCP_MAXOLEN ? mss - TCP_MAXOLEN : 0;
}

/*
 * The Fast Open option of our SYN or SYN-ACK into opt, padded to a
 * multiple of 4 with NOPs in front; returns its length, 0 when the
 * segment carries none or room (bytes of option space left) is too
 * small.  A SYN-ACK carries our cookie when the SYN asked for one or
 * brought one that was not good (TF_TFO_COOKIE); a first SYN of
 * MSG_FASTOPEN the cookie we hold, or a request for one.
 */
int
tcp_tfo_option(struct tcpcb *tp, uint8_t flags, uint8_t *opt, int room)
{
	struct inpcb *inp = tp->t_inpcb;
	struct tcpstat *st = &tp->t_ns->ns_tcp->tcp_stat;
	uint8_t cookie[TCP_FASTOPEN_COOKIE_MAX];
	unsigned len, mss;
	int n = 0, need;

	if (!(flags & TH_SYN))
		return 0;
	if (flags & TH_ACK) {
		if (!(tp->t_flags & TF_TFO_COOKIE))
			return 0;
		tcp_tfo_cookie(tp->t_ns, inp->inp_faddr, inp->inp_laddr,
		    cookie);
		len = TCP_FASTOPEN_COOKIE_LEN;
	} else {
		if (!(tp->t_flags & TF_TFO_ACTIVE) || tp->t_rxtshift > 0 ||
		    tcp_tfo_off(tp->t_ns, inp->inp_faddr))
			return 0;
		len = tcp_tfo_cache_get(tp->t_ns, inp->inp_faddr, cookie,
		    &mss);
	}
	need = (int)(2 + len + 3) & ~3;
	if (need > room)
		return 0;
	if (flags & TH_ACK)
		st->tcps_tfo_cookiesent++;
	else if (len == 0)
		st->tcps_tfo_synreq++;
	while (n < need - (int)(2 + len))
		opt[n++] = TCPOPT_NOP;
	opt[n++] = TCPOPT_FASTOPEN;
	opt[n++] = (uint8_t)(2 + len);
	memcpy(opt + n, cookie, len);
	return n + (int)len;
}
