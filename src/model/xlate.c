/*
 * xlate.c — DMA address translation (VT-d chapter 3) and the caches it
 * fills (chapter 6): context cache, PASID cache, IOTLB, first- and
 * second-stage paging-structure caches, and the device TLBs of ATS
 * endpoints; what each invalidation removes from them (6.5.2); DMA,
 * translation requests and translated requests.
 *
 * The model caches what the spec lets it cache: only valid entries under
 * CM=0; not-present entries too under CM=1 (6.1); paging-structure
 * entries kept across IH=1 invalidations. Profile "adversarial" also
 * prefetches every valid neighbour of a leaf it walks.
 */
#include <errno.h>
#include <string.h>
#include "fmt/entry.h"
#include "fmt/fault.h"
#include "fmt/pte.h"
#include "fmt/regs.h"
#include "model/internal.h"

/* Request kinds, numbered as the PCIe AT field encodes them (FRCD.AT). */
enum req_kind {
	REQ_UNTRANSLATED = 0,	/* ordinary DMA */
	REQ_TRANSLATION = 1,	/* ATS translation request */
	REQ_TRANSLATED = 2,	/* DMA with an address the device TLB gave */
};

enum stage { STAGE_SS = 1, STAGE_FS = 2, STAGE_PT = 3 };

struct req {
	uint16_t sid;
	uint32_t pasid;		/* as requested: VTD_NO_PASID if none */
	uint64_t addr;
	bool write;
	enum req_kind kind;
	uint64_t gen;		/* the unit's inv_gen when translation began */
};

/* What a walk needs from the context and PASID entries. */
struct xctx {
	bool sm;
	bool fpd;		/* fault processing disabled on the path */
	uint16_t did;
	uint32_t pasid;		/* IOTLB tag: effective PASID, VTD_NO_PASID in legacy mode */
	enum stage stage;
	int levels;
	uint64_t root;
	bool priv;		/* supervisor request (first stage) */
	bool wpe;
};

/*
 * Cache layouts. Context cache: key {sid, ttm}, val {qw0, qw1, flags,
 * did}. PASID cache: key {sid, pasid}, val {qw0, qw1, qw2, flags}.
 * IOTLB: key {did | level << 16, pasid, page number at that level}, val
 * {page address, flags}. Paging-structure caches: key {did | level << 16,
 * pasid (first stage only), address >> shift(level)} for a non-leaf entry
 * at that level, val {next table, accumulated permissions}. Device TLB:
 * key {level, pasid, page number}, val {page address, flags}.
 */
#define CF_NEG		1ULL	/* a not-present entry cached under CM=1 */
#define CF_FPD_DIR	2ULL	/* PASID cache: the directory entry had FPD */
#define TF_R		1ULL
#define TF_W		2ULL
#define TF_NEG		4ULL
#define TF_STAGE(f)	((enum stage)(((f) >> 4) & 3))
#define TF_MK_STAGE(s)	((uint64_t)(s) << 4)
#define TF_US		64ULL	/* first stage: user accessible along the walk */

static uint64_t ndoms(const struct vtdm_unit *u)
{
	return cap_ndoms(u->cap);
}

/* One table read by the walker: a yield point, a memory access, a cost. */
static int rd(struct vtdm_unit *u, const struct req *r, uint64_t addr, enum tbl_kind kind,
	      uint64_t *v)
{
	struct vtdm_point p = { VTDM_Y_WALK_STEP, u->idx, r->sid, addr };

	vtdm_yield(u->m, &p);
	u->stat[ST_WALK_ACCESS]++;
	vtdm_charge(u->m, u->m->cfg.costs.mem_access);
	return unit_table_read64(u, addr, kind, v);
}

/*
 * Whether an invalidation ran since @r began (while it was paused at a
 * yield; never without hooks). Its walk was then in flight across the
 * invalidation: the request completes with what it read, but caches none
 * of it. Hardware drains such requests before it reports an invalidation
 * complete (CAP.DRD/DWD, wait descriptors, VT-d 6.5.2.8), so nothing read
 * from the old entries may be used after the completion.
 */
static bool inv_since(const struct vtdm_unit *u, const struct req *r)
{
	return u->inv_gen != r->gen;
}

static void fill(struct vtdm_unit *u, const struct req *r, struct cache *c,
		 const uint64_t key[3], const uint64_t val[4])
{
	struct vtdm_point p = { VTDM_Y_CACHE_FILL, u->idx, r->sid, 0 };

	vtdm_yield(u->m, &p);
	if (!inv_since(u, r))
		cache_insert(c, key, val);
}

static uint64_t haw_rsvd(const struct vtdm_unit *u)
{
	return pt_haw_rsvd(u->cfg.haw);
}

/* ---- Context entries (9.3, 9.4) ---- */

