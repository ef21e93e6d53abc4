/*
 * test_model_smoke.c — the model end to end through the rig: a legacy
 * mapping translates, a stale IOTLB entry is used until invalidated.
 */
#include "harness.h"
#include "hwenv.h"

#define SID 0x0008	/* 00:01.0 */

FIXTURE(smoke) {
	struct hwenv e;
	uint64_t root, page_a, page_b;
};

FIXTURE_VARIANT(smoke) {
	const char *keys;
};

FIXTURE_VARIANT_ADD(smoke, exact) { .keys = "caching=exact" };
FIXTURE_VARIANT_ADD(smoke, adversarial) { .keys = "caching=adversarial" };

FIXTURE_SETUP(smoke)
{
	hw_init(&self->e, variant->keys, 1);
	hw_setup(&self->e, 0, false, true);
	hw_ctx(&self->e, 0, SID, 5, 4, CTX_TT_UNTRANSLATED, &self->root);
	self->page_a = hw_alloc(&self->e);
	self->page_b = hw_alloc(&self->e);
	hw_wr64(&self->e, self->page_a, 0xaaaa);
	hw_wr64(&self->e, self->page_b, 0xbbbb);
}

FIXTURE_TEARDOWN(smoke)
{
	hw_fini(&self->e);
}

TEST_F(smoke, map_then_dma_reaches_page)
{
	struct vtdm_xlate x;
	uint64_t v;

	hw_map_ss(&self->e, self->root, 4, 0x10000, self->page_a, 4096, HW_PERM_RW);
	ASSERT_EQ(0, hw_dma_rd64(&self->e, SID, VTD_NO_PASID, 0x10000, &v, &x));
	ASSERT_EQ(0xaaaa, v);
	ASSERT_EQ(self->page_a, x.pa);
	ASSERT_EQ(1, hw_stat(&self->e, "iotlb.miss"));
	ASSERT_EQ(0, hw_dma_rd64(&self->e, SID, VTD_NO_PASID, 0x10000, &v, &x));
	ASSERT_EQ(1, hw_stat(&self->e, "iotlb.hit"));
}

TEST_F(smoke, stale_iotlb_until_psi)
{
	struct vtdm_xlate x;
	uint64_t v, pte;

	hw_map_ss(&self->e, self->root, 4, 0x10000, self->page_a, 4096, HW_PERM_RW);
	ASSERT_EQ(0, hw_dma_rd64(&self->e, SID, VTD_NO_PASID, 0x10000, &v, &x));
	pte = hw_pte_addr(&self->e, self->root, 4, 0x10000, 1, false);
	hw_wr64(&self->e, pte, self->page_b | SSPTE_R | SSPTE_W);
	/* No invalidation yet: the cached translation is still used. */
	ASSERT_EQ(0, hw_dma_rd64(&self->e, SID, VTD_NO_PASID, 0x10000, &v, &x));
	ASSERT_EQ(0xaaaa, v);
	hw_inv_iotlb_psi(&self->e, 0, 5, 0x10000, 0, false);
	ASSERT_EQ(0, hw_dma_rd64(&self->e, SID, VTD_NO_PASID, 0x10000, &v, &x));
	ASSERT_EQ(0xbbbb, v);
}

TEST_F(smoke, unmapped_faults_and_records)
{
	struct vtdm_xlate x;
	uint64_t v;

	ASSERT_EQ(1, hw_dma_rd64(&self->e, SID, VTD_NO_PASID, 0x20000, &v, &x));
	ASSERT_EQ(FR_READ, x.fault);
	ASSERT_TRUE(x.recorded);
	ASSERT_EQ(FR_READ, hw_frcd_reason(&self->e, 0, 0));
	ASSERT_TRUE(hw_reg32(&self->e, 0, DMAR_FSTS_REG) & FSTS_PPF);
}
