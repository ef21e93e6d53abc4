/*
 * dma.c — the DMA API layer (include/vtd/dma.h): IOVA allocation, map and
 * unmap through the domain, and the invalidation policy of unmaps.
 *
 * Flush queues. Lazy unmaps clear the entries, then park {IOVA, size,
 * table pages, range} in the calling thread slot's queue (each queue has
 * its own lock). Nothing parked is released — IOVA back to the allocator,
 * table pages to ops->page_free — before an invalidation covering it has
 * completed:
 *   - a domain flush covers every entry queued before it STARTED. Two
 *     counters order them as Linux does: flush_start is bumped before the
 *     flush is sent, flush_finish after it completed; an entry records
 *     flush_start when queued and is releasable, from any queue, once
 *     flush_finish > that value. Domain flushes are serialised by
 *     flush_lock, and one that finds the queue's oldest entry already
 *     covered by another thread's flush is skipped.
 *   - lazy-ranged: a queue's page-selective flush of its own merged
 *     ranges covers only that queue's entries, and releases only them.
 * Queue flushes happen when a queue becomes full, when its oldest entry is
 * older than fq_timeout_ns (checked on every unmap and by vtd_dma_poll),
 * when an allocation finds the IOVA window exhausted (one domain flush,
 * every queue released, one retry), and at vtd_dma_destroy.
 *
 * Locks, outermost first: a queue's lock, then flush_lock, then the
 * domain's locks (the flush), then the allocator's (iova.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"
#include "fmt/regs.h"
#include "vtd/dma.h"

#define PG		4096ULL
#define PG_MASK		(PG - 1)

struct fq_entry {
	uint64_t iova, size;		/* the allocation */
	bool iova_gone;			/* knob iova-reuse-before-flush: freed at unmap */
	uint64_t start, end;		/* lazy-ranged: what to invalidate (inclusive) */
	uint64_t *freelist;		/* table pages to free after the flush */
	size_t nfree;
	bool unlinked;			/* tables unlinked (their flush has no IH) */
	uint64_t counter;		/* flush_start when queued */
	uint64_t when;			/* ops->now_ns when queued */
};

struct fq {
	void *lock;
	struct fq_entry *ring;		/* fq_size entries */
	unsigned head, n;
};

struct vtd_dma {
	struct vtd *v;
	struct vtd_domain *dom;
	enum vtd_dma_mode mode;
	const char *note;
	unsigned fq_size, ranged_max;
	uint64_t timeout;
	bool caller_iova;		/* IOVAs come from vtd_dma_map_at */
	struct iova_domain iad;
	void *flush_lock;		/* serialises domain flushes */
	uint64_t flush_start, flush_finish;	/* atomic */
	struct fq fq[IOVA_SLOTS];
};

static const char note_cm[] = "IOMMU batching disallowed due to caching mode (forced strict)";

static bool dom_has_cm_unit(struct vtd_domain *dom)
{
	struct vtd *v = dom->v;
	bool cm = false;

	vtd_lock(v, v->lock);
	for (unsigned i = 0; i < v->nunits; i++)
		if ((!dom->for_unit || dom->for_unit == v->units[i]) &&
		    (v->units[i]->cap & CAP_CM))
			cm = true;
	vtd_unlock(v, v->lock);
	return cm;
}

int vtd_dma_create(struct vtd_domain *dom, const struct vtd_dma_opts *opts,
		   struct vtd_dma **out)
{
	struct vtd *v = dom->v;
	struct vtd_dma_opts o = opts ? *opts : (struct vtd_dma_opts){ 0 };
	struct vtd_dma *d;
	int ret;