static int fetch_context(struct vtdm_unit *u, const struct req *r, uint64_t rta, bool sm,
			 uint64_t q[2])
{
	unsigned bus = r->sid >> 8, devfn = r->sid & 0xff;
	uint64_t key[3] = { r->sid, sm, 0 };
	uint64_t lo, hi, q2 = 0, q3 = 0, ce;

	if (rd(u, r, (rta & RTADDR_RTA) + bus * ROOT_ENTRY_SIZE, TBL_ROOT, &lo) ||
	    rd(u, r, (rta & RTADDR_RTA) + bus * ROOT_ENTRY_SIZE + 8, TBL_ROOT, &hi))
		return sm ? FR_SM_ROOT_ACCESS : FR_ROOT_ACCESS;
	if (!sm) {
		if (!(lo & ROOT_P))
			return FR_ROOT_P;
		if ((lo & (ROOT_LO_RSVD | haw_rsvd(u))) || hi)
			return FR_ROOT_RSVD;
		ce = (lo & ROOT_CTP) + devfn * CTX_ENTRY_SIZE;
	} else {
		uint64_t half = devfn & 0x80 ? hi : lo;

		if (!(half & SMROOT_P))
			return FR_SM_ROOT_P;
		if (half & (SMROOT_RSVD | haw_rsvd(u)))
			return FR_SM_ROOT_RSVD;
		ce = (half & SMROOT_CTP) + (devfn & 0x7f) * SM_CTX_ENTRY_SIZE;
	}
	if (rd(u, r, ce, TBL_CTX, &q[0]) || rd(u, r, ce + 8, TBL_CTX, &q[1]) ||
	    (sm && (rd(u, r, ce + 16, TBL_CTX, &q2) || rd(u, r, ce + 24, TBL_CTX, &q3))))
		return sm ? FR_SM_CTX_ACCESS : FR_CTX_ACCESS;
	if (!(q[0] & CTX_P)) {
		/* Under CM a not-present entry may be cached, tagged with DID 0 (6.1). */
		if (u->cfg.cm)
			fill(u, r, &u->ctx, key, (uint64_t[4]){ 0, 0, CF_NEG, 0 });
		return sm ? FR_SM_CTX_P : FR_CTX_P;
	}
	if (!sm) {
		unsigned tt = (unsigned)FIELD_GET(CTX_TT, q[0]);
		unsigned aw = (unsigned)FIELD_GET(CTX_AW, q[1]);

		if ((q[0] & (CTX_LO_RSVD | haw_rsvd(u))) || (q[1] & CTX_HI_RSVD) ||
		    FIELD_GET(CTX_DID, q[1]) >= ndoms(u))
			return FR_CTX_RSVD;
		if (tt == CTX_TT_RSVD || (tt == CTX_TT_DEVTLB && !(u->ecap & ECAP_DT)) ||
		    (tt == CTX_TT_PASSTHROUGH && !(u->ecap & ECAP_PT)) ||
		    (tt != CTX_TT_PASSTHROUGH &&
		     !(FIELD_GET(CAP_SAGAW, u->cap) & BIT_ULL(aw))))
			return FR_CTX_INV;
	} else {
		if ((q[0] & (SMCTX_Q0_RSVD | haw_rsvd(u))) || (q[1] & SMCTX_Q1_RSVD) || q2 || q3)
			return FR_SM_CTX_RSVD;
		if (((q[0] & SMCTX_DTE) && !(u->ecap & ECAP_DT)) || (q[0] & SMCTX_PRE) ||
		    ((q[0] & SMCTX_PASIDE) && !(u->ecap & ECAP_PASID)))
			return FR_SM_CTX_INV;
	}
	fill(u, r, &u->ctx, key,
	     (uint64_t[4]){ q[0], q[1], 0, sm ? 0 : FIELD_GET(CTX_DID, q[1]) });
	return 0;
}

/* ---- PASID entries (9.5, 9.6) ---- */

static int fetch_pasid(struct vtdm_unit *u, const struct req *r, uint64_t ctx0, uint32_t pasid,
		       uint64_t pe[3], uint64_t *flags)
{
	uint64_t key[3] = { r->sid, pasid, 0 };
	uint64_t pde, q[8], pt;
	unsigned pgtt;

	if (rd(u, r, (ctx0 & SMCTX_PASIDDIRPTR) + (uint64_t)(pasid >> 6) * PASID_DIR_ENTRY_SIZE,
	       TBL_PASID, &pde))
		return FR_SM_PDE_ACCESS;
	if (!(pde & PDE_P)) {
		if (u->cfg.cm)
			fill(u, r, &u->pasid, key,
			     (uint64_t[4]){ 0, 0, 0, CF_NEG | FR_SM_PDE_P << 8 });
		return FR_SM_PDE_P;
	}
	if (pde & (PDE_RSVD | haw_rsvd(u)))
		return FR_SM_PDE_RSVD;
	pt = (pde & PDE_SMPTBLPTR) + (uint64_t)(pasid & 63) * PASID_ENTRY_SIZE;
	for (int i = 0; i < 8; i++)
		if (rd(u, r, pt + 8 * (unsigned)i, TBL_PASID, &q[i]))
			return FR_SM_PTE_ACCESS;
	if (!(q[0] & PTE0_P)) {
		if (u->cfg.cm)
			fill(u, r, &u->pasid, key,
			     (uint64_t[4]){ 0, 0, 0, CF_NEG | FR_SM_PTE_P << 8 });
		return FR_SM_PTE_P;
	}
	if ((q[0] & (PTE0_RSVD | haw_rsvd(u))) || (q[1] & PTE1_RSVD) ||
	    (q[2] & (PTE2_RSVD | haw_rsvd(u))) || q[3] || q[4] || q[5] || q[6] || q[7] ||
	    FIELD_GET(PTE1_DID, q[1]) >= ndoms(u))
		return FR_SM_PTE_RSVD;
	pgtt = (unsigned)FIELD_GET(PTE0_PGTT, q[0]);
	switch (pgtt) {
	case PGTT_FS:
		if (!(u->ecap & ECAP_FSTS) || FIELD_GET(PTE2_FLPM, q[2]) > 1 ||
		    (FIELD_GET(PTE2_FLPM, q[2]) == 1 && !(u->cap & CAP_FL5LP)))
			return FR_SM_PTE_INV;
		break;
	case PGTT_SS:
		if (!(u->ecap & ECAP_SSTS) ||
		    !(FIELD_GET(CAP_SAGAW, u->cap) & BIT_ULL(FIELD_GET(PTE0_AW, q[0]))))
			return FR_SM_PTE_INV;
		break;
	case PGTT_PT:
		if (!(u->ecap & ECAP_PT))
			return FR_SM_PTE_INV;
		break;
	default:
		/* Nested (011) needs ECAP.NEST, which this model does not offer yet. */
		return FR_SM_PTE_INV;
	}
	*flags = (pde & PDE_FPD) ? CF_FPD_DIR : 0;
	pe[0] = q[0];
	pe[1] = q[1];
	pe[2] = q[2];
	fill(u, r, &u->pasid, key, (uint64_t[4]){ q[0], q[1], q[2], *flags });
	return 0;
}

