/*
 * test_fmt.c — golden tests for the stateless format headers: bit helpers,
 * register offsets and fields (checked on the CAP/ECAP the QEMU unit of the
 * captured traces reported), root/context/PASID entries, paging entries,
 * fault reasons and the device-TLB size encoding.
 *
 * Every expected value below is typed in from the VT-d spec facts, Linux's
 * own definitions or the dumps in /work/shared/traces — never computed
 * with the code under test — so a wrong mask or shift makes a test fail.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "fmt/bits.h"
#include "fmt/desc.h"
#include "fmt/entry.h"
#include "fmt/fault.h"
#include "fmt/pte.h"
#include "fmt/regs.h"

/*
 * QEMU 7.2 intel-iommu as the traced kernels saw it ("DMAR: dmar0:
 * reg_base_addr fed90000 ver 1:0 cap d2008c22260286 ecap f00f4e", and
 * cap d2008c22260206 with caching-mode=off).
 */
#define QEMU_CAP_CM1	0x00d2008c22260286ULL
#define QEMU_CAP_CM0	0x00d2008c22260206ULL
#define QEMU_ECAP	0x0000000000f00f4eULL
#define QEMU_VER	0x10u

/* Absolute bit number of a one-bit field @mask of qword @qw in an entry. */
static unsigned abs_bit(unsigned qw, uint64_t mask)
{
	return 64 * qw + (unsigned)__builtin_ctzll(mask);
}

/* A small deterministic generator (xorshift64*), so runs are repeatable. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* ------------------------------------------------------------------ bits.h */

TEST(fmt_bits_genmask_edges)
{
	EXPECT_EQ(0xffffffffffffffffULL, GENMASK_ULL(63, 0));
	EXPECT_EQ(0x0000000000000001ULL, GENMASK_ULL(0, 0));
	EXPECT_EQ(0x8000000000000000ULL, GENMASK_ULL(63, 63));
	EXPECT_EQ(0x7fffffffffffffffULL, GENMASK_ULL(62, 0));
	EXPECT_EQ(0xfffffffffffffffeULL, GENMASK_ULL(63, 1));
	EXPECT_EQ(0x00000000000ff000ULL, GENMASK_ULL(19, 12));
	EXPECT_EQ(0x000ffffffffff000ULL, GENMASK_ULL(51, 12));
	EXPECT_EQ(0x0000000000000001ULL, BIT_ULL(0));
	EXPECT_EQ(0x8000000000000000ULL, BIT_ULL(63));
}

TEST(fmt_bits_field_prep_get)
{
	EXPECT_EQ(0x12340000ULL, FIELD_PREP(GENMASK_ULL(31, 16), 0x1234));
	EXPECT_EQ(0x1234u, FIELD_GET(GENMASK_ULL(31, 16), 0x0000dead1234beefULL));
	EXPECT_EQ(0xabcu, FIELD_GET(GENMASK_ULL(63, 52), 0xabc0000000000000ULL));
	EXPECT_EQ(0x8000000000000000ULL, FIELD_PREP(BIT_ULL(63), 1));
	EXPECT_EQ(0x0123456789abcdefULL, FIELD_GET(GENMASK_ULL(63, 0), 0x0123456789abcdefULL));
	/* A value wider than its field is cut to the field, not spilled. */
	EXPECT_EQ(0x30ULL, FIELD_PREP(GENMASK_ULL(5, 4), 7));
	EXPECT_EQ(0ULL, FIELD_PREP(GENMASK_ULL(5, 4), 4));
}

TEST(fmt_bits_field_round_trip)
{
	static const uint64_t masks[] = {
		0x1ULL, 0x30ULL, 0xffff0000ULL, 0x000fffff00000000ULL,
		0xfff0000000000000ULL, 0x8000000000000000ULL, 0xfffffffffffff000ULL,
		0xffffffffffffffffULL,
	};
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < ARRAY_SIZE(masks); i++) {
		uint64_t m = masks[i];
		unsigned lo = (unsigned)__builtin_ctzll(m);

		for (int n = 0; n < 64; n++) {
			uint64_t x = rng_next(&seed);
			uint64_t v = (x & m) >> lo;

			EXPECT_EQ(v, FIELD_GET(m, FIELD_PREP(m, v)));
			EXPECT_EQ(x & m, FIELD_PREP(m, FIELD_GET(m, x)));
		}
	}
}

TEST(fmt_bits_field_set)
{
	uint64_t reg = 0xffffffffffffffffULL;

	field_set(&reg, GENMASK_ULL(11, 4), 0x5a);
	EXPECT_EQ(0xfffffffffffff5afULL, reg);
	field_set(&reg, GENMASK_ULL(63, 60), 0);
	EXPECT_EQ(0x0ffffffffffff5afULL, reg);
	EXPECT_EQ(8u, ARRAY_SIZE(((uint64_t[8]){ 0 })));
}

/* ------------------------------------------------------------------ regs.h */

TEST(fmt_reg_offsets)
{
	/* VT-d 10.4; the same offsets as Linux's DMAR_*_REG. */
	EXPECT_EQ(0x00, DMAR_VER_REG);
	EXPECT_EQ(0x08, DMAR_CAP_REG);
	EXPECT_EQ(0x10, DMAR_ECAP_REG);
	EXPECT_EQ(0x18, DMAR_GCMD_REG);
	EXPECT_EQ(0x1c, DMAR_GSTS_REG);
	EXPECT_EQ(0x20, DMAR_RTADDR_REG);
	EXPECT_EQ(0x28, DMAR_CCMD_REG);
	EXPECT_EQ(0x34, DMAR_FSTS_REG);
	EXPECT_EQ(0x38, DMAR_FECTL_REG);
	EXPECT_EQ(0x3c, DMAR_FEDATA_REG);
	EXPECT_EQ(0x40, DMAR_FEADDR_REG);
	EXPECT_EQ(0x44, DMAR_FEUADDR_REG);
	EXPECT_EQ(0x80, DMAR_IQH_REG);
	EXPECT_EQ(0x88, DMAR_IQT_REG);
	EXPECT_EQ(0x90, DMAR_IQA_REG);
	EXPECT_EQ(0x9c, DMAR_ICS_REG);
	EXPECT_EQ(0xa0, DMAR_IECTL_REG);
	EXPECT_EQ(0xa4, DMAR_IEDATA_REG);
	EXPECT_EQ(0xa8, DMAR_IEADDR_REG);
	EXPECT_EQ(0xac, DMAR_IEUADDR_REG);
	EXPECT_EQ(0xb0, DMAR_IQER_REG);
	EXPECT_EQ(0xb8, DMAR_IRTA_REG);
}

TEST(fmt_reg_ver_qemu)
{
	/* "ver 1:0" */
	EXPECT_EQ(1u, FIELD_GET(VER_MAX, QEMU_VER));
	EXPECT_EQ(0u, FIELD_GET(VER_MIN, QEMU_VER));
	EXPECT_EQ(0x6u, FIELD_GET(VER_MAX, 0x61));
	EXPECT_EQ(0x1u, FIELD_GET(VER_MIN, 0x61));
}

