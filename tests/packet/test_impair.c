/*
 * test_impair.c -- rump_if_impair(): loss, duplication, corruption,
 * delay, reordering and the delay queue's bound on an interface of any
 * driver (here the bus's, on a bus that impairs nothing), in both
 * directions, on virtual clocks.
 *
 * An instance (198.18.0.1) and a tap (198.18.0.126) that sends UDP
 * datagrams to a socket of the instance and receives what the instance
 * sends: loss 1 drops everything and counts it exactly; loss 0.5 drops
 * a count in a tight band that repeats for a seed; a 20 ms delay holds a
 * frame until the clock passes 20 ms; reordering lets later frames
 * overtake; duplication doubles; corruption flips exactly one byte;
 * queue_max bounds the queue; turning off releases what is held, and
 * destroying the interface frees it; EINVAL cases.  Then a TCP transfer,
 * both ways at once, through an interface with 1% loss, 20 ms delay and
 * reordering: every byte arrives intact.  Every test ends with the pools
 * of its instances back to zero.
 *
 * Needs no root, no DPDK, no network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "rumpnet/bus.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

static const uint8_t MAC_K[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC_T[6] = { 0x02, 0, 0, 0, 0, 0x7e };	/* the tap */

#define IP_K "198.18.0.1"
#define IP_T "198.18.0.126"
#define PORT_K 7000
#define PORT_T 9000
#define MS 1000000ull

struct inet {
	struct rump_bus *bus;
	struct rump_bus_tap *tap;
	struct rump_kernel *k;
	unsigned ifx;
	int fd;			/* UDP socket of k on PORT_K */
};

static uint64_t
stat(struct rump_kernel *k, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(rump_stat_get(k, name, &v), 0);
	return v;
}

/*
 * The instance, a tap (promiscuous when promisc) and a UDP socket of the
 * instance on PORT_K; the calling thread is bound to the instance.
 */
static void
isetup(struct inet *n, bool promisc)
{
	struct sockaddr_in a = sa(IP_K, PORT_K);
	uint8_t frame[128];
	size_t len;

	memset(n, 0, sizeof(*n));
	assert_int_equal(rump_bus_create(NULL, &n->bus), 0);
	assert_int_equal(rump_bus_tap_open(n->bus, promisc ? NULL : MAC_T,
	    &n->tap), 0);
	n->k = th_kernel(pkt_mode(), RUMP_CLOCK_VIRTUAL, 1);
	assert_int_equal(rump_bus_attach(n->bus, n->k, "bus0", MAC_K,
	    &n->ifx), 0);
	assert_int_equal(rump_if_up(n->k, n->ifx), 0);
	assert_int_equal(rump_if_addr_add(n->k, n->ifx, ip(IP_K), 24), 0);
	/* the gratuitous ARP */
	assert_int_equal(rump_bus_tap_recv(n->tap, frame, sizeof(frame), &len,
	    5000), 0);
	assert_int_equal(rump_arp_add(n->k, n->ifx, ip(IP_T), MAC_T), 0);
	as(n->k);
	n->fd = rump_sys_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(n->fd >= 0);
	assert_int_equal(rump_sys_bind(n->fd, (struct sockaddr *)&a,
	    sizeof(a)), 0);
}

static void
iteardown(struct inet *n)
{
	if (n->fd >= 0)
		assert_int_equal(rump_sys_close(n->fd), 0);
	(void)rump_thread_unbind();
	assert_int_equal(rump_bus_quiesce(n->bus, 5000), 0);
	rump_bus_tap_close(n->tap);
	th_kernel_destroy(n->k);
	assert_int_equal(rump_bus_destroy(n->bus), 0);
}

static struct rump_impair_config
icfg(uint64_t seed)
{
	struct rump_impair_config c;

	memset(&c, 0, sizeof(c));
	c.seed = seed;
	return c;
}

static void
impair(struct inet *n, const struct rump_impair_config *c)
{
	assert_int_equal(rump_if_impair(n->k, n->ifx, c), 0);
}

