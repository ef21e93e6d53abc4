/*
 * test_model_hooks.c — the model's hooks for an explorer and an oracle:
 * which yield points a request and the queue pass, that every hook runs
 * without the machine lock (it may call back into the model from the
 * same thread), that a walk paused across an invalidation caches nothing
 * (VT-d 6.5.2 completion semantics), that a device drops an ATS answer
 * overtaken by a device-TLB invalidation, that the queue has one runner
 * which also takes descriptors queued while it yields, the access hooks,
 * and that hooks which do nothing change nothing.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include "xlate_util.h"

#define SID_A		0x0008	/* 00:01.0, plain device, DID 1 */
#define SID_ATS		0x0010	/* 00:02.0, ATS device, DID 2 */
#define DID_A		1
#define DID_ATS		2

#define IOVA_A		0x200000ULL	/* -> PA_4K(0) */
#define IOVA_B		(IOVA_A + SZ_4K)	/* -> PA_4K(1), same leaf table */
#define IOVA_C		0x40000000ULL	/* -> PA_4K(2), other tables */
#define IOVA_U		0x800000ULL	/* never mapped */
#define IOVA_M		0x1000000ULL	/* -> beyond RAM */

#define VAL_A		0xaaaa0000aaaa0001ULL
#define VAL_B		0xbbbb0000bbbb0002ULL
#define VAL_C		0xcccc0000cccc0003ULL

#define MAX_POINTS	128
#define MAX_ACCESS	16

struct hk;
typedef bool hk_match_fn(struct hk *h, const struct vtdm_point *p);
typedef void hk_act_fn(struct hk *h, const struct vtdm_point *p);

/* What the hooks saw, and the one action a test injects at a yield. */
struct hk {
	struct hwenv *e;
	uint64_t root, root_ats;
	struct vtdm_point pt[MAX_POINTS];	/* every yield, nested ones too */
	unsigned npt;
	char log[4 * MAX_POINTS];		/* B(egin) E(nd), yields by kind */
	unsigned nlog;
	struct {
		struct vtdm_access a;
		struct vtdm_xlate x;
		bool ended;
	} acc[MAX_ACCESS];
	unsigned nacc;
	unsigned desc_depth, desc_depth_max;	/* DESC yields under way */
	hk_match_fn *match;
	hk_act_fn *act;
	bool acted, armed;
	uint64_t at;				/* the address @match waits for */
	int ret;				/* what the action's submission returned */
	uint64_t status, val;			/* test (c): status words, a value seen */
	unsigned seen[8];			/* test (c): statuses written at each DESC */
	unsigned nseen;
};

static void note(struct hk *h, char c)
{
	if (h->nlog < sizeof(h->log) - 1)
		h->log[h->nlog++] = c;
}

/* The machine lock must be free in every hook: this would deadlock. */
static void lock_is_free(struct hk *h)
{
	uint64_t t = 0;

	EXPECT_EQ(0, vtdm_stat(h->e->m, "time.ns", &t));
}

static void on_yield(void *ctx, const struct vtdm_point *p)
{
	static const char kind[] = { [VTDM_Y_WALK_STEP] = 'w', [VTDM_Y_CACHE_FILL] = 'f',
				     [VTDM_Y_DESC] = 'd', [VTDM_Y_LOOKUP] = 'l' };
	struct hk *h = ctx;

	lock_is_free(h);
	if (h->npt < MAX_POINTS)
		h->pt[h->npt++] = *p;
	note(h, kind[p->where]);
	if (p->where == VTDM_Y_DESC && ++h->desc_depth > h->desc_depth_max)
		h->desc_depth_max = h->desc_depth;
	if (h->act && !h->acted && h->match(h, p)) {
		h->acted = true;
		h->act(h, p);
	}
	if (p->where == VTDM_Y_DESC)
		h->desc_depth--;
}

static void on_begin(void *ctx, const struct vtdm_access *a)
{
	struct hk *h = ctx;

	lock_is_free(h);
	note(h, 'B');
	if (h->nacc < MAX_ACCESS)
		h->acc[h->nacc++].a = *a;
}

static bool same_access(const struct vtdm_access *a, const struct vtdm_access *b)
{
	return a->sid == b->sid && a->pasid == b->pasid && a->iova == b->iova &&
	       a->write == b->write && a->ats == b->ats;
}

static bool same_xlate(const struct vtdm_xlate *a, const struct vtdm_xlate *b)
{
	return a->fault == b->fault && a->recorded == b->recorded && a->pa == b->pa &&
	       a->page_size == b->page_size && a->r == b->r && a->w == b->w &&
	       a->from_atc == b->from_atc;
}

