/*
 * attach.c — devices, and the order in which a device's translation is
 * switched on, moved and torn down (VT-d 6.5.3.3, and the seeds: tags of
 * the new domain live before hardware can walk its table; write buffer
 * flushed before the entry is installed; under CM, context-cache and
 * domain IOTLB invalidation after it; old tags dropped only after the
 * switch; teardown clears Present first, invalidates context/PASID cache,
 * then IOTLB, then device TLB, and only then clears the rest).
 *
 * Legacy mode: one 128-bit context entry per device. Scalable mode: a
 * context entry pointing at the device's PASID directory, and the PASID
 * entry of RID_PASID (0) carrying the domain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/internal.h"
#include "fmt/entry.h"
#include "fmt/regs.h"

int vtd_device_add(struct vtd *v, struct vtd_unit *u, uint16_t sid,
		   const struct vtd_device_opts *opts, struct vtd_device **out)
{
	struct vtd_device *d;
	int ret = 0;

	/* A device TLB is invalidated only through the queue (6.5.2.5). */
	if (opts && opts->ats && (!(u->ecap & ECAP_DT) || !u->qi))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->v = v;
	d->unit = u;
	d->sid = sid;
	if (opts)
		d->opts = *opts;
	snprintf(d->name, sizeof(d->name), "0000:%02x:%02x.%x", sid >> 8, (sid >> 3) & 0x1f,
		 sid & 7);
	vtd_lock(v, v->lock);
	for (unsigned i = 0; i < v->ndevs; i++)
		if (v->devs[i]->sid == sid && v->devs[i]->unit == u)
			ret = -EEXIST;
	if (!ret && v->ndevs == VTD_MAX_DEVICES)
		ret = -ENOSPC;
	if (!ret) {
		v->devs[v->ndevs] = d;
		__atomic_store_n(&v->ndevs, v->ndevs + 1, __ATOMIC_RELEASE);
	}
	vtd_unlock(v, v->lock);
	if (ret)
		free(d);
	else
		*out = d;
	return ret;
}

void vtd_device_set_gone(struct vtd_device *d)
{
	__atomic_store_n(&d->gone, true, __ATOMIC_RELAXED);
}

uint16_t vtd_device_sid(const struct vtd_device *d)
{
	return d->sid;
}

/* ---- Context and PASID entries; unit.lock held ---- */

/* Address of @dev's context entry, allocating its context table. */
static int ctx_entry_locked(struct vtd_device *dev, uint64_t *ce)
{
	struct vtd_unit *u = dev->unit;
	struct vtd *v = u->v;
	uint64_t re = u->root + (dev->sid >> 8) * ROOT_ENTRY_SIZE;
	uint64_t table;

	if (u->sm && (dev->sid & 0x80))
		re += 8;	/* upper half: devfn 128-255 (9.2) */
	table = v->ops->mem_read64(v->ctx, re);
	if (!(table & ROOT_P)) {
		if (table_page_alloc(v, !u->coherent, &table))
			return -ENOMEM;
		unit_entry_write(u, re, table | ROOT_P, false);
	}
	table &= ROOT_CTP;
	*ce = u->sm ? table + (dev->sid & 0x7f) * SM_CTX_ENTRY_SIZE :
		      table + (dev->sid & 0xff) * CTX_ENTRY_SIZE;
	return 0;
}

