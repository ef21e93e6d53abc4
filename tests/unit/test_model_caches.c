/*
 * test_model_caches.c — every translation cache of the model against the
 * invalidations that must empty it (VT-d 6.5): context cache, PASID
 * cache, IOTLB (second and first stage), both paging-structure caches and
 * the device TLB. Each test changes tables without invalidating and shows
 * the stale entry in use, then issues the right queued invalidation and
 * shows it never used again; wrong invalidations (another DID, PASID,
 * page or granularity) leave it. Also caching mode (negative entries),
 * adversarial prefetch, exact-profile LRU, and permission upgrades.
 *
 * Staleness is asserted in both profiles where the entry was used and
 * the exact profile has room for it; prefetch-made staleness only in
 * adversarial.
 */
#include "xlate_util.h"

#define SID_A	0x0008	/* 00:01.0 */
#define SID_B	0x0010	/* 00:02.0 */
#define SID_C	0x0018	/* 00:03.0 */
#define SID_D	0x0020	/* 00:04.0 */

/* A fresh page whose first qword reads @tag. */
static uint64_t pg(struct hwenv *e, uint64_t tag)
{
	uint64_t p = hw_alloc(e);

	xl_stamp(e, p, tag);
	return p;
}

/* Point the leaf at @level for @iova to @pa, keeping its other bits; no invalidation. */
static void remap(struct hwenv *e, uint64_t root, int levels, uint64_t iova, int level,
		  uint64_t pa, bool fs)
{
	uint64_t at = hw_pte_addr(e, root, levels, iova, level, fs);

	ASSERT_NE(0, at);
	xl_put(e, at, (hw_rd64(e, at) & ~SSPTE_ADDR) | pa);
}

/* The tag of the page an 8-byte DMA read at @iova reaches (the DMA must succeed). */
static uint64_t tag(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova)
{
	return xl_rd(e, sid, pasid, iova, NULL);
}

/* After an invalidation: @iova reaches @want now, and again after unrelated traffic. */
static bool never_again(struct hwenv *e, uint16_t sid, uint32_t pasid, uint64_t iova,
			uint64_t want)
{
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(want, tag(e, sid, pasid, iova));
		/* A neighbour's walk (and, adversarial, its prefetch) must not bring it back. */
		xl_pa(e, sid, pasid, iova ^ 0x1000);
		xl_clear_faults(e);
	}
	return !th_test_failed();
}

static const struct vtd_desc_fields iotlb_global = { .type = DESC_IOTLB, .g = IOTLB_G_GLOBAL };
static const struct vtd_desc_fields cc_global = { .type = DESC_CC, .g = CC_G_GLOBAL };

/* ---- Legacy mode ---- */

FIXTURE(caches) {
	struct hwenv e;
	uint64_t root;	/* SID_A, DID 1, 4-level */
	bool adv;
};

FIXTURE_VARIANT(caches) {
	const char *keys;
	bool adv;
};

FIXTURE_VARIANT_ADD(caches, exact) { "caching=exact,dt=1", false };
FIXTURE_VARIANT_ADD(caches, adversarial) { "caching=adversarial,dt=1", true };

FIXTURE_SETUP(caches)
{
	xl_boot(&self->e, variant->keys, NULL, false);
	hw_ctx(&self->e, 0, SID_A, 1, 4, CTX_TT_UNTRANSLATED, &self->root);
	self->adv = variant->adv;
}

FIXTURE_TEARDOWN(caches)
{
	hw_fini(&self->e);
}

/*
 * Context cache (6.5.2.1). A context switched to another DID and table
 * stays cached until a context-cache invalidation that covers it: domain
 * (with the DID it was cached under), device (SID under the function
 * mask) or global. Another DID or SID leaves it.
 */
TEST_F(caches, context_cache)
{
	struct hwenv *e = &self->e;
	enum { DOMAIN, DEVICE, DEVICE_FM, GLOBAL };
	static const uint16_t sids[4] = { SID_B, SID_C, SID_D, SID_A };

	for (unsigned i = 0; i < 4; i++) {
		uint16_t sid = sids[i], did = (uint16_t)(10 + i), newdid = (uint16_t)(20 + i);
		uint64_t r1, r2 = hw_alloc(e), ce = hw_ctx_addr(e, 0, sid), walks;
		struct vtd_desc_fields right = { .type = DESC_CC };

		switch (i) {
		case DOMAIN:
			right.g = CC_G_DOMAIN;
			right.did = did;	/* the DID the entry was cached under */
			break;
		case DEVICE:
			right.g = CC_G_DEVICE;
			right.sid = sid;
			break;
		case DEVICE_FM:
			/* FM=1 masks SID bit 2: 00:04.4 covers 00:04.0. */
			right.g = CC_G_DEVICE;
			right.sid = (uint16_t)(sid | 4);
			right.fm = 1;
			break;
		default:
			right.g = CC_G_GLOBAL;
			break;
		}
		if (sid == SID_A) {
			r1 = self->root;
			xl_modify(e, ce + 8, FIELD_PREP(CTX_DID, did), CTX_DID);
		} else {
			hw_ctx(e, 0, sid, did, 4, CTX_TT_UNTRANSLATED, &r1);
		}
		hw_map_ss(e, r1, 4, 0x10000, pg(e, 0xa0 + i), SZ_4K, HW_PERM_RW);
		hw_map_ss(e, r2, 4, 0x10000, pg(e, 0xb0 + i), SZ_4K, HW_PERM_RW);
		ASSERT_EQ(0xa0 + i, tag(e, sid, VTD_NO_PASID, 0x10000));

		xl_put(e, ce + 8, FIELD_PREP(CTX_AW, 2) | FIELD_PREP(CTX_DID, newdid));
		xl_put(e, ce, r2 | CTX_P);
		xl_inv(e, iotlb_global);	/* the IOTLB is not where the old table hides */
		walks = xl_stat(e, "walk");
		ASSERT_EQ(0xa0 + i, tag(e, sid, VTD_NO_PASID, 0x10000));
		ASSERT_EQ(walks + 1, xl_stat(e, "walk"));

		/* Invalidations that do not cover the cached entry. */
		xl_inv(e, (struct vtd_desc_fields){ .type = DESC_CC, .g = CC_G_DOMAIN, .did = newdid });
		xl_inv(e, (struct vtd_desc_fields){ .type = DESC_CC, .g = CC_G_DEVICE,
						    .sid = (uint16_t)(sid | 1), .fm = 0 });
		xl_inv(e, (struct vtd_desc_fields){ .type = DESC_CC, .g = CC_G_DEVICE,
						    .sid = (uint16_t)(sid + 0x100), .fm = 3 });
		ASSERT_EQ(0xa0 + i, tag(e, sid, VTD_NO_PASID, 0x10000));

		xl_inv(e, right);
		ASSERT_TRUE(never_again(e, sid, VTD_NO_PASID, 0x10000, 0xb0 + i));
	}
}

