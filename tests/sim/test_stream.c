/*
 * test_stream.c -- TCP bulk transfers between two instances on a bus with
 * virtual clocks (sim.h), every byte checked: 100 MB one way at 0%, 1%
 * and 5% loss, with reordering, duplication and corruption, with 4 KiB
 * and 4 MiB socket buffers, 100 MB each way at once; 4.5 GiB through one
 * connection on an offload bus (every sequence number wraps); ECN
 * (RFC 3168) with 1% of the ECN-capable frames marked CE; a lossy
 * transfer run twice with one seed that must repeat exactly; SACK with
 * RACK-TLP against NewReno without them; and CUBIC against NewReno on a
 * long fat pipe.
 *
 * The link: a one-way delay of 1 ms (RTT 2 ms) unless a test says
 * otherwise, MTU 1500.  Each test lets TIME-WAIT run out (2 MSL, 60 s of
 * virtual time) and ends with every pool of both instances back to zero.
 * Each prints its virtual and real time and the counters that moved.
 *
 * Needs no root, no DPDK, no network namespace.
 */
#define _DEFAULT_SOURCE	/* struct tcp_info */
#include <arpa/inet.h>
#include <errno.h>

#include "../unit/harness.h"
#include "../packet/pkt.h"
#include "sim.h"

#define PORT 5001

/* 100 MB per transfer (a fifth of it in the threads mode: sim_scale()) */
#define BULK_BYTES (100 * SIM_MB)

struct xfer {
	const char *name;
	struct rump_bus_config bus;
	uint64_t bytes;			/* client to server */
	uint64_t back;			/* server to client, at the same time */
	int sndbuf, rcvbuf;		/* 0: the defaults */
	uint64_t limit_ns;		/* virtual time allowed */
	bool nosack;			/* "sack" 0 on both instances */
	const char *cc;			/* the algorithm, NULL: the default */
	bool ecn;			/* both ends with the "ecn" parameter */
};

#define XFER_NCOUNTERS 35

/* what a run leaves behind, to compare two runs */
struct xfer_result {
	uint64_t vtime_ns;		/* connect() to both ends closed */
	uint64_t real_ns;
	uint64_t csum;
	struct rump_bus_stats bus;
	uint64_t c[XFER_NCOUNTERS];	/* the counters of xfer_counters */
};

static const char *const xfer_counters[] = {
	"tcp.sackrecovery", "tcp.sackrexmit", "tcp.rcvsack", "tcp.sndsack",
	"tcp.sndtotal", "tcp.sndpack", "tcp.sndrexmitpack", "tcp.rexmttimeo",
	"tcp.fastrexmit", "tcp.recovery", "tcp.partialack", "tcp.rcvoopack",
	"tcp.rcvduppack", "tcp.rcvdupack", "tcp.rcvbadsum", "ip.badsum",
	"tcp.rcvpartduppack", "tcp.limitedxmit", "tcp.sndacks", "tcp.delack",
	"tcp.persisttimeo", "tcp.sndprobe", "if.bus0.iqdrops", "tcp.nobufs",
	"tcp.ecn_shs", "tcp.ecn_ce", "tcp.ecn_ece", "tcp.ecn_cwr",
	"tcp.ecn_rcvece", "tcp.racklost", "tcp.tlpprobe", "tcp.tlprecovered",
	"tcp.rcvdsack", "tcp.dsackspurious",
	"tcp.rcvreassfull",
};
_Static_assert(sizeof(xfer_counters) / sizeof(xfer_counters[0]) ==
    XFER_NCOUNTERS, "one slot per counter");

