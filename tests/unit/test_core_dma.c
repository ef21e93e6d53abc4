/*
 * test_core_dma.c — the DMA API layer (include/vtd/dma.h): the IOVA
 * allocator (alignment, no overlap against a brute-force bitmap,
 * exhaustion, per-thread caches), strict unmaps, the lazy flush queue and
 * its guarantee that no IOVA is handed out again before the flush covering
 * it completed, lazy-ranged page-selective flushes, caching mode forcing
 * strict, untrusted devices, scatter-gather lists, and threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "vtdenv.h"
#include "vtd/dma.h"
#include "core/internal.h"

#define PG	4096ULL

FIXTURE(core_dma) {
	struct vtdenv e;
	struct vtd_domain *dom;
	struct vtd_dma *d;
	int dev;
};

FIXTURE_SETUP(core_dma)
{
}

FIXTURE_TEARDOWN(core_dma)
{
	if (self->d)
		vtd_dma_destroy(self->d);
	if (self->e.v)
		vtdenv_fini(&self->e);
}

/* One unit with @keys, one device attached to a fresh domain, a DMA layer in @mode. */
static void setup_(struct vtdenv *e, struct vtd_domain **dom, struct vtd_dma **d, int *dev,
		   const char *keys, const struct vtd_dma_opts *o)
{
	vtdenv_init(e, keys, 1, false);
	*dev = _vtdenv_add_device(e, 0, 0x0008, false);
	ASSERT_LE(0, *dev);
	ASSERT_EQ(0, vtd_domain_alloc(e->v, NULL, dom));
	ASSERT_EQ(0, vtd_attach(*dom, e->dev[*dev]));
	if (o)
		ASSERT_EQ(0, vtd_dma_create(*dom, o, d));
}

#define setup(keys, o)	setup_(&self->e, &self->dom, &self->d, &self->dev, keys, o)

/* ---- IOVA allocator ---- */

TEST_F(core_dma, iova_alignment)
{
	struct iova_domain iad;
	uint64_t a;

	vtdenv_init(&self->e, "", 1, false);
	ASSERT_EQ(0, iova_init(&iad, self->e.v, 1ULL << 20, 1ULL << 32));
	for (uint64_t sz = PG; sz <= (8ULL << 20); sz <<= 1) {
		ASSERT_EQ(0, iova_alloc(&iad, sz, &a));
		if (sz <= (1ULL << IOVA_MAX_ALIGN))
			EXPECT_EQ(0, a & (sz - 1));
		EXPECT_EQ(0, a % PG);
		EXPECT_LE(1ULL << 20, a);
		EXPECT_GE((1ULL << 32) - sz, a);
		/* A non-power-of-two size in between: page-aligned only. */
		ASSERT_EQ(0, iova_alloc(&iad, 3 * PG, &a));
		EXPECT_EQ(0, a % PG);
	}
	EXPECT_EQ(-EINVAL, iova_alloc(&iad, 0, &a));
	EXPECT_EQ(-EINVAL, iova_alloc(&iad, 100, &a));
	iova_fini(&iad);
}

/* Random allocations and frees against a bitmap of the window's pages. */
TEST_F(core_dma, iova_no_overlap_random)
{
	enum { NPAGES = 2048, NLIVE = 512 };
	static const unsigned sizes[] = { 1, 1, 1, 2, 4, 8, 16, 32, 3, 5, 64, 512 };
	struct { uint64_t a, n; } live[NLIVE];
	static uint8_t used[NPAGES];
	const uint64_t base = 1ULL << 20;
	struct iova_domain iad;
	unsigned nlive = 0, nospc = 0;
	uint64_t a;

	memset(used, 0, sizeof(used));
	srand(12345);
	vtdenv_init(&self->e, "", 1, false);
	ASSERT_EQ(0, iova_init(&iad, self->e.v, base, base + NPAGES * PG));
	for (int it = 0; it < 20000; it++) {
		if (nlive < NLIVE && (rand() % 3 || !nlive)) {
			uint64_t n = sizes[rand() % (sizeof(sizes) / sizeof(sizes[0]))];
			int ret = iova_alloc(&iad, n * PG, &a);

			if (ret == -ENOSPC) {
				nospc++;
				continue;
			}
			ASSERT_EQ(0, ret);
			ASSERT_LE(base, a);
			ASSERT_GE(base + NPAGES * PG, a + n * PG);
			if ((n & (n - 1)) == 0)
				ASSERT_EQ(0, a & (n * PG - 1));
			for (uint64_t p = 0; p < n; p++) {
				ASSERT_EQ(0, used[(a - base) / PG + p]);
				used[(a - base) / PG + p] = 1;
			}
			live[nlive].a = a;
			live[nlive++].n = n;
		} else {
			unsigned i = (unsigned)rand() % nlive;

			for (uint64_t p = 0; p < live[i].n; p++)
				used[(live[i].a - base) / PG + p] = 0;
			iova_free(&iad, live[i].a, live[i].n * PG);
			live[i] = live[--nlive];
		}
	}
	TH_LOG("%u allocations hit -ENOSPC", nospc);
	while (nlive--)
		iova_free(&iad, live[nlive].a, live[nlive].n * PG);
	/* Everything back (magazines drained on demand): the whole window fits. */
	ASSERT_EQ(0, iova_alloc(&iad, NPAGES * PG, &a));
	EXPECT_EQ(base, a);
	iova_fini(&iad);
}

TEST_F(core_dma, iova_exhaustion)
{
	enum { NPAGES = 64 };
	struct iova_domain iad;
	uint64_t a[NPAGES + 1];
	unsigned n = 0;

	vtdenv_init(&self->e, "", 1, false);
	ASSERT_EQ(0, iova_init(&iad, self->e.v, 1ULL << 20, (1ULL << 20) + NPAGES * PG));
	while (n <= NPAGES && iova_alloc(&iad, PG, &a[n]) == 0)
		n++;
	EXPECT_EQ(NPAGES, n);
	EXPECT_EQ(-ENOSPC, iova_alloc(&iad, PG, &a[0]));
	/* Freed 4K IOVAs sit in a magazine; a big request drains them. */
	for (unsigned i = 0; i < n; i++)
		iova_free(&iad, a[i], PG);
	ASSERT_EQ(0, iova_alloc(&iad, NPAGES * PG, &a[0]));
	EXPECT_EQ(1ULL << 20, a[0]);
	EXPECT_EQ(-ENOSPC, iova_alloc(&iad, PG, &a[1]));
	iova_free(&iad, a[0], NPAGES * PG);
	iova_fini(&iad);
}

