/*
 * test_core_mt.c — libvtd from several threads at once (and under
 * `make SAN=thread`): threads mapping and unmapping disjoint ranges of one
 * domain (4K pages sharing one table, and superpages split and freed),
 * one attaching and detaching a second device, one flushing the whole
 * domain, and a device doing DMA on a range that stays mapped throughout
 * and must never fault. Afterwards every mapping left is checked by
 * software walk and by DMA, and no table page has leaked.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include "core_util.h"

#define NMAP		3		/* map/unmap threads */
#define ITERS		100		/* per map/unmap thread */
#define ATTACH_ITERS	40
#define IOVA_STAY	0x1000000ULL	/* 16K mapped throughout */
#define IOVA_WIN	0x2000000ULL	/* thread i: 16 pages from here + i*64K (one table) */
#define IOVA_BIG	0x40000000ULL	/* thread i: a 2M superpage at + i*2M */
#define WIN_PAGES	16

FIXTURE(core_mt) {
	struct vtdenv e;
	struct vtd_domain *dom;
	uint64_t pages0;
};

FIXTURE_VARIANT(core_mt) {
	const char *keys;
	bool sm;
	bool ats;
};

FIXTURE_VARIANT_ADD(core_mt, legacy_adv_ats) { .keys = "caching=adversarial,dt=1", .ats = true };
FIXTURE_VARIANT_ADD(core_mt, sm_exact_cm_rwbf) { .keys = "sm=1,cm=1,rwbf=1,caching=exact",
						 .sm = true };

FIXTURE_SETUP(core_mt)
{
	struct vtdenv *e = &self->e;

	vtdenv_init(e, variant->keys, 1, variant->sm);
	/* The rig's trace recorder is single-threaded: no events here. */
	vtd_host_set_trace(e->h, NULL, NULL);
	self->pages0 = vtd_host_pages_used(e->h);
	ASSERT_EQ(0, _vtdenv_add_device(e, 0, 0x0108, variant->ats));
	ASSERT_EQ(1, _vtdenv_add_device(e, 0, 0x0110, variant->ats));
	ASSERT_EQ(0, vtd_domain_alloc(e->v, NULL, &self->dom));
	ASSERT_EQ(0, vtd_attach(self->dom, e->dev[0]));
}

FIXTURE_TEARDOWN(core_mt)
{
	vtdenv_fini(&self->e);
}

struct mt {
	struct vtdenv *e;
	struct vtd_domain *dom;
	int stop;			/* __atomic: the endless threads end */
	unsigned progress;		/* __atomic: map/unmap and attach steps done */
	uint64_t stay;			/* data behind IOVA_STAY */
	struct mapper {
		struct mt *mt;
		unsigned idx;
		uint64_t win, big;	/* data regions: 16 pages, a 2M superpage */
		uint64_t seed;
		uint64_t left_iova, left_pa, left_size;	/* mapped at the end */
		unsigned errors;
	} map[NMAP];
	unsigned dma_faults, dma_wrong, dma_ops, attach_errors, flushes;
};

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static bool stopped(struct mt *mt)
{
	return __atomic_load_n(&mt->stop, __ATOMIC_ACQUIRE);
}

static void step(struct mt *mt)
{
	__atomic_fetch_add(&mt->progress, 1, __ATOMIC_RELAXED);
}

/*
 * Pace the endless threads by the others' progress: a few operations per
 * step, so that neither they (nor a sanitizer's or valgrind's scheduling)
 * starve the threads that have a fixed amount of work.
 */
static void pace(struct mt *mt, unsigned *seen, unsigned *budget, unsigned per_step)
{
	unsigned now;

	while (!*budget && !stopped(mt)) {
		now = __atomic_load_n(&mt->progress, __ATOMIC_RELAXED);
		if (now != *seen) {
			*budget = per_step;
			*seen = now;
		} else {
			sched_yield();
		}
	}
	if (*budget)
		--*budget;
}

