/*
 * model.c — the machine: creation, CAP/ECAP from a unit's configuration,
 * CPU access routing (registers or RAM), the walker's view of memory the
 * CPU wrote but has not made visible (write buffer, non-coherent cache),
 * virtual time, and the counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fmt/entry.h"
#include "fmt/regs.h"
#include "fmt/pte.h"
#include "model/internal.h"

#define VTDM_STAT_NAME(e, n) [e] = n,
const char *const vtdm_unit_stat_names[ST_NR] = { VTDM_UNIT_STATS(VTDM_STAT_NAME) };
const char *const vtdm_dev_stat_names[SD_NR] = { VTDM_DEV_STATS(VTDM_STAT_NAME) };
#undef VTDM_STAT_NAME

static void lock(struct vtdm *m)
{
	pthread_mutex_lock(&m->lock);
}

static void unlock(struct vtdm *m)
{
	pthread_mutex_unlock(&m->lock);
}

struct vtdm *vtdm_create(const struct vtdm_machine_cfg *cfg)
{
	struct vtdm *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cfg = *cfg;
	if (mem_init(&m->mem, cfg->mem_size)) {
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

static void unit_free(struct vtdm_unit *u)
{
	cache_fini(&u->ctx);
	cache_fini(&u->pasid);
	cache_fini(&u->iotlb);
	cache_fini(&u->pscs);
	cache_fini(&u->pscf);
	cache_fini(&u->view);
	free(u);
}

void vtdm_destroy(struct vtdm *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < m->nunits; i++)
		unit_free(m->unit[i]);
	for (unsigned i = 0; i < m->ndevs; i++) {
		cache_fini(&m->dev[i]->atc);
		free(m->dev[i]);
	}
	mem_fini(&m->mem);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

int vtdm_unit_cfg_check(const struct vtdm_unit_cfg *c, char *err, size_t errlen)
{
	const char *why = NULL;

	if (c->dt && !c->qi)
		why = "dt=1 needs qi=1 (device-TLB invalidation is queued only)";
	else if (c->sm && !c->qi)
		why = "sm=1 needs qi=1 (scalable mode requires queued invalidation)";
	else if (c->dit && !c->dt)
		why = "dit=1 needs dt=1";
	else if (c->pds && !c->sm)
		why = "pds=1 needs sm=1";
	else if (c->nest)
		why = "nest=1: nested translation is not modelled yet";
	else if (c->levels < 3 || c->levels > 5)
		why = "levels must be 3, 4 or 5";
	else if (c->nfr < 1 || c->nfr > VTDM_MAX_NFR)
		why = "nfr must be 1..128";
	if (why) {
		snprintf(err, errlen, "%s", why);
		return -EINVAL;
	}
	return 0;
}

/* CAP_REG and ECAP_REG from the configuration (10.4.2, 10.4.3). */
static void build_caps(struct vtdm_unit *u)
{
	const struct vtdm_unit_cfg *c = &u->cfg;
	uint64_t sagaw = 0;

	for (int l = 3; l <= c->levels; l++)
		sagaw |= BIT_ULL(levels_to_aw_bit(l));
	u->cap = FIELD_PREP(CAP_ND, c->nd) | (c->rwbf ? CAP_RWBF : 0) |
		 (c->cm ? CAP_CM : 0) | FIELD_PREP(CAP_SAGAW, sagaw) |
		 FIELD_PREP(CAP_MGAW, pt_levels_width(c->levels) - 1) |
		 FIELD_PREP(CAP_FRO, VTDM_FRO) | FIELD_PREP(CAP_SLLPS, c->sllps) |
		 (c->psi ? CAP_PSI : 0) | FIELD_PREP(CAP_NFR, c->nfr - 1) |
		 FIELD_PREP(CAP_MAMV, c->mamv) | CAP_DWD | CAP_DRD;
	if (c->sm && c->flts) {
		u->cap |= c->fl1gp ? CAP_FL1GP : 0;
		u->cap |= c->fl5lp ? CAP_FL5LP : 0;
	}
	u->ecap = (c->coherent ? ECAP_C : 0) | (c->qi ? ECAP_QI : 0) |
		  (c->dt ? ECAP_DT : 0) | (c->pt ? ECAP_PT : 0) | (c->sc ? ECAP_SC : 0) |
		  FIELD_PREP(ECAP_IRO, VTDM_IRO);
	if (c->sm) {
		/* SRS: requests without PASID may be supervisor ones (RID_PRIV, SRE). */
		u->ecap |= ECAP_SMTS | ECAP_SRS | (c->slts ? ECAP_SSTS : 0) |
			   (c->flts ? ECAP_FSTS : 0);
		if (c->pasid)
			u->ecap |= ECAP_PASID | FIELD_PREP(ECAP_PSS, c->pss);
		u->ecap |= c->pds ? ECAP_PDS : 0;
	}
	u->ecap |= (c->dt && c->dit) ? ECAP_DIT : 0;
}

