/*
 * test_badinput_ip.c -- the bad-input suite (issue 8), link and network
 * layers: lengths that disagree, IPv4 options, fragments, ICMP, ARP.
 *
 * One named test per bug class; each writes its frames out byte by byte,
 * sends them from the tap to one instance (198.18.0.1) and asserts the
 * exact outcome: dropped with which counter, or the exact answer, and
 * nothing else sent; every pool back to zero at the end (tenv_down()).
 * The public vulnerability each class mirrors is named at the test.
 *
 * Needs no root, no DPDK, no network namespace.
 */
#define _DEFAULT_SOURCE	/* <netinet/tcp.h>: TH_*, TCPOPT_*, tcp_info */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>

#include "../unit/harness.h"
#include "../packet/pkt.h"
#include "../packet/tcpseg.h"
#include "badinput.h"

/* A UDP socket bound to port on the stack's address; non-blocking. */
static int
udp_bound(uint16_t port)
{
	struct sockaddr_in a = sa(TS_STACK_ADDR, port);
	int fd = rump_sys_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(rump_sys_bind(fd, (struct sockaddr *)&a, sizeof(a)),
	    0);
	return fd;
}

/*
 * A UDP datagram at f from the peer's port 4000 to the stack's port,
 * with UDP length field ulen, datalen bytes of bi_pattern(seed 1) present
 * and a checksum over what ulen covers (0: none); returns the frame
 * length.
 */
static size_t
udp_frame(uint8_t *f, uint16_t port, uint16_t ulen, size_t datalen,
    bool sum)
{
	size_t off = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0,
	    (uint16_t)(20 + 8 + datalen), 0x200, 0, 17);
	uint8_t *uh = f + off;
	uint16_t c;

	put16(uh, 4000);
	put16(uh + 2, port);
	put16(uh + 4, ulen);
	uh[6] = uh[7] = 0;
	bi_pattern(uh + 8, datalen, 1);
	if (sum && ulen >= 8 && ulen <= 8 + datalen) {
		c = ref_cksum(uh, ulen, ref_pseudo(ip(TS_PEER_ADDR),
		    ip(TS_STACK_ADDR), 17, ulen));
		memcpy(uh + 6, &c, 2);
	}
	return off + 8 + datalen;
}

/*
 * Lengths that disagree, Ethernet and IPv4 (Ripple20 CVE-2020-11896/
 * 11898: IP total length vs bytes present; AMNESIA:33 CVE-2020-13987/
 * 17437: lengths trusted from the header; NUCLEUS:13 CVE-2021-31886):
 * every way the link, the total length and the IHL can disagree, both
 * directions, and 0.
 */
static void
test_badinput_len_ether_ip(void **state)
{
	struct tenv e;
	uint8_t f[256];
	size_t n;

	(void)state;
	tenv_up(&e);

	/* 13 bytes: less than an Ethernet header */
	n = eth(f, ts_stack_mac, ts_peer_mac, 0x0800);
	bi_send(&e, f, 13);
	assert_int_equal(bi_stat(&e, "if.bus0.irunt"), 1);

	/* an Ethernet header and no IP at all (0 bytes of IP) */
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "ip.toosmall"), 1);

	/* 19 bytes of IP: shorter than the minimum header */
	n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 1, 1, 0);
	bi_send(&e, f, 14 + 19);
	assert_int_equal(bi_stat(&e, "ip.toosmall"), 2);

	/* total length 0 */
	n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 1, 1, 0);
	put16(f + 16, 0);
	bi_fix_ipsum(f);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "ip.badlen"), 1);

	/* total length 19, less than the header length */
	put16(f + 16, 19);
	bi_fix_ipsum(f);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "ip.badlen"), 2);

	/* total length beyond the bytes present (28 + 16 said, 28 there) */
	n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 1, 1, 0);
	put16(f + 16, 44);
	bi_fix_ipsum(f);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "ip.tooshort"), 1);

	/* total length 65535 with 28 bytes present */
	put16(f + 16, 65535);
	bi_fix_ipsum(f);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "ip.tooshort"), 2);

	/* IHL 0, and IHL 4: less than 20 bytes of header */
	n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 1, 1, 0);
	f[14] = 0x40;
	bi_fix_ipsum(f);
	bi_send(&e, f, n);
	f[14] = 0x44;
	bi_fix_ipsum(f);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "ip.badhlen"), 2);

	/* IHL 15 (60 bytes) with 28 bytes present */
	f[14] = 0x4f;
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "ip.badhlen"), 3);

	/* IHL 7 (28 bytes) with a total length of 24: header past the end */
	n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 1, 1, 0);
	f[14] = 0x47;
	put16(f + 16, 24);
	bi_fix_ipsum(f);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "ip.badlen"), 3);

	/* version 6 in an IPv4 frame */
	n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 1, 1, 0);
	f[14] = 0x65;
	bi_fix_ipsum(f);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "ip.badvers"), 1);

	/* nothing of it reached ICMP, and nothing was answered */
	assert_int_equal(bi_stat(&e, "icmp.in.echo"), 0);
	assert_int_equal(bi_stat(&e, "ip.delivered"), 0);
	expect_nothing(&e);

	/*
	 * The other direction: the link carries more than the total length
	 * (Ethernet padding, trailing junk).  The datagram is the first
	 * ip_len bytes, answered exactly.
	 */
	n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 0x1234, 7, 4);
	memset(f + n, 0xee, 40);
	bi_send(&e, f, n + 40);
	bi_expect_echo_reply(&e, 0x1234, 7, 4);
	assert_int_equal(bi_stat(&e, "ip.delivered"), 1);
	tenv_down(&e);
}

