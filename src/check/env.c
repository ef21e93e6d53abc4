/*
 * env.c — the checker's ops table and model hooks (env.h). Each service
 * forwards to the host; with a scheduler, each scheduling point hands the
 * baton, and each access is recorded in the current step's footprint
 * (the sleep sets' independence relation, sched.c).
 */
#include <inttypes.h>
#include <sched.h>
#include "check/env.h"
#include "fmt/bits.h"

static unsigned unit_of(uint64_t addr)
{
	return (unsigned)((addr - VTDM_MMIO_BASE) / VTDM_MMIO_STRIDE);
}

static uint32_t e_mmio_read32(void *ctx, uint64_t addr)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_UNIT, unit_of(addr), false);
	return e->inner->mmio_read32(e->inner_ctx, addr);
}

static uint64_t e_mmio_read64(void *ctx, uint64_t addr)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_UNIT, unit_of(addr), false);
	return e->inner->mmio_read64(e->inner_ctx, addr);
}

static void e_mmio_write32(void *ctx, uint64_t addr, uint32_t val)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_UNIT, unit_of(addr), true);
	e->inner->mmio_write32(e->inner_ctx, addr, val);
}

static void e_mmio_write64(void *ctx, uint64_t addr, uint64_t val)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_UNIT, unit_of(addr), true);
	e->inner->mmio_write64(e->inner_ctx, addr, val);
}

static int e_page_alloc(void *ctx, uint64_t *pa)
{
	struct chk_env *e = ctx;
	int ret;

	sched_touch(e->s, SK_POOL, 0, true);
	ret = e->inner->page_alloc(e->inner_ctx, pa);
	if (!ret && e->oracle)
		chk_page_alloc(e->oracle, *pa);
	return ret;
}

static void e_page_free(void *ctx, uint64_t pa)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_POOL, 0, true);
	if (e->oracle)
		chk_page_free(e->oracle, pa);
	e->inner->page_free(e->inner_ctx, pa);
}

static uint64_t e_mem_read64(void *ctx, uint64_t pa)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_MEM, pa >> 3, false);
	return e->inner->mem_read64(e->inner_ctx, pa);
}

static void e_mem_write64(void *ctx, uint64_t pa, uint64_t val)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_MEM, pa >> 3, true);
	e->inner->mem_write64(e->inner_ctx, pa, val);
}

static uint32_t e_mem_read32(void *ctx, uint64_t pa)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_MEM, pa >> 3, false);
	return e->inner->mem_read32(e->inner_ctx, pa);
}

static void e_mem_write32(void *ctx, uint64_t pa, uint32_t val)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_MEM, pa >> 3, true);
	e->inner->mem_write32(e->inner_ctx, pa, val);
}

static void e_clflush(void *ctx, uint64_t pa)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_MEM_ALL, 0, true);	/* changes what walkers see */
	e->inner->clflush(e->inner_ctx, pa);
}

static void *e_lock_new(void *ctx)
{
	struct chk_env *e = ctx;

	return e->s ? sched_lock_new(e->s) : e->inner->lock_new(e->inner_ctx);
}

static void e_lock(void *ctx, void *lock)
{
	struct chk_env *e = ctx;

	if (e->s)
		sched_lock(e->s, lock);
	else
		e->inner->lock(e->inner_ctx, lock);
}

static void e_unlock(void *ctx, void *lock)
{
	struct chk_env *e = ctx;

	if (e->s)
		sched_unlock(e->s, lock);
	else
		e->inner->unlock(e->inner_ctx, lock);
}

static void e_lock_free(void *ctx, void *lock)
{
	struct chk_env *e = ctx;

	if (e->s)
		sched_lock_free(e->s, lock);
	else
		e->inner->lock_free(e->inner_ctx, lock);
}

/*
 * Time: a read of the clock depends on every explicit step of it (a
 * poll's wait, `advance`). The cost every model operation charges also
 * moves the clock, but keying it would make every two steps dependent;
 * the decisions taken on time (flush-queue timers, wait time-outs) have
 * thresholds far beyond what reordering two steps shifts (docs/checker.md).
 */
static uint64_t e_now(void *ctx)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_TIME, 0, false);
	return e->inner->now_ns(e->inner_ctx);
}

static void e_relax(void *ctx)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_TIME, 0, true);
	e->inner->relax(e->inner_ctx);
	sched_spin(e->s);
}

