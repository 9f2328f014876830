/*
 * test_tfo.c -- TCP Fast Open (RFC 7413) through real segments with a
 * fake peer on a tap (tcpseg.h): the stack as the server (TCP_FASTOPEN
 * on a listener: cookie requests, good and bad cookies, the queue's
 * bound, data before the handshake completes) and as the client
 * (sendto(MSG_FASTOPEN): the cookie request, the cookie kept, data in
 * the SYN acked or not, a SYN with data lost).  Each test asserts the
 * segments' bytes, the tcp.tfo_* counters exactly, and ends with every
 * pool back to zero (tenv_down()).
 *
 * Needs no root, no DPDK, no network namespace.
 */
#define _DEFAULT_SOURCE	/* <netinet/tcp.h>: TH_*, TCPOPT_*, tcp_info */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <unistd.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "tcpseg.h"

#define LPORT 80		/* the stack's listening port */
#define PPORT 40001		/* peers' ports from here on */
#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif
#ifndef TCP_FASTOPEN
#define TCP_FASTOPEN 23
#endif
#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif

/* A pattern of n bytes, the same for every caller. */
static const uint8_t *
pattern(size_t n)
{
	static uint8_t buf[4096];

	assert_true(n <= sizeof(buf));
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	return buf;
}

/*
 * The peer's SYN: its MSS option and a Fast Open option with cookie
 * (clen bytes; 0: a request), and len bytes of data.
 */
static void
peer_tfo_syn(struct peer *p, const uint8_t *cookie, size_t clen,
    const void *data, size_t len)
{
	uint8_t o[40] = { 0 };
	size_t n = 0;

	o[n++] = TCPOPT_MAXSEG;
	o[n++] = 4;
	put16(o + n, p->mss);
	n += 2;
	o[n++] = 34;
	o[n++] = (uint8_t)(2 + clen);
	if (clen > 0)
		memcpy(o + n, cookie, clen);
	n += clen;
	while (n % 4 != 0)
		o[n++] = TCPOPT_NOP;
	peer_raw(p, TH_SYN, p->snd_nxt, 0, p->win, o, n, data, len);
	p->snd_nxt += 1;	/* the data counts only when acked */
}

/* The stack's SYN-ACK to a peer_tfo_syn(): acking through ack. */
static const struct tseg *
expect_tfo_synack(struct peer *p, uint32_t ack)
{
	struct tseg *s = &p->last;

	if (!tap_read(p->e, s))
		fail_msg("no SYN-ACK");
	assert_int_equal(s->flags, TH_SYN | TH_ACK);
	assert_int_equal(s->ack, ack);
	assert_int_equal(s->len, 0);
	p->sport = s->sport;
	p->stack_iss = s->seq;
	p->rcv_nxt = s->seq + 1;
	return s;
}

/* A peer that connects to the stack's listener from port. */
static void
server_peer(struct peer *p, struct tenv *e, uint16_t port)
{
	peer_init(p, e, port, PO_MSS);
	p->sport = LPORT;
}

/*
 * The server the stack connects to again, from the peer's port: its ISS
 * moved on by off.
 */
static void
client_peer(struct peer *p, struct tenv *e, uint32_t off)
{
	peer_init(p, e, PPORT, PO_MSS);
	p->iss += off;
	p->snd_nxt = p->iss;
}

/*
 * The peer asks the stack's listener for a cookie (a SYN with the empty
 * option, no data) and learns it from the SYN-ACK: 8 bytes into cookie.
 */
static void
server_cookie(struct peer *p, uint8_t cookie[8])
{
	const struct tseg *s;

	peer_tfo_syn(p, NULL, 0, NULL, 0);
	s = expect_tfo_synack(p, p->iss + 1);
	assert_true(s->tfo_p);
	assert_int_equal(s->tfo_len, 8);
	memcpy(cookie, s->tfo, 8);
}

/*
 * The peer's SYN with a good cookie and len bytes of data, which the
 * stack takes: its SYN-ACK acks them.
 */
static const struct tseg *
server_take(struct peer *p, const uint8_t cookie[8], const void *data,
    size_t len)
{
	const struct tseg *s;

	peer_tfo_syn(p, cookie, 8, data, len);
	s = expect_tfo_synack(p, p->iss + 1 + (uint32_t)len);
	p->snd_nxt += (uint32_t)len;
	return s;
}

/* ==== the stack as the server ==== */

/*
 * A listener with TCP_FASTOPEN 4.  A SYN asking for a cookie gets one
 * (8 bytes) and its data is not taken; a SYN bringing that cookie is
 * taken at once: the SYN-ACK acks its data, accept() returns the
 * connection before the handshake's ACK, and its answer goes before it
 * too; a cookie not ours gets the right one and the usual handshake.
 */