/*
 * Lengths that disagree, UDP (Ripple20 CVE-2020-11898, AMNESIA:33
 * CVE-2020-17440: the UDP length trusted over the IP length): UDP
 * length 0, below the header, beyond the datagram, and below it.
 */
static void
test_badinput_len_udp(void **state)
{
	struct tenv e;
	uint8_t f[256], got[64];
	size_t n;
	int fd;

	(void)state;
	tenv_up(&e);
	fd = udp_bound(5000);

	/* fewer than 8 bytes of UDP header */
	n = udp_frame(f, 5000, 8, 0, false);
	put16(f + 16, 20 + 4);
	bi_fix_ipsum(f);
	bi_send(&e, f, 14 + 24);
	assert_int_equal(bi_stat(&e, "udp.hdrops"), 1);

	/* UDP length 0, then 7: below its own header */
	n = udp_frame(f, 5000, 0, 8, false);
	bi_send(&e, f, n);
	n = udp_frame(f, 5000, 7, 8, false);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "udp.badlen"), 2);

	/* UDP length beyond the datagram: 8 + 100 said, 8 + 8 there */
	n = udp_frame(f, 5000, 108, 8, false);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "udp.badlen"), 3);
	assert_int_equal(bi_stat(&e, "udp.delivered"), 0);
	errno = 0;
	assert_int_equal(rump_sys_read(fd, got, sizeof(got)), -1);
	assert_int_equal(errno, EAGAIN);

	/*
	 * UDP length below the datagram (RFC 768: the UDP length rules):
	 * 8 + 5 said, 8 + 16 present, checksum over the 13 bytes.  The
	 * socket gets exactly the 5 bytes.
	 */
	n = udp_frame(f, 5000, 13, 16, true);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "udp.delivered"), 1);
	assert_int_equal(rump_sys_read(fd, got, sizeof(got)), 5);
	assert_memory_equal(got, f + 14 + 20 + 8, 5);
	assert_int_equal(bi_stat(&e, "udp.badlen"), 3);
	assert_int_equal(rump_sys_close(fd), 0);
	tenv_down(&e);
}

/*
 * IPv4 options (Ripple20 CVE-2020-11897/11900, NUCLEUS:13, URGENT/11
 * CVE-2019-12256: option lengths trusted past the header): an option
 * with length 0, with length 1, with a length past the header, an
 * option cut off after its type byte, a record route / timestamp
 * pointer inside its own header, and well-formed padding that must pass.
 */
static void
test_badinput_ipopt_lengths(void **state)
{
	static const uint8_t bad[][8] = {
		{ 0x07, 0x00, 0x04, 0x00 },	/* RR, length 0 */
		{ 0x44, 0x01, 0x05, 0x00 },	/* TS, length 1 */
		{ 0x94, 0x01, 0x00, 0x00 },	/* router alert, length 1 */
		{ 0x07, 0x27, 0x04, 0x00 },	/* RR, 39: past the header */
		{ 0x01, 0x01, 0x01, 0x94 },	/* type byte, no length */
		{ 0x07, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
						/* RR, pointer 0 */
		{ 0x44, 0x08, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00 },
						/* TS, pointer 3 */
	};
	static const size_t badlen[] = { 4, 4, 4, 4, 4, 8, 8 };
	static const uint8_t nops[4] = { 0x01, 0x01, 0x01, 0x00 };
	struct tenv e;
	uint8_t f[256];
	size_t n;

	(void)state;
	tenv_up(&e);
	for (size_t i = 0; i < BI_NITEMS(bad); i++) {
		n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, bad[i], badlen[i],
		    1, (uint16_t)i, 8);
		bi_send(&e, f, n);
		assert_int_equal(bi_stat(&e, "ip.badoptions"), i + 1);
	}
	assert_int_equal(bi_stat(&e, "icmp.in.echo"), 0);
	expect_nothing(&e);

	/* NOP, NOP, NOP, EOL: answered, without options */
	n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, nops, 4, 2, 9, 8);
	bi_send(&e, f, n);
	bi_expect_echo_reply(&e, 2, 9, 8);
	assert_int_equal(bi_stat(&e, "ip.badoptions"), BI_NITEMS(bad));
	tenv_down(&e);
}

/*
 * Source routing (the spoofing class of RFC 1122 3.3.5; URGENT/11
 * handled LSRR/SSRR in the same option parser as CVE-2019-12256): LSRR
 * and SSRR options are counted and not honoured; the echo reply goes
 * straight back to the source without a route of its own.
 */