/*
 * IOTLB, second stage (6.5.2.3): a changed leaf is used from the IOTLB
 * until a PSI covering it, a DSI of its DID or a global invalidation.
 */
TEST_F(caches, iotlb_second_stage)
{
	struct hwenv *e = &self->e;
	const struct vtd_desc_fields rights[] = {
		xl_psi(1, 0x10000, 0, true),
		xl_psi(1, 0x10000, 0, false),
		{ .type = DESC_IOTLB, .g = IOTLB_G_DSI, .did = 1 },
		iotlb_global,
	};

	hw_map_ss(e, self->root, 4, 0x10000, pg(e, 0xa), SZ_4K, HW_PERM_RW);
	for (unsigned i = 0; i < 4; i++) {
		uint64_t old = 0xa + i, new = 0xa + i + 1, hits;

		ASSERT_EQ(old, tag(e, SID_A, VTD_NO_PASID, 0x10000));
		remap(e, self->root, 4, 0x10000, 1, pg(e, new), false);
		hits = xl_stat(e, "iotlb.hit");
		ASSERT_EQ(old, tag(e, SID_A, VTD_NO_PASID, 0x10000));
		ASSERT_EQ(hits + 1, xl_stat(e, "iotlb.hit"));
		/* Another DID, another page, a context flush: all leave it. */
		hw_inv_iotlb_psi(e, 0, 2, 0x10000, 0, false);
		hw_inv_iotlb_dsi(e, 0, 2);
		hw_inv_iotlb_psi(e, 0, 1, 0x11000, 0, false);
		hw_inv_ctx_global(e, 0);
		ASSERT_EQ(old, tag(e, SID_A, VTD_NO_PASID, 0x10000));

		xl_inv(e, rights[i]);
		ASSERT_TRUE(never_again(e, SID_A, VTD_NO_PASID, 0x10000, new));
	}
	ASSERT_EQ(0, xl_stat(e, "iotlb.evict"));
}

/*
 * One round on a 10-page run at @base whose page k reads tag
 * @gen * 0x100 + k: with all ten cached (after a DSI, so nothing older
 * is), every leaf moves to generation @gen + 1 without invalidation, then
 * a PSI of (@addr, @am). Pages in [lo, hi] must read the new generation,
 * the others the old one — read first, since in the adversarial profile
 * a walk to an invalidated page refills its neighbours.
 */
static bool psi_round(struct hwenv *e, uint64_t root, uint64_t base, unsigned gen,
		      uint64_t addr, unsigned am, unsigned lo, unsigned hi)
{
	hw_inv_iotlb_dsi(e, 0, 1);
	for (unsigned k = 0; k < 10; k++)
		EXPECT_EQ(gen * 0x100 + k, tag(e, SID_A, VTD_NO_PASID, base + k * SZ_4K));
	for (unsigned k = 0; k < 10; k++)
		remap(e, root, 4, base + k * SZ_4K, 1, pg(e, (gen + 1) * 0x100 + k), false);
	hw_inv_iotlb_psi(e, 0, 1, addr, am, true);
	for (unsigned k = 0; k < 10; k++)
		if (k < lo || k > hi)
			EXPECT_EQ(gen * 0x100 + k, tag(e, SID_A, VTD_NO_PASID, base + k * SZ_4K));
	for (unsigned k = lo; k <= hi; k++)
		EXPECT_EQ((gen + 1) * 0x100 + k, tag(e, SID_A, VTD_NO_PASID, base + k * SZ_4K));
	if (th_test_failed())
		TH_LOG("psi_round %u: addr %#llx am %u", gen, (unsigned long long)addr, am);
	return !th_test_failed();
}

/*
 * A PSI removes exactly the 2^AM-page aligned block holding its address
 * (low address bits ignored): the pages just outside stay cached; a PSI
 * of one 4K page inside a 2M leaf removes the 2M entry.
 */
TEST_F(caches, psi_removes_exactly_the_block)
{
	struct hwenv *e = &self->e;
	uint64_t base = 0x100000;

	for (unsigned k = 0; k < 10; k++)
		hw_map_ss(e, self->root, 4, base + k * SZ_4K, pg(e, 0x100 + k), SZ_4K, HW_PERM_RW);
	ASSERT_TRUE(psi_round(e, self->root, base, 1, base + 4 * SZ_4K, 2, 4, 7));
	/* Misaligned: 0x105000 with AM=2 is the block 0x104000..0x107fff. */
	ASSERT_TRUE(psi_round(e, self->root, base, 2, base + 5 * SZ_4K, 2, 4, 7));
	ASSERT_EQ(1, xl_stat(e, "desc.psi_misaligned"));
	ASSERT_TRUE(psi_round(e, self->root, base, 3, base + 8 * SZ_4K, 1, 8, 9));
	ASSERT_TRUE(psi_round(e, self->root, base, 4, base, 3, 0, 7));
	ASSERT_TRUE(psi_round(e, self->root, base, 5, base + 3 * SZ_4K, 0, 3, 3));
	ASSERT_TRUE(psi_round(e, self->root, base, 6, base + 9 * SZ_4K, 0, 9, 9));

	/* One 4K page inside a 2M leaf. */
	hw_map_ss(e, self->root, 4, 0x40000000, PA_2M(1), SZ_2M, HW_PERM_RW);
	xl_stamp(e, PA_2M(1), 0x21);
	xl_stamp(e, PA_2M(2), 0x22);
	ASSERT_EQ(0x21, tag(e, SID_A, VTD_NO_PASID, 0x40000000));
	remap(e, self->root, 4, 0x40000000, 2, PA_2M(2), false);
	ASSERT_EQ(0x21, tag(e, SID_A, VTD_NO_PASID, 0x40000000));
	hw_inv_iotlb_psi(e, 0, 1, 0x40123000, 0, true);
	ASSERT_TRUE(never_again(e, SID_A, VTD_NO_PASID, 0x40000000, 0x22));
	ASSERT_EQ(0, xl_stat(e, "iotlb.evict"));
}

/*
 * Second-stage paging-structure cache (6.2.4, 6.5.2.3 IH): the PDE of a
 * walked address is re-pointed at a new leaf table. A PSI with IH=1
 * drops the leaf from the IOTLB but keeps the PDE: the next walk still
 * reads the old table. IH=0 drops it; so does a DSI.
 */
