/*
 * test_core_attach_fail.c — an attach whose post-install invalidation
 * fails (caching mode: the context-cache invalidation is refused) must
 * take the entry down again before its DID and tags are released: the
 * device is left unattached and cannot reach the domain's pages.
 */
#include <errno.h>
#include "harness.h"
#include "vtdenv.h"
#include "vtd/dma.h"
#include "core/internal.h"
#include "fmt/desc.h"

static const struct vtd_ops *host;
static struct vtd_ops wrapped;
static struct vtd_unit *victim;	/* the next descriptor of victim_type it queues is corrupted */
static unsigned victim_type = DESC_CC;

/* Set a reserved bit (qw0 bit 8) in the victim's next descriptor of victim_type. */
static void corrupt_write64(void *ctx, uint64_t pa, uint64_t val)
{
	if (victim && pa >= victim->iq && pa < victim->iq + 4096 &&
	    (pa - victim->iq) % (victim->wide ? 32 : 16) == 0 &&
	    (val & DESC_TYPE_LO) == victim_type) {
		val |= BIT_ULL(8);
		victim = NULL;
	}
	host->mem_write64(ctx, pa, val);
}

FIXTURE(core_attach_fail) {
	struct vtdenv e;
};

FIXTURE_VARIANT(core_attach_fail) {
	const char *keys;
	bool sm;
};

FIXTURE_VARIANT_ADD(core_attach_fail, legacy) { .keys = "cm=1,caching=adversarial" };
FIXTURE_VARIANT_ADD(core_attach_fail, sm) { .keys = "cm=1,sm=1,caching=adversarial", .sm = true };

FIXTURE_SETUP(core_attach_fail)
{
	vtdenv_init(&self->e, variant->keys, 1, variant->sm);
	host = vtd_host_ops();
	wrapped = *host;
	wrapped.mem_write64 = corrupt_write64;
	self->e.v->ops = &wrapped;
}

FIXTURE_TEARDOWN(core_attach_fail)
{
	victim = NULL;
	victim_type = DESC_CC;
	vtdenv_fini(&self->e);
}

TEST_F(core_attach_fail, failed_cm_flush_takes_the_entry_down)
{
	struct vtdenv *e = &self->e;
	struct vtd_domain *dom, *other;
	uint64_t page = vtdenv_page(e, 0x33), v, pages;
	int d = _vtdenv_add_device(e, 0, 0x0008, false);

	ASSERT_LE(0, d);
	ASSERT_EQ(0, vtd_domain_alloc(e->v, NULL, &dom));
	ASSERT_EQ(0, vtd_map(dom, 0x10000, page, 4096, VTD_PERM_RW));
	pages = vtd_host_pages_used(e->h);
	victim = e->unit[0];
	ASSERT_EQ(-EINVAL, vtd_attach(dom, e->dev[d]));
	ASSERT_NULL(victim);
	EXPECT_EQ(1, vtdenv_stat(e, "qi.iqe"));
	/* Not attached: the domain can go, and the device reaches nothing through it. */
	EXPECT_EQ(1, vtdenv_dma_rd64(e, d, 0x10000, &v));
	ASSERT_EQ(0, vtd_domain_free(dom));
	EXPECT_EQ(1, vtdenv_dma_rd64(e, d, 0x10000, &v));
	/* The context table stays (one page); everything else was given back. */
	EXPECT_GE(pages, vtd_host_pages_used(e->h));
	/* The device attaches cleanly afterwards, with a fresh DID. */
	ASSERT_EQ(0, vtd_domain_alloc(e->v, NULL, &other));
	ASSERT_EQ(0, vtd_map(other, 0x10000, page, 4096, VTD_PERM_RW));
	ASSERT_EQ(0, vtd_attach(other, e->dev[d]));
	ASSERT_EQ(0, vtdenv_dma_rd64(e, d, 0x10000, &v));
	EXPECT_EQ(0x3333333333333333ULL, v);
	EXPECT_EQ(0, vtd_detach(e->dev[d]));
	EXPECT_EQ(0, vtd_domain_free(other));
}

/*
 * Under CM a map's flush (an IOTLB PSI) is refused: vtd_map fails after
 * writing its entries. The DMA layer must take them out before the IOVA
 * can be handed out again: afterwards nothing is mapped there and the
 * device cannot reach the page.
 */
