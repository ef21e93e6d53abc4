/*
 * iova.c — the IOVA allocator of a DMA layer (one per domain).
 *
 * Allocations are multiples of 4 KiB. A power-of-two size up to
 * 2^IOVA_MAX_ALIGN (2 MiB) is naturally aligned to its size, so the page
 * tables can use a 2 MiB leaf and a page-selective invalidation of the
 * allocation needs no wider mask than the allocation; larger and
 * non-power-of-two sizes are 4 KiB aligned.
 *
 * Slow path: a sorted array of disjoint, non-adjacent free ranges
 * [start, end) under one lock, allocated first-fit from the top of the
 * window (as Linux does): with n free fragments an allocation scans O(n)
 * and splits in O(n) (memmove); a free finds its place by binary search,
 * O(log n), and coalesces with its neighbours, O(n) for the memmove.
 *
 * Fast path: per-thread-slot magazines (slot from vtd_ops.cpu, slot 0
 * without it) hold up to IOVA_MAG recently freed IOVAs of each size
 * 4K..128K (orders 0..5); alloc pops and free pushes in O(1) under the
 * slot's own lock. A magazine is bounded: a free into a full one goes to
 * the array. When the array has no fit, every magazine is drained into
 * it and the allocation is retried once before -ENOSPC.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"

#define PG	4096ULL

unsigned vtd_cpu_slot(struct vtd *v)
{
	return v->ops->cpu ? v->ops->cpu(v->ctx) % IOVA_SLOTS : 0;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* Magazine order of @size, or -1 if not cached. */
static int cache_order(uint64_t size)
{
	if (!is_pow2(size) || size < PG || size > (PG << (IOVA_CACHE_ORDERS - 1)))
		return -1;
	return __builtin_ctzll(size) - 12;
}

static uint64_t align_of(uint64_t size)
{
	if (is_pow2(size) && size <= (1ULL << IOVA_MAX_ALIGN))
		return size;
	return PG;
}

