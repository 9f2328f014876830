/*
 * tcp_usrreq.c -- TCP's protocol switch (the user calls of RFC 9293
 * 3.10.1-3.10.6) and its socket options.
 *
 * (socreate() ->) tcp_attach() -> in_pcballoc(), tcp_newtcpcb()
 * (soconnect() ->) tcp_connect() -> in_pcbconnect() -> tcp_output()
 * (solisten() ->) tcp_listen()
 * (sosend() ->) tcp_send() -> sbappendstream() -> tcp_output()
 * (soreceive() ->) tcp_rcvd() -> tcp_output() (window update)
 * (soshutdown() ->) tcp_shutdown() -> tcp_usrclosed() -> tcp_output()
 * (soclose() ->) tcp_detach() -> tcp_usrclosed() | tcp_drop()
 * (soclose() of a listener ->) tcp_abort() -> tcp_drop()
 * (sosetopt()/sogetopt() ->) tcp_ctloutput()
 *
 * The connection holds a reference on its socket from attach until
 * tcp_close() (or TIME-WAIT, for a socket the user closed), so a closed
 * socket's send buffer drains after close() returns, as in BSD.
 */
#include "kern/kernel.h"
#include "net/netstack.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/tcp_var.h"
#include "sys/socketvar.h"

static struct tcpcb *
so_tcpcb(struct socket *so)
{
	struct inpcb *inp = so->so_pcb;

	return inp != NULL ? intotcpcb(inp) : NULL;
}

static unsigned
tcp_notsent(const struct socket *so)
{
	const struct inpcb *inp = so->so_pcb;

	return inp != NULL ? tcp_unsent(intotcpcb(inp), so) : 0;
}

static int
tcp_attach(struct socket *so)
{
	struct netstack *ns = so->so_kernel->k_net;
	struct inpcb *inp;
	int error;

	if ((error = in_pcballoc(so, ns->ns_tcp->tcp_tbl)) != 0)
		return error;
	inp = so->so_pcb;
	if (tcp_newtcpcb(inp) == NULL) {
		ns->ns_tcp->tcp_stat.tcps_nopcb++;
		in_pcbdetach(inp);
		return ENOBUFS;
	}
	if (so->so_head == NULL) {
		so->so_snd.sb_hiwat = TCP_SNDBUF_DEFAULT;
		so->so_rcv.sb_hiwat = TCP_RCVBUF_DEFAULT;
	}
	so->so_refs++;		/* the connection's; sopcbgone() drops it */
	return 0;
}

/*
 * The descriptor is closed (RFC 9293 3.10.4 CLOSE): a connection that
 * is not open yet goes; SO_LINGER with a zero time, or data the user
 * never read (RFC 2525 2.17, as Linux and BSD do), resets it; otherwise
 * the FIN goes after the queued data and the connection finishes alone.
 */
static void
tcp_detach(struct socket *so)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (tp == NULL)
		return;
	if (tp->t_state < TCPS_ESTABLISHED && tp->t_state != TCPS_SYN_RECEIVED) {
		(void)tcp_close(tp);
		return;
	}
	if ((so->so_linger.l_onoff && so->so_linger.l_linger == 0) ||
	    so->so_rcv.sb_cc > 0) {
		(void)tcp_drop(tp, ECONNRESET);
		return;
	}
	if (tp->t_state == TCPS_TIME_WAIT) {
		/* the socket is not needed for the rest of the wait */
		sbflush(&so->so_snd);
		tp->t_inpcb->inp_socket = NULL;
		sopcbgone(so);
		return;
	}
	soisdisconnecting(so);
	if ((tp = tcp_usrclosed(tp)) == NULL)
		return;
	if (tp->t_state == TCPS_FIN_WAIT_2) {
		/* shut down for writing before: the peer's FIN may never come */
		soisdisconnected(so);
		if (tp->t_linger2 < 0) {
			/* TCP_LINGER2 -1: no waiting; Linux resets the peer */
			(void)tcp_drop(tp, 0);
			return;
		}
		tcp_timer_arm(tp, TCPT_2MSL, tcp_finwait2_time(tp));
	}
	(void)tcp_output(tp);
}

