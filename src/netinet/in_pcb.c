/*
 * in_pcb.c -- Internet protocol control blocks (interface: in_pcb.h).
 *
 * (udp_attach() ->) in_pcballoc()
 * (sobind() -> udp_bind() ->) in_pcbbind() -> in_pcbport_conflict()
 * (soconnect() -> udp_connect() ->) in_pcbconnect() -> in_selectsrc(),
 *     in_pcbbind_dgram_connect() or in_pcbbind_connect() -> in_pcbrss_ok()
 * (udp_input() ->) in_pcblookup_connect(), in_pcblookup_bind_flow()
 *
 * Binding rules: two PCBs may share a local port when their local
 * addresses differ and neither is the wildcard, or when both set
 * SO_REUSEADDR or both set SO_REUSEPORT (as Linux allows for UDP).
 * Ephemeral ports come from RFC 6335's dynamic range, searched from a
 * random starting point (RFC 6056 3.3.1 "simple port randomization").
 * With RSS (rump_rss_set(), DESIGN.md "Multi-core") the port a connect()
 * picks must also make the NIC hash the replies to this instance's queue;
 * a port picked without a peer (bind(), listen(), an unconnected
 * sendto()) is not constrained, as its replies cannot be predicted.
 */
#include "kern/kernel.h"
#include "kern/pool.h"
#include "net/netstack.h"
#include "net/route.h"
#include "net/rss.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/ip_output.h"
#include "netinet/ip_pmtu.h"
#include "sys/socketvar.h"

static unsigned
porthash(in_port_t lport)
{
	return ntohs(lport) & (INP_HASHSIZE - 1);
}

static unsigned
hash4(struct in_addr faddr, in_port_t fport, in_port_t lport)
{
	uint32_t h = faddr.s_addr ^ ((uint32_t)fport << 16) ^ lport;

	h *= 0x9e3779b1u;
	return (h >> 16) & (INP_HASH4SIZE - 1);
}

void
in_pcbinit(struct inpcbtable *t, bool stream, struct pool_cache *pool)
{
	uint16_t r;

	list_init(&t->inpt_all);
	for (unsigned i = 0; i < INP_HASHSIZE; i++) {
		list_init(&t->inpt_porthash[i]);
		list_init(&t->inpt_bindhash[i]);
	}
	for (unsigned i = 0; i < INP_HASH4SIZE; i++)
		list_init(&t->inpt_hash4[i]);
	t->inpt_stream = stream;
	t->inpt_pool = pool;
	(void)hyper_getrandom(&r, sizeof(r));
	t->inpt_lastport = (uint16_t)(IPPORT_EPHEMERALFIRST +
	    r % (IPPORT_EPHEMERALLAST - IPPORT_EPHEMERALFIRST + 1));
	(void)hyper_getrandom(&t->inpt_flowkey, sizeof(t->inpt_flowkey));
	t->inpt_count = 0;
}

/*
 * As Linux: a value is an int, or a single byte; IP_TTL 1..255 (-1: the
 * default again), IP_TOS its low byte, without the ECN bits on a stream
 * socket (TCP's own, RFC 3168); the receive flags any value.  A get
 * says an int.
 */