static void on_end(void *ctx, const struct vtdm_access *a, const struct vtdm_xlate *x)
{
	struct hk *h = ctx;
	unsigned i = h->nacc;

	lock_is_free(h);
	note(h, 'E');
	/* A page's end is its begin's, the latest still open (a hook may nest requests). */
	while (i && h->acc[i - 1].ended)
		i--;
	if (!i) {
		EXPECT_TRUE(false);	/* an end without its begin */
		return;
	}
	EXPECT_TRUE(same_access(&h->acc[i - 1].a, a));
	h->acc[i - 1].x = *x;
	h->acc[i - 1].ended = true;
}

static void hk_on(struct hk *h)
{
	vtdm_set_hooks(h->e->m, &(struct vtdm_hooks){ on_yield, on_begin, on_end, h });
}

/* Forget what was seen; the injected action is armed again. */
static void hk_reset(struct hk *h, hk_match_fn *match, hk_act_fn *act)
{
	h->npt = h->nlog = h->nacc = h->nseen = 0;
	memset(h->log, 0, sizeof(h->log));
	memset(h->acc, 0, sizeof(h->acc));
	h->match = match;
	h->act = act;
	h->acted = h->armed = false;
	h->desc_depth_max = 0;
}

static int dma_rd(struct hwenv *e, uint16_t sid, uint64_t iova, uint64_t *val,
		  struct vtdm_xlate *x)
{
	*val = 0;
	return hw_dma_rd64(e, sid, VTD_NO_PASID, iova, val, x);
}

FIXTURE(hooks) {
	struct hwenv e;
	struct hk h;
};

FIXTURE_VARIANT(hooks) {
	const char *keys;
};

FIXTURE_VARIANT_ADD(hooks, exact) { "caching=exact,dt=1" };
FIXTURE_VARIANT_ADD(hooks, adversarial) { "caching=adversarial,dt=1" };

FIXTURE_SETUP(hooks)
{
	struct hwenv *e = &self->e;
	struct hk *h = &self->h;

	xl_boot(e, variant->keys, NULL, false);
	hw_add_device(e, "00:02.0,ats=1");
	h->e = e;
	hw_ctx(e, 0, SID_A, DID_A, 4, CTX_TT_UNTRANSLATED, &h->root);
	hw_ctx(e, 0, SID_ATS, DID_ATS, 4, CTX_TT_DEVTLB, &h->root_ats);
	xl_stamp(e, PA_4K(0), VAL_A);
	xl_stamp(e, PA_4K(1), VAL_B);
	xl_stamp(e, PA_4K(2), VAL_C);
	hw_map_ss(e, h->root, 4, IOVA_A, PA_4K(0), SZ_4K, HW_PERM_RW);
	hw_map_ss(e, h->root, 4, IOVA_B, PA_4K(1), SZ_4K, HW_PERM_RW);
	hw_map_ss(e, h->root, 4, IOVA_C, PA_4K(2), SZ_4K, HW_PERM_RW);
	hw_map_ss(e, h->root, 4, IOVA_M, RAM_END, SZ_4K, HW_PERM_RW);
	hw_map_ss(e, h->root_ats, 4, IOVA_A, PA_4K(0), SZ_4K, HW_PERM_RW);
}

FIXTURE_TEARDOWN(hooks)
{
	hw_fini(&self->e);
}

/*
 * The points of a first DMA (every cache cold) in order: the lookup, the
 * root and context entries, the context fill, then each level's entry and
 * its fill. A second DMA hits the IOTLB: the lookup alone. A queued
 * invalidation yields once per descriptor.
 */
