/*
 * test_net.c -- packet tests of the network core: frames in, frames out,
 * over the in-memory bus, through the public API only.
 *
 * A tap on the bus plays the remote host: it sends frames built here byte
 * by byte and checks the frames the instance answers with.  Two-instance
 * tests (ping, fragmentation) use a second instance instead of the tap.
 * Every test ends with both pools of every instance back to zero.
 *
 * Needs no root, no DPDK, no network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "../unit/harness.h"
#include "pkt.h"
#include "rumpnet/bus.h"
#include "rumpnet/net.h"

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t MAC_T[6] = { 0x02, 0, 0, 0, 0, 0x7e };	/* the tap */
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define IP_A "198.18.0.1"
#define IP_B "198.18.0.2"
#define IP_T "198.18.0.126"

struct net {
	struct rump_bus *bus;
	struct rump_bus_tap *tap;
	struct rump_kernel *a, *b;
	unsigned ifa, ifb;
};

static uint64_t
stat(struct rump_kernel *k, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(rump_stat_get(k, name, &v), 0);
	return v;
}

static struct rump_kernel *
host(struct net *n, const uint8_t *mac, const char *addr, unsigned *ifindex)
{
	struct rump_kernel *k = th_kernel(pkt_mode(),
	    RUMP_CLOCK_VIRTUAL, 1);

	assert_int_equal(rump_bus_attach(n->bus, k, "bus0", mac, ifindex), 0);
	assert_int_equal(rump_if_up(k, *ifindex), 0);
	assert_int_equal(rump_if_addr_add(k, *ifindex, ip(addr), 24), 0);
	return k;
}

/* B alone with the tap; the gratuitous ARP of B's address is consumed. */
static void
setup_tap(struct net *n)
{
	uint8_t frame[128];
	size_t len;

	memset(n, 0, sizeof(*n));
	assert_int_equal(rump_bus_create(NULL, &n->bus), 0);
	assert_int_equal(rump_bus_tap_open(n->bus, MAC_T, &n->tap), 0);
	n->b = host(n, MAC_B, IP_B, &n->ifb);
	assert_int_equal(rump_bus_tap_recv(n->tap, frame, sizeof(frame), &len,
	    5000), 0);
	assert_int_equal(len, 42);	/* the announcement: ARP, unpadded */
	assert_memory_equal(frame, BCAST, 6);
	/* B learns the tap statically unless a test wants ARP */
}

static void
setup_pair(struct net *n)
{
	memset(n, 0, sizeof(*n));
	assert_int_equal(rump_bus_create(NULL, &n->bus), 0);
	n->a = host(n, MAC_A, IP_A, &n->ifa);
	n->b = host(n, MAC_B, IP_B, &n->ifb);
	assert_int_equal(rump_bus_quiesce(n->bus, 5000), 0);
}

static void
teardown(struct net *n)
{
	/*
	 * The tap may have its answer before the instance has freed the
	 * mbuf it was sent from: let everything in flight finish before
	 * th_kernel_destroy() counts what is outstanding.
	 */
	assert_int_equal(rump_bus_quiesce(n->bus, 5000), 0);
	if (n->tap != NULL)
		rump_bus_tap_close(n->tap);
	if (n->a != NULL)
		th_kernel_destroy(n->a);
	if (n->b != NULL)
		th_kernel_destroy(n->b);
	assert_int_equal(rump_bus_destroy(n->bus), 0);
}

/* An ICMP echo request with datalen bytes of pattern. */
static size_t
icmp_echo(uint8_t *f, uint8_t type, uint16_t id, uint16_t seq, size_t datalen)
{
	f[0] = type;
	f[1] = 0;
	f[2] = f[3] = 0;
	f[4] = (uint8_t)(id >> 8);
	f[5] = (uint8_t)id;
	f[6] = (uint8_t)(seq >> 8);
	f[7] = (uint8_t)seq;
	for (size_t i = 0; i < datalen; i++)
		f[8 + i] = (uint8_t)(i * 7);
	uint16_t c = ref_cksum(f, 8 + datalen, 0);
	memcpy(f + 2, &c, 2);
	return 8 + datalen;
}

static void
send_frame(struct net *n, const uint8_t *f, size_t len)
{
	assert_int_equal(rump_bus_tap_send(n->tap, f, len), 0);
}

/* The next frame at the tap, or 0 when none comes in ms. */
static size_t
recv_frame(struct net *n, uint8_t *buf, size_t size, unsigned ms)
{
	size_t len = 0;

	if (rump_bus_tap_recv(n->tap, buf, size, &len, ms) != 0)
		return 0;
	return len;
}

