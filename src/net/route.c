/*
 * route.c -- the IPv4 routing table (interface: route.h).
 *
 * (ip_output() ->) rt_lookup(): scan from the longest prefix; the first
 * entry whose masked destination matches wins.
 */
#include "net/route.h"

static bool
rt_matches(const struct rtentry *rt, in_addr_t dst)
{
	return (dst & rt->rt_mask) == rt->rt_dst;
}

int
rt_add(struct rtable *t, in_addr_t dst, unsigned plen, struct in_addr gateway,
    struct ifnet *ifp, unsigned flags)
{
	in_addr_t mask;
	unsigned i;

	if (plen > 32 || (gateway.s_addr == 0 && ifp == NULL))
		return EINVAL;
	mask = in_prefixmask(plen);
	dst &= mask;
	for (i = 0; i < t->rt_n; i++)
		if (t->rt_entries[i].rt_dst == dst &&
		    t->rt_entries[i].rt_plen == plen)
			return EEXIST;
	if (t->rt_n == RT_MAX)
		return ENOBUFS;
	/* keep the table sorted: longest prefix first */
	for (i = 0; i < t->rt_n && t->rt_entries[i].rt_plen >= plen; i++)
		;
	memmove(&t->rt_entries[i + 1], &t->rt_entries[i],
	    (t->rt_n - i) * sizeof(t->rt_entries[0]));
	t->rt_n++;
	t->rt_entries[i] = (struct rtentry){
		.rt_dst = dst,
		.rt_mask = mask,
		.rt_plen = plen,
		.rt_gateway = gateway,
		.rt_ifp = ifp,
		.rt_flags = flags | RTF_UP |
		    (gateway.s_addr != 0 ? RTF_GATEWAY : 0) |
		    (plen == 32 ? RTF_HOST : 0),
	};
	return 0;
}

static void
rt_remove_at(struct rtable *t, unsigned i)
{
	memmove(&t->rt_entries[i], &t->rt_entries[i + 1],
	    (t->rt_n - i - 1) * sizeof(t->rt_entries[0]));
	t->rt_n--;
}

int
rt_delete(struct rtable *t, in_addr_t dst, unsigned plen)
{
	if (plen > 32)
		return EINVAL;
	dst &= in_prefixmask(plen);
	for (unsigned i = 0; i < t->rt_n; i++) {
		if (t->rt_entries[i].rt_dst == dst &&
		    t->rt_entries[i].rt_plen == plen) {
			rt_remove_at(t, i);
			return 0;
		}
	}
	return ESRCH;
}

void
rt_delete_ifp(struct rtable *t, struct ifnet *ifp)
{
	for (unsigned i = 0; i < t->rt_n;) {
		if (t->rt_entries[i].rt_ifp == ifp)
			rt_remove_at(t, i);
		else
			i++;
	}
}

struct rtentry *
rt_lookup(struct rtable *t, in_addr_t dst)
{
	return rt_lookup_next(t, dst, NULL);
}

struct rtentry *
rt_lookup_next(struct rtable *t, in_addr_t dst, const struct rtentry *prev)
{
	unsigned i = prev == NULL ? 0 : (unsigned)(prev - t->rt_entries) + 1;

	for (; i < t->rt_n; i++) {
		struct rtentry *rt = &t->rt_entries[i];

		if (rt_matches(rt, dst)) {
			rt->rt_use++;
			return rt;
		}
	}
	return NULL;
}
