/*
 * kern_subr.c -- panic, assertions and console output for kernel code.
 */
#include "libkern.h"
#include "../hyper/hyper.h"

static void
u64_to_str(uint64_t v, char *buf, size_t len)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && n < sizeof(tmp));
	size_t i = 0;
	while (n > 0 && i + 1 < len)
		buf[i++] = tmp[--n];
	buf[i] = '\0';
}

void
kern_print(const char *msg)
{
	hyper_putstr(msg);
}

void
kern_print_u64(const char *msg, uint64_t v)
{
	char num[24];

	u64_to_str(v, num, sizeof(num));
	hyper_putstr(msg);
	hyper_putstr(num);
	hyper_putstr("\n");
}

void
panic(const char *msg)
{
	hyper_putstr("rumpnet panic: ");
	hyper_putstr(msg);
	hyper_putstr("\n");
	hyper_abort();
}

void
kern_assert_fail(const char *expr, const char *file, int line)
{
	char num[24];

	u64_to_str((uint64_t)line, num, sizeof(num));
	hyper_putstr("rumpnet panic: assertion \"");
	hyper_putstr(expr);
	hyper_putstr("\" failed at ");
	hyper_putstr(file);
	hyper_putstr(":");
	hyper_putstr(num);
	hyper_putstr("\n");
	hyper_abort();
}
