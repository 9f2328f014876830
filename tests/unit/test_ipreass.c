/*
 * test_ipreass.c -- IPv4 fragment reassembly (src/netinet/ip_reass.c).
 *
 * Every test runs on a fresh instance (one vCPU, virtual clock), holds its
 * vCPU while it calls ip_reass(), and ends with ip_reass_fini() and
 * th_kernel_destroy(), whose leak check proves that every fragment ip_reass
 * dropped, held or handed back went back to the mbuf pools.
 *
 * Fragments are built here as ip_input() would hand them over: one packet,
 * the whole IP header in the first mbuf, fields in network order, a valid
 * header checksum.  The payload of a datagram at byte offset o is
 * pat[base + o] (fixed-seed random bytes), so any misplaced byte in a
 * reassembled datagram shows up.  A test states the value of every ipstat
 * counter after each step (fx.exp) and st_check() compares all of them.
 * Time is the now_ms argument: the tests choose it.
 */
#include "harness.h"

#include "kern/kernel.h"
#include "kern/mbuf.h"
#include "netinet/in.h"
#include "netinet/ip.h"
#include "netinet/ip_reass.h"
#include "netinet/ip_var.h"

#define PAT_LEN (2 * 65536)
#define SRC_A 0x0a000001u		/* 10.0.0.1 */
#define SRC_B 0x0a000002u
#define DST_A 0x0a000063u		/* 10.0.0.99 */
#define DST_B 0x0a000064u

static unsigned char pat[PAT_LEN];	/* the payload of every datagram */
static unsigned char rd[PAT_LEN];	/* read-back buffer */

/* IP options of a header with more than 5 words: RR (2 slots), NOPs, EOL. */
static const unsigned char optbuf[40] = {
	IPOPT_NOP, IPOPT_RR, 11, 4, 10, 0, 0, 1, 0, 0, 0, 0,
	IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP,
	IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP,
	IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP,
	IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP,
	IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_EOL,
};

/* ---- the fixture: one instance, one reassembly state, the counters ---- */

static struct fx {
	struct rump_kernel *k;
	struct ip_reass ir;
	bool ir_live;			/* between init and fini */
	uint64_t now;			/* now_ms given to ip_reass() */
	struct ipstat st;		/* what ip_reass() counted */
	struct ipstat exp;		/* what the test expects */
} fx;

static const char *cur_case;		/* of a table test, for a failure */

static void
fx_enter(void **state, unsigned maxdgrams, size_t maxbytes,
    uint64_t timeout_ms)
{
	memset(&fx, 0, sizeof(fx));
	cur_case = NULL;
	fx.k = th_kernel(RUMP_SOFTINT_INLINE, RUMP_CLOCK_VIRTUAL, 1);
	*state = &fx;
	assert_int_equal(rump_thread_bind(fx.k), 0);
	rump_schedule();
	ip_reass_init(&fx.ir, maxdgrams, maxbytes, timeout_ms);
	fx.ir_live = true;
	fx.now = 1000;
}

static void
fx_leave(void **state)
{
	ip_reass_fini(&fx.ir);
	fx.ir_live = false;
	assert_int_equal(fx.ir.ir_ndgrams, 0);
	assert_int_equal(fx.ir.ir_nbytes, 0);
	rump_unschedule();
	assert_int_equal(rump_thread_unbind(), 0);
	th_kernel_destroy(fx.k);
	fx.k = NULL;
	*state = NULL;
}

/* After a failed assertion: leave the kernel and free the instance. */
static int
fx_teardown(void **state)
{
	(void)state;
	if (fx.k == NULL)
		return 0;
	if (cur_case != NULL)
		print_message("failed in case \"%s\"\n", cur_case);
	if (curlwp != NULL) {
		if (curlwp->l_cpu != NULL) {
			if (fx.ir_live)
				ip_reass_fini(&fx.ir);
			rump_unschedule();
		}
		rump_thread_unbind();
	}
	rump_kernel_destroy(fx.k);
	fx.k = NULL;
	return 0;
}

static int
group_setup(void **state)
{
	uint64_t rng = 0x69707271u;	/* fixed: the same bytes every run */

	(void)state;
	for (size_t i = 0; i < PAT_LEN; i++)
		pat[i] = (unsigned char)th_rand(&rng);
	return 0;
}

/* ---- counters and state ---- */

#define ST_CMP(f) do {							\
	if (got->f != want->f)						\
		fail_msg("%s: got %llu, want %llu", #f,			\
		    (unsigned long long)got->f,				\
		    (unsigned long long)want->f);			\
} while (0)

/* Every counter is what the test expects (the others stay zero). */
static void
st_check(void)
{
	const struct ipstat *got = &fx.st, *want = &fx.exp;

	ST_CMP(ips_fragments);
	ST_CMP(ips_fragdropped);
	ST_CMP(ips_fragdup);
	ST_CMP(ips_fragoverlap);
	ST_CMP(ips_fragtimeout);
	ST_CMP(ips_fragtoolong);
	ST_CMP(ips_fragbad);
	ST_CMP(ips_fraglimit);
	ST_CMP(ips_reassembled);
	assert_memory_equal(got, want, sizeof(*got));
}

/* The reassembly state holds ndgrams datagrams and nbytes bytes. */
static void
ir_check(unsigned ndgrams, size_t nbytes)
{
	assert_int_equal(fx.ir.ir_ndgrams, ndgrams);
	assert_int_equal(fx.ir.ir_nbytes, nbytes);
}

/* ---- fragments ---- */

/* A datagram: its key, the header length of fragment zero, its payload. */
struct dg {
	uint32_t src, dst;		/* host order */
	uint16_t id;
	uint8_t p;
	int hl0;			/* header words of fragment zero */
	int base;			/* payload byte o is pat[base + o] */
	uint16_t df;			/* IP_DF in every fragment, or 0 */
};

static struct dg
dg_make(uint16_t id, int base)
{
	struct dg d = { SRC_A, DST_A, id, IPPROTO_UDP, 5, base, 0 };

	return d;
}

