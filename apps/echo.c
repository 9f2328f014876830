/*
 * rumpnet-echo -- a TCP and UDP echo server (RFC 862) on a rumpnet
 * instance over a DPDK port.
 *
 * One thread, bound to the instance, runs a kqueue loop:
 *
 *   main() -> echo_loop() -> rump_sys_kevent()
 *       listener readable  -> echo_accept(): accept4(SOCK_NONBLOCK) until
 *                             EAGAIN
 *       UDP readable       -> echo_udp(): each datagram back to its sender
 *       connection readable -> echo_read(): recv, send back; what the
 *                             send buffer did not take stays in the
 *                             connection's buffer, reading stops
 *                             (EVFILT_READ disabled) and EVFILT_WRITE
 *                             waits for room -> echo_write()
 *
 * A connection whose peer sent FIN gets the rest of its data echoed, then
 * is closed.  Closed connections are freed after the batch of events, so
 * a later event of the same batch never sees freed memory.
 *
 * With --fibers the same server is written as blocking code instead: an
 * accepting fiber, a UDP fiber and a fiber per connection, on the thread
 * that also runs the DPDK poll loop as a fiber (echo_fibers()).
 *
 * SIGINT and SIGTERM (or --duration) stop the loop; the counters of the
 * interface, IP, TCP and UDP are printed on exit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "common.h"
#include "util.h"
#include "rumpnet/event.h"
#include "rumpnet/socket.h"

#define ECHO_BUF	(64 * 1024)	/* per connection */
#define ECHO_EVENTS	128
#define ECHO_BATCH	16		/* reads per event before yielding */
#define ECHO_WAIT_MS	100		/* kevent timeout: signals, --duration */
#define ECHO_MAX_JOIN	8		/* --join groups */

struct echo_opts {
	uint16_t tcp_port;		/* 0: no TCP */
	uint16_t udp_port;		/* 0: no UDP */
	struct in_addr join[ECHO_MAX_JOIN];	/* --join: multicast groups */
	unsigned njoin;
	double duration;		/* 0: until a signal */
	bool quiet;
	unsigned fastopen;		/* --fastopen: TCP_FASTOPEN, 0: off */
};

struct echo_conn {
	int ec_fd;
	bool ec_closed;			/* closed, freed after the batch */
	bool ec_writing;		/* waiting for EVFILT_WRITE */
	size_t ec_off, ec_len;		/* unsent: ec_buf[ec_off..ec_len) */
	uint64_t ec_bytes;		/* echoed */
	LIST_ENTRY(echo_conn) ec_live;
	SLIST_ENTRY(echo_conn) ec_dead;
	char ec_buf[ECHO_BUF];
};

struct echo_server {
	int es_kq;
	int es_lfd, es_ufd;		/* -1: off */
	bool es_paused;			/* listener off: no descriptor left */
	LIST_HEAD(, echo_conn) es_live;	/* open connections */
	SLIST_HEAD(, echo_conn) es_dead;	/* closed in this batch */
	uint64_t es_accepted, es_open, es_closed, es_resets;
	uint64_t es_tcp_bytes, es_udp_dgrams, es_udp_bytes, es_udp_drops;
	uint64_t es_udp_loops;		/* from a port that would echo back */
	uint16_t es_uport;		/* our UDP port, host order */
	bool es_quiet;
};

/* udata of the two server sockets' events */
static char tag_listener, tag_udp;

static const char echo_usage[] =
"usage: rumpnet-echo --addr A.B.C.D/N [options]\n"
"TCP and UDP echo server (RFC 862) on a rumpnet instance over DPDK.\n"
"  --tcp-port N          TCP port to echo on (default 7; 0: no TCP)\n"
"  --udp-port N          UDP port to echo on (default 7; 0: no UDP)\n"
"                        (--port is the DPDK port of the network options)\n"
"  --join GROUP          echo UDP sent to multicast GROUP too (joined on the\n"
"                        interface of --addr; up to 8)\n"
"  --fastopen N          TCP Fast Open (RFC 7413): take up to N connections\n"
"                        on a cookie before their handshake completes\n"
"  --duration S          stop after S seconds (default: at SIGINT/SIGTERM)\n"
"  --quiet               no line per connection\n"
"  --help\n";

