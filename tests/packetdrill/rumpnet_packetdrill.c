/*
 * rumpnet_packetdrill.c -- librumpnet-packetdrill.so, the object
 * packetdrill loads with --so_filename to test rumpnet's TCP with its
 * scripts (packetdrill_if.h describes the table).
 *
 * One rumpnet instance with one interface, bus0, on an in-memory bus
 * (rumpnet/bus.h).  A tap on the bus plays the remote host: netdev_send()
 * puts packetdrill's packet behind an Ethernet header and sends it from
 * the tap, then waits for the bus to settle, so the stack has processed
 * it when the call returns; what the stack sends to the remote's MAC
 * lands on the tap and is queued, stamped with the instance's clock, for
 * netdev_receive().  The instance has the local address (a /16, as
 * packetdrill's own tun device), an on-link host route to the remote and
 * a static ARP entry for it, so no ARP crosses the bus.
 *
 * Clocks (so_flags clock=virtual|real):
 *   virtual (default)  the instance runs on a virtual clock that only the
 *       shim moves: usleep() moves it (a millisecond, the callout
 *       granularity, at a time, collecting what timers send at each
 *       step), gettimeofday() moves it a microsecond per call (packetdrill
 *       spins on gettimeofday for the last 20 us before an event), and
 *       netdev_receive() moves it while it waits for the stack to send.
 *       Runs are repeatable and take no real time for timers of minutes.
 *   real  the host's monotonic clock; a thread drains the tap and stamps
 *       what arrives.  Times then carry the host's scheduling noise.
 *
 * Calls come from packetdrill's main thread and from the thread it runs
 * blocking system calls on; each call binds its host thread to the
 * instance for its duration (rump_thread_bind()), so free() can destroy
 * the instance with no thread left bound.
 *
 * so_flags: space- or comma-separated key=value pairs:
 *   local=192.168.0.1   the stack's address (packetdrill's --local_ip)
 *   remote=192.0.2.1    the remote host (packetdrill's --remote_ip)
 *   plen=16             prefix length of local
 *   mtu=1500            the interface's MTU (packetdrill's --mtu)
 *   clock=virtual|real
 *   softint=inline|threads
 *   wait=300            seconds of the stack's clock netdev_receive()
 *                       waits for a packet before failing the script
 *   pcap=PATH           capture the bus to PATH
 *   verbose=1           say on stderr what the shim does
 */
#define _GNU_SOURCE	/* loff_t, struct timezone */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "packetdrill_if.h"
#include "rumpnet/bus.h"
#include "rumpnet/event.h"
#include "rumpnet/kernel.h"
#include "rumpnet/net.h"
#include "rumpnet/socket.h"

#define PD_EXPORT __attribute__((visibility("default")))

#define PD_ETHER_HLEN 14
#define PD_FRAME_MAX (PD_ETHER_HLEN + 65535)
#define PD_TICK_NS 1000000u		/* the callout wheel's tick */
#define PD_RECV_SLICE_NS 100000000u	/* netdev_receive()'s one wait */
#define PD_QUIESCE_MS 5000
#define PD_MAXFD 4096			/* FD_MAX of sys/filedesc.h */

static const uint8_t pd_stack_mac[6] = { 0x02, 0, 0, 0, 0x0d, 0x01 };
static const uint8_t pd_remote_mac[6] = { 0x02, 0, 0, 0, 0x0d, 0x02 };

/* One packet the stack sent, IP header first. */
struct pd_pkt {
	struct pd_pkt *next;
	long long time_us;
	size_t len;
	uint8_t data[];
};

struct pd_config {
	uint32_t local, remote;		/* network order */
	unsigned plen, mtu;
	bool virtual_clock;
	enum rump_softint_mode softint;
	unsigned wait_s;
	char pcap[256];
	bool verbose;
};

struct pd {
	struct pd_config cfg;
	struct rump_kernel *k;
	struct rump_bus *bus;
	struct rump_bus_tap *tap;
	unsigned ifx;
	long long epoch_us;		/* host realtime when k started */

	/* packets the stack sent, oldest first */
	pthread_mutex_t q_mtx;
	pthread_cond_t q_cv;
	struct pd_pkt *q_head, **q_tail;
	uint64_t idle_ns;		/* netdev_receive() waited in a row */

	/* real clock: the thread draining the tap */
	pthread_t rx_thread;
	bool rx_running;
	bool rx_stop;			/* [q_mtx] */

	uint8_t frame[PD_FRAME_MAX];	/* netdev_send()'s, [main thread] */
};