int
in_pcb_ctloutput(struct inpcb *inp, int set, int name, void *val,
    uint32_t *len)
{
	static const struct {
		int name;
		uint8_t flag;
	} flags[] = {
		{ IP_PKTINFO, INP_RECVPKTINFO }, { IP_RECVTOS, INP_RECVTOS },
		{ IP_RECVERR, INP_RECVERR },
		{ IP_RECVTTL, INP_RECVTTL },
	};
	int v = 0;

	switch (name) {
	case IP_MULTICAST_IF:
	case IP_MULTICAST_TTL:
	case IP_MULTICAST_LOOP:
	case IP_ADD_MEMBERSHIP:
	case IP_DROP_MEMBERSHIP:
	case IP_MULTICAST_ALL:
		return in_mcast_ctloutput(inp, set, name, val, len);
	default:
		break;
	}
	if (set && in_optin(val, *len, &v) != 0)
		return EINVAL;
	switch (name) {
	case IP_MTU_DISCOVER:
		if (!set) {
			v = inp->inp_pmtudisc;
			break;
		}
		if (v < IP_PMTUDISC_DONT || v > IP_PMTUDISC_OMIT)
			return EINVAL;
		inp->inp_pmtudisc = (uint8_t)v;
		return 0;
	case IP_MTU:
		/* Linux: read only; of a connected socket */
		if (set)
			return ENOPROTOOPT;
		if (inp->inp_faddr.s_addr == INADDR_ANY ||
		    (v = (int)in_pathmtu(inp)) == 0)
			return ENOTCONN;
		break;
	case IP_TTL:
		if (!set) {
			v = inp->inp_ttl;
			break;
		}
		if (v == -1)
			v = IPDEFTTL;
		if (v < 1 || v > MAXTTL)
			return EINVAL;
		inp->inp_ttl = (uint8_t)v;
		return 0;
	case IP_TOS:
		if (!set) {
			v = inp->inp_tos;
			break;
		}
		if (inp->inp_table->inpt_stream)
			v &= ~IPTOS_ECN_MASK;
		inp->inp_tos = (uint8_t)v;
		return 0;
	default:
		for (size_t i = 0; i < __arraycount(flags); i++) {
			if (flags[i].name != name)
				continue;
			if (!set) {
				v = (inp->inp_flags & flags[i].flag) != 0;
				goto out;
			}
			if (v)
				inp->inp_flags |= flags[i].flag;
			else
				inp->inp_flags &= (uint16_t)~flags[i].flag;
			return 0;
		}
		return ENOPROTOOPT;
	}
out:
	return in_optout(val, len, &v, sizeof(v));
}

int
in_optin(const void *val, uint32_t len, int *v)
{
	if (val == NULL || len < 1)
		return EINVAL;
	if (len >= sizeof(int))
		memcpy(v, val, sizeof(*v));
	else
		*v = *(const uint8_t *)val;
	return 0;
}

int
in_optout(void *val, uint32_t *len, const void *v, uint32_t size)
{
	if (val == NULL || len == NULL)
		return EFAULT;
	if (*len > size)
		*len = size;
	memcpy(val, v, *len);
	return 0;
}

int
in_pcballoc(struct socket *so, struct inpcbtable *t)
{
	struct inpcb *inp;

	if ((inp = pool_cache_get(t->inpt_pool)) == NULL)
		return ENOBUFS;
	memset(inp, 0, sizeof(*inp));
	inp->inp_socket = so;
	inp->inp_table = t;
	inp->inp_ttl = IPDEFTTL;
	/*
	 * TCP sets DF and learns the path MTU (RFC 1191), as Linux; UDP
	 * leaves DF off, as BSD (Linux's default for it is "want")
	 */
	inp->inp_pmtudisc = t->inpt_stream ? IP_PMTUDISC_WANT :
	    IP_PMTUDISC_DONT;
	list_node_init(&inp->inp_porthash);
	list_node_init(&inp->inp_bindhash);
	list_node_init(&inp->inp_hash4);
	list_insert_tail(&t->inpt_all, &inp->inp_list);
	t->inpt_count++;
	so->so_pcb = inp;
	return 0;
}

/* Off the local port's tables (by port, and bound without a peer). */
static void
in_pcbunhash_port(struct inpcb *inp)
{
	if (list_linked(&inp->inp_porthash))
		list_remove(&inp->inp_porthash);
	if (list_linked(&inp->inp_bindhash))
		list_remove(&inp->inp_bindhash);
}

void
in_pcbdetach(struct inpcb *inp)
{
	struct inpcbtable *t = inp->inp_table;

	in_pcbunhash_port(inp);
	if (list_linked(&inp->inp_hash4))
		list_remove(&inp->inp_hash4);
	list_remove(&inp->inp_list);
	t->inpt_count--;
	in_mcast_free(inp);
	if (inp->inp_socket != NULL)
		inp->inp_socket->so_pcb = NULL;
	pool_cache_put(t->inpt_pool, inp);
}

