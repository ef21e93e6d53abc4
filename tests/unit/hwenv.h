/*
 * hwenv.h — a register-level rig for the model's tests: one machine, a
 * bump allocator of guest pages, and helpers that program root, context,
 * PASID and page tables and the invalidation queue through memory and
 * MMIO, exactly as a driver would. Helpers come in two layers: _hw_x()
 * returns 0 or a negative errno, hw_x() asserts that it returned 0.
 */
#ifndef VTD_TESTS_HWENV_H
#define VTD_TESTS_HWENV_H

#include "fmt/desc.h"
#include "fmt/entry.h"
#include "fmt/fault.h"
#include "fmt/pte.h"
#include "fmt/regs.h"
#include "model/model.h"

struct hw_unit {
	uint64_t root;		/* root table */
	bool sm;		/* scalable-mode root table */
	uint64_t iq;		/* invalidation queue */
	bool wide;		/* 256-bit descriptors */
	unsigned iq_size;	/* descriptors */
	unsigned tail;		/* next free slot */
	uint64_t status;	/* wait status words, one per slot */
	uint32_t seq;		/* wait status data */
};

struct hwenv {
	struct vtdm *m;
	uint64_t next_page;
	unsigned nunits;
	struct hw_unit u[VTDM_MAX_UNITS];
};

#define HW_PERM_R	1
#define HW_PERM_W	2
#define HW_PERM_RW	3

/*
 * @keys: "key=val,..." for every unit (vtdm_unit_cfg_set names), NULL for
 * the defaults; @nunits units.
 */
int _hw_init(struct hwenv *e, const char *keys, unsigned nunits);
void hw_fini(struct hwenv *e);
/* @spec: "bb:dd.f,key=val,..." as vtdkit hw --device takes it. */
int _hw_add_device(struct hwenv *e, const char *spec);

uint64_t hw_alloc(struct hwenv *e);		/* a zeroed guest page */
uint64_t hw_rd64(struct hwenv *e, uint64_t addr);
void hw_wr64(struct hwenv *e, uint64_t addr, uint64_t val);
uint32_t hw_rd32(struct hwenv *e, uint64_t addr);
void hw_wr32(struct hwenv *e, uint64_t addr, uint32_t val);
uint64_t hw_reg64(struct hwenv *e, unsigned unit, unsigned off);
uint32_t hw_reg32(struct hwenv *e, unsigned unit, unsigned off);
void hw_set_reg64(struct hwenv *e, unsigned unit, unsigned off, uint64_t val);
void hw_set_reg32(struct hwenv *e, unsigned unit, unsigned off, uint32_t val);
uint64_t hw_stat(struct hwenv *e, const char *name);

/*
 * A GCMD command the way drivers issue it: current persistent status bits
 * plus (or minus) @bit, then poll GSTS for @status_bit to read @want.
 * Returns -ETIMEDOUT if it never does.
 */
int _hw_gcmd(struct hwenv *e, unsigned unit, uint32_t bit, bool set, uint32_t status_bit,
	     bool want);
/* Root table (legacy or scalable) + SRTP, queue + QIE, and TE. */
int _hw_setup(struct hwenv *e, unsigned unit, bool sm, bool qi);

/* Legacy context entry for @sid; returns the new second-stage root in *root. */
int _hw_ctx(struct hwenv *e, unsigned unit, uint16_t sid, uint16_t did, int levels,
	    unsigned tt, uint64_t *root);
/* Address of the legacy context entry of @sid (the root entry must exist). */
uint64_t hw_ctx_addr(struct hwenv *e, unsigned unit, uint16_t sid);
/* Scalable-mode context entry with a PASID directory (PDTS=0, 128 entries). */
int _hw_sm_ctx(struct hwenv *e, unsigned unit, uint16_t sid, uint32_t rid_pasid, bool dte,
	       bool paside);
uint64_t hw_sm_ctx_addr(struct hwenv *e, unsigned unit, uint16_t sid);
/* PASID entry: pgtt, did, levels; returns the table root (0 for PT) in *root. */
int _hw_pasid(struct hwenv *e, unsigned unit, uint16_t sid, uint32_t pasid, unsigned pgtt,
	      uint16_t did, int levels, uint64_t *root);
