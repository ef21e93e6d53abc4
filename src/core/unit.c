/*
 * unit.c — one remapping unit as the driver sees it: probing CAP/ECAP,
 * the root table, the invalidation queue and its error recovery,
 * register-based invalidation when there is no queue, write-buffer
 * flushing, fault records, and the GCMD/GSTS handshakes (VT-d 10.4.4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"
#include "fmt/entry.h"
#include "fmt/regs.h"

#define QI_DONE		1u	/* status data of our wait descriptors */
#define QI_RETRIES	3	/* resubmissions after ITE before giving up */
#define OP_TIMEOUT_NS	1000000000ULL	/* a handshake that takes 1 s is broken */

uint64_t unit_reg64(struct vtd_unit *u, unsigned off)
{
	return u->v->ops->mmio_read64(u->v->ctx, u->base + off);
}

uint32_t unit_reg32(struct vtd_unit *u, unsigned off)
{
	return u->v->ops->mmio_read32(u->v->ctx, u->base + off);
}

void unit_set_reg64(struct vtd_unit *u, unsigned off, uint64_t val)
{
	u->v->ops->mmio_write64(u->v->ctx, u->base + off, val);
}

void unit_set_reg32(struct vtd_unit *u, unsigned off, uint32_t val)
{
	u->v->ops->mmio_write32(u->v->ctx, u->base + off, val);
}

void unit_entry_write(struct vtd_unit *u, uint64_t pa, uint64_t val, bool coherent_kind)
{
	struct vtd *v = u->v;

	v->ops->mem_write64(v->ctx, pa, val);
	vtd_yield(v, VTD_Y_ENTRY_WRITE);
	/* Root, context and second-stage tables are snooped only with ECAP.C. */
	if (!u->coherent && !coherent_kind) {
		v->ops->clflush(v->ctx, pa);
		stat_inc(&u->stat[UST_CLFLUSH]);
	}
}

/* Poll until (reg & mask) == want; -ETIMEDOUT after OP_TIMEOUT_NS. */
static int poll32(struct vtd_unit *u, unsigned off, uint32_t mask, uint32_t want)
{
	struct vtd *v = u->v;
	uint64_t start = v->ops->now_ns(v->ctx);

	while ((unit_reg32(u, off) & mask) != want) {
		vtd_yield(v, VTD_Y_POLL);
		if (v->ops->now_ns(v->ctx) - start > OP_TIMEOUT_NS)
			return -ETIMEDOUT;
		v->ops->relax(v->ctx);
	}
	return 0;
}

static int poll64(struct vtd_unit *u, unsigned off, uint64_t mask, uint64_t want)
{
	struct vtd *v = u->v;
	uint64_t start = v->ops->now_ns(v->ctx);

	while ((unit_reg64(u, off) & mask) != want) {
		vtd_yield(v, VTD_Y_POLL);
		if (v->ops->now_ns(v->ctx) - start > OP_TIMEOUT_NS)
			return -ETIMEDOUT;
		v->ops->relax(v->ctx);
	}
	return 0;
}

/*
 * One GCMD command (10.4.4): the persistent status bits, with @bit set or
 * cleared, then wait for @status to read @want. Called with unit.lock held.
 */
static int gcmd_locked(struct vtd_unit *u, uint32_t bit, bool set, uint32_t status, bool want)
{
	uint32_t keep = unit_reg32(u, DMAR_GSTS_REG) &
			(uint32_t)(GSTS_TES | GSTS_QIES | GSTS_IRES | GSTS_CFIS);

	unit_set_reg32(u, DMAR_GCMD_REG, set ? keep | bit : keep & ~bit);
	return poll32(u, DMAR_GSTS_REG, status, want ? status : 0);
}

void unit_flush_write_buffer(struct vtd_unit *u)
{
	if (!(u->cap & CAP_RWBF))
		return;
	vtd_lock(u->v, u->lock);
	gcmd_locked(u, (uint32_t)GCMD_WBF, true, (uint32_t)GSTS_WBFS, false);
	stat_inc(&u->stat[UST_WBF]);
	vtd_unlock(u->v, u->lock);
}