TEST_F(core_dma, iova_cache_reuse)
{
	struct iova_domain iad;
	uint64_t a, b, hits;

	vtdenv_init(&self->e, "", 1, false);
	ASSERT_EQ(0, iova_init(&iad, self->e.v, 1ULL << 20, 1ULL << 32));
	for (uint64_t sz = PG; sz <= 128 * 1024; sz <<= 1) {
		ASSERT_EQ(0, iova_alloc(&iad, sz, &a));
		iova_free(&iad, a, sz);
		hits = vtdenv_stat(&self->e, "iova.cache_hit");
		ASSERT_EQ(0, iova_alloc(&iad, sz, &b));
		EXPECT_EQ(a, b);
		EXPECT_EQ(hits + 1, vtdenv_stat(&self->e, "iova.cache_hit"));
		iova_free(&iad, b, sz);
	}
	/* 256K is not cached: served from the free ranges. */
	hits = vtdenv_stat(&self->e, "iova.cache_hit");
	ASSERT_EQ(0, iova_alloc(&iad, 256 * 1024, &a));
	EXPECT_EQ(hits, vtdenv_stat(&self->e, "iova.cache_hit"));
	iova_free(&iad, a, 256 * 1024);
	EXPECT_EQ(vtdenv_stat(&self->e, "iova.alloc"), vtdenv_stat(&self->e, "iova.free"));
	iova_fini(&iad);
}

/* ---- Strict ---- */

TEST_F(core_dma, strict_unmap_faults_at_once)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_STRICT };
	uint64_t iova, v, pa;

	setup("caching=adversarial", &o);
	EXPECT_EQ(VTD_DMA_STRICT, vtd_dma_mode(self->d));
	EXPECT_NULL(vtd_dma_note(self->d));
	pa = vtdenv_page(&self->e, 0x5a);
	for (int i = 0; i < 20; i++) {
		ASSERT_EQ(0, vtd_dma_map(self->d, self->e.dev[self->dev], pa + 8, 64,
					 VTD_DMA_BIDIRECTIONAL, &iova));
		EXPECT_EQ(8, iova & 0xfff);
		ASSERT_EQ(0, vtdenv_dma_rd64(&self->e, self->dev, iova, &v));
		EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, v);
		ASSERT_EQ(0, vtd_dma_unmap(self->d, self->e.dev[self->dev], iova, 64));
		EXPECT_EQ(1, vtdenv_dma_rd64(&self->e, self->dev, iova, &v));
	}
	EXPECT_EQ(0, vtdenv_stat(&self->e, "fq.entries"));
	/* TO_DEVICE is read-only. */
	ASSERT_EQ(0, vtd_dma_map(self->d, self->e.dev[self->dev], pa, PG, VTD_DMA_TO_DEVICE,
				 &iova));
	EXPECT_EQ(0, vtdenv_dma_rd64(&self->e, self->dev, iova, &v));
	EXPECT_EQ(1, vtdenv_dma_wr64(&self->e, self->dev, iova, 1));
	ASSERT_EQ(0, vtd_dma_unmap(self->d, self->e.dev[self->dev], iova, PG));
	EXPECT_EQ(-EINVAL, vtd_dma_map(self->d, NULL, pa, PG, 0, &iova));
}

/* ---- Lazy ---- */

/* A queued gather records no range (seed 002), only table pages. */
TEST_F(core_dma, lazy_gather_records_no_range)
{
	struct vtd_gather g;

	setup("", NULL);
	ASSERT_EQ(0, vtd_map(self->dom, 0x200000000ULL, vtdenv_page(&self->e, 1), 2 * PG,
			     VTD_PERM_RW));
	vtd_gather_init(&g);
	g.queued = true;
	EXPECT_EQ(2 * PG, vtd_unmap(self->dom, 0x200000000ULL, 2 * PG, &g));
	EXPECT_EQ(UINT64_MAX, g.start);
	EXPECT_EQ(0, g.end);
	vtd_iotlb_sync(self->dom, &g);		/* queued: does nothing */
	EXPECT_EQ(UINT64_MAX, g.start);
	vtd_flush_all(self->dom);
	for (size_t i = 0; i < g.nfree; i++)
		self->e.h ? vtd_host_ops()->page_free(self->e.h, g.freelist[i]) : (void)0;
	vtd_gather_fini(&g);
}

static bool in_set(const uint64_t *set, unsigned n, uint64_t x)
{
	for (unsigned i = 0; i < n; i++)
		if (set[i] == x)
			return true;
	return false;
}

/*
 * 256 unmaps: exactly one domain flush, on the 256th; before it, no
 * queued IOVA is handed out again.
 */
TEST_F(core_dma, lazy_full_queue_flushes_domain_once)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_LAZY };
	enum { N = 300 };
	uint64_t iova[N], extra[64], dsi, pa;
	struct vtd_device *dev;
	bool reused = false;

	setup("caching=adversarial", &o);
	dev = self->e.dev[self->dev];
	EXPECT_EQ(VTD_DMA_LAZY, vtd_dma_mode(self->d));
	pa = vtdenv_page(&self->e, 0x11);
	for (int i = 0; i < N; i++)
		ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, PG, VTD_DMA_BIDIRECTIONAL, &iova[i]));
	dsi = vtdenv_stat(&self->e, "qi.desc.iotlb.dsi");
	for (int i = 0; i < 255; i++)
		ASSERT_EQ(0, vtd_dma_unmap(self->d, dev, iova[i], PG));
	EXPECT_EQ(255, vtdenv_stat(&self->e, "fq.entries"));
	EXPECT_EQ(0, vtdenv_stat(&self->e, "fq.flush"));
	EXPECT_EQ(dsi, vtdenv_stat(&self->e, "qi.desc.iotlb.dsi"));
	/* Allocations while entries are queued never get a queued IOVA. */
	for (int i = 0; i < 64; i++) {
		ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, PG, VTD_DMA_BIDIRECTIONAL, &extra[i]));
		EXPECT_FALSE(in_set(iova, 255, extra[i]));
		EXPECT_FALSE(in_set(extra, (unsigned)i, extra[i]));
		EXPECT_FALSE(in_set(iova + 255, N - 255, extra[i]));
	}
	ASSERT_EQ(0, vtd_dma_unmap(self->d, dev, iova[255], PG));
	EXPECT_EQ(256, vtdenv_stat(&self->e, "fq.entries"));
	EXPECT_EQ(1, vtdenv_stat(&self->e, "fq.flush"));
	EXPECT_EQ(dsi + 1, vtdenv_stat(&self->e, "qi.desc.iotlb.dsi"));
	EXPECT_EQ(0, vtdenv_stat(&self->e, "qi.desc.iotlb.psi"));
	/* Now the flushed IOVAs are free again. */
	for (int i = 0; i < 8; i++) {
		uint64_t a;

		ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, PG, VTD_DMA_BIDIRECTIONAL, &a));
		reused |= in_set(iova, 256, a);
	}
	EXPECT_TRUE(reused);
}

