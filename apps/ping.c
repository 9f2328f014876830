/*
 * rumpnet-ping -- ICMP echo (RFC 792) from a rumpnet instance over a DPDK
 * port, with the output of iputils' ping.
 *
 *   main() -> parse_args() -> app_net_start() -> ping_open()
 *       ping_open(): a UDP connect() to DEST checks that there is a
 *           route (as iputils does), then a raw socket
 *           socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), non-blocking, IP_TTL
 *   ping_loop(): one thread, bound to the instance
 *       time for the next request -> ping_send(): sendto() an echo
 *           request: identifier getpid() & 0xffff, sequence 1, 2, ...
 *           (modulo 2^16), data = the send time (8 bytes, the monotonic
 *           clock in nanoseconds, host order) then bytes i & 0xff
 *       rump_sys_poll() at most 100 ms (rumpnet's calls do not see host
 *           signals), then recvfrom() until EAGAIN -> ping_input()
 *   ping_input(): the datagram with its IP header (raw_ip.c)
 *       echo reply with our identifier -> ping_reply(): checksum,
 *           duplicate (a bit per sequence number), round trip, data
 *       an ICMP error quoting one of our requests to DEST
 *           -> ping_error(): "From ROUTER icmp_seq=N Destination ..."
 *   ping_summary(): "--- DEST ping statistics ---" and the totals
 *
 * As iputils: with -c COUNT the loop ends once COUNT replies and errors
 * came, or, after the last request, when two of the longest round trips
 * (at least one interval) passed with some reply, or -W seconds (default
 * 10) without any; without -c, at SIGINT.  Exit status 0 with at least
 * one reply, 1 with none, 2 on an error (options, the stack, the socket).
 *
 * The first request to a neighbour not yet in the ARP table waits in the
 * ARP queue until the answer comes (sendto() has succeeded); a
 * neighbour that never answers gives no error, only loss.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "util.h"
#include "rumpnet/socket.h"

#define PING_WAIT_MS	100		/* longest poll: signals */
#define PING_MAXDATA	(IP_MAXPACKET - 20 - ICMP_MINLEN)	/* 65507 */
#define PING_TSLEN	8		/* the timestamp at the front of the data */
#define PING_BATCH	64		/* datagrams read per wake-up */

struct ping_opts {
	const char *dest;		/* as given */
	struct in_addr dst;
	unsigned long count;		/* 0: until SIGINT */
	double interval;		/* seconds */
	unsigned size;			/* ICMP data bytes */
	double linger;			/* -W: wait without replies, seconds */
	unsigned ttl;			/* 0: the stack's (64) */
	bool quiet;
	bool broadcast;
	bool stats;
};

struct ping {
	const struct ping_opts *p_opts;
	int p_fd;
	uint16_t p_ident;
	bool p_timing;			/* the data holds the send time */
	uint64_t p_ntransmitted, p_nreceived, p_nrepeats, p_nchecksum;
	uint64_t p_nunsent;		/* replies to a seq never sent */
	uint64_t p_ntimed;		/* replies in p_tsum */
	uint64_t p_nerrors;
	uint64_t p_tmin, p_tmax, p_tsum;	/* nanoseconds */
	uint64_t p_start, p_last;	/* the first and the last send */
	long double p_tsum2;
	uint8_t *p_out;			/* ICMP header and data */
	size_t p_outlen;
	uint8_t p_rcvd[65536 / 8];	/* a bit per sequence number */
	uint8_t p_in[IP_MAXPACKET + 1];
};

static const char ping_usage[] =
"usage: rumpnet-ping [network options] [-c COUNT] [-i INTERVAL] [-s SIZE]\n"
"                    [-W TIMEOUT] [-t TTL] [-q] [-b] DEST\n"
"ICMP echo (ping) from a rumpnet instance over DPDK; DEST is an IPv4\n"
"address (names are not resolved).\n"
"  -c COUNT              stop after COUNT replies (or errors); default:\n"
"                        at SIGINT\n"
"  -i INTERVAL           seconds between requests (fractions allowed, at\n"
"                        least 0.01; default 1)\n"
"  -s SIZE               ICMP data bytes (default 56, at most 65507); the\n"
"                        round trip is measured from 8 up\n"
"  -W TIMEOUT            seconds to wait after the last request when no\n"
"                        reply came at all (default 10); with replies the\n"
"                        wait is two of the longest round trips\n"
"  -t TTL                IP time to live (1..255, default 64)\n"
"  -q                    quiet: only the first line and the summary\n"
"  -b                    allow pinging a broadcast address\n"
"  --stats               print the instance's counters at the end\n"
"  -h, --help\n"
"Exit status: 0 with a reply, 1 without, 2 on errors.\n";