static void
test_tfo_server(void **state)
{
	uint8_t cookie[16], bad[8];
	struct tenv e;
	struct peer p, q, r;
	const struct tseg *s;
	int lfd, fd, cfd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(LPORT, 8);
	assert_int_equal(getopt_int(lfd, IPPROTO_TCP, TCP_FASTOPEN), 0);
	errno = 0;
	assert_int_equal(rump_sys_setsockopt(lfd, IPPROTO_TCP, TCP_FASTOPEN,
	    &(int){ -1 }, sizeof(int)), -1);
	assert_int_equal(errno, EINVAL);
	setopt_int(lfd, IPPROTO_TCP, TCP_FASTOPEN, 4);
	assert_int_equal(getopt_int(lfd, IPPROTO_TCP, TCP_FASTOPEN), 4);

	/* a request: the cookie comes back, the data is not taken */
	server_peer(&p, &e, PPORT);
	peer_tfo_syn(&p, NULL, 0, "early", 5);
	s = expect_tfo_synack(&p, p.iss + 1);
	assert_true(s->tfo_p);
	assert_int_equal(s->tfo_len, 8);
	memcpy(cookie, s->tfo, 8);
	assert_int_equal(tstat(&e, "tfo_cookiereq"), 1);
	assert_int_equal(tstat(&e, "synwithdata"), 1);
	errno = 0;
	assert_int_equal(rump_sys_accept(lfd, NULL, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	peer_send(&p, TH_ACK | TH_PUSH, "early", 5);
	fd = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	stack_read(fd, "early", 5);

	/* the cookie: the data is taken, the connection acceptable now */
	server_peer(&q, &e, PPORT + 1);
	s = server_take(&q, cookie, "GET /", 5);
	assert_false(s->tfo_p);		/* it has one */
	assert_int_equal(tstat(&e, "tfo_accepted"), 1);
	cfd = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(cfd >= 0);
	assert_int_equal(tstate(cfd), TCP_SYN_RECV);
	stack_read(cfd, "GET /", 5);
	/* RFC 7413 4.2.2: the answer need not wait for the handshake */
	stack_write(cfd, "200 OK", 6);
	s = expect_seg(&q, TH_ACK | TH_PUSH, q.stack_iss + 1, q.snd_nxt);
	assert_int_equal(s->len, 6);
	assert_memory_equal(s->data, "200 OK", 6);
	/* the handshake's ACK acks the answer too */
	peer_ack(&q);
	expect_nothing(&e);
	assert_int_equal(tstate(cfd), TCP_ESTABLISHED);
	stack_write(cfd, "!", 1);
	s = expect_seg(&q, TH_ACK | TH_PUSH, q.stack_iss + 7, q.snd_nxt);
	assert_int_equal(s->len, 1);

	/* a cookie not ours: the right one, the data not taken */
	server_peer(&r, &e, PPORT + 2);
	for (size_t i = 0; i < sizeof(bad); i++)
		bad[i] = (uint8_t)(cookie[i] ^ 0x5a);
	peer_tfo_syn(&r, bad, 8, "xy", 2);
	s = expect_tfo_synack(&r, r.iss + 1);
	assert_true(s->tfo_p);
	assert_int_equal(s->tfo_len, 8);
	assert_memory_equal(s->tfo, cookie, 8);	/* per address */
	assert_int_equal(tstat(&e, "tfo_badcookie"), 1);
	assert_int_equal(tstat(&e, "synwithdata"), 2);
	assert_int_equal(tstat(&e, "tfo_accepted"), 1);
	peer_ack(&r);
	conn_abort(&p, fd);
	conn_abort(&q, cfd);
	fd = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	conn_abort(&r, fd);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * TCP_FASTOPEN's bound (RFC 7413 5.1): with 1, a second good cookie
 * while the first connection's handshake is incomplete gets the usual
 * handshake (counted tfo_qfull), even once the first is accepted; when
 * its handshake completes the next is taken again.  A connected socket
 * refuses the option.
 */
static void
test_tfo_server_queue(void **state)
{
	uint8_t cookie[8];
	struct tenv e;
	struct peer p, q, r, t;
	int lfd, fd1, fd2, fd3, fd4;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(LPORT, 8);
	setopt_int(lfd, IPPROTO_TCP, TCP_FASTOPEN, 1);
	server_peer(&p, &e, PPORT);
	server_cookie(&p, cookie);
	assert_int_equal(tstat(&e, "tfo_cookiesent"), 1);
	/* the request's connection completes the usual way */
	peer_ack(&p);
	fd1 = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd1 >= 0);
	errno = 0;
	assert_int_equal(rump_sys_setsockopt(fd1, IPPROTO_TCP, TCP_FASTOPEN,
	    &(int){ 1 }, sizeof(int)), -1);
	assert_int_equal(errno, EINVAL);

	server_peer(&q, &e, PPORT + 1);
	server_take(&q, cookie, "a", 1);
	/* accepted, its handshake still incomplete: still counted */
	fd2 = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd2 >= 0);
	stack_read(fd2, "a", 1);
	server_peer(&r, &e, PPORT + 2);
	peer_tfo_syn(&r, cookie, 8, "b", 1);
	expect_tfo_synack(&r, r.iss + 1);	/* full: not taken */
	assert_int_equal(tstat(&e, "tfo_qfull"), 1);
	assert_int_equal(tstat(&e, "tfo_accepted"), 1);
	assert_int_equal(tstat(&e, "tfo_cookiesent"), 1);
	peer_ack(&r);
	fd3 = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd3 >= 0);
	stack_read_none(fd3);
	/* the handshake completes: the next is taken */
	peer_ack(&q);
	assert_int_equal(tstate(fd2), TCP_ESTABLISHED);
	server_peer(&t, &e, PPORT + 3);
	server_take(&t, cookie, "c", 1);
	assert_int_equal(tstat(&e, "tfo_accepted"), 2);
	fd4 = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd4 >= 0);
	stack_read(fd4, "c", 1);
	/* the listener goes first: the pending one keeps what it needs */
	assert_int_equal(rump_sys_close(lfd), 0);
	peer_ack(&t);
	expect_nothing(&e);
	assert_int_equal(tstate(fd4), TCP_ESTABLISHED);
	conn_abort(&p, fd1);
	conn_abort(&q, fd2);
	conn_abort(&r, fd3);
	conn_abort(&t, fd4);
	tenv_down(&e);
}

