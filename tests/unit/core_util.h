/*
 * core_util.h — helpers for the libvtd-on-model tests (test_core_*.c
 * beyond the smoke test): DMA data regions whose every qword names its
 * own address, DMA checks with the model's translation result, and a
 * log that puts libvtd's trace events, its table-entry writes and its
 * GCMD writes in one order, by wrapping the host's ops table.
 */
#ifndef VTD_TESTS_CORE_UTIL_H
#define VTD_TESTS_CORE_UTIL_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "vtdenv.h"
#include "core/internal.h"
#include "fmt/desc.h"
#include "fmt/entry.h"
#include "fmt/pte.h"
#include "fmt/regs.h"

#define SZ_4K	0x1000ULL
#define SZ_16K	0x4000ULL
#define SZ_2M	0x200000ULL
#define SZ_1G	0x40000000ULL

/* What a data qword at guest-physical @pa holds: its own address, marked. */
static inline uint64_t pat(uint64_t pa)
{
	return pa ^ 0x5a5a000000000000ULL;
}

/* The qwords of each data page that region() fills; tests DMA only to these. */
static const uint64_t data_offs[] = { 0, 0x8, 0x10, 0x18, 0x808, 0xff8 };

/*
 * @size bytes of DMA data aligned to @align, taken from the rig's data
 * area; in every page the qwords at data_offs hold pat(their address).
 * (Sparse: with RWBF or a non-coherent unit the model tracks every CPU
 * write, and whole megabytes of data would cost seconds.)
 */
static inline uint64_t region(struct vtdenv *e, uint64_t size, uint64_t align)
{
	uint64_t pa = (e->data_next + align - 1) & ~(align - 1);

	for (uint64_t p = pa; p < pa + size; p += SZ_4K)
		for (size_t i = 0; i < sizeof(data_offs) / sizeof(data_offs[0]); i++)
			vtdm_write64(e->m, p + data_offs[i], pat(p + data_offs[i]));
	e->data_next = pa + size;
	return pa;
}

/* One 8-byte DMA by device @d: 0 done, 1 fault; @x gets the translation. */
static inline int dma64(struct vtdenv *e, unsigned d, uint64_t iova, bool write,
			uint64_t *val, struct vtdm_xlate *x)
{
	uint8_t b[8];
	int ret;

	for (int i = 0; i < 8; i++)
		b[i] = write ? (uint8_t)(*val >> (8 * i)) : 0;
	ret = vtdm_dma(e->m, e->sid[d], VTD_NO_PASID, iova, b, 8, write, x);
	if (!write) {
		*val = 0;
		for (int i = 7; i >= 0 && !ret; i--)
			*val = *val << 8 | b[i];
	}
	return ret;
}

static inline uint64_t ram64(struct vtdenv *e, uint64_t pa)
{
	uint64_t v = 0;

	vtdm_read64(e->m, pa, &v);
	return v;
}

/* Device @d reads @iova and finds the qword of @pa; returns the page size used. */
static inline uint64_t expect_read(struct vtdenv *e, unsigned d, uint64_t iova, uint64_t pa)
{
	struct vtdm_xlate x;
	uint64_t v;

	if (dma64(e, d, iova, false, &v, &x))
		TH_LOG("device %u: read of 0x%llx faulted, reason 0x%x", d,
		       (unsigned long long)iova, x.fault);
	ASSERT_EQ(0, x.fault);
	ASSERT_EQ(pat(pa), v);
	return x.page_size;
}

/* Device @d writes @iova and the value lands at @pa (then restores the pattern). */
static inline void expect_write(struct vtdenv *e, unsigned d, uint64_t iova, uint64_t pa)
{
	struct vtdm_xlate x;
	uint64_t v = ~pat(pa);

	if (dma64(e, d, iova, true, &v, &x))
		TH_LOG("device %u: write of 0x%llx faulted, reason 0x%x", d,
		       (unsigned long long)iova, x.fault);
	ASSERT_EQ(0, x.fault);
	ASSERT_EQ(~pat(pa), ram64(e, pa));
	vtdm_write64(e->m, pa, pat(pa));
}

