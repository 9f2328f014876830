/*
 * test_cksum.c -- the Internet checksum (in_cksum.h): RFC 1071's worked
 * example, a real IPv4 header and UDP datagram, edge cases (no data, one
 * byte, all-ones data, sums that carry thousands of times), and randomized
 * comparisons with a naive reference: flat buffers at every alignment,
 * partial sums split at even and odd offsets, mbuf chains with odd-length,
 * one-byte and empty mbufs, and the IPv4 pseudo-header.
 *
 * The functions return the checksum in network byte order layout (the value
 * stored as-is into a header), so a test expects htons() of the number the
 * RFCs and the reference give; the same assertions hold on little- and
 * big-endian hosts.
 */
#include "harness.h"

#include "kern/kernel.h"
#include "kern/mbuf.h"
#include "netinet/in_cksum.h"

#define RAND_MAXLEN 2000	/* flat random buffers: lengths 0..2000 */
#define BIG_LEN (1024 * 1024 + 17)	/* crosses the 64 KiB sum blocks */

static alignas(64) unsigned char ck_buf[BIG_LEN + 64];
static unsigned char ck_src[BIG_LEN];	/* expected bytes of chains */

/* A fixed-seed chain of a test, so the teardown can free it on failure. */
static struct mbuf *ck_m;

/* ---- reference: RFC 1071 literally, one big-endian word at a time ---- */

/* The sum of the 16-bit big-endian words of p; an odd last byte is high. */
static uint64_t
ref_sum(const unsigned char *p, size_t len)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

/* End-around carry down to 16 bits. */
static uint16_t
ref_fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* a + b with end-around carry: what in_cksum_add() does to sums. */
static uint32_t
ck_add32(uint32_t a, uint32_t b)
{
	uint64_t s = (uint64_t)a + b;

	return (uint32_t)((s & 0xffffffff) + (s >> 32));
}

/* The checksum as a number (host order). */
static uint16_t
ref_cksum(const unsigned char *p, size_t len)
{
	return (uint16_t)~ref_fold(ref_sum(p, len));
}

/* The checksum of data behind an IPv4 pseudo-header, as a number. */
static uint16_t
ref_cksum4(struct in_addr src, struct in_addr dst, uint8_t proto,
    const unsigned char *p, size_t len)
{
	unsigned char ph[12];

	memcpy(ph, &src.s_addr, 4);	/* network order, as stored */
	memcpy(ph + 4, &dst.s_addr, 4);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = (unsigned char)(len >> 8);
	ph[11] = (unsigned char)len;
	/* 12 bytes: the data starts at an even offset of the whole */
	return (uint16_t)~ref_fold(ref_sum(ph, 12) + ref_sum(p, len));
}

/* An address from its four bytes, in network order as a header holds it. */
static struct in_addr
ck_addr(unsigned a, unsigned b, unsigned c, unsigned d)
{
	unsigned char by[4] = { (unsigned char)a, (unsigned char)b,
	    (unsigned char)c, (unsigned char)d };
	struct in_addr in;

	memcpy(&in.s_addr, by, 4);
	return in;
}

/* ---- instance helpers ---- */

static struct rump_kernel *
ck_enter(void **state)
{
	struct rump_kernel *k;

	k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, 1);
	*state = k;
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	return k;
}

/* Leave the kernel and destroy the instance, asserting nothing leaked. */
static void
ck_leave(void **state)
{
	rump_unschedule();
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(*state);
	*state = NULL;
}

/* After a failed assertion: free the chain, leave, destroy the instance. */
static int
ck_teardown(void **state)
{
	struct rump_kernel *k = *state;

	if (k == NULL)
		return 0;
	if (curlwp != NULL) {
		if (curlwp->l_cpu != NULL) {
			m_freem(ck_m);
			rump_unschedule();
		}
		rump_thread_unbind();
	}
	ck_m = NULL;
	rump_kernel_destroy(k);
	*state = NULL;
	return 0;
}

/* A chain holding len bytes of p in mbufs of n bytes each (the last less). */
static struct mbuf *
ck_chain_even(const unsigned char *p, int len, int n)
{
	struct mbuf *head = NULL, **tail = &head, *m;
	int done = 0;

	do {
		m = m_get(M_DONTWAIT, MT_DATA);
		assert_non_null(m);
		m->m_len = MIN(n, len - done);
		memcpy(m->m_data, p + done, (size_t)m->m_len);
		done += m->m_len;
		*tail = m;
		tail = &m->m_next;
	} while (done < len);
	return head;
}