static void
conn_close(struct echo_server *es, struct echo_conn *c, const char *why)
{
	if (c->ec_closed)
		return;
	if (!es->es_quiet)
		printf("rumpnet-echo: connection %d closed (%s), %llu bytes "
		    "echoed\n", c->ec_fd, why, (unsigned long long)c->ec_bytes);
	rump_sys_close(c->ec_fd);
	c->ec_closed = true;
	LIST_REMOVE(c, ec_live);
	SLIST_INSERT_HEAD(&es->es_dead, c, ec_dead);
	es->es_open--;
	es->es_closed++;
	if (es->es_paused && util_kq_set(es->es_kq, es->es_lfd, EVFILT_READ,
	    EV_ENABLE, &tag_listener) == 0)
		es->es_paused = false;
}

/*
 * Switch between reading (EVFILT_READ on, EVFILT_WRITE off) and flushing
 * what the send buffer did not take (the other way round).
 */
static int
conn_wait_write(struct echo_server *es, struct echo_conn *c, bool on)
{
	if (c->ec_writing == on)
		return 0;
	c->ec_writing = on;
	if (util_kq_set(es->es_kq, c->ec_fd, EVFILT_WRITE,
	    on ? EV_ENABLE : EV_DISABLE, c) != 0 ||
	    util_kq_set(es->es_kq, c->ec_fd, EVFILT_READ,
	    on ? EV_DISABLE : EV_ENABLE, c) != 0)
		return -1;
	return 0;
}

/* Send what is pending.  0: all of it went; 1: some is left; -1: error. */
static int
conn_flush(struct echo_server *es, struct echo_conn *c)
{
	while (c->ec_off < c->ec_len) {
		ssize_t n = rump_sys_send(c->ec_fd, c->ec_buf + c->ec_off,
		    c->ec_len - c->ec_off, 0);

		if (n < 0) {
			if (errno == EAGAIN)
				return 1;
			es->es_resets++;
			return -1;
		}
		c->ec_off += (size_t)n;
		c->ec_bytes += (uint64_t)n;
		es->es_tcp_bytes += (uint64_t)n;
	}
	c->ec_off = c->ec_len = 0;
	return 0;
}

static void
echo_write(struct echo_server *es, struct echo_conn *c)
{
	int rv = conn_flush(es, c);

	if (rv < 0)
		conn_close(es, c, strerror(errno));
	else if (rv == 0 && conn_wait_write(es, c, false) != 0)
		conn_close(es, c, "kevent");
}

static void
echo_read(struct echo_server *es, struct echo_conn *c)
{
	for (int i = 0; i < ECHO_BATCH; i++) {
		ssize_t n = rump_sys_recv(c->ec_fd, c->ec_buf, ECHO_BUF, 0);
		int rv;

		if (n == 0) {
			conn_close(es, c, "EOF");
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN) {
				es->es_resets++;
				conn_close(es, c, strerror(errno));
			}
			return;
		}
		c->ec_off = 0;
		c->ec_len = (size_t)n;
		if ((rv = conn_flush(es, c)) < 0) {
			conn_close(es, c, strerror(errno));
			return;
		}
		if (rv > 0) {
			/* the peer reads slower than it writes: wait for it */
			if (conn_wait_write(es, c, true) != 0)
				conn_close(es, c, "kevent");
			return;
		}
	}
}

static void
echo_accept(struct echo_server *es)
{
	for (int i = 0; i < ECHO_EVENTS; i++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		struct echo_conn *c;
		int fd;

		fd = rump_sys_accept4(es->es_lfd, (struct sockaddr *)&peer,
		    &plen, SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE && util_kq_set(es->es_kq,
			    es->es_lfd, EVFILT_READ, EV_DISABLE,
			    &tag_listener) == 0) {
				/* connections wait in the queue meanwhile */
				fprintf(stderr, "rumpnet-echo: out of "
				    "descriptors at %llu connections; not "
				    "accepting until one closes\n",
				    (unsigned long long)es->es_open);
				es->es_paused = true;
			} else if (errno != EAGAIN && errno != ECONNABORTED) {
				perror("rumpnet-echo: accept");
			}
			return;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			fprintf(stderr, "rumpnet-echo: out of memory\n");
			rump_sys_close(fd);
			return;
		}
		c->ec_fd = fd;
		if (util_kq_set(es->es_kq, fd, EVFILT_READ, EV_ADD, c) != 0 ||
		    util_kq_set(es->es_kq, fd, EVFILT_WRITE,
		    EV_ADD | EV_DISABLE, c) != 0) {
			perror("rumpnet-echo: kevent");
			rump_sys_close(fd);
			free(c);
			continue;
		}
		es->es_accepted++;
		es->es_open++;
		LIST_INSERT_HEAD(&es->es_live, c, ec_live);
		if (!es->es_quiet) {
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &peer.sin_addr, a, sizeof(a));
			printf("rumpnet-echo: connection %d from %s:%u\n", fd,
			    a, ntohs(peer.sin_port));
		}
	}
}