/* A UDP datagram from the tap to k's socket carrying the number seq. */
static size_t
udp_frame(uint8_t *f, uint32_t seq)
{
	uint8_t *u;
	size_t n = eth(f, MAC_K, MAC_T, 0x0800);
	uint16_t c;

	n += ipv4(f + n, NULL, 0, 20 + 8 + 4, (uint16_t)seq, 0, 64, 17, IP_T,
	    IP_K);
	u = f + n;
	u[0] = PORT_T >> 8;
	u[1] = PORT_T & 0xff;
	u[2] = PORT_K >> 8;
	u[3] = PORT_K & 0xff;
	u[4] = 0;
	u[5] = 12;
	u[6] = u[7] = 0;
	memcpy(u + 8, &seq, 4);
	c = ref_cksum(u, 12, ref_pseudo(ip(IP_T), ip(IP_K), 17, 12));
	memcpy(u + 6, &c, 2);
	return n + 12;
}

static void
tap_send_seq(struct inet *n, uint32_t seq)
{
	uint8_t f[64];
	size_t len = udp_frame(f, seq);

	assert_int_equal(rump_bus_tap_send(n->tap, f, len), 0);
}

/* The numbers k's socket received so far into seqs (at most max). */
static int
k_recv_all(struct inet *n, uint32_t *seqs, int max)
{
	uint32_t v;
	int got = 0;

	assert_int_equal(rump_bus_quiesce(n->bus, 5000), 0);
	while (rump_sys_recv(n->fd, &v, sizeof(v), 0) == (ssize_t)sizeof(v)) {
		assert_true(got < max);
		seqs[got++] = v;
	}
	assert_int_equal(errno, EAGAIN);
	return got;
}

/* k sends the number seq to the tap's port */
static void
k_send_seq(struct inet *n, uint32_t seq)
{
	struct sockaddr_in to = sa(IP_T, PORT_T);

	assert_int_equal(rump_sys_sendto(n->fd, &seq, sizeof(seq), 0,
	    (struct sockaddr *)&to, sizeof(to)), (ssize_t)sizeof(seq));
}

/* The numbers in the UDP frames the tap received so far. */
static int
tap_recv_all(struct inet *n, uint32_t *seqs, int max)
{
	uint8_t f[2048];
	size_t len;
	int got = 0;

	assert_int_equal(rump_bus_quiesce(n->bus, 5000), 0);
	while (rump_bus_tap_recv(n->tap, f, sizeof(f), &len, 0) == 0) {
		assert_int_equal(len, 14 + 20 + 8 + 4);
		assert_true(got < max);
		memcpy(&seqs[got++], f + 14 + 28, 4);
	}
	return got;
}

/* Move k's virtual clock, letting what it released land. */
static void
advance(struct inet *n, uint64_t ns)
{
	assert_int_equal(rump_clock_advance(n->k, ns), 0);
	assert_int_equal(rump_bus_quiesce(n->bus, 5000), 0);
}

static bool
has_inversion(const uint32_t *s, int n)
{
	for (int i = 1; i < n; i++)
		if (s[i] < s[i - 1])
			return true;
	return false;
}

/* ---- loss ---- */

static void
test_impair_loss_all(void **state)
{
	struct rump_impair_config c = icfg(1);
	struct inet n;
	uint32_t s[8];

	(void)state;
	isetup(&n, false);
	c.loss = 1;
	impair(&n, &c);
	for (uint32_t i = 0; i < 100; i++)
		tap_send_seq(&n, i);
	assert_int_equal(k_recv_all(&n, s, 8), 0);
	assert_int_equal(stat(n.k, "if.bus0.impair_lost"), 100);
	assert_int_equal(stat(n.k, "if.bus0.ipackets"), 0);
	for (uint32_t i = 0; i < 50; i++)
		k_send_seq(&n, i);
	assert_int_equal(tap_recv_all(&n, s, 8), 0);
	assert_int_equal(stat(n.k, "if.bus0.impair_lost"), 150);
	/* the driver saw none of them (the one frame: the ARP announcement) */
	assert_int_equal(stat(n.k, "if.bus0.opackets"), 1);
	assert_int_equal(stat(n.k, "udp.opackets"), 50);
	assert_int_equal(stat(n.k, "if.bus0.impair_delayed"), 0);
	/* off: everything goes through again */
	impair(&n, NULL);
	tap_send_seq(&n, 7);
	k_send_seq(&n, 8);
	assert_int_equal(k_recv_all(&n, s, 8), 1);
	assert_int_equal(s[0], 7);
	assert_int_equal(tap_recv_all(&n, s, 8), 1);
	assert_int_equal(s[0], 8);
	assert_int_equal(stat(n.k, "if.bus0.impair_lost"), 150);
	iteardown(&n);
}

