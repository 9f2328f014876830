/*
 * if_arp.c -- ARP for IPv4 over Ethernet (RFC 826; states: if_arp.h).
 *
 * (ether_input() ->) arp_input() -> arp_validate() -> arp_merge()
 *     -> arp_reply()
 * (ether_output() ->) arpresolve() -> arp_request() | hold
 * (net slow timer, 1 s ->) arp_timer() -> retries, expiry
 *
 * RFCs: RFC 826 (packet format, the merge algorithm), RFC 1122 2.3.2.1
 * (flood prevention: at most one request per second per destination;
 * queue while resolving, SHOULD hold at least one), RFC 5227 (gratuitous
 * announcements; a packet whose sender address is ours is a conflict).
 */
#include "kern/kernel.h"
#include "net/if.h"
#include "net/if_ether.h"
#include "net/netstack.h"
#include "netinet/if_arp.h"
#include "netinet/in_var.h"

#define ARP_RETRY_MS 1000

static struct arptable *
arptable_of(struct rump_kernel *k)
{
	return &k->k_net->ns_arp;
}

static uint64_t
arp_now(struct rump_kernel *k)
{
	return kern_clock_ns(k) / 1000000u;
}

static unsigned
arp_hash(struct in_addr a)
{
	uint32_t h = a.s_addr * 0x9e3779b1u;

	return h >> 24;		/* ARP_NBUCKETS == 256 */
}

void
arp_init(struct arptable *at)
{
	memset(at, 0, sizeof(*at));
	at->at_reachable_ms = ARP_REACHABLE_MS;
	for (int i = 0; i < ARP_NBUCKETS; i++)
		at->at_bucket[i] = -1;
	for (int i = 0; i < ARP_MAXENTRIES; i++)
		at->at_entries[i].ae_next = i + 1 < ARP_MAXENTRIES ? i + 1 : -1;
	at->at_free = 0;
}

static void
arp_drop_hold(struct arptable *at, struct arp_entry *ae, uint64_t *counter)
{
	struct mbuf *m, *next;

	for (m = ae->ae_hold; m != NULL; m = next) {
		next = m->m_nextpkt;
		m->m_nextpkt = NULL;
		m_freem(m);
		(*counter)++;
	}
	ae->ae_hold = ae->ae_hold_tail = NULL;
	ae->ae_nhold = 0;
	(void)at;
}

static void
arp_free_entry(struct arptable *at, struct arp_entry *ae, uint64_t *counter)
{
	int idx = (int)(ae - at->at_entries);
	int *pp = &at->at_bucket[arp_hash(ae->ae_addr)];

	arp_drop_hold(at, ae, counter);
	while (*pp != idx)
		pp = &at->at_entries[*pp].ae_next;
	*pp = ae->ae_next;
	memset(ae, 0, sizeof(*ae));
	ae->ae_state = ARP_FREE;
	ae->ae_next = at->at_free;
	at->at_free = idx;
	at->at_n--;
}

void
arp_fini(struct arptable *at)
{
	uint64_t dropped = 0;

	for (unsigned i = 0; i < ARP_MAXENTRIES; i++)
		if (at->at_entries[i].ae_state != ARP_FREE)
			arp_free_entry(at, &at->at_entries[i], &dropped);
}

struct arp_entry *
arp_lookup(struct rump_kernel *k, struct in_addr addr)
{
	struct arptable *at = arptable_of(k);

	for (int i = at->at_bucket[arp_hash(addr)]; i >= 0;
	    i = at->at_entries[i].ae_next)
		if (at->at_entries[i].ae_addr.s_addr == addr.s_addr)
			return &at->at_entries[i];
	return NULL;
}

/*
 * The table is full: free the entry a new one may take (if_arp.h), the
 * STALE one confirmed longest ago, else the REACHABLE one confirmed
 * longest ago but at least ARP_EVICT_MIN_MS ago.  False: none may go.
 */
static bool
arp_evict(struct arptable *at, uint64_t now)
{
	struct arp_entry *stale = NULL, *reach = NULL;

	for (unsigned i = 0; i < ARP_MAXENTRIES; i++) {
		struct arp_entry *ae = &at->at_entries[i];

		if (ae->ae_state == ARP_STALE && (stale == NULL ||
		    ae->ae_confirmed_ms < stale->ae_confirmed_ms))
			stale = ae;
		else if (ae->ae_state == ARP_REACHABLE &&
		    now - ae->ae_confirmed_ms >= ARP_EVICT_MIN_MS &&
		    (reach == NULL ||
		    ae->ae_confirmed_ms < reach->ae_confirmed_ms))
			reach = ae;
	}
	if (stale == NULL && (stale = reach) == NULL)
		return false;
	at->at_stat.as_evicted++;
	/* a STALE entry being probed may hold nothing (only INCOMPLETE do) */
	arp_free_entry(at, stale, &at->at_stat.as_timeoutdropped);
	return true;
}

