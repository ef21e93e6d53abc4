/*
 * oracle.c — the checker's record of promised translations, and the
 * rules that judge every device access against it (docs/checker.md).
 *
 * Time is the oracle's own event counter: every call entry and return,
 * every access start and end gets the next number. An access that ran
 * from event b to event e may use any translation that was valid at some
 * instant in [b, e] — so a DMA racing a map or an unmap is never blamed,
 * and the same rules hold on real threads, where only the order in which
 * events reach the oracle is known.
 *
 * A page's mapping is valid from its map call's entry until the first
 * completed flush that entered after its unmap returned and covers it
 * (vtd_iotlb_sync's gathered range, vtd_flush_all, a ranged flush); a
 * device's attachment from its attach's entry until its detach (or the
 * move away) returned.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check/oracle.h"
#include "fmt/bits.h"
#include "fmt/entry.h"

#define INF		UINT64_MAX
#define PAGE_SHIFT	12
#define PAGE_MASK	0xfffULL
#define HISTORY		4	/* records kept per page, newest first */
#define MAX_DOMS	256
#define MAX_DEVS	VTDM_MAX_DEVICES
#define MAX_INFLIGHT	64	/* device accesses at once */
#define MAX_FLIGHTS	1024	/* flush calls at once (a ranged flush reports each range) */
#define HASH_BITS	16

/* One mapping of one page, from map entry to covering flush. */
struct prec {
	struct prec *older;		/* the page's previous mapping */
	struct prec *hnext;		/* hash chain (only the newest is chained) */
	struct prec *pnext;		/* the domain's pending list */
	unsigned dom;
	uint64_t page;			/* IOVA >> 12 */
	uint64_t pa;			/* page-aligned */
	unsigned perm;
	bool failed;			/* its map call failed: never promised */
	uint64_t map_id, unmap_id, cov_id;
	uint64_t t_map_enter, t_map_exit, t_unmap_enter, t_unmap_exit, t_cov;
	uint64_t vt_unmap_exit;		/* virtual ns, for the exposure window */
};

/* A device's stay in one domain. */
struct stay {
	struct stay *older;
	unsigned dom;
	bool uncertain;			/* a call on it failed: no spurious-fault verdicts */
	uint64_t attach_id, detach_id;
	uint64_t t_enter, t_exit, t_leave, t_left;	/* attach entry/return, detach entry/return */
};

struct dom {
	const struct vtd_domain *ptr;
	char name[24];
	struct prec *pending;		/* unmapped, not yet covered */
};

struct flight {				/* a flush or call between entry and return */
	uint64_t id, t_enter;
};

struct access {				/* a device access between begin and end */
	const void *key;		/* the model passes the same struct to begin and end */
	uint16_t sid;
	uint64_t iova, t_begin;
	bool used;
};

struct freed {
	uint64_t pa, seq;
	struct freed *next;
};

struct chk {
	pthread_mutex_t lock;
	uint64_t (*now)(void *arg);
	void *now_arg;
	uint64_t seq;

	struct dom doms[MAX_DOMS];
	unsigned ndoms;
	struct prec *hash[1u << HASH_BITS];
	struct { uint16_t sid; struct stay *stay; } devs[MAX_DEVS];
	unsigned ndevs;
	struct flight flights[MAX_FLIGHTS];
	unsigned nflights;
	struct access acc[MAX_INFLIGHT];
	struct freed *freed[1u << 10];	/* table pages freed and not allocated again */

	uint64_t judged, unjudged;
	unsigned counts[CHK_NR];
	unsigned nviol;
	struct chk_violation kept[CHK_KEEP];
	unsigned nkept;
	void (*on_violation)(void *arg, const struct chk_violation *v);
	void *on_violation_arg;

	uint64_t *expo;			/* exposure windows, ns */
	size_t nexpo, expocap;
	bool unmap_revokes;		/* a mapping ends at its unmap's return */
};

static const char *const kind_names[CHK_NR] = {
#define CHK_NAME(e, n) [e] = n,
	CHK_KINDS(CHK_NAME)
#undef CHK_NAME
};

