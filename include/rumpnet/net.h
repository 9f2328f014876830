/*
 * rumpnet/net.h -- configuring an instance's network stack and reading its
 * counters: interfaces, addresses, routes, ARP entries.  The apps' command
 * line options (--addr, --gw, --pcap) are built on these.
 *
 * IPv4 addresses are uint32_t in network byte order (the s_addr of a
 * struct in_addr; inet_addr() and htonl() give them), so this header needs
 * no socket header.  Every function returns 0 or a host errno value.
 */
#ifndef RUMPNET_NET_H
#define RUMPNET_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "rumpnet/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* interfaces */
int rump_if_up(struct rump_kernel *k, unsigned ifindex);
int rump_if_down(struct rump_kernel *k, unsigned ifindex);
/* rump_if_set_mtu: 68 (RFC 791's minimum) .. 9000; EINVAL otherwise. */
int rump_if_set_mtu(struct rump_kernel *k, unsigned ifindex, unsigned mtu);
/* rump_if_index: the index of interface name; ENXIO when there is none. */
int rump_if_index(struct rump_kernel *k, const char *name, unsigned *ifindex);
/* rump_if_destroy: detach and free an interface (its driver's half too). */
int rump_if_destroy(struct rump_kernel *k, unsigned ifindex);
/* rump_if_pcap: capture the interface's frames to path (NULL: stop). */
int rump_if_pcap(struct rump_kernel *k, unsigned ifindex, const char *path);

/*
 * rump_if_impair: impair the frames interface ifindex receives and sends,
 * as the bus impairs its wire (rumpnet/bus.h), for links the host cannot
 * impair (a kernel without netem): each frame, in either direction, is
 * lost with probability loss, duplicated with probability duplicate, has
 * one byte flipped with probability corrupt, and is delayed by delay_ns +
 * U[0, jitter_ns] (+ reorder_ns with probability reorder, which lets later
 * frames overtake it).  Delayed frames wait on a queue of at most
 * queue_max (0: 4096; the excess is dropped and counted) and leave from a
 * callout of the instance, so delays have the callout wheel's 1 ms
 * granularity.  cfg NULL, or all knobs 0, turns impairment off (frames
 * still held are released at once).  Counters: if.<name>.impair_lost,
 * impair_duplicated, impair_corrupted, impair_delayed, impair_reordered,
 * impair_qdrops.  EINVAL: a probability outside 0..1, a delay over an
 * hour, reorder without reorder_ns.
 * (src/net/if_impair.c has the details: a new configuration restarts the
 * generator from its seed and keeps the frames held, a smaller queue_max
 * sending the earliest on at once; counters add up across
 * configurations; corruption keeps a checksum the hardware was to compute
 * from hiding the flip.  ENXIO: no interface ifindex.)
 */
struct rump_impair_config {
	uint64_t seed;
	double loss, duplicate, corrupt, reorder;
	uint64_t delay_ns, jitter_ns, reorder_ns;
	unsigned queue_max;
};
int rump_if_impair(struct rump_kernel *k, unsigned ifindex,
    const struct rump_impair_config *cfg);

/* addresses: prefix length 0..32 */
int rump_if_addr_add(struct rump_kernel *k, unsigned ifindex,
    uint32_t addr, unsigned plen);
int rump_if_addr_del(struct rump_kernel *k, unsigned ifindex,
    uint32_t addr);
/*
 * rump_addr_parse: "198.18.0.2/24" into an address and prefix length
 * (no "/": 32).  EINVAL when malformed.
 */
int rump_addr_parse(const char *s, uint32_t *addr, unsigned *plen);

/* routes: gateway 0.0.0.0 with ifindex for an on-link route */
int rump_route_add(struct rump_kernel *k, uint32_t dst, unsigned plen,
    uint32_t gateway, unsigned ifindex);
int rump_route_del(struct rump_kernel *k, uint32_t dst, unsigned plen);
/* rump_route_get: the route dst would take: interface and next hop. */
int rump_route_get(struct rump_kernel *k, uint32_t dst,
    unsigned *ifindex, uint32_t *nexthop);

