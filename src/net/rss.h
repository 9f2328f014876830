/*
 * rss.h -- receive-side scaling: the Toeplitz hash a NIC computes over a
 * frame's addresses and ports, and the redirection table (reta) that turns
 * the hash into a receive queue (rss.c; DESIGN.md "Multi-core").
 *
 * The hash is the one of Microsoft's "Verifying the RSS Hash Calculation"
 * and of DPDK's rte_softrss(): the input is the bytes as they are on the
 * wire, source address, destination address, source port, destination
 * port, hashed bit by bit from the most significant bit of the first byte.
 * Addresses are s_addr values and ports sin_port values: network order.
 *
 * Both halves of a driver use it, so this header includes only the
 * compiler's freestanding headers, and rss.c only libkern.h: the kernel
 * half to pick ports (in_pcb.c), a host-side dispatcher to hash frames in
 * software exactly as a NIC with RSS would.
 */
#ifndef NET_RSS_H
#define NET_RSS_H

#include <stddef.h>
#include <stdint.h>

#define RSS_KEY_LEN 40			/* bytes: Microsoft's, most NICs' */
#define RSS_RETA_SIZE 128		/* entries: what ixgbe and DPDK use */
#define RSS_V4_LEN 8			/* input bytes: src, dst address */
#define RSS_V4_L4_LEN 12		/* and src, dst port */

/* The key of Microsoft's specification, the default of most drivers. */
extern const uint8_t rss_default_key[RSS_KEY_LEN];

/*
 * rss_key: a key turned into one table per input byte position: entry v
 * of rk_table[i] is the hash of an input whose only non-zero byte is
 * byte i, of value v.  The hash is linear in its input (an XOR of key
 * windows), so a 12-byte input hashes in 12 lookups.  12 KiB.
 */
struct rss_key {
	uint32_t rk_table[RSS_V4_L4_LEN][256];
};

/*
 * rss_toeplitz: the hash of len bytes of data under a key of keylen
 * bytes, bit by bit (for inputs of any length; the tables of rss_key are
 * the fast path).  Key bits past keylen count as zero: a key shorter than
 * len + 4 bytes gives a hash NICs would not (they need that much).
 */
uint32_t rss_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *data,
    size_t len);

/* rss_key_init: build rk's tables for key (keylen bytes, as above). */
void rss_key_init(struct rss_key *rk, const uint8_t *key, size_t keylen);

/*
 * rss_hash_ipv4: the hash of an IPv4 header's addresses (what a NIC
 * hashes for fragments and protocols without ports).
 * rss_hash_ipv4_l4: and of the TCP or UDP ports.
 */
uint32_t rss_hash_ipv4(const struct rss_key *rk, uint32_t src, uint32_t dst);
uint32_t rss_hash_ipv4_l4(const struct rss_key *rk, uint32_t src,
    uint32_t dst, uint16_t sport, uint16_t dport);

/*
 * rss_queue: the queue a NIC gives a frame of hash hash: the entry of
 * the redirection table the low bits of the hash select.  reta_size must
 * be a power of two (as every NIC's is).
 */
static inline unsigned
rss_queue(uint32_t hash, const uint16_t *reta, unsigned reta_size)
{
	return reta[hash & (reta_size - 1)];
}

/*
 * rss_reta_default: the table DPDK and the drivers fill by default,
 * entry i = i % nqueues (nqueues 0 counts as 1).
 */
void rss_reta_default(uint16_t *reta, unsigned size, unsigned nqueues);

#endif /* NET_RSS_H */