/*
 * Data a Fast Open connection sent before its handshake completed, and
 * the handshake's ACK acks only the SYN (the data was lost): it goes
 * again when the retransmission timer, running again, fires.  After a
 * SYN-ACK sent again by the timer, which holds the data back, that ACK
 * lets it go at once.
 */
static void
test_tfo_server_data_lost(void **state)
{
	uint8_t cookie[8];
	struct tenv e;
	struct peer p, q, r;
	const struct tseg *s;
	int lfd, fd1, fd2;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(LPORT, 8);
	setopt_int(lfd, IPPROTO_TCP, TCP_FASTOPEN, 8);
	server_peer(&p, &e, PPORT);
	server_cookie(&p, cookie);
	peer_raw(&p, TH_RST, p.snd_nxt, 0, 0, NULL, 0, NULL, 0);

	/* the answer lost: the handshake's ACK acks the SYN alone */
	server_peer(&q, &e, PPORT + 1);
	server_take(&q, cookie, "q", 1);
	fd1 = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd1 >= 0);
	stack_write(fd1, "answer", 6);
	s = expect_seg(&q, TH_ACK | TH_PUSH, q.stack_iss + 1, q.snd_nxt);
	assert_int_equal(s->len, 6);
	q.rcv_nxt = q.stack_iss + 1;		/* lost */
	tenv_advance(&e, 10);
	peer_ack(&q);
	expect_nothing(&e);
	assert_int_equal(tstate(fd1), TCP_ESTABLISHED);
	/*
	 * the timer runs again from the ACK, whose RTT sample (10 ms) set
	 * the RTO to its floor, 200 ms
	 */
	tenv_advance(&e, 199);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	s = expect_seg(&q, TH_ACK | TH_PUSH, q.stack_iss + 1, q.snd_nxt);
	assert_int_equal(s->len, 6);
	assert_memory_equal(s->data, "answer", 6);
	peer_ack(&q);

	/* the SYN-ACK lost: sent again without the data, which follows
	 * the handshake's ACK */
	server_peer(&r, &e, PPORT + 2);
	server_take(&r, cookie, "r", 1);
	fd2 = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd2 >= 0);
	stack_write(fd2, "reply", 5);
	expect_seg(&r, TH_ACK | TH_PUSH, r.stack_iss + 1, r.snd_nxt);
	tenv_advance(&e, 999);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	expect_tfo_synack(&r, r.snd_nxt);	/* alone */
	expect_nothing(&e);
	peer_ack(&r);
	s = expect_seg(&r, TH_ACK | TH_PUSH, r.stack_iss + 1, r.snd_nxt);
	assert_int_equal(s->len, 5);
	assert_memory_equal(s->data, "reply", 5);
	peer_ack(&r);
	expect_nothing(&e);
	conn_abort(&q, fd1);
	conn_abort(&r, fd2);
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/*
 * A Fast Open connection the user closes before the handshake completes
 * (the request read, nothing to answer): its FIN goes with the
 * handshake's ACK (RFC 9293: queued until ESTABLISHED).
 */
