/*
 * fuzz_tcp.c -- a sequence of segments, with application calls and clock
 * steps between them, into an instance holding one TCP endpoint: an
 * ESTABLISHED connection (with data of its own in flight), a listener in
 * LISTEN, or a connect() in SYN-SENT.  (bus -> ip_input() -> tcp_input()
 * and every state's arm of it; tcp_output(), the timers, the socket layer)
 *
 * Sequence and acknowledgment numbers are given relative to the
 * connection, so that the fuzzer need not guess an ISS: SEQ is an offset
 * from the peer's SND.NXT (which moves on when a segment at offset 0
 * carries data, SYN or FIN), ACK an offset from the highest sequence
 * number the stack has sent.
 *
 * Input: a mode byte (0 ESTABLISHED, 1 LISTEN, 2 SYN-SENT), then records:
 *   op < 0x80: a segment.  op bit 0: append a valid timestamp option
 *     (TSval the peer's clock, TSecr the stack's last TSval); bit 1: the
 *     data offset byte is taken raw from the input; bit 2: a wrong
 *     checksum.  Then flags(1) seq offset(2, signed) ack offset(2,
 *     signed) window(2) urgent pointer(2) option length(1, up to 40)
 *     option bytes, data length(2, up to 1460; the bytes are a pattern),
 *     [data offset byte].
 *   op >= 0x80: the application or the clock, by op & 7: advance the
 *     clock u16 ms; read; write u16 bytes; shutdown(SHUT_WR); close (no
 *     abort: the FIN states run); accept; poll; advance 200 ms.
 */
#define _DEFAULT_SOURCE	/* <netinet/tcp.h>: TH_*, TCPOPT_* */
#include <netinet/tcp.h>

#include "fuzz.h"

#define FT_LPORT 80
#define FT_PPORT 40001
#define FT_MAXREC 128

enum { FT_ESTABLISHED, FT_LISTEN, FT_SYN_SENT, FT_NMODES };

struct ft {
	struct fz_env e;
	uint16_t sport;		/* the stack's port */
	uint32_t snd_nxt;	/* the peer's */
	uint32_t stack_max;	/* highest sequence number the stack sent */
	bool stack_seen;	/* stack_max is set */
	uint32_t tsval;		/* the peer's timestamp clock */
	uint32_t ts_recent;	/* the stack's last TSval */
	uint16_t ipid;
	int lfd, cfd;		/* listener, connection (or -1) */
};

static uint8_t pattern[65536];

/* Learn from every TCP segment the stack sent since the last call. */
static void
ft_learn(struct ft *t)
{
	static uint8_t f[70000];
	size_t len;

	while ((len = fz_recv_ip(&t->e, 6, f, sizeof(f))) != 0) {
		const uint8_t *ip = f + 14, *th;
		size_t hlen = (size_t)(ip[0] & 0xf) * 4, totlen, doff, i;
		uint32_t end;

		totlen = fz_get16(ip + 2);
		fz_check(hlen >= 20 && totlen >= hlen + 20 &&
		    14 + totlen <= len);
		th = ip + hlen;
		doff = (size_t)(th[12] >> 4) * 4;
		fz_check(doff >= 20 && hlen + doff <= totlen);
		end = fz_get32(th + 4) + (uint32_t)(totlen - hlen - doff) +
		    ((th[13] & TH_SYN) ? 1u : 0u) +
		    ((th[13] & TH_FIN) ? 1u : 0u);
		if (!t->stack_seen || (int32_t)(end - t->stack_max) > 0)
			t->stack_max = end;
		t->stack_seen = true;
		t->sport = fz_get16(th);
		for (i = 20; i + 10 <= doff; ) {
			uint8_t kind = th[i];

			if (kind == TCPOPT_EOL)
				break;
			if (kind == TCPOPT_NOP) {
				i++;
				continue;
			}
			if (th[i + 1] < 2)
				break;
			if (kind == TCPOPT_TIMESTAMP && th[i + 1] == 10)
				t->ts_recent = fz_get32(th + i + 2);
			i += th[i + 1];
		}
	}
}

