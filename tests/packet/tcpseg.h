/*
 * tcpseg.h -- segment-exchange helpers for the TCP packet suites, in the
 * lwIP habit: a fake peer builds each segment relative to its view of the
 * connection, and what the stack sends back is parsed with every length
 * checked and compared field by field.
 *
 *   struct tenv   one rumpnet instance (198.18.0.1, MTU 1500, virtual
 *                 clock) on a bus, and a tap playing the remote host
 *                 (198.18.0.2) with a static ARP entry on the instance.
 *                 The test thread stays bound to the instance and uses
 *                 non-blocking sockets, so one thread drives everything.
 *   struct peer   the remote end of one connection: its ISS, SND.NXT and
 *                 RCV.NXT, the window it advertises, the options it offers
 *                 (PO_*), its timestamp clock, and what it learnt from the
 *                 stack's SYN (window shift, timestamps).
 *   struct tseg   one segment the stack sent, decoded.
 *
 * Builders (each waits until the stack has processed the segment):
 * peer_raw() (raw option bytes), peer_seg() (every field given, options
 * as PO_* flags; peer_raw_put() and peer_seg_put() do not wait, for a
 * burst the stack takes in one go), peer_send() (from the peer's state, advancing its
 * SND.NXT), peer_ack(), peer_rst(), peer_icmp() (an ICMP error quoting a
 * segment of the connection).  Readers: tap_read() (strict parse),
 * expect_seg() (flags, SEQ and ACK exactly, plus the RFC 7323 invariants:
 * timestamps in every non-RST segment once agreed and never otherwise,
 * TSval never going back, MSS and WS only on a SYN; RFC 3168: no ECT
 * codepoint on a SYN, an RST or a segment without data), expect_synack(),
 * expect_data(), expect_ack(), expect_nothing().  Connections:
 * stack_connect(), peer_synack(), active_open(), passive_open(),
 * to_state() (from ESTABLISHED to any synchronized state), conn_abort()
 * (SO_LINGER 0, the usual end of a test).  Time: tenv_advance() moves the
 * virtual clock in milliseconds and waits for the bus to settle, so a
 * segment that became due is on the tap when it returns.
 *
 * ECN (RFC 3168): the peer's segments carry p->tos in the IP header's
 * TOS byte (its low two bits are the ECN field) and any of TH_ECE,
 * TH_CWR in their flags; a decoded segment has its TOS byte in s->tos;
 * the ECE and CWR the stack's SYN must carry are p->syn_ecn (none by
 * default, as the stack does not ask for ECN unless told to).
 *
 * The IPv4 and TCP checksums of what the peer sends are computed here with
 * pkt.h's reference checksum, independently of the stack.
 *
 * Include after "../unit/harness.h" and "pkt.h", with _DEFAULT_SOURCE
 * defined before the first header: <netinet/tcp.h> then gives the host's
 * TH_*, TCPOPT_*, TCP_* socket options, Linux state numbers and struct
 * tcp_info, which the public API promises to speak.
 */
#ifndef TESTS_PACKET_TCPSEG_H
#define TESTS_PACKET_TCPSEG_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>

#include "rumpnet/bus.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

#ifndef TH_SYN
#error "define _DEFAULT_SOURCE before the first header for <netinet/tcp.h>"
#endif
/* RFC 3168 6.1: the two flags glibc's <netinet/tcp.h> does not name */
#ifndef TH_ECE
#define TH_ECE 0x40
#endif
#ifndef TH_CWR
#define TH_CWR 0x80
#endif
#define TS_ECN_MASK 0x03	/* the ECN field of the TOS byte */

#define TS_STACK_ADDR "198.18.0.1"
#define TS_PEER_ADDR "198.18.0.2"
#define TS_MTU 1500
#define TS_MSS (TS_MTU - 40)	/* what the stack offers (RFC 9293 3.7.1) */
#define TS_FRAME_MAX 2048

static const uint8_t ts_stack_mac[6] = { 0x02, 0, 0, 0, 1, 0x01 };
static const uint8_t ts_peer_mac[6] = { 0x02, 0, 0, 0, 1, 0x02 };

struct tenv {
	struct rump_bus *bus;
	struct rump_bus_tap *tap;
	struct rump_kernel *k;
	unsigned ifx;
};

/* ---- the instance and the tap ---- */

static inline void expect_nothing(struct tenv *e);

static inline void
tenv_settle(struct tenv *e)
{
	assert_int_equal(rump_bus_quiesce(e->bus, 5000), 0);
}

/* Move the virtual clock by ms; what became due has run when it returns. */
static inline void
tenv_advance(struct tenv *e, uint64_t ms)
{
	tenv_settle(e);
	assert_int_equal(rump_clock_advance(e->k, ms * 1000000u), 0);
	tenv_settle(e);
}

/*
 * tenv_up0_bus: the instance and the tap, the clock still at 0; the
 * instance's mbuf_limit, cluster_limit, socket_limit and jumbo_limit
 * from lim, the bus made with bc (NULL: the defaults).
 */