static void
test_tfo_server_close_early(void **state)
{
	uint8_t cookie[8];
	struct tenv e;
	struct peer p, q;
	int lfd, fd;

	(void)state;
	tenv_up(&e);
	lfd = tcp_listener(LPORT, 8);
	setopt_int(lfd, IPPROTO_TCP, TCP_FASTOPEN, 8);
	server_peer(&p, &e, PPORT);
	server_cookie(&p, cookie);
	peer_raw(&p, TH_RST, p.snd_nxt, 0, 0, NULL, 0, NULL, 0);
	server_peer(&q, &e, PPORT + 1);
	server_take(&q, cookie, "bye", 3);
	fd = rump_sys_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	stack_read(fd, "bye", 3);
	assert_int_equal(rump_sys_close(fd), 0);
	expect_nothing(&e);
	peer_ack(&q);
	expect_seg(&q, TH_FIN | TH_ACK, q.stack_iss + 1, q.snd_nxt);
	peer_send(&q, TH_FIN | TH_ACK, NULL, 0);
	expect_seg(&q, TH_ACK, q.stack_iss + 2, q.snd_nxt);
	assert_int_equal(tstat(&e, "tfo_accepted"), 1);
	tenv_advance(&e, 60000);		/* TIME-WAIT: 2 MSL */
	assert_int_equal(rump_sys_close(lfd), 0);
	tenv_down(&e);
}

/* ==== the stack as the client ==== */

/* sendto(MSG_FASTOPEN) of len bytes on a new non-blocking socket. */
static int
tfo_sendto(struct peer *p, const void *data, size_t len, ssize_t want,
    int want_errno)
{
	struct sockaddr_in a = sa(TS_PEER_ADDR, p->port);
	int fd = tcp_socket();

	errno = 0;
	assert_int_equal(rump_sys_sendto(fd, data, len, MSG_FASTOPEN,
	    (struct sockaddr *)&a, sizeof(a)), want);
	assert_int_equal(errno, want_errno);
	return fd;
}

/* The stack's SYN: with the TFO option of clen bytes (-1: none). */
static const struct tseg *
expect_tfo_syn(struct peer *p, int clen, size_t len)
{
	struct tseg *s = &p->last;

	if (!tap_read(p->e, s))
		fail_msg("no SYN");
	assert_int_equal(s->flags, TH_SYN);
	assert_int_equal(s->dport, p->port);
	assert_int_equal(s->len, len);
	if (clen < 0)
		assert_false(s->tfo_p);
	else {
		assert_true(s->tfo_p);
		assert_int_equal(s->tfo_len, clen);
	}
	p->sport = s->sport;
	p->stack_iss = s->seq;
	p->rcv_nxt = s->seq + 1;
	return s;
}

/* The peer's SYN-ACK acking ack, with a cookie of clen bytes (0: none). */
static void
peer_tfo_synack(struct peer *p, uint32_t ack, const uint8_t *cookie,
    size_t clen)
{
	uint8_t o[40] = { 0 };
	size_t n = 0;

	o[n++] = TCPOPT_MAXSEG;
	o[n++] = 4;
	put16(o + n, p->mss);
	n += 2;
	if (clen > 0) {
		o[n++] = 34;
		o[n++] = (uint8_t)(2 + clen);
		memcpy(o + n, cookie, clen);
		n += clen;
	}
	while (n % 4 != 0)
		o[n++] = TCPOPT_NOP;
	peer_raw(p, TH_SYN | TH_ACK, p->snd_nxt, ack, p->win, o, n, NULL, 0);
	p->snd_nxt += 1;
}

/*
 * A first sendto(MSG_FASTOPEN) to the server p plays: no cookie yet, so
 * EINPROGRESS and a SYN asking for one, which the SYN-ACK gives (clen
 * bytes).  Returns the connected socket.
 */
static int
client_cookie(struct peer *p, struct tenv *e, const uint8_t *cookie,
    size_t clen)
{
	int fd;

	peer_init(p, e, PPORT, PO_MSS);
	fd = tfo_sendto(p, "a", 1, -1, EINPROGRESS);
	expect_tfo_syn(p, 0, 0);
	peer_tfo_synack(p, p->stack_iss + 1, cookie, clen);
	expect_seg(p, TH_ACK, p->stack_iss + 1, p->snd_nxt);
	return fd;
}

/*
 * The first sendto(MSG_FASTOPEN) to a server asks for a cookie (none
 * held: EINPROGRESS, nothing taken); the SYN-ACK's cookie is kept, and
 * the next connection's SYN carries it and the data, which the SYN-ACK
 * acks.  A server that does not take the data gets it again right after
 * the handshake.  Bad calls: no address, a connected socket.
 */
