/*
 * regs.h — VT-d remapping-unit registers: offsets and fields (VT-d spec
 * chapter 10, "Register Descriptions"). Stateless: driver and model both
 * describe the register file with these names, and golden tests pin them
 * to values from the specification and from real hardware dumps.
 */
#ifndef VTD_FMT_REGS_H
#define VTD_FMT_REGS_H

#include "fmt/bits.h"

/* Register offsets (VT-d 10.4). IVA/IOTLB sit at 16*ECAP.IRO, FRCD at 16*CAP.FRO. */
enum {
	DMAR_VER_REG	= 0x00,	/* 32-bit version */
	DMAR_CAP_REG	= 0x08,	/* 64-bit capability */
	DMAR_ECAP_REG	= 0x10,	/* 64-bit extended capability */
	DMAR_GCMD_REG	= 0x18,	/* 32-bit global command */
	DMAR_GSTS_REG	= 0x1c,	/* 32-bit global status */
	DMAR_RTADDR_REG	= 0x20,	/* 64-bit root table address */
	DMAR_CCMD_REG	= 0x28,	/* 64-bit context command */
	DMAR_FSTS_REG	= 0x34,	/* 32-bit fault status */
	DMAR_FECTL_REG	= 0x38,	/* 32-bit fault event control */
	DMAR_FEDATA_REG	= 0x3c,	/* 32-bit fault event data */
	DMAR_FEADDR_REG	= 0x40,	/* 32-bit fault event address */
	DMAR_FEUADDR_REG = 0x44,	/* 32-bit fault event upper address */
	DMAR_IQH_REG	= 0x80,	/* 64-bit invalidation queue head */
	DMAR_IQT_REG	= 0x88,	/* 64-bit invalidation queue tail */
	DMAR_IQA_REG	= 0x90,	/* 64-bit invalidation queue address */
	DMAR_ICS_REG	= 0x9c,	/* 32-bit invalidation completion status */
	DMAR_IECTL_REG	= 0xa0,	/* 32-bit invalidation event control */
	DMAR_IEDATA_REG	= 0xa4,	/* 32-bit invalidation event data */
	DMAR_IEADDR_REG	= 0xa8,	/* 32-bit invalidation event address */
	DMAR_IEUADDR_REG = 0xac,	/* 32-bit invalidation event upper address */
	DMAR_IQER_REG	= 0xb0,	/* 64-bit invalidation queue error record */
	DMAR_IRTA_REG	= 0xb8,	/* 64-bit interrupt remapping table address */
};

/* VER_REG (10.4.1) */
#define VER_MIN			GENMASK_ULL(3, 0)	/* minor version */
#define VER_MAX			GENMASK_ULL(7, 4)	/* major version */

/* CAP_REG (10.4.2) */
#define CAP_ND			GENMASK_ULL(2, 0)	/* domains: 2^(4+2*ND) */
#define CAP_AFL			BIT_ULL(3)		/* advanced fault logging */
#define CAP_RWBF		BIT_ULL(4)		/* write-buffer flush required */
#define CAP_PLMR		BIT_ULL(5)		/* protected low-memory region */
#define CAP_PHMR		BIT_ULL(6)		/* protected high-memory region */
#define CAP_CM			BIT_ULL(7)		/* caching mode */
#define CAP_SAGAW		GENMASK_ULL(12, 8)	/* bit1 39b/3-lvl, bit2 48b/4-lvl, bit3 57b/5-lvl */
#define CAP_MGAW		GENMASK_ULL(21, 16)	/* max guest address width - 1 */
#define CAP_ZLR			BIT_ULL(22)		/* zero-length read */
#define CAP_FRO			GENMASK_ULL(33, 24)	/* fault-recording offset, 16-byte units */
#define CAP_SLLPS		GENMASK_ULL(37, 34)	/* second-stage large pages: bit0 2M, bit1 1G */
#define CAP_PSI			BIT_ULL(39)		/* page-selective invalidation */
#define CAP_NFR			GENMASK_ULL(47, 40)	/* number of fault-recording registers - 1 */
#define CAP_MAMV		GENMASK_ULL(53, 48)	/* maximum address mask value */
#define CAP_DWD			BIT_ULL(54)		/* write draining */
#define CAP_DRD			BIT_ULL(55)		/* read draining */
#define CAP_FL1GP		BIT_ULL(56)		/* first-stage 1G pages */
#define CAP_PI			BIT_ULL(59)		/* posted interrupts */
#define CAP_FL5LP		BIT_ULL(60)		/* first-stage 5-level paging */
#define CAP_ECMDS		BIT_ULL(61)		/* enhanced command support */
#define CAP_ESIRTPS		BIT_ULL(62)		/* SIRTP invalidates IR caches */
#define CAP_ESRTPS		BIT_ULL(63)		/* SRTP invalidates remapping caches */