/* The reference checksum: native 16-bit words, folded. */
static uint16_t
ref_sum(const void *buf, int len)
{
	const unsigned char *p = buf;
	uint32_t sum = 0;
	uint16_t w;

	for (int i = 0; i < len; i += 2) {
		memcpy(&w, p + i, 2);
		sum += w;
	}
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * Fragment [off, off + len) of d with a header of hl words (0: d->hl0 at
 * offset 0, 5 elsewhere), MF as given.  Headers longer than 5 words carry
 * optbuf.
 */
static struct mbuf *
frag_hl(const struct dg *d, int off, int len, bool mf, int hl)
{
	unsigned char h[IP_MAXHLEN];
	struct ip *ip = (struct ip *)(void *)h;
	struct mbuf *m;

	if (hl == 0)
		hl = off == 0 ? d->hl0 : 5;
	assert_true(off % 8 == 0 && off / 8 <= IP_OFFMASK);
	assert_true(hl >= 5 && hl <= 15 && hl * 4 + len <= IP_MAXPACKET);
	assert_true(d->base + off + len <= PAT_LEN);
	memset(h, 0, sizeof(h));
	ip->ip_vhl = IP_VHL(IPVERSION, hl);
	ip->ip_tos = 0x10;
	ip->ip_len = htons((uint16_t)(hl * 4 + len));
	ip->ip_id = htons(d->id);
	ip->ip_off = htons((uint16_t)(d->df | (mf ? IP_MF : 0) | off / 8));
	ip->ip_ttl = 63;
	ip->ip_p = d->p;
	ip->ip_src.s_addr = htonl(d->src);
	ip->ip_dst.s_addr = htonl(d->dst);
	memcpy(h + IP_MINHLEN, optbuf, (size_t)(hl - 5) * 4);
	ip->ip_sum = (uint16_t)~ref_sum(h, hl * 4);
	assert_int_equal(ref_sum(h, hl * 4), 0xffff);

	m = m_gethdr(M_DONTWAIT, MT_DATA);
	assert_non_null(m);
	assert_true(m_append(m, hl * 4, h));
	assert_true(m_append(m, len, pat + d->base + off));
	assert_true(m->m_len >= hl * 4);
	assert_int_equal(m->m_pkthdr.len, hl * 4 + len);
	return m;
}

static struct mbuf *
frag(const struct dg *d, int off, int len, bool mf)
{
	return frag_hl(d, off, len, mf, 0);
}

/* Bytes a fragment takes in ir_nbytes. */
static size_t
fbytes(const struct dg *d, int off, int len)
{
	return (size_t)((off == 0 ? d->hl0 : 5) * 4 + len);
}

static struct mbuf *
feed_m(struct mbuf *m)
{
	return ip_reass(&fx.ir, m, fx.now, &fx.st);
}

/* Give ip_reass() a fragment that must not complete anything. */
static void
feed0(const struct dg *d, int off, int len, bool mf)
{
	assert_null(feed_m(frag(d, off, len, mf)));
}

static void
bytes_equal(const void *got, const void *want, int len)
{
	if (len > 0 && memcmp(got, want, (size_t)len) != 0)
		assert_memory_equal(got, want, (size_t)len);
}

/*
 * m is d reassembled with plen payload bytes: the header of fragment zero
 * (options included), ip_len the total, ip_off 0, a valid checksum, every
 * payload byte in place.  Frees m.
 */
static void
check_dgram(struct mbuf *m, const struct dg *d, int plen)
{
	unsigned char h[IP_MAXHLEN];
	const struct ip *ip = (const struct ip *)(const void *)h;
	int hlen = d->hl0 * 4;

	assert_non_null(m);
	assert_true(m->m_flags & M_PKTHDR);
	assert_null(m->m_nextpkt);
	assert_int_equal(m->m_pkthdr.len, hlen + plen);
	assert_int_equal(m_length(m), hlen + plen);
	assert_true(m->m_len >= hlen);	/* header still contiguous */
	memcpy(h, mtod(m, const void *), (size_t)hlen);
	assert_int_equal(ip->ip_vhl, IP_VHL(IPVERSION, d->hl0));
	assert_int_equal(ip->ip_tos, 0x10);
	assert_int_equal(ntohs(ip->ip_len), hlen + plen);
	assert_int_equal(ntohs(ip->ip_id), d->id);
	assert_int_equal(ip->ip_off, 0);
	assert_int_equal(ip->ip_ttl, 63);
	assert_int_equal(ip->ip_p, d->p);
	assert_int_equal(ntohl(ip->ip_src.s_addr), d->src);
	assert_int_equal(ntohl(ip->ip_dst.s_addr), d->dst);
	bytes_equal(h + IP_MINHLEN, optbuf, hlen - IP_MINHLEN);
	assert_int_equal(ref_sum(h, hlen), 0xffff);
	m_copydata(m, hlen, plen, rd);
	bytes_equal(rd, pat + d->base, plen);
	m_freem(m);
}

/* A piece of a datagram: payload [off, off + len), MF, header words. */
struct pc {
	int off, len;
	bool mf;
	int hl;				/* 0: the default of frag_hl() */
};

/*
 * Cut a datagram into n pieces: all but the last a random multiple of 8
 * bytes, 8..8*units, the last 1..lastmax bytes.  Returns the payload length.
 */
static int
cut(struct pc *pcs, int n, int units, int lastmax, uint64_t *rng)
{
	int off = 0;

	for (int i = 0; i < n; i++) {
		pcs[i].off = off;
		pcs[i].mf = i < n - 1;
		pcs[i].len = pcs[i].mf ? 8 * (1 + (int)(th_rand(rng) %
		    (unsigned)units)) : 1 + (int)(th_rand(rng) %
		    (unsigned)lastmax);
		pcs[i].hl = 0;
		off += pcs[i].len;
	}
	return off;
}

static void
shuffle(int *v, int n, uint64_t *rng)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)(th_rand(rng) % (unsigned)(i + 1)), t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

/*
 * Feed the pieces of d in the order of seq (nseq entries): every fragment
 * but the last is held, the last completes the datagram, checked against
 * plen.  Counts the fragments and the datagram in fx.exp.
 */
static void
feed_seq(const struct dg *d, const struct pc *pcs, const int *seq, int nseq,
    int plen)
{
	struct mbuf *r = NULL;

	for (int i = 0; i < nseq; i++) {
		const struct pc *p = &pcs[seq[i]];

		r = feed_m(frag_hl(d, p->off, p->len, p->mf, p->hl));
		if (i < nseq - 1)
			assert_null(r);
	}
	fx.exp.ips_fragments += (uint64_t)nseq;
	fx.exp.ips_reassembled++;
	check_dgram(r, d, plen);
}

static void
iota(int *v, int n)
{
	for (int i = 0; i < n; i++)
		v[i] = i;
}

/* ---- in order, reverse, random ---- */

static void
test_in_order(void **state)
{
	struct dg d = dg_make(1, 0);
	struct pc pcs[4];
	int seq[4], plen = 0;

	fx_enter(state, 0, 0, 0);
	/* three full 1480-byte fragments and a short last one */
	for (int i = 0; i < 4; i++) {
		pcs[i] = (struct pc){ plen, i < 3 ? 1480 : 521, i < 3, 0 };
		plen += pcs[i].len;
	}
	iota(seq, 4);
	feed_seq(&d, pcs, seq, 4, plen);
	st_check();
	ir_check(0, 0);
	fx_leave(state);
}

