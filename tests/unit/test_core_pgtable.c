/*
 * test_core_pgtable.c — libvtd's I/O page tables on their own: leaves of
 * every size in both formats and at every depth with their exact bits,
 * -EEXIST and -EINVAL leaving no trace, superpage split and merge, table
 * pages gathered rather than freed, -ENOMEM rolled back, clflush and write
 * order, and random map/unmap checked against a per-page reference.
 */
#include <errno.h>
#include <stdlib.h>
#include "harness.h"
#include "core/internal.h"
#include "fmt/pte.h"
#include "host/host.h"

#define POOL_BASE	(64ULL << 20)	/* table pages come from here */
#define POOL_SIZE	(64ULL << 20)
#define SZ_4K		PGSIZE_4K
#define SZ_2M		PGSIZE_2M
#define SZ_1G		PGSIZE_1G
#define R		VTD_PERM_R
#define W		VTD_PERM_W
#define RW		VTD_PERM_RW

/*
 * The host's ops with a spy in front of page_alloc, mem_write64, clflush
 * and yield: it counts, optionally logs, and can make allocations fail.
 * One static instance, reset in teardown (tests may share a process: -n).
 */
struct spy_rec {
	char kind;		/* 'w' entry write, 'f' clflush */
	uint64_t pa, val;
};

static struct spy {
	const struct vtd_ops *host;
	struct vtd_ops ops;
	long alloc_budget;	/* allocations left before -ENOMEM; < 0: no limit */
	uint64_t writes, clflushes, yields, allocs;
	bool logging;
	struct spy_rec *log;
	size_t nlog, caplog;
} spy;

static void spy_record(char kind, uint64_t pa, uint64_t val)
{
	if (!spy.logging)
		return;
	if (spy.nlog == spy.caplog) {
		spy.caplog = spy.caplog ? 2 * spy.caplog : 1024;
		spy.log = realloc(spy.log, spy.caplog * sizeof(*spy.log));
		if (!spy.log)
			abort();
	}
	spy.log[spy.nlog++] = (struct spy_rec){ kind, pa, val };
}

static int spy_page_alloc(void *ctx, uint64_t *pa)
{
	int ret;

	if (spy.alloc_budget == 0)
		return -ENOMEM;
	if (spy.alloc_budget > 0)
		spy.alloc_budget--;
	ret = spy.host->page_alloc(ctx, pa);
	if (!ret)
		spy.allocs++;
	return ret;
}

static void spy_mem_write64(void *ctx, uint64_t pa, uint64_t val)
{
	spy.writes++;
	spy_record('w', pa, val);
	spy.host->mem_write64(ctx, pa, val);
}

static void spy_clflush(void *ctx, uint64_t pa)
{
	spy.clflushes++;
	spy_record('f', pa, 0);
	spy.host->clflush(ctx, pa);
}

static void spy_yield(void *ctx, enum vtd_yield_point where, const void *obj)
{
	(void)ctx;
	(void)obj;
	if (where == VTD_Y_ENTRY_WRITE)
		spy.yields++;
}

/* One domain's tables over the host ops, with no unit: pgtable.c alone. */
struct pt_env {
	struct vtdm *m;
	struct vtd_host *h;
	struct vtd v;
	struct vtd_domain dom;
	struct vtd_gather g;		/* what unmaps gathered */
	struct vtd_gather freed;	/* what maps merged away */
};

static int pt_env_init(struct pt_env *e, enum vtd_stage stage, int levels)
{
	struct vtdm_machine_cfg mc;

	spy.host = vtd_host_ops();
	spy.ops = *spy.host;
	spy.ops.page_alloc = spy_page_alloc;
	spy.ops.mem_write64 = spy_mem_write64;
	spy.ops.clflush = spy_clflush;
	spy.ops.yield = spy_yield;
	spy.alloc_budget = -1;

	vtd_gather_init(&e->g);
	vtd_gather_init(&e->freed);
	vtdm_machine_cfg_default(&mc);
	e->m = vtdm_create(&mc);
	if (!e->m)
		return -ENOMEM;
	e->h = vtd_host_create(e->m, POOL_BASE, POOL_SIZE);
	if (!e->h)
		return -ENOMEM;
	e->v.ops = &spy.ops;
	e->v.ctx = e->h;
	e->dom.v = &e->v;
	e->dom.stage = stage;
	e->dom.levels = levels;
	e->dom.pgsizes = PGSIZE_4K | PGSIZE_2M | PGSIZE_1G;
	e->dom.coherent = true;
	e->dom.pt_lock = spy.ops.lock_new(e->h);
	if (!e->dom.pt_lock)
		return -ENOMEM;
	return pt_alloc_root(&e->dom);
}

static uint64_t pages_used(struct pt_env *e)
{
	return vtd_host_pages_used(e->h);
}

/* What the caller does with a gather once its invalidation completed. */
static void free_list(struct pt_env *e, struct vtd_gather *g)
{
	for (size_t i = 0; i < g->nfree; i++)
		spy.ops.page_free(e->h, g->freelist[i]);
	g->nfree = 0;
}

static void pt_env_fini(struct pt_env *e)
{
	if (e->h) {
		free_list(e, &e->g);
		free_list(e, &e->freed);
		if (e->dom.pgd)
			pt_free_all(&e->dom);
		/* Every table page is back: nothing leaked, nothing freed twice. */
		EXPECT_EQ(0, pages_used(e));
		EXPECT_EQ(0, e->dom.pgd);
	}
	vtd_gather_fini(&e->g);
	vtd_gather_fini(&e->freed);
	if (e->dom.pt_lock)
		spy.ops.lock_free(e->h, e->dom.pt_lock);
	vtd_host_destroy(e->h);
	vtdm_destroy(e->m);
	free(spy.log);
	/* -n runs every test in one process: leave no state for the next. */
	spy = (struct spy){ 0 };
}

