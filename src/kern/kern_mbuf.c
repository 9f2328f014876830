/*
 * kern_mbuf.c -- mbuf allocation and chain operations (interface: mbuf.h).
 *
 * Chain invariants kept by every function here:
 *  - only the first mbuf of a packet has M_PKTHDR, and its m_pkthdr.len is
 *    the sum of m_len over the chain;
 *  - an mbuf's data lies inside its own storage (m_dat or the external
 *    buffer);
 *  - shared external storage (refcount > 1) is never written: writers make a
 *    private copy first (m_copyback()).
 */
#include "kernel.h"
#include "mbuf.h"
#include "pool.h"

static inline struct rump_kernel *
mbuf_kernel(void)
{
	return curlwp->l_kernel;
}

static inline struct mbuf *
m_alloc(int type, int flags)
{
	struct rump_kernel *k = mbuf_kernel();
	struct mbuf *m = pool_cache_get(k->k_mbpool);

	if (unlikely(m == NULL))
		return NULL;
	m->m_next = NULL;
	m->m_nextpkt = NULL;
	m->m_data = m->m_dat;
	m->m_len = 0;
	m->m_type = (short)type;
	m->m_flags = (short)flags;
	m->m_kernel = k;
	m->m_ext = NULL;
	if (flags & M_PKTHDR)
		memset(&m->m_pkthdr, 0, sizeof(m->m_pkthdr));
	return m;
}

struct mbuf *
m_get(int how, int type)
{
	(void)how;
	return m_alloc(type, 0);
}

struct mbuf *
m_gethdr(int how, int type)
{
	(void)how;
	return m_alloc(type, M_PKTHDR);
}

/* Attach a cluster of pc (size bytes, of ext_type) to m, if there is one. */
static void
m_clget_pool(struct mbuf *m, struct rump_kernel *k, pool_cache_t *pc,
    size_t size, int type)
{
	char *cl;
	struct m_ext *ext;

	if (pc == NULL || (cl = pool_cache_get(pc)) == NULL)
		return;
	/* the descriptor lives at the end of the cluster */
	ext = (struct m_ext *)(void *)(cl + size);
	atomic_init(&ext->ext_refcnt, 1);
	ext->ext_type = type;
	ext->ext_buf = cl;
	ext->ext_size = size;
	ext->ext_free = NULL;
	ext->ext_arg = NULL;
	ext->ext_kernel = k;
	m->m_ext = ext;
	m->m_data = cl;
	m->m_flags |= M_EXT;
}

void
m_clget(struct mbuf *m, int how)
{
	struct rump_kernel *k = mbuf_kernel();

	(void)how;
	m_clget_pool(m, k, k->k_clpool, MCLBYTES, EXT_CLUSTER);
}

/* An mbuf with storage of pool pc attached, or NULL. */
static struct mbuf *
m_getcl_pool(int type, int flags, pool_cache_t *pc, size_t size,
    int ext_type)
{
	struct mbuf *m;

	if (pc == NULL)
		return NULL;
	if ((m = m_alloc(type, flags & M_PKTHDR)) == NULL)
		return NULL;
	m_clget_pool(m, m->m_kernel, pc, size, ext_type);
	if (!(m->m_flags & M_EXT)) {
		m_free(m);
		return NULL;
	}
	return m;
}

struct mbuf *
m_getcl(int how, int type, int flags)
{
	(void)how;
	return m_getcl_pool(type, flags, mbuf_kernel()->k_clpool, MCLBYTES,
	    EXT_CLUSTER);
}

struct mbuf *
m_getjcl(int how, int type, int flags)
{
	(void)how;
	return m_getcl_pool(type, flags, mbuf_kernel()->k_jclpool, MJUMBYTES,
	    EXT_JUMBO);
}

int
m_extadd(struct mbuf *m, void *buf, size_t size, m_ext_free_t free,
    void *arg)
{
	struct rump_kernel *k = mbuf_kernel();
	struct m_ext *ext = pool_cache_get(k->k_extpool);

	if (ext == NULL)
		return ENOBUFS;
	atomic_init(&ext->ext_refcnt, 1);
	ext->ext_type = EXT_EXTERNAL;
	ext->ext_buf = buf;
	ext->ext_size = size;
	ext->ext_free = free;
	ext->ext_arg = arg;
	ext->ext_kernel = k;
	m->m_ext = ext;
	m->m_data = buf;
	m->m_flags |= M_EXT;
	return 0;
}

