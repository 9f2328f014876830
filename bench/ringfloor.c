/*
 * ringfloor -- what a round trip over DPDK net_ring between two cores costs
 * with no network stack at all: the floor under `make bench`'s rr figure.
 *
 * Two threads, pinned to the two CPUs rumpnet-perf uses, each own one end
 * of a net_ring pair (two rte_rings, one each way, as rumpnet-perf's
 * net_ring ports) and a mempool.  One sends a 64-byte frame; the other
 * receives it, reads its first and last bytes, frees it, allocates a frame
 * of its own, writes it and sends it back; and so on.  That is the least
 * any stack must do per message over net_ring: take the frame out of the
 * ring, touch its header and give the mbuf back, then build one and put it
 * in.  An rr transaction is one such round trip plus the stack's work on
 * both ends (TCP/IP output and input, the socket calls), so
 *
 *	rr <= ring_floor_rr,	rr / Linux <= ring_floor_rr / Linux.
 *
 * A connection per transaction (crr) needs at least two round trips before
 * its response arrives (SYN and SYN-ACK; request and response), so crr is
 * below half of it.
 *
 * The same two threads also bounce one cache line between them (each
 * waits for the other's write and answers it): cacheline_rtt is that
 * line's round trip between the two CPUs, the unit every cross-core
 * hand-over above is made of.  On a virtual machine it depends on where
 * the host places the vCPUs.
 *
 * A second ping-pong of half the time follows each run, with end 0
 * timing every round trip (the TSC read as it sends and as the answer
 * arrives; that costs about 7% of the rate, so the rate above comes from
 * the untimed run) into a histogram of 10 ns buckets: the p50 and p99 of
 * a round trip with no stack are the floor under rumpnet-perf's rr
 * percentiles, and the gap between them is what the machine (the
 * hypervisor, the host's scheduler) adds to any tail.
 *
 * Prints BENCH lines (medians of --repeat runs) and, last, a JSON line
 * for scripts/bench-main:
 *	BENCH ring_floor_rr <round trips per second> trans/s
 *	BENCH ring_floor_rtt <ns per round trip> ns
 *	BENCH ring_floor_p50 <ns> ns
 *	BENCH ring_floor_p99 <ns> ns
 *	BENCH cacheline_rtt <ns per round trip> ns
 *
 * Usage: ringfloor [--seconds S] [--repeat N] [--cpus A,B]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_cycles.h>

#include "median.h"

#define FRAME 64	/* a minimum Ethernet frame with its FCS off */
#define BURST 8
#define MAXREP 15

static double seconds = 2.0;
static int cpus[2] = { 0, 1 };

static struct rte_mempool *pool[2];
static uint16_t port[2];

/* The hand-over of one run: the initiator's count and its stop. */
static atomic_bool stop;
static atomic_bool started[2];
static long trips;

/*
 * End 0's round-trip times: 10 ns buckets up to HIST_NS, the last one
 * holding everything longer.
 */
#define HIST_NS 200000
#define HIST_STEP 10
static uint32_t hist[HIST_NS / HIST_STEP + 1];

static void
hist_add(uint64_t cycles)
{
	uint64_t ns = cycles * 1000000000ull / rte_get_tsc_hz();
	size_t i = ns / HIST_STEP;

	hist[i < HIST_NS / HIST_STEP ? i : HIST_NS / HIST_STEP]++;
}

/* The q-quantile of the histogram, in ns (a bucket's middle). */
static double
hist_quantile(double q)
{
	uint64_t total = 0, want, seen = 0;
	size_t i, n = sizeof(hist) / sizeof(hist[0]);

	for (i = 0; i < n; i++)
		total += hist[i];
	want = (uint64_t)((double)total * q);
	for (i = 0; i < n; i++)
		if ((seen += hist[i]) > want)
			break;
	if (i == n - 1 || i == n)
		return HIST_NS;
	return (double)(i * HIST_STEP) + HIST_STEP / 2.0;
}

/* The cache line the two threads bounce. */
static struct {
	_Alignas(64) atomic_long v;
} line;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Build a frame of pool me's, its bytes all v, and put it in the ring. */
static bool timed;
static uint64_t sent_at;

static bool
send_frame(int me, uint8_t v)
{
	struct rte_mbuf *m;
	char *p;

	if ((m = rte_pktmbuf_alloc(pool[me])) == NULL)
		return false;
	p = rte_pktmbuf_append(m, FRAME);
	memset(p, v, FRAME);
	if (me == 0 && timed)
		sent_at = rte_rdtsc();
	while (rte_eth_tx_burst(port[me], 0, &m, 1) == 0)
		;
	return true;
}