static void
test_badinput_ipopt_source_route(void **state)
{
	/* LSRR through 198.18.0.9, pointer past it (already used) */
	static const uint8_t lsrr[8] = { 0x01, 0x83, 0x07, 0x08,
	    198, 18, 0, 9 };
	/* SSRR with a hop not yet visited: 198.18.0.9 next */
	static const uint8_t ssrr[8] = { 0x01, 0x89, 0x07, 0x04,
	    198, 18, 0, 9 };
	struct tenv e;
	uint8_t f[256];
	size_t n;

	(void)state;
	tenv_up(&e);
	n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, lsrr, 8, 3, 1, 16);
	bi_send(&e, f, n);
	bi_expect_echo_reply(&e, 3, 1, 16);
	assert_int_equal(bi_stat(&e, "ip.srcroute"), 1);

	/*
	 * not finished: the datagram's destination is further on (RFC 1122
	 * 3.3.5): no reply, ICMP "source route failed" quoting the header
	 * (options included) and 8 bytes
	 */
	n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, ssrr, 8, 3, 2, 16);
	bi_send(&e, f, n);
	bi_expect_icmp_error(&e, 3, 5, 0, f + 14, 28 + 8);
	assert_int_equal(bi_stat(&e, "ip.srcroute"), 2);
	assert_int_equal(bi_stat(&e, "ip.srcroutefail"), 1);
	assert_int_equal(bi_stat(&e, "icmp.reflect"), 1);
	assert_int_equal(bi_stat(&e, "ip.badoptions"), 0);
	assert_int_equal(bi_stat(&e, "ip.forward"), 0);
	tenv_down(&e);
}

/* One fragment of datagram id, payload pl (plen bytes) at byte offset off. */
static size_t
frag(uint8_t *f, uint16_t id, size_t off, bool mf, uint8_t proto,
    const uint8_t *pl, size_t plen)
{
	size_t n = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0,
	    (uint16_t)(20 + plen), id, (uint16_t)((mf ? 0x2000 : 0) |
	    (off >> 3)), proto);

	memcpy(f + n, pl, plen);
	return n + plen;
}

/* An ICMP echo request (id, seq, datalen of bi_pattern) at p; its length. */
static size_t
echo_body(uint8_t *p, uint16_t id, uint16_t seq, size_t datalen)
{
	uint8_t body[1500];

	bi_pattern(body, datalen, 0);
	return bi_icmp(p, 8, 0, (uint32_t)id << 16 | seq, body, datalen);
}

/*
 * Overlapping fragments (FragmentSmack CVE-2018-5391, the Teardrop
 * family, Ripple20 CVE-2020-11904): RFC 5722 applied to IPv4 drops the
 * whole datagram and the rest of it; nothing is delivered.
 */
static void
test_badinput_frag_overlap(void **state)
{
	struct tenv e;
	uint8_t f[256], p[64];
	size_t plen = echo_body(p, 4, 1, 40);	/* 48 bytes */

	(void)state;
	tenv_up(&e);
	bi_send(&e, f, frag(f, 0x4001, 0, true, 1, p, 24));
	/* bytes 16..39: overlaps the first fragment's 16..23 */
	bi_send(&e, f, frag(f, 0x4001, 16, true, 1, p + 16, 24));
	assert_int_equal(bi_stat(&e, "ip.fragoverlap"), 1);
	assert_int_equal(bi_stat(&e, "ip.fragdropped"), 2);
	/* the missing tail comes: the datagram is gone, so is this */
	bi_send(&e, f, frag(f, 0x4001, 24, false, 1, p + 24, plen - 24));
	assert_int_equal(bi_stat(&e, "ip.fragdropped"), 3);
	assert_int_equal(bi_stat(&e, "ip.fragments"), 3);
	assert_int_equal(bi_stat(&e, "ip.reassembled"), 0);
	assert_int_equal(bi_stat(&e, "icmp.in.echo"), 0);
	expect_nothing(&e);
	/* the tombstone goes with the datagram's timer, silently */
	tenv_advance(&e, 31000);
	assert_int_equal(bi_stat(&e, "ip.fragtimeout"), 0);
	assert_int_equal(bi_inuse(&e), 0);
	tenv_down(&e);
}

/*
 * Duplicated fragments (FragmentSmack's duplicates; RFC 5722: an exact
 * duplicate is dropped alone): the datagram is still reassembled and
 * answered once.
 */
static void
test_badinput_frag_duplicate(void **state)
{
	struct tenv e;
	uint8_t f[256], p[64];
	size_t plen = echo_body(p, 5, 1, 40);

	(void)state;
	tenv_up(&e);
	bi_send(&e, f, frag(f, 0x4002, 0, true, 1, p, 24));
	bi_send(&e, f, frag(f, 0x4002, 0, true, 1, p, 24));
	assert_int_equal(bi_stat(&e, "ip.fragdup"), 1);
	bi_send(&e, f, frag(f, 0x4002, 24, false, 1, p + 24, plen - 24));
	bi_expect_echo_reply(&e, 5, 1, 40);
	/* the last one again, after the datagram is gone: a new datagram */
	bi_send(&e, f, frag(f, 0x4002, 24, false, 1, p + 24, plen - 24));
	expect_nothing(&e);
	assert_int_equal(bi_stat(&e, "ip.reassembled"), 1);
	assert_int_equal(bi_stat(&e, "ip.fragments"), 4);
	/* it never completes: timed out without fragment zero, no ICMP */
	tenv_advance(&e, 31000);
	assert_int_equal(bi_stat(&e, "ip.fragtimeout"), 1);
	assert_int_equal(bi_stat(&e, "ip.fragdropped"), 1);
	tenv_down(&e);
}

