/*
 * badinput.h -- helpers of the bad-input suites (issue 8): raw frames
 * written out byte by byte to the instance of tcpseg.h's struct tenv
 * (198.18.0.1 on a bus, the tap playing 198.18.0.2 with a static ARP
 * entry), the frames the instance answers with read back raw, and the
 * counters and pool usage a test asserts on.
 *
 * Every test of the suites mirrors one class of remote bug found in
 * embedded and userspace stacks (AMNESIA:33, Ripple20, URGENT/11,
 * NUCLEUS:13, INFRA:HALT, SegmentSmack, FragmentSmack, SACK Panic) and
 * asserts the exact outcome: the frame dropped with a named counter, or
 * the exact answer; nothing else sent; every pool back to zero
 * (tenv_down()).
 *
 * Include after "../unit/harness.h", "../packet/pkt.h" and
 * "../packet/tcpseg.h".
 */
#ifndef TESTS_BADINPUT_BADINPUT_H
#define TESTS_BADINPUT_BADINPUT_H

#define BI_NITEMS(a) (sizeof(a) / sizeof((a)[0]))
#define BI_BCAST_ADDR "198.18.0.255"	/* the stack's subnet broadcast */

static const uint8_t bi_bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* bi_stat: counter name ("ip.badlen", "if.bus0.irunt", ...) of e */
static inline uint64_t
bi_stat(struct tenv *e, const char *name)
{
	uint64_t v = 0;

	if (rump_stat_get(e->k, name, &v) != 0)
		fail_msg("no counter %s", name);
	return v;
}

/* bi_inuse: pool objects (mbufs, clusters, pcbs, ...) held right now */
static inline uint64_t
bi_inuse(struct tenv *e)
{
	tenv_settle(e);
	return rump_kernel_leaks(e->k);
}

/* bi_send: frame f of len bytes from the tap; processed when it returns */
static inline void
bi_send(struct tenv *e, const uint8_t *f, size_t len)
{
	assert_int_equal(rump_bus_tap_send(e->tap, f, len), 0);
	tenv_settle(e);
}

/* bi_recv: the next frame the stack sent into buf, its length; 0: none */
static inline size_t
bi_recv(struct tenv *e, uint8_t *buf, size_t size)
{
	size_t len = 0;

	tenv_settle(e);
	if (rump_bus_tap_recv(e->tap, buf, size, &len, 0) != 0)
		return 0;
	return len;
}

/*
 * bi_ip: Ethernet (to dmac) and IPv4 (20 bytes + optlen of options, total
 * length totlen, fragment field off, protocol proto) from the peer to dst
 * at f, with a correct header checksum; returns the offset of the payload.
 */
static inline size_t
bi_ip(uint8_t *f, const uint8_t *dmac, const char *dst, const uint8_t *opts,
    size_t optlen, uint16_t totlen, uint16_t id, uint16_t off, uint8_t proto)
{
	size_t n = eth(f, dmac, ts_peer_mac, 0x0800);

	return n + ipv4(f + n, opts, optlen, totlen, id, off, 64, proto,
	    TS_PEER_ADDR, dst);
}

/* bi_fix_ipsum: recompute the header checksum of the IPv4 header at f+14 */
static inline void
bi_fix_ipsum(uint8_t *f)
{
	size_t hlen = (size_t)(f[14] & 0x0f) * 4;
	uint16_t c;

	f[24] = f[25] = 0;
	c = ref_cksum(f + 14, hlen, 0);
	memcpy(f + 24, &c, 2);
}

/*
 * bi_icmp: an ICMP message (type, code, the 4 bytes of the rest of the
 * header in rest) followed by len bytes of body at p, checksummed;
 * returns its length.
 */
static inline size_t
bi_icmp(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest,
    const void *body, size_t len)
{
	uint16_t c;

	p[0] = type;
	p[1] = code;
	p[2] = p[3] = 0;
	put32(p + 4, rest);
	if (len > 0)
		memcpy(p + 8, body, len);
	c = ref_cksum(p, 8 + len, 0);
	memcpy(p + 2, &c, 2);
	return 8 + len;
}

