/*
 * udpbench -- 64-byte UDP datagrams through the whole receive path of an
 * instance: bus receive thread (the hardware interrupt LWP) -> Ethernet ->
 * IPv4 -> UDP -> socket buffer -> the application's recvfrom().
 *
 * Two instances in this process share a bus (real clock).  A's application
 * thread sends; B's application thread receives.  The sender keeps at most
 * WINDOW datagrams in flight (an application-level window), so nothing is
 * dropped and every frame B processes is one the application receives.
 *
 * As in production (DESIGN.md, one instance per core), everything of the
 * receiving instance runs on one host CPU: B's receive thread (its
 * hardware interrupt LWP), its soft interrupt threads (threads mode) and
 * its application thread are pinned to CPU 1, the sender to CPU 0.
 * Per-core figures divide the datagrams received by the CPU time of those
 * receiving threads, read from /proc/self/task (so the sender's CPU is not
 * counted), or by CPU 1's busy time if that is more.  B's port has
 * receive interrupt moderation (coalesce_us below), so that the receive
 * path takes frames in bursts and idles between them, as it would behind
 * a NIC, instead of spinning through bursts of two or three frames at the
 * pace of the sender, which is the slower side.
 *
 * Two layouts of the receiver: host threads (B's receive thread and an
 * application thread, which the host scheduler switches between), and
 * fibers (B's interface attached with rump_bus_attach_fiber() by the
 * application's host thread, whose fibers are then the receive loop and
 * the application: in inline mode a datagram goes from the wire to
 * recvfrom() without a host thread wake-up; in threads mode the softnet
 * thread still wakes the application across host threads).  The same workload
 * over the Linux kernel's UDP on loopback runs in the same process as the
 * reference; there the kernel does the receive path inside the sender's
 * sendto(), so its per-core figure divides by the CPU time of both threads
 * (the sender sleeps rather than spins while its window is full; the
 * rumpnet sender spins, on its own CPU, which is not counted).  The bus
 * has its offloads on: UDP checksums are left to the "hardware" as a NIC
 * checks them (and Linux's lo skips them).
 *
 * The machine is shared and its speed drifts: --repeat N runs every
 * configuration N times, round by round (each round runs them all, so a
 * slow spell spreads over all of them), and the BENCH lines give the
 * medians; a ratio's is the median of the rounds' ratios.
 *
 * Usage: udpbench [--seconds N] [--quick] [--inline-only] [--repeat N]
 *        [--coalesce-us N]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "median.h"
#include "rumpnet/bus.h"
#include "rumpnet/kernel.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

#define PAYLOAD 64
#define WINDOW 512
#define RECV_PUBLISH 32
#define PORT 9

static double seconds = 3.0;
/*
 * B's interrupt moderation (rx_coalesce_us of the bus), in both softint
 * modes: without it the receive loop, faster than the one sender, takes
 * bursts of a few frames as they come and is never idle, so that its
 * per-core figure is the sender's rate.
 */
static unsigned coalesce_us = 20;

