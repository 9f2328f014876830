/*
 * test_conns.c -- many short TCP connections between two instances on a
 * bus with virtual clocks (sim.h): 10,000 connections, each a
 * connect(), a 64-byte request, a 256-byte response and the closes, up to
 * 128 at a time: the client closing first (TIME-WAIT on the client), or
 * the server (TIME-WAIT on the server, the accepting side); the same with
 * loss, duplication and reordering, where SYNs, FINs and their ACKs get
 * lost; and with a third of the clients aborting (SO_LINGER 0: a reset)
 * right after their request.  Every connection is accounted for on both
 * sides and in the counters, and once TIME-WAIT has run out (2 MSL, 60 s
 * of virtual time) nothing is left: no TCP connection, socket or mbuf.
 *
 * Needs no root, no DPDK, no network namespace.
 */
#define _DEFAULT_SOURCE	/* struct tcp_info */
#include <arpa/inet.h>
#include <errno.h>

#include "../unit/harness.h"
#include "../packet/pkt.h"
#include "sim.h"

#define PORT 8080
#define REQ_LEN 64
#define RESP_LEN 256
#define CONCURRENT 128
#define NCONNS 10000

enum { CC_CONNECTING, CC_WAITING, CC_DONE };
enum { SC_READING, SC_CLOSING, SC_DONE };

/* the client's end of connection c_id */
struct cconn {
	int c_fd;
	int c_state;			/* CC_* */
	size_t c_got;			/* response bytes so far */
	bool c_checked;			/* the response was compared */
	uint8_t c_buf[RESP_LEN];
};

/* a server end, matched to its connection by the id in the request */
struct sconn {
	int s_fd;
	int s_state;			/* SC_* */
	size_t s_got;			/* request bytes so far */
	uint8_t s_buf[REQ_LEN];
};

struct crr {
	int nconns;			/* to make */
	bool server_first;		/* the server closes first */
	int abort_every;		/* the client of every n-th resets */
	int started, cdone, sdone;	/* connections opened and finished */
	int active;			/* client ends open */
	int aborted, resets;		/* client aborts; server ends reset */
	int lfd;
	struct cconn *c;		/* [nconns] */
	struct sconn *sv;		/* open server ends, in accept order */
	int nsv;
	bool *served;			/* [nconns]: the server saw its request */
};

static bool
crr_aborts(const struct crr *c, uint32_t id)
{
	return c->abort_every != 0 && id % (uint32_t)c->abort_every == 1;
}

/* request and response of connection id: the id, then the pattern */
static void
crr_msg(uint32_t id, bool resp, uint8_t *buf, size_t len)
{
	memcpy(buf, &id, 4);
	memcpy(buf + 4, sim_pat_at((uint64_t)id * 977 + (resp ? 4099 : 0), 0),
	    len - 4);
}

static void
crr_client_done(struct crr *c, struct cconn *cc)
{
	assert_int_equal(rump_sys_close(cc->c_fd), 0);
	cc->c_fd = -1;
	cc->c_state = CC_DONE;
	c->cdone++;
	c->active--;
}

/*
 * Read the response and check it; then, when the server closes first,
 * wait for its FIN.  True when the client may close.
 */
static bool
crr_client_read(struct crr *c, struct cconn *cc, uint32_t id)
{
	uint8_t want[RESP_LEN];
	ssize_t r;

	while (cc->c_got < RESP_LEN) {
		r = rump_sys_recv(cc->c_fd, cc->c_buf + cc->c_got,
		    RESP_LEN - cc->c_got, 0);
		if (r < 0) {
			assert_int_equal(errno, EAGAIN);
			return false;
		}
		assert_true(r > 0);
		cc->c_got += (size_t)r;
	}
	if (!cc->c_checked) {
		crr_msg(id, true, want, RESP_LEN);
		assert_memory_equal(cc->c_buf, want, RESP_LEN);
		cc->c_checked = true;
	}
	if (!c->server_first)
		return true;
	if ((r = rump_sys_recv(cc->c_fd, want, sizeof(want), 0)) < 0) {
		assert_int_equal(errno, EAGAIN);
		return false;
	}
	assert_int_equal(r, 0);		/* nothing after the response */
	return true;
}

