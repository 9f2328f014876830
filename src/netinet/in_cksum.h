/*
 * in_cksum.h -- the Internet checksum (RFC 1071), shared by IPv4, ICMP,
 * UDP and TCP.
 */
#ifndef NETINET_IN_CKSUM_H
#define NETINET_IN_CKSUM_H

#include "kern/libkern.h"
#include "kern/mbuf.h"
#include "netinet/in.h"

/*
 * IN_CKSUM_VERIFY: whether input checks the checksums it receives.  Only
 * the fuzz configuration (-Dfuzz_nocksum=true, RUMP_FUZZ_NOCKSUM) turns
 * it off, so that mutated frames reach past the checks; a constant, so
 * every other build compiles the checks exactly as before.
 */
#ifdef RUMP_FUZZ_NOCKSUM
#define IN_CKSUM_VERIFY 0
#else
#define IN_CKSUM_VERIFY 1
#endif

/*
 * in_cksum_add: add len bytes at buf to the 32-bit partial sum `sum`,
 * as if buf started at an even offset of the whole checksummed range.
 * Returns the new partial sum (not folded, not complemented).
 */
uint32_t in_cksum_add(uint32_t sum, const void *buf, size_t len);
/* in_cksum_fold: fold a partial sum to 16 bits and complement it. */
uint16_t in_cksum_fold(uint32_t sum);
/* in_cksum_buf: the checksum of a flat buffer (network byte order). */
uint16_t in_cksum_buf(const void *buf, size_t len);
/*
 * in_cksum: the checksum of len bytes of the chain starting at off; 0 means
 * valid when the range includes a correct checksum field.
 */
uint16_t in_cksum(const struct mbuf *m, int off, int len);
/*
 * in4_cksum: the checksum of len bytes at off of the chain plus the IPv4
 * pseudo-header (src, dst, proto, len), for UDP and TCP.
 */
uint16_t in4_cksum(const struct mbuf *m, struct in_addr src,
    struct in_addr dst, uint8_t proto, int off, int len);

/*
 * in_delayed_cksum: fill in the TCP or UDP checksum of the IPv4 datagram m
 * (an M_CSUM_TCPv4 or M_CSUM_UDPv4 packet whose interface does not
 * compute it) and clear both flags.  Another protocol only loses the flags.
 */
void in_delayed_cksum(struct mbuf *m);
/*
 * in_delayed_cksum_at: the same for a datagram that starts off bytes into
 * m (ETHER_HDR_LEN: a frame a driver holds).
 */
void in_delayed_cksum_at(struct mbuf *m, int off);

#endif /* NETINET_IN_CKSUM_H */
