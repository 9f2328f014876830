/*
 * common.h -- what every rumpnet app shares: the network options of the
 * command line and bringing an instance up on a DPDK port with them.
 *
 * Common options (APP_NET_LONGOPTS, described by app_net_usage):
 *   --dpdk "<EAL args>"   EAL arguments (default RUMP_DPDK_DEFAULT_EAL)
 *   --port NAME           the DPDK port (default: port 0)
 *   --addr A.B.C.D/N      the interface address (required by most apps)
 *   --gw A.B.C.D          default gateway
 *   --arp A.B.C.D=MAC     a static ARP entry (may repeat)
 *   --pcap FILE           capture the interface's frames
 *   --softint inline|threads
 *   --idle busy|sleep     poll loop when no frame comes (default sleep)
 *   --cpu N               pin the poll loop to host CPU N
 *   --impair SPEC         loss=P,duplicate=P,corrupt=P,delay=MS,jitter=MS,
 *                         reorder=P,reorder_delay=MS,seed=N: applied to
 *                         frames received and sent
 *   --tx-copy             copy on transmit (default: zero copy)
 *   --ack-now             TCP ACKs a SYN-ACK or a FIN at once (default:
 *                         with the next thing sent, or the loop's next
 *                         pass)
 *   --virtual-offload     the link is memory only with rumpnet at both ends
 *   --mtu N
 *   --cores A,B,...       servers: one instance per CPU, all on the port
 *                         (queue pair i each; software RSS dispatch by
 *                         queue 0), each listening; perf both: a closed
 *                         pair per CPU
 *   --fibers              the poll loop runs as a fiber of the application's
 *                         thread; apps that serve connections run one fiber
 *                         per connection there (rump_fiber_spawn())
 *
 * Apps are plain programs on the public API (the headers in
 * include/rumpnet): they include no kernel header.
 */
#ifndef APPS_COMMON_H
#define APPS_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rumpnet/dpdk.h"
#include "rumpnet/kernel.h"
#include "rumpnet/net.h"

enum {
	APP_OPT_DPDK = 0x1000,
	APP_OPT_PORT,
	APP_OPT_ADDR,
	APP_OPT_GW,
	APP_OPT_ARP,
	APP_OPT_PCAP,
	APP_OPT_SOFTINT,
	APP_OPT_IDLE,
	APP_OPT_CPU,
	APP_OPT_IMPAIR,
	APP_OPT_TXCOPY,
	APP_OPT_VOFFLOAD,
	APP_OPT_MTU,
	APP_OPT_FIBERS,
	APP_OPT_CORES,
	APP_OPT_CC,
	APP_OPT_TCP,
	APP_OPT_ACKNOW,
};

#define APP_NET_LONGOPTS						\
	{ "dpdk", required_argument, 0, APP_OPT_DPDK },			\
	{ "port", required_argument, 0, APP_OPT_PORT },			\
	{ "addr", required_argument, 0, APP_OPT_ADDR },			\
	{ "gw", required_argument, 0, APP_OPT_GW },			\
	{ "arp", required_argument, 0, APP_OPT_ARP },			\
	{ "pcap", required_argument, 0, APP_OPT_PCAP },			\
	{ "softint", required_argument, 0, APP_OPT_SOFTINT },		\
	{ "idle", required_argument, 0, APP_OPT_IDLE },			\
	{ "cpu", required_argument, 0, APP_OPT_CPU },			\
	{ "impair", required_argument, 0, APP_OPT_IMPAIR },		\
	{ "tx-copy", no_argument, 0, APP_OPT_TXCOPY },			\
	{ "virtual-offload", no_argument, 0, APP_OPT_VOFFLOAD },	\
	{ "mtu", required_argument, 0, APP_OPT_MTU },			\
	{ "fibers", no_argument, 0, APP_OPT_FIBERS },			\
	{ "cores", required_argument, 0, APP_OPT_CORES },		\
	{ "cc", required_argument, 0, APP_OPT_CC },			\
	{ "tcp", required_argument, 0, APP_OPT_TCP },			\
	{ "ack-now", no_argument, 0, APP_OPT_ACKNOW }

#define APP_MAX_ARP 16
#define APP_MAX_CORES 16
#define APP_MAX_TCP 8

