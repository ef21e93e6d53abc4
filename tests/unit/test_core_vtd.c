/*
 * test_core_vtd.c — libvtd against the hardware model, across the axes a
 * driver must get right: caching profile, CM, RWBF, PSI and MAMV, ATS,
 * legacy and scalable mode with second- and first-stage domains, 3/4/5
 * levels, one unit or two. Each variant maps and checks that DMA reaches
 * the right bytes, unmaps and checks that nothing — IOTLB, paging-structure
 * caches, device TLB — still translates, and splits and merges superpages.
 */
#include <errno.h>
#include "core_util.h"

/* IOVAs, all below 512 GiB so that 3-level domains reach them. */
#define IOVA_4K		0x10000000ULL
#define IOVA_PSC	0x30000000ULL	/* a 2M range of 4K pages */
#define IOVA_2M		0x50000000ULL
#define IOVA_1G		0x80000000ULL

FIXTURE(core_vtd) {
	struct vtdenv e;
	struct vtd_domain *dom;
	unsigned ndev;			/* devices 0..ndev-1, one per unit */
	uint64_t pages0;		/* pool pages used once the units were up */
};

FIXTURE_VARIANT(core_vtd) {
	const char *keys;
	bool sm;
	enum vtd_stage stage;
	int levels;			/* 0: the default (4) */
	unsigned units;			/* 0: one */
	bool ats;
};

#define ADV	"caching=adversarial"
#define SS	VTD_STAGE_SECOND
#define FS	VTD_STAGE_FIRST

FIXTURE_VARIANT_ADD(core_vtd, legacy_exact) { .keys = "caching=exact", .stage = SS };
FIXTURE_VARIANT_ADD(core_vtd, legacy_adv) { .keys = ADV, .stage = SS };
FIXTURE_VARIANT_ADD(core_vtd, legacy_adv_noncoherent) { .keys = ADV ",coherent=0", .stage = SS };
FIXTURE_VARIANT_ADD(core_vtd, legacy_adv_noqi) { .keys = ADV ",qi=0", .stage = SS };
FIXTURE_VARIANT_ADD(core_vtd, legacy_adv_l3) { .keys = ADV ",levels=3", .stage = SS, .levels = 3 };
FIXTURE_VARIANT_ADD(core_vtd, legacy_adv_l5) { .keys = ADV ",levels=5", .stage = SS, .levels = 5 };
FIXTURE_VARIANT_ADD(core_vtd, legacy_adv_cm) { .keys = ADV ",cm=1", .stage = SS };
FIXTURE_VARIANT_ADD(core_vtd, legacy_adv_rwbf) { .keys = ADV ",rwbf=1", .stage = SS };
FIXTURE_VARIANT_ADD(core_vtd, legacy_adv_cm_rwbf) { .keys = ADV ",cm=1,rwbf=1", .stage = SS };
FIXTURE_VARIANT_ADD(core_vtd, legacy_adv_nopsi) { .keys = ADV ",psi=0", .stage = SS };
FIXTURE_VARIANT_ADD(core_vtd, legacy_adv_mamv1) { .keys = ADV ",mamv=1", .stage = SS };
FIXTURE_VARIANT_ADD(core_vtd, legacy_adv_ats) { .keys = ADV ",dt=1", .stage = SS, .ats = true };
FIXTURE_VARIANT_ADD(core_vtd, legacy_adv_cm_ats) {
	.keys = ADV ",cm=1,dt=1", .stage = SS, .ats = true };
FIXTURE_VARIANT_ADD(core_vtd, legacy_adv_2units_ats) {
	.keys = ADV ",dt=1", .stage = SS, .units = 2, .ats = true };
FIXTURE_VARIANT_ADD(core_vtd, legacy_exact_2units_cm_l3) {
	.keys = "caching=exact,cm=1,levels=3", .stage = SS, .units = 2, .levels = 3 };
FIXTURE_VARIANT_ADD(core_vtd, sm_ss_adv) { .keys = "sm=1," ADV, .sm = true, .stage = SS };
FIXTURE_VARIANT_ADD(core_vtd, sm_ss_adv_cm_ats) {
	.keys = "sm=1,cm=1,dt=1," ADV, .sm = true, .stage = SS, .ats = true };
FIXTURE_VARIANT_ADD(core_vtd, sm_ss_adv_l5_rwbf) {
	.keys = "sm=1,levels=5,rwbf=1," ADV, .sm = true, .stage = SS, .levels = 5 };