/* The thread's binding while a call of the table runs. */
static __thread bool pd_bound;

static void
pd_log(const struct pd *pd, const char *fmt, ...)
{
	va_list ap;

	if (!pd->cfg.verbose)
		return;
	fputs("rumpnet-packetdrill: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- binding the calling thread ---- */

/*
 * pd_enter: bind the calling thread to the instance unless a call of ours
 * already did; returns whether this call bound it (for pd_leave()).
 */
static bool
pd_enter(struct pd *pd)
{
	if (pd_bound)
		return false;
	if (rump_thread_bind(pd->k) != 0)
		return false;
	pd_bound = true;
	return true;
}

/* pd_leave: undo pd_enter(), keeping errno for the caller. */
static void
pd_leave(bool bound)
{
	int e = errno;

	if (bound) {
		(void)rump_thread_unbind();
		pd_bound = false;
	}
	errno = e;
}

/* ---- packets from the stack ---- */

static long long
pd_now_us(struct pd *pd)
{
	return pd->epoch_us + (long long)(rump_clock_now(pd->k) / 1000u);
}

/*
 * pd_enqueue: keep frame f of len bytes for netdev_receive() if it is an
 * IP packet, stamped now; ARP and anything else is no business of the
 * scripts.
 */
static void
pd_enqueue(struct pd *pd, const uint8_t *f, size_t len)
{
	struct pd_pkt *p;
	uint16_t type;

	if (len < PD_ETHER_HLEN + 20)
		return;
	type = (uint16_t)(f[12] << 8 | f[13]);
	if (type != 0x0800 && type != 0x86dd)
		return;
	p = malloc(sizeof(*p) + len - PD_ETHER_HLEN);
	if (p == NULL)
		return;
	p->next = NULL;
	p->time_us = pd_now_us(pd);
	p->len = len - PD_ETHER_HLEN;
	memcpy(p->data, f + PD_ETHER_HLEN, p->len);
	pthread_mutex_lock(&pd->q_mtx);
	*pd->q_tail = p;
	pd->q_tail = &p->next;
	pthread_cond_broadcast(&pd->q_cv);
	pthread_mutex_unlock(&pd->q_mtx);
}

/* pd_drain: queue every frame waiting on the tap, without waiting. */
static void
pd_drain(struct pd *pd)
{
	static __thread uint8_t f[PD_FRAME_MAX];
	size_t len;

	while (rump_bus_tap_recv(pd->tap, f, sizeof(f), &len, 0) == 0)
		pd_enqueue(pd, f, len < sizeof(f) ? len : sizeof(f));
}

/* pd_rx_main: the real clock's receiver: stamp frames as they arrive. */
static void *
pd_rx_main(void *arg)
{
	static __thread uint8_t f[PD_FRAME_MAX];
	struct pd *pd = arg;
	size_t len;

	for (;;) {
		bool stop;

		pthread_mutex_lock(&pd->q_mtx);
		stop = pd->rx_stop;
		pthread_mutex_unlock(&pd->q_mtx);
		if (stop)
			return NULL;
		if (rump_bus_tap_recv(pd->tap, f, sizeof(f), &len, 10) == 0)
			pd_enqueue(pd, f, len < sizeof(f) ? len : sizeof(f));
	}
}

/*
 * pd_settle: wait until the stack has processed what it was given.  With
 * inline soft interrupts a timer's or a system call's output is on the
 * tap when the call that ran it returns, so only netdev_send() (the
 * interface's receive thread takes the frame) and the threads mode need
 * this.
 */
static void
pd_settle(struct pd *pd)
{
	if (rump_bus_quiesce(pd->bus, PD_QUIESCE_MS) != 0)
		pd_log(pd, "the bus did not settle in %u ms", PD_QUIESCE_MS);
	if (pd->cfg.virtual_clock)
		pd_drain(pd);
}

/*
 * pd_advance: move the virtual clock by ns, stopping at every tick so
 * that what a timer sends is stamped with the tick it fired at.
 */
static void
pd_advance(struct pd *pd, uint64_t ns)
{
	while (ns > 0) {
		uint64_t now = rump_clock_now(pd->k);
		uint64_t step = PD_TICK_NS - now % PD_TICK_NS;

		if (step > ns)
			step = ns;
		/* what a system call sent went out before this step */
		pd_drain(pd);
		(void)rump_clock_advance(pd->k, step);
		ns -= step;
		if (pd->cfg.softint == RUMP_SOFTINT_THREADS)
			pd_settle(pd);
		else
			pd_drain(pd);
	}
}

/* ---- so_flags ---- */

static int
pd_parse_flags(const char *flags, struct pd_config *cfg)
{
	char buf[1024], *save = NULL, *tok;

	cfg->local = inet_addr("192.168.0.1");
	cfg->remote = inet_addr("192.0.2.1");
	cfg->plen = 16;
	cfg->mtu = 1500;
	cfg->virtual_clock = true;
	cfg->softint = RUMP_SOFTINT_INLINE;
	cfg->wait_s = 300;
	cfg->pcap[0] = '\0';
	cfg->verbose = false;
	if (flags == NULL)
		return 0;
	if (strlen(flags) >= sizeof(buf))
		return EINVAL;
	strcpy(buf, flags);
	for (tok = strtok_r(buf, " ,", &save); tok != NULL;
	    tok = strtok_r(NULL, " ,", &save)) {
		char *val = strchr(tok, '=');
		struct in_addr a;

		if (val == NULL)
			return EINVAL;
		*val++ = '\0';
		if (strcmp(tok, "local") == 0 || strcmp(tok, "remote") == 0) {
			if (inet_pton(AF_INET, val, &a) != 1)
				return EINVAL;
			*(tok[0] == 'l' ? &cfg->local : &cfg->remote) =
			    a.s_addr;
		} else if (strcmp(tok, "plen") == 0) {
			cfg->plen = (unsigned)strtoul(val, NULL, 10);
		} else if (strcmp(tok, "mtu") == 0) {
			cfg->mtu = (unsigned)strtoul(val, NULL, 10);
		} else if (strcmp(tok, "wait") == 0) {
			cfg->wait_s = (unsigned)strtoul(val, NULL, 10);
		} else if (strcmp(tok, "clock") == 0) {
			if (strcmp(val, "virtual") != 0 &&
			    strcmp(val, "real") != 0)
				return EINVAL;
			cfg->virtual_clock = strcmp(val, "virtual") == 0;
		} else if (strcmp(tok, "softint") == 0) {
			if (strcmp(val, "inline") != 0 &&
			    strcmp(val, "threads") != 0)
				return EINVAL;
			cfg->softint = strcmp(val, "inline") == 0 ?
			    RUMP_SOFTINT_INLINE : RUMP_SOFTINT_THREADS;
		} else if (strcmp(tok, "pcap") == 0) {
			if (strlen(val) >= sizeof(cfg->pcap))
				return EINVAL;
			strcpy(cfg->pcap, val);
		} else if (strcmp(tok, "verbose") == 0) {
			cfg->verbose = atoi(val) != 0;
		} else {
			return EINVAL;
		}
	}
	if (cfg->plen > 32)
		return EINVAL;
	return 0;
}

/* ---- the instance ---- */

/* pd_up: the instance, the bus, the tap and the addresses of cfg. */
static int
pd_up(struct pd *pd)
{
	struct rump_kernel_config kc;
	struct rump_bus_config bc;
	struct timespec ts;
	int error;

	rump_kernel_config_default(&kc);
	kc.clock = pd->cfg.virtual_clock ? RUMP_CLOCK_VIRTUAL : RUMP_CLOCK_REAL;
	kc.softint_mode = pd->cfg.softint;
	if ((error = rump_kernel_create(&kc, &pd->k)) != 0)
		return error;
	clock_gettime(CLOCK_REALTIME, &ts);
	pd->epoch_us = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	rump_bus_config_default(&bc);
	if (pd->cfg.pcap[0] != '\0')
		bc.pcap_path = pd->cfg.pcap;
	if ((error = rump_bus_create(&bc, &pd->bus)) != 0)
		return error;
	if ((error = rump_bus_tap_open(pd->bus, pd_remote_mac, &pd->tap)) != 0)
		return error;
	if ((error = rump_bus_attach(pd->bus, pd->k, "bus0", pd_stack_mac,
	    &pd->ifx)) != 0)
		return error;
	if ((error = rump_if_set_mtu(pd->k, pd->ifx, pd->cfg.mtu)) != 0 ||
	    (error = rump_if_up(pd->k, pd->ifx)) != 0 ||
	    (error = rump_if_addr_add(pd->k, pd->ifx, pd->cfg.local,
	    pd->cfg.plen)) != 0 ||
	    (error = rump_arp_add(pd->k, pd->ifx, pd->cfg.remote,
	    pd_remote_mac)) != 0)
		return error;
	/* the remote is off the local subnet, on the wire all the same */
	error = rump_route_add(pd->k, pd->cfg.remote, 32, 0, pd->ifx);
	if (error != 0 && error != EEXIST)
		return error;
	pd_settle(pd);
	/* the gratuitous ARP announcements are no business of the scripts */
	pd_drain(pd);
	pthread_mutex_lock(&pd->q_mtx);
	while (pd->q_head != NULL) {
		struct pd_pkt *p = pd->q_head;

		pd->q_head = p->next;
		free(p);
	}
	pd->q_tail = &pd->q_head;
	pthread_mutex_unlock(&pd->q_mtx);
	if (!pd->cfg.virtual_clock) {
		if ((error = pthread_create(&pd->rx_thread, NULL, pd_rx_main,
		    pd)) != 0)
			return error;
		pd->rx_running = true;
	}
	return 0;
}

/* pd_down: undo pd_up(), whatever part of it was done. */
static void
pd_down(struct pd *pd)
{
	if (pd->rx_running) {
		pthread_mutex_lock(&pd->q_mtx);
		pd->rx_stop = true;
		pthread_mutex_unlock(&pd->q_mtx);
		pthread_join(pd->rx_thread, NULL);
		pd->rx_running = false;
	}
	if (pd->tap != NULL)
		rump_bus_tap_close(pd->tap);
	if (pd->k != NULL) {
		int error = rump_kernel_destroy(pd->k);

		if (error != 0)
			fprintf(stderr, "rumpnet-packetdrill: instance not "
			    "destroyed: %s\n", strerror(error));
	}
	if (pd->bus != NULL)
		(void)rump_bus_destroy(pd->bus);
	while (pd->q_head != NULL) {
		struct pd_pkt *p = pd->q_head;

		pd->q_head = p->next;
		free(p);
	}
	pthread_mutex_destroy(&pd->q_mtx);
	pthread_cond_destroy(&pd->q_cv);
	free(pd);
}

/*
 * rumpnet_packetdrill_settle: run until the instance holds no pool object
 * or max_ms of its clock went by; returns the objects still out.  Closes
 * nothing: the descriptors are the caller's business.
 */
PD_EXPORT unsigned long long
rumpnet_packetdrill_settle(void *userdata, unsigned max_ms)
{
	struct pd *pd = userdata;
	uint64_t leaks;

	for (unsigned waited = 0;; waited += 100) {
		pd_settle(pd);
		if ((leaks = rump_kernel_leaks(pd->k)) == 0 || waited >= max_ms)
			return leaks;
		if (pd->cfg.virtual_clock) {
			pd_advance(pd, 100 * PD_TICK_NS);
		} else {
			struct timespec ts = { 0, 100 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
}

PD_EXPORT int
rumpnet_packetdrill_stat(void *userdata, const char *name,
    unsigned long long *value)
{
	struct pd *pd = userdata;
	uint64_t v = 0;
	int error = rump_stat_get(pd->k, name, &v);

	*value = v;
	return error;
}

/*
 * pd_close_all: close every descriptor of the instance, as a process's
 * exit would.  packetdrill's teardown closes the sockets it knows of with
 * the host's close(), not the table's, and injects RSTs for their
 * connections; the instance's descriptors stay open otherwise.
 */
static void
pd_close_all(struct pd *pd)
{
	bool bound = pd_enter(pd);

	for (int fd = 0; fd < PD_MAXFD; fd++)
		(void)rump_sys_close(fd);
	pd_leave(bound);
}

/*
 * pd_free: close what is left open; on the virtual clock, let the
 * connections finish (TIME-WAIT, FINs never answered) so that a leak
 * shows; then take everything down.
 */
static void
pd_free(void *userdata)
{
	struct pd *pd = userdata;
	unsigned long long leaks;

	if (pd == NULL)
		return;
	pd_close_all(pd);
	if (pd->cfg.virtual_clock) {
		leaks = rumpnet_packetdrill_settle(pd, 15 * 60 * 1000);
		if (leaks != 0)
			fprintf(stderr, "rumpnet-packetdrill: %llu pool objects "
			    "still out after 15 minutes\n", leaks);
	}
	pd_down(pd);
}

/* ---- the socket calls ---- */


static int
pd_socket(void *ud, int domain, int type, int protocol)
{
	bool bound = pd_enter(ud);
	int r = rump_sys_socket(domain, type, protocol);

	pd_leave(bound);
	return r;
}

static int
pd_bind(void *ud, int fd, const struct sockaddr *addr, socklen_t len)
{
	bool bound = pd_enter(ud);
	int r = rump_sys_bind(fd, addr, len);

	pd_leave(bound);
	return r;
}

static int
pd_listen(void *ud, int fd, int backlog)
{
	bool bound = pd_enter(ud);
	int r = rump_sys_listen(fd, backlog);

	pd_leave(bound);
	return r;
}

static int
pd_accept(void *ud, int fd, struct sockaddr *addr, socklen_t *len)
{
	bool bound = pd_enter(ud);
	int r = rump_sys_accept(fd, addr, len);

	pd_leave(bound);
	return r;
}

static int
pd_connect(void *ud, int fd, const struct sockaddr *addr, socklen_t len)
{
	bool bound = pd_enter(ud);
	int r = rump_sys_connect(fd, addr, len);

	pd_leave(bound);
	return r;
}

static ssize_t
pd_read(void *ud, int fd, void *buf, size_t count)
{
	bool bound = pd_enter(ud);
	ssize_t r = rump_sys_read(fd, buf, count);

	pd_leave(bound);
	return r;
}

static ssize_t
pd_readv(void *ud, int fd, const struct iovec *iov, int iovcnt)
{
	bool bound = pd_enter(ud);
	ssize_t r = rump_sys_readv(fd, iov, iovcnt);

	pd_leave(bound);
	return r;
}

static ssize_t
pd_recv(void *ud, int fd, void *buf, size_t len, int flags)
{
	bool bound = pd_enter(ud);
	ssize_t r = rump_sys_recv(fd, buf, len, flags);

	pd_leave(bound);
	return r;
}

static ssize_t
pd_recvfrom(void *ud, int fd, void *buf, size_t len, int flags,
    struct sockaddr *from, socklen_t *fromlen)
{
	bool bound = pd_enter(ud);
	ssize_t r = rump_sys_recvfrom(fd, buf, len, flags, from,
	    fromlen);

	pd_leave(bound);
	return r;
}

static ssize_t
pd_recvmsg(void *ud, int fd, struct msghdr *msg, int flags)
{
	bool bound = pd_enter(ud);
	ssize_t r = rump_sys_recvmsg(fd, msg, flags);

	pd_leave(bound);
	return r;
}

static ssize_t
pd_write(void *ud, int fd, const void *buf, size_t count)
{
	bool bound = pd_enter(ud);
	ssize_t r = rump_sys_write(fd, buf, count);

	pd_leave(bound);
	return r;
}

static ssize_t
pd_writev(void *ud, int fd, const struct iovec *iov, int iovcnt)
{
	bool bound = pd_enter(ud);
	ssize_t r = rump_sys_writev(fd, iov, iovcnt);

	pd_leave(bound);
	return r;
}

static ssize_t
pd_send(void *ud, int fd, const void *buf, size_t len, int flags)
{
	bool bound = pd_enter(ud);
	ssize_t r = rump_sys_send(fd, buf, len, flags);

	pd_leave(bound);
	return r;
}

static ssize_t
pd_sendto(void *ud, int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *to, socklen_t tolen)
{
	bool bound = pd_enter(ud);
	ssize_t r = rump_sys_sendto(fd, buf, len, flags, to, tolen);

	pd_leave(bound);
	return r;
}

static ssize_t
pd_sendmsg(void *ud, int fd, const struct msghdr *msg, int flags)
{
	bool bound = pd_enter(ud);
	ssize_t r = rump_sys_sendmsg(fd, msg, flags);

	pd_leave(bound);
	return r;
}

/* fcntl: the commands rumpnet has; only the setters take an argument. */
static int
pd_fcntl(void *ud, int fd, int cmd, ...)
{
	int arg = 0, r;
	va_list ap;
	bool bound;

	if (cmd == F_SETFL || cmd == F_SETFD) {
		va_start(ap, cmd);
		arg = va_arg(ap, int);
		va_end(ap);
	}
	bound = pd_enter(ud);
	r = rump_sys_fcntl(fd, cmd, arg);
	pd_leave(bound);
	return r;
}

/* ioctl: packetdrill passes an int * or nothing. */
static int
pd_ioctl(void *ud, int fd, unsigned long request, ...)
{
	void *arg;
	va_list ap;
	bool bound;
	int r;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	bound = pd_enter(ud);
	r = rump_sys_ioctl(fd, request, arg);
	pd_leave(bound);
	return r;
}

static int
pd_close(void *ud, int fd)
{
	bool bound = pd_enter(ud);
	int r = rump_sys_close(fd);

	pd_leave(bound);
	return r;
}

static int
pd_shutdown(void *ud, int fd, int how)
{
	bool bound = pd_enter(ud);
	int r = rump_sys_shutdown(fd, how);

	pd_leave(bound);
	return r;
}

static int
pd_getsockopt(void *ud, int fd, int level, int name, void *val,
    socklen_t *len)
{
	bool bound = pd_enter(ud);
	int r = rump_sys_getsockopt(fd, level, name, val, len);

	pd_leave(bound);
	return r;
}

static int
pd_setsockopt(void *ud, int fd, int level, int name, const void *val,
    socklen_t len)
{
	bool bound = pd_enter(ud);
	int r = rump_sys_setsockopt(fd, level, name, val, len);

	pd_leave(bound);
	return r;
}

static int
pd_poll(void *ud, struct pollfd *fds, nfds_t nfds, int timeout)
{
	bool bound = pd_enter(ud);
	int r = rump_sys_poll(fds, nfds, timeout);

	pd_leave(bound);
	return r;
}

/* ---- epoll over kqueue ---- */

/*
 * An epoll descriptor is a kqueue: EPOLLIN is EVFILT_READ, EPOLLOUT
 * EVFILT_WRITE, EPOLLET EV_CLEAR, EPOLLONESHOT EV_ONESHOT; the event's
 * data rides in udata.  epoll_wait() folds the two filters of one
 * descriptor into one event; EV_EOF is EPOLLRDHUP (when asked for) on the
 * read side and EPOLLHUP when the write side has it too; a pending socket
 * error is EPOLLERR.
 */
static int
pd_epoll_create(void *ud, int size)
{
	bool bound;
	int r;

	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	bound = pd_enter(ud);
	r = rump_sys_kqueue();
	pd_leave(bound);
	return r;
}

static int
pd_kevent_ctl(int epfd, int fd, int op, const struct epoll_event *ev)
{
	struct timespec zero = { 0, 0 };
	struct kevent ch[2], out[2];
	uint16_t flags = EV_ADD | EV_RECEIPT;
	int n = 0;

	if (op == EPOLL_CTL_DEL || op == EPOLL_CTL_MOD) {
		/* a filter the descriptor did not have is no error */
		EV_SET(&ch[0], (uintptr_t)fd, EVFILT_READ, EV_DELETE |
		    EV_RECEIPT, 0, 0, NULL);
		EV_SET(&ch[1], (uintptr_t)fd, EVFILT_WRITE, EV_DELETE |
		    EV_RECEIPT, 0, 0, NULL);
		if (rump_sys_kevent(epfd, ch, 2, out, 2, &zero) < 0)
			return -1;
		if (op == EPOLL_CTL_DEL)
			return 0;
	}
	if (ev == NULL) {
		errno = EFAULT;
		return -1;
	}
	if (ev->events & EPOLLET)
		flags |= EV_CLEAR;
	if (ev->events & EPOLLONESHOT)
		flags |= EV_ONESHOT;
	if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLPRI))
		EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_READ, flags, 0, 0,
		    (void *)(uintptr_t)ev->data.u64);
	if (ev->events & EPOLLOUT)
		EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_WRITE, flags, 0, 0,
		    (void *)(uintptr_t)ev->data.u64);
	if (n > 0) {
		int r = rump_sys_kevent(epfd, ch, n, out, n, &zero);

		if (r < 0)
			return -1;
		for (int i = 0; i < r; i++)
			if ((out[i].flags & EV_ERROR) && out[i].data != 0) {
				errno = (int)out[i].data;
				return -1;
			}
	}
	return 0;
}

static int
pd_epoll_ctl(void *ud, int epfd, int op, int fd, struct epoll_event *event)
{
	bool bound;
	int r;

	if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD &&
	    op != EPOLL_CTL_DEL) {
		errno = EINVAL;
		return -1;
	}
	if (fd == epfd) {
		errno = EINVAL;
		return -1;
	}
	bound = pd_enter(ud);
	r = pd_kevent_ctl(epfd, fd, op, event);
	pd_leave(bound);
	return r;
}