uint64_t hw_pasid_addr(struct hwenv *e, unsigned unit, uint16_t sid, uint32_t pasid);

/* Map [iova, +size) to pa with one leaf of @size (4K, 2M or 1G). */
int _hw_map_ss(struct hwenv *e, uint64_t root, int levels, uint64_t iova, uint64_t pa,
	       uint64_t size, unsigned perm);
int _hw_map_fs(struct hwenv *e, uint64_t root, int levels, uint64_t iova, uint64_t pa,
	       uint64_t size, unsigned perm, bool user);
/* Address of the entry at @level on the walk of @iova (0 if a table is missing). */
uint64_t hw_pte_addr(struct hwenv *e, uint64_t root, int levels, uint64_t iova, int level,
		     bool fs);

/*
 * Queue @n descriptors and, with @wait, a wait descriptor (SW=1) after
 * them; move IQT. Returns 0 once the status word reads back, -EIO if the
 * unit reported IQE, -ETIMEDOUT if the wait did not complete.
 */
int _hw_qi(struct hwenv *e, unsigned unit, const struct vtd_desc *d, unsigned n, bool wait);
/* Place descriptors without moving IQT (to build a queue by hand). */
void hw_qi_put(struct hwenv *e, unsigned unit, const struct vtd_desc *d);
void hw_qi_kick(struct hwenv *e, unsigned unit);
unsigned hw_iqh(struct hwenv *e, unsigned unit);	/* index of IQH */

static inline struct vtd_desc hw_desc(struct vtd_desc_fields f)
{
	return vtd_desc_encode(&f);
}

/* Invalidation shorthands, each queued with a wait. */
int _hw_inv_iotlb_psi(struct hwenv *e, unsigned unit, uint16_t did, uint64_t addr,
		      unsigned am, bool ih);
int _hw_inv_iotlb_dsi(struct hwenv *e, unsigned unit, uint16_t did);
int _hw_inv_ctx_global(struct hwenv *e, unsigned unit);

/* DMA of one value; returns the vtdm_dma result. */
int hw_dma_rd64(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova, uint64_t *val,
		struct vtdm_xlate *x);
int hw_dma_wr64(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova, uint64_t val,
		struct vtdm_xlate *x);
/* First fault record (FRCD0) fields. */
unsigned hw_frcd_reason(struct hwenv *e, unsigned unit, unsigned idx);

#define hw_init(e, k, n)		ASSERT_EQ(0, _hw_init(e, k, n))
#define hw_add_device(e, s)		ASSERT_EQ(0, _hw_add_device(e, s))
#define hw_setup(e, u, sm, qi)		ASSERT_EQ(0, _hw_setup(e, u, sm, qi))
#define hw_ctx(e, u, s, d, l, t, r)	ASSERT_EQ(0, _hw_ctx(e, u, s, d, l, t, r))
#define hw_sm_ctx(e, u, s, rp, dte, pe)	ASSERT_EQ(0, _hw_sm_ctx(e, u, s, rp, dte, pe))
#define hw_pasid(e, u, s, p, g, d, l, r) ASSERT_EQ(0, _hw_pasid(e, u, s, p, g, d, l, r))
#define hw_map_ss(e, r, l, i, p, s, pm)	ASSERT_EQ(0, _hw_map_ss(e, r, l, i, p, s, pm))
#define hw_map_fs(e, r, l, i, p, s, pm, us) ASSERT_EQ(0, _hw_map_fs(e, r, l, i, p, s, pm, us))
#define hw_qi(e, u, d, n, w)		ASSERT_EQ(0, _hw_qi(e, u, d, n, w))
#define hw_inv_iotlb_psi(e, u, d, a, m, ih) ASSERT_EQ(0, _hw_inv_iotlb_psi(e, u, d, a, m, ih))
#define hw_inv_iotlb_dsi(e, u, d)	ASSERT_EQ(0, _hw_inv_iotlb_dsi(e, u, d))
#define hw_inv_ctx_global(e, u)		ASSERT_EQ(0, _hw_inv_ctx_global(e, u))

#endif
