/*
 * test_socket.c -- the socket layer's stream paths (uipc_socket.c,
 * uipc_socket2.c) over a stub stream protocol: stream buffers, send and
 * receive with their waits, connect, listen queues and accept, close with
 * a protocol that keeps its PCB, SO_LINGER, poll states, out-of-band data.
 *
 * The stub is no TCP: it does what the protocol switch contract in
 * socketvar.h asks of a stream protocol (a reference per PCB, sopcbgone()
 * when the PCB goes, sbappendstream() on send) and records the calls, so
 * each test drives the socket layer the way TCP will and checks what the
 * application would see.  Sockets freed twice or never show up under
 * AddressSanitizer; mbufs through the leak check at the end of each test.
 *
 * Needs no root, no DPDK, no network namespace.
 */
#include "harness.h"

#include "kern/kernel.h"
#include "kern/mbuf.h"
#include "net/netstack.h"
#include "sys/socketvar.h"

/* ---- the stub protocol ---- */

static struct stub {
	unsigned st_attach, st_detach, st_abort, st_rcvd, st_listen;
	unsigned st_shutdown, st_disconnect, st_pcbfree, st_connect;
	bool st_keep_on_detach;		/* detach keeps the PCB, as TCP */
	bool st_connect_done;		/* pr_connect connects at once */
	uint8_t st_oob;			/* the urgent byte last sent */
} stub;

static int
stub_attach(struct socket *so)
{
	so->so_pcb = &stub;		/* any non-NULL PCB */
	so->so_refs++;			/* the protocol's reference */
	stub.st_attach++;
	return 0;
}

/* The PCB goes: what TCP's close does. */
static void
stub_pcbfree(struct socket *so)
{
	stub.st_pcbfree++;
	sopcbgone(so);
}

static void
stub_detach(struct socket *so)
{
	stub.st_detach++;
	if (!stub.st_keep_on_detach)
		stub_pcbfree(so);
}

static void
stub_abort(struct socket *so)
{
	assert_null(so->so_head);
	stub.st_abort++;
	stub_pcbfree(so);
}

static int
stub_bind(struct socket *so, const struct sockaddr_in *sin)
{
	(void)so;
	(void)sin;
	return 0;
}

static int
stub_connect(struct socket *so, const struct sockaddr_in *sin)
{
	(void)sin;
	stub.st_connect++;
	soisconnecting(so);
	if (stub.st_connect_done)
		soisconnected(so);
	return 0;
}

static int
stub_disconnect(struct socket *so)
{
	stub.st_disconnect++;
	soisdisconnecting(so);
	return 0;
}

static int
stub_shutdown(struct socket *so)
{
	(void)so;
	stub.st_shutdown++;
	return 0;
}

static int
stub_send(struct socket *so, struct mbuf *m, const struct sockaddr_in *nam)
{
	assert_null(nam);
	assert_true(m->m_flags & M_PKTHDR);
	assert_int_equal(m->m_pkthdr.len, m_length(m));
	assert_true((unsigned)m_length(m) <= sbspace(&so->so_snd));
	for (struct mbuf *n = m; n != NULL; n = n->m_next)
		assert_true(n->m_len <= MJUMBYTES);
	sbappendstream(&so->so_snd, m);
	return 0;
}

static void
stub_addr(struct socket *so, struct sockaddr_in *sin)
{
	(void)so;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
}

static int
stub_listen(struct socket *so)
{
	(void)so;
	stub.st_listen++;
	return 0;
}

static int
stub_rcvd(struct socket *so)
{
	(void)so;
	stub.st_rcvd++;
	return 0;
}

static int
stub_sendoob(struct socket *so, struct mbuf *m)
{
	(void)so;
	m_copydata(m, m_length(m) - 1, 1, &stub.st_oob);
	m_freem(m);
	return 0;
}

static int
stub_rcvoob(struct socket *so, uint8_t *c, bool peek)
{
	if (!so->so_haveoob)
		return EINVAL;
	*c = stub.st_oob;
	if (!peek)
		so->so_haveoob = false;
	return 0;
}

static const struct protosw stub_protosw = {
	.pr_type = SOCK_STREAM,
	.pr_protocol = 253,		/* RFC 3692: for experiments */
	.pr_attach = stub_attach,
	.pr_detach = stub_detach,
	.pr_bind = stub_bind,
	.pr_connect = stub_connect,
	.pr_disconnect = stub_disconnect,
	.pr_shutdown = stub_shutdown,
	.pr_send = stub_send,
	.pr_sockaddr = stub_addr,
	.pr_peeraddr = stub_addr,
	.pr_listen = stub_listen,
	.pr_rcvd = stub_rcvd,
	.pr_abort = stub_abort,
	.pr_sendoob = stub_sendoob,
	.pr_rcvoob = stub_rcvoob,
};

/* ---- instance, kernel entry, sockets ---- */

static unsigned char pat[512 * 1024];	/* the bytes every test sends */

static struct rump_kernel *
so_setup(void)
{
	struct rump_kernel *k;
	uint64_t seed = 7;

	memset(&stub, 0, sizeof(stub));
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (unsigned char)th_rand(&seed);
	k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, 1);
	assert_int_equal(rump_thread_bind(k), 0);
	return k;
}

static void
so_teardown(struct rump_kernel *k)
{
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(k);
}