struct run {
	/* rumpnet side */
	struct rump_kernel *a, *b;
	int fa, fb;
	/* linux side */
	int la, lb;
	bool linux_stack;
	/* fiber layout: B's receive loop and application are fibers */
	bool fibers;
	struct rump_bus *bus;
	unsigned ib;
	_Atomic bool ready;		/* B's socket is bound */
	struct sockaddr_in to;
	/*
	 * Each on a line of its own: the sender writes sent, the receiver
	 * received, and a line they both wrote would cross between the
	 * CPUs once per datagram.
	 */
	_Alignas(64) _Atomic uint64_t sent;
	_Alignas(64) _Atomic uint64_t received;
	_Alignas(64) _Atomic bool stop;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * What this process's threads whose name starts with one of the prefixes
 * (comma separated) used so far: the CPU seconds the scheduler accounts
 * in /proc/self/task/TID/schedstat, and their host context switches
 * (voluntary and not, from .../status).
 */
struct thread_use {
	double cpu;
	unsigned long long switches;
};

static bool
name_matches(const char *comm, const char *prefixes)
{
	char list[256], *save = NULL;

	snprintf(list, sizeof(list), "%s", prefixes);
	for (char *p = strtok_r(list, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save))
		if (strncmp(comm, p, strlen(p)) == 0)
			return true;
	return false;
}

static struct thread_use
threads_use(const char *prefixes)
{
	struct thread_use u = { 0, 0 };
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;

	if (d == NULL)
		return u;
	while ((de = readdir(d)) != NULL) {
		char path[300], line[256], comm[64] = "";
		unsigned long long ns, n;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) == NULL)
			comm[0] = '\0';
		fclose(f);
		if (!name_matches(comm, prefixes))
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat",
		    de->d_name);
		if ((f = fopen(path, "r")) != NULL) {
			if (fscanf(f, "%llu", &ns) == 1)
				u.cpu += (double)ns / 1e9;
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/self/task/%s/status",
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "voluntary_ctxt_switches: %llu",
			    &n) == 1 || sscanf(line,
			    "nonvoluntary_ctxt_switches: %llu", &n) == 1)
				u.switches += n;
		fclose(f);
	}
	closedir(d);
	return u;
}

/*
 * CPU seconds host CPU cpu was busy so far (user, system, interrupts: not
 * idle, not steal), from /proc/stat; 0 if unreadable.
 */
static double
cpu_busy(int cpu)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[512], name[16];
	double busy = 0;
	long hz = sysconf(_SC_CLK_TCK);

	if (f == NULL)
		return 0;
	snprintf(name, sizeof(name), "cpu%d ", cpu);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long user, nice, sys, idle, iowait, irq, softirq;

		if (strncmp(line, name, strlen(name)) != 0)
			continue;
		if (sscanf(line + strlen(name), "%llu %llu %llu %llu %llu %llu "
		    "%llu", &user, &nice, &sys, &idle, &iowait, &irq,
		    &softirq) == 7 && hz > 0)
			busy = (double)(user + nice + sys + irq + softirq) /
			    (double)hz;
		break;
	}
	fclose(f);
	return busy;
}

/* Pin this process's threads whose name starts with prefix to cpu. */
static void
pin_threads(const char *prefix, int cpu)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	cpu_set_t set;

	if (d == NULL)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	while ((de = readdir(d)) != NULL) {
		char path[300], comm[64] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL &&
		    strncmp(comm, prefix, strlen(prefix)) == 0)
			sched_setaffinity(atoi(de->d_name), sizeof(set), &set);
		fclose(f);
	}
	closedir(d);
}

static int ncpus;
static bool cpu1_ours;		/* CPU 1 is in this process's affinity */

static void
pin_self(int cpu)
{
	cpu_set_t set;

	if (ncpus < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 0xa };
static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0, 0xb };

/* B's receiving socket, bound to PORT; the caller is bound to B. */
static int
open_b(void)
{
	struct sockaddr_in bind_b = { .sin_family = AF_INET };
	int big = 4 * 1024 * 1024, fd;

	fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	bind_b.sin_port = htons(PORT);
	bind_b.sin_addr.s_addr = inet_addr("198.18.0.2");
	rump_sys_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (rump_sys_bind(fd, (struct sockaddr *)&bind_b,
	    sizeof(bind_b)) != 0) {
		perror("udpbench: bind");
		exit(1);
	}
	return fd;
}

/* One datagram from the receiving socket of either stack. */
static ssize_t
recv_one(struct run *r, char *buf, size_t len, int flags)
{
	return r->linux_stack ? recv(r->lb, buf, len, flags) :
	    rump_sys_recv(r->fb, buf, len, flags);
}

/* Add the datagrams counted since the last time to r->received. */
static void
publish(struct run *r, unsigned *got)
{
	atomic_fetch_add_explicit(&r->received, *got, memory_order_relaxed);
	*got = 0;
}