TEST(fmt_reg_cap_masks)
{
	EXPECT_EQ(0x0000000000000007ULL, CAP_ND);
	EXPECT_EQ(0x0000000000000008ULL, CAP_AFL);
	EXPECT_EQ(0x0000000000000010ULL, CAP_RWBF);
	EXPECT_EQ(0x0000000000000020ULL, CAP_PLMR);
	EXPECT_EQ(0x0000000000000040ULL, CAP_PHMR);
	EXPECT_EQ(0x0000000000000080ULL, CAP_CM);
	EXPECT_EQ(0x0000000000001f00ULL, CAP_SAGAW);
	EXPECT_EQ(0x00000000003f0000ULL, CAP_MGAW);
	EXPECT_EQ(0x0000000000400000ULL, CAP_ZLR);
	EXPECT_EQ(0x00000003ff000000ULL, CAP_FRO);
	EXPECT_EQ(0x0000003c00000000ULL, CAP_SLLPS);
	EXPECT_EQ(0x0000008000000000ULL, CAP_PSI);
	EXPECT_EQ(0x0000ff0000000000ULL, CAP_NFR);
	EXPECT_EQ(0x003f000000000000ULL, CAP_MAMV);
	EXPECT_EQ(0x0040000000000000ULL, CAP_DWD);
	EXPECT_EQ(0x0080000000000000ULL, CAP_DRD);
	EXPECT_EQ(0x0100000000000000ULL, CAP_FL1GP);
	EXPECT_EQ(0x0800000000000000ULL, CAP_PI);
	EXPECT_EQ(0x1000000000000000ULL, CAP_FL5LP);
	EXPECT_EQ(0x2000000000000000ULL, CAP_ECMDS);
	EXPECT_EQ(0x4000000000000000ULL, CAP_ESIRTPS);
	EXPECT_EQ(0x8000000000000000ULL, CAP_ESRTPS);
	/* SAGAW bits, within the field: bit1 39-bit, bit2 48-bit, bit3 57-bit */
	EXPECT_EQ(0x2ULL, SAGAW_3LVL);
	EXPECT_EQ(0x4ULL, SAGAW_4LVL);
	EXPECT_EQ(0x8ULL, SAGAW_5LVL);
}

/* Decoded by hand from the dump, nibble by nibble. */
static void check_qemu_cap(uint64_t cap, unsigned cm)
{
	EXPECT_EQ(6u, FIELD_GET(CAP_ND, cap));
	EXPECT_EQ(0u, FIELD_GET(CAP_AFL, cap));
	EXPECT_EQ(0u, FIELD_GET(CAP_RWBF, cap));
	EXPECT_EQ(0u, FIELD_GET(CAP_PLMR, cap));
	EXPECT_EQ(0u, FIELD_GET(CAP_PHMR, cap));
	EXPECT_EQ(cm, FIELD_GET(CAP_CM, cap));
	EXPECT_EQ(0x2u, FIELD_GET(CAP_SAGAW, cap));	/* 39-bit, 3-level only */
	EXPECT_EQ(38u, FIELD_GET(CAP_MGAW, cap));	/* 39-bit, as QEMU's aw-bits=39 */
	EXPECT_EQ(0u, FIELD_GET(CAP_ZLR, cap));
	EXPECT_EQ(0x22u, FIELD_GET(CAP_FRO, cap));
	EXPECT_EQ(3u, FIELD_GET(CAP_SLLPS, cap));	/* 2M and 1G */
	EXPECT_EQ(1u, FIELD_GET(CAP_PSI, cap));
	EXPECT_EQ(0u, FIELD_GET(CAP_NFR, cap));
	EXPECT_EQ(18u, FIELD_GET(CAP_MAMV, cap));
	EXPECT_EQ(1u, FIELD_GET(CAP_DWD, cap));
	EXPECT_EQ(1u, FIELD_GET(CAP_DRD, cap));
	EXPECT_EQ(0u, FIELD_GET(CAP_FL1GP, cap));
	EXPECT_EQ(0u, FIELD_GET(CAP_PI, cap));
	EXPECT_EQ(0u, FIELD_GET(CAP_FL5LP, cap));
	EXPECT_EQ(0u, FIELD_GET(CAP_ECMDS, cap));
	EXPECT_EQ(0u, FIELD_GET(CAP_ESIRTPS, cap));
	EXPECT_EQ(0u, FIELD_GET(CAP_ESRTPS, cap));
	EXPECT_EQ(65536ul, cap_ndoms(cap));		/* 2^(4 + 2*6) */
	EXPECT_EQ(0x220u, cap_frcd_offset(cap));	/* QEMU's DMAR_FRCD_REG_OFFSET */
	EXPECT_EQ(1u, cap_nfr(cap));
}

TEST(fmt_reg_cap_qemu_cm1)
{
	check_qemu_cap(QEMU_CAP_CM1, 1);
}

TEST(fmt_reg_cap_qemu_cm0)
{
	check_qemu_cap(QEMU_CAP_CM0, 0);
	/* The two dumps differ in exactly bit 7. */
	EXPECT_EQ(0x80ULL, QEMU_CAP_CM1 ^ QEMU_CAP_CM0);
}

TEST(fmt_reg_cap_ndoms)
{
	static const unsigned long ndoms[7] = { 16, 64, 256, 1024, 4096, 16384, 65536 };

	for (unsigned nd = 0; nd < 7; nd++)
		EXPECT_EQ(ndoms[nd], cap_ndoms(nd));
	/* Only ND is looked at. */
	EXPECT_EQ(256ul, cap_ndoms(0xfffffffffffffff2ULL));
}

TEST(fmt_reg_ecap_masks)
{
	EXPECT_EQ(0x0000000000000001ULL, ECAP_C);
	EXPECT_EQ(0x0000000000000002ULL, ECAP_QI);
	EXPECT_EQ(0x0000000000000004ULL, ECAP_DT);
	EXPECT_EQ(0x0000000000000008ULL, ECAP_IR);
	EXPECT_EQ(0x0000000000000010ULL, ECAP_EIM);
	EXPECT_EQ(0x0000000000000040ULL, ECAP_PT);
	EXPECT_EQ(0x0000000000000080ULL, ECAP_SC);
	EXPECT_EQ(0x000000000003ff00ULL, ECAP_IRO);
	EXPECT_EQ(0x0000000000f00000ULL, ECAP_MHMV);
	EXPECT_EQ(0x0000000002000000ULL, ECAP_MTS);
	EXPECT_EQ(0x0000000004000000ULL, ECAP_NEST);
	EXPECT_EQ(0x0000000020000000ULL, ECAP_PRS);
	EXPECT_EQ(0x0000000040000000ULL, ECAP_ERS);
	EXPECT_EQ(0x0000000080000000ULL, ECAP_SRS);
	EXPECT_EQ(0x0000000200000000ULL, ECAP_NWFS);
	EXPECT_EQ(0x0000000400000000ULL, ECAP_EAFS);
	EXPECT_EQ(0x000000f800000000ULL, ECAP_PSS);
	EXPECT_EQ(0x0000010000000000ULL, ECAP_PASID);
	EXPECT_EQ(0x0000020000000000ULL, ECAP_DIT);
	EXPECT_EQ(0x0000040000000000ULL, ECAP_PDS);
	EXPECT_EQ(0x0000080000000000ULL, ECAP_SMTS);
	EXPECT_EQ(0x0000100000000000ULL, ECAP_VCS);
	EXPECT_EQ(0x0000200000000000ULL, ECAP_SSADS);
	EXPECT_EQ(0x0000400000000000ULL, ECAP_SSTS);
	EXPECT_EQ(0x0000800000000000ULL, ECAP_FSTS);
	EXPECT_EQ(0x0001000000000000ULL, ECAP_SMPWCS);
	EXPECT_EQ(0x0002000000000000ULL, ECAP_RPS);
}

