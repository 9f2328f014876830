/*
 * ip_reass.h -- IPv4 fragment reassembly (RFC 791, RFC 815), bounded.
 *
 * (ip_input() ->) ip_reass() -> the whole datagram, or NULL (kept or
 * dropped).  (softclock, every tick ->) ip_reass_timeout().
 *
 * Rules:
 *  - a datagram is keyed by (src, dst, id, protocol);
 *  - an exact duplicate of a fragment already held (same offset and length)
 *    is dropped alone and counted (ips_fragdup);
 *  - any other overlap drops the whole datagram, and fragments of it that
 *    arrive later until its timer runs out (as RFC 5722 does for IPv6),
 *    counted once per datagram (ips_fragoverlap) and per fragment
 *    (ips_fragdropped);
 *  - offset + length beyond IP_MAXPACKET is dropped (ips_fragtoolong); a
 *    fragment with MF set whose payload is not a multiple of 8 bytes, or
 *    that is empty, is dropped (ips_fragbad);
 *  - at most ir_maxdgrams datagrams and ir_maxbytes bytes of fragments are
 *    held, and at most IP_REASS_MAXFRAGS fragments per datagram; beyond
 *    that the new fragment is dropped (ips_fraglimit);
 *  - a datagram not complete after ir_timeout_ms is dropped
 *    (ips_fragtimeout); if its first fragment (offset 0) had arrived, that
 *    fragment is handed to the caller's callback for an ICMP time exceeded
 *    message (RFC 792, RFC 1122 3.2.2.4).
 */
#ifndef NETINET_IP_REASS_H
#define NETINET_IP_REASS_H

#include "kern/libkern.h"
#include "kern/list.h"
#include "kern/mbuf.h"
#include "netinet/ip_var.h"

#define IP_REASS_MAXFRAGS 64

struct ip_reass {
	struct list_node ir_queue;	/* datagrams, oldest first */
	unsigned ir_ndgrams;		/* datagrams held (tombstones too) */
	size_t ir_nbytes;		/* bytes of fragments held */
	unsigned ir_maxdgrams;		/* [I] */
	size_t ir_maxbytes;		/* [I] */
	uint64_t ir_timeout_ms;		/* [I] */
};

/* ip_reass_init: empty state with the given limits (0: defaults 64, 256 KiB, 30 s). */
void ip_reass_init(struct ip_reass *ir, unsigned maxdgrams, size_t maxbytes,
    uint64_t timeout_ms);
/* ip_reass_fini: drop everything held. */
void ip_reass_fini(struct ip_reass *ir);
/*
 * ip_reass_purge_ifp: drop (counted in ips_fragdropped) every datagram
 * holding a fragment received on ifp, which is going away.
 */
void ip_reass_purge_ifp(struct ip_reass *ir, const struct ifnet *ifp,
    struct ipstat *st);
/*
 * ip_reass: m is one fragment, a packet whose first mbuf holds at least the
 * whole IP header (ip_input() validated it: version, IHL, ip_len equal to
 * the chain length, checksum; fields in network order).  Returns the
 * reassembled datagram (header of the first fragment, ip_len the total,
 * ip_off 0, ip_sum recomputed; chain length equal to ip_len) once complete,
 * else NULL: the fragment is held or was dropped and freed.  now_ms is the
 * instance clock.
 */
struct mbuf *ip_reass(struct ip_reass *ir, struct mbuf *m, uint64_t now_ms,
    struct ipstat *st);
/*
 * ip_reass_timeout: drop the datagrams older than the timeout; for each
 * that had its first fragment, expired(arg, m) receives that fragment (and
 * must free it); other fragments are freed here.
 */
void ip_reass_timeout(struct ip_reass *ir, uint64_t now_ms,
    void (*expired)(void *arg, struct mbuf *first), void *arg,
    struct ipstat *st);

#endif /* NETINET_IP_REASS_H */