/* Drop one reference to external storage; free it with the last. */
static void
m_ext_release(struct m_ext *ext)
{
	if (atomic_fetch_sub_explicit(&ext->ext_refcnt, 1,
	    memory_order_acq_rel) != 1)
		return;
	if (ext->ext_type == EXT_CLUSTER) {
		pool_cache_put(ext->ext_kernel->k_clpool, ext->ext_buf);
		return;
	}
	if (ext->ext_type == EXT_JUMBO) {
		pool_cache_put(ext->ext_kernel->k_jclpool, ext->ext_buf);
		return;
	}
	ext->ext_free(ext->ext_buf, ext->ext_size, ext->ext_arg);
	pool_cache_put(ext->ext_kernel->k_extpool, ext);
}

/* Let n point at m's storage too. */
static void
m_ext_share(struct mbuf *n, const struct mbuf *m)
{
	atomic_fetch_add_explicit(&m->m_ext->ext_refcnt, 1,
	    memory_order_relaxed);
	n->m_ext = m->m_ext;
	n->m_flags |= M_EXT;
}

struct mbuf *
m_free(struct mbuf *m)
{
	struct mbuf *n = m->m_next;

	if (m->m_flags & M_EXT)
		m_ext_release(m->m_ext);
	pool_cache_put(m->m_kernel->k_mbpool, m);
	return n;
}

void
m_freem(struct mbuf *m)
{
	while (m != NULL)
		m = m_free(m);
}

int
m_length(const struct mbuf *m)
{
	int len = 0;

	for (; m != NULL; m = m->m_next)
		len += m->m_len;
	return len;
}

bool
m_writable(const struct mbuf *m)
{
	return !(m->m_flags & M_EXT) ||
	    atomic_load_explicit(&m->m_ext->ext_refcnt,
	    memory_order_acquire) == 1;
}

static inline char *
m_start(const struct mbuf *m)
{
	return (m->m_flags & M_EXT) ? m->m_ext->ext_buf : (char *)m->m_dat;
}

static inline char *
m_end(const struct mbuf *m)
{
	return (m->m_flags & M_EXT) ? m->m_ext->ext_buf + m->m_ext->ext_size :
	    (char *)m->m_dat + MLEN;
}

int
m_leadingspace(const struct mbuf *m)
{
	if (!m_writable(m))
		return 0;
	return (int)(m->m_data - m_start(m));
}

int
m_trailingspace(const struct mbuf *m)
{
	if (!m_writable(m))
		return 0;
	return (int)(m_end(m) - (m->m_data + m->m_len));
}

/* Move the packet header of from to to (to must not have one). */
static void
m_move_pkthdr(struct mbuf *to, struct mbuf *from)
{
	to->m_pkthdr = from->m_pkthdr;
	to->m_flags = (short)((to->m_flags & M_EXT) |
	    (from->m_flags & M_COPYFLAGS));
	from->m_flags &= ~M_PKTHDR;
}

struct mbuf *
m_pullup(struct mbuf *n, int len)
{
	struct mbuf *m;
	int space;

	if (len < 0 || len > m_length(n))
		goto bad;
	if (n->m_len >= len)
		return n;
	if (!(n->m_flags & M_EXT) && n->m_data + len <= n->m_dat + MLEN &&
	    n->m_next != NULL) {
		/* room in the first mbuf: pull the rest into it */
		m = n;
		n = n->m_next;
		len -= m->m_len;
	} else {
		if (len > MHLEN)
			goto bad;
		if ((m = m_get(M_DONTWAIT, n->m_type)) == NULL)
			goto bad;
		if (n->m_flags & M_PKTHDR)
			m_move_pkthdr(m, n);
	}
	space = (int)(m->m_dat + MLEN - (m->m_data + m->m_len));
	do {
		int count = MIN(MIN(len, space), n->m_len);

		memcpy(m->m_data + m->m_len, n->m_data, (size_t)count);
		len -= count;
		m->m_len += count;
		n->m_len -= count;
		space -= count;
		if (n->m_len > 0)
			n->m_data += count;
		else
			n = m_free(n);
	} while (len > 0 && n != NULL);
	KASSERT(len == 0);
	m->m_next = n;
	return m;
bad:
	m_freem(n);
	return NULL;
}

void
m_copydata(const struct mbuf *m, int off, int len, void *buf)
{
	char *cp = buf;

	KASSERT(off >= 0 && len >= 0);
	while (off > 0) {
		KASSERT(m != NULL);
		if (off < m->m_len)
			break;
		off -= m->m_len;
		m = m->m_next;
	}
	while (len > 0) {
		KASSERT(m != NULL);
		int count = MIN(m->m_len - off, len);

		memcpy(cp, m->m_data + off, (size_t)count);
		len -= count;
		cp += count;
		off = 0;
		m = m->m_next;
	}
}

