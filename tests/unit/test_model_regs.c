/*
 * test_model_regs.c — the model's register file beyond the queue: GCMD/GSTS
 * handshakes (VT-d 10.4.4), register-based invalidation through CCMD and
 * IOTLB_REG (6.5.1, 10.4.7-8), primary fault recording and the fault event
 * (7.1.3, 10.4.9-14), and what the walker sees of CPU table writes under
 * CAP.RWBF and ECAP.C=0 (6.8, 10.4.3).
 *
 * FRCD words are compared with constants typed in from the fact sheet §3,
 * not built with fmt/regs.h masks, so a wrong field position fails here.
 */
#include <errno.h>
#include <stdio.h>

#include "harness.h"
#include "hwenv.h"
#include "model_qi_util.h"

#define SID_DMA		0x0008	/* 00:01.0 */
#define SID_DMA2	0x0009	/* 00:01.1 */
#define SID_DMA4	0x000c	/* 00:01.4 */
#define SID_ATS		0x0010	/* 00:02.0 */

#define DID_A		5
#define DID_B		7

#define IOVA_A		0x10000ULL
#define IOVA_B		0x40000ULL
#define IOVA_HOLE	0x20000ULL	/* never mapped */

#define ITE_NS		1000000ULL

/* FRCD high qword bits, fact sheet §3 (abs bits 127, 126, 95, 92). */
#define HI_F		0x8000000000000000ULL
#define HI_T1		0x4000000000000000ULL
#define HI_PP		0x0000000080000000ULL
#define HI_T2		0x0000000010000000ULL
#define HI_FR(r)	((uint64_t)(r) << 32)
#define HI_PV(p)	((uint64_t)(p) << 40)

/* One unit with @keys, legacy tables, and QI when @qi; events unmasked. */
static void unit_init(struct hwenv *e, const char *caching, const char *keys, bool sm, bool qi)
{
	char all[128];

	if (e->m)
		hw_fini(e);
	snprintf(all, sizeof(all), "%s%s%s", caching, *keys ? "," : "", keys);
	hw_init(e, all, 1);
	hw_setup(e, 0, sm, qi);
	unmask_events(e);
}

static void ctx_clear(struct hwenv *e, uint16_t sid)
{
	hw_wr64(e, hw_ctx_addr(e, 0, sid), 0);
}

/* Write-buffer flush the way a driver issues it (10.4.4 WBF). */
static int wbf(struct hwenv *e)
{
	return _hw_gcmd(e, 0, (uint32_t)GCMD_WBF, true, (uint32_t)GSTS_WBFS, false);
}

/* ================================================================ */
/* 5. GCMD / GSTS                                                    */
/* ================================================================ */

FIXTURE(regs_gcmd) {
	struct hwenv e;
	const char *caching;
	uint64_t root, a, b;
	uint64_t status;
};

FIXTURE_VARIANT(regs_gcmd) {
	const char *caching;
};

FIXTURE_VARIANT_ADD(regs_gcmd, exact) { .caching = "caching=exact" };
FIXTURE_VARIANT_ADD(regs_gcmd, adversarial) { .caching = "caching=adversarial" };

/* A QI unit with device TLBs, one unresponsive ATS device, SID_DMA mapped. */
static void gcmd_unit(struct hwenv *e, const char *caching, const char *keys, uint64_t *root,
		      uint64_t *a, uint64_t *b, uint64_t *status)
{
	unit_init(e, caching, keys, false, true);
	hw_add_device(e, "00:02.0,ats=1,unresponsive=1");
	hw_ctx(e, 0, SID_DMA, DID_A, 4, CTX_TT_UNTRANSLATED, root);
	*a = page_with(e, VAL_A);
	*b = page_with(e, VAL_B);
	hw_map_ss(e, *root, 4, IOVA_A, *a, 4096, HW_PERM_RW);
	*status = hw_alloc(e);
}

FIXTURE_SETUP(regs_gcmd)
{
	self->caching = variant->caching;
	gcmd_unit(&self->e, self->caching, "dt=1", &self->root, &self->a, &self->b,
		  &self->status);
}

FIXTURE_TEARDOWN(regs_gcmd)
{
	if (self->e.m)
		hw_fini(&self->e);
}

/* Reset values (10.4): GSTS 0, events masked, queue registers 0. */
TEST_F(regs_gcmd, reset_values)
{
	struct hwenv *e = &self->e;

	hw_fini(e);
	hw_init(e, self->caching, 1);
	EXPECT_EQ(0, gsts(e));
	EXPECT_EQ(0, hw_reg32(e, 0, DMAR_GCMD_REG));
	EXPECT_EQ(0, fsts(e));
	EXPECT_EQ(0x80000000u, hw_reg32(e, 0, DMAR_FECTL_REG));
	EXPECT_EQ(0x80000000u, hw_reg32(e, 0, DMAR_IECTL_REG));
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_IQH_REG));
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_IQT_REG));
	EXPECT_EQ(0, hw_reg32(e, 0, DMAR_ICS_REG));
	EXPECT_EQ(0, iqer(e));
	EXPECT_EQ(0x10, hw_reg32(e, 0, DMAR_VER_REG));
	EXPECT_EQ(0x220, cap_frcd_offset(hw_reg64(e, 0, DMAR_CAP_REG)));
}

/* GCMD is write-only: it reads 0 whatever was written (10.4.4). */
TEST_F(regs_gcmd, gcmd_reads_zero)
{
	struct hwenv *e = &self->e;

	EXPECT_EQ((uint32_t)(GSTS_TES | GSTS_RTPS | GSTS_QIES), gsts(e));
	EXPECT_EQ(0, hw_reg32(e, 0, DMAR_GCMD_REG));
	gcmd_write(e, (uint32_t)GCMD_SRTP);
	EXPECT_EQ(0, hw_reg32(e, 0, DMAR_GCMD_REG));
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_GCMD_REG - 4) >> 32);
	EXPECT_EQ((uint32_t)(GSTS_TES | GSTS_RTPS | GSTS_QIES), gsts(e));
}

/*
 * SRTP latches RTADDR and sets RTPS (10.4.4, 10.4.6). A later RTADDR write
 * without SRTP changes nothing the hardware uses, even across global
 * context and IOTLB invalidations; the next SRTP switches tables.
 */
