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
 * counted).  The same workload
 * over the Linux kernel's UDP on loopback runs in the same process as the
 * reference; there the kernel does the receive path inside the sender's
 * sendto(), so its per-core figure divides by the CPU time of both threads
 * (the sender sleeps rather than spins while its window is full; the
 * rumpnet sender spins, on its own CPU, which is not counted).
 *
 * Usage: udpbench [--seconds N] [--quick] [--inline-only]
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

#include "rumpnet/bus.h"
#include "rumpnet/kernel.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

#define PAYLOAD 64
#define WINDOW 512
#define PORT 9

static double seconds = 3.0;

struct run {
	/* rumpnet side */
	struct rump_kernel *a, *b;
	int fa, fb;
	/* linux side */
	int la, lb;
	bool linux_stack;
	_Atomic uint64_t sent;
	_Atomic uint64_t received;
	_Atomic bool stop;
	struct sockaddr_in to;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * CPU seconds used so far by this process's threads whose name starts
 * with one of the prefixes (comma separated): the run time the scheduler
 * accounts in /proc/self/task/TID/schedstat, in nanoseconds.
 */
static double
threads_cpu(const char *prefixes)
{
	double total = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[300], comm[64] = "";
		unsigned long long ns;
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
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat",
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(f, "%llu", &ns) != 1)
			ns = 0;
		fclose(f);
		char list[256], *save = NULL;
		snprintf(list, sizeof(list), "%s", prefixes);
		for (char *p = strtok_r(list, ",", &save); p != NULL;
		    p = strtok_r(NULL, ",", &save)) {
			if (strncmp(comm, p, strlen(p)) == 0) {
				total += (double)ns / 1e9;
				break;
			}
		}
	}
	closedir(d);
	return total;
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

