/*
 * test_model_faults.c — every translation fault reason the model raises
 * (src/fmt/fault.h), each provoked by a DMA or translation request that
 * would otherwise reach a stamped page: the DMA reports the reason, the
 * FRCD records it with SID, PASID, page and type, and no data moves.
 * Legacy codes 0x1..0xD, then the scalable-mode groups.
 *
 * Not reachable in the model, so not tested here: 0x86 (SGN.7, read
 * without read permission) — a present first-stage entry always grants
 * read and second-stage denials are SSS.2 (0x79); codes fault.h does not
 * list (0xE, 0x32, 0x33, 0x47, 0x48, 0x5C, 0x74-0x77, 0x7C, 0x7D, 0x82,
 * 0x84, 0x87-0x91) belong to features the model does not have (interrupt
 * ranges, page requests, execute requests, nesting, A/D bits).
 */
#include "xlate_util.h"

#define SID_A	0x0008	/* 00:01.0 */
#define SID_B	0x0010	/* 00:02.0 */
#define VA	0x10000ULL
#define STAMP	0x600dULL

/* SID_A: a 4-level context (DID 1) mapping VA to a fresh stamped page, RW. */
static uint64_t std_legacy(struct hwenv *e, int levels, uint64_t *root)
{
	uint64_t page = hw_alloc(e);

	hw_ctx(e, 0, SID_A, 1, levels, CTX_TT_UNTRANSLATED, root);
	hw_map_ss(e, *root, levels, VA, page, SZ_4K, HW_PERM_RW);
	xl_stamp(e, page, STAMP);
	return page;
}

FIXTURE(xlate_fault) {
	struct hwenv e;
	uint64_t root, page;
};

FIXTURE_VARIANT(xlate_fault) {
	const char *keys;
};

FIXTURE_VARIANT_ADD(xlate_fault, exact) { "caching=exact,dt=1" };
FIXTURE_VARIANT_ADD(xlate_fault, adversarial) { "caching=adversarial,dt=1" };

FIXTURE_SETUP(xlate_fault)
{
	xl_boot(&self->e, variant->keys, NULL, false);
	self->page = std_legacy(&self->e, 4, &self->root);
}

FIXTURE_TEARDOWN(xlate_fault)
{
	hw_fini(&self->e);
}

/* Start again on a unit with @extra keys, with the standard SID_A context. */
#define reboot_legacy(extra, levels)						\
	do {									\
		xl_boot(&self->e, variant->keys, extra, false);			\
		self->page = std_legacy(&self->e, levels, &self->root);		\
	} while (0)

TEST_F(xlate_fault, root_not_present_0x1)
{
	ASSERT_TRUE(xl_fault_rw(&self->e, 0x0500, VTD_NO_PASID, VA, self->page, FR_ROOT_P));
	ASSERT_EQ(STAMP, xl_rd(&self->e, SID_A, VTD_NO_PASID, VA, NULL));
}

TEST_F(xlate_fault, context_not_present_0x2)
{
	ASSERT_TRUE(xl_fault_rw(&self->e, 0x0009, VTD_NO_PASID, VA, self->page, FR_CTX_P));
	ASSERT_EQ(STAMP, xl_rd(&self->e, SID_A, VTD_NO_PASID, VA, NULL));
}

/* LCT.4.1: AW not in SAGAW (5-level on a 4-level unit, the reserved encodings). */
TEST_F(xlate_fault, context_aw_not_in_sagaw_0x3)
{
	struct hwenv *e = &self->e;
	uint64_t root5, hi = hw_ctx_addr(e, 0, SID_A) + 8;

	hw_ctx(e, 0, SID_B, 2, 5, CTX_TT_UNTRANSLATED, &root5);
	hw_map_ss(e, root5, 5, VA, self->page, SZ_4K, HW_PERM_RW);
	ASSERT_TRUE(xl_fault_rw(e, SID_B, VTD_NO_PASID, VA, self->page, FR_CTX_INV));
	for (unsigned aw = 0; aw <= 7; aw++) {
		if (aw == 1 || aw == 2)
			continue;
		xl_modify(e, hi, FIELD_PREP(CTX_AW, aw), CTX_AW);
		ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, VA, true, self->page, FR_CTX_INV));
	}
	/* A 3-level unit refuses 4-level contexts. */
	xl_boot(e, variant->keys, "levels=3", false);
	self->page = std_legacy(e, 4, &self->root);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_CTX_INV));
}

/* LCT.4.2: TT=3 is reserved; TT=1 needs ECAP.DT; TT=2 needs ECAP.PT. */
TEST_F(xlate_fault, context_tt_invalid_0x3)
{
	struct hwenv *e = &self->e;
	uint64_t lo = hw_ctx_addr(e, 0, SID_A);

	xl_modify(e, lo, FIELD_PREP(CTX_TT, CTX_TT_RSVD), 0);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_CTX_INV));

	reboot_legacy("dt=0", 4);
	xl_modify(e, hw_ctx_addr(e, 0, SID_A), FIELD_PREP(CTX_TT, CTX_TT_DEVTLB), CTX_TT);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_CTX_INV));

	reboot_legacy("pt=0", 4);
	xl_modify(e, hw_ctx_addr(e, 0, SID_A), FIELD_PREP(CTX_TT, CTX_TT_PASSTHROUGH), CTX_TT);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, self->page, self->page, FR_CTX_INV));
}

/* LGN.1: an address above the context's AGAW, or above MGAW. */
TEST_F(xlate_fault, address_above_agaw_0x4)
{
	struct hwenv *e = &self->e;
	uint64_t root3, p = hw_alloc(e);

	hw_ctx(e, 0, SID_B, 2, 3, CTX_TT_UNTRANSLATED, &root3);
	hw_map_ss(e, root3, 3, (1ULL << 39) - SZ_4K, p, SZ_4K, HW_PERM_RW);
	hw_map_ss(e, root3, 3, VA, self->page, SZ_4K, HW_PERM_RW);
	xl_stamp(e, p + 0xff8, 0x39);
	ASSERT_EQ(0x39, xl_rd(e, SID_B, VTD_NO_PASID, (1ULL << 39) - 8, NULL));
	ASSERT_TRUE(xl_fault_rw(e, SID_B, VTD_NO_PASID, (1ULL << 39) | VA, self->page,
				FR_ADDR_WIDTH));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, (1ULL << 48) | VA, self->page,
				FR_ADDR_WIDTH));
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, (1ULL << 63) | VA, true, self->page,
			     FR_ADDR_WIDTH));
}

