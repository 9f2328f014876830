/*
 * rumpnet-perf -- a TCP benchmark: a client and a server, on rumpnet
 * (an instance on a DPDK port) or on the host's kernel sockets, or both
 * ends in one process on two instances joined by a DPDK net_ring pair.
 *
 *   rumpnet-perf server [--stack rumpnet|linux] [--cores A,B] [options]
 *   rumpnet-perf client --server A.B.C.D [--test rr|crr|stream]
 *       [--cores A,B] [options]
 *   rumpnet-perf both [--test rr|crr|stream] [--cpus A,B] [options]
 *
 * Tests (the client measures; after the duration it prints a summary and
 * one line of JSON):
 *   rr      each connection sends a --msg byte request and waits for the
 *           --msg byte response, again and again: transactions/s and the
 *           latency of each transaction
 *   crr     connect, one request/response, close (the client closes
 *           first: TIME_WAIT stays with it): connections/s and latency
 *           from socket() to close()
 *   stream  the client sends --msg bytes per send() for the duration,
 *           then shuts its side down; the server counts what it received
 *           and says so: Gbit/s of payload the server received
 *   udp     the client sends --msg byte datagrams (default 64) to the
 *           server's UDP port (--tcp-port's number) as fast as it can; the
 *           server counts them: datagrams per second received (in both
 *           mode; a separate client only knows what it sent, and the
 *           server prints what it received when it stops)
 *
 * The wire: a connection starts with a 16-byte hello from the client,
 *   bytes 0-3   "RNPF"
 *   byte  4     version (1)
 *   byte  5     test: 0 rr, 1 crr, 2 stream
 *   bytes 6-7   0
 *   bytes 8-11  the message size (big endian)
 *   bytes 12-15 the client's number of connections (big endian): with
 *               more than one the server uses poll() only
 * then, for rr and crr, requests the server echoes byte for byte until
 * the client's FIN (then it closes); for stream, data the server counts
 * until the client's FIN, answered with the count as 8 bytes big endian
 * before the server closes.  Anything else closes the connection.
 *
 * The server serves any number of connections from one thread with
 * poll(): rump_sys_poll() or the host's.  The client runs one thread:
 * with one connection, blocking calls (with --busy-poll, rumpnet's
 * blocking calls poll the port from that thread instead of sleeping:
 * SO_BUSY_POLL); with more, non-blocking sockets and poll().  The server
 * also uses a blocking recv() (or accept()) while it has at most one
 * connection, --busy-poll is set and the last client runs a single
 * connection, so that both ends can run to completion.  SO_BUSY_POLL is
 * only ever on sockets a thread blocks on (perf_busy() says why).
 *
 * With --stack both (both mode), rumpnet and then Linux run the same
 * workload and the last line compares them.
 *
 * both: rump_dpdk_ring_pair("perf") makes ports perfa and perfb; the
 * server's instance gets perfa (198.18.0.1/24, --addr), the client's
 * perfb (198.18.0.2/24, --client-addr), each brought up by its own
 * thread, pinned to the CPUs of --cpus.  With --stack linux, both ends
 * use the host's loopback (127.0.0.1) instead.
 *
 * Latency percentiles come from a histogram of fixed logarithmic buckets
 * (32 per power of two: at most 1.6% off), not from sorted samples.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "util.h"
#include "rumpnet/socket.h"

#define PERF_PORT	5001
#define PERF_HELLO	16
#define PERF_MAGIC	0x524e5046u	/* "RNPF" */
#define PERF_VERSION	1
#define PERF_PATTERN	251		/* payload byte i is i % 251 */
#define PERF_BUF	(256 * 1024)	/* the server's receive buffer */
#define PERF_WAIT_MS	100		/* poll timeout: signals, progress */
#define PERF_TIMEO_MS	20		/* SO_RCVTIMEO of blocking calls */
#define PERF_STALL_NS	(10 * 1000000000ull)	/* no answer: give up */
#define PERF_MAX_CONNS	4000

enum perf_test { T_RR, T_CRR, T_STREAM, T_UDP };
enum perf_mode { M_SERVER, M_CLIENT, M_BOTH };

static const char *const test_name[] = { "rr", "crr", "stream", "udp" };

struct perf_opts {
	enum perf_mode mode;
	enum perf_test test;
	bool linux_stack;
	bool compare;			/* both: rumpnet, then linux */
	unsigned conns;
	uint64_t msg;			/* 0: 1 (rr, crr) or 64 KiB (stream) */
	double duration;		/* client: 10; server: 0 (forever) */
	bool duration_set;
	uint16_t port;
	struct in_addr server;		/* client: where the server is */
	bool server_set;
	int busy_poll;			/* SO_BUSY_POLL in us, 0: off */
	int sockbuf;			/* SO_SNDBUF and SO_RCVBUF, 0: default */
	const char *congestion;		/* TCP_CONGESTION, NULL: default */
	int cpus[2];			/* both: server's and client's CPU */
	const char *ring;		/* both: the net_ring pair's name */
	const char *client_addr;	/* both: the client instance's */
	bool stats;			/* print the instances' counters */
	bool quiet;			/* no progress lines */
	bool physical;			/* both: no virtual offload */
	bool fastopen;			/* TCP Fast Open: crr's sendto() and
					   the server's TCP_FASTOPEN */
};

/*
 * The socket calls of one stack.  The host's bind(), accept() and
 * connect() are wrapped: glibc declares their address as a transparent
 * union under _GNU_SOURCE.
 */
struct perf_stack {
	const char *name;
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int,
	    const struct sockaddr *, socklen_t);
	ssize_t (*recv)(int, void *, size_t, int);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*shutdown)(int, int);
	int (*close)(int);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*fcntl)(int, int, int);
};

static int
host_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	return bind(fd, sa, len);
}

static int
host_accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return accept(fd, sa, len);
}

static int
host_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return connect(fd, sa, len);
}

static int
host_fcntl(int fd, int cmd, int arg)
{
	return fcntl(fd, cmd, arg);
}

static ssize_t
host_sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *sa, socklen_t salen)
{
	return sendto(fd, buf, len, flags, sa, salen);
}

static const struct perf_stack stack_rumpnet = {
	"rumpnet", rump_sys_socket, rump_sys_bind, rump_sys_listen,
	rump_sys_accept, rump_sys_connect, rump_sys_send, rump_sys_sendto,
	rump_sys_recv,
	rump_sys_setsockopt, rump_sys_getsockopt, rump_sys_shutdown,
	rump_sys_close, rump_sys_poll, rump_sys_fcntl,
};

static const struct perf_stack stack_linux = {
	"linux", socket, host_bind, listen, host_accept, host_connect, send,
	host_sendto, recv, setsockopt, getsockopt, shutdown, close, poll,
	host_fcntl,
};

/* ---- latency histogram ---- */

#define HIST_SUB_BITS	5
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_N		((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count, sum_ns, min_ns, max_ns;
	uint64_t bucket[HIST_N];
};

/*
 * Values below 32 ns have a bucket each; above, each power of two is cut
 * in 32 buckets: the bucket of v is (e - 4) * 32 + the 5 bits of v below
 * its top bit, e being the top bit's position.
 */
static unsigned
hist_index(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return (e - HIST_SUB_BITS + 1) * HIST_SUB +
	    (unsigned)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* The middle of bucket i. */
static double
hist_value(unsigned i)
{
	unsigned e;
	uint64_t lo, width;

	if (i < HIST_SUB)
		return i;
	e = i / HIST_SUB + HIST_SUB_BITS - 1;
	width = 1ull << (e - HIST_SUB_BITS);
	lo = (uint64_t)(HIST_SUB + i % HIST_SUB) << (e - HIST_SUB_BITS);
	return (double)lo + (double)(width - 1) / 2;
}

static void
hist_add(struct hist *h, uint64_t ns)
{
	if (h->count == 0 || ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->count++;
	h->sum_ns += ns;
	h->bucket[hist_index(ns)]++;
}

/* Add the samples of b to a. */
static void
hist_merge(struct hist *a, const struct hist *b)
{
	if (b->count == 0)
		return;
	if (a->count == 0 || b->min_ns < a->min_ns)
		a->min_ns = b->min_ns;
	if (b->max_ns > a->max_ns)
		a->max_ns = b->max_ns;
	a->count += b->count;
	a->sum_ns += b->sum_ns;
	for (unsigned i = 0; i < HIST_N; i++)
		a->bucket[i] += b->bucket[i];
}

/* The p-quantile (0 < p <= 1) in microseconds; 0 without samples. */
static double
hist_quantile(const struct hist *h, double p)
{
	uint64_t rank = (uint64_t)(p * (double)h->count + 0.999999), seen = 0;

	if (h->count == 0)
		return 0;
	if (rank == 0)
		rank = 1;
	for (unsigned i = 0; i < HIST_N; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			double v = hist_value(i);

			/* the extremes are known exactly */
			if (v < (double)h->min_ns)
				v = (double)h->min_ns;
			if (v > (double)h->max_ns)
				v = (double)h->max_ns;
			return v / 1e3;
		}
	}
	return (double)h->max_ns / 1e3;
}

/* ---- common ---- */

static void
pattern_fill(unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(i % PERF_PATTERN);
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/*
 * SO_BUSY_POLL on (us > 0) or off.  Only sockets a thread blocks on get
 * it: rumpnet's non-blocking calls on such a socket take the port from
 * the driver's poll loop too, and a thread that then sleeps in poll()
 * leaves it unpolled for 5 ms.  A failure is a warning: Linux refuses
 * the option to the unprivileged.
 */
static void
perf_busy(const struct perf_stack *st, int fd, int us)
{
	static _Atomic bool warned;

	if (st->setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us,
	    sizeof(us)) != 0 && !atomic_exchange(&warned, true))
		fprintf(stderr, "rumpnet-perf: %s: SO_BUSY_POLL: %s\n",
		    st->name, strerror(errno));
}

/*
 * The options of every socket: TCP_NODELAY (requests and responses are
 * small and must not wait), buffer sizes, and a receive timeout so that
 * a blocking call comes back to look at the clock and the stop flag.
 */
static int
perf_sockopts(const struct perf_stack *st, const struct perf_opts *o, int fd,
    bool nodelay)
{
	struct timeval tv = { 0, PERF_TIMEO_MS * 1000 };
	int one = 1;

	if (nodelay && st->setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) != 0)
		return -1;
	if (o->sockbuf > 0 && (st->setsockopt(fd, SOL_SOCKET, SO_SNDBUF,
	    &o->sockbuf, sizeof(o->sockbuf)) != 0 ||
	    st->setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->sockbuf,
	    sizeof(o->sockbuf)) != 0))
		return -1;
	if (o->congestion != NULL && st->setsockopt(fd, IPPROTO_TCP,
	    TCP_CONGESTION, o->congestion, (socklen_t)strlen(o->congestion)) !=
	    0)
		return -1;
	return st->setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* The message size: --msg, or the test's default. */
static size_t
perf_msg(const struct perf_opts *o)
{
	if (o->msg != 0)
		return (size_t)o->msg;
	return o->test == T_STREAM ? 65536 : o->test == T_UDP ? 64 : 1;
}

static void
pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		fprintf(stderr, "rumpnet-perf: CPU %d: %s\n", cpu,
		    strerror(errno));
}

/* ---- server ---- */

enum srv_state { SC_HELLO, SC_ECHO, SC_SINK, SC_COUNT };

struct srv_conn {
	int sc_fd;
	enum srv_state sc_state;
	unsigned char sc_hello[PERF_HELLO];
	size_t sc_hlen;
	unsigned char *sc_pend;		/* echo bytes the send buffer refused */
	size_t sc_pendoff, sc_pendlen;
	uint64_t sc_bytes;		/* received after the hello */
	uint64_t sc_start_ns;
	unsigned char sc_count[8];	/* stream: the answer */
	size_t sc_countoff;
	bool sc_busy;			/* SO_BUSY_POLL is on */
};

