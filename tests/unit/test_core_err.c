/*
 * test_core_err.c — invalidation errors and queue recovery: an ATS device
 * that never answers a device-TLB invalidation (ITE, retried, then
 * -ETIMEDOUT), one that is gone (no retries), one that answers with an
 * invalid completion (ICE), and a descriptor the unit refuses (IQE).
 * After each, the queue still serves the other devices.
 */
#include <errno.h>
#include "core_util.h"

#define QI_RETRIES	3	/* unit.c: resubmissions after ITE */
#define IOVA_X		0x100000ULL
#define IOVA_Y		0x200000ULL

FIXTURE(core_err) {
	struct vtdenv e;
	struct vtd_domain *good, *bad;	/* dev 0 (answers) / dev 1 (does not) */
};

FIXTURE_VARIANT(core_err) {
	const char *keys;
	bool sm;
	const char *bad_key;		/* model device key of device 1 */
};

FIXTURE_VARIANT_ADD(core_err, legacy_unresponsive) { .keys = "dt=1", .bad_key = "unresponsive" };
FIXTURE_VARIANT_ADD(core_err, sm_unresponsive) { .keys = "sm=1,dt=1", .sm = true,
						 .bad_key = "unresponsive" };
FIXTURE_VARIANT_ADD(core_err, legacy_badcompl) { .keys = "dt=1", .bad_key = "badcompl" };

FIXTURE_SETUP(core_err)
{
	struct vtdenv *e = &self->e;
	struct vtdm_dev_cfg dc;
	struct vtd_device_opts o = { .ats = true, .qdep = 32 };
	char err[160];

	vtdenv_init(e, variant->keys, 1, variant->sm);
	ASSERT_EQ(0, _vtdenv_add_device(e, 0, 0x0108, true));
	/* Device 1 by hand: the model's twin has the faulty key. */
	vtdm_dev_cfg_default(&dc);
	dc.sid = 0x0110;
	dc.unit = 0;
	ASSERT_EQ(0, vtdm_dev_cfg_set(&dc, "ats", "1", err, sizeof(err)));
	ASSERT_EQ(0, vtdm_dev_cfg_set(&dc, variant->bad_key, "1", err, sizeof(err)));
	ASSERT_EQ(0, vtdm_add_device(e->m, &dc));
	ASSERT_EQ(0, vtd_device_add(e->v, e->unit[0], 0x0110, &o, &e->dev[1]));
	e->sid[1] = 0x0110;
	e->ndevs = 2;

	ASSERT_EQ(0, vtd_domain_alloc(e->v, NULL, &self->good));
	ASSERT_EQ(0, vtd_domain_alloc(e->v, NULL, &self->bad));
	ASSERT_EQ(0, vtd_attach(self->good, e->dev[0]));
	ASSERT_EQ(0, vtd_attach(self->bad, e->dev[1]));
}

FIXTURE_TEARDOWN(core_err)
{
	vtdenv_fini(&self->e);
}

/* The queue serves device 0: map, DMA through its ATC, unmap, fault; no new queue error. */
static void good_device_works(struct vtdenv *e, struct vtd_domain *good)
{
	uint64_t r = region(e, SZ_4K, SZ_4K);
	uint64_t ite = lib_stat(e, "qi.ite"), iqe = lib_stat(e, "qi.iqe");
	uint64_t done = model_stat(e, "wait.done");
	struct vtdm_xlate x;
	uint64_t v;

	ASSERT_EQ(0, vtd_map(good, IOVA_Y, r, SZ_4K, VTD_PERM_RW));
	ASSERT_EQ(0, dma64(e, 0, IOVA_Y, false, &v, &x));
	ASSERT_TRUE(x.from_atc);
	ASSERT_EQ(pat(r), v);
	ASSERT_EQ(SZ_4K, vtd_unmap_sync(good, IOVA_Y, SZ_4K));
	expect_fault(e, 0, IOVA_Y, false);
	ASSERT_EQ(0, cache_tag_flush_range(good, 0, SZ_2M - 1, false));
	ASSERT_EQ(ite, lib_stat(e, "qi.ite"));
	ASSERT_EQ(iqe, lib_stat(e, "qi.iqe"));
	ASSERT_EQ(done + 2, model_stat(e, "wait.done"));
}