/*
 * Tiny fragments (RFC 1858; the 8-byte fragments of FragmentSmack and
 * of Ripple20 CVE-2020-11904): an echo request in 8-byte fragments,
 * last first, is reassembled and answered exactly; a fragment with MF
 * and 7 bytes, and an empty one, are counted and dropped.
 */
static void
test_badinput_frag_tiny(void **state)
{
	struct tenv e;
	uint8_t f[256], p[64];
	size_t plen = echo_body(p, 6, 1, 32);	/* 40 bytes: 5 fragments */

	(void)state;
	tenv_up(&e);
	for (size_t off = plen; off > 0; off -= 8)
		bi_send(&e, f, frag(f, 0x4003, off - 8, off != plen, 1,
		    p + off - 8, 8));
	bi_expect_echo_reply(&e, 6, 1, 32);
	assert_int_equal(bi_stat(&e, "ip.fragments"), 5);
	assert_int_equal(bi_stat(&e, "ip.reassembled"), 1);

	bi_send(&e, f, frag(f, 0x4004, 0, true, 1, p, 7));
	bi_send(&e, f, frag(f, 0x4004, 8, true, 1, p, 0));
	assert_int_equal(bi_stat(&e, "ip.fragbad"), 2);
	expect_nothing(&e);
	tenv_down(&e);
}

/*
 * Offset + length beyond 65535 (the Ping of Death, CVE-1999-0128 and
 * its returns: Ripple20 CVE-2020-11896): dropped before anything is
 * held, with or without a fragment zero.
 */
static void
test_badinput_frag_too_long(void **state)
{
	struct tenv e;
	uint8_t f[256], p[64];
	size_t plen = echo_body(p, 7, 1, 40);

	(void)state;
	tenv_up(&e);
	bi_send(&e, f, frag(f, 0x4005, 0, true, 1, p, 16));
	/* offset 65512 (the largest, 8191 * 8) + 40 > 65535 - 20 */
	bi_send(&e, f, frag(f, 0x4005, 8191 * 8, false, 1, p, plen));
	assert_int_equal(bi_stat(&e, "ip.fragtoolong"), 1);
	/* exactly at the limit: 65480 + 35 + 20 == 65535: held */
	bi_send(&e, f, frag(f, 0x4006, 65480, false, 1, p, 35));
	/* one byte more: 65480 + 36 + 20 > 65535 */
	bi_send(&e, f, frag(f, 0x4007, 65480, false, 1, p, 36));
	assert_int_equal(bi_stat(&e, "ip.fragtoolong"), 2);
	assert_int_equal(bi_stat(&e, "ip.reassembled"), 0);
	expect_nothing(&e);
	/*
	 * 0x4005 had its fragment zero: Time Exceeded (RFC 1122 3.3.2)
	 * quoting it; 0x4006 had none: dropped silently.
	 */
	tenv_advance(&e, 31000);
	(void)frag(f, 0x4005, 0, true, 1, p, 16);
	bi_expect_icmp_error(&e, 11, 1, 0, f + 14, 28);
	assert_int_equal(bi_stat(&e, "ip.fragtimeout"), 2);
	tenv_down(&e);
}

/*
 * IP-in-IP fragments (Ripple20 CVE-2020-11896/11898: IP-in-IP tunnelled
 * fragments whose inner lengths were trusted): the outer datagram
 * (protocol 4, itself holding an inner fragment) is reassembled, then,
 * as the stack has no tunnel, answered with protocol unreachable quoting
 * the reassembled header and 8 bytes; the inner fragment is never
 * parsed.
 */
static void
test_badinput_frag_ip_in_ip(void **state)
{
	struct tenv e;
	uint8_t f[256], p[64], q[28];
	size_t ilen;

	(void)state;
	tenv_up(&e);
	/* the inner datagram: a fragment (offset 8, MF) claiming 1000 bytes */
	(void)ipv4(p, NULL, 0, 1000, 0x77, 0x2001, 64, 1, TS_PEER_ADDR,
	    TS_STACK_ADDR);
	bi_pattern(p + 20, 20, 3);
	ilen = 40;
	bi_send(&e, f, frag(f, 0x4008, 0, true, 4, p, 24));
	bi_send(&e, f, frag(f, 0x4008, 24, false, 4, p + 24, ilen - 24));
	assert_int_equal(bi_stat(&e, "ip.reassembled"), 1);
	assert_int_equal(bi_stat(&e, "ip.noproto"), 1);
	/* the quote: the reassembled header (length 60, offset 0) + 8 */
	(void)ipv4(q, NULL, 0, (uint16_t)(20 + ilen), 0x4008, 0, 64, 4,
	    TS_PEER_ADDR, TS_STACK_ADDR);
	memcpy(q + 20, p, 8);
	bi_expect_icmp_error(&e, 3, 2, 0, q, 28);
	/* only the outer fragments went through reassembly */
	assert_int_equal(bi_stat(&e, "ip.fragments"), 2);
	tenv_down(&e);
}

