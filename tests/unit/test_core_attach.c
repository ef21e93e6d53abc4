/*
 * test_core_attach.c — the order in which libvtd switches a device's
 * translation on, moves it and tears it down (seeds 000 and 003, VT-d
 * 6.5.3.3, 6.8, 10.4.3), read from one log of trace events, entry writes
 * and GCMD writes; and the DMA that shows the order mattered: after an
 * attach the device reaches the domain even where CM cached it as
 * absent, after a move it reaches the new domain and never the old one,
 * after a detach it reaches nothing.
 */
#include <errno.h>
#include "core_util.h"

#define IOVA_X	0x100000ULL	/* mapped in both domains, to different pages */
#define IOVA_Y	0x200000ULL	/* only in B */
#define IOVA_Z	0x300000ULL	/* only in A */

FIXTURE(core_attach) {
	struct vtdenv e;
	struct vtd_domain *a, *b;
	uint64_t ra, rb, ry, rz;	/* data behind X in A, X in B, Y, Z */
	uint64_t pages0;
};

FIXTURE_VARIANT(core_attach) {
	const char *keys;
	bool sm;
	enum vtd_stage stage;
	bool ats;
};

#define ADV "caching=adversarial"

FIXTURE_VARIANT_ADD(core_attach, legacy) { .keys = ADV, .stage = VTD_STAGE_SECOND };
FIXTURE_VARIANT_ADD(core_attach, legacy_rwbf) { .keys = ADV ",rwbf=1",
						.stage = VTD_STAGE_SECOND };
FIXTURE_VARIANT_ADD(core_attach, legacy_cm) { .keys = ADV ",cm=1", .stage = VTD_STAGE_SECOND };
FIXTURE_VARIANT_ADD(core_attach, legacy_cm_ats) { .keys = ADV ",cm=1,dt=1",
						  .stage = VTD_STAGE_SECOND, .ats = true };
FIXTURE_VARIANT_ADD(core_attach, legacy_exact_ats) { .keys = "caching=exact,dt=1",
						     .stage = VTD_STAGE_SECOND, .ats = true };
FIXTURE_VARIANT_ADD(core_attach, sm_ss_cm) { .keys = "sm=1,cm=1," ADV, .sm = true,
					     .stage = VTD_STAGE_SECOND };
FIXTURE_VARIANT_ADD(core_attach, sm_ss_rwbf_ats) { .keys = "sm=1,rwbf=1,dt=1," ADV, .sm = true,
						   .stage = VTD_STAGE_SECOND, .ats = true };
FIXTURE_VARIANT_ADD(core_attach, sm_fs) { .keys = "sm=1," ADV, .sm = true,
					  .stage = VTD_STAGE_FIRST };
FIXTURE_VARIANT_ADD(core_attach, sm_fs_cm_rwbf_ats) { .keys = "sm=1,cm=1,rwbf=1,dt=1," ADV,
						      .sm = true, .stage = VTD_STAGE_FIRST,
						      .ats = true };

static bool has(const char *keys, const char *key)
{
	return strstr(keys, key) != NULL;
}

FIXTURE_SETUP(core_attach)
{
	struct vtd_domain_opts o = { .stage = variant->stage };
	struct vtdenv *e = &self->e;

	vtdenv_init(e, variant->keys, 1, variant->sm);
	self->pages0 = vtd_host_pages_used(e->h);
	/* Two devices on bus 1 behind the one unit. */
	ASSERT_EQ(0, _vtdenv_add_device(e, 0, 0x0108, variant->ats));
	ASSERT_EQ(1, _vtdenv_add_device(e, 0, 0x0110, variant->ats));
	ASSERT_EQ(0, vtd_domain_alloc(e->v, &o, &self->a));
	ASSERT_EQ(0, vtd_domain_alloc(e->v, &o, &self->b));
	self->ra = region(e, SZ_4K, SZ_4K);
	self->rb = region(e, SZ_4K, SZ_4K);
	self->ry = region(e, SZ_4K, SZ_4K);
	self->rz = region(e, SZ_4K, SZ_4K);
	/* Mapped before any attach: no tags yet, so nothing is flushed. */
	ASSERT_EQ(0, vtd_map(self->a, IOVA_X, self->ra, SZ_4K, VTD_PERM_RW));
	ASSERT_EQ(0, vtd_map(self->a, IOVA_Z, self->rz, SZ_4K, VTD_PERM_RW));
	ASSERT_EQ(0, vtd_map(self->b, IOVA_X, self->rb, SZ_4K, VTD_PERM_RW));
	ASSERT_EQ(0, vtd_map(self->b, IOVA_Y, self->ry, SZ_4K, VTD_PERM_RW));
	tlog_install(e);
}