/*
 * The device-TLB invalidation is never answered (or answered wrongly):
 * the unit times out (ITE) and aborts the wait; libvtd resubmits
 * QI_RETRIES times, then gives up with -ETIMEDOUT.
 */
TEST_F(core_err, devtlb_timeout_retries_then_fails)
{
	struct vtdenv *e = &self->e;
	uint64_t r = region(e, SZ_4K, SZ_4K), v;
	uint64_t ite, retry, mite, ice;
	struct vtdm_xlate x;

	ASSERT_EQ(0, vtd_map(self->bad, IOVA_X, r, SZ_4K, VTD_PERM_RW));
	ASSERT_EQ(0, dma64(e, 1, IOVA_X, false, &v, &x));
	ASSERT_EQ(pat(r), v);
	ite = lib_stat(e, "qi.ite");
	retry = lib_stat(e, "qi.retry");
	mite = model_stat(e, "ite");
	ice = lib_stat(e, "qi.ice");

	/* vtd_unmap_sync reports bytes; its flush's error shows in the counters. */
	ASSERT_EQ(SZ_4K, vtd_unmap_sync(self->bad, IOVA_X, SZ_4K));
	ASSERT_EQ(ite + 1 + QI_RETRIES, lib_stat(e, "qi.ite"));
	ASSERT_EQ(retry + QI_RETRIES, lib_stat(e, "qi.retry"));
	ASSERT_EQ(mite + 1 + QI_RETRIES, model_stat(e, "ite"));
	if (!strcmp(variant->bad_key, "badcompl"))
		ASSERT_LT(ice, lib_stat(e, "qi.ice"));
	/* The flush itself says so. */
	ASSERT_EQ(-ETIMEDOUT, cache_tag_flush_range(self->bad, IOVA_X, IOVA_X + SZ_4K - 1, false));
	ASSERT_EQ(ite + 2 * (1 + QI_RETRIES), lib_stat(e, "qi.ite"));
	vtd_flush_all(self->bad);
	ASSERT_EQ(retry + 3 * QI_RETRIES, lib_stat(e, "qi.retry"));
	/* Time-outs only: no descriptor was refused along the way. */
	ASSERT_EQ(0, lib_stat(e, "qi.iqe"));
	good_device_works(e, self->good);
}

/*
 * Unmapping a whole 2M of 4K pages unlinks their table; the flush that
 * should cover it times out, and so does the domain-wide fallback: the
 * table page is then never handed out again (quarantined), since a cache
 * may still walk it.
 */
TEST_F(core_err, table_of_failed_flush_is_quarantined)
{
	struct vtdenv *e = &self->e;
	uint64_t r = region(e, SZ_2M, SZ_4K), used;

	for (uint64_t off = 0; off < SZ_2M; off += SZ_4K)
		ASSERT_EQ(0, vtd_map(self->bad, SZ_2M + off, r + off, SZ_4K, VTD_PERM_RW));
	used = vtd_host_pages_used(e->h);
	ASSERT_EQ(0, lib_stat(e, "pages.quarantined"));
	ASSERT_EQ(SZ_2M, vtd_unmap_sync(self->bad, SZ_2M, SZ_2M));
	EXPECT_EQ(1, lib_stat(e, "pages.quarantined"));
	/* Not given back to the pool. */
	EXPECT_EQ(used, vtd_host_pages_used(e->h));
	good_device_works(e, self->good);
}

/*
 * Moving the unanswering device to another domain: tearing its old entry
 * down times out, so its device TLB may still hold the old translations.
 * The move fails and leaves the device detached — no new entry that
 * would admit its stale translated requests — and both domains can go.
 */
TEST_F(core_err, move_of_unanswering_device_fails_detached)
{
	struct vtdenv *e = &self->e;
	struct vtd_domain *other;
	uint64_t r = region(e, SZ_4K, SZ_4K), v;
	struct vtdm_xlate x;

	ASSERT_EQ(0, vtd_map(self->bad, IOVA_X, r, SZ_4K, VTD_PERM_RW));
	ASSERT_EQ(0, dma64(e, 1, IOVA_X, false, &v, &x));
	ASSERT_TRUE(x.from_atc);
	ASSERT_EQ(0, vtd_domain_alloc(e->v, NULL, &other));
	ASSERT_EQ(0, vtd_map(other, IOVA_X, region(e, SZ_4K, SZ_4K), SZ_4K, VTD_PERM_RW));
	ASSERT_EQ(-ETIMEDOUT, vtd_attach(other, e->dev[1]));
	/* Neither the stale device TLB nor the new domain is reachable. */
	expect_fault(e, 1, IOVA_X, false);
	ASSERT_EQ(0, vtd_domain_free(other));
	ASSERT_EQ(0, vtd_domain_free(self->bad));
	self->bad = NULL;
	good_device_works(e, self->good);
}