/* the client ends: open new connections, send requests, read responses */
static void
crr_clients(struct sim *s, struct crr *c)
{
	const struct linger abort = { .l_onoff = 1, .l_linger = 0 };

	sim_as(s, 0);
	for (int id = 0; id < c->started; id++) {
		struct cconn *cc = &c->c[id];
		uint8_t req[REQ_LEN];

		switch (cc->c_state) {
		case CC_CONNECTING:
			if (!sim_connected(cc->c_fd))
				break;
			crr_msg((uint32_t)id, false, req, REQ_LEN);
			assert_int_equal(rump_sys_send(cc->c_fd, req, REQ_LEN,
			    0), REQ_LEN);
			cc->c_state = CC_WAITING;
			if (crr_aborts(c, (uint32_t)id)) {
				/* RFC 9293 3.10.5 ABORT: a reset, no wait */
				assert_int_equal(rump_sys_setsockopt(cc->c_fd,
				    SOL_SOCKET, SO_LINGER, &abort,
				    sizeof(abort)), 0);
				crr_client_done(c, cc);
				c->aborted++;
				break;
			}
			/* FALLTHROUGH */
		case CC_WAITING:
			if (crr_client_read(c, cc, (uint32_t)id))
				crr_client_done(c, cc);
			break;
		default:
			break;
		}
	}
	while (c->active < CONCURRENT && c->started < c->nconns) {
		struct cconn *cc = &c->c[c->started++];
		uint16_t lport;

		cc->c_fd = sim_connect(s, 0, 1, PORT, 0, 0, &lport);
		cc->c_state = CC_CONNECTING;
		c->active++;
	}
}

/*
 * When clients abort, a lost reset leaves the server's end of the
 * connection open with nothing to send: half-open, as TCP has it.
 * Keepalive finds those out: after 5 s of silence a probe, which the
 * client's host answers with a reset (no such connection), or after
 * three unanswered probes a second apart the connection is dropped.
 */
static void
crr_keepalive(int fd)
{
	int on = 1, idle = 5, intvl = 1, cnt = 3;

	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on,
	    sizeof(on)), 0);
	assert_int_equal(rump_sys_setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE,
	    &idle, sizeof(idle)), 0);
	assert_int_equal(rump_sys_setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL,
	    &intvl, sizeof(intvl)), 0);
	assert_int_equal(rump_sys_setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT,
	    &cnt, sizeof(cnt)), 0);
}

/*
 * A server end's socket call failed with err: a reset (or, from
 * keepalive, a timeout) is expected only when clients abort (the request
 * may have been read or not).
 */
static void
crr_server_reset(struct crr *c, struct sconn *sc, int err)
{
	if (err != ECONNRESET && err != EPIPE && err != ETIMEDOUT)
		print_error("sim: server end: %s\n", strerror(err));
	assert_true(err == ECONNRESET || err == EPIPE || err == ETIMEDOUT);
	assert_true(c->abort_every != 0);
	c->resets++;
	sc->s_state = SC_DONE;
}

