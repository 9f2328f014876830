/*
 * net_config.c -- the configuration and statistics API of
 * include/rumpnet/net.h.
 *
 * Each call borrows a vCPU of the instance (rump_schedule_kernel()), takes
 * the net lock, does its work through the kernel's own functions
 * (in_control_add(), rt_add(), arp_add_static(), ...) and turns the kernel
 * errno into the host's at the end.
 */
#include "kern/kernel.h"
#include "net/if.h"
#include "net/if_impair.h"
#include "net/netstack.h"
#include "net/rss.h"
#include "netinet/if_arp.h"
#include "netinet/in_var.h"
#include "netinet/ip_icmp.h"
#include "netinet/ip_var.h"
#include "netinet/raw_ip_var.h"
#include "netinet/tcp_var.h"
#include "netinet/udp_var.h"
#include "rumpnet/net.h"

/* Enter the instance and its net lock; 0 or an errno. */
static int
net_enter(struct rump_kernel *k)
{
	int error = rump_schedule_kernel(k);

	if (error == 0)
		mutex_enter(&k->k_net->ns_lock);
	return error;
}

static int
net_exit(struct rump_kernel *k, int error)
{
	mutex_exit(&k->k_net->ns_lock);
	rump_unschedule();
	return hyper_errno_to_host(error);
}

static struct ifnet *
net_ifp(struct rump_kernel *k, unsigned ifindex, int *error)
{
	struct ifnet *ifp = if_byindex(k, ifindex);

	if (ifp == NULL)
		*error = ENXIO;
	return ifp;
}

int
rump_if_up(struct rump_kernel *k, unsigned ifindex)
{
	struct ifnet *ifp;
	int error = net_enter(k);

	if (error)
		return hyper_errno_to_host(error);
	if ((ifp = net_ifp(k, ifindex, &error)) != NULL)
		if_up(ifp);
	return net_exit(k, error);
}

int
rump_if_down(struct rump_kernel *k, unsigned ifindex)
{
	struct ifnet *ifp;
	int error = net_enter(k);

	if (error)
		return hyper_errno_to_host(error);
	if ((ifp = net_ifp(k, ifindex, &error)) != NULL)
		if_down(ifp);
	return net_exit(k, error);
}

int
rump_if_set_mtu(struct rump_kernel *k, unsigned ifindex, unsigned mtu)
{
	struct ifnet *ifp;
	int error;

	if (mtu < 68 || mtu > 9000)
		return hyper_errno_to_host(EINVAL);
	if ((error = net_enter(k)) != 0)
		return hyper_errno_to_host(error);
	if ((ifp = net_ifp(k, ifindex, &error)) != NULL)
		ifp->if_mtu = mtu;
	return net_exit(k, error);
}

int
rump_if_index(struct rump_kernel *k, const char *name, unsigned *ifindex)
{
	struct ifnet *ifp;
	int error;

	if (name == NULL || ifindex == NULL)
		return hyper_errno_to_host(EINVAL);
	if ((error = net_enter(k)) != 0)
		return hyper_errno_to_host(error);
	if ((ifp = if_byname(k, name)) == NULL)
		error = ENXIO;
	else
		*ifindex = ifp->if_index;
	return net_exit(k, error);
}

int
rump_if_destroy(struct rump_kernel *k, unsigned ifindex)
{
	struct ifnet *ifp;
	int error;

	if ((error = rump_schedule_kernel(k)) != 0)
		return hyper_errno_to_host(error);
	if ((ifp = if_byindex(k, ifindex)) == NULL)
		error = ENXIO;
	else
		ifp->if_destroy(ifp);	/* takes the net lock itself */
	rump_unschedule();
	return hyper_errno_to_host(error);
}

int
rump_if_pcap(struct rump_kernel *k, unsigned ifindex, const char *path)
{
	struct hyper_pcap *pc = NULL, *old;
	struct ifnet *ifp;
	int error;

	/* a bad index must not create (or truncate) the file */
	if ((error = net_enter(k)) != 0)
		return hyper_errno_to_host(error);
	(void)net_ifp(k, ifindex, &error);
	if ((error = net_exit(k, error)) != 0)
		return error;
	/* opening a file can block: not with the vCPU and the net lock */
	if (path != NULL && (error = hyper_pcap_open(path,
	    HYPER_PCAP_ETHERNET, 65535, &pc)) != 0)
		return hyper_errno_to_host(error);
	if ((error = net_enter(k)) != 0) {
		if (pc != NULL)
			hyper_pcap_close(pc);
		return hyper_errno_to_host(error);
	}
	if ((ifp = net_ifp(k, ifindex, &error)) == NULL) {
		old = pc;	/* it went away meanwhile */
	} else {
		old = ifp->if_pcap;
		ifp->if_pcap = pc;
	}
	error = net_exit(k, error);
	if (old != NULL)
		hyper_pcap_close(old);
	return error;
}

int
rump_if_addr_add(struct rump_kernel *k, unsigned ifindex, uint32_t addr,
    unsigned plen)
{
	struct in_addr a = { addr };
	struct ifnet *ifp;
	int error = net_enter(k);

	if (error)
		return hyper_errno_to_host(error);
	if ((ifp = net_ifp(k, ifindex, &error)) != NULL)
		error = in_control_add(ifp, a, plen);
	return net_exit(k, error);
}

int
rump_if_addr_del(struct rump_kernel *k, unsigned ifindex, uint32_t addr)
{
	struct in_addr a = { addr };
	struct ifnet *ifp;
	int error = net_enter(k);

	if (error)
		return hyper_errno_to_host(error);
	if ((ifp = net_ifp(k, ifindex, &error)) != NULL)
		error = in_control_del(ifp, a);
	return net_exit(k, error);
}

