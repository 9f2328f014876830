/*
 * test_udp.c -- UDP and the socket API, end to end over the bus: echo
 * between instances, port unreachable -> ECONNREFUSED, broadcast, every
 * malformed UDP header with its counter, the POSIX errors of bad arguments,
 * a three-instance exchange under loss that repeats for a seed, and
 * multicast: memberships, sending, IGMPv2 reports, queries and leaves.
 *
 * Needs no root, no DPDK, no network namespace.
 */
#define _GNU_SOURCE	/* struct ip_mreq, ip_mreqn */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/time.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "rumpnet/bus.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

#define NHOST 3

struct lan {
	struct rump_bus *bus;
	struct rump_bus_tap *tap;
	struct rump_kernel *k[NHOST];
	unsigned ifx[NHOST];
};

static const char *const addrs[NHOST] = {
	"198.18.0.1", "198.18.0.2", "198.18.0.3",
};

static uint64_t
stat(struct rump_kernel *k, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(rump_stat_get(k, name, &v), 0);
	return v;
}

static void
expect_errno(long ret, int err)
{
	assert_int_equal(ret, -1);
	assert_int_equal(errno, err);
}

static void
lan_up(struct lan *l, int nhost, const struct rump_bus_config *cfg)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(rump_bus_create(cfg, &l->bus), 0);
	for (int i = 0; i < nhost; i++) {
		uint8_t mac[6] = { 0x02, 0, 0, 0, 1, (uint8_t)(i + 1) };

		l->k[i] = th_kernel(pkt_mode(), RUMP_CLOCK_VIRTUAL, 1);
		assert_int_equal(rump_bus_attach(l->bus, l->k[i], "bus0", mac,
		    &l->ifx[i]), 0);
		assert_int_equal(rump_if_up(l->k[i], l->ifx[i]), 0);
		assert_int_equal(rump_if_addr_add(l->k[i], l->ifx[i],
		    inet_addr(addrs[i]), 24), 0);
	}
	/* every host knows every other: no ARP in these tests */
	for (int i = 0; i < nhost; i++)
		for (int j = 0; j < nhost; j++) {
			uint8_t mac[6] = { 0x02, 0, 0, 0, 1, (uint8_t)(j + 1) };

			if (i != j)
				assert_int_equal(rump_arp_add(l->k[i], l->ifx[i],
				    inet_addr(addrs[j]), mac), 0);
		}
	assert_int_equal(rump_bus_quiesce(l->bus, 5000), 0);
}

static void
lan_down(struct lan *l)
{
	if (l->tap != NULL)
		rump_bus_tap_close(l->tap);
	/* frames in flight hold mbufs: let them land before the leak check */
	assert_int_equal(rump_bus_quiesce(l->bus, 5000), 0);
	for (int i = 0; i < NHOST; i++)
		if (l->k[i] != NULL)
			th_kernel_destroy(l->k[i]);
	assert_int_equal(rump_bus_destroy(l->bus), 0);
}

/* A UDP socket of instance k bound to port (0: none), on this thread. */
static int
udp_socket(struct rump_kernel *k, const char *addr, uint16_t port)
{
	struct sockaddr_in s = sa(addr, port);
	int fd;

	assert_int_equal(rump_thread_bind(k), 0);
	fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	if (port != 0)
		assert_int_equal(rump_sys_bind(fd, (struct sockaddr *)&s,
		    sizeof(s)), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	return fd;
}

static void
test_udp_echo_between_instances(void **state)
{
	struct lan l;
	struct sockaddr_in to = sa(addrs[1], 7), from;
	socklen_t fromlen = sizeof(from);
	char buf[2000];
	int fa, fb;

	(void)state;
	lan_up(&l, 2, NULL);
	fb = udp_socket(l.k[1], addrs[1], 7);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_sendto(fa, "hello, B", 8, 0,
	    (struct sockaddr *)&to, sizeof(to)), 8);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[1]);
	assert_int_equal(rump_sys_recvfrom(fb, buf, sizeof(buf), 0,
	    (struct sockaddr *)&from, &fromlen), 8);
	assert_memory_equal(buf, "hello, B", 8);
	assert_int_equal(fromlen, sizeof(from));
	assert_int_equal(from.sin_addr.s_addr, inet_addr(addrs[0]));
	assert_true(ntohs(from.sin_port) >= 49152);
	/* echo it back to where it came from */
	assert_int_equal(rump_sys_sendto(fb, buf, 8, 0,
	    (struct sockaddr *)&from, fromlen), 8);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[0]);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(rump_sys_recv(fa, buf, sizeof(buf), 0), 8);
	assert_memory_equal(buf, "hello, B", 8);
	/* a datagram larger than one frame goes in fragments */
	char big[1800];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 13);
	assert_int_equal(rump_sys_sendto(fa, big, sizeof(big), 0,
	    (struct sockaddr *)&to, sizeof(to)), (ssize_t)sizeof(big));
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[1]);
	assert_int_equal(rump_sys_recv(fb, buf, sizeof(buf), 0),
	    (ssize_t)sizeof(big));
	assert_memory_equal(buf, big, sizeof(big));
	assert_int_equal(rump_sys_close(fb), 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_close(fa), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(stat(l.k[1], "udp.delivered"), 2);
	lan_down(&l);
}