static struct arp_entry *
arp_alloc(struct arptable *at, struct ifnet *ifp, struct in_addr addr,
    uint64_t now)
{
	unsigned b = arp_hash(addr);
	struct arp_entry *ae;
	int idx = at->at_free;

	if (idx < 0) {
		if (!arp_evict(at, now)) {
			at->at_stat.as_tablefull++;
			return NULL;
		}
		idx = at->at_free;
	}
	ae = &at->at_entries[idx];
	at->at_free = ae->ae_next;
	memset(ae, 0, sizeof(*ae));
	ae->ae_addr = addr;
	ae->ae_ifp = ifp;
	ae->ae_state = ARP_INCOMPLETE;
	ae->ae_next = at->at_bucket[b];
	at->at_bucket[b] = idx;
	at->at_n++;
	at->at_stat.as_entries++;
	return ae;
}

/* Send an ARP packet of op on ifp. */
static void
arp_send(struct ifnet *ifp, uint16_t op, struct in_addr spa,
    const uint8_t *tha, struct in_addr tpa, const uint8_t *dst)
{
	struct arptable *at = arptable_of(ifp->if_kernel);
	struct ether_arp *ea;
	struct mbuf *m;

	if ((m = m_gethdr(M_DONTWAIT, MT_DATA)) == NULL) {
		at->at_stat.as_nobufs++;
		return;
	}
	/* leave room for the Ethernet header in front */
	m->m_data += ETHER_HDR_LEN;
	m->m_len = m->m_pkthdr.len = (int)sizeof(*ea);
	ea = mtod(m, struct ether_arp *);
	ea->ar_hrd = htons(ARPHRD_ETHER);
	ea->ar_pro = htons(ETHERTYPE_IP);
	ea->ar_hln = 6;
	ea->ar_pln = 4;
	ea->ar_op = htons(op);
	memcpy(ea->arp_sha, ifp->if_lladdr, 6);
	memcpy(ea->arp_spa, &spa, 4);
	memcpy(ea->arp_tha, tha, 6);
	memcpy(ea->arp_tpa, &tpa, 4);
	(void)ether_output_frame(ifp, m, dst, ETHERTYPE_ARP);
}

static void
arp_request(struct ifnet *ifp, struct in_addr tpa)
{
	static const uint8_t zero[6];
	struct in_ifaddr *ia = in_ifaddr_of(ifp);

	if (ia == NULL)
		return;		/* no address to ask from */
	arptable_of(ifp->if_kernel)->at_stat.as_sendrequests++;
	arp_send(ifp, ARPOP_REQUEST, ia->ia_addr, zero, tpa,
	    etherbroadcastaddr);
}

void
arp_announce(struct ifnet *ifp, struct in_addr addr)
{
	static const uint8_t zero[6];

	if (ifp->if_flags & IFF_LOOPBACK)
		return;		/* nobody to tell */
	/* RFC 5227 3: sender and target address both ours */
	arptable_of(ifp->if_kernel)->at_stat.as_sendgarp++;
	arp_send(ifp, ARPOP_REQUEST, addr, zero, addr, etherbroadcastaddr);
}

/* Send the packets held for ae, now resolved. */
static void
arp_flush_hold(struct arp_entry *ae)
{
	struct mbuf *m = ae->ae_hold, *next;

	ae->ae_hold = ae->ae_hold_tail = NULL;
	ae->ae_nhold = 0;
	for (; m != NULL; m = next) {
		next = m->m_nextpkt;
		m->m_nextpkt = NULL;
		(void)ether_output_frame(ae->ae_ifp, m, ae->ae_mac,
		    ETHERTYPE_IP);
	}
}

/* A confirmed mapping: update, and release what waited for it. */
static void
arp_confirm(struct arptable *at, struct arp_entry *ae, const uint8_t *mac,
    uint64_t now)
{
	if (ae->ae_state == ARP_STATIC)
		return;		/* configuration wins over the network */
	memcpy(ae->ae_mac, mac, 6);
	ae->ae_state = ARP_REACHABLE;
	ae->ae_confirmed_ms = now;
	ae->ae_expire_ms = now + at->at_reachable_ms;
	ae->ae_asked = 0;
	arp_flush_hold(ae);
}