/* May a stream socket with options mine share a port with o? */
static bool
in_pcbstream_share(unsigned mine, const struct inpcb *o)
{
	unsigned theirs;

	if (o->inp_socket == NULL)	/* TIME-WAIT */
		return (mine & SOO_REUSEADDR) != 0;
	theirs = o->inp_socket->so_options;
	if (mine & theirs & SOO_REUSEPORT)
		return true;
	return (mine & theirs & SOO_REUSEADDR) && !(theirs & SOO_ACCEPTCONN);
}

/* The next candidate of the dynamic range, after the table's last one. */
static uint16_t
in_pcbnextport(struct inpcbtable *t)
{
	uint16_t p = t->inpt_lastport;

	t->inpt_lastport = p == IPPORT_EPHEMERALLAST ?
	    IPPORT_EPHEMERALFIRST : (uint16_t)(p + 1);
	return p;
}

/*
 * Do the replies of a connection from laddr:lport to sin reach this
 * instance?  The NIC hashes them as they arrive, from sin to us, and
 * gives them to the queue the redirection table names.
 */
static bool
in_pcbrss_ok(const struct inpcb *inp, struct in_addr laddr, in_port_t lport,
    const struct sockaddr_in *sin)
{
	const struct ns_rss *rss = inp->inp_socket->so_kernel->k_net->ns_rss;
	uint32_t h;

	if (rss == NULL)
		return true;
	h = rss_hash_ipv4_l4(&rss->nr_key, sin->sin_addr.s_addr, laddr.s_addr,
	    sin->sin_port, lport);
	return rss_queue(h, rss->nr_reta, RSS_RETA_SIZE) == rss->nr_instance;
}

static bool
in_pcbport_conflict(struct inpcbtable *t, struct inpcb *self,
    struct in_addr laddr, in_port_t lport)
{
	unsigned mine = self->inp_socket->so_options;
	struct list_node *b = &t->inpt_porthash[porthash(lport)], *ln;

	for (ln = b->ln_next; ln != b; ln = ln->ln_next) {
		struct inpcb *o = container_of(ln, struct inpcb, inp_porthash);

		if (o == self || o->inp_lport != lport)
			continue;
		if (o->inp_laddr.s_addr != laddr.s_addr &&
		    o->inp_laddr.s_addr != INADDR_ANY &&
		    laddr.s_addr != INADDR_ANY)
			continue;	/* two different specific addresses */
		if (self->inp_bindif != 0 && o->inp_bindif != 0 &&
		    self->inp_bindif != o->inp_bindif)
			continue;	/* bound to two interfaces (Linux) */
		if (t->inpt_stream) {
			if (in_pcbstream_share(mine, o))
				continue;
			return true;
		}
		if (mine & o->inp_socket->so_options &
		    (SOO_REUSEPORT | SOO_REUSEADDR))
			continue;
		return true;
	}
	return false;
}

/* newest first: unicast input goes to the latest binding */
static void
in_pcbbindhash_insert(struct inpcb *inp)
{
	struct list_node *b =
	    &inp->inp_table->inpt_bindhash[porthash(inp->inp_lport)];

	inp->inp_bindhash.ln_next = b->ln_next;
	inp->inp_bindhash.ln_prev = b;
	b->ln_next->ln_prev = &inp->inp_bindhash;
	b->ln_next = &inp->inp_bindhash;
}

static void
in_pcbsetport(struct inpcb *inp, struct in_addr laddr, in_port_t lport)
{
	struct inpcbtable *t = inp->inp_table;

	inp->inp_laddr = laddr;
	inp->inp_lport = lport;
	/* newest first: unicast input goes to the latest binding */
	struct list_node *b = &t->inpt_porthash[porthash(lport)];
	inp->inp_porthash.ln_next = b->ln_next;
	inp->inp_porthash.ln_prev = b;
	b->ln_next->ln_prev = &inp->inp_porthash;
	b->ln_next = &inp->inp_porthash;
	if (inp->inp_fport == 0)
		in_pcbbindhash_insert(inp);
	inp->inp_socket->so_state |= SS_ISBOUND;
}

