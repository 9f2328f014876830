/*
 * fuzz_api.c -- sequences of socket calls with arguments from the input:
 * every rump_sys_*() of rumpnet/socket.h and rumpnet/event.h on up to 16
 * descriptors, with TCP and UDP traffic among them over the loopback
 * path (127.0.0.1, the instance's own address), to a peer that never
 * answers (198.18.0.2, the tap), to broadcast and multicast addresses,
 * and clock steps between calls.  (sys_socket.c -> uipc_socket.c ->
 * tcp_usrreq.c / udp_usrreq.c / raw_ip.c, kern_event.c)
 *
 * Every call must return, so every descriptor is non-blocking: sockets are
 * made with SOCK_NONBLOCK, accept4() asks for it, F_SETFL and FIONBIO
 * cannot clear it, poll() and kevent() do not wait.  Buffers passed are
 * the target's own and at least as long as the length passed; the
 * lengths and every other argument are the input's.
 *
 * Input: records of an op byte (the call, op % 24) and its arguments.
 */
#define _DEFAULT_SOURCE	/* <netinet/tcp.h>: TH_*, TCPOPT_* */
#define _GNU_SOURCE	/* struct mmsghdr */
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include "fuzz.h"
#include "rumpnet/event.h"

#define FA_NFD 16
#define FA_MAXREC 200
#define FA_BUF 70000

static uint8_t fa_buf[FA_BUF];
static uint8_t fa_out[FA_BUF];

/* A descriptor: one of the first FA_NFD, or -1 and 1000 now and then. */
static int
fa_fd(struct fz_in *in)
{
	uint8_t v = fz_u8(in);

	if (v == 0xff)
		return -1;
	if (v == 0xfe)
		return 1000;
	return v % FA_NFD;
}

/* An address: one of a handful that mean something here, or any. */
static socklen_t
fa_addr(struct fz_in *in, struct sockaddr_storage *ss)
{
	static const char *const addrs[] = { "127.0.0.1", FZ_STACK_ADDR,
	    FZ_PEER_ADDR, "0.0.0.0", "198.18.0.255", "255.255.255.255",
	    "224.0.0.1", "198.18.0.9" };
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	uint8_t sel = fz_u8(in);
	uint16_t port = fz_u16(in);
	socklen_t len = sizeof(*sin);

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port % 8 == 0 ? port : 5000 + port % 8);
	if (sel & 0x80)
		sin->sin_addr.s_addr = htonl(fz_u32(in));
	else
		sin->sin_addr.s_addr = inet_addr(addrs[sel % 8]);
	if (sel & 0x40)
		sin->sin_family = (sa_family_t)fz_u8(in);
	if (sel & 0x20)
		len = fz_u8(in) % (sizeof(*ss) + 1);
	return len;
}

static void
fa_keep(struct fz_env *e, int fd)
{
	if (fd >= 0 && !fz_keep(e, fd))
		fz_check(rump_sys_close(fd) == 0);	/* no room to keep it */
}

static void
fa_close(struct fz_env *e, int fd)
{
	if (rump_sys_close(fd) == 0)
		fz_forget(e, fd);
}

static void
fa_sockopt(struct fz_in *in, int fd, bool set)
{
	static const int levels[] = { SOL_SOCKET, IPPROTO_IP, IPPROTO_TCP,
	    IPPROTO_UDP };
	uint8_t sel = fz_u8(in), val[64];
	int level = (sel & 0x80) ? (int)fz_u16(in) : levels[sel % 4];
	int name = fz_u8(in);
	socklen_t len = fz_u8(in) % (sizeof(val) + 1);

	fz_bytes(in, val, sizeof(val));
	if (set) {
		(void)rump_sys_setsockopt(fd, level, name, val, len);
	} else {
		(void)rump_sys_getsockopt(fd, level, name, val, &len);
		fz_check(len <= sizeof(val));
	}
}

