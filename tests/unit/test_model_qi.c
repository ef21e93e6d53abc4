/*
 * test_model_qi.c — the model's queued invalidation (VT-d 6.5.2) through
 * the register-level rig: every descriptor type's effect and counter,
 * every reserved-bit and error rejection (FSTS.IQE, IQERCD.IQEI, IQH
 * parked on the bad descriptor, recovery), wait descriptors (status
 * write, ICS.IWC, IECTL), fences, and device-TLB time-outs (ITE, ICE).
 *
 * Reserved-bit masks are typed in from the fact sheet (§13), never taken
 * from fmt/desc.c, so a wrong mask there makes a test here fail.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "hwenv.h"
#include "model_qi_util.h"

#define SID_DMA		0x0008	/* 00:01.0 */
#define SID_DMA2	0x0009	/* 00:01.1 */
#define SID_DMA4	0x000c	/* 00:01.4 */
#define SID_ATS		0x0010	/* 00:02.0, ATS */
#define SID_BAD		0x0018	/* 00:03.0, ATS, answers with a bad completion */
#define SID_NOATS	0x0020	/* 00:04.0, no ATS */
#define SID_NONE	0x0030	/* 00:06.0, no such device */

#define DID_A		5
#define DID_B		7
#define DID_C		6

#define PASID1		1
#define PASID2		2
#define PASID3		3

#define IOVA_A		0x10000ULL
#define IOVA_B		0x40000ULL

#define ITE_NS		1000000ULL	/* default cost ite_timeout */

static void ctx_clear(struct hwenv *e, uint16_t sid)
{
	hw_wr64(e, hw_ctx_addr(e, 0, sid), 0);
}

/* ================================================================ */
/* 1. Every descriptor type: its effect and its counter (legacy)    */
/* ================================================================ */

FIXTURE(qi_desc) {
	struct hwenv e;
	uint64_t root, root2, root4, root_ats, a, b;
};

FIXTURE_VARIANT(qi_desc) {
	const char *keys;
};

FIXTURE_VARIANT_ADD(qi_desc, exact) { .keys = "dt=1,caching=exact" };
FIXTURE_VARIANT_ADD(qi_desc, adversarial) { .keys = "dt=1,caching=adversarial" };

FIXTURE_SETUP(qi_desc)
{
	struct hwenv *e = &self->e;

	hw_init(e, variant->keys, 1);
	hw_add_device(e, "00:02.0,ats=1");
	hw_setup(e, 0, false, true);
	unmask_events(e);
	hw_ctx(e, 0, SID_DMA, DID_A, 4, CTX_TT_UNTRANSLATED, &self->root);
	hw_ctx(e, 0, SID_DMA2, DID_B, 4, CTX_TT_UNTRANSLATED, &self->root2);
	hw_ctx(e, 0, SID_DMA4, DID_A, 4, CTX_TT_UNTRANSLATED, &self->root4);
	hw_ctx(e, 0, SID_ATS, DID_C, 4, CTX_TT_DEVTLB, &self->root_ats);
	self->a = page_with(e, VAL_A);
	self->b = page_with(e, VAL_B);
	hw_map_ss(e, self->root, 4, IOVA_A, self->a, 4096, HW_PERM_RW);
	hw_map_ss(e, self->root, 4, IOVA_B, self->a, 4096, HW_PERM_RW);
	hw_map_ss(e, self->root2, 4, IOVA_A, self->a, 4096, HW_PERM_RW);
	hw_map_ss(e, self->root4, 4, IOVA_A, self->a, 4096, HW_PERM_RW);
	for (uint64_t off = 0; off < 3 * 4096; off += 4096)
		hw_map_ss(e, self->root_ats, 4, IOVA_A + off, self->a, 4096, HW_PERM_RW);
}

FIXTURE_TEARDOWN(qi_desc)
{
	hw_fini(&self->e);
}

TEST_F(qi_desc, cc_global_drops_every_context_entry)
{
	struct hwenv *e = &self->e;
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){ .type = DESC_CC,
							      .g = CC_G_GLOBAL });

	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	ASSERT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	ctx_clear(e, SID_DMA);
	ctx_clear(e, SID_DMA2);
	/* Both entries are still cached until the invalidation. */
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	ASSERT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	hw_qi(e, 0, &d, 1, true);
	EXPECT_EQ(1, hw_stat(e, "desc.cc.global"));
	EXPECT_EQ(0, hw_stat(e, "desc.cc.domain"));
	EXPECT_EQ(0, hw_stat(e, "desc.cc.device"));
	EXPECT_EQ(2, hw_stat(e, "desc"));
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_A));
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA2, VTD_NO_PASID, IOVA_A));
}

TEST_F(qi_desc, cc_domain_drops_only_that_domain)
{
	struct hwenv *e = &self->e;
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){ .type = DESC_CC,
							      .g = CC_G_DOMAIN, .did = DID_A });

	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	ASSERT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	ctx_clear(e, SID_DMA);
	ctx_clear(e, SID_DMA2);
	hw_qi(e, 0, &d, 1, true);
	EXPECT_EQ(1, hw_stat(e, "desc.cc.domain"));
	EXPECT_EQ(0, hw_stat(e, "desc.cc.global"));
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_A));
	/* DID_B's entry is still cached. */
	EXPECT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
}

TEST_F(qi_desc, cc_device_drops_only_that_sid)
{
	struct hwenv *e = &self->e;
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){
		.type = DESC_CC, .g = CC_G_DEVICE, .did = DID_A, .sid = SID_DMA, .fm = 0 });

	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	ASSERT_EQ(VAL_A, rd(e, SID_DMA4, IOVA_A));
	ctx_clear(e, SID_DMA);
	ctx_clear(e, SID_DMA4);
	hw_qi(e, 0, &d, 1, true);
	EXPECT_EQ(1, hw_stat(e, "desc.cc.device"));
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_A));
	/* Same domain, other function: untouched without a function mask. */
	EXPECT_EQ(VAL_A, rd(e, SID_DMA4, IOVA_A));
}

/*
 * FM (VT-d 10.4.7, 6.5.2.1): 01 masks the most significant function bit
 * (bit 2), 11 all three, so 00:01.0 with FM=1 also names 00:01.4.
 */
TEST_F(qi_desc, cc_device_function_mask)
{
	struct hwenv *e = &self->e;
	uint64_t root;
	struct vtd_desc fm1 = hw_desc((struct vtd_desc_fields){
		.type = DESC_CC, .g = CC_G_DEVICE, .did = DID_A, .sid = SID_DMA, .fm = 1 });
	struct vtd_desc fm3 = hw_desc((struct vtd_desc_fields){
		.type = DESC_CC, .g = CC_G_DEVICE, .did = DID_A, .sid = SID_DMA, .fm = 3 });

	/* 00:01.1 in DID_A too, so only the function bits decide. */
	hw_ctx(e, 0, SID_DMA2, DID_A, 4, CTX_TT_UNTRANSLATED, &root);
	hw_map_ss(e, root, 4, IOVA_A, self->a, 4096, HW_PERM_RW);
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	ASSERT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	ASSERT_EQ(VAL_A, rd(e, SID_DMA4, IOVA_A));
	ctx_clear(e, SID_DMA);
	ctx_clear(e, SID_DMA2);
	ctx_clear(e, SID_DMA4);
	hw_qi(e, 0, &fm1, 1, true);
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA, VTD_NO_PASID, IOVA_A));
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA4, VTD_NO_PASID, IOVA_A));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	hw_qi(e, 0, &fm3, 1, true);
	EXPECT_EQ(FR_CTX_P, rd_fault(e, SID_DMA2, VTD_NO_PASID, IOVA_A));
	EXPECT_EQ(2, hw_stat(e, "desc.cc.device"));
}

/* Make IOVA_A (and IOVA_B) of SID_DMA and IOVA_A of SID_DMA2 stale in the IOTLB. */
static void make_stale(struct hwenv *e, uint64_t root, uint64_t root2, uint64_t b)
{
	rd(e, SID_DMA, IOVA_A);
	rd(e, SID_DMA, IOVA_B);
	rd(e, SID_DMA2, IOVA_A);
	ss_retarget(e, root, IOVA_A, b);
	ss_retarget(e, root, IOVA_B, b);
	ss_retarget(e, root2, IOVA_A, b);
}

TEST_F(qi_desc, iotlb_global_drops_every_domain)
{
	struct hwenv *e = &self->e;
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){ .type = DESC_IOTLB,
							      .g = IOTLB_G_GLOBAL });

	make_stale(e, self->root, self->root2, self->b);
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	ASSERT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	hw_qi(e, 0, &d, 1, true);
	EXPECT_EQ(1, hw_stat(e, "desc.iotlb.global"));
	EXPECT_EQ(0, hw_stat(e, "desc.iotlb.dsi"));
	EXPECT_EQ(0, hw_stat(e, "desc.iotlb.psi"));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_A));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_B));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA2, IOVA_A));
}