/* SAGAW bits (CAP 12:8) by page-table depth */
#define SAGAW_3LVL		BIT_ULL(1)		/* 39-bit AGAW */
#define SAGAW_4LVL		BIT_ULL(2)		/* 48-bit AGAW */
#define SAGAW_5LVL		BIT_ULL(3)		/* 57-bit AGAW */

/* ECAP_REG (10.4.3) */
#define ECAP_C			BIT_ULL(0)		/* page-walk coherency */
#define ECAP_QI			BIT_ULL(1)		/* queued invalidation */
#define ECAP_DT			BIT_ULL(2)		/* device-TLB */
#define ECAP_IR			BIT_ULL(3)		/* interrupt remapping */
#define ECAP_EIM		BIT_ULL(4)		/* extended interrupt mode */
#define ECAP_PT			BIT_ULL(6)		/* pass-through */
#define ECAP_SC			BIT_ULL(7)		/* snoop control */
#define ECAP_IRO		GENMASK_ULL(17, 8)	/* IOTLB register offset, 16-byte units */
#define ECAP_MHMV		GENMASK_ULL(23, 20)	/* maximum handle mask value */
#define ECAP_MTS		BIT_ULL(25)		/* memory type support */
#define ECAP_NEST		BIT_ULL(26)		/* nested translation */
#define ECAP_PRS		BIT_ULL(29)		/* page requests */
#define ECAP_ERS		BIT_ULL(30)		/* execute requests */
#define ECAP_SRS		BIT_ULL(31)		/* supervisor requests */
#define ECAP_NWFS		BIT_ULL(33)		/* no write flag */
#define ECAP_EAFS		BIT_ULL(34)		/* extended accessed flag */
#define ECAP_PSS		GENMASK_ULL(39, 35)	/* PASID size - 1 */
#define ECAP_PASID		BIT_ULL(40)		/* process address space IDs */
#define ECAP_DIT		BIT_ULL(41)		/* device-TLB invalidation throttle (PFSID) */
#define ECAP_PDS		BIT_ULL(42)		/* page-request drain in wait descriptor */
#define ECAP_SMTS		BIT_ULL(43)		/* scalable-mode translation */
#define ECAP_VCS		BIT_ULL(44)		/* virtual command (emulations only) */
#define ECAP_SSADS		BIT_ULL(45)		/* second-stage A/D bits */
#define ECAP_SSTS		BIT_ULL(46)		/* second-stage translation (PGTT=010) */
#define ECAP_FSTS		BIT_ULL(47)		/* first-stage translation (PGTT=001) */
#define ECAP_SMPWCS		BIT_ULL(48)		/* scalable-mode page-walk coherency */
#define ECAP_RPS		BIT_ULL(49)		/* RID_PASID support */