/*
 * One end of the ping-pong.  End 0 starts it and counts round trips until
 * the time is up; end 1 answers until end 0 says stop.
 */
static int
ping_pong(void *arg)
{
	int me = (int)(intptr_t)arg;
	struct rte_mbuf *m[BURST];
	double end;
	long n = 0;
	uint16_t k, i;
	uint8_t v;

	atomic_store(&started[me], true);
	while (!atomic_load(&started[!me]))
		;
	end = now() + (timed ? seconds / 2 : seconds);
	if (me == 0 && !send_frame(me, 1))
		return -1;
	for (;;) {
		if ((k = rte_eth_rx_burst(port[me], 0, m, BURST)) == 0) {
			if (me == 1 && atomic_load_explicit(&stop,
			    memory_order_relaxed))
				break;
			continue;
		}
		for (i = 0; i < k; i++) {
			const volatile uint8_t *d =
			    rte_pktmbuf_mtod(m[i], const uint8_t *);

			if (me == 0 && timed)
				hist_add(rte_rdtsc() - sent_at);
			v = (uint8_t)(d[0] + d[FRAME - 1]);
			rte_pktmbuf_free(m[i]);
			if (!send_frame(me, v))
				return -1;
			n++;
		}
		if (me == 0 && (n & 255) == 0 && now() >= end) {
			atomic_store(&stop, true);
			break;
		}
	}
	if (me == 0)
		trips = n;
	return 0;
}

/* One end of the cache-line bounce: end 0 writes odd values, end 1 even. */
static long bounces;

static int
bounce(void *arg)
{
	int me = (int)(intptr_t)arg;
	long want = me == 0 ? 0 : 1, n = 0;
	double end = now() + seconds / 4;

	for (;;) {
		long x;

		while ((x = atomic_load_explicit(&line.v,
		    memory_order_acquire)) != want && x >= 0)
			;
		if (x < 0)
			break;
		atomic_store_explicit(&line.v, x + 1, memory_order_release);
		want = x + 2;
		if (me == 0 && (++n & 1023) == 0 && now() >= end) {
			bounces = n;
			/* let end 1 see the last value before the stop */
			while (atomic_load(&line.v) == x + 1)
				;
			atomic_store(&line.v, -1);
			break;
		}
	}
	return 0;
}

/* Free what the last run left in flight: a frame answered as it stopped. */
static void
drain(void)
{
	struct rte_mbuf *m[BURST];
	uint16_t k;
	int i;

	for (i = 0; i < 2; i++)
		while ((k = rte_eth_rx_burst(port[i], 0, m, BURST)) != 0)
			rte_pktmbuf_free_bulk(m, k);
}

/* Run fn on both ends (end 1 on the EAL worker lcore); its time. */
static double
both(int (*fn)(void *))
{
	unsigned worker = rte_get_next_lcore(-1, 1, 0);
	double t0;

	atomic_store(&stop, false);
	atomic_store(&started[0], false);
	atomic_store(&started[1], false);
	if (rte_eal_remote_launch(fn, (void *)(intptr_t)1, worker) != 0) {
		fprintf(stderr, "ringfloor: cannot start lcore %u\n", worker);
		exit(1);
	}
	t0 = now();
	if (fn((void *)(intptr_t)0) != 0) {
		fprintf(stderr, "ringfloor: mempool empty\n");
		exit(1);
	}
	t0 = now() - t0;
	if (rte_eal_wait_lcore(worker) != 0) {
		fprintf(stderr, "ringfloor: mempool empty\n");
		exit(1);
	}
	drain();
	return t0;
}

