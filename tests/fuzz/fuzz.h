/*
 * fuzz.h -- what the libFuzzer targets share: a fresh instance per input
 * on an in-memory bus with a virtual clock, a tap playing the remote host,
 * a reader of the fuzzer's bytes, frame builders with correct checksums,
 * and the teardown that proves the input left nothing behind.
 *
 *   struct fz_env  one instance (198.18.0.1/24, MTU 1500, virtual clock,
 *                  inline soft interrupts) on a bus, a tap with the peer's
 *                  MAC (198.18.0.2, a static ARP entry on the instance),
 *                  the calling thread bound to the instance.
 *   struct fz_in   the input, read front to back; past its end every read
 *                  returns zeros, so any input is a complete program.
 *
 * fz_down() closes every descriptor the target opened (SO_LINGER 0 on
 * the TCP ones, so nothing waits in TIME-WAIT), moves the clock on until
 * every timer that could still hold an object has fired, and aborts when
 * any pool object is still out (rump_kernel_leaks()), so libFuzzer
 * records the input as a crash.  Each input gets an instance of its own,
 * destroyed at the end: nothing carries over to the next one.
 *
 * The frames built here carry correct checksums even though the fuzz
 * build (-Dfuzz_nocksum=true) does not verify them, so that a crash found
 * there replays under the normal build (tests/fuzz/replay.c).
 *
 * Needs no root, DPDK or network namespace; uses only the public API.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rumpnet/bus.h"
#include "rumpnet/kernel.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_STACK_ADDR "198.18.0.1"
#define FZ_PEER_ADDR "198.18.0.2"
#define FZ_FRAME_MAX 2048
#define FZ_MAXFD 64		/* descriptors a target may hold */
#define FZ_QUIESCE_MS 5000	/* longer than this is a hang */

static const uint8_t fz_stack_mac[6] = { 0x02, 0, 0, 0, 1, 0x01 };
static const uint8_t fz_peer_mac[6] = { 0x02, 0, 0, 0, 1, 0x02 };

/* fz_fail: report and abort, which libFuzzer records as a crash. */
#define fz_fail(...) do {						\
	fprintf(stderr, "fuzz: " __VA_ARGS__);				\
	fputc('\n', stderr);						\
	abort();							\
} while (0)

#define fz_check(cond) do {						\
	if (!(cond))							\
		fz_fail("%s:%d: %s", __FILE__, __LINE__, #cond);	\
} while (0)

/* ---- reading the input ---- */

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline bool
fz_more(const struct fz_in *in)
{
	return in->n > 0;
}

static inline uint8_t
fz_u8(struct fz_in *in)
{
	uint8_t v;

	if (in->n == 0)
		return 0;
	v = *in->p++;
	in->n--;
	return v;
}

static inline uint16_t
fz_u16(struct fz_in *in)
{
	uint16_t hi = fz_u8(in);

	return (uint16_t)(hi << 8 | fz_u8(in));
}

static inline uint32_t
fz_u32(struct fz_in *in)
{
	uint32_t hi = fz_u16(in);

	return hi << 16 | fz_u16(in);
}

/* fz_bytes: up to n bytes into buf, zeros past the input's end */
static inline void
fz_bytes(struct fz_in *in, void *buf, size_t n)
{
	size_t k = n < in->n ? n : in->n;

	memcpy(buf, in->p, k);
	memset((uint8_t *)buf + k, 0, n - k);
	in->p += k;
	in->n -= k;
}

/* ---- checksums and headers (independent of the stack's) ---- */

static inline uint32_t
fz_sum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t
fz_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline void
fz_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
fz_put32(uint8_t *p, uint32_t v)
{
	fz_put16(p, (uint16_t)(v >> 16));
	fz_put16(p + 2, (uint16_t)v);
}

static inline uint16_t
fz_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
fz_get32(const uint8_t *p)
{
	return (uint32_t)fz_get16(p) << 16 | fz_get16(p + 2);
}

/* fz_ip_cksum: set the checksum of the IPv4 header at ip (hlen bytes) */
static inline void
fz_ip_cksum(uint8_t *ip, size_t hlen)
{
	ip[10] = ip[11] = 0;
	fz_put16(ip + 10, fz_fold(fz_sum(ip, hlen, 0)));
}