static void
test_udp_port_unreachable_econnrefused(void **state)
{
	struct lan l;
	struct sockaddr_in to = sa(addrs[1], 9999);
	char buf[16];
	int fa;

	(void)state;
	lan_up(&l, 2, NULL);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_connect(fa, (struct sockaddr *)&to,
	    sizeof(to)), 0);
	assert_int_equal(rump_sys_send(fa, "x", 1, 0), 1);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(stat(l.k[1], "udp.noport"), 1);
	assert_int_equal(stat(l.k[1], "icmp.out.unreach"), 1);
	errno = 0;
	assert_int_equal(rump_sys_recv(fa, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, ECONNREFUSED);
	/* the error is reported once */
	errno = 0;
	assert_int_equal(rump_sys_recv(fa, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(rump_sys_close(fa), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/*
 * bind() to a broadcast address, as Linux's inet_bind() allows (no
 * SO_BROADCAST needed): the socket hears that broadcast and not the
 * host's unicast, and sends from an address of the host.  TCP refuses
 * such an address.
 */
static void
test_udp_bind_broadcast_address(void **state)
{
	struct sockaddr_in from, bc = sa("198.18.0.255", 5353),
	    uc = sa(addrs[1], 5353), to0 = sa(addrs[0], 5400),
	    lbc = sa("255.255.255.255", 5354), other = sa("198.18.7.255", 0),
	    tb = sa("198.18.0.255", 0);
	socklen_t fromlen = sizeof(from);
	struct lan l;
	char buf[16];
	int one = 1, fa, fb, fl, f0, cfd, s;

	(void)state;
	lan_up(&l, 2, NULL);
	fb = udp_socket(l.k[1], "198.18.0.255", 5353);
	fl = udp_socket(l.k[1], "255.255.255.255", 5354);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	f0 = udp_socket(l.k[0], addrs[0], 5400);
	as(l.k[1]);
	s = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	errno = 0;
	expect_errno(rump_sys_bind(s, (struct sockaddr *)&other,
	    sizeof(other)), EADDRNOTAVAIL);	/* nobody's broadcast here */
	assert_int_equal(rump_sys_close(s), 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_setsockopt(fa, SOL_SOCKET, SO_BROADCAST,
	    &one, sizeof(one)), 0);
	assert_int_equal(rump_sys_sendto(fa, "b", 1, 0, (struct sockaddr *)&bc,
	    sizeof(bc)), 1);
	assert_int_equal(rump_sys_sendto(fa, "l", 1, 0,
	    (struct sockaddr *)&lbc, sizeof(lbc)), 1);
	assert_int_equal(rump_sys_sendto(fa, "u", 1, 0, (struct sockaddr *)&uc,
	    sizeof(uc)), 1);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[1]);
	assert_int_equal(rump_sys_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), 1);
	assert_int_equal(buf[0], 'b');
	assert_int_equal(rump_sys_recv(fl, buf, sizeof(buf), MSG_DONTWAIT), 1);
	assert_int_equal(buf[0], 'l');
	/* the unicast one found no socket: port unreachable */
	errno = 0;
	expect_errno(rump_sys_recv(fb, buf, sizeof(buf), MSG_DONTWAIT),
	    EAGAIN);
	assert_int_equal(stat(l.k[1], "udp.noport"), 1);
	/* their sends go from the interface's address */
	assert_int_equal(rump_sys_sendto(fb, "r", 1, 0, (struct sockaddr *)&to0,
	    sizeof(to0)), 1);
	assert_int_equal(rump_sys_sendto(fl, "s", 1, 0, (struct sockaddr *)&to0,
	    sizeof(to0)), 1);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[0]);
	for (int i = 0; i < 2; i++) {
		fromlen = sizeof(from);
		assert_int_equal(rump_sys_recvfrom(f0, buf, sizeof(buf),
		    MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen), 1);
		assert_int_equal(buf[0], i == 0 ? 'r' : 's');
		assert_int_equal(from.sin_addr.s_addr, inet_addr(addrs[1]));
		assert_int_equal(ntohs(from.sin_port), i == 0 ? 5353 : 5354);
	}
	/* TCP has no broadcast addresses */
	as(l.k[1]);
	cfd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
	errno = 0;
	expect_errno(rump_sys_bind(cfd, (struct sockaddr *)&tb, sizeof(tb)),
	    EADDRNOTAVAIL);
	as(l.k[0]);
	assert_int_equal(rump_sys_close(fa), 0);
	assert_int_equal(rump_sys_close(f0), 0);
	as(l.k[1]);
	assert_int_equal(rump_sys_close(cfd), 0);
	assert_int_equal(rump_sys_close(fb), 0);
	assert_int_equal(rump_sys_close(fl), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

static void
test_udp_broadcast_needs_so_broadcast(void **state)
{
	struct lan l;
	struct sockaddr_in to = sa("198.18.0.255", 5353);
	char buf[16];
	int one = 1, fa, fb, fc;

	(void)state;
	lan_up(&l, 3, NULL);
	fb = udp_socket(l.k[1], "0.0.0.0", 5353);
	fc = udp_socket(l.k[2], "0.0.0.0", 5353);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[0]);
	errno = 0;
	assert_int_equal(rump_sys_sendto(fa, "b", 1, 0, (struct sockaddr *)&to,
	    sizeof(to)), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(rump_sys_setsockopt(fa, SOL_SOCKET, SO_BROADCAST,
	    &one, sizeof(one)), 0);
	assert_int_equal(rump_sys_sendto(fa, "b", 1, 0, (struct sockaddr *)&to,
	    sizeof(to)), 1);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[1]);
	assert_int_equal(rump_sys_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), 1);
	assert_int_equal(rump_sys_close(fb), 0);
	as(l.k[2]);
	assert_int_equal(rump_sys_recv(fc, buf, sizeof(buf), MSG_DONTWAIT), 1);
	assert_int_equal(rump_sys_close(fc), 0);
	/*
	 * the sender's host hears its broadcast too (Linux, BSD), even with
	 * IP_MULTICAST_LOOP off (Linux's ip_mc_output() loops broadcasts
	 * whatever it says)
	 */
	int fl, zero = 0;

	assert_int_equal(rump_thread_unbind(), 0);
	fl = udp_socket(l.k[0], "0.0.0.0", 5353);
	as(l.k[0]);
	assert_int_equal(rump_sys_sendto(fa, "c", 1, 0, (struct sockaddr *)&to,
	    sizeof(to)), 1);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_recv(fl, buf, sizeof(buf), MSG_DONTWAIT), 1);
	assert_int_equal(buf[0], 'c');
	assert_int_equal(rump_sys_setsockopt(fa, IPPROTO_IP, IP_MULTICAST_LOOP,
	    &zero, sizeof(zero)), 0);
	assert_int_equal(rump_sys_sendto(fa, "d", 1, 0, (struct sockaddr *)&to,
	    sizeof(to)), 1);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_recv(fl, buf, sizeof(buf), MSG_DONTWAIT), 1);
	assert_int_equal(buf[0], 'd');
	/* too large with DF (IP_PMTUDISC_DO): EMSGSIZE, and no copy either */
	static char big[2000];
	int dof = IP_PMTUDISC_DO;
	assert_int_equal(rump_sys_setsockopt(fa, IPPROTO_IP, IP_MTU_DISCOVER,
	    &dof, sizeof(dof)), 0);
	expect_errno(rump_sys_sendto(fa, big, sizeof(big), 0,
	    (struct sockaddr *)&to, sizeof(to)), EMSGSIZE);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[0]);
	expect_errno(rump_sys_recv(fl, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	/*
	 * bound to 255.255.255.255 and connected to one peer, a socket
	 * takes broadcasts from that peer only (Linux's
	 * __udp_is_mcast_sock()): fk on host 0, connected to host 2's
	 * 5353, hears host 2's broadcast, not host 1's
	 */
	struct sockaddr_in all = sa("255.255.255.255", 5353),
	    c5353 = sa(addrs[2], 5353);
	int fk, fx;

	assert_int_equal(rump_sys_close(fl), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	fk = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_setsockopt(fk, SOL_SOCKET, SO_BROADCAST,
	    &one, sizeof(one)), 0);
	assert_int_equal(rump_sys_bind(fk, (struct sockaddr *)&all,
	    sizeof(all)), 0);
	assert_int_equal(rump_sys_connect(fk, (struct sockaddr *)&c5353,
	    sizeof(c5353)), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	for (int h = 1; h <= 2; h++) {
		fx = udp_socket(l.k[h], "0.0.0.0", 5353);
		as(l.k[h]);
		assert_int_equal(rump_sys_setsockopt(fx, SOL_SOCKET,
		    SO_BROADCAST, &one, sizeof(one)), 0);
		assert_int_equal(rump_sys_sendto(fx, h == 1 ? "e" : "f", 1, 0,
		    (struct sockaddr *)&all, sizeof(all)), 1);
		assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
		assert_int_equal(rump_sys_close(fx), 0);
		assert_int_equal(rump_thread_unbind(), 0);
	}
	as(l.k[0]);
	assert_int_equal(rump_sys_recv(fk, buf, sizeof(buf), MSG_DONTWAIT), 1);
	assert_int_equal(buf[0], 'f');
	expect_errno(rump_sys_recv(fk, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	assert_int_equal(rump_sys_close(fk), 0);
	assert_int_equal(rump_sys_close(fa), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	/* nobody answers a broadcast with an error (RFC 1122 3.2.2) */
	assert_int_equal(stat(l.k[1], "icmp.out.unreach"), 0);
	lan_down(&l);
}

/* Ethernet + IPv4 + UDP from the tap (198.18.0.126) to host 1. */
static size_t
udp_frame(uint8_t *f, uint16_t dport, const void *data, size_t dlen,
    uint16_t ulen_field, bool with_sum, bool bad_sum)
{
	uint32_t src = inet_addr("198.18.0.126"), dst = inet_addr(addrs[1]);
	const uint8_t dmac[6] = { 0x02, 0, 0, 0, 1, 2 };
	const uint8_t smac[6] = { 0x02, 0, 0, 0, 1, 0x7e };
	uint8_t *ip = f + 14, *uh = ip + 20;
	uint16_t totlen = (uint16_t)(20 + 8 + dlen), c;

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(totlen >> 8);
	ip[3] = (uint8_t)totlen;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	c = ref_cksum(ip, 20, 0);
	memcpy(ip + 10, &c, 2);
	uh[0] = 0x30;
	uh[1] = 0x39;		/* source port 12345 */
	uh[2] = (uint8_t)(dport >> 8);
	uh[3] = (uint8_t)dport;
	uh[4] = (uint8_t)(ulen_field >> 8);
	uh[5] = (uint8_t)ulen_field;
	uh[6] = uh[7] = 0;
	memcpy(uh + 8, data, dlen);
	if (with_sum) {
		uint8_t pseudo[12];
		uint32_t sum = 0;

		memcpy(pseudo, &src, 4);
		memcpy(pseudo + 4, &dst, 4);
		pseudo[8] = 0;
		pseudo[9] = 17;
		pseudo[10] = (uint8_t)((8 + dlen) >> 8);
		pseudo[11] = (uint8_t)(8 + dlen);
		for (int i = 0; i < 12; i += 2)
			sum += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
		c = ref_cksum(uh, 8 + dlen, sum);
		if (bad_sum)
			c ^= 0x0101;
		memcpy(uh + 6, &c, 2);
	}
	return 14 + 20 + 8 + dlen;
}

/*
 * A unicast datagram that came in a link-layer broadcast frame is still
 * for one socket (Linux decides by the IP destination's route), not a
 * copy for each socket on the port.
 */
static void
test_udp_unicast_in_broadcast_frame(void **state)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t tapmac[6] = { 0x02, 0, 0, 0, 1, 0x7e };
	struct lan l;
	uint8_t f[256];
	char buf[16];
	int one = 1, fd[2], got = 0;

	(void)state;
	lan_up(&l, 2, NULL);
	assert_int_equal(rump_bus_tap_open(l.bus, tapmac, &l.tap), 0);
	as(l.k[1]);
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in a = sa("0.0.0.0", 4001);

		fd[i] = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
		assert_int_equal(rump_sys_setsockopt(fd[i], SOL_SOCKET,
		    SO_REUSEADDR, &one, sizeof(one)), 0);
		assert_int_equal(rump_sys_bind(fd[i], (struct sockaddr *)&a,
		    sizeof(a)), 0);
	}
	size_t len = udp_frame(f, 4001, "uni", 3, 11, true, false);
	memcpy(f, bcast, 6);
	assert_int_equal(rump_bus_tap_send(l.tap, f, len), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	for (int i = 0; i < 2; i++)
		got += rump_sys_recv(fd[i], buf, sizeof(buf), MSG_DONTWAIT) == 3;
	assert_int_equal(got, 1);
	assert_int_equal(stat(l.k[1], "udp.delivered"), 1);
	for (int i = 0; i < 2; i++)
		assert_int_equal(rump_sys_close(fd[i]), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

static void
test_udp_bad_headers(void **state)
{
	struct lan l;
	uint8_t f[256];
	char buf[64];
	const uint8_t tapmac[6] = { 0x02, 0, 0, 0, 1, 0x7e };
	int fb;

	(void)state;
	lan_up(&l, 2, NULL);
	assert_int_equal(rump_arp_add(l.k[1], l.ifx[1],
	    inet_addr("198.18.0.126"), tapmac), 0);
	assert_int_equal(rump_bus_tap_open(l.bus, tapmac, &l.tap), 0);
	fb = udp_socket(l.k[1], "0.0.0.0", 4000);
	/* a good one, checksummed */
	size_t len = udp_frame(f, 4000, "good", 4, 12, true, false);
	assert_int_equal(rump_bus_tap_send(l.tap, f, len), 0);
	/* a good one without a checksum (RFC 1122 4.1.3.4: accept) */
	len = udp_frame(f, 4000, "nosum", 5, 13, false, false);
	assert_int_equal(rump_bus_tap_send(l.tap, f, len), 0);
	/* checksum wrong */
	len = udp_frame(f, 4000, "bad", 3, 11, true, true);
	assert_int_equal(rump_bus_tap_send(l.tap, f, len), 0);
	/* UDP length 0 */
	len = udp_frame(f, 4000, "zero", 4, 0, false, false);
	assert_int_equal(rump_bus_tap_send(l.tap, f, len), 0);
	/* UDP length 7, below its own header */
	len = udp_frame(f, 4000, "seven", 5, 7, false, false);
	assert_int_equal(rump_bus_tap_send(l.tap, f, len), 0);
	/* UDP length 100, more than IP carries */
	len = udp_frame(f, 4000, "long", 4, 100, false, false);
	assert_int_equal(rump_bus_tap_send(l.tap, f, len), 0);
	/* an IP datagram too short for a UDP header */
	len = udp_frame(f, 4000, "", 0, 8, false, false);
	f[14 + 3] = 24;		/* ip_len 24: 4 bytes of UDP */
	f[14 + 10] = f[14 + 11] = 0;
	uint16_t c = ref_cksum(f + 14, 20, 0);
	memcpy(f + 14 + 10, &c, 2);
	assert_int_equal(rump_bus_tap_send(l.tap, f, 14 + 24), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);

	assert_int_equal(stat(l.k[1], "udp.ipackets"), 7);
	assert_int_equal(stat(l.k[1], "udp.delivered"), 2);
	assert_int_equal(stat(l.k[1], "udp.nosum"), 1);
	assert_int_equal(stat(l.k[1], "udp.badsum"), 1);
	assert_int_equal(stat(l.k[1], "udp.badlen"), 3);
	assert_int_equal(stat(l.k[1], "udp.hdrops"), 1);
	as(l.k[1]);
	assert_int_equal(rump_sys_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), 4);
	assert_memory_equal(buf, "good", 4);
	assert_int_equal(rump_sys_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), 5);
	assert_memory_equal(buf, "nosum", 5);
	assert_int_equal(rump_sys_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(rump_sys_close(fb), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* ---- bad arguments: POSIX errors, never a crash ---- */

static void
test_socket_api_errors(void **state)
{
	struct lan l;
	struct sockaddr_in s = sa(addrs[0], 5000), got;
	socklen_t glen = sizeof(got);
	char buf[8];
	int fd, fd2, v;

	(void)state;
	lan_up(&l, 1, NULL);
	/* an unbound thread has no instance */
	expect_errno(rump_sys_socket(AF_INET, SOCK_DGRAM, 0), ENXIO);
	as(l.k[0]);
	expect_errno(rump_sys_socket(AF_INET6, SOCK_DGRAM, 0), EAFNOSUPPORT);
	expect_errno(rump_sys_socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP),
	    EPROTONOSUPPORT);
	expect_errno(rump_sys_socket(AF_INET, 0x4000 | SOCK_DGRAM, 0), EINVAL);
	expect_errno(rump_sys_close(42), EBADF);
	expect_errno(rump_sys_send(-1, "x", 1, 0), EBADF);
	fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(fd, 0);	/* the instance's own descriptors */
	expect_errno(rump_sys_bind(fd, NULL, sizeof(s)), EFAULT);
	expect_errno(rump_sys_bind(fd, (struct sockaddr *)&s, 4), EINVAL);
	expect_errno(rump_sys_send(fd, "x", 1, 0), EDESTADDRREQ);
	expect_errno(rump_sys_recv(fd, NULL, 8, MSG_DONTWAIT), EFAULT);
	expect_errno(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	expect_errno(rump_sys_setsockopt(fd, SOL_SOCKET, 999, &v, sizeof(v)),
	    ENOPROTOOPT);
	expect_errno(rump_sys_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, 1),
	    EINVAL);
	expect_errno(rump_sys_getsockopt(fd, SOL_SOCKET, SO_TYPE, NULL, &glen),
	    EFAULT);
	expect_errno(rump_sys_ioctl(fd, 0x1234, &v), ENOTTY);
	expect_errno(rump_sys_fcntl(fd, 99, 0), EINVAL);
	expect_errno(rump_sys_getpeername(fd, (struct sockaddr *)&got, &glen),
	    ENOTCONN);
	expect_errno(rump_sys_listen(fd, 5), EOPNOTSUPP);
	/* listen/accept are for stream sockets; flags are checked first */
	expect_errno(rump_sys_accept(fd, NULL, NULL), EOPNOTSUPP);
	expect_errno(rump_sys_accept4(fd, (struct sockaddr *)&got, &glen,
	    SOCK_NONBLOCK | SOCK_CLOEXEC), EOPNOTSUPP);
	expect_errno(rump_sys_accept4(fd, NULL, NULL, 0x4000), EINVAL);
	expect_errno(rump_sys_accept4(42, NULL, NULL, 0), EBADF);
	glen = sizeof(v);
	v = -1;
	assert_int_equal(rump_sys_getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v,
	    &glen), 0);
	assert_int_equal(v, 0);
	glen = sizeof(got);
	/* not one of our addresses */
	struct sockaddr_in other = sa("198.18.0.200", 5000);
	expect_errno(rump_sys_bind(fd, (struct sockaddr *)&other,
	    sizeof(other)), EADDRNOTAVAIL);
	assert_int_equal(rump_sys_bind(fd, (struct sockaddr *)&s, sizeof(s)),
	    0);
	expect_errno(rump_sys_bind(fd, (struct sockaddr *)&s, sizeof(s)),
	    EINVAL);
	fd2 = rump_sys_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_int_equal(fd2, 1);
	expect_errno(rump_sys_bind(fd2, (struct sockaddr *)&s, sizeof(s)),
	    EADDRINUSE);
	assert_int_equal(rump_sys_fcntl(fd2, F_GETFL, 0) & O_NONBLOCK,
	    O_NONBLOCK);
	expect_errno(rump_sys_recv(fd2, buf, sizeof(buf), 0), EAGAIN);
	assert_int_equal(rump_sys_close(fd2), 0);
	/* SO_REUSEADDR on both shares the port */
	v = 1;
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v,
	    sizeof(v)), 0);
	fd2 = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(rump_sys_setsockopt(fd2, SOL_SOCKET, SO_REUSEADDR, &v,
	    sizeof(v)), 0);
	assert_int_equal(rump_sys_bind(fd2, (struct sockaddr *)&s, sizeof(s)),
	    0);
	glen = sizeof(got);
	assert_int_equal(rump_sys_getsockname(fd2, (struct sockaddr *)&got,
	    &glen), 0);
	assert_int_equal(got.sin_port, htons(5000));
	/* SO_RCVBUF is doubled, as Linux reports it */
	v = 4096;
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v,
	    sizeof(v)), 0);
	glen = sizeof(v);
	assert_int_equal(rump_sys_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v,
	    &glen), 0);
	assert_int_equal(v, 8192);
	glen = sizeof(v);
	assert_int_equal(rump_sys_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v,
	    &glen), 0);
	assert_int_equal(v, SOCK_DGRAM);
	assert_int_equal(rump_sys_close(fd2), 0);
	assert_int_equal(rump_sys_close(fd), 0);
	/* descriptors are reused lowest first */
	assert_int_equal(rump_sys_socket(AF_INET, SOCK_DGRAM, 0), 0);
	/*
	 * left open: instance teardown closes it (the leak check sees it
	 * and its PCB; ASan would see them if teardown did not free them)
	 */
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_kernel_leaks(l.k[0]), 2);
	assert_int_equal(rump_kernel_destroy(l.k[0]), 0);
	l.k[0] = NULL;
	lan_down(&l);
}

/* An int option of fd at level: get, set. */
static int
getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(rump_sys_getsockopt(fd, level, name, &v, &len), 0);
	assert_int_equal(len, sizeof(v));
	return v;
}

static void
setint(int fd, int level, int name, int v)
{
	assert_int_equal(rump_sys_setsockopt(fd, level, name, &v, sizeof(v)),
	    0);
}

static int
ipopt(int fd, int name)
{
	return getint(fd, IPPROTO_IP, name);
}

static void
set_ipopt(int fd, int name, int v)
{
	setint(fd, IPPROTO_IP, name, v);
}

/* recvmsg of a datagram "x" with up to clen bytes of control buffer. */
static struct msghdr *
recv_ctl(int fd, void *ctl, size_t clen)
{
	static char b[16];
	static struct iovec iov = { .iov_base = b, .iov_len = sizeof(b) };
	static struct msghdr m;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = clen;
	assert_int_equal(rump_sys_recvmsg(fd, &m, MSG_DONTWAIT), 1);
	assert_int_equal(b[0], 'x');
	return &m;
}

/*
 * IPPROTO_IP options of a UDP socket, as Linux: IP_TOS and IP_TTL go in
 * the header of what it sends (ECN bits too: a QUIC stack sets them);
 * IP_PKTINFO, IP_RECVTTL and IP_RECVTOS give recvmsg() control messages
 * (in that order, Linux's layout; MSG_CTRUNC when the buffer is short).
 * A broadcast's IP_PKTINFO has the broadcast address and, to answer
 * from, the interface's own.  A TTL out of range: EINVAL; IP_TOS takes
 * the low byte; a value may be one byte; unknown: ENOPROTOOPT.
 */
