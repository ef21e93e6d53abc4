/*
 * qi.c — queued invalidation (VT-d 6.5.2) and register-based invalidation
 * (6.5.1). The queue runs when software moves IQT: each descriptor is
 * fetched at IQH, checked (a bad one sets FSTS.IQE and parks IQH on it),
 * IQH advances, and the descriptor is processed. Device-TLB invalidations
 * go to the endpoint; one that is never answered blocks every later wait
 * until the time-out sets FSTS.ITE and aborts them.
 */
#include "fmt/regs.h"
#include "fmt/entry.h"
#include "fmt/pte.h"
#include "model/internal.h"

static unsigned desc_bytes(const struct vtdm_unit *u)
{
	return u->iq_wide ? 32 : 16;
}

static unsigned iqh_index(const struct vtdm_unit *u)
{
	return (unsigned)(reg64(u, DMAR_IQH_REG) & IQ_PTR) / desc_bytes(u);
}

static void set_iqh_index(struct vtdm_unit *u, unsigned idx)
{
	reg_set64(u, DMAR_IQH_REG, (uint64_t)idx * desc_bytes(u));
}

static bool fault_pending(const struct vtdm_unit *u)
{
	return reg32(u, DMAR_FSTS_REG) &
	       (FSTS_PFO | FSTS_PPF | FSTS_IQE | FSTS_ICE | FSTS_ITE);
}

/* Set an FSTS error bit; the event fires only if nothing else was pending. */
static void raise_fsts(struct vtdm_unit *u, uint32_t bit)
{
	bool was = fault_pending(u);

	reg_set32(u, DMAR_FSTS_REG, reg32(u, DMAR_FSTS_REG) | bit);
	if (!was)
		unit_fault_event(u);
}

static void queue_error(struct vtdm_unit *u, enum iqei why)
{
	uint64_t iqer = reg64(u, DMAR_IQER_REG);

	field_set(&iqer, IQER_IQEI, why);
	reg_set64(u, DMAR_IQER_REG, iqer);
	u->stat[ST_IQE]++;
	raise_fsts(u, FSTS_IQE);
}

void qi_enable(struct vtdm_unit *u, bool on)
{
	uint32_t sts = reg32(u, DMAR_GSTS_REG);

	if (on) {
		uint64_t iqa = reg64(u, DMAR_IQA_REG);

		u->iq_wide = iqa & IQA_DW;
		u->iq_entries = iqa_entries(iqa);
		u->outstanding = u->waits_pending = 0;
		u->fenced = false;
		reg_set64(u, DMAR_IQH_REG, 0);
		reg_set32(u, DMAR_GSTS_REG, sts | (uint32_t)GSTS_QIES);
		qi_run(u);
		return;
	}
	/*
	 * Disabling waits for an idle queue (10.4.4 QIE); a stuck one refuses.
	 * Idle means every fetched descriptor completed: an unanswered
	 * device-TLB invalidation still owes this queue its completion or
	 * its time-out (FSTS.ITE, 6.5.2.5), even with no wait behind it.
	 */
	if (iqh_index(u) != (unsigned)(reg64(u, DMAR_IQT_REG) & IQ_PTR) / desc_bytes(u) ||
	    u->waits_pending || u->outstanding) {
		u->stat[ST_GCMD_REFUSED]++;
		return;
	}
	reg_set64(u, DMAR_IQH_REG, 0);
	reg_set32(u, DMAR_GSTS_REG, sts & ~(uint32_t)GSTS_QIES);
}