/* A connection on a closing listener's queue that nobody accepted. */
static void
tcp_abort(struct socket *so)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (tp != NULL)
		(void)tcp_drop(tp, ECONNABORTED);
}

static int
tcp_bind(struct socket *so, const struct sockaddr_in *sin)
{
	struct inpcb *inp = so->so_pcb;

	if (inp == NULL)
		return EINVAL;
	if (sin->sin_family != AF_INET)
		return EAFNOSUPPORT;
	/*
	 * TCP has no group or broadcast addresses (Linux binds them, then
	 * hears nothing there and connects from another address)
	 */
	if (in_groupaddr(so->so_kernel, sin->sin_addr))
		return EADDRNOTAVAIL;
	return in_pcbbind(inp, sin);
}

static int
tcp_listen(struct socket *so)
{
	struct inpcb *inp = so->so_pcb;
	struct tcpcb *tp = so_tcpcb(so);
	int error;

	if (tp == NULL)
		return EINVAL;
	if (tp->t_state != TCPS_CLOSED && tp->t_state != TCPS_LISTEN)
		return EINVAL;
	if (inp->inp_lport == 0 && (error = in_pcbbind(inp, NULL)) != 0)
		return error;
	/* agree to ECN (RFC 3168) with the instance's parameter as it is now */
	tp->t_flags &= ~TF_REQ_ECN;
	if (so->so_kernel->k_net->ns_tcp->tcp_do_ecn)
		tp->t_flags |= TF_REQ_ECN;
	tcp_set_state(tp, TCPS_LISTEN);
	tcp_syncookie_group(tp);
	return 0;
}

/* A listener stops (shutdown(SHUT_RD)): SYNs to it are refused from now. */
static void
tcp_unlisten(struct socket *so)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (tp != NULL && tp->t_state == TCPS_LISTEN)
		tcp_set_state(tp, TCPS_CLOSED);
}

/* RFC 9293 3.10.1 OPEN, active: choose the ISS (the SYN is the caller's). */
static int
tcp_connect_prep(struct socket *so, const struct sockaddr_in *sin)
{
	struct netstack *ns = so->so_kernel->k_net;
	struct inpcb *inp = so->so_pcb;
	struct tcpcb *tp = so_tcpcb(so);
	int error;

	if (tp == NULL)
		return EINVAL;
	if (tp->t_state == TCPS_LISTEN)
		return EINVAL;
	if (tp->t_state != TCPS_CLOSED)
		return EISCONN;
	if (sin->sin_family != AF_INET)
		return EAFNOSUPPORT;
	/* RFC 1122 4.2.3.10: no connections to broadcast or multicast */
	if (sin->sin_addr.s_addr == INADDR_ANY ||
	    IN_MULTICAST(ntohl(sin->sin_addr.s_addr)) ||
	    sin->sin_addr.s_addr == htonl(INADDR_BROADCAST) ||
	    in_broadcast(sin->sin_addr, NULL))
		return ENETUNREACH;
	if ((error = in_pcbconnect(inp, sin)) != 0)
		return error;
	so->so_state &= ~SS_ISCONNECTED;	/* not until the handshake */
	tp->request_r_scale = tcp_rscale(tp);
	tp->ts_offset = tcp_ts_offset(ns, inp->inp_laddr, inp->inp_faddr);
	tp->iss = tcp_new_isn(ns, inp->inp_laddr, inp->inp_lport,
	    inp->inp_faddr, inp->inp_fport);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->snd_up = tp->iss;
	tp->snd_recover = tp->iss;
	tp->t_maxseg = MIN(tcp_mss_local(tp), (unsigned)TCP_MSS);
	/* ask for ECN (RFC 3168 6.1.1) as the parameter says now */
	if (ns->ns_tcp->tcp_do_ecn)
		tp->t_flags |= TF_REQ_ECN;
	tcp_set_state(tp, TCPS_SYN_SENT);
	ns->ns_tcp->tcp_stat.tcps_connattempt++;
	soisconnecting(so);
	return 0;
}

