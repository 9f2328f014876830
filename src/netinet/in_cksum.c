/*
 * in_cksum.c -- the Internet checksum (RFC 1071) over flat buffers and mbuf
 * chains, and the IPv4 pseudo-header of UDP and TCP (RFC 768, RFC 9293)
 * (interface: in_cksum.h).
 *
 * Call chain:
 *	IPv4 header, ICMP	in_cksum() ----\
 *	UDP, TCP		in4_cksum() ---+-> in_cksum_chain()
 *						     -> in_cksum_add(), per mbuf
 *	flat buffers		in_cksum_buf() -> in_cksum_add()
 *	in_cksum_add()		-> cksum_block(), 32 bytes per step
 *	every checksum		-> in_cksum_fold()
 *
 * Byte order.  Partial sums are kept in the host's load order: the sum of
 * the 16-bit words as the CPU loads them from memory.  On a big-endian host
 * that is the sum RFC 1071 describes; on a little-endian host every word is
 * loaded byte-swapped, and since the ones' complement sum is independent of
 * byte order (RFC 1071 section 2 (B)) so is the sum.  A folded, complemented
 * result stored as-is into the header therefore puts the checksum there in
 * network byte order on either host, and no byte swap is needed except for
 * the odd offsets below.
 *
 * Speed.  The ones' complement sum is arithmetic modulo 0xffff, and
 * 2^16 = 1 modulo 0xffff: a 32- or 64-bit word loaded from memory is
 * congruent to the sum of the 16-bit words it holds, whatever the host's byte
 * order.  So the buffer is read 8 bytes at a time and the two 32-bit halves
 * of each word are added into 64-bit accumulators, which cannot carry out:
 * no carry needs propagating until the final fold.  Loads go through
 * memcpy() into a uint64_t, which compiles to one plain (unaligned) load and
 * breaks no aliasing rule; the buffer is never realigned, because unaligned
 * loads cost nothing extra on the hosts we run on.
 *
 * Odd offsets.  in_cksum_add() treats its buffer as starting at an even
 * offset of the checksummed range: an odd length ends with a byte that is
 * the high-order byte of a word whose low-order byte is zero.  In an mbuf
 * chain a segment can start at an odd offset of the range; its bytes are
 * then the low-order bytes of the range's words, so it is summed as if even
 * and its folded sum byte-swapped (RFC 1071 section 2 (B) again).
 */
#include "netinet/in_cksum.h"
#include "netinet/ip.h"
#include "netinet/tcp.h"
#include "netinet/udp_var.h"

#define TCP_SUM_OFFSET ((int)offsetof(struct tcphdr, th_sum))
#define UDP_SUM_OFFSET ((int)offsetof(struct udphdr, uh_sum))

/*
 * Bytes summed between folds of the block accumulators.  Each 32-byte step
 * adds less than 2^33 to each of the four 64-bit accumulators, so a block of
 * 2^16 bytes (2^11 steps) leaves them below 2^44: far from overflowing, with
 * one fold per 64 KiB costing nothing.  Bounding the block is what lets
 * in_cksum_add() take any size_t length.
 */
#define CKSUM_BLOCK 65536

