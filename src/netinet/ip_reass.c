/*
 * ip_reass.c -- IPv4 fragment reassembly, bounded (interface: ip_reass.h).
 *
 * (ip_input() ->) ip_reass() -> ipq_lookup()
 *     -> ipq_create()                      first fragment seen of a datagram
 *     -> ipq_place(), insert               a later one
 *         -> ipq_complete()                the whole datagram to ip_input()
 *         or ipq_kill()                    an overlap: datagram dropped,
 *                                          kept as a tombstone
 * (softclock, every tick ->) ip_reass_timeout()
 *     -> expired(arg, fragment 0)          (-> ICMP time exceeded)
 *
 * Standards:
 *  - RFC 791 3.2 (reassembly): a datagram is identified by source,
 *    destination, protocol and identification; fragment offsets count
 *    8-byte units; the fragment with MF clear gives the total length; the
 *    header of the fragment at offset 0 becomes the header of the datagram,
 *    whose total length (header included) is at most 65535.
 *  - RFC 815 (hole descriptors): a datagram is complete when no hole is
 *    left.  Because no overlap is ever accepted (below), the held fragments
 *    are disjoint and lie inside [0, end), so "no hole" is just "the payload
 *    bytes held add up to end": one sum replaces the hole list.
 *  - RFC 5722 (IPv6, applied here to IPv4 as ip_reass.h says): a fragment
 *    overlapping another one of the same datagram drops the whole datagram
 *    and every fragment of it that arrives until its timer runs out (the
 *    datagram is kept as a tombstone, whose timer is the datagram's: it
 *    started with the first fragment); an exact duplicate is dropped alone.
 *  - RFC 1122 3.3.2: a datagram not complete when its timer runs out is
 *    discarded, and if fragment zero was received an ICMP Time Exceeded
 *    (code 1, "fragment reassembly time exceeded", RFC 792 and RFC 1122
 *    3.2.2.4) goes to the source: the caller's callback gets fragment zero
 *    for that.
 *  - RFC 6946: an "atomic fragment" (offset 0, MF clear) is a whole
 *    datagram; it is never mixed with reassembly state.  ip_input() does not
 *    pass one here; if it does, it comes back unchanged.
 *
 * Design: one struct ipq per datagram, from hyper_malloc(), on ir_queue in
 * creation order.  Its fragments stay the packets they arrived as (IP
 * header included), linked by m_nextpkt and sorted by offset; each
 * fragment's offset and length are read back from its own header.
 * Inserting one scans the fragments of its datagram once (at most
 * IP_REASS_MAXFRAGS) and finding a datagram scans ir_queue once (at most
 * ir_maxdgrams).  Limits are checked before anything is taken: a fragment
 * that does not fit is dropped, nothing held is evicted.
 *
 * Counting: ips_fragments counts every fragment given to ip_reass() (not an
 * atomic fragment).  Every fragment dropped is counted exactly once, in the
 * counter of its reason: ips_fragbad, ips_fragtoolong, ips_fragdup,
 * ips_fraglimit, or ips_fragdropped (no memory for a new datagram; a
 * fragment of a tombstone; the held fragments and the new one when an
 * overlap kills a datagram; the held fragments of a datagram whose timer
 * ran out, fragment zero handed to the callback included).  ips_fragoverlap
 * and ips_fragtimeout count datagrams, once each; a tombstone that expires
 * is not counted again.
 *
 * Locking: the caller serialises all calls on one struct ip_reass.
 */
#include "kern/libkern.h"
#include "kern/list.h"
#include "kern/mbuf.h"
#include "netinet/in.h"
#include "netinet/ip.h"
#include "netinet/ip_reass.h"
#include "netinet/ip_var.h"
#include "../hyper/hyper.h"

#define IP_REASS_DEF_MAXDGRAMS 64
#define IP_REASS_DEF_MAXBYTES (256 * 1024)
#define IP_REASS_DEF_TIMEOUT_MS 30000

