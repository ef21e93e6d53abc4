/*
 * replay.c — the trace replay of replay.h: load, learn the domains,
 * attribute every map and unmap, replay through libvtd on the model with
 * the oracle, count both sides.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bench/replay.h"
#include "bench/report.h"
#include "bench/timeline.h"
#include "check/env.h"
#include "check/oracle.h"
#include "host/host.h"

#define POOL_BASE	0x40000000ULL	/* libvtd's tables above the guest's 1 GiB */
#define POOL_SIZE	0x10000000ULL
#define MEM_SIZE	0x50000000ULL
#define PG		4096ULL

const char *replay_rule_name(enum replay_rule r)
{
	static const char *const names[] = {
#define REPLAY_RULE_NAME(e, n) n,
		REPLAY_RULES(REPLAY_RULE_NAME)
#undef REPLAY_RULE_NAME
	};

	return r < RR_NR ? names[r] : "?";
}

/* ---- Loading ---- */

struct ev {
	struct trace_event e;
	int dom;		/* map/unmap: the domain attributed; -1 not yet */
	enum replay_rule rule;
};

struct span {			/* one map, from its map event to the unmap that removed it */
	uint64_t start, end;	/* [start, end) */
	size_t ev;		/* its map event */
	size_t gone;		/* the unmap event; SIZE_MAX: never unmapped */
	int dom;		/* -1: not attributed yet */
};

struct dev {
	char name[TRACE_NAME_LEN];
	uint16_t sid;
	int group;		/* -1 */
	int did;		/* -1 */
	bool ats;		/* device-TLB descriptors or tags name it */
	int dom;		/* its domain index */
};

struct st {
	struct replay_result *r;
	const struct replay_opts *o;
	struct ev *ev;
	size_t nev, cap;
	struct dev devs[VTDM_MAX_DEVICES];
	unsigned ndevs;
	struct span *spans;
	size_t nspans, spancap;
	size_t *live;		/* indices of the spans live in the forward pass */
	size_t nlive;
	char *err;
	size_t errlen;
};

static bool relevant(enum trace_ev k)
{
	return k == TEV_MAP || k == TEV_UNMAP || k == TEV_ATTACH || k == TEV_GROUP ||
	       k == TEV_QI_SUBMIT || k == TEV_TAG_ASSIGN || k == TEV_TAG_FLUSH_ALL ||
	       k == TEV_TAG_FLUSH_RANGE || k == TEV_TAG_FLUSH_RANGE_NP;
}

static int load(struct st *s, const char *path)
{
	struct trace_reader rd;
	struct trace_file tf;
	FILE *f = trace_open(path, &tf);
	int ret;

	if (!f) {
		ret = -errno;
		snprintf(s->err, s->errlen, "cannot read '%s': %s", path, strerror(errno));
		return ret;
	}
	memset(&s->r->trace, 0, sizeof(s->r->trace));
	trace_reader_init(&rd, f, &s->r->trace);
	for (;;) {
		struct trace_event e;

		ret = trace_reader_next(&rd, &e);
		if (ret <= 0)
			break;
		if (!relevant(e.kind) || e.qemu)
			continue;
		if (s->nev == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 1024;
			struct ev *n = realloc(s->ev, cap * sizeof(*n));

			if (!n) {
				ret = -ENOMEM;
				break;
			}
			s->ev = n;
			s->cap = cap;
		}
		s->ev[s->nev++] = (struct ev){ .e = e, .dom = -1 };
	}
	trace_reader_release(&rd);
	s->r->trace.via = tf.via;
	if (trace_close(&tf) && ret >= 0)
		ret = -EIO;
	snprintf(s->r->trace.decode_err, sizeof(s->r->trace.decode_err), "%s", tf.err);
	if (ret < 0)
		snprintf(s->err, s->errlen, "%s: %s", path,
			 ret == -ENOMEM ? "out of memory" : tf.err[0] ? tf.err : "read error");
	return ret < 0 ? ret : 0;
}

/* NAME.trace[.xz] -> NAME + @suffix, if it exists; @given overrides ("" none). */
static bool beside(const char *path, const char *given, const char *suffix, char *out,
		   size_t len)
{
	size_t n = strlen(path);
	FILE *f;

	if (given) {
		snprintf(out, len, "%s", given);
		return *given;
	}
	if (n > 9 && !strcmp(path + n - 9, ".trace.xz"))
		n -= 3;
	if (n < 6 || strncmp(path + n - 6, ".trace", 6) || n - 6 + strlen(suffix) >= len)
		return false;
	memcpy(out, path, n - 6);
	strcpy(out + n - 6, suffix);
	f = fopen(out, "r");
	if (!f) {
		out[0] = 0;
		return false;
	}
	fclose(f);
	return true;
}

/* CAP.CM (bit 7) from "dmar0: reg_base_addr ... cap X ecap Y", and the policy line. */
static void read_console(struct replay_result *r, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, " cap ");

		if (p && strstr(line, "reg_base_addr")) {
			unsigned long long cap = strtoull(p + 5, NULL, 16);

			r->captured_cm = (int)(cap >> 7 & 1);
		}
		if (strstr(line, "invalidation policy: lazy"))
			r->captured_mode = VTD_DMA_LAZY;
		if (strstr(line, "invalidation policy: strict"))
			r->captured_mode = VTD_DMA_STRICT;
		/* Linux forces strict under caching mode (seed 004). */
		if (strstr(line, "batching disallowed"))
			r->captured_mode = VTD_DMA_STRICT;
	}
	fclose(f);
}

/* ---- Devices and domains ---- */