static void
receive_loop(struct run *r)
{
	char buf[2048];
	unsigned got = 0;

	/*
	 * The count is published RECV_PUBLISH datagrams at a time and
	 * whenever the socket is drained: the sender reads it to keep its
	 * window, and a line written per datagram and read from the other
	 * CPU costs a cache miss per datagram.
	 */
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		ssize_t n = recv_one(r, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EAGAIN) {
			/* drained: publish what came before waiting */
			publish(r, &got);
			n = recv_one(r, buf, sizeof(buf), 0);
		}
		if (n == PAYLOAD && ++got == RECV_PUBLISH)
			publish(r, &got);
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			break;
	}
}

/* fiber layout: B's application, a fiber next to B's receive loop */
static void
receiver_fiber(void *arg)
{
	struct run *r = arg;

	r->fb = open_b();
	atomic_store(&r->ready, true);
	receive_loop(r);
	rump_sys_close(r->fb);
}

static void *
receiver(void *arg)
{
	struct run *r = arg;

	pthread_setname_np(pthread_self(), "udprecv");
	pin_self(1);
	if (r->linux_stack) {
		receive_loop(r);
		return NULL;
	}
	if (r->fibers) {
		/*
		 * B's interface is attached here, so its receive loop is a
		 * fiber of this thread, as is the application: this one
		 * host thread is all of B's receive path (but for the
		 * softint threads of threads mode).
		 */
		if (rump_bus_attach_fiber(r->bus, r->b, "busb", mac_b,
		    &r->ib) != 0 || rump_if_up(r->b, r->ib) != 0 ||
		    rump_if_addr_add(r->b, r->ib, inet_addr("198.18.0.2"),
		    24) != 0 || rump_fiber_spawn(r->b, receiver_fiber, r,
		    0) != 0) {
			fprintf(stderr, "udpbench: cannot attach B\n");
			exit(1);
		}
		rump_fiber_run();
		rump_if_destroy(r->b, r->ib);	/* before its fiber's thread goes */
		return NULL;
	}
	rump_thread_bind(r->b);
	receive_loop(r);
	rump_thread_unbind();
	return NULL;
}

static void *
sender(void *arg)
{
	struct run *r = arg;
	char payload[PAYLOAD];

	pthread_setname_np(pthread_self(), "udpsend");
	pin_self(0);
	memset(payload, 0x5a, sizeof(payload));
	if (!r->linux_stack)
		rump_thread_bind(r->a);
	while (!atomic_load(&r->ready) && !atomic_load(&r->stop))
		usleep(1000);
	while (!atomic_load(&r->stop)) {
		uint64_t s = atomic_load_explicit(&r->sent,
		    memory_order_relaxed);

		if (s - atomic_load_explicit(&r->received,
		    memory_order_relaxed) >= WINDOW) {
			/*
			 * Window full.  Linux does its receive path inside
			 * this thread's sendto(), so its CPU counts: sleep
			 * there.  rumpnet's sender has CPU 0 to itself and
			 * its CPU does not count: wait busily, so the
			 * receiver is kept saturated instead of starved by
			 * a timer's slack.
			 */
			if (r->linux_stack) {
				struct timespec ts = { 0, 10000 };

				nanosleep(&ts, NULL);
			}
			continue;
		}
		ssize_t n = r->linux_stack ?
		    sendto(r->la, payload, sizeof(payload), 0,
		    (struct sockaddr *)&r->to, sizeof(r->to)) :
		    rump_sys_sendto(r->fa, payload, sizeof(payload), 0,
		    (struct sockaddr *)&r->to, sizeof(r->to));
		if (n == PAYLOAD)
			atomic_fetch_add_explicit(&r->sent, 1,
			    memory_order_relaxed);
	}
	if (!r->linux_stack)
		rump_thread_unbind();
	return NULL;
}

/*
 * What a run measured: datagrams received per second of wall time and per
 * second of the receiving CPU's time, and the receiving threads' host
 * context switches per 1000 datagrams.
 */