/* One datagram being reassembled, or a tombstone. */
struct ipq {
	struct list_node ipq_link;	/* on ir_queue, oldest first */
	struct mbuf *ipq_frags;		/* by offset, via m_nextpkt */
	uint64_t ipq_born_ms;		/* its first fragment came */
	size_t ipq_nbytes;		/* sum of their m_pkthdr.len */
	struct in_addr ipq_src;		/* key (RFC 791), net order */
	struct in_addr ipq_dst;
	uint16_t ipq_id;
	uint8_t ipq_p;
	bool ipq_dead;			/* tombstone: drop the rest */
	unsigned ipq_nfrags;		/* fragments in ipq_frags */
	int ipq_have;			/* payload bytes held */
	int ipq_end;			/* payload length (MF=0 seen), -1 */
};

/* What a fragment's header says (offset and lengths in bytes). */
struct ipq_frag {
	int f_off;			/* payload offset in the datagram */
	int f_len;			/* payload length */
	int f_hlen;			/* IP header length */
	bool f_mf;			/* more fragments */
};

/* Where ipq_place() puts a new fragment. */
enum ipq_fit {
	IPQ_FIT,			/* disjoint from the others */
	IPQ_DUP,			/* same offset and length as one */
	IPQ_CONFLICT			/* overlap, or disagrees on the end */
};

static void
ipq_frag_get(const struct mbuf *m, struct ipq_frag *f)
{
	const struct ip *ip = mtod(m, const struct ip *);
	uint16_t off = ntohs(ip->ip_off);

	f->f_hlen = IP_HL(ip) << 2;
	f->f_off = (off & IP_OFFMASK) << 3;
	f->f_len = (int)ntohs(ip->ip_len) - f->f_hlen;
	f->f_mf = (off & IP_MF) != 0;
}

/* The datagram with the key of ip, live or tombstone, or NULL. */
static struct ipq *
ipq_lookup(struct ip_reass *ir, const struct ip *ip)
{
	struct list_node *ln;

	for (ln = ir->ir_queue.ln_next; ln != &ir->ir_queue;
	    ln = ln->ln_next) {
		struct ipq *fp = container_of(ln, struct ipq, ipq_link);

		if (fp->ipq_id == ip->ip_id &&
		    fp->ipq_src.s_addr == ip->ip_src.s_addr &&
		    fp->ipq_dst.s_addr == ip->ip_dst.s_addr &&
		    fp->ipq_p == ip->ip_p)
			return fp;
	}
	return NULL;
}

/* Take a fragment off the books of fp and ir (it stays on no list). */
static void
ipq_uncount(struct ip_reass *ir, struct ipq *fp, const struct mbuf *m)
{
	KASSERT(fp->ipq_nfrags > 0);
	KASSERT(fp->ipq_nbytes >= (size_t)m->m_pkthdr.len);
	KASSERT(ir->ir_nbytes >= (size_t)m->m_pkthdr.len);
	fp->ipq_nfrags--;
	fp->ipq_nbytes -= (size_t)m->m_pkthdr.len;
	ir->ir_nbytes -= (size_t)m->m_pkthdr.len;
}

/* Free every fragment fp holds, counting each in *dropped if given. */
static void
ipq_drain(struct ip_reass *ir, struct ipq *fp, uint64_t *dropped)
{
	struct mbuf *m;

	while ((m = fp->ipq_frags) != NULL) {
		fp->ipq_frags = m->m_nextpkt;
		m->m_nextpkt = NULL;
		ipq_uncount(ir, fp, m);
		m_freem(m);
		if (dropped != NULL)
			(*dropped)++;
	}
	KASSERT(fp->ipq_nfrags == 0 && fp->ipq_nbytes == 0);
	fp->ipq_have = 0;
}

