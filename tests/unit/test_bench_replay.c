/*
 * test_bench_replay.c — the trace replay (src/bench/replay.h): each
 * attribution rule on a small hand-written trace, the domains and DIDs it
 * learns, errors, and the real captures in ../shared/traces: Linux's
 * descriptor counts (checked by hand with grep on the raw qwords), a
 * replay with no inconsistency, and vtdkit's counts under each policy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "bench/replay.h"
#include "bench/timeline.h"
#include "json.h"

#define TRACES_DIR "../shared/traces/"

static struct replay_result result;	/* large: not on the stack */

/* A trace file made of @text, removed by the caller. */
static void write_tmp(char *path, const char *text)
{
	int fd;
	FILE *f;

	strcpy(path, "/tmp/vtdkit-replay-XXXXXX");
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	f = fdopen(fd, "w");
	ASSERT_NONNULL(f);
	fputs(text, f);
	fclose(f);
}

/* Replay @text under @mode (-1: as captured) with no beside files. */
static int replay_text(const char *text, int mode, struct replay_result *r, char *err,
		       size_t errlen)
{
	struct replay_opts o = { .mode = mode, .cm = 0, .qemu_log = "", .console = "" };
	char path[64];
	int ret;

	write_tmp(path, text);
	ret = replay_run(path, &o, r, err, errlen);
	unlink(path);
	return ret;
}

/* The domain holding device @dev ("01:00.0"), or -1. */
static int dom_of(const struct replay_result *r, const char *dev)
{
	for (unsigned d = 0; d < r->ndomains; d++)
		if (strstr(r->dom[d].devs, dev))
			return (int)d;
	return -1;
}

#define L(task, ts, body) "  " task " [000] ..... " ts ": " body "\n"
#define GROUPS								\
	L("init-1", "1.000001", "add_device_to_group: IOMMU: groupID=4 device=0000:01:00.0") \
	L("init-1", "1.000002", "add_device_to_group: IOMMU: groupID=5 device=0000:02:00.0") \
	L("init-1", "1.000003", "attach_device_to_domain: IOMMU: device=0000:01:00.0") \
	L("init-1", "1.000004", "attach_device_to_domain: IOMMU: device=0000:02:00.0")

/*
 * 6.1 strict without caching mode: the map has no evidence; the unmap is
 * followed by its IOTLB (DID 6) and device-TLB (01:00.0) descriptors.
 */
TEST(bench_replay_flush_and_paired)
{
	static const char text[] = GROUPS
		L("kworker-38", "2.000000", "map: IOMMU: iova=0x00000000ffffa000 - 0x00000000ffffb000 paddr=0x0000000001000000 size=4096")
		L("kworker-38", "2.000100", "unmap: IOMMU: iova=0x00000000ffffa000 - 0x00000000ffffb000 size=4096 unmapped_size=4096")
		L("kworker-38", "2.000101", "qi_submit: iotlb_inv dmar0: 0x600f2 0xffffa000 0x0 0x0")
		L("kworker-38", "2.000102", "qi_submit: dev_tlb_inv dmar0: 0x10000000003 0xffffa000 0x0 0x0");
	struct replay_result *r = &result;
	char err[200];
	int blk;

	ASSERT_EQ(0, replay_text(text, VTD_DMA_STRICT, r, err, sizeof(err)));
	blk = dom_of(r, "01:00.0");
	ASSERT_LE(0, blk);
	EXPECT_EQ(6, r->dom[blk].did);		/* learnt from the IOTLB + device-TLB pair */
	EXPECT_EQ(4, r->dom[blk].group);
	EXPECT_EQ(1, r->dom[blk].maps);
	EXPECT_EQ(1, r->dom[blk].unmaps);
	EXPECT_EQ(1, r->by_rule[RR_FLUSH]);
	EXPECT_EQ(1, r->by_rule[RR_PAIRED]);
	EXPECT_EQ(2, r->attaches);
	EXPECT_EQ(0, r->map_busy + r->unmap_empty + r->failed);
	/* Linux's side: what the trace holds; no QEMU log, so no waits. */
	EXPECT_EQ(1, r->linux_side.gran[DESC_IOTLB][IOTLB_G_PSI]);
	EXPECT_EQ(1, r->linux_side.desc[DESC_DEVTLB]);
	EXPECT_FALSE(r->linux_side.waits_known);
	/* vtdkit strict: one PSI and one device-TLB invalidation for the unmap. */
	EXPECT_EQ(1, r->vtdkit.gran[DESC_IOTLB][IOTLB_G_PSI]);
	EXPECT_EQ(1, r->vtdkit.desc[DESC_DEVTLB]);
	EXPECT_LE(1, r->vtdkit.waits);
	EXPECT_EQ(0, r->violations);
}

