/*
 * hwenv.c — the register-level rig behind the model's tests: page
 * allocation in guest memory, table building and queue submission, done
 * only through vtdm_read/vtdm_write as a driver would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "hwenv.h"

#define HW_FIRST_PAGE	0x100000ULL	/* leave the first MiB to the tests */

int _hw_init(struct hwenv *e, const char *keys, unsigned nunits)
{
	struct vtdm_machine_cfg mc;
	char err[160];

	memset(e, 0, sizeof(*e));
	vtdm_machine_cfg_default(&mc);
	e->m = vtdm_create(&mc);
	if (!e->m)
		return -ENOMEM;
	e->next_page = HW_FIRST_PAGE;
	for (unsigned i = 0; i < nunits; i++) {
		struct vtdm_unit_cfg uc;
		char *dup = strdup(keys ? keys : ""), *save = NULL;

		vtdm_unit_cfg_default(&uc);
		for (char *kv = strtok_r(dup, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(kv, '=');

			if (!eq || (*eq = 0, vtdm_unit_cfg_set(&uc, kv, eq + 1, err, sizeof(err)))) {
				free(dup);
				return -EINVAL;
			}
		}
		free(dup);
		if (vtdm_add_unit(e->m, &uc) < 0)
			return -EINVAL;
		e->nunits++;
	}
	return 0;
}

void hw_fini(struct hwenv *e)
{
	vtdm_destroy(e->m);
	e->m = NULL;
}

int _hw_add_device(struct hwenv *e, const char *spec)
{
	struct vtdm_dev_cfg dc;
	char err[160], *dup = strdup(spec), *save = NULL, *kv;
	int ret = -EINVAL;

	vtdm_dev_cfg_default(&dc);
	kv = strtok_r(dup, ",", &save);
	if (!kv || vtdm_parse_sid(kv, &dc.sid, err, sizeof(err)))
		goto out;
	while ((kv = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(kv, '=');

		if (!eq)
			goto out;
		*eq = 0;
		if (vtdm_dev_cfg_set(&dc, kv, eq + 1, err, sizeof(err)))
			goto out;
	}
	ret = vtdm_add_device(e->m, &dc);
out:
	free(dup);
	return ret;
}

uint64_t hw_alloc(struct hwenv *e)
{
	uint64_t p = e->next_page;
	uint8_t zero[4096] = { 0 };

	e->next_page += 4096;
	vtdm_write(e->m, p, zero, sizeof(zero));
	return p;
}

uint64_t hw_rd64(struct hwenv *e, uint64_t addr)
{
	uint64_t v = 0;

	vtdm_read64(e->m, addr, &v);
	return v;
}

void hw_wr64(struct hwenv *e, uint64_t addr, uint64_t val)
{
	vtdm_write64(e->m, addr, val);
}

uint32_t hw_rd32(struct hwenv *e, uint64_t addr)
{
	uint32_t v = 0;

	vtdm_read32(e->m, addr, &v);
	return v;
}

void hw_wr32(struct hwenv *e, uint64_t addr, uint32_t val)
{
	vtdm_write32(e->m, addr, val);
}

uint64_t hw_reg64(struct hwenv *e, unsigned unit, unsigned off)
{
	return hw_rd64(e, vtdm_unit_base(unit) + off);
}

uint32_t hw_reg32(struct hwenv *e, unsigned unit, unsigned off)
{
	return hw_rd32(e, vtdm_unit_base(unit) + off);
}

void hw_set_reg64(struct hwenv *e, unsigned unit, unsigned off, uint64_t val)
{
	hw_wr64(e, vtdm_unit_base(unit) + off, val);
}

void hw_set_reg32(struct hwenv *e, unsigned unit, unsigned off, uint32_t val)
{
	hw_wr32(e, vtdm_unit_base(unit) + off, val);
}

uint64_t hw_stat(struct hwenv *e, const char *name)
{
	uint64_t v = ~0ULL;

	vtdm_stat(e->m, name, &v);
	return v;
}

/* A table entry write a careful driver makes: store, then flush the line. */
static void put(struct hwenv *e, uint64_t addr, uint64_t val)
{
	hw_wr64(e, addr, val);
	vtdm_clflush(e->m, addr);
}

int _hw_gcmd(struct hwenv *e, unsigned unit, uint32_t bit, bool set, uint32_t status_bit,
	     bool want)
{
	uint32_t keep = hw_reg32(e, unit, DMAR_GSTS_REG) &
			(uint32_t)(GSTS_TES | GSTS_QIES | GSTS_IRES | GSTS_CFIS);
	uint32_t cmd = set ? keep | bit : keep & ~bit;

	hw_set_reg32(e, unit, DMAR_GCMD_REG, cmd);
	for (int i = 0; i < 100; i++) {
		bool now = hw_reg32(e, unit, DMAR_GSTS_REG) & status_bit;

		if (now == want)
			return 0;
		vtdm_clock_step(e->m, 100);
	}
	return -ETIMEDOUT;
}

int _hw_setup(struct hwenv *e, unsigned unit, bool sm, bool qi)
{
	struct hw_unit *hu = &e->u[unit];
	int ret;

	hu->root = hw_alloc(e);
	hu->sm = sm;
	hw_set_reg64(e, unit, DMAR_RTADDR_REG,
		     hu->root | FIELD_PREP(RTADDR_TTM, sm ? TTM_SCALABLE : TTM_LEGACY));
	ret = _hw_gcmd(e, unit, (uint32_t)GCMD_SRTP, true, (uint32_t)GSTS_RTPS, true);
	if (ret)
		return ret;
	if (qi) {
		hu->wide = sm;
		hu->iq = hw_alloc(e);
		hu->iq_size = hu->wide ? 128 : 256;
		hu->status = hw_alloc(e);
		hu->tail = 0;
		hw_set_reg64(e, unit, DMAR_IQT_REG, 0);
		hw_set_reg64(e, unit, DMAR_IQA_REG, hu->iq | (hu->wide ? IQA_DW : 0));
		ret = _hw_gcmd(e, unit, (uint32_t)GCMD_QIE, true, (uint32_t)GSTS_QIES, true);
		if (ret)
			return ret;
	}
	return _hw_gcmd(e, unit, (uint32_t)GCMD_TE, true, (uint32_t)GSTS_TES, true);
}

/* The context table holding @sid, allocated on first use. */
static uint64_t ctx_table(struct hwenv *e, unsigned unit, uint16_t sid)
{
	struct hw_unit *hu = &e->u[unit];
	unsigned bus = sid >> 8;
	uint64_t re = hu->root + bus * ROOT_ENTRY_SIZE + ((hu->sm && (sid & 0x80)) ? 8 : 0);
	uint64_t v = hw_rd64(e, re);

	if (!(v & ROOT_P)) {
		v = hw_alloc(e) | ROOT_P;
		put(e, re, v);
	}
	return v & ROOT_CTP;
}

uint64_t hw_ctx_addr(struct hwenv *e, unsigned unit, uint16_t sid)
{
	return ctx_table(e, unit, sid) + (sid & 0xff) * CTX_ENTRY_SIZE;
}

int _hw_ctx(struct hwenv *e, unsigned unit, uint16_t sid, uint16_t did, int levels,
	    unsigned tt, uint64_t *root)
{
	uint64_t ce = hw_ctx_addr(e, unit, sid);

	*root = tt == CTX_TT_PASSTHROUGH ? 0 : hw_alloc(e);
	put(e, ce + 8, FIELD_PREP(CTX_AW, levels_to_aw(levels)) | FIELD_PREP(CTX_DID, did));
	put(e, ce, *root | FIELD_PREP(CTX_TT, tt) | CTX_P);
	return 0;
}

uint64_t hw_sm_ctx_addr(struct hwenv *e, unsigned unit, uint16_t sid)
{
	return ctx_table(e, unit, sid) + (sid & 0x7f) * SM_CTX_ENTRY_SIZE;
}

int _hw_sm_ctx(struct hwenv *e, unsigned unit, uint16_t sid, uint32_t rid_pasid, bool dte,
	       bool paside)
{
	uint64_t ce = hw_sm_ctx_addr(e, unit, sid);
	uint64_t dir = hw_alloc(e);

	put(e, ce + 8, FIELD_PREP(SMCTX_RID_PASID, rid_pasid));
	put(e, ce, dir | (dte ? SMCTX_DTE : 0) | (paside ? SMCTX_PASIDE : 0) | SMCTX_P);
	return 0;
}

uint64_t hw_pasid_addr(struct hwenv *e, unsigned unit, uint16_t sid, uint32_t pasid)
{
	uint64_t dir = hw_rd64(e, hw_sm_ctx_addr(e, unit, sid)) & SMCTX_PASIDDIRPTR;
	uint64_t pde_addr = dir + (pasid >> 6) * PASID_DIR_ENTRY_SIZE;
	uint64_t pde = hw_rd64(e, pde_addr);

	if (!(pde & PDE_P)) {
		pde = hw_alloc(e) | PDE_P;
		put(e, pde_addr, pde);
	}
	return (pde & PDE_SMPTBLPTR) + (pasid & 63) * PASID_ENTRY_SIZE;
}

int _hw_pasid(struct hwenv *e, unsigned unit, uint16_t sid, uint32_t pasid, unsigned pgtt,
	      uint16_t did, int levels, uint64_t *root)
{
	uint64_t pe = hw_pasid_addr(e, unit, sid, pasid), q0 = 0, q2 = 0;

	*root = pgtt == PGTT_PT ? 0 : hw_alloc(e);
	if (pgtt == PGTT_SS)
		q0 = *root | FIELD_PREP(PTE0_AW, levels_to_aw(levels));
	if (pgtt == PGTT_FS)
		q2 = *root | FIELD_PREP(PTE2_FLPM, levels == 5);
	put(e, pe + 8, FIELD_PREP(PTE1_DID, did));
	put(e, pe + 16, q2);
	put(e, pe, q0 | FIELD_PREP(PTE0_PGTT, pgtt) | PTE0_P);
	return 0;
}

static int leaf_level(uint64_t size)
{
	return size == pt_level_size(3) ? 3 : size == pt_level_size(2) ? 2 :
	       size == VTD_PAGE_SIZE ? 1 : 0;
}

static int map(struct hwenv *e, uint64_t root, int levels, uint64_t iova, uint64_t pa,
	       uint64_t size, uint64_t table_bits, uint64_t leaf_bits, bool fs)
{
	int leaf = leaf_level(size);
	uint64_t table = root;

	if (!leaf || (iova | pa) & (size - 1))
		return -EINVAL;
	for (int l = levels; l > leaf; l--) {
		uint64_t ea = table + 8 * pt_index(iova, l), v = hw_rd64(e, ea);
		bool present = fs ? (v & FSPTE_P) != 0 : sspte_present(v);

		if (!present) {
			v = hw_alloc(e) | table_bits;
			put(e, ea, v);
		}
		table = v & SSPTE_ADDR;
	}
	put(e, table + 8 * pt_index(iova, leaf),
	    pa | leaf_bits | (leaf > 1 ? (fs ? FSPTE_PS : SSPTE_PS) : 0));
	return 0;
}

int _hw_map_ss(struct hwenv *e, uint64_t root, int levels, uint64_t iova, uint64_t pa,
	       uint64_t size, unsigned perm)
{
	uint64_t bits = ((perm & HW_PERM_R) ? SSPTE_R : 0) | ((perm & HW_PERM_W) ? SSPTE_W : 0);

	return map(e, root, levels, iova, pa, size, SSPTE_R | SSPTE_W, bits, false);
}

int _hw_map_fs(struct hwenv *e, uint64_t root, int levels, uint64_t iova, uint64_t pa,
	       uint64_t size, unsigned perm, bool user)
{
	uint64_t bits = FSPTE_P | ((perm & HW_PERM_W) ? FSPTE_RW : 0) | (user ? FSPTE_US : 0);

	return map(e, root, levels, iova, pa, size, FSPTE_P | FSPTE_RW | FSPTE_US, bits, true);
}

uint64_t hw_pte_addr(struct hwenv *e, uint64_t root, int levels, uint64_t iova, int level,
		     bool fs)
{
	uint64_t table = root;

	for (int l = levels; l > level; l--) {
		uint64_t v = hw_rd64(e, table + 8 * pt_index(iova, l));

		if (fs ? !(v & FSPTE_P) : !sspte_present(v))
			return 0;
		table = v & SSPTE_ADDR;
	}
	return table + 8 * pt_index(iova, level);
}

static unsigned desc_size(const struct hw_unit *hu)
{
	return hu->wide ? 32 : 16;
}

void hw_qi_put(struct hwenv *e, unsigned unit, const struct vtd_desc *d)
{
	struct hw_unit *hu = &e->u[unit];
	uint64_t at = hu->iq + (uint64_t)hu->tail * desc_size(hu);

	for (unsigned i = 0; i < desc_size(hu) / 8; i++)
		hw_wr64(e, at + 8 * i, d->qw[i]);
	hu->tail = (hu->tail + 1) % hu->iq_size;
}

void hw_qi_kick(struct hwenv *e, unsigned unit)
{
	struct hw_unit *hu = &e->u[unit];

	hw_set_reg64(e, unit, DMAR_IQT_REG, (uint64_t)hu->tail * desc_size(hu));
}

unsigned hw_iqh(struct hwenv *e, unsigned unit)
{
	return (unsigned)(hw_reg64(e, unit, DMAR_IQH_REG) & IQ_PTR) / desc_size(&e->u[unit]);
}

int _hw_qi(struct hwenv *e, unsigned unit, const struct vtd_desc *d, unsigned n, bool wait)
{
	struct hw_unit *hu = &e->u[unit];
	uint64_t status = hu->status + 4 * hu->tail;
	uint32_t seq = ++hu->seq;

	for (unsigned i = 0; i < n; i++)
		hw_qi_put(e, unit, &d[i]);
	if (wait) {
		struct vtd_desc w;

		status = hu->status + 4 * hu->tail;
		hw_wr32(e, status, 0);
		w = hw_desc((struct vtd_desc_fields){ .type = DESC_WAIT, .sw = true,
						      .sdata = seq, .addr = status });
		hw_qi_put(e, unit, &w);
	}
	hw_qi_kick(e, unit);
	if (!wait)
		return 0;
	/* Poll as a driver does; the unit times out an unanswered device in 1 ms. */
	for (int i = 0; i < 30; i++) {
		uint32_t fsts = hw_reg32(e, unit, DMAR_FSTS_REG);

		if (hw_rd32(e, status) == seq)
			return 0;
		if (fsts & FSTS_IQE)
			return -EIO;
		if (fsts & FSTS_ITE)
			return -ETIMEDOUT;
		vtdm_clock_step(e->m, 100000);
	}
	return -ETIMEDOUT;
}

int _hw_inv_iotlb_psi(struct hwenv *e, unsigned unit, uint16_t did, uint64_t addr,
		      unsigned am, bool ih)
{
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){
		.type = DESC_IOTLB, .g = IOTLB_G_PSI, .did = did, .addr = addr, .am = am,
		.ih = ih });

	return _hw_qi(e, unit, &d, 1, true);
}

