/*
 * test_rss.c -- the Toeplitz hash of receive-side scaling (net/rss.h):
 * the IPv4 and IPv4-with-TCP rows of Microsoft's "Verifying the RSS Hash
 * Calculation" under its key, the bit-by-bit function and the per-key
 * tables against a literal reference on random keys and inputs, short
 * keys, and the redirection table (rss_reta_default(), rss_queue()).
 *
 * Pure functions: no instance, so no pool to check.  Needs no root, DPDK
 * or network namespace.
 */
#include <arpa/inet.h>

#include "harness.h"

#include "net/rss.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The key as Microsoft's specification prints it. */
static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/*
 * The specification's table, its columns in its order: destination
 * address and port, source address and port, the IPv4 hash, the IPv4 with
 * TCP hash.  The hash input starts with the source: the packet goes from
 * 66.9.149.187:2794 to 161.142.100.80:1766.
 */
struct ms_row {
	uint8_t dst[4];
	uint16_t dport;
	uint8_t src[4];
	uint16_t sport;
	uint32_t ipv4;
	uint32_t ipv4_tcp;
};

static const struct ms_row ms_rows[] = {
	{ { 161, 142, 100, 80 }, 1766, { 66, 9, 149, 187 }, 2794,
	  0x323e8fc2, 0x51ccc178 },
	{ { 65, 69, 140, 83 }, 4739, { 199, 92, 111, 2 }, 14230,
	  0xd718262a, 0xc626b0ea },
	{ { 12, 22, 207, 184 }, 38024, { 24, 19, 198, 95 }, 12898,
	  0xd2d0a5de, 0x5c2b394a },
	{ { 209, 142, 163, 6 }, 2217, { 38, 27, 205, 30 }, 48228,
	  0x82989176, 0xafc7327f },
	{ { 202, 188, 127, 2 }, 1303, { 153, 39, 163, 191 }, 44251,
	  0x5d1809c5, 0x10e828a2 },
};

/*
 * ref_toeplitz: the specification's definition, literally: for every set
 * bit b of the input, most significant bit of the first byte first, XOR
 * in the 32 key bits that start at key bit b (bits past the key: 0).
 */
static uint32_t
ref_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *data,
    size_t len)
{
	uint32_t r = 0;

	for (size_t b = 0; b < len * 8; b++) {
		uint32_t w = 0;

		if (!((data[b / 8] >> (7 - b % 8)) & 1))
			continue;
		for (size_t k = b; k < b + 32; k++) {
			unsigned bit = k / 8 < keylen ?
			    (key[k / 8] >> (7 - k % 8)) & 1 : 0;

			w = w << 1 | bit;
		}
		r ^= w;
	}
	return r;
}

/* The 12 bytes a NIC hashes: source, destination, ports (network order). */
static void
tuple(uint8_t in[12], const uint8_t src[4], const uint8_t dst[4],
    uint16_t sport, uint16_t dport)
{
	memcpy(in, src, 4);
	memcpy(in + 4, dst, 4);
	in[8] = (uint8_t)(sport >> 8);
	in[9] = (uint8_t)sport;
	in[10] = (uint8_t)(dport >> 8);
	in[11] = (uint8_t)dport;
}

static uint32_t
addr(const uint8_t a[4])
{
	uint32_t v;

	memcpy(&v, a, 4);	/* an s_addr: network order */
	return v;
}

static struct rss_key ms_rk;

static void
test_default_key(void **state)
{
	(void)state;
	assert_memory_equal(rss_default_key, ms_key, sizeof(ms_key));
	assert_int_equal(RSS_KEY_LEN, sizeof(ms_key));
}

/*
 * Every row, both columns, three ways: the reference, the bit-by-bit
 * function and the tables.  The IPv4 column hashes the first 8 bytes
 * (the addresses), the IPv4 with TCP column all 12 (and the ports).
 */
static void
test_ms_vectors(void **state)
{
	(void)state;
	rss_key_init(&ms_rk, ms_key, sizeof(ms_key));
	for (size_t i = 0; i < NELEM(ms_rows); i++) {
		const struct ms_row *r = &ms_rows[i];
		const size_t len[2] = { RSS_V4_LEN, RSS_V4_L4_LEN };
		const uint32_t want[2] = { r->ipv4, r->ipv4_tcp };
		uint8_t in[12];

		tuple(in, r->src, r->dst, r->sport, r->dport);
		for (int c = 0; c < 2; c++) {
			assert_int_equal(ref_toeplitz(ms_key, 40, in, len[c]),
			    want[c]);
			assert_int_equal(rss_toeplitz(ms_key, 40, in, len[c]),
			    want[c]);
		}
		assert_int_equal(rss_hash_ipv4(&ms_rk, addr(r->src),
		    addr(r->dst)), r->ipv4);
		assert_int_equal(rss_hash_ipv4_l4(&ms_rk, addr(r->src),
		    addr(r->dst), htons(r->sport), htons(r->dport)),
		    r->ipv4_tcp);
	}
}