/* Scalable mode: the device's context entry and PASID table, once. */
static int pasid_entry_locked(struct vtd_device *dev, uint64_t *pe, bool *new_ctx)
{
	struct vtd_unit *u = dev->unit;
	struct vtd *v = u->v;
	uint64_t ce, table;
	int ret;

	*new_ctx = false;
	if (!dev->pasid_dir) {
		ret = ctx_entry_locked(dev, &ce);
		if (ret)
			return ret;
		if (v->ops->page_alloc(v->ctx, &dev->pasid_dir))
			return -ENOMEM;
		if (v->ops->page_alloc(v->ctx, &table)) {
			v->ops->page_free(v->ctx, dev->pasid_dir);
			dev->pasid_dir = 0;
			return -ENOMEM;
		}
		/* Directory entry 0 covers PASIDs 0-63, RID_PASID among them (9.5). */
		unit_entry_write(u, dev->pasid_dir, table | PDE_P, true);
		unit_entry_write(u, ce + 8, FIELD_PREP(SMCTX_RID_PASID, dev->rid_pasid), false);
		unit_entry_write(u, ce, dev->pasid_dir | FIELD_PREP(SMCTX_PDTS, 0) |
			       (dev->opts.ats ? SMCTX_DTE : 0) | SMCTX_P, false);
		*new_ctx = true;
	}
	table = v->ops->mem_read64(v->ctx, dev->pasid_dir) & PDE_SMPTBLPTR;
	*pe = table + (dev->rid_pasid & 63) * PASID_ENTRY_SIZE;
	return 0;
}

/* Write @dev's entry for @dom (DID @did); Present is written last. */
static int install_locked(struct vtd_device *dev, struct vtd_domain *dom, uint16_t did,
			  bool *new_ctx)
{
	struct vtd_unit *u = dev->unit;
	uint64_t e;
	int ret;

	if (!u->sm) {
		ret = ctx_entry_locked(dev, &e);
		if (ret)
			return ret;
		*new_ctx = true;
		unit_entry_write(u, e + 8, FIELD_PREP(CTX_AW, levels_to_aw(dom->levels)) |
			       FIELD_PREP(CTX_DID, did), false);
		unit_entry_write(u, e, dom->pgd |
			       FIELD_PREP(CTX_TT, dev->opts.ats ? CTX_TT_DEVTLB :
						  CTX_TT_UNTRANSLATED) | CTX_P, false);
		return 0;
	}
	ret = pasid_entry_locked(dev, &e, new_ctx);
	if (ret)
		return ret;
	unit_entry_write(u, e + 8, FIELD_PREP(PTE1_DID, did), true);
	if (dom->stage == VTD_STAGE_FIRST) {
		unit_entry_write(u, e + 16, dom->pgd |
			       FIELD_PREP(PTE2_FLPM, dom->levels == 5 ? 1 : 0), true);
		unit_entry_write(u, e, FIELD_PREP(PTE0_PGTT, PGTT_FS) | PTE0_P, true);
	} else {
		unit_entry_write(u, e + 16, 0, true);
		unit_entry_write(u, e, dom->pgd | FIELD_PREP(PTE0_AW, levels_to_aw(dom->levels)) |
			       FIELD_PREP(PTE0_PGTT, PGTT_SS) | PTE0_P, true);
	}
	return 0;
}

/* Address of the qword holding Present of @dev's entry. */
static uint64_t present_qword_locked(struct vtd_device *dev)
{
	uint64_t e = 0;
	bool unused;

	if (dev->unit->sm)
		pasid_entry_locked(dev, &e, &unused);
	else
		ctx_entry_locked(dev, &e);
	return e;
}

/* ---- Invalidation around entry changes ---- */

static struct vtd_desc cc_device(const struct vtd_device *dev, uint16_t did)
{
	return vtd_desc_encode(&(struct vtd_desc_fields){ .type = DESC_CC, .g = CC_G_DEVICE,
							  .did = did, .sid = dev->sid });
}

static struct vtd_desc iotlb_dsi(const struct vtd_unit *u, uint16_t did)
{
	return vtd_desc_encode(&(struct vtd_desc_fields){
		.type = DESC_IOTLB, .g = IOTLB_G_DSI, .did = did, .dr = u->cap & CAP_DRD,
		.dw = u->cap & CAP_DWD });
}

/*
 * Hardware may now walk @dom through the new entry (10.4.3 CM): under
 * caching mode it may have cached the entry as not present, so invalidate
 * the device's context entry (DID 0 tags cached not-present entries), the
 * PASID cache, and the domain's IOTLB. Without CM nothing not-present was
 * cached.
 */