static void
test_reverse(void **state)
{
	struct dg d = dg_make(2, 77);
	struct pc pcs[6];
	int seq[6], plen;
	uint64_t rng = 2;

	fx_enter(state, 0, 0, 0);
	plen = cut(pcs, 6, 200, 300, &rng);
	for (int i = 0; i < 6; i++)
		seq[i] = 5 - i;
	feed_seq(&d, pcs, seq, 6, plen);
	st_check();
	ir_check(0, 0);
	fx_leave(state);
}

static void
test_random_order(void **state)
{
	static const int counts[] = { 2, 3, 5, 8, 17, 33, 63, 64 };
	static const int hls[] = { 5, 8, 15 };
	struct pc pcs[IP_REASS_MAXFRAGS];
	int seq[IP_REASS_MAXFRAGS];
	uint64_t rng = 0x5eed;
	uint16_t id = 1;

	fx_enter(state, 0, 0, 0);
	for (size_t c = 0; c < __arraycount(counts); c++) {
		int n = counts[c];

		for (int perm = 0; perm < 25; perm++) {
			struct dg d = dg_make(id++,
			    (int)(th_rand(&rng) % 65536));
			int plen = cut(pcs, n, n > 32 ? 100 : 200, 700, &rng);

			d.hl0 = hls[th_rand(&rng) % 3];
			iota(seq, n);
			shuffle(seq, n, &rng);
			feed_seq(&d, pcs, seq, n, plen);
			ir_check(0, 0);
		}
	}
	st_check();
	fx_leave(state);
}

/* ---- duplicates ---- */

static void
test_duplicates(void **state)
{
	struct dg d1 = dg_make(10, 5), d2 = dg_make(11, 6);
	struct pc pcs[IP_REASS_MAXFRAGS];
	int seq[2 * IP_REASS_MAXFRAGS];
	uint64_t rng = 0xd0d0;
	struct mbuf *r;

	fx_enter(state, 0, 0, 0);

	/* every fragment twice in a row: the second is dropped */
	feed0(&d1, 0, 16, true);
	feed0(&d1, 0, 16, true);
	feed0(&d1, 16, 8, true);
	feed0(&d1, 16, 8, true);
	fx.exp.ips_fragments = 4;
	fx.exp.ips_fragdup = 2;
	st_check();
	ir_check(1, fbytes(&d1, 0, 16) + fbytes(&d1, 16, 8));
	r = feed_m(frag(&d1, 24, 5, false));
	fx.exp.ips_fragments++;
	fx.exp.ips_reassembled++;
	check_dgram(r, &d1, 29);
	st_check();

	/* the last fragment twice, before the others */
	feed0(&d2, 24, 5, false);
	feed0(&d2, 24, 5, false);
	feed0(&d2, 0, 16, true);
	fx.exp.ips_fragments += 3;
	fx.exp.ips_fragdup++;
	st_check();
	/* the same first fragment with another header length: a duplicate */
	assert_null(feed_m(frag_hl(&d2, 0, 16, true, 8)));
	fx.exp.ips_fragments++;
	fx.exp.ips_fragdup++;
	st_check();
	ir_check(1, fbytes(&d2, 24, 5) + fbytes(&d2, 0, 16));
	r = feed_m(frag(&d2, 16, 8, true));
	fx.exp.ips_fragments++;
	fx.exp.ips_reassembled++;
	check_dgram(r, &d2, 29);
	st_check();
	ir_check(0, 0);

	/* random orders with random duplicates, before the last fragment */
	for (int round = 0; round < 40; round++) {
		struct dg d = dg_make((uint16_t)(100 + round), round * 131);
		int n = 2 + (int)(th_rand(&rng) % 30), nseq = n, ndup;
		int plen = cut(pcs, n, 60, 100, &rng);

		iota(seq, n);
		shuffle(seq, n, &rng);
		ndup = (int)(th_rand(&rng) % (unsigned)n);
		for (int k = 0; k < ndup; k++) {
			/* a copy of an earlier one, anywhere before the last */
			int p = 1 + (int)(th_rand(&rng) % (unsigned)(nseq - 1));
			int v = seq[th_rand(&rng) % (unsigned)p];

			memmove(seq + p + 1, seq + p,
			    (size_t)(nseq - p) * sizeof(seq[0]));
			seq[p] = v;
			nseq++;
		}
		feed_seq(&d, pcs, seq, nseq, plen);
		fx.exp.ips_fragdup += (uint64_t)ndup;
		st_check();
		ir_check(0, 0);
	}
	fx_leave(state);
}

/* ---- overlaps and inconsistent ends ---- */

static void
test_overlap_drops_datagram(void **state)
{
	struct dg d1 = dg_make(20, 0), d2 = dg_make(21, 1000);
	struct mbuf *m, *r;

	fx_enter(state, 0, 0, 0);
	feed0(&d1, 0, 16, true);
	feed0(&d2, 0, 16, true);
	/* [8, 24) overlaps [0, 16): d1 goes, with both fragments */
	feed0(&d1, 8, 16, true);
	fx.exp.ips_fragments = 3;
	fx.exp.ips_fragoverlap = 1;
	fx.exp.ips_fragdropped = 2;
	st_check();
	ir_check(2, fbytes(&d2, 0, 16));	/* d1 is a tombstone */

	/* the rest of d1 is dropped, even what would have fitted */
	feed0(&d1, 16, 8, true);
	feed0(&d1, 24, 8, false);
	feed0(&d1, 0, 16, true);
	fx.exp.ips_fragments += 3;
	fx.exp.ips_fragdropped += 3;
	st_check();
	ir_check(2, fbytes(&d2, 0, 16));

	/* RFC 6946: an atomic fragment with d1's key stands alone */
	m = frag(&d1, 0, 40, false);
	assert_ptr_equal(feed_m(m), m);
	st_check();
	m_freem(m);

	/* d2 is unaffected */
	feed0(&d2, 16, 16, true);
	r = feed_m(frag(&d2, 32, 3, false));
	fx.exp.ips_fragments += 2;
	fx.exp.ips_reassembled++;
	check_dgram(r, &d2, 35);
	st_check();
	ir_check(1, 0);
	fx_leave(state);
}

enum outcome { O_HELD, O_DUP, O_KILL };

struct ovcase {
	const char *name;
	int nheld;
	struct pc held[3];
	struct pc nw;
	enum outcome out;
};

#define MF true
#define LAST false