/* Let B know the tap's MAC so it needs no ARP to answer. */
static void
b_knows_tap(struct net *n)
{
	assert_int_equal(rump_arp_add(n->b, n->ifb, ip(IP_T), MAC_T), 0);
}

/* ---- ARP ---- */

static void
test_arp_request_gets_reply(void **state)
{
	struct net n;
	uint8_t f[64], r[128];
	size_t len;
	enum rump_arp_state st;
	uint8_t mac[6];
	uint32_t spa = ip(IP_T), tpa = ip(IP_B);

	(void)state;
	setup_tap(&n);
	len = eth(f, BCAST, MAC_T, 0x0806);
	const uint8_t hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	memcpy(f + len, hdr, 8);
	memcpy(f + len + 8, MAC_T, 6);
	memcpy(f + len + 14, &spa, 4);
	memset(f + len + 18, 0, 6);
	memcpy(f + len + 24, &tpa, 4);
	len += 28;
	send_frame(&n, f, len);
	len = recv_frame(&n, r, sizeof(r), 5000);
	assert_int_equal(len, 42);
	/* Ethernet: to the asker, from B, ARP */
	assert_memory_equal(r, MAC_T, 6);
	assert_memory_equal(r + 6, MAC_B, 6);
	assert_int_equal(r[12] << 8 | r[13], 0x0806);
	/* ARP reply: sha B, spa B, tha T, tpa T */
	const uint8_t rhdr[8] = { 0, 1, 8, 0, 6, 4, 0, 2 };
	assert_memory_equal(r + 14, rhdr, 8);
	assert_memory_equal(r + 22, MAC_B, 6);
	assert_memory_equal(r + 28, &tpa, 4);
	assert_memory_equal(r + 32, MAC_T, 6);
	assert_memory_equal(r + 38, &spa, 4);
	/* a request to us creates an entry for the asker (RFC 826) */
	assert_int_equal(rump_arp_get(n.b, ip(IP_T), &st, mac), 0);
	assert_int_equal(st, RUMP_ARP_REACHABLE);
	assert_memory_equal(mac, MAC_T, 6);
	assert_int_equal(stat(n.b, "arp.rcvrequests"), 1);
	assert_int_equal(stat(n.b, "arp.sendreplies"), 1);
	teardown(&n);
}

static size_t
arp_frame(uint8_t *f, uint16_t op, const uint8_t *dst, const char *spa_s,
    const char *tpa_s)
{
	uint32_t spa = ip(spa_s), tpa = ip(tpa_s);
	size_t len = eth(f, dst, MAC_T, 0x0806);
	const uint8_t hdr[8] = { 0, 1, 8, 0, 6, 4, 0, (uint8_t)op };

	memcpy(f + len, hdr, 8);
	memcpy(f + len + 8, MAC_T, 6);
	memcpy(f + len + 14, &spa, 4);
	memset(f + len + 18, 0, 6);
	memcpy(f + len + 24, &tpa, 4);
	return len + 28;
}

static void
test_arp_unsolicited_reply_creates_nothing(void **state)
{
	struct net n;
	uint8_t f[64], r[128];
	enum rump_arp_state st;

	(void)state;
	setup_tap(&n);
	send_frame(&n, f, arp_frame(f, 2, MAC_B, IP_T, IP_B));
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(rump_arp_get(n.b, ip(IP_T), &st, NULL), 0);
	assert_int_equal(st, RUMP_ARP_NONE);
	assert_int_equal(stat(n.b, "arp.rcvreplies"), 1);
	assert_int_equal(stat(n.b, "arp.sendreplies"), 0);
	assert_int_equal(recv_frame(&n, r, sizeof(r), 50), 0);
	teardown(&n);
}

static void
test_arp_bad_packets_counted(void **state)
{
	struct net n;
	uint8_t f[64];

	(void)state;
	setup_tap(&n);
	/* too short: 20 bytes of ARP */
	size_t len = arp_frame(f, 1, BCAST, IP_T, IP_B);
	send_frame(&n, f, len - 8);
	/* hardware type 6 */
	len = arp_frame(f, 1, BCAST, IP_T, IP_B);
	f[15] = 6;
	send_frame(&n, f, len);
	/* opcode 9 */
	len = arp_frame(f, 1, BCAST, IP_T, IP_B);
	f[21] = 9;
	send_frame(&n, f, len);
	/* someone claims B's own address */
	len = arp_frame(f, 1, BCAST, IP_B, IP_B);
	send_frame(&n, f, len);
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(stat(n.b, "arp.rcvtotal"), 4);
	assert_int_equal(stat(n.b, "arp.rcvbadlen"), 1);
	assert_int_equal(stat(n.b, "arp.rcvbadproto"), 2);
	assert_int_equal(stat(n.b, "arp.rcvdupaddr"), 1);
	assert_int_equal(stat(n.b, "arp.sendreplies"), 0);
	teardown(&n);
}

