/*
 * internal.h — libvtd's structures and the functions its modules share.
 *
 * Locks, outermost first (a function that needs one held ends in _locked):
 *   vtd.lock          the unit, device and domain lists
 *   domain.pt_lock    the domain's page tables (map, unmap, iova_to_phys)
 *   domain.cache_lock the domain's cache-tag list and unit array
 *   unit.lock         the unit's DID allocator, root/context/PASID tables,
 *                     GCMD handshakes and register-based invalidation
 *   unit.qi_lock      the unit's invalidation queue
 * Attach takes vtd.lock, then cache_lock and unit.lock as it goes; a flush
 * takes cache_lock, then each unit's qi_lock in turn.
 */
#ifndef VTD_CORE_INTERNAL_H
#define VTD_CORE_INTERNAL_H

#include "vtd/vtd.h"
#include "fmt/desc.h"

#define VTD_MAX_UNITS		8
#define VTD_MAX_DEVICES		256
#define VTD_QI_BATCH		16	/* descriptors batched per submission */
#define VTD_DID_RESERVED	2	/* DIDs 0 (CM invalid entries) and 1 (FS/PT) */

/* Counters of one unit, declared once: enum and printed name. */
#define VTD_UNIT_STATS(X)						\
	X(UST_QI_SUBMIT, "qi.submit")					\
	X(UST_DESC_CC, "qi.desc.cc")					\
	X(UST_DESC_IOTLB_GLOBAL, "qi.desc.iotlb.global")		\
	X(UST_DESC_IOTLB_DSI, "qi.desc.iotlb.dsi")			\
	X(UST_DESC_IOTLB_PSI, "qi.desc.iotlb.psi")			\
	X(UST_DESC_DEVTLB, "qi.desc.devtlb")				\
	X(UST_DESC_IEC, "qi.desc.iec")					\
	X(UST_DESC_PIOTLB, "qi.desc.piotlb")				\
	X(UST_DESC_PC, "qi.desc.pc")					\
	X(UST_DESC_PDEVTLB, "qi.desc.pdevtlb")				\
	X(UST_DESC_WAIT, "qi.desc.wait")				\
	X(UST_QI_IQE, "qi.iqe")						\
	X(UST_QI_ITE, "qi.ite")						\
	X(UST_QI_ICE, "qi.ice")						\
	X(UST_QI_RETRY, "qi.retry")					\
	X(UST_REG_INV, "reginv")					\
	X(UST_WBF, "wbf")						\
	X(UST_CLFLUSH, "clflush")					\
	X(UST_FAULT, "fault")

#define VTD_STAT_ENUM(e, n) e,
enum vtd_unit_stat { VTD_UNIT_STATS(VTD_STAT_ENUM) UST_NR };
#undef VTD_STAT_ENUM

struct vtd_unit {
	struct vtd *v;
	unsigned idx;
	char name[16];
	uint64_t base, cap, ecap;
	bool sm;		/* scalable-mode tables */
	bool qi;		/* queued invalidation in use */
	bool coherent;		/* ECAP.C: no clflush of root/context/SS tables */
	unsigned ndoms;

	void *lock;		/* DIDs, root/context/PASID tables, GCMD, register inv */
	uint64_t *did_map;	/* bitmap of allocated DIDs */
	uint64_t root;		/* root table */

	void *qi_lock;		/* the invalidation queue below */
	uint64_t iq;		/* ring */
	unsigned iq_size;	/* descriptors */
	bool wide;		/* 256-bit descriptors */
	unsigned tail;		/* next free slot */
	uint64_t status;	/* one status dword per slot */
	uint32_t seq;

	uint64_t stat[UST_NR];	/* stat_inc/stat_read: atomic */
};

struct vtd_device {
	struct vtd *v;
	struct vtd_unit *unit;
	uint16_t sid;
	char name[16];		/* "0000:bb:dd.f" as Linux prints it */
	struct vtd_device_opts opts;
	struct vtd_domain *domain;	/* under vtd.lock */
	bool gone;			/* surprise-removed (atomic): never answers again */
	uint32_t rid_pasid;		/* PASID of requests without one (scalable) */
	uint64_t pasid_dir;		/* scalable mode: PASID directory */
};

