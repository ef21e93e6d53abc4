/*
 * core.c — the libvtd instance: creation and teardown, lock and yield
 * wrappers over the host's ops, trace dispatch, counters.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"

static const char *const unit_stat_names[UST_NR] = {
#define VTD_STAT_NAME(e, n) [e] = n,
	VTD_UNIT_STATS(VTD_STAT_NAME)
#undef VTD_STAT_NAME
};

void vtd_lock(struct vtd *v, void *lock)
{
	v->ops->lock(v->ctx, lock);
	vtd_yield_obj(v, VTD_Y_LOCK, lock);
}

void vtd_unlock(struct vtd *v, void *lock)
{
	vtd_yield_obj(v, VTD_Y_LOCK, lock);
	v->ops->unlock(v->ctx, lock);
}

void vtd_yield(struct vtd *v, enum vtd_yield_point where)
{
	if (v->ops->yield)
		v->ops->yield(v->ctx, where, NULL);
}

void vtd_yield_obj(struct vtd *v, enum vtd_yield_point where, const void *obj)
{
	if (v->ops->yield)
		v->ops->yield(v->ctx, where, obj);
}

/* ---- Public-call reports (vtd_ops.call) ---- */

static const char *const call_names[VTD_CALL_NR] = {
	[VTD_CALL_MAP] = "map", [VTD_CALL_UNMAP] = "unmap", [VTD_CALL_SYNC] = "iotlb_sync",
	[VTD_CALL_FLUSH_ALL] = "flush_all", [VTD_CALL_FLUSH_RANGE] = "flush_range",
	[VTD_CALL_ATTACH] = "attach", [VTD_CALL_DETACH] = "detach",
	[VTD_CALL_IOVA_FREE] = "iova_free",
};

const char *vtd_call_name(enum vtd_call_kind kind)
{
	return (unsigned)kind < VTD_CALL_NR ? call_names[kind] : "?";
}

void vtd_call_enter(struct vtd *v, struct vtd_call *c)
{
	if (!v->ops->call)
		return;
	c->id = __atomic_add_fetch(&v->call_seq, 1, __ATOMIC_RELAXED);
	c->done = false;
	v->ops->call(v->ctx, c);
}

void vtd_call_exit(struct vtd *v, struct vtd_call *c, int64_t ret)
{
	if (!v->ops->call)
		return;
	c->done = true;
	c->ret = ret;
	v->ops->call(v->ctx, c);
}

/* ---- Fault injection ---- */

static const char *const knob_names[VTD_KNOB_NR] = {
	[VTD_KNOB_TAGS_AFTER_INSTALL] = "tags-after-install",
	[VTD_KNOB_NO_WBF_BEFORE_INSTALL] = "no-wbf-before-install",
	[VTD_KNOB_DYNAMIC_SYNC_MAP] = "dynamic-sync-map",
	[VTD_KNOB_NO_DEVTLB_INV] = "no-devtlb-inv",
	[VTD_KNOB_FREE_TABLE_BEFORE_FLUSH] = "free-table-before-flush",
	[VTD_KNOB_IOVA_REUSE_BEFORE_FLUSH] = "iova-reuse-before-flush",
	[VTD_KNOB_NO_MAP_FLUSH_CM] = "no-map-flush-cm",
	[VTD_KNOB_UNLOCKED_TAG_WALK] = "unlocked-tag-walk",
	[VTD_KNOB_OLD_TAGS_REMOVED_FIRST] = "old-tags-removed-first",
};

const char *vtd_knob_name(enum vtd_knob k)
{
	return (unsigned)k < VTD_KNOB_NR ? knob_names[k] : NULL;
}

int vtd_knob_lookup(const char *name)
{
	for (int i = 0; i < VTD_KNOB_NR; i++)
		if (!strcmp(name, knob_names[i]))
			return i;
	return -1;
}

void vtd_knob_set(struct vtd *v, enum vtd_knob k, bool on)
{
	if ((unsigned)k >= VTD_KNOB_NR)
		return;
	if (on)
		v->knobs |= 1u << k;
	else
		v->knobs &= ~(1u << k);
}

bool vtd_knob_on(const struct vtd *v, enum vtd_knob k)
{
	return (unsigned)k < VTD_KNOB_NR && (v->knobs >> k & 1);
}

int table_page_alloc(struct vtd *v, bool flush, uint64_t *pa)
{
	int ret = v->ops->page_alloc(v->ctx, pa);

	/* A non-snooping walker must not see the page's old contents (10.4.3 C). */
	for (uint64_t off = 0; !ret && flush && off < 4096; off += 64)
		v->ops->clflush(v->ctx, *pa + off);
	return ret;
}