struct app_net_opts {
	const char *dpdk;		/* EAL arguments, NULL: default */
	const char *port;		/* NULL: "0" */
	const char *addr;		/* "198.18.0.2/24", NULL: none */
	const char *gw;			/* NULL: none */
	const char *pcap;		/* NULL: none */
	const char *impair;		/* NULL: none */
	enum rump_softint_mode softint;
	enum rump_dpdk_idle idle;
	int cpu;			/* -1: not pinned */
	unsigned mtu;			/* 0: the port's */
	bool tx_copy;
	bool ack_now;			/* rump_dpdk_config.ack_now */
	bool virtual_offload;
	bool fibers;			/* poll loop: a fiber of the app's thread */
	unsigned ncores;		/* --cores: 0 none */
	int cores[APP_MAX_CORES];
	unsigned queue, nqueues;	/* the port's queue pair (0, 0: 1) */
	bool dispatch;			/* software RSS over nqueues instances */
	unsigned narp;
	uint32_t arp_addr[APP_MAX_ARP];
	uint8_t arp_mac[APP_MAX_ARP][6];
	const char *cc;			/* --cc: NULL, the instance's default */
	unsigned ntcp;			/* --tcp NAME=VALUE */
	char tcp_name[APP_MAX_TCP][32];
	int tcp_value[APP_MAX_TCP];
};

/* One instance on one port, up and addressed. */
struct app_net {
	struct rump_kernel *k;
	unsigned ifindex;
	uint32_t addr;			/* network byte order */
	unsigned plen;
};

extern const char app_net_usage[];

void app_net_opts_default(struct app_net_opts *o);
/*
 * app_net_getopt: handle getopt_long's result c (with optarg arg) when it
 * is a common option.  Returns 1 (handled), 0 (not a common option) or -1
 * (bad value: a message is on stderr).
 */
int app_net_getopt(struct app_net_opts *o, int c, const char *arg);

/*
 * app_impair_parse: the --impair SPEC into *ic (times in milliseconds).
 * Returns 0, or EINVAL after a message on stderr.
 */
int app_impair_parse(const char *spec, struct rump_impair_config *ic);

/*
 * app_net_start: initialise the EAL (once per process), create an
 * instance, attach the port, set MTU, address, gateway, static ARP
 * entries, capture and impairment, bring the interface up, and bind the
 * calling thread to the instance.  With --fibers the poll loop is a fiber
 * of the calling thread (pinned to --cpu), which runs it whenever it
 * blocks in rumpnet or calls rump_fiber_run().  Returns 0 or an errno value after
 * printing what failed.
 */
int app_net_start(const struct app_net_opts *o, struct app_net *net);
/*
 * app_net_core_opts: the options of instance i of --cores: queue pair i
 * of ncores with dispatch, poll loop (and, with --fibers, everything) on
 * CPU cores[i].
 */
void app_net_core_opts(const struct app_net_opts *o, unsigned i,
    struct app_net_opts *oi);
/*
 * app_run_instances: run fn once per instance of o (--cores: one each,
 * in a thread of its own; else one, on the calling thread) and return
 * when all have returned.  args is an array of n = max(ncores, 1)
 * records of argsize bytes, each holding its struct app_net_opts at
 * offset optsoff, which this fills in (app_net_core_opts()); fn gets a
 * pointer to its record.  Returns 0 (exits when no thread can be made).
 */
int app_run_instances(const struct app_net_opts *o, void *args,
    size_t argsize, size_t optsoff, void *(*fn)(void *));
/* app_pin_cpu: pin the calling thread to host CPU cpu.  0 or an errno. */
int app_pin_cpu(int cpu);
/* app_net_stop: unbind the calling thread, destroy the instance. */
void app_net_stop(struct app_net *net);

/*
 * app_stats_print: every counter of the instance whose name starts with
 * one of the comma-separated prefixes (NULL: all) and is not zero, one
 * "name value" per line.
 */
void app_stats_print(FILE *f, struct rump_kernel *k, const char *prefixes);

/* app_now_ns: the host's monotonic clock. */
uint64_t app_now_ns(void);

#endif /* APPS_COMMON_H */
