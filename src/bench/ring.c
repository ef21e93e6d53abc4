/*
 * ring.c — the ring workload of ring.h: a receive ring of buffers mapped
 * and unmapped through the DMA API layer, on libvtd over the hardware
 * model, with counters, modelled time and wall-clock time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/ring.h"
#include "fmt/entry.h"
#include "host/host.h"

#define DATA_BASE	0x1000000ULL	/* ring buffers from 16 MiB, one page each */
#define POOL_BASE	0x10000000ULL	/* libvtd's tables from 256 MiB */
#define POOL_SIZE	0x10000000ULL
#define DEV_SID		0x0008		/* 00:01.0 */
#define DMA_BYTES	64

struct ring_slot {
	uint64_t iova, size;
	bool live;
};

struct snap {
	uint64_t v[32];
};

/* libvtd's counters, then the model's, in struct snap order. */
static const char *const lib_names[] = {
	"qi.submit", "qi.desc.iotlb.psi", "qi.desc.iotlb.dsi", "qi.desc.iotlb.global",
	"qi.desc.piotlb", "qi.desc.devtlb", "qi.desc.wait", "fq.flush", "fq.entries",
	"iova.alloc", "iova.free", "iova.cache_hit",
};
static const char *const model_names[] = {
	"desc", "desc.iotlb.psi", "desc.iotlb.dsi", "desc.wait", "wbf", "iotlb.hit",
	"iotlb.miss", "dma.write", "dma.fault", "time.ns",
};
#define NLIB	(sizeof(lib_names) / sizeof(lib_names[0]))
#define NMODEL	(sizeof(model_names) / sizeof(model_names[0]))