const char *chk_kind_name(enum chk_kind k)
{
	return (unsigned)k < CHK_NR ? kind_names[k] : "?";
}

int chk_kind_lookup(const char *name)
{
	for (int i = 0; i < CHK_NR; i++)
		if (!strcmp(name, kind_names[i]))
			return i;
	return -1;
}

struct chk *chk_create(uint64_t (*now)(void *arg), void *arg)
{
	struct chk *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->now = now;
	c->now_arg = arg;
	return c;
}

static void free_history(struct prec *p)
{
	while (p) {
		struct prec *o = p->older;

		free(p);
		p = o;
	}
}

void chk_destroy(struct chk *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(c->hash); i++)
		for (struct prec *p = c->hash[i], *n; p; p = n) {
			n = p->hnext;
			free_history(p);
		}
	for (unsigned i = 0; i < c->ndevs; i++)
		for (struct stay *s = c->devs[i].stay, *o; s; s = o) {
			o = s->older;
			free(s);
		}
	for (size_t i = 0; i < ARRAY_SIZE(c->freed); i++)
		for (struct freed *f = c->freed[i], *n; f; f = n) {
			n = f->next;
			free(f);
		}
	free(c->expo);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- Lookups ---- */

static unsigned dom_idx(struct chk *c, const struct vtd_domain *ptr)
{
	for (unsigned i = 0; i < c->ndoms; i++)
		if (c->doms[i].ptr == ptr)
			return i;
	if (c->ndoms == MAX_DOMS)
		return MAX_DOMS - 1;	/* shares the last record: judged loosely */
	c->doms[c->ndoms].ptr = ptr;
	snprintf(c->doms[c->ndoms].name, sizeof(c->doms[0].name), "#%u", c->ndoms);
	return c->ndoms++;
}

void chk_name_domain(struct chk *c, const struct vtd_domain *dom, const char *name)
{
	pthread_mutex_lock(&c->lock);
	snprintf(c->doms[dom_idx(c, dom)].name, sizeof(c->doms[0].name), "%s", name);
	pthread_mutex_unlock(&c->lock);
}

const char *chk_domain_name(struct chk *c, const struct vtd_domain *dom)
{
	const char *n;

	pthread_mutex_lock(&c->lock);
	n = c->doms[dom_idx(c, dom)].name;
	pthread_mutex_unlock(&c->lock);
	return n;
}

static struct stay **dev_stays(struct chk *c, uint16_t sid, bool create)
{
	for (unsigned i = 0; i < c->ndevs; i++)
		if (c->devs[i].sid == sid)
			return &c->devs[i].stay;
	if (!create || c->ndevs == MAX_DEVS)
		return NULL;
	c->devs[c->ndevs].sid = sid;
	c->devs[c->ndevs].stay = NULL;
	return &c->devs[c->ndevs++].stay;
}

static unsigned hash_of(unsigned dom, uint64_t page)
{
	uint64_t h = (page ^ ((uint64_t)dom << 40)) * 0x9e3779b97f4a7c15ULL;

	return (unsigned)(h >> (64 - HASH_BITS));
}

/* The newest mapping of (dom, page), or NULL. */
static struct prec *newest(struct chk *c, unsigned dom, uint64_t page)
{
	for (struct prec *p = c->hash[hash_of(dom, page)]; p; p = p->hnext)
		if (p->dom == dom && p->page == page)
			return p;
	return NULL;
}

/* The start of the oldest access still in flight (INF: none). */
static uint64_t oldest_access(const struct chk *c)
{
	uint64_t t = INF;

	for (unsigned i = 0; i < MAX_INFLIGHT; i++)
		if (c->acc[i].used && c->acc[i].t_begin < t)
			t = c->acc[i].t_begin;
	return t;
}

/*
 * Make @n the newest record of its page; keep HISTORY of the older ones,
 * and any an access still in flight may have used.
 */