/* "0000:01:00.0" or "01:00.0" into a requester id. */
static int parse_dev(const char *name, uint16_t *sid)
{
	char err[80];
	const char *p = strchr(name, ':');

	/* vtdm_parse_sid takes both forms; the unit name of an IOTLB tag is none. */
	if (!p)
		return -EINVAL;
	return vtdm_parse_sid(name, sid, err, sizeof(err));
}

static struct dev *dev_get(struct st *s, const char *name)
{
	uint16_t sid;

	if (parse_dev(name, &sid))
		return NULL;
	for (unsigned i = 0; i < s->ndevs; i++)
		if (s->devs[i].sid == sid)
			return &s->devs[i];
	if (s->ndevs == VTDM_MAX_DEVICES)
		return NULL;
	s->devs[s->ndevs] = (struct dev){ .sid = sid, .group = -1, .did = -1, .dom = -1 };
	snprintf(s->devs[s->ndevs].name, sizeof(s->devs[s->ndevs].name), "%02x:%02x.%x",
		 sid >> 8, (sid >> 3) & 0x1f, sid & 7);
	return &s->devs[s->ndevs++];
}

static struct dev *dev_by_sid(struct st *s, uint16_t sid)
{
	for (unsigned i = 0; i < s->ndevs; i++)
		if (s->devs[i].sid == sid)
			return &s->devs[i];
	return NULL;
}

static int dom_new(struct st *s, int group, int did)
{
	struct replay_result *r = s->r;

	if (r->ndomains == REPLAY_MAX_DOMAINS)
		return -1;
	r->dom[r->ndomains] = (struct replay_domain){ .group = group, .did = did };
	return (int)r->ndomains++;
}

static int dom_by_did(struct st *s, int did)
{
	for (unsigned i = 0; i < s->r->ndomains; i++)
		if (s->r->dom[i].did == did)
			return (int)i;
	return dom_new(s, -1, did);
}

static void dom_add_dev(struct st *s, int d, struct dev *dv)
{
	struct replay_domain *rd = &s->r->dom[d];
	size_t n = strlen(rd->devs);

	dv->dom = d;
	snprintf(rd->devs + n, sizeof(rd->devs) - n, "%s%s", n ? " " : "", dv->name);
}

/*
 * First pass: devices, groups, DIDs. A tag of type iotlb names only the
 * unit; the device follows in the next attach. In 6.1, an IOTLB
 * descriptor and the device-TLB one after it belong to one flush.
 */
static void learn(struct st *s)
{
	int pending_did = -1, last_iotlb_did = -1;

	for (size_t i = 0; i < s->nev; i++) {
		const struct trace_event *e = &s->ev[i].e;
		struct dev *dv;

		switch (e->kind) {
		case TEV_GROUP:
			dv = dev_get(s, e->dev.dev);
			if (dv)
				dv->group = (int)e->dev.group;
			break;
		case TEV_TAG_ASSIGN:
			dv = dev_get(s, e->tag.dev);
			if (dv) {
				dv->ats |= !strcmp(e->tag.type, "devtlb");
				if (dv->did < 0)
					dv->did = (int)e->tag.did;
			} else {
				pending_did = (int)e->tag.did;
			}
			break;
		case TEV_ATTACH:
			dv = dev_get(s, e->dev.dev);
			if (dv && pending_did >= 0 && dv->did < 0)
				dv->did = pending_did;
			pending_did = -1;
			break;
		case TEV_QI_SUBMIT: {
			const struct vtd_desc_fields *f = &e->desc.f;

			/*
			 * DID 0 is what caching mode's invalidations of
			 * not-present entries carry (6.1): no domain's.
			 */
			if (f->type == DESC_IOTLB && f->g != IOTLB_G_GLOBAL) {
				last_iotlb_did = f->did ? f->did : -1;
			} else if (f->type == DESC_DEVTLB) {
				dv = dev_by_sid(s, f->sid);
				if (dv) {
					dv->ats = true;
					if (dv->did < 0 && last_iotlb_did >= 0)
						dv->did = last_iotlb_did;
				}
				last_iotlb_did = -1;
			} else if (f->type == DESC_CC && f->g == CC_G_DEVICE && f->did) {
				dv = dev_by_sid(s, f->sid);
				if (dv && dv->did < 0)
					dv->did = f->did;
			}
			break;
		}
		default:
			break;
		}
	}
	/* One domain per group; a device in no group is its own. */
	for (unsigned i = 0; i < s->ndevs; i++) {
		struct dev *dv = &s->devs[i];
		int d = -1;

		for (unsigned j = 0; j < i && dv->group >= 0; j++)
			if (s->devs[j].group == dv->group)
				d = s->devs[j].dom;
		if (d < 0)
			d = dom_new(s, dv->group, -1);
		if (d < 0)
			continue;
		dom_add_dev(s, d, dv);
		if (dv->did >= 0 && s->r->dom[d].did < 0)
			s->r->dom[d].did = dv->did;
	}
}

/* The domain an invalidation event names, or -1. */
static int names_dom(struct st *s, const struct trace_event *e)
{
	switch (e->kind) {
	case TEV_TAG_FLUSH_ALL:
	case TEV_TAG_FLUSH_RANGE:
	case TEV_TAG_FLUSH_RANGE_NP:
	case TEV_TAG_ASSIGN:
		return dom_by_did(s, (int)e->tag.did);
	case TEV_QI_SUBMIT:
		if (e->desc.f.type == DESC_IOTLB && e->desc.f.g != IOTLB_G_GLOBAL && e->desc.f.did)
			return dom_by_did(s, e->desc.f.did);
		if (e->desc.f.type == DESC_DEVTLB) {
			struct dev *dv = dev_by_sid(s, e->desc.f.sid);

			return dv ? dv->dom : -1;
		}
		return -1;
	default:
		return -1;
	}
}

