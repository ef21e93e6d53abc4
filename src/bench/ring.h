/*
 * ring.h — a NIC-receive-like ring workload for the DMA API layer
 * (issue 4, `vtdkit bench`, docs/benchmarks.md). One model unit, one
 * device, one domain, a vtd_dma layer in the mode asked for (forced, so
 * the lazy modes also run under caching mode). A ring of @ring buffers:
 * each step maps a 2..4 KiB buffer FROM_DEVICE, lets the device write 64
 * bytes into it through the model, unmaps the buffer mapped @ring steps
 * earlier, advances virtual time by @gap_ns and runs the flush-queue
 * timers. At the end the live buffers are unmapped and the layer
 * destroyed. The library never prints.
 */
#ifndef VTD_BENCH_RING_H
#define VTD_BENCH_RING_H

#include <stdbool.h>
#include <stdint.h>
#include "vtd/dma.h"
#include "model/model.h"

struct bench_ring_opts {
	enum vtd_dma_mode mode;
	bool cm;		/* unit key cm=1 (caching mode) */
	unsigned pairs;		/* map/unmap pairs; 0: 100000 */
	unsigned ring;		/* live buffers; 0: 256 */
	uint64_t gap_ns;	/* inter-arrival time per packet; 0: 1000 */
	bool no_dma;		/* skip the device's writes (software path only) */
};

struct bench_ring_result {
	enum vtd_dma_mode mode;	/* in force after vtd_dma_create */
	unsigned pairs, ring;
	uint64_t gap_ns;
	/* libvtd counters, deltas over the measured span */
	uint64_t qi_submit, psi, dsi, global, piotlb, devtlb, wait;
	uint64_t fq_flush, fq_entries, iova_alloc, iova_free, iova_cache_hit;
	/* model counters, deltas over the measured span */
	uint64_t m_desc, m_psi, m_dsi, m_wait, wbf, iotlb_hit, iotlb_miss;
	uint64_t dma_write, dma_fault;
	uint64_t model_ns;	/* model time.ns delta over the span */
	/* (model_ns - pairs * gap_ns) / pairs */
	double model_ns_per_pair;
	uint64_t wall_ns;	/* CLOCK_MONOTONIC over the span */
	double wall_ns_per_pair;
};

/* The model's default cost table, as the workload uses it. */
void bench_ring_costs(struct vtdm_costs *c);

/*
 * Run the workload once. The measured span runs from the first map to
 * the return of vtd_dma_destroy (the final unmaps included). Returns 0,
 * or a negative errno from the model, libvtd or a DMA that did not
 * complete (-EIO; the counters are still filled in).
 */
int bench_ring_run(const struct bench_ring_opts *o, struct bench_ring_result *r);

const char *bench_ring_mode_name(enum vtd_dma_mode m);

#endif