/* The tap asks B for its address from sender 198.18.4.0 + i; B answers. */
static void
arp_ask_from(struct net *n, unsigned i)
{
	uint8_t f[64], r[128];
	char spa[32];

	snprintf(spa, sizeof(spa), "198.18.%u.%u", 4 + i / 256, i % 256);
	send_frame(n, f, arp_frame(f, 1, BCAST, spa, IP_B));
	assert_int_equal(recv_frame(n, r, sizeof(r), 5000), 42);
	assert_int_equal(r[21], 2);	/* the reply */
}

static enum rump_arp_state
arp_state_of(struct net *n, unsigned i)
{
	enum rump_arp_state st;
	char a[32];

	snprintf(a, sizeof(a), "198.18.%u.%u", 4 + i / 256, i % 256);
	assert_int_equal(rump_arp_get(n->b, ip(a), &st, NULL), 0);
	return st;
}

static void
advance_s(struct net *n, unsigned s)
{
	for (unsigned i = 0; i < s; i += 10)
		assert_int_equal(rump_clock_advance(n->b, 10000000000ull), 0);
}

/*
 * Requests from ever new senders fill the table (each creates an entry,
 * RFC 826): a full table evicts, STALE entries first, REACHABLE ones only
 * when confirmed 5 s ago or more, and STALE entries nobody uses expire
 * (RFC 1122 2.3.2.1), so such a flood cannot lock new neighbours out.
 */
static void
test_arp_table_full_evicts(void **state)
{
	struct net n;
	unsigned i;

	(void)state;
	setup_tap(&n);
	for (i = 0; i < 1024; i++)
		arp_ask_from(&n, i);
	assert_int_equal(stat(n.b, "arp.entries"), 1024);
	/* all confirmed just now: none may go */
	arp_ask_from(&n, 1024);
	assert_int_equal(stat(n.b, "arp.tablefull"), 1);
	assert_int_equal(stat(n.b, "arp.evicted"), 0);
	assert_int_equal(arp_state_of(&n, 1024), RUMP_ARP_NONE);
	/* 10 s later the first confirmed makes room */
	advance_s(&n, 10);
	arp_ask_from(&n, 1025);
	assert_int_equal(stat(n.b, "arp.evicted"), 1);
	assert_int_equal(stat(n.b, "arp.tablefull"), 1);
	assert_int_equal(arp_state_of(&n, 0), RUMP_ARP_NONE);
	assert_int_equal(arp_state_of(&n, 1025), RUMP_ARP_REACHABLE);
	/* 20 minutes on all are STALE: the oldest goes, not the newest */
	advance_s(&n, 1200);
	assert_int_equal(arp_state_of(&n, 1), RUMP_ARP_STALE);
	assert_int_equal(arp_state_of(&n, 1025), RUMP_ARP_STALE);
	arp_ask_from(&n, 1026);
	assert_int_equal(stat(n.b, "arp.evicted"), 2);
	assert_int_equal(arp_state_of(&n, 1), RUMP_ARP_NONE);
	assert_int_equal(arp_state_of(&n, 2), RUMP_ARP_STALE);
	assert_int_equal(arp_state_of(&n, 1025), RUMP_ARP_STALE);
	assert_int_equal(arp_state_of(&n, 1026), RUMP_ARP_REACHABLE);
	/* 20 minutes more, unused: every STALE entry has gone */
	advance_s(&n, 1200);
	assert_int_equal(stat(n.b, "arp.expired"), 1023);
	assert_int_equal(arp_state_of(&n, 2), RUMP_ARP_NONE);
	assert_int_equal(arp_state_of(&n, 1025), RUMP_ARP_NONE);
	assert_int_equal(arp_state_of(&n, 1026), RUMP_ARP_STALE);
	advance_s(&n, 1200);	/* the newest went STALE last */
	assert_int_equal(stat(n.b, "arp.expired"), 1024);
	assert_int_equal(arp_state_of(&n, 1026), RUMP_ARP_NONE);
	assert_int_equal(stat(n.b, "arp.timeouts"), 0);
	teardown(&n);
}