/* Context (and PASID) lookup: everything a walk needs, or a fault reason. */
static int context(struct vtdm_unit *u, const struct req *r, struct xctx *c)
{
	uint64_t rta = u->rtaddr_set ? u->rtaddr : 0;
	unsigned ttm = (unsigned)FIELD_GET(RTADDR_TTM, rta);
	uint64_t key[3] = { r->sid, 0, 0 }, q[2], pe[3], pflags = 0;
	struct cache_entry *e;
	uint32_t pasid;
	int fault;

	memset(c, 0, sizeof(*c));
	c->sm = ttm == TTM_SCALABLE;
	if (ttm == TTM_RSVD2 || ttm == TTM_ABORT || (c->sm && !(u->ecap & ECAP_SMTS)))
		return FR_SM_TTM;
	if (!c->sm && r->pasid != VTD_NO_PASID)
		return FR_SM_LEGACY_PASID;
	key[1] = c->sm;
	e = cache_lookup(&u->ctx, key);
	if (e && (e->val[2] & CF_NEG)) {
		u->stat[ST_CTX_NEG_HIT]++;
		return c->sm ? FR_SM_CTX_P : FR_CTX_P;
	}
	if (e) {
		vtdm_charge(u->m, u->m->cfg.costs.cache_lookup);
		q[0] = e->val[0];
		q[1] = e->val[1];
	} else {
		fault = fetch_context(u, r, rta, c->sm, q);
		if (fault)
			return fault;
	}
	c->fpd = q[0] & CTX_FPD;

	if (!c->sm) {
		unsigned tt = (unsigned)FIELD_GET(CTX_TT, q[0]);

		if (r->kind != REQ_UNTRANSLATED && tt != CTX_TT_DEVTLB)
			return FR_CTX_TT;
		c->did = (uint16_t)FIELD_GET(CTX_DID, q[1]);
		c->pasid = VTD_NO_PASID;
		if (tt == CTX_TT_PASSTHROUGH) {
			c->stage = STAGE_PT;
			return 0;
		}
		c->stage = STAGE_SS;
		c->levels = aw_to_levels((unsigned)FIELD_GET(CTX_AW, q[1]));
		c->root = q[0] & CTX_SLPTPTR;
		return 0;
	}

	if (r->kind != REQ_UNTRANSLATED && !(q[0] & SMCTX_DTE))
		return FR_SM_CTX_DTE;
	if (r->kind == REQ_TRANSLATED)
		return 0;
	if (r->pasid != VTD_NO_PASID) {
		if (!(q[0] & SMCTX_PASIDE))
			return FR_SM_CTX_PASIDE;
		pasid = r->pasid;
	} else {
		pasid = (uint32_t)FIELD_GET(SMCTX_RID_PASID, q[1]);
		c->priv = q[1] & SMCTX_RID_PRIV;
	}
	if ((pasid >> 6) >= (1u << (FIELD_GET(SMCTX_PDTS, q[0]) + 7)))
		return FR_SM_PASID_RANGE;

	key[1] = pasid;
	e = cache_lookup(&u->pasid, key);
	if (e && (e->val[3] & CF_NEG))
		return (int)(e->val[3] >> 8);
	if (e) {
		vtdm_charge(u->m, u->m->cfg.costs.cache_lookup);
		memcpy(pe, e->val, sizeof(pe));
		pflags = e->val[3];
	} else {
		fault = fetch_pasid(u, r, q[0], pasid, pe, &pflags);
		if (fault)
			return fault;
	}
	c->fpd |= (pe[0] & PTE0_FPD) || (pflags & CF_FPD_DIR);
	c->did = (uint16_t)FIELD_GET(PTE1_DID, pe[1]);
	c->pasid = pasid;
	switch (FIELD_GET(PTE0_PGTT, pe[0])) {
	case PGTT_PT:
		c->stage = STAGE_PT;
		break;
	case PGTT_SS:
		c->stage = STAGE_SS;
		c->levels = aw_to_levels((unsigned)FIELD_GET(PTE0_AW, pe[0]));
		c->root = pe[0] & PTE0_SSPTPTR;
		break;
	default:
		c->stage = STAGE_FS;
		c->levels = FIELD_GET(PTE2_FLPM, pe[2]) ? 5 : 4;
		c->root = pe[2] & PTE2_FSPTPTR;
		c->wpe = pe[2] & PTE2_WPE;
		if (c->priv && !(pe[2] & PTE2_SRE))
			return FR_SM_SRE;
		break;
	}
	return 0;
}

/*
 * Caching mode lets the unit cache not-present and faulting translations
 * (6.1) — second-stage ones only: CM does not apply to first-stage
 * translation.
 */
static bool cm_applies(const struct vtdm_unit *u, const struct xctx *c)
{
	return u->cfg.cm && c->stage != STAGE_FS;
}

/* ---- Fault reasons by mode and stage ---- */

