/*
 * soak.c -- the soak run (issue 8): rounds of random workloads on the
 * sim suite's impaired bus with virtual clocks (sim.h), for a given
 * wall-clock time, every byte checked end to end and every instance
 * checked at the end of each round.  Built by meson, run by `make soak`
 * (and for two minutes by .ci/run); not a meson test, since how long it
 * runs is what it is about.
 *
 * main() -> soak_round() -> soak_draw()      the round's parameters
 *                        -> soak_setup()     sim_up(), TCP parameters,
 *                                            listeners
 *                        -> sim_run(soak_pass) every workload to its end
 *                        -> sim_drain()      every tcpcb and buffer gone
 *                        -> soak_check()     counters
 *                        -> sim_down()       every pool back to zero
 *
 * A round draws from its own seed (printed; --round replays it alone):
 *
 *   - 2 to 4 instances on one bus, the softint mode (inline or threads),
 *     the MTU (576 to 9000), and the bus's knobs: delay, jitter, loss,
 *     duplication, reordering, corruption, a rate limit with its queue,
 *     ECN marking, offloads;
 *   - per instance: "sack", "rack", "ecn", "syncookies", "syncache_limit"
 *     (rump_tcp_param_set()) and the congestion control (newreno or
 *     cubic, rump_tcp_cc_set_default());
 *   - TCP flows (20 to 500; tens to hundreds open at once): between two
 *     random instances, started at random times, a random number of bytes
 *     each way, socket buffers from 2 KiB to 2 MiB or the defaults on
 *     either end, TCP_NODELAY, TCP_MAXSEG and the size of each send() and
 *     recv() at random; closed client first, server first or both at
 *     once (half-closes: each end shuts down its sending side, reads to
 *     EOF, then closes).  About one in eight is aborted by one end
 *     (SO_LINGER 0: a reset) after it sent a random part of its bytes:
 *     the other end, which has keepalive on, must see ECONNRESET, EPIPE
 *     or ETIMEDOUT, or sit in FIN-WAIT-2 (no timer there while the socket
 *     is open) until it gives up a minute later.  Where the server sends
 *     SYN cookies, a client may be reset before it has read anything
 *     (soak_cookies()), its server end then treated as an abort's other
 *     end; a cookie that comes again after its connection is gone makes
 *     a second one (a stray), which is reset;
 *   - up to two listeners closed with connections pending: clients
 *     connect (some after the close), send a request and wait; each must
 *     end with ECONNREFUSED, ECONNRESET, EPIPE or ETIMEDOUT, never data
 *     or EOF;
 *   - up to three UDP exchanges: datagrams of random sizes (fragmented
 *     above the MTU) echoed back, a window of them outstanding; half of
 *     them sent to a multicast group the server joined (IGMPv2 reports
 *     and leaves on the bus, the other hosts dropping the group's
 *     datagrams), the echoes unicast.
 *
 * Checked: every byte every TCP end reads is the sender's pattern at its
 * offset, and a completed flow's count and checksum match what was sent
 * (sim_end_recv()); the aborted ones deliver no wrong byte and no EOF,
 * and each cookie reset and stray is matched by a failed and a good
 * cookie in the server's counters;
 * every UDP datagram arrives intact, exactly once on a clean bus; a
 * group's server reported it and left it; every
 * workload ends within SOAK_LIMIT of virtual time, and every connection
 * and buffer is gone SIM_DRAIN_MAX later (sim_drain(): an incomplete
 * datagram waits out the reassembly timeout); counters that a round's
 * conditions make impossible are zero (soak_check()), every connection
 * that opened closed once; and sim_down() finds every pool of every
 * instance back to zero.
 *
 * A failed check prints the round: its seed, parameters and the command
 * that replays it, then aborts (cmocka's checks, CMOCKA_TEST_ABORT).  In
 * the inline softint mode a round repeats exactly for its seed; in the
 * threads mode nearly (sim.h).
 *
 * Output: the run's seed, a line per round (parameters, then what it
 * did), a summary line.  Environment: SOAK_FLOW=<index> prints that
 * flow's parameters as it starts; sim.h's SIM_PCAP, SIM_TRACE and
 * SIM_VERBOSE apply.  Needs no root, DPDK or network namespace.
 *
 * Read first: tests/sim/sim.h; RFC 9293 3.10.5 (ABORT), 3.8.6 (windows,
 * persist); RFC 1122 4.2.3.6 (keepalive); RFC 4987 3.6 (SYN cookies).
 *
 * Usage: soak [--seconds N] [--seed S] [--round R] [--softint MODE]
 *   --seconds N   start rounds for N seconds of wall-clock time (60)
 *   --seed S      the run's seed (default: from the clock); round i's
 *                 seed is drawn from it
 *   --round R     run the one round whose seed is R, then stop
 *   --softint M   inline, threads or mixed (a quarter threads; default)
 * Exit status: 0 when every round passed, 2 for bad usage; a failed
 * check aborts.
 */
#define _DEFAULT_SOURCE	/* struct tcp_info */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <signal.h>

#include "../unit/harness.h"
#include "../packet/pkt.h"
#include "sim.h"

#define SOAK_MAXFLOWS 500
#define SOAK_MAXGROUPS 4		/* listening ports of the flows */
#define SOAK_MAXDOOMED 2		/* listeners closed with pending */
#define SOAK_DOOMED_CLIENTS 40
#define SOAK_MAXUDP 3
#define SOAK_UDP_MAX 300		/* datagrams per exchange */
#define SOAK_PORT_FLOWS 7000		/* + group */
#define SOAK_PORT_DOOMED 7100		/* + listener */
#define SOAK_PORT_UDP 7200		/* + exchange */
#define SOAK_GROUP 0xef010200u		/* 239.1.2.0, + exchange + 1 */
#define SOAK_SEC (1000 * SIM_MS)
#define SOAK_LIMIT (900 * SOAK_SEC)	/* every workload ends by then */
#define SOAK_GIVEUP (60 * SOAK_SEC)	/* FIN-WAIT-2 after a peer's abort, */
					/* at least (soak_giveup_ns()) */
#define SOAK_ACCEPT_GRACE (5 * SOAK_SEC) /* an abort's unaccepted end, */
					/* at least (soak_accept_grace_ns()) */
#define SOAK_UDP_TIMEOUT (2 * SOAK_SEC)
#define SOAK_UDP_HDR 16
#define SOAK_UDP_MAGIC 0x4b414f53u	/* "SOAK" */
/* payload bytes a round moves at most; a quarter under ASan */
#define SOAK_BYTES (SIM_ASAN ? 16 * SIM_MB : 64 * SIM_MB)
/* payload an instance may hold in socket buffers, for the mbuf limits */
#define SOAK_HOST_MEM (64 * SIM_MB)
#define SOAK_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the generator ---- */

