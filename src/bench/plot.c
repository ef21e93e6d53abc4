/*
 * plot.c — the plots of plot.h: results grouped into clusters (workload,
 * cm, profile, late_dma) × policies, written as whitespace-separated data
 * files and one gnuplot script, and gnuplot run on it with fork/exec.
 *
 * Facts about gnuplot relied on (gnuplot 5.4 manual, gnuplot.info/docs_5.4/
 * Gnuplot_5_4.pdf: "Datafile", "Histograms", "Multiplot", "Do", "Eval",
 * "Reset"; checked with Debian 12's gnuplot-nox 5.4.4):
 *  - in a data file, a double-quoted string is one column, "#" starts a
 *    comment, two blank lines end a data block that "index" selects, and
 *    a value that is not a number ("NaN") is undefined and not drawn;
 *  - "set style histogram clustered" draws one cluster per row, one bar
 *    per "using" column, the row's label from xtic(1);
 *  - GPVAL_TERMINALS lists the terminals this gnuplot was built with;
 *    Debian's gnuplot-nox has pngcairo, png (libgd) and svg;
 *  - "reset" restores every setting except the terminal and the output;
 *    "do for [s in "a b"] { ... }" runs a block once per word.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/plot.h"

#define NPOL		(VTD_DMA_LAZY_RANGED + 1)
#define FOOTER_COST	"costs: docs/cost-model.md"

static const struct plot_file files[] = {
	{ "cost.dat", "modelled ns per operation: a row per workload, a column per policy", false },
	{ "inval.dat", "invalidation descriptors and waits per operation", false },
	{ "hitrate.dat", "IOTLB and device-TLB hit rates, percent", false },
	{ "exposure.dat", "exposure-window histograms and CDFs: a block per workload and policy",
	  false },
	{ PLOT_SCRIPT, "the gnuplot script that draws the images from the data files", false },
	{ "cost.png", "(a) modelled cost per operation, by policy", true },
	{ "cost.svg", "(a) as SVG", true },
	{ "inval.png", "(b) invalidation descriptors and waits per operation", true },
	{ "inval.svg", "(b) as SVG", true },
	{ "exposure.png", "(c) exposure windows: share shorter than x (CDF)", true },
	{ "exposure.svg", "(c) as SVG", true },
	{ "exposure-hist.png", "(c) exposure windows: count per power-of-two bucket", true },
	{ "exposure-hist.svg", "(c) as SVG", true },
	{ "hitrate.png", "(d) IOTLB and device-TLB hit rates", true },
	{ "hitrate.svg", "(d) as SVG", true },
};

const struct plot_file *plot_files(size_t *n)
{
	*n = sizeof(files) / sizeof(files[0]);
	return files;
}

/* One cluster of bars (one panel of the exposure plots). */
struct grp {
	enum wl_kind w;
	bool cm, late;
	enum vtdm_profile prof;
	const struct wl_result *r[NPOL];	/* by mode_asked; NULL: not run */
	char label[64];
	int minb, maxb;		/* lowest and highest exposure bucket with a window; -1: none */
};

struct plot {
	const char *dir;
	char *err;
	size_t errlen;
	struct grp *g;
	unsigned ng;
	enum vtd_dma_mode pol[NPOL];	/* the policies present, in enum order */
	unsigned npol;
	char footer[256];
};

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static const char *profile_name(enum vtdm_profile p)
{
	return p == VTDM_ADVERSARIAL ? "adversarial" : "exact";
}

/* ---- grouping ---- */

static void footer_add(struct plot *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void footer_add(struct plot *p, const char *fmt, ...)
{
	size_t len = strlen(p->footer);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->footer + len, sizeof(p->footer) - len, fmt, ap);
	va_end(ap);
}