int
in_pcbbind(struct inpcb *inp, const struct sockaddr_in *sin)
{
	struct inpcbtable *t = inp->inp_table;
	struct socket *so = inp->inp_socket;
	struct rump_kernel *k = so->so_kernel;
	struct in_addr laddr = { INADDR_ANY };
	in_port_t lport = 0;
	bool group = false;

	if (inp->inp_lport != 0)
		return EINVAL;
	if (sin != NULL) {
		laddr = sin->sin_addr;
		lport = sin->sin_port;
		/*
		 * A group or a broadcast address of ours (the limited one,
		 * an interface's subnet broadcast) is allowed, as Linux's
		 * inet_bind() allows RTN_MULTICAST and RTN_BROADCAST, without
		 * SO_BROADCAST: the socket hears what goes to it
		 */
		if (laddr.s_addr != INADDR_ANY) {
			if (in_groupaddr(k, laddr))
				group = true;
			else if (in_ifaddr_lookup(k, laddr) == NULL)
				return EADDRNOTAVAIL;
		}
	}
	if (lport != 0) {
		if (in_pcbport_conflict(t, inp, laddr, lport))
			return EADDRINUSE;
		in_pcbsetport(inp, laddr, lport);
		inp->inp_flags |= INP_BOUNDPORT;
	} else {
		/* an ephemeral port, from a random point of the dynamic range */
		unsigned tries;

		for (tries = 0; tries < IPPORT_EPHEMERALSPAN; tries++) {
			in_port_t p = htons(in_pcbnextport(t));

			if (!in_pcbport_conflict(t, inp, laddr, p)) {
				in_pcbsetport(inp, laddr, p);
				break;
			}
		}
		/* as Linux's inet_csk_get_port(): none free */
		if (tries == IPPORT_EPHEMERALSPAN)
			return EADDRINUSE;
	}
	if (laddr.s_addr != INADDR_ANY)
		inp->inp_flags |= INP_BOUNDADDR;
	if (group)
		inp->inp_flags |= INP_GROUPADDR;
	return 0;
}

/*
 * An ephemeral port, bound to the wildcard as in_pcbbind() would, for a
 * datagram PCB about to connect from laddr to sin: one whose replies
 * reach this instance (in_pcbrss_ok()).
 */
static int
in_pcbbind_dgram_connect(struct inpcb *inp, struct in_addr laddr,
    const struct sockaddr_in *sin)
{
	struct inpcbtable *t = inp->inp_table;
	struct in_addr any = { INADDR_ANY };

	for (unsigned tries = 0; tries < IPPORT_EPHEMERALSPAN; tries++) {
		in_port_t p = htons(in_pcbnextport(t));

		if (in_pcbrss_ok(inp, laddr, p, sin) &&
		    !in_pcbport_conflict(t, inp, any, p)) {
			in_pcbsetport(inp, any, p);
			return 0;
		}
	}
	return EAGAIN;		/* as Linux's inet_autobind() */
}

/*
 * May a connection from laddr:lport to sin take port lport?  Only
 * sockets bound to it without a peer (a listener, a bound socket) stand
 * in the way; connections share the port as long as their 4-tuples
 * differ, as Linux's connect() allows.  A connection in TIME-WAIT with
 * the same 4-tuple gives way when its protocol can recycle it safely
 * (inpt_reclaim: TCP with timestamps, RFC 6191).
 */
static bool
in_pcbconnect_port_ok(struct inpcbtable *t, struct inpcb *self,
    struct in_addr laddr, in_port_t lport, const struct sockaddr_in *sin)
{
	struct list_node *b = &t->inpt_bindhash[porthash(lport)], *ln;
	struct inpcb *o;

again:
	for (ln = b->ln_next; ln != b; ln = ln->ln_next) {
		o = container_of(ln, struct inpcb, inp_bindhash);
		if (o == self || o->inp_lport != lport)
			continue;
		if (o->inp_laddr.s_addr == laddr.s_addr ||
		    o->inp_laddr.s_addr == INADDR_ANY)
			return false;
	}
	o = in_pcblookup_connect(t, sin->sin_addr, sin->sin_port, laddr, lport,
	    0);
	if (o == NULL)
		return true;
	if (o->inp_socket != NULL || t->inpt_reclaim == NULL ||
	    !t->inpt_reclaim(o))
		return false;
	/*
	 * recycled; but freeing it may have let the net lock go (waiting
	 * for a timer running on another vCPU), and another socket may
	 * have taken the port or the 4-tuple meanwhile: look again
	 */
	goto again;
}