/* ---- The calls under test, taken under pt_lock as the core takes them ---- */

static int _t_map(struct pt_env *e, uint64_t iova, uint64_t pa, uint64_t size, unsigned perm)
{
	int ret;

	spy.ops.lock(e->h, e->dom.pt_lock);
	ret = pt_map_locked(&e->dom, iova, pa, size, perm, &e->freed);
	spy.ops.unlock(e->h, e->dom.pt_lock);
	return ret;
}

#define t_map(e, iova, pa, size, perm)	ASSERT_EQ(0, _t_map(e, iova, pa, size, perm))

static uint64_t t_unmap(struct pt_env *e, uint64_t iova, uint64_t size, uint64_t *leaf)
{
	uint64_t done;

	spy.ops.lock(e->h, e->dom.pt_lock);
	done = pt_unmap_locked(&e->dom, iova, size, &e->g, leaf);
	spy.ops.unlock(e->h, e->dom.pt_lock);
	return done;
}

static int _t_lookup(struct pt_env *e, uint64_t iova, uint64_t *pa, unsigned *perm,
		     uint64_t *pgsize)
{
	int ret;

	spy.ops.lock(e->h, e->dom.pt_lock);
	ret = pt_lookup_locked(&e->dom, iova, pa, perm, pgsize);
	spy.ops.unlock(e->h, e->dom.pt_lock);
	return ret;
}

/* A first-stage entry cannot say write-only: present means readable. */
static unsigned want_perm(struct pt_env *e, unsigned perm)
{
	return e->dom.stage == VTD_STAGE_FIRST ? perm | R : perm;
}

static void expect_xlate(struct pt_env *e, uint64_t iova, uint64_t pa, unsigned perm,
			 uint64_t pgsize)
{
	uint64_t got_pa = 0, got_size = 0;
	unsigned got_perm = 0;

	ASSERT_EQ(0, _t_lookup(e, iova, &got_pa, &got_perm, &got_size));
	EXPECT_EQ(pa, got_pa);
	EXPECT_EQ(want_perm(e, perm), got_perm);
	EXPECT_EQ(pgsize, got_size);
	if (th_test_failed())
		TH_LOG("iova %#llx", (unsigned long long)iova);
}

static void expect_unmapped(struct pt_env *e, uint64_t iova)
{
	uint64_t pa, size;
	unsigned perm;

	EXPECT_EQ(-ENOENT, _t_lookup(e, iova, &pa, &perm, &size));
}

/* ---- The test's own reading of the tables, straight from memory ---- */

static uint64_t rd(struct pt_env *e, uint64_t pa)
{
	uint64_t val = 0;

	vtdm_read64(e->m, pa, &val);
	return val;
}

static bool tw_present(struct pt_env *e, uint64_t pte)
{
	if (e->dom.stage == VTD_STAGE_FIRST)
		return pte & FSPTE_P;
	return pte & (SSPTE_R | SSPTE_W);
}

static unsigned tw_perm(struct pt_env *e, uint64_t pte)
{
	if (e->dom.stage == VTD_STAGE_FIRST)
		return R | (pte & FSPTE_RW ? W : 0);
	return (pte & SSPTE_R ? R : 0) | (pte & SSPTE_W ? W : 0);
}

static unsigned tw_shift(int level)
{
	return 12 + 9 * (unsigned)(level - 1);
}

/* Address of the entry at @level on @iova's walk; 0 if the walk stops above. */
static uint64_t tw_slot(struct pt_env *e, uint64_t iova, int level)
{
	uint64_t table = e->dom.pgd;

	for (int l = e->dom.levels;; l--) {
		uint64_t slot = table + 8 * ((iova >> tw_shift(l)) & 511);
		uint64_t pte = rd(e, slot);

		if (l == level)
			return slot;
		if (!tw_present(e, pte) || (pte & SSPTE_PS))
			return 0;
		table = pte & SSPTE_ADDR;
	}
}

/* The entry where @iova's walk stops (a leaf, or not present) and its level. */
static uint64_t tw_walk(struct pt_env *e, uint64_t iova, int *level)
{
	uint64_t table = e->dom.pgd, pte;

	for (*level = e->dom.levels;; --*level) {
		pte = rd(e, table + 8 * ((iova >> tw_shift(*level)) & 511));
		if (!tw_present(e, pte) || *level == 1 || (pte & SSPTE_PS))
			return pte;
		table = pte & SSPTE_ADDR;
	}
}

/* Non-leaf entries grant everything (9.7, 9.8). */
static uint64_t want_table_bits(struct pt_env *e)
{
	if (e->dom.stage == VTD_STAGE_FIRST)
		return FSPTE_P | FSPTE_RW | FSPTE_US;
	return SSPTE_R | SSPTE_W;
}

/* Every non-leaf entry above @level on @iova's walk points into the pool. */
static void expect_table_entries(struct pt_env *e, uint64_t iova, int level)
{
	for (int l = e->dom.levels; l > level; l--) {
		uint64_t pte = rd(e, tw_slot(e, iova, l));

		EXPECT_EQ(want_table_bits(e), pte & ~SSPTE_ADDR);
		EXPECT_GE(pte & SSPTE_ADDR, POOL_BASE);
		EXPECT_LT(pte & SSPTE_ADDR, POOL_BASE + POOL_SIZE);
	}
}

/* ---- The fixture: every format and depth ---- */

FIXTURE(core_pt) {
	struct pt_env e;
};

FIXTURE_VARIANT(core_pt) {
	enum vtd_stage stage;
	int levels;
};