/*
 * Which end is the source matters: the hash is not symmetric under this
 * key, so the reply of a flow has a hash of its own (what the port
 * selection of in_pcb.c computes).
 */
static void
test_direction_matters(void **state)
{
	(void)state;
	rss_key_init(&ms_rk, ms_key, sizeof(ms_key));
	for (size_t i = 0; i < NELEM(ms_rows); i++) {
		const struct ms_row *r = &ms_rows[i];
		uint8_t in[12];

		assert_int_not_equal(rss_hash_ipv4(&ms_rk, addr(r->dst),
		    addr(r->src)), r->ipv4);
		assert_int_not_equal(rss_hash_ipv4_l4(&ms_rk, addr(r->dst),
		    addr(r->src), htons(r->dport), htons(r->sport)),
		    r->ipv4_tcp);
		/* the reply hashed by the table is the reply hashed in full */
		tuple(in, r->dst, r->src, r->dport, r->sport);
		assert_int_equal(rss_hash_ipv4_l4(&ms_rk, addr(r->dst),
		    addr(r->src), htons(r->dport), htons(r->sport)),
		    ref_toeplitz(ms_key, 40, in, sizeof(in)));
	}
}

/* No input, or an input of zeros, hashes to 0 under any key. */
static void
test_zero_input(void **state)
{
	uint8_t zero[RSS_V4_L4_LEN] = { 0 };

	(void)state;
	rss_key_init(&ms_rk, ms_key, sizeof(ms_key));
	assert_int_equal(rss_toeplitz(ms_key, 40, zero, 0), 0);
	assert_int_equal(rss_toeplitz(ms_key, 40, zero, sizeof(zero)), 0);
	assert_int_equal(rss_hash_ipv4_l4(&ms_rk, 0, 0, 0, 0), 0);
	assert_int_equal(rss_hash_ipv4(&ms_rk, 0, 0), 0);
}

static void
fill_random(uint64_t *seed, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)th_rand(seed);
}

/*
 * The 12-byte tuple in hashes under rk (the tables of key, keylen bytes)
 * and under the bit-by-bit function as under the reference.
 */
static void
assert_tables(const struct rss_key *rk, const uint8_t *key, size_t keylen,
    const uint8_t in[RSS_V4_L4_LEN])
{
	uint32_t src, dst, want;
	uint16_t sport, dport;

	memcpy(&src, in, 4);
	memcpy(&dst, in + 4, 4);
	memcpy(&sport, in + 8, 2);
	memcpy(&dport, in + 10, 2);
	want = ref_toeplitz(key, keylen, in, RSS_V4_L4_LEN);
	assert_int_equal(rss_hash_ipv4_l4(rk, src, dst, sport, dport), want);
	assert_int_equal(rss_toeplitz(key, keylen, in, RSS_V4_L4_LEN), want);
	assert_int_equal(rss_hash_ipv4(rk, src, dst),
	    ref_toeplitz(key, keylen, in, RSS_V4_LEN));
}

/*
 * The tables against the reference: random keys (a few of them all ones
 * or with a single bit set), random 12-byte tuples, and the bit-by-bit
 * function on random lengths up to what a 40-byte key covers.
 */
static void
test_random_keys_and_inputs(void **state)
{
	static struct rss_key rk;
	uint64_t seed = 0x7e5a11ce0ddba11ull;

	(void)state;
	for (int n = 0; n < 64; n++) {
		uint8_t key[RSS_KEY_LEN];

		fill_random(&seed, key, sizeof(key));
		if (n == 0)
			memset(key, 0xff, sizeof(key));
		if (n == 1) {
			memset(key, 0, sizeof(key));
			key[5] = 0x10;
		}
		rss_key_init(&rk, key, sizeof(key));
		for (int m = 0; m < 500; m++) {
			uint8_t in[36];
			size_t len;

			fill_random(&seed, in, sizeof(in));
			assert_tables(&rk, key, sizeof(key), in);
			len = th_rand(&seed) % (sizeof(in) + 1);
			assert_int_equal(rss_toeplitz(key, sizeof(key), in, len),
			    ref_toeplitz(key, sizeof(key), in, len));
		}
	}
}

/*
 * A key shorter than the input plus 4 bytes: the bits past it count as
 * zero in both functions, and in the tables.
 */