/* kenter/kexit: run socket-layer code as a system call does. */
static void
kenter(struct rump_kernel *k)
{
	rump_schedule();
	mutex_enter(&k->k_net->ns_lock);
}

static void
kexit(struct rump_kernel *k)
{
	mutex_exit(&k->k_net->ns_lock);
	rump_unschedule();
}

/* close(2) of so from outside the kernel. */
static void
kclose(struct rump_kernel *k, struct socket *so)
{
	kenter(k);
	soclose(so);
	kexit(k);
}

/* Run body on a helper thread and wait until it sleeps on cv. */
static void
bt_asleep(struct bthread *bt, struct rump_kernel *k,
    void (*body)(struct bthread *), void *arg, kcondvar_t *cv)
{
	bthread_start(bt, k, BT_BOUND, body, arg);
	assert_true(th_wait_until(cv_has_waiters(cv), BT_WAIT_MS));
}

/* A stream socket of the stub protocol, as socreate() makes one. */
static struct socket *
stub_socket(struct rump_kernel *k)
{
	struct socket *so = soalloc(k, &stub_protosw, SOCK_STREAM);

	assert_non_null(so);
	assert_int_equal(so->so_proto->pr_attach(so), 0);
	return so;
}

/* A connected stub socket. */
static struct socket *
stub_connected(struct rump_kernel *k, bool nbio)
{
	struct socket *so = stub_socket(k);

	soisconnecting(so);
	soisconnected(so);
	if (nbio)
		so->so_state |= SS_NBIO;
	return so;
}

/* A chain holding pat[off, off + len) in mbufs of size piece or less. */
static struct mbuf *
pat_chain(int off, int len, int piece, bool hdr)
{
	struct mbuf *top = NULL, **np = &top;

	while (len > 0) {
		int n = MIN(len, piece);
		struct mbuf *m = n > MLEN ? m_getcl(M_DONTWAIT, MT_DATA, 0) :
		    m_get(M_DONTWAIT, MT_DATA);

		assert_non_null(m);
		memcpy(m->m_data, pat + off, (size_t)n);
		m->m_len = n;
		*np = m;
		np = &m->m_next;
		off += n;
		len -= n;
	}
	if (hdr && top != NULL) {
		top->m_flags |= M_PKTHDR;
		memset(&top->m_pkthdr, 0, sizeof(top->m_pkthdr));
		top->m_pkthdr.len = m_length(top);
	}
	return top;
}

/* sb holds exactly pat[off, off + cc) as a well-formed stream buffer. */
static void
sb_check(const struct sockbuf *sb, int off, unsigned cc)
{
	static unsigned char buf[sizeof(pat)];
	const struct mbuf *m, *last = NULL;

	assert_int_equal(sb->sb_cc, cc);
	assert_int_equal(m_length(sb->sb_mb), (int)cc);
	for (m = sb->sb_mb; m != NULL; m = m->m_next) {
		assert_false(m->m_flags & M_PKTHDR);
		assert_null(m->m_nextpkt);
		assert_true(m->m_len > 0);
		last = m;
	}
	assert_ptr_equal(sb->sb_mbtail, last);
	if (cc > 0) {
		m_copydata(sb->sb_mb, 0, (int)cc, buf);
		assert_memory_equal(buf, pat + off, cc);
	}
}

static int
chain_count(const struct mbuf *m)
{
	int n = 0;

	for (; m != NULL; m = m->m_next)
		n++;
	return n;
}

/* ---- stream buffers ---- */

static void
test_sb_append_drop(void **state)
{
	struct rump_kernel *k = so_setup();
	struct sockbuf sb;
	uint64_t seed = 11;
	int head = 0, tail = 0;

	(void)state;
	kenter(k);
	memset(&sb, 0, sizeof(sb));
	/* single bytes share one mbuf */
	for (int i = 0; i < 100; i++)
		sbappendstream(&sb, pat_chain(tail++, 1, 1, i & 1));
	sb_check(&sb, head, 100);
	assert_int_equal(chain_count(sb.sb_mb), 1);
	/* empty mbufs vanish */
	sbappendstream(&sb, m_get(M_DONTWAIT, MT_DATA));
	sb_check(&sb, head, 100);
	/* a random mix of appends and drops against the flat pattern */
	for (int op = 0; op < 4000; op++) {
		uint32_t r = th_rand(&seed);

		if (r % 3 != 0 && tail < (int)sizeof(pat) - 8192) {
			int len = (int)(th_rand(&seed) % 6000) + 1;
			int piece = (int)(th_rand(&seed) % MCLBYTES) + 1;

			sbappendstream(&sb, pat_chain(tail, len, piece,
			    r & 8));
			tail += len;
		} else if (sb.sb_cc > 0) {
			int len = (int)(th_rand(&seed) % (sb.sb_cc + 1));

			sbdrop(&sb, len);
			head += len;
		}
		if (tail >= (int)sizeof(pat) - 8192) {
			/* start over at the front of the pattern */
			sbdrop(&sb, (int)sb.sb_cc);
			head = tail = 0;
		}
		sb_check(&sb, head, (unsigned)(tail - head));
	}
	sbdrop(&sb, (int)sb.sb_cc);
	sb_check(&sb, 0, 0);
	assert_null(sb.sb_mb);
	sbappendstream(&sb, pat_chain(0, 5000, 700, true));
	sbflush(&sb);
	sb_check(&sb, 0, 0);
	kexit(k);
	so_teardown(k);
}

