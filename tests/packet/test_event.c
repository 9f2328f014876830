/*
 * test_event.c -- kqueue/kevent on UDP sockets: the read and write
 * filters with their byte counts, level triggering, EV_CLEAR, EV_ONESHOT,
 * EV_DISABLE/EV_ENABLE, EV_EOF, errors, a blocking wait woken by a
 * datagram, and knotes going away with their socket or kqueue.
 *
 * Needs no root, no DPDK, no network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "rumpnet/bus.h"
#include "rumpnet/event.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

struct pair {
	struct rump_bus *bus;
	struct rump_kernel *a, *b;
	int fa, fb;		/* A's sender, B's receiver on port 7 */
};

static struct rump_kernel *
host(struct rump_bus *bus, int i, const char *addr)
{
	struct rump_kernel *k = th_kernel(pkt_mode(),
	    RUMP_CLOCK_VIRTUAL, 1);
	uint8_t mac[6] = { 2, 0, 0, 0, 2, (uint8_t)i };
	unsigned ifx;

	assert_int_equal(rump_bus_attach(bus, k, "bus0", mac, &ifx), 0);
	assert_int_equal(rump_if_up(k, ifx), 0);
	assert_int_equal(rump_if_addr_add(k, ifx, inet_addr(addr), 24), 0);
	return k;
}

static void
pair_up(struct pair *p)
{
	struct sockaddr_in b7 = sa("198.18.0.2", 7);

	memset(p, 0, sizeof(*p));
	assert_int_equal(rump_bus_create(NULL, &p->bus), 0);
	p->a = host(p->bus, 1, "198.18.0.1");
	p->b = host(p->bus, 2, "198.18.0.2");
	as(p->b);
	p->fb = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(rump_sys_bind(p->fb, (struct sockaddr *)&b7,
	    sizeof(b7)), 0);
	as(p->a);
	p->fa = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(p->fa >= 0);
}

static void
pair_send(struct pair *p, const char *msg)
{
	struct sockaddr_in b7 = sa("198.18.0.2", 7);

	as(p->a);
	assert_int_equal(rump_sys_sendto(p->fa, msg, strlen(msg), 0,
	    (struct sockaddr *)&b7, sizeof(b7)), (ssize_t)strlen(msg));
	assert_int_equal(rump_bus_quiesce(p->bus, 5000), 0);
	as(p->b);
}

/* Close the sockets (freeing what they buffer), then the instances. */
static void
pair_down(struct pair *p)
{
	as(p->b);
	assert_int_equal(rump_sys_close(p->fb), 0);
	as(p->a);
	assert_int_equal(rump_sys_close(p->fa), 0);
	(void)rump_thread_unbind();
	/* frames in flight hold mbufs: let them land before the leak check */
	assert_int_equal(rump_bus_quiesce(p->bus, 5000), 0);
	th_kernel_destroy(p->a);
	th_kernel_destroy(p->b);
	assert_int_equal(rump_bus_destroy(p->bus), 0);
}

static const struct timespec zero = { 0, 0 };

static void
test_read_filter_counts_and_levels(void **state)
{
	struct pair p;
	struct kevent ch, ev[4];
	int kq;
	char buf[64];

	(void)state;
	pair_up(&p);
	as(p.b);
	kq = rump_sys_kqueue();
	assert_true(kq >= 0);
	EV_SET(&ch, p.fb, EVFILT_READ, EV_ADD, 0, 0, (void *)0x1234);
	assert_int_equal(rump_sys_kevent(kq, &ch, 1, ev, 4, &zero), 0);
	pair_send(&p, "hello");
	pair_send(&p, "world!");
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 1);
	assert_int_equal(ev[0].ident, (uintptr_t)p.fb);
	assert_int_equal(ev[0].filter, EVFILT_READ);
	assert_int_equal(ev[0].data, 11);	/* bytes of both datagrams */
	assert_ptr_equal(ev[0].udata, (void *)0x1234);
	assert_int_equal(ev[0].flags & EV_EOF, 0);
	/* level-triggered: still reported while unread */
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 1);
	assert_int_equal(rump_sys_recv(p.fb, buf, sizeof(buf), 0), 5);
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 1);
	assert_int_equal(ev[0].data, 6);
	assert_int_equal(rump_sys_recv(p.fb, buf, sizeof(buf), 0), 6);
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 0);
	assert_int_equal(rump_sys_close(kq), 0);
	pair_down(&p);
}

