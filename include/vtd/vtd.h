/*
 * vtd.h — libvtd, a portable Intel VT-d DMA-remapping driver core.
 *
 * libvtd does what an OS's VT-d driver does for DMA remapping: units
 * (probe, root table, invalidation queue, fault reporting, translation
 * enable), domains with their I/O page tables, attach and detach in a
 * hardware-safe order, map and unmap, and one place — the cache tags —
 * that decides every IOTLB and device-TLB invalidation. It reaches the
 * hardware only through struct vtd_ops, so the same core runs in a kernel,
 * a hypervisor, or user space against vtdkit's hardware model.
 *
 * Errors are negative errno values. Every entry point may be called from
 * several threads at once; the locks are described in src/core/internal.h.
 */
#ifndef VTD_VTD_H
#define VTD_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vtd/trace.h"

struct vtd;
struct vtd_unit;
struct vtd_domain;
struct vtd_device;

/* Where a cooperative scheduler may switch tasks (no-op in a kernel). */
enum vtd_yield_point {
	VTD_Y_LOCK,		/* a lock was taken or is about to be released */
	VTD_Y_ENTRY_WRITE,	/* a table, context or PASID entry write */
	VTD_Y_DESC_WRITE,	/* a descriptor written into the queue, or IQT moved */
	VTD_Y_POLL,		/* one poll of a status word or register */
	VTD_Y_SHARED,		/* shared state touched outside its lock (@obj: that lock) */
};

/*
 * A public call, as libvtd reports it to vtd_ops.call: once on entry
 * (@done false) and once on return (@done true, with @ret). The checker
 * builds its record of what the driver promised from these alone.
 */
enum vtd_call_kind {
	VTD_CALL_MAP,		/* vtd_map: @iova, @pa, @size, @perm */
	VTD_CALL_UNMAP,		/* vtd_unmap: @iova, @size; @ret bytes unmapped */
	VTD_CALL_SYNC,		/* vtd_iotlb_sync: the gather's range [@iova, @iova+@size) or @size 0 */
	VTD_CALL_FLUSH_ALL,	/* vtd_flush_all */
	VTD_CALL_FLUSH_RANGE,	/* the DMA layer's ranged flush (lazy-ranged): [@iova, @iova+@size) */
	VTD_CALL_ATTACH,	/* vtd_attach: @dom, @dev */
	VTD_CALL_DETACH,	/* vtd_detach: @dev */
	VTD_CALL_IOVA_FREE,	/* the DMA layer gave [@iova, @iova+@size) back to its allocator */
	VTD_CALL_NR,
};

struct vtd_call {
	enum vtd_call_kind kind;
	bool done;		/* false: entering; true: returning */
	uint64_t id;		/* the same on entry and return; unique per instance */
	int64_t ret;		/* on return: 0 or -errno (unmap: bytes) */
	struct vtd_domain *dom;
	struct vtd_device *dev;
	uint64_t iova, pa, size;
	unsigned perm;
	/* attach, detach on return: the device's domain now (NULL: none) */
	struct vtd_domain *now;
};

const char *vtd_call_name(enum vtd_call_kind kind);

/*
 * What the core needs from its host. @ctx is passed back to every call.
 * Addresses are bus (guest-physical) addresses; the core reads and writes
 * table memory only through mem_read64/mem_write64, never by pointer.
 */
struct vtd_ops {
	uint32_t (*mmio_read32)(void *ctx, uint64_t addr);
	uint64_t (*mmio_read64)(void *ctx, uint64_t addr);
	void (*mmio_write32)(void *ctx, uint64_t addr, uint32_t val);
	void (*mmio_write64)(void *ctx, uint64_t addr, uint64_t val);

	/* A zeroed 4 KiB page the hardware can read; 0 or -ENOMEM. */
	int (*page_alloc)(void *ctx, uint64_t *pa);
	void (*page_free)(void *ctx, uint64_t pa);
	uint64_t (*mem_read64)(void *ctx, uint64_t pa);
	void (*mem_write64)(void *ctx, uint64_t pa, uint64_t val);
	uint32_t (*mem_read32)(void *ctx, uint64_t pa);
	void (*mem_write32)(void *ctx, uint64_t pa, uint32_t val);
	/* Write the cache line holding @pa back to memory (non-coherent units). */
	void (*clflush)(void *ctx, uint64_t pa);

	/* Sleeping locks: create, take, release, destroy. */
	void *(*lock_new)(void *ctx);
	void (*lock)(void *ctx, void *lock);
	void (*unlock)(void *ctx, void *lock);
	void (*lock_free)(void *ctx, void *lock);

