/*
 * test_raw.c -- raw IPv4 sockets (socket(AF_INET, SOCK_RAW, proto)) over
 * the bus, bytes in and bytes out: an instance and a tap that plays the
 * remote hosts 198.18.0.126 and .125.
 *
 * Output: the exact frame a raw ICMP socket's echo request makes, IP_TTL
 * and IP_TOS, IP_HDRINCL headers taken as written (ip_id, source,
 * destination and checksum filled in) or refused with EINVAL,
 * fragmentation and DF, SO_BROADCAST.  Input: the echo reply read back
 * with its IP header as on the wire; echo requests answered by the kernel
 * and not passed up; ICMP errors passed up; a protocol the kernel does not
 * know taken by a raw socket (no protocol unreachable) or answered with an
 * unreachable when none matched; reassembled datagrams; the filters of
 * bind() and connect(); a full receive buffer counted; close with data
 * queued and with a reader asleep; poll, kevent and blocking wake-ups.
 * Every test ends with the instance's pools back to zero.
 *
 * Needs no root (raw sockets need no privilege in rumpnet), no DPDK, no
 * network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/ioctl.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "rumpnet/bus.h"
#include "rumpnet/event.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

#ifndef SO_PROTOCOL
#define SO_PROTOCOL 38		/* Linux; hidden by -std=c11 */
#endif