static uint64_t
rnd(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* uniform in [0, n) */
static uint64_t
rnd_below(uint64_t *x, uint64_t n)
{
	return n == 0 ? 0 : rnd(x) % n;
}

static double
rnd_unit(uint64_t *x)
{
	return (double)(rnd(x) >> 11) / 9007199254740992.0;
}

static bool
rnd_chance(uint64_t *x, double p)
{
	return rnd_unit(x) < p;
}

/* log-uniform in [lo, hi], lo >= 1 */
static uint64_t
rnd_log(uint64_t *x, uint64_t lo, uint64_t hi)
{
	double v = exp(log((double)lo) + rnd_unit(x) *
	    (log((double)hi + 1) - log((double)lo)));

	return MIN(MAX((uint64_t)v, lo), hi);
}

static double
rnd_logf(uint64_t *x, double lo, double hi)
{
	return exp(log(lo) + rnd_unit(x) * (log(hi) - log(lo)));
}

/* ---- a round ---- */

struct soak_host {
	int h_sack, h_rack, h_ecn, h_syncookies, h_syncache_limit;
	const char *h_cc;
};

/* a listening port on every instance, with the buffers it hands on */
struct soak_group {
	uint16_t g_port;
	int g_sndbuf, g_rcvbuf;		/* 0: the defaults */
	int g_lfd[SIM_MAXHOST];
};

enum { CLOSE_CLIENT, CLOSE_SERVER, CLOSE_BOTH };
enum { ABORT_NONE, ABORT_CLIENT, ABORT_SERVER };

struct soak_flow {
	struct sim_flow sf_f;		/* hosts, sizes, the two ends */
	int sf_group;
	uint64_t sf_tstart;		/* when the client connects */
	int sf_close;			/* CLOSE_* */
	int sf_abort;			/* ABORT_*: which end resets */
	uint64_t sf_abort_at;		/* after sending this much */
	int sf_sndbuf, sf_rcvbuf;	/* the client's (0: the defaults) */
	int sf_maxseg;			/* the client's TCP_MAXSEG, 0: none */
	bool sf_nodelay;		/* both ends */
	bool sf_started, sf_accepted, sf_done;
	uint64_t sf_taborted;		/* 0: not (yet) */
	bool sf_gaveup;			/* the survivor closed, FIN-WAIT-2 */
	bool sf_cookiereset;		/* client reset by a failed cookie */
};

/* a client of a listener that closes with connections pending */
struct soak_dclient {
	int c_host;
	uint64_t c_tstart;
	size_t c_req;			/* bytes it sends once connected */
	int c_fd;
	bool c_started, c_connected, c_done;
	int c_err;			/* how it ended */
};

struct soak_doomed {
	int d_host;
	uint16_t d_port;
	int d_backlog;
	int d_lfd;
	uint64_t d_tclose;
	bool d_closed;
	int d_n;
	struct soak_dclient d_c[SOAK_DOOMED_CLIENTS];
};

/* a UDP exchange: the client's datagrams, echoed by the server */
struct soak_udp {
	int u_cli, u_srv;
	uint16_t u_port;
	bool u_mcast;			/* to group SOAK_GROUP + exchange */
	int u_cfd, u_sfd;
	int u_n, u_window;
	size_t u_maxlen;
	int u_next, u_out;		/* next to send, outstanding */
	int u_answered, u_lost, u_late, u_dups, u_echoed;
	uint64_t u_bytes;		/* checked, both ways */
	uint64_t u_tsent[SOAK_UDP_MAX];
	uint8_t u_state[SOAK_UDP_MAX];	/* UDP_* */
	uint16_t u_len[SOAK_UDP_MAX];
};

enum { UDP_UNSENT, UDP_OUT, UDP_ANSWERED, UDP_LOST };

struct soak_round {
	uint64_t r_seed;
	int r_nhost;
	enum rump_softint_mode r_mode;
	unsigned r_mtu;
	struct rump_bus_config r_bus;
	int r_keepidle;			/* TCP_KEEPIDLE, s: soak_keepidle() */
	struct soak_host r_host[SIM_MAXHOST];
	int r_ngroups;
	struct soak_group r_groups[SOAK_MAXGROUPS];
	int r_nflows;
	struct soak_flow r_flows[SOAK_MAXFLOWS];
	int r_ndoomed;
	struct soak_doomed r_doomed[SOAK_MAXDOOMED];
	int r_nudp;
	struct soak_udp r_udp[SOAK_MAXUDP];
	/* under way */
	struct sim r_sim;
	uint64_t r_rng;			/* draws as it runs (datagram sizes) */
	int r_flowsdone;
	int r_nlisten[SIM_MAXHOST];	/* listeners each instance had */
	int r_nconnect[SIM_MAXHOST];	/* connect() calls each made */
	int r_cookieresets[SIM_MAXHOST]; /* clients reset by each's cookies */
	int r_strays[SIM_MAXHOST];	/* second connections by a cookie */
	/* figures */
	int r_aborts, r_resets, r_gaveup, r_unaccepted;
	int r_dconnected, r_drefused;
	uint64_t r_maxflow_ns;		/* the longest flow, start to end */
};

struct soak_totals {
	unsigned t_rounds, t_threads;
	uint64_t t_flows, t_conns, t_aborts, t_doomed, t_datagrams;
	uint64_t t_bytes, t_vtime;
};

static char current[1024];		/* the round under way, for a failure */
static const char *progname = "soak";

/* ---- drawing a round ---- */

static const int soak_bufs[] = {
	2048, 4096, 8192, 16384, 32768, 65536, 262144, 1048576,
};

/* a socket buffer size: the default (0) or one of soak_bufs */
static int
soak_draw_buf(uint64_t *x, double pdefault)
{
	if (rnd_chance(x, pdefault))
		return 0;
	return soak_bufs[rnd_below(x, SOAK_NELEM(soak_bufs))];
}

/* what a buffer size set with setsockopt() holds (the value doubled) */
static uint64_t
soak_buf_eff(int set)
{
	return set == 0 ? 256 * 1024 : 2 * (uint64_t)set;
}

static void
soak_draw_bus(struct soak_round *r, uint64_t *x)
{
	struct rump_bus_config *b = &r->r_bus;

	rump_bus_config_default(b);
	b->seed = rnd(x);
	b->delay_ns = rnd_log(x, 1, 20) * SIM_MS;
	if (rnd_chance(x, 0.5))
		b->jitter_ns = rnd_below(x, 2 * SIM_MS + 1);
	if (rnd_chance(x, 0.6))
		b->loss = rnd_logf(x, 0.0005, 0.05);
	if (rnd_chance(x, 0.4))
		b->duplicate = rnd_logf(x, 0.001, 0.02);
	if (rnd_chance(x, 0.4)) {
		b->reorder = rnd_logf(x, 0.005, 0.05);
		b->reorder_ns = rnd_log(x, 1, 10) * SIM_MS;
	}
	if (rnd_chance(x, 0.3))
		b->corrupt = rnd_logf(x, 0.0005, 0.01);
	if (rnd_chance(x, 0.5))
		b->rate_bps = rnd_log(x, 5, 1000) * 1000000ull;
	if (rnd_chance(x, 0.3))
		b->queue_max = (unsigned)rnd_log(x, 256, 4096);
	if (rnd_chance(x, 0.3))
		b->ce = rnd_logf(x, 0.005, 0.05);
	b->offload = rnd_chance(x, 0.25);
}

/*
 * A live peer can be silent as long as a full queue takes to drain at the
 * bus's rate, each way (a keepalive probe waits behind data, and so does
 * its answer; spurious timeouts on such a link keep the queues full): a
 * round of 436 flows at 5 Mbit/s, 4096 frames of 9000 bytes, took longer
 * than 5 s, and keepalive dropped a connection whose ACKs were queued.
 * Keepalive waits 5 s more than two drains, at most 300 s (SOAK_LIMIT
 * still bounds the round).
 */
static int
soak_keepidle(const struct soak_round *r)
{
	const struct rump_bus_config *b = &r->r_bus;
	uint64_t frame = b->offload ? 65536 : r->r_mtu + 18, drain;

	if (b->rate_bps == 0)
		return 5;
	drain = (uint64_t)b->queue_max * frame * 8 / b->rate_bps + 1;
	return (int)MIN(5 + 2 * drain, 300);
}

static void
soak_draw_hosts(struct soak_round *r, uint64_t *x)
{
	for (int h = 0; h < r->r_nhost; h++) {
		struct soak_host *sh = &r->r_host[h];

		sh->h_sack = rnd_chance(x, 0.8);
		sh->h_rack = rnd_chance(x, 0.8);
		sh->h_ecn = rnd_chance(x, 0.4);
		sh->h_syncookies = rnd_chance(x, 0.8);
		sh->h_syncache_limit = rnd_chance(x, 0.7) ? 1024 :
		    (int)rnd_log(x, 8, 256);
		sh->h_cc = rnd_chance(x, 0.6) ? "cubic" : "newreno";
	}
}

/* a random other host than h */
static int
soak_other(struct soak_round *r, uint64_t *x, int h)
{
	int o = (int)rnd_below(x, (uint64_t)r->r_nhost - 1);

	return o >= h ? o + 1 : o;
}

/*
 * The bytes one direction of a flow carries: none now and then, else
 * log-uniform up to max, and no more than 256 windows of the smaller of
 * the two buffers it goes through (a small window makes a slow flow).
 */
static uint64_t
soak_draw_size(uint64_t *x, uint64_t max, uint64_t sndbuf, uint64_t rcvbuf,
    double pzero)
{
	if (rnd_chance(x, pzero))
		return 0;
	max = MIN(max, 256 * MIN(sndbuf, rcvbuf));
	return rnd_log(x, 1, MAX(max, 1));
}

static void
soak_draw_flows(struct soak_round *r, uint64_t *x)
{
	uint64_t budget = rnd_log(x, SOAK_BYTES / 64, SOAK_BYTES), used = 0;
	uint64_t mem[SIM_MAXHOST] = { 0 };
	uint64_t spread = rnd_below(x, 3 * SOAK_SEC + 1), max;

	/* a slow bus: about 5 s of virtual time at its rate, not more */
	if (r->r_bus.rate_bps != 0)
		budget = MIN(budget, r->r_bus.rate_bps / 8 * 5);
	r->r_ngroups = 1 + (int)rnd_below(x, SOAK_MAXGROUPS);
	for (int g = 0; g < r->r_ngroups; g++) {
		struct soak_group *gr = &r->r_groups[g];

		gr->g_port = (uint16_t)(SOAK_PORT_FLOWS + g);
		gr->g_sndbuf = soak_draw_buf(x, 0.4);
		gr->g_rcvbuf = soak_draw_buf(x, 0.4);
		for (int h = 0; h < SIM_MAXHOST; h++)
			gr->g_lfd[h] = -1;
	}
	r->r_nflows = (int)rnd_log(x, 20, SOAK_MAXFLOWS);
	max = MIN(4 * SIM_MB, MAX(8 * budget / (uint64_t)r->r_nflows, 1024));
	for (int i = 0; i < r->r_nflows; i++) {
		struct soak_flow *sf = &r->r_flows[i];
		struct sim_flow *f = &sf->sf_f;
		struct soak_group *gr;
		uint64_t cs, cr, ss, sr, need;

		memset(sf, 0, sizeof(*sf));
		f->f_cli = (int)rnd_below(x, (uint64_t)r->r_nhost);
		f->f_srv = soak_other(r, x, f->f_cli);
		sf->sf_group = (int)rnd_below(x, (uint64_t)r->r_ngroups);
		gr = &r->r_groups[sf->sf_group];
		sf->sf_tstart = rnd_below(x, spread + 1);
		sf->sf_sndbuf = soak_draw_buf(x, 0.6);
		sf->sf_rcvbuf = soak_draw_buf(x, 0.6);
		cs = soak_buf_eff(sf->sf_sndbuf);
		cr = soak_buf_eff(sf->sf_rcvbuf);
		ss = soak_buf_eff(gr->g_sndbuf);
		sr = soak_buf_eff(gr->g_rcvbuf);
		f->f_total = soak_draw_size(x, max, cs, sr, 0.1);
		f->f_back = soak_draw_size(x, max, ss, cr, 0.4);
		/* within the round's budget and each instance's memory */
		need = MIN(f->f_total, cs) + MIN(f->f_back, cr);
		if (used + f->f_total + f->f_back > budget ||
		    mem[f->f_cli] + need > SOAK_HOST_MEM) {
			f->f_total = MIN(f->f_total, 4096);
			f->f_back = MIN(f->f_back, 4096);
			need = MIN(f->f_total, cs) + MIN(f->f_back, cr);
		}
		mem[f->f_cli] += need;
		mem[f->f_srv] += MIN(f->f_total, sr) + MIN(f->f_back, ss);
		used += f->f_total + f->f_back;
		sf->sf_close = (int)rnd_below(x, 3);
		if (rnd_chance(x, 0.125)) {
			sf->sf_abort = rnd_chance(x, 0.5) ? ABORT_CLIENT :
			    ABORT_SERVER;
			sf->sf_abort_at = rnd_below(x, (sf->sf_abort ==
			    ABORT_CLIENT ? f->f_total : f->f_back) + 1);
		}
		sf->sf_nodelay = rnd_chance(x, 0.3);
		if (rnd_chance(x, 0.1))
			sf->sf_maxseg = (int)(536 + rnd_below(x, 700));
		/* send() and recv() sizes, at most 20,000 calls a flow */
		if (rnd_chance(x, 0.5)) {
			f->f_c.e_iomax = (size_t)MAX(rnd_log(x, 1, 65536),
			    MAX(f->f_total, f->f_back) / 20000 + 1);
			f->f_s.e_iomax = (size_t)MAX(rnd_log(x, 1, 65536),
			    MAX(f->f_total, f->f_back) / 20000 + 1);
		}
	}
}

static void
soak_draw_doomed(struct soak_round *r, uint64_t *x)
{
	r->r_ndoomed = (int)rnd_below(x, SOAK_MAXDOOMED + 1);
	for (int d = 0; d < r->r_ndoomed; d++) {
		struct soak_doomed *dm = &r->r_doomed[d];

		memset(dm, 0, sizeof(*dm));
		dm->d_host = (int)rnd_below(x, (uint64_t)r->r_nhost);
		dm->d_port = (uint16_t)(SOAK_PORT_DOOMED + d);
		dm->d_backlog = 1 + (int)rnd_below(x, 16);
		dm->d_lfd = -1;
		dm->d_tclose = 50 * SIM_MS + rnd_below(x, 3 * SOAK_SEC);
		dm->d_n = 1 + (int)rnd_below(x, SOAK_DOOMED_CLIENTS);
		for (int i = 0; i < dm->d_n; i++) {
			struct soak_dclient *c = &dm->d_c[i];

			c->c_host = soak_other(r, x, dm->d_host);
			c->c_tstart = rnd_below(x, dm->d_tclose +
			    500 * SIM_MS);
			c->c_req = 1 + (size_t)rnd_below(x, 2000);
			c->c_fd = -1;
		}
	}
}

static void
soak_draw_udp(struct soak_round *r, uint64_t *x)
{
	r->r_nudp = (int)rnd_below(x, SOAK_MAXUDP + 1);
	for (int u = 0; u < r->r_nudp; u++) {
		struct soak_udp *ud = &r->r_udp[u];

		memset(ud, 0, sizeof(*ud));
		ud->u_cli = (int)rnd_below(x, (uint64_t)r->r_nhost);
		ud->u_srv = soak_other(r, x, ud->u_cli);
		ud->u_port = (uint16_t)(SOAK_PORT_UDP + u);
		ud->u_cfd = ud->u_sfd = -1;
		ud->u_n = (int)rnd_log(x, 10, SOAK_UDP_MAX);
		ud->u_window = 1 + (int)rnd_below(x, 16);
		ud->u_maxlen = (size_t)rnd_log(x, SOAK_UDP_HDR, 4000);
		ud->u_mcast = rnd_chance(x, 0.5);
	}
}

/* the address exchange u sends to: its group, or its server */
static struct sockaddr_in
soak_udp_to(const struct soak_udp *ud, int u)
{
	struct sockaddr_in to = sa(sim_addr(ud->u_srv), ud->u_port);

	if (ud->u_mcast)
		to.sin_addr.s_addr = htonl(SOAK_GROUP + (uint32_t)u + 1);
	return to;
}

static void
soak_draw(struct soak_round *r, uint64_t seed, int softint)
{
	uint64_t x = seed;
	unsigned mtus[] = { 576, 1280, 9000 };

	memset(r, 0, sizeof(*r));
	r->r_seed = seed;
	r->r_nhost = 2 + (int)rnd_below(&x, SIM_MAXHOST - 1);
	r->r_mode = rnd_chance(&x, 0.25) ? RUMP_SOFTINT_THREADS :
	    RUMP_SOFTINT_INLINE;
	if (softint >= 0)
		r->r_mode = (enum rump_softint_mode)softint;
	r->r_mtu = rnd_chance(&x, 0.7) ? 1500 : mtus[rnd_below(&x, 3)];
	soak_draw_bus(r, &x);
	r->r_keepidle = soak_keepidle(r);
	soak_draw_hosts(r, &x);
	soak_draw_flows(r, &x);
	soak_draw_doomed(r, &x);
	soak_draw_udp(r, &x);
	r->r_rng = rnd(&x);
}

/* the round's parameters in one line, into buf */
static void
soak_describe(const struct soak_round *r, char *buf, size_t len)
{
	const struct rump_bus_config *b = &r->r_bus;
	int n, aborts = 0, dclients = 0, mcast = 0;
	size_t o;

	for (int i = 0; i < r->r_nflows; i++)
		aborts += r->r_flows[i].sf_abort != ABORT_NONE;
	for (int u = 0; u < r->r_nudp; u++)
		mcast += r->r_udp[u].u_mcast;
	for (int d = 0; d < r->r_ndoomed; d++)
		dclients += r->r_doomed[d].d_n;
	n = snprintf(buf, len, "seed %#llx: %d hosts %s mtu %u; bus delay %llu"
	    " ms jitter %llu us loss %.2g dup %.2g reorder %.2g/%llu ms "
	    "corrupt %.2g rate %llu Mbit/s queue %u ce %.2g%s; tcp",
	    (unsigned long long)r->r_seed, r->r_nhost,
	    r->r_mode == RUMP_SOFTINT_THREADS ? "threads" : "inline",
	    r->r_mtu, (unsigned long long)(b->delay_ns / SIM_MS),
	    (unsigned long long)(b->jitter_ns / 1000), b->loss, b->duplicate,
	    b->reorder, (unsigned long long)(b->reorder_ns / SIM_MS),
	    b->corrupt, (unsigned long long)(b->rate_bps / 1000000),
	    b->queue_max, b->ce, b->offload ? " offload" : "");
	for (int h = 0; h < r->r_nhost && n > 0 && (size_t)n < len; h++) {
		const struct soak_host *sh = &r->r_host[h];

		n += snprintf(buf + n, len - (size_t)n, " %d:%s%s%s%s%s/%d", h,
		    sh->h_cc, sh->h_sack ? "+sack" : "",
		    sh->h_rack ? "+rack" : "", sh->h_ecn ? "+ecn" : "",
		    sh->h_syncookies ? "+cookies" : "",
		    sh->h_syncache_limit);
	}
	o = (size_t)n;
	if (n > 0 && o < len)
		snprintf(buf + o, len - o, "; %d flows (%d aborting) on %d "
		    "ports, %d doomed listeners (%d clients), %d udp (%d "
		    "multicast)", r->r_nflows, aborts, r->r_ngroups,
		    r->r_ndoomed, dclients, r->r_nudp, mcast);
}

/* ---- setting a round up ---- */

static void
soak_tcp_params(struct soak_round *r)
{
	struct sim *s = &r->r_sim;

	for (int h = 0; h < r->r_nhost; h++) {
		const struct soak_host *sh = &r->r_host[h];

		assert_int_equal(rump_tcp_param_set(s->k[h], "sack",
		    sh->h_sack), 0);
		assert_int_equal(rump_tcp_param_set(s->k[h], "rack",
		    sh->h_rack), 0);
		assert_int_equal(rump_tcp_param_set(s->k[h], "ecn",
		    sh->h_ecn), 0);
		assert_int_equal(rump_tcp_param_set(s->k[h], "syncookies",
		    sh->h_syncookies), 0);
		assert_int_equal(rump_tcp_param_set(s->k[h], "syncache_limit",
		    sh->h_syncache_limit), 0);
		assert_int_equal(rump_tcp_cc_set_default(s->k[h], sh->h_cc),
		    0);
		if (r->r_mtu != 1500)
			assert_int_equal(rump_if_set_mtu(s->k[h], s->ifx[h],
			    r->r_mtu), 0);
	}
}

static void
soak_setup(struct soak_round *r)
{
	struct sim *s = &r->r_sim;

	/* sim_up() takes the softint mode from the environment */
	setenv("RUMPNET_SOFTINT", r->r_mode == RUMP_SOFTINT_THREADS ?
	    "threads" : "inline", 1);
	sim_up(s, r->r_nhost, &r->r_bus);
	soak_tcp_params(r);
	for (int g = 0; g < r->r_ngroups; g++) {
		struct soak_group *gr = &r->r_groups[g];

		for (int h = 0; h < r->r_nhost; h++) {
			gr->g_lfd[h] = sim_listen(s, h, gr->g_port,
			    gr->g_sndbuf, gr->g_rcvbuf);
			r->r_nlisten[h]++;
		}
	}
	for (int d = 0; d < r->r_ndoomed; d++) {
		struct soak_doomed *dm = &r->r_doomed[d];
		struct sockaddr_in a = sa(sim_addr(dm->d_host), dm->d_port);

		sim_as(s, dm->d_host);
		dm->d_lfd = rump_sys_socket(AF_INET, SOCK_STREAM |
		    SOCK_NONBLOCK, 0);
		assert_true(dm->d_lfd >= 0);
		assert_int_equal(rump_sys_bind(dm->d_lfd, (struct sockaddr *)&a,
		    sizeof(a)), 0);
		assert_int_equal(rump_sys_listen(dm->d_lfd, dm->d_backlog), 0);
		r->r_nlisten[dm->d_host]++;
	}
	for (int u = 0; u < r->r_nudp; u++) {
		struct soak_udp *ud = &r->r_udp[u];
		struct sockaddr_in a = sa(sim_addr(ud->u_srv), ud->u_port);
		struct ip_mreq mr = {
			.imr_multiaddr = soak_udp_to(ud, u).sin_addr,
			.imr_interface.s_addr = inet_addr(sim_addr(ud->u_srv)),
		};
		struct in_addr ifa = { inet_addr(sim_addr(ud->u_cli)) };

		sim_as(s, ud->u_srv);
		ud->u_sfd = rump_sys_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK,
		    0);
		assert_true(ud->u_sfd >= 0);
		/* a group's server: bound to any address, in the group */
		if (ud->u_mcast)
			a.sin_addr.s_addr = INADDR_ANY;
		assert_int_equal(rump_sys_bind(ud->u_sfd, (struct sockaddr *)&a,
		    sizeof(a)), 0);
		if (ud->u_mcast)
			assert_int_equal(rump_sys_setsockopt(ud->u_sfd,
			    IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)), 0);
		sim_as(s, ud->u_cli);
		ud->u_cfd = rump_sys_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK,
		    0);
		assert_true(ud->u_cfd >= 0);
		if (ud->u_mcast)
			assert_int_equal(rump_sys_setsockopt(ud->u_cfd,
			    IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof(ifa)), 0);
	}
}