/* The timer: the oldest entry older than fq_timeout_ns flushes the queue. */
TEST_F(core_dma, lazy_timer_flush)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_LAZY, .fq_timeout_ns = 1000000 };
	struct vtd_device *dev;
	uint64_t iova, dsi, pa;

	setup("", &o);
	dev = self->e.dev[self->dev];
	pa = vtdenv_page(&self->e, 0x22);
	dsi = vtdenv_stat(&self->e, "qi.desc.iotlb.dsi");
	ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, PG, VTD_DMA_FROM_DEVICE, &iova));
	ASSERT_EQ(0, vtd_dma_unmap(self->d, dev, iova, PG));
	vtd_dma_poll(self->d);
	EXPECT_EQ(0, vtdenv_stat(&self->e, "fq.flush"));
	vtdm_clock_step(self->e.m, 1000000);
	vtd_dma_poll(self->d);
	EXPECT_EQ(1, vtdenv_stat(&self->e, "fq.flush"));
	EXPECT_EQ(dsi + 1, vtdenv_stat(&self->e, "qi.desc.iotlb.dsi"));
	vtd_dma_poll(self->d);				/* nothing queued: nothing to do */
	EXPECT_EQ(1, vtdenv_stat(&self->e, "fq.flush"));
	/* The unmap path checks the timer too. */
	ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, PG, VTD_DMA_FROM_DEVICE, &iova));
	ASSERT_EQ(0, vtd_dma_unmap(self->d, dev, iova, PG));
	vtdm_clock_step(self->e.m, 2000000);
	ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, PG, VTD_DMA_FROM_DEVICE, &iova));
	ASSERT_EQ(0, vtd_dma_unmap(self->d, dev, iova, PG));
	EXPECT_EQ(2, vtdenv_stat(&self->e, "fq.flush"));
	EXPECT_EQ(dsi + 2, vtdenv_stat(&self->e, "qi.desc.iotlb.dsi"));
}

/* An exhausted window reclaims the queued IOVAs with one domain flush. */
TEST_F(core_dma, lazy_exhaustion_reclaims_queue)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_LAZY, .iova_base = 1ULL << 20,
				  .iova_limit = (1ULL << 20) + 8 * PG };
	struct vtd_device *dev;
	uint64_t iova[8], a, pa;

	setup("", &o);
	dev = self->e.dev[self->dev];
	pa = vtdenv_page(&self->e, 0x77);
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, PG, VTD_DMA_BIDIRECTIONAL, &iova[i]));
	EXPECT_EQ(-ENOSPC, vtd_dma_map(self->d, dev, pa, PG, VTD_DMA_BIDIRECTIONAL, &a));
	EXPECT_EQ(0, vtdenv_stat(&self->e, "fq.flush"));	/* nothing queued: no flush */
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(0, vtd_dma_unmap(self->d, dev, iova[i], PG));
	EXPECT_EQ(0, vtdenv_stat(&self->e, "fq.flush"));
	ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, 8 * PG, VTD_DMA_BIDIRECTIONAL, &a));
	EXPECT_EQ(1ULL << 20, a);
	EXPECT_EQ(1, vtdenv_stat(&self->e, "fq.flush"));
	EXPECT_EQ(1, vtdenv_stat(&self->e, "qi.desc.iotlb.dsi"));
}

/* ---- Lazy-ranged ---- */

struct psi { uint64_t addr; unsigned am; bool ih; };

/* Decode the recorded PSI "qi_submit: iotlb_inv" lines; returns the DSI/global count. */
static unsigned decode_iotlb(struct vtdenv *e, struct psi *p, unsigned *np)
{
	unsigned other = 0;

	*np = 0;
	for (unsigned i = 0; i < e->nevents; i++) {
		unsigned long long q0, q1;

		if (sscanf(e->events[i], "qi_submit: iotlb_inv dmar0: %llx %llx", &q0, &q1) != 2)
			continue;
		if (FIELD_GET(IOTLBD_G, q0) != IOTLB_G_PSI) {
			other++;
			continue;
		}
		p[*np].addr = q1 & INV_ADDR;
		p[*np].am = (unsigned)FIELD_GET(INV_AM, q1);
		p[(*np)++].ih = q1 & INV_IH;
	}
	return other;
}

FIXTURE_VARIANT(core_dma_ranged) {
	unsigned max_desc;
};
FIXTURE(core_dma_ranged) {
	struct vtdenv e;
	struct vtd_domain *dom;
	struct vtd_dma *d;
	int dev;
};
FIXTURE_VARIANT_ADD(core_dma_ranged, psi) { .max_desc = 16 };
FIXTURE_VARIANT_ADD(core_dma_ranged, dsi_fallback) { .max_desc = 2 };

FIXTURE_SETUP(core_dma_ranged)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_LAZY_RANGED, .fq_size = 6,
				  .ranged_max_desc = variant->max_desc };

	setup("", &o);
}

FIXTURE_TEARDOWN(core_dma_ranged)
{
	if (self->d)
		vtd_dma_destroy(self->d);
	vtdenv_fini(&self->e);
}

/*
 * Six unmaps in three groups of adjacent IOVAs fill the queue: one
 * page-selective flush per merged group (or one DSI past max_desc).
 */
TEST_F(core_dma_ranged, merged_ranges)
{
	static const int unmap[6] = { 5, 0, 2, 9, 1, 6 };
	struct vtd_device *dev = self->e.dev[self->dev];
	uint64_t iova[12], pa, lo[3], hi[3];
	struct psi p[16];
	unsigned np, other;

	EXPECT_EQ(VTD_DMA_LAZY_RANGED, vtd_dma_mode(self->d));
	pa = vtdenv_page(&self->e, 0x33);
	for (int i = 0; i < 12; i++)
		ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, PG, VTD_DMA_BIDIRECTIONAL, &iova[i]));
	/* First fit from the top: successive IOVAs descend page by page. */
	for (int i = 1; i < 12; i++)
		ASSERT_EQ(iova[i - 1] - PG, iova[i]);
	lo[0] = iova[2], hi[0] = iova[0] + PG - 1;
	lo[1] = iova[6], hi[1] = iova[5] + PG - 1;
	lo[2] = iova[9], hi[2] = iova[9] + PG - 1;
	vtdenv_trace_clear(&self->e);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(0, vtd_dma_unmap(self->d, dev, iova[unmap[i]], PG));
	EXPECT_EQ(0, vtdenv_stat(&self->e, "fq.flush"));
	EXPECT_EQ(0, vtdenv_trace_count(&self->e, "qi_submit: iotlb_inv"));
	ASSERT_EQ(0, vtd_dma_unmap(self->d, dev, iova[unmap[5]], PG));
	EXPECT_EQ(1, vtdenv_stat(&self->e, "fq.flush"));
	other = decode_iotlb(&self->e, p, &np);
	if (variant->max_desc < 3) {
		EXPECT_EQ(1, other);
		EXPECT_EQ(0, np);
		EXPECT_EQ(1, vtdenv_stat(&self->e, "qi.desc.iotlb.dsi"));
		return;
	}
	EXPECT_EQ(0, other);
	ASSERT_EQ(3, np);
	/* Each descriptor is the smallest aligned block covering one merged range. */
	for (unsigned r = 0; r < 3; r++) {
		uint64_t a;
		unsigned am = psi_mask(lo[r], hi[r], &a);
		char want[64];
		bool found = false;

		for (unsigned i = 0; i < np; i++)
			found |= p[i].addr == a && p[i].am == am;
		EXPECT_TRUE(found);
		snprintf(want, sizeof(want), "[0x%llx-0x%llx]", (unsigned long long)lo[r],
			 (unsigned long long)hi[r]);
		found = false;
		for (unsigned i = 0; i < self->e.nevents; i++)
			found |= !strncmp(self->e.events[i], "cache_tag_flush_range:", 22) &&
				 strstr(self->e.events[i], want);
		EXPECT_TRUE(found);
	}
	EXPECT_EQ(3, vtdenv_trace_count(&self->e, "cache_tag_flush_range:"));
	EXPECT_EQ(0, vtdenv_stat(&self->e, "qi.desc.iotlb.dsi"));
}

