/*
 * host.c — struct vtd_ops on the hardware model, for user space. Page
 * allocation is a free list over a fixed pool of guest pages, guarded by
 * its own mutex; every other service forwards to the model, which
 * serialises itself.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include "host/host.h"

#define PAGE		4096ULL
#define RELAX_NS	500	/* virtual time one poll iteration lets pass */

struct vtd_host {
	struct vtdm *m;
	pthread_mutex_t pool_lock;	/* the page pool below */
	uint64_t base, end, next;	/* never-used pages start at next */
	uint64_t *free;			/* freed pages, reused first */
	size_t nfree, cap;
	uint64_t used;
	void (*trace)(void *arg, const struct vtd_event *ev);
	void *trace_arg;
};

static uint32_t h_read32(void *ctx, uint64_t addr)
{
	struct vtd_host *h = ctx;
	uint32_t v = 0;

	vtdm_read32(h->m, addr, &v);
	return v;
}

static uint64_t h_read64(void *ctx, uint64_t addr)
{
	struct vtd_host *h = ctx;
	uint64_t v = 0;

	vtdm_read64(h->m, addr, &v);
	return v;
}

static void h_write32(void *ctx, uint64_t addr, uint32_t val)
{
	struct vtd_host *h = ctx;

	vtdm_write32(h->m, addr, val);
}

static void h_write64(void *ctx, uint64_t addr, uint64_t val)
{
	struct vtd_host *h = ctx;

	vtdm_write64(h->m, addr, val);
}

static int h_page_alloc(void *ctx, uint64_t *pa)
{
	struct vtd_host *h = ctx;
	static const uint8_t zero[PAGE];
	int ret = 0;

	pthread_mutex_lock(&h->pool_lock);
	if (h->nfree)
		*pa = h->free[--h->nfree];
	else if (h->next < h->end)
		*pa = (h->next += PAGE) - PAGE;
	else
		ret = -ENOMEM;
	if (!ret)
		h->used++;
	pthread_mutex_unlock(&h->pool_lock);
	if (!ret)
		vtdm_write(h->m, *pa, zero, sizeof(zero));
	return ret;
}

static void h_page_free(void *ctx, uint64_t pa)
{
	struct vtd_host *h = ctx;

	pthread_mutex_lock(&h->pool_lock);
	if (h->nfree == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 256;
		uint64_t *n = realloc(h->free, cap * sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(&h->pool_lock);
			return;		/* leak the page rather than lose the pool */
		}
		h->free = n;
		h->cap = cap;
	}
	h->free[h->nfree++] = pa;
	h->used--;
	pthread_mutex_unlock(&h->pool_lock);
}

static void h_clflush(void *ctx, uint64_t pa)
{
	struct vtd_host *h = ctx;

	vtdm_clflush(h->m, pa);
}

static void *h_lock_new(void *ctx)
{
	pthread_mutex_t *l = malloc(sizeof(*l));

	(void)ctx;
	if (l)
		pthread_mutex_init(l, NULL);
	return l;
}

static void h_lock(void *ctx, void *lock)
{
	(void)ctx;
	pthread_mutex_lock(lock);
}

static void h_unlock(void *ctx, void *lock)
{
	(void)ctx;
	pthread_mutex_unlock(lock);
}

static void h_lock_free(void *ctx, void *lock)
{
	(void)ctx;
	pthread_mutex_destroy(lock);
	free(lock);
}

static uint64_t h_now(void *ctx)
{
	struct vtd_host *h = ctx;

	return vtdm_now(h->m);
}

static void h_relax(void *ctx)
{
	struct vtd_host *h = ctx;

	vtdm_clock_step(h->m, RELAX_NS);
}

static void h_trace(void *ctx, const struct vtd_event *ev)
{
	struct vtd_host *h = ctx;

	if (h->trace)
		h->trace(h->trace_arg, ev);
}

/* A small id per thread, handed out round-robin on first use. */
static _Thread_local unsigned thread_cpu;
static _Thread_local bool thread_cpu_set;
static unsigned cpu_next;

static unsigned h_cpu(void *ctx)
{
	(void)ctx;
	if (!thread_cpu_set) {
		thread_cpu = __atomic_fetch_add(&cpu_next, 1, __ATOMIC_RELAXED);
		thread_cpu_set = true;
	}
	return thread_cpu;
}

static const struct vtd_ops host_ops = {
	.mmio_read32 = h_read32,
	.mmio_read64 = h_read64,
	.mmio_write32 = h_write32,
	.mmio_write64 = h_write64,
	.page_alloc = h_page_alloc,
	.page_free = h_page_free,
	.mem_read64 = h_read64,
	.mem_write64 = h_write64,
	.mem_read32 = h_read32,
	.mem_write32 = h_write32,
	.clflush = h_clflush,
	.lock_new = h_lock_new,
	.lock = h_lock,
	.unlock = h_unlock,
	.lock_free = h_lock_free,
	.now_ns = h_now,
	.relax = h_relax,
	.trace = h_trace,
	.cpu = h_cpu,
};

const struct vtd_ops *vtd_host_ops(void)
{
	return &host_ops;
}

struct vtd_host *vtd_host_create(struct vtdm *m, uint64_t pool_base, uint64_t pool_size)
{
	struct vtd_host *h;

	if (pool_base % PAGE || pool_size % PAGE || !pool_size ||
	    pool_base + pool_size > vtdm_mem_size(m))
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->m = m;
	h->base = h->next = pool_base;
	h->end = pool_base + pool_size;
	pthread_mutex_init(&h->pool_lock, NULL);
	return h;
}

void vtd_host_destroy(struct vtd_host *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->pool_lock);
	free(h->free);
	free(h);
}

struct vtdm *vtd_host_machine(struct vtd_host *h)
{
	return h->m;
}

void vtd_host_set_trace(struct vtd_host *h, void (*fn)(void *arg, const struct vtd_event *ev),
			void *arg)
{
	h->trace = fn;
	h->trace_arg = arg;
}

uint64_t vtd_host_pages_used(struct vtd_host *h)
{
	uint64_t n;

	pthread_mutex_lock(&h->pool_lock);
	n = h->used;
	pthread_mutex_unlock(&h->pool_lock);
	return n;
}