/*
 * Caching mode: maps carry their own flush (evidence); an unmap with no
 * flush after it goes to the one domain holding a live mapping there.
 */
TEST(bench_replay_live)
{
	static const char text[] = GROUPS
		L("t-1", "2.000000", "map: IOMMU: iova=0x0000000000100000 - 0x0000000000101000 paddr=0x0000000001000000 size=4096")
		L("t-1", "2.000001", "qi_submit: iotlb_inv dmar0: 0x700f2 0x100000 0x0 0x0")
		L("t-1", "2.000002", "qi_submit: dev_tlb_inv dmar0: 0x20000000003 0x100000 0x0 0x0")
		L("t-1", "2.000003", "map: IOMMU: iova=0x0000000000100000 - 0x0000000000101000 paddr=0x0000000001001000 size=4096")
		L("t-1", "2.000004", "qi_submit: iotlb_inv dmar0: 0x600f2 0x100000 0x0 0x0")
		L("t-1", "2.000005", "qi_submit: dev_tlb_inv dmar0: 0x10000000003 0x100000 0x0 0x0")
		L("t-1", "2.000100", "map: IOMMU: iova=0x0000000000200000 - 0x0000000000201000 paddr=0x0000000001002000 size=4096")
		L("t-1", "2.000101", "qi_submit: iotlb_inv dmar0: 0x700f2 0x200000 0x0 0x0")
		L("t-1", "2.000200", "unmap: IOMMU: iova=0x0000000000200000 - 0x0000000000201000 size=4096 unmapped_size=4096");
	struct replay_result *r = &result;
	char err[200];
	int net;

	ASSERT_EQ(0, replay_text(text, VTD_DMA_STRICT, r, err, sizeof(err)));
	net = dom_of(r, "02:00.0");
	ASSERT_LE(0, net);
	EXPECT_EQ(7, r->dom[net].did);
	EXPECT_EQ(2, r->dom[net].maps);
	EXPECT_EQ(1, r->dom[net].unmaps);
	EXPECT_EQ(1, r->dom[dom_of(r, "01:00.0")].maps);
	EXPECT_EQ(3, r->by_rule[RR_FLUSH]);
	EXPECT_EQ(1, r->by_rule[RR_LIVE]);
	EXPECT_EQ(0, r->ambiguous);
	/* Same IOVA in two domains at once: no conflict in the replay. */
	EXPECT_EQ(0, r->map_busy + r->unmap_empty + r->failed);
}