/*
 * A datagram of zero bytes is one to read, as poll() and Linux's epoll
 * have it: the read filter fires with data 0, and recv() returns 0.
 */
static void
test_read_filter_zero_length_datagram(void **state)
{
	struct pair p;
	struct kevent ch, ev[2];
	struct pollfd pfd;
	int kq;
	char buf[16];

	(void)state;
	pair_up(&p);
	as(p.b);
	kq = rump_sys_kqueue();
	assert_true(kq >= 0);
	EV_SET(&ch, p.fb, EVFILT_READ, EV_ADD, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, &ch, 1, ev, 2, &zero), 0);
	pair_send(&p, "");
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 2, &zero), 1);
	assert_int_equal(ev[0].ident, (uintptr_t)p.fb);
	assert_int_equal(ev[0].filter, EVFILT_READ);
	assert_int_equal(ev[0].data, 0);
	assert_int_equal(ev[0].flags & EV_EOF, 0);
	pfd.fd = p.fb;
	pfd.events = POLLIN;
	pfd.revents = 0;
	assert_int_equal(rump_sys_poll(&pfd, 1, 0), 1);
	assert_int_equal(pfd.revents, POLLIN);
	assert_int_equal(rump_sys_recv(p.fb, buf, sizeof(buf),
	    MSG_DONTWAIT), 0);
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 2, &zero), 0);
	assert_int_equal(rump_sys_recv(p.fb, buf, sizeof(buf),
	    MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(rump_sys_close(kq), 0);
	pair_down(&p);
}

static void
test_clear_oneshot_disable(void **state)
{
	struct pair p;
	struct kevent ch[2], ev[4];
	int kq;

	(void)state;
	pair_up(&p);
	as(p.b);
	kq = rump_sys_kqueue();
	EV_SET(&ch[0], p.fb, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, ch, 1, NULL, 0, &zero), 0);
	pair_send(&p, "one");
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 1);
	assert_int_equal(ev[0].flags & EV_CLEAR, EV_CLEAR);
	/* nothing new: EV_CLEAR stays quiet although data is unread */
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 0);
	pair_send(&p, "two");
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 1);
	assert_int_equal(ev[0].data, 6);
	/*
	 * disabled: silent; enabled again: what came meanwhile is reported,
	 * once: it is still EV_CLEAR (a change keeps the kind the note was
	 * added with, as FreeBSD's; it used to turn level-triggered), and
	 * an EV_ADD of the note only changes its udata
	 */
	EV_SET(&ch[0], p.fb, EVFILT_READ, EV_DISABLE, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, ch, 1, NULL, 0, &zero), 0);
	pair_send(&p, "three");
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 0);
	EV_SET(&ch[0], p.fb, EVFILT_READ, EV_ENABLE, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, ch, 1, ev, 4, &zero), 1);
	assert_int_equal(ev[0].flags & EV_CLEAR, EV_CLEAR);
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 0);
	EV_SET(&ch[0], p.fb, EVFILT_READ, EV_ADD, 0, 0, (void *)&p);
	assert_int_equal(rump_sys_kevent(kq, ch, 1, ev, 4, &zero), 0);
	pair_send(&p, "four");
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 1);
	assert_ptr_equal(ev[0].udata, &p);
	assert_int_equal(ev[0].flags & EV_CLEAR, EV_CLEAR);
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 0);
	/* one-shot: once, then gone (deleting it again is ENOENT) */
	EV_SET(&ch[0], p.fb, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	EV_SET(&ch[1], p.fb, EVFILT_READ, EV_ADD | EV_ONESHOT, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, ch, 2, ev, 4, &zero), 1);
	assert_int_equal(ev[0].flags & EV_ONESHOT, EV_ONESHOT);
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 0);
	EV_SET(&ch[0], p.fb, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, ch, 1, ev, 4, &zero), 1);
	assert_int_equal(ev[0].flags, EV_ERROR);
	assert_int_equal(ev[0].data, ENOENT);
	assert_int_equal(rump_sys_close(kq), 0);
	pair_down(&p);
}