/* Take fp (holding no fragment) off ir_queue and release it. */
static void
ipq_free(struct ip_reass *ir, struct ipq *fp)
{
	KASSERT(fp->ipq_frags == NULL);
	KASSERT(ir->ir_ndgrams > 0);
	list_remove(&fp->ipq_link);
	ir->ir_ndgrams--;
	hyper_free(fp, sizeof(*fp));
}

/*
 * RFC 5722: an overlap drops the whole datagram.  Its fragments go now; fp
 * stays as a tombstone, so that the rest of it is dropped too, until the
 * timer of the datagram runs out (ip_reass_timeout()).
 */
static void
ipq_kill(struct ip_reass *ir, struct ipq *fp, struct ipstat *st)
{
	ipq_drain(ir, fp, &st->ips_fragdropped);
	fp->ipq_dead = true;
	fp->ipq_end = -1;
	st->ips_fragoverlap++;
}

/*
 * Start a datagram with its first fragment m.  It counts against
 * ir_maxdgrams and ir_maxbytes like any other; it cannot be complete (an
 * atomic fragment never gets here).
 */
static struct mbuf *
ipq_create(struct ip_reass *ir, struct mbuf *m, const struct ipq_frag *f,
    uint64_t now_ms, struct ipstat *st)
{
	const struct ip *ip = mtod(m, const struct ip *);
	struct ipq *fp;
	void *mem;

	if (ir->ir_ndgrams >= ir->ir_maxdgrams ||
	    (size_t)m->m_pkthdr.len > ir->ir_maxbytes - ir->ir_nbytes) {
		st->ips_fraglimit++;
		m_freem(m);
		return NULL;
	}
	if (hyper_malloc(sizeof(*fp), 0, &mem) != 0) {
		st->ips_fragdropped++;
		m_freem(m);
		return NULL;
	}
	fp = mem;
	memset(fp, 0, sizeof(*fp));
	fp->ipq_born_ms = now_ms;
	fp->ipq_src = ip->ip_src;
	fp->ipq_dst = ip->ip_dst;
	fp->ipq_id = ip->ip_id;
	fp->ipq_p = ip->ip_p;
	fp->ipq_end = f->f_mf ? -1 : f->f_off + f->f_len;
	fp->ipq_have = f->f_len;
	fp->ipq_nfrags = 1;
	fp->ipq_nbytes = (size_t)m->m_pkthdr.len;
	m->m_nextpkt = NULL;
	fp->ipq_frags = m;
	list_insert_tail(&ir->ir_queue, &fp->ipq_link);
	ir->ir_ndgrams++;
	ir->ir_nbytes += (size_t)m->m_pkthdr.len;
	return NULL;
}

/*
 * Where f goes among the fragments of fp: *insp receives the link to insert
 * it at (before the first fragment with a larger offset), *tailp the end of
 * the payload held so far (the end of the last fragment).  One pass over
 * the fragments, which are sorted and disjoint.
 */
static enum ipq_fit
ipq_place(struct ipq *fp, const struct ipq_frag *f, struct mbuf ***insp,
    int *tailp)
{
	struct mbuf **mp, **ins = NULL;
	struct mbuf *q;
	struct ipq_frag g;
	int fend = f->f_off + f->f_len, tail = 0;
	bool dup = false, overlap = false;

	for (mp = &fp->ipq_frags; (q = *mp) != NULL; mp = &q->m_nextpkt) {
		ipq_frag_get(q, &g);
		if (g.f_off == f->f_off && g.f_len == f->f_len)
			dup = true;
		else if (g.f_off < fend && f->f_off < g.f_off + g.f_len)
			overlap = true;
		if (ins == NULL && g.f_off > f->f_off)
			ins = mp;
		tail = g.f_off + g.f_len;
	}
	*insp = ins != NULL ? ins : mp;
	*tailp = tail;

	/*
	 * RFC 791: the fragment with MF clear ends the datagram.  A second
	 * one with another end, one that would leave data held beyond it, or
	 * any fragment reaching past a known end contradicts what is held:
	 * dropped like an overlap (RFC 5722).
	 */
	if (!f->f_mf) {
		if ((fp->ipq_end >= 0 && fp->ipq_end != fend) || tail > fend)
			return IPQ_CONFLICT;
	} else if (fp->ipq_end >= 0 && fend > fp->ipq_end) {
		return IPQ_CONFLICT;
	}
	/*
	 * RFC 5722: an exact duplicate is dropped alone, any other overlap
	 * drops the datagram.
	 */
	if (dup)
		return IPQ_DUP;
	if (overlap)
		return IPQ_CONFLICT;
	return IPQ_FIT;
}