/* A not-present or permission-denied leaf. */
static int perm_fault(const struct xctx *c, bool write)
{
	if (!c->sm)
		return write ? FR_WRITE : FR_READ;
	return c->stage == STAGE_FS ? (write ? FR_SM_WRITE : FR_SM_READ) : FR_SM_SS_PERM;
}

static int np_fault(const struct xctx *c, bool write)
{
	return c->stage == STAGE_FS ? FR_SM_FS_P : perm_fault(c, write);
}

/*
 * Faults a translation request answers with R=W=0 instead of recording
 * (VT-d 4.2.3: recoverable conditions on requests from a device TLB).
 */
static bool recoverable(int reason)
{
	switch (reason) {
	case FR_READ: case FR_WRITE: case FR_SM_SS_PERM: case FR_SM_FS_P:
	case FR_SM_WRITE: case FR_SM_READ: case FR_SM_FS_US:
	case FR_SM_PDE_P: case FR_SM_PTE_P:
		return true;
	default:
		return false;
	}
}

/* ---- Walks (3.6, 3.7; 9.7, 9.8) ---- */

static void iotlb_key(uint64_t key[3], const struct xctx *c, int level, uint64_t addr)
{
	key[0] = c->did | (uint64_t)level << 16;
	key[1] = c->pasid;
	key[2] = addr >> pt_level_shift(level);
}

static void psc_key(uint64_t key[3], const struct xctx *c, int level, uint64_t addr)
{
	key[0] = c->did | (uint64_t)level << 16;
	key[1] = c->stage == STAGE_FS ? c->pasid : 0;	/* second-stage tables are per domain */
	key[2] = addr >> pt_level_shift(level);
}

/* Reserved bits of a second-stage entry at @level (9.8). */
static uint64_t ss_rsvd(const struct vtdm_unit *u, uint64_t pte, int level, bool *leaf)
{
	uint64_t rsvd = haw_rsvd(u);
	bool ps = pte & SSPTE_PS;

	*leaf = level == 1 || (ps && (level == 2 || level == 3));
	if (ps && level >= 4)
		rsvd |= SSPTE_PS;
	if (ps && level == 2 && !(u->cfg.sllps & 1))
		rsvd |= SSPTE_PS;
	if (ps && level == 3 && !(u->cfg.sllps & 2))
		rsvd |= SSPTE_PS;
	if (!*leaf || !(u->ecap & ECAP_SC))
		rsvd |= SSPTE_SNP;
	if (!*leaf || !(u->ecap & ECAP_DT))
		rsvd |= SSPTE_TM;
	if (*leaf && level > 1)
		rsvd |= GENMASK_ULL(pt_level_shift(level) - 1, 12);
	return rsvd;
}

/* Reserved bits of a first-stage entry at @level (9.7). */
static uint64_t fs_rsvd(const struct vtdm_unit *u, uint64_t pte, int level, bool *leaf)
{
	uint64_t rsvd = haw_rsvd(u);
	bool ps = pte & FSPTE_PS;

	*leaf = level == 1 || (ps && (level == 2 || level == 3));
	if (ps && level >= 4)
		rsvd |= FSPTE_PS;
	if (ps && level == 3 && !(u->cap & CAP_FL1GP))
		rsvd |= FSPTE_PS;
	if (*leaf && level > 1)
		rsvd |= GENMASK_ULL(pt_level_shift(level) - 1, 13);
	return rsvd;
}

/* Permission flags (TF_R/W/US) an entry contributes. */
static uint64_t entry_perms(const struct xctx *c, uint64_t pte)
{
	if (c->stage == STAGE_FS)
		return TF_R | ((pte & FSPTE_RW) ? TF_W : 0) | ((pte & FSPTE_US) ? TF_US : 0);
	return ((pte & SSPTE_R) ? TF_R : 0) | ((pte & SSPTE_W) ? TF_W : 0);
}

static bool entry_present(const struct xctx *c, uint64_t pte)
{
	return c->stage == STAGE_FS ? (pte & FSPTE_P) != 0 : sspte_present(pte);
}

/*
 * Profile adversarial: cache every valid neighbour of the leaf just
 * walked, so that any missing invalidation of a mapping nobody has used
 * yet still shows (and, under CM, every not-present neighbour too).
 */
static void prefetch(struct vtdm_unit *u, const struct xctx *c, uint64_t table, int level,
		     uint64_t addr, uint64_t upper)
{
	unsigned self = pt_index(addr, level);
	uint64_t base = addr & ~(pt_level_size(level + 1) - 1);

	for (unsigned j = 0; j < VTD_PTES_PER_TABLE; j++) {
		uint64_t pte, key[3], va = base + (uint64_t)j * pt_level_size(level);
		bool leaf;

		if (j == self || unit_table_read64(u, table + 8 * j,
						   c->stage == STAGE_FS ? TBL_FS : TBL_SS, &pte))
			continue;
		iotlb_key(key, c, level, va);
		if (!entry_present(c, pte)) {
			if (cm_applies(u, c) && level == 1)
				cache_insert(&u->iotlb, key, (uint64_t[4]){
					0, TF_NEG | TF_MK_STAGE(c->stage), 0, 0 });
			continue;
		}
		if (pte & (c->stage == STAGE_FS ? fs_rsvd(u, pte, level, &leaf) :
						  ss_rsvd(u, pte, level, &leaf)))
			continue;
		if (!leaf)
			continue;
		cache_insert(&u->iotlb, key, (uint64_t[4]){
			pte & SSPTE_ADDR & ~(pt_level_size(level) - 1),
			(upper & entry_perms(c, pte)) | TF_MK_STAGE(c->stage), 0, 0 });
		u->stat[ST_IOTLB_PREFETCH]++;
	}
}

struct leaf {
	uint64_t pa;		/* page address */
	int level;
	uint64_t perms;		/* TF_R/W/US */
};