struct perf_server {
	const struct perf_opts *ps_o;
	const struct perf_stack *ps_st;
	int ps_lfd;
	_Atomic bool *ps_stop;		/* both: set by main */
	struct srv_conn **ps_conns;	/* ps_pfd[i + 1] is ps_conns[i]'s */
	struct pollfd *ps_pfd;		/* [0]: the listener */
	unsigned ps_n;
	unsigned ps_busy_n;		/* ps_n when SO_BUSY_POLL was last set */
	/*
	 * Blocking calls (and SO_BUSY_POLL) allowed: --busy-poll, and the
	 * last client said it runs one connection (its hello)
	 */
	bool ps_fast;
	unsigned char *ps_buf;
	uint64_t ps_accepted, ps_bytes, ps_refused;
	bool ps_verbose;		/* a line per stream connection */
	/* --fibers: the instance the connections' fibers are bound to */
	struct rump_kernel *ps_k;
	uint64_t ps_deadline;
};

static int
server_listen(struct perf_server *ps, struct in_addr addr)
{
	const struct perf_stack *st = ps->ps_st;
	struct sockaddr_in sin;
	int one = 1;

	if ((ps->ps_lfd = st->socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(ps->ps_o->port);
	sin.sin_addr = addr;
	/* a blocking accept() busy polls; accepted sockets inherit it */
	ps->ps_fast = ps->ps_o->busy_poll > 0;
	if (ps->ps_fast)
		perf_busy(st, ps->ps_lfd, ps->ps_o->busy_poll);
	if (st->setsockopt(ps->ps_lfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0 ||
	    perf_sockopts(st, ps->ps_o, ps->ps_lfd, false) != 0 ||
	    st->bind(ps->ps_lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    st->listen(ps->ps_lfd, 4096) != 0)
		return -1;
	/* TCP Fast Open (RFC 7413): connections taken on a cookie */
	if (ps->ps_o->fastopen && st->setsockopt(ps->ps_lfd, IPPROTO_TCP,
	    TCP_FASTOPEN, &(int){ 4096 }, sizeof(int)) != 0)
		return -1;
	ps->ps_pfd[0].fd = ps->ps_lfd;
	ps->ps_pfd[0].events = POLLIN;
	return 0;
}

static void
server_close(struct perf_server *ps, unsigned i)
{
	struct srv_conn *c = ps->ps_conns[i];

	ps->ps_st->close(c->sc_fd);
	ps->ps_bytes += c->sc_bytes;
	free(c->sc_pend);
	free(c);
	ps->ps_n--;
	ps->ps_conns[i] = ps->ps_conns[ps->ps_n];
	ps->ps_pfd[i + 1] = ps->ps_pfd[ps->ps_n + 1];
}

/* Send the stream count; 1 when it is all out, 0 to wait, -1 error. */
static int
server_send_count(struct perf_server *ps, struct srv_conn *c)
{
	while (c->sc_countoff < sizeof(c->sc_count)) {
		ssize_t n = ps->ps_st->send(c->sc_fd,
		    c->sc_count + c->sc_countoff,
		    sizeof(c->sc_count) - c->sc_countoff, MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->sc_countoff += (size_t)n;
	}
	return 1;
}

/* Echo n bytes of ps_buf; what does not fit waits in sc_pend. */
static int
server_echo(struct perf_server *ps, struct srv_conn *c, size_t n,
    struct pollfd *pfd)
{
	ssize_t w = ps->ps_st->send(c->sc_fd, ps->ps_buf, n, MSG_DONTWAIT);

	if (w < 0) {
		if (errno != EAGAIN)
			return -1;
		w = 0;
	}
	if ((size_t)w == n)
		return 0;
	if ((c->sc_pend = malloc(n - (size_t)w)) == NULL)
		return -1;
	memcpy(c->sc_pend, ps->ps_buf + w, n - (size_t)w);
	c->sc_pendoff = 0;
	c->sc_pendlen = n - (size_t)w;
	pfd->events = POLLOUT;		/* read no more until it is out */
	return 0;
}

/*
 * Allow blocking calls, or not: a client of many connections is served
 * with poll() only, and then no socket may have SO_BUSY_POLL (a busy
 * poller that goes to sleep in poll() leaves the port unpolled for a
 * while: see perf_busy()).
 */
static void
server_fast(struct perf_server *ps, bool fast)
{
	if (fast == ps->ps_fast)
		return;
	ps->ps_fast = fast;
	perf_busy(ps->ps_st, ps->ps_lfd, fast ? ps->ps_o->busy_poll : 0);
	ps->ps_busy_n = UINT32_MAX;	/* server_can_block() sets the rest */
}

static int
server_hello(struct perf_server *ps, struct srv_conn *c)
{
	const unsigned char *h = c->sc_hello;

	if (get32(h) != PERF_MAGIC || h[4] != PERF_VERSION || h[5] > T_STREAM) {
		ps->ps_refused++;
		return -1;
	}
	c->sc_state = h[5] == T_STREAM ? SC_SINK : SC_ECHO;
	c->sc_start_ns = app_now_ns();
	server_fast(ps, ps->ps_o->busy_poll > 0 && get32(h + 12) <= 1);
	return 0;
}

/* The stream's sender is done: answer with the count. */
static int
server_stream_end(struct perf_server *ps, struct srv_conn *c,
    struct pollfd *pfd)
{
	uint64_t ns = app_now_ns() - c->sc_start_ns;

	put32(c->sc_count, (uint32_t)(c->sc_bytes >> 32));
	put32(c->sc_count + 4, (uint32_t)c->sc_bytes);
	c->sc_state = SC_COUNT;
	if (ps->ps_verbose)
		printf("rumpnet-perf: stream connection: %llu bytes in %.2f s: "
		    "%.3f Gbit/s\n", (unsigned long long)c->sc_bytes,
		    (double)ns / 1e9, ns > 0 ? (double)c->sc_bytes * 8 /
		    (double)ns : 0);
	pfd->events = POLLOUT;
	return server_send_count(ps, c) < 0 ? -1 : 0;
}

/*
 * Read what connection i has (flags: MSG_DONTWAIT, or 0 for a blocking
 * call that SO_RCVTIMEO cuts short) and act on it: 0, or -1 to close.
 */
static int
server_read(struct perf_server *ps, unsigned i, int flags)
{
	struct srv_conn *c = ps->ps_conns[i];
	struct pollfd *pfd = &ps->ps_pfd[i + 1];

	for (int round = 0; round < 16; round++) {
		ssize_t n;

		if (c->sc_state == SC_HELLO)
			n = ps->ps_st->recv(c->sc_fd, c->sc_hello + c->sc_hlen,
			    PERF_HELLO - c->sc_hlen, flags);
		else
			n = ps->ps_st->recv(c->sc_fd, ps->ps_buf, PERF_BUF,
			    flags);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (n == 0) {
			if (c->sc_state == SC_SINK)
				return server_stream_end(ps, c, pfd);
			return -1;	/* EOF: done */
		}
		flags = MSG_DONTWAIT;
		if (c->sc_state == SC_HELLO) {
			c->sc_hlen += (size_t)n;
			if (c->sc_hlen == PERF_HELLO &&
			    server_hello(ps, c) != 0)
				return -1;
			continue;
		}
		c->sc_bytes += (uint64_t)n;
		if (c->sc_state == SC_SINK)
			continue;
		if (server_echo(ps, c, (size_t)n, pfd) != 0)
			return -1;
		if (c->sc_pendlen > 0)
			return 0;
	}
	return 0;
}

static int
server_write(struct perf_server *ps, unsigned i)
{
	struct srv_conn *c = ps->ps_conns[i];

	if (c->sc_state == SC_COUNT)
		/* all out: close; the client has what it waited for */
		return server_send_count(ps, c) == 0 ? 0 : -1;
	while (c->sc_pendoff < c->sc_pendlen) {
		ssize_t n = ps->ps_st->send(c->sc_fd,
		    c->sc_pend + c->sc_pendoff, c->sc_pendlen - c->sc_pendoff,
		    MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->sc_pendoff += (size_t)n;
	}
	free(c->sc_pend);
	c->sc_pend = NULL;
	c->sc_pendoff = c->sc_pendlen = 0;
	ps->ps_pfd[i + 1].events = POLLIN;
	return 0;
}

static void
server_accept(struct perf_server *ps)
{
	const struct perf_stack *st = ps->ps_st;
	struct srv_conn *c;
	int fd;

	if ((fd = st->accept(ps->ps_lfd, NULL, NULL)) < 0) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			fprintf(stderr, "rumpnet-perf: accept: %s\n",
			    strerror(errno));
		return;
	}
	if (ps->ps_n == PERF_MAX_CONNS || (c = calloc(1, sizeof(*c))) ==
	    NULL) {
		fprintf(stderr, "rumpnet-perf: too many connections\n");
		st->close(fd);
		return;
	}
	/* (not every option is inherited from the listener everywhere) */
	if (perf_sockopts(st, ps->ps_o, fd, true) != 0)
		fprintf(stderr, "rumpnet-perf: socket options: %s\n",
		    strerror(errno));
	c->sc_fd = fd;
	/*
	 * Not what the listener has now: a connection completed before the
	 * listener's SO_BUSY_POLL changed inherited the old value.
	 */
	c->sc_busy = ps->ps_fast && ps->ps_n == 0;
	if (ps->ps_o->busy_poll > 0)
		perf_busy(st, fd, c->sc_busy ? ps->ps_o->busy_poll : 0);
	ps->ps_conns[ps->ps_n] = c;
	ps->ps_pfd[ps->ps_n + 1].fd = fd;
	ps->ps_pfd[ps->ps_n + 1].events = POLLIN;
	ps->ps_n++;
	ps->ps_accepted++;
}

/*
 * --busy-poll with at most one connection (of a client that runs one):
 * wait in a blocking accept() or recv() (cut short by SO_RCVTIMEO)
 * rather than in poll(), so that rumpnet's busy polling runs in this
 * thread.
 */
static bool
server_can_block(struct perf_server *ps)
{
	const struct srv_conn *c = ps->ps_conns[0];
	bool busy = ps->ps_fast && ps->ps_n == 1;

	/* SO_BUSY_POLL only on a connection served by blocking calls */
	if (ps->ps_n != ps->ps_busy_n) {
		for (unsigned i = 0; i < ps->ps_n; i++) {
			struct srv_conn *ci = ps->ps_conns[i];

			if (ci->sc_busy != busy) {
				ci->sc_busy = busy;
				perf_busy(ps->ps_st, ci->sc_fd, busy ?
				    ps->ps_o->busy_poll : 0);
			}
		}
		ps->ps_busy_n = ps->ps_n;
	}
	if (!ps->ps_fast || ps->ps_n > 1)
		return false;
	return ps->ps_n == 0 || (c->sc_pendlen == 0 &&
	    c->sc_state != SC_COUNT);
}

/* both: the server stops when main says so (not at a signal: the client
 * may still want a stream's count) */
static bool
server_stopping(const struct perf_server *ps, uint64_t deadline)
{
	if (ps->ps_stop != NULL)
		return atomic_load(ps->ps_stop);
	return util_expired(deadline);
}

static int
server_loop(struct perf_server *ps, uint64_t deadline)
{
	const struct perf_stack *st = ps->ps_st;

	while (!server_stopping(ps, deadline)) {
		bool block = server_can_block(ps);
		int n = st->poll(ps->ps_pfd, ps->ps_n + 1, block ? 0 :
		    PERF_WAIT_MS);

		if (n < 0 && errno != EINTR) {
			perror("rumpnet-perf: poll");
			return -1;
		}
		if (n <= 0 && block) {
			if (ps->ps_n == 0)
				server_accept(ps);
			else if (server_read(ps, 0, 0) != 0)
				server_close(ps, 0);
			continue;
		}
		/* connections from the end: closing moves the last one */
		for (unsigned i = ps->ps_n; n > 0 && i-- > 0;) {
			short re = ps->ps_pfd[i + 1].revents;
			int rv = 0;

			if (re == 0)
				continue;
			if (re & POLLOUT)
				rv = server_write(ps, i);
			else if (re & (POLLIN | POLLHUP | POLLERR))
				rv = server_read(ps, i, MSG_DONTWAIT);
			if (rv != 0)
				server_close(ps, i);
		}
		if (n > 0 && (ps->ps_pfd[0].revents & POLLIN))
			server_accept(ps);
	}
	while (ps->ps_n > 0)
		server_close(ps, ps->ps_n - 1);
	return 0;
}

/* Set up a server on the calling thread's stack (and instance). */
static int
server_init(struct perf_server *ps, const struct perf_opts *o,
    const struct perf_stack *st, struct in_addr addr)
{
	memset(ps, 0, sizeof(*ps));
	ps->ps_o = o;
	ps->ps_st = st;
	ps->ps_lfd = -1;
	ps->ps_conns = calloc(PERF_MAX_CONNS, sizeof(*ps->ps_conns));
	ps->ps_pfd = calloc(PERF_MAX_CONNS + 1, sizeof(*ps->ps_pfd));
	ps->ps_buf = malloc(PERF_BUF);
	if (ps->ps_conns == NULL || ps->ps_pfd == NULL || ps->ps_buf == NULL) {
		fprintf(stderr, "rumpnet-perf: out of memory\n");
		return -1;
	}
	if (server_listen(ps, addr) != 0) {
		fprintf(stderr, "rumpnet-perf: %s: listening on port %u: %s\n",
		    st->name, o->port, strerror(errno));
		return -1;
	}
	return 0;
}

static void
server_fini(struct perf_server *ps)
{
	if (ps->ps_lfd >= 0)
		ps->ps_st->close(ps->ps_lfd);
	free(ps->ps_conns);
	free(ps->ps_pfd);
	free(ps->ps_buf);
}

/*
 * ---- server with --fibers: a fiber per connection ----
 *
 * The accepting fiber and one fiber per connection, all on the thread of
 * the instance's poll loop, written as blocking code: a call that waits
 * parks the fiber and the poll loop, or another connection, runs.
 */

#define FIB_BUF (64 * 1024)		/* a connection fiber's buffer */
#define FIB_SMALL 2048			/* ... for requests up to this */

struct fib_conn {
	struct perf_server *fc_ps;
	int fc_fd;
};

/* Send all of p; SO_SNDTIMEO is not set, so a send blocks until it can. */
static int
fib_send_all(const struct perf_stack *st, int fd, const unsigned char *p,
    size_t len)
{
	while (len > 0) {
		ssize_t n = st->send(fd, p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
server_conn_fiber(void *arg)
{
	struct fib_conn *fc = arg;
	struct perf_server *ps = fc->fc_ps;
	const struct perf_stack *st = ps->ps_st;
	unsigned char hello[PERF_HELLO], count[8];
	/*
	 * rr and crr requests of up to FIB_SMALL bytes echo through the
	 * fiber's stack: a heap buffer per connection cost crr page faults
	 * (malloc growing and trimming the heap) at tens of thousands of
	 * connections a second
	 */
	unsigned char small[FIB_SMALL], *buf = small, *big = NULL;
	size_t hlen = 0, blen = sizeof(small);
	uint64_t bytes = 0;
	bool stream = false;
	int fd = fc->fc_fd;

	free(fc);
	for (;;) {
		ssize_t n = hlen < PERF_HELLO ?
		    st->recv(fd, hello + hlen, PERF_HELLO - hlen, 0) :
		    st->recv(fd, buf, blen, 0);

		if (n < 0) {
			/* SO_RCVTIMEO: a look at the stop flag */
			if ((errno == EAGAIN || errno == EINTR) &&
			    !server_stopping(ps, ps->ps_deadline))
				continue;
			goto out;
		}
		if (n == 0)
			break;
		if (hlen < PERF_HELLO) {
			hlen += (size_t)n;
			if (hlen < PERF_HELLO)
				continue;
			if (get32(hello) != PERF_MAGIC ||
			    hello[4] != PERF_VERSION || hello[5] > T_STREAM) {
				ps->ps_refused++;
				goto out;
			}
			stream = hello[5] == T_STREAM;
			if (stream || get32(hello + 8) > sizeof(small)) {
				if ((big = malloc(FIB_BUF)) == NULL)
					goto out;
				buf = big;
				blen = FIB_BUF;
			}
			continue;
		}
		bytes += (uint64_t)n;
		if (!stream && fib_send_all(st, fd, buf, (size_t)n) != 0)
			goto out;
	}
	if (stream && hlen == PERF_HELLO) {
		put32(count, (uint32_t)(bytes >> 32));
		put32(count + 4, (uint32_t)bytes);
		(void)fib_send_all(st, fd, count, sizeof(count));
	}
out:
	ps->ps_bytes += bytes;		/* one thread: no lock */
	ps->ps_n--;
	st->close(fd);
	free(big);
}

static void
server_accept_fiber(void *arg)
{
	struct perf_server *ps = arg;
	const struct perf_stack *st = ps->ps_st;

	while (!server_stopping(ps, ps->ps_deadline)) {
		struct fib_conn *fc;
		int fd = st->accept(ps->ps_lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				continue;
			perror("rumpnet-perf: accept");
			break;
		}
		if (perf_sockopts(st, ps->ps_o, fd, true) != 0 ||
		    (fc = malloc(sizeof(*fc))) == NULL) {
			st->close(fd);
			continue;
		}
		fc->fc_ps = ps;
		fc->fc_fd = fd;
		if (rump_fiber_spawn(ps->ps_k, server_conn_fiber, fc, 0) != 0) {
			free(fc);
			st->close(fd);
			continue;
		}
		ps->ps_accepted++;
		ps->ps_n++;
	}
}

/* Serve with fibers until the deadline or the stop flag. */
static int
server_run_fibers(struct perf_server *ps, struct rump_kernel *k,
    uint64_t deadline)
{
	int error;

	ps->ps_k = k;
	ps->ps_deadline = deadline;
	if ((error = rump_fiber_spawn(k, server_accept_fiber, ps, 0)) != 0 ||
	    (error = rump_fiber_run()) != 0) {
		fprintf(stderr, "rumpnet-perf: fibers: %s\n", strerror(error));
		return -1;
	}
	return 0;
}

/* ---- client ---- */

struct perf_result {
	uint64_t ops;			/* transactions or connections */
	uint64_t sent;			/* stream: bytes the client sent */
	uint64_t received;		/* stream: bytes the server counted;
					   udp: datagrams it counted */
	uint64_t dropped;		/* udp: datagrams the stack refused */
	bool counted;			/* every server count came back */
	double seconds;
	struct hist lat;
	char error[256];
};

struct perf_client {
	const struct perf_opts *pc_o;
	const struct perf_stack *pc_st;
	struct sockaddr_in pc_srv;
	struct perf_result *pc_r;
	size_t pc_msg;
	unsigned char *pc_req;		/* hello, then the request pattern */
	unsigned char *pc_rbuf;
	uint64_t pc_start, pc_deadline;
	uint64_t pc_next_report, pc_last_ops, pc_last_sent, pc_last_t;
	/*
	 * a stream's end: the server's count is awaited even after a
	 * signal (util_stop stays set for the other cores' clients)
	 */
	bool pc_finishing;
};

/* Stopped by a signal, unless the stream's count is being collected. */
static bool
client_stopped(const struct perf_client *pc)
{
	return util_stop && !pc->pc_finishing;
}

static void
client_fail(struct perf_client *pc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
client_fail(struct perf_client *pc, const char *fmt, ...)
{
	va_list ap;

	if (pc->pc_r->error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(pc->pc_r->error, sizeof(pc->pc_r->error), fmt, ap);
	va_end(ap);
}

/*
 * Once a second, a progress line; true when the run is over (the
 * duration, a signal, or an error).
 */
static bool
client_tick(struct perf_client *pc)
{
	struct perf_result *r = pc->pc_r;
	uint64_t now = app_now_ns();

	if (now >= pc->pc_next_report) {
		double dt = (double)(now - pc->pc_last_t) / 1e9;

		if (!pc->pc_o->quiet && pc->pc_o->test == T_STREAM)
			printf("%6.1f s  %10.3f Gbit/s\n",
			    (double)(now - pc->pc_start) / 1e9,
			    (double)(r->sent - pc->pc_last_sent) * 8 / 1e9 /
			    dt);
		else if (!pc->pc_o->quiet)
			printf("%6.1f s  %10.0f %s/s\n",
			    (double)(now - pc->pc_start) / 1e9,
			    (double)(r->ops - pc->pc_last_ops) / dt,
			    pc->pc_o->test == T_CRR ? "conn" : "trans");
		fflush(stdout);
		pc->pc_last_ops = r->ops;
		pc->pc_last_sent = r->sent;
		pc->pc_last_t = now;
		/* after a stall, the next line a second from now, not a burst */
		pc->pc_next_report += 1000000000u;
		if (pc->pc_next_report <= now)
			pc->pc_next_report = now + 1000000000u;
	}
	return now >= pc->pc_deadline || util_stop || r->error[0] != '\0';
}

/* A socket connected to the server (blocking unless nonblock): or -1. */
static int
client_socket0(struct perf_client *pc, bool nonblock)
{
	const struct perf_stack *st = pc->pc_st;
	int fd;

	if ((fd = st->socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		client_fail(pc, "socket: %s", strerror(errno));
		return -1;
	}
	if (!nonblock && pc->pc_o->busy_poll > 0)
		perf_busy(st, fd, pc->pc_o->busy_poll);
	if (perf_sockopts(st, pc->pc_o, fd, pc->pc_o->test != T_STREAM) != 0 ||
	    (nonblock && st->fcntl(fd, F_SETFL, O_NONBLOCK) != 0)) {
		client_fail(pc, "socket options: %s", strerror(errno));
		st->close(fd);
		return -1;
	}
	return fd;
}

/*
 * crr with --fastopen: a blocking sendto(MSG_FASTOPEN) of the hello and
 * the request, which connects (its data in the SYN once the server gave
 * a cookie) and returns when all is taken.  The socket, or -1 (recorded).
 */
static int
client_fastopen(struct perf_client *pc, const unsigned char *p, size_t len)
{
	const struct perf_stack *st = pc->pc_st;
	ssize_t n;
	int fd;

	if ((fd = client_socket0(pc, false)) < 0)
		return -1;
	while ((n = st->sendto(fd, p, len, MSG_FASTOPEN,
	    (struct sockaddr *)&pc->pc_srv, sizeof(pc->pc_srv))) < 0 &&
	    errno == EINTR && !util_stop)
		;
	if (n < 0 || (size_t)n != len) {
		client_fail(pc, "sendto(MSG_FASTOPEN) to %s:%u: %s",
		    inet_ntoa(pc->pc_srv.sin_addr), ntohs(pc->pc_srv.sin_port),
		    n < 0 ? strerror(errno) : "short");
		st->close(fd);
		return -1;
	}
	return fd;
}

static int
client_socket(struct perf_client *pc, bool nonblock)
{
	const struct perf_stack *st = pc->pc_st;
	int fd, error;

	if ((fd = client_socket0(pc, nonblock)) < 0)
		return -1;
	while (st->connect(fd, (struct sockaddr *)&pc->pc_srv,
	    sizeof(pc->pc_srv)) != 0) {
		if (nonblock && errno == EINPROGRESS)
			break;
		if (errno == EINTR && !util_stop)
			continue;
		error = errno;
		client_fail(pc, "connect to %s:%u: %s%s",
		    inet_ntoa(pc->pc_srv.sin_addr), ntohs(pc->pc_srv.sin_port),
		    strerror(error), pc->pc_r->ops > 0 ? " (after some "
		    "connections worked)" : "");
		st->close(fd);
		return -1;
	}
	return fd;
}

/* Blocking: send all of len bytes.  0 or -1 (recorded). */
static int
send_full(struct perf_client *pc, int fd, const unsigned char *p, size_t len)
{
	uint64_t last = app_now_ns();

	while (len > 0) {
		ssize_t n = pc->pc_st->send(fd, p, len, 0);

		if (n < 0) {
			if ((errno == EAGAIN || errno == EINTR) &&
			    app_now_ns() - last < PERF_STALL_NS &&
			    !client_stopped(pc))
				continue;
			client_fail(pc, "send: %s", client_stopped(pc) ?
			    "interrupted" : strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
		last = app_now_ns();
	}
	return 0;
}

/*
 * Blocking: receive len bytes into p.  0, or -1 (recorded, unless the
 * run was stopped by a signal meanwhile).
 */
static int
recv_full(struct perf_client *pc, int fd, unsigned char *p, size_t len)
{
	uint64_t last = app_now_ns();

	while (len > 0) {
		ssize_t n = pc->pc_st->recv(fd, p, len, 0);

		if (n == 0) {
			client_fail(pc, "the server closed the connection");
			return -1;
		}
		if (n < 0) {
			if (client_stopped(pc))
				return -1;
			if ((errno == EAGAIN || errno == EINTR) &&
			    app_now_ns() - last < PERF_STALL_NS)
				continue;
			client_fail(pc, "recv: %s", errno == EAGAIN ?
			    "no answer for 10 s" : strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
		last = app_now_ns();
	}
	return 0;
}

/* Whether a response chunk at offset off of a message is the pattern. */
static bool
check_pattern(struct perf_client *pc, const unsigned char *p, size_t n,
    size_t off)
{
	if (n > 0 && (p[0] != (off % PERF_PATTERN) ||
	    p[n - 1] != ((off + n - 1) % PERF_PATTERN))) {
		client_fail(pc, "wrong data in a response at offset %zu", off);
		return false;
	}
	return true;
}

/*
 * Before the clock starts: one connection with a 1-byte request and its
 * answer, then closed.  A link still coming up (net_memif waits for its
 * peer's process), ARP and a SYN the link lost then do not count as
 * part of the run.  0, or -1 (recorded).
 */
static int
client_warmup(struct perf_client *pc)
{
	unsigned char req[PERF_HELLO + 1], rsp[1];
	int fd, rc = 0;

	memcpy(req, pc->pc_req, sizeof(req));
	req[5] = T_CRR;
	put32(req + 8, 1);
	if ((fd = client_socket(pc, false)) < 0)
		return -1;
	if (send_full(pc, fd, req, sizeof(req)) != 0 ||
	    recv_full(pc, fd, rsp, sizeof(rsp)) != 0 ||
	    !check_pattern(pc, rsp, sizeof(rsp), 0))
		rc = -1;
	pc->pc_st->close(fd);
	return rc;
}

/*
 * Send the request and take the answer at once: the server echoes a
 * request as it reads it and reads no more while an echo waits, so a
 * request larger than the sockets' buffers, sent whole before the answer
 * is read, would leave both ends waiting for the other.  0 or -1.
 */
#define PERF_INTERLEAVE (64u << 10)	/* requests above: send_recv_full() */

static int
send_recv_full(struct perf_client *pc, int fd, const unsigned char *p,
    size_t len, unsigned char *rbuf, size_t rlen)
{
	const struct perf_stack *st = pc->pc_st;
	uint64_t last = app_now_ns();
	size_t got = 0;

	while (len > 0 || got < rlen) {
		struct pollfd pfd = { .fd = fd };
		bool moved = false;
		ssize_t n = 0;

		if (len > 0 && (n = st->send(fd, p, len, MSG_DONTWAIT)) > 0) {
			p += n;
			len -= (size_t)n;
			moved = true;
		} else if (len > 0 && n < 0 && errno != EAGAIN &&
		    errno != EINTR) {
			client_fail(pc, "send: %s", strerror(errno));
			return -1;
		}
		if (got < rlen && (n = st->recv(fd, rbuf + got, rlen - got,
		    MSG_DONTWAIT)) > 0) {
			got += (size_t)n;
			moved = true;
		} else if (got < rlen && n == 0) {
			client_fail(pc, "the server closed the connection");
			return -1;
		} else if (got < rlen && n < 0 && errno != EAGAIN &&
		    errno != EINTR) {
			client_fail(pc, "recv: %s", strerror(errno));
			return -1;
		}
		if (moved) {
			last = app_now_ns();
			continue;
		}
		if (client_stopped(pc))
			return -1;
		if (app_now_ns() - last >= PERF_STALL_NS) {
			client_fail(pc, "no progress for 10 s");
			return -1;
		}
		pfd.events = (short)((len > 0 ? POLLOUT : 0) |
		    (got < rlen ? POLLIN : 0));
		(void)st->poll(&pfd, 1, PERF_WAIT_MS);
	}
	return 0;
}

/* One connection, blocking calls: rr and crr. */
static void
client_rr_blocking(struct perf_client *pc)
{
	const struct perf_stack *st = pc->pc_st;
	bool crr = pc->pc_o->test == T_CRR;
	bool tfo = crr && pc->pc_o->fastopen;	/* the request in the SYN */
	size_t msg = pc->pc_msg;
	int fd = -1;

	if (!crr && ((fd = client_socket(pc, false)) < 0 ||
	    send_full(pc, fd, pc->pc_req, PERF_HELLO) != 0))
		goto out;
	while (!client_tick(pc)) {
		uint64_t t0 = app_now_ns();

		if (tfo) {
			/* the hello and the request, in the SYN if it can */
			if ((fd = client_fastopen(pc, pc->pc_req,
			    PERF_HELLO + msg)) < 0)
				break;
		} else if (crr && (fd = client_socket(pc, false)) < 0)
			break;
		/* crr: the hello and the request in one segment */
		if (!tfo && msg > PERF_INTERLEAVE) {
			if (send_recv_full(pc, fd, crr ? pc->pc_req :
			    pc->pc_req + PERF_HELLO, crr ? PERF_HELLO + msg :
			    msg, pc->pc_rbuf, msg) != 0 ||
			    !check_pattern(pc, pc->pc_rbuf, msg, 0))
				break;
		} else if ((!tfo && send_full(pc, fd, crr ? pc->pc_req :
		    pc->pc_req + PERF_HELLO, crr ? PERF_HELLO + msg : msg) !=
		    0) || recv_full(pc, fd, pc->pc_rbuf, msg) != 0 ||
		    !check_pattern(pc, pc->pc_rbuf, msg, 0))
			break;
		if (crr) {
			st->close(fd);
			fd = -1;
		}
		hist_add(&pc->pc_r->lat, app_now_ns() - t0);
		pc->pc_r->ops++;
	}
out:
	if (fd >= 0)
		st->close(fd);
}

/* One connection, blocking calls: stream. */
static void
client_stream_blocking(struct perf_client *pc)
{
	const struct perf_stack *st = pc->pc_st;
	unsigned char count[8];
	struct timeval tv = { 0, PERF_TIMEO_MS * 1000 };
	int fd;

	if ((fd = client_socket(pc, false)) < 0)
		return;
	/*
	 * A send that cannot go on comes back to look at the clock (after
	 * connect(): rumpnet's connect() takes SO_SNDTIMEO as its own).
	 */
	if (st->setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)) != 0 || send_full(pc, fd, pc->pc_req,
	    PERF_HELLO) != 0)
		goto out;
	while (!client_tick(pc)) {
		ssize_t n = st->send(fd, pc->pc_req + PERF_HELLO +
		    pc->pc_r->sent % PERF_PATTERN, pc->pc_msg, 0);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			client_fail(pc, "send: %s", strerror(errno));
			goto out;
		}
		pc->pc_r->sent += (uint64_t)n;
	}
	if (pc->pc_r->error[0] != '\0')
		goto out;
	/* the end of the stream; the server answers with its count */
	pc->pc_finishing = true;
	if (st->shutdown(fd, SHUT_WR) != 0) {
		client_fail(pc, "shutdown: %s", strerror(errno));
		goto out;
	}
	if (recv_full(pc, fd, count, sizeof(count)) == 0) {
		pc->pc_r->received = get64(count);
		pc->pc_r->counted = true;
	}
out:
	st->close(fd);
}

/* ---- client: many connections, poll() ---- */

enum slot_state { SL_CONNECT, SL_SEND, SL_RECV, SL_COUNT, SL_DONE };

struct slot {
	enum slot_state sl_state;
	const unsigned char *sl_out;	/* what is being sent */
	size_t sl_outlen, sl_done;	/* sent or received of the message */
	size_t sl_rdone;		/* the echo taken while sending */
	uint64_t sl_t0;
	unsigned char sl_count[8];
};

/* rr, crr: the echo is read while the request goes (send_recv_full()) */
static bool
slot_interleave(const struct perf_client *pc)
{
	return pc->pc_o->test != T_STREAM && pc->pc_msg > PERF_INTERLEAVE;
}

/* Start a transaction (rr) or a connection (crr, stream) on slot i. */
static int
slot_start(struct perf_client *pc, struct slot *s, struct pollfd *pfd,
    bool reconnect)
{
	s->sl_t0 = app_now_ns();
	s->sl_done = 0;
	s->sl_rdone = 0;
	if (reconnect) {
		if ((pfd->fd = client_socket(pc, true)) < 0)
			return -1;
		s->sl_state = SL_CONNECT;
		pfd->events = POLLOUT;
		/* the hello goes with the first request */
		s->sl_out = pc->pc_req;
		s->sl_outlen = PERF_HELLO + (pc->pc_o->test == T_STREAM ? 0 :
		    pc->pc_msg);
		return 0;
	}
	s->sl_state = SL_SEND;
	pfd->events = (short)(POLLOUT | (slot_interleave(pc) ? POLLIN : 0));
	s->sl_out = pc->pc_req + PERF_HELLO;
	s->sl_outlen = pc->pc_msg;
	return 0;
}

/* A transaction's response came: count it, start the next. */
static int
slot_complete(struct perf_client *pc, struct slot *s, struct pollfd *pfd)
{
	bool crr = pc->pc_o->test == T_CRR;

	if (crr) {
		pc->pc_st->close(pfd->fd);
		pfd->fd = -1;
	}
	hist_add(&pc->pc_r->lat, app_now_ns() - s->sl_t0);
	pc->pc_r->ops++;
	if (app_now_ns() >= pc->pc_deadline || util_stop) {
		s->sl_state = SL_DONE;
		pfd->events = 0;
		return 0;
	}
	return slot_start(pc, s, pfd, crr);
}

static int
slot_connected(struct perf_client *pc, struct slot *s, struct pollfd *pfd)
{
	int error = 0;
	socklen_t len = sizeof(error);

	if (pc->pc_st->getsockopt(pfd->fd, SOL_SOCKET, SO_ERROR, &error,
	    &len) != 0)
		error = errno;
	if (error != 0) {
		client_fail(pc, "connect to %s:%u: %s",
		    inet_ntoa(pc->pc_srv.sin_addr), ntohs(pc->pc_srv.sin_port),
		    strerror(error));
		return -1;
	}
	s->sl_state = SL_SEND;
	if (slot_interleave(pc))
		pfd->events = POLLOUT | POLLIN;
	if (pc->pc_o->test == T_RR)
		s->sl_t0 = app_now_ns();	/* rr: from the first request */
	return 0;
}

/*
 * Up to len bytes into dst without waiting, checked as the echo's bytes
 * from off on unless it is the stream's count: how many (0: none yet), or
 * -1 (recorded).
 */
static ssize_t
slot_read(struct perf_client *pc, int fd, unsigned char *dst, size_t len,
    size_t off, bool echo)
{
	ssize_t n = pc->pc_st->recv(fd, dst, len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		client_fail(pc, "recv: %s", n == 0 ? "the server closed the "
		    "connection" : strerror(errno));
		return -1;
	}
	if (echo && !check_pattern(pc, dst, (size_t)n, off))
		return -1;
	return n;
}

/* slot_interleave(): what of the echo has come while s sends. */
static int
slot_take(struct perf_client *pc, struct slot *s, struct pollfd *pfd)
{
	ssize_t n;

	if (s->sl_rdone == pc->pc_msg)
		return 0;
	if ((n = slot_read(pc, pfd->fd, pc->pc_rbuf,
	    pc->pc_msg - s->sl_rdone, s->sl_rdone, true)) < 0)
		return -1;
	s->sl_rdone += (size_t)n;
	return 0;
}

static int
slot_send(struct perf_client *pc, struct slot *s, struct pollfd *pfd)
{
	bool stream = pc->pc_o->test == T_STREAM;
	size_t turn = 0;

	for (;;) {
		const unsigned char *p = s->sl_out + s->sl_done;
		size_t len = s->sl_outlen - s->sl_done;
		ssize_t n;

		if (len == 0 && stream) {
			/* the hello went: now the data, message after message */
			s->sl_out = pc->pc_req + PERF_HELLO +
			    pc->pc_r->sent % PERF_PATTERN;
			s->sl_outlen = pc->pc_msg;
			s->sl_done = 0;
			continue;
		}
		if (len == 0) {
			s->sl_state = SL_RECV;
			s->sl_done = s->sl_rdone;
			pfd->events = POLLIN;
			if (s->sl_done == pc->pc_msg)
				return slot_complete(pc, s, pfd);
			return 0;
		}
		n = pc->pc_st->send(pfd->fd, p, len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			client_fail(pc, "send: %s", strerror(errno));
			return -1;
		}
		s->sl_done += (size_t)n;
		if (stream && s->sl_out != pc->pc_req)
			pc->pc_r->sent += (uint64_t)n;
		turn += (size_t)n;
		if (stream && turn >= PERF_BUF)
			return 0;	/* let the others have a turn */
	}
}

static int
slot_recv(struct perf_client *pc, struct slot *s, struct pollfd *pfd)
{
	bool count = s->sl_state == SL_COUNT;
	size_t want = count ? sizeof(s->sl_count) : pc->pc_msg;
	unsigned char *dst = count ? s->sl_count + s->sl_done : pc->pc_rbuf;
	ssize_t n;

	if ((n = slot_read(pc, pfd->fd, dst, want - s->sl_done, s->sl_done,
	    !count)) <= 0)
		return (int)n;
	s->sl_done += (size_t)n;
	if (s->sl_done < want)
		return 0;
	if (!count)
		return slot_complete(pc, s, pfd);
	pc->pc_r->received += get64(s->sl_count);
	s->sl_state = SL_DONE;
	pfd->events = 0;
	return 0;
}

static int
slot_event(struct perf_client *pc, struct slot *s, struct pollfd *pfd)
{
	if (pfd->revents == 0 || s->sl_state == SL_DONE)
		return 0;
	if (s->sl_state == SL_CONNECT && slot_connected(pc, s, pfd) != 0)
		return -1;
	if (s->sl_state == SL_SEND) {
		if (slot_interleave(pc) && (pfd->revents & POLLIN) &&
		    slot_take(pc, s, pfd) != 0)
			return -1;
		return slot_send(pc, s, pfd);
	}
	return slot_recv(pc, s, pfd);
}

/* Stream's end: every connection shuts down and waits for its count. */
static void
client_stream_finish(struct perf_client *pc, struct slot *sl,
    struct pollfd *pfd, unsigned n)
{
	uint64_t give_up = app_now_ns() + PERF_STALL_NS;
	unsigned left = 0;

	for (unsigned i = 0; i < n; i++) {
		if (sl[i].sl_state != SL_SEND || pfd[i].fd < 0 ||
		    sl[i].sl_out == pc->pc_req)
			continue;	/* never got going */
		if (pc->pc_st->shutdown(pfd[i].fd, SHUT_WR) != 0) {
			client_fail(pc, "shutdown: %s", strerror(errno));
			return;
		}
		sl[i].sl_state = SL_COUNT;
		sl[i].sl_done = 0;
		pfd[i].events = POLLIN;
		left++;
	}
	while (left > 0 && app_now_ns() < give_up) {
		if (pc->pc_st->poll(pfd, n, PERF_WAIT_MS) <= 0)
			continue;
		left = 0;
		for (unsigned i = 0; i < n; i++) {
			if (sl[i].sl_state == SL_COUNT && pfd[i].revents != 0 &&
			    slot_recv(pc, &sl[i], &pfd[i]) != 0)
				return;
			left += sl[i].sl_state == SL_COUNT;
		}
	}
	pc->pc_r->counted = left == 0;
}

static void
client_poll_loop(struct perf_client *pc)
{
	unsigned n = pc->pc_o->conns;
	struct slot *sl = calloc(n, sizeof(*sl));
	struct pollfd *pfd = calloc(n, sizeof(*pfd));

	if (sl == NULL || pfd == NULL) {
		client_fail(pc, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < n; i++)
		pfd[i].fd = -1;
	for (unsigned i = 0; i < n; i++)
		if (slot_start(pc, &sl[i], &pfd[i], true) != 0)
			goto out;
	while (!client_tick(pc)) {
		int k = pc->pc_st->poll(pfd, n, PERF_WAIT_MS);

		if (k < 0 && errno != EINTR) {
			client_fail(pc, "poll: %s", strerror(errno));
			break;
		}
		for (unsigned i = 0; i < n && k > 0; i++)
			if (slot_event(pc, &sl[i], &pfd[i]) != 0)
				goto out;
	}
	if (pc->pc_o->test == T_STREAM && pc->pc_r->error[0] == '\0') {
		pc->pc_finishing = true;
		client_stream_finish(pc, sl, pfd, n);
	}
out:
	for (unsigned i = 0; pfd != NULL && i < n; i++)
		if (pfd[i].fd >= 0)
			pc->pc_st->close(pfd[i].fd);
	free(sl);
	free(pfd);
}

/*
 * ---- udp ----
 *
 * The client sends datagrams on a connected socket until the deadline (a
 * datagram the stack could not take, ENOBUFS, is counted and dropped, as
 * UDP does); the sink counts what arrives.  With --fibers, the sender
 * gives its thread's poll loop a turn every PERF_UDP_YIELD datagrams: it
 * never blocks, so it would otherwise never let the loop free what the
 * port sent.
 */
#define PERF_UDP_YIELD 32

static void
client_udp(struct perf_client *pc, bool fibers)
{
	const struct perf_stack *st = pc->pc_st;
	int fd = st->socket(AF_INET, SOCK_DGRAM, 0);
	unsigned n = 0;

	if (fd < 0 || st->connect(fd, (struct sockaddr *)&pc->pc_srv,
	    sizeof(pc->pc_srv)) != 0) {
		client_fail(pc, "UDP socket: %s", strerror(errno));
		goto out;
	}
	while (!client_tick(pc)) {
		if (st->send(fd, pc->pc_req + PERF_HELLO, pc->pc_msg, 0) ==
		    (ssize_t)pc->pc_msg) {
			pc->pc_r->ops++;
			pc->pc_r->sent += pc->pc_msg;
		} else if (errno == ENOBUFS || errno == EAGAIN ||
		    errno == ECONNREFUSED) {
			pc->pc_r->dropped++;
		} else {
			client_fail(pc, "UDP send: %s", strerror(errno));
			break;
		}
		if (fibers && ++n % PERF_UDP_YIELD == 0)
			rump_fiber_yield();
	}
out:
	if (fd >= 0)
		st->close(fd);
}

/* Count datagrams on the UDP port until stopped: 0 or -1. */
static int
udp_sink(const struct perf_opts *o, const struct perf_stack *st,
    struct in_addr addr, _Atomic bool *stop, uint64_t deadline,
    _Atomic int *ready, uint64_t *count, uint64_t *bytes)
{
	struct timeval tv = { 0, PERF_TIMEO_MS * 1000 };
	struct sockaddr_in sin;
	int fd, rcvbuf = 4 << 20;
	unsigned char buf[2048];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(o->port);
	sin.sin_addr = addr;
	if ((fd = st->socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    st->setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    st->bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		fprintf(stderr, "rumpnet-perf: %s: UDP port %u: %s\n",
		    st->name, o->port, strerror(errno));
		if (fd >= 0)
			st->close(fd);
		return -1;
	}
	/* room for bursts; the host may cap it, rumpnet takes it whole */
	(void)st->setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf));
	if (ready != NULL)
		atomic_store(ready, 1);
	while (stop != NULL ? !atomic_load(stop) : !util_expired(deadline)) {
		/* MSG_TRUNC: a datagram's whole length, however long */
		ssize_t n = st->recv(fd, buf, sizeof(buf), MSG_TRUNC);

		if (n >= 0) {
			(*count)++;
			*bytes += (uint64_t)n;
		}
	}
	st->close(fd);
	return 0;
}

/* Run the client on the calling thread's stack (and instance). */
static void
client_run(const struct perf_opts *o, const struct perf_stack *st,
    struct in_addr server, bool fibers, struct perf_result *r)
{
	struct perf_client pc;
	size_t reqlen;

	memset(r, 0, sizeof(*r));
	memset(&pc, 0, sizeof(pc));
	pc.pc_o = o;
	pc.pc_st = st;
	pc.pc_r = r;
	pc.pc_msg = perf_msg(o);
	pc.pc_srv.sin_family = AF_INET;
	pc.pc_srv.sin_port = htons(o->port);
	pc.pc_srv.sin_addr = server;
	/* stream sends from an offset < PERF_PATTERN to follow the pattern */
	reqlen = PERF_HELLO + pc.pc_msg + PERF_PATTERN;
	pc.pc_req = malloc(reqlen);
	pc.pc_rbuf = malloc(pc.pc_msg);
	if (pc.pc_req == NULL || pc.pc_rbuf == NULL) {
		client_fail(&pc, "out of memory");
		goto out;
	}
	memset(pc.pc_req, 0, PERF_HELLO);
	put32(pc.pc_req, PERF_MAGIC);
	pc.pc_req[4] = PERF_VERSION;
	pc.pc_req[5] = (unsigned char)o->test;
	put32(pc.pc_req + 8, (uint32_t)pc.pc_msg);
	put32(pc.pc_req + 12, o->conns);
	pattern_fill(pc.pc_req + PERF_HELLO, reqlen - PERF_HELLO);
	if (o->test != T_UDP && client_warmup(&pc) != 0)
		goto out;
	pc.pc_start = pc.pc_last_t = app_now_ns();
	pc.pc_next_report = pc.pc_start + 1000000000u;
	pc.pc_deadline = pc.pc_start + (uint64_t)(o->duration * 1e9);
	if (o->test == T_UDP)
		client_udp(&pc, fibers);
	else if (o->conns > 1)
		client_poll_loop(&pc);
	else if (o->test == T_STREAM)
		client_stream_blocking(&pc);
	else
		client_rr_blocking(&pc);
	r->seconds = (double)(app_now_ns() - pc.pc_start) / 1e9;
out:
	free(pc.pc_req);
	free(pc.pc_rbuf);
}

/* ---- results ---- */

static void
print_result(const struct perf_opts *o, const char *stack,
    const struct perf_result *r)
{
	size_t msg = perf_msg(o);
	const struct hist *h = &r->lat;
	double secs = r->seconds > 0 ? r->seconds : 1;
	char err[300] = "";

	if (r->error[0] != '\0') {
		fprintf(stderr, "rumpnet-perf: %s\n", r->error);
		/* the error as a JSON string: no quotes or backslashes */
		snprintf(err, sizeof(err), ",\"error\":\"%s\"", r->error);
		for (char *p = err + 10; *p != '\0' && p[1] != '\0'; p++)
			if (*p == '"' || *p == '\\' || (unsigned char)*p < 32)
				*p = '\'';
	}
	printf("rumpnet-perf: %s %s, %u connection%s, %zu-byte messages, "
	    "%.2f s\n", stack, test_name[o->test], o->conns,
	    o->conns == 1 ? "" : "s", msg, secs);
	if (o->test == T_STREAM) {
		uint64_t bytes = r->counted ? r->received : r->sent;

		printf("  %llu bytes %s: %.3f Gbit/s\n",
		    (unsigned long long)bytes, r->counted ?
		    "received by the server" : "sent (the server's count did "
		    "not come back)", (double)bytes * 8 / 1e9 / secs);
		if (r->counted && r->received != r->sent)
			printf("  the client sent %llu bytes\n",
			    (unsigned long long)r->sent);
		printf("{\"test\":\"stream\",\"stack\":\"%s\",\"conns\":%u,"
		    "\"msg\":%zu,\"duration_s\":%.3f,\"bytes\":%llu,"
		    "\"gbit_per_s\":%.4f,\"busy_poll_us\":%d%s}\n", stack,
		    o->conns, msg, secs, (unsigned long long)bytes,
		    (double)bytes * 8 / 1e9 / secs, o->busy_poll, err);
		return;
	}
	if (o->test == T_UDP) {
		double pps = (double)(r->counted ? r->received : r->ops) / secs;

		printf("  %llu datagrams sent (%.0f/s), %llu refused by the "
		    "stack", (unsigned long long)r->ops, (double)r->ops / secs,
		    (unsigned long long)r->dropped);
		if (r->counted)
			printf(", %llu received by the server: %.0f/s",
			    (unsigned long long)r->received, pps);
		printf("\n{\"test\":\"udp\",\"stack\":\"%s\",\"msg\":%zu,"
		    "\"duration_s\":%.3f,\"sent\":%llu,\"refused\":%llu,"
		    "\"received\":%s%llu,\"pps\":%.1f%s}\n", stack, msg, secs,
		    (unsigned long long)r->ops, (unsigned long long)r->dropped,
		    r->counted ? "" : "-", r->counted ?
		    (unsigned long long)r->received : 1ull, pps, err);
		return;
	}
	printf("  %llu %s: %.0f/s\n", (unsigned long long)r->ops,
	    o->test == T_CRR ? "connections" : "transactions",
	    (double)r->ops / secs);
	printf("  latency us: min %.1f  mean %.1f  p50 %.1f  p90 %.1f  "
	    "p99 %.1f  p99.9 %.1f  max %.1f\n", (double)h->min_ns / 1e3,
	    h->count ? (double)h->sum_ns / (double)h->count / 1e3 : 0,
	    hist_quantile(h, 0.5), hist_quantile(h, 0.9),
	    hist_quantile(h, 0.99), hist_quantile(h, 0.999),
	    (double)h->max_ns / 1e3);
	printf("{\"test\":\"%s\",\"stack\":\"%s\",\"conns\":%u,\"msg\":%zu,"
	    "\"duration_s\":%.3f,\"transactions\":%llu,"
	    "\"transactions_per_s\":%.1f,\"min_us\":%.2f,\"mean_us\":%.2f,"
	    "\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,"
	    "\"p999_us\":%.2f,\"max_us\":%.2f,\"busy_poll_us\":%d%s}\n",
	    test_name[o->test], stack, o->conns, msg, secs,
	    (unsigned long long)r->ops, (double)r->ops / secs,
	    (double)h->min_ns / 1e3,
	    h->count ? (double)h->sum_ns / (double)h->count / 1e3 : 0,
	    hist_quantile(h, 0.5), hist_quantile(h, 0.9),
	    hist_quantile(h, 0.99), hist_quantile(h, 0.999),
	    (double)h->max_ns / 1e3, o->busy_poll, err);
}

/* ---- modes ---- */

static double
result_rate(const struct perf_opts *o, const struct perf_result *r)
{
	double secs = r->seconds > 0 ? r->seconds : 1;

	if (o->test == T_STREAM)
		return (double)(r->counted ? r->received : r->sent) * 8 / 1e9 /
		    secs;
	if (o->test == T_UDP)
		return (double)(r->counted ? r->received : r->ops) / secs;
	return (double)r->ops / secs;
}


/*
 * One server or client instance, on the calling thread.  With --cores,
 * one runs per core (app_run_instances(): a thread pinned to the core,
 * the port's queue pair of that core, software RSS between them); who
 * names it in what it prints.
 */
struct perf_inst {
	const struct perf_opts *pi_o;
	struct app_net_opts pi_no;
	struct perf_result pi_r;	/* client: its result */
	uint64_t pi_conns, pi_bytes;	/* server: accepted, received */
	uint64_t pi_refused;
	int pi_rv;
};

static void
inst_who(const struct perf_inst *pi, char *who, size_t len)
{
	if (pi->pi_no.nqueues > 1)
		snprintf(who, len, "rumpnet-perf: core %d", pi->pi_no.cpu);
	else
		snprintf(who, len, "rumpnet-perf");
}

static void *
server_inst(void *arg)
{
	struct perf_inst *pi = arg;
	const struct perf_opts *o = pi->pi_o;
	const struct perf_stack *st = o->linux_stack ? &stack_linux :
	    &stack_rumpnet;
	struct app_net net = { 0 };
	struct perf_server ps;
	struct in_addr any = { htonl(INADDR_ANY) };
	char who[48];

	inst_who(pi, who, sizeof(who));
	if (!o->linux_stack && app_net_start(&pi->pi_no, &net) != 0) {
		pi->pi_rv = 1;
		return NULL;
	}
	memset(&ps, 0, sizeof(ps));
	ps.ps_lfd = -1;
	if (o->test == T_UDP) {
		printf("%s: server (%s) counting datagrams on UDP port %u\n",
		    who, st->name, o->port);
		fflush(stdout);
		pi->pi_rv = udp_sink(o, st, any, NULL,
		    util_deadline(o->duration), NULL, &pi->pi_conns,
		    &pi->pi_bytes) != 0;
		printf("%s: server: %llu datagrams (%llu bytes) received\n",
		    who, (unsigned long long)pi->pi_conns,
		    (unsigned long long)pi->pi_bytes);
	} else if (server_init(&ps, o, st, any) != 0) {
		pi->pi_rv = 1;
	} else {
		ps.ps_verbose = pi->pi_no.nqueues <= 1;
		printf("%s: server (%s) listening on port %u\n", who,
		    st->name, o->port);
		fflush(stdout);
		if ((!o->linux_stack && pi->pi_no.fibers ?
		    server_run_fibers(&ps, net.k, util_deadline(o->duration)) :
		    server_loop(&ps, util_deadline(o->duration))) != 0)
			pi->pi_rv = 1;
		pi->pi_conns = ps.ps_accepted;
		pi->pi_bytes = ps.ps_bytes;
		pi->pi_refused = ps.ps_refused;
		printf("%s: server: %llu connections, %llu bytes received, "
		    "%llu refused (no hello)\n", who,
		    (unsigned long long)ps.ps_accepted,
		    (unsigned long long)ps.ps_bytes,
		    (unsigned long long)ps.ps_refused);
	}
	server_fini(&ps);
	if (!o->linux_stack) {
		util_print_stats(stdout, net.k, who);
		app_net_stop(&net);
	}
	return NULL;
}

static void *
client_inst(void *arg)
{
	struct perf_inst *pi = arg;
	const struct perf_opts *o = pi->pi_o;
	const struct perf_stack *st = o->linux_stack ? &stack_linux :
	    &stack_rumpnet;
	struct app_net net = { 0 };
	char who[48];

	inst_who(pi, who, sizeof(who));
	if (!o->linux_stack && app_net_start(&pi->pi_no, &net) != 0) {
		snprintf(pi->pi_r.error, sizeof(pi->pi_r.error),
		    "the instance did not start");
		pi->pi_rv = 1;
		return NULL;
	}
	client_run(o, st, o->server, !o->linux_stack && pi->pi_no.fibers,
	    &pi->pi_r);
	pi->pi_rv = pi->pi_r.error[0] != '\0';
	if (!o->linux_stack) {
		if (o->stats)
			util_print_stats(stdout, net.k, who);
		app_net_stop(&net);
	}
	return NULL;
}

/*
 * Add r, core's result, to sum (i: how many were added before); print
 * core's figure.  Returns whether r failed.
 */
static int
result_add(const struct perf_opts *o, struct perf_result *sum, unsigned i,
    int core, const struct perf_result *r, int rv)
{
	int failed = 0;

	if (rv != 0 || r->error[0] != '\0') {
		failed = 1;
		snprintf(sum->error, sizeof(sum->error), "core %d: %.200s",
		    core, r->error[0] != '\0' ? r->error : "did not start");
	}
	printf("rumpnet-perf: core %d: %.1f %s\n", core, result_rate(o, r),
	    o->test == T_STREAM ? "Gbit/s" : o->test == T_UDP ?
	    "datagrams/s" : "per s");
	sum->ops += r->ops;
	sum->sent += r->sent;
	sum->received += r->received;
	sum->dropped += r->dropped;
	sum->counted = i == 0 ? r->counted : sum->counted && r->counted;
	hist_merge(&sum->lat, &r->lat);
	if (r->seconds > sum->seconds)
		sum->seconds = r->seconds;
	return failed;
}

static int
run_server(const struct perf_opts *o, struct app_net_opts *no)
{
	unsigned n = no->ncores > 0 ? no->ncores : 1;
	struct perf_inst *pi = calloc(n, sizeof(*pi));
	uint64_t conns = 0, bytes = 0;
	int rv = 0;

	if (pi == NULL)
		return 1;
	for (unsigned i = 0; i < n; i++)
		pi[i].pi_o = o;
	app_run_instances(no, pi, sizeof(*pi),
	    offsetof(struct perf_inst, pi_no), server_inst);
	for (unsigned i = 0; i < n; i++) {
		conns += pi[i].pi_conns;
		bytes += pi[i].pi_bytes;
		rv |= pi[i].pi_rv;
	}
	if (n > 1)
		printf("rumpnet-perf: %u cores: %llu %s, %llu bytes received\n",
		    n, (unsigned long long)conns,
		    o->test == T_UDP ? "datagrams" : "connections",
		    (unsigned long long)bytes);
	free(pi);
	return rv;
}

static int
run_client(const struct perf_opts *o, struct app_net_opts *no)
{
	unsigned n = no->ncores > 0 ? no->ncores : 1;
	struct perf_inst *pi = calloc(n, sizeof(*pi));
	struct perf_opts oq = *o;
	struct perf_result *sum;
	int rv = 0;

	if (pi == NULL || (sum = calloc(1, sizeof(*sum))) == NULL) {
		free(pi);
		return 1;
	}
	oq.quiet = true;	/* one progress line per core would interleave */
	for (unsigned i = 0; i < n; i++)
		pi[i].pi_o = n > 1 ? &oq : o;
	app_run_instances(no, pi, sizeof(*pi),
	    offsetof(struct perf_inst, pi_no), client_inst);
	if (n == 1) {
		*sum = pi[0].pi_r;
		rv = pi[0].pi_rv;
	} else {
		for (unsigned i = 0; i < n; i++)
			rv |= result_add(o, sum, i, pi[i].pi_no.cpu,
			    &pi[i].pi_r, pi[i].pi_rv);
		printf("rumpnet-perf: %u cores:\n", n);
	}
	print_result(o, o->linux_stack ? "linux" : "rumpnet", sum);
	free(sum);
	free(pi);
	return rv;
}

/* ---- both: two threads, two instances ---- */

struct both_side {
	const struct perf_opts *bs_o;
	struct app_net_opts bs_net;
	int bs_cpu;
	struct in_addr bs_server;	/* the client's target */
	_Atomic int bs_state;		/* 0 starting, 1 ready, -1 failed */
	_Atomic bool bs_stop;		/* the server: time to go */
	_Atomic bool bs_done;
	struct perf_result bs_result;	/* the client's */
	uint64_t bs_udp_count;		/* the server's: datagrams */
	uint64_t bs_udp_bytes;
};

struct both {
	struct both_side b_server, b_client;
	char b_port[2][40];		/* the net_ring pair's two ends */
};

/* Bring up this side's instance (rumpnet) on the calling thread. */
static int
side_start(struct both_side *bs, struct app_net *net)
{
	pin_cpu(bs->bs_cpu);
	if (bs->bs_o->linux_stack)
		return 0;
	bs->bs_net.cpu = bs->bs_cpu;
	return app_net_start(&bs->bs_net, net);
}

static void
side_stop(struct both_side *bs, struct app_net *net, const char *who)
{
	if (bs->bs_o->linux_stack)
		return;
	if (bs->bs_o->stats)
		util_print_stats(stdout, net->k, who);
	app_net_stop(net);
}

static void *
both_server(void *arg)
{
	struct both_side *bs = arg;
	const struct perf_stack *st = bs->bs_o->linux_stack ? &stack_linux :
	    &stack_rumpnet;
	struct app_net net = { 0 };
	struct perf_server ps;

	pthread_setname_np(pthread_self(), "perf-server");
	if (side_start(bs, &net) != 0) {
		atomic_store(&bs->bs_state, -1);
		return NULL;
	}
	if (bs->bs_o->test == T_UDP) {
		memset(&ps, 0, sizeof(ps));
		ps.ps_lfd = -1;
		if (udp_sink(bs->bs_o, st, bs->bs_server, &bs->bs_stop, 0,
		    &bs->bs_state, &bs->bs_udp_count, &bs->bs_udp_bytes) != 0)
			atomic_store(&bs->bs_state, -1);
	} else if (server_init(&ps, bs->bs_o, st, bs->bs_server) != 0) {
		atomic_store(&bs->bs_state, -1);
	} else {
		ps.ps_stop = &bs->bs_stop;
		atomic_store(&bs->bs_state, 1);
		if (!bs->bs_o->linux_stack && bs->bs_net.fibers)
			(void)server_run_fibers(&ps, net.k, 0);
		else
			server_loop(&ps, 0);
	}
	server_fini(&ps);
	side_stop(bs, &net, "rumpnet-perf: server");
	atomic_store(&bs->bs_done, true);
	return NULL;
}

static void *
both_client(void *arg)
{
	struct both *b = arg;
	struct both_side *bs = &b->b_client;
	const struct perf_stack *st = bs->bs_o->linux_stack ? &stack_linux :
	    &stack_rumpnet;
	struct app_net net = { 0 };
	int state;

	pthread_setname_np(pthread_self(), "perf-client");
	if (side_start(bs, &net) != 0) {
		atomic_store(&bs->bs_state, -1);
		atomic_store(&bs->bs_done, true);
		return NULL;
	}
	atomic_store(&bs->bs_state, 1);
	while ((state = atomic_load(&b->b_server.bs_state)) == 0)
		usleep(1000);
	if (state > 0)
		client_run(bs->bs_o, st, bs->bs_server,
		    !bs->bs_o->linux_stack && bs->bs_net.fibers,
		    &bs->bs_result);
	else
		snprintf(bs->bs_result.error, sizeof(bs->bs_result.error),
		    "the server side did not start");
	side_stop(bs, &net, "rumpnet-perf: client");
	atomic_store(&bs->bs_done, true);
	return NULL;
}

/* Wait up to seconds for *done; false when it did not come. */
static bool
wait_done(_Atomic bool *done, double seconds)
{
	uint64_t end = util_deadline(seconds);

	while (!atomic_load(done)) {
		if (app_now_ns() > end)
			return false;
		usleep(10000);
	}
	return true;
}

/*
 * The EAL and the net_ring pair, once per process.  The EAL pins the
 * thread that initialises it to its main lcore: the sides' threads get
 * the CPUs we had back.
 */
static int
both_dpdk(const struct app_net_opts *no, const char *ring)
{
	static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
	static bool eal;
	cpu_set_t saved;
	int error = 0;

	pthread_mutex_lock(&mtx);
	if (!eal) {
		sched_getaffinity(0, sizeof(saved), &saved);
		if ((error = rump_dpdk_init(no->dpdk)) != 0)
			fprintf(stderr, "rumpnet-perf: DPDK EAL: %s\n",
			    strerror(error));
		sched_setaffinity(0, sizeof(saved), &saved);
		eal = error == 0;
	}
	/* a pair made by an earlier run of this process is used again */
	if (error == 0 && (error = rump_dpdk_ring_pair(ring, 1)) != 0 &&
	    error != EEXIST)
		fprintf(stderr, "rumpnet-perf: net_ring pair %s: %s\n", ring,
		    strerror(error));
	pthread_mutex_unlock(&mtx);
	return error != 0 && error != EEXIST ? -1 : 0;
}

/*
 * Server and client in this process on o->linux_stack's stack: 0 and
 * the client's *r, or -1 when a side did not start.
 */
static int
both_once(const struct perf_opts *o, const struct app_net_opts *no,
    struct perf_result *r)
{
	struct both *b = calloc(1, sizeof(*b));
	pthread_t ts, tc;
	uint32_t a;
	unsigned plen;
	int rv = 0;

	if (b == NULL)
		return -1;
	b->b_server.bs_o = b->b_client.bs_o = o;
	b->b_server.bs_net = b->b_client.bs_net = *no;
	b->b_server.bs_cpu = o->cpus[0];
	b->b_client.bs_cpu = o->cpus[1];
	if (o->linux_stack) {
		b->b_server.bs_server.s_addr = o->server_set ?
		    o->server.s_addr : htonl(INADDR_LOOPBACK);
	} else {
		snprintf(b->b_port[0], sizeof(b->b_port[0]), "%sa", o->ring);
		snprintf(b->b_port[1], sizeof(b->b_port[1]), "%sb", o->ring);
		b->b_server.bs_net.port = b->b_port[0];
		b->b_client.bs_net.port = b->b_port[1];
		if (b->b_server.bs_net.addr == NULL)
			b->b_server.bs_net.addr = "198.18.0.1/24";
		b->b_client.bs_net.addr = o->client_addr;
		/* --pcap: one writer per file; the client's port sees
		 * every frame of the pair */
		b->b_server.bs_net.pcap = NULL;
		/* the wire is memory with rumpnet at both ends */
		b->b_server.bs_net.virtual_offload =
		    b->b_client.bs_net.virtual_offload = !o->physical ||
		    no->virtual_offload;
		rump_addr_parse(b->b_server.bs_net.addr, &a, &plen);
		b->b_server.bs_server.s_addr = a;
		if (both_dpdk(no, o->ring) != 0) {
			free(b);
			return -1;
		}
	}
	b->b_client.bs_server = b->b_server.bs_server;
	if (pthread_create(&ts, NULL, both_server, &b->b_server) != 0 ||
	    pthread_create(&tc, NULL, both_client, b) != 0) {
		fprintf(stderr, "rumpnet-perf: cannot create threads\n");
		_exit(1);	/* a side may be running: no way back */
	}
	if (!wait_done(&b->b_client.bs_done, o->duration + 60)) {
		fprintf(stderr, "rumpnet-perf: the client did not finish "
		    "within 60 s of its end (a stalled connection?)\n");
		fflush(stdout);
		_exit(1);
	}
	pthread_join(tc, NULL);
	atomic_store(&b->b_server.bs_stop, true);
	if (!wait_done(&b->b_server.bs_done, 30)) {
		fprintf(stderr, "rumpnet-perf: the server did not stop\n");
		fflush(stdout);
		_exit(1);
	}
	pthread_join(ts, NULL);
	if (atomic_load(&b->b_client.bs_state) < 0)
		rv = -1;
	*r = b->b_client.bs_result;
	if (o->test == T_UDP) {
		r->received = b->b_server.bs_udp_count;
		r->counted = true;
	}
	free(b);
	return rv;
}

/*
 * --cores A,B,...: one closed client/server pair per core, all at once:
 * on core c a server instance and a client instance (each with its poll
 * loop, both pinned to c) on a net_ring pair of their own ("perfc<i>"),
 * or, with --stack linux, a server and a client over loopback on port
 * --tcp-port + i.  The figure is the sum over the cores.
 */
struct core_run {
	struct perf_opts cr_o;
	const struct app_net_opts *cr_no;
	char cr_ring[16];
	struct perf_result cr_r;
	int cr_rv;
};

static void *
core_main(void *arg)
{
	struct core_run *cr = arg;

	cr->cr_rv = both_once(&cr->cr_o, cr->cr_no, &cr->cr_r);
	return NULL;
}

static int
run_cores(const struct perf_opts *o, const struct app_net_opts *no)
{
	struct core_run *cr = calloc(no->ncores, sizeof(*cr));
	pthread_t t[APP_MAX_CORES];
	struct perf_result sum;
	int failed = 0;

	if (cr == NULL)
		return 1;
	for (unsigned i = 0; i < no->ncores; i++) {
		cr[i].cr_o = *o;
		cr[i].cr_o.cpus[0] = cr[i].cr_o.cpus[1] = no->cores[i];
		cr[i].cr_o.port = (uint16_t)(o->port + (o->linux_stack ? i : 0));
		snprintf(cr[i].cr_ring, sizeof(cr[i].cr_ring), "perfc%u", i);
		cr[i].cr_o.ring = cr[i].cr_ring;
		cr[i].cr_no = no;
		if (pthread_create(&t[i], NULL, core_main, &cr[i]) != 0) {
			fprintf(stderr, "rumpnet-perf: cannot create threads\n");
			_exit(1);
		}
	}
	memset(&sum, 0, sizeof(sum));
	for (unsigned i = 0; i < no->ncores; i++) {
		pthread_join(t[i], NULL);
		failed |= result_add(o, &sum, i, no->cores[i], &cr[i].cr_r,
		    cr[i].cr_rv);
	}
	printf("rumpnet-perf: %u cores:\n", no->ncores);
	print_result(o, o->linux_stack ? "linux" : "rumpnet", &sum);
	free(cr);
	return failed;
}

/*
 * both, --stack both: rumpnet over the ring pair, then Linux over its
 * loopback, the same workload; the last line compares them.
 */
static int
run_both(const struct perf_opts *o, const struct app_net_opts *no)
{
	static struct perf_result r[2];

	if (no->ncores > 0)
		return run_cores(o, no);
	struct perf_opts os[2];
	int n = o->compare ? 2 : 1, failed = 0;

	for (int i = 0; i < n; i++) {
		os[i] = *o;
		if (o->compare)
			os[i].linux_stack = i == 1;
		if (both_once(&os[i], no, &r[i]) != 0)
			return 1;
		print_result(&os[i], os[i].linux_stack ? "linux" : "rumpnet",
		    &r[i]);
		failed |= r[i].error[0] != '\0';
	}
	if (o->compare) {
		const char *unit = o->test == T_STREAM ? "gbit_per_s" :
		    o->test == T_UDP ? "pps" : "transactions_per_s";
		double x = result_rate(o, &r[0]), y = result_rate(o, &r[1]);

		printf("rumpnet-perf: %s: rumpnet %.*f, linux %.*f %s: %.2fx\n",
		    test_name[o->test], o->test == T_STREAM ? 3 : 0, x,
		    o->test == T_STREAM ? 3 : 0, y, o->test == T_STREAM ?
		    "Gbit/s" : o->test == T_UDP ? "datagrams/s" : "per s",
		    y > 0 ? x / y : 0);
		printf("{\"test\":\"%s\",\"stack\":\"both\",\"conns\":%u,"
		    "\"msg\":%zu,\"rumpnet_%s\":%.4f,\"linux_%s\":%.4f,"
		    "\"ratio\":%.3f%s}\n", test_name[o->test], o->conns,
		    perf_msg(o), unit, x, unit, y, y > 0 ? x / y : 0,
		    failed ? ",\"error\":\"a run failed\"" : "");
	}
	return failed;
}

/* ---- options ---- */

static const char perf_usage[] =
"usage: rumpnet-perf server [options]\n"
"       rumpnet-perf client --server A.B.C.D [options]\n"
"       rumpnet-perf both [options]\n"
"TCP benchmark: rr (request/response), crr (connect, request/response,\n"
"close) and stream (bulk) between a client and a server, on rumpnet or\n"
"Linux sockets; both: server and client in this process, on two rumpnet\n"
"instances joined by a DPDK net_ring pair (perfa, perfb).\n"
"  --test rr|crr|stream|udp  workload (default rr); udp: datagrams of\n"
"                        --msg bytes (default 64) as fast as the client\n"
"                        can send them, counted by the server\n"
"  --conns N             client connections at once (default 1; more\n"
"                        than one: non-blocking sockets and poll())\n"
"  --msg BYTES           rr/crr: request and response size (default 1);\n"
"                        stream: bytes per send() (default 64K)\n"
"  --duration S          client: seconds to run (default 10); server:\n"
"                        stop after S seconds (default: at SIGINT)\n"
"  --stack rumpnet|linux rumpnet (default) or the host's kernel sockets;\n"
"  --stack both          both mode: rumpnet, then linux, and the ratio\n"
"  --server A.B.C.D      client: the server's address; both --stack\n"
"                        linux: the address to use (default 127.0.0.1)\n"
"  --tcp-port N          the server's TCP port (default 5001)\n"
"  --busy-poll US        SO_BUSY_POLL (default 50; 0: off) on the sockets\n"
"                        a thread blocks on: one connection per side;\n"
"                        rumpnet's blocking calls then poll the port\n"
"                        from the calling thread instead of sleeping\n"
"  --sockbuf BYTES       SO_SNDBUF and SO_RCVBUF on every socket\n"
"  --congestion NAME     TCP_CONGESTION on every TCP socket (rumpnet:\n"
"                        cubic, newreno; Linux: what it has loaded)\n"
"  --cpus A,B            both: server side on CPU A, client side on B\n"
"                        (application thread and the port's poll loop)\n"
"  (--cores A,B,...: server and client: an instance per CPU on the port's\n"
"                        queue pairs, flows spread by RSS; a client runs\n"
"                        --conns connections on each; the sum.  both mode:\n"
"                        a closed server/client pair on each of these CPUs\n"
"                        at once, own net_ring pair each; the sum)\n"
"  --client-addr A.B.C.D/N  both: the client's address (default\n"
"                        198.18.0.2/24; --addr is the server's, default\n"
"                        198.18.0.1/24)\n"
"  --no-virtual-offload  both: checksums and 1500-byte segments on the\n"
"                        ring (default: virtual offload, as both ends are\n"
"                        rumpnet)\n"
"  --fastopen            TCP Fast Open (RFC 7413): crr connects with\n"
"                        sendto(MSG_FASTOPEN), its request in the SYN\n"
"                        once the server gave a cookie (one connection);\n"
"                        the server sets TCP_FASTOPEN on its listener\n"
"  --stats               print the instances' counters at the end\n"
"  --quiet               no progress line each second\n"
"  --help\n"
"The last line of a client's (or both's) output is one JSON object.\n";

enum {
	OPT_TEST = 1, OPT_CONNS, OPT_MSG, OPT_DURATION, OPT_STACK, OPT_SERVER,
	OPT_TCPPORT, OPT_BUSY, OPT_SOCKBUF, OPT_CONGESTION, OPT_CPUS, OPT_CLIENTADDR,
	OPT_NOVOFF, OPT_STATS, OPT_QUIET, OPT_HELP, OPT_FASTOPEN,
};

static int
parse_cpus(const char *s, int cpus[2])
{
	unsigned a, b;
	char tail;

	if (sscanf(s, "%u,%u%c", &a, &b, &tail) != 2 || a > 1023 || b > 1023) {
		fprintf(stderr, "--cpus %s: A,B (two CPU numbers)\n", s);
		return -1;
	}
	cpus[0] = (int)a;
	cpus[1] = (int)b;
	return 0;
}

static int
perf_getopt(void *ctx, int c, const char *arg)
{
	struct perf_opts *o = ctx;
	unsigned long n;
	uint64_t v;
	uint32_t a;
	unsigned plen;

	switch (c) {
	case OPT_TEST:
		for (int t = T_RR; t <= T_UDP; t++)
			if (strcmp(arg, test_name[t]) == 0) {
				o->test = (enum perf_test)t;
				return 0;
			}
		fprintf(stderr, "--test %s: rr, crr, stream or udp\n", arg);
		return -1;
	case OPT_CONNS:
		if (!util_parse_uint("--conns", arg, PERF_MAX_CONNS, &n))
			return -1;
		if (n == 0) {
			fprintf(stderr, "--conns 0: at least 1\n");
			return -1;
		}
		o->conns = (unsigned)n;
		return 0;
	case OPT_MSG:
		if (!util_parse_size("--msg", arg, 1, 16 << 20, &v))
			return -1;
		o->msg = v;
		return 0;
	case OPT_DURATION:
		o->duration_set = true;
		return util_parse_seconds("--duration", arg, &o->duration) ?
		    0 : -1;
	case OPT_STACK:
		if (strcmp(arg, "rumpnet") != 0 && strcmp(arg, "linux") != 0 &&
		    strcmp(arg, "both") != 0) {
			fprintf(stderr, "--stack %s: rumpnet, linux or both\n",
			    arg);
			return -1;
		}
		o->linux_stack = strcmp(arg, "linux") == 0;
		o->compare = strcmp(arg, "both") == 0;
		return 0;
	case OPT_SERVER:
		if (inet_pton(AF_INET, arg, &o->server) != 1) {
			fprintf(stderr, "--server %s: not A.B.C.D\n", arg);
			return -1;
		}
		o->server_set = true;
		return 0;
	case OPT_TCPPORT:
		if (!util_parse_port("--tcp-port", arg, &o->port))
			return -1;
		if (o->port == 0) {
			fprintf(stderr, "--tcp-port 0: a port, 1 to 65535\n");
			return -1;
		}
		return 0;
	case OPT_BUSY:
		if (!util_parse_uint("--busy-poll", arg, 1000000, &n))
			return -1;
		o->busy_poll = (int)n;
		return 0;
	case OPT_SOCKBUF:
		if (!util_parse_size("--sockbuf", arg, 1024, 1 << 30, &v))
			return -1;
		o->sockbuf = (int)v;
		return 0;
	case OPT_CONGESTION:
		o->congestion = arg;
		return 0;
	case OPT_CPUS:
		return parse_cpus(arg, o->cpus);
	case OPT_CLIENTADDR:
		if (rump_addr_parse(arg, &a, &plen) != 0) {
			fprintf(stderr, "--client-addr %s: not A.B.C.D/N\n",
			    arg);
			return -1;
		}
		o->client_addr = arg;
		return 0;
	case OPT_NOVOFF:
		o->physical = true;
		return 0;
	case OPT_STATS:
		o->stats = true;
		return 0;
	case OPT_QUIET:
		o->quiet = true;
		return 0;
	case OPT_FASTOPEN:
		o->fastopen = true;
		return 0;
	case OPT_HELP:
		printf("%s%s", perf_usage, app_net_usage);
		exit(0);
	default:
		return -1;
	}
}

static int
parse_args(int argc, char **argv, struct perf_opts *o,
    struct app_net_opts *no)
{
	static const struct option longopts[] = {
		{ "test", required_argument, 0, OPT_TEST },
		{ "conns", required_argument, 0, OPT_CONNS },
		{ "msg", required_argument, 0, OPT_MSG },
		{ "duration", required_argument, 0, OPT_DURATION },
		{ "stack", required_argument, 0, OPT_STACK },
		{ "server", required_argument, 0, OPT_SERVER },
		{ "tcp-port", required_argument, 0, OPT_TCPPORT },
		{ "busy-poll", required_argument, 0, OPT_BUSY },
		{ "sockbuf", required_argument, 0, OPT_SOCKBUF },
		{ "congestion", required_argument, 0, OPT_CONGESTION },
		{ "cpus", required_argument, 0, OPT_CPUS },
		{ "client-addr", required_argument, 0, OPT_CLIENTADDR },
		{ "no-virtual-offload", no_argument, 0, OPT_NOVOFF },
		{ "stats", no_argument, 0, OPT_STATS },
		{ "quiet", no_argument, 0, OPT_QUIET },
		{ "fastopen", no_argument, 0, OPT_FASTOPEN },
		{ "help", no_argument, 0, OPT_HELP },
		APP_NET_LONGOPTS,
		{ 0, 0, 0, 0 }
	};
	const char *mode;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			printf("%s%s", perf_usage, app_net_usage);
			exit(0);
		}
		fprintf(stderr, "rumpnet-perf: server, client or both?\n");
		return -1;
	}
	mode = argv[1];
	if (strcmp(mode, "server") == 0)
		o->mode = M_SERVER;
	else if (strcmp(mode, "client") == 0)
		o->mode = M_CLIENT;
	else if (strcmp(mode, "both") == 0)
		o->mode = M_BOTH;
	else {
		fprintf(stderr, "rumpnet-perf: %s: server, client or both\n",
		    mode);
		return -1;
	}
	if (util_getopt(argc, argv, 2, longopts, no, perf_getopt, o) != 0)
		return -1;
	if (!o->duration_set)
		o->duration = o->mode == M_SERVER ? 0 : 10;
	if (o->mode != M_SERVER && !(o->duration > 0)) {
		fprintf(stderr, "rumpnet-perf: --duration must be more than "
		    "0\n");
		return -1;
	}
	if (no->ncores > 0 && (o->compare ||
	    (o->mode != M_BOTH && o->linux_stack))) {
		fprintf(stderr, "rumpnet-perf: --cores is for --stack rumpnet, "
		    "or linux in the both mode\n");
		return -1;
	}
	if (o->compare && o->mode != M_BOTH) {
		fprintf(stderr, "rumpnet-perf: --stack both is for the both "
		    "mode\n");
		return -1;
	}
	if (o->fastopen && o->mode != M_SERVER &&
	    (o->test != T_CRR || o->conns > 1)) {
		fprintf(stderr, "rumpnet-perf: --fastopen: for crr with one "
		    "connection\n");
		return -1;
	}
	if (o->mode == M_CLIENT && !o->server_set) {
		fprintf(stderr, "rumpnet-perf: client: --server is "
		    "required\n");
		return -1;
	}
	/* --fibers: the poll loop is on the same thread; nothing to busy poll */
	if (no->fibers)
		o->busy_poll = 0;
	if (o->mode != M_BOTH && !o->linux_stack && no->addr == NULL) {
		fprintf(stderr, "rumpnet-perf: --addr is required with "
		    "--stack rumpnet\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct perf_opts o = {
		.test = T_RR, .conns = 1, .port = PERF_PORT, .busy_poll = 50,
		.cpus = { -1, -1 }, .client_addr = "198.18.0.2/24",
		.ring = "perf",
	};
	struct app_net_opts no;

	app_net_opts_default(&no);
	if (parse_args(argc, argv, &o, &no) != 0) {
		fprintf(stderr, "(rumpnet-perf --help for the options)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	util_signals();
	switch (o.mode) {
	case M_SERVER:
		return run_server(&o, &no);
	case M_CLIENT:
		return run_client(&o, &no);
	default:
		return run_both(&o, &no);
	}
}