/* A device-TLB invalidation leaves the unit (6.5.2.5, 6.5.2.6). */
static void send_devtlb(struct vtdm_unit *u, uint16_t sid, uint32_t pasid, bool all,
			uint64_t field, bool s)
{
	struct vtdm_device *d = vtdm_find_dev(u->m, sid);
	uint64_t base, size;

	devtlb_range_decode(field, s, &base, &size);
	if (d)
		d->stat[SD_INV_REQ]++;
	if (d && d->cfg.ats && d->cfg.unit == (int)u->idx && !d->cfg.unresponsive) {
		inv_atc(d, pasid, all, base, size);
		vtdm_charge(u->m, u->m->cfg.costs.devtlb_inv);
		if (!d->cfg.badcompl)
			return;
		/* The answer is malformed: ICE, and the request still waits. */
		uint64_t iqer = reg64(u, DMAR_IQER_REG);

		field_set(&iqer, IQER_ICESID, sid);
		reg_set64(u, DMAR_IQER_REG, iqer);
		u->stat[ST_ICE]++;
		raise_fsts(u, FSTS_ICE);
	} else if (d) {
		d->stat[SD_INV_DROPPED]++;
	}
	/* No answer will come: the hardware times out (FSTS.ITE). */
	if (!u->outstanding++) {
		u->outstanding_sid = sid;
		u->outstanding_deadline = u->m->now + u->m->cfg.costs.ite_timeout;
	}
}

static void complete_wait(struct vtdm_unit *u, const struct vtd_desc_fields *f)
{
	if (f->sw) {
		uint8_t b[4] = { (uint8_t)f->sdata, (uint8_t)(f->sdata >> 8),
				 (uint8_t)(f->sdata >> 16), (uint8_t)(f->sdata >> 24) };

		/* A status address outside RAM is lost as a write to nowhere. */
		mem_write(&u->m->mem, f->addr, b, sizeof(b));
	}
	if (f->iflag) {
		uint32_t ics = reg32(u, DMAR_ICS_REG);

		if (!(ics & ICS_IWC)) {
			reg_set32(u, DMAR_ICS_REG, ics | (uint32_t)ICS_IWC);
			unit_inv_event(u);
		}
	}
	u->stat[ST_WAIT_DONE]++;
	vtdm_charge(u->m, u->m->cfg.costs.wait);
}

static void process(struct vtdm_unit *u, const struct vtd_desc *d)
{
	struct vtd_desc_fields f;
	static const enum vtdm_unit_stat cc_stat[] = {
		[CC_G_GLOBAL] = ST_DESC_CC_GLOBAL, [CC_G_DOMAIN] = ST_DESC_CC_DOMAIN,
		[CC_G_DEVICE] = ST_DESC_CC_DEVICE,
	};
	static const enum vtdm_unit_stat iotlb_stat[] = {
		[IOTLB_G_GLOBAL] = ST_DESC_IOTLB_GLOBAL, [IOTLB_G_DSI] = ST_DESC_IOTLB_DSI,
		[IOTLB_G_PSI] = ST_DESC_IOTLB_PSI,
	};

	vtd_desc_decode(d, &f);
	u->stat[ST_DESC]++;
	vtdm_charge(u->m, u->m->cfg.costs.desc);
	/* An invalidation drains the write buffer before it is performed (6.8). */
	if (f.type != DESC_WAIT)
		unit_drain_wb(u);
	switch (f.type) {
	case DESC_CC:
		u->stat[cc_stat[f.g]]++;
		inv_ctx(u, f.g, f.did, f.sid, f.fm);
		break;
	case DESC_IOTLB:
		u->stat[iotlb_stat[f.g]]++;
		if (f.g == IOTLB_G_PSI && !(u->cap & CAP_PSI))
			f.g = IOTLB_G_DSI;	/* without PSI the unit flushes the domain */
		if (f.g == IOTLB_G_PSI && (f.addr & ((VTD_PAGE_SIZE << f.am) - 1)))
			u->stat[ST_PSI_MISALIGNED]++;
		inv_iotlb(u, f.g, f.did, f.addr, f.am, f.ih);
		break;
	case DESC_DEVTLB:
		u->stat[ST_DESC_DEVTLB]++;
		send_devtlb(u, f.sid, VTD_NO_PASID, false, f.addr, f.s);
		break;
	case DESC_IEC:
		u->stat[ST_DESC_IEC]++;	/* interrupt remapping is not modelled */
		break;
	case DESC_WAIT:
		u->stat[ST_DESC_WAIT]++;
		if (!u->outstanding) {
			complete_wait(u, &f);
		} else {
			u->waits_pending++;
			u->fenced |= f.fn;
		}
		break;
	case DESC_PIOTLB:
		u->stat[f.g == PIOTLB_G_PSI ? ST_DESC_PIOTLB_PSI : ST_DESC_PIOTLB_PASID]++;
		if (f.g == PIOTLB_G_PSI && (f.addr & ((VTD_PAGE_SIZE << f.am) - 1)))
			u->stat[ST_PSI_MISALIGNED]++;
		inv_piotlb(u, f.g, f.did, f.pasid, f.addr, f.am, f.ih);
		break;
	case DESC_PC:
		u->stat[ST_DESC_PC]++;
		inv_pasid_cache(u, f.g, f.did, f.pasid);
		break;
	case DESC_PDEVTLB:
		u->stat[ST_DESC_PDEVTLB]++;
		send_devtlb(u, f.sid, f.pasid, f.g, f.addr, f.s);
		break;
	}
}