TEST_F(caches, psc_second_stage_ih)
{
	struct hwenv *e = &self->e;
	uint64_t va1 = 0x200000, va2 = 0x201000, pde, old_table, new_table = hw_alloc(e);
	uint64_t walks, psc_hits;

	hw_map_ss(e, self->root, 4, va1, pg(e, 0xa1), SZ_4K, HW_PERM_RW);
	hw_map_ss(e, self->root, 4, va2, pg(e, 0xa2), SZ_4K, HW_PERM_RW);
	hw_map_ss(e, new_table, 1, va1, pg(e, 0xb1), SZ_4K, HW_PERM_RW);
	hw_map_ss(e, new_table, 1, va2, pg(e, 0xb2), SZ_4K, HW_PERM_RW);
	ASSERT_EQ(0xa1, tag(e, SID_A, VTD_NO_PASID, va1));

	pde = hw_pte_addr(e, self->root, 4, va1, 2, false);
	old_table = hw_rd64(e, pde);
	xl_put(e, pde, new_table | SSPTE_R | SSPTE_W);

	hw_inv_iotlb_psi(e, 0, 1, va1, 0, true);
	walks = xl_stat(e, "walk");
	psc_hits = xl_stat(e, "psc.ss.hit");
	ASSERT_EQ(0xa1, tag(e, SID_A, VTD_NO_PASID, va1));
	ASSERT_EQ(walks + 1, xl_stat(e, "walk"));
	ASSERT_EQ(psc_hits + 1, xl_stat(e, "psc.ss.hit"));
	/* va2 was never invalidated: its old translation stays (IOTLB or old table). */
	ASSERT_EQ(0xa2, tag(e, SID_A, VTD_NO_PASID, va2));

	hw_inv_iotlb_psi(e, 0, 1, va1, 0, false);
	ASSERT_TRUE(never_again(e, SID_A, VTD_NO_PASID, va1, 0xb1));
	/* va2's leaf was never invalidated; its own PSI makes it new too. */
	hw_inv_iotlb_psi(e, 0, 1, va2, 0, true);
	ASSERT_EQ(0xb2, tag(e, SID_A, VTD_NO_PASID, va2));

	/* Back to the old table: a DSI drops the PDE too. */
	xl_put(e, pde, old_table);
	hw_inv_iotlb_dsi(e, 0, 1);
	ASSERT_TRUE(never_again(e, SID_A, VTD_NO_PASID, va1, 0xa1));
}

/*
 * IH=1 keeps paging-structure entries even of a large block; IH=0 drops
 * every one overlapping the block, at every level, and no others.
 */
TEST_F(caches, psc_ih_counts)
{
	struct hwenv *e = &self->e;
	uint64_t fills, invs;

	hw_map_ss(e, self->root, 4, 0x1000, pg(e, 1), SZ_4K, HW_PERM_RW);
	hw_map_ss(e, self->root, 4, 0x8000000000ULL, pg(e, 2), SZ_4K, HW_PERM_RW);
	fills = xl_stat(e, "psc.ss.fill");
	ASSERT_EQ(1, tag(e, SID_A, VTD_NO_PASID, 0x1000));
	ASSERT_EQ(2, tag(e, SID_A, VTD_NO_PASID, 0x8000000000ULL));
	/* Levels 4, 3 and 2 of each walk: six non-leaf entries. */
	ASSERT_EQ(fills + 6, xl_stat(e, "psc.ss.fill"));
	invs = xl_stat(e, "psc.ss.inv");
	hw_inv_iotlb_psi(e, 0, 1, 0, 9, true);
	ASSERT_EQ(invs, xl_stat(e, "psc.ss.inv"));
	hw_inv_iotlb_psi(e, 0, 1, 0, 9, false);
	ASSERT_EQ(invs + 3, xl_stat(e, "psc.ss.inv"));
	hw_inv_iotlb_dsi(e, 0, 1);
	ASSERT_EQ(invs + 6, xl_stat(e, "psc.ss.inv"));
}

/*
 * Device TLB (ATS, legacy TT=1): stale translations are used from the
 * device's ATC after the IOTLB is clean, until a device-TLB invalidation
 * whose S-bit range covers them: 16K (S=1) drops exactly four pages, one
 * page (S=0) one, and the all-ones address everything.
 */
TEST_F(caches, device_tlb_ranges)
{
	struct hwenv *e = &self->e;
	uint64_t root, base = 0x300000;
	struct vtdm_xlate x;

	hw_add_device(e, "00:02.0,ats=1,atc=1024");
	hw_add_device(e, "00:03.0,ats=1");
	hw_ctx(e, 0, SID_B, 3, 4, CTX_TT_DEVTLB, &root);
	for (unsigned k = 0; k < 10; k++)
		hw_map_ss(e, root, 4, base + k * SZ_4K, pg(e, 0x100 + k), SZ_4K, HW_PERM_RW);
	for (unsigned k = 0; k < 10; k++) {
		ASSERT_EQ(0x100 + k, xl_rd(e, SID_B, VTD_NO_PASID, base + k * SZ_4K, &x));
		ASSERT_TRUE(x.from_atc);
	}
	for (unsigned k = 0; k < 10; k++)
		remap(e, root, 4, base + k * SZ_4K, 1, pg(e, 0x200 + k), false);
	hw_inv_iotlb_dsi(e, 0, 3);
	for (unsigned k = 0; k < 10; k++) {
		ASSERT_EQ(0x100 + k, xl_rd(e, SID_B, VTD_NO_PASID, base + k * SZ_4K, &x));
		ASSERT_TRUE(x.from_atc);
	}
	/* Another device's invalidation leaves it. */
	xl_inv(e, xl_devtlb(SID_C, VTD_NO_PASID, false, base, 4));
	ASSERT_EQ(0x100, tag(e, SID_B, VTD_NO_PASID, base));

	xl_inv(e, xl_devtlb(SID_B, VTD_NO_PASID, false, base + 4 * SZ_4K, 2));
	for (unsigned k = 0; k < 10; k++)
		ASSERT_EQ((k >= 4 && k <= 7 ? 0x200 : 0x100) + k,
			  tag(e, SID_B, VTD_NO_PASID, base + k * SZ_4K));
	xl_inv(e, xl_devtlb(SID_B, VTD_NO_PASID, false, base + 3 * SZ_4K, 0));
	for (unsigned k = 0; k < 10; k++)
		ASSERT_EQ((k >= 3 && k <= 7 ? 0x200 : 0x100) + k,
			  tag(e, SID_B, VTD_NO_PASID, base + k * SZ_4K));
	/* S=1 with ADDR[63:12] all ones: the whole address space. */
	xl_inv(e, (struct vtd_desc_fields){ .type = DESC_DEVTLB, .sid = SID_B, .s = true,
					    .addr = ~0ULL & DEVTLB_ADDR });
	for (unsigned k = 0; k < 10; k++)
		ASSERT_TRUE(never_again(e, SID_B, VTD_NO_PASID, base + k * SZ_4K, 0x200 + k));
	ASSERT_EQ(0, xl_stat(e, "dev.00:02.0.atc.evict"));
}

