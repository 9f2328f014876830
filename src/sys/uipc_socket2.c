/*
 * uipc_socket2.c -- what protocols call: socket buffers, wake-ups, the
 * state changes of a connection and the listen queues.
 *
 * (udp_input() ->) sbappendaddr() -> sorwakeup()
 * (tcp_input() ->) sbappendstream() | sbdrop() | soisconnected() ...
 * (tcp_input(), SYN on a listener, or the ACK of a SYN cookie ->)
 *     sonewconn() -> pr_attach()
 *     ... soisconnected() -> so_q0 to so_q -> sorwakeup(head) -> accept()
 * (tcp_close() ->) sopcbgone() -> sorele()
 *
 * All of it runs with the instance's net lock held.
 */
#include "kern/kernel.h"
#include "kern/pool.h"
#include "net/netstack.h"
#include "sys/socketvar.h"

#define SB_DEFAULT_RCV (208 * 1024)	/* what Linux gives a UDP socket */
#define SB_DEFAULT_SND (208 * 1024)

/*
 * Copy into the last mbuf of a stream buffer at most this much of an
 * appended mbuf (BSD's sbcompress() rule): small writes and segments
 * share storage, large ones keep theirs (no copy of a cluster, nor of a
 * driver's buffer received without a copy).
 */
#define SB_COALESCE_MAX (MCLBYTES / 4)

/* ---- sockets ---- */

static void
sb_init(struct sockbuf *sb, unsigned hiwat)
{
	memset(sb, 0, sizeof(*sb));
	sb->sb_hiwat = hiwat;
	sb->sb_lowat = 1;
	cv_init(&sb->sb_cv, "sbwait");
}

/* Sockets come from the instance's pool: at most its socket_limit. */
struct socket *
soalloc(struct rump_kernel *k, const struct protosw *pr, int type)
{
	struct socket *so;

	if ((so = pool_cache_get(k->k_net->ns_sopool)) == NULL)
		return NULL;
	memset(so, 0, sizeof(*so));
	so->so_kernel = k;
	so->so_proto = pr;
	so->so_type = (short)type;
	so->so_refs = 1;
	list_init(&so->so_klist);
	list_init(&so->so_q0);
	list_init(&so->so_q);
	list_node_init(&so->so_qe);
	sb_init(&so->so_rcv, SB_DEFAULT_RCV);
	sb_init(&so->so_snd, SB_DEFAULT_SND);
	return so;
}

void
sodealloc(struct socket *so)
{
	KASSERT(so->so_head == NULL && so->so_pcb == NULL);
	cv_destroy(&so->so_rcv.sb_cv);
	cv_destroy(&so->so_snd.sb_cv);
	pool_cache_put(so->so_kernel->k_net->ns_sopool, so);
}

/* Wake the sleepers on sb (EV_CLEAR sees a new generation) and poll. */
static void
sbwakeup(struct socket *so, struct sockbuf *sb)
{
	sb->sb_gen++;
	cv_broadcast(&sb->sb_cv);
	if (so->so_kernel->k_net->ns_npollers > 0)
		cv_broadcast(&so->so_kernel->k_net->ns_pollcv);
}

void
sorwakeup(struct socket *so)
{
	sbwakeup(so, &so->so_rcv);
}

void
sowwakeup(struct socket *so)
{
	sbwakeup(so, &so->so_snd);
}

void
sowakeall(struct socket *so)
{
	sbwakeup(so, &so->so_rcv);
	sbwakeup(so, &so->so_snd);
}

void
soseterror(struct socket *so, int error)
{
	so->so_error = error;
	sowakeall(so);
}

/* ---- connection state ---- */

void
soisconnecting(struct socket *so)
{
	so->so_state &= ~(SS_ISCONNECTED | SS_ISDISCONNECTING);
	so->so_state |= SS_ISCONNECTING;
}

/* Put so at the tail of q, one of head's queues. */
static void
soqinsque(struct socket *head, struct socket *so, struct list_node *q)
{
	KASSERT(so->so_head == NULL);
	so->so_head = head;
	so->so_onq = q;
	list_insert_tail(q, &so->so_qe);
	if (q == &head->so_q0)
		head->so_q0len++;
	else
		head->so_qlen++;
}

void
sotfostart(struct socket *so, struct socket *head)
{
	KASSERT(so->so_tfohead == NULL);
	so->so_tfohead = head;
	head->so_refs++;
	head->so_tfoqlen++;
}

void
sotfodone(struct socket *so)
{
	struct socket *head = so->so_tfohead;

	if (head == NULL)
		return;
	so->so_tfohead = NULL;
	KASSERT(head->so_tfoqlen > 0);
	head->so_tfoqlen--;
	sorele(head);
}

void
soqremque(struct socket *so)
{
	struct socket *head = so->so_head;

	KASSERT(head != NULL);
	list_remove(&so->so_qe);
	if (so->so_onq == &head->so_q0)
		head->so_q0len--;
	else
		head->so_qlen--;
	so->so_onq = NULL;
	so->so_head = NULL;
}

