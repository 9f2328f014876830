/*
 * pkt.h -- helpers shared by the packet suites: addresses, a reference
 * Internet checksum written independently of the stack's, frame headers,
 * and switching the calling thread between instances.
 * Include after "../unit/harness.h" and <arpa/inet.h>.
 */
#ifndef TESTS_PACKET_PKT_H
#define TESTS_PACKET_PKT_H

#include <arpa/inet.h>

#include "rumpnet/kernel.h"

/* ip: a dotted quad in network byte order */
static inline uint32_t
ip(const char *s)
{
	return inet_addr(s);
}

static inline struct sockaddr_in
sa(const char *addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET };

	s.sin_port = htons(port);
	s.sin_addr.s_addr = ip(addr);
	return s;
}

/* ref_cksum: RFC 1071 byte by byte, starting from the partial sum `sum` */
static inline uint16_t
ref_cksum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* eth: an Ethernet header at f; returns its length */
static inline size_t
eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return 14;
}

/*
 * pkt_mode: the soft interrupt mode of this run.  DESIGN.md asks both modes
 * to pass the same tests: meson runs every packet suite twice, the second
 * time with RUMPNET_SOFTINT=threads.
 */
static inline enum rump_softint_mode
pkt_mode(void)
{
	const char *m = getenv("RUMPNET_SOFTINT");

	return m != NULL && strcmp(m, "threads") == 0 ?
	    RUMP_SOFTINT_THREADS : RUMP_SOFTINT_INLINE;
}

/* as: run the next calls as a thread bound to k */
static inline void
as(struct rump_kernel *k)
{
	(void)rump_thread_unbind();
	assert_int_equal(rump_thread_bind(k), 0);
}

#endif /* TESTS_PACKET_PKT_H */
