/*
 * ip_icmp.c -- ICMP for IPv4.
 *
 * (ip_input() ->) icmp_input() -> icmp_reflect() (echo) | icmp_ctlinput()
 *     (errors: checked, then for the transport protocols)
 *     -> rip_input() (raw sockets: all but the echo requests answered)
 * (ip_input(), udp_input(), reassembly timer ->) icmp_error()
 *
 * Read first: RFC 792, RFC 1122 3.2.2 (when never to send an error: about
 * an ICMP error, a broadcast or multicast, a non-first fragment, a source
 * that is not a unique host; 3.2.2.6 echo; rate limiting: RFC 1812 4.3.2.8).
 */
#include "kern/kernel.h"
#include "net/if.h"
#include "net/netstack.h"
#include "netinet/in_cksum.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/ip_icmp.h"
#include "netinet/ip_output.h"
#include "netinet/ip_var.h"
#include "netinet/raw_ip_var.h"
#include "netinet/tcp_var.h"
#include "netinet/udp_var.h"

#define ICMP_RATE 100		/* errors per second */
#define ICMP_BURST 50
#define ICMP_QUOTE 8		/* bytes of the original data (RFC 792) */

static struct netstack *
icmp_ns(void)
{
	return curlwp->l_kernel->k_net;
}

/* Token bucket; true when an error may be sent now. */
static bool
icmp_ratecheck(struct netstack *ns)
{
	struct icmp_ratelim *rl = &ns->ns_icmp_rl;
	uint64_t now = kern_clock_ns(ns->ns_kernel) / 1000000u;

	if (rl->rl_rate == 0) {		/* first use */
		rl->rl_rate = ICMP_RATE;
		rl->rl_burst = ICMP_BURST;
		rl->rl_tokens_milli = (uint64_t)ICMP_BURST * 1000;
		rl->rl_last_ms = now;
	}
	rl->rl_tokens_milli += (now - rl->rl_last_ms) * rl->rl_rate;
	rl->rl_last_ms = now;
	if (rl->rl_tokens_milli > (uint64_t)rl->rl_burst * 1000)
		rl->rl_tokens_milli = (uint64_t)rl->rl_burst * 1000;
	if (rl->rl_tokens_milli < 1000)
		return false;
	rl->rl_tokens_milli -= 1000;
	return true;
}

static bool
icmp_badsrc(struct in_addr src)
{
	uint32_t s = ntohl(src.s_addr);

	return s == INADDR_ANY || s == INADDR_BROADCAST || IN_MULTICAST(s) ||
	    IN_EXPERIMENTAL(s) || IN_LOOPBACK(s) || IN_ZERONET(s);
}