/* read the request, check it, answer: SC_CLOSING or SC_DONE on a reset */
static void
crr_server_request(struct crr *c, struct sconn *sc)
{
	uint8_t want[RESP_LEN];
	uint32_t id;
	ssize_t r;

	while (sc->s_got < REQ_LEN) {
		r = rump_sys_recv(sc->s_fd, sc->s_buf + sc->s_got,
		    REQ_LEN - sc->s_got, 0);
		if (r < 0 && errno == EAGAIN)
			return;
		if (r < 0) {
			crr_server_reset(c, sc, errno);
			return;
		}
		assert_true(r > 0);
		sc->s_got += (size_t)r;
	}
	memcpy(&id, sc->s_buf, 4);
	assert_true(id < (uint32_t)c->nconns);
	assert_false(c->served[id]);
	c->served[id] = true;
	crr_msg(id, false, want, REQ_LEN);
	assert_memory_equal(sc->s_buf, want, REQ_LEN);
	crr_msg(id, true, want, RESP_LEN);
	r = rump_sys_send(sc->s_fd, want, RESP_LEN, 0);
	if (r < 0) {
		assert_true(crr_aborts(c, id));
		crr_server_reset(c, sc, errno);
		return;
	}
	assert_int_equal(r, RESP_LEN);
	sc->s_state = c->server_first ? SC_DONE : SC_CLOSING;
}

/* the server ends: accept, read requests, answer, close at EOF */
static void
crr_servers(struct sim *s, struct crr *c)
{
	int n = 0;

	sim_as(s, 1);
	for (;;) {
		int fd = rump_sys_accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK);

		if (fd < 0) {
			assert_int_equal(errno, EAGAIN);
			break;
		}
		assert_true(c->nsv < c->nconns);
		if (c->abort_every != 0)
			crr_keepalive(fd);
		memset(&c->sv[c->nsv], 0, sizeof(c->sv[0]));
		c->sv[c->nsv].s_fd = fd;
		c->sv[c->nsv].s_state = SC_READING;
		c->nsv++;
	}
	for (int i = 0; i < c->nsv; i++) {
		struct sconn *sc = &c->sv[i];
		uint8_t buf[16];
		ssize_t r;

		if (sc->s_state == SC_READING)
			crr_server_request(c, sc);
		if (sc->s_state == SC_CLOSING) {
			r = rump_sys_recv(sc->s_fd, buf, sizeof(buf), 0);
			if (r == 0)
				sc->s_state = SC_DONE;	/* the client's FIN */
			else if (r > 0)
				fail_msg("data after the request");
			else if (errno != EAGAIN)
				crr_server_reset(c, sc, errno);
		}
		if (sc->s_state == SC_DONE) {
			assert_int_equal(rump_sys_close(sc->s_fd), 0);
			c->sdone++;
		} else {
			c->sv[n++] = *sc;	/* still open: keep it */
		}
	}
	c->nsv = n;
}

/*
 * Done when every client is done, no server end is open and every
 * connection that was not aborted was served.  (An aborted connection
 * may never reach accept(): its reset can come while it waits in the
 * listen queue, which closing the listener then empties.)
 */
static bool
crr_pass(struct sim *s, void *arg)
{
	struct crr *c = arg;

	crr_clients(s, c);
	crr_servers(s, c);
	if (c->cdone < c->nconns || c->nsv > 0)
		return true;
	for (int id = 0; id < c->nconns; id++)
		if (!c->served[id] && !crr_aborts(c, (uint32_t)id))
			return true;
	return false;
}

static void
crr_dump(struct sim *s, void *arg)
{
	struct crr *c = arg;
	int shown = 0;

	print_message("# started %d, clients done %d, servers done %d, "
	    "server ends open %d\n", c->started, c->cdone, c->sdone, c->nsv);
	for (int id = 0; id < c->started && shown < 8; id++) {
		char what[48];

		if (c->c[id].c_state == CC_DONE)
			continue;
		snprintf(what, sizeof(what), "connection %d client (state %d)",
		    id, c->c[id].c_state);
		sim_as(s, 0);
		sim_print_tcp_info(what, c->c[id].c_fd);
		shown++;
	}
	for (int i = 0; i < c->nsv && i < 8; i++) {
		char what[48];

		snprintf(what, sizeof(what), "server end %d (state %d)", i,
		    c->sv[i].s_state);
		sim_as(s, 1);
		sim_print_tcp_info(what, c->sv[i].s_fd);
	}
}

