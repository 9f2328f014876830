/*
 * igmp_var.h -- IGMP version 2 for hosts (RFC 2236): the messages, the
 * counters, and what in_mcast.c and ip_input() call.
 */
#ifndef NETINET_IGMP_VAR_H
#define NETINET_IGMP_VAR_H

#include "kern/libkern.h"
#include "netinet/in.h"

struct ifnet;
struct in_multi;
struct mbuf;
struct netstack;

struct igmp {
	uint8_t igmp_type;
	uint8_t igmp_code;		/* max response time, 1/10 s (queries) */
	uint16_t igmp_cksum;
	struct in_addr igmp_group;
};

#define IGMP_MINLEN 8
#define IGMP_V3_QUERY_MINLEN 12		/* RFC 3376 4.1 */

#define IGMP_MEMBERSHIP_QUERY 0x11
#define IGMP_V1_MEMBERSHIP_REPORT 0x12
#define IGMP_V2_MEMBERSHIP_REPORT 0x16
#define IGMP_V2_LEAVE_GROUP 0x17
#define IGMP_V3_MEMBERSHIP_REPORT 0x22

/* RFC 2236 8: timers, in ticks of IGMP_TICK_MS (1/10 s, its unit) */
#define IGMP_TICK_MS 100
#define IGMP_QUERY_RESPONSE 100		/* 8.3: 10 s (an IGMPv1 query's) */
#define IGMP_UNSOLICITED_REPORT 100	/* 8.10: 10 s */
#define IGMP_V1_ROUTER_TIMEOUT_MS 400000 /* 8.11: 400 s */

struct igmpstat {
	uint64_t igps_rcv_total;	/* messages received */
	uint64_t igps_rcv_tooshort;	/* shorter than 8 bytes */
	uint64_t igps_rcv_badsum;	/* checksum wrong */
	uint64_t igps_rcv_queries;	/* membership queries */
	uint64_t igps_rcv_badqueries;	/* malformed queries, ignored */
	uint64_t igps_rcv_reports;	/* membership reports (v1, v2) */
	uint64_t igps_rcv_badreports;	/* malformed reports, ignored */
	uint64_t igps_rcv_ourreports;	/* reports for a group we are in */
	uint64_t igps_snd_reports;	/* reports sent */
	uint64_t igps_snd_leaves;	/* leave messages sent */
	uint64_t igps_nobufs;		/* not sent: no mbuf */
};

/* igmp_init/fini: the instance's IGMP timer (netstack_init/fini). */
void igmp_init(struct netstack *ns);
void igmp_fini(struct netstack *ns);
/*
 * igmp_input: (ip_deliver() ->) an IGMP message; raw sockets get it too.
 * Net lock held.  Consumes m.
 */
void igmp_input(struct mbuf *m, int hlen);
/*
 * igmp_joingroup: the host has joined inm's group (report it, RFC 2236
 * 3); igmp_leavegroup: it is leaving (a leave message if ours was the
 * last report).  igmp_ifup: ifp came up, report each of its groups.
 * Net lock held.
 */
void igmp_joingroup(struct in_multi *inm);
void igmp_leavegroup(struct in_multi *inm);
void igmp_ifup(struct ifnet *ifp);

#endif /* NETINET_IGMP_VAR_H */