static int
pd_kevent_wait(int epfd, struct epoll_event *events, int maxevents,
    int timeout)
{
	struct kevent kev[64];
	struct timespec ts, *tsp = NULL;
	int n, out = 0;

	if (maxevents <= 0) {
		errno = EINVAL;
		return -1;
	}
	if (timeout >= 0) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		tsp = &ts;
	}
	n = rump_sys_kevent(epfd, NULL, 0, kev,
	    maxevents < 64 ? maxevents : 64, tsp);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		uint32_t e = 0;
		int j;

		if (kev[i].filter == EVFILT_READ) {
			e |= EPOLLIN;
			if (kev[i].flags & EV_EOF)
				e |= EPOLLRDHUP;
		} else if (kev[i].filter == EVFILT_WRITE) {
			e |= EPOLLOUT;
			if (kev[i].flags & EV_EOF)
				e |= EPOLLHUP;
		}
		if (kev[i].fflags != 0)
			e |= EPOLLERR;
		for (j = 0; j < out; j++)
			if (events[j].data.u64 == (uint64_t)(uintptr_t)
			    kev[i].udata)
				break;
		if (j == out) {
			events[out].events = 0;
			events[out].data.u64 = (uint64_t)(uintptr_t)
			    kev[i].udata;
			out++;
		}
		events[j].events |= e;
	}
	return out;
}

