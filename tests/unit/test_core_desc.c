/*
 * test_core_desc.c — what libvtd writes into the invalidation queue, seen
 * through its qi_submit trace events and the unit counters: one PSI with
 * the right address and mask per unit and one wait, widening of
 * unaligned ranges and split superpages, DSI when PSI is missing or the
 * mask is past MAMV, IOTLB before device TLB per unit, and what the map
 * path owes under CM, under RWBF and under neither.
 */
#include <stdio.h>
#include "core_util.h"

#define IOVA	0x40000ULL	/* 16K-aligned (and 256K-aligned) */

/* One rig per test, set up by up() with the test's own configuration. */
struct desc_env {
	struct vtdenv e;
	struct vtd_domain *dom;
	bool up;
};

FIXTURE(core_desc) {
	struct desc_env d;
};

FIXTURE_SETUP(core_desc)
{
}

static void down(struct desc_env *d)
{
	if (d->up)
		vtdenv_fini(&d->e);
	d->up = false;
	tlog_fini();
}

FIXTURE_TEARDOWN(core_desc)
{
	down(&self->d);
}

/*
 * @units units with @keys, a device on each (bus 1, 2, …), one domain of
 * @stage attached to all, and the log in front of libvtd.
 */
static void up(struct desc_env *d, const char *keys, unsigned units,
	       bool sm, enum vtd_stage stage, bool ats)
{
	struct vtd_domain_opts o = { .stage = stage };

	vtdenv_init(&d->e, keys, units, sm);
	d->up = true;
	for (unsigned i = 0; i < units; i++)
		ASSERT_EQ((int)i, _vtdenv_add_device(&d->e, i, (uint16_t)((i + 1) << 8 | 0x08),
						     ats));
	ASSERT_EQ(0, vtd_domain_alloc(d->e.v, &o, &d->dom));
	for (unsigned i = 0; i < units; i++)
		ASSERT_EQ(0, vtd_attach(d->dom, d->e.dev[i]));
	tlog_install(&d->e);
}

static uint64_t ustat(struct vtdenv *e, unsigned unit, const char *name)
{
	char full[64];

	snprintf(full, sizeof(full), "dmar%u.%s", unit, name);
	return lib_stat(e, full);
}

/* The only record of descriptor @type on @unit; fails unless there is exactly one. */
static const struct tlog_rec *only_desc(unsigned type, const char *unit)
{
	long i = tl_find_desc(type, unit, -1);

	ASSERT_EQ(1, tl_count_desc(type, unit));
	return &tlog.r[i];
}

/* Map without any invalidation (no CM, no RWBF here), then unmap under the log. */
static void map_then_log_unmap(struct desc_env *d, uint64_t iova, uint64_t size)
{
	uint64_t r = region(&d->e, size, SZ_4K);

	ASSERT_EQ(0, vtd_map(d->dom, iova, r, size, VTD_PERM_RW));
	tlog_clear();
	ASSERT_EQ(size, vtd_unmap_sync(d->dom, iova, size));
}

/* Seed 003 and the spec's PSI: a 16K aligned unmap is one PSI AM=2 and one wait per unit. */
TEST_F(core_desc, psi_16k_aligned_one_per_unit)
{
	uint64_t sub[2], wait[2], mwait[2];

	up(&self->d, "caching=exact", 2, false, VTD_STAGE_SECOND, false);
	ASSERT_EQ(0, vtd_map(self->d.dom, IOVA, region(&self->d.e, SZ_16K, SZ_4K), SZ_16K,
			     VTD_PERM_RW));
	for (unsigned u = 0; u < 2; u++) {
		sub[u] = ustat(&self->d.e, u, "qi.submit");
		wait[u] = ustat(&self->d.e, u, "qi.desc.wait");
		mwait[u] = model_stat(&self->d.e, u ? "dmar1.desc.wait" : "dmar0.desc.wait");
	}
	tlog_clear();
	ASSERT_EQ(SZ_16K, vtd_unmap_sync(self->d.dom, IOVA, SZ_16K));
	ASSERT_EQ(2, tl_count_submits());
	for (unsigned u = 0; u < 2; u++) {
		const struct tlog_rec *r = only_desc(DESC_IOTLB, self->d.e.unit[u]->name);

		ASSERT_EQ(IOTLB_G_PSI, r->f.g);
		ASSERT_EQ(2, r->f.am);
		ASSERT_EQ(IOVA, r->f.addr);
		ASSERT_EQ(did_of(self->d.dom, self->d.e.unit[u]), r->f.did);
		ASSERT_TRUE(r->f.ih);	/* leaves only: no table page was freed */
		ASSERT_EQ(sub[u] + 1, ustat(&self->d.e, u, "qi.submit"));
		ASSERT_EQ(wait[u] + 1, ustat(&self->d.e, u, "qi.desc.wait"));
		ASSERT_EQ(mwait[u] + 1, model_stat(&self->d.e, u ? "dmar1.desc.wait" :
								 "dmar0.desc.wait"));
	}
}