FIXTURE_TEARDOWN(core_attach)
{
	/* No page leaks: only the context table stays (detach frees PASID tables). */
	if (self->a && !th_test_failed()) {
		uint64_t keep = 1;

		EXPECT_EQ(0, vtd_detach(self->e.dev[0]));
		EXPECT_EQ(0, vtd_detach(self->e.dev[1]));
		EXPECT_EQ(0, vtd_domain_free(self->a));
		EXPECT_EQ(0, vtd_domain_free(self->b));
		EXPECT_EQ(self->pages0 + keep, vtd_host_pages_used(self->e.h));
	}
	vtdenv_fini(&self->e);
	tlog_fini();
}

/* Index of the first tag event of @ev type for (@tag_type, @did), or -1. */
static long find_tag(enum vtd_event_type ev, const char *tag_type, unsigned did)
{
	for (size_t i = 0; i < tlog.n; i++)
		if (tl_is_ev(&tlog.r[i], ev) && !strcmp(tlog.r[i].ev.tag_type, tag_type) &&
		    tlog.r[i].ev.did == did)
			return (long)i;
	return -1;
}

static unsigned count_wbf(long from, long to)
{
	unsigned n = 0;

	for (long i = from + 1; i < to && i < (long)tlog.n; i++)
		n += tl_is_wbf(&tlog.r[i]);
	return n;
}

/* The context-cache or PASID-cache invalidation a teardown starts with. */
static unsigned cache_desc(const FIXTURE_VARIANT(core_attach) *variant)
{
	return variant->sm ? DESC_PC : DESC_CC;
}

static unsigned iotlb_desc_type(const FIXTURE_VARIANT(core_attach) *variant)
{
	return variant->stage == VTD_STAGE_FIRST ? DESC_PIOTLB : DESC_IOTLB;
}

/*
 * Seed 000/003: the new domain's tags are live before the entry that lets
 * hardware walk its table; with RWBF the write buffer is flushed before
 * that entry (and, without CM, after it, or the unit would not see it:
 * the tables were mapped before the attach, so no map flush comes
 * later); under CM a context-cache invalidation and a DSI follow, which
 * drain the write buffer themselves. The device tried (and faulted)
 * before the attach, so under CM the unit cached it as absent.
 */
