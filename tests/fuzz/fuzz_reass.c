/*
 * fuzz_reass.c -- IPv4 reassembly: sequences of fragments of two
 * datagrams (a UDP datagram to a bound socket and a datagram of a
 * protocol only a raw socket takes), overlapping, duplicated, tiny, past
 * 65535, with clock steps between them.  (ip_input() -> ip_reass() ->
 * ip_reass_timeout(); udp_input(), rip_input() with what comes out)
 *
 * The datagrams are built whole first, with correct checksums, and each
 * fragment carries the datagram's own bytes at its offset unless the
 * input asks for other bytes.  Oracle: a datagram that the UDP socket
 * receives must be the one that was sent, byte for byte, when every
 * fragment of that id carried the datagram's own bytes.
 *
 * Input: the UDP payload length (2 bytes, up to 8000), then records of
 *   op(1): bit 0 which datagram, bit 1 MF, bit 2 DF, bit 3 the bytes are
 *     0x5a instead of the datagram's, bit 4 advance the clock by the
 *     offset field's low byte in seconds instead, bit 5 IP options (a
 *     4-byte NOP/EOL pad) in the fragment's header
 *   offset(2): in 8-byte units (13 bits; the top bits are MF/DF noise)
 *   length(2): bytes of data, up to 1480
 */
#include "fuzz.h"

#define FR_UPORT 7
#define FR_RAWPROTO 253		/* RFC 3692 experimental */
#define FR_MAXPAY 8000
#define FR_MAXREC 256
#define FR_DGMAX (FR_MAXPAY + 8 + 8)

struct fr_dgram {
	uint8_t proto;
	uint16_t id;
	size_t len;		/* bytes after the IPv4 header */
	uint8_t data[FR_DGMAX];
	bool faithful;		/* every fragment carried its own bytes */
};

static void
fr_build(struct fr_dgram *d, uint8_t proto, uint16_t id, size_t paylen)
{
	uint8_t ip[20];

	d->proto = proto;
	d->id = id;
	d->faithful = true;
	for (size_t i = 0; i < paylen + 8; i++)
		d->data[i] = (uint8_t)(i * 13 + id);
	d->len = paylen + 8;
	if (proto == 17) {
		fz_put16(d->data, 5000);
		fz_put16(d->data + 2, FR_UPORT);
		fz_put16(d->data + 4, (uint16_t)d->len);
		(void)fz_ipv4(ip, (uint16_t)(20 + d->len), id, 0, 17);
		fz_l4_cksum(ip, d->data, d->len);
	}
}

static void
fr_fragment(struct fz_env *e, struct fr_dgram *d, uint8_t op, uint16_t offf,
    size_t len)
{
	static uint8_t f[FZ_FRAME_MAX];
	size_t off = (size_t)(offf & 0x1fff) * 8, hlen = (op & 0x20) ? 24 : 20;
	uint16_t fld = offf & 0x1fff;
	size_t n;
	uint8_t *ip;

	if (op & 0x02)
		fld |= 0x2000;
	if (op & 0x04)
		fld |= 0x4000;
	n = fz_eth(f, 0x0800);
	ip = f + n;
	(void)fz_ipv4(ip, (uint16_t)(hlen + len), d->id, fld, d->proto);
	if (hlen == 24) {
		ip[0] = 0x46;
		ip[20] = ip[21] = ip[22] = 1;	/* NOP NOP NOP EOL */
		ip[23] = 0;
		fz_ip_cksum(ip, hlen);
	}
	for (size_t i = 0; i < len; i++) {
		bool own = !(op & 0x08) && off + i < d->len;

		ip[hlen + i] = own ? d->data[off + i] : 0x5a;
		if (!own)
			d->faithful = false;
	}
	fz_send(e, f, n + hlen + len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fr_dgram dg[2];
	static uint8_t buf[70000];
	struct fz_in in = { data, size };
	struct sockaddr_in a;
	struct fz_env e;
	int ufd, rfd, nrec = 0;
	ssize_t got;

	if (size < 2)
		return -1;
	fr_build(&dg[0], 17, 0x1234, fz_u16(&in) % (FR_MAXPAY + 1));
	fr_build(&dg[1], FR_RAWPROTO, 0x1235, 1000);
	fz_up(&e);
	ufd = rump_sys_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	fz_check(ufd >= 0 && fz_keep(&e, ufd));
	a = fz_sa("0.0.0.0", FR_UPORT);
	fz_check(rump_sys_bind(ufd, (struct sockaddr *)&a, sizeof(a)) == 0);
	rfd = rump_sys_socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, FR_RAWPROTO);
	fz_check(rfd >= 0 && fz_keep(&e, rfd));

	while (fz_more(&in) && nrec++ < FR_MAXREC) {
		uint8_t op = fz_u8(&in);
		uint16_t offf = fz_u16(&in);
		size_t len = fz_u16(&in) % 1481;

		if (op & 0x10) {
			fz_advance(&e, (uint64_t)(offf & 0xff) * 1000);
			continue;
		}
		fr_fragment(&e, &dg[op & 1], op, offf, len);
		while ((got = rump_sys_recv(ufd, buf, sizeof(buf), 0)) >= 0) {
			if (!dg[0].faithful)
				continue;
			if ((size_t)got != dg[0].len - 8 ||
			    memcmp(buf, dg[0].data + 8, (size_t)got) != 0)
				fz_fail("UDP received %zd bytes that are not "
				    "the %zu sent", got, dg[0].len - 8);
		}
		while (rump_sys_recv(rfd, buf, sizeof(buf), 0) >= 0)
			;
	}
	fz_drain(&e);
	fz_down(&e);
	return 0;
}
