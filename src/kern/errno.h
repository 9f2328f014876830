/*
 * errno.h -- kernel errno values (NetBSD numbering).  The public API turns
 * them into the host's values with hyper_errno_to_host() at the boundary.
 */
#ifndef KERN_ERRNO_H
#define KERN_ERRNO_H

enum kern_errno {
#define KERRNO(name, value) name = value,
#include "errno_list.h"
#undef KERRNO
	/* Kernel-only: no POSIX host has these; they never cross the API. */
	EPROGMISMATCH = 75,
	EJUSTRETURN = -2,	/* done, return to the caller without error */
	ERESTART = -3,		/* restart the system call */
};

#define EWOULDBLOCK EAGAIN

#endif /* KERN_ERRNO_H */