/* One's complement sum of the header with ip_sum zero, network order. */
static uint16_t
ipq_hdr_cksum(const unsigned char *p, int hlen)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i < hlen; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/*
 * All of fp is here: the datagram is the header of fragment zero followed
 * by every payload in offset order (RFC 791).  ip_len becomes the total,
 * ip_off zero (the flags too: DF of a datagram that arrived in fragments
 * means nothing any more, and ip_reass.h promises 0), ip_sum is recomputed.
 * The hardware checksum flags of fragment zero spoke for it alone: cleared.
 */
static struct mbuf *
ipq_complete(struct ip_reass *ir, struct ipq *fp, struct ipstat *st)
{
	unsigned char hdr[IP_MAXHLEN];
	struct mbuf *m = fp->ipq_frags, *n, *next;
	struct ip *ip;
	uint64_t nfrags = fp->ipq_nfrags;
	int hlen, total;

	ip = mtod(m, struct ip *);
	hlen = IP_HL(ip) << 2;
	total = hlen + fp->ipq_end;
	KASSERT((ntohs(ip->ip_off) & IP_OFFMASK) == 0);
	KASSERT(total <= IP_MAXPACKET);

	/* take the fragments off the books: fp goes now */
	ir->ir_nbytes -= fp->ipq_nbytes;
	fp->ipq_nbytes = 0;
	fp->ipq_nfrags = 0;
	fp->ipq_frags = NULL;
	ipq_free(ir, fp);

	next = m->m_nextpkt;
	m->m_nextpkt = NULL;
	while ((n = next) != NULL) {
		next = n->m_nextpkt;
		n->m_nextpkt = NULL;
		m_adj(n, IP_HL(mtod(n, const struct ip *)) << 2);
		m_cat(m, n);
	}
	m->m_pkthdr.len = total;
	m->m_pkthdr.csum_flags = 0;
	m->m_pkthdr.csum_data = 0;
	KASSERT(m_length(m) == total);

	memcpy(hdr, ip, (size_t)hlen);
	ip = (struct ip *)(void *)hdr;
	ip->ip_len = htons((uint16_t)total);
	ip->ip_off = 0;
	ip->ip_sum = 0;
	ip->ip_sum = ipq_hdr_cksum(hdr, hlen);
	if (m_writable(m)) {
		memcpy(mtod(m, void *), hdr, (size_t)hlen);
	} else if (m_copyback(m, 0, hlen, hdr) != 0) {
		/* shared storage and no buffer to un-share it into */
		m_freem(m);
		st->ips_fragdropped += nfrags;
		return NULL;
	}
	st->ips_reassembled++;
	return m;
}

void
ip_reass_init(struct ip_reass *ir, unsigned maxdgrams, size_t maxbytes,
    uint64_t timeout_ms)
{
	list_init(&ir->ir_queue);
	ir->ir_ndgrams = 0;
	ir->ir_nbytes = 0;
	ir->ir_maxdgrams = maxdgrams != 0 ? maxdgrams : IP_REASS_DEF_MAXDGRAMS;
	ir->ir_maxbytes = maxbytes != 0 ? maxbytes : IP_REASS_DEF_MAXBYTES;
	ir->ir_timeout_ms = timeout_ms != 0 ? timeout_ms :
	    IP_REASS_DEF_TIMEOUT_MS;
}

