/*
 * rss.c -- the Toeplitz hash of receive-side scaling and the default
 * redirection table (interface: rss.h).
 *
 * (in_pcbconnect() -> in_pcbbind_connect() -> in_pcbrss_ok() ->)
 *     rss_hash_ipv4_l4(), rss_queue(): do this port's replies reach us?
 * (rump_rss_set() ->) rss_key_init() -> rss_toeplitz()
 *
 * The hash of an input is the XOR, over every set bit of the input (bit
 * b counted from the most significant bit of the first byte), of the 32
 * key bits starting at key bit b.  It is linear: the hash of a 12-byte
 * tuple is the XOR of the hashes of its bytes on their own, which
 * rss_key_init() tabulates.
 */
#include "kern/libkern.h"
#include "net/rss.h"

const uint8_t rss_default_key[RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static uint8_t
rss_keybyte(const uint8_t *key, size_t keylen, size_t i)
{
	return i < keylen ? key[i] : 0;
}

uint32_t
rss_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *data,
    size_t len)
{
	uint32_t hash = 0;
	uint64_t win = 0;	/* key bytes i .. i + 7, first one on top */

	for (size_t i = 0; i < 8; i++)
		win = win << 8 | rss_keybyte(key, keylen, i);
	for (size_t i = 0; i < len; i++) {
		for (unsigned j = 0; j < 8; j++)
			if (data[i] & (0x80u >> j))
				hash ^= (uint32_t)(win >> (32 - j));
		win = win << 8 | rss_keybyte(key, keylen, i + 8);
	}
	return hash;
}

void
rss_key_init(struct rss_key *rk, const uint8_t *key, size_t keylen)
{
	uint8_t in[RSS_V4_L4_LEN];

	memset(in, 0, sizeof(in));
	for (unsigned i = 0; i < RSS_V4_L4_LEN; i++) {
		uint32_t *t = rk->rk_table[i];

		/* one bit at a time, then every value from its bits */
		t[0] = 0;
		for (unsigned j = 0; j < 8; j++) {
			in[i] = (uint8_t)(1u << j);
			t[1u << j] = rss_toeplitz(key, keylen, in, sizeof(in));
		}
		in[i] = 0;
		for (unsigned v = 3; v < 256; v++) {
			unsigned low = v & -v;

			if (v != low)
				t[v] = t[v ^ low] ^ t[low];
		}
	}
}

/* The share of a 4-byte field at input position pos (network order). */
static inline uint32_t
rss_field32(const struct rss_key *rk, unsigned pos, uint32_t v)
{
	uint8_t b[4];

	memcpy(b, &v, sizeof(b));
	return rk->rk_table[pos][b[0]] ^ rk->rk_table[pos + 1][b[1]] ^
	    rk->rk_table[pos + 2][b[2]] ^ rk->rk_table[pos + 3][b[3]];
}

static inline uint32_t
rss_field16(const struct rss_key *rk, unsigned pos, uint16_t v)
{
	uint8_t b[2];

	memcpy(b, &v, sizeof(b));
	return rk->rk_table[pos][b[0]] ^ rk->rk_table[pos + 1][b[1]];
}

uint32_t
rss_hash_ipv4(const struct rss_key *rk, uint32_t src, uint32_t dst)
{
	return rss_field32(rk, 0, src) ^ rss_field32(rk, 4, dst);
}

uint32_t
rss_hash_ipv4_l4(const struct rss_key *rk, uint32_t src, uint32_t dst,
    uint16_t sport, uint16_t dport)
{
	return rss_field32(rk, 0, src) ^ rss_field32(rk, 4, dst) ^
	    rss_field16(rk, 8, sport) ^ rss_field16(rk, 10, dport);
}

void
rss_reta_default(uint16_t *reta, unsigned size, unsigned nqueues)
{
	if (nqueues == 0)
		nqueues = 1;
	for (unsigned i = 0; i < size; i++)
		reta[i] = (uint16_t)(i % nqueues);
}