/* Lazy: an unmap nobody's live mapping explains takes the next flush's domain. */
TEST(bench_replay_later)
{
	static const char text[] = GROUPS
		L("t-1", "1.000010", "cache_tag_assign: dmar0/0000:02:00.0 type devtlb did 7 pasid 0 ref 1")
		L("t-1", "2.000000", "map: IOMMU: iova=0x0000000000300000 - 0x0000000000302000 paddr=0x0000000001000000 size=8192")
		L("t-1", "2.000100", "unmap: IOMMU: iova=0x0000000000300000 - 0x0000000000302000 size=8192 unmapped_size=8192")
		L("t-1", "2.000200", "map: IOMMU: iova=0x0000000000400000 - 0x0000000000401000 paddr=0x0000000001000000 size=4096")
		L("t-1", "2.010000", "cache_tag_flush_all: dmar0/dmar0 type iotlb did 7 pasid 0 ref 1");
	struct replay_result *r = &result;
	char err[200];
	int net;

	ASSERT_EQ(0, replay_text(text, VTD_DMA_LAZY, r, err, sizeof(err)));
	net = dom_of(r, "02:00.0");
	ASSERT_LE(0, net);
	EXPECT_EQ(7, r->dom[net].did);		/* from the device-TLB tag */
	EXPECT_EQ(1, r->by_rule[RR_LATER]);
	EXPECT_EQ(1, r->by_rule[RR_PAIRED]);	/* the map it removed */
	EXPECT_EQ(1, r->by_rule[RR_FLUSH]);	/* the last map: the flush follows it */
	EXPECT_EQ(2, r->dom[net].maps);
	EXPECT_EQ(1, r->dom[net].unmaps);
	EXPECT_EQ(VTD_DMA_LAZY, r->mode_used);
	/* Lazy: no page-selective flush, the queue flushed the domain at the end. */
	EXPECT_EQ(0, r->vtdkit.gran[DESC_IOTLB][IOTLB_G_PSI]);
	EXPECT_LE(1, r->vtdkit.gran[DESC_IOTLB][IOTLB_G_DSI]);
}

/*
 * Rule nearest with conflicts (the 6.1 capture's probe): two drivers map
 * their rings at the same IOVAs in their own domains and never unmap them;
 * an I/O of 01:00.0 then maps and unmaps 0xffffe000. A ring that overlaps
 * that I/O cannot be 01:00.0's; the other one can.
 */
TEST(bench_replay_nearest_conflict)
{
	static const char text[] = GROUPS
		L("insmod-101", "2.000000", "map: IOMMU: iova=0x00000000ffffe000 - 0x0000000100000000 paddr=0x0000000001000000 size=8192")
		L("insmod-102", "2.000100", "map: IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 paddr=0x0000000001002000 size=4096")
		L("kworker-38", "2.000200", "map: IOMMU: iova=0x00000000ffffe000 - 0x00000000fffff000 paddr=0x0000000001003000 size=4096")
		L("kworker-38", "2.000300", "unmap: IOMMU: iova=0x00000000ffffe000 - 0x00000000fffff000 size=4096 unmapped_size=4096")
		L("kworker-38", "2.000301", "qi_submit: iotlb_inv dmar0: 0x600f2 0xffffe000 0x0 0x0")
		L("kworker-38", "2.000302", "qi_submit: dev_tlb_inv dmar0: 0x10000000003 0xffffe000 0x0 0x0");
	struct replay_result *r = &result;
	char err[200];
	int blk, net;

	ASSERT_EQ(0, replay_text(text, VTD_DMA_STRICT, r, err, sizeof(err)));
	blk = dom_of(r, "01:00.0");
	net = dom_of(r, "02:00.0");
	ASSERT_LE(0, blk);
	ASSERT_LE(0, net);
	EXPECT_EQ(2, r->by_rule[RR_NEAREST]);
	EXPECT_EQ(1, r->by_rule[RR_PAIRED]);
	/* The 8K ring overlaps the I/O: net's. The 4K one: blk's. */
	EXPECT_EQ(1, r->dom[net].maps);
	EXPECT_EQ(2, r->dom[blk].maps);
	EXPECT_EQ(0, r->map_busy + r->unmap_empty + r->failed);
}

/* A malformed line is reported with its number and skipped; the rest replays. */
TEST(bench_replay_malformed_line)
{
	static const char text[] = GROUPS
		L("t-1", "2.000000", "map: IOMMU: iova=0x0000000000100000 - 0x0000000000101000 paddr=0x0000000001000000 size=4096")
		L("t-1", "2.000001", "qi_submit: iotlb_inv dmar0: 0x600f2 0xzz 0x0 0x0")
		L("t-1", "2.000100", "unmap: IOMMU: iova=0x0000000000100000 - 0x0000000000101000 size=4096 unmapped_size=4096")
		L("t-1", "2.000101", "qi_submit: iotlb_inv dmar0: 0x600f2 0x100000 0x0 0x0");
	struct replay_result *r = &result;
	char err[200];

	ASSERT_EQ(0, replay_text(text, VTD_DMA_STRICT, r, err, sizeof(err)));
	EXPECT_EQ(1, r->trace.malformed);
	ASSERT_EQ(1, r->trace.nr_errors);
	EXPECT_EQ(6, r->trace.errors[0].line);
	EXPECT_NONNULL(strstr(r->trace.errors[0].msg, "qw1"));
	EXPECT_EQ(1, r->maps);
	EXPECT_EQ(1, r->unmaps);
}

