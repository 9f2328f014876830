/*
 * test_fiber.c -- application fibers (rump_fiber_spawn): thousands of fibers
 * blocked in socket calls on one host thread, woken by data that arrives
 * from other fibers, from another host thread and by timeouts; no wake-up is
 * lost, every fiber ends, every pool is back to zero.
 *
 * Traffic goes over lo0 (127.0.0.1): no bus, root or DPDK needed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/time.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

#define NREADERS 2000
#define NCONNS 300
#define ECHO_BYTES 3000
#define BASE_PORT 20000

static struct rump_kernel *fk;

static struct sockaddr_in
lo_addr(uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

/* ---- many UDP readers, one writer fiber ---- */

struct ureader {
	int idx;
	int fd;
	int got;		/* the datagram's number, -1: none */
	int error;
};

static int nready, ndone;

static void
udp_reader(void *arg)
{
	struct ureader *r = arg;
	struct sockaddr_in sin = lo_addr((uint16_t)(BASE_PORT + r->idx));
	int v = -1;
	ssize_t n;

	r->fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	if (r->fd < 0 || rump_sys_bind(r->fd, (struct sockaddr *)&sin,
	    sizeof(sin)) != 0) {
		r->error = errno;
		nready++;
		return;
	}
	nready++;
	n = rump_sys_recv(r->fd, &v, sizeof(v), 0);	/* parks the fiber */
	if (n != (ssize_t)sizeof(v))
		r->error = n < 0 ? errno : EMSGSIZE;
	r->got = v;
	rump_sys_close(r->fd);
	ndone++;
}

static void
udp_writer(void *arg)
{
	int n = *(int *)arg, fd;

	while (nready < n)		/* every reader is blocked in recv */
		rump_fiber_yield();
	fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	/* backwards, so wake-ups do not come in creation order */
	for (int i = n - 1; i >= 0; i--) {
		struct sockaddr_in sin = lo_addr((uint16_t)(BASE_PORT + i));

		assert_int_equal(rump_sys_sendto(fd, &i, sizeof(i), 0,
		    (struct sockaddr *)&sin, sizeof(sin)), sizeof(i));
		/* UDP may drop: never queue more than lo0's input holds */
		while (n - i - ndone > 256)
			rump_fiber_yield();
	}
	rump_sys_close(fd);
}

static void
check_readers(struct ureader *r, int n)
{
	for (int i = 0; i < n; i++) {
		assert_int_equal(r[i].error, 0);
		assert_int_equal(r[i].got, i);
	}
	assert_int_equal(ndone, n);
}

static void
test_many_udp_readers(void **state)
{
	static struct ureader r[NREADERS];
	int n = NREADERS;

	(void)state;
	fk = th_kernel(pkt_mode(), RUMP_CLOCK_REAL, 1);
	assert_int_equal(rump_thread_bind(fk), 0);
	nready = ndone = 0;
	for (int i = 0; i < n; i++) {
		r[i] = (struct ureader){ .idx = i, .fd = -1, .got = -1 };
		assert_int_equal(rump_fiber_spawn(fk, udp_reader, &r[i],
		    16 * 1024), 0);
	}
	assert_int_equal(rump_fiber_spawn(fk, udp_writer, &n, 0), 0);
	assert_int_equal(rump_fiber_run(), 0);
	check_readers(r, n);
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(fk);
}

/* ---- the same readers, woken from another host thread ---- */

static void *
remote_writer(void *arg)
{
	int n = *(int *)arg, fd;

	assert_int_equal(rump_thread_bind(fk), 0);
	while (__atomic_load_n(&nready, __ATOMIC_ACQUIRE) < n)
		th_sleep_ms(1);
	th_sleep_ms(20);		/* the last readers reach recv */
	fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	for (int i = 0; i < n; i++) {
		struct sockaddr_in sin = lo_addr((uint16_t)(BASE_PORT + i));

		assert_int_equal(rump_sys_sendto(fd, &i, sizeof(i), 0,
		    (struct sockaddr *)&sin, sizeof(sin)), sizeof(i));
		if (i % 16 == 0)
			th_sleep_ms(1);	/* readers run while we send */
	}
	rump_sys_close(fd);
	assert_int_equal(rump_thread_unbind(), 0);
	return NULL;
}