/*
 * connect().  With TCP_FASTOPEN_CONNECT (Linux's) the SYN asks for a Fast
 * Open cookie; and when we hold one for the server, it waits for the
 * first send, whose data it carries: connect() returns 0 at once, the
 * socket writable (connected for the user, SYN-SENT for TCP).
 */
static int
tcp_connect(struct socket *so, const struct sockaddr_in *sin)
{
	struct tcpcb *tp;
	int error;

	if ((error = tcp_connect_prep(so, sin)) != 0)
		return error;
	tp = so_tcpcb(so);
	if (tp->t_tfo_connect) {
		tp->t_flags |= TF_TFO_ACTIVE;
		if (tcp_tfo_syn_room(tp) > 0) {
			/* sosend_fastopen() takes it from there */
			so->so_state = (so->so_state & ~SS_ISCONNECTING) |
			    SS_ISCONNECTED | SS_TFODEFER;
			return 0;
		}
	}
	return tcp_output(tp);
}

/*
 * sendto(MSG_FASTOPEN) on a socket not connected: connect as
 * tcp_connect() does, but leave the SYN to the pr_send() that follows,
 * which may put data in it (RFC 7413 4.2.1).  *room: what it can carry
 * (0: we hold no cookie for the server; the SYN asks for one).
 */
static int
tcp_fastopen(struct socket *so, const struct sockaddr_in *sin,
    unsigned *room)
{
	struct tcpcb *tp;
	int error;

	*room = 0;
	if (sin == NULL) {
		/* TCP_FASTOPEN_CONNECT's deferred SYN: not sent yet */
		tp = so_tcpcb(so);
		if (tp == NULL || tp->t_state != TCPS_SYN_SENT ||
		    tp->snd_nxt != tp->iss)
			return EINVAL;
		*room = tcp_tfo_syn_room(tp);
		return 0;
	}
	if ((error = tcp_connect_prep(so, sin)) != 0)
		return error;
	tp = so_tcpcb(so);
	tp->t_flags |= TF_TFO_ACTIVE;
	*room = tcp_tfo_syn_room(tp);
	return 0;
}

/* Orderly release after the data (SO_LINGER's close, RFC 9293 CLOSE). */
static int
tcp_disconnect(struct socket *so)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (tp == NULL)
		return ENOTCONN;
	if (tp->t_state < TCPS_ESTABLISHED && tp->t_state != TCPS_SYN_RECEIVED) {
		(void)tcp_close(tp);
		return 0;
	}
	if (so->so_linger.l_onoff && so->so_linger.l_linger == 0) {
		(void)tcp_drop(tp, ECONNRESET);
		return 0;
	}
	soisdisconnecting(so);
	if ((tp = tcp_usrclosed(tp)) != NULL)
		(void)tcp_output(tp);
	return 0;
}

/* shutdown(SHUT_WR): the FIN follows the data (RFC 9293 half-close). */
static int
tcp_shutdown(struct socket *so)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (tp == NULL)
		return 0;
	if ((tp = tcp_usrclosed(tp)) != NULL)
		return tcp_output(tp);
	return 0;
}

/*
 * Send what the user's data let go.  The data is in so_snd, taken: the
 * call that gave it must count it (a failed return would have the user
 * send it twice).  So an error here does not fail the call, as Linux's
 * tcp_sendmsg() does not; it stays with the connection as a soft error,
 * reported if the connection times out (the timers resend meanwhile).
 */
static void
tcp_output_taken(struct tcpcb *tp)
{
	int error = tcp_output(tp);

	if (error != 0)
		tp->t_softerror = error;
}

