/*
 * test_bench_workload.c — the built-in workloads (src/bench/workload.h) at
 * small sizes: every workload under every policy, caching mode and cache
 * profile is violation-free with counts that add up; a device that uses a
 * buffer after its unmap faults under strict and is caught by the oracle
 * under the lazy modes; runs are repeatable from the seed; the cache hit
 * rates behave; bad parameters are refused with a message naming them;
 * the observers see the run without changing it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "json.h"
#include "bench/timeline.h"
#include "bench/workload.h"
#include "fmt/bits.h"

#define OPS	240	/* a multiple of 3: mixed gives each device 80 */

static const enum vtd_dma_mode modes[] = { VTD_DMA_STRICT, VTD_DMA_LAZY, VTD_DMA_LAZY_RANGED };
static const enum vtdm_profile profiles[] = { VTDM_EXACT, VTDM_ADVERSARIAL };

FIXTURE(bench_workload) {
	struct wl_opts o;
	struct wl_result r;
	char err[300];
};

FIXTURE_VARIANT(bench_workload) {
	enum wl_kind w;
	const char *params[6];	/* small sizes, NULL-ended */
	bool per_op;		/* one unmap and one map per operation */
	bool ats;		/* its device TLB is on by default */
};

FIXTURE_VARIANT_ADD(bench_workload, nic_rx) {
	.w = WL_NIC_RX, .params = { "ring=64" }, .per_op = true,
};

FIXTURE_VARIANT_ADD(bench_workload, nic_tx) {
	.w = WL_NIC_TX, .params = { "ring=16", "frags=4" }, .per_op = true,
};

FIXTURE_VARIANT_ADD(bench_workload, nvme) {
	.w = WL_NVME, .params = { "qd=8", "maxio=32K" }, .per_op = true, .ats = true,
};

FIXTURE_VARIANT_ADD(bench_workload, gpu) {
	.w = WL_GPU, .params = { "buffers=8", "touches=8", "remap=10" }, .ats = true,
};

FIXTURE_VARIANT_ADD(bench_workload, mixed) {
	.w = WL_MIXED, .params = { "ring=32", "qd=8", "maxio=32K", "buffers=4", "touches=4",
				   "remap=10" }, .ats = true,
};

FIXTURE_SETUP(bench_workload)
{
	wl_opts_init(&self->o, variant->w);
	self->o.ops = OPS;
	for (unsigned i = 0; i < ARRAY_SIZE(variant->params) && variant->params[i]; i++) {
		char kv[64], *eq;

		snprintf(kv, sizeof(kv), "%s", variant->params[i]);
		eq = strchr(kv, '=');
		ASSERT_NONNULL(eq);
		*eq = 0;
		ASSERT_EQ(0, wl_params_set(&self->o, kv, eq + 1, self->err, sizeof(self->err)));
	}
}

FIXTURE_TEARDOWN(bench_workload)
{
}

/* Run @o into @r; a failure shows the message. */
static void run(const struct wl_opts *o, struct wl_result *r)
{
	char err[300];
	int ret = wl_run(o, r, err, sizeof(err));

	if (ret)
		TH_LOG("%s: %s", wl_name(o->workload), err);
	ASSERT_EQ(0, ret);
}

static void no_violation(const struct wl_result *r)
{
	if (r->violations)
		TH_LOG("%s %s cm=%d: %s", wl_name(r->workload), wl_mode_name(r->mode), r->cm,
		       r->first_violation);
	ASSERT_EQ(0, r->violations);
	EXPECT_EQ(-1, r->first_kind);
	EXPECT_STREQ("", r->first_violation);
}

static bool is_rate(double x)
{
	return x >= 0 && x <= 1;
}

