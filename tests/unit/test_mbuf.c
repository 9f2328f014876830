/*
 * test_mbuf.c -- mbuf(9) allocation and chain operations.
 *
 * Every test runs on a fresh instance, holds its vCPU while it calls the mbuf
 * functions, and ends with th_kernel_destroy(), whose leak check proves that
 * every mbuf, cluster and external-storage descriptor went back to its pool.
 * Expected bytes come from pat[] (fixed-seed random bytes, so an off-by-one
 * in any offset shows up as a mismatch); the randomized model test at the end
 * mirrors a packet in a flat buffer through thousands of operation sequences.
 */
#include "harness.h"

#include "kern/kernel.h"
#include "kern/mbuf.h"
#include "kern/pool.h"

#define PAT_LEN (64 * 1024)

static unsigned char pat[PAT_LEN];	/* expected data of most chains */
static unsigned char pat2[PAT_LEN];	/* what the tests write over it */
static unsigned char mb_tmp[PAT_LEN + 16];	/* read-back buffer */

/* Where the model test was when it failed (printed by the teardown). */
static int mb_seq = -1;
static int mb_opno = -1;

/* ---- instance and pool helpers ---- */

/* A new instance (limits 0: the defaults), entered on this thread. */
static struct rump_kernel *
mb_enter(void **state, unsigned mbuf_limit, unsigned cluster_limit)
{
	struct rump_kernel_config cfg;
	struct rump_kernel *k = NULL;

	if (mbuf_limit == 0 && cluster_limit == 0) {
		k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, 1);
	} else {
		rump_kernel_config_default(&cfg);
		cfg.clock = RUMP_CLOCK_VIRTUAL;
		cfg.clock_thread = false;
		cfg.mbuf_limit = mbuf_limit;
		cfg.cluster_limit = cluster_limit;
		assert_int_equal(rump_kernel_create(&cfg, &k), 0);
		assert_non_null(k);
	}
	*state = k;
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	return k;
}

/* Leave the kernel and destroy the instance, asserting nothing leaked. */
static void
mb_leave(void **state)
{
	rump_unschedule();
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(*state);
	*state = NULL;
}

/*
 * After a failed assertion the thread is still inside the kernel: get out
 * and free the instance, so the next test starts clean.
 */
static int
mb_teardown(void **state)
{
	struct rump_kernel *k = *state;

	if (k == NULL)
		return 0;
	if (mb_seq >= 0)
		print_message("model test failed in sequence %d, op %d\n",
		    mb_seq, mb_opno);
	if (curlwp != NULL) {
		if (curlwp->l_cpu != NULL)
			rump_unschedule();
		rump_thread_unbind();
	}
	rump_kernel_destroy(k);
	*state = NULL;
	return 0;
}

static int
mb_group_setup(void **state)
{
	uint64_t rng = 0x6d627566u;	/* fixed: every run sees the same bytes */

	(void)state;
	for (size_t i = 0; i < PAT_LEN; i++) {
		pat[i] = (unsigned char)th_rand(&rng);
		pat2[i] = (unsigned char)th_rand(&rng);
	}
	return 0;
}

static unsigned
mb_refcnt(const struct mbuf *m)
{
	return atomic_load(&m->m_ext->ext_refcnt);
}

/* Leave stale bytes in the pools so zero fill is really checked. */
static void
mb_dirty(void)
{
	struct mbuf *m = m_gethdr(M_DONTWAIT, MT_DATA);

	assert_non_null(m);
	assert_true(m_append(m, 8 * MCLBYTES, pat2));
	m_freem(m);
}

/* ---- chain helpers ---- */

static void
bytes_equal(const void *got, const void *want, int len)
{
	/* memcmp first: cmocka's byte loop is only needed to show a diff */
	if (len > 0 && memcmp(got, want, (size_t)len) != 0)
		assert_memory_equal(got, want, (size_t)len);
}

struct seg {
	int len;
	bool cl;	/* in a cluster, not in the mbuf */
};

/* A chain of mbufs with the lengths of segs, holding src's bytes. */
static struct mbuf *
mb_build(const struct seg *segs, int nseg, bool hdr, const unsigned char *src)
{
	struct mbuf *top = NULL, **np = &top, *m;
	int total = 0;

	for (int i = 0; i < nseg; i++) {
		int flags = (i == 0 && hdr) ? M_PKTHDR : 0;

		if (segs[i].cl)
			m = m_getcl(M_DONTWAIT, MT_DATA, flags);
		else if (flags)
			m = m_gethdr(M_DONTWAIT, MT_DATA);
		else
			m = m_get(M_DONTWAIT, MT_DATA);
		assert_non_null(m);
		assert_true(segs[i].len <= m_trailingspace(m));
		memcpy(mtod(m, char *), src + total, (size_t)segs[i].len);
		m->m_len = segs[i].len;
		total += segs[i].len;
		*np = m;
		np = &m->m_next;
	}
	if (hdr)
		top->m_pkthdr.len = total;
	return top;
}

static int
mb_count(const struct mbuf *m)
{
	int n = 0;

	for (; m != NULL; m = m->m_next)
		n++;
	return n;
}

/*
 * The chain holds exactly want[0..len): lengths agree, only the head has a
 * packet header, every mbuf's data lies inside its own storage and every
 * external storage is referenced.
 */
static void
mb_check(const struct mbuf *m, const void *want, int len)
{
	assert_non_null(m);
	assert_true(len <= PAT_LEN);
	assert_int_equal(m_length(m), len);
	if (m->m_flags & M_PKTHDR)
		assert_int_equal(m->m_pkthdr.len, len);
	for (const struct mbuf *n = m; n != NULL; n = n->m_next) {
		const char *start = n->m_dat, *end = n->m_dat + MLEN;

		if (n != m)
			assert_int_equal(n->m_flags & M_PKTHDR, 0);
		if (n->m_flags & M_EXT) {
			assert_non_null(n->m_ext);
			assert_true(mb_refcnt(n) >= 1);
			start = n->m_ext->ext_buf;
			end = start + n->m_ext->ext_size;
		}
		assert_true(n->m_len >= 0);
		assert_true(n->m_data >= start);
		assert_true(n->m_data + n->m_len <= end);
	}
	mb_tmp[len] = 0xa5;
	m_copydata(m, 0, len, mb_tmp);
	bytes_equal(mb_tmp, want, len);
	assert_int_equal(mb_tmp[len], 0xa5);
}

/* ---- allocation ---- */