static void
test_woken_from_another_thread(void **state)
{
	static struct ureader r[200];
	int n = 200;
	pthread_t t;

	(void)state;
	fk = th_kernel(pkt_mode(), RUMP_CLOCK_REAL, 1);
	nready = ndone = 0;
	/* the fiber host is not bound itself: only its fibers are */
	for (int i = 0; i < n; i++) {
		r[i] = (struct ureader){ .idx = i, .fd = -1, .got = -1 };
		assert_int_equal(rump_fiber_spawn(fk, udp_reader, &r[i], 0), 0);
	}
	assert_int_equal(pthread_create(&t, NULL, remote_writer, &n), 0);
	assert_int_equal(rump_fiber_run(), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	check_readers(r, n);
	th_kernel_destroy(fk);
}

/* ---- TCP: an accepting fiber, a handler fiber per connection ---- */

static int conns_ok, conns_bad, handlers_done;

static void
echo_handler(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[700];
	ssize_t n;

	while ((n = rump_sys_read(fd, buf, sizeof(buf))) > 0)
		if (rump_sys_write(fd, buf, (size_t)n) != n)
			break;
	rump_sys_close(fd);
	handlers_done++;
}

static void
acceptor(void *arg)
{
	int lfd = *(int *)arg;

	for (int i = 0; i < NCONNS; i++) {
		int fd = rump_sys_accept(lfd, NULL, NULL);

		assert_true(fd >= 0);
		assert_int_equal(rump_fiber_spawn(fk, echo_handler,
		    (void *)(intptr_t)fd, 0), 0);
	}
	rump_sys_close(lfd);
}

static void
client(void *arg)
{
	int idx = (int)(intptr_t)arg, fd;
	struct sockaddr_in sin = lo_addr(7);
	unsigned char out[ECHO_BYTES], in[ECHO_BYTES];
	struct linger rst = { 1, 0 };
	size_t got = 0;
	ssize_t n;

	for (int i = 0; i < ECHO_BYTES; i++)
		out[i] = (unsigned char)(idx * 7 + i);
	fd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || rump_sys_connect(fd, (struct sockaddr *)&sin,
	    sizeof(sin)) != 0 ||
	    rump_sys_write(fd, out, sizeof(out)) != (ssize_t)sizeof(out) ||
	    rump_sys_shutdown(fd, SHUT_WR) != 0) {
		conns_bad++;
		if (fd >= 0)
			rump_sys_close(fd);
		return;
	}
	while (got < sizeof(in) &&
	    (n = rump_sys_read(fd, in + got, sizeof(in) - got)) > 0)
		got += (size_t)n;
	if (got == sizeof(in) && memcmp(in, out, sizeof(in)) == 0 &&
	    rump_sys_read(fd, in, 1) == 0)
		conns_ok++;
	else
		conns_bad++;
	/* a reset leaves no TIME_WAIT connection behind (60 s) */
	(void)rump_sys_setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	rump_sys_close(fd);
}

