/*
 * test_rss.c -- ephemeral ports chosen for RSS (rump_rss_set(), DESIGN.md
 * "Multi-core"): a client instance told it is instance 1 of 2 connects
 * 200 times over TCP and over UDP to a server instance on the bus, and
 * every port it picks makes the reply (server to client, as the NIC hashes
 * it on receive) land on queue 1; the ports it skips are exactly those
 * whose replies land elsewhere.  Without RSS (1 instance) the ports follow
 * one another as before.  Ports picked without a peer and ports bound by
 * the user are not constrained; when no port is left, EADDRNOTAVAIL.
 *
 * The expected queue is computed with net/rss.h, which test_rss (unit)
 * checks against Microsoft's verification vectors.
 *
 * Needs no root, no DPDK, no network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "net/rss.h"
#include "rumpnet/bus.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

#define SERVER "198.18.0.1"
#define CLIENT "198.18.0.2"
#define NOBODY "198.18.0.99"	/* ARP says it exists; nothing answers */
#define NCONN 200
#define NPORTS 16384		/* 49152 .. 65535 */

struct renv {
	struct rump_bus *bus;
	struct rump_kernel *srv, *cli;
	unsigned sifx, cifx;
};

static const uint8_t srv_mac[6] = { 0x02, 0, 0, 0, 2, 1 };
static const uint8_t cli_mac[6] = { 0x02, 0, 0, 0, 2, 2 };
static const uint8_t nobody_mac[6] = { 0x02, 0, 0, 0, 2, 99 };

static uint64_t
stat(struct rump_kernel *k, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(rump_stat_get(k, name, &v), 0);
	return v;
}

static void
renv_up(struct renv *e)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(rump_bus_create(NULL, &e->bus), 0);
	e->srv = th_kernel(pkt_mode(), RUMP_CLOCK_VIRTUAL, 1);
	e->cli = th_kernel(pkt_mode(), RUMP_CLOCK_VIRTUAL, 1);
	assert_int_equal(rump_bus_attach(e->bus, e->srv, "bus0", srv_mac,
	    &e->sifx), 0);
	assert_int_equal(rump_bus_attach(e->bus, e->cli, "bus0", cli_mac,
	    &e->cifx), 0);
	assert_int_equal(rump_if_up(e->srv, e->sifx), 0);
	assert_int_equal(rump_if_up(e->cli, e->cifx), 0);
	assert_int_equal(rump_if_addr_add(e->srv, e->sifx, ip(SERVER), 24), 0);
	assert_int_equal(rump_if_addr_add(e->cli, e->cifx, ip(CLIENT), 24), 0);
	/* no ARP in these tests */
	assert_int_equal(rump_arp_add(e->srv, e->sifx, ip(CLIENT), cli_mac), 0);
	assert_int_equal(rump_arp_add(e->cli, e->cifx, ip(SERVER), srv_mac), 0);
	assert_int_equal(rump_arp_add(e->cli, e->cifx, ip(NOBODY),
	    nobody_mac), 0);
	assert_int_equal(rump_bus_quiesce(e->bus, 5000), 0);
}

static void
renv_down(struct renv *e)
{
	(void)rump_thread_unbind();
	/* frames in flight hold mbufs: let them land before the leak check */
	assert_int_equal(rump_bus_quiesce(e->bus, 5000), 0);
	th_kernel_destroy(e->cli);
	th_kernel_destroy(e->srv);
	assert_int_equal(rump_bus_destroy(e->bus), 0);
}

/* The client as instance `instance` of n, default key and table. */
static void
cli_rss(struct renv *e, unsigned instance, unsigned n,
    struct rump_rss_config *cfg)
{
	rump_rss_config_default(cfg, instance, n);
	assert_int_equal(rump_rss_set(e->cli, cfg), 0);
}

/*
 * The queue the client's NIC gives a reply from server:sport to the
 * client's port cport (host order) under cfg.
 */
