/*
 * bench.c — `vtdkit bench`: runs the ring workload for every mode with
 * caching mode off and on, @runs times each, and prints one row per
 * (mode, CM): counters and modelled time from the first run (they are
 * deterministic: every run must give the same, checked), wall-clock time
 * per pair as the median, min and max over the runs.
 */
#include <stdlib.h>
#include <string.h>

#include "bench/ring.h"
#include "bench.h"

struct cell {
	struct bench_ring_result r;	/* the first run's counters */
	double med, min, max;		/* wall ns per pair over the runs */
	bool varied;			/* a later run's counters differed */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static bool same_counts(const struct bench_ring_result *a, const struct bench_ring_result *b)
{
	return a->psi == b->psi && a->dsi == b->dsi && a->wait == b->wait &&
	       a->qi_submit == b->qi_submit && a->fq_flush == b->fq_flush &&
	       a->model_ns == b->model_ns && a->dma_fault == b->dma_fault;
}

static const enum vtd_dma_mode modes[] = { VTD_DMA_STRICT, VTD_DMA_LAZY, VTD_DMA_LAZY_RANGED };

static void print_costs(FILE *out, const char *prefix)
{
	struct vtdm_costs c;

	bench_ring_costs(&c);
	fprintf(out, "%sCost table (virtual ns per operation, docs/cost-model.md):\n", prefix);
	fprintf(out, "%s  mmio %llu  mem_access %llu  cache_lookup %llu  desc %llu  wait %llu\n",
		prefix, (unsigned long long)c.mmio, (unsigned long long)c.mem_access,
		(unsigned long long)c.cache_lookup, (unsigned long long)c.desc,
		(unsigned long long)c.wait);
	fprintf(out, "%s  devtlb_inv %llu  ats %llu  wbf %llu  reg_inv %llu  dma_per_4k %llu"
		"  ite_timeout %llu\n",
		prefix, (unsigned long long)c.devtlb_inv, (unsigned long long)c.ats,
		(unsigned long long)c.wbf, (unsigned long long)c.reg_inv,
		(unsigned long long)c.dma_per_4k, (unsigned long long)c.ite_timeout);
}

static void print_text(FILE *out, const struct bench_cfg *cfg, struct cell *cells, size_t n)
{
	fprintf(out, "Ring workload: %u map/unmap pairs, ring of %u buffers (2-4 KiB, FROM_DEVICE),"
		" %s, %llu ns inter-arrival; %u run%s per row.\n",
		cells[0].r.pairs, cells[0].r.ring,
		cfg->no_dma ? "no device DMA" : "64-byte device write per buffer",
		(unsigned long long)cells[0].r.gap_ns, cfg->runs, cfg->runs == 1 ? "" : "s");
	fprintf(out, "model ns/pair = (model time over the run - pairs x inter-arrival) / pairs;"
		" wall ns/pair: median [min, max] of the runs.\n\n");
	fprintf(out, "%-11s %2s %7s %9s %6s %8s %8s %8s %13s %9s %9s %9s %6s\n",
		"mode", "CM", "pairs", "IOTLB.PSI", "DSI", "waits", "submits", "fq.flush",
		"model ns/pair", "wall med", "wall min", "wall max", "faults");
	for (size_t i = 0; i < n; i++) {
		const struct bench_ring_result *r = &cells[i].r;

		fprintf(out, "%-11s %2d %7u %9llu %6llu %8llu %8llu %8llu %13.1f %9.1f %9.1f %9.1f"
			" %6llu%s\n",
			bench_ring_mode_name(r->mode), (int)(i % 2), r->pairs,
			(unsigned long long)r->psi, (unsigned long long)r->dsi,
			(unsigned long long)r->wait, (unsigned long long)r->qi_submit,
			(unsigned long long)r->fq_flush, r->model_ns_per_pair, cells[i].med,
			cells[i].min, cells[i].max, (unsigned long long)r->dma_fault,
			cells[i].varied ? "  (counters varied between runs)" : "");
	}
	fputc('\n', out);
	print_costs(out, "");
}

static void print_csv(FILE *out, struct cell *cells, size_t n)
{
	fputs("mode,cm,pairs,ring,gap_ns,iotlb_psi,iotlb_dsi,iotlb_global,waits,qi_submit,"
	      "fq_flush,iova_alloc,iova_free,model_desc,wbf,iotlb_hit,iotlb_miss,dma_write,"
	      "dma_fault,model_ns,model_ns_per_pair,wall_ns_per_pair_median,"
	      "wall_ns_per_pair_min,wall_ns_per_pair_max\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct bench_ring_result *r = &cells[i].r;

		fprintf(out, "%s,%d,%u,%u,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,"
			"%llu,%llu,%llu,%llu,%llu,%.1f,%.1f,%.1f,%.1f\n",
			bench_ring_mode_name(r->mode), (int)(i % 2), r->pairs, r->ring,
			(unsigned long long)r->gap_ns, (unsigned long long)r->psi,
			(unsigned long long)r->dsi, (unsigned long long)r->global,
			(unsigned long long)r->wait, (unsigned long long)r->qi_submit,
			(unsigned long long)r->fq_flush, (unsigned long long)r->iova_alloc,
			(unsigned long long)r->iova_free, (unsigned long long)r->m_desc,
			(unsigned long long)r->wbf, (unsigned long long)r->iotlb_hit,
			(unsigned long long)r->iotlb_miss, (unsigned long long)r->dma_write,
			(unsigned long long)r->dma_fault, (unsigned long long)r->model_ns,
			r->model_ns_per_pair, cells[i].med, cells[i].min, cells[i].max);
	}
}

static void print_json(FILE *out, const struct bench_cfg *cfg, struct cell *cells, size_t n)
{
	struct vtdm_costs c;

	bench_ring_costs(&c);
	fprintf(out, "{\"workload\":\"ring\",\"pairs\":%u,\"ring\":%u,\"gap_ns\":%llu,"
		"\"dma\":%s,\"runs\":%u,\"rows\":[",
		cells[0].r.pairs, cells[0].r.ring, (unsigned long long)cells[0].r.gap_ns,
		cfg->no_dma ? "false" : "true", cfg->runs);
	for (size_t i = 0; i < n; i++) {
		const struct bench_ring_result *r = &cells[i].r;

		fprintf(out, "%s{\"mode\":\"%s\",\"cm\":%d,\"iotlb_psi\":%llu,\"iotlb_dsi\":%llu,"
			"\"iotlb_global\":%llu,\"waits\":%llu,\"qi_submit\":%llu,\"fq_flush\":%llu,"
			"\"iova_alloc\":%llu,\"iova_free\":%llu,\"model_desc\":%llu,\"wbf\":%llu,"
			"\"iotlb_hit\":%llu,\"iotlb_miss\":%llu,\"dma_write\":%llu,"
			"\"dma_fault\":%llu,\"model_ns\":%llu,\"model_ns_per_pair\":%.1f,"
			"\"wall_ns_per_pair\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f},"
			"\"counters_varied\":%s}",
			i ? "," : "", bench_ring_mode_name(r->mode), (int)(i % 2),
			(unsigned long long)r->psi, (unsigned long long)r->dsi,
			(unsigned long long)r->global, (unsigned long long)r->wait,
			(unsigned long long)r->qi_submit, (unsigned long long)r->fq_flush,
			(unsigned long long)r->iova_alloc, (unsigned long long)r->iova_free,
			(unsigned long long)r->m_desc, (unsigned long long)r->wbf,
			(unsigned long long)r->iotlb_hit, (unsigned long long)r->iotlb_miss,
			(unsigned long long)r->dma_write, (unsigned long long)r->dma_fault,
			(unsigned long long)r->model_ns, r->model_ns_per_pair, cells[i].med,
			cells[i].min, cells[i].max, cells[i].varied ? "true" : "false");
	}
	fprintf(out, "],\"costs\":{\"mmio\":%llu,\"mem_access\":%llu,\"cache_lookup\":%llu,"
		"\"desc\":%llu,\"wait\":%llu,\"devtlb_inv\":%llu,\"ats\":%llu,\"wbf\":%llu,"
		"\"reg_inv\":%llu,\"dma_per_4k\":%llu,\"ite_timeout\":%llu}}\n",
		(unsigned long long)c.mmio, (unsigned long long)c.mem_access,
		(unsigned long long)c.cache_lookup, (unsigned long long)c.desc,
		(unsigned long long)c.wait, (unsigned long long)c.devtlb_inv,
		(unsigned long long)c.ats, (unsigned long long)c.wbf, (unsigned long long)c.reg_inv,
		(unsigned long long)c.dma_per_4k, (unsigned long long)c.ite_timeout);
}

int bench_matrix(const struct bench_cfg *cfg, FILE *out, FILE *err)
{
	struct cell cells[6];
	double *wall = calloc(cfg->runs, sizeof(*wall));
	bool fault = false;

	if (!wall) {
		fputs("vtdkit bench: out of memory\n", err);
		return 2;
	}
	memset(cells, 0, sizeof(cells));
	for (size_t i = 0; i < 6; i++) {
		struct bench_ring_opts o = { .mode = modes[i / 2], .cm = i % 2,
					     .pairs = cfg->pairs, .no_dma = cfg->no_dma };

		for (unsigned k = 0; k < cfg->runs; k++) {
			struct bench_ring_result r;
			int rc = bench_ring_run(&o, &r);

			if (rc && !r.dma_fault) {
				fprintf(err, "vtdkit bench: %s cm=%d: run failed: %s\n",
					bench_ring_mode_name(o.mode), (int)o.cm, strerror(-rc));
				free(wall);
				return 2;
			}
			fault |= r.dma_fault != 0;
			if (!k)
				cells[i].r = r;
			else if (!same_counts(&cells[i].r, &r))
				cells[i].varied = true;
			wall[k] = r.wall_ns_per_pair;
		}
		qsort(wall, cfg->runs, sizeof(*wall), cmp_double);
		cells[i].min = wall[0];
		cells[i].max = wall[cfg->runs - 1];
		cells[i].med = cfg->runs % 2 ? wall[cfg->runs / 2]
					     : (wall[cfg->runs / 2 - 1] + wall[cfg->runs / 2]) / 2;
	}
	free(wall);
	if (cfg->format == BENCH_CSV)
		print_csv(out, cells, 6);
	else if (cfg->format == BENCH_JSON)
		print_json(out, cfg, cells, 6);
	else
		print_text(out, cfg, cells, 6);
	if (fault)
		fputs("vtdkit bench: a device DMA faulted (see the faults column)\n", err);
	return fault ? 1 : 0;
}