/*
 * A datagram that another echo-like service sent (echo, daytime, chargen,
 * time: the ports inetd's check_loop() refuses), or one from our own
 * port, would be echoed back and forth for ever (a forged source does
 * that on purpose): not answered.  Port 0 cannot be answered.
 */
static bool
echo_udp_loops(const struct echo_server *es, const struct sockaddr_in *from)
{
	uint16_t p = ntohs(from->sin_port);

	return p == 0 || p == 7 || p == 13 || p == 19 || p == 37 ||
	    p == es->es_uport;
}

/* Echo one datagram back to from; counted. */
static void
echo_udp_one(struct echo_server *es, const char *buf, ssize_t n,
    const struct sockaddr_in *from, socklen_t flen)
{
	if (echo_udp_loops(es, from)) {
		es->es_udp_loops++;
		return;
	}
	if (rump_sys_sendto(es->es_ufd, buf, (size_t)n, 0,
	    (const struct sockaddr *)from, flen) != n) {
		es->es_udp_drops++;	/* no room or no route: drop */
		return;
	}
	es->es_udp_dgrams++;
	es->es_udp_bytes += (uint64_t)n;
}

static void
echo_udp(struct echo_server *es)
{
	/* each instance's thread its own (--cores) */
	static _Thread_local char buf[65536];

	for (int i = 0; i < ECHO_EVENTS; i++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n;

		n = rump_sys_recvfrom(es->es_ufd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno != EAGAIN)
				perror("rumpnet-echo: UDP recvfrom");
			return;
		}
		echo_udp_one(es, buf, n, &from, flen);
	}
}

static void
echo_event(struct echo_server *es, const struct kevent *ev)
{
	struct echo_conn *c = ev->udata;

	if (ev->udata == &tag_listener) {
		echo_accept(es);
		return;
	}
	if (ev->udata == &tag_udp) {
		echo_udp(es);
		return;
	}
	if (c->ec_closed)
		return;
	/*
	 * Reading stops while data waits to be sent, so EOF is only ever
	 * read with nothing left to echo: the connection closes at once.
	 */
	if (ev->filter == EVFILT_WRITE)
		echo_write(es, c);
	else
		echo_read(es, c);
}

static void
echo_free_dead(struct echo_server *es)
{
	struct echo_conn *c;

	while ((c = SLIST_FIRST(&es->es_dead)) != NULL) {
		SLIST_REMOVE_HEAD(&es->es_dead, ec_dead);
		free(c);
	}
}

static int
echo_loop(struct echo_server *es, uint64_t deadline)
{
	struct kevent evs[ECHO_EVENTS];
	const struct timespec ts = { 0, ECHO_WAIT_MS * 1000000L };

	while (!util_expired(deadline)) {
		int n = rump_sys_kevent(es->es_kq, NULL, 0, evs, ECHO_EVENTS,
		    &ts);

		if (n < 0) {
			perror("rumpnet-echo: kevent");
			return -1;
		}
		for (int i = 0; i < n; i++)
			echo_event(es, &evs[i]);
		echo_free_dead(es);
	}
	return 0;
}

/*
 * ---- --fibers: blocking code, a fiber per connection ----
 *
 * Every socket has a receive timeout of ECHO_WAIT_MS, so each fiber looks
 * at the stop flag that often; a blocking call parks only its own fiber.
 */

struct echo_fibers {
	struct echo_server *ef_es;
	struct rump_kernel *ef_k;
	uint64_t ef_deadline;
};

static __thread struct echo_fibers efib;	/* per instance thread */

/* Blocking with a timeout of ECHO_WAIT_MS: 0 or -1. */
static int
fib_blocking(int fd)
{
	struct timeval tv = { 0, ECHO_WAIT_MS * 1000 };

	if (rump_sys_fcntl(fd, F_SETFL, 0) != 0)
		return -1;
	return rump_sys_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv));
}