/* Packets to a host that never answers: held, retried, dropped. */
static void
test_arp_hold_limit_and_timeout(void **state)
{
	struct net n;
	uint8_t r[256];
	enum rump_arp_state st;
	size_t len;
	int requests = 0;

	(void)state;
	setup_tap(&n);
	for (int i = 0; i < 20; i++)
		assert_int_equal(rump_ping_send(n.b, ip("198.18.0.99"), 1,
		    (uint16_t)i, 8), 0);
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(rump_arp_get(n.b, ip("198.18.0.99"), &st, NULL), 0);
	assert_int_equal(st, RUMP_ARP_INCOMPLETE);
	/* one request, not twenty (RFC 1122 2.3.2.1) */
	while ((len = recv_frame(&n, r, sizeof(r), 50)) != 0) {
		assert_int_equal(r[12] << 8 | r[13], 0x0806);
		requests++;
	}
	assert_int_equal(requests, 1);
	assert_int_equal(stat(n.b, "arp.holddropped"), 4);	/* 20 - 16 */
	/* retries once a second, then the entry and its queue go */
	for (int s = 1; s <= 3; s++) {
		assert_int_equal(rump_clock_advance(n.b, 1000000000ull), 0);
		assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	}
	assert_int_equal(stat(n.b, "arp.sendrequests"), 3);
	assert_int_equal(stat(n.b, "arp.timeouts"), 1);
	assert_int_equal(stat(n.b, "arp.timeoutdropped"), 16);
	assert_int_equal(rump_arp_get(n.b, ip("198.18.0.99"), &st, NULL), 0);
	assert_int_equal(st, RUMP_ARP_NONE);
	teardown(&n);
}

/* ---- ping between two instances ---- */

static void
test_ping_between_instances(void **state)
{
	struct net n;
	struct rump_ping_reply rep;
	enum rump_arp_state st;
	uint8_t mac[6];

	(void)state;
	setup_pair(&n);
	assert_int_equal(rump_ping_send(n.a, ip(IP_B), 77, 1, 56), 0);
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(rump_ping_last(n.a, &rep), 0);
	assert_int_equal(rep.count, 1);
	assert_int_equal(rep.src, ip(IP_B));
	assert_int_equal(rep.id, 77);
	assert_int_equal(rep.seq, 1);
	assert_int_equal(rep.datalen, 56);
	assert_int_equal(rump_arp_get(n.a, ip(IP_B), &st, mac), 0);
	assert_int_equal(st, RUMP_ARP_REACHABLE);
	assert_memory_equal(mac, MAC_B, 6);
	assert_int_equal(stat(n.b, "icmp.reflect"), 1);
	assert_int_equal(stat(n.a, "icmp.in.echoreply"), 1);
	teardown(&n);
}

/* 3000 bytes: both sides fragment, both sides reassemble. */
static void
test_ping_fragmented(void **state)
{
	struct net n;
	struct rump_ping_reply rep;

	(void)state;
	setup_pair(&n);
	assert_int_equal(rump_ping_send(n.a, ip(IP_B), 5, 9, 3000), 0);
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(rump_ping_last(n.a, &rep), 0);
	assert_int_equal(rep.count, 1);
	assert_int_equal(rep.datalen, 3000);
	assert_int_equal(stat(n.a, "ip.fragmented"), 1);
	assert_int_equal(stat(n.a, "ip.ofragments"), 3);
	assert_int_equal(stat(n.b, "ip.reassembled"), 1);
	assert_int_equal(stat(n.b, "ip.ofragments"), 3);
	assert_int_equal(stat(n.a, "ip.reassembled"), 1);
	teardown(&n);
}

/* ---- ICMP from the tap ---- */

static void
test_echo_reply_bytes(void **state)
{
	struct net n;
	uint8_t f[256], r[256];
	size_t len, hl;

	(void)state;
	setup_tap(&n);
	b_knows_tap(&n);
	len = eth(f, MAC_B, MAC_T, 0x0800);
	hl = ipv4(f + len, NULL, 0, 20 + 8 + 32, 0x1234, 0, 64, 1, IP_T, IP_B);
	len += hl + icmp_echo(f + len + hl, 8, 0xbeef, 3, 32);
	send_frame(&n, f, len);
	assert_int_equal(recv_frame(&n, r, sizeof(r), 5000), len);
	assert_memory_equal(r, MAC_T, 6);
	assert_memory_equal(r + 6, MAC_B, 6);
	/* IP: from B to T, ICMP, header checksum right */
	assert_int_equal(r[14], 0x45);
	assert_int_equal(r[23], 1);
	assert_memory_equal(r + 26, f + 30, 4);	/* src = old dst */
	assert_memory_equal(r + 30, f + 26, 4);	/* dst = old src */
	assert_int_equal(ref_cksum(r + 14, 20, 0), 0);
	/* ICMP: type 0, same id, seq and data, checksum right */
	assert_int_equal(r[34], 0);
	assert_memory_equal(r + 38, f + 38, 4 + 32);
	assert_int_equal(ref_cksum(r + 34, 8 + 32, 0), 0);
	teardown(&n);
}