static inline void
tenv_up0_bus(struct tenv *e, const struct rump_kernel_config *lim,
    const struct rump_bus_config *bc)
{
	struct rump_kernel_config cfg;
	uint8_t f[TS_FRAME_MAX];
	size_t len;

	memset(e, 0, sizeof(*e));
	assert_int_equal(rump_bus_create(bc, &e->bus), 0);
	rump_kernel_config_default(&cfg);
	cfg.softint_mode = pkt_mode();
	cfg.clock = RUMP_CLOCK_VIRTUAL;
	if (lim != NULL) {
		cfg.mbuf_limit = lim->mbuf_limit;
		cfg.cluster_limit = lim->cluster_limit;
		cfg.socket_limit = lim->socket_limit;
		cfg.jumbo_limit = lim->jumbo_limit;
	}
	assert_int_equal(rump_kernel_create(&cfg, &e->k), 0);
	assert_int_equal(rump_bus_tap_open(e->bus, ts_peer_mac, &e->tap), 0);
	assert_int_equal(rump_bus_attach(e->bus, e->k, "bus0", ts_stack_mac,
	    &e->ifx), 0);
	assert_int_equal(rump_if_up(e->k, e->ifx), 0);
	assert_int_equal(rump_if_addr_add(e->k, e->ifx, ip(TS_STACK_ADDR), 24),
	    0);
	assert_int_equal(rump_arp_add(e->k, e->ifx, ip(TS_PEER_ADDR),
	    ts_peer_mac), 0);
	tenv_settle(e);
	/* the gratuitous ARP announcements are no business of these tests */
	while (rump_bus_tap_recv(e->tap, f, sizeof(f), &len, 0) == 0)
		assert_int_equal(f[12] << 8 | f[13], 0x0806);
	(void)rump_thread_unbind();	/* after a failed test */
	assert_int_equal(rump_thread_bind(e->k), 0);
}

/* tenv_up0_limits: tenv_up0_bus() on the default bus. */
static inline void
tenv_up0_limits(struct tenv *e, const struct rump_kernel_config *lim)
{
	tenv_up0_bus(e, lim, NULL);
}

/* tenv_up0: the instance and the tap, the clock still at 0. */
static inline void
tenv_up0(struct tenv *e)
{
	tenv_up0_limits(e, NULL);
}

/*
 * tenv_up: the instance and the tap, the test thread bound to the
 * instance, the clock at 1 s: time 0 is an edge case of its own (see
 * test_tcp_rtt_sample_at_time_zero), not the one every test should try.
 */
static inline void
tenv_up(struct tenv *e)
{
	tenv_up0(e);
	tenv_advance(e, 1000);
}

/*
 * Every descriptor must be closed and every connection gone by now, and
 * the stack must have sent nothing the test did not look at.
 */
static inline void
tenv_down(struct tenv *e)
{
	expect_nothing(e);
	assert_int_equal(rump_thread_unbind(), 0);
	rump_bus_tap_close(e->tap);
	tenv_settle(e);
	th_kernel_destroy(e->k);
	assert_int_equal(rump_bus_destroy(e->bus), 0);
}

/* Milliseconds since the instance started. */
static inline uint64_t
tenv_now_ms(struct tenv *e)
{
	return rump_clock_now(e->k) / 1000000u;
}

/* tstat: counter tcp.<name> of the instance */
static inline uint64_t
tstat(struct tenv *e, const char *name)
{
	char full[64];
	uint64_t v = 0;

	snprintf(full, sizeof(full), "tcp.%s", name);
	if (rump_stat_get(e->k, full, &v) != 0)
		fail_msg("no counter %s", full);
	return v;
}

/* ---- segments the stack sends ---- */