/* ---- Mode choice ---- */

TEST_F(core_dma, cm_forces_strict)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_LAZY };
	struct vtd_dma *forced;

	setup("cm=1", &o);
	EXPECT_EQ(VTD_DMA_STRICT, vtd_dma_mode(self->d));
	ASSERT_NONNULL(vtd_dma_note(self->d));
	EXPECT_NONNULL(strstr(vtd_dma_note(self->d), "caching mode"));
	o.mode = VTD_DMA_LAZY_RANGED;
	o.force_mode = true;
	ASSERT_EQ(0, vtd_dma_create(self->dom, &o, &forced));
	EXPECT_EQ(VTD_DMA_LAZY_RANGED, vtd_dma_mode(forced));
	EXPECT_NULL(vtd_dma_note(forced));
	vtd_dma_destroy(forced);
}

/* A domain allocated for a plain unit keeps lazy even if another unit is CM. */
TEST_F(core_dma, cm_only_on_the_domains_units)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_LAZY };
	struct vtd_domain_opts dopts = { .stage = VTD_STAGE_SECOND };
	struct vtd_domain *plain;
	struct vtd_dma *d;

	vtdenv_init(&self->e, "", 0, false);
	for (int i = 0; i < 2; i++) {
		struct vtdm_unit_cfg uc;
		struct vtd_unit_opts uo = { 0 };

		vtdm_unit_cfg_default(&uc);
		uc.cm = i == 1;
		ASSERT_LE(0, vtdm_add_unit(self->e.m, &uc));
		ASSERT_EQ(0, vtd_unit_add(self->e.v, vtdm_unit_base(i), &uo, &self->e.unit[i]));
		self->e.nunits++;
	}
	dopts.unit = self->e.unit[0];
	ASSERT_EQ(0, vtd_domain_alloc(self->e.v, &dopts, &plain));
	ASSERT_EQ(0, vtd_dma_create(plain, &o, &d));
	EXPECT_EQ(VTD_DMA_LAZY, vtd_dma_mode(d));
	vtd_dma_destroy(d);
	/* Allocated for any unit: the CM one counts. */
	ASSERT_EQ(0, vtd_domain_alloc(self->e.v, NULL, &self->dom));
	ASSERT_EQ(0, vtd_dma_create(self->dom, &o, &d));
	EXPECT_EQ(VTD_DMA_STRICT, vtd_dma_mode(d));
	vtd_dma_destroy(d);
}

/* An untrusted device is unmapped strictly even in lazy mode. */
TEST_F(core_dma, untrusted_device_strict)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_LAZY };
	struct vtd_device_opts dopt = { .untrusted = true };
	struct vtdm_dev_cfg dc;
	uint64_t iova, v, pa;
	int u;

	setup("caching=adversarial", &o);
	vtdm_dev_cfg_default(&dc);
	dc.sid = 0x0010;
	dc.unit = 0;
	ASSERT_EQ(0, vtdm_add_device(self->e.m, &dc));
	u = (int)self->e.ndevs;
	ASSERT_EQ(0, vtd_device_add(self->e.v, self->e.unit[0], 0x0010, &dopt, &self->e.dev[u]));
	self->e.sid[u] = 0x0010;
	self->e.ndevs++;
	ASSERT_EQ(0, vtd_detach(self->e.dev[self->dev]));
	ASSERT_EQ(0, vtd_attach(self->dom, self->e.dev[u]));
	EXPECT_EQ(VTD_DMA_LAZY, vtd_dma_mode(self->d));
	pa = vtdenv_page(&self->e, 0x44);
	for (int i = 0; i < 10; i++) {
		ASSERT_EQ(0, vtd_dma_map(self->d, self->e.dev[u], pa, PG, VTD_DMA_BIDIRECTIONAL,
					 &iova));
		ASSERT_EQ(0, vtdenv_dma_rd64(&self->e, (unsigned)u, iova, &v));
		EXPECT_EQ(0x4444444444444444ULL, v);
		ASSERT_EQ(0, vtd_dma_unmap(self->d, self->e.dev[u], iova, PG));
		EXPECT_EQ(1, vtdenv_dma_rd64(&self->e, (unsigned)u, iova, &v));
	}
	EXPECT_EQ(0, vtdenv_stat(&self->e, "fq.entries"));
	EXPECT_EQ(0, vtdenv_stat(&self->e, "fq.flush"));
}

/* ---- Scatter-gather ---- */

FIXTURE_VARIANT(core_dma_sg) {
	enum vtd_dma_mode mode;
};
FIXTURE(core_dma_sg) {
	struct vtdenv e;
	struct vtd_domain *dom;
	struct vtd_dma *d;
	int dev;
};
FIXTURE_VARIANT_ADD(core_dma_sg, strict) { .mode = VTD_DMA_STRICT };
FIXTURE_VARIANT_ADD(core_dma_sg, lazy) { .mode = VTD_DMA_LAZY };

FIXTURE_SETUP(core_dma_sg)
{
	struct vtd_dma_opts o = { .mode = variant->mode };

	setup("caching=adversarial", &o);
}

FIXTURE_TEARDOWN(core_dma_sg)
{
	if (self->d)
		vtd_dma_destroy(self->d);
	vtdenv_fini(&self->e);
}