/* What any run without the misbehaving device shows. */
static void consistent(const struct wl_result *r, const struct wl_opts *o, bool per_op)
{
	no_violation(r);
	EXPECT_EQ(o->mode, r->mode_asked);
	EXPECT_EQ(o->mode, r->mode);		/* forced: caching mode keeps lazy lazy */
	EXPECT_STREQ("", r->note);
	EXPECT_EQ(o->ops, r->ops);
	EXPECT_EQ(r->maps, r->unmaps);
	if (per_op)
		EXPECT_EQ(o->ops, r->unmaps);
	EXPECT_LT(0, r->unmaps);
	EXPECT_LE(r->maps, r->bytes_mapped);
	EXPECT_LT(0, r->dma_pages);
	EXPECT_LE(r->dma_pages, r->dma_bytes);
	EXPECT_LE(r->dma_pages, r->judged);
	EXPECT_EQ(0, r->dma_faults);
	EXPECT_EQ(0, r->late);
	EXPECT_TRUE(is_rate(r->iotlb_hit_rate) ||
		    (isnan(r->iotlb_hit_rate) && !r->iotlb_hit && !r->iotlb_miss));
	EXPECT_EQ(r->ats, !isnan(r->atc_hit_rate));
	if (r->ats)
		EXPECT_TRUE(is_rate(r->atc_hit_rate));
	else
		EXPECT_EQ(0, r->atc_hit + r->atc_miss);
	EXPECT_EQ(o->ops * o->gap_ns, r->idle_ns);
	EXPECT_LT(r->idle_ns, r->model_ns);
	EXPECT_TRUE(r->ns_per_op > 0);
	EXPECT_EQ(r->desc_wait, r->qi_submit);	/* one wait closes each submission */
	EXPECT_LE(r->desc_psi + r->desc_dsi + r->desc_devtlb + r->desc_wait, r->desc_total);
	EXPECT_EQ(0, r->desc_global);
	EXPECT_EQ(0, r->desc_piotlb);		/* second-stage domains, no PASID */
	EXPECT_LT(0, r->exposure.count);	/* every unmap opens a window */
	if (o->mode == VTD_DMA_STRICT) {
		EXPECT_LE(r->unmaps, r->desc_psi);	/* one PSI or more per unmap */
		EXPECT_EQ(0, r->desc_dsi);
		EXPECT_EQ(0, r->fq_flush + r->fq_entries);
		if (r->ats && r->devices == 1)
			EXPECT_LE(r->unmaps, r->desc_devtlb);
	} else {
		EXPECT_EQ(r->unmaps, r->fq_entries);
	}
	if (o->cm)
		EXPECT_LE(r->maps, r->desc_psi);	/* every map's own flush */
}

/* Every policy, with and without caching mode, on both cache profiles. */
TEST_F(bench_workload, matrix_is_safe_and_consistent)
{
	for (unsigned c = 0; c < 2; c++)
		for (unsigned p = 0; p < ARRAY_SIZE(profiles); p++) {
			struct wl_result strict = { 0 };

			for (unsigned m = 0; m < ARRAY_SIZE(modes); m++) {
				self->o.cm = c;
				self->o.profile = profiles[p];
				self->o.mode = modes[m];
				run(&self->o, &self->r);
				consistent(&self->r, &self->o, variant->per_op);
				EXPECT_EQ(variant->ats, self->r.ats);
				if (modes[m] == VTD_DMA_STRICT)
					strict = self->r;
				else	/* batching: fewer descriptors than strict */
					EXPECT_LT(self->r.desc_total, strict.desc_total);
			}
		}
}

/* nic-rx strict without caching mode: exactly one PSI and one wait per packet. */
TEST(bench_workload_nic_rx_strict_counts)
{
	struct wl_opts o;
	struct wl_result r;

	wl_opts_init(&o, WL_NIC_RX);
	o.ops = 300;
	run(&o, &r);
	EXPECT_EQ(300, r.unmaps);
	EXPECT_EQ(300, r.desc_psi);
	EXPECT_EQ(300, r.desc_wait);
	EXPECT_EQ(600, r.desc_total);
	EXPECT_EQ(300, r.dma_pages);		/* one page per packet */
	EXPECT_EQ(300ULL * 2048, r.bytes_mapped);
	EXPECT_EQ(0, r.desc_devtlb);		/* no device TLB on a NIC by default */
	EXPECT_EQ(1, r.units);
	EXPECT_EQ(1, r.devices);
	/* Lazy: 300 unmaps fill the 256-entry queue once. */
	o.mode = VTD_DMA_LAZY;
	run(&o, &r);
	EXPECT_EQ(1, r.fq_flush);
	EXPECT_EQ(1, r.desc_dsi);
	EXPECT_EQ(0, r.desc_psi);
	/* One window per buffer: 256 closed by that flush, 44 by the teardown's. */
	EXPECT_EQ(300, r.exposure.count);
	{
		uint64_t n = 0;

		for (unsigned i = 0; i < CHK_EXPO_BUCKETS; i++)
			n += r.exposure_hist[i];
		EXPECT_EQ(300, n);
		EXPECT_EQ(0, r.exposure_hist[0]);	/* lazy: never closed at once */
	}
}

