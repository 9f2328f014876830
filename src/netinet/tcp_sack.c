/*
 * tcp_sack.c -- selective acknowledgments: the blocks a receiver
 * reports, and the scoreboard a sender keeps of them.
 *
 * Receiver (RFC 2018 4, RFC 2883):
 *   (tcp_reass() ->) tcp_sack_rcv_add()      a segment queued out of order
 *   (tcp_input() ->) tcp_sack_rcv_trim()     RCV.NXT moved
 *   (tcp_input() ->) tcp_sack_rcv_dup()      a duplicate arrived: D-SACK
 *   (tcp_build_options() ->) tcp_sack_rcv_options()
 * Sender (RFC 6675 2-4):
 *   (tcp_step_ack() ->) tcp_sack_update()    the blocks of an ACK
 *   tcp_sack_islost(), tcp_sack_pipe(), tcp_sack_nextseg() (IsLost(),
 *   SetPipe(), NextSeg()), tcp_sack_clear() (RFC 2018 8: a timeout
 *   forgets what was SACKed).
 *
 * Read first: RFC 2018 (the option; 4 and 8 on what each side keeps),
 * RFC 2883 (D-SACK), RFC 6675 (the scoreboard, IsLost, SetPipe, NextSeg).
 *
 * Both sides are bounded: the receiver reports at most TCP_SACK_MAXBLKS
 * blocks, the sender's scoreboard holds at most TCP_SCB_MAX disjoint
 * ranges.  Each block of an ACK costs one walk of the scoreboard, so a
 * peer sending many tiny blocks (the 2019 "SACK Panic" class) buys no
 * more than TCP_SCB_MAX steps per block and no memory; what does not fit
 * is forgotten (counted), which only makes recovery less precise: the
 * send buffer keeps every byte until it is cumulatively acknowledged.
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "netinet/tcp_var.h"
#include "sys/socketvar.h"

static inline void
sack_put32(uint8_t *cp, uint32_t v)
{
	cp[0] = (uint8_t)(v >> 24);
	cp[1] = (uint8_t)(v >> 16);
	cp[2] = (uint8_t)(v >> 8);
	cp[3] = (uint8_t)v;
}

static inline uint32_t
sack_get32(const uint8_t *cp)
{
	return (uint32_t)cp[0] << 24 | (uint32_t)cp[1] << 16 |
	    (uint32_t)cp[2] << 8 | cp[3];
}

/* ---- the receiver's blocks ---- */

/*
 * [start, end) was queued out of order and is now part of the queued run
 * [start, end) (the caller found the run).  RFC 2018 4: the first block
 * reported is the one holding the segment that just arrived, then the
 * most recently reported others; blocks the run swallowed go.
 */
void
tcp_sack_rcv_add(struct tcpcb *tp, tcp_seq start, tcp_seq end)
{
	struct tcp_sackblk keep[TCP_SACK_MAXBLKS];
	unsigned n = 0;

	for (unsigned i = 0; i < tp->t_rsackn; i++) {
		const struct tcp_sackblk *b = &tp->t_rsack[i];

		if (SEQ_LEQ(start, b->start) && SEQ_GEQ(end, b->end))
			continue;	/* inside the new run */
		if (n < TCP_SACK_MAXBLKS - 1)
			keep[n++] = *b;
	}
	tp->t_rsack[0].start = start;
	tp->t_rsack[0].end = end;
	memcpy(&tp->t_rsack[1], keep, n * sizeof(keep[0]));
	tp->t_rsackn = (uint8_t)(n + 1);
}

/* RCV.NXT moved: blocks at or below it are acknowledged now. */
void
tcp_sack_rcv_trim(struct tcpcb *tp)
{
	unsigned n = 0;

	for (unsigned i = 0; i < tp->t_rsackn; i++) {
		struct tcp_sackblk b = tp->t_rsack[i];

		if (SEQ_LEQ(b.end, tp->rcv_nxt))
			continue;
		if (SEQ_LT(b.start, tp->rcv_nxt))
			b.start = tp->rcv_nxt;
		tp->t_rsack[n++] = b;
	}
	tp->t_rsackn = (uint8_t)n;
	if (tp->t_segq == NULL)
		tp->t_rsackn = 0;
}

/* RFC 2883: [start, end) arrived again; report it once, first. */
void
tcp_sack_rcv_dup(struct tcpcb *tp, tcp_seq start, tcp_seq end)
{
	if (!(tp->t_flags & TF_SACK_PERMIT) || !SEQ_LT(start, end))
		return;
	tp->t_dsack.start = start;
	tp->t_dsack.end = end;
	tp->t_dsack_pending = true;
	tp->t_ns->ns_tcp->tcp_stat.tcps_snddsack++;
}