static unsigned
reply_queue(const struct rump_rss_config *cfg, const char *server,
    uint16_t sport, uint16_t cport)
{
	static struct rss_key rk;
	static uint8_t rk_of[RUMP_RSS_KEY_LEN];
	static bool rk_valid;
	uint32_t h;

	/* tables for the key, built once */
	if (!rk_valid || memcmp(rk_of, cfg->rss_key, sizeof(rk_of)) != 0) {
		rss_key_init(&rk, cfg->rss_key, RUMP_RSS_KEY_LEN);
		memcpy(rk_of, cfg->rss_key, sizeof(rk_of));
		rk_valid = true;
	}
	h = rss_hash_ipv4_l4(&rk, ip(server), ip(CLIENT), htons(sport),
	    htons(cport));
	return rss_queue(h, cfg->rss_reta, RUMP_RSS_RETA_SIZE);
}

static uint16_t
next_port(uint16_t p)
{
	return p == 65535 ? 49152 : (uint16_t)(p + 1);
}

/* The local port of fd, host order, bound to address addr. */
static uint16_t
port_of(int fd, const char *addr)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);

	assert_int_equal(rump_sys_getsockname(fd, (struct sockaddr *)&me,
	    &len), 0);
	assert_int_equal(me.sin_addr.s_addr, ip(addr));
	return ntohs(me.sin_port);
}

/* The local port of a connected socket of the client. */
static uint16_t
local_port(int fd)
{
	return port_of(fd, CLIENT);
}

/*
 * ports[] are the ports the stack picks one after the other from ports[0]
 * on when it must give replies from server:sport to queue `queue` of cfg:
 * each is the next port of the range after the one before whose reply
 * lands there, and every port skipped has its reply land elsewhere.
 */
static void
assert_rss_ports(const struct rump_rss_config *cfg, const char *server,
    uint16_t sport, const uint16_t *ports, unsigned n, unsigned queue)
{
	for (unsigned i = 0; i < n; i++) {
		assert_true(ports[i] >= 49152);
		assert_int_equal(reply_queue(cfg, server, sport, ports[i]),
		    queue);
		if (i == 0)
			continue;
		unsigned steps = 0;

		for (uint16_t p = next_port(ports[i - 1]); p != ports[i];
		    p = next_port(p)) {
			assert_int_not_equal(reply_queue(cfg, server, sport, p),
			    queue);
			assert_true(++steps < NPORTS);
		}
	}
}

/* ports[] follow one another through the range, as without RSS. */
static void
assert_consecutive(const uint16_t *ports, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		assert_int_equal(ports[i], next_port(ports[i - 1]));
}

/* fd: a non-blocking TCP socket's connect() to addr:port, in progress. */
static int
tcp_connect_nb(const char *addr, uint16_t port)
{
	struct sockaddr_in to = sa(addr, port);
	int fd = rump_sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	errno = 0;
	assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&to,
	    sizeof(to)), -1);
	assert_int_equal(errno, EINPROGRESS);
	return fd;
}

static int
udp_connected(const char *addr, uint16_t port)
{
	struct sockaddr_in to = sa(addr, port);
	int fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&to,
	    sizeof(to)), 0);
	return fd;
}

/* close with SO_LINGER 0: no FIN, no TIME-WAIT left to leak */
static void
tcp_abort(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l,
	    sizeof(l)), 0);
	assert_int_equal(rump_sys_close(fd), 0);
}

/* ---- configuration ---- */