static void push_newest(struct chk *c, struct prec *n)
{
	struct prec **pp = &c->hash[hash_of(n->dom, n->page)];
	uint64_t oldest = oldest_access(c);
	unsigned depth = 1;

	for (; *pp; pp = &(*pp)->hnext)
		if ((*pp)->dom == n->dom && (*pp)->page == n->page)
			break;
	n->older = *pp;
	n->hnext = *pp ? (*pp)->hnext : NULL;
	*pp = n;
	/* Trim records that are covered and old enough not to matter. */
	for (struct prec *p = n; p; p = p->older, depth++)
		if (depth == HISTORY && p->older) {
			struct prec *o = p->older;
			bool keep = false;

			for (struct prec *q = o; q; q = q->older)
				keep |= q->t_cov == INF || q->t_cov >= oldest;
			if (!keep) {
				p->older = NULL;
				free_history(o);
			}
			break;
		}
}

/* ---- Violations ---- */

static void report(struct chk *c, enum chk_kind k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct chk *c, enum chk_kind k, const char *fmt, ...)
{
	struct chk_violation v = { .kind = k, .seq = c->seq };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v.msg, sizeof(v.msg), fmt, ap);
	va_end(ap);
	c->nviol++;
	c->counts[k]++;
	if (c->nkept < CHK_KEEP)
		c->kept[c->nkept++] = v;
	if (c->on_violation)
		c->on_violation(c->on_violation_arg, &v);
}

unsigned chk_nr_violations(const struct chk *c)
{
	return c->nviol;
}

unsigned chk_nr_kept(const struct chk *c)
{
	return c->nkept;
}

const struct chk_violation *chk_violation(const struct chk *c, unsigned i)
{
	return i < c->nkept ? &c->kept[i] : NULL;
}

unsigned chk_count(const struct chk *c, enum chk_kind k)
{
	return (unsigned)k < CHK_NR ? c->counts[k] : 0;
}

uint64_t chk_judged(const struct chk *c)
{
	return c->judged;
}

uint64_t chk_unjudged(const struct chk *c)
{
	return c->unjudged;
}