int vtdm_add_unit(struct vtdm *m, const struct vtdm_unit_cfg *cfg)
{
	struct vtdm_unit *u;
	char err[128];
	bool adv = cfg->caching == VTDM_ADVERSARIAL;
	int ret = -EINVAL;

	if (vtdm_unit_cfg_check(cfg, err, sizeof(err)))
		return -EINVAL;
	lock(m);
	if (m->nunits >= VTDM_MAX_UNITS) {
		ret = -ENOSPC;
		goto out;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		ret = -ENOMEM;
		goto out;
	}
	u->m = m;
	u->idx = m->nunits;
	u->cfg = *cfg;
	if (!u->cfg.name[0])
		snprintf(u->cfg.name, sizeof(u->cfg.name), "dmar%u", u->idx);
	build_caps(u);
	/* Adversarial caches are unbounded: entries 0. */
	if (cache_init(&u->ctx, adv ? 0 : cfg->ctx_entries, 4, &u->stat[ST_CTX_HIT]) ||
	    cache_init(&u->pasid, adv ? 0 : cfg->pasid_entries, 4, &u->stat[ST_PASID_HIT]) ||
	    cache_init(&u->iotlb, adv ? 0 : cfg->iotlb_entries, cfg->iotlb_ways,
		       &u->stat[ST_IOTLB_HIT]) ||
	    cache_init(&u->pscs, adv ? 0 : cfg->psc_entries, 4, &u->stat[ST_PSCS_HIT]) ||
	    cache_init(&u->pscf, adv ? 0 : cfg->psc_entries, 4, &u->stat[ST_PSCF_HIT]) ||
	    cache_init(&u->view, 0, 0, u->view_stat)) {
		unit_free(u);
		ret = -ENOMEM;
		goto out;
	}
	regs_init(u);
	m->unit[m->nunits++] = u;
	ret = (int)u->idx;
out:
	unlock(m);
	return ret;
}

int vtdm_add_device(struct vtdm *m, const struct vtdm_dev_cfg *cfg)
{
	struct vtdm_device *d;
	int ret;

	lock(m);
	ret = -EINVAL;
	if (cfg->unit < 0 || (unsigned)cfg->unit >= m->nunits || vtdm_find_dev(m, cfg->sid))
		goto out;
	ret = -ENOSPC;
	if (m->ndevs >= VTDM_MAX_DEVICES)
		goto out;
	ret = -ENOMEM;
	d = calloc(1, sizeof(*d));
	if (!d)
		goto out;
	d->cfg = *cfg;
	snprintf(d->name, sizeof(d->name), "%02x:%02x.%x", cfg->sid >> 8,
		 (cfg->sid >> 3) & 0x1f, cfg->sid & 7);
	if (cache_init(&d->atc,
		       m->unit[cfg->unit]->cfg.caching == VTDM_ADVERSARIAL ? 0 : cfg->atc_entries,
		       4, &d->stat[SD_ATC_HIT])) {
		free(d);
		goto out;
	}
	m->dev[m->ndevs++] = d;
	ret = 0;
out:
	unlock(m);
	return ret;
}

unsigned vtdm_nr_units(const struct vtdm *m)
{
	return m->nunits;
}

const char *vtdm_unit_name(const struct vtdm *m, unsigned unit)
{
	return unit < m->nunits ? m->unit[unit]->cfg.name : NULL;
}

uint64_t vtdm_unit_base(unsigned unit)
{
	return VTDM_MMIO_BASE + unit * VTDM_MMIO_STRIDE;
}

uint64_t vtdm_mem_size(const struct vtdm *m)
{
	return m->mem.size;
}

void vtdm_set_hooks(struct vtdm *m, const struct vtdm_hooks *hooks)
{
	lock(m);
	m->hooks = *hooks;
	unlock(m);
}

/*
 * The hooks run without the lock so that they may call back into the
 * model from this same thread (the explorer switches tasks there). A
 * copy is called: a hook may replace the hooks.
 */