static void take(struct vtd *v, struct vtdm *m, struct snap *s)
{
	for (size_t i = 0; i < NLIB; i++)
		if (vtd_stat(v, lib_names[i], &s->v[i]))
			s->v[i] = 0;
	for (size_t i = 0; i < NMODEL; i++)
		if (vtdm_stat(m, model_names[i], &s->v[NLIB + i]))
			s->v[NLIB + i] = 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

const char *bench_ring_mode_name(enum vtd_dma_mode m)
{
	switch (m) {
	case VTD_DMA_STRICT:
		return "strict";
	case VTD_DMA_LAZY:
		return "lazy";
	case VTD_DMA_LAZY_RANGED:
		return "lazy-ranged";
	}
	return "?";
}

void bench_ring_costs(struct vtdm_costs *c)
{
	struct vtdm_machine_cfg mc;

	vtdm_machine_cfg_default(&mc);
	*c = mc.costs;
}

struct rig {
	struct vtdm *m;
	struct vtd_host *h;
	struct vtd *v;
	struct vtd_unit *unit;
	struct vtd_device *dev;
	struct vtd_domain *dom;
	struct vtd_dma *d;
	struct ring_slot *slots;
};

static void rig_fini(struct rig *g)
{
	if (g->d)
		vtd_dma_destroy(g->d);
	if (g->v)
		vtd_destroy(g->v);
	if (g->h)
		vtd_host_destroy(g->h);
	if (g->m)
		vtdm_destroy(g->m);
	free(g->slots);
}

static int rig_init(struct rig *g, const struct bench_ring_opts *o, unsigned ring)
{
	struct vtdm_machine_cfg mc;
	struct vtdm_unit_cfg uc;
	struct vtdm_dev_cfg dc;
	struct vtd_unit_opts uo = { 0 };
	struct vtd_device_opts dopts = { 0 };
	struct vtd_domain_opts dmo = { .stage = VTD_STAGE_SECOND };
	struct vtd_dma_opts dma = { .mode = o->mode, .force_mode = true };
	char err[160];
	int ret;

	memset(g, 0, sizeof(*g));
	g->slots = calloc(ring, sizeof(*g->slots));
	vtdm_machine_cfg_default(&mc);
	g->m = vtdm_create(&mc);
	if (!g->m || !g->slots)
		return -ENOMEM;
	vtdm_unit_cfg_default(&uc);
	ret = vtdm_unit_cfg_set(&uc, "cm", o->cm ? "1" : "0", err, sizeof(err));
	if (!ret)
		ret = vtdm_unit_cfg_set(&uc, "caching", "exact", err, sizeof(err));
	if (ret)
		return ret;
	if (vtdm_add_unit(g->m, &uc) < 0)
		return -EINVAL;
	vtdm_dev_cfg_default(&dc);
	dc.sid = DEV_SID;
	dc.unit = 0;
	ret = vtdm_add_device(g->m, &dc);
	if (ret)
		return ret;
	g->h = vtd_host_create(g->m, POOL_BASE, POOL_SIZE);
	if (!g->h)
		return -ENOMEM;
	g->v = vtd_create(vtd_host_ops(), g->h);
	if (!g->v)
		return -ENOMEM;
	ret = vtd_unit_add(g->v, vtdm_unit_base(0), &uo, &g->unit);
	if (!ret)
		ret = vtd_device_add(g->v, g->unit, DEV_SID, &dopts, &g->dev);
	if (!ret) {
		dmo.unit = g->unit;
		ret = vtd_domain_alloc(g->v, &dmo, &g->dom);
	}
	if (!ret)
		ret = vtd_attach(g->dom, g->dev);
	if (!ret)
		ret = vtd_dma_create(g->dom, &dma, &g->d);
	return ret;
}

/* A deterministic buffer size in [2 KiB, 4 KiB], 64-byte granular. */
static uint64_t buf_size(uint32_t *seed)
{
	*seed = *seed * 1664525u + 1013904223u;
	return 2048 + 64 * (uint64_t)((*seed >> 16) % 33);
}

int bench_ring_run(const struct bench_ring_opts *o, struct bench_ring_result *r)
{
	unsigned pairs = o->pairs ? o->pairs : 100000, ring = o->ring ? o->ring : 256;
	uint64_t gap = o->gap_ns ? o->gap_ns : 1000, t0, t1;
	uint8_t pkt[DMA_BYTES];
	struct snap a, b;
	struct rig g;
	uint32_t seed = 1;
	int ret, err = 0;

	memset(r, 0, sizeof(*r));
	r->pairs = pairs;
	r->ring = ring;
	r->gap_ns = gap;
	ret = rig_init(&g, o, ring);
	if (ret) {
		rig_fini(&g);
		return ret;
	}
	r->mode = vtd_dma_mode(g.d);
	memset(pkt, 0xa5, sizeof(pkt));

	take(g.v, g.m, &a);
	t0 = mono_ns();
	for (unsigned i = 0; i < pairs && !err; i++) {
		struct ring_slot *s = &g.slots[i % ring];
		uint64_t pa = DATA_BASE + (uint64_t)(i % ring) * 4096;
		struct vtdm_xlate x;

		/* The slot's previous buffer was mapped @ring steps ago. */
		if (s->live) {
			err = vtd_dma_unmap(g.d, g.dev, s->iova, s->size);
			s->live = false;
			if (err)
				break;
		}
		s->size = buf_size(&seed);
		err = vtd_dma_map(g.d, g.dev, pa, s->size, VTD_DMA_FROM_DEVICE, &s->iova);
		if (err)
			break;
		s->live = true;
		if (!o->no_dma && vtdm_dma(g.m, DEV_SID, VTD_NO_PASID, s->iova, pkt, sizeof(pkt),
					   true, &x) != 0)
			err = -EIO;
		vtdm_clock_step(g.m, gap);
		vtd_dma_poll(g.d);
	}
	for (unsigned i = 0; i < ring; i++)
		if (g.slots[i].live) {
			int rc = vtd_dma_unmap(g.d, g.dev, g.slots[i].iova, g.slots[i].size);

			g.slots[i].live = false;
			if (rc && !err)
				err = rc;
		}
	vtd_dma_destroy(g.d);
	g.d = NULL;
	t1 = mono_ns();
	take(g.v, g.m, &b);

	uint64_t dv[NLIB + NMODEL];

	for (size_t i = 0; i < NLIB + NMODEL; i++)
		dv[i] = b.v[i] - a.v[i];
	r->qi_submit = dv[0];
	r->psi = dv[1];
	r->dsi = dv[2];
	r->global = dv[3];
	r->piotlb = dv[4];
	r->devtlb = dv[5];
	r->wait = dv[6];
	r->fq_flush = dv[7];
	r->fq_entries = dv[8];
	r->iova_alloc = dv[9];
	r->iova_free = dv[10];
	r->iova_cache_hit = dv[11];
	r->m_desc = dv[NLIB + 0];
	r->m_psi = dv[NLIB + 1];
	r->m_dsi = dv[NLIB + 2];
	r->m_wait = dv[NLIB + 3];
	r->wbf = dv[NLIB + 4];
	r->iotlb_hit = dv[NLIB + 5];
	r->iotlb_miss = dv[NLIB + 6];
	r->dma_write = dv[NLIB + 7];
	r->dma_fault = dv[NLIB + 8];
	r->model_ns = dv[NLIB + 9];
	r->model_ns_per_pair = ((double)r->model_ns - (double)pairs * (double)gap) / pairs;
	r->wall_ns = t1 - t0;
	r->wall_ns_per_pair = (double)r->wall_ns / pairs;
	rig_fini(&g);
	if (!err && r->dma_fault)
		err = -EIO;
	return err;
}