static int after_install(struct vtd_device *dev, uint16_t did, bool new_ctx)
{
	struct vtd_unit *u = dev->unit;
	struct vtd_desc d[3];
	unsigned n = 0;

	/*
	 * Without CM no invalidation follows, and with RWBF the entry just
	 * written would sit in the write buffer, unseen by the unit, until
	 * some later flush (6.8: not present to present needs an explicit
	 * flush). Under CM the invalidations below drain it.
	 */
	if (!(u->cap & CAP_CM)) {
		/* Knob no-wbf-before-install drops this one too (docs/checker.md). */
		if (!KNOB(u->v, NO_WBF_BEFORE_INSTALL))
			unit_flush_write_buffer(u);
		return 0;
	}
	/* Device-selective, DID 0: only this device's cached not-present entry. */
	if (new_ctx)
		d[n++] = cc_device(dev, 0);
	if (u->sm)
		d[n++] = vtd_desc_encode(&(struct vtd_desc_fields){
			.type = DESC_PC, .g = PC_G_PASID, .did = did, .pasid = dev->rid_pasid });
	d[n++] = iotlb_dsi(u, did);
	return qi_submit_sync(u, d, n);
}

/*
 * Teardown of @dev's entry for DID @did: Present off, then context or
 * PASID cache, IOTLB, device TLB (6.5.3.3), then the rest of the entry.
 */
static int teardown(struct vtd_device *dev, struct vtd_domain *old, uint16_t did)
{
	struct vtd_unit *u = dev->unit;
	struct vtd *v = u->v;
	struct vtd_desc d[3];
	uint64_t e, lo;
	unsigned n = 0;
	int ret;

	vtd_lock(v, u->lock);
	e = present_qword_locked(dev);
	lo = v->ops->mem_read64(v->ctx, e);
	unit_entry_write(u, e, lo & ~(uint64_t)CTX_P, u->sm);
	vtd_unlock(v, u->lock);

	if (u->sm)
		d[n++] = vtd_desc_encode(&(struct vtd_desc_fields){
			.type = DESC_PC, .g = PC_G_PASID, .did = did, .pasid = dev->rid_pasid });
	else
		d[n++] = cc_device(dev, did);
	if (old->stage == VTD_STAGE_FIRST)
		d[n++] = vtd_desc_encode(&(struct vtd_desc_fields){
			.type = DESC_PIOTLB, .g = PIOTLB_G_PASID, .did = did,
			.pasid = dev->rid_pasid });
	else
		d[n++] = iotlb_dsi(u, did);
	if (dev->opts.ats && !device_gone(dev)) {
		struct vtd_desc_fields f = {
			.type = DESC_DEVTLB, .sid = dev->sid,
			.qdep = dev->opts.qdep >= 32 ? 0 : dev->opts.qdep,
			.pfsid = (u->ecap & ECAP_DIT) ? dev->opts.pfsid : 0 };

		devtlb_range_encode(0, 52, &f.addr, &f.s);
		d[n++] = vtd_desc_encode(&f);
	}
	ret = qi_submit_sync(u, d, n);

	vtd_lock(v, u->lock);
	if (u->sm) {
		for (int i = 1; i < 8; i++)
			unit_entry_write(u, e + 8 * i, 0, true);
		unit_entry_write(u, e, 0, true);
	} else {
		unit_entry_write(u, e + 8, 0, false);
		unit_entry_write(u, e, 0, false);
	}
	vtd_unlock(v, u->lock);
	return ret;
}

/*
 * Scalable mode, device left with no PASID attached: retire its context
 * entry too, so that nothing — not even a translated request from a
 * device TLB that never answered an invalidation — is admitted by a
 * context entry still saying DTE=1. Present off, context-cache
 * invalidation, then the rest; the PASID directory and table are freed
 * once no cache can reach them.
 */