/*
 * Adversarial prefetch: a walk to page A caches the other valid leaf in
 * its table (B); B's PTE changed without invalidation is then used stale.
 * The exact profile does not prefetch and walks to the new B.
 */
TEST_F(caches, prefetch_neighbours)
{
	struct hwenv *e = &self->e;
	uint64_t va = 0x400000, vb = 0x405000;

	hw_map_ss(e, self->root, 4, va, pg(e, 0xa), SZ_4K, HW_PERM_RW);
	hw_map_ss(e, self->root, 4, vb, pg(e, 0xb), SZ_4K, HW_PERM_RW);
	ASSERT_EQ(0xa, tag(e, SID_A, VTD_NO_PASID, va));
	ASSERT_EQ(self->adv ? 1 : 0, xl_stat(e, "iotlb.prefetch"));
	remap(e, self->root, 4, vb, 1, pg(e, 0xbb), false);
	ASSERT_EQ(self->adv ? 0xb : 0xbb, tag(e, SID_A, VTD_NO_PASID, vb));
	hw_inv_iotlb_psi(e, 0, 1, vb, 0, true);
	ASSERT_TRUE(never_again(e, SID_A, VTD_NO_PASID, vb, 0xbb));
}

/*
 * Exact profile, a 4-entry fully associative IOTLB: the fifth page evicts
 * the least recently used one (not the first filled). Adversarial never
 * evicts and has prefetched them all.
 */
TEST_F(caches, exact_lru_eviction)
{
	struct hwenv *e = &self->e;
	uint64_t va[5], miss;

	xl_boot(e, self->adv ? "caching=adversarial" : "caching=exact", "iotlb=4,iotlb_ways=4",
		false);
	hw_ctx(e, 0, SID_A, 1, 4, CTX_TT_UNTRANSLATED, &self->root);
	for (unsigned k = 0; k < 5; k++) {
		va[k] = 0x500000 + k * SZ_4K;
		hw_map_ss(e, self->root, 4, va[k], pg(e, k), SZ_4K, HW_PERM_RW);
	}
	for (unsigned k = 0; k < 4; k++)
		ASSERT_EQ(k, tag(e, SID_A, VTD_NO_PASID, va[k]));
	ASSERT_EQ(0, tag(e, SID_A, VTD_NO_PASID, va[0]));	/* page 1 is now the LRU */
	ASSERT_EQ(4, tag(e, SID_A, VTD_NO_PASID, va[4]));
	ASSERT_EQ(self->adv ? 0 : 1, xl_stat(e, "iotlb.evict"));
	miss = xl_stat(e, "iotlb.miss");
	ASSERT_EQ(0, tag(e, SID_A, VTD_NO_PASID, va[0]));
	ASSERT_EQ(3, tag(e, SID_A, VTD_NO_PASID, va[3]));
	ASSERT_EQ(4, tag(e, SID_A, VTD_NO_PASID, va[4]));
	ASSERT_EQ(miss, xl_stat(e, "iotlb.miss"));
	ASSERT_EQ(1, tag(e, SID_A, VTD_NO_PASID, va[1]));
	ASSERT_EQ(self->adv ? miss : miss + 1, xl_stat(e, "iotlb.miss"));
	ASSERT_EQ(self->adv ? 0 : 2, xl_stat(e, "iotlb.evict"));
}

/* ---- Caching mode ---- */

FIXTURE(caches_cm) {
	struct hwenv e;
	uint64_t root;
};

FIXTURE_VARIANT(caches_cm) {
	const char *keys;
	bool adv, cm;
};

FIXTURE_VARIANT_ADD(caches_cm, exact_cm0) { "caching=exact,cm=0", false, false };
FIXTURE_VARIANT_ADD(caches_cm, exact_cm1) { "caching=exact,cm=1", false, true };
FIXTURE_VARIANT_ADD(caches_cm, adversarial_cm0) { "caching=adversarial,cm=0", true, false };
FIXTURE_VARIANT_ADD(caches_cm, adversarial_cm1) { "caching=adversarial,cm=1", true, true };

FIXTURE_SETUP(caches_cm)
{
	xl_boot(&self->e, variant->keys, NULL, false);
	hw_ctx(&self->e, 0, SID_A, 1, 4, CTX_TT_UNTRANSLATED, &self->root);
}

FIXTURE_TEARDOWN(caches_cm)
{
	hw_fini(&self->e);
}

/*
 * CM=1 (6.1): a not-present leaf is cached as a negative entry, so a
 * mapping made without invalidation still faults until a PSI covers it.
 * Under CM=0 nothing faulting is cached: the new mapping works at once.
 * Both a missing leaf in an existing table and a missing table path.
 */
TEST_F(caches_cm, negative_leaf)
{
	struct hwenv *e = &self->e;
	bool cm = variant->cm;
	uint64_t a = pg(e, 0xa), b = pg(e, 0xb);

	hw_map_ss(e, self->root, 4, 0x1000, pg(e, 0x1), SZ_4K, HW_PERM_RW);
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x2000, false, a, FR_READ));
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x8000000000ULL, false, b, FR_READ));
	hw_map_ss(e, self->root, 4, 0x2000, a, SZ_4K, HW_PERM_RW);
	hw_map_ss(e, self->root, 4, 0x8000000000ULL, b, SZ_4K, HW_PERM_RW);
	if (cm) {
		ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x2000, false, a, FR_READ));
		ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x8000000000ULL, true, b, FR_WRITE));
		ASSERT_EQ(2, xl_stat(e, "iotlb.neg_hit"));
	} else {
		ASSERT_EQ(0xa, tag(e, SID_A, VTD_NO_PASID, 0x2000));
		ASSERT_EQ(0xb, tag(e, SID_A, VTD_NO_PASID, 0x8000000000ULL));
		ASSERT_EQ(0, xl_stat(e, "iotlb.neg_hit"));
	}
	hw_inv_iotlb_psi(e, 0, 1, 0x2000, 0, true);
	ASSERT_TRUE(never_again(e, SID_A, VTD_NO_PASID, 0x2000, 0xa));
	/* The other negative entry is a different page: it needs its own PSI. */
	if (cm)
		ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x8000000000ULL, false, b, FR_READ));
	hw_inv_iotlb_psi(e, 0, 1, 0x8000000000ULL, 0, false);
	ASSERT_EQ(0xb, tag(e, SID_A, VTD_NO_PASID, 0x8000000000ULL));
}