/*
 * A fragment flood beyond the reassembly limits (FragmentSmack
 * CVE-2018-5391, INFRA:HALT CVE-2020-25767 class): first fragments of
 * 200 datagrams, then 100 fragments of one datagram, then 1,400-byte
 * fragments up to the byte limit.  At most 64 datagrams, 64 fragments
 * each and 256 KiB are held (counted in ip.fraglimit beyond that), pool
 * usage stays bounded, and all of it goes with the timer.
 */
static void
test_badinput_frag_flood(void **state)
{
	struct tenv e;
	uint8_t f[TS_FRAME_MAX], p[1500];
	uint64_t base, peak = 0;

	(void)state;
	tenv_up(&e);
	bi_pattern(p, sizeof(p), 9);
	base = bi_inuse(&e);
	for (unsigned i = 0; i < 200; i++) {
		bi_send(&e, f, frag(f, (uint16_t)(0x5000 + i), 8, true, 17, p,
		    8));
		if (bi_inuse(&e) - base > peak)
			peak = bi_inuse(&e) - base;
	}
	assert_int_equal(bi_stat(&e, "ip.fraglimit"), 200 - 64);
	/* one mbuf (and at most a cluster) per fragment held */
	assert_true(peak <= 2 * 64);
	tenv_advance(&e, 31000);
	assert_int_equal(bi_stat(&e, "ip.fragtimeout"), 64);
	assert_int_equal(bi_inuse(&e), base);

	/* 100 fragments of one datagram: 64 held */
	for (unsigned i = 0; i < 100; i++)
		bi_send(&e, f, frag(f, 0x6000, 8 + 16 * i, true, 17, p, 8));
	assert_int_equal(bi_stat(&e, "ip.fraglimit"), 200 - 64 + 36);
	assert_true(bi_inuse(&e) - base <= 2 * 64);
	tenv_advance(&e, 31000);
	assert_int_equal(bi_inuse(&e), base);

	/* 1,400-byte fragments of 60 datagrams: 256 KiB held at most */
	for (unsigned i = 0; i < 60; i++)
		for (unsigned j = 0; j < 4; j++)
			bi_send(&e, f, frag(f, (uint16_t)(0x7000 + i),
			    8 + 1400 * j, true, 17, p, 1400));
	assert_int_equal(bi_stat(&e, "ip.fraglimit"), 200 - 64 + 36 + 56);
	/* 256 KiB of 1,420-byte fragments: 184 of them, 2 objects each */
	assert_true(bi_inuse(&e) - base <= 2 * (256 * 1024 / 1420 + 1));
	tenv_advance(&e, 31000);
	assert_int_equal(bi_inuse(&e), base);
	assert_int_equal(bi_stat(&e, "ip.reassembled"), 0);
	expect_nothing(&e);
	tenv_down(&e);
}

/*
 * Atomic fragments (RFC 6946; CVE-2016-10142's IPv6 class): offset 0
 * with MF clear is a whole datagram, even with an identification that a
 * datagram being reassembled uses; neither disturbs the other.
 */
static void
test_badinput_frag_atomic(void **state)
{
	struct tenv e;
	uint8_t f[256], p[64];
	size_t plen = echo_body(p, 8, 1, 40);

	(void)state;
	tenv_up(&e);
	/* the first half of datagram 0x4009 */
	bi_send(&e, f, frag(f, 0x4009, 0, true, 1, p, 24));
	/* an atomic fragment with the same key: answered on its own */
	{
		uint8_t a[64];
		size_t alen = echo_body(a, 9, 1, 8);

		bi_send(&e, f, frag(f, 0x4009, 0, false, 1, a, alen));
		bi_expect_echo_reply(&e, 9, 1, 8);
	}
	assert_int_equal(bi_stat(&e, "ip.fragments"), 1);
	/* the rest of 0x4009 completes it */
	bi_send(&e, f, frag(f, 0x4009, 24, false, 1, p + 24, plen - 24));
	bi_expect_echo_reply(&e, 8, 1, 40);
	assert_int_equal(bi_stat(&e, "ip.fragments"), 2);
	assert_int_equal(bi_stat(&e, "ip.reassembled"), 1);
	tenv_down(&e);
}

/*
 * ICMP errors quoting truncated headers (AMNESIA:33 CVE-2020-13988,
 * Ripple20 CVE-2020-11910, NUCLEUS:13 CVE-2021-31889: the quoted header
 * trusted): a quote shorter than an IP header, a quoted IHL longer than
 * the quote, a quote without its 8 bytes, a quoted version 6, and an
 * ICMP message shorter than its own header.
 */