TEST_F(hooks, yield_points_of_a_walk)
{
	struct hwenv *e = &self->e;
	struct hk *h = &self->h;
	uint64_t re = xl_root_addr(e, SID_A), ce = hw_ctx_addr(e, 0, SID_A), v;
	struct vtdm_xlate x;
	struct {
		enum vtdm_yield_point where;
		uint64_t addr;
	} want[] = {
		{ VTDM_Y_LOOKUP, 0 },
		{ VTDM_Y_WALK_STEP, re }, { VTDM_Y_WALK_STEP, re + 8 },
		{ VTDM_Y_WALK_STEP, ce }, { VTDM_Y_WALK_STEP, ce + 8 },
		{ VTDM_Y_CACHE_FILL, 0 },
		{ VTDM_Y_WALK_STEP, hw_pte_addr(e, h->root, 4, IOVA_A, 4, false) },
		{ VTDM_Y_CACHE_FILL, 0 },
		{ VTDM_Y_WALK_STEP, hw_pte_addr(e, h->root, 4, IOVA_A, 3, false) },
		{ VTDM_Y_CACHE_FILL, 0 },
		{ VTDM_Y_WALK_STEP, hw_pte_addr(e, h->root, 4, IOVA_A, 2, false) },
		{ VTDM_Y_CACHE_FILL, 0 },
		{ VTDM_Y_WALK_STEP, hw_pte_addr(e, h->root, 4, IOVA_A, 1, false) },
		{ VTDM_Y_CACHE_FILL, 0 },
	};

	hk_on(h);
	hk_reset(h, NULL, NULL);
	ASSERT_EQ(0, dma_rd(e, SID_A, IOVA_A, &v, &x));
	EXPECT_EQ(VAL_A, v);
	ASSERT_EQ(ARRAY_SIZE(want), h->npt);
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
		EXPECT_EQ(want[i].where, h->pt[i].where);
		EXPECT_EQ(want[i].addr, h->pt[i].addr);
		EXPECT_EQ(0, h->pt[i].unit);
		EXPECT_EQ(SID_A, h->pt[i].sid);
	}

	hk_reset(h, NULL, NULL);
	ASSERT_EQ(0, dma_rd(e, SID_A, IOVA_A, &v, &x));
	EXPECT_STREQ("BlE", h->log);

	hk_reset(h, NULL, NULL);
	xl_inv(e, xl_psi(DID_A, IOVA_U, 0, false));	/* PSI + wait */
	EXPECT_STREQ("dd", h->log);
	for (unsigned i = 0; i < h->npt; i++) {
		EXPECT_EQ(0, h->pt[i].sid);
		EXPECT_EQ(0, h->pt[i].addr);
	}
}

/* ---- (a) A hook calls back into the model ---- */

static bool at_addr(struct hk *h, const struct vtdm_point *p)
{
	return p->where == VTDM_Y_WALK_STEP && p->addr == h->at;
}

static void read_and_dma(struct hk *h, const struct vtdm_point *p)
{
	struct vtdm_xlate x;

	(void)p;
	EXPECT_TRUE(hw_reg32(h->e, 0, DMAR_GSTS_REG) & GSTS_TES);
	h->ret = dma_rd(h->e, SID_A, IOVA_C, &h->val, &x);
}

/*
 * At the walk step that reads the leaf of one DMA, the hook reads a
 * register and runs a whole other DMA: no deadlock, both complete.
 */
TEST_F(hooks, callback_at_walk_step)
{
	struct hwenv *e = &self->e;
	struct hk *h = &self->h;
	struct vtdm_xlate x;
	uint64_t v;

	hk_on(h);
	hk_reset(h, at_addr, read_and_dma);
	h->at = hw_pte_addr(e, h->root, 4, IOVA_A, 1, false);
	ASSERT_EQ(0, dma_rd(e, SID_A, IOVA_A, &v, &x));
	EXPECT_TRUE(h->acted);
	EXPECT_EQ(VAL_A, v);
	EXPECT_EQ(0, h->ret);
	EXPECT_EQ(VAL_C, h->val);
	/* The inner DMA's page began and ended inside the outer one's. */
	ASSERT_EQ(2, h->nacc);
	EXPECT_EQ(IOVA_A, h->acc[0].a.iova);
	EXPECT_EQ(IOVA_C, h->acc[1].a.iova);
	EXPECT_EQ(PA_4K(0), h->acc[0].x.pa);
	EXPECT_EQ(PA_4K(2), h->acc[1].x.pa);
	EXPECT_EQ('B', h->log[0]);
	EXPECT_EQ('E', h->log[h->nlog - 1]);
	/* Both translations were cached: neither request overlapped an invalidation. */
	hk_reset(h, NULL, NULL);
	EXPECT_EQ(VAL_A, xl_rd(e, SID_A, VTD_NO_PASID, IOVA_A, NULL));
	EXPECT_EQ(VAL_C, xl_rd(e, SID_A, VTD_NO_PASID, IOVA_C, NULL));
	EXPECT_STREQ("BlEBlE", h->log);
}

/* ---- (b) A walk paused across an invalidation caches nothing ---- */

/* Software unlinks the leaf table of IOVA_A and B, then invalidates and waits. */
static void unlink_and_flush(struct hk *h, const struct vtdm_point *p)
{
	(void)p;
	xl_put(h->e, hw_pte_addr(h->e, h->root, 4, IOVA_A, 2, false), 0);
	h->ret = _hw_inv_iotlb_psi(h->e, 0, DID_A, IOVA_A, 9, false);
}