bool vtdm_yield(struct vtdm *m, const struct vtdm_point *p)
{
	struct vtdm_hooks h = m->hooks;

	if (!h.yield)
		return false;
	unlock(m);
	h.yield(h.ctx, p);
	lock(m);
	return true;
}

void vtdm_access_begin(struct vtdm *m, const struct vtdm_access *a)
{
	struct vtdm_hooks h = m->hooks;

	if (!h.access_begin)
		return;
	unlock(m);
	h.access_begin(h.ctx, a);
	lock(m);
}

void vtdm_access_end(struct vtdm *m, const struct vtdm_access *a, const struct vtdm_xlate *x)
{
	struct vtdm_hooks h = m->hooks;

	if (!h.access_end)
		return;
	unlock(m);
	h.access_end(h.ctx, a, x);
	lock(m);
}

struct vtdm_device *vtdm_find_dev(struct vtdm *m, uint16_t sid)
{
	for (unsigned i = 0; i < m->ndevs; i++)
		if (m->dev[i]->cfg.sid == sid)
			return m->dev[i];
	return NULL;
}

/* ---- Virtual time ---- */

void vtdm_charge(struct vtdm *m, uint64_t ns)
{
	m->now += ns;
}

/* Time moved: let each unit time out what it waits for. */
static void tick(struct vtdm *m)
{
	for (unsigned i = 0; i < m->nunits; i++)
		unit_tick(m->unit[i]);
}

uint64_t vtdm_now(struct vtdm *m)
{
	uint64_t t;

	lock(m);
	t = m->now;
	unlock(m);
	return t;
}

void vtdm_clock_step(struct vtdm *m, uint64_t ns)
{
	lock(m);
	m->now += ns;
	tick(m);
	unlock(m);
}

/* ---- The walker's view of CPU writes (CAP.RWBF, ECAP.C=0) ---- */

/* view entry: val[0] visible to the walker, [1] in the CPU cache, [2] in the write buffer */
enum { V_VISIBLE, V_CACHE, V_WB, V_FLAGS };
#define VF_CACHE	1	/* newer value still in a non-coherent CPU cache */
#define VF_WB		2	/* newer value still in the write buffer */

static bool unit_has_view(const struct vtdm_unit *u)
{
	return u->cfg.rwbf || !u->cfg.coherent;
}

/* Before the CPU writes words [first, last]: remember what the walker saw. */
static void view_before_write(struct vtdm *m, uint64_t first, uint64_t last)
{
	for (unsigned i = 0; i < m->nunits; i++) {
		struct vtdm_unit *u = m->unit[i];

		if (!unit_has_view(u))
			continue;
		for (uint64_t w = first; w <= last; w += 8) {
			uint64_t key[3] = { w, 0, 0 };
			uint64_t val[4] = { mem_read64(&m->mem, w), 0, 0, 0 };

			if (!cache_lookup(&u->view, key))
				cache_insert(&u->view, key, val);
		}
	}
}

/* After the write: the new values wait in the CPU cache or the write buffer. */
static void view_after_write(struct vtdm *m, uint64_t first, uint64_t last)
{
	for (unsigned i = 0; i < m->nunits; i++) {
		struct vtdm_unit *u = m->unit[i];

		if (!unit_has_view(u))
			continue;
		for (uint64_t w = first; w <= last; w += 8) {
			uint64_t key[3] = { w, 0, 0 };
			struct cache_entry *e = cache_lookup(&u->view, key);

			if (!e)
				continue;
			if (!u->cfg.coherent) {
				e->val[V_CACHE] = mem_read64(&m->mem, w);
				e->val[V_FLAGS] |= VF_CACHE;
			} else {
				e->val[V_WB] = mem_read64(&m->mem, w);
				e->val[V_FLAGS] |= VF_WB;
			}
		}
	}
}

static int cpu_write_ram(struct vtdm *m, uint64_t addr, const void *buf, size_t len)
{
	uint64_t first = addr & ~7ULL, last = (addr + len - 1) & ~7ULL;
	int ret;

	if (!mem_in_range(&m->mem, addr, len))
		return -EFAULT;
	view_before_write(m, first, last);
	ret = mem_write(&m->mem, addr, buf, len);
	view_after_write(m, first, last);
	return ret;
}

