/*
 * config.c — defaults and text keys of the machine, unit and device
 * configurations. One table per structure drives both parsing and the
 * documentation's list (docs/hw-console.md); later layers (the scenario
 * language) reuse the same key names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fmt/num.h"
#include "model/model.h"

void vtdm_machine_cfg_default(struct vtdm_machine_cfg *cfg)
{
	/* Sources for every cost: docs/cost-model.md. */
	*cfg = (struct vtdm_machine_cfg){
		.mem_size = 1ULL << 30,
		.costs = {
			.mmio = 100,
			.mem_access = 90,
			.cache_lookup = 2,
			.desc = 250,
			.devtlb_inv = 1500,
			.wait = 200,
			.wbf = 500,
			.reg_inv = 1000,
			.ats = 800,
			.dma_per_4k = 300,
			.ite_timeout = 1000000,
		},
	};
}

void vtdm_unit_cfg_default(struct vtdm_unit_cfg *cfg)
{
	*cfg = (struct vtdm_unit_cfg){
		.psi = true,
		.mamv = 18,
		.nd = 6,
		.levels = 4,
		.sllps = 3,
		.fl1gp = true,
		.nfr = 8,
		.coherent = true,
		.qi = true,
		.pt = true,
		.slts = true,
		.flts = true,
		.pasid = true,
		.pss = 19,
		.haw = 46,
		.caching = VTDM_EXACT,
		.iotlb_entries = 64,
		.iotlb_ways = 8,
		.ctx_entries = 32,
		.pasid_entries = 32,
		.psc_entries = 32,
	};
}

void vtdm_dev_cfg_default(struct vtdm_dev_cfg *cfg)
{
	*cfg = (struct vtdm_dev_cfg){ .qdep = 32, .atc_entries = 32 };
}

static int parse_num(const char *s, uint64_t *out, bool sized)
{
	return num_parse(s, out, sized) ? -EINVAL : 0;
}

int vtdm_parse_u64(const char *s, uint64_t *out, bool sized)
{
	return parse_num(s, out, sized);
}

enum key_kind { K_BOOL, K_UINT, K_INT, K_PROFILE };

struct key {
	const char *name;
	enum key_kind kind;
	size_t off;
	uint64_t min, max;
	const char *help;
};

#define UKEY(n, k, f, lo, hi, h) { n, k, offsetof(struct vtdm_unit_cfg, f), lo, hi, h }
static const struct key unit_keys[] = {
	UKEY("cm", K_BOOL, cm, 0, 1, "CAP.CM caching mode"),
	UKEY("rwbf", K_BOOL, rwbf, 0, 1, "CAP.RWBF: table writes need a write-buffer flush"),
	UKEY("psi", K_BOOL, psi, 0, 1, "CAP.PSI page-selective invalidation"),
	UKEY("mamv", K_UINT, mamv, 0, 63, "CAP.MAMV largest PSI address mask"),
	UKEY("nd", K_UINT, nd, 0, 6, "CAP.ND: 2^(4+2*nd) domain ids"),
	UKEY("levels", K_INT, levels, 3, 5, "deepest second-stage table (SAGAW, MGAW)"),
	UKEY("sllps", K_UINT, sllps, 0, 3, "CAP.SLLPS: bit0 2M, bit1 1G second-stage pages"),
	UKEY("fl1gp", K_BOOL, fl1gp, 0, 1, "CAP.FL1GP first-stage 1G pages"),
	UKEY("fl5lp", K_BOOL, fl5lp, 0, 1, "CAP.FL5LP first-stage 5-level tables"),
	UKEY("nfr", K_UINT, nfr, 1, 128, "fault-recording registers"),
	UKEY("coherent", K_BOOL, coherent, 0, 1, "ECAP.C page-walk coherency"),
	UKEY("qi", K_BOOL, qi, 0, 1, "ECAP.QI queued invalidation"),
	UKEY("dt", K_BOOL, dt, 0, 1, "ECAP.DT device TLBs (needs qi)"),
	UKEY("pt", K_BOOL, pt, 0, 1, "ECAP.PT pass-through"),
	UKEY("sc", K_BOOL, sc, 0, 1, "ECAP.SC snoop control"),
	UKEY("sm", K_BOOL, sm, 0, 1, "ECAP.SMTS scalable mode (needs qi)"),
	UKEY("slts", K_BOOL, slts, 0, 1, "ECAP.SLTS second-stage in scalable mode"),
	UKEY("flts", K_BOOL, flts, 0, 1, "ECAP.FLTS first-stage in scalable mode"),
	UKEY("nest", K_BOOL, nest, 0, 0, "ECAP.NEST nested translation (not modelled yet)"),
	UKEY("pasid", K_BOOL, pasid, 0, 1, "ECAP.PASID requests with PASID (scalable mode)"),
	UKEY("pss", K_UINT, pss, 0, 19, "ECAP.PSS: PASID width - 1"),
	UKEY("dit", K_BOOL, dit, 0, 1, "ECAP.DIT: PFSID in device-TLB invalidations"),
	UKEY("pds", K_BOOL, pds, 0, 1, "ECAP.PDS: page-request drain in wait descriptors"),
	UKEY("haw", K_UINT, haw, 32, 52, "host address width"),
	UKEY("caching", K_PROFILE, caching, 0, 1, "exact or adversarial"),
	UKEY("iotlb", K_UINT, iotlb_entries, 1, 1 << 20, "IOTLB entries (exact)"),
	UKEY("iotlb_ways", K_UINT, iotlb_ways, 1, 1 << 20, "IOTLB associativity (exact)"),
	UKEY("ctx_cache", K_UINT, ctx_entries, 1, 1 << 20, "context-cache entries (exact)"),
	UKEY("pasid_cache", K_UINT, pasid_entries, 1, 1 << 20, "PASID-cache entries (exact)"),
	UKEY("psc", K_UINT, psc_entries, 1, 1 << 20, "paging-structure cache entries per stage (exact)"),
};