/*
 * An ephemeral port for a stream connection to sin (RFC 6056 3.3.1) whose
 * replies reach this instance (in_pcbrss_ok()).
 */
int
in_pcbbind_connect(struct inpcb *inp, struct in_addr laddr,
    const struct sockaddr_in *sin)
{
	struct inpcbtable *t = inp->inp_table;

	for (unsigned tries = 0; tries < IPPORT_EPHEMERALSPAN; tries++) {
		in_port_t p = htons(in_pcbnextport(t));

		if (in_pcbrss_ok(inp, laddr, p, sin) &&
		    in_pcbconnect_port_ok(t, inp, laddr, p, sin)) {
			in_pcbsetport(inp, inp->inp_laddr, p);
			return 0;
		}
	}
	return EADDRNOTAVAIL;
}

unsigned
in_pathmtu(struct inpcb *inp)
{
	struct netstack *ns = inp->inp_socket->so_kernel->k_net;
	struct ifnet *ifp;
	struct in_addr nexthop;

	if (ip_route_oif(ns, inp->inp_laddr, inp->inp_faddr, inp->inp_bindif,
	    &ifp, &nexthop) != 0)
		return 0;
	return ip_pmtu_min(ns, inp->inp_faddr, ifp->if_mtu, NULL);
}

int
in_selectsrc(struct rump_kernel *k, struct in_addr dst, unsigned oif,
    struct in_addr *src)
{
	struct netstack *ns = k->k_net;
	struct rtentry *rt;
	struct in_ifaddr *ia = NULL;
	struct in_addr nexthop;
	struct ifnet *ifp;
	int error;

	if (oif != 0) {
		/* SO_BINDTODEVICE: its address, unless dst is ours */
		if ((error = ip_route_oif(ns, (struct in_addr){ INADDR_ANY },
		    dst, oif, &ifp, &nexthop)) != 0)
			return error;
		if (in_ifaddr_lookup(k, dst) != NULL) {
			*src = dst;
			return 0;
		}
		if ((ia = in_ifaddr_of(ifp)) == NULL)
			return EADDRNOTAVAIL;
	} else if (dst.s_addr == htonl(INADDR_BROADCAST)) {
		if ((ia = ip_lbcast_ifa(ns, (struct in_addr){ INADDR_ANY })) ==
		    NULL)
			return ENETUNREACH;
	} else if ((rt = rt_lookup(&ns->ns_rt, dst.s_addr)) != NULL) {
		if (rt->rt_flags & RTF_LOCAL) {
			/* to ourselves: from the same address, as BSD does */
			*src = dst;
			return 0;
		}
		if ((ifp = ip_rt_ifp(ns, rt)) != NULL)
			ia = in_ifaddr_of(ifp);
	}
	if (ia == NULL)
		return EHOSTUNREACH;
	*src = ia->ia_addr;
	return 0;
}