static inline uint64_t
load64(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static inline uint32_t
load32(const unsigned char *p)
{
	uint32_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static inline uint16_t
load16(const unsigned char *p)
{
	uint16_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* Reduce a 64-bit sum to 32 bits with end-around carry (mod 0xffff). */
static inline uint32_t
cksum_reduce(uint64_t s)
{
	s = (s & 0xffffffff) + (s >> 32);	/* < 2^33 */
	s = (s & 0xffffffff) + (s >> 32);	/* <= 0xffffffff */
	return (uint32_t)s;
}

/* Fold a 32-bit sum to 16 bits, not complemented; 0 only if sum is 0. */
static inline uint16_t
cksum_fold16(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);	/* <= 0x1fffe */
	sum = (sum & 0xffff) + (sum >> 16);	/* <= 0xffff */
	return (uint16_t)sum;
}

/*
 * Sum len bytes (a multiple of 32) in 32-bit halves.  Four accumulators so
 * that the adds of one step do not wait on each other; GCC turns the loop
 * into SSE2 adds of two 64-bit lanes at -O2.
 */
static inline uint64_t
cksum_block(const unsigned char *p, size_t len)
{
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	uint64_t w0, w1, w2, w3;

	for (; len >= 32; len -= 32, p += 32) {
		w0 = load64(p);
		w1 = load64(p + 8);
		w2 = load64(p + 16);
		w3 = load64(p + 24);
		s0 += (uint32_t)w0 + (w0 >> 32);
		s1 += (uint32_t)w1 + (w1 >> 32);
		s2 += (uint32_t)w2 + (w2 >> 32);
		s3 += (uint32_t)w3 + (w3 >> 32);
	}
	return s0 + s1 + s2 + s3;
}

uint32_t
in_cksum_add(uint32_t sum, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	unsigned char last[2];
	uint64_t acc = sum;
	uint64_t w;
	size_t n;

	while (len >= 32) {
		n = MIN(len, (size_t)CKSUM_BLOCK) & ~(size_t)31;
		acc = cksum_reduce(acc) + cksum_block(p, n);
		p += n;
		len -= n;
	}
	/*
	 * 0..31 bytes left: one piece of each power of two at most, largest
	 * first, so every piece but the last byte starts and ends at an even
	 * offset and holds whole 16-bit words.
	 */
	if (len & 16) {
		w = load64(p);
		acc += (uint32_t)w + (w >> 32);
		w = load64(p + 8);
		acc += (uint32_t)w + (w >> 32);
		p += 16;
	}
	if (len & 8) {
		w = load64(p);
		acc += (uint32_t)w + (w >> 32);
		p += 8;
	}
	if (len & 4) {
		acc += load32(p);
		p += 4;
	}
	if (len & 2) {
		acc += load16(p);
		p += 2;
	}
	if (len & 1) {
		/* the high-order byte of a word padded with a zero byte */
		last[0] = *p;
		last[1] = 0;
		acc += load16(last);
	}
	return cksum_reduce(acc);
}

uint16_t
in_cksum_fold(uint32_t sum)
{
	/*
	 * A non-zero sum folds to 1..0xffff, so this returns 0xffff only for
	 * a zero sum (all-zero data) and 0x0000 for a sum of 0xffff ("negative
	 * zero", e.g. all-ones data).  Callers that must not send 0 (UDP)
	 * substitute 0xffff themselves.
	 */
	return (uint16_t)~cksum_fold16(sum);
}

uint16_t
in_cksum_buf(const void *buf, size_t len)
{
	return in_cksum_fold(in_cksum_add(0, buf, len));
}

/*
 * The partial sum of len bytes of the chain m starting off bytes in, as
 * in_cksum_add() would compute it over the same bytes in a flat buffer.
 */
static uint32_t
in_cksum_chain(const struct mbuf *m, int off, int len)
{
	uint64_t acc = 0;
	uint32_t part;
	bool odd = false;	/* next segment starts at an odd range offset */
	int n;

	KASSERT(off >= 0 && len >= 0);
	while (m != NULL && off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	/* the chain holds off + len bytes (checked here and in the loop) */
	KASSERT(m != NULL || off == 0);
	for (; len > 0; m = m->m_next, off = 0) {
		KASSERT(m != NULL);
		n = MIN(m->m_len - off, len);
		part = in_cksum_add(0, m->m_data + off, (size_t)n);
		if (odd)
			part = __builtin_bswap16(cksum_fold16(part));
		acc += part;	/* < 2^32 per mbuf: cannot overflow */
		if (n & 1)
			odd = !odd;
		len -= n;
	}
	return cksum_reduce(acc);
}

uint16_t
in_cksum(const struct mbuf *m, int off, int len)
{
	return in_cksum_fold(in_cksum_chain(m, off, len));
}

uint16_t
in4_cksum(const struct mbuf *m, struct in_addr src, struct in_addr dst,
    uint8_t proto, int off, int len)
{
	uint64_t ph;

	/* the pseudo-header carries the length in 16 bits */
	KASSERT(len >= 0 && len <= 0xffff);
	/*
	 * The pseudo-header's words as the host loads them: the halves of an
	 * address (in network order, as stored) are its two words in load
	 * order, and the words "zero, proto" and "length" load as the
	 * network-order 16-bit values.
	 */
	ph = (src.s_addr >> 16) + (src.s_addr & 0xffff) +
	    (dst.s_addr >> 16) + (dst.s_addr & 0xffff) +
	    htons(proto) + htons((uint16_t)len);
	return in_cksum_fold(cksum_reduce(ph + in_cksum_chain(m, off, len)));
}

void
in_delayed_cksum(struct mbuf *m)
{
	in_delayed_cksum_at(m, 0);
}

void
in_delayed_cksum_at(struct mbuf *m, int off)
{
	struct ip ip;
	uint16_t sum = 0;
	int hlen, len, at;

	m->m_pkthdr.csum_flags &= ~(M_CSUM_TCPv4 | M_CSUM_UDPv4);
	m_copydata(m, off, (int)sizeof(ip), &ip);
	hlen = IP_HL(&ip) << 2;
	len = ntohs(ip.ip_len) - hlen;
	if (ip.ip_p == IPPROTO_TCP) {
		at = TCP_SUM_OFFSET;
		if (len < (int)sizeof(struct tcphdr))
			return;
	} else if (ip.ip_p == IPPROTO_UDP) {
		struct udphdr uh;

		at = UDP_SUM_OFFSET;
		if (len < (int)sizeof(uh))
			return;
		/* the UDP length rules (a forwarded datagram may have padding) */
		m_copydata(m, off + hlen, (int)sizeof(uh), &uh);
		if (ntohs(uh.uh_ulen) < (int)sizeof(uh) ||
		    ntohs(uh.uh_ulen) > len)
			return;
		len = ntohs(uh.uh_ulen);
	} else
		return;
	/* the sum covers a zero checksum field */
	(void)m_copyback(m, off + hlen + at, 2, &sum);
	sum = in4_cksum(m, ip.ip_src, ip.ip_dst, ip.ip_p, off + hlen, len);
	/* RFC 768: a computed zero is sent as all ones (0 is "no sum") */
	if (sum == 0 && ip.ip_p == IPPROTO_UDP)
		sum = 0xffff;
	(void)m_copyback(m, off + hlen + at, 2, &sum);
}