static int walk(struct vtdm_unit *u, const struct req *r, const struct xctx *c, struct leaf *lf)
{
	struct cache *psc = c->stage == STAGE_FS ? &u->pscf : &u->pscs;
	enum tbl_kind kind = c->stage == STAGE_FS ? TBL_FS : TBL_SS;
	uint64_t table = c->root, perms = TF_R | TF_W | TF_US, key[3], pte;
	int level = c->levels;
	bool leaf = false, psc_hit = false;

	u->stat[ST_WALK]++;
	/* Start below the deepest non-leaf entry the paging-structure cache holds. */
	for (int l = 2; l <= c->levels; l++) {
		struct cache_entry *e;

		psc_key(key, c, l, r->addr);
		e = cache_get(psc, key);
		if (e) {
			table = e->val[0];
			perms = e->val[1];
			level = l - 1;
			psc_hit = true;
			vtdm_charge(u->m, u->m->cfg.costs.cache_lookup);
			break;
		}
	}
	psc->stat[psc_hit ? CST_HIT : CST_MISS]++;

	for (;; level--) {
		uint64_t rsvd;

		if (rd(u, r, table + 8 * pt_index(r->addr, level), kind, &pte)) {
			bool top = level == c->levels && table == c->root;

			if (!c->sm)
				return FR_PTE_ACCESS;
			if (c->stage == STAGE_FS)
				return top ? FR_SM_FS_ROOT : FR_SM_FS_ACCESS;
			return top ? FR_SM_SS_ROOT : FR_SM_SS_ACCESS;
		}
		if (!entry_present(c, pte)) {
			/* CM=1: the not-present leaf may be cached (6.1). */
			if (cm_applies(u, c)) {
				iotlb_key(key, c, 1, r->addr);
				fill(u, r, &u->iotlb, key, (uint64_t[4]){
					0, TF_NEG | TF_MK_STAGE(c->stage), 0, 0 });
			}
			return np_fault(c, r->write);
		}
		rsvd = c->stage == STAGE_FS ? fs_rsvd(u, pte, level, &leaf) :
					      ss_rsvd(u, pte, level, &leaf);
		if (pte & rsvd)
			return !c->sm ? FR_PTE_RSVD :
			       c->stage == STAGE_FS ? FR_SM_FS_RSVD : FR_SM_SS_RSVD;
		if (leaf)
			break;
		perms &= entry_perms(c, pte);
		psc_key(key, c, level, r->addr);
		fill(u, r, psc, key, (uint64_t[4]){ pte & SSPTE_ADDR, perms, 0, 0 });
		table = pte & SSPTE_ADDR;
	}
	/* The neighbours come from the same table: stale too after an invalidation. */
	if (u->cfg.caching == VTDM_ADVERSARIAL && !inv_since(u, r))
		prefetch(u, c, table, level, r->addr, perms);
	lf->perms = perms & entry_perms(c, pte);
	lf->level = level;
	lf->pa = pte & SSPTE_ADDR & ~(pt_level_size(level) - 1);
	iotlb_key(key, c, level, r->addr);
	fill(u, r, &u->iotlb, key,
	     (uint64_t[4]){ lf->pa, lf->perms | TF_MK_STAGE(c->stage), 0, 0 });
	return 0;
}

/* Whether @perms allow the request; first stage weighs U/S and WPE. */
static int check_perms(const struct xctx *c, const struct req *r, uint64_t perms)
{
	if (c->stage == STAGE_FS) {
		if (!c->priv && !(perms & TF_US))
			return FR_SM_FS_US;
		if (r->write && !(perms & TF_W) && (!c->priv || c->wpe))
			return FR_SM_WRITE;
		return 0;
	}
	if (r->write ? !(perms & TF_W) : !(perms & TF_R))
		return perm_fault(c, r->write);
	return 0;
}

static void result(const struct xctx *c, const struct req *r, const struct leaf *lf,
		   struct vtdm_xlate *x)
{
	x->page_size = pt_level_size(lf->level);
	x->pa = lf->pa + (r->addr & (x->page_size - 1));
	x->r = lf->perms & TF_R;
	x->w = (lf->perms & TF_W) || (c->stage == STAGE_FS && c->priv && !c->wpe);
	if (c->stage == STAGE_FS && !c->priv && !(lf->perms & TF_US))
		x->r = x->w = false;
}

static int translate_walk(struct vtdm_unit *u, const struct req *r, const struct xctx *c,
			  struct vtdm_xlate *x)
{
	struct leaf lf;
	int fault;

	if (c->stage == STAGE_FS) {
		unsigned w = pt_levels_width(c->levels);
		int64_t sext = (int64_t)(r->addr << (64 - w)) >> (64 - w);

		if ((uint64_t)sext != r->addr)
			return FR_SM_NONCANON;
	} else {
		unsigned w = pt_levels_width(c->levels);
		unsigned mgaw = (unsigned)FIELD_GET(CAP_MGAW, u->cap) + 1;

		if (mgaw < w)
			w = mgaw;
		if (r->addr >> w)
			return c->sm ? FR_SM_ADDR_WIDTH : FR_ADDR_WIDTH;
	}
	for (int level = 1; level <= 3; level++) {
		uint64_t key[3];
		struct cache_entry *e;

		iotlb_key(key, c, level, r->addr);
		e = cache_get(&u->iotlb, key);
		if (!e)
			continue;
		vtdm_charge(u->m, u->m->cfg.costs.cache_lookup);
		if (e->val[1] & TF_NEG) {
			u->stat[ST_IOTLB_HIT]++;
			u->stat[ST_IOTLB_NEG_HIT]++;
			return np_fault(c, r->write);
		}
		lf = (struct leaf){ e->val[0], level, e->val[1] & (TF_R | TF_W | TF_US) };
		fault = r->kind == REQ_TRANSLATION ? 0 : check_perms(c, r, lf.perms);
		if (fault && cm_applies(u, c)) {
			u->stat[ST_IOTLB_HIT]++;	/* CM may fault from the cached entry */
			return fault;
		}
		if (fault) {
			/* CM=0 caches no faulting result: look again in memory. */
			cache_remove(&u->iotlb, e);
			break;
		}
		u->stat[ST_IOTLB_HIT]++;
		result(c, r, &lf, x);
		return 0;
	}
	u->stat[ST_IOTLB_MISS]++;
	fault = walk(u, r, c, &lf);
	if (fault)
		return fault;
	if (r->kind != REQ_TRANSLATION) {
		fault = check_perms(c, r, lf.perms);
		if (fault)
			return fault;
	}
	result(c, r, &lf, x);
	return 0;
}