/* Bytes of options the blocks waiting to be reported would take. */
int
tcp_sack_rcv_optlen(const struct tcpcb *tp, int room)
{
	int n = tp->t_rsackn + (tp->t_dsack_pending ? 1 : 0);

	if (!(tp->t_flags & TF_SACK_PERMIT) || n == 0)
		return 0;
	n = MIN(n, (room - 4) / TCPOLEN_SACK);
	return n > 0 ? 4 + n * TCPOLEN_SACK : 0;
}

/*
 * The SACK option (NOP NOP SACK len blocks) into opt, in at most room
 * bytes; returns its length.  A D-SACK block goes first and only once.
 */
int
tcp_sack_rcv_options(struct tcpcb *tp, uint8_t *opt, int room)
{
	int max = (room - 4) / TCPOLEN_SACK, n = 0, i, hold = -1;
	uint8_t *cp = opt + 4;

	if (!(tp->t_flags & TF_SACK_PERMIT) || max <= 0 ||
	    (tp->t_rsackn == 0 && !tp->t_dsack_pending))
		return 0;
	if (tp->t_dsack_pending) {
		sack_put32(cp, tp->t_dsack.start);
		sack_put32(cp + 4, tp->t_dsack.end);
		cp += TCPOLEN_SACK;
		n++;
		tp->t_dsack_pending = false;
		/* RFC 2883 4 (4): then the block that holds it, if any */
		for (i = 0; i < tp->t_rsackn; i++)
			if (SEQ_LEQ(tp->t_rsack[i].start, tp->t_dsack.start) &&
			    SEQ_GEQ(tp->t_rsack[i].end, tp->t_dsack.end))
				hold = i;
		if (hold >= 0 && n < max) {
			sack_put32(cp, tp->t_rsack[hold].start);
			sack_put32(cp + 4, tp->t_rsack[hold].end);
			cp += TCPOLEN_SACK;
			n++;
		}
	}
	for (i = 0; i < tp->t_rsackn && n < max; i++) {
		if (i == hold)
			continue;
		sack_put32(cp, tp->t_rsack[i].start);
		sack_put32(cp + 4, tp->t_rsack[i].end);
		cp += TCPOLEN_SACK;
		n++;
	}
	if (n == 0)
		return 0;
	opt[0] = TCPOPT_NOP;
	opt[1] = TCPOPT_NOP;
	opt[2] = TCPOPT_SACK;
	opt[3] = (uint8_t)(2 + n * TCPOLEN_SACK);
	return 4 + n * TCPOLEN_SACK;
}

/* ---- the sender's scoreboard ---- */

static void
tcp_scb_sum(struct tcpcb *tp)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i < tp->t_scbn; i++)
		sum += tp->t_scb[i].end - tp->t_scb[i].start;
	tp->t_sacked = sum;
}

/* Forget the ranges SND.UNA passed. */
static void
tcp_scb_trim(struct tcpcb *tp, tcp_seq una)
{
	unsigned i = 0, n;

	while (i < tp->t_scbn && SEQ_LEQ(tp->t_scb[i].end, una))
		i++;
	n = tp->t_scbn - i;
	memmove(&tp->t_scb[0], &tp->t_scb[i], n * sizeof(tp->t_scb[0]));
	tp->t_scbn = (uint8_t)n;
	if (n > 0 && SEQ_LT(tp->t_scb[0].start, una))
		tp->t_scb[0].start = una;
}

/*
 * Insert [s, e) into the sorted, disjoint, non-adjacent ranges, merging
 * what it touches.  When the board is full and nothing merges, the
 * highest range gives way to a lower new one (the lowest holes are the
 * ones recovery repairs first); a new highest one is dropped.
 */
static void
tcp_scb_insert(struct tcpcb *tp, tcp_seq s, tcp_seq e)
{
	struct tcp_sackblk *b = tp->t_scb;
	unsigned n = tp->t_scbn, i, j;

	/* i: the first range that ends at or after s */
	for (i = 0; i < n && SEQ_LT(b[i].end, s); i++)
		continue;
	/* j: past the last range that starts at or before e */
	for (j = i; j < n && SEQ_LEQ(b[j].start, e); j++)
		continue;
	if (j > i) {
		/* ranges i..j-1 touch [s, e): one range now */
		if (SEQ_LT(b[i].start, s))
			s = b[i].start;
		if (SEQ_GT(b[j - 1].end, e))
			e = b[j - 1].end;
		b[i].start = s;
		b[i].end = e;
		memmove(&b[i + 1], &b[j], (n - j) * sizeof(b[0]));
		tp->t_scbn = (uint8_t)(n - (j - i - 1));
		return;
	}
	if (n == TCP_SCB_MAX) {
		tp->t_ns->ns_tcp->tcp_stat.tcps_sackboardfull++;
		if (i == n)
			return;
		n--;			/* the highest goes */
	}
	memmove(&b[i + 1], &b[i], (n - i) * sizeof(b[0]));
	b[i].start = s;
	b[i].end = e;
	tp->t_scbn = (uint8_t)(n + 1);
}