static int ranges_insert(struct iova_domain *iad, size_t i, uint64_t start, uint64_t end)
{
	if (iad->nfree == iad->cap) {
		size_t cap = iad->cap ? 2 * iad->cap : 16;
		struct iova_range *n = realloc(iad->free, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		iad->free = n;
		iad->cap = cap;
	}
	memmove(&iad->free[i + 1], &iad->free[i], (iad->nfree - i) * sizeof(*iad->free));
	iad->free[i] = (struct iova_range){ start, end };
	iad->nfree++;
	return 0;
}

static void ranges_remove(struct iova_domain *iad, size_t i)
{
	memmove(&iad->free[i], &iad->free[i + 1], (iad->nfree - i - 1) * sizeof(*iad->free));
	iad->nfree--;
}

/* Return [iova, iova+size) to the array; under iad->lock. */
static void free_locked(struct iova_domain *iad, uint64_t iova, uint64_t size)
{
	uint64_t end = iova + size;
	size_t lo = 0, hi = iad->nfree;

	/* First range starting above iova. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (iad->free[mid].start > iova)
			hi = mid;
		else
			lo = mid + 1;
	}
	bool prev = lo > 0 && iad->free[lo - 1].end == iova;
	bool next = lo < iad->nfree && iad->free[lo].start == end;

	/* A double free or a range outside what was allocated: ignore it. */
	if ((lo > 0 && iad->free[lo - 1].end > iova) ||
	    (lo < iad->nfree && iad->free[lo].start < end))
		return;
	if (prev && next) {
		iad->free[lo - 1].end = iad->free[lo].end;
		ranges_remove(iad, lo);
	} else if (prev) {
		iad->free[lo - 1].end = end;
	} else if (next) {
		iad->free[lo].start = iova;
	} else {
		/* No memory for one more fragment: the range is lost (leaked). */
		(void)ranges_insert(iad, lo, iova, end);
	}
}

/* First fit from the top; under iad->lock. */
static int alloc_locked(struct iova_domain *iad, uint64_t size, uint64_t *iova)
{
	uint64_t align = align_of(size);

	for (size_t i = iad->nfree; i-- > 0;) {
		struct iova_range *r = &iad->free[i];
		uint64_t a;

		if (r->end - r->start < size)
			continue;
		a = (r->end - size) & ~(align - 1);
		if (a < r->start)
			continue;
		if (a + size == r->end && a == r->start) {
			ranges_remove(iad, i);
		} else if (a + size == r->end) {
			r->end = a;
		} else if (a == r->start) {
			r->start = a + size;
		} else {
			uint64_t tail = r->end;

			if (ranges_insert(iad, i + 1, a + size, tail))
				return -ENOMEM;
			iad->free[i].end = a;
		}
		*iova = a;
		return 0;
	}
	return -ENOSPC;
}

int iova_init(struct iova_domain *iad, struct vtd *v, uint64_t base, uint64_t limit)
{
	memset(iad, 0, sizeof(*iad));
	iad->v = v;
	if (base % PG || limit % PG || base >= limit)
		return -EINVAL;
	iad->base = base;
	iad->limit = limit;
	iad->lock = v->ops->lock_new(v->ctx);
	if (!iad->lock)
		return -ENOMEM;
	for (unsigned s = 0; s < IOVA_SLOTS; s++) {
		iad->mag[s].lock = v->ops->lock_new(v->ctx);
		if (!iad->mag[s].lock) {
			iova_fini(iad);
			return -ENOMEM;
		}
	}
	if (ranges_insert(iad, 0, base, limit)) {
		iova_fini(iad);
		return -ENOMEM;
	}
	return 0;
}

void iova_fini(struct iova_domain *iad)
{
	struct vtd *v = iad->v;

	if (iad->lock)
		v->ops->lock_free(v->ctx, iad->lock);
	for (unsigned s = 0; s < IOVA_SLOTS; s++)
		if (iad->mag[s].lock)
			v->ops->lock_free(v->ctx, iad->mag[s].lock);
	free(iad->free);
	memset(iad, 0, sizeof(*iad));
}

/* Move every magazine's IOVAs back to the array. */
static void drain_magazines(struct iova_domain *iad)
{
	struct vtd *v = iad->v;

	for (unsigned s = 0; s < IOVA_SLOTS; s++) {
		struct iova_mag *m = &iad->mag[s];

		vtd_lock(v, m->lock);
		vtd_lock(v, iad->lock);
		for (unsigned o = 0; o < IOVA_CACHE_ORDERS; o++) {
			while (m->n[o])
				free_locked(iad, m->iova[o][--m->n[o]], PG << o);
		}
		vtd_unlock(v, iad->lock);
		vtd_unlock(v, m->lock);
	}
}

/* The first free range starting above @iova; under iad->lock. */
static size_t upper_locked(const struct iova_domain *iad, uint64_t iova)
{
	size_t lo = 0, hi = iad->nfree;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (iad->free[mid].start > iova)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Index of the free range holding @iova, or -1; under iad->lock. */
static long find_locked(const struct iova_domain *iad, uint64_t iova)
{
	size_t up = upper_locked(iad, iova);

	return up > 0 && iad->free[up - 1].end > iova ? (long)up - 1 : -1;
}

int iova_reserve(struct iova_domain *iad, uint64_t iova, uint64_t size)
{
	struct vtd *v = iad->v;
	uint64_t end = iova + size;
	long i;
	int ret = 0;

	if (!size || size % PG || iova % PG || end < iova)
		return -EINVAL;
	vtd_lock(v, iad->lock);
	i = find_locked(iad, iova);
	if (i < 0 || iad->free[i].end < end) {
		ret = -EBUSY;
	} else {
		struct iova_range *r = &iad->free[i];

		if (r->start == iova && r->end == end)
			ranges_remove(iad, (size_t)i);
		else if (r->start == iova)
			r->start = end;
		else if (r->end == end)
			r->end = iova;
		else if (!(ret = ranges_insert(iad, (size_t)i + 1, end, r->end)))
			iad->free[i].end = iova;
	}
	vtd_unlock(v, iad->lock);
	if (!ret)
		stat_inc(&v->iova_alloc);
	return ret;
}

void iova_release_span(struct iova_domain *iad, uint64_t iova, uint64_t size)
{
	struct vtd *v = iad->v;
	uint64_t pos = iova, end = iova + size;

	if (end < iova)
		end = UINT64_MAX & ~(PG - 1);
	stat_inc(&v->iova_free);
	vtd_lock(v, iad->lock);
	while (pos < end) {
		size_t up = upper_locked(iad, pos);
		uint64_t stop = end;

		if (up > 0 && iad->free[up - 1].end > pos) {	/* free already: skip it */
			pos = iad->free[up - 1].end;
			continue;
		}
		/* Taken up to the next free range (or @end). */
		if (up < iad->nfree && iad->free[up].start < stop)
			stop = iad->free[up].start;
		free_locked(iad, pos, stop - pos);
		pos = stop;
	}
	vtd_unlock(v, iad->lock);
}

int iova_alloc(struct iova_domain *iad, uint64_t size, uint64_t *iova)
{
	struct vtd *v = iad->v;
	int o = cache_order(size), ret;

	if (!size || size % PG)
		return -EINVAL;
	if (o >= 0) {
		struct iova_mag *m = &iad->mag[vtd_cpu_slot(v)];

		vtd_lock(v, m->lock);
		ret = m->n[o] ? 0 : -ENOSPC;
		if (!ret)
			*iova = m->iova[o][--m->n[o]];
		vtd_unlock(v, m->lock);
		if (!ret) {
			stat_inc(&v->iova_alloc);
			stat_inc(&v->iova_cache_hit);
			return 0;
		}
	}
	vtd_lock(v, iad->lock);
	ret = alloc_locked(iad, size, iova);
	vtd_unlock(v, iad->lock);
	if (ret == -ENOSPC) {
		drain_magazines(iad);
		vtd_lock(v, iad->lock);
		ret = alloc_locked(iad, size, iova);
		vtd_unlock(v, iad->lock);
	}
	if (!ret)
		stat_inc(&v->iova_alloc);
	return ret;
}

void iova_free(struct iova_domain *iad, uint64_t iova, uint64_t size)
{
	struct vtd *v = iad->v;
	int o = cache_order(size);

	stat_inc(&v->iova_free);
	if (o >= 0 && !iad->no_cache) {
		struct iova_mag *m = &iad->mag[vtd_cpu_slot(v)];
		bool done = false;

		vtd_lock(v, m->lock);
		if (m->n[o] < IOVA_MAG) {
			m->iova[o][m->n[o]++] = iova;
			done = true;
		}
		vtd_unlock(v, m->lock);
		if (done)
			return;
	}
	vtd_lock(v, iad->lock);
	free_locked(iad, iova, size);
	vtd_unlock(v, iad->lock);
}