/* GCMD_REG / GSTS_REG (10.4.4, 10.4.5): command bit N reports in status bit N */
#define GCMD_CFI		BIT_ULL(23)		/* compatibility format interrupt */
#define GCMD_SIRTP		BIT_ULL(24)		/* set interrupt remap table pointer */
#define GCMD_IRE		BIT_ULL(25)		/* interrupt remapping enable */
#define GCMD_QIE		BIT_ULL(26)		/* queued invalidation enable */
#define GCMD_WBF		BIT_ULL(27)		/* write-buffer flush */
#define GCMD_EAFL		BIT_ULL(28)		/* enable advanced fault logging */
#define GCMD_SFL		BIT_ULL(29)		/* set fault log */
#define GCMD_SRTP		BIT_ULL(30)		/* set root table pointer */
#define GCMD_TE			BIT_ULL(31)		/* translation enable */
#define GSTS_CFIS		GCMD_CFI
#define GSTS_IRTPS		GCMD_SIRTP
#define GSTS_IRES		GCMD_IRE
#define GSTS_QIES		GCMD_QIE
#define GSTS_WBFS		GCMD_WBF
#define GSTS_AFLS		GCMD_EAFL
#define GSTS_FLS		GCMD_SFL
#define GSTS_RTPS		GCMD_SRTP
#define GSTS_TES		GCMD_TE

/* RTADDR_REG (10.4.6) */
#define RTADDR_TTM		GENMASK_ULL(11, 10)	/* translation table mode */
#define RTADDR_RTA		GENMASK_ULL(63, 12)	/* root table address (4K page) */
enum rtaddr_ttm {
	TTM_LEGACY	= 0,	/* 128-bit root and context entries */
	TTM_SCALABLE	= 1,	/* scalable-mode root/context, PASID tables */
	TTM_RSVD2	= 2,
	TTM_ABORT	= 3,	/* abort-DMA mode (ECAP.ADMS); not modelled */
};

/* CCMD_REG (10.4.7): register-based context-cache invalidation */
#define CCMD_DID		GENMASK_ULL(15, 0)
#define CCMD_SID		GENMASK_ULL(31, 16)
#define CCMD_FM			GENMASK_ULL(33, 32)	/* function mask */
#define CCMD_CAIG		GENMASK_ULL(60, 59)	/* actual granularity (RO) */
#define CCMD_CIRG		GENMASK_ULL(62, 61)	/* requested granularity */
#define CCMD_ICC		BIT_ULL(63)		/* invalidate context cache */

/* FSTS_REG (10.4.9) */
#define FSTS_PFO		BIT_ULL(0)		/* primary fault overflow, RW1C */
#define FSTS_PPF		BIT_ULL(1)		/* primary pending fault, RO */
#define FSTS_AFO		BIT_ULL(2)		/* advanced fault overflow, RW1C */
#define FSTS_APF		BIT_ULL(3)		/* advanced pending fault, RW1C */
#define FSTS_IQE		BIT_ULL(4)		/* invalidation queue error, RW1C */
#define FSTS_ICE		BIT_ULL(5)		/* invalidation completion error, RW1C */
#define FSTS_ITE		BIT_ULL(6)		/* invalidation time-out error, RW1C */
#define FSTS_FRI		GENMASK_ULL(15, 8)	/* fault record index, RO */

/* FECTL_REG (10.4.10) and IECTL_REG (10.4.26) share the layout */
#define ECTL_IP			BIT_ULL(30)		/* interrupt pending, RO */
#define ECTL_IM			BIT_ULL(31)		/* interrupt mask */

/* IQH_REG / IQT_REG (10.4.22, 10.4.23): index in 16-byte units; bit 4 must be 0 with DW=1 */
#define IQ_PTR			GENMASK_ULL(18, 4)

/* IQA_REG (10.4.24) */
#define IQA_QS			GENMASK_ULL(2, 0)	/* 2^(QS+8) 128-bit entries */
#define IQA_DW			BIT_ULL(11)		/* 256-bit descriptors */
#define IQA_IQA			GENMASK_ULL(63, 12)	/* queue base (4K page) */

/* ICS_REG (10.4.25) */
#define ICS_IWC			BIT_ULL(0)		/* invalidation wait complete, RW1C */

/* IQERCD_REG (10.4.33) */
#define IQER_IQEI		GENMASK_ULL(3, 0)	/* invalidation queue error info */
#define IQER_ITESID		GENMASK_ULL(47, 32)	/* SID of the timed-out device-TLB inv */
#define IQER_ICESID		GENMASK_ULL(63, 48)	/* SID of the bad completion */