static int group(struct plot *p, const struct wl_result *r, size_t n)
{
	bool present[NPOL] = { false };
	bool vary_cm = false, vary_prof = false, vary_late = false;
	bool vary_ops = false, vary_seed = false;

	p->g = calloc(n, sizeof(*p->g));
	if (!p->g)
		return fail(p->err, p->errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct wl_result *x = &r[i];
		struct grp *g = NULL;

		if ((unsigned)x->workload >= WL_NR || (unsigned)x->mode_asked >= NPOL ||
		    (x->profile != VTDM_EXACT && x->profile != VTDM_ADVERSARIAL))
			return fail(p->err, p->errlen, -EINVAL,
				    "result %zu: workload %d, mode %d or profile %d out of range", i,
				    (int)x->workload, (int)x->mode_asked, (int)x->profile);
		for (unsigned k = 0; k < p->ng && !g; k++)
			if (p->g[k].w == x->workload && p->g[k].cm == x->cm &&
			    p->g[k].prof == x->profile && p->g[k].late == x->late_dma)
				g = &p->g[k];
		if (!g) {
			g = &p->g[p->ng++];
			*g = (struct grp){ .w = x->workload, .cm = x->cm, .prof = x->profile,
					   .late = x->late_dma, .minb = -1, .maxb = -1 };
		}
		if (g->r[x->mode_asked])
			return fail(p->err, p->errlen, -EINVAL,
				    "results %zu and %zu are both %s under %s (cm=%d, %s, late=%d)",
				    (size_t)(g->r[x->mode_asked] - r), i, wl_name(x->workload),
				    wl_mode_name(x->mode_asked), x->cm, profile_name(x->profile),
				    x->late_dma);
		g->r[x->mode_asked] = x;
		present[x->mode_asked] = true;
		for (int b = 0; b < CHK_EXPO_BUCKETS; b++)
			if (x->exposure_hist[b]) {
				if (g->minb < 0 || b < g->minb)
					g->minb = b;
				if (b > g->maxb)
					g->maxb = b;
			}
		vary_cm |= x->cm != r[0].cm;
		vary_prof |= x->profile != r[0].profile;
		vary_late |= x->late_dma != r[0].late_dma;
		vary_ops |= x->ops != r[0].ops;
		vary_seed |= x->seed != r[0].seed;
	}
	for (int m = 0; m < NPOL; m++)
		if (present[m])
			p->pol[p->npol++] = (enum vtd_dma_mode)m;
	for (unsigned k = 0; k < p->ng; k++) {
		struct grp *g = &p->g[k];

		snprintf(g->label, sizeof(g->label), "%s%s%s%s", wl_name(g->w),
			 vary_cm ? (g->cm ? " cm=1" : " cm=0") : "",
			 vary_prof ? (g->prof == VTDM_ADVERSARIAL ? " adversarial" : " exact") : "",
			 vary_late && g->late ? " late" : "");
	}
	/* The footer: what all runs share (what differs is in the cluster names). */
	footer_add(p, "vtdkit report: ");
	if (vary_ops)
		footer_add(p, "operations per run varying");
	else
		footer_add(p, "%llu operations per run", (unsigned long long)r[0].ops);
	if (vary_seed)
		footer_add(p, ", seeds varying");
	else
		footer_add(p, ", seed %llu", (unsigned long long)r[0].seed);
	if (!vary_cm)
		footer_add(p, ", caching mode %s", r[0].cm ? "on" : "off");
	if (!vary_prof)
		footer_add(p, ", %s caches", profile_name(r[0].profile));
	if (!vary_late && r[0].late_dma)
		footer_add(p, ", devices use buffers after unmap");
	footer_add(p, "; " FOOTER_COST);
	return 0;
}

/* ---- files ---- */

static int mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);
	struct stat st;

	if (!len)
		return -ENOENT;
	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(path, 0777) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(path, 0777) && errno != EEXIST)
		return -errno;
	if (stat(path, &st))
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static FILE *open_out(struct plot *p, const char *name, int *ret)
{
	char path[PATH_MAX];
	FILE *f;

	*ret = join(path, sizeof(path), p->dir, name);
	if (*ret) {
		fail(p->err, p->errlen, *ret, "%s/%s: %s", p->dir, name, strerror(-*ret));
		return NULL;
	}
	f = fopen(path, "w");
	if (!f)
		*ret = fail(p->err, p->errlen, -errno, "%s: %s", path, strerror(errno));
	return f;
}

