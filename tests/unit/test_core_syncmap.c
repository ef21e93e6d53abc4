/*
 * test_core_syncmap.c — iotlb_sync_map as a static domain property
 * (seed 000): decided at allocation, never switched at attach, and when
 * not needed the map path does no work at all.
 */
#include <errno.h>
#include "harness.h"
#include "vtdenv.h"

FIXTURE(core_syncmap) {
	struct vtdenv e;
};

FIXTURE_SETUP(core_syncmap)
{
}

FIXTURE_TEARDOWN(core_syncmap)
{
	vtdenv_fini(&self->e);
}

/* Neither CM nor RWBF: a thousand maps walk no tag and send nothing. */
TEST_F(core_syncmap, plain_unit_maps_do_nothing)
{
	struct vtd_domain *dom;
	uint64_t walks, descs, page;
	int d;

	vtdenv_init(&self->e, "caching=exact", 1, false);
	d = _vtdenv_add_device(&self->e, 0, 0x0008, false);
	ASSERT_LE(0, d);
	ASSERT_EQ(0, vtd_domain_alloc(self->e.v, NULL, &dom));
	ASSERT_FALSE(vtd_domain_sync_map(dom));
	ASSERT_EQ(0, vtd_attach(dom, self->e.dev[d]));
	page = vtdenv_page(&self->e, 0x77);
	walks = vtdenv_stat(&self->e, "tag.walk");
	descs = vtdenv_stat(&self->e, "desc");
	for (uint64_t i = 0; i < 1000; i++)
		ASSERT_EQ(0, vtd_map(dom, 0x100000 + i * 4096, page, 4096, VTD_PERM_RW));
	EXPECT_EQ(walks, vtdenv_stat(&self->e, "tag.walk"));
	EXPECT_EQ(descs, vtdenv_stat(&self->e, "desc"));
	EXPECT_EQ(0, vtdenv_stat(&self->e, "wbf"));
	EXPECT_EQ(1000, vtdenv_stat(&self->e, "sync_map.noop"));
	/* And the mappings work without any flush. */
	uint64_t v;

	ASSERT_EQ(0, vtdenv_dma_rd64(&self->e, d, 0x100000 + 999 * 4096, &v));
	EXPECT_EQ(0x7777777777777777ULL, v);
	EXPECT_EQ(0, vtd_detach(self->e.dev[d]));
	EXPECT_EQ(0, vtd_domain_free(dom));
}

/*
 * A domain allocated for a plain unit refuses a device behind a CM unit:
 * -EINVAL, and nothing changed — no tag, no DID, no entry.
 */
TEST_F(core_syncmap, cm_device_refused_by_plain_domain)
{
	struct vtd_domain_opts o = { .stage = VTD_STAGE_SECOND };
	struct vtd_domain *plain, *cm;
	unsigned assigns;
	int dp, dc;

	/* Unit 0 plain, unit 1 in caching mode (vtdenv_init keys apply to every unit). */
	vtdenv_init(&self->e, "caching=exact", 0, false);
	{
		struct vtdm_unit_cfg uc;
		struct vtd_unit_opts uo = { 0 };

		for (int i = 0; i < 2; i++) {
			vtdm_unit_cfg_default(&uc);
			uc.cm = i == 1;
			ASSERT_LE(0, vtdm_add_unit(self->e.m, &uc));
			ASSERT_EQ(0, vtd_unit_add(self->e.v, vtdm_unit_base(i), &uo,
						  &self->e.unit[i]));
			self->e.nunits++;
		}
	}
	dp = _vtdenv_add_device(&self->e, 0, 0x0008, false);
	dc = _vtdenv_add_device(&self->e, 1, 0x0010, false);
	ASSERT_LE(0, dp);
	ASSERT_LE(0, dc);
	o.unit = self->e.unit[0];
	ASSERT_EQ(0, vtd_domain_alloc(self->e.v, &o, &plain));
	ASSERT_FALSE(vtd_domain_sync_map(plain));
	ASSERT_EQ(0, vtd_attach(plain, self->e.dev[dp]));
	vtdenv_trace_clear(&self->e);
	ASSERT_EQ(-EINVAL, vtd_attach(plain, self->e.dev[dc]));
	EXPECT_EQ(0, self->e.nevents);		/* no tag assigned, no descriptor */
	/* The device is still free: a domain allocated for the CM unit takes it. */
	o.unit = self->e.unit[1];
	ASSERT_EQ(0, vtd_domain_alloc(self->e.v, &o, &cm));
	ASSERT_TRUE(vtd_domain_sync_map(cm));
	ASSERT_EQ(0, vtd_attach(cm, self->e.dev[dc]));
	assigns = vtdenv_trace_count(&self->e, "cache_tag_assign");
	EXPECT_EQ(1, assigns);
	/* Its map path flushes: one PSI on the CM unit. */
	vtdenv_trace_clear(&self->e);
	ASSERT_EQ(0, vtd_map(cm, 0x10000, vtdenv_page(&self->e, 1), 4096, VTD_PERM_RW));
	EXPECT_EQ(1, vtdenv_trace_count(&self->e, "qi_submit: iotlb_inv dmar1:"));
	EXPECT_EQ(0, vtd_detach(self->e.dev[dp]));
	EXPECT_EQ(0, vtd_detach(self->e.dev[dc]));
	EXPECT_EQ(0, vtd_domain_free(plain));
	EXPECT_EQ(0, vtd_domain_free(cm));
}