void
icmp_error(struct mbuf *m, int type, int code, uint16_t mtu)
{
	struct netstack *ns = icmp_ns();
	struct icmpstat *st = &ns->ns_icmpstat;
	struct ip *oip = mtod(m, struct ip *), *nip;
	int ohlen = IP_HL(oip) << 2, olen = ntohs(oip->ip_len), quote;
	struct ifnet *ifp = m->m_pkthdr.rcvif;
	struct in_ifaddr *ia;
	struct icmp *icp;
	struct mbuf *n;

	st->icps_error++;
	if (oip->ip_p == IPPROTO_ICMP && type != ICMP_REDIRECT) {
		uint8_t otype = 0xff;

		if (olen > ohlen)
			m_copydata(m, ohlen, 1, &otype);
		if (olen <= ohlen || icmp_is_error(otype)) {
			st->icps_oldicmp++;
			goto drop;
		}
	}
	if ((m->m_flags & (M_BCAST | M_MCAST)) ||
	    IN_MULTICAST(ntohl(oip->ip_dst.s_addr)) ||
	    in_broadcast(oip->ip_dst, ifp)) {
		st->icps_bmcast++;
		goto drop;
	}
	if (ntohs(oip->ip_off) & IP_OFFMASK) {
		st->icps_notfirst++;
		goto drop;
	}
	if (icmp_badsrc(oip->ip_src) || in_broadcast(oip->ip_src, ifp)) {
		st->icps_badsrc++;
		goto drop;
	}
	if (!icmp_ratecheck(ns)) {
		st->icps_ratelimited++;
		goto drop;
	}
	quote = MIN(olen, ohlen + ICMP_QUOTE);
	if ((n = m_gethdr(M_DONTWAIT, MT_DATA)) == NULL) {
		st->icps_nobufs++;
		goto drop;
	}
	n->m_data += 16;	/* room for the Ethernet header */
	n->m_len = n->m_pkthdr.len = IP_MINHLEN + ICMP_MINLEN + quote;
	nip = mtod(n, struct ip *);
	icp = (struct icmp *)(void *)(nip + 1);
	memset(nip, 0, IP_MINHLEN + ICMP_MINLEN);
	m_copydata(m, 0, quote, (char *)icp + ICMP_MINLEN);
	icp->icmp_type = (uint8_t)type;
	icp->icmp_code = (uint8_t)code;
	if (type == ICMP_UNREACH && code == ICMP_UNREACH_NEEDFRAG)
		icp->icmp_hun.frag.mtu = htons(mtu);
	icp->icmp_cksum = in_cksum_buf(icp, (size_t)(ICMP_MINLEN + quote));
	nip->ip_vhl = IP_VHL(IPVERSION, IP_MINHLEN >> 2);
	nip->ip_len = htons((uint16_t)n->m_pkthdr.len);
	nip->ip_ttl = IPDEFTTL;
	nip->ip_p = IPPROTO_ICMP;
	/* from the address the datagram was sent to, if that is ours */
	if (in_ifaddr_lookup(ns->ns_kernel, oip->ip_dst) != NULL)
		nip->ip_src = oip->ip_dst;
	else if (ifp != NULL && (ia = in_ifaddr_of(ifp)) != NULL)
		nip->ip_src = ia->ia_addr;
	nip->ip_dst = oip->ip_src;
	if (type <= ICMP_MAXTYPE)
		st->icps_outhist[type]++;
	(void)ip_output(n, 0);
drop:
	m_freem(m);
}

/* Answer an echo request in place: RFC 1122 3.2.2.6. */
static void
icmp_reflect(struct netstack *ns, struct mbuf *m, int hlen)
{
	struct ip *ip = mtod(m, struct ip *), base;
	struct icmp *icp;
	int icmplen = ntohs(ip->ip_len) - hlen;

	base = *ip;
	/* the reply carries no IP options */
	m_adj(m, hlen);
	if ((m = m_prepend_fast(m, IP_MINHLEN, M_DONTWAIT)) == NULL) {
		ns->ns_icmpstat.icps_nobufs++;
		return;
	}
	if (m->m_len < IP_MINHLEN + ICMP_MINLEN &&
	    (m = m_pullup(m, IP_MINHLEN + ICMP_MINLEN)) == NULL) {
		ns->ns_icmpstat.icps_nobufs++;
		return;
	}
	ip = mtod(m, struct ip *);
	*ip = base;
	ip->ip_vhl = IP_VHL(IPVERSION, IP_MINHLEN >> 2);
	ip->ip_len = htons((uint16_t)(IP_MINHLEN + icmplen));
	ip->ip_off = 0;
	ip->ip_ttl = IPDEFTTL;
	ip->ip_src = base.ip_dst;
	ip->ip_dst = base.ip_src;
	icp = (struct icmp *)(void *)(ip + 1);
	icp->icmp_type = ICMP_ECHOREPLY;
	icp->icmp_cksum = 0;
	icp->icmp_cksum = in_cksum(m, IP_MINHLEN, icmplen);
	m->m_flags &= ~(M_BCAST | M_MCAST);
	ns->ns_icmpstat.icps_reflect++;
	ns->ns_icmpstat.icps_outhist[ICMP_ECHOREPLY]++;
	(void)ip_output(m, 0);
}

