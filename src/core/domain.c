/*
 * domain.c — paging domains: allocation with the page-table format every
 * unit supports, the domain <-> unit array with its per-unit DIDs, and
 * the map/unmap/sync entry points that tie the page tables to the cache
 * tags (map: iotlb_sync_map; unmap: gather; sync: flush, then free).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"
#include "fmt/pte.h"
#include "fmt/regs.h"

/* Leaf sizes @u supports for @stage (CAP.SLLPS, CAP.FL1GP). */
static uint64_t unit_pgsizes(const struct vtd_unit *u, enum vtd_stage stage)
{
	uint64_t s = PGSIZE_4K;

	if (stage == VTD_STAGE_FIRST)
		return s | PGSIZE_2M | ((u->cap & CAP_FL1GP) ? PGSIZE_1G : 0);
	if (FIELD_GET(CAP_SLLPS, u->cap) & 1)
		s |= PGSIZE_2M;
	if (FIELD_GET(CAP_SLLPS, u->cap) & 2)
		s |= PGSIZE_1G;
	return s;
}

bool unit_needs_sync_map(const struct vtd_unit *u, enum vtd_stage stage)
{
	return (u->cap & CAP_RWBF) || ((u->cap & CAP_CM) && stage == VTD_STAGE_SECOND);
}

/* Whether @u can walk @dom's tables: stage, depth and leaf sizes. */
bool unit_supports_domain(const struct vtd_unit *u, const struct vtd_domain *dom)
{
	if (dom->stage == VTD_STAGE_FIRST) {
		if (!u->sm || !(u->ecap & ECAP_FSTS))
			return false;
		if (dom->levels == 5 && !(u->cap & CAP_FL5LP))
			return false;
	} else {
		if (u->sm && !(u->ecap & ECAP_SSTS))
			return false;
		if (!(FIELD_GET(CAP_SAGAW, u->cap) & (1ULL << (dom->levels - 2))))
			return false;
	}
	return (dom->pgsizes & ~unit_pgsizes(u, dom->stage)) == 0;
}

int vtd_domain_alloc(struct vtd *v, const struct vtd_domain_opts *opts,
		     struct vtd_domain **out)
{
	struct vtd_domain *dom;
	int ret;