TEST(fmt_reg_ecap_qemu)
{
	/* f00f4e = 1111 0000 0000 1111 0100 1110 */
	EXPECT_EQ(0u, FIELD_GET(ECAP_C, QEMU_ECAP));
	EXPECT_EQ(1u, FIELD_GET(ECAP_QI, QEMU_ECAP));
	EXPECT_EQ(1u, FIELD_GET(ECAP_DT, QEMU_ECAP));	/* device-iotlb=on */
	EXPECT_EQ(1u, FIELD_GET(ECAP_IR, QEMU_ECAP));	/* intremap=on */
	EXPECT_EQ(0u, FIELD_GET(ECAP_EIM, QEMU_ECAP));	/* "xapic mode" */
	EXPECT_EQ(1u, FIELD_GET(ECAP_PT, QEMU_ECAP));
	EXPECT_EQ(0u, FIELD_GET(ECAP_SC, QEMU_ECAP));
	EXPECT_EQ(0xfu, FIELD_GET(ECAP_IRO, QEMU_ECAP));
	EXPECT_EQ(0xfu, FIELD_GET(ECAP_MHMV, QEMU_ECAP));
	EXPECT_EQ(0u, FIELD_GET(ECAP_NEST, QEMU_ECAP));
	EXPECT_EQ(0u, FIELD_GET(ECAP_PRS, QEMU_ECAP));
	EXPECT_EQ(0u, FIELD_GET(ECAP_PSS, QEMU_ECAP));
	EXPECT_EQ(0u, FIELD_GET(ECAP_PASID, QEMU_ECAP));
	EXPECT_EQ(0u, FIELD_GET(ECAP_DIT, QEMU_ECAP));
	EXPECT_EQ(0u, FIELD_GET(ECAP_PDS, QEMU_ECAP));
	EXPECT_EQ(0u, FIELD_GET(ECAP_SMTS, QEMU_ECAP));
	EXPECT_EQ(0u, FIELD_GET(ECAP_FSTS, QEMU_ECAP));
	EXPECT_EQ(0u, FIELD_GET(ECAP_SSTS, QEMU_ECAP));
	/* QEMU's DMAR_IVA_REG is 0xf0 and DMAR_IOTLB_REG 0xf8. */
	EXPECT_EQ(0xf0u, ecap_iva_offset(QEMU_ECAP));
	EXPECT_EQ(0x3ff0u, ecap_iva_offset(ECAP_IRO));
}

TEST(fmt_reg_gcmd_gsts)
{
	EXPECT_EQ(0x80000000ULL, GCMD_TE);	/* 31 */
	EXPECT_EQ(0x40000000ULL, GCMD_SRTP);	/* 30 */
	EXPECT_EQ(0x20000000ULL, GCMD_SFL);	/* 29 */
	EXPECT_EQ(0x10000000ULL, GCMD_EAFL);	/* 28 */
	EXPECT_EQ(0x08000000ULL, GCMD_WBF);	/* 27 */
	EXPECT_EQ(0x04000000ULL, GCMD_QIE);	/* 26 */
	EXPECT_EQ(0x02000000ULL, GCMD_IRE);	/* 25 */
	EXPECT_EQ(0x01000000ULL, GCMD_SIRTP);	/* 24 */
	EXPECT_EQ(0x00800000ULL, GCMD_CFI);	/* 23 */
	EXPECT_EQ(0x80000000ULL, GSTS_TES);
	EXPECT_EQ(0x40000000ULL, GSTS_RTPS);
	EXPECT_EQ(0x20000000ULL, GSTS_FLS);
	EXPECT_EQ(0x10000000ULL, GSTS_AFLS);
	EXPECT_EQ(0x08000000ULL, GSTS_WBFS);
	EXPECT_EQ(0x04000000ULL, GSTS_QIES);
	EXPECT_EQ(0x02000000ULL, GSTS_IRES);
	EXPECT_EQ(0x01000000ULL, GSTS_IRTPS);
	EXPECT_EQ(0x00800000ULL, GSTS_CFIS);
}

TEST(fmt_reg_rtaddr)
{
	EXPECT_EQ(0x0000000000000c00ULL, RTADDR_TTM);
	EXPECT_EQ(0xfffffffffffff000ULL, RTADDR_RTA);
	/* Linux writes root | DMA_RTADDR_SMT (bit 10) in scalable mode. */
	EXPECT_EQ(TTM_SCALABLE, FIELD_GET(RTADDR_TTM, 0x0000000012345400ULL));
	EXPECT_EQ(TTM_LEGACY, FIELD_GET(RTADDR_TTM, 0x0000000012345000ULL));
	EXPECT_EQ(0, TTM_LEGACY);
	EXPECT_EQ(1, TTM_SCALABLE);
	EXPECT_EQ(3, TTM_ABORT);
	EXPECT_EQ(0x12345000ULL, 0x0000000012345400ULL & RTADDR_RTA);
}

TEST(fmt_reg_fsts_fectl)
{
	EXPECT_EQ(0x01ULL, FSTS_PFO);
	EXPECT_EQ(0x02ULL, FSTS_PPF);
	EXPECT_EQ(0x04ULL, FSTS_AFO);
	EXPECT_EQ(0x08ULL, FSTS_APF);
	EXPECT_EQ(0x10ULL, FSTS_IQE);
	EXPECT_EQ(0x20ULL, FSTS_ICE);
	EXPECT_EQ(0x40ULL, FSTS_ITE);
	EXPECT_EQ(0xff00ULL, FSTS_FRI);
	/* Linux dma_fsts_fault_record_index(s) = (s >> 8) & 0xff */
	EXPECT_EQ(0x3u, FIELD_GET(FSTS_FRI, 0x0302));
	EXPECT_EQ(1u, FIELD_GET(FSTS_PPF, 0x0302));
	EXPECT_EQ(0x40000000ULL, ECTL_IP);
	EXPECT_EQ(0x80000000ULL, ECTL_IM);	/* Linux DMA_FECTL_IM */
}

TEST(fmt_reg_iq)
{
	EXPECT_EQ(0x000000000007fff0ULL, IQ_PTR);
	EXPECT_EQ(0x0000000000000007ULL, IQA_QS);
	EXPECT_EQ(0x0000000000000800ULL, IQA_DW);
	EXPECT_EQ(0xfffffffffffff000ULL, IQA_IQA);
	EXPECT_EQ(0x1ULL, ICS_IWC);
	/* Tail of descriptor 6 of a 128-bit queue: byte offset 0x60. */
	EXPECT_EQ(6u, FIELD_GET(IQ_PTR, 0x60));
}