TEST(bench_replay_errors)
{
	struct replay_opts o = { .mode = -1, .cm = -1, .qemu_log = "", .console = "" };
	struct replay_result *r = &result;
	char err[200];

	EXPECT_EQ(-ENOENT, replay_run("/nonexistent/x.trace", &o, r, err, sizeof(err)));
	EXPECT_NONNULL(strstr(err, "/nonexistent/x.trace"));
	/* Events, but no map or unmap. */
	EXPECT_EQ(-EINVAL, replay_text(GROUPS, -1, r, err, sizeof(err)));
	EXPECT_NONNULL(strstr(err, "no map or unmap event in 4 lines"));
	/* An explicit QEMU log that does not exist. */
	o.qemu_log = "/nonexistent/q.log";
	{
		char path[64];

		write_tmp(path, GROUPS L("t-1", "2.0", "map: IOMMU: iova=0x100000 - 0x101000 paddr=0x0 size=4096"));
		EXPECT_EQ(-ENOENT, replay_run(path, &o, r, err, sizeof(err)));
		unlink(path);
	}
	EXPECT_NONNULL(strstr(err, "/nonexistent/q.log"));
}

/* ---- The real captures ---- */

struct capture {
	const char *name;
	int cm, mode;				/* as captured */
	unsigned long maps, unmaps;
	/* Linux's descriptors, by grep on the raw qwords (granularity bits 5:4 of qw0, AM bits 5:0 of qw1) */
	unsigned long psi, psi_am0, psi_am1, dsi, global, devtlb, cc_global, cc_device, iec;
	unsigned long waits;			/* QEMU log: 'desc type wait' lines */
};

static const struct capture captures[] = {
	{ "linux-6.1-cm0-strict-virtio", 0, VTD_DMA_STRICT, 901, 653,
	  653, 588, 65, 0, 1, 653, 1, 0, 39, 1354 },
	{ "linux-6.1-cm1-strict-virtio", 1, VTD_DMA_STRICT, 917, 670,
	  1585, 1427, 158, 8, 1, 670, 1, 8, 39, 2319 },
	{ "linux-6.12-cm0-lazy-virtio", 0, VTD_DMA_LAZY, 888, 641,
	  0, 0, 0, 32, 1, 32, 1, 0, 39, 80 },
	{ "linux-6.12-cm1-strict-virtio", 1, VTD_DMA_STRICT, 917, 670,
	  1585, 1425, 160, 8, 1, 670, 1, 8, 39, 1649 },
};

static struct replay_result *replay_capture(const struct capture *c, int mode)
{
	struct replay_opts o = { .mode = mode, .cm = -1, .profile = VTDM_EXACT };
	struct replay_result *r = malloc(sizeof(*r));
	char path[256], err[300];
	FILE *f;

	snprintf(path, sizeof(path), TRACES_DIR "%s.trace", c->name);
	f = fopen(path, "r");
	if (!f) {
		free(r);
		return NULL;
	}
	fclose(f);
	if (r && replay_run(path, &o, r, err, sizeof(err))) {
		TH_LOG("%s", err);
		free(r);
		return NULL;
	}
	return r;
}

#define FOR_EACH_CAPTURE(c, r, mode)							\
	for (const struct capture *c = captures; c < captures + 4; c++)		\
		for (struct replay_result *r = replay_capture(c, mode), *once_ = r;	\
		     once_; free(r), once_ = NULL)