TEST_F(qi_desc, iotlb_dsi_drops_one_domain)
{
	struct hwenv *e = &self->e;
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){ .type = DESC_IOTLB,
							      .g = IOTLB_G_DSI, .did = DID_A });

	make_stale(e, self->root, self->root2, self->b);
	hw_qi(e, 0, &d, 1, true);
	EXPECT_EQ(1, hw_stat(e, "desc.iotlb.dsi"));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_A));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_B));
}

TEST_F(qi_desc, iotlb_psi_drops_one_page)
{
	struct hwenv *e = &self->e;
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){
		.type = DESC_IOTLB, .g = IOTLB_G_PSI, .did = DID_A, .addr = IOVA_A, .am = 0 });

	make_stale(e, self->root, self->root2, self->b);
	hw_qi(e, 0, &d, 1, true);
	EXPECT_EQ(1, hw_stat(e, "desc.iotlb.psi"));
	EXPECT_EQ(0, hw_stat(e, "desc.psi_misaligned"));
	/*
	 * Stale entries first: a walk of IOVA_A may prefetch its neighbour
	 * IOVA_B afresh (adversarial), as hardware may at any time.
	 */
	EXPECT_EQ(VAL_A, rd(e, SID_DMA, IOVA_B));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA2, IOVA_A));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_A));
}

/* AM=4 covers 16 pages from IOVA_A (6.5.2.3): the 16th goes, the 17th stays. */
TEST_F(qi_desc, iotlb_psi_address_mask_covers_range)
{
	struct hwenv *e = &self->e;
	uint64_t last = IOVA_A + 15 * 4096, next = IOVA_A + 16 * 4096;
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){
		.type = DESC_IOTLB, .g = IOTLB_G_PSI, .did = DID_A, .addr = IOVA_A, .am = 4 });

	hw_map_ss(e, self->root, 4, last, self->a, 4096, HW_PERM_RW);
	hw_map_ss(e, self->root, 4, next, self->a, 4096, HW_PERM_RW);
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, last));
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, next));
	ss_retarget(e, self->root, last, self->b);
	ss_retarget(e, self->root, next, self->b);
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, last));
	hw_qi(e, 0, &d, 1, true);
	EXPECT_EQ(VAL_A, rd(e, SID_DMA, next));	/* stale first: see above */
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, last));
}

TEST_F(qi_desc, devtlb_drops_device_tlb_entry)
{
	struct hwenv *e = &self->e;
	struct vtdm_xlate x;
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){
		.type = DESC_DEVTLB, .sid = SID_ATS, .addr = IOVA_A, .s = false });

	ASSERT_EQ(VAL_A, dma_rd(e, SID_ATS, VTD_NO_PASID, IOVA_A, &x));
	ASSERT_TRUE(x.from_atc);
	ss_retarget(e, self->root_ats, IOVA_A, self->b);
	hw_inv_iotlb_dsi(e, 0, DID_C);
	/* The IOTLB is clean; the device TLB still holds the old page. */
	ASSERT_EQ(VAL_A, dma_rd(e, SID_ATS, VTD_NO_PASID, IOVA_A, &x));
	ASSERT_TRUE(x.from_atc);
	hw_qi(e, 0, &d, 1, true);
	EXPECT_EQ(1, hw_stat(e, "desc.devtlb"));
	EXPECT_EQ(1, hw_stat(e, "dev.00:02.0.inv.req"));
	EXPECT_EQ(0, hw_stat(e, "dev.00:02.0.inv.dropped"));
	EXPECT_EQ(0, hw_stat(e, "ite"));
	EXPECT_EQ(VAL_B, dma_rd(e, SID_ATS, VTD_NO_PASID, IOVA_A, &x));
	EXPECT_TRUE(x.from_atc);
}

/* S=1 (6.5.2.5): ADDR bit 12 clear encodes 8K; the third page keeps its entry. */
TEST_F(qi_desc, devtlb_size_bit_covers_range)
{
	struct hwenv *e = &self->e;
	uint64_t field;
	bool s;
	struct vtd_desc d;

	devtlb_range_encode(IOVA_A, 1, &field, &s);
	ASSERT_EQ(IOVA_A, field);
	ASSERT_TRUE(s);
	d = hw_desc((struct vtd_desc_fields){ .type = DESC_DEVTLB, .sid = SID_ATS,
					      .addr = IOVA_A, .s = true });
	for (uint64_t off = 0; off < 3 * 4096; off += 4096) {
		ASSERT_EQ(VAL_A, rd(e, SID_ATS, IOVA_A + off));
		ss_retarget(e, self->root_ats, IOVA_A + off, self->b);
	}
	hw_inv_iotlb_dsi(e, 0, DID_C);
	hw_qi(e, 0, &d, 1, true);
	EXPECT_EQ(VAL_B, rd(e, SID_ATS, IOVA_A));
	EXPECT_EQ(VAL_B, rd(e, SID_ATS, IOVA_A + 4096));
	EXPECT_EQ(VAL_A, rd(e, SID_ATS, IOVA_A + 8192));
}

/* Interrupt remapping is not modelled: IEC is counted, DMA caches stay. */
TEST_F(qi_desc, iec_counted_and_leaves_dma_caches)
{
	struct hwenv *e = &self->e;
	struct vtd_desc d[2] = {
		hw_desc((struct vtd_desc_fields){ .type = DESC_IEC, .g = 0 }),
		hw_desc((struct vtd_desc_fields){ .type = DESC_IEC, .g = 1, .iidx = 0x20,
						  .im = 2 }),
	};

	make_stale(e, self->root, self->root2, self->b);
	hw_qi(e, 0, d, 2, true);
	EXPECT_EQ(2, hw_stat(e, "desc.iec"));
	EXPECT_EQ(3, hw_stat(e, "desc"));
	EXPECT_EQ(0, fsts(e));
	EXPECT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
}

TEST_F(qi_desc, wait_counted_and_completed)
{
	struct hwenv *e = &self->e;
	uint64_t s = hw_alloc(e);
	struct vtd_desc d[2] = { wait_sw(s, 0x51), wait_sw(s + 4, 0x52) };

	submit(e, d, 2);
	EXPECT_EQ(0x51, hw_rd32(e, s));
	EXPECT_EQ(0x52, hw_rd32(e, s + 4));
	EXPECT_EQ(2, hw_stat(e, "desc.wait"));
	EXPECT_EQ(2, hw_stat(e, "wait.done"));
	EXPECT_EQ(2, hw_iqh(e, 0));
}

/* ================================================================ */
/* 1b. The 256-bit types on a scalable-mode unit                    */
/* ================================================================ */

FIXTURE(qi_sm_desc) {
	struct hwenv e;
	uint64_t fs1, fs2, fs3, fs_ats, a, b;
};

FIXTURE_VARIANT(qi_sm_desc) {
	const char *keys;
};

FIXTURE_VARIANT_ADD(qi_sm_desc, exact) { .keys = "sm=1,dt=1,caching=exact" };
FIXTURE_VARIANT_ADD(qi_sm_desc, adversarial) { .keys = "sm=1,dt=1,caching=adversarial" };

FIXTURE_SETUP(qi_sm_desc)
{
	struct hwenv *e = &self->e;

	hw_init(e, variant->keys, 1);
	hw_add_device(e, "00:02.0,ats=1");
	hw_setup(e, 0, true, true);
	unmask_events(e);
	ASSERT_TRUE(e->u[0].wide);
	hw_sm_ctx(e, 0, SID_DMA, 0, false, true);
	hw_pasid(e, 0, SID_DMA, PASID1, PGTT_FS, DID_A, 4, &self->fs1);
	hw_pasid(e, 0, SID_DMA, PASID2, PGTT_FS, DID_A, 4, &self->fs2);
	hw_pasid(e, 0, SID_DMA, PASID3, PGTT_FS, DID_B, 4, &self->fs3);
	hw_sm_ctx(e, 0, SID_ATS, 0, true, true);
	hw_pasid(e, 0, SID_ATS, PASID1, PGTT_FS, DID_C, 4, &self->fs_ats);
	self->a = page_with(e, VAL_A);
	self->b = page_with(e, VAL_B);
	hw_map_fs(e, self->fs1, 4, IOVA_A, self->a, 4096, HW_PERM_RW, true);
	hw_map_fs(e, self->fs1, 4, IOVA_B, self->a, 4096, HW_PERM_RW, true);
	hw_map_fs(e, self->fs2, 4, IOVA_A, self->a, 4096, HW_PERM_RW, true);
	hw_map_fs(e, self->fs3, 4, IOVA_A, self->a, 4096, HW_PERM_RW, true);
	hw_map_fs(e, self->fs_ats, 4, IOVA_A, self->a, 4096, HW_PERM_RW, true);
}