static void
test_badinput_icmp_truncated_quote(void **state)
{
	struct tenv e;
	uint8_t f[256], q[64];
	size_t n;

	(void)state;
	tenv_up(&e);
	(void)ipv4(q, NULL, 0, 40, 1, 0x4000, 64, 6, TS_STACK_ADDR,
	    TS_PEER_ADDR);
	memset(q + 20, 0x11, 8);

	/* 12 bytes of quote */
	n = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 20 + 8 + 12, 1, 0,
	    1);
	n += bi_icmp(f + n, 3, 3, 0, q, 12);
	bi_send(&e, f, n);
	/* a whole header, no 8 bytes */
	n = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 20 + 8 + 20, 1, 0,
	    1);
	n += bi_icmp(f + n, 3, 3, 0, q, 20);
	bi_send(&e, f, n);
	/* IHL 15 in a 28-byte quote */
	q[0] = 0x4f;
	n = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 20 + 8 + 28, 1, 0,
	    1);
	n += bi_icmp(f + n, 3, 3, 0, q, 28);
	bi_send(&e, f, n);
	/* version 6 */
	q[0] = 0x65;
	n = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 20 + 8 + 28, 1, 0,
	    1);
	n += bi_icmp(f + n, 11, 0, 0, q, 28);
	bi_send(&e, f, n);
	/* IHL 4 */
	q[0] = 0x44;
	n = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 20 + 8 + 28, 1, 0,
	    1);
	n += bi_icmp(f + n, 12, 0, 0, q, 28);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "icmp.badlen"), 5);

	/* 4 bytes of ICMP: shorter than its header */
	n = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 20 + 4, 1, 0, 1);
	f[n] = 3;
	f[n + 1] = 3;
	f[n + 2] = 0xfc;
	f[n + 3] = 0xff;
	bi_send(&e, f, n + 4);
	assert_int_equal(bi_stat(&e, "icmp.tooshort"), 1);
	assert_int_equal(bi_stat(&e, "tcp.icmperr"), 0);
	expect_nothing(&e);
	tenv_down(&e);
}

/*
 * Errors about ICMP errors (RFC 1122 3.2.2: never an error about an
 * error; the storm class of INFRA:HALT and NUCLEUS:13): an error quoting
 * an error is taken silently, and fragment zero of an ICMP error that
 * never completes times out without a Time Exceeded (icmp.oldicmp);
 * fragment zero of an echo request does get one.
 */
static void
test_badinput_icmp_error_about_error(void **state)
{
	struct tenv e;
	uint8_t f[256], q[64], p[64];
	size_t n, qlen;

	(void)state;
	tenv_up(&e);
	memset(q, 0, sizeof(q));
	/* port unreachable quoting a port unreachable the stack "sent" */
	(void)ipv4(q, NULL, 0, 56, 1, 0, 64, 1, TS_STACK_ADDR, TS_PEER_ADDR);
	qlen = 20 + bi_icmp(q + 20, 3, 3, 0, NULL, 0);
	n = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0,
	    (uint16_t)(20 + 8 + qlen), 1, 0, 1);
	n += bi_icmp(f + n, 3, 3, 0, q, qlen);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "icmp.in.unreach"), 1);
	expect_nothing(&e);

	/* fragment zero of a time exceeded that never completes */
	memset(p, 0, sizeof(p));
	(void)bi_icmp(p, 11, 0, 0, q, 40);
	bi_send(&e, f, frag(f, 0x400a, 0, true, 1, p, 24));
	tenv_advance(&e, 31000);
	assert_int_equal(bi_stat(&e, "ip.fragtimeout"), 1);
	assert_int_equal(bi_stat(&e, "icmp.oldicmp"), 1);
	assert_int_equal(bi_stat(&e, "icmp.out.timxceed"), 0);
	expect_nothing(&e);

	/* the same for an echo request: Time Exceeded quoting it */
	(void)echo_body(p, 10, 1, 40);
	n = frag(f, 0x400b, 0, true, 1, p, 24);
	bi_send(&e, f, n);
	tenv_advance(&e, 31000);
	bi_expect_icmp_error(&e, 11, 1, 0, f + 14, 28);
	assert_int_equal(bi_stat(&e, "icmp.out.timxceed"), 1);
	tenv_down(&e);
}

/*
 * ICMP errors for unknown connections (blind ICMP attacks, RFC 5927;
 * NUCLEUS:13 CVE-2021-31887): an unreachable quoting a TCP segment and a
 * UDP datagram of no connection, and one quoting an address that is not
 * ours: nothing changes, nothing is sent.
 */
static void
test_badinput_icmp_unknown_connection(void **state)
{
	struct tenv e;
	uint8_t f[256], q[64];
	size_t n;

	(void)state;
	tenv_up(&e);
	(void)ipv4(q, NULL, 0, 40, 1, 0x4000, 64, 6, TS_STACK_ADDR,
	    TS_PEER_ADDR);
	put16(q + 20, 40000);
	put16(q + 22, 80);
	put32(q + 24, 0x12345678);
	n = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 20 + 8 + 28, 1, 0,
	    1);
	n += bi_icmp(f + n, 3, 1, 0, q, 28);
	bi_send(&e, f, n);
	/* the same as fragmentation needed, MTU 68 */
	n = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 20 + 8 + 28, 1, 0,
	    1);
	n += bi_icmp(f + n, 3, 4, 68, q, 28);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "tcp.icmperr"), 0);
	assert_int_equal(bi_stat(&e, "tcp.pmtuchange"), 0);

	/* UDP */
	q[9] = 17;
	q[10] = q[11] = 0;
	{
		uint16_t c = ref_cksum(q, 20, 0);

		memcpy(q + 10, &c, 2);
	}
	n = bi_ip(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 20 + 8 + 28, 1, 0,
	    1);
	n += bi_icmp(f + n, 3, 3, 0, q, 28);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "icmp.in.unreach"), 3);
	assert_int_equal(bi_stat(&e, "icmp.badlen"), 0);
	expect_nothing(&e);
	tenv_down(&e);
}