/*
 * An error about one of our datagrams: check that it quotes a whole IP
 * header and 8 bytes (RFC 792; RFC 1122 3.2.2), then hand it to the
 * transport protocol.  Returns false for one quoting too little (counted).
 * m is not consumed.
 */
static bool
icmp_ctlinput(struct netstack *ns, struct mbuf *m, int hlen, int icmplen)
{
	struct icmp icmph;
	struct ip qip;

	if (icmplen < ICMP_MINLEN + IP_MINHLEN + ICMP_QUOTE) {
		ns->ns_icmpstat.icps_badlen++;
		return false;
	}
	m_copydata(m, hlen + ICMP_MINLEN, IP_MINHLEN, &qip);
	if (IP_V(&qip) != IPVERSION || IP_HL(&qip) < 5 ||
	    icmplen < ICMP_MINLEN + (IP_HL(&qip) << 2) + ICMP_QUOTE) {
		ns->ns_icmpstat.icps_badlen++;
		return false;
	}
	m_copydata(m, hlen, ICMP_MINLEN, &icmph);
	if (qip.ip_p == IPPROTO_UDP)
		udp_ctlinput(icmph.icmp_type, icmph.icmp_code,
		    ntohs(icmph.icmp_hun.frag.mtu), &qip, m,
		    hlen + ICMP_MINLEN + (IP_HL(&qip) << 2));
	else if (qip.ip_p == IPPROTO_TCP)
		tcp_ctlinput(icmph.icmp_type, icmph.icmp_code,
		    ntohs(icmph.icmp_hun.frag.mtu), &qip, m,
		    hlen + ICMP_MINLEN + (IP_HL(&qip) << 2));
	return true;
}

void
icmp_input(struct mbuf *m, int hlen)
{
	struct netstack *ns = icmp_ns();
	struct icmpstat *st = &ns->ns_icmpstat;
	struct ip *ip = mtod(m, struct ip *);
	int icmplen = ntohs(ip->ip_len) - hlen;
	struct icmp icmph;

	if (icmplen < ICMP_MINLEN) {
		st->icps_tooshort++;
		goto drop;
	}
	if (IN_CKSUM_VERIFY && in_cksum(m, hlen, icmplen) != 0) {
		st->icps_checksum++;
		goto drop;
	}
	m_copydata(m, hlen, ICMP_MINLEN, &icmph);
	if (icmph.icmp_type <= ICMP_MAXTYPE)
		st->icps_inhist[icmph.icmp_type]++;
	switch (icmph.icmp_type) {
	case ICMP_ECHO:
		if (m->m_flags & (M_BCAST | M_MCAST)) {
			st->icps_bmcastecho++;
			break;		/* not answered */
		}
		if (ip->ip_src.s_addr == INADDR_ANY) {
			/* RFC 1122 3.2.1.3 (a): 0.0.0.0 is never a destination */
			st->icps_badsrc++;
			break;
		}
		icmp_reflect(ns, m, hlen);
		return;
	case ICMP_ECHOREPLY:
		ns->ns_echo.es_count++;
		ns->ns_echo.es_src = ip->ip_src;
		ns->ns_echo.es_id = ntohs(icmph.icmp_hun.echo.id);
		ns->ns_echo.es_seq = ntohs(icmph.icmp_hun.echo.seq);
		ns->ns_echo.es_len = (uint16_t)(icmplen - ICMP_MINLEN);
		break;
	case ICMP_UNREACH:
	case ICMP_TIMXCEED:
	case ICMP_PARAMPROB:
	case ICMP_SOURCEQUENCH:
		if (!icmp_ctlinput(ns, m, hlen, icmplen))
			goto drop;
		break;
	default:
		break;
	}
	/* as BSD: what ICMP did not consume goes to raw sockets too */
	(void)rip_input(ns, m);
drop:
	m_freem(m);
}