int unit_did_alloc(struct vtd_unit *u, uint16_t *did)
{
	int ret = -ENOSPC;

	vtd_lock(u->v, u->lock);
	for (unsigned d = VTD_DID_RESERVED; d < u->ndoms; d++) {
		if (!(u->did_map[d / 64] & (1ULL << (d % 64)))) {
			u->did_map[d / 64] |= 1ULL << (d % 64);
			*did = (uint16_t)d;
			ret = 0;
			break;
		}
	}
	vtd_unlock(u->v, u->lock);
	return ret;
}

void unit_did_free(struct vtd_unit *u, uint16_t did)
{
	vtd_lock(u->v, u->lock);
	u->did_map[did / 64] &= ~(1ULL << (did % 64));
	vtd_unlock(u->v, u->lock);
}

/* ---- Queued invalidation (6.5.2) ---- */

static unsigned desc_bytes(const struct vtd_unit *u)
{
	return u->wide ? 32 : 16;
}

static void count_desc(struct vtd_unit *u, const struct vtd_desc *d)
{
	struct vtd_desc_fields f;

	vtd_desc_decode(d, &f);
	switch (f.type) {
	case DESC_CC: stat_inc(&u->stat[UST_DESC_CC]); break;
	case DESC_IOTLB:
		stat_inc(&u->stat[f.g == IOTLB_G_GLOBAL ? UST_DESC_IOTLB_GLOBAL :
				  f.g == IOTLB_G_DSI ? UST_DESC_IOTLB_DSI : UST_DESC_IOTLB_PSI]);
		break;
	case DESC_DEVTLB: stat_inc(&u->stat[UST_DESC_DEVTLB]); break;
	case DESC_IEC: stat_inc(&u->stat[UST_DESC_IEC]); break;
	case DESC_WAIT: stat_inc(&u->stat[UST_DESC_WAIT]); break;
	case DESC_PIOTLB: stat_inc(&u->stat[UST_DESC_PIOTLB]); break;
	case DESC_PC: stat_inc(&u->stat[UST_DESC_PC]); break;
	case DESC_PDEVTLB: stat_inc(&u->stat[UST_DESC_PDEVTLB]); break;
	}
}

static void put_desc(struct vtd_unit *u, unsigned slot, const struct vtd_desc *d, bool trace)
{
	struct vtd *v = u->v;
	uint64_t at = u->iq + (uint64_t)slot * desc_bytes(u);

	for (unsigned i = 0; i < desc_bytes(u) / 8; i++)
		v->ops->mem_write64(v->ctx, at + 8 * i, d->qw[i]);
	vtd_yield(v, VTD_Y_DESC_WRITE);
	count_desc(u, d);
	if (trace) {
		struct vtd_event ev = { .type = VTD_EV_QI_SUBMIT, .unit = u->name,
					.qw = { d->qw[0], d->qw[1], d->qw[2], d->qw[3] } };

		vtd_trace(v, &ev);
	}
}

/* Whether a device-TLB invalidation timing out at @sid may be retried. */
static bool sid_alive(struct vtd_unit *u, uint16_t sid)
{
	struct vtd *v = u->v;

	unsigned n = __atomic_load_n(&v->ndevs, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++)
		if (v->devs[i]->sid == sid && v->devs[i]->unit == u)
			return !__atomic_load_n(&v->devs[i]->gone, __ATOMIC_RELAXED);
	return false;
}

/* The queue ran into IQE, ITE or ICE: recover it; >0 means resubmit. */
static int qi_fault_locked(struct vtd_unit *u, unsigned start, unsigned wait_slot, int *retries)
{
	uint32_t fsts = unit_reg32(u, DMAR_FSTS_REG);

	if (fsts & FSTS_IQE) {
		unsigned head = (unsigned)(unit_reg64(u, DMAR_IQH_REG) & IQ_PTR) / desc_bytes(u);
		unsigned n = (wait_slot + u->iq_size - start) % u->iq_size;
		struct vtd_desc nop = vtd_desc_encode(&(struct vtd_desc_fields){ .type = DESC_WAIT });

		stat_inc(&u->stat[UST_QI_IQE]);
		/* Ours: replace the refused descriptor by a plain wait, let the rest run. */
		if ((head + u->iq_size - start) % u->iq_size <= n) {
			put_desc(u, head, &nop, false);
			unit_set_reg32(u, DMAR_FSTS_REG, (uint32_t)FSTS_IQE);
			return -EINVAL;
		}
		unit_set_reg32(u, DMAR_FSTS_REG, (uint32_t)FSTS_IQE);
	}
	if (fsts & FSTS_ITE) {
		uint16_t sid = (uint16_t)FIELD_GET(IQER_ITESID, unit_reg64(u, DMAR_IQER_REG));

		stat_inc(&u->stat[UST_QI_ITE]);
		unit_set_reg32(u, DMAR_FSTS_REG, (uint32_t)FSTS_ITE);
		/* Our wait was aborted. A device that is gone never answers. */
		if (!sid_alive(u, sid) || ++*retries > QI_RETRIES)
			return -ETIMEDOUT;
		stat_inc(&u->stat[UST_QI_RETRY]);
		return 1;
	}
	if (fsts & FSTS_ICE) {
		stat_inc(&u->stat[UST_QI_ICE]);
		unit_set_reg32(u, DMAR_FSTS_REG, (uint32_t)FSTS_ICE);
	}
	return 0;
}

