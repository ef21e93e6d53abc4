/*
 * cache_tag.c — the one place that decides every invalidation a domain
 * needs. A domain keeps a list of cache tags, one per cache that may hold
 * its translations: the IOTLB of each unit it is attached through (by
 * DID and PASID) and the device TLB of each ATS device. A flush walks the
 * list under cache_lock, encodes descriptors, batches them per unit with
 * the IOTLB invalidation before the device-TLB one (VT-d 6.5.3.3: IOTLB,
 * then device TLB), and submits each batch with one wait.
 */
#include <errno.h>
#include <stdlib.h>
#include "core/internal.h"
#include "fmt/entry.h"
#include "fmt/regs.h"

#define PSI_MAX_MASK	52	/* address bits 63:12: the whole space */

static const char *const tag_names[] = {
	[CACHE_TAG_IOTLB] = "iotlb",
	[CACHE_TAG_DEVTLB] = "devtlb",
	[CACHE_TAG_NESTING_IOTLB] = "nesting_iotlb",
	[CACHE_TAG_NESTING_DEVTLB] = "nesting_devtlb",
};

static bool is_iotlb(const struct cache_tag *t)
{
	return t->type == CACHE_TAG_IOTLB || t->type == CACHE_TAG_NESTING_IOTLB;
}

static void trace_tag(struct vtd *v, enum vtd_event_type type, const struct cache_tag *t,
		      uint64_t start, uint64_t end, uint64_t addr, unsigned mask)
{
	struct vtd_event ev = {
		.type = type, .unit = t->unit->name,
		.dev = is_iotlb(t) ? t->unit->name : t->dev->name,
		.tag_type = tag_names[t->type], .did = t->did, .pasid = t->pasid,
		.users = t->users, .start = start, .end = end, .addr = addr,
		.pages = mask >= 64 - 12 ? 0 : 1ULL << mask, .mask = mask,
	};

	vtd_trace(v, &ev);
}

static bool tag_match(const struct cache_tag *t, enum cache_tag_type type,
		      struct vtd_unit *u, struct vtd_device *dev, uint16_t did, uint32_t pasid)
{
	if (t->type != type || t->did != did || t->pasid != pasid || t->unit != u)
		return false;
	return is_iotlb(t) || t->dev == dev;
}

static int tag_get_locked(struct vtd_domain *dom, enum cache_tag_type type,
			  struct vtd_unit *u, struct vtd_device *dev, uint16_t did,
			  uint32_t pasid)
{
	struct cache_tag *t, **pp;

	for (t = dom->tags; t; t = t->next) {
		if (tag_match(t, type, u, dev, did, pasid)) {
			t->users++;
			trace_tag(dom->v, VTD_EV_TAG_ASSIGN, t, 0, 0, 0, 0);
			return 0;
		}
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct cache_tag){ .type = type, .unit = u, .dev = dev, .did = did,
				 .pasid = pasid, .users = 1 };
	/* Keep each unit's tags together, so a walk meets one unit at a time. */
	for (pp = &dom->tags; *pp; pp = &(*pp)->next)
		if ((*pp)->unit == u && (!(*pp)->next || (*pp)->next->unit != u)) {
			pp = &(*pp)->next;
			break;
		}
	vtd_yield_obj(dom->v, VTD_Y_SHARED, dom->cache_lock);
	t->next = *pp;
	*pp = t;
	trace_tag(dom->v, VTD_EV_TAG_ASSIGN, t, 0, 0, 0, 0);
	return 0;
}

