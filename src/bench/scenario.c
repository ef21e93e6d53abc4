/*
 * scenario.c — the scenario language (docs/scenario.md): a parser that
 * checks a whole file, names included, into a list of steps, and an
 * executor that builds the model and libvtd from the declarations, runs
 * the steps and judges the expectations. One command table drives
 * parsing and usage messages.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/scenario.h"
#include "check/env.h"
#include "check/oracle.h"
#include "check/sched.h"
#include "fmt/bits.h"
#include "fmt/desc.h"
#include "fmt/entry.h"
#include "fmt/num.h"
#include "host/host.h"
#include "model/stats.h"
#include "vtd/vtd.h"
#include "vtd/dma.h"

#define NAME_MAX_LEN	15		/* unit and domain names: vtdm_unit_cfg.name */
#define MAX_TOKENS	64		/* words on one line */
#define TOKLIM		40		/* longest word quoted back in a message */
#define QTOK(s)		TOKLIM, (s), (strlen(s) > TOKLIM ? "..." : "")

/* libvtd's tables and queues live in this part of RAM; DMA data below it. */
#define POOL_BASE	(256ULL << 20)
#define POOL_SIZE	(256ULL << 20)
#define DMA_MAX		(1u << 20)	/* largest `dma` SIZE */
/* dma_map without pa=: fresh pages from this range, wrapping around. */
#define DMA_PA_BASE	(128ULL << 20)
#define DMA_PA_END	POOL_BASE
#define VAR_ITER	(-2)		/* $i: the repeat counter */

/* Operations first: `expect qi` and `expect delta` look at the last one. */
enum step_kind {
	ST_DOMAIN, ST_ATTACH, ST_DETACH, ST_MAP, ST_UNMAP, ST_FLUSH, ST_DMA,
	ST_DMA_MAP, ST_DMA_UNMAP, ST_ADVANCE, ST_REPEAT, ST_GATHER,
	ST_COUNTER, ST_DELTA, ST_QI, ST_MODE,
};

/* An IOVA operand: NUMBER, or $VAR[*SCALE][+OFFSET]. */
struct addr {
	int var;			/* -1: none; VAR_ITER: $i; else scenario.vars[] */
	uint64_t mul, off;
};

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
static const char *const op_names[] = { "==", "!=", "<", "<=", ">", ">=" };

/* One line of an `expect qi` block. */
struct qi_line {
	const char *type;	/* vtd_desc_type_name() of a type */
	unsigned unit;
	uint64_t qw[4];
};

struct step {
	enum step_kind kind;
	int line;
	unsigned dom, dev;		/* indexes into scenario.doms[] and .devs[] */
	struct addr ia;			/* map, unmap, dma, dma_unmap: the IOVA */
	uint64_t pa, size;
	bool pa_given;			/* dma_map: pa= */
	unsigned var;			/* dma_map: the VAR it binds */
	bool size_given;		/* dma_unmap: size= */
	int want_rc;			/* attach: expect=-ERRNO (0: success) */
	unsigned count, body_end;	/* repeat: N; repeat, gather: the step after the block */
	int mode;			/* expect mode */
	uint64_t unmapped;		/* unmap: bytes it must report */
	unsigned perm;
	bool write, want_fault;		/* dma */
	char *counter;			/* expect counter / delta */
	enum cmp_op op;
	uint64_t value;
	uint64_t before;		/* delta: the counter before its operation */
	unsigned op_step;		/* delta, qi: the step index of their operation */
	struct qi_line *qi;		/* expect qi */
	size_t nqi;
	int thread;			/* the thread block it is in; -1: set-up */
};

/* A `thread NAME cpu|dma BDF` block: its steps run as one task. */
struct thread {
	char name[NAME_MAX_LEN + 1];
	int line;
	bool dma;
	unsigned dev;			/* dma: the device whose engine it is */
	unsigned first, end;		/* its steps */
};

static bool is_op(const struct step *st)
{
	return st->kind <= ST_GATHER;
}

struct unit {
	char name[NAME_MAX_LEN + 1];
	int line;
	struct vtdm_unit_cfg cfg;
};

struct device {
	char bdf[8];			/* "bb:dd.f" */
	int line;
	unsigned unit;
	bool untrusted;			/* trusted=0 */
	struct vtdm_dev_cfg cfg;
};

struct domain {
	char name[NAME_MAX_LEN + 1];
	int line;
	enum vtd_stage stage;
	int levels;
	int unit;			/* unit=: scenario.units[] index; -1: every unit */
	bool dma_keys;			/* a DMA layer key was given: create it at once */
	int mode;			/* enum vtd_dma_mode; default lazy */
	bool force;
	uint64_t fq_size, fq_timeout, ranged_max;
};

/* A variable bound by `dma_map ... as VAR`. */
struct var {
	char name[NAME_MAX_LEN + 1];
	int line;			/* its first dma_map line */
};

struct scenario {
	struct unit units[VTDM_MAX_UNITS];
	unsigned nunits;
	struct device devs[VTDM_MAX_DEVICES];
	unsigned ndevs;
	struct domain *doms;
	unsigned ndoms, domcap;
	struct step *steps;
	unsigned nsteps, stepcap;
	struct var *vars;
	unsigned nvars, varcap;
	struct thread threads[SCHED_MAX_TASKS];
	unsigned nthreads;
	unsigned knobs;			/* `inject NAME` lines: enum vtd_knob bits */
	bool explore_set;		/* an `explore` line */
	unsigned runs;
	uint64_t seed;
	int preemptions;		/* -1: random schedules */
};

static const char *const mode_names[] = { "strict", "lazy", "lazy-ranged" };

/* ================================================================ parsing */

struct parser {
	struct scenario *s;
	struct scenario_error *err;
	int line;
	int first_step_line;		/* 0 until a step was parsed */
	int last_op;			/* step index of the last operation, -1 before */
	int qi_open;			/* step index of an unterminated expect qi, -1 */
	int repeat_open;		/* step index of an unterminated repeat, -1 */
	int gather_open;		/* step index of an unterminated gather, -1 */
	int thread_open;		/* index of an unterminated thread block, -1 */
};

/* One command line, split into positional words and KEY=VALUE words. */
struct cmdline {
	const struct cmd *cmd;
	char *arg[6];
	int nargs;
	char *key[MAX_TOKENS], *val[MAX_TOKENS];
	int nkeys;
};

struct cmd {
	const char *name;
	const char *usage;		/* after the name */
	int nargs;
	const char *const *keys;	/* allowed keys, NULL-terminated; NULL: any */
	int (*parse)(struct parser *p, struct cmdline *c);
	int optargs;			/* positional arguments that may follow */
};

static int perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	p->err->line = p->line;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *usage_of(const struct cmd *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", c->name, *c->usage ? " " : "", c->usage);
	return buf;
}

/* Grow *@arr (of *@cap elements of @size bytes) to hold one more than @n. */
static int grow(void **arr, unsigned *cap, unsigned n, size_t size)
{
	void *p;
	unsigned ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? 2 * *cap : 16;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	memset((char *)p + (size_t)*cap * size, 0, (size_t)(ncap - *cap) * size);
	*arr = p;
	*cap = ncap;
	return 0;
}

static struct step *new_step(struct parser *p, enum step_kind kind)
{
	struct scenario *s = p->s;
	struct step *st;

	if (grow((void **)&s->steps, &s->stepcap, s->nsteps, sizeof(*s->steps))) {
		perr(p, "out of memory");
		return NULL;
	}
	st = &s->steps[s->nsteps++];
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->line = p->line;
	st->thread = p->thread_open;
	if (!p->first_step_line)
		p->first_step_line = p->line;
	return st;
}

/* An operation: what `expect qi` and `expect delta` refer to. */
static struct step *new_op(struct parser *p, enum step_kind kind)
{
	struct step *st = new_step(p, kind);

	if (st)
		p->last_op = (int)p->s->nsteps - 1;
	return st;
}

static int parse_number(struct parser *p, const char *what, const char *s, uint64_t *v)
{
	int rc = num_parse(s, v, false);

	if (rc == -ERANGE)
		return perr(p, "%s '%.*s%s' does not fit in 64 bits", what, QTOK(s));
	if (rc)
		return perr(p, "%s '%.*s%s' is not a number (expected decimal or 0x hex)",
			    what, QTOK(s));
	return 0;
}

static int parse_size(struct parser *p, const char *what, const char *s, uint64_t *v)
{
	int rc = num_parse(s, v, true);

	if (rc == -ERANGE)
		return perr(p, "%s '%.*s%s' does not fit in 64 bits", what, QTOK(s));
	if (rc)
		return perr(p, "%s '%.*s%s' is not a size (expected a number, optionally "
			    "with K, M or G)", what, QTOK(s));
	return 0;
}

/*
 * First words of counter names (src/model/stats.h and libvtd's): a unit
 * named like one would make "NAME.x" ambiguous in `expect counter`.
 */
static bool reserved_name(const char *name)
{
	static const char *const words[] = {
		"model", "dev", "time", "qi", "tag", "wbf", "reginv", "clflush", "fault",
		"fq", "iova", "sync_map", "gather",
	};
	size_t n = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcmp(name, words[i]))
			return true;
	for (int i = 0; i < ST_NR; i++)
		if (!strncmp(vtdm_unit_stat_names[i], name, n) &&
		    (!vtdm_unit_stat_names[i][n] || vtdm_unit_stat_names[i][n] == '.'))
			return true;
	for (int i = 0; i < SD_NR; i++)
		if (!strncmp(vtdm_dev_stat_names[i], name, n) &&
		    (!vtdm_dev_stat_names[i][n] || vtdm_dev_stat_names[i][n] == '.'))
			return true;
	return false;
}

