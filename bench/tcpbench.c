/*
 * tcpbench -- TCP between two instances on the in-memory bus (real clock),
 * next to the Linux kernel's TCP over loopback, in the same run.
 *
 * Workloads (each for --duration seconds, after a short warm-up):
 *
 *   rr      one connection with TCP_NODELAY; the client sends 1 byte, the
 *           server echoes it, the client checks it: transactions/s.
 *   crr     per transaction: socket, connect, 1-byte request/response,
 *           close (the client closes first, so TIME_WAIT lands on the
 *           client, as in netperf's TCP_CRR); the server waits for the
 *           client's FIN before it closes: connections/s.
 *   stream  one connection, the client writes --msg bytes per send()
 *           until the end, then closes; the server reads until EOF and
 *           its byte count must equal what the client sent.  Reported as
 *           Gbit/s of payload received by the server.  The first and last
 *           byte of every recv() are checked against the stream offset.
 *
 * rumpnet: a client instance (198.18.0.1/24) and a server instance
 * (198.18.0.2/24), each with one interface on the bus, MTU 1500, one vCPU,
 * --softint inline or threads.  Everything of the client instance (its
 * bus receive thread, clock thread, softint threads and the client
 * application thread) runs on one host CPU, everything of the server
 * instance on another: the instances' threads inherit the CPU affinity of
 * the thread that creates them, so main pins itself while it creates each.
 *
 * Linux: a forked child per figure.  As root it enters a fresh network
 * namespace (unshare(CLONE_NEWNET)) and brings its lo up with MTU 1500;
 * otherwise it uses the host's loopback and says so.  lo keeps TSO and
 * GSO unless --linux-tso off: Linux then moves 64 KiB segments whatever
 * the MTU, which is what a stream against it measures.  Its client and
 * server threads are pinned to the same two CPUs as rumpnet's.  Results
 * come back through a pipe.  Forking per figure keeps each Linux run's
 * TIME_WAIT state to itself and forks only while no thread of ours runs.
 *
 * Both stacks run as a kernel-bypass application would (the defaults;
 * each can be turned off):
 *   --busy-poll 50: SO_BUSY_POLL on every socket.  rumpnet's blocking
 *           calls poll the bus from the application thread for up to 50 us
 *           before sleeping (run to completion, no wake-ups); Linux accepts
 *           the option and has nothing to poll on lo.
 *   --offload on: Linux's lo keeps TSO/GSO (64 KiB segments, no
 *           checksums in memory); the bus gets the same offloads
 *           (rump_bus_config.offload: TSO frames cross it whole, checksums
 *           of frames that never leave memory are not computed).  With
 *           off, both move 1500-byte segments with software checksums.
 *
 * Per-core figures (in the table) divide the operations by the CPU time of
 * all the process's threads during the measurement (schedstat).
 *
 * Socket options: TCP_NODELAY (level IPPROTO_TCP) on both ends of rr and
 * crr, SO_REUSEADDR on the listening socket, and with --sockbuf SO_SNDBUF
 * and SO_RCVBUF on every socket (the listening one before listen()).
 *
 * Usage: tcpbench [--duration SEC] [--workload rr|crr|stream|all]
 *                 [--stack rumpnet|linux|both] [--softint inline|threads]
 *                 [--msg BYTES] [--repeat N] [--sockbuf BYTES]
 *                 [--busy-poll US] [--offload on|off] [--verbose]
 * Exit status: 0 when every figure asked for was measured, 1 otherwise,
 * 2 for bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rumpnet/bus.h"
#include "rumpnet/kernel.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

#define PORT		5001
#define WARMUP_S	0.3
#define STOP_TIMEOUT_S	10
#define PATTERN		251	/* stream bytes: offset % PATTERN */
#define LINUX_MTU	1500
#define RUMP_MTU	1500

enum workload { W_RR, W_CRR, W_STREAM, W_COUNT };

static const char *const wl_name[W_COUNT] = { "rr", "crr", "stream" };
static const char *const wl_unit[W_COUNT] = { "trans/s", "conn/s",
    "Gbit/s" };
static const double wl_target[W_COUNT] = { 10, 10, 1 };

struct opts {
	double duration;
	bool workload[W_COUNT];
	bool rumpnet, linux_stack;
	enum rump_softint_mode softint;
	size_t msg;
	unsigned repeat;
	int sockbuf;			/* SO_SNDBUF, SO_RCVBUF, or 0 */
	int busy_poll;			/* SO_BUSY_POLL (us), or 0 */
	bool linux_tso;			/* lo keeps TSO and GSO */
	bool verbose;
	int cpu_client, cpu_server;	/* -1: not pinned */
};

/*
 * The socket calls of one stack.  rumpnet's rump_sys_* have the host's
 * signatures; the Linux ones are wrapped because glibc declares the
 * sockaddr arguments as transparent unions under _GNU_SOURCE.
 */
struct stack {
	const char *name;
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*close)(int);
};

static int
l_bind(int fd, const struct sockaddr *a, socklen_t len)
{
	return bind(fd, a, len);
}

static int
l_accept(int fd, struct sockaddr *a, socklen_t *len)
{
	return accept(fd, a, len);
}

static int
l_connect(int fd, const struct sockaddr *a, socklen_t len)
{
	return connect(fd, a, len);
}

static const struct stack rumpnet_stack = {
	.name = "rumpnet",
	.socket = rump_sys_socket,
	.bind = rump_sys_bind,
	.listen = rump_sys_listen,
	.accept = rump_sys_accept,
	.connect = rump_sys_connect,
	.send = rump_sys_send,
	.recv = rump_sys_recv,
	.setsockopt = rump_sys_setsockopt,
	.close = rump_sys_close,
};

static const struct stack linux_stack = {
	.name = "linux",
	.socket = socket,
	.bind = l_bind,
	.listen = listen,
	.accept = l_accept,
	.connect = l_connect,
	.send = send,
	.recv = recv,
	.setsockopt = setsockopt,
	.close = close,
};

