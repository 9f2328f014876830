/*
 * if_ether.h -- Ethernet framing.
 */
#ifndef NET_IF_ETHER_H
#define NET_IF_ETHER_H

#include "kern/libkern.h"
#include "kern/mbuf.h"
#include "netinet/in.h"

struct ifnet;

struct ether_header {
	uint8_t ether_dhost[6];
	uint8_t ether_shost[6];
	uint16_t ether_type;
} __attribute__((__packed__));

#define ETHER_HDR_LEN 14
#define ETHERMTU 1500
#define ETHER_MAX_FRAME (ETHER_HDR_LEN + ETHERMTU)
#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_IPV6 0x86dd

static const uint8_t etherbroadcastaddr[6] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

static inline bool
ether_is_multicast(const uint8_t *mac)
{
	return (mac[0] & 0x01) != 0;	/* broadcast too */
}

/* ether_mcast_mac: RFC 1112 6.4: 01:00:5e and the group's low 23 bits */
static inline void
ether_mcast_mac(struct in_addr group, uint8_t *mac)
{
	uint32_t g = ntohl(group.s_addr);

	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (uint8_t)((g >> 16) & 0x7f);
	mac[4] = (uint8_t)(g >> 8);
	mac[5] = (uint8_t)g;
}

/* ether_input: (softnet ->) one received frame.  Consumes m. */
void ether_input(struct ifnet *ifp, struct mbuf *m);
/*
 * ether_output: send the IPv4 datagram m to next hop nexthop on ifp,
 * resolving its MAC with ARP (or using broadcast).  Consumes m.
 * Returns 0 (sent or held while resolving) or an errno.
 */
int ether_output(struct ifnet *ifp, struct mbuf *m, struct in_addr nexthop);
/* ether_output_frame: prepend a header to m (any payload) and transmit. */
int ether_output_frame(struct ifnet *ifp, struct mbuf *m, const uint8_t *dst,
    uint16_t type);

#endif /* NET_IF_ETHER_H */
