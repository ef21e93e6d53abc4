/*
 * report.c — `vtdkit report` of report.h: every asked workload under the
 * three policies (wl_run), a summary table and the cost table through
 * src/bench/report.h, then the plots of src/bench/plot.h and the list of
 * files written. The verdict is the oracle's, as in `vtdkit demo`.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/plot.h"
#include "bench/progress.h"
#include "report.h"

static const enum vtd_dma_mode modes[] = { VTD_DMA_STRICT, VTD_DMA_LAZY, VTD_DMA_LAZY_RANGED };
#define NMODES	(sizeof(modes) / sizeof(modes[0]))

/* Indices of the late columns, shown in text only with --late. */
#define COL_LATE_STALE	13

static const struct rep_col cols_tmpl[] = {
	{ "workload", "workload", REP_STR, NULL, 0 },
	{ "policy", "policy", REP_STR, NULL, 0 },
	{ "ops", "ops", REP_U64, NULL, REP_NOTEXT },
	{ "inv_per_op", "inv/op", REP_F2, "descriptors", 0 },
	{ "psi", "PSI", REP_U64, NULL, REP_NOTEXT },
	{ "dsi", "DSI", REP_U64, NULL, REP_NOTEXT },
	{ "devtlb", "devTLB", REP_U64, NULL, REP_NOTEXT },
	{ "waits_per_op", "waits/op", REP_F2, NULL, 0 },
	{ "ns_per_op", "ns/op", REP_F1, "ns", 0 },
	{ "iotlb_hit", "IOTLB hit", REP_PCT, NULL, 0 },
	{ "atc_hit", "devTLB hit", REP_PCT, NULL, 0 },
	{ "exposures", "windows", REP_U64, NULL, 0 },
	{ "exposure_p99_us", "p99 us", REP_F1, "us", 0 },
	[COL_LATE_STALE] = { "late_stale", "late stale", REP_U64, NULL, REP_NOTEXT },
	{ "late", "late", REP_U64, NULL, REP_NOTEXT },
	{ "late_faulted", "late faulted", REP_U64, NULL, REP_NOTEXT },
	{ "exposure_max_us", "max us", REP_F1, "us", REP_NOTEXT },
	{ "dma_faults", "DMA faults", REP_U64, NULL, REP_NOTEXT },
	{ "violations", "violations", REP_U64, NULL, 0 },
};
#define NCOLS	(sizeof(cols_tmpl) / sizeof(cols_tmpl[0]))

static const struct rep_col file_cols[] = {
	{ "file", "file", REP_STR, NULL, 0 },
	{ "what", "what", REP_STR, NULL, 0 },
};

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void fill_row(struct rep_table *t, const struct wl_result *r)
{
	double ops = r->ops ? (double)r->ops : 1.0;
	int row = rep_row(t);

	if (row < 0)
		return;
	rep_set_str(t, (unsigned)row, "workload", wl_name(r->workload));
	rep_set_str(t, (unsigned)row, "policy", wl_mode_name(r->mode));
	rep_set_u64(t, (unsigned)row, "ops", r->ops);
	rep_set_f(t, (unsigned)row, "inv_per_op", (double)(r->desc_total - r->desc_wait) / ops);
	rep_set_u64(t, (unsigned)row, "psi", r->desc_psi);
	rep_set_u64(t, (unsigned)row, "dsi", r->desc_dsi);
	rep_set_u64(t, (unsigned)row, "devtlb", r->desc_devtlb);
	rep_set_f(t, (unsigned)row, "waits_per_op", (double)r->desc_wait / ops);
	rep_set_f(t, (unsigned)row, "ns_per_op", r->ns_per_op);
	if (!isnan(r->iotlb_hit_rate))
		rep_set_f(t, (unsigned)row, "iotlb_hit", r->iotlb_hit_rate);
	if (!isnan(r->atc_hit_rate))
		rep_set_f(t, (unsigned)row, "atc_hit", r->atc_hit_rate);
	rep_set_u64(t, (unsigned)row, "exposures", r->exposure.count);
	rep_set_f(t, (unsigned)row, "exposure_p99_us", us(r->exposure.p99));
	rep_set_f(t, (unsigned)row, "exposure_max_us", us(r->exposure.max));
	if (r->late_dma) {
		rep_set_u64(t, (unsigned)row, "late", r->late);
		rep_set_u64(t, (unsigned)row, "late_stale", r->late_translated);
		rep_set_u64(t, (unsigned)row, "late_faulted", r->late_faulted);
	}
	rep_set_u64(t, (unsigned)row, "dma_faults", r->dma_faults);
	rep_set_u64(t, (unsigned)row, "violations", r->violations);
	if (r->mode != r->mode_asked && r->note[0])
		rep_note(t, (unsigned)row, r->note);
	else if (r->violations && !r->late_dma)
		rep_note(t, (unsigned)row, r->first_violation);
}