/* One figure: what a run measured. */
struct figure {
	bool ok;
	double value;			/* in wl_unit */
	double per_core;		/* value per CPU-second */
	double cpus;			/* CPUs busy on average */
};

/* One run of one workload on one stack. */
struct run {
	const struct opts *o;
	const struct stack *st;
	enum workload w;
	struct rump_kernel *kc, *ks;	/* rumpnet: client, server */
	struct sockaddr_in srv;
	_Atomic int server_state;	/* 0 starting, 1 listening, -1 error */
	_Atomic bool stop;
	_Atomic bool failed;
	_Atomic uint64_t ops;		/* transactions, connections, bytes */
	_Atomic uint64_t sent;		/* stream: what the client sent */
	uint64_t received;		/* stream: server's bytes at EOF */
	_Atomic bool client_done, server_done;
	pthread_mutex_t err_lock;
	char err[200];			/* the first error */
	bool err_socket;		/* it was socket() itself */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		continue;
}

/*
 * CPU seconds used so far by all of this process's threads: the run time
 * the scheduler accounts in /proc/self/task/TID/schedstat.
 */
static double
process_cpu(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	double total = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[300];
		unsigned long long ns;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat",
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			total += (double)ns / 1e9;
		fclose(f);
	}
	closedir(d);
	return total;
}

/*
 * The first line of /proc/self/task/TID/NAME, without its newline, or
 * "?".
 */
static void
task_line(const char *tid, const char *name, char *buf, size_t len)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/%s", tid, name);
	snprintf(buf, len, "?");
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fgets(buf, (int)len, f) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* The CPU a task last ran on: field 39 of its stat, counted after ')'. */
static int
task_last_cpu(const char *tid)
{
	char line[1024], *p;

	task_line(tid, "stat", line, sizeof(line));
	if ((p = strrchr(line, ')')) == NULL)
		return -1;
	for (int field = 2; field < 39; field++)
		if ((p = strchr(p + 1, ' ')) == NULL)
			return -1;
	return atoi(p + 1);
}

/* The Cpus_allowed_list of a task's status, or "?". */
static void
task_cpus_allowed(const char *tid, char *buf, size_t len)
{
	char path[300], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	snprintf(buf, len, "?");
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Cpus_allowed_list:", 18) == 0) {
			snprintf(buf, len, "%s", line + 18 + strspn(line + 18,
			    " \t"));
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

/*
 * --verbose: every thread of this process with the CPU it last ran on and
 * the CPUs it may run on, to check the placement.
 */
static void
print_threads(const char *tag)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;

	if (d == NULL)
		return;
	fprintf(stderr, "tcpbench: %s: threads (name, last CPU, allowed):",
	    tag);
	while ((de = readdir(d)) != NULL) {
		char comm[64], allowed[64];

		if (de->d_name[0] == '.')
			continue;
		task_line(de->d_name, "comm", comm, sizeof(comm));
		task_cpus_allowed(de->d_name, allowed, sizeof(allowed));
		fprintf(stderr, " %s %d %s,", comm, task_last_cpu(de->d_name),
		    allowed);
	}
	fprintf(stderr, "\n");
	closedir(d);
}

static void
pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Record the first error of a run and stop it. */
static void
run_fail(struct run *r, bool is_socket, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
run_fail(struct run *r, bool is_socket, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&r->err_lock);
	if (!atomic_load(&r->failed)) {
		va_start(ap, fmt);
		vsnprintf(r->err, sizeof(r->err), fmt, ap);
		va_end(ap);
		r->err_socket = is_socket;
		atomic_store(&r->failed, true);
	}
	pthread_mutex_unlock(&r->err_lock);
	atomic_store(&r->stop, true);
}

static void
run_fail_errno(struct run *r, const char *call, int error)
{
	run_fail(r, strcmp(call, "socket") == 0, "%s: %s", call,
	    strerror(error));
}

/*
 * Socket options: TCP_NODELAY (rr and crr only), and --sockbuf's sizes
 * (bufs; before a connection exists).  0 or -1 (recorded).
 */
static int
set_opts(struct run *r, int fd, bool nodelay, bool bufs)
{
	const struct stack *st = r->st;
	int one = 1, sz = r->o->sockbuf;

	if (nodelay && r->w != W_STREAM && st->setsockopt(fd, IPPROTO_TCP,
	    TCP_NODELAY, &one, sizeof(one)) != 0) {
		run_fail_errno(r, "setsockopt(TCP_NODELAY)", errno);
		return -1;
	}
	if (r->o->busy_poll > 0 && st->setsockopt(fd, SOL_SOCKET,
	    SO_BUSY_POLL, &r->o->busy_poll, sizeof(r->o->busy_poll)) != 0) {
		run_fail_errno(r, "setsockopt(SO_BUSY_POLL)", errno);
		return -1;
	}
	if (bufs && sz > 0 && (st->setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)) != 0 || st->setsockopt(fd, SOL_SOCKET, SO_RCVBUF,
	    &sz, sizeof(sz)) != 0)) {
		run_fail_errno(r, "setsockopt(SO_SNDBUF/SO_RCVBUF)", errno);
		return -1;
	}
	return 0;
}