#define DKEY(n, k, f, lo, hi, h) { n, k, offsetof(struct vtdm_dev_cfg, f), lo, hi, h }
static const struct key dev_keys[] = {
	DKEY("iommu", K_INT, unit, 0, VTDM_MAX_UNITS - 1, "unit index (or dmarN)"),
	DKEY("ats", K_BOOL, ats, 0, 1, "ATS device TLB"),
	DKEY("qdep", K_UINT, qdep, 0, 32, "ATS invalidate queue depth"),
	DKEY("unresponsive", K_BOOL, unresponsive, 0, 1, "never answers device-TLB invalidations"),
	DKEY("badcompl", K_BOOL, badcompl, 0, 1, "answers with an invalid completion"),
	DKEY("atc", K_UINT, atc_entries, 1, 1 << 20, "device-TLB entries (exact)"),
};

static int set_key(const struct key *keys, size_t nkeys, void *cfg, const char *what,
		   const char *name, const char *val, char *err, size_t errlen)
{
	for (size_t i = 0; i < nkeys; i++) {
		const struct key *k = &keys[i];
		char *p = (char *)cfg + k->off;
		uint64_t v;

		if (strcmp(k->name, name))
			continue;
		if (k->kind == K_PROFILE) {
			if (!strcmp(val, "exact"))
				*(enum vtdm_profile *)p = VTDM_EXACT;
			else if (!strcmp(val, "adversarial"))
				*(enum vtdm_profile *)p = VTDM_ADVERSARIAL;
			else
				goto bad;
			return 0;
		}
		if (parse_num(val, &v, false) || v < k->min || v > k->max)
			goto bad;
		if (k->kind == K_BOOL)
			*(bool *)p = v;
		else if (k->kind == K_INT)
			*(int *)p = (int)v;
		else
			*(unsigned *)p = (unsigned)v;
		return 0;
bad:
		if (k->kind == K_PROFILE)
			snprintf(err, errlen, "%s key '%s': '%s' is not exact or adversarial",
				 what, name, val);
		else
			snprintf(err, errlen, "%s key '%s': '%s' is not a number in %llu..%llu",
				 what, name, val, (unsigned long long)k->min,
				 (unsigned long long)k->max);
		return -EINVAL;
	}
	snprintf(err, errlen, "unknown %s key '%s'", what, name);
	return -EINVAL;
}

int vtdm_unit_cfg_set(struct vtdm_unit_cfg *cfg, const char *key, const char *val,
		      char *err, size_t errlen)
{
	return set_key(unit_keys, sizeof(unit_keys) / sizeof(unit_keys[0]), cfg, "iommu",
		       key, val, err, errlen);
}

int vtdm_dev_cfg_set(struct vtdm_dev_cfg *cfg, const char *key, const char *val,
		     char *err, size_t errlen)
{
	unsigned idx;
	char tail;

	/* Units are named dmar0, dmar1, … in the order they were added. */
	if (!strcmp(key, "iommu") && sscanf(val, "dmar%u%c", &idx, &tail) == 1) {
		if (idx >= VTDM_MAX_UNITS) {
			snprintf(err, errlen, "device key 'iommu': no unit '%s'", val);
			return -EINVAL;
		}
		cfg->unit = (int)idx;
		return 0;
	}
	return set_key(dev_keys, sizeof(dev_keys) / sizeof(dev_keys[0]), cfg, "device",
		       key, val, err, errlen);
}

