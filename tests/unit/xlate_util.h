/*
 * xlate_util.h — helpers shared by the model's translation, fault and
 * cache tests (test_model_xlate.c, test_model_faults.c,
 * test_model_caches.c): rebuilding the rig with extra keys, raw table
 * writes, one-descriptor invalidations, and DMA checks that assert exact
 * values. Checks report with EXPECT_* and return whether all held, so a
 * caller writes ASSERT_TRUE(xl_fault(...)) and a failure names its line.
 */
#ifndef VTD_TESTS_XLATE_UTIL_H
#define VTD_TESTS_XLATE_UTIL_H

#include <stdio.h>
#include <string.h>
#include "harness.h"
#include "hwenv.h"

#define SZ_4K		0x1000ULL
#define SZ_2M		0x200000ULL
#define SZ_1G		0x40000000ULL
#define RAM_END		SZ_1G		/* the machine's RAM: 1 GiB from 0 */

/*
 * Data pages well above the rig's allocator, which hands out table pages
 * upwards from 1 MiB: 2M-aligned pages from 512 MiB, 4K pages from 768 MiB.
 */
#define PA_2M(n)	(0x20000000ULL + (uint64_t)(n) * SZ_2M)
#define PA_4K(n)	(0x30000000ULL + (uint64_t)(n) * SZ_4K)

/* (Re)build the rig: one unit with @keys and @extra, in legacy or scalable mode. */
static inline void xl_boot(struct hwenv *e, const char *keys, const char *extra, bool sm)
{
	char all[256];

	snprintf(all, sizeof(all), "%s%s%s", keys ? keys : "",
		 keys && *keys && extra && *extra ? "," : "", extra ? extra : "");
	if (e->m)
		hw_fini(e);
	hw_init(e, all, 1);
	hw_setup(e, 0, sm, true);
}

/* A table word written as a careful driver writes it: store, then flush the line. */
static inline void xl_put(struct hwenv *e, uint64_t addr, uint64_t val)
{
	hw_wr64(e, addr, val);
	vtdm_clflush(e->m, addr);
}

/* OR @set into and clear @clr from the table word at @addr. */
static inline void xl_modify(struct hwenv *e, uint64_t addr, uint64_t set, uint64_t clr)
{
	xl_put(e, addr, (hw_rd64(e, addr) & ~clr) | set);
}

/* Queue one descriptor with a wait behind it; the queue must accept both. */
static inline void xl_inv(struct hwenv *e, struct vtd_desc_fields f)
{
	struct vtd_desc d = hw_desc(f);

	hw_qi(e, 0, &d, 1, true);
}

static inline struct vtd_desc_fields xl_psi(uint16_t did, uint64_t addr, unsigned am, bool ih)
{
	return (struct vtd_desc_fields){ .type = DESC_IOTLB, .g = IOTLB_G_PSI, .did = did,
					 .addr = addr, .am = am, .ih = ih };
}

static inline struct vtd_desc_fields xl_piotlb(uint16_t did, uint32_t pasid, unsigned g,
					       uint64_t addr, unsigned am, bool ih)
{
	return (struct vtd_desc_fields){ .type = DESC_PIOTLB, .g = g, .did = did,
					 .pasid = pasid, .addr = addr, .am = am, .ih = ih };
}

/* Device-TLB invalidation of 2^@order pages at @addr (type 3, or 8 with a PASID). */
static inline struct vtd_desc_fields xl_devtlb(uint16_t sid, uint32_t pasid, bool all_pasids,
					       uint64_t addr, unsigned order)
{
	struct vtd_desc_fields f = { .type = pasid == VTD_NO_PASID && !all_pasids ?
					     DESC_DEVTLB : DESC_PDEVTLB,
				     .sid = sid, .pasid = pasid == VTD_NO_PASID ? 0 : pasid,
				     .g = all_pasids };

	devtlb_range_encode(addr, order, &f.addr, &f.s);
	return f;
}

/* A 64-bit stamp at guest-physical @pa, written by the CPU. */
static inline void xl_stamp(struct hwenv *e, uint64_t pa, uint64_t val)
{
	hw_wr64(e, pa, val);
}

static inline uint64_t xl_stat(struct hwenv *e, const char *name)
{
	return hw_stat(e, name);
}

/* An 8-byte DMA read that must succeed; returns the value read. */
static inline uint64_t xl_rd(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova,
			     struct vtdm_xlate *x)
{
	struct vtdm_xlate local;
	uint64_t v = 0;

	if (!x)
		x = &local;
	EXPECT_EQ(0, hw_dma_rd64(e, sid, pasid, iova, &v, x));
	EXPECT_EQ(0, x->fault);
	return v;
}

/* An 8-byte DMA write that must succeed; returns the output address. */
static inline uint64_t xl_wr(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova,
			     uint64_t val)
{
	struct vtdm_xlate x;

	EXPECT_EQ(0, hw_dma_wr64(e, sid, pasid, iova, val, &x));
	EXPECT_EQ(0, x.fault);
	return x.pa;
}

/* The output address of a successful 8-byte DMA read (~0 if it faulted). */
static inline uint64_t xl_pa(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova)
{
	struct vtdm_xlate x;
	uint64_t v;

	if (hw_dma_rd64(e, sid, pasid, iova, &v, &x))
		return ~0ULL;
	return x.pa;
}

