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
	vtd_yield(v, VTD_Y_LOCK);
}

void vtd_unlock(struct vtd *v, void *lock)
{
	vtd_yield(v, VTD_Y_LOCK);
	v->ops->unlock(v->ctx, lock);
}

void vtd_yield(struct vtd *v, enum vtd_yield_point where)
{
	if (v->ops->yield)
		v->ops->yield(v->ctx, where);
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