TEST_F(regs_gcmd, srtp_latches_rtaddr)
{
	struct hwenv *e = &self->e;
	uint64_t empty;
	struct vtd_desc inv[2] = {
		hw_desc((struct vtd_desc_fields){ .type = DESC_CC, .g = CC_G_GLOBAL }),
		hw_desc((struct vtd_desc_fields){ .type = DESC_IOTLB, .g = IOTLB_G_GLOBAL }),
	};

	hw_fini(e);
	hw_init(e, self->caching, 1);
	EXPECT_EQ(0, gsts(e) & GSTS_RTPS);
	gcmd_unit(e, self->caching, "dt=1", &self->root, &self->a, &self->b, &self->status);
	EXPECT_EQ(GSTS_RTPS, gsts(e) & GSTS_RTPS);
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));

	empty = hw_alloc(e);
	hw_set_reg64(e, 0, DMAR_RTADDR_REG, empty);
	EXPECT_EQ(empty, hw_reg64(e, 0, DMAR_RTADDR_REG));
	hw_qi(e, 0, inv, 2, true);
	EXPECT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));

	gcmd_write(e, (uint32_t)GCMD_SRTP);
	EXPECT_EQ(GSTS_RTPS, gsts(e) & GSTS_RTPS);
	hw_qi(e, 0, inv, 2, true);
	EXPECT_EQ(FR_ROOT_P, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_A));
}

/* TE off: DMA addresses pass untranslated; TES follows TE (10.4.4). */
TEST_F(regs_gcmd, te_off_passes_untranslated)
{
	struct hwenv *e = &self->e;
	uint64_t c = page_with(e, 0xcccc);
	struct vtdm_xlate x;

	hw_map_ss(e, self->root, 4, c, self->a, 4096, HW_PERM_RW);
	ASSERT_EQ(VAL_A, dma_rd(e, SID_DMA, VTD_NO_PASID, c, &x));
	ASSERT_EQ(self->a, x.pa);
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_TE, false, (uint32_t)GSTS_TES, false));
	EXPECT_EQ((uint32_t)(GSTS_RTPS | GSTS_QIES), gsts(e));
	EXPECT_EQ(0xcccc, dma_rd(e, SID_DMA, VTD_NO_PASID, c, &x));
	EXPECT_EQ(c, x.pa);
	/* An unmapped address is no fault either. */
	EXPECT_EQ(0, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_HOLE));
	EXPECT_EQ(0, hw_stat(e, "fault"));
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_TE, true, (uint32_t)GSTS_TES, true));
	EXPECT_EQ(VAL_A, dma_rd(e, SID_DMA, VTD_NO_PASID, c, &x));
}

/*
 * QIE: enabling sets QIES and fetches from IQH = 0 (10.4.4, 10.4.22);
 * disabling an idle queue clears QIES and resets IQH to 0.
 */
TEST_F(regs_gcmd, qie_enable_starts_at_head_zero)
{
	struct hwenv *e = &self->e;
	struct hw_unit *hu = &e->u[0];
	struct vtd_desc w[3];
	uint64_t s;

	unit_init(e, self->caching, "", false, false);
	EXPECT_EQ(0, gsts(e) & GSTS_QIES);
	hu->iq = hw_alloc(e);
	hu->iq_size = 256;
	hu->wide = false;
	hu->tail = 0;
	s = hw_alloc(e);
	w[0] = wait_sw(s, 1);
	w[1] = wait_sw(s + 4, 2);
	w[2] = wait_sw(s + 8, 3);
	hw_set_reg64(e, 0, DMAR_IQA_REG, hu->iq);
	/* Queued while disabled: nothing is fetched. */
	submit(e, w, 3);
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_IQH_REG));
	EXPECT_EQ(0, hw_rd32(e, s));
	EXPECT_EQ(0, hw_stat(e, "desc"));
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, true, (uint32_t)GSTS_QIES, true));
	EXPECT_EQ(3, hw_iqh(e, 0));
	EXPECT_EQ(1, hw_rd32(e, s));
	EXPECT_EQ(3, hw_rd32(e, s + 8));

	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, false, (uint32_t)GSTS_QIES, false));
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_IQH_REG));
	/* Two new descriptors at slots 0 and 1: the next enable starts there. */
	w[0] = wait_sw(s + 12, 4);
	w[1] = wait_sw(s + 16, 5);
	put_at(e, 0, &w[0]);
	put_at(e, 1, &w[1]);
	hw_set_reg64(e, 0, DMAR_IQT_REG, 2 * 16);
	EXPECT_EQ(0, hw_rd32(e, s + 12));
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, true, (uint32_t)GSTS_QIES, true));
	EXPECT_EQ(2, hw_iqh(e, 0));
	EXPECT_EQ(4, hw_rd32(e, s + 12));
	EXPECT_EQ(5, hw_rd32(e, s + 16));
	EXPECT_EQ(5, hw_stat(e, "wait.done"));
	EXPECT_EQ(0, hw_stat(e, "gcmd.refused"));
}

/* A wait still pending behind a device-TLB invalidation: disable refused. */
TEST_F(regs_gcmd, qie_disable_refused_while_wait_pending)
{
	struct hwenv *e = &self->e;
	struct vtd_desc q[2] = {
		hw_desc((struct vtd_desc_fields){ .type = DESC_DEVTLB, .sid = SID_ATS,
						  .addr = IOVA_A }),
		wait_sw(self->status, 9),
	};

	submit(e, q, 2);
	EXPECT_EQ(-ETIMEDOUT,
		  _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, false, (uint32_t)GSTS_QIES, false));
	EXPECT_EQ(GSTS_QIES, gsts(e) & GSTS_QIES);
	EXPECT_EQ(1, hw_stat(e, "gcmd.refused"));
	EXPECT_EQ(2, hw_iqh(e, 0));

	vtdm_clock_step(e->m, 2 * ITE_NS);
	ASSERT_EQ(FSTS_ITE, fsts(e));
	clear_fsts(e, FSTS_ITE);
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, false, (uint32_t)GSTS_QIES, false));
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_IQH_REG));
	EXPECT_EQ(1, hw_stat(e, "gcmd.refused"));
}

/*
 * A device-TLB invalidation still unanswered, with no wait behind it:
 * the queue is not idle either (10.4.4 QIE; 6.5.2.10 — its time-out
 * belongs to this queue).
 */
TEST_F(regs_gcmd, qie_disable_refused_while_devtlb_outstanding)
{
	struct hwenv *e = &self->e;
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){ .type = DESC_DEVTLB,
							      .sid = SID_ATS, .addr = IOVA_A });

	submit(e, &d, 1);
	EXPECT_EQ(1, hw_iqh(e, 0));
	EXPECT_EQ(-ETIMEDOUT,
		  _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, false, (uint32_t)GSTS_QIES, false));
	EXPECT_EQ(GSTS_QIES, gsts(e) & GSTS_QIES);
	EXPECT_EQ(1, hw_stat(e, "gcmd.refused"));
	vtdm_clock_step(e->m, 2 * ITE_NS);
	EXPECT_EQ(FSTS_ITE, fsts(e));
	EXPECT_EQ(SID_ATS, FIELD_GET(IQER_ITESID, iqer(e)));
	clear_fsts(e, FSTS_ITE);
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, false, (uint32_t)GSTS_QIES, false));
}