/*
 * The DMA is paused just before it reads the leaf entry of IOVA_A; meanwhile
 * software clears the entry that points at that leaf table, queues a PSI
 * and sees its wait complete. The paused request is in flight and ends
 * with the translation it walked; but what it walked must not be cached
 * (nor, adversarial, its neighbours prefetched from the unlinked table):
 * new DMAs to IOVA_A and IOVA_B fault.
 */
TEST_F(hooks, paused_walk_across_unmap)
{
	struct hwenv *e = &self->e;
	struct hk *h = &self->h;
	struct vtdm_xlate x;
	uint64_t v, fills;

	hk_on(h);
	hk_reset(h, at_addr, unlink_and_flush);
	h->at = hw_pte_addr(e, h->root, 4, IOVA_A, 1, false);
	fills = xl_stat(e, "iotlb.fill");
	ASSERT_EQ(0, dma_rd(e, SID_A, IOVA_A, &v, &x));
	ASSERT_TRUE(h->acted);
	ASSERT_EQ(0, h->ret);
	EXPECT_EQ(VAL_A, v);
	EXPECT_EQ(fills, xl_stat(e, "iotlb.fill"));

	EXPECT_EQ(1, dma_rd(e, SID_A, IOVA_A, &v, &x));
	EXPECT_EQ(FR_READ, x.fault);
	EXPECT_EQ(1, dma_rd(e, SID_A, IOVA_B, &v, &x));
	EXPECT_EQ(FR_READ, x.fault);
}

/* Arm at the walk step of the leaf; fire at the fill that follows it. */
static bool fill_after_addr(struct hk *h, const struct vtdm_point *p)
{
	if (p->where == VTDM_Y_WALK_STEP && p->addr == h->at)
		h->armed = true;
	return h->armed && p->where == VTDM_Y_CACHE_FILL;
}

static void clear_and_flush(struct hk *h, const struct vtdm_point *p)
{
	(void)p;
	xl_put(h->e, hw_pte_addr(h->e, h->root, 4, IOVA_A, 1, false), 0);
	h->ret = _hw_inv_iotlb_psi(h->e, 0, DID_A, IOVA_A, 0, false);
}

/*
 * The same at the IOTLB fill: the leaf was read present, then cleared and
 * invalidated before the fill. The fill is dropped.
 */
TEST_F(hooks, paused_fill_across_unmap)
{
	struct hwenv *e = &self->e;
	struct hk *h = &self->h;
	struct vtdm_xlate x;
	uint64_t v;

	hk_on(h);
	hk_reset(h, fill_after_addr, clear_and_flush);
	h->at = hw_pte_addr(e, h->root, 4, IOVA_A, 1, false);
	ASSERT_EQ(0, dma_rd(e, SID_A, IOVA_A, &v, &x));
	ASSERT_TRUE(h->acted);
	ASSERT_EQ(0, h->ret);
	EXPECT_EQ(VAL_A, v);
	EXPECT_EQ(1, dma_rd(e, SID_A, IOVA_A, &v, &x));
	EXPECT_EQ(FR_READ, x.fault);
	/* IOVA_B's translation is untouched and still works. */
	EXPECT_EQ(VAL_B, xl_rd(e, SID_A, VTD_NO_PASID, IOVA_B, NULL));
}

static bool first_fill(struct hk *h, const struct vtdm_point *p)
{
	(void)h;
	return p->where == VTDM_Y_CACHE_FILL && p->sid == SID_ATS;
}

static void unmap_ats_and_flush(struct hk *h, const struct vtdm_point *p)
{
	struct vtd_desc d[2] = { hw_desc(xl_psi(DID_ATS, IOVA_A, 0, false)),
				 hw_desc(xl_devtlb(SID_ATS, VTD_NO_PASID, false, IOVA_A, 0)) };

	(void)p;
	xl_put(h->e, hw_pte_addr(h->e, h->root_ats, 4, IOVA_A, 1, false), 0);
	h->ret = _hw_qi(h->e, 0, d, 2, true);
}

/*
 * Device side: the unit answers a translation request from its IOTLB;
 * before the device stores the answer, software unmaps, invalidates the
 * IOTLB and the device TLB and sees the wait complete. The answer is
 * still returned, but the device must not keep it: the next DMA asks
 * again and faults.
 */