/* A connected client socket, or -1 (recorded). */
static int
client_connect(struct run *r, const char *what)
{
	const struct stack *st = r->st;
	int fd;

	if ((fd = st->socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		run_fail_errno(r, "socket", errno);
		return -1;
	}
	if (set_opts(r, fd, true, true) != 0) {
		st->close(fd);
		return -1;
	}
	if (st->connect(fd, (struct sockaddr *)&r->srv, sizeof(r->srv)) != 0) {
		int error = errno;

		if (r->w == W_CRR)
			run_fail(r, false, "crr: %s: %s after %llu "
			    "connections", what, strerror(error),
			    (unsigned long long)atomic_load(&r->ops));
		else
			run_fail_errno(r, what, error);
		st->close(fd);
		return -1;
	}
	return fd;
}

/* Send all of buf; 0 or -1 (recorded). */
static int
send_all(struct run *r, int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = r->st->send(fd, p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			run_fail_errno(r, "send", errno);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Receive one byte: 1, 0 at EOF, -1 on error (recorded). */
static int
recv_byte(struct run *r, int fd, unsigned char *b)
{
	for (;;) {
		ssize_t n = r->st->recv(fd, b, 1, 0);

		if (n >= 0)
			return (int)n;
		if (errno != EINTR) {
			run_fail_errno(r, "recv", errno);
			return -1;
		}
	}
}

/* ---- client ---- */

static void
client_rr(struct run *r)
{
	int fd = client_connect(r, "connect");

	if (fd < 0)
		return;
	for (uint64_t i = 0; !atomic_load_explicit(&r->stop,
	    memory_order_relaxed); i++) {
		unsigned char q = (unsigned char)i, a;
		int n;

		if (send_all(r, fd, &q, 1) != 0)
			break;
		if ((n = recv_byte(r, fd, &a)) <= 0) {
			if (n == 0)
				run_fail(r, false, "rr: connection closed by "
				    "the server");
			break;
		}
		if (a != q) {
			run_fail(r, false, "rr: response 0x%02x to request "
			    "0x%02x", a, q);
			break;
		}
		atomic_fetch_add_explicit(&r->ops, 1, memory_order_relaxed);
	}
	r->st->close(fd);
}

static void
client_crr(struct run *r)
{
	const struct stack *st = r->st;
	int fd;

	for (uint64_t i = 0; !atomic_load_explicit(&r->stop,
	    memory_order_relaxed); i++) {
		unsigned char q = (unsigned char)i, a;
		int n;

		if ((fd = client_connect(r, "connect")) < 0)
			break;
		if (send_all(r, fd, &q, 1) != 0) {
			st->close(fd);
			break;
		}
		if ((n = recv_byte(r, fd, &a)) <= 0) {
			if (n == 0)
				run_fail(r, false, "crr: connection closed "
				    "by the server");
			st->close(fd);
			break;
		}
		if (a != q) {
			run_fail(r, false, "crr: response 0x%02x to request "
			    "0x%02x", a, q);
			st->close(fd);
			break;
		}
		if (st->close(fd) != 0) {
			run_fail_errno(r, "close", errno);
			break;
		}
		atomic_fetch_add_explicit(&r->ops, 1, memory_order_relaxed);
	}
	/*
	 * The server waits in accept(): a connection that sends nothing
	 * tells it to stop.
	 */
	if ((fd = client_connect(r, "connect (the last one)")) >= 0)
		st->close(fd);
}

static void
client_stream(struct run *r)
{
	size_t msg = r->o->msg;
	uint64_t total = 0;
	unsigned char *buf;
	int fd;

	if ((buf = malloc(msg + PATTERN)) == NULL) {
		run_fail(r, false, "out of memory");
		return;
	}
	for (size_t i = 0; i < msg + PATTERN; i++)
		buf[i] = (unsigned char)(i % PATTERN);
	if ((fd = client_connect(r, "connect")) < 0) {
		free(buf);
		return;
	}
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		ssize_t n = r->st->send(fd, buf + total % PATTERN, msg, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			run_fail_errno(r, "send", errno);
			break;
		}
		total += (uint64_t)n;
		atomic_store_explicit(&r->sent, total, memory_order_relaxed);
	}
	if (r->st->close(fd) != 0)
		run_fail_errno(r, "close", errno);
	free(buf);
}

static void *
client_thread(void *arg)
{
	struct run *r = arg;
	int state;

	pthread_setname_np(pthread_self(), "tcpclient");
	pin_self(r->o->cpu_client);
	if (r->kc != NULL)
		rump_thread_bind(r->kc);
	while ((state = atomic_load(&r->server_state)) == 0)
		sleep_s(0.001);
	if (state > 0) {
		if (r->w == W_RR)
			client_rr(r);
		else if (r->w == W_CRR)
			client_crr(r);
		else
			client_stream(r);
	}
	if (r->kc != NULL)
		rump_thread_unbind();
	atomic_store(&r->client_done, true);
	return NULL;
}

/* ---- server ---- */

/* A listening socket, or -1 (recorded). */
static int
server_listen(struct run *r)
{
	const struct stack *st = r->st;
	int fd, one = 1;

	if ((fd = st->socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		run_fail_errno(r, "socket", errno);
		return -1;
	}
	if (st->setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0) {
		run_fail_errno(r, "setsockopt(SO_REUSEADDR)", errno);
		goto fail;
	}
	/*
	 * Buffer sizes before listen(): accepted sockets inherit them (and
	 * the window scale is chosen from them on the SYN).
	 */
	if (set_opts(r, fd, false, true) != 0)
		goto fail;
	if (st->bind(fd, (struct sockaddr *)&r->srv, sizeof(r->srv)) != 0) {
		run_fail_errno(r, "bind", errno);
		goto fail;
	}
	if (st->listen(fd, 128) != 0) {
		run_fail_errno(r, "listen", errno);
		goto fail;
	}
	return fd;
fail:
	st->close(fd);
	return -1;
}

/* accept() one connection: its descriptor, or -1 (recorded). */
static int
server_accept(struct run *r, int lfd)
{
	int fd;

	while ((fd = r->st->accept(lfd, NULL, NULL)) < 0) {
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		run_fail_errno(r, "accept", errno);
		return -1;
	}
	if (set_opts(r, fd, true, false) != 0) {
		r->st->close(fd);
		return -1;
	}
	return fd;
}

static void
server_rr(struct run *r, int lfd)
{
	unsigned char b;
	int fd, n;

	if ((fd = server_accept(r, lfd)) < 0)
		return;
	while ((n = recv_byte(r, fd, &b)) > 0)
		if (send_all(r, fd, &b, 1) != 0)
			break;
	r->st->close(fd);
}

static void
server_crr(struct run *r, int lfd)
{
	const struct stack *st = r->st;
	unsigned char b;
	int fd, n;

	for (;;) {
		if ((fd = server_accept(r, lfd)) < 0)
			return;
		if ((n = recv_byte(r, fd, &b)) <= 0) {
			st->close(fd);	/* 0: the stop connection */
			return;
		}
		if (send_all(r, fd, &b, 1) != 0) {
			st->close(fd);
			return;
		}
		/* let the client close first: TIME_WAIT stays on its side */
		if ((n = recv_byte(r, fd, &b)) != 0) {
			if (n > 0)
				run_fail(r, false, "crr: a second request "
				    "on one connection");
			st->close(fd);
			return;
		}
		if (st->close(fd) != 0) {
			run_fail_errno(r, "close", errno);
			return;
		}
	}
}

static void
server_stream(struct run *r, int lfd)
{
	size_t msg = r->o->msg;
	uint64_t total = 0;
	unsigned char *buf;
	int fd;

	if ((buf = malloc(msg)) == NULL) {
		run_fail(r, false, "out of memory");
		return;
	}
	if ((fd = server_accept(r, lfd)) < 0) {
		free(buf);
		return;
	}
	for (;;) {
		ssize_t n = r->st->recv(fd, buf, msg, 0);

		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			run_fail_errno(r, "recv", errno);
			break;
		}
		if (buf[0] != total % PATTERN ||
		    buf[n - 1] != (total + (uint64_t)n - 1) % PATTERN) {
			run_fail(r, false, "stream: wrong data at offset "
			    "%llu", (unsigned long long)total);
			break;
		}
		total += (uint64_t)n;
		atomic_fetch_add_explicit(&r->ops, (uint64_t)n,
		    memory_order_relaxed);
	}
	r->received = total;
	r->st->close(fd);
	free(buf);
}

static void *
server_thread(void *arg)
{
	struct run *r = arg;
	int lfd;

	pthread_setname_np(pthread_self(), "tcpserver");
	pin_self(r->o->cpu_server);
	if (r->ks != NULL)
		rump_thread_bind(r->ks);
	if ((lfd = server_listen(r)) < 0) {
		atomic_store(&r->server_state, -1);
	} else {
		atomic_store(&r->server_state, 1);
		if (r->w == W_RR)
			server_rr(r, lfd);
		else if (r->w == W_CRR)
			server_crr(r, lfd);
		else
			server_stream(r, lfd);
		r->st->close(lfd);
	}
	if (r->ks != NULL)
		rump_thread_unbind();
	atomic_store(&r->server_done, true);
	return NULL;
}

/* ---- measuring ---- */

/* Sleep s seconds, waking early when the run failed. */
static void
sleep_unless_failed(struct run *r, double s)
{
	double end = now_s() + s;

	while (!atomic_load(&r->failed) && now_s() < end)
		sleep_s(0.01);
}

/* Wait up to timeout seconds for *done; false when it never came. */
static bool
wait_done(_Atomic bool *done, double timeout)
{
	double end = now_s() + timeout;

	while (!atomic_load(done)) {
		if (now_s() > end)
			return false;
		sleep_s(0.001);
	}
	return true;
}

/*
 * Run r's workload: returns 0 and *f, or -1 with r->err set.  When a
 * thread does not stop in time (a stalled connection), says so and exits
 * the process: its instance cannot be destroyed under a bound thread.
 */
static int
measure(struct run *r, struct figure *f)
{
	pthread_t tc, ts;
	double t0, t1, c0, c1;
	uint64_t o0, o1;

	memset(f, 0, sizeof(*f));
	if (pthread_create(&ts, NULL, server_thread, r) != 0) {
		run_fail(r, false, "cannot create a thread");
		return -1;
	}
	if (pthread_create(&tc, NULL, client_thread, r) != 0) {
		/* the server waits in accept() for good: give up */
		fprintf(stderr, "tcpbench: %s: cannot create a thread\n",
		    r->st->name);
		fflush(stdout);
		_exit(1);
	}
	sleep_unless_failed(r, WARMUP_S);
	if (r->o->verbose) {
		char tag[64];

		snprintf(tag, sizeof(tag), "%s %s", r->st->name,
		    wl_name[r->w]);
		print_threads(tag);
	}
	o0 = atomic_load(&r->ops);
	c0 = process_cpu();
	t0 = now_s();
	sleep_unless_failed(r, r->o->duration);
	o1 = atomic_load(&r->ops);
	c1 = process_cpu();
	t1 = now_s();
	atomic_store(&r->stop, true);
	if (!wait_done(&r->client_done, STOP_TIMEOUT_S) ||
	    !wait_done(&r->server_done, STOP_TIMEOUT_S)) {
		fprintf(stderr, "tcpbench: %s: %s: the %s did not stop within "
		    "%d s (a stalled connection?)%s%s\n", r->st->name,
		    wl_name[r->w], atomic_load(&r->client_done) ? "server" :
		    "client", STOP_TIMEOUT_S,
		    atomic_load(&r->failed) ? "; first error: " : "",
		    atomic_load(&r->failed) ? r->err : "");
		fflush(stdout);
		_exit(1);
	}
	pthread_join(tc, NULL);
	pthread_join(ts, NULL);
	if (atomic_load(&r->failed))
		return -1;
	if (r->w == W_STREAM && r->received != atomic_load(&r->sent)) {
		run_fail(r, false, "stream: the server received %llu bytes, "
		    "the client sent %llu", (unsigned long long)r->received,
		    (unsigned long long)atomic_load(&r->sent));
		return -1;
	}
	if (o1 == o0) {
		run_fail(r, false, "%s: no progress in %.1f s", wl_name[r->w],
		    t1 - t0);
		return -1;
	}
	f->value = (double)(o1 - o0) / (t1 - t0);
	f->per_core = c1 > c0 ? (double)(o1 - o0) / (c1 - c0) : 0;
	f->cpus = (c1 - c0) / (t1 - t0);
	if (r->w == W_STREAM) {
		f->value = f->value * 8 / 1e9;
		f->per_core = f->per_core * 8 / 1e9;
	}
	f->ok = true;
	return 0;
}

static void
run_init(struct run *r, const struct opts *o, const struct stack *st,
    enum workload w, uint32_t srv_addr)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->st = st;
	r->w = w;
	r->srv.sin_family = AF_INET;
	r->srv.sin_port = htons(PORT);
	r->srv.sin_addr.s_addr = srv_addr;
	pthread_mutex_init(&r->err_lock, NULL);
}

/* ---- rumpnet ---- */

/*
 * Create an instance with its bus interface while this thread is pinned to
 * cpu, so that every thread it starts inherits that CPU.
 */
static int
rump_host(const struct opts *o, struct rump_bus *bus, int cpu,
    const char *ifname, const uint8_t mac[6], const char *addr,
    struct rump_kernel **kp)
{
	struct rump_kernel_config cfg;
	cpu_set_t saved;
	unsigned ifx;
	int error;

	sched_getaffinity(0, sizeof(saved), &saved);
	pin_self(cpu);
	rump_kernel_config_default(&cfg);
	cfg.softint_mode = o->softint;
	cfg.clock = RUMP_CLOCK_REAL;
	cfg.clock_thread = true;
	*kp = NULL;
	if ((error = rump_kernel_create(&cfg, kp)) == 0 &&
	    (error = rump_bus_attach(bus, *kp, ifname, mac, &ifx)) == 0 &&
	    (error = rump_if_set_mtu(*kp, ifx, RUMP_MTU)) == 0 &&
	    (error = rump_if_up(*kp, ifx)) == 0)
		error = rump_if_addr_add(*kp, ifx, inet_addr(addr), 24);
	sched_setaffinity(0, sizeof(saved), &saved);
	return error;
}

/*
 * One rumpnet figure.  Returns 0, -1 for a failed run, or -2 when socket()
 * failed (TCP missing: no use trying the other workloads).
 */
static int
rumpnet_figure(const struct opts *o, enum workload w, struct figure *f)
{
	static const uint8_t mac_c[6] = { 2, 0, 0, 0, 0, 0xc },
	    mac_s[6] = { 2, 0, 0, 0, 0, 0xd };
	struct rump_bus *bus;
	struct run r;
	int error, rv = 0;

	struct rump_bus_config bc;

	memset(f, 0, sizeof(*f));
	run_init(&r, o, &rumpnet_stack, w, inet_addr("198.18.0.2"));
	/* the same offloads as Linux's lo: TSO and no checksums in memory */
	rump_bus_config_default(&bc);
	bc.offload = o->linux_tso;
	if ((error = rump_bus_create(&bc, &bus)) != 0) {
		fprintf(stderr, "tcpbench: rumpnet: bus: %s\n",
		    strerror(error));
		return -1;
	}
	if ((error = rump_host(o, bus, o->cpu_client, "busc", mac_c,
	    "198.18.0.1", &r.kc)) != 0 ||
	    (error = rump_host(o, bus, o->cpu_server, "buss", mac_s,
	    "198.18.0.2", &r.ks)) != 0) {
		fprintf(stderr, "tcpbench: rumpnet: cannot set up the "
		    "instances: %s\n", strerror(error));
		rv = -1;
	} else if (measure(&r, f) != 0) {
		fprintf(stderr, "tcpbench: rumpnet: %s\n", r.err);
		rv = r.err_socket ? -2 : -1;
	}
	if (r.kc != NULL && (error = rump_kernel_destroy(r.kc)) != 0)
		fprintf(stderr, "tcpbench: rumpnet: destroy: %s\n",
		    strerror(error));
	if (r.ks != NULL && (error = rump_kernel_destroy(r.ks)) != 0)
		fprintf(stderr, "tcpbench: rumpnet: destroy: %s\n",
		    strerror(error));
	if ((error = rump_bus_destroy(bus)) != 0)
		fprintf(stderr, "tcpbench: rumpnet: bus destroy: %s\n",
		    strerror(error));
	pthread_mutex_destroy(&r.err_lock);
	return rv;
}

/* ---- Linux ---- */

/* What a Linux child sends back through its pipe. */
struct linux_result {
	struct figure f;
	bool netns;			/* a fresh namespace, else host lo */
	bool root;
	bool fatal;			/* no Linux figure can work */
	int mtu;			/* lo's MTU */
	char note[120];			/* why not a namespace */
	char err[240];
};

static int
lo_ioctl(unsigned long req, struct ifreq *ifr, char *err, size_t errlen)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0), rv = 0;

	if (s < 0 || ioctl(s, req, ifr) != 0) {
		snprintf(err, errlen, "lo: ioctl: %s", strerror(errno));
		rv = -1;
	}
	if (s >= 0)
		close(s);
	return rv;
}

