/*
 * model_qi_util.h — small helpers shared by test_model_qi.c and
 * test_model_regs.c on top of the hwenv rig: status and error registers
 * of unit 0, raw descriptors, queue slots written by hand, and DMA reads
 * that return the value read or NOVAL. Nothing here asserts: the tests
 * check every value themselves, so a failure names the test's own line.
 */
#ifndef VTD_TESTS_MODEL_QI_UTIL_H
#define VTD_TESTS_MODEL_QI_UTIL_H

#include "hwenv.h"

/* A DMA read that faulted (no page in these tests holds this value). */
#define NOVAL		0xdeadfa17deadfa17ULL
#define VAL_A		0xaaaaaaaa00000001ULL
#define VAL_B		0xbbbbbbbb00000002ULL

static inline uint32_t fsts(struct hwenv *e)
{
	return hw_reg32(e, 0, DMAR_FSTS_REG);
}

static inline uint64_t iqer(struct hwenv *e)
{
	return hw_reg64(e, 0, DMAR_IQER_REG);
}

static inline unsigned iqei(struct hwenv *e)
{
	return (unsigned)FIELD_GET(IQER_IQEI, iqer(e));
}

static inline uint32_t gsts(struct hwenv *e)
{
	return hw_reg32(e, 0, DMAR_GSTS_REG);
}

/* Write 1s to FSTS (its error bits are write-1-to-clear). */
static inline void clear_fsts(struct hwenv *e, uint32_t bits)
{
	hw_set_reg32(e, 0, DMAR_FSTS_REG, bits);
}

/* FECTL and IECTL reset masked (IM=1); a driver unmasks them at start-up. */
static inline void unmask_events(struct hwenv *e)
{
	hw_set_reg32(e, 0, DMAR_FECTL_REG, 0);
	hw_set_reg32(e, 0, DMAR_IECTL_REG, 0);
}

/* GCMD as a driver writes it: the persistent enables that are on, plus @cmd. */
static inline void gcmd_write(struct hwenv *e, uint32_t cmd)
{
	uint32_t keep = gsts(e) & (uint32_t)(GSTS_TES | GSTS_QIES);

	hw_set_reg32(e, 0, DMAR_GCMD_REG, keep | cmd);
}

static inline struct vtd_desc raw_desc(uint64_t q0, uint64_t q1, uint64_t q2, uint64_t q3)
{
	return (struct vtd_desc){ { q0, q1, q2, q3 } };
}

static inline struct vtd_desc wait_sw(uint64_t addr, uint32_t data)
{
	return hw_desc((struct vtd_desc_fields){ .type = DESC_WAIT, .sw = true, .sdata = data,
						 .addr = addr });
}

/* Place @n descriptors at the tail and move IQT once. */
static inline void submit(struct hwenv *e, const struct vtd_desc *d, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		hw_qi_put(e, 0, &d[i]);
	hw_qi_kick(e, 0);
}

/* Overwrite queue slot @slot in memory, as software fixing a bad descriptor. */
static inline void put_at(struct hwenv *e, unsigned slot, const struct vtd_desc *d)
{
	struct hw_unit *hu = &e->u[0];
	unsigned size = hu->wide ? 32 : 16;

	for (unsigned i = 0; i < size / 8; i++)
		hw_wr64(e, hu->iq + (uint64_t)(slot % hu->iq_size) * size + 8 * i, d->qw[i]);
}

/* 64-bit DMA read: the value, or NOVAL on a fault (reason in *fault). */
static inline uint64_t dma_rd(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova,
			      struct vtdm_xlate *x)
{
	uint64_t v;

	return hw_dma_rd64(e, sid, pasid, iova, &v, x) ? NOVAL : v;
}

static inline uint64_t rd(struct hwenv *e, uint16_t sid, uint64_t iova)
{
	struct vtdm_xlate x;

	return dma_rd(e, sid, VTD_NO_PASID, iova, &x);
}

static inline uint64_t rdp(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova)
{
	struct vtdm_xlate x;

	return dma_rd(e, sid, pasid, iova, &x);
}

/* Fault reason of a 64-bit DMA read, 0 if it succeeded. */
static inline int rd_fault(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova)
{
	struct vtdm_xlate x;

	dma_rd(e, sid, pasid, iova, &x);
	return x.fault;
}

/* Point the 4K leaf of @iova under second-stage @root at @pa (no invalidation). */
static inline void ss_retarget(struct hwenv *e, uint64_t root, uint64_t iova, uint64_t pa)
{
	hw_wr64(e, hw_pte_addr(e, root, 4, iova, 1, false), pa | SSPTE_R | SSPTE_W);
}

static inline void fs_retarget(struct hwenv *e, uint64_t root, uint64_t iova, uint64_t pa)
{
	hw_wr64(e, hw_pte_addr(e, root, 4, iova, 1, true),
		pa | FSPTE_P | FSPTE_RW | FSPTE_US);
}

/* A fresh page holding @val in its first qword. */
static inline uint64_t page_with(struct hwenv *e, uint64_t val)
{
	uint64_t p = hw_alloc(e);

	hw_wr64(e, p, val);
	return p;
}

#endif