struct tseg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;			/* the field as sent */
	uint16_t urp;
	uint8_t ttl;
	uint8_t tos;			/* the IP TOS byte (ECN: low 2 bits) */
	uint16_t ip_off;
	bool mss_p, ws_p, ts_p, sackok_p;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	bool tfo_p;			/* TCP Fast Open option (RFC 7413) */
	uint8_t tfo_len;		/* its cookie's length, 0: a request */
	uint8_t tfo[16];
	unsigned nsack;			/* SACK blocks (RFC 2018) */
	uint32_t sack[4][2];		/* [start, end) */
	size_t optlen;
	uint8_t opt[40];
	size_t len;			/* payload bytes */
	uint8_t data[TS_FRAME_MAX];
};

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Options of a segment from the stack: every length checked. */
static inline void
tseg_options(struct tseg *s, const uint8_t *o, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t kind = o[i], len;

		if (kind == TCPOPT_EOL) {
			/* what follows EOL is zero padding */
			for (; i < n; i++)
				assert_int_equal(o[i], 0);
			break;
		}
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		assert_true(i + 2 <= n);
		len = o[i + 1];
		assert_true(len >= 2 && i + len <= n);
		switch (kind) {
		case TCPOPT_MAXSEG:
			assert_int_equal(len, 4);
			assert_false(s->mss_p);
			s->mss_p = true;
			s->mss = be16(o + i + 2);
			break;
		case TCPOPT_WINDOW:
			assert_int_equal(len, 3);
			assert_false(s->ws_p);
			s->ws_p = true;
			s->ws = o[i + 2];
			break;
		case TCPOPT_SACK_PERMITTED:
			assert_int_equal(len, 2);
			s->sackok_p = true;
			break;
		case TCPOPT_SACK:
			/* RFC 2018 3: 2 + 8n bytes, 1 <= n <= 4 */
			assert_true(len >= 10 && (len - 2) % 8 == 0);
			assert_int_equal(s->nsack, 0);
			s->nsack = (unsigned)(len - 2) / 8;
			for (unsigned b = 0; b < s->nsack; b++) {
				s->sack[b][0] = be32(o + i + 2 + 8 * b);
				s->sack[b][1] = be32(o + i + 6 + 8 * b);
			}
			break;
		case TCPOPT_TIMESTAMP:
			assert_int_equal(len, 10);
			assert_false(s->ts_p);
			s->ts_p = true;
			s->tsval = be32(o + i + 2);
			s->tsecr = be32(o + i + 6);
			break;
		case 34:	/* TCP Fast Open (RFC 7413 4.1.1) */
			assert_true(len == 2 || (len >= 6 && len <= 18 &&
			    len % 2 == 0));
			assert_false(s->tfo_p);
			s->tfo_p = true;
			s->tfo_len = (uint8_t)(len - 2);
			memcpy(s->tfo, o + i + 2, s->tfo_len);
			break;
		default:
			fail_msg("the stack sent option kind %u", kind);
		}
		i += len;
	}
}

/*
 * Decode frame f (flen bytes) into s: Ethernet from the stack to the peer,
 * IPv4 with a correct header checksum, not fragmented, TCP with a correct
 * checksum, a data offset inside the segment, well-formed options.
 */
static inline void
tseg_parse(const uint8_t *f, size_t flen, struct tseg *s)
{
	const uint8_t *iph = f + 14, *th;
	size_t ihl, totlen, tcplen, doff;
	uint32_t src, dst;

	memset(s, 0, sizeof(*s));
	assert_true(flen >= 14 + 20);
	assert_memory_equal(f, ts_peer_mac, 6);
	assert_memory_equal(f + 6, ts_stack_mac, 6);
	assert_int_equal(be16(f + 12), 0x0800);
	assert_int_equal(iph[0] >> 4, 4);
	ihl = (size_t)(iph[0] & 0xf) * 4;
	totlen = be16(iph + 2);
	assert_true(ihl >= 20 && totlen >= ihl + 20);
	assert_true(14 + totlen <= flen);
	assert_int_equal(ref_cksum(iph, ihl, 0), 0);
	s->ip_off = be16(iph + 6);
	assert_int_equal(s->ip_off & 0x3fff, 0);	/* no fragments */
	s->ttl = iph[8];
	assert_true(s->ttl > 0);
	s->tos = iph[1];
	assert_int_equal(iph[9], 6);
	memcpy(&src, iph + 12, 4);
	memcpy(&dst, iph + 16, 4);
	assert_int_equal(src, ip(TS_STACK_ADDR));
	assert_int_equal(dst, ip(TS_PEER_ADDR));
	th = iph + ihl;
	tcplen = totlen - ihl;
	assert_int_equal(ref_cksum(th, tcplen, ref_pseudo(src, dst, 6, tcplen)),
	    0);
	doff = (size_t)(th[12] >> 4) * 4;
	assert_true(doff >= 20 && doff <= tcplen);
	assert_int_equal(th[12] & 0x0f, 0);	/* reserved bits */
	s->sport = be16(th);
	s->dport = be16(th + 2);
	s->seq = be32(th + 4);
	s->ack = be32(th + 8);
	s->flags = th[13];
	s->win = be16(th + 14);
	s->urp = be16(th + 18);
	s->optlen = doff - 20;
	memcpy(s->opt, th + 20, s->optlen);
	tseg_options(s, th + 20, s->optlen);
	s->len = tcplen - doff;
	memcpy(s->data, th + doff, s->len);
}

/* tap_read: the next frame from the stack, decoded; false when none came. */
static inline bool
tap_read(struct tenv *e, struct tseg *s)
{
	static uint8_t f[TS_FRAME_MAX];
	size_t len = 0;

	tenv_settle(e);
	if (rump_bus_tap_recv(e->tap, f, sizeof(f), &len, 0) != 0)
		return false;
	assert_true(len <= sizeof(f));
	tseg_parse(f, len, s);
	return true;
}

/* expect_nothing: the stack has sent nothing (ARP included). */
static inline void
expect_nothing(struct tenv *e)
{
	uint8_t f[TS_FRAME_MAX];
	size_t len;

	tenv_settle(e);
	if (rump_bus_tap_recv(e->tap, f, sizeof(f), &len, 0) == 0) {
		struct tseg s;

		if (len >= 14 + 40 && be16(f + 12) == 0x0800 && f[23] == 6) {
			tseg_parse(f, len, &s);
			fail_msg("unexpected segment flags %#x seq %u ack %u "
			    "len %zu", s.flags, s.seq, s.ack, s.len);
		}
		fail_msg("unexpected frame of %zu bytes", len);
	}
}