/* First-stage translation is 4- or 5-level IA-32e paging only (9.7). */
FIXTURE_VARIANT_ADD(core_pt, ss3) { VTD_STAGE_SECOND, 3 };
FIXTURE_VARIANT_ADD(core_pt, ss4) { VTD_STAGE_SECOND, 4 };
FIXTURE_VARIANT_ADD(core_pt, ss5) { VTD_STAGE_SECOND, 5 };
FIXTURE_VARIANT_ADD(core_pt, fs4) { VTD_STAGE_FIRST, 4 };
FIXTURE_VARIANT_ADD(core_pt, fs5) { VTD_STAGE_FIRST, 5 };

FIXTURE_SETUP(core_pt)
{
	ASSERT_EQ(0, pt_env_init(&self->e, variant->stage, variant->levels));
}

FIXTURE_TEARDOWN(core_pt)
{
	pt_env_fini(&self->e);
}

TEST_F(core_pt, map_and_lookup_each_leaf_size)
{
	struct pt_env *e = &self->e;
	/* A first-stage domain has the lower canonical half only. */
	uint64_t top = 1ULL << (pt_levels_width(variant->levels) -
				(variant->stage == VTD_STAGE_FIRST));

	t_map(e, 0x1000, 0x5000, SZ_4K, R);
	t_map(e, SZ_2M, 2 * SZ_1G, SZ_2M, RW);
	t_map(e, SZ_1G, 4 * SZ_1G, SZ_1G, W);
	t_map(e, top - SZ_1G, 8 * SZ_1G, SZ_1G, RW);	/* the last 1G of the space */

	expect_xlate(e, 0x1123, 0x5123, R, SZ_4K);
	expect_xlate(e, SZ_2M, 2 * SZ_1G, RW, SZ_2M);
	expect_xlate(e, SZ_2M + 0x12345, 2 * SZ_1G + 0x12345, RW, SZ_2M);
	expect_xlate(e, SZ_1G + 0x2345678, 4 * SZ_1G + 0x2345678, W, SZ_1G);
	expect_xlate(e, top - 8, 9 * SZ_1G - 8, RW, SZ_1G);
	expect_unmapped(e, 0);
	expect_unmapped(e, 0x2000);
	expect_unmapped(e, 2 * SZ_2M);
	expect_unmapped(e, 2 * SZ_1G);
	expect_unmapped(e, top - SZ_1G - SZ_4K);
	expect_unmapped(e, top);	/* beyond the walk */
}

TEST_F(core_pt, leaf_and_table_bits_exact)
{
	struct pt_env *e = &self->e;
	bool fs = variant->stage == VTD_STAGE_FIRST;

	t_map(e, 0x1000, 0x5000, SZ_4K, R);
	t_map(e, SZ_2M, 2 * SZ_1G, SZ_2M, RW);
	t_map(e, SZ_1G, 4 * SZ_1G, SZ_1G, W);

	/* 9.7: P, R/W, U/S, PS; 9.8: R, W, PS; nothing else set. */
	EXPECT_EQ(fs ? 0x5000 | FSPTE_P | FSPTE_US : 0x5000 | SSPTE_R,
		  rd(e, tw_slot(e, 0x1000, 1)));
	EXPECT_EQ(fs ? 2 * SZ_1G | FSPTE_P | FSPTE_RW | FSPTE_US | FSPTE_PS
		     : 2 * SZ_1G | SSPTE_R | SSPTE_W | SSPTE_PS,
		  rd(e, tw_slot(e, SZ_2M, 2)));
	EXPECT_EQ(fs ? 4 * SZ_1G | FSPTE_P | FSPTE_RW | FSPTE_US | FSPTE_PS
		     : 4 * SZ_1G | SSPTE_W | SSPTE_PS,
		  rd(e, tw_slot(e, SZ_1G, 3)));
	expect_table_entries(e, 0x1000, 1);
	expect_table_entries(e, SZ_2M, 2);
	expect_table_entries(e, SZ_1G, 3);
	/* Neighbours of the leaves stay empty. */
	EXPECT_EQ(0, rd(e, tw_slot(e, 0x2000, 1)));
	EXPECT_EQ(0, rd(e, tw_slot(e, 2 * SZ_2M, 2)));
	EXPECT_EQ(0, rd(e, tw_slot(e, 2 * SZ_1G, 3)));
}

TEST_F(core_pt, largest_leaf_alignment_and_pgsizes_allow)
{
	struct pt_env *e = &self->e;
	uint64_t pa = 16 * SZ_1G;

	/* [1G-8K, 2G+2M+8K): two 4K, 1G, one 2M, two 4K. */
	t_map(e, SZ_1G - 0x2000, pa - 0x2000, SZ_1G + SZ_2M + 0x4000, RW);
	expect_xlate(e, SZ_1G - 0x2000, pa - 0x2000, RW, SZ_4K);
	expect_xlate(e, SZ_1G - 0x1000, pa - 0x1000, RW, SZ_4K);
	expect_xlate(e, SZ_1G, pa, RW, SZ_1G);
	expect_xlate(e, 2 * SZ_1G, pa + SZ_1G, RW, SZ_2M);
	expect_xlate(e, 2 * SZ_1G + SZ_2M, pa + SZ_1G + SZ_2M, RW, SZ_4K);
	expect_xlate(e, 2 * SZ_1G + SZ_2M + 0x1000, pa + SZ_1G + SZ_2M + 0x1000, RW, SZ_4K);
	expect_unmapped(e, 2 * SZ_1G + SZ_2M + 0x2000);

	/* pa not aligned like iova: 4K leaves only. */
	t_map(e, 4 * SZ_1G, pa + 0x1000, SZ_2M, R);
	expect_xlate(e, 4 * SZ_1G, pa + 0x1000, R, SZ_4K);
	expect_xlate(e, 4 * SZ_1G + SZ_2M - 1, pa + SZ_2M + 0xfff, R, SZ_4K);

	/* Without 1G in pgsizes a 1G range takes 2M leaves; without 2M, 4K. */
	e->dom.pgsizes = PGSIZE_4K | PGSIZE_2M;
	t_map(e, 8 * SZ_1G, pa, SZ_1G, RW);
	expect_xlate(e, 8 * SZ_1G, pa, RW, SZ_2M);
	expect_xlate(e, 9 * SZ_1G - 1, pa + SZ_1G - 1, RW, SZ_2M);
	e->dom.pgsizes = PGSIZE_4K;
	t_map(e, 10 * SZ_1G, pa, SZ_2M, RW);
	expect_xlate(e, 10 * SZ_1G + SZ_2M - SZ_4K, pa + SZ_2M - SZ_4K, RW, SZ_4K);
}