/*
 * CM=1 and adversarial prefetch: walking to A caches every not-present
 * neighbour as negative too, so a neighbour mapped later faults until
 * invalidated; nothing else does that.
 */
TEST_F(caches_cm, negative_prefetch)
{
	struct hwenv *e = &self->e;
	bool stale = variant->cm && variant->adv;
	uint64_t b = pg(e, 0xb);

	hw_map_ss(e, self->root, 4, 0x600000, pg(e, 0xa), SZ_4K, HW_PERM_RW);
	ASSERT_EQ(0xa, tag(e, SID_A, VTD_NO_PASID, 0x600000));
	hw_map_ss(e, self->root, 4, 0x6ff000, b, SZ_4K, HW_PERM_RW);
	if (stale)
		ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x6ff000, true, b, FR_WRITE));
	else
		ASSERT_EQ(0xb, tag(e, SID_A, VTD_NO_PASID, 0x6ff000));
	ASSERT_EQ(stale ? 1 : 0, xl_stat(e, "iotlb.neg_hit"));
	hw_inv_iotlb_psi(e, 0, 1, 0x6ff000, 0, true);
	ASSERT_TRUE(never_again(e, SID_A, VTD_NO_PASID, 0x6ff000, 0xb));
}

/*
 * CM=1: a not-present context entry is cached, tagged with DID 0 (6.1),
 * until a context-cache invalidation covers it — device-selective, or
 * domain-selective with DID 0, not with the DID the new entry has.
 */
TEST_F(caches_cm, negative_context)
{
	struct hwenv *e = &self->e;
	bool cm = variant->cm;
	uint16_t sid = 0x0009;	/* 00:01.1: same bus as SID_A, so the root entry exists */
	uint64_t root, a = pg(e, 0xa);

	ASSERT_TRUE(xl_fault_rw(e, sid, VTD_NO_PASID, 0x1000, a, FR_CTX_P));
	hw_ctx(e, 0, sid, 7, 4, CTX_TT_UNTRANSLATED, &root);
	hw_map_ss(e, root, 4, 0x1000, a, SZ_4K, HW_PERM_RW);
	if (cm) {
		ASSERT_TRUE(xl_fault(e, sid, VTD_NO_PASID, 0x1000, false, a, FR_CTX_P));
		ASSERT_EQ(2, xl_stat(e, "ctx.neg_hit"));
		xl_inv(e, (struct vtd_desc_fields){ .type = DESC_CC, .g = CC_G_DOMAIN, .did = 7 });
		ASSERT_TRUE(xl_fault(e, sid, VTD_NO_PASID, 0x1000, true, a, FR_CTX_P));
		xl_inv(e, (struct vtd_desc_fields){ .type = DESC_CC, .g = CC_G_DOMAIN, .did = 0 });
	} else {
		ASSERT_EQ(0xa, tag(e, sid, VTD_NO_PASID, 0x1000));
	}
	ASSERT_TRUE(never_again(e, sid, VTD_NO_PASID, 0x1000, 0xa));
	ASSERT_EQ(cm ? 3 : 0, xl_stat(e, "ctx.neg_hit"));
}

/*
 * Permission upgrade R -> RW without invalidation. CM=0 caches no
 * faulting result: the write that finds the cached R-only entry walks
 * again and succeeds. CM=1 may fault from the cached entry: it does here,
 * until a PSI.
 */
TEST_F(caches_cm, permission_upgrade)
{
	struct hwenv *e = &self->e;
	uint64_t a = pg(e, 0xa), pte, walks, hits;

	hw_map_ss(e, self->root, 4, 0x3000, a, SZ_4K, HW_PERM_R);
	ASSERT_EQ(0xa, tag(e, SID_A, VTD_NO_PASID, 0x3000));
	ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x3008, true, a, FR_WRITE));
	pte = hw_pte_addr(e, self->root, 4, 0x3000, 1, false);
	xl_put(e, pte, a | SSPTE_R | SSPTE_W);
	walks = xl_stat(e, "walk");
	hits = xl_stat(e, "iotlb.hit");
	if (variant->cm) {
		ASSERT_TRUE(xl_fault(e, SID_A, VTD_NO_PASID, 0x3008, true, a, FR_WRITE));
		ASSERT_EQ(walks, xl_stat(e, "walk"));
		ASSERT_EQ(hits + 1, xl_stat(e, "iotlb.hit"));
		hw_inv_iotlb_psi(e, 0, 1, 0x3000, 0, true);
	} else {
		ASSERT_EQ(a + 8, xl_wr(e, SID_A, VTD_NO_PASID, 0x3008, 0x77));
		ASSERT_EQ(walks + 1, xl_stat(e, "walk"));
	}
	ASSERT_EQ(a + 0x10, xl_wr(e, SID_A, VTD_NO_PASID, 0x3010, 0x78));
	ASSERT_EQ(0x78, hw_rd64(e, a + 0x10));
	ASSERT_EQ(0xa, tag(e, SID_A, VTD_NO_PASID, 0x3000));
}

/* ---- Scalable mode ---- */

FIXTURE(caches_sm) {
	struct hwenv e;
	bool adv;
};

FIXTURE_VARIANT(caches_sm) {
	const char *keys;
	bool adv;
};

FIXTURE_VARIANT_ADD(caches_sm, exact) { "caching=exact,sm=1,dt=1", false };
FIXTURE_VARIANT_ADD(caches_sm, adversarial) { "caching=adversarial,sm=1,dt=1", true };

FIXTURE_SETUP(caches_sm)
{
	xl_boot(&self->e, variant->keys, NULL, true);
	self->adv = variant->adv;
}

FIXTURE_TEARDOWN(caches_sm)
{
	hw_fini(&self->e);
}

static struct vtd_desc_fields pc_desc(unsigned g, uint16_t did, uint32_t pasid)
{
	return (struct vtd_desc_fields){ .type = DESC_PC, .g = g, .did = did, .pasid = pasid };
}

/*
 * Scalable-mode context cache: RID_PASID switched from 1 to 2 keeps
 * selecting PASID 1 until a context-cache invalidation; scalable-mode
 * entries carry no DID, so a domain-selective one with any DID drops them.
 */