void vtd_trace(struct vtd *v, const struct vtd_event *ev)
{
	if (v->ops->trace)
		v->ops->trace(v->ctx, ev);
}

struct vtd *vtd_create(const struct vtd_ops *ops, void *ctx)
{
	struct vtd *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->ops = ops;
	v->ctx = ctx;
	v->lock = ops->lock_new(ctx);
	if (!v->lock) {
		free(v);
		return NULL;
	}
	return v;
}

void vtd_destroy(struct vtd *v)
{
	if (!v)
		return;
	for (unsigned i = 0; i < v->ndevs; i++)
		vtd_detach(v->devs[i]);
	while (v->domains)
		vtd_domain_free(v->domains);
	for (unsigned i = 0; i < v->ndevs; i++)
		free(v->devs[i]);
	for (unsigned i = 0; i < v->nunits; i++) {
		unit_shutdown(v->units[i]);
		unit_free(v->units[i]);
	}
	while (v->tag_graveyard) {
		struct cache_tag *t = v->tag_graveyard;

		v->tag_graveyard = t->grave;
		free(t);
	}
	v->ops->lock_free(v->ctx, v->lock);
	free(v);
}

static int find_stat(const char *name)
{
	for (int i = 0; i < UST_NR; i++)
		if (!strcmp(unit_stat_names[i], name))
			return i;
	return -1;
}

int vtd_stat(struct vtd *v, const char *name, uint64_t *val)
{
	int i;

	*val = 0;
	if (!strcmp(name, "sync_map.noop")) {
		*val = stat_read(&v->sync_map_noop);
		return 0;
	}
	if (!strcmp(name, "gather.sync_early")) {
		*val = stat_read(&v->gather_sync_early);
		return 0;
	}
	if (!strcmp(name, "pages.quarantined")) {
		*val = stat_read(&v->pages_quarantined);
		return 0;
	}
	static const struct {
		const char *name;
		size_t off;
	} inst[] = {
		{ "iova.alloc", offsetof(struct vtd, iova_alloc) },
		{ "iova.free", offsetof(struct vtd, iova_free) },
		{ "iova.cache_hit", offsetof(struct vtd, iova_cache_hit) },
		{ "iova.quarantined", offsetof(struct vtd, iova_quarantined) },
		{ "fq.entries", offsetof(struct vtd, fq_entries) },
		{ "fq.flush", offsetof(struct vtd, fq_flush) },
	};
	for (size_t k = 0; k < sizeof(inst) / sizeof(inst[0]); k++) {
		if (!strcmp(name, inst[k].name)) {
			*val = stat_read((const uint64_t *)((const char *)v + inst[k].off));
			return 0;
		}
	}
	if (!strcmp(name, "tag.walk")) {
		vtd_lock(v, v->lock);
		for (struct vtd_domain *d = v->domains; d; d = d->next)
			*val += stat_read(&d->tag_walks);
		*val += v->tag_walks_freed;
		vtd_unlock(v, v->lock);
		return 0;
	}
	for (unsigned u = 0; u < v->nunits; u++) {
		size_t n = strlen(v->units[u]->name);

		if (!strncmp(name, v->units[u]->name, n) && name[n] == '.') {
			i = find_stat(name + n + 1);
			if (i < 0)
				return -ENOENT;
			*val = stat_read(&v->units[u]->stat[i]);
			return 0;
		}
	}
	i = find_stat(name);
	if (i < 0)
		return -ENOENT;
	for (unsigned u = 0; u < v->nunits; u++)
		*val += stat_read(&v->units[u]->stat[i]);
	return 0;
}

void vtd_stats_foreach(struct vtd *v, void (*fn)(void *arg, const char *name, uint64_t val),
		       void *arg)
{
	char name[64];
	uint64_t val;

	for (int i = 0; i < UST_NR; i++) {
		vtd_stat(v, unit_stat_names[i], &val);
		fn(arg, unit_stat_names[i], val);
	}
	static const char *const instance[] = { "tag.walk", "sync_map.noop",
						"gather.sync_early", "pages.quarantined",
						"iova.alloc",
						"iova.free", "iova.cache_hit",
						"iova.quarantined",
						"fq.entries", "fq.flush" };

	for (size_t i = 0; i < sizeof(instance) / sizeof(instance[0]); i++) {
		vtd_stat(v, instance[i], &val);
		fn(arg, instance[i], val);
	}
	for (unsigned u = 0; u < v->nunits; u++)
		for (int i = 0; i < UST_NR; i++) {
			snprintf(name, sizeof(name), "%s.%s", v->units[u]->name, unit_stat_names[i]);
			fn(arg, name, stat_read(&v->units[u]->stat[i]));
		}
}