static void
test_rss_config(void **state)
{
	struct rump_rss_config cfg, got;
	struct renv e;

	(void)state;
	renv_up(&e);
	/* the default: one instance, Microsoft's key, a table of zeros */
	memset(&got, 0xee, sizeof(got));
	assert_int_equal(rump_rss_get(e.cli, &got), 0);
	assert_int_equal(got.rss_instance, 0);
	assert_int_equal(got.rss_ninstances, 1);
	assert_memory_equal(got.rss_key, rss_default_key, RUMP_RSS_KEY_LEN);
	for (unsigned j = 0; j < RUMP_RSS_RETA_SIZE; j++)
		assert_int_equal(got.rss_reta[j], 0);
	assert_int_equal(rump_rss_get(e.cli, NULL), EINVAL);

	rump_rss_config_default(&cfg, 1, 2);
	for (unsigned j = 0; j < RUMP_RSS_RETA_SIZE; j++)
		assert_int_equal(cfg.rss_reta[j], j % 2);
	cfg.rss_key[0] ^= 0x5a;		/* any key is taken */
	assert_int_equal(rump_rss_set(e.cli, &cfg), 0);
	assert_int_equal(rump_rss_get(e.cli, &got), 0);
	assert_memory_equal(&got, &cfg, sizeof(cfg));

	/* refused, and the configuration stays as it was */
	struct rump_rss_config bad = cfg;

	bad.rss_instance = 2;		/* not below rss_ninstances */
	assert_int_equal(rump_rss_set(e.cli, &bad), EINVAL);
	bad = cfg;
	bad.rss_ninstances = RUMP_RSS_RETA_SIZE + 1;
	assert_int_equal(rump_rss_set(e.cli, &bad), EINVAL);
	bad = cfg;
	bad.rss_reta[77] = 2;		/* a queue nobody owns */
	assert_int_equal(rump_rss_set(e.cli, &bad), EINVAL);
	bad = cfg;
	for (unsigned j = 0; j < RUMP_RSS_RETA_SIZE; j++)
		bad.rss_reta[j] = 0;	/* instance 1 would get nothing */
	assert_int_equal(rump_rss_set(e.cli, &bad), EINVAL);
	assert_int_equal(rump_rss_get(e.cli, &got), 0);
	assert_memory_equal(&got, &cfg, sizeof(cfg));

	/* as many instances as table entries: each owns one entry */
	rump_rss_config_default(&bad, 127, RUMP_RSS_RETA_SIZE);
	assert_int_equal(rump_rss_set(e.cli, &bad), 0);
	assert_int_equal(rump_rss_get(e.cli, &got), 0);
	assert_int_equal(got.rss_instance, 127);
	assert_int_equal(got.rss_reta[127], 127);

	/* one instance, or NULL: back to the default */
	rump_rss_config_default(&bad, 0, 1);
	bad.rss_key[3] = 0;
	assert_int_equal(rump_rss_set(e.cli, &bad), 0);
	assert_int_equal(rump_rss_get(e.cli, &got), 0);
	assert_int_equal(got.rss_ninstances, 1);
	assert_memory_equal(got.rss_key, rss_default_key, RUMP_RSS_KEY_LEN);
	assert_int_equal(rump_rss_set(e.cli, &cfg), 0);
	assert_int_equal(rump_rss_set(e.cli, NULL), 0);
	assert_int_equal(rump_rss_get(e.cli, &got), 0);
	assert_int_equal(got.rss_ninstances, 1);
	renv_down(&e);
}

/* ---- TCP ---- */

/*
 * 200 connections from instance 1 of 2 to a listener: every one
 * completes, from a port whose reply lands on queue 1, as the server sees.
 */
