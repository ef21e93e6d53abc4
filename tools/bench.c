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
#include <sys/stat.h>
#include <unistd.h>

#include "bench/plot.h"
#include "bench/progress.h"
#include "bench/report.h"
#include "bench/ring.h"
#include "bench.h"
#include "matrix.h"

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

/* The ring table, for the core's speed per map/unmap pair. */
static struct rep_table *ring_table(const struct bench_cfg *cfg, const struct cell *cells)
{
	const struct bench_ring_result *r0 = &cells[0].r;
	struct rep_table *t;
	char title[512];

	snprintf(title, sizeof(title),
		 "Ring workload (the core's speed): %u map/unmap pairs, ring of %u buffers (2-4 KiB,"
		 " FROM_DEVICE),\n%s, %llu ns inter-arrival; %u run%s per row."
		 " model ns/pair = (model time over the run\n- pairs x inter-arrival) / pairs;"
		 " wall ns/pair: median [min, max] of the runs.",
		 r0->pairs, r0->ring, cfg->no_dma ? "no device DMA" : "64-byte device write per buffer",
		 (unsigned long long)r0->gap_ns, cfg->runs, cfg->runs == 1 ? "" : "s");
	t = rep_table_new(title, cols, sizeof(cols) / sizeof(cols[0]));
	if (t && fill(t, cells)) {
		rep_table_free(t);
		t = NULL;
	}
	return t;
}

struct section {
	const char *name;
	struct rep_table *t;
};

/* Every section, then the cost table: text and CSV a blank line apart, or one JSON document. */
static int report(const struct bench_cfg *cfg, const struct section *sec, unsigned n, FILE *out,
		  enum rep_format f)
{
	struct vtdm_costs costs;
	int rc = 0;

	bench_ring_costs(&costs);
	if (f == REP_JSON) {
		struct rep_json j;

		rep_json_begin(&j, out);
		rep_json_member_u64(&j, "runs", cfg->runs);
		rep_json_member_u64(&j, "ops", cfg->ops);
		rep_json_member_u64(&j, "pairs", cfg->pairs);
		rep_json_member_bool(&j, "dma", !cfg->no_dma);
		for (unsigned i = 0; i < n; i++)
			if (sec[i].t)
				rep_json_member_table(&j, sec[i].name, sec[i].t);
		rep_json_member_costs(&j, "costs", &costs);
		return rep_json_end(&j);
	}
	for (unsigned i = 0; i < n && !rc; i++)
		if (sec[i].t) {
			rc = rep_print(out, sec[i].t, f);
			fputc('\n', out);
		}
	if (!rc)
		rc = rep_print_costs(out, &costs, f);
	return rc;
}

/* @dir/bench.json: the same document as --json. */
static int bench_write_out(const struct bench_cfg *cfg, const struct section *sec, unsigned n,
			   FILE *err)
{
	char path[512];
	FILE *f;
	int rc;

	if (mkdir(cfg->out, 0777) && errno != EEXIST) {
		fprintf(err, "vtdkit bench: cannot create %s: %s\n", cfg->out, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/bench.json", cfg->out);
	f = fopen(path, "w");
	if (!f) {
		fprintf(err, "vtdkit bench: cannot write %s: %s\n", path, strerror(errno));
		return -errno;
	}
	rc = report(cfg, sec, n, f, REP_JSON);
	if (fclose(f) && !rc)
		rc = -EIO;
	return rc;
}

int bench_matrix(const struct bench_cfg *cfg, FILE *out, FILE *err)
{
	static const enum rep_format fmt[] = {
		[BENCH_TEXT] = REP_TEXT, [BENCH_CSV] = REP_CSV, [BENCH_JSON] = REP_JSON,
	};
	enum rep_format f = cfg->format <= BENCH_JSON ? fmt[cfg->format] : REP_TEXT;
	struct section sec[4] = { { "workloads" }, { "traces" }, { "speed" }, { "ring" } };
	struct cell cells[NCELLS];
	double *wall = calloc(cfg->runs, sizeof(*wall));
	struct wl_result *res = cfg->out && cfg->ops ? calloc(MATRIX_CELLS, sizeof(*res)) : NULL;
	struct progress bar;
	bool fault = false, unsafe = false;
	uint64_t done = 0, total;
	int rc, status = 0;

	if (!wall) {
		fputs("vtdkit bench: out of memory\n", err);
		return 2;
	}
	memset(cells, 0, sizeof(cells));
	total = (uint64_t)NCELLS * cfg->runs + (cfg->ops ? MATRIX_CELLS : 0) + cfg->runs +
		(cfg->traces ? matrix_trace_count(cfg->traces) : 0);
	progress_start_on(&bar, "vtdkit bench", total, isatty(fileno(err)) ? err : NULL);
	if (cfg->ops) {
		sec[0].t = matrix_workloads(cfg->ops, res, &bar, &done, err, &unsafe);
		if (!sec[0].t) {
			status = 2;
			goto out;
		}
	}
	if (cfg->traces)
		sec[1].t = matrix_traces(cfg->traces, &bar, &done, err);
	sec[2].t = matrix_speed(cfg->runs, &bar, &done, err);
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
				status = 2;
				goto out;
			}
			fault |= r.dma_fault != 0;
			if (!k)
				cells[i].r = r;
			else if (!same_counts(&cells[i].r, &r))
				cells[i].varied = true;
			wall[k] = r.wall_ns_per_pair;
			progress_update(&bar, ++done);
		}
		qsort(wall, cfg->runs, sizeof(*wall), cmp_double);
		cells[i].min = wall[0];
		cells[i].max = wall[cfg->runs - 1];
		cells[i].med = cfg->runs % 2 ? wall[cfg->runs / 2]
					     : (wall[cfg->runs / 2 - 1] + wall[cfg->runs / 2]) / 2;
	}
	progress_done(&bar);
	sec[3].t = ring_table(cfg, cells);
	rc = report(cfg, sec, 4, out, f);
	if (!rc && cfg->out)
		rc = bench_write_out(cfg, sec, 4, err);
	/* The plots of the workload matrix, drawn when gnuplot is installed. */
	if (!rc && res) {
		char msg[300];

		rc = plot_write(cfg->out, res, MATRIX_CELLS, msg, sizeof(msg));
		if (!rc)
			rc = plot_render(cfg->out, msg, sizeof(msg));
		if (rc == -ENOENT) {
			fprintf(err, "vtdkit bench: gnuplot is not installed: %s has the plot data"
				" and %s, no images\n", cfg->out, PLOT_SCRIPT);
			rc = 0;
		} else if (rc) {
			fprintf(err, "vtdkit bench: plots: %s\n", msg);
		}
	}
	if (rc) {
		fprintf(err, "vtdkit bench: cannot write the report: %s\n", strerror(-rc));
		status = 2;
		goto out;
	}
	if (fault)
		fputs("vtdkit bench: a device DMA faulted (see the faults column)\n", err);
	if (unsafe)
		fputs("vtdkit bench: a workload run with well-behaved devices saw a violation\n", err);
	status = fault || unsafe ? 1 : 0;
out:
	free(wall);
	free(res);
	for (unsigned i = 0; i < 4; i++)
		rep_table_free(sec[i].t);
	return status;
}
