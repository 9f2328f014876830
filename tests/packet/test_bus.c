/*
 * test_bus.c -- the bus's time impairments, end to end with UDP between
 * instances: a fixed delay to the millisecond, jitter and reordering that
 * repeat for a seed, the rate limit's serialisation and its queue, taps
 * (which have no clock), real clocks, ports going away with frames in
 * flight, and a minute of lossy, delayed network time between three hosts
 * in a few seconds of wall time.
 *
 * The instances run on virtual clocks that the tests advance together, so
 * every count below is exact.  Needs no root, no DPDK, no network
 * namespace.
 */
#define _GNU_SOURCE	/* SO_BUSY_POLL */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/time.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "rumpnet/bus.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

#define NHOST 3
#define MS 1000000ull		/* nanoseconds */

struct lan {
	struct rump_bus *bus;
	struct rump_kernel *k[NHOST];
	unsigned ifx[NHOST];
	int n;
};

static const char *const addrs[NHOST] = {
	"198.18.0.1", "198.18.0.2", "198.18.0.3",
};

static void
host_mac(int i, uint8_t mac[6])
{
	const uint8_t m[6] = { 0x02, 0, 0, 0, 1, (uint8_t)(i + 1) };

	memcpy(mac, m, 6);
}

/* Move every instance's virtual clock by ns, as a simulation does. */
static void
lan_clocks(struct lan *l, uint64_t ns)
{
	for (int i = 0; i < l->n; i++)
		assert_int_equal(rump_clock_advance(l->k[i], ns), 0);
}

/* lan_clocks(), then wait for the frames due by then to be received. */
static void
lan_advance(struct lan *l, uint64_t ns)
{
	lan_clocks(l, ns);
	assert_int_equal(rump_bus_quiesce(l->bus, 5000), 0);
}

/*
 * nhost instances on one bus configured by cfg, addresses and static ARP
 * entries (no ARP traffic).  They are created last first, gap_ms apart, so
 * that real clocks can start apart (host 0 the youngest).
 */
static void
lan_up_ex(struct lan *l, int nhost, const struct rump_bus_config *cfg,
    enum rump_softint_mode mode, enum rump_clock_kind clock, unsigned ncpu,
    unsigned gap_ms)
{
	memset(l, 0, sizeof(*l));
	l->n = nhost;
	assert_int_equal(rump_bus_create(cfg, &l->bus), 0);
	for (int i = nhost - 1; i >= 0; i--) {
		uint8_t mac[6];

		host_mac(i, mac);
		l->k[i] = th_kernel(mode, clock, ncpu);
		assert_int_equal(rump_bus_attach(l->bus, l->k[i], "bus0", mac,
		    &l->ifx[i]), 0);
		assert_int_equal(rump_if_up(l->k[i], l->ifx[i]), 0);
		assert_int_equal(rump_if_addr_add(l->k[i], l->ifx[i],
		    inet_addr(addrs[i]), 24), 0);
		if (i > 0 && gap_ms > 0)
			th_sleep_ms(gap_ms);
	}
	for (int i = 0; i < nhost; i++)
		for (int j = 0; j < nhost; j++) {
			uint8_t mac[6];

			host_mac(j, mac);
			if (i != j)
				assert_int_equal(rump_arp_add(l->k[i],
				    l->ifx[i], inet_addr(addrs[j]), mac), 0);
		}
	assert_int_equal(rump_bus_quiesce(l->bus, 5000), 0);
	/*
	 * Adding an address announces it (gratuitous ARP) to the hosts
	 * already attached: let those frames land, so that every test starts
	 * with idle wires and empty queues (at 10 s).
	 */
	if (clock == RUMP_CLOCK_VIRTUAL) {
		unsigned n;

		lan_advance(l, 10000 * MS);
		assert_int_equal(rump_bus_pending(l->bus, &n), 0);
		assert_int_equal(n, 0);
	}
}

static void
lan_up(struct lan *l, int nhost, const struct rump_bus_config *cfg)
{
	lan_up_ex(l, nhost, cfg, pkt_mode(), RUMP_CLOCK_VIRTUAL, 1,
	    0);
}

static void
lan_down(struct lan *l)
{
	/* frames in flight hold mbufs: let them land before the leak check */
	assert_int_equal(rump_bus_quiesce(l->bus, 5000), 0);
	for (int i = 0; i < NHOST; i++)
		if (l->k[i] != NULL)
			th_kernel_destroy(l->k[i]);
	assert_int_equal(rump_bus_destroy(l->bus), 0);
}

static unsigned
pending(struct lan *l)
{
	unsigned n = 0;

	assert_int_equal(rump_bus_pending(l->bus, &n), 0);
	return n;
}

static struct rump_bus_stats
stats(struct lan *l)
{
	struct rump_bus_stats st;

	rump_bus_stats(l->bus, &st);
	return st;
}

/* A UDP socket of instance k bound to port; the thread is left bound to k. */
static int
udp_socket(struct rump_kernel *k, const char *addr, uint16_t port)
{
	struct sockaddr_in s = sa(addr, port);
	int fd;

	as(k);
	fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(rump_sys_bind(fd, (struct sockaddr *)&s, sizeof(s)),
	    0);
	return fd;
}