TEST_F(core_attach_fail, failed_map_flush_leaves_no_mapping)
{
	struct vtdenv *e = &self->e;
	struct vtd_dma_opts o = { .mode = VTD_DMA_STRICT };
	struct vtd_domain *dom;
	struct vtd_dma *d;
	uint64_t page = vtdenv_page(e, 0x44), iova = 0, pa, v;
	unsigned perm;
	int dev = _vtdenv_add_device(e, 0, 0x0008, false);

	ASSERT_LE(0, dev);
	ASSERT_EQ(0, vtd_domain_alloc(e->v, NULL, &dom));
	ASSERT_EQ(0, vtd_attach(dom, e->dev[dev]));
	ASSERT_EQ(0, vtd_dma_create(dom, &o, &d));
	victim_type = DESC_IOTLB;
	victim = e->unit[0];
	ASSERT_EQ(-EINVAL, vtd_dma_map(d, e->dev[dev], page, 4096, VTD_DMA_BIDIRECTIONAL, &iova));
	ASSERT_NULL(victim);
	/* The IOVA the window's top gives first: nothing left mapped there. */
	EXPECT_EQ(-ENOENT, vtd_iova_to_phys(dom, (1ULL << 32) - 4096, &pa, &perm));
	EXPECT_EQ(1, vtdenv_dma_rd64(e, dev, (1ULL << 32) - 4096, &v));
	/* The next map succeeds (the IOVA was freed cleanly, not left half-mapped). */
	ASSERT_EQ(0, vtd_dma_map(d, e->dev[dev], page, 4096, VTD_DMA_BIDIRECTIONAL, &iova));
	ASSERT_EQ(0, vtdenv_dma_rd64(e, dev, iova, &v));
	EXPECT_EQ(0x4444444444444444ULL, v);
	vtd_dma_destroy(d);
	EXPECT_EQ(0, vtd_detach(e->dev[dev]));
	EXPECT_EQ(0, vtd_domain_free(dom));
}

/* ---- vtd_unit_add that runs out of pages part way ---- */

static long alloc_budget;	/* allocations left before -ENOMEM; < 0: no limit */

static int budget_page_alloc(void *ctx, uint64_t *pa)
{
	if (alloc_budget == 0)
		return -ENOMEM;
	if (alloc_budget > 0)
		alloc_budget--;
	return host->page_alloc(ctx, pa);
}

/*
 * Whichever page allocation fails (root table, queue, status words),
 * vtd_unit_add returns -ENOMEM having turned off what it turned on and
 * given back every page; with enough pages it succeeds.
 */
TEST(core_unit_add_unwinds)
{
	struct vtdm_machine_cfg mc;
	struct vtdm_unit_cfg uc;
	struct vtdm *m;
	struct vtd_host *h;
	bool added = false;

	vtdm_machine_cfg_default(&mc);
	vtdm_unit_cfg_default(&uc);
	m = vtdm_create(&mc);
	ASSERT_NONNULL(m);
	ASSERT_LE(0, vtdm_add_unit(m, &uc));
	h = vtd_host_create(m, 0x10000000, 0x1000000);
	ASSERT_NONNULL(h);
	host = vtd_host_ops();
	wrapped = *host;
	wrapped.page_alloc = budget_page_alloc;
	for (long budget = 0; budget < 8 && !added; budget++) {
		struct vtd *v = vtd_create(&wrapped, h);
		struct vtd_unit *u;
		uint64_t gsts = 0;
		int ret;

		ASSERT_NONNULL(v);
		alloc_budget = budget;
		ret = vtd_unit_add(v, vtdm_unit_base(0), NULL, &u);
		alloc_budget = -1;
		if (ret == 0) {
			added = true;
		} else {
			EXPECT_EQ(-ENOMEM, ret);
			EXPECT_EQ(0, vtd_host_pages_used(h));
			ASSERT_EQ(0, vtdm_read64(m, vtdm_unit_base(0) + 0x18, &gsts));
			/* GSTS (bits 63:32 of this read): TES 31, QIES 26 off. */
			EXPECT_EQ(0, (gsts >> 32) & ((1ULL << 31) | (1ULL << 26)));
		}
		vtd_destroy(v);
		EXPECT_EQ(0, vtd_host_pages_used(h));
	}
	EXPECT_TRUE(added);
	vtd_host_destroy(h);
	vtdm_destroy(m);
}