static int
tcp_send(struct socket *so, struct mbuf *m, const struct sockaddr_in *to)
{
	struct tcpcb *tp = so_tcpcb(so);

	(void)to;	/* connected: any address is ignored, as Linux does */
	if (tp == NULL) {
		m_freem(m);
		return EPIPE;
	}
	if (m != NULL)		/* NULL: tcp_fastopen()'s SYN alone */
		sbappendstream(&so->so_snd, m);
	tcp_output_taken(tp);
	return 0;
}

/*
 * send(MSG_OOB): the data goes at the end of the stream and the urgent
 * pointer after its last byte (RFC 6093, as BSD and Linux send it).
 */
static int
tcp_sendoob(struct socket *so, struct mbuf *m)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (tp == NULL) {
		m_freem(m);
		return EPIPE;
	}
	sbappendstream(&so->so_snd, m);
	tp->snd_up = tp->snd_una + so->so_snd.sb_cc;
	tp->t_flags |= TF_FORCEDATA;
	tcp_output_taken(tp);
	tp->t_flags &= ~TF_FORCEDATA;
	return 0;
}

/* recv(MSG_OOB): the byte tcp_deliver() took out of the stream. */
static int
tcp_rcvoob(struct socket *so, uint8_t *c, bool peek)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (tp == NULL || (so->so_options & SOO_OOBINLINE))
		return EINVAL;
	if (!(tp->t_flags & TF_HAVEURG))
		return (tp->t_flags & TF_RCVDURG) ? EWOULDBLOCK : EINVAL;
	*c = tp->t_iobc;
	if (!peek) {
		tp->t_flags &= ~TF_HAVEURG;
		so->so_haveoob = false;
	}
	return 0;
}

/* The user took data: the window may have opened enough to say so. */
static int
tcp_rcvd(struct socket *so)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (tp != NULL && TCPS_HAVEESTABLISHED(tp->t_state))
		(void)tcp_output(tp);
	return 0;
}

static void
tcp_addr(struct socket *so, struct sockaddr_in *sin, bool peer)
{
	struct inpcb *inp = so->so_pcb;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (inp == NULL)
		return;
	sin->sin_addr = peer ? inp->inp_faddr : inp->inp_laddr;
	sin->sin_port = peer ? inp->inp_fport : inp->inp_lport;
}

static void
tcp_sockaddr(struct socket *so, struct sockaddr_in *sin)
{
	tcp_addr(so, sin, false);
}

static void
tcp_peeraddr(struct socket *so, struct sockaddr_in *sin)
{
	tcp_addr(so, sin, true);
}

static int
tcp_opt_int(const void *val, socklen_t len, int *v)
{
	if (val == NULL || len < sizeof(int))
		return EINVAL;
	memcpy(v, val, sizeof(int));
	return 0;
}

/* Keepalive times are whole seconds, 1 to 32767 (as Linux). */
static int
tcp_set_keep(struct tcpcb *tp, int name, int v)
{
	if (name == TCP_KEEPCNT) {
		if (v < 1 || v > 127)
			return EINVAL;
		tp->t_keepcnt = (unsigned)v;
		return 0;
	}
	if (v < 1 || v > 32767)
		return EINVAL;
	if (name == TCP_KEEPIDLE) {
		tp->t_keepidle = (unsigned)v * 1000;
		/* re-arm from now so the new time applies */
		if (TCPS_HAVEESTABLISHED(tp->t_state))
			tcp_timer_arm(tp, TCPT_KEEP, (int)tp->t_keepidle);
	} else {
		tp->t_keepintvl = (unsigned)v * 1000;
	}
	return 0;
}