/* The misbehaving device: faults under strict, violations under lazy. */
TEST_F(bench_workload, late_dma_verdict_per_policy)
{
	self->o.late_dma = true;
	for (unsigned m = 0; m < ARRAY_SIZE(modes); m++) {
		self->o.mode = modes[m];
		self->o.profile = VTDM_ADVERSARIAL;	/* nothing is evicted before the late use */
		run(&self->o, &self->r);
		ASSERT_LT(0, self->r.late);
		EXPECT_EQ(self->r.late, self->r.late_translated + self->r.late_faulted);
		if (modes[m] == VTD_DMA_STRICT) {
			no_violation(&self->r);
			EXPECT_EQ(self->r.late, self->r.late_faulted);
			EXPECT_EQ(self->r.late, self->r.dma_faults);
			continue;
		}
		/* Every late access translated is one violation, of the cache it came from. */
		EXPECT_LT(0, self->r.late_translated);
		EXPECT_EQ(self->r.late_translated, self->r.violations);
		EXPECT_EQ(self->r.violations, self->r.by_kind[CHK_STALE_AFTER_UNMAP] +
					      self->r.by_kind[CHK_STALE_DEVTLB]);
		EXPECT_EQ(self->r.late_faulted, self->r.dma_faults);
		EXPECT_LE(0, self->r.first_kind);
		EXPECT_NONNULL(strstr(self->r.first_violation, "no flush had covered it yet"));
	}
}

/* nic-rx on the exact profile: the packet's page is still in the IOTLB. */
TEST(bench_workload_nic_rx_late_exact)
{
	struct wl_opts o;
	struct wl_result r;

	wl_opts_init(&o, WL_NIC_RX);
	o.ops = 100;
	o.late_dma = true;
	o.mode = VTD_DMA_LAZY;
	run(&o, &r);
	EXPECT_EQ(100, r.late);
	EXPECT_EQ(100, r.late_translated);	/* no flush within 100 packets */
	EXPECT_EQ(100, r.violations);
	EXPECT_EQ(100, r.by_kind[CHK_STALE_AFTER_UNMAP]);
	EXPECT_EQ(CHK_STALE_AFTER_UNMAP, r.first_kind);
	EXPECT_NONNULL(strstr(r.first_violation, "DMA write by 00:01.0"));
	EXPECT_NONNULL(strstr(r.first_violation, "of domain nic-rx"));
}

static void same(const struct wl_result *a, const struct wl_result *b)
{
	EXPECT_EQ(a->maps, b->maps);
	EXPECT_EQ(a->unmaps, b->unmaps);
	EXPECT_EQ(a->bytes_mapped, b->bytes_mapped);
	EXPECT_EQ(a->qi_submit, b->qi_submit);
	EXPECT_EQ(a->desc_total, b->desc_total);
	EXPECT_EQ(a->desc_psi, b->desc_psi);
	EXPECT_EQ(a->iotlb_hit, b->iotlb_hit);
	EXPECT_EQ(a->iotlb_miss, b->iotlb_miss);
	EXPECT_EQ(a->atc_hit, b->atc_hit);
	EXPECT_EQ(a->atc_miss, b->atc_miss);
	EXPECT_EQ(a->dma_pages, b->dma_pages);
	EXPECT_EQ(a->dma_bytes, b->dma_bytes);
	EXPECT_EQ(a->model_ns, b->model_ns);
	EXPECT_EQ(a->judged, b->judged);
	EXPECT_EQ(a->late_translated, b->late_translated);
	EXPECT_EQ(a->violations, b->violations);
	EXPECT_STREQ(a->first_violation, b->first_violation);
	EXPECT_EQ(a->exposure.count, b->exposure.count);
	EXPECT_EQ(a->exposure.median, b->exposure.median);
	EXPECT_EQ(a->exposure.max, b->exposure.max);
	EXPECT_EQ(0, memcmp(a->exposure_hist, b->exposure_hist, sizeof(a->exposure_hist)));
}