FIXTURE_VARIANT_ADD(core_vtd, sm_ss_exact_2units_ats_mamv1) {
	.keys = "sm=1,dt=1,mamv=1,caching=exact", .sm = true, .stage = SS, .units = 2,
	.ats = true };
FIXTURE_VARIANT_ADD(core_vtd, sm_fs_adv) { .keys = "sm=1," ADV, .sm = true, .stage = FS };
FIXTURE_VARIANT_ADD(core_vtd, sm_fs_adv_ats_l5) {
	.keys = "sm=1,dt=1,fl5lp=1," ADV, .sm = true, .stage = FS, .levels = 5, .ats = true };
FIXTURE_VARIANT_ADD(core_vtd, sm_fs_adv_2units) {
	.keys = "sm=1," ADV, .sm = true, .stage = FS, .units = 2 };
FIXTURE_VARIANT_ADD(core_vtd, sm_fs_exact_rwbf_nopsi) {
	.keys = "sm=1,rwbf=1,psi=0,caching=exact", .sm = true, .stage = FS };

FIXTURE_SETUP(core_vtd)
{
	struct vtd_domain_opts o = { .stage = variant->stage, .levels = variant->levels };
	unsigned units = variant->units ? variant->units : 1;

	vtdenv_init(&self->e, variant->keys, units, variant->sm);
	self->pages0 = vtd_host_pages_used(self->e.h);
	for (unsigned i = 0; i < units; i++) {
		/* One device per unit, each on its own bus. */
		int d = _vtdenv_add_device(&self->e, i, (uint16_t)((i + 1) << 8 | 0x08),
					   variant->ats);

		ASSERT_EQ((int)i, d);
	}
	self->ndev = units;
	ASSERT_EQ(0, vtd_domain_alloc(self->e.v, &o, &self->dom));
	for (unsigned i = 0; i < self->ndev; i++)
		ASSERT_EQ(0, vtd_attach(self->dom, self->e.dev[i]));
}

FIXTURE_TEARDOWN(core_vtd)
{
	/*
	 * No pool page leaks: once every device is detached and the domain
	 * freed, only the context tables remain (a bus each here); a
	 * scalable-mode detach frees the device's PASID directory and table.
	 */
	if (self->dom && !th_test_failed()) {
		for (unsigned i = 0; i < self->ndev; i++)
			EXPECT_EQ(0, vtd_detach(self->e.dev[i]));
		EXPECT_EQ(0, vtd_domain_free(self->dom));
		EXPECT_EQ(self->pages0 + self->ndev, vtd_host_pages_used(self->e.h));
	}
	vtdenv_fini(&self->e);
}

static bool has_1g(struct vtd_domain *dom)
{
	return dom->pgsizes & SZ_1G;
}

/* (a) 4K pages: each device reads and writes the right bytes of the right page. */
TEST_F(core_vtd, map_4k_reaches_right_page)
{
	struct vtdenv *e = &self->e;
	uint64_t r = region(e, 4 * SZ_4K, SZ_4K), ro = region(e, SZ_4K, SZ_4K), pa;
	static const uint64_t offs[] = { 0, 0x808, 0xff8 };
	unsigned perm;

	ASSERT_EQ(0, vtd_map(self->dom, IOVA_4K, r, 4 * SZ_4K, VTD_PERM_RW));
	ASSERT_EQ(0, vtd_map(self->dom, IOVA_4K + 4 * SZ_4K, ro, SZ_4K, VTD_PERM_R));
	for (unsigned d = 0; d < self->ndev; d++) {
		for (uint64_t k = 0; k < 4; k++) {
			for (unsigned i = 0; i < 3; i++) {
				uint64_t off = k * SZ_4K + offs[i];

				ASSERT_EQ(SZ_4K, expect_read(e, d, IOVA_4K + off, r + off));
				expect_write(e, d, IOVA_4K + off, r + off);
			}
		}
		/* Read-only: reads reach the page, writes fault. */
		expect_read(e, d, IOVA_4K + 4 * SZ_4K + 0x10, ro + 0x10);
		expect_fault(e, d, IOVA_4K + 4 * SZ_4K + 0x10, true);
		/* Unmapped neighbours fault. */
		expect_fault(e, d, IOVA_4K - SZ_4K, false);
		expect_fault(e, d, IOVA_4K + 5 * SZ_4K, false);
	}
	ASSERT_EQ(0, vtd_iova_to_phys(self->dom, IOVA_4K + 0x1234, &pa, &perm));
	ASSERT_EQ(r + 0x1234, pa);
	ASSERT_EQ(VTD_PERM_RW, perm);
}

