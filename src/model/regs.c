/*
 * regs.c — a unit's register file (VT-d 10.4): every register declared
 * once with its reset value and its read-write, write-1-to-clear and
 * write-only masks; the handlers that run after a write (GCMD
 * handshakes, register-based invalidation, queue tail, status clears);
 * primary fault recording (7.1.3) and the fault and invalidation events.
 */
#include <errno.h>
#include <string.h>
#include "fmt/entry.h"
#include "fmt/regs.h"
#include "model/internal.h"

struct reg_decl {
	unsigned off, size;
	uint64_t reset, wmask, w1cmask, womask;
};

/*
 * Register window layout, 10.4: offset, size, reset value, masks.
 * CAP/ECAP/VER/GSTS/IQH/IQER are read-only. FECTL and IECTL reset with
 * the interrupt masked (IM=1).
 */
static const struct reg_decl reg_decls[] = {
	{ DMAR_GCMD_REG, 4, 0, GENMASK_ULL(31, 23), 0, GENMASK_ULL(31, 0) },
	{ DMAR_RTADDR_REG, 8, 0, RTADDR_RTA | RTADDR_TTM, 0, 0 },
	{ DMAR_CCMD_REG, 8, 0, CCMD_ICC | CCMD_CIRG | CCMD_FM | CCMD_SID | CCMD_DID, 0, 0 },
	{ DMAR_FSTS_REG, 4, 0, 0,
	  FSTS_PFO | FSTS_AFO | FSTS_APF | FSTS_IQE | FSTS_ICE | FSTS_ITE, 0 },
	{ DMAR_FECTL_REG, 4, ECTL_IM, ECTL_IM, 0, 0 },
	{ DMAR_FEDATA_REG, 4, 0, GENMASK_ULL(15, 0), 0, 0 },
	{ DMAR_FEADDR_REG, 4, 0, GENMASK_ULL(31, 2), 0, 0 },
	{ DMAR_FEUADDR_REG, 4, 0, GENMASK_ULL(31, 0), 0, 0 },
	{ DMAR_IQT_REG, 8, 0, IQ_PTR, 0, 0 },
	{ DMAR_IQA_REG, 8, 0, IQA_IQA | IQA_DW | IQA_QS, 0, 0 },
	{ DMAR_ICS_REG, 4, 0, 0, ICS_IWC, 0 },
	{ DMAR_IECTL_REG, 4, ECTL_IM, ECTL_IM, 0, 0 },
	{ DMAR_IEDATA_REG, 4, 0, GENMASK_ULL(15, 0), 0, 0 },
	{ DMAR_IEADDR_REG, 4, 0, GENMASK_ULL(31, 2), 0, 0 },
	{ DMAR_IEUADDR_REG, 4, 0, GENMASK_ULL(31, 0), 0, 0 },
	{ VTDM_IRO * 16, 8, 0, IVA_ADDR | IVA_IH | IVA_AM, 0, 0 },
	{ VTDM_IRO * 16 + 8, 8, 0,
	  IOTLB_IVT | IOTLB_IIRG | IOTLB_DR | IOTLB_DW | IOTLB_DID, 0, 0 },
};

uint64_t reg64(const struct vtdm_unit *u, unsigned off)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | u->regs[off + (unsigned)i];
	return v;
}

uint32_t reg32(const struct vtdm_unit *u, unsigned off)
{
	return (uint32_t)(reg64(u, off) & 0xffffffffu);
}