static int retire_sm_context(struct vtd_device *dev)
{
	struct vtd_unit *u = dev->unit;
	struct vtd *v = u->v;
	struct vtd_desc d = cc_device(dev, 0);
	uint64_t ce, table;
	int ret;

	vtd_lock(v, u->lock);
	ctx_entry_locked(dev, &ce);
	unit_entry_write(u, ce, v->ops->mem_read64(v->ctx, ce) & ~(uint64_t)SMCTX_P, false);
	vtd_unlock(v, u->lock);
	ret = qi_submit_sync(u, &d, 1);
	vtd_lock(v, u->lock);
	for (int i = 1; i < 4; i++)
		unit_entry_write(u, ce + 8 * i, 0, false);
	unit_entry_write(u, ce, 0, false);
	table = v->ops->mem_read64(v->ctx, dev->pasid_dir) & PDE_SMPTBLPTR;
	v->ops->page_free(v->ctx, table);
	v->ops->page_free(v->ctx, dev->pasid_dir);
	dev->pasid_dir = 0;
	vtd_unlock(v, u->lock);
	return ret;
}

static uint16_t did_on(struct vtd_domain *dom, struct vtd_unit *u)
{
	uint16_t did = 0;

	vtd_lock(dom->v, dom->cache_lock);
	for (unsigned i = 0; i < VTD_MAX_UNITS; i++)
		if (dom->units[i].unit == u)
			did = dom->units[i].did;
	vtd_unlock(dom->v, dom->cache_lock);
	return did;
}