static int close_out(struct plot *p, FILE *f, const char *name)
{
	bool bad = ferror(f);
	int e = EIO;

	if (fclose(f)) {
		e = errno;
		bad = true;
	}
	if (bad)
		return fail(p->err, p->errlen, -e, "writing %s/%s: %s", p->dir, name, strerror(e));
	return 0;
}

/* A value for gnuplot: NaN (undefined, not drawn) when it is not finite. */
static void put(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, " %.4f", v);
	else
		fputs(" NaN", f);
}

static double per_op(uint64_t v, const struct wl_result *r)
{
	return r->ops ? (double)v / (double)r->ops : NAN;
}

/* The plotted quantities, each one column per policy in its data file. */
static double v_ns(const struct wl_result *r)
{
	return r->ns_per_op;
}

static double v_desc(const struct wl_result *r)
{
	return per_op(r->desc_total - r->desc_wait, r);
}

static double v_wait(const struct wl_result *r)
{
	return per_op(r->desc_wait, r);
}

static double v_iotlb(const struct wl_result *r)
{
	return 100.0 * r->iotlb_hit_rate;
}

static double v_atc(const struct wl_result *r)
{
	return 100.0 * r->atc_hit_rate;
}

typedef double (*value_fn)(const struct wl_result *r);

/* Cluster @k's value of @val under policy @j; NaN when it was not run. */
static double value(const struct plot *p, unsigned k, unsigned j, value_fn val)
{
	const struct wl_result *r = p->g[k].r[p->pol[j]];

	return r ? val(r) : NAN;
}

/* Has policy @j (every policy: @j < 0) a value of @val to draw? */
static bool has_value(const struct plot *p, int j, value_fn val)
{
	for (unsigned k = 0; k < p->ng; k++)
		for (unsigned i = 0; i < p->npol; i++)
			if ((j < 0 || (unsigned)j == i) && isfinite(value(p, k, i, val)))
				return true;
	return false;
}

/*
 * A table: the comment @what, a header, then a row per cluster — its
 * label quoted, then for each of @val[0..@n) one column per policy.
 */
static void write_bars(const struct plot *p, FILE *f, const char *what, const value_fn *val,
		       const char *const *suffix, unsigned n)
{
	fprintf(f, "# vtdkit report: %s\n# cluster", what);
	for (unsigned s = 0; s < n; s++)
		for (unsigned j = 0; j < p->npol; j++)
			fprintf(f, " %s%s", wl_mode_name(p->pol[j]), suffix[s]);
	fputc('\n', f);
	for (unsigned k = 0; k < p->ng; k++) {
		fprintf(f, "\"%s\"", p->g[k].label);
		for (unsigned s = 0; s < n; s++)
			for (unsigned j = 0; j < p->npol; j++)
				put(f, value(p, k, j, val[s]));
		fputc('\n', f);
	}
}

static void write_cost(const struct plot *p, FILE *f)
{
	static const value_fn val[] = { v_ns };
	static const char *const suffix[] = { "" };

	write_bars(p, f, "modelled cost per operation, virtual ns, idle gaps excluded"
		   " (wl_result.ns_per_op; " FOOTER_COST ")", val, suffix, 1);
}

static void write_inval(const struct plot *p, FILE *f)
{
	static const value_fn val[] = { v_desc, v_wait };
	static const char *const suffix[] = { ".desc", ".wait" };

	write_bars(p, f, "invalidation descriptors per operation ((desc_total - desc_wait) / ops),"
		   " then wait descriptors per operation (desc_wait / ops)", val, suffix, 2);
}

static void write_hitrate(const struct plot *p, FILE *f)
{
	static const value_fn val[] = { v_iotlb, v_atc };
	static const char *const suffix[] = { ".iotlb", ".devtlb" };

	write_bars(p, f, "IOTLB hit rate (iotlb_hit_rate), then device-TLB hit rate"
		   " (atc_hit_rate), percent; NaN: no lookup, or no device TLB", val, suffix, 2);
}

static uint64_t windows(const struct wl_result *r)
{
	uint64_t n = 0;

	for (int b = 0; r && b < CHK_EXPO_BUCKETS; b++)
		n += r->exposure_hist[b];
	return n;
}

