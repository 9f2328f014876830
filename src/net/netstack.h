/*
 * netstack.h -- the network state of one instance (k->k_net): interfaces,
 * addresses, routes, ARP, IPv4, ICMP, and the softnet machinery.
 *
 * Locking: ns_lock (a kernel mutex) serialises the network stack of an
 * instance across its vCPUs: softnet processing and the configuration API
 * take it.  The production shape is one vCPU per instance (DESIGN.md,
 * "Multi-core"), where it is never contended and, with -Dlocks=up, costs a
 * plain load and store.
 */
#ifndef NET_NETSTACK_H
#define NET_NETSTACK_H

#include "kern/libkern.h"
#include "kern/callout.h"
#include "kern/list.h"
#include "kern/mutex.h"
#include "net/if.h"
#include "net/route.h"
#include "net/rss.h"
#include "netinet/if_arp.h"
#include "netinet/igmp_var.h"
#include "netinet/ip_icmp.h"
#include "netinet/ip_pmtu.h"
#include "netinet/ip_reass.h"
#include "netinet/ip_var.h"

#define NS_INQ_MAXLEN 1024	/* frames waiting for softnet, per vCPU */
#define NS_SOFTNET_BATCH 256	/* frames one softnet run takes */
#define NS_SOCKET_LIMIT 65536	/* default of rump_kernel_config.socket_limit */

/*
 * RSS (DESIGN.md "Multi-core"): the instance is the owner of queue
 * nr_instance of nr_ninstances that share its ports' receive queues
 * (rump_rss_set()).  A connection's ephemeral port is chosen so that
 * the NIC hashes its replies to that queue (in_pcb.c).
 */
struct ns_rss {
	struct rss_key nr_key;			/* tables of nr_keybytes */
	uint8_t nr_keybytes[RSS_KEY_LEN];
	uint16_t nr_reta[RSS_RETA_SIZE];	/* each < nr_ninstances */
	unsigned nr_instance;			/* in nr_reta at least once */
	unsigned nr_ninstances;			/* 2 or more */
};