int
arpresolve(struct ifnet *ifp, struct in_addr dst, struct mbuf *m,
    uint8_t *mac)
{
	struct rump_kernel *k = ifp->if_kernel;
	struct arptable *at = arptable_of(k);
	struct arp_entry *ae = arp_lookup(k, dst);

	if (ae != NULL && ae->ae_ifp != ifp) {
		/* the address moved to another interface: start again */
		arp_free_entry(at, ae, &at->at_stat.as_timeoutdropped);
		ae = NULL;
	}
	if (ae == NULL) {
		if ((ae = arp_alloc(at, ifp, dst, arp_now(k))) == NULL) {
			m_freem(m);
			return ENOBUFS;
		}
	}
	/* the clock only off the fast path: a timer expires entries */
	switch (ae->ae_state) {
	case ARP_REACHABLE:
	case ARP_STATIC:
		memcpy(mac, ae->ae_mac, 6);
		return 0;
	case ARP_STALE:
		/* use it, and ask again (at most once a second: RFC 1122) */
		memcpy(mac, ae->ae_mac, 6);
		if (ae->ae_asked == 0) {
			ae->ae_asked = 1;
			ae->ae_expire_ms = arp_now(k) + ARP_RETRY_MS;
			arp_request(ifp, dst);
		}
		return 0;
	case ARP_INCOMPLETE:
		break;
	default:
		panic("arpresolve: bad entry state");
	}
	/* resolving: hold the packet, dropping the oldest beyond the limit */
	if (ae->ae_nhold == ARP_MAXHOLD) {
		struct mbuf *old = ae->ae_hold;

		ae->ae_hold = old->m_nextpkt;
		old->m_nextpkt = NULL;
		m_freem(old);
		ae->ae_nhold--;
		at->at_stat.as_holddropped++;
	}
	m->m_nextpkt = NULL;
	if (ae->ae_hold_tail != NULL)
		ae->ae_hold_tail->m_nextpkt = m;
	else
		ae->ae_hold = m;
	ae->ae_hold_tail = m;
	ae->ae_nhold++;
	if (ae->ae_asked == 0) {
		ae->ae_asked = 1;
		ae->ae_expire_ms = arp_now(k) + ARP_RETRY_MS;
		arp_request(ifp, dst);
	}
	return EWOULDBLOCK;
}

/*
 * Checks before any use of the packet.  Returns false (and counts) for
 * packets to drop.
 */
static bool
arp_validate(struct ifnet *ifp, struct arptable *at, const struct ether_arp *ea)
{
	uint16_t op = ntohs(ea->ar_op);

	if (ntohs(ea->ar_hrd) != ARPHRD_ETHER ||
	    ntohs(ea->ar_pro) != ETHERTYPE_IP || ea->ar_hln != 6 ||
	    ea->ar_pln != 4 || (op != ARPOP_REQUEST && op != ARPOP_REPLY)) {
		at->at_stat.as_rcvbadproto++;
		return false;
	}
	if (memcmp(ea->arp_sha, ifp->if_lladdr, 6) == 0) {
		at->at_stat.as_rcvlocalsha++;
		return false;
	}
	if (ether_is_multicast(ea->arp_sha)) {
		at->at_stat.as_rcvbcastsha++;
		return false;
	}
	return true;
}

void
arp_input(struct ifnet *ifp, struct mbuf *m)
{
	struct rump_kernel *k = ifp->if_kernel;
	struct arptable *at = arptable_of(k);
	struct ether_arp *ea;
	struct in_addr spa, tpa;
	struct in_ifaddr *ia;
	struct arp_entry *ae;
	bool for_us;
	uint16_t op;

	at->at_stat.as_rcvtotal++;
	if (m->m_pkthdr.len < (int)sizeof(*ea)) {
		at->at_stat.as_rcvbadlen++;
		goto drop;
	}
	if (m->m_len < (int)sizeof(*ea) &&
	    (m = m_pullup(m, (int)sizeof(*ea))) == NULL) {
		at->at_stat.as_nobufs++;
		return;
	}
	ea = mtod(m, struct ether_arp *);
	if (!arp_validate(ifp, at, ea))
		goto drop;
	op = ntohs(ea->ar_op);
	memcpy(&spa, ea->arp_spa, 4);
	memcpy(&tpa, ea->arp_tpa, 4);
	if (op == ARPOP_REQUEST)
		at->at_stat.as_rcvrequests++;
	else
		at->at_stat.as_rcvreplies++;

	/* RFC 5227 2.4: our own address from another host is a conflict */
	if (in_ifaddr_lookup(k, spa) != NULL) {
		at->at_stat.as_rcvdupaddr++;
		goto drop;
	}
	/* RFC 5227 2.1.1: a probe (sender 0.0.0.0) updates no cache */
	if (spa.s_addr == INADDR_ANY) {
		at->at_stat.as_rcvzerospa++;
		ia = in_ifaddr_lookup(k, tpa);
		if (op == ARPOP_REQUEST && ia != NULL && ia->ia_ifp == ifp)
			goto reply;
		goto drop;
	}
	ia = in_ifaddr_lookup(k, tpa);
	for_us = ia != NULL && ia->ia_ifp == ifp;

	/* RFC 826 merge: update an existing entry for the sender */
	ae = arp_lookup(k, spa);
	if (ae != NULL && ae->ae_ifp == ifp) {
		arp_confirm(at, ae, ea->arp_sha, arp_now(k));
	} else if (for_us && op == ARPOP_REQUEST &&
	    (ae == NULL || ae->ae_state != ARP_STATIC)) {
		/*
		 * a request to us: the asker will talk to us next (RFC 826);
		 * known on another link, it moved here (but configuration
		 * wins over the network: a static entry stays)
		 */
		if (ae != NULL)
			arp_free_entry(at, ae, &at->at_stat.as_timeoutdropped);
		if ((ae = arp_alloc(at, ifp, spa, arp_now(k))) != NULL)
			arp_confirm(at, ae, ea->arp_sha, arp_now(k));
	} else if (!for_us) {
		at->at_stat.as_rcvnotours++;
		goto drop;
	}
	/* a reply creates nothing: only solicited entries were updated */
	if (op != ARPOP_REQUEST || !for_us)
		goto drop;
reply:
	at->at_stat.as_sendreplies++;
	arp_send(ifp, ARPOP_REPLY, tpa, ea->arp_sha, spa, ea->arp_sha);
drop:
	m_freem(m);
}