/*
 * fz_l4_cksum: set the checksum of the transport header at l4 (len bytes
 * of segment) under IPv4 header ip: TCP and UDP with the pseudo-header,
 * ICMP and IGMP without.  Other protocols are left alone.
 */
static inline void
fz_l4_cksum(const uint8_t *ip, uint8_t *l4, size_t len)
{
	uint8_t proto = ip[9];
	uint32_t sum = 0;
	size_t at;

	switch (proto) {
	case 6:
		at = 16;
		break;
	case 17:
		at = 6;
		break;
	case 1:
	case 2:
		at = 2;
		break;
	default:
		return;
	}
	if (len < at + 2)
		return;
	if (proto != 1 && proto != 2) {
		sum = fz_sum(ip + 12, 8, 0);
		sum += proto;
		sum += (uint32_t)len;
	}
	l4[at] = l4[at + 1] = 0;
	fz_put16(l4 + at, fz_fold(fz_sum(l4, len, sum)));
	if (proto == 17 && l4[at] == 0 && l4[at + 1] == 0)
		l4[at] = l4[at + 1] = 0xff;	/* RFC 768: 0 means none */
}

/* fz_eth: an Ethernet header from the peer to the stack; its length */
static inline size_t
fz_eth(uint8_t *f, uint16_t type)
{
	memcpy(f, fz_stack_mac, 6);
	memcpy(f + 6, fz_peer_mac, 6);
	fz_put16(f + 12, type);
	return 14;
}

/*
 * fz_ipv4: a 20-byte IPv4 header at f from the peer to the stack, with
 * total length totlen, id, fragment field off, protocol proto and a
 * correct checksum.
 */
static inline size_t
fz_ipv4(uint8_t *f, uint16_t totlen, uint16_t id, uint16_t off,
    uint8_t proto)
{
	uint32_t s = inet_addr(FZ_PEER_ADDR), d = inet_addr(FZ_STACK_ADDR);

	f[0] = 0x45;
	f[1] = 0;
	fz_put16(f + 2, totlen);
	fz_put16(f + 4, id);
	fz_put16(f + 6, off);
	f[8] = 64;
	f[9] = proto;
	memcpy(f + 12, &s, 4);
	memcpy(f + 16, &d, 4);
	fz_ip_cksum(f, 20);
	return 20;
}

static inline struct sockaddr_in
fz_sa(const char *addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET };

	s.sin_port = htons(port);
	s.sin_addr.s_addr = inet_addr(addr);
	return s;
}

/* ---- the instance ---- */

struct fz_env {
	struct rump_bus *bus;
	struct rump_bus_tap *tap;
	struct rump_kernel *k;
	unsigned ifx;
	int fds[FZ_MAXFD];	/* descriptors to close at the end, or -1 */
};

static inline void
fz_settle(struct fz_env *e)
{
	if (rump_bus_quiesce(e->bus, FZ_QUIESCE_MS) != 0)
		fz_fail("the instance did not settle in %u ms", FZ_QUIESCE_MS);
}

/* fz_advance: move the virtual clock by ms and let what fell due run */
static inline void
fz_advance(struct fz_env *e, uint64_t ms)
{
	fz_settle(e);
	fz_check(rump_clock_advance(e->k, ms * 1000000u) == 0);
	fz_settle(e);
}

/* fz_drain: throw away what the stack sent to the tap so far */
static inline void
fz_drain(struct fz_env *e)
{
	uint8_t f[64];
	size_t len;

	while (rump_bus_tap_recv(e->tap, f, sizeof(f), &len, 0) == 0)
		;
}

/* fz_send: put frame f on the bus from the tap; processed on return */
static inline void
fz_send(struct fz_env *e, const void *f, size_t len)
{
	fz_check(rump_bus_tap_send(e->tap, f, len) == 0);
	fz_settle(e);
}

/*
 * fz_recv_ip: the next frame the stack sent that is IPv4 TCP (proto 6), UDP
 * or ICMP as asked, into f; its length, or 0 when none is left.  Other
 * frames (ARP) are skipped.
 */
static inline size_t
fz_recv_ip(struct fz_env *e, uint8_t proto, uint8_t *f, size_t max)
{
	size_t len;

	fz_settle(e);
	while (rump_bus_tap_recv(e->tap, f, max, &len, 0) == 0) {
		if (len <= max && len >= 14 + 20 && fz_get16(f + 12) == 0x0800 &&
		    f[14 + 9] == proto)
			return len;
	}
	return 0;
}