static const char *const core_points[] = {
	[VTD_Y_LOCK] = "lock held/release",
	[VTD_Y_ENTRY_WRITE] = "entry write",
	[VTD_Y_DESC_WRITE] = "descriptor/tail write",
	[VTD_Y_POLL] = "status poll",
	[VTD_Y_SHARED] = "unlocked shared access",
};

static void e_yield(void *ctx, enum vtd_yield_point where, const void *obj)
{
	struct chk_env *e = ctx;

	if (!e->s)
		return;
	sched_point(e->s, (unsigned)where < ARRAY_SIZE(core_points) ? core_points[where] : "?");
	if (obj)
		sched_touch(e->s, SK_OBJ, sched_lock_id(obj), true);
}

static void e_trace(void *ctx, const struct vtd_event *ev)
{
	struct chk_env *e = ctx;

	if (e->inner->trace)
		e->inner->trace(e->inner_ctx, ev);
	/* The descriptors each call submits belong in a counterexample. */
	if (e->s && ev->type == VTD_EV_QI_SUBMIT) {
		char buf[200];

		vtd_event_format(buf, sizeof(buf), ev);
		sched_log(e->s, "   %s", buf);
	}
}

static unsigned e_cpu(void *ctx)
{
	struct chk_env *e = ctx;
	int t = sched_task(e->s);

	if (t >= 0)
		return (unsigned)t;
	return e->inner->cpu ? e->inner->cpu(e->inner_ctx) : 0;
}

static const char *const perm_names[] = { "-", "r", "w", "rw" };

/* One public call, as the step list shows it. */
static void log_call(struct chk_env *e, const struct vtd_call *c)
{
	const char *dom = c->dom && e->oracle ? chk_domain_name(e->oracle, c->dom) : "?";
	const char *name = vtd_call_name(c->kind);
	unsigned sid = c->dev ? vtd_device_sid(c->dev) : 0;

	if (c->done) {
		sched_log(e->s, "<- %s = %" PRId64 " [call %" PRIu64 "]", name, c->ret, c->id);
		return;
	}
	switch (c->kind) {
	case VTD_CALL_MAP:
		sched_log(e->s, "-> map %s 0x%" PRIx64 " -> pa 0x%" PRIx64 " size 0x%" PRIx64
			  " %s [call %" PRIu64 "]", dom, c->iova, c->pa, c->size,
			  perm_names[c->perm & 3], c->id);
		break;
	case VTD_CALL_ATTACH:
	case VTD_CALL_DETACH:
		sched_log(e->s, "-> %s %02x:%02x.%x%s%s [call %" PRIu64 "]", name, sid >> 8,
			  (sid >> 3) & 0x1f, sid & 7, c->dom ? " to " : "", c->dom ? dom : "",
			  c->id);
		break;
	case VTD_CALL_FLUSH_ALL:
		sched_log(e->s, "-> flush_all %s [call %" PRIu64 "]", dom, c->id);
		break;
	default:
		sched_log(e->s, "-> %s %s 0x%" PRIx64 " size 0x%" PRIx64 " [call %" PRIu64 "]",
			  name, dom, c->iova, c->size, c->id);
		break;
	}
}

static void e_call(void *ctx, const struct vtd_call *c)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_ORACLE, 0, true);
	if (e->oracle)
		chk_call(e->oracle, c);
	/* After the oracle: an observer below sees the call as it was judged. */
	if (e->inner->call)
		e->inner->call(e->inner_ctx, c);
	if (!e->s)
		return;
	if (c->kind == VTD_CALL_IOVA_FREE)
		sched_log(e->s, "IOVA 0x%" PRIx64 " size 0x%" PRIx64 " back to the allocator",
			  c->iova, c->size);
	else
		log_call(e, c);
}

static const struct vtd_ops env_ops = {
	.mmio_read32 = e_mmio_read32,
	.mmio_read64 = e_mmio_read64,
	.mmio_write32 = e_mmio_write32,
	.mmio_write64 = e_mmio_write64,
	.page_alloc = e_page_alloc,
	.page_free = e_page_free,
	.mem_read64 = e_mem_read64,
	.mem_write64 = e_mem_write64,
	.mem_read32 = e_mem_read32,
	.mem_write32 = e_mem_write32,
	.clflush = e_clflush,
	.lock_new = e_lock_new,
	.lock = e_lock,
	.unlock = e_unlock,
	.lock_free = e_lock_free,
	.now_ns = e_now,
	.relax = e_relax,
	.yield = e_yield,
	.trace = e_trace,
	.cpu = e_cpu,
	.call = e_call,
};