/* Protocol 253 is nobody's: ICMP protocol unreachable, quoting 8 bytes. */
static void
test_protocol_unreachable(void **state)
{
	struct net n;
	uint8_t f[128], r[256];
	size_t len, hl;

	(void)state;
	setup_tap(&n);
	b_knows_tap(&n);
	len = eth(f, MAC_B, MAC_T, 0x0800);
	hl = ipv4(f + len, NULL, 0, 20 + 16, 7, 0, 64, 253, IP_T, IP_B);
	memset(f + len + hl, 0xab, 16);
	len += hl + 16;
	send_frame(&n, f, len);
	len = recv_frame(&n, r, sizeof(r), 5000);
	assert_int_equal(len, 14 + 20 + 8 + 20 + 8);
	assert_int_equal(r[23], 1);
	assert_int_equal(r[34], 3);		/* unreachable */
	assert_int_equal(r[35], 2);		/* protocol */
	assert_memory_equal(r + 42, f + 14, 28);	/* header + 8 bytes */
	assert_int_equal(ref_cksum(r + 34, 8 + 28, 0), 0);
	assert_int_equal(stat(n.b, "ip.noproto"), 1);
	assert_int_equal(stat(n.b, "icmp.out.unreach"), 1);
	teardown(&n);
}

/* ---- fragments from the tap ---- */

/* Send echo request data (datalen) in fragments of fsz payload bytes. */
static void
send_echo_frags(struct net *n, uint16_t id, size_t datalen, size_t fsz,
    const int *order, int nfrag)
{
	uint8_t icmp[4096], f[2048];
	size_t total = icmp_echo(icmp, 8, 0x55, 1, datalen);

	for (int k = 0; k < nfrag; k++) {
		size_t off = (size_t)order[k] * fsz;
		size_t plen = total - off < fsz ? total - off : fsz;
		bool last = off + plen >= total;
		size_t len = eth(f, MAC_B, MAC_T, 0x0800);

		len += ipv4(f + len, NULL, 0, (uint16_t)(20 + plen), id,
		    (uint16_t)((last ? 0 : 0x2000) | (off / 8)), 64, 1, IP_T, IP_B);
		memcpy(f + len, icmp + off, plen);
		send_frame(n, f, len + plen);
	}
}

static void
expect_echo_reply(struct net *n, size_t datalen)
{
	uint8_t r[4096];
	size_t len = recv_frame(n, r, sizeof(r), 5000);

	assert_int_equal(len, 14 + 20 + 8 + datalen);
	assert_int_equal(r[34], 0);
	assert_int_equal(ref_cksum(r + 34, 8 + datalen, 0), 0);
	for (size_t i = 0; i < datalen; i++)
		assert_int_equal(r[42 + i], (uint8_t)(i * 7));
}

static void
test_reassembly_orders(void **state)
{
	struct net n;
	const int inorder[] = { 0, 1, 2 };
	const int reverse[] = { 2, 1, 0 };
	const int dup[] = { 0, 1, 1, 2 };

	(void)state;
	setup_tap(&n);
	b_knows_tap(&n);
	send_echo_frags(&n, 100, 1000, 400, inorder, 3);
	expect_echo_reply(&n, 1000);
	send_echo_frags(&n, 101, 1000, 400, reverse, 3);
	expect_echo_reply(&n, 1000);
	send_echo_frags(&n, 102, 1000, 400, dup, 4);
	expect_echo_reply(&n, 1000);
	assert_int_equal(stat(n.b, "ip.reassembled"), 3);
	assert_int_equal(stat(n.b, "ip.fragdup"), 1);
	teardown(&n);
}

static void
test_reassembly_overlap_dropped(void **state)
{
	struct net n;
	uint8_t icmp[2048], f[2048], r[256];
	size_t total = icmp_echo(icmp, 8, 0x55, 1, 1000), len;

	(void)state;
	setup_tap(&n);
	b_knows_tap(&n);
	/* [0,400) then [200,600): an overlap that is not a duplicate */
	const size_t offs[3] = { 0, 200, 600 };
	const size_t lens[3] = { 400, 400, 0 };
	for (int k = 0; k < 3; k++) {
		size_t plen = k == 2 ? total - 600 : lens[k];

		len = eth(f, MAC_B, MAC_T, 0x0800);
		len += ipv4(f + len, NULL, 0, (uint16_t)(20 + plen), 200,
		    (uint16_t)((k == 2 ? 0 : 0x2000) | (offs[k] / 8)), 64, 1, IP_T,
		    IP_B);
		memcpy(f + len, icmp + offs[k], plen);
		send_frame(&n, f, len + plen);
	}
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(recv_frame(&n, r, sizeof(r), 50), 0);
	assert_int_equal(stat(n.b, "ip.fragoverlap"), 1);
	assert_int_equal(stat(n.b, "ip.reassembled"), 0);
	teardown(&n);
}