static void
test_tfo_client(void **state)
{
	static const uint8_t cookie[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	    11, 12 };
	const struct tseg *s;
	struct tenv e;
	struct peer p, q, r;
	int fd, fd2, fd3;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, PPORT, PO_MSS);
	fd = tfo_sendto(&p, "hello", 5, -1, EINPROGRESS);
	expect_tfo_syn(&p, 0, 0);
	assert_int_equal(tstat(&e, "tfo_synreq"), 1);
	peer_tfo_synack(&p, p.stack_iss + 1, cookie, sizeof(cookie));
	expect_seg(&p, TH_ACK, p.stack_iss + 1, p.snd_nxt);
	assert_int_equal(tstat(&e, "tfo_cookierecv"), 1);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	/* connected: MSG_FASTOPEN is EISCONN (Linux) */
	{
		struct sockaddr_in a = sa(TS_PEER_ADDR, p.port);

		errno = 0;
		assert_int_equal(rump_sys_sendto(fd, "x", 1, MSG_FASTOPEN,
		    (struct sockaddr *)&a, sizeof(a)), -1);
		assert_int_equal(errno, EISCONN);
	}

	/* the cookie held: the data goes in the SYN, and is acked */
	client_peer(&q, &e, 1000);
	fd2 = tfo_sendto(&q, "hello", 5, 5, 0);
	s = expect_tfo_syn(&q, sizeof(cookie), 5);
	assert_memory_equal(s->tfo, cookie, sizeof(cookie));
	assert_memory_equal(s->data, "hello", 5);
	assert_int_equal(tstat(&e, "tfo_syndata"), 1);
	q.rcv_nxt = q.stack_iss + 6;	/* the peer took the SYN's data */
	peer_tfo_synack(&q, q.stack_iss + 6, NULL, 0);
	expect_seg(&q, TH_ACK, q.stack_iss + 6, q.snd_nxt);
	expect_nothing(&e);
	assert_int_equal(tstat(&e, "tfo_dataacked"), 1);
	assert_int_equal(tstate(fd2), TCP_ESTABLISHED);
	peer_send(&q, TH_ACK | TH_PUSH, "world", 5);
	stack_read(fd2, "world", 5);

	/* a server that did not take it: sent again after the handshake */
	client_peer(&r, &e, 2000);
	fd3 = tfo_sendto(&r, "again", 5, 5, 0);
	expect_tfo_syn(&r, sizeof(cookie), 5);
	peer_tfo_synack(&r, r.stack_iss + 1, NULL, 0);
	s = expect_seg(&r, TH_ACK | TH_PUSH, r.stack_iss + 1, r.snd_nxt);
	assert_int_equal(s->len, 5);
	assert_memory_equal(s->data, "again", 5);
	assert_int_equal(tstat(&e, "tfo_datanotacked"), 1);
	peer_ack(&r);

	/* no address */
	{
		int bfd = tcp_socket();

		errno = 0;
		assert_int_equal(rump_sys_sendto(bfd, "x", 1, MSG_FASTOPEN,
		    NULL, 0), -1);
		assert_int_equal(errno, EDESTADDRREQ);
		assert_int_equal(rump_sys_close(bfd), 0);
	}
	expect_nothing(&e);
	conn_abort(&p, fd);
	conn_abort(&q, fd2);
	conn_abort(&r, fd3);
	tenv_down(&e);
}

/*
 * A SYN with data that times out goes again without data and without
 * the option (RFC 7413 4.2.2), counted tfo_synloss; the data follows
 * the handshake.
 */