/* ---- TCP flows ---- */

static void
soak_wake(struct sim *s, uint64_t t)
{
	if (t > s->now && (s->wake == 0 || t < s->wake))
		s->wake = t;
}

static void
soak_setint(int fd, int level, int name, int v)
{
	assert_int_equal(rump_sys_setsockopt(fd, level, name, &v, sizeof(v)),
	    0);
}

/*
 * Keepalive on the end whose peer resets: a lost reset would leave it
 * open with nothing to send (half-open); after r_keepidle seconds of
 * silence a probe, answered by a reset, or three unanswered a second
 * apart drop it.
 */
static void
soak_keepalive(const struct soak_round *r, int fd)
{
	soak_setint(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	soak_setint(fd, IPPROTO_TCP, TCP_KEEPIDLE, r->r_keepidle);
	soak_setint(fd, IPPROTO_TCP, TCP_KEEPINTVL, 1);
	soak_setint(fd, IPPROTO_TCP, TCP_KEEPCNT, 3);
}

/* an abort: RFC 9293 3.10.5, a reset and no wait */
static void
soak_abort_fd(int fd)
{
	const struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	assert_int_equal(rump_sys_close(fd), 0);
}

/*
 * Whether flow sf's server answers SYNs with cookies once its bound on
 * embryos is reached.  A cookie is checked against SEG.SEQ - 1, so it is
 * good only in the segment at the client's ISN + 1, the ACK of the
 * handshake or the first data: when a later segment of the client
 * reaches the listener first (the ACK and the first data lost, or
 * overtaken by jitter), the check fails and the listener answers with a
 * reset (tcp.sc_failed; as FreeBSD and Linux do: an ACK in LISTEN), which
 * ends the client's connection before it has received anything.
 */
static bool
soak_cookies(const struct soak_round *r, const struct soak_flow *sf)
{
	return r->r_host[sf->sf_f.f_srv].h_syncookies != 0;
}

/* a flow's parameters (SOAK_FLOW=<index> prints them as it starts) */
static void
soak_flow_print(struct soak_round *r, struct soak_flow *sf, int idx)
{
	struct sim_flow *f = &sf->sf_f;
	struct soak_group *gr = &r->r_groups[sf->sf_group];

	print_message("\n# flow %d at %.3f s: %s:%u -> %s:%u, %llu bytes, %llu "
	    "back, close %d, abort %d at %llu; client bufs %d/%d maxseg %d "
	    "nodelay %d iomax %zu; server bufs %d/%d iomax %zu\n", idx,
	    (double)r->r_sim.now / 1e9, sim_addr(f->f_cli), f->f_lport,
	    sim_addr(f->f_srv), gr->g_port, (unsigned long long)f->f_total,
	    (unsigned long long)f->f_back, sf->sf_close, sf->sf_abort,
	    (unsigned long long)sf->sf_abort_at, sf->sf_sndbuf,
	    sf->sf_rcvbuf, sf->sf_maxseg, sf->sf_nodelay, f->f_c.e_iomax,
	    gr->g_sndbuf, gr->g_rcvbuf, f->f_s.e_iomax);
}

static void
soak_flow_start(struct soak_round *r, struct soak_flow *sf, int idx)
{
	struct sim *s = &r->r_sim;
	struct sim_flow *f = &sf->sf_f;
	struct soak_group *gr = &r->r_groups[sf->sf_group];
	uint64_t base = (uint64_t)idx * 7919 * 1021 % SIM_PAT_LEN;
	size_t ciomax = f->f_c.e_iomax, siomax = f->f_s.e_iomax;
	int fd;

	memset(&f->f_c, 0, sizeof(f->f_c));
	memset(&f->f_s, 0, sizeof(f->f_s));
	f->f_c.e_iomax = ciomax;
	f->f_s.e_iomax = siomax;
	f->f_c.e_txtotal = f->f_s.e_rxtotal = f->f_total;
	f->f_c.e_txbase = f->f_s.e_rxbase = base;
	f->f_s.e_txtotal = f->f_c.e_rxtotal = f->f_back;
	f->f_s.e_txbase = f->f_c.e_rxbase = (base + 65537) % SIM_PAT_LEN;
	sim_csum_init(&f->f_c.e_tx);
	sim_csum_init(&f->f_c.e_rx);
	sim_csum_init(&f->f_s.e_tx);
	sim_csum_init(&f->f_s.e_rx);
	f->f_s.e_fd = -1;
	/* a reset is expected from an abort, or may come from a cookie */
	f->f_c.e_resetok = sf->sf_abort == ABORT_SERVER || soak_cookies(r, sf);
	f->f_s.e_resetok = sf->sf_abort == ABORT_CLIENT || soak_cookies(r, sf);

	sim_as(s, f->f_cli);
	fd = rump_sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	sim_sockbufs(fd, sf->sf_sndbuf, sf->sf_rcvbuf);
	if (sf->sf_nodelay)
		soak_setint(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	if (sf->sf_maxseg != 0)
		soak_setint(fd, IPPROTO_TCP, TCP_MAXSEG, sf->sf_maxseg);
	if (f->f_c.e_resetok)
		soak_keepalive(r, fd);
	f->f_lport = sim_connect_fd(fd, f->f_srv, gr->g_port);
	f->f_c.e_fd = fd;
	f->f_c.e_connecting = true;
	sf->sf_started = true;
	r->r_nconnect[f->f_cli]++;
	if (getenv("SOAK_FLOW") != NULL && atoi(getenv("SOAK_FLOW")) == idx)
		soak_flow_print(r, sf, idx);
}

/*
 * The flow of group g served by host h whose client is peer: one not
 * accepted yet, or (stray) one accepted already whose server sent
 * cookies.  -1: none.
 */
static int
soak_accept_match(struct soak_round *r, int g, int h,
    const struct sockaddr_in *peer, bool stray)
{
	for (int i = 0; i < r->r_nflows; i++) {
		struct soak_flow *sf = &r->r_flows[i];

		if (sf->sf_started && sf->sf_accepted == stray &&
		    (!stray || soak_cookies(r, sf)) &&
		    sf->sf_group == g && sf->sf_f.f_srv == h &&
		    sf->sf_f.f_lport == ntohs(peer->sin_port) &&
		    peer->sin_addr.s_addr ==
		    inet_addr(sim_addr(sf->sf_f.f_cli)))
			return i;
	}
	return -1;
}

/* accept what host h's listener of group g has, matching flows */
static void
soak_accept(struct soak_round *r, int g, int h)
{
	struct soak_group *gr = &r->r_groups[g];

	for (;;) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int fd = rump_sys_accept4(gr->g_lfd[h],
		    (struct sockaddr *)&peer, &len, SOCK_NONBLOCK), i;
		struct soak_flow *sf;

		if (fd < 0) {
			assert_int_equal(errno, EAGAIN);
			return;
		}
		i = soak_accept_match(r, g, h, &peer, false);
		if (i < 0 || r->r_flows[i].sf_done) {
			/*
			 * A stray: a second connection of a flow made by a
			 * cookie that came again (a duplicate or a late
			 * copy of the handshake's ACK or first data) after
			 * the first connection was gone; or one whose client
			 * reset before it was accepted, later than
			 * soak_accept_grace_ns() (a queue that slow).  Its
			 * client has no such connection: reset it.
			 */
			if (i < 0 && soak_accept_match(r, g, h, &peer, true) < 0)
				fail_msg("soak: host %d port %u accepted "
				    "%s:%u, no such flow", h, gr->g_port,
				    inet_ntoa(peer.sin_addr),
				    ntohs(peer.sin_port));
			soak_abort_fd(fd);
			r->r_strays[h]++;
			continue;
		}
		sf = &r->r_flows[i];
		sf->sf_accepted = true;
		sf->sf_f.f_s.e_fd = fd;
		if (sf->sf_nodelay)
			soak_setint(fd, IPPROTO_TCP, TCP_NODELAY, 1);
		if (sf->sf_f.f_s.e_resetok)
			soak_keepalive(r, fd);
	}
}

/* whether e's connect() completed; a reset is expected only when told */
static bool
soak_connected(struct sim_end *e)
{
	struct pollfd p = { .fd = e->e_fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	assert_true(rump_sys_poll(&p, 1, 0) >= 0);
	if (p.revents == 0)
		return false;
	assert_int_equal(rump_sys_getsockopt(e->e_fd, SOL_SOCKET, SO_ERROR,
	    &err, &len), 0);
	if (err != 0 && !sim_end_reset(e, err))
		fail_msg("soak: connect failed: %s", strerror(err));
	return true;
}

/* whether end e of sf may shut down its sending side now */
static bool
soak_may_shut(const struct soak_flow *sf, const struct sim_end *e,
    bool client)
{
	if (e->e_sent < e->e_txtotal)
		return false;
	switch (sf->sf_close) {
	case CLOSE_CLIENT:
		return client || e->e_eof;
	case CLOSE_SERVER:
		return !client || e->e_eof;
	default:
		return true;
	}
}

/* How long an aborted client's connection may take to reach accept(). */
static uint64_t
soak_accept_grace_ns(const struct soak_round *r)
{
	return MAX(SOAK_ACCEPT_GRACE, (uint64_t)r->r_keepidle * SOAK_SEC);
}

/* How long the survivor of an abort may stay: past keepalive's verdict. */
static uint64_t
soak_giveup_ns(const struct soak_round *r)
{
	return MAX(SOAK_GIVEUP, (uint64_t)(r->r_keepidle + 10) * SOAK_SEC);
}

/*
 * The survivor of an abort has heard nothing for soak_giveup_ns(): only
 * FIN-WAIT-2 may be that quiet (its FIN was acknowledged, the reset that
 * followed lost, and no timer runs there while the socket is open); any
 * other state should have ended with a reset or keepalive.
 */
static void
soak_giveup(struct soak_round *r, struct soak_flow *sf, struct sim_end *e,
    int idx)
{
	struct tcp_info ti;

	if (!sim_tcp_info(e->e_fd, &ti) || ti.tcpi_state != TCP_FIN_WAIT2) {
		print_error("soak: flow %d: the end that was not aborted is "
		    "still open %llu s after the abort\n", idx,
		    (unsigned long long)(soak_giveup_ns(r) / SOAK_SEC));
		sim_print_tcp_info("survivor", e->e_fd);
		fail();
	}
	assert_int_equal(rump_sys_close(e->e_fd), 0);
	e->e_fd = -1;
	sf->sf_gaveup = true;
	r->r_gaveup++;
}

static void
soak_end_step(struct soak_round *r, struct soak_flow *sf, bool client,
    int idx)
{
	struct sim *s = &r->r_sim;
	struct sim_flow *f = &sf->sf_f;
	struct sim_end *e = client ? &f->f_c : &f->f_s;
	struct sim_end *peer = client ? &f->f_s : &f->f_c;
	const char *who = client ? "client" : "server";
	bool aborter = sf->sf_abort == (client ? ABORT_CLIENT : ABORT_SERVER);

	if (e->e_connecting) {
		if (!soak_connected(e))
			return;
		e->e_connecting = false;
		f->f_tconn = s->now;
	}
	sim_end_send(s, e, idx, who);
	if (aborter && e->e_sent >= sf->sf_abort_at) {
		soak_abort_fd(e->e_fd);
		e->e_fd = -1;
		sf->sf_taborted = s->now;
		r->r_aborts++;
		return;
	}
	sim_end_recv(s, e, peer, idx, who);
	if (e->e_err != 0) {
		/*
		 * The peer's reset (or keepalive's verdict) after its abort;
		 * before one, only a failed cookie's, which the client sees
		 * before any data (soak_cookies()): its connection is gone
		 * as if it had aborted, the server's end left to find out.
		 */
		if (sf->sf_taborted == 0) {
			if (!client || !soak_cookies(r, sf) || e->e_rcvd != 0)
				fail_msg("soak: flow %d, %s end: %s, the peer "
				    "did not abort (received %llu)", idx, who,
				    strerror(e->e_err),
				    (unsigned long long)e->e_rcvd);
			sf->sf_taborted = s->now;
			sf->sf_cookiereset = true;
			r->r_cookieresets[f->f_srv]++;
		}
		assert_int_equal(rump_sys_close(e->e_fd), 0);
		e->e_fd = -1;
		r->r_resets++;
		return;
	}
	if (!aborter && !e->e_shut && soak_may_shut(sf, e, client)) {
		if (rump_sys_shutdown(e->e_fd, SHUT_WR) != 0 &&
		    !sim_end_reset(e, errno))
			sim_flow_error(s, e, idx, who, "shutdown", errno);
		e->e_shut = true;
	}
	if (e->e_shut && e->e_eof) {
		assert_int_equal(rump_sys_close(e->e_fd), 0);
		e->e_fd = -1;
		return;
	}
	if (sf->sf_taborted != 0 && e->e_fd >= 0) {
		if (s->now >= sf->sf_taborted + soak_giveup_ns(r))
			soak_giveup(r, sf, e, idx);
		else
			soak_wake(s, sf->sf_taborted + soak_giveup_ns(r));
	}
}

/* whether flow sf has reached its end */
static bool
soak_flow_done(struct soak_round *r, struct soak_flow *sf)
{
	struct sim_flow *f = &sf->sf_f;
	struct sim *s = &r->r_sim;

	if (!sf->sf_started)
		return false;
	if (sf->sf_abort == ABORT_NONE && !sf->sf_cookiereset)
		return sim_flow_done(f);
	if (sf->sf_taborted == 0 || f->f_c.e_fd >= 0 || f->f_s.e_fd >= 0)
		return false;
	if (sf->sf_accepted)
		return true;
	/*
	 * The client reset (or was reset) before its connection was
	 * accepted, or before it existed (a failed cookie): a reset in
	 * the listen queue takes it off (never accepted), a lost one leaves
	 * it there for the next accept().  Give that a moment.
	 */
	if (s->now < sf->sf_taborted + soak_accept_grace_ns(r)) {
		soak_wake(s, sf->sf_taborted + soak_accept_grace_ns(r));
		return false;
	}
	r->r_unaccepted++;
	return true;
}

static void
soak_flows_on(struct soak_round *r, int h)
{
	struct sim *s = &r->r_sim;

	for (int g = 0; g < r->r_ngroups; g++)
		soak_accept(r, g, h);
	for (int i = 0; i < r->r_nflows; i++) {
		struct soak_flow *sf = &r->r_flows[i];
		struct sim_flow *f = &sf->sf_f;

		if (sf->sf_done)
			continue;
		if (f->f_cli == h) {
			if (!sf->sf_started) {
				if (s->now < sf->sf_tstart) {
					soak_wake(s, sf->sf_tstart);
					continue;
				}
				soak_flow_start(r, sf, i);
			}
			if (f->f_c.e_fd >= 0)
				soak_end_step(r, sf, true, i);
		}
		if (f->f_srv == h && sf->sf_accepted && f->f_s.e_fd >= 0)
			soak_end_step(r, sf, false, i);
	}
}

/* ---- listeners closed with connections pending ---- */

/* how a doomed client may end: refused, reset, or keepalive's timeout */
static bool
soak_doomed_err(int err)
{
	return err == ECONNREFUSED || err == ECONNRESET || err == EPIPE ||
	    err == ETIMEDOUT;
}

static void
soak_dclient_end(struct soak_round *r, struct soak_dclient *c, int err)
{
	if (!soak_doomed_err(err))
		fail_msg("soak: a client of a closed listener: %s",
		    strerror(err));
	assert_int_equal(rump_sys_close(c->c_fd), 0);
	c->c_fd = -1;
	c->c_err = err;
	c->c_done = true;
	if (err == ECONNREFUSED)
		r->r_drefused++;
}

static void
soak_dclient_step(struct soak_round *r, struct soak_doomed *dm,
    struct soak_dclient *c, int idx)
{
	struct sim *s = &r->r_sim;
	uint8_t buf[64];
	ssize_t n;

	if (!c->c_started) {
		c->c_fd = rump_sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK,
		    0);
		assert_true(c->c_fd >= 0);
		soak_keepalive(r, c->c_fd);
		(void)sim_connect_fd(c->c_fd, dm->d_host, dm->d_port);
		c->c_started = true;
		r->r_nconnect[c->c_host]++;
	}
	if (!c->c_connected) {
		struct pollfd p = { .fd = c->c_fd, .events = POLLOUT };
		int err = 0;
		socklen_t len = sizeof(err);

		assert_true(rump_sys_poll(&p, 1, 0) >= 0);
		if (p.revents == 0)
			return;
		assert_int_equal(rump_sys_getsockopt(c->c_fd, SOL_SOCKET,
		    SO_ERROR, &err, &len), 0);
		if (err != 0) {
			soak_dclient_end(r, c, err);
			return;
		}
		c->c_connected = true;
		r->r_dconnected++;
		n = rump_sys_send(c->c_fd, sim_pat_at((uint64_t)idx * 131, 0),
		    c->c_req, 0);
		if (n < 0) {
			soak_dclient_end(r, c, errno);
			return;
		}
		assert_int_equal(n, (ssize_t)c->c_req);
	}
	/* nobody ever answers: the only way out is an error */
	n = rump_sys_recv(c->c_fd, buf, sizeof(buf), 0);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n >= 0)
		fail_msg("soak: a client of a closed listener read %zd bytes "
		    "(%s), %.3f s virtual", n, n == 0 ? "EOF" : "data",
		    (double)s->now / 1e9);
	soak_dclient_end(r, c, errno);
}