static void
xfer_run(const struct xfer *x, struct xfer_result *res)
{
	struct sim s;
	struct sim_bulk b;
	struct sim_flow f;
	uint64_t t0;

	memset(res, 0, sizeof(*res));
	memset(&f, 0, sizeof(f));
	f.f_cli = 0;
	f.f_srv = 1;
	f.f_total = x->bytes;
	f.f_back = x->back;
	sim_up(&s, 2, &x->bus);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rump_tcp_param_set(s.k[i], "sack",
		    x->nosack ? 0 : 1), 0);
		if (x->cc != NULL)
			assert_int_equal(rump_tcp_cc_set_default(s.k[i], x->cc),
			    0);
		if (x->ecn)
			assert_int_equal(rump_tcp_param_set(s.k[i], "ecn", 1),
			    0);
	}
	t0 = th_now_ns();
	sim_bulk_start(&s, &b, &f, 1, PORT, x->sndbuf, x->rcvbuf);
	sim_run(&s, sim_bulk_pass, sim_bulk_dump, &b, x->limit_ns);
	res->vtime_ns = f.f_tdone - b.b_tstart;
	res->real_ns = th_now_ns() - t0;
	res->csum = sim_csum_final(&f.f_s.e_rx);
	sim_bulk_finish(&s, &b);
	rump_bus_stats(s.bus, &res->bus);
	for (size_t i = 0; i < XFER_NCOUNTERS; i++)
		res->c[i] = sim_stat_sum(&s, xfer_counters[i]);
	print_message("# %s: %llu MB in %.3f s virtual, %.2f s real "
	    "(%llu ticks, %llu idle, %llu passes, %llu settles, %llu spins)\n",
	    x->name, (unsigned long long)((x->bytes + x->back) / SIM_MB),
	    (double)res->vtime_ns / 1e9, (double)res->real_ns / 1e9,
	    (unsigned long long)s.ticks, (unsigned long long)s.idle_ticks,
	    (unsigned long long)s.passes, (unsigned long long)s.settles,
	    (unsigned long long)s.spins);
	print_message("#   bus: frames %llu lost %llu duplicated %llu "
	    "corrupted %llu reordered %llu qdrops %llu marked %llu\n",
	    (unsigned long long)res->bus.frames,
	    (unsigned long long)res->bus.lost,
	    (unsigned long long)res->bus.duplicated,
	    (unsigned long long)res->bus.corrupted,
	    (unsigned long long)res->bus.reordered,
	    (unsigned long long)res->bus.qdrops,
	    (unsigned long long)res->bus.marked);
	for (size_t i = 0; i < XFER_NCOUNTERS; i++)
		if (res->c[i] != 0)
			print_message("#   %s %llu\n", xfer_counters[i],
			    (unsigned long long)res->c[i]);
	/* TIME-WAIT on the client: 2 MSL, then nothing may be left */
	(void)sim_drain(&s, SIM_DRAIN_MAX);
	/* the connection on each side, and the listener */
	assert_int_equal(sim_stat(&s, 0, "tcp.closed"), 1);
	assert_int_equal(sim_stat(&s, 1, "tcp.closed"), 2);
	sim_down(&s);
}

static uint64_t
counter(const struct xfer_result *r, const char *name)
{
	for (size_t i = 0; i < XFER_NCOUNTERS; i++)
		if (strcmp(xfer_counters[i], name) == 0)
			return r->c[i];
	fail_msg("no counter %s", name);
	return 0;
}

static struct xfer
xfer_default(const char *name, uint64_t seed)
{
	struct xfer x;

	memset(&x, 0, sizeof(x));
	x.name = name;
	sim_bus_config(&x.bus, seed);
	x.bytes = sim_scale(BULK_BYTES);
	x.limit_ns = 600ull * 1000 * SIM_MS;
	return x;
}

static void
test_bulk_clean(void **state)
{
	struct xfer x = xfer_default("loss 0%", 1);
	struct xfer_result r;

	(void)state;
	xfer_run(&x, &r);
	assert_int_equal(r.bus.lost, 0);
	assert_int_equal(counter(&r, "tcp.sndrexmitpack"), 0);
	assert_int_equal(counter(&r, "tcp.rexmttimeo"), 0);
	/* the receive window, 256 KiB a round trip of 2 ms, bounds it */
	assert_true(r.vtime_ns < (uint64_t)(x.bytes / (200 * 1024)) * 2 * SIM_MS);
}

/* random loss: everything arrives, what was lost was sent again */
static void
bulk_lossy(const char *name, double loss, uint64_t limit_s)
{
	struct xfer x = xfer_default(name, 2);
	struct xfer_result r;

	x.bus.loss = loss;
	x.limit_ns = limit_s * 1000 * SIM_MS;
	xfer_run(&x, &r);
	assert_true(r.bus.lost > 0);
	assert_true(counter(&r, "tcp.sndrexmitpack") > 0);
	assert_true(counter(&r, "tcp.fastrexmit") > 0);
	assert_true(counter(&r, "tcp.rcvoopack") > 0);
}

static void
test_bulk_loss_1(void **state)
{
	(void)state;
	bulk_lossy("loss 1%", 0.01, 600);
}

static void
test_bulk_loss_5(void **state)
{
	(void)state;
	bulk_lossy("loss 5%", 0.05, 1800);
}