static const struct ovcase ovcases[] = {
	{ "tail overlaps", 1, { { 0, 16, MF, 0 } }, { 8, 16, MF, 0 }, O_KILL },
	{ "head overlaps", 1, { { 16, 16, MF, 0 } }, { 8, 16, MF, 0 }, O_KILL },
	{ "spans both neighbours", 2, { { 0, 16, MF, 0 }, { 32, 16, MF, 0 } },
	    { 8, 32, MF, 0 }, O_KILL },
	{ "covers one", 1, { { 16, 16, MF, 0 } }, { 8, 32, MF, 0 }, O_KILL },
	{ "inside one", 1, { { 0, 32, MF, 0 } }, { 8, 8, MF, 0 }, O_KILL },
	{ "same offset, shorter", 1, { { 0, 16, MF, 0 } }, { 0, 8, MF, 0 },
	    O_KILL },
	{ "same offset, longer", 1, { { 0, 16, MF, 0 } }, { 0, 24, MF, 0 },
	    O_KILL },
	{ "same end, other start", 1, { { 8, 16, MF, 0 } }, { 16, 8, MF, 0 },
	    O_KILL },
	{ "last overlaps", 1, { { 0, 16, MF, 0 } }, { 8, 13, LAST, 0 },
	    O_KILL },
	{ "second last, earlier end", 2, { { 0, 16, MF, 0 },
	    { 32, 8, LAST, 0 } }, { 16, 8, LAST, 0 }, O_KILL },
	{ "second last, later end", 2, { { 0, 8, MF, 0 },
	    { 16, 8, LAST, 0 } }, { 32, 8, LAST, 0 }, O_KILL },
	{ "second last, same offset", 1, { { 16, 8, LAST, 0 } },
	    { 16, 9, LAST, 0 }, O_KILL },
	{ "past the end", 2, { { 0, 8, MF, 0 }, { 16, 8, LAST, 0 } },
	    { 24, 8, MF, 0 }, O_KILL },
	{ "last before held data", 2, { { 0, 8, MF, 0 }, { 16, 16, MF, 0 } },
	    { 8, 8, LAST, 0 }, O_KILL },
	{ "fills a gap exactly", 2, { { 0, 16, MF, 0 }, { 32, 16, MF, 0 } },
	    { 16, 16, MF, 0 }, O_HELD },
	{ "touches from below", 1, { { 8, 8, MF, 0 } }, { 0, 8, MF, 0 },
	    O_HELD },
	{ "touches from above", 1, { { 8, 8, MF, 0 } }, { 16, 8, MF, 0 },
	    O_HELD },
	{ "last after held data", 1, { { 8, 8, MF, 0 } }, { 24, 3, LAST, 0 },
	    O_HELD },
	{ "duplicate", 2, { { 0, 16, MF, 0 }, { 32, 16, MF, 0 } },
	    { 32, 16, MF, 0 }, O_DUP },
	{ "duplicate last", 1, { { 8, 8, LAST, 0 } }, { 8, 8, LAST, 0 },
	    O_DUP },
	{ "duplicate first, other options", 1, { { 0, 16, MF, 8 } },
	    { 0, 16, MF, 5 }, O_DUP },
};

static void
test_overlap_cases(void **state)
{
	unsigned ndgrams = 0;
	size_t nbytes = 0;

	fx_enter(state, 0, 0, 0);
	for (size_t i = 0; i < __arraycount(ovcases); i++) {
		const struct ovcase *c = &ovcases[i];
		struct dg d = dg_make((uint16_t)(300 + i), (int)i * 64);
		size_t held = 0;
		const struct pc *p;

		cur_case = c->name;
		for (int j = 0; j < c->nheld; j++) {
			p = &c->held[j];
			assert_null(feed_m(frag_hl(&d, p->off, p->len, p->mf,
			    p->hl)));
			held += (size_t)((p->hl ? p->hl :
			    p->off == 0 ? d.hl0 : 5) * 4 + p->len);
		}
		fx.exp.ips_fragments += (uint64_t)c->nheld;
		ndgrams++;
		nbytes += held;
		st_check();
		ir_check(ndgrams, nbytes);

		p = &c->nw;
		assert_null(feed_m(frag_hl(&d, p->off, p->len, p->mf, p->hl)));
		fx.exp.ips_fragments++;
		switch (c->out) {
		case O_HELD:
			nbytes += fbytes(&d, p->off, p->len);
			break;
		case O_DUP:
			fx.exp.ips_fragdup++;
			break;
		case O_KILL:
			fx.exp.ips_fragoverlap++;
			fx.exp.ips_fragdropped += (uint64_t)c->nheld + 1;
			nbytes -= held;
			break;
		}
		st_check();
		ir_check(ndgrams, nbytes);	/* a tombstone still counts */

		if (c->out == O_KILL) {
			/* the tombstone drops the first piece again */
			p = &c->held[0];
			assert_null(feed_m(frag_hl(&d, p->off, p->len, p->mf,
			    p->hl)));
			fx.exp.ips_fragments++;
			fx.exp.ips_fragdropped++;
			st_check();
			ir_check(ndgrams, nbytes);
		}
	}
	fx_leave(state);
}

/* A middle fragment overlapping both neighbours, with the rest complete. */
static void
test_overlap_middle(void **state)
{
	struct dg d = dg_make(40, 40), e = dg_make(41, 41);
	struct mbuf *r;

	fx_enter(state, 0, 0, 0);
	feed0(&d, 0, 16, true);
	feed0(&d, 32, 16, true);
	feed0(&d, 48, 2, false);
	feed0(&d, 8, 32, true);
	fx.exp.ips_fragments = 4;
	fx.exp.ips_fragoverlap = 1;
	fx.exp.ips_fragdropped = 4;
	st_check();
	ir_check(1, 0);
	/* the piece that fits would have completed it: still dropped */
	feed0(&d, 16, 16, true);
	fx.exp.ips_fragments++;
	fx.exp.ips_fragdropped++;
	st_check();

	/* the same layout under another id completes */
	feed0(&e, 0, 16, true);
	feed0(&e, 32, 16, true);
	feed0(&e, 48, 2, false);
	r = feed_m(frag(&e, 16, 16, true));
	fx.exp.ips_fragments += 4;
	fx.exp.ips_reassembled++;
	check_dgram(r, &e, 50);
	st_check();
	ir_check(1, 0);
	fx_leave(state);
}

/* ---- sizes ---- */