int
rump_addr_parse(const char *s, uint32_t *addr, unsigned *plen)
{
	uint32_t a = 0;
	unsigned part, nparts = 0, len = 32;

	if (s == NULL || addr == NULL || plen == NULL)
		return hyper_errno_to_host(EINVAL);
	for (;;) {
		unsigned digits = 0;

		for (part = 0; *s >= '0' && *s <= '9'; s++, digits++) {
			part = part * 10 + (unsigned)(*s - '0');
			if (part > 255 || digits == 3)
				return hyper_errno_to_host(EINVAL);
		}
		if (digits == 0)
			return hyper_errno_to_host(EINVAL);
		a = a << 8 | part;
		if (++nparts == 4)
			break;
		if (*s++ != '.')
			return hyper_errno_to_host(EINVAL);
	}
	if (*s == '/') {
		unsigned digits = 0;

		for (len = 0, s++; *s >= '0' && *s <= '9'; s++, digits++)
			len = len * 10 + (unsigned)(*s - '0');
		if (digits == 0 || digits > 2 || len > 32)
			return hyper_errno_to_host(EINVAL);
	}
	if (*s != '\0')
		return hyper_errno_to_host(EINVAL);
	*addr = htonl(a);
	*plen = len;
	return 0;
}

int
rump_route_add(struct rump_kernel *k, uint32_t dst, unsigned plen,
    uint32_t gateway, unsigned ifindex)
{
	struct in_addr gw = { gateway };
	struct ifnet *ifp = NULL;
	int error = net_enter(k);

	if (error)
		return hyper_errno_to_host(error);
	if (ifindex != 0)
		ifp = net_ifp(k, ifindex, &error);
	if (error == 0 && gateway != 0 && ifp == NULL) {
		/* RFC 1122 3.3.1.1: a gateway must be directly reachable */
		struct rtentry *grt = rt_lookup(&k->k_net->ns_rt, gateway);

		if (grt == NULL || (grt->rt_flags & RTF_GATEWAY))
			error = ENETUNREACH;
		else
			ifp = grt->rt_ifp;
	}
	if (error == 0)
		error = rt_add(&k->k_net->ns_rt, dst, plen, gw, ifp,
		    RTF_STATIC);
	return net_exit(k, error);
}

int
rump_route_del(struct rump_kernel *k, uint32_t dst, unsigned plen)
{
	int error = net_enter(k);

	if (error)
		return hyper_errno_to_host(error);
	return net_exit(k, rt_delete(&k->k_net->ns_rt, dst, plen));
}

int
rump_route_get(struct rump_kernel *k, uint32_t dst, unsigned *ifindex,
    uint32_t *nexthop)
{
	struct rtentry *rt;
	int error = net_enter(k);

	if (error)
		return hyper_errno_to_host(error);
	if ((rt = rt_lookup(&k->k_net->ns_rt, dst)) == NULL) {
		error = EHOSTUNREACH;
	} else {
		*ifindex = rt->rt_ifp != NULL ? rt->rt_ifp->if_index : 0;
		*nexthop = (rt->rt_flags & RTF_GATEWAY) ?
		    rt->rt_gateway.s_addr : dst;
	}
	return net_exit(k, error);
}

int
rump_ip_forwarding(struct rump_kernel *k, int on)
{
	int error = net_enter(k);

	if (error)
		return hyper_errno_to_host(error);
	k->k_net->ns_forwarding = on != 0;
	return net_exit(k, 0);
}

int
rump_arp_add(struct rump_kernel *k, unsigned ifindex, uint32_t addr,
    const uint8_t mac[6])
{
	struct in_addr a = { addr };
	struct ifnet *ifp;
	int error;

	if (mac == NULL)
		return hyper_errno_to_host(EINVAL);
	if ((error = net_enter(k)) != 0)
		return hyper_errno_to_host(error);
	if ((ifp = net_ifp(k, ifindex, &error)) != NULL)
		error = arp_add_static(ifp, a, mac);
	return net_exit(k, error);
}

int
rump_arp_del(struct rump_kernel *k, uint32_t addr)
{
	struct in_addr a = { addr };
	int error = net_enter(k);

	if (error)
		return hyper_errno_to_host(error);
	return net_exit(k, arp_delete(k, a));
}

int
rump_arp_get(struct rump_kernel *k, uint32_t addr,
    enum rump_arp_state *state, uint8_t mac[6])
{
	struct in_addr a = { addr };
	struct arp_entry *ae;
	int error = net_enter(k);

	if (error)
		return hyper_errno_to_host(error);
	ae = arp_lookup(k, a);
	*state = RUMP_ARP_NONE;
	if (ae != NULL) {
		switch (ae->ae_state) {
		case ARP_INCOMPLETE:
			*state = RUMP_ARP_INCOMPLETE;
			break;
		case ARP_REACHABLE:
			*state = RUMP_ARP_REACHABLE;
			break;
		case ARP_STALE:
			*state = RUMP_ARP_STALE;
			break;
		case ARP_STATIC:
			*state = RUMP_ARP_STATIC;
			break;
		default:
			break;
		}
		if (mac != NULL)
			memcpy(mac, ae->ae_mac, 6);
	}
	return net_exit(k, 0);
}