void
arp_timer(struct rump_kernel *k, uint64_t now_ms)
{
	struct arptable *at = arptable_of(k);

	unsigned left = at->at_n;	/* entries in use not yet seen */

	(void)now_ms;
	now_ms = arp_now(k);
	for (unsigned i = 0; i < ARP_MAXENTRIES && left > 0; i++) {
		struct arp_entry *ae = &at->at_entries[i];

		if (ae->ae_state == ARP_FREE)
			continue;
		left--;
		if (ae->ae_state == ARP_STATIC || now_ms < ae->ae_expire_ms)
			continue;
		switch (ae->ae_state) {
		case ARP_REACHABLE:
			ae->ae_state = ARP_STALE;
			ae->ae_asked = 0;
			ae->ae_expire_ms = now_ms + ARP_STALE_MS;
			break;
		case ARP_STALE:
			if (ae->ae_asked == 0) {
				/* not used since it went STALE */
				at->at_stat.as_expired++;
				arp_free_entry(at, ae,
				    &at->at_stat.as_timeoutdropped);
				break;
			}
			/* FALLTHROUGH */
		case ARP_INCOMPLETE:
			if (ae->ae_asked == 0)
				break;
			if (ae->ae_asked >= ARP_MAXTRIES) {
				/* RFC 1122 2.3.2.1: give up, drop the queue */
				at->at_stat.as_timeouts++;
				arp_free_entry(at, ae,
				    &at->at_stat.as_timeoutdropped);
				break;
			}
			ae->ae_asked++;
			ae->ae_expire_ms = now_ms + ARP_RETRY_MS;
			arp_request(ae->ae_ifp, ae->ae_addr);
			break;
		default:
			break;
		}
	}
}

int
arp_add_static(struct ifnet *ifp, struct in_addr addr, const uint8_t *mac)
{
	struct rump_kernel *k = ifp->if_kernel;
	struct arptable *at = arptable_of(k);
	struct arp_entry *ae = arp_lookup(k, addr);

	if (ae != NULL && ae->ae_ifp != ifp) {
		arp_free_entry(at, ae, &at->at_stat.as_timeoutdropped);
		ae = NULL;
	}
	if (ae == NULL && (ae = arp_alloc(at, ifp, addr, arp_now(k))) == NULL)
		return ENOBUFS;
	memcpy(ae->ae_mac, mac, 6);
	ae->ae_state = ARP_STATIC;
	ae->ae_asked = 0;
	arp_flush_hold(ae);
	return 0;
}

int
arp_delete(struct rump_kernel *k, struct in_addr addr)
{
	struct arptable *at = arptable_of(k);
	struct arp_entry *ae = arp_lookup(k, addr);

	if (ae == NULL)
		return ESRCH;
	arp_free_entry(at, ae, &at->at_stat.as_timeoutdropped);
	return 0;
}

void
arp_purge_ifp(struct rump_kernel *k, struct ifnet *ifp)
{
	struct arptable *at = arptable_of(k);

	for (unsigned i = 0; i < ARP_MAXENTRIES; i++) {
		struct arp_entry *ae = &at->at_entries[i];

		if (ae->ae_state != ARP_FREE && ae->ae_ifp == ifp)
			arp_free_entry(at, ae, &at->at_stat.as_timeoutdropped);
	}
}
