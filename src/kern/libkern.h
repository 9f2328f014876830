/*
 * libkern.h -- what kernel code may use from "libc": the compiler's
 * freestanding headers, memory/string builtins, assertions and panic.
 * Kernel code includes this instead of any host header.
 */
#ifndef KERN_LIBKERN_H
#define KERN_LIBKERN_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errno.h"

#define memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#define memmove(d, s, n) __builtin_memmove((d), (s), (n))
#define memset(d, c, n) __builtin_memset((d), (c), (n))
#define memcmp(a, b, n) __builtin_memcmp((a), (b), (n))
#define strlen(s) __builtin_strlen(s)
#define strcmp(a, b) __builtin_strcmp((a), (b))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* spin_pause: tell the CPU we are in a spin-wait loop. */
static inline void
spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * rand_next: xorshift64*, a small seeded generator for what must repeat
 * for a seed (the bus's and the interfaces' impairments); *state != 0.
 * rand_chance: true with probability p (no draw when p <= 0, so that a
 * knob at 0 leaves the sequence of the others as it was).
 */
static inline uint64_t
rand_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline bool
rand_chance(uint64_t *state, double p)
{
	if (p <= 0.0)
		return false;
	return (double)(rand_next(state) >> 11) * (1.0 / 9007199254740992.0) <
	    p;
}

/* Byte order: the network is big-endian. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define htons(x) ((uint16_t)__builtin_bswap16((uint16_t)(x)))
#define htonl(x) ((uint32_t)__builtin_bswap32((uint32_t)(x)))
#else
#define htons(x) ((uint16_t)(x))
#define htonl(x) ((uint32_t)(x))
#endif
#define ntohs(x) htons(x)
#define ntohl(x) htonl(x)

#define CACHE_LINE_SIZE 64
#define __cacheline_aligned __attribute__((__aligned__(CACHE_LINE_SIZE)))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define roundup2(x, m) (((x) + ((m) - 1)) & ~((m) - 1))
#define __arraycount(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(p, type, field) \
	((type *)(void *)((char *)(p) - offsetof(type, field)))

/* panic: print msg and end the process.  Never returns. */
void panic(const char *msg) __attribute__((__noreturn__));
/* kern_assert_fail: the KASSERT failure path. */
void kern_assert_fail(const char *expr, const char *file, int line)
    __attribute__((__noreturn__));
/* kern_printf_u: print a message with one unsigned number (no varargs). */
void kern_print(const char *msg);
void kern_print_u64(const char *msg, uint64_t v);

#define KASSERT(e) \
	(likely(e) ? (void)0 : kern_assert_fail(#e, __FILE__, __LINE__))

#endif /* KERN_LIBKERN_H */