/*
 * A chain holding len bytes of p, built mbuf by mbuf with random kinds:
 * one byte, empty, a piece of internal storage or of a cluster, each at a
 * random offset in its storage so the data takes every alignment.
 */
static struct mbuf *
ck_chain_random(uint64_t *rs, const unsigned char *p, int len)
{
	struct mbuf *head = NULL, **tail = &head, *m;
	int done = 0, n, room;

	do {
		switch (th_rand(rs) % 8) {
		case 0:
		case 1:
			m = m_get(M_DONTWAIT, MT_DATA);
			room = MLEN;
			n = 1;
			break;
		case 2:
			m = m_get(M_DONTWAIT, MT_DATA);
			room = MLEN;
			n = 0;
			break;
		case 3:
		case 4:
		case 5:
			m = m_get(M_DONTWAIT, MT_DATA);
			room = MLEN;
			n = 1 + (int)(th_rand(rs) % MLEN);
			break;
		default:
			m = m_getcl(M_DONTWAIT, MT_DATA, 0);
			room = MCLBYTES;
			n = 1 + (int)(th_rand(rs) % MCLBYTES);
			break;
		}
		assert_non_null(m);
		m->m_data += th_rand(rs) % (unsigned)(room - n + 1);
		m->m_len = MIN(n, len - done);
		memcpy(m->m_data, p + done, (size_t)m->m_len);
		done += m->m_len;
		*tail = m;
		tail = &m->m_next;
	} while (done < len);
	return head;
}

/*
 * A chain holding len bytes of p, built the way the stack builds them:
 * m_append() in random pieces, then cut with m_split() at a random point
 * (the tail may share a cluster, at any offset) and glued back with m_cat().
 */
static struct mbuf *
ck_chain_append(uint64_t *rs, const unsigned char *p, int len)
{
	struct mbuf *m, *n;
	int done = 0, piece, cut;

	m = m_gethdr(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	while (done < len) {
		/* not inside MIN(), which evaluates its arguments twice */
		piece = 1 + (int)(th_rand(rs) % 700);
		piece = MIN(len - done, piece);
		assert_true(m_append(m, piece, p + done));
		done += piece;
	}
	assert_int_equal(m_length(m), len);
	if (len > 0) {
		cut = (int)(th_rand(rs) % (unsigned)len);
		n = m_split(m, cut, M_DONTWAIT);
		assert_non_null(n);
		m_cat(m, n);
		m->m_pkthdr.len = len;
	}
	assert_int_equal(m_length(m), len);
	return m;
}

/* ---- known vectors ---- */

/* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
static void
test_rfc1071_example(void **state)
{
	static const unsigned char ex[8] = {
		0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7
	};
	unsigned char sw[8];
	uint32_t sum;
	uint16_t ck;

	(void)state;
	assert_int_equal(ref_cksum(ex, 8), 0x220d);
	ck = in_cksum_buf(ex, 8);
	assert_int_equal(ck, htons(0x220d));
	memcpy(sw, &ck, 2);		/* stored as-is: network order */
	assert_int_equal(sw[0], 0x22);
	assert_int_equal(sw[1], 0x0d);

	/* the sum itself, uncomplemented, in the same layout */
	sum = in_cksum_add(0, ex, 8);
	assert_int_equal((uint16_t)~in_cksum_fold(sum), htons(0xddf2));
	/* in even pieces, through the partial sum */
	sum = in_cksum_add(in_cksum_add(in_cksum_add(0, ex, 2), ex + 2, 4),
	    ex + 6, 2);
	assert_int_equal(in_cksum_fold(sum), htons(0x220d));

	/* (B) byte order independence: swapped words give a swapped sum */
	for (int i = 0; i < 8; i += 2) {
		sw[i] = ex[i + 1];
		sw[i + 1] = ex[i];
	}
	assert_int_equal(in_cksum_buf(sw, 8), htons(0x0d22));
}

