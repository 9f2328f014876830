/*
 * kern_pool.c -- object pools with per-vCPU caches (interface: pool.h).
 *
 * pool_cache_get() -> [fast: pop curcpu()'s cache] | pool_cache_refill()
 *     -> depot | pool_grow() -> hyper_malloc() (within pc_hardlimit)
 * pool_cache_put() -> [fast: push] | pool_cache_spill() -> depot
 *
 * A get or put from a host thread that holds no vCPU of the pool's instance
 * (an mbuf freed by another instance, a test's host thread) goes straight to
 * the depot.  pc_lock is a host mutex for that reason: it needs no LWP, and
 * it is only taken on the slow path.  The depot is a free list threaded
 * through the objects' first word.
 */
#include "kernel.h"
#include "pool.h"

#define POOL_CHUNK_BYTES (64 * 1024)
#define POOL_CHUNK_MIN_OBJECTS 16

struct pool_chunk {
	struct pool_chunk *pch_next;
	void *pch_mem;
	size_t pch_size;
};

int
pool_cache_create(struct rump_kernel *k, const char *name, size_t size,
    size_t align, unsigned hardlimit, pool_cache_t **pcp)
{
	size_t bytes = sizeof(pool_cache_t) + k->k_ncpu * sizeof(struct pool_cpu);
	pool_cache_t *pc;
	void *mem;
	int error;

	if (align == 0)
		align = 16;
	if (size < sizeof(void *))
		size = sizeof(void *);
	if ((error = hyper_malloc(bytes, CACHE_LINE_SIZE, &mem)) != 0)
		return error;
	pc = mem;
	memset(pc, 0, bytes);
	for (size_t i = 0; i + 1 < sizeof(pc->pc_name) && name[i] != '\0'; i++)
		pc->pc_name[i] = name[i];
	pc->pc_size = roundup2(size, align);
	pc->pc_align = align;
	pc->pc_hardlimit = hardlimit;
	pc->pc_kernel = k;
	pc->pc_ncpu = k->k_ncpu;
	if ((error = hyper_mutex_init(&pc->pc_lock)) != 0) {
		hyper_free(pc, bytes);
		return error;
	}
	hyper_mutex_enter(k->k_pools_mtx);
	list_insert_tail(&k->k_pools, &pc->pc_link);
	hyper_mutex_exit(k->k_pools_mtx);
	*pcp = pc;
	return 0;
}

void
pool_cache_destroy(pool_cache_t *pc)
{
	struct rump_kernel *k = pc->pc_kernel;
	struct pool_chunk *ch;

	hyper_mutex_enter(k->k_pools_mtx);
	list_remove(&pc->pc_link);
	hyper_mutex_exit(k->k_pools_mtx);
	while ((ch = pc->pc_chunks) != NULL) {
		pc->pc_chunks = ch->pch_next;
		hyper_free(ch->pch_mem, ch->pch_size);
		hyper_free(ch, sizeof(*ch));
	}
	hyper_mutex_destroy(pc->pc_lock);
	hyper_free(pc, sizeof(*pc) + pc->pc_ncpu * sizeof(struct pool_cpu));
}

/* Carve a new chunk into the depot.  pc_lock held. */
static bool
pool_grow(pool_cache_t *pc)
{
	unsigned n = (unsigned)(POOL_CHUNK_BYTES / pc->pc_size);
	struct pool_chunk *ch;
	void *mem;

	if (n < POOL_CHUNK_MIN_OBJECTS)
		n = POOL_CHUNK_MIN_OBJECTS;
	if (pc->pc_hardlimit != 0) {
		if (pc->pc_nobjects >= pc->pc_hardlimit)
			return false;
		n = MIN(n, pc->pc_hardlimit - pc->pc_nobjects);
	}
	if (hyper_malloc(sizeof(*ch), 0, &mem) != 0)
		return false;
	ch = mem;
	ch->pch_size = (size_t)n * pc->pc_size;
	if (hyper_malloc(ch->pch_size, pc->pc_align, &ch->pch_mem) != 0) {
		hyper_free(ch, sizeof(*ch));
		return false;
	}
	ch->pch_next = pc->pc_chunks;
	pc->pc_chunks = ch;
	for (unsigned i = 0; i < n; i++) {
		void **obj = (void **)((char *)ch->pch_mem + i * pc->pc_size);

		*obj = pc->pc_depot;
		pc->pc_depot = obj;
	}
	pc->pc_ndepot += n;
	pc->pc_nobjects += n;
	return true;
}