/* Descriptors fetched but stuck behind IQE: disable refused until processed. */
TEST_F(regs_gcmd, qie_disable_refused_with_queue_stopped)
{
	struct hwenv *e = &self->e;
	struct vtd_desc q[2] = { raw_desc(DESC_CC | BIT_ULL(8) | FIELD_PREP(CC_G, 1), 0, 0, 0),
				 wait_sw(self->status, 7) };
	struct vtd_desc fix = hw_desc((struct vtd_desc_fields){ .type = DESC_CC,
								.g = CC_G_GLOBAL });

	submit(e, q, 2);
	ASSERT_EQ(FSTS_IQE, fsts(e));
	EXPECT_EQ(-ETIMEDOUT,
		  _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, false, (uint32_t)GSTS_QIES, false));
	EXPECT_EQ(GSTS_QIES, gsts(e) & GSTS_QIES);
	EXPECT_EQ(1, hw_stat(e, "gcmd.refused"));
	put_at(e, 0, &fix);
	clear_fsts(e, FSTS_IQE);
	EXPECT_EQ(7, hw_rd32(e, self->status));
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, false, (uint32_t)GSTS_QIES, false));
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_IQH_REG));
}

/* QIE on a unit without ECAP.QI is refused. */
TEST_F(regs_gcmd, qie_refused_without_qi)
{
	struct hwenv *e = &self->e;

	unit_init(e, self->caching, "qi=0", false, false);
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_ECAP_REG) & ECAP_QI);
	gcmd_write(e, (uint32_t)GCMD_QIE);
	EXPECT_EQ(0, gsts(e) & GSTS_QIES);
	EXPECT_EQ(1, hw_stat(e, "gcmd.refused"));
}

/* WBF with CAP.RWBF flushes (6.8); WBFS reads 0 once it is done. */
TEST_F(regs_gcmd, wbf_with_rwbf_flushes)
{
	struct hwenv *e = &self->e;

	unit_init(e, self->caching, "rwbf=1", false, true);
	EXPECT_EQ(CAP_RWBF, hw_reg64(e, 0, DMAR_CAP_REG) & CAP_RWBF);
	gcmd_write(e, (uint32_t)GCMD_WBF);
	EXPECT_EQ(0, gsts(e) & GSTS_WBFS);
	EXPECT_EQ(1, hw_stat(e, "wbf"));
	EXPECT_EQ(0, hw_stat(e, "gcmd.refused"));
	EXPECT_EQ((uint32_t)(GSTS_TES | GSTS_RTPS | GSTS_QIES), gsts(e));
}

/* Without CAP.RWBF there is no write buffer to flush: the command is ignored. */
TEST_F(regs_gcmd, wbf_without_rwbf_ignored)
{
	struct hwenv *e = &self->e;

	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_CAP_REG) & CAP_RWBF);
	gcmd_write(e, (uint32_t)GCMD_WBF);
	EXPECT_EQ(0, gsts(e) & GSTS_WBFS);
	EXPECT_EQ(0, hw_stat(e, "wbf"));
	EXPECT_EQ(1, hw_stat(e, "gcmd.refused"));
	EXPECT_EQ((uint32_t)(GSTS_TES | GSTS_RTPS | GSTS_QIES), gsts(e));
}

/*
 * Interrupt remapping and fault logs are not offered (ECAP.IR=0,
 * CAP.AFL=0): IRE, SIRTP, SFL, EAFL and CFI are refused and their status
 * bits stay 0; the enables already on are untouched.
 */
TEST_F(regs_gcmd, unsupported_commands_refused)
{
	struct hwenv *e = &self->e;
	static const struct { uint32_t cmd, sts; const char *name; } c[] = {
		{ (uint32_t)GCMD_IRE, (uint32_t)GSTS_IRES, "IRE" },
		{ (uint32_t)GCMD_SIRTP, (uint32_t)GSTS_IRTPS, "SIRTP" },
		{ (uint32_t)GCMD_SFL, (uint32_t)GSTS_FLS, "SFL" },
		{ (uint32_t)GCMD_EAFL, (uint32_t)GSTS_AFLS, "EAFL" },
		{ (uint32_t)GCMD_CFI, (uint32_t)GSTS_CFIS, "CFI" },
	};

	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_ECAP_REG) & ECAP_IR);
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_CAP_REG) & CAP_AFL);
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		gcmd_write(e, c[i].cmd);
		if (gsts(e) & c[i].sts)
			TH_LOG("%s set its status bit", c[i].name);
		EXPECT_EQ(0, gsts(e) & c[i].sts);
		EXPECT_EQ(i + 1, hw_stat(e, "gcmd.refused"));
	}
	EXPECT_EQ((uint32_t)(GSTS_TES | GSTS_RTPS | GSTS_QIES), gsts(e));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
}

/* ================================================================ */
/* 6. Register-based invalidation (CCMD, IVA/IOTLB_REG)              */
/* ================================================================ */

/* SID_DMA and SID_DMA4 in DID_A, SID_DMA2 in DID_B; IOVA_A, IOVA_B of SID_DMA. */
struct reginv {
	struct hwenv e;
	const char *caching;
	uint64_t root, root2, root4, a, b;
};

static void reginv_unit(struct reginv *r, const char *keys, bool qi)
{
	struct hwenv *e = &r->e;

	unit_init(e, r->caching, keys, false, qi);
	hw_ctx(e, 0, SID_DMA, DID_A, 4, CTX_TT_UNTRANSLATED, &r->root);
	hw_ctx(e, 0, SID_DMA2, DID_B, 4, CTX_TT_UNTRANSLATED, &r->root2);
	hw_ctx(e, 0, SID_DMA4, DID_A, 4, CTX_TT_UNTRANSLATED, &r->root4);
	r->a = page_with(e, VAL_A);
	r->b = page_with(e, VAL_B);
	hw_map_ss(e, r->root, 4, IOVA_A, r->a, 4096, HW_PERM_RW);
	hw_map_ss(e, r->root, 4, IOVA_B, r->a, 4096, HW_PERM_RW);
	hw_map_ss(e, r->root2, 4, IOVA_A, r->a, 4096, HW_PERM_RW);
	hw_map_ss(e, r->root4, 4, IOVA_A, r->a, 4096, HW_PERM_RW);
}

FIXTURE(regs_reginv) {
	struct reginv r;
};

FIXTURE_VARIANT(regs_reginv) {
	const char *caching;
};

FIXTURE_VARIANT_ADD(regs_reginv, exact) { .caching = "caching=exact" };
FIXTURE_VARIANT_ADD(regs_reginv, adversarial) { .caching = "caching=adversarial" };

FIXTURE_SETUP(regs_reginv)
{
	self->r.caching = variant->caching;
	reginv_unit(&self->r, "qi=0", false);
}

FIXTURE_TEARDOWN(regs_reginv)
{
	hw_fini(&self->r.e);
}