TEST(fmt_reg_iqa_entries)
{
	/* Linux, legacy: one 4K page of 256 16-byte descriptors (QI_LENGTH). */
	EXPECT_EQ(256u, iqa_entries(0x0000000012345000ULL));
	/* Linux with ECAP.SMTS: IQA |= (1 << 11) | 1, 8K of 256 32-byte ones. */
	EXPECT_EQ(256u, iqa_entries(0x0000000012344801ULL));
	EXPECT_EQ(512u, iqa_entries(0x1));
	EXPECT_EQ(128u, iqa_entries(0x800));
	EXPECT_EQ(32768u, iqa_entries(0x7));
	EXPECT_EQ(16384u, iqa_entries(0x807));
}

TEST(fmt_reg_iqer)
{
	EXPECT_EQ(0x000000000000000fULL, IQER_IQEI);
	EXPECT_EQ(0x0000ffff00000000ULL, IQER_ITESID);
	EXPECT_EQ(0xffff000000000000ULL, IQER_ICESID);
	EXPECT_EQ(0x0100u, FIELD_GET(IQER_ICESID, 0x0100020000000004ULL));
	EXPECT_EQ(0x0200u, FIELD_GET(IQER_ITESID, 0x0100020000000004ULL));
	EXPECT_EQ(0x4u, FIELD_GET(IQER_IQEI, 0x0100020000000004ULL));
}

TEST(fmt_reg_iotlb_reg)
{
	EXPECT_EQ(0x8000000000000000ULL, IOTLB_IVT);
	EXPECT_EQ(0x3000000000000000ULL, IOTLB_IIRG);
	EXPECT_EQ(0x0600000000000000ULL, IOTLB_IAIG);
	EXPECT_EQ(0x0002000000000000ULL, IOTLB_DR);
	EXPECT_EQ(0x0001000000000000ULL, IOTLB_DW);
	EXPECT_EQ(0x0000ffff00000000ULL, IOTLB_DID);
	EXPECT_EQ(0x000000000000003fULL, IVA_AM);
	EXPECT_EQ(0x0000000000000040ULL, IVA_IH);
	EXPECT_EQ(0xfffffffffffff000ULL, IVA_ADDR);
	/*
	 * Linux __iommu_flush_iotlb, DSI of DID 5 on a unit with DRD and DWD:
	 * DMA_TLB_IVT | DMA_TLB_DSI_FLUSH (2 << 60) | DMA_TLB_DID(5) |
	 * DMA_TLB_READ_DRAIN (1 << 49) | DMA_TLB_WRITE_DRAIN (1 << 48).
	 */
	EXPECT_EQ(0xa003000500000000ULL,
		  IOTLB_IVT | FIELD_PREP(IOTLB_IIRG, REG_GRAN_DOMAIN) |
		  FIELD_PREP(IOTLB_DID, 5) | IOTLB_DR | IOTLB_DW);
	/* Hardware reporting a global flush actually performed: IAIG = 1. */
	EXPECT_EQ(REG_GRAN_GLOBAL, FIELD_GET(IOTLB_IAIG, 0x0200000000000000ULL));
	EXPECT_EQ(0x12345000ULL, 0x12345043ULL & IVA_ADDR);
	EXPECT_EQ(1u, FIELD_GET(IVA_IH, 0x12345043ULL));
	EXPECT_EQ(3u, FIELD_GET(IVA_AM, 0x12345043ULL));
	EXPECT_EQ(0, REG_GRAN_NONE);
	EXPECT_EQ(1, REG_GRAN_GLOBAL);
	EXPECT_EQ(2, REG_GRAN_DOMAIN);
	EXPECT_EQ(3, REG_GRAN_DEVICE);
}

TEST(fmt_reg_ccmd)
{
	EXPECT_EQ(0x8000000000000000ULL, CCMD_ICC);
	EXPECT_EQ(0x6000000000000000ULL, CCMD_CIRG);
	EXPECT_EQ(0x1800000000000000ULL, CCMD_CAIG);
	EXPECT_EQ(0x0000000300000000ULL, CCMD_FM);
	EXPECT_EQ(0x00000000ffff0000ULL, CCMD_SID);
	EXPECT_EQ(0x000000000000ffffULL, CCMD_DID);
	/* Linux: DMA_CCMD_ICC | DMA_CCMD_DEVICE_INVL (3 << 61) | DMA_CCMD_SID(0x0008) */
	EXPECT_EQ(0xe000000000080000ULL,
		  CCMD_ICC | FIELD_PREP(CCMD_CIRG, REG_GRAN_DEVICE) | FIELD_PREP(CCMD_SID, 0x0008));
	/* Linux: DMA_CCMD_ICC | DMA_CCMD_GLOBAL_INVL (1 << 61) */
	EXPECT_EQ(0xa000000000000000ULL, CCMD_ICC | FIELD_PREP(CCMD_CIRG, REG_GRAN_GLOBAL));
	EXPECT_EQ(0x1234u, FIELD_GET(CCMD_DID, 0x0001000200031234ULL));
	EXPECT_EQ(0x0003u, FIELD_GET(CCMD_SID, 0x0001000200031234ULL));
	EXPECT_EQ(2u, FIELD_GET(CCMD_FM, 0x0001000200031234ULL));
	EXPECT_EQ(3u, FIELD_GET(CCMD_CAIG, 0x1800000000000000ULL));
}

TEST(fmt_reg_frcd)
{
	/*
	 * A fault record as Linux's dmar_fault() reads it: the dword at +12
	 * (bits 127:96) is 0xc1234506: F (bit 31), T1 (bit 30, Linux's
	 * dma_frcd_type: 1 = "DMA Read"), PASID (d >> 8) & 0xfffff = 0x12345,
	 * reason d & 0xff = 0x06; the dword at +8 (bits 95:64) is 0x80000100:
	 * PASID present, SID 01:00.0.
	 */
	const uint64_t hi = 0xc123450680000100ULL;

	EXPECT_EQ(1u, FIELD_GET(FRCD_HI_F, hi));
	EXPECT_EQ(1u, FIELD_GET(FRCD_HI_T1, hi));
	EXPECT_EQ(0u, FIELD_GET(FRCD_HI_T2, hi));
	EXPECT_EQ(0u, FIELD_GET(FRCD_HI_AT, hi));
	EXPECT_EQ(0x12345u, FIELD_GET(FRCD_HI_PV, hi));
	EXPECT_EQ(0x06u, FIELD_GET(FRCD_HI_FR, hi));
	EXPECT_EQ(1u, FIELD_GET(FRCD_HI_PP, hi));
	EXPECT_EQ(0u, FIELD_GET(FRCD_HI_EXE, hi));
	EXPECT_EQ(0u, FIELD_GET(FRCD_HI_PRIV, hi));
	EXPECT_EQ(0x0100u, FIELD_GET(FRCD_HI_SID, hi));
	/* Absolute bit numbers of the 128-bit record (VT-d 10.4.14). */
	EXPECT_EQ(127u, abs_bit(1, FRCD_HI_F));
	EXPECT_EQ(126u, abs_bit(1, FRCD_HI_T1));
	EXPECT_EQ(124u, abs_bit(1, FRCD_HI_AT));
	EXPECT_EQ(104u, abs_bit(1, FRCD_HI_PV));
	EXPECT_EQ(96u, abs_bit(1, FRCD_HI_FR));
	EXPECT_EQ(95u, abs_bit(1, FRCD_HI_PP));
	EXPECT_EQ(94u, abs_bit(1, FRCD_HI_EXE));
	EXPECT_EQ(93u, abs_bit(1, FRCD_HI_PRIV));
	EXPECT_EQ(92u, abs_bit(1, FRCD_HI_T2));
	EXPECT_EQ(64u, abs_bit(1, FRCD_HI_SID));
	EXPECT_EQ(20, __builtin_popcountll(FRCD_HI_PV));
	EXPECT_EQ(8, __builtin_popcountll(FRCD_HI_FR));
	EXPECT_EQ(0xfffffffffffff000ULL, FRCD_LO_FI);
	/* T2:T1 = 00 write, 01 read */
	EXPECT_EQ(0, FRCD_TYPE_WRITE);
	EXPECT_EQ(1, FRCD_TYPE_READ);
}

