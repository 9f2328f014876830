/*
 * ip_pmtu.c -- the path MTU cache (interface and rules: ip_pmtu.h).
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "netinet/ip.h"
#include "netinet/ip_pmtu.h"
#include "netinet/ip_var.h"

static struct ip_pmtu_entry *
ip_pmtu_set(struct ip_pmtu_cache *pc, struct in_addr dst)
{
	uint32_t h = ntohl(dst.s_addr);

	h ^= h >> 16;
	h *= 0x45d9f3bu;
	h ^= h >> 16;
	return pc->pc_e[h % IP_PMTU_SETS];
}

unsigned
ip_pmtu_get(struct netstack *ns, struct in_addr dst, bool *locked)
{
	struct ip_pmtu_cache *pc = &ns->ns_pmtu;
	struct ip_pmtu_entry *e;

	if (pc->pc_count == 0)
		return 0;
	e = ip_pmtu_set(pc, dst);
	for (int i = 0; i < IP_PMTU_WAYS; i++, e++) {
		if (e->pe_expire_ns == 0 || e->pe_dst != dst.s_addr)
			continue;
		if (kern_clock_ns(ns->ns_kernel) < e->pe_expire_ns) {
			if (locked != NULL)
				*locked = e->pe_locked;
			return e->pe_mtu;
		}
		e->pe_expire_ns = 0;	/* RFC 1191 6.3: the path may have grown */
		pc->pc_count--;
		return 0;
	}
	return 0;
}

unsigned
ip_pmtu_min(struct netstack *ns, struct in_addr dst, unsigned mtu,
    bool *locked)
{
	unsigned pmtu = ip_pmtu_get(ns, dst, locked);

	return pmtu != 0 && pmtu < mtu ? pmtu : mtu;
}

unsigned
ip_pmtu_update(struct netstack *ns, const struct ip *qip, unsigned mtu,
    bool *locked)
{
	struct ip_pmtu_cache *pc = &ns->ns_pmtu;
	struct ip_pmtu_entry *e, *slot = NULL;
	struct in_addr dst = qip->ip_dst;
	unsigned cur;
	bool lock = mtu < IP_PMTU_MIN, curlock = false;

	if (mtu < 68 || mtu >= ntohs(qip->ip_len)) {
		ns->ns_ipstat.ips_pmtubad++;
		return 0;
	}
	if (lock)
		mtu = IP_PMTU_MIN;
	/* only ever lowered (or locked) */
	if ((cur = ip_pmtu_get(ns, dst, &curlock)) != 0 && cur <= mtu &&
	    (curlock || !lock)) {
		*locked = curlock;
		return cur;
	}
	e = ip_pmtu_set(pc, dst);
	for (int i = 0; i < IP_PMTU_WAYS; i++, e++) {
		if (e->pe_expire_ns != 0 && e->pe_dst == dst.s_addr) {
			slot = e;
			break;
		}
		if (slot == NULL || e->pe_expire_ns < slot->pe_expire_ns)
			slot = e;	/* a free one, or the first to expire */
	}
	if (slot->pe_expire_ns == 0)
		pc->pc_count++;
	slot->pe_dst = dst.s_addr;
	slot->pe_mtu = (uint16_t)mtu;
	slot->pe_locked = lock;
	slot->pe_expire_ns = kern_clock_ns(ns->ns_kernel) +
	    (uint64_t)IP_PMTU_EXPIRE_S * 1000000000u;
	ns->ns_ipstat.ips_pmtulearned++;
	*locked = lock;
	return mtu;
}