/* One segment from the peer with the fields given; checksums correct. */
static void
ft_segment(struct ft *t, uint8_t flags, uint32_t seq, uint32_t ack,
    uint16_t win, uint16_t urp, const uint8_t *opt, size_t optlen,
    size_t len, int doff_raw, bool badsum)
{
	static uint8_t f[FZ_FRAME_MAX];
	size_t thlen = 20 + ((optlen + 3) & ~(size_t)3), off;
	uint8_t *th;

	off = fz_eth(f, 0x0800);
	off += fz_ipv4(f + off, (uint16_t)(20 + thlen + len), t->ipid++,
	    0x4000, 6);
	th = f + off;
	fz_put16(th, FT_PPORT);
	fz_put16(th + 2, t->sport);
	fz_put32(th + 4, seq);
	fz_put32(th + 8, ack);
	th[12] = doff_raw >= 0 ? (uint8_t)doff_raw : (uint8_t)(thlen / 4 << 4);
	th[13] = flags;
	fz_put16(th + 14, win);
	fz_put16(th + 18, urp);
	memset(th + 20, 0, thlen - 20);
	memcpy(th + 20, opt, optlen);
	memcpy(th + thlen, pattern, len);
	fz_l4_cksum(f + 14, th, thlen + len);
	if (badsum)
		th[16] ^= 0x5a;
	fz_send(&t->e, f, off + thlen + len);
}

/* A timestamp option (NOP NOP TS) at o; 12 bytes. */
static size_t
ft_tsopt(struct ft *t, uint8_t *o)
{
	o[0] = o[1] = TCPOPT_NOP;
	o[2] = TCPOPT_TIMESTAMP;
	o[3] = 10;
	fz_put32(o + 4, t->tsval++);
	fz_put32(o + 8, t->ts_recent);
	return 12;
}

/* The peer's SYN (MSS, SACK permitted, timestamps, window scale 7). */
static void
ft_peer_syn(struct ft *t, uint8_t flags, uint32_t ack)
{
	uint8_t o[40];
	size_t n = 0;

	o[n++] = TCPOPT_MAXSEG;
	o[n++] = 4;
	fz_put16(o + n, 1460);
	n += 2;
	o[n++] = TCPOPT_NOP;
	o[n++] = TCPOPT_NOP;
	o[n++] = TCPOPT_SACK_PERMITTED;
	o[n++] = 2;
	n += ft_tsopt(t, o + n);
	o[n++] = TCPOPT_NOP;
	o[n++] = TCPOPT_WINDOW;
	o[n++] = 3;
	o[n++] = 7;
	ft_segment(t, flags, t->snd_nxt, ack, 65535, 0, o, n, 0, -1, false);
	t->snd_nxt++;
}

static void
ft_open(struct ft *t, int mode)
{
	struct sockaddr_in a;
	uint8_t o[12];

	t->snd_nxt = 0x10000000u;
	t->tsval = 5000;
	t->ipid = 1;
	t->lfd = t->cfd = -1;
	if (mode == FT_LISTEN || mode == FT_ESTABLISHED) {
		t->lfd = rump_sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK,
		    0);
		fz_check(t->lfd >= 0 && fz_keep(&t->e, t->lfd));
		a = fz_sa(FZ_STACK_ADDR, FT_LPORT);
		fz_check(rump_sys_bind(t->lfd, (struct sockaddr *)&a,
		    sizeof(a)) == 0);
		fz_check(rump_sys_listen(t->lfd, 4) == 0);
		/* TCP Fast Open: cookie requests and cookies not ours */
		fz_check(rump_sys_setsockopt(t->lfd, IPPROTO_TCP,
		    TCP_FASTOPEN, &(int){ 2 }, sizeof(int)) == 0);
		t->sport = FT_LPORT;
	}
	if (mode == FT_ESTABLISHED) {
		ft_peer_syn(t, TH_SYN, 0);
		ft_learn(t);			/* the SYN-ACK */
		ft_segment(t, TH_ACK, t->snd_nxt, t->stack_max, 512, 0, o,
		    ft_tsopt(t, o), 0, -1, false);
		t->cfd = rump_sys_accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK);
		fz_check(t->cfd >= 0 && fz_keep(&t->e, t->cfd));
		/* data of its own in flight: 4 KiB against a 64 KiB window */
		fz_check(rump_sys_write(t->cfd, pattern, 4096) == 4096);
		ft_learn(t);
	}
	if (mode == FT_SYN_SENT) {
		t->cfd = rump_sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK,
		    0);
		fz_check(t->cfd >= 0 && fz_keep(&t->e, t->cfd));
		a = fz_sa(FZ_PEER_ADDR, FT_PPORT);
		fz_check(rump_sys_connect(t->cfd, (struct sockaddr *)&a,
		    sizeof(a)) == -1 && errno == EINPROGRESS);
		t->sport = 0;
		ft_learn(t);			/* the SYN */
		fz_check(t->sport != 0);
	}
}