static bool is_mu(const struct ev *e)
{
	return e->e.kind == TEV_MAP || e->e.kind == TEV_UNMAP;
}

/* The first event after @i, before the next map or unmap, that names a domain. */
static int evidence(struct st *s, size_t i, bool any_distance)
{
	for (size_t j = i + 1; j < s->nev; j++) {
		int d;

		if (is_mu(&s->ev[j]) && !any_distance)
			return -1;
		d = names_dom(s, &s->ev[j].e);
		if (d >= 0 && (!any_distance || s->ev[j].e.kind != TEV_TAG_ASSIGN))
			return d;
	}
	return -1;
}

static void ev_range(const struct trace_event *e, uint64_t *start, uint64_t *end)
{
	if (e->kind == TEV_MAP) {
		*start = e->map.iova & ~(PG - 1);
		*end = e->map.iova + e->map.size;
	} else {
		*start = e->unmap.iova & ~(PG - 1);
		*end = e->unmap.iova + e->unmap.size;
	}
	if (*end < *start + PG)
		*end = *start + PG;
}

static void attribute(struct st *s, size_t i, int dom, enum replay_rule rule)
{
	s->ev[i].dom = dom;
	s->ev[i].rule = rule;
	s->r->by_rule[rule]++;
}

static int span_add(struct st *s, uint64_t start, uint64_t end, size_t ev, int dom)
{
	if (s->nspans == s->spancap) {
		size_t cap = s->spancap ? 2 * s->spancap : 256;
		struct span *n = realloc(s->spans, cap * sizeof(*n));
		size_t *l = realloc(s->live, cap * sizeof(*l));

		if (l)
			s->live = l;
		if (!n || !l) {
			if (n)
				s->spans = n;
			return -ENOMEM;
		}
		s->spans = n;
		s->spancap = cap;
	}
	s->spans[s->nspans] = (struct span){ start, end, ev, SIZE_MAX, dom };
	s->live[s->nlive++] = s->nspans++;
	return 0;
}

/* Another mapping of domain @d overlaps @sp in IOVA and in time. */
static bool taken(const struct st *s, int d, const struct span *sp)
{
	for (size_t k = 0; k < s->nspans; k++) {
		const struct span *o = &s->spans[k];

		if (o != sp && o->dom == d && o->start < sp->end && sp->start < o->end &&
		    o->ev < sp->gone && sp->ev < o->gone)
			return true;
	}
	return false;
}

/* An unmap: the domain of the live mappings it removes (rule live), or -1. */
static int live_owner(struct st *s, size_t i, uint64_t a, uint64_t b)
{
	int best = -1, ndoms = 0;
	size_t best_ev = 0;
	bool pending = false;

	for (size_t k = 0; k < s->nlive; k++) {
		const struct span *l = &s->spans[s->live[k]];

		if (l->end <= a || l->start >= b)
			continue;
		if (l->dom < 0) {
			pending = true;
			continue;
		}
		if (best != l->dom)
			ndoms++;
		if (best < 0 || l->ev > best_ev) {
			best = l->dom;
			best_ev = l->ev;
		}
	}
	if (best >= 0 && (ndoms > 1 || pending))
		s->r->ambiguous++;
	(void)i;
	return best;
}

/*
 * The domains in order of preference for the mappings of map event @i:
 * by the distance to their nearest attributed map or unmap, the same
 * task's first. Returns how many were written to @order.
 */
static unsigned candidates(const struct st *s, size_t i, int *order)
{
	unsigned n = 0;

	for (int pass = 0; pass < 2; pass++) {
		bool same = pass == 0;

		for (size_t dist = 1; dist < s->nev; dist++) {
			for (int side = 0; side < 2; side++) {
				size_t j = side ? i + dist : i - dist;
				bool dup = false;

				if ((side && j >= s->nev) || (!side && dist > i))
					continue;
				if (!is_mu(&s->ev[j]) || s->ev[j].dom < 0 ||
				    (same && s->ev[j].e.pid != s->ev[i].e.pid))
					continue;
				for (unsigned k = 0; k < n; k++)
					dup |= order[k] == s->ev[j].dom;
				if (!dup)
					order[n++] = s->ev[j].dom;
			}
			if (n == s->r->ndomains)
				return n;
		}
	}
	for (unsigned c = 0; c < s->r->ndomains; c++) {
		bool dup = false;

		for (unsigned k = 0; k < n; k++)
			dup |= order[k] == (int)c;
		if (!dup)
			order[n++] = (int)c;
	}
	return n;
}

/*
 * Rule nearest, for the mappings still unattributed (never unmapped).
 * The unattributed maps of one task go together (a driver's probe sets
 * up its rings in one go) to the first domain in candidates() where none
 * of them overlaps a mapping the domain holds at the same time; failing
 * that, each on its own.
 */
static void attribute_nearest(struct st *s)
{
	int order[REPLAY_MAX_DOMAINS];

	for (size_t k = 0; k < s->nspans; k++) {
		struct span *first = &s->spans[k];
		unsigned n;
		int d = -1;

		if (first->dom >= 0)
			continue;
		n = candidates(s, first->ev, order);
		for (unsigned c = 0; c < n && d < 0; c++) {
			bool ok = true;

			for (size_t q = k; q < s->nspans && ok; q++)
				if (s->spans[q].dom < 0 &&
				    s->ev[s->spans[q].ev].e.pid == s->ev[first->ev].e.pid)
					ok = !taken(s, order[c], &s->spans[q]);
			if (ok)
				d = order[c];
		}
		if (d >= 0) {
			for (size_t q = k; q < s->nspans; q++) {
				struct span *sp = &s->spans[q];

				if (sp->dom < 0 && s->ev[sp->ev].e.pid == s->ev[first->ev].e.pid) {
					sp->dom = d;
					attribute(s, sp->ev, d, RR_NEAREST);
				}
			}
			continue;
		}
		for (unsigned c = 0; c < n && d < 0; c++)
			if (!taken(s, order[c], first))
				d = order[c];
		first->dom = d >= 0 ? d : n ? order[0] : 0;
		attribute(s, first->ev, first->dom, RR_NEAREST);
	}
}

