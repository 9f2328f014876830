/*
 * raw_ip_var.h -- raw IPv4 sockets (raw_ip.c): control blocks, their
 * table, statistics and the entry points IP input calls.
 *
 * Owners: [I] immutable after rip_attach(), [N] under the instance's net
 * lock (ns_lock), like every socket and PCB.
 */
#ifndef NETINET_RAW_IP_VAR_H
#define NETINET_RAW_IP_VAR_H

#include "kern/libkern.h"
#include "kern/list.h"
#include "kern/mbuf.h"
#include "netinet/in.h"

struct netstack;
struct socket;

/* One raw socket: its protocol, address filters and header settings. */
struct rawcb {
	struct list_node rcb_link;	/* [N] rip_pcbs, oldest first */
	struct socket *rcb_socket;	/* [I] */
	uint8_t rcb_proto;		/* [I] IP protocol, 0: any */
	bool rcb_hdrincl;		/* [N] IP_HDRINCL: the user's header */
	uint8_t rcb_ttl;		/* [N] IP_TTL */
	uint8_t rcb_tos;		/* [N] IP_TOS */
	struct in_addr rcb_laddr;	/* [N] bind(): only to this address */
	struct in_addr rcb_saddr;	/* [N] and sends from this one: the
					   same, or 0 (the route's) when it
					   is a group or a broadcast */
	struct in_addr rcb_faddr;	/* [N] connect(): only from this one */
};

struct ripstat {
	uint64_t rips_delivered;	/* copies queued on a socket */
	uint64_t rips_fullsock;		/* dropped: receive buffer full */
	uint64_t rips_nobufs;		/* dropped: no mbuf for the copy */
	uint64_t rips_opackets;		/* datagrams sent */
	uint64_t rips_badhdr;		/* IP_HDRINCL header refused (EINVAL) */
};

struct rip_state {
	struct list_node rip_pcbs;	/* [N] struct rawcb */
	unsigned rip_count;		/* [N] raw sockets open */
	struct ripstat rip_stat;	/* [N] */
};

int rip_init(struct netstack *ns);
void rip_fini(struct netstack *ns);
/*
 * rip_input: a complete datagram that reached local delivery (after
 * reassembly), IP header contiguous at m_data and as it came off the wire
 * (ip_len and ip_off in network order): a copy of it, header included,
 * goes to every raw socket whose protocol (0: any) and address filters
 * match.  Called by ip_deliver() for the protocols the kernel does not
 * implement and by icmp_input() after its own processing.  m is not
 * consumed.  Returns the number of sockets that matched, whether or not
 * their buffer had room (a full buffer is counted in raw.fullsock): the
 * datagram found its protocol.  Net lock held.
 */
unsigned rip_input(struct netstack *ns, struct mbuf *m);

#endif /* NETINET_RAW_IP_VAR_H */
