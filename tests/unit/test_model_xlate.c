/*
 * test_model_xlate.c — the model's DMA translation checked byte by byte:
 * legacy second-stage walks at every depth and page size, permissions,
 * pass-through and ATS; scalable-mode second-stage, first-stage and
 * pass-through PASID entries, with and without PASID, first-stage U/S and
 * R/W; and random mappings cross-checked against a reference walk. Every
 * fixture runs under both caching profiles.
 */
#include <stdlib.h>
#include "xlate_util.h"

#define SID_A	0x0008	/* 00:01.0 */
#define SID_B	0x0010	/* 00:02.0 */
#define SID_C	0x0018	/* 00:03.0 */

/*
 * DMA at @va + @off must reach @pa + @off through a leaf of @size: a read
 * returns the CPU's stamp with that translation, and a 3-byte write at an
 * odd offset changes exactly those bytes. Returns how many table reads
 * the read took (the caller knows what is cached).
 */
static uint64_t reaches(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t va,
			uint64_t pa, uint64_t size, uint64_t off)
{
	uint8_t patch[3] = { 0xde, 0xad, 0xbe };
	uint64_t reads = xl_stat(e, "walk.access");
	struct vtdm_xlate x;

	xl_stamp(e, pa + off, 0x1122334455667788ULL ^ va);
	xl_stamp(e, pa + off + 8, 0x99aabbccddeeff00ULL);
	EXPECT_EQ(0x1122334455667788ULL ^ va, xl_rd(e, sid, pasid, va + off, &x));
	reads = xl_stat(e, "walk.access") - reads;
	EXPECT_EQ(pa + off, x.pa);
	EXPECT_EQ(size, x.page_size);
	EXPECT_TRUE(x.r);
	EXPECT_TRUE(x.w);
	EXPECT_FALSE(x.from_atc);
	EXPECT_EQ(0, vtdm_dma(e->m, sid, pasid, va + off + 9, patch, sizeof(patch), true,
			      &x));
	EXPECT_EQ(pa + off + 9, x.pa);
	EXPECT_EQ(0x99aabbccbeadde00ULL, hw_rd64(e, pa + off + 8));
	EXPECT_EQ(0x1122334455667788ULL ^ va, hw_rd64(e, pa + off));
	if (th_test_failed())
		TH_LOG("reaches: sid %#x pasid %#x va %#llx pa %#llx size %#llx", sid, pasid,
		       (unsigned long long)va, (unsigned long long)pa, (unsigned long long)size);
	return reads;
}

/* ---- Legacy mode ---- */

FIXTURE(xlate_legacy) {
	struct hwenv e;
};

FIXTURE_VARIANT(xlate_legacy) {
	const char *keys;
	int levels;
};

FIXTURE_VARIANT_ADD(xlate_legacy, exact_l3) { "caching=exact,levels=3,dt=1", 3 };
FIXTURE_VARIANT_ADD(xlate_legacy, exact_l4) { "caching=exact,levels=4,dt=1", 4 };
FIXTURE_VARIANT_ADD(xlate_legacy, exact_l5) { "caching=exact,levels=5,dt=1", 5 };
FIXTURE_VARIANT_ADD(xlate_legacy, adversarial_l3) { "caching=adversarial,levels=3,dt=1", 3 };
FIXTURE_VARIANT_ADD(xlate_legacy, adversarial_l4) { "caching=adversarial,levels=4,dt=1", 4 };
FIXTURE_VARIANT_ADD(xlate_legacy, adversarial_l5) { "caching=adversarial,levels=5,dt=1", 5 };

FIXTURE_SETUP(xlate_legacy)
{
	xl_boot(&self->e, variant->keys, NULL, false);
}

FIXTURE_TEARDOWN(xlate_legacy)
{
	hw_fini(&self->e);
}

/*
 * For every depth the unit supports (SAGAW has 3..levels), a context of
 * that AW with a 4K, a 2M and a 1G leaf at the top of its address space.
 * The walk reads exactly one entry per level down to the leaf (after a
 * DSI emptied the IOTLB and paging-structure caches), plus the root and
 * context entries the first time.
 */