/* Second pass: every map and unmap gets a domain (rules in replay.h). */
static int attribute_all(struct st *s)
{
	for (size_t i = 0; i < s->nev; i++) {
		uint64_t a, b;
		int d;

		if (!is_mu(&s->ev[i]))
			continue;
		ev_range(&s->ev[i].e, &a, &b);
		d = evidence(s, i, false);
		if (s->ev[i].e.kind == TEV_MAP) {
			if (d >= 0)
				attribute(s, i, d, RR_FLUSH);
			if (span_add(s, a, b, i, d))
				return -ENOMEM;
			continue;
		}
		if (d >= 0) {
			attribute(s, i, d, RR_FLUSH);
		} else if ((d = live_owner(s, i, a, b)) >= 0) {
			attribute(s, i, d, RR_LIVE);
		} else if ((d = evidence(s, i, true)) >= 0) {
			attribute(s, i, d, RR_LATER);
		}
		if (d < 0)
			continue;
		/*
		 * It removes the domain's mappings it overlaps, and the
		 * unattributed ones it covers whole (Linux unmaps what it
		 * mapped, or several maps at once) where the domain had
		 * nothing of its own: those take its domain. A page is
		 * mapped once in a domain, so where the domain's own mapping
		 * explains the unmap, an unattributed one there is another
		 * domain's; so is an older one under a newer unattributed one.
		 */
		for (size_t k = 0; k < s->nlive; k++) {
			struct span *l = &s->spans[s->live[k]];
			bool claim = l->dom < 0 && l->start >= a && l->end <= b;

			for (size_t q = 0; q < s->nlive && claim; q++) {
				const struct span *o = &s->spans[s->live[q]];
				bool over = o != l && o->end > l->start && o->start < l->end;

				/* Nor where a later unattributed map it covers is. */
				claim = !(over && (o->dom == d || (o->dom < 0 && o->ev > l->ev &&
								   o->start >= a && o->end <= b)));
			}
			if (claim) {
				l->dom = d;
				attribute(s, l->ev, d, RR_PAIRED);
			}
		}
		for (size_t k = 0; k < s->nlive;) {
			struct span *l = &s->spans[s->live[k]];

			if (l->dom != d || l->end <= a || l->start >= b) {
				k++;
				continue;
			}
			l->gone = i;
			s->live[k] = s->live[--s->nlive];
		}
	}
	attribute_nearest(s);
	return 0;
}

/* ---- Replay ---- */

enum { REPLAY_TL_TASKS = 64 };

struct world {
	struct vtdm *m;
	struct vtd_host *h;
	struct chk *oracle;
	struct chk_env env;
	struct vtd *v;
	struct vtd_unit *unit;
	struct vtd_device *devs[VTDM_MAX_DEVICES];
	struct vtd_domain *doms[REPLAY_MAX_DOMAINS];
	struct vtd_dma *dmas[REPLAY_MAX_DOMAINS];
	struct replay_side *side;
	/* The timeline (replay_opts.timeline), if any, and its tracks. */
	struct tl *tl;
	int t_unit, t_linux, t_other;
	struct { unsigned pid; int track; } tasks[REPLAY_TL_TASKS];	/* a track per task */
	unsigned ntasks;
};

static uint64_t world_now(void *arg)
{
	return vtdm_now(arg);
}

static void side_add(struct replay_side *sd, const struct vtd_desc *d)
{
	struct vtd_desc_fields f;

	vtd_desc_decode(d, &f);
	if (f.type >= DESC_NR_TYPES)
		return;
	sd->desc[f.type]++;
	sd->gran[f.type][f.g & 3]++;
	if (f.type == DESC_IOTLB && f.g == IOTLB_G_PSI)
		sd->psi_am[f.am & 63]++;
}

static void on_event(void *arg, const struct vtd_event *ev)
{
	struct world *w = arg;

	if (ev->type == VTD_EV_QI_SUBMIT) {
		struct vtd_desc d = { .qw = { ev->qw[0], ev->qw[1], ev->qw[2], ev->qw[3] } };

		side_add(w->side, &d);
		tl_desc(w->tl, w->t_unit, &d, vtdm_now(w->m));
	}
}

static void world_fini(struct world *w)
{
	for (unsigned i = 0; i < REPLAY_MAX_DOMAINS; i++)
		if (w->dmas[i])
			vtd_dma_destroy(w->dmas[i]);
	if (w->h)
		vtd_host_set_trace(w->h, NULL, NULL);
	vtd_destroy(w->v);
	vtd_host_destroy(w->h);
	if (w->m)
		vtdm_destroy(w->m);
	chk_destroy(w->oracle);
}