/* ----------------------------------------------------------------- fault.h */

TEST(fmt_fault_reasons)
{
	/* Indices of Linux's dma_remap_fault_reasons[] (legacy). */
	EXPECT_EQ(0x01, FR_ROOT_P);		/* Present bit in root entry is clear */
	EXPECT_EQ(0x02, FR_CTX_P);		/* Present bit in context entry is clear */
	EXPECT_EQ(0x03, FR_CTX_INV);		/* Invalid context entry */
	EXPECT_EQ(0x04, FR_ADDR_WIDTH);		/* Access beyond MGAW */
	EXPECT_EQ(0x05, FR_WRITE);		/* PTE Write access is not set */
	EXPECT_EQ(0x06, FR_READ);		/* PTE Read access is not set */
	EXPECT_EQ(0x07, FR_PTE_ACCESS);		/* Next page table ptr is invalid */
	EXPECT_EQ(0x08, FR_ROOT_ACCESS);	/* Root table address invalid */
	EXPECT_EQ(0x09, FR_CTX_ACCESS);		/* Context table ptr is invalid */
	EXPECT_EQ(0x0a, FR_ROOT_RSVD);		/* non-zero reserved fields in RTP */
	EXPECT_EQ(0x0b, FR_CTX_RSVD);		/* non-zero reserved fields in CTP */
	EXPECT_EQ(0x0c, FR_PTE_RSVD);		/* non-zero reserved fields in PTE */
	EXPECT_EQ(0x0d, FR_CTX_TT);		/* PCE for translation request specifies blocking */
	/* Linux's dma_remap_sm_fault_reasons[], from 0x30. */
	EXPECT_EQ(0x31, FR_SM_LEGACY_PASID);	/* SM: TTM 0 for request with PASID */
	EXPECT_EQ(0x39, FR_SM_ROOT_P);		/* SM: Present bit in Root Entry is clear */
	EXPECT_EQ(0x41, FR_SM_CTX_P);
	EXPECT_EQ(0x44, FR_SM_CTX_DTE);		/* SM: DTE field in Context Entry is clear */
	EXPECT_EQ(0x45, FR_SM_CTX_PASIDE);
	EXPECT_EQ(0x46, FR_SM_PASID_RANGE);
	EXPECT_EQ(0x51, FR_SM_PDE_P);
	EXPECT_EQ(0x59, FR_SM_PTE_P);
	EXPECT_EQ(0x5b, FR_SM_PTE_INV);
	EXPECT_EQ(0x5d, FR_SM_SRE);		/* SM: SRE field is clear in PASID Table Entry */
	EXPECT_EQ(0x71, FR_SM_FS_P);
	EXPECT_EQ(0x79, FR_SM_SS_PERM);		/* SM: Read/Write permission error in second-level */
	EXPECT_EQ(0x7a, FR_SM_SS_RSVD);
	EXPECT_EQ(0x80, FR_SM_NONCANON);
	EXPECT_EQ(0x81, FR_SM_FS_US);
	EXPECT_EQ(0x83, FR_SM_ADDR_WIDTH);	/* SM: Address beyond the DMA hardware max */
	EXPECT_EQ(0x85, FR_SM_WRITE);
	EXPECT_EQ(0x86, FR_SM_READ);

	EXPECT_NULL(vtd_fault_name(0x00));
	EXPECT_NULL(vtd_fault_name(0x0e));
	EXPECT_NULL(vtd_fault_name(0x33));
	ASSERT_NONNULL(vtd_fault_name(0x05));
	EXPECT_EQ(0, strncmp(vtd_fault_name(0x05), "LGN.2 ", 6));
	ASSERT_NONNULL(vtd_fault_name(0x44));
	EXPECT_EQ(0, strncmp(vtd_fault_name(0x44), "SCT.5 ", 6));
}

/* ----------------------------------------------------------------- entry.h */

TEST(fmt_entry_sizes)
{
	EXPECT_EQ(16, ROOT_ENTRY_SIZE);
	EXPECT_EQ(16, CTX_ENTRY_SIZE);
	EXPECT_EQ(32, SM_CTX_ENTRY_SIZE);
	EXPECT_EQ(8, PASID_DIR_ENTRY_SIZE);
	EXPECT_EQ(64, PASID_ENTRY_SIZE);
	EXPECT_EQ(64, PASID_TABLE_ENTRIES);
	EXPECT_EQ(20, PASID_BITS);
}

TEST(fmt_entry_root)
{
	EXPECT_EQ(0x0000000000000001ULL, ROOT_P);
	EXPECT_EQ(0xfffffffffffff000ULL, ROOT_CTP);
	EXPECT_EQ(0x0000000000000ffeULL, ROOT_LO_RSVD);
	EXPECT_EQ(0x0000000000000001ULL, SMROOT_P);
	EXPECT_EQ(0xfffffffffffff000ULL, SMROOT_CTP);
	EXPECT_EQ(0x0000000000000ffeULL, SMROOT_RSVD);
	/* A present root entry pointing at a context table at 0x3f000. */
	EXPECT_EQ(1u, FIELD_GET(ROOT_P, 0x3f001ULL));
	EXPECT_EQ(0x3f000ULL, 0x3f001ULL & ROOT_CTP);
}