/* Send len bytes of buf from fd of k to host j, port 9000. */
static void
send_to(struct rump_kernel *k, int fd, int j, const void *buf, size_t len)
{
	struct sockaddr_in to = sa(addrs[j], 9000);

	as(k);
	assert_int_equal(rump_sys_sendto(fd, buf, len, 0,
	    (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
}

/* The next datagram queued on fd of k, or -1 with errno (no waiting). */
static ssize_t
recv_now(struct rump_kernel *k, int fd, void *buf, size_t len)
{
	as(k);
	errno = 0;
	return rump_sys_recv(fd, buf, len, MSG_DONTWAIT);
}

static void
close_as(struct rump_kernel *k, int fd)
{
	as(k);
	assert_int_equal(rump_sys_close(fd), 0);
}

/* ---- configuration ---- */

static void
test_bus_config_einval(void **state)
{
	struct rump_bus_config cfg;
	struct rump_bus *b;

	(void)state;
	rump_bus_config_default(&cfg);
	cfg.reorder = 1.5;
	assert_int_equal(rump_bus_create(&cfg, &b), EINVAL);
	cfg.reorder = __builtin_nan("");
	assert_int_equal(rump_bus_create(&cfg, &b), EINVAL);
	cfg.reorder = -0.1;
	assert_int_equal(rump_bus_create(&cfg, &b), EINVAL);
	/* held back by how much? */
	cfg.reorder = 0.1;
	assert_int_equal(rump_bus_create(&cfg, &b), EINVAL);
	rump_bus_config_default(&cfg);
	cfg.delay_ns = 3601ull * 1000 * MS;
	assert_int_equal(rump_bus_create(&cfg, &b), EINVAL);
	rump_bus_config_default(&cfg);
	cfg.jitter_ns = UINT64_MAX;
	assert_int_equal(rump_bus_create(&cfg, &b), EINVAL);
	rump_bus_config_default(&cfg);
	cfg.reorder = 0.5;
	cfg.reorder_ns = 3601ull * 1000 * MS;
	assert_int_equal(rump_bus_create(&cfg, &b), EINVAL);
	rump_bus_config_default(&cfg);
	cfg.queue_max = (1u << 20) + 1;
	assert_int_equal(rump_bus_create(&cfg, &b), EINVAL);
	cfg.queue_max = UINT32_MAX;
	assert_int_equal(rump_bus_create(&cfg, &b), EINVAL);
	rump_bus_config_default(&cfg);
	cfg.rx_coalesce_us = 1001;
	assert_int_equal(rump_bus_create(&cfg, &b), EINVAL);
	/* the limits themselves are fine */
	rump_bus_config_default(&cfg);
	cfg.rx_coalesce_us = 1000;
	cfg.delay_ns = cfg.jitter_ns = cfg.reorder_ns = 3600ull * 1000 * MS;
	cfg.reorder = 1;
	cfg.rate_bps = 1;
	cfg.queue_max = 1u << 20;
	assert_int_equal(rump_bus_create(&cfg, &b), 0);
	assert_int_equal(rump_bus_pending(b, NULL), EINVAL);
	assert_int_equal(rump_bus_destroy(b), 0);
}

/* ---- delay ---- */

/* 50 ms each way: not a millisecond sooner, not a millisecond later. */
static void
delay_exact(enum rump_softint_mode mode, unsigned ncpu)
{
	struct rump_bus_config cfg;
	struct rump_bus_stats st0, st;
	struct lan l;
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	char buf[64];
	int fa, fb;

	rump_bus_config_default(&cfg);
	cfg.delay_ns = 50 * MS;
	lan_up_ex(&l, 2, &cfg, mode, RUMP_CLOCK_VIRTUAL, ncpu, 0);
	assert_int_equal(pending(&l), 0);
	st0 = stats(&l);
	fb = udp_socket(l.k[1], addrs[1], 9000);
	fa = udp_socket(l.k[0], addrs[0], 7);
	send_to(l.k[0], fa, 1, "delayed", 7);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(pending(&l), 1);
	lan_advance(&l, 49 * MS);
	assert_int_equal(recv_now(l.k[1], fb, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(pending(&l), 1);
	lan_advance(&l, 1 * MS);
	assert_int_equal(pending(&l), 0);
	as(l.k[1]);
	assert_int_equal(rump_sys_recvfrom(fb, buf, sizeof(buf), MSG_DONTWAIT,
	    (struct sockaddr *)&from, &fromlen), 7);
	assert_memory_equal(buf, "delayed", 7);
	/* the answer, sent at 50 ms, takes as long */
	assert_int_equal(rump_sys_sendto(fb, "back", 4, 0,
	    (struct sockaddr *)&from, fromlen), 4);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(pending(&l), 1);
	lan_advance(&l, 49 * MS);
	assert_int_equal(recv_now(l.k[0], fa, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	lan_advance(&l, 1 * MS);
	assert_int_equal(recv_now(l.k[0], fa, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "back", 4);
	assert_int_equal(pending(&l), 0);
	st = stats(&l);
	assert_int_equal(st.frames - st0.frames, 2);
	assert_int_equal(st.delayed - st0.delayed, 2);
	assert_int_equal(st.delivered - st0.delivered, 2);
	assert_int_equal(st.reordered + st.ratedrops + st.lost, 0);
	close_as(l.k[0], fa);
	close_as(l.k[1], fb);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

static void
test_bus_delay_exact(void **state)
{
	(void)state;
	delay_exact(RUMP_SOFTINT_INLINE, 1);
}

/* The same with softint threads and (locks=mp) two vCPUs per instance. */
static void
test_bus_delay_exact_threads(void **state)
{
	(void)state;
	delay_exact(RUMP_SOFTINT_THREADS, TH_MAXCPU);
}

/* ---- jitter and reordering ---- */

#define NDGRAM 200

/*
 * NDGRAM numbered datagrams from A to B, one per millisecond, over a bus
 * with jitter and reordering: order[] becomes the order B received them.
 */
static void
order_run(uint64_t seed, uint32_t order[NDGRAM], uint64_t *reordered)
{
	struct rump_bus_config cfg;
	struct lan l;
	uint32_t v;
	int fa, fb;

	rump_bus_config_default(&cfg);
	cfg.seed = seed;
	cfg.delay_ns = 5 * MS;
	cfg.jitter_ns = 3 * MS;
	cfg.reorder = 0.05;
	cfg.reorder_ns = 20 * MS;
	lan_up(&l, 2, &cfg);
	fb = udp_socket(l.k[1], addrs[1], 9000);
	fa = udp_socket(l.k[0], addrs[0], 9000);
	for (uint32_t i = 0; i < NDGRAM; i++) {
		send_to(l.k[0], fa, 1, &i, sizeof(i));
		/* B receives meanwhile, in whatever turns its thread takes */
		lan_clocks(&l, 1 * MS);
	}
	lan_advance(&l, 100 * MS);
	assert_int_equal(pending(&l), 0);
	for (int i = 0; i < NDGRAM; i++) {
		assert_int_equal(recv_now(l.k[1], fb, &v, sizeof(v)),
		    sizeof(v));
		order[i] = v;
	}
	assert_int_equal(recv_now(l.k[1], fb, &v, sizeof(v)), -1);
	*reordered = stats(&l).reordered;
	close_as(l.k[0], fa);
	close_as(l.k[1], fb);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

static void
test_bus_jitter_reorder_seeded(void **state)
{
	uint32_t o1[NDGRAM], o2[NDGRAM], o3[NDGRAM];
	bool seen[NDGRAM] = { false };
	uint64_t r1, r2, r3;
	unsigned inversions = 0;

	(void)state;
	order_run(7, o1, &r1);
	order_run(7, o2, &r2);
	order_run(8, o3, &r3);
	/* every datagram arrived once */
	for (int i = 0; i < NDGRAM; i++) {
		assert_true(o1[i] < NDGRAM);
		assert_false(seen[o1[i]]);
		seen[o1[i]] = true;
	}
	for (int i = 1; i < NDGRAM; i++)
		if (o1[i] < o1[i - 1])
			inversions++;
	printf("# seed 7: %u of %d datagrams overtaken, %llu held back\n",
	    inversions, NDGRAM, (unsigned long long)r1);
	assert_true(inversions > 0);
	assert_true(r1 > 0);
	/* the same seed, the same order; another seed, another order */
	assert_memory_equal(o1, o2, sizeof(o1));
	assert_int_equal(r1, r2);
	assert_memory_not_equal(o1, o3, sizeof(o1));
}

/* ---- rate limit ---- */

#define RATE 1000000ull		/* 1 Mbit/s */
#define PAYLOAD 1000
/* Ethernet, IPv4 and UDP headers around it: 1042 bytes, 8.336 ms */
#define FRAME_LEN (14 + 20 + 8 + PAYLOAD)
#define WIRE_NS ((uint64_t)FRAME_LEN * 8 * 1000000000ull / RATE)

/* Received so far on fd of k, checking they come in sequence from *next. */
static unsigned
drain_seq(struct rump_kernel *k, int fd, uint32_t *next)
{
	unsigned char buf[PAYLOAD];
	unsigned n = 0;
	uint32_t v;

	while (recv_now(k, fd, buf, sizeof(buf)) == PAYLOAD) {
		memcpy(&v, buf, sizeof(v));
		assert_int_equal(v, *next);
		(*next)++;
		n++;
	}
	return n;
}

static void
send_seq(struct lan *l, int fd, uint32_t first, unsigned count)
{
	unsigned char buf[PAYLOAD];

	memset(buf, 0xa5, sizeof(buf));
	for (uint32_t i = first; i < first + count; i++) {
		memcpy(buf, &i, sizeof(i));
		send_to(l->k[0], fd, 1, buf, sizeof(buf));
	}
}

static void
test_bus_rate_limit(void **state)
{
	struct rump_bus_config cfg;
	struct rump_bus_stats st0, st;
	struct lan l;
	uint32_t next = 0;
	int fa, fb;

	(void)state;
	assert_int_equal(WIRE_NS, 8336000);
	rump_bus_config_default(&cfg);
	cfg.rate_bps = RATE;
	lan_up(&l, 2, &cfg);
	st0 = stats(&l);
	fb = udp_socket(l.k[1], addrs[1], 9000);
	fa = udp_socket(l.k[0], addrs[0], 9000);
	/* 100 at t = 0: frame i's last bit leaves at (i + 1) * 8.336 ms */
	send_seq(&l, fa, 0, 100);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(pending(&l), 100);
	lan_advance(&l, 400 * MS);
	/* 47 * 8.336 = 391.792 ms; the 48th needs 400.128 */
	assert_int_equal(400 * MS / WIRE_NS, 47);
	assert_int_equal(drain_seq(l.k[1], fb, &next), 400 * MS / WIRE_NS);
	assert_int_equal(pending(&l), 100 - 47);
	lan_advance(&l, 433 * MS);
	/* 833 ms: the last leaves at 833.6 */
	assert_int_equal(drain_seq(l.k[1], fb, &next), 99 - 47);
	lan_advance(&l, 1 * MS);
	assert_int_equal(drain_seq(l.k[1], fb, &next), 1);
	assert_int_equal(next, 100);
	assert_int_equal(pending(&l), 0);
	st = stats(&l);
	assert_int_equal(st.ratedrops, 0);
	assert_int_equal(st.delayed - st0.delayed, 100);
	close_as(l.k[0], fa);
	close_as(l.k[1], fb);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* With a queue of 10 frames, what does not fit is dropped and counted. */
static void
test_bus_rate_limit_queue(void **state)
{
	struct rump_bus_config cfg;
	struct lan l;
	uint32_t next = 0;
	int fa, fb;

	(void)state;
	rump_bus_config_default(&cfg);
	cfg.rate_bps = RATE;
	cfg.queue_max = 10;
	lan_up(&l, 2, &cfg);
	fb = udp_socket(l.k[1], addrs[1], 9000);
	fa = udp_socket(l.k[0], addrs[0], 9000);
	send_seq(&l, fa, 0, 100);
	assert_int_equal(stats(&l).ratedrops, 90);
	assert_int_equal(pending(&l), 10);
	lan_advance(&l, 100 * MS);
	assert_int_equal(drain_seq(l.k[1], fb, &next), 10);
	/* the queue emptied: ten more fit */
	send_seq(&l, fa, 10, 10);
	assert_int_equal(stats(&l).ratedrops, 90);
	/* by 130 ms 10..12 left (108.3, 116.7, 125.0 ms) */
	lan_advance(&l, 30 * MS);
	assert_int_equal(drain_seq(l.k[1], fb, &next), 3);
	/* so three more fit, the fourth does not */
	send_seq(&l, fa, 20, 4);
	assert_int_equal(stats(&l).ratedrops, 91);
	lan_advance(&l, 200 * MS);
	assert_int_equal(drain_seq(l.k[1], fb, &next), 7 + 3);
	assert_int_equal(next, 23);
	assert_int_equal(pending(&l), 0);
	close_as(l.k[0], fa);
	close_as(l.k[1], fb);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* ---- a minute of network time ---- */

#define SIM_STEP (10 * MS)
#define SIM_STEPS 6000		/* 60 s */

struct simmsg {
	uint32_t from, to, step;
};

/* FNV-1a over what each host received, in the order it did. */
static void
sim_drain(struct lan *l, const int *fd, uint64_t *digest, uint64_t *n)
{
	for (int i = 0; i < NHOST; i++) {
		struct simmsg m;

		while (recv_now(l->k[i], fd[i], &m, sizeof(m)) ==
		    (ssize_t)sizeof(m)) {
			uint32_t v[4] = { (uint32_t)i, m.from, m.to, m.step };
			const unsigned char *p = (const unsigned char *)v;

			assert_int_equal(m.to, i);
			for (size_t j = 0; j < sizeof(v); j++)
				*digest = (*digest ^ p[j]) * 1099511628211ull;
			(*n)++;
		}
	}
}

/*
 * Three hosts each send a datagram to each other every 10 ms for 60 s of
 * virtual time over a bus that loses, duplicates, delays, jitters,
 * reorders and limits the rate; they read what arrived once a second.
 */
static uint64_t
sim_run(uint64_t seed, uint64_t *received, struct rump_bus_stats *st)
{
	struct rump_bus_config cfg;
	struct rump_bus_stats st0;
	struct lan l;
	int fd[NHOST];
	uint64_t digest = 1469598103934665603ull;

	rump_bus_config_default(&cfg);
	cfg.seed = seed;
	cfg.loss = 0.05;
	cfg.duplicate = 0.01;
	cfg.delay_ns = 20 * MS;
	cfg.jitter_ns = 10 * MS;
	cfg.reorder = 0.02;
	cfg.reorder_ns = 30 * MS;
	cfg.rate_bps = 10000000;
	lan_up(&l, NHOST, &cfg);
	st0 = stats(&l);	/* the addresses' announcements */
	for (int i = 0; i < NHOST; i++)
		fd[i] = udp_socket(l.k[i], addrs[i], 9000);
	*received = 0;
	for (uint32_t step = 0; step < SIM_STEPS; step++) {
		for (int i = 0; i < NHOST; i++)
			for (int j = 0; j < NHOST; j++) {
				struct simmsg m = { (uint32_t)i, (uint32_t)j,
				    step };

				if (i != j)
					send_to(l.k[i], fd[i], j, &m,
					    sizeof(m));
			}
		lan_clocks(&l, SIM_STEP);
		if (step % 100 == 99) {
			assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
			sim_drain(&l, fd, &digest, received);
		}
	}
	/* what is still in flight lands within the second */
	lan_advance(&l, 1000 * MS);
	sim_drain(&l, fd, &digest, received);
	assert_int_equal(pending(&l), 0);
	*st = stats(&l);
	st->frames -= st0.frames;
	st->lost -= st0.lost;
	st->duplicated -= st0.duplicated;
	st->delivered -= st0.delivered;
	st->delayed -= st0.delayed;
	st->reordered -= st0.reordered;
	for (int i = 0; i < NHOST; i++)
		close_as(l.k[i], fd[i]);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
	return digest;
}

static void
test_bus_sim_minute_deterministic(void **state)
{
	struct rump_bus_stats s1, s2, s3;
	uint64_t r1, r2, r3, d1, d2, d3, t0, wall;

	(void)state;
	t0 = th_now_ns();
	d1 = sim_run(42, &r1, &s1);
	wall = th_now_ns() - t0;
	printf("# 60 s of network time in %.2f s of wall time: %llu of %d "
	    "datagrams received, %llu lost, %llu duplicated, %llu held "
	    "back\n", (double)wall / 1e9, (unsigned long long)r1,
	    SIM_STEPS * 6, (unsigned long long)s1.lost,
	    (unsigned long long)s1.duplicated,
	    (unsigned long long)s1.reordered);
	assert_true(wall < 30000 * MS);
	d2 = sim_run(42, &r2, &s2);
	d3 = sim_run(43, &r3, &s3);
	assert_int_equal(r1, r2);
	assert_int_equal(d1, d2);
	assert_memory_equal(&s1, &s2, sizeof(s1));
	assert_true(d3 != d1);
	/* 36000 sent: about 5% lost, 1% doubled, none refused */
	assert_int_equal(s1.frames, SIM_STEPS * 6);
	assert_int_equal(r1, s1.frames - s1.lost + s1.duplicated);
	assert_true(r1 > 33500 && r1 < 34800);
	assert_int_equal(s1.ratedrops + s1.qdrops, 0);
}

/* ---- no clock: taps, and a bus without time impairments ---- */

/*
 * A tap has no clock: it receives a delayed frame as soon as it is sent,
 * and what it sends arrives at once.
 */
static void
test_bus_tap_untimed(void **state)
{
	struct rump_bus_config cfg;
	struct rump_bus_stats st0;
	struct rump_bus_tap *tap;
	struct lan l;
	uint8_t frame[256];
	char buf[64];
	size_t len;
	int fa, fb;

	(void)state;
	rump_bus_config_default(&cfg);
	cfg.delay_ns = 50 * MS;
	lan_up(&l, 2, &cfg);
	st0 = stats(&l);
	assert_int_equal(rump_bus_tap_open(l.bus, NULL, &tap), 0);
	fb = udp_socket(l.k[1], addrs[1], 9000);
	fa = udp_socket(l.k[0], addrs[0], 9000);
	send_to(l.k[0], fa, 1, "once", 4);
	assert_int_equal(rump_bus_tap_recv(tap, frame, sizeof(frame), &len,
	    0), 0);
	assert_int_equal(len, 14 + 20 + 8 + 4);
	assert_int_equal(pending(&l), 1);	/* B's copy waits */
	/* the tap sends the same frame again: B has it at once */
	assert_int_equal(rump_bus_tap_send(tap, frame, len), 0);
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(recv_now(l.k[1], fb, buf, sizeof(buf)), 4);
	assert_int_equal(recv_now(l.k[1], fb, buf, sizeof(buf)), -1);
	assert_int_equal(pending(&l), 1);
	lan_advance(&l, 50 * MS);
	assert_int_equal(recv_now(l.k[1], fb, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "once", 4);
	/* B's copy of A's frame, not the tap's */
	assert_int_equal(stats(&l).delayed - st0.delayed, 1);
	rump_bus_tap_close(tap);
	close_as(l.k[0], fa);
	close_as(l.k[1], fb);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* All knobs 0: everything arrives without the clock moving. */
static void
test_bus_untimed_unchanged(void **state)
{
	struct rump_bus_stats st0, st;
	struct lan l;
	uint32_t v;
	int fa, fb;

	(void)state;
	lan_up(&l, 2, NULL);
	st0 = stats(&l);
	fb = udp_socket(l.k[1], addrs[1], 9000);
	fa = udp_socket(l.k[0], addrs[0], 9000);
	for (uint32_t i = 0; i < 100; i++)
		send_to(l.k[0], fa, 1, &i, sizeof(i));
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(pending(&l), 0);
	for (uint32_t i = 0; i < 100; i++) {
		assert_int_equal(recv_now(l.k[1], fb, &v, sizeof(v)),
		    sizeof(v));
		assert_int_equal(v, i);
	}
	assert_int_equal(rump_clock_now(l.k[1]), 10000 * MS);
	st = stats(&l);
	assert_int_equal(st.frames - st0.frames, 100);
	assert_int_equal(st.delivered - st0.delivered, 100);
	assert_int_equal(st.delayed + st.reordered + st.ratedrops, 0);
	close_as(l.k[0], fa);
	close_as(l.k[1], fb);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/*
 * Receive interrupt moderation: each datagram arriving alone is a short
 * burst, after which the receive loop waits once (and only the receiver's
 * loop: the sender's gets nothing); a stream of datagrams still arrives
 * whole and in order, and as each wait lasts at least rx_coalesce_us (1 ms
 * here), no more waits begin than milliseconds pass, while a loop that
 * did not wait would take most of the stream one datagram at a time.
 */
static void
test_bus_rx_coalesce(void **state)
{
	struct rump_bus_config cfg;
	struct rump_bus_stats st0, st;
	struct lan l;
	uint64_t prev, t0, ms;
	uint32_t v;
	int big = 1 << 20, fa, fb;

	(void)state;
	rump_bus_config_default(&cfg);
	cfg.rx_coalesce_us = 1000;
	lan_up(&l, 2, &cfg);
	fb = udp_socket(l.k[1], addrs[1], 9000);
	assert_int_equal(rump_sys_setsockopt(fb, SOL_SOCKET, SO_RCVBUF, &big,
	    sizeof(big)), 0);
	fa = udp_socket(l.k[0], addrs[0], 9000);
	/* the set-up's frames (ARP) end in waits too: until they are over */
	st0 = stats(&l);
	do {
		prev = st0.rx_coalesced;
		th_sleep_ms(5);
		st0 = stats(&l);
	} while (st0.rx_coalesced != prev);
	for (uint32_t i = 0; i < 5; i++) {
		send_to(l.k[0], fa, 1, &i, sizeof(i));
		assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
		assert_int_equal(recv_now(l.k[1], fb, &v, sizeof(v)),
		    sizeof(v));
		assert_int_equal(v, i);
		/* counted as it starts, just after the burst is done */
		assert_true(th_wait_until(stats(&l).rx_coalesced -
		    st0.rx_coalesced == i + 1, 5000));
		th_sleep_ms(3);		/* and over: the next one is alone */
	}
	st = stats(&l);
	assert_int_equal(st.rx_coalesced - st0.rx_coalesced, 5);
	assert_int_equal(st.delivered - st0.delivered, 5);
	t0 = th_now_ns();
	st0 = stats(&l);
	for (uint32_t i = 0; i < 1000; i++)
		send_to(l.k[0], fa, 1, &i, sizeof(i));
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	st = stats(&l);
	ms = (th_now_ns() - t0) / 1000000u;
	for (uint32_t i = 0; i < 1000; i++) {
		assert_int_equal(recv_now(l.k[1], fb, &v, sizeof(v)),
		    sizeof(v));
		assert_int_equal(v, i);
	}
	assert_int_equal(recv_now(l.k[1], fb, &v, sizeof(v)), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(st.delivered - st0.delivered, 1000);
	printf("# 1000 datagrams: %llu waits in %llu ms\n",
	    (unsigned long long)(st.rx_coalesced - st0.rx_coalesced),
	    (unsigned long long)ms);
	assert_true(st.rx_coalesced - st0.rx_coalesced >= 1);
	assert_true(st.rx_coalesced - st0.rx_coalesced <= ms + 1);
	close_as(l.k[0], fa);
	close_as(l.k[1], fb);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* ---- ECN marking ---- */

/*
 * The ce knob (RFC 3168 5): at probability 1 every ECT(0) and ECT(1)
 * IPv4 frame arrives as CE with a header checksum that still holds;
 * frames without ECN capability, already CE, or not IPv4 arrive as sent.
 * A probability outside 0..1 is refused.
 */
static void
test_bus_ecn_marking(void **state)
{
	static const struct {
		uint16_t type;
		uint8_t tos, want;
	} cases[] = {
		{ 0x0800, 0x02, 0x03 },		/* ECT(0) */
		{ 0x0800, 0xb9, 0xbb },		/* ECT(1), a DSCP kept */
		{ 0x0800, 0x00, 0x00 },		/* not ECT */
		{ 0x0800, 0x03, 0x03 },		/* CE already */
		{ 0x0806, 0x02, 0x02 },		/* not IPv4 */
	};
	const uint8_t ma[6] = { 0x02, 0, 0, 0, 2, 1 };
	const uint8_t mb[6] = { 0x02, 0, 0, 0, 2, 2 };
	struct rump_bus_config cfg;
	struct rump_bus_stats st;
	struct rump_bus_tap *ta, *tb;
	struct rump_bus *b;

	(void)state;
	rump_bus_config_default(&cfg);
	cfg.ce = 1.5;
	assert_int_equal(rump_bus_create(&cfg, &b), EINVAL);
	cfg.ce = __builtin_nan("");
	assert_int_equal(rump_bus_create(&cfg, &b), EINVAL);
	cfg.ce = 1;
	assert_int_equal(rump_bus_create(&cfg, &b), 0);
	assert_int_equal(rump_bus_tap_open(b, ma, &ta), 0);
	assert_int_equal(rump_bus_tap_open(b, mb, &tb), 0);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint8_t f[64], got[64];
		size_t off, len;

		memset(f, 0xa5, sizeof(f));
		off = eth(f, mb, ma, cases[c].type);
		(void)ipv4(f + off, NULL, 0, 20 + 8, (uint16_t)c, 0, 64, 17,
		    "198.18.0.1", "198.18.0.2");
		f[off + 1] = cases[c].tos;
		f[off + 10] = f[off + 11] = 0;
		{
			uint16_t ck = ref_cksum(f + off, 20, 0);

			memcpy(f + off + 10, &ck, 2);
		}
		assert_int_equal(rump_bus_tap_send(ta, f, off + 28), 0);
		assert_int_equal(rump_bus_tap_recv(tb, got, sizeof(got), &len,
		    1000), 0);
		assert_int_equal(len, off + 28);
		assert_int_equal(got[off + 1], cases[c].want);
		assert_int_equal(ref_cksum(got + off, 20, 0), 0);
		/* nothing else changed */
		got[off + 1] = f[off + 1];
		memcpy(got + off + 10, f + off + 10, 2);
		assert_memory_equal(got, f, len);
	}
	rump_bus_stats(b, &st);
	assert_int_equal(st.marked, 2);
	rump_bus_tap_close(ta);
	rump_bus_tap_close(tb);
	assert_int_equal(rump_bus_destroy(b), 0);
}

/* ---- real clocks ---- */

/*
 * Real clocks count from each instance's creation: the receiver here is
 * 300 ms older than the sender, and the frame still takes its 100 ms.
 */
static void
test_bus_delay_real_clock(void **state)
{
	struct rump_bus_config cfg;
	struct lan l;
	char buf[16];
	uint64_t t0, took;
	int fa, fb;

	(void)state;
	rump_bus_config_default(&cfg);
	cfg.delay_ns = 100 * MS;
	lan_up_ex(&l, 2, &cfg, pkt_mode(), RUMP_CLOCK_REAL, 1, 300);
	fb = udp_socket(l.k[1], addrs[1], 9000);
	fa = udp_socket(l.k[0], addrs[0], 9000);
	t0 = th_now_ns();
	send_to(l.k[0], fa, 1, "real", 4);
	assert_true(th_wait_until(recv_now(l.k[1], fb, buf, sizeof(buf)) == 4,
	    5000));
	took = th_now_ns() - t0;
	printf("# 100 ms on real clocks took %.1f ms\n", (double)took / 1e6);
	assert_true(took >= 100 * MS);
	assert_true(took < 3000 * MS);
	close_as(l.k[0], fa);
	close_as(l.k[1], fb);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/* ---- going away with frames in flight ---- */

/*
 * Frames not yet due are freed with their port, and its callout is
 * stopped: an interface destroyed while armed, then an instance.
 */
static void
test_bus_destroy_in_flight(void **state)
{
	struct rump_bus_config cfg;
	struct lan l;
	char buf[16];
	int fd[NHOST];

	(void)state;
	rump_bus_config_default(&cfg);
	cfg.delay_ns = 1000 * MS;
	cfg.rate_bps = RATE;
	lan_up(&l, 3, &cfg);
	for (int i = 0; i < 3; i++)
		fd[i] = udp_socket(l.k[i], addrs[i], 9000);
	for (int i = 0; i < 5; i++) {
		send_to(l.k[0], fd[0], 1, "to B", 4);
		send_to(l.k[0], fd[0], 2, "to C", 4);
		send_to(l.k[1], fd[1], 0, "to A", 4);
	}
	assert_int_equal(rump_bus_quiesce(l.bus, 5000), 0);
	assert_int_equal(pending(&l), 15);
	lan_advance(&l, 500 * MS);	/* B's and C's callouts are armed */
	assert_int_equal(rump_if_destroy(l.k[1], l.ifx[1]), 0);
	assert_int_equal(pending(&l), 10);
	lan_advance(&l, 1000 * MS);
	assert_int_equal(recv_now(l.k[1], fd[1], buf, sizeof(buf)), -1);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(recv_now(l.k[0], fd[0], buf, sizeof(buf)), 4);
		assert_int_equal(recv_now(l.k[2], fd[2], buf, sizeof(buf)), 4);
	}
	/* and an instance goes with frames for it in flight */
	send_to(l.k[0], fd[0], 2, "late", 4);
	assert_int_equal(pending(&l), 1);
	for (int i = 0; i < 3; i++)
		close_as(l.k[i], fd[i]);
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(l.k[2]);
	l.k[2] = NULL;
	assert_int_equal(pending(&l), 0);
	lan_down(&l);
}

/*
 * Offload with a tap watching: the TCP checksums the instances left out
 * are computed before the frame reaches the tap, in the TCP header that
 * follows the Ethernet and IP headers (the tap checks each one with the
 * reference sum), and the data arrives intact.
 */
static void
test_bus_offload_tap_checksums(void **state)
{
	const struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	struct rump_bus_config cfg;
	struct rump_bus_tap *tap;
	struct sockaddr_in a = sa(addrs[1], 5001);
	static uint8_t frame[65600];	/* a TSO frame crosses whole */
	uint8_t buf[4000];
	unsigned tcp = 0;
	size_t len;
	struct lan l;
	int lfd, cfd, sfd;

	(void)state;
	rump_bus_config_default(&cfg);
	cfg.offload = true;
	lan_up(&l, 2, &cfg);
	assert_int_equal(rump_bus_tap_open(l.bus, NULL, &tap), 0);
	assert_int_equal(rump_thread_bind(l.k[1]), 0);
	lfd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(rump_sys_bind(lfd, (struct sockaddr *)&a, sizeof(a)),
	    0);
	assert_int_equal(rump_sys_listen(lfd, 1), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_thread_bind(l.k[0]), 0);
	cfd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(rump_sys_fcntl(cfd, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(rump_sys_connect(cfd, (struct sockaddr *)&a,
	    sizeof(a)), -1);
	assert_int_equal(errno, EINPROGRESS);
	lan_advance(&l, MS);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13);
	assert_int_equal(rump_sys_write(cfd, buf, sizeof(buf)), sizeof(buf));
	lan_advance(&l, MS);
	assert_int_equal(rump_thread_unbind(), 0);
	assert_int_equal(rump_thread_bind(l.k[1]), 0);
	sfd = rump_sys_accept(lfd, NULL, NULL);
	assert_true(sfd >= 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(rump_sys_recv(sfd, buf, sizeof(buf), MSG_WAITALL),
	    sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], (uint8_t)(i * 13));
	while (rump_bus_tap_recv(tap, frame, sizeof(frame), &len, 0) == 0) {
		uint32_t src, dst;
		size_t ihl, tlen;

		if (len < 34 || frame[12] != 0x08 || frame[13] != 0 ||
		    frame[23] != IPPROTO_TCP)
			continue;
		ihl = (size_t)(frame[14] & 0xf) * 4;
		tlen = (size_t)(frame[16] << 8 | frame[17]) - ihl;
		assert_true(len <= sizeof(frame) && 14 + ihl + tlen <= len);
		memcpy(&src, frame + 26, 4);
		memcpy(&dst, frame + 30, 4);
		assert_int_equal(ref_cksum(frame + 14 + ihl, tlen,
		    ref_pseudo(src, dst, IPPROTO_TCP, tlen)), 0);
		tcp++;
	}
	assert_true(tcp >= 4);	/* handshake and data at least */
	assert_int_equal(rump_sys_setsockopt(sfd, SOL_SOCKET, SO_LINGER, &rst,
	    sizeof(rst)), 0);
	assert_int_equal(rump_sys_close(sfd), 0);
	assert_int_equal(rump_sys_close(lfd), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_advance(&l, MS);
	assert_int_equal(rump_thread_bind(l.k[0]), 0);
	assert_int_equal(rump_sys_close(cfd), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	rump_bus_tap_close(tap);
	lan_down(&l);
}

/* The UDP stat name of instance k. */
static uint64_t
udp_stat(struct rump_kernel *k, const char *name)
{
	char full[64];
	uint64_t v = 0;

	snprintf(full, sizeof(full), "udp.%s", name);
	assert_int_equal(rump_stat_get(k, full, &v), 0);
	return v;
}

/*
 * UDP checksums sent, computed by ip_output() (offload off) or left to the
 * bus (on).  Unwatched, the datagrams arrive intact and are taken as
 * checked: neither "no checksum" (a field left out is 0) nor a bad one.
 * With a tap watching (on: the bus computes the sums then), the tap sees
 * each sum valid, and one that is zero sent as all ones (RFC 768).  Over
 * lo0, which offloads, the same holds.
 */
static void
udp_sums(bool offload)
{
	struct rump_bus_config cfg;
	struct rump_bus_tap *tap;
	struct sockaddr_in lo = sa("127.0.0.1", 9001);
	uint8_t frame[2048], buf[64], zero[2];
	uint32_t src = ip(addrs[0]), dst = ip(addrs[1]), sum;
	unsigned udp = 0, ones = 0;
	size_t len;
	struct lan l;
	int fd0, fd1, lfd;

	rump_bus_config_default(&cfg);
	cfg.offload = offload;
	lan_up(&l, 2, &cfg);
	fd1 = udp_socket(l.k[1], addrs[1], 9000);
	fd0 = udp_socket(l.k[0], addrs[0], 9000);
	send_to(l.k[0], fd0, 1, "unwatched", 9);
	lan_advance(&l, MS);
	assert_int_equal(recv_now(l.k[1], fd1, buf, sizeof(buf)), 9);
	assert_memory_equal(buf, "unwatched", 9);

	/* a 2-byte payload that brings the sum to 0xffff: checksum 0 */
	sum = ref_pseudo(src, dst, IPPROTO_UDP, 10) + 9000 + 9000 + 10;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	zero[0] = (uint8_t)((0xffff - sum) >> 8);
	zero[1] = (uint8_t)(0xffff - sum);
	assert_int_equal(rump_bus_tap_open(l.bus, NULL, &tap), 0);
	send_to(l.k[0], fd0, 1, "watched", 7);
	send_to(l.k[0], fd0, 1, zero, 2);
	lan_advance(&l, MS);
	assert_int_equal(recv_now(l.k[1], fd1, buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "watched", 7);
	assert_int_equal(recv_now(l.k[1], fd1, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, zero, 2);
	while (rump_bus_tap_recv(tap, frame, sizeof(frame), &len, 0) == 0) {
		size_t ulen;

		if (len < 42 || frame[12] != 0x08 || frame[13] != 0 ||
		    frame[23] != IPPROTO_UDP)
			continue;
		assert_int_equal(frame[14], 0x45);
		ulen = (size_t)(frame[38] << 8 | frame[39]);
		assert_true(34 + ulen <= len);
		assert_int_equal(ref_cksum(frame + 34, ulen,
		    ref_pseudo(src, dst, IPPROTO_UDP, ulen)), 0);
		if (frame[40] == 0xff && frame[41] == 0xff)
			ones++;
		udp++;
	}
	assert_int_equal(udp, 2);
	assert_int_equal(ones, 1);
	rump_bus_tap_close(tap);
	assert_int_equal(udp_stat(l.k[1], "delivered"), 3);
	assert_int_equal(udp_stat(l.k[1], "nosum"), 0);
	assert_int_equal(udp_stat(l.k[1], "badsum"), 0);

	lfd = udp_socket(l.k[0], "127.0.0.1", 9001);
	assert_int_equal(rump_sys_sendto(fd0, "looped", 6, 0,
	    (struct sockaddr *)&lo, sizeof(lo)), 6);
	/* threads mode: lo0's softnet runs on a thread of its own */
	for (int i = 0; i < 5000 && rump_sys_recv(lfd, buf, sizeof(buf),
	    MSG_DONTWAIT | MSG_PEEK) == -1 && errno == EAGAIN; i++)
		th_sleep_ms(1);
	assert_int_equal(recv_now(l.k[0], lfd, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "looped", 6);
	assert_int_equal(udp_stat(l.k[0], "delivered"), 1);
	assert_int_equal(udp_stat(l.k[0], "nosum"), 0);
	assert_int_equal(udp_stat(l.k[0], "badsum"), 0);
	close_as(l.k[0], lfd);
	close_as(l.k[0], fd0);
	close_as(l.k[1], fd1);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

/*
 * A datagram that arrived with its sum left out (offload) and is corrupted
 * by the receiver's own impairment: the sum is filled in before the flip,
 * so the flip is caught.  Every frame gets one bit flipped; what is
 * delivered (a flip in the source MAC, which nothing checks) is intact,
 * and no datagram passes as "no checksum".
 */
static void
test_bus_offload_udp_impaired(void **state)
{
	struct rump_bus_config cfg;
	struct rump_impair_config ic = { .seed = 5, .corrupt = 1 };
	uint8_t msg[32], buf[64];
	struct lan l;
	int fd0, fd1, got = 0;
	ssize_t n;

	(void)state;
	rump_bus_config_default(&cfg);
	cfg.offload = true;
	lan_up(&l, 2, &cfg);
	fd1 = udp_socket(l.k[1], addrs[1], 9000);
	assert_int_equal(rump_if_impair(l.k[1], l.ifx[1], &ic), 0);
	fd0 = udp_socket(l.k[0], addrs[0], 9000);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 1);
	for (int i = 0; i < 40; i++)
		send_to(l.k[0], fd0, 1, msg, sizeof(msg));
	lan_advance(&l, MS);
	while ((n = recv_now(l.k[1], fd1, buf, sizeof(buf))) >= 0) {
		assert_int_equal(n, sizeof(msg));
		assert_memory_equal(buf, msg, sizeof(msg));
		got++;
	}
	assert_int_equal(errno, EAGAIN);
	assert_true(got < 40);
	assert_int_equal(udp_stat(l.k[1], "nosum"), 0);
	assert_true(udp_stat(l.k[1], "badsum") > 0);
	assert_int_equal(udp_stat(l.k[1], "delivered"), (uint64_t)got);
	close_as(l.k[0], fd0);
	close_as(l.k[1], fd1);
	assert_int_equal(rump_thread_unbind(), 0);
	lan_down(&l);
}

static void
test_bus_udp_checksums(void **state)
{
	(void)state;
	udp_sums(false);
}

static void
test_bus_offload_udp(void **state)
{
	(void)state;
	udp_sums(true);
}

/* ---- a port whose receive loop is a fiber ---- */

#define FIBER_N 4096		/* a multiple of FIBER_WINDOW */
#define FIBER_WINDOW 16

struct fiber_run {
	struct rump_kernel *k[2];	/* 0: host thread port, 1: fiber port */
	int echoed;
	int bad;
	int returned;		/* echoes A got back */
	int peer_bad;
	int busy_poll_us;	/* SO_BUSY_POLL of B's socket */
};

/* B's application fiber: echo FIBER_N datagrams back where they came from. */
static void
fiber_echo(void *arg)
{
	struct fiber_run *r = arg;
	struct sockaddr_in s = sa(addrs[1], 9000), from;
	socklen_t flen;
	uint32_t v;
	int fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(rump_sys_bind(fd, (struct sockaddr *)&s, sizeof(s)),
	    0);
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL,
	    &r->busy_poll_us, sizeof(r->busy_poll_us)), 0);
	for (int i = 0; i < FIBER_N; i++) {
		flen = sizeof(from);
		if (rump_sys_recvfrom(fd, &v, sizeof(v), 0,
		    (struct sockaddr *)&from, &flen) != sizeof(v) ||
		    v != (uint32_t)i) {
			r->bad++;
			break;
		}
		if (rump_sys_sendto(fd, &v, sizeof(v), 0,
		    (struct sockaddr *)&from, flen) != sizeof(v))
			r->bad++;
		r->echoed++;
	}
	assert_int_equal(rump_sys_close(fd), 0);
}

/* A's host thread: FIBER_N numbered datagrams, FIBER_WINDOW at a time. */
static void *
fiber_peer(void *arg)
{
	struct fiber_run *r = arg;
	struct sockaddr_in to = sa(addrs[1], 9000);
	struct timeval tv = { 5, 0 };
	uint32_t v;
	int fd;

	fd = udp_socket(r->k[0], addrs[0], 9000);
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	for (uint32_t i = 0; i < FIBER_N; i += FIBER_WINDOW) {
		for (uint32_t j = i; j < i + FIBER_WINDOW; j++)
			assert_int_equal(rump_sys_sendto(fd, &j, sizeof(j), 0,
			    (struct sockaddr *)&to, sizeof(to)), sizeof(j));
		for (uint32_t j = i; j < i + FIBER_WINDOW; j++) {
			/* no cmocka assertion off the test's thread */
			if (rump_sys_recv(fd, &v, sizeof(v), 0) != sizeof(v) ||
			    v != j) {
				r->peer_bad++;
				i = FIBER_N;
				break;
			}
			r->returned++;
		}
	}
	assert_int_equal(rump_sys_close(fd), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	return NULL;
}

/* Is a host thread of this process called name? */
static bool
host_thread_named(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	bool found = false;

	assert_non_null(d);
	while (!found && (de = readdir(d)) != NULL) {
		char path[300], comm[32];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
		    de->d_name);
		if (de->d_name[0] == '.' || (f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL &&
		    strncmp(comm, name, strlen(name)) == 0 &&
		    comm[strlen(name)] == '\n')
			found = true;
		fclose(f);
	}
	closedir(d);
	return found;
}

/*
 * rump_bus_attach_fiber(): B's receive loop runs as a fiber of this host
 * thread next to B's echo fiber, and A's thread exchanges FIBER_N
 * datagrams with it, with the echo fiber busy polling or not; on a timed
 * bus (2 ms each way) its callout unparks it; with interrupt moderation
 * the echo fiber runs before each of the loop's sleeps.  Every datagram
 * comes back in order, and the port goes away from the thread that owns
 * it.
 */
static void
fiber_port_run(const struct rump_bus_config *cfg, int busy_poll_us)
{
	static struct fiber_run r;
	struct rump_bus *bus;
	unsigned ifx[2];
	pthread_t t;

	memset(&r, 0, sizeof(r));
	r.busy_poll_us = busy_poll_us;
	assert_int_equal(rump_bus_create(cfg, &bus), 0);
	for (int i = 0; i < 2; i++) {
		uint8_t mac[6], peer[6];

		host_mac(i, mac);
		host_mac(1 - i, peer);
		r.k[i] = th_kernel(pkt_mode(), RUMP_CLOCK_REAL, 1);
		assert_int_equal((i == 0 ? rump_bus_attach :
		    rump_bus_attach_fiber)(bus, r.k[i], "fbus0", mac, &ifx[i]),
		    0);
		assert_int_equal(rump_if_up(r.k[i], ifx[i]), 0);
		assert_int_equal(rump_if_addr_add(r.k[i], ifx[i],
		    inet_addr(addrs[i]), 24), 0);
		assert_int_equal(rump_arp_add(r.k[i], ifx[i],
		    inet_addr(addrs[1 - i]), peer), 0);
	}
	/* A's receive loop is a host thread (which names itself), B's not */
	assert_true(th_wait_until(host_thread_named("fbus0rx"), 5000));
	assert_int_equal(rump_fiber_spawn(r.k[1], fiber_echo, &r, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, fiber_peer, &r), 0);
	assert_int_equal(rump_fiber_run(), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.bad, 0);
	assert_int_equal(r.echoed, FIBER_N);
	assert_int_equal(r.peer_bad, 0);
	assert_int_equal(r.returned, FIBER_N);
	assert_int_equal(rump_if_destroy(r.k[0], ifx[0]), 0);
	assert_false(host_thread_named("fbus0rx"));
	/* the fiber's port goes with its instance, from this thread */
	th_kernel_destroy(r.k[1]);
	th_kernel_destroy(r.k[0]);
	assert_int_equal(rump_bus_destroy(bus), 0);
}

static void
test_bus_fiber_port(void **state)
{
	struct rump_bus_config cfg;

	(void)state;
	rump_bus_config_default(&cfg);
	fiber_port_run(&cfg, 0);
	/* the echo fiber polls the port itself between bursts */
	fiber_port_run(&cfg, 50);
	cfg.delay_ns = 2 * MS;
	fiber_port_run(&cfg, 0);
	/* with interrupt moderation: the echo still runs between sleeps */
	rump_bus_config_default(&cfg);
	cfg.rx_coalesce_us = 200;
	fiber_port_run(&cfg, 0);
	fiber_port_run(&cfg, 50);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bus_config_einval),
		cmocka_unit_test(test_bus_delay_exact),
		cmocka_unit_test(test_bus_delay_exact_threads),
		cmocka_unit_test(test_bus_jitter_reorder_seeded),
		cmocka_unit_test(test_bus_rate_limit),
		cmocka_unit_test(test_bus_rate_limit_queue),
		cmocka_unit_test(test_bus_sim_minute_deterministic),
		cmocka_unit_test(test_bus_tap_untimed),
		cmocka_unit_test(test_bus_untimed_unchanged),
		cmocka_unit_test(test_bus_rx_coalesce),
		cmocka_unit_test(test_bus_ecn_marking),
		cmocka_unit_test(test_bus_delay_real_clock),
		cmocka_unit_test(test_bus_destroy_in_flight),
		cmocka_unit_test(test_bus_offload_tap_checksums),
		cmocka_unit_test(test_bus_udp_checksums),
		cmocka_unit_test(test_bus_offload_udp),
		cmocka_unit_test(test_bus_offload_udp_impaired),
		cmocka_unit_test(test_bus_fiber_port),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