static int world_init(struct st *s, struct world *w)
{
	struct replay_result *r = s->r;
	struct vtdm_machine_cfg mc;
	struct vtdm_unit_cfg uc;
	struct vtd_unit_opts uo = { .name = "dmar0" };
	struct vtdm_hooks hooks;
	char err[160];
	int ret;

	vtdm_machine_cfg_default(&mc);
	mc.mem_size = MEM_SIZE;
	r->costs = mc.costs;
	w->m = vtdm_create(&mc);
	if (!w->m)
		return -ENOMEM;
	vtdm_unit_cfg_default(&uc);
	snprintf(uc.name, sizeof(uc.name), "dmar0");
	ret = vtdm_unit_cfg_set(&uc, "cm", r->cm ? "1" : "0", err, sizeof(err));
	if (!ret)
		ret = vtdm_unit_cfg_set(&uc, "caching", r->profile == VTDM_ADVERSARIAL ?
					"adversarial" : "exact", err, sizeof(err));
	/* QEMU's device-iotlb=on: ECAP.DT, for the devices the trace shows with ATS. */
	for (unsigned i = 0; !ret && i < s->ndevs; i++)
		if (s->devs[i].ats)
			ret = vtdm_unit_cfg_set(&uc, "dt", "1", err, sizeof(err));
	if (ret || vtdm_add_unit(w->m, &uc) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < s->ndevs; i++) {
		struct vtdm_dev_cfg dc;

		vtdm_dev_cfg_default(&dc);
		dc.sid = s->devs[i].sid;
		dc.unit = 0;
		dc.ats = s->devs[i].ats;
		if (vtdm_add_device(w->m, &dc) < 0)
			return -EINVAL;
	}
	w->h = vtd_host_create(w->m, POOL_BASE, POOL_SIZE);
	w->oracle = chk_create(world_now, w->m);
	if (!w->h || !w->oracle)
		return -ENOMEM;
	w->side = &r->vtdkit;
	w->tl = s->o->timeline;
	if (w->tl) {
		w->t_other = -1;
		w->t_unit = tl_track(w->tl, "vtdkit", "dmar0 descriptors");
		w->t_linux = tl_track(w->tl, "linux", "dmar0 descriptors (qi_submit, as traced)");
	}
	vtd_host_set_trace(w->h, on_event, w);
	w->env = (struct chk_env){ .inner = vtd_host_ops(), .inner_ctx = w->h, .m = w->m,
				   .oracle = w->oracle };
	chk_env_hooks(&w->env, &hooks);
	vtdm_set_hooks(w->m, &hooks);
	w->v = vtd_create(chk_env_ops(), &w->env);
	if (!w->v)
		return -ENOMEM;
	ret = vtd_unit_add(w->v, vtdm_unit_base(0), &uo, &w->unit);
	for (unsigned i = 0; !ret && i < s->ndevs; i++) {
		struct vtd_device_opts dopts = { .ats = s->devs[i].ats };

		ret = vtd_device_add(w->v, w->unit, s->devs[i].sid, &dopts, &w->devs[i]);
	}
	return ret;
}

/* The domain's libvtd domain and DMA layer, made at first use. */
static struct vtd_dma *world_dma(struct st *s, struct world *w, int d, int *err)
{
	struct vtd_domain_opts dmo = { .stage = VTD_STAGE_SECOND, .unit = w->unit };
	struct vtd_dma_opts o = { .mode = s->r->mode, .force_mode = s->o->mode >= 0,
				  .caller_iova = true };

	if (w->dmas[d])
		return w->dmas[d];
	*err = vtd_domain_alloc(w->v, &dmo, &w->doms[d]);
	if (!*err)
		*err = vtd_dma_create(w->doms[d], &o, &w->dmas[d]);
	if (!*err)
		s->r->mode_used = vtd_dma_mode(w->dmas[d]);
	return *err ? NULL : w->dmas[d];
}

static void bad(struct st *s, const struct ev *e, unsigned long *counter, const char *fmt,
		int ret)
{
	(*counter)++;
	if (s->r->first_bad_line)
		return;
	s->r->first_bad_line = e->e.line;
	snprintf(s->r->first_bad, sizeof(s->r->first_bad), fmt, strerror(-ret));
}

/* The calls' track of the trace's task (TASK-PID); past REPLAY_TL_TASKS, one shared. */
static int task_track(struct world *w, const struct trace_event *e)
{
	char name[TRACE_NAME_LEN + 16];

	for (unsigned i = 0; i < w->ntasks; i++)
		if (w->tasks[i].pid == e->pid)
			return w->tasks[i].track;
	if (w->ntasks == REPLAY_TL_TASKS) {
		if (w->t_other < 0)
			w->t_other = tl_track(w->tl, "replay", "other tasks");
		return w->t_other;
	}
	snprintf(name, sizeof(name), "%s-%u", e->task, e->pid);
	w->tasks[w->ntasks].pid = e->pid;
	w->tasks[w->ntasks].track = tl_track(w->tl, "replay", name);
	return w->tasks[w->ntasks++].track;
}

/* One replayed call on its task's track, from its start to its return on the model clock. */
static void call_span(struct st *s, struct world *w, const struct ev *e, const char *name,
		      uint64_t iova, uint64_t size, uint64_t t0, int ret)
{
	const struct replay_domain *rd = &s->r->dom[e->dom];
	struct tl_arg a[] = {
		{ "iova", TL_HEX, iova },
		{ "size", TL_U64, size },
		{ "did", TL_U64, rd->did >= 0 ? (uint64_t)rd->did : 0 },
		{ "devices", TL_STR, 0, rd->devs },
		{ "line", TL_U64, e->e.line },
		{ ret ? "error" : NULL, TL_STR, 0, ret ? strerror(-ret) : NULL },
	};

	if (w->tl)
		tl_span(w->tl, task_track(w, &e->e), name, "dma", t0, vtdm_now(w->m) - t0, a,
			ARRAY_SIZE(a));
}