/*
 * rump_ip_forwarding: make the instance an IPv4 router (on != 0) or a host
 * (on == 0, the default): forward datagrams for other hosts that arrive
 * on its interfaces (RFC 1812; counters ip.forward, ip.cantforward,
 * ip.timxceed, ip.noroute, ip.cantfrag) instead of dropping them
 * (ip.notforus).  Returns 0.
 */
int rump_ip_forwarding(struct rump_kernel *k, int on);

/* ARP */
int rump_arp_add(struct rump_kernel *k, unsigned ifindex, uint32_t addr,
    const uint8_t mac[6]);
int rump_arp_del(struct rump_kernel *k, uint32_t addr);
enum rump_arp_state { RUMP_ARP_NONE, RUMP_ARP_INCOMPLETE, RUMP_ARP_REACHABLE,
    RUMP_ARP_STALE, RUMP_ARP_STATIC };
/* rump_arp_get: the entry's state and MAC (RUMP_ARP_NONE: no entry). */
int rump_arp_get(struct rump_kernel *k, uint32_t addr,
    enum rump_arp_state *state, uint8_t mac[6]);

/*
 * RSS (receive-side scaling; DESIGN.md "Multi-core"): when n instances
 * share the receive queues of the same ports, instance i owning queue i,
 * the NIC (or a dispatcher computing the same hash in software) gives a
 * frame to the queue that entry (hash & (RUMP_RSS_RETA_SIZE - 1)) of the
 * redirection table rss_reta names, hash being the Toeplitz hash under
 * rss_key of the source address, destination address, source port and
 * destination port (Microsoft's RSS specification; DPDK's
 * RTE_ETH_RSS_NONFRAG_IPV4_TCP and _UDP).  An instance told it is
 * rss_instance of rss_ninstances gives every connection (a TCP connect(),
 * a UDP connect() of an unbound socket) an ephemeral port whose replies
 * hash to its own queue, so the whole connection stays on its core.  A
 * port bound explicitly, or picked without a peer (bind() to port 0,
 * listen(), sendto() on an unconnected socket), is not constrained.
 * Connections made before the call keep their ports.
 */
#define RUMP_RSS_KEY_LEN 40
#define RUMP_RSS_RETA_SIZE 128

struct rump_rss_config {
	unsigned rss_instance;		/* this instance's queue */
	unsigned rss_ninstances;	/* 0 or 1: one instance, no RSS */
	uint8_t rss_key[RUMP_RSS_KEY_LEN];
	uint16_t rss_reta[RUMP_RSS_RETA_SIZE];	/* queues, < rss_ninstances */
};

/*
 * rump_rss_config_default: instance of ninstances, Microsoft's key (the
 * default of DPDK's drivers) and the redirection table they fill by
 * default, entry j = j % ninstances (0 counts as 1).
 */
void rump_rss_config_default(struct rump_rss_config *cfg, unsigned instance,
    unsigned ninstances);
/*
 * rump_rss_set: make k instance cfg->rss_instance of cfg->rss_ninstances
 * (cfg NULL, or rss_ninstances 0 or 1: the only one, ports unconstrained,
 * the default).  Returns 0, EINVAL (rss_ninstances above
 * RUMP_RSS_RETA_SIZE, rss_instance not below rss_ninstances, a table
 * entry not below rss_ninstances, or no entry naming rss_instance, which
 * would leave no port to connect from) or ENOMEM.
 */
int rump_rss_set(struct rump_kernel *k, const struct rump_rss_config *cfg);
/*
 * rump_rss_get: k's configuration into *cfg (without RSS: instance 0 of
 * 1 with the default key and table).  Returns 0, or EINVAL (cfg NULL).
 */
int rump_rss_get(struct rump_kernel *k, struct rump_rss_config *cfg);