/*
 * ECN end to end (RFC 3168): both ends agree, and the bus marks 1% of the
 * ECN-capable frames CE as an AQM router would instead of dropping them.
 * Every mark reaches the receiver (in-window data: no loss) and is
 * echoed; the sender answers with window reductions, each followed by
 * CWR on new data (the last answer may find none left to send), and
 * nothing is lost or sent twice.  Without ECN nothing is ECN-capable, so
 * the same bus marks nothing.
 */
static void
test_bulk_ecn(void **state)
{
	struct xfer x = xfer_default("ecn, 1% of ECT marked CE", 7);
	struct xfer_result r;
	uint64_t ece, cwr;

	(void)state;
	x.bus.ce = 0.01;
	x.ecn = true;
	xfer_run(&x, &r);
	assert_true(r.bus.marked > 0);
	assert_int_equal(r.bus.lost, 0);
	assert_int_equal(counter(&r, "tcp.ecn_shs"), 2);	/* each end */
	assert_int_equal(counter(&r, "tcp.ecn_ce"), r.bus.marked);
	ece = counter(&r, "tcp.ecn_ece");
	cwr = counter(&r, "tcp.ecn_cwr");
	assert_true(ece > 0);
	assert_true(cwr == ece || cwr + 1 == ece);
	assert_true(counter(&r, "tcp.ecn_rcvece") >= ece);
	assert_int_equal(counter(&r, "tcp.sndrexmitpack"), 0);
	assert_int_equal(counter(&r, "tcp.rexmttimeo"), 0);
	assert_int_equal(counter(&r, "tcp.fastrexmit"), 0);

	x.ecn = false;
	x.name = "no ecn, the same bus";
	xfer_run(&x, &r);
	assert_int_equal(r.bus.marked, 0);
	assert_int_equal(counter(&r, "tcp.ecn_shs"), 0);
	assert_int_equal(counter(&r, "tcp.ecn_ce"), 0);
	assert_int_equal(counter(&r, "tcp.ecn_rcvece"), 0);
}

/*
 * Reordering: 1% of the frames held back 3 ms (more than a round trip),
 * and every frame jittered by up to 50 us on a 1 Gbit/s link (12 us a
 * full frame), which swaps frames sent a few apart.  (Without the rate
 * limit a whole window leaves at one instant of virtual time and any
 * jitter shuffles it entirely.)  No loss: whatever was retransmitted was
 * a spurious fast retransmit.
 */
static void
test_bulk_reorder(void **state)
{
	struct xfer x = xfer_default("reorder 1% by 3 ms, jitter 50 us", 3);
	struct xfer_result r;

	(void)state;
	x.bus.rate_bps = 1000000000;
	x.bus.reorder = 0.01;
	x.bus.reorder_ns = 3 * SIM_MS;
	x.bus.jitter_ns = 50000;
	xfer_run(&x, &r);
	assert_int_equal(r.bus.lost, 0);
	assert_true(r.bus.reordered > 0);
	assert_true(counter(&r, "tcp.rcvoopack") > 0);
}

/* Duplication: 5% of the frames arrive twice; duplicates are counted */
static void
test_bulk_duplicate(void **state)
{
	struct xfer x = xfer_default("duplicate 5%", 4);
	struct xfer_result r;

	(void)state;
	x.bus.duplicate = 0.05;
	xfer_run(&x, &r);
	assert_true(r.bus.duplicated > 0);
	assert_true(counter(&r, "tcp.rcvduppack") > 0);
	assert_true(counter(&r, "tcp.rcvdupack") > 0);
}

/*
 * Corruption: 2% of the frames have one bit flipped somewhere.  The
 * checksums catch them (a bit in the IP header: ip.badsum; in the TCP
 * header or data: tcp.rcvbadsum; in the Ethernet header the frame goes
 * astray), they are dropped and sent again, and the data that arrives is
 * intact (the harness checks every byte).
 */
static void
test_bulk_corrupt(void **state)
{
	struct xfer x = xfer_default("corrupt 2%", 5);
	struct xfer_result r;
	uint64_t caught;

	(void)state;
	x.bus.corrupt = 0.02;
	xfer_run(&x, &r);
	caught = counter(&r, "tcp.rcvbadsum") + counter(&r, "ip.badsum");
	assert_true(r.bus.corrupted > 0);
	assert_true(counter(&r, "tcp.rcvbadsum") > 0);
	assert_true(counter(&r, "ip.badsum") > 0);
	assert_true(caught <= r.bus.corrupted);
	/* most flips land in the TCP payload or headers: most are caught */
	assert_true(caught > r.bus.corrupted / 2);
	assert_true(counter(&r, "tcp.sndrexmitpack") > 0);
}

