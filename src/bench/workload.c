/*
 * workload.c — the built-in workloads of workload.h: the machine (model,
 * libvtd through the checker's oracle, one vtd_dma layer per device), the
 * device drivers of each workload, the run loop with its measured span,
 * and the observers (progress, timeline).
 *
 * libvtd reaches the host through two layers of ops: the checker's
 * (chk_env, which feeds the oracle) and this file's, which forward every
 * service to vtd_host_ops() and add the observers (calls, descriptors).
 * The model's hooks are the checker's, wrapped the same way.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/timeline.h"
#include "bench/workload.h"
#include "fmt/regs.h"
#include "check/env.h"
#include "fmt/bits.h"
#include "fmt/desc.h"
#include "fmt/entry.h"
#include "host/host.h"

#define PG		4096ULL
#define SZ_2M		(2ULL << 20)
#define MEM_SIZE	(1ULL << 30)
#define DATA_BASE	(16ULL << 20)	/* devices' buffers from 16 MiB ... */
#define POOL_BASE	(960ULL << 20)	/* ... up to libvtd's table pool (64 MiB) */
#define POOL_SIZE	(MEM_SIZE - POOL_BASE)
#define RX_BUF		2048		/* nic-rx buffer: two per page */
#define RX_PKT_MIN	64		/* packets: the minimum Ethernet frame ... */
#define RX_PKT_MAX	1500		/* ... to a 1500-byte MTU */
#define TX_HDR		128		/* nic-tx header */
#define TX_SLOT		(16 * PG)	/* a send's pages: header and up to 15 fragments */
#define GPU_TOUCH	256		/* bytes per GPU access */
#define LATE_BYTES	64		/* the misbehaving device's access */
#define MAX_OPEN	64		/* calls open at once (a ranged flush reports each range) */

/* ---- Names and parameters ---- */

static const char *const names[WL_NR] = {
	[WL_NIC_RX] = "nic-rx",
	[WL_NIC_TX] = "nic-tx",
	[WL_NVME] = "nvme",
	[WL_GPU] = "gpu",
	[WL_MIXED] = "mixed",
};

static const char *const summaries[WL_NR] = {
	[WL_NIC_RX] = "receive ring: per packet the device writes a buffer, the driver "
		      "unmaps it and maps a fresh one",
	[WL_NIC_TX] = "TSO sends: header and page fragments mapped as a list, read by the "
		      "device, unmapped when the ring wraps",
	[WL_NVME] = "queue of scatter-gather commands (4 KiB..maxio), reads and writes, "
		    "completed out of order; ATS",
	[WL_GPU] = "long-lived 2 MiB buffers touched at random pages, rarely remapped; ATS",
	[WL_MIXED] = "nic-rx and gpu on unit 0, nvme on unit 1, operations round-robin",
};

const char *wl_name(enum wl_kind w)
{
	return (unsigned)w < WL_NR ? names[w] : NULL;
}

int wl_lookup(const char *name)
{
	for (int i = 0; i < WL_NR; i++)
		if (name && !strcmp(name, names[i]))
			return i;
	return -1;
}

const char *wl_summary(enum wl_kind w)
{
	return (unsigned)w < WL_NR ? summaries[w] : NULL;
}

const char *wl_mode_name(enum vtd_dma_mode m)
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

void wl_opts_init(struct wl_opts *o, enum wl_kind w)
{
	*o = (struct wl_opts){
		.workload = w, .mode = VTD_DMA_STRICT, .force_mode = true, .profile = VTDM_EXACT,
		.seed = 1,
		.ops = WL_DEFAULT_OPS, .ats = -1, .gap_ns = 1000,
		.ring = w == WL_NIC_TX ? 64 : 256, .frags = 15, .qd = 32, .maxio = 128 << 10,
		.buffers = 32, .touches = 16, .remap = 1000,
	};
}

#define B(w)		(1u << (w))
#define ALL		(B(WL_NR) - 1)

enum ptype { P_U64, P_UINT, P_BOOL, P_ATS, P_MODE, P_PROFILE };

struct param {
	const char *key;
	unsigned applies;	/* workloads, one bit each */
	enum ptype type;
	size_t off;
	uint64_t min, max;
	bool pow2;		/* sized, a power of two */
	const char *help;
};

#define PAR(k, a, t, f, lo, hi, p2, h) { k, a, t, offsetof(struct wl_opts, f), lo, hi, p2, h }
static const struct param params[] = {
	PAR("ops", ALL, P_U64, ops, 1, 1000000000, false,
	    "operations in the measured span (20000)"),
	PAR("seed", ALL, P_U64, seed, 0, UINT64_MAX, false, "random seed (1)"),
	PAR("mode", ALL, P_MODE, mode, 0, 0, false, "unmap policy: strict, lazy, lazy-ranged"),
	PAR("force", ALL, P_BOOL, force_mode, 0, 1, false,
	    "keep a lazy mode under caching mode (1); 0: libvtd makes it strict"),
	PAR("cm", ALL, P_BOOL, cm, 0, 1, false, "caching mode on every unit (0)"),
	PAR("caching", ALL, P_PROFILE, profile, 0, 0, false,
	    "cache profile of every unit: exact, adversarial"),
	PAR("late", ALL, P_BOOL, late_dma, 0, 1, false,
	    "the device touches each buffer once more after its unmap (0)"),
	PAR("ats", ALL, P_ATS, ats, 0, 1, false,
	    "device TLB on every device (1) or none (0); default: nvme and gpu"),
	PAR("gap", ALL, P_U64, gap_ns, 0, 1000000000, false,
	    "idle virtual ns after each operation (1000)"),
	PAR("ring", B(WL_NIC_RX) | B(WL_NIC_TX) | B(WL_MIXED), P_UINT, ring, 1, 1024, false,
	    "nic-rx buffers in the ring (256), nic-tx sends in flight (64)"),
	PAR("frags", B(WL_NIC_TX), P_UINT, frags, 1, 15, false,
	    "most page fragments per send (15: 64 KiB with the header)"),
	PAR("qd", B(WL_NVME) | B(WL_MIXED), P_UINT, qd, 1, 256, false,
	    "nvme commands in flight (32)"),
	PAR("maxio", B(WL_NVME) | B(WL_MIXED), P_U64, maxio, PG, SZ_2M, true,
	    "largest nvme command in bytes, a power of two (128K)"),
	PAR("buffers", B(WL_GPU) | B(WL_MIXED), P_UINT, buffers, 1, 128, false,
	    "gpu 2 MiB buffers (32)"),
	PAR("touches", B(WL_GPU) | B(WL_MIXED), P_UINT, touches, 1, 4096, false,
	    "gpu accesses per operation (16)"),
	PAR("remap", B(WL_GPU) | B(WL_MIXED), P_U64, remap, 0, 1000000000, false,
	    "gpu remaps a buffer once in N operations; 0 never (1000)"),
};