static void
test_tcp_echo_fibers(void **state)
{
	struct sockaddr_in sin = lo_addr(7);
	int lfd, one = 1;

	(void)state;
	fk = th_kernel(pkt_mode(), RUMP_CLOCK_REAL, 1);
	assert_int_equal(rump_thread_bind(fk), 0);
	conns_ok = conns_bad = handlers_done = 0;
	lfd = rump_sys_socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(rump_sys_setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR,
	    &one, sizeof(one)), 0);
	assert_int_equal(rump_sys_bind(lfd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	assert_int_equal(rump_sys_listen(lfd, NCONNS), 0);
	assert_int_equal(rump_fiber_spawn(fk, acceptor, &lfd, 0), 0);
	for (int i = 0; i < NCONNS; i++)
		assert_int_equal(rump_fiber_spawn(fk, client,
		    (void *)(intptr_t)i, 0), 0);
	assert_int_equal(rump_fiber_run(), 0);
	assert_int_equal(conns_bad, 0);
	assert_int_equal(conns_ok, NCONNS);
	assert_int_equal(handlers_done, NCONNS);
	assert_int_equal(rump_thread_unbind(), 0);
	/* threads mode: the last resets may still be on their way */
	assert_true(th_wait_until(rump_kernel_leaks(fk) == 0, 5000));
	th_kernel_destroy(fk);
}

/* ---- a timed sleep, and the host thread's own calls ---- */

static int timeout_err;
static uint64_t timeout_ns;

static void
timed_reader(void *arg)
{
	struct timeval tv = { 0, 50000 };
	struct sockaddr_in sin = lo_addr(9);
	uint64_t t0;
	char c;
	int fd = rump_sys_socket(AF_INET, SOCK_DGRAM, 0);

	(void)arg;
	assert_true(fd >= 0);
	assert_int_equal(rump_sys_bind(fd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	assert_int_equal(rump_sys_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO,
	    &tv, sizeof(tv)), 0);
	t0 = th_now_ns();
	if (rump_sys_recv(fd, &c, 1, 0) < 0)
		timeout_err = errno;
	timeout_ns = th_now_ns() - t0;
	rump_sys_close(fd);
}

static int spinner_rounds;

static void
spinner(void *arg)
{
	(void)arg;
	while (timeout_ns == 0) {
		spinner_rounds++;
		rump_fiber_yield();
		th_sleep_ms(1);
	}
}

static void
test_timeout_in_fiber(void **state)
{
	(void)state;
	fk = th_kernel(pkt_mode(), RUMP_CLOCK_REAL, 1);
	timeout_err = 0;
	timeout_ns = 0;
	spinner_rounds = 0;
	assert_int_equal(rump_fiber_spawn(fk, timed_reader, NULL, 0), 0);
	assert_int_equal(rump_fiber_spawn(fk, spinner, NULL, 0), 0);
	assert_int_equal(rump_fiber_run(), 0);
	assert_int_equal(timeout_err, EAGAIN);
	if (timeout_ns < 49000000u)
		fprintf(stderr, "timed out after %llu ns\n",
		    (unsigned long long)timeout_ns);
	assert_true(timeout_ns >= 49000000u);	/* a tick (1 ms) early at most */
	assert_true(timeout_ns < 5000000000u);
	/* the other fiber ran while the reader slept */
	assert_true(spinner_rounds >= 10);
	th_kernel_destroy(fk);
}

static void
nop(void *arg)
{
	(*(int *)arg)++;
}

static void
test_spawn_errors(void **state)
{
	int ran = 0;

	(void)state;
	fk = th_kernel(pkt_mode(), RUMP_CLOCK_REAL, 1);
	assert_int_equal(rump_fiber_spawn(NULL, nop, &ran, 0), EINVAL);
	assert_int_equal(rump_fiber_spawn(fk, NULL, &ran, 0), EINVAL);
	assert_int_equal(rump_fiber_spawn(fk, nop, &ran, 1u << 30), EINVAL);
	assert_int_equal(rump_fiber_spawn(fk, nop, &ran, 0), 0);
	/* a fiber is bound to the instance: it cannot go away yet */
	assert_int_equal(rump_kernel_destroy(fk), EBUSY);
	assert_int_equal(ran, 0);
	assert_int_equal(rump_fiber_run(), 0);
	assert_int_equal(ran, 1);
	assert_int_equal(rump_fiber_run(), 0);	/* nothing left: at once */
	th_kernel_destroy(fk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spawn_errors),
		cmocka_unit_test(test_many_udp_readers),
		cmocka_unit_test(test_woken_from_another_thread),
		cmocka_unit_test(test_tcp_echo_fibers),
		cmocka_unit_test(test_timeout_in_fiber),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