int
rump_ping_send(struct rump_kernel *k, uint32_t dst, uint16_t id,
    uint16_t seq, size_t datalen)
{
	struct in_addr a = { dst };
	unsigned char pattern[256];
	unsigned char *data;
	void *mem = NULL;
	int error;

	if (datalen > 65507)
		return hyper_errno_to_host(EMSGSIZE);
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (unsigned char)i;
	data = pattern;
	if (datalen > sizeof(pattern)) {
		if ((error = hyper_malloc(datalen, 0, &mem)) != 0)
			return hyper_errno_to_host(error);
		data = mem;
		for (size_t i = 0; i < datalen; i++)
			data[i] = (unsigned char)i;
	}
	if ((error = net_enter(k)) != 0) {
		hyper_free(mem, datalen);
		return hyper_errno_to_host(error);
	}
	error = icmp_echo_send(a, id, seq, data, datalen);
	error = net_exit(k, error);
	if (mem != NULL)
		hyper_free(mem, datalen);
	return error;
}

int
rump_ping_last(struct rump_kernel *k, struct rump_ping_reply *r)
{
	struct icmp_echo_seen *es;
	int error = net_enter(k);

	if (error)
		return hyper_errno_to_host(error);
	es = &k->k_net->ns_echo;
	r->count = es->es_count;
	r->src = es->es_src.s_addr;
	r->id = es->es_id;
	r->seq = es->es_seq;
	r->datalen = es->es_len;
	return net_exit(k, 0);
}

/* ---- RSS ---- */

_Static_assert(RUMP_RSS_KEY_LEN == RSS_KEY_LEN, "RSS key length");
_Static_assert(RUMP_RSS_RETA_SIZE == RSS_RETA_SIZE, "RSS table size");

void
rump_rss_config_default(struct rump_rss_config *cfg, unsigned instance,
    unsigned ninstances)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->rss_instance = instance;
	cfg->rss_ninstances = ninstances;
	memcpy(cfg->rss_key, rss_default_key, sizeof(cfg->rss_key));
	rss_reta_default(cfg->rss_reta, RSS_RETA_SIZE, ninstances);
}

/* Is cfg a configuration rump_rss_set() takes (with two or more)? */
static bool
rss_config_valid(const struct rump_rss_config *cfg)
{
	bool named = false;

	if (cfg->rss_ninstances > RSS_RETA_SIZE ||
	    cfg->rss_instance >= cfg->rss_ninstances)
		return false;
	for (unsigned j = 0; j < RSS_RETA_SIZE; j++) {
		if (cfg->rss_reta[j] >= cfg->rss_ninstances)
			return false;
		if (cfg->rss_reta[j] == cfg->rss_instance)
			named = true;
	}
	return named;
}

int
rump_rss_set(struct rump_kernel *k, const struct rump_rss_config *cfg)
{
	struct ns_rss *rss = NULL, *old;
	void *mem;
	int error;

	if (cfg != NULL && cfg->rss_ninstances > 1) {
		if (!rss_config_valid(cfg))
			return hyper_errno_to_host(EINVAL);
		/* 12 KiB of tables: built before taking the net lock */
		if ((error = hyper_malloc(sizeof(*rss), CACHE_LINE_SIZE,
		    &mem)) != 0)
			return hyper_errno_to_host(error);
		rss = mem;
		rss_key_init(&rss->nr_key, cfg->rss_key, RSS_KEY_LEN);
		memcpy(rss->nr_keybytes, cfg->rss_key, RSS_KEY_LEN);
		memcpy(rss->nr_reta, cfg->rss_reta, sizeof(rss->nr_reta));
		rss->nr_instance = cfg->rss_instance;
		rss->nr_ninstances = cfg->rss_ninstances;
	}
	if ((error = net_enter(k)) != 0) {
		if (rss != NULL)
			hyper_free(rss, sizeof(*rss));
		return hyper_errno_to_host(error);
	}
	old = k->k_net->ns_rss;
	k->k_net->ns_rss = rss;
	error = net_exit(k, 0);
	if (old != NULL)
		hyper_free(old, sizeof(*old));
	return error;
}

int
rump_rss_get(struct rump_kernel *k, struct rump_rss_config *cfg)
{
	const struct ns_rss *rss;
	int error;

	if (cfg == NULL)
		return hyper_errno_to_host(EINVAL);
	if ((error = net_enter(k)) != 0)
		return hyper_errno_to_host(error);
	rump_rss_config_default(cfg, 0, 1);
	if ((rss = k->k_net->ns_rss) != NULL) {
		cfg->rss_instance = rss->nr_instance;
		cfg->rss_ninstances = rss->nr_ninstances;
		memcpy(cfg->rss_key, rss->nr_keybytes, RSS_KEY_LEN);
		memcpy(cfg->rss_reta, rss->nr_reta, sizeof(cfg->rss_reta));
	}
	return net_exit(k, 0);
}

/* ---- TCP parameters ---- */

static const struct tcp_param {
	const char *tp_name;
	size_t tp_off;			/* an int in struct tcp_state */
	int tp_min, tp_max;
} tcp_params[] = {
	{ "sack", offsetof(struct tcp_state, tcp_do_sack), 0, 1 },
	{ "rack", offsetof(struct tcp_state, tcp_do_rack), 0, 1 },
	{ "ecn", offsetof(struct tcp_state, tcp_do_ecn), 0, 1 },
	{ "syncookies", offsetof(struct tcp_state, tcp_do_syncookies), 0, 1 },
	{ "syncache_limit", offsetof(struct tcp_state, tcp_syncache_limit),
	    1, 65536 },
};

static const struct tcp_param *
tcp_param_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < __arraycount(tcp_params); i++)
		if (strcmp(tcp_params[i].tp_name, name) == 0)
			return &tcp_params[i];
	return NULL;
}

int
rump_tcp_param_set(struct rump_kernel *k, const char *name, int value)
{
	const struct tcp_param *p = tcp_param_find(name);
	int error;

	if (p == NULL)
		return hyper_errno_to_host(name == NULL ? EINVAL : ENOENT);
	if (value < p->tp_min || value > p->tp_max)
		return hyper_errno_to_host(EINVAL);
	if ((error = net_enter(k)) != 0)
		return hyper_errno_to_host(error);
	*(int *)(void *)((char *)k->k_net->ns_tcp + p->tp_off) = value;
	return net_exit(k, 0);
}