int
in_pcbconnect(struct inpcb *inp, const struct sockaddr_in *sin)
{
	struct inpcbtable *t = inp->inp_table;
	struct socket *so = inp->inp_socket;
	struct in_addr laddr = inp->inp_laddr;
	int error;

	if (sin->sin_family != AF_INET)
		return EAFNOSUPPORT;
	if (sin->sin_port == 0)
		return EADDRNOTAVAIL;
	if ((sin->sin_addr.s_addr == htonl(INADDR_BROADCAST) ||
	    in_broadcast(sin->sin_addr, NULL)) &&
	    !(so->so_options & SOO_BROADCAST))
		return EACCES;
	/* to a group: IP_MULTICAST_IF's address first, as BSD */
	if (laddr.s_addr == INADDR_ANY &&
	    !(IN_MULTICAST(ntohl(sin->sin_addr.s_addr)) &&
	    in_mcast_src(inp, &laddr)) &&
	    (error = in_selectsrc(so->so_kernel, sin->sin_addr, inp->inp_bindif,
	    &laddr)) != 0)
		return error;
	if (inp->inp_lport == 0 && t->inpt_stream) {
		/* it chose a port whose 4-tuple is free */
		if ((error = in_pcbbind_connect(inp, laddr, sin)) != 0)
			return error;
	} else if (inp->inp_lport == 0) {
		if ((error = in_pcbbind_dgram_connect(inp, laddr, sin)) != 0)
			return error;
	} else if (t->inpt_stream && in_pcblookup_connect(t, sin->sin_addr,
	    sin->sin_port, laddr, inp->inp_lport, 0) != NULL)
		return EADDRINUSE;
	if (list_linked(&inp->inp_hash4))
		list_remove(&inp->inp_hash4);
	inp->inp_laddr = laddr;
	inp->inp_faddr = sin->sin_addr;
	inp->inp_fport = sin->sin_port;
	if (list_linked(&inp->inp_bindhash))
		list_remove(&inp->inp_bindhash);
	list_insert_tail(&t->inpt_hash4[hash4(inp->inp_faddr, inp->inp_fport,
	    inp->inp_lport)], &inp->inp_hash4);
	so->so_state |= SS_ISCONNECTED;
	return 0;
}

void
in_pcbsetconnected(struct inpcb *inp, struct in_addr laddr, in_port_t lport,
    struct in_addr faddr, in_port_t fport)
{
	struct inpcbtable *t = inp->inp_table;

	KASSERT(inp->inp_lport == 0);
	inp->inp_faddr = faddr;
	inp->inp_fport = fport;		/* first: no bindhash entry */
	in_pcbsetport(inp, laddr, lport);
	list_insert_tail(&t->inpt_hash4[hash4(faddr, fport, lport)],
	    &inp->inp_hash4);
}

void
in_pcbdisconnect(struct inpcb *inp)
{
	if (list_linked(&inp->inp_hash4))
		list_remove(&inp->inp_hash4);
	inp->inp_faddr.s_addr = INADDR_ANY;
	inp->inp_fport = 0;
	/*
	 * as Linux's __udp_disconnect(): the source address connect()
	 * chose goes (the socket hears all its host's addresses again),
	 * and so does a port bind() did not name
	 */
	if (!(inp->inp_flags & INP_BOUNDADDR))
		inp->inp_laddr.s_addr = INADDR_ANY;
	if (!(inp->inp_flags & INP_BOUNDPORT) && inp->inp_lport != 0 &&
	    inp->inp_pend == NULL) {	/* (a corked datagram keeps it) */
		in_pcbunhash_port(inp);
		inp->inp_lport = 0;
		inp->inp_socket->so_state &= ~SS_ISBOUND;
	}
	if (inp->inp_lport != 0 && !list_linked(&inp->inp_bindhash))
		in_pcbbindhash_insert(inp);
	inp->inp_socket->so_state &= ~SS_ISCONNECTED;
}

struct inpcb *
in_pcblookup_connect(struct inpcbtable *t, struct in_addr faddr,
    in_port_t fport, struct in_addr laddr, in_port_t lport, unsigned ifindex)
{
	struct list_node *b = &t->inpt_hash4[hash4(faddr, fport, lport)], *ln;

	for (ln = b->ln_next; ln != b; ln = ln->ln_next) {
		struct inpcb *inp = container_of(ln, struct inpcb, inp_hash4);

		if (inp->inp_faddr.s_addr == faddr.s_addr &&
		    inp->inp_fport == fport && inp->inp_lport == lport &&
		    inp->inp_laddr.s_addr == laddr.s_addr &&
		    in_pcb_ifok(inp, ifindex))
			return inp;
	}
	return NULL;
}