static void
test_short_keys(void **state)
{
	static struct rss_key rk;
	uint64_t seed = 0x5badc0ffee15bad5ull;

	(void)state;
	for (size_t keylen = 0; keylen <= 20; keylen++) {
		uint8_t key[20];

		fill_random(&seed, key, sizeof(key));
		rss_key_init(&rk, key, keylen);
		for (int m = 0; m < 200; m++) {
			uint8_t in[RSS_V4_L4_LEN];

			fill_random(&seed, in, sizeof(in));
			assert_tables(&rk, key, keylen, in);
		}
	}
}

static void
test_reta_default(void **state)
{
	uint16_t reta[RSS_RETA_SIZE];
	const unsigned nq[] = { 1, 2, 3, 4, 7, 16, 128 };

	(void)state;
	for (size_t n = 0; n < NELEM(nq); n++) {
		memset(reta, 0xee, sizeof(reta));
		rss_reta_default(reta, RSS_RETA_SIZE, nq[n]);
		for (unsigned i = 0; i < RSS_RETA_SIZE; i++)
			assert_int_equal(reta[i], i % nq[n]);
	}
	/* no queues counts as one; a size of 0 writes nothing */
	memset(reta, 0xee, sizeof(reta));
	rss_reta_default(reta, RSS_RETA_SIZE, 0);
	for (unsigned i = 0; i < RSS_RETA_SIZE; i++)
		assert_int_equal(reta[i], 0);
	memset(reta, 0xee, sizeof(reta));
	rss_reta_default(reta, 0, 2);
	assert_int_equal(reta[0], 0xeeee);
}

/* The low bits of the hash index the table, the high bits do not. */
static void
test_queue_low_bits(void **state)
{
	uint16_t reta[512];

	(void)state;
	for (unsigned i = 0; i < NELEM(reta); i++)
		reta[i] = (uint16_t)(i * 3 + 1);
	assert_int_equal(rss_queue(0, reta, 128), 1);
	assert_int_equal(rss_queue(0x7f, reta, 128), 127 * 3 + 1);
	assert_int_equal(rss_queue(0xffffff80, reta, 128), 1);
	assert_int_equal(rss_queue(0x12345605, reta, 128), 5 * 3 + 1);
	assert_int_equal(rss_queue(0x12345685, reta, 128), 5 * 3 + 1);
	/* a 512-entry table (i40e) takes nine bits */
	assert_int_equal(rss_queue(0x12345785, reta, 512), 0x185 * 3 + 1);
	assert_int_equal(rss_queue(0xfffffe00, reta, 512), 1);
	/* the first row: 0x51ccc178 & 127 = 0x78 = 120, even: queue 0 of 2 */
	rss_reta_default(reta, RSS_RETA_SIZE, 2);
	assert_int_equal(rss_queue(0x51ccc178, reta, RSS_RETA_SIZE), 0);
	assert_int_equal(rss_queue(0xc626b0ea, reta, RSS_RETA_SIZE), 0);
	assert_int_equal(rss_queue(0xafc7327f, reta, RSS_RETA_SIZE), 1);
}

/*
 * Under the default key and a table of four queues, the replies of one
 * client's connections to one server port, one per port of the dynamic
 * range, split exactly evenly: the queue is the hash's two low bits, a
 * linear function of the 14 low port bits that varies over every value
 * (so each instance has a quarter of the ports to connect from).
 */
static void
test_queue_spread(void **state)
{
	uint16_t reta[RSS_RETA_SIZE];
	const uint8_t server[4] = { 198, 18, 0, 1 }, client[4] = { 198, 18, 0, 2 };
	unsigned count[4] = { 0 };
	unsigned total = 0;

	(void)state;
	rss_key_init(&ms_rk, ms_key, sizeof(ms_key));
	rss_reta_default(reta, RSS_RETA_SIZE, 4);
	for (unsigned p = 49152; p <= 65535; p++) {
		uint32_t h = rss_hash_ipv4_l4(&ms_rk, addr(server),
		    addr(client), htons(80), htons((uint16_t)p));

		count[rss_queue(h, reta, RSS_RETA_SIZE)]++;
		total++;
	}
	assert_int_equal(total, 16384);
	for (unsigned q = 0; q < 4; q++)
		assert_int_equal(count[q], 16384 / 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_key),
		cmocka_unit_test(test_ms_vectors),
		cmocka_unit_test(test_direction_matters),
		cmocka_unit_test(test_zero_input),
		cmocka_unit_test(test_random_keys_and_inputs),
		cmocka_unit_test(test_short_keys),
		cmocka_unit_test(test_reta_default),
		cmocka_unit_test(test_queue_low_bits),
		cmocka_unit_test(test_queue_spread),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
