/*
 * if_arp.h -- ARP (RFC 826) for IPv4 over Ethernet.
 *
 * Entries are INCOMPLETE while resolving (requests every second, at most
 * ARP_MAXTRIES, up to ARP_MAXHOLD packets held), REACHABLE for
 * at_reachable_ms after a confirmation, then STALE (still used; the next
 * use sends a request, and an entry not confirmed within ARP_MAXTRIES
 * seconds after that is removed; one not used for ARP_STALE_MS is
 * removed too), or STATIC.  A reply or request creates an entry only when
 * it is addressed to us (RFC 826 "merge" otherwise updates existing
 * entries only): unsolicited replies never create entries.
 *
 * A full table makes room for a new entry (RFC 1122 2.3.2.1: out-of-date
 * entries must be flushed): the STALE entry confirmed longest ago goes,
 * else the REACHABLE one confirmed longest ago, if that was at least
 * ARP_EVICT_MIN_MS ago (so a flood of requests with new sender addresses
 * cannot churn the entries in use).  INCOMPLETE and STATIC entries stay.
 */
#ifndef NETINET_IF_ARP_H
#define NETINET_IF_ARP_H

#include "kern/libkern.h"
#include "kern/mbuf.h"
#include "netinet/in.h"

struct ifnet;
struct rump_kernel;

#define ARPHRD_ETHER 1
#define ARPOP_REQUEST 1
#define ARPOP_REPLY 2

/* An Ethernet/IPv4 ARP packet (RFC 826), 28 bytes. */
struct ether_arp {
	uint16_t ar_hrd;
	uint16_t ar_pro;
	uint8_t ar_hln;
	uint8_t ar_pln;
	uint16_t ar_op;
	uint8_t arp_sha[6];
	uint8_t arp_spa[4];
	uint8_t arp_tha[6];
	uint8_t arp_tpa[4];
} __attribute__((__packed__));

#define ARP_MAXENTRIES 1024
#define ARP_NBUCKETS 256
#define ARP_MAXHOLD 16
#define ARP_MAXTRIES 3
#define ARP_REACHABLE_MS (1200 * 1000)	/* as NetBSD's arpt_keep */
#define ARP_STALE_MS (1200 * 1000)	/* STALE and unused: removed */
#define ARP_EVICT_MIN_MS 5000		/* as Linux's forced GC */

enum arp_state { ARP_FREE, ARP_INCOMPLETE, ARP_REACHABLE, ARP_STALE,
    ARP_STATIC };

struct arp_entry {
	enum arp_state ae_state;
	struct in_addr ae_addr;
	struct ifnet *ae_ifp;
	uint8_t ae_mac[6];
	uint64_t ae_expire_ms;		/* next state change or request */
	uint64_t ae_confirmed_ms;	/* last confirmation */
	unsigned ae_asked;		/* requests sent in this probe */
	struct mbuf *ae_hold;		/* packets waiting, via m_nextpkt */
	struct mbuf *ae_hold_tail;
	unsigned ae_nhold;
	int ae_next;			/* hash chain or free list, -1 ends */
};

struct arpstat {
	uint64_t as_rcvtotal;		/* ARP packets received */
	uint64_t as_rcvbadlen;		/* too short */
	uint64_t as_rcvbadproto;	/* not Ethernet/IPv4 or bad op */
	uint64_t as_rcvlocalsha;	/* sender MAC is ours */
	uint64_t as_rcvbcastsha;	/* sender MAC is broadcast/multicast */
	uint64_t as_rcvzerospa;		/* sender address 0 (probe): not merged */
	uint64_t as_rcvdupaddr;		/* someone else claims our address */
	uint64_t as_rcvrequests;
	uint64_t as_rcvreplies;
	uint64_t as_rcvnotours;		/* neither for us nor in the table */
	uint64_t as_sendrequests;
	uint64_t as_sendreplies;
	uint64_t as_sendgarp;		/* gratuitous announcements */
	uint64_t as_holddropped;	/* held packets dropped: queue full */
	uint64_t as_timeouts;		/* resolutions that failed */
	uint64_t as_timeoutdropped;	/* held packets dropped with them */
	uint64_t as_tablefull;		/* no free entry, none to evict */
	uint64_t as_evicted;		/* entries taken for a new one */
	uint64_t as_expired;		/* STALE entries removed unused */
	uint64_t as_nobufs;		/* no mbuf for a request or reply */
	uint64_t as_entries;		/* entries created */
};

struct arptable {
	struct arp_entry at_entries[ARP_MAXENTRIES];
	int at_bucket[ARP_NBUCKETS];	/* hash chains by address */
	int at_free;			/* free list */
	unsigned at_n;			/* entries in use */
	uint64_t at_reachable_ms;
	struct arpstat at_stat;
};

void arp_init(struct arptable *at);
void arp_fini(struct arptable *at);
/* arp_input: an ARP frame, Ethernet header removed.  Consumes m. */
void arp_input(struct ifnet *ifp, struct mbuf *m);
/*
 * arpresolve: the MAC of next hop dst on ifp.  Returns 0 with *mac filled;
 * EWOULDBLOCK when m was queued while resolving (consumed); EHOSTDOWN
 * when the host did not answer recently (m freed).  ENOBUFS: table full
 * (m freed).
 */
int arpresolve(struct ifnet *ifp, struct in_addr dst, struct mbuf *m,
    uint8_t *mac);
/* arp_timer: run every second by the net slow timer. */
void arp_timer(struct rump_kernel *k, uint64_t now_ms);
/* arp_announce: send a gratuitous ARP request for addr on ifp. */
void arp_announce(struct ifnet *ifp, struct in_addr addr);
/* arp_add_static / arp_delete: configuration (0, ENOBUFS, ESRCH). */
int arp_add_static(struct ifnet *ifp, struct in_addr addr, const uint8_t *mac);
int arp_delete(struct rump_kernel *k, struct in_addr addr);
/* arp_purge_ifp: drop every entry on ifp (and their held packets). */
void arp_purge_ifp(struct rump_kernel *k, struct ifnet *ifp);
/* arp_lookup: the entry for addr, or NULL (for tests and stats). */
struct arp_entry *arp_lookup(struct rump_kernel *k, struct in_addr addr);

#endif /* NETINET_IF_ARP_H */
