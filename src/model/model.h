/*
 * model.h — the VT-d hardware model: one machine with guest-physical
 * memory, remapping units (registers, invalidation queue, caches, walks,
 * fault recording) and endpoint devices (DMA engines with an ATS device
 * TLB). Software reaches it only as a CPU does: MMIO and memory; devices
 * reach it only through DMA and ATS translation requests.
 */
#ifndef VTD_MODEL_MODEL_H
#define VTD_MODEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VTDM_MMIO_BASE		0xfed90000ULL	/* first unit (q35) */
#define VTDM_MMIO_STRIDE	0x1000ULL	/* further units follow */
#define VTDM_MAX_UNITS		8
#define VTDM_MAX_DEVICES	64

enum vtdm_profile {
	VTDM_EXACT,		/* finite set-associative caches, LRU */
	VTDM_ADVERSARIAL,	/* caches all it may, never evicts, prefetches */
};

/* One remapping unit's configuration; CAP/ECAP are built from it. */
struct vtdm_unit_cfg {
	char name[16];		/* "dmar0", … (set by vtdm_add_unit if empty) */
	bool cm;		/* CAP.CM caching mode */
	bool rwbf;		/* CAP.RWBF write-buffer flush required */
	bool psi;		/* CAP.PSI page-selective invalidation */
	unsigned mamv;		/* CAP.MAMV */
	unsigned nd;		/* CAP.ND: 2^(4+2ND) domain ids */
	int levels;		/* deepest second-stage walk: 3, 4 or 5 (SAGAW, MGAW) */
	unsigned sllps;		/* CAP.SLLPS: bit0 2M, bit1 1G */
	bool fl1gp, fl5lp;	/* CAP first-stage 1G pages, 5-level */
	unsigned nfr;		/* fault-recording registers (1..256) */
	bool coherent;		/* ECAP.C */
	bool qi;		/* ECAP.QI */
	bool dt;		/* ECAP.DT device TLBs */
	bool pt;		/* ECAP.PT pass-through */
	bool sc;		/* ECAP.SC snoop control */
	bool sm;		/* ECAP.SMTS scalable mode (with SLTS, FLTS, PASID) */
	bool slts, flts;	/* ECAP second/first-stage in scalable mode */
	bool nest;		/* ECAP.NEST (nested walks: not modelled yet, refused) */
	bool pasid;		/* ECAP.PASID */
	unsigned pss;		/* ECAP.PSS: PASID width - 1 */
	bool dit;		/* ECAP.DIT: PFSID in device-TLB descriptors */
	bool pds;		/* ECAP.PDS */
	unsigned haw;		/* host address width (table pointers above fault) */
	enum vtdm_profile caching;
	unsigned iotlb_entries, iotlb_ways;	/* exact profile sizes */
	unsigned ctx_entries, pasid_entries, psc_entries;
};

/* One endpoint device. */
struct vtdm_dev_cfg {
	uint16_t sid;		/* requester id bus<<8 | dev<<3 | fn */
	int unit;		/* index of the unit it sits behind */
	bool ats;		/* has an ATS device TLB */
	unsigned qdep;		/* ATS invalidate queue depth (0 = 32) */
	bool unresponsive;	/* never answers device-TLB invalidations */
	bool badcompl;		/* answers them with an invalid completion */
	unsigned atc_entries;	/* device-TLB size in the exact profile */
};

/* Virtual-time cost of each hardware operation, ns (docs/cost-model.md). */
struct vtdm_costs {
	uint64_t mmio;		/* one register access from the CPU */
	uint64_t mem_access;	/* one table read by the walker (DRAM) */
	uint64_t cache_lookup;	/* a hit in any translation cache */
	uint64_t desc;		/* fetch and process one descriptor */
	uint64_t devtlb_inv;	/* device-TLB invalidation round trip */
	uint64_t wait;		/* wait descriptor: status write / interrupt */
	uint64_t wbf;		/* write-buffer flush */
	uint64_t reg_inv;	/* register-based invalidation */
	uint64_t ats;		/* ATS translation request round trip */
	uint64_t dma_per_4k;	/* data movement per 4 KiB of DMA */
	uint64_t ite_timeout;	/* device-TLB invalidation time-out */
};