TEST_F(xlate_fault, write_denied_0x5)
{
	struct hwenv *e = &self->e;

	hw_map_ss(e, self->root, 4, VA + SZ_4K, self->page, SZ_4K, HW_PERM_R);
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, VTD_NO_PASID, VA + SZ_4K, NULL));
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, VA + SZ_4K, true, self->page, FR_WRITE));
	/* A not-present leaf, and a not-present upper level, deny writes with 0x5 too. */
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, VA + 2 * SZ_4K, true, self->page, FR_WRITE));
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 1ULL << 39, true, self->page, FR_WRITE));
}

TEST_F(xlate_fault, read_denied_0x6)
{
	struct hwenv *e = &self->e;

	hw_map_ss(e, self->root, 4, VA + SZ_4K, self->page, SZ_4K, HW_PERM_W);
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, VA + SZ_4K, false, self->page, FR_READ));
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, VA + 2 * SZ_4K, false, self->page, FR_READ));
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 1ULL << 39, false, self->page, FR_READ));
}

/* LSL.1: a second-stage table outside RAM, below the root and at the root. */
TEST_F(xlate_fault, table_access_0x7)
{
	struct hwenv *e = &self->e;
	uint64_t root_b;

	xl_put(e, hw_pte_addr(e, self->root, 4, VA, 2, false), (RAM_END + 0x5000) | SSPTE_R | SSPTE_W);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_PTE_ACCESS));

	hw_ctx(e, 0, SID_B, 2, 4, CTX_TT_UNTRANSLATED, &root_b);
	xl_modify(e, hw_ctx_addr(e, 0, SID_B), RAM_END, CTX_SLPTPTR);
	ASSERT_TRUE(xl_fault_rw(e, SID_B, VTD_NO_PASID, VA, self->page, FR_PTE_ACCESS));
}

/* LRT.1: the root table outside RAM. */
TEST_F(xlate_fault, root_table_access_0x8)
{
	struct hwenv *e = &self->e;

	hw_set_reg64(e, 0, DMAR_RTADDR_REG, RAM_END);
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_SRTP, true, (uint32_t)GSTS_RTPS, true));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_ROOT_ACCESS));
}

/* LCT.1: a context table outside RAM. */
TEST_F(xlate_fault, context_table_access_0x9)
{
	struct hwenv *e = &self->e;

	xl_put(e, xl_root_addr(e, SID_A), RAM_END | ROOT_P);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_CTX_ACCESS));
}

/* LRT.3: root qw0 bits 11:1 and every bit of qw1 are reserved, and CTP above HAW. */
TEST_F(xlate_fault, root_reserved_0xa)
{
	struct hwenv *e = &self->e;
	uint64_t re = xl_root_addr(e, SID_A), good = hw_rd64(e, re);
	static const uint64_t lo_bits[] = { BIT_ULL(1), BIT_ULL(11), BIT_ULL(46), BIT_ULL(51) };

	for (unsigned i = 0; i < sizeof(lo_bits) / sizeof(lo_bits[0]); i++) {
		xl_put(e, re, good | lo_bits[i]);
		ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_ROOT_RSVD));
	}
	xl_put(e, re, good);
	xl_put(e, re + 8, BIT_ULL(63));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_ROOT_RSVD));
	xl_put(e, re + 8, 0);
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, VTD_NO_PASID, VA, NULL));
}

/* LCT.3: context reserved fields, SLPTPTR above HAW, and a DID beyond CAP.ND. */
TEST_F(xlate_fault, context_reserved_0xb)
{
	struct hwenv *e = &self->e;
	uint64_t ce = hw_ctx_addr(e, 0, SID_A), lo = hw_rd64(e, ce), hi = hw_rd64(e, ce + 8);
	static const uint64_t lo_bits[] = { BIT_ULL(4), BIT_ULL(11), BIT_ULL(46) };
	static const uint64_t hi_bits[] = { BIT_ULL(7), BIT_ULL(24), BIT_ULL(63) };

	for (unsigned i = 0; i < 3; i++) {
		xl_put(e, ce, lo | lo_bits[i]);
		ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_CTX_RSVD));
	}
	xl_put(e, ce, lo);
	for (unsigned i = 0; i < 3; i++) {
		xl_put(e, ce + 8, hi | hi_bits[i]);
		ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_CTX_RSVD));
	}
	/* The available bits 6:3 are ignored. */
	xl_put(e, ce + 8, hi | CTX_AVAIL);
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, VTD_NO_PASID, VA, NULL));

	/* nd=0: 16 domain ids, so DID 16 is out of range; DID 15 is fine. */
	xl_boot(e, variant->keys, "nd=0", false);
	self->page = std_legacy(e, 4, &self->root);
	ce = hw_ctx_addr(e, 0, SID_A);
	xl_modify(e, ce + 8, FIELD_PREP(CTX_DID, 16), CTX_DID);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_CTX_RSVD));
	xl_modify(e, ce + 8, FIELD_PREP(CTX_DID, 15), CTX_DID);
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, VTD_NO_PASID, VA, NULL));
}