/*
 * Echo requests with options (URGENT/11 CVE-2019-12256 sat in the
 * option handling of the ICMP reply path): the reply to a request with
 * record route, timestamp and NOPs carries no options and exactly the
 * request's data.
 */
static void
test_badinput_icmp_echo_options(void **state)
{
	/* RR with room for 2 addresses, then NOP NOP NOP EOL */
	static const uint8_t opts[16] = {
		0x07, 0x0b, 0x04, 0, 0, 0, 0, 0, 0, 0, 0,
		0x01, 0x01, 0x01, 0x01, 0x00,
	};
	/* timestamps only, room for 2 */
	static const uint8_t ts[12] = { 0x44, 0x0c, 0x05, 0x00 };
	struct tenv e;
	uint8_t f[256];
	size_t n;

	(void)state;
	tenv_up(&e);
	n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, opts, 16, 11, 1, 56);
	bi_send(&e, f, n);
	bi_expect_echo_reply(&e, 11, 1, 56);
	n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, ts, 12, 11, 2, 0);
	bi_send(&e, f, n);
	bi_expect_echo_reply(&e, 11, 2, 0);
	assert_int_equal(bi_stat(&e, "icmp.reflect"), 2);
	assert_int_equal(bi_stat(&e, "ip.badoptions"), 0);
	tenv_down(&e);
}

/*
 * Echo to broadcast (Smurf, CVE-1999-0513; RFC 1122 3.2.2.6 MAY
 * ignore): to the subnet broadcast, to 255.255.255.255 and to a
 * multicast group, each with a broadcast or multicast link address: not
 * answered, counted in icmp.bmcastecho.
 */
static void
test_badinput_icmp_echo_broadcast(void **state)
{
	static const uint8_t mcast_mac[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	struct tenv e;
	uint8_t f[256];
	size_t n;

	(void)state;
	tenv_up(&e);
	n = bi_echo(f, bi_bcast_mac, BI_BCAST_ADDR, NULL, 0, 12, 1, 8);
	bi_send(&e, f, n);
	n = bi_echo(f, bi_bcast_mac, "255.255.255.255", NULL, 0, 12, 2, 8);
	bi_send(&e, f, n);
	n = bi_echo(f, mcast_mac, "224.0.0.1", NULL, 0, 12, 3, 8);
	bi_send(&e, f, n);
	/* a subnet broadcast hidden in a unicast frame */
	n = bi_echo(f, ts_stack_mac, BI_BCAST_ADDR, NULL, 0, 12, 4, 8);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "icmp.in.echo"), 4);
	assert_int_equal(bi_stat(&e, "icmp.bmcastecho"), 4);
	assert_int_equal(bi_stat(&e, "icmp.reflect"), 0);
	expect_nothing(&e);
	tenv_down(&e);
}

/* An ARP packet (op, sender sha/spa, target tpa) to dmac at f; 42 bytes. */
static size_t
arp_frame(uint8_t *f, const uint8_t *dmac, uint16_t op, const uint8_t *sha,
    const char *spa, const char *tpa)
{
	uint32_t s = ip(spa), t = ip(tpa);
	size_t n = eth(f, dmac, ts_peer_mac, 0x0806);

	put16(f + n, 1);		/* Ethernet */
	put16(f + n + 2, 0x0800);	/* IPv4 */
	f[n + 4] = 6;
	f[n + 5] = 4;
	put16(f + n + 6, op);
	memcpy(f + n + 8, sha, 6);
	memcpy(f + n + 14, &s, 4);
	memset(f + n + 18, 0, 6);
	memcpy(f + n + 24, &t, 4);
	return n + 28;
}

/*
 * ARP replies never asked for (cache poisoning; Ripple20 CVE-2020-11907
 * sat in the same input path): a reply about an address the stack
 * never asked for creates no entry, and one contradicting the static
 * entry of the peer changes nothing: the stack still talks to the peer's
 * real address.
 */
static void
test_badinput_arp_unsolicited_reply(void **state)
{
	static const uint8_t evil[6] = { 0x02, 0xee, 0xee, 0xee, 0xee, 0xee };
	struct tenv e;
	enum rump_arp_state st;
	uint8_t f[128], mac[6];
	size_t n;

	(void)state;
	tenv_up(&e);
	bi_send(&e, f, arp_frame(f, ts_stack_mac, 2, evil, "198.18.0.77",
	    TS_STACK_ADDR));
	assert_int_equal(rump_arp_get(e.k, ip("198.18.0.77"), &st, mac), 0);
	assert_int_equal(st, RUMP_ARP_NONE);
	bi_send(&e, f, arp_frame(f, bi_bcast_mac, 2, evil, TS_PEER_ADDR,
	    TS_PEER_ADDR));
	assert_int_equal(rump_arp_get(e.k, ip(TS_PEER_ADDR), &st, mac), 0);
	assert_int_equal(st, RUMP_ARP_STATIC);
	assert_memory_equal(mac, ts_peer_mac, 6);
	assert_int_equal(bi_stat(&e, "arp.rcvreplies"), 2);
	expect_nothing(&e);
	/* an echo is answered to the real MAC (bi_expect_ip checks it) */
	n = bi_echo(f, ts_stack_mac, TS_STACK_ADDR, NULL, 0, 13, 1, 8);
	bi_send(&e, f, n);
	bi_expect_echo_reply(&e, 13, 1, 8);
	tenv_down(&e);
}