static void
test_tfo_client_syn_lost(void **state)
{
	static const uint8_t cookie[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	const struct tseg *s;
	struct tenv e;
	struct peer p, q, r, t;
	int fd, fd2, fd3, fd4;

	(void)state;
	tenv_up(&e);
	fd = client_cookie(&p, &e, cookie, sizeof(cookie));

	client_peer(&q, &e, 1000);
	fd2 = tfo_sendto(&q, "lost!", 5, 5, 0);
	expect_tfo_syn(&q, sizeof(cookie), 5);
	tenv_advance(&e, 999);
	expect_nothing(&e);
	tenv_advance(&e, 1);
	s = expect_tfo_syn(&q, -1, 0);
	assert_int_equal(s->seq, q.stack_iss);
	assert_int_equal(tstat(&e, "tfo_synloss"), 1);
	peer_tfo_synack(&q, q.stack_iss + 1, NULL, 0);
	s = expect_seg(&q, TH_ACK | TH_PUSH, q.stack_iss + 1, q.snd_nxt);
	assert_memory_equal(s->data, "lost!", 5);
	assert_int_equal(tstat(&e, "tfo_datanotacked"), 1);
	peer_ack(&q);
	expect_nothing(&e);
	/*
	 * RFC 7413 4.1.3.1: no Fast Open to that server for a while (5
	 * minutes): a plain SYN, the data not taken
	 */
	client_peer(&r, &e, 2000);
	fd3 = tfo_sendto(&r, "later", 5, -1, EINPROGRESS);
	expect_tfo_syn(&r, -1, 0);
	peer_tfo_synack(&r, r.stack_iss + 1, NULL, 0);
	expect_seg(&r, TH_ACK, r.stack_iss + 1, r.snd_nxt);
	conn_abort(&r, fd3);
	tenv_advance(&e, 300000);
	client_peer(&t, &e, 3000);
	fd4 = tfo_sendto(&t, "again", 5, 5, 0);
	expect_tfo_syn(&t, sizeof(cookie), 5);
	assert_int_equal(tstat(&e, "tfo_syndata"), 2);
	assert_int_equal(tstat(&e, "tfo_synreq"), 1);
	t.rcv_nxt = t.stack_iss + 6;
	peer_tfo_synack(&t, t.rcv_nxt, NULL, 0);
	expect_seg(&t, TH_ACK, t.rcv_nxt, t.snd_nxt);
	conn_abort(&p, fd);
	conn_abort(&q, fd2);
	conn_abort(&t, fd4);
	tenv_down(&e);
}

/*
 * With a cookie and the server's MSS known, a SYN carries as much as the
 * MSS less the most the options take (one segment: never split), and a
 * non-blocking sendto() returns that.
 */
static void
test_tfo_client_big_syn(void **state)
{
	static const uint8_t cookie[8] = { 7, 7, 7, 7, 7, 7, 7, 7 };
	const uint8_t *big = pattern(3000);
	const struct tseg *s;
	struct tenv e;
	struct peer p, q;
	int fd, fd2;

	(void)state;
	tenv_up(&e);
	fd = client_cookie(&p, &e, cookie, sizeof(cookie));
	client_peer(&q, &e, 1000);
	fd2 = tfo_sendto(&q, big, 3000, TS_MSS - 40, 0);
	s = expect_tfo_syn(&q, sizeof(cookie), TS_MSS - 40);
	assert_memory_equal(s->data, big, TS_MSS - 40);
	expect_nothing(&e);
	q.rcv_nxt = q.stack_iss + 1 + (TS_MSS - 40);
	peer_tfo_synack(&q, q.rcv_nxt, NULL, 0);
	expect_seg(&q, TH_ACK, q.rcv_nxt, q.snd_nxt);
	expect_nothing(&e);
	conn_abort(&p, fd);
	conn_abort(&q, fd2);
	tenv_down(&e);
}

/*
 * A blocking sendto(MSG_FASTOPEN) is a blocking connect() and a send:
 * it returns once the handshake is done and all is taken, or with the
 * connection's error.  A second host thread plays the server.
 */
struct tfo_answer {
	struct peer *p;
	uint8_t flags;		/* TH_SYN|TH_ACK or TH_RST|TH_ACK */
	size_t synlen;		/* the SYN's data, seen */
};

static void
tfo_answer_body(struct bthread *bt)
{
	struct tfo_answer *a = bt->bt_arg;
	struct peer *p = a->p;
	uint8_t f[TS_FRAME_MAX];
	size_t len, doff;

	if (rump_bus_tap_recv(p->e->tap, f, sizeof(f), &len, BT_WAIT_MS) != 0 ||
	    len < 14 + 20 + 20 || be16(f + 12) != 0x0800 || f[14 + 9] != 6)
		return;
	p->sport = be16(f + 14 + 20);
	p->stack_iss = be32(f + 14 + 20 + 4);
	doff = (size_t)(f[14 + 20 + 12] >> 4) * 4;
	a->synlen = be16(f + 14 + 2) - 20 - doff;
	p->rcv_nxt = p->stack_iss + 1 + (uint32_t)a->synlen;
	if (a->flags & TH_RST)
		peer_seg(p, a->flags, 0, p->rcv_nxt, 0, PO_NONE, NULL, 0);
	else
		peer_tfo_synack(p, p->rcv_nxt, NULL, 0);
}

/* Moves the virtual clock a millisecond at a time until told to stop. */
static _Atomic bool tfo_clock_stop;

static void
tfo_clock_body(struct bthread *bt)
{
	struct tenv *e = bt->bt_arg;

	for (int i = 0; i < 5000 && !atomic_load(&tfo_clock_stop); i++) {
		(void)rump_clock_advance(e->k, 1000000);
		usleep(i < 400 ? 100 : 2000);
	}
}

static void
test_tfo_client_blocking(void **state)
{
	static const uint8_t cookie[8] = { 3, 1, 4, 1, 5, 9, 2, 6 };
	const uint8_t *big = pattern(3000);
	struct sockaddr_in a = sa(TS_PEER_ADDR, PPORT);
	struct tfo_answer ans;
	const struct tseg *s;
	struct bthread bt;
	struct tenv e;
	struct peer p, q, r;
	uint8_t got[3000];
	size_t have;
	int fd, fd2, fd3;

	(void)state;
	tenv_up(&e);
	fd = client_cookie(&p, &e, cookie, sizeof(cookie));

	/* answered: all 3000 bytes taken, the SYN's first */
	client_peer(&q, &e, 1000);
	ans.p = &q;
	ans.flags = TH_SYN | TH_ACK;
	fd2 = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd2 >= 0);
	bthread_start(&bt, e.k, BT_UNBOUND, tfo_answer_body, &ans);
	assert_int_equal(rump_sys_sendto(fd2, big, 3000, MSG_FASTOPEN,
	    (struct sockaddr *)&a, sizeof(a)), 3000);
	bthread_join(&bt);
	assert_int_equal(ans.synlen, TS_MSS - 40);
	/* the handshake's ACK, then the rest */
	expect_seg(&q, TH_ACK, q.rcv_nxt, q.snd_nxt);
	have = TS_MSS - 40;
	memcpy(got, big, have);
	while (have < 3000) {
		if (!tap_read(&e, &q.last))
			fail_msg("%zu bytes of 3000 came", have);
		s = &q.last;
		assert_true(s->flags & TH_ACK);
		assert_int_equal(s->seq, q.rcv_nxt);
		assert_true(s->len > 0 && have + s->len <= 3000);
		memcpy(got + have, s->data, s->len);
		have += s->len;
		q.rcv_nxt += (uint32_t)s->len;
	}
	assert_memory_equal(got, big, 3000);
	peer_ack(&q);
	expect_nothing(&e);

	/* refused: the call says so */
	client_peer(&r, &e, 2000);
	ans.p = &r;
	ans.flags = TH_RST | TH_ACK;
	fd3 = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd3 >= 0);
	bthread_start(&bt, e.k, BT_UNBOUND, tfo_answer_body, &ans);
	errno = 0;
	assert_int_equal(rump_sys_sendto(fd3, big, 100, MSG_FASTOPEN,
	    (struct sockaddr *)&a, sizeof(a)), -1);
	assert_int_equal(errno, ECONNREFUSED);
	bthread_join(&bt);
	assert_int_equal(ans.synlen, 100);
	assert_int_equal(rump_sys_close(fd3), 0);
	conn_abort(&p, fd);
	conn_abort(&q, fd2);

	/*
	 * SO_SNDTIMEO ends the wait for the handshake: the connection goes
	 * on, and the call returns what the SYN took (Linux), not an error
	 * that would have the user send it twice
	 */
	{
		struct timeval tv = { .tv_sec = 0, .tv_usec = 300000 };
		struct tseg syn;

		fd3 = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fd3 >= 0);
		assert_int_equal(rump_sys_setsockopt(fd3, SOL_SOCKET,
		    SO_SNDTIMEO, &tv, sizeof(tv)), 0);
		atomic_store(&tfo_clock_stop, false);
		bthread_start(&bt, e.k, BT_UNBOUND, tfo_clock_body, &e);
		assert_int_equal(rump_sys_sendto(fd3, big, 3000, MSG_FASTOPEN,
		    (struct sockaddr *)&a, sizeof(a)), TS_MSS - 40);
		atomic_store(&tfo_clock_stop, true);
		bthread_join(&bt);
		assert_true(tap_read(&e, &syn));
		assert_int_equal(syn.flags, TH_SYN);
		assert_int_equal(syn.len, TS_MSS - 40);
		assert_int_equal(tstate(fd3), TCP_SYN_SENT);
		/* (a resent SYN may have gone meanwhile: the clock ran) */
		while (tap_read(&e, &syn))
			assert_int_equal(syn.flags, TH_SYN);
		assert_int_equal(rump_sys_close(fd3), 0);
	}
	tenv_down(&e);
}