static void
fib_conn(void *arg)
{
	struct echo_server *es = efib.ef_es;
	int fd = (int)(intptr_t)arg;
	char *buf = malloc(ECHO_BUF);
	const char *why = "EOF";
	uint64_t bytes = 0;
	ssize_t n;

	if (buf == NULL)
		why = "out of memory";
	while (buf != NULL) {
		if ((n = rump_sys_recv(fd, buf, ECHO_BUF, 0)) == 0)
			break;
		if (n < 0) {
			if ((errno == EAGAIN || errno == EINTR) &&
			    !util_expired(efib.ef_deadline))
				continue;
			why = util_stop ? "stopping" : strerror(errno);
			break;
		}
		for (ssize_t off = 0, m; off < n; off += m)
			if ((m = rump_sys_send(fd, buf + off,
			    (size_t)(n - off), 0)) < 0) {
				why = strerror(errno);
				goto out;
			}
		bytes += (uint64_t)n;
	}
out:
	if (!es->es_quiet)
		printf("rumpnet-echo: connection %d closed (%s), %llu bytes "
		    "echoed\n", fd, why, (unsigned long long)bytes);
	rump_sys_close(fd);
	free(buf);
	es->es_tcp_bytes += bytes;	/* one thread: no lock */
	es->es_open--;
	es->es_closed++;
}

static void
fib_accept(void *arg)
{
	struct echo_server *es = arg;

	while (!util_expired(efib.ef_deadline)) {
		int fd = rump_sys_accept(es->es_lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EMFILE) {
				/* connections wait in the queue meanwhile */
				rump_fiber_yield();
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED) {
				perror("rumpnet-echo: accept");
				return;
			}
			continue;
		}
		if (fib_blocking(fd) != 0 ||
		    rump_fiber_spawn(efib.ef_k, fib_conn, (void *)(intptr_t)fd,
		    0) != 0) {
			perror("rumpnet-echo: a connection's fiber");
			rump_sys_close(fd);
			continue;
		}
		es->es_accepted++;
		es->es_open++;
		if (!es->es_quiet)
			printf("rumpnet-echo: connection %d\n", fd);
	}
}

static void
fib_udp(void *arg)
{
	struct echo_server *es = arg;
	static _Thread_local char buf[65536];

	while (!util_expired(efib.ef_deadline)) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = rump_sys_recvfrom(es->es_ufd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &flen);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				perror("rumpnet-echo: UDP recvfrom");
				return;
			}
			continue;
		}
		echo_udp_one(es, buf, n, &from, flen);
	}
}

/* Serve with fibers until the deadline or a signal: 0 or -1. */
static int
echo_fibers(struct echo_server *es, struct rump_kernel *k, uint64_t deadline)
{
	int error = 0;

	efib.ef_es = es;
	efib.ef_k = k;
	efib.ef_deadline = deadline;
	if ((es->es_lfd >= 0 && (fib_blocking(es->es_lfd) != 0 ||
	    (error = rump_fiber_spawn(k, fib_accept, es, 0)) != 0)) ||
	    (es->es_ufd >= 0 && (fib_blocking(es->es_ufd) != 0 ||
	    (error = rump_fiber_spawn(k, fib_udp, es, 0)) != 0))) {
		fprintf(stderr, "rumpnet-echo: fibers: %s\n",
		    strerror(error != 0 ? error : errno));
		return -1;
	}
	/* returns when every fiber has seen the stop */
	if ((error = rump_fiber_run()) != 0) {
		fprintf(stderr, "rumpnet-echo: fibers: %s\n", strerror(error));
		return -1;
	}
	return 0;
}

enum { OPT_TCP = 1, OPT_UDP, OPT_JOIN, OPT_DURATION, OPT_QUIET, OPT_HELP,
    OPT_FASTOPEN };

static int
echo_getopt(void *arg, int c, const char *val)
{
	struct echo_opts *eo = arg;

	switch (c) {
	case OPT_TCP:
		return util_parse_port("--tcp-port", val, &eo->tcp_port) ?
		    0 : -1;
	case OPT_UDP:
		return util_parse_port("--udp-port", val, &eo->udp_port) ?
		    0 : -1;
	case OPT_JOIN:
		if (eo->njoin == ECHO_MAX_JOIN ||
		    inet_pton(AF_INET, val, &eo->join[eo->njoin]) != 1 ||
		    !IN_MULTICAST(ntohl(eo->join[eo->njoin].s_addr))) {
			fprintf(stderr, "rumpnet-echo: --join %s: not a "
			    "multicast group (or more than %d)\n", val,
			    ECHO_MAX_JOIN);
			return -1;
		}
		eo->njoin++;
		return 0;
	case OPT_DURATION:
		return util_parse_seconds("--duration", val, &eo->duration) ?
		    0 : -1;
	case OPT_QUIET:
		eo->quiet = true;
		return 0;
	case OPT_FASTOPEN: {
		unsigned long v;

		if (!util_parse_uint("--fastopen", val, 4096, &v))
			return -1;
		eo->fastopen = (unsigned)v;
		return 0;
	}
	case OPT_HELP:
		printf("%s%s", echo_usage, app_net_usage);
		exit(0);
	default:
		return -1;
	}
}