/* ---- the fake peer ---- */

#define PO_MSS 0x01		/* MSS option in the SYN */
#define PO_WS 0x02		/* window scale in the SYN */
#define PO_TS 0x04		/* timestamps (SYN, then every segment) */
#define PO_SACKOK 0x08		/* SACK permitted in the SYN */
#define PO_ALL (PO_MSS | PO_WS | PO_TS)
#define PO_AUTO 0x100		/* peer_seg(): what the connection uses */
#define PO_NONE 0

struct peer {
	struct tenv *e;
	uint16_t port;		/* the peer's port */
	uint16_t sport;		/* the stack's port (0: learn it) */
	uint32_t iss;
	uint32_t snd_nxt;	/* next sequence number the peer sends */
	uint32_t rcv_nxt;	/* next sequence number due from the stack */
	uint16_t win;		/* the window field the peer sends */
	unsigned opts;		/* PO_* offered in the peer's SYN */
	uint16_t mss;		/* its MSS option */
	uint8_t ws;		/* its window shift option */
	uint32_t tsval;		/* TSval of its next segment */
	uint32_t ts_recent;	/* the stack's last TSval: TSecr to send */
	bool ts_on;		/* timestamps agreed */
	int stack_ws;		/* the stack's window shift, -1: none */
	bool stack_syn_ts;	/* the stack's SYN offered timestamps */
	bool stack_ts_seen;	/* for the TSval-never-goes-back check */
	uint32_t stack_tsval;
	uint32_t stack_iss;
	uint16_t ipid;
	uint8_t tos;		/* IP TOS byte of its segments (ECN field) */
	uint8_t syn_ecn;	/* TH_ECE|TH_CWR the stack's SYN must carry */
	struct tseg last;	/* the segment expect_seg() returned */
};

static inline void
peer_init(struct peer *p, struct tenv *e, uint16_t port, unsigned opts)
{
	memset(p, 0, sizeof(*p));
	p->e = e;
	p->port = port;
	p->iss = 0x10000000u + (uint32_t)port * 7919u;
	p->snd_nxt = p->iss;
	p->win = 65535;
	p->opts = opts;
	p->mss = TS_MSS;
	p->ws = 7;
	p->tsval = 5000;
	p->stack_ws = -1;
	p->ipid = 1;
}

/* The option bytes of a segment with flags, opts PO_* or PO_AUTO. */
static inline size_t
peer_options(struct peer *p, uint8_t flags, unsigned opts, uint8_t *o)
{
	size_t n = 0;

	if (opts & PO_AUTO)
		opts = (flags & TH_SYN) ? p->opts : (p->ts_on ? PO_TS : 0);
	if ((flags & TH_SYN) && (opts & PO_MSS)) {
		o[n++] = TCPOPT_MAXSEG;
		o[n++] = 4;
		put16(o + n, p->mss);
		n += 2;
	}
	if ((flags & TH_SYN) && (opts & PO_SACKOK)) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_SACK_PERMITTED;
		o[n++] = 2;
	}
	if (opts & PO_TS) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_TIMESTAMP;
		o[n++] = 10;
		put32(o + n, p->tsval);
		put32(o + n + 4, (flags & TH_ACK) ? p->ts_recent : 0);
		n += 8;
	}
	if ((flags & TH_SYN) && (opts & PO_WS)) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_WINDOW;
		o[n++] = 3;
		o[n++] = p->ws;
	}
	return n;
}

/*
 * peer_raw_put: put one segment from the peer on the wire with the option
 * bytes opt (a multiple of 4, at most 40) and len bytes of data; the stack
 * may not have seen it yet when it returns (tenv_settle() waits).
 */
static inline void
peer_raw_put(struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack,
    uint16_t win, const uint8_t *opt, size_t optlen, const void *data,
    size_t len)
{
	static uint8_t f[TS_FRAME_MAX];
	size_t thlen = 20 + optlen, off;
	uint8_t *th;
	uint16_t c;

	assert_true(optlen % 4 == 0 && optlen <= 40);
	assert_true(14 + 20 + thlen + len <= sizeof(f));
	off = eth(f, ts_stack_mac, ts_peer_mac, 0x0800);
	off += ipv4(f + off, NULL, 0, (uint16_t)(20 + thlen + len), p->ipid++,
	    0x4000, 64, 6, TS_PEER_ADDR, TS_STACK_ADDR);
	if (p->tos != 0) {
		uint8_t *iph = f + off - 20;

		iph[1] = p->tos;
		iph[10] = iph[11] = 0;
		c = ref_cksum(iph, 20, 0);
		memcpy(iph + 10, &c, 2);
	}
	th = f + off;
	put16(th, p->port);
	put16(th + 2, p->sport);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = (uint8_t)((thlen / 4) << 4);
	th[13] = flags;
	put16(th + 14, win);
	th[16] = th[17] = 0;
	th[18] = th[19] = 0;
	if (optlen > 0)
		memcpy(th + 20, opt, optlen);
	if (len > 0)
		memcpy(th + thlen, data, len);
	c = ref_cksum(th, thlen + len, ref_pseudo(ip(TS_PEER_ADDR),
	    ip(TS_STACK_ADDR), 6, thlen + len));
	memcpy(th + 16, &c, 2);
	assert_int_equal(rump_bus_tap_send(p->e->tap, f, off + thlen + len),
	    0);
}