TEST_F(bench_workload, same_seed_same_run_other_seed_other_run)
{
	struct wl_result again;

	self->o.mode = VTD_DMA_LAZY;
	self->o.late_dma = true;
	self->o.seed = 7;
	run(&self->o, &self->r);
	run(&self->o, &again);
	same(&self->r, &again);
	self->o.seed = 8;
	run(&self->o, &again);
	EXPECT_NE(self->r.dma_bytes, again.dma_bytes);
}

/* The adversarial profile caches a superset: never more misses than exact. */
TEST_F(bench_workload, adversarial_never_misses_more)
{
	struct wl_result adv;

	for (unsigned m = 0; m < ARRAY_SIZE(modes); m++) {
		self->o.mode = modes[m];
		self->o.profile = VTDM_EXACT;
		run(&self->o, &self->r);
		self->o.profile = VTDM_ADVERSARIAL;
		run(&self->o, &adv);
		EXPECT_LE(adv.iotlb_miss, self->r.iotlb_miss);
		EXPECT_LE(adv.atc_miss, self->r.atc_miss);
		EXPECT_EQ(self->r.dma_pages, adv.dma_pages);	/* the same accesses */
		/* Without a device TLB in front, the IOTLB's own rate cannot drop. */
		if (!self->r.ats)
			EXPECT_TRUE(adv.iotlb_hit_rate >= self->r.iotlb_hit_rate);
		if (self->r.ats)
			EXPECT_TRUE(adv.atc_hit_rate >= self->r.atc_hit_rate);
	}
}

/* Long-lived 2 MiB mappings: the device TLB, or else the IOTLB, almost always hits. */
TEST(bench_workload_gpu_hit_rates)
{
	struct wl_opts o;
	struct wl_result r;

	wl_opts_init(&o, WL_GPU);
	o.ops = 400;
	run(&o, &r);
	EXPECT_TRUE(r.ats);
	EXPECT_TRUE(r.atc_hit_rate > 0.9);
	o.ats = 0;
	run(&o, &r);
	EXPECT_FALSE(r.ats);
	EXPECT_TRUE(isnan(r.atc_hit_rate));
	EXPECT_TRUE(r.iotlb_hit_rate > 0.9);
	/* nic-rx maps a fresh buffer per packet: its one access always misses. */
	wl_opts_init(&o, WL_NIC_RX);
	o.ops = 100;
	run(&o, &r);
	EXPECT_EQ(0, r.iotlb_hit);
	EXPECT_EQ(100, r.iotlb_miss);
}

/* Without force, libvtd turns lazy into strict under caching mode, and says why. */
TEST(bench_workload_cm_forces_strict_unless_forced)
{
	struct wl_opts o;
	struct wl_result r;
	char err[300];

	wl_opts_init(&o, WL_NIC_RX);
	o.ops = 50;
	o.cm = true;
	o.mode = VTD_DMA_LAZY;
	ASSERT_EQ(0, wl_params_set(&o, "force", "0", err, sizeof(err)));
	run(&o, &r);
	EXPECT_EQ(VTD_DMA_LAZY, r.mode_asked);
	EXPECT_EQ(VTD_DMA_STRICT, r.mode);
	EXPECT_NONNULL(strstr(r.note, "caching mode"));
	EXPECT_EQ(0, r.fq_entries);
	EXPECT_EQ(100, r.desc_psi);		/* the maps' and the unmaps' */
	o.cm = false;
	run(&o, &r);
	EXPECT_EQ(VTD_DMA_LAZY, r.mode);
	EXPECT_STREQ("", r.note);
}