TEST_F(xlate_legacy, every_depth_and_page_size)
{
	struct hwenv *e = &self->e;

	for (int aw = 3; aw <= variant->levels; aw++) {
		uint16_t sid = (uint16_t)(0x100 | aw << 3), did = (uint16_t)(10 + aw);
		uint64_t top = 1ULL << (pt_levels_width(aw) - 1), root, p4k = hw_alloc(e);
		uint64_t va4k = top + 0x12345000, va2m = top + 0x80600000, va1g = top + 5 * SZ_1G;

		hw_ctx(e, 0, sid, did, aw, CTX_TT_UNTRANSLATED, &root);
		hw_map_ss(e, root, aw, va4k, p4k, SZ_4K, HW_PERM_RW);
		hw_map_ss(e, root, aw, va2m, PA_2M(aw), SZ_2M, HW_PERM_RW);
		hw_map_ss(e, root, aw, va1g, 0, SZ_1G, HW_PERM_RW);

		/* Root (2 qwords) + context (2) the first time, then one per level. */
		ASSERT_EQ(4 + aw, reaches(e, sid, VTD_NO_PASID, va4k, p4k, SZ_4K, 0xff0));
		hw_inv_iotlb_dsi(e, 0, did);
		ASSERT_EQ(aw - 1, reaches(e, sid, VTD_NO_PASID, va2m, PA_2M(aw), SZ_2M, 0x1ff7f0));
		hw_inv_iotlb_dsi(e, 0, did);
		ASSERT_EQ(aw - 2, reaches(e, sid, VTD_NO_PASID, va1g, 0, SZ_1G, 0x3abcd128));
		/* Once all three are cached again, no table reads at all. */
		for (int pass = 0; pass < 2; pass++) {
			uint64_t reads = reaches(e, sid, VTD_NO_PASID, va4k, p4k, SZ_4K, 0x8) +
					 reaches(e, sid, VTD_NO_PASID, va2m, PA_2M(aw), SZ_2M, 0x1000) +
					 reaches(e, sid, VTD_NO_PASID, va1g, 0, SZ_1G, 0x3fffffe0);

			if (pass)
				ASSERT_EQ(0, reads);
		}
		/* The low end of the space is another walk, to another page. */
		hw_map_ss(e, root, aw, 0x7000, PA_4K(aw), SZ_4K, HW_PERM_RW);
		reaches(e, sid, VTD_NO_PASID, 0x7000, PA_4K(aw), SZ_4K, 0x100);
	}
	ASSERT_FALSE(th_test_failed());
	ASSERT_TRUE(xl_no_frcd(e));
}

/* A DMA crossing from a 4K page into a 2M page is split and each part lands right. */
TEST_F(xlate_legacy, dma_crossing_pages)
{
	struct hwenv *e = &self->e;
	uint8_t out[32], in[32];
	uint64_t root, p = hw_alloc(e);
	struct vtdm_xlate x;

	hw_ctx(e, 0, SID_A, 1, variant->levels, CTX_TT_UNTRANSLATED, &root);
	hw_map_ss(e, root, variant->levels, 0x1ff000, p, SZ_4K, HW_PERM_RW);
	hw_map_ss(e, root, variant->levels, 0x200000, PA_2M(1), SZ_2M, HW_PERM_RW);
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(0x40 + i);
	ASSERT_EQ(0, vtdm_dma(e->m, SID_A, VTD_NO_PASID, 0x1ffff0, out, sizeof(out), true, &x));
	ASSERT_EQ(p + 0xff0, x.pa);	/* the first page's translation is reported */
	ASSERT_EQ(0, vtdm_read(e->m, p + 0xff0, in, 16));
	ASSERT_EQ(0, vtdm_read(e->m, PA_2M(1), in + 16, 16));
	ASSERT_EQ(0, memcmp(out, in, sizeof(in)));
	memset(in, 0, sizeof(in));
	ASSERT_EQ(0, vtdm_dma(e->m, SID_A, VTD_NO_PASID, 0x1ffff0, in, sizeof(in), false, &x));
	ASSERT_EQ(0, memcmp(out, in, sizeof(in)));
	ASSERT_EQ(64, xl_stat(e, "dma.bytes"));
}

/* R-only and W-only leaves, 4K and 2M: the allowed direction works, the other faults. */
TEST_F(xlate_legacy, read_only_and_write_only)
{
	struct hwenv *e = &self->e;
	int l = variant->levels;
	uint64_t root, pr = hw_alloc(e), pw = hw_alloc(e);
	struct vtdm_xlate x;

	hw_ctx(e, 0, SID_A, 1, l, CTX_TT_UNTRANSLATED, &root);
	hw_map_ss(e, root, l, 0x1000, pr, SZ_4K, HW_PERM_R);
	hw_map_ss(e, root, l, 0x2000, pw, SZ_4K, HW_PERM_W);
	hw_map_ss(e, root, l, 0x400000, PA_2M(2), SZ_2M, HW_PERM_R);
	xl_stamp(e, pr + 0x10, 0x5151);
	xl_stamp(e, PA_2M(2) + 0x54320, 0x5252);

	ASSERT_EQ(0x5151, xl_rd(e, SID_A, VTD_NO_PASID, 0x1010, &x));
	ASSERT_TRUE(x.r);
	ASSERT_FALSE(x.w);
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x1010, true, pr + 0x10, FR_WRITE));
	ASSERT_EQ(0x5151, hw_rd64(e, pr + 0x10));

	ASSERT_EQ(pw + 0x28, xl_wr(e, SID_A, VTD_NO_PASID, 0x2028, 0x7777));
	ASSERT_EQ(0x7777, hw_rd64(e, pw + 0x28));
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x2028, false, pw + 0x28, FR_READ));

	ASSERT_EQ(0x5252, xl_rd(e, SID_A, VTD_NO_PASID, 0x454320, &x));
	ASSERT_EQ(SZ_2M, x.page_size);
	ASSERT_FALSE(x.w);
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x454320, true, PA_2M(2) + 0x54320,
			     FR_WRITE));
}

/* A non-leaf entry's permissions bound every leaf below it. */
TEST_F(xlate_legacy, upper_level_permissions)
{
	struct hwenv *e = &self->e;
	int l = variant->levels;
	uint64_t root, p = hw_alloc(e);

	hw_ctx(e, 0, SID_A, 1, l, CTX_TT_UNTRANSLATED, &root);
	hw_map_ss(e, root, l, 0x3000, p, SZ_4K, HW_PERM_RW);
	xl_modify(e, hw_pte_addr(e, root, l, 0x3000, 2, false), 0, SSPTE_W);
	xl_stamp(e, p, 0x3333);
	ASSERT_EQ(0x3333, xl_rd(e, SID_A, VTD_NO_PASID, 0x3000, NULL));
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x3000, true, p, FR_WRITE));
}