const struct vtd_ops *chk_env_ops(void)
{
	return &env_ops;
}

/* ---- Model hooks ---- */

static const char *const model_points[] = {
	[VTDM_Y_WALK_STEP] = "walk step",
	[VTDM_Y_CACHE_FILL] = "cache fill",
	[VTDM_Y_DESC] = "descriptor processing",
	[VTDM_Y_LOOKUP] = "cache lookup",
};

static void h_yield(void *ctx, const struct vtdm_point *p)
{
	struct chk_env *e = ctx;

	if (e->s) {
		sched_point(e->s, (unsigned)p->where < ARRAY_SIZE(model_points) ?
				  model_points[p->where] : "?");
		/* After the point: no access can start before this descriptor runs. */
		if (p->where == VTDM_Y_DESC)
			sched_drain(e->s);
	} else if (p->where == VTDM_Y_DESC && p->unit < VTDM_MAX_UNITS) {
		/*
		 * Real threads: the unit drains the requests it is translating
		 * before it processes a descriptor, as hardware does (an
		 * invalidation completes only once no request can still use
		 * what it removes). The machine lock is not held here.
		 */
		while (__atomic_load_n(&e->inflight[p->unit], __ATOMIC_ACQUIRE))
			sched_yield();
	}
	switch (p->where) {
	case VTDM_Y_WALK_STEP:
		/* What it reads depends on memory, and on the unit's caches and write buffer. */
		sched_touch(e->s, SK_MEM, p->addr >> 3, false);
		sched_touch(e->s, SK_UNIT, p->unit, false);
		sched_touch(e->s, SK_POOL, 0, false);	/* the oracle's freed pages */
		if (e->oracle)
			chk_walk_read(e->oracle, p->unit, p->sid, p->addr);
		break;
	case VTDM_Y_LOOKUP:
		sched_touch(e->s, SK_UNIT, p->unit, false);
		break;
	case VTDM_Y_CACHE_FILL:
		sched_touch(e->s, SK_UNIT, p->unit, true);
		break;
	case VTDM_Y_DESC:
		sched_touch(e->s, SK_UNIT, p->unit, true);
		sched_touch(e->s, SK_MEM_ALL, 0, true);
		break;
	}
}

static void h_access_begin(void *ctx, const struct vtdm_access *a)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_ORACLE, 0, true);
	sched_touch(e->s, SK_UNIT, a->unit, true);	/* time-outs checked, faults recorded */
	sched_touch(e->s, SK_TIME, 0, false);
	sched_access(e->s, true);
	if (a->unit < VTDM_MAX_UNITS)
		__atomic_add_fetch(&e->inflight[a->unit], 1, __ATOMIC_ACQ_REL);
	if (e->oracle)
		chk_access_begin(e->oracle, a);
	sched_log(e->s, "%s 0x%" PRIx64 " begins", a->ats ? "ATS request" :
		  a->write ? "DMA write" : "DMA read", a->iova);
}

static void h_access_end(void *ctx, const struct vtdm_access *a, const struct vtdm_xlate *x)
{
	struct chk_env *e = ctx;

	sched_touch(e->s, SK_ORACLE, 0, true);
	sched_touch(e->s, SK_UNIT, a->unit, true);
	sched_access(e->s, false);
	if (a->unit < VTDM_MAX_UNITS)
		__atomic_sub_fetch(&e->inflight[a->unit], 1, __ATOMIC_ACQ_REL);
	if (e->oracle)
		chk_access_end(e->oracle, a, x);
	if (x->fault)
		sched_log(e->s, "%s 0x%" PRIx64 " faults (reason 0x%x)", a->ats ? "ATS request" :
			  a->write ? "DMA write" : "DMA read", a->iova, x->fault);
	else
		sched_log(e->s, "%s 0x%" PRIx64 " -> pa 0x%" PRIx64 "%s", a->ats ? "ATS request" :
			  a->write ? "DMA write" : "DMA read", a->iova, x->pa,
			  x->from_atc ? " (device TLB)" : "");
}

void chk_env_hooks(struct chk_env *e, struct vtdm_hooks *h)
{
	*h = (struct vtdm_hooks){
		.yield = h_yield, .access_begin = h_access_begin, .access_end = h_access_end,
		.ctx = e,
	};
}