static uint16_t
in_cksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t sum = 0;

	for (; len > 1; len -= 2, p += 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len == 1)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static bool
rcvd_test(const struct ping *p, uint16_t seq)
{
	return (p->p_rcvd[seq >> 3] >> (seq & 7)) & 1;
}

static void
rcvd_set(struct ping *p, uint16_t seq, bool on)
{
	if (on)
		p->p_rcvd[seq >> 3] |= (uint8_t)(1u << (seq & 7));
	else
		p->p_rcvd[seq >> 3] &= (uint8_t)~(1u << (seq & 7));
}

/* iputils' precision: 3 decimals below 1 ms, then fewer. */
static void
print_time(uint64_t ns)
{
	uint64_t us = (ns + 500) / 1000;

	if (us >= 100000 - 50)
		printf(" time=%llu ms", (unsigned long long)(us + 500) / 1000);
	else if (us >= 10000 - 5)
		printf(" time=%llu.%01llu ms", (unsigned long long)(us + 50) /
		    1000, (unsigned long long)((us + 50) % 1000) / 100);
	else if (us >= 1000)
		printf(" time=%llu.%02llu ms", (unsigned long long)(us + 5) /
		    1000, (unsigned long long)((us + 5) % 1000) / 10);
	else
		printf(" time=%llu.%03llu ms", (unsigned long long)us / 1000,
		    (unsigned long long)us % 1000);
}

/* Milliseconds with three decimals, from nanoseconds. */
static void
print_ms(uint64_t ns)
{
	uint64_t us = (ns + 500) / 1000;

	printf("%llu.%03llu", (unsigned long long)us / 1000,
	    (unsigned long long)us % 1000);
}

static uint64_t
isqrt64(uint64_t x)
{
	uint64_t r = 0, b = (uint64_t)1 << 62;

	while (b > x)
		b >>= 2;
	while (b != 0) {
		if (x >= r + b) {
			x -= r + b;
			r = (r >> 1) + b;
		} else {
			r >>= 1;
		}
		b >>= 2;
	}
	return r;
}

/* Send the next request.  0, or -1 for an error that stops the run. */
static int
ping_send(struct ping *p)
{
	const struct ping_opts *po = p->p_opts;
	struct icmphdr *icp = (struct icmphdr *)p->p_out;
	uint16_t seq = (uint16_t)(p->p_ntransmitted + 1);
	struct sockaddr_in to;
	ssize_t n;

	icp->type = ICMP_ECHO;
	icp->code = 0;
	icp->checksum = 0;
	icp->un.echo.id = htons(p->p_ident);
	icp->un.echo.sequence = htons(seq);
	p->p_last = app_now_ns();
	if (p->p_timing)
		memcpy(p->p_out + ICMP_MINLEN, &p->p_last, sizeof(p->p_last));
	icp->checksum = in_cksum(p->p_out, p->p_outlen);
	rcvd_set(p, seq, false);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_addr = po->dst;
	n = rump_sys_sendto(p->p_fd, p->p_out, p->p_outlen, 0,
	    (struct sockaddr *)&to, sizeof(to));
	p->p_ntransmitted++;
	if (n == (ssize_t)p->p_outlen)
		return 0;
	if (n >= 0) {
		fprintf(stderr, "rumpnet-ping: sendto: %zd of %zu bytes sent\n",
		    n, p->p_outlen);
		p->p_nerrors++;
		return 0;
	}
	if (errno == EACCES && !po->broadcast) {
		fprintf(stderr, "rumpnet-ping: Do you want to ping broadcast? "
		    "Then -b.\n");
		return -1;
	}
	/* as iputils: say so, count an error, carry on */
	fprintf(stderr, "rumpnet-ping: sendto: %s\n", strerror(errno));
	p->p_nerrors++;
	return 0;
}

