/*
 * cksumbench -- the Internet checksum (in_cksum.h) over 1500-byte buffers,
 * next to a naive byte-at-a-time implementation of RFC 1071 in the same run.
 *
 * Prints:
 *	BENCH in_cksum_1500 <ns> ns		in_cksum_buf(), per buffer
 *	BENCH in_cksum_gbps <value> Gbit/s	the same as a data rate
 *	BENCH in_cksum_naive_1500 <ns> ns	the naive reference
 * Every figure is the median of REPEATS timed runs of a loop.  A compiler
 * barrier before each call says the buffer may have changed, and the results
 * are summed into a volatile, so no call can be hoisted or optimised away.
 * (Writing into the buffer instead would time a store-forwarding stall.)
 *
 * Usage: cksumbench [--quick]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "median.h"
#include "netinet/in_cksum.h"

#define REPEATS 7
#define BUFLEN 1500

static unsigned char buf[BUFLEN] __attribute__((__aligned__(64)));
static volatile uint32_t sink;

#define barrier() __asm__ __volatile__("" ::: "memory")

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* RFC 1071 literally: big-endian 16-bit words assembled byte by byte. */
static __attribute__((__noinline__)) uint16_t
naive_cksum(const unsigned char *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);	/* same layout as in_cksum_buf() */
}

/* Median over REPEATS runs of iters calls, in ns per call. */
static double
run(uint16_t (*fn)(const void *, size_t), long iters)
{
	double t[REPEATS];
	uint32_t acc;
	uint64_t t0;

	for (int r = 0; r < REPEATS; r++) {
		acc = 0;
		t0 = now_ns();
		for (long i = 0; i < iters; i++) {
			barrier();
			acc += fn(buf, BUFLEN);
		}
		t[r] = (double)(now_ns() - t0) / (double)iters;
		sink += acc;
	}
	return median(t, REPEATS);
}

static uint16_t
fast_fn(const void *p, size_t len)
{
	return in_cksum_buf(p, len);
}

static uint16_t
naive_fn(const void *p, size_t len)
{
	return naive_cksum(p, len);
}

int
main(int argc, char **argv)
{
	long iters = 4000000, naive_iters = 1000000;
	double fast, naive;
	uint32_t x = 0x12345678;

	if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
		iters /= 20;
		naive_iters /= 20;
	}
	for (int i = 0; i < BUFLEN; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	/* the two must agree before either is timed */
	for (int i = 0; i < 256; i++) {
		buf[0] = (unsigned char)i;
		if (in_cksum_buf(buf, BUFLEN) != naive_cksum(buf, BUFLEN) ||
		    in_cksum_buf(buf + 1, BUFLEN - 1) !=
		    naive_cksum(buf + 1, BUFLEN - 1)) {
			fprintf(stderr, "cksumbench: in_cksum_buf disagrees "
			    "with the reference\n");
			return 1;
		}
	}

	fast = run(fast_fn, iters);
	naive = run(naive_fn, naive_iters);
	printf("BENCH in_cksum_1500 %.1f ns\n", fast);
	printf("BENCH in_cksum_gbps %.1f Gbit/s\n", BUFLEN * 8 / fast);
	printf("BENCH in_cksum_naive_1500 %.1f ns\n", naive);
	return 0;
}