struct result {
	double pps;
	double per_core;
	double switches;
};

/* Run the workload for `seconds`. */
static void
measure(struct run *r, const char *rx_threads, struct result *res)
{
	pthread_t ts, tr;
	struct thread_use u0, u1;
	double t0, t1, c0, c1, b0 = 0, b1 = 0;
	uint64_t r0, r1;

	atomic_store(&r->stop, false);
	pthread_create(&tr, NULL, receiver, r);
	pthread_create(&ts, NULL, sender, r);
	usleep(300 * 1000);	/* warm up: ARP, caches, pools */
	r0 = atomic_load(&r->received);
	u0 = threads_use(rx_threads);
	c0 = u0.cpu;
	if (!r->linux_stack && cpu1_ours)
		b0 = cpu_busy(1);
	t0 = now_s();
	usleep((useconds_t)(seconds * 1e6));
	r1 = atomic_load(&r->received);
	u1 = threads_use(rx_threads);
	c1 = u1.cpu;
	if (!r->linux_stack && cpu1_ours)
		b1 = cpu_busy(1);
	t1 = now_s();
	atomic_store(&r->stop, true);
	pthread_join(ts, NULL);
	/* wake the receiver: one more datagram (it may be blocked) */
	if (r->linux_stack) {
		shutdown(r->lb, SHUT_RD);
	} else {
		char x[PAYLOAD] = { 0 };

		rump_thread_bind(r->a);
		rump_sys_sendto(r->fa, x, sizeof(x), 0,
		    (struct sockaddr *)&r->to, sizeof(r->to));
		rump_thread_unbind();
	}
	pthread_join(tr, NULL);
	/*
	 * The receiving threads' CPU time, or the receiving CPU's busy time
	 * if that is more (it also has the host's work for them: the timer
	 * interrupts that end their moderation sleeps, their wake-ups; and
	 * whatever else ran on CPU 1, which can only lower the figure).
	 */
	if (b1 - b0 > c1 - c0)
		c1 = c0 + (b1 - b0);
	res->per_core = c1 > c0 ? (double)(r1 - r0) / (c1 - c0) : 0;
	res->pps = (double)(r1 - r0) / (t1 - t0);
	res->switches = r1 > r0 ? 1000.0 * (double)(u1.switches -
	    u0.switches) / (double)(r1 - r0) : 0;
}