/* Translate one request within one page; fault recording included. */
static int translate(struct vtdm_unit *u, const struct req *req, struct vtdm_xlate *x)
{
	struct req rq = *req;
	const struct req *r = &rq;
	struct xctx c;
	int fault;

	/* Its fills are dropped if an invalidation runs before they happen. */
	rq.gen = u->inv_gen;
	memset(x, 0, sizeof(*x));
	x->page_size = VTD_PAGE_SIZE;
	if (!(reg32(u, DMAR_GSTS_REG) & GSTS_TES)) {
		x->pa = r->addr;	/* translation disabled: addresses pass untouched */
		x->r = x->w = true;
		return 0;
	}
	fault = context(u, r, &c);
	if (!fault) {
		if (r->kind == REQ_TRANSLATED || c.stage == STAGE_PT) {
			x->pa = r->addr;
			x->r = x->w = true;
			return 0;
		}
		fault = translate_walk(u, r, &c, x);
		if (!fault)
			return 0;
	}
	u->stat[ST_FAULT]++;
	if (r->kind == REQ_TRANSLATION && recoverable(fault)) {
		x->r = x->w = false;	/* success with R=W=0, nothing recorded */
		return 0;
	}
	x->fault = fault;
	if (!c.fpd) {
		struct fault_rec f = {
			.sid = r->sid, .pasid = r->pasid, .addr = r->addr, .reason = (unsigned)fault,
			.type = r->kind == REQ_TRANSLATION ? FRCD_TYPE_TRANSLATE :
				r->write ? FRCD_TYPE_WRITE : FRCD_TYPE_READ,
			.at = (unsigned)r->kind,	/* enum req_kind follows the PCIe AT encoding */
			.priv = c.priv,
		};

		x->recorded = unit_record_fault(u, &f);
	}
	return 1;
}

/* ---- Device TLB (ATS) ---- */

static void atc_key(uint64_t key[3], uint32_t pasid, int level, uint64_t addr)
{
	key[0] = (uint64_t)level;
	key[1] = pasid;
	key[2] = addr >> pt_level_shift(level);
}

static struct cache_entry *atc_find(struct vtdm_device *d, uint32_t pasid, uint64_t addr,
				    int *level)
{
	for (int l = 1; l <= 3; l++) {
		uint64_t key[3];
		struct cache_entry *e;

		atc_key(key, pasid, l, addr);
		e = cache_get(&d->atc, key);
		if (e) {
			*level = l;
			return e;
		}
	}
	return NULL;
}

static int level_of(uint64_t size)
{
	return size >= pt_level_size(3) ? 3 : size >= pt_level_size(2) ? 2 : 1;
}

/*
 * A translation request; the device keeps what it is given, unless it
 * processed a device-TLB invalidation while the answer was on its way:
 * that invalidation's completion promised no translation it covers
 * survives in the device, and this answer may be one (ATS, VT-d 6.5.2.5).
 */
static int ats_request(struct vtdm_unit *u, struct vtdm_device *d, uint32_t pasid,
		       uint64_t addr, struct vtdm_xlate *x)
{
	struct req r = { d->cfg.sid, pasid, addr & ~(VTD_PAGE_SIZE - 1), false,
			 REQ_TRANSLATION };
	uint64_t dev_gen = d->inv_gen;
	int ret;

	u->stat[ST_ATS_REQ]++;
	vtdm_charge(u->m, u->m->cfg.costs.ats);
	ret = translate(u, &r, x);
	if (ret == 0 && (x->r || x->w)) {
		struct vtdm_point p = { VTDM_Y_CACHE_FILL, u->idx, r.sid, 0 };
		uint64_t key[3];
		int level = level_of(x->page_size);

		atc_key(key, pasid, level, addr);
		vtdm_yield(u->m, &p);
		if (d->inv_gen == dev_gen)
			cache_insert(&d->atc, key, (uint64_t[4]){
				x->pa & ~(x->page_size - 1),
				(x->r ? TF_R : 0) | (x->w ? TF_W : 0), 0, 0 });
		x->pa += addr & (VTD_PAGE_SIZE - 1);
	}
	return ret;
}

/* ---- Public entry points ---- */

static struct vtdm_unit *unit_for(struct vtdm *m, uint16_t sid, struct vtdm_device **dp)
{
	struct vtdm_device *d = vtdm_find_dev(m, sid);

	*dp = d;
	if (d)
		return m->unit[d->cfg.unit];
	return m->nunits ? m->unit[0] : NULL;
}

/*
 * One page-bounded piece of a DMA: device TLB first when the device has
 * one. Nothing read from a cache entry is kept across a yield but by
 * value: an invalidation at the yield may free the entry.
 */
