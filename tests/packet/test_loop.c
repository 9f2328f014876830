/*
 * test_loop.c -- lo0 and local delivery: datagrams and connections to
 * 127.0.0.1 and to the instance's own address never reach the wire or
 * ARP, come from the right source address, and arrive intact.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "rumpnet/bus.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

#define ME "198.18.0.1"
#define XFER (1u << 20)

struct lenv {
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

static void
lenv_up(struct lenv *e)
{
	struct rump_bus_config cfg;
	const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 1 };
	size_t len;
	uint8_t f[2048];

	rump_bus_config_default(&cfg);
	assert_int_equal(rump_bus_create(&cfg, &e->bus), 0);
	assert_int_equal(rump_bus_tap_open(e->bus, NULL, &e->tap), 0);
	e->k = th_kernel(pkt_mode(), RUMP_CLOCK_REAL, 1);
	assert_int_equal(rump_bus_attach(e->bus, e->k, "bus0", mac, &e->ifx),
	    0);
	assert_int_equal(rump_if_addr_add(e->k, e->ifx, ip(ME), 24), 0);
	assert_int_equal(rump_if_up(e->k, e->ifx), 0);
	assert_int_equal(rump_bus_quiesce(e->bus, 5000), 0);
	/* the gratuitous ARP of the address: nothing else may follow */
	while (rump_bus_tap_recv(e->tap, f, sizeof(f), &len, 0) == 0)
		;
	assert_int_equal(rump_thread_bind(e->k), 0);
}

static void
lenv_down(struct lenv *e)
{
	size_t len;
	uint8_t f[2048];

	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_bus_quiesce(e->bus, 5000), 0);
	/* local traffic never touched the wire, nor asked ARP */
	assert_int_equal(rump_bus_tap_recv(e->tap, f, sizeof(f), &len, 0),
	    EAGAIN);
	assert_int_equal(stat(e->k, "arp.sendrequests"), 0);
	rump_bus_tap_close(e->tap);
	th_kernel_destroy(e->k);
	assert_int_equal(rump_bus_destroy(e->bus), 0);
}

static void
test_lo0_exists(void **state)
{
	struct lenv e;
	unsigned lo, ifx;
	uint32_t nh;

	(void)state;
	lenv_up(&e);
	assert_int_equal(rump_if_index(e.k, "lo0", &lo), 0);
	assert_int_equal(rump_route_get(e.k, ip("127.0.0.1"), &ifx, &nh), 0);
	assert_int_equal(ifx, lo);
	/* our own address: through lo0 too (a host route), the rest of the
	 * subnet through bus0 */
	assert_int_equal(rump_route_get(e.k, ip(ME), &ifx, &nh), 0);
	assert_int_equal(ifx, lo);
	assert_int_equal(rump_route_get(e.k, ip("198.18.0.2"), &ifx, &nh), 0);
	assert_int_equal(ifx, e.ifx);
	lenv_down(&e);
}

/* UDP to ourselves, to 127.0.0.1 and to our address: the source matches. */
static void
test_udp_to_self(void **state)
{
	const char *dsts[] = { "127.0.0.1", ME };
	struct sockaddr_in a = sa("0.0.0.0", 7000), from;
	socklen_t fl = sizeof(from);
	struct lenv e;
	char buf[64];
	int rfd, sfd;

	(void)state;
	lenv_up(&e);
	rfd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(rump_sys_bind(rfd, (struct sockaddr *)&a, sizeof(a)),
	    0);
	sfd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in to = sa(dsts[i], 7000);

		assert_int_equal(rump_sys_sendto(sfd, "self", 4, 0,
		    (struct sockaddr *)&to, sizeof(to)), 4);
		fl = sizeof(from);
		assert_int_equal(rump_sys_recvfrom(rfd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &fl), 4);
		assert_memory_equal(buf, "self", 4);
		assert_int_equal(from.sin_addr.s_addr, ip(dsts[i]));
	}
	assert_true(stat(e.k, "if.lo0.opackets") >= 2);
	assert_int_equal(rump_sys_close(sfd), 0);
	assert_int_equal(rump_sys_close(rfd), 0);
	lenv_down(&e);
}

/* An ICMP echo to our own address is answered. */
static void
test_ping_self(void **state)
{
	struct rump_ping_reply r;
	struct lenv e;

	(void)state;
	lenv_up(&e);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_ping_send(e.k, ip(ME), 9, 1, 56), 0);
	assert_true(th_wait_until(rump_ping_last(e.k, &r) == 0 &&
	    r.count == 1, 5000));
	assert_int_equal(r.src, ip(ME));
	assert_int_equal(r.seq, 1);
	assert_int_equal(rump_thread_bind(e.k), 0);
	lenv_down(&e);
}