struct vtdm_machine_cfg {
	uint64_t mem_size;	/* guest RAM from address 0 */
	struct vtdm_costs costs;
};

/* x->fault for a DMA whose output address is not RAM (no VT-d fault). */
#define VTDM_MASTER_ABORT	0x100

/* Result of a DMA or translation request. */
struct vtdm_xlate {
	int fault;		/* 0, or the fault reason (fault.h) */
	bool recorded;		/* fault written to FRCD (not FPD, not overflow) */
	uint64_t pa;		/* output address of the first byte */
	uint64_t page_size;	/* size of the translation used */
	bool r, w;		/* permissions of that translation */
	bool from_atc;		/* DMA used the device TLB */
};

/*
 * Hooks for a deterministic explorer and a correctness oracle
 * (docs/model.md, "Hooks and yield points"). Every hook is optional and
 * is called WITHOUT the machine lock held, from the thread that made the
 * model call, so it may itself call into the model (MMIO, memory, DMA).
 */

/* Where the explorer may switch tasks, and what the model is about to touch. */
enum vtdm_yield_point {
	VTDM_Y_WALK_STEP,	/* about to read one table entry at @addr */
	VTDM_Y_CACHE_FILL,	/* about to insert into one of the unit's caches (or a device TLB) */
	VTDM_Y_DESC,		/* about to process one descriptor of the unit's queue */
	VTDM_Y_LOOKUP,		/* about to look a request up in the unit's caches / the device TLB */
};

struct vtdm_point {
	enum vtdm_yield_point where;
	unsigned unit;		/* the unit's index */
	uint16_t sid;		/* the requester (walk, lookup, fill); 0 for DESC */
	uint64_t addr;		/* WALK_STEP: guest-physical address of the entry read; else 0 */
};

/* One page of a device request, as an observer sees it. */
struct vtdm_access {
	uint16_t sid;
	uint32_t pasid;		/* VTD_NO_PASID (see fmt headers) when none */
	uint64_t iova;		/* the page's address (not page-aligned: first byte in this page) */
	bool write;
	bool ats;		/* an ATS translation request, not a DMA */
	unsigned unit;		/* the unit translating it */
};

struct vtdm_hooks {
	/* A scheduling point. Called WITHOUT the machine lock held. */
	void (*yield)(void *ctx, const struct vtdm_point *p);
	/* A device request's page is about to be translated (before its first lookup). */
	void (*access_begin)(void *ctx, const struct vtdm_access *a);
	/* ... and its outcome (x->fault, x->pa, x->r/w, x->from_atc, x->page_size). */
	void (*access_end)(void *ctx, const struct vtdm_access *a, const struct vtdm_xlate *x);
	void *ctx;
};

struct vtdm;

void vtdm_machine_cfg_default(struct vtdm_machine_cfg *cfg);
void vtdm_unit_cfg_default(struct vtdm_unit_cfg *cfg);
void vtdm_dev_cfg_default(struct vtdm_dev_cfg *cfg);

/*
 * Set one configuration key from text, as the CLI and the scenario
 * language name them (docs/hw-console.md). Return 0, or -EINVAL with a
 * message naming the key and the value in @err.
 */
int vtdm_unit_cfg_set(struct vtdm_unit_cfg *cfg, const char *key, const char *val,
		      char *err, size_t errlen);
int vtdm_dev_cfg_set(struct vtdm_dev_cfg *cfg, const char *key, const char *val,
		     char *err, size_t errlen);
int vtdm_machine_cfg_set(struct vtdm_machine_cfg *cfg, const char *key, const char *val,
			 char *err, size_t errlen);