/*
 * Counters, by name: "if.<ifname>.<counter>" (ipackets, ibytes, imcasts,
 * opackets, obytes, omcasts, ierrors, oerrors, iqdrops, oqdrops, idown,
 * odown, irunt, inotus, iloop, noproto, and the impair_* counters of
 * rump_if_impair()), "ip.<field>", "icmp.<field>",
 * "arp.<field>", "udp.<field>" with the field names of struct ipstat / icmpstat /
 * arpstat / udpstat without their prefix (ip.badsum, icmp.reflect, arp.rcvreplies,
 * ...; icmp.in.<type> and icmp.out.<type> for the common types).  Raw
 * sockets: ip.rawin (datagrams given to at least one raw socket),
 * raw.delivered (copies queued), raw.fullsock (dropped: receive buffer
 * full), raw.nobufs, raw.opackets (datagrams sent), raw.badhdr (IP_HDRINCL
 * headers refused).  ENOENT for an unknown name.
 */
int rump_stat_get(struct rump_kernel *k, const char *name, uint64_t *value);
/*
 * rump_stat_list: call fn(name, value, arg) for every counter of the
 * instance, in a stable order.
 */
int rump_stat_list(struct rump_kernel *k,
    void (*fn)(const char *name, uint64_t value, void *arg), void *arg);

/*
 * rump_ping_send: an ICMP echo request from k to dst, without a socket
 * (a raw ICMP socket does the same with any payload);
 * rump_ping_last: the last echo reply k received (count 0: none).
 */
int rump_ping_send(struct rump_kernel *k, uint32_t dst, uint16_t id,
    uint16_t seq, size_t datalen);
struct rump_ping_reply {
	uint64_t count;			/* replies received so far */
	uint32_t src;
	uint16_t id, seq, datalen;
};
int rump_ping_last(struct rump_kernel *k, struct rump_ping_reply *r);

/*
 * TCP parameters of an instance (what the BSD sysctl net.inet.tcp set
 * holds), integers by name; a change applies to connections opened
 * after it:
 *   "sack"            1: offer SACK-permitted and use SACK (RFC 2018,
 *                     RFC 6675); 0: neither.  Default 1.
 *   "rack"            1: RACK-TLP loss detection (RFC 8985) where SACK
 *                     was agreed; 0: duplicate ACK counting only.
 *                     Default 1.
 *   "ecn"             1: ask for ECN (RFC 3168) on connect() and agree
 *                     when a peer asks; 0: neither.  Default 0.  Read by
 *                     connect(), and by listen() for the connections a
 *                     listener accepts.
 *   "syncookies"      1: answer SYNs with a SYN cookie (RFC 4987) once
 *                     the SYN queue is full (the listener's, or the
 *                     instance's syncache_limit); 0: drop them
 *                     (tcp.synqdrop).  Default 1.  A cookie is good for
 *                     16 to 32 s; without timestamps in the SYN the
 *                     connection it makes has no window scaling, SACK
 *                     nor ECN.  Counters tcp.sc_sent, tcp.sc_recvd
 *                     (connections made), tcp.sc_failed (ACKs to a
 *                     listener that sent cookies, none valid).
 *   "syncache_limit"  embryonic connections (SYN received, handshake
 *                     not complete) of all listeners together, 1..65536;
 *                     default 1024.  tcp.syncache counts them now,
 *                     tcp.syncache_peak says the most there were.
 * rump_tcp_param_set / rump_tcp_param_get: 0, ENOENT (unknown name) or
 * EINVAL (value out of range, NULL argument).
 *
 * rump_tcp_cc_set_default: the congestion control algorithm new
 * connections start with: "cubic" (RFC 9438, the default) or "newreno"
 * (RFC 5681, RFC 6582); a socket picks its own with TCP_CONGESTION.
 * 0, ENOENT (no such algorithm) or EINVAL (NULL name).
 * rump_tcp_cc_get_default: its name into buf (len bytes, at least 16).
 */
int rump_tcp_param_set(struct rump_kernel *k, const char *name, int value);
int rump_tcp_param_get(struct rump_kernel *k, const char *name, int *value);
int rump_tcp_cc_set_default(struct rump_kernel *k, const char *name);
int rump_tcp_cc_get_default(struct rump_kernel *k, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* RUMPNET_NET_H */
