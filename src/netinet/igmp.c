/*
 * igmp.c -- IGMP version 2 for hosts (RFC 2236), with the IGMPv1 router
 * compatibility of its section 4 and IGMPv3 queries taken as version 2
 * ones (RFC 3376 7.2.1).
 *
 * (in_addmulti() ->) igmp_joingroup() -> igmp_send() -> ip_output_if()
 * (in_delmulti() ->) igmp_leavegroup() -> igmp_send()
 * (ip_deliver() ->) igmp_input() -> igmp_query() | igmp_report()
 *     -> rip_input() (raw IGMP sockets)
 * (callout, each IGMP_TICK_MS while a timer runs) igmp_tick() -> igmp_send()
 *
 * Read first: RFC 2236 (3: the protocol; 6: the host state diagram; 8:
 * the timers), RFC 2113 (the Router Alert option every message carries),
 * RFC 3376 4.1.1 (a version 3 query's Max Resp Code).
 *
 * Each group of an interface but 224.0.0.1 is a member "delaying"
 * (inm_due: the time a report is due) or "idle" (0).  A
 * join sends a report at once and a second one after a random delay
 * within the Unsolicited Report Interval (RFC 2236 3: "repeat once or
 * twice").  A query starts the timer with a random delay within its Max
 * Response Time, or shortens a longer one; another host's report for the
 * group stops it (one report per group on the link suffices).  A leave
 * message goes to 224.0.0.2 only if our report was the last one heard
 * (the RFC's "flag").  While an IGMPv1 querier was heard in the last 400 s
 * reports are of version 1 and no leave is sent.  A report cannot go
 * from an interface without an address: the interface's groups are
 * reported when it gets one, or comes up.
 *
 * Malformed messages are counted and dropped: too short, bad checksum,
 * a query of 9 to 11 bytes (RFC 3376 7.1), a query or report for an
 * address that is not a group, a report not sent to its group.
 */
#include "kern/kernel.h"
#include "net/if.h"
#include "net/if_ether.h"
#include "net/netstack.h"
#include "netinet/igmp_var.h"
#include "netinet/in_cksum.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/ip_output.h"
#include "netinet/raw_ip_var.h"

static uint64_t
igmp_now_ms(struct netstack *ns)
{
	return kern_clock_ns(ns->ns_kernel) / 1000000u;
}

/* A random number of ticks in [1, max] (RFC 2236 3: "random delay"). */
static unsigned
igmp_random(unsigned max)
{
	uint32_t r = 0;

	if (max <= 1)
		return 1;
	(void)hyper_getrandom(&r, sizeof(r));
	return 1 + r % max;
}

static bool
igmp_v1_querier(struct netstack *ns, const struct ifnet *ifp)
{
	return ifp->if_igmp_v1until > igmp_now_ms(ns);
}

/*
 * A report of inm is due in ticks (of IGMP_TICK_MS); the instance's
 * timer ticks while one is.
 */
static void
igmp_settimer(struct in_multi *inm, unsigned ticks)
{
	struct netstack *ns = inm->inm_ifp->if_kernel->k_net;

	inm->inm_due = igmp_now_ms(ns) + (uint64_t)ticks * IGMP_TICK_MS;
	if (!callout_pending(&ns->ns_igmptimer))
		callout_schedule(&ns->ns_igmptimer, IGMP_TICK_MS * hz / 1000);
}

/*
 * Send a message of type about group to dst out of ifp: TTL 1, the Router
 * Alert option (RFC 2236 2), from the interface's address.  Nothing goes
 * from an interface that is down or has no address (false).
 */
static bool
igmp_send(struct ifnet *ifp, uint8_t type, struct in_addr group,
    struct in_addr dst)
{
	struct netstack *ns = ifp->if_kernel->k_net;
	const int hlen = IP_MINHLEN + 4, len = hlen + IGMP_MINLEN;
	struct in_ifaddr *ia;
	struct igmp *igmp;
	struct mbuf *m;
	struct ip *ip;
	uint8_t *ra;