TEST_F(core_pt, overlap_is_eexist_and_changes_nothing)
{
	struct pt_env *e = &self->e;
	uint64_t used, writes;

	t_map(e, 2 * SZ_2M, SZ_1G, SZ_2M, RW);
	t_map(e, SZ_1G + 0x5000, SZ_1G, SZ_4K, R);
	used = pages_used(e);
	writes = spy.writes;

	EXPECT_EQ(-EEXIST, _t_map(e, 2 * SZ_2M - 0x1000, 0, 0x2000, RW));
	EXPECT_EQ(-EEXIST, _t_map(e, 2 * SZ_2M + 0x1000, 0, SZ_4K, RW));
	EXPECT_EQ(-EEXIST, _t_map(e, 3 * SZ_2M - 0x1000, 0, 0x2000, RW));
	EXPECT_EQ(-EEXIST, _t_map(e, 0, 0, SZ_1G, RW));
	EXPECT_EQ(-EEXIST, _t_map(e, SZ_1G, SZ_1G, SZ_2M, RW));
	EXPECT_EQ(-EEXIST, _t_map(e, SZ_1G, SZ_1G, SZ_1G, RW));

	EXPECT_EQ(used, pages_used(e));
	EXPECT_EQ(writes, spy.writes);
	EXPECT_EQ(0, e->freed.nfree);
	expect_unmapped(e, 2 * SZ_2M - 0x1000);
	expect_unmapped(e, 3 * SZ_2M);
	expect_unmapped(e, SZ_1G);
	expect_xlate(e, 2 * SZ_2M + 0x1000, SZ_1G + 0x1000, RW, SZ_2M);
	expect_xlate(e, SZ_1G + 0x5000, SZ_1G, R, SZ_4K);
}

TEST_F(core_pt, bad_arguments_are_einval_and_change_nothing)
{
	struct pt_env *e = &self->e;
	uint64_t top = 1ULL << pt_levels_width(variant->levels);
	uint64_t used = pages_used(e), writes = spy.writes;
	static const struct {
		uint64_t iova, pa, size;
		unsigned perm;
	} bad[] = {
		{ 0x1001, 0x1000, 0x1000, RW },		/* iova not page aligned */
		{ 0x1000, 0x1800, 0x1000, RW },		/* pa not page aligned */
		{ 0x1000, 0x1000, 0x0800, RW },		/* size not whole pages */
		{ 0x1000, 0x1000, 0, RW },		/* empty */
		{ 0x1000, 0x1000, 0x1000, 0 },		/* no permission */
		{ 0x1000, 0x1000, 0x1000, 4 },		/* unknown permission */
		{ 0x1000, 1ULL << 52, 0x1000, RW },	/* pa beyond 51:12 */
		{ 0x1000, 0x1000, UINT64_MAX & ~0xfffULL, RW },	/* wraps */
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, _t_map(e, bad[i].iova, bad[i].pa, bad[i].size, bad[i].perm));
	/* Past the address width the walk covers. */
	EXPECT_EQ(-EINVAL, _t_map(e, top - SZ_4K, 0, 2 * SZ_4K, RW));
	EXPECT_EQ(-EINVAL, _t_map(e, top, 0, SZ_4K, RW));
	EXPECT_EQ(used, pages_used(e));
	EXPECT_EQ(writes, spy.writes);
	expect_unmapped(e, 0x1000);
	expect_unmapped(e, top - SZ_4K);
}

TEST_F(core_pt, unmap_whole_2m_leaf)
{
	struct pt_env *e = &self->e;
	uint64_t leaf = 1, used;

	t_map(e, 4 * SZ_2M, SZ_1G, SZ_2M, RW);
	used = pages_used(e);
	EXPECT_EQ(SZ_2M, t_unmap(e, 4 * SZ_2M, SZ_2M, &leaf));
	EXPECT_EQ(SZ_2M, leaf);
	expect_unmapped(e, 4 * SZ_2M);
	expect_unmapped(e, 5 * SZ_2M - SZ_4K);
	EXPECT_EQ(0, rd(e, tw_slot(e, 4 * SZ_2M, 2)));
	/* The level-2 table covers more than the range: it stays. */
	EXPECT_EQ(0, e->g.nfree);
	EXPECT_EQ(used, pages_used(e));
	/* The range is the caller's to record. */
	EXPECT_EQ(UINT64_MAX, e->g.start);
	EXPECT_EQ(0, e->g.end);

	EXPECT_EQ(0, t_unmap(e, 4 * SZ_2M, SZ_2M, &leaf));
	EXPECT_EQ(0, leaf);
}