void
soisconnected(struct socket *so)
{
	struct socket *head = so->so_head;

	so->so_state &= ~(SS_ISCONNECTING | SS_ISDISCONNECTING);
	so->so_state |= SS_ISCONNECTED;
	if (head != NULL && so->so_onq == &head->so_q0) {
		/* the handshake is done: ready for accept() */
		soqremque(so);
		soqinsque(head, so, &head->so_q);
		sorwakeup(head);
		return;
	}
	/* connect() sleeps on so_snd, poll on the instance */
	sowakeall(so);
}

void
soisdisconnecting(struct socket *so)
{
	so->so_state &= ~SS_ISCONNECTING;
	so->so_state |= SS_ISDISCONNECTING | SS_CANTRCVMORE | SS_CANTSENDMORE;
	sowakeall(so);
}

void
soisdisconnected(struct socket *so)
{
	so->so_state &= ~(SS_ISCONNECTING | SS_ISCONNECTED |
	    SS_ISDISCONNECTING);
	so->so_state |= SS_ISDISCONNECTED | SS_CANTRCVMORE | SS_CANTSENDMORE;
	sowakeall(so);
}

void
socantsendmore(struct socket *so)
{
	so->so_state |= SS_CANTSENDMORE;
	sowwakeup(so);
}

void
socantrcvmore(struct socket *so)
{
	so->so_state |= SS_CANTRCVMORE;
	sorwakeup(so);
}

/* ---- listen queues ---- */

/* A connection inherits the buffer settings of its listener. */
static void
sb_inherit(struct sockbuf *sb, const struct sockbuf *from)
{
	sb->sb_hiwat = from->sb_hiwat;
	sb->sb_lowat = from->sb_lowat;
	sb->sb_timeo_ns = from->sb_timeo_ns;
}

struct socket *
sonewconn(struct socket *head, bool complete)
{
	struct socket *so;

	KASSERT(head->so_options & SOO_ACCEPTCONN);
	if (head->so_closing || head->so_qlen >= head->so_qlimit ||
	    (!complete && head->so_q0len >= head->so_q0limit))
		return NULL;
	so = soalloc(head->so_kernel, head->so_proto, head->so_type);
	if (so == NULL)
		return NULL;
	so->so_protocol = head->so_protocol;
	so->so_options = head->so_options & ~SOO_ACCEPTCONN;
	so->so_linger = head->so_linger;
	so->so_busy_poll_us = head->so_busy_poll_us;
	so->so_notsent_lowat = head->so_notsent_lowat;	/* as Linux's clone */
	so->so_bindif = head->so_bindif;
	sb_inherit(&so->so_rcv, &head->so_rcv);
	sb_inherit(&so->so_snd, &head->so_snd);
	/* on the queue first: pr_attach sees its listener in so_head */
	soqinsque(head, so, &head->so_q0);
	if (so->so_proto->pr_attach(so) != 0) {
		soqremque(so);
		sodealloc(so);
		return NULL;
	}
	return so;
}

void
sopcbgone(struct socket *so)
{
	so->so_pcb = NULL;
	if (so->so_head != NULL) {
		/* never accepted: nobody else will close it */
		soqremque(so);
		so->so_closing = true;
		so->so_state |= SS_CANTRCVMORE | SS_CANTSENDMORE;
		sbflush(&so->so_rcv);
		sbflush(&so->so_snd);
		so_errq_flush(so);
		sorele(so);
	}
	sorele(so);
}

/* ---- buffers ---- */

/*
 * A datagram record: an MT_SONAME mbuf with the address and, when ri is
 * not NULL, ri after it, followed by m; NULL when out of mbufs.
 */
static struct mbuf *
sbrecord(const struct sockaddr_in *from, const struct so_rcvinfo *ri,
    struct mbuf *m)
{
	struct mbuf *n;

	if ((n = m_get(M_DONTWAIT, MT_SONAME)) == NULL)
		return NULL;
	n->m_len = (int)sizeof(*from);
	memcpy(n->m_data, from, sizeof(*from));
	if (ri != NULL) {	/* after the address, in the same mbuf */
		memcpy(n->m_data + sizeof(*from), ri, sizeof(*ri));
		n->m_len += (int)sizeof(*ri);
	}
	n->m_next = m;
	n->m_nextpkt = NULL;
	return n;
}

/* Free a list of records linked by m_nextpkt. */
static void
sbfree_records(struct mbuf *m)
{
	struct mbuf *next;

	for (; m != NULL; m = next) {
		next = m->m_nextpkt;
		m_freem(m);
	}
}

void
sbflush(struct sockbuf *sb)
{
	sbfree_records(sb->sb_mb);
	sb->sb_mb = sb->sb_lastrecord = sb->sb_mbtail = NULL;
	sb->sb_sndptr = NULL;
	sb->sb_sndptroff = 0;
	sb->sb_cc = 0;
	sb->sb_dgcost = 0;
}