/* TT=2: untranslated requests pass through; past RAM they abort without a VT-d fault. */
TEST_F(xlate_legacy, passthrough)
{
	struct hwenv *e = &self->e;
	struct vtdm_xlate x;
	uint64_t root, v;

	hw_ctx(e, 0, SID_A, 1, variant->levels, CTX_TT_PASSTHROUGH, &root);
	ASSERT_EQ(0, root);
	xl_stamp(e, 0x30001008, 0xabcdef);
	ASSERT_EQ(0xabcdef, xl_rd(e, SID_A, VTD_NO_PASID, 0x30001008, &x));
	ASSERT_EQ(0x30001008, x.pa);
	ASSERT_EQ(0x3ffffff0, xl_wr(e, SID_A, VTD_NO_PASID, 0x3ffffff0, 0x1234));
	ASSERT_EQ(0x1234, hw_rd64(e, 0x3ffffff0));
	ASSERT_EQ(0, xl_stat(e, "walk"));
	ASSERT_EQ(1, hw_dma_rd64(e, SID_A, VTD_NO_PASID, RAM_END + 0x1000, &v, &x));
	ASSERT_EQ(VTDM_MASTER_ABORT, x.fault);
	ASSERT_FALSE(x.recorded);
	ASSERT_TRUE(xl_no_frcd(e));
}

/*
 * TT=1 on a unit with ECAP.DT: an ATS device gets translations (2M,
 * R-only here) and its DMA uses them as translated requests; an ordinary
 * device behind the same kind of context is translated as with TT=0.
 */
TEST_F(xlate_legacy, tt1_allows_ats)
{
	struct hwenv *e = &self->e;
	int l = variant->levels;
	uint64_t root, root_c, p = hw_alloc(e);
	struct vtdm_xlate x;

	hw_add_device(e, "00:02.0,ats=1");
	hw_ctx(e, 0, SID_B, 3, l, CTX_TT_DEVTLB, &root);
	hw_map_ss(e, root, l, 0x40000000, PA_2M(3), SZ_2M, HW_PERM_R);
	ASSERT_EQ(0, vtdm_ats_translate(e->m, SID_B, VTD_NO_PASID, 0x40003123, &x));
	ASSERT_EQ(0, x.fault);
	ASSERT_EQ(PA_2M(3) + 0x3123, x.pa);
	ASSERT_EQ(SZ_2M, x.page_size);
	ASSERT_TRUE(x.r);
	ASSERT_FALSE(x.w);
	ASSERT_EQ(1, xl_stat(e, "dev.00:02.0.atc.fill"));

	xl_stamp(e, PA_2M(3) + 0x15008, 0xa7a7);
	ASSERT_EQ(0xa7a7, xl_rd(e, SID_B, VTD_NO_PASID, 0x40015008, &x));
	ASSERT_TRUE(x.from_atc);
	ASSERT_EQ(PA_2M(3) + 0x15008, x.pa);
	ASSERT_EQ(1, xl_stat(e, "ats.translated"));
	ASSERT_EQ(1, xl_stat(e, "ats.req"));
	ASSERT_EQ(1, xl_stat(e, "dev.00:02.0.atc.hit"));

	/*
	 * Not-present is recoverable for a translation request: success with
	 * R=W=0, nothing recorded, nothing cached (4.2.3). An address above
	 * the AGAW is not: recorded as a translation-request fault.
	 */
	ASSERT_EQ(0, vtdm_ats_translate(e->m, SID_B, VTD_NO_PASID, 0x80000000, &x));
	ASSERT_EQ(0, x.fault);
	ASSERT_FALSE(x.r || x.w);
	ASSERT_TRUE(xl_no_frcd(e));
	ASSERT_EQ(1, xl_stat(e, "dev.00:02.0.atc.fill"));
	ASSERT_EQ(1, vtdm_ats_translate(e->m, SID_B, VTD_NO_PASID,
					1ULL << pt_levels_width(l), &x));
	ASSERT_EQ(FR_ADDR_WIDTH, x.fault);
	ASSERT_TRUE(xl_frcd(e, FR_ADDR_WIDTH, SID_B, VTD_NO_PASID, 1ULL << pt_levels_width(l),
			    FRCD_TYPE_TRANSLATE));

	/* A device without ATS behind a TT=1 context: plain untranslated DMA. */
	hw_ctx(e, 0, SID_C, 4, l, CTX_TT_DEVTLB, &root_c);
	hw_map_ss(e, root_c, l, 0x5000, p, SZ_4K, HW_PERM_RW);
	ASSERT_EQ(p + 0x18, xl_wr(e, SID_C, VTD_NO_PASID, 0x5018, 0x99));
	ASSERT_EQ(0x99, hw_rd64(e, p + 0x18));
	ASSERT_EQ(3, xl_stat(e, "ats.req"));
	ASSERT_TRUE(xl_no_frcd(e));
}

/* ---- Scalable mode ---- */

FIXTURE(xlate_sm) {
	struct hwenv e;
};

FIXTURE_VARIANT(xlate_sm) {
	const char *keys;
	int levels;
};