static void clflush_locked(struct vtdm *m, uint64_t addr)
{
	uint64_t line = addr & ~63ULL;

	for (unsigned i = 0; i < m->nunits; i++) {
		struct vtdm_unit *u = m->unit[i];

		if (u->cfg.coherent)
			continue;
		for (uint64_t w = line; w < line + 64; w += 8) {
			uint64_t key[3] = { w, 0, 0 };
			struct cache_entry *e = cache_lookup(&u->view, key);

			if (!e || !(e->val[V_FLAGS] & VF_CACHE))
				continue;
			/* Out of the CPU cache: into the write buffer, or memory. */
			if (u->cfg.rwbf) {
				e->val[V_WB] = e->val[V_CACHE];
				e->val[V_FLAGS] |= VF_WB;
			} else {
				e->val[V_VISIBLE] = e->val[V_CACHE];
			}
			e->val[V_FLAGS] &= ~(uint64_t)VF_CACHE;
			if (!e->val[V_FLAGS])
				cache_remove(&u->view, e);
		}
	}
}

int vtdm_clflush(struct vtdm *m, uint64_t addr)
{
	int ret = 0;

	lock(m);
	if (!mem_in_range(&m->mem, addr, 1))
		ret = -EFAULT;
	else
		clflush_locked(m, addr);
	unlock(m);
	return ret;
}

static bool drain_wb(struct cache_entry *e, const void *arg)
{
	(void)arg;
	if (e->val[V_FLAGS] & VF_WB) {
		e->val[V_VISIBLE] = e->val[V_WB];
		e->val[V_FLAGS] &= ~(uint64_t)VF_WB;
	}
	return e->val[V_FLAGS] == 0;
}

void unit_drain_wb(struct vtdm_unit *u)
{
	if (u->cfg.rwbf && u->view.count)
		cache_remove_if(&u->view, drain_wb, NULL);
}

/* GCMD.WBF: software's explicit flush (6.8), counted as `wbf`. */
void unit_wbf(struct vtdm_unit *u)
{
	u->stat[ST_WBF]++;
	unit_drain_wb(u);
}

int unit_table_read64(struct vtdm_unit *u, uint64_t addr, enum tbl_kind kind, uint64_t *val)
{
	struct vtdm_mem *mem = &u->m->mem;
	uint64_t key[3] = { addr, 0, 0 };
	struct cache_entry *e;
	bool snooped;

	if (!mem_in_range(mem, addr, 8))
		return -EFAULT;
	*val = mem_read64(mem, addr);
	if (!u->view.count)
		return 0;
	e = cache_lookup(&u->view, key);
	if (!e)
		return 0;
	/* A snooped read sees the CPU cache, but never the write buffer. */
	snooped = u->cfg.coherent || kind == TBL_PASID || kind == TBL_FS;
	if (snooped && (e->val[V_FLAGS] & VF_CACHE))
		return 0;
	if (e->val[V_VISIBLE] != *val)
		u->stat[ST_STALE_READ]++;
	*val = e->val[V_VISIBLE];
	return 0;
}

/* ---- CPU access routing ---- */

static struct vtdm_unit *unit_at(struct vtdm *m, uint64_t addr, unsigned *off)
{
	if (addr < VTDM_MMIO_BASE)
		return NULL;
	uint64_t i = (addr - VTDM_MMIO_BASE) / VTDM_MMIO_STRIDE;

	if (i >= m->nunits)
		return NULL;
	*off = (unsigned)((addr - VTDM_MMIO_BASE) % VTDM_MMIO_STRIDE);
	return m->unit[i];
}

static bool reg_size_ok(size_t len, unsigned off)
{
	return (len == 1 || len == 2 || len == 4 || len == 8) && off + len <= VTDM_REG_SPACE;
}

/* One CPU access: a register of a unit's window, or RAM. */
static int cpu_access(struct vtdm *m, uint64_t addr, void *buf, size_t len, bool write)
{
	uint8_t *b = buf;
	struct vtdm_unit *u;
	unsigned off;
	uint64_t v = 0;
	int ret;

	lock(m);
	tick(m);
	u = unit_at(m, addr, &off);
	if (!u) {
		ret = write ? cpu_write_ram(m, addr, buf, len) : mem_read(&m->mem, addr, buf, len);
	} else if (!reg_size_ok(len, off)) {
		ret = -EINVAL;
	} else if (write) {
		for (size_t i = 0; i < len; i++)
			v |= (uint64_t)b[i] << (8 * i);
		ret = regs_write(u, off, (unsigned)len, v);
	} else {
		ret = regs_read(u, off, (unsigned)len, &v);
		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)(v >> (8 * i));
	}
	unlock(m);
	return ret;
}

int vtdm_read(struct vtdm *m, uint64_t addr, void *buf, size_t len)
{
	return cpu_access(m, addr, buf, len, false);
}