/* Pages 3 and 4 of an 8-page block straddle its middle: AM=3 from page 0. */
TEST_F(core_desc, unaligned_two_pages_widen_to_the_block)
{
	const struct tlog_rec *r;

	up(&self->d, "caching=exact", 1, false, VTD_STAGE_SECOND, false);
	map_then_log_unmap(&self->d, IOVA + 3 * SZ_4K, 2 * SZ_4K);
	r = only_desc(DESC_IOTLB, NULL);
	ASSERT_EQ(IOTLB_G_PSI, r->f.g);
	ASSERT_EQ(3, r->f.am);
	ASSERT_EQ(IOVA, r->f.addr);
	ASSERT_EQ(0, model_stat(&self->d.e, "desc.psi_misaligned"));
}

/* No CAP.PSI: every range is a domain-selective invalidation. */
TEST_F(core_desc, no_psi_falls_back_to_dsi)
{
	const struct tlog_rec *r;

	up(&self->d, "psi=0", 1, false, VTD_STAGE_SECOND, false);
	map_then_log_unmap(&self->d, IOVA, SZ_4K);
	r = only_desc(DESC_IOTLB, NULL);
	ASSERT_EQ(IOTLB_G_DSI, r->f.g);
	ASSERT_EQ(did_of(self->d.dom, self->d.e.unit[0]), r->f.did);
	ASSERT_EQ(1, lib_stat(&self->d.e, "qi.desc.iotlb.dsi"));
	ASSERT_EQ(0, lib_stat(&self->d.e, "qi.desc.iotlb.psi"));
}

/* MAMV=1: AM=1 is still a PSI, AM=2 must be a DSI (a PSI past MAMV is an IQE). */
TEST_F(core_desc, mask_past_mamv_falls_back_to_dsi)
{
	const struct tlog_rec *r;

	up(&self->d, "mamv=1", 1, false, VTD_STAGE_SECOND, false);
	map_then_log_unmap(&self->d, IOVA, 2 * SZ_4K);
	r = only_desc(DESC_IOTLB, NULL);
	ASSERT_EQ(IOTLB_G_PSI, r->f.g);
	ASSERT_EQ(1, r->f.am);
	map_then_log_unmap(&self->d, IOVA, SZ_16K);
	r = only_desc(DESC_IOTLB, NULL);
	ASSERT_EQ(IOTLB_G_DSI, r->f.g);
	ASSERT_EQ(0, lib_stat(&self->d.e, "qi.iqe"));
	ASSERT_EQ(0, model_stat(&self->d.e, "iqe"));
}

/* 6.5.3.3: per unit the device-TLB invalidation follows the IOTLB one, in one submission. */
static void check_iotlb_then_devtlb(struct desc_env *d, unsigned units,
				    unsigned iotlb_type)
{
	uint64_t sub[2];

	ASSERT_EQ(0, vtd_map(d->dom, IOVA, region(&d->e, SZ_16K, SZ_4K), SZ_16K,
			     VTD_PERM_RW));
	for (unsigned u = 0; u < units; u++)
		sub[u] = ustat(&d->e, u, "qi.submit");
	tlog_clear();
	ASSERT_EQ(SZ_16K, vtd_unmap_sync(d->dom, IOVA, SZ_16K));
	ASSERT_EQ(2 * units, tl_count_submits());
	for (unsigned u = 0; u < units; u++) {
		const char *name = d->e.unit[u]->name;
		long io = tl_find_desc(iotlb_type, name, -1);
		long dev = tl_find_desc(DESC_DEVTLB, name, -1);
		uint64_t base, size;

		ASSERT_EQ(1, tl_count_desc(iotlb_type, name));
		ASSERT_EQ(1, tl_count_desc(DESC_DEVTLB, name));
		ASSERT_LT(io, dev);
		ASSERT_EQ(d->e.sid[u], tlog.r[dev].f.sid);
		devtlb_range_decode(tlog.r[dev].f.addr, tlog.r[dev].f.s, &base, &size);
		ASSERT_EQ(IOVA, base);
		ASSERT_EQ(SZ_16K, size);
		ASSERT_EQ(sub[u] + 1, ustat(&d->e, u, "qi.submit"));
	}
}