static void
test_tiny_fragments(void **state)
{
	struct dg d = dg_make(50, 3), e = dg_make(51, 9);
	struct pc pcs[IP_REASS_MAXFRAGS];
	int seq[IP_REASS_MAXFRAGS];
	uint64_t rng = 50;

	fx_enter(state, 0, 0, 0);
	/* 40 fragments of 8 bytes and a last one of 3, shuffled */
	for (int i = 0; i < 41; i++)
		pcs[i] = (struct pc){ i * 8, i < 40 ? 8 : 3, i < 40, 0 };
	iota(seq, 41);
	shuffle(seq, 41, &rng);
	feed_seq(&d, pcs, seq, 41, 323);
	st_check();

	/* IP_REASS_MAXFRAGS fragments of 8 bytes: the most one may have */
	for (int i = 0; i < IP_REASS_MAXFRAGS; i++)
		pcs[i] = (struct pc){ i * 8, 8, i < IP_REASS_MAXFRAGS - 1, 0 };
	iota(seq, IP_REASS_MAXFRAGS);
	shuffle(seq, IP_REASS_MAXFRAGS, &rng);
	feed_seq(&e, pcs, seq, IP_REASS_MAXFRAGS, 8 * IP_REASS_MAXFRAGS);
	st_check();
	ir_check(0, 0);
	fx_leave(state);
}

/* The largest datagram (65535 bytes) and fragments that would pass it. */
static void
test_toolong(void **state)
{
	struct dg d = dg_make(60, 0), o = dg_make(61, 0), q = dg_make(62, 0);
	struct dg w = dg_make(63, 0);
	struct mbuf *r;

	fx_enter(state, 0, 0, 0);
	/* 8191 * 8 + 8 + 20 > 65535 */
	feed0(&d, 65528, 8, true);
	/* 65472 + 44 + 20 = 65536 */
	feed0(&d, 65472, 44, false);
	fx.exp.ips_fragments = 2;
	fx.exp.ips_fragtoolong = 2;
	st_check();
	ir_check(0, 0);

	/* 65472 + 43 + 20 = 65535: the largest datagram, 45 fragments */
	feed0(&d, 65472, 43, false);
	for (int i = 0; i < 43; i++)
		feed0(&d, i * 1488, 1488, true);
	r = feed_m(frag(&d, 43 * 1488, 1488, true));
	fx.exp.ips_fragments += 45;
	fx.exp.ips_reassembled++;
	check_dgram(r, &d, 65515);
	st_check();
	ir_check(0, 0);

	/*
	 * Fragment zero with 40 bytes of options: the datagram would be
	 * 65555 bytes, though each fragment fits alone.  Either order.
	 */
	o.hl0 = 15;
	feed0(&o, 65472, 43, false);
	feed0(&o, 0, 1488, true);		/* 60 + 65515 */
	fx.exp.ips_fragments += 2;
	fx.exp.ips_fragtoolong++;
	st_check();
	ir_check(1, fbytes(&o, 65472, 43));
	q.hl0 = 15;
	feed0(&q, 0, 1488, true);
	feed0(&q, 65472, 43, false);		/* 60 + 65515 */
	fx.exp.ips_fragments += 2;
	fx.exp.ips_fragtoolong++;
	st_check();
	ir_check(2, fbytes(&o, 65472, 43) + fbytes(&q, 0, 1488));
	/* a fragment past the end of fragment zero's datagram, MF set */
	feed0(&q, 65464, 16, true);		/* 60 + 65480 */
	fx.exp.ips_fragments++;
	fx.exp.ips_fragtoolong++;
	st_check();
	/* with 3 bytes at the end it fits exactly: 60 + 65475 */
	w.hl0 = 15;
	feed0(&w, 0, 1488, true);
	feed0(&w, 65472, 3, false);
	fx.exp.ips_fragments += 2;
	st_check();
	ir_check(3, fbytes(&o, 65472, 43) + fbytes(&q, 0, 1488) +
	    fbytes(&w, 0, 1488) + fbytes(&w, 65472, 3));
	fx_leave(state);
}

static void
test_bad_fragments(void **state)
{
	struct dg d = dg_make(70, 0);
	struct mbuf *r;

	fx_enter(state, 0, 0, 0);
	feed0(&d, 0, 12, true);		/* MF, not a multiple of 8 */
	feed0(&d, 8, 0, true);		/* MF, empty */
	feed0(&d, 8, 0, false);		/* last, empty */
	feed0(&d, 16, 13, false);	/* the last may be any length */
	fx.exp.ips_fragments = 4;
	fx.exp.ips_fragbad = 3;
	st_check();
	ir_check(1, fbytes(&d, 16, 13));
	feed0(&d, 8, 8, true);
	r = feed_m(frag(&d, 0, 8, true));
	fx.exp.ips_fragments += 2;
	fx.exp.ips_reassembled++;
	check_dgram(r, &d, 29);
	st_check();
	ir_check(0, 0);
	fx_leave(state);
}

/* ---- several datagrams at once ---- */

static void
test_interleaved(void **state)
{
	struct dg ds[6];
	struct pc pcs[6][8];
	int plen[6], order[6 * 8], n = 0, done = 0;
	int next[6] = { 0 };
	uint64_t rng = 0x1e;

	fx_enter(state, 0, 0, 0);
	/* same id, and keys differing in one field each */
	ds[0] = dg_make(100, 0);
	ds[1] = dg_make(101, 100);
	ds[2] = dg_make(100, 200);
	ds[2].src = SRC_B;
	ds[3] = dg_make(100, 300);
	ds[3].dst = DST_B;
	ds[4] = dg_make(100, 400);
	ds[4].p = IPPROTO_TCP;
	ds[5] = dg_make(100, 500);
	ds[5].hl0 = 8;
	ds[5].src = SRC_B;
	ds[5].dst = DST_B;
	for (int i = 0; i < 6; i++)
		plen[i] = cut(pcs[i], 8, 150, 200, &rng);
	/* each datagram's fragments in reverse, datagrams mixed at random */
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 8; j++)
			order[n++] = i;
	shuffle(order, n, &rng);
	for (int t = 0; t < n; t++) {
		int i = order[t], j = 7 - next[i]++;
		struct mbuf *r = feed_m(frag(&ds[i], pcs[i][j].off,
		    pcs[i][j].len, pcs[i][j].mf));

		fx.exp.ips_fragments++;
		if (next[i] < 8) {
			assert_null(r);
			continue;
		}
		fx.exp.ips_reassembled++;
		check_dgram(r, &ds[i], plen[i]);
		done++;
		ir_check((unsigned)(6 - done), fx.ir.ir_nbytes);
	}
	assert_int_equal(done, 6);
	st_check();
	ir_check(0, 0);
	fx_leave(state);
}

/* ---- limits ---- */