FIXTURE_VARIANT_ADD(xlate_sm, exact_l3) { "caching=exact,levels=3,sm=1,fl5lp=1,dt=1", 3 };
FIXTURE_VARIANT_ADD(xlate_sm, exact_l4) { "caching=exact,levels=4,sm=1,fl5lp=1,dt=1", 4 };
FIXTURE_VARIANT_ADD(xlate_sm, exact_l5) { "caching=exact,levels=5,sm=1,fl5lp=1,dt=1", 5 };
FIXTURE_VARIANT_ADD(xlate_sm, adversarial_l3) {
	"caching=adversarial,levels=3,sm=1,fl5lp=1,dt=1", 3 };
FIXTURE_VARIANT_ADD(xlate_sm, adversarial_l4) {
	"caching=adversarial,levels=4,sm=1,fl5lp=1,dt=1", 4 };
FIXTURE_VARIANT_ADD(xlate_sm, adversarial_l5) {
	"caching=adversarial,levels=5,sm=1,fl5lp=1,dt=1", 5 };

FIXTURE_SETUP(xlate_sm)
{
	xl_boot(&self->e, variant->keys, NULL, true);
}

FIXTURE_TEARDOWN(xlate_sm)
{
	hw_fini(&self->e);
}

/* Scalable-mode fetch of a context and a PASID entry: root 2 + context 4 + PDE 1 + PASID entry 8. */
#define SM_CTX_READS	6
#define SM_PASID_READS	9

/*
 * PGTT=2 at every depth the unit supports: requests without PASID use
 * the RID_PASID entry, requests with PASID 7 their own entry, each a
 * 4K/2M/1G set of leaves.
 */
TEST_F(xlate_sm, second_stage_every_depth)
{
	struct hwenv *e = &self->e;

	for (int aw = 3; aw <= variant->levels; aw++) {
		uint16_t sid = (uint16_t)(0x100 | aw << 3);
		uint16_t did0 = (uint16_t)(20 + aw), did7 = (uint16_t)(30 + aw);
		uint64_t top = 1ULL << (pt_levels_width(aw) - 1), r0, r7;
		uint64_t p0 = hw_alloc(e), p7 = hw_alloc(e);
		uint64_t va4k = top + 0x2468a000, va2m = top + 0xc0200000, va1g = top + 5 * SZ_1G;

		hw_sm_ctx(e, 0, sid, 0, false, true);
		hw_pasid(e, 0, sid, 0, PGTT_SS, did0, aw, &r0);
		hw_pasid(e, 0, sid, 7, PGTT_SS, did7, aw, &r7);
		hw_map_ss(e, r0, aw, va4k, p0, SZ_4K, HW_PERM_RW);
		hw_map_ss(e, r0, aw, va2m, PA_2M(aw), SZ_2M, HW_PERM_RW);
		hw_map_ss(e, r0, aw, va1g, 0, SZ_1G, HW_PERM_RW);
		hw_map_ss(e, r7, aw, va4k, p7, SZ_4K, HW_PERM_RW);
		hw_map_ss(e, r7, aw, va2m, PA_2M(8 + aw), SZ_2M, HW_PERM_RW);

		ASSERT_EQ(SM_CTX_READS + SM_PASID_READS + aw,
			  reaches(e, sid, VTD_NO_PASID, va4k, p0, SZ_4K, 0x7f8 - 8));
		ASSERT_EQ(SM_PASID_READS + aw, reaches(e, sid, 7, va4k, p7, SZ_4K, 0x20));
		hw_inv_iotlb_dsi(e, 0, did0);
		ASSERT_EQ(aw - 1, reaches(e, sid, VTD_NO_PASID, va2m, PA_2M(aw), SZ_2M, 0x123450));
		hw_inv_iotlb_dsi(e, 0, did0);
		ASSERT_EQ(aw - 2, reaches(e, sid, VTD_NO_PASID, va1g, 0, SZ_1G, 0x2badf00));
		hw_inv_iotlb_dsi(e, 0, did7);
		ASSERT_EQ(aw - 1, reaches(e, sid, 7, va2m, PA_2M(8 + aw), SZ_2M, 0x1ffff0 - 8));
		for (int pass = 0; pass < 2; pass++) {
			uint64_t reads = reaches(e, sid, 7, va4k, p7, SZ_4K, 0x40) +
					 reaches(e, sid, VTD_NO_PASID, va4k, p0, SZ_4K, 0x40) +
					 reaches(e, sid, VTD_NO_PASID, va2m, PA_2M(aw), SZ_2M, 0x80);

			if (pass)
				ASSERT_EQ(0, reads);
		}
	}
	ASSERT_TRUE(xl_no_frcd(e));
}

/*
 * PGTT=1, 4-level (FLPM=0) and 5-level (FLPM=1, CAP.FL5LP): 4K, 2M and
 * 1G (CAP.FL1GP) leaves at upper-half canonical addresses and low ones.
 */