TEST_F(hooks, ats_answer_overtaken_by_devtlb_inv)
{
	struct hwenv *e = &self->e;
	struct hk *h = &self->h;
	struct vtdm_xlate x;
	uint64_t v, fills;

	/* Warm the IOTLB, and empty the device TLB again. */
	ASSERT_EQ(0, vtdm_ats_translate(e->m, SID_ATS, VTD_NO_PASID, IOVA_A, &x));
	ASSERT_TRUE(x.r);
	xl_inv(e, xl_devtlb(SID_ATS, VTD_NO_PASID, false, IOVA_A, 0));

	hk_on(h);
	hk_reset(h, first_fill, unmap_ats_and_flush);
	fills = xl_stat(e, "dev.00:02.0.atc.fill");
	ASSERT_EQ(0, vtdm_ats_translate(e->m, SID_ATS, VTD_NO_PASID, IOVA_A, &x));
	ASSERT_TRUE(h->acted);
	ASSERT_EQ(0, h->ret);
	EXPECT_TRUE(x.r && x.w);
	EXPECT_EQ(PA_4K(0), x.pa);
	EXPECT_STREQ("BlfdddE", h->log);	/* PSI, device TLB, wait */
	EXPECT_EQ(fills, xl_stat(e, "dev.00:02.0.atc.fill"));

	EXPECT_EQ(1, dma_rd(e, SID_ATS, IOVA_A, &v, &x));
	EXPECT_EQ(FR_READ, x.fault);
	EXPECT_FALSE(x.from_atc);
}

/* ---- (c) One queue runner; descriptors queued at its yields ---- */

static bool first_desc(struct hk *h, const struct vtdm_point *p)
{
	(void)h;
	return p->where == VTDM_Y_DESC;
}

static struct vtd_desc wait_at(uint64_t addr, uint32_t data)
{
	return hw_desc((struct vtd_desc_fields){ .type = DESC_WAIT, .sw = true, .sdata = data,
						 .addr = addr });
}

static unsigned statuses(struct hk *h)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 3; i++)
		n += hw_rd32(h->e, h->status + 4 * i) == i + 1;
	return n;
}

static void queue_more(struct hk *h, const struct vtdm_point *p)
{
	struct vtd_desc dsi = hw_desc((struct vtd_desc_fields){ .type = DESC_IOTLB,
								.g = IOTLB_G_DSI, .did = DID_A });
	struct vtd_desc w2 = wait_at(h->status + 4, 2), w3 = wait_at(h->status + 8, 3);
	unsigned iqh = hw_iqh(h->e, 0);

	(void)p;
	hw_qi_put(h->e, 0, &w2);
	hw_qi_put(h->e, 0, &dsi);
	hw_qi_put(h->e, 0, &w3);
	hw_qi_kick(h->e, 0);
	/* The runner is paused here: the IQT write left the queue to it. */
	EXPECT_EQ(iqh, hw_iqh(h->e, 0));
	EXPECT_EQ(0, statuses(h));
}

static void count_statuses(void *ctx, const struct vtdm_point *p)
{
	struct hk *h = ctx;

	on_yield(ctx, p);
	if (p->where == VTDM_Y_DESC && h->nseen < ARRAY_SIZE(h->seen))
		h->seen[h->nseen++] = statuses(h);
}

/*
 * At the first descriptor's yield software queues three more and moves
 * IQT. The nested run returns at once; the paused runner takes the new
 * ones in order: each processed once, every status written, each wait
 * after the ones before it.
 */
TEST_F(hooks, qi_reentrant_tail_move)
{
	struct hwenv *e = &self->e;
	struct hk *h = &self->h;
	struct vtd_desc w1;
	uint64_t desc = xl_stat(e, "desc"), waits = xl_stat(e, "wait.done");
	static const unsigned want_seen[4] = { 0, 1, 2, 2 };

	h->status = hw_alloc(e);
	w1 = wait_at(h->status, 1);
	vtdm_set_hooks(e->m, &(struct vtdm_hooks){ .yield = count_statuses, .ctx = h });
	hk_reset(h, first_desc, queue_more);
	hw_qi_put(e, 0, &w1);
	hw_qi_kick(e, 0);
	ASSERT_TRUE(h->acted);
	EXPECT_EQ(3, statuses(h));
	EXPECT_EQ(desc + 4, xl_stat(e, "desc"));
	EXPECT_EQ(waits + 3, xl_stat(e, "wait.done"));
	EXPECT_EQ(1, xl_stat(e, "desc.iotlb.dsi"));
	EXPECT_EQ(e->u[0].tail, hw_iqh(e, 0));
	EXPECT_EQ(0, hw_reg32(e, 0, DMAR_FSTS_REG));
	EXPECT_STREQ("dddd", h->log);
	EXPECT_EQ(1, h->desc_depth_max);
	ASSERT_EQ(4, h->nseen);
	for (unsigned i = 0; i < 4; i++)
		EXPECT_EQ(want_seen[i], h->seen[i]);

	/* The queue is idle and runs on its own again. */
	hk_reset(h, NULL, NULL);
	xl_inv(e, xl_psi(DID_A, IOVA_A, 0, false));
	EXPECT_EQ(desc + 6, xl_stat(e, "desc"));
}

