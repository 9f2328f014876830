/*
 * test_packetdrill.c -- librumpnet-packetdrill.so driven through
 * packetdrill's function table the way packetdrill drives it: dlopen()
 * with packetdrill's flags, packetdrill_interface_init() with a flags
 * string, socket calls through the table, IP packets in through
 * netdev_send() and out through netdev_receive(), time through usleep()
 * and gettimeofday(), free() at the end.
 *
 * Scenarios: passive open, active open, data both ways (with the delayed
 * ACK and a retransmission timed on the shim's clock), active and passive
 * close, RST in both directions, epoll over the instance's kqueue, and the
 * flags.  Each asserts the exact segments netdev_receive() returns (flags,
 * SEQ, ACK, lengths, options), and ends with every pool of the instance
 * back to zero (rumpnet_packetdrill_settle()).
 *
 * RUMPNET_PD_SO names the object (meson passes it), RUMPNET_PD_CLOCK the
 * clock (virtual or real; meson runs both).  Timing assertions are exact
 * on the virtual clock and loose on the real one.
 *
 * Needs no root, no DPDK, no hugepages, no network namespace.
 */
#define _GNU_SOURCE	/* RTLD_DEEPBIND, loff_t */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <cmocka.h>

#include "packetdrill_if.h"

#define LOCAL "192.168.0.1"	/* the stack, packetdrill's defaults */
#define REMOTE "192.0.2.1"	/* the remote host packetdrill plays */
#define LPORT 8080
#define RPORT 40000
#define RISS 1000u		/* the remote's initial sequence number */
#define DELACK_MS 40		/* rumpnet's delayed ACK (tcp_timer.h) */
#define RTO_MS 200		/* the RTO floor (tcp_timer.h): the RTT was 0 */

#define TH_F 0x01
#define TH_S 0x02
#define TH_R 0x04
#define TH_P 0x08
#define TH_A 0x10

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
/* ASan refuses RTLD_DEEPBIND; everything else is packetdrill's */
#define PD_DLFLAGS (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)
#else
#define PD_DLFLAGS (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE | RTLD_DEEPBIND)
#endif

static bool virtual_clock;

/* One test's shim: the table, and rumpnet's two hooks. */
struct env {
	struct packetdrill_interface ifc;
	rumpnet_packetdrill_settle_t settle;
	rumpnet_packetdrill_stat_t stat;
	void *ud;
};

/* A segment the stack sent, decoded with every length checked. */
struct seg {
	long long t_us;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	int mss;			/* -1: no MSS option */
	int ws;				/* -1: no window scale */
	bool sackok, ts;
	size_t len;			/* payload */
	uint8_t data[2048];
};

/* ---- the object ---- */

static void *
so_handle(void)
{
	static void *h;
	const char *path = getenv("RUMPNET_PD_SO");

	if (h == NULL) {
		assert_non_null(path);
		h = dlopen(path, PD_DLFLAGS);
		if (h == NULL)
			fail_msg("dlopen: %s", dlerror());
	}
	return h;
}

static void
env_up_flags(struct env *e, const char *extra)
{
	void *h = so_handle();
	packetdrill_interface_init_t init;
	char flags[256];

	memset(e, 0, sizeof(*e));
	*(void **)&init = dlsym(h, "packetdrill_interface_init");
	*(void **)&e->settle = dlsym(h, "rumpnet_packetdrill_settle");
	*(void **)&e->stat = dlsym(h, "rumpnet_packetdrill_stat");
	assert_non_null(init);
	assert_non_null(e->settle);
	assert_non_null(e->stat);
	snprintf(flags, sizeof(flags), "clock=%s%s%s",
	    virtual_clock ? "virtual" : "real", extra[0] ? " " : "", extra);
	init(flags, &e->ifc);
	e->ud = e->ifc.userdata;
	assert_non_null(e->ud);
}

static void
env_up(struct env *e)
{
	env_up_flags(e, "");
}

/* env_down: every pool back to zero, then free() as packetdrill ends. */
static void
env_down(struct env *e)
{
	assert_int_equal(e->settle(e->ud, 5 * 60 * 1000), 0);
	e->ifc.free(e->ud);
}