TEST_F(xlate_sm, first_stage_4_and_5_level)
{
	struct hwenv *e = &self->e;

	for (int lv = 4; lv <= 5; lv++) {
		uint32_t pasid = (uint32_t)lv;
		uint16_t did = (uint16_t)(40 + lv);
		uint64_t hi = lv == 4 ? 0xffff800000000000ULL : 0xff00000000000000ULL;
		uint64_t root, p = hw_alloc(e), lo4k = 0x5000;
		uint64_t va4k = hi + 0x13579000, va2m = hi + 0x4a00000, va1g = hi + 9 * SZ_1G;
		struct vtd_desc_fields flush = xl_piotlb(did, pasid, PIOTLB_G_PASID, 0, 0, false);

		if (lv == 4)
			hw_sm_ctx(e, 0, SID_A, 0, false, true);
		hw_pasid(e, 0, SID_A, pasid, PGTT_FS, did, lv, &root);
		hw_map_fs(e, root, lv, va4k, p, SZ_4K, HW_PERM_RW, true);
		hw_map_fs(e, root, lv, va2m, PA_2M(lv), SZ_2M, HW_PERM_RW, true);
		hw_map_fs(e, root, lv, va1g, 0, SZ_1G, HW_PERM_RW, true);
		hw_map_fs(e, root, lv, lo4k, PA_4K(lv), SZ_4K, HW_PERM_RW, true);

		ASSERT_EQ((lv == 4 ? SM_CTX_READS : 0) + SM_PASID_READS + lv,
			  reaches(e, SID_A, pasid, va4k, p, SZ_4K, 0xff0));
		xl_inv(e, flush);
		ASSERT_EQ(lv - 1, reaches(e, SID_A, pasid, va2m, PA_2M(lv), SZ_2M, 0x1ab0f0));
		xl_inv(e, flush);
		ASSERT_EQ(lv - 2, reaches(e, SID_A, pasid, va1g, 0, SZ_1G, 0x3c0ffee0));
		xl_inv(e, flush);
		ASSERT_EQ(lv, reaches(e, SID_A, pasid, lo4k, PA_4K(lv), SZ_4K, 0x88));
		for (int pass = 0; pass < 2; pass++) {
			uint64_t reads = reaches(e, SID_A, pasid, va4k, p, SZ_4K, 0x18) +
					 reaches(e, SID_A, pasid, va2m, PA_2M(lv), SZ_2M, 0x18) +
					 reaches(e, SID_A, pasid, va1g, 0, SZ_1G, 0x18);

			if (pass)
				ASSERT_EQ(0, reads);
		}
	}
	ASSERT_TRUE(xl_no_frcd(e));
}

/*
 * Requests without PASID take the context's RID_PASID entry; requests
 * with PASID need PASIDE=1 and use their own entry; a PASID without an
 * entry is SPT.2 with the PASID in the record.
 */
TEST_F(xlate_sm, rid_pasid_and_paside)
{
	struct hwenv *e = &self->e;
	int l = variant->levels;
	uint64_t r10, r20, rb, pa = hw_alloc(e), pb = hw_alloc(e), pc = hw_alloc(e);

	hw_sm_ctx(e, 0, SID_A, 0x10, false, true);
	hw_pasid(e, 0, SID_A, 0x10, PGTT_SS, 50, l, &r10);
	hw_pasid(e, 0, SID_A, 0x20, PGTT_SS, 51, l, &r20);
	hw_map_ss(e, r10, l, 0x8000, pa, SZ_4K, HW_PERM_RW);
	hw_map_ss(e, r20, l, 0x8000, pb, SZ_4K, HW_PERM_RW);
	xl_stamp(e, pa, 0xa0a0);
	xl_stamp(e, pb, 0xb0b0);
	ASSERT_EQ(0xa0a0, xl_rd(e, SID_A, VTD_NO_PASID, 0x8000, NULL));
	ASSERT_EQ(0xb0b0, xl_rd(e, SID_A, 0x20, 0x8000, NULL));
	ASSERT_EQ(0xa0a0, xl_rd(e, SID_A, 0x10, 0x8000, NULL));
	ASSERT_TRUE(xl_fault(e, SID_A, 0x30, 0x8000, false, pa, FR_SM_PTE_P));

	/* PASIDE=0: only requests without PASID get through. */
	hw_sm_ctx(e, 0, SID_B, 0x10, false, false);
	hw_pasid(e, 0, SID_B, 0x10, PGTT_SS, 52, l, &rb);
	hw_map_ss(e, rb, l, 0x8000, pc, SZ_4K, HW_PERM_RW);
	xl_stamp(e, pc, 0xc0c0);
	ASSERT_EQ(0xc0c0, xl_rd(e, SID_B, VTD_NO_PASID, 0x8000, NULL));
	ASSERT_TRUE(xl_fault(e, SID_B, 0x10, 0x8000, false, pc, FR_SM_CTX_PASIDE));
	ASSERT_TRUE(xl_fault(e, SID_B, 0x10, 0x8000, true, pc, FR_SM_CTX_PASIDE));
}

/* PGTT=4: requests with and without PASID pass through untranslated. */
TEST_F(xlate_sm, passthrough_pgtt4)
{
	struct hwenv *e = &self->e;
	struct vtdm_xlate x;
	uint64_t root;

	hw_sm_ctx(e, 0, SID_A, 0, false, true);
	hw_pasid(e, 0, SID_A, 0, PGTT_PT, 60, 0, &root);
	hw_pasid(e, 0, SID_A, 3, PGTT_PT, 61, 0, &root);
	ASSERT_EQ(0, root);
	xl_stamp(e, 0x30002010, 0x7e57);
	ASSERT_EQ(0x7e57, xl_rd(e, SID_A, VTD_NO_PASID, 0x30002010, &x));
	ASSERT_EQ(0x30002010, x.pa);
	ASSERT_EQ(0x7e57, xl_rd(e, SID_A, 3, 0x30002010, &x));
	ASSERT_EQ(0x30002010, x.pa);
	ASSERT_EQ(0x3000a000, xl_wr(e, SID_A, 3, 0x3000a000, 0x42));
	ASSERT_EQ(0x42, hw_rd64(e, 0x3000a000));
	ASSERT_EQ(0, xl_stat(e, "walk"));
}