enum cache_tag_type {
	CACHE_TAG_IOTLB,		/* the unit's IOTLB for (DID, PASID) */
	CACHE_TAG_DEVTLB,		/* one device's TLB */
	CACHE_TAG_NESTING_IOTLB,	/* nested domain on this parent (phase 2) */
	CACHE_TAG_NESTING_DEVTLB,
};

struct cache_tag {
	struct cache_tag *next;
	struct cache_tag *grave;	/* vtd.tag_graveyard link (unlocked-tag-walk) */
	enum cache_tag_type type;
	struct vtd_unit *unit;
	struct vtd_device *dev;		/* DEVTLB kinds */
	uint16_t did;
	uint32_t pasid;
	unsigned users;
};

/* One unit a domain is attached through: its DID there, and how many devices. */
struct domain_unit {
	struct vtd_unit *unit;
	unsigned refcnt;
	uint16_t did;
};

struct vtd_domain {
	struct vtd *v;
	struct vtd_domain *next;	/* vtd.domains, under vtd.lock */
	enum vtd_stage stage;
	int levels;
	uint64_t pgd;			/* top-level table */
	uint64_t pgsizes;		/* leaf sizes every attached unit supports */
	unsigned ndevs;			/* under vtd.lock */
	bool sync_map;			/* map path flushes (CM second stage, RWBF); fixed */
	struct vtd_unit *for_unit;	/* the unit it was allocated for; NULL: any */

	bool coherent;			/* every unit snoops SS tables (else clflush) */
	void *pt_lock;			/* page tables */
	void *cache_lock;		/* tags, units[] */
	struct cache_tag *tags;
	struct domain_unit units[VTD_MAX_UNITS];
	uint64_t tag_walks;		/* stat_inc/stat_read: atomic */
};

struct vtd {
	const struct vtd_ops *ops;
	void *ctx;
	void *lock;			/* units[], devices, domains */
	struct vtd_unit *units[VTD_MAX_UNITS];
	unsigned nunits;
	/*
	 * Append-only: a device is published by the release store of ndevs
	 * (under lock) and never moves, so the queue's error path may read
	 * the list with an acquire load and no lock.
	 */
	struct vtd_device *devs[VTD_MAX_DEVICES];
	unsigned ndevs;
	struct vtd_domain *domains;
	uint64_t tag_walks_freed;	/* tag walks of domains already freed */
	uint64_t sync_map_noop;		/* maps that needed no flush (atomic) */
	uint64_t gather_sync_early;	/* unmaps that synced the gather first (atomic) */
	uint64_t pages_quarantined;	/* table pages kept because no flush covered them (atomic) */
	/* DMA layer (iova.c, dma.c), all atomic. */
	uint64_t iova_alloc, iova_free, iova_cache_hit;
	uint64_t iova_quarantined;	/* IOVA ranges never reused: their flush failed */
	uint64_t fq_entries, fq_flush;
	uint64_t call_seq;		/* vtd_call ids (atomic) */
	unsigned knobs;			/* enum vtd_knob bits; set before use */
	struct cache_tag *tag_graveyard; /* unlocked-tag-walk: removed tags, freed at destroy */
};

/* pgtable.c: the domain's I/O page tables; every _locked call needs pt_lock. */
#define PGSIZE_4K	(1ULL << 12)
#define PGSIZE_2M	(1ULL << 21)
#define PGSIZE_1G	(1ULL << 30)
/* Allocate the top-level table (dom->pgd). */
int pt_alloc_root(struct vtd_domain *dom);
/* Free every table page, top level included; no device may be attached. */
void pt_free_all(struct vtd_domain *dom);
/*
 * Map [iova, iova+size) -> [pa, pa+size) with the largest leaves in
 * dom->pgsizes that alignment allows. -EEXIST if any page is mapped
 * already (nothing is changed then), -EINVAL for unaligned arguments,
 * -ENOMEM. A superpage may replace an empty lower-level table: that
 * table's pages are added to @freed (not NULL), which the caller must
 * flush and then free even when the call failed and was undone.
 */