	if (!v->nunits)
		return -ENODEV;
	dom = calloc(1, sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	dom->v = v;
	dom->stage = opts && opts->stage ? opts->stage : VTD_STAGE_SECOND;
	dom->levels = opts && opts->levels ? opts->levels : 4;
	dom->pgsizes = PGSIZE_4K | PGSIZE_2M | PGSIZE_1G;
	dom->coherent = true;
	dom->for_unit = opts ? opts->unit : NULL;
	ret = -EINVAL;
	if (dom->levels < 3 || dom->levels > 5 ||
	    (dom->stage == VTD_STAGE_FIRST && dom->levels == 3))
		goto err;
	/* A format every target unit can walk; its map-path flushing, once. */
	for (unsigned i = 0; i < v->nunits; i++) {
		struct vtd_unit *u = v->units[i];

		if (opts && opts->unit && opts->unit != u)
			continue;
		dom->pgsizes &= unit_pgsizes(u, dom->stage);
		dom->coherent &= u->coherent;
		/* Knob dynamic-sync-map: decided at attach instead (seed 000's first try). */
		if (!KNOB(v, DYNAMIC_SYNC_MAP))
			dom->sync_map |= unit_needs_sync_map(u, dom->stage);
	}
	for (unsigned i = 0; i < v->nunits; i++)
		if ((!opts || !opts->unit || opts->unit == v->units[i]) &&
		    !unit_supports_domain(v->units[i], dom))
			goto err;
	ret = -ENOMEM;
	dom->pt_lock = v->ops->lock_new(v->ctx);
	dom->cache_lock = v->ops->lock_new(v->ctx);
	if (!dom->pt_lock || !dom->cache_lock)
		goto err;
	ret = pt_alloc_root(dom);
	if (ret)
		goto err;
	vtd_lock(v, v->lock);
	dom->next = v->domains;
	v->domains = dom;
	vtd_unlock(v, v->lock);
	*out = dom;
	return 0;
err:
	if (dom->pt_lock)
		v->ops->lock_free(v->ctx, dom->pt_lock);
	if (dom->cache_lock)
		v->ops->lock_free(v->ctx, dom->cache_lock);
	free(dom);
	return ret;
}

bool vtd_domain_sync_map(const struct vtd_domain *dom)
{
	return __atomic_load_n(&dom->sync_map, __ATOMIC_RELAXED);
}

int vtd_domain_free(struct vtd_domain *dom)
{
	struct vtd *v = dom->v;

	vtd_lock(v, v->lock);
	if (dom->ndevs) {
		vtd_unlock(v, v->lock);
		return -EBUSY;
	}
	for (struct vtd_domain **pp = &v->domains; *pp; pp = &(*pp)->next) {
		if (*pp == dom) {
			*pp = dom->next;
			break;
		}
	}
	v->tag_walks_freed += stat_read(&dom->tag_walks);
	vtd_unlock(v, v->lock);
	pt_free_all(dom);
	v->ops->lock_free(v->ctx, dom->pt_lock);
	v->ops->lock_free(v->ctx, dom->cache_lock);
	free(dom);
	return 0;
}

/* The domain's DID on @u, allocated on first use; units[] under cache_lock. */
int domain_unit_get(struct vtd_domain *dom, struct vtd_unit *u, uint16_t *did)
{
	struct domain_unit *free_slot = NULL;
	int ret = 0;

	vtd_lock(dom->v, dom->cache_lock);
	for (unsigned i = 0; i < VTD_MAX_UNITS; i++) {
		struct domain_unit *du = &dom->units[i];

		if (du->unit == u) {
			du->refcnt++;
			*did = du->did;
			goto out;
		}
		if (!du->unit && !free_slot)
			free_slot = du;
	}
	ret = unit_did_alloc(u, did);
	if (!ret)
		*free_slot = (struct domain_unit){ .unit = u, .refcnt = 1, .did = *did };
out:
	vtd_unlock(dom->v, dom->cache_lock);
	return ret;
}

void domain_unit_put(struct vtd_domain *dom, struct vtd_unit *u)
{
	vtd_lock(dom->v, dom->cache_lock);
	for (unsigned i = 0; i < VTD_MAX_UNITS; i++) {
		struct domain_unit *du = &dom->units[i];

		if (du->unit != u)
			continue;
		if (!--du->refcnt) {
			unit_did_free(u, du->did);
			*du = (struct domain_unit){ 0 };
		}
		break;
	}
	vtd_unlock(dom->v, dom->cache_lock);
}

/* ---- Gather ---- */

static bool gather_empty(const struct vtd_gather *g)
{
	return g->start > g->end;
}

/* Free the gathered table pages: the flush that covers them has completed. */
static void gather_free_pages(struct vtd_domain *dom, struct vtd_gather *g)
{
	for (size_t i = 0; i < g->nfree; i++)
		dom->v->ops->page_free(dom->v->ctx, g->freelist[i]);
	g->nfree = 0;
}

/* ---- Map and unmap ---- */

static int map(struct vtd_domain *dom, uint64_t iova, uint64_t pa, uint64_t size, unsigned perm)
{
	struct vtd_event ev = { .type = VTD_EV_MAP, .iova = iova, .pa = pa, .size = size };
	struct vtd_gather freed;
	int ret;

	if (!(perm & VTD_PERM_RW) || perm & ~VTD_PERM_RW)
		return -EINVAL;
	vtd_gather_init(&freed);
	vtd_lock(dom->v, dom->pt_lock);
	ret = pt_map_locked(dom, iova, pa, size, perm, &freed);
	vtd_unlock(dom->v, dom->pt_lock);
	if (!ret)
		vtd_trace(dom->v, &ev);
	/*
	 * A superpage replaced tables the hardware may still cache (even if
	 * the map failed later and was undone): flush, then free them.
	 */
	if (freed.nfree) {
		int err = cache_tag_flush_range(dom, iova, iova + size - 1, false);

		if (err) {
			/* No flush covers them: never reuse them (quarantine). */
			for (size_t i = 0; i < freed.nfree; i++)
				stat_inc(&dom->v->pages_quarantined);
			freed.nfree = 0;
		}
		gather_free_pages(dom, &freed);
		if (!ret)
			ret = err;
	}
	/*
	 * iotlb_sync_map, a static property: no CM/RWBF unit, no work at all.
	 * (Knob dynamic-sync-map: attach may set the flag while we run; it
	 * is read once, with no lock, as seed 000's first version did.)
	 */
	if (!ret && __atomic_load_n(&dom->sync_map, __ATOMIC_RELAXED))
		ret = cache_tag_flush_range_np(dom, iova, iova + size - 1);
	else if (!ret)
		stat_inc(&dom->v->sync_map_noop);
	vtd_gather_fini(&freed);
	return ret;
}

int vtd_map(struct vtd_domain *dom, uint64_t iova, uint64_t pa, uint64_t size, unsigned perm)
{
	struct vtd_call c = { .kind = VTD_CALL_MAP, .dom = dom, .iova = iova, .pa = pa,
			      .size = size, .perm = perm };
	int ret;

	vtd_call_enter(dom->v, &c);
	ret = map(dom, iova, pa, size, perm);
	vtd_call_exit(dom->v, &c, ret);
	return ret;
}

/* Size of the leaf that maps @iova, 4K if none does. */
static uint64_t leaf_size_locked(struct vtd_domain *dom, uint64_t iova)
{
	uint64_t pa, pgsize;
	unsigned perm;

	return pt_lookup_locked(dom, iova, &pa, &perm, &pgsize) ? PGSIZE_4K : pgsize;
}

static uint64_t unmap(struct vtd_domain *dom, uint64_t iova, uint64_t size, struct vtd_gather *g)
{
	struct vtd_event ev = { .type = VTD_EV_UNMAP, .iova = iova, .size = size };
	struct vtd_gather mine;
	uint64_t done, leaf = 0, last = iova + size - 1, lo, hi, lo_size, hi_size;

	if (!size || last < iova)
		return 0;
	vtd_gather_init(&mine);
	vtd_lock(dom->v, dom->pt_lock);
	/*
	 * A superpage the range covers only in part is split, which changes
	 * its entry; invalidating a superpage's mapping needs an address
	 * mask that covers all of it (VT-d 11.4.8.2 IVA_REG.AM: "at least 9"
	 * for a 2 MB page). So the flush covers the superpages at both ends.
	 */
	lo_size = leaf_size_locked(dom, iova);
	hi_size = leaf_size_locked(dom, last);
	lo = iova & ~(lo_size - 1);
	hi = last | (hi_size - 1);
	done = pt_unmap_locked(dom, iova, size, &mine, &leaf);
	vtd_unlock(dom->v, dom->pt_lock);
	if (leaf < lo_size)
		leaf = lo_size;
	if (leaf < hi_size)
		leaf = hi_size;
	ev.done = done;
	vtd_trace(dom->v, &ev);
	/*
	 * A range that unlinked tables needs its flush even if it mapped
	 * nothing: a paging-structure cache may still point into them.
	 */
	if (!g->queued && (done || mine.nfree)) {
		/*
		 * A range disjoint from the gathered one, or another page size:
		 * flush what was gathered first (its freed tables only — this
		 * unmap's tables are not yet covered by any flush).
		 */
		if (!gather_empty(g) &&
		    (g->pgsize != leaf || lo > g->end + 1 || hi + 1 < g->start)) {
			stat_inc(&dom->v->gather_sync_early);
			vtd_iotlb_sync(dom, g);
		}
		g->pgsize = leaf;
		if (lo < g->start)
			g->start = lo;
		if (hi > g->end)
			g->end = hi;
	}
	/* Even if a knob frees them early, the flush must drop cached pointers to them. */
	g->unlinked |= mine.nfree != 0;
	for (size_t i = 0; i < mine.nfree; i++) {
		/* Knob free-table-before-flush: the pages go back before any flush. */
		if (KNOB(dom->v, FREE_TABLE_BEFORE_FLUSH)) {
			dom->v->ops->page_free(dom->v->ctx, mine.freelist[i]);
			continue;
		}
		if (gather_add_free(g, mine.freelist[i]) == 0)
			continue;
		/* No room to defer them: flush this range now, then free the rest. */
		bool flushed = cache_tag_flush_range(dom, lo, hi, false) == 0;

		for (; i < mine.nfree; i++) {
			if (flushed)
				dom->v->ops->page_free(dom->v->ctx, mine.freelist[i]);
			else
				stat_inc(&dom->v->pages_quarantined);
		}
	}
	vtd_gather_fini(&mine);
	return done;
}

uint64_t vtd_unmap(struct vtd_domain *dom, uint64_t iova, uint64_t size, struct vtd_gather *g)
{
	struct vtd_call c = { .kind = VTD_CALL_UNMAP, .dom = dom, .iova = iova, .size = size };
	uint64_t done;

	vtd_call_enter(dom->v, &c);
	done = unmap(dom, iova, size, g);
	vtd_call_exit(dom->v, &c, (int64_t)done);
	return done;
}

static int iotlb_sync(struct vtd_domain *dom, struct vtd_gather *g)
{
	int ret = 0;

	/* A queued gather belongs to the flush queue, which flushes the domain. */
	if (g->queued)
		return 0;

	if (!gather_empty(g)) {
		ret = cache_tag_flush_range(dom, g->start, g->end, g->nfree == 0 && !g->unlinked);
		/* The range flush failed: try the whole domain before freeing anything. */
		if (ret && g->nfree)
			ret = cache_tag_flush_all(dom);
	}
	if (ret) {
		/*
		 * No flush is known to cover the unlinked tables: a cache may
		 * still walk them, so they are never reused (quarantined).
		 */
		for (size_t i = 0; i < g->nfree; i++)
			stat_inc(&dom->v->pages_quarantined);
		g->nfree = 0;
	}
	gather_free_pages(dom, g);
	g->start = UINT64_MAX;
	g->end = 0;
	g->pgsize = 0;
	g->unlinked = false;
	return ret;
}

int vtd_iotlb_sync(struct vtd_domain *dom, struct vtd_gather *g)
{
	struct vtd_call c = { .kind = VTD_CALL_SYNC, .dom = dom };
	int ret;

	/* What it covers: the gathered range (none for a queued gather). */
	if (!g->queued && !gather_empty(g)) {
		c.iova = g->start;
		c.size = g->end - g->start + 1;
		if (!c.size)		/* the whole 2^64 space */
			c.size = UINT64_MAX;
	}
	vtd_call_enter(dom->v, &c);
	ret = iotlb_sync(dom, g);
	vtd_call_exit(dom->v, &c, ret);
	return ret;
}

uint64_t vtd_unmap_sync(struct vtd_domain *dom, uint64_t iova, uint64_t size)
{
	struct vtd_gather g;
	uint64_t done;

	vtd_gather_init(&g);
	done = vtd_unmap(dom, iova, size, &g);
	vtd_iotlb_sync(dom, &g);
	vtd_gather_fini(&g);
	return done;
}

int vtd_flush_all(struct vtd_domain *dom)
{
	struct vtd_call c = { .kind = VTD_CALL_FLUSH_ALL, .dom = dom, .size = UINT64_MAX };
	int ret;

	vtd_call_enter(dom->v, &c);
	ret = cache_tag_flush_all(dom);
	vtd_call_exit(dom->v, &c, ret);
	return ret;
}

int vtd_iova_to_phys(struct vtd_domain *dom, uint64_t iova, uint64_t *pa, unsigned *perm)
{
	uint64_t pgsize;
	int ret;

	vtd_lock(dom->v, dom->pt_lock);
	ret = pt_lookup_locked(dom, iova, pa, perm, &pgsize);
	vtd_unlock(dom->v, dom->pt_lock);
	return ret;
}