/*
 * Small buffers: SO_SNDBUF and SO_RCVBUF of 4 KiB (8 KiB once doubled as
 * Linux does) on both ends: a window of five segments, so losses are
 * often found by the retransmission timer, and the window is often
 * closed (the receiver reads once a millisecond): when the update that
 * opens it is lost, zero-window probes.
 */
static void
bulk_small(const char *name, double loss)
{
	struct xfer x = xfer_default(name, 6);
	struct xfer_result r;

	x.sndbuf = x.rcvbuf = 4096;
	x.bus.loss = loss;
	x.limit_ns = 3600ull * 1000 * SIM_MS;
	xfer_run(&x, &r);
	if (loss == 0)
		assert_int_equal(counter(&r, "tcp.sndrexmitpack"), 0);
	else
		assert_true(counter(&r, "tcp.persisttimeo") > 0);
}

static void
test_bulk_small_buffers(void **state)
{
	(void)state;
	bulk_small("4 KiB buffers, loss 1%", 0.01);
}

static void
test_bulk_small_buffers_clean(void **state)
{
	(void)state;
	bulk_small("4 KiB buffers, loss 0%", 0);
}

/*
 * Large buffers: 4 MiB on both ends over a link of 10 ms each way, so
 * that the window must scale (RFC 7323) far past 64 KiB: unscaled, 100
 * MB would take 100 MB / (64 KiB / 20 ms) = 32 s; with 4 MiB, about
 * 0.5 s once slow start has opened the window.
 *
 * In the threads mode the window's worth of frames that lands in one
 * tick overflows the softnet input queue (if.bus0.iqdrops, 1024 frames):
 * the receive thread queues bursts faster than the softint thread takes
 * them.  NewReno (no SACK) then mends one hole per round trip, and the
 * transfer takes a minute of virtual time; only the data is checked.
 */
static void
test_bulk_large_buffers(void **state)
{
	struct xfer x = xfer_default("4 MiB buffers, 20 ms RTT", 7);
	struct xfer_result r;

	(void)state;
	x.sndbuf = x.rcvbuf = 4 * 1024 * 1024;
	x.bus.delay_ns = 10 * SIM_MS;
	xfer_run(&x, &r);
	if (counter(&r, "if.bus0.iqdrops") != 0) {
		assert_int_equal(pkt_mode(), RUMP_SOFTINT_THREADS);
		return;
	}
	assert_int_equal(counter(&r, "tcp.sndrexmitpack"), 0);
	assert_true(r.vtime_ns < 2000 * SIM_MS);
}

/*
 * Both ways at once on one connection, 100 MB each way: data segments
 * carry the ACKs of the other direction, at 1% loss and 1% reordering.
 */
static void
test_bulk_bidirectional(void **state)
{
	struct xfer x = xfer_default("both ways, loss 1%, reorder 1%", 9);
	struct xfer_result r;

	(void)state;
	x.back = x.bytes;
	x.bus.loss = 0.01;
	x.bus.reorder = 0.01;
	x.bus.reorder_ns = 3 * SIM_MS;
	xfer_run(&x, &r);
	assert_true(counter(&r, "tcp.sndrexmitpack") > 0);
	assert_true(counter(&r, "tcp.rcvoopack") > 0);
}

/*
 * More than 4 GiB through one connection, so that every sequence number
 * wraps around 2^32 (and anything compared with plain < instead of
 * SEQ_LT, or left behind SND.UNA for 2^31 bytes, shows): on an offload
 * bus (64 KiB TSO frames, checksums left to the "hardware") with 4 MiB
 * buffers, to move it fast.  The threads mode moves it too: the size is
 * the point.
 */
static void
test_bulk_4gib_offload(void **state)
{
	struct xfer x = xfer_default("4.5 GiB, offload bus, 4 MiB buffers", 8);
	struct xfer_result r;

	(void)state;
	x.bus.offload = true;
	x.sndbuf = x.rcvbuf = 4 * 1024 * 1024;
	x.bytes = 4608 * SIM_MB;
	xfer_run(&x, &r);
	assert_int_equal(counter(&r, "tcp.sndrexmitpack"), 0);
}