static bool
soak_doomed_on(struct soak_round *r, int h)
{
	struct sim *s = &r->r_sim;
	bool busy = false;

	for (int d = 0; d < r->r_ndoomed; d++) {
		struct soak_doomed *dm = &r->r_doomed[d];

		if (dm->d_host == h && !dm->d_closed) {
			if (s->now >= dm->d_tclose) {
				/* RFC 9293 3.10.4: the pending ones reset */
				assert_int_equal(rump_sys_close(dm->d_lfd), 0);
				dm->d_lfd = -1;
				dm->d_closed = true;
			} else {
				soak_wake(s, dm->d_tclose);
				busy = true;
			}
		}
		for (int i = 0; i < dm->d_n; i++) {
			struct soak_dclient *c = &dm->d_c[i];

			if (c->c_host != h || c->c_done)
				continue;
			if (s->now < c->c_tstart)
				soak_wake(s, c->c_tstart);
			else
				soak_dclient_step(r, dm, c,
				    d * SOAK_DOOMED_CLIENTS + i);
			busy |= !c->c_done;
		}
	}
	return busy;
}

/* ---- UDP ---- */

/* the bytes of datagram seq of exchange u, header included */
static void
soak_udp_fill(uint8_t *p, int u, uint32_t seq, size_t len)
{
	uint32_t h[4] = { SOAK_UDP_MAGIC, (uint32_t)u, seq, (uint32_t)len };

	memcpy(p, h, SOAK_UDP_HDR);
	memcpy(p + SOAK_UDP_HDR, sim_pat_at((uint64_t)u * 104729 +
	    (uint64_t)seq * 8191, 0), len - SOAK_UDP_HDR);
}