static void replay_one(struct st *s, struct world *w, struct ev *e)
{
	struct replay_result *r = s->r;
	struct vtd_dma *dma;
	int ret = 0;

	if (e->e.kind == TEV_ATTACH) {
		struct dev *dv = dev_get(s, e->e.dev.dev);
		unsigned idx;

		if (!dv || dv->dom < 0)
			return;
		idx = (unsigned)(dv - s->devs);
		dma = world_dma(s, w, dv->dom, &ret);
		if (dma)
			ret = vtd_attach(w->doms[dv->dom], w->devs[idx]);
		if (ret)
			bad(s, e, &r->failed, "attach failed: %s", ret);
		else
			r->attaches++;
		return;
	}
	if (e->dom < 0)
		return;
	dma = world_dma(s, w, e->dom, &ret);
	if (!dma) {
		bad(s, e, &r->failed, "domain failed: %s", ret);
		return;
	}
	uint64_t t0 = vtdm_now(w->m);

	if (e->e.kind == TEV_MAP) {
		r->maps++;
		r->dom[e->dom].maps++;
		ret = vtd_dma_map_at(dma, NULL, e->e.map.iova, e->e.map.paddr, e->e.map.size,
				     VTD_DMA_BIDIRECTIONAL);
		if (ret == -EBUSY)
			bad(s, e, &r->map_busy, "map over a live mapping: %s", ret);
		else if (ret)
			bad(s, e, &r->failed, "map failed: %s", ret);
		call_span(s, w, e, "map", e->e.map.iova, e->e.map.size, t0, ret);
		return;
	}
	uint64_t pa;
	unsigned perm;

	r->unmaps++;
	r->dom[e->dom].unmaps++;
	bool empty = vtd_iova_to_phys(w->doms[e->dom], e->e.unmap.iova, &pa, &perm);

	if (empty)
		bad(s, e, &r->unmap_empty, "unmap of an IOVA nothing is mapped at (%s)", -ENOENT);
	ret = vtd_dma_unmap(dma, NULL, e->e.unmap.iova, e->e.unmap.size);
	/* -ENOENT: nothing at all was mapped in the range (counted above when its start was not). */
	if (ret && !(ret == -ENOENT && empty))
		bad(s, e, &r->failed, "unmap failed: %s", ret);
	call_span(s, w, e, "unmap", e->e.unmap.iova, e->e.unmap.size, t0, ret);
}

uint64_t replay_inv_ns(const struct vtdm_costs *c, const struct replay_side *sd)
{
	unsigned long n = 0;

	for (unsigned t = 1; t < DESC_NR_TYPES; t++)
		if (t != DESC_WAIT)
			n += sd->desc[t];
	return sd->submits * c->mmio + (n + sd->waits) * c->desc + sd->waits * c->wait +
	       sd->desc[DESC_DEVTLB] * c->devtlb_inv;
}

static void linux_side(struct replay_result *r)
{
	struct replay_side *l = &r->linux_side;

	memcpy(l->desc, r->trace.desc, sizeof(l->desc));
	memcpy(l->gran, r->trace.gran, sizeof(l->gran));
	memcpy(l->psi_am, r->trace.psi_am, sizeof(l->psi_am));
	if (r->have_qemu) {
		/* Every synchronous submission ends with exactly one wait. */
		l->waits = r->qemu.desc[DESC_WAIT];
		l->submits = l->waits;
		l->waits_known = true;
		l->inv_ns = replay_inv_ns(&r->costs, l);
	}
}

static uint64_t stat_of(struct vtd *v, const char *name)
{
	uint64_t x = 0;

	vtd_stat(v, name, &x);
	return x;
}

int replay_run(const char *path, const struct replay_opts *o, struct replay_result *r,
	       char *err, size_t errlen)
{
	struct st s = { .r = r, .o = o, .err = err, .errlen = errlen };
	struct world w = { 0 };
	unsigned long total = 0, done = 0;
	uint64_t t0 = 0;
	bool have_t0 = false;
	int ret;

	memset(r, 0, sizeof(*r));
	r->captured_cm = -1;
	r->captured_mode = -1;
	r->profile = o->profile;
	err[0] = 0;
	ret = load(&s, path);
	if (ret)
		goto out;
	if (beside(path, o->qemu_log, ".qemu-vtd.log", r->qemu_path, sizeof(r->qemu_path))) {
		ret = trace_read_file(r->qemu_path, &r->qemu);
		if (ret) {
			snprintf(err, errlen, "cannot read '%s': %s", r->qemu_path, strerror(-ret));
			goto out;
		}
		r->have_qemu = r->qemu.qemu_events > 0;
	}
	if (beside(path, o->console, ".console", r->console_path, sizeof(r->console_path)))
		read_console(r, r->console_path);
	for (size_t i = 0; i < s.nev; i++)
		total += is_mu(&s.ev[i]);
	if (!total) {
		snprintf(err, errlen, "%s: no map or unmap event in %lu lines%s%s", path,
			 r->trace.lines, r->trace.binary ? "; " : "",
			 trace_binary_hint(r->trace.binary));
		ret = -EINVAL;
		goto out;
	}
	r->cm = o->cm >= 0 ? o->cm : r->captured_cm > 0;
	r->mode = o->mode >= 0 ? (enum vtd_dma_mode)o->mode :
		  r->captured_mode >= 0 ? (enum vtd_dma_mode)r->captured_mode : VTD_DMA_STRICT;
	r->mode_used = r->mode;
	learn(&s);
	ret = attribute_all(&s);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	ret = world_init(&s, &w);
	if (ret) {
		snprintf(err, errlen, "cannot build the replay machine: %s", strerror(-ret));
		goto out;
	}
	if (o->limit && o->limit < total)
		total = o->limit;
	uint64_t start = vtdm_now(w.m);

	for (size_t i = 0; i < s.nev; i++) {
		struct ev *e = &s.ev[i];

		/* After the last call replayed, only Linux's descriptors up to the next. */
		if (done >= total && (e->e.kind != TEV_QI_SUBMIT || !w.tl)) {
			if (is_mu(e) || !w.tl)
				break;
			continue;
		}

		/* Linux's own descriptors, at the trace's time, beside vtdkit's. */
		if (e->e.kind == TEV_QI_SUBMIT && w.tl && have_t0 && e->e.ts_ns >= t0)
			tl_desc(w.tl, w.t_linux, &e->e.desc.d, start + (e->e.ts_ns - t0));
		if (e->e.kind != TEV_MAP && e->e.kind != TEV_UNMAP && e->e.kind != TEV_ATTACH)
			continue;
		/* The trace's clock drives the flush-queue timers. */
		if (!have_t0) {
			t0 = e->e.ts_ns;
			have_t0 = true;
		}
		if (e->e.ts_ns > t0) {
			uint64_t at = start + (e->e.ts_ns - t0), now = vtdm_now(w.m);

			if (at > now) {
				vtdm_clock_step(w.m, at - now);
				r->idle_ns += at - now;
			}
		}
		for (unsigned d = 0; d < r->ndomains; d++)
			if (w.dmas[d])
				vtd_dma_poll(w.dmas[d]);
		replay_one(&s, &w, e);
		if (is_mu(e)) {
			done++;
			if (o->progress && (done % (total / 100 + 1) == 0 || done == total))
				o->progress(o->progress_arg, done, total);
		}
	}
	for (unsigned d = 0; d < REPLAY_MAX_DOMAINS; d++)
		if (w.dmas[d]) {
			vtd_dma_destroy(w.dmas[d]);
			w.dmas[d] = NULL;
		}
	r->model_ns = vtdm_now(w.m) - start;
	r->vtdkit.waits = stat_of(w.v, "qi.desc.wait");
	r->vtdkit.submits = stat_of(w.v, "qi.submit");
	r->vtdkit.waits_known = true;
	r->vtdkit.inv_ns = replay_inv_ns(&r->costs, &r->vtdkit);
	r->violations = chk_nr_violations(w.oracle);
	linux_side(r);
out:
	world_fini(&w);
	free(s.ev);
	free(s.live);
	free(s.spans);
	return ret;
}

