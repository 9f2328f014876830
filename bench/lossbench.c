/*
 * lossbench -- TCP goodput of one bulk transfer over a lossy link, for
 * three ways of recovering from loss side by side:
 *
 *   newreno          congestion control "newreno", "sack" 0, "rack" 0:
 *                    duplicate ACKs and NewReno partial ACKs (RFC 6582)
 *                    only, one hole mended per round trip;
 *   newreno+sack     "newreno", "sack" 1, "rack" 0: the SACK scoreboard
 *                    and RFC 6675 recovery with PRR (RFC 6937);
 *   cubic+sack+rack  "cubic" (RFC 9438), "sack" 1, "rack" 1: RACK-TLP loss
 *                    detection (RFC 8985) on top.  Where this build has no
 *                    "cubic" (rump_tcp_cc_set_default() says ENOENT) the
 *                    row runs the default algorithm and its label says
 *                    "(no cubic)", its BENCH names newreno_sack_rack.
 *
 * Both instances of a run get the same settings (rump_tcp_param_set(),
 * rump_tcp_cc_set_default()) before the connection opens.
 *
 * The link: two instances on the simulated bus of the sim suite
 * (tests/sim/sim.h: virtual clocks moved a millisecond at a time from
 * this thread alone, so a run repeats exactly for a seed in the inline
 * softint mode), each port sending at --rate (100 Mbit/s), --delay-ms
 * (10 ms) each way, so a 20 ms round trip, and losing every frame, data
 * and ACKs alike, with probability --loss (0.1%, 1% and 5%: one column
 * each); SO_SNDBUF and SO_RCVBUF of --sockbuf (4 MiB) on both ends, well
 * above the path's 250 KB bandwidth-delay product, so that loss, not the
 * window, sets the pace.  MTU 1500.
 *
 * A run: the client connect()s and sends --bytes (64 MiB) of the sim
 * suite's pattern; the server reads and checks every byte against it,
 * and at EOF compares the count and a checksum with what was sent
 * (sim_end_recv()).  Goodput is the bytes moved over the virtual time
 * from the connect() call (so it includes the handshake) to the tick in
 * which the server read the last byte, in Mbit/s (10^6 bits).  Then
 * TIME-WAIT runs out and every pool of both instances must be back to
 * zero (sim_down()).  Any failed check prints where and aborts.
 *
 * With --seeds N each cell runs with seeds --seed .. --seed+N-1 (the
 * same seeds for every cell) and the table shows the median of each
 * figure.  Every run prints a line as it ends: goodput, virtual and real
 * time, frames the bus lost (the loss draw; and those a full queue
 * dropped, none with the defaults: the 4096 frames a port queues hold
 * the whole 4 MiB window) and the counters that say why the figures are
 * what they are (both instances summed): tcp.rexmttimeo (retransmission
 * timeouts), tcp.sndrexmitpack (segments sent again), tcp.recovery (fast
 * recoveries, either kind), tcp.sackrecovery (those run from the SACK
 * scoreboard), tcp.rcvreassfull (out-of-order segments the receiver
 * dropped, its reassembly queue full).
 *
 * Output: the per-run lines, a table (rows: stacks, columns: loss
 * rates; Mbit/s and virtual seconds), the counters table, then
 *   BENCH loss_goodput_<stack>_<p>pct <Mbit/s> Mbit/s   (every cell)
 *   BENCH loss_sack_vs_newreno_<p>pct <x> x        (newreno+sack / newreno)
 *   BENCH loss_sackrack_vs_newreno_<p>pct <x> x    (cubic+sack+rack / newreno)
 * where <stack> is newreno, newreno_sack or cubic_sack_rack and <p> the
 * loss rate in percent with 'p' for the point (0p1pct, 1pct, 5pct).
 *
 * No Linux figures next to these, unlike the other benchmarks: the link
 * is simulated on virtual time, where the Linux kernel's TCP cannot run,
 * and the figures are goodput in virtual time, not CPU speed (Linux over
 * netem would be another benchmark: real time, another loss process).  Needs no root, DPDK, hugepages or network namespace.  Real time
 * is spent settling the instances every tick of virtual time: the
 * defaults take some 20 s in a release build (make bench-loss), a few
 * seconds a run.  The sim suite's environment variables apply
 * (SIM_TRACE=<ms>, SIM_PCAP=<file>, SIM_VERBOSE=1; RUMPNET_SOFTINT=threads
 * for the other softint mode, which does not repeat exactly).
 *
 * Usage: lossbench [--bytes N] [--rate MBIT] [--delay-ms MS]
 *                  [--sockbuf BYTES] [--loss LIST] [--seeds N] [--seed S]
 *                  [--queue FRAMES]
 * Exit status: 0 when every run passed its checks, 2 for bad usage; a
 * failed check aborts.
 */