/* LSL.2: PS=1 at a level CAP.SLLPS does not allow, or at level 4. */
TEST_F(xlate_fault, pte_large_page_not_supported_0xc)
{
	struct hwenv *e = &self->e;
	uint64_t pml4e = hw_pte_addr(e, self->root, 4, VA, 4, false);

	xl_modify(e, pml4e, SSPTE_PS, 0);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_PTE_RSVD));

	reboot_legacy("sllps=0", 4);
	hw_map_ss(e, self->root, 4, 0x200000, PA_2M(1), SZ_2M, HW_PERM_RW);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, 0x200000, PA_2M(1), FR_PTE_RSVD));

	reboot_legacy("sllps=1", 4);
	hw_map_ss(e, self->root, 4, 0x200000, PA_2M(1), SZ_2M, HW_PERM_RW);
	hw_map_ss(e, self->root, 4, SZ_1G, 0, SZ_1G, HW_PERM_RW);
	ASSERT_EQ(PA_2M(1) + 8, xl_pa(e, SID_A, VTD_NO_PASID, 0x200008));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, SZ_1G + 0x1000, self->page, FR_PTE_RSVD));
}

/* LSL.2: reserved bits of present entries (9.8). */
TEST_F(xlate_fault, pte_reserved_bits_0xc)
{
	struct hwenv *e = &self->e;
	uint64_t pte = hw_pte_addr(e, self->root, 4, VA, 1, false), good = hw_rd64(e, pte);
	uint64_t pde = hw_pte_addr(e, self->root, 4, VA, 2, false), pde_good = hw_rd64(e, pde);
	uint64_t leaf2m;

	/* Leaf: SNP without ECAP.SC, address above HAW. */
	static const uint64_t leaf_bits[] = { SSPTE_SNP, BIT_ULL(46), BIT_ULL(51) };

	for (unsigned i = 0; i < 3; i++) {
		xl_put(e, pte, good | leaf_bits[i]);
		ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_PTE_RSVD));
	}
	/*
	 * TM (bit 62) is allowed in a leaf with ECAP.DT, reserved in a table
	 * entry. The walks above cached the PDE: drop it (DSI) after the change.
	 */
	xl_put(e, pte, good);
	xl_put(e, pde, pde_good | SSPTE_TM);
	hw_inv_iotlb_dsi(e, 0, 1);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_PTE_RSVD));
	xl_put(e, pde, pde_good);
	xl_put(e, pte, good | SSPTE_TM);
	hw_inv_iotlb_dsi(e, 0, 1);
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, VTD_NO_PASID, VA, NULL));

	/* 2M leaf: address bits 20:12 are reserved. */
	hw_map_ss(e, self->root, 4, 0x40000000, PA_2M(1), SZ_2M, HW_PERM_RW);
	leaf2m = hw_pte_addr(e, self->root, 4, 0x40000000, 2, false);
	xl_modify(e, leaf2m, BIT_ULL(12), 0);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, 0x40000000, PA_2M(1), FR_PTE_RSVD));
	xl_modify(e, leaf2m, BIT_ULL(20), BIT_ULL(12));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, 0x40000000, PA_2M(1), FR_PTE_RSVD));

	/* Without ECAP.DT, TM is reserved in leaves too; with ECAP.SC, SNP is allowed. */
	reboot_legacy("dt=0,sc=1", 4);
	pte = hw_pte_addr(e, self->root, 4, VA, 1, false);
	xl_modify(e, pte, SSPTE_TM, 0);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->page, FR_PTE_RSVD));
	xl_modify(e, pte, SSPTE_SNP, SSPTE_TM);
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, VTD_NO_PASID, VA, NULL));
}

/* LCT.5: a translation request (ATS) through a TT=0 context. */
TEST_F(xlate_fault, translation_request_blocked_by_tt_0xd)
{
	struct hwenv *e = &self->e;
	struct vtdm_xlate x;
	uint64_t root_b;

	hw_add_device(e, "00:02.0,ats=1");
	hw_ctx(e, 0, SID_B, 2, 4, CTX_TT_UNTRANSLATED, &root_b);
	hw_map_ss(e, root_b, 4, VA, self->page, SZ_4K, HW_PERM_RW);
	ASSERT_EQ(1, vtdm_ats_translate(e->m, SID_B, VTD_NO_PASID, VA + 0x123, &x));
	ASSERT_EQ(FR_CTX_TT, x.fault);
	ASSERT_TRUE(x.recorded);
	ASSERT_FALSE(x.r || x.w);
	ASSERT_TRUE(xl_frcd(e, FR_CTX_TT, SID_B, VTD_NO_PASID, VA, FRCD_TYPE_TRANSLATE));
	ASSERT_EQ(0, xl_stat(e, "dev.00:02.0.atc.fill"));
}

/*
 * LCT.5: a translated request (from the device TLB) through a TT=0
 * context; the record holds the translated address.
 */
TEST_F(xlate_fault, translated_request_blocked_by_tt_0xd)
{
	struct hwenv *e = &self->e;
	struct vtdm_xlate x;
	uint64_t root_b, v = 0x1111;

	hw_add_device(e, "00:02.0,ats=1");
	hw_ctx(e, 0, SID_B, 2, 4, CTX_TT_DEVTLB, &root_b);
	hw_map_ss(e, root_b, 4, VA, self->page, SZ_4K, HW_PERM_RW);
	ASSERT_EQ(STAMP, xl_rd(e, SID_B, VTD_NO_PASID, VA, &x));
	ASSERT_TRUE(x.from_atc);
	/* Software moves the device to TT=0 and flushes the unit, not the device TLB. */
	xl_modify(e, hw_ctx_addr(e, 0, SID_B), 0, CTX_TT);
	hw_inv_ctx_global(e, 0);
	xl_inv(e, (struct vtd_desc_fields){ .type = DESC_IOTLB, .g = IOTLB_G_GLOBAL });
	ASSERT_EQ(1, vtdm_dma(e->m, SID_B, VTD_NO_PASID, VA + 8, &v, 8, true, &x));
	ASSERT_EQ(FR_CTX_TT, x.fault);
	ASSERT_TRUE(x.recorded);
	ASSERT_EQ(STAMP, hw_rd64(e, self->page));
	ASSERT_EQ(0, hw_rd64(e, self->page + 8));
	ASSERT_TRUE(xl_frcd(e, FR_CTX_TT, SID_B, VTD_NO_PASID, self->page, FRCD_TYPE_WRITE));
}