	uint64_t (*now_ns)(void *ctx);
	/* One iteration of a polling loop: pause, or let virtual time pass. */
	void (*relax)(void *ctx);
	/*
	 * Optional: a scheduling point for deterministic exploration. @obj is
	 * the lock involved (VTD_Y_LOCK), or the lock that guards the shared
	 * state touched outside it (VTD_Y_SHARED); NULL otherwise.
	 */
	void (*yield)(void *ctx, enum vtd_yield_point where, const void *obj);
	/* Optional: every public call on entry and return (struct vtd_call). */
	void (*call)(void *ctx, const struct vtd_call *c);
	/* Optional: receives every trace event (see vtd_event_format). */
	void (*trace)(void *ctx, const struct vtd_event *ev);
	/*
	 * Optional: the calling thread's CPU (any small number, stable per
	 * thread); the DMA layer picks per-CPU IOVA caches and flush queues
	 * with it. NULL: everything uses slot 0.
	 */
	unsigned (*cpu)(void *ctx);
};

/* ---- Library instance ---- */

struct vtd *vtd_create(const struct vtd_ops *ops, void *ctx);
/*
 * Detaches every device, frees every domain, disables every unit (TE and
 * QIE off) and returns every page it allocated.
 */
void vtd_destroy(struct vtd *v);

/* ---- Units ---- */

struct vtd_unit_opts {
	const char *name;	/* "dmar0", …; NULL names units in order */
	bool scalable;		/* use scalable mode when the unit has it */
	bool no_qi;		/* use register-based invalidation even with QI */
};

/*
 * Probe the unit whose registers are at @base (CAP/ECAP), set up its root
 * table, invalidation queue and fault reporting, and enable translation.
 */
int vtd_unit_add(struct vtd *v, uint64_t base, const struct vtd_unit_opts *opts,
		 struct vtd_unit **out);
const char *vtd_unit_name(const struct vtd_unit *u);
uint64_t vtd_unit_cap(const struct vtd_unit *u);
uint64_t vtd_unit_ecap(const struct vtd_unit *u);
/* Read and clear the unit's pending fault records; returns how many. */
int vtd_unit_faults(struct vtd_unit *u, void (*fn)(void *arg, uint16_t sid, uint64_t addr,
						  unsigned reason, bool write), void *arg);

/* ---- Devices ---- */

struct vtd_device_opts {
	bool ats;		/* enable ATS: a device TLB to invalidate */
	unsigned qdep;		/* ATS invalidate queue depth (0 = 32) */
	uint16_t pfsid;		/* physical-function SID (SR-IOV), for DIT */
	bool untrusted;		/* external-facing: the DMA layer always unmaps strictly */
};

int vtd_device_add(struct vtd *v, struct vtd_unit *u, uint16_t sid,
		   const struct vtd_device_opts *opts, struct vtd_device **out);
uint16_t vtd_device_sid(const struct vtd_device *d);
/*
 * The device was surprise-removed: it will never answer a device-TLB
 * invalidation again, so one that times out fails with -ETIMEDOUT at
 * once instead of being retried.
 */
void vtd_device_set_gone(struct vtd_device *d);

/* ---- Domains ---- */

enum vtd_stage {
	VTD_STAGE_FIRST = 1,	/* first-stage (IA-32e) tables, scalable mode only */
	VTD_STAGE_SECOND = 2,	/* second-stage tables */
};

struct vtd_domain_opts {
	enum vtd_stage stage;
	int levels;		/* 0: 4 */
	/*
	 * The unit the domain is allocated for; NULL: every unit present.
	 * Whether its map path must flush (iotlb_sync_map: a second-stage
	 * domain on a CM unit, or any domain on an RWBF unit) is decided
	 * from these units once, here, and never changes: attaching a
	 * device whose unit needs it to a domain allocated without it fails
	 * with -EINVAL (seed 000).
	 */
	struct vtd_unit *unit;
};

int vtd_domain_alloc(struct vtd *v, const struct vtd_domain_opts *opts,
		     struct vtd_domain **out);
/* -EBUSY while a device is attached. */
int vtd_domain_free(struct vtd_domain *dom);
/* Whether the domain's map path flushes (decided at allocation). */
bool vtd_domain_sync_map(const struct vtd_domain *dom);

/*
 * Attach @dev to @dom, or move it there from the domain it is in: the new
 * domain's cache tags are live before the entry that lets hardware walk
 * its table, and the old ones are dropped only after the switch.
 */
