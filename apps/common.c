/*
 * common.c -- the apps' network options and instance setup (common.h).
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char app_net_usage[] =
"network options:\n"
"  --dpdk \"ARGS\"         DPDK EAL arguments (default: \"" RUMP_DPDK_DEFAULT_EAL "\")\n"
"  --port NAME           DPDK port name or number (default: 0)\n"
"  --addr A.B.C.D/N      interface address\n"
"  --gw A.B.C.D          default gateway\n"
"  --arp A.B.C.D=MAC     static ARP entry (repeatable)\n"
"  --pcap FILE           capture the interface's frames to FILE\n"
"  --softint inline|threads  soft interrupt dispatch (default inline)\n"
"  --idle sleep|busy     poll loop with no traffic: spin then sleep, or spin\n"
"  --cpu N               pin the poll loop to host CPU N\n"
"  --impair SPEC         loss=P,duplicate=P,corrupt=P,delay=MS,jitter=MS,\n"
"                        reorder=P,reorder_delay=MS,seed=N (both directions)\n"
"  --mtu N               interface MTU\n"
"  --tx-copy             copy frames on transmit instead of attaching them\n"
"  --ack-now             TCP sends the ACK of a SYN-ACK or a FIN at once, as\n"
"                        the BSDs do (default: it goes with what the\n"
"                        application sends next, or the poll loop's next\n"
"                        pass)\n"
"  --virtual-offload     memory-only link with rumpnet at both ends: TSO and\n"
"                        checksums left out, as on Linux's veth\n"
"  --cores A,B,...       one instance per CPU on the port, flows spread by\n"
"                        software RSS (servers, perf's client; perf both:\n"
"                        a pair per CPU)\n"
"  --fibers              run the poll loop as a fiber of the application's\n"
"                        thread (and, in servers, a fiber per connection)\n"
"  --cc cubic|newreno    congestion control of new connections (default\n"
"                        cubic)\n"
"  --tcp NAME=VALUE      a TCP parameter of the instance, as the BSDs'\n"
"                        sysctl net.inet.tcp (repeatable): sack, rack, ecn,\n"
"                        syncookies, syncache_limit\n";

void
app_net_opts_default(struct app_net_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->softint = RUMP_SOFTINT_INLINE;
	o->idle = RUMP_DPDK_IDLE_SLEEP;
	o->cpu = -1;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
	    &v[5], &tail) != 6)
		return EINVAL;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *v > max || s[0] == '-')
		return EINVAL;
	return 0;
}

int
app_net_getopt(struct app_net_opts *o, int c, const char *arg)
{
	unsigned long v;
	struct in_addr in;

	switch (c) {
	case APP_OPT_DPDK:
		o->dpdk = arg;
		return 1;
	case APP_OPT_PORT:
		o->port = arg;
		return 1;
	case APP_OPT_ADDR: {
		uint32_t a;
		unsigned plen;

		if (rump_addr_parse(arg, &a, &plen) != 0) {
			fprintf(stderr, "--addr %s: not A.B.C.D/N\n", arg);
			return -1;
		}
		o->addr = arg;
		return 1;
	}
	case APP_OPT_GW:
		if (inet_pton(AF_INET, arg, &in) != 1) {
			fprintf(stderr, "--gw %s: not an IPv4 address\n", arg);
			return -1;
		}
		o->gw = arg;
		return 1;
	case APP_OPT_ARP: {
		char buf[64];
		char *eq;

		if (o->narp == APP_MAX_ARP) {
			fprintf(stderr, "--arp: at most %d entries\n",
			    APP_MAX_ARP);
			return -1;
		}
		snprintf(buf, sizeof(buf), "%s", arg);
		if ((eq = strchr(buf, '=')) == NULL)
			goto badarp;
		*eq = '\0';
		if (inet_pton(AF_INET, buf, &in) != 1 ||
		    parse_mac(eq + 1, o->arp_mac[o->narp]) != 0)
			goto badarp;
		o->arp_addr[o->narp++] = in.s_addr;
		return 1;
badarp:
		fprintf(stderr, "--arp %s: not A.B.C.D=xx:xx:xx:xx:xx:xx\n",
		    arg);
		return -1;
	}
	case APP_OPT_PCAP:
		o->pcap = arg;
		return 1;
	case APP_OPT_SOFTINT:
		if (strcmp(arg, "inline") == 0)
			o->softint = RUMP_SOFTINT_INLINE;
		else if (strcmp(arg, "threads") == 0)
			o->softint = RUMP_SOFTINT_THREADS;
		else {
			fprintf(stderr, "--softint %s: inline or threads\n",
			    arg);
			return -1;
		}
		return 1;
	case APP_OPT_IDLE:
		if (strcmp(arg, "sleep") == 0)
			o->idle = RUMP_DPDK_IDLE_SLEEP;
		else if (strcmp(arg, "busy") == 0)
			o->idle = RUMP_DPDK_IDLE_BUSY;
		else {
			fprintf(stderr, "--idle %s: sleep or busy\n", arg);
			return -1;
		}
		return 1;
	case APP_OPT_CPU:
		if (parse_uint(arg, 1023, &v) != 0) {
			fprintf(stderr, "--cpu %s: a CPU number\n", arg);
			return -1;
		}
		o->cpu = (int)v;
		return 1;
	case APP_OPT_IMPAIR: {
		struct rump_impair_config ic;

		if (app_impair_parse(arg, &ic) != 0)
			return -1;
		o->impair = arg;
		return 1;
	}
	case APP_OPT_TXCOPY:
		o->tx_copy = true;
		return 1;
	case APP_OPT_ACKNOW:
		o->ack_now = true;
		return 1;
	case APP_OPT_VOFFLOAD:
		o->virtual_offload = true;
		return 1;
	case APP_OPT_MTU:
		if (parse_uint(arg, 9000, &v) != 0 || v < 68) {
			fprintf(stderr, "--mtu %s: 68..9000\n", arg);
			return -1;
		}
		o->mtu = (unsigned)v;
		return 1;
	case APP_OPT_FIBERS:
		o->fibers = true;
		return 1;
	case APP_OPT_CC:
		if (strcmp(arg, "cubic") != 0 && strcmp(arg, "newreno") != 0) {
			fprintf(stderr, "--cc %s: cubic or newreno\n", arg);
			return -1;
		}
		o->cc = arg;
		return 1;
	case APP_OPT_TCP: {
		const char *eq = strchr(arg, '=');
		char *end;
		long val;

		if (o->ntcp == APP_MAX_TCP) {
			fprintf(stderr, "--tcp: at most %d\n", APP_MAX_TCP);
			return -1;
		}
		if (eq == NULL || eq == arg ||
		    (size_t)(eq - arg) >= sizeof(o->tcp_name[0]))
			goto badtcp;
		errno = 0;
		val = strtol(eq + 1, &end, 10);
		if (errno != 0 || end == eq + 1 || *end != '\0' ||
		    val < INT_MIN || val > INT_MAX)
			goto badtcp;
		memcpy(o->tcp_name[o->ntcp], arg, (size_t)(eq - arg));
		o->tcp_name[o->ntcp][eq - arg] = '\0';
		o->tcp_value[o->ntcp++] = (int)val;
		return 1;
badtcp:
		fprintf(stderr, "--tcp %s: expected NAME=INTEGER\n", arg);
		return -1;
	}
	case APP_OPT_CORES: {
		const char *q = arg;
		char *end;

		o->ncores = 0;
		do {
			unsigned long cpu = strtoul(q, &end, 10);

			if (end == q || cpu > 1023 || o->ncores == APP_MAX_CORES ||
			    (*end != ',' && *end != '\0')) {
				fprintf(stderr, "--cores %s: a list of up to %d "
				    "CPU numbers, A,B,...\n", arg, APP_MAX_CORES);
				return -1;
			}
			o->cores[o->ncores++] = (int)cpu;
			q = end + 1;
		} while (*end == ',');
		return 1;
	}
	default:
		return 0;
	}
}

void
app_net_core_opts(const struct app_net_opts *o, unsigned i,
    struct app_net_opts *oi)
{
	*oi = *o;
	oi->ncores = 0;
	oi->queue = i;
	oi->nqueues = o->ncores;
	oi->dispatch = o->ncores > 1;
	oi->cpu = o->cores[i];
}

int
app_run_instances(const struct app_net_opts *o, void *args, size_t argsize,
    size_t optsoff, void *(*fn)(void *))
{
	unsigned n = o->ncores > 0 ? o->ncores : 1;
	pthread_t t[APP_MAX_CORES];
	char *a = args;

	for (unsigned i = 0; i < n; i++) {
		struct app_net_opts *oi = (void *)(a + i * argsize + optsoff);

		if (o->ncores > 0)
			app_net_core_opts(o, i, oi);
		else
			*oi = *o;
	}
	if (o->ncores == 0) {
		(void)fn(a);
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, fn, a + i * argsize) != 0) {
			fprintf(stderr, "cannot create a thread per core\n");
			/* instances may be running: no way back, and no
			 * atexit() handler (app_dpdk_fini()) under them */
			fflush(stdout);
			_exit(1);
		}
	for (unsigned i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}