FIXTURE_TEARDOWN(qi_sm_desc)
{
	hw_fini(&self->e);
}

TEST_F(qi_sm_desc, piotlb_psi_drops_one_page_of_one_pasid)
{
	struct hwenv *e = &self->e;
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){
		.type = DESC_PIOTLB, .g = PIOTLB_G_PSI, .did = DID_A, .pasid = PASID1,
		.addr = IOVA_A, .am = 0 });

	ASSERT_EQ(VAL_A, rdp(e, SID_DMA, PASID1, IOVA_A));
	ASSERT_EQ(VAL_A, rdp(e, SID_DMA, PASID1, IOVA_B));
	fs_retarget(e, self->fs1, IOVA_A, self->b);
	fs_retarget(e, self->fs1, IOVA_B, self->b);
	ASSERT_EQ(VAL_A, rdp(e, SID_DMA, PASID1, IOVA_A));
	hw_qi(e, 0, &d, 1, true);
	EXPECT_EQ(1, hw_stat(e, "desc.piotlb.psi"));
	EXPECT_EQ(0, hw_stat(e, "desc.piotlb.pasid"));
	EXPECT_EQ(VAL_A, rdp(e, SID_DMA, PASID1, IOVA_B));	/* stale first */
	EXPECT_EQ(VAL_B, rdp(e, SID_DMA, PASID1, IOVA_A));
}

TEST_F(qi_sm_desc, piotlb_pasid_drops_all_of_one_pasid)
{
	struct hwenv *e = &self->e;
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){
		.type = DESC_PIOTLB, .g = PIOTLB_G_PASID, .did = DID_A, .pasid = PASID1 });

	ASSERT_EQ(VAL_A, rdp(e, SID_DMA, PASID1, IOVA_A));
	ASSERT_EQ(VAL_A, rdp(e, SID_DMA, PASID1, IOVA_B));
	ASSERT_EQ(VAL_A, rdp(e, SID_DMA, PASID2, IOVA_A));
	fs_retarget(e, self->fs1, IOVA_A, self->b);
	fs_retarget(e, self->fs1, IOVA_B, self->b);
	fs_retarget(e, self->fs2, IOVA_A, self->b);
	hw_qi(e, 0, &d, 1, true);
	EXPECT_EQ(1, hw_stat(e, "desc.piotlb.pasid"));
	EXPECT_EQ(0, hw_stat(e, "desc.piotlb.psi"));
	/* Same domain, other PASID: untouched. */
	EXPECT_EQ(VAL_A, rdp(e, SID_DMA, PASID2, IOVA_A));
	EXPECT_EQ(VAL_B, rdp(e, SID_DMA, PASID1, IOVA_A));
	EXPECT_EQ(VAL_B, rdp(e, SID_DMA, PASID1, IOVA_B));
}

/*
 * PASID-cache invalidation: clear P of three cached PASID entries (1, 2
 * in DID_A, 3 in DID_B); each granularity drops exactly its entries,
 * which then fault SPT.2 on the next request.
 */
static void pc_case(struct hwenv *e, unsigned g, uint16_t did, uint32_t pasid,
		    const int want[3])
{
	static const uint32_t pasids[3] = { PASID1, PASID2, PASID3 };
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){ .type = DESC_PC, .g = g,
							      .did = did, .pasid = pasid });

	for (int i = 0; i < 3; i++)
		ASSERT_EQ(VAL_A, rdp(e, SID_DMA, pasids[i], IOVA_A));
	for (int i = 0; i < 3; i++)
		hw_wr64(e, hw_pasid_addr(e, 0, SID_DMA, pasids[i]), 0);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(VAL_A, rdp(e, SID_DMA, pasids[i], IOVA_A));
	hw_qi(e, 0, &d, 1, true);
	EXPECT_EQ(1, hw_stat(e, "desc.pc"));
	for (int i = 0; i < 3; i++) {
		int f = rd_fault(e, SID_DMA, pasids[i], IOVA_A);

		if (f != want[i])
			TH_LOG("g=%u: PASID %u faults %#x, expected %#x", g, pasids[i], f, want[i]);
		EXPECT_EQ(want[i], f);
	}
}

TEST_F(qi_sm_desc, pc_domain_drops_that_domain)
{
	static const int want[3] = { FR_SM_PTE_P, FR_SM_PTE_P, 0 };

	pc_case(&self->e, PC_G_DOMAIN, DID_A, 0, want);
}

TEST_F(qi_sm_desc, pc_pasid_drops_that_pasid)
{
	static const int want[3] = { FR_SM_PTE_P, 0, 0 };

	pc_case(&self->e, PC_G_PASID, DID_A, PASID1, want);
}

TEST_F(qi_sm_desc, pc_global_drops_all)
{
	static const int want[3] = { FR_SM_PTE_P, FR_SM_PTE_P, FR_SM_PTE_P };

	pc_case(&self->e, PC_G_GLOBAL, 0, 0, want);
}

TEST_F(qi_sm_desc, pdevtlb_drops_device_tlb_entry)
{
	struct hwenv *e = &self->e;
	struct vtdm_xlate x;
	struct vtd_desc inv = hw_desc((struct vtd_desc_fields){
		.type = DESC_PIOTLB, .g = PIOTLB_G_PASID, .did = DID_C, .pasid = PASID1 });
	struct vtd_desc d = hw_desc((struct vtd_desc_fields){
		.type = DESC_PDEVTLB, .sid = SID_ATS, .pasid = PASID1, .addr = IOVA_A,
		.g = 0, .s = false });

	ASSERT_EQ(VAL_A, dma_rd(e, SID_ATS, PASID1, IOVA_A, &x));
	ASSERT_TRUE(x.from_atc);
	fs_retarget(e, self->fs_ats, IOVA_A, self->b);
	hw_qi(e, 0, &inv, 1, true);
	ASSERT_EQ(VAL_A, dma_rd(e, SID_ATS, PASID1, IOVA_A, &x));
	ASSERT_TRUE(x.from_atc);
	hw_qi(e, 0, &d, 1, true);
	EXPECT_EQ(1, hw_stat(e, "desc.pdevtlb"));
	EXPECT_EQ(1, hw_stat(e, "dev.00:02.0.inv.req"));
	EXPECT_EQ(0, hw_stat(e, "ite"));
	EXPECT_EQ(VAL_B, dma_rd(e, SID_ATS, PASID1, IOVA_A, &x));
	EXPECT_TRUE(x.from_atc);
}

/* ================================================================ */
/* 2. Rejections: IQE, IQEI, IQH parked, no progress, recovery       */
/* ================================================================ */

#define CHECK_EQ(want, got)							\
	do {									\
		uint64_t w_ = (uint64_t)(want), g_ = (uint64_t)(got);		\
		if (w_ != g_) {							\
			TH_LOG("%s: %s: expected %#llx, saw %#llx", what, #got,	\
			       (unsigned long long)w_, (unsigned long long)g_);	\
			return false;						\
		}								\
	} while (0)

/*
 * The whole life of one bad descriptor: queue [wait, BAD, wait] and kick;
 * the first wait completes, IQE is set with IQEI @want, IQH parks on BAD,
 * the second wait does not run, and nor does a wait queued while IQE is
 * set. Software then writes @fix over BAD and clears IQE: processing
 * resumes from IQH, runs @fix (counter @fix_stat) and both later waits.
 */