/* 45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7 */
static void
test_ipv4_header(void **state)
{
	static const unsigned char hdr[20] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
		0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
		0xc0, 0xa8, 0x00, 0xc7
	};
	unsigned char *h;
	uint16_t ck;

	(void)state;
	/* a correct header verifies to 0, at every alignment */
	for (int a = 0; a < 8; a++) {
		h = ck_buf + a;
		memcpy(h, hdr, sizeof(hdr));
		assert_int_equal(in_cksum_buf(h, sizeof(hdr)), 0);

		/* field zeroed: the checksum is b861 in network order */
		h[10] = h[11] = 0;
		ck = in_cksum_buf(h, sizeof(hdr));
		assert_int_equal(ck, htons(0xb861));
		assert_int_equal(ck, htons(ref_cksum(h, sizeof(hdr))));

		/* stored as-is, it is the original header */
		memcpy(h + 10, &ck, 2);
		assert_memory_equal(h, hdr, sizeof(hdr));

		/* a wrong header does not verify */
		h[8] = 0x3f;		/* TTL 63, checksum of TTL 64 */
		assert_int_equal(in_cksum_buf(h, sizeof(hdr)), htons(0x0100));
	}
}

/*
 * 192.168.0.1:49152 -> 192.168.0.199:53, 35 bytes of payload: a whole IPv4
 * packet built by hand, header and UDP checksums computed with an
 * independent (Python) implementation of RFC 1071 and RFC 768.
 */
static const unsigned char udp_pkt[63] = {
	/* IPv4 header: id 1c46, DF, TTL 64, UDP, checksum 9c4f */
	0x45, 0x00, 0x00, 0x3f, 0x1c, 0x46, 0x40, 0x00,
	0x40, 0x11, 0x9c, 0x4f, 0xc0, 0xa8, 0x00, 0x01,
	0xc0, 0xa8, 0x00, 0xc7,
	/* UDP header: 49152 -> 53, length 43, checksum 5bd9 */
	0xc0, 0x00, 0x00, 0x35, 0x00, 0x2b, 0x5b, 0xd9,
	/* "rumpnet checksum test, odd length!!" */
	0x72, 0x75, 0x6d, 0x70, 0x6e, 0x65, 0x74, 0x20,
	0x63, 0x68, 0x65, 0x63, 0x6b, 0x73, 0x75, 0x6d,
	0x20, 0x74, 0x65, 0x73, 0x74, 0x2c, 0x20, 0x6f,
	0x64, 0x64, 0x20, 0x6c, 0x65, 0x6e, 0x67, 0x74,
	0x68, 0x21, 0x21
};
#define UDP_OFF 20
#define UDP_LEN 43

/* Check the packet in chain m: both checksums verify, and recompute. */
static void
ck_check_udp(struct mbuf *m)
{
	struct in_addr src = ck_addr(192, 168, 0, 1);
	struct in_addr dst = ck_addr(192, 168, 0, 199);

	assert_int_equal(in_cksum(m, 0, UDP_OFF), 0);
	assert_int_equal(in4_cksum(m, src, dst, IPPROTO_UDP, UDP_OFF,
	    UDP_LEN), 0);
	/* any other pseudo-header does not verify */
	assert_int_not_equal(in4_cksum(m, dst, dst, IPPROTO_UDP, UDP_OFF,
	    UDP_LEN), 0);
	assert_int_not_equal(in4_cksum(m, src, dst, IPPROTO_TCP, UDP_OFF,
	    UDP_LEN), 0);
}