static void tag_put_locked(struct vtd_domain *dom, enum cache_tag_type type,
			   struct vtd_unit *u, struct vtd_device *dev, uint16_t did,
			   uint32_t pasid)
{
	for (struct cache_tag **pp = &dom->tags; *pp; pp = &(*pp)->next) {
		struct cache_tag *t = *pp;

		if (!tag_match(t, type, u, dev, did, pasid))
			continue;
		t->users--;
		trace_tag(dom->v, VTD_EV_TAG_UNASSIGN, t, 0, 0, 0, 0);
		if (!t->users) {
			vtd_yield_obj(dom->v, VTD_Y_SHARED, dom->cache_lock);
			*pp = t->next;
			if (KNOB(dom->v, UNLOCKED_TAG_WALK)) {
				/*
				 * An unlocked walker may stand on this tag: end its
				 * walk here rather than let it read freed memory, and
				 * free the tag at vtd_destroy (the explorer then sees
				 * the invalidations the walk missed).
				 */
				t->next = NULL;
				t->grave = __atomic_load_n(&dom->v->tag_graveyard, __ATOMIC_RELAXED);
				while (!__atomic_compare_exchange_n(&dom->v->tag_graveyard, &t->grave,
								    t, false, __ATOMIC_RELEASE,
								    __ATOMIC_RELAXED))
					;
			} else {
				free(t);
			}
		}
		return;
	}
}

int cache_tag_assign(struct vtd_domain *dom, struct vtd_device *dev, uint16_t did,
		     uint32_t pasid)
{
	int ret;

	vtd_lock(dom->v, dom->cache_lock);
	ret = tag_get_locked(dom, CACHE_TAG_IOTLB, dev->unit, NULL, did, pasid);
	if (!ret && dev->opts.ats) {
		ret = tag_get_locked(dom, CACHE_TAG_DEVTLB, dev->unit, dev, did, pasid);
		if (ret)
			tag_put_locked(dom, CACHE_TAG_IOTLB, dev->unit, NULL, did, pasid);
	}
	vtd_unlock(dom->v, dom->cache_lock);
	return ret;
}

void cache_tag_unassign(struct vtd_domain *dom, struct vtd_device *dev, uint16_t did,
			uint32_t pasid)
{
	vtd_lock(dom->v, dom->cache_lock);
	if (dev->opts.ats)
		tag_put_locked(dom, CACHE_TAG_DEVTLB, dev->unit, dev, did, pasid);
	tag_put_locked(dom, CACHE_TAG_IOTLB, dev->unit, NULL, did, pasid);
	vtd_unlock(dom->v, dom->cache_lock);
}

unsigned psi_mask(uint64_t start, uint64_t end, uint64_t *addr)
{
	uint64_t s = start >> 12, e = end >> 12;
	/* The smallest aligned 2^m-page block holding both ends: s and e agree above bit m. */
	unsigned mask = s == e ? 0 : 64 - (unsigned)__builtin_clzll(s ^ e);

	if (mask >= PSI_MAX_MASK) {
		*addr = 0;
		return PSI_MAX_MASK;
	}
	*addr = (s >> mask) << mask << 12;
	return mask;
}

/* The flush walks' lock; knob unlocked-tag-walk walks without it (seed 003). */
static void tags_lock(struct vtd_domain *dom)
{
	if (!KNOB(dom->v, UNLOCKED_TAG_WALK))
		vtd_lock(dom->v, dom->cache_lock);
}

static void tags_unlock(struct vtd_domain *dom)
{
	if (!KNOB(dom->v, UNLOCKED_TAG_WALK))
		vtd_unlock(dom->v, dom->cache_lock);
}

/* Descriptors for one unit, flushed at VTD_QI_BATCH and at the end. */
struct batch {
	struct vtd_unit *unit;
	struct vtd_desc d[VTD_QI_BATCH];
	unsigned n;
	int err;
};

static void batch_flush(struct batch *b)
{
	if (b->n) {
		int ret = qi_submit_sync(b->unit, b->d, b->n);

		if (ret && !b->err)
			b->err = ret;
	}
	b->n = 0;
}

static void batch_add(struct batch *b, struct vtd_unit *u, struct vtd_desc d)
{
	if (b->unit != u) {
		batch_flush(b);
		b->unit = u;
	}
	if (b->n == VTD_QI_BATCH - 1)	/* one slot stays for the wait */
		batch_flush(b);
	b->d[b->n++] = d;
}