static bool reject_cycle(struct hwenv *e, uint64_t status, const struct vtd_desc *bad,
			 const struct vtd_desc *fix, unsigned want, const char *fix_stat,
			 const char *what)
{
	unsigned t = e->u[0].tail, n = e->u[0].iq_size;
	uint64_t s1 = status, s2 = status + 4, s3 = status + 8;
	uint64_t desc0 = hw_stat(e, "desc"), iqe0 = hw_stat(e, "iqe");
	uint64_t irq0 = hw_stat(e, "fault.irq"), fix0 = hw_stat(e, fix_stat);
	unsigned fix_runs = strcmp(fix_stat, "desc.wait") ? 1 : 4;
	struct vtd_desc pre = wait_sw(s1, 0x1111), post = wait_sw(s2, 0x2222);
	struct vtd_desc late = wait_sw(s3, 0x3333);

	hw_wr64(e, s1, 0);
	hw_wr32(e, s3, 0);
	CHECK_EQ(t, hw_iqh(e, 0));
	CHECK_EQ(0, fsts(e));
	hw_qi_put(e, 0, &pre);
	hw_qi_put(e, 0, bad);
	hw_qi_put(e, 0, &post);
	hw_qi_kick(e, 0);
	CHECK_EQ(FSTS_IQE, fsts(e));
	CHECK_EQ(want, iqei(e));
	CHECK_EQ((t + 1) % n, hw_iqh(e, 0));
	CHECK_EQ(0x1111, hw_rd32(e, s1));
	CHECK_EQ(0, hw_rd32(e, s2));
	CHECK_EQ(desc0 + 1, hw_stat(e, "desc"));
	CHECK_EQ(iqe0 + 1, hw_stat(e, "iqe"));
	CHECK_EQ(irq0 + 1, hw_stat(e, "fault.irq"));

	/* More work while IQE is set: nothing is fetched. */
	hw_qi_put(e, 0, &late);
	hw_qi_kick(e, 0);
	CHECK_EQ((t + 1) % n, hw_iqh(e, 0));
	CHECK_EQ(0, hw_rd32(e, s3));
	CHECK_EQ(desc0 + 1, hw_stat(e, "desc"));

	put_at(e, t + 1, fix);
	clear_fsts(e, FSTS_IQE);
	CHECK_EQ(0, fsts(e));
	CHECK_EQ((t + 4) % n, hw_iqh(e, 0));
	CHECK_EQ(0x2222, hw_rd32(e, s2));
	CHECK_EQ(0x3333, hw_rd32(e, s3));
	CHECK_EQ(desc0 + 4, hw_stat(e, "desc"));
	CHECK_EQ(fix0 + fix_runs, hw_stat(e, fix_stat));
	CHECK_EQ(iqe0 + 1, hw_stat(e, "iqe"));
	return true;
}

/*
 * Reserved bits of qw0 and qw1 per type, typed in from the fact sheet
 * §13 (VT-d 6.5.2.1-6.5.2.8) for a unit without ECAP.DIT and ECAP.PDS,
 * where PFSID (types 3, 8) and PD (type 5) are reserved as well.
 */
static const uint64_t rsvd_masks[9][2] = {
	[DESC_CC] = { GENMASK_ULL(8, 6) | GENMASK_ULL(15, 12) | GENMASK_ULL(63, 50), ~0ULL },
	[DESC_IOTLB] = { BIT_ULL(8) | GENMASK_ULL(15, 12) | GENMASK_ULL(63, 32),
			 GENMASK_ULL(11, 7) },
	[DESC_DEVTLB] = { GENMASK_ULL(8, 4) | GENMASK_ULL(15, 12) | GENMASK_ULL(31, 21) |
			  GENMASK_ULL(63, 48), GENMASK_ULL(11, 1) },
	[DESC_IEC] = { GENMASK_ULL(8, 5) | GENMASK_ULL(26, 12) | GENMASK_ULL(63, 48), ~0ULL },
	[DESC_WAIT] = { GENMASK_ULL(8, 7) | GENMASK_ULL(31, 12), GENMASK_ULL(1, 0) },
	[DESC_PIOTLB] = { GENMASK_ULL(8, 6) | GENMASK_ULL(15, 12) | GENMASK_ULL(63, 52),
			  GENMASK_ULL(11, 7) },
	[DESC_PC] = { GENMASK_ULL(8, 6) | GENMASK_ULL(15, 12) | GENMASK_ULL(63, 52), ~0ULL },
	[DESC_PDEVTLB] = { GENMASK_ULL(15, 12) | GENMASK_ULL(63, 52), GENMASK_ULL(10, 1) },
};

static const char *const good_stat[9] = {
	[DESC_CC] = "desc.cc.global", [DESC_IOTLB] = "desc.iotlb.dsi",
	[DESC_DEVTLB] = "desc.devtlb", [DESC_IEC] = "desc.iec", [DESC_WAIT] = "desc.wait",
	[DESC_PIOTLB] = "desc.piotlb.pasid", [DESC_PC] = "desc.pc",
	[DESC_PDEVTLB] = "desc.pdevtlb",
};

/* A valid descriptor of @type with no reserved bit set; waits write to @scratch. */
static struct vtd_desc good_desc(unsigned type, uint64_t scratch)
{
	switch (type) {
	case DESC_CC:
		return hw_desc((struct vtd_desc_fields){ .type = type, .g = CC_G_GLOBAL });
	case DESC_IOTLB:
		return hw_desc((struct vtd_desc_fields){ .type = type, .g = IOTLB_G_DSI,
							 .did = DID_A });
	case DESC_DEVTLB:
		return hw_desc((struct vtd_desc_fields){ .type = type, .sid = SID_ATS,
							 .addr = IOVA_A });
	case DESC_IEC:
		return hw_desc((struct vtd_desc_fields){ .type = type, .g = 0 });
	case DESC_WAIT:
		return wait_sw(scratch, 0x77);
	case DESC_PIOTLB:
		return hw_desc((struct vtd_desc_fields){ .type = type, .g = PIOTLB_G_PASID,
							 .did = DID_A, .pasid = PASID1 });
	case DESC_PC:
		return hw_desc((struct vtd_desc_fields){ .type = type, .g = PC_G_GLOBAL });
	default:
		return hw_desc((struct vtd_desc_fields){ .type = DESC_PDEVTLB, .sid = SID_ATS,
							 .pasid = PASID1, .addr = IOVA_A });
	}
}

/*
 * Set each reserved bit of @type alone (qw0, qw1, and every bit of
 * qw2/qw3 in a 256-bit queue) and run reject_cycle on it. Return how many
 * bits were checked, or -1 at the first that misbehaved.
 */
static int rsvd_sweep(struct hwenv *e, uint64_t status, unsigned type)
{
	struct vtd_desc good = good_desc(type, status + 64);
	int nqw = e->u[0].wide ? 4 : 2, count = 0;
	char what[64];

	for (int q = 0; q < nqw; q++) {
		uint64_t mask = q < 2 ? rsvd_masks[type][q] : ~0ULL;

		for (int bit = 0; bit < 64; bit++) {
			struct vtd_desc bad = good;

			if (!(mask & BIT_ULL(bit)))
				continue;
			bad.qw[q] |= BIT_ULL(bit);
			snprintf(what, sizeof(what), "type %u qw%d bit %d", type, q, bit);
			if (!reject_cycle(e, status, &bad, &good, IQEI_RSVD, good_stat[type],
					  what))
				return -1;
			count++;
		}
	}
	return count;
}

static int expected_bits(unsigned type, bool wide)
{
	return __builtin_popcountll(rsvd_masks[type][0]) +
	       __builtin_popcountll(rsvd_masks[type][1]) + (wide ? 128 : 0);
}

FIXTURE(qi_rsvd) {
	struct hwenv e;
	uint64_t status;
};

FIXTURE_VARIANT(qi_rsvd) {
	const char *keys;
	bool sm;
};

FIXTURE_VARIANT_ADD(qi_rsvd, legacy_exact) { .keys = "dt=1,caching=exact" };
FIXTURE_VARIANT_ADD(qi_rsvd, legacy_adversarial) { .keys = "dt=1,caching=adversarial" };
FIXTURE_VARIANT_ADD(qi_rsvd, wide_exact) { .keys = "sm=1,dt=1,caching=exact", .sm = true };
FIXTURE_VARIANT_ADD(qi_rsvd, wide_adversarial) {
	.keys = "sm=1,dt=1,caching=adversarial", .sm = true };

FIXTURE_SETUP(qi_rsvd)
{
	hw_init(&self->e, variant->keys, 1);
	hw_add_device(&self->e, "00:02.0,ats=1");
	hw_setup(&self->e, 0, variant->sm, true);
	unmask_events(&self->e);
	ASSERT_EQ(variant->sm, self->e.u[0].wide);
	self->status = hw_alloc(&self->e);
}

FIXTURE_TEARDOWN(qi_rsvd)
{
	hw_fini(&self->e);
}

TEST_F(qi_rsvd, cc)
{
	ASSERT_EQ(expected_bits(DESC_CC, variant->sm),
		  rsvd_sweep(&self->e, self->status, DESC_CC));
}

TEST_F(qi_rsvd, iotlb)
{
	ASSERT_EQ(expected_bits(DESC_IOTLB, variant->sm),
		  rsvd_sweep(&self->e, self->status, DESC_IOTLB));
}

TEST_F(qi_rsvd, devtlb)
{
	ASSERT_EQ(expected_bits(DESC_DEVTLB, variant->sm),
		  rsvd_sweep(&self->e, self->status, DESC_DEVTLB));
}

TEST_F(qi_rsvd, iec)
{
	ASSERT_EQ(expected_bits(DESC_IEC, variant->sm),
		  rsvd_sweep(&self->e, self->status, DESC_IEC));
}

TEST_F(qi_rsvd, wait)
{
	ASSERT_EQ(expected_bits(DESC_WAIT, variant->sm),
		  rsvd_sweep(&self->e, self->status, DESC_WAIT));
}