int
app_pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) != 0 ? errno : 0;
}

/* "loss=0.01,delay=20,..." (times in milliseconds, fractions allowed) */
int
app_impair_parse(const char *spec, struct rump_impair_config *ic)
{
	char buf[256], *save = NULL, *tok;

	memset(ic, 0, sizeof(*ic));
	ic->seed = 1;
	if (strlen(spec) >= sizeof(buf))
		goto bad;
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '='), *end;
		double d;

		if (eq == NULL)
			goto bad;
		*eq++ = '\0';
		errno = 0;
		d = strtod(eq, &end);
		/*
		 * finite, and within what converts to the fields: times up
		 * to an hour, a seed below 2^53 (a double's integers)
		 */
		if (errno != 0 || end == eq || *end != '\0' || !isfinite(d) ||
		    d < 0 || d > 9007199254740992.0 ||
		    (strcmp(tok, "seed") != 0 && d > 3600000))
			goto bad;
		if (strcmp(tok, "loss") == 0)
			ic->loss = d;
		else if (strcmp(tok, "duplicate") == 0)
			ic->duplicate = d;
		else if (strcmp(tok, "corrupt") == 0)
			ic->corrupt = d;
		else if (strcmp(tok, "reorder") == 0)
			ic->reorder = d;
		else if (strcmp(tok, "delay") == 0)
			ic->delay_ns = (uint64_t)(d * 1e6);
		else if (strcmp(tok, "jitter") == 0)
			ic->jitter_ns = (uint64_t)(d * 1e6);
		else if (strcmp(tok, "reorder_delay") == 0)
			ic->reorder_ns = (uint64_t)(d * 1e6);
		else if (strcmp(tok, "seed") == 0)
			ic->seed = (uint64_t)d;
		else
			goto bad;
	}
	if (ic->loss > 1 || ic->duplicate > 1 || ic->corrupt > 1 ||
	    ic->reorder > 1)
		goto bad;
	if (ic->reorder > 0 && ic->reorder_ns == 0)
		ic->reorder_ns = ic->delay_ns / 2 + 1000000;
	return 0;