/* A unit or domain name: a letter, then letters, digits, '_' or '-'. */
static int check_name(struct parser *p, const char *what, const char *name, bool unit)
{
	size_t n = strlen(name);
	bool ok = n >= 1 && n <= NAME_MAX_LEN &&
		  ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'));

	for (size_t i = 1; ok && i < n; i++) {
		char ch = name[i];

		ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		     (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
	}
	if (!ok)
		return perr(p, "%s name '%.*s%s' is not a letter followed by letters, digits, "
			    "'_' or '-' (at most %d characters)", what, QTOK(name), NAME_MAX_LEN);
	if (unit && reserved_name(name))
		return perr(p, "iommu name '%s' is the first word of a counter name; "
			    "pick another (e.g. dmar0)", name);
	return 0;
}

static int find_unit(const struct scenario *s, const char *name)
{
	for (unsigned i = 0; i < s->nunits; i++)
		if (!strcmp(s->units[i].name, name))
			return (int)i;
	return -1;
}

static int find_domain(const struct scenario *s, const char *name)
{
	for (unsigned i = 0; i < s->ndoms; i++)
		if (!strcmp(s->doms[i].name, name))
			return (int)i;
	return -1;
}

static int lookup_unit(struct parser *p, const char *name, unsigned *idx)
{
	int i = find_unit(p->s, name);

	if (i < 0)
		return perr(p, "unknown iommu '%.*s%s'", QTOK(name));
	*idx = (unsigned)i;
	return 0;
}

static int lookup_domain(struct parser *p, const char *name, unsigned *idx)
{
	int i = find_domain(p->s, name);

	if (i < 0)
		return perr(p, "unknown domain '%.*s%s'", QTOK(name));
	*idx = (unsigned)i;
	return 0;
}

/* A declared device, by requester id in any of vtdm_parse_sid's forms. */
static int lookup_device(struct parser *p, const char *bdf, unsigned *idx)
{
	char msg[160];
	uint16_t sid;

	if (vtdm_parse_sid(bdf, &sid, msg, sizeof(msg)))
		return perr(p, "%s", msg);
	for (unsigned i = 0; i < p->s->ndevs; i++) {
		if (p->s->devs[i].cfg.sid == sid) {
			*idx = i;
			return 0;
		}
	}
	return perr(p, "unknown device '%.*s%s' (no device line declares it)", QTOK(bdf));
}

static int find_var(const struct scenario *s, const char *name)
{
	for (unsigned i = 0; i < s->nvars; i++)
		if (!strcmp(s->vars[i].name, name))
			return (int)i;
	return -1;
}

/* A variable that an earlier `dma_map ... as VAR` line binds, or $i in a repeat. */
static int lookup_var(struct parser *p, const char *name, int *idx)
{
	if (!strcmp(name, "i")) {
		if (p->repeat_open < 0)
			return perr(p, "$i outside a repeat block");
		*idx = VAR_ITER;
		return 0;
	}
	*idx = find_var(p->s, name);
	if (*idx < 0)
		return perr(p, "unknown variable '$%.*s%s' (no dma_map ... as %.*s%s line "
			    "before it)", QTOK(name), QTOK(name));
	return 0;
}

/* An IOVA: NUMBER, or $VAR, optionally *SCALE, optionally +OFFSET (sizes). */
static int parse_iova(struct parser *p, const char *what, const char *s, struct addr *a)
{
	char name[NAME_MAX_LEN + 2], num[48];
	const char *q;
	size_t n;

	a->var = -1;
	a->mul = 1;
	a->off = 0;
	if (s[0] != '$')
		return parse_number(p, what, s, &a->off);
	n = strcspn(s + 1, "*+");
	if (n == 0 || n > NAME_MAX_LEN)
		return perr(p, "%s '%.*s%s' is not $VAR[*SCALE][+OFFSET]", what, QTOK(s));
	memcpy(name, s + 1, n);
	name[n] = '\0';
	if (lookup_var(p, name, &a->var))
		return -1;
	q = s + 1 + n;
	if (*q == '*') {
		n = strcspn(q + 1, "+");
		if (n >= sizeof(num))
			return perr(p, "%s '%.*s%s' is not $VAR[*SCALE][+OFFSET]", what, QTOK(s));
		memcpy(num, q + 1, n);
		num[n] = '\0';
		if (parse_size(p, "SCALE", num, &a->mul))
			return -1;
		q += 1 + n;
	}
	if (*q == '+')
		return parse_size(p, "OFFSET", q + 1, &a->off);
	return 0;
}

static const char *key_val(const struct cmdline *c, const char *key)
{
	for (int i = 0; i < c->nkeys; i++)
		if (!strcmp(c->key[i], key))
			return c->val[i];
	return NULL;
}

/* Declarations come before the first step, which builds the machine. */
static int check_not_built(struct parser *p, const char *what)
{
	if (p->first_step_line)
		return perr(p, "%s after the machine was built (by line %d)", what,
			    p->first_step_line);
	return 0;
}

static int p_iommu(struct parser *p, struct cmdline *c)
{
	struct scenario *s = p->s;
	struct unit *u;
	char msg[160];
	int dup;

	if (check_not_built(p, "iommu") || check_name(p, "iommu", c->arg[0], true))
		return -1;
	dup = find_unit(s, c->arg[0]);
	if (dup >= 0)
		return perr(p, "iommu '%s' is declared twice (first at line %d)", c->arg[0],
			    s->units[dup].line);
	if (s->nunits == VTDM_MAX_UNITS)
		return perr(p, "more than %d iommus", VTDM_MAX_UNITS);
	u = &s->units[s->nunits];
	memset(u, 0, sizeof(*u));
	vtdm_unit_cfg_default(&u->cfg);
	snprintf(u->name, sizeof(u->name), "%s", c->arg[0]);
	snprintf(u->cfg.name, sizeof(u->cfg.name), "%s", c->arg[0]);
	u->line = p->line;
	for (int i = 0; i < c->nkeys; i++)
		if (vtdm_unit_cfg_set(&u->cfg, c->key[i], c->val[i], msg, sizeof(msg)))
			return perr(p, "%s", msg);
	if (vtdm_unit_cfg_check(&u->cfg, msg, sizeof(msg)))
		return perr(p, "iommu '%s': %s", u->name, msg);
	s->nunits++;
	return 0;
}

static int p_device(struct parser *p, struct cmdline *c)
{
	struct scenario *s = p->s;
	const char *iommu = key_val(c, "iommu");
	struct device *d;
	char msg[160], usage[224];
	uint16_t sid;

	if (check_not_built(p, "device"))
		return -1;
	if (vtdm_parse_sid(c->arg[0], &sid, msg, sizeof(msg)))
		return perr(p, "%s", msg);
	for (unsigned i = 0; i < s->ndevs; i++)
		if (s->devs[i].cfg.sid == sid)
			return perr(p, "device %s is declared twice (first at line %d)",
				    s->devs[i].bdf, s->devs[i].line);
	if (!iommu)
		return perr(p, "missing iommu=NAME (usage: %s)", usage_of(c->cmd, usage,
									    sizeof(usage)));
	if (s->ndevs == VTDM_MAX_DEVICES)
		return perr(p, "more than %d devices", VTDM_MAX_DEVICES);
	d = &s->devs[s->ndevs];
	memset(d, 0, sizeof(*d));
	if (lookup_unit(p, iommu, &d->unit))
		return -1;
	vtdm_dev_cfg_default(&d->cfg);
	d->cfg.sid = sid;
	d->cfg.unit = (int)d->unit;
	d->line = p->line;
	snprintf(d->bdf, sizeof(d->bdf), "%02x:%02x.%x", sid >> 8, (sid >> 3) & 0x1f, sid & 7);
	for (int i = 0; i < c->nkeys; i++) {
		if (!strcmp(c->key[i], "iommu"))
			continue;
		if (!strcmp(c->key[i], "trusted")) {
			if (strcmp(c->val[i], "0") && strcmp(c->val[i], "1"))
				return perr(p, "trusted '%.*s%s' is not 0 or 1", QTOK(c->val[i]));
			d->untrusted = c->val[i][0] == '0';
			continue;
		}
		if (vtdm_dev_cfg_set(&d->cfg, c->key[i], c->val[i], msg, sizeof(msg)))
			return perr(p, "%s", msg);
	}
	s->ndevs++;
	return 0;
}

static int p_domain(struct parser *p, struct cmdline *c)
{
	struct scenario *s = p->s;
	const char *stage = key_val(c, "stage"), *levels = key_val(c, "levels");
	const char *mode = key_val(c, "mode"), *force = key_val(c, "force");
	const char *unit = key_val(c, "unit");
	uint64_t fq_size = 0, fq_timeout = 0, ranged_max = 0;
	unsigned uidx = 0;
	int m = 1, dup;		/* VTD_DMA_LAZY: Linux's default on x86 */
	struct domain *d;

	if (check_name(p, "domain", c->arg[0], false))
		return -1;
	dup = find_domain(s, c->arg[0]);
	if (dup >= 0)
		return perr(p, "domain '%s' is declared twice (first at line %d)", c->arg[0],
			    s->doms[dup].line);
	if (stage && strcmp(stage, "1") && strcmp(stage, "2"))
		return perr(p, "stage '%.*s%s' is not 1 or 2", QTOK(stage));
	if (levels && strcmp(levels, "3") && strcmp(levels, "4") && strcmp(levels, "5"))
		return perr(p, "levels '%.*s%s' is not 3, 4 or 5", QTOK(levels));
	if (mode) {
		for (m = 0; m < (int)ARRAY_SIZE(mode_names) && strcmp(mode, mode_names[m]); m++)
			;
		if (m == (int)ARRAY_SIZE(mode_names))
			return perr(p, "mode '%.*s%s' is not strict, lazy or lazy-ranged", QTOK(mode));
	}
	if (force && strcmp(force, "0") && strcmp(force, "1"))
		return perr(p, "force '%.*s%s' is not 0 or 1", QTOK(force));
	if (unit && lookup_unit(p, unit, &uidx))
		return -1;
	if ((key_val(c, "fq_size") && parse_number(p, "fq_size", key_val(c, "fq_size"), &fq_size)) ||
	    (key_val(c, "fq_timeout") &&
	     parse_number(p, "fq_timeout", key_val(c, "fq_timeout"), &fq_timeout)) ||
	    (key_val(c, "ranged_max") &&
	     parse_number(p, "ranged_max", key_val(c, "ranged_max"), &ranged_max)))
		return -1;
	if (fq_size > 0xffffffffu || ranged_max > 0xffffffffu)
		return perr(p, "%s is more than 0xffffffff", fq_size > 0xffffffffu ? "fq_size" :
			    "ranged_max");
	if (grow((void **)&s->doms, &s->domcap, s->ndoms, sizeof(*s->doms)))
		return perr(p, "out of memory");
	if (!new_op(p, ST_DOMAIN))
		return -1;
	d = &s->doms[s->ndoms];
	snprintf(d->name, sizeof(d->name), "%s", c->arg[0]);
	d->line = p->line;
	d->stage = stage && !strcmp(stage, "1") ? VTD_STAGE_FIRST : VTD_STAGE_SECOND;
	d->levels = levels ? levels[0] - '0' : 0;
	d->unit = unit ? (int)uidx : -1;
	d->mode = m;
	d->force = force && force[0] == '1';
	d->fq_size = fq_size;
	d->fq_timeout = fq_timeout;
	d->ranged_max = ranged_max;
	d->dma_keys = mode || force || key_val(c, "fq_size") || key_val(c, "fq_timeout") ||
		      key_val(c, "ranged_max");
	s->steps[s->nsteps - 1].dom = s->ndoms++;
	return 0;
}

static const struct { int e; const char *name; } errno_names[] = {
	{ EINVAL, "EINVAL" }, { ENOMEM, "ENOMEM" }, { ENOSPC, "ENOSPC" },
	{ EBUSY, "EBUSY" }, { EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
	{ ENOENT, "ENOENT" }, { ETIMEDOUT, "ETIMEDOUT" }, { EIO, "EIO" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { EFAULT, "EFAULT" }, { ERANGE, "ERANGE" },
};

/* expect=ok or expect=-ERRNO: what the call must return. */
static int parse_want_rc(struct parser *p, const char *v, int *rc)
{
	*rc = 0;
	if (!v || !strcmp(v, "ok"))
		return 0;
	if (v[0] == '-')
		for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++)
			if (!strcmp(v + 1, errno_names[i].name)) {
				*rc = -errno_names[i].e;
				return 0;
			}
	return perr(p, "expect '%.*s%s' is not ok or -ERRNO (-EINVAL, -EBUSY, ...)", QTOK(v));
}

static int p_attach(struct parser *p, struct cmdline *c)
{
	unsigned dev, dom;
	struct step *st;
	int want;

	if (lookup_device(p, c->arg[0], &dev) || lookup_domain(p, c->arg[1], &dom) ||
	    parse_want_rc(p, key_val(c, "expect"), &want))
		return -1;
	st = new_op(p, ST_ATTACH);
	if (!st)
		return -1;
	st->dev = dev;
	st->dom = dom;
	st->want_rc = want;
	return 0;
}

static int p_detach(struct parser *p, struct cmdline *c)
{
	unsigned dev;
	struct step *st;

	if (lookup_device(p, c->arg[0], &dev))
		return -1;
	st = new_op(p, ST_DETACH);
	if (!st)
		return -1;
	st->dev = dev;
	return 0;
}

static int p_map(struct parser *p, struct cmdline *c)
{
	const char *perm = key_val(c, "perm");
	struct addr iova;
	uint64_t pa, size;
	unsigned dom, pm = VTD_PERM_RW;
	struct step *st;

	if (lookup_domain(p, c->arg[0], &dom) || parse_iova(p, "IOVA", c->arg[1], &iova) ||
	    parse_number(p, "PA", c->arg[2], &pa) || parse_size(p, "SIZE", c->arg[3], &size))
		return -1;
	if (perm) {
		if (!strcmp(perm, "r"))
			pm = VTD_PERM_R;
		else if (!strcmp(perm, "w"))
			pm = VTD_PERM_W;
		else if (strcmp(perm, "rw"))
			return perr(p, "perm '%.*s%s' is not r, w or rw", QTOK(perm));
	}
	/* Data pages stay out of libvtd's pool, so DMA never writes a table. */
	if (pa >= POOL_BASE || size > POOL_BASE - pa)
		return perr(p, "PA range 0x%" PRIx64 " + 0x%" PRIx64 " does not end below "
			    "256 MiB (DMA data lives there; libvtd's tables above)", pa, size);
	st = new_op(p, ST_MAP);
	if (!st)
		return -1;
	st->dom = dom;
	st->ia = iova;
	st->pa = pa;
	st->size = size;
	st->perm = pm;
	return 0;
}

static int p_unmap(struct parser *p, struct cmdline *c)
{
	const char *unmapped = key_val(c, "unmapped");
	struct addr iova;
	uint64_t size, done;
	unsigned dom;
	struct step *st;

	if (lookup_domain(p, c->arg[0], &dom) || parse_iova(p, "IOVA", c->arg[1], &iova) ||
	    parse_size(p, "SIZE", c->arg[2], &size))
		return -1;
	if (p->gather_open >= 0 && dom != p->s->steps[p->gather_open].dom)
		return perr(p, "unmap of domain '%s' inside the gather block of line %d, which "
			    "gathers for '%s'", p->s->doms[dom].name, p->s->steps[p->gather_open].line,
			    p->s->doms[p->s->steps[p->gather_open].dom].name);
	done = size;
	if (unmapped && parse_size(p, "unmapped", unmapped, &done))
		return -1;
	st = new_op(p, ST_UNMAP);
	if (!st)
		return -1;
	st->dom = dom;
	st->ia = iova;
	st->size = size;
	st->unmapped = done;
	return 0;
}

static int p_flush(struct parser *p, struct cmdline *c)
{
	unsigned dom;
	struct step *st;

	if (lookup_domain(p, c->arg[0], &dom))
		return -1;
	st = new_op(p, ST_FLUSH);
	if (!st)
		return -1;
	st->dom = dom;
	return 0;
}

static int p_dma(struct parser *p, struct cmdline *c)
{
	const char *expect = key_val(c, "expect");
	struct addr iova;
	uint64_t size;
	unsigned dev;
	bool write, fault = false;
	struct step *st;

	if (lookup_device(p, c->arg[0], &dev) || parse_iova(p, "IOVA", c->arg[1], &iova) ||
	    parse_size(p, "SIZE", c->arg[2], &size))
		return -1;
	if (size == 0 || size > DMA_MAX)
		return perr(p, "SIZE '%s' is not 1 byte to 1M", c->arg[2]);
	if (!strcmp(c->arg[3], "write"))
		write = true;
	else if (!strcmp(c->arg[3], "read"))
		write = false;
	else
		return perr(p, "direction '%.*s%s' is not read or write", QTOK(c->arg[3]));
	if (expect && !strcmp(expect, "fault"))
		fault = true;
	else if (expect && strcmp(expect, "ok"))
		return perr(p, "expect '%.*s%s' is not ok or fault", QTOK(expect));
	if (p->thread_open >= 0) {
		const struct thread *t = &p->s->threads[p->thread_open];

		if (expect)
			return perr(p, "expect= inside thread '%s' (the checker judges every DMA "
				    "of a thread)", t->name);
		if (dev != t->dev)
			return perr(p, "dma from %s inside the dma thread of %s (line %d)",
				    c->arg[0], p->s->devs[t->dev].bdf, t->line);
	}
	st = new_op(p, ST_DMA);
	if (!st)
		return -1;
	st->dev = dev;
	st->ia = iova;
	st->size = size;
	st->write = write;
	st->want_fault = fault;
	return 0;
}

static int p_dma_map(struct parser *p, struct cmdline *c)
{
	struct scenario *s = p->s;
	const char *perm = key_val(c, "perm"), *pa = key_val(c, "pa");
	unsigned dev, dir = 3;		/* VTD_DMA_BIDIRECTIONAL */
	uint64_t size, pav = 0;
	struct step *st;
	int v;

	if (lookup_device(p, c->arg[0], &dev) || parse_size(p, "SIZE", c->arg[1], &size))
		return -1;
	if (strcmp(c->arg[2], "as"))
		return perr(p, "'%.*s%s' where 'as' belongs (usage: dma_map BDF SIZE as VAR "
			    "[perm=r|w|rw] [pa=PA])", QTOK(c->arg[2]));
	if (check_name(p, "variable", c->arg[3], false))
		return -1;
	if (!strcmp(c->arg[3], "i"))
		return perr(p, "variable name 'i' is the repeat counter; pick another");
	if (size == 0 || size > DMA_PA_END - DMA_PA_BASE)
		return perr(p, "SIZE '%s' is not 1 byte to 128M", c->arg[1]);
	if (perm) {
		if (!strcmp(perm, "r"))
			dir = 1;	/* VTD_DMA_TO_DEVICE: the device reads */
		else if (!strcmp(perm, "w"))
			dir = 2;	/* VTD_DMA_FROM_DEVICE: the device writes */
		else if (strcmp(perm, "rw"))
			return perr(p, "perm '%.*s%s' is not r, w or rw", QTOK(perm));
	}
	if (pa && parse_number(p, "pa", pa, &pav))
		return -1;
	if (pa && (pav >= POOL_BASE || size > POOL_BASE - pav))
		return perr(p, "PA range 0x%" PRIx64 " + 0x%" PRIx64 " does not end below "
			    "256 MiB (DMA data lives there; libvtd's tables above)", pav, size);
	v = find_var(s, c->arg[3]);
	if (v < 0) {
		if (grow((void **)&s->vars, &s->varcap, s->nvars, sizeof(*s->vars)))
			return perr(p, "out of memory");
		v = (int)s->nvars++;
		snprintf(s->vars[v].name, sizeof(s->vars[v].name), "%s", c->arg[3]);
		s->vars[v].line = p->line;
	}
	st = new_op(p, ST_DMA_MAP);
	if (!st)
		return -1;
	st->dev = dev;
	st->size = size;
	st->perm = dir;
	st->pa = pav;
	st->pa_given = pa != NULL;
	st->var = (unsigned)v;
	return 0;
}

static int p_dma_unmap(struct parser *p, struct cmdline *c)
{
	const char *size = key_val(c, "size");
	struct step *st;
	struct addr a;
	unsigned dev;
	uint64_t sz = 0;
	int v;

	if (lookup_device(p, c->arg[0], &dev))
		return -1;
	if (c->arg[1][0] == '$' || (c->arg[1][0] >= '0' && c->arg[1][0] <= '9')) {
		if (parse_iova(p, "IOVA", c->arg[1], &a))
			return -1;
	} else {
		if (lookup_var(p, c->arg[1], &v))
			return -1;
		a = (struct addr){ .var = v, .mul = 1 };
	}
	if (size && parse_size(p, "size", size, &sz))
		return -1;
	if (!size && (a.var < 0 || a.mul != 1 || a.off))
		return perr(p, "dma_unmap of '%.*s%s' needs size= (only a bare VAR remembers "
			    "its size)", QTOK(c->arg[1]));
	st = new_op(p, ST_DMA_UNMAP);
	if (!st)
		return -1;
	st->dev = dev;
	st->ia = a;
	st->size = sz;
	st->size_given = size != NULL;
	return 0;
}

static int p_advance(struct parser *p, struct cmdline *c)
{
	struct step *st;
	uint64_t ns;

	if (parse_number(p, "NS", c->arg[0], &ns))
		return -1;
	st = new_op(p, ST_ADVANCE);
	if (!st)
		return -1;
	st->value = ns;
	return 0;
}

static int p_repeat(struct parser *p, struct cmdline *c)
{
	struct step *st;
	uint64_t n;

	if (parse_number(p, "N", c->arg[0], &n))
		return -1;
	if (n > 0xffffffffu)
		return perr(p, "N '%s' is more than 0xffffffff", c->arg[0]);
	st = new_op(p, ST_REPEAT);
	if (!st)
		return -1;
	st->count = (unsigned)n;
	p->repeat_open = (int)p->s->nsteps - 1;
	return 0;
}

static int p_gather(struct parser *p, struct cmdline *c)
{
	struct step *st;
	unsigned dom;

	if (lookup_domain(p, c->arg[0], &dom))
		return -1;
	st = new_op(p, ST_GATHER);
	if (!st)
		return -1;
	st->dom = dom;
	p->gather_open = (int)p->s->nsteps - 1;
	return 0;
}

static int p_mode(struct parser *p, struct cmdline *c)
{
	struct step *st;
	unsigned dom;
	int m;

	if (lookup_domain(p, c->arg[0], &dom))
		return -1;
	for (m = 0; m < (int)ARRAY_SIZE(mode_names) && strcmp(c->arg[1], mode_names[m]); m++)
		;
	if (m == (int)ARRAY_SIZE(mode_names))
		return perr(p, "mode '%.*s%s' is not strict, lazy or lazy-ranged", QTOK(c->arg[1]));
	st = new_step(p, ST_MODE);
	if (!st)
		return -1;
	st->dom = dom;
	st->mode = m;
	return 0;
}

static int parse_op(struct parser *p, const char *s, enum cmp_op *op)
{
	for (size_t i = 0; i < ARRAY_SIZE(op_names); i++) {
		if (!strcmp(s, op_names[i])) {
			*op = (enum cmp_op)i;
			return 0;
		}
	}
	return perr(p, "operator '%.*s%s' is not one of == != < <= > >=", QTOK(s));
}

static int p_counter_common(struct parser *p, struct cmdline *c, enum step_kind kind)
{
	struct step *st;
	enum cmp_op op = OP_EQ;
	uint64_t v;

	if (kind == ST_DELTA && p->last_op < 0)
		return perr(p, "expect delta before any operation (it compares a counter "
			    "across the operation before it)");
	if (parse_op(p, c->arg[1], &op) || parse_number(p, "VALUE", c->arg[2], &v))
		return -1;
	st = new_step(p, kind);
	if (!st)
		return -1;
	st->counter = strdup(c->arg[0]);
	if (!st->counter)
		return perr(p, "out of memory");
	st->op = op;
	st->value = v;
	st->op_step = p->last_op < 0 ? 0 : (unsigned)p->last_op;
	return 0;
}

static int p_counter(struct parser *p, struct cmdline *c)
{
	return p_counter_common(p, c, ST_COUNTER);
}

static int p_delta(struct parser *p, struct cmdline *c)
{
	return p_counter_common(p, c, ST_DELTA);
}

static int p_qi(struct parser *p, struct cmdline *c)
{
	struct step *st;

	(void)c;
	if (p->last_op < 0)
		return perr(p, "expect qi before any operation (it lists the descriptors "
			    "the operation before it submitted)");
	st = new_step(p, ST_QI);
	if (!st)
		return -1;
	st->op_step = (unsigned)p->last_op;
	p->qi_open = (int)p->s->nsteps - 1;
	return 0;
}

static int p_thread(struct parser *p, struct cmdline *c)
{
	struct scenario *s = p->s;
	struct thread *t;

	if (p->thread_open >= 0)
		return perr(p, "thread block inside the thread block of line %d",
			    s->threads[p->thread_open].line);
	if (p->repeat_open >= 0 || p->gather_open >= 0)
		return perr(p, "thread block inside a %s block",
			    p->repeat_open >= 0 ? "repeat" : "gather");
	if (check_name(p, "thread", c->arg[0], false))
		return -1;
	for (unsigned i = 0; i < s->nthreads; i++)
		if (!strcmp(s->threads[i].name, c->arg[0]))
			return perr(p, "thread '%s' is declared twice (first on line %d)",
				    c->arg[0], s->threads[i].line);
	if (s->nthreads == SCHED_MAX_TASKS)
		return perr(p, "more than %d threads", SCHED_MAX_TASKS);
	t = &s->threads[s->nthreads];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", c->arg[0]);
	t->line = p->line;
	if (!strcmp(c->arg[1], "dma")) {
		if (c->nargs < 3)
			return perr(p, "missing BDF (usage: thread NAME dma BDF)");
		if (lookup_device(p, c->arg[2], &t->dev))
			return -1;
		t->dma = true;
	} else if (!strcmp(c->arg[1], "cpu")) {
		if (c->nargs > 2)
			return perr(p, "unexpected argument '%.*s%s' (usage: thread NAME cpu)",
				    QTOK(c->arg[2]));
	} else {
		return perr(p, "thread kind '%.*s%s' is not cpu or dma", QTOK(c->arg[1]));
	}
	t->first = t->end = s->nsteps;
	p->thread_open = (int)s->nthreads++;
	return 0;
}

static int p_explore(struct parser *p, struct cmdline *c)
{
	struct scenario *s = p->s;
	const char *runs = key_val(c, "runs"), *seed = key_val(c, "seed");
	const char *pre = key_val(c, "preemptions");
	uint64_t v;

	if (s->explore_set)
		return perr(p, "a second explore line");
	if (p->thread_open >= 0)
		return perr(p, "explore inside a thread block");
	s->explore_set = true;
	if (runs) {
		if (parse_number(p, "runs", runs, &v))
			return -1;
		if (!v || v > 100000000)
			return perr(p, "runs '%s' is not 1 to 100000000", runs);
		s->runs = (unsigned)v;
	}
	if (seed && parse_number(p, "seed", seed, &s->seed))
		return -1;
	if (pre) {
		if (parse_number(p, "preemptions", pre, &v))
			return -1;
		if (v > 16)
			return perr(p, "preemptions '%s' is more than 16", pre);
		s->preemptions = (int)v;
	}
	return 0;
}

static int p_inject(struct parser *p, struct cmdline *c)
{
	int k = vtd_knob_lookup(c->arg[0]);

	if (k < 0)
		return perr(p, "unknown fault-injection knob '%.*s%s' (see docs/checker.md)",
			    QTOK(c->arg[0]));
	p->s->knobs |= 1u << k;
	return 0;
}

static const char *const no_keys[] = { NULL };
static const char *const domain_keys[] = {
	"stage", "levels", "mode", "force", "unit", "fq_size", "fq_timeout", "ranged_max", NULL,
};
static const char *const attach_keys[] = { "expect", NULL };
static const char *const dma_map_keys[] = { "perm", "pa", NULL };
static const char *const dma_unmap_keys[] = { "size", NULL };
static const char *const map_keys[] = { "perm", NULL };
static const char *const unmap_keys[] = { "unmapped", NULL };
static const char *const dma_keys[] = { "expect", NULL };
static const char *const explore_keys[] = { "runs", "seed", "preemptions", NULL };

static const struct cmd cmds[] = {
	{ "iommu", "NAME [KEY=VALUE]...", 1, NULL, p_iommu },
	{ "device", "BDF iommu=NAME [ats=0|1] [qdep=N] [trusted=0|1] [KEY=VALUE]...", 1, NULL,
	  p_device },
	{ "domain", "NAME [stage=1|2] [levels=3|4|5] [mode=strict|lazy|lazy-ranged] [force=0|1] "
	  "[unit=IOMMU] [fq_size=N] [fq_timeout=NS] [ranged_max=N]", 1, domain_keys, p_domain },
	{ "attach", "BDF DOMAIN [expect=ok|-ERRNO]", 2, attach_keys, p_attach },
	{ "detach", "BDF", 1, no_keys, p_detach },
	{ "map", "DOMAIN IOVA PA SIZE [perm=r|w|rw]", 4, map_keys, p_map },
	{ "unmap", "DOMAIN IOVA SIZE [unmapped=SIZE]", 3, unmap_keys, p_unmap },
	{ "flush", "DOMAIN", 1, no_keys, p_flush },
	{ "dma", "BDF IOVA SIZE read|write [expect=ok|fault]", 4, dma_keys, p_dma },
	{ "dma_map", "BDF SIZE as VAR [perm=r|w|rw] [pa=PA]", 4, dma_map_keys, p_dma_map },
	{ "dma_unmap", "BDF VAR|IOVA [size=SIZE]", 2, dma_unmap_keys, p_dma_unmap },
	{ "advance", "NS", 1, no_keys, p_advance },
	{ "repeat", "N", 1, no_keys, p_repeat },
	{ "gather", "DOMAIN", 1, no_keys, p_gather },
	{ "thread", "NAME cpu|dma [BDF]", 2, no_keys, p_thread, 1 },
	{ "explore", "[runs=N] [seed=S] [preemptions=K]", 0, explore_keys, p_explore },
	{ "inject", "KNOB", 1, no_keys, p_inject },
	{ "expect mode", "DOMAIN strict|lazy|lazy-ranged", 2, no_keys, p_mode },
	{ "expect counter", "NAME OP VALUE", 3, no_keys, p_counter },
	{ "expect delta", "NAME OP VALUE", 3, no_keys, p_delta },
	{ "expect qi", "", 0, no_keys, p_qi },
};

/* KEY=VALUE with KEY an identifier; "==", "<=" and ">=" are operators. */
static bool is_key(const char *t)
{
	const char *eq = strchr(t, '=');

	if (!eq || eq == t || !((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z') ||
				t[0] == '_'))
		return false;
	for (const char *q = t; q < eq; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '_'))
			return false;
	return true;
}

static bool key_allowed(const struct cmd *c, const char *key)
{
	if (!c->keys)
		return true;
	for (const char *const *k = c->keys; *k; k++)
		if (!strcmp(*k, key))
			return true;
	return false;
}

static const struct cmd *find_cmd(char **tok, int ntok, int *used)
{
	char name[32];

	*used = 1;
	if (!strcmp(tok[0], "expect")) {
		if (ntok < 2)
			return NULL;
		snprintf(name, sizeof(name), "expect %.20s", tok[1]);
		*used = 2;
	} else {
		snprintf(name, sizeof(name), "%.31s", tok[0]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static int parse_command(struct parser *p, char **tok, int ntok)
{
	struct cmdline c = { 0 };
	char usage[224];
	int used;

	c.cmd = find_cmd(tok, ntok, &used);
	if (!c.cmd && !strcmp(tok[0], "expect"))
		return ntok < 2 ? perr(p, "missing what to expect (usage: expect counter NAME OP "
				      "VALUE, expect delta NAME OP VALUE, expect qi, or expect "
				      "mode DOMAIN MODE)")
				: perr(p, "unknown expectation '%.*s%s' (expect counter, "
				       "expect delta, expect qi or expect mode)", QTOK(tok[1]));
	if (!c.cmd && !strcmp(tok[0], "end") && (p->repeat_open >= 0 || p->gather_open >= 0)) {
		int *open = p->gather_open >= 0 ? &p->gather_open : &p->repeat_open;

		if (ntok > 1)
			return perr(p, "unexpected argument '%.*s%s' (usage: end)", QTOK(tok[1]));
		p->s->steps[*open].body_end = p->s->nsteps;
		p->last_op = *open;
		*open = -1;
		return 0;
	}
	if (!c.cmd && !strcmp(tok[0], "end") && p->thread_open >= 0) {
		struct thread *t = &p->s->threads[p->thread_open];

		if (ntok > 1)
			return perr(p, "unexpected argument '%.*s%s' (usage: end)", QTOK(tok[1]));
		if (p->s->nsteps == t->first)
			return perr(p, "thread '%s' of line %d has no steps", t->name, t->line);
		t->end = p->s->nsteps;
		p->thread_open = -1;
		p->last_op = -1;
		return 0;
	}
	if (!c.cmd && !strcmp(tok[0], "end"))
		return perr(p, "'end' without 'expect qi', 'repeat', 'gather' or 'thread'");
	if (!c.cmd)
		return perr(p, "unknown command '%.*s%s' (commands: iommu, device, domain, attach, "
			    "detach, map, unmap, flush, dma, dma_map, dma_unmap, advance, repeat, "
			    "gather, expect)", QTOK(tok[0]));
	if (p->thread_open >= 0 && strcmp(tok[0], "thread")) {
		static const char *const ok_cpu[] = { "attach", "detach", "map", "unmap", "flush",
						      "dma_map", "dma_unmap", "advance", "repeat",
						      "gather", NULL };
		const struct thread *t = &p->s->threads[p->thread_open];
		bool ok = false;

		for (int i = 0; !t->dma && ok_cpu[i]; i++)
			ok |= !strcmp(tok[0], ok_cpu[i]);
		if (t->dma)
			ok = !strcmp(tok[0], "dma") || !strcmp(tok[0], "advance") ||
			     !strcmp(tok[0], "repeat");
		if (!ok)
			return perr(p, "'%.*s%s' inside %s thread '%s' of line %d (a cpu thread runs "
				    "attach, detach, map, unmap, flush, dma_map, dma_unmap, advance, "
				    "repeat and gather; a dma thread runs dma, advance and repeat)",
				    QTOK(tok[0]), t->dma ? "dma" : "cpu", t->name, t->line);
	} else if (p->s->nthreads && strcmp(tok[0], "thread") && strcmp(tok[0], "explore") &&
		   strcmp(tok[0], "inject")) {
		return perr(p, "'%.*s%s' after the thread blocks (only thread, explore and inject "
			    "lines may follow them)", QTOK(tok[0]));
	}
	if (p->gather_open >= 0 && strcmp(tok[0], "unmap"))
		return perr(p, "'%s' inside the gather block of line %d (only unmap lines gather)",
			    tok[0], p->s->steps[p->gather_open].line);
	if (p->repeat_open >= 0 && (!strcmp(tok[0], "expect") || !strcmp(tok[0], "repeat") ||
				    !strcmp(tok[0], "domain") || !strcmp(tok[0], "gather")))
		return perr(p, "'%s' inside the repeat block of line %d (only attach, detach, "
			    "map, unmap, flush, dma, dma_map, dma_unmap and advance repeat)",
			    !strcmp(tok[0], "expect") ? "expect" : tok[0],
			    p->s->steps[p->repeat_open].line);
	usage_of(c.cmd, usage, sizeof(usage));
	for (int i = used; i < ntok; i++) {
		char *t = tok[i];

		if (is_key(t)) {
			char *eq = strchr(t, '=');

			*eq = '\0';
			if (!key_allowed(c.cmd, t))
				return perr(p, "unknown key '%.*s%s' (usage: %s)", QTOK(t), usage);
			if (key_val(&c, t))
				return perr(p, "key '%.*s%s' is given twice", QTOK(t));
			c.key[c.nkeys] = t;
			c.val[c.nkeys++] = eq + 1;
		} else if (c.nargs == c.cmd->nargs + c.cmd->optargs) {
			return perr(p, "unexpected argument '%.*s%s' (usage: %s)", QTOK(t), usage);
		} else {
			c.arg[c.nargs++] = t;
		}
	}
	if (c.nargs < c.cmd->nargs) {
		const char *w = c.cmd->usage;
		size_t n;

		for (int k = c.nargs; k > 0; k--)
			w = strchr(w, ' ') + 1;
		n = strcspn(w, " ");
		return perr(p, "missing %.*s (usage: %s)", (int)n, w, usage);
	}
	return c.cmd->parse(p, &c);
}

/* One line of an `expect qi` block: TYPE UNIT: QW0 QW1 QW2 QW3, or `end`. */
static int parse_qi_line(struct parser *p, char **tok, int ntok)
{
	struct step *st = &p->s->steps[p->qi_open];
	const char *usage = "TYPE UNIT: QW0 QW1 QW2 QW3, or end";
	struct qi_line q = { 0 };
	const char *type = NULL;
	size_t n;
	int dummy;

	if (!strcmp(tok[0], "end")) {
		if (ntok > 1)
			return perr(p, "unexpected argument '%.*s%s' (usage: end)", QTOK(tok[1]));
		p->qi_open = -1;
		return 0;
	}
	for (unsigned t = 0; t < DESC_NR_TYPES; t++)
		if (!strcmp(tok[0], vtd_desc_type_name(t)) && strcmp(tok[0], "unknown"))
			type = vtd_desc_type_name(t);
	if (!type) {
		if (find_cmd(tok, ntok, &dummy) || !strcmp(tok[0], "expect"))
			return perr(p, "'%s' inside the expect qi block of line %d (missing 'end'?)",
				    tok[0], st->line);
		return perr(p, "'%.*s%s' is not a descriptor type (cc_inv, iotlb_inv, "
			    "dev_tlb_inv, iec_inv, inv_wait, p_iotlb_inv, pc_inv, p_dev_tlb_inv, "
			    "page_grp_resp, page_strm_resp)", QTOK(tok[0]));
	}
	q.type = type;
	if (ntok < 2)
		return perr(p, "missing UNIT: (usage: %s)", usage);
	n = strlen(tok[1]);
	if (n < 2 || tok[1][n - 1] != ':')
		return perr(p, "'%.*s%s' is not a unit name followed by ':' (usage: %s)",
			    QTOK(tok[1]), usage);
	tok[1][n - 1] = '\0';
	if (lookup_unit(p, tok[1], &q.unit))
		return -1;
	for (int i = 0; i < 4; i++) {
		char what[8];

		snprintf(what, sizeof(what), "QW%d", i);
		if (ntok < 3 + i)
			return perr(p, "missing %s (usage: %s)", what, usage);
		if (parse_number(p, what, tok[2 + i], &q.qw[i]))
			return -1;
	}
	if (ntok > 6)
		return perr(p, "unexpected argument '%.*s%s' (usage: %s)", QTOK(tok[6]), usage);
	if (st->nqi % 16 == 0) {
		struct qi_line *nq = realloc(st->qi, (st->nqi + 16) * sizeof(*nq));

		if (!nq)
			return perr(p, "out of memory");
		st->qi = nq;
	}
	st->qi[st->nqi++] = q;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	char *tok[MAX_TOKENS], *save, *t;
	int ntok = 0;

	line[strcspn(line, "#")] = '\0';
	for (t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (ntok == MAX_TOKENS)
			return perr(p, "more than %d words on one line", MAX_TOKENS);
		tok[ntok++] = t;
	}
	if (!ntok)
		return 0;
	if (p->qi_open >= 0)
		return parse_qi_line(p, tok, ntok);
	return parse_command(p, tok, ntok);
}

struct scenario *scenario_parse(const char *text, size_t len, struct scenario_error *err)
{
	struct parser p = { .err = err, .last_op = -1, .qi_open = -1, .repeat_open = -1,
			    .gather_open = -1, .thread_open = -1 };
	size_t pos = 0;
	char *line = NULL;

	err->line = 0;
	err->msg[0] = '\0';
	p.s = calloc(1, sizeof(*p.s));
	if (!p.s) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return NULL;
	}
	p.s->preemptions = -1;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p.line++;
		if (memchr(text + pos, '\0', n)) {
			perr(&p, "the line holds a NUL byte (not a text file?)");
			goto fail;
		}
		line = malloc(n + 1);
		if (!line) {
			perr(&p, "out of memory");
			goto fail;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		if (parse_line(&p, line))
			goto fail;
		free(line);
		line = NULL;
		pos += n + 1;
	}
	if (p.qi_open >= 0) {
		p.line = p.s->steps[p.qi_open].line;
		perr(&p, "expect qi block has no 'end'");
		goto fail;
	}
	if (p.repeat_open >= 0 || p.gather_open >= 0) {
		p.line = p.s->steps[p.repeat_open >= 0 ? p.repeat_open : p.gather_open].line;
		perr(&p, "%s block has no 'end'", p.repeat_open >= 0 ? "repeat" : "gather");
		goto fail;
	}
	if (p.thread_open >= 0) {
		p.line = p.s->threads[p.thread_open].line;
		perr(&p, "thread block has no 'end'");
		goto fail;
	}
	return p.s;
fail:
	free(line);
	scenario_free(p.s);
	return NULL;
}

void scenario_free(struct scenario *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->nsteps; i++) {
		free(s->steps[i].counter);
		free(s->steps[i].qi);
	}
	free(s->steps);
	free(s->doms);
	free(s->vars);
	free(s);
}

unsigned scenario_nr_steps(const struct scenario *s)
{
	return s->nsteps;
}

/* ================================================================ JSON */

/* @s as a JSON string: escapes, and U+FFFD for bytes that are not UTF-8. */
static void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		unsigned char ch = *p;
		int n = ch < 0x80 ? 0 : (ch & 0xe0) == 0xc0 ? 1 : (ch & 0xf0) == 0xe0 ? 2 :
			(ch & 0xf8) == 0xf0 ? 3 : -1;
		bool ok = n >= 0 && !(ch == 0xc0 || ch == 0xc1 || ch > 0xf4);

		for (int i = 1; ok && i <= n; i++)
			ok = (p[i] & 0xc0) == 0x80;
		/* Overlong three- and four-byte forms, surrogates, above U+10FFFF. */
		if (ok && n == 2)
			ok = !(ch == 0xe0 && p[1] < 0xa0) && !(ch == 0xed && p[1] >= 0xa0);
		if (ok && n == 3)
			ok = !(ch == 0xf0 && p[1] < 0x90) && !(ch == 0xf4 && p[1] >= 0x90);
		if (!ok) {
			fputs("\\ufffd", f);
			p++;
			continue;
		}
		if (n > 0) {
			fwrite(p, 1, (size_t)n + 1, f);
			p += n + 1;
			continue;
		}
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
		p++;
	}
	fputc('"', f);
}

void scenario_json_error(FILE *out, const char *name, const struct scenario_error *err)
{
	fputs("{\"scenario\": ", out);
	json_str(out, name);
	fprintf(out, ", \"ok\": false, \"error\": {\"line\": %d, \"message\": ", err->line);
	json_str(out, err->msg);
	fputs("}, \"failures\": [], \"counters\": {}}\n", out);
}

/* ================================================================ running */

/* A qi_submit event of the operation running now. */
struct qi_event {
	char unit[NAME_MAX_LEN + 1];
	uint64_t qw[4];
};

struct failure {
	int line;
	char *msg;
};

struct run {
	struct scenario *s;
	const char *name;
	FILE *out, *err;
	unsigned flags;

	struct vtdm *m;
	struct vtd_host *h;
	struct vtd *v;
	struct vtd_unit *units[VTDM_MAX_UNITS];
	struct vtd_device *devs[VTDM_MAX_DEVICES];
	struct vtd_domain **doms;
	struct vtd_dma **dmas;		/* per domain; created on first use */
	int devdom[VTDM_MAX_DEVICES];	/* the domain a device is attached to, or -1 */
	struct { uint64_t iova, size; bool set; } *vars;
	uint64_t iter;			/* $i */
	uint64_t next_pa;		/* dma_map without pa= */

	struct qi_event *ev;		/* qi_submit events of the last operation */
	size_t nev, evcap;
	bool ev_lost;			/* out of memory while recording */

	unsigned failed;		/* expectations that did not hold */
	struct failure *fails;		/* their messages, for JSON */
	unsigned nfails, failcap;
	struct scenario_error error;	/* the error that stopped the run, if any */
	bool stopped;

	struct chk_env env;		/* libvtd's ops: the host's, through the checker */
	struct chk *oracle;
	struct sched *sched;		/* exploring: the scheduler of this run */
};

static void on_event(void *arg, const struct vtd_event *ev)
{
	struct run *r = arg;

	if (r->flags & SCENARIO_TRACE) {
		char buf[320];

		vtd_event_format(buf, sizeof(buf), ev);
		fprintf(r->out, "%s\n", buf);
	}
	if (ev->type != VTD_EV_QI_SUBMIT)
		return;
	if (r->nev == r->evcap) {
		size_t cap = r->evcap ? 2 * r->evcap : 32;
		struct qi_event *n = realloc(r->ev, cap * sizeof(*n));

		if (!n) {
			r->ev_lost = true;
			return;
		}
		r->ev = n;
		r->evcap = cap;
	}
	snprintf(r->ev[r->nev].unit, sizeof(r->ev[r->nev].unit), "%s", ev->unit);
	memcpy(r->ev[r->nev].qw, ev->qw, sizeof(ev->qw));
	r->nev++;
}

/* A line that stops the run: bad arguments for libvtd or the model. */
static enum scenario_status run_error(struct run *r, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum scenario_status run_error(struct run *r, int line, const char *fmt, ...)
{
	va_list ap;

	r->error.line = line;
	va_start(ap, fmt);
	vsnprintf(r->error.msg, sizeof(r->error.msg), fmt, ap);
	va_end(ap);
	r->stopped = true;
	if (line)
		fprintf(r->err, "%s:%d: %s\n", r->name, line, r->error.msg);
	else
		fprintf(r->err, "%s: %s\n", r->name, r->error.msg);
	return SCENARIO_ERROR;
}

static const char *errno_name(int e)
{
	for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++)
		if (errno_names[i].e == e)
			return errno_names[i].name;
	return NULL;
}

static enum scenario_status call_error(struct run *r, int line, const char *call, int rc)
{
	const char *n = errno_name(-rc);

	if (n)
		return run_error(r, line, "%s failed: -%s (%s)", call, n, strerror(-rc));
	return run_error(r, line, "%s failed: %d (%s)", call, rc, strerror(-rc));
}

/* An expectation that did not hold: reported, and the run goes on. */
static void fail(struct run *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(struct run *r, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	r->failed++;
	fprintf(r->err, "%s:%d: expectation failed: %s\n", r->name, line,
		msg ? msg : "(out of memory for the message)");
	/* The JSON list may come up short on memory; the status never does. */
	if (msg && !grow((void **)&r->fails, &r->failcap, r->nfails, sizeof(*r->fails)))
		r->fails[r->nfails++] = (struct failure){ line, msg };
	else
		free(msg);
}

static uint64_t oracle_now(void *arg)
{
	return vtdm_now(arg);
}

static enum scenario_status build(struct run *r)
{
	struct scenario *s = r->s;
	struct vtdm_machine_cfg mc;
	int rc;

	vtdm_machine_cfg_default(&mc);
	r->m = vtdm_create(&mc);
	if (!r->m)
		return run_error(r, 0, "cannot create the machine (out of memory?)");
	for (unsigned i = 0; i < s->nunits; i++) {
		rc = vtdm_add_unit(r->m, &s->units[i].cfg);
		if (rc < 0)
			return call_error(r, s->units[i].line, "vtdm_add_unit", rc);
	}
	for (unsigned i = 0; i < s->ndevs; i++) {
		rc = vtdm_add_device(r->m, &s->devs[i].cfg);
		if (rc < 0)
			return call_error(r, s->devs[i].line, "vtdm_add_device", rc);
	}
	r->h = vtd_host_create(r->m, POOL_BASE, POOL_SIZE);
	if (!r->h)
		return run_error(r, 0, "vtd_host_create failed");
	vtd_host_set_trace(r->h, on_event, r);
	/* The oracle judges every run; libvtd reaches the host through it. */
	r->oracle = chk_create(oracle_now, r->m);
	if (!r->oracle)
		return run_error(r, 0, "out of memory");
	r->env = (struct chk_env){ .inner = vtd_host_ops(), .inner_ctx = r->h, .m = r->m,
				   .oracle = r->oracle, .s = r->sched };
	{
		struct vtdm_hooks hooks;

		chk_env_hooks(&r->env, &hooks);
		vtdm_set_hooks(r->m, &hooks);
	}
	r->v = vtd_create(chk_env_ops(), &r->env);
	if (!r->v)
		return run_error(r, 0, "vtd_create failed");
	for (int k = 0; k < VTD_KNOB_NR; k++)
		if (s->knobs >> k & 1)
			vtd_knob_set(r->v, (enum vtd_knob)k, true);
	for (unsigned i = 0; i < s->nunits; i++) {
		struct vtd_unit_opts o = { .name = s->units[i].name, .scalable = s->units[i].cfg.sm };

		rc = vtd_unit_add(r->v, vtdm_unit_base(i), &o, &r->units[i]);
		if (rc)
			return call_error(r, s->units[i].line, "vtd_unit_add", rc);
	}
	for (unsigned i = 0; i < s->ndevs; i++) {
		struct device *d = &s->devs[i];
		struct vtd_device_opts o = { .ats = d->cfg.ats, .qdep = d->cfg.qdep };

		o.untrusted = d->untrusted;
		rc = vtd_device_add(r->v, r->units[d->unit], d->cfg.sid, &o, &r->devs[i]);
		if (rc)
			return call_error(r, d->line, "vtd_device_add", rc);
	}
	if (s->ndoms) {
		r->doms = calloc(s->ndoms, sizeof(*r->doms));
		r->dmas = calloc(s->ndoms, sizeof(*r->dmas));
		if (!r->dmas)
			return run_error(r, 0, "out of memory");
		if (!r->doms)
			return run_error(r, 0, "out of memory");
	}
	if (s->nvars) {
		r->vars = calloc(s->nvars, sizeof(*r->vars));
		if (!r->vars)
			return run_error(r, 0, "out of memory");
	}
	for (unsigned i = 0; i < VTDM_MAX_DEVICES; i++)
		r->devdom[i] = -1;
	r->next_pa = DMA_PA_BASE;
	return SCENARIO_OK;
}

static void teardown(struct run *r)
{
	if (r->h)
		vtd_host_set_trace(r->h, NULL, NULL);
	for (unsigned i = 0; r->dmas && i < r->s->ndoms; i++)
		if (r->dmas[i])
			vtd_dma_destroy(r->dmas[i]);
	free(r->dmas);
	free(r->vars);
	vtd_destroy(r->v);
	vtd_host_destroy(r->h);
	if (r->m)
		vtdm_destroy(r->m);
	chk_destroy(r->oracle);
	free(r->doms);
	free(r->ev);
	for (unsigned i = 0; i < r->nfails; i++)
		free(r->fails[i].msg);
	free(r->fails);
}

/* libvtd's counter, else the model's; "model.NAME" is always the model's. */
/* The checker's counters: checker.judged, checker.KIND, checker.exposure.*. */
static void checker_stats(struct run *r, void (*fn)(void *arg, const char *name, uint64_t v),
			  void *arg)
{
	struct chk_exposure ex;
	char name[64];

	if (!r->oracle)
		return;
	chk_exposure(r->oracle, &ex);
	fn(arg, "checker.judged", chk_judged(r->oracle));
	fn(arg, "checker.unjudged", chk_unjudged(r->oracle));
	fn(arg, "checker.violations", chk_nr_violations(r->oracle));
	for (int k = 0; k < CHK_NR; k++) {
		snprintf(name, sizeof(name), "checker.%s", chk_kind_name((enum chk_kind)k));
		fn(arg, name, chk_count(r->oracle, (enum chk_kind)k));
	}
	fn(arg, "checker.exposure.count", ex.count);
	fn(arg, "checker.exposure.median", ex.median);
	fn(arg, "checker.exposure.p99", ex.p99);
	fn(arg, "checker.exposure.max", ex.max);
}

struct find_stat {
	const char *name;
	uint64_t val;
	bool found;
};

static void find_stat_fn(void *arg, const char *name, uint64_t v)
{
	struct find_stat *f = arg;

	if (!strcmp(f->name, name)) {
		f->val = v;
		f->found = true;
	}
}

static int counter_read(struct run *r, const char *name, uint64_t *v)
{
	if (!strncmp(name, "checker.", 8)) {
		struct find_stat f = { .name = name };

		checker_stats(r, find_stat_fn, &f);
		*v = f.val;
		return f.found ? 0 : -ENOENT;
	}
	if (!strncmp(name, "model.", 6))
		return vtdm_stat(r->m, name + 6, v);
	if (!vtd_stat(r->v, name, v))
		return 0;
	return vtdm_stat(r->m, name, v);
}

static bool compare(uint64_t a, enum cmp_op op, uint64_t b)
{
	switch (op) {
	case OP_EQ: return a == b;
	case OP_NE: return a != b;
	case OP_LT: return a < b;
	case OP_LE: return a <= b;
	case OP_GT: return a > b;
	case OP_GE: return a >= b;
	}
	return false;
}

static enum scenario_status unknown_counter(struct run *r, const struct step *st)
{
	return run_error(r, st->line, "unknown counter '%.*s%s' (vtdkit run --stats lists them)",
			 QTOK(st->counter));
}

/* Before an operation: the values its `expect delta` lines compare against. */
static enum scenario_status snapshot_deltas(struct run *r, unsigned op)
{
	const struct step *o = &r->s->steps[op];

	/* A repeat's expectations follow its block. */
	for (unsigned i = o->kind == ST_REPEAT || o->kind == ST_GATHER ? o->body_end : op + 1;
	     i < r->s->nsteps; i++) {
		struct step *st = &r->s->steps[i];

		if (st->kind == ST_DELTA && st->op_step == op &&
		    counter_read(r, st->counter, &st->before))
			return unknown_counter(r, st);
		if (is_op(st))
			break;
	}
	return SCENARIO_OK;
}

static void fmt_qi(char *buf, size_t len, const char *type, const char *unit, const uint64_t *qw)
{
	snprintf(buf, len, "%s %s: 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64, type,
		 unit, qw[0], qw[1], qw[2], qw[3]);
}

static const char *ev_type(const struct qi_event *e)
{
	struct vtd_desc d = { { e->qw[0], e->qw[1], e->qw[2], e->qw[3] } };

	return vtd_desc_type_name(desc_type(&d));
}

static void check_qi(struct run *r, const struct step *st)
{
	const struct step *op = &r->s->steps[st->op_step];
	size_t n = st->nqi > r->nev ? st->nqi : r->nev, first = n, len = 0, cap;
	char line[256], *msg;

	for (size_t i = 0; i < n && first == n; i++) {
		const struct qi_line *q = i < st->nqi ? &st->qi[i] : NULL;
		const struct qi_event *e = i < r->nev ? &r->ev[i] : NULL;

		if (!q || !e || strcmp(q->type, ev_type(e)) ||
		    strcmp(r->s->units[q->unit].name, e->unit) || memcmp(q->qw, e->qw, sizeof(q->qw)))
			first = i;
	}
	if (r->ev_lost) {
		fail(r, st->line, "out of memory while recording the descriptors of line %d",
		     op->line);
		return;
	}
	if (first == n)
		return;
	/* Both lists, one descriptor per line, so they can be compared by eye. */
	cap = 128 + (st->nqi + r->nev) * (sizeof(line) + 8);
	msg = malloc(cap);
	if (!msg) {
		fail(r, st->line, "the descriptors of line %d differ from the %zu expected "
		     "(first at #%zu)", op->line, st->nqi, first + 1);
		return;
	}
	len += (size_t)snprintf(msg + len, cap - len, "the descriptors line %d submitted "
				"differ from the expected ones at #%zu\n  expected (%zu):",
				op->line, first + 1, st->nqi);
	for (size_t i = 0; i < st->nqi; i++) {
		fmt_qi(line, sizeof(line), st->qi[i].type, r->s->units[st->qi[i].unit].name,
		       st->qi[i].qw);
		len += (size_t)snprintf(msg + len, cap - len, "\n    %s", line);
	}
	len += (size_t)snprintf(msg + len, cap - len, "\n  submitted (%zu):", r->nev);
	for (size_t i = 0; i < r->nev; i++) {
		fmt_qi(line, sizeof(line), ev_type(&r->ev[i]), r->ev[i].unit, r->ev[i].qw);
		len += (size_t)snprintf(msg + len, cap - len, "\n    %s", line);
	}
	fail(r, st->line, "%s", msg);
	free(msg);
}

/* The value of an IOVA operand; a variable whose dma_map has not run stops the run. */
static enum scenario_status eval_iova(struct run *r, const struct step *st, const struct addr *a,
				      uint64_t *iova)
{
	uint64_t base = 0;

	if (a->var == VAR_ITER) {
		base = r->iter;
	} else if (a->var >= 0) {
		if (!r->vars[a->var].set)
			return run_error(r, st->line, "variable '$%s' has no value (its dma_map "
					 "line %d has not run)", r->s->vars[a->var].name,
					 r->s->vars[a->var].line);
		base = r->vars[a->var].iova;
	}
	*iova = base * a->mul + a->off;
	return SCENARIO_OK;
}

/* The domain's DMA layer, created on first use; its note printed once. */
static enum scenario_status get_dma(struct run *r, int line, unsigned dom, struct vtd_dma **out)
{
	const struct domain *d = &r->s->doms[dom];
	struct vtd_dma_opts o = {
		.mode = (enum vtd_dma_mode)d->mode, .force_mode = d->force,
		.fq_size = (unsigned)d->fq_size, .fq_timeout_ns = d->fq_timeout,
		.ranged_max_desc = (unsigned)d->ranged_max,
	};
	const char *note;
	int rc;

	if (!r->dmas[dom]) {
		if (!r->doms[dom])
			return run_error(r, line, "domain '%s' has not been allocated", d->name);
		rc = vtd_dma_create(r->doms[dom], &o, &r->dmas[dom]);
		if (rc)
			return call_error(r, line, "vtd_dma_create", rc);
		note = vtd_dma_note(r->dmas[dom]);
		if (note && !(r->flags & SCENARIO_JSON))
			fprintf(r->out, "note: %s: %s\n", d->name, note);
	}
	*out = r->dmas[dom];
	return SCENARIO_OK;
}

/* dma_map and dma_unmap: the DMA layer of the domain the device is in. */
static enum scenario_status run_dma_api(struct run *r, const struct step *st)
{
	const struct device *d = &r->s->devs[st->dev];
	int dom = r->devdom[st->dev];
	struct vtd_dma *dma;
	uint64_t iova, pa, size;
	int rc;

	if (dom < 0)
		return run_error(r, st->line, "device %s is attached to no domain", d->bdf);
	if (get_dma(r, st->line, (unsigned)dom, &dma))
		return SCENARIO_ERROR;
	if (st->kind == ST_DMA_MAP) {
		pa = st->pa;
		if (!st->pa_given) {
			size = (st->size + 0xfff) & ~0xfffULL;
			if (r->next_pa + size > DMA_PA_END)
				r->next_pa = DMA_PA_BASE;
			pa = r->next_pa;
			r->next_pa += size;
		}
		rc = vtd_dma_map(dma, r->devs[st->dev], pa, st->size, st->perm, &iova);
		if (rc)
			return call_error(r, st->line, "vtd_dma_map", rc);
		r->vars[st->var].iova = iova;
		r->vars[st->var].size = st->size;
		r->vars[st->var].set = true;
		return SCENARIO_OK;
	}
	if (eval_iova(r, st, &st->ia, &iova))
		return SCENARIO_ERROR;
	size = st->size_given ? st->size : r->vars[st->ia.var].size;
	rc = vtd_dma_unmap(dma, r->devs[st->dev], iova, size);
	return rc ? call_error(r, st->line, "vtd_dma_unmap", rc) : SCENARIO_OK;
}

static enum scenario_status run_advance(struct run *r, const struct step *st)
{
	sched_touch(r->sched, SK_TIME, 0, true);
	vtdm_clock_step(r->m, st->value);
	for (unsigned i = 0; i < r->s->ndoms; i++)
		if (r->dmas[i])
			vtd_dma_poll(r->dmas[i]);
	return SCENARIO_OK;
}

static enum scenario_status run_mode(struct run *r, const struct step *st)
{
	struct vtd_dma *dma;
	int m;

	if (get_dma(r, st->line, st->dom, &dma))
		return SCENARIO_ERROR;
	m = (int)vtd_dma_mode(dma);
	if (m != st->mode)
		fail(r, st->line, "domain %s is in mode %s, expected %s", r->s->doms[st->dom].name,
		     m >= 0 && m < (int)ARRAY_SIZE(mode_names) ? mode_names[m] : "?",
		     mode_names[st->mode]);
	return SCENARIO_OK;
}

static enum scenario_status run_dma(struct run *r, const struct step *st)
{
	const struct device *d = &r->s->devs[st->dev];
	struct vtdm_xlate x;
	uint8_t *buf = malloc(st->size);
	const char *dir = st->write ? "write" : "read";
	uint64_t iova;
	int rc;

	if (eval_iova(r, st, &st->ia, &iova)) {
		free(buf);
		return SCENARIO_ERROR;
	}

	if (!buf)
		return run_error(r, st->line, "out of memory for a %" PRIu64 "-byte buffer",
				 st->size);
	for (uint64_t i = 0; i < st->size; i++)
		buf[i] = (uint8_t)(0xa5 ^ i);
	rc = vtdm_dma(r->m, d->cfg.sid, VTD_NO_PASID, iova, buf, st->size, st->write, &x);
	free(buf);
	if (rc < 0)
		return call_error(r, st->line, "vtdm_dma", rc);
	/* What the driver's fault handler does: read and clear the records. */
	vtd_unit_faults(r->units[d->unit], NULL, NULL);
	if (st->thread >= 0)
		return SCENARIO_OK;	/* in a thread the checker judges it */
	if (rc == 1 && !st->want_fault) {
		if (x.fault == VTDM_MASTER_ABORT)
			fail(r, st->line, "dma %s of 0x%" PRIx64 " bytes at IOVA 0x%" PRIx64
			     " from %s hit no RAM (master abort at PA 0x%" PRIx64 "), expected ok",
			     dir, st->size, iova, d->bdf, x.pa);
		else
			fail(r, st->line, "dma %s of 0x%" PRIx64 " bytes at IOVA 0x%" PRIx64
			     " from %s faulted (reason 0x%02x), expected ok", dir, st->size,
			     iova, d->bdf, (unsigned)x.fault);
	} else if (rc == 0 && st->want_fault) {
		fail(r, st->line, "dma %s of 0x%" PRIx64 " bytes at IOVA 0x%" PRIx64 " from %s "
		     "reached PA 0x%" PRIx64 "%s, expected a fault", dir, st->size, iova,
		     d->bdf, x.pa, x.from_atc ? " through the device TLB" : "");
	}
	return SCENARIO_OK;
}

static enum scenario_status run_step(struct run *r, unsigned idx, bool inner);

/* The body of a repeat block, N times, with $i = 0 .. N-1. */
static enum scenario_status run_repeat(struct run *r, const struct step *st, unsigned idx)
{
	enum scenario_status status = SCENARIO_OK;

	for (uint64_t it = 0; !status && it < st->count; it++) {
		r->iter = it;
		for (unsigned j = idx + 1; !status && j < st->body_end; j++)
			status = run_step(r, j, true);
	}
	return status;
}

/* Every unmap of the block into one gather, then one vtd_iotlb_sync. */
static enum scenario_status run_gather(struct run *r, const struct step *st, unsigned idx)
{
	struct vtd_domain *dom = r->doms[st->dom];
	struct vtd_gather g;
	uint64_t iova, v;

	vtd_gather_init(&g);
	for (unsigned j = idx + 1; j < st->body_end; j++) {
		const struct step *u = &r->s->steps[j];

		if (eval_iova(r, u, &u->ia, &iova)) {
			vtd_gather_fini(&g);
			return SCENARIO_ERROR;
		}
		v = vtd_unmap(dom, iova, u->size, &g);
		if (v != u->unmapped)
			fail(r, u->line, "vtd_unmap unmapped 0x%" PRIx64 " bytes, expected "
			     "0x%" PRIx64, v, u->unmapped);
	}
	vtd_iotlb_sync(dom, &g);
	vtd_gather_fini(&g);
	return SCENARIO_OK;
}

/* @inner: a step of a repeat body, which belongs to the repeat operation. */
static enum scenario_status run_step(struct run *r, unsigned idx, bool inner)
{
	struct step *st = &r->s->steps[idx];
	uint64_t v, iova;
	int rc;

	if (is_op(st) && !inner) {
		r->nev = 0;
		r->ev_lost = false;
		if (snapshot_deltas(r, idx))
			return SCENARIO_ERROR;
	}
	switch (st->kind) {
	case ST_DOMAIN: {
		const struct domain *d = &r->s->doms[st->dom];
		struct vtd_domain_opts o = { .stage = d->stage, .levels = d->levels,
					     .unit = d->unit < 0 ? NULL : r->units[d->unit] };

		rc = vtd_domain_alloc(r->v, &o, &r->doms[st->dom]);
		if (rc)
			return call_error(r, st->line, "vtd_domain_alloc", rc);
		chk_name_domain(r->oracle, r->doms[st->dom], d->name);
		if (d->dma_keys) {
			struct vtd_dma *dma;

			return get_dma(r, st->line, st->dom, &dma);
		}
		return SCENARIO_OK;
	}
	case ST_ATTACH:
		rc = vtd_attach(r->doms[st->dom], r->devs[st->dev]);
		if (!rc)
			r->devdom[st->dev] = (int)st->dom;
		if (rc == st->want_rc)
			return SCENARIO_OK;
		if (!st->want_rc)
			return call_error(r, st->line, "vtd_attach", rc);
		fail(r, st->line, "vtd_attach returned %d (%s), expected -%s", rc,
		     rc ? strerror(-rc) : "success", errno_name(-st->want_rc));
		return SCENARIO_OK;
	case ST_DETACH:
		rc = vtd_detach(r->devs[st->dev]);
		if (!rc)
			r->devdom[st->dev] = -1;
		return rc ? call_error(r, st->line, "vtd_detach", rc) : SCENARIO_OK;
	case ST_MAP:
		if (eval_iova(r, st, &st->ia, &iova))
			return SCENARIO_ERROR;
		rc = vtd_map(r->doms[st->dom], iova, st->pa, st->size, st->perm);
		return rc ? call_error(r, st->line, "vtd_map", rc) : SCENARIO_OK;
	case ST_UNMAP:
		if (eval_iova(r, st, &st->ia, &iova))
			return SCENARIO_ERROR;
		v = vtd_unmap_sync(r->doms[st->dom], iova, st->size);
		if (v != st->unmapped)
			fail(r, st->line, "vtd_unmap_sync unmapped 0x%" PRIx64 " bytes, expected "
			     "0x%" PRIx64, v, st->unmapped);
		return SCENARIO_OK;
	case ST_FLUSH:
		vtd_flush_all(r->doms[st->dom]);
		return SCENARIO_OK;
	case ST_DMA:
		return run_dma(r, st);
	case ST_DMA_MAP:
	case ST_DMA_UNMAP:
		return run_dma_api(r, st);
	case ST_ADVANCE:
		return run_advance(r, st);
	case ST_REPEAT:
		return run_repeat(r, st, idx);
	case ST_GATHER:
		return run_gather(r, st, idx);
	case ST_MODE:
		return run_mode(r, st);
	case ST_COUNTER:
		if (counter_read(r, st->counter, &v))
			return unknown_counter(r, st);
		if (!compare(v, st->op, st->value))
			fail(r, st->line, "counter %s is %" PRIu64 ", expected %s %" PRIu64,
			     st->counter, v, op_names[st->op], st->value);
		return SCENARIO_OK;
	case ST_DELTA:
		if (counter_read(r, st->counter, &v))
			return unknown_counter(r, st);
		v -= st->before;
		if (!compare(v, st->op, st->value))
			fail(r, st->line, "counter %s changed by %" PRIu64 " across line %d, "
			     "expected %s %" PRIu64, st->counter, v, r->s->steps[st->op_step].line,
			     op_names[st->op], st->value);
		return SCENARIO_OK;
	case ST_QI:
		check_qi(r, st);
		return SCENARIO_OK;
	}
	return SCENARIO_OK;
}

/* ---- counters: --stats and JSON ---- */

struct stats_ctx {
	struct run *r;
	bool json, first, model;
};

static void stat_out(void *arg, const char *name, uint64_t val)
{
	struct stats_ctx *c = arg;
	char key[128];
	uint64_t unused;

	/* A model counter libvtd also has is read as model.NAME (counter_read). */
	snprintf(key, sizeof(key), "%s%s",
		 c->model && !vtd_stat(c->r->v, name, &unused) ? "model." : "", name);
	if (c->json) {
		fputs(c->first ? "" : ", ", c->r->out);
		json_str(c->r->out, key);
		fprintf(c->r->out, ": %" PRIu64, val);
	} else {
		fprintf(c->r->out, "%-32s %" PRIu64 "\n", key, val);
	}
	c->first = false;
}

static void print_counters(struct run *r, bool json)
{
	struct stats_ctx c = { .r = r, .json = json, .first = true };

	if (!r->v)
		return;
	vtd_stats_foreach(r->v, stat_out, &c);
	c.model = true;
	vtdm_stats_foreach(r->m, stat_out, &c);
	c.model = false;
	checker_stats(r, stat_out, &c);
}

static void print_json(struct run *r)
{
	FILE *f = r->out;

	fputs("{\"scenario\": ", f);
	json_str(f, r->name);
	fprintf(f, ", \"ok\": %s", !r->stopped && !r->failed ? "true" : "false");
	if (r->stopped) {
		fprintf(f, ", \"error\": {\"line\": %d, \"message\": ", r->error.line);
		json_str(f, r->error.msg);
		fputc('}', f);
	}
	fputs(", \"failures\": [", f);
	for (unsigned i = 0; i < r->nfails; i++) {
		fprintf(f, "%s{\"line\": %d, \"message\": ", i ? ", " : "", r->fails[i].line);
		json_str(f, r->fails[i].msg);
		fputc('}', f);
	}
	fputs("], \"counters\": {", f);
	print_counters(r, true);
	fputs("}}\n", f);
}

enum scenario_status scenario_run(struct scenario *s, const char *name, FILE *out, FILE *err,
				  unsigned flags)
{
	struct run r = { .s = s, .name = name, .out = out, .err = err, .flags = flags };
	enum scenario_status status;

	if (flags & SCENARIO_JSON)
		r.flags &= ~(SCENARIO_TRACE | SCENARIO_STATS);
	status = build(&r);
	for (unsigned i = 0; !status && i < s->nsteps; i++) {
		status = run_step(&r, i, false);
		if (s->steps[i].kind == ST_REPEAT || s->steps[i].kind == ST_GATHER)
			i = s->steps[i].body_end - 1;
	}
	/* The checker's verdicts on every DMA the scenario made. */
	for (unsigned i = 0; r.oracle && i < chk_nr_kept(r.oracle); i++) {
		const struct chk_violation *v = chk_violation(r.oracle, i);

		fail(&r, 0, "checker: %s: %s", chk_kind_name(v->kind), v->msg);
	}
	if (!status && r.failed)
		status = SCENARIO_FAILED;
	if (r.flags & SCENARIO_STATS)
		print_counters(&r, false);
	if (flags & SCENARIO_JSON)
		print_json(&r);
	teardown(&r);
	return status;
}

/* ================================================================ exploring */

struct explore;

struct task_arg {
	struct explore *x;
	unsigned t;			/* index into scenario.threads[] */
};

struct explore {
	struct scenario *s;
	const char *name;
	struct run *r;
	char *errbuf;			/* this run's error stream */
	size_t errlen;
	bool errored;
	struct task_arg targ[SCHED_MAX_TASKS];
};

static void thread_main(void *arg)
{
	const struct task_arg *ta = arg;
	struct explore *x = ta->x;
	const struct thread *th = &x->s->threads[ta->t];
	struct run *r = x->r;

	for (unsigned i = th->first; i < th->end && !r->stopped; i++) {
		run_step(r, i, false);
		if (x->s->steps[i].kind == ST_REPEAT || x->s->steps[i].kind == ST_GATHER)
			i = x->s->steps[i].body_end - 1;
	}
}

static int world_start(void *arg, struct sched *sc, char *err, size_t errlen)
{
	struct explore *x = arg;
	struct run *r = calloc(1, sizeof(*r));
	enum scenario_status status;

	x->r = r;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(x->errbuf);
	x->errbuf = NULL;
	r->s = x->s;
	r->name = x->name;
	r->sched = sc;
	r->err = open_memstream(&x->errbuf, &x->errlen);
	r->out = r->err;
	if (!r->err) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	status = build(r);
	for (unsigned i = 0; !status && i < x->s->nsteps && x->s->steps[i].thread < 0; i++) {
		status = run_step(r, i, false);
		if (x->s->steps[i].kind == ST_REPEAT || x->s->steps[i].kind == ST_GATHER)
			i = x->s->steps[i].body_end - 1;
	}
	if (status == SCENARIO_ERROR) {
		snprintf(err, errlen, "set-up failed at line %d: %s", r->error.line, r->error.msg);
		return -1;
	}
	for (unsigned t = 0; t < x->s->nthreads; t++) {
		x->targ[t].x = x;
		x->targ[t].t = t;
		sched_spawn(sc, x->s->threads[t].name, thread_main, &x->targ[t]);
	}
	return 0;
}

static bool world_finish(void *arg, struct sched *sc, char *msg, size_t msglen)
{
	struct explore *x = arg;
	struct run *r = x->r;
	bool bad = false;

	if (!r)
		return false;
	if (r->stopped) {
		snprintf(msg, msglen, "error: line %d: %s", r->error.line, r->error.msg);
		x->errored = bad = true;
	} else if (r->oracle && chk_nr_kept(r->oracle)) {
		const struct chk_violation *v = chk_violation(r->oracle, 0);

		snprintf(msg, msglen, "%s: %s", chk_kind_name(v->kind), v->msg);
		bad = true;
	} else if (r->failed) {
		snprintf(msg, msglen, "expectation failed (see above)");
		x->errored = bad = true;
	}
	r->err = NULL;
	if (r->out) {
		FILE *f = r->out;

		r->out = NULL;
		fclose(f);
	}
	/* An abandoned run's tasks stopped mid-call: its world is left as it is. */
	if (!sched_abandoned(sc)) {
		teardown(r);
		free(r);
	}
	x->r = NULL;
	return bad;
}

enum scenario_status scenario_explore(struct scenario *s, const char *name,
				      const struct scenario_explore_opts *o, FILE *out, FILE *err)
{
	struct explore x = { .s = s, .name = name };
	struct sched_world w = { world_start, world_finish, &x };
	struct sched_opts so = {
		.runs = o->runs ? o->runs : s->runs,
		.seed = o->seed_set ? o->seed : s->seed,
		.preemptions = o->preemptions_set ? o->preemptions : s->preemptions,
		.sleep_sets = !o->no_sleep_sets,
		.replay = o->replay,
		.verbose = o->verbose,
		.progress = o->progress,
		.progress_arg = o->progress_arg,
	};
	struct sched_result res;
	enum scenario_status status = SCENARIO_OK;

	s->knobs |= o->knobs;
	if (!s->nthreads) {
		fprintf(err, "%s: no thread blocks to explore\n", name);
		return SCENARIO_ERROR;
	}
	if (!so.runs)
		so.runs = so.preemptions >= 0 ? 1000000 : 1000;
	sched_explore(&w, &so, &res);
	if (res.violation && !x.errored) {
		fprintf(out, "violation: %s\n", res.msg);
		fprintf(out, "replay: vtdkit explore");
		for (int k = 0; k < VTD_KNOB_NR; k++)
			if (o->knobs >> k & 1)
				fprintf(out, " --inject %s", vtd_knob_name((enum vtd_knob)k));
		fprintf(out, " --replay %s %s\n", res.token, name);
		fprintf(out, "run %u of the exploration; its steps:\n%s", res.runs,
			res.steps ? res.steps : "");
		status = SCENARIO_FAILED;
	} else if (res.error || res.violation) {
		if (x.errbuf && *x.errbuf)
			fputs(x.errbuf, err);
		fprintf(err, "%s: %s\n", name, res.msg);
		if (res.token[0])
			fprintf(err, "%s: replay with --replay %s\n", name, res.token);
		if (res.steps)
			fprintf(err, "its steps:\n%s", res.steps);
		status = SCENARIO_ERROR;
	} else if (o->replay) {
		fprintf(out, "%s: replayed schedule %s: no violation\n", name, o->replay);
	} else if (so.preemptions >= 0) {
		fprintf(out, "%s: %u schedules %s with at most %d preemption%s%s (%u ended early as "
			"redundant; longest %" PRIu64 " scheduling points): no violation\n", name,
			res.runs, res.complete ? "cover every schedule" :
			"do NOT cover every schedule (run cap reached)",
			so.preemptions, so.preemptions == 1 ? "" : "s",
			so.sleep_sets ? ", up to sleep-set equivalence" : "", res.pruned,
			res.max_depth);
		if (!res.complete)
			status = SCENARIO_FAILED;
	} else {
		fprintf(out, "%s: %u random schedules from seed %" PRIu64 " (longest %" PRIu64
			" scheduling points): no violation\n", name, res.runs, so.seed, res.max_depth);
	}
	free(x.errbuf);
	sched_result_free(&res);
	return status;
}
