/*
 * vtdenv.c — the libvtd test rig: model machine, host ops, libvtd units
 * and devices, DMA helpers and a trace recorder.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vtdenv.h"

#define DATA_BASE	0x1000000ULL	/* DMA data from 16 MiB */
#define POOL_BASE	0x10000000ULL	/* libvtd's tables from 256 MiB */
#define POOL_SIZE	0x10000000ULL

static void record(void *arg, const struct vtd_event *ev)
{
	struct vtdenv *e = arg;

	if (e->nevents < VTDENV_MAX_EVENTS)
		vtd_event_format(e->events[e->nevents++], sizeof(e->events[0]), ev);
}

static int set_keys(struct vtdm_unit_cfg *uc, const char *keys)
{
	char err[160], *dup = strdup(keys ? keys : ""), *save = NULL;
	int ret = 0;

	for (char *kv = strtok_r(dup, ",", &save); kv && !ret; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq)
			ret = -EINVAL;
		else
			*eq = 0, ret = vtdm_unit_cfg_set(uc, kv, eq + 1, err, sizeof(err));
	}
	free(dup);
	return ret;
}

int _vtdenv_init(struct vtdenv *e, const char *keys, unsigned nunits, bool scalable)
{
	struct vtdm_machine_cfg mc;

	memset(e, 0, sizeof(*e));
	e->events = calloc(VTDENV_MAX_EVENTS, sizeof(e->events[0]));
	vtdm_machine_cfg_default(&mc);
	e->m = vtdm_create(&mc);
	if (!e->m || !e->events || nunits > VTDENV_MAX_UNITS)
		return -ENOMEM;
	for (unsigned i = 0; i < nunits; i++) {
		struct vtdm_unit_cfg uc;

		vtdm_unit_cfg_default(&uc);
		if (set_keys(&uc, keys) || vtdm_add_unit(e->m, &uc) < 0)
			return -EINVAL;
	}
	e->h = vtd_host_create(e->m, POOL_BASE, POOL_SIZE);
	if (!e->h)
		return -ENOMEM;
	vtd_host_set_trace(e->h, record, e);
	e->v = vtd_create(vtd_host_ops(), e->h);
	if (!e->v)
		return -ENOMEM;
	for (unsigned i = 0; i < nunits; i++) {
		struct vtd_unit_opts o = { .scalable = scalable };
		int ret = vtd_unit_add(e->v, vtdm_unit_base(i), &o, &e->unit[i]);

		if (ret)
			return ret;
		e->nunits++;
	}
	e->data_next = DATA_BASE;
	return 0;
}

void vtdenv_fini(struct vtdenv *e)
{
	vtd_destroy(e->v);
	vtd_host_destroy(e->h);
	vtdm_destroy(e->m);
	free(e->events);
	memset(e, 0, sizeof(*e));
}

int _vtdenv_add_device(struct vtdenv *e, unsigned unit, uint16_t sid, bool ats)
{
	struct vtdm_dev_cfg dc;
	struct vtd_device_opts o = { .ats = ats, .qdep = 32 };
	int ret;

	if (e->ndevs >= VTDENV_MAX_DEVS || unit >= e->nunits)
		return -EINVAL;
	vtdm_dev_cfg_default(&dc);
	dc.sid = sid;
	dc.unit = (int)unit;
	dc.ats = ats;
	ret = vtdm_add_device(e->m, &dc);
	if (ret)
		return ret;
	ret = vtd_device_add(e->v, e->unit[unit], sid, &o, &e->dev[e->ndevs]);
	if (ret)
		return ret;
	e->sid[e->ndevs] = sid;
	return (int)e->ndevs++;
}

uint64_t vtdenv_page(struct vtdenv *e, uint8_t fill)
{
	uint8_t buf[4096];
	uint64_t pa = e->data_next;

	memset(buf, fill, sizeof(buf));
	vtdm_write(e->m, pa, buf, sizeof(buf));
	e->data_next += 4096;
	return pa;
}

int vtdenv_dma_rd64(struct vtdenv *e, unsigned d, uint64_t iova, uint64_t *val)
{
	struct vtdm_xlate x;
	uint8_t b[8];
	int ret = vtdm_dma(e->m, e->sid[d], 0xffffffffu, iova, b, 8, false, &x);

	*val = 0;
	for (int i = 7; i >= 0 && !ret; i--)
		*val = *val << 8 | b[i];
	return ret;
}

int vtdenv_dma_wr64(struct vtdenv *e, unsigned d, uint64_t iova, uint64_t val)
{
	struct vtdm_xlate x;
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	return vtdm_dma(e->m, e->sid[d], 0xffffffffu, iova, b, 8, true, &x);
}

uint64_t vtdenv_stat(struct vtdenv *e, const char *name)
{
	uint64_t v = 0;

	if (vtd_stat(e->v, name, &v) && vtdm_stat(e->m, name, &v))
		return ~0ULL;
	return v;
}

void vtdenv_trace_clear(struct vtdenv *e)
{
	e->nevents = 0;
}

unsigned vtdenv_trace_count(struct vtdenv *e, const char *prefix)
{
	unsigned n = 0;

	for (unsigned i = 0; i < e->nevents; i++)
		n += !strncmp(e->events[i], prefix, strlen(prefix));
	return n;
}