int
rump_tcp_param_get(struct rump_kernel *k, const char *name, int *value)
{
	const struct tcp_param *p = tcp_param_find(name);
	int error;

	if (p == NULL || value == NULL)
		return hyper_errno_to_host(p == NULL && name != NULL ? ENOENT :
		    EINVAL);
	if ((error = net_enter(k)) != 0)
		return hyper_errno_to_host(error);
	*value = *(const int *)(const void *)((const char *)k->k_net->ns_tcp +
	    p->tp_off);
	return net_exit(k, 0);
}

int
rump_tcp_cc_set_default(struct rump_kernel *k, const char *name)
{
	const struct tcp_cc *cc;
	int error;

	if (name == NULL)
		return hyper_errno_to_host(EINVAL);
	if ((cc = tcp_cc_find(name)) == NULL)
		return hyper_errno_to_host(ENOENT);
	if ((error = net_enter(k)) != 0)
		return hyper_errno_to_host(error);
	k->k_net->ns_tcp->tcp_cc_default = cc;
	return net_exit(k, 0);
}

int
rump_tcp_cc_get_default(struct rump_kernel *k, char *buf, size_t len)
{
	const char *name;
	int error;

	if (buf == NULL || len < TCP_CA_NAME_MAX)
		return hyper_errno_to_host(EINVAL);
	if ((error = net_enter(k)) != 0)
		return hyper_errno_to_host(error);
	name = k->k_net->ns_tcp->tcp_cc_default->cc_name;
	memset(buf, 0, len);
	memcpy(buf, name, strlen(name));
	return net_exit(k, 0);
}

/* ---- counters by name ---- */

struct stat_field {
	const char *sf_name;
	size_t sf_off;
};

static const struct stat_field if_fields[IFC_NCOUNTERS] = {
	{ "ipackets", IFC_IPACKETS }, { "ibytes", IFC_IBYTES },
	{ "imcasts", IFC_IMCASTS }, { "opackets", IFC_OPACKETS },
	{ "obytes", IFC_OBYTES }, { "omcasts", IFC_OMCASTS },
	{ "ierrors", IFC_IERRORS }, { "oerrors", IFC_OERRORS },
	{ "iqdrops", IFC_IQDROPS }, { "oqdrops", IFC_OQDROPS },
	{ "idown", IFC_IDOWN }, { "odown", IFC_ODOWN },
	{ "irunt", IFC_IRUNT }, { "inotus", IFC_INOTUS },
	{ "iloop", IFC_ILOOP }, { "noproto", IFC_NOPROTO },
	{ "linkdown", IFC_LINKDOWN },
};

static const struct stat_field impair_fields[IFI_NCOUNTERS] = {
	{ "impair_lost", IFI_LOST },
	{ "impair_duplicated", IFI_DUPLICATED },
	{ "impair_corrupted", IFI_CORRUPTED },
	{ "impair_delayed", IFI_DELAYED },
	{ "impair_reordered", IFI_REORDERED },
	{ "impair_qdrops", IFI_QDROPS },
};

static const struct stat_field ip_fields[] = {
	{ "total", offsetof(struct ipstat, ips_total) },
	{ "badsum", offsetof(struct ipstat, ips_badsum) },
	{ "tooshort", offsetof(struct ipstat, ips_tooshort) },
	{ "toosmall", offsetof(struct ipstat, ips_toosmall) },
	{ "badhlen", offsetof(struct ipstat, ips_badhlen) },
	{ "badlen", offsetof(struct ipstat, ips_badlen) },
	{ "badvers", offsetof(struct ipstat, ips_badvers) },
	{ "badaddr", offsetof(struct ipstat, ips_badaddr) },
	{ "badoptions", offsetof(struct ipstat, ips_badoptions) },
	{ "srcroute", offsetof(struct ipstat, ips_srcroute) },
	{ "srcroutefail", offsetof(struct ipstat, ips_srcroutefail) },
	{ "fragments", offsetof(struct ipstat, ips_fragments) },
	{ "fragdropped", offsetof(struct ipstat, ips_fragdropped) },
	{ "fragdup", offsetof(struct ipstat, ips_fragdup) },
	{ "fragoverlap", offsetof(struct ipstat, ips_fragoverlap) },
	{ "fragtimeout", offsetof(struct ipstat, ips_fragtimeout) },
	{ "fragtoolong", offsetof(struct ipstat, ips_fragtoolong) },
	{ "fragbad", offsetof(struct ipstat, ips_fragbad) },
	{ "fraglimit", offsetof(struct ipstat, ips_fraglimit) },
	{ "reassembled", offsetof(struct ipstat, ips_reassembled) },
	{ "delivered", offsetof(struct ipstat, ips_delivered) },
	{ "noproto", offsetof(struct ipstat, ips_noproto) },
	{ "rawin", offsetof(struct ipstat, ips_rawin) },
	{ "notforus", offsetof(struct ipstat, ips_notforus) },
	{ "notmember", offsetof(struct ipstat, ips_notmember) },
	{ "localout", offsetof(struct ipstat, ips_localout) },
	{ "odropped", offsetof(struct ipstat, ips_odropped) },
	{ "noroute", offsetof(struct ipstat, ips_noroute) },
	{ "fragmented", offsetof(struct ipstat, ips_fragmented) },
	{ "ofragments", offsetof(struct ipstat, ips_ofragments) },
	{ "cantfrag", offsetof(struct ipstat, ips_cantfrag) },
	{ "forward", offsetof(struct ipstat, ips_forward) },
	{ "cantforward", offsetof(struct ipstat, ips_cantforward) },
	{ "timxceed", offsetof(struct ipstat, ips_timxceed) },
	{ "pmtulearned", offsetof(struct ipstat, ips_pmtulearned) },
	{ "pmtubad", offsetof(struct ipstat, ips_pmtubad) },
};