/* Strict pays a flush per unmap that lazy batches: more modelled time per packet. */
TEST(bench_workload_strict_costs_more_per_op)
{
	struct wl_opts o;
	struct wl_result strict, lazy;

	wl_opts_init(&o, WL_NIC_RX);
	o.ops = 300;
	run(&o, &strict);
	o.mode = VTD_DMA_LAZY;
	run(&o, &lazy);
	EXPECT_TRUE(strict.ns_per_op > lazy.ns_per_op);
	EXPECT_TRUE(strict.exposure.max < lazy.exposure.median);
}

/* ---- Names and parameters ---- */

TEST(bench_workload_names)
{
	for (int w = 0; w < WL_NR; w++) {
		ASSERT_NONNULL(wl_name((enum wl_kind)w));
		EXPECT_EQ(w, wl_lookup(wl_name((enum wl_kind)w)));
		EXPECT_NONNULL(wl_summary((enum wl_kind)w));
	}
	EXPECT_EQ(WL_NIC_RX, wl_lookup("nic-rx"));
	EXPECT_EQ(WL_MIXED, wl_lookup("mixed"));
	EXPECT_EQ(-1, wl_lookup("nic"));
	EXPECT_EQ(-1, wl_lookup(NULL));
	EXPECT_NULL(wl_name(WL_NR));
	EXPECT_STREQ("lazy-ranged", wl_mode_name(VTD_DMA_LAZY_RANGED));
}

struct keys {
	char list[256];
};

static void add_key(void *arg, const char *key, const char *help)
{
	struct keys *k = arg;
	size_t n = strlen(k->list);

	snprintf(k->list + n, sizeof(k->list) - n, "%s%s", n ? " " : "", key);
	EXPECT_NONNULL(help);
}

TEST(bench_workload_params_listed)
{
	struct keys k = { "" };

	wl_params_foreach(WL_NVME, add_key, &k);
	EXPECT_STREQ("ops seed mode force cm caching late ats gap qd maxio", k.list);
	k.list[0] = 0;
	wl_params_foreach(WL_MIXED, add_key, &k);
	EXPECT_STREQ("ops seed mode force cm caching late ats gap ring qd maxio buffers touches "
		     "remap", k.list);
}

TEST(bench_workload_params_set)
{
	struct wl_opts o;
	char err[300];

	wl_opts_init(&o, WL_MIXED);
	EXPECT_EQ(256, o.ring);
	EXPECT_EQ(32, o.qd);
	EXPECT_EQ(-1, o.ats);
	EXPECT_EQ(0, wl_params_set(&o, "mode", "lazy-ranged", err, sizeof(err)));
	EXPECT_EQ(VTD_DMA_LAZY_RANGED, o.mode);
	EXPECT_EQ(0, wl_params_set(&o, "caching", "adversarial", err, sizeof(err)));
	EXPECT_EQ(VTDM_ADVERSARIAL, o.profile);
	EXPECT_EQ(0, wl_params_set(&o, "maxio", "1M", err, sizeof(err)));
	EXPECT_EQ(1 << 20, o.maxio);
	EXPECT_EQ(0, wl_params_set(&o, "seed", "0x10", err, sizeof(err)));
	EXPECT_EQ(16, o.seed);
	EXPECT_EQ(0, wl_params_set(&o, "late", "1", err, sizeof(err)));
	EXPECT_TRUE(o.late_dma);
	EXPECT_EQ(0, wl_params_set(&o, "ats", "0", err, sizeof(err)));
	EXPECT_EQ(0, o.ats);
	EXPECT_EQ(0, wl_params_set(&o, "remap", "0", err, sizeof(err)));
	EXPECT_EQ(0, o.remap);
	wl_opts_init(&o, WL_NIC_TX);
	EXPECT_EQ(64, o.ring);
}