/* Write CCMD and return what it reads back (ICC cleared when done). */
static uint64_t ccmd(struct hwenv *e, unsigned g, uint16_t did, uint16_t sid, unsigned fm)
{
	hw_set_reg64(e, 0, DMAR_CCMD_REG, CCMD_ICC | FIELD_PREP(CCMD_CIRG, g) |
			   FIELD_PREP(CCMD_DID, did) | FIELD_PREP(CCMD_SID, sid) |
			   FIELD_PREP(CCMD_FM, fm));
	return hw_reg64(e, 0, DMAR_CCMD_REG);
}

/* Write IVA, then IOTLB_REG with IVT; return IOTLB_REG as read back. */
static uint64_t iotlb_reg(struct hwenv *e, unsigned g, uint16_t did, uint64_t addr, unsigned am)
{
	unsigned iva = ecap_iva_offset(hw_reg64(e, 0, DMAR_ECAP_REG));

	hw_set_reg64(e, 0, iva, addr | FIELD_PREP(IVA_AM, am));
	hw_set_reg64(e, 0, iva + 8, IOTLB_IVT | FIELD_PREP(IOTLB_IIRG, g) |
			   FIELD_PREP(IOTLB_DID, did));
	return hw_reg64(e, 0, iva + 8);
}

static void cache_all_contexts(struct hwenv *e)
{
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	ASSERT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	ASSERT_EQ(VAL_A, rd(e, SID_DMA4, IOVA_A));
	ctx_clear(e, SID_DMA);
	ctx_clear(e, SID_DMA2);
	ctx_clear(e, SID_DMA4);
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
}

TEST_F(regs_reginv, ccmd_global)
{
	struct reginv *r = &self->r;
	struct hwenv *e = &r->e;
	uint64_t v;

	cache_all_contexts(e);
	v = ccmd(e, REG_GRAN_GLOBAL, 0, 0, 0);
	EXPECT_EQ(0, v & CCMD_ICC);
	EXPECT_EQ(REG_GRAN_GLOBAL, FIELD_GET(CCMD_CAIG, v));
	EXPECT_EQ(1, hw_stat(e, "reginv.cc"));
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_A));
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA2, VTD_NO_PASID, IOVA_A));
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA4, VTD_NO_PASID, IOVA_A));
}

TEST_F(regs_reginv, ccmd_domain)
{
	struct reginv *r = &self->r;
	struct hwenv *e = &r->e;
	uint64_t v;

	cache_all_contexts(e);
	v = ccmd(e, REG_GRAN_DOMAIN, DID_A, 0, 0);
	EXPECT_EQ(0, v & CCMD_ICC);
	EXPECT_EQ(REG_GRAN_DOMAIN, FIELD_GET(CCMD_CAIG, v));
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_A));
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA4, VTD_NO_PASID, IOVA_A));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
}

/* Device-selective with FM=0, then FM=1 (mask function bit 2, 10.4.7). */
TEST_F(regs_reginv, ccmd_device)
{
	struct reginv *r = &self->r;
	struct hwenv *e = &r->e;
	uint64_t v;

	cache_all_contexts(e);
	v = ccmd(e, REG_GRAN_DEVICE, DID_A, SID_DMA, 0);
	EXPECT_EQ(0, v & CCMD_ICC);
	EXPECT_EQ(REG_GRAN_DEVICE, FIELD_GET(CCMD_CAIG, v));
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_A));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA4, IOVA_A));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	v = ccmd(e, REG_GRAN_DEVICE, DID_A, SID_DMA, 1);
	EXPECT_EQ(REG_GRAN_DEVICE, FIELD_GET(CCMD_CAIG, v));
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA4, VTD_NO_PASID, IOVA_A));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	EXPECT_EQ(2, hw_stat(e, "reginv.cc"));
}

/* IOVA_A, IOVA_B of DID_A and IOVA_A of DID_B cached, then retargeted. */
static void stale_iotlb(struct hwenv *e, uint64_t root, uint64_t root2, uint64_t b)
{
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_B));
	ASSERT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	ss_retarget(e, root, IOVA_A, b);
	ss_retarget(e, root, IOVA_B, b);
	ss_retarget(e, root2, IOVA_A, b);
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
}

TEST_F(regs_reginv, iotlb_global)
{
	struct reginv *r = &self->r;
	struct hwenv *e = &r->e;
	uint64_t v;

	stale_iotlb(e, r->root, r->root2, r->b);
	v = iotlb_reg(e, REG_GRAN_GLOBAL, 0, 0, 0);
	EXPECT_EQ(0, v & IOTLB_IVT);
	EXPECT_EQ(REG_GRAN_GLOBAL, FIELD_GET(IOTLB_IAIG, v));
	EXPECT_EQ(1, hw_stat(e, "reginv.iotlb"));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_A));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_B));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA2, IOVA_A));
}

TEST_F(regs_reginv, iotlb_dsi)
{
	struct reginv *r = &self->r;
	struct hwenv *e = &r->e;
	uint64_t v;

	stale_iotlb(e, r->root, r->root2, r->b);
	v = iotlb_reg(e, REG_GRAN_DOMAIN, DID_A, 0, 0);
	EXPECT_EQ(0, v & IOTLB_IVT);
	EXPECT_EQ(REG_GRAN_DOMAIN, FIELD_GET(IOTLB_IAIG, v));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_A));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_B));
}

TEST_F(regs_reginv, iotlb_psi)
{
	struct reginv *r = &self->r;
	struct hwenv *e = &r->e;
	uint64_t v;

	stale_iotlb(e, r->root, r->root2, r->b);
	v = iotlb_reg(e, REG_GRAN_DEVICE, DID_A, IOVA_A, 0);
	EXPECT_EQ(0, v & IOTLB_IVT);
	EXPECT_EQ(REG_GRAN_DEVICE, FIELD_GET(IOTLB_IAIG, v));
	/* Stale ones first: a walk may prefetch neighbours afresh. */
	EXPECT_EQ(VAL_A, rd(e, SID_DMA, IOVA_B));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_A));
}

/* Without CAP.PSI a page-selective request is done domain-wide: IAIG=DSI. */
TEST_F(regs_reginv, iotlb_psi_without_psi_is_dsi)
{
	struct reginv *r = &self->r;
	struct hwenv *e = &r->e;
	uint64_t v;

	reginv_unit(r, "qi=0,psi=0", false);
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_CAP_REG) & CAP_PSI);
	stale_iotlb(e, r->root, r->root2, r->b);
	v = iotlb_reg(e, REG_GRAN_DEVICE, DID_A, IOVA_A, 0);
	EXPECT_EQ(0, v & IOTLB_IVT);
	EXPECT_EQ(REG_GRAN_DOMAIN, FIELD_GET(IOTLB_IAIG, v));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_B));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_A));
}