static void put_bytes(uint8_t *p, unsigned off, unsigned size, uint64_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

void reg_set64(struct vtdm_unit *u, unsigned off, uint64_t val)
{
	put_bytes(u->regs, off, 8, val);
}

void reg_set32(struct vtdm_unit *u, unsigned off, uint32_t val)
{
	put_bytes(u->regs, off, 4, val);
}

static unsigned frcd_off(const struct vtdm_unit *u, unsigned i)
{
	return cap_frcd_offset(u->cap) + 16 * i;
}

void regs_init(struct vtdm_unit *u)
{
	unsigned ver = u->cfg.sm ? 0x30 : 0x10;	/* scalable mode is a rev-3.0 feature */

	memset(u->regs, 0, sizeof(u->regs));
	memset(u->wmask, 0, sizeof(u->wmask));
	memset(u->w1cmask, 0, sizeof(u->w1cmask));
	memset(u->womask, 0, sizeof(u->womask));
	reg_set32(u, DMAR_VER_REG, ver);
	reg_set64(u, DMAR_CAP_REG, u->cap);
	reg_set64(u, DMAR_ECAP_REG, u->ecap);
	for (size_t i = 0; i < ARRAY_SIZE(reg_decls); i++) {
		const struct reg_decl *r = &reg_decls[i];

		put_bytes(u->regs, r->off, r->size, r->reset);
		put_bytes(u->wmask, r->off, r->size, r->wmask);
		put_bytes(u->w1cmask, r->off, r->size, r->w1cmask);
		put_bytes(u->womask, r->off, r->size, r->womask);
	}
	/* FRCD: only F (bit 127) is writable, and it is write-1-to-clear. */
	for (unsigned i = 0; i < u->cfg.nfr; i++)
		u->w1cmask[frcd_off(u, i) + 15] = 0x80;
}

int regs_read(struct vtdm_unit *u, unsigned off, unsigned size, uint64_t *val)
{
	uint64_t v = 0;

	for (int i = (int)size - 1; i >= 0; i--)
		v = v << 8 | (uint8_t)(u->regs[off + (unsigned)i] & ~u->womask[off + (unsigned)i]);
	*val = v;
	vtdm_charge(u->m, u->m->cfg.costs.mmio);
	return 0;
}

/* ---- Events (10.4.10, 10.4.25) ---- */

static void event(struct vtdm_unit *u, unsigned ctl, enum vtdm_unit_stat st)
{
	uint32_t c = reg32(u, ctl);

	if (c & ECTL_IM) {
		reg_set32(u, ctl, c | (uint32_t)ECTL_IP);	/* sent when unmasked */
	} else {
		u->stat[st]++;
		reg_set32(u, ctl, c & ~(uint32_t)ECTL_IP);
	}
}

void unit_fault_event(struct vtdm_unit *u)
{
	event(u, DMAR_FECTL_REG, ST_FAULT_IRQ);
}

void unit_inv_event(struct vtdm_unit *u)
{
	event(u, DMAR_IECTL_REG, ST_INV_IRQ);
}

static void unmask(struct vtdm_unit *u, unsigned ctl, enum vtdm_unit_stat st)
{
	uint32_t c = reg32(u, ctl);

	if (!(c & ECTL_IM) && (c & ECTL_IP)) {
		u->stat[st]++;
		reg_set32(u, ctl, c & ~(uint32_t)ECTL_IP);
	}
}

/* ---- Fault recording (7.1.3, 10.4.14) ---- */

#define FSTS_PENDING	(FSTS_PFO | FSTS_PPF | FSTS_IQE | FSTS_ICE | FSTS_ITE)

static bool frcd_pending(const struct vtdm_unit *u, unsigned i)
{
	return reg64(u, frcd_off(u, i) + 8) & FRCD_HI_F;
}

/* PPF is the OR of every F; FRI points at a pending record (10.4.9). */
static void update_ppf(struct vtdm_unit *u)
{
	uint32_t fsts = reg32(u, DMAR_FSTS_REG);
	unsigned fri = (unsigned)FIELD_GET(FSTS_FRI, fsts);

	fsts &= ~(uint32_t)FSTS_PPF;
	for (unsigned n = 0; n < u->cfg.nfr; n++) {
		unsigned i = (fri + n) % u->cfg.nfr;

		if (frcd_pending(u, i)) {
			fsts = (fsts & ~(uint32_t)FSTS_FRI) | (uint32_t)FIELD_PREP(FSTS_FRI, i) |
			       (uint32_t)FSTS_PPF;
			break;
		}
	}
	reg_set32(u, DMAR_FSTS_REG, fsts);
}

bool unit_record_fault(struct vtdm_unit *u, const struct fault_rec *f)
{
	uint32_t fsts = reg32(u, DMAR_FSTS_REG);
	unsigned i = u->frcd_next;
	uint64_t hi;

	if (fsts & FSTS_PFO) {
		u->stat[ST_FAULT_OVERFLOW]++;	/* dropped until software clears PFO */
		return false;
	}
	if (frcd_pending(u, i)) {
		u->stat[ST_FAULT_OVERFLOW]++;
		reg_set32(u, DMAR_FSTS_REG, fsts | (uint32_t)FSTS_PFO);
		if (!(fsts & FSTS_PENDING))
			unit_fault_event(u);
		return false;
	}
	hi = FIELD_PREP(FRCD_HI_SID, f->sid) | FIELD_PREP(FRCD_HI_FR, f->reason) |
	     ((f->type & 1) ? FRCD_HI_T1 : 0) | ((f->type & 2) ? FRCD_HI_T2 : 0) |
	     FIELD_PREP(FRCD_HI_AT, f->at) | (f->priv ? FRCD_HI_PRIV : 0) | FRCD_HI_F;
	if (f->pasid != VTD_NO_PASID)
		hi |= FRCD_HI_PP | FIELD_PREP(FRCD_HI_PV, f->pasid);
	reg_set64(u, frcd_off(u, i), f->addr & FRCD_LO_FI);
	reg_set64(u, frcd_off(u, i) + 8, hi);
	u->frcd_next = (i + 1) % u->cfg.nfr;
	u->stat[ST_FAULT_RECORDED]++;
	if (!(fsts & FSTS_PPF))
		reg_set32(u, DMAR_FSTS_REG, (fsts & ~(uint32_t)FSTS_FRI) |
				    (uint32_t)FIELD_PREP(FSTS_FRI, i) | (uint32_t)FSTS_PPF);
	if (!(fsts & FSTS_PENDING))
		unit_fault_event(u);
	return true;
}

/* ---- GCMD handshakes (10.4.4) ---- */

static void gcmd(struct vtdm_unit *u, uint32_t cmd)
{
	uint32_t sts = reg32(u, DMAR_GSTS_REG);
	uint32_t changed = (cmd ^ sts) & (uint32_t)(GCMD_TE | GCMD_QIE | GCMD_IRE | GCMD_CFI |
						    GCMD_EAFL);

	if (cmd & GCMD_SRTP) {
		/* Latch RTADDR; without ECAP.ESRTPS no cache is invalidated. */
		u->rtaddr = reg64(u, DMAR_RTADDR_REG);
		u->rtaddr_set = true;
		sts |= (uint32_t)GSTS_RTPS;
	}
	if (cmd & GCMD_WBF) {
		if (u->cfg.rwbf) {
			unit_wbf(u);
			vtdm_charge(u->m, u->m->cfg.costs.wbf);
		} else {
			u->stat[ST_GCMD_REFUSED]++;	/* nothing to flush */
		}
		sts &= ~(uint32_t)GSTS_WBFS;	/* completes at once */
	}
	if (changed & GCMD_TE)
		sts ^= (uint32_t)GSTS_TES;
	if (changed & GCMD_QIE) {
		if (u->cfg.qi) {
			reg_set32(u, DMAR_GSTS_REG, sts);
			qi_enable(u, cmd & GCMD_QIE);
			sts = reg32(u, DMAR_GSTS_REG);
		} else {
			u->stat[ST_GCMD_REFUSED]++;
		}
	}
	/* Interrupt remapping, SIRTP, fault logs: not modelled, so refused. */
	if ((changed & (GCMD_IRE | GCMD_CFI | GCMD_EAFL)) ||
	    (cmd & (GCMD_SIRTP | GCMD_SFL)))
		u->stat[ST_GCMD_REFUSED]++;
	reg_set32(u, DMAR_GSTS_REG, sts);
}

/* ---- Writes ---- */

static bool touches(unsigned off, unsigned size, unsigned reg, unsigned rsize)
{
	return off < reg + rsize && reg < off + size;
}

int regs_write(struct vtdm_unit *u, unsigned off, unsigned size, uint64_t val)
{
	uint32_t old_fsts = reg32(u, DMAR_FSTS_REG);
	uint32_t old_ics = reg32(u, DMAR_ICS_REG);
	uint32_t written_gcmd = 0;
	unsigned iva = ecap_iva_offset(u->ecap);
	unsigned frcd_end = frcd_off(u, u->cfg.nfr);

	vtdm_charge(u->m, u->m->cfg.costs.mmio);
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		uint8_t r = u->regs[o];

		r = (uint8_t)((r & ~u->wmask[o]) | (b & u->wmask[o]));
		r &= (uint8_t)~(b & u->w1cmask[o]);
		u->regs[o] = r;
	}
	if (touches(off, size, DMAR_GCMD_REG, 4)) {
		written_gcmd = reg32(u, DMAR_GCMD_REG);
		reg_set32(u, DMAR_GCMD_REG, 0);
		gcmd(u, written_gcmd);
	}
	if (touches(off, size, DMAR_CCMD_REG, 8) && (reg64(u, DMAR_CCMD_REG) & CCMD_ICC))
		reg_inv_context(u);
	if (touches(off, size, iva + 8, 8) && (reg64(u, iva + 8) & IOTLB_IVT))
		reg_inv_iotlb(u);
	if (touches(off, size, cap_frcd_offset(u->cap), frcd_end - cap_frcd_offset(u->cap)))
		update_ppf(u);
	if (touches(off, size, DMAR_FSTS_REG, 4) ||
	    touches(off, size, cap_frcd_offset(u->cap), frcd_end - cap_frcd_offset(u->cap))) {
		uint32_t fsts = reg32(u, DMAR_FSTS_REG);

		/* Software serviced every condition: the pending event is gone. */
		if (!(fsts & FSTS_PENDING))
			reg_set32(u, DMAR_FECTL_REG,
				  reg32(u, DMAR_FECTL_REG) & ~(uint32_t)ECTL_IP);
		/* A cleared IQE or ITE lets the queue run again from IQH. */
		if ((old_fsts & ~fsts) & (FSTS_IQE | FSTS_ITE))
			qi_run(u);
	}
	if (touches(off, size, DMAR_ICS_REG, 4) && (old_ics & ~reg32(u, DMAR_ICS_REG) & ICS_IWC))
		reg_set32(u, DMAR_IECTL_REG, reg32(u, DMAR_IECTL_REG) & ~(uint32_t)ECTL_IP);
	if (touches(off, size, DMAR_FECTL_REG, 4))
		unmask(u, DMAR_FECTL_REG, ST_FAULT_IRQ);
	if (touches(off, size, DMAR_IECTL_REG, 4))
		unmask(u, DMAR_IECTL_REG, ST_INV_IRQ);
	if (touches(off, size, DMAR_IQT_REG, 8))
		qi_run(u);
	return 0;
}