/* peer_raw: peer_raw_put(), and wait until the stack has processed it. */
static inline void
peer_raw(struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack,
    uint16_t win, const uint8_t *opt, size_t optlen, const void *data,
    size_t len)
{
	peer_raw_put(p, flags, seq, ack, win, opt, optlen, data, len);
	tenv_settle(p->e);	/* processed before the test goes on */
}

/*
 * peer_seg: a segment with every field given and options opts (PO_* or
 * PO_AUTO); the peer's state is not changed, except that its timestamp
 * clock ticks once per segment sent with a timestamp.
 */
static inline void
peer_seg_put(struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack,
    uint16_t win, unsigned opts, const void *data, size_t len)
{
	uint8_t o[40] = { 0 };
	size_t n = peer_options(p, flags, opts, o);

	while (n % 4 != 0)
		o[n++] = TCPOPT_EOL;
	peer_raw_put(p, flags, seq, ack, win, o, n, data, len);
	if (n > 0 && ((opts & PO_AUTO) ? (p->ts_on || ((flags & TH_SYN) &&
	    (p->opts & PO_TS))) : (opts & PO_TS) != 0))
		p->tsval++;
}

static inline void
peer_seg(struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack,
    uint16_t win, unsigned opts, const void *data, size_t len)
{
	peer_seg_put(p, flags, seq, ack, win, opts, data, len);
	tenv_settle(p->e);	/* processed before the test goes on */
}

/*
 * peer_send: the next segment of the peer's stream: SEQ = its SND.NXT,
 * ACK = its RCV.NXT (when flags has TH_ACK), its window, the options the
 * connection uses; SND.NXT moves past the data, SYN and FIN.
 */
static inline void
peer_send(struct peer *p, uint8_t flags, const void *data, size_t len)
{
	peer_seg(p, flags, p->snd_nxt, (flags & TH_ACK) ? p->rcv_nxt : 0,
	    p->win, PO_AUTO, data, len);
	p->snd_nxt += (uint32_t)len + ((flags & TH_SYN) ? 1u : 0u) +
	    ((flags & TH_FIN) ? 1u : 0u);
}

static inline void
peer_ack(struct peer *p)
{
	peer_send(p, TH_ACK, NULL, 0);
}

/*
 * peer_sack: a pure ACK of ack (not moving the peer's state) with the
 * connection's options and n SACK blocks blk[i] = {start, end}.
 */
static inline void
peer_sack(struct peer *p, uint32_t ack, const uint32_t (*blk)[2],
    unsigned n)
{
	uint8_t o[40] = { 0 };
	size_t len = peer_options(p, TH_ACK, PO_AUTO, o);

	assert_true(len + 4 + 8 * n <= 40);
	o[len++] = TCPOPT_NOP;
	o[len++] = TCPOPT_NOP;
	o[len++] = TCPOPT_SACK;
	o[len++] = (uint8_t)(2 + 8 * n);
	for (unsigned i = 0; i < n; i++) {
		put32(o + len, blk[i][0]);
		put32(o + len + 4, blk[i][1]);
		len += 8;
	}
	peer_raw(p, TH_ACK, p->snd_nxt, ack, p->win, o, len, NULL, 0);
	if (p->ts_on)
		p->tsval++;
}

/* peer_rst: an RST at seq (with ACK of RCV.NXT when ack is true) */
static inline void
peer_rst(struct peer *p, uint32_t seq, bool ack)
{
	peer_seg(p, ack ? (TH_RST | TH_ACK) : TH_RST, seq,
	    ack ? p->rcv_nxt : 0, 0, PO_NONE, NULL, 0);
}

/*
 * expect_segx: the next segment from the stack must exist and have exactly
 * flags, seq (unless anyseq) and ack (compared only when TH_ACK is in
 * flags).  Checks the ports and the RFC 7323 invariants, learns the stack's
 * port, ISS, window shift and timestamps, and moves the peer's RCV.NXT
 * past in-order data, SYN and FIN.  Returns the segment (p->last).
 */