static const struct stat_field icmp_fields[] = {
	{ "error", offsetof(struct icmpstat, icps_error) },
	{ "oldicmp", offsetof(struct icmpstat, icps_oldicmp) },
	{ "bmcast", offsetof(struct icmpstat, icps_bmcast) },
	{ "notfirst", offsetof(struct icmpstat, icps_notfirst) },
	{ "badsrc", offsetof(struct icmpstat, icps_badsrc) },
	{ "ratelimited", offsetof(struct icmpstat, icps_ratelimited) },
	{ "nobufs", offsetof(struct icmpstat, icps_nobufs) },
	{ "badcode", offsetof(struct icmpstat, icps_badcode) },
	{ "tooshort", offsetof(struct icmpstat, icps_tooshort) },
	{ "checksum", offsetof(struct icmpstat, icps_checksum) },
	{ "badlen", offsetof(struct icmpstat, icps_badlen) },
	{ "bmcastecho", offsetof(struct icmpstat, icps_bmcastecho) },
	{ "reflect", offsetof(struct icmpstat, icps_reflect) },
	{ "out.echoreply", offsetof(struct icmpstat, icps_outhist[0]) },
	{ "out.unreach", offsetof(struct icmpstat, icps_outhist[3]) },
	{ "out.echo", offsetof(struct icmpstat, icps_outhist[8]) },
	{ "out.timxceed", offsetof(struct icmpstat, icps_outhist[11]) },
	{ "in.echoreply", offsetof(struct icmpstat, icps_inhist[0]) },
	{ "in.unreach", offsetof(struct icmpstat, icps_inhist[3]) },
	{ "in.echo", offsetof(struct icmpstat, icps_inhist[8]) },
	{ "in.timxceed", offsetof(struct icmpstat, icps_inhist[11]) },
	{ "in.paramprob", offsetof(struct icmpstat, icps_inhist[12]) },
};

static const struct stat_field igmp_fields[] = {
	{ "rcvtotal", offsetof(struct igmpstat, igps_rcv_total) },
	{ "rcvtooshort", offsetof(struct igmpstat, igps_rcv_tooshort) },
	{ "rcvbadsum", offsetof(struct igmpstat, igps_rcv_badsum) },
	{ "rcvqueries", offsetof(struct igmpstat, igps_rcv_queries) },
	{ "rcvbadqueries", offsetof(struct igmpstat, igps_rcv_badqueries) },
	{ "rcvreports", offsetof(struct igmpstat, igps_rcv_reports) },
	{ "rcvbadreports", offsetof(struct igmpstat, igps_rcv_badreports) },
	{ "rcvourreports", offsetof(struct igmpstat, igps_rcv_ourreports) },
	{ "sndreports", offsetof(struct igmpstat, igps_snd_reports) },
	{ "sndleaves", offsetof(struct igmpstat, igps_snd_leaves) },
	{ "nobufs", offsetof(struct igmpstat, igps_nobufs) },
};

static const struct stat_field arp_fields[] = {
	{ "rcvtotal", offsetof(struct arpstat, as_rcvtotal) },
	{ "rcvbadlen", offsetof(struct arpstat, as_rcvbadlen) },
	{ "rcvbadproto", offsetof(struct arpstat, as_rcvbadproto) },
	{ "rcvlocalsha", offsetof(struct arpstat, as_rcvlocalsha) },
	{ "rcvbcastsha", offsetof(struct arpstat, as_rcvbcastsha) },
	{ "rcvzerospa", offsetof(struct arpstat, as_rcvzerospa) },
	{ "rcvdupaddr", offsetof(struct arpstat, as_rcvdupaddr) },
	{ "rcvrequests", offsetof(struct arpstat, as_rcvrequests) },
	{ "rcvreplies", offsetof(struct arpstat, as_rcvreplies) },
	{ "rcvnotours", offsetof(struct arpstat, as_rcvnotours) },
	{ "sendrequests", offsetof(struct arpstat, as_sendrequests) },
	{ "sendreplies", offsetof(struct arpstat, as_sendreplies) },
	{ "sendgarp", offsetof(struct arpstat, as_sendgarp) },
	{ "holddropped", offsetof(struct arpstat, as_holddropped) },
	{ "timeouts", offsetof(struct arpstat, as_timeouts) },
	{ "timeoutdropped", offsetof(struct arpstat, as_timeoutdropped) },
	{ "tablefull", offsetof(struct arpstat, as_tablefull) },
	{ "evicted", offsetof(struct arpstat, as_evicted) },
	{ "expired", offsetof(struct arpstat, as_expired) },
	{ "nobufs", offsetof(struct arpstat, as_nobufs) },
	{ "entries", offsetof(struct arpstat, as_entries) },
};

static const struct stat_field udp_fields[] = {
	{ "ipackets", offsetof(struct udpstat, udps_ipackets) },
	{ "hdrops", offsetof(struct udpstat, udps_hdrops) },
	{ "badlen", offsetof(struct udpstat, udps_badlen) },
	{ "badsum", offsetof(struct udpstat, udps_badsum) },
	{ "nosum", offsetof(struct udpstat, udps_nosum) },
	{ "noport", offsetof(struct udpstat, udps_noport) },
	{ "noportbcast", offsetof(struct udpstat, udps_noportbcast) },
	{ "fullsock", offsetof(struct udpstat, udps_fullsock) },
	{ "nobufs", offsetof(struct udpstat, udps_nobufs) },
	{ "delivered", offsetof(struct udpstat, udps_delivered) },
	{ "opackets", offsetof(struct udpstat, udps_opackets) },
};