static struct vtd_desc iotlb_desc(const struct vtd_domain *dom, const struct cache_tag *t,
				  uint64_t addr, unsigned mask, bool ih)
{
	struct vtd_unit *u = t->unit;
	bool all = mask >= PSI_MAX_MASK;

	if (dom->stage == VTD_STAGE_FIRST)
		return vtd_desc_encode(&(struct vtd_desc_fields){
			.type = DESC_PIOTLB, .g = all ? PIOTLB_G_PASID : PIOTLB_G_PSI,
			.did = t->did, .pasid = t->pasid, .addr = all ? 0 : addr,
			.am = all ? 0 : mask, .ih = !all && ih });
	/* No PSI, or a mask past MAMV: the whole domain (CAP.PSI, CAP.MAMV). */
	if (all || !(u->cap & CAP_PSI) || mask > FIELD_GET(CAP_MAMV, u->cap))
		return vtd_desc_encode(&(struct vtd_desc_fields){
			.type = DESC_IOTLB, .g = IOTLB_G_DSI, .did = t->did,
			.dr = u->cap & CAP_DRD, .dw = u->cap & CAP_DWD });
	return vtd_desc_encode(&(struct vtd_desc_fields){
		.type = DESC_IOTLB, .g = IOTLB_G_PSI, .did = t->did, .addr = addr, .am = mask,
		.ih = ih, .dr = u->cap & CAP_DRD, .dw = u->cap & CAP_DWD });
}

static struct vtd_desc devtlb_desc(const struct cache_tag *t, uint64_t addr, unsigned mask)
{
	const struct vtd_device *dev = t->dev;
	uint16_t pfsid = (t->unit->ecap & ECAP_DIT) ? dev->opts.pfsid : 0;
	/* A queue depth of 32 or more is written as 0 (MIP is 5 bits). */
	unsigned qdep = dev->opts.qdep >= 32 ? 0 : dev->opts.qdep;
	struct vtd_desc_fields f = { .sid = dev->sid, .pfsid = pfsid, .qdep = qdep,
				     .pasid = t->pasid };

	devtlb_range_encode(addr, mask, &f.addr, &f.s);
	f.type = t->pasid == dev->rid_pasid ? DESC_DEVTLB : DESC_PDEVTLB;
	return vtd_desc_encode(&f);
}

/* The walk's next tag; knob unlocked-tag-walk: a scheduling point first. */
static struct cache_tag *next_tag(struct vtd_domain *dom, struct cache_tag *t, bool unlocked)
{
	if (unlocked)
		vtd_yield_obj(dom->v, VTD_Y_SHARED, dom->cache_lock);
	return t->next;
}

/* One range of a flush, with its page-selective address and mask. */
struct flush_target {
	uint64_t start, end, addr;
	unsigned mask;
};

/*
 * Walk the tags for one flush of @n ranges: each unit's IOTLB
 * descriptors for every range, then its device-TLB ones, one batch per
 * unit (VT-d 6.5.3.3 order within the unit). @ev names the trace event.
 */