/* AM above CAP.MAMV: the unit falls back to a domain flush (IAIG=DSI). */
TEST_F(regs_reginv, iotlb_psi_above_mamv_is_dsi)
{
	struct reginv *r = &self->r;
	struct hwenv *e = &r->e;
	uint64_t v;

	reginv_unit(r, "qi=0,mamv=1", false);
	EXPECT_EQ(1, FIELD_GET(CAP_MAMV, hw_reg64(e, 0, DMAR_CAP_REG)));
	stale_iotlb(e, r->root, r->root2, r->b);
	/* AM=1 is allowed: two pages from IOVA_A, IOVA_B stays stale. */
	v = iotlb_reg(e, REG_GRAN_DEVICE, DID_A, IOVA_A, 1);
	EXPECT_EQ(REG_GRAN_DEVICE, FIELD_GET(IOTLB_IAIG, v));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA, IOVA_B));
	v = iotlb_reg(e, REG_GRAN_DEVICE, DID_A, IOVA_A, 2);
	EXPECT_EQ(0, v & IOTLB_IVT);
	EXPECT_EQ(REG_GRAN_DOMAIN, FIELD_GET(IOTLB_IAIG, v));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_B));
	EXPECT_EQ(2, hw_stat(e, "reginv.iotlb"));
}

/* While QI is enabled, register-based invalidation is refused (6.5.2): CAIG/IAIG 0. */
TEST_F(regs_reginv, refused_while_qi_enabled)
{
	struct reginv *r = &self->r;
	struct hwenv *e = &r->e;
	uint64_t v;

	reginv_unit(r, "", true);
	ASSERT_EQ(GSTS_QIES, gsts(e) & GSTS_QIES);
	stale_iotlb(e, r->root, r->root2, r->b);
	ctx_clear(e, SID_DMA2);
	v = ccmd(e, REG_GRAN_GLOBAL, 0, 0, 0);
	EXPECT_EQ(0, v & CCMD_ICC);
	EXPECT_EQ(0, FIELD_GET(CCMD_CAIG, v));
	EXPECT_EQ(1, hw_stat(e, "reginv.ignored"));
	v = iotlb_reg(e, REG_GRAN_GLOBAL, 0, 0, 0);
	EXPECT_EQ(0, v & IOTLB_IVT);
	EXPECT_EQ(0, FIELD_GET(IOTLB_IAIG, v));
	EXPECT_EQ(2, hw_stat(e, "reginv.ignored"));
	EXPECT_EQ(0, hw_stat(e, "reginv.cc"));
	EXPECT_EQ(0, hw_stat(e, "reginv.iotlb"));
	/* Nothing was invalidated: cached context and stale IOTLB entries stay. */
	EXPECT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
}

/*
 * CAP.RWBF: register-based IOTLB invalidation also drains the write
 * buffer (6.8), so a table write becomes visible without GCMD.WBF.
 */
TEST_F(regs_reginv, iotlb_reg_drains_write_buffer)
{
	struct reginv *r = &self->r;
	struct hwenv *e = &r->e;

	reginv_unit(r, "qi=0,rwbf=1", false);
	ASSERT_EQ(0, wbf(e));
	ASSERT_EQ(1, hw_stat(e, "wbf"));
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	hw_map_ss(e, r->root, 4, IOVA_HOLE, r->b, 4096, HW_PERM_RW);
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_HOLE));
	EXPECT_EQ(1, hw_stat(e, "walk.stale_read"));
	iotlb_reg(e, REG_GRAN_DOMAIN, DID_B, 0, 0);
	/* The unit's own drain: not a GCMD.WBF, so `wbf` stays. */
	EXPECT_EQ(1, hw_stat(e, "wbf"));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_HOLE));
	EXPECT_EQ(1, hw_stat(e, "walk.stale_read"));
}

/* ================================================================ */
/* 7. Fault recording and the fault event                            */
/* ================================================================ */

FIXTURE(regs_fault) {
	struct hwenv e;
	const char *caching;
	uint64_t root, a;
};

FIXTURE_VARIANT(regs_fault) {
	const char *caching;
};

FIXTURE_VARIANT_ADD(regs_fault, exact) { .caching = "caching=exact" };
FIXTURE_VARIANT_ADD(regs_fault, adversarial) { .caching = "caching=adversarial" };

static void fault_unit(struct hwenv *e, const char *caching, const char *keys, uint64_t *root,
		       uint64_t *a)
{
	unit_init(e, caching, keys, false, true);
	hw_ctx(e, 0, SID_DMA, DID_A, 4, CTX_TT_UNTRANSLATED, root);
	*a = page_with(e, VAL_A);
	hw_map_ss(e, *root, 4, IOVA_A, *a, 4096, HW_PERM_RW);
}

FIXTURE_SETUP(regs_fault)
{
	self->caching = variant->caching;
	fault_unit(&self->e, self->caching, "", &self->root, &self->a);
}

FIXTURE_TEARDOWN(regs_fault)
{
	hw_fini(&self->e);
}

static unsigned frcd(struct hwenv *e, unsigned i)
{
	return cap_frcd_offset(hw_reg64(e, 0, DMAR_CAP_REG)) + 16 * i;
}

static uint64_t frcd_lo(struct hwenv *e, unsigned i)
{
	return hw_reg64(e, 0, frcd(e, i));
}

static uint64_t frcd_hi(struct hwenv *e, unsigned i)
{
	return hw_reg64(e, 0, frcd(e, i) + 8);
}

static void frcd_clear(struct hwenv *e, unsigned i)
{
	hw_set_reg64(e, 0, frcd(e, i) + 8, HI_F);
}

static int wr_fault(struct hwenv *e, uint16_t sid, uint64_t iova)
{
	struct vtdm_xlate x;

	hw_dma_wr64(e, sid, VTD_NO_PASID, iova, 0x1234, &x);
	return x.fault;
}

/* FI = page address, SID, FR, T1 for a read and not for a write (10.4.14). */
TEST_F(regs_fault, frcd_fields_read_and_write)
{
	struct hwenv *e = &self->e;
	struct vtdm_xlate x;

	EXPECT_EQ(NOVAL, dma_rd(e, SID_DMA, VTD_NO_PASID, IOVA_HOLE + 0x123, &x));
	EXPECT_EQ(FR_READ, x.fault);
	EXPECT_TRUE(x.recorded);
	EXPECT_EQ(IOVA_HOLE, frcd_lo(e, 0));
	EXPECT_EQ(HI_F | HI_T1 | HI_FR(0x06) | SID_DMA, frcd_hi(e, 0));
	EXPECT_EQ(FR_WRITE, wr_fault(e, SID_DMA, 0x30ff8));
	EXPECT_EQ(0x30000, frcd_lo(e, 1));
	EXPECT_EQ(HI_F | HI_FR(0x05) | SID_DMA, frcd_hi(e, 1));
	/* A write to a read-only page is recorded the same way. */
	hw_map_ss(e, self->root, 4, 0x50000, self->a, 4096, HW_PERM_R);
	EXPECT_EQ(FR_WRITE, wr_fault(e, SID_DMA, 0x50010));
	EXPECT_EQ(0x50000, frcd_lo(e, 2));
	EXPECT_EQ(HI_F | HI_FR(0x05) | SID_DMA, frcd_hi(e, 2));
	EXPECT_EQ(3, hw_stat(e, "fault.recorded"));
	EXPECT_EQ(0, frcd_hi(e, 3));
}