/* ---- (d) The access hooks ---- */

/*
 * One begin and one end per page, around the page's lookup, with the
 * page's own address and outcome: a write across two pages, a read whose
 * third page faults (the DMA stops there), a DMA to an address beyond
 * RAM (master abort), translation requests (one mapped, one not) and a
 * DMA the device TLB serves.
 */
TEST_F(hooks, access_hooks)
{
	struct hwenv *e = &self->e;
	struct hk *h = &self->h;
	uint8_t buf[3 * SZ_4K] = { 0 };
	struct vtdm_xlate x;

	/* Warm: each page below walks once, so the log shows lookups only. */
	xl_pa(e, SID_A, VTD_NO_PASID, IOVA_A);
	xl_pa(e, SID_A, VTD_NO_PASID, IOVA_B);
	hk_on(h);

	hk_reset(h, NULL, NULL);
	ASSERT_EQ(0, vtdm_dma(e->m, SID_A, VTD_NO_PASID, IOVA_A + 0xff8, buf, 16, true, &x));
	EXPECT_STREQ("BlEBlE", h->log);
	ASSERT_EQ(2, h->nacc);
	for (unsigned i = 0; i < 2; i++) {
		EXPECT_TRUE(h->acc[i].ended);
		EXPECT_EQ(SID_A, h->acc[i].a.sid);
		EXPECT_EQ(VTD_NO_PASID, h->acc[i].a.pasid);
		EXPECT_TRUE(h->acc[i].a.write);
		EXPECT_FALSE(h->acc[i].a.ats);
		EXPECT_EQ(0, h->acc[i].x.fault);
		EXPECT_TRUE(h->acc[i].x.w);
		EXPECT_EQ(SZ_4K, h->acc[i].x.page_size);
	}
	EXPECT_EQ(IOVA_A + 0xff8, h->acc[0].a.iova);
	EXPECT_EQ(PA_4K(0) + 0xff8, h->acc[0].x.pa);
	EXPECT_EQ(IOVA_B, h->acc[1].a.iova);
	EXPECT_EQ(PA_4K(1), h->acc[1].x.pa);

	hk_reset(h, NULL, NULL);
	xl_clear_faults(e);
	ASSERT_EQ(1, vtdm_dma(e->m, SID_A, VTD_NO_PASID, IOVA_A, buf, sizeof(buf), false, &x));
	ASSERT_EQ(3, h->nacc);
	EXPECT_EQ(IOVA_B + SZ_4K, h->acc[2].a.iova);
	EXPECT_FALSE(h->acc[2].a.write);
	EXPECT_EQ(0, h->acc[0].x.fault);
	EXPECT_EQ(0, h->acc[1].x.fault);
	EXPECT_EQ(FR_READ, h->acc[2].x.fault);
	EXPECT_TRUE(h->acc[2].x.recorded);
	EXPECT_TRUE(same_xlate(&x, &h->acc[2].x));

	hk_reset(h, NULL, NULL);
	ASSERT_EQ(1, vtdm_dma(e->m, SID_A, VTD_NO_PASID, IOVA_M + 8, buf, 8, false, &x));
	ASSERT_EQ(1, h->nacc);
	EXPECT_EQ(IOVA_M + 8, h->acc[0].a.iova);
	EXPECT_EQ(VTDM_MASTER_ABORT, h->acc[0].x.fault);
	EXPECT_EQ(RAM_END + 8, h->acc[0].x.pa);
	EXPECT_EQ(VTDM_MASTER_ABORT, x.fault);

	hk_reset(h, NULL, NULL);
	ASSERT_EQ(0, vtdm_ats_translate(e->m, SID_ATS, VTD_NO_PASID, IOVA_A + 0x123, &x));
	ASSERT_EQ(1, h->nacc);
	EXPECT_EQ(SID_ATS, h->acc[0].a.sid);
	EXPECT_EQ(IOVA_A + 0x123, h->acc[0].a.iova);
	EXPECT_TRUE(h->acc[0].a.ats);
	EXPECT_FALSE(h->acc[0].a.write);
	EXPECT_TRUE(h->acc[0].x.r && h->acc[0].x.w);
	EXPECT_EQ(PA_4K(0) + 0x123, h->acc[0].x.pa);
	EXPECT_EQ('B', h->log[0]);
	EXPECT_EQ('l', h->log[1]);
	EXPECT_EQ('E', h->log[h->nlog - 1]);

	/* Not mapped: R=W=0, no fault (VT-d 4.2.3). */
	hk_reset(h, NULL, NULL);
	ASSERT_EQ(0, vtdm_ats_translate(e->m, SID_ATS, VTD_NO_PASID, IOVA_U, &x));
	ASSERT_EQ(1, h->nacc);
	EXPECT_EQ(0, h->acc[0].x.fault);
	EXPECT_FALSE(h->acc[0].x.r || h->acc[0].x.w);

	hk_reset(h, NULL, NULL);
	ASSERT_EQ(0, vtdm_dma(e->m, SID_ATS, VTD_NO_PASID, IOVA_A, buf, 8, false, &x));
	ASSERT_EQ(1, h->nacc);
	EXPECT_FALSE(h->acc[0].a.ats);
	EXPECT_TRUE(h->acc[0].x.from_atc);
	EXPECT_EQ(PA_4K(0), h->acc[0].x.pa);
	EXPECT_STREQ("BlE", h->log);
}