/* FPD=1 in the context entry: the fault still blocks the DMA, but nothing is recorded. */
TEST_F(xlate_fault, fpd_suppresses_recording)
{
	struct hwenv *e = &self->e;
	uint64_t v = 0x5a5a;
	struct vtdm_xlate x;

	xl_modify(e, hw_ctx_addr(e, 0, SID_A), CTX_FPD, 0);
	ASSERT_EQ(1, vtdm_dma(e->m, SID_A, VTD_NO_PASID, VA + SZ_4K, &v, 8, true, &x));
	ASSERT_EQ(FR_WRITE, x.fault);
	ASSERT_FALSE(x.recorded);
	ASSERT_TRUE(xl_no_frcd(e));
	ASSERT_EQ(1, xl_stat(e, "fault"));
	ASSERT_EQ(0, xl_stat(e, "fault.recorded"));
}

/* ---- Scalable mode ---- */

#define PASID_FS	5

/*
 * SID_A: PASIDE=1, RID_PASID 0 a second-stage entry (DID 1), PASID 5 a
 * first-stage entry (DID 2); both map VA to the same stamped page.
 */
struct sm_std {
	uint64_t ss_root, fs_root, page;
};

static struct sm_std std_sm(struct hwenv *e)
{
	struct sm_std s = { .page = hw_alloc(e) };

	hw_sm_ctx(e, 0, SID_A, 0, false, true);
	hw_pasid(e, 0, SID_A, 0, PGTT_SS, 1, 4, &s.ss_root);
	hw_pasid(e, 0, SID_A, PASID_FS, PGTT_FS, 2, 4, &s.fs_root);
	hw_map_ss(e, s.ss_root, 4, VA, s.page, SZ_4K, HW_PERM_RW);
	hw_map_fs(e, s.fs_root, 4, VA, s.page, SZ_4K, HW_PERM_RW, true);
	xl_stamp(e, s.page, STAMP);
	return s;
}

FIXTURE(xlate_fault_sm) {
	struct hwenv e;
	struct sm_std s;
};

FIXTURE_VARIANT(xlate_fault_sm) {
	const char *keys;
};

FIXTURE_VARIANT_ADD(xlate_fault_sm, exact) { "caching=exact,sm=1,dt=1" };
FIXTURE_VARIANT_ADD(xlate_fault_sm, adversarial) { "caching=adversarial,sm=1,dt=1" };

FIXTURE_SETUP(xlate_fault_sm)
{
	xl_boot(&self->e, variant->keys, NULL, true);
	self->s = std_sm(&self->e);
}

FIXTURE_TEARDOWN(xlate_fault_sm)
{
	hw_fini(&self->e);
}

#define reboot_sm(extra)							\
	do {									\
		xl_boot(&self->e, variant->keys, extra, true);			\
		self->s = std_sm(&self->e);					\
	} while (0)

/* Both requests of the standard context (with and without PASID) fault with @reason. */
static bool both_fault(struct hwenv *e, uint16_t sid, uint64_t watch, unsigned reason)
{
	return xl_fault_rw(e, sid, VTD_NO_PASID, VA, watch, reason) &&
	       xl_fault_rw(e, sid, PASID_FS, VA, watch, reason);
}

static void set_rtaddr(struct hwenv *e, uint64_t val)
{
	hw_set_reg64(e, 0, DMAR_RTADDR_REG, val);
	ASSERT_EQ(0, _hw_gcmd(e, 0, (uint32_t)GCMD_SRTP, true, (uint32_t)GSTS_RTPS, true));
}

/* RTA.1: TTM=10 (reserved), TTM=11 without ECAP.ADMS, TTM=01 without ECAP.SMTS. */
TEST_F(xlate_fault_sm, ttm_invalid_0x30)
{
	struct hwenv *e = &self->e;
	uint64_t root = e->u[0].root;

	set_rtaddr(e, root | FIELD_PREP(RTADDR_TTM, TTM_RSVD2));
	ASSERT_TRUE(both_fault(e, SID_A, self->s.page, FR_SM_TTM));
	set_rtaddr(e, root | FIELD_PREP(RTADDR_TTM, TTM_ABORT));
	ASSERT_TRUE(both_fault(e, SID_A, self->s.page, FR_SM_TTM));
	set_rtaddr(e, root | FIELD_PREP(RTADDR_TTM, TTM_SCALABLE));
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, PASID_FS, VA, NULL));

	xl_boot(e, variant->keys, "sm=0", false);
	set_rtaddr(e, e->u[0].root | FIELD_PREP(RTADDR_TTM, TTM_SCALABLE));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, e->u[0].root, FR_SM_TTM));
}

/* RTA.2: a request with PASID to a unit in legacy mode. */
TEST_F(xlate_fault_sm, legacy_request_with_pasid_0x31)
{
	struct hwenv *e = &self->e;
	uint64_t root, page;

	xl_boot(e, variant->keys, NULL, false);
	page = std_legacy(e, 4, &root);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, 7, VA, page, FR_SM_LEGACY_PASID));
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, VTD_NO_PASID, VA, NULL));
}

TEST_F(xlate_fault_sm, root_table_access_0x38)
{
	set_rtaddr(&self->e, RAM_END | FIELD_PREP(RTADDR_TTM, TTM_SCALABLE));
	ASSERT_TRUE(both_fault(&self->e, SID_A, self->s.page, FR_SM_ROOT_ACCESS));
}

/* SRT.2: the upper half (devfn 0x80-0xff) of a root entry whose lower half is present. */
TEST_F(xlate_fault_sm, root_half_not_present_0x39)
{
	ASSERT_TRUE(xl_fault_rw(&self->e, 0x0080, VTD_NO_PASID, VA, self->s.page, FR_SM_ROOT_P));
	ASSERT_TRUE(xl_fault_rw(&self->e, 0x0300, 3, VA, self->s.page, FR_SM_ROOT_P));
}