/* A context whose requests without PASID are supervisor requests (RID_PRIV). */
static void supervisor_ctx(struct hwenv *e, uint16_t sid, uint16_t did, uint64_t fs_root,
			   uint64_t q2_bits)
{
	uint64_t unused;

	hw_sm_ctx(e, 0, sid, 1, false, true);
	xl_modify(e, hw_sm_ctx_addr(e, 0, sid) + 8, SMCTX_RID_PRIV, 0);
	hw_pasid(e, 0, sid, 1, PGTT_FS, did, 4, &unused);
	xl_put(e, hw_pasid_addr(e, 0, sid, 1) + 16, fs_root | q2_bits);
}

/*
 * First-stage U/S and R/W (9.7): user requests need U/S=1 and, to write,
 * R/W=1 in every entry of the walk; supervisor requests (RID_PRIV=1,
 * SRE=1) reach supervisor pages and, without WPE, write read-only ones.
 */
TEST_F(xlate_sm, first_stage_user_supervisor_rw)
{
	struct hwenv *e = &self->e;
	uint64_t root, p[6];
	struct vtdm_xlate x;

	for (int i = 1; i <= 5; i++) {
		p[i] = hw_alloc(e);
		xl_stamp(e, p[i], 0x1000 + (uint64_t)i);
	}
	hw_sm_ctx(e, 0, SID_A, 1, false, true);	/* user requests */
	hw_pasid(e, 0, SID_A, 1, PGTT_FS, 70, 4, &root);
	hw_map_fs(e, root, 4, 0x1000, p[1], SZ_4K, HW_PERM_RW, true);
	hw_map_fs(e, root, 4, 0x2000, p[2], SZ_4K, HW_PERM_RW, false);
	hw_map_fs(e, root, 4, 0x3000, p[3], SZ_4K, HW_PERM_R, true);
	hw_map_fs(e, root, 4, 0x40200000, p[4], SZ_4K, HW_PERM_RW, true);
	xl_modify(e, hw_pte_addr(e, root, 4, 0x40200000, 2, true), 0, FSPTE_US);
	hw_map_fs(e, root, 4, 0x80400000, p[5], SZ_4K, HW_PERM_RW, true);
	xl_modify(e, hw_pte_addr(e, root, 4, 0x80400000, 2, true), 0, FSPTE_RW);
	supervisor_ctx(e, SID_B, 71, root, PTE2_SRE);
	supervisor_ctx(e, SID_C, 72, root, PTE2_SRE | PTE2_WPE);

	/* User. */
	ASSERT_EQ(0x1001, xl_rd(e, SID_A, VTD_NO_PASID, 0x1000, &x));
	ASSERT_TRUE(x.r && x.w);
	ASSERT_EQ(p[1] + 8, xl_wr(e, SID_A, VTD_NO_PASID, 0x1008, 1));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, 0x2000, p[2], FR_SM_FS_US));
	ASSERT_EQ(0x1003, xl_rd(e, SID_A, VTD_NO_PASID, 0x3000, &x));
	ASSERT_TRUE(x.r);
	ASSERT_FALSE(x.w);
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x3000, true, p[3], FR_SM_WRITE));
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x40200000, false, p[4], FR_SM_FS_US));
	ASSERT_EQ(0x1005, xl_rd(e, SID_A, VTD_NO_PASID, 0x80400000, NULL));
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x80400000, true, p[5], FR_SM_WRITE));

	/* Supervisor, WPE=0: supervisor pages, and writes to read-only ones. */
	ASSERT_EQ(0x1002, xl_rd(e, SID_B, VTD_NO_PASID, 0x2000, &x));
	ASSERT_TRUE(x.r && x.w);
	ASSERT_EQ(p[3] + 0x10, xl_wr(e, SID_B, VTD_NO_PASID, 0x3010, 0x33));
	ASSERT_EQ(0x33, hw_rd64(e, p[3] + 0x10));
	ASSERT_EQ(p[4] + 0x10, xl_wr(e, SID_B, VTD_NO_PASID, 0x40200010, 0x44));
	ASSERT_EQ(p[5] + 0x10, xl_wr(e, SID_B, VTD_NO_PASID, 0x80400010, 0x55));

	/* Supervisor, WPE=1: read-only means read-only. */
	ASSERT_EQ(p[2] + 0x20, xl_wr(e, SID_C, VTD_NO_PASID, 0x2020, 0x22));
	ASSERT_EQ(0x1003, xl_rd(e, SID_C, VTD_NO_PASID, 0x3000, &x));
	ASSERT_FALSE(x.w);
	ASSERT_TRUE(xl_fault(e, SID_C, VTD_NO_PASID, 0x3000, true, p[3], FR_SM_WRITE));
	ASSERT_TRUE(xl_fault(e, SID_C, VTD_NO_PASID, 0x80400000, true, p[5], FR_SM_WRITE));
}

/*
 * DTE=1: an ATS device gets translations for requests without PASID
 * (RID_PASID, second stage) and with PASID (first stage); its DMA then
 * uses its device TLB.
 */