/* fz_keep: remember fd for fz_down(); false when there is no room */
static inline bool
fz_keep(struct fz_env *e, int fd)
{
	for (int i = 0; i < FZ_MAXFD; i++) {
		if (e->fds[i] < 0) {
			e->fds[i] = fd;
			return true;
		}
	}
	return false;
}

/* fz_forget: fd was closed by the target */
static inline void
fz_forget(struct fz_env *e, int fd)
{
	for (int i = 0; i < FZ_MAXFD; i++)
		if (e->fds[i] == fd)
			e->fds[i] = -1;
}

static inline void
fz_up(struct fz_env *e)
{
	struct rump_kernel_config cfg;

	memset(e, 0, sizeof(*e));
	for (int i = 0; i < FZ_MAXFD; i++)
		e->fds[i] = -1;
	fz_check(rump_bus_create(NULL, &e->bus) == 0);
	rump_kernel_config_default(&cfg);
	cfg.clock = RUMP_CLOCK_VIRTUAL;
	cfg.clock_thread = false;
	fz_check(rump_kernel_create(&cfg, &e->k) == 0);
	fz_check(rump_bus_tap_open(e->bus, fz_peer_mac, &e->tap) == 0);
	fz_check(rump_bus_attach(e->bus, e->k, "bus0", fz_stack_mac,
	    &e->ifx) == 0);
	fz_check(rump_if_up(e->k, e->ifx) == 0);
	fz_check(rump_if_addr_add(e->k, e->ifx, inet_addr(FZ_STACK_ADDR),
	    24) == 0);
	fz_check(rump_arp_add(e->k, e->ifx, inet_addr(FZ_PEER_ADDR),
	    fz_peer_mac) == 0);
	fz_check(rump_thread_bind(e->k) == 0);
	/* time 0 is an edge case of its own: start at 1 s, as the tests do */
	fz_advance(e, 1000);
	fz_drain(e);
}

/*
 * fz_close_all: close every descriptor kept, aborting TCP connections
 * (SO_LINGER 0) so that none goes through TIME-WAIT.
 */
static inline void
fz_close_all(struct fz_env *e)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	for (int i = 0; i < FZ_MAXFD; i++) {
		if (e->fds[i] < 0)
			continue;
		(void)rump_sys_setsockopt(e->fds[i], SOL_SOCKET, SO_LINGER,
		    &lg, sizeof(lg));
		if (rump_sys_close(e->fds[i]) != 0)
			fz_fail("close(%d): errno %d", e->fds[i], errno);
		e->fds[i] = -1;
	}
}

/*
 * The longest any object may outlive its descriptor: a connection
 * closed by the input may still retransmit its FIN until it gives up
 * (RFC 9293 3.8.3: minutes), then wait 2 MSL; reassembly queues and ARP
 * entries time out sooner.  One virtual hour covers them all.
 */
#define FZ_DRAIN_MS (3600u * 1000u)

static inline void
fz_down(struct fz_env *e)
{
	uint64_t waited = 0, step = 1000;
	uint64_t leaks;

	fz_close_all(e);
	while ((leaks = rump_kernel_leaks(e->k)) != 0 && waited < FZ_DRAIN_MS) {
		fz_advance(e, step);
		fz_drain(e);
		waited += step;
		if (step < 64000)
			step *= 2;
	}
	if (leaks != 0) {
		struct rump_pool_stat ps[32];
		unsigned n = 32;

		(void)rump_kernel_pool_stats(e->k, ps, &n);
		for (unsigned i = 0; i < n && i < 32; i++)
			if (ps[i].nget != ps[i].nput)
				fprintf(stderr, "fuzz: pool %s: %llu out\n",
				    ps[i].name, (unsigned long long)
				    (ps[i].nget - ps[i].nput));
		fz_fail("%llu pool objects still out after %llu ms with every "
		    "descriptor closed", (unsigned long long)leaks,
		    (unsigned long long)waited);
	}
	fz_check(rump_thread_unbind() == 0);
	rump_bus_tap_close(e->tap);
	fz_check(rump_kernel_destroy(e->k) == 0);
	fz_check(rump_bus_destroy(e->bus) == 0);
}

#endif /* TESTS_FUZZ_FUZZ_H */
