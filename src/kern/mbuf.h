/*
 * mbuf.h -- packet buffers in the NetBSD style (mbuf(9)).
 *
 * An mbuf is MSIZE bytes from the instance's mbuf pool: a header, then
 * MLEN bytes of internal data.  Larger data lives in external storage: a
 * MCLBYTES cluster from the cluster pool, or any buffer the caller attaches
 * with m_extadd() and a free callback (how received DPDK buffers are
 * wrapped without a copy).  External storage is described by a struct m_ext
 * that lives with the storage (at the end of a cluster; in a small pool
 * object for attached buffers), not in an mbuf: it holds the reference count,
 * so storage shared by m_copym()/m_split() outlives any one mbuf, and any
 * mbuf can drop its reference or take private storage at any time.
 *
 * Unlike NetBSD, the packet header and external-storage descriptor are not
 * overlaid on the data area: MLEN and MHLEN are equal, which keeps every
 * operation free of the "is there a header" size cases.
 *
 * Allocation never sleeps: M_WAIT and M_DONTWAIT both return NULL when the
 * pool is at its limit, and every caller handles that.
 */
#ifndef KERN_MBUF_H
#define KERN_MBUF_H

#include "libkern.h"

struct rump_kernel;
struct ifnet;

#define MSIZE 256
#define MCLBYTES 2048
#define MJUMBYTES 16384		/* a jumbo cluster: bulk data */
/*
 * The least bulk data that takes a jumbo cluster: at most a quarter of it
 * unused (an 8 KiB write, a 9000-byte frame, go into clusters)
 */
#define MJUMBYTES_BULK (MJUMBYTES / 4 * 3)
#define M_COPYALL (-1)

/* m_flags */
#define M_EXT 0x0001		/* data in external storage */
#define M_PKTHDR 0x0002		/* first mbuf of a packet: m_pkthdr valid */
#define M_EOR 0x0004		/* end of record */
#define M_BCAST 0x0100		/* link-level broadcast */
#define M_MCAST 0x0200		/* link-level multicast */
#define M_LOOP 0x0400		/* our own multicast, looped back */
#define M_COPYFLAGS (M_PKTHDR | M_EOR | M_BCAST | M_MCAST)

/* m_type */
#define MT_FREE 0
#define MT_DATA 1
#define MT_HEADER 2
#define MT_SONAME 3
#define MT_CONTROL 4
#define MT_OOBDATA 5

/* how */
#define M_DONTWAIT 0
#define M_WAIT 1

/* ext_type */
#define EXT_CLUSTER 1
#define EXT_EXTERNAL 2
#define EXT_JUMBO 3

/*
 * m_pkthdr.csum_flags: what the hardware checked or must compute.
 * M_CSUM_TCPv4 on a packet going out: its TCP checksum field is not
 * filled in yet (ip_output_if() computes it unless the interface does);
 * coming in: the data was checked (or never left memory) and the field
 * may be unfilled, so a forwarded packet keeps it for its way out.
 * M_CSUM_UDPv4: the same for UDP (a field left unfilled is 0).
 * M_CSUM_TSOv4: a TCP segment larger than the MTU, to be cut into
 * segments of m_pkthdr.segsz bytes of payload by the interface (or by
 * tcp_tso_segment() for one that cannot).
 */
#define M_CSUM_TCPv4 0x0001
#define M_CSUM_UDPv4 0x0002
#define M_CSUM_IPv4 0x0004
#define M_CSUM_TSOv4 0x0008
#define M_CSUM_TCP_UDP_BAD 0x0100
#define M_CSUM_IPv4_BAD 0x0200
#define M_CSUM_DATA 0x0400	/* csum_data holds a partial sum */

struct pkthdr {
	struct ifnet *rcvif;		/* receiving interface */
	int len;			/* total packet length */
	int csum_flags;
	uint32_t csum_data;
	uint16_t segsz;			/* for TSO */
};

typedef void (*m_ext_free_t)(void *buf, size_t size, void *arg);

struct m_ext {
	_Atomic unsigned ext_refcnt;	/* mbufs pointing at the storage */
	int ext_type;			/* EXT_* */
	char *ext_buf;			/* start of storage */
	size_t ext_size;
	m_ext_free_t ext_free;		/* EXT_EXTERNAL: releases the storage */
	void *ext_arg;
	struct rump_kernel *ext_kernel;	/* pools the descriptor came from */
};

struct mbuf {
	struct mbuf *m_next;		/* next buffer of this packet */
	struct mbuf *m_nextpkt;		/* next packet in a queue */
	char *m_data;			/* where the data starts */
	int m_len;			/* bytes in this mbuf */
	short m_type;			/* MT_* */
	short m_flags;			/* M_* */
	struct rump_kernel *m_kernel;	/* instance whose pool it came from */
	struct m_ext *m_ext;		/* M_EXT: the storage */
	struct pkthdr m_pkthdr;		/* M_PKTHDR */
	char m_dat[];			/* MLEN bytes */
};