TEST(bench_replay_captures_linux_side)
{
	unsigned seen = 0;

	FOR_EACH_CAPTURE(c, r, -1) {
		const struct replay_side *l = &r->linux_side;

		seen++;
		TH_LOG("%s", c->name);
		EXPECT_EQ(c->cm, r->captured_cm);
		EXPECT_EQ(c->mode, r->captured_mode);
		EXPECT_EQ(c->psi, l->gran[DESC_IOTLB][IOTLB_G_PSI]);
		EXPECT_EQ(c->psi_am0, l->psi_am[0]);
		EXPECT_EQ(c->psi_am1, l->psi_am[1]);
		EXPECT_EQ(c->dsi, l->gran[DESC_IOTLB][IOTLB_G_DSI]);
		EXPECT_EQ(c->global, l->gran[DESC_IOTLB][IOTLB_G_GLOBAL]);
		EXPECT_EQ(c->devtlb, l->desc[DESC_DEVTLB]);
		EXPECT_EQ(c->cc_global, l->gran[DESC_CC][CC_G_GLOBAL]);
		EXPECT_EQ(c->cc_device, l->gran[DESC_CC][CC_G_DEVICE]);
		EXPECT_EQ(c->iec, l->desc[DESC_IEC]);
		EXPECT_TRUE(l->waits_known);
		EXPECT_EQ(c->waits, l->waits);
		EXPECT_EQ(replay_inv_ns(&r->costs, l), l->inv_ns);
	}
	if (!seen)
		SKIP(return, "the captures are not in " TRACES_DIR);
	EXPECT_EQ(4, seen);
}

/* Every map and unmap attributed, and the replay never contradicts itself. */
TEST(bench_replay_captures_consistent)
{
	unsigned seen = 0;

	FOR_EACH_CAPTURE(c, r, -1) {
		unsigned long sum = 0;

		seen++;
		TH_LOG("%s", c->name);
		for (unsigned k = 0; k < RR_NR; k++)
			sum += r->by_rule[k];
		EXPECT_EQ(c->maps, r->maps);
		EXPECT_EQ(c->unmaps, r->unmaps);
		EXPECT_EQ(c->maps + c->unmaps, sum);
		EXPECT_EQ(0, r->map_busy);
		EXPECT_EQ(0, r->unmap_empty);
		EXPECT_EQ(0, r->failed);
		EXPECT_EQ(0, r->violations);
		EXPECT_EQ(8, r->attaches);
		/* The two virtio devices got DIDs 6 and 7, as in the descriptors. */
		EXPECT_EQ(6, r->dom[dom_of(r, "01:00.0")].did);
		EXPECT_EQ(7, r->dom[dom_of(r, "02:00.0")].did);
		/* Strict flushes every unmap's device TLB, as Linux did. */
		if (c->mode == VTD_DMA_STRICT)
			EXPECT_EQ(c->devtlb, r->vtdkit.desc[DESC_DEVTLB]);
		/* The formula and the model's clock agree (no DMA in a replay). */
		EXPECT_LE(r->vtdkit.inv_ns * 95 / 100, r->model_ns - r->idle_ns);
		EXPECT_GE(r->vtdkit.inv_ns * 105 / 100 + 100000, r->model_ns - r->idle_ns);
	}
	if (!seen)
		SKIP(return, "the captures are not in " TRACES_DIR);
}

/* Under strict, one PSI per unmap; under lazy, none and far fewer waits. */
TEST(bench_replay_captures_policies)
{
	unsigned seen = 0;

	FOR_EACH_CAPTURE(c, strict, VTD_DMA_STRICT) {
		struct replay_result *lazy = replay_capture(c, VTD_DMA_LAZY);

		seen++;
		TH_LOG("%s", c->name);
		ASSERT_NONNULL(lazy);
		EXPECT_EQ(VTD_DMA_STRICT, strict->mode_used);
		EXPECT_EQ(VTD_DMA_LAZY, lazy->mode_used);	/* asked for: kept even under CM */
		/* Without caching mode a lazy unmap is never flushed page by page. */
		if (!c->cm)
			EXPECT_EQ(0, lazy->vtdkit.gran[DESC_IOTLB][IOTLB_G_PSI]);
		EXPECT_LE(strict->unmaps, strict->vtdkit.gran[DESC_IOTLB][IOTLB_G_PSI]);
		EXPECT_GT(strict->vtdkit.waits, lazy->vtdkit.waits);
		EXPECT_GT(strict->vtdkit.inv_ns, lazy->vtdkit.inv_ns);
		if (!c->cm)
			EXPECT_EQ(strict->unmaps, strict->vtdkit.gran[DESC_IOTLB][IOTLB_G_PSI]);
		free(lazy);
	}
	if (!seen)
		SKIP(return, "the captures are not in " TRACES_DIR);
}