/*
 * ARP requests claiming our own address (RFC 5227 2.4 conflict; the
 * spoofing half of cache poisoning): a request and a gratuitous ARP
 * from another MAC with our address as the sender: no reply, counted;
 * one with our own MAC as the sender (a reflection) too.
 */
static void
test_badinput_arp_claims_our_address(void **state)
{
	static const uint8_t other[6] = { 0x02, 0xdd, 0, 0, 0, 0x01 };
	struct tenv e;
	uint8_t f[128];

	(void)state;
	tenv_up(&e);
	bi_send(&e, f, arp_frame(f, bi_bcast_mac, 1, other, TS_STACK_ADDR,
	    TS_STACK_ADDR));
	bi_send(&e, f, arp_frame(f, bi_bcast_mac, 1, other, TS_STACK_ADDR,
	    TS_PEER_ADDR));
	bi_send(&e, f, arp_frame(f, bi_bcast_mac, 2, other, TS_STACK_ADDR,
	    TS_STACK_ADDR));
	assert_int_equal(bi_stat(&e, "arp.rcvdupaddr"), 3);
	bi_send(&e, f, arp_frame(f, bi_bcast_mac, 1, ts_stack_mac,
	    TS_PEER_ADDR, TS_STACK_ADDR));
	assert_int_equal(bi_stat(&e, "arp.rcvlocalsha"), 1);
	assert_int_equal(bi_stat(&e, "arp.sendreplies"), 0);
	expect_nothing(&e);
	tenv_down(&e);
}

/*
 * ARP with wrong hardware/protocol lengths (Ripple20 CVE-2020-11907
 * class: lengths of the variable-size ARP fields trusted): hardware
 * length 0 and 16, protocol length 0 and 16, hardware type 6, protocol
 * IPv6, opcode 3, and an ARP packet cut to 27 bytes: counted, no reply;
 * the well-formed request after them is answered exactly.
 */
static void
test_badinput_arp_bad_lengths(void **state)
{
	const uint8_t *asker = ts_peer_mac;	/* the tap receives the reply */
	struct tenv e;
	uint8_t f[128], r[128], want[64];
	size_t n;

	(void)state;
	tenv_up(&e);
	n = arp_frame(f, bi_bcast_mac, 1, asker, "198.18.0.50", TS_STACK_ADDR);
	f[18] = 0;
	bi_send(&e, f, n);
	f[18] = 16;
	bi_send(&e, f, n);
	f[18] = 6;
	f[19] = 0;
	bi_send(&e, f, n);
	f[19] = 16;
	bi_send(&e, f, n);
	f[19] = 4;
	put16(f + 14, 6);
	bi_send(&e, f, n);
	put16(f + 14, 1);
	put16(f + 16, 0x86dd);
	bi_send(&e, f, n);
	put16(f + 16, 0x0800);
	put16(f + 20, 3);
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "arp.rcvbadproto"), 7);
	put16(f + 20, 1);
	bi_send(&e, f, 14 + 27);
	assert_int_equal(bi_stat(&e, "arp.rcvbadlen"), 1);
	assert_int_equal(bi_stat(&e, "arp.sendreplies"), 0);
	expect_nothing(&e);

	/* the request itself: the exact reply (RFC 826), padded to 60 */
	bi_send(&e, f, n);
	assert_int_equal(bi_stat(&e, "arp.sendreplies"), 1);
	assert_true((n = bi_recv(&e, r, sizeof(r))) >= 42);
	(void)arp_frame(want, asker, 2, ts_stack_mac, TS_STACK_ADDR,
	    "198.18.0.50");
	memcpy(want + 6, ts_stack_mac, 6);
	memcpy(want + 32, asker, 6);
	assert_memory_equal(r, want, 42);
	for (size_t i = 42; i < n; i++)
		assert_int_equal(r[i], 0);
	tenv_down(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_badinput_len_ether_ip),
		cmocka_unit_test(test_badinput_len_udp),
		cmocka_unit_test(test_badinput_ipopt_lengths),
		cmocka_unit_test(test_badinput_ipopt_source_route),
		cmocka_unit_test(test_badinput_frag_overlap),
		cmocka_unit_test(test_badinput_frag_duplicate),
		cmocka_unit_test(test_badinput_frag_tiny),
		cmocka_unit_test(test_badinput_frag_too_long),
		cmocka_unit_test(test_badinput_frag_ip_in_ip),
		cmocka_unit_test(test_badinput_frag_flood),
		cmocka_unit_test(test_badinput_frag_atomic),
		cmocka_unit_test(test_badinput_icmp_truncated_quote),
		cmocka_unit_test(test_badinput_icmp_error_about_error),
		cmocka_unit_test(test_badinput_icmp_unknown_connection),
		cmocka_unit_test(test_badinput_icmp_echo_options),
		cmocka_unit_test(test_badinput_icmp_echo_broadcast),
		cmocka_unit_test(test_badinput_arp_unsolicited_reply),
		cmocka_unit_test(test_badinput_arp_claims_our_address),
		cmocka_unit_test(test_badinput_arp_bad_lengths),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