/*
 * Add filter add on fd and delete filter del in one kevent(): the one
 * event reported is add's, with EV_EOF and fflags.
 */
static void
filter_swap_eof(int kq, int fd, short add, short del, unsigned fflags)
{
	struct kevent ch[2], ev[4];

	EV_SET(&ch[0], fd, add, EV_ADD, 0, 0, NULL);
	EV_SET(&ch[1], fd, del, EV_DELETE, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, ch, 2, ev, 4, &zero), 1);
	assert_int_equal(ev[0].filter, add);
	assert_int_equal(ev[0].flags & EV_EOF, EV_EOF);
	assert_int_equal(ev[0].fflags, fflags);
}

static void
test_write_filter_and_eof(void **state)
{
	struct pair p;
	struct kevent ch, ev[4];
	struct sockaddr_in a = sa("198.18.0.1", 9);
	int kq, sndbuf;
	socklen_t len = sizeof(sndbuf);

	(void)state;
	pair_up(&p);
	as(p.b);
	assert_int_equal(rump_sys_getsockopt(p.fb, SOL_SOCKET, SO_SNDBUF,
	    &sndbuf, &len), 0);
	kq = rump_sys_kqueue();
	EV_SET(&ch, p.fb, EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, &ch, 1, ev, 4, &zero), 1);
	assert_int_equal(ev[0].filter, EVFILT_WRITE);
	assert_int_equal(ev[0].data, sndbuf);
	/* a connected socket shut for reading shows EV_EOF on read */
	assert_int_equal(rump_sys_connect(p.fb, (struct sockaddr *)&a,
	    sizeof(a)), 0);
	assert_int_equal(rump_sys_shutdown(p.fb, SHUT_RD), 0);
	filter_swap_eof(kq, p.fb, EVFILT_READ, EVFILT_WRITE, 0);
	/*
	 * an EV_EOF carries the socket's error, on write too (FreeBSD's
	 * filt_sowrite): A has nothing on port 9, its port unreachable
	 * reaches the connected socket
	 */
	assert_int_equal(rump_sys_send(p.fb, "x", 1, 0), 1);
	assert_int_equal(rump_bus_quiesce(p.bus, 5000), 0);
	as(p.b);
	assert_int_equal(rump_sys_shutdown(p.fb, SHUT_WR), 0);
	filter_swap_eof(kq, p.fb, EVFILT_WRITE, EVFILT_READ, ECONNREFUSED);
	assert_int_equal(rump_sys_close(kq), 0);
	pair_down(&p);
}