static void
test_reassembly_timeout_time_exceeded(void **state)
{
	struct net n;
	const int first_two[] = { 0, 1 };
	uint8_t r[256];
	size_t len;

	(void)state;
	setup_tap(&n);
	b_knows_tap(&n);
	send_echo_frags(&n, 300, 1000, 400, first_two, 2);
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(recv_frame(&n, r, sizeof(r), 50), 0);
	for (int s = 0; s < 31; s++)
		assert_int_equal(rump_clock_advance(n.b, 1000000000ull), 0);
	len = recv_frame(&n, r, sizeof(r), 5000);
	assert_int_equal(len, 14 + 20 + 8 + 20 + 8);
	assert_int_equal(r[34], 11);	/* time exceeded */
	assert_int_equal(r[35], 1);	/* in reassembly */
	assert_int_equal(stat(n.b, "ip.fragtimeout"), 1);
	teardown(&n);
}

/*
 * The interface fragments came in on goes away: the datagram is dropped
 * with it (its held fragments name the interface as rcvif), so its timer
 * later finds nothing and sends no ICMP on an interface that is gone.
 */
static void
test_reassembly_interface_destroyed(void **state)
{
	struct net n;
	const int first_two[] = { 0, 1 };

	(void)state;
	setup_tap(&n);
	b_knows_tap(&n);
	send_echo_frags(&n, 310, 1000, 400, first_two, 2);
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(stat(n.b, "ip.fragments"), 2);
	assert_int_equal(stat(n.b, "ip.fragdropped"), 0);
	assert_int_equal(rump_if_destroy(n.b, n.ifb), 0);
	assert_int_equal(stat(n.b, "ip.fragdropped"), 2);
	for (int s = 0; s < 31; s++)
		assert_int_equal(rump_clock_advance(n.b, 1000000000ull), 0);
	assert_int_equal(stat(n.b, "ip.fragtimeout"), 0);
	assert_int_equal(stat(n.b, "icmp.out.timxceed"), 0);
	assert_int_equal(stat(n.b, "ip.reassembled"), 0);
	teardown(&n);
}

/* ---- malformed input: each dropped with its counter ---- */

/* An echo request from src with IP options opts (a multiple of 4 bytes). */
static void
send_echo_opts(struct net *n, const char *src, const uint8_t *opts,
    size_t optlen)
{
	uint8_t f[256];
	size_t len = eth(f, MAC_B, MAC_T, 0x0800), il;

	il = icmp_echo(f + len + 20 + optlen, 8, 0x66, 1, 16);
	len += ipv4(f + len, opts, optlen, (uint16_t)(20 + optlen + il), 400,
	    0, 64, 1, src, IP_B);
	send_frame(n, f, len + il);
}

/*
 * RFC 1122 3.3.5: a source route not finished at this host names another
 * destination: dropped with ICMP "source route failed"; a finished one
 * is delivered.  RFC 1122 3.2.1.3 (a): an echo request from 0.0.0.0 gets
 * no reply (it would go to 0.0.0.0).
 */
static void
test_source_route_and_zero_source(void **state)
{
	struct net n;
	uint8_t r[256];
	size_t len;
	/* LSRR with 198.18.0.9 still to visit, then the same route done */
	const uint8_t pending[8] = { 0x83, 7, 4, 198, 18, 0, 9, 0 };
	const uint8_t done[8] = { 0x83, 7, 8, 198, 18, 0, 9, 0 };

	(void)state;
	setup_tap(&n);
	b_knows_tap(&n);
	send_echo_opts(&n, IP_T, pending, sizeof(pending));
	len = recv_frame(&n, r, sizeof(r), 5000);
	/* ICMP unreachable, code 5, quoting the header with its options */
	assert_int_equal(len, 14 + 20 + 8 + 28 + 8);
	assert_int_equal(r[23], 1);
	assert_int_equal(r[34], 3);
	assert_int_equal(r[35], 5);
	assert_int_equal(stat(n.b, "ip.srcroutefail"), 1);
	assert_int_equal(stat(n.b, "icmp.reflect"), 0);

	send_echo_opts(&n, IP_T, done, sizeof(done));
	len = recv_frame(&n, r, sizeof(r), 5000);
	assert_int_equal(len, 14 + 20 + 8 + 16);	/* the reply, no options */
	assert_int_equal(r[34], 0);
	assert_int_equal(stat(n.b, "icmp.reflect"), 1);
	assert_int_equal(stat(n.b, "ip.srcroute"), 2);
	assert_int_equal(stat(n.b, "ip.srcroutefail"), 1);

	send_echo_opts(&n, "0.0.0.0", NULL, 0);
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(recv_frame(&n, r, sizeof(r), 50), 0);
	assert_int_equal(stat(n.b, "icmp.badsrc"), 1);
	assert_int_equal(stat(n.b, "icmp.reflect"), 1);
	teardown(&n);
}