/* An echo reply with our identifier, of cc ICMP bytes at icp. */
static void
ping_reply(struct ping *p, const uint8_t *icp, size_t cc, int ttl,
    const struct sockaddr_in *from, uint64_t now)
{
	const struct ping_opts *po = p->p_opts;
	const struct icmphdr *ih = (const struct icmphdr *)icp;
	uint16_t seq = ntohs(ih->un.echo.sequence);
	bool csfailed = in_cksum(icp, cc) != 0;
	/* seqs go 1, 2, ... (mod 2^16): one above what was sent is forged */
	bool unsent = p->p_ntransmitted < 65535 &&
	    (seq == 0 || seq > p->p_ntransmitted);
	bool dup = false, timed = false;
	bool wrong_source = !po->broadcast &&
	    from->sin_addr.s_addr != po->dst.s_addr;
	uint64_t rtt = 0;
	char a[INET_ADDRSTRLEN];

	if (p->p_timing && cc >= ICMP_MINLEN + PING_TSLEN && !unsent) {
		uint64_t sent;

		memcpy(&sent, icp + ICMP_MINLEN, sizeof(sent));
		rtt = now >= sent ? now - sent : 0;
		/* a time from before the first request is not ours either */
		timed = sent >= p->p_start;
		if (!csfailed && timed) {
			p->p_ntimed++;
			p->p_tsum += rtt;
			p->p_tsum2 += (long double)rtt * rtt;
			if (rtt < p->p_tmin)
				p->p_tmin = rtt;
			if (rtt > p->p_tmax)
				p->p_tmax = rtt;
		}
	}
	if (csfailed) {
		p->p_nchecksum++;
	} else if (unsent) {
		p->p_nunsent++;
	} else if (rcvd_test(p, seq)) {
		p->p_nrepeats++;
		dup = true;
	} else {
		rcvd_set(p, seq, true);
		p->p_nreceived++;
	}
	if (po->quiet)
		return;
	inet_ntop(AF_INET, &from->sin_addr, a, sizeof(a));
	printf("%zu bytes from %s: icmp_seq=%u ttl=%d", cc, a, seq, ttl);
	if (cc < p->p_outlen) {
		printf(" (truncated)\n");
		return;
	}
	if (timed)
		print_time(rtt);
	if (dup)
		printf(" (DUP!)");
	if (csfailed)
		printf(" (BAD CHECKSUM!)");
	if (wrong_source)
		printf(" (DIFFERENT ADDRESS!)");
	for (size_t i = p->p_timing ? PING_TSLEN : 0; i < po->size; i++) {
		uint8_t got = icp[ICMP_MINLEN + i];

		if (got != (uint8_t)i) {
			printf("\nwrong data byte #%zu should be 0x%x but was "
			    "0x%x", i, (unsigned)(uint8_t)i, (unsigned)got);
			break;
		}
	}
	printf("\n");
}

static const char *
unreach_text(unsigned code)
{
	static const char *const text[] = {
		"Destination Net Unreachable",
		"Destination Host Unreachable",
		"Destination Protocol Unreachable",
		"Destination Port Unreachable",
		NULL,		/* Frag needed: with the MTU */
		"Source Route Failed",
		"Destination Net Unknown",
		"Destination Host Unknown",
		"Source Host Isolated",
		"Destination Net Prohibited",
		"Destination Host Prohibited",
		"Destination Net Unreachable for Type of Service",
		"Destination Host Unreachable for Type of Service",
		"Packet filtered",
		"Precedence Violation",
		"Precedence Cutoff",
	};

	return code < sizeof(text) / sizeof(text[0]) ? text[code] : NULL;
}