/* ---- send ---- */

static void
test_stream_send_nonblocking(void **state)
{
	struct rump_kernel *k = so_setup();
	struct iovec iov[3] = {
		{ pat, 3000 }, { pat + 3000, 0 }, { pat + 3000, 30000 },
	};
	struct socket *so;
	size_t sent;

	(void)state;
	kenter(k);
	so = stub_connected(k, true);
	so->so_snd.sb_hiwat = 10000;
	/* as much as there is room for, then nothing */
	assert_int_equal(sosend(so, NULL, iov, 3, 33000, 0, &sent), 0);
	assert_int_equal(sent, 10000);
	sb_check(&so->so_snd, 0, 10000);
	assert_int_equal(sosend(so, NULL, iov, 3, 33000, 0, &sent),
	    EWOULDBLOCK);
	assert_int_equal(sent, 0);
	/* the peer acknowledged 4000 bytes */
	sbdrop(&so->so_snd, 4000);
	iov[0].iov_base = pat + 10000;
	iov[0].iov_len = 23000;
	assert_int_equal(sosend(so, NULL, iov, 1, 23000, 0, &sent), 0);
	assert_int_equal(sent, 4000);
	sb_check(&so->so_snd, 4000, 10000);
	/* a low-water mark above the room: wait (here: EWOULDBLOCK) */
	sbdrop(&so->so_snd, 100);
	so->so_snd.sb_lowat = 200;
	assert_int_equal(sosend(so, NULL, iov, 1, 1000, 0, &sent),
	    EWOULDBLOCK);
	/* ... unless all of it fits */
	assert_int_equal(sosend(so, NULL, iov, 1, 100, 0, &sent), 0);
	assert_int_equal(sent, 100);
	/* a zero-length send */
	assert_int_equal(sosend(so, NULL, iov, 1, 0, 0, &sent), 0);
	assert_int_equal(sent, 0);
	/* a pending error, once; then shut down: EPIPE */
	soseterror(so, ECONNRESET);
	assert_int_equal(sosend(so, NULL, iov, 1, 10, 0, &sent), ECONNRESET);
	socantsendmore(so);
	assert_int_equal(sosend(so, NULL, iov, 1, 10, 0, &sent), EPIPE);
	soclose(so);
	/* as Linux: a stream socket not connected gives EPIPE */
	so = stub_socket(k);
	assert_int_equal(sosend(so, NULL, iov, 1, 10, 0, &sent), EPIPE);
	soisconnecting(so);
	assert_int_equal(sosend(so, NULL, iov, 1, 10, MSG_DONTWAIT, &sent),
	    EWOULDBLOCK);
	soclose(so);
	assert_int_equal(stub.st_pcbfree, 2);
	kexit(k);
	so_teardown(k);
}

struct blocking {
	struct rump_kernel *b_k;
	struct socket *b_so;
	size_t b_len;
	int b_flags;
	_Atomic int b_error;
	_Atomic size_t b_done;
	unsigned char *b_buf;
};

static void
body_send(struct bthread *bt)
{
	struct blocking *b = bt->bt_arg;
	struct iovec iov = { pat, b->b_len };
	size_t sent = 0;
	int error;

	kenter(b->b_k);
	error = sosend(b->b_so, NULL, &iov, 1, b->b_len, b->b_flags, &sent);
	kexit(b->b_k);
	atomic_store(&b->b_done, sent);
	atomic_store(&b->b_error, error);
}

static void
body_recv(struct bthread *bt)
{
	struct blocking *b = bt->bt_arg;
	struct iovec iov = { b->b_buf, b->b_len };
	size_t got = 0;
	int error, mf;

	kenter(b->b_k);
	error = soreceive(b->b_so, NULL, &iov, 1, b->b_len, b->b_flags, &got,
	    &mf, NULL);
	kexit(b->b_k);
	atomic_store(&b->b_done, got);
	atomic_store(&b->b_error, error);
}