static int
pd_epoll_wait(void *ud, int epfd, struct epoll_event *events, int maxevents,
    int timeout)
{
	bool bound = pd_enter(ud);
	int r = pd_kevent_wait(epfd, events, maxevents, timeout);

	pd_leave(bound);
	return r;
}

static int
pd_pipe(void *ud, int pipefd[2])
{
	(void)ud;
	(void)pipefd;
	errno = ENOSYS;
	return -1;
}

static int
pd_splice(void *ud, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out,
    size_t len, unsigned int flags)
{
	(void)ud;
	(void)fd_in;
	(void)off_in;
	(void)fd_out;
	(void)off_out;
	(void)len;
	(void)flags;
	errno = ENOSYS;
	return -1;
}

/* ---- packets and time ---- */

static int
pd_netdev_send(void *ud, const void *buf, size_t count)
{
	struct pd *pd = ud;
	const uint8_t *ipp = buf;
	uint16_t type;
	int error;

	if (count < 1 || count > PD_FRAME_MAX - PD_ETHER_HLEN) {
		errno = EINVAL;
		return -1;
	}
	type = (ipp[0] >> 4) == 6 ? 0x86dd : 0x0800;
	memcpy(pd->frame, pd_stack_mac, 6);
	memcpy(pd->frame + 6, pd_remote_mac, 6);
	pd->frame[12] = (uint8_t)(type >> 8);
	pd->frame[13] = (uint8_t)type;
	memcpy(pd->frame + PD_ETHER_HLEN, buf, count);
	if ((error = rump_bus_tap_send(pd->tap, pd->frame,
	    PD_ETHER_HLEN + count)) != 0) {
		errno = error;
		return -1;
	}
	pd_settle(pd);
	return 0;
}