bad:
	fprintf(stderr, "--impair %s: expected loss=P,duplicate=P,corrupt=P,"
	    "delay=MS,jitter=MS,reorder=P,reorder_delay=MS,seed=N "
	    "(P in 0..1, MS up to 3600000)\n", spec);
	return EINVAL;
}

static int
fail(const char *what, int error)
{
	fprintf(stderr, "%s: %s\n", what, strerror(error));
	return error;
}

static pthread_once_t dpdk_fini_once = PTHREAD_ONCE_INIT;

/*
 * At exit, once the instances are gone: close the ports, so that the PMDs
 * let go of what they hold (net_memif's server removes its socket file,
 * which the next server would otherwise fail to bind).  Nothing happens
 * while an interface is still attached (an exit on an error path).
 */
static void
app_dpdk_fini(void)
{
	(void)rump_dpdk_fini();
}

static void
app_dpdk_fini_register(void)
{
	(void)atexit(app_dpdk_fini);
}

int
app_net_start(const struct app_net_opts *o, struct app_net *net)
{
	struct rump_kernel_config kc;
	struct rump_dpdk_config dc;
	int error;

	memset(net, 0, sizeof(*net));
	if (!rump_dpdk_available())
		return fail("rumpnet was built without DPDK", ENODEV);
	if ((error = rump_dpdk_init(o->dpdk)) != 0)
		return fail("DPDK EAL initialisation", error);
	(void)pthread_once(&dpdk_fini_once, app_dpdk_fini_register);
	rump_kernel_config_default(&kc);
	kc.softint_mode = o->softint;
	/* the poll loop ticks the callout wheel: no clock thread */
	kc.clock_thread = false;
	if ((error = rump_kernel_create(&kc, &net->k)) != 0)
		return fail("creating the rumpnet instance", error);
	if (o->cc != NULL &&
	    (error = rump_tcp_cc_set_default(net->k, o->cc)) != 0) {
		fail("--cc", error);
		goto out;
	}
	for (unsigned i = 0; i < o->ntcp; i++)
		if ((error = rump_tcp_param_set(net->k, o->tcp_name[i],
		    o->tcp_value[i])) != 0) {
			fprintf(stderr, "--tcp %s=%d: %s\n", o->tcp_name[i],
			    o->tcp_value[i], error == ENOENT ?
			    "no such parameter" : "value out of range");
			goto out;
		}
	rump_dpdk_config_default(&dc);
	dc.port = o->port != NULL ? o->port : "0";
	dc.idle = o->idle;
	dc.cpu = o->cpu;
	dc.tx_copy = o->tx_copy;
	dc.ack_now = o->ack_now;
	dc.virtual_offload = o->virtual_offload;
	dc.fiber = o->fibers;
	dc.queue = o->queue;
	dc.nqueues = o->nqueues;
	dc.dispatch = o->dispatch;
	if (o->fibers && o->cpu >= 0 && (error = app_pin_cpu(o->cpu)) != 0) {
		fail("--cpu", error);
		goto out;
	}
	if ((error = rump_dpdk_attach(net->k, &dc, &net->ifindex)) != 0) {
		fprintf(stderr, "attaching DPDK port %s: %s\n", dc.port,
		    strerror(error));
		goto out;
	}
	if (o->mtu != 0 &&
	    (error = rump_if_set_mtu(net->k, net->ifindex, o->mtu)) != 0) {
		fail("--mtu", error);
		goto out;
	}
	if (o->addr != NULL) {
		if ((error = rump_addr_parse(o->addr, &net->addr,
		    &net->plen)) != 0 ||
		    (error = rump_if_addr_add(net->k, net->ifindex, net->addr,
		    net->plen)) != 0) {
			fail("--addr", error);
			goto out;
		}
	}
	if (o->gw != NULL) {
		struct in_addr gw;

		inet_pton(AF_INET, o->gw, &gw);
		if ((error = rump_route_add(net->k, 0, 0, gw.s_addr,
		    net->ifindex)) != 0) {
			fail("--gw", error);
			goto out;
		}
	}
	for (unsigned i = 0; i < o->narp; i++)
		if ((error = rump_arp_add(net->k, net->ifindex, o->arp_addr[i],
		    o->arp_mac[i])) != 0) {
			fail("--arp", error);
			goto out;
		}
	if (o->pcap != NULL &&
	    (error = rump_if_pcap(net->k, net->ifindex, o->pcap)) != 0) {
		fail("--pcap", error);
		goto out;
	}
	if (o->impair != NULL) {
		struct rump_impair_config ic;

		if ((error = app_impair_parse(o->impair, &ic)) != 0 ||
		    (error = rump_if_impair(net->k, net->ifindex, &ic)) != 0) {
			fail("--impair", error);
			goto out;
		}
	}
	if ((error = rump_if_up(net->k, net->ifindex)) != 0) {
		fail("bringing the interface up", error);
		goto out;
	}
	if ((error = rump_thread_bind(net->k)) != 0) {
		fail("binding the thread to the instance", error);
		goto out;
	}
	return 0;
out:
	rump_kernel_destroy(net->k);
	net->k = NULL;
	return error;
}

void
app_net_stop(struct app_net *net)
{
	if (net->k == NULL)
		return;
	rump_thread_unbind();
	rump_kernel_destroy(net->k);
	net->k = NULL;
}

struct stats_filter {
	FILE *f;
	const char *prefixes;
};

static void
stats_one(const char *name, uint64_t value, void *arg)
{
	struct stats_filter *sf = arg;
	const char *p = sf->prefixes;

	if (value == 0)
		return;
	if (p != NULL) {
		bool match = false;

		while (*p != '\0' && !match) {
			size_t n = strcspn(p, ",");

			match = n > 0 && strncmp(name, p, n) == 0;
			p += n + (p[n] == ',');
		}
		if (!match)
			return;
	}
	fprintf(sf->f, "%s %llu\n", name, (unsigned long long)value);
}

void
app_stats_print(FILE *f, struct rump_kernel *k, const char *prefixes)
{
	struct stats_filter sf = { f, prefixes };

	rump_stat_list(k, stats_one, &sf);
}

uint64_t
app_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