/*
 * Whether the queue may fetch now: enabled, not fenced or stopped by an
 * error, and IQH (*head) short of a valid IQT (*tail). A bad tail or
 * table mode stops it with IQE.
 */
static bool qi_ready(struct vtdm_unit *u, unsigned *head, unsigned *tail)
{
	uint64_t iqt = reg64(u, DMAR_IQT_REG);
	enum iqei why = IQEI_NONE;

	if (!(reg32(u, DMAR_GSTS_REG) & GSTS_QIES) || u->fenced ||
	    (reg32(u, DMAR_FSTS_REG) & (FSTS_IQE | FSTS_ITE)))
		return false;
	*tail = (unsigned)(iqt & IQ_PTR) / desc_bytes(u);
	if (u->iq_wide && !(u->ecap & ECAP_SMTS))
		why = IQEI_WIDTH;
	else if (u->iq_wide && (iqt & BIT_ULL(4)))
		why = IQEI_TAIL_ALIGN;
	else if (*tail >= u->iq_entries)
		why = IQEI_TAIL;
	else if (u->rtaddr_set && FIELD_GET(RTADDR_TTM, u->rtaddr) == TTM_RSVD2)
		why = IQEI_TTM;
	if (why != IQEI_NONE) {
		queue_error(u, why);
		return false;
	}
	*head = iqh_index(u);
	return *head != *tail;
}

/* Fetch and check the descriptor at @head, move IQH past it, process it. */
static bool qi_step(struct vtdm_unit *u, unsigned head)
{
	uint64_t at = (reg64(u, DMAR_IQA_REG) & IQA_IQA) + (uint64_t)head * desc_bytes(u);
	struct vtdm_mem *mem = &u->m->mem;
	struct vtd_desc d = { { 0 } };
	enum iqei why;

	/* The queue is always fetched coherently (10.4.3, ECAP.C). */
	if (!mem_in_range(mem, at, desc_bytes(u))) {
		queue_error(u, IQEI_FETCH);
		return false;
	}
	for (unsigned i = 0; i < desc_bytes(u) / 8; i++)
		d.qw[i] = mem_read64(mem, at + 8 * i);
	/*
	 * Under scalable-mode translation (RTADDR.TTM=01) 128-bit
	 * descriptors are invalid descriptors (VT-d 6.5.2, 6.5.2.10):
	 * software must move to IQA.DW=1 first.
	 */
	if (!u->iq_wide && u->rtaddr_set && FIELD_GET(RTADDR_TTM, u->rtaddr) == TTM_SCALABLE)
		why = IQEI_TYPE;
	else
		why = vtd_desc_check(&d, u->iq_wide, u->cap, u->ecap);
	if (why != IQEI_NONE) {
		queue_error(u, why);
		return false;
	}
	set_iqh_index(u, (head + 1) % u->iq_entries);
	process(u, &d);
	return true;
}

/*
 * Run the queue from IQH to IQT. One runner per unit: software may move
 * IQT (or clear IQE/ITE) while the runner is paused at a yield, and the
 * call that makes returns at once; the runner looks at the registers
 * again after every yield and before every descriptor, so it takes the
 * new descriptors too, each once and in queue order.
 */