static int
rumpnet_run(enum rump_softint_mode mode, bool fibers, struct result *res)
{
	struct rump_kernel_config cfg;
	struct rump_bus_config bcfg;
	struct run r;
	unsigned ia;

	memset(&r, 0, sizeof(r));
	r.fibers = fibers;
	rump_kernel_config_default(&cfg);
	cfg.softint_mode = mode;
	/* checksums offloaded, as a NIC does them (and Linux's lo skips them) */
	rump_bus_config_default(&bcfg);
	bcfg.offload = true;
	bcfg.rx_coalesce_us = coalesce_us;
	if (rump_bus_create(&bcfg, &r.bus) != 0 ||
	    rump_kernel_create(&cfg, &r.a) != 0 ||
	    rump_kernel_create(&cfg, &r.b) != 0 ||
	    rump_bus_attach(r.bus, r.a, "busa", mac_a, &ia) != 0 ||
	    (!fibers && rump_bus_attach(r.bus, r.b, "busb", mac_b,
	    &r.ib) != 0) ||
	    rump_if_up(r.a, ia) != 0 ||
	    (!fibers && rump_if_up(r.b, r.ib) != 0) ||
	    rump_if_addr_add(r.a, ia, inet_addr("198.18.0.1"), 24) != 0 ||
	    (!fibers && rump_if_addr_add(r.b, r.ib, inet_addr("198.18.0.2"),
	    24) != 0)) {
		fprintf(stderr, "udpbench: cannot set up the instances\n");
		return -1;
	}
	if (!fibers) {
		rump_thread_bind(r.b);
		r.fb = open_b();
		rump_thread_unbind();
		atomic_store(&r.ready, true);
	}
	/* no datagram waits for ARP (or is dropped by its hold queue) */
	if (rump_arp_add(r.a, ia, inet_addr("198.18.0.2"), mac_b) != 0) {
		fprintf(stderr, "udpbench: cannot add the ARP entry\n");
		return -1;
	}
	rump_thread_bind(r.a);
	r.fa = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	rump_thread_unbind();
	r.to.sin_family = AF_INET;
	r.to.sin_port = htons(PORT);
	r.to.sin_addr.s_addr = inet_addr("198.18.0.2");
	if (ncpus >= 2) {
		pin_threads("busbrx", 1);
		pin_threads("soft", 1);
	}
	measure(&r, "busbrx,softnet,udprecv", res);
	rump_thread_bind(r.a);
	rump_sys_close(r.fa);
	rump_thread_unbind();
	if (!fibers) {
		rump_thread_bind(r.b);
		rump_sys_close(r.fb);
		rump_thread_unbind();
	}
	/* what is still on the wire (an ICMP error for the last) lands */
	(void)rump_bus_quiesce(r.bus, 2000);
	if (rump_kernel_leaks(r.a) != 0 || rump_kernel_leaks(r.b) != 0)
		fprintf(stderr, "udpbench: pools not back to zero (%s, %s: "
		    "A %llu, B %llu)\n", fibers ? "fibers" : "host threads",
		    mode == RUMP_SOFTINT_INLINE ? "inline" : "threads",
		    (unsigned long long)rump_kernel_leaks(r.a),
		    (unsigned long long)rump_kernel_leaks(r.b));
	rump_kernel_destroy(r.a);
	rump_kernel_destroy(r.b);
	rump_bus_destroy(r.bus);
	return 0;
}

static int
linux_run(struct result *res)
{
	struct run r;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int big = 4 * 1024 * 1024;

	memset(&r, 0, sizeof(r));
	r.linux_stack = true;
	atomic_store(&r.ready, true);
	r.la = socket(AF_INET, SOCK_DGRAM, 0);
	r.lb = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(r.lb, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(r.lb, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(r.lb, (struct sockaddr *)&a, &len) != 0) {
		perror("udpbench: linux bind");
		return -1;
	}
	r.to = a;
	measure(&r, "udprecv,udpsend", res);
	close(r.la);
	close(r.lb);
	return 0;
}

#define MAX_REPEAT 100

int
main(int argc, char **argv)
{
	/*
	 * [layout][mode][round]: layout 0 host threads, 1 fibers; mode 0
	 * inline, 1 threads; rt the round's per-core inline/threads ratio.
	 */
	static struct result rr[2][2][MAX_REPEAT], rl[MAX_REPEAT];
	static double rt[2][MAX_REPEAT], v[MAX_REPEAT];
	struct result p[2][2], pl;
	double t[2];
	const char *lname[2] = { "", "_fibers" };
	const char *row[2][2] = {
		{ "rumpnet, host threads, inline",
		    "rumpnet, host threads, threads" },
		{ "rumpnet, fibers, inline", "rumpnet, fibers, threads" },
	};
	bool only_inline = false;
	int repeat = 1;

	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	{
		cpu_set_t set;

		CPU_ZERO(&set);
		cpu1_ours = ncpus >= 2 &&
		    sched_getaffinity(0, sizeof(set), &set) == 0 &&
		    CPU_ISSET(1, &set);
	}

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--quick") == 0)
			seconds = 1.0;
		else if (strcmp(argv[i], "--inline-only") == 0)
			only_inline = true;	/* for profiling */
		else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc &&
		    atoi(argv[i + 1]) >= 1 && atoi(argv[i + 1]) <= MAX_REPEAT)
			repeat = atoi(argv[++i]);
		else if (strcmp(argv[i], "--coalesce-us") == 0 &&
		    i + 1 < argc && atoi(argv[i + 1]) >= 0 &&
		    atoi(argv[i + 1]) <= 1000)
			coalesce_us = (unsigned)atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: udpbench [--seconds N] "
			    "[--quick] [--inline-only] [--repeat 1-%d] "
			    "[--coalesce-us 0-1000]\n", MAX_REPEAT);
			return 2;
		}
	}
	for (int n = 0; n < repeat; n++) {
		for (int f = 0; f < 2; f++) {
			if (rumpnet_run(RUMP_SOFTINT_INLINE, f == 1,
			    &rr[f][0][n]) != 0)
				return 1;
			if (!only_inline && rumpnet_run(RUMP_SOFTINT_THREADS,
			    f == 1, &rr[f][1][n]) != 0)
				return 1;
			rt[f][n] = rr[f][1][n].per_core > 0 ?
			    rr[f][0][n].per_core / rr[f][1][n].per_core : 0;
		}
		if (!only_inline && linux_run(&rl[n]) != 0)
			return 1;
		if (repeat > 1)
			printf("udpbench: round %d/%d: per core inline %.0f "
			    "threads %.0f (%.2fx), fibers inline %.0f threads "
			    "%.0f (%.2fx), linux %.0f\n", n + 1, repeat,
			    rr[0][0][n].per_core, rr[0][1][n].per_core,
			    rt[0][n], rr[1][0][n].per_core,
			    rr[1][1][n].per_core, rt[1][n], rl[n].per_core);
	}