/* Device @d's read (or write) of @iova faults: nothing translates it. */
static inline void expect_fault(struct vtdenv *e, unsigned d, uint64_t iova, bool write)
{
	struct vtdm_xlate x;
	uint64_t v = 0xdeadbeefULL;

	if (!dma64(e, d, iova, write, &v, &x))
		TH_LOG("device %u: %s of 0x%llx went through to 0x%llx (%s)", d,
		       write ? "write" : "read", (unsigned long long)iova,
		       (unsigned long long)x.pa, x.from_atc ? "device TLB" : "unit");
	ASSERT_NE(0, x.fault);
	ASSERT_NE(VTDM_MASTER_ABORT, x.fault);
}

static inline uint64_t model_stat(struct vtdenv *e, const char *name)
{
	uint64_t v = ~0ULL;

	vtdm_stat(e->m, name, &v);
	return v;
}

static inline uint64_t lib_stat(struct vtdenv *e, const char *name)
{
	uint64_t v = ~0ULL;

	vtd_stat(e->v, name, &v);
	return v;
}

/* ---- One log of trace events, entry writes and GCMD writes ---- */

enum tlog_kind {
	TL_EVENT,	/* a libvtd trace event (ev; f decoded for qi_submit) */
	TL_MEMW,	/* mem_write64(pa, val): table, entry or queue memory */
	TL_GCMD,	/* a GCMD write (val) to the unit at base pa */
};

struct tlog_rec {
	enum tlog_kind kind;
	struct vtd_event ev;
	struct vtd_desc_fields f;
	uint64_t pa, val;
};

static struct tlog {
	pthread_mutex_t lock;		/* the records below */
	const struct vtd_ops *host;
	struct vtd_ops ops;
	bool on;
	struct tlog_rec *r;
	size_t n, cap;
} tlog = { .lock = PTHREAD_MUTEX_INITIALIZER };

static inline void tlog_add(const struct tlog_rec *rec)
{
	pthread_mutex_lock(&tlog.lock);
	if (tlog.on) {
		if (tlog.n == tlog.cap) {
			tlog.cap = tlog.cap ? 2 * tlog.cap : 1024;
			tlog.r = realloc(tlog.r, tlog.cap * sizeof(*tlog.r));
			if (!tlog.r)
				abort();
		}
		tlog.r[tlog.n++] = *rec;
	}
	pthread_mutex_unlock(&tlog.lock);
}

static inline void tlog_trace(void *ctx, const struct vtd_event *ev)
{
	struct tlog_rec rec = { .kind = TL_EVENT, .ev = *ev };

	if (ev->type == VTD_EV_QI_SUBMIT) {
		struct vtd_desc d = { { ev->qw[0], ev->qw[1], ev->qw[2], ev->qw[3] } };

		vtd_desc_decode(&d, &rec.f);
	}
	tlog_add(&rec);
	if (tlog.host->trace)
		tlog.host->trace(ctx, ev);
}

static inline void tlog_mem_write64(void *ctx, uint64_t pa, uint64_t val)
{
	tlog_add(&(struct tlog_rec){ .kind = TL_MEMW, .pa = pa, .val = val });
	tlog.host->mem_write64(ctx, pa, val);
}

static inline void tlog_mmio_write32(void *ctx, uint64_t addr, uint32_t val)
{
	if ((addr & (VTDM_MMIO_STRIDE - 1)) == DMAR_GCMD_REG)
		tlog_add(&(struct tlog_rec){ .kind = TL_GCMD, .pa = addr - DMAR_GCMD_REG,
					     .val = val });
	tlog.host->mmio_write32(ctx, addr, val);
}

/* Put the log in front of @e's libvtd (after its units came up). */
static inline void tlog_install(struct vtdenv *e)
{
	tlog.host = e->v->ops;
	tlog.ops = *tlog.host;
	tlog.ops.trace = tlog_trace;
	tlog.ops.mem_write64 = tlog_mem_write64;
	tlog.ops.mmio_write32 = tlog_mmio_write32;
	e->v->ops = &tlog.ops;
	tlog.n = 0;
	tlog.on = true;
}

static inline void tlog_clear(void)
{
	pthread_mutex_lock(&tlog.lock);
	tlog.n = 0;
	pthread_mutex_unlock(&tlog.lock);
}

