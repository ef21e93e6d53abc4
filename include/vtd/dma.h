/*
 * dma.h — libvtd's DMA API layer: what I/O drivers call. It allocates
 * IOVAs per domain, maps and unmaps through the domain's page tables, and
 * applies an invalidation policy to unmaps:
 *
 *   strict       every unmap gathers its range and syncs before it returns;
 *   lazy         unmaps go to per-thread flush queues; a full queue or the
 *                timer flushes the whole domain, then releases the queued
 *                IOVAs and table pages (the unmap path records no range:
 *                seed 002);
 *   lazy-ranged  like lazy, but the queue flushes the merged ranges it
 *                holds page-selectively, falling back to a domain flush
 *                past a number of descriptors — lazy batching without
 *                making a caching-mode hypervisor re-walk whole tables.
 *
 * Caching mode forces strict unless the caller insists (seed 004); an
 * untrusted device is always strict. An IOVA is never handed out again
 * before the invalidation covering its previous mapping has completed.
 */
#ifndef VTD_DMA_H
#define VTD_DMA_H

#include "vtd/vtd.h"

enum vtd_dma_mode {
	VTD_DMA_STRICT,
	VTD_DMA_LAZY,
	VTD_DMA_LAZY_RANGED,
};

#define VTD_DMA_TO_DEVICE	1u	/* the device reads: map read-only */
#define VTD_DMA_FROM_DEVICE	2u	/* the device writes */
#define VTD_DMA_BIDIRECTIONAL	3u

struct vtd_dma_opts {
	enum vtd_dma_mode mode;
	bool force_mode;		/* keep a lazy mode even under caching mode */
	unsigned fq_size;		/* entries per flush queue; 0: 256 */
	uint64_t fq_timeout_ns;		/* queue timer, virtual ns; 0: 10 ms */
	unsigned ranged_max_desc;	/* lazy-ranged: more ranges than this flush the domain; 0: 16 */
	uint64_t iova_base, iova_limit;	/* IOVA window [base, limit); 0, 0: [1 MiB, 4 GiB) */
	/*
	 * The caller chooses every IOVA (a trace replay): vtd_dma_map_at only,
	 * and the window defaults to all the domain's tables can map.
	 */
	bool caller_iova;
};

struct vtd_dma;

struct vtd_sg {
	uint64_t pa, len;	/* in: the buffer */
	uint64_t iova;		/* out: where the device sees it */
};

int vtd_dma_create(struct vtd_domain *dom, const struct vtd_dma_opts *opts,
		   struct vtd_dma **out);
/* Flushes every queue, releases every IOVA; the domain stays. */
void vtd_dma_destroy(struct vtd_dma *d);
/* The mode in force (caching mode may have forced strict). */
enum vtd_dma_mode vtd_dma_mode(const struct vtd_dma *d);
/* Why the mode differs from the one asked for, or NULL. */
const char *vtd_dma_note(const struct vtd_dma *d);

int vtd_dma_map(struct vtd_dma *d, struct vtd_device *dev, uint64_t pa, uint64_t size,
		unsigned dir, uint64_t *iova);
/*
 * With opts.caller_iova: map at the caller's @iova (page offset equal to
 * @pa's). -EBUSY if part of the range is still mapped or still waits for
 * the flush of its last unmap after the queues were flushed to free it.
 */
int vtd_dma_map_at(struct vtd_dma *d, struct vtd_device *dev, uint64_t iova, uint64_t pa,
		   uint64_t size, unsigned dir);
/*
 * @iova and @size exactly as mapped (with caller_iova: any range; the
 * parts of it that were mapped go back). @dev may be NULL (a trusted device);
 * an untrusted one is always unmapped strictly. -ENOENT, and nothing
 * flushed or freed, when nothing in the range is mapped: a second unmap
 * of a buffer (even while the first waits in a flush queue) never frees
 * its IOVA twice. See docs/dma.md.
 */
int vtd_dma_unmap(struct vtd_dma *d, struct vtd_device *dev, uint64_t iova, uint64_t size);
/*
 * One contiguous IOVA range for the list; one flush for the whole list on
 * unmap, which is -ENOENT (nothing flushed or freed) when none of it is mapped.
 */
int vtd_dma_map_sg(struct vtd_dma *d, struct vtd_device *dev, struct vtd_sg *sg, unsigned n,
		   unsigned dir);
int vtd_dma_unmap_sg(struct vtd_dma *d, struct vtd_device *dev, struct vtd_sg *sg,
		     unsigned n);
/* Run the flush-queue timers against the host's clock. */
void vtd_dma_poll(struct vtd_dma *d);

#endif