TEST_F(xlate_sm, ats_with_dte)
{
	struct hwenv *e = &self->e;
	int l = variant->levels;
	uint64_t r0, r9, p0 = hw_alloc(e), p9 = hw_alloc(e);
	struct vtdm_xlate x;

	hw_add_device(e, "00:02.0,ats=1");
	hw_sm_ctx(e, 0, SID_B, 0, true, true);
	hw_pasid(e, 0, SID_B, 0, PGTT_SS, 80, l, &r0);
	hw_pasid(e, 0, SID_B, 9, PGTT_FS, 81, 4, &r9);
	hw_map_ss(e, r0, l, 0x6000, p0, SZ_4K, HW_PERM_RW);
	hw_map_fs(e, r9, 4, 0x6000, p9, SZ_4K, HW_PERM_R, true);
	xl_stamp(e, p0 + 0x30, 0x0a0a);
	xl_stamp(e, p9 + 0x30, 0x0909);

	ASSERT_EQ(0, vtdm_ats_translate(e->m, SID_B, VTD_NO_PASID, 0x6000, &x));
	ASSERT_EQ(p0, x.pa);
	ASSERT_TRUE(x.r && x.w);
	ASSERT_EQ(0, vtdm_ats_translate(e->m, SID_B, 9, 0x6010, &x));
	ASSERT_EQ(p9 + 0x10, x.pa);
	ASSERT_TRUE(x.r);
	ASSERT_FALSE(x.w);
	ASSERT_EQ(0x0a0a, xl_rd(e, SID_B, VTD_NO_PASID, 0x6030, &x));
	ASSERT_TRUE(x.from_atc);
	ASSERT_EQ(0x0909, xl_rd(e, SID_B, 9, 0x6030, &x));
	ASSERT_TRUE(x.from_atc);
	ASSERT_EQ(2, xl_stat(e, "dev.00:02.0.atc.hit"));
	ASSERT_EQ(2, xl_stat(e, "ats.req"));

	/* Recoverable for translation requests: a missing first-stage leaf or PASID entry. */
	ASSERT_EQ(0, vtdm_ats_translate(e->m, SID_B, 9, 0x7000, &x));
	ASSERT_FALSE(x.r || x.w);
	ASSERT_EQ(0, vtdm_ats_translate(e->m, SID_B, 10, 0x6000, &x));
	ASSERT_FALSE(x.r || x.w);
	ASSERT_EQ(2, xl_stat(e, "dev.00:02.0.atc.fill"));
	ASSERT_TRUE(xl_no_frcd(e));
}

/* ---- Brute force: random mappings against a reference walk ---- */

FIXTURE(xlate_xcheck) {
	struct hwenv e;
	uint64_t rng;
};

FIXTURE_VARIANT(xlate_xcheck) {
	const char *keys;
};

FIXTURE_VARIANT_ADD(xlate_xcheck, exact) { "caching=exact" };
FIXTURE_VARIANT_ADD(xlate_xcheck, exact_small) { "caching=exact,iotlb=8,iotlb_ways=2,psc=4" };
FIXTURE_VARIANT_ADD(xlate_xcheck, adversarial) { "caching=adversarial" };

FIXTURE_SETUP(xlate_xcheck)
{
	xl_boot(&self->e, variant->keys, NULL, false);
	self->rng = 0x9e3779b97f4a7c15ULL;
}

FIXTURE_TEARDOWN(xlate_xcheck)
{
	hw_fini(&self->e);
}

/* xorshift64*: the same sequence on every run. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return rnd(s) % n;
}

/* Second-stage entry bits for a permission set. */
static uint64_t ss_bits(unsigned perm)
{
	return ((perm & HW_PERM_R) ? SSPTE_R : 0) | ((perm & HW_PERM_W) ? SSPTE_W : 0);
}

/*
 * Map one leaf at @level, refusing overlaps with what is there (a large
 * leaf above, a table or leaf in the slot). New tables get RW, R-only or
 * W-only entries so that upper-level permissions matter too.
 */
static bool xmap(struct hwenv *e, uint64_t *rng, uint64_t root, uint64_t iova, uint64_t pa,
		 int level, unsigned perm)
{
	static const unsigned table_perm[8] = { 3, 3, 3, 3, 3, 3, 1, 2 };
	uint64_t table = root;

	for (int l = 4; l > level; l--) {
		uint64_t ea = table + 8 * pt_index(iova, l), v = hw_rd64(e, ea);

		if (!sspte_present(v)) {
			v = hw_alloc(e) | ss_bits(table_perm[rnd_below(rng, 8)]);
			xl_put(e, ea, v);
		} else if (l <= 3 && (v & SSPTE_PS)) {
			return false;
		}
		table = v & SSPTE_ADDR;
	}
	if (sspte_present(hw_rd64(e, table + 8 * pt_index(iova, level))))
		return false;
	xl_put(e, table + 8 * pt_index(iova, level),
	       pa | ss_bits(perm) | (level > 1 ? SSPTE_PS : 0));
	return true;
}

struct ref {
	bool present;
	uint64_t pa;		/* output address of the request */
	uint64_t size;
	bool r, w;
};

/* The reference: a 4-level second-stage walk over guest memory (VT-d 3.6, 9.8). */
static struct ref ref_walk(struct hwenv *e, uint64_t root, uint64_t iova)
{
	struct ref out = { .r = true, .w = true };
	uint64_t table = root;