/* Map, check, unmap, check: its own window of 4K pages, and its own superpage. */
static void *mapper(void *arg)
{
	struct mapper *m = arg;
	struct vtd_domain *dom = m->mt->dom;
	uint64_t win = IOVA_WIN + m->idx * WIN_PAGES * SZ_4K, big = IOVA_BIG + m->idx * SZ_2M;

	for (unsigned it = 0; it < ITERS; it++) {
		uint64_t first = rnd(&m->seed) % WIN_PAGES;
		uint64_t n = 1 + rnd(&m->seed) % (WIN_PAGES - first), pa;
		uint64_t iova = win + first * SZ_4K;
		unsigned perm;

		m->errors += vtd_map(dom, iova, m->win + first * SZ_4K, n * SZ_4K, VTD_PERM_RW) != 0;
		m->errors += vtd_iova_to_phys(dom, iova + (n - 1) * SZ_4K + 8, &pa, &perm) != 0 ||
			     pa != m->win + (first + n - 1) * SZ_4K + 8;
		m->errors += vtd_unmap_sync(dom, iova, n * SZ_4K) != n * SZ_4K;
		m->errors += vtd_iova_to_phys(dom, iova, &pa, &perm) != -ENOENT;
		step(m->mt);
		if (it % 8 == 0) {
			/* A superpage, split by a 4K hole, then gone with its table. */
			m->errors += vtd_map(dom, big, m->big, SZ_2M, VTD_PERM_RW) != 0;
			m->errors += vtd_unmap_sync(dom, big + 7 * SZ_4K, SZ_4K) != SZ_4K;
			m->errors += vtd_iova_to_phys(dom, big + 8 * SZ_4K, &pa, &perm) != 0 ||
				     pa != m->big + 8 * SZ_4K;
			m->errors += vtd_unmap_sync(dom, big, SZ_2M) != SZ_2M - SZ_4K;
		}
	}
	/* Leave something mapped for the final check. */
	m->left_iova = win + m->idx * SZ_4K;
	m->left_pa = m->win + m->idx * SZ_4K;
	m->left_size = 2 * SZ_4K;
	m->errors += vtd_map(dom, m->left_iova, m->left_pa, m->left_size, VTD_PERM_RW) != 0;
	return NULL;
}

static void *attacher(void *arg)
{
	struct mt *mt = arg;

	for (unsigned it = 0; it < ATTACH_ITERS; it++) {
		mt->attach_errors += vtd_attach(mt->dom, mt->e->dev[1]) != 0;
		mt->attach_errors += vtd_detach(mt->e->dev[1]) != 0;
		step(mt);
	}
	return NULL;
}

static void *flusher(void *arg)
{
	struct mt *mt = arg;
	unsigned seen = 0, budget = 0;

	for (pace(mt, &seen, &budget, 1); !stopped(mt); pace(mt, &seen, &budget, 1)) {
		vtd_flush_all(mt->dom);
		mt->flushes++;
	}
	return NULL;
}

/* Device 0 reads and writes the range that never changes: never a fault. */
static void *dmaer(void *arg)
{
	struct mt *mt = arg;
	uint64_t x = 0x2545f4914f6cdd1dULL;
	unsigned seen = 0, budget = 0;

	do {
		uint64_t k = rnd(&x) % 4, off = k * SZ_4K + 0x808, v = 0;
		struct vtdm_xlate xl;

		if (dma64(mt->e, 0, IOVA_STAY + off, false, &v, &xl))
			mt->dma_faults++;
		else if (v != pat(mt->stay + off))
			mt->dma_wrong++;
		v = pat(mt->stay + off);
		if (dma64(mt->e, 0, IOVA_STAY + off, true, &v, &xl))
			mt->dma_faults++;
		mt->dma_ops++;
		pace(mt, &seen, &budget, 4);
	} while (!stopped(mt));
	return NULL;
}

