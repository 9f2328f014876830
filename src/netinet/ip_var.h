/*
 * ip_var.h -- IPv4 internals: statistics (the `netstat -s` set, one
 * counter per reason a packet is dropped) and the interfaces between
 * ip_input.c, ip_forward.c, ip_output.c and ip_reass.c.
 *
 * Forwarding (ip_forward.c) counts each datagram it is given exactly once:
 * ips_forward (sent on), ips_cantforward (may not be forwarded, or the
 * output failed), ips_timxceed (TTL expired), ips_noroute (no route) or
 * ips_cantfrag (too big with DF set).
 */
#ifndef NETINET_IP_VAR_H
#define NETINET_IP_VAR_H

#include "kern/libkern.h"
#include "netinet/ip.h"

struct ipstat {
	uint64_t ips_total;		/* packets received */
	uint64_t ips_badsum;		/* header checksum wrong */
	uint64_t ips_tooshort;		/* frame shorter than ip_len */
	uint64_t ips_toosmall;		/* shorter than a minimal header */
	uint64_t ips_badhlen;		/* IHL < 5 or beyond the packet */
	uint64_t ips_badlen;		/* ip_len < IHL */
	uint64_t ips_badvers;		/* version not 4 */
	uint64_t ips_badaddr;		/* martian source address */
	uint64_t ips_badoptions;	/* malformed options */
	uint64_t ips_srcroute;		/* source-route options seen (ignored) */
	uint64_t ips_srcroutefail;	/* to us, source route not finished */
	uint64_t ips_fragments;		/* fragments received */
	uint64_t ips_fragdropped;	/* fragments dropped: no buffer, limit */
	uint64_t ips_fragdup;		/* exact duplicate fragments dropped */
	uint64_t ips_fragoverlap;	/* datagrams dropped for an overlap */
	uint64_t ips_fragtimeout;	/* datagrams dropped by the timer */
	uint64_t ips_fragtoolong;	/* offset + length > IP_MAXPACKET */
	uint64_t ips_fragbad;		/* other malformed fragments */
	uint64_t ips_fraglimit;		/* dropped: reassembly queue full */
	uint64_t ips_reassembled;	/* datagrams reassembled */
	uint64_t ips_delivered;		/* datagrams given to a protocol */
	uint64_t ips_noproto;		/* unknown protocol, no raw socket */
	uint64_t ips_rawin;		/* datagrams given to raw sockets */
	uint64_t ips_notforus;		/* not for this host, not forwarding */
	uint64_t ips_notmember;		/* to a group the host is not in */
	uint64_t ips_localout;		/* datagrams sent */
	uint64_t ips_odropped;		/* output dropped: no buffers */
	uint64_t ips_noroute;		/* output or forwarding: no route */
	uint64_t ips_fragmented;	/* datagrams fragmented on output */
	uint64_t ips_ofragments;	/* fragments created */
	uint64_t ips_cantfrag;		/* needed fragmenting, DF set */
	uint64_t ips_forward;		/* datagrams forwarded */
	uint64_t ips_cantforward;	/* not forwardable, or output failed */
	uint64_t ips_timxceed;		/* not forwarded: TTL ran out */
	uint64_t ips_pmtulearned;	/* path MTUs lowered (ip_pmtu.h) */
	uint64_t ips_pmtubad;		/* "fragmentation needed" not believed */
};

struct mbuf;
struct netstack;

/*
 * ip_forward: (ip_input() ->) a datagram for another host, received while
 * forwarding is on; IP header validated and contiguous at m_data, rcvif
 * set; srcrt: it carries a source route option.  Net lock held.  Consumes
 * m.
 */
void ip_forward(struct netstack *ns, struct mbuf *m, bool srcrt);

#endif /* NETINET_IP_VAR_H */