static const struct stat_field raw_fields[] = {
	{ "delivered", offsetof(struct ripstat, rips_delivered) },
	{ "fullsock", offsetof(struct ripstat, rips_fullsock) },
	{ "nobufs", offsetof(struct ripstat, rips_nobufs) },
	{ "opackets", offsetof(struct ripstat, rips_opackets) },
	{ "badhdr", offsetof(struct ripstat, rips_badhdr) },
};

static const struct stat_field tcp_fields[] = {
	{ "connattempt", offsetof(struct tcpstat, tcps_connattempt) },
	{ "accepts", offsetof(struct tcpstat, tcps_accepts) },
	{ "connects", offsetof(struct tcpstat, tcps_connects) },
	{ "drops", offsetof(struct tcpstat, tcps_drops) },
	{ "conndrops", offsetof(struct tcpstat, tcps_conndrops) },
	{ "closed", offsetof(struct tcpstat, tcps_closed) },
	{ "segstimed", offsetof(struct tcpstat, tcps_segstimed) },
	{ "rttupdated", offsetof(struct tcpstat, tcps_rttupdated) },
	{ "delack", offsetof(struct tcpstat, tcps_delack) },
	{ "timeoutdrop", offsetof(struct tcpstat, tcps_timeoutdrop) },
	{ "rexmttimeo", offsetof(struct tcpstat, tcps_rexmttimeo) },
	{ "persisttimeo", offsetof(struct tcpstat, tcps_persisttimeo) },
	{ "keeptimeo", offsetof(struct tcpstat, tcps_keeptimeo) },
	{ "keepprobe", offsetof(struct tcpstat, tcps_keepprobe) },
	{ "keepdrops", offsetof(struct tcpstat, tcps_keepdrops) },
	{ "sndtotal", offsetof(struct tcpstat, tcps_sndtotal) },
	{ "sndpack", offsetof(struct tcpstat, tcps_sndpack) },
	{ "sndbyte", offsetof(struct tcpstat, tcps_sndbyte) },
	{ "sndrexmitpack", offsetof(struct tcpstat, tcps_sndrexmitpack) },
	{ "sndrexmitbyte", offsetof(struct tcpstat, tcps_sndrexmitbyte) },
	{ "sndacks", offsetof(struct tcpstat, tcps_sndacks) },
	{ "sndprobe", offsetof(struct tcpstat, tcps_sndprobe) },
	{ "sndurg", offsetof(struct tcpstat, tcps_sndurg) },
	{ "sndwinup", offsetof(struct tcpstat, tcps_sndwinup) },
	{ "ackpass", offsetof(struct tcpstat, tcps_ackpass) },
	{ "ackpassout", offsetof(struct tcpstat, tcps_ackpassout) },
	{ "sndctrl", offsetof(struct tcpstat, tcps_sndctrl) },
	{ "sndrst", offsetof(struct tcpstat, tcps_sndrst) },
	{ "nobufs", offsetof(struct tcpstat, tcps_nobufs) },
	{ "rcvtotal", offsetof(struct tcpstat, tcps_rcvtotal) },
	{ "rcvpack", offsetof(struct tcpstat, tcps_rcvpack) },
	{ "rcvbyte", offsetof(struct tcpstat, tcps_rcvbyte) },
	{ "rcvbadsum", offsetof(struct tcpstat, tcps_rcvbadsum) },
	{ "rcvbadoff", offsetof(struct tcpstat, tcps_rcvbadoff) },
	{ "rcvshort", offsetof(struct tcpstat, tcps_rcvshort) },
	{ "rcvbadopt", offsetof(struct tcpstat, tcps_rcvbadopt) },
	{ "rcvoptignored", offsetof(struct tcpstat, tcps_rcvoptignored) },
	{ "rcvbadaddr", offsetof(struct tcpstat, tcps_rcvbadaddr) },
	{ "rcvduppack", offsetof(struct tcpstat, tcps_rcvduppack) },
	{ "rcvdupbyte", offsetof(struct tcpstat, tcps_rcvdupbyte) },
	{ "rcvpartduppack", offsetof(struct tcpstat, tcps_rcvpartduppack) },
	{ "rcvpartdupbyte", offsetof(struct tcpstat, tcps_rcvpartdupbyte) },
	{ "rcvoopack", offsetof(struct tcpstat, tcps_rcvoopack) },
	{ "rcvoobyte", offsetof(struct tcpstat, tcps_rcvoobyte) },
	{ "rcvreassfull", offsetof(struct tcpstat, tcps_rcvreassfull) },
	{ "rcvreassmem", offsetof(struct tcpstat, tcps_rcvreassmem) },
	{ "rcvpackafterwin", offsetof(struct tcpstat, tcps_rcvpackafterwin) },
	{ "rcvbyteafterwin", offsetof(struct tcpstat, tcps_rcvbyteafterwin) },
	{ "rcvafterclose", offsetof(struct tcpstat, tcps_rcvafterclose) },
	{ "rcvafterfin", offsetof(struct tcpstat, tcps_rcvafterfin) },
	{ "rcvwinprobe", offsetof(struct tcpstat, tcps_rcvwinprobe) },
	{ "rcvdupack", offsetof(struct tcpstat, tcps_rcvdupack) },
	{ "rcvacktoomuch", offsetof(struct tcpstat, tcps_rcvacktoomuch) },
	{ "rcvacktooold", offsetof(struct tcpstat, tcps_rcvacktooold) },
	{ "rcvackpack", offsetof(struct tcpstat, tcps_rcvackpack) },
	{ "rcvackbyte", offsetof(struct tcpstat, tcps_rcvackbyte) },
	{ "rcvwinupd", offsetof(struct tcpstat, tcps_rcvwinupd) },
	{ "pawsdrop", offsetof(struct tcpstat, tcps_pawsdrop) },
	{ "persistdrop", offsetof(struct tcpstat, tcps_persistdrop) },
	{ "noport", offsetof(struct tcpstat, tcps_noport) },
	{ "listendrop", offsetof(struct tcpstat, tcps_listendrop) },
	{ "synqdrop", offsetof(struct tcpstat, tcps_synqdrop) },
	{ "nosocket", offsetof(struct tcpstat, tcps_nosocket) },
	{ "badsyn", offsetof(struct tcpstat, tcps_badsyn) },
	{ "synfin", offsetof(struct tcpstat, tcps_synfin) },
	{ "badrst", offsetof(struct tcpstat, tcps_badrst) },
	{ "rstinwin", offsetof(struct tcpstat, tcps_rstinwin) },
	{ "synchallenge", offsetof(struct tcpstat, tcps_synchallenge) },
	{ "challengeack", offsetof(struct tcpstat, tcps_challengeack) },
	{ "challengelimit", offsetof(struct tcpstat, tcps_challengelimit) },
	{ "badack", offsetof(struct tcpstat, tcps_badack) },
	{ "noack", offsetof(struct tcpstat, tcps_noack) },
	{ "rcvrst", offsetof(struct tcpstat, tcps_rcvrst) },
	{ "refused", offsetof(struct tcpstat, tcps_refused) },
	{ "fastrexmit", offsetof(struct tcpstat, tcps_fastrexmit) },
	{ "recovery", offsetof(struct tcpstat, tcps_recovery) },
	{ "partialack", offsetof(struct tcpstat, tcps_partialack) },
	{ "limitedxmit", offsetof(struct tcpstat, tcps_limitedxmit) },
	{ "ecn_shs", offsetof(struct tcpstat, tcps_ecn_shs) },
	{ "ecn_ce", offsetof(struct tcpstat, tcps_ecn_ce) },
	{ "ecn_ece", offsetof(struct tcpstat, tcps_ecn_ece) },
	{ "ecn_cwr", offsetof(struct tcpstat, tcps_ecn_cwr) },
	{ "ecn_rcvece", offsetof(struct tcpstat, tcps_ecn_rcvece) },
	{ "icmperr", offsetof(struct tcpstat, tcps_icmperr) },
	{ "icmpbadseq", offsetof(struct tcpstat, tcps_icmpbadseq) },
	{ "pmtuchange", offsetof(struct tcpstat, tcps_pmtuchange) },
	{ "mtushrink", offsetof(struct tcpstat, tcps_mtushrink) },
	{ "pmtubad", offsetof(struct tcpstat, tcps_pmtubad) },
	{ "urgdrop", offsetof(struct tcpstat, tcps_urgdrop) },
	{ "rcvoob", offsetof(struct tcpstat, tcps_rcvoob) },
	{ "timewaitreuse", offsetof(struct tcpstat, tcps_timewaitreuse) },
	{ "nopcb", offsetof(struct tcpstat, tcps_nopcb) },
	{ "twoverflow", offsetof(struct tcpstat, tcps_twoverflow) },
	{ "twrecycled", offsetof(struct tcpstat, tcps_twrecycled) },
	{ "synwithdata", offsetof(struct tcpstat, tcps_synwithdata) },
	{ "rcvnots", offsetof(struct tcpstat, tcps_rcvnots) },
	{ "urgzero", offsetof(struct tcpstat, tcps_urgzero) },
	{ "rcvsack", offsetof(struct tcpstat, tcps_rcvsack) },
	{ "rcvsackbad", offsetof(struct tcpstat, tcps_rcvsackbad) },
	{ "rcvdsack", offsetof(struct tcpstat, tcps_rcvdsack) },
	{ "dsackspurious", offsetof(struct tcpstat, tcps_dsackspurious) },
	{ "sackboardfull", offsetof(struct tcpstat, tcps_sackboardfull) },
	{ "sndsack", offsetof(struct tcpstat, tcps_sndsack) },
	{ "snddsack", offsetof(struct tcpstat, tcps_snddsack) },
	{ "sackrecovery", offsetof(struct tcpstat, tcps_sackrecovery) },
	{ "sackrexmit", offsetof(struct tcpstat, tcps_sackrexmit) },
	{ "sackrescue", offsetof(struct tcpstat, tcps_sackrescue) },
	{ "racklost", offsetof(struct tcpstat, tcps_racklost) },
	{ "rackreorder", offsetof(struct tcpstat, tcps_rackreorder) },
	{ "rackreowide", offsetof(struct tcpstat, tcps_rackreowide) },
	{ "tlpprobe", offsetof(struct tcpstat, tcps_tlpprobe) },
	{ "tlprexmit", offsetof(struct tcpstat, tcps_tlprexmit) },
	{ "tlprecovered", offsetof(struct tcpstat, tcps_tlprecovered) },
	{ "rackoff", offsetof(struct tcpstat, tcps_rackoff) },
	{ "syncache", offsetof(struct tcpstat, tcps_syncache) },
	{ "syncache_peak", offsetof(struct tcpstat, tcps_syncache_peak) },
	{ "sc_sent", offsetof(struct tcpstat, tcps_sc_sent) },
	{ "sc_recvd", offsetof(struct tcpstat, tcps_sc_recvd) },
	{ "sc_failed", offsetof(struct tcpstat, tcps_sc_failed) },
	{ "deferred", offsetof(struct tcpstat, tcps_deferred) },
	{ "defertimeo", offsetof(struct tcpstat, tcps_defertimeo) },
	{ "tfo_cookiereq", offsetof(struct tcpstat, tcps_tfo_cookiereq) },
	{ "tfo_cookiesent", offsetof(struct tcpstat, tcps_tfo_cookiesent) },
	{ "tfo_accepted", offsetof(struct tcpstat, tcps_tfo_accepted) },
	{ "tfo_badcookie", offsetof(struct tcpstat, tcps_tfo_badcookie) },
	{ "tfo_qfull", offsetof(struct tcpstat, tcps_tfo_qfull) },
	{ "tfo_syndata", offsetof(struct tcpstat, tcps_tfo_syndata) },
	{ "tfo_synreq", offsetof(struct tcpstat, tcps_tfo_synreq) },
	{ "tfo_cookierecv", offsetof(struct tcpstat, tcps_tfo_cookierecv) },
	{ "tfo_dataacked", offsetof(struct tcpstat, tcps_tfo_dataacked) },
	{ "tfo_datanotacked", offsetof(struct tcpstat, tcps_tfo_datanotacked) },
	{ "tfo_synloss", offsetof(struct tcpstat, tcps_tfo_synloss) },
};