TEST_F(caches_sm, context_cache)
{
	struct hwenv *e = &self->e;
	uint64_t r1, r2;

	hw_sm_ctx(e, 0, SID_A, 1, false, true);
	hw_pasid(e, 0, SID_A, 1, PGTT_SS, 11, 4, &r1);
	hw_pasid(e, 0, SID_A, 2, PGTT_SS, 12, 4, &r2);
	hw_map_ss(e, r1, 4, 0x1000, pg(e, 0xa), SZ_4K, HW_PERM_RW);
	hw_map_ss(e, r2, 4, 0x1000, pg(e, 0xb), SZ_4K, HW_PERM_RW);
	ASSERT_EQ(0xa, tag(e, SID_A, VTD_NO_PASID, 0x1000));
	xl_put(e, hw_sm_ctx_addr(e, 0, SID_A) + 8, FIELD_PREP(SMCTX_RID_PASID, 2));
	ASSERT_EQ(0xa, tag(e, SID_A, VTD_NO_PASID, 0x1000));
	xl_inv(e, (struct vtd_desc_fields){ .type = DESC_CC, .g = CC_G_DEVICE, .sid = SID_B });
	xl_inv(e, pc_desc(PC_G_GLOBAL, 0, 0));
	xl_inv(e, iotlb_global);
	ASSERT_EQ(0xa, tag(e, SID_A, VTD_NO_PASID, 0x1000));
	xl_inv(e, (struct vtd_desc_fields){ .type = DESC_CC, .g = CC_G_DOMAIN, .did = 99 });
	ASSERT_TRUE(never_again(e, SID_A, VTD_NO_PASID, 0x1000, 0xb));
}

/*
 * PASID cache (6.5.2.2): a PASID entry moved to another DID and table is
 * used from the cache until a PASID-cache invalidation covering it —
 * PASID-selective or domain-selective with the DID it was cached under,
 * or global. Another PASID or the new DID leaves it.
 */
TEST_F(caches_sm, pasid_cache)
{
	struct hwenv *e = &self->e;
	const struct vtd_desc_fields rights[3] = {
		pc_desc(PC_G_PASID, 30, 5), pc_desc(PC_G_DOMAIN, 31, 0), pc_desc(PC_G_GLOBAL, 0, 0),
	};
	const uint16_t sids[3] = { SID_A, SID_B, SID_C };

	for (unsigned i = 0; i < 3; i++) {
		uint16_t sid = sids[i], did = (uint16_t)(30 + i), newdid = (uint16_t)(40 + i);
		uint64_t r1, r2 = hw_alloc(e), pe;

		hw_sm_ctx(e, 0, sid, 0, false, true);
		hw_pasid(e, 0, sid, 5, PGTT_SS, did, 4, &r1);
		hw_map_ss(e, r1, 4, 0x1000, pg(e, 0xa0 + i), SZ_4K, HW_PERM_RW);
		hw_map_ss(e, r2, 4, 0x1000, pg(e, 0xb0 + i), SZ_4K, HW_PERM_RW);
		ASSERT_EQ(0xa0 + i, tag(e, sid, 5, 0x1000));

		pe = hw_pasid_addr(e, 0, sid, 5);
		xl_put(e, pe + 8, FIELD_PREP(PTE1_DID, newdid));
		xl_modify(e, pe, r2, PTE0_SSPTPTR);
		xl_inv(e, iotlb_global);
		ASSERT_EQ(0xa0 + i, tag(e, sid, 5, 0x1000));
		xl_inv(e, pc_desc(PC_G_PASID, did, 6));
		xl_inv(e, pc_desc(PC_G_PASID, newdid, 5));
		xl_inv(e, pc_desc(PC_G_DOMAIN, newdid, 0));
		xl_inv(e, cc_global);
		ASSERT_EQ(0xa0 + i, tag(e, sid, 5, 0x1000));

		xl_inv(e, rights[i]);
		ASSERT_TRUE(never_again(e, sid, 5, 0x1000, 0xb0 + i));
	}
}

/*
 * IOTLB, first stage: used stale until a PASID-IOTLB invalidation of its
 * (DID, PASID), page-selective or PASID-wide; one for another PASID of
 * the DID leaves it.
 */
TEST_F(caches_sm, iotlb_first_stage)
{
	struct hwenv *e = &self->e;
	const struct vtd_desc_fields rights[3] = {
		xl_piotlb(7, 3, PIOTLB_G_PSI, 0x1000, 0, true),
		xl_piotlb(7, 3, PIOTLB_G_PSI, 0x1000, 0, false),
		xl_piotlb(7, 3, PIOTLB_G_PASID, 0, 0, false),
	};
	uint64_t root;

	hw_sm_ctx(e, 0, SID_A, 0, false, true);
	hw_pasid(e, 0, SID_A, 3, PGTT_FS, 7, 4, &root);
	hw_pasid(e, 0, SID_A, 4, PGTT_FS, 7, 4, &root);
	root = hw_rd64(e, hw_pasid_addr(e, 0, SID_A, 3) + 16) & PTE2_FSPTPTR;
	hw_map_fs(e, root, 4, 0x1000, pg(e, 0xa), SZ_4K, HW_PERM_RW, true);
	for (unsigned i = 0; i < 3; i++) {
		uint64_t old = 0xa + i, new = 0xa + i + 1;

		ASSERT_EQ(old, tag(e, SID_A, 3, 0x1000));
		remap(e, root, 4, 0x1000, 1, pg(e, new), true);
		ASSERT_EQ(old, tag(e, SID_A, 3, 0x1000));
		xl_inv(e, xl_piotlb(7, 4, PIOTLB_G_PASID, 0, 0, false));
		xl_inv(e, xl_piotlb(8, 3, PIOTLB_G_PASID, 0, 0, false));
		xl_inv(e, xl_piotlb(7, 3, PIOTLB_G_PSI, 0x2000, 0, false));
		ASSERT_EQ(old, tag(e, SID_A, 3, 0x1000));
		xl_inv(e, rights[i]);
		ASSERT_TRUE(never_again(e, SID_A, 3, 0x1000, new));
	}
}

/*
 * Ranges at the ends of the space: a PASID-IOTLB PSI with AM=52 is the
 * whole space (2^52 pages), and an entry for the last canonical page
 * (0xfffffffffffff000) is covered by a PSI naming it — neither the mask
 * nor the range end may wrap around 2^64.
 */