#define _DEFAULT_SOURCE	/* struct tcp_info (sim.h) */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>

#include "median.h"
#include "../tests/unit/harness.h"
#include "../tests/packet/pkt.h"
#include "../tests/sim/sim.h"

#define PORT		5001
#define MAX_LOSS	8		/* columns */
#define MAX_SEEDS	99
#define NSTACKS		3

struct stack {
	const char *st_label;		/* in the tables */
	const char *st_key;		/* in BENCH names */
	const char *st_cc;
	int st_sack, st_rack;
};

static const struct stack stacks[NSTACKS] = {
	{ "newreno", "newreno", "newreno", 0, 0 },
	{ "newreno+sack", "newreno_sack", "newreno", 1, 0 },
	{ "cubic+sack+rack", "cubic_sack_rack", "cubic", 1, 1 },
};

/* the counters of a run, both instances summed */
#define NCOUNTERS 5
static const char *const counters[NCOUNTERS] = {
	"tcp.rexmttimeo", "tcp.sndrexmitpack", "tcp.recovery",
	"tcp.sackrecovery", "tcp.rcvreassfull",
};

struct opts {
	uint64_t bytes;
	uint64_t rate_bps;		/* 0: no limit */
	uint64_t delay_ns;
	int sockbuf;
	double loss[MAX_LOSS];		/* probabilities */
	int nloss;
	unsigned seeds;
	uint64_t seed;			/* the first */
	unsigned queue;			/* bus queue_max, 0: its default */
};

/* one run: one stack, one loss rate, one seed */
struct result {
	uint64_t vtime_ns;		/* connect() to the last byte read */
	uint64_t real_ns;
	uint64_t lost;			/* frames the loss draw dropped */
	uint64_t qdrops;		/* frames a full queue dropped */
	uint64_t c[NCOUNTERS];
	double mbps;
};

struct run {
	struct sim_bulk r_b;
	struct sim_flow r_f;
	uint64_t r_tlast;		/* the tick the last byte was read */
};

/* set when the cc "cubic" is missing: the third row runs the default */
static bool no_cubic;

/* the run under way, for the message of a failed check */
static char current[160];

/* the pass of sim_bulk, noting when the server has read everything */
static bool
run_pass(struct sim *s, void *arg)
{
	struct run *r = arg;
	bool more = sim_bulk_pass(s, &r->r_b);

	if (r->r_tlast == 0 && r->r_f.f_s.e_rcvd == r->r_f.f_total)
		r->r_tlast = s->now;
	return more;
}

static void
run_dump(struct sim *s, void *arg)
{
	struct run *r = arg;

	sim_bulk_dump(s, &r->r_b);
}

/* the stack's settings on instance k, before any connection opens */
static void
stack_set(struct rump_kernel *k, const struct stack *st)
{
	int rv;

	assert_int_equal(rump_tcp_param_set(k, "sack", st->st_sack), 0);
	assert_int_equal(rump_tcp_param_set(k, "rack", st->st_rack), 0);
	rv = rump_tcp_cc_set_default(k, st->st_cc);
	if (rv == ENOENT && strcmp(st->st_cc, "cubic") == 0) {
		/* not merged yet: run the default, and say so */
		no_cubic = true;
		return;
	}
	assert_int_equal(rv, 0);
}

static const char *
stack_label(const struct stack *st, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", st->st_label,
	    no_cubic && strcmp(st->st_cc, "cubic") == 0 ? " (no cubic)" : "");
	return buf;
}

static const char *
stack_key(const struct stack *st)
{
	if (no_cubic && strcmp(st->st_cc, "cubic") == 0)
		return "newreno_sack_rack";
	return st->st_key;
}

/* a loss probability as it goes in a BENCH name: 0.001 -> "0p1" */
static const char *
loss_key(double p, char *buf, size_t len)
{
	snprintf(buf, len, "%g", p * 100);
	for (char *c = buf; *c != '\0'; c++)
		if (*c == '.')
			*c = 'p';
	return buf;
}