/*
 * TCP_FASTOPEN_CONNECT (Linux's): connect() asks for a cookie when none
 * is held (EINPROGRESS, the usual handshake); with one, connect()
 * returns 0 at once and sends nothing, and the first write's data goes
 * in the SYN.  Only 0 or 1, only before a connection.
 */
static void
test_tfo_client_connect_option(void **state)
{
	static const uint8_t cookie[6] = { 6, 5, 4, 3, 2, 1 };
	struct sockaddr_in a = sa(TS_PEER_ADDR, PPORT);
	const struct tseg *s;
	struct tenv e;
	struct peer p, q;
	int fd, fd2;

	(void)state;
	tenv_up(&e);
	peer_init(&p, &e, PPORT, PO_MSS);
	fd = tcp_socket();
	assert_int_equal(getopt_int(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT), 0);
	errno = 0;
	assert_int_equal(rump_sys_setsockopt(fd, IPPROTO_TCP,
	    TCP_FASTOPEN_CONNECT, &(int){ 2 }, sizeof(int)), -1);
	assert_int_equal(errno, EINVAL);
	setopt_int(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1);
	assert_int_equal(getopt_int(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT), 1);
	errno = 0;
	assert_int_equal(rump_sys_connect(fd, (struct sockaddr *)&a,
	    sizeof(a)), -1);
	assert_int_equal(errno, EINPROGRESS);
	expect_tfo_syn(&p, 0, 0);		/* a cookie request */
	peer_tfo_synack(&p, p.stack_iss + 1, cookie, sizeof(cookie));
	expect_seg(&p, TH_ACK, p.stack_iss + 1, p.snd_nxt);
	assert_int_equal(tstate(fd), TCP_ESTABLISHED);
	errno = 0;
	assert_int_equal(rump_sys_setsockopt(fd, IPPROTO_TCP,
	    TCP_FASTOPEN_CONNECT, &(int){ 0 }, sizeof(int)), -1);
	assert_int_equal(errno, EINVAL);

	/* the cookie held: connect() is done at once, the write opens */
	client_peer(&q, &e, 1000);
	fd2 = tcp_socket();
	setopt_int(fd2, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1);
	assert_int_equal(rump_sys_connect(fd2, (struct sockaddr *)&a,
	    sizeof(a)), 0);
	expect_nothing(&e);
	assert_int_equal(poll_now(fd2, POLLOUT), POLLOUT);
	stack_write(fd2, "first", 5);
	s = expect_tfo_syn(&q, sizeof(cookie), 5);
	assert_memory_equal(s->tfo, cookie, sizeof(cookie));
	assert_memory_equal(s->data, "first", 5);
	q.rcv_nxt = q.stack_iss + 6;
	peer_tfo_synack(&q, q.rcv_nxt, NULL, 0);
	expect_seg(&q, TH_ACK, q.rcv_nxt, q.snd_nxt);
	assert_int_equal(tstate(fd2), TCP_ESTABLISHED);
	assert_int_equal(tstat(&e, "tfo_dataacked"), 1);

	/*
	 * the first write is a sendto(MSG_FASTOPEN): non-blocking, it
	 * takes what the SYN carries and the socket is connecting, as
	 * Linux's (the rest waits for the user)
	 */
	{
		const uint8_t *big = pattern(3000);
		struct peer r;
		int fd3;

		client_peer(&r, &e, 2000);
		fd3 = tcp_socket();
		setopt_int(fd3, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1);
		assert_int_equal(rump_sys_connect(fd3, (struct sockaddr *)&a,
		    sizeof(a)), 0);
		assert_int_equal(rump_sys_write(fd3, big, 3000), TS_MSS - 40);
		s = expect_tfo_syn(&r, sizeof(cookie), TS_MSS - 40);
		assert_int_equal(poll_now(fd3, POLLOUT), 0);	/* connecting */
		errno = 0;
		assert_int_equal(rump_sys_write(fd3, big, 10), -1);
		assert_int_equal(errno, EAGAIN);
		r.rcv_nxt = r.stack_iss + 1 + (TS_MSS - 40);
		peer_tfo_synack(&r, r.rcv_nxt, NULL, 0);
		expect_seg(&r, TH_ACK, r.rcv_nxt, r.snd_nxt);
		assert_int_equal(poll_now(fd3, POLLOUT), POLLOUT);
		conn_abort(&r, fd3);
	}
	conn_abort(&q, fd2);
	/* closed before any write: nothing was sent, nothing is */
	fd2 = tcp_socket();
	setopt_int(fd2, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1);
	assert_int_equal(rump_sys_connect(fd2, (struct sockaddr *)&a,
	    sizeof(a)), 0);
	assert_int_equal(rump_sys_close(fd2), 0);
	expect_nothing(&e);
	conn_abort(&p, fd);
	tenv_down(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tfo_server),
		cmocka_unit_test(test_tfo_server_queue),
		cmocka_unit_test(test_tfo_server_data_lost),
		cmocka_unit_test(test_tfo_server_close_early),
		cmocka_unit_test(test_tfo_client),
		cmocka_unit_test(test_tfo_client_syn_lost),
		cmocka_unit_test(test_tfo_client_big_syn),
		cmocka_unit_test(test_tfo_client_blocking),
		cmocka_unit_test(test_tfo_client_connect_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