TEST_F(caches_sm, psi_ranges_at_the_ends_of_the_space)
{
	struct hwenv *e = &self->e;
	const uint64_t top = 0xfffffffffffff000ULL;
	uint64_t root;

	hw_sm_ctx(e, 0, SID_A, 0, false, true);
	hw_pasid(e, 0, SID_A, 3, PGTT_FS, 7, 4, &root);
	hw_map_fs(e, root, 4, 0x1000, pg(e, 0xa), SZ_4K, HW_PERM_RW, true);
	hw_map_fs(e, root, 4, top, pg(e, 0xc), SZ_4K, HW_PERM_RW, true);
	ASSERT_EQ(0xa, tag(e, SID_A, 3, 0x1000));
	ASSERT_EQ(0xc, tag(e, SID_A, 3, top));
	remap(e, root, 4, 0x1000, 1, pg(e, 0xb), true);
	remap(e, root, 4, top, 1, pg(e, 0xd), true);
	ASSERT_EQ(0xa, tag(e, SID_A, 3, 0x1000));
	ASSERT_EQ(0xc, tag(e, SID_A, 3, top));
	/* The last page alone: its entry's range ends at 2^64 - 1. */
	xl_inv(e, xl_piotlb(7, 3, PIOTLB_G_PSI, top, 0, true));
	ASSERT_TRUE(never_again(e, SID_A, 3, top, 0xd));
	ASSERT_EQ(0xa, tag(e, SID_A, 3, 0x1000));
	/* AM=52: everything of the PASID. */
	xl_inv(e, xl_piotlb(7, 3, PIOTLB_G_PSI, 0, 52, true));
	ASSERT_TRUE(never_again(e, SID_A, 3, 0x1000, 0xb));
}

/*
 * A type-2 IOTLB PSI removes every first-stage entry of its DID whatever
 * the address (and the DID's first-stage paging-structure entries, even
 * with IH=1); another DID's first-stage entries stay.
 */
TEST_F(caches_sm, iotlb_psi_drops_all_first_stage_of_did)
{
	struct hwenv *e = &self->e;
	uint64_t r3, r4, far = 0x7f0000000ULL, fs_hits, fs_misses;

	hw_sm_ctx(e, 0, SID_A, 0, false, true);
	hw_pasid(e, 0, SID_A, 3, PGTT_FS, 7, 4, &r3);
	hw_pasid(e, 0, SID_A, 4, PGTT_FS, 8, 4, &r4);
	hw_map_fs(e, r3, 4, 0x1000, pg(e, 0x31), SZ_4K, HW_PERM_RW, true);
	hw_map_fs(e, r3, 4, far, pg(e, 0x32), SZ_4K, HW_PERM_RW, true);
	hw_map_fs(e, r4, 4, 0x1000, pg(e, 0x41), SZ_4K, HW_PERM_RW, true);
	ASSERT_EQ(0x31, tag(e, SID_A, 3, 0x1000));
	ASSERT_EQ(0x32, tag(e, SID_A, 3, far));
	ASSERT_EQ(0x41, tag(e, SID_A, 4, 0x1000));
	remap(e, r3, 4, 0x1000, 1, pg(e, 0x33), true);
	remap(e, r3, 4, far, 1, pg(e, 0x34), true);
	remap(e, r4, 4, 0x1000, 1, pg(e, 0x42), true);
	ASSERT_EQ(0x31, tag(e, SID_A, 3, 0x1000));
	ASSERT_EQ(0x32, tag(e, SID_A, 3, far));

	hw_inv_iotlb_psi(e, 0, 7, 0x55555000, 0, true);
	/* The first walk after the PSI finds no paging-structure entry of DID 7. */
	fs_hits = xl_stat(e, "psc.fs.hit");
	fs_misses = xl_stat(e, "psc.fs.miss");
	ASSERT_EQ(0x33, tag(e, SID_A, 3, 0x1000));
	ASSERT_EQ(fs_hits, xl_stat(e, "psc.fs.hit"));
	ASSERT_EQ(fs_misses + 1, xl_stat(e, "psc.fs.miss"));
	ASSERT_TRUE(never_again(e, SID_A, 3, 0x1000, 0x33));
	ASSERT_TRUE(never_again(e, SID_A, 3, far, 0x34));
	ASSERT_EQ(0x41, tag(e, SID_A, 4, 0x1000));
}

/* A PASID-IOTLB invalidation leaves second-stage entries; a type-2 one removes them. */
TEST_F(caches_sm, piotlb_leaves_second_stage)
{
	struct hwenv *e = &self->e;
	uint64_t root;

	hw_sm_ctx(e, 0, SID_A, 0, false, true);
	hw_pasid(e, 0, SID_A, 0, PGTT_SS, 9, 4, &root);
	hw_map_ss(e, root, 4, 0x1000, pg(e, 0xa), SZ_4K, HW_PERM_RW);
	ASSERT_EQ(0xa, tag(e, SID_A, VTD_NO_PASID, 0x1000));
	remap(e, root, 4, 0x1000, 1, pg(e, 0xb), false);
	xl_inv(e, xl_piotlb(9, 0, PIOTLB_G_PASID, 0, 0, false));
	xl_inv(e, xl_piotlb(9, 0, PIOTLB_G_PSI, 0x1000, 0, false));
	ASSERT_EQ(0xa, tag(e, SID_A, VTD_NO_PASID, 0x1000));
	hw_inv_iotlb_psi(e, 0, 9, 0x1000, 0, true);
	ASSERT_TRUE(never_again(e, SID_A, VTD_NO_PASID, 0x1000, 0xb));
}

/*
 * First-stage paging-structure cache: the PDE re-pointed at a new leaf
 * table; a PASID-IOTLB PSI with IH=1 keeps it (old table walked), IH=0
 * drops it.
 */
TEST_F(caches_sm, psc_first_stage_ih)
{
	struct hwenv *e = &self->e;
	uint64_t root, va = 0x200000, new_table = hw_alloc(e), pde, walks, hits;

	hw_sm_ctx(e, 0, SID_A, 0, false, true);
	hw_pasid(e, 0, SID_A, 3, PGTT_FS, 7, 4, &root);
	hw_map_fs(e, root, 4, va, pg(e, 0xa), SZ_4K, HW_PERM_RW, true);
	hw_map_fs(e, new_table, 1, va, pg(e, 0xb), SZ_4K, HW_PERM_RW, true);
	ASSERT_EQ(0xa, tag(e, SID_A, 3, va));
	pde = hw_pte_addr(e, root, 4, va, 2, true);
	xl_put(e, pde, new_table | FSPTE_P | FSPTE_RW | FSPTE_US);

	xl_inv(e, xl_piotlb(7, 3, PIOTLB_G_PSI, va, 0, true));
	walks = xl_stat(e, "walk");
	hits = xl_stat(e, "psc.fs.hit");
	ASSERT_EQ(0xa, tag(e, SID_A, 3, va));
	ASSERT_EQ(walks + 1, xl_stat(e, "walk"));
	ASSERT_EQ(hits + 1, xl_stat(e, "psc.fs.hit"));

	/* Another PASID's IH=0 flush of the same range leaves it. */
	xl_inv(e, xl_piotlb(7, 4, PIOTLB_G_PSI, va, 0, false));
	ASSERT_EQ(0xa, tag(e, SID_A, 3, va));

	xl_inv(e, xl_piotlb(7, 3, PIOTLB_G_PSI, va, 0, false));
	ASSERT_TRUE(never_again(e, SID_A, 3, va, 0xb));
}