static void
run_one(const struct opts *o, const struct stack *st, double loss,
    uint64_t seed, struct result *res)
{
	struct rump_bus_config cfg;
	struct rump_bus_stats bs;
	struct sim s;
	struct run r;
	uint64_t t0, limit_ns;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	sim_bus_config(&cfg, seed);
	cfg.loss = loss;
	cfg.delay_ns = o->delay_ns;
	cfg.rate_bps = o->rate_bps;
	cfg.queue_max = o->queue;
	/* an hour of virtual time, or longer at less than 100 kbit/s */
	limit_ns = MAX(3600ull * 1000 * SIM_MS,
	    o->bytes * 8 / 100000 * 1000 * SIM_MS);

	r.r_f.f_cli = 0;
	r.r_f.f_srv = 1;
	r.r_f.f_total = o->bytes;
	r.r_f.f_back = 0;
	sim_up(&s, 2, &cfg);
	for (int i = 0; i < 2; i++)
		stack_set(s.k[i], st);
	t0 = th_now_ns();
	sim_bulk_start(&s, &r.r_b, &r.r_f, 1, PORT, o->sockbuf, o->sockbuf);
	sim_run(&s, run_pass, run_dump, &r, limit_ns);
	res->real_ns = th_now_ns() - t0;
	assert_true(r.r_tlast > r.r_b.b_tstart);
	res->vtime_ns = r.r_tlast - r.r_b.b_tstart;
	res->mbps = (double)o->bytes * 8 / 1e6 /
	    ((double)res->vtime_ns / 1e9);
	sim_bulk_finish(&s, &r.r_b);
	rump_bus_stats(s.bus, &bs);
	res->lost = bs.lost;
	res->qdrops = bs.ratedrops + bs.qdrops;
	for (int i = 0; i < NCOUNTERS; i++)
		res->c[i] = sim_stat_sum(&s, counters[i]);
	/* without SACK agreed, no scoreboard may have been used */
	if (st->st_sack == 0) {
		assert_int_equal(sim_stat_sum(&s, "tcp.sackrecovery"), 0);
		assert_int_equal(sim_stat_sum(&s, "tcp.rcvsack"), 0);
	}
	/* TIME-WAIT on the client: 2 MSL, then nothing may be left */
	(void)sim_drain(&s, SIM_DRAIN_MAX);
	/* the connection on each side, and the listener */
	assert_int_equal(sim_stat(&s, 0, "tcp.closed"), 1);
	assert_int_equal(sim_stat(&s, 1, "tcp.closed"), 2);
	sim_down(&s);
}

/* ---- medians ---- */

/* the median of every figure of a cell's n runs */
struct cell {
	double mbps, vtime_s, lost, qdrops, c[NCOUNTERS];
};

static void
cell_median(const struct result *rs, unsigned n, struct cell *c)
{
	double v[MAX_SEEDS];

	for (unsigned i = 0; i < n; i++)
		v[i] = rs[i].mbps;
	c->mbps = median(v, n);
	for (unsigned i = 0; i < n; i++)
		v[i] = (double)rs[i].vtime_ns / 1e9;
	c->vtime_s = median(v, n);
	for (unsigned i = 0; i < n; i++)
		v[i] = (double)rs[i].lost;
	c->lost = median(v, n);
	for (unsigned i = 0; i < n; i++)
		v[i] = (double)rs[i].qdrops;
	c->qdrops = median(v, n);
	for (int k = 0; k < NCOUNTERS; k++) {
		for (unsigned i = 0; i < n; i++)
			v[i] = (double)rs[i].c[k];
		c->c[k] = median(v, n);
	}
}

/* ---- options ---- */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: lossbench [--bytes N] [--rate MBIT] [--delay-ms MS] "
	    "[--sockbuf BYTES]\n"
	    "                 [--loss LIST] [--seeds N] [--seed S] "
	    "[--queue FRAMES]\n"
	    "  --bytes N        bytes per transfer, K/M/G suffixes powers "
	    "of 2 (default 64M)\n"
	    "  --rate MBIT      each port's rate in Mbit/s (default 100; "
	    "0: no limit)\n"
	    "  --delay-ms MS    one-way delay in ms, 1..1000 (default 10)\n"
	    "  --sockbuf BYTES  SO_SNDBUF and SO_RCVBUF on both ends "
	    "(default 4M)\n"
	    "  --loss LIST      loss rates in percent (0..50), "
	    "comma-separated, at most %d\n"
	    "                   (default 0.1,1,5)\n"
	    "  --seeds N        runs per cell, 1..%d; the table shows "
	    "medians (default 1)\n"
	    "  --seed S         the first seed (default 1)\n"
	    "  --queue FRAMES   frames waiting for the wire per port, "
	    "beyond them\n"
	    "                   drop-tail (default 0: the bus's 4096)\n",
	    MAX_LOSS, MAX_SEEDS);
}