static void
send_ip_raw(struct net *n, const uint8_t *ipbytes, size_t iplen)
{
	uint8_t f[256];
	size_t len = eth(f, MAC_B, MAC_T, 0x0800);

	memcpy(f + len, ipbytes, iplen);
	send_frame(n, f, len + iplen);
}

static void
dump_stat(const char *name, uint64_t v, void *arg)
{
	(void)arg;
	if (v != 0)
		printf("%s %llu\n", name, (unsigned long long)v);
}

static void
fix_sum(uint8_t *h, size_t hlen)
{
	h[10] = h[11] = 0;
	uint16_t c = ref_cksum(h, hlen, 0);
	memcpy(h + 10, &c, 2);
}

static void
test_bad_ip_headers(void **state)
{
	struct net n;
	uint8_t h[128], r[256];
	size_t hl;

	(void)state;
	setup_tap(&n);
	b_knows_tap(&n);

	/* runt: 10 bytes, for B, cut inside the source address */
	memcpy(h, MAC_B, 6);
	memcpy(h + 6, MAC_T, 4);
	send_frame(&n, h, 10);
	/* IHL 4 */
	hl = ipv4(h, NULL, 0, 28, 1, 0, 64, 1, IP_T, IP_B);
	h[0] = 0x44;
	fix_sum(h, 20);
	send_ip_raw(&n, h, 28);
	/* IHL 15 (60 bytes) in a 28-byte datagram */
	hl = ipv4(h, NULL, 0, 28, 2, 0, 64, 1, IP_T, IP_B);
	h[0] = 0x4f;
	send_ip_raw(&n, h, 28);
	/* total length 200 in a 28-byte frame */
	hl = ipv4(h, NULL, 0, 200, 3, 0, 64, 1, IP_T, IP_B);
	send_ip_raw(&n, h, 28);
	/* total length 10, below the header */
	hl = ipv4(h, NULL, 0, 10, 4, 0, 64, 1, IP_T, IP_B);
	send_ip_raw(&n, h, 28);
	/* checksum wrong */
	hl = ipv4(h, NULL, 0, 28, 5, 0, 64, 1, IP_T, IP_B);
	h[10] ^= 0x5a;
	send_ip_raw(&n, h, 28);
	/* version 6 */
	hl = ipv4(h, NULL, 0, 28, 6, 0, 64, 1, IP_T, IP_B);
	h[0] = 0x65;
	fix_sum(h, 20);
	send_ip_raw(&n, h, 28);
	/* options: length 0, length 1, length beyond the header */
	const uint8_t opt0[4] = { 0x44, 0, 5, 0 };
	const uint8_t opt1[4] = { 0x44, 1, 5, 0 };
	const uint8_t optbig[4] = { 0x44, 40, 5, 0 };
	hl = ipv4(h, opt0, 4, 32, 7, 0, 64, 1, IP_T, IP_B);
	send_ip_raw(&n, h, 32);
	hl = ipv4(h, opt1, 4, 32, 8, 0, 64, 1, IP_T, IP_B);
	send_ip_raw(&n, h, 32);
	hl = ipv4(h, optbig, 4, 32, 9, 0, 64, 1, IP_T, IP_B);
	send_ip_raw(&n, h, 32);
	/* timestamp options without the flags byte, pointer below 5 */
	const uint8_t ts3[4] = { 0x44, 3, 4, 0 };
	const uint8_t ts4[4] = { 0x44, 4, 4, 0 };
	hl = ipv4(h, ts3, 4, 32, 12, 0, 64, 1, IP_T, IP_B);
	send_ip_raw(&n, h, 32);
	hl = ipv4(h, ts4, 4, 32, 13, 0, 64, 1, IP_T, IP_B);
	send_ip_raw(&n, h, 32);
	/* a source address of 127.0.0.1 from the wire */
	hl = ipv4(h, NULL, 0, 28, 10, 0, 64, 1, "127.0.0.1", IP_B);
	send_ip_raw(&n, h, 28);
	/* fragment with offset + length beyond 65535 */
	hl = ipv4(h, NULL, 0, 28 + 64, 11, 0x2000 | 8189, 64, 1, IP_T, IP_B);
	memset(h + 20, 0, 72);
	send_ip_raw(&n, h, 28 + 64);
	(void)hl;

	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(stat(n.b, "if.bus0.irunt"), 1);
	assert_int_equal(stat(n.b, "ip.badhlen"), 2);
	assert_int_equal(stat(n.b, "ip.tooshort"), 1);
	assert_int_equal(stat(n.b, "ip.badlen"), 1);
	assert_int_equal(stat(n.b, "ip.badsum"), 1);
	assert_int_equal(stat(n.b, "ip.badvers"), 1);
	assert_int_equal(stat(n.b, "ip.badoptions"), 5);
	assert_int_equal(stat(n.b, "ip.badaddr"), 1);
	if (getenv("DEBUG_STATS"))
		rump_stat_list(n.b, dump_stat, NULL);
	assert_int_equal(stat(n.b, "ip.fragtoolong"), 1);
	assert_int_equal(stat(n.b, "ip.delivered"), 0);
	/* nothing answered any of them */
	assert_int_equal(recv_frame(&n, r, sizeof(r), 50), 0);
	teardown(&n);
}