/*
 * Determinism: a lossy, reordering, duplicating, corrupting transfer run
 * twice with one seed takes the same virtual time and leaves the same
 * counters; another seed does not.
 *
 * Asserted in the inline softint mode only: in the threads mode runs
 * of the same seed can differ by a few segments (sim.h, "Repeating");
 * this one usually repeats there too, and says so.
 */
static void
test_bulk_deterministic(void **state)
{
	struct xfer x = xfer_default("everything, seed 11", 11);
	struct xfer_result r1, r2, r3;

	(void)state;
	x.bytes = 4 * SIM_MB;
	x.bus.loss = 0.03;
	x.bus.duplicate = 0.01;
	x.bus.corrupt = 0.01;
	x.bus.reorder = 0.02;
	x.bus.reorder_ns = 3 * SIM_MS;
	x.bus.jitter_ns = 50000;
	x.bus.rate_bps = 1000000000;
	xfer_run(&x, &r1);
	xfer_run(&x, &r2);
	x.bus.seed = 12;
	x.name = "everything, seed 12";
	xfer_run(&x, &r3);
	if (pkt_mode() == RUMP_SOFTINT_THREADS) {
		print_message("# threads mode: the two runs %s\n",
		    r1.vtime_ns == r2.vtime_ns &&
		    memcmp(r1.c, r2.c, sizeof(r1.c)) == 0 ?
		    "repeated exactly" : "differ (not asserted)");
		return;
	}
	assert_int_equal(r1.vtime_ns, r2.vtime_ns);
	assert_int_equal(r1.csum, r2.csum);
	assert_memory_equal(&r1.bus, &r2.bus, sizeof(r1.bus));
	assert_memory_equal(r1.c, r2.c, sizeof(r1.c));
	assert_true(r1.bus.lost != r3.bus.lost ||
	    r1.vtime_ns != r3.vtime_ns ||
	    memcmp(r1.c, r3.c, sizeof(r1.c)) != 0);
}

/*
 * SACK with RACK-TLP (the defaults) against NewReno without either
 * (both with NewReno's window), the same seed and link: random loss of
 * 1% and 5%, and the bursts a drop-tail bottleneck makes (100 Mbit/s, a
 * 64-frame queue, 10 ms each way, 4 MiB buffers: slow start overflows
 * the queue by tens of frames at once).  SACK repairs several holes a
 * round trip where NewReno repairs one, and RACK-TLP repairs lost
 * retransmissions and lost tails without waiting for the timer: less
 * virtual time in each.  At 1% the window averages a dozen segments (the
 * Mathis bound), so the gain there is the timeouts saved, some 8% for
 * this seed; asserted where runs repeat exactly (the inline mode; see
 * sim.h "Repeating"), printed in the threads mode.
 */
static void
sack_vs_newreno(const char *name, struct xfer *x, bool must_win)
{
	struct xfer_result with, without;
	char n1[96], n2[96];

	x->cc = "newreno";
	snprintf(n1, sizeof(n1), "%s, SACK+RACK", name);
	x->name = n1;
	xfer_run(x, &with);
	x->nosack = true;
	snprintf(n2, sizeof(n2), "%s, no SACK", name);
	x->name = n2;
	xfer_run(x, &without);
	print_message("# %s: SACK+RACK %.3f s, no SACK %.3f s virtual: "
	    "%.2fx\n",
	    name, (double)with.vtime_ns / 1e9, (double)without.vtime_ns / 1e9,
	    (double)without.vtime_ns / (double)with.vtime_ns);
	assert_true(counter(&with, "tcp.sackrecovery") > 0);
	assert_int_equal(counter(&without, "tcp.sackrecovery"), 0);
	assert_int_equal(counter(&without, "tcp.rcvsack"), 0);
	if (must_win || pkt_mode() == RUMP_SOFTINT_INLINE)
		assert_true(with.vtime_ns < without.vtime_ns);
}

static void
test_bulk_sack_loss_1(void **state)
{
	struct xfer x = xfer_default("loss 1%", 21);

	(void)state;
	x.bus.loss = 0.01;
	sack_vs_newreno("loss 1%", &x, false);
}

static void
test_bulk_sack_loss_5(void **state)
{
	struct xfer x = xfer_default("loss 5%", 22);

	(void)state;
	x.bus.loss = 0.05;
	x.limit_ns = 3600ull * 1000 * SIM_MS;
	sack_vs_newreno("loss 5%", &x, true);
}