static int
parse_args(int argc, char **argv, struct echo_opts *eo,
    struct app_net_opts *no)
{
	static const struct option longopts[] = {
		{ "tcp-port", required_argument, 0, OPT_TCP },
		{ "udp-port", required_argument, 0, OPT_UDP },
		{ "join", required_argument, 0, OPT_JOIN },
		{ "duration", required_argument, 0, OPT_DURATION },
		{ "quiet", no_argument, 0, OPT_QUIET },
		{ "fastopen", required_argument, 0, OPT_FASTOPEN },
		{ "help", no_argument, 0, OPT_HELP },
		APP_NET_LONGOPTS,
		{ 0, 0, 0, 0 }
	};

	if (util_getopt(argc, argv, 1, longopts, no, echo_getopt, eo) != 0)
		return -1;
	if (no->addr == NULL) {
		fprintf(stderr, "rumpnet-echo: --addr is required\n");
		return -1;
	}
	if (eo->tcp_port == 0 && eo->udp_port == 0) {
		fprintf(stderr, "rumpnet-echo: nothing to serve (both ports "
		    "0)\n");
		return -1;
	}
	if (eo->njoin > 0 && eo->udp_port == 0) {
		fprintf(stderr, "rumpnet-echo: --join needs UDP\n");
		return -1;
	}
	return 0;
}