static void
test_stream_send_blocking(void **state)
{
	struct rump_kernel *k = so_setup();
	struct blocking b = { .b_k = k, .b_len = 300000, .b_error = -1 };
	struct bthread bt;
	unsigned acked = 0;

	(void)state;
	kenter(k);
	b.b_so = stub_connected(k, false);
	b.b_so->so_snd.sb_hiwat = 65536;
	kexit(k);
	/* one call takes all 300000 bytes through a 64 KiB buffer */
	bthread_start(&bt, k, BT_BOUND, body_send, &b);
	while (atomic_load(&b.b_error) == -1) {
		unsigned char buf[7000];
		unsigned n;

		kenter(k);
		n = MIN(b.b_so->so_snd.sb_cc, 7000u);
		if (n > 0) {
			m_copydata(b.b_so->so_snd.sb_mb, 0, (int)n, buf);
			assert_memory_equal(buf, pat + acked, n);
			sbdrop(&b.b_so->so_snd, (int)n);
			acked += n;
			sowwakeup(b.b_so);
		}
		kexit(k);
		th_sleep_ms(1);
	}
	bthread_join(&bt);
	assert_int_equal(atomic_load(&b.b_error), 0);
	assert_int_equal(atomic_load(&b.b_done), 300000);
	kenter(k);
	sb_check(&b.b_so->so_snd, (int)acked, 300000 - acked);
	/* SO_SNDTIMEO: the bytes so far, then EWOULDBLOCK */
	b.b_so->so_snd.sb_timeo_ns = 5000000;
	kexit(k);
	b.b_error = -1;
	b.b_len = 100000;
	bt_asleep(&bt, k, body_send, &b, &b.b_so->so_snd.sb_cv);
	assert_int_equal(rump_clock_advance(k, 10000000), 0);
	bthread_join(&bt);
	assert_int_equal(atomic_load(&b.b_error), 0);
	assert_int_equal(atomic_load(&b.b_done), 65536 - (300000 - acked));
	kenter(k);
	sbdrop(&b.b_so->so_snd, (int)b.b_so->so_snd.sb_cc);
	b.b_so->so_refs++;	/* the call's, as fd_socket() takes it */
	kexit(k);
	b.b_error = -1;
	b.b_len = 100000;
	bt_asleep(&bt, k, body_send, &b, &b.b_so->so_snd.sb_cv);
	/* closing the descriptor wakes the sender, who keeps its count */
	kclose(k, b.b_so);
	bthread_join(&bt);
	assert_int_equal(atomic_load(&b.b_error), 0);
	assert_int_equal(atomic_load(&b.b_done), 65536);
	kenter(k);
	sorele(b.b_so);
	kexit(k);
	so_teardown(k);
}

/* ---- receive ---- */

static void
test_stream_receive(void **state)
{
	struct rump_kernel *k = so_setup();
	unsigned char buf[8000];
	struct iovec iov[3] = {
		{ buf, 100 }, { buf + 100, 0 }, { buf + 100, 250 },
	};
	struct socket *so;
	size_t got;
	int mf;

	(void)state;
	kenter(k);
	so = stub_connected(k, true);
	assert_int_equal(soreceive(so, NULL, iov, 3, 350, 0, &got, &mf, NULL),
	    EWOULDBLOCK);
	sbappendstream(&so->so_rcv, pat_chain(0, 5000, 1000, true));
	/* spread over the iovecs; the protocol hears about it */
	assert_int_equal(soreceive(so, NULL, iov, 3, 350, 0,
	    &got, &mf, NULL), 0);
	assert_int_equal(got, 350);
	assert_memory_equal(buf, pat, 350);
	assert_int_equal(stub.st_rcvd, 1);
	sb_check(&so->so_rcv, 350, 4650);
	/* a peek leaves the data and tells nobody */
	iov[0].iov_len = 8000;
	assert_int_equal(soreceive(so, NULL, iov, 1, 10, MSG_PEEK, &got,
	    &mf, NULL), 0);
	assert_int_equal(got, 10);
	assert_memory_equal(buf, pat + 350, 10);
	assert_int_equal(stub.st_rcvd, 1);
	sb_check(&so->so_rcv, 350, 4650);
	/* SO_RCVLOWAT: non-blocking still returns what there is */
	so->so_rcv.sb_lowat = 6000;
	assert_int_equal(soreceive(so, NULL, iov, 1, 1000, 0,
	    &got, &mf, NULL), 0);
	assert_int_equal(got, 1000);
	/* MSG_WAITALL, non-blocking: what there is */
	assert_int_equal(soreceive(so, NULL, iov, 1, 8000, MSG_WAITALL,
	    &got, &mf, NULL), 0);
	assert_int_equal(got, 3650);
	assert_memory_equal(buf, pat + 1350, 3650);
	assert_int_equal(stub.st_rcvd, 3);
	/* a zero-length read */
	assert_int_equal(soreceive(so, NULL, iov, 1, 0, 0, &got, &mf, NULL), 0);
	/* an error: a peek sees it, a read takes it; data comes first */
	sbappendstream(&so->so_rcv, pat_chain(0, 10, 10, true));
	so->so_error = ECONNRESET;
	assert_int_equal(soreceive(so, NULL, iov, 1, 100, 0,
	    &got, &mf, NULL), 0);
	assert_int_equal(got, 10);
	assert_int_equal(soreceive(so, NULL, iov, 1, 100, MSG_PEEK, &got,
	    &mf, NULL), ECONNRESET);
	assert_int_equal(soreceive(so, NULL, iov, 1, 100, 0, &got, &mf, NULL),
	    ECONNRESET);
	assert_int_equal(soreceive(so, NULL, iov, 1, 100, 0, &got, &mf, NULL),
	    EWOULDBLOCK);
	/* FIN: the data, then end of file for good */
	sbappendstream(&so->so_rcv, pat_chain(0, 20, 20, true));
	socantrcvmore(so);
	assert_int_equal(soreceive(so, NULL, iov, 1, 100, MSG_WAITALL, &got,
	    &mf, NULL), 0);
	assert_int_equal(got, 20);
	assert_int_equal(soreceive(so, NULL, iov, 1, 100, 0,
	    &got, &mf, NULL), 0);
	assert_int_equal(got, 0);
	soclose(so);
	/* not connected */
	so = stub_socket(k);
	assert_int_equal(soreceive(so, NULL, iov, 1, 100, 0, &got, &mf, NULL),
	    ENOTCONN);
	soclose(so);
	kexit(k);
	so_teardown(k);
}