static inline const struct tseg *
expect_segx(struct peer *p, uint8_t flags, bool anyseq, uint32_t seq,
    uint32_t ack)
{
	struct tseg *s = &p->last;

	if (!tap_read(p->e, s))
		fail_msg("expected a segment flags %#x seq %u ack %u, got "
		    "nothing", flags, seq, ack);
	if (s->flags != flags || (!anyseq && s->seq != seq) ||
	    ((flags & TH_ACK) && s->ack != ack))
		fail_msg("expected flags %#x seq %u ack %u, got flags %#x seq "
		    "%u ack %u len %zu", flags, seq, ack, s->flags, s->seq,
		    s->ack, s->len);
	if (p->sport == 0)
		p->sport = s->sport;
	assert_int_equal(s->sport, p->sport);
	assert_int_equal(s->dport, p->port);
	/* RFC 3168 6.1.1, 6.1.4: ECT only on segments with data, no SYN */
	if ((flags & (TH_SYN | TH_RST)) || s->len == 0)
		assert_int_equal(s->tos & TS_ECN_MASK, 0);
	if (flags & TH_SYN) {
		p->stack_iss = s->seq;
		p->rcv_nxt = s->seq + 1;
		if (flags & TH_ACK) {
			/* RFC 7323 2.2, 3.2: a SYN-ACK only answers offers */
			if (!(p->opts & PO_WS))
				assert_false(s->ws_p);
			if (!(p->opts & PO_TS))
				assert_false(s->ts_p);
			p->ts_on = s->ts_p;
		} else if (s->ts_p) {
			/* RFC 7323 3.2: a SYN's TSecr is 0 */
			assert_int_equal(s->tsecr, 0);
		}
		p->stack_ws = s->ws_p ? s->ws : -1;
	} else if (!(flags & TH_RST)) {
		/* RFC 7323 3.2: in every non-RST segment once agreed */
		if (p->ts_on && !s->ts_p)
			fail_msg("segment flags %#x seq %u without the "
			    "timestamp option agreed on (RFC 7323 3.2 MUST)",
			    s->flags, s->seq);
		if (!p->ts_on)
			assert_false(s->ts_p);
		assert_false(s->mss_p);	/* RFC 9293 3.7.1: SYN only */
		assert_false(s->ws_p);	/* RFC 7323 2.2: SYN only */
	}
	if (s->ts_p) {
		/* RFC 7323 5.4: the TSval clock is monotone */
		if (p->stack_ts_seen)
			assert_true((int32_t)(s->tsval - p->stack_tsval) >= 0);
		p->stack_ts_seen = true;
		p->stack_tsval = s->tsval;
		p->ts_recent = s->tsval;
	}
	if (!(flags & (TH_SYN | TH_RST)) && s->seq == p->rcv_nxt)
		p->rcv_nxt += (uint32_t)s->len + ((flags & TH_FIN) ? 1u : 0u);
	return s;
}

static inline const struct tseg *
expect_seg(struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack)
{
	return expect_segx(p, flags, false, seq, ack);
}

/* expect_synack: the stack's SYN-ACK for the peer's SYN (any ISS). */
static inline const struct tseg *
expect_synack(struct peer *p)
{
	return expect_segx(p, TH_SYN | TH_ACK, true, 0, p->snd_nxt);
}

/*
 * expect_data: a data segment of len bytes at the peer's RCV.NXT with
 * ACK = the peer's SND.NXT; flags TH_ACK, plus TH_PUSH when push.
 */
static inline const struct tseg *
expect_data(struct peer *p, size_t len, bool push)
{
	const struct tseg *s = expect_seg(p, TH_ACK | (push ? TH_PUSH : 0),
	    p->rcv_nxt, p->snd_nxt);

	assert_int_equal(s->len, len);
	return s;
}

/* expect_ack: a pure ACK <SEQ=peer's RCV.NXT><ACK=peer's SND.NXT>. */
static inline const struct tseg *
expect_ack(struct peer *p)
{
	const struct tseg *s = expect_seg(p, TH_ACK, p->rcv_nxt, p->snd_nxt);

	assert_int_equal(s->len, 0);
	return s;
}

/* The window the stack offers in s, in bytes. */
static inline uint32_t
stack_window(const struct peer *p, const struct tseg *s)
{
	if ((s->flags & TH_SYN) || p->stack_ws < 0 || !(p->opts & PO_WS))
		return s->win;
	return (uint32_t)s->win << p->stack_ws;
}

/* ---- the socket side (the test thread is bound to the instance) ---- */

/* rumpnet's struct tcp_info: glibc's, then rumpnet's own fields */
struct rn_tcp_info {
	struct tcp_info ti;
	uint64_t bytes_in_flight;
	uint64_t bytes_acked;
	uint64_t bytes_received;
	uint32_t snd_wnd;
	uint32_t rcv_wnd;
	uint32_t snd_cwnd_bytes;
	uint32_t snd_ssthresh_bytes;
};

static inline struct rn_tcp_info
tinfo(int fd)
{
	struct rn_tcp_info i;
	socklen_t len = sizeof(i);

	memset(&i, 0, sizeof(i));
	assert_int_equal(rump_sys_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &i,
	    &len), 0);
	assert_int_equal(len, sizeof(i));
	return i;
}

/*
 * tstate: the connection's state in Linux numbering (TCP_ESTABLISHED ...),
 * TCP_CLOSE once the connection is gone (rumpnet answers TCP_INFO on a
 * socket without a connection with EINVAL; Linux with TCP_CLOSE).
 */