/* (a) Offsets across a 2M and a 1G superpage land where they should. */
TEST_F(core_vtd, map_superpages_reach_offsets)
{
	struct vtdenv *e = &self->e;
	uint64_t r = region(e, SZ_2M, SZ_2M);
	static const uint64_t offs[] = { 0, 0x1008, 0x100010, 0x1ffff8 };

	ASSERT_EQ(0, vtd_map(self->dom, IOVA_2M, r, SZ_2M, VTD_PERM_RW));
	for (unsigned d = 0; d < self->ndev; d++)
		for (unsigned i = 0; i < 4; i++) {
			ASSERT_EQ(SZ_2M, expect_read(e, d, IOVA_2M + offs[i], r + offs[i]));
			expect_write(e, d, IOVA_2M + offs[i], r + offs[i]);
		}
	if (!has_1g(self->dom))
		return;
	/* 1G of IOVA onto guest RAM from 0: the data region sits inside. */
	ASSERT_EQ(0, vtd_map(self->dom, IOVA_1G, 0, SZ_1G, VTD_PERM_RW));
	for (unsigned d = 0; d < self->ndev; d++)
		for (unsigned i = 0; i < 4; i++) {
			ASSERT_EQ(SZ_1G, expect_read(e, d, IOVA_1G + r + offs[i], r + offs[i]));
			expect_write(e, d, IOVA_1G + r + offs[i], r + offs[i]);
		}
	ASSERT_EQ(SZ_1G, vtd_unmap_sync(self->dom, IOVA_1G, SZ_1G));
	for (unsigned d = 0; d < self->ndev; d++)
		expect_fault(e, d, IOVA_1G + r, false);
}

/*
 * (b) IOTLB and device TLB: every device translated (and, with ATS,
 * cached in its ATC) before the unmap; after vtd_unmap_sync returns no
 * read or write gets through.
 */
TEST_F(core_vtd, unmap_then_nothing_translates)
{
	struct vtdenv *e = &self->e;
	uint64_t r = region(e, 4 * SZ_4K, SZ_4K), pa;
	unsigned perm;

	ASSERT_EQ(0, vtd_map(self->dom, IOVA_4K, r, 4 * SZ_4K, VTD_PERM_RW));
	for (unsigned d = 0; d < self->ndev; d++)
		for (uint64_t k = 0; k < 4; k++) {
			struct vtdm_xlate x;
			uint64_t v;

			ASSERT_EQ(0, dma64(e, d, IOVA_4K + k * SZ_4K, false, &v, &x));
			ASSERT_EQ(pat(r + k * SZ_4K), v);
			ASSERT_EQ(variant->ats, x.from_atc);
		}
	ASSERT_EQ(4 * SZ_4K, vtd_unmap_sync(self->dom, IOVA_4K, 4 * SZ_4K));
	for (unsigned d = 0; d < self->ndev; d++)
		for (uint64_t k = 0; k < 4; k++) {
			expect_fault(e, d, IOVA_4K + k * SZ_4K + 8, false);
			expect_fault(e, d, IOVA_4K + k * SZ_4K + 8, true);
		}
	ASSERT_EQ(-ENOENT, vtd_iova_to_phys(self->dom, IOVA_4K, &pa, &perm));
	/* Unmapping nothing returns 0 and breaks nothing. */
	ASSERT_EQ(0, vtd_unmap_sync(self->dom, IOVA_4K, 4 * SZ_4K));
}

/*
 * (b) Paging-structure caches: a whole 2M of 4K pages is unmapped, so its
 * table page is freed; the next table allocated reuses that very page
 * for another 2M. Were the walk's cached pointer to it still alive, the
 * old IOVAs would translate through the new entries.
 */