static long long
now_us(struct env *e)
{
	struct timeval tv;

	assert_int_equal(e->ifc.gettimeofday(e->ud, &tv, NULL), 0);
	return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

static uint64_t
counter(struct env *e, const char *name)
{
	unsigned long long v = 0;

	assert_int_equal(e->stat(e->ud, name, &v), 0);
	return v;
}

/* ---- packets in ---- */

static uint16_t
cksum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/*
 * inject: an IPv4 TCP segment from the remote (RPORT) to the stack
 * (LPORT unless dport), as packetdrill hands it: IP header first.
 */
static void
inject_to(struct env *e, uint16_t dport, uint8_t flags, uint32_t seq,
    uint32_t ack, uint16_t win, const uint8_t *opt, size_t optlen,
    const void *data, size_t len)
{
	uint8_t p[2048], *th = p + 20;
	size_t tcplen = 20 + optlen + len;
	uint32_t src = inet_addr(REMOTE), dst = inet_addr(LOCAL), sum = 0;

	assert_true(optlen % 4 == 0 && 20 + tcplen <= sizeof(p));
	memset(p, 0, 40);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)(20 + tcplen));
	p[6] = 0x40;		/* DF */
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	put16(p + 10, cksum(p, 20, 0));
	put16(th, RPORT);
	put16(th + 2, dport);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = (uint8_t)((20 + optlen) / 4 << 4);
	th[13] = flags;
	put16(th + 14, win);
	if (optlen > 0)
		memcpy(th + 20, opt, optlen);
	if (len > 0)
		memcpy(th + 20 + optlen, data, len);
	/* the pseudo-header (RFC 9293 3.1) */
	for (int i = 12; i < 20; i += 2)
		sum += get16(p + i);
	sum += IPPROTO_TCP + (uint32_t)tcplen;
	put16(th + 16, cksum(th, tcplen, sum));
	assert_int_equal(e->ifc.netdev_send(e->ud, p, 20 + tcplen), 0);
}

static void
inject(struct env *e, uint8_t flags, uint32_t seq, uint32_t ack,
    const void *data, size_t len)
{
	inject_to(e, LPORT, flags, seq, ack, 65535, NULL, 0, data, len);
}

/* The remote's SYN options: MSS 1000, NOP, WS 7 (no timestamps). */
static const uint8_t syn_opt[] = { 2, 4, 1000 >> 8, 1000 & 0xff,
	1, 3, 3, 7 };

/* ---- packets out ---- */

static void
parse_options(struct seg *s, const uint8_t *o, size_t n)
{
	size_t i = 0;

	while (i < n && o[i] != 0) {
		if (o[i] == 1) {
			i++;
			continue;
		}
		assert_true(i + 2 <= n && o[i + 1] >= 2 && i + o[i + 1] <= n);
		switch (o[i]) {
		case 2:
			assert_int_equal(o[i + 1], 4);
			s->mss = get16(o + i + 2);
			break;
		case 3:
			assert_int_equal(o[i + 1], 3);
			s->ws = o[i + 2];
			break;
		case 4:
			s->sackok = true;
			break;
		case 8:
			s->ts = true;
			break;
		}
		i += o[i + 1];
	}
}

/* receive: the next packet the stack sent, which must be TCP over IPv4. */
static void
receive(struct env *e, struct seg *s)
{
	uint8_t p[4096];
	size_t n, ihl, doff, tot;
	uint32_t sum = 0;
	int tries;

	memset(s, 0, sizeof(*s));
	/* -1 means "nothing yet": packetdrill asks again, so do we */
	for (tries = 0; tries < 100; tries++) {
		n = sizeof(p);
		if (e->ifc.netdev_receive(e->ud, p, &n, &s->t_us) == 0)
			break;
	}
	if (tries >= 100)
		fail_msg("nothing from the stack in 100 tries");
	assert_true(n >= 40);
	assert_int_equal(p[0] >> 4, 4);
	ihl = (size_t)(p[0] & 0xf) * 4;
	tot = get16(p + 2);
	assert_int_equal(tot, n);
	assert_int_equal(cksum(p, ihl, 0), 0);
	assert_int_equal(p[9], IPPROTO_TCP);
	memcpy(&s->src, p + 12, 4);
	memcpy(&s->dst, p + 16, 4);
	assert_int_equal(s->src, inet_addr(LOCAL));
	assert_int_equal(s->dst, inet_addr(REMOTE));
	for (int i = 12; i < 20; i += 2)
		sum += get16(p + i);
	sum += IPPROTO_TCP + (uint32_t)(tot - ihl);
	assert_int_equal(cksum(p + ihl, tot - ihl, sum), 0);
	doff = (size_t)(p[ihl + 12] >> 4) * 4;
	assert_true(doff >= 20 && ihl + doff <= tot);
	s->sport = get16(p + ihl);
	s->dport = get16(p + ihl + 2);
	s->seq = get32(p + ihl + 4);
	s->ack = get32(p + ihl + 8);
	s->flags = p[ihl + 13];
	s->win = get16(p + ihl + 14);
	s->mss = s->ws = -1;
	parse_options(s, p + ihl + 20, doff - 20);
	s->len = tot - ihl - doff;
	assert_true(s->len <= sizeof(s->data));
	memcpy(s->data, p + ihl + doff, s->len);
}

