/*
 * ip_pmtu.h -- the path MTU cache (RFC 1191): what ICMP "fragmentation
 * needed" messages taught the host about the paths to other hosts.
 *
 * (tcp_ctlinput(), udp_ctlinput() ->) ip_pmtu_update(); (ip_output_if()
 * for IP_USEPMTU datagrams, tcp_mss_update(), IP_MTU ->) ip_pmtu_get().
 *
 * Rules:
 *  - an entry per destination, only ever lowered by a message (RFC 1191
 *    6.3), never below IP_PMTU_MIN (Linux's min_pmtu: a forged message
 *    cannot make a path carry tiny datagrams, RFC 5927 7.1); a message
 *    that says less makes the entry "locked": 552 bytes, sent without DF
 *    (unless IP_PMTUDISC_DO), as Linux;
 *  - a message whose MTU is below RFC 791's 68, or not below the length
 *    of the datagram it quotes, is not believed, and counted
 *    (ips_pmtubad);
 *  - an entry is forgotten IP_PMTU_EXPIRE_S after it was last lowered
 *    (RFC 1191 6.3: "no less than 10 minutes"), so that a path that grew
 *    is used whole again;
 *  - at most IP_PMTU_SETS * IP_PMTU_WAYS destinations: a new one takes
 *    the place of the entry of its set that expires first.
 * The cache is the instance's, under its net lock.
 */
#ifndef NETINET_IP_PMTU_H
#define NETINET_IP_PMTU_H

#include "kern/libkern.h"
#include "netinet/in.h"

#define IP_PMTU_SETS 64
#define IP_PMTU_WAYS 4
#define IP_PMTU_MIN 552
#define IP_PMTU_EXPIRE_S 600

struct ip_pmtu_entry {
	uint64_t pe_expire_ns;		/* 0: free */
	uint32_t pe_dst;		/* network order */
	uint16_t pe_mtu;
	bool pe_locked;			/* a message said less than pe_mtu */
};

struct ip_pmtu_cache {
	struct ip_pmtu_entry pc_e[IP_PMTU_SETS][IP_PMTU_WAYS];
	unsigned pc_count;		/* entries in use, expired included */
};

struct netstack;
struct ip;

/*
 * ip_pmtu_update: the datagram of ours whose header is qip, sent with DF,
 * met a link of mtu bytes (an ICMP "fragmentation needed").  Returns the
 * path MTU now cached toward qip->ip_dst and in *locked whether it is
 * locked, or 0 for a message not believed.
 */
unsigned ip_pmtu_update(struct netstack *ns, const struct ip *qip,
    unsigned mtu, bool *locked);
/*
 * ip_pmtu_get: the cached path MTU toward dst, or 0 (none, or expired);
 * *locked (if not NULL) says whether it is locked (only set when not 0).
 */
unsigned ip_pmtu_get(struct netstack *ns, struct in_addr dst, bool *locked);
/*
 * ip_pmtu_min: mtu (an interface's), or the cached path MTU toward dst if
 * smaller; *locked (if not NULL) as ip_pmtu_get().
 */
unsigned ip_pmtu_min(struct netstack *ns, struct in_addr dst, unsigned mtu,
    bool *locked);

#endif /* NETINET_IP_PMTU_H */