/*
 * ICMP input checks, and the rule never to answer an ICMP error with one
 * (RFC 1122 3.2.2): a fragment of an ICMP error that never completes times
 * out without a time exceeded message.
 */
static void
test_bad_icmp(void **state)
{
	struct net n;
	uint8_t f[256], r[256];
	size_t len, hl;
	uint16_t c;

	(void)state;
	setup_tap(&n);
	b_knows_tap(&n);
	/* an unreachable quoting 4 bytes instead of a header and 8 */
	len = eth(f, MAC_B, MAC_T, 0x0800);
	hl = ipv4(f + len, NULL, 0, 20 + 8 + 4, 20, 0, 64, 1, IP_T, IP_B);
	memset(f + len + hl, 0, 12);
	f[len + hl] = 3;
	f[len + hl + 1] = 3;
	c = ref_cksum(f + len + hl, 12, 0);
	memcpy(f + len + hl + 2, &c, 2);
	send_frame(&n, f, len + hl + 12);
	/* an echo request with a wrong checksum */
	len = eth(f, MAC_B, MAC_T, 0x0800);
	hl = ipv4(f + len, NULL, 0, 20 + 8, 21, 0, 64, 1, IP_T, IP_B);
	memset(f + len + hl, 0, 8);
	f[len + hl] = 8;
	send_frame(&n, f, len + hl + 8);
	/* the first fragment of an ICMP unreachable, never completed */
	len = eth(f, MAC_B, MAC_T, 0x0800);
	hl = ipv4(f + len, NULL, 0, 20 + 64, 22, 0x2000, 64, 1, IP_T, IP_B);
	memset(f + len + hl, 0, 64);
	f[len + hl] = 3;
	send_frame(&n, f, len + hl + 64);
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(stat(n.b, "icmp.badlen"), 1);
	assert_int_equal(stat(n.b, "icmp.checksum"), 1);
	for (int s = 0; s < 31; s++)
		assert_int_equal(rump_clock_advance(n.b, 1000000000ull), 0);
	assert_int_equal(rump_bus_quiesce(n.bus, 5000), 0);
	assert_int_equal(stat(n.b, "ip.fragtimeout"), 1);
	assert_int_equal(stat(n.b, "icmp.oldicmp"), 1);
	assert_int_equal(stat(n.b, "icmp.out.timxceed"), 0);
	assert_int_equal(recv_frame(&n, r, sizeof(r), 50), 0);
	teardown(&n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_request_gets_reply),
		cmocka_unit_test(test_arp_unsolicited_reply_creates_nothing),
		cmocka_unit_test(test_arp_bad_packets_counted),
		cmocka_unit_test(test_arp_hold_limit_and_timeout),
		cmocka_unit_test(test_arp_table_full_evicts),
		cmocka_unit_test(test_ping_between_instances),
		cmocka_unit_test(test_ping_fragmented),
		cmocka_unit_test(test_echo_reply_bytes),
		cmocka_unit_test(test_protocol_unreachable),
		cmocka_unit_test(test_reassembly_orders),
		cmocka_unit_test(test_reassembly_overlap_dropped),
		cmocka_unit_test(test_reassembly_timeout_time_exceeded),
		cmocka_unit_test(test_reassembly_interface_destroyed),
		cmocka_unit_test(test_bad_ip_headers),
		cmocka_unit_test(test_source_route_and_zero_source),
		cmocka_unit_test(test_bad_icmp),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
