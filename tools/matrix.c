/*
 * matrix.c — the sections of `vtdkit bench` in matrix.h. Counters and
 * modelled times are deterministic (one run each); wall-clock speeds are
 * medians of repeated runs.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/replay.h"
#include "matrix.h"

static const enum vtd_dma_mode modes[] = { VTD_DMA_STRICT, VTD_DMA_LAZY, VTD_DMA_LAZY_RANGED };

static const struct rep_col wl_cols[] = {
	{ "workload", "workload", REP_STR, NULL, 0 },
	{ "policy", "policy", REP_STR, NULL, 0 },
	{ "cm", "CM", REP_U64, NULL, 0 },
	{ "profile", "caches", REP_STR, NULL, 0 },
	{ "ops", "ops", REP_U64, NULL, REP_NOTEXT },
	{ "inv_per_op", "inv/op", REP_F2, "descriptors", 0 },
	{ "psi", "PSI", REP_U64, NULL, REP_NOTEXT },
	{ "dsi", "DSI", REP_U64, NULL, REP_NOTEXT },
	{ "devtlb", "devTLB", REP_U64, NULL, REP_NOTEXT },
	{ "waits_per_op", "waits/op", REP_F2, NULL, 0 },
	{ "ns_per_op", "ns/op", REP_F1, "ns", 0 },
	{ "iotlb_hit", "IOTLB hit", REP_PCT, NULL, 0 },
	{ "atc_hit", "devTLB hit", REP_PCT, NULL, 0 },
	{ "exposures", "windows", REP_U64, NULL, REP_NOTEXT },
	{ "exposure_p99_us", "p99 us", REP_F1, "us", 0 },
	{ "violations", "violations", REP_U64, NULL, 0 },
	{ "wall_ms", "wall ms", REP_F1, "ms", REP_NOTEXT },
};

static double per(uint64_t n, uint64_t ops)
{
	return ops ? (double)n / (double)ops : 0.0;
}

struct rep_table *matrix_workloads(uint64_t ops, struct wl_result *res, struct progress *bar,
				   uint64_t *done, FILE *err, bool *unsafe)
{
	struct rep_table *t;
	struct wl_result r;
	char title[400], msg[300];
	unsigned cell = 0;

	snprintf(title, sizeof(title),
		 "Workloads: %llu operations per run, well-behaved devices, seed 1, one run per row"
		 " (deterministic).\ninv/op: invalidation descriptors per operation; ns/op: modelled"
		 " time per operation, idle gaps excluded;\np99 us: 99th percentile of the exposure"
		 " windows (unmap -> covering flush complete).", (unsigned long long)ops);
	t = rep_table_new(title, wl_cols, sizeof(wl_cols) / sizeof(wl_cols[0]));
	if (!t) {
		fputs("vtdkit bench: out of memory\n", err);
		return NULL;
	}
	for (int w = 0; w < WL_NR; w++)
		for (int cm = 0; cm < 2; cm++)
			for (int p = 0; p < 2; p++)
				for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
					struct wl_opts o;
					int row;

					wl_opts_init(&o, (enum wl_kind)w);
					o.ops = ops;
					o.mode = modes[m];
					o.cm = cm;
					o.profile = p ? VTDM_ADVERSARIAL : VTDM_EXACT;
					if (wl_run(&o, &r, msg, sizeof(msg))) {
						fprintf(err, "vtdkit bench: %s %s cm=%d: %s\n",
							wl_name(o.workload), wl_mode_name(o.mode), cm, msg);
						rep_table_free(t);
						return NULL;
					}
					if (res)
						res[cell] = r;
					cell++;
					*unsafe |= r.violations != 0;
					row = rep_row(t);
					if (row < 0)
						break;
					rep_set_str(t, (unsigned)row, "workload", wl_name(o.workload));
					rep_set_str(t, (unsigned)row, "policy", wl_mode_name(r.mode));
					rep_set_u64(t, (unsigned)row, "cm", (uint64_t)cm);
					rep_set_str(t, (unsigned)row, "profile", p ? "adversarial" : "exact");
					rep_set_u64(t, (unsigned)row, "ops", r.ops);
					rep_set_f(t, (unsigned)row, "inv_per_op",
						  per(r.desc_total - r.desc_wait, r.ops));
					rep_set_u64(t, (unsigned)row, "psi", r.desc_psi);
					rep_set_u64(t, (unsigned)row, "dsi", r.desc_dsi);
					rep_set_u64(t, (unsigned)row, "devtlb", r.desc_devtlb);
					rep_set_f(t, (unsigned)row, "waits_per_op", per(r.desc_wait, r.ops));
					rep_set_f(t, (unsigned)row, "ns_per_op", r.ns_per_op);
					if (!isnan(r.iotlb_hit_rate))
						rep_set_f(t, (unsigned)row, "iotlb_hit", r.iotlb_hit_rate);
					if (!isnan(r.atc_hit_rate))
						rep_set_f(t, (unsigned)row, "atc_hit", r.atc_hit_rate);
					rep_set_u64(t, (unsigned)row, "exposures", r.exposure.count);
					rep_set_f(t, (unsigned)row, "exposure_p99_us",
						  (double)r.exposure.p99 / 1000.0);
					rep_set_u64(t, (unsigned)row, "violations", r.violations);
					rep_set_f(t, (unsigned)row, "wall_ms", (double)r.wall_ns / 1e6);
					progress_update(bar, ++*done);
				}
	if (rep_error(t)) {
		fprintf(err, "vtdkit bench: report: %s\n", strerror(-rep_error(t)));
		rep_table_free(t);
		return NULL;
	}
	return t;
}

/* ---- Traces ---- */