static const struct {
	enum wl_kind w;
	const char *key, *val, *msg;
} bad_params[] = {
	{ WL_NIC_RX, "qd", "8", "key 'qd' does not apply to workload nic-rx" },
	{ WL_NIC_RX, "frags", "2", "key 'frags' does not apply to workload nic-rx" },
	{ WL_MIXED, "frags", "2", "key 'frags' does not apply to workload mixed" },
	{ WL_GPU, "depth", "8", "unknown key 'depth' for workload gpu (keys: ops, seed, mode, force, "
				"cm, caching, late, ats, gap, buffers, touches, remap)" },
	{ WL_NIC_RX, "ring", "0", "bad value '0' for key 'ring': a number from 1 to 1024" },
	{ WL_NIC_RX, "ring", "1025", "bad value '1025' for key 'ring': a number from 1 to 1024" },
	{ WL_NIC_RX, "ring", "12x", "bad value '12x' for key 'ring': a number from 1 to 1024" },
	{ WL_NIC_RX, "ring", "", "bad value '' for key 'ring': a number from 1 to 1024" },
	{ WL_NIC_RX, "ops", "0", "bad value '0' for key 'ops': a number from 1 to 1000000000" },
	{ WL_NIC_RX, "gap", "-1", "bad value '-1' for key 'gap'" },
	{ WL_NIC_RX, "mode", "eager", "bad value 'eager' for key 'mode': strict, lazy or lazy-ranged" },
	{ WL_NIC_RX, "caching", "lru", "bad value 'lru' for key 'caching': exact or adversarial" },
	{ WL_NIC_RX, "cm", "2", "bad value '2' for key 'cm': 0 or 1" },
	{ WL_NIC_RX, "late", "yes", "bad value 'yes' for key 'late': 0 or 1" },
	{ WL_NVME, "maxio", "48K", "bad value '48K' for key 'maxio': a power of two from 4096 to "
				   "2097152" },
	{ WL_NVME, "maxio", "4M", "bad value '4M' for key 'maxio'" },
	{ WL_NIC_TX, "frags", "16", "bad value '16' for key 'frags': a number from 1 to 15" },
	{ WL_GPU, "buffers", "129", "bad value '129' for key 'buffers': a number from 1 to 128" },
};

TEST(bench_workload_params_bad)
{
	for (unsigned i = 0; i < ARRAY_SIZE(bad_params); i++) {
		struct wl_opts o, before;
		char err[300] = "";

		wl_opts_init(&o, bad_params[i].w);
		before = o;
		EXPECT_EQ(-EINVAL, wl_params_set(&o, bad_params[i].key, bad_params[i].val, err,
						 sizeof(err)));
		if (!strstr(err, bad_params[i].msg))
			TH_LOG("%s=%s: \"%s\" not in \"%s\"", bad_params[i].key, bad_params[i].val,
			       bad_params[i].msg, err);
		EXPECT_NONNULL(strstr(err, bad_params[i].msg));
		EXPECT_EQ(0, memcmp(&o, &before, sizeof(o)));	/* nothing changed */
	}
}

/* Options filled in by hand are checked as the keys are. */
TEST(bench_workload_run_refuses_bad_options)
{
	struct wl_opts o;
	struct wl_result r;
	char err[300];

	wl_opts_init(&o, WL_NVME);
	o.qd = 0;
	EXPECT_EQ(-EINVAL, wl_run(&o, &r, err, sizeof(err)));
	EXPECT_STREQ("qd=0 out of range: a number from 1 to 256", err);
	wl_opts_init(&o, WL_NVME);
	o.maxio = 12288;
	EXPECT_EQ(-EINVAL, wl_run(&o, &r, err, sizeof(err)));
	EXPECT_NONNULL(strstr(err, "maxio=12288 out of range: a power of two"));
	wl_opts_init(&o, WL_GPU);
	o.mode = (enum vtd_dma_mode)7;
	EXPECT_EQ(-EINVAL, wl_run(&o, &r, err, sizeof(err)));
	EXPECT_STREQ("unknown mode 7", err);
	o = (struct wl_opts){ .workload = WL_NR };
	EXPECT_EQ(-EINVAL, wl_run(&o, &r, err, sizeof(err)));
	EXPECT_STREQ("unknown workload 5", err);
	EXPECT_EQ(-EINVAL, wl_run(NULL, &r, err, sizeof(err)));
}

/* ---- Observers ---- */