/* ---- Printing ---- */

struct row {
	const char *key, *label;
	unsigned type, g;	/* descriptor type and granularity (g 4: all of the type) */
};

static const struct row rows[] = {
	{ "iotlb_global", "IOTLB global", DESC_IOTLB, IOTLB_G_GLOBAL },
	{ "iotlb_dsi", "IOTLB domain (DSI)", DESC_IOTLB, IOTLB_G_DSI },
	{ "iotlb_psi", "IOTLB page (PSI)", DESC_IOTLB, IOTLB_G_PSI },
	{ "devtlb", "device-TLB", DESC_DEVTLB, 4 },
	{ "cc_global", "context global", DESC_CC, CC_G_GLOBAL },
	{ "cc_domain", "context domain", DESC_CC, CC_G_DOMAIN },
	{ "cc_device", "context device", DESC_CC, CC_G_DEVICE },
	{ "piotlb", "PASID IOTLB", DESC_PIOTLB, 4 },
	{ "pc", "PASID cache", DESC_PC, 4 },
	{ "iec", "interrupt entry (IEC)", DESC_IEC, 4 },
};

static unsigned long side_cell(const struct replay_side *sd, const struct row *rw)
{
	return rw->g == 4 ? sd->desc[rw->type] : sd->gran[rw->type][rw->g];
}

static const char *mode_name(int m)
{
	return m == VTD_DMA_STRICT ? "strict" : m == VTD_DMA_LAZY ? "lazy" :
	       m == VTD_DMA_LAZY_RANGED ? "lazy-ranged" : "unknown";
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void print_text(FILE *out, const struct replay_result *r, const char *name)
{
	const struct replay_side *l = &r->linux_side, *v = &r->vtdkit;

	fprintf(out, "Replay of %s\n", name);
	fprintf(out, "  captured: caching mode %s, %s mode (console: %s)\n",
		r->captured_cm < 0 ? "unknown" : r->captured_cm ? "on" : "off",
		mode_name(r->captured_mode), r->console_path[0] ? r->console_path : "none");
	fprintf(out, "  replayed: caching mode %s, %s mode%s, %s caches; one unit, %u domains\n",
		r->cm ? "on" : "off", mode_name(r->mode_used),
		r->mode_used != r->mode ? " (forced by caching mode)" : "",
		r->profile == VTDM_ADVERSARIAL ? "adversarial" : "exact", r->ndomains);
	for (unsigned d = 0; d < r->ndomains; d++) {
		const struct replay_domain *rd = &r->dom[d];

		if (!rd->maps && !rd->unmaps && !rd->devs[0])
			continue;
		fprintf(out, "    domain %u: did %s%d, group %d, devices [%s]: %lu maps, %lu unmaps\n",
			d, rd->did >= 0 ? "" : "?", rd->did >= 0 ? rd->did : 0, rd->group,
			rd->devs, rd->maps, rd->unmaps);
	}
	fputs("  attribution:", out);
	for (unsigned k = 0; k < RR_NR; k++)
		fprintf(out, " %s %lu%s", replay_rule_name((enum replay_rule)k), r->by_rule[k],
			k + 1 < RR_NR ? "," : "");
	fprintf(out, "; ambiguous %lu\n", r->ambiguous);
	fprintf(out, "  stream: %lu maps, %lu unmaps, %lu attaches replayed; %lu maps over a live"
		" mapping, %lu unmaps of nothing, %lu other failures\n", r->maps, r->unmaps,
		r->attaches, r->map_busy, r->unmap_empty, r->failed);
	if (r->first_bad_line)
		fprintf(out, "    first at %s:%lu: %s\n", name, r->first_bad_line, r->first_bad);
	fprintf(out, "\n  %-24s %12s %12s\n", "descriptors", "Linux", "vtdkit");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned long a = side_cell(l, &rows[i]), b = side_cell(v, &rows[i]);

		if (a || b)
			fprintf(out, "  %-24s %12lu %12lu\n", rows[i].label, a, b);
	}
	if (l->waits_known)
		fprintf(out, "  %-24s %12lu %12lu\n", "waits", l->waits, v->waits);
	else
		fprintf(out, "  %-24s %12s %12lu\n", "waits", "-", v->waits);
	if (l->waits_known)
		fprintf(out, "  %-24s %12.1f %12.1f\n", "invalidation us", l->inv_ns / 1e3,
			v->inv_ns / 1e3);
	else
		fprintf(out, "  %-24s %12s %12.1f\n", "invalidation us", "-", v->inv_ns / 1e3);
	fprintf(out, "  %-24s %12s %12.1f\n", "model busy us", "-",
		(r->model_ns - r->idle_ns) / 1e3);
	fprintf(out, "\n  Linux waits: %s.\n"
		"  Invalidation time, both sides: submits x mmio + (descriptors + waits) x desc\n"
		"  + waits x wait + device-TLB descriptors x devtlb_inv. Model busy: vtdkit's\n"
		"  model clock over the replay, less the trace's idle time. IEC belongs to\n"
		"  interrupt remapping, which vtdkit does not model. The replay moves no data\n"
		"  (the trace records no DMA); oracle violations: %lu.\n",
		l->waits_known ? r->qemu_path : "none (no QEMU log beside the trace)",
		r->violations);
	fputc('\n', out);
	rep_print_costs(out, &r->costs, REP_TEXT);
}