void chk_on_violation(struct chk *c, void (*fn)(void *arg, const struct chk_violation *v),
		      void *arg)
{
	c->on_violation = fn;
	c->on_violation_arg = arg;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void chk_exposure(struct chk *c, struct chk_exposure *out)
{
	pthread_mutex_lock(&c->lock);
	*out = (struct chk_exposure){ .count = c->nexpo };
	if (c->nexpo) {
		qsort(c->expo, c->nexpo, sizeof(*c->expo), u64_cmp);
		out->median = c->expo[(c->nexpo - 1) / 2];
		out->p99 = c->expo[(c->nexpo * 99 + 99) / 100 - 1];
		out->max = c->expo[c->nexpo - 1];
	}
	pthread_mutex_unlock(&c->lock);
}

uint64_t chk_exposure_hist(struct chk *c, uint64_t *hist, unsigned n)
{
	uint64_t total;

	if (n > CHK_EXPO_BUCKETS)
		n = CHK_EXPO_BUCKETS;
	if (!n)
		return 0;
	memset(hist, 0, n * sizeof(*hist));
	pthread_mutex_lock(&c->lock);
	total = c->nexpo;
	for (size_t i = 0; i < c->nexpo; i++) {
		/* 0 ns in bucket 0; [2^(b-1), 2^b) in bucket b = bit length of the window. */
		unsigned b = c->expo[i] ? 64 - (unsigned)__builtin_clzll(c->expo[i]) : 0;

		hist[b < n ? b : n - 1]++;
	}
	pthread_mutex_unlock(&c->lock);
	return total;
}

void chk_set_unmap_revokes(struct chk *c, bool on)
{
	pthread_mutex_lock(&c->lock);
	c->unmap_revokes = on;
	pthread_mutex_unlock(&c->lock);
}

/* ---- Calls ---- */

static uint64_t vnow(struct chk *c)
{
	return c->now ? c->now(c->now_arg) : 0;
}

static struct flight *flight_find(struct chk *c, uint64_t id)
{
	for (unsigned i = 0; i < c->nflights; i++)
		if (c->flights[i].id == id)
			return &c->flights[i];
	return NULL;
}

static void flight_start(struct chk *c, uint64_t id)
{
	if (c->nflights < MAX_FLIGHTS)
		c->flights[c->nflights++] = (struct flight){ id, c->seq };
}

/* Entry time of call @id (forgotten afterwards); the current time if unknown. */
static uint64_t flight_end(struct chk *c, uint64_t id)
{
	struct flight *f = flight_find(c, id);
	uint64_t t = c->seq;

	if (f) {
		t = f->t_enter;
		*f = c->flights[--c->nflights];
	}
	return t;
}

/* Pages of [iova, iova+size), clamped to the 64-bit space; false for size 0. */
static bool page_span(uint64_t iova, uint64_t size, uint64_t *first, uint64_t *last)
{
	if (!size)
		return false;
	*first = iova >> PAGE_SHIFT;
	*last = (size - 1 > UINT64_MAX - iova ? UINT64_MAX : iova + size - 1) >> PAGE_SHIFT;
	return true;
}

static void map_enter(struct chk *c, unsigned d, const struct vtd_call *call)
{
	uint64_t first, last;

	if (!page_span(call->iova, call->size, &first, &last))
		return;
	for (uint64_t pg = first; pg <= last; pg++) {
		struct prec *o = newest(c, d, pg), *n;

		/* Mapped already: libvtd refuses with -EEXIST (unless that map failed). */
		if (o && o->t_unmap_enter == INF && !o->failed)
			continue;
		if (o && o->t_unmap_enter != INF && o->t_cov == INF)
			report(c, CHK_REUSE_BEFORE_FLUSH,
			       "map of IOVA 0x%" PRIx64 " in domain %s (-> pa 0x%" PRIx64
			       ") while its previous mapping (-> pa 0x%" PRIx64 ", unmapped by call %"
			       PRIu64 " at event %" PRIu64 ") is not yet covered by a completed flush",
			       pg << PAGE_SHIFT, c->doms[d].name,
			       call->pa + ((pg - first) << PAGE_SHIFT), o->pa, o->unmap_id,
			       o->t_unmap_exit == INF ? o->t_unmap_enter : o->t_unmap_exit);
		n = calloc(1, sizeof(*n));
		if (!n)
			continue;
		*n = (struct prec){
			.dom = d, .page = pg, .perm = call->perm, .map_id = call->id,
			.pa = (call->pa & ~PAGE_MASK) + ((pg - first) << PAGE_SHIFT),
			.t_map_enter = c->seq, .t_map_exit = INF, .t_unmap_enter = INF,
			.t_unmap_exit = INF, .t_cov = INF,
		};
		push_newest(c, n);
	}
}

static void map_exit(struct chk *c, unsigned d, const struct vtd_call *call)
{
	uint64_t first, last;

	if (!page_span(call->iova, call->size, &first, &last))
		return;
	for (uint64_t pg = first; pg <= last; pg++) {
		struct prec *p = newest(c, d, pg);

		if (!p || p->map_id != call->id)
			continue;
		if (call->ret)
			p->failed = true;	/* entries may be written: valid, never promised */
		else
			p->t_map_exit = c->seq;
	}
}

static void unmap_call(struct chk *c, unsigned d, const struct vtd_call *call)
{
	uint64_t first, last;

	if (!page_span(call->iova, call->size, &first, &last))
		return;
	for (uint64_t pg = first; pg <= last; pg++) {
		struct prec *p = newest(c, d, pg);

		if (!p)
			continue;
		if (!call->done && p->t_unmap_enter == INF) {
			p->t_unmap_enter = c->seq;
			p->unmap_id = call->id;
		} else if (call->done && p->unmap_id == call->id && p->t_unmap_exit == INF) {
			p->t_unmap_exit = c->seq;
			p->vt_unmap_exit = vnow(c);
			p->pnext = c->doms[d].pending;
			c->doms[d].pending = p;
		}
	}
}

static void expo_add(struct chk *c, uint64_t ns)
{
	if (c->nexpo == c->expocap) {
		size_t cap = c->expocap ? 2 * c->expocap : 256;
		uint64_t *n = realloc(c->expo, cap * sizeof(*n));

		if (!n)
			return;
		c->expo = n;
		c->expocap = cap;
	}
	c->expo[c->nexpo++] = ns;
}

/* A flush of [first, last] that entered at @t_enter completed. */
static void flush_done(struct chk *c, unsigned d, uint64_t id, uint64_t t_enter,
		       uint64_t first, uint64_t last)
{
	uint64_t vt = vnow(c);

	for (struct prec **pp = &c->doms[d].pending; *pp;) {
		struct prec *p = *pp;

		if (p->t_unmap_exit < t_enter && p->page >= first && p->page <= last) {
			p->t_cov = c->seq;
			p->cov_id = id;
			expo_add(c, vt - p->vt_unmap_exit);
			*pp = p->pnext;
		} else {
			pp = &p->pnext;
		}
	}
}

static struct stay *current_stay(struct chk *c, uint16_t sid)
{
	struct stay **sp = dev_stays(c, sid, false);

	return sp && *sp && (*sp)->t_leave == INF ? *sp : NULL;
}

/* A call on the device succeeded: what earlier failures left is settled. */
static void settle(struct stay *s)
{
	for (; s; s = s->older)
		if (s->t_left != INF)
			s->uncertain = false;
}

static void attach_call(struct chk *c, const struct vtd_call *call)
{
	uint16_t sid = vtd_device_sid(call->dev);
	struct stay **sp = dev_stays(c, sid, true);
	struct stay *cur = current_stay(c, sid), *n;
	unsigned d;

	if (!sp)
		return;
	if (call->kind == VTD_CALL_DETACH) {
		if (!cur)
			return;
		if (!call->done) {
			cur->t_leave = c->seq;
			cur->detach_id = call->id;
		}
		return;
	}
	d = dom_idx(c, call->dom);
	if (!call->done) {
		if (cur && cur->dom == d)
			return;		/* already there: nothing happens */
		if (cur) {
			cur->t_leave = c->seq;
			cur->detach_id = call->id;
		}
		n = calloc(1, sizeof(*n));
		if (!n)
			return;
		*n = (struct stay){ .dom = d, .attach_id = call->id, .t_enter = c->seq,
				    .t_exit = INF, .t_leave = INF, .t_left = INF };
		n->older = *sp;
		*sp = n;
		return;
	}
	/*
	 * Return of an attach: this call's stay, and the one it left. A
	 * failed call says where it left the device (@now). Refused with
	 * nothing changed: the new stay never was, the old one goes on.
	 * Otherwise the stays it ended are *uncertain*: a cache may still
	 * hold what the failed call could not invalidate, so translations
	 * through them are allowed, and no spurious-fault verdict is drawn,
	 * until a later call on the device succeeds.
	 */
	struct stay **np = NULL, *old = NULL;

	for (struct stay **pp = sp; *pp; pp = &(*pp)->older) {
		if ((*pp)->attach_id == call->id && (*pp)->t_exit == INF)
			np = pp;
		else if ((*pp)->detach_id == call->id && (*pp)->t_left == INF)
			old = *pp;
	}
	if (!call->ret) {
		settle(*sp);
		if (np)
			(*np)->t_exit = c->seq;
		if (old)
			old->t_left = c->seq;
		return;
	}
	if (old ? call->now == c->doms[old->dom].ptr : !call->now) {
		if (np) {
			struct stay *gone = *np;

			*np = gone->older;
			free(gone);
		}
		if (old) {
			old->t_leave = INF;
			old->detach_id = 0;
		}
		return;
	}
	if (np) {
		(*np)->t_exit = (*np)->t_leave = (*np)->t_left = c->seq;
		(*np)->uncertain = true;
	}
	if (old) {
		old->t_left = c->seq;
		old->uncertain = true;
	}
}

static void detach_exit(struct chk *c, const struct vtd_call *call)
{
	struct stay **sp = dev_stays(c, vtd_device_sid(call->dev), false);

	if (sp && !call->ret)
		settle(*sp);
	for (struct stay *s = sp ? *sp : NULL; s; s = s->older)
		if (s->detach_id == call->id && s->t_left == INF) {
			s->t_left = c->seq;
			s->uncertain |= call->ret != 0;
		}
}

static void iova_free_call(struct chk *c, unsigned d, const struct vtd_call *call)
{
	uint64_t first, last;

	if (!page_span(call->iova, call->size, &first, &last))
		return;
	for (uint64_t pg = first; pg <= last; pg++) {
		struct prec *p = newest(c, d, pg);

		if (p && p->t_unmap_exit != INF && p->t_cov == INF)
			report(c, CHK_REUSE_BEFORE_FLUSH,
			       "IOVA 0x%" PRIx64 " of domain %s released for reuse while its mapping "
			       "(-> pa 0x%" PRIx64 ", unmapped by call %" PRIu64 " at event %" PRIu64
			       ") is not yet covered by a completed flush",
			       pg << PAGE_SHIFT, c->doms[d].name, p->pa, p->unmap_id,
			       p->t_unmap_exit);
	}
}

void chk_call(struct chk *c, const struct vtd_call *call)
{
	unsigned d = 0;
	uint64_t first, last, t_enter;

	pthread_mutex_lock(&c->lock);
	c->seq++;
	if (call->dom)
		d = dom_idx(c, call->dom);
	switch (call->kind) {
	case VTD_CALL_MAP:
		if (call->done)
			map_exit(c, d, call);
		else
			map_enter(c, d, call);
		break;
	case VTD_CALL_UNMAP:
		unmap_call(c, d, call);
		break;
	case VTD_CALL_SYNC:
	case VTD_CALL_FLUSH_ALL:
	case VTD_CALL_FLUSH_RANGE:
		if (!call->done) {
			flight_start(c, call->id);
			break;
		}
		t_enter = flight_end(c, call->id);
		if (!call->ret && page_span(call->iova, call->size, &first, &last))
			flush_done(c, d, call->id, t_enter, first, last);
		break;
	case VTD_CALL_ATTACH:
		attach_call(c, call);
		break;
	case VTD_CALL_DETACH:
		if (call->done)
			detach_exit(c, call);
		else
			attach_call(c, call);
		break;
	case VTD_CALL_IOVA_FREE:
		iova_free_call(c, d, call);
		break;
	case VTD_CALL_NR:
		break;
	}
	pthread_mutex_unlock(&c->lock);
}

/* ---- Table pages ---- */

static struct freed **freed_slot(struct chk *c, uint64_t pa)
{
	struct freed **pp = &c->freed[(pa >> PAGE_SHIFT) & (ARRAY_SIZE(c->freed) - 1)];

	while (*pp && (*pp)->pa != pa)
		pp = &(*pp)->next;
	return pp;
}

void chk_page_alloc(struct chk *c, uint64_t pa)
{
	struct freed **pp;

	pthread_mutex_lock(&c->lock);
	pp = freed_slot(c, pa & ~PAGE_MASK);
	if (*pp) {
		struct freed *f = *pp;

		*pp = f->next;
		free(f);
	}
	pthread_mutex_unlock(&c->lock);
}

void chk_page_free(struct chk *c, uint64_t pa)
{
	struct freed **pp, *f;

	pthread_mutex_lock(&c->lock);
	c->seq++;
	pp = freed_slot(c, pa & ~PAGE_MASK);
	if (!*pp && (f = malloc(sizeof(*f)))) {
		*f = (struct freed){ pa & ~PAGE_MASK, c->seq, NULL };
		*pp = f;
	}
	pthread_mutex_unlock(&c->lock);
}

void chk_walk_read(struct chk *c, unsigned unit, uint16_t sid, uint64_t addr)
{
	struct freed *f;

	pthread_mutex_lock(&c->lock);
	f = *freed_slot(c, addr & ~PAGE_MASK);
	if (f)
		report(c, CHK_FREED_TABLE,
		       "walk for %02x:%02x.%x on unit %u read entry 0x%" PRIx64
		       " of table page 0x%" PRIx64 ", which libvtd freed at event %" PRIu64
		       " (a paging-structure cache still pointed into it)",
		       sid >> 8, (sid >> 3) & 0x1f, sid & 7, unit, addr, f->pa, f->seq);
	pthread_mutex_unlock(&c->lock);
}

/* ---- Accesses ---- */

void chk_access_begin(struct chk *c, const struct vtdm_access *a)
{
	pthread_mutex_lock(&c->lock);
	c->seq++;
	for (unsigned i = 0; i < MAX_INFLIGHT; i++)
		if (!c->acc[i].used) {
			c->acc[i] = (struct access){ a, a->sid, a->iova, c->seq, true };
			break;
		}
	pthread_mutex_unlock(&c->lock);
}

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a > b ? a : b;

	return m > c ? m : c;
}

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a < b ? a : b;

	return m < c ? m : c;	/* INF is open-ended */
}

