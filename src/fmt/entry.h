/*
 * entry.h — root, context and PASID structures (VT-d 9.1–9.6): legacy
 * 128-bit root/context entries, scalable-mode root entries, 256-bit
 * scalable-mode context entries, PASID directory entries and 512-bit
 * PASID table entries. Entries are arrays of little-endian qwords;
 * each field is a mask on one qword, named after its spec field.
 */
#ifndef VTD_FMT_ENTRY_H
#define VTD_FMT_ENTRY_H

#include "fmt/bits.h"

#define ROOT_ENTRY_SIZE		16
#define CTX_ENTRY_SIZE		16	/* legacy */
#define SM_CTX_ENTRY_SIZE	32
#define PASID_DIR_ENTRY_SIZE	8
#define PASID_ENTRY_SIZE	64
#define PASID_TABLE_ENTRIES	64	/* PASID[5:0] indexes a table */
#define PASID_BITS		20

/* Legacy root entry (9.1): qw0 */
#define ROOT_P			BIT_ULL(0)		/* present */
#define ROOT_CTP		GENMASK_ULL(63, 12)	/* context-table pointer */
#define ROOT_LO_RSVD		GENMASK_ULL(11, 1)	/* qw1 is all reserved */

/* Scalable-mode root entry (9.2): qw0 = lower (devfn 0-127), qw1 = upper (128-255) */
#define SMROOT_P		BIT_ULL(0)		/* LP / UP */
#define SMROOT_CTP		GENMASK_ULL(63, 12)	/* LCTP / UCTP */
#define SMROOT_RSVD		GENMASK_ULL(11, 1)

/* Legacy context entry (9.3): qw0 */
#define CTX_P			BIT_ULL(0)
#define CTX_FPD			BIT_ULL(1)		/* fault processing disable */
#define CTX_TT			GENMASK_ULL(3, 2)	/* translation type */
#define CTX_SLPTPTR		GENMASK_ULL(63, 12)	/* second-stage table root */
#define CTX_LO_RSVD		GENMASK_ULL(11, 4)
/* Legacy context entry: qw1 */
#define CTX_AW			GENMASK_ULL(2, 0)	/* 1 3-level, 2 4-level, 3 5-level */
#define CTX_AVAIL		GENMASK_ULL(6, 3)	/* ignored by hardware */
#define CTX_DID			GENMASK_ULL(23, 8)	/* domain id; bits above 2^(4+2ND) reserved */
#define CTX_HI_RSVD		(BIT_ULL(7) | GENMASK_ULL(63, 24))

enum ctx_tt {
	CTX_TT_UNTRANSLATED	= 0,	/* untranslated requests only */
	CTX_TT_DEVTLB		= 1,	/* also translation and translated requests */
	CTX_TT_PASSTHROUGH	= 2,	/* untranslated requests pass through (ECAP.PT) */
	CTX_TT_RSVD		= 3,
};

/* Address width encoding of context/PASID entries: levels = AW + 2 */
static inline int aw_to_levels(unsigned aw)
{
	return (int)aw + 2;
}

static inline unsigned levels_to_aw(int levels)
{
	return (unsigned)(levels - 2);
}

/* CAP.SAGAW bit for a depth: the same number as the AW encoding (10.4.2). */
static inline unsigned levels_to_aw_bit(int levels)
{
	return levels_to_aw(levels);
}

/* Scalable-mode context entry (9.4): qw0 */
#define SMCTX_P			BIT_ULL(0)
#define SMCTX_FPD		BIT_ULL(1)
#define SMCTX_DTE		BIT_ULL(2)		/* device-TLB enable */
#define SMCTX_PASIDE		BIT_ULL(3)		/* requests-with-PASID enable */
#define SMCTX_PRE		BIT_ULL(4)		/* page-request enable */
#define SMCTX_PDTS		GENMASK_ULL(11, 9)	/* PASID dir: 2^(PDTS+7) entries */
#define SMCTX_PASIDDIRPTR	GENMASK_ULL(63, 12)
#define SMCTX_Q0_RSVD		GENMASK_ULL(8, 5)
/* qw1 */
#define SMCTX_RID_PASID		GENMASK_ULL(19, 0)	/* PASID for requests without PASID */
#define SMCTX_RID_PRIV		BIT_ULL(20)		/* privilege of those requests */
#define SMCTX_Q1_RSVD		GENMASK_ULL(63, 21)
/* qw2 and qw3 are reserved */

/* PASID directory entry (9.5) */
#define PDE_P			BIT_ULL(0)
#define PDE_FPD			BIT_ULL(1)
#define PDE_SMPTBLPTR		GENMASK_ULL(63, 12)	/* PASID table pointer */
#define PDE_RSVD		GENMASK_ULL(11, 2)

/* Scalable-mode PASID table entry (9.6), qw0..qw7 */
#define PTE0_P			BIT_ULL(0)
#define PTE0_FPD		BIT_ULL(1)
#define PTE0_AW			GENMASK_ULL(4, 2)	/* second-stage AW */
#define PTE0_SSEE		BIT_ULL(5)		/* second-stage execute enable */
#define PTE0_PGTT		GENMASK_ULL(8, 6)	/* translation type */
#define PTE0_SSADE		BIT_ULL(9)		/* second-stage A/D enable */
#define PTE0_SSPTPTR		GENMASK_ULL(63, 12)
#define PTE0_RSVD		GENMASK_ULL(11, 10)
#define PTE1_DID		GENMASK_ULL(15, 0)	/* bits 79:64 */
#define PTE1_PWSNP		BIT_ULL(23)		/* bit 87 page-walk snoop */
#define PTE1_PGSNP		BIT_ULL(24)		/* bit 88 page snoop */
#define PTE1_CD			BIT_ULL(25)		/* bit 89 cache disable */
#define PTE1_EMTE		BIT_ULL(26)		/* bit 90 */
#define PTE1_EMT		GENMASK_ULL(29, 27)	/* bits 93:91 */
#define PTE1_PWT		BIT_ULL(30)		/* bit 94 */
#define PTE1_PCD		BIT_ULL(31)		/* bit 95 */
#define PTE1_PAT		GENMASK_ULL(63, 32)	/* bits 127:96 */
#define PTE1_RSVD		GENMASK_ULL(22, 16)
#define PTE2_SRE		BIT_ULL(0)		/* bit 128 supervisor requests */
#define PTE2_ERE		BIT_ULL(1)		/* bit 129 execute requests */
#define PTE2_FLPM		GENMASK_ULL(3, 2)	/* bits 131:130: 0 4-level, 1 5-level */
#define PTE2_WPE		BIT_ULL(4)		/* bit 132 write protect */
#define PTE2_NXE		BIT_ULL(5)		/* bit 133 no-execute */
#define PTE2_SMEP		BIT_ULL(6)		/* bit 134 */
#define PTE2_EAFE		BIT_ULL(7)		/* bit 135 extended accessed flag */
#define PTE2_FSPTPTR		GENMASK_ULL(63, 12)	/* bits 191:140 */
#define PTE2_RSVD		GENMASK_ULL(11, 8)
/* qw3..qw7 are reserved */

enum pgtt {
	PGTT_FS		= 1,	/* first-stage only */
	PGTT_SS		= 2,	/* second-stage only */
	PGTT_NESTED	= 3,	/* first stage nested on second stage */
	PGTT_PT		= 4,	/* pass-through */
};

/* A request without PASID in legacy mode; PASID values are 20-bit. */
#define VTD_NO_PASID		0xffffffffu

#endif