/*
 * 1000 frames in at loss 0.5 with seed: how many arrived, and a digest
 * of which.
 */
static uint64_t
half_loss_run(uint64_t seed, int *received)
{
	struct rump_impair_config c = icfg(seed);
	static uint32_t s[1000];
	uint64_t digest = 1469598103934665603ull;
	struct inet n;
	int got = 0;

	isetup(&n, false);
	c.loss = 0.5;
	impair(&n, &c);
	for (uint32_t i = 0; i < 1000; i++) {
		tap_send_seq(&n, i);
		if (i % 100 == 99)	/* well inside every queue */
			got += k_recv_all(&n, s + got, 1000 - got);
	}
	for (int i = 0; i < got; i++) {
		assert_true(i == 0 || s[i] > s[i - 1]);	/* nothing held */
		digest = (digest ^ s[i]) * 1099511628211ull;
	}
	assert_int_equal(stat(n.k, "if.bus0.impair_lost"), 1000 - got);
	assert_int_equal(stat(n.k, "udp.delivered"), got);
	*received = got;
	iteardown(&n);
	return digest;
}

static void
test_impair_loss_half_repeats(void **state)
{
	int r1, r2, r3;
	uint64_t d1, d2, d3;

	(void)state;
	d1 = half_loss_run(42, &r1);
	d2 = half_loss_run(42, &r2);
	d3 = half_loss_run(43, &r3);
	/* binomial(1000, 0.5): sd 15.8; +-70 is 4.4 sd */
	print_message("# loss 0.5: %d, %d (seed 42), %d (seed 43) of 1000 "
	    "arrived\n", r1, r2, r3);
	assert_true(r1 >= 430 && r1 <= 570);
	assert_true(r3 >= 430 && r3 <= 570);
	assert_int_equal(r1, r2);
	assert_true(d1 == d2);
	assert_true(d1 != d3);
}

/* ---- time ---- */

static void
test_impair_delay_20ms(void **state)
{
	struct rump_impair_config c = icfg(1);
	struct inet n;
	uint32_t s[8];

	(void)state;
	isetup(&n, false);
	c.delay_ns = 20 * MS;
	impair(&n, &c);
	/* in: held until the clock passes 20 ms */
	tap_send_seq(&n, 1);
	assert_int_equal(k_recv_all(&n, s, 8), 0);
	assert_int_equal(stat(n.k, "if.bus0.impair_delayed"), 1);
	advance(&n, 19 * MS);
	assert_int_equal(k_recv_all(&n, s, 8), 0);
	advance(&n, 2 * MS);
	assert_int_equal(k_recv_all(&n, s, 8), 1);
	assert_int_equal(s[0], 1);
	/* out: the same */
	k_send_seq(&n, 2);
	assert_int_equal(tap_recv_all(&n, s, 8), 0);
	advance(&n, 19 * MS);
	assert_int_equal(tap_recv_all(&n, s, 8), 0);
	advance(&n, 2 * MS);
	assert_int_equal(tap_recv_all(&n, s, 8), 1);
	assert_int_equal(s[0], 2);
	/* a steady delay keeps the order */
	for (uint32_t i = 10; i < 20; i++) {
		tap_send_seq(&n, i);
		k_send_seq(&n, i);
		advance(&n, MS);
	}
	advance(&n, 20 * MS);
	uint32_t in[16], out[16];
	assert_int_equal(k_recv_all(&n, in, 16), 10);
	assert_int_equal(tap_recv_all(&n, out, 16), 10);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(in[i], 10 + (uint32_t)i);
		assert_int_equal(out[i], 10 + (uint32_t)i);
	}
	assert_int_equal(stat(n.k, "if.bus0.impair_delayed"), 22);
	assert_int_equal(stat(n.k, "if.bus0.impair_reordered"), 0);
	iteardown(&n);
}