	if (!(ifp->if_flags & IFF_UP) || (ifp->if_flags & IFF_LOOPBACK) ||
	    (ia = in_ifaddr_of(ifp)) == NULL)
		return false;
	if ((m = m_gethdr(M_DONTWAIT, MT_DATA)) == NULL) {
		ns->ns_igmpstat.igps_nobufs++;
		return false;
	}
	m->m_data += ETHER_HDR_LEN + 2;		/* room for the link header */
	m->m_len = m->m_pkthdr.len = len;
	ip = mtod(m, struct ip *);
	memset(ip, 0, (size_t)len);
	ip->ip_vhl = IP_VHL(IPVERSION, hlen >> 2);
	ip->ip_tos = IPTOS_PREC_INTERNETCONTROL;
	ip->ip_len = htons((uint16_t)len);
	ip->ip_ttl = 1;
	ip->ip_p = IPPROTO_IGMP;
	ip->ip_src = ia->ia_addr;
	ip->ip_dst = dst;
	ra = (uint8_t *)(ip + 1);
	ra[0] = IPOPT_RA;
	ra[1] = 4;			/* value 0: "examine the packet" */
	igmp = (struct igmp *)(void *)(ra + 4);
	igmp->igmp_type = type;
	igmp->igmp_group = group;
	igmp->igmp_cksum = in_cksum_buf(igmp, IGMP_MINLEN);
	if (type == IGMP_V2_LEAVE_GROUP)
		ns->ns_igmpstat.igps_snd_leaves++;
	else
		ns->ns_igmpstat.igps_snd_reports++;
	ns->ns_ipstat.ips_localout++;
	(void)ip_output_if(m, 0, ifp, dst);	/* a drop there is counted */
	return true;
}

static void
igmp_report(struct in_multi *inm)
{
	struct netstack *ns = inm->inm_ifp->if_kernel->k_net;

	if (igmp_send(inm->inm_ifp, igmp_v1_querier(ns, inm->inm_ifp) ?
	    IGMP_V1_MEMBERSHIP_REPORT : IGMP_V2_MEMBERSHIP_REPORT,
	    inm->inm_addr, inm->inm_addr))
		inm->inm_reporter = true;
}

static bool
igmp_reported(const struct in_multi *inm)
{
	/* RFC 2236 6: the all-systems group is never reported */
	return inm->inm_addr.s_addr != htonl(INADDR_ALLHOSTS_GROUP);
}

void
igmp_joingroup(struct in_multi *inm)
{
	if (!igmp_reported(inm))
		return;
	igmp_report(inm);
	igmp_settimer(inm, igmp_random(IGMP_UNSOLICITED_REPORT));
}

void
igmp_leavegroup(struct in_multi *inm)
{
	struct ifnet *ifp = inm->inm_ifp;
	struct in_addr allrtrs = { htonl(INADDR_ALLRTRS_GROUP) };

	inm->inm_due = 0;
	if (igmp_reported(inm) && inm->inm_reporter &&
	    !igmp_v1_querier(ifp->if_kernel->k_net, ifp))
		igmp_send(ifp, IGMP_V2_LEAVE_GROUP, inm->inm_addr, allrtrs);
}

void
igmp_ifup(struct ifnet *ifp)
{
	struct list_node *ln;

	for (ln = ifp->if_multiaddrs.ln_next; ln != &ifp->if_multiaddrs;
	    ln = ln->ln_next)
		igmp_joingroup(container_of(ln, struct in_multi, inm_link));
}

/* A version 3 query's Max Resp Code in tenths of a second (RFC 3376 4.1.1). */
static unsigned
igmp_v3_maxresp(uint8_t code)
{
	if (code < 128)
		return code;
	return (unsigned)((code & 0x0f) | 0x10) << (((code >> 4) & 0x07) + 3);
}

/* RFC 2236 3, 4: a query starts (or shortens) the timers it is about. */
static void
igmp_query(struct netstack *ns, struct ifnet *ifp, const struct igmp *igmp,
    int igmplen)
{
	struct igmpstat *st = &ns->ns_igmpstat;
	uint64_t now = igmp_now_ms(ns);
	unsigned maxresp;
	struct list_node *ln;

	st->igps_rcv_queries++;
	if (igmplen > IGMP_MINLEN && igmplen < IGMP_V3_QUERY_MINLEN) {
		st->igps_rcv_badqueries++;	/* RFC 3376 7.1 */
		return;
	}
	if (igmp->igmp_group.s_addr != INADDR_ANY &&
	    !IN_MULTICAST(ntohl(igmp->igmp_group.s_addr))) {
		st->igps_rcv_badqueries++;
		return;
	}
	if (igmplen >= IGMP_V3_QUERY_MINLEN) {
		maxresp = igmp_v3_maxresp(igmp->igmp_code);
	} else if (igmp->igmp_code == 0) {
		/* RFC 2236 4: an IGMPv1 querier; its fixed 10 s */
		ifp->if_igmp_v1until = now + IGMP_V1_ROUTER_TIMEOUT_MS;
		maxresp = IGMP_QUERY_RESPONSE;
	} else {
		maxresp = igmp->igmp_code;
	}
	if (maxresp == 0)
		maxresp = 1;
	for (ln = ifp->if_multiaddrs.ln_next; ln != &ifp->if_multiaddrs;
	    ln = ln->ln_next) {
		struct in_multi *inm = container_of(ln, struct in_multi,
		    inm_link);

		if (!igmp_reported(inm) ||
		    (igmp->igmp_group.s_addr != INADDR_ANY &&
		    igmp->igmp_group.s_addr != inm->inm_addr.s_addr))
			continue;
		if (inm->inm_due == 0 ||
		    inm->inm_due > now + (uint64_t)maxresp * IGMP_TICK_MS)
			igmp_settimer(inm, igmp_random(maxresp));
	}
}