static int
tcp_setopt(struct tcpcb *tp, int name, const void *val, socklen_t len)
{
	char cname[TCP_CA_NAME_MAX];
	const struct tcp_cc *cc;
	int v, error;

	switch (name) {
	case TCP_NODELAY:
		if ((error = tcp_opt_int(val, len, &v)) != 0)
			return error;
		if (v) {
			struct socket *so = tp->t_inpcb->inp_socket;

			tp->t_flags |= TF_NODELAY | TF_PUSH;
			/*
			 * What Nagle held goes now.  Nothing held, nothing
			 * to do: a call for nothing would send a window
			 * update on every socket accepted and set so (the
			 * SYN-ACK offered at most 65535), as Linux and the
			 * BSDs do not.
			 */
			if (so != NULL &&
			    so->so_snd.sb_cc > tp->snd_max - tp->snd_una)
				(void)tcp_output(tp);
			/* a push even when corked (Linux) */
			tp->t_flags &= ~TF_PUSH;
		} else {
			tp->t_flags &= ~TF_NODELAY;
		}
		return 0;
	case TCP_CORK:
		if ((error = tcp_opt_int(val, len, &v)) != 0)
			return error;
		if (v) {
			tp->t_flags |= TF_CORK;
		} else if (tp->t_flags & TF_CORK) {
			/* uncorked: what waited goes now, Nagle or not (Linux) */
			tp->t_flags &= ~TF_CORK;
			tp->t_flags |= TF_PUSH;
			(void)tcp_output(tp);
			tp->t_flags &= ~TF_PUSH;
		}
		return 0;
	case TCP_MAXSEG:
		if ((error = tcp_opt_int(val, len, &v)) != 0)
			return error;
		if (v != 0 && (v < 88 || v > 32767))
			return EINVAL;
		tp->t_usermss = (unsigned)v;
		return 0;
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
	case TCP_KEEPCNT:
		if ((error = tcp_opt_int(val, len, &v)) != 0)
			return error;
		return tcp_set_keep(tp, name, v);
	case TCP_SYNCNT:
		/* SYN retransmissions before connect() gives up (Linux's) */
		if ((error = tcp_opt_int(val, len, &v)) != 0)
			return error;
		if (v < 1 || v > TCP_SYNCNT_MAX)
			return EINVAL;
		tp->t_synretries = (uint8_t)v;
		return 0;
	case TCP_LINGER2:
		/* seconds an orphan waits in FIN-WAIT-2; < 0: none (Linux) */
		if ((error = tcp_opt_int(val, len, &v)) != 0)
			return error;
		tp->t_linger2 = v < 0 ? -1 : MIN(v, TCP_LINGER2_MAX) * 1000;
		return 0;
	case TCP_DEFER_ACCEPT:
		/* seconds (tcp_defer_start()); 0 or less: off, as Linux */
		if ((error = tcp_opt_int(val, len, &v)) != 0)
			return error;
		tp->t_deferaccept = v <= 0 ? 0 :
		    (unsigned)MIN(v, TCP_DEFER_ACCEPT_MAX) * 1000u;
		return 0;
	case TCP_FASTOPEN_CONNECT:
		/* 0 or 1, before a connection (Linux) */
		if ((error = tcp_opt_int(val, len, &v)) != 0)
			return error;
		if (v < 0 || v > 1 || tp->t_state != TCPS_CLOSED)
			return EINVAL;
		tp->t_tfo_connect = v != 0;
		return 0;
	case TCP_WINDOW_CLAMP:
		/*
		 * As Linux: the most window to offer, at least
		 * TCP_WINDOW_CLAMP_MIN; 0 (the buffer decides again) only
		 * before a connection.  A window already offered is not
		 * taken back (RFC 9293 3.8.6.2.2: no shrinking).
		 */
		if ((error = tcp_opt_int(val, len, &v)) != 0)
			return error;
		if (v == 0) {
			if (tp->t_state != TCPS_CLOSED)
				return EINVAL;
			tp->t_window_clamp = 0;
			return 0;
		}
		tp->t_window_clamp = v < TCP_WINDOW_CLAMP_MIN ?
		    TCP_WINDOW_CLAMP_MIN : (uint32_t)v;
		return 0;
	case TCP_FASTOPEN:
		/*
		 * RFC 7413 5.1: the most connections a listener takes on a
		 * cookie before their handshake completes; 0: none, the
		 * default.  As Linux: on a socket that is closed or
		 * listening, EINVAL otherwise or below 0.
		 */
		if ((error = tcp_opt_int(val, len, &v)) != 0)
			return error;
		if (v < 0 || (tp->t_state != TCPS_CLOSED &&
		    tp->t_state != TCPS_LISTEN))
			return EINVAL;
		tp->t_tfo_qlen = (unsigned)MIN(v, SOMAXCONN);
		return 0;
	case TCP_USER_TIMEOUT:
		/* ms (ticks), as Linux; 0: R2 is the retransmission count */
		if ((error = tcp_opt_int(val, len, &v)) != 0)
			return error;
		if (v < 0)
			return EINVAL;
		tp->t_usertimeo = (unsigned)v;
		return 0;
	case TCP_CONGESTION:
		if (val == NULL || len == 0)
			return EINVAL;
		memset(cname, 0, sizeof(cname));
		memcpy(cname, val, MIN((size_t)len, sizeof(cname) - 1));
		if ((cc = tcp_cc_find(cname)) == NULL)
			return ENOENT;
		if (cc != tp->t_cc) {
			tp->t_cc = cc;
			if (TCPS_HAVEESTABLISHED(tp->t_state))
				cc->cc_init(tp);
		}
		return 0;
	case TCP_QUICKACK:
		/*
		 * Every data segment ACKed at once, and one held back goes
		 * now.  It stays until cleared (Linux leaves quick-ACK mode
		 * by itself after a while: programs set it again after each
		 * read, which does the same here).
		 */
		if ((error = tcp_opt_int(val, len, &v)) != 0)
			return error;
		if (v == 0) {
			tp->t_flags &= ~TF_QUICKACK;
		} else {
			tp->t_flags |= TF_QUICKACK;
			if (tp->t_flags & TF_DELACK) {
				tp->t_flags |= TF_ACKNOW;
				(void)tcp_output(tp);
			}
		}
		return 0;
	case TCP_NOTSENT_LOWAT: {
		/* Linux: writable below this many unsent bytes; 0: off */
		struct socket *so = tp->t_inpcb->inp_socket;

		if ((error = tcp_opt_int(val, len, &v)) != 0)
			return error;
		if (so == NULL)
			return EINVAL;
		so->so_notsent_lowat = (unsigned)v;
		if (sowriteable(so))
			sowwakeup(so);	/* a higher mark may free a writer */
		return 0;
	}
	case TCP_INFO:
		return ENOPROTOOPT;	/* read-only */
	default:
		return ENOPROTOOPT;
	}
}