TEST_F(xlate_fault_sm, root_reserved_0x3a)
{
	struct hwenv *e = &self->e;
	uint64_t re = xl_root_addr(e, SID_A), good = hw_rd64(e, re);

	xl_put(e, re, good | BIT_ULL(1));
	ASSERT_TRUE(both_fault(e, SID_A, self->s.page, FR_SM_ROOT_RSVD));
	xl_put(e, re, good | BIT_ULL(46));
	ASSERT_TRUE(both_fault(e, SID_A, self->s.page, FR_SM_ROOT_RSVD));
	xl_put(e, re, good);
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, PASID_FS, VA, NULL));
}

TEST_F(xlate_fault_sm, context_table_access_0x40)
{
	xl_put(&self->e, xl_root_addr(&self->e, SID_A), RAM_END | SMROOT_P);
	ASSERT_TRUE(both_fault(&self->e, SID_A, self->s.page, FR_SM_CTX_ACCESS));
}

TEST_F(xlate_fault_sm, context_not_present_0x41)
{
	ASSERT_TRUE(xl_fault_rw(&self->e, 0x0009, VTD_NO_PASID, VA, self->s.page, FR_SM_CTX_P));
	ASSERT_TRUE(xl_fault_rw(&self->e, 0x0009, PASID_FS, VA, self->s.page, FR_SM_CTX_P));
}

/* SCT.3: qw0 bits 8:5, PASIDDIRPTR above HAW, qw1 bits 63:21, all of qw2 and qw3. */
TEST_F(xlate_fault_sm, context_reserved_0x42)
{
	struct hwenv *e = &self->e;
	uint64_t ce = hw_sm_ctx_addr(e, 0, SID_A);
	static const struct { unsigned qw; uint64_t bit; } bad[] = {
		{ 0, BIT_ULL(5) }, { 0, BIT_ULL(8) }, { 0, BIT_ULL(46) }, { 1, BIT_ULL(21) },
		{ 1, BIT_ULL(63) }, { 2, BIT_ULL(0) }, { 3, BIT_ULL(63) },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t at = ce + 8 * bad[i].qw, good = hw_rd64(e, at);

		xl_put(e, at, good | bad[i].bit);
		ASSERT_TRUE(both_fault(e, SID_A, self->s.page, FR_SM_CTX_RSVD));
		xl_put(e, at, good);
	}
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, PASID_FS, VA, NULL));
}

/* SCT.4: PRE=1 (no page requests), DTE=1 without ECAP.DT, PASIDE=1 without ECAP.PASID. */
TEST_F(xlate_fault_sm, context_invalid_0x43)
{
	struct hwenv *e = &self->e;

	xl_modify(e, hw_sm_ctx_addr(e, 0, SID_A), SMCTX_PRE, 0);
	ASSERT_TRUE(both_fault(e, SID_A, self->s.page, FR_SM_CTX_INV));

	reboot_sm("dt=0");
	xl_modify(e, hw_sm_ctx_addr(e, 0, SID_A), SMCTX_DTE, 0);
	ASSERT_TRUE(both_fault(e, SID_A, self->s.page, FR_SM_CTX_INV));

	reboot_sm("pasid=0");
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->s.page, FR_SM_CTX_INV));
	xl_modify(e, hw_sm_ctx_addr(e, 0, SID_A), 0, SMCTX_PASIDE);
	hw_inv_ctx_global(e, 0);
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, VTD_NO_PASID, VA, NULL));
}

/* SCT.5: a translation request from a device whose context has DTE=0. */
TEST_F(xlate_fault_sm, translation_request_dte0_0x44)
{
	struct hwenv *e = &self->e;
	struct vtdm_xlate x;
	uint64_t root;

	hw_add_device(e, "00:02.0,ats=1");
	hw_sm_ctx(e, 0, SID_B, 0, false, true);
	hw_pasid(e, 0, SID_B, 0, PGTT_SS, 3, 4, &root);
	hw_map_ss(e, root, 4, VA, self->s.page, SZ_4K, HW_PERM_RW);
	ASSERT_EQ(1, vtdm_ats_translate(e->m, SID_B, VTD_NO_PASID, VA, &x));
	ASSERT_EQ(FR_SM_CTX_DTE, x.fault);
	ASSERT_TRUE(xl_frcd(e, FR_SM_CTX_DTE, SID_B, VTD_NO_PASID, VA, FRCD_TYPE_TRANSLATE));
	ASSERT_EQ(1, vtdm_ats_translate(e->m, SID_B, 4, VA, &x));
	ASSERT_EQ(FR_SM_CTX_DTE, x.fault);
	ASSERT_TRUE(xl_frcd(e, FR_SM_CTX_DTE, SID_B, 4, VA, FRCD_TYPE_TRANSLATE));
	ASSERT_EQ(0, xl_stat(e, "dev.00:02.0.atc.fill"));
}

TEST_F(xlate_fault_sm, request_with_pasid_paside0_0x45)
{
	struct hwenv *e = &self->e;

	xl_modify(e, hw_sm_ctx_addr(e, 0, SID_A), 0, SMCTX_PASIDE);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, VA, self->s.page, FR_SM_CTX_PASIDE));
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, VTD_NO_PASID, VA, NULL));
}

/* SCT.7: PDTS=0 gives 2^7 directory entries, PASIDs 0..8191; PDTS=1 doubles that. */
TEST_F(xlate_fault_sm, pasid_beyond_directory_0x46)
{
	struct hwenv *e = &self->e;

	ASSERT_TRUE(xl_fault_rw(e, SID_A, 0x2000, VA, self->s.page, FR_SM_PASID_RANGE));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, 0xfffff, VA, self->s.page, FR_SM_PASID_RANGE));
	ASSERT_TRUE(xl_fault(e, SID_A, 0x1fff, VA, false, self->s.page, FR_SM_PDE_P));
	xl_modify(e, hw_sm_ctx_addr(e, 0, SID_A), FIELD_PREP(SMCTX_PDTS, 1), 0);
	hw_inv_ctx_global(e, 0);
	ASSERT_TRUE(xl_fault(e, SID_A, 0x2000, VA, false, self->s.page, FR_SM_PDE_P));
	ASSERT_TRUE(xl_fault(e, SID_A, 0x4000, VA, false, self->s.page, FR_SM_PASID_RANGE));
}