/* The big capture is xz-compressed: read through xz when it is installed. */
TEST(bench_replay_capture_xz)
{
	struct replay_opts o = { .mode = -1, .cm = -1, .profile = VTDM_EXACT };
	const char *path = TRACES_DIR "linux-6.1-cm1-strict-virtio-big.trace.xz";
	struct replay_result *r = &result;
	char err[300];
	FILE *f = fopen(path, "r");

	if (!f)
		SKIP(return, "%s not found", path);
	fclose(f);
	if (system("xz --version >/dev/null 2>&1"))
		SKIP(return, "xz is not installed");
	ASSERT_EQ(0, replay_run(path, &o, r, err, sizeof(err)));
	/* The README's counts, and the console beside it (caching mode on). */
	EXPECT_EQ(27505, r->trace.events[TEV_MAP]);
	EXPECT_EQ(27258, r->trace.events[TEV_UNMAP]);
	EXPECT_EQ(54761, r->linux_side.gran[DESC_IOTLB][IOTLB_G_PSI]);
	EXPECT_EQ(8, r->linux_side.gran[DESC_IOTLB][IOTLB_G_DSI]);
	EXPECT_EQ(27258, r->linux_side.desc[DESC_DEVTLB]);
	EXPECT_EQ(1, r->captured_cm);
	EXPECT_TRUE(r->cm);
	EXPECT_EQ(0, r->map_busy + r->unmap_empty + r->failed);
	EXPECT_EQ(27258, r->vtdkit.desc[DESC_DEVTLB]);
}

/*
 * --timeline: each replayed call a span on the replay's track, vtdkit's
 * descriptors and Linux's traced ones as instants on their own tracks,
 * and the replay's counts the same as without it.
 */