/* RFC 2236 3: another host reported the group: ours would repeat it. */
static void
igmp_heard_report(struct netstack *ns, struct ifnet *ifp,
    const struct igmp *igmp, struct in_addr dst)
{
	struct igmpstat *st = &ns->ns_igmpstat;
	struct in_multi *inm;

	st->igps_rcv_reports++;
	if (!IN_MULTICAST(ntohl(igmp->igmp_group.s_addr)) ||
	    igmp->igmp_group.s_addr != dst.s_addr) {
		st->igps_rcv_badreports++;
		return;
	}
	if ((inm = in_multi_lookup(ifp, igmp->igmp_group)) == NULL ||
	    !igmp_reported(inm))
		return;
	st->igps_rcv_ourreports++;
	inm->inm_due = 0;
	inm->inm_reporter = false;
}

void
igmp_input(struct mbuf *m, int hlen)
{
	struct ifnet *ifp = m->m_pkthdr.rcvif;
	struct netstack *ns = ifp->if_kernel->k_net;
	struct igmpstat *st = &ns->ns_igmpstat;
	struct ip *ip = mtod(m, struct ip *);
	int igmplen = ntohs(ip->ip_len) - hlen;
	struct igmp igmp;

	st->igps_rcv_total++;
	if (igmplen < IGMP_MINLEN) {
		st->igps_rcv_tooshort++;
		m_freem(m);
		return;
	}
	/* RFC 2236 2.3: the checksum covers the whole message */
	if (IN_CKSUM_VERIFY && in_cksum(m, hlen, igmplen) != 0) {
		st->igps_rcv_badsum++;
		m_freem(m);
		return;
	}
	m_copydata(m, hlen, IGMP_MINLEN, &igmp);
	switch (igmp.igmp_type) {
	case IGMP_MEMBERSHIP_QUERY:
		igmp_query(ns, ifp, &igmp, igmplen);
		break;
	case IGMP_V1_MEMBERSHIP_REPORT:
	case IGMP_V2_MEMBERSHIP_REPORT:
		igmp_heard_report(ns, ifp, &igmp, ip->ip_dst);
		break;
	default:
		break;	/* leaves and v3 reports are for routers */
	}
	(void)rip_input(ns, m);
	m_freem(m);
}

static void
igmp_tick(void *arg)
{
	struct netstack *ns = arg;
	struct list_node *ln, *lm;
	uint64_t now;
	bool more = false;

	mutex_enter(&ns->ns_lock);
	now = igmp_now_ms(ns);
	for (ln = ns->ns_ifnets.ln_next; ln != &ns->ns_ifnets;
	    ln = ln->ln_next) {
		struct ifnet *ifp = container_of(ln, struct ifnet, if_link);

		for (lm = ifp->if_multiaddrs.ln_next;
		    lm != &ifp->if_multiaddrs; lm = lm->ln_next) {
			struct in_multi *inm = container_of(lm,
			    struct in_multi, inm_link);

			if (inm->inm_due == 0)
				continue;
			if (inm->inm_due <= now) {
				inm->inm_due = 0;
				igmp_report(inm);
			} else {
				more = true;
			}
		}
	}
	if (more)
		callout_schedule(&ns->ns_igmptimer, IGMP_TICK_MS * hz / 1000);
	mutex_exit(&ns->ns_lock);
}

void
igmp_init(struct netstack *ns)
{
	callout_init_cpu(&ns->ns_igmptimer, CALLOUT_MPSAFE,
	    &ns->ns_kernel->k_cpus[0]);
	callout_setfunc(&ns->ns_igmptimer, igmp_tick, ns);
}

void
igmp_fini(struct netstack *ns)
{
	callout_halt(&ns->ns_igmptimer, NULL);
	callout_destroy(&ns->ns_igmptimer);
}