static const uint8_t MAC_K[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC_T[6] = { 0x02, 0, 0, 0, 0, 0x7e };	/* the tap */
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define IP_K "198.18.0.1"
#define IP_T "198.18.0.126"
#define IP_T2 "198.18.0.125"		/* a second host behind the tap */
#define IP_BC "198.18.0.255"
#define PROTO_X 253			/* RFC 3692: for experiments */

struct rnet {
	struct rump_bus *bus;
	struct rump_bus_tap *tap;
	struct rump_kernel *k;
	unsigned ifx;
};

static uint64_t
stat(struct rump_kernel *k, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(rump_stat_get(k, name, &v), 0);
	return v;
}

/*
 * The instance with the tap on its bus; the gratuitous ARP is consumed,
 * the tap's two addresses are known statically, and the calling thread
 * is bound to the instance.
 */
static void
rsetup(struct rnet *n)
{
	uint8_t frame[128];
	size_t len;

	memset(n, 0, sizeof(*n));
	assert_int_equal(rump_bus_create(NULL, &n->bus), 0);
	assert_int_equal(rump_bus_tap_open(n->bus, MAC_T, &n->tap), 0);
	n->k = th_kernel(pkt_mode(), RUMP_CLOCK_VIRTUAL, 1);
	assert_int_equal(rump_bus_attach(n->bus, n->k, "bus0", MAC_K,
	    &n->ifx), 0);
	assert_int_equal(rump_if_up(n->k, n->ifx), 0);
	assert_int_equal(rump_if_addr_add(n->k, n->ifx, ip(IP_K), 24), 0);
	assert_int_equal(rump_bus_tap_recv(n->tap, frame, sizeof(frame), &len,
	    5000), 0);
	assert_memory_equal(frame, BCAST, 6);	/* the announcement */
	assert_int_equal(rump_arp_add(n->k, n->ifx, ip(IP_T), MAC_T), 0);
	assert_int_equal(rump_arp_add(n->k, n->ifx, ip(IP_T2), MAC_T), 0);
	as(n->k);
}

static void
rteardown(struct rnet *n)
{
	(void)rump_thread_unbind();
	/* frames in flight hold mbufs: let them land first */
	assert_int_equal(rump_bus_quiesce(n->bus, 5000), 0);
	rump_bus_tap_close(n->tap);
	th_kernel_destroy(n->k);
	assert_int_equal(rump_bus_destroy(n->bus), 0);
}

/* Put a frame on the bus from the tap and let the instance take it in. */
static void
tap_put(struct rnet *n, const uint8_t *f, size_t len)
{
	assert_int_equal(rump_bus_tap_send(n->tap, f, len), 0);
	assert_int_equal(rump_bus_quiesce(n->bus, 5000), 0);
}

/* The next frame the tap received (it must come). */
static size_t
tap_get(struct rnet *n, uint8_t *buf, size_t size)
{
	size_t len = 0;

	assert_int_equal(rump_bus_tap_recv(n->tap, buf, size, &len, 5000), 0);
	return len;
}

/* The instance sent nothing more. */
static void
tap_none(struct rnet *n)
{
	uint8_t buf[64];
	size_t len;

	assert_int_equal(rump_bus_quiesce(n->bus, 5000), 0);
	assert_int_equal(rump_bus_tap_recv(n->tap, buf, sizeof(buf), &len, 0),
	    EAGAIN);
}

/*
 * A frame from the tap to the instance: Ethernet, an IPv4 header (id,
 * off) and plen bytes of payload.  Returns its length.
 */
static size_t
frame_ip(uint8_t *f, const char *src, const char *dst, uint8_t proto,
    uint16_t id, uint16_t off, const void *payload, size_t plen)
{
	size_t n = eth(f, MAC_K, MAC_T, 0x0800);

	n += ipv4(f + n, NULL, 0, (uint16_t)(20 + plen), id, off, 64, proto,
	    src, dst);
	memcpy(f + n, payload, plen);
	return n + plen;
}

/* An ICMP echo request/reply with datalen bytes of pattern. */
static size_t
icmp_echo(uint8_t *f, uint8_t type, uint16_t id, uint16_t seq,
    size_t datalen)
{
	uint16_t c;

	f[0] = type;
	f[1] = 0;
	f[2] = f[3] = 0;
	f[4] = (uint8_t)(id >> 8);
	f[5] = (uint8_t)id;
	f[6] = (uint8_t)(seq >> 8);
	f[7] = (uint8_t)seq;
	for (size_t i = 0; i < datalen; i++)
		f[8 + i] = (uint8_t)(i * 7 + 3);
	c = ref_cksum(f, 8 + datalen, 0);
	memcpy(f + 2, &c, 2);
	return 8 + datalen;
}

static int
raw_socket(int proto)
{
	int fd = rump_sys_socket(AF_INET, SOCK_RAW, proto);

	assert_true(fd >= 0);
	return fd;
}

static void
expect_errno(long ret, int err)
{
	assert_int_equal(ret, -1);
	assert_int_equal(errno, err);
}

static ssize_t
send_to(int fd, const void *buf, size_t len, const char *addr)
{
	struct sockaddr_in to = sa(addr, 0);

	return rump_sys_sendto(fd, buf, len, 0, (struct sockaddr *)&to,
	    sizeof(to));
}

static int
setint(int fd, int level, int name, int v)
{
	return rump_sys_setsockopt(fd, level, name, &v, sizeof(v));
}

static int
getint(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int v = -12345;

	assert_int_equal(rump_sys_getsockopt(fd, level, name, &v, &len), 0);
	assert_int_equal(len, sizeof(int));
	return v;
}

/* ---- ICMP ---- */

static void
test_raw_icmp_echo(void **state)
{
	struct rnet n;
	uint8_t req[64], f[256], exp[256], buf[256];
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	struct rump_ping_reply pr;
	size_t reqlen, len, elen;
	uint16_t id;
	int fd;

	(void)state;
	rsetup(&n);
	fd = raw_socket(IPPROTO_ICMP);
	assert_int_equal(getint(fd, SOL_SOCKET, SO_TYPE), SOCK_RAW);
	assert_int_equal(getint(fd, SOL_SOCKET, SO_PROTOCOL), IPPROTO_ICMP);
	assert_int_equal(getint(fd, IPPROTO_IP, IP_HDRINCL), 0);
	/* the request: the kernel adds the IP header and nothing else */
	reqlen = icmp_echo(req, 8, 0x4242, 1, 32);
	assert_int_equal(send_to(fd, req, reqlen, IP_T), (ssize_t)reqlen);
	len = tap_get(&n, f, sizeof(f));
	assert_int_equal(len, 14 + 20 + reqlen);
	id = (uint16_t)(f[14 + 4] << 8 | f[14 + 5]);	/* the stack's count */
	elen = eth(exp, MAC_T, MAC_K, 0x0800);
	elen += ipv4(exp + elen, NULL, 0, (uint16_t)(20 + reqlen), id, 0, 64,
	    IPPROTO_ICMP, IP_K, IP_T);
	memcpy(exp + elen, req, reqlen);
	assert_memory_equal(f, exp, len);
	assert_int_equal(stat(n.k, "raw.opackets"), 1);
	/* nothing to read yet */
	expect_errno(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);

	/* the reply, read back with its IP header exactly as sent */
	reqlen = icmp_echo(req, 0, 0x4242, 1, 32);
	len = frame_ip(f, IP_T, IP_K, IPPROTO_ICMP, 0x7777, 0, req, reqlen);
	tap_put(&n, f, len);
	assert_int_equal(rump_sys_recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
	    (struct sockaddr *)&from, &fromlen), (ssize_t)(len - 14));
	assert_memory_equal(buf, f + 14, len - 14);
	assert_int_equal(fromlen, sizeof(from));
	assert_int_equal(from.sin_family, AF_INET);
	assert_int_equal(from.sin_addr.s_addr, ip(IP_T));
	assert_int_equal(from.sin_port, 0);
	/* ICMP saw it too */
	assert_int_equal(rump_ping_last(n.k, &pr), 0);
	assert_int_equal(pr.count, 1);
	assert_int_equal(pr.id, 0x4242);
	assert_int_equal(stat(n.k, "ip.rawin"), 1);
	assert_int_equal(stat(n.k, "raw.delivered"), 1);

	/*
	 * An echo request to us: the kernel answers it and, as BSD, keeps
	 * it from raw sockets.
	 */
	reqlen = icmp_echo(req, 8, 0x99, 5, 16);
	len = frame_ip(f, IP_T, IP_K, IPPROTO_ICMP, 0x7778, 0, req, reqlen);
	tap_put(&n, f, len);
	len = tap_get(&n, buf, sizeof(buf));
	assert_int_equal(len, 14 + 20 + reqlen);
	assert_int_equal(buf[14 + 9], IPPROTO_ICMP);
	assert_int_equal(buf[14 + 20], 0);	/* echo reply */
	expect_errno(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	assert_int_equal(stat(n.k, "icmp.reflect"), 1);
	assert_int_equal(stat(n.k, "ip.rawin"), 1);
	/* a short ICMP message is dropped by ICMP, not passed up */
	len = frame_ip(f, IP_T, IP_K, IPPROTO_ICMP, 0x7779, 0, req, 4);
	tap_put(&n, f, len);
	expect_errno(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	assert_int_equal(stat(n.k, "icmp.tooshort"), 1);
	assert_int_equal(rump_sys_close(fd), 0);
	tap_none(&n);
	rteardown(&n);
}

/*
 * SO_TIMESTAMPNS on a raw socket (ping's RTT): each datagram read with its
 * receive time, the first control message; 777 ns of the virtual clock
 * apart, 777 ns apart.
 */
static void
test_raw_timestamp(void **state)
{
	struct rnet n;
	uint8_t req[64], f[256], buf[256];
	uint64_t ctl[8], t[2];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;
	struct cmsghdr *c;
	struct timespec ts;
	size_t reqlen, len;
	int fd, one = 1;

	(void)state;
	rsetup(&n);
	fd = raw_socket(IPPROTO_ICMP);
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS,
	    &one, sizeof(one)), 0);
	reqlen = icmp_echo(req, 0, 0x4242, 1, 32);
	for (int i = 0; i < 2; i++) {
		len = frame_ip(f, IP_T, IP_K, IPPROTO_ICMP,
		    (uint16_t)(0x7777 + i), 0, req, reqlen);
		tap_put(&n, f, len);
		assert_int_equal(rump_clock_advance(n.k, 777), 0);
	}
	for (int i = 0; i < 2; i++) {
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		assert_int_equal(rump_sys_recvmsg(fd, &m, MSG_DONTWAIT),
		    (ssize_t)(len - 14));
		assert_int_equal(m.msg_controllen, CMSG_SPACE(sizeof(ts)));
		c = CMSG_FIRSTHDR(&m);
		assert_int_equal(c->cmsg_level, SOL_SOCKET);
		assert_int_equal(c->cmsg_type, SO_TIMESTAMPNS); /* SCM_ */
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		t[i] = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	assert_int_equal(t[1] - t[0], 777);
	assert_int_equal(rump_sys_close(fd), 0);
	tap_none(&n);
	rteardown(&n);
}

/* An ICMP error reaches raw ICMP sockets after UDP heard of it. */
static void
test_raw_icmp_error_passed_up(void **state)
{
	struct rnet n;
	struct sockaddr_in to = sa(IP_T, 9);
	uint8_t f[256], icmp[128], buf[256];
	size_t len, qlen;
	uint16_t c;
	int rfd, ufd;

	(void)state;
	rsetup(&n);
	rfd = raw_socket(IPPROTO_ICMP);
	ufd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(rump_sys_connect(ufd, (struct sockaddr *)&to,
	    sizeof(to)), 0);
	assert_int_equal(rump_sys_send(ufd, "ping", 4, 0), 4);
	len = tap_get(&n, f, sizeof(f));
	assert_int_equal(len, 14 + 20 + 8 + 4);
	/* port unreachable quoting the IP header and 8 bytes */
	qlen = 20 + 8;
	memset(icmp, 0, 8);
	icmp[0] = 3;
	icmp[1] = 3;
	memcpy(icmp + 8, f + 14, qlen);
	c = ref_cksum(icmp, 8 + qlen, 0);
	memcpy(icmp + 2, &c, 2);
	len = frame_ip(f, IP_T, IP_K, IPPROTO_ICMP, 1, 0, icmp, 8 + qlen);
	tap_put(&n, f, len);
	assert_int_equal(rump_sys_recv(rfd, buf, sizeof(buf), MSG_DONTWAIT),
	    (ssize_t)(20 + 8 + qlen));
	assert_memory_equal(buf, f + 14, 20 + 8 + qlen);
	expect_errno(rump_sys_recv(ufd, buf, sizeof(buf), MSG_DONTWAIT),
	    ECONNREFUSED);
	assert_int_equal(rump_sys_close(ufd), 0);
	assert_int_equal(rump_sys_close(rfd), 0);
	rteardown(&n);
}

/* ---- output ---- */

static void
test_raw_ttl_tos(void **state)
{
	struct rnet n;
	uint8_t f[256], exp[256];
	size_t len, elen;
	int fd;

	(void)state;
	rsetup(&n);
	fd = raw_socket(PROTO_X);
	assert_int_equal(getint(fd, SOL_SOCKET, SO_PROTOCOL), PROTO_X);
	assert_int_equal(getint(fd, IPPROTO_IP, IP_TTL), 64);
	assert_int_equal(getint(fd, IPPROTO_IP, IP_TOS), 0);
	assert_int_equal(setint(fd, IPPROTO_IP, IP_TTL, 7), 0);
	assert_int_equal(setint(fd, IPPROTO_IP, IP_TOS, 0x10), 0);
	assert_int_equal(getint(fd, IPPROTO_IP, IP_TTL), 7);
	assert_int_equal(getint(fd, IPPROTO_IP, IP_TOS), 0x10);
	expect_errno(setint(fd, IPPROTO_IP, IP_TTL, 0), EINVAL);
	expect_errno(setint(fd, IPPROTO_IP, IP_TTL, 256), EINVAL);
	expect_errno(setint(fd, IPPROTO_IP, IP_TOS, 256), EINVAL);
	expect_errno(rump_sys_setsockopt(fd, IPPROTO_IP, IP_TTL, "x", 1),
	    EINVAL);
	expect_errno(setint(fd, IPPROTO_IP, 99, 1), ENOPROTOOPT);
	expect_errno(setint(fd, IPPROTO_TCP, 1, 1), ENOPROTOOPT);
	assert_int_equal(send_to(fd, "abcdefgh", 8, IP_T), 8);
	len = tap_get(&n, f, sizeof(f));
	elen = eth(exp, MAC_T, MAC_K, 0x0800);
	elen += ipv4(exp + elen, NULL, 0, 28, (uint16_t)(f[18] << 8 | f[19]),
	    0, 7, PROTO_X, IP_K, IP_T);
	exp[14 + 1] = 0x10;		/* tos, then the checksum again */
	exp[14 + 10] = exp[14 + 11] = 0;
	uint16_t c = ref_cksum(exp + 14, 20, 0);
	memcpy(exp + 14 + 10, &c, 2);
	memcpy(exp + elen, "abcdefgh", 8);
	assert_int_equal(len, elen + 8);
	assert_memory_equal(f, exp, len);
	/* -1 is the default again (Linux) */
	assert_int_equal(setint(fd, IPPROTO_IP, IP_TTL, -1), 0);
	assert_int_equal(getint(fd, IPPROTO_IP, IP_TTL), 64);
	assert_int_equal(rump_sys_close(fd), 0);
	rteardown(&n);
}

/* A header built here: 20 bytes + opts, ip_len = 20 + optlen + dlen. */
static size_t
user_hdr(uint8_t *h, const uint8_t *opts, size_t optlen, size_t dlen,
    uint16_t id, uint16_t off, const char *src, const char *dst)
{
	size_t hl = ipv4(h, opts, optlen, (uint16_t)(20 + optlen + dlen), id,
	    off, 9, PROTO_X, src, dst);

	for (size_t i = 0; i < dlen; i++)
		h[hl + i] = (uint8_t)(0xa0 + i);
	return hl + dlen;
}

static void
test_raw_hdrincl(void **state)
{
	struct rnet n;
	uint8_t h[2100], f[2200], exp[256];
	const uint8_t nops[4] = { 1, 1, 1, 0 };
	const uint8_t badopt[4] = { 7, 0, 4, 0 };	/* RR of length 0 */
	const uint8_t badptr[4] = { 7, 3, 2, 0 };	/* RR pointer 2 */
	size_t len, hlen;
	int fd, fdr;

	(void)state;
	rsetup(&n);
	fd = raw_socket(PROTO_X);
	assert_int_equal(setint(fd, IPPROTO_IP, IP_HDRINCL, 1), 0);
	assert_int_equal(getint(fd, IPPROTO_IP, IP_HDRINCL), 1);
	/* taken as written; only the checksum is the kernel's */
	hlen = user_hdr(h, NULL, 0, 40, 0x1234, 0, IP_K, IP_T);
	memcpy(exp, h, hlen);
	h[10] = 0xde;
	h[11] = 0xad;
	assert_int_equal(send_to(fd, h, hlen, IP_T), (ssize_t)hlen);
	len = tap_get(&n, f, sizeof(f));
	assert_int_equal(len, 14 + hlen);
	assert_memory_equal(f + 14, exp, hlen);
	/* with options, which go as they are */
	hlen = user_hdr(h, nops, 4, 8, 0x1235, 0, IP_K, IP_T);
	assert_int_equal(send_to(fd, h, hlen, IP_T), (ssize_t)hlen);
	len = tap_get(&n, f, sizeof(f));
	assert_int_equal(len, 14 + hlen);
	assert_memory_equal(f + 14, h, hlen);
	/*
	 * ip_id 0, source 0 and destination 0: the kernel's next id, the
	 * route's source, the sendto() address
	 */
	hlen = user_hdr(h, NULL, 0, 8, 0, 0, "0.0.0.0", "0.0.0.0");
	assert_int_equal(send_to(fd, h, hlen, IP_T), (ssize_t)hlen);
	len = tap_get(&n, f, sizeof(f));
	assert_int_equal(len, 14 + hlen);
	assert_memory_equal(f, MAC_T, 6);
	assert_memory_equal(f + 14 + 12, &(uint32_t){ ip(IP_K) }, 4);
	assert_memory_equal(f + 14 + 16, &(uint32_t){ ip(IP_T) }, 4);
	assert_int_equal(ref_cksum(f + 14, 20, 0), 0);	/* sums to ones */
	assert_int_equal(stat(n.k, "raw.badhdr"), 0);

	/* refused: EINVAL, counted, nothing sent */
	hlen = user_hdr(h, NULL, 0, 8, 1, 0, IP_K, IP_T);
	expect_errno(send_to(fd, h, hlen - 1, IP_T), EINVAL);	/* ip_len */
	h[3]--;
	expect_errno(send_to(fd, h, hlen, IP_T), EINVAL);	/* other way */
	h[3]++;
	expect_errno(send_to(fd, h, 19, IP_T), EINVAL);		/* short */
	h[0] = 0x65;
	expect_errno(send_to(fd, h, hlen, IP_T), EINVAL);	/* version 6 */
	h[0] = 0x44;
	expect_errno(send_to(fd, h, hlen, IP_T), EINVAL);	/* IHL 4 */
	h[0] = 0x4f;
	expect_errno(send_to(fd, h, hlen, IP_T), EINVAL);	/* IHL > len */
	hlen = user_hdr(h, badopt, 4, 8, 1, 0, IP_K, IP_T);
	expect_errno(send_to(fd, h, hlen, IP_T), EINVAL);
	hlen = user_hdr(h, badptr, 4, 8, 1, 0, IP_K, IP_T);
	expect_errno(send_to(fd, h, hlen, IP_T), EINVAL);
	assert_int_equal(stat(n.k, "raw.badhdr"), 8);
	tap_none(&n);

	/* larger than the MTU with DF: EMSGSIZE; without: fragments */
	hlen = user_hdr(h, NULL, 0, 2000, 0x2000, 0x4000, IP_K, IP_T);
	expect_errno(send_to(fd, h, hlen, IP_T), EMSGSIZE);
	hlen = user_hdr(h, NULL, 0, 2000, 0x2001, 0, IP_K, IP_T);
	assert_int_equal(send_to(fd, h, hlen, IP_T), (ssize_t)hlen);
	len = tap_get(&n, f, sizeof(f));
	assert_int_equal(len, 14 + 1500);
	assert_int_equal(f[14 + 6] << 8 | f[14 + 7], 0x2000);	/* MF, 0 */
	assert_int_equal(f[14 + 4] << 8 | f[14 + 5], 0x2001);	/* our id */
	len = tap_get(&n, f, sizeof(f));
	assert_int_equal(len, 14 + 20 + 2000 - 1480);
	assert_int_equal(f[14 + 6] << 8 | f[14 + 7], 1480 / 8);
	assert_memory_equal(f + 34, h + 20 + 1480, 2000 - 1480);

	/* IPPROTO_RAW: the header is always the user's */
	fdr = raw_socket(IPPROTO_RAW);
	assert_int_equal(getint(fdr, IPPROTO_IP, IP_HDRINCL), 1);
	expect_errno(setint(fdr, IPPROTO_IP, IP_HDRINCL, 0), EINVAL);
	assert_int_equal(setint(fdr, IPPROTO_IP, IP_HDRINCL, 1), 0);
	hlen = user_hdr(h, NULL, 0, 8, 0x3000, 0, IP_K, IP_T);
	h[9] = IPPROTO_UDP;
	assert_int_equal(send_to(fdr, h, hlen, IP_T), (ssize_t)hlen);
	len = tap_get(&n, f, sizeof(f));
	assert_int_equal(len, 14 + hlen);
	assert_int_equal(f[14 + 9], IPPROTO_UDP);
	assert_int_equal(ref_cksum(f + 14, 20, 0), 0);
	assert_int_equal(rump_sys_close(fdr), 0);
	assert_int_equal(rump_sys_close(fd), 0);
	tap_none(&n);
	rteardown(&n);
}

static void
test_raw_fragments_and_sizes(void **state)
{
	struct rnet n;
	static uint8_t data[65536];
	uint8_t f[2048];
	size_t len;
	int fd, off = 0;

	(void)state;
	rsetup(&n);
	fd = raw_socket(PROTO_X);
	for (size_t i = 0; i < 3000; i++)
		data[i] = (uint8_t)(i * 31);
	/* 3000 bytes behind a kernel header: 1480 + 1480 + 40 */
	assert_int_equal(send_to(fd, data, 3000, IP_T), 3000);
	for (int i = 0; i < 3; i++) {
		int plen = i < 2 ? 1480 : 40;
		uint16_t fo;

		len = tap_get(&n, f, sizeof(f));
		assert_int_equal(len, 14 + 20 + (size_t)plen);
		fo = (uint16_t)(f[14 + 6] << 8 | f[14 + 7]);
		assert_int_equal(fo & 0x1fff, off / 8);
		assert_int_equal((fo & 0x2000) != 0, i < 2);
		assert_int_equal(f[14 + 9], PROTO_X);
		assert_memory_equal(f + 34, data + off, (size_t)plen);
		off += plen;
	}
	/* 65515 bytes is the most a kernel header leaves room for */
	expect_errno(send_to(fd, data, 65516, IP_T), EMSGSIZE);
	expect_errno(send_to(fd, data, 65536, IP_T), EMSGSIZE);
	assert_int_equal(rump_sys_close(fd), 0);
	tap_none(&n);
	rteardown(&n);
}

static void
test_raw_send_errors_and_broadcast(void **state)
{
	struct rnet n;
	struct sockaddr_in got;
	socklen_t glen = sizeof(got);
	uint8_t f[256];
	size_t len;
	int fd;

	(void)state;
	rsetup(&n);
	expect_errno(rump_sys_socket(AF_INET, SOCK_RAW, 256), EPROTONOSUPPORT);
	expect_errno(rump_sys_socket(AF_INET, SOCK_RAW, -1), EPROTONOSUPPORT);
	fd = raw_socket(PROTO_X);
	expect_errno(rump_sys_send(fd, "x", 1, 0), EDESTADDRREQ);
	expect_errno(rump_sys_listen(fd, 1), EOPNOTSUPP);
	expect_errno(rump_sys_accept(fd, NULL, NULL), EOPNOTSUPP);
	expect_errno(rump_sys_getpeername(fd, (struct sockaddr *)&got, &glen),
	    ENOTCONN);
	/* a broadcast needs SO_BROADCAST (EACCES, as BSD) */
	expect_errno(send_to(fd, "b", 1, IP_BC), EACCES);
	expect_errno(send_to(fd, "b", 1, "255.255.255.255"), EACCES);
	assert_int_equal(setint(fd, SOL_SOCKET, SO_BROADCAST, 1), 0);
	assert_int_equal(send_to(fd, "b", 1, IP_BC), 1);
	len = tap_get(&n, f, sizeof(f));
	assert_int_equal(len, 14 + 21);
	assert_memory_equal(f, BCAST, 6);
	assert_memory_equal(f + 14 + 16, &(uint32_t){ ip(IP_BC) }, 4);
	/* no route */
	expect_errno(send_to(fd, "x", 1, "203.0.113.1"), EHOSTUNREACH);
	/* bind: one of our addresses, a broadcast or a group one, or any */
	struct sockaddr_in b = sa("198.18.0.200", 0);
	expect_errno(rump_sys_bind(fd, (struct sockaddr *)&b, sizeof(b)),
	    EADDRNOTAVAIL);
	b = sa(IP_K, 0);
	assert_int_equal(rump_sys_bind(fd, (struct sockaddr *)&b, sizeof(b)),
	    0);
	assert_int_equal(rump_sys_getsockname(fd, (struct sockaddr *)&got,
	    &glen), 0);
	assert_int_equal(got.sin_addr.s_addr, ip(IP_K));
	assert_int_equal(got.sin_port, 0);
	/* not connected: ENOTCONN, but shut all the same (Linux) */
	expect_errno(rump_sys_shutdown(fd, SHUT_WR), ENOTCONN);
	expect_errno(rump_sys_sendto(fd, "x", 1, MSG_NOSIGNAL,
	    (struct sockaddr *)&b, sizeof(b)), EPIPE);
	assert_int_equal(rump_sys_close(fd), 0);
	tap_none(&n);
	rteardown(&n);
}

/* ---- input ---- */

static void
test_raw_unknown_protocol(void **state)
{
	struct rnet n;
	uint8_t f[256], buf[256];
	size_t len;
	int fd, fdany;

	(void)state;
	rsetup(&n);
	fd = raw_socket(PROTO_X);
	len = frame_ip(f, IP_T, IP_K, PROTO_X, 0x100, 0, "experiment", 10);
	tap_put(&n, f, len);
	assert_int_equal(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT),
	    30);
	assert_memory_equal(buf, f + 14, 30);
	/* the protocol was there: no unreachable, no noproto */
	tap_none(&n);
	assert_int_equal(stat(n.k, "ip.rawin"), 1);
	assert_int_equal(stat(n.k, "ip.delivered"), 1);
	assert_int_equal(stat(n.k, "ip.noproto"), 0);
	assert_int_equal(stat(n.k, "icmp.out.unreach"), 0);
	/* another protocol nobody has: protocol unreachable */
	len = frame_ip(f, IP_T, IP_K, PROTO_X + 1, 0x101, 0, "nobody", 6);
	tap_put(&n, f, len);
	len = tap_get(&n, buf, sizeof(buf));
	assert_int_equal(len, 14 + 20 + 8 + 20 + 6);
	assert_int_equal(buf[14 + 9], IPPROTO_ICMP);
	assert_int_equal(buf[14 + 20], 3);	/* unreachable */
	assert_int_equal(buf[14 + 21], 2);	/* protocol */
	assert_memory_equal(buf + 14 + 28, f + 14, 26);
	assert_int_equal(stat(n.k, "ip.noproto"), 1);
	expect_errno(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	/* protocol 0 takes every protocol raw sockets see, ICMP too */
	fdany = raw_socket(0);
	len = frame_ip(f, IP_T, IP_K, PROTO_X, 0x102, 0, "both", 4);
	tap_put(&n, f, len);
	assert_int_equal(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 24);
	assert_int_equal(rump_sys_recv(fdany, buf, sizeof(buf), MSG_DONTWAIT),
	    24);
	assert_memory_equal(buf, f + 14, 24);
	uint8_t icmp[16];
	size_t ilen = icmp_echo(icmp, 0, 1, 1, 8);
	len = frame_ip(f, IP_T, IP_K, IPPROTO_ICMP, 0x103, 0, icmp, ilen);
	tap_put(&n, f, len);
	assert_int_equal(rump_sys_recv(fdany, buf, sizeof(buf), MSG_DONTWAIT),
	    (ssize_t)(20 + ilen));
	expect_errno(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	/* TCP and UDP are not passed up (BSD) */
	len = frame_ip(f, IP_T, IP_K, IPPROTO_UDP, 0x104, 0,
	    "\x30\x39\x00\x09\x00\x0c\x00\x00udp!", 12);
	tap_put(&n, f, len);
	expect_errno(rump_sys_recv(fdany, buf, sizeof(buf), MSG_DONTWAIT),
	    EAGAIN);
	(void)tap_get(&n, buf, sizeof(buf));	/* UDP's port unreachable */
	assert_int_equal(stat(n.k, "udp.noport"), 1);
	assert_int_equal(rump_sys_close(fdany), 0);
	/* once the socket is gone, the protocol is unreachable */
	assert_int_equal(rump_sys_close(fd), 0);
	len = frame_ip(f, IP_T, IP_K, PROTO_X, 0x105, 0, "gone", 4);
	tap_put(&n, f, len);
	len = tap_get(&n, buf, sizeof(buf));
	assert_int_equal(buf[14 + 20], 3);
	assert_int_equal(buf[14 + 21], 2);
	assert_int_equal(stat(n.k, "ip.noproto"), 2);
	tap_none(&n);
	rteardown(&n);
}

/* Fragments go up reassembled, with the header ip_reass() made. */
static void
test_raw_reassembled(void **state)
{
	struct rnet n;
	uint8_t f[256], buf[256], data[64], hdr[20];
	size_t len;
	int fd;

	(void)state;
	rsetup(&n);
	fd = raw_socket(PROTO_X);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i + 1);
	len = frame_ip(f, IP_T, IP_K, PROTO_X, 0x500, 0x2000, data, 32);
	tap_put(&n, f, len);
	expect_errno(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	len = frame_ip(f, IP_T, IP_K, PROTO_X, 0x500, 32 / 8, data + 32, 32);
	tap_put(&n, f, len);
	assert_int_equal(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT),
	    20 + 64);
	(void)ipv4(hdr, NULL, 0, 84, 0x500, 0, 64, PROTO_X, IP_T, IP_K);
	assert_memory_equal(buf, hdr, 20);
	assert_memory_equal(buf + 20, data, 64);
	assert_int_equal(stat(n.k, "ip.reassembled"), 1);
	assert_int_equal(rump_sys_close(fd), 0);
	rteardown(&n);
}

/* connect() and bind() filter what a raw socket receives. */
static void
test_raw_connect_bind_filter(void **state)
{
	struct rnet n;
	struct sockaddr_in peer = sa(IP_T, 0), got, un = { .sin_family =
	    AF_UNSPEC };
	socklen_t glen = sizeof(got);
	uint8_t f[256], buf[256];
	size_t len;
	int fd;

	(void)state;
	rsetup(&n);
	fd = raw_socket(PROTO_X);
	assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&peer,
	    sizeof(peer)), 0);
	assert_int_equal(rump_sys_getpeername(fd, (struct sockaddr *)&got,
	    &glen), 0);
	assert_int_equal(got.sin_addr.s_addr, ip(IP_T));
	/* from another host: not ours to read, so the protocol is missing */
	len = frame_ip(f, IP_T2, IP_K, PROTO_X, 0x600, 0, "other", 5);
	tap_put(&n, f, len);
	expect_errno(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	len = tap_get(&n, buf, sizeof(buf));
	assert_int_equal(buf[14 + 20], 3);	/* unreachable, to .125 */
	assert_memory_equal(buf + 14 + 16, &(uint32_t){ ip(IP_T2) }, 4);
	/* from the peer */
	len = frame_ip(f, IP_T, IP_K, PROTO_X, 0x601, 0, "peer", 4);
	tap_put(&n, f, len);
	assert_int_equal(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 24);
	assert_memory_equal(buf + 20, "peer", 4);
	/* send() goes to the peer; sendto() where it says (Linux) */
	assert_int_equal(rump_sys_send(fd, "to peer", 7, 0), 7);
	len = tap_get(&n, buf, sizeof(buf));
	assert_memory_equal(buf + 14 + 16, &(uint32_t){ ip(IP_T) }, 4);
	assert_memory_equal(buf + 34, "to peer", 7);
	assert_int_equal(send_to(fd, "x", 1, IP_T2), 1);
	len = tap_get(&n, buf, sizeof(buf));
	assert_int_equal(len, 14 + 20 + 1);
	assert_memory_equal(buf + 14 + 16, &(uint32_t){ ip(IP_T2) }, 4);
	assert_int_equal(buf[34], 'x');
	/* AF_UNSPEC dissolves the association: .125 gets through */
	assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&un,
	    sizeof(un)), 0);
	expect_errno(rump_sys_getpeername(fd, (struct sockaddr *)&got, &glen),
	    ENOTCONN);
	len = frame_ip(f, IP_T2, IP_K, PROTO_X, 0x602, 0, "other", 5);
	tap_put(&n, f, len);
	assert_int_equal(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 25);
	/* bound to our address: the subnet broadcast is not for it */
	struct sockaddr_in me = sa(IP_K, 0);
	assert_int_equal(rump_sys_bind(fd, (struct sockaddr *)&me,
	    sizeof(me)), 0);
	len = frame_ip(f, IP_T, IP_BC, PROTO_X, 0x603, 0, "bcast", 5);
	memcpy(f, BCAST, 6);
	tap_put(&n, f, len);
	expect_errno(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	len = frame_ip(f, IP_T, IP_K, PROTO_X, 0x604, 0, "unicast", 7);
	tap_put(&n, f, len);
	assert_int_equal(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 27);
	assert_int_equal(rump_sys_close(fd), 0);
	/* the broadcast got no unreachable (RFC 1122 3.2.2) */
	tap_none(&n);
	/*
	 * bound to the subnet broadcast, as Linux's raw_bind() allows: that
	 * broadcast only, and sends from our address
	 */
	struct sockaddr_in bc = sa(IP_BC, 0);
	fd = raw_socket(PROTO_X);
	assert_int_equal(rump_sys_bind(fd, (struct sockaddr *)&bc,
	    sizeof(bc)), 0);
	len = frame_ip(f, IP_T, IP_K, PROTO_X, 0x605, 0, "unicast", 7);
	tap_put(&n, f, len);
	expect_errno(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	len = tap_get(&n, buf, sizeof(buf));
	assert_int_equal(buf[14 + 20], 3);	/* protocol unreachable */
	len = frame_ip(f, IP_T, IP_BC, PROTO_X, 0x606, 0, "bcast", 5);
	memcpy(f, BCAST, 6);
	tap_put(&n, f, len);
	assert_int_equal(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 25);
	assert_memory_equal(buf + 20, "bcast", 5);
	assert_int_equal(send_to(fd, "s", 1, IP_T), 1);
	len = tap_get(&n, buf, sizeof(buf));
	assert_int_equal(len, 14 + 20 + 1);
	assert_memory_equal(buf + 14 + 12, &(uint32_t){ ip(IP_K) }, 4);
	assert_memory_equal(buf + 14 + 16, &(uint32_t){ ip(IP_T) }, 4);
	assert_int_equal(rump_sys_close(fd), 0);
	tap_none(&n);
	rteardown(&n);
}

static void
test_raw_full_buffer_counted(void **state)
{
	struct rnet n;
	uint8_t f[256], buf[256], data[100];
	size_t len;
	int fd, got = 0;

	(void)state;
	rsetup(&n);
	fd = raw_socket(PROTO_X);
	/*
	 * 1024, doubled as Linux: 2048 bytes hold three 120-byte datagrams,
	 * each costing its bytes and two mbufs (632)
	 */
	assert_int_equal(setint(fd, SOL_SOCKET, SO_RCVBUF, 1024), 0);
	assert_int_equal(getint(fd, SOL_SOCKET, SO_RCVBUF), 2048);
	memset(data, 0x5a, sizeof(data));
	for (int i = 0; i < 10; i++) {
		data[0] = (uint8_t)i;
		len = frame_ip(f, IP_T, IP_K, PROTO_X, (uint16_t)(0x700 + i),
		    0, data, sizeof(data));
		tap_put(&n, f, len);
	}
	assert_int_equal(stat(n.k, "raw.delivered"), 3);
	assert_int_equal(stat(n.k, "raw.fullsock"), 7);
	/* matched, so no unreachable for the dropped ones */
	assert_int_equal(stat(n.k, "ip.noproto"), 0);
	while (rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == 120) {
		assert_int_equal(buf[20], got);
		got++;
	}
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(got, 3);
	/* room again */
	tap_put(&n, f, len);
	assert_int_equal(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT),
	    120);
	assert_int_equal(rump_sys_close(fd), 0);
	tap_none(&n);
	rteardown(&n);
}