/* Check a unit's keys against each other (dt needs qi, …); -EINVAL with @err. */
int vtdm_unit_cfg_check(const struct vtdm_unit_cfg *cfg, char *err, size_t errlen);

struct vtdm *vtdm_create(const struct vtdm_machine_cfg *cfg);
void vtdm_destroy(struct vtdm *m);
/* Return the unit's index, or -EINVAL/-ENOSPC. */
int vtdm_add_unit(struct vtdm *m, const struct vtdm_unit_cfg *cfg);
int vtdm_add_device(struct vtdm *m, const struct vtdm_dev_cfg *cfg);
unsigned vtdm_nr_units(const struct vtdm *m);
const char *vtdm_unit_name(const struct vtdm *m, unsigned unit);
uint64_t vtdm_unit_base(unsigned unit);
uint64_t vtdm_mem_size(const struct vtdm *m);
/* Replace the hooks (copied); all-NULL members switch them off. */
void vtdm_set_hooks(struct vtdm *m, const struct vtdm_hooks *hooks);

/*
 * CPU accesses. vtdm_read/vtdm_write route by address: a unit's register
 * window (1, 2, 4 or 8 bytes) or RAM (any length). Return 0, or -EFAULT
 * for an address that is neither, -EINVAL for a bad register access size.
 * CPU writes to RAM pass through the unit's write buffer (CAP.RWBF) and,
 * for a non-coherent unit (ECAP.C=0), the CPU cache until vtdm_clflush.
 */
int vtdm_read(struct vtdm *m, uint64_t addr, void *buf, size_t len);
int vtdm_write(struct vtdm *m, uint64_t addr, const void *buf, size_t len);
int vtdm_read64(struct vtdm *m, uint64_t addr, uint64_t *val);
int vtdm_write64(struct vtdm *m, uint64_t addr, uint64_t val);
int vtdm_read32(struct vtdm *m, uint64_t addr, uint32_t *val);
int vtdm_write32(struct vtdm *m, uint64_t addr, uint32_t val);
/* Flush the 64-byte line holding @addr from the CPU cache to memory. */
int vtdm_clflush(struct vtdm *m, uint64_t addr);

/*
 * Device accesses. @pasid is VTD_NO_PASID for a request without PASID.
 * A SID added with vtdm_add_device is routed to its unit; any other SID
 * is a plain device (no ATS) behind the first unit.
 * DMA of @len bytes may cross pages; each page is translated. Return 0
 * when every byte moved, 1 on a fault (details in @x), -EINVAL for an
 * unknown unit or length 0.
 */
int vtdm_dma(struct vtdm *m, uint16_t sid, uint32_t pasid, uint64_t iova,
	     void *buf, size_t len, bool write, struct vtdm_xlate *x);
/* An ATS translation request from @sid; the device caches the answer. */
int vtdm_ats_translate(struct vtdm *m, uint16_t sid, uint32_t pasid, uint64_t iova,
		       struct vtdm_xlate *x);

/* Virtual time. */
uint64_t vtdm_now(struct vtdm *m);
void vtdm_clock_step(struct vtdm *m, uint64_t ns);

/*
 * Counters: "iotlb.hit" sums over units, "dmar1.iotlb.hit" is one unit's,
 * "dev.00:01.0.atc.hit" one device's. Return 0 or -ENOENT.
 */
int vtdm_stat(struct vtdm *m, const char *name, uint64_t *val);
/* Call @fn for every counter of every unit and device, then the sums. */
void vtdm_stats_foreach(struct vtdm *m,
			void (*fn)(void *ctx, const char *name, uint64_t val), void *ctx);

/* Parse "bb:dd.f", "0000:bb:dd.f" or a number into a requester id; -EINVAL with @err. */
int vtdm_parse_sid(const char *s, uint16_t *sid, char *err, size_t errlen);
/* Parse decimal or 0x hex; with @sized, a K/M/G suffix multiplies by 2^10/20/30. */
int vtdm_parse_u64(const char *s, uint64_t *out, bool sized);

#endif