TEST_F(core_dma_sg, one_range_one_flush)
{
	struct vtd_device *dev = self->e.dev[self->dev];
	struct vtd_sg sg[3];
	uint64_t p0, p1, v;

	p0 = vtdenv_page(&self->e, 0xa0);
	p1 = vtdenv_page(&self->e, 0xa1);
	vtdenv_page(&self->e, 0xa2);
	sg[0] = (struct vtd_sg){ .pa = p0 + 0x100, .len = 0x200 };
	sg[1] = (struct vtd_sg){ .pa = p1 + 0xff0, .len = 0x20 };	/* crosses into 0xa2 */
	sg[2] = (struct vtd_sg){ .pa = p0, .len = PG };
	ASSERT_EQ(0, vtd_dma_map_sg(self->d, dev, sg, 3, VTD_DMA_BIDIRECTIONAL));
	/* One contiguous range: 1 + 2 + 1 pages. */
	EXPECT_EQ(0x100, sg[0].iova & 0xfff);
	EXPECT_EQ((sg[0].iova & ~0xfffULL) + PG, sg[1].iova & ~0xfffULL);
	EXPECT_EQ((sg[1].iova & ~0xfffULL) + 2 * PG, sg[2].iova);
	ASSERT_EQ(0, vtdenv_dma_rd64(&self->e, self->dev, sg[0].iova, &v));
	EXPECT_EQ(0xa0a0a0a0a0a0a0a0ULL, v);
	ASSERT_EQ(0, vtdenv_dma_rd64(&self->e, self->dev, sg[1].iova + 0x10, &v));
	EXPECT_EQ(0xa2a2a2a2a2a2a2a2ULL, v);
	ASSERT_EQ(0, vtdenv_dma_rd64(&self->e, self->dev, sg[2].iova + 0xff8, &v));
	EXPECT_EQ(0xa0a0a0a0a0a0a0a0ULL, v);
	vtdenv_trace_clear(&self->e);
	ASSERT_EQ(0, vtd_dma_unmap_sg(self->d, dev, sg, 3));
	if (variant->mode == VTD_DMA_STRICT) {
		EXPECT_EQ(1, vtdenv_trace_count(&self->e, "qi_submit: iotlb_inv"));
		EXPECT_EQ(0, vtdenv_stat(&self->e, "gather.sync_early"));
		for (int i = 0; i < 3; i++)
			EXPECT_EQ(1, vtdenv_dma_rd64(&self->e, self->dev, sg[i].iova, &v));
	} else {
		EXPECT_EQ(0, vtdenv_trace_count(&self->e, "qi_submit: iotlb_inv"));
		EXPECT_EQ(1, vtdenv_stat(&self->e, "fq.entries"));
		vtd_dma_destroy(self->d);
		self->d = NULL;
		EXPECT_EQ(1, vtdenv_trace_count(&self->e, "qi_submit: iotlb_inv"));
		EXPECT_EQ(1, vtdenv_stat(&self->e, "fq.flush"));
		for (int i = 0; i < 3; i++)
			EXPECT_EQ(1, vtdenv_dma_rd64(&self->e, self->dev, sg[i].iova, &v));
	}
	EXPECT_EQ(vtdenv_stat(&self->e, "iova.alloc"), vtdenv_stat(&self->e, "iova.free"));
}

/* ---- Threads ---- */

#define NTHR		3
#define THR_ITERS	600
#define THR_PAGES	8

struct thr {
	struct vtdenv *e;
	struct vtd_dma *d;
	int dev;
	uint64_t page[THR_PAGES];
	uint64_t *next_tag;
	unsigned bad, ok, faults;
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	struct vtd_device *dev = t->e->dev[t->dev];

	for (unsigned i = 0; i < THR_ITERS; i++) {
		uint64_t pa = t->page[i % THR_PAGES], iova, v;
		uint64_t tag = __atomic_add_fetch(t->next_tag, 1, __ATOMIC_RELAXED);
		unsigned size = (i % 5 == 4) ? 2 * PG : PG;

		/* The CPU writes the mapping's tag before the device may see the page. */
		vtdm_write(t->e->m, pa, &tag, sizeof(tag));
		if (size > PG)
			vtdm_write(t->e->m, pa + PG, &tag, sizeof(tag));
		if (vtd_dma_map(t->d, dev, pa, size, VTD_DMA_BIDIRECTIONAL, &iova)) {
			t->bad++;
			continue;
		}
		for (unsigned k = 0; k < 3; k++) {
			if (vtdenv_dma_rd64(t->e, (unsigned)t->dev, iova + (k % 2) * (size - PG),
					    &v)) {
				t->faults++;
			} else if (v != tag) {
				t->bad++;
			} else {
				t->ok++;
			}
		}
		vtd_dma_unmap(t->d, dev, iova, size);
		if (i % 50 == 0)
			vtd_dma_poll(t->d);
	}
	return NULL;
}

FIXTURE_VARIANT(core_dma_mt) {
	enum vtd_dma_mode mode;
};
FIXTURE(core_dma_mt) {
	struct vtdenv e;
	struct vtd_domain *dom;
	struct vtd_dma *d;
	int dev;
};
FIXTURE_VARIANT_ADD(core_dma_mt, lazy) { .mode = VTD_DMA_LAZY };
FIXTURE_VARIANT_ADD(core_dma_mt, lazy_ranged) { .mode = VTD_DMA_LAZY_RANGED };
FIXTURE_VARIANT_ADD(core_dma_mt, strict) { .mode = VTD_DMA_STRICT };

FIXTURE_SETUP(core_dma_mt)
{
	struct vtd_dma_opts o = { .mode = variant->mode, .fq_size = 32 };

	setup("caching=adversarial", &o);
	/* The rig's trace recorder is single-threaded. */
	vtd_host_set_trace(self->e.h, NULL, NULL);
}

FIXTURE_TEARDOWN(core_dma_mt)
{
	if (self->d)
		vtd_dma_destroy(self->d);
	vtdenv_fini(&self->e);
}

/*
 * Three threads map, DMA and unmap at once; every mapping tags its pages,
 * and a DMA through an IOVA sees its own mapping's tag or faults — never
 * another mapping's, which it would if an IOVA were handed out again
 * while a stale translation of it could still be cached.
 */