void
ip_reass_fini(struct ip_reass *ir)
{
	struct list_node *ln;

	while ((ln = list_first(&ir->ir_queue)) != NULL) {
		struct ipq *fp = container_of(ln, struct ipq, ipq_link);

		ipq_drain(ir, fp, NULL);
		ipq_free(ir, fp);
	}
	KASSERT(ir->ir_ndgrams == 0 && ir->ir_nbytes == 0);
}

/*
 * An interface goes away: a datagram holding a fragment that came in on it
 * is dropped whole (its fragments counted in ips_fragdropped, no ICMP), as
 * the fragment's rcvif would dangle; the rest of such a datagram, should
 * it come, starts a new one and times out.  Tombstones hold no fragment.
 */
void
ip_reass_purge_ifp(struct ip_reass *ir, const struct ifnet *ifp,
    struct ipstat *st)
{
	struct list_node *ln, *next;
	struct mbuf *m;

	for (ln = ir->ir_queue.ln_next; ln != &ir->ir_queue; ln = next) {
		struct ipq *fp = container_of(ln, struct ipq, ipq_link);

		next = ln->ln_next;
		for (m = fp->ipq_frags; m != NULL; m = m->m_nextpkt)
			if (m->m_pkthdr.rcvif == ifp)
				break;
		if (m == NULL)
			continue;
		ipq_drain(ir, fp, &st->ips_fragdropped);
		ipq_free(ir, fp);
	}
}

struct mbuf *
ip_reass(struct ip_reass *ir, struct mbuf *m, uint64_t now_ms,
    struct ipstat *st)
{
	const struct ip *ip = mtod(m, const struct ip *);
	struct ipq_frag f, f0;
	struct ipq *fp;
	struct mbuf **ins;
	int fend, tail;

	/* the contract with ip_input() */
	KASSERT(m->m_flags & M_PKTHDR);
	KASSERT(m->m_len >= IP_MINHLEN && m->m_len >= IP_HL(ip) << 2);
	KASSERT(IP_HL(ip) << 2 >= IP_MINHLEN);
	KASSERT(ntohs(ip->ip_len) == m->m_pkthdr.len);
	ipq_frag_get(m, &f);
	KASSERT(f.f_len >= 0);
	fend = f.f_off + f.f_len;

	/* RFC 6946: an atomic fragment is not for reassembly. */
	if (f.f_off == 0 && !f.f_mf)
		return m;
	st->ips_fragments++;

	/*
	 * RFC 791: every fragment but the last carries a multiple of 8 bytes
	 * (offsets count 8-byte units); an empty one carries nothing.
	 */
	if (f.f_len == 0 || (f.f_mf && (f.f_len & 7) != 0)) {
		st->ips_fragbad++;
		m_freem(m);
		return NULL;
	}
	/* RFC 791: a datagram, header included, is at most 65535 bytes. */
	if (f.f_hlen + fend > IP_MAXPACKET) {
		st->ips_fragtoolong++;
		m_freem(m);
		return NULL;
	}

	if ((fp = ipq_lookup(ir, ip)) == NULL)
		return ipq_create(ir, m, &f, now_ms, st);
	if (fp->ipq_dead) {
		/* RFC 5722: the rest of a dropped datagram is dropped too. */
		st->ips_fragdropped++;
		m_freem(m);
		return NULL;
	}

	switch (ipq_place(fp, &f, &ins, &tail)) {
	case IPQ_FIT:
		break;
	case IPQ_DUP:
		st->ips_fragdup++;
		m_freem(m);
		return NULL;
	case IPQ_CONFLICT:
		ipq_kill(ir, fp, st);
		st->ips_fragdropped++;
		m_freem(m);
		return NULL;
	}