/*
 * One block per (cluster, policy), cluster-major, block k*npol + j. Row
 * b stands for bucket b of exposure_hist (0: windows of 0 ns; b: windows
 * in [2^(b-1), 2^b) ns) and sits at x = 2^b ns, so that the CDF column
 * is exactly the share of windows shorter than x. A cluster's rows run
 * from the bucket below its shortest window (CDF 0) to its longest.
 */
static void write_exposure(const struct plot *p, FILE *f)
{
	fputs("# vtdkit report: exposure windows, an unmap's return to the flush covering it"
	      " (exposure_hist)\n# A block per cluster and policy. Row b: bucket b (0: windows of"
	      " 0 ns; b > 0: [2^(b-1), 2^b) ns),\n# at x = 2^b ns; below_pct: share of windows"
	      " shorter than x (NaN: no windows).\n", f);
	for (unsigned k = 0; k < p->ng; k++)
		for (unsigned j = 0; j < p->npol; j++) {
			const struct wl_result *r = p->g[k].r[p->pol[j]];
			uint64_t total = windows(r), below = 0;
			int lo, hi;

			fprintf(f, "%s# block %u: %s %s, %llu windows\n# x_us count below_pct"
				" bucket\n", k + j ? "\n\n" : "", k * p->npol + j, p->g[k].label,
				wl_mode_name(p->pol[j]), (unsigned long long)total);
			lo = p->g[k].minb > 0 ? p->g[k].minb - 1 : 0;
			hi = p->g[k].maxb > 0 ? p->g[k].maxb : 0;
			for (int b = lo; b <= hi; b++) {
				uint64_t c = r ? r->exposure_hist[b] : 0;

				below += c;
				fprintf(f, "%.6g %llu", ldexp(1.0, b) / 1000.0, (unsigned long long)c);
				put(f, total ? 100.0 * (double)below / (double)total : NAN);
				fprintf(f, " %d\n", b);
			}
		}
}

/* ---- the script ---- */

static void bar_style(FILE *f)
{
	fputs("\tset style data histograms\n"
	      "\tset style histogram clustered gap 1\n"
	      "\tset style fill solid 0.85 border -1\n"
	      "\tset key inside top right horizontal opaque box\n"
	      "\tset grid ytics\n"
	      "\tset xtics nomirror rotate by -40 left font \",9\"\n"
	      "\tset offsets 0, 0, graph 0.15, 0\n", f);
}

/*
 * The y range of bars from 0: autoscaled, but fixed when every bar is 0
 * (or absent), as gnuplot widens an empty range with a warning.
 */
static void bar_range(const struct plot *p, FILE *f, value_fn val)
{
	for (unsigned k = 0; k < p->ng; k++)
		for (unsigned j = 0; j < p->npol; j++)
			if (value(p, k, j, val) > 0) {
				fputs("\tset yrange [0:*]\n", f);
				return;
			}
	fputs("\tset yrange [0:1]\n", f);
}

/*
 * "plot FILE using C:xtic(1) title ..., ..." over the policies, from
 * column @col. gnuplot refuses a histogram column without one valid
 * point ("No valid points in histogram"): such a policy gets bars of
 * height 0, which keep the clusters' layout, and says so in the key.
 */
static void bar_plot(const struct plot *p, FILE *f, const char *file, unsigned col,
		     value_fn val)
{
	fprintf(f, "\tplot ");
	for (unsigned j = 0; j < p->npol; j++) {
		bool none = !has_value(p, (int)j, val);
		char using[16];

		if (none)
			snprintf(using, sizeof(using), "(0)");
		else
			snprintf(using, sizeof(using), "%u", col + j);
		fprintf(f, "%s\"%s\" using %s%s title \"%s%s\"", j ? ", \\\n\t     " : "",
			j ? "" : file, using, j ? "" : ":xtic(1)", wl_mode_name(p->pol[j]),
			none ? " (no data)" : "");
	}
	fputc('\n', f);
}

static void begin(FILE *f, const char *what, const char *name, unsigned w, unsigned h)
{
	fprintf(f, "\n# %s\n"
		"do for [fmt in \"png svg\"] {\n"
		"\treset\n"
		"\teval term(fmt, %u, %u)\n"
		"\tset output \"%s.\".fmt\n", what, w, h, name);
}

