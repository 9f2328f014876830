/*
 * in.h -- Internet addresses and protocol numbers for kernel code.
 *
 * struct in_addr and struct sockaddr_in have the host's (Linux) layout, so
 * the public API can hand them through unchanged: sockaddr_in has no
 * sin_len, and sin_family is 16 bits.  Addresses and ports are in network
 * byte order everywhere, as in the BSD kernels.
 */
#ifndef NETINET_IN_H
#define NETINET_IN_H

#include "kern/libkern.h"

typedef uint32_t in_addr_t;
typedef uint16_t in_port_t;
typedef uint16_t sa_family_t;

struct in_addr {
	in_addr_t s_addr;
};

#define AF_UNSPEC 0
#define AF_INET 2

struct sockaddr {
	sa_family_t sa_family;
	char sa_data[14];
};

struct sockaddr_in {
	sa_family_t sin_family;
	in_port_t sin_port;
	struct in_addr sin_addr;
	unsigned char sin_zero[8];
};

#define IPPROTO_IP 0
#define IPPROTO_ICMP 1
#define IPPROTO_IGMP 2
#define IPPROTO_IPIP 4
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_RAW 255
#define IPPROTO_MAX 256

/* IPPROTO_IP level socket options: the host's (Linux) numbers */
#define IP_TOS 1
#define IP_TTL 2
#define IP_HDRINCL 3
#define IP_PKTINFO 8
#define IP_MTU_DISCOVER 10
#define IP_RECVERR 11
#define IP_RECVTTL 12
#define IP_RECVTOS 13
#define IP_MTU 14
#define IP_MULTICAST_IF 32
#define IP_MULTICAST_TTL 33
#define IP_MULTICAST_LOOP 34
#define IP_ADD_MEMBERSHIP 35
#define IP_DROP_MEMBERSHIP 36
#define IP_MULTICAST_ALL 49

/* IP_MTU_DISCOVER's values (Linux) */
#define IP_PMTUDISC_DONT 0	/* no DF; fragments fit the path MTU */
#define IP_PMTUDISC_WANT 1	/* DF when it fits the path MTU, else fragments */
#define IP_PMTUDISC_DO 2	/* DF; larger than the path MTU: EMSGSIZE */
#define IP_PMTUDISC_PROBE 3	/* DF; the interface's MTU, not the path's */
#define IP_PMTUDISC_INTERFACE 4	/* no DF; larger than the interface's: EMSGSIZE */
#define IP_PMTUDISC_OMIT 5	/* no DF; fragments fit the interface's MTU */

/* IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP, IP_MULTICAST_IF (Linux's layouts) */
struct ip_mreq {
	struct in_addr imr_multiaddr;	/* the group */
	struct in_addr imr_interface;	/* the interface's address, or any */
};

struct ip_mreqn {
	struct in_addr imr_multiaddr;	/* the group */
	struct in_addr imr_address;	/* the interface's address, or any */
	int imr_ifindex;		/* the interface, or 0 */
};

#define IP_DEFAULT_MULTICAST_TTL 1	/* RFC 1112 6.1 */
#define IP_DEFAULT_MULTICAST_LOOP 1	/* RFC 1112 6.3 */
#define IP_MAX_MEMBERSHIPS 20		/* per socket (Linux's default) */

/* IP_PKTINFO's control message (Linux's layout) */
struct in_pktinfo {
	int ipi_ifindex;		/* the interface it came in on */
	struct in_addr ipi_spec_dst;	/* our address to answer from */
	struct in_addr ipi_addr;	/* the header's destination */
};

/* host byte order constants, as NetBSD spells them */
#define INADDR_ANY ((in_addr_t)0x00000000)
#define INADDR_BROADCAST ((in_addr_t)0xffffffff)
#define INADDR_LOOPBACK ((in_addr_t)0x7f000001)
#define INADDR_ALLHOSTS_GROUP ((in_addr_t)0xe0000001)	/* 224.0.0.1 */
#define INADDR_ALLRTRS_GROUP ((in_addr_t)0xe0000002)	/* 224.0.0.2 */

#define IN_CLASSD(i) (((uint32_t)(i) & 0xf0000000) == 0xe0000000)
#define IN_MULTICAST(i) IN_CLASSD(i)
#define IN_EXPERIMENTAL(i) (((uint32_t)(i) & 0xf0000000) == 0xf0000000)
#define IN_LOOPBACK(i) (((uint32_t)(i) & 0xff000000) == 0x7f000000)
#define IN_ZERONET(i) (((uint32_t)(i) & 0xff000000) == 0)

/* in_prefixmask: the netmask (network order) of a prefix length 0..32 */
static inline in_addr_t
in_prefixmask(unsigned plen)
{
	return plen == 0 ? 0 : htonl(~(uint32_t)0 << (32 - plen));
}

#endif /* NETINET_IN_H */