struct server {
	struct rump_kernel *k;
	int lfd;
	_Atomic uint64_t got;
	uint64_t bad;
};

static void *
server_main(void *arg)
{
	struct server *s = arg;
	static uint8_t buf[32768];
	int fd;

	assert_int_equal(rump_thread_bind(s->k), 0);
	if ((fd = rump_sys_accept(s->lfd, NULL, NULL)) >= 0) {
		ssize_t n;

		/* until the client's reset (no TIME-WAIT left behind) */
		while ((n = rump_sys_read(fd, buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < n; i++)
				s->bad += buf[i] != (uint8_t)(s->got + i);
			s->got += (uint64_t)n;
		}
		rump_sys_close(fd);
	}
	rump_thread_unbind();
	return NULL;
}

/* TCP over lo0 (64 KiB segments, checksums left out), to both addresses. */
static void
test_tcp_to_self(void **state)
{
	const char *dsts[] = { "127.0.0.1", ME };
	const struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	static uint8_t buf[XFER];
	struct lenv e;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	lenv_up(&e);
	for (int d = 0; d < 2; d++) {
		struct sockaddr_in a = sa(dsts[d], (uint16_t)(8000 + d)), me;
		socklen_t ml = sizeof(me);
		struct server s = { .k = e.k, .got = 0 };
		pthread_t t;
		int fd;

		s.lfd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(rump_sys_bind(s.lfd, (struct sockaddr *)&a,
		    sizeof(a)), 0);
		assert_int_equal(rump_sys_listen(s.lfd, 1), 0);
		assert_int_equal(pthread_create(&t, NULL, server_main, &s), 0);
		fd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&a,
		    sizeof(a)), 0);
		assert_int_equal(rump_sys_getsockname(fd, (struct sockaddr *)&me,
		    &ml), 0);
		assert_int_equal(me.sin_addr.s_addr, ip(dsts[d]));
		for (size_t off = 0; off < sizeof(buf);) {
			ssize_t n = rump_sys_write(fd, buf + off,
			    sizeof(buf) - off);

			assert_true(n > 0);
			off += (size_t)n;
		}
		assert_true(th_wait_until(s.got == XFER, 10000));
		assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_LINGER,
		    &rst, sizeof(rst)), 0);
		assert_int_equal(rump_sys_close(fd), 0);
		pthread_join(t, NULL);
		assert_int_equal(s.got, XFER);
		assert_int_equal(s.bad, 0);
		assert_int_equal(rump_sys_close(s.lfd), 0);
	}
	assert_int_equal(stat(e.k, "tcp.rcvbadsum"), 0);
	lenv_down(&e);
}

/*
 * RFC 1122 3.2.1.3 (g): 127/8 never arrives from outside the host.  An
 * echo request to 127.0.0.1 from the wire is dropped (ip.notforus), not
 * answered.
 */
static void
test_wire_to_loopback_dropped(void **state)
{
	const uint8_t me[6] = { 0x02, 0, 0, 0, 0, 1 };
	const uint8_t peer[6] = { 0x02, 0, 0, 0, 0, 2 };
	uint8_t f[64], *icmp;
	uint16_t c;
	size_t len, hl;
	struct lenv e;

	(void)state;
	lenv_up(&e);
	len = eth(f, me, peer, 0x0800);
	hl = ipv4(f + len, NULL, 0, 28, 0x77, 0, 64, 1, "198.18.0.2",
	    "127.0.0.1");
	icmp = f + len + hl;
	memset(icmp, 0, 8);
	icmp[0] = 8;
	c = ref_cksum(icmp, 8, 0);
	memcpy(icmp + 2, &c, 2);
	assert_int_equal(rump_bus_tap_send(e.tap, f, len + hl + 8), 0);
	assert_int_equal(rump_bus_quiesce(e.bus, 5000), 0);
	assert_int_equal(stat(e.k, "ip.notforus"), 1);
	assert_int_equal(stat(e.k, "icmp.in.echo"), 0);
	lenv_down(&e);	/* and nothing went back on the wire */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lo0_exists),
		cmocka_unit_test(test_udp_to_self),
		cmocka_unit_test(test_ping_self),
		cmocka_unit_test(test_tcp_to_self),
		cmocka_unit_test(test_wire_to_loopback_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
