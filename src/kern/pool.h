/*
 * pool.h -- fixed-size object pools with per-vCPU caches (NetBSD's
 * pool_cache(9) in spirit).
 *
 * get/put on the current vCPU's cache is a push or pop on an array, no lock
 * and no atomic.  An empty cache refills from the pool's depot, a full one
 * spills half into it, under pc_lock (a host mutex: the slow path must work
 * for callers without a vCPU of this instance).  The depot grows in chunks taken from
 * the host and never shrinks before pool_cache_destroy().  A pool may have a
 * hard limit on the number of objects it ever creates: beyond it, get fails
 * (the caller drops and counts) until objects come back.
 *
 * Every pool counts gets and puts, so a test can assert that nothing is
 * outstanding (pool_cache_outstanding()).
 */
#ifndef KERN_POOL_H
#define KERN_POOL_H

#include "libkern.h"
#include "list.h"
#include "mutex.h"

#define POOL_CPU_CACHE 256

struct pool_cpu {
	unsigned pcc_n;				/* [C] objects in pcc_objs */
	uint64_t pcc_nget;			/* [C] */
	uint64_t pcc_nput;			/* [C] */
	void *pcc_objs[POOL_CPU_CACHE];		/* [C] */
} __cacheline_aligned;

struct pool_chunk;

typedef struct pool_cache {
	char pc_name[24];			/* [I] */
	size_t pc_size;				/* [I] object size */
	size_t pc_align;			/* [I] */
	unsigned pc_hardlimit;			/* [I] objects, 0: none */
	struct rump_kernel *pc_kernel;		/* [I] */
	struct list_node pc_link;		/* [k_pools_mtx] */
	struct hyper_mtx *pc_lock;
	void *pc_depot;				/* [pc_lock] free list */
	unsigned pc_ndepot;			/* [pc_lock] */
	unsigned pc_nobjects;			/* [pc_lock] created so far */
	struct pool_chunk *pc_chunks;		/* [pc_lock] */
	_Atomic uint64_t pc_nget_slow;		/* [a] gets outside a vCPU cache */
	_Atomic uint64_t pc_nput_slow;		/* [a] puts outside a vCPU cache */
	_Atomic uint64_t pc_nfail;		/* [a] gets refused (limit, ENOMEM) */
	unsigned pc_ncpu;			/* [I] */
	struct pool_cpu pc_cpu[];		/* per vCPU */
} pool_cache_t;

/*
 * pool_cache_create: a pool of objects of size bytes aligned to align (0:
 * 16) in kernel k, creating at most hardlimit objects (0: no limit).
 * Returns 0 or ENOMEM.  Callable without a vCPU.
 */
int pool_cache_create(struct rump_kernel *k, const char *name, size_t size,
    size_t align, unsigned hardlimit, pool_cache_t **pcp);
/* pool_cache_destroy: free the pool and all its memory; objects must be back. */
void pool_cache_destroy(pool_cache_t *pc);
/* pool_cache_get: an object, or NULL when the pool is at its limit or the host is out of memory. */
void *pool_cache_get(pool_cache_t *pc);
/* pool_cache_put: give back an object from pool_cache_get(). */
void pool_cache_put(pool_cache_t *pc, void *obj);

struct pool_stats {
	uint64_t ps_nget;
	uint64_t ps_nput;
	uint64_t ps_nfail;
	unsigned ps_nobjects;
	unsigned ps_hardlimit;
};
/* pool_cache_stats: counters summed over the vCPUs (exact when quiescent). */
void pool_cache_stats(pool_cache_t *pc, struct pool_stats *ps);
/* pool_cache_outstanding: objects got and not yet put back. */
uint64_t pool_cache_outstanding(pool_cache_t *pc);

#endif /* KERN_POOL_H */