static void
test_stream_receive_waitall_blocking(void **state)
{
	static unsigned char buf[50000];
	struct rump_kernel *k = so_setup();
	struct blocking b = {
		.b_k = k, .b_len = sizeof(buf), .b_flags = MSG_WAITALL,
		.b_error = -1, .b_buf = buf,
	};
	struct bthread bt;
	int off = 0;

	(void)state;
	kenter(k);
	b.b_so = stub_connected(k, false);
	/* less than the call asks for: it must copy as data comes */
	b.b_so->so_rcv.sb_hiwat = 16384;
	kexit(k);
	bthread_start(&bt, k, BT_BOUND, body_recv, &b);
	while (off < 60000) {
		bool room;

		kenter(k);
		/* as TCP: no more than the window */
		room = sbspace(&b.b_so->so_rcv) >= 7000;
		if (room) {
			sbappendstream(&b.b_so->so_rcv, pat_chain(off, 7000,
			    1460, true));
			sorwakeup(b.b_so);
		}
		kexit(k);
		if (room)
			off += 7000;
		th_sleep_ms(1);
	}
	bthread_join(&bt);
	assert_int_equal(atomic_load(&b.b_error), 0);
	assert_int_equal(atomic_load(&b.b_done), sizeof(buf));
	assert_memory_equal(buf, pat, sizeof(buf));
	kenter(k);
	sb_check(&b.b_so->so_rcv, (int)sizeof(buf),
	    (unsigned)off - sizeof(buf));
	/* a timeout after some bytes: those bytes */
	sbdrop(&b.b_so->so_rcv, (int)b.b_so->so_rcv.sb_cc);
	sbappendstream(&b.b_so->so_rcv, pat_chain(0, 300, 300, true));
	b.b_so->so_rcv.sb_timeo_ns = 5000000;
	kexit(k);
	b.b_error = -1;
	bt_asleep(&bt, k, body_recv, &b, &b.b_so->so_rcv.sb_cv);
	assert_int_equal(rump_clock_advance(k, 10000000), 0);
	bthread_join(&bt);
	assert_int_equal(atomic_load(&b.b_error), 0);
	assert_int_equal(atomic_load(&b.b_done), 300);
	kclose(k, b.b_so);
	so_teardown(k);
}

/* ---- connect ---- */

struct connecting {
	struct rump_kernel *c_k;
	struct socket *c_so;
	_Atomic int c_error;
};

static void
body_connect(struct bthread *bt)
{
	struct connecting *c = bt->bt_arg;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int error;

	kenter(c->c_k);
	error = soconnect(c->c_so, &sin);
	kexit(c->c_k);
	atomic_store(&c->c_error, error);
}

static void
test_stream_connect(void **state)
{
	struct rump_kernel *k = so_setup();
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct connecting c = { .c_k = k, .c_error = -1 };
	struct bthread bt;
	struct socket *so;

	(void)state;
	kenter(k);
	so = stub_socket(k);
	so->so_state |= SS_NBIO;
	sin.sin_family = AF_UNSPEC;
	assert_int_equal(soconnect(so, &sin), EAFNOSUPPORT);
	sin.sin_family = AF_INET;
	assert_int_equal(soconnect(so, &sin), EINPROGRESS);
	assert_int_equal(soconnect(so, &sin), EALREADY);
	assert_int_equal(sopoll(so, POLLIN | POLLOUT), 0);
	soisconnected(so);
	assert_int_equal(sopoll(so, POLLIN | POLLOUT), POLLOUT);
	assert_int_equal(soconnect(so, &sin), EISCONN);
	assert_int_equal(solisten(so, 5), EINVAL);
	soclose(so);
	/* a connection that completes in pr_connect */
	so = stub_socket(k);
	so->so_state |= SS_NBIO;
	stub.st_connect_done = true;
	assert_int_equal(soconnect(so, &sin), 0);
	stub.st_connect_done = false;
	soclose(so);
	/* blocking: wait for the handshake */
	c.c_so = stub_socket(k);
	kexit(k);
	bt_asleep(&bt, k, body_connect, &c, &c.c_so->so_snd.sb_cv);
	kenter(k);
	assert_true(c.c_so->so_state & SS_ISCONNECTING);
	soisconnected(c.c_so);
	kexit(k);
	bthread_join(&bt);
	assert_int_equal(atomic_load(&c.c_error), 0);
	kenter(k);
	soclose(c.c_so);
	/* blocking, refused */
	c.c_so = stub_socket(k);
	c.c_error = -1;
	kexit(k);
	bt_asleep(&bt, k, body_connect, &c, &c.c_so->so_snd.sb_cv);
	kenter(k);
	c.c_so->so_error = ECONNREFUSED;
	soisdisconnected(c.c_so);
	kexit(k);
	bthread_join(&bt);
	assert_int_equal(atomic_load(&c.c_error), ECONNREFUSED);
	kenter(k);
	/* as Linux: a failed connection is writable, readable, hung up */
	assert_int_equal(sopoll(c.c_so, POLLIN | POLLOUT),
	    POLLIN | POLLOUT | POLLHUP);
	soclose(c.c_so);
	/* blocking, SO_SNDTIMEO runs out: EINPROGRESS */
	c.c_so = stub_socket(k);
	c.c_so->so_snd.sb_timeo_ns = 1000000;
	c.c_error = -1;
	kexit(k);
	bt_asleep(&bt, k, body_connect, &c, &c.c_so->so_snd.sb_cv);
	assert_int_equal(rump_clock_advance(k, 2000000), 0);
	bthread_join(&bt);
	assert_int_equal(atomic_load(&c.c_error), EINPROGRESS);
	kclose(k, c.c_so);
	assert_int_equal(stub.st_connect, 5);
	so_teardown(k);
}

