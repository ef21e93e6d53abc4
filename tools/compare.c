/*
 * compare.c — `vtdkit demo`: the policy comparison of compare.h. Every
 * number comes from wl_run(); the verdict is the oracle's: a violation
 * with well-behaved devices is a bug (exit 1); with the misbehaving
 * device, strict must make every late access fault, and a lazy policy
 * shows how many it let through stale entries, and for how long.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/progress.h"
#include "bench/timeline.h"
#include "compare.h"

static const enum vtd_dma_mode modes[] = { VTD_DMA_STRICT, VTD_DMA_LAZY, VTD_DMA_LAZY_RANGED };
#define NMODES	(sizeof(modes) / sizeof(modes[0]))

static const struct rep_col cols[] = {
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
	{ "exposure_max_us", "max us", REP_F1, "us", REP_NOTEXT },
	{ "violations", "violations", REP_U64, NULL, REP_NOTEXT },
	{ "late", "late", REP_U64, NULL, REP_NOTEXT },
	{ "late_faulted", "late faulted", REP_U64, NULL, REP_NOTEXT },
	{ "late_stale", "late stale", REP_U64, NULL, REP_NOTEXT },
	{ "late_max_us", "late max us", REP_F1, "us", REP_NOTEXT },
	{ "safe", "safe", REP_BOOL, NULL, REP_NOTEXT },
	{ "verdict", "verdict", REP_STR, NULL, 0 },
};

static int run_one(const struct compare_cfg *cfg, enum vtd_dma_mode mode, bool late,
		   struct tl *tl, struct progress_runs *g, struct wl_result *r, FILE *err)
{
	struct wl_opts o = cfg->wl;
	char msg[300];
	int ret;

	o.mode = mode;
	o.late_dma = late;
	o.tl = tl;
	o.progress = progress_runs_update;
	o.progress_arg = g;
	ret = wl_run(&o, r, msg, sizeof(msg));
	g->base += o.ops;
	if (ret) {
		progress_done(&g->p);
		fprintf(err, "vtdkit demo: %s, %s%s: %s\n", wl_name(o.workload), wl_mode_name(mode),
			late ? " (late device)" : "", msg);
	}
	return ret;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

/* The verdict of one policy from its two runs (@late NULL: not run). */
static bool verdict(const struct wl_result *ok, const struct wl_result *late, char *buf,
		    size_t len)
{
	if (ok->violations) {
		snprintf(buf, len, "UNSAFE: %u violation%s with well-behaved devices (%s)",
			 ok->violations, ok->violations == 1 ? "" : "s",
			 chk_kind_name((enum chk_kind)ok->first_kind));
		return false;
	}
	if (!late) {
		snprintf(buf, len, "safe: no stale use");
		return true;
	}
	if (!late->violations && !late->late_translated) {
		snprintf(buf, len, "safe: all %llu late accesses faulted",
			 (unsigned long long)late->late);
		return true;
	}
	snprintf(buf, len, "exposed: %llu of %llu late accesses used stale entries",
		 (unsigned long long)late->late_translated, (unsigned long long)late->late);
	return false;
}

static void fill_row(struct rep_table *t, unsigned row, const struct wl_result *r,
		     const struct wl_result *late)
{
	char v[160];
	bool safe = verdict(r, late, v, sizeof(v));
	uint64_t inv = r->desc_total - r->desc_wait;
	double ops = r->ops ? (double)r->ops : 1.0;

	rep_set_str(t, row, "policy", wl_mode_name(r->mode));
	rep_set_u64(t, row, "ops", r->ops);
	rep_set_f(t, row, "inv_per_op", (double)inv / ops);
	rep_set_u64(t, row, "psi", r->desc_psi);
	rep_set_u64(t, row, "dsi", r->desc_dsi);
	rep_set_u64(t, row, "devtlb", r->desc_devtlb);
	rep_set_f(t, row, "waits_per_op", (double)r->desc_wait / ops);
	rep_set_f(t, row, "ns_per_op", r->ns_per_op);
	if (!isnan(r->iotlb_hit_rate))
		rep_set_f(t, row, "iotlb_hit", r->iotlb_hit_rate);
	if (!isnan(r->atc_hit_rate))
		rep_set_f(t, row, "atc_hit", r->atc_hit_rate);
	rep_set_u64(t, row, "exposures", r->exposure.count);
	rep_set_f(t, row, "exposure_p99_us", us(r->exposure.p99));
	rep_set_f(t, row, "exposure_max_us", us(r->exposure.max));
	rep_set_u64(t, row, "violations", r->violations);
	if (late) {
		rep_set_u64(t, row, "late", late->late);
		rep_set_u64(t, row, "late_faulted", late->late_faulted);
		rep_set_u64(t, row, "late_stale", late->late_translated);
		rep_set_f(t, row, "late_max_us", us(late->exposure.max));
	}
	rep_set_bool(t, row, "safe", safe);
	rep_set_str(t, row, "verdict", v);
	if (r->mode != r->mode_asked && r->note[0])
		rep_note(t, row, r->note);
}