static inline int
tstate(int fd)
{
	struct rn_tcp_info i;
	socklen_t len = sizeof(i);

	/* as Linux: the record, state CLOSE, after the connection went */
	assert_int_equal(rump_sys_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &i,
	    &len), 0);
	return i.ti.tcpi_state;
}

/* read_error: read() on fd fails with errno err (a pending error). */
static inline void
read_error(int fd, int err)
{
	char c;

	errno = 0;
	assert_int_equal(rump_sys_read(fd, &c, 1), -1);
	assert_int_equal(errno, err);
}

static inline int
so_error(int fd)
{
	int err = -1;
	socklen_t len = sizeof(err);

	assert_int_equal(rump_sys_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
	    &len), 0);
	return err;
}

/* What poll() reports for fd now (timeout 0). */
static inline short
poll_now(int fd, short events)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	assert_true(rump_sys_poll(&pfd, 1, 0) >= 0);
	return pfd.revents;
}

static inline void
setopt_int(int fd, int level, int name, int v)
{
	assert_int_equal(rump_sys_setsockopt(fd, level, name, &v, sizeof(v)),
	    0);
}

static inline int
getopt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(rump_sys_getsockopt(fd, level, name, &v, &len), 0);
	assert_int_equal(len, sizeof(v));
	return v;
}

static inline int
tcp_socket(void)
{
	int fd = rump_sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	return fd;
}

/* A non-blocking listening socket on the stack's port. */
static inline int
tcp_listener(uint16_t port, int backlog)
{
	struct sockaddr_in a = sa(TS_STACK_ADDR, port);
	int fd = tcp_socket();

	assert_int_equal(rump_sys_bind(fd, (struct sockaddr *)&a, sizeof(a)),
	    0);
	assert_int_equal(rump_sys_listen(fd, backlog), 0);
	return fd;
}

/*
 * peer_learn_syn: p->last is the stack's SYN (no data, TSecr 0): the peer
 * learns the stack's port, ISS, window shift and TSval from it.
 */
static inline void
peer_learn_syn(struct peer *p)
{
	const struct tseg *s = &p->last;

	assert_int_equal(s->flags, TH_SYN | p->syn_ecn);
	assert_int_equal(s->tos & TS_ECN_MASK, 0);	/* RFC 3168 6.1.1 */
	assert_int_equal(s->dport, p->port);
	assert_int_equal(s->len, 0);
	p->sport = s->sport;
	p->stack_iss = s->seq;
	p->rcv_nxt = s->seq + 1;
	p->stack_ws = s->ws_p ? s->ws : -1;
	p->stack_syn_ts = s->ts_p;
	if (s->ts_p) {
		assert_int_equal(s->tsecr, 0);
		p->stack_ts_seen = true;
		p->stack_tsval = s->tsval;
		p->ts_recent = s->tsval;
	}
}

/*
 * stack_connect_fd: connect the non-blocking socket fd to the peer:
 * EINPROGRESS, and the SYN is on the wire (peer_learn_syn()).
 */
static inline void
stack_connect_fd(struct peer *p, int fd)
{
	struct sockaddr_in a = sa(TS_PEER_ADDR, p->port);

	errno = 0;
	assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&a,
	    sizeof(a)), -1);
	assert_int_equal(errno, EINPROGRESS);
	if (!tap_read(p->e, &p->last))
		fail_msg("connect() sent no SYN");
	peer_learn_syn(p);
}

/* stack_connect: a new non-blocking socket, connecting; returns it. */
static inline int
stack_connect(struct peer *p)
{
	int fd = tcp_socket();

	stack_connect_fd(p, fd);
	return fd;
}

/*
 * peer_synack_send: answer the stack's SYN with the peer's SYN-ACK
 * (options p->opts).  peer_synack: and check the stack's ACK; the
 * connection is then established.
 */
static inline void
peer_synack_send(struct peer *p)
{
	p->ts_on = (p->opts & PO_TS) && p->stack_syn_ts;
	if (!(p->opts & PO_WS))
		p->stack_ws = -1;
	peer_send(p, TH_SYN | TH_ACK, NULL, 0);
}

static inline void
peer_synack(struct peer *p)
{
	peer_synack_send(p);
	expect_seg(p, TH_ACK, p->stack_iss + 1, p->snd_nxt);
}

/* active_open: connect() and the whole handshake; returns the socket. */
static inline int
active_open(struct peer *p)
{
	int fd = stack_connect(p);

	peer_synack(p);
	assert_int_equal(so_error(fd), 0);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	return fd;
}

/*
 * passive_open: the peer connects to the stack's listening port
 * (p->sport): SYN, SYN-ACK, ACK, then accept4() returns the connection.
 */