	if (o.mode != VTD_DMA_STRICT && o.mode != VTD_DMA_LAZY && o.mode != VTD_DMA_LAZY_RANGED)
		return -EINVAL;
	if (!o.iova_base && !o.iova_limit) {
		o.iova_base = 1ULL << 20;
		o.iova_limit = o.caller_iova ? UINT64_MAX : 1ULL << 32;
		if (o.caller_iova)
			o.iova_base = 0;
	}
	/*
	 * Never IOVA 0 from the allocator, and nothing the domain's tables
	 * cannot map: a first-stage domain has the lower canonical half only.
	 */
	{
		unsigned width = 12 + 9 * (unsigned)dom->levels -
				 (dom->stage == VTD_STAGE_FIRST);

		if (o.iova_base < PG_MASK + 1 && !o.caller_iova)
			o.iova_base = PG_MASK + 1;
		if (o.iova_limit == UINT64_MAX)
			o.iova_limit &= ~PG_MASK;
		if (width < 64 && o.iova_limit > 1ULL << width)
			o.iova_limit = 1ULL << width;
		if (o.iova_limit <= o.iova_base)
			return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->v = v;
	d->dom = dom;
	d->mode = o.mode;
	d->fq_size = o.fq_size ? o.fq_size : 256;
	d->timeout = o.fq_timeout_ns ? o.fq_timeout_ns : 10000000ULL;
	d->ranged_max = o.ranged_max_desc ? o.ranged_max_desc : 16;
	d->caller_iova = o.caller_iova;
	if (d->mode != VTD_DMA_STRICT && !o.force_mode && dom_has_cm_unit(dom)) {
		d->mode = VTD_DMA_STRICT;
		d->note = note_cm;
	}
	ret = iova_init(&d->iad, v, o.iova_base, o.iova_limit);
	if (ret) {
		free(d);
		return ret;
	}
	d->iad.no_cache = o.caller_iova;
	ret = -ENOMEM;
	d->flush_lock = v->ops->lock_new(v->ctx);
	if (!d->flush_lock)
		goto err;
	if (d->mode != VTD_DMA_STRICT) {
		for (unsigned s = 0; s < IOVA_SLOTS; s++) {
			d->fq[s].lock = v->ops->lock_new(v->ctx);
			d->fq[s].ring = calloc(d->fq_size, sizeof(struct fq_entry));
			if (!d->fq[s].lock || !d->fq[s].ring)
				goto err;
		}
	}
	*out = d;
	return 0;
err:
	vtd_dma_destroy(d);
	return ret;
}

enum vtd_dma_mode vtd_dma_mode(const struct vtd_dma *d)
{
	return d->mode;
}

const char *vtd_dma_note(const struct vtd_dma *d)
{
	return d->note;
}

static int dir_perm(unsigned dir, unsigned *perm)
{
	switch (dir) {
	case VTD_DMA_TO_DEVICE:
		*perm = VTD_PERM_R;
		return 0;
	case VTD_DMA_FROM_DEVICE:
		*perm = VTD_PERM_W;
		return 0;
	case VTD_DMA_BIDIRECTIONAL:
		*perm = VTD_PERM_RW;
		return 0;
	}
	return -EINVAL;
}

/* ---- Flush queues ---- */

/* The IOVA goes back to the allocator, reported to vtd_ops.call. */
static void iova_release(struct vtd_dma *d, uint64_t iova, uint64_t size)
{
	struct vtd_call c = { .kind = VTD_CALL_IOVA_FREE, .dom = d->dom, .iova = iova,
			      .size = size };

	/* Reported first: once freed, another thread may map it again at once. */
	vtd_call_exit(d->v, &c, 0);
	if (d->caller_iova)
		iova_release_span(&d->iad, iova, size);
	else
		iova_free(&d->iad, iova, size);
}

/* The flush counts are shared outside any one lock: a scheduling point. */
static void fq_count_point(struct vtd_dma *d)
{
	vtd_yield_obj(d->v, VTD_Y_SHARED, d->flush_lock);
}

/*
 * An unmapped range whose flush completed goes back: IOVA and table pages.
 * One whose flush failed never does (quarantine): a cache may still
 * translate it, or walk its tables.
 */
static void range_done(struct vtd_dma *d, uint64_t iova, uint64_t size, uint64_t *freelist,
		       size_t nfree, bool flushed)
{
	if (flushed) {
		if (size)
			iova_release(d, iova, size);
		for (size_t i = 0; i < nfree; i++)
			d->v->ops->page_free(d->v->ctx, freelist[i]);
	} else {
		stat_inc(&d->v->iova_quarantined);
		for (size_t i = 0; i < nfree; i++)
			stat_inc(&d->v->pages_quarantined);
	}
	free(freelist);
}

static void entry_release(struct vtd_dma *d, struct fq_entry *e, bool flushed)
{
	range_done(d, e->iova, e->iova_gone ? 0 : e->size, e->freelist, e->nfree, flushed);
	*e = (struct fq_entry){ 0 };
}

/* Release the queue's entries a completed domain flush covers (oldest first). */
static void fq_release_locked(struct vtd_dma *d, struct fq *q)
{
	uint64_t fin;

	fq_count_point(d);
	fin = __atomic_load_n(&d->flush_finish, __ATOMIC_ACQUIRE);

	while (q->n && q->ring[q->head].counter < fin) {
		entry_release(d, &q->ring[q->head], true);
		q->head = (q->head + 1) % d->fq_size;
		q->n--;
	}
}

/* Every entry of the queue: released after a flush covering all of them, else quarantined. */
static void fq_release_all_locked(struct vtd_dma *d, struct fq *q, bool flushed)
{
	while (q->n) {
		entry_release(d, &q->ring[q->head], flushed);
		q->head = (q->head + 1) % d->fq_size;
		q->n--;
	}
}

/*
 * One domain flush covering everything queued before it starts, unless a
 * flush that started after @counter was queued has completed meanwhile
 * (@counter UINT64_MAX: always flush).
 */
static int domain_flush(struct vtd_dma *d, uint64_t counter)
{
	int ret = 0;

	vtd_lock(d->v, d->flush_lock);
	fq_count_point(d);
	if (counter == UINT64_MAX ||
	    counter >= __atomic_load_n(&d->flush_finish, __ATOMIC_ACQUIRE)) {
		__atomic_fetch_add(&d->flush_start, 1, __ATOMIC_SEQ_CST);
		ret = vtd_flush_all(d->dom);
		/*
		 * Only a flush that completed counts: after a failed one the
		 * entries stay queued (finish lags start, so they wait for
		 * the next flush that does complete).
		 */
		fq_count_point(d);
		if (!ret)
			__atomic_fetch_add(&d->flush_finish, 1, __ATOMIC_RELEASE);
		stat_inc(&d->v->fq_flush);
	}
	vtd_unlock(d->v, d->flush_lock);
	return ret;
}

static int range_cmp(const void *a, const void *b)
{
	const struct vtd_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Lazy-ranged: flush the queue's merged ranges page-selectively. */
static void fq_flush_ranged_locked(struct vtd_dma *d, struct fq *q)
{
	struct vtd_span *r = malloc(q->n * sizeof(*r));
	unsigned n = 0;
	bool tables = false;

	if (!r) {
		domain_flush(d, UINT64_MAX);
		fq_release_locked(d, q);
		return;
	}
	for (unsigned i = 0; i < q->n; i++) {
		const struct fq_entry *e = &q->ring[(q->head + i) % d->fq_size];

		r[i] = (struct vtd_span){ e->start, e->end };
		tables |= e->nfree != 0 || e->unlinked;
	}
	qsort(r, q->n, sizeof(*r), range_cmp);
	for (unsigned i = 0; i < q->n; i++) {
		/* Inclusive ends: adjacent when the next starts at end + 1. */
		if (n && r[i].start <= r[n - 1].end + 1) {
			if (r[i].end > r[n - 1].end)
				r[n - 1].end = r[i].end;
		} else {
			r[n++] = r[i];
		}
	}
	if (n > d->ranged_max) {
		domain_flush(d, UINT64_MAX);
		fq_release_locked(d, q);
	} else {
		/* Every merged range in one walk: one batch and one wait per unit. */
		struct vtd_call *c = calloc(n, sizeof(*c));
		int ret;

		if (!c) {	/* no room to report the ranges: the domain, then */
			domain_flush(d, UINT64_MAX);
			fq_release_locked(d, q);
			free(r);
			return;
		}
		for (unsigned i = 0; i < n; i++) {
			c[i] = (struct vtd_call){ .kind = VTD_CALL_FLUSH_RANGE, .dom = d->dom,
						  .iova = r[i].start,
						  .size = r[i].end - r[i].start + 1 };
			vtd_call_enter(d->v, &c[i]);
		}
		ret = cache_tag_flush_ranges(d->dom, r, n, !tables);
		for (unsigned i = 0; i < n; i++)
			vtd_call_exit(d->v, &c[i], ret);
		free(c);

		stat_inc(&d->v->fq_flush);
		if (!ret)
			fq_release_all_locked(d, q, true);
		else if (!domain_flush(d, UINT64_MAX))	/* try the whole domain */
			fq_release_locked(d, q);
	}
	free(r);
}

/* The queue is full or its timer expired: flush it and release it. */
static void fq_flush_locked(struct vtd_dma *d, struct fq *q)
{
	if (!q->n)
		return;
	if (d->mode == VTD_DMA_LAZY_RANGED) {
		fq_flush_ranged_locked(d, q);
		return;
	}
	/* The newest entry: a flush started after it covers the whole queue. */
	domain_flush(d, q->ring[(q->head + q->n - 1) % d->fq_size].counter);
	fq_release_locked(d, q);
}

static bool fq_expired_locked(struct vtd_dma *d, struct fq *q, uint64_t now)
{
	return q->n && now - q->ring[q->head].when >= d->timeout;
}

/* Unmap [iova, iova+size) (page-aligned) with the mode's policy, then free the IOVA. */
/*
 * Unmap, then flush and release as the mode says. -ENOENT when nothing
 * was mapped in the range (a second unmap of the same buffer, even one
 * still waiting in a flush queue, or a range never mapped): nothing is
 * flushed or released, so an IOVA is never freed twice.
 */
static int unmap_ranges(struct vtd_dma *d, struct vtd_device *dev, uint64_t iova,
			uint64_t size, const struct vtd_sg *sg, unsigned nsg)
{
	struct vtd_gather g;
	struct vtd *v = d->v;
	bool strict = d->mode == VTD_DMA_STRICT || (dev && dev->opts.untrusted);
	uint64_t unmapped = 0;

	vtd_gather_init(&g);
	g.queued = !strict;
	if (!sg) {
		unmapped = vtd_unmap(d->dom, iova, size, &g);
	} else {
		uint64_t pos = iova;

		for (unsigned i = 0; i < nsg; i++) {
			uint64_t span = ((sg[i].pa & PG_MASK) + sg[i].len + PG_MASK) & ~PG_MASK;

			unmapped += vtd_unmap(d->dom, pos, span, &g);
			pos += span;
		}
	}
	if (!unmapped) {
		vtd_gather_fini(&g);
		return -ENOENT;
	}
	if (strict) {
		/* A failed sync quarantined the tables; the IOVA stays out too. */
		if (vtd_iotlb_sync(d->dom, &g))
			stat_inc(&v->iova_quarantined);
		else
			iova_release(d, iova, size);
		vtd_gather_fini(&g);
		return 0;
	}

	struct fq *q = &d->fq[vtd_cpu_slot(v)];
	struct fq_entry *e;

	vtd_lock(v, q->lock);
	fq_release_locked(d, q);
	/*
	 * Full: a flush failed, or entries wait for a domain flush another
	 * thread started before they were queued (lazy-ranged's fallback).
	 */
	if (q->n == d->fq_size)
		fq_flush_locked(d, q);
	if (q->n == d->fq_size) {
		/*
		 * Still full. This unmap cannot wait in the queue; flush its
		 * own range now, and quarantine it if that fails too.
		 */
		struct vtd_call c = { .kind = VTD_CALL_FLUSH_RANGE, .dom = d->dom, .iova = iova,
				      .size = size };
		int ret;

		vtd_call_enter(v, &c);
		ret = cache_tag_flush_range(d->dom, iova, iova + size - 1, !g.nfree && !g.unlinked);
		vtd_call_exit(v, &c, ret);

		vtd_unlock(v, q->lock);
		range_done(d, iova, size, g.freelist, g.nfree, ret == 0);
		g.freelist = NULL;
		g.nfree = 0;
		vtd_gather_fini(&g);
		return 0;
	}
	e = &q->ring[(q->head + q->n) % d->fq_size];
	/*
	 * The cleared entries before the flush count we read: a flush that
	 * starts after this read must see them cleared (Linux: smp_mb()).
	 * A read-modify-write of the count (adding 0) is release and acquire
	 * in one: it orders the clears before the read, and a flusher's later
	 * increment of the same count synchronizes with it.  A bare fence
	 * would do on hardware but is invisible to ThreadSanitizer.
	 */
	*e = (struct fq_entry){
		.iova = iova, .size = size, .start = iova, .end = iova + size - 1,
		.freelist = g.freelist, .nfree = g.nfree, .unlinked = g.unlinked,
		.counter = (fq_count_point(d),
			    __atomic_fetch_add(&d->flush_start, 0, __ATOMIC_SEQ_CST)),
		.when = v->ops->now_ns(v->ctx),
	};
	/* Knob iova-reuse-before-flush: the IOVA goes back before any flush. */
	if (KNOB(v, IOVA_REUSE_BEFORE_FLUSH)) {
		e->iova_gone = true;
		iova_release(d, iova, size);
	}
	g.freelist = NULL;
	g.nfree = 0;
	q->n++;
	stat_inc(&v->fq_entries);
	if (q->n == d->fq_size || fq_expired_locked(d, q, e->when))
		fq_flush_locked(d, q);
	vtd_unlock(v, q->lock);
	vtd_gather_fini(&g);
	return 0;
}

void vtd_dma_poll(struct vtd_dma *d)
{
	struct vtd *v = d->v;
	uint64_t now = v->ops->now_ns(v->ctx), counter = 0;
	bool expired = false;

	if (d->mode == VTD_DMA_STRICT)
		return;
	for (unsigned s = 0; s < IOVA_SLOTS; s++) {
		struct fq *q = &d->fq[s];

		vtd_lock(v, q->lock);
		fq_release_locked(d, q);
		if (fq_expired_locked(d, q, now)) {
			if (d->mode == VTD_DMA_LAZY_RANGED) {
				fq_flush_locked(d, q);
			} else {
				uint64_t c = q->ring[(q->head + q->n - 1) % d->fq_size].counter;

				expired = true;
				if (c > counter)
					counter = c;
			}
		}
		vtd_unlock(v, q->lock);
	}
	if (!expired)
		return;
	/* Lazy: one domain flush, then every queue releases what it covers. */
	domain_flush(d, counter);
	for (unsigned s = 0; s < IOVA_SLOTS; s++) {
		vtd_lock(v, d->fq[s].lock);
		fq_release_locked(d, &d->fq[s]);
		vtd_unlock(v, d->fq[s].lock);
	}
}

/*
 * The window is exhausted: IOVAs may be waiting in the queues. One domain
 * flush, then every queue releases what it covers.
 */
static void dma_reclaim(struct vtd_dma *d)
{
	bool queued = false;

	for (unsigned s = 0; s < IOVA_SLOTS; s++) {
		vtd_lock(d->v, d->fq[s].lock);
		queued |= d->fq[s].n != 0;
		vtd_unlock(d->v, d->fq[s].lock);
	}
	if (!queued)
		return;
	domain_flush(d, UINT64_MAX);
	for (unsigned s = 0; s < IOVA_SLOTS; s++) {
		vtd_lock(d->v, d->fq[s].lock);
		fq_release_locked(d, &d->fq[s]);
		vtd_unlock(d->v, d->fq[s].lock);
	}
}

/* An IOVA range; in a lazy mode, reclaim the queued ones before giving up. */
static int dma_iova_alloc(struct vtd_dma *d, uint64_t size, uint64_t *iova)
{
	int ret = iova_alloc(&d->iad, size, iova);

	if (ret == -ENOSPC && d->mode != VTD_DMA_STRICT) {
		dma_reclaim(d);
		ret = iova_alloc(&d->iad, size, iova);
	}
	return ret;
}

void vtd_dma_destroy(struct vtd_dma *d)
{
	struct vtd *v;
	bool queued = false, flushed = true;

	if (!d)
		return;
	v = d->v;
	for (unsigned s = 0; s < IOVA_SLOTS; s++)
		queued |= d->fq[s].n != 0;
	/* A failed last flush quarantines what was still queued. */
	if (queued)
		flushed = domain_flush(d, UINT64_MAX) == 0;
	for (unsigned s = 0; s < IOVA_SLOTS; s++) {
		struct fq *q = &d->fq[s];

		if (q->ring)
			fq_release_all_locked(d, q, flushed);
		free(q->ring);
		if (q->lock)
			v->ops->lock_free(v->ctx, q->lock);
	}
	if (d->flush_lock)
		v->ops->lock_free(v->ctx, d->flush_lock);
	iova_fini(&d->iad);
	free(d);
}

/* ---- Map and unmap ---- */

/* Whole pages covering @len bytes at page offset @off; false if that overflows. */
static bool page_span(uint64_t off, uint64_t len, uint64_t *span)
{
	if (!len || len > UINT64_MAX - off - PG_MASK)
		return false;
	*span = (off + len + PG_MASK) & ~PG_MASK;
	return true;
}

/* Map an IOVA range taken from the allocator; undo it all on failure. */
static int map_range(struct vtd_dma *d, uint64_t base, uint64_t pa, uint64_t len, unsigned perm)
{
	int ret = vtd_map(d->dom, base, pa, len, perm);

	if (ret) {
		/*
		 * vtd_map may fail after writing entries (its flush failed):
		 * take them out as a strict unmap does before the IOVA goes.
		 */
		struct vtd_gather g;

		vtd_gather_init(&g);
		vtd_unmap(d->dom, base, len, &g);
		if (vtd_iotlb_sync(d->dom, &g))
			stat_inc(&d->v->iova_quarantined);
		else
			iova_release(d, base, len);
		vtd_gather_fini(&g);
	}
	return ret;
}

int vtd_dma_map(struct vtd_dma *d, struct vtd_device *dev, uint64_t pa, uint64_t size,
		unsigned dir, uint64_t *iova)
{
	uint64_t off = pa & PG_MASK, len, base;
	unsigned perm;
	int ret;

	(void)dev;
	if (dir_perm(dir, &perm) || !page_span(off, size, &len) || d->caller_iova)
		return -EINVAL;
	ret = dma_iova_alloc(d, len, &base);
	if (ret)
		return ret;
	ret = map_range(d, base, pa - off, len, perm);
	if (ret)
		return ret;
	*iova = base + off;
	return 0;
}

int vtd_dma_map_at(struct vtd_dma *d, struct vtd_device *dev, uint64_t iova, uint64_t pa,
		   uint64_t size, unsigned dir)
{
	uint64_t off = pa & PG_MASK, len;
	unsigned perm;
	int ret;

	(void)dev;
	if (dir_perm(dir, &perm) || !page_span(off, size, &len) || !d->caller_iova ||
	    (iova & PG_MASK) != off || iova - off > UINT64_MAX - len)
		return -EINVAL;
	ret = iova_reserve(&d->iad, iova - off, len);
	/* Perhaps only waiting in a queue for its flush: flush, then retry. */
	if (ret == -EBUSY && d->mode != VTD_DMA_STRICT) {
		dma_reclaim(d);
		ret = iova_reserve(&d->iad, iova - off, len);
	}
	if (ret)
		return ret;
	return map_range(d, iova - off, pa - off, len, perm);
}

int vtd_dma_unmap(struct vtd_dma *d, struct vtd_device *dev, uint64_t iova, uint64_t size)
{
	uint64_t off = iova & PG_MASK, len;

	if (!page_span(off, size, &len))
		return -EINVAL;
	return unmap_ranges(d, dev, iova - off, len, NULL, 0);
}

static uint64_t sg_total(const struct vtd_sg *sg, unsigned n)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t span;

		/* An empty or overflowing element, or total: 0, refused by the caller. */
		if (!page_span(sg[i].pa & PG_MASK, sg[i].len, &span) || total > UINT64_MAX - span)
			return 0;
		total += span;
	}
	return total;
}