/* bi_pattern: len bytes of a pattern that tells offsets apart */
static inline void
bi_pattern(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/*
 * bi_echo: a whole frame holding an ICMP echo request to dst (Ethernet
 * dmac) with IP options opts and datalen bytes of bi_pattern(seed 0);
 * returns its length.
 */
static inline size_t
bi_echo(uint8_t *f, const uint8_t *dmac, const char *dst, const uint8_t *opts,
    size_t optlen, uint16_t id, uint16_t seq, size_t datalen)
{
	uint8_t body[1500];
	size_t off;

	assert_true(datalen <= sizeof(body));
	bi_pattern(body, datalen, 0);
	off = bi_ip(f, dmac, dst, opts, optlen,
	    (uint16_t)(20 + optlen + 8 + datalen), 0x100, 0, 1);
	return off + bi_icmp(f + off, 8, 0, (uint32_t)id << 16 | seq, body,
	    datalen);
}

/*
 * bi_expect_ip: the next frame is IPv4 from the stack to the peer,
 * Ethernet addressed to it, a 20-byte header (the stack sends no
 * options) with a correct checksum, not fragmented, TTL 64, protocol
 * proto, at least minlen bytes of payload; returns the payload and its
 * length in *plen.
 */
static inline const uint8_t *
bi_expect_ip(struct tenv *e, uint8_t *buf, size_t size, uint8_t proto,
    size_t minlen, size_t *plen)
{
	size_t len = bi_recv(e, buf, size), totlen;
	uint32_t src, dst;

	if (len == 0)
		fail_msg("the stack sent nothing");
	assert_true(len >= 14 + 20);
	assert_memory_equal(buf, ts_peer_mac, 6);
	assert_memory_equal(buf + 6, ts_stack_mac, 6);
	assert_int_equal(be16(buf + 12), 0x0800);
	assert_int_equal(buf[14], 0x45);
	totlen = be16(buf + 16);
	assert_true(totlen >= 20 + minlen && 14 + totlen <= len);
	assert_int_equal(ref_cksum(buf + 14, 20, 0), 0);
	assert_int_equal(be16(buf + 20) & 0x3fff, 0);
	assert_int_equal(buf[22], 64);
	assert_int_equal(buf[23], proto);
	memcpy(&src, buf + 26, 4);
	memcpy(&dst, buf + 30, 4);
	assert_int_equal(src, ip(TS_STACK_ADDR));
	assert_int_equal(dst, ip(TS_PEER_ADDR));
	*plen = totlen - 20;
	return buf + 34;
}

/*
 * bi_expect_echo_reply: the next frame is the echo reply to a request
 * (id, seq, datalen bytes of bi_pattern(seed 0)): every byte checked but
 * the IP identification and the checksums, which are verified.
 */
static inline void
bi_expect_echo_reply(struct tenv *e, uint16_t id, uint16_t seq,
    size_t datalen)
{
	uint8_t buf[TS_FRAME_MAX], want[1500];
	const uint8_t *ic;
	size_t len;

	ic = bi_expect_ip(e, buf, sizeof(buf), 1, 8, &len);
	assert_int_equal(len, 8 + datalen);
	assert_int_equal(ref_cksum(ic, len, 0), 0);
	assert_int_equal(ic[0], 0);		/* echo reply */
	assert_int_equal(ic[1], 0);
	assert_int_equal(be16(ic + 4), id);
	assert_int_equal(be16(ic + 6), seq);
	bi_pattern(want, datalen, 0);
	assert_memory_equal(ic + 8, want, datalen);
}

/*
 * bi_expect_icmp_error: the next frame is an ICMP error (type, code)
 * quoting exactly the quote_len bytes at quote (RFC 792: the IP header
 * and the first 8 bytes of the datagram); rest is its second word.
 */
static inline void
bi_expect_icmp_error(struct tenv *e, uint8_t type, uint8_t code,
    uint32_t rest, const uint8_t *quote, size_t quote_len)
{
	uint8_t buf[TS_FRAME_MAX];
	const uint8_t *ic;
	size_t len;

	ic = bi_expect_ip(e, buf, sizeof(buf), 1, 8, &len);
	assert_int_equal(len, 8 + quote_len);
	assert_int_equal(ref_cksum(ic, len, 0), 0);
	assert_int_equal(ic[0], type);
	assert_int_equal(ic[1], code);
	assert_int_equal(be32(ic + 4), rest);
	assert_memory_equal(ic + 8, quote, quote_len);
}

#endif /* TESTS_BADINPUT_BADINPUT_H */