/* With PASID on a scalable-mode unit: PP=1 and PV hold the PASID. */
TEST_F(regs_fault, frcd_pasid_fields)
{
	struct hwenv *e = &self->e;
	struct vtdm_xlate x;
	uint64_t fs;

	unit_init(e, self->caching, "sm=1", true, true);
	hw_sm_ctx(e, 0, SID_DMA, 0, false, true);
	hw_pasid(e, 0, SID_DMA, 0x1abc, PGTT_FS, DID_A, 4, &fs);
	EXPECT_EQ(NOVAL, dma_rd(e, SID_DMA, 0x1abc, 0x7000, &x));
	EXPECT_EQ(FR_SM_FS_P, x.fault);
	EXPECT_TRUE(x.recorded);
	EXPECT_EQ(0x7000, frcd_lo(e, 0));
	EXPECT_EQ(HI_F | HI_T1 | HI_PV(0x1abc) | HI_FR(FR_SM_FS_P) | HI_PP | SID_DMA,
		  frcd_hi(e, 0));
}

/* A translation request (ATS) that faults non-recoverably: T2=1, T1=0. */
TEST_F(regs_fault, frcd_translation_request)
{
	struct hwenv *e = &self->e;
	struct vtdm_xlate x;
	uint64_t root;

	unit_init(e, self->caching, "dt=1", false, true);
	hw_add_device(e, "00:02.0,ats=1");
	/* TT=00 blocks translation requests (LCT.5). */
	hw_ctx(e, 0, SID_ATS, DID_A, 4, CTX_TT_UNTRANSLATED, &root);
	EXPECT_EQ(1, vtdm_ats_translate(e->m, SID_ATS, VTD_NO_PASID, 0x6000, &x));
	EXPECT_EQ(FR_CTX_TT, x.fault);
	EXPECT_EQ(0x6000, frcd_lo(e, 0));
	/* AT (bits 125:124) is not checked: the model does not record it yet. */
	EXPECT_EQ(HI_F | HI_T2 | HI_FR(0x0d) | SID_ATS, frcd_hi(e, 0) & ~(3ULL << 60));
}

/*
 * PPF is the OR of every F; FRI names the record that set it (10.4.9).
 * Clearing F (write 1 to bit 127) releases a record; the next fault
 * goes to the following register.
 */
TEST_F(regs_fault, ppf_fri_and_clearing_f)
{
	struct hwenv *e = &self->e;

	EXPECT_EQ(0, fsts(e));
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_HOLE));
	EXPECT_EQ(FSTS_PPF, fsts(e));		/* FRI 0 */
	EXPECT_EQ(FR_WRITE, wr_fault(e, SID_DMA, 0x30000));
	EXPECT_EQ(FSTS_PPF, fsts(e));
	frcd_clear(e, 0);
	EXPECT_EQ(0, frcd_hi(e, 0) & HI_F);
	EXPECT_EQ(HI_F, frcd_hi(e, 1) & HI_F);
	EXPECT_EQ(FSTS_PPF, fsts(e) & (FSTS_PPF | FSTS_PFO));
	/* A 32-bit write to the top dword clears F too. */
	hw_set_reg32(e, 0, frcd(e, 1) + 12, 0x80000000u);
	EXPECT_EQ(0, frcd_hi(e, 1) & HI_F);
	EXPECT_EQ(0, fsts(e) & FSTS_PPF);
	/* Other FRCD bits and PPF itself are read-only. */
	hw_set_reg64(e, 0, frcd(e, 2), ~0ULL);
	hw_set_reg64(e, 0, frcd(e, 2) + 8, ~0ULL & ~HI_F);
	EXPECT_EQ(0, frcd_lo(e, 2));
	EXPECT_EQ(0, frcd_hi(e, 2));
	clear_fsts(e, FSTS_PPF);
	EXPECT_EQ(0, fsts(e) & FSTS_PPF);
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, 0x70000));
	EXPECT_EQ(FSTS_PPF | (2u << 8), fsts(e));
	EXPECT_EQ(0x70000, frcd_lo(e, 2));
}

/* nfr=2: the third fault finds FRCD0 busy, sets PFO and is dropped (7.1.3). */
TEST_F(regs_fault, ring_overflow_sets_pfo)
{
	struct hwenv *e = &self->e;
	struct vtdm_xlate x;

	fault_unit(e, self->caching, "nfr=2", &self->root, &self->a);
	EXPECT_EQ(1, FIELD_GET(CAP_NFR, hw_reg64(e, 0, DMAR_CAP_REG)));
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, 0x20000));
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, 0x30000));
	EXPECT_EQ(FSTS_PPF, fsts(e));
	EXPECT_EQ(NOVAL, dma_rd(e, SID_DMA, VTD_NO_PASID, 0x50000, &x));
	EXPECT_EQ(FR_READ, x.fault);
	EXPECT_FALSE(x.recorded);
	EXPECT_EQ(FSTS_PPF | FSTS_PFO, fsts(e));
	EXPECT_EQ(1, hw_stat(e, "fault.overflow"));
	EXPECT_EQ(2, hw_stat(e, "fault.recorded"));
	EXPECT_EQ(3, hw_stat(e, "fault"));
	EXPECT_EQ(0x20000, frcd_lo(e, 0));
	EXPECT_EQ(0x30000, frcd_lo(e, 1));
	/* While PFO is set nothing is recorded, even into a free register. */
	frcd_clear(e, 0);
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, 0x60000));
	EXPECT_EQ(2, hw_stat(e, "fault.overflow"));
	EXPECT_EQ(0, frcd_hi(e, 0) & HI_F);
	/* PFO cleared: recording resumes at the register it stopped at. */
	clear_fsts(e, FSTS_PFO);
	EXPECT_EQ(FSTS_PPF, fsts(e) & (FSTS_PPF | FSTS_PFO));
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, 0x70000));
	EXPECT_EQ(0x70000, frcd_lo(e, 0));
	EXPECT_EQ(HI_F | HI_T1 | HI_FR(0x06) | SID_DMA, frcd_hi(e, 0));
	EXPECT_EQ(3, hw_stat(e, "fault.recorded"));
	/* One event for the whole episode: PPF stayed pending throughout. */
	EXPECT_EQ(1, hw_stat(e, "fault.irq"));
}