/* The 256-bit-only types exist only on a scalable-mode unit's wide queue. */
FIXTURE(qi_rsvd_wide) {
	struct hwenv e;
	uint64_t status;
};

FIXTURE_VARIANT(qi_rsvd_wide) {
	const char *keys;
};

FIXTURE_VARIANT_ADD(qi_rsvd_wide, exact) { .keys = "sm=1,dt=1,caching=exact" };
FIXTURE_VARIANT_ADD(qi_rsvd_wide, adversarial) { .keys = "sm=1,dt=1,caching=adversarial" };

FIXTURE_SETUP(qi_rsvd_wide)
{
	hw_init(&self->e, variant->keys, 1);
	hw_add_device(&self->e, "00:02.0,ats=1");
	hw_setup(&self->e, 0, true, true);
	unmask_events(&self->e);
	self->status = hw_alloc(&self->e);
}

FIXTURE_TEARDOWN(qi_rsvd_wide)
{
	hw_fini(&self->e);
}

TEST_F(qi_rsvd_wide, piotlb)
{
	ASSERT_EQ(expected_bits(DESC_PIOTLB, true),
		  rsvd_sweep(&self->e, self->status, DESC_PIOTLB));
}

TEST_F(qi_rsvd_wide, pc)
{
	ASSERT_EQ(expected_bits(DESC_PC, true), rsvd_sweep(&self->e, self->status, DESC_PC));
}

TEST_F(qi_rsvd_wide, pdevtlb)
{
	ASSERT_EQ(expected_bits(DESC_PDEVTLB, true),
		  rsvd_sweep(&self->e, self->status, DESC_PDEVTLB));
}

/* ================================================================ */
/* 2b. The other queue errors                                        */
/* ================================================================ */

FIXTURE(qi_err) {
	struct hwenv e;
	uint64_t status;
	const char *caching;
};

FIXTURE_VARIANT(qi_err) {
	const char *caching;
};

FIXTURE_VARIANT_ADD(qi_err, exact) { .caching = "caching=exact" };
FIXTURE_VARIANT_ADD(qi_err, adversarial) { .caching = "caching=adversarial" };

FIXTURE_SETUP(qi_err)
{
	self->caching = variant->caching;
}

FIXTURE_TEARDOWN(qi_err)
{
	if (self->e.m)
		hw_fini(&self->e);
}

/* One unit with @keys plus the variant's caching, an ATS device, tables and queue. */
static void err_unit(struct hwenv *e, uint64_t *status, const char *caching, const char *keys,
		     bool sm_tables)
{
	char all[128];

	if (e->m)
		hw_fini(e);
	snprintf(all, sizeof(all), "%s%s%s", caching, *keys ? "," : "", keys);
	hw_init(e, all, 1);
	hw_add_device(e, "00:02.0,ats=1");
	hw_setup(e, 0, sm_tables, true);
	unmask_events(e);
	*status = hw_alloc(e);
}

TEST_F(qi_err, unknown_type_iqei3)
{
	/* 0, the page responses (9, 10: no ECAP.PRS), unassigned codes, Type[6:4] != 0. */
	static const uint64_t qw0[] = { 0, 9, 10, 11, 15, DESC_CC | FIELD_PREP(DESC_TYPE_HI, 1),
					DESC_WAIT | FIELD_PREP(DESC_TYPE_HI, 4) };

	for (int sm = 0; sm <= 1; sm++) {
		err_unit(&self->e, &self->status, self->caching, sm ? "sm=1,dt=1" : "dt=1", sm);
		for (size_t i = 0; i < ARRAY_SIZE(qw0); i++) {
			struct vtd_desc bad = raw_desc(qw0[i] | FIELD_PREP(CC_G, 1), 0, 0, 0);
			struct vtd_desc fix = good_desc(DESC_CC, 0);
			char what[64];

			snprintf(what, sizeof(what), "sm=%d qw0=%#llx", sm,
				 (unsigned long long)qw0[i]);
			ASSERT_TRUE(reject_cycle(&self->e, self->status, &bad, &fix, IQEI_TYPE,
						 "desc.cc.global", what));
		}
	}
}

/* Types 6-8 are 256-bit only (6.5.2): in a 128-bit queue they are invalid types. */
TEST_F(qi_err, wide_type_in_narrow_queue_iqei3)
{
	static const unsigned types[] = { DESC_PIOTLB, DESC_PC, DESC_PDEVTLB };
	/* A scalable-mode unit driven with a legacy root table and a 128-bit queue. */
	static const char *const units[] = { "sm=1,dt=1", "dt=1" };

	for (int u = 0; u < 2; u++) {
		err_unit(&self->e, &self->status, self->caching, units[u], false);
		ASSERT_FALSE(self->e.u[0].wide);
		for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
			struct vtd_desc bad = good_desc(types[i], 0);
			struct vtd_desc fix = good_desc(DESC_IOTLB, 0);
			char what[64];

			snprintf(what, sizeof(what), "unit %s type %u", units[u], types[i]);
			ASSERT_TRUE(reject_cycle(&self->e, self->status, &bad, &fix, IQEI_TYPE,
						 "desc.iotlb.dsi", what));
		}
	}
}

/*
 * Scalable-mode translation with a 128-bit queue: every descriptor is
 * invalid (6.5.2: "128-bit descriptors are treated as invalid
 * descriptors ... in scalable-mode"), reported as an invalid type.
 * The same queue works while TTM is legacy.
 */
TEST_F(qi_err, narrow_queue_under_scalable_ttm_iqei3)
{
	struct hwenv *e = &self->e;
	struct vtd_desc w;

	err_unit(e, &self->status, self->caching, "sm=1", false);
	ASSERT_FALSE(e->u[0].wide);
	w = wait_sw(self->status, 0x45);
	submit(e, &w, 1);
	ASSERT_EQ(0x45, hw_rd32(e, self->status));
	hw_set_reg64(e, 0, DMAR_RTADDR_REG, e->u[0].root | FIELD_PREP(RTADDR_TTM, TTM_SCALABLE));
	gcmd_write(e, (uint32_t)GCMD_SRTP);
	w = wait_sw(self->status + 4, 0x46);
	submit(e, &w, 1);
	EXPECT_EQ(FSTS_IQE, fsts(e));
	EXPECT_EQ(IQEI_TYPE, iqei(e));
	EXPECT_EQ(1, hw_iqh(e, 0));
	EXPECT_EQ(0, hw_rd32(e, self->status + 4));
	EXPECT_EQ(1, hw_stat(e, "desc"));
}

/* IOTLB PSI may not ask for more than 2^MAMV pages (10.4.2 MAMV); AM == MAMV is fine. */
TEST_F(qi_err, iotlb_psi_am_over_mamv_iqei4)
{
	struct vtd_desc bad = hw_desc((struct vtd_desc_fields){
		.type = DESC_IOTLB, .g = IOTLB_G_PSI, .did = DID_A, .addr = 0, .am = 4 });
	struct vtd_desc fix = hw_desc((struct vtd_desc_fields){
		.type = DESC_IOTLB, .g = IOTLB_G_PSI, .did = DID_A, .addr = 0, .am = 3 });

	err_unit(&self->e, &self->status, self->caching, "mamv=3", false);
	ASSERT_TRUE(reject_cycle(&self->e, self->status, &bad, &fix, IQEI_RSVD,
				 "desc.iotlb.psi", "am > mamv"));
}

TEST_F(qi_err, bad_granularity_iqei4)
{
	struct hwenv *e = &self->e;
	struct vtd_desc cc0 = raw_desc(DESC_CC, 0, 0, 0);
	struct vtd_desc iotlb0 = raw_desc(DESC_IOTLB | FIELD_PREP(IOTLBD_DID, DID_A), 0, 0, 0);
	struct vtd_desc fix;

	err_unit(e, &self->status, self->caching, "", false);
	fix = good_desc(DESC_CC, 0);
	ASSERT_TRUE(reject_cycle(e, self->status, &cc0, &fix, IQEI_RSVD, "desc.cc.global",
				 "cc g=0"));
	fix = good_desc(DESC_IOTLB, 0);
	ASSERT_TRUE(reject_cycle(e, self->status, &iotlb0, &fix, IQEI_RSVD, "desc.iotlb.dsi",
				 "iotlb g=0"));

	err_unit(e, &self->status, self->caching, "sm=1", true);
	for (unsigned g = 0; g <= 1; g++) {
		struct vtd_desc bad = hw_desc((struct vtd_desc_fields){
			.type = DESC_PIOTLB, .g = g, .did = DID_A, .pasid = PASID1 });

		fix = good_desc(DESC_PIOTLB, 0);
		ASSERT_TRUE(reject_cycle(e, self->status, &bad, &fix, IQEI_RSVD,
					 "desc.piotlb.pasid", g ? "piotlb g=1" : "piotlb g=0"));
	}
	{
		struct vtd_desc bad = hw_desc((struct vtd_desc_fields){
			.type = DESC_PC, .g = 2, .did = DID_A, .pasid = PASID1 });

		fix = good_desc(DESC_PC, 0);
		ASSERT_TRUE(reject_cycle(e, self->status, &bad, &fix, IQEI_RSVD, "desc.pc",
					 "pc g=2"));
	}
}