static int flush_tags_locked(struct vtd_domain *dom, const struct flush_target *ft,
			     unsigned n, bool ih, enum vtd_event_type ev)
{
	struct batch b = { 0 };

	bool unlocked = KNOB(dom->v, UNLOCKED_TAG_WALK);

	stat_inc(&dom->tag_walks);
	if (unlocked)
		vtd_yield_obj(dom->v, VTD_Y_SHARED, dom->cache_lock);
	for (struct cache_tag *t = dom->tags; t; t = next_tag(dom, t, unlocked)) {
		struct vtd_unit *u = t->unit;

		if (u == b.unit)
			continue;	/* this unit's tags are done */
		for (struct cache_tag *i = t; i && i->unit == u; i = i->next) {
			if (!is_iotlb(i))
				continue;
			for (unsigned k = 0; k < n; k++) {
				trace_tag(dom->v, ev, i, ft[k].start, ft[k].end, ft[k].addr,
					  ft[k].mask);
				batch_add(&b, u, iotlb_desc(dom, i, ft[k].addr, ft[k].mask, ih));
			}
		}
		for (struct cache_tag *i = t; i && i->unit == u; i = i->next) {
			/*
			 * A device that is gone would never answer and its time-out
			 * would abort the whole batch's wait (6.5.2.10): skip it.
			 */
			if (is_iotlb(i) || device_gone(i->dev))
				continue;
			/* Knob no-devtlb-inv: trust caching mode to cover device TLBs (seed 001). */
			if ((u->cap & CAP_CM) && KNOB(dom->v, NO_DEVTLB_INV))
				continue;
			for (unsigned k = 0; k < n; k++) {
				trace_tag(dom->v, ev, i, ft[k].start, ft[k].end, ft[k].addr,
					  ft[k].mask);
				batch_add(&b, u, devtlb_desc(i, ft[k].addr, ft[k].mask));
			}
		}
		if (!b.unit)
			b.unit = u;
	}
	batch_flush(&b);
	return b.err;
}

int cache_tag_flush_range(struct vtd_domain *dom, uint64_t start, uint64_t end, bool ih)
{
	struct vtd_span one = { start, end };

	return cache_tag_flush_ranges(dom, &one, 1, ih);
}

int cache_tag_flush_ranges(struct vtd_domain *dom, const struct vtd_span *r, unsigned n,
			   bool ih)
{
	struct flush_target *ft = calloc(n ? n : 1, sizeof(*ft));
	int ret;

	if (!ft)
		return cache_tag_flush_all(dom);	/* over-invalidation is always safe */
	for (unsigned k = 0; k < n; k++) {
		ft[k].start = r[k].start;
		ft[k].end = r[k].end;
		ft[k].mask = psi_mask(r[k].start, r[k].end, &ft[k].addr);
	}
	tags_lock(dom);
	ret = flush_tags_locked(dom, ft, n, ih, VTD_EV_TAG_FLUSH_RANGE);
	tags_unlock(dom);
	free(ft);
	return ret;
}

int cache_tag_flush_all(struct vtd_domain *dom)
{
	int ret;

	const struct flush_target all = { 0, UINT64_MAX, 0, PSI_MAX_MASK };

	tags_lock(dom);
	ret = flush_tags_locked(dom, &all, 1, false, VTD_EV_TAG_FLUSH_ALL);
	tags_unlock(dom);
	return ret;
}

/*
 * The map path: entries went from not present to present. Without caching
 * mode the hardware cached nothing about them (VT-d 6.1), so only the
 * write buffer may need flushing (6.8); first-stage tables are not
 * affected by CM either. Under CM a page-selective IOTLB invalidation,
 * never a device-TLB one: device TLBs never cache not-present entries.
 */
int cache_tag_flush_range_np(struct vtd_domain *dom, uint64_t start, uint64_t end)
{
	uint64_t addr;
	unsigned mask = psi_mask(start, end, &addr);
	struct batch b = { 0 };

	tags_lock(dom);
	stat_inc(&dom->tag_walks);
	for (struct cache_tag *t = dom->tags; t; t = t->next) {
		struct vtd_unit *u = t->unit;

		trace_tag(dom->v, VTD_EV_TAG_FLUSH_RANGE_NP, t, start, end, addr, mask);
		if (!is_iotlb(t))
			continue;
		if (!(u->cap & CAP_CM) || dom->stage == VTD_STAGE_FIRST)
			unit_flush_write_buffer(u);
		else if (!KNOB(dom->v, NO_MAP_FLUSH_CM))	/* knob: skip it */
			batch_add(&b, u, iotlb_desc(dom, t, addr, mask, false));
	}
	batch_flush(&b);
	tags_unlock(dom);
	return b.err;
}