int
icmp_echo_send(struct in_addr dst, uint16_t id, uint16_t seq,
    const void *data, size_t len)
{
	struct ip *ip;
	struct icmp *icp;
	struct mbuf *m;
	int hl = IP_MINHLEN + ICMP_MINLEN;

	if (len > IP_MAXPACKET - (size_t)hl)
		return EMSGSIZE;
	if ((m = m_gethdr(M_DONTWAIT, MT_DATA)) == NULL)
		return ENOBUFS;
	m->m_data += 16;
	m->m_len = m->m_pkthdr.len = hl;
	ip = mtod(m, struct ip *);
	memset(ip, 0, (size_t)hl);
	if (len > 0 && !m_append(m, (int)len, data)) {
		m_freem(m);
		return ENOBUFS;
	}
	icp = (struct icmp *)(void *)(ip + 1);
	icp->icmp_type = ICMP_ECHO;
	icp->icmp_hun.echo.id = htons(id);
	icp->icmp_hun.echo.seq = htons(seq);
	icp->icmp_cksum = in_cksum(m, IP_MINHLEN, ICMP_MINLEN + (int)len);
	ip->ip_vhl = IP_VHL(IPVERSION, IP_MINHLEN >> 2);
	ip->ip_len = htons((uint16_t)m->m_pkthdr.len);
	ip->ip_ttl = IPDEFTTL;
	ip->ip_p = IPPROTO_ICMP;
	ip->ip_dst = dst;
	icmp_ns()->ns_icmpstat.icps_outhist[ICMP_ECHO]++;
	return ip_output(m, 0);
}

/*
 * Destination unreachable, by code (RFC 792, RFC 1122 3.2.2.1, RFC 1812
 * 5.2.7.1): Linux's errno and whether it is hard.  Code 8 (host isolated)
 * is Linux's ENONET, which not every POSIX host has: EHOSTUNREACH here.
 */
static const struct {
	int ue_errno;
	bool ue_hard;
} icmp_unreach_errno[16] = {
	{ ENETUNREACH, false },		/* net */
	{ EHOSTUNREACH, false },	/* host */
	{ ENOPROTOOPT, true },		/* protocol */
	{ ECONNREFUSED, true },		/* port */
	{ EMSGSIZE, false },		/* fragmentation needed */
	{ EOPNOTSUPP, false },		/* source route failed */
	{ ENETUNREACH, true },		/* net unknown */
	{ EHOSTDOWN, true },		/* host unknown */
	{ EHOSTUNREACH, true },		/* host isolated */
	{ ENETUNREACH, true },		/* net prohibited */
	{ EHOSTUNREACH, true },		/* host prohibited */
	{ ENETUNREACH, false },		/* net, for the TOS */
	{ EHOSTUNREACH, false },	/* host, for the TOS */
	{ EHOSTUNREACH, true },		/* communication prohibited */
	{ EHOSTUNREACH, true },		/* host precedence violation */
	{ EHOSTUNREACH, true },		/* precedence cutoff */
};

int
icmp_errno(int type, int code, bool *hard)
{
	bool h = false;
	int error = 0;

	if (type == ICMP_TIMXCEED)
		error = EHOSTUNREACH;
	else if (type == ICMP_PARAMPROB) {
		error = EPROTO;
		h = true;
	} else if (type == ICMP_UNREACH && code >= 0 &&
	    code < (int)__arraycount(icmp_unreach_errno)) {
		error = icmp_unreach_errno[code].ue_errno;
		h = icmp_unreach_errno[code].ue_hard;
	} else if (type == ICMP_UNREACH) {
		error = EHOSTUNREACH;	/* a code to come: soft (Linux) */
	}
	if (hard != NULL)
		*hard = h;
	return error;
}
