/*
 * udp_var.h -- UDP header, statistics and entry points.
 */
#ifndef NETINET_UDP_VAR_H
#define NETINET_UDP_VAR_H

#include "kern/libkern.h"
#include "kern/mbuf.h"
#include "netinet/ip.h"

struct netstack;

struct udphdr {
	uint16_t uh_sport;
	uint16_t uh_dport;
	uint16_t uh_ulen;
	uint16_t uh_sum;
} __attribute__((__packed__));

struct udpstat {
	uint64_t udps_ipackets;		/* datagrams received */
	uint64_t udps_hdrops;		/* shorter than a UDP header */
	uint64_t udps_badlen;		/* length field wrong */
	uint64_t udps_badsum;		/* checksum wrong */
	uint64_t udps_nosum;		/* no checksum (accepted) */
	uint64_t udps_noport;		/* no socket: port unreachable sent */
	uint64_t udps_noportbcast;	/* broadcast, no socket */
	uint64_t udps_fullsock;		/* receive buffer full */
	uint64_t udps_nobufs;		/* no mbuf */
	uint64_t udps_delivered;	/* queued on a socket */
	uint64_t udps_opackets;		/* datagrams sent */
};

/* IPPROTO_UDP (SOL_UDP) level options, Linux's numbers */
#define UDP_CORK 1		/* gather sends into one datagram */
#define UDP_MAXPAYLOAD 65507	/* 65535 - 20 (IP) - 8 (UDP) */
#define UDP_SEGMENT 103		/* GSO: the payload of each datagram */
#define UDP_MAX_SEGMENTS 128	/* datagrams one send may make (Linux) */

int udp_init(struct netstack *ns);
void udp_fini(struct netstack *ns);
void udp_input(struct mbuf *m, int hlen);
void udp_ctlinput(int type, int code, uint16_t mtu, const struct ip *qip,
    struct mbuf *m, int off);

#endif /* NETINET_UDP_VAR_H */