/* Append s to buf at *n (bounded); false when it did not fit. */
static bool
stat_name_append(char *buf, size_t size, size_t *n, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*n + 1 >= size)
			return false;
		buf[(*n)++] = *s;
	}
	buf[*n] = '\0';
	return true;
}

static void
stat_group(const char *prefix, const struct stat_field *f, size_t nf,
    const void *base, bool indexed,
    void (*fn)(const char *, uint64_t, void *), void *arg)
{
	char name[64];

	for (size_t i = 0; i < nf; i++) {
		size_t n = 0;
		uint64_t v;

		if (!stat_name_append(name, sizeof(name), &n, prefix) ||
		    !stat_name_append(name, sizeof(name), &n, f[i].sf_name))
			continue;
		if (indexed)
			v = ((const uint64_t *)base)[f[i].sf_off];
		else
			memcpy(&v, (const char *)base + f[i].sf_off, sizeof(v));
		fn(name, v, arg);
	}
}

/* Every counter of k, in a stable order; ns_lock held. */
static void
stat_walk(struct rump_kernel *k, void (*fn)(const char *, uint64_t, void *),
    void *arg)
{
	struct netstack *ns = k->k_net;
	struct list_node *ln;

	for (ln = ns->ns_ifnets.ln_next; ln != &ns->ns_ifnets; ln = ln->ln_next) {
		struct ifnet *ifp = container_of(ln, struct ifnet, if_link);
		char prefix[IFNAMSIZ + 8];
		size_t n = 0;

		stat_name_append(prefix, sizeof(prefix), &n, "if.");
		stat_name_append(prefix, sizeof(prefix), &n, ifp->if_xname);
		stat_name_append(prefix, sizeof(prefix), &n, ".");
		stat_group(prefix, if_fields, __arraycount(if_fields),
		    ifp->if_counters, true, fn, arg);
		/* rump_if_impair(): zeros until it is first turned on */
		uint64_t impair[IFI_NCOUNTERS];

		if_impair_counters(ifp, impair);
		stat_group(prefix, impair_fields, __arraycount(impair_fields),
		    impair, true, fn, arg);
	}
	stat_group("ip.", ip_fields, __arraycount(ip_fields), &ns->ns_ipstat,
	    false, fn, arg);
	stat_group("icmp.", icmp_fields, __arraycount(icmp_fields),
	    &ns->ns_icmpstat, false, fn, arg);
	stat_group("igmp.", igmp_fields, __arraycount(igmp_fields),
	    &ns->ns_igmpstat, false, fn, arg);
	stat_group("arp.", arp_fields, __arraycount(arp_fields),
	    &ns->ns_arp.at_stat, false, fn, arg);
	stat_group("udp.", udp_fields, __arraycount(udp_fields),
	    ns->ns_udpstat, false, fn, arg);
	stat_group("tcp.", tcp_fields, __arraycount(tcp_fields),
	    &ns->ns_tcp->tcp_stat, false, fn, arg);
	stat_group("raw.", raw_fields, __arraycount(raw_fields),
	    &ns->ns_raw->rip_stat, false, fn, arg);
}

