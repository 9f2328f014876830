/*
 * tcp_seq.h -- sequence number arithmetic (RFC 9293 3.4): modulo 2^32,
 * compared only through these helpers.
 */
#ifndef NETINET_TCP_SEQ_H
#define NETINET_TCP_SEQ_H

#include "netinet/tcp.h"

#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)
#define SEQ_MIN(a, b) (SEQ_LT(a, b) ? (a) : (b))
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))
/* a <= x < b, modulo 2^32 */
#define SEQ_INRANGE(x, a, b) (SEQ_LEQ(a, x) && SEQ_LT(x, b))

/* Timestamps (RFC 7323 5.2) wrap the same way. */
#define TSTMP_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define TSTMP_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)

#endif /* NETINET_TCP_SEQ_H */
