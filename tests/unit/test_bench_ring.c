/*
 * test_bench_ring.c — the ring workload of `vtdkit bench`
 * (src/bench/ring.h) at a small size: strict issues one PSI and one wait
 * per unmap; lazy one DSI per 256 unmaps (the queue size) plus the final
 * flush; lazy-ranged flushes page-selectively with far fewer waits than
 * strict; under caching mode every map adds its PSI and wait; no DMA
 * faults in any mode; every IOVA is released by the end.
 */
#include "harness.h"
#include "bench/ring.h"

#define N	2000u	/* pairs: 7 full queues of 256 and 208 left for destroy */

FIXTURE(bench_ring) {
	struct bench_ring_result r;
};

FIXTURE_SETUP(bench_ring)
{
}

FIXTURE_TEARDOWN(bench_ring)
{
}

static int run(struct bench_ring_result *r, enum vtd_dma_mode mode, bool cm, bool no_dma)
{
	struct bench_ring_opts o = { .mode = mode, .cm = cm, .pairs = N, .no_dma = no_dma };

	return bench_ring_run(&o, r);
}

/* What every run must show, whatever the mode. */
static void common(const struct bench_ring_result *r, enum vtd_dma_mode mode, bool dma)
{
	EXPECT_EQ(mode, r->mode);	/* forced: CM does not turn lazy into strict */
	EXPECT_EQ(N, r->pairs);
	EXPECT_EQ(256, r->ring);
	EXPECT_EQ(0, r->dma_fault);
	EXPECT_EQ(dma ? N : 0, r->dma_write);
	EXPECT_EQ(N, r->iova_alloc);
	EXPECT_EQ(N, r->iova_free);
	EXPECT_EQ(0, r->global);
	EXPECT_EQ(r->wait, r->qi_submit);	/* one wait closes each submission */
	EXPECT_EQ(r->psi, r->m_psi);		/* libvtd's count is what the model saw */
	EXPECT_EQ(r->dsi, r->m_dsi);
	EXPECT_EQ(r->wait, r->m_wait);
	EXPECT_LE((uint64_t)N * r->gap_ns, r->model_ns);
	EXPECT_TRUE(r->model_ns_per_pair > 0);
}

TEST_F(bench_ring, strict)
{
	ASSERT_EQ(0, run(&self->r, VTD_DMA_STRICT, false, false));
	common(&self->r, VTD_DMA_STRICT, true);
	EXPECT_EQ(N, self->r.psi);
	EXPECT_EQ(N, self->r.wait);
	EXPECT_EQ(0, self->r.dsi);
	EXPECT_EQ(0, self->r.fq_flush);
}

TEST_F(bench_ring, lazy)
{
	ASSERT_EQ(0, run(&self->r, VTD_DMA_LAZY, false, false));
	common(&self->r, VTD_DMA_LAZY, true);
	EXPECT_EQ(0, self->r.psi);
	EXPECT_EQ(N / 256 + 1, self->r.dsi);	/* 7 full queues, then destroy's flush */
	EXPECT_EQ(N / 256 + 1, self->r.wait);
	EXPECT_EQ(N / 256 + 1, self->r.fq_flush);
	EXPECT_EQ(N, self->r.fq_entries);
}

TEST_F(bench_ring, lazy_ranged)
{
	struct bench_ring_result strict;

	ASSERT_EQ(0, run(&self->r, VTD_DMA_LAZY_RANGED, false, false));
	common(&self->r, VTD_DMA_LAZY_RANGED, true);
	ASSERT_EQ(0, run(&strict, VTD_DMA_STRICT, false, false));
	EXPECT_EQ(N / 256 + 1, self->r.fq_flush);
	EXPECT_LT(0, self->r.psi);
	EXPECT_GE(self->r.psi + self->r.dsi, self->r.fq_flush);
	EXPECT_LT(self->r.wait, strict.wait / 10);
	EXPECT_TRUE(self->r.model_ns_per_pair < strict.model_ns_per_pair);
}

/* Caching mode: every map is followed by its own PSI and wait (seed 000). */
TEST_F(bench_ring, cm_strict)
{
	ASSERT_EQ(0, run(&self->r, VTD_DMA_STRICT, true, false));
	common(&self->r, VTD_DMA_STRICT, true);
	EXPECT_EQ(2 * N, self->r.psi);
	EXPECT_EQ(2 * N, self->r.wait);
	EXPECT_EQ(0, self->r.dsi);
}

TEST_F(bench_ring, cm_lazy)
{
	ASSERT_EQ(0, run(&self->r, VTD_DMA_LAZY, true, false));
	common(&self->r, VTD_DMA_LAZY, true);
	EXPECT_EQ(N, self->r.psi);			/* the maps' */
	EXPECT_EQ(N / 256 + 1, self->r.dsi);
	EXPECT_EQ(N + N / 256 + 1, self->r.wait);
}

TEST_F(bench_ring, cm_lazy_ranged)
{
	ASSERT_EQ(0, run(&self->r, VTD_DMA_LAZY_RANGED, true, false));
	common(&self->r, VTD_DMA_LAZY_RANGED, true);
	EXPECT_LT(N, self->r.psi);			/* the maps' and the queues' */
	EXPECT_EQ(N / 256 + 1, self->r.fq_flush);
}

/* Without the device's writes the invalidation counts do not change. */
TEST_F(bench_ring, no_dma)
{
	struct bench_ring_result with;

	ASSERT_EQ(0, run(&self->r, VTD_DMA_LAZY_RANGED, false, true));
	common(&self->r, VTD_DMA_LAZY_RANGED, false);
	ASSERT_EQ(0, run(&with, VTD_DMA_LAZY_RANGED, false, false));
	EXPECT_EQ(with.psi, self->r.psi);
	EXPECT_EQ(with.dsi, self->r.dsi);
	EXPECT_EQ(with.wait, self->r.wait);
	EXPECT_EQ(0, self->r.iotlb_hit + self->r.iotlb_miss);
}