/*
 * Give m private storage holding the same bytes (copy on write).  Attached
 * storage may hold more than a cluster: then m is cut first, keeping
 * MCLBYTES bytes, and a new mbuf after it shares the rest until a write
 * reaches that too.  Returns false, the chain's bytes unchanged, when out of
 * buffers.
 */
static bool
m_unshare_one(struct mbuf *m)
{
	struct m_ext *old = m->m_ext;
	char *src = m->m_data;
	struct mbuf *n;

	if (m_writable(m))
		return true;
	if (m->m_len > MCLBYTES) {
		if ((n = m_get(M_DONTWAIT, m->m_type)) == NULL)
			return false;
		m_ext_share(n, m);
		n->m_data = m->m_data + MCLBYTES;
		n->m_len = m->m_len - MCLBYTES;
		n->m_next = m->m_next;
		m->m_next = n;
		m->m_len = MCLBYTES;
	}
	if (m->m_len <= MLEN) {
		m->m_flags &= ~M_EXT;
		m->m_ext = NULL;
		m->m_data = m->m_dat;
	} else {
		m->m_flags &= ~M_EXT;
		m_clget(m, M_DONTWAIT);
		if (!(m->m_flags & M_EXT)) {
			m->m_flags |= M_EXT;
			m->m_ext = old;
			return false;
		}
	}
	memcpy(m->m_data, src, (size_t)m->m_len);
	m_ext_release(old);
	return true;
}

/* A new tail mbuf able to hold up to want bytes, zero-filled to its length. */
static struct mbuf *
m_grow_tail(struct mbuf *m, int want)
{
	struct mbuf *n;

	if (want > MLEN)
		n = m_getcl(M_DONTWAIT, m->m_type, 0);
	else
		n = m_get(M_DONTWAIT, m->m_type);
	if (n == NULL)
		return NULL;
	n->m_len = MIN(want, (int)(m_end(n) - n->m_data));
	memset(n->m_data, 0, (size_t)n->m_len);
	m->m_next = n;
	return n;
}

int
m_copyback(struct mbuf *m0, int off, int len, const void *buf)
{
	const char *cp = buf;
	struct mbuf *m = m0;
	int error = 0;

	KASSERT(off >= 0 && len >= 0);
	while (off > m->m_len) {
		off -= m->m_len;
		if (m->m_next == NULL && m_grow_tail(m, off + len) == NULL) {
			error = ENOBUFS;
			goto out;
		}
		m = m->m_next;
	}
	while (len > 0) {
		if (off < m->m_len && !m_unshare_one(m)) {
			error = ENOBUFS;
			goto out;
		}
		/* un-sharing may have cut m short of off */
		if (off < m->m_len) {
			int count = MIN(m->m_len - off, len);

			memcpy(m->m_data + off, cp, (size_t)count);
			cp += count;
			len -= count;
			off += count;
		}
		if (len == 0)
			break;
		off -= m->m_len;
		if (m->m_next == NULL && m_grow_tail(m, len) == NULL) {
			error = ENOBUFS;
			goto out;
		}
		m = m->m_next;
	}
out:
	if ((m0->m_flags & M_PKTHDR) && m0->m_pkthdr.len < m_length(m0))
		m0->m_pkthdr.len = m_length(m0);
	return error;
}

struct mbuf *
m_copym(struct mbuf *m, int off, int len, int how)
{
	struct mbuf *m0 = m, *top = NULL, **np = &top, *n;
	bool copyhdr = off == 0 && (m->m_flags & M_PKTHDR);

	KASSERT(off >= 0 && (len >= 0 || len == M_COPYALL));
	while (off > 0) {
		KASSERT(m != NULL);
		if (off < m->m_len)
			break;
		off -= m->m_len;
		m = m->m_next;
	}
	while (len > 0 || len == M_COPYALL) {
		if (m == NULL) {
			KASSERT(len == M_COPYALL);
			break;
		}
		if ((n = m_get(how, m->m_type)) == NULL)
			goto nospace;
		*np = n;
		if (copyhdr) {
			n->m_pkthdr = m0->m_pkthdr;
			n->m_flags |= m0->m_flags & M_COPYFLAGS;
			if (len != M_COPYALL)
				n->m_pkthdr.len = len;
			copyhdr = false;
		}
		n->m_len = len == M_COPYALL ? m->m_len - off :
		    MIN(len, m->m_len - off);
		if (m->m_flags & M_EXT) {
			m_ext_share(n, m);
			n->m_data = m->m_data + off;
		} else {
			memcpy(n->m_data, m->m_data + off, (size_t)n->m_len);
		}
		if (len != M_COPYALL)
			len -= n->m_len;
		off = 0;
		m = m->m_next;
		np = &n->m_next;
	}
	return top;
nospace:
	m_freem(top);
	return NULL;
}