TEST_F(core_dma_mt, no_dma_through_a_reused_iova)
{
	struct thr t[NTHR];
	pthread_t th[NTHR];
	uint64_t next_tag = 1ULL << 40;
	unsigned bad = 0, ok = 0, faults = 0;

	for (int i = 0; i < NTHR; i++) {
		t[i] = (struct thr){ .e = &self->e, .d = self->d, .dev = self->dev,
				     .next_tag = &next_tag };
		for (int p = 0; p < THR_PAGES; p++) {
			t[i].page[p] = vtdenv_page(&self->e, 0);
			vtdenv_page(&self->e, 0);	/* room for a 2-page mapping */
		}
	}
	for (int i = 0; i < NTHR; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, thr_main, &t[i]));
	for (int i = 0; i < NTHR; i++) {
		pthread_join(th[i], NULL);
		bad += t[i].bad;
		ok += t[i].ok;
		faults += t[i].faults;
	}
	TH_LOG("%u reads ok, %u faults, %u wrong", ok, faults, bad);
	EXPECT_EQ(0, bad);
	EXPECT_LT(0, ok);
	if (variant->mode != VTD_DMA_STRICT)
		EXPECT_EQ(NTHR * THR_ITERS, vtdenv_stat(&self->e, "fq.entries"));
	vtd_dma_destroy(self->d);
	self->d = NULL;
	EXPECT_EQ(vtdenv_stat(&self->e, "iova.alloc"), vtdenv_stat(&self->e, "iova.free"));
}

/* ---- The generation rule ---- */

struct gen {
	struct vtdenv *e;
	struct vtd_dma *d;
	int dev;
	uint64_t pa, iova;
	int armed;			/* 1: act on the next flush_all event */
	int ret;
};

/* Map and unmap one page from a thread of its own (its own queue). */
static void *gen_one(void *arg)
{
	struct gen *g = arg;

	g->ret = vtd_dma_map(g->d, g->e->dev[g->dev], g->pa, PG, VTD_DMA_BIDIRECTIONAL,
			     &g->iova);
	if (!g->ret)
		g->ret = vtd_dma_unmap(g->d, g->e->dev[g->dev], g->iova, PG);
	return NULL;
}

/* Inside a domain flush (started, not finished): another thread queues an unmap. */
static void gen_trace(void *arg, const struct vtd_event *ev)
{
	struct gen *g = arg;
	pthread_t t;

	if (ev->type != VTD_EV_TAG_FLUSH_ALL || g->armed != 1)
		return;
	g->armed = 2;
	if (pthread_create(&t, NULL, gen_one, g) == 0)
		pthread_join(t, NULL);
	else
		g->ret = -1;
}

/*
 * A domain flush releases, from every queue, the entries queued before it
 * started — and none queued while it ran, which only a later flush covers.
 */
TEST_F(core_dma, lazy_generation_rule)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_LAZY, .fq_size = 4 };
	struct gen before = { 0 }, during = { 0 };
	uint64_t iova[4], f0, pa;
	struct vtd_device *dev;
	pthread_t t;

	setup("", &o);
	dev = self->e.dev[self->dev];
	pa = vtdenv_page(&self->e, 0x66);
	before = (struct gen){ .e = &self->e, .d = self->d, .dev = self->dev, .pa = pa };
	during = before;
	/* Another thread's queue holds one entry from before the flush. */
	ASSERT_EQ(0, pthread_create(&t, NULL, gen_one, &before));
	pthread_join(t, NULL);
	ASSERT_EQ(0, before.ret);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, PG, VTD_DMA_BIDIRECTIONAL, &iova[i]));
	f0 = vtdenv_stat(&self->e, "iova.free");
	during.armed = 1;
	vtd_host_set_trace(self->e.h, gen_trace, &during);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, vtd_dma_unmap(self->d, dev, iova[i], PG));
	vtd_host_set_trace(self->e.h, NULL, NULL);
	ASSERT_EQ(2, during.armed);
	ASSERT_EQ(0, during.ret);
	EXPECT_EQ(1, vtdenv_stat(&self->e, "fq.flush"));
	EXPECT_EQ(6, vtdenv_stat(&self->e, "fq.entries"));
	/* This queue's four went back at once. */
	EXPECT_EQ(f0 + 4, vtdenv_stat(&self->e, "iova.free"));
	/* A poll releases the other queue's older entry, not the one queued during the flush. */
	vtd_dma_poll(self->d);
	EXPECT_EQ(1, vtdenv_stat(&self->e, "fq.flush"));
	EXPECT_EQ(f0 + 5, vtdenv_stat(&self->e, "iova.free"));
	for (int i = 0; i < 40; i++) {
		uint64_t a;

		ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, PG, VTD_DMA_BIDIRECTIONAL, &a));
		EXPECT_NE(during.iova, a);
	}
	/* Its timer expires: a second flush, and it is released. */
	vtdm_clock_step(self->e.m, 10000000);
	vtd_dma_poll(self->d);
	EXPECT_EQ(2, vtdenv_stat(&self->e, "fq.flush"));
	EXPECT_EQ(f0 + 6, vtdenv_stat(&self->e, "iova.free"));
}

/* ---- Limits ---- */

/* Sizes that overflow a page span or a list total are refused, nothing mapped. */
TEST_F(core_dma, sizes_that_overflow_are_refused)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_STRICT };
	struct vtd_sg sg[2] = { { 0x1000000, 1ULL << 63, 0 }, { 0x1000000, 1ULL << 63, 0 } };
	uint64_t iova, before;

	setup("", &o);
	before = vtdenv_stat(&self->e, "iova.alloc");
	EXPECT_EQ(-EINVAL, vtd_dma_map(self->d, self->e.dev[self->dev], 0x1000800, UINT64_MAX - 100,
				       VTD_DMA_BIDIRECTIONAL, &iova));
	EXPECT_EQ(-EINVAL, vtd_dma_map_sg(self->d, self->e.dev[self->dev], sg, 2,
					  VTD_DMA_BIDIRECTIONAL));
	EXPECT_EQ(-EINVAL, vtd_dma_unmap(self->d, self->e.dev[self->dev], 0x100800, UINT64_MAX));
	EXPECT_EQ(before, vtdenv_stat(&self->e, "iova.alloc"));
}

/*
 * The window never includes IOVA 0, nor anything the domain's tables
 * cannot map: [0, 2^64) on a 4-level second-stage domain is cut to
 * [4K, 2^48), and a window with nothing left is refused.
 */
TEST_F(core_dma, window_fits_the_domain)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_STRICT, .iova_base = 0, .iova_limit = ~0ULL };
	struct vtd_dma *tiny;
	uint64_t iova;

	setup("", &o);
	/* Allocation is from the top: the first 4K lands just below 2^48. */
	ASSERT_EQ(0, vtd_dma_map(self->d, self->e.dev[self->dev], 0x1000000, 4096,
				 VTD_DMA_BIDIRECTIONAL, &iova));
	EXPECT_EQ((1ULL << 48) - 4096, iova);
	EXPECT_EQ(0, vtd_dma_unmap(self->d, self->e.dev[self->dev], iova, 4096));
	o.iova_base = 1ULL << 48;
	o.iova_limit = 1ULL << 49;
	EXPECT_EQ(-EINVAL, vtd_dma_create(self->dom, &o, &tiny));
}