int
rump_stat_list(struct rump_kernel *k,
    void (*fn)(const char *name, uint64_t value, void *arg), void *arg)
{
	int error;

	if (fn == NULL)
		return hyper_errno_to_host(EINVAL);
	if ((error = net_enter(k)) != 0)
		return hyper_errno_to_host(error);
	stat_walk(k, fn, arg);
	return net_exit(k, 0);
}

struct stat_find {
	const char *sf_want;
	uint64_t sf_value;
	bool sf_found;
};

static void
stat_match(const char *name, uint64_t value, void *arg)
{
	struct stat_find *f = arg;
	size_t i;

	for (i = 0; name[i] != '\0' && name[i] == f->sf_want[i]; i++)
		;
	if (name[i] == '\0' && f->sf_want[i] == '\0') {
		f->sf_value = value;
		f->sf_found = true;
	}
}

int
rump_stat_get(struct rump_kernel *k, const char *name, uint64_t *value)
{
	struct stat_find f = { name, 0, false };
	int error;

	if (name == NULL || value == NULL)
		return hyper_errno_to_host(EINVAL);
	if ((error = net_enter(k)) != 0)
		return hyper_errno_to_host(error);
	stat_walk(k, stat_match, &f);
	if (f.sf_found)
		*value = f.sf_value;
	return net_exit(k, f.sf_found ? 0 : ENOENT);
}