/* pd_pop: the oldest packet queued, or NULL. */
static struct pd_pkt *
pd_pop(struct pd *pd)
{
	struct pd_pkt *p;

	pthread_mutex_lock(&pd->q_mtx);
	if ((p = pd->q_head) != NULL) {
		pd->q_head = p->next;
		if (pd->q_head == NULL)
			pd->q_tail = &pd->q_head;
	}
	pthread_mutex_unlock(&pd->q_mtx);
	return p;
}

/*
 * pd_wait: wait up to PD_RECV_SLICE_NS for a packet: on the virtual
 * clock by moving it, on the real one on the queue's condition variable.
 */
static struct pd_pkt *
pd_wait(struct pd *pd)
{
	struct pd_pkt *p;
	uint64_t waited;

	if (pd->cfg.virtual_clock) {
		for (waited = 0; waited < PD_RECV_SLICE_NS;
		    waited += PD_TICK_NS) {
			if ((p = pd_pop(pd)) != NULL)
				return p;
			pd_advance(pd, PD_TICK_NS);
		}
		return pd_pop(pd);
	}
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += PD_RECV_SLICE_NS;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&pd->q_mtx);
		while (pd->q_head == NULL &&
		    pthread_cond_timedwait(&pd->q_cv, &pd->q_mtx, &ts) == 0)
			continue;
		pthread_mutex_unlock(&pd->q_mtx);
	}
	return pd_pop(pd);
}