/* a positive integer with an optional K/M/G suffix (powers of 2) */
static bool
parse_size(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-')
		return false;
	if (*end == 'K' || *end == 'k')
		x <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		x <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		x <<= 30, end++;
	if (*end != '\0' || x == 0 || x > max)
		return false;
	*v = x;
	return true;
}

static bool
parse_double(const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno == 0 && end != s && *end == '\0' && *v >= lo && *v <= hi;
}

static bool
parse_loss(const char *s, struct opts *o)
{
	char buf[256], *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	o->nloss = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		double p;

		if (o->nloss == MAX_LOSS || !parse_double(tok, 0, 50, &p))
			return false;
		o->loss[o->nloss++] = p / 100;
	}
	return o->nloss > 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;
		double d;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (v == NULL)
			return -1;
		i++;
		if (strcmp(a, "--bytes") == 0) {
			if (!parse_size(v, 1ull << 40, &o->bytes))
				return -1;
		} else if (strcmp(a, "--rate") == 0) {
			if (!parse_double(v, 0, 1e6, &d))
				return -1;
			o->rate_bps = (uint64_t)(d * 1e6);
		} else if (strcmp(a, "--delay-ms") == 0) {
			if (!parse_double(v, 1, 1000, &d))
				return -1;
			o->delay_ns = (uint64_t)(d * SIM_MS);
		} else if (strcmp(a, "--sockbuf") == 0) {
			if (!parse_size(v, 256ull << 20, &n))
				return -1;
			o->sockbuf = (int)n;
		} else if (strcmp(a, "--loss") == 0) {
			if (!parse_loss(v, o))
				return -1;
		} else if (strcmp(a, "--seeds") == 0) {
			if (!parse_size(v, MAX_SEEDS, &n))
				return -1;
			o->seeds = (unsigned)n;
		} else if (strcmp(a, "--seed") == 0) {
			if (!parse_size(v, UINT64_MAX >> 1, &o->seed))
				return -1;
		} else if (strcmp(a, "--queue") == 0) {
			if (strcmp(v, "0") == 0)
				o->queue = 0;
			else if (!parse_size(v, 1u << 20, &n))
				return -1;
			else
				o->queue = (unsigned)n;
		} else {
			return -1;
		}
	}
	return 0;
}

/* ---- output ---- */

static void
on_abort(int sig)
{
	static const char msg[] = "\nlossbench: a check failed in ";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)!write(STDERR_FILENO, current, strlen(current));
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
print_tables(const struct opts *o, struct cell cells[NSTACKS][MAX_LOSS])
{
	char label[64], col[32];

	printf("\ngoodput, Mbit/s (virtual seconds, connect() to the last "
	    "byte read)%s:\n", o->seeds > 1 ? ", medians" : "");
	printf("%-27s", "stack");
	for (int l = 0; l < o->nloss; l++) {
		snprintf(col, sizeof(col), "loss %g%%", o->loss[l] * 100);
		printf(" %20s", col);
	}
	printf("\n");
	for (int s = 0; s < NSTACKS; s++) {
		printf("%-27s", stack_label(&stacks[s], label, sizeof(label)));
		for (int l = 0; l < o->nloss; l++) {
			snprintf(col, sizeof(col), "%.2f (%.2f s)",
			    cells[s][l].mbps, cells[s][l].vtime_s);
			printf(" %20s", col);
		}
		printf("\n");
	}

	printf("\nwhy%s: frames the bus lost (the loss draw) and dropped "
	    "from a full\nqueue; the counters tcp.<name>, both instances "
	    "summed\n", o->seeds > 1 ? " (medians)" : "");
	printf("%-27s %6s %7s %6s %11s %14s %9s %13s %13s\n", "stack",
	    "loss", "lost", "qdrop", "rexmttimeo", "sndrexmitpack",
	    "recovery", "sackrecovery", "rcvreassfull");
	for (int s = 0; s < NSTACKS; s++)
		for (int l = 0; l < o->nloss; l++) {
			const struct cell *c = &cells[s][l];

			snprintf(col, sizeof(col), "%g%%", o->loss[l] * 100);
			printf("%-27s %6s %7.0f %6.0f %11.0f %14.0f %9.0f "
			    "%13.0f %13.0f\n",
			    stack_label(&stacks[s], label, sizeof(label)), col,
			    c->lost, c->qdrops, c->c[0], c->c[1], c->c[2],
			    c->c[3], c->c[4]);
		}
}