struct inpcb *
in_pcblookup_bind_if(struct inpcbtable *t, struct in_addr laddr,
    in_port_t lport, unsigned ifindex, bool (*ok)(const struct inpcb *))
{
	struct list_node *b = &t->inpt_bindhash[porthash(lport)], *ln;
	struct inpcb *best = NULL;
	int score, bestscore = -1;

	for (ln = b->ln_next; ln != b; ln = ln->ln_next) {
		struct inpcb *inp = container_of(ln, struct inpcb,
		    inp_bindhash);

		if (inp->inp_lport != lport || !in_pcb_ifok(inp, ifindex) ||
		    (ok != NULL && !ok(inp)))
			continue;
		if (inp->inp_laddr.s_addr == laddr.s_addr)
			score = 2;
		else if (inp->inp_laddr.s_addr == INADDR_ANY)
			score = 0;
		else
			continue;
		if (inp->inp_bindif != 0)
			score++;
		if (score > bestscore) {
			best = inp;
			bestscore = score;
			if (score == 3)
				break;
		}
	}
	return best;
}

/* One round of a 32-bit mixer (the finaliser of MurmurHash3). */
static uint32_t
flowmix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* Is inp in first's SO_REUSEPORT group, and may it hear this? */
static bool
in_pcbgroup_member(const struct inpcb *inp, const struct inpcb *first,
    unsigned ifindex, bool (*ok)(const struct inpcb *))
{
	return inp->inp_lport == first->inp_lport &&
	    inp->inp_laddr.s_addr == first->inp_laddr.s_addr &&
	    inp->inp_bindif == first->inp_bindif &&
	    inp->inp_socket != NULL &&
	    (inp->inp_socket->so_options & SOO_REUSEPORT) &&
	    in_pcb_ifok(inp, ifindex) && (ok == NULL || ok(inp));
}

struct inpcb *
in_pcblookup_bind_flow(struct inpcbtable *t, struct in_addr laddr,
    in_port_t lport, unsigned ifindex, bool (*ok)(const struct inpcb *),
    struct in_addr faddr, in_port_t fport)
{
	struct inpcb *first = in_pcblookup_bind_if(t, laddr, lport, ifindex,
	    ok);
	struct list_node *b = &t->inpt_bindhash[porthash(lport)], *ln;
	unsigned n = 0, pick;
	uint32_t h;

	if (first == NULL || first->inp_socket == NULL ||
	    !(first->inp_socket->so_options & SOO_REUSEPORT))
		return first;
	for (ln = b->ln_next; ln != b; ln = ln->ln_next)
		if (in_pcbgroup_member(container_of(ln, struct inpcb,
		    inp_bindhash), first, ifindex, ok))
			n++;
	if (n <= 1)
		return first;
	h = flowmix(t->inpt_flowkey ^ faddr.s_addr);
	h = flowmix(h ^ (((uint32_t)fport << 16) | lport));
	pick = (unsigned)(((uint64_t)h * n) >> 32);	/* 0..n-1 */
	for (ln = b->ln_next; ln != b; ln = ln->ln_next) {
		struct inpcb *inp = container_of(ln, struct inpcb,
		    inp_bindhash);

		if (in_pcbgroup_member(inp, first, ifindex, ok) &&
		    pick-- == 0)
			return inp;
	}
	return first;	/* not reached: the group counted n */
}

void
in_pcbgroup_foreach(struct inpcb *inp, bool (*ok)(const struct inpcb *),
    void (*fn)(struct inpcb *, void *), void *arg)
{
	struct list_node *b =
	    &inp->inp_table->inpt_bindhash[porthash(inp->inp_lport)], *ln;

	for (ln = b->ln_next; ln != b; ln = ln->ln_next) {
		struct inpcb *o = container_of(ln, struct inpcb, inp_bindhash);

		if (in_pcbgroup_member(o, inp, 0, ok))
			fn(o, arg);
	}
}

void
in_pcbforeach_port(struct inpcbtable *t, in_port_t lport,
    void (*fn)(struct inpcb *, void *), void *arg)
{
	struct list_node *b = &t->inpt_porthash[porthash(lport)], *ln, *next;

	for (ln = b->ln_next; ln != b; ln = next) {
		struct inpcb *inp = container_of(ln, struct inpcb,
		    inp_porthash);

		next = ln->ln_next;
		if (inp->inp_lport == lport)
			fn(inp, arg);
	}
}