TEST_F(core_pt, unmap_4k_in_2m_splits_keeping_the_rest)
{
	struct pt_env *e = &self->e;
	bool fs = variant->stage == VTD_STAGE_FIRST;
	uint64_t iova = 4 * SZ_2M, pa = 3 * SZ_1G, leaf = 0, used, table;

	t_map(e, iova, pa, SZ_2M, W);
	used = pages_used(e);
	EXPECT_EQ(SZ_4K, t_unmap(e, iova + 5 * SZ_4K, SZ_4K, &leaf));
	EXPECT_EQ(SZ_4K, leaf);
	EXPECT_EQ(used + 1, pages_used(e));
	EXPECT_EQ(0, e->g.nfree);

	table = rd(e, tw_slot(e, iova, 2));
	EXPECT_EQ(want_table_bits(e), table & ~SSPTE_ADDR);
	for (unsigned i = 0; i < 512; i++) {
		uint64_t want = (pa + i * SZ_4K) | (fs ? FSPTE_P | FSPTE_RW | FSPTE_US : SSPTE_W);

		EXPECT_EQ(i == 5 ? 0 : want, rd(e, (table & SSPTE_ADDR) + 8 * i));
		if (i == 5)
			expect_unmapped(e, iova + i * SZ_4K);
		else
			expect_xlate(e, iova + i * SZ_4K + 8, pa + i * SZ_4K + 8, W, SZ_4K);
		if (th_test_failed())
			return;
	}
}

TEST_F(core_pt, unmap_across_2m_inside_1g_splits_twice)
{
	struct pt_env *e = &self->e;
	uint64_t iova = SZ_1G, pa = 8 * SZ_1G, leaf = 0, used;

	t_map(e, iova, pa, SZ_1G, R);
	used = pages_used(e);
	/* [1G+4M-4K, 1G+4M+4K): the 1G becomes 2M leaves, two of them 4K leaves. */
	EXPECT_EQ(2 * SZ_4K, t_unmap(e, iova + 2 * SZ_2M - SZ_4K, 2 * SZ_4K, &leaf));
	EXPECT_EQ(SZ_4K, leaf);
	EXPECT_EQ(used + 3, pages_used(e));

	expect_xlate(e, iova, pa, R, SZ_2M);
	expect_xlate(e, iova + SZ_2M, pa + SZ_2M, R, SZ_4K);
	expect_xlate(e, iova + 2 * SZ_2M - 2 * SZ_4K, pa + 2 * SZ_2M - 2 * SZ_4K, R, SZ_4K);
	expect_unmapped(e, iova + 2 * SZ_2M - SZ_4K);
	expect_unmapped(e, iova + 2 * SZ_2M);
	expect_xlate(e, iova + 2 * SZ_2M + SZ_4K, pa + 2 * SZ_2M + SZ_4K, R, SZ_4K);
	expect_xlate(e, iova + 3 * SZ_2M, pa + 3 * SZ_2M, R, SZ_2M);
	expect_xlate(e, iova + SZ_1G - 1, pa + SZ_1G - 1, R, SZ_2M);
}

TEST_F(core_pt, emptied_table_is_gathered_then_merged_away)
{
	struct pt_env *e = &self->e;
	uint64_t iova = 4 * SZ_2M, pa = 8 * SZ_1G, leaf = 0, used, table;

	/* pa off 2M alignment: 512 4K leaves in one level-1 table. */
	t_map(e, iova, pa + SZ_4K, SZ_2M, RW);
	table = rd(e, tw_slot(e, iova, 2)) & SSPTE_ADDR;
	used = pages_used(e);
	EXPECT_EQ(SZ_2M, t_unmap(e, iova, SZ_2M, &leaf));
	EXPECT_EQ(SZ_4K, leaf);
	EXPECT_EQ(0, rd(e, tw_slot(e, iova, 2)));
	ASSERT_EQ(1, e->g.nfree);
	EXPECT_EQ(table, e->g.freelist[0]);
	/* Gathered, not freed: hardware may still walk it until the flush. */
	EXPECT_EQ(used, pages_used(e));
	free_list(e, &e->g);
	EXPECT_EQ(used - 1, pages_used(e));

	/* Unmaps that never cover the whole table leave it linked and empty. */
	t_map(e, iova, pa + SZ_4K, SZ_2M, RW);
	table = rd(e, tw_slot(e, iova, 2)) & SSPTE_ADDR;
	EXPECT_EQ(SZ_2M - SZ_4K, t_unmap(e, iova + SZ_4K, SZ_2M - SZ_4K, &leaf));
	EXPECT_EQ(SZ_4K, t_unmap(e, iova, SZ_4K, &leaf));
	EXPECT_EQ(0, e->g.nfree);
	EXPECT_EQ(table, rd(e, tw_slot(e, iova, 2)) & SSPTE_ADDR);

	/* A 2M leaf replaces it; the table goes to @freed for the caller. */
	used = pages_used(e);
	t_map(e, iova, pa, SZ_2M, RW);
	expect_xlate(e, iova + 0x1234, pa + 0x1234, RW, SZ_2M);
	ASSERT_EQ(1, e->freed.nfree);
	EXPECT_EQ(table, e->freed.freelist[0]);
	EXPECT_EQ(used, pages_used(e));
	free_list(e, &e->freed);
	EXPECT_EQ(used - 1, pages_used(e));
}

TEST_F(core_pt, merge_1g_over_empty_two_level_subtree)
{
	struct pt_env *e = &self->e;
	uint64_t leaf = 0, used;

	t_map(e, SZ_1G + 2 * SZ_2M, 0x1000, 2 * SZ_4K, RW);
	EXPECT_EQ(2 * SZ_4K, t_unmap(e, SZ_1G + 2 * SZ_2M, 2 * SZ_4K, &leaf));
	EXPECT_EQ(0, e->g.nfree);
	used = pages_used(e);
	t_map(e, SZ_1G, 4 * SZ_1G, SZ_1G, R);
	expect_xlate(e, SZ_1G + 2 * SZ_2M, 4 * SZ_1G + 2 * SZ_2M, R, SZ_1G);
	EXPECT_EQ(2, e->freed.nfree);
	free_list(e, &e->freed);
	EXPECT_EQ(used - 2, pages_used(e));
}