void qi_run(struct vtdm_unit *u)
{
	struct vtdm_point p = { .where = VTDM_Y_DESC, .unit = u->idx };
	unsigned head, tail;

	if (u->qi_busy)
		return;
	u->qi_busy = true;
	while (qi_ready(u, &head, &tail)) {
		if (vtdm_yield(u->m, &p) && !qi_ready(u, &head, &tail))
			break;
		if (!qi_step(u, head))
			break;
	}
	u->qi_busy = false;
}

void qi_check_timeout(struct vtdm_unit *u)
{
	uint64_t iqer;

	if (!u->outstanding || u->m->now < u->outstanding_deadline)
		return;
	/* ITE: pending waits are aborted, IQH stays where fetching stopped. */
	iqer = reg64(u, DMAR_IQER_REG);
	field_set(&iqer, IQER_ITESID, u->outstanding_sid);
	reg_set64(u, DMAR_IQER_REG, iqer);
	u->stat[ST_WAIT_ABORT] += u->waits_pending;
	u->stat[ST_ITE]++;
	u->outstanding = u->waits_pending = 0;
	u->fenced = false;
	raise_fsts(u, FSTS_ITE);
}

void unit_tick(struct vtdm_unit *u)
{
	qi_check_timeout(u);
}

/* Register-based invalidation is refused while the queue is enabled (6.5). */
static bool reg_inv_allowed(struct vtdm_unit *u)
{
	if (reg32(u, DMAR_GSTS_REG) & GSTS_QIES) {
		u->stat[ST_REGINV_IGNORED]++;
		return false;
	}
	return true;
}

void reg_inv_context(struct vtdm_unit *u)
{
	uint64_t ccmd = reg64(u, DMAR_CCMD_REG);
	unsigned g = (unsigned)FIELD_GET(CCMD_CIRG, ccmd);

	if (g == REG_GRAN_NONE || !reg_inv_allowed(u)) {
		g = REG_GRAN_NONE;
	} else {
		u->stat[ST_REGINV_CC]++;
		inv_ctx(u, g, (uint16_t)FIELD_GET(CCMD_DID, ccmd),
			(uint16_t)FIELD_GET(CCMD_SID, ccmd), (unsigned)FIELD_GET(CCMD_FM, ccmd));
		vtdm_charge(u->m, u->m->cfg.costs.reg_inv);
	}
	field_set(&ccmd, CCMD_CAIG, g);
	reg_set64(u, DMAR_CCMD_REG, ccmd & ~CCMD_ICC);
}

void reg_inv_iotlb(struct vtdm_unit *u)
{
	unsigned iva_off = ecap_iva_offset(u->ecap);
	uint64_t iotlb = reg64(u, iva_off + 8), iva = reg64(u, iva_off);
	unsigned g = (unsigned)FIELD_GET(IOTLB_IIRG, iotlb);
	unsigned am = (unsigned)FIELD_GET(IVA_AM, iva);

	if (g == REG_GRAN_NONE || !reg_inv_allowed(u)) {
		g = REG_GRAN_NONE;
	} else {
		/* Without PSI, or past MAMV, the unit flushes the whole domain. */
		if (g == IOTLB_G_PSI && (!(u->cap & CAP_PSI) || am > u->cfg.mamv))
			g = IOTLB_G_DSI;
		u->stat[ST_REGINV_IOTLB]++;
		inv_iotlb(u, g, (uint16_t)FIELD_GET(IOTLB_DID, iotlb), iva & IVA_ADDR, am,
			  iva & IVA_IH);
		/* With RWBF the unit drains the write buffer before completing (6.8). */
		unit_drain_wb(u);
		vtdm_charge(u->m, u->m->cfg.costs.reg_inv);
	}
	field_set(&iotlb, IOTLB_IAIG, g);
	reg_set64(u, iva_off + 8, iotlb & ~IOTLB_IVT);
}