/*
 * Every flush fails: an ATS device on the domain never answers its
 * device-TLB invalidations. Then no unmapped IOVA and no table page may
 * be handed out again — in strict mode each is quarantined at once; in
 * lazy mode the entries stay queued (a failed flush does not count), and
 * unmaps that find the queue still full are flushed alone and
 * quarantined.
 */
FIXTURE(core_dma_fail) {
	struct vtdenv e;
	struct vtd_domain *dom;
	struct vtd_dma *d;
};

FIXTURE_VARIANT(core_dma_fail) {
	enum vtd_dma_mode mode;
};

FIXTURE_VARIANT_ADD(core_dma_fail, strict) { .mode = VTD_DMA_STRICT };
FIXTURE_VARIANT_ADD(core_dma_fail, lazy) { .mode = VTD_DMA_LAZY };
FIXTURE_VARIANT_ADD(core_dma_fail, lazy_ranged) { .mode = VTD_DMA_LAZY_RANGED };

FIXTURE_SETUP(core_dma_fail)
{
	struct vtdenv *e = &self->e;
	struct vtd_dma_opts o = { .mode = variant->mode, .fq_size = 8 };
	struct vtd_device_opts dopts = { .ats = true, .qdep = 32 };
	struct vtdm_dev_cfg dc;
	char err[160];

	vtdenv_init(e, "dt=1", 1, false);
	vtdm_dev_cfg_default(&dc);
	dc.sid = 0x0110;
	ASSERT_EQ(0, vtdm_dev_cfg_set(&dc, "ats", "1", err, sizeof(err)));
	ASSERT_EQ(0, vtdm_dev_cfg_set(&dc, "unresponsive", "1", err, sizeof(err)));
	ASSERT_EQ(0, vtdm_add_device(e->m, &dc));
	ASSERT_EQ(0, vtd_device_add(e->v, e->unit[0], 0x0110, &dopts, &e->dev[0]));
	e->sid[0] = 0x0110;
	e->ndevs = 1;
	ASSERT_EQ(0, vtd_domain_alloc(e->v, NULL, &self->dom));
	ASSERT_EQ(0, vtd_attach(self->dom, e->dev[0]));
	ASSERT_EQ(0, vtd_dma_create(self->dom, &o, &self->d));
}

FIXTURE_TEARDOWN(core_dma_fail)
{
	vtd_dma_destroy(self->d);
	vtdenv_fini(&self->e);
}

TEST_F(core_dma_fail, failed_flushes_release_nothing)
{
	struct vtdenv *e = &self->e;
	uint64_t iova[12];

	/* 12 unmaps: more than the 8-entry queue holds. */
	for (unsigned i = 0; i < 12; i++) {
		ASSERT_EQ(0, vtd_dma_map(self->d, e->dev[0], 0x1000000 + i * 4096ULL, 4096,
					 VTD_DMA_BIDIRECTIONAL, &iova[i]));
		ASSERT_EQ(0, vtd_dma_unmap(self->d, e->dev[0], iova[i], 4096));
	}
	EXPECT_LT(0, vtdenv_stat(e, "qi.ite"));
	/* Nothing went back to the allocator. */
	EXPECT_EQ(0, vtdenv_stat(e, "iova.free"));
	if (variant->mode == VTD_DMA_STRICT)
		EXPECT_EQ(12, vtdenv_stat(e, "iova.quarantined"));
	else	/* 8 wait in the queue, the 4 that found it full are quarantined */
		EXPECT_EQ(4, vtdenv_stat(e, "iova.quarantined"));
	/* And no new mapping gets any of those IOVAs. */
	for (unsigned i = 0; i < 12; i++) {
		uint64_t n;

		ASSERT_EQ(0, vtd_dma_map(self->d, e->dev[0], 0x2000000 + i * 4096ULL, 4096,
					 VTD_DMA_BIDIRECTIONAL, &n));
		for (unsigned j = 0; j < 12; j++)
			ASSERT_NE(iova[j], n);
	}
}

/* ---- Caller-chosen IOVAs (trace replay) ---- */

/* map_at maps exactly where asked; a live range is refused; unmap gives it back. */
TEST_F(core_dma, map_at_strict)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_STRICT, .caller_iova = true };
	uint64_t pa, v, iova;

	setup("", &o);
	pa = vtdenv_page(&self->e, 0x33);
	/* IOVA 0 is allowed here: an identity map starts there. */
	ASSERT_EQ(0, vtd_dma_map_at(self->d, NULL, 0x8, pa + 8, 64, VTD_DMA_BIDIRECTIONAL));
	ASSERT_EQ(0, vtdenv_dma_rd64(&self->e, self->dev, 0x8, &v));
	EXPECT_EQ(0x3333333333333333ULL, v);
	ASSERT_EQ(0, vtd_dma_map_at(self->d, NULL, 0xffffe000ULL, pa, 2 * PG,
				    VTD_DMA_BIDIRECTIONAL));
	/* Any page of a live range: -EBUSY, and nothing changed. */
	EXPECT_EQ(-EBUSY, vtd_dma_map_at(self->d, NULL, 0xfffff000ULL, pa, PG,
					 VTD_DMA_BIDIRECTIONAL));
	EXPECT_EQ(-EBUSY, vtd_dma_map_at(self->d, NULL, 0xffffd000ULL, pa, 2 * PG,
					 VTD_DMA_BIDIRECTIONAL));
	ASSERT_EQ(0, vtdenv_dma_rd64(&self->e, self->dev, 0xfffff000ULL, &v));
	EXPECT_EQ(1, vtdenv_dma_rd64(&self->e, self->dev, 0xffffd000ULL, &v));
	/* The page offset of IOVA and PA must agree; the other calls are refused. */
	EXPECT_EQ(-EINVAL, vtd_dma_map_at(self->d, NULL, 0x10000, pa + 8, 64,
					  VTD_DMA_BIDIRECTIONAL));
	EXPECT_EQ(-EINVAL, vtd_dma_map(self->d, NULL, pa, PG, VTD_DMA_BIDIRECTIONAL, &iova));
	/* An unmap covering more than was mapped releases the mapped part only. */
	ASSERT_EQ(0, vtd_dma_unmap(self->d, NULL, 0xffffc000ULL, 4 * PG));
	EXPECT_EQ(1, vtdenv_dma_rd64(&self->e, self->dev, 0xfffff000ULL, &v));
	ASSERT_EQ(0, vtd_dma_map_at(self->d, NULL, 0xffffc000ULL, pa, 4 * PG,
				    VTD_DMA_BIDIRECTIONAL));
	ASSERT_EQ(0, vtd_dma_unmap(self->d, NULL, 0xffffc000ULL, 4 * PG));
	ASSERT_EQ(0, vtd_dma_unmap(self->d, NULL, 0, PG));
}