static int qi_submit_locked(struct vtd_unit *u, const struct vtd_desc *d, unsigned n)
{
	struct vtd *v = u->v;
	int retries = 0, err = 0;

again:
	{
		unsigned start = u->tail, wait_slot = (start + n) % u->iq_size;
		uint64_t status = u->status + 4ULL * wait_slot;
		struct vtd_desc w = vtd_desc_encode(&(struct vtd_desc_fields){
			.type = DESC_WAIT, .sw = true, .sdata = QI_DONE, .addr = status });
		uint64_t t0 = v->ops->now_ns(v->ctx);

		for (unsigned i = 0; i < n; i++)
			put_desc(u, (start + i) % u->iq_size, &d[i], true);
		v->ops->mem_write32(v->ctx, status, 0);
		put_desc(u, wait_slot, &w, false);
		u->tail = (wait_slot + 1) % u->iq_size;
		stat_inc(&u->stat[UST_QI_SUBMIT]);
		unit_set_reg64(u, DMAR_IQT_REG, (uint64_t)u->tail * desc_bytes(u));
		vtd_yield(v, VTD_Y_DESC_WRITE);

		while (v->ops->mem_read32(v->ctx, status) != QI_DONE) {
			int r;

			vtd_yield(v, VTD_Y_POLL);
			r = qi_fault_locked(u, start, wait_slot, &retries);
			if (r > 0)
				goto again;
			if (r < 0)
				err = r;
			if (r == -ETIMEDOUT)
				return r;
			if (v->ops->now_ns(v->ctx) - t0 > OP_TIMEOUT_NS)
				return -ETIMEDOUT;
			v->ops->relax(v->ctx);
		}
	}
	return err;
}

/* Register-based invalidation (6.5.1) for a unit without a queue. */
static int reg_invalidate_locked(struct vtd_unit *u, const struct vtd_desc *d)
{
	unsigned iva = ecap_iva_offset(u->ecap);
	struct vtd_desc_fields f;
	uint64_t r;

	vtd_desc_decode(d, &f);
	stat_inc(&u->stat[UST_REG_INV]);
	switch (f.type) {
	case DESC_CC:
		unit_set_reg64(u, DMAR_CCMD_REG, CCMD_ICC | FIELD_PREP(CCMD_CIRG, f.g) |
				 FIELD_PREP(CCMD_FM, f.fm) | FIELD_PREP(CCMD_SID, f.sid) |
				 FIELD_PREP(CCMD_DID, f.did));
		if (poll64(u, DMAR_CCMD_REG, CCMD_ICC, 0))
			return -ETIMEDOUT;
		return FIELD_GET(CCMD_CAIG, unit_reg64(u, DMAR_CCMD_REG)) ? 0 : -EIO;
	case DESC_IOTLB:
		if (f.g == IOTLB_G_PSI)
			unit_set_reg64(u, iva, f.addr | FIELD_PREP(IVA_AM, f.am) |
					 (f.ih ? IVA_IH : 0));
		r = IOTLB_IVT | FIELD_PREP(IOTLB_IIRG, f.g) | FIELD_PREP(IOTLB_DID, f.did);
		if (u->cap & CAP_DWD)
			r |= IOTLB_DW;
		if (u->cap & CAP_DRD)
			r |= IOTLB_DR;
		unit_set_reg64(u, iva + 8, r);
		if (poll64(u, iva + 8, IOTLB_IVT, 0))
			return -ETIMEDOUT;
		return FIELD_GET(IOTLB_IAIG, unit_reg64(u, iva + 8)) ? 0 : -EIO;
	default:
		return -EOPNOTSUPP;	/* needs the queue */
	}
}

