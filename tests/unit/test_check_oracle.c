/*
 * test_check_oracle.c — the checker's oracle (src/check/oracle.c) fed
 * synthetic events directly: one scenario per rule of docs/checker.md,
 * each asserting exactly the report it should give, and the races and
 * lazy windows it must not blame. A tiny libvtd instance on the model
 * provides real device and domain pointers (the oracle reads a device's
 * source-id through vtd_device_sid); no libvtd call feeds the oracle.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"
#include "vtdenv.h"
#include "check/oracle.h"
#include "fmt/entry.h"

#define PG	0x1000ULL
#define IOVA	0x5000ULL	/* the page every scenario maps */
#define PA	0x200000ULL	/* what domain A maps it to */
#define PA2	0x300000ULL	/* another page (domain B's, or nobody's) */
#define TABLE	0x10004000ULL	/* a table page */

struct rig {
	struct vtdenv e;
	struct vtd_domain *a, *b;
	struct vtd_device *dev;		/* the device whose accesses are judged */
	uint16_t sid;
	struct chk *c;
	uint64_t id;			/* the last call id handed out */
	uint64_t ns;			/* virtual time, for the exposure windows */
	unsigned ncb;			/* chk_on_violation calls */
	enum chk_kind cb_kind[8];
};

static uint64_t rig_now(void *arg)
{
	return ((struct rig *)arg)->ns;
}

static void rig_init(struct rig *r)
{
	vtdenv_init(&r->e, "", 1, false);
	ASSERT_EQ(0, _vtdenv_add_device(&r->e, 0, 0x0018, false));
	ASSERT_EQ(0, vtd_domain_alloc(r->e.v, NULL, &r->a));
	ASSERT_EQ(0, vtd_domain_alloc(r->e.v, NULL, &r->b));
	r->dev = r->e.dev[0];
	r->sid = r->e.sid[0];
	ASSERT_EQ(r->sid, vtd_device_sid(r->dev));
	r->c = chk_create(rig_now, r);
	ASSERT_NONNULL(r->c);
	chk_name_domain(r->c, r->a, "A");
	chk_name_domain(r->c, r->b, "B");
}

static void rig_fini(struct rig *r)
{
	chk_destroy(r->c);
	vtdenv_fini(&r->e);
}

/* ---- Events ---- */

static struct vtd_call enter(struct rig *r, enum vtd_call_kind k, struct vtd_domain *dom,
			     struct vtd_device *dev, uint64_t iova, uint64_t pa, uint64_t size,
			     unsigned perm)
{
	struct vtd_call call = { .kind = k, .id = ++r->id, .dom = dom, .dev = dev,
				 .iova = iova, .pa = pa, .size = size, .perm = perm };

	chk_call(r->c, &call);
	return call;
}

static void leave(struct rig *r, struct vtd_call call, int64_t ret)
{
	call.done = true;
	call.ret = ret;
	chk_call(r->c, &call);
}

static uint64_t map(struct rig *r, struct vtd_domain *dom, uint64_t iova, uint64_t pa,
		    uint64_t size, unsigned perm)
{
	struct vtd_call call = enter(r, VTD_CALL_MAP, dom, NULL, iova, pa, size, perm);

	leave(r, call, 0);
	return call.id;
}

static struct vtd_call unmap_enter(struct rig *r, struct vtd_domain *dom, uint64_t iova,
				   uint64_t size)
{
	return enter(r, VTD_CALL_UNMAP, dom, NULL, iova, 0, size, 0);
}

static uint64_t unmap(struct rig *r, struct vtd_domain *dom, uint64_t iova, uint64_t size)
{
	struct vtd_call call = unmap_enter(r, dom, iova, size);

	leave(r, call, (int64_t)size);
	return call.id;
}

static struct vtd_call sync_enter(struct rig *r, struct vtd_domain *dom, uint64_t iova,
				  uint64_t size)
{
	return enter(r, VTD_CALL_SYNC, dom, NULL, iova, 0, size, 0);
}

static uint64_t flush(struct rig *r, enum vtd_call_kind k, struct vtd_domain *dom,
		      uint64_t iova, uint64_t size, int64_t ret)
{
	struct vtd_call call = enter(r, k, dom, NULL, iova, 0, size, 0);

	leave(r, call, ret);
	return call.id;
}

static uint64_t attach(struct rig *r, struct vtd_domain *dom, int64_t ret)
{
	struct vtd_call call = enter(r, VTD_CALL_ATTACH, dom, r->dev, 0, 0, 0, 0);

	leave(r, call, ret);
	return call.id;
}

static uint64_t detach(struct rig *r, int64_t ret)
{
	struct vtd_call call = enter(r, VTD_CALL_DETACH, NULL, r->dev, 0, 0, 0, 0);

	leave(r, call, ret);
	return call.id;
}