static void
crr_report(struct sim *s, const char *name, const struct crr *c,
    uint64_t vt, uint64_t real)
{
	print_message("# %s: %d connections in %.3f s virtual, %.2f s real "
	    "(%llu ticks, %llu idle, %llu settles, %llu spins)\n", name,
	    c->nconns, (double)vt / 1e9, (double)real / 1e9,
	    (unsigned long long)s->ticks, (unsigned long long)s->idle_ticks,
	    (unsigned long long)s->settles, (unsigned long long)s->spins);
	print_message("#   tcp: sndrexmitpack %llu rexmttimeo %llu rcvduppack "
	    "%llu rcvrst %llu/%llu sndrst %llu/%llu; aborted %d, server ends "
	    "reset %d; tcpcbs left %llu/%llu\n",
	    (unsigned long long)sim_stat_sum(s, "tcp.sndrexmitpack"),
	    (unsigned long long)sim_stat_sum(s, "tcp.rexmttimeo"),
	    (unsigned long long)sim_stat_sum(s, "tcp.rcvduppack"),
	    (unsigned long long)sim_stat(s, 0, "tcp.rcvrst"),
	    (unsigned long long)sim_stat(s, 1, "tcp.rcvrst"),
	    (unsigned long long)sim_stat(s, 0, "tcp.sndrst"),
	    (unsigned long long)sim_stat(s, 1, "tcp.sndrst"),
	    c->aborted, c->resets,
	    (unsigned long long)sim_pool_out(s, 0, "tcpcb"),
	    (unsigned long long)sim_pool_out(s, 1, "tcpcb"));
}

/*
 * The counters after the run: every connection once on each side, none
 * dropped by TCP itself; what the aborts did.
 */
static void
crr_check_counters(struct sim *s, const struct crr *c)
{
	for (int id = 0; id < c->nconns; id++) {
		assert_int_equal(c->c[id].c_state, CC_DONE);
		assert_true(c->served[id] || crr_aborts(c, (uint32_t)id));
	}
	assert_int_equal(sim_stat(s, 0, "tcp.connattempt"), c->nconns);
	assert_int_equal(sim_stat(s, 0, "tcp.connects"), c->nconns);
	assert_int_equal(sim_stat_sum(s, "tcp.timeoutdrop"), 0);
	if (c->abort_every == 0) {
		assert_int_equal(sim_stat_sum(s, "tcp.conndrops"), 0);
		assert_int_equal(sim_stat(s, 1, "tcp.connects"), c->nconns);
		assert_int_equal(sim_stat_sum(s, "tcp.drops"), 0);
		return;
	}
	/*
	 * An abort is a drop with a reset (RFC 9293 3.10.5).  With loss,
	 * the reset can reach the server's end while it is still in
	 * SYN-RECEIVED (the handshake's last ACK and the request lost):
	 * that embryo goes (3.10.7.4), counted as a connection drop.
	 */
	assert_true(sim_stat(s, 0, "tcp.conndrops") == 0);
	assert_true(sim_stat(s, 1, "tcp.conndrops") <= (uint64_t)c->aborted);
	assert_int_equal(c->aborted, (c->nconns + c->abort_every - 2) /
	    c->abort_every);
	assert_int_equal(sim_stat(s, 0, "tcp.drops"), c->aborted);
	assert_true(sim_stat(s, 0, "tcp.sndrst") >= (uint64_t)c->aborted);
	assert_true(c->resets <= c->aborted);
}