int qi_submit_sync(struct vtd_unit *u, const struct vtd_desc *d, unsigned n)
{
	int ret = 0;

	if (!u->qi) {
		vtd_lock(u->v, u->lock);
		for (unsigned i = 0; i < n && !ret; i++)
			ret = reg_invalidate_locked(u, &d[i]);
		vtd_unlock(u->v, u->lock);
		return ret;
	}
	vtd_lock(u->v, u->qi_lock);
	ret = qi_submit_locked(u, d, n);
	vtd_unlock(u->v, u->qi_lock);
	return ret;
}

/* ---- Bring-up ---- */

static int setup_qi(struct vtd_unit *u)
{
	struct vtd *v = u->v;
	int ret;

	u->wide = u->sm;	/* scalable mode needs 256-bit descriptors */
	u->iq_size = u->wide ? 128 : 256;	/* one 4 KiB page, QS=0 */
	if (v->ops->page_alloc(v->ctx, &u->iq))
		return -ENOMEM;
	if (v->ops->page_alloc(v->ctx, &u->status)) {
		v->ops->page_free(v->ctx, u->iq);
		u->iq = 0;
		return -ENOMEM;
	}
	vtd_lock(v, u->lock);
	unit_set_reg64(u, DMAR_IQT_REG, 0);
	unit_set_reg64(u, DMAR_IQA_REG, u->iq | (u->wide ? IQA_DW : 0));
	ret = gcmd_locked(u, (uint32_t)GCMD_QIE, true, (uint32_t)GSTS_QIES, true);
	vtd_unlock(v, u->lock);
	return ret;
}

/* After SRTP nothing cached may survive: context, PASID and IOTLB, globally. */
static int flush_everything(struct vtd_unit *u)
{
	struct vtd_desc d[3];
	unsigned n = 0;

	d[n++] = vtd_desc_encode(&(struct vtd_desc_fields){ .type = DESC_CC, .g = CC_G_GLOBAL });
	if (u->sm)
		d[n++] = vtd_desc_encode(&(struct vtd_desc_fields){ .type = DESC_PC,
								     .g = PC_G_GLOBAL });
	d[n++] = vtd_desc_encode(&(struct vtd_desc_fields){
		.type = DESC_IOTLB, .g = IOTLB_G_GLOBAL, .dr = u->cap & CAP_DRD,
		.dw = u->cap & CAP_DWD });
	return qi_submit_sync(u, d, n);
}

/*
 * Translation off, queue off, then every page the unit used: context
 * tables (both halves of a scalable root entry), root table, queue.
 * Devices must be detached already.
 */
void unit_shutdown(struct vtd_unit *u)
{
	struct vtd *v = u->v;

	vtd_lock(v, u->lock);
	gcmd_locked(u, (uint32_t)GCMD_TE, false, (uint32_t)GSTS_TES, false);
	if (u->qi)
		gcmd_locked(u, (uint32_t)GCMD_QIE, false, (uint32_t)GSTS_QIES, false);
	for (unsigned bus = 0; bus < 256; bus++) {
		for (unsigned half = 0; half < (u->sm ? 2u : 1u); half++) {
			uint64_t re = u->root + bus * ROOT_ENTRY_SIZE + 8 * half;
			uint64_t e = v->ops->mem_read64(v->ctx, re);

			if (e & ROOT_P)
				v->ops->page_free(v->ctx, e & ROOT_CTP);
		}
	}
	if (u->root)
		v->ops->page_free(v->ctx, u->root);
	if (u->iq)
		v->ops->page_free(v->ctx, u->iq);
	if (u->status)
		v->ops->page_free(v->ctx, u->status);
	u->root = u->iq = u->status = 0;
	vtd_unlock(v, u->lock);
}

void unit_free(struct vtd_unit *u)
{
	struct vtd *v = u->v;

	if (u->lock)
		v->ops->lock_free(v->ctx, u->lock);
	if (u->qi_lock)
		v->ops->lock_free(v->ctx, u->qi_lock);
	free(u->did_map);
	free(u);
}

int vtd_unit_add(struct vtd *v, uint64_t base, const struct vtd_unit_opts *opts,
		 struct vtd_unit **out)
{
	struct vtd_unit *u;
	uint64_t sagaw;
	int ret = -ENOMEM;