/* whether p (len bytes) is datagram *seq of exchange u, intact */
static bool
soak_udp_check(const uint8_t *p, size_t len, int u, uint32_t *seq)
{
	static uint8_t want[65536];
	uint32_t h[4];

	if (len < SOAK_UDP_HDR)
		return false;
	memcpy(h, p, SOAK_UDP_HDR);
	if (h[0] != SOAK_UDP_MAGIC || h[1] != (uint32_t)u || h[3] != len ||
	    h[2] >= SOAK_UDP_MAX)
		return false;
	*seq = h[2];
	soak_udp_fill(want, u, h[2], len);
	return memcmp(p, want, len) == 0;
}

static void
soak_udp_server(struct soak_round *r, struct soak_udp *ud, int u)
{
	static uint8_t buf[65536];

	for (;;) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		ssize_t n = rump_sys_recvfrom(ud->u_sfd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &len);
		uint32_t seq;

		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			return;
		}
		if (!soak_udp_check(buf, (size_t)n, u, &seq))
			fail_msg("soak: udp %d: the server read a datagram of "
			    "%zd bytes that is not one sent", u, n);
		ud->u_bytes += (uint64_t)n;
		n = rump_sys_sendto(ud->u_sfd, buf, (size_t)n, 0,
		    (struct sockaddr *)&from, len);
		if (n < 0)
			fail_msg("soak: udp %d: echo: %s", u, strerror(errno));
		ud->u_echoed++;
	}
	(void)r;
}