TEST(fmt_entry_context_legacy)
{
	EXPECT_EQ(0x0000000000000001ULL, CTX_P);
	EXPECT_EQ(0x0000000000000002ULL, CTX_FPD);
	EXPECT_EQ(0x000000000000000cULL, CTX_TT);
	EXPECT_EQ(0xfffffffffffff000ULL, CTX_SLPTPTR);
	EXPECT_EQ(0x0000000000000ff0ULL, CTX_LO_RSVD);
	EXPECT_EQ(0x0000000000000007ULL, CTX_AW);
	EXPECT_EQ(0x0000000000000078ULL, CTX_AVAIL);
	EXPECT_EQ(0x0000000000ffff00ULL, CTX_DID);	/* Linux: (did & 0xffff) << 8 */
	EXPECT_EQ(0xffffffffff000080ULL, CTX_HI_RSVD);
	EXPECT_EQ(0, CTX_TT_UNTRANSLATED);
	EXPECT_EQ(1, CTX_TT_DEVTLB);
	EXPECT_EQ(2, CTX_TT_PASSTHROUGH);
	/* DID 2, 3-level (39-bit, the QEMU unit), ATS device, table at 0x12345000. */
	const uint64_t lo = 0x0000000012345005ULL, hi = 0x0000000000000201ULL;

	EXPECT_EQ(1u, FIELD_GET(CTX_P, lo));
	EXPECT_EQ(0u, FIELD_GET(CTX_FPD, lo));
	EXPECT_EQ(CTX_TT_DEVTLB, FIELD_GET(CTX_TT, lo));
	EXPECT_EQ(0x12345000ULL, lo & CTX_SLPTPTR);
	EXPECT_EQ(1u, FIELD_GET(CTX_AW, hi));
	EXPECT_EQ(2u, FIELD_GET(CTX_DID, hi));
	EXPECT_EQ(0ULL, lo & CTX_LO_RSVD);
	EXPECT_EQ(0ULL, hi & CTX_HI_RSVD);
	/* AW: 1 = 3-level, 2 = 4-level, 3 = 5-level */
	EXPECT_EQ(3, aw_to_levels(1));
	EXPECT_EQ(4, aw_to_levels(2));
	EXPECT_EQ(5, aw_to_levels(3));
	EXPECT_EQ(1u, levels_to_aw(3));
	EXPECT_EQ(2u, levels_to_aw(4));
	EXPECT_EQ(3u, levels_to_aw(5));
}

TEST(fmt_entry_context_scalable)
{
	EXPECT_EQ(0x0000000000000001ULL, SMCTX_P);
	EXPECT_EQ(0x0000000000000002ULL, SMCTX_FPD);
	EXPECT_EQ(0x0000000000000004ULL, SMCTX_DTE);	/* Linux context_set_sm_dte: BIT_ULL(2) */
	EXPECT_EQ(0x0000000000000008ULL, SMCTX_PASIDE);
	EXPECT_EQ(0x0000000000000010ULL, SMCTX_PRE);	/* Linux context_set_sm_pre: BIT_ULL(4) */
	EXPECT_EQ(0x0000000000000e00ULL, SMCTX_PDTS);	/* Linux context_pdts(p): (p & 7) << 9 */
	EXPECT_EQ(0xfffffffffffff000ULL, SMCTX_PASIDDIRPTR);
	EXPECT_EQ(0x00000000000001e0ULL, SMCTX_Q0_RSVD);
	EXPECT_EQ(0x00000000000fffffULL, SMCTX_RID_PASID);	/* Linux: pasid & ((1 << 20) - 1) */
	EXPECT_EQ(0x0000000000100000ULL, SMCTX_RID_PRIV);
	EXPECT_EQ(0xffffffffffe00000ULL, SMCTX_Q1_RSVD);
	/* Directory at 0x7654000 of 2^(7+7) entries, DTE, present; RID_PASID 0. */
	const uint64_t lo = 0x0000000007654e05ULL;

	EXPECT_EQ(7u, FIELD_GET(SMCTX_PDTS, lo));
	EXPECT_EQ(1u, FIELD_GET(SMCTX_DTE, lo));
	EXPECT_EQ(0u, FIELD_GET(SMCTX_PASIDE, lo));
	EXPECT_EQ(0u, FIELD_GET(SMCTX_PRE, lo));
	EXPECT_EQ(1u, FIELD_GET(SMCTX_P, lo));
	EXPECT_EQ(0x7654000ULL, lo & SMCTX_PASIDDIRPTR);
	EXPECT_EQ(0x12345u, FIELD_GET(SMCTX_RID_PASID, 0x0000000000112345ULL));
	EXPECT_EQ(1u, FIELD_GET(SMCTX_RID_PRIV, 0x0000000000112345ULL));
}

TEST(fmt_entry_pasid_dir)
{
	EXPECT_EQ(0x1ULL, PDE_P);
	EXPECT_EQ(0x2ULL, PDE_FPD);
	EXPECT_EQ(0xfffffffffffff000ULL, PDE_SMPTBLPTR);
	EXPECT_EQ(0xffcULL, PDE_RSVD);
}

TEST(fmt_entry_pasid)
{
	/* Masks per qword */
	EXPECT_EQ(0x0000000000000001ULL, PTE0_P);
	EXPECT_EQ(0x0000000000000002ULL, PTE0_FPD);
	EXPECT_EQ(0x000000000000001cULL, PTE0_AW);	/* Linux GENMASK_ULL(4, 2) */
	EXPECT_EQ(0x00000000000001c0ULL, PTE0_PGTT);	/* Linux GENMASK_ULL(8, 6) */
	EXPECT_EQ(0x0000000000000200ULL, PTE0_SSADE);
	EXPECT_EQ(0xfffffffffffff000ULL, PTE0_SSPTPTR);
	EXPECT_EQ(0x000000000000ffffULL, PTE1_DID);
	EXPECT_EQ(0x0000000000800000ULL, PTE1_PWSNP);	/* Linux val[1] 1 << 23 */
	EXPECT_EQ(0x0000000001000000ULL, PTE1_PGSNP);	/* Linux val[1] 1ULL << 24 */
	EXPECT_EQ(0x0000000000000001ULL, PTE2_SRE);	/* Linux val[2] 1 << 0 */
	EXPECT_EQ(0x000000000000000cULL, PTE2_FLPM);	/* Linux val[2] GENMASK_ULL(3, 2) */
	EXPECT_EQ(0x0000000000000010ULL, PTE2_WPE);	/* Linux val[2] 1 << 4 */
	EXPECT_EQ(0x0000000000000020ULL, PTE2_NXE);	/* Linux val[2] 1 << 5 */
	EXPECT_EQ(0x0000000000000080ULL, PTE2_EAFE);	/* Linux val[2] 1 << 7 */
	EXPECT_EQ(0xfffffffffffff000ULL, PTE2_FSPTPTR);

	/* Absolute bit numbers of the 512-bit entry (VT-d 9.6). */
	EXPECT_EQ(2u, abs_bit(0, PTE0_AW));
	EXPECT_EQ(6u, abs_bit(0, PTE0_PGTT));
	EXPECT_EQ(9u, abs_bit(0, PTE0_SSADE));
	EXPECT_EQ(12u, abs_bit(0, PTE0_SSPTPTR));
	EXPECT_EQ(64u, abs_bit(1, PTE1_DID));
	EXPECT_EQ(87u, abs_bit(1, PTE1_PWSNP));
	EXPECT_EQ(88u, abs_bit(1, PTE1_PGSNP));
	EXPECT_EQ(128u, abs_bit(2, PTE2_SRE));
	EXPECT_EQ(130u, abs_bit(2, PTE2_FLPM));
	EXPECT_EQ(132u, abs_bit(2, PTE2_WPE));
	EXPECT_EQ(135u, abs_bit(2, PTE2_EAFE));
	EXPECT_EQ(140u, abs_bit(2, PTE2_FSPTPTR));
	/* DID 79:64 and FSPTPTR 191:140 widths */
	EXPECT_EQ(16, __builtin_popcountll(PTE1_DID));
	EXPECT_EQ(52, __builtin_popcountll(PTE2_FSPTPTR));

	EXPECT_EQ(1, PGTT_FS);
	EXPECT_EQ(2, PGTT_SS);
	EXPECT_EQ(3, PGTT_NESTED);
	EXPECT_EQ(4, PGTT_PT);

	/* Second-stage-only entry, 4-level, DID 0x42, table at 0x1000000. */
	const uint64_t q0 = 0x0000000001000089ULL, q1 = 0x0000000000800042ULL;

	EXPECT_EQ(1u, FIELD_GET(PTE0_P, q0));
	EXPECT_EQ(2u, FIELD_GET(PTE0_AW, q0));
	EXPECT_EQ(PGTT_SS, FIELD_GET(PTE0_PGTT, q0));
	EXPECT_EQ(0x1000000ULL, q0 & PTE0_SSPTPTR);
	EXPECT_EQ(0x42u, FIELD_GET(PTE1_DID, q1));
	EXPECT_EQ(1u, FIELD_GET(PTE1_PWSNP, q1));
	EXPECT_EQ(0u, FIELD_GET(PTE1_PGSNP, q1));
	/* First-stage, 5-level, SRE, WPE, table at 0xabc000: qw2 */
	EXPECT_EQ(0x0000000000abc015ULL,
		  FIELD_PREP(PTE2_FSPTPTR, 0xabc) | FIELD_PREP(PTE2_FLPM, 1) | PTE2_SRE | PTE2_WPE);
	EXPECT_EQ(0xffffffffu, VTD_NO_PASID);
}