/* iputils' pr_icmph() for the errors, then the end of the line. */
static void
print_icmp_error(const struct icmphdr *ih)
{
	unsigned code = ih->code;
	const char *t;
	char a[INET_ADDRSTRLEN];

	switch (ih->type) {
	case ICMP_DEST_UNREACH:
		if (code == ICMP_FRAG_NEEDED)
			printf("Frag needed and DF set (mtu = %u)",
			    ntohs(ih->un.frag.mtu));
		else if ((t = unreach_text(code)) != NULL)
			printf("%s", t);
		else
			printf("Dest Unreachable, Bad Code: %u", code);
		break;
	case ICMP_SOURCE_QUENCH:
		printf("Source Quench");
		break;
	case ICMP_REDIRECT:
		switch (code) {
		case ICMP_REDIR_NET:
			printf("Redirect Network");
			break;
		case ICMP_REDIR_HOST:
			printf("Redirect Host");
			break;
		case ICMP_REDIR_NETTOS:
			printf("Redirect Type of Service and Network");
			break;
		case ICMP_REDIR_HOSTTOS:
			printf("Redirect Type of Service and Host");
			break;
		default:
			printf("Redirect, Bad Code: %u", code);
			break;
		}
		inet_ntop(AF_INET, &ih->un.gateway, a, sizeof(a));
		printf("(New nexthop: %s)", a);
		break;
	case ICMP_TIME_EXCEEDED:
		if (code == ICMP_EXC_TTL)
			printf("Time to live exceeded");
		else if (code == ICMP_EXC_FRAGTIME)
			printf("Frag reassembly time exceeded");
		else
			printf("Time exceeded, Bad Code: %u", code);
		break;
	case ICMP_PARAMETERPROB:
		printf("Parameter problem: pointer = %u",
		    (unsigned)(ntohl(ih->un.gateway) >> 24));
		break;
	}
	printf("\n");
}

/*
 * An ICMP error of cc bytes at icp: ours when it quotes an echo request
 * with our identifier to DEST.
 */
static void
ping_error(struct ping *p, const uint8_t *icp, size_t cc,
    const struct sockaddr_in *from)
{
	const struct icmphdr *ih = (const struct icmphdr *)icp;
	const struct ip *iph1 = (const struct ip *)(icp + ICMP_MINLEN);
	const struct icmphdr *ih1;
	size_t hlen1;
	bool csfailed, error_pkt;
	char a[INET_ADDRSTRLEN];

	if (cc < ICMP_MINLEN + sizeof(struct ip))
		return;
	hlen1 = (size_t)iph1->ip_hl << 2;
	if (hlen1 < sizeof(struct ip) || cc < ICMP_MINLEN + hlen1 + ICMP_MINLEN)
		return;
	ih1 = (const struct icmphdr *)(icp + ICMP_MINLEN + hlen1);
	if (iph1->ip_p != IPPROTO_ICMP ||
	    iph1->ip_dst.s_addr != p->p_opts->dst.s_addr ||
	    ih1->type != ICMP_ECHO || ntohs(ih1->un.echo.id) != p->p_ident)
		return;
	csfailed = in_cksum(icp, cc) != 0;
	/* redirects and source quench are news, not failures */
	error_pkt = ih->type != ICMP_REDIRECT && ih->type != ICMP_SOURCE_QUENCH;
	if (error_pkt)
		p->p_nerrors++;
	if (p->p_opts->quiet)
		return;
	inet_ntop(AF_INET, &from->sin_addr, a, sizeof(a));
	printf("From %s icmp_seq=%u ", a, ntohs(ih1->un.echo.sequence));
	if (csfailed)
		printf("(BAD CHECKSUM)");
	print_icmp_error(ih);
}

/* A datagram of n bytes (with its IP header) from the raw socket. */
static void
ping_input(struct ping *p, size_t n, const struct sockaddr_in *from,
    uint64_t now)
{
	const struct ip *ip = (const struct ip *)p->p_in;
	const struct icmphdr *ih;
	const uint8_t *icp;
	size_t hlen, cc;

	if (n < sizeof(struct ip))
		return;
	hlen = (size_t)ip->ip_hl << 2;
	if (hlen < sizeof(struct ip) || n < hlen + ICMP_MINLEN ||
	    ip->ip_p != IPPROTO_ICMP)
		return;
	icp = p->p_in + hlen;
	cc = n - hlen;
	ih = (const struct icmphdr *)icp;
	switch (ih->type) {
	case ICMP_ECHOREPLY:
		if (ntohs(ih->un.echo.id) == p->p_ident)
			ping_reply(p, icp, cc, ip->ip_ttl, from, now);
		break;
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_REDIRECT:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		ping_error(p, icp, cc, from);
		break;
	default:
		break;		/* not ours */
	}
}