TEST_F(core_desc, two_units_ats_iotlb_then_devtlb)
{
	up(&self->d, "dt=1", 2, false, VTD_STAGE_SECOND, true);
	check_iotlb_then_devtlb(&self->d, 2, DESC_IOTLB);
}

TEST_F(core_desc, scalable_ss_ats_iotlb_then_devtlb)
{
	up(&self->d, "sm=1,dt=1", 2, true, VTD_STAGE_SECOND, true);
	check_iotlb_then_devtlb(&self->d, 2, DESC_IOTLB);
}

TEST_F(core_desc, scalable_fs_ats_piotlb_then_devtlb)
{
	const struct tlog_rec *r;

	up(&self->d, "sm=1,dt=1", 1, true, VTD_STAGE_FIRST, true);
	check_iotlb_then_devtlb(&self->d, 1, DESC_PIOTLB);
	r = only_desc(DESC_PIOTLB, NULL);
	ASSERT_EQ(PIOTLB_G_PSI, r->f.g);
	ASSERT_EQ(2, r->f.am);
	ASSERT_EQ(IOVA, r->f.addr);
	ASSERT_EQ(0, r->f.pasid);	/* RID_PASID */
}

/*
 * A 4K hole in a 2M superpage changes the superpage's entry: the flush
 * must use a mask that covers the whole 2M (IVA_REG.AM: at least 9), and
 * the device TLB is told the same range.
 */
TEST_F(core_desc, split_superpage_flush_covers_it)
{
	const struct tlog_rec *r;
	uint64_t base, size;

	up(&self->d, "dt=1", 1, false, VTD_STAGE_SECOND, true);
	ASSERT_EQ(0, vtd_map(self->d.dom, SZ_1G, region(&self->d.e, SZ_2M, SZ_2M), SZ_2M,
			     VTD_PERM_RW));
	tlog_clear();
	ASSERT_EQ(SZ_4K, vtd_unmap_sync(self->d.dom, SZ_1G + 5 * SZ_4K, SZ_4K));
	r = only_desc(DESC_IOTLB, NULL);
	ASSERT_EQ(IOTLB_G_PSI, r->f.g);
	ASSERT_EQ(9, r->f.am);
	ASSERT_EQ(SZ_1G, r->f.addr);
	r = only_desc(DESC_DEVTLB, NULL);
	devtlb_range_decode(r->f.addr, r->f.s, &base, &size);
	ASSERT_EQ(SZ_1G, base);
	ASSERT_EQ(SZ_2M, size);
	/* The next hole is in 4K leaves already: a 4K flush. */
	tlog_clear();
	ASSERT_EQ(SZ_4K, vtd_unmap_sync(self->d.dom, SZ_1G + 7 * SZ_4K, SZ_4K));
	r = only_desc(DESC_IOTLB, NULL);
	ASSERT_EQ(0, r->f.am);
	ASSERT_EQ(SZ_1G + 7 * SZ_4K, r->f.addr);
}

/* IH=1 only when no table page changed: an unmap that frees one says IH=0. */
TEST_F(core_desc, freed_table_clears_ih)
{
	const struct tlog_rec *r;

	up(&self->d, "caching=exact", 1, false, VTD_STAGE_SECOND, false);
	/* 4K-aligned, not 2M-aligned: 512 4K leaves in one table, unmapped whole. */
	ASSERT_EQ(0, vtd_map(self->d.dom, SZ_1G, region(&self->d.e, SZ_2M + SZ_4K, SZ_2M) + SZ_4K,
			     SZ_2M, VTD_PERM_RW));
	tlog_clear();
	ASSERT_EQ(SZ_2M, vtd_unmap_sync(self->d.dom, SZ_1G, SZ_2M));
	r = only_desc(DESC_IOTLB, NULL);
	ASSERT_EQ(9, r->f.am);
	ASSERT_FALSE(r->f.ih);
}

