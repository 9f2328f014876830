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

/*
 * ref_pseudo: the partial sum of the TCP/UDP pseudo-header (RFC 9293 3.1,
 * RFC 768) for addresses src and dst (network order), protocol proto and
 * a transport length of len; start ref_cksum() from it.
 */
static inline uint32_t
ref_pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
	uint8_t ph[12];
	uint32_t sum = 0;

	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	for (int i = 0; i < 12; i += 2)
		sum += (uint32_t)(ph[i] << 8 | ph[i + 1]);
	return sum;
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
 * ipv4: an IPv4 header (20 bytes + optlen of options) at f with a correct
 * checksum; returns its length.
 */
static inline size_t
ipv4(uint8_t *f, const uint8_t *opts, size_t optlen, uint16_t totlen,
    uint16_t id, uint16_t off, uint8_t ttl, uint8_t proto, const char *src,
    const char *dst)
{
	size_t hlen = 20 + optlen;
	uint32_t s = ip(src), d = ip(dst);
	uint16_t c;

	f[0] = (uint8_t)(0x40 | (hlen / 4));
	f[1] = 0;
	f[2] = (uint8_t)(totlen >> 8);
	f[3] = (uint8_t)totlen;
	f[4] = (uint8_t)(id >> 8);
	f[5] = (uint8_t)id;
	f[6] = (uint8_t)(off >> 8);
	f[7] = (uint8_t)off;
	f[8] = ttl;
	f[9] = proto;
	f[10] = f[11] = 0;
	memcpy(f + 12, &s, 4);
	memcpy(f + 16, &d, 4);
	if (optlen > 0)
		memcpy(f + 20, opts, optlen);
	c = ref_cksum(f, hlen, 0);
	memcpy(f + 10, &c, 2);
	return hlen;
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