int compare_run(const struct compare_cfg *cfg, FILE *out, FILE *err)
{
	struct wl_result *res = calloc(2 * NMODES, sizeof(*res));
	enum vtd_dma_mode run_modes[NMODES];
	unsigned nmodes = 0, row;
	struct progress_runs g = { .base = 0 };
	struct rep_table *t = NULL;
	struct tl *tl = NULL;
	char title[1024], msg[300];
	bool unsafe = false;
	int ret = 2;

	if (!res) {
		fputs("vtdkit demo: out of memory\n", err);
		return 2;
	}
	for (unsigned i = 0; i < NMODES; i++)
		if (cfg->only_mode < 0 || (int)modes[i] == cfg->only_mode)
			run_modes[nmodes++] = modes[i];
	if (cfg->timeline) {
		tl = tl_open(cfg->timeline, msg, sizeof(msg));
		if (!tl) {
			fprintf(err, "vtdkit demo: %s\n", msg);
			goto out;
		}
	}
	progress_start(&g.p, "demo", cfg->wl.ops * nmodes * (cfg->no_late ? 1 : 2));
	for (unsigned i = 0; i < nmodes; i++) {
		if (run_one(cfg, run_modes[i], false, i ? NULL : tl, &g, &res[2 * i], err))
			goto out;
		if (!cfg->no_late && run_one(cfg, run_modes[i], true, NULL, &g, &res[2 * i + 1], err))
			goto out;
	}
	progress_done(&g.p);
	if (tl) {
		int rc = tl_close(tl);

		tl = NULL;
		if (rc) {
			fprintf(err, "vtdkit demo: writing %s: %s\n", cfg->timeline, strerror(-rc));
			goto out;
		}
	}
	snprintf(title, sizeof(title),
		 "Workload %s: %s\n"
		 "%llu operations per run, caching mode %s, %s caches, seed %llu. Each policy runs\n"
		 "twice: with well-behaved devices (the cost columns) and with a device that touches\n"
		 "every buffer once more after its unmap (the verdict).\n"
		 "inv/op: invalidation descriptors per operation; ns/op: modelled time per operation,\n"
		 "idle gaps excluded; windows: lazy unmaps whose flush came later (exposure windows),\n"
		 "p99 us: their 99th percentile.",
		 wl_name(cfg->wl.workload), wl_summary(cfg->wl.workload),
		 (unsigned long long)cfg->wl.ops, cfg->wl.cm ? "on" : "off",
		 cfg->wl.profile == VTDM_ADVERSARIAL ? "adversarial" : "exact",
		 (unsigned long long)cfg->wl.seed);
	if (cfg->no_late)
		strstr(title, "Each policy runs")[0] = 0;
	t = rep_table_new(title, cols, sizeof(cols) / sizeof(cols[0]));
	if (!t) {
		fputs("vtdkit demo: out of memory\n", err);
		goto out;
	}
	for (unsigned i = 0; i < nmodes; i++) {
		const struct wl_result *late = cfg->no_late ? NULL : &res[2 * i + 1];

		row = (unsigned)rep_row(t);
		fill_row(t, row, &res[2 * i], late);
		unsafe |= res[2 * i].violations != 0;
	}
	if (rep_error(t)) {
		fprintf(err, "vtdkit demo: report: %s\n", strerror(-rep_error(t)));
		goto out;
	}
	{
		struct vtdm_machine_cfg mc;

		vtdm_machine_cfg_default(&mc);
		if (cfg->format == REP_JSON) {
			struct rep_json j;

			rep_json_begin(&j, out);
			rep_json_member_str(&j, "workload", wl_name(cfg->wl.workload));
			rep_json_member_u64(&j, "ops", cfg->wl.ops);
			rep_json_member_bool(&j, "cm", cfg->wl.cm);
			rep_json_member_str(&j, "profile", cfg->wl.profile == VTDM_ADVERSARIAL ?
					    "adversarial" : "exact");
			rep_json_member_u64(&j, "seed", cfg->wl.seed);
			rep_json_member_table(&j, "policies", t);
			rep_json_member_costs(&j, "costs", &mc.costs);
			rep_json_end(&j);
		} else {
			rep_print(out, t, cfg->format);
			fputc('\n', out);
			if (cfg->format == REP_TEXT && !cfg->no_late)
				for (unsigned i = 0; i < nmodes; i++) {
					const struct wl_result *l = &res[2 * i + 1];

					if (l->late_translated)
						fprintf(out, "%s: the late device's accesses went through"
							" stale entries for up to %.1f us after the"
							" unmap returned; the oracle's first report:\n"
							"  %s\n", wl_mode_name(l->mode),
							us(l->exposure.max), l->first_violation);
				}
			if (cfg->format == REP_TEXT)
				fputc('\n', out);
			rep_print_costs(out, &mc.costs, cfg->format);
		}
	}
	ret = unsafe ? 1 : 0;
out:
	if (tl)
		tl_close(tl);
	rep_table_free(t);
	free(res);
	return ret;
}