TEST_F(core_vtd, freed_table_is_never_walked)
{
	struct vtdenv *e = &self->e;
	/* 4K-aligned but not 2M-aligned: 512 4K leaves in one table. */
	uint64_t a = region(e, SZ_2M + SZ_4K, SZ_2M) + SZ_4K;
	uint64_t b = region(e, SZ_2M + SZ_4K, SZ_2M) + SZ_4K;
	static const uint64_t pages[] = { 0, 1, 100, 511 };
	uint64_t t, used;

	ASSERT_EQ(0, vtd_map(self->dom, IOVA_PSC, a, SZ_2M, VTD_PERM_RW));
	t = table_at(e, self->dom, IOVA_PSC, 1);
	ASSERT_NE(0, t);
	for (unsigned d = 0; d < self->ndev; d++)
		for (unsigned i = 0; i < 4; i++)
			ASSERT_EQ(SZ_4K, expect_read(e, d, IOVA_PSC + pages[i] * SZ_4K,
						     a + pages[i] * SZ_4K));
	used = vtd_host_pages_used(e->h);
	ASSERT_EQ(SZ_2M, vtd_unmap_sync(self->dom, IOVA_PSC, SZ_2M));
	ASSERT_EQ(used - 1, vtd_host_pages_used(e->h));
	for (unsigned d = 0; d < self->ndev; d++)
		for (unsigned i = 0; i < 4; i++)
			expect_fault(e, d, IOVA_PSC + pages[i] * SZ_4K, false);

	ASSERT_EQ(0, vtd_map(self->dom, IOVA_PSC + SZ_2M, b, SZ_2M, VTD_PERM_RW));
	/* Test the test: the freed page is the new table. */
	ASSERT_EQ(t, table_at(e, self->dom, IOVA_PSC + SZ_2M, 1));
	for (unsigned d = 0; d < self->ndev; d++)
		for (unsigned i = 0; i < 4; i++) {
			expect_fault(e, d, IOVA_PSC + pages[i] * SZ_4K, false);
			expect_fault(e, d, IOVA_PSC + pages[i] * SZ_4K, true);
			expect_read(e, d, IOVA_PSC + SZ_2M + pages[i] * SZ_4K + 0x18,
				    b + pages[i] * SZ_4K + 0x18);
		}
}

/*
 * (c) A 4K hole punched in a 2M superpage every cache had translated:
 * the hole faults, its neighbours still reach their bytes (now through
 * 4K leaves); then the rest goes, and a new 2M superpage over the old
 * table reaches new pages.
 */
TEST_F(core_vtd, superpage_split_then_merge)
{
	struct vtdenv *e = &self->e;
	uint64_t r = region(e, SZ_2M, SZ_2M), r2 = region(e, SZ_2M, SZ_2M);
	uint64_t hole = IOVA_2M + 256 * SZ_4K;
	static const uint64_t near[] = { 0, 255 * SZ_4K + 0xff8, 257 * SZ_4K, SZ_2M - 8 };

	ASSERT_EQ(0, vtd_map(self->dom, IOVA_2M, r, SZ_2M, VTD_PERM_RW));
	for (unsigned d = 0; d < self->ndev; d++) {
		ASSERT_EQ(SZ_2M, expect_read(e, d, hole + 8, r + 256 * SZ_4K + 8));
		for (unsigned i = 0; i < 4; i++)
			ASSERT_EQ(SZ_2M, expect_read(e, d, IOVA_2M + near[i], r + near[i]));
	}
	ASSERT_EQ(SZ_4K, vtd_unmap_sync(self->dom, hole, SZ_4K));
	for (unsigned d = 0; d < self->ndev; d++) {
		expect_fault(e, d, hole + 8, false);
		expect_fault(e, d, hole + 0xff8, true);
		for (unsigned i = 0; i < 4; i++) {
			ASSERT_EQ(SZ_4K, expect_read(e, d, IOVA_2M + near[i], r + near[i]));
			expect_write(e, d, IOVA_2M + near[i], r + near[i]);
		}
	}
	ASSERT_EQ(SZ_2M - SZ_4K, vtd_unmap_sync(self->dom, IOVA_2M, SZ_2M));
	for (unsigned d = 0; d < self->ndev; d++)
		for (unsigned i = 0; i < 4; i++)
			expect_fault(e, d, IOVA_2M + near[i], false);

	ASSERT_EQ(0, vtd_map(self->dom, IOVA_2M, r2, SZ_2M, VTD_PERM_RW));
	for (unsigned d = 0; d < self->ndev; d++) {
		ASSERT_EQ(SZ_2M, expect_read(e, d, hole + 8, r2 + 256 * SZ_4K + 8));
		for (unsigned i = 0; i < 4; i++)
			ASSERT_EQ(SZ_2M, expect_read(e, d, IOVA_2M + near[i], r2 + near[i]));
	}
}

/*
 * (c) Merge through the map path: pieces unmapped one by one leave an
 * empty table linked (and cached); a 2M superpage mapped over it must
 * flush the cached pointer before the table page is freed and reused.
 */
