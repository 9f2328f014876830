/*
 * dpdk_none.c -- include/rumpnet/dpdk.h when rumpnet is built without
 * DPDK (meson -Ddpdk=disabled, or no libdpdk-dev): every call says so.
 */
#include <errno.h>
#include <string.h>

#include "rumpnet/dpdk.h"

bool
rump_dpdk_available(void)
{
	return false;
}

int
rump_dpdk_init(const char *eal_args)
{
	(void)eal_args;
	return ENODEV;
}

int
rump_dpdk_fini(void)
{
	return 0;
}

int
rump_dpdk_ring_pair(const char *name, unsigned nqueues)
{
	(void)name;
	(void)nqueues;
	return ENODEV;
}

void
rump_dpdk_config_default(struct rump_dpdk_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = "0";
	cfg->cpu = -1;
}

int
rump_dpdk_attach(struct rump_kernel *k, const struct rump_dpdk_config *cfg,
    unsigned *ifindex)
{
	(void)k;
	(void)cfg;
	(void)ifindex;
	return ENODEV;
}

int
rump_dpdk_port_stats(struct rump_kernel *k, unsigned ifindex,
    struct rump_dpdk_stats *st)
{
	(void)k;
	(void)ifindex;
	(void)st;
	return ENODEV;
}
