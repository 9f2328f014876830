/*
 * ip_output.h -- sending IPv4 datagrams.
 */
#ifndef NETINET_IP_OUTPUT_H
#define NETINET_IP_OUTPUT_H

#include "kern/mbuf.h"

#define IP_ALLOWBROADCAST 0x01	/* SO_BROADCAST: may send to a broadcast */
#define IP_RAWOUTPUT 0x02	/* the caller set ip_id */

/*
 * ip_output: send the datagram m of the calling LWP's instance.  m starts
 * with a complete IPv4 header in its first mbuf (version, IHL, tos,
 * ip_len = the chain length, ip_off with DF as wanted, ttl, protocol, dst;
 * src 0 to let the route choose); ip_id (unless IP_RAWOUTPUT) and ip_sum
 * are filled here.  Consumes m.  Returns 0, EHOSTUNREACH or ENETUNREACH
 * (no route), ENETDOWN, EACCES (broadcast without IP_ALLOWBROADCAST),
 * EMSGSIZE (DF set and larger than the MTU), EADDRNOTAVAIL, ENOBUFS.
 */
int ip_output(struct mbuf *m, unsigned flags);

#endif /* NETINET_IP_OUTPUT_H */