/*
 * A device that is gone is not waited for at all: its device TLB is not
 * invalidated (it cannot answer, and its time-out would abort the wait of
 * everything batched with it), so flushes and detach succeed with no ITE.
 */
TEST_F(core_err, gone_device_is_not_waited_for)
{
	struct vtdenv *e = &self->e;
	uint64_t ite = lib_stat(e, "qi.ite"), retry = lib_stat(e, "qi.retry");
	uint64_t devtlb = lib_stat(e, "qi.desc.devtlb") + lib_stat(e, "qi.desc.pdevtlb");

	ASSERT_EQ(0, vtd_map(self->bad, IOVA_X, region(e, SZ_4K, SZ_4K), SZ_4K, VTD_PERM_RW));
	vtd_device_set_gone(e->dev[1]);
	ASSERT_EQ(0, cache_tag_flush_range(self->bad, IOVA_X, IOVA_X + SZ_4K - 1, false));
	ASSERT_EQ(ite, lib_stat(e, "qi.ite"));
	ASSERT_EQ(retry, lib_stat(e, "qi.retry"));
	ASSERT_EQ(devtlb, lib_stat(e, "qi.desc.devtlb") + lib_stat(e, "qi.desc.pdevtlb"));
	good_device_works(e, self->good);
	/* Detach takes it out with no time-out; the domain can go. */
	ASSERT_EQ(0, vtd_detach(e->dev[1]));
	ASSERT_EQ(ite, lib_stat(e, "qi.ite"));
	expect_fault(e, 1, IOVA_X, false);
	ASSERT_EQ(0, vtd_domain_free(self->bad));
	self->bad = NULL;
	good_device_works(e, self->good);
}

/*
 * Detaching the unanswering device: the teardown's device-TLB flush
 * times out, the device is detached all the same, and its ATC can no
 * longer reach memory (translated requests are checked against the
 * now absent entry).
 */
TEST_F(core_err, detach_of_unanswering_device)
{
	struct vtdenv *e = &self->e;
	uint64_t r = region(e, SZ_4K, SZ_4K), v;
	struct vtdm_xlate x;

	ASSERT_EQ(0, vtd_map(self->bad, IOVA_X, r, SZ_4K, VTD_PERM_RW));
	ASSERT_EQ(0, dma64(e, 1, IOVA_X, false, &v, &x));
	ASSERT_TRUE(x.from_atc);
	ASSERT_EQ(-ETIMEDOUT, vtd_detach(e->dev[1]));
	ASSERT_EQ(0, vtd_domain_free(self->bad));
	self->bad = NULL;
	good_device_works(e, self->good);
	/* The context entry is gone too: a stale ATC is no longer admitted. */
	expect_fault(e, 1, IOVA_X, false);
}

/*
 * A descriptor the unit refuses (PSI with AM past MAMV): IQE, -EINVAL,
 * the refused slot is skipped, and the queue runs on.
 */
TEST_F(core_err, refused_descriptor_is_iqe_then_queue_runs)
{
	struct vtdenv *e = &self->e;
	struct vtd_unit *u = e->unit[0];
	struct vtd_desc d = vtd_desc_encode(&(struct vtd_desc_fields){
		.type = DESC_IOTLB, .g = IOTLB_G_PSI, .did = did_of(self->good, u),
		.am = (unsigned)FIELD_GET(CAP_MAMV, u->cap) + 1, .dr = true, .dw = true });

	ASSERT_EQ(-EINVAL, qi_submit_sync(u, &d, 1));
	ASSERT_EQ(1, lib_stat(e, "qi.iqe"));
	ASSERT_EQ(1, model_stat(e, "iqe"));
	good_device_works(e, self->good);
}