/* ---- (e) Hooks that do nothing change nothing ---- */

struct counters {
	char name[512][48];
	uint64_t val[512];
	unsigned n;
};

static void collect(void *ctx, const char *name, uint64_t val)
{
	struct counters *c = ctx;

	if (c->n < ARRAY_SIZE(c->val)) {
		snprintf(c->name[c->n], sizeof(c->name[0]), "%s", name);
		c->val[c->n++] = val;
	}
}

static atomic_uint idle_calls;

static void idle_yield(void *ctx, const struct vtdm_point *p)
{
	(void)ctx;
	(void)p;
	atomic_fetch_add(&idle_calls, 1);
}

static void idle_begin(void *ctx, const struct vtdm_access *a)
{
	(void)ctx;
	(void)a;
	atomic_fetch_add(&idle_calls, 1);
}

static void idle_end(void *ctx, const struct vtdm_access *a, const struct vtdm_xlate *x)
{
	(void)ctx;
	(void)a;
	(void)x;
	atomic_fetch_add(&idle_calls, 1);
}

/* Hits, walks, a stale hit, invalidations, faults, ATS: every path once. */
static void workload(struct hk *h, uint64_t out[6])
{
	struct hwenv *e = h->e;
	struct vtdm_xlate x;

	out[0] = xl_rd(e, SID_A, VTD_NO_PASID, IOVA_A, NULL);
	out[1] = xl_rd(e, SID_A, VTD_NO_PASID, IOVA_A, NULL);
	/* Retarget without invalidating: the cached translation is still used. */
	xl_put(e, hw_pte_addr(e, h->root, 4, IOVA_A, 1, false), PA_4K(2) | SSPTE_R | SSPTE_W);
	out[2] = xl_rd(e, SID_A, VTD_NO_PASID, IOVA_A, NULL);
	xl_inv(e, xl_psi(DID_A, IOVA_A, 0, false));
	out[3] = xl_rd(e, SID_A, VTD_NO_PASID, IOVA_A, NULL);
	out[4] = (uint64_t)dma_rd(e, SID_A, IOVA_U, &out[5], &x) << 32 | (unsigned)x.fault;
	vtdm_ats_translate(e->m, SID_ATS, VTD_NO_PASID, IOVA_A, &x);
	xl_rd(e, SID_ATS, VTD_NO_PASID, IOVA_A, NULL);
	xl_inv(e, xl_devtlb(SID_ATS, VTD_NO_PASID, false, IOVA_A, 0));
	out[5] = xl_rd(e, SID_ATS, VTD_NO_PASID, IOVA_A, NULL);
}

/*
 * The same workload on this machine without hooks and on a second one
 * whose hooks only count: the same values, every counter and the virtual
 * time equal. And the values are the model's usual ones (a stale IOTLB
 * hit until the PSI).
 */