/* expect: the next segment has these flags, SEQ, ACK and length. */
static void
expect(struct env *e, struct seg *s, uint8_t flags, uint32_t seq,
    uint32_t ack, size_t len)
{
	receive(e, s);
	if (s->flags != flags || s->seq != seq || s->ack != ack ||
	    s->len != len)
		fail_msg("got flags %#x seq %u ack %u len %zu, expected "
		    "flags %#x seq %u ack %u len %zu", s->flags, s->seq,
		    s->ack, s->len, flags, seq, ack, len);
}

/* Times on the shim's clock: exact when virtual, loose when real. */
static void
assert_elapsed_ms(long long from_us, long long to_us, long ms)
{
	long long d = to_us - from_us;


	if (virtual_clock) {
		/* stamped at the tick the timer fired at */
		assert_true(d >= ms * 1000 - 1000 && d <= ms * 1000 + 1000);
	} else {
		assert_true(d >= ms * 1000 - 2000 && d <= ms * 1000 + 200000);
	}
}

/* ---- connections ---- */

static struct sockaddr_in
sin_of(const char *addr, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	a.sin_port = htons(port);
	a.sin_addr.s_addr = inet_addr(addr);
	return a;
}

static int
listener(struct env *e)
{
	struct sockaddr_in a = sin_of(LOCAL, LPORT);
	int one = 1, fd;

	fd = e->ifc.socket(e->ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
	assert_true(fd >= 0);
	assert_int_equal(e->ifc.setsockopt(e->ud, fd, SOL_SOCKET,
	    SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(e->ifc.bind(e->ud, fd, (struct sockaddr *)&a,
	    sizeof(a)), 0);
	assert_int_equal(e->ifc.listen(e->ud, fd, 1), 0);
	return fd;
}

/*
 * passive_open_mss: SYN, SYN-ACK (offering mss), ACK and accept(); *iss
 * becomes the stack's ISS.  The listener stays open in *lfd.
 */
static int
passive_open_mss(struct env *e, int *lfd, uint32_t *iss, int mss)
{
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	struct seg s;
	int fd;

	*lfd = listener(e);
	inject_to(e, LPORT, TH_S, RISS, 0, 32792, syn_opt, sizeof(syn_opt),
	    NULL, 0);
	receive(e, &s);
	assert_int_equal(s.flags, TH_S | TH_A);
	assert_int_equal(s.ack, RISS + 1);
	assert_int_equal(s.len, 0);
	assert_int_equal(s.sport, LPORT);
	assert_int_equal(s.dport, RPORT);
	assert_int_equal(s.mss, mss);		/* RFC 9293 3.7.1: MTU - 40 */
	assert_true(s.ws >= 0);			/* RFC 7323: we offered one */
	assert_false(s.ts);			/* the SYN had none */
	*iss = s.seq;
	inject(e, TH_A, RISS + 1, *iss + 1, NULL, 0);
	fd = e->ifc.accept(e->ud, *lfd, (struct sockaddr *)&from, &fromlen);
	assert_true(fd >= 0);
	assert_int_equal(from.sin_addr.s_addr, inet_addr(REMOTE));
	assert_int_equal(ntohs(from.sin_port), RPORT);
	return fd;
}

static int
passive_open(struct env *e, int *lfd, uint32_t *iss)
{
	return passive_open_mss(e, lfd, iss, 1460);
}

/* abort_conn: close with SO_LINGER 0: the stack sends RST,ACK. */
static void
abort_conn(struct env *e, int fd, uint32_t snd_nxt, uint32_t rcv_nxt)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	struct seg s;

	assert_int_equal(e->ifc.setsockopt(e->ud, fd, SOL_SOCKET, SO_LINGER,
	    &l, sizeof(l)), 0);
	assert_int_equal(e->ifc.close(e->ud, fd), 0);
	expect(e, &s, TH_R | TH_A, snd_nxt, rcv_nxt, 0);
}

/* ---- the tests ---- */

static void
test_pd_passive_open(void **state)
{
	struct env e;
	uint32_t iss;
	int lfd, fd;

	(void)state;
	env_up(&e);
	fd = passive_open(&e, &lfd, &iss);
	assert_int_equal(counter(&e, "tcp.accepts"), 1);
	abort_conn(&e, fd, iss + 1, RISS + 1);
	assert_int_equal(e.ifc.close(e.ud, lfd), 0);
	env_down(&e);
}

static void
test_pd_active_open(void **state)
{
	struct sockaddr_in a = sin_of(REMOTE, RPORT);
	struct env e;
	struct seg s;
	uint16_t port;
	long long t0;
	int fd;

	(void)state;
	env_up(&e);
	fd = e.ifc.socket(e.ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
	assert_true(fd >= 0);
	assert_int_equal(e.ifc.fcntl(e.ud, fd, F_SETFL, O_RDWR | O_NONBLOCK),
	    0);
	assert_int_equal(e.ifc.fcntl(e.ud, fd, F_GETFL) & O_NONBLOCK,
	    O_NONBLOCK);
	t0 = now_us(&e);
	errno = 0;
	assert_int_equal(e.ifc.connect(e.ud, fd, (struct sockaddr *)&a,
	    sizeof(a)), -1);
	assert_int_equal(errno, EINPROGRESS);
	receive(&e, &s);
	assert_int_equal(s.flags, TH_S);
	assert_int_equal(s.dport, RPORT);
	assert_int_equal(s.len, 0);
	assert_int_equal(s.mss, 1460);
	assert_true(s.ts);			/* RFC 7323: offered */
	assert_elapsed_ms(t0, s.t_us, 0);
	port = s.sport;
	/* the SYN-ACK, to the stack's ephemeral port */
	inject_to(&e, port, TH_S | TH_A, RISS, s.seq + 1, 32768, syn_opt,
	    sizeof(syn_opt), NULL, 0);
	{
		struct seg a2;

		expect(&e, &a2, TH_A, s.seq + 1, RISS + 1, 0);
		assert_int_equal(a2.sport, port);
		assert_false(a2.ts);	/* the SYN-ACK refused them */
	}
	abort_conn(&e, fd, s.seq + 1, RISS + 1);
	env_down(&e);
}

/*
 * Data both ways: the remote's 100 bytes are read and ACKed after the
 * delayed-ACK timer; the stack's 500 bytes go out at once and, unACKed,
 * again after the RTO, both timed on the shim's clock.
 */
static void
test_pd_data(void **state)
{
	uint8_t in[100], out[500], buf[200];
	struct env e;
	struct seg s;
	uint32_t iss;
	long long t0;
	int lfd, fd;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 3 + 1);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 5);
	env_up(&e);
	fd = passive_open(&e, &lfd, &iss);

	t0 = now_us(&e);
	inject(&e, TH_A | TH_P, RISS + 1, iss + 1, in, sizeof(in));
	expect(&e, &s, TH_A, iss + 1, RISS + 1 + sizeof(in), 0);
	/* RFC 9293 3.8.6.3: a lone segment's ACK waits (40 ms here) */
	assert_elapsed_ms(t0, s.t_us, DELACK_MS);
	assert_int_equal(e.ifc.read(e.ud, fd, buf, sizeof(buf)), sizeof(in));
	assert_memory_equal(buf, in, sizeof(in));

	t0 = now_us(&e);
	assert_int_equal(e.ifc.write(e.ud, fd, out, sizeof(out)), sizeof(out));
	expect(&e, &s, TH_A | TH_P, iss + 1, RISS + 101, sizeof(out));
	assert_memory_equal(s.data, out, sizeof(out));
	assert_elapsed_ms(t0, s.t_us, 0);
	/* RFC 6298 5.4: unACKed, it goes again after the RTO */
	expect(&e, &s, TH_A | TH_P, iss + 1, RISS + 101, sizeof(out));
	assert_elapsed_ms(t0, s.t_us, RTO_MS);
	assert_memory_equal(s.data, out, sizeof(out));
	inject(&e, TH_A, RISS + 101, iss + 1 + sizeof(out), NULL, 0);
	assert_int_equal(counter(&e, "tcp.sndrexmitpack"), 1);

	abort_conn(&e, fd, iss + 1 + sizeof(out), RISS + 101);
	assert_int_equal(e.ifc.close(e.ud, lfd), 0);
	env_down(&e);
}

/*
 * Active close (RFC 9293 3.6): FIN, its ACK, the remote's FIN, our ACK,
 * and TIME-WAIT waited out by env_down() on the virtual clock.
 */
static void
test_pd_close_active(void **state)
{
	uint8_t buf[16];
	struct env e;
	struct seg s;
	uint32_t iss;
	int lfd, fd;

	(void)state;
	if (!virtual_clock)
		skip();		/* TIME-WAIT is 60 s of real time */
	env_up(&e);
	fd = passive_open(&e, &lfd, &iss);
	assert_int_equal(e.ifc.close(e.ud, lfd), 0);
	assert_int_equal(e.ifc.shutdown(e.ud, fd, SHUT_WR), 0);
	expect(&e, &s, TH_F | TH_A, iss + 1, RISS + 1, 0);
	inject(&e, TH_A, RISS + 1, iss + 2, NULL, 0);
	inject(&e, TH_F | TH_A, RISS + 1, iss + 2, NULL, 0);
	expect(&e, &s, TH_A, iss + 2, RISS + 2, 0);
	assert_int_equal(e.ifc.read(e.ud, fd, buf, sizeof(buf)), 0);
	assert_int_equal(e.ifc.close(e.ud, fd), 0);
	env_down(&e);
}

/* Passive close: the remote's FIN, our ACK, close(), FIN, its ACK. */
static void
test_pd_close_passive(void **state)
{
	uint8_t buf[16];
	struct env e;
	struct seg s;
	uint32_t iss;
	int lfd, fd;

	(void)state;
	env_up(&e);
	fd = passive_open(&e, &lfd, &iss);
	assert_int_equal(e.ifc.close(e.ud, lfd), 0);
	inject(&e, TH_F | TH_A, RISS + 1, iss + 1, NULL, 0);
	/* RFC 9293 3.10.7.4: a FIN is ACKed at once */
	expect(&e, &s, TH_A, iss + 1, RISS + 2, 0);
	assert_int_equal(e.ifc.read(e.ud, fd, buf, sizeof(buf)), 0);
	assert_int_equal(e.ifc.close(e.ud, fd), 0);
	expect(&e, &s, TH_F | TH_A, iss + 1, RISS + 2, 0);
	inject(&e, TH_A, RISS + 2, iss + 2, NULL, 0);
	/* LAST-ACK to CLOSED: nothing left, no TIME-WAIT */
	assert_int_equal(e.settle(e.ud, 0), 0);
	env_down(&e);
}

/*
 * RST: the remote's in-window RST at RCV.NXT resets the connection
 * (ECONNRESET), and a SYN to a closed port gets RST,ACK (RFC 9293
 * 3.10.7.1).
 */
static void
test_pd_rst(void **state)
{
	uint8_t buf[16];
	struct env e;
	struct seg s;
	uint32_t iss;
	int lfd, fd;

	(void)state;
	env_up(&e);
	fd = passive_open(&e, &lfd, &iss);
	inject(&e, TH_R, RISS + 1, 0, NULL, 0);
	errno = 0;
	assert_int_equal(e.ifc.read(e.ud, fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(e.ifc.close(e.ud, fd), 0);
	assert_int_equal(e.ifc.close(e.ud, lfd), 0);

	inject_to(&e, LPORT + 1, TH_S, RISS, 0, 32792, syn_opt,
	    sizeof(syn_opt), NULL, 0);
	expect(&e, &s, TH_R | TH_A, 0, RISS + 1, 0);
	assert_int_equal(s.sport, LPORT + 1);
	env_down(&e);
}

/* epoll over the kqueue: EPOLLIN with the event's data, EPOLLOUT. */
static void
test_pd_epoll(void **state)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 77 };
	struct epoll_event got[4];
	uint8_t buf[16];
	struct env e;
	uint32_t iss;
	int lfd, fd, ep;
	struct seg s;

	(void)state;
	env_up(&e);
	fd = passive_open(&e, &lfd, &iss);
	ep = e.ifc.epoll_create(e.ud, 1);
	assert_true(ep >= 0);
	assert_int_equal(e.ifc.epoll_ctl(e.ud, ep, EPOLL_CTL_ADD, fd, &ev), 0);
	assert_int_equal(e.ifc.epoll_wait(e.ud, ep, got, 4, 0), 0);
	inject(&e, TH_A | TH_P, RISS + 1, iss + 1, "hello", 5);
	assert_int_equal(e.ifc.epoll_wait(e.ud, ep, got, 4, 0), 1);
	assert_int_equal(got[0].events, EPOLLIN);
	assert_int_equal(got[0].data.u64, 77);
	assert_int_equal(e.ifc.read(e.ud, fd, buf, sizeof(buf)), 5);
	assert_int_equal(e.ifc.epoll_wait(e.ud, ep, got, 4, 0), 0);
	expect(&e, &s, TH_A, iss + 1, RISS + 6, 0);

	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.u64 = 78;
	assert_int_equal(e.ifc.epoll_ctl(e.ud, ep, EPOLL_CTL_MOD, fd, &ev), 0);
	assert_int_equal(e.ifc.epoll_wait(e.ud, ep, got, 4, 0), 1);
	assert_int_equal(got[0].events, EPOLLOUT);
	assert_int_equal(got[0].data.u64, 78);
	assert_int_equal(e.ifc.epoll_ctl(e.ud, ep, EPOLL_CTL_DEL, fd, NULL),
	    0);
	assert_int_equal(e.ifc.epoll_wait(e.ud, ep, got, 4, 0), 0);
	assert_int_equal(e.ifc.close(e.ud, ep), 0);

	abort_conn(&e, fd, iss + 1, RISS + 6);
	assert_int_equal(e.ifc.close(e.ud, lfd), 0);
	env_down(&e);
}

/*
 * The flags: another address pair and MTU reach the instance; pipe and
 * splice say ENOSYS; ioctl FIONREAD counts the bytes queued.
 * (pipe and splice are Linux's, for packetdrill's splice tests.)
 */
static void
test_pd_flags(void **state)
{
	struct env e;
	int fds[2], fd, n = -1;

	(void)state;
	env_up_flags(&e, "mtu=1400,wait=5");
	fd = e.ifc.socket(e.ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
	assert_true(fd >= 0);
	errno = 0;
	assert_int_equal(e.ifc.pipe(e.ud, fds), -1);
	assert_int_equal(errno, ENOSYS);
	assert_int_equal(e.ifc.ioctl(e.ud, fd, FIONREAD, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(e.ifc.close(e.ud, fd), 0);
	{
		uint32_t iss;
		int lfd, c;
		struct seg s;

		(void)s;
		c = passive_open_mss(&e, &lfd, &iss, 1360);
		inject(&e, TH_A | TH_P, RISS + 1, iss + 1, "abc", 3);
		assert_int_equal(e.ifc.ioctl(e.ud, c, FIONREAD, &n), 0);
		assert_int_equal(n, 3);
		expect(&e, &s, TH_A, iss + 1, RISS + 4, 0);
		abort_conn(&e, c, iss + 1, RISS + 4);
		assert_int_equal(e.ifc.close(e.ud, lfd), 0);
	}
	env_down(&e);
}

int
main(void)
{
	const char *clock = getenv("RUMPNET_PD_CLOCK");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pd_passive_open),
		cmocka_unit_test(test_pd_active_open),
		cmocka_unit_test(test_pd_data),
		cmocka_unit_test(test_pd_close_active),
		cmocka_unit_test(test_pd_close_passive),
		cmocka_unit_test(test_pd_rst),
		cmocka_unit_test(test_pd_epoll),
		cmocka_unit_test(test_pd_flags),
	};

	virtual_clock = clock == NULL || strcmp(clock, "real") != 0;
	if (getenv("RUMPNET_TEST") != NULL)
		cmocka_set_test_filter(getenv("RUMPNET_TEST"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