static int
write_proc(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY), rv = 0;

	if (fd < 0)
		return -1;
	if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		rv = -1;
	close(fd);
	return rv;
}

/*
 * In the child: a fresh network namespace with lo up at MTU 1500 when we
 * may, else the host's loopback.  0 or -1 (res->err set).
 */
/* Turn lo's TSO and GSO off (the legacy ethtool commands). */
static int
lo_no_offload(struct linux_result *res)
{
	static const unsigned cmds[] = { ETHTOOL_STSO, ETHTOOL_SGSO };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct ethtool_value ev = { .cmd = cmds[i], .data = 0 };
		struct ifreq ifr;

		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
		ifr.ifr_data = (char *)&ev;
		if (lo_ioctl(SIOCETHTOOL, &ifr, res->err,
		    sizeof(res->err)) != 0)
			return -1;
	}
	return 0;
}

static int
linux_netns(const struct opts *o, struct linux_result *res)
{
	struct ifreq ifr;

	res->root = geteuid() == 0;
	if (res->root && unshare(CLONE_NEWNET) == 0) {
		res->netns = true;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
		ifr.ifr_mtu = LINUX_MTU;
		if (lo_ioctl(SIOCSIFMTU, &ifr, res->err,
		    sizeof(res->err)) != 0 ||
		    lo_ioctl(SIOCGIFFLAGS, &ifr, res->err,
		    sizeof(res->err)) != 0)
			return -1;
		ifr.ifr_flags |= IFF_UP;
		if (lo_ioctl(SIOCSIFFLAGS, &ifr, res->err,
		    sizeof(res->err)) != 0)
			return -1;
		if (!o->linux_tso && lo_no_offload(res) != 0)
			return -1;
		/*
		 * crr leaves a TIME_WAIT connection per transaction on the
		 * client: let connect() reuse them (per namespace; the
		 * default, 2, already does for loopback).
		 */
		write_proc("/proc/sys/net/ipv4/tcp_tw_reuse", "1");
	} else if (res->root) {
		snprintf(res->note, sizeof(res->note),
		    "unshare(CLONE_NEWNET): %s", strerror(errno));
	} else {
		snprintf(res->note, sizeof(res->note), "not root");
	}
	if (!res->netns && !o->linux_tso) {
		snprintf(res->err, sizeof(res->err), "--linux-tso off needs "
		    "a namespace of our own (%s)", res->note);
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (lo_ioctl(SIOCGIFMTU, &ifr, res->err, sizeof(res->err)) != 0)
		return -1;
	res->mtu = ifr.ifr_mtu;
	return 0;
}

static void
linux_child(const struct opts *o, enum workload w, struct linux_result *res)
{
	struct run r;

	if (linux_netns(o, res) != 0) {
		res->fatal = true;
		return;
	}
	run_init(&r, o, &linux_stack, w, htonl(INADDR_LOOPBACK));
	if (measure(&r, &res->f) != 0)
		snprintf(res->err, sizeof(res->err), "%s", r.err);
	pthread_mutex_destroy(&r.err_lock);
}

/* One Linux figure, in a child.  0 or -1; *res filled either way. */
static int
linux_figure(const struct opts *o, enum workload w, struct linux_result *res)
{
	int p[2], status;
	size_t got = 0;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe(p) != 0) {
		snprintf(res->err, sizeof(res->err), "pipe: %s",
		    strerror(errno));
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		snprintf(res->err, sizeof(res->err), "fork: %s",
		    strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		linux_child(o, w, res);
		if (write(p[1], res, sizeof(*res)) != (ssize_t)sizeof(*res))
			_exit(1);
		exit(0);	/* (under ASan, the leak check runs here too) */
	}
	close(p[1]);
	while (got < sizeof(*res)) {
		ssize_t n = read(p[0], (char *)res + got, sizeof(*res) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		continue;
	if (got != sizeof(*res)) {
		memset(res, 0, sizeof(*res));
		snprintf(res->err, sizeof(res->err), "the child died (status "
		    "%#x)", (unsigned)status);
		return -1;
	}
	return res->f.ok ? 0 : -1;
}

/* ---- main ---- */

#define MAX_REPEAT 101

/* The figures of one workload on one stack over the repeats. */
struct series {
	struct figure runs[MAX_REPEAT];
	unsigned n;
	bool failed;
};

static double
absd(double x)
{
	return x < 0 ? -x : x;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The median of a series (n >= 1) and its range; per-core and CPU figures
 * come from the run nearest the median.
 */
static struct figure
median(const struct series *s, double *lo, double *hi)
{
	double v[MAX_REPEAT], med;
	struct figure m;
	unsigned best = 0;

	for (unsigned i = 0; i < s->n; i++)
		v[i] = s->runs[i].value;
	qsort(v, s->n, sizeof(v[0]), cmp_double);
	*lo = v[0];
	*hi = v[s->n - 1];
	med = s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
	for (unsigned i = 1; i < s->n; i++)
		if (absd(s->runs[i].value - med) <
		    absd(s->runs[best].value - med))
			best = i;
	m = s->runs[best];
	m.value = med;
	return m;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tcpbench [--duration SEC] [--workload rr|crr|stream|all]\n"
	    "                [--stack rumpnet|linux|both] "
	    "[--softint inline|threads]\n"
	    "                [--msg BYTES] [--repeat N] [--sockbuf BYTES]\n"
	    "                [--busy-poll US] [--offload on|off] [--verbose]\n"
	    "  --duration SEC   seconds per figure (default 3)\n"
	    "  --workload W     rr: 1-byte request/response on one "
	    "connection;\n"
	    "                   crr: connect, request/response, close;\n"
	    "                   stream: bulk transfer; all (default)\n"
	    "  --stack S        rumpnet (two instances on the bus), linux "
	    "(loopback),\n"
	    "                   both (default, with the ratio)\n"
	    "  --softint M      rumpnet soft interrupts: inline (default) "
	    "or threads\n"
	    "  --msg BYTES      stream: bytes per send() (default 65536)\n"
	    "  --repeat N       runs per figure; prints the median "
	    "(default 1)\n"
	    "  --sockbuf BYTES  SO_SNDBUF and SO_RCVBUF on every socket "
	    "(default: the\n"
	    "                   stack's own)\n"
	    "  --busy-poll US   SO_BUSY_POLL on every socket, both stacks "
	    "(default 50;\n"
	    "                   0: off)\n"
	    "  --offload T      (or --linux-tso) on (default): both stacks use TSO "
	    "and\n"
	    "                   checksum offload (the bus like Linux's lo); off: "
	    "neither\n"
	    "  (Linux's side:)  on: lo keeps TSO/GSO, so "
	    "its stream\n"
	    "                   moves 64 KiB segments whatever the MTU; off: "
	    "1500-byte\n"
	    "                   segments, like rumpnet (namespace only, "
	    "root)\n"
	    "  --verbose        per-run figures and thread placement on "
	    "stderr\n");
}

/* Parse a positive number with an optional K/M suffix (powers of 2). */
static bool
parse_size(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return false;
	if (*end == 'K' || *end == 'k')
		x *= 1024, end++;
	else if (*end == 'M' || *end == 'm')
		x *= 1024 * 1024, end++;
	if (*end != '\0' || x == 0 || x > max)
		return false;
	*v = x;
	return true;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long long n;
		char *end;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
			o->verbose = true;
			continue;
		}
		if (v == NULL)
			return -1;
		i++;
		if (strcmp(a, "--duration") == 0) {
			o->duration = strtod(v, &end);
			if (*end != '\0' || !(o->duration > 0) ||
			    o->duration > 3600)
				return -1;
		} else if (strcmp(a, "--workload") == 0) {
			bool all = strcmp(v, "all") == 0, found = all;

			for (int w = 0; w < W_COUNT; w++) {
				o->workload[w] = all ||
				    strcmp(v, wl_name[w]) == 0;
				found |= o->workload[w];
			}
			if (!found)
				return -1;
		} else if (strcmp(a, "--stack") == 0) {
			o->rumpnet = strcmp(v, "rumpnet") == 0 ||
			    strcmp(v, "both") == 0;
			o->linux_stack = strcmp(v, "linux") == 0 ||
			    strcmp(v, "both") == 0;
			if (!o->rumpnet && !o->linux_stack)
				return -1;
		} else if (strcmp(a, "--softint") == 0) {
			if (strcmp(v, "inline") == 0)
				o->softint = RUMP_SOFTINT_INLINE;
			else if (strcmp(v, "threads") == 0)
				o->softint = RUMP_SOFTINT_THREADS;
			else
				return -1;
		} else if (strcmp(a, "--msg") == 0) {
			if (!parse_size(v, 64ULL << 20, &n))
				return -1;
			o->msg = (size_t)n;
		} else if (strcmp(a, "--repeat") == 0) {
			if (!parse_size(v, MAX_REPEAT, &n))
				return -1;
			o->repeat = (unsigned)n;
		} else if ((strcmp(a, "--offload") == 0 ||
		    strcmp(a, "--linux-tso") == 0)) {
			if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
				return -1;
			o->linux_tso = strcmp(v, "on") == 0;
		} else if (strcmp(a, "--busy-poll") == 0) {
			if (v != NULL && strcmp(v, "0") == 0)
				n = 0;
			else if (!parse_size(v, 1000000, &n))
				return -1;
			o->busy_poll = (int)n;
		} else if (strcmp(a, "--sockbuf") == 0) {
			if (!parse_size(v, 1ULL << 30, &n))
				return -1;
			o->sockbuf = (int)n;
		} else {
			return -1;
		}
	}
	return 0;
}

/* The first two CPUs this process may run on: client and server. */
static void
pick_cpus(struct opts *o)
{
	cpu_set_t set;
	int found = 0;

	o->cpu_client = o->cpu_server = -1;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && found < 2; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		if (found++ == 0)
			o->cpu_client = c;
		else
			o->cpu_server = c;
	}
	if (found < 2)
		o->cpu_client = o->cpu_server = -1;
}