/* Context FPD=1: the DMA still faults, nothing is recorded, no event. */
TEST_F(regs_fault, fpd_suppresses_recording)
{
	struct hwenv *e = &self->e;
	uint64_t ce = hw_ctx_addr(e, 0, SID_DMA);
	struct vtdm_xlate x;

	hw_wr64(e, ce, hw_rd64(e, ce) | CTX_FPD);
	EXPECT_EQ(NOVAL, dma_rd(e, SID_DMA, VTD_NO_PASID, IOVA_HOLE, &x));
	EXPECT_EQ(FR_READ, x.fault);
	EXPECT_FALSE(x.recorded);
	EXPECT_EQ(0, fsts(e));
	EXPECT_EQ(0, frcd_hi(e, 0));
	EXPECT_EQ(1, hw_stat(e, "fault"));
	EXPECT_EQ(0, hw_stat(e, "fault.recorded"));
	EXPECT_EQ(0, hw_stat(e, "fault.irq"));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
}

/*
 * The fault event fires when the first condition becomes pending, not
 * for each fault while one is (10.4.10): a second fault, and an IQE
 * while PPF is set, send nothing.
 */
TEST_F(regs_fault, event_only_on_first_pending)
{
	struct hwenv *e = &self->e;
	struct vtd_desc bad = raw_desc(DESC_CC, 0, 0, 0);	/* G=0 */
	struct vtd_desc fix = hw_desc((struct vtd_desc_fields){ .type = DESC_CC,
								.g = CC_G_GLOBAL });

	rd_fault(e, SID_DMA, VTD_NO_PASID, 0x20000);
	EXPECT_EQ(1, hw_stat(e, "fault.irq"));
	rd_fault(e, SID_DMA, VTD_NO_PASID, 0x30000);
	EXPECT_EQ(1, hw_stat(e, "fault.irq"));
	submit(e, &bad, 1);
	EXPECT_EQ(FSTS_PPF | FSTS_IQE, fsts(e));
	EXPECT_EQ(1, hw_stat(e, "fault.irq"));
	put_at(e, 0, &fix);
	clear_fsts(e, FSTS_IQE);
	frcd_clear(e, 0);
	frcd_clear(e, 1);
	EXPECT_EQ(0, fsts(e) & (FSTS_PPF | FSTS_IQE));
	rd_fault(e, SID_DMA, VTD_NO_PASID, 0x40000);
	EXPECT_EQ(2, hw_stat(e, "fault.irq"));
	EXPECT_EQ(0, hw_reg32(e, 0, DMAR_FECTL_REG));
}

/* FECTL.IM=1: the event waits in IP and goes out when IM is cleared. */
TEST_F(regs_fault, masked_event_pends_until_unmasked)
{
	struct hwenv *e = &self->e;

	hw_set_reg32(e, 0, DMAR_FECTL_REG, ECTL_IM);
	rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_HOLE);
	EXPECT_EQ(ECTL_IM | ECTL_IP, hw_reg32(e, 0, DMAR_FECTL_REG));
	EXPECT_EQ(0, hw_stat(e, "fault.irq"));
	hw_set_reg32(e, 0, DMAR_FECTL_REG, 0);
	EXPECT_EQ(0, hw_reg32(e, 0, DMAR_FECTL_REG));
	EXPECT_EQ(1, hw_stat(e, "fault.irq"));
}

/* Servicing every pending condition while masked clears IP: nothing is sent. */
TEST_F(regs_fault, servicing_while_masked_clears_ip)
{
	struct hwenv *e = &self->e;

	hw_set_reg32(e, 0, DMAR_FECTL_REG, ECTL_IM);
	rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_HOLE);
	ASSERT_EQ(ECTL_IM | ECTL_IP, hw_reg32(e, 0, DMAR_FECTL_REG));
	frcd_clear(e, 0);
	EXPECT_EQ(0, fsts(e) & FSTS_PPF);
	EXPECT_EQ(ECTL_IM, hw_reg32(e, 0, DMAR_FECTL_REG));
	hw_set_reg32(e, 0, DMAR_FECTL_REG, 0);
	EXPECT_EQ(0, hw_stat(e, "fault.irq"));
}

/* FECTL resets masked: a fault before the driver unmasks is sent on unmask. */
TEST_F(regs_fault, fault_before_unmask_sent_on_unmask)
{
	struct hwenv *e = &self->e;

	hw_fini(e);
	hw_init(e, self->caching, 1);
	hw_setup(e, 0, false, true);
	hw_ctx(e, 0, SID_DMA, DID_A, 4, CTX_TT_UNTRANSLATED, &self->root);
	rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_HOLE);
	EXPECT_EQ(ECTL_IM | ECTL_IP, hw_reg32(e, 0, DMAR_FECTL_REG));
	EXPECT_EQ(0, hw_stat(e, "fault.irq"));
	hw_set_reg32(e, 0, DMAR_FECTL_REG, 0);
	EXPECT_EQ(1, hw_stat(e, "fault.irq"));
}

/* ================================================================ */
/* 8. Write buffer (CAP.RWBF) and non-coherent walks (ECAP.C=0)      */
/* ================================================================ */

FIXTURE(regs_wbuf) {
	struct hwenv e;
	const char *caching;
	uint64_t root, a, b;
};

FIXTURE_VARIANT(regs_wbuf) {
	const char *caching;
};

FIXTURE_VARIANT_ADD(regs_wbuf, exact) { .caching = "caching=exact" };
FIXTURE_VARIANT_ADD(regs_wbuf, adversarial) { .caching = "caching=adversarial" };

FIXTURE_SETUP(regs_wbuf)
{
	self->caching = variant->caching;
}

FIXTURE_TEARDOWN(regs_wbuf)
{
	if (self->e.m)
		hw_fini(&self->e);
}

/* Legacy unit with @keys; SID_DMA mapped at IOVA_A (tables written with clflush). */
static void wbuf_unit(struct hwenv *e, const char *caching, const char *keys, uint64_t *root,
		      uint64_t *a, uint64_t *b)
{
	unit_init(e, caching, keys, false, true);
	hw_ctx(e, 0, SID_DMA, DID_A, 4, CTX_TT_UNTRANSLATED, root);
	*a = page_with(e, VAL_A);
	*b = page_with(e, VAL_B);
	hw_map_ss(e, *root, 4, IOVA_A, *a, 4096, HW_PERM_RW);
}

