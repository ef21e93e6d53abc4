/*
 * test_core_smoke.c — libvtd end to end on the model: bring a unit up,
 * attach a device, map, DMA, unmap, and see the DMA fault.
 */
#include <errno.h>
#include "harness.h"
#include "vtdenv.h"

FIXTURE(core_smoke) {
	struct vtdenv e;
	struct vtd_domain *dom;
	int dev;
};

FIXTURE_VARIANT(core_smoke) {
	const char *keys;
	bool sm;
	enum vtd_stage stage;
};

FIXTURE_VARIANT_ADD(core_smoke, legacy) { .keys = "caching=adversarial", .stage = VTD_STAGE_SECOND };
FIXTURE_VARIANT_ADD(core_smoke, sm_ss) { .keys = "sm=1,caching=adversarial", .sm = true,
					  .stage = VTD_STAGE_SECOND };
FIXTURE_VARIANT_ADD(core_smoke, sm_fs) { .keys = "sm=1,caching=adversarial", .sm = true,
					  .stage = VTD_STAGE_FIRST };

FIXTURE_SETUP(core_smoke)
{
	struct vtd_domain_opts o = { .stage = variant->stage };

	vtdenv_init(&self->e, variant->keys, 1, variant->sm);
	self->dev = _vtdenv_add_device(&self->e, 0, 0x0008, false);
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, vtd_domain_alloc(self->e.v, &o, &self->dom));
	ASSERT_EQ(0, vtd_attach(self->dom, self->e.dev[self->dev]));
}

FIXTURE_TEARDOWN(core_smoke)
{
	vtdenv_fini(&self->e);
}

TEST_F(core_smoke, map_dma_unmap_fault)
{
	uint64_t page = vtdenv_page(&self->e, 0x5a), v;

	ASSERT_EQ(0, vtd_map(self->dom, 0x40000, page, 4096, VTD_PERM_RW));
	ASSERT_EQ(0, vtdenv_dma_rd64(&self->e, self->dev, 0x40008, &v));
	ASSERT_EQ(0x5a5a5a5a5a5a5a5aULL, v);
	ASSERT_EQ(4096, vtd_unmap_sync(self->dom, 0x40000, 4096));
	/* The adversarial unit cached the translation; the unmap's flush removed it. */
	ASSERT_EQ(1, vtdenv_dma_rd64(&self->e, self->dev, 0x40008, &v));
	ASSERT_LE(1, vtdenv_stat(&self->e, "qi.submit"));
}

/* vtd_destroy turns every unit off and gives back every page it took. */
TEST_F(core_smoke, destroy_disables_units_and_frees_pages)
{
	uint64_t page = vtdenv_page(&self->e, 0x11), v, gsts = 0;

	ASSERT_EQ(0, vtd_map(self->dom, 0x200000, page, 2 << 20, VTD_PERM_RW));
	ASSERT_LT(0, vtd_host_pages_used(self->e.h));
	vtd_destroy(self->e.v);
	self->e.v = NULL;
	EXPECT_EQ(0, vtd_host_pages_used(self->e.h));
	ASSERT_EQ(0, vtdm_read64(self->e.m, vtdm_unit_base(0) + 0x18, &gsts));
	EXPECT_EQ(0, (gsts >> 32) & ((1ULL << 31) | (1ULL << 26)));	/* TES, QIES */
	/* With translation off, DMA passes untranslated. */
	EXPECT_EQ(0, vtdenv_dma_rd64(&self->e, self->dev, page, &v));
	EXPECT_EQ(0x1111111111111111ULL, v);
}

/*
 * A 4-level first-stage domain maps the lower canonical half only:
 * [2^47, 2^48) is not canonical, its entries are reached by the sign-
 * extended addresses (9.7), so a map there is refused.
 */
TEST_F(core_smoke, first_stage_refuses_noncanonical)
{
	uint64_t page = vtdenv_page(&self->e, 0x22);

	if (variant->stage != VTD_STAGE_FIRST)
		SKIP(return, "first-stage only");
	EXPECT_EQ(-EINVAL, vtd_map(self->dom, 1ULL << 47, page, 4096, VTD_PERM_RW));
	EXPECT_EQ(-EINVAL, vtd_map(self->dom, (1ULL << 47) - 4096, page, 8192, VTD_PERM_RW));
	EXPECT_EQ(0, vtd_map(self->dom, (1ULL << 47) - 4096, page, 4096, VTD_PERM_RW));
}