int _hw_inv_iotlb_dsi(struct hwenv *e, unsigned unit, uint16_t did)
{
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){
		.type = DESC_IOTLB, .g = IOTLB_G_DSI, .did = did });

	return _hw_qi(e, unit, &d, 1, true);
}

int _hw_inv_ctx_global(struct hwenv *e, unsigned unit)
{
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){ .type = DESC_CC,
							      .g = CC_G_GLOBAL });

	return _hw_qi(e, unit, &d, 1, true);
}

int hw_dma_rd64(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova, uint64_t *val,
		struct vtdm_xlate *x)
{
	uint8_t b[8];
	int ret = vtdm_dma(e->m, sid, pasid, iova, b, 8, false, x);

	*val = 0;
	for (int i = 7; i >= 0 && !ret; i--)
		*val = *val << 8 | b[i];
	return ret;
}

int hw_dma_wr64(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova, uint64_t val,
		struct vtdm_xlate *x)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	return vtdm_dma(e->m, sid, pasid, iova, b, 8, true, x);
}

unsigned hw_frcd_reason(struct hwenv *e, unsigned unit, unsigned idx)
{
	uint64_t cap = hw_reg64(e, unit, DMAR_CAP_REG);

	return (unsigned)FIELD_GET(FRCD_HI_FR,
				   hw_reg64(e, unit, cap_frcd_offset(cap) + 16 * idx + 8));
}