static const struct rep_col tr_cols[] = {
	{ "trace", "trace", REP_STR, NULL, 0 },
	{ "policy", "vtdkit policy", REP_STR, NULL, 0 },
	{ "cm", "CM", REP_U64, NULL, 0 },
	{ "maps", "maps", REP_U64, NULL, REP_NOTEXT },
	{ "unmaps", "unmaps", REP_U64, NULL, 0 },
	{ "linux_inv", "Linux inv", REP_U64, "descriptors", 0 },
	{ "vtdkit_inv", "vtdkit inv", REP_U64, "descriptors", 0 },
	{ "linux_waits", "Linux waits", REP_U64, NULL, 0 },
	{ "vtdkit_waits", "vtdkit waits", REP_U64, NULL, 0 },
	{ "linux_inv_us", "Linux us", REP_F1, "us", 0 },
	{ "vtdkit_inv_us", "vtdkit us", REP_F1, "us", 0 },
	{ "inconsistent", "bad", REP_U64, NULL, REP_NOTEXT },
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The NAME.trace files of @dir, sorted; *n of them. */
static char **list_traces(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if ((len < 7 || strcmp(e->d_name + len - 6, ".trace")) &&
		    (len < 10 || strcmp(e->d_name + len - 9, ".trace.xz")))
			continue;
		if (*n == cap) {
			char **nv = realloc(v, (cap = cap ? 2 * cap : 8) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
		}
		v[*n] = strdup(e->d_name);
		if (v[*n])
			(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

unsigned matrix_trace_count(const char *dir)
{
	size_t n;
	char **v = list_traces(dir, &n);

	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return (unsigned)(n * 3);
}

/* Invalidation descriptors of a side: every type but waits and IEC. */
static unsigned long inv_count(const struct replay_side *s)
{
	unsigned long n = 0;

	for (unsigned t = 1; t < DESC_NR_TYPES; t++)
		if (t != DESC_WAIT && t != DESC_IEC)
			n += s->desc[t];
	return n;
}

struct rep_table *matrix_traces(const char *dir, struct progress *bar, uint64_t *done, FILE *err)
{
	struct replay_result *r = malloc(sizeof(*r));
	struct rep_table *t = NULL;
	size_t n;
	char **v = list_traces(dir, &n);
	char path[512], msg[300];

	if (!r || !n) {
		if (!n)
			fprintf(err, "vtdkit bench: no NAME.trace in %s: traces skipped\n", dir);
		goto out;
	}
	t = rep_table_new("Real traces (docs/replay.md): Linux's descriptors beside vtdkit's for the"
			  " same map/unmap stream,\nunder each vtdkit policy (caching mode as"
			  " captured). inv: invalidation descriptors (IEC excluded);\nus: the"
			  " invalidation-time formula of docs/cost-model.md; Linux waits from the"
			  " QEMU log.", tr_cols, sizeof(tr_cols) / sizeof(tr_cols[0]));
	if (!t)
		goto out;
	for (size_t i = 0; i < n; i++)
		for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
			struct replay_opts o = { .mode = (int)modes[m], .cm = -1 };
			int row;

			snprintf(path, sizeof(path), "%s/%s", dir, v[i]);
			if (replay_run(path, &o, r, msg, sizeof(msg))) {
				fprintf(err, "vtdkit bench: %s\n", msg);
				progress_update(bar, ++*done);
				continue;
			}
			row = rep_row(t);
			if (row < 0)
				break;
			rep_set_str(t, (unsigned)row, "trace", v[i]);
			rep_set_str(t, (unsigned)row, "policy", wl_mode_name(r->mode_used));
			rep_set_u64(t, (unsigned)row, "cm", r->cm);
			rep_set_u64(t, (unsigned)row, "maps", r->maps);
			rep_set_u64(t, (unsigned)row, "unmaps", r->unmaps);
			rep_set_u64(t, (unsigned)row, "linux_inv", inv_count(&r->linux_side));
			rep_set_u64(t, (unsigned)row, "vtdkit_inv", inv_count(&r->vtdkit));
			if (r->linux_side.waits_known) {
				rep_set_u64(t, (unsigned)row, "linux_waits", r->linux_side.waits);
				rep_set_f(t, (unsigned)row, "linux_inv_us",
					  (double)r->linux_side.inv_ns / 1000.0);
			}
			rep_set_u64(t, (unsigned)row, "vtdkit_waits", r->vtdkit.waits);
			rep_set_f(t, (unsigned)row, "vtdkit_inv_us", (double)r->vtdkit.inv_ns / 1000.0);
			rep_set_u64(t, (unsigned)row, "inconsistent",
				    r->map_busy + r->unmap_empty + r->failed);
			progress_update(bar, ++*done);
		}
out:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	free(r);
	return t;
}

/* ---- Speed ---- */

static const struct rep_col sp_cols[] = {
	{ "what", "measure", REP_STR, NULL, 0 },
	{ "median", "median", REP_F1, NULL, 0 },
	{ "min", "min", REP_F1, NULL, 0 },
	{ "max", "max", REP_F1, NULL, 0 },
	{ "unit", "unit", REP_STR, NULL, 0 },
	{ "runs", "runs", REP_U64, NULL, 0 },
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct rep_table *matrix_speed(unsigned runs, struct progress *bar, uint64_t *done, FILE *err)
{
	double *v = calloc(runs ? runs : 1, sizeof(*v));
	struct rep_table *t = NULL;
	struct wl_result r;
	char msg[300];
	int row;

	if (!v)
		return NULL;
	for (unsigned k = 0; k < runs; k++) {
		struct wl_opts o;

		wl_opts_init(&o, WL_GPU);
		o.ops = 5000;
		if (wl_run(&o, &r, msg, sizeof(msg))) {
			fprintf(err, "vtdkit bench: gpu: %s\n", msg);
			goto out;
		}
		/* Page translations per wall second, over the measured span. */
		v[k] = r.wall_ns ? (double)r.dma_pages * 1e9 / (double)r.wall_ns : 0.0;
		progress_update(bar, ++*done);
	}
	qsort(v, runs, sizeof(*v), cmp_double);
	t = rep_table_new("Software speed of the model (wall clock, median of runs): DMA page"
			  " translations per second\nin the gpu workload (5000 operations, 32 x 2 MiB"
			  " buffers, IOTLB and device-TLB hits mostly).", sp_cols,
			  sizeof(sp_cols) / sizeof(sp_cols[0]));
	if (!t || (row = rep_row(t)) < 0)
		goto out;
	rep_set_str(t, (unsigned)row, "what", "model translations");
	rep_set_f(t, (unsigned)row, "median", runs % 2 ? v[runs / 2] :
		  (v[runs / 2 - 1] + v[runs / 2]) / 2);
	rep_set_f(t, (unsigned)row, "min", v[0]);
	rep_set_f(t, (unsigned)row, "max", v[runs - 1]);
	rep_set_str(t, (unsigned)row, "unit", "pages/s");
	rep_set_u64(t, (unsigned)row, "runs", runs);
out:
	free(v);
	return t;
}
