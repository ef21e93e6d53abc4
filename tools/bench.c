/*
 * bench.c — `vtdkit bench`: runs the ring workload for every mode with
 * caching mode off and on, @runs times each, and reports one row per
 * (mode, CM): counters and modelled time from the first run (they are
 * deterministic: every run must give the same, checked), wall-clock time
 * per pair as the median, min and max over the runs. One column table
 * (src/bench/report.h) prints as text, CSV or JSON, with the cost table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/progress.h"
#include "bench/report.h"
#include "bench/ring.h"
#include "bench.h"

struct cell {
	struct bench_ring_result r;	/* the first run's counters */
	double med, min, max;		/* wall ns per pair over the runs */
	bool varied;			/* a later run's counters differed */
};

/* The report's columns; REP_NOTEXT ones are in CSV and JSON only. */
static const struct rep_col cols[] = {
	{ "mode", "mode", REP_STR },
	{ "cm", "CM", REP_U64 },
	{ "pairs", "pairs", REP_U64 },
	{ "ring", "ring", REP_U64, NULL, REP_NOTEXT },
	{ "gap_ns", "gap", REP_U64, "ns", REP_NOTEXT },
	{ "iotlb_psi", "IOTLB.PSI", REP_U64 },
	{ "iotlb_dsi", "DSI", REP_U64 },
	{ "iotlb_global", "global", REP_U64, NULL, REP_NOTEXT },
	{ "waits", "waits", REP_U64 },
	{ "qi_submit", "submits", REP_U64 },
	{ "fq_flush", "fq.flush", REP_U64 },
	{ "iova_alloc", "iova.alloc", REP_U64, NULL, REP_NOTEXT },
	{ "iova_free", "iova.free", REP_U64, NULL, REP_NOTEXT },
	{ "model_desc", "model desc", REP_U64, NULL, REP_NOTEXT },
	{ "wbf", "wbf", REP_U64, NULL, REP_NOTEXT },
	{ "iotlb_hit", "IOTLB hit", REP_U64, NULL, REP_NOTEXT },
	{ "iotlb_miss", "IOTLB miss", REP_U64, NULL, REP_NOTEXT },
	{ "dma_write", "DMA writes", REP_U64, NULL, REP_NOTEXT },
	{ "model_ns", "model ns", REP_U64, "ns", REP_NOTEXT },
	{ "model_ns_per_pair", "model ns/pair", REP_F1, "ns" },
	{ "wall_ns_per_pair_median", "wall med", REP_F1, "ns" },
	{ "wall_ns_per_pair_min", "wall min", REP_F1, "ns" },
	{ "wall_ns_per_pair_max", "wall max", REP_F1, "ns" },
	{ "dma_fault", "faults", REP_U64 },
	{ "counters_varied", "varied", REP_BOOL, NULL, REP_NOTEXT },
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
#define NCELLS	(2 * sizeof(modes) / sizeof(modes[0]))

/* One row per cell; the table's first error, or 0. */
static int fill(struct rep_table *t, const struct cell *cells)
{
	for (size_t i = 0; i < NCELLS; i++) {
		const struct bench_ring_result *r = &cells[i].r;
		int row = rep_row(t);
		unsigned k = (unsigned)row;

		if (row < 0)
			return row;
		rep_set_str(t, k, "mode", bench_ring_mode_name(r->mode));
		rep_set_u64(t, k, "cm", i % 2);
		rep_set_u64(t, k, "pairs", r->pairs);
		rep_set_u64(t, k, "ring", r->ring);
		rep_set_u64(t, k, "gap_ns", r->gap_ns);
		rep_set_u64(t, k, "iotlb_psi", r->psi);
		rep_set_u64(t, k, "iotlb_dsi", r->dsi);
		rep_set_u64(t, k, "iotlb_global", r->global);
		rep_set_u64(t, k, "waits", r->wait);
		rep_set_u64(t, k, "qi_submit", r->qi_submit);
		rep_set_u64(t, k, "fq_flush", r->fq_flush);
		rep_set_u64(t, k, "iova_alloc", r->iova_alloc);
		rep_set_u64(t, k, "iova_free", r->iova_free);
		rep_set_u64(t, k, "model_desc", r->m_desc);
		rep_set_u64(t, k, "wbf", r->wbf);
		rep_set_u64(t, k, "iotlb_hit", r->iotlb_hit);
		rep_set_u64(t, k, "iotlb_miss", r->iotlb_miss);
		rep_set_u64(t, k, "dma_write", r->dma_write);
		rep_set_u64(t, k, "model_ns", r->model_ns);
		rep_set_f(t, k, "model_ns_per_pair", r->model_ns_per_pair);
		rep_set_f(t, k, "wall_ns_per_pair_median", cells[i].med);
		rep_set_f(t, k, "wall_ns_per_pair_min", cells[i].min);
		rep_set_f(t, k, "wall_ns_per_pair_max", cells[i].max);
		rep_set_u64(t, k, "dma_fault", r->dma_fault);
		rep_set_bool(t, k, "counters_varied", cells[i].varied);
		if (cells[i].varied)
			rep_note(t, k, "(counters varied between runs)");
	}
	return rep_error(t);
}

static int report(const struct bench_cfg *cfg, const struct cell *cells, FILE *out)
{
	static const enum rep_format fmt[] = {
		[BENCH_TEXT] = REP_TEXT, [BENCH_CSV] = REP_CSV, [BENCH_JSON] = REP_JSON,
	};
	enum rep_format f = cfg->format <= BENCH_JSON ? fmt[cfg->format] : REP_TEXT;
	const struct bench_ring_result *r0 = &cells[0].r;
	struct vtdm_costs costs;
	struct rep_table *t;
	char title[512];
	int rc;

	snprintf(title, sizeof(title),
		 "Ring workload: %u map/unmap pairs, ring of %u buffers (2-4 KiB, FROM_DEVICE),"
		 " %s, %llu ns inter-arrival; %u run%s per row.\n"
		 "model ns/pair = (model time over the run - pairs x inter-arrival) / pairs;"
		 " wall ns/pair: median [min, max] of the runs.",
		 r0->pairs, r0->ring, cfg->no_dma ? "no device DMA" : "64-byte device write per buffer",
		 (unsigned long long)r0->gap_ns, cfg->runs, cfg->runs == 1 ? "" : "s");
	t = rep_table_new(title, cols, sizeof(cols) / sizeof(cols[0]));
	if (!t)
		return -ENOMEM;
	rc = fill(t, cells);
	if (rc)
		goto out;
	bench_ring_costs(&costs);
	if (f == REP_JSON) {
		struct rep_json j;

		rep_json_begin(&j, out);
		rep_json_member_str(&j, "workload", "ring");
		rep_json_member_u64(&j, "pairs", r0->pairs);
		rep_json_member_u64(&j, "ring", r0->ring);
		rep_json_member_u64(&j, "gap_ns", r0->gap_ns);
		rep_json_member_bool(&j, "dma", !cfg->no_dma);
		rep_json_member_u64(&j, "runs", cfg->runs);
		rep_json_member_table(&j, "table", t);
		rep_json_member_costs(&j, "costs", &costs);
		rc = rep_json_end(&j);
		goto out;
	}
	/* Text and CSV: the table, a blank line, the cost table. */
	rc = rep_print(out, t, f);
	if (!rc) {
		fputc('\n', out);
		rc = rep_print_costs(out, &costs, f);
	}
out:
	rep_table_free(t);
	return rc;
}

int bench_matrix(const struct bench_cfg *cfg, FILE *out, FILE *err)
{
	struct cell cells[NCELLS];
	double *wall = calloc(cfg->runs, sizeof(*wall));
	struct progress bar;
	bool fault = false;
	int rc;

	if (!wall) {
		fputs("vtdkit bench: out of memory\n", err);
		return 2;
	}
	memset(cells, 0, sizeof(cells));
	progress_start_on(&bar, "vtdkit bench", (uint64_t)NCELLS * cfg->runs,
			  isatty(fileno(err)) ? err : NULL);
	for (size_t i = 0; i < NCELLS; i++) {
		struct bench_ring_opts o = { .mode = modes[i / 2], .cm = i % 2,
					     .pairs = cfg->pairs, .no_dma = cfg->no_dma };

		for (unsigned k = 0; k < cfg->runs; k++) {
			struct bench_ring_result r;

			rc = bench_ring_run(&o, &r);
			if (rc && !r.dma_fault) {
				progress_done(&bar);
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
			progress_update(&bar, i * cfg->runs + k + 1);
		}
		qsort(wall, cfg->runs, sizeof(*wall), cmp_double);
		cells[i].min = wall[0];
		cells[i].max = wall[cfg->runs - 1];
		cells[i].med = cfg->runs % 2 ? wall[cfg->runs / 2]
					     : (wall[cfg->runs / 2 - 1] + wall[cfg->runs / 2]) / 2;
	}
	free(wall);
	progress_done(&bar);
	rc = report(cfg, cells, out);
	if (rc) {
		fprintf(err, "vtdkit bench: cannot write the report: %s\n", strerror(-rc));
		return 2;
	}
	if (fault)
		fputs("vtdkit bench: a device DMA faulted (see the faults column)\n", err);
	return fault ? 1 : 0;
}