static void exposure_plot(const struct plot *p, FILE *f, bool cdf)
{
	unsigned cols = p->ng == 1 ? 1 : p->ng <= 4 ? 2 : 3;
	unsigned rows = (p->ng + cols - 1) / cols;
	double w = cols == 1 ? 900 : 480.0 * cols + 60, h = 340.0 * rows + 170;

	begin(f, cdf ? "(c) exposure windows, CDF" : "(c) exposure windows, histogram",
	      cdf ? "exposure" : "exposure-hist", (unsigned)w, (unsigned)h);
	/*
	 * Pixels kept free: 105 left and 110 between columns for the y labels,
	 * 70 for the title, 90 for the x label and footer, 100 between rows.
	 */
	fprintf(f, "\tset multiplot layout %u,%u title \"%s\" margins %.3f,0.97,%.3f,%.3f"
		" spacing %.3f,%.3f\n", rows, cols, cdf ?
		"Exposure windows: time from an unmap's return to the flush that covers it\\n"
		"(share of windows shorter than x, per policy)" :
		"Exposure windows: time from an unmap's return to the flush that covers it\\n"
		"(windows per power-of-two bucket, per policy)",
		105.0 / w, 90.0 / h, 1.0 - 70.0 / h, 110.0 / w, 100.0 / h);
	fputs("\tset logscale x 10\n"
	      "\tset format x \"%g\"\n"
	      "\tset grid xtics ytics\n"
	      "\tset key top left\n"
	      "\tset xlabel \"exposure window, µs (log scale)\"\n", f);
	if (cdf)
		/* Room above 100% for the key. */
		fputs("\tset ylabel \"windows shorter than x, %\"\n"
		      "\tset yrange [0:135]\n"
		      "\tset ytics 0, 20, 100\n", f);
	else
		fputs("\tset ylabel \"windows in [x/2, x)\"\n"
		      "\tset logscale y 10\n"
		      "\tset offsets 0, 0, graph 0.25, 0\n", f);
	fprintf(f, "\tset label 1 \"%s\" at screen 0.99, screen 0.015 right font \",8\"\n",
		p->footer);
	for (unsigned k = 0; k < p->ng; k++) {
		unsigned drawn = 0;

		fprintf(f, "\tset title \"%s\"\n", p->g[k].label);
		for (unsigned j = 0; j < p->npol; j++) {
			if (!windows(p->g[k].r[p->pol[j]]))
				continue;
			fprintf(f, "%s\"exposure.dat\" index %u using 1:%u with linespoints"
				" title \"%s\"", drawn ? ", \\\n\t     " : "\tplot ",
				k * p->npol + j, cdf ? 3 : 2, wl_mode_name(p->pol[j]));
			drawn++;
		}
		if (drawn) {
			fputc('\n', f);
		} else {
			/* Nothing to draw: an empty frame saying so, ranges fixed. */
			fprintf(f, "\tset xrange [0.001:1]\n"
				"\tset yrange [%s]\n"
				"\tset label 2 \"no exposure windows\" at graph 0.5, graph 0.5 center\n"
				"\tplot NaN notitle\n"
				"\tunset label 2\n"
				"\tset autoscale x\n"
				"\t%s\n", cdf ? "0:135" : "1:10",
				cdf ? "set yrange [0:135]" : "set autoscale y");
		}
		if (!k)
			fputs("\tunset label 1\n", f);
	}
	fputs("\tunset multiplot\n}\n", f);
}