/* As the DMA layer reports it: a return only, call id 0. */
static void iova_free(struct rig *r, struct vtd_domain *dom, uint64_t iova, uint64_t size)
{
	struct vtd_call call = { .kind = VTD_CALL_IOVA_FREE, .done = true, .dom = dom,
				 .iova = iova, .size = size };

	chk_call(r->c, &call);
}

/* A DMA of one page by the rig's device, from begin() to end(). */
static struct vtdm_access acc(struct rig *r, uint64_t iova, bool write, uint32_t pasid)
{
	return (struct vtdm_access){ .sid = r->sid, .pasid = pasid, .iova = iova,
				     .write = write };
}

static void begin(struct rig *r, uint64_t iova, bool write)
{
	struct vtdm_access a = acc(r, iova, write, VTD_NO_PASID);

	chk_access_begin(r->c, &a);
}

/* @fault 0: translated to @pa (from the device TLB if @atc). */
static void end_pasid(struct rig *r, uint64_t iova, bool write, int fault, uint64_t pa,
		      bool atc, uint32_t pasid)
{
	struct vtdm_access a = acc(r, iova, write, pasid);
	struct vtdm_xlate x = { .fault = fault, .pa = fault ? 0 : pa, .page_size = PG,
				.r = !fault, .w = !fault, .from_atc = atc };

	chk_access_end(r->c, &a, &x);
}

static void end(struct rig *r, uint64_t iova, bool write, int fault, uint64_t pa, bool atc)
{
	end_pasid(r, iova, write, fault, pa, atc, VTD_NO_PASID);
}

static void dma(struct rig *r, uint64_t iova, bool write, int fault, uint64_t pa, bool atc)
{
	begin(r, iova, write);
	end(r, iova, write, fault, pa, atc);
}

/* ---- Verdicts ---- */