struct netstack {
	struct rump_kernel *ns_kernel;		/* [I] */
	kmutex_t ns_lock;
	struct list_node ns_ifnets;		/* [ns_lock] struct ifnet */
	struct ifnet *ns_loif;			/* [ns_lock] lo0 (if_loop.c) */
	unsigned ns_nextindex;			/* [ns_lock] */
	struct list_node ns_ifaddrs;		/* [ns_lock] struct in_ifaddr */
	struct rtable ns_rt;			/* [ns_lock] */
	struct arptable ns_arp;			/* [ns_lock] */
	struct ip_reass ns_reass;		/* [ns_lock] */
	struct ip_pmtu_cache ns_pmtu;		/* [ns_lock] path MTUs */
	struct ipstat ns_ipstat;		/* [ns_lock] */
	struct icmpstat ns_icmpstat;		/* [ns_lock] */
	struct icmp_ratelim ns_icmp_rl;		/* [ns_lock] */
	struct icmp_echo_seen ns_echo;		/* [ns_lock] */
	struct igmpstat ns_igmpstat;		/* [ns_lock] */
	callout_t ns_igmptimer;			/* IGMP's report timers */
	uint16_t ns_ip_id;			/* [ns_lock] next IP id */
	bool ns_forwarding;			/* [ns_lock] IPv4 router */
	void *ns_softnet;			/* [I] softint cookie */
	struct ifqueue *ns_inq;			/* [C] per vCPU input queues */
	callout_t ns_slowtimer;			/* 1 s: ARP, reassembly */
	kcondvar_t ns_pollcv;			/* some socket became ready */
	unsigned ns_npollers;			/* [ns_lock] poll() sleepers */
	struct inpcbtable *ns_udbtable;		/* [ns_lock] UDP's PCBs */
	struct udpstat *ns_udpstat;		/* [ns_lock] */
	struct tcp_state *ns_tcp;		/* [ns_lock] TCP's PCBs, stats */
	struct rip_state *ns_raw;		/* [ns_lock] raw sockets, stats */
	struct sockfd_table *ns_fds;		/* [ns_lock] descriptors */
	/*
	 * Sockets, at most k_cfg.socket_limit (soalloc()), and the PCBs of
	 * UDP and TCP (in_pcballoc()): one per socket at most, plus those
	 * of TCP connections in TIME-WAIT, which keep no socket
	 */
	struct pool_cache *ns_sopool;		/* [I] */
	struct pool_cache *ns_pcbpool;		/* [I] */
	struct ns_rss *ns_rss;			/* [ns_lock] NULL: no RSS */
	/*
	 * ACKs held for the next poll pass.  The ACK of a SYN-ACK, and of a
	 * FIN in ESTABLISHED, is not sent at once (as the BSDs do) while an
	 * interface of this instance has a poll loop that flushes them
	 * (if_ackpass): the connection goes on ns_ackpass, and whatever it
	 * sends first carries the ACK (the request written after connect()
	 * returns, the FIN of the close() after reading the end), or the
	 * next pass of a poll loop, or of a busy poller that waits, sends
	 * it alone (netstack_ackpass_flush()), or its delayed-ACK timer
	 * does.  The connections of a busy poller have had their turn by
	 * then (it polls before sending without flushing: NS_POLL_SEND),
	 * and so have those of fibers in fiber mode, whose loop passes
	 * again once the fibers it woke have run; others may not have (the
	 * ACK then goes alone, a pass later than before).  A crr
	 * transaction takes 7 frames instead of 9.  Linux holds the
	 * handshake's ACK when a write is pending and a FIN's in its
	 * ping-pong mode, both bounded by its delayed-ACK timer (RFC 1122
	 * 4.2.3.2 allows delaying an ACK, by less than 0.5 s).
	 * ns_ackpass_n mirrors the list's length for a look without the
	 * lock.
	 */
	struct list_node ns_ackpass;		/* [ns_lock] struct tcpcb */
	_Atomic unsigned ns_ackpass_n;		/* [ns_lock] to write */
	unsigned ns_ackpass_ifs;		/* [ns_lock] if_ackpass ifnets */
};

/* loop_attach: make lo0 with 127.0.0.1/8 (netstack_init). */
int loop_attach(struct rump_kernel *k);

/* netstack_init/fini: called by instance creation/destruction on a vCPU. */
int netstack_init(struct rump_kernel *k);
void netstack_fini(struct rump_kernel *k);

/*
 * netstack_poll: busy polling (SO_BUSY_POLL).  Take what the interfaces
 * that can be polled have received and run it through the stack here,
 * on the calling LWP, instead of waiting for their receive threads and
 * softnet.  Net lock held.  Returns the frames processed, or -1 when a
 * driver's receive thread holds frames it needs this vCPU to hand up
 * (the poller should sleep and let it).  First the ACKs held for the
 * next pass go (ns_ackpass), unless flags has NS_POLL_SEND: the caller
 * is about to send, and what it sends carries its connection's ACK.
 * netstack_poll_done: the poller stops; the receive threads take over.
 */
#define NS_POLL_SEND 0x1
int netstack_poll(struct netstack *ns, int flags);
void netstack_poll_done(struct netstack *ns);

/*
 * netstack_ackpass_flush: send the ACKs held on ns_ackpass (net lock
 * held).  netstack_ackpass_pending: whether there are any (a hint, read
 * without the lock).
 */
void netstack_ackpass_flush(struct netstack *ns);

static inline bool
netstack_ackpass_pending(struct netstack *ns)
{
	return atomic_load_explicit(&ns->ns_ackpass_n,
	    memory_order_relaxed) != 0;
}

/* The slow timer's period and what it drives. */
#define NS_SLOWTIMO_TICKS 1000

#endif /* NET_NETSTACK_H */