/* Without caller_iova, map_at is refused. */
TEST_F(core_dma, map_at_needs_caller_iova)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_STRICT };

	setup("", &o);
	EXPECT_EQ(-EINVAL, vtd_dma_map_at(self->d, NULL, 0x100000, vtdenv_page(&self->e, 1), PG,
					  VTD_DMA_BIDIRECTIONAL));
}

/*
 * Lazy: an unmapped range waits in the queue for its flush. Mapping it
 * again at once flushes the domain first (never a reuse before the flush),
 * and the device sees the new page, not the stale one.
 */
TEST_F(core_dma, map_at_lazy_reuse_flushes_first)
{
	struct vtd_dma_opts o = { .mode = VTD_DMA_LAZY, .caller_iova = true };
	uint64_t a, b, v, flushes;

	setup("caching=adversarial", &o);
	a = vtdenv_page(&self->e, 0xaa);
	b = vtdenv_page(&self->e, 0xbb);
	ASSERT_EQ(0, vtd_dma_map_at(self->d, NULL, 0x100000, a, PG, VTD_DMA_BIDIRECTIONAL));
	ASSERT_EQ(0, vtdenv_dma_rd64(&self->e, self->dev, 0x100000, &v));
	ASSERT_EQ(0, vtd_dma_unmap(self->d, NULL, 0x100000, PG));
	/* Lazy: the stale IOTLB entry still answers. */
	ASSERT_EQ(0, vtdenv_dma_rd64(&self->e, self->dev, 0x100000, &v));
	EXPECT_EQ(0xaaaaaaaaaaaaaaaaULL, v);
	flushes = vtdenv_stat(&self->e, "fq.flush");
	ASSERT_EQ(0, vtd_dma_map_at(self->d, NULL, 0x100000, b, PG, VTD_DMA_BIDIRECTIONAL));
	EXPECT_EQ(flushes + 1, vtdenv_stat(&self->e, "fq.flush"));
	ASSERT_EQ(0, vtdenv_dma_rd64(&self->e, self->dev, 0x100000, &v));
	EXPECT_EQ(0xbbbbbbbbbbbbbbbbULL, v);
	/* A range still mapped stays refused even after that flush. */
	EXPECT_EQ(-EBUSY, vtd_dma_map_at(self->d, NULL, 0x100000, a, PG, VTD_DMA_BIDIRECTIONAL));
}

/*
 * A second unmap of the same buffer (in strict mode, and in lazy modes
 * while the first still waits in its flush queue) is -ENOENT and changes
 * nothing: no descriptor, no free. Before, it freed the IOVA again, and
 * the magazine handed the same IOVA to two later mappings.
 */
FIXTURE_VARIANT(core_dma_double) {
	enum vtd_dma_mode mode;
};

FIXTURE(core_dma_double) {
	struct vtdenv e;
	struct vtd_domain *dom;
	struct vtd_dma *d;
	int dev;
};

FIXTURE_VARIANT_ADD(core_dma_double, strict) { .mode = VTD_DMA_STRICT };
FIXTURE_VARIANT_ADD(core_dma_double, lazy) { .mode = VTD_DMA_LAZY };
FIXTURE_VARIANT_ADD(core_dma_double, lazy_ranged) { .mode = VTD_DMA_LAZY_RANGED };

FIXTURE_SETUP(core_dma_double)
{
	struct vtd_dma_opts o = { .mode = variant->mode, .fq_timeout_ns = 1000000 };

	setup_(&self->e, &self->dom, &self->d, &self->dev, "", &o);
}

FIXTURE_TEARDOWN(core_dma_double)
{
	if (self->d)
		vtd_dma_destroy(self->d);
	if (self->e.v)
		vtdenv_fini(&self->e);
}

TEST_F(core_dma_double, unmap_twice_frees_once)
{
	struct vtd_device *dev = self->e.dev[self->dev];
	uint64_t pa = vtdenv_page(&self->e, 0x33), iova, a, b, desc, frees, entries;
	struct vtd_sg sg[2] = { { .pa = pa, .len = PG }, { .pa = pa + PG, .len = PG } };

	ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, 2 * PG, VTD_DMA_BIDIRECTIONAL, &iova));
	ASSERT_EQ(0, vtd_dma_unmap(self->d, dev, iova, 2 * PG));
	desc = vtdenv_stat(&self->e, "qi.submit");
	frees = vtdenv_stat(&self->e, "iova.free");
	entries = vtdenv_stat(&self->e, "fq.entries");
	EXPECT_EQ(-ENOENT, vtd_dma_unmap(self->d, dev, iova, 2 * PG));
	EXPECT_EQ(-ENOENT, vtd_dma_unmap(self->d, dev, iova + PG, PG));
	EXPECT_EQ(desc, vtdenv_stat(&self->e, "qi.submit"));
	EXPECT_EQ(frees, vtdenv_stat(&self->e, "iova.free"));
	EXPECT_EQ(entries, vtdenv_stat(&self->e, "fq.entries"));
	/* Lazy: let the first unmap's flush complete and its IOVA go back. */
	vtdm_clock_step(self->e.m, 2000000);
	vtd_dma_poll(self->d);
	ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, 2 * PG, VTD_DMA_BIDIRECTIONAL, &a));
	ASSERT_EQ(0, vtd_dma_map(self->d, dev, pa, 2 * PG, VTD_DMA_BIDIRECTIONAL, &b));
	EXPECT_NE(a, b);
	ASSERT_EQ(0, vtd_dma_unmap(self->d, dev, a, 2 * PG));
	ASSERT_EQ(0, vtd_dma_unmap(self->d, dev, b, 2 * PG));

	/* The same for a scatter-gather list. */
	ASSERT_EQ(0, vtd_dma_map_sg(self->d, dev, sg, 2, VTD_DMA_TO_DEVICE));
	ASSERT_EQ(0, vtd_dma_unmap_sg(self->d, dev, sg, 2));
	frees = vtdenv_stat(&self->e, "iova.free");
	EXPECT_EQ(-ENOENT, vtd_dma_unmap_sg(self->d, dev, sg, 2));
	EXPECT_EQ(frees, vtdenv_stat(&self->e, "iova.free"));
	/* Never mapped at all. */
	EXPECT_EQ(-ENOENT, vtd_dma_unmap(self->d, dev, 0x7000000, PG));
	vtdm_clock_step(self->e.m, 2000000);
	vtd_dma_poll(self->d);
	vtd_dma_destroy(self->d);
	self->d = NULL;
	/* Every IOVA handed out came back exactly once. */
	EXPECT_EQ(vtdenv_stat(&self->e, "iova.alloc"), vtdenv_stat(&self->e, "iova.free"));
}