static void
test_impair_reorder_overtakes(void **state)
{
	struct rump_impair_config c = icfg(7);
	struct inet n;
	uint32_t in[32], out[32];
	int now_in, now_out, held;

	(void)state;
	isetup(&n, false);
	c.reorder = 0.5;
	c.reorder_ns = 10 * MS;
	impair(&n, &c);
	for (uint32_t i = 0; i < 20; i++) {
		tap_send_seq(&n, i);
		k_send_seq(&n, i);
	}
	/* those not held back are there at once, the others 10 ms later */
	now_in = k_recv_all(&n, in, 32);
	now_out = tap_recv_all(&n, out, 32);
	held = (int)stat(n.k, "if.bus0.impair_reordered");
	assert_int_equal(held, 40 - now_in - now_out);
	assert_int_equal(stat(n.k, "if.bus0.impair_delayed"), held);
	assert_true(now_in > 0 && now_in < 20);
	assert_true(now_out > 0 && now_out < 20);
	advance(&n, 9 * MS);
	assert_int_equal(k_recv_all(&n, in + now_in, 32 - now_in), 0);
	advance(&n, 2 * MS);
	assert_int_equal(k_recv_all(&n, in + now_in, 32 - now_in),
	    20 - now_in);
	assert_int_equal(tap_recv_all(&n, out + now_out, 32 - now_out),
	    20 - now_out);
	/* every frame arrived once, and a later one overtook an earlier */
	for (uint32_t v = 0; v < 20; v++) {
		int ci = 0, co = 0;

		for (int i = 0; i < 20; i++) {
			ci += in[i] == v;
			co += out[i] == v;
		}
		assert_int_equal(ci, 1);
		assert_int_equal(co, 1);
	}
	assert_true(has_inversion(in, 20));
	assert_true(has_inversion(out, 20));
	iteardown(&n);
}

/* ---- duplication, corruption ---- */

static void
test_impair_duplicate(void **state)
{
	struct rump_impair_config c = icfg(3);
	struct inet n;
	uint32_t s[32];

	(void)state;
	isetup(&n, false);
	c.duplicate = 1;
	impair(&n, &c);
	for (uint32_t i = 0; i < 10; i++)
		tap_send_seq(&n, i);
	assert_int_equal(k_recv_all(&n, s, 32), 20);
	for (int i = 0; i < 20; i++)
		assert_int_equal(s[i], (uint32_t)i / 2);
	for (uint32_t i = 0; i < 5; i++)
		k_send_seq(&n, i);
	assert_int_equal(tap_recv_all(&n, s, 32), 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(s[i], (uint32_t)i / 2);
	assert_int_equal(stat(n.k, "if.bus0.impair_duplicated"), 15);
	assert_int_equal(stat(n.k, "if.bus0.opackets"), 1 + 10);
	iteardown(&n);
}

/* How many bytes of a and b (len each) differ; *bits: the bits flipped. */
static int
ndiff(const uint8_t *a, const uint8_t *b, size_t len, int *bits, size_t *at)
{
	int n = 0;

	*bits = 0;
	for (size_t i = 0; i < len; i++) {
		if (a[i] == b[i])
			continue;
		n++;
		*at = i;
		*bits += __builtin_popcount((unsigned)(a[i] ^ b[i]));
	}
	return n;
}

/*
 * Out: identical datagrams (a raw socket's own header, fixed ip_id) leave
 * with exactly one bit of one byte flipped, not always the same byte.
 * In: what a raw socket reads differs from what was sent in one byte at
 * most (a flip in the headers drops the datagram).
 */
static void
test_impair_corrupt_one_byte(void **state)
{
	struct rump_impair_config c = icfg(11);
	struct inet n;
	uint8_t h[64], ref[128], f[128], buf[128];
	size_t reflen, len, at = 0, first = 0, hlen;
	bool moved = false;
	int fd, bits, got = 0;

	(void)state;
	isetup(&n, true);	/* a promiscuous tap: the MACs may change */
	fd = rump_sys_socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, 253);
	assert_true(fd >= 0);
	assert_int_equal(rump_sys_setsockopt(fd, IPPROTO_IP, IP_HDRINCL,
	    &(int){ 1 }, sizeof(int)), 0);
	hlen = ipv4(h, NULL, 0, 20 + 32, 0x4444, 0, 64, 253, IP_K, IP_T);
	for (size_t i = 0; i < 32; i++)
		h[hlen + i] = (uint8_t)(i * 5);
	struct sockaddr_in to = sa(IP_T, 0);
	assert_int_equal(rump_sys_sendto(fd, h, hlen + 32, 0,
	    (struct sockaddr *)&to, sizeof(to)), (ssize_t)(hlen + 32));
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(rump_bus_tap_recv(n.tap, ref, sizeof(ref), &reflen,
	    0), 0);
	assert_int_equal(reflen, 14 + 52);
	c.corrupt = 1;
	impair(&n, &c);
	for (int i = 0; i < 30; i++) {
		assert_int_equal(rump_sys_sendto(fd, h, hlen + 32, 0,
		    (struct sockaddr *)&to, sizeof(to)), (ssize_t)(hlen + 32));
		assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
		assert_int_equal(rump_bus_tap_recv(n.tap, f, sizeof(f), &len,
		    0), 0);
		assert_int_equal(len, reflen);
		assert_int_equal(ndiff(ref, f, len, &bits, &at), 1);
		assert_int_equal(bits, 1);
		if (i == 0)
			first = at;
		else if (at != first)
			moved = true;
	}
	assert_true(moved);
	assert_int_equal(stat(n.k, "if.bus0.impair_corrupted"), 30);

	/* in: a raw socket for protocol 253 sees the flips in the data */
	for (int i = 0; i < 30; i++) {
		len = eth(f, MAC_K, MAC_T, 0x0800);
		len += ipv4(f + len, NULL, 0, 20 + 32, (uint16_t)(0x100 + i),
		    0, 64, 253, IP_T, IP_K);
		memcpy(f + len, h + hlen, 32);
		len += 32;
		assert_int_equal(rump_bus_tap_send(n.tap, f, len), 0);
		assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
		if (rump_sys_recv(fd, buf, sizeof(buf), 0) != 52)
			continue;
		got++;
		assert_memory_equal(buf, f + 14, 20);
		assert_true(ndiff(buf + 20, f + 34, 32, &bits, &at) <= 1);
	}
	assert_int_equal(stat(n.k, "if.bus0.impair_corrupted"), 60);
	assert_true(got > 0 && got < 30);
	assert_int_equal(rump_sys_close(fd), 0);
	iteardown(&n);
}