/* Open the server's sockets and register them.  0 or -1 (said why). */
static int
echo_open(struct echo_server *es, const struct echo_opts *eo, uint32_t addr)
{
	if ((es->es_kq = rump_sys_kqueue()) < 0) {
		perror("rumpnet-echo: kqueue");
		return -1;
	}
	if (eo->tcp_port != 0 &&
	    ((es->es_lfd = util_listen(SOCK_STREAM, eo->tcp_port)) < 0 ||
	    util_kq_set(es->es_kq, es->es_lfd, EVFILT_READ, EV_ADD,
	    &tag_listener) != 0)) {
		fprintf(stderr, "rumpnet-echo: TCP port %u: %s\n",
		    eo->tcp_port, strerror(errno));
		return -1;
	}
	if (eo->tcp_port != 0 && eo->fastopen > 0 &&
	    rump_sys_setsockopt(es->es_lfd, IPPROTO_TCP, TCP_FASTOPEN,
	    &(int){ (int)eo->fastopen }, sizeof(int)) != 0) {
		fprintf(stderr, "rumpnet-echo: --fastopen: %s\n",
		    strerror(errno));
		return -1;
	}
	if (eo->udp_port != 0 &&
	    ((es->es_ufd = util_listen(SOCK_DGRAM, eo->udp_port)) < 0 ||
	    util_kq_set(es->es_kq, es->es_ufd, EVFILT_READ, EV_ADD,
	    &tag_udp) != 0)) {
		fprintf(stderr, "rumpnet-echo: UDP port %u: %s\n",
		    eo->udp_port, strerror(errno));
		return -1;
	}
	es->es_uport = eo->udp_port;
	for (unsigned i = 0; i < eo->njoin; i++) {
		struct ip_mreq mr = { .imr_multiaddr = eo->join[i] };
		char g[INET_ADDRSTRLEN];

		mr.imr_interface.s_addr = addr;
		if (rump_sys_setsockopt(es->es_ufd, IPPROTO_IP,
		    IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0) {
			inet_ntop(AF_INET, &eo->join[i], g, sizeof(g));
			fprintf(stderr, "rumpnet-echo: --join %s: %s\n", g,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* One instance and its server, on the calling thread. */
struct echo_inst {
	struct app_net_opts ei_no;
	const struct echo_opts *ei_eo;
	struct echo_server ei_es;
	int ei_rv;
};

static void *
echo_inst_main(void *arg)
{
	struct echo_inst *ei = arg;
	struct echo_server *es = &ei->ei_es;
	const struct echo_opts *eo = ei->ei_eo;
	struct app_net net;
	char addr[INET_ADDRSTRLEN], who[40];

	es->es_kq = es->es_lfd = es->es_ufd = -1;
	LIST_INIT(&es->es_live);
	SLIST_INIT(&es->es_dead);
	es->es_quiet = eo->quiet;
	if (app_net_start(&ei->ei_no, &net) != 0) {
		ei->ei_rv = 1;
		return NULL;
	}
	if (echo_open(es, eo, net.addr) != 0) {
		ei->ei_rv = 1;
	} else {
		inet_ntop(AF_INET, &net.addr, addr, sizeof(addr));
		printf("rumpnet-echo: echoing on %s, TCP port %u, UDP port "
		    "%u%s\n", addr, eo->tcp_port, eo->udp_port,
		    ei->ei_no.nqueues > 1 ? " (an instance per core)" : "");
		if ((ei->ei_no.fibers ? echo_fibers(es, net.k,
		    util_deadline(eo->duration)) :
		    echo_loop(es, util_deadline(eo->duration))) != 0)
			ei->ei_rv = 1;
	}
	while (!LIST_EMPTY(&es->es_live))
		conn_close(es, LIST_FIRST(&es->es_live), "stopping");
	echo_free_dead(es);
	if (es->es_lfd >= 0)
		rump_sys_close(es->es_lfd);
	if (es->es_ufd >= 0)
		rump_sys_close(es->es_ufd);
	if (es->es_kq >= 0)
		rump_sys_close(es->es_kq);
	if (ei->ei_no.nqueues > 1)
		snprintf(who, sizeof(who), "rumpnet-echo: core %d",
		    ei->ei_no.cpu);
	else
		snprintf(who, sizeof(who), "rumpnet-echo");
	util_print_stats(stdout, net.k, who);
	app_net_stop(&net);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct echo_opts eo = { .tcp_port = 7, .udp_port = 7 };
	struct echo_inst *ei;
	struct app_net_opts no;
	struct echo_server sum = { 0 };
	unsigned n;
	int rv = 0;

	app_net_opts_default(&no);
	if (parse_args(argc, argv, &eo, &no) != 0) {
		fprintf(stderr, "(rumpnet-echo --help for the options)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	util_signals();
	n = no.ncores > 0 ? no.ncores : 1;
	if ((ei = calloc(n, sizeof(*ei))) == NULL) {
		fprintf(stderr, "rumpnet-echo: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < n; i++)
		ei[i].ei_eo = &eo;
	app_run_instances(&no, ei, sizeof(*ei),
	    offsetof(struct echo_inst, ei_no), echo_inst_main);
	for (unsigned i = 0; i < n; i++) {
		sum.es_accepted += ei[i].ei_es.es_accepted;
		sum.es_open += ei[i].ei_es.es_open;
		sum.es_tcp_bytes += ei[i].ei_es.es_tcp_bytes;
		sum.es_udp_dgrams += ei[i].ei_es.es_udp_dgrams;
		sum.es_udp_bytes += ei[i].ei_es.es_udp_bytes;
		sum.es_udp_drops += ei[i].ei_es.es_udp_drops;
		sum.es_udp_loops += ei[i].ei_es.es_udp_loops;
		rv |= ei[i].ei_rv;
		if (n > 1)
			printf("rumpnet-echo: core %d: %llu connections, %llu "
			    "UDP datagrams\n", ei[i].ei_no.cpu,
			    (unsigned long long)ei[i].ei_es.es_accepted,
			    (unsigned long long)ei[i].ei_es.es_udp_dgrams);
	}
	printf("rumpnet-echo: stopping: %llu connections accepted, %llu "
	    "open, %llu TCP bytes echoed, %llu UDP datagrams (%llu bytes) "
	    "echoed, %llu not sent back, %llu refused (a looping source "
	    "port)\n",
	    (unsigned long long)sum.es_accepted,
	    (unsigned long long)sum.es_open,
	    (unsigned long long)sum.es_tcp_bytes,
	    (unsigned long long)sum.es_udp_dgrams,
	    (unsigned long long)sum.es_udp_bytes,
	    (unsigned long long)sum.es_udp_drops,
	    (unsigned long long)sum.es_udp_loops);
	free(ei);
	return rv;
}