static void
test_rss_tcp_connects(void **state)
{
	struct rump_rss_config cfg;
	struct renv e;
	uint16_t ports[NCONN];
	int cfd[NCONN], afd[NCONN], lfd;
	struct sockaddr_in a = sa(SERVER, 80);
	static bool seen[65536];

	(void)state;
	renv_up(&e);
	cli_rss(&e, 1, 2, &cfg);
	as(e.srv);
	lfd = rump_sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(lfd >= 0);
	assert_int_equal(rump_sys_bind(lfd, (struct sockaddr *)&a, sizeof(a)),
	    0);
	assert_int_equal(rump_sys_listen(lfd, NCONN), 0);

	as(e.cli);
	for (unsigned i = 0; i < NCONN; i++) {
		cfd[i] = tcp_connect_nb(SERVER, 80);
		ports[i] = local_port(cfd[i]);
	}
	assert_rss_ports(&cfg, SERVER, 80, ports, NCONN, 1);
	assert_int_equal(rump_bus_quiesce(e.bus, 5000), 0);
	for (unsigned i = 0; i < NCONN; i++) {
		struct pollfd pfd = { .fd = cfd[i], .events = POLLOUT };
		int err = -1;
		socklen_t len = sizeof(err);

		assert_int_equal(rump_sys_poll(&pfd, 1, 0), 1);
		assert_int_equal(pfd.revents, POLLOUT);
		assert_int_equal(rump_sys_getsockopt(cfd[i], SOL_SOCKET,
		    SO_ERROR, &err, &len), 0);
		assert_int_equal(err, 0);
	}
	assert_int_equal(stat(e.cli, "tcp.connects"), NCONN);

	/* the server's view: the same ports, in the same order */
	memset(seen, 0, sizeof(seen));
	as(e.srv);
	for (unsigned i = 0; i < NCONN; i++) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);

		afd[i] = rump_sys_accept4(lfd, (struct sockaddr *)&from, &len,
		    SOCK_NONBLOCK);
		assert_true(afd[i] >= 0);
		assert_int_equal(from.sin_addr.s_addr, ip(CLIENT));
		assert_int_equal(ntohs(from.sin_port), ports[i]);
		assert_false(seen[ports[i]]);
		seen[ports[i]] = true;
	}
	errno = 0;
	assert_int_equal(rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(stat(e.srv, "tcp.accepts"), NCONN);

	as(e.cli);
	for (unsigned i = 0; i < NCONN; i++)
		tcp_abort(cfd[i]);
	assert_int_equal(rump_bus_quiesce(e.bus, 5000), 0);
	as(e.srv);
	for (unsigned i = 0; i < NCONN; i++)
		assert_int_equal(rump_sys_close(afd[i]), 0);
	assert_int_equal(rump_sys_close(lfd), 0);
	assert_int_equal(stat(e.srv, "tcp.rcvrst"), NCONN);
	renv_down(&e);
}

/*
 * Instance 0 of 2 gets the other half: the ports skipped above.  And
 * instances 2 and 3 of 4, a quarter each.
 */
static void
test_rss_tcp_other_queues(void **state)
{
	const unsigned inst[3][2] = { { 0, 2 }, { 2, 4 }, { 3, 4 } };
	struct rump_rss_config cfg;
	struct renv e;
	uint16_t ports[NCONN];
	int fd[NCONN];

	(void)state;
	renv_up(&e);
	as(e.cli);
	for (size_t c = 0; c < 3; c++) {
		cli_rss(&e, inst[c][0], inst[c][1], &cfg);
		for (unsigned i = 0; i < NCONN; i++) {
			fd[i] = tcp_connect_nb(NOBODY, 443);
			ports[i] = local_port(fd[i]);
		}
		assert_rss_ports(&cfg, NOBODY, 443, ports, NCONN, inst[c][0]);
		for (unsigned i = 0; i < NCONN; i++)
			tcp_abort(fd[i]);
	}
	renv_down(&e);
}

/* ---- UDP ---- */

/*
 * 200 connected UDP sockets of instance 1 of 2: ports whose replies land
 * on queue 1; each sends a datagram, the server sees it from that port
 * and answers, and the answer arrives.
 */
static void
test_rss_udp_connects(void **state)
{
	struct rump_rss_config cfg;
	struct renv e;
	uint16_t ports[NCONN];
	int fd[NCONN], sfd;
	struct sockaddr_in a = sa(SERVER, 7);
	char buf[16];

	(void)state;
	renv_up(&e);
	cli_rss(&e, 1, 2, &cfg);
	as(e.srv);
	sfd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(sfd >= 0);
	assert_int_equal(rump_sys_bind(sfd, (struct sockaddr *)&a, sizeof(a)),
	    0);

	as(e.cli);
	for (unsigned i = 0; i < NCONN; i++) {
		fd[i] = udp_connected(SERVER, 7);
		ports[i] = local_port(fd[i]);
		assert_int_equal(rump_sys_send(fd[i], &i, sizeof(i), 0),
		    (ssize_t)sizeof(i));
	}
	assert_rss_ports(&cfg, SERVER, 7, ports, NCONN, 1);
	assert_int_equal(rump_bus_quiesce(e.bus, 5000), 0);

	as(e.srv);
	for (unsigned i = 0; i < NCONN; i++) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		unsigned v;

		assert_int_equal(rump_sys_recvfrom(sfd, &v, sizeof(v),
		    MSG_DONTWAIT, (struct sockaddr *)&from, &len),
		    (ssize_t)sizeof(v));
		assert_int_equal(v, i);
		assert_int_equal(from.sin_addr.s_addr, ip(CLIENT));
		assert_int_equal(ntohs(from.sin_port), ports[i]);
		assert_int_equal(rump_sys_sendto(sfd, "re", 2, 0,
		    (struct sockaddr *)&from, len), 2);
	}
	assert_int_equal(rump_bus_quiesce(e.bus, 5000), 0);
	as(e.cli);
	for (unsigned i = 0; i < NCONN; i++) {
		assert_int_equal(rump_sys_recv(fd[i], buf, sizeof(buf),
		    MSG_DONTWAIT), 2);
		assert_int_equal(rump_sys_close(fd[i]), 0);
	}
	assert_int_equal(stat(e.cli, "udp.delivered"), NCONN);
	as(e.srv);
	assert_int_equal(rump_sys_close(sfd), 0);
	renv_down(&e);
}