/* ---- listen, accept, close ---- */

static void
test_listen_accept(void **state)
{
	struct rump_kernel *k = so_setup();
	struct socket *head, *so, *c[6];
	struct linger l = { 1, 7 };
	socklen_t len = sizeof(int);
	int v;

	(void)state;
	kenter(k);
	head = stub_socket(k);
	head->so_state |= SS_NBIO;
	assert_int_equal(soaccept(head, &so), EINVAL);
	assert_int_equal(sosetopt(head, SOL_SOCKET, SO_LINGER, &l,
	    sizeof(l)), 0);
	head->so_rcv.sb_hiwat = 12345;
	assert_int_equal(solisten(head, 0), 0);
	assert_int_equal(head->so_qlimit, 1);
	assert_int_equal(head->so_q0limit, 16);
	assert_int_equal(solisten(head, -1), 0);
	assert_int_equal(head->so_qlimit, SOMAXCONN);
	assert_int_equal(head->so_q0limit, SOMAXCONN);
	assert_int_equal(solisten(head, 3), 0);
	assert_int_equal(head->so_qlimit, 3);
	assert_int_equal(stub.st_listen, 1);
	assert_int_equal(sogetopt(head, SOL_SOCKET, SO_ACCEPTCONN, &v, &len),
	    0);
	assert_int_equal(v, 1);
	assert_int_equal(sopoll(head, POLLIN | POLLOUT), 0);
	assert_int_equal(soaccept(head, &so), EWOULDBLOCK);
	/* SYNs: connections on q0, with the listener's settings */
	for (int i = 0; i < 6; i++) {
		c[i] = sonewconn(head, false);
		assert_non_null(c[i]);
		assert_ptr_equal(c[i]->so_head, head);
		assert_int_equal(c[i]->so_refs, 2);	/* queue, stub */
	}
	assert_int_equal(head->so_q0len, 6);
	assert_false(c[0]->so_state & SS_NBIO);
	assert_false(c[0]->so_options & SOO_ACCEPTCONN);
	assert_int_equal(c[0]->so_rcv.sb_hiwat, 12345);
	assert_int_equal(c[0]->so_linger.l_linger, 7);
	/* handshakes complete: q0 to q, the listener becomes readable */
	for (int i = 0; i < 4; i++)
		soisconnected(c[i]);
	assert_int_equal(head->so_q0len, 2);
	assert_int_equal(head->so_qlen, 4);	/* over the limit: allowed */
	assert_int_equal(sopoll(head, POLLIN), POLLIN);
	/* the accept queue is full: no new connection */
	assert_null(sonewconn(head, false));
	/* accept in order */
	assert_int_equal(soaccept(head, &so), 0);
	assert_ptr_equal(so, c[0]);
	assert_null(so->so_head);
	assert_int_equal(head->so_qlen, 3);
	assert_null(sonewconn(head, false));
	assert_int_equal(soaccept(head, &so), 0);
	assert_ptr_equal(so, c[1]);
	/* the protocol drops an embryonic and an established connection */
	stub_pcbfree(c[4]);
	stub_pcbfree(c[2]);
	assert_int_equal(head->so_q0len, 1);
	assert_int_equal(head->so_qlen, 1);
	/* the listener closes: the rest are aborted */
	soclose(head);
	assert_int_equal(stub.st_abort, 2);
	assert_int_equal(stub.st_pcbfree, 5);
	/* accepted ones live on */
	assert_true(c[0]->so_state & SS_ISCONNECTED);
	soclose(c[0]);
	soclose(c[1]);
	assert_int_equal(stub.st_pcbfree, 7);
	assert_int_equal(stub.st_attach, 7);
	/* a SYN queue of 16 */
	head = stub_socket(k);
	assert_int_equal(solisten(head, 1), 0);
	for (int i = 0; i < 16; i++)
		assert_non_null(sonewconn(head, false));
	assert_null(sonewconn(head, false));
	/*
	 * A connection completed at once (a SYN cookie's ACK) passes a full
	 * SYN queue, on its way to the accept queue; not a full accept queue.
	 */
	so = sonewconn(head, true);
	assert_non_null(so);
	assert_int_equal(head->so_q0len, 17);
	soisconnected(so);
	assert_int_equal(head->so_q0len, 16);
	assert_int_equal(head->so_qlen, 1);
	assert_null(sonewconn(head, true));
	soclose(head);
	assert_int_equal(stub.st_abort, 19);
	kexit(k);
	so_teardown(k);
}

struct accepting {
	struct rump_kernel *a_k;
	struct socket *a_head;
	struct socket *a_so;
	_Atomic int a_error;
};

