/*
 * util.h -- small helpers the apps share beyond common.h: stopping on a
 * signal or after a duration, parsing numbers of the command line, and
 * kqueue registration.
 *
 * Signals: rumpnet's blocking calls are not interrupted by host signals,
 * so the apps wait in rump_sys_kevent()/rump_sys_poll() with a short
 * timeout and look at util_stop between waits.
 */
#ifndef APPS_UTIL_H
#define APPS_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Set by SIGINT and SIGTERM (and by util_expired()). */
extern volatile sig_atomic_t util_stop;

/*
 * util_signals: SIGINT and SIGTERM set util_stop (without SA_RESTART, so
 * that a blocking host call returns EINTR); SIGPIPE is ignored.
 */
void util_signals(void);

/*
 * util_expired: whether the app should stop: a signal came, or the
 * monotonic clock passed deadline_ns (0: no deadline; then util_stop is
 * set too).
 */
bool util_expired(uint64_t deadline_ns);

/*
 * util_deadline: the app_now_ns() value seconds from now, or 0 (none)
 * when seconds is 0.
 */
uint64_t util_deadline(double seconds);

/* Parsers: true and *v when s is valid; false after a message on stderr. */
bool util_parse_port(const char *opt, const char *s, uint16_t *v);
bool util_parse_seconds(const char *opt, const char *s, double *v);
/* A byte count with an optional K, M or G suffix (powers of 2), >= min. */
bool util_parse_size(const char *opt, const char *s, uint64_t min,
    uint64_t max, uint64_t *v);
bool util_parse_uint(const char *opt, const char *s, unsigned long max,
    unsigned long *v);

/*
 * util_getopt: parse argv[first..] with longopts (which end in
 * APP_NET_LONGOPTS): the network options go to no, the others to
 * fn(arg, c, optarg), which returns 0 or -1 (after a message).  Arguments
 * that are not options are refused.  0 or -1 (a message on stderr).
 */
struct option;
struct app_net_opts;
int util_getopt(int argc, char **argv, int first,
    const struct option *longopts, struct app_net_opts *no,
    int (*fn)(void *arg, int c, const char *optarg), void *arg);

/*
 * util_listen: a non-blocking rumpnet socket of type SOCK_STREAM
 * (listening, backlog 1024) or SOCK_DGRAM, with SO_REUSEADDR, bound to
 * port on every address of the instance.  The descriptor, or -1 with
 * errno.
 */
int util_listen(int type, uint16_t port);

/*
 * util_kq_set: one kevent change on kq (EV_ADD, EV_ENABLE, EV_DISABLE,
 * EV_DELETE) for socket fd.  Returns 0 or -1 with errno.
 */
int util_kq_set(int kq, int fd, int filter, unsigned flags, void *udata);

/*
 * util_print_stats: the instance's non-zero counters of the interfaces,
 * IP, ICMP, ARP, UDP and TCP, under a heading, on f.
 */
struct rump_kernel;
void util_print_stats(FILE *f, struct rump_kernel *k, const char *who);

#endif /* APPS_UTIL_H */