static void
test_kevent_errors(void **state)
{
	struct pair p;
	struct kevent ch, ev[2];
	struct timespec bad = { 0, 2000000000L };
	int kq;

	(void)state;
	pair_up(&p);
	as(p.b);
	kq = rump_sys_kqueue();
	errno = 0;
	assert_int_equal(rump_sys_kevent(p.fb, NULL, 0, ev, 2, &zero), -1);
	assert_int_equal(errno, EBADF);		/* not a kqueue */
	errno = 0;
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, -1, &zero), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 2, &bad), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(rump_sys_kevent(kq, NULL, 1, ev, 2, &zero), -1);
	assert_int_equal(errno, EFAULT);
	/* a change on a descriptor that does not exist: reported inline */
	EV_SET(&ch, 999, EVFILT_READ, EV_ADD, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, &ch, 1, ev, 2, &zero), 1);
	assert_int_equal(ev[0].flags, EV_ERROR);
	assert_int_equal(ev[0].data, EBADF);
	/* ... or as the call's error when there is no room */
	errno = 0;
	assert_int_equal(rump_sys_kevent(kq, &ch, 1, NULL, 0, &zero), -1);
	assert_int_equal(errno, EBADF);
	/* an unknown filter */
	EV_SET(&ch, p.fb, -9, EV_ADD, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, &ch, 1, ev, 2, &zero), 1);
	assert_int_equal(ev[0].data, EINVAL);
	/* EV_RECEIPT: every change answered, success as data 0 */
	EV_SET(&ch, p.fb, EVFILT_WRITE, EV_ADD | EV_RECEIPT, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, &ch, 1, ev, 2, &zero), 1);
	assert_int_equal(ev[0].flags, EV_ERROR);
	assert_int_equal(ev[0].data, 0);
	/* a kqueue descriptor's flags, as any file's (Linux's epoll) */
	assert_int_equal(rump_sys_fcntl(kq, F_GETFD, 0), 0);
	assert_int_equal(rump_sys_fcntl(kq, F_SETFD, FD_CLOEXEC), 0);
	assert_int_equal(rump_sys_fcntl(kq, F_GETFD, 0), FD_CLOEXEC);
	assert_int_equal(rump_sys_fcntl(kq, F_GETFL, 0), O_RDWR);
	assert_int_equal(rump_sys_fcntl(kq, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(rump_sys_fcntl(kq, F_GETFL, 0), O_RDWR | O_NONBLOCK);
	assert_int_equal(rump_sys_fcntl(kq, F_GETFD, 0), FD_CLOEXEC);
	int off = 0, n;
	assert_int_equal(rump_sys_ioctl(kq, FIONBIO, &off), 0);
	assert_int_equal(rump_sys_fcntl(kq, F_GETFL, 0), O_RDWR);
	errno = 0;
	assert_int_equal(rump_sys_ioctl(kq, FIONREAD, &n), -1);
	assert_int_equal(errno, ENOTTY);
	errno = 0;
	assert_int_equal(rump_sys_fcntl(kq, 99, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(rump_sys_close(kq), 0);
	pair_down(&p);
}

/* Closing the socket removes its knotes; closing the kqueue frees the rest. */
static void
test_close_removes_knotes(void **state)
{
	struct pair p;
	struct kevent ch[2], ev[4];
	int kq, fd2;

	(void)state;
	pair_up(&p);
	as(p.b);
	kq = rump_sys_kqueue();
	fd2 = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	EV_SET(&ch[0], p.fb, EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	EV_SET(&ch[1], fd2, EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, ch, 2, ev, 4, &zero), 2);
	assert_int_equal(rump_sys_close(fd2), 0);
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 1);
	assert_int_equal(ev[0].ident, (uintptr_t)p.fb);
	/* a new socket at the old number is not watched */
	assert_int_equal(rump_sys_socket(AF_INET, SOCK_DGRAM, 0), fd2);
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 4, &zero), 1);
	/* the kqueue goes with its knote still on p.fb */
	assert_int_equal(rump_sys_close(kq), 0);
	assert_int_equal(rump_sys_close(fd2), 0);
	pair_down(&p);
}

struct late_sender {
	struct pair *p;
};

static void *
send_later(void *arg)
{
	struct pair *p = arg;
	struct sockaddr_in b7 = sa("198.18.0.2", 7);

	th_sleep_ms(30);
	rump_thread_bind(p->a);
	rump_sys_sendto(p->fa, "late", 4, 0, (struct sockaddr *)&b7,
	    sizeof(b7));
	rump_thread_unbind();
	return NULL;
}

/*
 * A kevent() waiting with timeout (NULL: none) on B's receiver returns
 * the datagram that arrives while it waits.
 */
static void
kevent_waits_for_datagram(const struct timespec *timeout)
{
	struct pair p;
	struct kevent ch, ev[2];
	pthread_t t;
	int kq;

	pair_up(&p);
	as(p.b);
	kq = rump_sys_kqueue();
	EV_SET(&ch, p.fb, EVFILT_READ, EV_ADD, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, &ch, 1, NULL, 0, &zero), 0);
	pthread_create(&t, NULL, send_later, &p);
	assert_int_equal(rump_sys_kevent(kq, NULL, 0, ev, 2, timeout), 1);
	assert_int_equal(ev[0].data, 4);
	pthread_join(t, NULL);
	assert_int_equal(rump_sys_close(kq), 0);
	pair_down(&p);
}

/* No timeout: returns when the datagram arrives. */
static void
test_blocking_kevent_wakes(void **state)
{
	(void)state;
	kevent_waits_for_datagram(NULL);
}

/*
 * A timeout too long to add to the clock is forever: the wait ends with
 * the datagram (it used to wrap around and return 0 at once).
 */
static void
test_kevent_huge_timeout(void **state)
{
	const struct timespec forever = { 0x7fffffffffffffffL, 999999999L };

	(void)state;
	kevent_waits_for_datagram(&forever);
}