/* ------------------------------------------------------------------- pte.h */

TEST(fmt_pte_second_stage)
{
	EXPECT_EQ(0x0000000000000001ULL, SSPTE_R);
	EXPECT_EQ(0x0000000000000002ULL, SSPTE_W);
	EXPECT_EQ(0x0000000000000004ULL, SSPTE_X);
	EXPECT_EQ(0x0000000000000038ULL, SSPTE_EMT);
	EXPECT_EQ(0x0000000000000040ULL, SSPTE_IPAT);
	EXPECT_EQ(0x0000000000000080ULL, SSPTE_PS);	/* Linux DMA_PTE_LARGE_PAGE */
	EXPECT_EQ(0x0000000000000100ULL, SSPTE_A);
	EXPECT_EQ(0x0000000000000200ULL, SSPTE_D);
	EXPECT_EQ(0x0000000000000800ULL, SSPTE_SNP);	/* Linux DMA_PTE_SNP */
	EXPECT_EQ(0x000ffffffffff000ULL, SSPTE_ADDR);
	EXPECT_EQ(0x4000000000000000ULL, SSPTE_TM);
	EXPECT_EQ(0xbff0000000000400ULL, SSPTE_IGNORED);
	/* A 2M leaf at 0x40200000, read/write: */
	const uint64_t pte = 0x0000000040200083ULL;

	EXPECT_TRUE(sspte_present(pte));
	EXPECT_EQ(1u, FIELD_GET(SSPTE_PS, pte));
	EXPECT_EQ(0x40200000ULL, pte & SSPTE_ADDR);
	EXPECT_TRUE(sspte_present(SSPTE_R));
	EXPECT_TRUE(sspte_present(SSPTE_W));
	EXPECT_FALSE(sspte_present(0x0000000040200080ULL));
	EXPECT_FALSE(sspte_present(0));
}

TEST(fmt_pte_first_stage)
{
	EXPECT_EQ(0x0000000000000001ULL, FSPTE_P);
	EXPECT_EQ(0x0000000000000002ULL, FSPTE_RW);
	EXPECT_EQ(0x0000000000000004ULL, FSPTE_US);
	EXPECT_EQ(0x0000000000000008ULL, FSPTE_PWT);
	EXPECT_EQ(0x0000000000000010ULL, FSPTE_PCD);
	EXPECT_EQ(0x0000000000000020ULL, FSPTE_A);
	EXPECT_EQ(0x0000000000000040ULL, FSPTE_D);
	EXPECT_EQ(0x0000000000000080ULL, FSPTE_PS);
	EXPECT_EQ(0x0000000000000100ULL, FSPTE_G);
	EXPECT_EQ(0x0000000000001000ULL, FSPTE_LPAT);
	EXPECT_EQ(0x000ffffffffff000ULL, FSPTE_ADDR);
	EXPECT_EQ(0x8000000000000000ULL, FSPTE_XD);
}

TEST(fmt_pte_levels)
{
	static const unsigned shift[6] = { 0, 12, 21, 30, 39, 48 };
	static const uint64_t size[6] = {
		0, 0x1000ULL, 0x200000ULL, 0x40000000ULL, 0x8000000000ULL, 0x1000000000000ULL,
	};

	for (int l = 1; l <= VTD_MAX_LEVELS; l++) {
		EXPECT_EQ(shift[l], pt_level_shift(l));
		EXPECT_EQ(size[l], pt_level_size(l));
	}
	EXPECT_EQ(39u, pt_levels_width(3));
	EXPECT_EQ(48u, pt_levels_width(4));
	EXPECT_EQ(57u, pt_levels_width(5));
	EXPECT_EQ(12, VTD_PAGE_SHIFT);
	EXPECT_EQ(4096ULL, VTD_PAGE_SIZE);
	EXPECT_EQ(512, VTD_PTES_PER_TABLE);
}

TEST(fmt_pte_index)
{
	/* The top page of a 48-bit space indexes 511 at every level of 4 ... */
	for (int l = 1; l <= 4; l++)
		EXPECT_EQ(511u, pt_index(0x0000fffffffff000ULL, l));
	/* ... and the top of its lower canonical half, bit 47 clear, 255 at level 4. */
	EXPECT_EQ(511u, pt_index(0x00007ffffffff000ULL, 1));
	EXPECT_EQ(511u, pt_index(0x00007ffffffff000ULL, 2));
	EXPECT_EQ(511u, pt_index(0x00007ffffffff000ULL, 3));
	EXPECT_EQ(255u, pt_index(0x00007ffffffff000ULL, 4));
	/* 1<<39 | 2<<30 | 3<<21 | 4<<12, plus an in-page offset */
	const uint64_t iova = 0x0000008080604abcULL;

	EXPECT_EQ(4u, pt_index(iova, 1));
	EXPECT_EQ(3u, pt_index(iova, 2));
	EXPECT_EQ(2u, pt_index(iova, 3));
	EXPECT_EQ(1u, pt_index(iova, 4));
	EXPECT_EQ(0u, pt_index(iova, 5));
	/* 57-bit: PML5 index comes from bits 56:48. */
	EXPECT_EQ(255u, pt_index(0x00fffffffffff000ULL, 5));
	EXPECT_EQ(511u, pt_index(0x01ff000000000000ULL, 5));
	/* An IOVA from the traces, 0xffffe000: 0/3/511/510 */
	EXPECT_EQ(510u, pt_index(0xffffe000ULL, 1));
	EXPECT_EQ(511u, pt_index(0xffffe000ULL, 2));
	EXPECT_EQ(3u, pt_index(0xffffe000ULL, 3));
	EXPECT_EQ(0u, pt_index(0xffffe000ULL, 4));
}

