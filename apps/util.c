/*
 * util.c -- helpers the apps share beyond common.c (util.h).
 */
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "rumpnet/event.h"
#include "rumpnet/kernel.h"
#include "rumpnet/socket.h"

volatile sig_atomic_t util_stop;

static void
on_signal(int sig)
{
	(void)sig;
	util_stop = 1;
}

void
util_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

uint64_t
util_deadline(double seconds)
{
	if (seconds <= 0)
		return 0;
	return app_now_ns() + (uint64_t)(seconds * 1e9);
}

bool
util_expired(uint64_t deadline_ns)
{
	if (util_stop)
		return true;
	if (deadline_ns != 0 && app_now_ns() >= deadline_ns) {
		util_stop = 1;
		return true;
	}
	return false;
}

bool
util_parse_uint(const char *opt, const char *s, unsigned long max,
    unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    *v > max) {
		fprintf(stderr, "%s %s: a number from 0 to %lu\n", opt, s, max);
		return false;
	}
	return true;
}

bool
util_parse_port(const char *opt, const char *s, uint16_t *v)
{
	unsigned long n;

	if (!util_parse_uint(opt, s, 65535, &n))
		return false;
	*v = (uint16_t)n;
	return true;
}

bool
util_parse_seconds(const char *opt, const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(*v) ||
	    *v < 0 || *v > 1e6) {
		fprintf(stderr, "%s %s: seconds (0 .. 1000000)\n", opt, s);
		return false;
	}
	return true;
}

bool
util_parse_size(const char *opt, const char *s, uint64_t min, uint64_t max,
    uint64_t *v)
{
	unsigned long long x;
	unsigned shift = 0;
	char *end;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno == 0 && end != s && s[0] != '-') {
		switch (*end) {
		case 'k': case 'K': shift = 10; end++; break;
		case 'm': case 'M': shift = 20; end++; break;
		case 'g': case 'G': shift = 30; end++; break;
		}
		if (*end == '\0' && x <= (max >> shift) &&
		    (x << shift) >= min) {
			*v = (uint64_t)x << shift;
			return true;
		}
	}
	fprintf(stderr, "%s %s: bytes from %llu to %llu (K, M, G suffixes "
	    "allowed)\n", opt, s, (unsigned long long)min,
	    (unsigned long long)max);
	return false;
}

int
util_getopt(int argc, char **argv, int first, const struct option *longopts,
    struct app_net_opts *no, int (*fn)(void *arg, int c, const char *optarg),
    void *arg)
{
	int c, rv;

	optind = first;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if ((rv = app_net_getopt(no, c, optarg)) < 0)
			return -1;
		if (rv == 0 && (c == '?' || fn(arg, c, optarg) != 0))
			return -1;
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument %s\n", argv[0],
		    argv[optind]);
		return -1;
	}
	return 0;
}

int
util_listen(int type, uint16_t port)
{
	struct sockaddr_in sin;
	int fd, one = 1, error;

	if ((fd = rump_sys_socket(AF_INET, type | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (rump_sys_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == 0 &&
	    rump_sys_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    (type != SOCK_STREAM || rump_sys_listen(fd, 1024) == 0))
		return fd;
	error = errno;
	rump_sys_close(fd);
	errno = error;
	return -1;
}

int
util_kq_set(int kq, int fd, int filter, unsigned flags, void *udata)
{
	struct kevent kev;

	EV_SET(&kev, (uintptr_t)fd, (int16_t)filter, (uint16_t)flags, 0, 0,
	    udata);
	return rump_sys_kevent(kq, &kev, 1, NULL, 0, NULL) < 0 ? -1 : 0;
}

void
util_print_stats(FILE *f, struct rump_kernel *k, const char *who)
{
	fprintf(f, "%s: counters (non-zero):\n", who);
	app_stats_print(f, k, "if.,ip.,icmp.,igmp.,arp.,udp.,tcp.");
	fflush(f);
}