unsigned
sbspace(const struct sockbuf *sb)
{
	return sb->sb_cc >= sb->sb_hiwat ? 0 : sb->sb_hiwat - sb->sb_cc;
}

void
so_rcvinfo_stamp(struct socket *so, struct so_rcvinfo *ri)
{
	if (so->so_tstamp & SO_TS_TIMING)
		ri->ri_stamp = kern_clock_wall(so->so_kernel);
}

bool
so_errq_append(struct socket *so, const struct sockaddr_in *dst,
    const struct so_rcvinfo *ri, struct mbuf *m)
{
	struct mbuf *n;
	int len = m->m_pkthdr.len;

	if (so->so_errqcc + SO_ERRQ_COST(len) > so->so_rcv.sb_hiwat ||
	    (n = sbrecord(dst, ri, m)) == NULL) {
		m_freem(m);
		return false;
	}
	if (so->so_errqtail != NULL)
		so->so_errqtail->m_nextpkt = n;
	else
		so->so_errq = n;
	so->so_errqtail = n;
	so->so_errqcc += SO_ERRQ_COST(len);
	return true;
}

void
so_errq_flush(struct socket *so)
{
	sbfree_records(so->so_errq);
	so->so_errq = so->so_errqtail = NULL;
	so->so_errqcc = 0;
}

bool
sbappendaddr(struct sockbuf *sb, const struct sockaddr_in *from,
    struct mbuf *m, const struct so_rcvinfo *ri)
{
	struct mbuf *n;
	int len = m->m_pkthdr.len;

	if (!sbdgfits(sb, len)) {
		sb->sb_overflowed++;
		return false;
	}
	if ((n = sbrecord(from, ri, m)) == NULL)
		return false;
	if (sb->sb_lastrecord != NULL)
		sb->sb_lastrecord->m_nextpkt = n;
	else
		sb->sb_mb = n;
	sb->sb_lastrecord = n;
	sb->sb_cc += (unsigned)len;
	sb->sb_dgcost += SB_DG_COST(len);
	return true;
}

void
sbappendstream(struct sockbuf *sb, struct mbuf *m)
{
	struct mbuf *tail = sb->sb_mbtail;

	KASSERT(sb->sb_lastrecord == NULL);
	while (m != NULL) {
		struct mbuf *next = m->m_next;

		if (m->m_len == 0) {
			m = m_free(m);
			continue;
		}
		sb->sb_cc += (unsigned)m->m_len;
		if (tail != NULL && m->m_len <= SB_COALESCE_MAX &&
		    m->m_len <= m_trailingspace(tail)) {
			memcpy(tail->m_data + tail->m_len, m->m_data,
			    (size_t)m->m_len);
			tail->m_len += m->m_len;
			m = m_free(m);
			continue;
		}
		/* a stream has no packets: headers and marks go */
		m->m_flags &= ~M_COPYFLAGS;
		m->m_nextpkt = NULL;
		m->m_next = NULL;
		if (tail != NULL)
			tail->m_next = m;
		else
			sb->sb_mb = m;
		tail = m;
		m = next;
	}
	sb->sb_mbtail = tail;
}

/*
 * The mbuf of stream buffer sb holding byte off, and in *moff where it
 * starts: a walk from where the last call ended, not from the head, so
 * that sending from a large buffer stays linear.
 */
struct mbuf *
sbsndptr(struct sockbuf *sb, unsigned off, unsigned *moff)
{
	struct mbuf *m = sb->sb_mb;
	unsigned at = 0;

	KASSERT(off < sb->sb_cc);
	if (sb->sb_sndptr != NULL && off >= sb->sb_sndptroff) {
		m = sb->sb_sndptr;
		at = sb->sb_sndptroff;
	}
	while (off >= at + (unsigned)m->m_len) {
		at += (unsigned)m->m_len;
		m = m->m_next;
		KASSERT(m != NULL);
	}
	sb->sb_sndptr = m;
	sb->sb_sndptroff = at;
	*moff = at;
	return m;
}

void
sbdrop(struct sockbuf *sb, int len)
{
	struct mbuf *m = sb->sb_mb;

	KASSERT(len >= 0 && (unsigned)len <= sb->sb_cc);
	sb->sb_cc -= (unsigned)len;
	sb->sb_sndptroff = sb->sb_sndptroff > (unsigned)len ?
	    sb->sb_sndptroff - (unsigned)len : 0;
	while (len > 0) {
		KASSERT(m != NULL);
		if (m->m_len > len) {
			m->m_data += len;
			m->m_len -= len;
			break;
		}
		len -= m->m_len;
		if (m == sb->sb_sndptr)
			sb->sb_sndptr = NULL;
		m = m_free(m);
	}
	sb->sb_mb = m;
	if (m == NULL)
		sb->sb_mbtail = NULL;
}