TEST_F(core_mt, map_unmap_attach_flush_dma_concurrently)
{
	struct vtdenv *e = &self->e;
	pthread_t tm[NMAP], ta, tf, td;
	struct mt *mt = calloc(1, sizeof(*mt));
	uint64_t pa, keep;
	unsigned perm;

	ASSERT_NONNULL(mt);
	mt->e = e;
	mt->dom = self->dom;
	mt->stay = region(e, 4 * SZ_4K, SZ_4K);
	ASSERT_EQ(0, vtd_map(self->dom, IOVA_STAY, mt->stay, 4 * SZ_4K, VTD_PERM_RW));
	for (unsigned i = 0; i < NMAP; i++) {
		mt->map[i] = (struct mapper){ .mt = mt, .idx = i,
					      .win = region(e, WIN_PAGES * SZ_4K, SZ_4K),
					      .big = region(e, SZ_2M, SZ_2M),
					      .seed = 0x9e3779b97f4a7c15ULL * (i + 1) };
	}
	ASSERT_EQ(0, pthread_create(&td, NULL, dmaer, mt));
	ASSERT_EQ(0, pthread_create(&tf, NULL, flusher, mt));
	ASSERT_EQ(0, pthread_create(&ta, NULL, attacher, mt));
	for (unsigned i = 0; i < NMAP; i++)
		ASSERT_EQ(0, pthread_create(&tm[i], NULL, mapper, &mt->map[i]));
	for (unsigned i = 0; i < NMAP; i++)
		pthread_join(tm[i], NULL);
	pthread_join(ta, NULL);
	__atomic_store_n(&mt->stop, 1, __ATOMIC_RELEASE);
	pthread_join(tf, NULL);
	pthread_join(td, NULL);

	TH_LOG("dma %u, flush_all %u", mt->dma_ops, mt->flushes);
	EXPECT_EQ(0, mt->dma_faults);
	EXPECT_EQ(0, mt->dma_wrong);
	EXPECT_EQ(0, mt->attach_errors);
	for (unsigned i = 0; i < NMAP; i++)
		EXPECT_EQ(0, mt->map[i].errors);
	ASSERT_LT(0, mt->dma_ops);
	ASSERT_EQ(0, lib_stat(e, "qi.iqe"));
	ASSERT_EQ(0, lib_stat(e, "qi.ite"));

	/* What is left: the range that stayed, and each thread's last mapping. */
	for (uint64_t k = 0; k < 4; k++) {
		ASSERT_EQ(0, vtd_iova_to_phys(self->dom, IOVA_STAY + k * SZ_4K, &pa, &perm));
		ASSERT_EQ(mt->stay + k * SZ_4K, pa);
		expect_read(e, 0, IOVA_STAY + k * SZ_4K + 0x10, mt->stay + k * SZ_4K + 0x10);
	}
	ASSERT_EQ(0, vtd_attach(self->dom, e->dev[1]));
	for (unsigned i = 0; i < NMAP; i++) {
		struct mapper *m = &mt->map[i];
		uint64_t win = IOVA_WIN + i * WIN_PAGES * SZ_4K;

		for (uint64_t k = 0; k < WIN_PAGES; k++) {
			uint64_t iova = win + k * SZ_4K;
			bool in = iova >= m->left_iova && iova < m->left_iova + m->left_size;

			ASSERT_EQ(in ? 0 : -ENOENT, vtd_iova_to_phys(self->dom, iova, &pa, &perm));
			for (unsigned d = 0; d < 2; d++) {
				if (in)
					expect_read(e, d, iova + 8, m->left_pa + (iova - m->left_iova) + 8);
				else
					expect_fault(e, d, iova + 8, false);
			}
		}
		ASSERT_EQ(-ENOENT, vtd_iova_to_phys(self->dom, IOVA_BIG + i * SZ_2M, &pa, &perm));
		expect_fault(e, 1, IOVA_BIG + i * SZ_2M + 8 * SZ_4K, false);
	}

	/* No pool page leaked: only the context table stays. */
	keep = 1;
	ASSERT_EQ(0, vtd_detach(e->dev[0]));
	ASSERT_EQ(0, vtd_detach(e->dev[1]));
	ASSERT_EQ(0, vtd_domain_free(self->dom));
	ASSERT_EQ(self->pages0 + keep, vtd_host_pages_used(e->h));
	free(mt);
}