	/*
	 * RFC 791: the datagram gets the header of fragment zero, which may
	 * be longer (options) than the header of this fragment: its total
	 * length must fit too.
	 */
	if (f.f_off == 0) {
		if (f.f_hlen + MAX(tail, fp->ipq_end) > IP_MAXPACKET) {
			st->ips_fragtoolong++;
			m_freem(m);
			return NULL;
		}
	} else {
		ipq_frag_get(fp->ipq_frags, &f0);
		if (f0.f_off == 0 && f0.f_hlen + fend > IP_MAXPACKET) {
			st->ips_fragtoolong++;
			m_freem(m);
			return NULL;
		}
	}

	/* Bounded: never more than the limits, and nothing is evicted. */
	if (fp->ipq_nfrags >= IP_REASS_MAXFRAGS ||
	    (size_t)m->m_pkthdr.len > ir->ir_maxbytes - ir->ir_nbytes) {
		st->ips_fraglimit++;
		m_freem(m);
		return NULL;
	}

	m->m_nextpkt = *ins;
	*ins = m;
	fp->ipq_nfrags++;
	fp->ipq_nbytes += (size_t)m->m_pkthdr.len;
	fp->ipq_have += f.f_len;
	ir->ir_nbytes += (size_t)m->m_pkthdr.len;
	if (!f.f_mf)
		fp->ipq_end = fend;

	/*
	 * RFC 815: complete when no hole is left.  The fragments are disjoint
	 * and inside [0, ipq_end), so that is when their lengths add up.
	 */
	KASSERT(fp->ipq_end < 0 || fp->ipq_have <= fp->ipq_end);
	if (fp->ipq_end >= 0 && fp->ipq_have == fp->ipq_end)
		return ipq_complete(ir, fp, st);
	return NULL;
}

void
ip_reass_timeout(struct ip_reass *ir, uint64_t now_ms,
    void (*expired)(void *arg, struct mbuf *first), void *arg,
    struct ipstat *st)
{
	struct list_node done, *ln, *next;
	struct ipq *fp;
	struct mbuf *first, *m;
	struct ipq_frag f;

	/*
	 * RFC 1122 3.3.2: a datagram not complete within the timeout is
	 * discarded.  Everything that expires is first taken off ir_queue
	 * and the counts, so the callbacks below see a consistent state (they
	 * may well send a packet that comes back to ip_reass()).
	 */
	list_init(&done);
	for (ln = ir->ir_queue.ln_next; ln != &ir->ir_queue; ln = next) {
		next = ln->ln_next;
		fp = container_of(ln, struct ipq, ipq_link);
		if (now_ms < fp->ipq_born_ms ||
		    now_ms - fp->ipq_born_ms <= ir->ir_timeout_ms)
			continue;
		list_remove(ln);
		list_insert_tail(&done, ln);
		KASSERT(ir->ir_ndgrams > 0 && ir->ir_nbytes >= fp->ipq_nbytes);
		ir->ir_ndgrams--;
		ir->ir_nbytes -= fp->ipq_nbytes;
		if (!fp->ipq_dead) {
			/* a tombstone was counted when it died */
			st->ips_fragtimeout++;
			st->ips_fragdropped += fp->ipq_nfrags;
		}
	}

	/* done is private now: nothing below touches ir */
	while ((ln = list_first(&done)) != NULL) {
		fp = container_of(ln, struct ipq, ipq_link);
		list_remove(ln);
		first = NULL;
		if (fp->ipq_frags != NULL) {
			ipq_frag_get(fp->ipq_frags, &f);
			if (f.f_off == 0) {
				first = fp->ipq_frags;
				fp->ipq_frags = first->m_nextpkt;
				first->m_nextpkt = NULL;
			}
		}
		while ((m = fp->ipq_frags) != NULL) {
			fp->ipq_frags = m->m_nextpkt;
			m->m_nextpkt = NULL;
			m_freem(m);
		}
		hyper_free(fp, sizeof(*fp));
		/*
		 * RFC 1122 3.3.2, 3.2.2.4: ICMP Time Exceeded only when
		 * fragment zero was received (it names the datagram).
		 */
		if (first != NULL) {
			if (expired != NULL)
				expired(arg, first);
			else
				m_freem(first);
		}
	}
}