static inline void tlog_fini(void)
{
	free(tlog.r);
	tlog.r = NULL;
	tlog.n = tlog.cap = 0;
	tlog.on = false;
}

static inline bool tl_is_ev(const struct tlog_rec *r, enum vtd_event_type t)
{
	return r->kind == TL_EVENT && r->ev.type == t;
}

/* A qi_submit record of descriptor @type (DESC_*) on unit @unit (NULL: any). */
static inline bool tl_is_desc(const struct tlog_rec *r, unsigned type, const char *unit)
{
	return tl_is_ev(r, VTD_EV_QI_SUBMIT) && r->f.type == type &&
	       (!unit || !strcmp(unit, r->ev.unit));
}

static inline unsigned tl_count_desc(unsigned type, const char *unit)
{
	unsigned n = 0;

	for (size_t i = 0; i < tlog.n; i++)
		n += tl_is_desc(&tlog.r[i], type, unit);
	return n;
}

static inline unsigned tl_count_submits(void)
{
	unsigned n = 0;

	for (size_t i = 0; i < tlog.n; i++)
		n += tl_is_ev(&tlog.r[i], VTD_EV_QI_SUBMIT);
	return n;
}

/* Index of the first qi_submit record of @type on @unit after index @from, or -1. */
static inline long tl_find_desc(unsigned type, const char *unit, long from)
{
	for (size_t i = (size_t)(from + 1); i < tlog.n; i++)
		if (tl_is_desc(&tlog.r[i], type, unit))
			return (long)i;
	return -1;
}

/* Index of the first write to @pa that sets Present (an entry install), or -1. */
static inline long tl_find_install(uint64_t pa)
{
	for (size_t i = 0; i < tlog.n; i++)
		if (tlog.r[i].kind == TL_MEMW && tlog.r[i].pa == pa && (tlog.r[i].val & 1))
			return (long)i;
	return -1;
}

/* Index of the first write to @pa after @from that clears Present, or -1. */
static inline long tl_find_clear(uint64_t pa, long from)
{
	for (size_t i = (size_t)(from + 1); i < tlog.n; i++)
		if (tlog.r[i].kind == TL_MEMW && tlog.r[i].pa == pa && !(tlog.r[i].val & 1))
			return (long)i;
	return -1;
}

static inline bool tl_is_wbf(const struct tlog_rec *r)
{
	return r->kind == TL_GCMD && (r->val & GCMD_WBF);
}

/* ---- Where things are in memory ---- */

/*
 * Address of the qword holding Present of @dev's entry: its legacy
 * context entry, or in scalable mode its RID_PASID PASID-table entry.
 * Only once its tables exist (after a first attach).
 */
static inline uint64_t entry_addr(struct vtdenv *e, struct vtd_device *dev)
{
	struct vtd_unit *u = dev->unit;
	uint64_t table;

	if (!u->sm) {
		table = ram64(e, u->root + (uint64_t)(dev->sid >> 8) * ROOT_ENTRY_SIZE) & ROOT_CTP;
		return table + (dev->sid & 0xff) * CTX_ENTRY_SIZE;
	}
	table = ram64(e, dev->pasid_dir) & PDE_SMPTBLPTR;
	return table + (dev->rid_pasid & 63) * PASID_ENTRY_SIZE;
}

/* @dom's DID on unit @u, 0 if it has none there. */
static inline uint16_t did_of(struct vtd_domain *dom, struct vtd_unit *u)
{
	for (unsigned i = 0; i < VTD_MAX_UNITS; i++)
		if (dom->units[i].unit == u)
			return dom->units[i].did;
	return 0;
}

/* The table page @dom's walk of @iova reads at @level (its entries), or 0. */
static inline uint64_t table_at(struct vtdenv *e, struct vtd_domain *dom, uint64_t iova,
				int level)
{
	uint64_t table = dom->pgd;

	for (int l = dom->levels; l > level; l--) {
		uint64_t pte = ram64(e, table + 8 * pt_index(iova, l));

		if (!(pte & 3) || (pte & SSPTE_PS))
			return 0;
		table = pte & SSPTE_ADDR;
	}
	return table;
}

#endif