static void
body_accept(struct bthread *bt)
{
	struct accepting *a = bt->bt_arg;
	int error;

	kenter(a->a_k);
	error = soaccept(a->a_head, &a->a_so);
	kexit(a->a_k);
	atomic_store(&a->a_error, error);
}

static void
test_accept_blocking(void **state)
{
	struct rump_kernel *k = so_setup();
	struct accepting a = { .a_k = k, .a_error = -1 };
	struct bthread bt;
	struct socket *so;

	(void)state;
	kenter(k);
	a.a_head = stub_socket(k);
	assert_int_equal(solisten(a.a_head, 5), 0);
	kexit(k);
	bt_asleep(&bt, k, body_accept, &a, &a.a_head->so_rcv.sb_cv);
	kenter(k);
	so = sonewconn(a.a_head, false);
	assert_non_null(so);
	kexit(k);
	/* an embryonic connection does not wake accept() */
	th_sleep_ms(2);
	assert_int_equal(atomic_load(&a.a_error), -1);
	kenter(k);
	soisconnected(so);
	kexit(k);
	bthread_join(&bt);
	assert_int_equal(atomic_load(&a.a_error), 0);
	assert_ptr_equal(a.a_so, so);
	kclose(k, so);
	/* shutdown(SHUT_WR) changes nothing; SHUT_RD wakes it: EINVAL */
	a.a_error = -1;
	bt_asleep(&bt, k, body_accept, &a, &a.a_head->so_rcv.sb_cv);
	kenter(k);
	assert_int_equal(soshutdown(a.a_head, SHUT_WR), 0);
	kexit(k);
	th_sleep_ms(2);
	assert_int_equal(atomic_load(&a.a_error), -1);
	kenter(k);
	assert_int_equal(soshutdown(a.a_head, SHUT_RD), 0);
	kexit(k);
	bthread_join(&bt);
	assert_int_equal(atomic_load(&a.a_error), EINVAL);
	kenter(k);
	assert_int_equal(solisten(a.a_head, 5), 0);
	kexit(k);
	/* closing the listener wakes accept() with EBADF */
	a.a_error = -1;
	bt_asleep(&bt, k, body_accept, &a, &a.a_head->so_rcv.sb_cv);
	kenter(k);
	a.a_head->so_refs++;	/* the call's, as fd_socket() takes it */
	soclose(a.a_head);
	kexit(k);
	bthread_join(&bt);
	assert_int_equal(atomic_load(&a.a_error), EBADF);
	kenter(k);
	sorele(a.a_head);
	kexit(k);
	so_teardown(k);
}

/*
 * A protocol that keeps its PCB after close (TCP's orderly close) keeps
 * so_snd too; unread data goes at once; the socket lives until the
 * protocol lets go.
 */
static void
test_close_protocol_keeps_pcb(void **state)
{
	struct rump_kernel *k = so_setup();
	struct socket *so;

	(void)state;
	kenter(k);
	stub.st_keep_on_detach = true;
	so = stub_connected(k, true);
	sbappendstream(&so->so_snd, pat_chain(0, 3000, 1000, true));
	sbappendstream(&so->so_rcv, pat_chain(0, 500, 500, true));
	soclose(so);
	assert_int_equal(stub.st_detach, 1);
	assert_int_equal(stub.st_pcbfree, 0);
	assert_true(so->so_closing);
	assert_int_equal(so->so_refs, 1);
	sb_check(&so->so_snd, 0, 3000);
	sb_check(&so->so_rcv, 0, 0);
	/* data acknowledged, FIN exchanged: the protocol lets go */
	sbdrop(&so->so_snd, 3000);
	soisdisconnected(so);
	stub_pcbfree(so);
	assert_int_equal(stub.st_pcbfree, 1);
	kexit(k);
	so_teardown(k);
}

struct closing {
	struct rump_kernel *cl_k;
	struct socket *cl_so;
	_Atomic bool cl_done;
};

static void
body_close(struct bthread *bt)
{
	struct closing *cl = bt->bt_arg;

	kenter(cl->cl_k);
	soclose(cl->cl_so);
	kexit(cl->cl_k);
	atomic_store(&cl->cl_done, true);
}

static void
test_close_linger(void **state)
{
	struct rump_kernel *k = so_setup();
	struct closing cl = { .cl_k = k };
	struct linger l = { 1, 2 };
	struct bthread bt;

	(void)state;
	stub.st_keep_on_detach = true;
	/* the queued data is acknowledged */
	kenter(k);
	cl.cl_so = stub_connected(k, false);
	assert_int_equal(sosetopt(cl.cl_so, SOL_SOCKET, SO_LINGER, &l,
	    sizeof(l)), 0);
	sbappendstream(&cl.cl_so->so_snd, pat_chain(0, 3000, 1000, true));
	kexit(k);
	bt_asleep(&bt, k, body_close, &cl, &cl.cl_so->so_snd.sb_cv);
	assert_int_equal(stub.st_disconnect, 1);
	assert_int_equal(stub.st_detach, 0);
	kenter(k);
	sbdrop(&cl.cl_so->so_snd, 3000);
	sowwakeup(cl.cl_so);
	kexit(k);
	bthread_join(&bt);
	assert_true(atomic_load(&cl.cl_done));
	assert_int_equal(stub.st_detach, 1);
	kenter(k);
	stub_pcbfree(cl.cl_so);
	kexit(k);
	/* nothing acknowledged: l_linger seconds, then close anyway */
	kenter(k);
	cl.cl_so = stub_connected(k, false);
	cl.cl_done = false;
	assert_int_equal(sosetopt(cl.cl_so, SOL_SOCKET, SO_LINGER, &l,
	    sizeof(l)), 0);
	sbappendstream(&cl.cl_so->so_snd, pat_chain(0, 3000, 1000, true));
	kexit(k);
	bt_asleep(&bt, k, body_close, &cl, &cl.cl_so->so_snd.sb_cv);
	assert_int_equal(rump_clock_advance(k, 1000000000), 0);
	assert_false(atomic_load(&cl.cl_done));
	assert_int_equal(rump_clock_advance(k, 1100000000), 0);
	bthread_join(&bt);
	assert_true(atomic_load(&cl.cl_done));
	kenter(k);
	sb_check(&cl.cl_so->so_snd, 0, 3000);	/* the protocol's still */
	stub_pcbfree(cl.cl_so);
	kexit(k);
	so_teardown(k);
}