/* Read what is there.  0, or -1 (said why). */
static int
ping_recv(struct ping *p)
{
	for (int i = 0; i < PING_BATCH; i++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n;

		n = rump_sys_recvfrom(p->p_fd, p->p_in, sizeof(p->p_in), 0,
		    (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			perror("rumpnet-ping: recvfrom");
			return -1;
		}
		ping_input(p, (size_t)n, &from, app_now_ns());
	}
	return 0;
}

/* Whether the run is over (count reached, or a signal). */
static bool
ping_done(const struct ping *p)
{
	unsigned long count = p->p_opts->count;

	return util_stop ||
	    (count != 0 && p->p_nreceived + p->p_nerrors >= count);
}

/* The loop: 0, or -1 for an error (said why). */
static int
ping_loop(struct ping *p)
{
	const struct ping_opts *po = p->p_opts;
	uint64_t interval = (uint64_t)(po->interval * 1e9 + 0.5);
	uint64_t next, end = 0;	/* end: 0 while requests remain */
	struct pollfd pfd = { .fd = p->p_fd, .events = POLLIN };

	p->p_start = p->p_last = next = app_now_ns();
	while (!ping_done(p)) {
		uint64_t now = app_now_ns(), wake;
		int ms;

		if (end == 0 && now >= next) {
			if (ping_send(p) != 0)
				return -1;
			next += interval;
			if (next < now)
				next = now;	/* late: no burst to catch up */
			if (po->count != 0 && p->p_ntransmitted >= po->count) {
				/* iputils: 2 x the longest round trip */
				uint64_t wait = p->p_nreceived != 0 ?
				    2 * p->p_tmax : (uint64_t)(po->linger *
				    1e9);

				if (p->p_nreceived != 0 && wait < interval)
					wait = interval;
				/* however long a forged reply's time says */
				if (wait > (uint64_t)(po->linger * 1e9))
					wait = (uint64_t)(po->linger * 1e9);
				end = now + wait;
			}
			continue;	/* the done test, the time again */
		}
		if (end != 0 && now >= end)
			break;
		wake = end != 0 ? end : next;
		ms = wake <= now ? 0 : (int)((wake - now + 999999) / 1000000);
		if (ms > PING_WAIT_MS)
			ms = PING_WAIT_MS;
		if (rump_sys_poll(&pfd, 1, ms) < 0) {
			perror("rumpnet-ping: poll");
			return -1;
		}
		if ((pfd.revents & (POLLIN | POLLERR)) && ping_recv(p) != 0)
			return -1;
	}
	return 0;
}

/* As iputils: the time is from the first request to the last. */
static void
ping_summary(const struct ping *p)
{
	uint64_t elapsed_ns = p->p_last - p->p_start;
	const struct ping_opts *po = p->p_opts;

	printf("\n--- %s ping statistics ---\n", po->dest);
	printf("%llu packets transmitted, %llu received",
	    (unsigned long long)p->p_ntransmitted,
	    (unsigned long long)p->p_nreceived);
	if (p->p_nrepeats != 0)
		printf(", +%llu duplicates",
		    (unsigned long long)p->p_nrepeats);
	if (p->p_nchecksum != 0)
		printf(", +%llu corrupted",
		    (unsigned long long)p->p_nchecksum);
	if (p->p_nerrors != 0)
		printf(", +%llu errors", (unsigned long long)p->p_nerrors);
	if (p->p_nunsent != 0)
		printf(", +%llu unsolicited", (unsigned long long)p->p_nunsent);
	if (p->p_ntransmitted != 0)
		printf(", %g%% packet loss", (float)((double)(
		    (long long)p->p_ntransmitted -
		    (long long)p->p_nreceived) * 100.0 /
		    (double)p->p_ntransmitted));
	printf(", time %llums\n",
	    (unsigned long long)(elapsed_ns + 500000) / 1000000);
	if (p->p_ntimed != 0 && p->p_timing) {
		uint64_t n = p->p_ntimed;
		long double avg = (long double)p->p_tsum / n;
		long double var = p->p_tsum2 / n - avg * avg;
		uint64_t mdev_us;

		/* in us^2: to one microsecond, as printed */
		var /= 1e6L;
		mdev_us = var <= 0 ? 0 : var >= 1.8e19L ? UINT64_MAX :
		    isqrt64((uint64_t)var);
		printf("rtt min/avg/max/mdev = ");
		print_ms(p->p_tmin);
		printf("/");
		print_ms((uint64_t)(avg + 0.5L));
		printf("/");
		print_ms(p->p_tmax);
		printf("/");
		print_ms(mdev_us * 1000);
		printf(" ms\n");
	}
}

/*
 * Check the route (the UDP connect() iputils makes), then open the raw
 * socket.  0, or -1 (said why).
 */
static int
ping_open(struct ping *p, const struct app_net *net)
{
	const struct ping_opts *po = p->p_opts;
	uint32_t mask = net->plen == 0 ? 0 : htonl(~0u << (32 - net->plen));
	struct sockaddr_in sin;
	int fd, on = 1;

	/* the interface's broadcast addresses (a /31 or /32 has none) */
	if (po->dst.s_addr == htonl(INADDR_BROADCAST) || (net->plen < 31 &&
	    po->dst.s_addr == (net->addr | ~mask))) {
		if (!po->broadcast) {
			fprintf(stderr, "rumpnet-ping: Do you want to ping "
			    "broadcast? Then -b.\n");
			return -1;
		}
		fprintf(stderr, "WARNING: pinging broadcast address\n");
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(1025);
	sin.sin_addr = po->dst;
	if ((fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
		perror("rumpnet-ping: socket");
		return -1;
	}
	if (po->broadcast)
		(void)rump_sys_setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on,
		    sizeof(on));
	if (rump_sys_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		if (errno == EACCES && !po->broadcast)
			fprintf(stderr, "rumpnet-ping: Do you want to ping "
			    "broadcast? Then -b.\n");
		else
			perror("rumpnet-ping: connect");
		rump_sys_close(fd);
		return -1;
	}
	rump_sys_close(fd);

	p->p_fd = rump_sys_socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK,
	    IPPROTO_ICMP);
	if (p->p_fd < 0) {
		perror("rumpnet-ping: socket(SOCK_RAW, IPPROTO_ICMP)");
		return -1;
	}
	if (po->ttl != 0) {
		int ttl = (int)po->ttl;

		if (rump_sys_setsockopt(p->p_fd, IPPROTO_IP, IP_TTL, &ttl,
		    sizeof(ttl)) != 0) {
			perror("rumpnet-ping: setsockopt(IP_TTL)");
			return -1;
		}
	}
	if (po->broadcast && rump_sys_setsockopt(p->p_fd, SOL_SOCKET,
	    SO_BROADCAST, &on, sizeof(on)) != 0) {
		perror("rumpnet-ping: setsockopt(SO_BROADCAST)");
		return -1;
	}
	return 0;
}

enum { OPT_HELP = 0x100, OPT_STATS };

/* One of ping's own options.  0, or -1 (said why). */
static int
ping_getopt(struct ping_opts *po, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case 'c':
		if (!util_parse_uint("-c", arg, ULONG_MAX, &v))
			return -1;
		if (v == 0) {
			fprintf(stderr, "-c 0: at least 1\n");
			return -1;
		}
		po->count = v;
		return 0;
	case 'i':
		if (!util_parse_seconds("-i", arg, &po->interval))
			return -1;
		if (po->interval < 0.01) {
			fprintf(stderr, "-i %s: at least 0.01 seconds\n", arg);
			return -1;
		}
		return 0;
	case 's':
		if (!util_parse_uint("-s", arg, PING_MAXDATA, &v))
			return -1;
		po->size = (unsigned)v;
		return 0;
	case 'W':
		return util_parse_seconds("-W", arg, &po->linger) ? 0 : -1;
	case 't':
		if (!util_parse_uint("-t", arg, 255, &v))
			return -1;
		if (v == 0) {
			fprintf(stderr, "-t 0: a TTL from 1 to 255\n");
			return -1;
		}
		po->ttl = (unsigned)v;
		return 0;
	case 'q':
		po->quiet = true;
		return 0;
	case 'b':
		po->broadcast = true;
		return 0;
	case OPT_STATS:
		po->stats = true;
		return 0;
	case 'h':
	case OPT_HELP:
		printf("%s%s", ping_usage, app_net_usage);
		exit(0);
	default:
		return -1;	/* getopt said why */
	}
}