/* ---- readiness, blocking, close ---- */

struct reader {
	struct rump_kernel *k;
	int fd;
	bool poll;		/* poll(-1) first, then recv */
	_Atomic long got;
	_Atomic int err;
};

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	uint8_t buf[256];
	long got;

	assert_int_equal(rump_thread_bind(r->k), 0);
	if (r->poll) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };

		if (rump_sys_poll(&p, 1, -1) != 1 || p.revents != POLLIN) {
			atomic_store(&r->err, -1);
			atomic_store(&r->got, -1);
			(void)rump_thread_unbind();
			return NULL;
		}
	}
	got = rump_sys_recv(r->fd, buf, sizeof(buf), 0);
	atomic_store(&r->err, got < 0 ? errno : 0);
	atomic_store(&r->got, got);
	(void)rump_thread_unbind();
	return NULL;
}

static void
test_raw_poll_kevent_and_wakeups(void **state)
{
	struct rnet n;
	struct reader r = { 0 };
	struct timespec zero = { 0, 0 };
	struct kevent ch, ev[2];
	struct pollfd p;
	uint8_t f[256];
	pthread_t t;
	size_t len;
	int fd, kq, v;

	(void)state;
	rsetup(&n);
	fd = raw_socket(PROTO_X);
	kq = rump_sys_kqueue();
	assert_true(kq >= 0);
	EV_SET(&ch, (uintptr_t)fd, EVFILT_READ, EV_ADD, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, &ch, 1, ev, 2, &zero), 0);
	p = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT };
	assert_int_equal(rump_sys_poll(&p, 1, 0), 1);
	assert_int_equal(p.revents, POLLOUT);
	len = frame_ip(f, IP_T, IP_K, PROTO_X, 0x800, 0, "ready", 5);
	tap_put(&n, f, len);
	assert_int_equal(rump_sys_poll(&p, 1, 0), 1);
	assert_int_equal(p.revents, POLLIN | POLLOUT);
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 2, &zero), 1);
	assert_int_equal(ev[0].filter, EVFILT_READ);
	assert_int_equal(ev[0].data, 25);
	assert_int_equal(rump_sys_ioctl(fd, FIONREAD, &v), 0);
	assert_int_equal(v, 25);
	assert_int_equal(rump_sys_recv(fd, f, sizeof(f), 0), 25);
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 2, &zero), 0);
	assert_int_equal(rump_sys_close(kq), 0);

	/* a blocked recv, then a blocked poll, wake when a datagram comes */
	for (int i = 0; i < 2; i++) {
		r.k = n.k;
		r.fd = fd;
		r.poll = i == 1;
		atomic_store(&r.got, -100);
		assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
		th_sleep_ms(20);
		assert_int_equal(atomic_load(&r.got), -100);
		len = frame_ip(f, IP_T, IP_K, PROTO_X, (uint16_t)(0x810 + i),
		    0, "wake", 4);
		assert_int_equal(rump_bus_tap_send(n.tap, f, len), 0);
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_int_equal(atomic_load(&r.got), 24);
	}
	assert_int_equal(rump_sys_close(fd), 0);
	rteardown(&n);
}