static void
test_limit_dgrams(void **state)
{
	struct dg d[7];
	struct mbuf *r;
	size_t b = 0;

	fx_enter(state, 4, 0, 0);
	for (int i = 0; i < 7; i++)
		d[i] = dg_make((uint16_t)(200 + i), i * 100);
	for (int i = 0; i < 4; i++) {
		feed0(&d[i], 0, 16, true);
		b += fbytes(&d[i], 0, 16);
	}
	fx.exp.ips_fragments = 4;
	ir_check(4, b);
	/* a fifth datagram does not fit; the others go on */
	feed0(&d[4], 0, 16, true);
	feed0(&d[4], 16, 8, false);
	fx.exp.ips_fragments += 2;
	fx.exp.ips_fraglimit = 2;
	st_check();
	ir_check(4, b);
	feed0(&d[1], 24, 8, false);
	fx.exp.ips_fragments++;
	b += fbytes(&d[1], 24, 8);
	st_check();
	ir_check(4, b);
	/* one completes: room for d[4] */
	r = feed_m(frag(&d[0], 16, 5, false));
	fx.exp.ips_fragments++;
	fx.exp.ips_reassembled++;
	check_dgram(r, &d[0], 21);
	b -= fbytes(&d[0], 0, 16);
	ir_check(3, b);
	feed0(&d[4], 16, 8, false);
	fx.exp.ips_fragments++;
	b += fbytes(&d[4], 16, 8);
	st_check();
	ir_check(4, b);
	/* a tombstone counts as a datagram */
	feed0(&d[2], 8, 16, true);
	fx.exp.ips_fragments++;
	fx.exp.ips_fragoverlap++;
	fx.exp.ips_fragdropped += 2;
	b -= fbytes(&d[2], 0, 16);
	ir_check(4, b);
	feed0(&d[5], 0, 16, true);
	fx.exp.ips_fragments++;
	fx.exp.ips_fraglimit++;
	st_check();
	ir_check(4, b);
	/* the timer frees them all; then d[5] fits */
	ip_reass_timeout(&fx.ir, fx.now + 30001, NULL, NULL, &fx.st);
	fx.exp.ips_fragtimeout += 3;		/* d[1], d[3], d[4] */
	fx.exp.ips_fragdropped += 2 + 1 + 1;
	st_check();
	ir_check(0, 0);
	fx.now += 30001;
	feed0(&d[5], 0, 16, true);
	fx.exp.ips_fragments++;
	st_check();
	ir_check(1, fbytes(&d[5], 0, 16));
	fx_leave(state);
}

static void
test_limit_bytes(void **state)
{
	struct dg a = dg_make(210, 0), b = dg_make(211, 3000);
	struct dg c = dg_make(212, 6000);
	struct mbuf *r;

	fx_enter(state, 0, 3000, 0);
	feed0(&a, 0, 1000, true);		/* 1020 */
	feed0(&a, 1000, 1000, true);		/* 2040 */
	fx.exp.ips_fragments = 2;
	ir_check(1, 2040);
	/* one byte too many, for a datagram held and for a new one */
	feed0(&a, 2000, 941, false);		/* 961: 3001 */
	feed0(&b, 8, 941, false);		/* 961: 3001 */
	feed0(&b, 0, 952, true);		/* 972: 3012 */
	fx.exp.ips_fragments += 3;
	fx.exp.ips_fraglimit = 3;
	st_check();
	ir_check(1, 2040);
	/* exactly at the limit: accepted, and it completes a */
	r = feed_m(frag(&a, 2000, 940, false));	/* 960: 3000 */
	fx.exp.ips_fragments++;
	fx.exp.ips_reassembled++;
	check_dgram(r, &a, 2940);
	st_check();
	ir_check(0, 0);

	/* a new datagram exactly at the limit */
	feed0(&c, 0, 1000, true);
	feed0(&c, 1000, 1000, true);
	feed0(&b, 8, 940, false);		/* 960: 3000 */
	fx.exp.ips_fragments += 3;
	st_check();
	ir_check(2, 3000);
	feed0(&b, 0, 8, true);			/* 28: 3028 */
	fx.exp.ips_fragments++;
	fx.exp.ips_fraglimit++;
	st_check();
	ir_check(2, 3000);
	/* the timer makes room; a fragment larger than the budget never fits */
	ip_reass_timeout(&fx.ir, fx.now + 30001, NULL, NULL, &fx.st);
	fx.exp.ips_fragtimeout += 2;
	fx.exp.ips_fragdropped += 3;
	st_check();
	ir_check(0, 0);
	feed0(&b, 8, 2981, false);		/* 3001 */
	fx.exp.ips_fragments++;
	fx.exp.ips_fraglimit++;
	st_check();
	ir_check(0, 0);
	fx_leave(state);
}

static void
test_limit_frags(void **state)
{
	struct dg d = dg_make(220, 0);
	size_t b = 0;

	fx_enter(state, 0, 0, 0);
	/* 64 fragments of 8 bytes at units 1..64, a hole at 0 */
	for (int i = 1; i <= IP_REASS_MAXFRAGS; i++) {
		feed0(&d, i * 8, 8, true);
		b += fbytes(&d, i * 8, 8);
	}
	fx.exp.ips_fragments = IP_REASS_MAXFRAGS;
	st_check();
	ir_check(1, b);
	feed0(&d, (IP_REASS_MAXFRAGS + 1) * 8, 3, false);
	feed0(&d, 0, 8, true);
	fx.exp.ips_fragments += 2;
	fx.exp.ips_fraglimit = 2;
	st_check();
	ir_check(1, b);
	/* a duplicate is still a duplicate, an overlap still kills */
	feed0(&d, 8, 8, true);
	fx.exp.ips_fragments++;
	fx.exp.ips_fragdup++;
	st_check();
	feed0(&d, 24, 16, true);
	fx.exp.ips_fragments++;
	fx.exp.ips_fragoverlap++;
	fx.exp.ips_fragdropped += IP_REASS_MAXFRAGS + 1;
	st_check();
	ir_check(1, 0);
	fx_leave(state);
}

/* ---- timeout ---- */

struct expiry {
	int n;				/* callbacks */
	uint16_t id;			/* of the last one handed over */
	uint16_t off;			/* its ip_off, host order */
	int len;
};

static void
expired_cb(void *arg, struct mbuf *m)
{
	struct expiry *x = arg;
	const struct ip *ip = mtod(m, const struct ip *);

	x->n++;
	x->id = ntohs(ip->ip_id);
	x->off = ntohs(ip->ip_off);
	x->len = m->m_pkthdr.len;
	assert_null(m->m_nextpkt);
	m_freem(m);
}