/* Take one object from the depot.  pc_lock held. */
static void *
depot_get(pool_cache_t *pc)
{
	void **obj = pc->pc_depot;

	if (obj == NULL && pool_grow(pc))
		obj = pc->pc_depot;
	if (obj == NULL)
		return NULL;
	pc->pc_depot = *obj;
	pc->pc_ndepot--;
	return obj;
}

static void
depot_put(pool_cache_t *pc, void *obj)
{
	*(void **)obj = pc->pc_depot;
	pc->pc_depot = obj;
	pc->pc_ndepot++;
}

static struct pool_cpu *
pool_cpu_of(pool_cache_t *pc)
{
	struct lwp *l = curlwp;

	if (unlikely(l == NULL || l->l_cpu == NULL ||
	    l->l_kernel != pc->pc_kernel))
		return NULL;
	return &pc->pc_cpu[l->l_cpu->ci_index];
}

static void * __attribute__((__noinline__))
pool_cache_refill(pool_cache_t *pc, struct pool_cpu *pcc)
{
	void *obj;

	hyper_mutex_enter(pc->pc_lock);
	obj = depot_get(pc);
	if (obj != NULL && pcc != NULL) {
		/* bring half a cache along for the next gets */
		while (pcc->pcc_n < POOL_CPU_CACHE / 2) {
			void *o = pc->pc_depot;

			if (o == NULL)
				break;
			pc->pc_depot = *(void **)o;
			pc->pc_ndepot--;
			pcc->pcc_objs[pcc->pcc_n++] = o;
		}
	}
	hyper_mutex_exit(pc->pc_lock);
	if (obj == NULL) {
		atomic_fetch_add_explicit(&pc->pc_nfail, 1,
		    memory_order_relaxed);
		return NULL;
	}
	if (pcc != NULL)
		pcc->pcc_nget++;
	else
		atomic_fetch_add_explicit(&pc->pc_nget_slow, 1,
		    memory_order_relaxed);
	return obj;
}

void *
pool_cache_get(pool_cache_t *pc)
{
	struct pool_cpu *pcc = pool_cpu_of(pc);

	if (likely(pcc != NULL && pcc->pcc_n > 0)) {
		pcc->pcc_nget++;
		return pcc->pcc_objs[--pcc->pcc_n];
	}
	return pool_cache_refill(pc, pcc);
}

static void __attribute__((__noinline__))
pool_cache_spill(pool_cache_t *pc, struct pool_cpu *pcc, void *obj)
{
	hyper_mutex_enter(pc->pc_lock);
	depot_put(pc, obj);
	if (pcc != NULL)
		while (pcc->pcc_n > POOL_CPU_CACHE / 2)
			depot_put(pc, pcc->pcc_objs[--pcc->pcc_n]);
	hyper_mutex_exit(pc->pc_lock);
	if (pcc != NULL)
		pcc->pcc_nput++;
	else
		atomic_fetch_add_explicit(&pc->pc_nput_slow, 1,
		    memory_order_relaxed);
}

void
pool_cache_put(pool_cache_t *pc, void *obj)
{
	struct pool_cpu *pcc = pool_cpu_of(pc);

	KASSERT(obj != NULL);
	if (likely(pcc != NULL && pcc->pcc_n < POOL_CPU_CACHE)) {
		pcc->pcc_nput++;
		pcc->pcc_objs[pcc->pcc_n++] = obj;
		return;
	}
	pool_cache_spill(pc, pcc, obj);
}

void
pool_cache_stats(pool_cache_t *pc, struct pool_stats *ps)
{
	memset(ps, 0, sizeof(*ps));
	for (unsigned i = 0; i < pc->pc_ncpu; i++) {
		ps->ps_nget += pc->pc_cpu[i].pcc_nget;
		ps->ps_nput += pc->pc_cpu[i].pcc_nput;
	}
	ps->ps_nget += atomic_load(&pc->pc_nget_slow);
	ps->ps_nput += atomic_load(&pc->pc_nput_slow);
	ps->ps_nfail = atomic_load(&pc->pc_nfail);
	ps->ps_nobjects = pc->pc_nobjects;
	ps->ps_hardlimit = pc->pc_hardlimit;
}

uint64_t
pool_cache_outstanding(pool_cache_t *pc)
{
	struct pool_stats ps;

	pool_cache_stats(pc, &ps);
	return ps.ps_nget - ps.ps_nput;
}