static int
tcp_getopt(struct tcpcb *tp, int name, void *val, socklen_t *len)
{
	struct tcp_info ti;
	int v;

	switch (name) {
	case TCP_NODELAY:
		v = (tp->t_flags & TF_NODELAY) != 0;
		break;
	case TCP_MAXSEG:
		v = TCPS_HAVEESTABLISHED(tp->t_state) ? (int)tp->t_maxseg :
		    tp->t_usermss != 0 ? (int)tp->t_usermss : TCP_MSS;
		break;
	case TCP_KEEPIDLE:
		v = (int)(tp->t_keepidle / 1000);
		break;
	case TCP_KEEPINTVL:
		v = (int)(tp->t_keepintvl / 1000);
		break;
	case TCP_KEEPCNT:
		v = (int)tp->t_keepcnt;
		break;
	case TCP_USER_TIMEOUT:
		v = (int)tp->t_usertimeo;
		break;
	case TCP_DEFER_ACCEPT:
		v = (int)(tp->t_deferaccept / 1000);
		break;
	case TCP_FASTOPEN:
		v = (int)tp->t_tfo_qlen;
		break;
	case TCP_WINDOW_CLAMP:
		v = (int)MIN(tp->t_window_clamp, 0x7fffffffu);
		break;
	case TCP_FASTOPEN_CONNECT:
		v = tp->t_tfo_connect;
		break;
	case TCP_SYNCNT:
		v = tp->t_synretries != 0 ? tp->t_synretries : TCP_SYNRXTSHIFT;
		break;
	case TCP_LINGER2:
		v = tp->t_linger2 < 0 ? -1 : tcp_finwait2_time(tp) / 1000;
		break;
	case TCP_CORK:
		v = (tp->t_flags & TF_CORK) != 0;
		break;
	case TCP_QUICKACK:
		v = (tp->t_flags & TF_QUICKACK) != 0;
		break;
	case TCP_NOTSENT_LOWAT:
		v = tp->t_inpcb->inp_socket != NULL ?
		    (int)tp->t_inpcb->inp_socket->so_notsent_lowat : 0;
		break;
	case TCP_INFO:
		tcp_fill_info(tp, &ti);
		return in_optout(val, len, &ti, sizeof(ti));
	case TCP_CONGESTION: {
		char cname[TCP_CA_NAME_MAX];

		memset(cname, 0, sizeof(cname));
		memcpy(cname, tp->t_cc->cc_name, strlen(tp->t_cc->cc_name));
		return in_optout(val, len, cname, sizeof(cname));
	}
	default:
		return ENOPROTOOPT;
	}
	return in_optout(val, len, &v, sizeof(v));
}