/* IVA_REG (10.4.8.2) */
#define IVA_AM			GENMASK_ULL(5, 0)	/* address mask: 2^AM pages */
#define IVA_IH			BIT_ULL(6)		/* invalidation hint: leaves only */
#define IVA_ADDR		GENMASK_ULL(63, 12)

/* IOTLB_REG (10.4.8.1) */
#define IOTLB_DID		GENMASK_ULL(47, 32)
#define IOTLB_DW		BIT_ULL(48)		/* drain writes */
#define IOTLB_DR		BIT_ULL(49)		/* drain reads */
#define IOTLB_IAIG		GENMASK_ULL(58, 57)	/* actual granularity (RO) */
#define IOTLB_IIRG		GENMASK_ULL(61, 60)	/* requested granularity */
#define IOTLB_IVT		BIT_ULL(63)		/* invalidate IOTLB */

/* Register-based invalidation granularities (CIRG/CAIG, IIRG/IAIG) */
enum reg_inv_gran {
	REG_GRAN_NONE	= 0,	/* reserved as request; as "actual": not performed */
	REG_GRAN_GLOBAL	= 1,
	REG_GRAN_DOMAIN	= 2,
	REG_GRAN_DEVICE	= 3,	/* CCMD: device-selective; IOTLB: page-selective */
};

/*
 * FRCD_REG (10.4.14): 128 bits, at 16*CAP.FRO + 16*index. Fields of the
 * low qword (qw0) and the high qword (qw1).
 */
#define FRCD_LO_FI		GENMASK_ULL(63, 12)	/* faulting page address */
#define FRCD_HI_SID		GENMASK_ULL(15, 0)	/* bits 79:64 source id */
#define FRCD_HI_T2		BIT_ULL(28)		/* bit 92 type bit 2 */
#define FRCD_HI_PRIV		BIT_ULL(29)		/* bit 93 privilege requested */
#define FRCD_HI_EXE		BIT_ULL(30)		/* bit 94 execute requested */
#define FRCD_HI_PP		BIT_ULL(31)		/* bit 95 PASID present */
#define FRCD_HI_FR		GENMASK_ULL(39, 32)	/* bits 103:96 fault reason */
#define FRCD_HI_PV		GENMASK_ULL(59, 40)	/* bits 123:104 PASID value */
#define FRCD_HI_AT		GENMASK_ULL(61, 60)	/* bits 125:124 address type */
#define FRCD_HI_T1		BIT_ULL(62)		/* bit 126 type bit 1 */
#define FRCD_HI_F		BIT_ULL(63)		/* bit 127 fault, RW1C */

/* Request type in FRCD (T2, T1): write, read, translation request, atomic */
enum frcd_type {
	FRCD_TYPE_WRITE		= 0,
	FRCD_TYPE_READ		= 1,
	FRCD_TYPE_TRANSLATE	= 2,
	FRCD_TYPE_ATOMIC	= 3,
};

/* Domains a unit supports: 2^(4 + 2*ND) (10.4.2, ND). */
static inline unsigned long cap_ndoms(uint64_t cap)
{
	return 1UL << (4 + 2 * FIELD_GET(CAP_ND, cap));
}

/* Byte offset of the IVA register; IOTLB_REG follows at +8. */
static inline unsigned ecap_iva_offset(uint64_t ecap)
{
	return (unsigned)FIELD_GET(ECAP_IRO, ecap) * 16;
}

static inline unsigned cap_frcd_offset(uint64_t cap)
{
	return (unsigned)FIELD_GET(CAP_FRO, cap) * 16;
}

static inline unsigned cap_nfr(uint64_t cap)
{
	return (unsigned)FIELD_GET(CAP_NFR, cap) + 1;
}

/* Invalidation-queue entries for IQA: 2^(QS+8) 128-bit slots, halved with DW. */
static inline unsigned iqa_entries(uint64_t iqa)
{
	unsigned slots = 1u << (FIELD_GET(IQA_QS, iqa) + 8);

	return (iqa & IQA_DW) ? slots / 2 : slots;
}

#endif