int vtdm_write(struct vtdm *m, uint64_t addr, const void *buf, size_t len)
{
	return cpu_access(m, addr, (void *)(uintptr_t)buf, len, true);
}

int vtdm_read64(struct vtdm *m, uint64_t addr, uint64_t *val)
{
	uint8_t b[8];
	int ret = vtdm_read(m, addr, b, 8);

	*val = 0;
	for (int i = 7; i >= 0 && !ret; i--)
		*val = *val << 8 | b[i];
	return ret;
}

int vtdm_write64(struct vtdm *m, uint64_t addr, uint64_t val)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	return vtdm_write(m, addr, b, 8);
}

int vtdm_read32(struct vtdm *m, uint64_t addr, uint32_t *val)
{
	uint8_t b[4];
	int ret = vtdm_read(m, addr, b, 4);

	*val = ret ? 0 : (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
			 (uint32_t)b[3] << 24;
	return ret;
}

int vtdm_write32(struct vtdm *m, uint64_t addr, uint32_t val)
{
	uint8_t b[4] = { (uint8_t)val, (uint8_t)(val >> 8), (uint8_t)(val >> 16),
			 (uint8_t)(val >> 24) };

	return vtdm_write(m, addr, b, 4);
}

/* ---- Counters ---- */

static int find_name(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return (int)i;
	return -1;
}

static int stat_locked(struct vtdm *m, const char *name, uint64_t *val)
{
	int i;

	if (!strcmp(name, "time.ns")) {
		*val = m->now;
		return 0;
	}
	for (unsigned u = 0; u < m->nunits; u++) {
		size_t n = strlen(m->unit[u]->cfg.name);

		if (!strncmp(name, m->unit[u]->cfg.name, n) && name[n] == '.') {
			i = find_name(vtdm_unit_stat_names, ST_NR, name + n + 1);
			if (i < 0)
				return -ENOENT;
			*val = m->unit[u]->stat[i];
			return 0;
		}
	}
	if (!strncmp(name, "dev.", 4)) {
		for (unsigned d = 0; d < m->ndevs; d++) {
			size_t n = strlen(m->dev[d]->name);

			if (!strncmp(name + 4, m->dev[d]->name, n) && name[4 + n] == '.') {
				i = find_name(vtdm_dev_stat_names, SD_NR, name + 5 + n);
				if (i < 0)
					return -ENOENT;
				*val = m->dev[d]->stat[i];
				return 0;
			}
		}
		return -ENOENT;
	}
	*val = 0;
	i = find_name(vtdm_unit_stat_names, ST_NR, name);
	if (i >= 0) {
		for (unsigned u = 0; u < m->nunits; u++)
			*val += m->unit[u]->stat[i];
		return 0;
	}
	i = find_name(vtdm_dev_stat_names, SD_NR, name);
	if (i >= 0) {
		for (unsigned d = 0; d < m->ndevs; d++)
			*val += m->dev[d]->stat[i];
		return 0;
	}
	return -ENOENT;
}

int vtdm_stat(struct vtdm *m, const char *name, uint64_t *val)
{
	int ret;

	lock(m);
	ret = stat_locked(m, name, val);
	unlock(m);
	return ret;
}

void vtdm_stats_foreach(struct vtdm *m,
			void (*fn)(void *ctx, const char *name, uint64_t val), void *ctx)
{
	char name[96];
	uint64_t v;

	lock(m);
	for (unsigned u = 0; u < m->nunits; u++)
		for (int i = 0; i < ST_NR; i++) {
			snprintf(name, sizeof(name), "%s.%s", m->unit[u]->cfg.name,
				 vtdm_unit_stat_names[i]);
			fn(ctx, name, m->unit[u]->stat[i]);
		}
	for (unsigned d = 0; d < m->ndevs; d++)
		for (int i = 0; i < SD_NR; i++) {
			snprintf(name, sizeof(name), "dev.%s.%s", m->dev[d]->name,
				 vtdm_dev_stat_names[i]);
			fn(ctx, name, m->dev[d]->stat[i]);
		}
	for (int i = 0; i < ST_NR; i++) {
		stat_locked(m, vtdm_unit_stat_names[i], &v);
		fn(ctx, vtdm_unit_stat_names[i], v);
	}
	for (int i = 0; i < SD_NR; i++) {
		stat_locked(m, vtdm_dev_stat_names[i], &v);
		fn(ctx, vtdm_dev_stat_names[i], v);
	}
	fn(ctx, "time.ns", m->now);
	unlock(m);
}