static void
soak_udp_client(struct soak_round *r, struct soak_udp *ud, int u)
{
	static uint8_t buf[65536];
	struct sim *s = &r->r_sim;
	struct sockaddr_in to = soak_udp_to(ud, u);

	for (;;) {
		ssize_t n = rump_sys_recv(ud->u_cfd, buf, sizeof(buf), 0);
		uint32_t seq = 0;	/* set when soak_udp_check() is true */

		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			break;
		}
		if (!soak_udp_check(buf, (size_t)n, u, &seq) ||
		    ud->u_state[seq] == UDP_UNSENT ||
		    ud->u_len[seq] != (size_t)n)
			fail_msg("soak: udp %d: the client read a datagram of "
			    "%zd bytes that is not one sent", u, n);
		ud->u_bytes += (uint64_t)n;
		if (ud->u_state[seq] == UDP_OUT) {
			ud->u_state[seq] = UDP_ANSWERED;
			ud->u_answered++;
			ud->u_out--;
		} else if (ud->u_state[seq] == UDP_LOST) {
			ud->u_late++;
		} else {
			ud->u_dups++;
		}
	}
	for (int i = 0; i < ud->u_next; i++)
		if (ud->u_state[i] == UDP_OUT) {
			if (s->now >= ud->u_tsent[i] + SOAK_UDP_TIMEOUT) {
				ud->u_state[i] = UDP_LOST;
				ud->u_lost++;
				ud->u_out--;
			} else {
				soak_wake(s, ud->u_tsent[i] + SOAK_UDP_TIMEOUT);
			}
		}
	while (ud->u_out < ud->u_window && ud->u_next < ud->u_n) {
		int seq = ud->u_next++;
		size_t len = SOAK_UDP_HDR + (size_t)rnd_below(&r->r_rng,
		    ud->u_maxlen - SOAK_UDP_HDR + 1);
		ssize_t n;

		soak_udp_fill(buf, u, (uint32_t)seq, len);
		n = rump_sys_sendto(ud->u_cfd, buf, len, 0,
		    (struct sockaddr *)&to, sizeof(to));
		if (n < 0)
			fail_msg("soak: udp %d: send: %s", u, strerror(errno));
		assert_int_equal(n, (ssize_t)len);
		ud->u_len[seq] = (uint16_t)len;
		ud->u_tsent[seq] = s->now;
		ud->u_state[seq] = UDP_OUT;
		ud->u_out++;
		soak_wake(s, s->now + SOAK_UDP_TIMEOUT);
	}
}