static const char *perm_str(unsigned perm)
{
	static const char *const s[] = { "--", "R-", "-W", "RW" };

	return s[perm & 3];
}

static void judge(struct chk *c, const struct vtdm_access *a, const struct vtdm_xlate *x,
		  uint64_t tb, uint64_t te)
{
	struct stay **sp = dev_stays(c, a->sid, false);
	struct stay *stays = sp ? *sp : NULL;
	uint64_t page = a->iova >> PAGE_SHIFT;
	bool translated = !x->fault && (!a->ats || x->r || x->w);
	unsigned need = a->ats ? ((x->r ? VTD_PERM_R : 0) | (x->w ? VTD_PERM_W : 0))
			       : (a->write ? VTD_PERM_W : VTD_PERM_R);
	char what[160];

	snprintf(what, sizeof(what), "%s by %02x:%02x.%x of IOVA 0x%" PRIx64 " (events %" PRIu64
		 "-%" PRIu64 ")", a->ats ? "ATS translation" : a->write ? "DMA write" : "DMA read",
		 a->sid >> 8, (a->sid >> 3) & 0x1f, a->sid & 7, a->iova, tb, te);
	if (translated) {
		uint64_t q = (x->pa - (a->iova & PAGE_MASK)) & ~PAGE_MASK;
		const struct prec *stale = NULL, *weak = NULL;
		const struct stay *stale_stay = NULL;

		for (const struct stay *s = stays; s; s = s->older) {
			uint64_t s1 = s->t_left == INF || s->uncertain ? INF : s->t_left;

			for (const struct prec *p = newest(c, s->dom, page); p; p = p->older) {
				uint64_t p1 = p->t_cov;

				if (p->pa != q)
					continue;
				if (c->unmap_revokes && p->t_unmap_exit < p1)
					p1 = p->t_unmap_exit;
				/* One instant of the access when both the stay and the mapping held. */
				if (max3(tb, s->t_enter, p->t_map_enter) <= min3(te, s1, p1)) {
					if ((need & p->perm) == need)
						return;
					/* Too weak; another valid mapping may still allow it. */
					if (!weak)
						weak = p;
					continue;
				}
				if (!stale) {
					stale = p;
					stale_stay = s;
				}
			}
		}
		if (weak) {
			report(c, CHK_WRONG_XLATE,
			       "%s got pa 0x%" PRIx64 " with %s but domain %s maps it %s "
			       "(map call %" PRIu64 ")", what, x->pa,
			       a->ats ? perm_str(need) : a->write ? "write" : "read",
			       c->doms[weak->dom].name, perm_str(weak->perm), weak->map_id);
			return;
		}
		if (stale) {
			bool detached = stale_stay->t_left != INF && stale_stay->t_left < tb &&
					!(stale->t_cov != INF && stale->t_cov < tb);
			char outlived[200];

			if (detached)
				snprintf(outlived, sizeof(outlived),
					 "it outlived the device's detach/move (call %" PRIu64
					 ", returned at event %" PRIu64 ")",
					 stale_stay->detach_id, stale_stay->t_left);
			else if (c->unmap_revokes && stale->t_unmap_exit < tb &&
				 !(stale->t_cov < tb))
				snprintf(outlived, sizeof(outlived),
					 "it outlived unmap call %" PRIu64 " (returned at event %"
					 PRIu64 "), no flush had covered it yet (the exposure window, "
					 "judged as over at the unmap)", stale->unmap_id,
					 stale->t_unmap_exit);
			else
				snprintf(outlived, sizeof(outlived),
					 "it outlived unmap call %" PRIu64 " (returned at event %" PRIu64
					 ") and its flush (call %" PRIu64 ", completed at event %"
					 PRIu64 ")", stale->unmap_id, stale->t_unmap_exit,
					 stale->cov_id, stale->t_cov);
			report(c, x->from_atc ? CHK_STALE_DEVTLB : CHK_STALE_AFTER_UNMAP,
			       "%s translated%s through the stale mapping IOVA 0x%" PRIx64
			       " -> pa 0x%" PRIx64 " %s of domain %s (map call %" PRIu64 "): %s",
			       what, x->from_atc ? " by the device TLB" : "",
			       page << PAGE_SHIFT, stale->pa, perm_str(stale->perm),
			       c->doms[stale->dom].name, stale->map_id, outlived);
			return;
		}
		report(c, CHK_WRONG_XLATE,
		       "%s translated to pa 0x%" PRIx64 ", which no mapping of its domain%s "
		       "ever promised", what, x->pa, stays ? "s" : " (it was never attached)");
		return;
	}
	if (x->fault == VTDM_MASTER_ABORT)
		return;		/* translated, but to no RAM: the mapping's business */
	/* A fault: spurious if the page was promised for the whole access. */
	for (const struct stay *s = stays; s; s = s->older) {
		const struct prec *p;

		if (s->uncertain || s->t_exit == INF || s->t_exit > tb ||
		    (s->t_leave != INF && s->t_leave <= te))
			continue;
		p = newest(c, s->dom, page);
		while (p && p->t_map_enter > tb)
			p = p->older;
		if (!p || p->failed || p->t_map_exit == INF || p->t_map_exit > tb ||
		    (p->t_unmap_enter != INF && p->t_unmap_enter <= te))
			continue;
		if (!a->ats && (need & p->perm) != need)
			continue;
		report(c, CHK_SPURIOUS_FAULT,
		       "%s faulted (reason 0x%x) although domain %s mapped it -> pa 0x%" PRIx64
		       " %s (map call %" PRIu64 " returned at event %" PRIu64
		       ") and the device was attached (attach call %" PRIu64
		       " returned at event %" PRIu64 ")",
		       what, x->fault, c->doms[s->dom].name, p->pa, perm_str(p->perm), p->map_id,
		       p->t_map_exit, s->attach_id, s->t_exit);
		return;
	}
}

void chk_access_end(struct chk *c, const struct vtdm_access *a, const struct vtdm_xlate *x)
{
	uint64_t tb;

	pthread_mutex_lock(&c->lock);
	c->seq++;
	tb = c->seq;
	/* Its begin: the same struct (as the model passes), else the oldest alike. */
	int found = -1;

	for (int i = 0; i < MAX_INFLIGHT; i++) {
		const struct access *e = &c->acc[i];

		if (!e->used || e->sid != a->sid || e->iova != a->iova)
			continue;
		if (e->key == a) {
			found = i;
			break;
		}
		if (found < 0 || e->t_begin < c->acc[found].t_begin)
			found = i;
	}
	if (found >= 0) {
		tb = c->acc[found].t_begin;
		c->acc[found].used = false;
	}
	if (a->pasid != VTD_NO_PASID) {
		c->unjudged++;
	} else {
		c->judged++;
		judge(c, a, x, tb, c->seq);
	}
	pthread_mutex_unlock(&c->lock);
}