/* CAP.RWBF: CPU table writes reach the walker only after GCMD.WBF (6.8). */
TEST_F(regs_wbuf, rwbf_table_writes_need_wbf)
{
	struct hwenv *e = &self->e;
	uint64_t pte;

	wbuf_unit(e, self->caching, "rwbf=1", &self->root, &self->a, &self->b);
	/* The root entry itself is still in the write buffer. */
	EXPECT_EQ(FR_ROOT_P, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_A));
	EXPECT_EQ(1, hw_stat(e, "walk.stale_read"));
	ASSERT_EQ(0, wbf(e));
	EXPECT_EQ(1, hw_stat(e, "wbf"));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));

	/* A new leaf in an existing table: invisible until the next WBF. */
	pte = hw_pte_addr(e, self->root, 4, IOVA_B, 1, false);
	ASSERT_NE(0, pte);
	hw_wr64(e, pte, self->b | SSPTE_R | SSPTE_W);
	vtdm_clflush(e->m, pte);	/* coherent unit: clflush changes nothing */
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_B));
	EXPECT_EQ(2, hw_stat(e, "walk.stale_read"));
	ASSERT_EQ(0, wbf(e));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_B));
	EXPECT_EQ(2, hw_stat(e, "walk.stale_read"));
	EXPECT_EQ(2, hw_stat(e, "wbf"));
}

/*
 * CAP.RWBF: a queued invalidation drains the write buffer before it is
 * performed (6.8), so an unmap needs no GCMD.WBF: after the IOTLB
 * invalidation the walker sees the cleared entry.
 */
TEST_F(regs_wbuf, rwbf_queued_invalidation_drains)
{
	struct hwenv *e = &self->e;
	uint64_t pte;

	wbuf_unit(e, self->caching, "rwbf=1", &self->root, &self->a, &self->b);
	ASSERT_EQ(0, wbf(e));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	/* Unmap IOVA_A: the cleared entry waits in the write buffer. */
	pte = hw_pte_addr(e, self->root, 4, IOVA_A, 1, false);
	ASSERT_NE(0, pte);
	hw_wr64(e, pte, 0);
	hw_inv_iotlb_psi(e, 0, DID_A, IOVA_A, 0, false);
	/* The invalidation drained it: a re-walk faults, with no GCMD.WBF. */
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_A));
	EXPECT_EQ(1, hw_stat(e, "wbf"));
	EXPECT_EQ(0, hw_stat(e, "walk.stale_read"));
}

/* ECAP.C=0: a second-stage PTE write is invisible until its line is flushed. */
TEST_F(regs_wbuf, noncoherent_ss_write_needs_clflush)
{
	struct hwenv *e = &self->e;
	uint64_t pte;

	wbuf_unit(e, self->caching, "coherent=0", &self->root, &self->a, &self->b);
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_ECAP_REG) & ECAP_C);
	EXPECT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	pte = hw_pte_addr(e, self->root, 4, IOVA_B, 1, false);
	ASSERT_NE(0, pte);
	hw_wr64(e, pte, self->b | SSPTE_R | SSPTE_W);
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_B));
	EXPECT_EQ(1, hw_stat(e, "walk.stale_read"));
	/* Flushing another line does not help. */
	vtdm_clflush(e->m, pte ^ 64);
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_B));
	EXPECT_EQ(0, hw_stat(e, "wbf"));
	vtdm_clflush(e->m, pte);
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_B));
	EXPECT_EQ(2, hw_stat(e, "walk.stale_read"));
}

/* Non-coherent and RWBF: clflush moves the write into the buffer; WBF drains it. */
TEST_F(regs_wbuf, noncoherent_rwbf_needs_clflush_and_wbf)
{
	struct hwenv *e = &self->e;
	uint64_t pte;

	wbuf_unit(e, self->caching, "coherent=0,rwbf=1", &self->root, &self->a, &self->b);
	ASSERT_EQ(0, wbf(e));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	pte = hw_pte_addr(e, self->root, 4, IOVA_B, 1, false);
	ASSERT_NE(0, pte);
	hw_wr64(e, pte, self->b | SSPTE_R | SSPTE_W);
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_B));
	ASSERT_EQ(0, wbf(e));		/* still in the CPU cache */
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_B));
	vtdm_clflush(e->m, pte);	/* now in the write buffer */
	EXPECT_EQ(FR_READ, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_B));
	ASSERT_EQ(0, wbf(e));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_B));
	EXPECT_EQ(3, hw_stat(e, "walk.stale_read"));
}

/*
 * PASID-table and first-stage accesses are always snooped (ECAP.C covers
 * root, context and second-stage only, 10.4.3): their writes need no
 * clflush, while a second-stage write on the same unit does.
 */
TEST_F(regs_wbuf, noncoherent_fs_and_pasid_writes_visible)
{
	struct hwenv *e = &self->e;
	uint64_t fs, ss, pe, pte;

	unit_init(e, self->caching, "sm=1,coherent=0", true, true);
	self->a = page_with(e, VAL_A);
	self->b = page_with(e, VAL_B);
	hw_sm_ctx(e, 0, SID_DMA, 0, false, true);
	hw_pasid(e, 0, SID_DMA, 1, PGTT_FS, DID_A, 4, &fs);
	hw_pasid(e, 0, SID_DMA, 3, PGTT_SS, DID_B, 4, &ss);
	hw_map_fs(e, fs, 4, IOVA_A, self->a, 4096, HW_PERM_RW, true);
	hw_map_ss(e, ss, 4, IOVA_A, self->a, 4096, HW_PERM_RW);
	ASSERT_EQ(VAL_A, rdp(e, SID_DMA, 1, IOVA_A));
	ASSERT_EQ(VAL_A, rdp(e, SID_DMA, 3, IOVA_A));

	/* A first-stage leaf written without clflush. */
	pte = hw_pte_addr(e, fs, 4, IOVA_B, 1, true);
	ASSERT_NE(0, pte);
	hw_wr64(e, pte, self->b | FSPTE_P | FSPTE_RW | FSPTE_US);
	EXPECT_EQ(VAL_B, rdp(e, SID_DMA, 1, IOVA_B));

	/* A PASID-table entry written without clflush (its directory entry exists). */
	pe = hw_pasid_addr(e, 0, SID_DMA, 2);
	hw_wr64(e, pe + 8, FIELD_PREP(PTE1_DID, DID_A));
	hw_wr64(e, pe + 16, fs);
	hw_wr64(e, pe, FIELD_PREP(PTE0_PGTT, PGTT_FS) | PTE0_P);
	EXPECT_EQ(VAL_A, rdp(e, SID_DMA, 2, IOVA_A));
	EXPECT_EQ(0, hw_stat(e, "walk.stale_read"));

	/* The second-stage leaf of PASID 3: not visible without clflush. */
	pte = hw_pte_addr(e, ss, 4, IOVA_B, 1, false);
	ASSERT_NE(0, pte);
	hw_wr64(e, pte, self->b | SSPTE_R | SSPTE_W);
	EXPECT_EQ(NOVAL, rdp(e, SID_DMA, 3, IOVA_B));
	EXPECT_EQ(1, hw_stat(e, "walk.stale_read"));
	vtdm_clflush(e->m, pte);
	EXPECT_EQ(VAL_B, rdp(e, SID_DMA, 3, IOVA_B));
}