static int
pd_netdev_receive(void *ud, void *buf, size_t *count, long long *time_usecs)
{
	struct pd *pd = ud;
	struct pd_pkt *p;

	if (pd->cfg.virtual_clock)
		pd_drain(pd);
	if ((p = pd_pop(pd)) == NULL && (p = pd_wait(pd)) == NULL) {
		pd->idle_ns += PD_RECV_SLICE_NS;
		if (pd->idle_ns < (uint64_t)pd->cfg.wait_s * 1000000000u)
			return -1;	/* packetdrill asks again */
		/* an empty packet makes packetdrill fail the script */
		fprintf(stderr, "rumpnet-packetdrill: the stack sent nothing "
		    "for %u s\n", pd->cfg.wait_s);
		pd->idle_ns = 0;
		*count = 0;
		*time_usecs = pd_now_us(pd);
		return 0;
	}
	pd->idle_ns = 0;
	if (p->len > *count) {
		pd_log(pd, "packet of %zu bytes cut to %zu", p->len, *count);
	} else {
		*count = p->len;
	}
	memcpy(buf, p->data, *count);
	*time_usecs = p->time_us;
	free(p);
	return 0;
}

static int
pd_usleep(void *ud, useconds_t usec)
{
	struct pd *pd = ud;

	if (pd->cfg.virtual_clock) {
		pd_advance(pd, (uint64_t)usec * 1000u);
		return 0;
	}
	return usleep(usec);
}