static void
test_udp_datagram(void **state)
{
	struct in_addr src = ck_addr(192, 168, 0, 1);
	struct in_addr dst = ck_addr(192, 168, 0, 199);
	unsigned char pkt[sizeof(udp_pkt)];
	struct mbuf *n;
	uint16_t ck;

	ck_enter(state);
	/* the reference agrees with the hand-built packet */
	assert_int_equal(ref_cksum(udp_pkt, UDP_OFF), 0);
	assert_int_equal(ref_cksum4(src, dst, IPPROTO_UDP, udp_pkt + UDP_OFF,
	    UDP_LEN), 0);

	/* checksum fields zeroed: the computed values are 9c4f and 5bd9 */
	memcpy(pkt, udp_pkt, sizeof(pkt));
	pkt[10] = pkt[11] = 0;
	pkt[UDP_OFF + 6] = pkt[UDP_OFF + 7] = 0;
	ck_m = ck_chain_even(pkt, (int)sizeof(pkt), MLEN);
	assert_int_equal(in_cksum(ck_m, 0, UDP_OFF), htons(0x9c4f));
	ck = in4_cksum(ck_m, src, dst, IPPROTO_UDP, UDP_OFF, UDP_LEN);
	assert_int_equal(ck, htons(0x5bd9));
	/* stored as-is, it is the original datagram */
	memcpy(ck_m->m_data + UDP_OFF + 6, &ck, 2);
	ck = in_cksum(ck_m, 0, UDP_OFF);
	memcpy(ck_m->m_data + 10, &ck, 2);
	assert_memory_equal(ck_m->m_data, udp_pkt, sizeof(udp_pkt));
	m_freem(ck_m);
	ck_m = NULL;

	/* the packet in one mbuf, in two split at every point, in bytes */
	ck_m = ck_chain_even(udp_pkt, (int)sizeof(udp_pkt), MLEN);
	ck_check_udp(ck_m);
	for (int cut = 1; cut < (int)sizeof(udp_pkt); cut++) {
		n = m_split(ck_m, cut, M_DONTWAIT);
		assert_non_null(n);
		ck_m->m_next = n;	/* no m_cat(): it would copy n back */
		ck_check_udp(ck_m);
		m_freem(ck_m);
		ck_m = NULL;
		ck_m = ck_chain_even(udp_pkt, (int)sizeof(udp_pkt), MLEN);
	}
	m_freem(ck_m);
	ck_m = NULL;
	for (int seg = 1; seg <= 3; seg++) {
		ck_m = ck_chain_even(udp_pkt, (int)sizeof(udp_pkt), seg);
		ck_check_udp(ck_m);
		m_freem(ck_m);
		ck_m = NULL;
	}
	ck_leave(state);
}

/* ---- edge cases ---- */

static void
test_empty_and_one_byte(void **state)
{
	uint32_t sum;

	(void)state;
	/* no data: the sum is zero and the checksum 0xffff */
	ck_buf[0] = 0x5a;
	assert_int_equal(in_cksum_add(0, ck_buf, 0), 0);
	assert_int_equal(in_cksum_add(0x12345678, ck_buf, 0), 0x12345678);
	assert_int_equal(in_cksum_buf(ck_buf, 0), 0xffff);

	/* one byte: the high-order byte of a word, at every alignment */
	for (int a = 0; a < 8; a++) {
		ck_buf[a] = 0xab;
		ck_buf[a + 1] = 0xcd;	/* must not be read */
		assert_int_equal(in_cksum_buf(ck_buf + a, 1), htons(0x54ff));
		sum = in_cksum_add(0, ck_buf + a, 1);
		assert_int_equal((uint16_t)~in_cksum_fold(sum), htons(0xab00));
		ck_buf[a] = 0x00;
		assert_int_equal(in_cksum_buf(ck_buf + a, 1), 0xffff);
		ck_buf[a] = 0xff;
		assert_int_equal(in_cksum_buf(ck_buf + a, 1), htons(0x00ff));
	}
}

static void
test_fold(void **state)
{
	(void)state;
	/* plain arithmetic: the sum in and the checksum out share a layout */
	assert_int_equal(in_cksum_fold(0), 0xffff);
	assert_int_equal(in_cksum_fold(0xffff), 0);
	assert_int_equal(in_cksum_fold(0x10000), 0xfffe);	/* 1 */
	assert_int_equal(in_cksum_fold(0x1fffe), 0);		/* 0xffff */
	assert_int_equal(in_cksum_fold(0xffff0000), 0);		/* 0xffff */
	assert_int_equal(in_cksum_fold(0xffffffff), 0);	/* 0x10001 * 0xffff */
	assert_int_equal(in_cksum_fold(0xfffffffe), 0x0001);	/* 0xfffe */
	assert_int_equal(in_cksum_fold(0x12345678), (uint16_t)~0x68ac);
}

/*
 * All-ones data sums to 0xffff, ones' complement "negative zero": the
 * checksum is 0x0000, never 0xffff (which only all-zero data gives).  64 KiB
 * and 1 MiB of 0xff carry out of 16 bits on every word.
 */