static void
test_timeout(void **state)
{
	struct dg d1 = dg_make(400, 0), d2 = dg_make(401, 100);
	struct dg d3 = dg_make(402, 200);
	struct expiry x = { 0 };
	struct mbuf *r;

	fx_enter(state, 0, 0, 500);
	assert_int_equal(fx.ir.ir_timeout_ms, 500);
	fx.now = 1000;
	feed0(&d1, 0, 8, true);			/* d1 born at 1000 */
	fx.now = 1100;
	feed0(&d3, 0, 16, true);		/* d3 born at 1100 ... */
	feed0(&d3, 8, 16, true);		/* ... and dead */
	fx.now = 1200;
	feed0(&d2, 8, 8, true);		/* d2: no fragment zero */
	fx.now = 1300;
	feed0(&d1, 16, 8, false);		/* does not make d1 younger */
	fx.exp.ips_fragments = 5;
	fx.exp.ips_fragoverlap = 1;
	fx.exp.ips_fragdropped = 2;
	st_check();
	ir_check(3, fbytes(&d1, 0, 8) + fbytes(&d1, 16, 8) +
	    fbytes(&d2, 8, 8));

	/* 500 ms old is not older than the timeout */
	ip_reass_timeout(&fx.ir, 1500, expired_cb, &x, &fx.st);
	assert_int_equal(x.n, 0);
	st_check();
	ir_check(3, fbytes(&d1, 0, 8) + fbytes(&d1, 16, 8) +
	    fbytes(&d2, 8, 8));

	/* 501 ms: d1 goes, fragment zero to the callback */
	ip_reass_timeout(&fx.ir, 1501, expired_cb, &x, &fx.st);
	assert_int_equal(x.n, 1);
	assert_int_equal(x.id, 400);
	assert_int_equal(x.off, IP_MF);		/* offset 0, MF */
	assert_int_equal(x.len, (int)fbytes(&d1, 0, 8));
	fx.exp.ips_fragtimeout = 1;
	fx.exp.ips_fragdropped += 2;
	st_check();
	ir_check(2, fbytes(&d2, 8, 8));

	/* the tombstone d3 goes silently at 1601, not before */
	fx.now = 1600;
	ip_reass_timeout(&fx.ir, fx.now, expired_cb, &x, &fx.st);
	feed0(&d3, 16, 8, false);
	fx.exp.ips_fragments++;
	fx.exp.ips_fragdropped++;
	st_check();
	ir_check(2, fbytes(&d2, 8, 8));
	fx.now = 1601;
	ip_reass_timeout(&fx.ir, fx.now, expired_cb, &x, &fx.st);
	assert_int_equal(x.n, 1);
	st_check();
	ir_check(1, fbytes(&d2, 8, 8));
	/* and the same key reassembles again */
	feed0(&d3, 16, 8, false);
	feed0(&d3, 0, 8, true);
	r = feed_m(frag(&d3, 8, 8, true));
	fx.exp.ips_fragments += 3;
	fx.exp.ips_reassembled++;
	check_dgram(r, &d3, 24);
	st_check();

	/* d2 (born 1200) goes at 1701; no fragment zero, no callback */
	ip_reass_timeout(&fx.ir, 1700, expired_cb, &x, &fx.st);
	ir_check(1, fbytes(&d2, 8, 8));
	ip_reass_timeout(&fx.ir, 1701, expired_cb, &x, &fx.st);
	assert_int_equal(x.n, 1);
	fx.exp.ips_fragtimeout++;
	fx.exp.ips_fragdropped++;
	st_check();
	ir_check(0, 0);

	/* without a callback fragment zero is freed here */
	feed0(&d1, 0, 8, true);
	ip_reass_timeout(&fx.ir, fx.now + 501, NULL, NULL, &fx.st);
	fx.exp.ips_fragments++;
	fx.exp.ips_fragtimeout++;
	fx.exp.ips_fragdropped++;
	st_check();
	ir_check(0, 0);
	fx_leave(state);
}

static void
test_defaults(void **state)
{
	struct dg d = dg_make(410, 0);

	fx_enter(state, 0, 0, 0);
	assert_int_equal(fx.ir.ir_maxdgrams, 64);
	assert_int_equal(fx.ir.ir_maxbytes, 256 * 1024);
	assert_int_equal(fx.ir.ir_timeout_ms, 30000);
	feed0(&d, 8, 8, true);
	ip_reass_timeout(&fx.ir, fx.now + 30000, NULL, NULL, &fx.st);
	fx.exp.ips_fragments = 1;
	st_check();
	ir_check(1, fbytes(&d, 8, 8));
	/* fini with a datagram and a tombstone held frees them, uncounted */
	feed0(&d, 0, 16, true);
	fx.exp.ips_fragments++;
	fx.exp.ips_fragoverlap++;
	fx.exp.ips_fragdropped += 2;
	feed0(&d, 0, 8, true);
	d.id++;
	feed0(&d, 0, 8, true);
	fx.exp.ips_fragments += 2;
	fx.exp.ips_fragdropped++;
	st_check();
	ir_check(2, fbytes(&d, 0, 8));
	fx_leave(state);
}

/* ---- headers ---- */

static void
test_options(void **state)
{
	struct dg d = dg_make(500, 0), e = dg_make(501, 1), f = dg_make(502, 2);
	struct pc pcs[5];
	int seq[5], plen;
	uint64_t rng = 500;

	fx_enter(state, 0, 0, 0);
	/* RR in fragment zero only (RFC 791: not copied), in order */
	d.hl0 = 8;
	plen = cut(pcs, 5, 100, 100, &rng);
	iota(seq, 5);
	feed_seq(&d, pcs, seq, 5, plen);
	/* 40 bytes of options, reverse order, DF set: ip_off becomes 0 */
	e.hl0 = 15;
	e.df = IP_DF;
	plen = cut(pcs, 5, 100, 100, &rng);
	for (int i = 0; i < 5; i++)
		seq[i] = 4 - i;
	feed_seq(&e, pcs, seq, 5, plen);
	/* options copied into later fragments too: stripped from them */
	f.hl0 = 8;
	plen = cut(pcs, 5, 100, 100, &rng);
	for (int i = 1; i < 5; i++)
		pcs[i].hl = 2 + i * 3;		/* 5, 8, 11, 14 words */
	iota(seq, 5);
	shuffle(seq, 5, &rng);
	feed_seq(&f, pcs, seq, 5, plen);
	st_check();
	ir_check(0, 0);
	fx_leave(state);
}

/* Fragment zero in a cluster shared with another packet (a tap). */
static void
test_shared_first(void **state)
{
	struct dg d = dg_make(510, 0);
	struct mbuf *m, *c, *r;
	unsigned char before[IP_MINHLEN + 800];

	fx_enter(state, 0, 0, 0);
	m = frag(&d, 0, 800, true);
	/* move it into a cluster: the mbuf holds at most MLEN */
	c = m_getcl(M_DONTWAIT, MT_DATA, M_PKTHDR);
	assert_non_null(c);
	m_copydata(m, 0, IP_MINHLEN + 800, before);
	assert_true(m_append(c, IP_MINHLEN + 800, before));
	m_freem(m);
	m = m_copym(c, 0, M_COPYALL, M_DONTWAIT);
	assert_non_null(m);
	assert_false(m_writable(m));
	assert_null(feed_m(m));
	r = feed_m(frag(&d, 800, 100, false));
	fx.exp.ips_fragments = 2;
	fx.exp.ips_reassembled = 1;
	check_dgram(r, &d, 900);
	st_check();
	/* the other holder's bytes are untouched */
	assert_int_equal(c->m_len, IP_MINHLEN + 800);
	bytes_equal(mtod(c, const void *), before, IP_MINHLEN + 800);
	m_freem(c);
	fx_leave(state);
}