/*
 * The SACK blocks of an ACK for SEG.ACK = ack (acceptable: SND.UNA =<
 * ack =< SND.MAX), before SND.UNA moves.  RFC 2883 4: a first block
 * below the ACK, or inside the second, is a D-SACK: counted, and
 * counted again as a spurious retransmission when it reports data we
 * had sent twice.  A block that is not a range of data in flight
 * (start not before end, beyond SND.MAX, wrapped) is ignored and
 * counted.  Returns the growth of the SACKed bytes (RFC 6937
 * DeliveredData counts it).
 */
uint32_t
tcp_sack_update(struct tcpcb *tp, const uint8_t *blocks, int nblocks,
    tcp_seq ack)
{
	struct tcpstat *st = &tp->t_ns->ns_tcp->tcp_stat;
	uint32_t before = tp->t_sacked;
	struct tcp_sackblk blk[TCP_SACK_MAXBLKS];
	int i;

	nblocks = MIN(nblocks, TCP_SACK_MAXBLKS);
	for (i = 0; i < nblocks; i++) {
		blk[i].start = sack_get32(blocks + i * TCPOLEN_SACK);
		blk[i].end = sack_get32(blocks + i * TCPOLEN_SACK + 4);
	}
	tcp_scb_trim(tp, ack);
	/* the new SND.UNA took SACKed bytes with it (RFC 6937: not twice) */
	tcp_scb_sum(tp);
	tp->t_sack_trimmed = before > tp->t_sacked ? before - tp->t_sacked : 0;
	before = MIN(before, tp->t_sacked);
	for (i = 0; i < nblocks; i++) {
		tcp_seq s = blk[i].start, e = blk[i].end;

		if (!SEQ_LT(s, e) || SEQ_GT(e, tp->snd_max) ||
		    e - s > tp->snd_max - tp->snd_una + TCP_MAXWIN) {
			st->tcps_rcvsackbad++;
			continue;
		}
		if (i == 0 && (SEQ_LEQ(e, ack) || (nblocks > 1 &&
		    SEQ_GEQ(s, blk[1].start) && SEQ_LEQ(e, blk[1].end)))) {
			st->tcps_rcvdsack++;
			tp->t_rack_dsack = true;	/* RFC 8985 6.2 step 4 */
			if (SEQ_LT(s, tp->t_rxtmax) && tp->t_total_retrans > 0)
				st->tcps_dsackspurious++;
			/* RFC 8985 7.4: the probe arrived twice */
			if (tp->t_tlp_end_set && SEQ_LT(s, tp->t_tlp_end) &&
			    SEQ_GT(e, tp->t_tlp_end - tp->t_maxseg))
				tp->t_tlp_dsacked = true;
			if (SEQ_LEQ(e, ack))
				continue;
		}
		if (SEQ_LT(s, ack)) {
			if (SEQ_LEQ(e, ack)) {
				st->tcps_rcvsackbad++;
				continue;
			}
			s = ack;
		}
		tcp_scb_insert(tp, s, e);
	}
	tcp_scb_sum(tp);
	return tp->t_sacked > before ? tp->t_sacked - before : 0;
}

void
tcp_sack_clear(struct tcpcb *tp)
{
	tp->t_scbn = 0;
	tp->t_sacked = 0;
}

/*
 * RFC 6675 4 IsLost() for the hole below scoreboard range i: lost when
 * DupThresh discontiguous ranges lie above it, or more than
 * (DupThresh - 1) * SMSS SACKed bytes.  The same answer for every byte of
 * the hole; none above the highest range is lost.
 */
static bool
tcp_hole_lost(const struct tcpcb *tp, unsigned i)
{
	uint32_t above = 0;

	if (i >= tp->t_scbn)
		return false;
	if (tp->t_scbn - i >= TCP_DUPTHRESH)
		return true;
	for (unsigned j = i; j < tp->t_scbn; j++)
		above += tp->t_scb[j].end - tp->t_scb[j].start;
	return above > (TCP_DUPTHRESH - 1) * tp->t_maxseg;
}

/* IsLost(seq) for an unSACKed seq in [SND.UNA, SND.MAX). */
bool
tcp_sack_islost(const struct tcpcb *tp, tcp_seq seq)
{
	unsigned i = 0;

	while (i < tp->t_scbn && SEQ_LEQ(tp->t_scb[i].start, seq))
		i++;
	return tcp_hole_lost(tp, i);
}

