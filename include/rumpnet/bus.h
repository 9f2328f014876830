/*
 * rumpnet/bus.h -- the in-memory Ethernet bus (like NetBSD's shmif).
 *
 * Any number of interfaces, of one or several instances in this process,
 * attach to a bus and see each other's frames: unicast frames reach the
 * port with that MAC, broadcast and multicast frames reach every other
 * port.  A test can also open a tap: a port with no instance behind it
 * that sends raw frames and receives copies (of every frame, when
 * promiscuous), for "bytes in, bytes out" tests.
 *
 * Impairments are drawn from a generator seeded by the configuration, so a
 * run repeats exactly for a seed (given the same order of sends).
 *
 * Functions return 0 or a host errno value.
 */
#ifndef RUMPNET_BUS_H
#define RUMPNET_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "rumpnet/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rump_bus;
struct rump_bus_tap;

struct rump_bus_config {
	uint64_t seed;			/* impairment generator */
	double loss;			/* probability a frame is lost */
	double duplicate;		/* probability a frame arrives twice */
	double corrupt;			/* probability one byte is flipped */
	unsigned queue_max;		/* frames queued per port (0: 4096) */
	const char *pcap_path;		/* capture of every frame, or NULL */
};

struct rump_bus_stats {
	uint64_t frames;		/* frames sent onto the bus */
	uint64_t lost;			/* dropped by the loss knob */
	uint64_t duplicated;
	uint64_t corrupted;
	uint64_t qdrops;		/* a receiver's queue was full */
	uint64_t delivered;		/* copies handed to receivers */
};

void rump_bus_config_default(struct rump_bus_config *cfg);
/* rump_bus_create: 0, EINVAL (a probability outside 0..1), ENOMEM, or the capture file's error. */
int rump_bus_create(const struct rump_bus_config *cfg, struct rump_bus **bp);
/* rump_bus_destroy: 0, or EBUSY while interfaces or taps are attached. */
int rump_bus_destroy(struct rump_bus *b);
void rump_bus_stats(struct rump_bus *b, struct rump_bus_stats *st);

/*
 * rump_bus_attach: create interface ifname (e.g. "bus0") with MAC mac in
 * instance k, on bus b.  It has a receive thread (a hardware interrupt LWP
 * on vCPU 0) and goes away with rump_if_destroy() or the instance.  Returns
 * 0 and *ifindex, EEXIST (name taken), EINVAL, ENOMEM.
 */
int rump_bus_attach(struct rump_bus *b, struct rump_kernel *k,
    const char *ifname, const uint8_t mac[6], unsigned *ifindex);

/*
 * rump_bus_quiesce: wait until no frame is queued on the bus, no receive
 * thread is busy and the instances attached have no soft interrupt pending
 * or running.  Returns 0, or ETIMEDOUT after timeout_ms.
 */
int rump_bus_quiesce(struct rump_bus *b, unsigned timeout_ms);

/* A tap: mac NULL means promiscuous (receives every frame). */
int rump_bus_tap_open(struct rump_bus *b, const uint8_t mac[6],
    struct rump_bus_tap **tp);
void rump_bus_tap_close(struct rump_bus_tap *t);
/* rump_bus_tap_send: put a raw frame on the bus.  0, EINVAL, ENOMEM. */
int rump_bus_tap_send(struct rump_bus_tap *t, const void *frame, size_t len);
/*
 * rump_bus_tap_recv: the next frame the tap received, up to buflen bytes
 * (*len is the frame's full length).  Waits up to timeout_ms.  Returns 0,
 * or EAGAIN when nothing arrived in time.
 */
int rump_bus_tap_recv(struct rump_bus_tap *t, void *buf, size_t buflen,
    size_t *len, unsigned timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* RUMPNET_BUS_H */