static void
test_get_basics(void **state)
{
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m, *h;
	struct rump_pool_stat st;

	m = m_get(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	assert_null(m->m_next);
	assert_null(m->m_nextpkt);
	assert_int_equal(m->m_len, 0);
	assert_int_equal(m->m_type, MT_DATA);
	assert_int_equal(m->m_flags, 0);
	assert_ptr_equal(m->m_data, m->m_dat);
	assert_ptr_equal(m->m_kernel, k);
	assert_null(m->m_ext);
	assert_int_equal(m_leadingspace(m), 0);
	assert_int_equal(m_trailingspace(m), MLEN);
	assert_true(m_writable(m));

	h = m_gethdr(M_WAIT, MT_HEADER);
	assert_non_null(h);
	assert_int_equal(h->m_type, MT_HEADER);
	assert_int_equal(h->m_flags, M_PKTHDR);
	assert_int_equal(h->m_pkthdr.len, 0);
	assert_null(h->m_pkthdr.rcvif);
	assert_int_equal(h->m_pkthdr.csum_flags, 0);
	assert_int_equal(h->m_pkthdr.csum_data, 0);
	assert_int_equal(h->m_pkthdr.segsz, 0);
	assert_int_equal(m_trailingspace(h), MHLEN);

	/* MLEN bytes fill one mbuf exactly; one more byte needs a second */
	assert_true(m_append(m, MLEN, pat));
	assert_null(m->m_next);
	assert_int_equal(m->m_len, MLEN);
	assert_int_equal(m_trailingspace(m), 0);
	assert_true(m_append(h, MHLEN + 1, pat));
	assert_int_equal(h->m_len, MHLEN);
	assert_non_null(h->m_next);
	assert_int_equal(h->m_next->m_len, 1);
	assert_int_equal(h->m_next->m_flags, 0);
	mb_check(h, pat, MHLEN + 1);
	assert_int_equal(th_pool_out(k, "mbpl"), 3);

	assert_null(m_free(m));
	m_freem(h);
	m_freem(NULL);
	st = th_pool(k, "mbpl");
	assert_int_equal(st.nget, 3);
	assert_int_equal(st.nput, 3);
	assert_int_equal(st.nfail, 0);
	mb_leave(state);
}

static void
test_getcl_and_clget(void **state)
{
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m, *n, *p;

	m = m_getcl(M_DONTWAIT, MT_DATA, M_PKTHDR);
	assert_non_null(m);
	assert_int_equal(m->m_flags, M_EXT | M_PKTHDR);
	assert_int_equal(m->m_pkthdr.len, 0);
	assert_non_null(m->m_ext);
	assert_int_equal(m->m_ext->ext_type, EXT_CLUSTER);
	assert_int_equal(m->m_ext->ext_size, MCLBYTES);
	assert_ptr_equal(m->m_ext->ext_buf, m->m_data);
	assert_ptr_equal(m->m_ext->ext_kernel, k);
	assert_int_equal(mb_refcnt(m), 1);
	assert_int_equal(m_trailingspace(m), MCLBYTES);
	assert_int_equal(m_leadingspace(m), 0);
	assert_true(m_writable(m));

	n = m_getcl(M_WAIT, MT_DATA, 0);
	assert_non_null(n);
	assert_int_equal(n->m_flags, M_EXT);
	assert_ptr_not_equal(n->m_ext->ext_buf, m->m_ext->ext_buf);
	/* a whole cluster's worth goes into the one mbuf */
	assert_true(m_append(n, MCLBYTES, pat));
	assert_null(n->m_next);
	assert_int_equal(n->m_len, MCLBYTES);
	mb_check(n, pat, MCLBYTES);

	p = m_get(M_DONTWAIT, MT_DATA);
	assert_non_null(p);
	m_clget(p, M_DONTWAIT);
	assert_int_equal(p->m_flags, M_EXT);
	assert_ptr_equal(p->m_data, p->m_ext->ext_buf);
	assert_int_equal(m_trailingspace(p), MCLBYTES);
	assert_int_equal(th_pool_out(k, "mclpl"), 3);
	assert_int_equal(th_pool_out(k, "mbpl"), 3);

	/* m_free returns the next mbuf and frees the cluster with it */
	m->m_next = n;
	assert_ptr_equal(m_free(m), n);
	assert_int_equal(th_pool_out(k, "mclpl"), 2);
	m_freem(n);
	m_freem(p);
	assert_int_equal(th_pool_out(k, "mclpl"), 0);
	assert_int_equal(th_pool_out(k, "mbpl"), 0);
	mb_leave(state);
}

/* ---- external storage ---- */

struct ext_rec {
	int calls;
	void *buf;
	size_t size;
};

static void
ext_free_cb(void *buf, size_t size, void *arg)
{
	struct ext_rec *r = arg;

	r->calls++;
	r->buf = buf;
	r->size = size;
}

static void
test_extadd_free_once(void **state)
{
	struct rump_kernel *k = mb_enter(state, 0, 0);
	static char store[1000];
	struct ext_rec rec = { 0, NULL, 0 };
	struct mbuf *m, *c1, *c2, *t;

	memcpy(store, pat, sizeof(store));
	m = m_gethdr(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	assert_int_equal(m_extadd(m, store, sizeof(store), ext_free_cb, &rec),
	    0);
	assert_int_equal(m->m_flags, M_EXT | M_PKTHDR);
	assert_ptr_equal(m->m_data, store);
	assert_int_equal(m->m_ext->ext_type, EXT_EXTERNAL);
	assert_int_equal(m->m_ext->ext_size, sizeof(store));
	assert_int_equal(mb_refcnt(m), 1);
	assert_int_equal(th_pool_out(k, "mextpl"), 1);
	m->m_len = m->m_pkthdr.len = (int)sizeof(store);
	assert_true(m_writable(m));

	/* three more mbufs come to share the storage */
	c1 = m_copym(m, 0, M_COPYALL, M_DONTWAIT);
	assert_non_null(c1);
	c2 = m_copym(m, 100, 50, M_DONTWAIT);
	assert_non_null(c2);
	assert_ptr_equal(c2->m_data, store + 100);
	t = m_split(c1, 600, M_DONTWAIT);
	assert_non_null(t);
	assert_int_equal(mb_refcnt(m), 4);
	assert_false(m_writable(m));
	mb_check(t, pat + 600, 400);
	mb_check(c2, pat + 100, 50);

	/* the callback waits for the last of them */
	m_freem(m);
	m_freem(c1);
	m_freem(t);
	assert_int_equal(rec.calls, 0);
	assert_int_equal(th_pool_out(k, "mextpl"), 1);
	assert_int_equal(mb_refcnt(c2), 1);
	m_freem(c2);
	assert_int_equal(rec.calls, 1);
	assert_ptr_equal(rec.buf, store);
	assert_int_equal(rec.size, sizeof(store));
	assert_int_equal(th_pool_out(k, "mextpl"), 0);
	mb_leave(state);
}

/* A write into shared small external storage takes a private copy. */
static void
test_extadd_unshare_small(void **state)
{
	struct rump_kernel *k = mb_enter(state, 0, 0);
	static char store[300];
	unsigned char want[100];
	struct ext_rec rec = { 0, NULL, 0 };
	struct mbuf *m, *c;

	memcpy(store, pat, sizeof(store));
	m = m_gethdr(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	assert_int_equal(m_extadd(m, store, sizeof(store), ext_free_cb, &rec),
	    0);
	m->m_data = store + 50;
	m->m_len = m->m_pkthdr.len = 100;
	c = m_copym(m, 0, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);

	assert_int_equal(m_copyback(c, 10, 5, pat2), 0);
	/* 100 bytes fit in the mbuf itself: no cluster, no shared storage */
	assert_int_equal(c->m_flags, M_PKTHDR);
	assert_ptr_equal(c->m_data, c->m_dat);
	assert_int_equal(th_pool_out(k, "mclpl"), 0);
	assert_int_equal(mb_refcnt(m), 1);
	memcpy(want, pat + 50, 100);
	memcpy(want + 10, pat2, 5);
	mb_check(c, want, 100);
	mb_check(m, pat + 50, 100);
	bytes_equal(store, pat, sizeof(store));

	m_freem(c);
	assert_int_equal(rec.calls, 0);
	m_freem(m);
	assert_int_equal(rec.calls, 1);
	mb_leave(state);
}

/*
 * External storage can be larger than a cluster (a jumbo receive buffer):
 * a write into it while shared must still leave both copies right.
 */
static void
test_extadd_unshare_large(void **state)
{
	struct rump_kernel *k = mb_enter(state, 0, 0);
	enum { SZ = 3000 };
	unsigned char *store = malloc(SZ), want[SZ];
	struct ext_rec rec = { 0, NULL, 0 };
	struct mbuf *m, *c;

	assert_non_null(store);
	memcpy(store, pat, SZ);
	m = m_gethdr(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	assert_int_equal(m_extadd(m, store, SZ, ext_free_cb, &rec), 0);
	m->m_len = m->m_pkthdr.len = SZ;
	c = m_copym(m, 0, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);

	/* one write near the front, one beyond the first cluster's worth */
	assert_int_equal(m_copyback(m, 4, 8, pat2), 0);
	assert_int_equal(m_copyback(m, 2900, 20, pat2 + 8), 0);
	memcpy(want, pat, SZ);
	memcpy(want + 4, pat2, 8);
	memcpy(want + 2900, pat2 + 8, 20);
	mb_check(m, want, SZ);
	mb_check(c, pat, SZ);
	bytes_equal(store, pat, SZ);
	for (struct mbuf *n = m; n != NULL; n = n->m_next)
		assert_true(m_writable(n));

	m_freem(m);
	assert_int_equal(rec.calls, 0);
	m_freem(c);
	assert_int_equal(rec.calls, 1);
	assert_ptr_equal(rec.buf, store);
	assert_int_equal(rec.size, SZ);
	free(store);
	assert_int_equal(th_pool_out(k, "mextpl"), 0);
	mb_leave(state);
}

/* No descriptor left: ENOBUFS, the mbuf unchanged, the buffer not freed. */
static void
test_extadd_enobufs(void **state)
{
	struct rump_kernel *k = mb_enter(state, 64, 16);
	static char store[64];
	void *descs[64];
	struct ext_rec rec = { 0, NULL, 0 };
	struct mbuf *m;
	int n = 0;

	while (n < 64 && (descs[n] = pool_cache_get(k->k_extpool)) != NULL)
		n++;
	assert_int_equal(n, 64);
	assert_null(pool_cache_get(k->k_extpool));
	m = m_get(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	assert_int_equal(m_extadd(m, store, sizeof(store), ext_free_cb, &rec),
	    ENOBUFS);
	assert_int_equal(m->m_flags, 0);
	assert_null(m->m_ext);
	assert_ptr_equal(m->m_data, m->m_dat);
	assert_int_equal(th_pool(k, "mextpl").nfail, 2);

	pool_cache_put(k->k_extpool, descs[--n]);
	assert_int_equal(m_extadd(m, store, sizeof(store), ext_free_cb, &rec),
	    0);
	m_free(m);
	assert_int_equal(rec.calls, 1);
	while (n > 0)
		pool_cache_put(k->k_extpool, descs[--n]);
	mb_leave(state);
}

/* ---- m_copym ---- */

static void
test_copym_shares_cluster(void **state)
{
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m, *c, *p;

	m = m_getcl(M_DONTWAIT, MT_DATA, M_PKTHDR);
	assert_non_null(m);
	assert_true(m_append(m, 1500, pat));
	c = m_copym(m, 0, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(c->m_flags, M_EXT | M_PKTHDR);
	assert_ptr_equal(c->m_ext, m->m_ext);
	assert_ptr_equal(c->m_data, m->m_data);
	assert_int_equal(c->m_len, 1500);
	assert_int_equal(mb_refcnt(m), 2);
	assert_false(m_writable(m));
	assert_false(m_writable(c));
	/* shared storage offers no space to write into */
	assert_int_equal(m_trailingspace(m), 0);
	assert_int_equal(m_trailingspace(c), 0);
	mb_check(c, pat, 1500);
	assert_int_equal(th_pool_out(k, "mclpl"), 1);
	assert_int_equal(th_pool_out(k, "mbpl"), 2);

	p = m_copym(m, 100, 300, M_DONTWAIT);
	assert_non_null(p);
	assert_int_equal(p->m_flags, M_EXT);
	assert_ptr_equal(p->m_data, m->m_data + 100);
	assert_int_equal(p->m_len, 300);
	assert_int_equal(mb_refcnt(m), 3);
	mb_check(p, pat + 100, 300);

	m_freem(c);
	assert_false(m_writable(m));
	m_freem(p);
	assert_int_equal(mb_refcnt(m), 1);
	assert_true(m_writable(m));
	assert_int_equal(m_trailingspace(m), MCLBYTES - 1500);
	m_freem(m);
	mb_leave(state);
}

static void
test_copym_copies_internal(void **state)
{
	static const struct seg segs[] = { { 100, false }, { 150, false },
	    { 50, false } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m, *c;

	m = mb_build(segs, 3, true, pat);
	c = m_copym(m, 0, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(mb_count(c), 3);
	assert_int_equal(c->m_len, 100);
	assert_int_equal(c->m_next->m_len, 150);
	assert_int_equal(c->m_next->m_next->m_len, 50);
	for (struct mbuf *n = c; n != NULL; n = n->m_next) {
		assert_ptr_equal(n->m_data, n->m_dat);
		assert_int_equal(n->m_flags & M_EXT, 0);
		assert_true(m_writable(n));
	}
	mb_check(c, pat, 300);
	/* the copy is private: changing it leaves the original alone */
	c->m_next->m_data[0] ^= 0x5a;
	mb_check(m, pat, 300);
	assert_int_equal(th_pool_out(k, "mbpl"), 6);
	m_freem(c);
	m_freem(m);
	mb_leave(state);
}

static void
test_copym_ranges(void **state)
{
	static const struct seg segs[] = { { 100, false }, { 1000, true },
	    { 50, false } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m, *c;

	m = mb_build(segs, 3, true, pat);
	/* inside the first mbuf */
	c = m_copym(m, 10, 60, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(mb_count(c), 1);
	mb_check(c, pat + 10, 60);
	m_freem(c);
	/* across all three: the cluster part is shared, at its offset */
	c = m_copym(m, 90, 1020, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(mb_count(c), 3);
	assert_int_equal(c->m_len, 10);
	assert_int_equal(c->m_next->m_len, 1000);
	assert_ptr_equal(c->m_next->m_data, m->m_next->m_data);
	assert_int_equal(c->m_next->m_next->m_len, 10);
	mb_check(c, pat + 90, 1020);
	m_freem(c);
	/* M_COPYALL from an mbuf boundary: starts in the next mbuf */
	c = m_copym(m, 1100, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(mb_count(c), 1);
	mb_check(c, pat + 1100, 50);
	m_freem(c);
	/* M_COPYALL from inside the cluster */
	c = m_copym(m, 600, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(mb_count(c), 2);
	assert_ptr_equal(c->m_data, m->m_next->m_data + 500);
	mb_check(c, pat + 600, 550);
	m_freem(c);
	/* nothing to copy */
	assert_null(m_copym(m, 40, 0, M_DONTWAIT));
	assert_int_equal(th_pool_out(k, "mbpl"), 3);
	assert_int_equal(mb_refcnt(m->m_next), 1);
	m_freem(m);
	mb_leave(state);
}

static void
test_copym_pkthdr(void **state)
{
	static const struct seg segs[] = { { 64, false }, { 1000, true } };
	struct ifnet *ifp = (struct ifnet *)(uintptr_t)0x1000;
	struct mbuf *m, *c;

	mb_enter(state, 0, 0);
	m = mb_build(segs, 2, true, pat);
	m->m_flags |= M_BCAST | M_EOR;
	m->m_pkthdr.rcvif = ifp;
	m->m_pkthdr.csum_flags = M_CSUM_TCPv4 | M_CSUM_DATA;
	m->m_pkthdr.csum_data = 0xbeef;
	m->m_pkthdr.segsz = 1448;

	c = m_copym(m, 0, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(c->m_flags, M_PKTHDR | M_BCAST | M_EOR);
	assert_ptr_equal(c->m_pkthdr.rcvif, ifp);
	assert_int_equal(c->m_pkthdr.len, 1064);
	assert_int_equal(c->m_pkthdr.csum_flags, M_CSUM_TCPv4 | M_CSUM_DATA);
	assert_int_equal(c->m_pkthdr.csum_data, 0xbeef);
	assert_int_equal(c->m_pkthdr.segsz, 1448);
	assert_int_equal(c->m_next->m_flags, M_EXT);
	mb_check(c, pat, 1064);
	m_freem(c);

	/* a prefix: the header's length is the copy's */
	c = m_copym(m, 0, 10, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(c->m_flags, M_PKTHDR | M_BCAST | M_EOR);
	assert_int_equal(c->m_pkthdr.len, 10);
	assert_int_equal(c->m_pkthdr.segsz, 1448);
	mb_check(c, pat, 10);
	m_freem(c);

	/* not from the start: no packet header, no packet flags */
	c = m_copym(m, 1, 10, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(c->m_flags, 0);
	mb_check(c, pat + 1, 10);
	m_freem(c);
	c = m_copym(m, 64, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(c->m_flags, M_EXT);
	mb_check(c, pat + 64, 1000);
	m_freem(c);
	m_freem(m);
	mb_leave(state);
}

/* ---- m_pullup ---- */

static void
test_pullup_contiguous(void **state)
{
	static const struct seg segs[] = { { 100, false }, { 50, false } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m;
	uint64_t nget;

	m = mb_build(segs, 2, true, pat);
	nget = th_pool(k, "mbpl").nget;
	assert_ptr_equal(m_pullup(m, 100), m);
	assert_ptr_equal(m_pullup(m, 1), m);
	assert_ptr_equal(m_pullup(m, 0), m);
	assert_int_equal(th_pool(k, "mbpl").nget, nget);
	assert_int_equal(m->m_len, 100);
	mb_check(m, pat, 150);
	m_freem(m);
	mb_leave(state);
}

/* Room in the first mbuf: the bytes are pulled into it. */
static void
test_pullup_into_first(void **state)
{
	static const struct seg segs[] = { { 10, false }, { 100, false },
	    { 500, true } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m, *cl;

	m = mb_build(segs, 3, true, pat);
	cl = m->m_next->m_next;
	assert_ptr_equal(m_pullup(m, 150), m);
	assert_int_equal(m->m_len, 150);
	/* the middle mbuf was used up and freed; 40 bytes left the cluster */
	assert_ptr_equal(m->m_next, cl);
	assert_int_equal(cl->m_len, 460);
	assert_ptr_equal(cl->m_data, cl->m_ext->ext_buf + 40);
	assert_int_equal(th_pool_out(k, "mbpl"), 2);
	assert_int_equal(m->m_pkthdr.len, 610);
	mb_check(m, pat, 610);
	m_freem(m);
	mb_leave(state);
}

/* No room in the first mbuf: a new head takes the header and the bytes. */
static void
test_pullup_new_head(void **state)
{
	static const struct seg clhead[] = { { 50, true }, { 100, false } };
	static const struct seg back[] = { { 20, false }, { 100, false } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m, *second, *r;

	/* first mbuf is a cluster */
	m = mb_build(clhead, 2, true, pat);
	m->m_pkthdr.segsz = 7;
	second = m->m_next;
	r = m_pullup(m, 120);
	assert_non_null(r);
	assert_int_equal(r->m_flags, M_PKTHDR);
	assert_int_equal(r->m_pkthdr.segsz, 7);
	assert_int_equal(r->m_len, 120);
	assert_ptr_equal(r->m_next, second);
	assert_int_equal(second->m_len, 30);
	assert_int_equal(th_pool_out(k, "mclpl"), 0);
	assert_int_equal(th_pool_out(k, "mbpl"), 2);
	mb_check(r, pat, 150);
	m_freem(r);

	/* first mbuf's data sits at its end (headers were prepended) */
	m = mb_build(back, 2, true, pat);
	m->m_data = m->m_dat + MLEN - 20;
	memcpy(m->m_data, pat, 20);
	second = m->m_next;
	r = m_pullup(m, 60);
	assert_non_null(r);
	assert_ptr_not_equal(r, m);
	assert_int_equal(r->m_flags, M_PKTHDR);
	assert_ptr_equal(r->m_data, r->m_dat);
	assert_int_equal(r->m_len, 60);
	assert_ptr_equal(r->m_next, second);
	assert_int_equal(second->m_len, 60);
	mb_check(r, pat, 120);
	m_freem(r);
	mb_leave(state);
}

/* Failing pullups free the chain: the leak checks prove it. */
static void
test_pullup_fails(void **state)
{
	static const struct seg three[] = { { 100, false }, { 200, true },
	    { 100, false } };
	static const struct seg clt[] = { { 10, false }, { 300, true } };
	static const struct seg small[] = { { 10, false }, { 20, false } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m;

	m = mb_build(three, 3, true, pat);
	assert_null(m_pullup(m, MHLEN + 1));
	assert_int_equal(rump_kernel_leaks(k), 0);

	m = mb_build(clt, 2, true, pat);
	assert_null(m_pullup(m, 311));
	assert_int_equal(rump_kernel_leaks(k), 0);

	/* beyond the chain even though within MHLEN */
	m = mb_build(small, 2, true, pat);
	assert_null(m_pullup(m, 31));
	assert_int_equal(rump_kernel_leaks(k), 0);

	m = mb_build(small, 2, false, pat);
	assert_null(m_pullup(m, -1));
	assert_int_equal(rump_kernel_leaks(k), 0);
	mb_leave(state);
}

/* ---- m_copydata ---- */

static void
test_copydata(void **state)
{
	static const struct seg segs[] = { { 100, false }, { 0, false },
	    { 1000, true }, { 50, false } };
	static const int cases[][2] = { { 0, 1150 }, { 0, 0 }, { 1150, 0 },
	    { 99, 2 }, { 100, 1000 }, { 1099, 51 }, { 500, 1 }, { 37, 1100 },
	    { 1149, 1 }, { 100, 0 } };
	unsigned char out[1200];
	struct mbuf *m;

	mb_enter(state, 0, 0);
	m = mb_build(segs, 4, true, pat);
	for (size_t i = 0; i < __arraycount(cases); i++) {
		int off = cases[i][0], len = cases[i][1];

		memset(out, 0xa5, sizeof(out));
		m_copydata(m, off, len, out);
		bytes_equal(out, pat + off, len);
		/* not a byte more */
		assert_int_equal(out[len], 0xa5);
	}
	m_freem(m);
	mb_leave(state);
}

/* ---- m_copyback ---- */

static void
test_copyback_inside(void **state)
{
	static const struct seg segs[] = { { 100, false }, { 200, true },
	    { 100, false } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	unsigned char want[400];
	struct mbuf *m;

	m = mb_build(segs, 3, true, pat);
	memcpy(want, pat, 400);
	assert_int_equal(m_copyback(m, 50, 300, pat2), 0);
	memcpy(want + 50, pat2, 300);
	mb_check(m, want, 400);
	assert_int_equal(m_copyback(m, 399, 1, pat2 + 1000), 0);
	want[399] = pat2[1000];
	assert_int_equal(m_copyback(m, 0, 1, pat2 + 1001), 0);
	want[0] = pat2[1001];
	mb_check(m, want, 400);
	/* the chain neither grew nor took buffers */
	assert_int_equal(mb_count(m), 3);
	assert_int_equal(th_pool_out(k, "mbpl"), 3);
	assert_int_equal(th_pool_out(k, "mclpl"), 1);
	m_freem(m);
	mb_leave(state);
}

static void
test_copyback_extend(void **state)
{
	static const struct seg one[] = { { 100, false } };
	static const struct seg plain[] = { { 20, false } };
	static unsigned char want[8000];
	struct mbuf *m;

	mb_enter(state, 0, 0);
	mb_dirty();
	m = mb_build(one, 1, true, pat);
	memset(want, 0, sizeof(want));
	memcpy(want, pat, 100);
	/* right at the end */
	assert_int_equal(m_copyback(m, 100, 50, pat2), 0);
	memcpy(want + 100, pat2, 50);
	mb_check(m, want, 150);
	/* past the end: the gap reads as zeroes */
	assert_int_equal(m_copyback(m, 400, 10, pat2 + 50), 0);
	memcpy(want + 400, pat2 + 50, 10);
	mb_check(m, want, 410);
	/* far past the end and longer than a cluster */
	assert_int_equal(m_copyback(m, 5000, 3000, pat2 + 60), 0);
	memcpy(want + 5000, pat2 + 60, 3000);
	mb_check(m, want, 8000);
	m_freem(m);

	/* a chain without a packet header grows the same way */
	m = mb_build(plain, 1, false, pat);
	assert_int_equal(m_copyback(m, 30, 5, pat2), 0);
	memset(want, 0, 40);
	memcpy(want, pat, 20);
	memcpy(want + 30, pat2, 5);
	mb_check(m, want, 35);
	/* an empty write past the end still fills the gap */
	assert_int_equal(m_copyback(m, 38, 0, pat2), 0);
	mb_check(m, want, 38);
	m_freem(m);
	mb_leave(state);
}

static void
test_copyback_unshares(void **state)
{
	static const struct seg segs[] = { { 50, false }, { 500, true },
	    { 50, false } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	unsigned char want[1000];
	struct mbuf *m, *c;

	/* a shared cluster gets a private cluster copy */
	m = m_getcl(M_DONTWAIT, MT_DATA, M_PKTHDR);
	assert_non_null(m);
	assert_true(m_append(m, 1000, pat));
	c = m_copym(m, 0, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(m_copyback(m, 10, 20, pat2), 0);
	assert_int_equal(m->m_flags, M_EXT | M_PKTHDR);
	assert_ptr_not_equal(m->m_ext, c->m_ext);
	assert_int_equal(mb_refcnt(m), 1);
	assert_int_equal(mb_refcnt(c), 1);
	assert_true(m_writable(m));
	assert_true(m_writable(c));
	assert_int_equal(th_pool_out(k, "mclpl"), 2);
	memcpy(want, pat, 1000);
	memcpy(want + 10, pat2, 20);
	mb_check(m, want, 1000);
	mb_check(c, pat, 1000);
	m_freem(m);
	m_freem(c);

	/* a write across an mbuf and a shared cluster */
	m = mb_build(segs, 3, true, pat);
	c = m_copym(m, 0, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(m_copyback(m, 40, 30, pat2), 0);
	memcpy(want, pat, 600);
	memcpy(want + 40, pat2, 30);
	mb_check(m, want, 600);
	mb_check(c, pat, 600);
	assert_int_equal(mb_refcnt(c->m_next), 1);
	m_freem(m);
	m_freem(c);
	mb_leave(state);
}

/* ---- m_adj ---- */

static void
test_adj_head(void **state)
{
	static const struct seg segs[] = { { 100, false }, { 500, true },
	    { 100, false } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m;

	m = mb_build(segs, 3, true, pat);
	m_adj(m, 30);
	assert_int_equal(m->m_len, 70);
	assert_ptr_equal(m->m_data, m->m_dat + 30);
	mb_check(m, pat + 30, 670);
	/* across the first mbuf into the cluster */
	m_adj(m, 170);
	assert_int_equal(m->m_len, 0);
	assert_int_equal(m->m_next->m_len, 400);
	assert_ptr_equal(m->m_next->m_data, m->m_next->m_ext->ext_buf + 100);
	mb_check(m, pat + 200, 500);
	m_adj(m, 0);
	mb_check(m, pat + 200, 500);
	/* more than there is: empty, the mbufs stay */
	m_adj(m, 10000);
	mb_check(m, pat, 0);
	assert_int_equal(mb_count(m), 3);
	assert_int_equal(th_pool_out(k, "mbpl"), 3);
	m_freem(m);
	mb_leave(state);
}

static void
test_adj_tail(void **state)
{
	static const struct seg segs[] = { { 100, false }, { 500, true },
	    { 100, false } };
	struct mbuf *m;

	mb_enter(state, 0, 0);
	m = mb_build(segs, 3, true, pat);
	m_adj(m, -30);
	assert_int_equal(m->m_next->m_next->m_len, 70);
	mb_check(m, pat, 670);
	m_adj(m, -170);
	assert_int_equal(m->m_next->m_next->m_len, 0);
	assert_int_equal(m->m_next->m_len, 400);
	mb_check(m, pat, 500);
	m_adj(m, -10000);
	mb_check(m, pat, 0);
	assert_int_equal(mb_count(m), 3);
	m_freem(m);

	/* without a packet header */
	m = mb_build(segs, 3, false, pat);
	m_adj(m, -5);
	assert_int_equal(m->m_flags, 0);
	mb_check(m, pat, 695);
	m_adj(m, 5);
	mb_check(m, pat + 5, 690);
	m_freem(m);
	mb_leave(state);
}

/* ---- m_cat ---- */

static void
test_cat(void **state)
{
	static const struct seg one[] = { { 100, false } };
	static const struct seg small[] = { { 50, false } };
	static const struct seg mixed[] = { { 20, false }, { 400, true } };
	static const struct seg clone[] = { { 600, true } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *a, *b, *last, *c;

	a = mb_build(one, 1, true, pat);
	/* fits the trailing space: copied in, the mbuf freed */
	b = mb_build(small, 1, true, pat + 100);
	m_cat(a, b);
	assert_null(a->m_next);
	assert_int_equal(a->m_len, 150);
	assert_int_equal(th_pool_out(k, "mbpl"), 1);
	/* m_cat leaves the packet length to the caller */
	assert_int_equal(a->m_pkthdr.len, 100);
	a->m_pkthdr.len += 50;
	mb_check(a, pat, 150);

	/* the small head is copied, the cluster linked without its header */
	b = mb_build(mixed, 2, true, pat + 150);
	last = b->m_next;
	m_cat(a, b);
	assert_int_equal(a->m_len, 170);
	assert_ptr_equal(a->m_next, last);
	assert_int_equal(last->m_flags, M_EXT);
	a->m_pkthdr.len += 420;
	mb_check(a, pat, 570);

	/* a cluster head is linked, losing M_PKTHDR */
	b = mb_build(clone, 1, true, pat + 570);
	m_cat(a, b);
	assert_ptr_equal(last->m_next, b);
	assert_int_equal(b->m_flags, M_EXT);
	a->m_pkthdr.len += 600;
	mb_check(a, pat, 1170);

	/* a writable cluster at the tail takes small data in */
	b = mb_build(small, 1, false, pat + 1170);
	m_cat(a, b);
	assert_null(a->m_next->m_next->m_next);
	assert_int_equal(a->m_next->m_next->m_len, 650);
	a->m_pkthdr.len += 50;
	mb_check(a, pat, 1220);

	/* a shared tail offers no space: the mbuf is linked */
	c = m_copym(a, 0, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);
	b = mb_build(small, 1, false, pat + 1220);
	m_cat(a, b);
	assert_int_equal(mb_count(a), 4);
	a->m_pkthdr.len += 50;
	mb_check(a, pat, 1270);
	mb_check(c, pat, 1220);
	m_freem(c);
	m_freem(a);
	mb_leave(state);
}

/* ---- m_split ---- */

static void
test_split_pkthdr(void **state)
{
	static const struct seg segs[] = { { 100, false }, { 150, false } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m, *second, *t;

	m = mb_build(segs, 2, true, pat);
	m->m_flags |= M_BCAST;
	m->m_pkthdr.csum_flags = M_CSUM_IPv4;
	second = m->m_next;
	/* at an mbuf boundary: an empty header mbuf leads the tail */
	t = m_split(m, 100, M_DONTWAIT);
	assert_non_null(t);
	assert_int_equal(t->m_flags, M_PKTHDR | M_BCAST);
	assert_int_equal(t->m_pkthdr.csum_flags, M_CSUM_IPv4);
	assert_int_equal(t->m_len, 0);
	assert_ptr_equal(t->m_next, second);
	assert_null(m->m_next);
	mb_check(m, pat, 100);
	mb_check(t, pat + 100, 150);
	assert_int_equal(th_pool_out(k, "mbpl"), 3);
	m_freem(t);
	m_freem(m);

	/* inside an internal mbuf: the rest is copied */
	m = mb_build(segs, 2, true, pat);
	second = m->m_next;
	t = m_split(m, 150, M_DONTWAIT);
	assert_non_null(t);
	assert_int_equal(t->m_flags, M_PKTHDR);
	assert_int_equal(t->m_len, 100);
	assert_null(t->m_next);
	assert_int_equal(second->m_len, 50);
	mb_check(m, pat, 150);
	mb_check(t, pat + 150, 100);
	m_cat(m, t);
	m->m_pkthdr.len = 250;
	mb_check(m, pat, 250);

	/* at 0 and at the length */
	t = m_split(m, 0, M_DONTWAIT);
	assert_non_null(t);
	mb_check(m, pat, 0);
	mb_check(t, pat, 250);
	m_freem(m);
	m = t;
	t = m_split(m, 250, M_DONTWAIT);
	assert_non_null(t);
	mb_check(m, pat, 250);
	mb_check(t, pat, 0);
	m_freem(t);
	m_freem(m);
	mb_leave(state);
}

static void
test_split_cluster(void **state)
{
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m, *t;

	m = m_getcl(M_DONTWAIT, MT_DATA, M_PKTHDR);
	assert_non_null(m);
	assert_true(m_append(m, 1000, pat));
	t = m_split(m, 300, M_DONTWAIT);
	assert_non_null(t);
	assert_int_equal(t->m_flags, M_EXT | M_PKTHDR);
	assert_ptr_equal(t->m_ext, m->m_ext);
	assert_ptr_equal(t->m_data, m->m_data + 300);
	assert_int_equal(mb_refcnt(m), 2);
	assert_false(m_writable(m));
	assert_false(m_writable(t));
	assert_int_equal(th_pool_out(k, "mclpl"), 1);
	mb_check(m, pat, 300);
	mb_check(t, pat + 300, 700);
	m_freem(t);
	assert_true(m_writable(m));
	m_freem(m);

	/* without a packet header */
	m = m_getcl(M_DONTWAIT, MT_DATA, 0);
	assert_non_null(m);
	assert_true(m_append(m, 1000, pat));
	t = m_split(m, 400, M_DONTWAIT);
	assert_non_null(t);
	assert_int_equal(t->m_flags, M_EXT);
	assert_ptr_equal(t->m_data, m->m_data + 400);
	mb_check(m, pat, 400);
	mb_check(t, pat + 400, 600);
	m_freem(m);
	m_freem(t);
	mb_leave(state);
}

static void
test_split_plain(void **state)
{
	static const struct seg segs[] = { { 100, false }, { 150, false },
	    { 50, false } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m, *second, *t;
	uint64_t nget;

	/* at a boundary the tail is the next mbuf itself */
	m = mb_build(segs, 3, false, pat);
	second = m->m_next;
	nget = th_pool(k, "mbpl").nget;
	t = m_split(m, 100, M_DONTWAIT);
	assert_ptr_equal(t, second);
	assert_null(m->m_next);
	assert_int_equal(th_pool(k, "mbpl").nget, nget);
	mb_check(m, pat, 100);
	mb_check(t, pat + 100, 200);
	m_freem(m);
	m_freem(t);

	/* inside: a new plain mbuf holds the rest */
	m = mb_build(segs, 3, false, pat);
	t = m_split(m, 130, M_DONTWAIT);
	assert_non_null(t);
	assert_int_equal(t->m_flags, 0);
	assert_int_equal(t->m_len, 120);
	assert_int_equal(m->m_next->m_len, 30);
	mb_check(m, pat, 130);
	mb_check(t, pat + 130, 170);
	m_freem(m);
	m_freem(t);
	mb_leave(state);
}

/* Beyond the length: NULL, and the chain exactly as it was. */
static void
test_split_beyond(void **state)
{
	static const struct seg segs[] = { { 100, false }, { 300, true } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m;
	uint64_t nget;

	m = mb_build(segs, 2, true, pat);
	nget = th_pool(k, "mbpl").nget;
	assert_null(m_split(m, 401, M_DONTWAIT));
	assert_null(m_split(m, -1, M_DONTWAIT));
	assert_int_equal(th_pool(k, "mbpl").nget, nget);
	assert_int_equal(m->m_len, 100);
	assert_int_equal(m->m_next->m_len, 300);
	assert_null(m->m_next->m_next);
	assert_int_equal(mb_refcnt(m->m_next), 1);
	mb_check(m, pat, 400);
	m_freem(m);

	m = mb_build(segs, 2, false, pat);
	assert_null(m_split(m, 1000, M_DONTWAIT));
	assert_int_equal(mb_count(m), 2);
	mb_check(m, pat, 400);
	m_freem(m);
	mb_leave(state);
}

/* ---- m_prepend ---- */

static void
test_prepend(void **state)
{
	static const struct seg one[] = { { 100, false } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m, *r;

	m = mb_build(one, 1, true, pat + 20);
	m->m_pkthdr.csum_flags = M_CSUM_UDPv4;
	r = m_prepend(m, 20, M_DONTWAIT);
	assert_non_null(r);
	assert_ptr_not_equal(r, m);
	assert_ptr_equal(r->m_next, m);
	assert_int_equal(r->m_flags, M_PKTHDR);
	assert_int_equal(m->m_flags, 0);
	assert_int_equal(r->m_pkthdr.csum_flags, M_CSUM_UDPv4);
	/* the data ends the mbuf: room for more headers in front */
	assert_int_equal(r->m_len, 20);
	assert_ptr_equal(r->m_data, r->m_dat + MHLEN - 20);
	assert_int_equal(m_leadingspace(r), MHLEN - 20);
	assert_int_equal(m_trailingspace(r), 0);
	/* m_prepend leaves the packet length to the caller */
	assert_int_equal(r->m_pkthdr.len, 100);
	memcpy(mtod(r, char *), pat, 20);
	r->m_pkthdr.len += 20;
	mb_check(r, pat, 120);
	m_freem(r);

	/* a full MHLEN into a chain without a header */
	m = mb_build(one, 1, false, pat + MHLEN);
	r = m_prepend(m, MHLEN, M_DONTWAIT);
	assert_non_null(r);
	assert_int_equal(r->m_flags, 0);
	assert_ptr_equal(r->m_data, r->m_dat);
	assert_int_equal(m_leadingspace(r), 0);
	memcpy(mtod(r, char *), pat, MHLEN);
	mb_check(r, pat, MHLEN + 100);
	assert_int_equal(th_pool_out(k, "mbpl"), 2);
	m_freem(r);
	mb_leave(state);
}

static void
test_prepend_fast(void **state)
{
	static const struct seg one[] = { { 100, false } };
	struct rump_kernel *k = mb_enter(state, 0, 0);
	unsigned char want[410];
	struct mbuf *m, *r, *c;
	uint64_t nget;

	/* leading space left by m_adj is used in place */
	m = mb_build(one, 1, true, pat);
	m_adj(m, 30);
	nget = th_pool(k, "mbpl").nget;
	r = m_prepend_fast(m, 30, M_DONTWAIT);
	assert_ptr_equal(r, m);
	assert_ptr_equal(m->m_data, m->m_dat);
	assert_int_equal(th_pool(k, "mbpl").nget, nget);
	mb_check(m, pat, 100);
	/* no space: a new head, the packet length kept right */
	r = m_prepend_fast(m, 1, M_DONTWAIT);
	assert_non_null(r);
	assert_ptr_not_equal(r, m);
	assert_int_equal(m->m_flags, 0);
	assert_int_equal(r->m_pkthdr.len, 101);
	r->m_data[0] = (char)pat2[0];
	/* and the new head's space serves the next one */
	m = r;
	r = m_prepend_fast(m, 10, M_DONTWAIT);
	assert_ptr_equal(r, m);
	assert_int_equal(r->m_len, 11);
	memcpy(r->m_data, pat2 + 1, 10);
	memcpy(want, pat2 + 1, 10);
	want[10] = pat2[0];
	memcpy(want + 11, pat, 100);
	mb_check(r, want, 111);
	m_freem(r);

	/* leading space in a shared cluster is not ours to write */
	m = m_getcl(M_DONTWAIT, MT_DATA, M_PKTHDR);
	assert_non_null(m);
	assert_true(m_append(m, 500, pat));
	m_adj(m, 100);
	c = m_copym(m, 0, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);
	r = m_prepend_fast(m, 10, M_DONTWAIT);
	assert_non_null(r);
	assert_ptr_not_equal(r, m);
	memcpy(r->m_data, pat2, 10);
	bytes_equal(m->m_ext->ext_buf, pat, 100);
	mb_check(c, pat + 100, 400);
	memcpy(want, pat2, 10);
	memcpy(want + 10, pat + 100, 400);
	mb_check(r, want, 410);
	m_freem(c);
	m_freem(r);
	mb_leave(state);
}

/* ---- m_append ---- */

static void
test_append_many(void **state)
{
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct mbuf *m;
	int total = 0, rem, ncl;

	m = m_gethdr(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	for (int i = 0; total < 40000; i++) {
		int n = 1 + (i * 37) % 1500;

		assert_true(m_append(m, n, pat + total));
		total += n;
		assert_int_equal(m->m_pkthdr.len, total);
	}
	mb_check(m, pat, total);
	assert_true(m_append(m, 0, pat));
	mb_check(m, pat, total);
	m_freem(m);
	assert_int_equal(rump_kernel_leaks(k), 0);

	/* one big append: clusters while more than MLEN is left */
	m = m_gethdr(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	assert_true(m_append(m, 20000, pat));
	mb_check(m, pat, 20000);
	rem = 20000 - MHLEN;
	ncl = rem / MCLBYTES + (rem % MCLBYTES > MLEN);
	assert_int_equal(th_pool_out(k, "mclpl"), ncl);
	assert_int_equal(th_pool_out(k, "mbpl"),
	    1 + ncl + (rem % MCLBYTES > 0 && rem % MCLBYTES <= MLEN));
	m_freem(m);

	/* a plain mbuf chain grows the same way */
	m = m_get(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	assert_true(m_append(m, 3000, pat));
	mb_check(m, pat, 3000);
	m_freem(m);
	mb_leave(state);
}

/*
 * m_append_bulk(): jumbo clusters while MJUMBYTES_BULK or more is left, then
 * as m_append(); shared and freed like clusters; clusters when the jumbo
 * clusters run out, or when there are none (cluster_limit set alone).
 */
static void
test_append_bulk(void **state)
{
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct rump_kernel_config cfg;
	struct mbuf *m, *n;
	int rem, ncl, nj = 0;
	unsigned npools = 64;
	struct rump_pool_stat st[64];

	/* every pool fits th_pool()'s table */
	assert_int_equal(rump_kernel_pool_stats(k, st, &npools), 0);
	assert_true(npools <= 32);
	m = m_gethdr(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	assert_true(m_append_bulk(m, 40000, pat));
	mb_check(m, pat, 40000);
	for (rem = 40000 - MHLEN; rem >= MJUMBYTES_BULK; nj++)
		rem -= MIN(rem, MJUMBYTES);
	assert_int_equal(nj, 2);
	ncl = rem / MCLBYTES + (rem % MCLBYTES > MLEN);
	assert_int_equal(th_pool_out(k, "mjclpl"), nj);
	assert_int_equal(th_pool_out(k, "mclpl"), ncl);
	assert_int_equal(th_pool_out(k, "mbpl"),
	    1 + nj + ncl + (rem % MCLBYTES > 0 && rem % MCLBYTES <= MLEN));
	assert_int_equal(m->m_next->m_ext->ext_type, EXT_JUMBO);
	assert_int_equal(m->m_next->m_len, MJUMBYTES);
	/* a copy shares the jumbo clusters; the last reference frees them */
	n = m_copym(m, MHLEN, 2 * MJUMBYTES, M_DONTWAIT);
	assert_non_null(n);
	assert_int_equal(mb_refcnt(m->m_next), 2);
	assert_int_equal(th_pool_out(k, "mjclpl"), nj);
	m_freem(m);
	mb_check(n, pat + MHLEN, 2 * MJUMBYTES);
	assert_int_equal(th_pool_out(k, "mjclpl"), nj);
	m_freem(n);
	assert_int_equal(th_pool_out(k, "mjclpl"), 0);
	/* below MJUMBYTES_BULK: clusters, as m_append() */
	m = m_gethdr(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	assert_true(m_append_bulk(m, MJUMBYTES_BULK - 1 + MHLEN, pat));
	mb_check(m, pat, MJUMBYTES_BULK - 1 + MHLEN);
	assert_int_equal(th_pool_out(k, "mjclpl"), 0);
	m_freem(m);
	mb_leave(state);

	/* one jumbo cluster: then clusters */
	rump_kernel_config_default(&cfg);
	cfg.clock = RUMP_CLOCK_VIRTUAL;
	cfg.clock_thread = false;
	cfg.jumbo_limit = 1;
	assert_int_equal(rump_kernel_create(&cfg, &k), 0);
	*state = k;
	assert_int_equal(rump_thread_bind(k), 0);
	rump_schedule();
	m = m_gethdr(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	assert_true(m_append_bulk(m, 40000, pat));
	mb_check(m, pat, 40000);
	assert_int_equal(th_pool_out(k, "mjclpl"), 1);
	assert_int_equal(th_pool(k, "mjclpl").nfail, 1);
	assert_int_equal(th_pool(k, "mjclpl").hardlimit, 1);
	m_freem(m);
	mb_leave(state);

	/* cluster_limit alone: no jumbo clusters */
	k = mb_enter(state, 0, 64);
	assert_null(m_getjcl(M_DONTWAIT, MT_DATA, M_PKTHDR));
	m = m_gethdr(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	assert_true(m_append_bulk(m, 20000, pat));
	mb_check(m, pat, 20000);
	rem = 20000 - MHLEN;
	assert_int_equal(th_pool_out(k, "mclpl"),
	    rem / MCLBYTES + (rem % MCLBYTES > MLEN));
	m_freem(m);
	mb_leave(state);
}

/* ---- pool exhaustion ---- */

/* Take mbufs until none is left (at most max); returns how many. */
static int
mb_hog(struct mbuf **hog, int max)
{
	int n = 0;

	while (n < max && (hog[n] = m_get(M_DONTWAIT, MT_DATA)) != NULL)
		n++;
	return n;
}

static void
mb_unhog(struct mbuf **hog, int n)
{
	while (n > 0)
		m_free(hog[--n]);
}

static void
test_exhaust_mbufs(void **state)
{
	struct rump_kernel *k = mb_enter(state, 64, 16);
	struct mbuf *ms[65];
	struct rump_pool_stat st;

	assert_int_equal(mb_hog(ms, 65), 64);
	st = th_pool(k, "mbpl");
	assert_int_equal(st.nget, 64);
	assert_int_equal(st.nput, 0);
	assert_int_equal(st.nfail, 1);
	assert_int_equal(st.nobjects, 64);
	assert_int_equal(st.hardlimit, 64);
	assert_null(m_gethdr(M_DONTWAIT, MT_DATA));
	assert_null(m_getcl(M_WAIT, MT_DATA, M_PKTHDR));
	assert_int_equal(th_pool(k, "mbpl").nfail, 3);
	/* m_getcl failed on the mbuf: no cluster was taken */
	assert_int_equal(th_pool(k, "mclpl").nget, 0);
	mb_unhog(ms, 64);
	assert_int_equal(rump_kernel_leaks(k), 0);

	/* it recovers: all 64 again, and then a refusal again */
	assert_int_equal(mb_hog(ms, 65), 64);
	st = th_pool(k, "mbpl");
	assert_int_equal(st.nget, 128);
	assert_int_equal(st.nfail, 4);
	assert_int_equal(st.nobjects, 64);
	mb_unhog(ms, 64);
	mb_leave(state);
}

static void
test_exhaust_clusters(void **state)
{
	struct rump_kernel *k = mb_enter(state, 64, 4);
	struct mbuf *cl[4], *m;
	struct rump_pool_stat st;

	for (int i = 0; i < 4; i++) {
		cl[i] = m_getcl(M_DONTWAIT, MT_DATA, 0);
		assert_non_null(cl[i]);
	}
	assert_null(m_getcl(M_DONTWAIT, MT_DATA, M_PKTHDR));
	st = th_pool(k, "mclpl");
	assert_int_equal(st.nfail, 1);
	assert_int_equal(st.nobjects, 4);
	/* the mbuf taken for the failed m_getcl went back */
	assert_int_equal(th_pool_out(k, "mbpl"), 4);

	m = m_gethdr(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	m_clget(m, M_DONTWAIT);
	assert_int_equal(m->m_flags, M_PKTHDR);
	assert_ptr_equal(m->m_data, m->m_dat);
	/* m_append fills the header mbuf, then finds no cluster */
	assert_false(m_append(m, 5000, pat));
	assert_null(m->m_next);
	mb_check(m, pat, MHLEN);
	assert_int_equal(th_pool(k, "mclpl").nfail, 3);

	/* one cluster back: the next m_getcl succeeds */
	m_free(cl[3]);
	cl[3] = m_getcl(M_DONTWAIT, MT_DATA, 0);
	assert_non_null(cl[3]);
	for (int i = 0; i < 4; i++)
		m_free(cl[i]);
	m_freem(m);
	mb_leave(state);
}

static void
test_exhaust_copym(void **state)
{
	struct rump_kernel *k = mb_enter(state, 64, 4);
	struct seg segs[30];
	struct mbuf *m, *c, *hog[64];

	for (int i = 0; i < 30; i++)
		segs[i] = (struct seg){ 1, false };
	m = mb_build(segs, 30, true, pat);
	assert_int_equal(mb_hog(hog, 64), 34);
	mb_unhog(hog + 30, 4);
	/* 4 mbufs free, 30 needed: the partial copy is given back */
	assert_null(m_copym(m, 0, M_COPYALL, M_DONTWAIT));
	assert_int_equal(th_pool_out(k, "mbpl"), 60);
	assert_int_equal(th_pool(k, "mbpl").nfail, 2);
	mb_unhog(hog, 30);
	c = m_copym(m, 0, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(mb_count(c), 30);
	mb_check(c, pat, 30);
	m_freem(c);
	m_freem(m);
	mb_leave(state);
}

static void
test_exhaust_split_prepend_pullup(void **state)
{
	static const struct seg segs[] = { { 10, false }, { 20, false } };
	static const struct seg clhead[] = { { 10, true }, { 50, false } };
	struct rump_kernel *k = mb_enter(state, 64, 4);
	struct mbuf *m, *p, *hog[64];
	int n;

	m = mb_build(segs, 2, true, pat);
	p = mb_build(clhead, 2, true, pat);
	n = mb_hog(hog, 64);
	assert_int_equal(n, 60);
	/* m_split: NULL, chain unchanged */
	assert_null(m_split(m, 15, M_DONTWAIT));
	assert_int_equal(m->m_len, 10);
	assert_int_equal(m->m_next->m_len, 20);
	mb_check(m, pat, 30);
	/* m_prepend: NULL, chain freed */
	assert_null(m_prepend(m, 10, M_DONTWAIT));
	assert_int_equal(th_pool_out(k, "mbpl"), 62);
	n += mb_hog(hog + n, 64 - n);
	assert_int_equal(n, 62);
	/* m_pullup: a cluster head needs a new mbuf; NULL, chain freed */
	assert_null(m_pullup(p, 30));
	assert_int_equal(th_pool_out(k, "mbpl"), 62);
	assert_int_equal(th_pool_out(k, "mclpl"), 0);
	mb_unhog(hog, n);
	mb_leave(state);
}

static void
test_exhaust_copyback(void **state)
{
	static const struct seg one[] = { { 100, false } };
	struct mbuf *m, *c, *cl[4];
	unsigned char want[100];

	mb_enter(state, 64, 4);
	m = mb_build(one, 1, true, pat);
	for (int i = 0; i < 4; i++) {
		cl[i] = m_getcl(M_DONTWAIT, MT_DATA, 0);
		assert_non_null(cl[i]);
	}
	/* the rest of the write needs a cluster: ENOBUFS after a prefix */
	assert_int_equal(m_copyback(m, 50, 300, pat2), ENOBUFS);
	memcpy(want, pat, 100);
	memcpy(want + 50, pat2, 50);
	mb_check(m, want, 100);
	assert_int_equal(mb_count(m), 1);
	m_freem(m);

	/* no cluster to un-share into: nothing written, still shared */
	m_free(cl[3]);
	m = m_getcl(M_DONTWAIT, MT_DATA, M_PKTHDR);
	assert_non_null(m);
	assert_true(m_append(m, 1000, pat));
	c = m_copym(m, 0, M_COPYALL, M_DONTWAIT);
	assert_non_null(c);
	assert_int_equal(m_copyback(m, 0, 10, pat2), ENOBUFS);
	assert_ptr_equal(m->m_ext, c->m_ext);
	assert_int_equal(mb_refcnt(m), 2);
	mb_check(m, pat, 1000);
	mb_check(c, pat, 1000);
	m_freem(m);
	m_freem(c);
	for (int i = 0; i < 3; i++)
		m_free(cl[i]);
	mb_leave(state);
}

/* ---- randomized model test ---- */

#define MODEL_MAX (16 * 1024)
#define MODEL_SEQS 4000
#define MODEL_OPS 50

struct model {
	struct mbuf *m;			/* the packet under test */
	unsigned char *buf;		/* what it must hold */
	int len;
	struct mbuf *snap;		/* an M_COPYALL copy, or NULL */
	unsigned char *snapbuf;		/* what the copy must hold */
	int snaplen;
	unsigned char *src;		/* fresh random bytes for writes */
	uint64_t rng;
	int ext_added;			/* external buffers attached */
	int ext_freed;			/* ... and released by the callback */
};

static int
mr(struct model *md, int n)
{
	return (int)(th_rand(&md->rng) % (uint32_t)n);
}

/* n fresh random bytes in md->src. */
static void
md_bytes(struct model *md, int n)
{
	for (int i = 0; i < n; i++)
		md->src[i] = (unsigned char)th_rand(&md->rng);
}

static void
md_ext_free(void *buf, size_t size, void *arg)
{
	(void)size;
	(*(int *)arg)++;
	free(buf);
}

/* Write n of md->src at off into the flat model, zero-filling any gap. */
static void
md_write(unsigned char *buf, int *len, int off, int n, const void *src)
{
	if (off > *len)
		memset(buf + *len, 0, (size_t)(off - *len));
	memcpy(buf + off, src, (size_t)n);
	*len = MAX(*len, off + n);
}

static void
op_append(struct model *md)
{
	int n = mr(md, 4) == 0 ? mr(md, 4000) : mr(md, 300);

	n = MIN(n, MODEL_MAX - md->len);
	md_bytes(md, n);
	assert_true(m_append(md->m, n, md->src));
	md_write(md->buf, &md->len, md->len, n, md->src);
}

static void
op_prepend(struct model *md)
{
	int n = MIN(mr(md, MHLEN + 1), MODEL_MAX - md->len);

	md_bytes(md, n);
	md->m = m_prepend_fast(md->m, n, M_DONTWAIT);
	assert_non_null(md->m);
	assert_true(md->m->m_len >= n);
	if (n > 0)
		assert_true(m_writable(md->m));
	memcpy(mtod(md->m, char *), md->src, (size_t)n);
	memmove(md->buf + n, md->buf, (size_t)md->len);
	memcpy(md->buf, md->src, (size_t)n);
	md->len += n;
}

static void
op_adj(struct model *md, bool head)
{
	/* mostly short trims, so packets grow to span several clusters */
	int n = mr(md, 4) == 0 ? mr(md, md->len + 32) : mr(md, 300);
	int drop = MIN(n, md->len);

	m_adj(md->m, head ? n : -n);
	if (head)
		memmove(md->buf, md->buf + drop, (size_t)(md->len - drop));
	md->len -= drop;
}

static void
op_copyback(struct model *md)
{
	int off = MIN(mr(md, md->len + 512), MODEL_MAX);
	int n = mr(md, 4) == 0 ? mr(md, 3000) : mr(md, 600);

	n = MIN(n, MODEL_MAX - off);
	md_bytes(md, n);
	assert_int_equal(m_copyback(md->m, off, n, md->src), 0);
	md_write(md->buf, &md->len, off, n, md->src);
}

static void
op_split_cat(struct model *md)
{
	int at = mr(md, md->len + 1);
	struct mbuf *t = m_split(md->m, at, M_DONTWAIT);

	assert_non_null(t);
	assert_int_equal(t->m_flags & M_PKTHDR, M_PKTHDR);
	mb_check(md->m, md->buf, at);
	mb_check(t, md->buf + at, md->len - at);
	m_cat(md->m, t);
	md->m->m_pkthdr.len += md->len - at;
}

static void
op_copym(struct model *md)
{
	int off = mr(md, md->len + 1), n, want;
	struct mbuf *c;

	if (off < md->len && mr(md, 3) == 0) {
		n = M_COPYALL;
		want = md->len - off;
	} else {
		n = want = mr(md, md->len - off + 1);
	}
	c = m_copym(md->m, off, n, M_DONTWAIT);
	if (want == 0) {
		assert_null(c);
		return;
	}
	assert_non_null(c);
	assert_int_equal(c->m_flags & M_PKTHDR, off == 0 ? M_PKTHDR : 0);
	mb_check(c, md->buf + off, want);
	m_freem(c);
}

static void
op_pullup(struct model *md)
{
	int n = mr(md, MIN(MHLEN, md->len) + 1);

	md->m = m_pullup(md->m, n);
	assert_non_null(md->m);
	assert_int_equal(md->m->m_flags & M_PKTHDR, M_PKTHDR);
	assert_true(md->m->m_len >= n);
	bytes_equal(mtod(md->m, char *), md->buf, n);
}

static void
op_copydata(struct model *md)
{
	int off = mr(md, md->len + 1), n = mr(md, md->len - off + 1);

	mb_tmp[n] = 0x5a;
	m_copydata(md->m, off, n, mb_tmp);
	bytes_equal(mb_tmp, md->buf + off, n);
	assert_int_equal(mb_tmp[n], 0x5a);
}

/* Take a snapshot, or check the one taken earlier and drop it. */
static void
op_snapshot(struct model *md)
{
	if (md->snap == NULL) {
		md->snap = m_copym(md->m, 0, M_COPYALL, M_DONTWAIT);
		assert_non_null(md->snap);
		memcpy(md->snapbuf, md->buf, (size_t)md->len);
		md->snaplen = md->len;
		return;
	}
	mb_check(md->snap, md->snapbuf, md->snaplen);
	m_freem(md->snap);
	md->snap = NULL;
}

/* Write into the snapshot: the packet must not see it. */
static void
op_snap_write(struct model *md)
{
	int off, n;

	if (md->snap == NULL)
		return;
	off = MIN(mr(md, md->snaplen + 64), MODEL_MAX);
	n = MIN(mr(md, 400), MODEL_MAX - off);
	md_bytes(md, n);
	assert_int_equal(m_copyback(md->snap, off, n, md->src), 0);
	md_write(md->snapbuf, &md->snaplen, off, n, md->src);
}

/* Attach a malloc'd buffer (part of it holds data) and append it. */
static void
op_extadd(struct model *md)
{
	int size = 1 + mr(md, 3000), off = mr(md, size);
	int n = MIN(mr(md, size - off + 1), MODEL_MAX - md->len);
	unsigned char *buf = malloc((size_t)size);
	struct mbuf *x = m_get(M_DONTWAIT, MT_DATA);

	assert_non_null(buf);
	assert_non_null(x);
	md_bytes(md, size);
	memcpy(buf, md->src, (size_t)size);
	assert_int_equal(m_extadd(x, buf, (size_t)size, md_ext_free,
	    &md->ext_freed), 0);
	md->ext_added++;
	x->m_data = (char *)buf + off;
	x->m_len = n;
	m_cat(md->m, x);
	md->m->m_pkthdr.len += n;
	md_write(md->buf, &md->len, md->len, n, buf + off);
}

/* Append a small packet of its own. */
static void
op_cat(struct model *md)
{
	int n = MIN(mr(md, 400), MODEL_MAX - md->len);
	struct mbuf *x = m_gethdr(M_DONTWAIT, MT_DATA);

	assert_non_null(x);
	md_bytes(md, n);
	assert_true(m_append(x, n, md->src));
	m_cat(md->m, x);
	md->m->m_pkthdr.len += n;
	md_write(md->buf, &md->len, md->len, n, md->src);
}

static void
md_op(struct model *md)
{
	switch (mr(md, 14)) {
	case 0:
	case 1:
		op_append(md);
		break;
	case 2:
		op_prepend(md);
		break;
	case 3:
		op_adj(md, true);
		break;
	case 4:
		op_adj(md, false);
		break;
	case 5:
		op_copyback(md);
		break;
	case 6:
		op_split_cat(md);
		break;
	case 7:
		op_copym(md);
		break;
	case 8:
		op_pullup(md);
		break;
	case 9:
		op_copydata(md);
		break;
	case 10:
		op_snapshot(md);
		break;
	case 11:
		op_snap_write(md);
		break;
	case 12:
		op_extadd(md);
		break;
	default:
		op_cat(md);
		break;
	}
}

static void
md_sequence(struct rump_kernel *k, struct model *md)
{
	md->m = m_gethdr(M_DONTWAIT, MT_DATA);
	assert_non_null(md->m);
	md->len = 0;
	md->snap = NULL;
	md->ext_added = md->ext_freed = 0;
	for (mb_opno = 0; mb_opno < MODEL_OPS; mb_opno++) {
		md_op(md);
		assert_int_equal(md->m->m_flags & M_PKTHDR, M_PKTHDR);
		mb_check(md->m, md->buf, md->len);
		assert_true(md->ext_freed <= md->ext_added);
	}
	if (md->snap != NULL)
		op_snapshot(md);
	m_freem(md->m);
	/* every attached buffer released exactly once, nothing leaked */
	assert_int_equal(md->ext_freed, md->ext_added);
	assert_int_equal(rump_kernel_leaks(k), 0);
}

static void
test_model_random(void **state)
{
	struct rump_kernel *k = mb_enter(state, 0, 0);
	struct model md;

	memset(&md, 0, sizeof(md));
	md.rng = 0x243f6a8885a308d3ull;	/* fixed seed: reproducible */
	md.buf = malloc(MODEL_MAX);
	md.snapbuf = malloc(MODEL_MAX);
	md.src = malloc(MODEL_MAX);
	assert_non_null(md.buf);
	assert_non_null(md.snapbuf);
	assert_non_null(md.src);
	for (mb_seq = 0; mb_seq < MODEL_SEQS; mb_seq++)
		md_sequence(k, &md);
	mb_seq = -1;
	free(md.buf);
	free(md.snapbuf);
	free(md.src);
	mb_leave(state);
}

#define T(f) cmocka_unit_test_teardown(f, mb_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_get_basics),
		T(test_getcl_and_clget),
		T(test_extadd_free_once),
		T(test_extadd_unshare_small),
		T(test_extadd_unshare_large),
		T(test_extadd_enobufs),
		T(test_copym_shares_cluster),
		T(test_copym_copies_internal),
		T(test_copym_ranges),
		T(test_copym_pkthdr),
		T(test_pullup_contiguous),
		T(test_pullup_into_first),
		T(test_pullup_new_head),
		T(test_pullup_fails),
		T(test_copydata),
		T(test_copyback_inside),
		T(test_copyback_extend),
		T(test_copyback_unshares),
		T(test_adj_head),
		T(test_adj_tail),
		T(test_cat),
		T(test_split_pkthdr),
		T(test_split_cluster),
		T(test_split_plain),
		T(test_split_beyond),
		T(test_prepend),
		T(test_prepend_fast),
		T(test_append_many),
		T(test_append_bulk),
		T(test_exhaust_mbufs),
		T(test_exhaust_clusters),
		T(test_exhaust_copym),
		T(test_exhaust_split_prepend_pullup),
		T(test_exhaust_copyback),
		T(test_model_random),
	};

	th_filter();
	return cmocka_run_group_tests(tests, mb_group_setup, NULL);
}