static void write_script(const struct plot *p, FILE *f)
{
	bool any_atc = has_value(p, -1, v_atc);

	fprintf(f, "# %s — vtdkit report's plots, drawn from the .dat files beside it.\n"
		"# Run it in this directory: gnuplot %s. Each plot is drawn as PNG and SVG.\n"
		"# Written by vtdkit (src/bench/plot.c); docs/plots.md says what each plot shows.\n"
		"# %s\n\n"
		"set encoding utf8\n"
		"if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
		"\tpng_term = \"set terminal pngcairo noenhanced font 'sans,10' size \"\n"
		"} else {\n"
		"\tpng_term = \"set terminal png noenhanced size \"\n"
		"}\n"
		"svg_term = \"set terminal svg dynamic noenhanced font 'sans,10'"
		" background '#ffffff' size \"\n"
		"term(fmt, w, h) = (fmt eq \"png\" ? png_term : svg_term) . sprintf(\"%%d,%%d\", w, h)\n"
		"footer = \"%s\"\n",
		PLOT_SCRIPT, PLOT_SCRIPT, p->footer, p->footer);

	begin(f, "(a) modelled cost per operation", "cost", 1000, 700);
	bar_style(f);
	fputs("\tset title \"Modelled cost per operation, by unmap policy\\n"
	      "(virtual ns per operation, idle gaps excluded)\"\n"
	      "\tset xlabel \"workload\"\n"
	      "\tset ylabel \"modelled ns per operation\"\n"
	      "\tset bmargin 10\n"
	      "\tset label 1 footer at screen 0.99, screen 0.015 right font \",8\"\n", f);
	bar_range(p, f, v_ns);
	bar_plot(p, f, "cost.dat", 2, v_ns);
	fputs("}\n", f);

	begin(f, "(b) invalidation descriptors and waits per operation", "inval", 1000, 1000);
	bar_style(f);
	fputs("\tset multiplot layout 2,1 title \"Invalidation work per operation, by unmap"
	      " policy\" margins 0.08,0.97,0.16,0.9 spacing 0,0.16\n"
	      "\tset ylabel \"descriptors per operation\"\n"
	      "\tset title \"invalidation descriptors submitted, wait descriptors excluded\"\n"
	      "\tset label 1 footer at screen 0.99, screen 0.015 right font \",8\"\n", f);
	bar_range(p, f, v_desc);
	bar_plot(p, f, "inval.dat", 2, v_desc);
	fputs("\tunset label 1\n"
	      "\tset key off\n"
	      "\tset ylabel \"waits per operation\"\n"
	      "\tset title \"wait descriptors (the CPU waits for the queue to drain)\"\n"
	      "\tset xlabel \"workload\"\n", f);
	bar_range(p, f, v_wait);
	bar_plot(p, f, "inval.dat", 2 + p->npol, v_wait);
	fputs("\tunset multiplot\n}\n", f);

	exposure_plot(p, f, true);
	exposure_plot(p, f, false);

	begin(f, "(d) IOTLB and device-TLB hit rates", "hitrate", 1000, any_atc ? 1000 : 700);
	bar_style(f);
	fputs("\tset yrange [0:120]\n"
	      "\tset ytics 0, 20, 100\n", f);
	if (any_atc)
		fputs("\tset multiplot layout 2,1 title \"Translation cache hit rates, by unmap"
		      " policy\" margins 0.08,0.97,0.16,0.9 spacing 0,0.16\n"
		      "\tset title \"IOTLB (in the remapping unit)\"\n", f);
	else
		fputs("\tset title \"IOTLB hit rate, by unmap policy (no device TLB in these"
		      " runs)\"\n"
		      "\tset xlabel \"workload\"\n"
		      "\tset bmargin 10\n", f);
	fputs("\tset ylabel \"hits, % of lookups\"\n"
	      "\tset label 1 footer at screen 0.99, screen 0.015 right font \",8\"\n", f);
	bar_plot(p, f, "hitrate.dat", 2, v_iotlb);
	if (any_atc) {
		fputs("\tunset label 1\n"
		      "\tset key off\n"
		      "\tset title \"device TLB (ATS; no bar: the workload has no device TLB)\"\n"
		      "\tset xlabel \"workload\"\n", f);
		bar_plot(p, f, "hitrate.dat", 2 + p->npol, v_atc);
		fputs("\tunset multiplot\n", f);
	}
	fputs("}\nunset output\n", f);
}