/*
 * Closing drops what was queued (the pools say so at teardown); a reader
 * asleep in recv wakes with EBADF; the descriptor is gone.
 */
static void
test_raw_recv_after_close(void **state)
{
	struct rnet n;
	struct reader r = { 0 };
	uint8_t f[256];
	pthread_t t;
	size_t len;
	int fd, fd2;

	(void)state;
	rsetup(&n);
	fd = raw_socket(PROTO_X);
	fd2 = raw_socket(IPPROTO_ICMP);
	for (int i = 0; i < 3; i++) {
		len = frame_ip(f, IP_T, IP_K, PROTO_X, (uint16_t)(0x900 + i), 0,
		    "queued", 6);
		tap_put(&n, f, len);
	}
	assert_int_equal(stat(n.k, "raw.delivered"), 3);
	assert_int_equal(rump_sys_close(fd), 0);
	expect_errno(rump_sys_recv(fd, f, sizeof(f), MSG_DONTWAIT), EBADF);
	expect_errno(rump_sys_close(fd), EBADF);
	/* after the close the protocol is missing again */
	tap_put(&n, f, len);
	assert_int_equal(stat(n.k, "ip.noproto"), 1);
	(void)tap_get(&n, f, sizeof(f));

	r.k = n.k;
	r.fd = fd2;
	atomic_store(&r.got, -100);
	assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
	th_sleep_ms(20);
	assert_int_equal(atomic_load(&r.got), -100);
	assert_int_equal(rump_sys_close(fd2), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(atomic_load(&r.got), -1);
	assert_int_equal(atomic_load(&r.err), EBADF);
	tap_none(&n);
	rteardown(&n);
}

/* The new counters are listed with the others. */
struct seen {
	int rawin, raw;
};

static void
count_names(const char *name, uint64_t value, void *arg)
{
	struct seen *s = arg;

	(void)value;
	if (strcmp(name, "ip.rawin") == 0)
		s->rawin++;
	if (strncmp(name, "raw.", 4) == 0)
		s->raw++;
}

static void
test_raw_counters_listed(void **state)
{
	struct rnet n;
	struct seen s = { 0, 0 };

	(void)state;
	rsetup(&n);
	assert_int_equal(rump_stat_list(n.k, count_names, &s), 0);
	assert_int_equal(s.rawin, 1);
	assert_int_equal(s.raw, 5);
	rteardown(&n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_icmp_echo),
		cmocka_unit_test(test_raw_timestamp),
		cmocka_unit_test(test_raw_icmp_error_passed_up),
		cmocka_unit_test(test_raw_ttl_tos),
		cmocka_unit_test(test_raw_hdrincl),
		cmocka_unit_test(test_raw_fragments_and_sizes),
		cmocka_unit_test(test_raw_send_errors_and_broadcast),
		cmocka_unit_test(test_raw_unknown_protocol),
		cmocka_unit_test(test_raw_reassembled),
		cmocka_unit_test(test_raw_connect_bind_filter),
		cmocka_unit_test(test_raw_full_buffer_counted),
		cmocka_unit_test(test_raw_poll_kevent_and_wakeups),
		cmocka_unit_test(test_raw_recv_after_close),
		cmocka_unit_test(test_raw_counters_listed),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