static void
setup(void)
{
	struct rte_ring *ab, *ba;
	struct rte_eth_conf conf;
	char name[32];
	int i;

	ab = rte_ring_create("floor_ab", 1024, (int)rte_socket_id(),
	    RING_F_SP_ENQ | RING_F_SC_DEQ);
	ba = rte_ring_create("floor_ba", 1024, (int)rte_socket_id(),
	    RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ab == NULL || ba == NULL) {
		fprintf(stderr, "ringfloor: rte_ring_create: %s\n",
		    rte_strerror(rte_errno));
		exit(1);
	}
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "floor_pool%d", i);
		pool[i] = rte_pktmbuf_pool_create(name, 2047, 256, 0,
		    RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
		if (pool[i] == NULL) {
			fprintf(stderr, "ringfloor: mempool: %s\n",
			    rte_strerror(rte_errno));
			exit(1);
		}
	}
	/* as rumpnet-perf's pair: each end receives what the other sends */
	if ((i = rte_eth_from_rings("floor_a", &ba, 1, &ab, 1,
	    rte_socket_id())) < 0)
		goto fail;
	port[0] = (uint16_t)i;
	if ((i = rte_eth_from_rings("floor_b", &ab, 1, &ba, 1,
	    rte_socket_id())) < 0)
		goto fail;
	port[1] = (uint16_t)i;
	memset(&conf, 0, sizeof(conf));
	for (i = 0; i < 2; i++)
		if (rte_eth_dev_configure(port[i], 1, 1, &conf) != 0 ||
		    rte_eth_rx_queue_setup(port[i], 0, 512,
		    (unsigned)rte_socket_id(), NULL, pool[i]) != 0 ||
		    rte_eth_tx_queue_setup(port[i], 0, 512,
		    (unsigned)rte_socket_id(), NULL) != 0 ||
		    rte_eth_dev_start(port[i]) != 0)
			goto fail;
	return;
fail:
	fprintf(stderr, "ringfloor: net_ring port: %s\n",
	    rte_strerror(rte_errno));
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr, "usage: ringfloor [--seconds S] [--repeat N] "
	    "[--cpus A,B]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	double rr[MAXREP], rtt[MAXREP], line_rtt[MAXREP], p50[MAXREP],
	    p99[MAXREP];
	char lcores[64];
	char *eal[] = { "ringfloor", "--no-huge", "--no-shconf", "--no-pci",
	    "-m", "128", "--log-level=*:error", "--lcores", lcores, NULL };
	int repeat = 3, i, r;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (strcmp(argv[i], "--cpus") == 0 && i + 1 < argc) {
			if (sscanf(argv[++i], "%d,%d", &cpus[0],
			    &cpus[1]) != 2)
				usage();
		} else
			usage();
	}
	if (seconds <= 0 || repeat < 1 || repeat > MAXREP ||
	    cpus[0] < 0 || cpus[1] < 0 || cpus[0] == cpus[1])
		usage();
	/* lcore 0 (this thread) on the first CPU, lcore 1 on the second */
	snprintf(lcores, sizeof(lcores), "0@%d,1@%d", cpus[0], cpus[1]);
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "ringfloor: rte_eal_init: %s\n",
		    rte_strerror(rte_errno));
		return 1;
	}
	pin(cpus[0]);
	setup();
	for (r = 0; r < repeat; r++) {
		double t;

		timed = false;
		t = both(ping_pong);
		rr[r] = (double)trips / t;
		rtt[r] = t * 1e9 / (double)trips;
		memset(hist, 0, sizeof(hist));
		timed = true;
		(void)both(ping_pong);
		p50[r] = hist_quantile(0.5);
		p99[r] = hist_quantile(0.99);
		atomic_store(&line.v, 0);
		t = both(bounce);
		line_rtt[r] = t * 1e9 / (double)bounces;
		fprintf(stderr, "run %d/%d: %.0f round trips/s (%.0f ns; "
		    "p50 %.0f, p99 %.0f, p99.9 %.0f ns), cache line %.0f ns\n",
		    r + 1, repeat, rr[r], rtt[r], p50[r], p99[r],
		    hist_quantile(0.999), line_rtt[r]);
	}
	printf("BENCH ring_floor_rr %.0f trans/s\n", median(rr, repeat));
	printf("BENCH ring_floor_rtt %.0f ns\n", median(rtt, repeat));
	printf("BENCH ring_floor_p50 %.0f ns\n", median(p50, repeat));
	printf("BENCH ring_floor_p99 %.0f ns\n", median(p99, repeat));
	printf("BENCH cacheline_rtt %.0f ns\n", median(line_rtt, repeat));
	printf("{\"transactions_per_s\": %.0f, \"rtt_ns\": %.0f, "
	    "\"p50_ns\": %.0f, \"p99_ns\": %.0f, "
	    "\"cacheline_rtt_ns\": %.0f}\n", median(rr, repeat),
	    median(rtt, repeat), median(p50, repeat), median(p99, repeat),
	    median(line_rtt, repeat));
	for (i = 0; i < 2; i++) {
		(void)rte_eth_dev_stop(port[i]);
		(void)rte_eth_dev_close(port[i]);
	}
	(void)rte_eal_cleanup();
	return 0;
}
