/*
 * ip.h -- the IPv4 header (RFC 791) and its constants.
 */
#ifndef NETINET_IP_H
#define NETINET_IP_H

#include "netinet/in.h"

#define IPVERSION 4

struct ip {
	uint8_t ip_vhl;			/* version << 4 | header length / 4 */
	uint8_t ip_tos;
	uint16_t ip_len;		/* total length, network order */
	uint16_t ip_id;
	uint16_t ip_off;		/* flags and fragment offset, network order */
	uint8_t ip_ttl;
	uint8_t ip_p;
	uint16_t ip_sum;
	struct in_addr ip_src;
	struct in_addr ip_dst;
} __attribute__((__packed__, __aligned__(2)));

#define IP_V(ip) ((ip)->ip_vhl >> 4)
#define IP_HL(ip) ((ip)->ip_vhl & 0x0f)	/* in 32-bit words */
#define IP_VHL(v, hl) ((uint8_t)(((v) << 4) | (hl)))

/* the ECN field, the low two bits of ip_tos (RFC 3168 5) */
#define IPTOS_PREC_INTERNETCONTROL 0xc0
#define IPTOS_ECN_MASK 0x03
#define IPTOS_ECN_NOT_ECT 0x00		/* not ECN-capable */
#define IPTOS_ECN_ECT1 0x01		/* ECN-capable, ECT(1) */
#define IPTOS_ECN_ECT0 0x02		/* ECN-capable, ECT(0) */
#define IPTOS_ECN_CE 0x03		/* congestion experienced */

#define IP_RF 0x8000			/* reserved fragment flag */
#define IP_DF 0x4000			/* don't fragment */
#define IP_MF 0x2000			/* more fragments */
#define IP_OFFMASK 0x1fff		/* fragment offset, 8-byte units */

#define IP_MAXPACKET 65535
#define IP_MINHLEN 20
#define IP_MAXHLEN 60
#define IPDEFTTL 64
#define MAXTTL 255
#define IPTTLDEC 1		/* TTL taken per hop (RFC 1812 5.3.1) */

/* options (RFC 791 3.1) */
#define IPOPT_EOL 0
#define IPOPT_NOP 1
#define IPOPT_RR 7
#define IPOPT_TS 68
#define IPOPT_SECURITY 130
#define IPOPT_LSRR 131
#define IPOPT_SATID 136
#define IPOPT_SSRR 137
#define IPOPT_RA 148

#endif /* NETINET_IP_H */
