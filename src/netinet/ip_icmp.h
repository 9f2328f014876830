/*
 * ip_icmp.h -- ICMP for IPv4 (RFC 792, RFC 1122 3.2.2).
 */
#ifndef NETINET_IP_ICMP_H
#define NETINET_IP_ICMP_H

#include "kern/libkern.h"
#include "kern/mbuf.h"
#include "netinet/ip.h"

struct icmp {
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t icmp_cksum;
	union {
		struct {
			uint16_t id;
			uint16_t seq;
		} echo;
		uint32_t void_;
		struct {
			uint8_t ptr;
			uint8_t pad[3];
		} pp;
		struct {
			uint16_t unused;
			uint16_t mtu;
		} frag;
	} icmp_hun;
} __attribute__((__packed__));

#define ICMP_MINLEN 8

#define ICMP_ECHOREPLY 0
#define ICMP_UNREACH 3
#define ICMP_SOURCEQUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIMXCEED 11
#define ICMP_PARAMPROB 12
#define ICMP_TSTAMP 13
#define ICMP_TSTAMPREPLY 14
#define ICMP_MAXTYPE 18

#define ICMP_UNREACH_NET 0
#define ICMP_UNREACH_HOST 1
#define ICMP_UNREACH_PROTOCOL 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_NEEDFRAG 4
#define ICMP_UNREACH_SRCFAIL 5
#define ICMP_TIMXCEED_INTRANS 0
#define ICMP_TIMXCEED_REASS 1

/* an error type: never answered with an error (RFC 1122 3.2.2) */
static inline bool
icmp_is_error(uint8_t type)
{
	return type == ICMP_UNREACH || type == ICMP_SOURCEQUENCH ||
	    type == ICMP_REDIRECT || type == ICMP_TIMXCEED ||
	    type == ICMP_PARAMPROB;
}

struct icmpstat {
	uint64_t icps_error;		/* calls to icmp_error() */
	uint64_t icps_oldicmp;		/* no error: about an ICMP error */
	uint64_t icps_bmcast;		/* no error: about a broadcast/multicast */
	uint64_t icps_notfirst;		/* no error: about a non-first fragment */
	uint64_t icps_badsrc;		/* no error or echo reply: source unusable */
	uint64_t icps_ratelimited;	/* no error: rate limit */
	uint64_t icps_nobufs;		/* no error: no mbuf */
	uint64_t icps_outhist[ICMP_MAXTYPE + 1];
	uint64_t icps_badcode;
	uint64_t icps_tooshort;		/* shorter than ICMP_MINLEN */
	uint64_t icps_checksum;
	uint64_t icps_badlen;		/* error quoting too little */
	uint64_t icps_bmcastecho;	/* echo to broadcast: not answered */
	uint64_t icps_reflect;		/* echo replies sent */
	uint64_t icps_inhist[ICMP_MAXTYPE + 1];
};

/* token bucket for error generation: rl_rate per second, burst rl_burst */
struct icmp_ratelim {
	unsigned rl_rate;
	unsigned rl_burst;
	uint64_t rl_tokens_milli;	/* tokens * 1000 */
	uint64_t rl_last_ms;
};

/* The last echo reply received (rump_ping_last(); raw sockets get them too). */
struct icmp_echo_seen {
	uint64_t es_count;
	struct in_addr es_src;
	uint16_t es_id;
	uint16_t es_seq;
	uint16_t es_len;		/* ICMP data bytes */
};

/* icmp_input: (ip_input() ->) an ICMP datagram, IP header at m_data. */
void icmp_input(struct mbuf *m, int hlen);
/*
 * icmp_errno: the errno an ICMP error (type, code) means to a socket, as
 * Linux's icmp_err_convert[] (RFC 1122 4.1.3.3, 4.2.3.9; an unreachable
 * of a code not known yet: EHOSTUNREACH, soft), or 0 for a message that
 * is none (source quench, RFC 6633; anything not an error); *hard (may be NULL) says whether it is a hard error (the
 * peer refuses: protocol or port unreachable, administratively
 * prohibited, a parameter problem) or a soft one (the path: net or host
 * unreachable, time exceeded, ...).
 */
int icmp_errno(int type, int code, bool *hard);
/*
 * icmp_error: answer the datagram m (IP header at m_data, as received)
 * with an error of type/code; mtu for ICMP_UNREACH_NEEDFRAG.  Applies the
 * RFC 1122 3.2.2 rules and the rate limit.  Consumes m.
 */
void icmp_error(struct mbuf *m, int type, int code, uint16_t mtu);
/*
 * icmp_echo_send: send an echo request from the instance of the calling
 * LWP (kernel tests and ping before raw sockets exist).  0 or an errno.
 */
int icmp_echo_send(struct in_addr dst, uint16_t id, uint16_t seq,
    const void *data, size_t len);

#endif /* NETINET_IP_ICMP_H */