static int
pd_gettimeofday(void *ud, struct timeval *tv, struct timezone *tz)
{
	struct pd *pd = ud;
	long long us;

	(void)tz;
	/* packetdrill spins on this call for the last microseconds */
	if (pd->cfg.virtual_clock)
		pd_advance(pd, 1000);
	us = pd_now_us(pd);
	tv->tv_sec = (time_t)(us / 1000000);
	tv->tv_usec = (suseconds_t)(us % 1000000);
	return 0;
}

/* ---- the entry point ---- */

/*
 * packetdrill_interface_init: start the instance flags describe and fill
 * ifc.  On a bad flag or a failure to start, says why on stderr and
 * exits: packetdrill has no way to hear of an error here.
 */
PD_EXPORT void
packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
	struct pd *pd;
	int error;

	if ((pd = calloc(1, sizeof(*pd))) == NULL) {
		fprintf(stderr, "rumpnet-packetdrill: out of memory\n");
		exit(EXIT_FAILURE);
	}
	if (pd_parse_flags(flags, &pd->cfg) != 0) {
		fprintf(stderr, "rumpnet-packetdrill: bad --so_flags \"%s\" "
		    "(keys: local remote plen mtu clock softint wait pcap "
		    "verbose)\n", flags);
		exit(EXIT_FAILURE);
	}
	pthread_mutex_init(&pd->q_mtx, NULL);
	pthread_cond_init(&pd->q_cv, NULL);
	pd->q_tail = &pd->q_head;
	if ((error = pd_up(pd)) != 0) {
		fprintf(stderr, "rumpnet-packetdrill: cannot start the "
		    "instance: %s\n", strerror(error));
		exit(EXIT_FAILURE);
	}
	pd_log(pd, "%s clock, MTU %u", pd->cfg.virtual_clock ? "virtual" :
	    "real", pd->cfg.mtu);

	memset(ifc, 0, sizeof(*ifc));
	ifc->userdata = pd;
	ifc->free = pd_free;
	ifc->socket = pd_socket;
	ifc->bind = pd_bind;
	ifc->listen = pd_listen;
	ifc->accept = pd_accept;
	ifc->connect = pd_connect;
	ifc->read = pd_read;
	ifc->readv = pd_readv;
	ifc->recv = pd_recv;
	ifc->recvfrom = pd_recvfrom;
	ifc->recvmsg = pd_recvmsg;
	ifc->write = pd_write;
	ifc->writev = pd_writev;
	ifc->send = pd_send;
	ifc->sendto = pd_sendto;
	ifc->sendmsg = pd_sendmsg;
	ifc->fcntl = pd_fcntl;
	ifc->ioctl = pd_ioctl;
	ifc->close = pd_close;
	ifc->shutdown = pd_shutdown;
	ifc->getsockopt = pd_getsockopt;
	ifc->setsockopt = pd_setsockopt;
	ifc->poll = pd_poll;
	ifc->netdev_send = pd_netdev_send;
	ifc->netdev_receive = pd_netdev_receive;
	ifc->usleep = pd_usleep;
	ifc->gettimeofday = pd_gettimeofday;
	ifc->epoll_create = pd_epoll_create;
	ifc->epoll_ctl = pd_epoll_ctl;
	ifc->epoll_wait = pd_epoll_wait;
	ifc->pipe = pd_pipe;
	ifc->splice = pd_splice;
}