static inline int
passive_open(struct peer *p, int lfd)
{
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	int fd;

	peer_send(p, TH_SYN, NULL, 0);
	expect_synack(p);
	peer_ack(p);
	expect_nothing(p->e);
	fd = rump_sys_accept4(lfd, (struct sockaddr *)&from, &fromlen,
	    SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(from.sin_addr.s_addr, ip(TS_PEER_ADDR));
	assert_int_equal(ntohs(from.sin_port), p->port);
	return fd;
}

/*
 * conn_abort: close fd with SO_LINGER 0 (RFC 9293 ABORT): the stack sends
 * <SEQ=SND.NXT><CTL=RST> (with an ACK: rumpnet sends RST,ACK) and the
 * connection is gone.
 */
static inline void
conn_abort(struct peer *p, int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	struct tseg s;

	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l,
	    sizeof(l)), 0);
	assert_int_equal(rump_sys_close(fd), 0);
	if (!tap_read(p->e, &s))
		fail_msg("abort sent no RST");
	assert_true(s.flags & TH_RST);
	assert_int_equal(s.seq, p->rcv_nxt);
	assert_int_equal(s.len, 0);
	expect_nothing(p->e);
}

/* stack_write: len bytes written on fd, all taken at once. */
static inline void
stack_write(int fd, const void *buf, size_t len)
{
	assert_int_equal(rump_sys_write(fd, buf, len), (ssize_t)len);
}

/* stack_read: exactly the len bytes of buf are readable on fd now. */
static inline void
stack_read(int fd, const void *buf, size_t len)
{
	uint8_t got[TS_FRAME_MAX * 4];

	assert_true(len < sizeof(got));
	assert_int_equal(rump_sys_read(fd, got, sizeof(got)), (ssize_t)len);
	assert_memory_equal(got, buf, len);
}

/* stack_read_none: nothing to read yet (EAGAIN). */
static inline void
stack_read_none(int fd)
{
	uint8_t c;

	errno = 0;
	assert_int_equal(rump_sys_read(fd, &c, 1), -1);
	assert_int_equal(errno, EAGAIN);
}

/*
 * to_state: take an established connection to state (Linux numbering)
 * by the shortest exchange; the stack's side closes with shutdown(SHUT_WR)
 * so that fd stays usable for TCP_INFO.  The peer's FIN in CLOSING does
 * not acknowledge the stack's (simultaneous close).
 */
static inline void
to_state(struct peer *p, int fd, int state)
{
	switch (state) {
	case TCP_ESTABLISHED:
		break;
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_TIME_WAIT:
	case TCP_CLOSING:
		assert_int_equal(rump_sys_shutdown(fd, SHUT_WR), 0);
		expect_seg(p, TH_FIN | TH_ACK, p->rcv_nxt, p->snd_nxt);
		if (state == TCP_FIN_WAIT1)
			break;
		if (state == TCP_CLOSING) {
			peer_seg(p, TH_FIN | TH_ACK, p->snd_nxt, p->rcv_nxt - 1,
			    p->win, PO_AUTO, NULL, 0);
			p->snd_nxt++;
			expect_ack(p);
			break;
		}
		peer_ack(p);
		expect_nothing(p->e);
		if (state == TCP_FIN_WAIT2)
			break;
		peer_send(p, TH_FIN | TH_ACK, NULL, 0);
		expect_ack(p);
		break;
	case TCP_CLOSE_WAIT:
	case TCP_LAST_ACK:
		peer_send(p, TH_FIN | TH_ACK, NULL, 0);
		expect_ack(p);
		if (state == TCP_CLOSE_WAIT)
			break;
		assert_int_equal(rump_sys_shutdown(fd, SHUT_WR), 0);
		expect_seg(p, TH_FIN | TH_ACK, p->rcv_nxt, p->snd_nxt);
		break;
	default:
		fail_msg("to_state: no way to state %d", state);
	}
	assert_int_equal(tstate(fd), state);
}

/*
 * peer_icmp: an ICMP error (type, code; mtu for fragmentation needed)
 * from the peer's address quoting a segment of this connection that the
 * stack sent with sequence number seq: its IPv4 header and the first 8
 * bytes of TCP (RFC 792).
 */
static inline void
peer_icmp(struct peer *p, uint8_t type, uint8_t code, uint16_t mtu,
    uint32_t seq)
{
	uint8_t f[128], *ic;
	size_t off;
	uint16_t c;

	off = eth(f, ts_stack_mac, ts_peer_mac, 0x0800);
	off += ipv4(f + off, NULL, 0, 20 + 8 + 20 + 8, p->ipid++, 0, 64, 1,
	    TS_PEER_ADDR, TS_STACK_ADDR);
	ic = f + off;
	memset(ic, 0, 36);
	ic[0] = type;
	ic[1] = code;
	put16(ic + 6, mtu);
	/* a full-sized segment's header (its length is checked: ip_pmtu.h) */
	(void)ipv4(ic + 8, NULL, 0, 1500, 0, 0x4000, 64, 6, TS_STACK_ADDR,
	    TS_PEER_ADDR);
	put16(ic + 28, p->sport);
	put16(ic + 30, p->port);
	put32(ic + 32, seq);
	c = ref_cksum(ic, 36, 0);
	memcpy(ic + 2, &c, 2);
	assert_int_equal(rump_bus_tap_send(p->e->tap, f, off + 36), 0);
	tenv_settle(p->e);
}

#endif /* TESTS_PACKET_TCPSEG_H */