static void print_side_json(FILE *out, const struct replay_side *sd)
{
	fputc('{', out);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(out, "\"%s\": %lu, ", rows[i].key, side_cell(sd, &rows[i]));
	if (sd->waits_known)
		fprintf(out, "\"waits\": %lu, \"submits\": %lu, \"inv_ns\": %" PRIu64 "}",
			sd->waits, sd->submits, sd->inv_ns);
	else
		fputs("\"waits\": null, \"submits\": null, \"inv_ns\": null}", out);
}

/*
 * CSV: one row per descriptor kind, Linux and vtdkit side by side (absent:
 * empty), a blank line, then the cost table (name,ns), as vtdkit demo's.
 */
void replay_print_csv(FILE *out, const struct replay_result *r)
{
	const struct replay_side *l = &r->linux_side, *v = &r->vtdkit;

	fputs("what,linux,vtdkit\n", out);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(out, "%s,%lu,%lu\n", rows[i].key, side_cell(l, &rows[i]),
			side_cell(v, &rows[i]));
	if (l->waits_known)
		fprintf(out, "waits,%lu,%lu\nsubmits,%lu,%lu\ninv_ns,%" PRIu64 ",%" PRIu64 "\n",
			l->waits, v->waits, l->submits, v->submits, l->inv_ns, v->inv_ns);
	else
		fprintf(out, "waits,,%lu\nsubmits,,%lu\ninv_ns,,%" PRIu64 "\n", v->waits,
			v->submits, v->inv_ns);
	fprintf(out, "model_busy_ns,,%" PRIu64 "\n\n", r->model_ns - r->idle_ns);
	rep_print_costs(out, &r->costs, REP_CSV);
}

void replay_print(FILE *out, const struct replay_result *r, const char *name, bool json)
{
	if (!json) {
		print_text(out, r, name);
		return;
	}
	fputs("{\"file\": ", out);
	json_str(out, name);
	fprintf(out, ", \"captured\": {\"cm\": %d, \"mode\": \"%s\"}", r->captured_cm,
		mode_name(r->captured_mode));
	fprintf(out, ", \"replayed\": {\"cm\": %d, \"mode\": \"%s\", \"mode_used\": \"%s\","
		" \"profile\": \"%s\"}", r->cm, mode_name(r->mode), mode_name(r->mode_used),
		r->profile == VTDM_ADVERSARIAL ? "adversarial" : "exact");
	fputs(", \"domains\": [", out);
	for (unsigned d = 0; d < r->ndomains; d++) {
		fprintf(out, "%s{\"did\": %d, \"group\": %d, \"devices\": ", d ? ", " : "",
			r->dom[d].did, r->dom[d].group);
		json_str(out, r->dom[d].devs);
		fprintf(out, ", \"maps\": %lu, \"unmaps\": %lu}", r->dom[d].maps, r->dom[d].unmaps);
	}
	fputs("], \"attribution\": {", out);
	for (unsigned k = 0; k < RR_NR; k++)
		fprintf(out, "\"%s\": %lu, ", replay_rule_name((enum replay_rule)k), r->by_rule[k]);
	fprintf(out, "\"ambiguous\": %lu}", r->ambiguous);
	fprintf(out, ", \"maps\": %lu, \"unmaps\": %lu, \"attaches\": %lu, \"map_busy\": %lu,"
		" \"unmap_empty\": %lu, \"failed\": %lu", r->maps, r->unmaps, r->attaches,
		r->map_busy, r->unmap_empty, r->failed);
	fputs(", \"linux\": ", out);
	print_side_json(out, &r->linux_side);
	fputs(", \"vtdkit\": ", out);
	print_side_json(out, &r->vtdkit);
	fprintf(out, ", \"model_ns\": %" PRIu64 ", \"idle_ns\": %" PRIu64 ", \"violations\": %lu",
		r->model_ns, r->idle_ns, r->violations);
	fputs(", \"costs\": ", out);
	rep_json_costs(out, &r->costs);
	fputs("}\n", out);
}