static const char *
fmt_value(enum workload w, double v, char *buf, size_t len)
{
	snprintf(buf, len, w == W_STREAM ? "%.2f" : "%.0f", v);
	return buf;
}

int
main(int argc, char **argv)
{
	static struct series rs[W_COUNT], ls[W_COUNT];
	struct opts o = {
		.duration = 3, .rumpnet = true, .linux_stack = true,
		.softint = RUMP_SOFTINT_INLINE, .msg = 65536, .repeat = 1,
		.linux_tso = true,
		.busy_poll = 50,
	};
	bool rumpnet_dead = false, linux_dead = false, noted = false;
	bool all_ok = true;
	char where[300] = "";

	for (int w = 0; w < W_COUNT; w++)
		o.workload[w] = true;
	if (parse_args(argc, argv, &o) != 0) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	pick_cpus(&o);

	for (int w = 0; w < W_COUNT; w++) {
		if (!o.workload[w])
			continue;
		for (unsigned i = 0; i < o.repeat; i++) {
			struct linux_result lr;
			struct figure f;
			int rv;

			if (o.rumpnet && !rumpnet_dead && !rs[w].failed) {
				rv = rumpnet_figure(&o, (enum workload)w, &f);
				if (rv == 0)
					rs[w].runs[rs[w].n++] = f;
				if (rv == 0 && o.verbose)
					fprintf(stderr, "tcpbench: rumpnet %s "
					    "run %u: %g %s, per core %g, "
					    "%.2f CPUs\n", wl_name[w], i + 1,
					    f.value, wl_unit[w], f.per_core,
					    f.cpus);
				rs[w].failed = rv != 0;
				rumpnet_dead = rv == -2;
			}
			if (!o.linux_stack || linux_dead || ls[w].failed)
				continue;
			rv = linux_figure(&o, (enum workload)w, &lr);
			if (!noted && lr.mtu > 0) {
				if (lr.netns)
					snprintf(where, sizeof(where),
					    "fresh network namespace, lo MTU "
					    "%d, TSO/GSO %s", lr.mtu,
					    o.linux_tso ? "on" : "off");
				else
					snprintf(where, sizeof(where),
					    "%s, host loopback (MTU %d)",
					    lr.note, lr.mtu);
				printf("tcpbench: linux: %s\n", where);
				fflush(stdout);
				noted = true;
			}
			if (rv == 0 && o.verbose)
				fprintf(stderr, "tcpbench: linux %s run %u: "
				    "%g %s, per core %g, %.2f CPUs\n",
				    wl_name[w], i + 1, lr.f.value, wl_unit[w],
				    lr.f.per_core, lr.f.cpus);
			if (rv == 0) {
				ls[w].runs[ls[w].n++] = lr.f;
			} else {
				fprintf(stderr, "tcpbench: linux: %s\n",
				    lr.err);
				ls[w].failed = true;
				linux_dead = lr.fatal;
			}
		}
	}

	/* BENCH lines */
	struct figure rm[W_COUNT], lm[W_COUNT];
	double rlo[W_COUNT], rhi[W_COUNT], llo[W_COUNT], lhi[W_COUNT];
	bool rok[W_COUNT], lok[W_COUNT];

	for (int w = 0; w < W_COUNT; w++) {
		char b[32];

		if (!o.workload[w])
			continue;
		rok[w] = o.rumpnet && !rs[w].failed && rs[w].n > 0;
		lok[w] = o.linux_stack && !ls[w].failed && ls[w].n > 0;
		if ((o.rumpnet && !rok[w]) || (o.linux_stack && !lok[w]))
			all_ok = false;
		if (rok[w]) {
			rm[w] = median(&rs[w], &rlo[w], &rhi[w]);
			printf("BENCH tcp_%s_rumpnet %s %s\n", wl_name[w],
			    fmt_value((enum workload)w, rm[w].value, b,
			    sizeof(b)), wl_unit[w]);
		}
		if (lok[w]) {
			lm[w] = median(&ls[w], &llo[w], &lhi[w]);
			printf("BENCH tcp_%s_linux %s %s\n", wl_name[w],
			    fmt_value((enum workload)w, lm[w].value, b,
			    sizeof(b)), wl_unit[w]);
		}
		if (rok[w] && lok[w] && lm[w].value > 0)
			printf("BENCH tcp_%s_ratio %.2f x\n", wl_name[w],
			    rm[w].value / lm[w].value);
	}

	/* the table */
	printf("\ntcpbench: %.1f s per figure, median of %u; ", o.duration,
	    o.repeat);
	if (o.cpu_client >= 0)
		printf("client on CPU %d, server on CPU %d (both stacks)\n",
		    o.cpu_client, o.cpu_server);
	else
		printf("one CPU available, threads not pinned\n");
	if (o.rumpnet)
		printf("rumpnet: two instances on the bus, MTU %d, softints "
		    "%s%s\n", RUMP_MTU, o.softint == RUMP_SOFTINT_INLINE ?
		    "inline" : "threads", rumpnet_dead ? " (TCP unavailable)" :
		    "");
	if (o.linux_stack && noted)
		printf("linux: %s\n", where);
	if (o.workload[W_STREAM])
		printf("stream: %zu bytes per send()%s\n", o.msg,
		    o.sockbuf > 0 ? "" : ", default socket buffers");
	if (o.sockbuf > 0)
		printf("SO_SNDBUF = SO_RCVBUF = %d on every socket\n",
		    o.sockbuf);
	if (o.busy_poll > 0)
		printf("SO_BUSY_POLL = %d us on every socket\n", o.busy_poll);
	printf("%-8s %-8s %12s %12s %12s %12s %8s %8s\n", "workload", "unit",
	    "rumpnet", "per core", "linux", "per core", "ratio", "target");
	for (int w = 0; w < W_COUNT; w++) {
		char b[4][32];
		const char *ratio = "-";
		char rb[32];

		if (!o.workload[w])
			continue;
		if (rok[w] && lok[w] && lm[w].value > 0) {
			double x = rm[w].value / lm[w].value;

			snprintf(rb, sizeof(rb), "%.2f", x);
			ratio = rb;
		}
		printf("%-8s %-8s %12s %12s %12s %12s %8s %7.0fx",
		    wl_name[w], wl_unit[w],
		    rok[w] ? fmt_value((enum workload)w, rm[w].value, b[0],
		    32) : o.rumpnet ? "failed" : "-",
		    rok[w] ? fmt_value((enum workload)w, rm[w].per_core, b[1],
		    32) : "-",
		    lok[w] ? fmt_value((enum workload)w, lm[w].value, b[2],
		    32) : o.linux_stack ? "failed" : "-",
		    lok[w] ? fmt_value((enum workload)w, lm[w].per_core, b[3],
		    32) : "-", ratio, wl_target[w]);
		if (rok[w] && lok[w] && lm[w].value > 0)
			printf(" %s", rm[w].value / lm[w].value >=
			    wl_target[w] ? "met" : "not met");
		printf("\n");
	}
	if (o.repeat > 1) {
		printf("range over %u runs:\n", o.repeat);
		for (int w = 0; w < W_COUNT; w++) {
			char b[4][32];

			if (!o.workload[w])
				continue;
			if (rok[w])
				printf("  %-7s rumpnet %s .. %s %s\n",
				    wl_name[w], fmt_value((enum workload)w,
				    rlo[w], b[0], 32), fmt_value(
				    (enum workload)w, rhi[w], b[1], 32),
				    wl_unit[w]);
			if (lok[w])
				printf("  %-7s linux   %s .. %s %s\n",
				    wl_name[w], fmt_value((enum workload)w,
				    llo[w], b[2], 32), fmt_value(
				    (enum workload)w, lhi[w], b[3], 32),
				    wl_unit[w]);
		}
	}
	printf("per core: the figure per CPU-second of all the stack's "
	    "threads (both ends)\n");
	return all_ok ? 0 : 1;
}