int vtd_dma_map_sg(struct vtd_dma *d, struct vtd_device *dev, struct vtd_sg *sg, unsigned n,
		   unsigned dir)
{
	uint64_t total = n ? sg_total(sg, n) : 0, base, pos;
	unsigned perm;
	int ret;

	(void)dev;
	if (!total || dir_perm(dir, &perm) || d->caller_iova)
		return -EINVAL;
	ret = dma_iova_alloc(d, total, &base);
	if (ret)
		return ret;
	pos = base;
	for (unsigned i = 0; i < n; i++) {
		uint64_t off = sg[i].pa & PG_MASK;
		uint64_t span = (off + sg[i].len + PG_MASK) & ~PG_MASK;

		ret = vtd_map(d->dom, pos, sg[i].pa - off, span, perm);
		if (ret) {
			/* Undo what was mapped; nobody has seen these IOVAs yet. */
			struct vtd_gather g;

			vtd_gather_init(&g);
			if (pos > base)
				vtd_unmap(d->dom, base, pos - base, &g);
			vtd_iotlb_sync(d->dom, &g);
			vtd_gather_fini(&g);
			iova_release(d, base, total);
			return ret;
		}
		sg[i].iova = pos + off;
		pos += span;
	}
	return 0;
}

int vtd_dma_unmap_sg(struct vtd_dma *d, struct vtd_device *dev, struct vtd_sg *sg,
		     unsigned n)
{
	uint64_t total = n ? sg_total(sg, n) : 0;

	if (!total)
		return -EINVAL;
	return unmap_ranges(d, dev, sg[0].iova & ~PG_MASK, total, sg, n);
}