/* PFSID is reserved without ECAP.DIT (6.5.2.5, 6.5.2.6) and accepted with it. */
TEST_F(qi_err, pfsid_needs_dit)
{
	struct hwenv *e = &self->e;
	struct vtd_desc dev = hw_desc((struct vtd_desc_fields){
		.type = DESC_DEVTLB, .sid = SID_ATS, .pfsid = 0x123, .addr = IOVA_A });
	struct vtd_desc pdev = hw_desc((struct vtd_desc_fields){
		.type = DESC_PDEVTLB, .sid = SID_ATS, .pasid = PASID1, .pfsid = 0x123,
		.addr = IOVA_A });
	struct vtd_desc fix;

	ASSERT_EQ(0x3000ULL | (0x12ULL << 52), dev.qw[0] & (GENMASK_ULL(15, 12) |
							    GENMASK_ULL(63, 52)));
	err_unit(e, &self->status, self->caching, "dt=1", false);
	fix = good_desc(DESC_DEVTLB, 0);
	ASSERT_TRUE(reject_cycle(e, self->status, &dev, &fix, IQEI_RSVD, "desc.devtlb",
				 "devtlb pfsid, dit=0"));
	err_unit(e, &self->status, self->caching, "dt=1,dit=1", false);
	hw_qi(e, 0, &dev, 1, true);
	EXPECT_EQ(1, hw_stat(e, "desc.devtlb"));
	EXPECT_EQ(0, fsts(e));

	err_unit(e, &self->status, self->caching, "sm=1,dt=1", true);
	fix = good_desc(DESC_PDEVTLB, 0);
	ASSERT_TRUE(reject_cycle(e, self->status, &pdev, &fix, IQEI_RSVD, "desc.pdevtlb",
				 "pdevtlb pfsid, dit=0"));
	err_unit(e, &self->status, self->caching, "sm=1,dt=1,dit=1", true);
	hw_qi(e, 0, &pdev, 1, true);
	EXPECT_EQ(1, hw_stat(e, "desc.pdevtlb"));
	EXPECT_EQ(0, fsts(e));
}

/* PD is reserved without ECAP.PDS (6.5.2.8). */
TEST_F(qi_err, wait_pd_needs_pds)
{
	struct hwenv *e = &self->e;
	struct vtd_desc pd, fix;

	err_unit(e, &self->status, self->caching, "sm=1", true);
	pd = hw_desc((struct vtd_desc_fields){ .type = DESC_WAIT, .sw = true, .pd = true,
					       .sdata = 0x99, .addr = self->status + 64 });
	fix = wait_sw(self->status + 64, 0x98);
	ASSERT_TRUE(reject_cycle(e, self->status, &pd, &fix, IQEI_RSVD, "desc.wait",
				 "pd, pds=0"));
	EXPECT_EQ(0x98, hw_rd32(e, self->status + 64));

	err_unit(e, &self->status, self->caching, "sm=1,pds=1", true);
	pd = hw_desc((struct vtd_desc_fields){ .type = DESC_WAIT, .sw = true, .pd = true,
					       .sdata = 0x99, .addr = self->status + 64 });
	submit(e, &pd, 1);
	EXPECT_EQ(0, fsts(e));
	EXPECT_EQ(0x99, hw_rd32(e, self->status + 64));
	EXPECT_EQ(1, hw_stat(e, "wait.done"));
}

/* IQT at or past the end of the queue (IQT_REG, 6.5.2.10): IQEI 1, IQH stays. */
TEST_F(qi_err, tail_beyond_queue_iqei1)
{
	struct hwenv *e = &self->e;
	struct vtd_desc w;

	err_unit(e, &self->status, self->caching, "", false);
	w = wait_sw(self->status, 0x41);
	hw_qi_put(e, 0, &w);
	hw_set_reg64(e, 0, DMAR_IQT_REG, 256 * 16);	/* QS=0: 256 slots of 16 bytes */
	EXPECT_EQ(FSTS_IQE, fsts(e));
	EXPECT_EQ(IQEI_TAIL, iqei(e));
	EXPECT_EQ(0, hw_iqh(e, 0));
	EXPECT_EQ(0, hw_rd32(e, self->status));
	EXPECT_EQ(0, hw_stat(e, "desc"));
	/* A good tail is not acted on until IQE is cleared. */
	hw_qi_kick(e, 0);
	EXPECT_EQ(0, hw_rd32(e, self->status));
	clear_fsts(e, FSTS_IQE);
	EXPECT_EQ(0, fsts(e));
	EXPECT_EQ(0x41, hw_rd32(e, self->status));
	EXPECT_EQ(1, hw_iqh(e, 0));
}

/* DW=1 needs IQT bit 4 clear (IQT_REG, 6.5.2.10): IQEI 6. */
TEST_F(qi_err, tail_misaligned_wide_iqei6)
{
	struct hwenv *e = &self->e;
	struct vtd_desc w;

	err_unit(e, &self->status, self->caching, "sm=1", true);
	ASSERT_TRUE(e->u[0].wide);
	w = wait_sw(self->status, 0x42);
	hw_qi_put(e, 0, &w);
	hw_set_reg64(e, 0, DMAR_IQT_REG, 0x10);
	EXPECT_EQ(FSTS_IQE, fsts(e));
	EXPECT_EQ(IQEI_TAIL_ALIGN, iqei(e));
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_IQH_REG));
	EXPECT_EQ(0, hw_rd32(e, self->status));
	hw_qi_kick(e, 0);	/* IQT = 0x20 */
	EXPECT_EQ(0, hw_rd32(e, self->status));
	clear_fsts(e, FSTS_IQE);
	EXPECT_EQ(0, fsts(e));
	EXPECT_EQ(0x42, hw_rd32(e, self->status));
	EXPECT_EQ(0x20, hw_reg64(e, 0, DMAR_IQH_REG));
}

/*
 * DW=1 on a unit without scalable mode (10.4.24, IQEI 5): nothing is
 * processed. Software recovers by disabling QI on an idle queue,
 * programming DW=0 and enabling again.
 */
TEST_F(qi_err, wide_queue_without_sm_iqei5)
{
	struct hwenv *e = &self->e;
	struct hw_unit *hu = &e->u[0];
	struct vtd_desc w;

	err_unit(e, &self->status, self->caching, "", false);
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, false, (uint32_t)GSTS_QIES, false));
	hw_set_reg64(e, 0, DMAR_IQT_REG, 0);
	hw_set_reg64(e, 0, DMAR_IQA_REG, hu->iq | IQA_DW);
	gcmd_write(e, (uint32_t)GCMD_QIE);
	/* A wide wait at slot 0, IQT past it. */
	w = wait_sw(self->status, 0x43);
	for (int i = 0; i < 4; i++)
		hw_wr64(e, hu->iq + 8 * i, w.qw[i]);
	hw_set_reg64(e, 0, DMAR_IQT_REG, 0x20);
	EXPECT_EQ(FSTS_IQE, fsts(e));
	EXPECT_EQ(IQEI_WIDTH, iqei(e));
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_IQH_REG));
	EXPECT_EQ(0, hw_rd32(e, self->status));
	EXPECT_EQ(0, hw_stat(e, "desc"));

	hw_set_reg64(e, 0, DMAR_IQT_REG, 0);
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, false, (uint32_t)GSTS_QIES, false));
	hw_set_reg64(e, 0, DMAR_IQA_REG, hu->iq);
	clear_fsts(e, FSTS_IQE);
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, true, (uint32_t)GSTS_QIES, true));
	hu->tail = 0;
	hw_inv_iotlb_dsi(e, 0, DID_A);
	EXPECT_EQ(0, fsts(e));
	EXPECT_EQ(1, hw_stat(e, "desc.iotlb.dsi"));
}

/* A queue base outside memory: descriptor fetch error, IQEI 2. */
TEST_F(qi_err, fetch_outside_memory_iqei2)
{
	struct hwenv *e = &self->e;

	err_unit(e, &self->status, self->caching, "", false);
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, false, (uint32_t)GSTS_QIES, false));
	hw_set_reg64(e, 0, DMAR_IQT_REG, 0);
	hw_set_reg64(e, 0, DMAR_IQA_REG, vtdm_mem_size(e->m) + 0x10000);
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_QIE, true, (uint32_t)GSTS_QIES, true));
	EXPECT_EQ(0, fsts(e));
	hw_set_reg64(e, 0, DMAR_IQT_REG, 0x10);
	EXPECT_EQ(FSTS_IQE, fsts(e));
	EXPECT_EQ(IQEI_FETCH, iqei(e));
	EXPECT_EQ(0, hw_reg64(e, 0, DMAR_IQH_REG));
	EXPECT_EQ(0, hw_stat(e, "desc"));
}