/* ---- the queue, turning off, teardown, arguments ---- */

static void
test_impair_queue_max(void **state)
{
	struct rump_impair_config c = icfg(1);
	struct inet n;
	uint32_t s[32];

	(void)state;
	isetup(&n, false);
	c.delay_ns = 100 * MS;
	c.queue_max = 10;
	impair(&n, &c);
	for (uint32_t i = 0; i < 15; i++)
		k_send_seq(&n, i);
	assert_int_equal(stat(n.k, "if.bus0.impair_delayed"), 10);
	assert_int_equal(stat(n.k, "if.bus0.impair_qdrops"), 5);
	advance(&n, 101 * MS);
	assert_int_equal(tap_recv_all(&n, s, 32), 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(s[i], (uint32_t)i);
	/* a bigger queue takes the frames held along */
	for (uint32_t i = 0; i < 5; i++)
		k_send_seq(&n, 100 + i);
	c.queue_max = 20;
	impair(&n, &c);
	for (uint32_t i = 0; i < 15; i++)
		k_send_seq(&n, 200 + i);
	assert_int_equal(stat(n.k, "if.bus0.impair_qdrops"), 5);
	/* and a smaller one sends the earliest on at once */
	c.queue_max = 4;
	impair(&n, &c);
	assert_int_equal(tap_recv_all(&n, s, 32), 16);
	assert_int_equal(s[0], 100);
	assert_int_equal(s[5], 200);
	advance(&n, 101 * MS);
	assert_int_equal(tap_recv_all(&n, s, 32), 4);
	assert_int_equal(s[3], 214);
	iteardown(&n);
}

static void
test_impair_off_releases(void **state)
{
	struct rump_impair_config c = icfg(1), zero = icfg(99);
	struct inet n;
	uint32_t s[8];

	(void)state;
	isetup(&n, false);
	c.delay_ns = 1000 * MS;
	impair(&n, &c);
	for (uint32_t i = 0; i < 3; i++) {
		tap_send_seq(&n, i);
		k_send_seq(&n, 10 + i);
	}
	assert_int_equal(k_recv_all(&n, s, 8), 0);
	assert_int_equal(tap_recv_all(&n, s, 8), 0);
	assert_int_equal(stat(n.k, "if.bus0.impair_delayed"), 6);
	/* off: what was held goes on at once, in order, the clock still */
	impair(&n, NULL);
	assert_int_equal(k_recv_all(&n, s, 8), 3);
	assert_int_equal(s[0], 0);
	assert_int_equal(s[2], 2);
	assert_int_equal(tap_recv_all(&n, s, 8), 3);
	assert_int_equal(s[0], 10);
	assert_int_equal(s[2], 12);
	/* all knobs 0 is off too (the seed and queue_max do nothing) */
	impair(&n, &c);
	k_send_seq(&n, 20);
	assert_int_equal(tap_recv_all(&n, s, 8), 0);
	zero.queue_max = 5;
	impair(&n, &zero);
	assert_int_equal(tap_recv_all(&n, s, 8), 1);
	assert_int_equal(s[0], 20);
	k_send_seq(&n, 21);
	assert_int_equal(tap_recv_all(&n, s, 8), 1);
	/* the callout armed for the frames released finds nothing */
	advance(&n, 1001 * MS);
	assert_int_equal(tap_recv_all(&n, s, 8), 0);
	assert_int_equal(stat(n.k, "if.bus0.impair_delayed"), 7);
	iteardown(&n);
}

/* Frames held when the interface or the instance goes are freed. */
static void
test_impair_destroy_frees(void **state)
{
	struct rump_impair_config c = icfg(1);
	struct inet n;

	(void)state;
	/* the interface goes: the leak check at teardown sees its frames */
	isetup(&n, false);
	c.delay_ns = 1000 * MS;
	c.duplicate = 1;
	impair(&n, &c);
	for (uint32_t i = 0; i < 5; i++) {
		tap_send_seq(&n, i);
		k_send_seq(&n, i);
	}
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(stat(n.k, "if.bus0.impair_delayed"), 20);
	assert_true(rump_kernel_leaks(n.k) >= 20 + 2);
	assert_int_equal(rump_if_destroy(n.k, n.ifx), 0);
	/* the socket and its PCB are all that is left */
	assert_int_equal(rump_kernel_leaks(n.k), 2);
	assert_int_equal(rump_if_impair(n.k, n.ifx, &c), ENXIO);
	iteardown(&n);

	/* the instance goes with frames held (ASan sees what is not freed) */
	isetup(&n, false);
	impair(&n, &c);
	for (uint32_t i = 0; i < 5; i++) {
		tap_send_seq(&n, i);
		k_send_seq(&n, i);
	}
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(rump_sys_close(n.fd), 0);
	(void)rump_thread_unbind();
	rump_bus_tap_close(n.tap);
	assert_int_equal(rump_kernel_destroy(n.k), 0);
	assert_int_equal(rump_bus_destroy(n.bus), 0);
}

static void
test_impair_einval(void **state)
{
	struct rump_impair_config c;
	struct inet n;

	(void)state;
	isetup(&n, false);
	c = icfg(1);
	c.loss = -0.1;
	assert_int_equal(rump_if_impair(n.k, n.ifx, &c), EINVAL);
	c.loss = 1.5;
	assert_int_equal(rump_if_impair(n.k, n.ifx, &c), EINVAL);
	c.loss = NAN;
	assert_int_equal(rump_if_impair(n.k, n.ifx, &c), EINVAL);
	c = icfg(1);
	c.duplicate = 2;
	assert_int_equal(rump_if_impair(n.k, n.ifx, &c), EINVAL);
	c = icfg(1);
	c.corrupt = -1;
	assert_int_equal(rump_if_impair(n.k, n.ifx, &c), EINVAL);
	c = icfg(1);
	c.reorder = 1.01;
	c.reorder_ns = MS;
	assert_int_equal(rump_if_impair(n.k, n.ifx, &c), EINVAL);
	c = icfg(1);
	c.reorder = 0.5;		/* without reorder_ns */
	assert_int_equal(rump_if_impair(n.k, n.ifx, &c), EINVAL);
	c = icfg(1);
	c.delay_ns = 3600ull * 1000 * MS + 1;
	assert_int_equal(rump_if_impair(n.k, n.ifx, &c), EINVAL);
	c = icfg(1);
	c.jitter_ns = 3600ull * 1000 * MS + 1;
	assert_int_equal(rump_if_impair(n.k, n.ifx, &c), EINVAL);
	c = icfg(1);
	c.reorder = 0.1;
	c.reorder_ns = 3600ull * 1000 * MS + 1;
	assert_int_equal(rump_if_impair(n.k, n.ifx, &c), EINVAL);
	/* an hour is allowed; a bad index is ENXIO */
	c = icfg(1);
	c.delay_ns = 3600ull * 1000 * MS;
	assert_int_equal(rump_if_impair(n.k, n.ifx + 5, &c), ENXIO);
	assert_int_equal(rump_if_impair(n.k, n.ifx + 5, NULL), ENXIO);
	assert_int_equal(rump_if_impair(n.k, n.ifx, &c), 0);
	assert_int_equal(rump_if_impair(n.k, n.ifx, NULL), 0);
	/* nothing was held or dropped by all that */
	assert_int_equal(stat(n.k, "if.bus0.impair_delayed"), 0);
	iteardown(&n);
}

struct names {
	int impair;
};

static void
count_impair(const char *name, uint64_t value, void *arg)
{
	struct names *nm = arg;

	(void)value;
	if (strncmp(name, "if.bus0.impair_", 15) == 0)
		nm->impair++;
}

/* The six counters are there before impairment was ever on. */
static void
test_impair_counters_listed(void **state)
{
	struct names nm = { 0 };
	struct inet n;

	(void)state;
	isetup(&n, false);
	assert_int_equal(rump_stat_list(n.k, count_impair, &nm), 0);
	assert_int_equal(nm.impair, 6);
	assert_int_equal(stat(n.k, "if.bus0.impair_qdrops"), 0);
	iteardown(&n);
}

/* ---- TCP through an impaired interface ---- */

#define TCP_A2B (768u * 1024)
#define TCP_B2A (256u * 1024)

static uint8_t
pat(uint64_t off, unsigned salt)
{
	uint64_t x = (off + salt) * 0x9e3779b97f4a7c15ull;

	return (uint8_t)(x >> 56);
}

/* One end: sends total bytes of its pattern, checks what it receives. */
struct tend {
	int fd;
	unsigned txsalt, rxsalt;
	uint64_t txtotal, sent, rxtotal, rcvd;
	bool shut, eof;
};

static void
tend_step(struct tend *e)
{
	static uint8_t buf[65536];
	ssize_t r;

	while (e->sent < e->txtotal) {
		uint64_t left = e->txtotal - e->sent;
		size_t len = left < sizeof(buf) ? (size_t)left : sizeof(buf);

		for (size_t i = 0; i < len; i++)
			buf[i] = pat(e->sent + i, e->txsalt);
		if ((r = rump_sys_send(e->fd, buf, len, 0)) < 0) {
			assert_int_equal(errno, EAGAIN);
			break;
		}
		e->sent += (uint64_t)r;
	}
	if (e->sent == e->txtotal && !e->shut) {
		assert_int_equal(rump_sys_shutdown(e->fd, SHUT_WR), 0);
		e->shut = true;
	}
	while (!e->eof) {
		if ((r = rump_sys_recv(e->fd, buf, sizeof(buf), 0)) < 0) {
			assert_int_equal(errno, EAGAIN);
			break;
		}
		if (r == 0) {
			e->eof = true;
			break;
		}
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pat(e->rcvd + (uint64_t)i, e->rxsalt))
				fail_msg("byte %llu of the stream is wrong",
				    (unsigned long long)(e->rcvd +
				    (uint64_t)i));
		e->rcvd += (uint64_t)r;
		assert_true(e->rcvd <= e->rxtotal);
	}
}