TEST_F(core_pt, unmap_counts_only_mapped_bytes)
{
	struct pt_env *e = &self->e;
	uint64_t leaf = 0;

	t_map(e, 0x10000, 0x10000, SZ_4K, RW);
	t_map(e, 0x12000, 0x12000, SZ_4K, RW);
	EXPECT_EQ(2 * SZ_4K, t_unmap(e, 0x10000, 4 * SZ_4K, &leaf));
	EXPECT_EQ(SZ_4K, leaf);

	/* The largest leaf met wins, whatever the order. */
	t_map(e, SZ_1G, SZ_1G, SZ_2M, RW);
	t_map(e, SZ_1G + SZ_2M, SZ_1G, SZ_4K, RW);
	EXPECT_EQ(SZ_2M + SZ_4K, t_unmap(e, SZ_1G - SZ_2M, 4 * SZ_2M, &leaf));
	EXPECT_EQ(SZ_2M, leaf);

	EXPECT_EQ(0, t_unmap(e, 0, SZ_1G, &leaf));
	EXPECT_EQ(0, leaf);
}

TEST_F(core_pt, map_enomem_takes_back_its_leaves)
{
	struct pt_env *e = &self->e;
	uint64_t used = pages_used(e), writes = spy.writes;
	uint64_t iova = SZ_1G - 2 * SZ_4K;

	/* The walk to the first leaf needs levels-1 tables; none is linked if one fails. */
	spy.alloc_budget = variant->levels - 2;
	EXPECT_EQ(-ENOMEM, _t_map(e, iova, SZ_4K, 4 * SZ_4K, RW));
	EXPECT_EQ(used, pages_used(e));
	EXPECT_EQ(writes, spy.writes);

	/* The first two leaves fit, the third needs another level-1 table. */
	spy.alloc_budget = variant->levels - 1;
	EXPECT_EQ(-ENOMEM, _t_map(e, iova, SZ_4K, 4 * SZ_4K, RW));
	for (unsigned i = 0; i < 4; i++)
		expect_unmapped(e, iova + i * SZ_4K);
	EXPECT_EQ(used + variant->levels - 1, pages_used(e));

	spy.alloc_budget = -1;
	t_map(e, iova, SZ_4K, 4 * SZ_4K, RW);
	expect_xlate(e, iova + 3 * SZ_4K, 4 * SZ_4K, RW, SZ_4K);
}

TEST_F(core_pt, unmap_split_enomem_changes_no_translation)
{
	struct pt_env *e = &self->e;
	uint64_t leaf = 1, pa = 8 * SZ_1G;

	t_map(e, SZ_1G, pa, SZ_1G, RW);
	/* The 1G splits, then the 2M under it cannot: nothing is cleared. */
	spy.alloc_budget = 1;
	EXPECT_EQ(0, t_unmap(e, SZ_1G + SZ_2M + SZ_4K, SZ_4K, &leaf));
	EXPECT_EQ(0, leaf);
	expect_xlate(e, SZ_1G, pa, RW, SZ_2M);
	expect_xlate(e, SZ_1G + SZ_2M + SZ_4K, pa + SZ_2M + SZ_4K, RW, SZ_2M);
	expect_xlate(e, 2 * SZ_1G - SZ_4K, pa + SZ_1G - SZ_4K, RW, SZ_2M);

	spy.alloc_budget = -1;
	EXPECT_EQ(SZ_4K, t_unmap(e, SZ_1G + SZ_2M + SZ_4K, SZ_4K, &leaf));
	expect_unmapped(e, SZ_1G + SZ_2M + SZ_4K);
	expect_xlate(e, SZ_1G + SZ_2M, pa + SZ_2M, RW, SZ_4K);
}

TEST_F(core_pt, noncoherent_second_stage_flushes_every_write)
{
	struct pt_env *e = &self->e;
	bool ss = variant->stage == VTD_STAGE_SECOND;
	uint64_t leaf;

	e->dom.coherent = false;
	spy.logging = true;
	spy.allocs = 0;
	t_map(e, SZ_2M, SZ_1G, SZ_2M, RW);
	t_map(e, SZ_1G, SZ_1G, SZ_4K, RW);
	EXPECT_EQ(SZ_4K, t_unmap(e, SZ_2M + SZ_4K, SZ_4K, &leaf));
	EXPECT_GT(spy.writes, 512);
	EXPECT_EQ(spy.writes, spy.yields);
	/*
	 * First-stage tables are always snooped (10.4.3). A second-stage
	 * entry write is flushed at once, and so is every line of a new
	 * table page, so the walker never sees its previous contents.
	 */
	EXPECT_EQ(ss ? spy.writes + 64 * spy.allocs : 0, spy.clflushes);
	for (size_t i = 0; ss && i < spy.nlog;) {
		if (spy.log[i].kind == 'f') {
			/* A new page: its 64 lines, in order, before any use. */
			ASSERT_EQ(0, spy.log[i].pa & 0xfff);
			ASSERT_GE(spy.nlog, i + 64);
			for (unsigned l = 0; l < 64; l++) {
				ASSERT_EQ('f', spy.log[i + l].kind);
				ASSERT_EQ(spy.log[i].pa + 64 * l, spy.log[i + l].pa);
			}
			i += 64;
			continue;
		}
		ASSERT_EQ('w', spy.log[i].kind);
		ASSERT_EQ('f', spy.log[i + 1].kind);
		ASSERT_EQ(spy.log[i].pa, spy.log[i + 1].pa);
		i += 2;
	}
}