void wl_params_foreach(enum wl_kind w,
		       void (*fn)(void *arg, const char *key, const char *help), void *arg)
{
	for (size_t i = 0; i < ARRAY_SIZE(params); i++)
		if ((unsigned)w < WL_NR && params[i].applies & B(w))
			fn(arg, params[i].key, params[i].help);
}

static const struct param *param_find(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(params); i++)
		if (!strcmp(key, params[i].key))
			return &params[i];
	return NULL;
}

static int bad(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* What a numeric key takes, for messages: "a number from 1 to 1024". */
static void range_text(const struct param *p, char *buf, size_t len)
{
	if (p->pow2)
		snprintf(buf, len, "a power of two from %" PRIu64 " to %" PRIu64
			 " (K and M suffixes allowed)", p->min, p->max);
	else if (p->type == P_BOOL || p->type == P_ATS)
		snprintf(buf, len, "0 or 1");
	else
		snprintf(buf, len, "a number from %" PRIu64 " to %" PRIu64, p->min, p->max);
}

static bool in_range(const struct param *p, uint64_t v)
{
	return v >= p->min && v <= p->max && (!p->pow2 || !(v & (v - 1)));
}

int wl_params_set(struct wl_opts *o, const char *key, const char *val, char *err,
		  size_t errlen)
{
	const struct param *p;
	char *f = (char *)o;
	char what[96];
	uint64_t v;

	if (!key || !val)
		return bad(err, errlen, "missing key or value");
	if ((unsigned)o->workload >= WL_NR)
		return bad(err, errlen, "no workload chosen");
	p = param_find(key);
	if (!p) {
		char list[400];
		size_t n = 0;

		list[0] = 0;
		for (size_t i = 0; i < ARRAY_SIZE(params); i++)
			if (params[i].applies & B(o->workload) && n < sizeof(list))
				n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
						      n ? ", " : "", params[i].key);
		return bad(err, errlen, "unknown key '%s' for workload %s (keys: %s)", key,
			   names[o->workload], list);
	}
	if (!(p->applies & B(o->workload)))
		return bad(err, errlen, "key '%s' does not apply to workload %s", key,
			   names[o->workload]);
	switch (p->type) {
	case P_MODE:
		for (int m = VTD_DMA_STRICT; m <= VTD_DMA_LAZY_RANGED; m++)
			if (!strcmp(val, wl_mode_name((enum vtd_dma_mode)m))) {
				o->mode = (enum vtd_dma_mode)m;
				return 0;
			}
		return bad(err, errlen, "bad value '%s' for key 'mode': strict, lazy or lazy-ranged",
			   val);
	case P_PROFILE:
		if (!strcmp(val, "exact") || !strcmp(val, "adversarial")) {
			o->profile = val[0] == 'e' ? VTDM_EXACT : VTDM_ADVERSARIAL;
			return 0;
		}
		return bad(err, errlen, "bad value '%s' for key 'caching': exact or adversarial",
			   val);
	default:
		break;
	}
	range_text(p, what, sizeof(what));
	if (vtdm_parse_u64(val, &v, p->pow2) || !in_range(p, v))
		return bad(err, errlen, "bad value '%s' for key '%s': %s", val, key, what);
	switch (p->type) {
	case P_U64:
		memcpy(f + p->off, &v, sizeof(v));
		break;
	case P_UINT:
		*(unsigned *)(void *)(f + p->off) = (unsigned)v;
		break;
	case P_BOOL:
		*(bool *)(void *)(f + p->off) = v;
		break;
	case P_ATS:
		o->ats = (int)v;
		break;
	default:
		break;
	}
	return 0;
}

/* The options as wl_params_set would have left them; -EINVAL naming the key. */
static int opts_check(const struct wl_opts *o, char *err, size_t errlen)
{
	const char *f = (const char *)o;
	char what[96];

	if ((unsigned)o->workload >= WL_NR)
		return bad(err, errlen, "unknown workload %d", (int)o->workload);
	if (o->mode != VTD_DMA_STRICT && o->mode != VTD_DMA_LAZY && o->mode != VTD_DMA_LAZY_RANGED)
		return bad(err, errlen, "unknown mode %d", (int)o->mode);
	if (o->profile != VTDM_EXACT && o->profile != VTDM_ADVERSARIAL)
		return bad(err, errlen, "unknown cache profile %d", (int)o->profile);
	if (o->ats < -1 || o->ats > 1)
		return bad(err, errlen, "ats=%d: -1 (the workload's default), 0 or 1", o->ats);
	for (size_t i = 0; i < ARRAY_SIZE(params); i++) {
		const struct param *p = &params[i];
		uint64_t v;

		if (!(p->applies & B(o->workload)))
			continue;
		if (p->type == P_U64)
			memcpy(&v, f + p->off, sizeof(v));
		else if (p->type == P_UINT)
			v = *(const unsigned *)(const void *)(f + p->off);
		else
			continue;
		if (!in_range(p, v)) {
			range_text(p, what, sizeof(what));
			return bad(err, errlen, "%s=%" PRIu64 " out of range: %s", p->key, v, what);
		}
	}
	return 0;
}

/* ---- The machine ---- */

/* One buffer or scatter-gather list of a device. */
struct cmd {
	struct vtd_sg *sg;	/* nsg elements */
	unsigned nsg;
	unsigned dir;		/* VTD_DMA_* */
	bool list;		/* mapped with vtd_dma_map_sg */
};

struct wdev {
	enum wl_kind kind;	/* nic-rx, nic-tx, nvme or gpu */
	uint16_t sid;
	unsigned unit;
	bool ats;
	struct vtd_device *dev;
	struct vtd_domain *dom;
	struct vtd_dma *dma;
	int track;		/* the timeline's, or -1 */
	uint64_t rng;
	uint64_t base;		/* its data region */
	struct cmd *cmds;
	unsigned ncmds;
	struct vtd_sg *sgs;	/* the slots' list elements */
	unsigned head;		/* rings: the next slot */
	uint64_t *pool;		/* nic-rx: free buffers, a FIFO of ring entries */
	unsigned pool_head, pool_n, pool_cap;
};