	for (int l = 4; l >= 1; l--) {
		uint64_t v;

		if (vtdm_read(e->m, table + 8 * pt_index(iova, l), &v, 8))
			return out;
		if (!(v & (SSPTE_R | SSPTE_W)))
			return out;
		out.r &= (v & SSPTE_R) != 0;
		out.w &= (v & SSPTE_W) != 0;
		if (l == 1 || (l <= 3 && (v & SSPTE_PS))) {
			out.present = true;
			out.size = 1ULL << (12 + 9 * (l - 1));
			out.pa = (v & SSPTE_ADDR & ~(out.size - 1)) | (iova & (out.size - 1));
			return out;
		}
		table = v & SSPTE_ADDR;
	}
	return out;
}

/* An IOVA in the part of the space the mappings crowd into, so tables are shared. */
static uint64_t crowded_iova(uint64_t *rng, int level)
{
	static const uint64_t top[3] = { 0, 1, 511 };
	uint64_t iova = top[rnd_below(rng, 3)] << 39 | rnd_below(rng, 8) << 30;

	if (level <= 2)
		iova |= rnd_below(rng, 8) << 21;
	if (level == 1)
		iova |= rnd_below(rng, 512) << 12;
	return iova;
}

struct xmapping {
	uint64_t iova;
	int level;
};

/*
 * 240 tries at random 4K/2M/1G mappings with random R/W (on tables with
 * random R/W too), then 3000 random 8-byte accesses — half inside a
 * mapping, a quarter anywhere in the crowded space, a quarter again at a
 * recent address so that caches hit: each must do exactly
 * what the reference walk says — fault reason, output address, page
 * size, permissions, data. Writes above 256 MiB store fresh values;
 * below, where 1G leaves overlay the tables, they store back what is there.
 */
TEST_F(xlate_xcheck, random_mappings_match_reference_walk)
{
	struct hwenv *e = &self->e;
	uint64_t *rng = &self->rng, root, recent[8] = { 0 };
	struct xmapping maps[240];
	unsigned nmaps = 0, faults = 0, hits = 0;

	hw_ctx(e, 0, SID_A, 9, 4, CTX_TT_UNTRANSLATED, &root);
	for (int i = 0; i < 240; i++) {
		uint64_t r = rnd_below(rng, 16), iova, pa;
		int level = r == 0 ? 3 : r < 4 ? 2 : 1;
		unsigned perm = (unsigned[]){ 3, 3, 1, 2 }[rnd_below(rng, 4)];

		iova = crowded_iova(rng, level);
		pa = level == 3 ? 0 : level == 2 ? PA_2M(rnd_below(rng, 256)) :
			PA_4K(rnd_below(rng, 0x10000));
		if (xmap(e, rng, root, iova, pa, level, perm))
			maps[nmaps++] = (struct xmapping){ iova, level };
	}
	TH_LOG("%u mappings", nmaps);
	ASSERT_LT(100, nmaps);

	for (int i = 0; i < 3000; i++) {
		uint64_t iova, v = 0, want;
		bool write = rnd_below(rng, 2);
		struct vtdm_xlate x;
		struct ref ref;

		switch (i & 3) {
		case 0:
			iova = crowded_iova(rng, 1) | (rnd_below(rng, SZ_4K) & ~7ULL);
			break;
		case 3:
			iova = recent[rnd_below(rng, 8)];
			break;
		default: {
			const struct xmapping *m = &maps[rnd_below(rng, nmaps)];

			iova = m->iova + (rnd_below(rng, pt_level_size(m->level)) & ~7ULL);
			break;
		}
		}
		recent[i & 7] = iova;
		ref = ref_walk(e, root, iova);
		if (!ref.present || !(write ? ref.w : ref.r)) {
			uint8_t b[8] = { 0 };

			ASSERT_EQ(1, vtdm_dma(e->m, SID_A, VTD_NO_PASID, iova, b, 8, write, &x));
			ASSERT_EQ(write ? FR_WRITE : FR_READ, x.fault);
			faults++;
			continue;
		}
		want = ref.pa >= 0x10000000 ? rnd(rng) : hw_rd64(e, ref.pa);
		if (write) {
			ASSERT_EQ(0, hw_dma_wr64(e, SID_A, VTD_NO_PASID, iova, want, &x));
			ASSERT_EQ(want, hw_rd64(e, ref.pa));
		} else {
			if (ref.pa >= 0x10000000)
				xl_stamp(e, ref.pa, want);
			ASSERT_EQ(0, hw_dma_rd64(e, SID_A, VTD_NO_PASID, iova, &v, &x));
			ASSERT_EQ(want, v);
		}
		ASSERT_EQ(ref.pa, x.pa);
		ASSERT_EQ(ref.size, x.page_size);
		ASSERT_EQ(ref.r, x.r);
		ASSERT_EQ(ref.w, x.w);
		hits++;
	}
	TH_LOG("%u faults, %u translations; iotlb %llu hits %llu evictions, psc %llu hits",
	       faults, hits, (unsigned long long)xl_stat(e, "iotlb.hit"),
	       (unsigned long long)xl_stat(e, "iotlb.evict"),
	       (unsigned long long)xl_stat(e, "psc.ss.hit"));
	/* Both outcomes were exercised, many times. */
	ASSERT_LT(500, faults);
	ASSERT_LT(1000, hits);
	ASSERT_LT(300, xl_stat(e, "iotlb.hit"));
}