int pt_map_locked(struct vtd_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
		  unsigned perm, struct vtd_gather *freed);
/*
 * Clear every leaf in [iova, iova+size); a superpage the range covers
 * only partly is split into the next level first. Table pages left empty
 * and wholly inside the range are unlinked and added to g's freelist.
 * Returns the bytes that were mapped (0 also when nothing could be split
 * for lack of memory, with no translation changed); *@leaf is the largest
 * leaf size met.
 */
uint64_t pt_unmap_locked(struct vtd_domain *dom, uint64_t iova, uint64_t size,
			 struct vtd_gather *g, uint64_t *leaf);
int pt_lookup_locked(struct vtd_domain *dom, uint64_t iova, uint64_t *pa, unsigned *perm,
		     uint64_t *pgsize);
/* A table-entry write of this domain: clflush when a unit does not snoop. */
void dom_entry_write(struct vtd_domain *dom, uint64_t pa, uint64_t val);
/* Remember a table page to free after the next flush; -ENOMEM. */
int gather_add_free(struct vtd_gather *g, uint64_t pa);

/* domain.c */
/* Whether a domain of @stage on @u needs its map path to flush (6.1, 6.8). */
bool unit_needs_sync_map(const struct vtd_unit *u, enum vtd_stage stage);
bool unit_supports_domain(const struct vtd_unit *u, const struct vtd_domain *dom);
int domain_unit_get(struct vtd_domain *dom, struct vtd_unit *u, uint16_t *did);
void domain_unit_put(struct vtd_domain *dom, struct vtd_unit *u);

/* A surprise-removed device answers nothing: its device TLB is not invalidated. */
static inline bool device_gone(const struct vtd_device *d)
{
	return __atomic_load_n(&d->gone, __ATOMIC_RELAXED);
}

/* cache_tag.c */
int cache_tag_assign(struct vtd_domain *dom, struct vtd_device *dev, uint16_t did,
		     uint32_t pasid);
void cache_tag_unassign(struct vtd_domain *dom, struct vtd_device *dev, uint16_t did,
			uint32_t pasid);
/* Invalidate [start, end] (inclusive); @ih: only leaves changed. */
int cache_tag_flush_range(struct vtd_domain *dom, uint64_t start, uint64_t end, bool ih);
/* An inclusive address range. */
struct vtd_span {
	uint64_t start, end;
};
/* Invalidate @n ranges in one walk: one batch, one wait, per unit. */
int cache_tag_flush_ranges(struct vtd_domain *dom, const struct vtd_span *r, unsigned n,
			   bool ih);
int cache_tag_flush_range_np(struct vtd_domain *dom, uint64_t start, uint64_t end);
int cache_tag_flush_all(struct vtd_domain *dom);
/*
 * Page-selective address and mask for [start, end]: the smallest naturally
 * aligned block of 2^mask pages that covers it (never less); 52 means all.
 */
unsigned psi_mask(uint64_t start, uint64_t end, uint64_t *addr);