/* The files of @dir that plot_write and plot_render left, as a table. */
static struct rep_table *files_table(const char *dir, const char *state)
{
	struct rep_table *t;
	char title[600], path[4096];
	size_t n;
	const struct plot_file *f = plot_files(&n);

	snprintf(title, sizeof(title), "Plots in %s/ (%s; docs/plots.md):", dir, state);
	t = rep_table_new(title, file_cols, sizeof(file_cols) / sizeof(file_cols[0]));
	for (size_t i = 0; t && i < n; i++) {
		struct stat st;
		int row;

		snprintf(path, sizeof(path), "%s/%s", dir, f[i].name);
		if (stat(path, &st))
			continue;
		row = rep_row(t);
		if (row < 0)
			break;
		rep_set_str(t, (unsigned)row, "file", path);
		rep_set_str(t, (unsigned)row, "what", f[i].what);
	}
	return t;
}

static void title_of(const struct report_cfg *cfg, uint64_t ops, char *buf, size_t len)
{
	snprintf(buf, len,
		 "vtdkit report: %llu operations per run, caching mode %s, %s caches, seed 1%s.\n"
		 "inv/op: invalidation descriptors per operation, waits excluded; waits/op: wait\n"
		 "descriptors per operation; ns/op: modelled time per operation, idle gaps excluded\n"
		 "(costs: docs/cost-model.md); windows: exposure windows (an unmap's return to the\n"
		 "flush covering it), p99 us: their 99th percentile%s.",
		 (unsigned long long)ops, cfg->cm ? "on" : "off",
		 cfg->profile == VTDM_ADVERSARIAL ? "adversarial" : "exact",
		 cfg->late ? "; every device uses each buffer once more after its unmap" : "",
		 cfg->late ? "; late stale: those late accesses that\nwent through a stale"
		 " translation" : "");
}