struct open_call {
	uint64_t id, ts;
};

struct rig {
	const struct wl_opts *o;
	struct wl_result *r;
	char *err;
	size_t errlen;

	struct vtdm *m;
	struct vtd_host *h;
	struct chk *oracle;
	struct chk_env env;		/* libvtd -> env ops -> this file's ops -> host */
	struct vtdm_hooks chk_hooks;	/* the checker's model hooks, wrapped */
	struct vtd *v;
	struct vtd_unit *units[2];
	unsigned nunits;
	struct wdev devs[3];
	unsigned ndevs;
	uint8_t *buf;			/* the devices' data */
	uint64_t data_next;
	bool in_span;

	struct tl *tl;
	int cpu_track, unit_track[2];
	struct open_call open[MAX_OPEN];
	unsigned nopen;
	uint64_t acc_ts;		/* the device access in flight began */
	bool late_now;			/* ... and is a late one */
	uint64_t dma_pages;
};

static int fail(struct rig *g, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct rig *g, int ret, const char *fmt, ...)
{
	va_list ap;

	if (g->err && g->errlen) {
		va_start(ap, fmt);
		vsnprintf(g->err, g->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): one 64-bit state, every seed usable.
 */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return rnd(s) % n;
}

/* ---- libvtd's ops: the host's, with the observers ---- */

static struct vtd_host *host(void *ctx)
{
	return ((struct rig *)ctx)->h;
}

static uint32_t o_mmio_read32(void *ctx, uint64_t addr)
{
	return vtd_host_ops()->mmio_read32(host(ctx), addr);
}

static uint64_t o_mmio_read64(void *ctx, uint64_t addr)
{
	return vtd_host_ops()->mmio_read64(host(ctx), addr);
}

/*
 * A write of a unit's queue tail (IQT) is a submission: the model
 * processes the batch, which always ends with libvtd's wait descriptor,
 * within the write. On the timeline it is one span on the unit's track,
 * from the tail write to the wait's completion (the descriptors of the
 * batch are the instants at its start).
 */
static bool iqt_write(struct rig *g, uint64_t addr, unsigned *u)
{
	uint64_t off = addr - VTDM_MMIO_BASE;

	*u = (unsigned)(off / VTDM_MMIO_STRIDE);
	return g->tl && addr >= VTDM_MMIO_BASE && off % VTDM_MMIO_STRIDE == DMAR_IQT_REG &&
	       *u < g->nunits;
}

static void o_mmio_write32(void *ctx, uint64_t addr, uint32_t val)
{
	vtd_host_ops()->mmio_write32(host(ctx), addr, val);
}

static void o_mmio_write64(void *ctx, uint64_t addr, uint64_t val)
{
	struct rig *g = ctx;
	uint64_t ts = vtdm_now(g->m);
	unsigned u;

	vtd_host_ops()->mmio_write64(host(ctx), addr, val);
	if (iqt_write(g, addr, &u))
		tl_span(g->tl, g->unit_track[u], "batch to its wait", "qi", ts,
			vtdm_now(g->m) - ts, NULL, 0);
}

static int o_page_alloc(void *ctx, uint64_t *pa)
{
	return vtd_host_ops()->page_alloc(host(ctx), pa);
}

static void o_page_free(void *ctx, uint64_t pa)
{
	vtd_host_ops()->page_free(host(ctx), pa);
}

static uint64_t o_mem_read64(void *ctx, uint64_t pa)
{
	return vtd_host_ops()->mem_read64(host(ctx), pa);
}

static void o_mem_write64(void *ctx, uint64_t pa, uint64_t val)
{
	vtd_host_ops()->mem_write64(host(ctx), pa, val);
}

static uint32_t o_mem_read32(void *ctx, uint64_t pa)
{
	return vtd_host_ops()->mem_read32(host(ctx), pa);
}

static void o_mem_write32(void *ctx, uint64_t pa, uint32_t val)
{
	vtd_host_ops()->mem_write32(host(ctx), pa, val);
}

static void o_clflush(void *ctx, uint64_t pa)
{
	vtd_host_ops()->clflush(host(ctx), pa);
}

static void *o_lock_new(void *ctx)
{
	return vtd_host_ops()->lock_new(host(ctx));
}

static void o_lock(void *ctx, void *lock)
{
	vtd_host_ops()->lock(host(ctx), lock);
}

static void o_unlock(void *ctx, void *lock)
{
	vtd_host_ops()->unlock(host(ctx), lock);
}

static void o_lock_free(void *ctx, void *lock)
{
	vtd_host_ops()->lock_free(host(ctx), lock);
}

static uint64_t o_now(void *ctx)
{
	return vtd_host_ops()->now_ns(host(ctx));
}

static void o_relax(void *ctx)
{
	vtd_host_ops()->relax(host(ctx));
}

/* One driver thread: every flush queue choice is the same in every run. */
static unsigned o_cpu(void *ctx)
{
	(void)ctx;
	return 0;
}

static void span(struct rig *g, int track, const char *name, const char *cat, uint64_t ts,
		 const struct tl_arg *args, unsigned nargs)
{
	if (g->tl && track >= 0)
		tl_span(g->tl, track, name, cat, ts, vtdm_now(g->m) - ts, args, nargs);
}

/* Every public call as a span on the driver's track, from entry to return. */
static void o_call(void *ctx, const struct vtd_call *c)
{
	struct rig *g = ctx;
	uint64_t now, ts;

	if (!g->tl)
		return;
	now = vtdm_now(g->m);
	if (c->kind == VTD_CALL_IOVA_FREE) {
		struct tl_arg a[] = {
			{ "iova", TL_HEX, c->iova }, { "size", TL_U64, c->size },
		};

		tl_instant(g->tl, g->cpu_track, "iova_free", "vtd", now, a, ARRAY_SIZE(a));
		return;
	}
	if (!c->done) {
		if (g->nopen < MAX_OPEN)
			g->open[g->nopen++] = (struct open_call){ c->id, now };
		return;
	}
	for (unsigned i = g->nopen; i-- > 0;) {
		if (g->open[i].id != c->id)
			continue;
		ts = g->open[i].ts;
		g->open[i] = g->open[--g->nopen];
		struct tl_arg a[] = {
			{ "iova", TL_HEX, c->iova },
			{ "size", TL_U64, c->size },
			{ c->kind == VTD_CALL_MAP ? "pa" : NULL, TL_HEX, c->pa },
			{ c->kind == VTD_CALL_UNMAP ? "bytes" : NULL, TL_U64, (uint64_t)c->ret },
			{ c->kind != VTD_CALL_UNMAP && c->ret ? "errno" : NULL, TL_U64,
			  (uint64_t)-c->ret },
		};

		tl_span(g->tl, g->cpu_track, vtd_call_name(c->kind), "vtd", ts, now - ts, a,
			ARRAY_SIZE(a));
		return;
	}
}

static int unit_index(struct rig *g, const char *name)
{
	for (unsigned i = 0; i < g->nunits; i++)
		if (name && g->units[i] && !strcmp(name, vtd_unit_name(g->units[i])))
			return (int)i;
	return -1;
}

/* Every descriptor libvtd submits, as an instant on its unit's track. */
static void o_trace(void *ctx, const struct vtd_event *ev)
{
	struct rig *g = ctx;
	struct vtd_desc d;
	int u;

	vtd_host_ops()->trace(g->h, ev);
	if (!g->tl || ev->type != VTD_EV_QI_SUBMIT)
		return;
	u = unit_index(g, ev->unit);
	if (u < 0)
		return;
	memcpy(d.qw, ev->qw, sizeof(d.qw));
	tl_desc(g->tl, g->unit_track[u], &d, vtdm_now(g->m));
}

static const struct vtd_ops wl_ops = {
	.mmio_read32 = o_mmio_read32,
	.mmio_read64 = o_mmio_read64,
	.mmio_write32 = o_mmio_write32,
	.mmio_write64 = o_mmio_write64,
	.page_alloc = o_page_alloc,
	.page_free = o_page_free,
	.mem_read64 = o_mem_read64,
	.mem_write64 = o_mem_write64,
	.mem_read32 = o_mem_read32,
	.mem_write32 = o_mem_write32,
	.clflush = o_clflush,
	.lock_new = o_lock_new,
	.lock = o_lock,
	.unlock = o_unlock,
	.lock_free = o_lock_free,
	.now_ns = o_now,
	.relax = o_relax,
	.call = o_call,
	.trace = o_trace,
	.cpu = o_cpu,
};

/* ---- The model's hooks: the checker's, then the observers ---- */

static void w_yield(void *ctx, const struct vtdm_point *p)
{
	struct rig *g = ctx;

	g->chk_hooks.yield(g->chk_hooks.ctx, p);
}

static void w_access_begin(void *ctx, const struct vtdm_access *a)
{
	struct rig *g = ctx;

	g->chk_hooks.access_begin(g->chk_hooks.ctx, a);
	if (g->tl)
		g->acc_ts = vtdm_now(g->m);
}

static struct wdev *dev_of(struct rig *g, uint16_t sid)
{
	for (unsigned i = 0; i < g->ndevs; i++)
		if (g->devs[i].sid == sid)
			return &g->devs[i];
	return NULL;
}

static void w_access_end(void *ctx, const struct vtdm_access *a, const struct vtdm_xlate *x)
{
	struct rig *g = ctx;
	struct wdev *d = dev_of(g, a->sid);
	uint64_t now;

	g->chk_hooks.access_end(g->chk_hooks.ctx, a, x);
	if (!a->ats && g->in_span)
		g->dma_pages++;
	if (!g->tl || !d)
		return;
	now = vtdm_now(g->m);
	struct tl_arg args[] = {
		{ "iova", TL_HEX, a->iova },
		{ x->fault ? NULL : "pa", TL_HEX, x->pa },
		{ x->fault ? NULL : "device_tlb", TL_U64, x->from_atc },
		{ x->fault ? "fault" : NULL, TL_HEX, (uint64_t)x->fault },
	};

	tl_span(g->tl, d->track, g->late_now ? (a->write ? "late write" : "late read") :
		a->write ? "dma write" : "dma read", g->late_now ? "late" : "dma", g->acc_ts,
		now - g->acc_ts, args, ARRAY_SIZE(args));
	if (x->fault && a->unit < g->nunits) {
		struct tl_arg f[] = {
			{ "sid", TL_HEX, a->sid }, { "iova", TL_HEX, a->iova },
			{ "reason", TL_HEX, (uint64_t)x->fault },
		};

		tl_instant(g->tl, g->unit_track[a->unit], "fault", "fault", now, f, ARRAY_SIZE(f));
	}
}

static uint64_t oracle_now(void *arg)
{
	return vtdm_now(arg);
}

/* ---- Building and tearing down ---- */

/* @size bytes of the devices' memory, @align-aligned. */
static int data_alloc(struct rig *g, uint64_t size, uint64_t align, uint64_t *pa)
{
	uint64_t at = (g->data_next + align - 1) & ~(align - 1);

	if (at > POOL_BASE || size > POOL_BASE - at)
		return fail(g, -ENOMEM, "the workload needs more than %" PRIu64
			    " MiB of device memory", (uint64_t)((POOL_BASE - DATA_BASE) >> 20));
	*pa = at;
	g->data_next = at + size;
	return 0;
}

/* The device's slots, @maxsg list elements each. */
static int dev_slots(struct rig *g, struct wdev *d, unsigned n, unsigned maxsg)
{
	d->cmds = calloc(n, sizeof(*d->cmds));
	d->sgs = calloc((size_t)n * maxsg, sizeof(*d->sgs));
	if (!d->cmds || !d->sgs)
		return fail(g, -ENOMEM, "out of memory");
	d->ncmds = n;
	for (unsigned i = 0; i < n; i++)
		d->cmds[i].sg = &d->sgs[(size_t)i * maxsg];
	return 0;
}

static void rig_fini(struct rig *g)
{
	for (unsigned i = 0; i < g->ndevs; i++)
		if (g->devs[i].dma)
			vtd_dma_destroy(g->devs[i].dma);
	if (g->v)
		vtd_destroy(g->v);
	if (g->h)
		vtd_host_destroy(g->h);
	if (g->m)
		vtdm_destroy(g->m);
	chk_destroy(g->oracle);
	for (unsigned i = 0; i < g->ndevs; i++) {
		free(g->devs[i].cmds);
		free(g->devs[i].sgs);
		free(g->devs[i].pool);
	}
	free(g->buf);
}

static const char *const unit_names[] = { "dmar0", "dmar1" };

/* The devices of the workload: kind, unit, requester id. */
static void plan(struct rig *g)
{
	const struct wl_opts *o = g->o;
	static const enum wl_kind mixed[] = { WL_NIC_RX, WL_GPU, WL_NVME };

	if (o->workload == WL_MIXED) {
		for (unsigned i = 0; i < ARRAY_SIZE(mixed); i++)
			g->devs[i] = (struct wdev){ .kind = mixed[i], .unit = mixed[i] == WL_NVME };
		g->ndevs = ARRAY_SIZE(mixed);
		g->nunits = 2;
	} else {
		g->devs[0] = (struct wdev){ .kind = o->workload };
		g->ndevs = 1;
		g->nunits = 1;
	}
	for (unsigned i = 0; i < g->ndevs; i++) {
		struct wdev *d = &g->devs[i];

		d->sid = (uint16_t)((i + 1) << 3);	/* 00:01.0, 00:02.0, 00:03.0 */
		d->ats = o->ats < 0 ? d->kind == WL_NVME || d->kind == WL_GPU : o->ats;
		d->rng = o->seed ^ ((uint64_t)(i + 1) << 56);
		d->track = -1;
	}
}

static int build(struct rig *g)
{
	const struct wl_opts *o = g->o;
	struct vtdm_machine_cfg mc;
	struct vtdm_hooks hooks;
	size_t buflen;
	int ret;

	vtdm_machine_cfg_default(&mc);
	mc.mem_size = MEM_SIZE;
	g->m = vtdm_create(&mc);
	if (!g->m)
		return fail(g, -ENOMEM, "cannot create the machine");
	for (unsigned u = 0; u < g->nunits; u++) {
		struct vtdm_unit_cfg uc;

		vtdm_unit_cfg_default(&uc);
		uc.cm = o->cm;
		uc.caching = o->profile;
		uc.dt = true;		/* device TLBs may be used (ECAP.DT) */
		ret = vtdm_add_unit(g->m, &uc);
		if (ret < 0)
			return fail(g, ret, "vtdm_add_unit: %s", strerror(-ret));
	}
	for (unsigned i = 0; i < g->ndevs; i++) {
		struct vtdm_dev_cfg dc;

		vtdm_dev_cfg_default(&dc);
		dc.sid = g->devs[i].sid;
		dc.unit = (int)g->devs[i].unit;
		dc.ats = g->devs[i].ats;
		ret = vtdm_add_device(g->m, &dc);
		if (ret < 0)
			return fail(g, ret, "vtdm_add_device: %s", strerror(-ret));
	}
	g->h = vtd_host_create(g->m, POOL_BASE, POOL_SIZE);
	g->oracle = chk_create(oracle_now, g->m);
	if (!g->h || !g->oracle)
		return fail(g, -ENOMEM, "out of memory");
	chk_set_unmap_revokes(g->oracle, true);
	g->env = (struct chk_env){ .inner = &wl_ops, .inner_ctx = g, .m = g->m,
				   .oracle = g->oracle };
	chk_env_hooks(&g->env, &g->chk_hooks);
	hooks = (struct vtdm_hooks){ .yield = w_yield, .access_begin = w_access_begin,
				     .access_end = w_access_end, .ctx = g };
	vtdm_set_hooks(g->m, &hooks);
	g->v = vtd_create(chk_env_ops(), &g->env);
	if (!g->v)
		return fail(g, -ENOMEM, "vtd_create failed");
	for (unsigned u = 0; u < g->nunits; u++) {
		struct vtd_unit_opts uo = { .name = unit_names[u] };

		ret = vtd_unit_add(g->v, vtdm_unit_base(u), &uo, &g->units[u]);
		if (ret)
			return fail(g, ret, "vtd_unit_add %s: %s", unit_names[u], strerror(-ret));
	}
	for (unsigned i = 0; i < g->ndevs; i++) {
		struct wdev *d = &g->devs[i];
		struct vtd_device_opts dopt = { .ats = d->ats };
		struct vtd_domain_opts dmo = { .stage = VTD_STAGE_SECOND, .unit = g->units[d->unit] };
		struct vtd_dma_opts dma = { .mode = o->mode, .force_mode = o->force_mode };

		ret = vtd_device_add(g->v, g->units[d->unit], d->sid, &dopt, &d->dev);
		if (!ret)
			ret = vtd_domain_alloc(g->v, &dmo, &d->dom);
		if (!ret) {
			chk_name_domain(g->oracle, d->dom, names[d->kind]);
			ret = vtd_attach(d->dom, d->dev);
		}
		if (!ret)
			ret = vtd_dma_create(d->dom, &dma, &d->dma);
		if (ret)
			return fail(g, ret, "%s: setting up the device: %s", names[d->kind],
				    strerror(-ret));
	}
	/* The largest DMA: an nvme command, or a send's fragment. */
	buflen = TX_SLOT;
	if ((o->workload == WL_NVME || o->workload == WL_MIXED) && o->maxio > buflen)
		buflen = o->maxio;
	g->buf = malloc(buflen);
	if (!g->buf)
		return fail(g, -ENOMEM, "out of memory");
	memset(g->buf, 0xa5, buflen);
	g->data_next = DATA_BASE;
	return 0;
}

static void timeline_tracks(struct rig *g)
{
	char name[48];

	g->cpu_track = -1;
	g->unit_track[0] = g->unit_track[1] = -1;
	if (!g->tl)
		return;
	g->cpu_track = tl_track(g->tl, "cpu", "driver");
	for (unsigned u = 0; u < g->nunits; u++)
		g->unit_track[u] = tl_track(g->tl, "units", unit_names[u]);
	for (unsigned i = 0; i < g->ndevs; i++) {
		struct wdev *d = &g->devs[i];

		snprintf(name, sizeof(name), "%02x:%02x.%x %s", d->sid >> 8, (d->sid >> 3) & 0x1f,
			 d->sid & 7, names[d->kind]);
		d->track = tl_track(g->tl, "devices", name);
	}
}

/* ---- What drivers and devices do ---- */

/* Map @c (its sg filled with pa and len) through the device's DMA layer. */
static int drv_map(struct rig *g, struct wdev *d, struct cmd *c)
{
	uint64_t ts = g->tl ? vtdm_now(g->m) : 0, bytes = 0;
	int ret;

	for (unsigned i = 0; i < c->nsg; i++)
		bytes += c->sg[i].len;
	if (c->list)
		ret = vtd_dma_map_sg(d->dma, d->dev, c->sg, c->nsg, c->dir);
	else
		ret = vtd_dma_map(d->dma, d->dev, c->sg[0].pa, c->sg[0].len, c->dir,
				  &c->sg[0].iova);
	if (ret)
		return fail(g, ret, "%s: mapping %" PRIu64 " bytes: %s", names[d->kind], bytes,
			    strerror(-ret));
	if (g->in_span) {
		g->r->maps++;
		g->r->bytes_mapped += bytes;
	}
	struct tl_arg a[] = {
		{ "iova", TL_HEX, c->sg[0].iova }, { "bytes", TL_U64, bytes },
		{ c->list ? "elements" : NULL, TL_U64, c->nsg },
	};

	span(g, g->cpu_track, c->list ? "dma_map_sg" : "dma_map", "dma", ts, a, ARRAY_SIZE(a));
	return 0;
}

static int drv_unmap(struct rig *g, struct wdev *d, struct cmd *c)
{
	uint64_t ts = g->tl ? vtdm_now(g->m) : 0;
	int ret;

	if (c->list)
		ret = vtd_dma_unmap_sg(d->dma, d->dev, c->sg, c->nsg);
	else
		ret = vtd_dma_unmap(d->dma, d->dev, c->sg[0].iova, c->sg[0].len);
	if (ret)
		return fail(g, ret, "%s: unmapping IOVA 0x%" PRIx64 ": %s", names[d->kind],
			    c->sg[0].iova, strerror(-ret));
	if (g->in_span)
		g->r->unmaps++;
	struct tl_arg a[] = { { "iova", TL_HEX, c->sg[0].iova } };

	span(g, g->cpu_track, c->list ? "dma_unmap_sg" : "dma_unmap", "dma", ts, a,
	     ARRAY_SIZE(a));
	return 0;
}

/* The device moves @len bytes at @iova of a live buffer; -EIO if it faulted. */
static int dev_dma(struct rig *g, struct wdev *d, uint64_t iova, size_t len, bool write)
{
	struct vtdm_xlate x;
	int ret = vtdm_dma(g->m, d->sid, VTD_NO_PASID, iova, g->buf, len, write, &x);

	if (ret < 0)
		return fail(g, ret, "%s: vtdm_dma: %s", names[d->kind], strerror(-ret));
	if (ret)
		return fail(g, -EIO, "%s: DMA %s of %zu bytes at live IOVA 0x%" PRIx64
			    " faulted (reason 0x%x)", names[d->kind], write ? "write" : "read", len,
			    iova, x.fault);
	return 0;
}

/* The misbehaving device: one more access to a buffer it no longer owns. */
static void dev_late(struct rig *g, struct wdev *d, const struct cmd *c)
{
	struct vtdm_xlate x;
	int ret;

	if (!g->o->late_dma)
		return;
	g->late_now = true;
	ret = vtdm_dma(g->m, d->sid, VTD_NO_PASID, c->sg[0].iova, g->buf, LATE_BYTES,
		       c->dir != VTD_DMA_TO_DEVICE, &x);
	g->late_now = false;
	g->r->late++;
	if (ret == 0)
		g->r->late_translated++;
	else
		g->r->late_faulted++;
}

/* nic-rx: a buffer from the pool (FIFO: the one returned longest ago). */
static uint64_t pool_take(struct wdev *d)
{
	uint64_t pa = d->pool[d->pool_head];

	d->pool_head = (d->pool_head + 1) % d->pool_cap;
	d->pool_n--;
	return pa;
}

static void pool_put(struct wdev *d, uint64_t pa)
{
	d->pool[(d->pool_head + d->pool_n) % d->pool_cap] = pa;
	d->pool_n++;
}

static int rx_refill(struct rig *g, struct wdev *d, struct cmd *c)
{
	c->nsg = 1;
	c->dir = VTD_DMA_FROM_DEVICE;
	c->sg[0] = (struct vtd_sg){ .pa = pool_take(d), .len = RX_BUF };
	return drv_map(g, d, c);
}

static int rx_setup(struct rig *g, struct wdev *d)
{
	unsigned ring = g->o->ring;
	int ret = dev_slots(g, d, ring, 1);

	if (ret)
		return ret;
	d->pool_cap = 2 * ring;
	d->pool = calloc(d->pool_cap, sizeof(*d->pool));
	if (!d->pool)
		return fail(g, -ENOMEM, "out of memory");
	ret = data_alloc(g, (uint64_t)d->pool_cap * RX_BUF, PG, &d->base);
	for (unsigned i = 0; i < d->pool_cap && !ret; i++)
		pool_put(d, d->base + (uint64_t)i * RX_BUF);
	for (unsigned i = 0; i < ring && !ret; i++)
		ret = rx_refill(g, d, &d->cmds[i]);
	return ret;
}

/* One packet: written by the device, completed (unmapped), the slot refilled. */
static int rx_op(struct rig *g, struct wdev *d)
{
	struct cmd *c = &d->cmds[d->head];
	size_t len = RX_PKT_MIN + (size_t)rnd_below(&d->rng, RX_PKT_MAX - RX_PKT_MIN + 1);
	int ret = dev_dma(g, d, c->sg[0].iova, len, true);

	if (!ret)
		ret = drv_unmap(g, d, c);
	if (ret)
		return ret;
	pool_put(d, c->sg[0].pa);
	dev_late(g, d, c);
	d->head = (d->head + 1) % d->ncmds;
	return rx_refill(g, d, c);
}

/* nic-tx: post a send in slot @s: header and fragments, read by the device. */
static int tx_post(struct rig *g, struct wdev *d, unsigned s)
{
	struct cmd *c = &d->cmds[s];
	uint64_t region = d->base + (uint64_t)s * TX_SLOT;
	unsigned frags = 1 + (unsigned)rnd_below(&d->rng, g->o->frags);
	int ret;

	c->list = true;
	c->dir = VTD_DMA_TO_DEVICE;
	c->nsg = 1 + frags;
	c->sg[0] = (struct vtd_sg){ .pa = region, .len = TX_HDR };
	for (unsigned i = 1; i <= frags; i++)
		c->sg[i] = (struct vtd_sg){ .pa = region + i * PG, .len = PG };
	c->sg[frags].len = 1 + rnd_below(&d->rng, PG);
	ret = drv_map(g, d, c);
	for (unsigned i = 0; i < c->nsg && !ret; i++)
		ret = dev_dma(g, d, c->sg[i].iova, c->sg[i].len, false);
	return ret;
}

static int tx_setup(struct rig *g, struct wdev *d)
{
	int ret = dev_slots(g, d, g->o->ring, 1 + g->o->frags);

	if (!ret)
		ret = data_alloc(g, (uint64_t)g->o->ring * TX_SLOT, PG, &d->base);
	for (unsigned s = 0; s < d->ncmds && !ret; s++)
		ret = tx_post(g, d, s);
	return ret;
}

/* One send completed (the ring wrapped round to it), a new one posted. */
static int tx_op(struct rig *g, struct wdev *d)
{
	unsigned s = d->head;
	int ret = drv_unmap(g, d, &d->cmds[s]);

	if (ret)
		return ret;
	dev_late(g, d, &d->cmds[s]);
	d->head = (d->head + 1) % d->ncmds;
	return tx_post(g, d, s);
}

/* nvme: issue a command in slot @s: 2^k pages, a read or a write. */
static int nvme_issue(struct rig *g, struct wdev *d, unsigned s)
{
	struct cmd *c = &d->cmds[s];
	uint64_t region = d->base + (uint64_t)s * g->o->maxio;
	unsigned order = (unsigned)rnd_below(&d->rng, (uint64_t)__builtin_ctzll(g->o->maxio / PG) + 1);

	c->list = true;
	c->dir = rnd_below(&d->rng, 2) ? VTD_DMA_FROM_DEVICE : VTD_DMA_TO_DEVICE;
	c->nsg = 1u << order;
	for (unsigned i = 0; i < c->nsg; i++)
		c->sg[i] = (struct vtd_sg){ .pa = region + i * PG, .len = PG };
	return drv_map(g, d, c);
}

static int nvme_setup(struct rig *g, struct wdev *d)
{
	int ret = dev_slots(g, d, g->o->qd, (unsigned)(g->o->maxio / PG));

	if (!ret)
		ret = data_alloc(g, (uint64_t)g->o->qd * g->o->maxio, PG, &d->base);
	for (unsigned s = 0; s < d->ncmds && !ret; s++)
		ret = nvme_issue(g, d, s);
	return ret;
}

/*
 * One command completed: a random one of those in flight moves its data
 * (its pages are contiguous in IOVA space), is unmapped and replaced.
 */
static int nvme_op(struct rig *g, struct wdev *d)
{
	unsigned s = (unsigned)rnd_below(&d->rng, d->ncmds);
	struct cmd *c = &d->cmds[s];
	int ret = dev_dma(g, d, c->sg[0].iova, (size_t)c->nsg * PG,
			  c->dir == VTD_DMA_FROM_DEVICE);

	if (!ret)
		ret = drv_unmap(g, d, c);
	if (ret)
		return ret;
	dev_late(g, d, c);
	return nvme_issue(g, d, s);
}

static int gpu_setup(struct rig *g, struct wdev *d)
{
	int ret = dev_slots(g, d, g->o->buffers, 1);

	if (!ret)
		ret = data_alloc(g, (uint64_t)g->o->buffers * SZ_2M, SZ_2M, &d->base);
	for (unsigned b = 0; b < d->ncmds && !ret; b++) {
		struct cmd *c = &d->cmds[b];

		c->nsg = 1;
		c->dir = VTD_DMA_BIDIRECTIONAL;
		c->sg[0] = (struct vtd_sg){ .pa = d->base + b * SZ_2M, .len = SZ_2M };
		ret = drv_map(g, d, c);
	}
	return ret;
}

/* One batch of accesses; now and then a buffer is unmapped and mapped again. */
static int gpu_op(struct rig *g, struct wdev *d)
{
	int ret = 0;

	for (unsigned t = 0; t < g->o->touches && !ret; t++) {
		const struct cmd *c = &d->cmds[rnd_below(&d->rng, d->ncmds)];
		uint64_t off = rnd_below(&d->rng, SZ_2M / PG) * PG +
			       rnd_below(&d->rng, PG / GPU_TOUCH) * GPU_TOUCH;

		ret = dev_dma(g, d, c->sg[0].iova + off, GPU_TOUCH, !rnd_below(&d->rng, 4));
	}
	if (ret || !g->o->remap || rnd_below(&d->rng, g->o->remap))
		return ret;
	struct cmd *c = &d->cmds[rnd_below(&d->rng, d->ncmds)];

	ret = drv_unmap(g, d, c);
	if (ret)
		return ret;
	dev_late(g, d, c);
	return drv_map(g, d, c);
}

static int dev_setup(struct rig *g, struct wdev *d)
{
	switch (d->kind) {
	case WL_NIC_RX:
		return rx_setup(g, d);
	case WL_NIC_TX:
		return tx_setup(g, d);
	case WL_NVME:
		return nvme_setup(g, d);
	case WL_GPU:
		return gpu_setup(g, d);
	default:
		return fail(g, -EINVAL, "no device of kind %d", (int)d->kind);
	}
}

static int dev_op(struct rig *g, struct wdev *d)
{
	switch (d->kind) {
	case WL_NIC_RX:
		return rx_op(g, d);
	case WL_NIC_TX:
		return tx_op(g, d);
	case WL_NVME:
		return nvme_op(g, d);
	case WL_GPU:
		return gpu_op(g, d);
	default:
		return fail(g, -EINVAL, "no device of kind %d", (int)d->kind);
	}
}

/* ---- Counters ---- */

/* libvtd's, then the model's, in struct snap order. */
static const char *const lib_names[] = {
	"qi.submit", "qi.desc.iotlb.psi", "qi.desc.iotlb.dsi", "qi.desc.iotlb.global",
	"qi.desc.devtlb", "qi.desc.piotlb", "qi.desc.cc", "qi.desc.wait", "fq.flush",
	"fq.entries", "qi.desc.iec", "qi.desc.pc", "qi.desc.pdevtlb",
};
static const char *const model_names[] = {
	"iotlb.hit", "iotlb.miss", "atc.hit", "atc.miss", "dma.bytes", "dma.fault", "time.ns",
};
#define NLIB	ARRAY_SIZE(lib_names)
#define NMODEL	ARRAY_SIZE(model_names)

struct snap {
	uint64_t v[NLIB + NMODEL];
	uint64_t dma_pages;
};

static void take(struct rig *g, struct snap *s)
{
	for (size_t i = 0; i < NLIB; i++)
		if (vtd_stat(g->v, lib_names[i], &s->v[i]))
			s->v[i] = 0;
	for (size_t i = 0; i < NMODEL; i++)
		if (vtdm_stat(g->m, model_names[i], &s->v[NLIB + i]))
			s->v[NLIB + i] = 0;
	s->dma_pages = g->dma_pages;
}

static double rate(uint64_t hit, uint64_t miss)
{
	return hit + miss ? (double)hit / (double)(hit + miss) : NAN;
}

static void fill_counters(struct wl_result *r, const struct snap *a, const struct snap *b)
{
	uint64_t d[NLIB + NMODEL];

	for (size_t i = 0; i < NLIB + NMODEL; i++)
		d[i] = b->v[i] - a->v[i];
	r->qi_submit = d[0];
	r->desc_psi = d[1];
	r->desc_dsi = d[2];
	r->desc_global = d[3];
	r->desc_devtlb = d[4];
	r->desc_piotlb = d[5];
	r->desc_cc = d[6];
	r->desc_wait = d[7];
	r->fq_flush = d[8];
	r->fq_entries = d[9];
	r->desc_total = d[1] + d[2] + d[3] + d[4] + d[5] + d[6] + d[7] + d[10] + d[11] + d[12];
	r->iotlb_hit = d[NLIB + 0];
	r->iotlb_miss = d[NLIB + 1];
	r->atc_hit = d[NLIB + 2];
	r->atc_miss = d[NLIB + 3];
	r->dma_bytes = d[NLIB + 4];
	r->dma_faults = d[NLIB + 5];
	r->model_ns = d[NLIB + 6];
	r->dma_pages = b->dma_pages - a->dma_pages;
	r->iotlb_hit_rate = rate(r->iotlb_hit, r->iotlb_miss);
	r->atc_hit_rate = r->ats ? rate(r->atc_hit, r->atc_miss) : NAN;
	r->ns_per_op = r->ops ? ((double)r->model_ns - (double)r->idle_ns) / (double)r->ops : 0;
}

_Static_assert(sizeof(((struct wl_result *)0)->first_violation) ==
	       sizeof(((struct chk_violation *)0)->msg), "a violation's whole message");

static void fill_oracle(struct rig *g, struct wl_result *r)
{
	const struct chk_violation *v = chk_violation(g->oracle, 0);

	r->judged = chk_judged(g->oracle);
	r->violations = chk_nr_violations(g->oracle);
	for (int k = 0; k < CHK_NR; k++)
		r->by_kind[k] = chk_count(g->oracle, (enum chk_kind)k);
	r->first_kind = v ? (int)v->kind : -1;
	if (v)
		memcpy(r->first_violation, v->msg, sizeof(r->first_violation));
	chk_exposure(g->oracle, &r->exposure);
	chk_exposure_hist(g->oracle, r->exposure_hist, CHK_EXPO_BUCKETS);
}

/* Hit rates so far in the span, as timeline counters. */
static void sample(struct rig *g, const struct snap *a)
{
	struct snap b;
	uint64_t now;

	if (!g->tl)
		return;
	take(g, &b);
	now = vtdm_now(g->m);
	tl_counter(g->tl, "workload", "iotlb hit rate", now,
		   rate(b.v[NLIB + 0] - a->v[NLIB + 0], b.v[NLIB + 1] - a->v[NLIB + 1]));
	if (g->r->ats)
		tl_counter(g->tl, "workload", "device-TLB hit rate", now,
			   rate(b.v[NLIB + 2] - a->v[NLIB + 2], b.v[NLIB + 3] - a->v[NLIB + 3]));
	tl_counter(g->tl, "workload", "violations", now, chk_nr_violations(g->oracle));
}

/* ---- The run ---- */

static int run_ops(struct rig *g, const struct snap *a)
{
	const struct wl_opts *o = g->o;
	uint64_t step = o->ops / 100 ? o->ops / 100 : 1;
	int ret = 0;

	for (uint64_t i = 0; i < o->ops; i++) {
		struct wdev *d = &g->devs[i % g->ndevs];
		uint64_t ts;

		ret = dev_op(g, d);
		if (ret)
			break;
		g->r->ops++;
		vtdm_clock_step(g->m, o->gap_ns);
		g->r->idle_ns += o->gap_ns;
		ts = g->tl ? vtdm_now(g->m) : 0;
		vtd_dma_poll(d->dma);
		if (g->tl && vtdm_now(g->m) != ts)
			span(g, g->cpu_track, "dma_poll", "dma", ts, NULL, 0);
		if ((i + 1) % step == 0 || i + 1 == o->ops) {
			if (o->progress)
				o->progress(o->progress_arg, i + 1, o->ops);
			sample(g, a);
		}
	}
	return ret;
}

int wl_run(const struct wl_opts *o, struct wl_result *r, char *err, size_t errlen)
{
	struct rig g = { .o = o, .r = r, .err = err, .errlen = errlen, .tl = o ? o->tl : NULL };
	struct snap a, b;
	uint64_t t0, t1;
	int ret;

	if (err && errlen)
		err[0] = 0;
	if (!o || !r)
		return bad(err, errlen, "no options or no result");
	memset(r, 0, sizeof(*r));
	ret = opts_check(o, err, errlen);
	if (ret)
		return ret;
	r->workload = o->workload;
	r->mode_asked = r->mode = o->mode;
	r->cm = o->cm;
	r->late_dma = o->late_dma;
	r->profile = o->profile;
	r->seed = o->seed;
	r->iotlb_hit_rate = r->atc_hit_rate = NAN;
	r->first_kind = -1;
	plan(&g);
	r->units = g.nunits;
	r->devices = g.ndevs;
	for (unsigned i = 0; i < g.ndevs; i++)
		r->ats |= g.devs[i].ats;
	timeline_tracks(&g);
	ret = build(&g);
	if (!ret) {
		r->mode = vtd_dma_mode(g.devs[0].dma);
		if (vtd_dma_note(g.devs[0].dma))
			snprintf(r->note, sizeof(r->note), "%s", vtd_dma_note(g.devs[0].dma));
	}
	for (unsigned i = 0; i < g.ndevs && !ret; i++)
		ret = dev_setup(&g, &g.devs[i]);
	if (ret) {
		rig_fini(&g);
		return ret;
	}
	g.in_span = true;
	take(&g, &a);
	t0 = mono_ns();
	ret = run_ops(&g, &a);
	t1 = mono_ns();
	take(&g, &b);
	g.in_span = false;
	r->wall_ns = t1 - t0;
	fill_counters(r, &a, &b);
	/* Teardown: every queue's last flush, then libvtd detaches and frees. */
	for (unsigned i = 0; i < g.ndevs; i++) {
		vtd_dma_destroy(g.devs[i].dma);
		g.devs[i].dma = NULL;
	}
	vtd_destroy(g.v);
	g.v = NULL;
	fill_oracle(&g, r);
	rig_fini(&g);
	return ret;
}