#define CKEY(n, f) { n, offsetof(struct vtdm_costs, f) }
static const struct { const char *name; size_t off; } cost_keys[] = {
	CKEY("mmio", mmio), CKEY("mem_access", mem_access), CKEY("cache_lookup", cache_lookup),
	CKEY("desc", desc), CKEY("devtlb_inv", devtlb_inv), CKEY("wait", wait),
	CKEY("wbf", wbf), CKEY("reg_inv", reg_inv), CKEY("ats", ats),
	CKEY("dma_per_4k", dma_per_4k), CKEY("ite_timeout", ite_timeout),
};

int vtdm_machine_cfg_set(struct vtdm_machine_cfg *cfg, const char *key, const char *val,
			 char *err, size_t errlen)
{
	uint64_t v;

	if (!strcmp(key, "mem")) {
		if (parse_num(val, &v, true) || v < (1 << 20) || v > 0xfed00000ULL ||
		    v % 4096) {
			snprintf(err, errlen,
				 "machine key 'mem': '%s' is not a size from 1M to 0xfed00000 in 4K units",
				 val);
			return -EINVAL;
		}
		cfg->mem_size = v;
		return 0;
	}
	if (!strncmp(key, "cost.", 5)) {
		for (size_t i = 0; i < sizeof(cost_keys) / sizeof(cost_keys[0]); i++) {
			if (strcmp(key + 5, cost_keys[i].name))
				continue;
			if (parse_num(val, &v, false)) {
				snprintf(err, errlen, "machine key '%s': '%s' is not a number of ns",
					 key, val);
				return -EINVAL;
			}
			*(uint64_t *)((char *)&cfg->costs + cost_keys[i].off) = v;
			return 0;
		}
	}
	snprintf(err, errlen, "unknown machine key '%s'", key);
	return -EINVAL;
}

/* 1 .. @maxdigits hex digits of a PCI address part; NULL if none. */
static const char *scan_hexpart(const char *s, unsigned maxdigits, unsigned *v)
{
	unsigned x = 0, n = 0;
	int d;

	while (n < maxdigits && (d = num_hexdigit((unsigned char)*s)) >= 0) {
		x = x << 4 | (unsigned)d;
		s++;
		n++;
	}
	*v = x;
	return n ? s : NULL;
}

int vtdm_parse_sid(const char *s, uint16_t *sid, char *err, size_t errlen)
{
	unsigned seg = 0, bus, dev, fn;
	const char *p = s;
	uint64_t v;

	if (!strchr(s, ':')) {
		if (num_parse(s, &v, false)) {
			snprintf(err, errlen, "SID '%s' is not BB:DD.F, SSSS:BB:DD.F or a number", s);
			return -EINVAL;
		}
		if (v > 0xffff) {
			snprintf(err, errlen, "SID '%s' is above 0xffff", s);
			return -EINVAL;
		}
		*sid = (uint16_t)v;
		return 0;
	}
	if (strchr(strchr(s, ':') + 1, ':')) {
		p = scan_hexpart(p, 4, &seg);
		if (!p || *p++ != ':')
			goto bad;
	}
	p = scan_hexpart(p, 2, &bus);
	if (!p || *p++ != ':')
		goto bad;
	p = scan_hexpart(p, 2, &dev);
	if (!p || *p++ != '.')
		goto bad;
	p = scan_hexpart(p, 1, &fn);
	if (!p || *p)
		goto bad;
	if (seg) {
		snprintf(err, errlen, "SID '%s': segment %04x is not 0 (the model has one PCI segment)",
			 s, seg);
		return -EINVAL;
	}
	if (dev > 0x1f) {
		snprintf(err, errlen, "SID '%s': device %02x is above 1f", s, dev);
		return -EINVAL;
	}
	if (fn > 7) {
		snprintf(err, errlen, "SID '%s': function %x is above 7", s, fn);
		return -EINVAL;
	}
	*sid = (uint16_t)(bus << 8 | dev << 3 | fn);
	return 0;
bad:
	snprintf(err, errlen, "SID '%s' is not BB:DD.F or SSSS:BB:DD.F (hex)", s);
	return -EINVAL;
}