int report_run(const struct report_cfg *cfg, FILE *out, FILE *err)
{
	enum wl_kind all[WL_NR];
	const enum wl_kind *wls = cfg->workloads;
	unsigned nw = cfg->nworkloads, nruns;
	uint64_t ops = cfg->ops ? cfg->ops : REPORT_DEFAULT_OPS;
	const char *dir = cfg->dir ? cfg->dir : REPORT_DEFAULT_DIR;
	struct rep_col cols[NCOLS];
	struct rep_table *t = NULL, *ft = NULL;
	struct progress_runs g = { .base = 0 };
	struct wl_result *res;
	char title[1024], msg[600], plot_err[600] = "", render_err[600] = "";
	struct vtdm_machine_cfg mc;
	bool unsafe = false, images = false, gnuplot;
	int ret = 2, prc, rrc = -ENOENT;

	if (!nw) {
		for (int w = 0; w < WL_NR; w++)
			all[w] = (enum wl_kind)w;
		wls = all;
		nw = WL_NR;
	}
	nruns = nw * (unsigned)NMODES;
	res = calloc(nruns, sizeof(*res));
	if (!res) {
		fputs("vtdkit report: out of memory\n", err);
		return 2;
	}
	progress_start(&g.p, "report", ops * nruns);
	for (unsigned i = 0; i < nruns; i++) {
		struct wl_opts o;

		wl_opts_init(&o, wls[i / NMODES]);
		o.mode = modes[i % NMODES];
		o.ops = ops;
		o.cm = cfg->cm;
		o.profile = cfg->profile;
		o.late_dma = cfg->late;
		o.progress = progress_runs_update;
		o.progress_arg = &g;
		if (wl_run(&o, &res[i], msg, sizeof(msg))) {
			progress_done(&g.p);
			fprintf(err, "vtdkit report: %s, %s: %s\n", wl_name(o.workload),
				wl_mode_name(o.mode), msg);
			goto out;
		}
		g.base += ops;
		unsafe |= !cfg->late && res[i].violations;
	}
	progress_done(&g.p);

	/* The plots first: the JSON document lists the files written. */
	prc = plot_write(dir, res, nruns, plot_err, sizeof(plot_err));
	gnuplot = plot_have_gnuplot();
	if (!prc && gnuplot) {
		rrc = plot_render(dir, render_err, sizeof(render_err));
		images = !rrc;
	}

	memcpy(cols, cols_tmpl, sizeof(cols));
	if (cfg->late)
		cols[COL_LATE_STALE].flags &= ~REP_NOTEXT;
	title_of(cfg, ops, title, sizeof(title));
	t = rep_table_new(title, cols, NCOLS);
	if (!t) {
		fputs("vtdkit report: out of memory\n", err);
		goto out;
	}
	for (unsigned i = 0; i < nruns; i++)
		fill_row(t, &res[i]);
	ft = prc ? NULL : files_table(dir, images ? "data, script and images" :
				      !gnuplot ? "data and script; gnuplot is not installed" :
				      "data and script; gnuplot failed");
	if (rep_error(t) || (!prc && (!ft || rep_error(ft)))) {
		fprintf(err, "vtdkit report: report: %s\n",
			strerror(rep_error(t) ? -rep_error(t) : ft ? -rep_error(ft) : ENOMEM));
		goto out;
	}
	vtdm_machine_cfg_default(&mc);
	if (cfg->format == REP_JSON) {
		struct rep_json j;

		rep_json_begin(&j, out);
		rep_json_member_u64(&j, "ops", ops);
		rep_json_member_bool(&j, "cm", cfg->cm);
		rep_json_member_str(&j, "profile",
				    cfg->profile == VTDM_ADVERSARIAL ? "adversarial" : "exact");
		rep_json_member_bool(&j, "late", cfg->late);
		rep_json_member_u64(&j, "seed", 1);
		rep_json_member_table(&j, "runs", t);
		rep_json_member_costs(&j, "costs", &mc.costs);
		rep_json_member_str(&j, "dir", dir);
		rep_json_member_bool(&j, "gnuplot", gnuplot);
		rep_json_member_bool(&j, "images", images);
		if (ft)
			rep_json_member_table(&j, "files", ft);
		rep_json_end(&j);
	} else {
		rep_print(out, t, cfg->format);
		fputc('\n', out);
		if (cfg->format == REP_TEXT)
			fputc('\n', out);
		rep_print_costs(out, &mc.costs, cfg->format);
		if (ft) {
			fputc('\n', out);
			if (cfg->format == REP_TEXT)
				fputc('\n', out);
			rep_print(out, ft, cfg->format);
		}
	}
	fflush(out);
	ret = unsafe ? 1 : 0;
	if (prc) {
		fprintf(err, "vtdkit report: plots: %s\n", plot_err);
		ret = 2;
	} else if (!gnuplot) {
		fprintf(cfg->format == REP_TEXT ? out : err,
			"%sgnuplot is not installed: no images were drawn. The data files and"
			" %s are in %s/;\ninstall gnuplot and run 'gnuplot %s' there to draw"
			" them.\n", cfg->format == REP_TEXT ? "\n" : "vtdkit report: ",
			PLOT_SCRIPT, dir, PLOT_SCRIPT);
	} else if (rrc) {
		fprintf(err, "vtdkit report: drawing the plots in %s/: %s\n", dir, render_err);
		ret = 2;
	} else if (render_err[0]) {
		fprintf(err, "vtdkit report: gnuplot: %s\n", render_err);
	}
out:
	rep_table_free(ft);
	rep_table_free(t);
	free(res);
	return ret;
}