/* Counters are bumped under different locks and read under none. */
static inline void stat_inc(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static inline uint64_t stat_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/*
 * iova.c: a DMA layer's IOVA allocator (complexity in iova.c). Locks: a
 * slot's magazine lock, then the allocator's lock; both innermost.
 */
#define IOVA_MAX_ALIGN		21	/* powers of two up to 2 MiB are size-aligned */
#define IOVA_SLOTS		16	/* thread slots (vtd_ops.cpu modulo this) */
#define IOVA_CACHE_ORDERS	6	/* magazines for 4K..128K */
#define IOVA_MAG		32	/* IOVAs per magazine and size */

struct iova_range {
	uint64_t start, end;		/* [start, end) */
};

struct iova_mag {
	void *lock;
	unsigned n[IOVA_CACHE_ORDERS];
	uint64_t iova[IOVA_CACHE_ORDERS][IOVA_MAG];
};

struct iova_domain {
	struct vtd *v;
	void *lock;			/* free[] */
	uint64_t base, limit;		/* the window [base, limit) */
	struct iova_range *free;	/* sorted, disjoint, never adjacent */
	size_t nfree, cap;
	bool no_cache;			/* caller-chosen IOVAs: no magazines */
	struct iova_mag mag[IOVA_SLOTS];
};

/* The calling thread's slot: vtd_ops.cpu modulo IOVA_SLOTS, or 0. */
unsigned vtd_cpu_slot(struct vtd *v);
/* -EINVAL for an unaligned or empty window, -ENOMEM. */
int iova_init(struct iova_domain *iad, struct vtd *v, uint64_t base, uint64_t limit);
void iova_fini(struct iova_domain *iad);
/* @size a multiple of 4 KiB; -EINVAL, -ENOSPC (window exhausted), -ENOMEM. */
int iova_alloc(struct iova_domain *iad, uint64_t size, uint64_t *iova);
/* Exactly an allocation's IOVA and size; a double free is ignored. */
void iova_free(struct iova_domain *iad, uint64_t iova, uint64_t size);
/*
 * Caller-chosen IOVAs (iad->no_cache): take exactly [iova, iova+size) out
 * of the free ranges, -EBUSY if any of it is not free (still mapped, or
 * waiting for its flush); and give back whatever part of a range is
 * taken, leaving the free parts alone.
 */
int iova_reserve(struct iova_domain *iad, uint64_t iova, uint64_t size);
void iova_release_span(struct iova_domain *iad, uint64_t iova, uint64_t size);

/* core.c */
/*
 * A zeroed page for a table the unit walks; with @flush (a unit that does
 * not snoop it) every line is written back, so the walker sees zeros and
 * not the page's previous contents.
 */
int table_page_alloc(struct vtd *v, bool flush, uint64_t *pa);
void vtd_lock(struct vtd *v, void *lock);
void vtd_unlock(struct vtd *v, void *lock);
void vtd_yield(struct vtd *v, enum vtd_yield_point where);
void vtd_yield_obj(struct vtd *v, enum vtd_yield_point where, const void *obj);
/* Report a public call to vtd_ops.call on entry and on return. */
void vtd_call_enter(struct vtd *v, struct vtd_call *c);
void vtd_call_exit(struct vtd *v, struct vtd_call *c, int64_t ret);
#define KNOB(v, k)	vtd_knob_on((v), VTD_KNOB_##k)
void vtd_trace(struct vtd *v, const struct vtd_event *ev);

/* unit.c */
void unit_shutdown(struct vtd_unit *u);
void unit_free(struct vtd_unit *u);
uint64_t unit_reg64(struct vtd_unit *u, unsigned off);
uint32_t unit_reg32(struct vtd_unit *u, unsigned off);
void unit_set_reg64(struct vtd_unit *u, unsigned off, uint64_t val);
void unit_set_reg32(struct vtd_unit *u, unsigned off, uint32_t val);
/* Write one table entry qword, flushing the line on a non-coherent unit. */
void unit_entry_write(struct vtd_unit *u, uint64_t pa, uint64_t val, bool coherent_kind);
void unit_flush_write_buffer(struct vtd_unit *u);
int unit_did_alloc(struct vtd_unit *u, uint16_t *did);
void unit_did_free(struct vtd_unit *u, uint16_t did);
/*
 * Submit @n descriptors and one wait; return when the wait completed.
 * -EINVAL if the unit refused one (IQE), -ETIMEDOUT if a device-TLB
 * invalidation went unanswered by a device that is gone.
 */
int qi_submit_sync(struct vtd_unit *u, const struct vtd_desc *d, unsigned n);

#endif