/*
 * Device TLB with PASIDs (DTE=1): entries without PASID (RID_PASID,
 * second stage) and with PASIDs 5 and 6 (first stage) all go stale. A
 * device-TLB invalidation without PASID drops only the entry without
 * PASID (model's reading, xlate.c atc_match); a PASID one with G=0 only
 * its PASID; G=1 every PASID.
 */
TEST_F(caches_sm, device_tlb_pasid)
{
	struct hwenv *e = &self->e;
	static const uint32_t pasids[3] = { VTD_NO_PASID, 5, 6 };
	uint64_t r0, r5, r6, ones = ~0ULL & DEVTLB_ADDR;

	hw_add_device(e, "00:02.0,ats=1");
	hw_sm_ctx(e, 0, SID_B, 0, true, true);
	hw_pasid(e, 0, SID_B, 0, PGTT_SS, 20, 4, &r0);
	hw_pasid(e, 0, SID_B, 5, PGTT_FS, 21, 4, &r5);
	hw_pasid(e, 0, SID_B, 6, PGTT_FS, 22, 4, &r6);
	hw_map_ss(e, r0, 4, 0x1000, pg(e, 0xa0), SZ_4K, HW_PERM_RW);
	hw_map_fs(e, r5, 4, 0x1000, pg(e, 0xa5), SZ_4K, HW_PERM_RW, true);
	hw_map_fs(e, r6, 4, 0x1000, pg(e, 0xa6), SZ_4K, HW_PERM_RW, true);
	for (unsigned i = 0; i < 3; i++)
		ASSERT_EQ(i ? 0xa0 + pasids[i] : 0xa0, tag(e, SID_B, pasids[i], 0x1000));
	remap(e, r0, 4, 0x1000, 1, pg(e, 0xb0), false);
	remap(e, r5, 4, 0x1000, 1, pg(e, 0xb5), true);
	remap(e, r6, 4, 0x1000, 1, pg(e, 0xb6), true);
	hw_inv_iotlb_dsi(e, 0, 20);
	xl_inv(e, xl_piotlb(21, 5, PIOTLB_G_PASID, 0, 0, false));
	xl_inv(e, xl_piotlb(22, 6, PIOTLB_G_PASID, 0, 0, false));
	ASSERT_EQ(0xa0, tag(e, SID_B, VTD_NO_PASID, 0x1000));
	ASSERT_EQ(0xa5, tag(e, SID_B, 5, 0x1000));
	ASSERT_EQ(0xa6, tag(e, SID_B, 6, 0x1000));

	xl_inv(e, (struct vtd_desc_fields){ .type = DESC_DEVTLB, .sid = SID_B, .s = true,
					    .addr = ones });
	ASSERT_TRUE(never_again(e, SID_B, VTD_NO_PASID, 0x1000, 0xb0));
	ASSERT_EQ(0xa5, tag(e, SID_B, 5, 0x1000));
	ASSERT_EQ(0xa6, tag(e, SID_B, 6, 0x1000));

	xl_inv(e, xl_devtlb(SID_B, 5, false, 0x1000, 0));
	ASSERT_TRUE(never_again(e, SID_B, 5, 0x1000, 0xb5));
	ASSERT_EQ(0xa6, tag(e, SID_B, 6, 0x1000));
	/* A PASID-selective 2-page range not covering the page leaves it too. */
	xl_inv(e, xl_devtlb(SID_B, 6, false, 0x2000, 1));
	ASSERT_EQ(0xa6, tag(e, SID_B, 6, 0x1000));

	xl_inv(e, xl_devtlb(SID_B, VTD_NO_PASID, true, 0, 1));
	ASSERT_TRUE(never_again(e, SID_B, 6, 0x1000, 0xb6));
	ASSERT_EQ(0, xl_stat(e, "dev.00:02.0.atc.evict"));
}

/*
 * CM=1 in scalable mode: a not-present PASID-table entry is cached until
 * a PASID-cache invalidation. A not-present first-stage leaf is not:
 * caching mode does not apply to first-stage translation (6.1), so a
 * first-stage map is visible at once.
 */
TEST_F(caches_sm, negative_pasid_entry_and_first_stage_leaf)
{
	struct hwenv *e = &self->e;
	uint64_t root, fs_root, a, b;

	xl_boot(e, self->adv ? "caching=adversarial,sm=1" : "caching=exact,sm=1", "cm=1", true);
	a = pg(e, 0xa);
	b = pg(e, 0xb);
	hw_sm_ctx(e, 0, SID_A, 0, false, true);
	hw_pasid(e, 0, SID_A, 0, PGTT_SS, 1, 4, &root);
	ASSERT_TRUE(xl_fault(e, SID_A, 3, 0x1000, false, a, FR_SM_PTE_P));
	hw_pasid(e, 0, SID_A, 3, PGTT_FS, 2, 4, &fs_root);
	hw_map_fs(e, fs_root, 4, 0x1000, a, SZ_4K, HW_PERM_RW, true);
	ASSERT_TRUE(xl_fault(e, SID_A, 3, 0x1000, true, a, FR_SM_PTE_P));
	xl_inv(e, pc_desc(PC_G_PASID, 2, 3));
	ASSERT_TRUE(never_again(e, SID_A, 3, 0x1000, 0xa));

	ASSERT_TRUE(xl_fault(e, SID_A, 3, 0x5000, false, b, FR_SM_FS_P));
	hw_map_fs(e, fs_root, 4, 0x5000, b, SZ_4K, HW_PERM_RW, true);
	ASSERT_EQ(0, hw_stat(e, "iotlb.neg_hit"));
	ASSERT_TRUE(never_again(e, SID_A, 3, 0x5000, 0xb));
	ASSERT_EQ(0, hw_stat(e, "iotlb.neg_hit"));
}