TEST_F(xlate_fault_sm, pasid_directory_access_0x50)
{
	struct hwenv *e = &self->e;

	xl_modify(e, hw_sm_ctx_addr(e, 0, SID_A), RAM_END, SMCTX_PASIDDIRPTR);
	ASSERT_TRUE(both_fault(e, SID_A, self->s.page, FR_SM_PDE_ACCESS));
}

TEST_F(xlate_fault_sm, pasid_directory_not_present_0x51)
{
	ASSERT_TRUE(xl_fault_rw(&self->e, SID_A, 64, VA, self->s.page, FR_SM_PDE_P));
	ASSERT_TRUE(xl_fault_rw(&self->e, SID_A, 0x1234, VA, self->s.page, FR_SM_PDE_P));
}

TEST_F(xlate_fault_sm, pasid_directory_reserved_0x52)
{
	struct hwenv *e = &self->e;
	uint64_t pde = xl_pde_addr(e, SID_A, 0), good = hw_rd64(e, pde);

	xl_put(e, pde, good | BIT_ULL(2));
	ASSERT_TRUE(both_fault(e, SID_A, self->s.page, FR_SM_PDE_RSVD));
	xl_put(e, pde, good | BIT_ULL(11));
	ASSERT_TRUE(both_fault(e, SID_A, self->s.page, FR_SM_PDE_RSVD));
	xl_put(e, pde, good | BIT_ULL(46));
	ASSERT_TRUE(both_fault(e, SID_A, self->s.page, FR_SM_PDE_RSVD));
	xl_put(e, pde, good);
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, PASID_FS, VA, NULL));
}

TEST_F(xlate_fault_sm, pasid_table_access_0x58)
{
	struct hwenv *e = &self->e;

	xl_put(e, xl_pde_addr(e, SID_A, 0), RAM_END | PDE_P);
	ASSERT_TRUE(both_fault(e, SID_A, self->s.page, FR_SM_PTE_ACCESS));
}

TEST_F(xlate_fault_sm, pasid_entry_not_present_0x59)
{
	struct hwenv *e = &self->e;

	ASSERT_TRUE(xl_fault_rw(e, SID_A, 6, VA, self->s.page, FR_SM_PTE_P));
	xl_modify(e, hw_pasid_addr(e, 0, SID_A, 0), 0, PTE0_P);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->s.page, FR_SM_PTE_P));
}

/* SPT.3: reserved fields of the 512-bit PASID entry, pointers above HAW, a DID beyond ND. */
TEST_F(xlate_fault_sm, pasid_entry_reserved_0x5a)
{
	struct hwenv *e = &self->e;
	static const struct { unsigned qw; uint64_t bit; } bad[] = {
		{ 0, BIT_ULL(10) }, { 0, BIT_ULL(11) }, { 0, BIT_ULL(46) }, { 1, BIT_ULL(16) },
		{ 1, BIT_ULL(22) }, { 2, BIT_ULL(8) }, { 2, BIT_ULL(11) }, { 2, BIT_ULL(46) },
		{ 3, BIT_ULL(0) }, { 5, BIT_ULL(17) }, { 7, BIT_ULL(63) },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (unsigned which = 0; which < 2; which++) {
			uint32_t pasid = which ? PASID_FS : 0;
			uint64_t at = hw_pasid_addr(e, 0, SID_A, pasid) + 8 * bad[i].qw;
			uint64_t good = hw_rd64(e, at);

			xl_put(e, at, good | bad[i].bit);
			ASSERT_TRUE(xl_fault_rw(e, SID_A, which ? PASID_FS : VTD_NO_PASID, VA,
						self->s.page, FR_SM_PTE_RSVD));
			xl_put(e, at, good);
		}
	}
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, PASID_FS, VA, NULL));

	reboot_sm("nd=0");
	xl_modify(e, hw_pasid_addr(e, 0, SID_A, PASID_FS) + 8, FIELD_PREP(PTE1_DID, 16),
		  PTE1_DID);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, VA, self->s.page, FR_SM_PTE_RSVD));
}

/*
 * SPT.4: PGTT reserved or nested (ECAP.NEST is not offered), FLPM 5-level
 * without CAP.FL5LP or reserved, second-stage AW not in SAGAW, and a PGTT
 * the unit does not support (FLTS, SLTS, PT).
 */
TEST_F(xlate_fault_sm, pasid_entry_invalid_0x5b)
{
	struct hwenv *e = &self->e;
	uint64_t ss = hw_pasid_addr(e, 0, SID_A, 0), fs = hw_pasid_addr(e, 0, SID_A, PASID_FS);
	uint64_t ss0 = hw_rd64(e, ss), fs2 = hw_rd64(e, fs + 16);
	static const unsigned bad_pgtt[] = { 0, PGTT_NESTED, 5, 6, 7 };

	for (unsigned i = 0; i < sizeof(bad_pgtt) / sizeof(bad_pgtt[0]); i++) {
		xl_put(e, ss, (ss0 & ~PTE0_PGTT) | FIELD_PREP(PTE0_PGTT, bad_pgtt[i]));
		ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->s.page, FR_SM_PTE_INV));
	}
	for (unsigned aw = 0; aw <= 7; aw++) {
		if (aw == 1 || aw == 2)
			continue;
		xl_put(e, ss, (ss0 & ~PTE0_AW) | FIELD_PREP(PTE0_AW, aw));
		ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, VA, true, self->s.page,
				     FR_SM_PTE_INV));
	}
	xl_put(e, ss, ss0);
	for (unsigned flpm = 1; flpm <= 3; flpm++) {
		xl_put(e, fs + 16, (fs2 & ~PTE2_FLPM) | FIELD_PREP(PTE2_FLPM, flpm));
		ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, VA, self->s.page, FR_SM_PTE_INV));
	}
	xl_put(e, fs + 16, fs2);
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, PASID_FS, VA, NULL));
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, VTD_NO_PASID, VA, NULL));

	reboot_sm("flts=0");
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, VA, self->s.page, FR_SM_PTE_INV));
	reboot_sm("slts=0");
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->s.page, FR_SM_PTE_INV));
	reboot_sm("pt=0");
	ss = hw_pasid_addr(e, 0, SID_A, 0);
	xl_modify(e, ss, FIELD_PREP(PTE0_PGTT, PGTT_PT), PTE0_PGTT | PTE0_SSPTPTR | PTE0_AW);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->s.page, FR_SM_PTE_INV));
}