static int
parse_args(int argc, char **argv, struct ping_opts *po,
    struct app_net_opts *no)
{
	static const struct option longopts[] = {
		{ "help", no_argument, 0, OPT_HELP },
		{ "stats", no_argument, 0, OPT_STATS },
		APP_NET_LONGOPTS,
		{ 0, 0, 0, 0 }
	};
	int c, rv;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:i:s:W:t:qbh", longopts,
	    NULL)) != -1) {
		if ((rv = app_net_getopt(no, c, optarg)) < 0)
			return -1;
		if (rv == 0 && ping_getopt(po, c, optarg) != 0)
			return -1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, optind == argc ? "rumpnet-ping: no "
		    "destination\n" : "rumpnet-ping: one destination only\n");
		return -1;
	}
	po->dest = argv[optind];
	if (inet_pton(AF_INET, po->dest, &po->dst) != 1) {
		fprintf(stderr, "rumpnet-ping: %s: not an IPv4 address "
		    "(names are not resolved)\n", po->dest);
		return -1;
	}
	if (no->addr == NULL) {
		fprintf(stderr, "rumpnet-ping: --addr is required\n");
		return -1;
	}
	if (no->ncores > 0) {
		fprintf(stderr, "rumpnet-ping: --cores is for the servers\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct ping_opts po = { .interval = 1, .size = 56, .linger = 10 };
	struct app_net_opts no;
	struct app_net net;
	struct ping *p;
	char addr[INET_ADDRSTRLEN];
	int rv, loop;

	app_net_opts_default(&no);
	if (parse_args(argc, argv, &po, &no) != 0) {
		fprintf(stderr, "(rumpnet-ping --help for the options)\n");
		return 2;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->p_out = calloc(1, ICMP_MINLEN + po.size)) == NULL) {
		fprintf(stderr, "rumpnet-ping: out of memory\n");
		free(p);
		return 2;
	}
	p->p_opts = &po;
	p->p_fd = -1;
	p->p_ident = (uint16_t)(getpid() & 0xffff);
	p->p_timing = po.size >= PING_TSLEN;
	p->p_outlen = ICMP_MINLEN + po.size;
	p->p_tmin = UINT64_MAX;
	for (unsigned i = 0; i < po.size; i++)
		p->p_out[ICMP_MINLEN + i] = (uint8_t)i;
	setvbuf(stdout, NULL, _IOLBF, 0);
	util_signals();
	if (app_net_start(&no, &net) != 0) {
		free(p->p_out);
		free(p);
		return 2;
	}
	if (ping_open(p, &net) != 0) {
		rv = 2;
		goto out;
	}
	inet_ntop(AF_INET, &po.dst, addr, sizeof(addr));
	printf("PING %s (%s) %u(%u) bytes of data.\n", po.dest, addr, po.size,
	    po.size + ICMP_MINLEN + 20);
	loop = ping_loop(p);
	ping_summary(p);
	rv = loop != 0 ? 2 : p->p_nreceived != 0 ? 0 : 1;
out:
	if (p->p_fd >= 0)
		rump_sys_close(p->p_fd);
	if (po.stats)
		util_print_stats(stdout, net.k, "rumpnet-ping");
	app_net_stop(&net);
	free(p->p_out);
	free(p);
	return rv;
}