void
m_adj(struct mbuf *mp, int req_len)
{
	struct mbuf *m = mp;
	int len, count;

	if (mp == NULL)
		return;
	if (req_len >= 0) {
		len = req_len;
		while (m != NULL && len > 0) {
			if (m->m_len <= len) {
				len -= m->m_len;
				m->m_data += m->m_len;
				m->m_len = 0;
				m = m->m_next;
			} else {
				m->m_len -= len;
				m->m_data += len;
				len = 0;
			}
		}
		if (mp->m_flags & M_PKTHDR)
			mp->m_pkthdr.len -= req_len - len;
		return;
	}
	len = -req_len;
	count = m_length(mp) - len;
	if (count < 0)
		count = 0;
	if (mp->m_flags & M_PKTHDR)
		mp->m_pkthdr.len = count;
	for (; m != NULL; m = m->m_next) {
		if (m->m_len >= count) {
			m->m_len = count;
			count = 0;
		} else {
			count -= m->m_len;
		}
	}
}

void
m_cat(struct mbuf *m, struct mbuf *n)
{
	while (m->m_next != NULL)
		m = m->m_next;
	while (n != NULL) {
		if ((n->m_flags & M_EXT) || n->m_len > m_trailingspace(m)) {
			n->m_flags &= ~M_PKTHDR;
			m->m_next = n;
			return;
		}
		memcpy(m->m_data + m->m_len, n->m_data, (size_t)n->m_len);
		m->m_len += n->m_len;
		n = m_free(n);
	}
}

struct mbuf *
m_split(struct mbuf *m0, int len0, int how)
{
	struct mbuf *m, *n;
	int len = len0, remain;

	if (len0 < 0)
		return NULL;
	for (m = m0; m != NULL && len > m->m_len; m = m->m_next)
		len -= m->m_len;
	if (m == NULL)
		return NULL;
	remain = m->m_len - len;
	if (m0->m_flags & M_PKTHDR) {
		if ((n = m_gethdr(how, m0->m_type)) == NULL)
			return NULL;
		n->m_pkthdr = m0->m_pkthdr;
		n->m_flags |= m0->m_flags & (M_COPYFLAGS & ~M_PKTHDR);
		n->m_pkthdr.len = m0->m_pkthdr.len - len0;
		m0->m_pkthdr.len = len0;
	} else if (remain == 0) {
		n = m->m_next;
		m->m_next = NULL;
		return n;
	} else if ((n = m_get(how, m->m_type)) == NULL) {
		return NULL;
	}
	if (m->m_flags & M_EXT) {
		m_ext_share(n, m);
		n->m_data = m->m_data + len;
	} else {
		memcpy(n->m_data, m->m_data + len, (size_t)remain);
	}
	n->m_len = remain;
	m->m_len = len;
	n->m_next = m->m_next;
	m->m_next = NULL;
	return n;
}

struct mbuf *
m_prepend(struct mbuf *m, int len, int how)
{
	struct mbuf *mn;

	KASSERT(len >= 0 && len <= MHLEN);
	if (m->m_flags & M_PKTHDR) {
		mn = m_gethdr(how, m->m_type);
		if (mn != NULL)
			m_move_pkthdr(mn, m);
	} else {
		mn = m_get(how, m->m_type);
	}
	if (mn == NULL) {
		m_freem(m);
		return NULL;
	}
	mn->m_next = m;
	/* data at the end of the new mbuf: leaves room for more headers */
	mn->m_data = mn->m_dat + MHLEN - len;
	mn->m_len = len;
	return mn;
}

struct mbuf *
m_prepend_fast(struct mbuf *m, int len, int how)
{
	if (m_leadingspace(m) >= len) {
		m->m_data -= len;
		m->m_len += len;
	} else if ((m = m_prepend(m, len, how)) == NULL) {
		return NULL;
	}
	if (m->m_flags & M_PKTHDR)
		m->m_pkthdr.len += len;
	return m;
}