/* Is @val a link to a table page (data pages lie outside the pool)? */
static bool links_table(uint64_t val)
{
	uint64_t t = val & SSPTE_ADDR;

	return t >= POOL_BASE && t < POOL_BASE + POOL_SIZE;
}

TEST_F(core_pt, new_tables_complete_before_linked)
{
	struct pt_env *e = &self->e;
	uint64_t leaf, t, u;

	/*
	 * A fresh path is built bottom up: the leaf first, each table's one
	 * entry before the link to it, the root's entry last.
	 */
	spy.logging = true;
	t_map(e, SZ_1G + 0x3000, 2 * SZ_1G, SZ_4K, RW);
	ASSERT_EQ((size_t)variant->levels, spy.nlog);
	EXPECT_EQ(tw_slot(e, SZ_1G + 0x3000, 1), spy.log[0].pa);
	for (int l = 2; l <= variant->levels; l++) {
		EXPECT_EQ(tw_slot(e, SZ_1G + 0x3000, l), spy.log[l - 1].pa);
		EXPECT_EQ(spy.log[l - 2].pa & SSPTE_ADDR & ~0xfffULL,
			  spy.log[l - 1].val & SSPTE_ADDR);
	}
	EXPECT_EQ(e->dom.pgd, spy.log[spy.nlog - 1].pa & ~0xfffULL);

	/*
	 * Unmapping [3G+2M, 3G+2M+4K) from a 1G leaf splits twice: a 2M
	 * table T is filled, then linked; a 4K table U is filled, then linked
	 * into T; then the leaf in U is cleared.
	 */
	t_map(e, 3 * SZ_1G, 2 * SZ_1G, SZ_1G, RW);
	spy.nlog = 0;
	EXPECT_EQ(SZ_4K, t_unmap(e, 3 * SZ_1G + SZ_2M, SZ_4K, &leaf));
	ASSERT_EQ(2 * 513 + 1, spy.nlog);
	t = spy.log[0].pa;
	u = spy.log[513].pa;
	for (unsigned i = 0; i < 512; i++) {
		EXPECT_EQ(t + 8 * i, spy.log[i].pa);
		EXPECT_EQ(u + 8 * i, spy.log[513 + i].pa);
		EXPECT_FALSE(links_table(spy.log[i].val));
		EXPECT_FALSE(links_table(spy.log[513 + i].val));
	}
	EXPECT_EQ(tw_slot(e, 3 * SZ_1G, 3), spy.log[512].pa);
	EXPECT_EQ(t, spy.log[512].val & SSPTE_ADDR);
	EXPECT_EQ(t + 8, spy.log[1025].pa);
	EXPECT_EQ(u, spy.log[1025].val & SSPTE_ADDR);
	EXPECT_EQ(u, spy.log[1026].pa);
	EXPECT_EQ(0, spy.log[1026].val);
}

TEST_F(core_pt, free_all_returns_every_page)
{
	struct pt_env *e = &self->e;
	uint64_t leaf;

	t_map(e, 0, 0, 64 * SZ_4K, RW);
	t_map(e, SZ_1G, SZ_1G + SZ_4K, SZ_2M, RW);
	t_map(e, 4 * SZ_1G, 4 * SZ_1G, 2 * SZ_1G, RW);
	if (variant->levels > 3)
		t_map(e, 1ULL << 40, 0, SZ_4K, RW);	/* past level 4's first entry */
	EXPECT_EQ(SZ_4K, t_unmap(e, 4 * SZ_1G + SZ_2M, SZ_4K, &leaf));
	free_list(e, &e->g);
	EXPECT_GT(pages_used(e), 4);
	pt_free_all(&e->dom);
	EXPECT_EQ(0, pages_used(e));
}

/* ---- Random map and unmap against a reference of every 4K page ---- */

#define RND_BASE	SZ_1G
#define RND_SIZE	(2 * SZ_1G)
#define RND_PAGES	(RND_SIZE / SZ_4K)

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* ref[i]: pa | perm of page i of the window, 0 if unmapped. */
static uint64_t *ref_at(uint64_t *ref, uint64_t iova)
{
	return &ref[(iova - RND_BASE) / SZ_4K];
}

/* One page through pt_lookup_locked against the reference. */
static void check_page(struct pt_env *e, uint64_t *ref, uint64_t iova)
{
	uint64_t want, pa = 0, size;
	unsigned perm = 0;

	if (iova < RND_BASE || iova >= RND_BASE + RND_SIZE)
		return;
	want = *ref_at(ref, iova);
	if (!want) {
		ASSERT_EQ(-ENOENT, _t_lookup(e, iova, &pa, &perm, &size));
		return;
	}
	ASSERT_EQ(0, _t_lookup(e, iova, &pa, &perm, &size));
	ASSERT_EQ(want & ~0xfffULL, pa);
	ASSERT_EQ(want & RW, perm);
}

/* Every page of the window, against the tables as the test reads them. */
static void check_window(struct pt_env *e, uint64_t *ref)
{
	for (uint64_t a = RND_BASE, end; a < RND_BASE + RND_SIZE; a = end) {
		int level;
		uint64_t pte = tw_walk(e, a, &level);
		uint64_t size = 1ULL << tw_shift(level);
		uint64_t base = a & ~(size - 1), pa = pte & SSPTE_ADDR & ~(size - 1);

		end = base + size < RND_BASE + RND_SIZE ? base + size : RND_BASE + RND_SIZE;
		if (!tw_present(e, pte)) {
			expect_unmapped(e, a);
			for (uint64_t p = a; p < end; p += SZ_4K)
				if (*ref_at(ref, p)) {
					TH_LOG("%#llx should be mapped", (unsigned long long)p);
					ASSERT_EQ(0, *ref_at(ref, p));
				}
			continue;
		}
		expect_xlate(e, a, pa + (a - base), tw_perm(e, pte), size);
		for (uint64_t p = a; p < end; p += SZ_4K) {
			uint64_t want = (pa + (p - base)) | tw_perm(e, pte);

			if (*ref_at(ref, p) != want) {
				TH_LOG("%#llx maps %#llx", (unsigned long long)p,
				       (unsigned long long)want);
				ASSERT_EQ(want, *ref_at(ref, p));
			}
		}
	}
}