static void
fa_kevent(struct fz_in *in, int kq)
{
	struct kevent ch[4], ev[8];
	struct timespec ts = { 0, 0 };
	int nch = fz_u8(in) % 5, nev = fz_u8(in) % 9;

	for (int i = 0; i < nch; i++) {
		int16_t filter = (fz_u8(in) & 1) ? EVFILT_READ : EVFILT_WRITE;

		EV_SET(&ch[i], (uintptr_t)fa_fd(in), filter, fz_u16(in),
		    fz_u32(in), (int64_t)fz_u16(in), NULL);
	}
	(void)rump_sys_kevent(kq, ch, nch, ev, nev, &ts);
}

static void
fa_msg(struct fz_in *in, int fd, bool send)
{
	struct sockaddr_storage ss;
	struct iovec iov[3];
	struct msghdr mh;
	uint8_t ctl[64];
	int flags = (int)fz_u32(in);
	size_t at = 0;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iovlen = fz_u8(in) % 4;
	for (size_t i = 0; i < mh.msg_iovlen; i++) {
		iov[i].iov_base = (send ? fa_out : fa_buf) + at;
		iov[i].iov_len = fz_u16(in) % 20000;
		at += iov[i].iov_len;
	}
	mh.msg_iov = mh.msg_iovlen ? iov : NULL;
	if (fz_u8(in) & 1) {
		mh.msg_namelen = fa_addr(in, &ss);
		mh.msg_name = &ss;
	}
	if (fz_u8(in) & 1) {
		fz_bytes(in, ctl, 16);
		mh.msg_control = ctl;
		mh.msg_controllen = fz_u8(in) % (sizeof(ctl) + 1);
	}
	if (fz_u8(in) & 1) {
		/* the same message up to twice, sendmmsg()/recvmmsg() */
		struct mmsghdr mv[2] = { { mh, 0 }, { mh, 0 } };
		struct timespec ts;
		unsigned vlen;

		ts.tv_sec = (long)fz_u8(in) - 1;
		ts.tv_nsec = (long)fz_u32(in);
		vlen = fz_u8(in) % 3;

		if (send)
			(void)rump_sys_sendmmsg(fd, mv, vlen,
			    flags | MSG_NOSIGNAL);
		else
			(void)rump_sys_recvmmsg(fd, mv, vlen, flags,
			    (fz_u8(in) & 1) ? &ts : NULL);
	} else if (send) {
		(void)rump_sys_sendmsg(fd, &mh, flags | MSG_NOSIGNAL);
	} else {
		(void)rump_sys_recvmsg(fd, &mh, flags);
	}
}