static bool
m_append_pieces(struct mbuf *m0, int len, const void *buf, bool bulk)
{
	const char *cp = buf;
	struct mbuf *m = m0, *n;
	int remainder = len, space;

	KASSERT(len >= 0);
	while (m->m_next != NULL)
		m = m->m_next;
	space = MIN(m_trailingspace(m), remainder);
	if (space > 0) {
		memcpy(m->m_data + m->m_len, cp, (size_t)space);
		m->m_len += space;
		cp += space;
		remainder -= space;
	}
	while (remainder > 0) {
		n = NULL;
		/* none left: clusters for the rest of this append */
		if (bulk && remainder >= MJUMBYTES_BULK &&
		    (n = m_getjcl(M_DONTWAIT, m->m_type, 0)) == NULL)
			bulk = false;
		if (n == NULL && remainder > MLEN)
			n = m_getcl(M_DONTWAIT, m->m_type, 0);
		else if (n == NULL)
			n = m_get(M_DONTWAIT, m->m_type);
		if (n == NULL)
			break;
		n->m_len = MIN((int)(m_end(n) - n->m_data), remainder);
		memcpy(n->m_data, cp, (size_t)n->m_len);
		cp += n->m_len;
		remainder -= n->m_len;
		m->m_next = n;
		m = n;
	}
	if (m0->m_flags & M_PKTHDR)
		m0->m_pkthdr.len += len - remainder;
	return remainder == 0;
}

bool
m_append(struct mbuf *m0, int len, const void *buf)
{
	return m_append_pieces(m0, len, buf, false);
}

bool
m_append_bulk(struct mbuf *m0, int len, const void *buf)
{
	return m_append_pieces(m0, len, buf, true);
}

struct mbuf *
m_devget(const void *buf, int len)
{
	struct mbuf *m;

	KASSERT(len >= 0);
	m = len > MHLEN ? m_getcl(M_DONTWAIT, MT_DATA, M_PKTHDR) :
	    m_gethdr(M_DONTWAIT, MT_DATA);
	if (m == NULL)
		return NULL;
	/* align the IP header that follows a 14-byte Ethernet header */
	if (len + 2 <= m_trailingspace(m))
		m->m_data += 2;
	if (!m_append(m, len, buf)) {
		m_freem(m);
		return NULL;
	}
	return m;
}

int
mbuf_init(struct rump_kernel *k)
{
	unsigned nmb = k->k_cfg.mbuf_limit ? k->k_cfg.mbuf_limit : 65536;
	unsigned ncl = k->k_cfg.cluster_limit ? k->k_cfg.cluster_limit : 32768;
	unsigned njcl = k->k_cfg.jumbo_limit ? k->k_cfg.jumbo_limit :
	    k->k_cfg.cluster_limit ? 0 : 4096;
	int error;

	_Static_assert(MLEN >= 128, "mbuf header too large for MSIZE");
	error = pool_cache_create(k, "mbpl", MSIZE, CACHE_LINE_SIZE, nmb,
	    &k->k_mbpool);
	if (error)
		return error;
	error = pool_cache_create(k, "mclpl", MCLBYTES + sizeof(struct m_ext),
	    CACHE_LINE_SIZE, ncl, &k->k_clpool);
	if (error)
		return error;
	/* none when only the clusters were bounded: that bounds it all */
	if (njcl != 0 && (error = pool_cache_create(k, "mjclpl",
	    MJUMBYTES + sizeof(struct m_ext), CACHE_LINE_SIZE, njcl,
	    &k->k_jclpool)) != 0)
		return error;
	/* one descriptor per attached buffer: bounded by the mbufs */
	return pool_cache_create(k, "mextpl", sizeof(struct m_ext), 0, nmb,
	    &k->k_extpool);
}

/*
 * The pools of instances gone with frames still lent (k_mbuf_lent): kept
 * here, where they stay reachable (a leak checker sees memory kept on
 * purpose, not lost), for as long as the process lives.
 */
#define MBUF_KEPT_MAX 64
static pool_cache_t *mbuf_kept[MBUF_KEPT_MAX][4];
static _Atomic unsigned mbuf_nkept;

void
mbuf_fini(struct rump_kernel *k)
{
	if (atomic_load(&k->k_mbuf_lent)) {
		unsigned i = atomic_fetch_add(&mbuf_nkept, 1);

		kern_print("rumpnet: frames lent to a port never came back: "
		    "their mbuf memory stays allocated\n");
		if (i < MBUF_KEPT_MAX) {
			mbuf_kept[i][0] = k->k_mbpool;
			mbuf_kept[i][1] = k->k_clpool;
			mbuf_kept[i][2] = k->k_extpool;
			mbuf_kept[i][3] = k->k_jclpool;
		}
		return;
	}
	if (k->k_extpool != NULL)
		pool_cache_destroy(k->k_extpool);
	if (k->k_jclpool != NULL)
		pool_cache_destroy(k->k_jclpool);
	if (k->k_clpool != NULL)
		pool_cache_destroy(k->k_clpool);
	if (k->k_mbpool != NULL)
		pool_cache_destroy(k->k_mbpool);
}
