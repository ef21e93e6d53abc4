/*
 * pte.h — second-stage (VT-d 9.8) and first-stage (VT-d 9.7, IA-32e
 * format) paging entries. Levels are numbered as the walk sees them:
 * 1 = 4K leaf table (PTE), 2 = PDE (2M leaf), 3 = PDPE (1G leaf),
 * 4 = PML4E, 5 = PML5E; level L indexes address bits 12+9(L-1) .. 20+9(L-1).
 */
#ifndef VTD_FMT_PTE_H
#define VTD_FMT_PTE_H

#include "fmt/bits.h"

#define VTD_PAGE_SHIFT		12
#define VTD_PAGE_SIZE		(1ULL << VTD_PAGE_SHIFT)
#define VTD_PTES_PER_TABLE	512
#define VTD_MAX_LEVELS		5

/* Second-stage entry (9.8) */
#define SSPTE_R			BIT_ULL(0)		/* read */
#define SSPTE_W			BIT_ULL(1)		/* write */
#define SSPTE_X			BIT_ULL(2)		/* execute */
#define SSPTE_EMT		GENMASK_ULL(5, 3)	/* memory type (leaf) */
#define SSPTE_IPAT		BIT_ULL(6)		/* ignore PAT (leaf) */
#define SSPTE_PS		BIT_ULL(7)		/* page size: leaf at level 2/3 */
#define SSPTE_A			BIT_ULL(8)		/* accessed (SSADE) */
#define SSPTE_D			BIT_ULL(9)		/* dirty (SSADE, leaf) */
#define SSPTE_SNP		BIT_ULL(11)		/* snoop (leaf; reserved without ECAP.SC) */
#define SSPTE_ADDR		GENMASK_ULL(51, 12)	/* next table or page frame */
#define SSPTE_TM		BIT_ULL(62)		/* transient mapping (leaf; needs ECAP.DT) */
/* Ignored bits software may use: 10, 61:52, 63. */
#define SSPTE_IGNORED		(BIT_ULL(10) | GENMASK_ULL(61, 52) | BIT_ULL(63))

/* First-stage entry (9.7) */
#define FSPTE_P			BIT_ULL(0)		/* present */
#define FSPTE_RW		BIT_ULL(1)		/* writable */
#define FSPTE_US		BIT_ULL(2)		/* user accessible */
#define FSPTE_PWT		BIT_ULL(3)
#define FSPTE_PCD		BIT_ULL(4)
#define FSPTE_A			BIT_ULL(5)		/* accessed */
#define FSPTE_D			BIT_ULL(6)		/* dirty (leaf) */
#define FSPTE_PS		BIT_ULL(7)		/* page size at level 2/3; PAT at level 1 */
#define FSPTE_G			BIT_ULL(8)		/* global (leaf) */
#define FSPTE_LPAT		BIT_ULL(12)		/* PAT of a 2M/1G leaf */
#define FSPTE_ADDR		GENMASK_ULL(51, 12)
#define FSPTE_XD		BIT_ULL(63)		/* execute disable */

/* Address bits a level's index is taken from. */
static inline unsigned pt_level_shift(int level)
{
	return VTD_PAGE_SHIFT + 9 * (unsigned)(level - 1);
}

static inline unsigned pt_index(uint64_t iova, int level)
{
	return (unsigned)((iova >> pt_level_shift(level)) & (VTD_PTES_PER_TABLE - 1));
}

/* Size mapped by one entry at @level: 4K, 2M, 1G, 512G, 256T. */
static inline uint64_t pt_level_size(int level)
{
	return 1ULL << pt_level_shift(level);
}

/* Address width a walk of @levels covers: 39, 48 or 57 bits. */
static inline unsigned pt_levels_width(int levels)
{
	return VTD_PAGE_SHIFT + 9 * (unsigned)levels;
}

/* Address bits 51:HAW of any table entry are reserved (9.7, 9.8). */
static inline uint64_t pt_haw_rsvd(unsigned haw)
{
	return haw >= 52 ? 0 : GENMASK_ULL(51, haw);
}

static inline int sspte_present(uint64_t pte)
{
	return (pte & (SSPTE_R | SSPTE_W)) != 0;
}

#endif