static void
test_all_ones(void **state)
{
	static const size_t lens[] = {
		2, 4, 6, 8, 14, 16, 30, 32, 62, 64, 1500, 65534, 65536,
		65536 + 32, 2 * 65536 + 30, BIG_LEN - 1
	};
	uint32_t sum;
	size_t len;

	(void)state;
	memset(ck_buf, 0xff, sizeof(ck_buf));
	for (size_t i = 0; i < __arraycount(lens); i++) {
		len = lens[i];
		for (int a = 0; a < 8; a++) {
			assert_int_equal(in_cksum_buf(ck_buf + a, len), 0);
			/* one odd 0xff byte more adds 0xff00 */
			assert_int_equal(in_cksum_buf(ck_buf + a, len + 1),
			    htons(0x00ff));
		}
		/* the largest partial sum in stays congruent */
		sum = in_cksum_add(0xffffffff, ck_buf, len);
		assert_int_equal(in_cksum_fold(sum), 0);
		/* 0xfffffffe is 0xfffe modulo 0xffff: the checksum is 1 */
		sum = in_cksum_add(0xfffffffe, ck_buf, len);
		assert_int_equal(in_cksum_fold(sum), 0x0001);
	}
	/* all zero: the only data whose checksum is 0xffff */
	memset(ck_buf, 0, sizeof(ck_buf));
	assert_int_equal(in_cksum_buf(ck_buf, BIG_LEN), 0xffff);
	assert_int_equal(in_cksum_buf(ck_buf + 3, 65536), 0xffff);
}

/* Large random buffers across the 64 KiB sum blocks, against the reference. */
static void
test_big_random(void **state)
{
	static const size_t lens[] = {
		65535, 65536, 65537, 65536 + 31, 3 * 65536 + 5, BIG_LEN
	};
	uint64_t rs = 0x62696763u;

	(void)state;
	for (size_t i = 0; i < BIG_LEN; i++) {
		/* mostly ones, so the words carry */
		ck_buf[i] = (th_rand(&rs) & 7) ? 0xff :
		    (unsigned char)th_rand(&rs);
	}
	for (size_t i = 0; i < __arraycount(lens); i++)
		for (size_t a = 0; a < 8 && lens[i] + a <= BIG_LEN; a++)
			assert_int_equal(in_cksum_buf(ck_buf + a, lens[i]),
			    htons(ref_cksum(ck_buf + a, lens[i])));
}

/* ---- randomized flat buffers ---- */

/* Fill p with len bytes of one of four kinds: random, mostly ones, 0, ones. */
static void
ck_fill(uint64_t *rs, unsigned char *p, size_t len)
{
	unsigned kind = th_rand(rs) % 8;

	for (size_t i = 0; i < len; i++) {
		if (kind < 4)
			p[i] = (unsigned char)th_rand(rs);
		else if (kind < 6)
			p[i] = (th_rand(rs) & 7) ? 0xff :
			    (unsigned char)th_rand(rs);
		else
			p[i] = kind == 6 ? 0x00 : 0xff;
	}
}

/*
 * 4000 buffers of lengths 0..2000, each at the 8 alignments of an aligned
 * array; and the partial sum: a random one in, the buffer added in two
 * pieces cut at a random even point, or at an odd one with the second
 * piece's folded sum byte-swapped (as in_cksum() does across mbufs).
 */
static void
test_random_flat(void **state)
{
	static unsigned char data[RAND_MAXLEN];
	uint64_t rs = 0x666c6174u;
	uint32_t sum0, sum;
	uint16_t expect, part;
	size_t len, cut;

	(void)state;
	for (int iter = 0; iter < 4000; iter++) {
		len = th_rand(&rs) % (RAND_MAXLEN + 1);
		if (iter < 64)
			len = (size_t)iter;	/* every short length */
		ck_fill(&rs, data, len);
		expect = ref_cksum(data, len);
		for (int a = 0; a < 8; a++) {
			memcpy(ck_buf + a, data, len);
			assert_int_equal(in_cksum_buf(ck_buf + a, len),
			    htons(expect));
		}

		sum0 = (th_rand(&rs) << 16) ^ th_rand(&rs);
		if (iter % 16 == 0)
			sum0 = 0xffffffff;
		cut = len == 0 ? 0 : th_rand(&rs) % (len + 1);
		expect = in_cksum_fold(in_cksum_add(sum0, data, len));
		assert_int_equal(expect, in_cksum_fold(ck_add32(sum0,
		    in_cksum_add(0, data, len))));
		sum = in_cksum_add(sum0, data, cut);
		if ((cut & 1) == 0) {
			sum = in_cksum_add(sum, data + cut, len - cut);
		} else {
			/* the second piece's words are shifted by one byte */
			part = (uint16_t)~in_cksum_fold(in_cksum_add(0,
			    data + cut, len - cut));
			sum = ck_add32(sum, __builtin_bswap16(part));
		}
		assert_int_equal(in_cksum_fold(sum), expect);
	}
}

/* ---- randomized mbuf chains ---- */