int plot_write(const char *dir, const struct wl_result *r, size_t n, char *err, size_t errlen)
{
	/* In the order of files[]: writers[i] writes files[i]. */
	static void (*const writers[])(const struct plot *p, FILE *f) = {
		write_cost, write_inval, write_hitrate, write_exposure, write_script,
	};
	struct plot p = { .dir = dir, .err = err, .errlen = errlen };
	int ret;

	if (err && errlen)
		err[0] = 0;
	if (!dir || !r || !n)
		return fail(err, errlen, -EINVAL, "no directory or no results to plot");
	/* The results are checked before anything is made. */
	ret = group(&p, r, n);
	if (!ret) {
		ret = mkdir_p(dir);
		if (ret)
			fail(err, errlen, ret, "cannot create directory %s: %s", dir,
			     strerror(-ret));
	}
	/* Images of an earlier run would not match the new data. */
	for (size_t i = 0; !ret && i < sizeof(files) / sizeof(files[0]); i++) {
		char path[PATH_MAX];

		if (!files[i].image || join(path, sizeof(path), dir, files[i].name))
			continue;
		if (unlink(path) && errno != ENOENT)
			ret = fail(err, errlen, -errno, "cannot remove %s: %s", path,
				   strerror(errno));
	}
	for (size_t i = 0; !ret && i < sizeof(writers) / sizeof(writers[0]); i++) {
		FILE *f = open_out(&p, files[i].name, &ret);

		if (!f)
			break;
		writers[i](&p, f);
		ret = close_out(&p, f, files[i].name);
	}
	free(p.g);
	return ret;
}

/* ---- running gnuplot ---- */

/* The absolute path of "gnuplot" on PATH into @buf; false when none. */
static bool find_gnuplot(char *buf, size_t len)
{
	const char *path = getenv("PATH");
	char def[256], cand[PATH_MAX];

	if (!path) {
		/* As execvp does without PATH: the system's default (confstr, POSIX). */
		size_t n = confstr(_CS_PATH, def, sizeof(def));

		path = n && n <= sizeof(def) ? def : "/usr/bin:/bin";
	}
	while (path) {
		const char *end = strchr(path, ':');
		size_t dl = end ? (size_t)(end - path) : strlen(path);
		struct stat st;
		int n;

		/* An empty entry is the current directory. */
		if (dl)
			n = snprintf(cand, sizeof(cand), "%.*s/gnuplot", (int)dl, path);
		else
			n = snprintf(cand, sizeof(cand), "./gnuplot");
		if (n > 0 && (size_t)n < sizeof(cand) && !stat(cand, &st) && S_ISREG(st.st_mode) &&
		    !access(cand, X_OK)) {
			char cwd[PATH_MAX];

			/* Absolute, as the child runs it after its chdir. */
			if (cand[0] == '/')
				n = snprintf(buf, len, "%s", cand);
			else if (getcwd(cwd, sizeof(cwd)))
				n = snprintf(buf, len, "%s/%s", cwd, cand);
			else
				return false;
			return n > 0 && (size_t)n < len;
		}
		path = end ? end + 1 : NULL;
	}
	return false;
}

bool plot_have_gnuplot(void)
{
	char exe[PATH_MAX];

	return find_gnuplot(exe, sizeof(exe));
}

/* The first non-blank line of @s (@last: the last one) into @out. */
static void pick_line(const char *s, bool last, char *out, size_t len)
{
	const char *best = NULL;
	size_t best_len = 0;

	while (*s) {
		const char *e = strchr(s, '\n');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		bool blank = true;

		for (size_t i = 0; i < l; i++)
			if (s[i] != ' ' && s[i] != '\t' && s[i] != '^' && s[i] != '\r')
				blank = false;
		if (!blank) {
			best = s;
			best_len = l;
			if (!last)
				break;
		}
		s += l + (e ? 1 : 0);
	}
	if (len)
		snprintf(out, len, "%.*s", (int)best_len, best ? best : "");
}

/* What the child reports through the exec pipe before exec. */
struct child_err {
	int stage;		/* 1 chdir, 2 redirect, 3 exec */
	int err;		/* errno */
};

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void child(const char *dir, const char *exe, char *const argv[], int errfd, int exfd)
{
	struct child_err ce = { 1, 0 };
	int nul;

	if (chdir(dir))
		goto fail;
	ce.stage = 2;
	nul = open("/dev/null", O_RDWR);
	if (nul < 0 || dup2(nul, STDIN_FILENO) < 0 || dup2(nul, STDOUT_FILENO) < 0 ||
	    dup2(errfd, STDERR_FILENO) < 0)
		goto fail;
	ce.stage = 3;
	execv(exe, argv);
fail:
	ce.err = errno;
	if (write(exfd, &ce, sizeof(ce)) < 0)
		_exit(126);
	_exit(127);
}