/* Map under CM (second stage): a PSI for the new range, never a device-TLB one. */
TEST_F(core_desc, map_under_cm_is_psi_without_devtlb)
{
	const struct tlog_rec *r;
	uint64_t sub;

	up(&self->d, "cm=1,dt=1", 1, false, VTD_STAGE_SECOND, true);
	sub = lib_stat(&self->d.e, "qi.submit");
	ASSERT_EQ(0, vtd_map(self->d.dom, IOVA, region(&self->d.e, SZ_16K, SZ_4K), SZ_16K,
			     VTD_PERM_RW));
	r = only_desc(DESC_IOTLB, NULL);
	ASSERT_EQ(IOTLB_G_PSI, r->f.g);
	ASSERT_EQ(2, r->f.am);
	ASSERT_EQ(IOVA, r->f.addr);
	ASSERT_FALSE(r->f.ih);
	ASSERT_EQ(0, tl_count_desc(DESC_DEVTLB, NULL));
	ASSERT_EQ(1, tl_count_submits());
	ASSERT_EQ(sub + 1, lib_stat(&self->d.e, "qi.submit"));
	ASSERT_EQ(0, lib_stat(&self->d.e, "wbf"));
}

/* Spec 6.1 and seed 001: CM does not cover first-stage tables; map writes nothing. */
TEST_F(core_desc, map_under_cm_first_stage_needs_nothing)
{
	up(&self->d, "sm=1,cm=1", 1, true, VTD_STAGE_FIRST, false);
	ASSERT_EQ(0, vtd_map(self->d.dom, IOVA, region(&self->d.e, SZ_16K, SZ_4K), SZ_16K,
			     VTD_PERM_RW));
	ASSERT_EQ(0, tl_count_submits());
	expect_read(&self->d.e, 0, IOVA + SZ_4K, self->d.e.data_next - 3 * SZ_4K);
}

/* Map under RWBF without CM: one write-buffer flush, not one descriptor. */
TEST_F(core_desc, map_under_rwbf_is_one_wbf)
{
	uint64_t sub, wbf, mwbf;

	up(&self->d, "rwbf=1", 1, false, VTD_STAGE_SECOND, false);
	sub = lib_stat(&self->d.e, "qi.submit");
	wbf = lib_stat(&self->d.e, "wbf");
	mwbf = model_stat(&self->d.e, "wbf");
	ASSERT_EQ(0, vtd_map(self->d.dom, IOVA, region(&self->d.e, SZ_16K, SZ_4K), SZ_16K,
			     VTD_PERM_RW));
	ASSERT_EQ(0, tl_count_submits());
	ASSERT_EQ(sub, lib_stat(&self->d.e, "qi.submit"));
	ASSERT_EQ(wbf + 1, lib_stat(&self->d.e, "wbf"));
	ASSERT_EQ(mwbf + 1, model_stat(&self->d.e, "wbf"));
	expect_read(&self->d.e, 0, IOVA, self->d.e.data_next - SZ_16K);
}

/* Map with neither CM nor RWBF: nothing at all reaches the unit. */
TEST_F(core_desc, map_with_neither_costs_nothing)
{
	uint64_t sub, desc;

	up(&self->d, "caching=adversarial,dt=1", 1, false, VTD_STAGE_SECOND, true);
	sub = lib_stat(&self->d.e, "qi.submit");
	desc = model_stat(&self->d.e, "desc");
	ASSERT_EQ(0, vtd_map(self->d.dom, IOVA, region(&self->d.e, SZ_16K, SZ_4K), SZ_16K,
			     VTD_PERM_RW));
	ASSERT_EQ(0, tl_count_submits());
	ASSERT_EQ(sub, lib_stat(&self->d.e, "qi.submit"));
	ASSERT_EQ(desc, model_stat(&self->d.e, "desc"));
	ASSERT_EQ(0, lib_stat(&self->d.e, "wbf"));
	ASSERT_EQ(0, model_stat(&self->d.e, "wbf"));
}

/*
 * VT-d 6.1 exempts first-stage mappings from caching mode ("any software
 * updates to remapping structures other than first-stage mapping ...
 * requires explicit invalidation"), so libvtd's map path owes a
 * first-stage domain nothing under CM, and a DMA that faulted before the
 * map reaches the page after it: the model caches no negative first-stage
 * entry.
 */
TEST(core_first_stage_cm_map_after_fault)
{
	static struct desc_env env;
	struct desc_env *d = &env;
	uint64_t r;

	up(d, "sm=1,cm=1,caching=adversarial", 1, true, VTD_STAGE_FIRST, false);
	r = region(&d->e, SZ_4K, SZ_4K);
	expect_fault(&d->e, 0, IOVA, false);
	ASSERT_EQ(0, vtd_map(d->dom, IOVA, r, SZ_4K, VTD_PERM_RW));
	ASSERT_EQ(0, tl_count_submits());
	expect_read(&d->e, 0, IOVA, r);
	down(d);
}