static int dma_page(struct vtdm_unit *u, struct vtdm_device *d, const struct req *r,
		    struct vtdm_xlate *x)
{
	struct vtdm_point p = { VTDM_Y_LOOKUP, u->idx, r->sid, 0 };
	bool ats = d && d->cfg.ats && (u->ecap & ECAP_DT);
	struct req tr = *r;
	int level;

	vtdm_yield(u->m, &p);
	if (ats) {
		struct cache_entry *e = atc_find(d, r->pasid, r->addr, &level);
		uint64_t need = r->write ? TF_W : TF_R;

		d->stat[e ? SD_ATC_HIT : SD_ATC_MISS]++;
		if (!e) {
			struct vtdm_xlate t;

			if (ats_request(u, d, r->pasid, r->addr, &t) == 0)
				e = atc_find(d, r->pasid, r->addr, &level);
		}
		if (e && (e->val[1] & need)) {
			uint64_t size = pt_level_size(level), perms = e->val[1];

			tr.kind = REQ_TRANSLATED;
			tr.addr = e->val[0] + (r->addr & (size - 1));
			u->stat[ST_ATS_TRANSLATED]++;
			if (translate(u, &tr, x))
				return 1;
			x->from_atc = true;
			x->page_size = size;
			x->r = perms & TF_R;
			x->w = perms & TF_W;
			return 0;
		}
	}
	return translate(u, r, x);
}