static void
test_atomic_fragment(void **state)
{
	struct dg d = dg_make(520, 0);
	struct mbuf *m, *r;

	fx_enter(state, 0, 0, 0);
	feed0(&d, 8, 8, false);
	fx.exp.ips_fragments = 1;
	/* RFC 6946: offset 0 and MF clear is a whole datagram, untouched */
	m = frag(&d, 0, 8, false);
	assert_ptr_equal(feed_m(m), m);
	assert_int_equal(ntohs(mtod(m, struct ip *)->ip_len), 28);
	m_freem(m);
	st_check();
	ir_check(1, fbytes(&d, 8, 8));
	r = feed_m(frag(&d, 0, 8, true));
	fx.exp.ips_fragments++;
	fx.exp.ips_reassembled++;
	check_dgram(r, &d, 16);
	st_check();
	fx_leave(state);
}

/*
 * Random fragments of a few datagrams, overlaps and all, small limits and
 * a moving clock.  Every fragment of a key carries the pattern bytes of its
 * offsets, so whatever ip_reass() decides, a datagram it hands back must
 * hold exactly those bytes; limits must hold at every step, and nothing
 * may leak.
 */
static void
test_fuzz(void **state)
{
	struct dg ds[4];
	struct pc lay[4][6];		/* how each key is cut now */
	int nlay[4];
	uint64_t rng = 0xf022;
	int completed = 0, atomic = 0;

	fx_enter(state, 3, 1500, 40);
	for (int i = 0; i < 4; i++) {
		ds[i] = dg_make((uint16_t)(600 + i), i * 1000);
		ds[i].hl0 = 5 + 3 * (i % 2);
		nlay[i] = 2 + (int)(th_rand(&rng) % 5);
		cut(lay[i], nlay[i], 4, 40, &rng);
	}
	for (int step = 0; step < 20000; step++) {
		int i = (int)(th_rand(&rng) % 4);
		struct dg *d = &ds[i];
		int off, len;
		bool mf;
		struct mbuf *m, *r;

		if (th_rand(&rng) % 8 != 0) {
			/* a piece of the current layout */
			const struct pc *p =
			    &lay[i][th_rand(&rng) % (unsigned)nlay[i]];

			off = p->off;
			len = p->len;
			mf = p->mf;
		} else {
			/* anything */
			off = 8 * (int)(th_rand(&rng) % 12);
			mf = th_rand(&rng) % 4 != 0;
			len = mf ? 8 * (1 + (int)(th_rand(&rng) % 4)) :
			    1 + (int)(th_rand(&rng) % 40);
			if (th_rand(&rng) % 8 == 0)
				len = (int)(th_rand(&rng) % 20);  /* bad? */
		}
		m = frag(d, off, len, mf);
		r = feed_m(m);
		if (off == 0 && !mf) {
			/* RFC 6946: atomic, back untouched and uncounted */
			assert_ptr_equal(r, m);
			m_freem(m);
			atomic++;
		} else if (r != NULL) {
			check_dgram(r, d, m_length(r) - d->hl0 * 4);
			completed++;
		}
		if (r != NULL || th_rand(&rng) % 256 == 0) {
			/* the next datagram of this key is cut afresh */
			nlay[i] = 2 + (int)(th_rand(&rng) % 5);
			cut(lay[i], nlay[i], 4, 40, &rng);
		}
		assert_true(fx.ir.ir_ndgrams <= 3);
		assert_true(fx.ir.ir_nbytes <= 1500);
		fx.now += th_rand(&rng) % 3;
		if (step % 10 == 0)
			ip_reass_timeout(&fx.ir, fx.now, expired_cb,
			    &(struct expiry){ 0 }, &fx.st);
	}
	print_message("# fuzz: %d reassembled, %d atomic, %llu overlaps, "
	    "%llu dups, %llu timeouts, %llu limits, %llu bad\n", completed,
	    atomic, (unsigned long long)fx.st.ips_fragoverlap,
	    (unsigned long long)fx.st.ips_fragdup,
	    (unsigned long long)fx.st.ips_fragtimeout,
	    (unsigned long long)fx.st.ips_fraglimit,
	    (unsigned long long)fx.st.ips_fragbad);
	assert_int_equal(fx.st.ips_fragments, 20000 - atomic);
	assert_int_equal(fx.st.ips_reassembled, (uint64_t)completed);
	assert_int_equal(fx.st.ips_fragtoolong, 0);
	/* every path was taken */
	assert_true(completed > 100);
	assert_true(fx.st.ips_fragoverlap > 10);
	assert_true(fx.st.ips_fragdup > 10);
	assert_true(fx.st.ips_fragtimeout > 10);
	assert_true(fx.st.ips_fraglimit > 10);
	assert_true(fx.st.ips_fragbad > 10);
	fx_leave(state);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_in_order, fx_teardown),
		cmocka_unit_test_teardown(test_reverse, fx_teardown),
		cmocka_unit_test_teardown(test_random_order, fx_teardown),
		cmocka_unit_test_teardown(test_duplicates, fx_teardown),
		cmocka_unit_test_teardown(test_overlap_drops_datagram,
		    fx_teardown),
		cmocka_unit_test_teardown(test_overlap_cases, fx_teardown),
		cmocka_unit_test_teardown(test_overlap_middle, fx_teardown),
		cmocka_unit_test_teardown(test_tiny_fragments, fx_teardown),
		cmocka_unit_test_teardown(test_toolong, fx_teardown),
		cmocka_unit_test_teardown(test_bad_fragments, fx_teardown),
		cmocka_unit_test_teardown(test_interleaved, fx_teardown),
		cmocka_unit_test_teardown(test_limit_dgrams, fx_teardown),
		cmocka_unit_test_teardown(test_limit_bytes, fx_teardown),
		cmocka_unit_test_teardown(test_limit_frags, fx_teardown),
		cmocka_unit_test_teardown(test_timeout, fx_teardown),
		cmocka_unit_test_teardown(test_defaults, fx_teardown),
		cmocka_unit_test_teardown(test_options, fx_teardown),
		cmocka_unit_test_teardown(test_shared_first, fx_teardown),
		cmocka_unit_test_teardown(test_atomic_fragment, fx_teardown),
		cmocka_unit_test_teardown(test_fuzz, fx_teardown),
	};

	th_filter();
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