/* SPT.6: a supervisor request (RID_PRIV=1) to a first-stage entry with SRE=0. */
TEST_F(xlate_fault_sm, supervisor_request_sre0_0x5d)
{
	struct hwenv *e = &self->e;
	uint64_t unused;

	hw_sm_ctx(e, 0, SID_B, PASID_FS, false, true);
	xl_modify(e, hw_sm_ctx_addr(e, 0, SID_B) + 8, SMCTX_RID_PRIV, 0);
	hw_pasid(e, 0, SID_B, PASID_FS, PGTT_FS, 3, 4, &unused);
	xl_put(e, hw_pasid_addr(e, 0, SID_B, PASID_FS) + 16, self->s.fs_root);
	ASSERT_TRUE(xl_fault_rw(e, SID_B, VTD_NO_PASID, VA, self->s.page, FR_SM_SRE));
	/* Requests with PASID are user requests: SRE does not matter to them. */
	ASSERT_EQ(STAMP, xl_rd(e, SID_B, PASID_FS, VA, NULL));
	xl_modify(e, hw_pasid_addr(e, 0, SID_B, PASID_FS) + 16, PTE2_SRE, 0);
	xl_inv(e, (struct vtd_desc_fields){ .type = DESC_PC, .g = PC_G_GLOBAL });
	ASSERT_EQ(STAMP, xl_rd(e, SID_B, VTD_NO_PASID, VA, NULL));
}

TEST_F(xlate_fault_sm, first_stage_access_0x70)
{
	struct hwenv *e = &self->e;

	xl_put(e, hw_pte_addr(e, self->s.fs_root, 4, VA, 3, true),
	       RAM_END | FSPTE_P | FSPTE_RW | FSPTE_US);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, VA, self->s.page, FR_SM_FS_ACCESS));
}

TEST_F(xlate_fault_sm, first_stage_not_present_0x71)
{
	struct hwenv *e = &self->e;

	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, VA + SZ_4K, self->s.page, FR_SM_FS_P));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, 1ULL << 39, self->s.page, FR_SM_FS_P));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, 0xffff800000000000ULL, self->s.page,
				FR_SM_FS_P));
}

/* SFS.3: PS in a PML4E, PAT-less 2M leaf bits 20:13, address above HAW, 1G without FL1GP. */
TEST_F(xlate_fault_sm, first_stage_reserved_0x72)
{
	struct hwenv *e = &self->e;
	uint64_t pml4e = hw_pte_addr(e, self->s.fs_root, 4, VA, 4, true), p4 = hw_rd64(e, pml4e);
	uint64_t pte = hw_pte_addr(e, self->s.fs_root, 4, VA, 1, true), leaf = hw_rd64(e, pte);
	uint64_t l2m;

	xl_put(e, pml4e, p4 | FSPTE_PS);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, VA, self->s.page, FR_SM_FS_RSVD));
	xl_put(e, pml4e, p4);
	xl_put(e, pte, leaf | BIT_ULL(46));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, VA, self->s.page, FR_SM_FS_RSVD));
	xl_put(e, pte, leaf);

	hw_map_fs(e, self->s.fs_root, 4, 0x40000000, PA_2M(1), SZ_2M, HW_PERM_RW, true);
	l2m = hw_pte_addr(e, self->s.fs_root, 4, 0x40000000, 2, true);
	xl_modify(e, l2m, BIT_ULL(13), 0);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, 0x40000000, PA_2M(1), FR_SM_FS_RSVD));
	/* Bit 12 of a large leaf is PAT, not address: allowed. */
	xl_modify(e, l2m, FSPTE_LPAT, BIT_ULL(13));
	ASSERT_EQ(PA_2M(1) + 0x1238, xl_pa(e, SID_A, PASID_FS, 0x40001238));

	reboot_sm("fl1gp=0");
	hw_map_fs(e, self->s.fs_root, 4, SZ_1G, 0, SZ_1G, HW_PERM_RW, true);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, SZ_1G + VA, self->s.page, FR_SM_FS_RSVD));
}

/* SFS.4: the first-stage root table (FSPTPTR) outside RAM. */
TEST_F(xlate_fault_sm, first_stage_root_access_0x73)
{
	struct hwenv *e = &self->e;

	xl_modify(e, hw_pasid_addr(e, 0, SID_A, PASID_FS) + 16, RAM_END, PTE2_FSPTPTR);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, VA, self->s.page, FR_SM_FS_ROOT));
}

TEST_F(xlate_fault_sm, second_stage_access_0x78)
{
	struct hwenv *e = &self->e;

	xl_put(e, hw_pte_addr(e, self->s.ss_root, 4, VA, 3, false), RAM_END | SSPTE_R | SSPTE_W);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->s.page, FR_SM_SS_ACCESS));
}