struct prog {
	uint64_t calls, last, total;
	bool monotonic;
};

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct prog *p = arg;

	p->monotonic &= done > p->last;
	p->calls++;
	p->last = done;
	p->total = total;
}

TEST(bench_workload_progress)
{
	struct prog p = { .monotonic = true };
	struct wl_opts o;
	struct wl_result r;

	wl_opts_init(&o, WL_NIC_RX);
	o.ops = 250;			/* every 2 ops, and the last */
	o.progress = on_progress;
	o.progress_arg = &p;
	run(&o, &r);
	EXPECT_EQ(125, p.calls);
	EXPECT_EQ(250, p.last);
	EXPECT_EQ(250, p.total);
	EXPECT_TRUE(p.monotonic);
}

/* The timeline records calls, descriptors, accesses and faults, and changes nothing. */
TEST(bench_workload_timeline)
{
	struct wl_opts o;
	struct wl_result with, without;
	FILE *f = tmpfile();
	struct tl *t;
	char *json;
	size_t len;

	ASSERT_NONNULL(f);
	t = tl_open_stream(f);
	ASSERT_NONNULL(t);
	wl_opts_init(&o, WL_MIXED);
	o.ops = 12;
	o.late_dma = true;
	o.remap = 1;
	o.tl = t;
	run(&o, &with);
	ASSERT_EQ(0, tl_close(t));
	o.tl = NULL;
	run(&o, &without);
	same(&with, &without);
	rewind(f);
	json = jv_slurp(f, &len);
	fclose(f);
	ASSERT_NONNULL(json);
	ASSERT_LT(0, len);
	static const char *const want[] = {
		"\"driver\"", "\"dmar0\"", "\"dmar1\"", "00:01.0 nic-rx", "00:02.0 gpu",
		"00:03.0 nvme",
		"\"map\"", "\"unmap\"", "\"iotlb_sync\"", "\"dma_map\"", "\"dma_unmap_sg\"",
		"\"iova_free\"", "\"iotlb_inv\"", "\"dev_tlb_inv\"",
		"\"dma write\"", "\"dma read\"", "\"late write\"", "\"fault\"",
		"\"iotlb hit rate\"",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
		if (!strstr(json, want[i])) {
			TH_LOG("%s not in the timeline", want[i]);
			EXPECT_NONNULL(strstr(json, want[i]));
		}
	/*
	 * Valid trace-event JSON: a traceEvents array whose every event has a
	 * phase, a pid and a tid; spans and instants have a time, spans a
	 * duration; each lane used is named by a thread_name metadata event.
	 */
	{
		char err[120];
		struct jv *doc = jv_parse(json, len, err, sizeof(err));
		const struct jv *evs = jv_get(doc, "traceEvents");
		unsigned spans = 0, named = 0;

		ASSERT_NONNULL(doc);
		ASSERT_EQ(JV_ARR, jv_kind(evs));
		for (size_t i = 0; i < jv_len(evs); i++) {
			const struct jv *e = jv_at(evs, i);
			const char *ph = jv_str(jv_get(e, "ph"));

			ASSERT_NONNULL(ph);
			EXPECT_EQ(JV_NUM, jv_kind(jv_get(e, "pid")));
			EXPECT_EQ(JV_NUM, jv_kind(jv_get(e, "tid")));
			if (!strcmp(ph, "X")) {
				spans++;
				EXPECT_EQ(JV_NUM, jv_kind(jv_get(e, "ts")));
				EXPECT_EQ(JV_NUM, jv_kind(jv_get(e, "dur")));
				EXPECT_LE(0, (long)jv_num(jv_get(e, "dur")));
			} else if (!strcmp(ph, "i") || !strcmp(ph, "C")) {
				EXPECT_EQ(JV_NUM, jv_kind(jv_get(e, "ts")));
			} else {
				ASSERT_STREQ("M", ph);
				named += !strcmp(jv_str(jv_get(e, "name")), "thread_name");
			}
		}
		EXPECT_LT(100, spans);
		EXPECT_LE(6, named);	/* driver, two units, three devices */
		jv_free(doc);
	}
	free(json);
}