static void
crr_run(const char *name, const struct rump_bus_config *cfg,
    bool server_first, int abort_every)
{
	struct sim s;
	struct crr c;
	uint64_t t0, vt;
	int tw = server_first ? 1 : 0;	/* the host in TIME-WAIT */

	memset(&c, 0, sizeof(c));
	c.nconns = NCONNS;
	c.server_first = server_first;
	c.abort_every = abort_every;
	c.c = calloc(NCONNS, sizeof(*c.c));
	c.sv = calloc(NCONNS, sizeof(*c.sv));
	c.served = calloc(NCONNS, sizeof(*c.served));
	assert_non_null(c.c);
	assert_non_null(c.sv);
	assert_non_null(c.served);
	sim_up(&s, 2, cfg);
	c.lfd = sim_listen(&s, 1, PORT, 0, 0);
	t0 = th_now_ns();
	vt = s.now;
	sim_run(&s, crr_pass, crr_dump, &c, 600ull * 1000 * SIM_MS);
	crr_report(&s, name, &c, s.now - vt, th_now_ns() - t0);
	/* connections still in the listen queue go with the listener */
	sim_as(&s, 1);
	assert_int_equal(rump_sys_close(c.lfd), 0);
	crr_check_counters(&s, &c);
	/*
	 * The last closes complete (final ACKs, FINs sent again).  Without
	 * loss or duplication the side that closed first then holds every
	 * connection in TIME-WAIT (the run took less than 2 MSL) but the
	 * aborted ones, the other side none.  With duplication some go
	 * early: the duplicate of the last ACK reaches the server after its
	 * connection closed, the listener answers with a reset, and that
	 * reset, at the right sequence number, closes the client's
	 * TIME-WAIT (RFC 9293 3.10.7.4; RFC 1337 would keep it).  Then
	 * TIME-WAIT runs out and nothing is left, and every TCP connection
	 * that was made was closed once: on the server, every SYN accepted
	 * (tcp.accepts) and the listener.
	 */
	sim_wait(&s, 1000 * SIM_MS, SIM_TICK);
	if (cfg->duplicate == 0 && cfg->loss == 0) {
		assert_int_equal(sim_pool_out(&s, 1 - tw, "tcpcb"), 0);
		assert_int_equal(sim_pool_out(&s, tw, "tcpcb"),
		    c.nconns - c.aborted);
	}
	(void)sim_drain(&s, SIM_DRAIN_MAX);
	assert_int_equal(sim_stat(&s, 0, "tcp.closed"), c.nconns);
	assert_int_equal(sim_stat(&s, 1, "tcp.closed"),
	    sim_stat(&s, 1, "tcp.accepts") + 1);
	sim_down(&s);
	free(c.c);
	free(c.sv);
	free(c.served);
}

static void
test_conns_10000(void **state)
{
	struct rump_bus_config cfg;

	(void)state;
	sim_bus_config(&cfg, 31);
	crr_run("10,000 connections, client closes first", &cfg, false, 0);
	sim_bus_config(&cfg, 33);
	crr_run("10,000 connections, server closes first", &cfg, true, 0);
}

/*
 * 10,000 connections over a link that loses 3%, duplicates 1% and
 * reorders 1% of the frames: handshakes and closes go through their
 * retransmissions (SYN, SYN-ACK, FIN, the last ACK).
 */
static void
test_conns_lossy(void **state)
{
	struct rump_bus_config cfg;

	(void)state;
	sim_bus_config(&cfg, 32);
	cfg.loss = 0.03;
	cfg.duplicate = 0.01;
	cfg.reorder = 0.01;
	cfg.reorder_ns = 3 * SIM_MS;
	crr_run("10,000 connections, lossy", &cfg, false, 0);
}

/*
 * 10,000 connections, every third client aborting (SO_LINGER 0: close()
 * sends a reset) right after its request: the server end finds the reset
 * before or after it read the request, while it answers or while it
 * waits for the FIN, or never sees the connection at all when the reset
 * comes while it waits in the listen queue.  Clean, then lossy.
 */
static void
test_conns_aborts(void **state)
{
	struct rump_bus_config cfg;

	(void)state;
	sim_bus_config(&cfg, 34);
	crr_run("10,000 connections, a third reset", &cfg, false, 3);
	cfg.loss = 0.02;
	cfg.duplicate = 0.01;
	crr_run("10,000 connections, a third reset, lossy", &cfg, false, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conns_10000),
		cmocka_unit_test(test_conns_lossy),
		cmocka_unit_test(test_conns_aborts),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