struct kq_waiter {
	int kq;
	int ret, err;
	_Atomic bool done;
	struct rump_kernel *k;
};

static void *
kevent_forever(void *arg)
{
	struct kq_waiter *w = arg;
	struct kevent ev;

	rump_thread_bind(w->k);
	w->ret = rump_sys_kevent(w->kq, NULL, 0, &ev, 1, NULL);
	w->err = errno;
	atomic_store(&w->done, true);
	rump_thread_unbind();
	return NULL;
}

/*
 * A kqueue closed while a kevent() waits on it: the waiter fails with
 * EBADF, at once, and never sees the events of a kqueue that took the
 * same descriptor meanwhile (their owner gets them).
 */
static void
test_close_kqueue_while_waiting(void **state)
{
	struct kq_waiter w = { 0 };
	struct kevent ch, ev[2];
	struct pair p;
	pthread_t t;
	int kq2;

	(void)state;
	pair_up(&p);
	as(p.b);
	w.k = p.b;
	w.kq = rump_sys_kqueue();
	pthread_create(&t, NULL, kevent_forever, &w);
	th_sleep_ms(50);
	assert_false(atomic_load(&w.done));
	assert_int_equal(rump_sys_close(w.kq), 0);
	kq2 = rump_sys_kqueue();
	assert_int_equal(kq2, w.kq);		/* the same number again */
	EV_SET(&ch, p.fb, EVFILT_READ, EV_ADD | EV_ONESHOT, 0, 0, &kq2);
	assert_int_equal(rump_sys_kevent(kq2, &ch, 1, NULL, 0, &zero), 0);
	pair_send(&p, "for kq2");
	pthread_join(t, NULL);
	assert_int_equal(w.ret, -1);
	assert_int_equal(w.err, EBADF);
	/* the one-shot event is still there for kq2 */
	as(p.b);
	assert_int_equal(rump_sys_kevent(kq2, NULL, 0, ev, 2, &zero), 1);
	assert_ptr_equal(ev[0].udata, &kq2);
	assert_int_equal(ev[0].data, 7);
	assert_int_equal(rump_sys_close(kq2), 0);
	pair_down(&p);
}

/*
 * Two level-triggered knotes both ready, and room for one event a call:
 * they take turns (the reported one goes to the back), neither hides
 * the other.
 */
static void
test_level_events_take_turns(void **state)
{
	struct sockaddr_in b8 = sa("198.18.0.2", 8);
	struct kevent ch[2], ev;
	struct pair p;
	int kq, fc;

	(void)state;
	pair_up(&p);
	as(p.b);
	fc = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(rump_sys_bind(fc, (struct sockaddr *)&b8,
	    sizeof(b8)), 0);
	as(p.a);
	assert_int_equal(rump_sys_sendto(p.fa, "to 8", 4, 0,
	    (struct sockaddr *)&b8, sizeof(b8)), 4);
	pair_send(&p, "to 7");
	kq = rump_sys_kqueue();
	EV_SET(&ch[0], p.fb, EVFILT_READ, EV_ADD, 0, 0, NULL);
	EV_SET(&ch[1], fc, EVFILT_READ, EV_ADD, 0, 0, NULL);
	assert_int_equal(rump_sys_kevent(kq, ch, 2, NULL, 0, &zero), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rump_sys_kevent(kq, NULL, 0, &ev, 1, &zero),
		    1);
		assert_int_equal((int)ev.ident, i % 2 == 0 ? p.fb : fc);
	}
	assert_int_equal(rump_sys_close(kq), 0);
	assert_int_equal(rump_sys_close(fc), 0);
	pair_down(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_filter_counts_and_levels),
		cmocka_unit_test(test_read_filter_zero_length_datagram),
		cmocka_unit_test(test_clear_oneshot_disable),
		cmocka_unit_test(test_write_filter_and_eof),
		cmocka_unit_test(test_kevent_errors),
		cmocka_unit_test(test_close_removes_knotes),
		cmocka_unit_test(test_blocking_kevent_wakes),
		cmocka_unit_test(test_kevent_huge_timeout),
		cmocka_unit_test(test_close_kqueue_while_waiting),
		cmocka_unit_test(test_level_events_take_turns),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