TEST_F(core_attach, tags_then_install_then_cm_flush)
{
	struct vtdenv *e = &self->e;
	struct vtd_device *dev = e->dev[0];
	uint16_t did;
	long tag, devtag, inst, cc, dsi;

	expect_fault(e, 0, IOVA_X, false);
	tlog_clear();
	ASSERT_EQ(0, vtd_attach(self->a, dev));
	did = did_of(self->a, e->unit[0]);
	ASSERT_LE(2, did);
	inst = tl_find_install(entry_addr(e, dev));
	tag = find_tag(VTD_EV_TAG_ASSIGN, "iotlb", did);
	ASSERT_LE(0, inst);
	ASSERT_LE(0, tag);
	ASSERT_LT(tag, inst);
	devtag = find_tag(VTD_EV_TAG_ASSIGN, "devtlb", did);
	if (variant->ats) {
		ASSERT_LE(0, devtag);
		ASSERT_LT(devtag, inst);
	} else {
		ASSERT_EQ(-1, devtag);
	}

	if (has(variant->keys, "rwbf=1")) {
		ASSERT_LE(1, count_wbf(tag, inst));
		/* Not present to present: the unit sees the entry only after a flush. */
		if (!has(variant->keys, "cm=1"))
			ASSERT_LE(1, count_wbf(inst, (long)tlog.n));
	} else {
		ASSERT_EQ(0, count_wbf(-1, (long)tlog.n));
	}

	cc = tl_find_desc(DESC_CC, NULL, inst);
	dsi = tl_find_desc(DESC_IOTLB, NULL, inst);
	if (has(variant->keys, "cm=1")) {
		ASSERT_LE(0, cc);
		ASSERT_LE(0, dsi);
		ASSERT_EQ(IOTLB_G_DSI, tlog.r[dsi].f.g);
		ASSERT_EQ(did, tlog.r[dsi].f.did);
		if (variant->sm) {
			long pc = tl_find_desc(DESC_PC, NULL, inst);

			ASSERT_LE(0, pc);
			ASSERT_EQ(did, tlog.r[pc].f.did);
		}
		ASSERT_EQ(0, tl_count_desc(DESC_DEVTLB, NULL));
	} else {
		/* Nothing absent was cached: nothing to invalidate. */
		ASSERT_EQ(0, tl_count_submits());
	}
	expect_read(e, 0, IOVA_X, self->ra);
	expect_write(e, 0, IOVA_Z + 8, self->rz + 8);
	expect_fault(e, 0, IOVA_Y, false);
	/* The second device joins: the same DID, the IOTLB tag gains a user. */
	ASSERT_EQ(0, vtd_attach(self->a, e->dev[1]));
	ASSERT_EQ(did, did_of(self->a, e->unit[0]));
	expect_read(e, 1, IOVA_X, self->ra);
	/* Attaching where it already is changes nothing. */
	tlog_clear();
	ASSERT_EQ(0, vtd_attach(self->a, e->dev[1]));
	ASSERT_EQ(0, tlog.n);
}

/*
 * A device moves from A to B while another stays in A. Seed 000: start
 * invalidating B's tags, switch the entry, then stop invalidating A's.
 * Every cache had translated X through A; afterwards X reaches B's page
 * and never A's, Z (only in A) faults, and A's unmaps no longer need
 * anything from this device.
 */
TEST_F(core_attach, move_between_domains)
{
	struct vtdenv *e = &self->e;
	uint16_t did_a, did_b;
	uint64_t ep;
	long tag_b, clear, inst, untag_a, cc;

	ASSERT_EQ(0, vtd_attach(self->a, e->dev[0]));
	ASSERT_EQ(0, vtd_attach(self->a, e->dev[1]));
	for (int i = 0; i < 2; i++) {
		expect_read(e, 1, IOVA_X, self->ra);
		expect_read(e, 1, IOVA_Z, self->rz);
	}
	did_a = did_of(self->a, e->unit[0]);
	ep = entry_addr(e, e->dev[1]);
	tlog_clear();
	ASSERT_EQ(0, vtd_attach(self->b, e->dev[1]));
	did_b = did_of(self->b, e->unit[0]);
	ASSERT_NE(did_a, did_b);

	tag_b = find_tag(VTD_EV_TAG_ASSIGN, "iotlb", did_b);
	clear = tl_find_clear(ep, -1);
	inst = tl_find_install(ep);
	untag_a = find_tag(VTD_EV_TAG_UNASSIGN, "iotlb", did_a);
	ASSERT_LE(0, tag_b);
	ASSERT_LE(0, clear);
	ASSERT_LE(0, untag_a);
	ASSERT_LT(tag_b, clear);
	ASSERT_LT(clear, inst);
	ASSERT_LT(inst, untag_a);
	/* The old entry's caches went before the new entry (teardown order). */
	cc = tl_find_desc(cache_desc(variant), NULL, clear);
	ASSERT_LT(clear, cc);
	ASSERT_LT(cc, inst);

	for (int i = 0; i < 2; i++) {
		expect_read(e, 1, IOVA_X, self->rb);
		expect_write(e, 1, IOVA_X + 0x10, self->rb + 0x10);
		expect_read(e, 1, IOVA_Y, self->ry);
		expect_fault(e, 1, IOVA_Z, false);
		/* The device left behind still sees A. */
		expect_read(e, 0, IOVA_X, self->ra);
		expect_fault(e, 0, IOVA_Y, false);
	}
	/* Unmapping in B reaches the moved device's caches. */
	ASSERT_EQ(SZ_4K, vtd_unmap_sync(self->b, IOVA_Y, SZ_4K));
	expect_fault(e, 1, IOVA_Y, false);

	/* And back: B's translations are gone for it, A's are back. */
	ASSERT_EQ(0, vtd_attach(self->a, e->dev[1]));
	expect_read(e, 1, IOVA_X, self->ra);
	expect_read(e, 1, IOVA_Z, self->rz);
	/* B has no device now: its unmaps invalidate nothing. */
	tlog_clear();
	ASSERT_EQ(SZ_4K, vtd_unmap_sync(self->b, IOVA_X, SZ_4K));
	ASSERT_EQ(0, tl_count_submits());
	ASSERT_EQ(0, did_of(self->b, e->unit[0]));
}