#define MEDIAN_OF(dst, src, field) do {					\
	for (int n_ = 0; n_ < repeat; n_++)				\
		v[n_] = (src)[n_].field;				\
	(dst).field = median(v, (unsigned)repeat);			\
} while (0)
	for (int f = 0; f < 2; f++) {
		for (int m = 0; m < 2; m++) {
			MEDIAN_OF(p[f][m], rr[f][m], pps);
			MEDIAN_OF(p[f][m], rr[f][m], per_core);
			MEDIAN_OF(p[f][m], rr[f][m], switches);
		}
		t[f] = median(rt[f], (unsigned)repeat);
	}
	MEDIAN_OF(pl, rl, pps);
	MEDIAN_OF(pl, rl, per_core);
	MEDIAN_OF(pl, rl, switches);
#undef MEDIAN_OF
	for (int f = 0; f < 2; f++) {
		printf("BENCH udp_rx_pps_inline%s %.0f pps\n", lname[f],
		    p[f][0].pps);
		printf("BENCH udp_rx_pps_per_core_inline%s %.0f pps\n",
		    lname[f], p[f][0].per_core);
		printf("BENCH udp_rx_pps_threads%s %.0f pps\n", lname[f],
		    p[f][1].pps);
		printf("BENCH udp_rx_pps_per_core_threads%s %.0f pps\n",
		    lname[f], p[f][1].per_core);
		printf("BENCH udp_rx_per_core_inline_over_threads%s %.2f x\n",
		    lname[f], t[f]);
	}
	printf("BENCH linux_udp_loopback_pps %.0f pps\n", pl.pps);
	printf("BENCH linux_udp_loopback_pps_per_core %.0f pps\n",
	    pl.per_core);
	printf("\nudpbench: %d-byte datagrams, %.1f s per run, receive "
	    "moderation %u us%s\n", PAYLOAD, seconds, coalesce_us,
	    repeat > 1 ? ", medians of the rounds" : "");
	printf("%-34s %12s %14s %18s\n", "receive path", "pps (wall)",
	    "pps per core", "switches per 1000");
	for (int f = 0; f < 2; f++)
		for (int m = 0; m < 2; m++)
			printf("%-34s %12.0f %14.0f %18.1f\n", row[f][m],
			    p[f][m].pps, p[f][m].per_core, p[f][m].switches);
	printf("%-34s %12.0f %14.0f %18.1f\n", "linux, loopback", pl.pps,
	    pl.per_core, pl.switches);
	return 0;
}