static void
fa_call(struct fz_env *e, struct fz_in *in, uint8_t op)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct pollfd pfd[4];
	struct iovec iov[2];
	int fd = fa_fd(in), v, r;
	size_t n;

	switch (op % 24) {
	case 0:	{		/* socket */
		static const int types[] = { SOCK_STREAM, SOCK_DGRAM,
		    SOCK_RAW, SOCK_SEQPACKET };
		uint8_t sel = fz_u8(in);
		int domain = (sel & 0x80) ? (int)fz_u8(in) : AF_INET;
		int proto = (sel & 0x40) ? (int)fz_u16(in) - 2 : 0;

		if ((sel & 3) == 2 && !(sel & 0x40))
			proto = fz_u8(in);
		fa_keep(e, rump_sys_socket(domain, types[sel & 3] |
		    SOCK_NONBLOCK | ((sel & 4) ? SOCK_CLOEXEC : 0), proto));
		break;
	}
	case 1:
		sl = fa_addr(in, &ss);
		(void)rump_sys_bind(fd, (struct sockaddr *)&ss, sl);
		break;
	case 2:
		sl = fa_addr(in, &ss);
		(void)rump_sys_connect(fd, (struct sockaddr *)&ss, sl);
		break;
	case 3:
		(void)rump_sys_listen(fd, (int8_t)fz_u8(in));
		break;
	case 4:
		sl = fz_u8(in) % (sizeof(ss) + 1);
		r = rump_sys_accept4(fd, (fz_u8(in) & 1) ?
		    (struct sockaddr *)&ss : NULL, &sl,
		    SOCK_NONBLOCK | (int)(fz_u8(in) & 0x80 ? fz_u32(in) : 0));
		fa_keep(e, r);
		break;
	case 5:
		n = fz_u16(in);
		(void)rump_sys_send(fd, fa_out, n, (int)fz_u32(in) |
		    MSG_NOSIGNAL);
		break;
	case 6:
		n = fz_u16(in);
		sl = fa_addr(in, &ss);
		(void)rump_sys_sendto(fd, fa_out, n, (int)fz_u32(in) |
		    MSG_NOSIGNAL, (struct sockaddr *)&ss, sl);
		break;
	case 7:
		n = fz_u16(in);
		(void)rump_sys_recv(fd, fa_buf, n, (int)fz_u32(in));
		break;
	case 8:
		n = fz_u16(in);
		sl = fz_u8(in) % (sizeof(ss) + 1);
		(void)rump_sys_recvfrom(fd, fa_buf, n, (int)fz_u32(in),
		    (struct sockaddr *)&ss, &sl);
		break;
	case 9:
		fa_msg(in, fd, true);
		break;
	case 10:
		fa_msg(in, fd, false);
		break;
	case 11:
		(void)rump_sys_read(fd, fa_buf, fz_u16(in));
		break;
	case 12:
		(void)rump_sys_write(fd, fa_out, fz_u16(in));
		break;
	case 13:
		iov[0].iov_base = fa_buf;
		iov[0].iov_len = fz_u16(in) % 30000;
		iov[1].iov_base = fa_buf + 30000;
		iov[1].iov_len = fz_u16(in) % 30000;
		if (op & 0x80)
			(void)rump_sys_writev(fd, iov, (int)(fz_u8(in) % 3));
		else
			(void)rump_sys_readv(fd, iov, (int)(fz_u8(in) % 3));
		break;
	case 14:
		(void)rump_sys_shutdown(fd, (int)fz_u8(in) - 1);
		break;
	case 15:
		fa_close(e, fd);
		break;
	case 16:
		fa_sockopt(in, fd, true);
		break;
	case 17:
		fa_sockopt(in, fd, false);
		break;
	case 18:
		sl = fz_u8(in) % (sizeof(ss) + 1);
		if (op & 0x80)
			(void)rump_sys_getpeername(fd, (struct sockaddr *)&ss,
			    &sl);
		else
			(void)rump_sys_getsockname(fd, (struct sockaddr *)&ss,
			    &sl);
		break;
	case 19:
		v = (int)fz_u32(in);
		r = fz_u8(in) % 5;
		if (r == F_SETFL)
			v |= O_NONBLOCK;	/* every call must return */
		(void)rump_sys_fcntl(fd, r, v);
		break;
	case 20:
		v = (int)fz_u32(in) | 1;	/* FIONBIO can only set it */
		(void)rump_sys_ioctl(fd, (fz_u8(in) & 1) ? FIONBIO :
		    FIONREAD, &v);
		break;
	case 21:
		n = fz_u8(in) % 5;
		for (size_t i = 0; i < n; i++) {
			pfd[i].fd = fa_fd(in);
			pfd[i].events = (short)fz_u16(in);
		}
		(void)rump_sys_poll(n ? pfd : NULL, n, 0);
		break;
	case 22:
		if (op & 0x80)
			fa_keep(e, rump_sys_kqueue());
		else
			fa_kevent(in, fd);
		break;
	default:
		fz_advance(e, (uint64_t)fz_u16(in) * ((op & 0x80) ? 100 : 1));
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct fz_env e;
	int nrec = 0;

	if (fa_out[1] == 0)
		for (size_t i = 0; i < sizeof(fa_out); i++)
			fa_out[i] = (uint8_t)(i * 7 + 3);
	fz_up(&e);
	while (fz_more(&in) && nrec++ < FA_MAXREC) {
		/* loopback traffic is delivered before a call returns */
		fa_call(&e, &in, fz_u8(&in));
		fz_drain(&e);
	}
	fz_down(&e);
	return 0;
}