static void
print_bench(const struct opts *o, struct cell cells[NSTACKS][MAX_LOSS])
{
	char lk[32];

	printf("\n");
	for (int l = 0; l < o->nloss; l++) {
		loss_key(o->loss[l], lk, sizeof(lk));
		for (int s = 0; s < NSTACKS; s++)
			printf("BENCH loss_goodput_%s_%spct %.2f Mbit/s\n",
			    stack_key(&stacks[s]), lk, cells[s][l].mbps);
	}
	for (int l = 0; l < o->nloss; l++) {
		loss_key(o->loss[l], lk, sizeof(lk));
		printf("BENCH loss_sack_vs_newreno_%spct %.2f x\n", lk,
		    cells[1][l].mbps / cells[0][l].mbps);
		printf("BENCH loss_sackrack_vs_newreno_%spct %.2f x\n", lk,
		    cells[2][l].mbps / cells[0][l].mbps);
	}
}

int
main(int argc, char **argv)
{
	static struct result rs[NSTACKS][MAX_LOSS][MAX_SEEDS];
	static struct cell cells[NSTACKS][MAX_LOSS];
	struct opts o = {
		.bytes = 64 * SIM_MB, .rate_bps = 100000000,
		.delay_ns = 10 * SIM_MS, .sockbuf = 4 * 1024 * 1024,
		.loss = { 0.001, 0.01, 0.05 }, .nloss = 3,
		.seeds = 1, .seed = 1,
	};
	uint64_t t0 = th_now_ns();
	char label[64];

	if (parse_args(argc, argv, &o) != 0) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* a failed check outside a cmocka test: its message, then abort */
	setenv("CMOCKA_TEST_ABORT", "1", 1);
	signal(SIGABRT, on_abort);

	printf("lossbench: %llu bytes per transfer, %g Mbit/s each way, "
	    "%.3g ms one way (RTT %.3g ms), SO_SNDBUF/SO_RCVBUF %d, "
	    "%s softints, %u seed%s from %llu\n",
	    (unsigned long long)o.bytes, (double)o.rate_bps / 1e6,
	    (double)o.delay_ns / SIM_MS, 2 * (double)o.delay_ns / SIM_MS,
	    o.sockbuf, pkt_mode() == RUMP_SOFTINT_THREADS ? "threads" :
	    "inline", o.seeds, o.seeds > 1 ? "s" : "",
	    (unsigned long long)o.seed);
	for (unsigned n = 0; n < o.seeds; n++)
		for (int l = 0; l < o.nloss; l++)
			for (int s = 0; s < NSTACKS; s++) {
				struct result *r = &rs[s][l][n];
				char col[16];

				snprintf(col, sizeof(col), "%g%%",
				    o.loss[l] * 100);
				snprintf(current, sizeof(current), "the run "
				    "of %s, loss %s, seed %llu\n",
				    stacks[s].st_label, col,
				    (unsigned long long)(o.seed + n));
				run_one(&o, &stacks[s], o.loss[l], o.seed + n,
				    r);
				printf("run seed %llu loss %-5s %-27s %7.2f "
				    "Mbit/s %8.3f s virtual %5.1f s real: "
				    "lost %llu qdrop %llu rexmttimeo %llu "
				    "sndrexmitpack %llu recovery %llu "
				    "sackrecovery %llu rcvreassfull %llu\n",
				    (unsigned long long)(o.seed + n), col,
				    stack_label(&stacks[s], label,
				    sizeof(label)), r->mbps,
				    (double)r->vtime_ns / 1e9,
				    (double)r->real_ns / 1e9,
				    (unsigned long long)r->lost,
				    (unsigned long long)r->qdrops,
				    (unsigned long long)r->c[0],
				    (unsigned long long)r->c[1],
				    (unsigned long long)r->c[2],
				    (unsigned long long)r->c[3],
				    (unsigned long long)r->c[4]);
			}
	for (int s = 0; s < NSTACKS; s++)
		for (int l = 0; l < o.nloss; l++)
			cell_median(rs[s][l], o.seeds, &cells[s][l]);
	print_tables(&o, cells);
	print_bench(&o, cells);
	printf("\nlossbench: %.0f s real\n", (double)(th_now_ns() - t0) / 1e9);
	return 0;
}