/* ---- poll, shutdown, out-of-band data ---- */

static void
test_stream_poll_shutdown(void **state)
{
	struct rump_kernel *k = so_setup();
	const short all = POLLIN | POLLOUT | POLLPRI;
	struct socket *so;

	(void)state;
	kenter(k);
	/* as Linux: a new stream socket is writable (EPIPE) and hung up */
	so = stub_socket(k);
	assert_int_equal(sopoll(so, all), POLLOUT | POLLHUP);
	assert_int_equal(soshutdown(so, SHUT_WR), ENOTCONN);
	soisconnecting(so);
	assert_int_equal(sopoll(so, all), 0);
	soisconnected(so);
	assert_int_equal(sopoll(so, all), POLLOUT);
	assert_true(sowriteable(so));
	assert_false(soreadable(so));
	so->so_snd.sb_hiwat = 100;
	sbappendstream(&so->so_snd, pat_chain(0, 100, 100, true));
	assert_int_equal(sopoll(so, all), 0);
	sbappendstream(&so->so_rcv, pat_chain(0, 10, 10, true));
	assert_int_equal(sopoll(so, all), POLLIN);
	so->so_rcv.sb_lowat = 11;
	assert_int_equal(sopoll(so, all), 0);
	so->so_haveoob = true;
	assert_int_equal(sopoll(so, all), POLLPRI);
	assert_int_equal(sopoll(so, POLLIN), 0);
	so->so_haveoob = false;
	/* SHUT_RD: the data goes, end of file */
	assert_int_equal(soshutdown(so, SHUT_RD), 0);
	assert_int_equal(so->so_rcv.sb_cc, 0);
	assert_int_equal(sopoll(so, all), POLLIN);
	/* SHUT_WR: the protocol hears, sends fail at once */
	assert_int_equal(soshutdown(so, SHUT_WR), 0);
	assert_int_equal(stub.st_shutdown, 1);
	assert_int_equal(sopoll(so, all), POLLIN | POLLOUT | POLLHUP);
	so->so_error = ETIMEDOUT;
	assert_int_equal(sopoll(so, all), POLLIN | POLLOUT | POLLERR |
	    POLLHUP);
	soclose(so);
	kexit(k);
	so_teardown(k);
}

static void
test_stream_oob(void **state)
{
	struct rump_kernel *k = so_setup();
	unsigned char buf[4];
	struct iovec iov[2] = { { buf, 0 }, { buf, sizeof(buf) } };
	struct socket *so;
	size_t n;
	int mf;

	(void)state;
	kenter(k);
	so = stub_connected(k, true);
	iov[1].iov_base = pat;
	assert_int_equal(sosend(so, NULL, &iov[1], 1, 3, MSG_OOB, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(stub.st_oob, pat[2]);
	iov[1].iov_base = buf;
	assert_int_equal(soreceive(so, NULL, iov, 2, 4, MSG_OOB, &n, &mf, NULL),
	    EINVAL);
	so->so_haveoob = true;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(soreceive(so, NULL, iov, 2, 4, MSG_OOB | MSG_PEEK,
	    &n, &mf, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(buf[0], pat[2]);
	assert_int_equal(mf, MSG_OOB);
	/* as Linux: a zero-length read takes the byte, MSG_TRUNC */
	assert_int_equal(soreceive(so, NULL, iov, 1, 0, MSG_OOB,
	    &n, &mf, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(mf, MSG_OOB | MSG_TRUNC);
	assert_false(so->so_haveoob);
	soclose(so);
	kexit(k);
	so_teardown(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sb_append_drop),
		cmocka_unit_test(test_stream_send_nonblocking),
		cmocka_unit_test(test_stream_send_blocking),
		cmocka_unit_test(test_stream_receive),
		cmocka_unit_test(test_stream_receive_waitall_blocking),
		cmocka_unit_test(test_stream_connect),
		cmocka_unit_test(test_listen_accept),
		cmocka_unit_test(test_accept_blocking),
		cmocka_unit_test(test_close_protocol_keeps_pcb),
		cmocka_unit_test(test_close_linger),
		cmocka_unit_test(test_stream_poll_shutdown),
		cmocka_unit_test(test_stream_oob),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