static bool
soak_udp_on(struct soak_round *r, int h)
{
	struct sim *s = &r->r_sim;
	bool busy = false;

	for (int u = 0; u < r->r_nudp; u++) {
		struct soak_udp *ud = &r->r_udp[u];

		if (ud->u_srv == h) {
			sim_as(s, h);
			soak_udp_server(r, ud, u);
		}
		if (ud->u_cli == h) {
			sim_as(s, h);
			soak_udp_client(r, ud, u);
			if (ud->u_next < ud->u_n || ud->u_out > 0)
				busy = true;
		}
	}
	return busy;
}

/* ---- the pass ---- */

static bool
soak_pass(struct sim *s, void *arg)
{
	struct soak_round *r = arg;
	bool busy = false;

	for (int h = 0; h < r->r_nhost; h++) {
		sim_as(s, h);
		soak_flows_on(r, h);
		busy |= soak_doomed_on(r, h);
		busy |= soak_udp_on(r, h);
	}
	for (int i = 0; i < r->r_nflows; i++) {
		struct soak_flow *sf = &r->r_flows[i];

		if (sf->sf_done || !soak_flow_done(r, sf))
			continue;
		sf->sf_done = true;
		sf->sf_f.f_tdone = s->now;
		r->r_maxflow_ns = MAX(r->r_maxflow_ns, s->now - sf->sf_tstart);
		r->r_flowsdone++;
	}
	return busy || r->r_flowsdone < r->r_nflows;
}

static void
soak_dump(struct sim *s, void *arg)
{
	struct soak_round *r = arg;
	int shown = 0;

	print_message("# flows done %d of %d\n", r->r_flowsdone, r->r_nflows);
	for (int i = 0; i < r->r_nflows && shown < 16; i++) {
		struct soak_flow *sf = &r->r_flows[i];
		struct sim_flow *f = &sf->sf_f;

		if (sf->sf_done)
			continue;
		shown++;
		print_message("# flow %d: host %d port %u -> host %d:%u, close "
		    "%d abort %d at %llu%s, started %d accepted %d; client "
		    "sent %llu of %llu, received %llu of %llu%s%s err %d; "
		    "server sent %llu of %llu, received %llu of %llu%s%s "
		    "err %d\n", i, f->f_cli, f->f_lport, f->f_srv,
		    r->r_groups[sf->sf_group].g_port, sf->sf_close,
		    sf->sf_abort, (unsigned long long)sf->sf_abort_at,
		    sf->sf_taborted != 0 ? " (done)" : "", sf->sf_started,
		    sf->sf_accepted, (unsigned long long)f->f_c.e_sent,
		    (unsigned long long)f->f_c.e_txtotal,
		    (unsigned long long)f->f_c.e_rcvd,
		    (unsigned long long)f->f_c.e_rxtotal,
		    f->f_c.e_shut ? ", shut" : "", f->f_c.e_eof ? ", EOF" : "",
		    f->f_c.e_err, (unsigned long long)f->f_s.e_sent,
		    (unsigned long long)f->f_s.e_txtotal,
		    (unsigned long long)f->f_s.e_rcvd,
		    (unsigned long long)f->f_s.e_rxtotal,
		    f->f_s.e_shut ? ", shut" : "", f->f_s.e_eof ? ", EOF" : "",
		    f->f_s.e_err);
		sim_as(s, f->f_cli);
		sim_print_tcp_info("client", f->f_c.e_fd);
		sim_as(s, f->f_srv);
		sim_print_tcp_info("server", f->f_s.e_fd);
	}
	for (int d = 0; d < r->r_ndoomed; d++) {
		print_message("# doomed %d: host %d port %u, %s\n", d,
		    r->r_doomed[d].d_host, r->r_doomed[d].d_port,
		    r->r_doomed[d].d_closed ? "closed" : "listening");
		for (int i = 0; i < r->r_doomed[d].d_n; i++) {
			struct soak_dclient *c = &r->r_doomed[d].d_c[i];

			if (c->c_done)
				continue;
			print_message("# doomed %d client %d (host %d): "
			    "started %d connected %d\n", d, i, c->c_host,
			    c->c_started, c->c_connected);
			sim_as(s, c->c_host);
			sim_print_tcp_info("doomed client", c->c_fd);
		}
	}
	for (int u = 0; u < r->r_nudp; u++) {
		struct soak_udp *ud = &r->r_udp[u];

		print_message("# udp %d: sent %d of %d, out %d, answered %d "
		    "lost %d\n", u, ud->u_next, ud->u_n, ud->u_out,
		    ud->u_answered, ud->u_lost);
	}
}

/* ---- the checks at the end ---- */

static void
soak_zero(struct sim *s, int h, const char *name)
{
	uint64_t v = sim_stat(s, h, name);

	if (v != 0) {
		print_error("soak: host %d: %s is %llu, not 0\n", h, name,
		    (unsigned long long)v);
		sim_dump(s);
		fail();
	}
}

/*
 * Counters no round may move: memory to spare (nobufs), a route and a
 * protocol for everything sent (noroute, noproto), no connection given
 * up on while its peer lives (timeoutdrop: retransmissions unanswered;
 * persistdrop), no embryo left (syncache) nor ever above the bound.
 * Without corruption, nothing malformed arrives: no bad checksum,
 * length, header or option anywhere.
 */
static const char *const soak_never[] = {
	"tcp.nobufs", "tcp.timeoutdrop", "tcp.persistdrop", "tcp.syncache",
	"udp.nobufs", "icmp.nobufs", "ip.noroute", "ip.noproto",
	"ip.odropped", "raw.delivered", "igmp.nobufs",
};

static const char *const soak_never_clean[] = {
	"tcp.rcvbadsum", "tcp.rcvbadoff", "tcp.rcvshort", "tcp.rcvbadopt",
	"ip.badsum", "ip.tooshort", "ip.toosmall", "ip.badhlen",
	"ip.badlen", "ip.badvers", "ip.badoptions", "udp.hdrops",
	"udp.badlen", "udp.badsum", "icmp.checksum",
	"icmp.tooshort", "icmp.badlen", "if.bus0.irunt", "if.bus0.inotus",
	"tcp.synfin", "tcp.urgdrop", "tcp.rcvoob", "igmp.rcvtooshort",
	"igmp.rcvbadsum", "igmp.rcvbadqueries", "igmp.rcvbadreports",
};

static void
soak_check(struct soak_round *r)
{
	struct sim *s = &r->r_sim;
	struct rump_bus_stats st;
	bool clean = r->r_bus.corrupt == 0;
	uint64_t fullsock = 0, iqdrops = 0;

	for (int h = 0; h < r->r_nhost; h++) {
		uint64_t closed = sim_stat(s, h, "tcp.closed");
		uint64_t opened = sim_stat(s, h, "tcp.connattempt") +
		    sim_stat(s, h, "tcp.accepts") + (uint64_t)r->r_nlisten[h];

		for (size_t i = 0; i < SOAK_NELEM(soak_never); i++)
			soak_zero(s, h, soak_never[i]);
		for (size_t i = 0; clean &&
		    i < SOAK_NELEM(soak_never_clean); i++)
			soak_zero(s, h, soak_never_clean[i]);
		assert_int_equal(sim_stat(s, h, "tcp.connattempt"),
		    r->r_nconnect[h]);
		/* every connection that opened closed, once */
		if (closed != opened)
			fail_msg("soak: host %d: tcp.closed %llu, connections "
			    "opened %llu (connattempt + accepts + listeners)",
			    h, (unsigned long long)closed,
			    (unsigned long long)opened);
		assert_true(sim_stat(s, h, "tcp.syncache_peak") <=
		    (uint64_t)r->r_host[h].h_syncache_limit);
		/*
		 * Every connection a cookie reset, a cookie that failed;
		 * every stray, one that was good
		 */
		assert_true((uint64_t)r->r_cookieresets[h] <=
		    sim_stat(s, h, "tcp.sc_failed"));
		assert_true((uint64_t)r->r_strays[h] <=
		    sim_stat(s, h, "tcp.sc_recvd"));
		fullsock += sim_stat(s, h, "udp.fullsock");
		iqdrops += sim_stat(s, h, "if.bus0.iqdrops");
	}
	/* UDP: intact always (checked as read), exactly once when clean */
	rump_bus_stats(s->bus, &st);
	for (int u = 0; u < r->r_nudp; u++) {
		struct soak_udp *ud = &r->r_udp[u];

		/* a group's server reported it on joining, and left it */
		if (ud->u_mcast) {
			assert_true(sim_stat(s, ud->u_srv,
			    "igmp.sndreports") > 0);
			assert_true(sim_stat(s, ud->u_srv,
			    "igmp.sndleaves") > 0);
		}
		assert_int_equal(ud->u_next, ud->u_n);
		assert_int_equal(ud->u_answered + ud->u_lost, ud->u_n);
		if (st.duplicated == 0)
			assert_int_equal(ud->u_dups, 0);
		if (st.lost == 0 && st.duplicated == 0 && st.corrupted == 0 &&
		    st.qdrops == 0 && st.ratedrops == 0 && fullsock == 0 &&
		    iqdrops == 0)
			assert_int_equal(ud->u_answered, ud->u_n);
	}
	/* a flow that was not aborted ended in full (sim_end_recv()) */
	for (int i = 0; i < r->r_nflows; i++) {
		struct soak_flow *sf = &r->r_flows[i];

		assert_true(sf->sf_done);
		if (sf->sf_abort == ABORT_NONE && !sf->sf_cookiereset) {
			assert_true(sf->sf_f.f_c.e_eof && sf->sf_f.f_s.e_eof);
			assert_int_equal(sf->sf_f.f_c.e_err, 0);
			assert_int_equal(sf->sf_f.f_s.e_err, 0);
		}
	}
}