int plot_render(const char *dir, char *err, size_t errlen)
{
	char exe[PATH_MAX], a0[] = "gnuplot", a1[] = PLOT_SCRIPT;
	char *const argv[] = { a0, a1, NULL };
	int errp[2], xp[2], status, ret;
	struct child_err ce;
	char head[8192], tail[8192], line[512];
	size_t got = 0, tlen = 0;
	ssize_t n;
	pid_t pid;

	if (err && errlen)
		err[0] = 0;
	if (!dir)
		return fail(err, errlen, -EINVAL, "no directory");
	if (!find_gnuplot(exe, sizeof(exe)))
		return fail(err, errlen, -ENOENT, "gnuplot is not installed (no gnuplot on PATH)");
	if (pipe2(errp, O_CLOEXEC))
		return fail(err, errlen, -errno, "pipe: %s", strerror(errno));
	if (pipe2(xp, O_CLOEXEC)) {
		ret = fail(err, errlen, -errno, "pipe: %s", strerror(errno));
		goto close_errp;
	}
	pid = fork();
	if (pid < 0) {
		ret = fail(err, errlen, -errno, "fork: %s", strerror(errno));
		close(xp[0]);
		close(xp[1]);
		goto close_errp;
	}
	if (!pid)
		child(dir, exe, argv, errp[1], xp[1]);
	close(errp[1]);
	close(xp[1]);
	/* EOF at the child's exec (the pipe is close-on-exec); data if it failed before. */
	n = read_full(xp[0], &ce, sizeof(ce));
	close(xp[0]);
	/*
	 * gnuplot's standard error, read to its end: its start is kept for a
	 * warning (success), its end for the error (failure: gnuplot's last line).
	 */
	for (;;) {
		char chunk[4096];
		ssize_t r = read(errp[0], chunk, sizeof(chunk));
		size_t k;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		k = (size_t)r < sizeof(head) - 1 - got ? (size_t)r : sizeof(head) - 1 - got;
		memcpy(head + got, chunk, k);
		got += k;
		if (tlen + (size_t)r > sizeof(tail) - 1) {
			size_t drop = tlen + (size_t)r - (sizeof(tail) - 1);

			drop = drop < tlen ? drop : tlen;
			memmove(tail, tail + drop, tlen - drop);
			tlen -= drop;
		}
		memcpy(tail + tlen, chunk, (size_t)r);
		tlen += (size_t)r;
	}
	head[got] = 0;
	tail[tlen] = 0;
	close(errp[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail(err, errlen, -errno, "waitpid: %s", strerror(errno));
	if (n == (ssize_t)sizeof(ce))
		return fail(err, errlen, -ce.err, "cannot run %s: %s%s: %s", exe,
			    ce.stage == 1 ? "chdir " : ce.stage == 2 ? "redirecting output" :
			    "exec", ce.stage == 1 ? dir : "", strerror(ce.err));
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		pick_line(tail, true, line, sizeof(line));
		if (WIFEXITED(status))
			return fail(err, errlen, -EIO, "gnuplot %s failed (exit %d)%s%s", PLOT_SCRIPT,
				    WEXITSTATUS(status), line[0] ? ": " : "", line);
		return fail(err, errlen, -EIO, "gnuplot %s killed by signal %d", PLOT_SCRIPT,
			    WTERMSIG(status));
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[PATH_MAX];
		struct stat st;

		if (!files[i].image)
			continue;
		if (join(path, sizeof(path), dir, files[i].name))
			return fail(err, errlen, -ENAMETOOLONG, "%s/%s: %s", dir, files[i].name,
				    strerror(ENAMETOOLONG));
		if (stat(path, &st) || !st.st_size)
			return fail(err, errlen, -EIO, "gnuplot %s wrote no %s", PLOT_SCRIPT, path);
	}
	pick_line(head, false, line, sizeof(line));
	if (err && errlen)
		snprintf(err, errlen, "%s", line);
	return 0;

close_errp:
	close(errp[0]);
	close(errp[1]);
	return ret;
}