TEST(bench_replay_timeline)
{
	static const char text[] = GROUPS
		L("t-1", "2.000000", "map: IOMMU: iova=0x0000000000100000 - 0x0000000000101000 paddr=0x0000000001000000 size=4096")
		L("t-1", "2.000001", "qi_submit: iotlb_inv dmar0: 0x700f2 0x100000 0x0 0x0")
		L("t-1", "2.000002", "qi_submit: dev_tlb_inv dmar0: 0x20000000003 0x100000 0x0 0x0")
		L("t-1", "2.000100", "unmap: IOMMU: iova=0x0000000000100000 - 0x0000000000101000 size=4096 unmapped_size=4096")
		L("t-1", "2.000101", "qi_submit: iotlb_inv dmar0: 0x700f2 0x100000 0x0 0x0")
		L("t-1", "2.000102", "qi_submit: dev_tlb_inv dmar0: 0x20000000003 0x100000 0x0 0x0");
	static struct replay_result without;
	struct replay_opts o = { .mode = VTD_DMA_STRICT, .cm = 0, .qemu_log = "", .console = "" };
	struct replay_result *r = &result;
	unsigned calls[2] = { 0 }, linux_desc[2] = { 0 }, vtdkit_desc = 0, pid_replay = 0,
		 pid_vtdkit = 0, pid_linux = 0;
	unsigned long want_vtdkit = 0;
	char path[64], err[200];
	FILE *f = tmpfile();
	struct jv *doc;
	char *json;
	size_t len;

	ASSERT_NONNULL(f);
	write_tmp(path, text);
	ASSERT_EQ(0, replay_run(path, &o, &without, err, sizeof(err)));
	o.timeline = tl_open_stream(f);
	ASSERT_NONNULL(o.timeline);
	ASSERT_EQ(0, replay_run(path, &o, r, err, sizeof(err)));
	ASSERT_EQ(0, tl_close(o.timeline));
	unlink(path);
	EXPECT_EQ(0, memcmp(&without.vtdkit, &r->vtdkit, sizeof(r->vtdkit)));
	EXPECT_EQ(without.model_ns, r->model_ns);
	for (unsigned t = 0; t < DESC_NR_TYPES; t++)
		want_vtdkit += r->vtdkit.desc[t];
	ASSERT_LT(0, want_vtdkit);

	rewind(f);
	json = jv_slurp(f, &len);
	fclose(f);
	ASSERT_NONNULL(json);
	ASSERT_LT(0, len);
	doc = jv_parse(json, len, err, sizeof(err));
	if (!doc)
		TH_LOG("%s", err);
	ASSERT_NONNULL(doc);
	const struct jv *evs = jv_get(doc, "traceEvents");

	ASSERT_EQ(JV_ARR, jv_kind(evs));
	/* The tracks, by their process names. */
	for (size_t i = 0; i < jv_len(evs); i++) {
		const struct jv *e = jv_at(evs, i);
		const char *name = jv_str(jv_get(e, "name"));
		const char *pname = jv_str(jv_get(jv_get(e, "args"), "name"));
		unsigned pid = (unsigned)jv_num(jv_get(e, "pid"));

		if (strcmp(jv_str(jv_get(e, "ph")), "M") || strcmp(name, "process_name"))
			continue;
		if (!strcmp(pname, "replay"))
			pid_replay = pid;
		else if (!strcmp(pname, "vtdkit"))
			pid_vtdkit = pid;
		else if (!strcmp(pname, "linux"))
			pid_linux = pid;
	}
	ASSERT_NE(0, pid_replay);
	ASSERT_NE(0, pid_vtdkit);
	ASSERT_NE(0, pid_linux);
	/* The calls go on a track per traced task: here the one, "t-1". */
	unsigned task_tracks = 0;

	for (size_t i = 0; i < jv_len(evs); i++) {
		const struct jv *e = jv_at(evs, i);

		if (!strcmp(jv_str(jv_get(e, "name")), "thread_name") &&
		    (unsigned)jv_num(jv_get(e, "pid")) == pid_replay) {
			EXPECT_STREQ("t-1", jv_str(jv_get(jv_get(e, "args"), "name")));
			task_tracks++;
		}
	}
	EXPECT_EQ(1, task_tracks);
	for (size_t i = 0; i < jv_len(evs); i++) {
		const struct jv *e = jv_at(evs, i);
		const char *ph = jv_str(jv_get(e, "ph")), *name = jv_str(jv_get(e, "name"));
		unsigned pid = (unsigned)jv_num(jv_get(e, "pid"));

		if (!strcmp(ph, "X") && pid == pid_replay) {
			bool map = !strcmp(name, "map");

			ASSERT_TRUE(map || !strcmp(name, "unmap"));
			calls[!map]++;
			EXPECT_STREQ("0x100000", jv_str(jv_get(jv_get(e, "args"), "iova")));
			/* The trace's line: the map is the 5th, the unmap the 8th. */
			EXPECT_EQ(map ? 5 : 8, (int)jv_num(jv_get(jv_get(e, "args"), "line")));
			EXPECT_TRUE(jv_num(jv_get(e, "dur")) >= 0);
		} else if (!strcmp(ph, "i") && pid == pid_linux) {
			linux_desc[!strcmp(name, "dev_tlb_inv")]++;
		} else if (!strcmp(ph, "i") && pid == pid_vtdkit) {
			vtdkit_desc++;
		}
	}
	EXPECT_EQ(1, calls[0]);
	EXPECT_EQ(1, calls[1]);
	/* Linux's four, the last two after the last call replayed included. */
	EXPECT_EQ(2, linux_desc[0]);
	EXPECT_EQ(2, linux_desc[1]);
	EXPECT_EQ(want_vtdkit, vtdkit_desc);
	jv_free(doc);
	free(json);
}
