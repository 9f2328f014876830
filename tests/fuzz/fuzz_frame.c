/*
 * fuzz_frame.c -- one frame into a fresh instance: Ethernet, ARP, IPv4
 * with its options and fragments, ICMP, UDP, TCP and the protocols only
 * raw sockets take.  (bus -> ether_input() -> arp_input() / ip_input() ->
 * icmp_input() / igmp_input() / udp_input() / tcp_input() / rip_input())
 *
 * The instance has a socket for every protocol to deliver to: a TCP
 * listener on port 80, a UDP socket on port 7 in group 239.1.2.3 (IGMP
 * queries and reports have a group to be about), raw sockets for ICMP and
 * for every protocol, so the frame reaches the socket layer when it is
 * well formed.
 *
 * Input: one control byte, then the frame as it is on the wire (from the
 * destination MAC on).
 *   bit 0  keep the checksums as given (otherwise the IPv4 header's and,
 *          for an unfragmented datagram, the TCP/UDP/ICMP checksum are
 *          made correct first, so that the normal build checks them and
 *          still sees the rest of the frame)
 *   bit 1  the instance forwards IPv4 (RFC 1812) instead of dropping
 *          datagrams for others
 *   bit 2  the clock then moves 1 s, then 60 s (timers the frame set)
 */
#define _DEFAULT_SOURCE	/* struct ip_mreq */
#include "fuzz.h"

#define FF_KEEP_CKSUM 0x01
#define FF_FORWARD 0x02
#define FF_TIMERS 0x04

/* Make the checksums of an IPv4 frame correct, as far as its lengths go. */
static void
fix_cksums(uint8_t *f, size_t len)
{
	uint8_t *ip = f + 14;
	size_t hlen, totlen;

	if (len < 14 + 20 || fz_get16(f + 12) != 0x0800)
		return;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (hlen < 20 || 14 + hlen > len)
		return;
	fz_ip_cksum(ip, hlen);
	totlen = fz_get16(ip + 2);
	if (totlen < hlen || 14 + totlen > len)
		return;
	if ((fz_get16(ip + 6) & 0x3fff) != 0)
		return;			/* a fragment: the sum spans them all */
	if (ip[9] == 17 && totlen - hlen >= 8) {
		size_t ulen = fz_get16(ip + hlen + 4);

		/* UDP: a zero sum means none; the length field rules */
		if (fz_get16(ip + hlen + 6) == 0 || ulen < 8 ||
		    ulen > totlen - hlen)
			return;
		fz_l4_cksum(ip, ip + hlen, ulen);
		fz_ip_cksum(ip, hlen);
		return;
	}
	fz_l4_cksum(ip, ip + hlen, totlen - hlen);
}

static void
open_sockets(struct fz_env *e)
{
	struct sockaddr_in a;
	struct ip_mreq mr;
	int fd;

	fd = rump_sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	fz_check(fd >= 0 && fz_keep(e, fd));
	a = fz_sa(FZ_STACK_ADDR, 80);
	fz_check(rump_sys_bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	fz_check(rump_sys_listen(fd, 4) == 0);

	fd = rump_sys_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	fz_check(fd >= 0 && fz_keep(e, fd));
	a = fz_sa("0.0.0.0", 7);
	fz_check(rump_sys_bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	mr.imr_multiaddr.s_addr = inet_addr("239.1.2.3");
	mr.imr_interface.s_addr = inet_addr(FZ_STACK_ADDR);
	fz_check(rump_sys_setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
	    sizeof(mr)) == 0);

	fd = rump_sys_socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMP);
	fz_check(fd >= 0 && fz_keep(e, fd));
	fd = rump_sys_socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, 0);
	fz_check(fd >= 0 && fz_keep(e, fd));
}

/* Read what reached the sockets, so the receive paths run to the end. */
static void
read_sockets(struct fz_env *e)
{
	static uint8_t buf[70000];
	struct sockaddr_in from;

	for (int i = 0; i < FZ_MAXFD; i++) {
		int fd = e->fds[i], c;
		socklen_t fl = sizeof(from);

		if (fd < 0)
			continue;
		c = rump_sys_accept4(fd, (struct sockaddr *)&from, &fl,
		    SOCK_NONBLOCK);
		if (c >= 0)
			fz_check(fz_keep(e, c));
		while (rump_sys_recvfrom(fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &fl) >= 0)
			fl = sizeof(from);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t f[FZ_FRAME_MAX];
	struct fz_env e;
	uint8_t ctl;
	size_t len;

	if (size < 1 || size - 1 > sizeof(f))
		return -1;		/* not kept in the corpus */
	ctl = data[0];
	len = size - 1;
	memcpy(f, data + 1, len);
	if (!(ctl & FF_KEEP_CKSUM))
		fix_cksums(f, len);

	fz_up(&e);
	open_sockets(&e);
	if (ctl & FF_FORWARD)
		fz_check(rump_ip_forwarding(e.k, 1) == 0);
	fz_send(&e, f, len);
	read_sockets(&e);
	if (ctl & FF_TIMERS) {
		fz_advance(&e, 1000);
		fz_advance(&e, 60000);
		read_sockets(&e);
	}
	fz_drain(&e);
	fz_down(&e);
	return 0;
}