/* ---- a round, from its seed ---- */

struct soak_result {
	uint64_t rs_conns, rs_bytes, rs_datagrams, rs_vtime, rs_real;
	uint64_t rs_drain;
};

static void
soak_tally(struct soak_round *r, struct soak_result *rs)
{
	for (int i = 0; i < r->r_nflows; i++) {
		struct sim_flow *f = &r->r_flows[i].sf_f;

		if (f->f_tconn != 0 || r->r_flows[i].sf_accepted)
			rs->rs_conns++;
		rs->rs_bytes += f->f_c.e_rcvd + f->f_s.e_rcvd;
	}
	rs->rs_conns += (uint64_t)r->r_dconnected;
	for (int u = 0; u < r->r_nudp; u++) {
		rs->rs_datagrams += (uint64_t)r->r_udp[u].u_answered;
		rs->rs_bytes += r->r_udp[u].u_bytes;
	}
}

static void
soak_round(struct soak_round *r, struct soak_result *rs)
{
	struct sim *s = &r->r_sim;
	uint64_t t0 = th_now_ns(), v0;

	memset(rs, 0, sizeof(*rs));
	soak_setup(r);
	v0 = s->now;
	sim_run(s, soak_pass, soak_dump, r, SOAK_LIMIT);
	rs->rs_vtime = s->now - v0;
	for (int g = 0; g < r->r_ngroups; g++)
		for (int h = 0; h < r->r_nhost; h++) {
			sim_as(s, h);
			assert_int_equal(rump_sys_close(
			    r->r_groups[g].g_lfd[h]), 0);
			r->r_groups[g].g_lfd[h] = -1;
		}
	for (int u = 0; u < r->r_nudp; u++) {
		sim_as(s, r->r_udp[u].u_srv);
		assert_int_equal(rump_sys_close(r->r_udp[u].u_sfd), 0);
		sim_as(s, r->r_udp[u].u_cli);
		assert_int_equal(rump_sys_close(r->r_udp[u].u_cfd), 0);
	}
	rs->rs_drain = sim_drain(s, SIM_DRAIN_MAX);
	soak_check(r);
	soak_tally(r, rs);
	sim_down(s);
	rs->rs_real = th_now_ns() - t0;
}

/* ---- main ---- */

static int
soak_sum(const int v[SIM_MAXHOST])
{
	int n = 0;

	for (int h = 0; h < SIM_MAXHOST; h++)
		n += v[h];
	return n;
}

static void
on_abort(int sig)
{
	static const char msg[] = "\nsoak: FAILED in round ";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)!write(STDERR_FILENO, current, strlen(current));
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [--seconds N] [--seed S] [--round R] "
	    "[--softint inline|threads|mixed]\n", progname);
}

static bool
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno == 0 && end != s && *end == '\0';
}

int
main(int argc, char **argv)
{
	static struct soak_round r;
	struct soak_totals t = { 0 };
	uint64_t seconds = 60, seed = 0, round_seed = 0, t0 = th_now_ns();
	uint64_t stream;		/* the rounds' seeds, drawn in turn */
	bool one = false, seeded = false;
	int softint = -1;

	progname = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (v == NULL) {
			usage(stderr);
			return 2;
		}
		i++;
		if (strcmp(a, "--seconds") == 0 && parse_u64(v, &seconds)) {
			continue;
		} else if (strcmp(a, "--seed") == 0 && parse_u64(v, &seed)) {
			seeded = true;
		} else if (strcmp(a, "--round") == 0 &&
		    parse_u64(v, &round_seed)) {
			one = true;
		} else if (strcmp(a, "--softint") == 0 &&
		    strcmp(v, "inline") == 0) {
			softint = RUMP_SOFTINT_INLINE;
		} else if (strcmp(a, "--softint") == 0 &&
		    strcmp(v, "threads") == 0) {
			softint = RUMP_SOFTINT_THREADS;
		} else if (strcmp(a, "--softint") == 0 &&
		    strcmp(v, "mixed") == 0) {
			softint = -1;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!seeded)
		seed = th_now_ns() ^ ((uint64_t)getpid() << 32);
	stream = seed;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* a failed check outside a cmocka test: its message, then abort */
	setenv("CMOCKA_TEST_ABORT", "1", 1);
	signal(SIGABRT, on_abort);
	if (one)
		printf("soak: the round of seed %#llx\n",
		    (unsigned long long)round_seed);
	else
		printf("soak: seed %#llx, %llu s (replay: %s --seed %#llx "
		    "--seconds %llu)\n", (unsigned long long)seed,
		    (unsigned long long)seconds, progname,
		    (unsigned long long)seed, (unsigned long long)seconds);

	for (unsigned n = 1; ; n++) {
		struct soak_result rs;
		uint64_t rseed = round_seed;
		char desc[768];

		if (!one) {
			if ((th_now_ns() - t0) / SOAK_SEC >= seconds)
				break;
			rseed = rnd(&stream);
		}
		soak_draw(&r, rseed, softint);
		soak_describe(&r, desc, sizeof(desc));
		snprintf(current, sizeof(current), "%u, %s\nsoak: replay with "
		    "%s --round %#llx%s\n", n, desc, progname,
		    (unsigned long long)rseed, softint < 0 ? "" :
		    softint == RUMP_SOFTINT_THREADS ? " --softint threads" :
		    " --softint inline");
		printf("round %u %s", n, desc);
		fflush(stdout);
		soak_round(&r, &rs);
		printf(" -> ok: %llu conns (%d aborted, %d reset by cookies, "
		    "%d strays, %d resets seen, %d gave up, %d never accepted; "
		    "%d refused), %.1f MB and %llu datagrams checked, longest "
		    "flow %.1f s, %.1f s virtual + %.0f s drain, %.1f s real\n",
		    (unsigned long long)rs.rs_conns, r.r_aborts,
		    soak_sum(r.r_cookieresets), soak_sum(r.r_strays),
		    r.r_resets, r.r_gaveup, r.r_unaccepted, r.r_drefused,
		    (double)rs.rs_bytes / SIM_MB,
		    (unsigned long long)rs.rs_datagrams,
		    (double)r.r_maxflow_ns / 1e9, (double)rs.rs_vtime / 1e9,
		    (double)rs.rs_drain / 1e9, (double)rs.rs_real / 1e9);
		t.t_rounds++;
		t.t_threads += r.r_mode == RUMP_SOFTINT_THREADS;
		t.t_flows += (uint64_t)r.r_nflows;
		t.t_conns += rs.rs_conns;
		t.t_aborts += (uint64_t)r.r_aborts;
		for (int d = 0; d < r.r_ndoomed; d++)
			t.t_doomed += (uint64_t)r.r_doomed[d].d_n;
		t.t_datagrams += rs.rs_datagrams;
		t.t_bytes += rs.rs_bytes;
		t.t_vtime += rs.rs_vtime + rs.rs_drain;
		if (one)
			break;
	}
	printf("soak: %u rounds passed (%u in the threads mode) in %.0f s: "
	    "%llu connections (%llu flows, %llu aborted, %llu to closed "
	    "listeners), %llu datagrams, %.1f MB checked, %.0f s of virtual "
	    "time\n", t.t_rounds, t.t_threads,
	    (double)(th_now_ns() - t0) / 1e9, (unsigned long long)t.t_conns,
	    (unsigned long long)t.t_flows, (unsigned long long)t.t_aborts,
	    (unsigned long long)t.t_doomed,
	    (unsigned long long)t.t_datagrams, (double)t.t_bytes / SIM_MB,
	    (double)t.t_vtime / 1e9);
	return 0;
}