/* SSS.2: second-stage read or write denied, or the entry not present. */
TEST_F(xlate_fault_sm, second_stage_permission_0x79)
{
	struct hwenv *e = &self->e;

	hw_map_ss(e, self->s.ss_root, 4, VA + SZ_4K, self->s.page, SZ_4K, HW_PERM_R);
	hw_map_ss(e, self->s.ss_root, 4, VA + 2 * SZ_4K, self->s.page, SZ_4K, HW_PERM_W);
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, VA + SZ_4K, true, self->s.page,
			     FR_SM_SS_PERM));
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, VA + 2 * SZ_4K, false, self->s.page,
			     FR_SM_SS_PERM));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA + 3 * SZ_4K, self->s.page,
				FR_SM_SS_PERM));
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, VTD_NO_PASID, VA + SZ_4K, NULL));
}

/* SSS.3: PS at level 4, PS where SLLPS forbids it, SNP without ECAP.SC. */
TEST_F(xlate_fault_sm, second_stage_reserved_0x7a)
{
	struct hwenv *e = &self->e;
	uint64_t pml4e = hw_pte_addr(e, self->s.ss_root, 4, VA, 4, false), p4 = hw_rd64(e, pml4e);
	uint64_t pte = hw_pte_addr(e, self->s.ss_root, 4, VA, 1, false);

	xl_put(e, pml4e, p4 | SSPTE_PS);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->s.page, FR_SM_SS_RSVD));
	xl_put(e, pml4e, p4);
	xl_modify(e, pte, SSPTE_SNP, 0);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->s.page, FR_SM_SS_RSVD));

	reboot_sm("sllps=0");
	hw_map_ss(e, self->s.ss_root, 4, 0x40000000, PA_2M(1), SZ_2M, HW_PERM_RW);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, 0x40000000, PA_2M(1), FR_SM_SS_RSVD));
}

/* SSS.4: the second-stage root table (SSPTPTR) outside RAM. */
TEST_F(xlate_fault_sm, second_stage_root_access_0x7b)
{
	struct hwenv *e = &self->e;

	xl_modify(e, hw_pasid_addr(e, 0, SID_A, 0), RAM_END, PTE0_SSPTPTR);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, VA, self->s.page, FR_SM_SS_ROOT));
}

/* SGN.1: bits 63:48 of a 4-level first-stage input must copy bit 47. */
TEST_F(xlate_fault_sm, first_stage_non_canonical_0x80)
{
	struct hwenv *e = &self->e;

	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, (1ULL << 47) | VA, self->s.page,
				FR_SM_NONCANON));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, (1ULL << 63) | VA, self->s.page,
				FR_SM_NONCANON));
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, (1ULL << 48) | VA, self->s.page,
				FR_SM_NONCANON));
}

/* SGN.2: a user request (requests with PASID are user requests) to U/S=0. */
TEST_F(xlate_fault_sm, first_stage_user_to_supervisor_0x81)
{
	struct hwenv *e = &self->e;

	hw_map_fs(e, self->s.fs_root, 4, VA + SZ_4K, self->s.page, SZ_4K, HW_PERM_RW, false);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, PASID_FS, VA + SZ_4K, self->s.page, FR_SM_FS_US));
}

/* SGN.4: a second-stage input above the PASID entry's AGAW (or MGAW). */
TEST_F(xlate_fault_sm, second_stage_address_width_0x83)
{
	struct hwenv *e = &self->e;
	uint64_t root3;

	ASSERT_TRUE(xl_fault_rw(e, SID_A, VTD_NO_PASID, (1ULL << 48) | VA, self->s.page,
				FR_SM_ADDR_WIDTH));
	hw_pasid(e, 0, SID_A, 7, PGTT_SS, 4, 3, &root3);
	hw_map_ss(e, root3, 3, VA, self->s.page, SZ_4K, HW_PERM_RW);
	ASSERT_TRUE(xl_fault_rw(e, SID_A, 7, (1ULL << 39) | VA, self->s.page, FR_SM_ADDR_WIDTH));
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, 7, VA, NULL));
}

/* SGN.6: a write through a first-stage entry with R/W=0. */
TEST_F(xlate_fault_sm, first_stage_write_denied_0x85)
{
	struct hwenv *e = &self->e;

	hw_map_fs(e, self->s.fs_root, 4, VA + SZ_4K, self->s.page, SZ_4K, HW_PERM_R, true);
	ASSERT_TRUE(xl_fault(e, SID_A, PASID_FS, VA + SZ_4K, true, self->s.page, FR_SM_WRITE));
	ASSERT_EQ(STAMP, xl_rd(e, SID_A, PASID_FS, VA + SZ_4K, NULL));
}

/* FPD in the context, the PASID-directory or the PASID-table entry: no record. */
TEST_F(xlate_fault_sm, fpd_suppresses_recording)
{
	struct hwenv *e = &self->e;
	uint64_t addrs[3] = { hw_sm_ctx_addr(e, 0, SID_A), xl_pde_addr(e, SID_A, PASID_FS),
			      hw_pasid_addr(e, 0, SID_A, PASID_FS) };
	uint64_t bits[3] = { SMCTX_FPD, PDE_FPD, PTE0_FPD };

	for (unsigned i = 0; i < 3; i++) {
		struct vtdm_xlate x;
		uint64_t v = 0x5a5a;

		xl_modify(e, addrs[i], bits[i], 0);
		hw_inv_ctx_global(e, 0);
		xl_inv(e, (struct vtd_desc_fields){ .type = DESC_PC, .g = PC_G_GLOBAL });
		ASSERT_EQ(1, vtdm_dma(e->m, SID_A, PASID_FS, VA + SZ_4K, &v, 8, true, &x));
		ASSERT_EQ(FR_SM_FS_P, x.fault);
		ASSERT_FALSE(x.recorded);
		ASSERT_TRUE(xl_no_frcd(e));
		xl_modify(e, addrs[i], 0, bits[i]);
	}
	hw_inv_ctx_global(e, 0);
	xl_inv(e, (struct vtd_desc_fields){ .type = DESC_PC, .g = PC_G_GLOBAL });
	ASSERT_TRUE(xl_fault(e, SID_A, PASID_FS, VA + SZ_4K, true, self->s.page, FR_SM_FS_P));
	ASSERT_EQ(1, xl_stat(e, "fault.recorded"));
}