TEST_F(core_vtd, superpage_over_emptied_table)
{
	struct vtdenv *e = &self->e;
	uint64_t a = region(e, SZ_2M + SZ_4K, SZ_2M) + SZ_4K;
	uint64_t r2 = region(e, SZ_2M, SZ_2M), b = region(e, SZ_2M + SZ_4K, SZ_2M) + SZ_4K;
	uint64_t t, used;

	ASSERT_EQ(0, vtd_map(self->dom, IOVA_PSC, a, SZ_2M, VTD_PERM_RW));
	t = table_at(e, self->dom, IOVA_PSC, 1);
	for (unsigned d = 0; d < self->ndev; d++) {
		expect_read(e, d, IOVA_PSC + 3 * SZ_4K, a + 3 * SZ_4K);
		expect_read(e, d, IOVA_PSC + 300 * SZ_4K, a + 300 * SZ_4K);
	}
	used = vtd_host_pages_used(e->h);
	ASSERT_EQ(SZ_2M / 2, vtd_unmap_sync(self->dom, IOVA_PSC, SZ_2M / 2));
	ASSERT_EQ(SZ_2M / 2, vtd_unmap_sync(self->dom, IOVA_PSC + SZ_2M / 2, SZ_2M / 2));
	ASSERT_EQ(used, vtd_host_pages_used(e->h));	/* the empty table stays */
	ASSERT_EQ(t, table_at(e, self->dom, IOVA_PSC, 1));
	for (unsigned d = 0; d < self->ndev; d++)
		expect_fault(e, d, IOVA_PSC + 3 * SZ_4K, false);

	ASSERT_EQ(0, vtd_map(self->dom, IOVA_PSC, r2, SZ_2M, VTD_PERM_RW));
	ASSERT_EQ(used - 1, vtd_host_pages_used(e->h));
	for (unsigned d = 0; d < self->ndev; d++) {
		ASSERT_EQ(SZ_2M, expect_read(e, d, IOVA_PSC + 3 * SZ_4K, r2 + 3 * SZ_4K));
		ASSERT_EQ(SZ_2M, expect_read(e, d, IOVA_PSC + 300 * SZ_4K, r2 + 300 * SZ_4K));
	}
	/* The freed table comes back elsewhere; the superpage still wins. */
	ASSERT_EQ(0, vtd_map(self->dom, IOVA_PSC + SZ_2M, b, SZ_2M, VTD_PERM_RW));
	ASSERT_EQ(t, table_at(e, self->dom, IOVA_PSC + SZ_2M, 1));
	for (unsigned d = 0; d < self->ndev; d++) {
		expect_read(e, d, IOVA_PSC + 3 * SZ_4K, r2 + 3 * SZ_4K);
		expect_read(e, d, IOVA_PSC + SZ_2M + 3 * SZ_4K, b + 3 * SZ_4K);
	}
}

/* (c) A 1G superpage split twice (1G -> 2M -> 4K) around a 4K hole. */
TEST_F(core_vtd, superpage_1g_split)
{
	struct vtdenv *e = &self->e;
	uint64_t r = region(e, 2 * SZ_2M, SZ_2M);

	if (!has_1g(self->dom))
		SKIP(return, "no 1G pages for this stage");
	ASSERT_EQ(0, vtd_map(self->dom, IOVA_1G, 0, SZ_1G, VTD_PERM_RW));
	for (unsigned d = 0; d < self->ndev; d++) {
		ASSERT_EQ(SZ_1G, expect_read(e, d, IOVA_1G + r + SZ_4K, r + SZ_4K));
		ASSERT_EQ(SZ_1G, expect_read(e, d, IOVA_1G + r + SZ_2M, r + SZ_2M));
	}
	ASSERT_EQ(SZ_4K, vtd_unmap_sync(self->dom, IOVA_1G + r + SZ_4K, SZ_4K));
	for (unsigned d = 0; d < self->ndev; d++) {
		expect_fault(e, d, IOVA_1G + r + SZ_4K, false);
		ASSERT_EQ(SZ_4K, expect_read(e, d, IOVA_1G + r + 0xff8, r + 0xff8));
		ASSERT_EQ(SZ_4K, expect_read(e, d, IOVA_1G + r + 2 * SZ_4K, r + 2 * SZ_4K));
		ASSERT_EQ(SZ_2M, expect_read(e, d, IOVA_1G + r + SZ_2M + 8, r + SZ_2M + 8));
	}
	ASSERT_EQ(SZ_1G - SZ_4K, vtd_unmap_sync(self->dom, IOVA_1G, SZ_1G));
	for (unsigned d = 0; d < self->ndev; d++)
		expect_fault(e, d, IOVA_1G + r + SZ_2M, false);
}
