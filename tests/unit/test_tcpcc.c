/*
 * test_tcpcc.c -- the integer arithmetic of tcp_cc.c: tcp_cubic_cbrt(),
 * the cube root CUBIC's K comes from (RFC 9438 4.2 eq. 2), checked
 * against its definition, floor(cbrt(x)) = r with r^3 <= x < (r+1)^3:
 * at every cube up to 2^64 and either side of it, at the ends of the
 * range, and at a million random points.  The window arithmetic itself
 * is checked segment by segment in tests/packet/test_cubic.c.
 */
#include "harness.h"

#include "kern/kernel.h"
#include "netinet/tcp_var.h"

#define CBRT_MAX 2642245u	/* floor(cbrt(2^64 - 1)) */

/* r is floor(cbrt(x)): r^3 <= x < (r + 1)^3, without overflowing */
static void
check_cbrt(uint64_t x)
{
	uint64_t r = tcp_cubic_cbrt(x), s = r + 1;

	if (r > CBRT_MAX || r * r * r > x)
		fail_msg("cbrt(%llu) = %llu: too large", (unsigned long long)x,
		    (unsigned long long)r);
	/* (r + 1)^3 > x, or it does not fit in 64 bits */
	if (s <= CBRT_MAX && s * s * s <= x)
		fail_msg("cbrt(%llu) = %llu: too small", (unsigned long long)x,
		    (unsigned long long)r);
}

static void
test_cbrt_cubes(void **state)
{
	(void)state;
	assert_int_equal(tcp_cubic_cbrt(0), 0);
	assert_int_equal(tcp_cubic_cbrt(1), 1);
	assert_int_equal(tcp_cubic_cbrt(7), 1);
	assert_int_equal(tcp_cubic_cbrt(8), 2);
	assert_int_equal(tcp_cubic_cbrt(26), 2);
	assert_int_equal(tcp_cubic_cbrt(27), 3);
	assert_int_equal(tcp_cubic_cbrt(1000000000), 1000);
	assert_int_equal(tcp_cubic_cbrt(UINT64_MAX), CBRT_MAX);
	for (uint64_t n = 1; n <= CBRT_MAX; n++) {
		uint64_t c = n * n * n;

		if (tcp_cubic_cbrt(c) != n || tcp_cubic_cbrt(c - 1) != n - 1)
			fail_msg("cbrt at %llu^3", (unsigned long long)n);
		check_cbrt(c + 1);
	}
	/* every power of two and its neighbours */
	for (int b = 0; b < 64; b++) {
		uint64_t p = 1ull << b;

		check_cbrt(p - 1);
		check_cbrt(p);
		check_cbrt(p + 1);
	}
	check_cbrt(UINT64_MAX - 1);
}

static void
test_cbrt_random(void **state)
{
	uint64_t seed = 0xc0b1cull;

	(void)state;
	for (int i = 0; i < 1000000; i++) {
		uint64_t x = (uint64_t)th_rand(&seed) << 32 | th_rand(&seed);

		/* all magnitudes, not only the top of the range */
		check_cbrt(x >> (th_rand(&seed) % 64));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cbrt_cubes),
		cmocka_unit_test(test_cbrt_random),
	};

	th_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