static void
test_udp_ip_options(void **state)
{
	struct lan l;
	struct sockaddr_in to = sa(addrs[1], 5000);
	uint64_t ctl[64];
	struct {		/* Linux's struct in_pktinfo (_GNU_SOURCE) */
		int ipi_ifindex;
		struct in_addr ipi_spec_dst, ipi_addr;
	} pi;
	struct cmsghdr *c;
	struct msghdr *m;
	uint8_t f[256];
	size_t len;
	int fa, fb, v, one = 1;

	(void)state;
	lan_up(&l, 2, NULL);
	assert_int_equal(rump_bus_tap_open(l.bus, NULL, &l.tap), 0);
	fb = udp_socket(l.k[1], "0.0.0.0", 5000);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[0]);
	assert_int_equal(ipopt(fa, IP_TTL), 64);
	assert_int_equal(ipopt(fa, IP_TOS), 0);
	assert_int_equal(ipopt(fa, IP_PKTINFO), 0);
	v = 256;
	expect_errno(rump_sys_setsockopt(fa, IPPROTO_IP, IP_TTL, &v,
	    sizeof(v)), EINVAL);
	expect_errno(rump_sys_setsockopt(fa, IPPROTO_IP, 99, &one,
	    sizeof(one)), ENOPROTOOPT);
	{
		uint8_t ttl = 17;	/* one byte will do, as Linux */

		assert_int_equal(rump_sys_setsockopt(fa, IPPROTO_IP, IP_TTL,
		    &ttl, 1), 0);
	}
	set_ipopt(fa, IP_TOS, 0x1b9);	/* its low byte: EF, ECT(1) */
	assert_int_equal(ipopt(fa, IP_TTL), 17);
	assert_int_equal(ipopt(fa, IP_TOS), 0xb9);
	as(l.k[1]);
	set_ipopt(fb, IP_PKTINFO, 1);
	set_ipopt(fb, IP_RECVTTL, 1);
	set_ipopt(fb, IP_RECVTOS, 1);
	assert_int_equal(ipopt(fb, IP_RECVTOS), 1);

	as(l.k[0]);
	assert_int_equal(rump_sys_sendto(fa, "x", 1, 0,
	    (struct sockaddr *)&to, sizeof(to)), 1);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(rump_bus_tap_recv(l.tap, f, sizeof(f), &len, 0),
	    0);
	assert_int_equal(f[14 + 1], 0xb9);
	assert_int_equal(f[14 + 8], 17);
	as(l.k[1]);
	m = recv_ctl(fb, ctl, sizeof(ctl));
	assert_int_equal(m->msg_flags & MSG_CTRUNC, 0);
	assert_int_equal(m->msg_controllen, CMSG_SPACE(sizeof(pi)) +
	    CMSG_SPACE(sizeof(int)) + CMSG_SPACE(1));
	c = CMSG_FIRSTHDR(m);
	assert_non_null(c);
	assert_int_equal(c->cmsg_level, IPPROTO_IP);
	assert_int_equal(c->cmsg_type, IP_PKTINFO);
	assert_int_equal(c->cmsg_len, CMSG_LEN(sizeof(pi)));
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	assert_int_equal(pi.ipi_ifindex, l.ifx[1]);
	assert_int_equal(pi.ipi_addr.s_addr, inet_addr(addrs[1]));
	assert_int_equal(pi.ipi_spec_dst.s_addr, inet_addr(addrs[1]));
	c = CMSG_NXTHDR(m, c);
	assert_non_null(c);
	assert_int_equal(c->cmsg_type, IP_TTL);
	memcpy(&v, CMSG_DATA(c), sizeof(v));
	assert_int_equal(v, 17);
	c = CMSG_NXTHDR(m, c);
	assert_non_null(c);
	assert_int_equal(c->cmsg_type, IP_TOS);
	assert_int_equal(c->cmsg_len, CMSG_LEN(1));
	assert_int_equal(*(uint8_t *)CMSG_DATA(c), 0xb9);
	assert_null(CMSG_NXTHDR(m, c));

	/* room for the first only: it, and MSG_CTRUNC; none: MSG_CTRUNC */
	as(l.k[0]);
	for (int i = 0; i < 2; i++)
		assert_int_equal(rump_sys_sendto(fa, "x", 1, 0,
		    (struct sockaddr *)&to, sizeof(to)), 1);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[1]);
	m = recv_ctl(fb, ctl, CMSG_SPACE(sizeof(pi)));
	assert_int_equal(m->msg_flags & MSG_CTRUNC, MSG_CTRUNC);
	assert_int_equal(m->msg_controllen, CMSG_SPACE(sizeof(pi)));
	assert_int_equal(CMSG_FIRSTHDR(m)->cmsg_type, IP_PKTINFO);
	m = recv_ctl(fb, NULL, 0);
	assert_int_equal(m->msg_flags & MSG_CTRUNC, MSG_CTRUNC);
	assert_int_equal(m->msg_controllen, 0);

	/* a broadcast; then the options off: no control messages */
	as(l.k[0]);
	assert_int_equal(rump_sys_setsockopt(fa, SOL_SOCKET, SO_BROADCAST,
	    &one, sizeof(one)), 0);
	to = sa("198.18.0.255", 5000);
	assert_int_equal(rump_sys_sendto(fa, "x", 1, 0,
	    (struct sockaddr *)&to, sizeof(to)), 1);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[1]);
	m = recv_ctl(fb, ctl, sizeof(ctl));
	memcpy(&pi, CMSG_DATA(CMSG_FIRSTHDR(m)), sizeof(pi));
	assert_int_equal(pi.ipi_addr.s_addr, inet_addr("198.18.0.255"));
	assert_int_equal(pi.ipi_spec_dst.s_addr, inet_addr(addrs[1]));
	set_ipopt(fb, IP_PKTINFO, 0);
	set_ipopt(fb, IP_RECVTTL, 0);
	set_ipopt(fb, IP_RECVTOS, 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_sendto(fa, "x", 1, 0,
	    (struct sockaddr *)&to, sizeof(to)), 1);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[1]);
	m = recv_ctl(fb, ctl, sizeof(ctl));
	assert_int_equal(m->msg_controllen, 0);
	assert_int_equal(m->msg_flags, 0);
	assert_int_equal(rump_sys_close(fb), 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_close(fa), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* Move both instances' clocks on by exactly ns. */
static void
advance_ns(struct lan *l, uint64_t ns)
{
	for (int i = 0; i < 2; i++)
		assert_int_equal(rump_clock_advance(l->k[i], ns), 0);
	assert_int_equal(rump_bus_quiesce(l->bus, 5000), 0);
}

/* Host k0 sends "x" to to; the bus is quiet after. */
static void
send_x(struct lan *l, int fa, const struct sockaddr_in *to)
{
	as(l->k[0]);
	assert_int_equal(rump_sys_sendto(fa, "x", 1, 0,
	    (const struct sockaddr *)to, sizeof(*to)), 1);
	assert_int_equal(rump_bus_quiesce(l->bus, 5000), 0);
}

/*
 * ns later on the clocks, host k0 sends "x" to fd of k1, which reads it
 * with no control message; SIOCGSTAMPNS's answer then, in ns.
 */
static uint64_t
later_stamp(struct lan *l, int fa, const struct sockaddr_in *to, int fd,
    uint64_t ns)
{
	uint64_t ctl[8];
	struct timespec ts;

	advance_ns(l, ns);
	send_x(l, fa, to);
	as(l->k[1]);
	assert_int_equal(recv_ctl(fd, ctl, sizeof(ctl))->msg_controllen, 0);
	assert_int_equal(rump_sys_ioctl(fd, SIOCGSTAMPNS, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The wall ns of msg's first control message, SCM_TIMESTAMP(NS) as ns. */
static uint64_t
cmsg_stamp(struct msghdr *m, int type)
{
	struct cmsghdr *c = CMSG_FIRSTHDR(m);
	struct timespec ts;
	struct timeval tv;

	assert_non_null(c);
	assert_int_equal(c->cmsg_level, SOL_SOCKET);
	assert_int_equal(c->cmsg_type, type);
	if (type == SCM_TIMESTAMPNS) {
		assert_int_equal(c->cmsg_len, CMSG_LEN(sizeof(ts)));
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	assert_int_equal(c->cmsg_len, CMSG_LEN(sizeof(tv)));
	memcpy(&tv, CMSG_DATA(c), sizeof(tv));
	return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

/*
 * SO_TIMESTAMP and SO_TIMESTAMPNS (Linux's): each datagram's receive time
 * as the first control message, on the instance's clock (virtual here:
 * the stamps are exactly as far apart as the clock was moved), a wall
 * clock; SIOCGSTAMP and SIOCGSTAMPNS: the last datagram read without
 * them (ENOENT before one; the first call starts the timing).
 */
static void
test_udp_timestamps(void **state)
{
	struct sockaddr_in to = sa(addrs[1], 5000);
	struct timespec now, ts;
	struct timeval tv;
	struct lan l;
	struct msghdr *m;
	uint64_t ctl[16], t1, t2, t3, t4;
	int fa, fb, fc, fe;

	(void)state;
	lan_up(&l, 2, NULL);
	fb = udp_socket(l.k[1], addrs[1], 5000);
	fc = udp_socket(l.k[1], addrs[1], 5001);
	fe = udp_socket(l.k[1], addrs[1], 5002);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[1]);
	assert_int_equal(getint(fb, SOL_SOCKET, SO_TIMESTAMP), 0);
	assert_int_equal(getint(fb, SOL_SOCKET, SO_TIMESTAMPNS), 0);
	setint(fb, SOL_SOCKET, SO_TIMESTAMP, 1);
	assert_int_equal(getint(fb, SOL_SOCKET, SO_TIMESTAMP), 1);
	assert_int_equal(getint(fb, SOL_SOCKET, SO_TIMESTAMPNS), 0);

	/* microseconds; 1.5 s of the clock between two */
	send_x(&l, fa, &to);
	advance_ns(&l, 1500000000u);
	send_x(&l, fa, &to);
	as(l.k[1]);
	m = recv_ctl(fb, ctl, sizeof(ctl));
	assert_int_equal(m->msg_controllen, CMSG_SPACE(sizeof(tv)));
	t1 = cmsg_stamp(m, SCM_TIMESTAMP);
	m = recv_ctl(fb, ctl, sizeof(ctl));
	t2 = cmsg_stamp(m, SCM_TIMESTAMP);
	assert_int_equal(t2 - t1, 1500000000u);
	/* the wall clock's: within a minute of the host's */
	clock_gettime(CLOCK_REALTIME, &now);
	assert_true(t1 / 1000000000u + 60 > (uint64_t)now.tv_sec &&
	    t1 / 1000000000u < (uint64_t)now.tv_sec + 60);

	/* nanoseconds, before IP_PKTINFO; a short buffer: MSG_CTRUNC */
	setint(fb, SOL_SOCKET, SO_TIMESTAMPNS, 1);
	assert_int_equal(getint(fb, SOL_SOCKET, SO_TIMESTAMP), 0);
	assert_int_equal(getint(fb, SOL_SOCKET, SO_TIMESTAMPNS), 1);
	set_ipopt(fb, IP_PKTINFO, 1);
	send_x(&l, fa, &to);
	advance_ns(&l, 1234567);
	send_x(&l, fa, &to);
	send_x(&l, fa, &to);
	as(l.k[1]);
	m = recv_ctl(fb, ctl, sizeof(ctl));
	assert_int_equal(m->msg_flags & MSG_CTRUNC, 0);
	assert_int_equal(m->msg_controllen, CMSG_SPACE(sizeof(ts)) +
	    CMSG_SPACE(sizeof(struct in_pktinfo)));
	t3 = cmsg_stamp(m, SCM_TIMESTAMPNS);
	assert_int_equal(t3 / 1000u, t2 / 1000u);
	assert_int_equal(CMSG_NXTHDR(m, CMSG_FIRSTHDR(m))->cmsg_type,
	    IP_PKTINFO);
	m = recv_ctl(fb, ctl, sizeof(ctl));
	t4 = cmsg_stamp(m, SCM_TIMESTAMPNS);
	assert_int_equal(t4 - t3, 1234567);
	m = recv_ctl(fb, ctl, CMSG_SPACE(sizeof(ts)) - 1);
	assert_int_equal(m->msg_flags & MSG_CTRUNC, MSG_CTRUNC);
	assert_int_equal(m->msg_controllen, 0);

	/*
	 * SIOCGSTAMP(NS): the last datagram read with neither option on:
	 * none yet; NULL: EFAULT.  With the options off, the timing goes on
	 * for it.
	 */
	errno = 0;
	assert_int_equal(rump_sys_ioctl(fb, SIOCGSTAMPNS, &ts), -1);
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_int_equal(rump_sys_ioctl(fb, SIOCGSTAMP, NULL), -1);
	assert_int_equal(errno, EFAULT);
	setint(fb, SOL_SOCKET, SO_TIMESTAMP, 0);
	assert_int_equal(getint(fb, SOL_SOCKET, SO_TIMESTAMPNS), 0);
	set_ipopt(fb, IP_PKTINFO, 0);
	assert_int_equal(later_stamp(&l, fa, &to, fb, 2000000), t4 + 2000000);
	assert_int_equal(rump_sys_ioctl(fb, SIOCGSTAMP, &tv), 0);
	assert_int_equal((uint64_t)tv.tv_sec * 1000000u +
	    (uint64_t)tv.tv_usec, (t4 + 2000000) / 1000u);

	/* a socket that never asked: ENOENT, and timed from then on */
	errno = 0;
	assert_int_equal(rump_sys_ioctl(fc, SIOCGSTAMP, &tv), -1);
	assert_int_equal(errno, ENOENT);
	to.sin_port = htons(5001);
	assert_int_equal(later_stamp(&l, fa, &to, fc, 3000000), t4 + 5000000);

	/*
	 * datagrams that came in before any timing: the ioctl after reading
	 * one, and the option turned on before reading the other, say
	 * "now" (Linux)
	 */
	to.sin_port = htons(5002);
	send_x(&l, fa, &to);
	send_x(&l, fa, &to);
	advance_ns(&l, 1000000);
	as(l.k[1]);
	assert_int_equal(recv_ctl(fe, ctl, sizeof(ctl))->msg_controllen, 0);
	assert_int_equal(rump_sys_ioctl(fe, SIOCGSTAMPNS, &ts), 0);
	assert_int_equal((uint64_t)ts.tv_sec * 1000000000u +
	    (uint64_t)ts.tv_nsec, t4 + 6000000);
	setint(fe, SOL_SOCKET, SO_TIMESTAMPNS, 1);
	assert_int_equal(cmsg_stamp(recv_ctl(fe, ctl, sizeof(ctl)),
	    SCM_TIMESTAMPNS), t4 + 6000000);

	assert_int_equal(rump_sys_close(fb), 0);
	assert_int_equal(rump_sys_close(fc), 0);
	assert_int_equal(rump_sys_close(fe), 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_close(fa), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/*
 * k1's socket fd has datagrams of the sizes in want[0..n) waiting, in
 * that order, each the next piece of pattern from *off; then nothing.
 */
static void
expect_pieces(struct lan *l, int fd, const size_t *want, int n, size_t *off)
{
	static char buf[2048];

	as(l->k[1]);
	for (int i = 0; i < n; i++) {
		ssize_t got = rump_sys_recv(fd, buf, sizeof(buf),
		    MSG_DONTWAIT);

		assert_int_equal(got, (ssize_t)want[i]);
		for (ssize_t j = 0; j < got; j++)
			assert_int_equal((uint8_t)buf[j],
			    (uint8_t)((*off + (size_t)j) * 7));
		*off += want[i];
	}
	errno = 0;
	assert_int_equal(rump_sys_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

/* sendmsg of len bytes of pattern from off, with UDP_SEGMENT gso. */
static ssize_t
send_gso(int fd, const struct sockaddr_in *to, size_t off, size_t len,
    size_t cmsglen, uint16_t gso)
{
	static uint8_t data[4096];
	uint64_t ctl[4];
	struct iovec iov = { data, len };
	struct msghdr m = { .msg_name = (void *)(uintptr_t)to,
	    .msg_namelen = sizeof(*to), .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cmsglen != 0 ? ctl : NULL,
	    .msg_controllen = cmsglen != 0 ? CMSG_SPACE(cmsglen) : 0 };
	struct cmsghdr *c = (struct cmsghdr *)(void *)ctl;

	for (size_t j = 0; j < len; j++)
		data[j] = (uint8_t)((off + j) * 7);
	memset(ctl, 0, sizeof(ctl));
	c->cmsg_level = IPPROTO_UDP;
	c->cmsg_type = 103;		/* UDP_SEGMENT */
	c->cmsg_len = CMSG_LEN(cmsglen);
	memcpy(CMSG_DATA(c), &gso, sizeof(gso));
	return rump_sys_sendmsg(fd, &m, 0);
}

/* k0's fa sends len bytes so (send_gso()); k1's fb gets them as want. */
static void
gso_pieces(struct lan *l, int fa, int fb, const struct sockaddr_in *to,
    size_t *off, size_t len, size_t cmsglen, uint16_t gso,
    const size_t *want, int n)
{
	as(l->k[0]);
	assert_int_equal(send_gso(fa, to, *off, len, cmsglen, gso),
	    (ssize_t)len);
	assert_int_equal(rump_bus_quiesce(l->bus, 5000), 0);
	expect_pieces(l, fb, want, n, off);
	as(l->k[0]);
}

/*
 * UDP_SEGMENT (Linux's UDP GSO): one send larger than the segment size
 * goes as datagrams of that size and a shorter last one, from the socket
 * option or a control message (which wins); EMSGSIZE for a size whose
 * first datagram would not fit the MTU; EINVAL past 128 datagrams, or for
 * a malformed message or value.
 */
static void
test_udp_segment(void **state)
{
	static const size_t w1[] = { 500, 500, 200 }, w2[] = { 100, 100, 50 },
	    w3[] = { 400 }, w4[] = { 1472, 1472, 56 };
	static size_t w5[128];
	struct sockaddr_in to = sa(addrs[1], 6000);
	struct lan l;
	size_t off = 0;
	uint64_t sent;
	int fa, fb;

	(void)state;
	lan_up(&l, 2, NULL);
	fb = udp_socket(l.k[1], addrs[1], 6000);
	as(l.k[1]);
	setint(fb, SOL_SOCKET, SO_RCVBUF, 1 << 20);
	assert_int_equal(rump_thread_unbind(), 0);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[0]);
	assert_int_equal(getint(fa, IPPROTO_UDP, 103), 0);
	setint(fa, IPPROTO_UDP, 103, 500);
	assert_int_equal(getint(fa, IPPROTO_UDP, 103), 500);
	errno = 0;
	assert_int_equal(rump_sys_setsockopt(fa, IPPROTO_UDP, 103,
	    &(int){ 65536 }, sizeof(int)), -1);
	assert_int_equal(errno, EINVAL);

	/* the option: 1200 bytes as 500 + 500 + 200 */
	sent = stat(l.k[0], "udp.opackets");
	gso_pieces(&l, fa, fb, &to, &off, 1200, 0, 0, w1, 3);
	assert_int_equal(stat(l.k[0], "udp.opackets") - sent, 3);
	/* a control message wins; what fits one datagram is one */
	gso_pieces(&l, fa, fb, &to, &off, 250, sizeof(uint16_t), 100, w2, 3);
	gso_pieces(&l, fa, fb, &to, &off, 400, sizeof(uint16_t), 500, w3, 1);
	/* 20 + 8 + 1472 fill a 1500-byte MTU; one byte more does not */
	gso_pieces(&l, fa, fb, &to, &off, 3000, sizeof(uint16_t), 1472, w4, 3);
	errno = 0;
	assert_int_equal(send_gso(fa, &to, off, 3000, sizeof(uint16_t), 1473),
	    -1);
	assert_int_equal(errno, EMSGSIZE);
	/* as Linux now: so does a shorter payload with that size set */
	errno = 0;
	assert_int_equal(send_gso(fa, &to, off, 1800, sizeof(uint16_t), 2000),
	    -1);
	assert_int_equal(errno, EMSGSIZE);
	errno = 0;
	assert_int_equal(rump_sys_setsockopt(fa, IPPROTO_UDP, 103,
	    &(uint16_t){ 100 }, sizeof(uint16_t)), -1);
	assert_int_equal(errno, EINVAL);
	/* 128 datagrams at most */
	for (int i = 0; i < 128; i++)
		w5[i] = 10;
	errno = 0;
	assert_int_equal(send_gso(fa, &to, off, 1290, sizeof(uint16_t), 10),
	    -1);
	assert_int_equal(errno, EINVAL);
	gso_pieces(&l, fa, fb, &to, &off, 1280, sizeof(uint16_t), 10, w5, 128);
	/* a malformed message */
	errno = 0;
	assert_int_equal(send_gso(fa, &to, off, 100, sizeof(int), 10), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(rump_sys_close(fa), 0);
	as(l.k[1]);
	assert_int_equal(rump_sys_close(fb), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* A control message of len bytes of data at *at of buf; moves *at on. */
static void
put_cmsg(void *buf, size_t *at, int level, int type, const void *data,
    size_t len)
{
	struct cmsghdr *c = (struct cmsghdr *)(void *)((char *)buf + *at);

	c->cmsg_len = CMSG_LEN(len);
	c->cmsg_level = level;
	c->cmsg_type = type;
	memcpy(CMSG_DATA(c), data, len);
	*at += CMSG_SPACE(len);
}

/* k1's fb has exactly the datagram want (len bytes) now, and no other. */
static void
expect_datagram(struct lan *l, int fb, const void *want, size_t len)
{
	static char buf[65536];

	assert_int_equal(rump_bus_quiesce(l->bus, 5000), 0);
	as(l->k[1]);
	assert_int_equal(rump_sys_recv(fb, buf, sizeof(buf), MSG_DONTWAIT),
	    (ssize_t)len);
	assert_memory_equal(buf, want, len);
	errno = 0;
	assert_int_equal(rump_sys_recv(fb, buf, sizeof(buf), MSG_DONTWAIT),
	    -1);
	assert_int_equal(errno, EAGAIN);
	as(l->k[0]);
}

/* k1's fb has no datagram now. */
static void
expect_no_datagram(struct lan *l, int fb)
{
	char c;

	assert_int_equal(rump_bus_quiesce(l->bus, 5000), 0);
	as(l->k[1]);
	errno = 0;
	assert_int_equal(rump_sys_recv(fb, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	as(l->k[0]);
}

/*
 * UDP_CORK and MSG_MORE (Linux's): sends gather into one datagram, to the
 * first one's address (later ones need none), which goes with a send
 * without MSG_MORE or when UDP_CORK is cleared; past 65507 bytes the
 * whole datagram is dropped (EMSGSIZE); a close drops an unfinished one.
 */
static void
test_udp_cork(void **state)
{
	static char big[60000];
	struct sockaddr_in to = sa(addrs[1], 7100);
	struct lan l;
	uint64_t sent;
	int fa, fb;

	(void)state;
	lan_up(&l, 2, NULL);
	fb = udp_socket(l.k[1], addrs[1], 7100);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[0]);
	sent = stat(l.k[0], "udp.opackets");
	assert_int_equal(rump_sys_sendto(fa, "ab", 2, MSG_MORE,
	    (struct sockaddr *)&to, sizeof(to)), 2);
	expect_no_datagram(&l, fb);
	assert_int_equal(rump_sys_send(fa, "cd", 2, MSG_MORE), 2);
	expect_no_datagram(&l, fb);
	assert_int_equal(rump_sys_sendto(fa, "ef", 2, 0,
	    (struct sockaddr *)&to, sizeof(to)), 2);
	expect_datagram(&l, fb, "abcdef", 6);
	/* gathered no more: a send without an address has none again */
	errno = 0;
	assert_int_equal(rump_sys_send(fa, "x", 1, 0), -1);
	assert_int_equal(errno, EDESTADDRREQ);

	assert_int_equal(getint(fa, IPPROTO_UDP, 1), 0);
	setint(fa, IPPROTO_UDP, 1, 1);			/* UDP_CORK */
	assert_int_equal(getint(fa, IPPROTO_UDP, 1), 1);
	assert_int_equal(rump_sys_sendto(fa, "12", 2, 0,
	    (struct sockaddr *)&to, sizeof(to)), 2);
	assert_int_equal(rump_sys_send(fa, "34", 2, 0), 2);
	expect_no_datagram(&l, fb);
	setint(fa, IPPROTO_UDP, 1, 0);
	expect_datagram(&l, fb, "1234", 4);
	assert_int_equal(stat(l.k[0], "udp.opackets") - sent, 2);

	/* too much for one datagram: all of it goes */
	assert_int_equal(rump_sys_sendto(fa, big, sizeof(big), MSG_MORE,
	    (struct sockaddr *)&to, sizeof(to)), (ssize_t)sizeof(big));
	errno = 0;
	assert_int_equal(rump_sys_send(fa, big, 6000, MSG_MORE), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(rump_sys_sendto(fa, "z", 1, 0,
	    (struct sockaddr *)&to, sizeof(to)), 1);
	expect_datagram(&l, fb, "z", 1);
	assert_int_equal(stat(l.k[0], "udp.opackets") - sent, 3);
	/*
	 * the first send's control messages are the datagram's (IP_TTL 9),
	 * a later send's are not (33), as Linux's cork
	 */
	{
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int))];
		} ctl, rctl;
		size_t at = 0;
		struct iovec iov = { .iov_base = "p1", .iov_len = 2 };
		struct msghdr mh = { .msg_name = &to,
		    .msg_namelen = sizeof(to), .msg_iov = &iov,
		    .msg_iovlen = 1, .msg_control = ctl.b,
		    .msg_controllen = sizeof(ctl.b) };
		char got[8];
		struct iovec riov = { .iov_base = got, .iov_len = sizeof(got) };
		struct msghdr rm = { .msg_iov = &riov, .msg_iovlen = 1,
		    .msg_control = rctl.b, .msg_controllen = sizeof(rctl.b) };
		int ttl = 9;

		as(l.k[1]);
		setint(fb, IPPROTO_IP, IP_RECVTTL, 1);
		as(l.k[0]);
		put_cmsg(ctl.b, &at, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
		assert_int_equal(rump_sys_sendmsg(fa, &mh, MSG_MORE), 2);
		ttl = 33;
		at = 0;
		put_cmsg(ctl.b, &at, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
		iov.iov_base = "p2";
		assert_int_equal(rump_sys_sendmsg(fa, &mh, 0), 2);
		assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
		as(l.k[1]);
		assert_int_equal(rump_sys_recvmsg(fb, &rm, MSG_DONTWAIT), 4);
		assert_memory_equal(got, "p1p2", 4);
		assert_non_null(CMSG_FIRSTHDR(&rm));
		assert_int_equal(CMSG_FIRSTHDR(&rm)->cmsg_type, IP_TTL);
		memcpy(&ttl, CMSG_DATA(CMSG_FIRSTHDR(&rm)), sizeof(ttl));
		assert_int_equal(ttl, 9);
		as(l.k[0]);
	}
	/* an unfinished one goes with the socket */
	assert_int_equal(rump_sys_sendto(fa, "lost", 4, MSG_MORE,
	    (struct sockaddr *)&to, sizeof(to)), 4);
	assert_int_equal(rump_sys_close(fa), 0);
	expect_no_datagram(&l, fb);
	assert_int_equal(stat(l.k[0], "udp.opackets") - sent, 4);
	as(l.k[1]);
	assert_int_equal(rump_sys_close(fb), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/*
 * sendmmsg() and recvmmsg() (Linux's): several datagrams a call, each
 * message's length and address, control messages per message; an error
 * on the first is the call's, a later one sendmmsg loses and recvmmsg
 * keeps as SO_ERROR; MSG_WAITFORONE; the timeout checked after each and
 * written back; EAGAIN, EINVAL.
 */
static void
test_udp_mmsg(void **state)
{
	enum { N = 5 };
	struct sockaddr_in to = sa(addrs[1], 7000), from[8];
	struct mmsghdr mv[8];
	struct iovec iov[8];
	char data[N][64], buf[8][64];
	uint64_t ctl[8][8];
	struct timespec ts;
	struct lan l;
	int fa, fb;

	(void)state;
	lan_up(&l, 2, NULL);
	fb = udp_socket(l.k[1], addrs[1], 7000);
	as(l.k[1]);
	set_ipopt(fb, IP_PKTINFO, 1);	/* taken as datagrams come in */
	assert_int_equal(rump_thread_unbind(), 0);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	memset(mv, 0, sizeof(mv));
	for (int i = 0; i < N; i++) {
		memset(data[i], 'a' + i, sizeof(data[i]));
		iov[i] = (struct iovec){ data[i], (size_t)(10 + i) };
		mv[i].msg_hdr.msg_name = &to;
		mv[i].msg_hdr.msg_namelen = sizeof(to);
		mv[i].msg_hdr.msg_iov = &iov[i];
		mv[i].msg_hdr.msg_iovlen = 1;
	}
	as(l.k[0]);
	assert_int_equal(rump_sys_sendmmsg(fa, mv, N, 0), N);
	for (int i = 0; i < N; i++)
		assert_int_equal(mv[i].msg_len, 10 + i);
	/* the third refused (EMSGSIZE): two sent, the error lost */
	mv[2].msg_hdr.msg_iovlen = 1025;
	assert_int_equal(rump_sys_sendmmsg(fa, mv, N, 0), 2);
	/* the first refused: the call's */
	errno = 0;
	assert_int_equal(rump_sys_sendmmsg(fa, &mv[2], 1, 0), -1);
	assert_int_equal(errno, EMSGSIZE);
	errno = 0;
	assert_int_equal(rump_sys_sendmmsg(fa, NULL, 1, 0), -1);
	assert_int_equal(errno, EFAULT);
	mv[2].msg_hdr.msg_iovlen = 1;
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);

	/* seven waiting: 5 + 2; IP_PKTINFO on each */
	as(l.k[1]);
	memset(mv, 0, sizeof(mv));
	for (int i = 0; i < 8; i++) {
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		mv[i].msg_hdr.msg_name = &from[i];
		mv[i].msg_hdr.msg_namelen = sizeof(from[i]);
		mv[i].msg_hdr.msg_iov = &iov[i];
		mv[i].msg_hdr.msg_iovlen = 1;
		mv[i].msg_hdr.msg_control = ctl[i];
		mv[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
	}
	assert_int_equal(rump_sys_recvmmsg(fb, mv, 8, MSG_WAITFORONE, NULL), 7);
	for (int i = 0; i < 7; i++) {
		int k = i < N ? i : i - N;

		assert_int_equal(mv[i].msg_len, 10 + k);
		assert_int_equal(buf[i][0], 'a' + k);
		assert_int_equal(mv[i].msg_hdr.msg_namelen, sizeof(from[i]));
		assert_int_equal(from[i].sin_addr.s_addr, inet_addr(addrs[0]));
		assert_int_equal(mv[i].msg_hdr.msg_controllen,
		    CMSG_SPACE(sizeof(struct in_pktinfo)));
		assert_int_equal(CMSG_FIRSTHDR(&mv[i].msg_hdr)->cmsg_type,
		    IP_PKTINFO);
	}
	errno = 0;
	assert_int_equal(rump_sys_recvmmsg(fb, mv, 8, MSG_DONTWAIT, NULL), -1);
	assert_int_equal(errno, EAGAIN);

	/* a timeout of 0: one datagram, nothing left of the time */
	as(l.k[0]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rump_sys_sendto(fa, "zz", 2, 0,
		    (struct sockaddr *)&to, sizeof(to)), 2);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[1]);
	ts = (struct timespec){ 0, 0 };
	assert_int_equal(rump_sys_recvmmsg(fb, mv, 8, 0, &ts), 1);
	assert_int_equal(ts.tv_sec, 0);
	assert_int_equal(ts.tv_nsec, 0);
	ts = (struct timespec){ 5, 0 };
	assert_int_equal(rump_sys_recvmmsg(fb, mv, 1, 0, &ts), 1);
	assert_int_equal(ts.tv_sec, 5);	/* the virtual clock stood */
	assert_int_equal(ts.tv_nsec, 0);
	ts = (struct timespec){ 0, 1000000000 };
	errno = 0;
	assert_int_equal(rump_sys_recvmmsg(fb, mv, 8, 0, &ts), -1);
	assert_int_equal(errno, EINVAL);
	/* an error after the first: the next call's */
	as(l.k[0]);
	for (int i = 0; i < 2; i++)
		assert_int_equal(rump_sys_sendto(fa, "zz", 2, 0,
		    (struct sockaddr *)&to, sizeof(to)), 2);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[1]);
	mv[1].msg_hdr.msg_iovlen = 1025;
	assert_int_equal(rump_sys_recvmmsg(fb, mv, 8, MSG_DONTWAIT, NULL), 1);
	assert_int_equal(getint(fb, SOL_SOCKET, SO_ERROR), EMSGSIZE);
	mv[1].msg_hdr.msg_iovlen = 1;
	/* the last of the timeout's three, and the second of these two */
	assert_int_equal(rump_sys_recvmmsg(fb, mv, 8, MSG_DONTWAIT, NULL), 2);

	/* a stream send cut short ends the batch, counted (Linux) */
	{
		static char big[3][20000];
		struct sockaddr_in ls = sa(addrs[1], 7001);
		int lfd, cfd, s;

		lfd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(rump_sys_bind(lfd, (struct sockaddr *)&ls,
		    sizeof(ls)), 0);
		assert_int_equal(rump_sys_listen(lfd, 1), 0);
		as(l.k[0]);
		cfd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
		setint(cfd, SOL_SOCKET, SO_SNDBUF, 4096);
		assert_int_equal(rump_sys_connect(cfd, (struct sockaddr *)&ls,
		    sizeof(ls)), 0);
		memset(mv, 0, sizeof(mv));
		for (int i = 0; i < 3; i++) {
			iov[i] = (struct iovec){ big[i], sizeof(big[i]) };
			mv[i].msg_hdr.msg_iov = &iov[i];
			mv[i].msg_hdr.msg_iovlen = 1;
		}
		assert_int_equal(rump_sys_sendmmsg(cfd, mv, 3, MSG_DONTWAIT),
		    1);
		assert_true(mv[0].msg_len > 0 && mv[0].msg_len < 20000);
		assert_int_equal(mv[1].msg_len, 0);
		assert_int_equal(rump_sys_close(cfd), 0);
		as(l.k[1]);
		s = rump_sys_accept(lfd, NULL, NULL);
		assert_true(s >= 0);
		assert_int_equal(rump_sys_close(s), 0);
		assert_int_equal(rump_sys_close(lfd), 0);
		for (int i = 0; i < 2; i++)
			assert_int_equal(rump_clock_advance(l.k[i],
			    240000000000ull), 0);
		assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
		as(l.k[1]);
	}

	assert_int_equal(rump_sys_close(fb), 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_close(fa), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* sendmsg of "y" to to with the control messages in ctl. */
static ssize_t
send_ctl(int fd, const struct sockaddr_in *to, void *ctl, size_t clen)
{
	struct iovec iov = { .iov_base = "y", .iov_len = 1 };
	struct msghdr m = {
		.msg_name = (void *)(uintptr_t)to, .msg_namelen = sizeof(*to),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = clen,
	};

	return rump_sys_sendmsg(fd, &m, 0);
}

/*
 * sendmsg() control messages on a UDP socket, as Linux's ip_cmsg_send():
 * IP_PKTINFO's ipi_spec_dst picks the source (one of ours: EINVAL
 * otherwise; an ipi_ifindex that names no interface: ENODEV), IP_TTL (an
 * int) and IP_TOS (a byte here) set that datagram's header, and the next
 * sendto() has the socket's own again.  Other levels and types, a TTL
 * out of range, a length past the buffer: EINVAL, nothing sent.
 */
static void
test_udp_sendmsg_control(void **state)
{
	struct {		/* Linux's struct in_pktinfo (_GNU_SOURCE) */
		int ipi_ifindex;
		struct in_addr ipi_spec_dst, ipi_addr;
	} pi;
	struct sockaddr_in to = sa(addrs[1], 5000), from;
	socklen_t fromlen = sizeof(from);
	uint64_t ctl[20];
	struct lan l;
	uint8_t f[256], tos = 0x2e;
	size_t at = 0, len;
	int fa, fb, ttl = 5;
	char c;

	(void)state;
	lan_up(&l, 2, NULL);
	assert_int_equal(rump_if_addr_add(l.k[0], l.ifx[0],
	    inet_addr("198.18.0.11"), 24), 0);
	assert_int_equal(rump_bus_tap_open(l.bus, NULL, &l.tap), 0);
	fb = udp_socket(l.k[1], "0.0.0.0", 5000);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[0]);
	memset(&pi, 0, sizeof(pi));
	pi.ipi_ifindex = (int)l.ifx[0];
	pi.ipi_spec_dst.s_addr = inet_addr("198.18.0.11");
	put_cmsg(ctl, &at, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	put_cmsg(ctl, &at, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	/*
	 * another protocol's level is not UDP's, and SCM_RIGHTS means
	 * nothing on it: skipped (Linux)
	 */
	put_cmsg(ctl, &at, IPPROTO_TCP, 1, &ttl, sizeof(ttl));
	put_cmsg(ctl, &at, SOL_SOCKET, SCM_RIGHTS, &ttl, sizeof(ttl));
	put_cmsg(ctl, &at, IPPROTO_IP, IP_TOS, &tos, 1);
	assert_int_equal(send_ctl(fa, &to, ctl, at), 1);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(rump_bus_tap_recv(l.tap, f, sizeof(f), &len, 0), 0);
	assert_int_equal(f[14 + 1], 0x2e);
	assert_int_equal(f[14 + 8], 5);
	assert_memory_equal(f + 14 + 12, &pi.ipi_spec_dst, 4);
	as(l.k[1]);
	assert_int_equal(rump_sys_recvfrom(fb, &c, 1, MSG_DONTWAIT,
	    (struct sockaddr *)&from, &fromlen), 1);
	assert_int_equal(from.sin_addr.s_addr, inet_addr("198.18.0.11"));

	/* the next datagram: the socket's own */
	as(l.k[0]);
	assert_int_equal(rump_sys_sendto(fa, "y", 1, 0,
	    (struct sockaddr *)&to, sizeof(to)), 1);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(rump_bus_tap_recv(l.tap, f, sizeof(f), &len, 0), 0);
	assert_int_equal(f[14 + 1], 0);
	assert_int_equal(f[14 + 8], 64);

	/* refused, nothing sent */
	pi.ipi_spec_dst.s_addr = inet_addr("198.18.0.99");
	at = 0;
	put_cmsg(ctl, &at, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	expect_errno(send_ctl(fa, &to, ctl, at), EINVAL);
	pi.ipi_spec_dst.s_addr = 0;
	pi.ipi_ifindex = 99;
	at = 0;
	put_cmsg(ctl, &at, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	expect_errno(send_ctl(fa, &to, ctl, at), ENODEV);
	ttl = 0;
	at = 0;
	put_cmsg(ctl, &at, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	expect_errno(send_ctl(fa, &to, ctl, at), EINVAL);
	at = 0;
	put_cmsg(ctl, &at, SOL_SOCKET, SO_MARK, &ttl, sizeof(ttl));
	expect_errno(send_ctl(fa, &to, ctl, at), EINVAL);
	at = 0;
	put_cmsg(ctl, &at, IPPROTO_UDP, 99, &ttl, sizeof(ttl));
	expect_errno(send_ctl(fa, &to, ctl, at), EINVAL);
	at = 0;
	put_cmsg(ctl, &at, IPPROTO_IP, IP_TOS, &tos, 1);
	expect_errno(send_ctl(fa, &to, ctl, CMSG_LEN(1) - 1), EINVAL);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(rump_bus_tap_recv(l.tap, f, sizeof(f), &len, 0),
	    EAGAIN);

	/*
	 * 255.255.255.255 leaves by the interface IP_PKTINFO names, from its
	 * address; without it, with no default route, by the first interface
	 * that is up and not a loopback (not lo0, though 127.0.0.1 is the
	 * instance's first address), from its address
	 */
	{
		struct sockaddr_in bc = sa("255.255.255.255", 5001);
		uint32_t a0 = inet_addr(addrs[0]);
		unsigned lo;
		int one = 1;

		assert_int_equal(rump_if_index(l.k[0], "lo0", &lo), 0);
		assert_int_equal(rump_sys_setsockopt(fa, SOL_SOCKET,
		    SO_BROADCAST, &one, sizeof(one)), 0);
		assert_int_equal(rump_sys_sendto(fa, "b", 1, 0,
		    (struct sockaddr *)&bc, sizeof(bc)), 1);
		assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
		assert_int_equal(rump_bus_tap_recv(l.tap, f, sizeof(f), &len,
		    0), 0);
		assert_memory_equal(f, "\xff\xff\xff\xff\xff\xff", 6);
		assert_memory_equal(f + 14 + 12, &a0, 4);
		assert_memory_equal(f + 14 + 16, "\xff\xff\xff\xff", 4);
		memset(&pi, 0, sizeof(pi));
		pi.ipi_ifindex = (int)l.ifx[0];
		at = 0;
		put_cmsg(ctl, &at, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		assert_int_equal(send_ctl(fa, &bc, ctl, at), 1);
		assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
		assert_int_equal(rump_bus_tap_recv(l.tap, f, sizeof(f), &len,
		    0), 0);
		assert_memory_equal(f, "\xff\xff\xff\xff\xff\xff", 6);
		assert_memory_equal(f + 14 + 12, &a0, 4);
		assert_memory_equal(f + 14 + 16, "\xff\xff\xff\xff", 4);
		/* a second IP_PKTINFO, lo0's: the last counts (Linux) */
		pi.ipi_ifindex = (int)lo;
		put_cmsg(ctl, &at, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		assert_int_equal(send_ctl(fa, &bc, ctl, at), 1);
		assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
		assert_int_equal(rump_bus_tap_recv(l.tap, f, sizeof(f), &len,
		    0), EAGAIN);
	}
	assert_int_equal(rump_sys_close(fa), 0);
	as(l.k[1]);
	assert_int_equal(rump_sys_close(fb), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

static void
test_poll_and_fionread(void **state)
{
	struct lan l;
	struct sockaddr_in to = sa(addrs[1], 7);
	struct pollfd p;
	char buf[64];
	int fa, fb, n;

	(void)state;
	lan_up(&l, 2, NULL);
	fb = udp_socket(l.k[1], addrs[1], 7);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[1]);
	p = (struct pollfd){ .fd = fb, .events = POLLIN | POLLOUT };
	assert_int_equal(rump_sys_poll(&p, 1, 0), 1);
	assert_int_equal(p.revents, POLLOUT);
	p = (struct pollfd){ .fd = 77, .events = POLLIN };
	assert_int_equal(rump_sys_poll(&p, 1, 0), 1);
	assert_int_equal(p.revents, POLLNVAL);
	as(l.k[0]);
	assert_int_equal(rump_sys_sendto(fa, "0123456789", 10, 0,
	    (struct sockaddr *)&to, sizeof(to)), 10);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[1]);
	p = (struct pollfd){ .fd = fb, .events = POLLIN };
	assert_int_equal(rump_sys_poll(&p, 1, 1000), 1);
	assert_int_equal(p.revents, POLLIN);
	assert_int_equal(rump_sys_ioctl(fb, FIONREAD, &n), 0);
	assert_int_equal(n, 10);
	/* a short buffer truncates the datagram, and says so */
	struct iovec iov = { buf, 4 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	assert_int_equal(rump_sys_recvmsg(fb, &mh, 0), 4);
	assert_int_equal(mh.msg_flags & MSG_TRUNC, MSG_TRUNC);
	assert_memory_equal(buf, "0123", 4);
	assert_int_equal(rump_sys_ioctl(fb, FIONREAD, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rump_sys_close(fb), 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_close(fa), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* A blocked recvfrom wakes when the datagram arrives. */
struct waiter {
	struct rump_kernel *k;
	int fd;
	_Atomic long got;
};

static void *
blocked_reader(void *arg)
{
	struct waiter *w = arg;
	char buf[32];

	rump_thread_bind(w->k);
	atomic_store(&w->got, rump_sys_recv(w->fd, buf, sizeof(buf), 0));
	rump_thread_unbind();
	return NULL;
}

static void
test_blocking_recv_wakes(void **state)
{
	struct lan l;
	struct sockaddr_in to = sa(addrs[1], 7);
	struct waiter w;
	pthread_t t;
	int fa;

	(void)state;
	lan_up(&l, 2, NULL);
	w.k = l.k[1];
	w.fd = udp_socket(l.k[1], addrs[1], 7);
	atomic_store(&w.got, -100);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	pthread_create(&t, NULL, blocked_reader, &w);
	th_sleep_ms(20);
	assert_int_equal(atomic_load(&w.got), -100);	/* still blocked */
	as(l.k[0]);
	assert_int_equal(rump_sys_sendto(fa, "wake", 4, 0,
	    (struct sockaddr *)&to, sizeof(to)), 4);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&w.got), 4);
	assert_int_equal(rump_sys_close(fa), 0);
	as(l.k[1]);
	assert_int_equal(rump_sys_close(w.fd), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/*
 * shutdown() of a socket that is not connected: ENOTCONN, but it is shut
 * all the same (Linux), so a reader blocked on it wakes up to end of file;
 * poll() then reports POLLRDHUP (asked for) and POLLHUP.
 */
static void
test_udp_shutdown_unconnected_wakes(void **state)
{
	struct lan l;
	struct waiter w;
	struct pollfd p;
	pthread_t t;

	(void)state;
	lan_up(&l, 2, NULL);
	w.k = l.k[1];
	w.fd = udp_socket(l.k[1], addrs[1], 7);
	atomic_store(&w.got, -100);
	pthread_create(&t, NULL, blocked_reader, &w);
	th_sleep_ms(20);
	assert_int_equal(atomic_load(&w.got), -100);	/* still blocked */
	as(l.k[1]);
	expect_errno(rump_sys_shutdown(w.fd, SHUT_RDWR), ENOTCONN);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&w.got), 0);
	p = (struct pollfd){ .fd = w.fd, .events = POLLIN | POLLOUT |
	    POLLRDHUP };
	assert_int_equal(rump_sys_poll(&p, 1, 0), 1);
	assert_int_equal(p.revents, POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
	assert_int_equal(rump_sys_close(w.fd), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/*
 * Linux's rules for a connected datagram socket: sendto() with an address
 * goes to that address; a msghdr whose name has length 0 has none (goes
 * to the peer); connect(AF_UNSPEC) is 0 even when not connected; after
 * SHUT_WR the socket stays writable (a send fails at once with EPIPE);
 * MSG_OOB is EOPNOTSUPP; read() of 0 bytes returns 0 and leaves the
 * datagram queued.
 */
static void
test_udp_connected_linux_rules(void **state)
{
	struct lan l;
	struct sockaddr_in b7 = sa(addrs[1], 7), c7 = sa(addrs[2], 7), from,
	    un = { .sin_family = AF_UNSPEC };
	socklen_t fromlen = sizeof(from);
	struct iovec iov = { "named", 5 };
	struct msghdr mh = { .msg_name = &c7, .msg_namelen = 0,
	    .msg_iov = &iov, .msg_iovlen = 1 };
	struct pollfd p;
	char buf[32];
	int fa, fb, fc;

	(void)state;
	lan_up(&l, 3, NULL);
	fb = udp_socket(l.k[1], addrs[1], 7);
	fc = udp_socket(l.k[2], addrs[2], 7);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_connect(fa, (struct sockaddr *)&un,
	    sizeof(un)), 0);
	assert_int_equal(rump_sys_connect(fa, (struct sockaddr *)&b7,
	    sizeof(b7)), 0);
	assert_int_equal(rump_sys_sendto(fa, "to C", 4, 0,
	    (struct sockaddr *)&c7, sizeof(c7)), 4);
	assert_int_equal(rump_sys_sendmsg(fa, &mh, 0), 5);
	expect_errno(rump_sys_send(fa, "oob", 3, MSG_OOB), EOPNOTSUPP);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[2]);
	assert_int_equal(rump_sys_recvfrom(fc, buf, sizeof(buf), 0,
	    (struct sockaddr *)&from, &fromlen), 4);
	assert_memory_equal(buf, "to C", 4);
	assert_int_equal(from.sin_addr.s_addr, inet_addr(addrs[0]));
	expect_errno(rump_sys_recv(fc, buf, sizeof(buf), MSG_DONTWAIT),
	    EAGAIN);
	as(l.k[1]);
	assert_int_equal(rump_sys_read(fb, buf, 0), 0);
	assert_int_equal(rump_sys_readv(fb, NULL, 0), 0);
	assert_int_equal(rump_sys_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), 5);
	assert_memory_equal(buf, "named", 5);
	expect_errno(rump_sys_read(99, buf, 0), EBADF);
	as(l.k[0]);
	assert_int_equal(rump_sys_shutdown(fa, SHUT_WR), 0);
	p = (struct pollfd){ .fd = fa, .events = POLLOUT };
	assert_int_equal(rump_sys_poll(&p, 1, 0), 1);
	assert_int_equal(p.revents, POLLOUT);
	expect_errno(rump_sys_send(fa, "x", 1, MSG_NOSIGNAL), EPIPE);
	/* MSG_OOB is refused before anything else (Linux) */
	expect_errno(rump_sys_send(fa, "x", 1, MSG_OOB), EOPNOTSUPP);
	assert_int_equal(rump_sys_close(fa), 0);
	as(l.k[1]);
	assert_int_equal(rump_sys_close(fb), 0);
	as(l.k[2]);
	assert_int_equal(rump_sys_close(fc), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/*
 * A datagram queued costs its bytes and two mbufs (SB_DG_COST: 512 bytes
 * more), so SO_RCVBUF bounds a flood of empty datagrams too (they cost
 * no bytes, and queued without end); an empty buffer takes one datagram
 * of any size (Linux).
 */
static void
test_udp_rcvbuf_counts_datagrams(void **state)
{
	struct lan l;
	struct sockaddr_in to = sa(addrs[1], 7);
	static char big[6000];
	char buf[64] = { 0 };	/* sent: valgrind checks its bytes */
	int fa, fb, rcv = 2048;		/* 4096 held, as Linux doubles it */

	(void)state;
	lan_up(&l, 2, NULL);
	fb = udp_socket(l.k[1], addrs[1], 7);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[1]);
	assert_int_equal(rump_sys_setsockopt(fb, SOL_SOCKET, SO_RCVBUF, &rcv,
	    sizeof(rcv)), 0);
	as(l.k[0]);
	for (int i = 0; i < 20; i++)
		assert_int_equal(rump_sys_sendto(fa, buf, 0, 0,
		    (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(stat(l.k[1], "udp.fullsock"), 12);	/* 8 fit */
	as(l.k[1]);
	for (int i = 0; i < 8; i++)
		assert_int_equal(rump_sys_recv(fb, buf, sizeof(buf),
		    MSG_DONTWAIT), 0);
	expect_errno(rump_sys_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	/* empty: one larger than the buffer fits, then nothing more */
	as(l.k[0]);
	assert_int_equal(rump_sys_sendto(fa, big, sizeof(big), 0,
	    (struct sockaddr *)&to, sizeof(to)), (ssize_t)sizeof(big));
	assert_int_equal(rump_sys_sendto(fa, buf, 10, 0,
	    (struct sockaddr *)&to, sizeof(to)), 10);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(stat(l.k[1], "udp.fullsock"), 13);
	as(l.k[1]);
	assert_int_equal(rump_sys_recv(fb, big, sizeof(big), MSG_DONTWAIT),
	    (ssize_t)sizeof(big));
	expect_errno(rump_sys_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	assert_int_equal(rump_sys_close(fb), 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_close(fa), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* getsockname() of fd (the thread bound): address and port. */
static struct sockaddr_in
local_of(int fd)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	assert_int_equal(rump_sys_getsockname(fd, (struct sockaddr *)&a,
	    &alen), 0);
	return a;
}

/*
 * connect(AF_UNSPEC) undoes what connect() chose, and only that, as
 * Linux's __udp_disconnect(): the source address connect() picked goes
 * (the socket hears all the host's addresses again) unless bind() named
 * one, and a port bind() did not name goes too (bind() works again).
 */
static void
test_udp_disconnect_forgets_chosen(void **state)
{
	struct lan l;
	struct sockaddr_in to = sa(addrs[1], 7), any5000 = sa("0.0.0.0", 5000),
	    own = sa(addrs[0], 5001), un = { .sin_family = AF_UNSPEC }, a;
	int fa, fb, fc;

	(void)state;
	lan_up(&l, 2, NULL);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	fb = udp_socket(l.k[0], "0.0.0.0", 0);
	fc = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_bind(fb, (struct sockaddr *)&any5000,
	    sizeof(any5000)), 0);
	assert_int_equal(rump_sys_bind(fc, (struct sockaddr *)&own,
	    sizeof(own)), 0);
	for (int i = 0; i < 3; i++) {
		int fd = i == 0 ? fa : i == 1 ? fb : fc;

		assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&to,
		    sizeof(to)), 0);
		a = local_of(fd);
		assert_int_equal(a.sin_addr.s_addr, inet_addr(addrs[0]));
		assert_true(a.sin_port != 0);
		assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&un,
		    sizeof(un)), 0);
	}
	a = local_of(fa);			/* nothing was bound */
	assert_int_equal(a.sin_addr.s_addr, INADDR_ANY);
	assert_int_equal(a.sin_port, 0);
	assert_int_equal(rump_sys_bind(fa, (struct sockaddr *)&any5000,
	    sizeof(any5000)), -1);		/* fb has it */
	assert_int_equal(errno, EADDRINUSE);
	a = local_of(fb);			/* the port was */
	assert_int_equal(a.sin_addr.s_addr, INADDR_ANY);
	assert_int_equal(a.sin_port, htons(5000));
	a = local_of(fc);			/* both were */
	assert_int_equal(a.sin_addr.s_addr, inet_addr(addrs[0]));
	assert_int_equal(a.sin_port, htons(5001));
	/*
	 * the address alone: kept, and a port sendto() takes later keeps
	 * it too; and connect(AF_UNSPEC) of a socket that never connected
	 * gives that port back
	 */
	struct sockaddr_in own0 = sa(addrs[0], 0);
	int fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);

	assert_int_equal(rump_sys_bind(fd, (struct sockaddr *)&own0,
	    sizeof(own0)), 0);
	assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&to,
	    sizeof(to)), 0);
	assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&un,
	    sizeof(un)), 0);
	a = local_of(fd);
	assert_int_equal(a.sin_addr.s_addr, inet_addr(addrs[0]));
	assert_int_equal(a.sin_port, 0);
	assert_int_equal(rump_sys_sendto(fd, "x", 1, 0, (struct sockaddr *)&to,
	    sizeof(to)), 1);
	a = local_of(fd);
	assert_int_equal(a.sin_addr.s_addr, inet_addr(addrs[0]));
	assert_true(a.sin_port != 0);
	assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&un,
	    sizeof(un)), 0);
	a = local_of(fd);
	assert_int_equal(a.sin_addr.s_addr, inet_addr(addrs[0]));
	assert_int_equal(a.sin_port, 0);
	assert_int_equal(rump_sys_close(fd), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(rump_sys_close(fa), 0);
	assert_int_equal(rump_sys_close(fb), 0);
	assert_int_equal(rump_sys_close(fc), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* SO_RCVTIMEO: a blocking receive gives up after the timeout (real clock). */
static void
test_so_rcvtimeo(void **state)
{
	struct rump_kernel *k = th_kernel(pkt_mode(),
	    RUMP_CLOCK_REAL, 1);
	struct timeval tv = { 0, 50000 }, got;
	socklen_t len = sizeof(got);
	struct linger lg = { 1, 7 }, lgot;
	char buf[8];
	uint64_t t0, t1;
	int fd;

	(void)state;
	assert_int_equal(rump_thread_bind(k), 0);
	fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	assert_int_equal(rump_sys_getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO,
	    &got, &len), 0);
	assert_int_equal(got.tv_sec, 0);
	assert_int_equal(got.tv_usec, 50000);
	t0 = th_now_ns();
	errno = 0;
	assert_int_equal(rump_sys_recv(fd, buf, sizeof(buf), 0), -1);
	t1 = th_now_ns();
	assert_int_equal(errno, EAGAIN);
	assert_true(t1 - t0 >= 45000000ull);
	assert_true(t1 - t0 < 5000000000ull);
	/* a negative or out-of-range timeout is refused */
	tv.tv_usec = 1000000;
	errno = 0;
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), -1);
	assert_int_equal(errno, EDOM);
	/* SO_LINGER is kept as given (it matters once TCP exists) */
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	len = sizeof(lgot);
	assert_int_equal(rump_sys_getsockopt(fd, SOL_SOCKET, SO_LINGER, &lgot,
	    &len), 0);
	assert_int_equal(lgot.l_onoff, 1);
	assert_int_equal(lgot.l_linger, 7);
	assert_int_equal(rump_sys_close(fd), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/*
 * Three instances, each sending 200 datagrams to each other over a bus
 * losing 10%, duplicating 2% and reordering nothing: the set of
 * datagrams that arrived is the same for the same seed.
 */
static uint64_t
sim_run(uint64_t seed, uint64_t *received)
{
	struct rump_bus_config cfg;
	struct lan l;
	int fd[NHOST];
	uint64_t digest = 1469598103934665603ull;

	rump_bus_config_default(&cfg);
	cfg.seed = seed;
	cfg.loss = 0.10;
	cfg.duplicate = 0.02;
	lan_up(&l, NHOST, &cfg);
	for (int i = 0; i < NHOST; i++)
		fd[i] = udp_socket(l.k[i], addrs[i], 9000);
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < NHOST; i++) {
			as(l.k[i]);
			for (int j = 0; j < NHOST; j++) {
				struct sockaddr_in to = sa(addrs[j], 9000);
				uint32_t msg[2] = { (uint32_t)i,
				    (uint32_t)round };

				if (i == j)
					continue;
				assert_int_equal(rump_sys_sendto(fd[i], msg,
				    sizeof(msg), 0, (struct sockaddr *)&to,
				    sizeof(to)), (ssize_t)sizeof(msg));
				assert_int_equal(rump_bus_quiesce(l.bus,
				    5000), 0);
			}
		}
	}
	*received = 0;
	for (int i = 0; i < NHOST; i++) {
		uint32_t msg[2];

		as(l.k[i]);
		while (rump_sys_recv(fd[i], msg, sizeof(msg), MSG_DONTWAIT) ==
		    (ssize_t)sizeof(msg)) {
			uint64_t v = (uint64_t)i << 40 | (uint64_t)msg[0] <<
			    32 | msg[1];

			digest = (digest ^ v) * 1099511628211ull;
			(*received)++;
		}
		assert_int_equal(rump_sys_close(fd[i]), 0);
	}
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
	return digest;
}

static void
test_sim_three_hosts_lossy_deterministic(void **state)
{
	uint64_t r1, r2, r3, d1, d2, d3;

	(void)state;
	d1 = sim_run(42, &r1);
	d2 = sim_run(42, &r2);
	d3 = sim_run(43, &r3);
	assert_int_equal(r1, r2);
	assert_int_equal(d1, d2);
	/* 1200 sent; about 10% lost, about 2% doubled */
	assert_true(r1 > 1000 && r1 < 1150);
	assert_true(d3 != d1);
}

/* ---- multicast (RFC 1112) and IGMPv2 (RFC 2236) ---- */

static const uint8_t tap_mac[6] = { 0x02, 0, 0, 0, 1, 0x99 };

/* join (or, drop) group on fd's instance, on the interface of address */
static int
mcast_req(int fd, int name, const char *group, const char *address)
{
	struct ip_mreq mr;

	mr.imr_multiaddr.s_addr = inet_addr(group);
	mr.imr_interface.s_addr = inet_addr(address);
	return rump_sys_setsockopt(fd, IPPROTO_IP, name, &mr, sizeof(mr));
}

/* The next frame on the tap that is IGMP (other frames skipped); its length. */
static size_t
next_igmp(struct lan *l, uint8_t *f, size_t size)
{
	size_t len;

	while (rump_bus_tap_recv(l->tap, f, size, &len, 0) == 0)
		if (len >= 14 + 20 && f[12] == 0x08 && f[13] == 0 &&
		    f[14 + 9] == IPPROTO_IGMP)
			return len;
	return 0;
}

/*
 * Check an IGMP message we sent, as RFC 2236 2 says: to dst's MAC, TTL 1,
 * the Router Alert option, from src, with correct checksums.
 */
static void
check_igmp(const uint8_t *f, size_t len, uint8_t type, const char *group,
    const char *dst, const char *src)
{
	uint32_t g = inet_addr(group), d = inet_addr(dst), s = inet_addr(src);
	const uint8_t *ih = f + 14, *igmp = f + 14 + 24;
	uint8_t mac[6] = { 0x01, 0x00, 0x5e, 0, 0, 0 };

	memcpy(mac + 3, (const uint8_t *)&d + 1, 3);
	mac[3] &= 0x7f;
	assert_int_equal(len, 14 + 24 + 8);
	assert_memory_equal(f, mac, 6);
	assert_int_equal(ih[0], 0x46);
	assert_int_equal(ih[1], 0xc0);
	assert_int_equal(ih[8], 1);
	assert_int_equal(ih[9], IPPROTO_IGMP);
	assert_memory_equal(ih + 12, &s, 4);
	assert_memory_equal(ih + 16, &d, 4);
	assert_memory_equal(ih + 20, "\x94\x04\x00\x00", 4);
	assert_int_equal(ref_cksum(ih, 24, 0), 0);
	assert_int_equal(igmp[0], type);
	assert_int_equal(igmp[1], 0);
	assert_memory_equal(igmp + 4, &g, 4);
	assert_int_equal(ref_cksum(igmp, 8, 0), 0);
}

/* An IGMP message of len bytes (8, or more: zeros) from the tap. */
static void
send_igmp(struct lan *l, uint8_t type, uint8_t code, const char *group,
    const char *dst, size_t len, bool badsum)
{
	static const uint8_t ra[4] = { 0x94, 0x04, 0, 0 };
	uint8_t f[128], mac[6] = { 0x01, 0x00, 0x5e, 0, 0, 0 };
	uint32_t d = inet_addr(dst), g = inet_addr(group);
	uint8_t *igmp = f + 14 + 24;
	uint16_t c;

	memcpy(mac + 3, (const uint8_t *)&d + 1, 3);
	mac[3] &= 0x7f;
	eth(f, mac, tap_mac, 0x0800);
	ipv4(f + 14, ra, 4, (uint16_t)(24 + len), 7, 0, 1, IPPROTO_IGMP,
	    "198.18.0.99", dst);
	memset(igmp, 0, len);
	igmp[0] = type;
	igmp[1] = code;
	memcpy(igmp + 4, &g, 4);
	c = ref_cksum(igmp, len, 0);
	if (badsum)
		c ^= 0x0100;
	memcpy(igmp + 2, &c, 2);
	assert_int_equal(rump_bus_tap_send(l->tap, f, 14 + 24 + len), 0);
	assert_int_equal(rump_bus_quiesce(l->bus, 5000), 0);
}

/* Move every instance's clock on by ms, a tenth of a second at a time. */
static void
lan_advance(struct lan *l, int nhost, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 100) {
		for (int i = 0; i < nhost; i++)
			assert_int_equal(rump_clock_advance(l->k[i],
			    100000000ull), 0);
		assert_int_equal(rump_bus_quiesce(l->bus, 5000), 0);
	}
}

static void
test_mcast_join_report_leave(void **state)
{
	struct lan l;
	struct ip_mreqn mn;
	uint8_t f[256];
	size_t len;
	int fb, fc, ft, v = 0;
	socklen_t vlen = sizeof(v);

	(void)state;
	lan_up(&l, 2, NULL);
	assert_int_equal(rump_bus_tap_open(l.bus, NULL, &l.tap), 0);
	fb = udp_socket(l.k[1], "0.0.0.0", 5000);
	fc = udp_socket(l.k[1], "0.0.0.0", 0);
	as(l.k[1]);
	/* the errors of Linux's ip_mc_join_group() */
	expect_errno(mcast_req(fb, IP_ADD_MEMBERSHIP, "198.18.0.9", addrs[1]),
	    EINVAL);
	expect_errno(mcast_req(fb, IP_ADD_MEMBERSHIP, "239.1.2.3",
	    "198.18.0.9"), ENODEV);
	/* no interface named, and no route to the group */
	expect_errno(mcast_req(fb, IP_ADD_MEMBERSHIP, "239.1.2.3", "0.0.0.0"),
	    ENODEV);
	memset(&mn, 0, sizeof(mn));
	mn.imr_multiaddr.s_addr = inet_addr("239.1.2.3");
	mn.imr_ifindex = 99;
	expect_errno(rump_sys_setsockopt(fb, IPPROTO_IP, IP_ADD_MEMBERSHIP,
	    &mn, sizeof(mn)), ENODEV);
	expect_errno(rump_sys_setsockopt(fb, IPPROTO_IP, IP_ADD_MEMBERSHIP,
	    &mn, 4), EINVAL);
	expect_errno(mcast_req(fb, IP_DROP_MEMBERSHIP, "239.1.2.3", addrs[1]),
	    EADDRNOTAVAIL);
	assert_int_equal(next_igmp(&l, f, sizeof(f)), 0);

	/* the join: one report at once, to the group */
	assert_int_equal(mcast_req(fb, IP_ADD_MEMBERSHIP, "239.1.2.3",
	    addrs[1]), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	len = next_igmp(&l, f, sizeof(f));
	check_igmp(f, len, 0x16, "239.1.2.3", "239.1.2.3", addrs[1]);
	assert_int_equal(stat(l.k[1], "igmp.sndreports"), 1);
	expect_errno(mcast_req(fb, IP_ADD_MEMBERSHIP, "239.1.2.3", addrs[1]),
	    EADDRINUSE);
	expect_errno(rump_sys_getsockopt(fb, IPPROTO_IP, IP_ADD_MEMBERSHIP,
	    &v, &vlen), ENOPROTOOPT);
	/* a second socket in it, named by index: the host is in it already */
	mn.imr_ifindex = (int)l.ifx[1];
	assert_int_equal(rump_sys_setsockopt(fc, IPPROTO_IP,
	    IP_ADD_MEMBERSHIP, &mn, sizeof(mn)), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(next_igmp(&l, f, sizeof(f)), 0);
	/* the repeat, within the Unsolicited Report Interval (10 s) */
	lan_advance(&l, 2, 10000);
	len = next_igmp(&l, f, sizeof(f));
	check_igmp(f, len, 0x16, "239.1.2.3", "239.1.2.3", addrs[1]);
	assert_int_equal(next_igmp(&l, f, sizeof(f)), 0);
	assert_int_equal(stat(l.k[1], "igmp.sndreports"), 2);
	lan_advance(&l, 2, 20000);
	assert_int_equal(next_igmp(&l, f, sizeof(f)), 0);

	/* a TCP socket has no memberships (EPROTO), nor a multicast TTL */
	ft = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
	assert_true(ft >= 0);
	expect_errno(mcast_req(ft, IP_ADD_MEMBERSHIP, "239.1.2.3", addrs[1]),
	    EPROTO);
	v = 5;
	expect_errno(rump_sys_setsockopt(ft, IPPROTO_IP, IP_MULTICAST_TTL, &v,
	    sizeof(v)), EINVAL);
	assert_int_equal(rump_sys_close(ft), 0);

	/* one member leaves: nothing; the last (by close): a leave */
	assert_int_equal(mcast_req(fb, IP_DROP_MEMBERSHIP, "239.1.2.3",
	    addrs[1]), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(next_igmp(&l, f, sizeof(f)), 0);
	expect_errno(mcast_req(fb, IP_DROP_MEMBERSHIP, "239.1.2.3", addrs[1]),
	    EADDRNOTAVAIL);
	assert_int_equal(rump_sys_close(fc), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	len = next_igmp(&l, f, sizeof(f));
	check_igmp(f, len, 0x17, "239.1.2.3", "224.0.0.2", addrs[1]);
	assert_int_equal(stat(l.k[1], "igmp.sndleaves"), 1);

	/* no address, no report: it goes when the interface gets one */
	assert_int_equal(rump_if_addr_del(l.k[1], l.ifx[1],
	    inet_addr(addrs[1])), 0);
	mn.imr_multiaddr.s_addr = inet_addr("239.1.2.7");
	assert_int_equal(rump_sys_setsockopt(fb, IPPROTO_IP,
	    IP_ADD_MEMBERSHIP, &mn, sizeof(mn)), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(next_igmp(&l, f, sizeof(f)), 0);
	assert_int_equal(rump_if_addr_add(l.k[1], l.ifx[1],
	    inet_addr(addrs[1]), 24), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	len = next_igmp(&l, f, sizeof(f));
	check_igmp(f, len, 0x16, "239.1.2.7", "239.1.2.7", addrs[1]);

	/*
	 * joined by address and by index, then the interface goes: each
	 * membership can still be dropped as it was made (Linux's rules)
	 */
	assert_int_equal(mcast_req(fb, IP_ADD_MEMBERSHIP, "239.1.2.4",
	    addrs[1]), 0);
	mn.imr_multiaddr.s_addr = inet_addr("239.1.2.5");
	assert_int_equal(rump_sys_setsockopt(fb, IPPROTO_IP,
	    IP_ADD_MEMBERSHIP, &mn, sizeof(mn)), 0);
	assert_int_equal(rump_if_destroy(l.k[1], l.ifx[1]), 0);
	expect_errno(mcast_req(fb, IP_ADD_MEMBERSHIP, "239.1.2.6", addrs[1]),
	    ENODEV);
	expect_errno(mcast_req(fb, IP_DROP_MEMBERSHIP, "239.1.2.6", addrs[1]),
	    EADDRNOTAVAIL);
	expect_errno(mcast_req(fb, IP_DROP_MEMBERSHIP, "239.1.2.4", "0.0.0.0"),
	    ENODEV);
	assert_int_equal(mcast_req(fb, IP_DROP_MEMBERSHIP, "239.1.2.4",
	    addrs[1]), 0);
	mn.imr_ifindex = -1;
	expect_errno(rump_sys_setsockopt(fb, IPPROTO_IP, IP_DROP_MEMBERSHIP,
	    &mn, sizeof(mn)), EADDRNOTAVAIL);
	mn.imr_ifindex = (int)l.ifx[1];
	assert_int_equal(rump_sys_setsockopt(fb, IPPROTO_IP,
	    IP_DROP_MEMBERSHIP, &mn, sizeof(mn)), 0);
	expect_errno(rump_sys_setsockopt(fb, IPPROTO_IP, IP_DROP_MEMBERSHIP,
	    &mn, sizeof(mn)), EADDRNOTAVAIL);
	/* 239.1.2.7's membership goes with the socket */
	assert_int_equal(rump_sys_close(fb), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* recv on fd without waiting: the length, or -1 */
static ssize_t
recv_now(int fd, char *buf, size_t size)
{
	return rump_sys_recv(fd, buf, size, MSG_DONTWAIT);
}

static int
reuse_socket(struct rump_kernel *k, uint16_t port)
{
	struct sockaddr_in s = sa("0.0.0.0", port);
	int fd, one = 1;

	as(k);
	fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR,
	    &one, sizeof(one)), 0);
	assert_int_equal(rump_sys_bind(fd, (struct sockaddr *)&s, sizeof(s)),
	    0);
	return fd;
}

static void
test_mcast_send_receive(void **state)
{
	struct lan l;
	struct sockaddr_in g = sa("239.1.2.3", 6000), g4 = sa("239.1.2.4", 6000);
	struct in_addr ifa;
	struct ip_mreqn mn;
	socklen_t alen = sizeof(ifa);
	uint8_t f[256];
	char buf[64];
	size_t len;
	int fa, fc, fl, fb, fn, fall, v;
	uint32_t a0 = inet_addr(addrs[0]);

	(void)state;
	lan_up(&l, 3, NULL);
	assert_int_equal(rump_bus_tap_open(l.bus, NULL, &l.tap), 0);
	fb = reuse_socket(l.k[1], 6000);	/* joins */
	fn = reuse_socket(l.k[1], 6000);	/* does not */
	fall = reuse_socket(l.k[1], 6000);	/* IP_MULTICAST_ALL */
	as(l.k[1]);
	assert_int_equal(ipopt(fall, IP_MULTICAST_ALL), 0);
	set_ipopt(fall, IP_MULTICAST_ALL, 1);
	assert_int_equal(ipopt(fall, IP_MULTICAST_ALL), 1);
	assert_int_equal(mcast_req(fb, IP_ADD_MEMBERSHIP, "239.1.2.3",
	    addrs[1]), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	fa = udp_socket(l.k[0], "0.0.0.0", 0);
	as(l.k[0]);
	assert_int_equal(ipopt(fa, IP_MULTICAST_TTL), 1);
	assert_int_equal(ipopt(fa, IP_MULTICAST_LOOP), 1);
	/* no IP_MULTICAST_IF and no route to the group */
	expect_errno(rump_sys_sendto(fa, "m0", 2, 0, (struct sockaddr *)&g,
	    sizeof(g)), ENETUNREACH);
	assert_int_equal(next_igmp(&l, f, sizeof(f)), 14 + 24 + 8);
	assert_int_equal(rump_bus_tap_recv(l.tap, f, sizeof(f), &len, 0),
	    EAGAIN);
	/* sendmsg()'s IP_PKTINFO names the way out (Linux) */
	{
		struct {
			int ipi_ifindex;
			struct in_addr ipi_spec_dst, ipi_addr;
		} pi = { .ipi_ifindex = (int)l.ifx[0] };
		uint64_t ctl[8];
		size_t at = 0;

		put_cmsg(ctl, &at, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		assert_int_equal(send_ctl(fa, &g, ctl, at), 1);
		assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
		assert_int_equal(rump_bus_tap_recv(l.tap, f, sizeof(f), &len,
		    0), 0);
		assert_memory_equal(f, "\x01\x00\x5e\x01\x02\x03", 6);
		assert_memory_equal(f + 14 + 12, &a0, 4);
		as(l.k[1]);
		assert_int_equal(recv_now(fb, buf, sizeof(buf)), 1);
		assert_memory_equal(buf, "y", 1);
		assert_int_equal(recv_now(fall, buf, sizeof(buf)), 1);
		as(l.k[0]);
	}
	ifa.s_addr = a0;
	assert_int_equal(rump_sys_setsockopt(fa, IPPROTO_IP, IP_MULTICAST_IF,
	    &ifa, sizeof(ifa)), 0);
	ifa.s_addr = 0;
	assert_int_equal(rump_sys_getsockopt(fa, IPPROTO_IP, IP_MULTICAST_IF,
	    &ifa, &alen), 0);
	assert_int_equal(alen, sizeof(ifa));
	assert_int_equal(ifa.s_addr, a0);
	ifa.s_addr = inet_addr("198.18.0.9");
	expect_errno(rump_sys_setsockopt(fa, IPPROTO_IP, IP_MULTICAST_IF,
	    &ifa, sizeof(ifa)), EADDRNOTAVAIL);

	/* to the group's MAC, TTL 1, from the interface's address */
	assert_int_equal(rump_sys_sendto(fa, "m1", 2, 0, (struct sockaddr *)&g,
	    sizeof(g)), 2);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(rump_bus_tap_recv(l.tap, f, sizeof(f), &len, 0), 0);
	assert_int_equal(len, 14 + 20 + 8 + 2);
	assert_memory_equal(f, "\x01\x00\x5e\x01\x02\x03", 6);
	assert_int_equal(f[14 + 8], 1);
	assert_memory_equal(f + 14 + 12, &a0, 4);
	as(l.k[1]);
	assert_int_equal(recv_now(fb, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "m1", 2);
	expect_errno(recv_now(fn, buf, sizeof(buf)), EAGAIN);
	assert_int_equal(recv_now(fall, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "m1", 2);
	assert_int_equal(stat(l.k[1], "ip.notmember"), 0);
	/* connected to the group: from IP_MULTICAST_IF's address */
	as(l.k[0]);
	fc = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fc >= 0);
	ifa.s_addr = a0;
	assert_int_equal(rump_sys_setsockopt(fc, IPPROTO_IP, IP_MULTICAST_IF,
	    &ifa, sizeof(ifa)), 0);
	assert_int_equal(rump_sys_connect(fc, (struct sockaddr *)&g,
	    sizeof(g)), 0);
	assert_int_equal(rump_sys_send(fc, "mc", 2, 0), 2);
	assert_int_equal(rump_sys_close(fc), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[1]);
	{
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);

		assert_int_equal(rump_sys_recvfrom(fb, buf, sizeof(buf),
		    MSG_DONTWAIT, (struct sockaddr *)&from, &flen), 2);
		assert_memory_equal(buf, "mc", 2);
		assert_int_equal(from.sin_addr.s_addr, a0);
	}
	assert_int_equal(recv_now(fall, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "mc", 2);
	/* the third host is in no group: all three dropped and counted */
	assert_int_equal(stat(l.k[2], "ip.notmember"), 3);
	assert_int_equal(stat(l.k[2], "udp.ipackets"), 0);

	/* a group the host is not in: nobody, even with IP_MULTICAST_ALL */
	as(l.k[0]);
	assert_int_equal(rump_sys_sendto(fa, "m2", 2, 0,
	    (struct sockaddr *)&g4, sizeof(g4)), 2);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	as(l.k[1]);
	assert_int_equal(stat(l.k[1], "ip.notmember"), 1);
	expect_errno(recv_now(fb, buf, sizeof(buf)), EAGAIN);
	expect_errno(recv_now(fall, buf, sizeof(buf)), EAGAIN);

	/* IP_MULTICAST_TTL, an int or a byte; -1 is the default */
	as(l.k[0]);
	v = 256;
	expect_errno(rump_sys_setsockopt(fa, IPPROTO_IP, IP_MULTICAST_TTL, &v,
	    sizeof(v)), EINVAL);
	{
		uint8_t ttl = 7;

		assert_int_equal(rump_sys_setsockopt(fa, IPPROTO_IP,
		    IP_MULTICAST_TTL, &ttl, 1), 0);
	}
	assert_int_equal(ipopt(fa, IP_MULTICAST_TTL), 7);
	while (rump_bus_tap_recv(l.tap, f, sizeof(f), &len, 0) == 0)
		;
	assert_int_equal(rump_sys_sendto(fa, "m3", 2, 0, (struct sockaddr *)&g,
	    sizeof(g)), 2);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(rump_bus_tap_recv(l.tap, f, sizeof(f), &len, 0), 0);
	assert_int_equal(f[14 + 8], 7);
	set_ipopt(fa, IP_MULTICAST_TTL, -1);
	assert_int_equal(ipopt(fa, IP_MULTICAST_TTL), 1);
	as(l.k[1]);
	assert_int_equal(recv_now(fb, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "m3", 2);
	assert_int_equal(recv_now(fall, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "m3", 2);

	/* a member on the sending host gets a copy (IP_MULTICAST_LOOP) */
	fl = reuse_socket(l.k[0], 6000);
	assert_int_equal(mcast_req(fl, IP_ADD_MEMBERSHIP, "239.1.2.3",
	    addrs[0]), 0);
	assert_int_equal(rump_sys_sendto(fa, "m4", 2, 0, (struct sockaddr *)&g,
	    sizeof(g)), 2);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(recv_now(fl, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "m4", 2);
	assert_int_equal(stat(l.k[0], "if.bus0.iloop"), 0);
	/* TTL 0: the host's members only (RFC 1112 6.1) */
	set_ipopt(fa, IP_MULTICAST_TTL, 0);
	while (rump_bus_tap_recv(l.tap, f, sizeof(f), &len, 0) == 0)
		;
	assert_int_equal(rump_sys_sendto(fa, "m0", 2, 0, (struct sockaddr *)&g,
	    sizeof(g)), 2);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(recv_now(fl, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "m0", 2);
	assert_int_equal(rump_bus_tap_recv(l.tap, f, sizeof(f), &len, 0),
	    EAGAIN);
	set_ipopt(fa, IP_MULTICAST_TTL, 1);
	set_ipopt(fa, IP_MULTICAST_LOOP, 0);
	assert_int_equal(ipopt(fa, IP_MULTICAST_LOOP), 0);
	/* and by index, with an ip_mreqn */
	memset(&mn, 0, sizeof(mn));
	mn.imr_ifindex = (int)l.ifx[0];
	assert_int_equal(rump_sys_setsockopt(fa, IPPROTO_IP, IP_MULTICAST_IF,
	    &mn, sizeof(mn)), 0);
	assert_int_equal(rump_sys_sendto(fa, "m5", 2, 0, (struct sockaddr *)&g,
	    sizeof(g)), 2);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	expect_errno(recv_now(fl, buf, sizeof(buf)), EAGAIN);
	as(l.k[1]);
	assert_int_equal(recv_now(fb, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "m4", 2);
	assert_int_equal(recv_now(fb, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "m5", 2);
	expect_errno(recv_now(fb, buf, sizeof(buf)), EAGAIN);

	/* a socket bound to the group sends from the interface's address */
	{
		struct sockaddr_in bg = sa("239.1.2.3", 6001), from;
		socklen_t flen = sizeof(from);
		int fg = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
		uint32_t a1 = inet_addr(addrs[1]);

		assert_true(fg >= 0);
		assert_int_equal(rump_sys_bind(fg, (struct sockaddr *)&bg,
		    sizeof(bg)), 0);
		ifa.s_addr = a1;
		assert_int_equal(rump_sys_setsockopt(fg, IPPROTO_IP,
		    IP_MULTICAST_IF, &ifa, sizeof(ifa)), 0);
		while (rump_bus_tap_recv(l.tap, f, sizeof(f), &len, 0) == 0)
			;
		assert_int_equal(rump_sys_sendto(fg, "m6", 2, 0,
		    (struct sockaddr *)&g, sizeof(g)), 2);
		assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
		assert_int_equal(rump_bus_tap_recv(l.tap, f, sizeof(f), &len,
		    0), 0);
		assert_memory_equal(f + 14 + 12, &a1, 4);
		/* fb, a member on this host, has its looped copy */
		assert_int_equal(rump_sys_recvfrom(fb, buf, sizeof(buf),
		    MSG_DONTWAIT, (struct sockaddr *)&from, &flen), 2);
		assert_memory_equal(buf, "m6", 2);
		assert_int_equal(from.sin_addr.s_addr, a1);
		assert_int_equal(ntohs(from.sin_port), 6001);
		assert_int_equal(rump_sys_close(fg), 0);
	}

	assert_int_equal(rump_sys_close(fb), 0);
	assert_int_equal(rump_sys_close(fn), 0);
	assert_int_equal(rump_sys_close(fall), 0);
	as(l.k[0]);
	assert_int_equal(rump_sys_close(fa), 0);
	assert_int_equal(rump_sys_close(fl), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* The groups of the IGMP reports on the tap, in order; their count. */
static int
reports(struct lan *l, uint8_t type, uint32_t *groups, int max)
{
	uint8_t f[256];
	size_t len;
	int n = 0;

	while ((len = next_igmp(l, f, sizeof(f))) != 0) {
		assert_int_equal(f[14 + 24], type);
		assert_true(n < max);
		memcpy(&groups[n++], f + 14 + 24 + 4, 4);
	}
	return n;
}

static void
test_igmp_queries(void **state)
{
	struct lan l;
	uint32_t g[8];
	int fb;

	(void)state;
	lan_up(&l, 2, NULL);
	assert_int_equal(rump_bus_tap_open(l.bus, NULL, &l.tap), 0);
	fb = udp_socket(l.k[1], "0.0.0.0", 5000);
	as(l.k[1]);
	assert_int_equal(mcast_req(fb, IP_ADD_MEMBERSHIP, "239.1.2.3",
	    addrs[1]), 0);
	assert_int_equal(mcast_req(fb, IP_ADD_MEMBERSHIP, "239.1.2.4",
	    addrs[1]), 0);
	lan_advance(&l, 2, 10100);	/* the unsolicited reports are over */
	assert_int_equal(reports(&l, 0x16, g, 8), 4);
	assert_int_equal(stat(l.k[1], "igmp.sndreports"), 4);

	/* a general query, Max Resp Time 1 s: each group within 1 s */
	send_igmp(&l, 0x11, 10, "0.0.0.0", "224.0.0.1", 8, false);
	assert_int_equal(stat(l.k[1], "igmp.rcvqueries"), 1);
	lan_advance(&l, 2, 1000);
	assert_int_equal(reports(&l, 0x16, g, 8), 2);
	assert_true((g[0] == inet_addr("239.1.2.3") &&
	    g[1] == inet_addr("239.1.2.4")) ||
	    (g[1] == inet_addr("239.1.2.3") &&
	    g[0] == inet_addr("239.1.2.4")));
	/* a version 3 query (12 bytes) is answered as a version 2 one */
	send_igmp(&l, 0x11, 10, "239.1.2.3", "239.1.2.3", 12, false);
	lan_advance(&l, 2, 1000);
	assert_int_equal(reports(&l, 0x16, g, 8), 1);
	assert_int_equal(g[0], inet_addr("239.1.2.3"));

	/* a query for one group, then another host's report: ours is held */
	send_igmp(&l, 0x11, 10, "239.1.2.4", "239.1.2.4", 8, false);
	send_igmp(&l, 0x16, 0, "239.1.2.4", "239.1.2.4", 8, false);
	assert_int_equal(stat(l.k[1], "igmp.rcvourreports"), 1);
	lan_advance(&l, 2, 1000);
	assert_int_equal(reports(&l, 0x16, g, 8), 0);
	assert_int_equal(stat(l.k[1], "igmp.sndreports"), 7);
	/* and ours was not the last report: no leave */
	assert_int_equal(mcast_req(fb, IP_DROP_MEMBERSHIP, "239.1.2.4",
	    addrs[1]), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(reports(&l, 0x17, g, 8), 0);

	/* malformed: each counted, none answered */
	send_igmp(&l, 0x11, 10, "0.0.0.0", "224.0.0.1", 6, false);
	assert_int_equal(stat(l.k[1], "igmp.rcvtooshort"), 1);
	send_igmp(&l, 0x11, 10, "0.0.0.0", "224.0.0.1", 8, true);
	assert_int_equal(stat(l.k[1], "igmp.rcvbadsum"), 1);
	send_igmp(&l, 0x11, 10, "0.0.0.0", "224.0.0.1", 10, false);
	send_igmp(&l, 0x11, 10, "10.0.0.1", "224.0.0.1", 8, false);
	assert_int_equal(stat(l.k[1], "igmp.rcvbadqueries"), 2);
	send_igmp(&l, 0x16, 0, "239.1.2.3", "224.0.0.1", 8, false);
	assert_int_equal(stat(l.k[1], "igmp.rcvbadreports"), 1);
	lan_advance(&l, 2, 1000);
	assert_int_equal(reports(&l, 0x16, g, 8), 0);
	assert_int_equal(stat(l.k[1], "igmp.rcvtotal"), 9);

	/* an IGMPv1 querier (code 0): version 1 reports within 10 s, no leave */
	send_igmp(&l, 0x11, 0, "0.0.0.0", "224.0.0.1", 8, false);
	lan_advance(&l, 2, 10000);
	assert_int_equal(reports(&l, 0x12, g, 8), 1);
	assert_int_equal(g[0], inet_addr("239.1.2.3"));
	assert_int_equal(rump_sys_close(fb), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(reports(&l, 0x17, g, 8), 0);
	assert_int_equal(stat(l.k[1], "igmp.sndleaves"), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_echo_between_instances),
		cmocka_unit_test(test_udp_port_unreachable_econnrefused),
		cmocka_unit_test(test_udp_bind_broadcast_address),
		cmocka_unit_test(test_udp_broadcast_needs_so_broadcast),
		cmocka_unit_test(test_udp_unicast_in_broadcast_frame),
		cmocka_unit_test(test_udp_ip_options),
		cmocka_unit_test(test_udp_sendmsg_control),
		cmocka_unit_test(test_udp_timestamps),
		cmocka_unit_test(test_udp_segment),
		cmocka_unit_test(test_udp_cork),
		cmocka_unit_test(test_udp_mmsg),
		cmocka_unit_test(test_udp_bad_headers),
		cmocka_unit_test(test_socket_api_errors),
		cmocka_unit_test(test_poll_and_fionread),
		cmocka_unit_test(test_blocking_recv_wakes),
		cmocka_unit_test(test_udp_shutdown_unconnected_wakes),
		cmocka_unit_test(test_udp_connected_linux_rules),
		cmocka_unit_test(test_udp_rcvbuf_counts_datagrams),
		cmocka_unit_test(test_udp_disconnect_forgets_chosen),
		cmocka_unit_test(test_so_rcvtimeo),
		cmocka_unit_test(test_sim_three_hosts_lossy_deterministic),
		cmocka_unit_test(test_mcast_join_report_leave),
		cmocka_unit_test(test_mcast_send_receive),
		cmocka_unit_test(test_igmp_queries),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