/*
 * RFC 6675 4 SetPipe(): of the unSACKed bytes in flight, those not lost
 * count once, and those retransmitted (below HighRxt) once more.
 */
uint32_t
tcp_sack_pipe(const struct tcpcb *tp)
{
	tcp_seq hs = tp->snd_una;
	uint32_t pipe = 0;

	if (tp->t_flags & TF_RACK)
		return tcp_rack_pipe(tp);

	for (unsigned i = 0; i <= tp->t_scbn; i++) {
		tcp_seq he = i < tp->t_scbn ? tp->t_scb[i].start : tp->snd_max;

		if (SEQ_LT(hs, he)) {
			if (!tcp_hole_lost(tp, i))
				pipe += he - hs;
			if (SEQ_GT(tp->t_highrxt, hs))
				pipe += (SEQ_LT(tp->t_highrxt, he) ?
				    tp->t_highrxt : he) - hs;
		}
		if (i < tp->t_scbn)
			hs = tp->t_scb[i].end;
	}
	return pipe;
}

/*
 * RFC 6675 4 NextSeg(): what to send next in recovery.  Sets *seq and
 * *len (at most maxlen) and returns TCP_NEXT_REXMT (a hole, rules 1 and
 * 3), TCP_NEXT_NEW (new data from SND.MAX, rule 2: the caller checks
 * the windows), TCP_NEXT_RESCUE (rule 4, once per recovery) or
 * TCP_NEXT_NONE.  avail: the sequence number after the last byte the
 * send buffer holds (SND.UNA + its length).
 */
int
tcp_sack_nextseg(struct tcpcb *tp, tcp_seq avail, uint32_t maxlen,
    tcp_seq *seq, uint32_t *len)
{
	tcp_seq hs = tp->snd_una;
	int pass;

	/* RFC 6675 5 (4.3): recovery starts with HighACK + 1 */
	if (tp->t_sack_first) {
		tcp_seq he = tp->t_scbn > 0 ? tp->t_scb[0].start : tp->snd_max;

		if (SEQ_LT(tp->snd_una, he)) {
			*seq = tp->snd_una;
			*len = MIN(he - tp->snd_una, maxlen);
			return TCP_NEXT_REXMT;
		}
		tp->t_sack_first = false;	/* SACKed: nothing to resend */
	}
	/* with RACK, rule 1 is the lowest segment lost, resent or not */
	if ((tp->t_flags & TF_RACK) &&
	    tcp_rack_nextlost(tp, maxlen, seq, len))
		return TCP_NEXT_REXMT;
	/* rules 1 (lost holes) and 3 (any hole below the highest SACK) */
	for (pass = (tp->t_flags & TF_RACK) ? 0 : 1; pass <= 2; pass++) {
		hs = tp->snd_una;
		for (unsigned i = 0; i < tp->t_scbn; i++) {
			tcp_seq he = tp->t_scb[i].start;
			tcp_seq s = SEQ_GT(tp->t_highrxt, hs) ?
			    tp->t_highrxt : hs;

			if (pass > 0 && SEQ_LT(s, he) && (pass == 2 ||
			    tcp_hole_lost(tp, i))) {
				*seq = s;
				*len = MIN(he - s, maxlen);
				return TCP_NEXT_REXMT;
			}
			hs = tp->t_scb[i].end;
		}
		/* rule 2: new data, between the two passes */
		if (pass <= 1 && SEQ_LT(tp->snd_max, avail)) {
			*seq = tp->snd_max;
			*len = MIN(avail - tp->snd_max, maxlen);
			return TCP_NEXT_NEW;
		}
	}
	/*
	 * Rule 4: one rescue retransmission per recovery, of the highest
	 * unSACKed data, RescueRxt = RecoveryPoint; HighRxt stays.
	 */
	if ((!tp->t_rescue_set || SEQ_GT(tp->snd_una, tp->t_rescuerxt)) &&
	    SEQ_LT(hs, tp->snd_max)) {
		/* the highest unSACKed sequence number: the FIN's, if sent */
		tcp_seq top = (tp->t_flags & TF_SENTFIN) ? tp->snd_max :
		    SEQ_LT(avail, tp->snd_max) ? avail : tp->snd_max;

		if (SEQ_LT(hs, top)) {
			*len = MIN(top - hs, maxlen);
			*seq = top - *len;
			tp->t_rescuerxt = tp->snd_recover;
			tp->t_rescue_set = true;
			return TCP_NEXT_RESCUE;
		}
	}
	return TCP_NEXT_NONE;
}