/* ---- without RSS ---- */

/*
 * One instance (the default, and after going back to it): connections
 * take the ports one after the other, replies landing anywhere.
 */
static void
test_rss_off_unchanged(void **state)
{
	struct rump_rss_config cfg;
	struct renv e;
	uint16_t ports[NCONN];
	int fd[NCONN];
	unsigned q0 = 0;

	(void)state;
	renv_up(&e);
	as(e.cli);
	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < NCONN; i++) {
			fd[i] = tcp_connect_nb(NOBODY, 443);
			ports[i] = local_port(fd[i]);
		}
		assert_consecutive(ports, NCONN);
		rump_rss_config_default(&cfg, 1, 2);
		for (unsigned i = 0; i < NCONN; i++) {
			q0 += reply_queue(&cfg, NOBODY, 443, ports[i]) == 0;
			tcp_abort(fd[i]);
		}
		for (unsigned i = 0; i < NCONN; i++) {
			fd[i] = udp_connected(NOBODY, 53);
			ports[i] = local_port(fd[i]);
		}
		assert_consecutive(ports, NCONN);
		for (unsigned i = 0; i < NCONN; i++)
			assert_int_equal(rump_sys_close(fd[i]), 0);
		/* the second round: after RSS was on and went off again */
		cli_rss(&e, 1, 2, &cfg);
		assert_int_equal(rump_rss_set(e.cli, NULL), 0);
	}
	/* the 400 TCP ports had replies on both queues */
	assert_true(q0 > 0 && q0 < 2 * NCONN);
	renv_down(&e);
}

/* ---- ports RSS leaves alone ---- */

/*
 * Instance 1 of 2: listen() and bind() to port 0 take ports one after
 * the other (no peer to hash with); a port the user binds is kept by
 * connect() even when its replies land on the other queue.
 */
static void
test_rss_unconstrained_ports(void **state)
{
	struct rump_rss_config cfg;
	struct renv e;
	uint16_t ports[50], p;
	int fd[50];
	struct sockaddr_in any = sa("0.0.0.0", 0), to = sa(NOBODY, 443);

	(void)state;
	renv_up(&e);
	as(e.cli);
	cli_rss(&e, 1, 2, &cfg);
	for (unsigned i = 0; i < 50; i++) {
		fd[i] = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fd[i] >= 0);
		assert_int_equal(rump_sys_listen(fd[i], 4), 0);
		ports[i] = port_of(fd[i], "0.0.0.0");
	}
	assert_consecutive(ports, 50);
	for (unsigned i = 0; i < 50; i++)
		assert_int_equal(rump_sys_close(fd[i]), 0);
	for (unsigned i = 0; i < 50; i++) {
		fd[i] = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
		assert_true(fd[i] >= 0);
		assert_int_equal(rump_sys_bind(fd[i], (struct sockaddr *)&any,
		    sizeof(any)), 0);
		ports[i] = port_of(fd[i], "0.0.0.0");
	}
	assert_consecutive(ports, 50);
	for (unsigned i = 0; i < 50; i++)
		assert_int_equal(rump_sys_close(fd[i]), 0);

	/* bound by the user to a port of queue 0, and connected from it */
	for (p = 50000; reply_queue(&cfg, NOBODY, 443, p) != 0; p++)
		;
	struct sockaddr_in mine = sa(CLIENT, p);

	fd[0] = rump_sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd[0] >= 0);
	assert_int_equal(rump_sys_bind(fd[0], (struct sockaddr *)&mine,
	    sizeof(mine)), 0);
	errno = 0;
	assert_int_equal(rump_sys_connect(fd[0], (struct sockaddr *)&to,
	    sizeof(to)), -1);
	assert_int_equal(errno, EINPROGRESS);
	assert_int_equal(local_port(fd[0]), p);
	tcp_abort(fd[0]);
	renv_down(&e);
}