#define MHDRSIZE (sizeof(struct mbuf))
#define MLEN ((int)(MSIZE - MHDRSIZE))
#define MHLEN MLEN

#define mtod(m, t) ((t)(void *)((m)->m_data))

/*
 * Allocation comes from the pools of the calling LWP's instance (curlwp),
 * on the vCPU it holds.
 */
struct mbuf *m_get(int how, int type);
struct mbuf *m_gethdr(int how, int type);
/* m_getcl: an mbuf (with a packet header if flags has M_PKTHDR) and a cluster. */
struct mbuf *m_getcl(int how, int type, int flags);
/* m_clget: attach a cluster to m; check M_EXT afterwards. */
void m_clget(struct mbuf *m, int how);
/*
 * m_getjcl: an mbuf with a jumbo cluster (MJUMBYTES), or NULL (none left,
 * or none at all: rump_kernel_config.jumbo_limit).
 */
struct mbuf *m_getjcl(int how, int type, int flags);
/*
 * m_extadd: make buf (size bytes) the external storage of m; free(buf,
 * size, arg) runs when the last reference goes away.  Returns 0, or ENOBUFS
 * (no descriptor; m unchanged, buf still the caller's).
 */
int m_extadd(struct mbuf *m, void *buf, size_t size, m_ext_free_t free,
    void *arg);
/* m_free: free one mbuf; returns its m_next. */
struct mbuf *m_free(struct mbuf *m);
/* m_freem: free a whole chain (NULL allowed). */
void m_freem(struct mbuf *m);

/* m_length: bytes in the chain. */
int m_length(const struct mbuf *m);
int m_leadingspace(const struct mbuf *m);
int m_trailingspace(const struct mbuf *m);
/* m_writable: the data of this one mbuf may be changed in place. */
bool m_writable(const struct mbuf *m);

/*
 * m_pullup: make the first len bytes contiguous in the first mbuf.  Returns
 * the (possibly new) chain, or NULL after freeing it when len is more than
 * the chain holds, more than MHLEN, or no mbuf is free.
 */
struct mbuf *m_pullup(struct mbuf *m, int len);
/* m_copydata: copy len bytes at off out of the chain; off + len <= length. */
void m_copydata(const struct mbuf *m, int off, int len, void *buf);
/*
 * m_copyback: write len bytes at off into the chain, growing it (zeroes in
 * any gap) and un-sharing shared storage it writes into.  Returns 0 or
 * ENOBUFS (the chain then holds a prefix of the write).
 */
int m_copyback(struct mbuf *m, int off, int len, const void *buf);
/*
 * m_copym: a new chain with len bytes (M_COPYALL: to the end) at off; the
 * packet header is copied when off is 0; external storage is shared, not
 * copied.  NULL if out of mbufs.
 */
struct mbuf *m_copym(struct mbuf *m, int off, int len, int how);
/* m_adj: trim req bytes from the head (req > 0) or the tail (req < 0). */
void m_adj(struct mbuf *m, int req);
/* m_cat: append chain n to chain m (packet header of n is dropped). */
void m_cat(struct mbuf *m, struct mbuf *n);
/*
 * m_split: cut m after len bytes and return the tail (with a packet header
 * when m has one), or NULL, leaving m as it was, when out of mbufs or len is
 * beyond the chain.
 */
struct mbuf *m_split(struct mbuf *m, int len, int how);
/*
 * m_prepend: make room for len bytes (<= MHLEN) before the data, with a new
 * mbuf in front when needed.  Returns the new head or NULL (chain freed).
 */
struct mbuf *m_prepend(struct mbuf *m, int len, int how);
/* M_PREPEND-style helper: uses leading space when there is enough. */
struct mbuf *m_prepend_fast(struct mbuf *m, int len, int how);
/*
 * m_append: append len bytes to the chain, taking new mbufs as needed.
 * Returns true on success; false when out of mbufs (a prefix was appended).
 */
bool m_append(struct mbuf *m, int len, const void *buf);
/*
 * m_append_bulk: the same for bulk data (a stream send, a large frame
 * copied in): while at least MJUMBYTES_BULK bytes are left, into jumbo
 * clusters (clusters when there are none, for the rest of the call).
 * A 64 KiB send then takes 4 buffers instead of 32, and every step after
 * it (the copies, the references, a segment's pieces at the driver) as
 * many.
 */
bool m_append_bulk(struct mbuf *m, int len, const void *buf);

/*
 * m_devget: a packet (M_PKTHDR) holding a copy of len bytes of buf, in an
 * mbuf or clusters; NULL when out of buffers.  For drivers that copy.
 */
struct mbuf *m_devget(const void *buf, int len);

/* Instance plumbing (kern_mbuf.c). */
int mbuf_init(struct rump_kernel *k);
void mbuf_fini(struct rump_kernel *k);

#endif /* KERN_MBUF_H */