static void
test_bulk_sack_bursts(void **state)
{
	struct xfer x = xfer_default("bursts", 23);

	(void)state;
	x.bus.rate_bps = 100000000;
	x.bus.queue_max = 64;
	x.bus.delay_ns = 10 * SIM_MS;
	x.sndbuf = x.rcvbuf = 4 * 1024 * 1024;
	x.limit_ns = 3600ull * 1000 * SIM_MS;
	sack_vs_newreno("drop-tail bursts", &x, true);
}

/*
 * CUBIC against NewReno on a long fat pipe: 50 Mbit/s ports, 25 ms each
 * way (RTT 50 ms, a BDP of 312 KB, 215 full frames), 0.02% of the frames
 * lost at random, 176 KiB socket buffers (352 KiB once doubled: above
 * the BDP).  The same transfer with the same seed under each algorithm;
 * CUBIC must take less virtual time.  After a loss NewReno halves its
 * window, below the BDP, and climbs back a segment a round trip; CUBIC
 * keeps 70% and climbs back along W_cubic, concave and fast at first.
 *
 * Why not 1 Gbit/s: the difference shows only over many loss cycles,
 * and at 1 Gbit/s and 50 ms a cycle is seconds of virtual time and
 * hundreds of thousands of frames, too long a run for every build of
 * the CI; at 50 Mbit/s a cycle is some 200 round trips.  (The test was
 * written before the reassembly queue grew with the receive buffer and
 * before SACK; it still asserts no tcp.rcvreassfull.)  A drop-tail
 * queue does not fit either: the bus's queue_max bounds the frames a
 * receiving port holds in the delay line as well as those waiting to be
 * sent.
 *
 * 60 MB (17 frames lost, data or ACKs: 7 to 9 fast retransmits); 15 MB
 * in the threads mode and under ASan, where CUBIC is ahead as well
 * (seeds 31 to 36 all show it, at both sizes, by 8% to 45%).
 */
static void
lfp_run(const char *cc, struct xfer_result *r)
{
	struct xfer x = xfer_default(cc, 32);

	x.cc = cc;
	x.bus.rate_bps = 50000000;
	x.bus.delay_ns = 25 * SIM_MS;
	x.bus.loss = 0.0002;
	x.sndbuf = x.rcvbuf = 176 * 1024;
	x.bytes = pkt_mode() == RUMP_SOFTINT_THREADS || SIM_ASAN ?
	    15 * SIM_MB : 60 * SIM_MB;
	xfer_run(&x, r);
	assert_true(r->bus.lost > 0);
	assert_true(counter(r, "tcp.fastrexmit") > 0);
	assert_int_equal(counter(r, "tcp.rcvreassfull"), 0);
}

static void
test_bulk_long_fat_pipe(void **state)
{
	struct xfer_result rc, rn;

	(void)state;
	lfp_run("cubic", &rc);
	lfp_run("newreno", &rn);
	print_message("# long fat pipe, %llu MB: CUBIC %.3f s, NewReno %.3f s "
	    "of virtual time (CUBIC in %.0f%% of NewReno's)\n",
	    (unsigned long long)((pkt_mode() == RUMP_SOFTINT_THREADS ||
	    SIM_ASAN) ? 15 : 60), (double)rc.vtime_ns / 1e9,
	    (double)rn.vtime_ns / 1e9, 100.0 * (double)rc.vtime_ns /
	    (double)rn.vtime_ns);
	assert_true(rc.vtime_ns < rn.vtime_ns);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bulk_clean),
		cmocka_unit_test(test_bulk_loss_1),
		cmocka_unit_test(test_bulk_loss_5),
		cmocka_unit_test(test_bulk_reorder),
		cmocka_unit_test(test_bulk_duplicate),
		cmocka_unit_test(test_bulk_corrupt),
		cmocka_unit_test(test_bulk_small_buffers),
		cmocka_unit_test(test_bulk_small_buffers_clean),
		cmocka_unit_test(test_bulk_large_buffers),
		cmocka_unit_test(test_bulk_bidirectional),
		cmocka_unit_test(test_bulk_4gib_offload),
		cmocka_unit_test(test_bulk_ecn),
		cmocka_unit_test(test_bulk_deterministic),
		cmocka_unit_test(test_bulk_sack_loss_1),
		cmocka_unit_test(test_bulk_sack_loss_5),
		cmocka_unit_test(test_bulk_sack_bursts),
		cmocka_unit_test(test_bulk_long_fat_pipe),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