TEST_F(hooks, idle_hooks_change_nothing)
{
	struct hwenv e2 = { 0 };
	struct hk h2 = { 0 };
	uint64_t out1[6], out2[6];
	static struct counters c1, c2;

	workload(&self->h, out1);
	EXPECT_EQ(VAL_A, out1[0]);
	EXPECT_EQ(VAL_A, out1[1]);
	EXPECT_EQ(VAL_A, out1[2]);
	EXPECT_EQ(VAL_C, out1[3]);
	EXPECT_EQ(1ULL << 32 | FR_READ, out1[4]);
	EXPECT_EQ(VAL_A, out1[5]);
	vtdm_stats_foreach(self->e.m, collect, &c1);

	h2.e = &e2;
	xl_boot(&e2, variant->keys, NULL, false);
	hw_add_device(&e2, "00:02.0,ats=1");
	vtdm_set_hooks(e2.m, &(struct vtdm_hooks){ idle_yield, idle_begin, idle_end, NULL });
	hw_ctx(&e2, 0, SID_A, DID_A, 4, CTX_TT_UNTRANSLATED, &h2.root);
	hw_ctx(&e2, 0, SID_ATS, DID_ATS, 4, CTX_TT_DEVTLB, &h2.root_ats);
	xl_stamp(&e2, PA_4K(0), VAL_A);
	xl_stamp(&e2, PA_4K(1), VAL_B);
	xl_stamp(&e2, PA_4K(2), VAL_C);
	hw_map_ss(&e2, h2.root, 4, IOVA_A, PA_4K(0), SZ_4K, HW_PERM_RW);
	hw_map_ss(&e2, h2.root, 4, IOVA_B, PA_4K(1), SZ_4K, HW_PERM_RW);
	hw_map_ss(&e2, h2.root, 4, IOVA_C, PA_4K(2), SZ_4K, HW_PERM_RW);
	hw_map_ss(&e2, h2.root, 4, IOVA_M, RAM_END, SZ_4K, HW_PERM_RW);
	hw_map_ss(&e2, h2.root_ats, 4, IOVA_A, PA_4K(0), SZ_4K, HW_PERM_RW);
	workload(&h2, out2);
	vtdm_stats_foreach(e2.m, collect, &c2);
	hw_fini(&e2);

	EXPECT_GT(atomic_load(&idle_calls), 20);
	EXPECT_EQ(0, memcmp(out1, out2, sizeof(out1)));
	ASSERT_EQ(c1.n, c2.n);
	for (unsigned i = 0; i < c1.n; i++) {
		EXPECT_STREQ(c1.name[i], c2.name[i]);
		if (c1.val[i] != c2.val[i])
			TH_LOG("%s: %llu without hooks, %llu with", c1.name[i],
			       (unsigned long long)c1.val[i], (unsigned long long)c2.val[i]);
		EXPECT_EQ(c1.val[i], c2.val[i]);
	}
}

/* ---- Threads: the hooks let other threads in ---- */

static void let_others_run(void *ctx, const struct vtdm_point *p)
{
	(void)ctx;
	(void)p;
	sched_yield();
}

static atomic_uint pages_seen;

static void count_end(void *ctx, const struct vtdm_access *a, const struct vtdm_xlate *x)
{
	(void)ctx;
	(void)a;
	(void)x;
	atomic_fetch_add(&pages_seen, 1);
}

struct dma_thread {
	struct hwenv *e;
	unsigned bad;
};

static void *dma_loop(void *arg)
{
	struct dma_thread *t = arg;

	for (unsigned i = 0; i < 2000; i++) {
		struct vtdm_xlate x;
		uint64_t v = 0;

		if (hw_dma_rd64(t->e, SID_A, VTD_NO_PASID, (i & 1) ? IOVA_B : IOVA_A, &v, &x) ||
		    v != ((i & 1) ? VAL_B : VAL_A))
			t->bad++;
	}
	return NULL;
}

/*
 * A thread doing DMA while this one queues invalidations: every hook runs
 * unlocked, so each side progresses at the other's yields; every DMA
 * sees the mapping (which never changes) and every wait completes.
 */
TEST_F(hooks, threads_dma_and_queue)
{
	struct hwenv *e = &self->e;
	struct dma_thread t = { e, 0 };
	uint64_t desc = xl_stat(e, "desc");
	pthread_t th;

	atomic_store(&pages_seen, 0);	/* -n runs every variant in one process */
	vtdm_set_hooks(e->m, &(struct vtdm_hooks){ .yield = let_others_run,
						   .access_end = count_end });
	ASSERT_EQ(0, pthread_create(&th, NULL, dma_loop, &t));
	for (unsigned i = 0; i < 200; i++)
		EXPECT_EQ(0, _hw_inv_iotlb_psi(e, 0, DID_A, (i & 1) ? IOVA_B : IOVA_A, 0, false));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, t.bad);
	EXPECT_EQ(2000, atomic_load(&pages_seen));
	EXPECT_EQ(desc + 400, xl_stat(e, "desc"));
}