TEST(fmt_pte_haw_rsvd)
{
	EXPECT_EQ(0x000fff8000000000ULL, pt_haw_rsvd(39));
	EXPECT_EQ(0x000f000000000000ULL, pt_haw_rsvd(48));
	EXPECT_EQ(0x0008000000000000ULL, pt_haw_rsvd(51));
	EXPECT_EQ(0ULL, pt_haw_rsvd(52));
	EXPECT_EQ(0ULL, pt_haw_rsvd(57));
}

/* -------------------------------------------- device-TLB size encoding */

/* Reference encoder: S=1 and ADDR bits 12 .. 12+order-2 set (VT-d 6.5.2.5). */
static void ref_devtlb_encode(uint64_t addr, unsigned order, uint64_t *field, bool *s)
{
	*field = addr & ~0xfffULL;
	*s = order != 0;
	for (unsigned i = 0; i + 1 < order; i++)
		*field |= 1ULL << (12 + i);
}

/* Reference decoder: walk up from bit 12 to the first clear bit. */
static void ref_devtlb_decode(uint64_t field, bool s, uint64_t *base, uint64_t *size)
{
	unsigned k = 0;

	if (!s) {
		*base = field & ~0xfffULL;
		*size = 4096;
		return;
	}
	while (12 + k < 64 && (field >> (12 + k)) & 1)
		k++;
	if (12 + k + 1 >= 64) {
		*base = 0;
		*size = 0;
		return;
	}
	*size = 4096ULL << (k + 1);
	*base = field & ~0xfffULL & ~(*size - 1);
}

TEST(fmt_devtlb_size_golden)
{
	uint64_t base, size;

	/* S=0: one page, whatever the address bits say. */
	devtlb_range_decode(0xffffa000ULL, false, &base, &size);
	EXPECT_EQ(0xffffa000ULL, base);
	EXPECT_EQ(0x1000ULL, size);
	devtlb_range_decode(0xffff3000ULL, false, &base, &size);
	EXPECT_EQ(0xffff3000ULL, base);
	EXPECT_EQ(0x1000ULL, size);
	/* S=1, bit 12 clear: 8K (trace: dev_tlb_inv 0x10000000003 0xffff2001) */
	devtlb_range_decode(0xffff2000ULL, true, &base, &size);
	EXPECT_EQ(0xffff2000ULL, base);
	EXPECT_EQ(0x2000ULL, size);
	/* S=1, bit 12 set, 13 clear: 16K */
	devtlb_range_decode(0xffff5000ULL, true, &base, &size);
	EXPECT_EQ(0xffff4000ULL, base);
	EXPECT_EQ(0x4000ULL, size);
	/* S=1, bits 12..14 set, 15 clear: 64K aligned */
	devtlb_range_decode(0x12347000ULL, true, &base, &size);
	EXPECT_EQ(0x12340000ULL, base);
	EXPECT_EQ(0x10000ULL, size);
	/* S=1, bits 12..20 set, 21 clear: 4M */
	devtlb_range_decode(0x401ff000ULL, true, &base, &size);
	EXPECT_EQ(0x40000000ULL, base);
	EXPECT_EQ(0x400000ULL, size);
	/* The whole space (trace: 0x7ffffffffffff001): size 0 means all. */
	devtlb_range_decode(0x7ffffffffffff000ULL, true, &base, &size);
	EXPECT_EQ(0ULL, base);
	EXPECT_EQ(0ULL, size);
	devtlb_range_decode(0xfffffffffffff000ULL, true, &base, &size);
	EXPECT_EQ(0ULL, size);
	/* 50 ones then a zero at bit 62: the low half of the space, 2^63 bytes. */
	devtlb_range_decode(0x3ffffffffffff000ULL, true, &base, &size);
	EXPECT_EQ(0ULL, base);
	EXPECT_EQ(0x8000000000000000ULL, size);
}

TEST(fmt_devtlb_encode_golden)
{
	uint64_t field;
	bool s;

	devtlb_range_encode(0xffffa000ULL, 0, &field, &s);
	EXPECT_EQ(0xffffa000ULL, field);
	EXPECT_FALSE(s);
	/* Linux qi_flush_dev_iotlb, mask 1: 0xffff2001 in the traces */
	devtlb_range_encode(0xffff2000ULL, 1, &field, &s);
	EXPECT_EQ(0xffff2000ULL, field);
	EXPECT_TRUE(s);
	devtlb_range_encode(0x12340000ULL, 4, &field, &s);
	EXPECT_EQ(0x12347000ULL, field);
	EXPECT_TRUE(s);
	/* Linux's full flush, mask MAX_AGAW_PFN_WIDTH = 52: 0x7ffffffffffff001 */
	devtlb_range_encode(0, 52, &field, &s);
	EXPECT_EQ(0x7ffffffffffff000ULL, field);
	EXPECT_TRUE(s);
}

TEST(fmt_devtlb_round_trip_random)
{
	uint64_t seed = 0x243f6a8885a308d3ULL;

	for (unsigned order = 0; order <= 20; order++) {
		for (int n = 0; n < 200; n++) {
			/* An address below 2^57, aligned to 2^order pages */
			uint64_t addr = rng_next(&seed) & GENMASK_ULL(56, 12 + order);
			uint64_t field, want_field, base, size, want_base, want_size;
			bool s, want_s;

			devtlb_range_encode(addr, order, &field, &s);
			ref_devtlb_encode(addr, order, &want_field, &want_s);
			EXPECT_EQ(want_field, field);
			EXPECT_EQ(want_s, s);

			devtlb_range_decode(field, s, &base, &size);
			ref_devtlb_decode(field, s, &want_base, &want_size);
			EXPECT_EQ(want_base, base);
			EXPECT_EQ(want_size, size);
			/* and it names exactly the range encoded */
			EXPECT_EQ(addr, base);
			EXPECT_EQ(4096ULL << order, size);
			if (th_test_failed()) {
				TH_LOG("order %u addr %#llx field %#llx", order,
				       (unsigned long long)addr, (unsigned long long)field);
				return;
			}
		}
	}
}

TEST(fmt_devtlb_decode_random)
{
	uint64_t seed = 0x13198a2e03707344ULL;

	/* Any field value, S=1: the optimised decoder agrees with the walk. */
	for (int n = 0; n < 4096; n++) {
		uint64_t x = rng_next(&seed);
		/* runs of ones of every length from bit 12 up */
		uint64_t field = (x & ~0xfffULL) | GENMASK_ULL(12 + (unsigned)(n % 52), 12);
		uint64_t base, size, want_base, want_size;

		devtlb_range_decode(field, true, &base, &size);
		ref_devtlb_decode(field, true, &want_base, &want_size);
		EXPECT_EQ(want_base, base);
		EXPECT_EQ(want_size, size);
		if (th_test_failed()) {
			TH_LOG("field %#llx", (unsigned long long)field);
			return;
		}
	}
}