static const char *str(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *str(const char *fmt, ...)
{
	static char bufs[8][96];
	static unsigned n;
	char *b = bufs[n++ % 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return b;
}

/* Exactly one violation so far, of @kind, its message naming every NULL-ended string. */
static void expect_one(struct rig *r, enum chk_kind kind, ...)
{
	const struct chk_violation *v = chk_violation(r->c, 0);
	va_list ap;

	ASSERT_EQ(1, chk_nr_violations(r->c));
	EXPECT_EQ(1, chk_count(r->c, kind));
	ASSERT_NONNULL(v);
	EXPECT_EQ(kind, v->kind);
	va_start(ap, kind);
	for (const char *s; (s = va_arg(ap, const char *));)
		if (!strstr(v->msg, s)) {
			TH_LOG("\"%s\" not in: %s", s, v->msg);
			EXPECT_NONNULL(strstr(v->msg, s));
		}
	va_end(ap);
}

static void expect_none(struct rig *r)
{
	const struct chk_violation *v = chk_violation(r->c, 0);

	if (v)
		TH_LOG("unexpected %s: %s", chk_kind_name(v->kind), v->msg);
	ASSERT_EQ(0, chk_nr_violations(r->c));
}

FIXTURE(oracle) {
	struct rig r;
};

FIXTURE_SETUP(oracle)
{
	rig_init(&self->r);
}

FIXTURE_TEARDOWN(oracle)
{
	rig_fini(&self->r);
}

/* ---- stale-after-unmap, stale-devtlb ---- */

/* Mapped, attached, unmapped and flushed: returns the map, unmap and sync ids. */
static void unmapped_and_flushed(struct rig *r, uint64_t ids[3])
{
	ids[0] = map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	dma(r, IOVA + 0x10, false, 0, PA + 0x10, false);	/* while mapped: fine */
	ids[1] = unmap(r, r->a, IOVA, PG);
	ids[2] = flush(r, VTD_CALL_SYNC, r->a, IOVA, PG, 0);
}

TEST_F(oracle, stale_after_unmap)
{
	struct rig *r = &self->r;
	uint64_t ids[3];

	unmapped_and_flushed(r, ids);
	expect_none(r);
	dma(r, IOVA + 0x10, false, 0, PA + 0x10, false);
	expect_one(r, CHK_STALE_AFTER_UNMAP, "DMA read by 00:03.0 of IOVA 0x5010 ",
		   "stale mapping IOVA 0x5000 -> pa 0x200000 RW of domain A",
		   str("(map call %llu)", (unsigned long long)ids[0]),
		   str("unmap call %llu ", (unsigned long long)ids[1]),
		   str("flush (call %llu,", (unsigned long long)ids[2]), NULL);
	EXPECT_NULL(strstr(chk_violation(r->c, 0)->msg, "device TLB"));
	EXPECT_EQ(2, chk_judged(r->c));
}

TEST_F(oracle, stale_devtlb)
{
	struct rig *r = &self->r;
	uint64_t ids[3];

	unmapped_and_flushed(r, ids);
	dma(r, IOVA, true, 0, PA, true);
	expect_one(r, CHK_STALE_DEVTLB, "DMA write by 00:03.0 of IOVA 0x5000 ",
		   "translated by the device TLB through the stale mapping IOVA 0x5000 -> pa 0x200000",
		   str("unmap call %llu ", (unsigned long long)ids[1]),
		   str("flush (call %llu,", (unsigned long long)ids[2]), NULL);
}

TEST_F(oracle, stale_after_detach)
{
	struct rig *r = &self->r;
	uint64_t m = map(r, r->a, IOVA, PA, PG, VTD_PERM_RW), d;

	attach(r, r->a, 0);
	d = detach(r, 0);
	expect_none(r);
	dma(r, IOVA, false, 0, PA, false);
	expect_one(r, CHK_STALE_AFTER_UNMAP, "-> pa 0x200000 RW of domain A",
		   str("(map call %llu)", (unsigned long long)m),
		   str("outlived the device's detach/move (call %llu,", (unsigned long long)d),
		   NULL);
}

/* ---- reuse-before-flush ---- */

TEST_F(oracle, reuse_before_flush_map)
{
	struct rig *r = &self->r;
	uint64_t u;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	u = unmap(r, r->a, IOVA, PG);
	expect_none(r);
	map(r, r->a, IOVA, PA2, PG, VTD_PERM_RW);
	expect_one(r, CHK_REUSE_BEFORE_FLUSH, "map of IOVA 0x5000 in domain A (-> pa 0x300000)",
		   "previous mapping (-> pa 0x200000,",
		   str("unmapped by call %llu ", (unsigned long long)u), NULL);
}

TEST_F(oracle, reuse_before_flush_iova_free)
{
	struct rig *r = &self->r;
	uint64_t u;

	map(r, r->a, IOVA, PA, 2 * PG, VTD_PERM_RW);
	u = unmap(r, r->a, IOVA, 2 * PG);
	flush(r, VTD_CALL_SYNC, r->a, IOVA + PG, PG, 0);	/* the second page only */
	iova_free(r, r->a, IOVA, 2 * PG);
	expect_one(r, CHK_REUSE_BEFORE_FLUSH, "IOVA 0x5000 of domain A released for reuse",
		   "(-> pa 0x200000,", str("unmapped by call %llu ", (unsigned long long)u),
		   NULL);
}

TEST_F(oracle, no_reuse_after_covering_flush)
{
	struct rig *r = &self->r;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	unmap(r, r->a, IOVA, PG);
	flush(r, VTD_CALL_SYNC, r->a, IOVA, PG, 0);
	iova_free(r, r->a, IOVA, PG);
	map(r, r->a, IOVA, PA2, PG, VTD_PERM_RW);
	expect_none(r);
}

/* ---- freed-table-walk ---- */

TEST_F(oracle, freed_table_walk)
{
	struct rig *r = &self->r;

	chk_page_alloc(r->c, TABLE);
	chk_walk_read(r->c, 0, r->sid, TABLE + 0x18);
	expect_none(r);
	chk_page_free(r->c, TABLE);
	chk_walk_read(r->c, 0, r->sid, TABLE + PG);	/* the next page: not freed */
	expect_none(r);
	chk_walk_read(r->c, 0, r->sid, TABLE + 0x18);
	expect_one(r, CHK_FREED_TABLE, "walk for 00:03.0 on unit 0 read entry 0x10004018 ",
		   "table page 0x10004000,", NULL);
	chk_page_alloc(r->c, TABLE);
	chk_walk_read(r->c, 0, r->sid, TABLE + 0x18);
	EXPECT_EQ(1, chk_nr_violations(r->c));
}

/* ---- spurious-fault ---- */

FIXTURE(spurious_fault) {
	struct rig r;
};

FIXTURE_VARIANT(spurious_fault) {
	bool begin_before_map;		/* the access began before the map returned */
	bool unmap_during_access;	/* an unmap entered before the access ended */
	bool write;			/* a write (the mapping is read-only) */
	int64_t attach_ret;
	bool move_failed;		/* then a move to B failed: may or may not have left A */
	int fault;
	unsigned expect;		/* spurious-fault reports */
};

FIXTURE_VARIANT_ADD(spurious_fault, reported) { .fault = 6, .expect = 1 };
FIXTURE_VARIANT_ADD(spurious_fault, access_began_before_map_returned) {
	.begin_before_map = true, .fault = 6 };
FIXTURE_VARIANT_ADD(spurious_fault, unmap_entered_before_access_ended) {
	.unmap_during_access = true, .fault = 6 };
FIXTURE_VARIANT_ADD(spurious_fault, write_on_read_only_mapping) { .write = true, .fault = 6 };
FIXTURE_VARIANT_ADD(spurious_fault, attach_failed) { .attach_ret = -EINVAL, .fault = 6 };
FIXTURE_VARIANT_ADD(spurious_fault, move_failed) { .move_failed = true, .fault = 6 };
FIXTURE_VARIANT_ADD(spurious_fault, master_abort) { .fault = VTDM_MASTER_ABORT };

FIXTURE_SETUP(spurious_fault)
{
	rig_init(&self->r);
}

FIXTURE_TEARDOWN(spurious_fault)
{
	rig_fini(&self->r);
}

TEST_F(spurious_fault, verdict)
{
	struct rig *r = &self->r;
	uint64_t at = attach(r, r->a, variant->attach_ret);
	struct vtd_call mc;

	if (variant->move_failed)
		attach(r, r->b, -EINVAL);
	mc = enter(r, VTD_CALL_MAP, r->a, NULL, IOVA, PA, PG, VTD_PERM_R);
	if (variant->begin_before_map)		/* between the map's entry and return */
		begin(r, IOVA, variant->write);
	leave(r, mc, 0);
	if (!variant->begin_before_map)
		begin(r, IOVA, variant->write);
	if (variant->unmap_during_access)
		unmap_enter(r, r->a, IOVA, PG);
	end(r, IOVA, variant->write, variant->fault, 0, false);
	EXPECT_EQ(1, chk_judged(r->c));
	if (!variant->expect) {
		expect_none(r);
		return;
	}
	expect_one(r, CHK_SPURIOUS_FAULT, "DMA read by 00:03.0 of IOVA 0x5000 ",
		   "faulted (reason 0x6) although domain A mapped it -> pa 0x200000 R-",
		   str("(map call %llu returned", (unsigned long long)mc.id),
		   str("(attach call %llu returned", (unsigned long long)at), NULL);
}

/* ---- wrong-translation ---- */

TEST_F(oracle, wrong_translation_pa)
{
	struct rig *r = &self->r;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	map(r, r->b, IOVA, PA2, PG, VTD_PERM_RW);	/* B's, but the device is in A */
	attach(r, r->a, 0);
	dma(r, IOVA, false, 0, PA, false);
	expect_none(r);
	dma(r, IOVA, false, 0, PA2, false);
	expect_one(r, CHK_WRONG_XLATE,
		   "translated to pa 0x300000, which no mapping of its domains ever promised", NULL);
}

TEST_F(oracle, wrong_translation_permission)
{
	struct rig *r = &self->r;
	uint64_t m = map(r, r->a, IOVA, PA, PG, VTD_PERM_R);

	attach(r, r->a, 0);
	dma(r, IOVA, false, 0, PA, false);
	expect_none(r);
	dma(r, IOVA, true, 0, PA, false);
	expect_one(r, CHK_WRONG_XLATE, "DMA write by 00:03.0 of IOVA 0x5000 ",
		   "got pa 0x200000 with write but domain A maps it R-",
		   str("(map call %llu)", (unsigned long long)m), NULL);
}

/*
 * A write that began while A mapped the page RW, during a move to B which
 * maps the same page read-only: valid through A, so no wrong-translation
 * (the oracle used to stop at B's read-only mapping, the first it found).
 * Once the move returned, the write has only B's read-only mapping.
 */
TEST_F(oracle, wrong_translation_permission_any_valid_mapping)
{
	struct rig *r = &self->r;
	struct vtd_call mv;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	map(r, r->b, IOVA, PA, PG, VTD_PERM_R);
	attach(r, r->a, 0);
	mv = enter(r, VTD_CALL_ATTACH, r->b, r->dev, 0, 0, 0, 0);
	dma(r, IOVA, true, 0, PA, false);
	expect_none(r);
	leave(r, mv, 0);
	dma(r, IOVA, true, 0, PA, false);
	expect_one(r, CHK_WRONG_XLATE, "with write but domain B maps it R-", NULL);
}

/* ---- No false positives ---- */

TEST_F(oracle, no_fp_dma_racing_map)
{
	struct rig *r = &self->r;

	attach(r, r->a, 0);
	begin(r, IOVA, true);
	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	end(r, IOVA, true, 0, PA, false);
	begin(r, IOVA + PG, false);
	map(r, r->a, IOVA + PG, PA + PG, PG, VTD_PERM_R);
	end(r, IOVA + PG, false, 6, 0, false);		/* a fault racing it: not spurious */
	expect_none(r);
	EXPECT_EQ(2, chk_judged(r->c));
}

TEST_F(oracle, no_fp_dma_racing_unmap)
{
	struct rig *r = &self->r;
	struct vtd_call s;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	unmap(r, r->a, IOVA, PG);
	s = sync_enter(r, r->a, IOVA, PG);
	begin(r, IOVA, false);
	leave(r, s, 0);
	end(r, IOVA, false, 0, PA, false);
	expect_none(r);
	dma(r, IOVA, false, 0, PA, false);		/* after the flush: stale */
	expect_one(r, CHK_STALE_AFTER_UNMAP, "-> pa 0x200000 RW of domain A", NULL);
}

TEST_F(oracle, no_fp_lazy_pending)
{
	struct rig *r = &self->r;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	unmap(r, r->a, IOVA, PG);
	flush(r, VTD_CALL_SYNC, r->a, IOVA + PG, PG, 0);	/* another page's flush */
	dma(r, IOVA, true, 0, PA, false);
	dma(r, IOVA, false, 0, PA, true);
	expect_none(r);
	EXPECT_EQ(2, chk_judged(r->c));
}

TEST_F(oracle, flush_entered_before_unmap_returned_does_not_cover)
{
	struct rig *r = &self->r;
	struct vtd_call u, s;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	u = unmap_enter(r, r->a, IOVA, PG);
	s = sync_enter(r, r->a, IOVA, PG);
	leave(r, u, (int64_t)PG);
	leave(r, s, 0);
	dma(r, IOVA, false, 0, PA, false);
	expect_none(r);
	map(r, r->a, IOVA, PA2, PG, VTD_PERM_RW);
	expect_one(r, CHK_REUSE_BEFORE_FLUSH, "map of IOVA 0x5000 in domain A",
		   str("unmapped by call %llu ", (unsigned long long)u.id), NULL);
}

TEST_F(oracle, failed_flush_covers_nothing)
{
	struct rig *r = &self->r;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	unmap(r, r->a, IOVA, PG);
	flush(r, VTD_CALL_SYNC, r->a, IOVA, PG, -ETIMEDOUT);
	flush(r, VTD_CALL_FLUSH_ALL, r->a, 0, UINT64_MAX, -ETIMEDOUT);
	flush(r, VTD_CALL_FLUSH_RANGE, r->a, IOVA, PG, -ETIMEDOUT);
	dma(r, IOVA, false, 0, PA, false);
	expect_none(r);
	iova_free(r, r->a, IOVA, PG);
	expect_one(r, CHK_REUSE_BEFORE_FLUSH, "IOVA 0x5000 of domain A released", NULL);
}

/* vtd_flush_all reports the whole space (iova 0, size UINT64_MAX); a ranged flush its range. */
FIXTURE(flush_covers) {
	struct rig r;
};

FIXTURE_VARIANT(flush_covers) {
	enum vtd_call_kind kind;
	uint64_t iova, size;
};

FIXTURE_VARIANT_ADD(flush_covers, flush_all) { VTD_CALL_FLUSH_ALL, 0, UINT64_MAX };
FIXTURE_VARIANT_ADD(flush_covers, flush_range) { VTD_CALL_FLUSH_RANGE, IOVA - PG, 2 * PG };
FIXTURE_VARIANT_ADD(flush_covers, sync) { VTD_CALL_SYNC, IOVA, PG };

FIXTURE_SETUP(flush_covers)
{
	rig_init(&self->r);
}

FIXTURE_TEARDOWN(flush_covers)
{
	rig_fini(&self->r);
}

TEST_F(flush_covers, unmapped_page)
{
	struct rig *r = &self->r;
	uint64_t f;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	unmap(r, r->a, IOVA, PG);
	f = flush(r, variant->kind, r->a, variant->iova, variant->size, 0);
	iova_free(r, r->a, IOVA, PG);
	map(r, r->a, IOVA, PA2, PG, VTD_PERM_RW);
	expect_none(r);
	unmap(r, r->a, IOVA, PG);
	flush(r, variant->kind, r->a, variant->iova, variant->size, 0);
	dma(r, IOVA, false, 0, PA, false);
	expect_one(r, CHK_STALE_AFTER_UNMAP, "-> pa 0x200000 RW of domain A",
		   str("its flush (call %llu,", (unsigned long long)f), NULL);
}

TEST_F(oracle, move_between_domains)
{
	struct rig *r = &self->r;
	struct vtd_call mv;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	map(r, r->b, IOVA, PA2, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	mv = enter(r, VTD_CALL_ATTACH, r->b, r->dev, 0, 0, 0, 0);
	dma(r, IOVA, false, 0, PA, false);		/* via A */
	dma(r, IOVA, false, 0, PA2, false);		/* via B */
	leave(r, mv, 0);
	dma(r, IOVA, false, 0, PA2, false);
	expect_none(r);
	dma(r, IOVA, false, 0, PA, false);
	expect_one(r, CHK_STALE_AFTER_UNMAP, "-> pa 0x200000 RW of domain A",
		   str("outlived the device's detach/move (call %llu,", (unsigned long long)mv.id),
		   NULL);
}

TEST_F(oracle, pasid_requests_unjudged)
{
	struct rig *r = &self->r;
	struct vtdm_access a = acc(r, IOVA, true, 1);

	attach(r, r->a, 0);
	map(r, r->a, IOVA, PA, PG, VTD_PERM_R);
	chk_access_begin(r->c, &a);
	end_pasid(r, IOVA, true, 0, PA2, false, 1);	/* nobody's page */
	chk_access_begin(r->c, &a);
	end_pasid(r, IOVA, true, 6, 0, false, 1);	/* a fault */
	expect_none(r);
	EXPECT_EQ(2, chk_unjudged(r->c));
	EXPECT_EQ(0, chk_judged(r->c));
	dma(r, IOVA, true, 0, PA2, false);		/* the same without PASID */
	expect_one(r, CHK_WRONG_XLATE, "pa 0x300000", NULL);
	EXPECT_EQ(1, chk_judged(r->c));
}

/* ---- Exposure windows ---- */

TEST_F(oracle, exposure_windows)
{
	struct rig *r = &self->r;
	struct chk_exposure ex = { 1, 1, 1, 1 };
	struct vtd_call s;

	map(r, r->a, IOVA, PA, 2 * PG, VTD_PERM_RW);
	r->ns = 100;
	unmap(r, r->a, IOVA, 2 * PG);
	chk_exposure(r->c, &ex);
	EXPECT_EQ(0, ex.count);
	EXPECT_EQ(0, ex.max);
	r->ns = 200;
	s = sync_enter(r, r->a, IOVA + PG, PG);
	r->ns = 350;				/* completes at 350 */
	leave(r, s, 0);
	r->ns = 1100;
	flush(r, VTD_CALL_SYNC, r->a, IOVA, PG, 0);
	chk_exposure(r->c, &ex);
	EXPECT_EQ(2, ex.count);
	EXPECT_EQ(250, ex.median);		/* the lower median: sorted[(n - 1) / 2] */
	EXPECT_EQ(1000, ex.p99);		/* sorted[ceil(0.99 n) - 1] */
	EXPECT_EQ(1000, ex.max);
	/* 98 more windows of 1..98 ns: n = 100, sorted 1..98, 250, 1000. */
	map(r, r->a, 0x100000, PA, 98 * PG, VTD_PERM_RW);
	r->ns = 2000;
	unmap(r, r->a, 0x100000, 98 * PG);
	for (uint64_t i = 0; i < 98; i++) {
		r->ns = 2001 + i;
		flush(r, VTD_CALL_SYNC, r->a, 0x100000 + i * PG, PG, 0);
	}
	chk_exposure(r->c, &ex);
	EXPECT_EQ(100, ex.count);
	EXPECT_EQ(50, ex.median);		/* sorted[49] */
	EXPECT_EQ(250, ex.p99);			/* sorted[98] */
	EXPECT_EQ(1000, ex.max);
	expect_none(r);
}

/* ---- Reporting ---- */

static void on_violation(void *arg, const struct chk_violation *v)
{
	struct rig *r = arg;

	if (r->ncb < 8)
		r->cb_kind[r->ncb] = v->kind;
	r->ncb++;
}

TEST_F(oracle, on_violation_callback)
{
	struct rig *r = &self->r;

	chk_on_violation(r->c, on_violation, r);
	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	dma(r, IOVA, false, 0, PA, false);
	EXPECT_EQ(0, r->ncb);
	unmap(r, r->a, IOVA, PG);
	iova_free(r, r->a, IOVA, PG);		/* reuse-before-flush */
	flush(r, VTD_CALL_SYNC, r->a, IOVA, PG, 0);
	dma(r, IOVA, false, 0, PA, true);	/* stale-devtlb */
	chk_page_free(r->c, TABLE);
	chk_walk_read(r->c, 0, r->sid, TABLE);	/* freed-table-walk */
	ASSERT_EQ(3, chk_nr_violations(r->c));
	ASSERT_EQ(3, r->ncb);
	ASSERT_EQ(3, chk_nr_kept(r->c));
	EXPECT_EQ(CHK_REUSE_BEFORE_FLUSH, r->cb_kind[0]);
	EXPECT_EQ(CHK_STALE_DEVTLB, r->cb_kind[1]);
	EXPECT_EQ(CHK_FREED_TABLE, r->cb_kind[2]);
	for (unsigned i = 0; i < 3; i++)
		EXPECT_EQ(chk_violation(r->c, i)->kind, r->cb_kind[i]);
	EXPECT_NULL(chk_violation(r->c, 3));
}

TEST(oracle_kind_names)
{
	static const char *const names[CHK_NR] = {
		[CHK_STALE_AFTER_UNMAP] = "stale-after-unmap",
		[CHK_REUSE_BEFORE_FLUSH] = "reuse-before-flush",
		[CHK_STALE_DEVTLB] = "stale-devtlb",
		[CHK_FREED_TABLE] = "freed-table-walk",
		[CHK_SPURIOUS_FAULT] = "spurious-fault",
		[CHK_WRONG_XLATE] = "wrong-translation",
	};

	for (int k = 0; k < CHK_NR; k++) {
		EXPECT_STREQ(names[k], chk_kind_name((enum chk_kind)k));
		EXPECT_EQ(k, chk_kind_lookup(names[k]));
	}
	EXPECT_STREQ("?", chk_kind_name(CHK_NR));
	EXPECT_EQ(-1, chk_kind_lookup("stale"));
	EXPECT_EQ(-1, chk_kind_lookup("stale-after-unmap "));
	EXPECT_EQ(-1, chk_kind_lookup(""));
}

/* ---- Failed calls: where they leave the device, and a map retried ---- */

/* An attach or detach returning @ret with the device left in @now. */
static uint64_t attach_left(struct rig *r, enum vtd_call_kind k, struct vtd_domain *dom,
			    int64_t ret, struct vtd_domain *now)
{
	struct vtd_call call = enter(r, k, dom, r->dev, 0, 0, 0, 0);

	call.now = now;
	leave(r, call, ret);
	return call.id;
}

TEST_F(oracle, failed_detach_leaves_translations_allowed)
{
	struct rig *r = &self->r;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	attach_left(r, VTD_CALL_DETACH, NULL, -ETIMEDOUT, NULL);
	/* Its invalidation failed: a cache may still translate, and may fault. */
	dma(r, IOVA, false, 0, PA, true);
	dma(r, IOVA, false, 6, 0, false);
	expect_none(r);
}

TEST_F(oracle, refused_move_keeps_the_old_stay)
{
	struct rig *r = &self->r;

	attach(r, r->a, 0);
	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach_left(r, VTD_CALL_ATTACH, r->b, -EINVAL, r->a);
	dma(r, IOVA, false, 0, PA, false);
	expect_none(r);
	/* Still attached to A for certain: a fault on its mapping is spurious. */
	dma(r, IOVA, false, 6, 0, false);
	expect_one(r, CHK_SPURIOUS_FAULT, "although domain A mapped it", NULL);
}

TEST_F(oracle, failed_map_retried_elsewhere_is_recorded)
{
	struct rig *r = &self->r;
	struct vtd_call m = enter(r, VTD_CALL_MAP, r->a, NULL, IOVA, PA, PG, VTD_PERM_RW);

	attach(r, r->a, 0);
	leave(r, m, -ETIMEDOUT);
	map(r, r->a, IOVA, PA2, PG, VTD_PERM_RW);
	dma(r, IOVA, true, 0, PA2, false);
	/* The failed map's entry may still be cached: not blamed either. */
	dma(r, IOVA, true, 0, PA, false);
	expect_none(r);
}

TEST_F(oracle, two_accesses_in_flight_pair_oldest_first)
{
	struct rig *r = &self->r;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	begin(r, IOVA, false);			/* before the unmap */
	unmap(r, r->a, IOVA, PG);
	flush(r, VTD_CALL_FLUSH_ALL, r->a, 0, UINT64_MAX, 0);
	begin(r, IOVA, false);			/* after its flush */
	end(r, IOVA, false, 0, PA, false);	/* the first: began while mapped */
	expect_none(r);
	end(r, IOVA, false, 0, PA, false);	/* the second: stale */
	expect_one(r, CHK_STALE_AFTER_UNMAP, "through the stale mapping IOVA 0x5000", NULL);
}

TEST_F(oracle, refused_attach_never_opens_the_new_domain)
{
	struct rig *r = &self->r;

	attach(r, r->a, 0);
	map(r, r->b, IOVA, PA2, PG, VTD_PERM_RW);
	attach_left(r, VTD_CALL_ATTACH, r->b, -EINVAL, r->a);
	dma(r, IOVA, false, 0, PA2, false);
	expect_one(r, CHK_WRONG_XLATE, "translated to pa 0x300000", NULL);
}

TEST_F(oracle, a_later_success_settles_a_failed_detach)
{
	struct rig *r = &self->r;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	attach_left(r, VTD_CALL_DETACH, NULL, -ETIMEDOUT, NULL);
	dma(r, IOVA, false, 0, PA, true);	/* allowed: the detach failed */
	expect_none(r);
	attach(r, r->b, 0);			/* succeeded: nothing of A may be used */
	dma(r, IOVA, false, 0, PA, true);
	expect_one(r, CHK_STALE_DEVTLB, "outlived the device's detach/move", NULL);
}

TEST_F(oracle, stay_and_mapping_must_hold_at_one_instant)
{
	struct rig *r = &self->r;

	map(r, r->b, IOVA, PA2, PG, VTD_PERM_RW);
	begin(r, IOVA, false);
	unmap(r, r->b, IOVA, PG);
	flush(r, VTD_CALL_FLUSH_ALL, r->b, 0, UINT64_MAX, 0);
	attach(r, r->b, 0);			/* only after B's mapping was gone */
	end(r, IOVA, false, 0, PA2, false);
	expect_one(r, CHK_STALE_AFTER_UNMAP, "-> pa 0x300000", NULL);
}

/* ---- Exposure histogram ---- */

/* One page unmapped at @at and covered by a sync completing @ns later. */
static void window(struct rig *r, uint64_t iova, uint64_t at, uint64_t ns)
{
	map(r, r->a, iova, PA, PG, VTD_PERM_RW);
	r->ns = at;
	unmap(r, r->a, iova, PG);
	r->ns = at + ns;
	flush(r, VTD_CALL_SYNC, r->a, iova, PG, 0);
}

TEST_F(oracle, exposure_histogram)
{
	static const uint64_t ns[] = { 0, 1, 2, 3, 4, 1023, 1024, 1ULL << 40 };
	struct rig *r = &self->r;
	uint64_t hist[CHK_EXPO_BUCKETS], few[4];

	EXPECT_EQ(0, chk_exposure_hist(r->c, hist, CHK_EXPO_BUCKETS));
	for (unsigned i = 0; i < ARRAY_SIZE(ns); i++)
		window(r, IOVA + i * PG, 1000, ns[i]);
	ASSERT_EQ(ARRAY_SIZE(ns), chk_exposure_hist(r->c, hist, CHK_EXPO_BUCKETS));
	EXPECT_EQ(1, hist[0]);		/* 0 */
	EXPECT_EQ(1, hist[1]);		/* 1 */
	EXPECT_EQ(2, hist[2]);		/* 2, 3 */
	EXPECT_EQ(1, hist[3]);		/* 4 */
	EXPECT_EQ(1, hist[10]);		/* 1023 in [512, 1024) */
	EXPECT_EQ(1, hist[11]);		/* 1024 */
	EXPECT_EQ(1, hist[41]);		/* 2^40 */
	EXPECT_EQ(0, hist[4] + hist[9] + hist[12] + hist[40] + hist[64]);
	/* Fewer buckets: the last holds everything longer. */
	ASSERT_EQ(ARRAY_SIZE(ns), chk_exposure_hist(r->c, few, 4));
	EXPECT_EQ(1, few[0]);
	EXPECT_EQ(1, few[1]);
	EXPECT_EQ(2, few[2]);
	EXPECT_EQ(4, few[3]);		/* 4, 1023, 1024, 2^40 */
	expect_none(r);
}

/* ---- A mapping that ends at its unmap (chk_set_unmap_revokes) ---- */

TEST_F(oracle, unmap_revokes_blames_the_exposure_window)
{
	struct rig *r = &self->r;
	uint64_t u;

	chk_set_unmap_revokes(r->c, true);
	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	dma(r, IOVA, true, 0, PA, false);		/* while mapped: fine */
	u = unmap(r, r->a, IOVA, PG);
	expect_none(r);
	dma(r, IOVA + 8, true, 0, PA + 8, false);	/* lazy window, no flush yet */
	expect_one(r, CHK_STALE_AFTER_UNMAP, "DMA write by 00:03.0 of IOVA 0x5008 ",
		   "stale mapping IOVA 0x5000 -> pa 0x200000 RW of domain A",
		   str("outlived unmap call %llu ", (unsigned long long)u),
		   "no flush had covered it yet", NULL);
	dma(r, IOVA, false, 0, PA, true);		/* from the device TLB */
	EXPECT_EQ(2, chk_nr_violations(r->c));
	EXPECT_EQ(1, chk_count(r->c, CHK_STALE_DEVTLB));
}

TEST_F(oracle, unmap_revokes_spares_a_dma_racing_the_unmap)
{
	struct rig *r = &self->r;
	struct vtd_call u;

	chk_set_unmap_revokes(r->c, true);
	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	u = unmap_enter(r, r->a, IOVA, PG);
	begin(r, IOVA, false);
	leave(r, u, (int64_t)PG);
	end(r, IOVA, false, 0, PA, false);		/* began before the unmap returned */
	/* A fault after the unmap is no spurious fault either. */
	dma(r, IOVA, false, 6, 0, false);
	expect_none(r);
	EXPECT_EQ(2, chk_judged(r->c));
}

/* The default keeps the window valid: the same DMA is not blamed. */
TEST_F(oracle, unmap_revokes_off_by_default)
{
	struct rig *r = &self->r;

	map(r, r->a, IOVA, PA, PG, VTD_PERM_RW);
	attach(r, r->a, 0);
	unmap(r, r->a, IOVA, PG);
	dma(r, IOVA, true, 0, PA, false);
	expect_none(r);
	chk_set_unmap_revokes(r->c, true);
	dma(r, IOVA, true, 0, PA, false);
	expect_one(r, CHK_STALE_AFTER_UNMAP, "no flush had covered it yet", NULL);
}