int vtd_attach(struct vtd_domain *dom, struct vtd_device *dev);
int vtd_detach(struct vtd_device *dev);

/* ---- Map and unmap ---- */

#define VTD_PERM_R	1u
#define VTD_PERM_W	2u
#define VTD_PERM_RW	3u

/*
 * What an unmap leaves to invalidate: the range (inclusive end), the page
 * size it was gathered at, the table pages to free once the invalidation
 * completed, and whether a flush queue will flush the whole domain anyway
 * (@queued: then no range is recorded).
 */
struct vtd_gather {
	uint64_t start, end;
	uint64_t pgsize;
	uint64_t *freelist;	/* table pages to free after the flush */
	size_t nfree, cap;
	bool queued;
	bool unlinked;		/* tables were unlinked: no invalidation hint (IH=0) */
};

void vtd_gather_init(struct vtd_gather *g);
void vtd_gather_fini(struct vtd_gather *g);

/*
 * Map [iova, iova+size) to [pa, pa+size) with the largest leaves alignment
 * allows (4K/2M/1G as the units support), then make the new entries
 * visible to every unit (write-buffer flush, or invalidation under CM).
 * -EEXIST, -EINVAL and -ENOMEM change nothing; an error from the flush
 * (-EINVAL, -ETIMEDOUT) comes after the entries were written: the caller
 * unmaps the range before reusing it (vtd_dma_map does).
 */
int vtd_map(struct vtd_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
	    unsigned perm);
/*
 * Clear the entries of [iova, iova+size) (a superpage is split when the
 * range covers part of it) and gather what must be invalidated. Returns
 * the bytes unmapped. Nothing is invalidated until vtd_iotlb_sync().
 */
uint64_t vtd_unmap(struct vtd_domain *dom, uint64_t iova, uint64_t size,
		   struct vtd_gather *g);
/* Invalidate what @g gathered, wait, then free its table pages. */
/*
 * Returns 0, or the error of a flush that failed: then the gathered table
 * pages are quarantined (never freed), and the caller must not reuse the
 * range's IOVAs either — some cache may still translate them.
 */
int vtd_iotlb_sync(struct vtd_domain *dom, struct vtd_gather *g);
/* Unmap and sync, as strict mode does. */
uint64_t vtd_unmap_sync(struct vtd_domain *dom, uint64_t iova, uint64_t size);
/* Invalidate everything the domain may have cached, on every unit. */
int vtd_flush_all(struct vtd_domain *dom);
/* Software walk of the domain's table: 0 with pa and perm, or -ENOENT. */
int vtd_iova_to_phys(struct vtd_domain *dom, uint64_t iova, uint64_t *pa, unsigned *perm);

/* ---- Fault injection (off by default; for the checker's litmus tests) ---- */

/*
 * Each knob re-introduces one ordering bug the seeds argue about
 * (docs/checker.md). Names: tags-after-install, no-wbf-before-install,
 * dynamic-sync-map, no-devtlb-inv, free-table-before-flush,
 * iova-reuse-before-flush, no-map-flush-cm, unlocked-tag-walk,
 * old-tags-removed-first. Set them before any domain is allocated.
 */
enum vtd_knob {
	VTD_KNOB_TAGS_AFTER_INSTALL,
	VTD_KNOB_NO_WBF_BEFORE_INSTALL,
	VTD_KNOB_DYNAMIC_SYNC_MAP,
	VTD_KNOB_NO_DEVTLB_INV,
	VTD_KNOB_FREE_TABLE_BEFORE_FLUSH,
	VTD_KNOB_IOVA_REUSE_BEFORE_FLUSH,
	VTD_KNOB_NO_MAP_FLUSH_CM,
	VTD_KNOB_UNLOCKED_TAG_WALK,
	VTD_KNOB_OLD_TAGS_REMOVED_FIRST,
	VTD_KNOB_NR,
};

const char *vtd_knob_name(enum vtd_knob k);
/* The knob called @name, or -1. */
int vtd_knob_lookup(const char *name);
void vtd_knob_set(struct vtd *v, enum vtd_knob k, bool on);
bool vtd_knob_on(const struct vtd *v, enum vtd_knob k);

/* ---- Counters and trace events ---- */

int vtd_stat(struct vtd *v, const char *name, uint64_t *val);
void vtd_stats_foreach(struct vtd *v, void (*fn)(void *arg, const char *name, uint64_t val),
		       void *arg);

#endif