/* RTADDR.TTM=10b is reserved: the queue reports IQEI 7 while it is latched. */
TEST_F(qi_err, reserved_ttm_iqei7)
{
	struct hwenv *e = &self->e;
	struct vtd_desc w;

	err_unit(e, &self->status, self->caching, "", false);
	hw_set_reg64(e, 0, DMAR_RTADDR_REG, e->u[0].root | FIELD_PREP(RTADDR_TTM, TTM_RSVD2));
	gcmd_write(e, (uint32_t)GCMD_SRTP);
	w = wait_sw(self->status, 0x44);
	submit(e, &w, 1);
	EXPECT_EQ(FSTS_IQE, fsts(e));
	EXPECT_EQ(IQEI_TTM, iqei(e));
	EXPECT_EQ(0, hw_iqh(e, 0));
	EXPECT_EQ(0, hw_rd32(e, self->status));
	/* Back to legacy mode, clear IQE: the wait runs. */
	hw_set_reg64(e, 0, DMAR_RTADDR_REG, e->u[0].root);
	gcmd_write(e, (uint32_t)GCMD_SRTP);
	clear_fsts(e, FSTS_IQE);
	EXPECT_EQ(0, fsts(e));
	EXPECT_EQ(0x44, hw_rd32(e, self->status));
}

/* ================================================================ */
/* 3. Wait descriptors: status write, IWC, invalidation event        */
/* ================================================================ */

FIXTURE(qi_wait) {
	struct hwenv e;
	uint64_t status;
};

FIXTURE_VARIANT(qi_wait) {
	const char *keys;
};

FIXTURE_VARIANT_ADD(qi_wait, exact) { .keys = "caching=exact" };
FIXTURE_VARIANT_ADD(qi_wait, adversarial) { .keys = "caching=adversarial" };

FIXTURE_SETUP(qi_wait)
{
	hw_init(&self->e, variant->keys, 1);
	hw_setup(&self->e, 0, false, true);
	unmask_events(&self->e);
	self->status = hw_alloc(&self->e);
}

FIXTURE_TEARDOWN(qi_wait)
{
	hw_fini(&self->e);
}

static struct vtd_desc wait_if(bool sw, uint64_t addr, uint32_t data)
{
	return hw_desc((struct vtd_desc_fields){ .type = DESC_WAIT, .iflag = true, .sw = sw,
						 .sdata = data, .addr = addr });
}

static uint32_t iectl(struct hwenv *e)
{
	return hw_reg32(e, 0, DMAR_IECTL_REG);
}

/* SW=1 writes exactly the 32-bit status data (6.5.2.8); no IF, no event. */
TEST_F(qi_wait, sw_writes_status_dword_only)
{
	struct hwenv *e = &self->e;
	struct vtd_desc w = wait_sw(self->status + 8, 0x12345678);

	hw_wr64(e, self->status, ~0ULL);
	hw_wr64(e, self->status + 8, ~0ULL);
	hw_wr64(e, self->status + 16, ~0ULL);
	submit(e, &w, 1);
	EXPECT_EQ(0xffffffff12345678ULL, hw_rd64(e, self->status + 8));
	EXPECT_EQ(~0ULL, hw_rd64(e, self->status));
	EXPECT_EQ(~0ULL, hw_rd64(e, self->status + 16));
	EXPECT_EQ(0, hw_reg32(e, 0, DMAR_ICS_REG));
	EXPECT_EQ(0, hw_stat(e, "inv.irq"));
	EXPECT_EQ(1, hw_stat(e, "wait.done"));
}

/* IF=1: ICS.IWC and one event; another IF with IWC still set gives none (10.4.24). */
TEST_F(qi_wait, if_sets_iwc_and_raises_event_once)
{
	struct hwenv *e = &self->e;
	struct vtd_desc w1 = wait_if(true, self->status, 1), w2 = wait_if(false, 0, 0);

	submit(e, &w1, 1);
	EXPECT_EQ(1, hw_rd32(e, self->status));
	EXPECT_EQ(ICS_IWC, hw_reg32(e, 0, DMAR_ICS_REG));
	EXPECT_EQ(1, hw_stat(e, "inv.irq"));
	EXPECT_EQ(0, iectl(e));
	submit(e, &w2, 1);
	EXPECT_EQ(ICS_IWC, hw_reg32(e, 0, DMAR_ICS_REG));
	EXPECT_EQ(1, hw_stat(e, "inv.irq"));
	EXPECT_EQ(2, hw_stat(e, "wait.done"));
	/* IWC is write-1-to-clear; the next IF raises a new event. */
	hw_set_reg32(e, 0, DMAR_ICS_REG, ICS_IWC);
	EXPECT_EQ(0, hw_reg32(e, 0, DMAR_ICS_REG));
	submit(e, &w2, 1);
	EXPECT_EQ(ICS_IWC, hw_reg32(e, 0, DMAR_ICS_REG));
	EXPECT_EQ(2, hw_stat(e, "inv.irq"));
}

/* IECTL.IM=1: IP is set instead, and the event fires when IM is cleared (10.4.25). */
TEST_F(qi_wait, masked_event_pends_until_unmasked)
{
	struct hwenv *e = &self->e;
	struct vtd_desc w = wait_if(false, 0, 0);

	hw_set_reg32(e, 0, DMAR_IECTL_REG, ECTL_IM);
	submit(e, &w, 1);
	EXPECT_EQ(ICS_IWC, hw_reg32(e, 0, DMAR_ICS_REG));
	EXPECT_EQ(ECTL_IM | ECTL_IP, iectl(e));
	EXPECT_EQ(0, hw_stat(e, "inv.irq"));
	hw_set_reg32(e, 0, DMAR_IECTL_REG, 0);
	EXPECT_EQ(0, iectl(e));
	EXPECT_EQ(1, hw_stat(e, "inv.irq"));
	EXPECT_EQ(ICS_IWC, hw_reg32(e, 0, DMAR_ICS_REG));
}

/* Clearing ICS.IWC clears a pending IECTL.IP: unmasking then sends nothing. */
TEST_F(qi_wait, clearing_iwc_clears_ip)
{
	struct hwenv *e = &self->e;
	struct vtd_desc w = wait_if(false, 0, 0);

	hw_set_reg32(e, 0, DMAR_IECTL_REG, ECTL_IM);
	submit(e, &w, 1);
	ASSERT_EQ(ECTL_IM | ECTL_IP, iectl(e));
	hw_set_reg32(e, 0, DMAR_ICS_REG, ICS_IWC);
	EXPECT_EQ(0, hw_reg32(e, 0, DMAR_ICS_REG));
	EXPECT_EQ(ECTL_IM, iectl(e));
	hw_set_reg32(e, 0, DMAR_IECTL_REG, 0);
	EXPECT_EQ(0, iectl(e));
	EXPECT_EQ(0, hw_stat(e, "inv.irq"));
}

/* IP is read-only: software cannot set it. */
TEST_F(qi_wait, ip_is_read_only)
{
	struct hwenv *e = &self->e;

	hw_set_reg32(e, 0, DMAR_IECTL_REG, ECTL_IP);
	EXPECT_EQ(0, iectl(e));
	hw_set_reg32(e, 0, DMAR_ICS_REG, 0);
	EXPECT_EQ(0, hw_reg32(e, 0, DMAR_ICS_REG));
	EXPECT_EQ(0, hw_stat(e, "inv.irq"));
}

/* SW and IF together: status written and IWC set by the same descriptor. */
TEST_F(qi_wait, sw_and_if_together)
{
	struct hwenv *e = &self->e;
	struct vtd_desc w = wait_if(true, self->status, 0xabcdef01);

	submit(e, &w, 1);
	EXPECT_EQ(0xabcdef01, hw_rd32(e, self->status));
	EXPECT_EQ(ICS_IWC, hw_reg32(e, 0, DMAR_ICS_REG));
	EXPECT_EQ(1, hw_stat(e, "inv.irq"));
	EXPECT_EQ(1, hw_stat(e, "desc.wait"));
}

/* ================================================================ */
/* 4. Device-TLB time-outs (ITE), bad completions (ICE), fences      */
/* ================================================================ */

FIXTURE(qi_ite) {
	struct hwenv e;
	uint64_t status, root, a, b;
};

FIXTURE_VARIANT(qi_ite) {
	const char *keys;
};