static int
tcp_ctloutput(struct socket *so, int set, int level, int name, void *val,
    socklen_t *len)
{
	struct tcpcb *tp = so_tcpcb(so);

	/* SO_BINDTODEVICE: the PCB keeps it, through TIME-WAIT */
	if (level == SOL_SOCKET && name == SO_BINDTOIFINDEX) {
		if (so->so_pcb != NULL)
			((struct inpcb *)so->so_pcb)->inp_bindif =
			    so->so_bindif;
		return 0;
	}
	if (tp == NULL) {
		struct tcp_info ti;

		/* the connection is gone: TCP_INFO says CLOSED, as Linux */
		if (set || level != IPPROTO_TCP || name != TCP_INFO)
			return EINVAL;
		memset(&ti, 0, sizeof(ti));
		ti.tcpi_state = 7;	/* Linux's TCP_CLOSE */
		return in_optout(val, len, &ti, sizeof(ti));
	}
	if (level == SOL_SOCKET && name == SO_KEEPALIVE && set) {
		/* turned on (RFC 1122 4.2.3.6): probes after t_keepidle */
		if ((so->so_options & SOO_KEEPALIVE) &&
		    TCPS_HAVEESTABLISHED(tp->t_state))
			tcp_timer_arm(tp, TCPT_KEEP, (int)tp->t_keepidle);
		return 0;
	}
	if (level == IPPROTO_IP)
		return in_pcb_ctloutput(tp->t_inpcb, set, name, val, len);
	if (level != IPPROTO_TCP)
		return ENOPROTOOPT;
	if (set)
		return tcp_setopt(tp, name, val, *len);
	return tcp_getopt(tp, name, val, len);
}

const struct protosw tcp_protosw = {
	.pr_type = SOCK_STREAM,
	.pr_protocol = IPPROTO_TCP,
	.pr_attach = tcp_attach,
	.pr_detach = tcp_detach,
	.pr_bind = tcp_bind,
	.pr_connect = tcp_connect,
	.pr_fastopen = tcp_fastopen,
	.pr_disconnect = tcp_disconnect,
	.pr_shutdown = tcp_shutdown,
	.pr_send = tcp_send,
	.pr_sockaddr = tcp_sockaddr,
	.pr_peeraddr = tcp_peeraddr,
	.pr_ctloutput = tcp_ctloutput,
	.pr_listen = tcp_listen,
	.pr_unlisten = tcp_unlisten,
	.pr_rcvd = tcp_rcvd,
	.pr_abort = tcp_abort,
	.pr_sendoob = tcp_sendoob,
	.pr_rcvoob = tcp_rcvoob,
	.pr_notsent = tcp_notsent,
};