TEST_F(core_pt, random_map_unmap_against_reference)
{
	struct pt_env *e = &self->e;
	uint64_t *ref = calloc(RND_PAGES, sizeof(*ref));
	uint64_t seed = 0x76746420706774ULL, leaf, mapped = 0;
	unsigned leaves[4] = { 0 }, merges = 0, unlinks = 0, eexist = 0;

	ASSERT_NONNULL(ref);
	for (unsigned op = 0; op < 600; op++) {
		uint64_t r = rnd(&seed) % 20;
		uint64_t gran = r < 10 ? SZ_4K : r < 17 ? SZ_2M : SZ_1G;
		uint64_t iova = RND_BASE + rnd(&seed) % (RND_SIZE / gran) * gran;
		uint64_t size = gran * (1 + rnd(&seed) % 3), busy = 0;

		if (rnd(&seed) % 4 == 0)
			iova += rnd(&seed) % 16 * SZ_4K;	/* ragged start */
		if (rnd(&seed) % 4 == 0)
			size += rnd(&seed) % 16 * SZ_4K;	/* ragged end */
		if (iova >= RND_BASE + RND_SIZE)
			continue;
		if (size > RND_BASE + RND_SIZE - iova)
			size = RND_BASE + RND_SIZE - iova;
		for (uint64_t p = iova; p < iova + size; p += SZ_4K)
			busy += *ref_at(ref, p) != 0;

		if (rnd(&seed) % 5 < 3) {
			/* pa shares iova's offset in 1G, so superpages can form. */
			uint64_t pa = (1 + rnd(&seed) % 32) * 4 * SZ_1G + (iova & (SZ_1G - 1));
			unsigned perm = 1 + (unsigned)(rnd(&seed) % 3);
			uint64_t pgsize = 0, got;
			unsigned got_perm;

			if (rnd(&seed) % 4 == 0)
				pa += SZ_4K;
			ASSERT_EQ(busy ? -EEXIST : 0, _t_map(e, iova, pa, size, perm));
			if (busy) {
				eexist++;
				continue;
			}
			for (uint64_t p = 0; p < size; p += SZ_4K)
				*ref_at(ref, iova + p) = (pa + p) | want_perm(e, perm);
			ASSERT_EQ(0, _t_lookup(e, iova, &got, &got_perm, &pgsize));
			leaves[pgsize == SZ_4K ? 0 : pgsize == SZ_2M ? 1 : 2]++;
			merges += e->freed.nfree != 0;
			free_list(e, &e->freed);	/* the caller's flush, then free */
		} else {
			ASSERT_EQ(busy * SZ_4K, t_unmap(e, iova, size, &leaf));
			ASSERT_TRUE(busy ? leaf == SZ_4K || leaf == SZ_2M || leaf == SZ_1G : !leaf);
			for (uint64_t p = iova; p < iova + size; p += SZ_4K)
				*ref_at(ref, p) = 0;
			unlinks += e->g.nfree != 0;
			free_list(e, &e->g);
		}
		check_page(e, ref, iova - SZ_4K);
		check_page(e, ref, iova);
		check_page(e, ref, iova + size - SZ_4K);
		check_page(e, ref, iova + size);
		for (unsigned i = 0; i < 16; i++)
			check_page(e, ref, RND_BASE + rnd(&seed) % RND_PAGES * SZ_4K);
		if (op % 50 == 49)
			check_window(e, ref);
	}
	check_window(e, ref);
	TH_LOG("leaves 4K %u 2M %u 1G %u, merges %u, unlinks %u, eexist %u", leaves[0],
	       leaves[1], leaves[2], merges, unlinks, eexist);
	/* The sequence reaches every path it is meant to test. */
	EXPECT_GT(leaves[0], 0);
	EXPECT_GT(leaves[1], 0);
	EXPECT_GT(leaves[2], 0);
	EXPECT_GT(merges, 0);
	EXPECT_GT(unlinks, 0);
	EXPECT_GT(eexist, 0);

	for (uint64_t i = 0; i < RND_PAGES; i++)
		mapped += ref[i] != 0;
	EXPECT_EQ(mapped * SZ_4K, t_unmap(e, RND_BASE, RND_SIZE, &leaf));
	free(ref);
}

/* ---- The gather's freelist ---- */

TEST(core_pt_gather_freelist_grows)
{
	struct vtd_gather g;

	vtd_gather_init(&g);
	EXPECT_EQ(UINT64_MAX, g.start);
	EXPECT_EQ(0, g.end);
	EXPECT_EQ(0, g.nfree);
	EXPECT_FALSE(g.queued);
	for (uint64_t i = 0; i < 100; i++)
		ASSERT_EQ(0, gather_add_free(&g, i << 12));
	ASSERT_EQ(100, g.nfree);
	EXPECT_GE(g.cap, 100);
	for (uint64_t i = 0; i < 100; i++)
		EXPECT_EQ(i << 12, g.freelist[i]);
	vtd_gather_fini(&g);
	EXPECT_NULL(g.freelist);
	EXPECT_EQ(0, g.nfree);
	EXPECT_EQ(UINT64_MAX, g.start);
}