	if (v->nunits >= VTD_MAX_UNITS)
		return -ENOSPC;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->v = v;
	u->base = base;
	u->idx = v->nunits;
	if (opts && opts->name)
		snprintf(u->name, sizeof(u->name), "%s", opts->name);
	else
		snprintf(u->name, sizeof(u->name), "dmar%u", u->idx);
	u->cap = unit_reg64(u, DMAR_CAP_REG);
	u->ecap = unit_reg64(u, DMAR_ECAP_REG);
	sagaw = FIELD_GET(CAP_SAGAW, u->cap);
	ret = -ENODEV;
	if (!(sagaw & (SAGAW_3LVL | SAGAW_4LVL | SAGAW_5LVL)))
		goto err;
	u->sm = opts && opts->scalable && (u->ecap & ECAP_SMTS);
	u->qi = (u->ecap & ECAP_QI) && !(opts && opts->no_qi && !u->sm);
	u->coherent = u->ecap & ECAP_C;
	u->ndoms = (unsigned)cap_ndoms(u->cap);
	ret = -ENOMEM;
	u->lock = v->ops->lock_new(v->ctx);
	u->qi_lock = v->ops->lock_new(v->ctx);
	u->did_map = calloc((u->ndoms + 63) / 64, sizeof(uint64_t));
	if (!u->lock || !u->qi_lock || !u->did_map || table_page_alloc(v, !u->coherent, &u->root))
		goto err;
	u->did_map[0] |= (1ULL << VTD_DID_RESERVED) - 1;

	/* Root table (10.4.6), then SRTP (10.4.4). */
	vtd_lock(v, u->lock);
	unit_set_reg64(u, DMAR_RTADDR_REG,
		       u->root | FIELD_PREP(RTADDR_TTM, u->sm ? TTM_SCALABLE : TTM_LEGACY));
	ret = gcmd_locked(u, (uint32_t)GCMD_SRTP, true, (uint32_t)GSTS_RTPS, true);
	vtd_unlock(v, u->lock);
	if (ret)
		goto err;
	if (u->qi) {
		ret = setup_qi(u);
		if (ret)
			goto err;
	}
	ret = flush_everything(u);
	if (ret)
		goto err;
	/* Start from a clean fault state: records and overflow from before us. */
	vtd_unit_faults(u, NULL, NULL);
	vtd_lock(v, u->lock);
	ret = gcmd_locked(u, (uint32_t)GCMD_TE, true, (uint32_t)GSTS_TES, true);
	vtd_unlock(v, u->lock);
	if (ret)
		goto err;
	vtd_lock(v, v->lock);
	v->units[v->nunits++] = u;
	vtd_unlock(v, v->lock);
	*out = u;
	return 0;
err:
	/* Undo what reached the hardware: TE and QIE off, pages back. */
	if (u->root)
		unit_shutdown(u);
	unit_free(u);
	return ret;
}

const char *vtd_unit_name(const struct vtd_unit *u)
{
	return u->name;
}

uint64_t vtd_unit_cap(const struct vtd_unit *u)
{
	return u->cap;
}

uint64_t vtd_unit_ecap(const struct vtd_unit *u)
{
	return u->ecap;
}

int vtd_unit_faults(struct vtd_unit *u, void (*fn)(void *arg, uint16_t sid, uint64_t addr,
						  unsigned reason, bool write), void *arg)
{
	unsigned frcd = cap_frcd_offset(u->cap), nfr = cap_nfr(u->cap);
	int n = 0;

	vtd_lock(u->v, u->lock);
	for (unsigned i = 0; i < nfr; i++) {
		uint64_t hi = unit_reg64(u, frcd + 16 * i + 8);

		if (!(hi & FRCD_HI_F))
			continue;
		if (fn)
			fn(arg, (uint16_t)FIELD_GET(FRCD_HI_SID, hi),
			   unit_reg64(u, frcd + 16 * i) & FRCD_LO_FI,
			   (unsigned)FIELD_GET(FRCD_HI_FR, hi), !(hi & FRCD_HI_T1));
		unit_set_reg32(u, frcd + 16 * i + 12, (uint32_t)(FRCD_HI_F >> 32));
		stat_inc(&u->stat[UST_FAULT]);
		n++;
	}
	unit_set_reg32(u, DMAR_FSTS_REG, (uint32_t)FSTS_PFO);
	vtd_unlock(u->v, u->lock);
	return n;
}