/*
 * Detach: Present cleared first, then context or PASID cache, IOTLB,
 * device TLB (6.5.3.3), the rest of the entry only after them, the tags
 * dropped last; DMA faults afterwards, from the unit and from the ATC.
 */
TEST_F(core_attach, detach_teardown_order)
{
	struct vtdenv *e = &self->e;
	uint64_t ep;
	uint16_t did;
	long clear, c, i, d, zero = -1, untag;

	ASSERT_EQ(0, vtd_attach(self->a, e->dev[0]));
	expect_read(e, 0, IOVA_X, self->ra);
	expect_read(e, 0, IOVA_Z, self->rz);
	ep = entry_addr(e, e->dev[0]);
	did = did_of(self->a, e->unit[0]);
	tlog_clear();
	ASSERT_EQ(0, vtd_detach(e->dev[0]));

	clear = tl_find_clear(ep, -1);
	c = tl_find_desc(cache_desc(variant), NULL, -1);
	i = tl_find_desc(iotlb_desc_type(variant), NULL, -1);
	d = tl_find_desc(DESC_DEVTLB, NULL, -1);
	untag = find_tag(VTD_EV_TAG_UNASSIGN, "iotlb", did);
	ASSERT_LE(0, clear);
	ASSERT_LT(clear, c);
	ASSERT_LT(c, i);
	if (variant->ats) {
		uint64_t base, size;

		ASSERT_LT(i, d);
		ASSERT_EQ(e->sid[0], tlog.r[d].f.sid);
		devtlb_range_decode(tlog.r[d].f.addr, tlog.r[d].f.s, &base, &size);
		ASSERT_EQ(0, size);	/* the whole space */
	} else {
		ASSERT_EQ(-1, d);
		d = i;
	}
	ASSERT_EQ(did, tlog.r[i].f.did);
	/* Only now the other qwords of the entry. */
	for (size_t k = 0; k < tlog.n; k++)
		if (tlog.r[k].kind == TL_MEMW && tlog.r[k].pa == ep + 8) {
			zero = (long)k;
			break;
		}
	ASSERT_LT(d, zero);
	ASSERT_LT(d, untag);

	expect_fault(e, 0, IOVA_X, false);
	expect_fault(e, 0, IOVA_Z, true);
	ASSERT_EQ(0, did_of(self->a, e->unit[0]));
	/* Detached twice is a no-op. */
	ASSERT_EQ(0, vtd_detach(e->dev[0]));
	/* A domain with a device attached cannot be freed. */
	ASSERT_EQ(0, vtd_attach(self->b, e->dev[0]));
	ASSERT_EQ(-EBUSY, vtd_domain_free(self->b));
	expect_read(e, 0, IOVA_Y, self->ry);
}