int vtdm_dma(struct vtdm *m, uint16_t sid, uint32_t pasid, uint64_t iova, void *buf,
	     size_t len, bool write, struct vtdm_xlate *x)
{
	struct vtdm_device *d;
	struct vtdm_unit *u;
	uint8_t *p = buf;
	int ret = 0;

	memset(x, 0, sizeof(*x));
	if (!len)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	u = unit_for(m, sid, &d);
	if (!u) {
		pthread_mutex_unlock(&m->lock);
		return -EINVAL;
	}
	for (unsigned i = 0; i < m->nunits; i++)
		unit_tick(m->unit[i]);
	u->stat[write ? ST_DMA_WRITE : ST_DMA_READ]++;
	while (len) {
		uint64_t off = iova & (VTD_PAGE_SIZE - 1);
		size_t n = (size_t)(VTD_PAGE_SIZE - off) < len ? (size_t)(VTD_PAGE_SIZE - off) : len;
		struct req r = { sid, pasid, iova, write, REQ_UNTRANSLATED };
		struct vtdm_access a = { sid, pasid, iova, write, false, u->idx };
		struct vtdm_xlate px;

		vtdm_access_begin(m, &a);
		/* No yield between the translation and the data moving. */
		ret = dma_page(u, d, &r, &px);
		if (!ret && (write ? mem_write(&m->mem, px.pa, p, n) :
				     mem_read(&m->mem, px.pa, p, n))) {
			px.fault = VTDM_MASTER_ABORT;
			ret = 1;
		}
		if (ret) {
			u->stat[ST_DMA_FAULT]++;
		} else {
			u->stat[ST_DMA_BYTES] += n;
			vtdm_charge(m, (m->cfg.costs.dma_per_4k * n + VTD_PAGE_SIZE - 1) /
				       VTD_PAGE_SIZE);
		}
		/* Report the faulting page, or else the first page's translation. */
		if (ret || p == buf)
			*x = px;
		vtdm_access_end(m, &a, &px);
		if (ret)
			break;
		p += n;
		iova += n;
		len -= n;
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

int vtdm_ats_translate(struct vtdm *m, uint16_t sid, uint32_t pasid, uint64_t iova,
		       struct vtdm_xlate *x)
{
	struct vtdm_device *d;
	struct vtdm_unit *u;
	int ret = -EINVAL;

	memset(x, 0, sizeof(*x));
	pthread_mutex_lock(&m->lock);
	u = unit_for(m, sid, &d);
	if (u && d && d->cfg.ats && (u->ecap & ECAP_DT)) {
		struct vtdm_access a = { sid, pasid, iova, false, true, u->idx };
		struct vtdm_point p = { VTDM_Y_LOOKUP, u->idx, sid, 0 };

		vtdm_access_begin(m, &a);
		vtdm_yield(m, &p);
		ret = ats_request(u, d, pasid, iova, x);
		vtdm_access_end(m, &a, x);
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* ---- Invalidation (6.5.2) ---- */

/*
 * Each invalidation below also bumps the unit's (or device's) inv_gen,
 * so that a request in flight across it caches nothing it walked
 * (inv_since, ats_request).
 */

struct inv {
	unsigned g;
	uint16_t did, sid;
	uint16_t sid_mask;
	uint32_t pasid;
	bool all_pasids;
	uint64_t first, last;	/* inclusive: a range may end at 2^64 - 1 */
};

/* Whether the entry of @level at page number @key2 meets [first, last]. */
static bool overlaps(uint64_t key2, int level, const struct inv *v)
{
	uint64_t lo = key2 << pt_level_shift(level), hi = lo + (pt_level_size(level) - 1);

	return lo <= v->last && v->first <= hi;
}

static void set_range(struct inv *v, uint64_t addr, unsigned am)
{
	/* 2^AM pages; from AM=52 on, the whole space. */
	uint64_t mask = am >= 64 - VTD_PAGE_SHIFT ? ~0ULL : (VTD_PAGE_SIZE << am) - 1;

	/* The unit ignores address bits below the mask (6.5.2.3). */
	v->first = addr & ~mask;
	v->last = v->first + mask;
}

static bool ctx_match(struct cache_entry *e, const void *arg)
{
	const struct inv *v = arg;

	switch (v->g) {
	case CC_G_GLOBAL:
		return true;
	case CC_G_DOMAIN:
		/* Scalable-mode context entries carry no DID: every one goes. */
		return e->key[1] || e->val[3] == v->did;
	default:
		return ((uint16_t)e->key[0] & v->sid_mask) == (v->sid & v->sid_mask);
	}
}

void inv_ctx(struct vtdm_unit *u, unsigned g, uint16_t did, uint16_t sid, unsigned fm)
{
	/* FM masks 0, 1, 2 or 3 low bits of the function number: 2, 2:1, 2:0 (6.5.2.1). */
	static const uint16_t fm_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
	struct inv v = { .g = g, .did = did, .sid = sid, .sid_mask = fm_mask[fm & 3] };

	u->inv_gen++;
	cache_remove_if(&u->ctx, ctx_match, &v);
}

static bool iotlb_match(struct cache_entry *e, const void *arg)
{
	const struct inv *v = arg;
	int level = (int)(e->key[0] >> 16);

	if (v->g == IOTLB_G_GLOBAL)
		return true;
	if ((uint16_t)e->key[0] != v->did)
		return false;
	if (v->g == IOTLB_G_DSI)
		return true;
	/* Page-selective: first-stage entries of the domain go whatever the address. */
	return TF_STAGE(e->val[1]) == STAGE_FS || overlaps(e->key[2], level, v);
}

static bool psc_match(struct cache_entry *e, const void *arg)
{
	const struct inv *v = arg;

	return iotlb_match(e, arg) || (v->g == IOTLB_G_PSI && (uint16_t)e->key[0] == v->did &&
				       overlaps(e->key[2], (int)(e->key[0] >> 16), v));
}

static bool did_match(struct cache_entry *e, const void *arg)
{
	const struct inv *v = arg;

	return v->g == IOTLB_G_GLOBAL || (uint16_t)e->key[0] == v->did;
}

void inv_iotlb(struct vtdm_unit *u, unsigned g, uint16_t did, uint64_t addr, unsigned am,
	       bool ih)
{
	struct inv v = { .g = g, .did = did };

	u->inv_gen++;
	if (g == IOTLB_G_PSI)
		set_range(&v, addr, am);
	cache_remove_if(&u->iotlb, iotlb_match, &v);
	/* IH=1: only leaves changed, paging-structure entries may stay. */
	if (g != IOTLB_G_PSI || !ih)
		cache_remove_if(&u->pscs, psc_match, &v);
	cache_remove_if(&u->pscf, did_match, &v);
}

static bool piotlb_match(struct cache_entry *e, const void *arg)
{
	const struct inv *v = arg;

	if ((uint16_t)e->key[0] != v->did || e->key[1] != v->pasid)
		return false;
	if (TF_STAGE(e->val[1]) != STAGE_FS)
		return false;	/* second-stage and pass-through entries stay */
	return v->g == PIOTLB_G_PASID || overlaps(e->key[2], (int)(e->key[0] >> 16), v);
}

static bool pscf_match(struct cache_entry *e, const void *arg)
{
	const struct inv *v = arg;

	if ((uint16_t)e->key[0] != v->did || e->key[1] != v->pasid)
		return false;
	return v->g == PIOTLB_G_PASID || overlaps(e->key[2], (int)(e->key[0] >> 16), v);
}

void inv_piotlb(struct vtdm_unit *u, unsigned g, uint16_t did, uint32_t pasid,
		uint64_t addr, unsigned am, bool ih)
{
	struct inv v = { .g = g, .did = did, .pasid = pasid };

	u->inv_gen++;
	if (g == PIOTLB_G_PSI)
		set_range(&v, addr, am);
	cache_remove_if(&u->iotlb, piotlb_match, &v);
	if (g != PIOTLB_G_PSI || !ih)
		cache_remove_if(&u->pscf, pscf_match, &v);
}

static bool pc_match(struct cache_entry *e, const void *arg)
{
	const struct inv *v = arg;
	bool neg = e->val[3] & CF_NEG;
	uint16_t did = (uint16_t)FIELD_GET(PTE1_DID, e->val[1]);

	switch (v->g) {
	case PC_G_GLOBAL:
		return true;
	case PC_G_DOMAIN:
		/* A cached not-present entry has no DID yet: any domain flush drops it. */
		return neg || did == v->did;
	default:
		return e->key[1] == v->pasid && (neg || did == v->did);
	}
}

void inv_pasid_cache(struct vtdm_unit *u, unsigned g, uint16_t did, uint32_t pasid)
{
	struct inv v = { .g = g, .did = did, .pasid = pasid };

	u->inv_gen++;
	cache_remove_if(&u->pasid, pc_match, &v);
}

static bool atc_match(struct cache_entry *e, const void *arg)
{
	const struct inv *v = arg;
	uint32_t pasid = (uint32_t)e->key[1];

	if (v->pasid == VTD_NO_PASID) {
		/* Without PASID only entries without PASID go (our reading). */
		if (pasid != VTD_NO_PASID)
			return false;
	} else if (v->all_pasids ? pasid == VTD_NO_PASID : pasid != v->pasid) {
		return false;
	}
	return overlaps(e->key[2], (int)e->key[0], v);
}

void inv_atc(struct vtdm_device *d, uint32_t pasid, bool all_pasids, uint64_t base,
	     uint64_t size)
{
	/* A size of 0 is the whole space (devtlb_range_decode). */
	struct inv v = { .pasid = pasid, .all_pasids = all_pasids, .first = size ? base : 0,
			 .last = size ? base + (size - 1) : ~0ULL };

	d->inv_gen++;
	cache_remove_if(&d->atc, atc_match, &v);
}