/*
 * The one pending fault record (F=1) holds @reason for a request from
 * @sid (with @pasid, or none) at the page of @addr, of request @type.
 * Clears F afterwards, so the next fault is again the only one pending.
 */
static inline bool xl_frcd(struct hwenv *e, unsigned reason, uint16_t sid, uint32_t pasid,
			   uint64_t addr, unsigned type)
{
	uint64_t cap = hw_reg64(e, 0, DMAR_CAP_REG);
	unsigned found = 0, at = 0;

	for (unsigned i = 0; i < cap_nfr(cap); i++) {
		if (hw_reg64(e, 0, cap_frcd_offset(cap) + 16 * i + 8) & FRCD_HI_F) {
			found++;
			at = i;
		}
	}
	EXPECT_EQ(1, found);
	if (found == 1) {
		unsigned off = cap_frcd_offset(cap) + 16 * at;
		uint64_t lo = hw_reg64(e, 0, off), hi = hw_reg64(e, 0, off + 8);

		EXPECT_TRUE(hw_reg32(e, 0, DMAR_FSTS_REG) & FSTS_PPF);
		EXPECT_EQ(reason, FIELD_GET(FRCD_HI_FR, hi));
		EXPECT_EQ(sid, FIELD_GET(FRCD_HI_SID, hi));
		EXPECT_EQ(addr & ~(SZ_4K - 1), lo & FRCD_LO_FI);
		EXPECT_EQ(!!(type & 1), !!(hi & FRCD_HI_T1));
		EXPECT_EQ(!!(type & 2), !!(hi & FRCD_HI_T2));
		EXPECT_EQ(pasid != VTD_NO_PASID, !!(hi & FRCD_HI_PP));
		if (pasid != VTD_NO_PASID)
			EXPECT_EQ(pasid, FIELD_GET(FRCD_HI_PV, hi));
		hw_set_reg64(e, 0, off + 8, FRCD_HI_F);
		EXPECT_FALSE(hw_reg64(e, 0, off + 8) & FRCD_HI_F);
	}
	return !th_test_failed();
}

/*
 * An 8-byte DMA that must fault with @reason and move nothing: a read
 * leaves its buffer as it was, a write leaves the page at @watch (the
 * page the request would reach without the fault) as it was. The fault
 * must be recorded (xl_frcd).
 */
static inline bool xl_fault(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova,
			    bool write, uint64_t watch, unsigned reason)
{
	uint64_t before = hw_rd64(e, watch), faults = xl_stat(e, "dma.fault");
	uint8_t buf[8], fill = write ? 0x5a : 0xa5;
	struct vtdm_xlate x;

	memset(buf, fill, sizeof(buf));
	EXPECT_EQ(1, vtdm_dma(e->m, sid, pasid, iova, buf, sizeof(buf), write, &x));
	EXPECT_EQ(reason, x.fault);
	EXPECT_TRUE(x.recorded);
	EXPECT_EQ(faults + 1, xl_stat(e, "dma.fault"));
	for (unsigned i = 0; i < sizeof(buf); i++)
		EXPECT_EQ(fill, buf[i]);
	EXPECT_EQ(before, hw_rd64(e, watch));
	return xl_frcd(e, reason, sid, pasid, iova, write ? FRCD_TYPE_WRITE : FRCD_TYPE_READ);
}

/* xl_fault for a read and for a write. */
static inline bool xl_fault_rw(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova,
			       uint64_t watch, unsigned reason)
{
	return xl_fault(e, sid, pasid, iova, false, watch, reason) &&
	       xl_fault(e, sid, pasid, iova, true, watch, reason);
}

/* Whether no fault record is pending (FSTS.PPF clear and no F bit). */
static inline bool xl_no_frcd(struct hwenv *e)
{
	uint64_t cap = hw_reg64(e, 0, DMAR_CAP_REG);

	for (unsigned i = 0; i < cap_nfr(cap); i++)
		if (hw_reg64(e, 0, cap_frcd_offset(cap) + 16 * i + 8) & FRCD_HI_F)
			return false;
	return !(hw_reg32(e, 0, DMAR_FSTS_REG) & FSTS_PPF);
}

/* Clear every fault record and FSTS.PFO, as a driver's fault handler does. */
static inline void xl_clear_faults(struct hwenv *e)
{
	uint64_t cap = hw_reg64(e, 0, DMAR_CAP_REG);

	for (unsigned i = 0; i < cap_nfr(cap); i++)
		hw_set_reg64(e, 0, cap_frcd_offset(cap) + 16 * i + 8, FRCD_HI_F);
	hw_set_reg32(e, 0, DMAR_FSTS_REG, (uint32_t)FSTS_PFO);
}

/* Address of the legacy root entry of @bus, and of the scalable-mode one's half for @sid. */
static inline uint64_t xl_root_addr(struct hwenv *e, uint16_t sid)
{
	return e->u[0].root + (uint64_t)(sid >> 8) * ROOT_ENTRY_SIZE +
	       (e->u[0].sm && (sid & 0x80) ? 8 : 0);
}

/* Address of the PASID-directory entry for @pasid of a scalable-mode context. */
static inline uint64_t xl_pde_addr(struct hwenv *e, uint16_t sid, uint32_t pasid)
{
	uint64_t dir = hw_rd64(e, hw_sm_ctx_addr(e, 0, sid)) & SMCTX_PASIDDIRPTR;

	return dir + (uint64_t)(pasid >> 6) * PASID_DIR_ENTRY_SIZE;
}

#endif