static void
ft_record_segment(struct ft *t, struct fz_in *in, uint8_t op)
{
	uint8_t opt[52], flags = fz_u8(in);
	int16_t seqd = (int16_t)fz_u16(in), ackd = (int16_t)fz_u16(in);
	uint16_t win = fz_u16(in), urp = fz_u16(in);
	size_t optlen = fz_u8(in) % 41, len;
	uint32_t seq = t->snd_nxt + (uint32_t)(int32_t)seqd;
	int doff = -1;

	fz_bytes(in, opt, optlen);
	if ((op & 0x01) && optlen <= 28)
		optlen += ft_tsopt(t, opt + optlen);
	len = fz_u16(in) % 1461;
	if (op & 0x02)
		doff = fz_u8(in);
	ft_segment(t, flags, seq, t->stack_max + (uint32_t)(int32_t)ackd, win,
	    urp, opt, optlen, len, doff, (op & 0x04) != 0);
	if (seqd == 0 && !(op & 0x04))
		t->snd_nxt += (uint32_t)len + ((flags & TH_SYN) ? 1u : 0u) +
		    ((flags & TH_FIN) ? 1u : 0u);
	ft_learn(t);
}

static void
ft_record_app(struct ft *t, struct fz_in *in, uint8_t op)
{
	static uint8_t buf[65536];
	struct pollfd pfd;
	int fd;

	switch (op & 7) {
	case 0:
		fz_advance(&t->e, fz_u16(in));
		break;
	case 1:
		if (t->cfd >= 0)
			(void)rump_sys_recv(t->cfd, buf, sizeof(buf), 0);
		break;
	case 2:
		if (t->cfd >= 0)
			(void)rump_sys_send(t->cfd, pattern, fz_u16(in),
			    MSG_NOSIGNAL);
		break;
	case 3:
		if (t->cfd >= 0)
			(void)rump_sys_shutdown(t->cfd, SHUT_WR);
		break;
	case 4:
		if (t->cfd >= 0) {
			fz_check(rump_sys_close(t->cfd) == 0);
			fz_forget(&t->e, t->cfd);
			t->cfd = -1;
		}
		break;
	case 5:
		if (t->lfd >= 0 && t->cfd < 0) {
			fd = rump_sys_accept4(t->lfd, NULL, NULL,
			    SOCK_NONBLOCK);
			if (fd >= 0) {
				fz_check(fz_keep(&t->e, fd));
				t->cfd = fd;
			}
		}
		break;
	case 6:
		pfd.fd = t->cfd >= 0 ? t->cfd : t->lfd;
		pfd.events = POLLIN | POLLOUT | POLLPRI;
		if (pfd.fd >= 0)
			fz_check(rump_sys_poll(&pfd, 1, 0) >= 0);
		break;
	default:
		fz_advance(&t->e, 200);
		break;
	}
	ft_learn(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct ft t;
	int nrec = 0;

	if (size < 1)
		return -1;
	if (pattern[1] == 0)
		for (size_t i = 0; i < sizeof(pattern); i++)
			pattern[i] = (uint8_t)(i * 7 + 3);
	memset(&t, 0, sizeof(t));
	fz_up(&t.e);
	ft_open(&t, fz_u8(&in) % FT_NMODES);
	while (fz_more(&in) && nrec++ < FT_MAXREC) {
		uint8_t op = fz_u8(&in);

		if (op & 0x80)
			ft_record_app(&t, &in, op);
		else
			ft_record_segment(&t, &in, op);
	}
	fz_drain(&t.e);
	fz_down(&t.e);
	return 0;
}