FIXTURE_VARIANT_ADD(qi_ite, exact) { .keys = "dt=1,caching=exact" };
FIXTURE_VARIANT_ADD(qi_ite, adversarial) { .keys = "dt=1,caching=adversarial" };

FIXTURE_SETUP(qi_ite)
{
	struct hwenv *e = &self->e;

	hw_init(e, variant->keys, 1);
	hw_add_device(e, "00:02.0,ats=1,unresponsive=1");
	hw_add_device(e, "00:03.0,ats=1,badcompl=1");
	hw_add_device(e, "00:04.0");
	hw_setup(e, 0, false, true);
	unmask_events(e);
	hw_ctx(e, 0, SID_DMA, DID_A, 4, CTX_TT_UNTRANSLATED, &self->root);
	self->a = page_with(e, VAL_A);
	self->b = page_with(e, VAL_B);
	hw_map_ss(e, self->root, 4, IOVA_A, self->a, 4096, HW_PERM_RW);
	self->status = hw_alloc(e);
}

FIXTURE_TEARDOWN(qi_ite)
{
	hw_fini(&self->e);
}

static struct vtd_desc devtlb_to(uint16_t sid)
{
	return hw_desc((struct vtd_desc_fields){ .type = DESC_DEVTLB, .sid = sid,
						 .addr = IOVA_A });
}

/*
 * [devtlb to @sid, wait SW+IF]: the wait stays pending; past the time-out
 * FSTS.ITE is set with ITESID, the wait is aborted (never written, no
 * IWC), and after ITE is cleared the queue works again.
 */
static void ite_case(struct hwenv *e, uint64_t status, uint16_t sid)
{
	struct vtd_desc d[2] = { devtlb_to(sid), wait_if(true, status, 0x5a) };
	uint64_t abort0 = hw_stat(e, "wait.abort"), ite0 = hw_stat(e, "ite");

	hw_wr32(e, status, 0);
	submit(e, d, 2);
	EXPECT_EQ(0, hw_rd32(e, status));
	EXPECT_EQ(0, fsts(e));
	vtdm_clock_step(e->m, ITE_NS / 2);
	EXPECT_EQ(0, fsts(e));
	EXPECT_EQ(0, hw_rd32(e, status));
	vtdm_clock_step(e->m, ITE_NS / 2 + ITE_NS / 10);
	EXPECT_EQ(FSTS_ITE, fsts(e));
	EXPECT_EQ(sid, FIELD_GET(IQER_ITESID, iqer(e)));
	EXPECT_EQ(ite0 + 1, hw_stat(e, "ite"));
	EXPECT_EQ(abort0 + 1, hw_stat(e, "wait.abort"));
	EXPECT_EQ(0, hw_stat(e, "wait.done"));
	EXPECT_EQ(0, hw_rd32(e, status));
	EXPECT_EQ(0, hw_reg32(e, 0, DMAR_ICS_REG));
	EXPECT_EQ(0, hw_stat(e, "inv.irq"));
	/* Software clears ITE; the aborted wait never completes. */
	clear_fsts(e, FSTS_ITE);
	EXPECT_EQ(0, fsts(e));
	vtdm_clock_step(e->m, 2 * ITE_NS);
	EXPECT_EQ(0, hw_rd32(e, status));
	EXPECT_EQ(0, fsts(e));
	/* A new submission works. */
	hw_inv_iotlb_dsi(e, 0, DID_A);
	EXPECT_EQ(1, hw_stat(e, "wait.done"));
	EXPECT_EQ(0, fsts(e));
	EXPECT_EQ(abort0 + 1, hw_stat(e, "wait.abort"));
}

TEST_F(qi_ite, unresponsive_device_times_out)
{
	ite_case(&self->e, self->status, SID_ATS);
	EXPECT_EQ(1, hw_stat(&self->e, "dev.00:02.0.inv.req"));
	EXPECT_EQ(1, hw_stat(&self->e, "dev.00:02.0.inv.dropped"));
	/* The ITE event was the first pending condition. */
	EXPECT_EQ(1, hw_stat(&self->e, "fault.irq"));
}

TEST_F(qi_ite, non_ats_device_times_out)
{
	ite_case(&self->e, self->status, SID_NOATS);
	EXPECT_EQ(1, hw_stat(&self->e, "dev.00:04.0.inv.dropped"));
}

TEST_F(qi_ite, absent_device_times_out)
{
	ite_case(&self->e, self->status, SID_NONE);
}

/* Nothing is fetched while ITE is set (6.5.2.10). */
TEST_F(qi_ite, no_fetch_while_ite_set)
{
	struct hwenv *e = &self->e;
	struct vtd_desc d = devtlb_to(SID_ATS), w = wait_sw(self->status + 4, 0x61);

	submit(e, &d, 1);
	vtdm_clock_step(e->m, 2 * ITE_NS);
	ASSERT_EQ(FSTS_ITE, fsts(e));
	submit(e, &w, 1);
	EXPECT_EQ(0, hw_rd32(e, self->status + 4));
	EXPECT_EQ(1, hw_stat(e, "desc"));
	clear_fsts(e, FSTS_ITE);
	EXPECT_EQ(0x61, hw_rd32(e, self->status + 4));
	EXPECT_EQ(2, hw_stat(e, "desc"));
}

/* An invalid completion sets FSTS.ICE with the device in IQERCD.ICESID. */
TEST_F(qi_ite, bad_completion_sets_ice)
{
	struct hwenv *e = &self->e;
	struct vtd_desc d = devtlb_to(SID_BAD);

	submit(e, &d, 1);
	EXPECT_EQ(FSTS_ICE, fsts(e) & (FSTS_ICE | FSTS_IQE));
	EXPECT_EQ(SID_BAD, FIELD_GET(IQER_ICESID, iqer(e)));
	EXPECT_EQ(1, hw_stat(e, "ice"));
	EXPECT_EQ(1, hw_stat(e, "fault.irq"));
	EXPECT_EQ(1, hw_stat(e, "dev.00:03.0.inv.req"));
	clear_fsts(e, FSTS_ICE);
	EXPECT_EQ(0, fsts(e) & FSTS_ICE);
}

/*
 * FN (6.5.2.8): [devtlb to an unresponsive device, wait FN=@fn, IOTLB PSI
 * of a stale page, wait]. FN=0 lets the PSI run while the first wait is
 * pending; FN=1 holds it until the time-out is handled.
 */
static void fence_case(struct hwenv *e, uint64_t status, uint64_t root, uint64_t b, bool fn)
{
	struct vtd_desc q[4] = {
		devtlb_to(SID_ATS),
		hw_desc((struct vtd_desc_fields){ .type = DESC_WAIT, .sw = true, .fn = fn,
						  .sdata = 0x71, .addr = status }),
		hw_desc((struct vtd_desc_fields){ .type = DESC_IOTLB, .g = IOTLB_G_PSI,
						  .did = DID_A, .addr = IOVA_A }),
		wait_sw(status + 4, 0x72),
	};

	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	ss_retarget(e, root, IOVA_A, b);
	ASSERT_EQ(VAL_A, rd(e, SID_DMA, IOVA_A));
	submit(e, q, 4);
	EXPECT_EQ(0, hw_rd32(e, status));
	EXPECT_EQ(0, hw_rd32(e, status + 4));
	EXPECT_EQ(fn ? 0 : 1, hw_stat(e, "desc.iotlb.psi"));
	EXPECT_EQ(fn ? VAL_A : VAL_B, rd(e, SID_DMA, IOVA_A));

	vtdm_clock_step(e->m, 2 * ITE_NS);
	EXPECT_EQ(FSTS_ITE, fsts(e));
	EXPECT_EQ(fn ? 1 : 2, hw_stat(e, "wait.abort"));
	EXPECT_EQ(fn ? VAL_A : VAL_B, rd(e, SID_DMA, IOVA_A));

	clear_fsts(e, FSTS_ITE);
	EXPECT_EQ(0, fsts(e));
	EXPECT_EQ(1, hw_stat(e, "desc.iotlb.psi"));
	EXPECT_EQ(VAL_B, rd(e, SID_DMA, IOVA_A));
	EXPECT_EQ(0, hw_rd32(e, status));
	/* With FN=1 the last wait ran after the resume; with FN=0 it was aborted. */
	EXPECT_EQ(fn ? 0x72 : 0, hw_rd32(e, status + 4));
	EXPECT_EQ(fn ? 1 : 0, hw_stat(e, "wait.done"));
}

TEST_F(qi_ite, fence_clear_lets_later_descriptors_run)
{
	fence_case(&self->e, self->status, self->root, self->b, false);
}

TEST_F(qi_ite, fence_set_holds_later_descriptors)
{
	fence_case(&self->e, self->status, self->root, self->b, true);
}