static void
test_impair_tcp_transfer(void **state)
{
	struct rump_impair_config c = icfg(2024);
	struct rump_kernel *ka, *kb;
	struct rump_bus *bus;
	struct sockaddr_in la = sa("198.18.0.2", 5001);
	const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 1, 1 };
	const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 1, 2 };
	struct linger lg = { 1, 0 };
	struct tend a = { 0 }, b = { 0 };
	unsigned ifa, ifb;
	uint64_t ms = 0;
	int lfd;

	(void)state;
	assert_int_equal(rump_bus_create(NULL, &bus), 0);
	ka = th_kernel(pkt_mode(), RUMP_CLOCK_VIRTUAL, 1);
	kb = th_kernel(pkt_mode(), RUMP_CLOCK_VIRTUAL, 1);
	assert_int_equal(rump_bus_attach(bus, ka, "bus0", mac_a, &ifa), 0);
	assert_int_equal(rump_bus_attach(bus, kb, "bus0", mac_b, &ifb), 0);
	assert_int_equal(rump_if_up(ka, ifa), 0);
	assert_int_equal(rump_if_up(kb, ifb), 0);
	assert_int_equal(rump_if_addr_add(ka, ifa, ip("198.18.0.1"), 24), 0);
	assert_int_equal(rump_if_addr_add(kb, ifb, ip("198.18.0.2"), 24), 0);
	assert_int_equal(rump_arp_add(ka, ifa, ip("198.18.0.2"), mac_b), 0);
	assert_int_equal(rump_arp_add(kb, ifb, ip("198.18.0.1"), mac_a), 0);
	assert_int_equal(rump_bus_quiesce(bus, 5000), 0);
	/* A's interface: both directions of the connection go through it */
	c.loss = 0.01;
	c.delay_ns = 20 * MS;
	c.reorder = 0.05;
	c.reorder_ns = 5 * MS;
	assert_int_equal(rump_if_impair(ka, ifa, &c), 0);

	as(kb);
	lfd = rump_sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(rump_sys_bind(lfd, (struct sockaddr *)&la,
	    sizeof(la)), 0);
	assert_int_equal(rump_sys_listen(lfd, 1), 0);
	as(ka);
	a.fd = rump_sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	errno = 0;
	assert_int_equal(rump_sys_connect(a.fd, (struct sockaddr *)&la,
	    sizeof(la)), -1);
	assert_int_equal(errno, EINPROGRESS);
	a.txsalt = 1;
	a.rxsalt = 2;
	a.txtotal = b.rxtotal = TCP_A2B;
	b.txsalt = 2;
	b.rxsalt = 1;
	b.txtotal = a.rxtotal = TCP_B2A;
	b.fd = -1;
	/* a millisecond at a time, for at most two minutes of virtual time */
	while (!(a.eof && b.eof)) {
		assert_true(ms < 120000);
		as(kb);
		if (b.fd < 0)
			b.fd = rump_sys_accept(lfd, NULL, NULL);
		if (b.fd >= 0) {
			(void)rump_sys_fcntl(b.fd, F_SETFL, O_NONBLOCK);
			tend_step(&b);
		}
		as(ka);
		tend_step(&a);
		assert_int_equal(rump_clock_advance(ka, MS), 0);
		assert_int_equal(rump_clock_advance(kb, MS), 0);
		assert_int_equal(rump_bus_quiesce(bus, 5000), 0);
		ms++;
	}
	print_message("# %u + %u bytes in %llu ms of virtual time; A lost "
	    "%llu, reordered %llu, delayed %llu frames\n", TCP_A2B, TCP_B2A,
	    (unsigned long long)ms,
	    (unsigned long long)stat(ka, "if.bus0.impair_lost"),
	    (unsigned long long)stat(ka, "if.bus0.impair_reordered"),
	    (unsigned long long)stat(ka, "if.bus0.impair_delayed"));
	assert_int_equal(a.rcvd, TCP_B2A);
	assert_int_equal(b.rcvd, TCP_A2B);
	assert_true(stat(ka, "if.bus0.impair_lost") > 0);
	assert_true(stat(ka, "if.bus0.impair_reordered") > 0);
	/* no TIME-WAIT to wait out: both ends reset */
	assert_int_equal(rump_sys_setsockopt(a.fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	assert_int_equal(rump_sys_close(a.fd), 0);
	as(kb);
	assert_int_equal(rump_sys_setsockopt(b.fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	assert_int_equal(rump_sys_close(b.fd), 0);
	assert_int_equal(rump_sys_close(lfd), 0);
	assert_int_equal(rump_thread_unbind(), 0);
	/* what A still holds goes out, and lands */
	assert_int_equal(rump_if_impair(ka, ifa, NULL), 0);
	assert_int_equal(rump_bus_quiesce(bus, 5000), 0);
	th_kernel_destroy(ka);
	th_kernel_destroy(kb);
	assert_int_equal(rump_bus_destroy(bus), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_impair_loss_all),
		cmocka_unit_test(test_impair_loss_half_repeats),
		cmocka_unit_test(test_impair_delay_20ms),
		cmocka_unit_test(test_impair_reorder_overtakes),
		cmocka_unit_test(test_impair_duplicate),
		cmocka_unit_test(test_impair_corrupt_one_byte),
		cmocka_unit_test(test_impair_queue_max),
		cmocka_unit_test(test_impair_off_releases),
		cmocka_unit_test(test_impair_destroy_frees),
		cmocka_unit_test(test_impair_einval),
		cmocka_unit_test(test_impair_counters_listed),
		cmocka_unit_test(test_impair_tcp_transfer),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