static void *
receiver(void *arg)
{
	struct run *r = arg;
	char buf[2048];

	pthread_setname_np(pthread_self(), "udprecv");
	pin_self(1);
	if (!r->linux_stack)
		rump_thread_bind(r->b);
	while (!atomic_load(&r->stop)) {
		ssize_t n = r->linux_stack ?
		    recv(r->lb, buf, sizeof(buf), 0) :
		    rump_sys_recv(r->fb, buf, sizeof(buf), 0);

		if (n == PAYLOAD)
			atomic_fetch_add_explicit(&r->received, 1,
			    memory_order_relaxed);
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			break;
	}
	if (!r->linux_stack)
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

/* Run the workload for `seconds`; returns wall pps, *per_core the CPU-normalised figure. */
static double
measure(struct run *r, const char *rx_threads, double *per_core)
{
	pthread_t ts, tr;
	double t0, t1, c0, c1;
	uint64_t r0, r1;

	atomic_store(&r->stop, false);
	pthread_create(&tr, NULL, receiver, r);
	pthread_create(&ts, NULL, sender, r);
	usleep(300 * 1000);	/* warm up: ARP, caches, pools */
	r0 = atomic_load(&r->received);
	c0 = threads_cpu(rx_threads);
	t0 = now_s();
	usleep((useconds_t)(seconds * 1e6));
	r1 = atomic_load(&r->received);
	c1 = threads_cpu(rx_threads);
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
	*per_core = c1 > c0 ? (double)(r1 - r0) / (c1 - c0) : 0;
	return (double)(r1 - r0) / (t1 - t0);
}

static int
rumpnet_run(enum rump_softint_mode mode, double *pps, double *per_core)
{
	struct rump_kernel_config cfg;
	struct rump_bus *bus;
	struct run r;
	const uint8_t ma[6] = { 2, 0, 0, 0, 0, 0xa }, mb[6] = { 2, 0, 0, 0, 0,
	    0xb };
	unsigned ia, ib;
	struct sockaddr_in bind_b = { .sin_family = AF_INET };

	memset(&r, 0, sizeof(r));
	rump_kernel_config_default(&cfg);
	cfg.softint_mode = mode;
	if (rump_bus_create(NULL, &bus) != 0 ||
	    rump_kernel_create(&cfg, &r.a) != 0 ||
	    rump_kernel_create(&cfg, &r.b) != 0 ||
	    rump_bus_attach(bus, r.a, "busa", ma, &ia) != 0 ||
	    rump_bus_attach(bus, r.b, "busb", mb, &ib) != 0 ||
	    rump_if_up(r.a, ia) != 0 || rump_if_up(r.b, ib) != 0 ||
	    rump_if_addr_add(r.a, ia, inet_addr("198.18.0.1"), 24) != 0 ||
	    rump_if_addr_add(r.b, ib, inet_addr("198.18.0.2"), 24) != 0) {
		fprintf(stderr, "udpbench: cannot set up the instances\n");
		return -1;
	}
	rump_thread_bind(r.b);
	r.fb = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	bind_b.sin_port = htons(PORT);
	bind_b.sin_addr.s_addr = inet_addr("198.18.0.2");
	int big = 4 * 1024 * 1024;
	rump_sys_setsockopt(r.fb, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (rump_sys_bind(r.fb, (struct sockaddr *)&bind_b,
	    sizeof(bind_b)) != 0) {
		perror("udpbench: bind");
		return -1;
	}
	rump_thread_unbind();
	rump_thread_bind(r.a);
	r.fa = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	rump_thread_unbind();
	r.to = bind_b;
	if (ncpus >= 2) {
		pin_threads("busbrx", 1);
		pin_threads("soft", 1);
	}
	*pps = measure(&r, "busbrx,softnet,udprecv", per_core);
	rump_thread_bind(r.a);
	rump_sys_close(r.fa);
	rump_thread_unbind();
	rump_thread_bind(r.b);
	rump_sys_close(r.fb);
	rump_thread_unbind();
	if (rump_kernel_leaks(r.a) != 0 || rump_kernel_leaks(r.b) != 0)
		fprintf(stderr, "udpbench: pools not back to zero\n");
	rump_kernel_destroy(r.a);
	rump_kernel_destroy(r.b);
	rump_bus_destroy(bus);
	return 0;
}

static int
linux_run(double *pps, double *per_core)
{
	struct run r;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int big = 4 * 1024 * 1024;

	memset(&r, 0, sizeof(r));
	r.linux_stack = true;
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
	*pps = measure(&r, "udprecv,udpsend", per_core);
	close(r.la);
	close(r.lb);
	return 0;
}

int
main(int argc, char **argv)
{
	double pi = 0, ci = 0, pt = 0, ct = 0, pl = 0, cl = 0;
	bool only_inline = false;

	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--quick") == 0)
			seconds = 1.0;
		else if (strcmp(argv[i], "--inline-only") == 0)
			only_inline = true;	/* for profiling */
		else {
			fprintf(stderr, "usage: udpbench [--seconds N] "
			    "[--quick] [--inline-only]\n");
			return 2;
		}
	}
	if (rumpnet_run(RUMP_SOFTINT_INLINE, &pi, &ci) != 0)
		return 1;
	if (!only_inline && (rumpnet_run(RUMP_SOFTINT_THREADS, &pt, &ct) != 0 ||
	    linux_run(&pl, &cl) != 0))
		return 1;
	printf("BENCH udp_rx_pps_inline %.0f pps\n", pi);
	printf("BENCH udp_rx_pps_per_core_inline %.0f pps\n", ci);
	printf("BENCH udp_rx_pps_threads %.0f pps\n", pt);
	printf("BENCH udp_rx_pps_per_core_threads %.0f pps\n", ct);
	printf("BENCH udp_rx_per_core_inline_over_threads %.2f x\n",
	    ct > 0 ? ci / ct : 0);
	printf("BENCH linux_udp_loopback_pps %.0f pps\n", pl);
	printf("BENCH linux_udp_loopback_pps_per_core %.0f pps\n", cl);
	printf("\nudpbench: %d-byte datagrams, %.1f s per run\n", PAYLOAD,
	    seconds);
	printf("%-28s %12s %14s\n", "receive path", "pps (wall)",
	    "pps per core");
	printf("%-28s %12.0f %14.0f\n", "rumpnet, softints inline", pi, ci);
	printf("%-28s %12.0f %14.0f\n", "rumpnet, softints threads", pt, ct);
	printf("%-28s %12.0f %14.0f\n", "linux, loopback", pl, cl);
	return 0;
}