/*
 * 600 chains of 0..4000 bytes (every tenth up to 20000), built mbuf by mbuf
 * or with m_append/m_split/m_cat, each checked over the whole and 24 random
 * ranges, with and without a random pseudo-header, against the reference
 * over the same bytes in a flat buffer.
 */
static void
test_random_chains(void **state)
{
	uint64_t rs = 0x6d636b73u;
	struct in_addr src, dst;
	uint8_t proto;
	int len, off, rlen;

	ck_enter(state);
	for (int iter = 0; iter < 600; iter++) {
		len = (int)(th_rand(&rs) % 4001);
		if (iter % 10 == 0)
			len = (int)(th_rand(&rs) % 20001);
		if (iter < 8)
			len = iter;
		ck_fill(&rs, ck_src, (size_t)len);
		if (iter % 2 == 0)
			ck_m = ck_chain_random(&rs, ck_src, len);
		else
			ck_m = ck_chain_append(&rs, ck_src, len);
		assert_int_equal(m_length(ck_m), len);

		for (int r = 0; r <= 24; r++) {
			if (r == 0) {
				off = 0;
				rlen = len;
			} else {
				off = (int)(th_rand(&rs) % (unsigned)(len + 1));
				rlen = (int)(th_rand(&rs) %
				    (unsigned)(len - off + 1));
			}
			assert_int_equal(in_cksum(ck_m, off, rlen),
			    htons(ref_cksum(ck_src + off, (size_t)rlen)));
			src.s_addr = (th_rand(&rs) << 16) ^ th_rand(&rs);
			dst.s_addr = (th_rand(&rs) << 16) ^ th_rand(&rs);
			proto = (uint8_t)th_rand(&rs);
			assert_int_equal(in4_cksum(ck_m, src, dst, proto, off,
			    rlen), htons(ref_cksum4(src, dst, proto,
			    ck_src + off, (size_t)rlen)));
		}
		/* the empty range at the very end of the chain */
		assert_int_equal(in_cksum(ck_m, len, 0), 0xffff);
		m_freem(ck_m);
		ck_m = NULL;
	}
	ck_leave(state);
}

/*
 * The pseudo-header alone (no data) and with all-ones addresses and
 * length: the pseudo-header's words carry too.
 */
static void
test_pseudo_header(void **state)
{
	struct in_addr ones = { 0xffffffff }, zero = { 0 };
	struct in_addr src = ck_addr(10, 0, 0, 1), dst = ck_addr(10, 0, 0, 2);
	static unsigned char data[0xffff];

	ck_enter(state);
	memset(data, 0xff, sizeof(data));
	ck_m = m_get(M_DONTWAIT, MT_DATA);
	assert_non_null(ck_m);
	/* 0a00 0001 + 0a00 0002 + 0006 + 0000 = 1409 */
	assert_int_equal(in4_cksum(ck_m, src, dst, IPPROTO_TCP, 0, 0),
	    htons((uint16_t)~0x1409));
	assert_int_equal(in4_cksum(ck_m, src, dst, IPPROTO_TCP, 0, 0),
	    htons(ref_cksum4(src, dst, IPPROTO_TCP, data, 0)));
	assert_int_equal(in4_cksum(ck_m, zero, zero, 0, 0, 0), 0xffff);
	m_freem(ck_m);
	ck_m = NULL;

	/* 4 * ffff + 00ff + ffff + data: a large 16-bit length */
	ck_m = m_get(M_DONTWAIT, MT_DATA);
	assert_non_null(ck_m);
	assert_true(m_append(ck_m, (int)sizeof(data), data));
	assert_int_equal(in4_cksum(ck_m, ones, ones, 255, 0, 0xffff),
	    htons(ref_cksum4(ones, ones, 255, data, 0xffff)));
	assert_int_equal(in4_cksum(ck_m, ones, ones, 255, 1, 0xfffe),
	    htons(ref_cksum4(ones, ones, 255, data, 0xfffe)));
	m_freem(ck_m);
	ck_m = NULL;
	ck_leave(state);
}

#define TK(f) cmocka_unit_test_teardown(f, ck_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_ipv4_header),
		TK(test_udp_datagram),
		cmocka_unit_test(test_empty_and_one_byte),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_all_ones),
		cmocka_unit_test(test_big_random),
		cmocka_unit_test(test_random_flat),
		TK(test_random_chains),
		TK(test_pseudo_header),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