/* @now: where the device is when the call returns (for vtd_call). */
static int attach(struct vtd_domain *dom, struct vtd_device *dev, struct vtd_domain **now)
{
	struct vtd *v = dom->v;
	struct vtd_unit *u = dev->unit;
	struct vtd_domain *old;
	struct vtd_event ev = { .type = VTD_EV_ATTACH, .dev = dev->name };
	uint16_t did, old_did = 0;
	bool new_ctx = false;
	int ret;

	vtd_lock(v, v->lock);
	old = dev->domain;
	ret = 0;
	if (old == dom)
		goto out;
	/*
	 * A unit whose map path must flush, on a domain allocated without
	 * that flush: refused, nothing changed (seed 000: a static property,
	 * never switched on behind concurrent maps).
	 */
	ret = -EINVAL;
	if (!unit_supports_domain(u, dom) ||
	    (unit_needs_sync_map(u, dom->stage) && !dom->sync_map &&
	     !KNOB(v, DYNAMIC_SYNC_MAP)))
		goto out;
	/* A unit that does not snoop needs tables written back (10.4.3 C). */
	if (!u->coherent && dom->coherent && dom->stage == VTD_STAGE_SECOND)
		goto out;
	ret = domain_unit_get(dom, u, &did);
	if (ret)
		goto out;
	/* 1. The new domain's invalidations are live before hardware can walk it. */
	if (!KNOB(v, TAGS_AFTER_INSTALL)) {
		ret = cache_tag_assign(dom, dev, did, dev->rid_pasid);
		if (ret)
			goto err_put;
	}
	/* Knob old-tags-removed-first: stop invalidating for the old domain now. */
	if (old && KNOB(v, OLD_TAGS_REMOVED_FIRST)) {
		old_did = did_on(old, u);
		cache_tag_unassign(old, dev, old_did, dev->rid_pasid);
	}
	/* 2. Leave the old entry (teardown order), keeping its tags until after. */
	if (old) {
		old_did = did_on(old, u);
		ret = teardown(dev, old, old_did);
		if (ret) {
			/*
			 * The device TLB may still hold the old domain's
			 * translations: a new entry admitting translated
			 * requests must not go in. Leave the device detached
			 * (scalable mode: no context entry with DTE=1 either).
			 */
			if (u->sm)
				retire_sm_context(dev);
			if (!KNOB(v, OLD_TAGS_REMOVED_FIRST))
				cache_tag_unassign(old, dev, old_did, dev->rid_pasid);
			domain_unit_put(old, u);
			old->ndevs--;
			dev->domain = NULL;
			old = NULL;
			goto err_tags;
		}
	}
	/* 3. Table writes reach the unit before the entry that points at them (6.8). */
	if (!KNOB(v, NO_WBF_BEFORE_INSTALL))
		unit_flush_write_buffer(u);
	vtd_lock(v, u->lock);
	ret = install_locked(dev, dom, did, &new_ctx);
	vtd_unlock(v, u->lock);
	if (ret)
		goto err_tags;
	/* 4. Caching mode may have cached the entry as not present. */
	ret = after_install(dev, did, new_ctx);
	if (!ret && KNOB(v, TAGS_AFTER_INSTALL))
		ret = cache_tag_assign(dom, dev, did, dev->rid_pasid);
	/* Knob dynamic-sync-map: the flag follows the units, set with no serialisation. */
	if (!ret && KNOB(v, DYNAMIC_SYNC_MAP) && unit_needs_sync_map(u, dom->stage))
		__atomic_store_n(&dom->sync_map, true, __ATOMIC_RELAXED);
	if (ret) {
		/*
		 * The entry is live but its invalidation failed: take it down
		 * again, in teardown order, before its DID and tags go.
		 */
		teardown(dev, dom, did);
		if (u->sm)
			retire_sm_context(dev);
		goto err_tags;
	}
	/* 5. Only now stop invalidating for the old domain. */
	if (old) {
		if (!KNOB(v, OLD_TAGS_REMOVED_FIRST))
			cache_tag_unassign(old, dev, old_did, dev->rid_pasid);
		domain_unit_put(old, u);
		old->ndevs--;
	}
	dev->domain = dom;
	dom->ndevs++;
	*now = dom;
	vtd_unlock(v, v->lock);
	vtd_trace(v, &ev);
	return 0;
err_tags:
	cache_tag_unassign(dom, dev, did, dev->rid_pasid);
	if (old) {
		if (!KNOB(v, OLD_TAGS_REMOVED_FIRST))
			cache_tag_unassign(old, dev, old_did, dev->rid_pasid);
		domain_unit_put(old, u);
		old->ndevs--;
		dev->domain = NULL;
	}
err_put:
	domain_unit_put(dom, u);
out:
	*now = dev->domain;
	vtd_unlock(v, v->lock);
	return ret;
}

int vtd_attach(struct vtd_domain *dom, struct vtd_device *dev)
{
	struct vtd_call c = { .kind = VTD_CALL_ATTACH, .dom = dom, .dev = dev };
	int ret;

	vtd_call_enter(dom->v, &c);
	ret = attach(dom, dev, &c.now);
	vtd_call_exit(dom->v, &c, ret);
	return ret;
}

static int detach(struct vtd_device *dev, struct vtd_domain **now)
{
	struct vtd *v = dev->v;
	struct vtd_domain *old;
	uint16_t did;
	int ret = 0, err;

	vtd_lock(v, v->lock);
	old = dev->domain;
	if (old) {
		did = did_on(old, dev->unit);
		ret = teardown(dev, old, did);
		if (dev->unit->sm) {
			err = retire_sm_context(dev);
			if (!ret)
				ret = err;
		}
		cache_tag_unassign(old, dev, did, dev->rid_pasid);
		domain_unit_put(old, dev->unit);
		old->ndevs--;
		dev->domain = NULL;
	}
	*now = dev->domain;
	vtd_unlock(v, v->lock);
	return ret;
}

int vtd_detach(struct vtd_device *dev)
{
	struct vtd_call c = { .kind = VTD_CALL_DETACH, .dev = dev };
	int ret;

	vtd_call_enter(dev->v, &c);
	ret = detach(dev, &c.now);
	vtd_call_exit(dev->v, &c, ret);
	return ret;
}