/* ---- running out ---- */

/*
 * A table that gives instance 1 a single entry of 128: exactly the ports
 * whose replies hash to it can connect; the next connect() fails (UDP
 * EAGAIN, TCP EADDRNOTAVAIL, as Linux), and a port given back is taken
 * again.
 */
static void
test_rss_exhaustion(void **state)
{
	struct rump_rss_config cfg;
	struct renv e;
	static int fd[NPORTS];
	unsigned want = 0, n;
	uint16_t freed;

	(void)state;
	renv_up(&e);
	rump_rss_config_default(&cfg, 1, 2);
	for (unsigned j = 0; j < RUMP_RSS_RETA_SIZE; j++)
		cfg.rss_reta[j] = j == 42;
	assert_int_equal(rump_rss_set(e.cli, &cfg), 0);
	for (unsigned p = 49152; p <= 65535; p++)
		want += reply_queue(&cfg, SERVER, 7, (uint16_t)p) == 1;
	/* the queue is 7 hash bits, linear in the 14 low port bits */
	assert_int_equal(want, NPORTS / RUMP_RSS_RETA_SIZE);

	as(e.cli);
	for (int proto = 0; proto < 2; proto++) {
		const char *to = proto == 0 ? SERVER : NOBODY;
		uint16_t port = proto == 0 ? 7 : 443;
		int type = proto == 0 ? SOCK_DGRAM : SOCK_STREAM | SOCK_NONBLOCK;
		struct sockaddr_in a = sa(to, port);
		int extra;

		want = 0;
		for (unsigned p = 49152; p <= 65535; p++)
			want += reply_queue(&cfg, to, port, (uint16_t)p) == 1;
		for (n = 0; n < want; n++) {
			fd[n] = proto == 0 ? udp_connected(to, port) :
			    tcp_connect_nb(to, port);
			assert_int_equal(reply_queue(&cfg, to, port,
			    local_port(fd[n])), 1);
		}
		extra = rump_sys_socket(AF_INET, type, 0);
		assert_true(extra >= 0);
		errno = 0;
		assert_int_equal(rump_sys_connect(extra, (struct sockaddr *)&a,
		    sizeof(a)), -1);
		/* as Linux: UDP's autobind says EAGAIN, TCP EADDRNOTAVAIL */
		assert_int_equal(errno, proto == 0 ? EAGAIN : EADDRNOTAVAIL);
		/* one port given back: the next connect() takes it */
		freed = local_port(fd[want / 2]);
		if (proto == 0)
			assert_int_equal(rump_sys_close(fd[want / 2]), 0);
		else
			tcp_abort(fd[want / 2]);
		assert_int_equal(rump_sys_close(extra), 0);
		fd[want / 2] = proto == 0 ? udp_connected(to, port) :
		    tcp_connect_nb(to, port);
		assert_int_equal(local_port(fd[want / 2]), freed);
		for (n = 0; n < want; n++) {
			if (proto == 0)
				assert_int_equal(rump_sys_close(fd[n]), 0);
			else
				tcp_abort(fd[n]);
		}
	}
	renv_down(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rss_config),
		cmocka_unit_test(test_rss_tcp_connects),
		cmocka_unit_test(test_rss_tcp_other_queues),
		cmocka_unit_test(test_rss_udp_connects),
		cmocka_unit_test(test_rss_off_unchanged),
		cmocka_unit_test(test_rss_unconstrained_ports),
		cmocka_unit_test(test_rss_exhaustion),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
