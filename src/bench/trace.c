/*
 * trace.c — the trace reader of trace.h: line grammar of the Linux ftrace
 * text and of QEMU's vtd_inv_desc log, one parser per event, and the
 * per-file counts. Descriptor fields come from vtd_desc_decode() only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <signal.h>

#include "bench/trace.h"
#include "bench/tracedat.h"
#include "fmt/bits.h"

static const char *const ev_names[TEV_NR] = {
#define TRACE_EV_NAME(e, name) [TEV_##e] = name,
	TRACE_EVENTS(TRACE_EV_NAME)
#undef TRACE_EV_NAME
};

static const char *const skip_names[TSKIP_NR] = {
#define TRACE_SKIP_NAME(e, name) [TSKIP_##e] = name,
	TRACE_SKIPS(TRACE_SKIP_NAME)
#undef TRACE_SKIP_NAME
};

const char *trace_ev_name(enum trace_ev ev)
{
	return (unsigned)ev < TEV_NR ? ev_names[ev] : "unknown";
}

const char *trace_skip_name(enum trace_skip skip)
{
	return (unsigned)skip < TSKIP_NR ? skip_names[skip] : "unknown";
}

/* ---- a cursor over one event's text ---- */

struct cur {
	const char *p;
	const char *ev;			/* event name, first word of messages */
	struct trace_diag *d;
};

static bool bad(struct cur *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool bad(struct cur *c, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->d->msg, sizeof(c->d->msg), "%s: ", c->ev);

	va_start(ap, fmt);
	vsnprintf(c->d->msg + n, sizeof(c->d->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_alnum(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       ch == '_';
}

static void skip_ws(struct cur *c)
{
	while (is_space(*c->p))
		c->p++;
}

/* The token at @p as far as the next blank, for messages. */
static int tok_len(const char *p)
{
	int n = 0;

	while (p[n] && !is_space(p[n]) && n < 24)
		n++;
	return n;
}

/* After blanks, the literal @lit. */
static bool expect(struct cur *c, const char *lit)
{
	size_t n = strlen(lit);

	skip_ws(c);
	if (strncmp(c->p, lit, n)) {
		if (!*c->p)
			return bad(c, "missing '%s'", lit);
		return bad(c, "expected '%s', found '%.*s'", lit, tok_len(c->p), c->p);
	}
	c->p += n;
	return true;
}

/*
 * After blanks, a number: 0x-prefixed hex, or (unless @hex) decimal. It
 * must not run into a letter or digit ("0x12g"); what may follow (" ",
 * "-", "]") is the caller's business.
 */
static bool number(struct cur *c, const char *what, bool hex, uint64_t *v)
{
	const char *s;
	unsigned base = 10;
	uint64_t x = 0;

	skip_ws(c);
	s = c->p;
	if (!*s)
		return bad(c, "missing %s", what);
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (hex) {
		return bad(c, "%s is not a 0x hex number: '%.*s'", what, tok_len(c->p), c->p);
	}
	const char *digits = s;

	for (;; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		if (x > (UINT64_MAX - d) / base)
			return bad(c, "%s out of range: '%.*s'", what, tok_len(c->p), c->p);
		x = x * base + d;
	}
	if (s == digits || is_alnum(*s))
		return bad(c, "%s is not a %s number: '%.*s'", what,
			   base == 16 ? "hex" : "decimal", tok_len(c->p), c->p);
	c->p = s;
	*v = x;
	return true;
}

static bool number_u32(struct cur *c, const char *what, unsigned *v)
{
	uint64_t x;

	if (!number(c, what, false, &x))
		return false;
	if (x > UINT32_MAX)
		return bad(c, "%s out of range: %#llx", what, (unsigned long long)x);
	*v = (unsigned)x;
	return true;
}

/* "key=" then a number, both after blanks. */
static bool field(struct cur *c, const char *key, bool hex, uint64_t *v)
{
	char lit[32];

	snprintf(lit, sizeof(lit), "%s=", key);
	return expect(c, lit) && number(c, key, hex, v);
}

/* After blanks, a non-empty word up to a blank, the end or one of @stops. */
static bool word(struct cur *c, const char *what, const char *stops, char *out, size_t len)
{
	size_t n = 0;

	skip_ws(c);
	while (c->p[n] && !is_space(c->p[n]) && !strchr(stops, c->p[n]))
		n++;
	if (!n)
		return bad(c, "missing %s", what);
	if (n >= len)
		return bad(c, "%s longer than %zu characters", what, len - 1);
	memcpy(out, c->p, n);
	out[n] = '\0';
	c->p += n;
	return true;
}

static bool at_end(struct cur *c)
{
	skip_ws(c);
	if (*c->p)
		return bad(c, "unexpected '%.*s' at the end", tok_len(c->p), c->p);
	return true;
}

/* ---- one parser per event, over the text after "event: " ---- */

/* IOMMU: iova=0x... - 0x... paddr=0x... size=N */
static bool p_map(struct cur *c, struct trace_event *ev)
{
	return expect(c, "IOMMU:") && field(c, "iova", false, &ev->map.iova) &&
	       expect(c, "-") && number(c, "iova end", false, &ev->map.end) &&
	       field(c, "paddr", false, &ev->map.paddr) &&
	       field(c, "size", false, &ev->map.size) && at_end(c);
}

/* IOMMU: iova=0x... - 0x... size=N unmapped_size=N */
static bool p_unmap(struct cur *c, struct trace_event *ev)
{
	return expect(c, "IOMMU:") && field(c, "iova", false, &ev->unmap.iova) &&
	       expect(c, "-") && number(c, "iova end", false, &ev->unmap.end) &&
	       field(c, "size", false, &ev->unmap.size) &&
	       field(c, "unmapped_size", false, &ev->unmap.unmapped) && at_end(c);
}

/* IOMMU: device=0000:00:01.0 */
static bool p_attach(struct cur *c, struct trace_event *ev)
{
	return expect(c, "IOMMU:") && expect(c, "device=") &&
	       word(c, "device", "", ev->dev.dev, sizeof(ev->dev.dev)) && at_end(c);
}

/* IOMMU: groupID=N device=0000:00:01.0 */
static bool p_group(struct cur *c, struct trace_event *ev)
{
	return expect(c, "IOMMU:") && expect(c, "groupID=") &&
	       number_u32(c, "groupID", &ev->dev.group) && expect(c, "device=") &&
	       word(c, "device", "", ev->dev.dev, sizeof(ev->dev.dev)) && at_end(c);
}

/*
 * TYPE dmarN: 0xqw0 0xqw1 0xqw2 0xqw3. TYPE is Linux's name for qw0's
 * type; a name that disagrees with the decoded type is malformed.
 */
static bool p_qi_submit(struct cur *c, struct trace_event *ev)
{
	static const char *const qw_name[] = { "qw0", "qw1", "qw2", "qw3" };
	char type[TRACE_NAME_LEN];
	const char *want;

	if (!word(c, "descriptor type", "", type, sizeof(type)) ||
	    !word(c, "unit", ":", ev->desc.unit, sizeof(ev->desc.unit)) || !expect(c, ":"))
		return false;
	for (int i = 0; i < 4; i++)
		if (!number(c, qw_name[i], true, &ev->desc.d.qw[i]))
			return false;
	if (!at_end(c))
		return false;
	vtd_desc_decode(&ev->desc.d, &ev->desc.f);
	want = vtd_desc_type_name(ev->desc.f.type);
	if (strcmp(type, want))
		return bad(c, "type '%s' but qw0 %#llx is type %u (%s)", type,
			   (unsigned long long)ev->desc.d.qw[0], ev->desc.f.type, want);
	return true;
}

/* dmar0/DEV type T did N pasid N ref N (assign, unassign, flush_all) */
static bool p_tag(struct cur *c, struct trace_event *ev)
{
	return word(c, "unit", "/", ev->tag.unit, sizeof(ev->tag.unit)) && expect(c, "/") &&
	       word(c, "device", "", ev->tag.dev, sizeof(ev->tag.dev)) && expect(c, "type") &&
	       word(c, "tag type", "", ev->tag.type, sizeof(ev->tag.type)) &&
	       expect(c, "did") && number_u32(c, "did", &ev->tag.did) &&
	       expect(c, "pasid") && number_u32(c, "pasid", &ev->tag.pasid) &&
	       expect(c, "ref") && number_u32(c, "ref", &ev->tag.ref) && at_end(c);
}

/* dmar0 DEV[PASID] type T did N [0xS-0xL] addr 0x.. pages 0x.. mask 0x.. */
static bool p_tag_range(struct cur *c, struct trace_event *ev)
{
	return word(c, "unit", "", ev->tag.unit, sizeof(ev->tag.unit)) &&
	       word(c, "device", "[", ev->tag.dev, sizeof(ev->tag.dev)) && expect(c, "[") &&
	       number_u32(c, "pasid", &ev->tag.pasid) && expect(c, "]") &&
	       expect(c, "type") && word(c, "tag type", "", ev->tag.type, sizeof(ev->tag.type)) &&
	       expect(c, "did") && number_u32(c, "did", &ev->tag.did) &&
	       expect(c, "[") && number(c, "range start", false, &ev->tag.start) &&
	       expect(c, "-") && number(c, "range end", false, &ev->tag.last) && expect(c, "]") &&
	       expect(c, "addr") && number(c, "addr", false, &ev->tag.addr) &&
	       expect(c, "pages") && number(c, "pages", false, &ev->tag.pages) &&
	       expect(c, "mask") && number(c, "mask", false, &ev->tag.mask) && at_end(c);
}

/* The text written to trace_marker, kept as it is (cut to fit). */
static bool p_mark(struct cur *c, struct trace_event *ev)
{
	skip_ws(c);
	snprintf(ev->mark, sizeof(ev->mark), "%s", c->p);
	return true;
}

static bool (*const parsers[TEV_NR])(struct cur *, struct trace_event *) = {
	[TEV_MAP] = p_map,
	[TEV_UNMAP] = p_unmap,
	[TEV_ATTACH] = p_attach,
	[TEV_GROUP] = p_group,
	[TEV_QI_SUBMIT] = p_qi_submit,
	[TEV_TAG_ASSIGN] = p_tag,
	[TEV_TAG_UNASSIGN] = p_tag,
	[TEV_TAG_FLUSH_ALL] = p_tag,
	[TEV_TAG_FLUSH_RANGE] = p_tag_range,
	[TEV_TAG_FLUSH_RANGE_NP] = p_tag_range,
	[TEV_MARK] = p_mark,
};

/* QEMU's names for the types its vtd_inv_desc line prints. */
static const char *const qemu_type_names[DESC_NR_TYPES] = {
	[DESC_CC] = "context-cache",
	[DESC_IOTLB] = "iotlb",
	[DESC_DEVTLB] = "device",
	[DESC_IEC] = "iec",
	[DESC_WAIT] = "wait",
};

/* invalidate desc type T high 0xqw1 low 0xqw0 */
static bool p_qemu_desc(struct cur *c, struct trace_event *ev)
{
	char type[TRACE_NAME_LEN];
	unsigned t;

	if (!expect(c, "invalidate desc type") || !word(c, "type", "", type, sizeof(type)) ||
	    !expect(c, "high") || !number(c, "high (qw1)", true, &ev->desc.d.qw[1]) ||
	    !expect(c, "low") || !number(c, "low (qw0)", true, &ev->desc.d.qw[0]) || !at_end(c))
		return false;
	vtd_desc_decode(&ev->desc.d, &ev->desc.f);
	t = ev->desc.f.type;
	for (unsigned i = 0; i < DESC_NR_TYPES; i++)
		if (qemu_type_names[i] && !strcmp(type, qemu_type_names[i]) && i != t)
			return bad(c, "type '%s' but low %#llx is type %u (%s)", type,
				   (unsigned long long)ev->desc.d.qw[0], t, vtd_desc_type_name(t));
	return true;
}

/* ---- line grammar ---- */

/* "SEC.FRAC" up to @end into ns; false if it is not one. */
static bool parse_ts(const char *s, const char *end, uint64_t *ns)
{
	uint64_t sec = 0, frac = 0;
	unsigned digits = 0;
	const char *p = s;

	while (p < end && *p >= '0' && *p <= '9' && sec < UINT64_MAX / 10 / 1000000000)
		sec = sec * 10 + (uint64_t)(*p++ - '0');
	if (p == s || p == end || *p != '.')
		return false;
	for (p++; p < end && *p >= '0' && *p <= '9'; p++)
		if (digits < 9)
			frac = frac * 10 + (uint64_t)(*p - '0'), digits++;
	if (p != end || !digits)
		return false;
	while (digits++ < 9)
		frac *= 10;
	*ns = sec * 1000000000 + frac;
	return true;
}

static bool parse_uint(const char *s, const char *end, unsigned *v)
{
	unsigned long long x = 0;

	if (s == end)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		x = x * 10 + (unsigned)(*s - '0');
		if (x > UINT32_MAX)
			return false;
	}
	*v = (unsigned)x;
	return true;
}

static enum trace_line skip(struct trace_diag *d, enum trace_skip why)
{
	d->skip = why;
	return TRACE_LINE_SKIP;
}

static enum trace_line run_parser(bool (*fn)(struct cur *, struct trace_event *),
				  enum trace_ev kind, const char *body,
				  struct trace_event *ev, struct trace_diag *d)
{
	struct cur c = { .p = body, .ev = ev_names[kind], .d = d };

	ev->kind = kind;
	return fn(&c, ev) ? TRACE_LINE_EVENT : TRACE_LINE_MALFORMED;
}

/* PID@SEC.USEC:NAME REST */
static enum trace_line parse_qemu(const char *s, struct trace_event *ev, struct trace_diag *d)
{
	const char *at = strchr(s, '@'), *colon, *name, *sp;

	if (!at || !parse_uint(s, at, &ev->pid))
		return skip(d, TSKIP_NOT_TRACE);
	colon = strchr(at, ':');
	if (!colon || !parse_ts(at + 1, colon, &ev->ts_ns))
		return skip(d, TSKIP_NOT_TRACE);
	name = colon + 1;
	sp = name + strcspn(name, " \t");
	ev->qemu = true;
	ev->cpu = -1;
	if ((size_t)(sp - name) == strlen("vtd_inv_desc") && !strncmp(name, "vtd_inv_desc", 12))
		return run_parser(p_qemu_desc, TEV_QEMU_DESC, sp, ev, d);
	if (!strncmp(name, "vtd_inv_desc_", 13))
		return skip(d, TSKIP_DETAIL);
	return skip(d, TSKIP_UNKNOWN_EVENT);
}

/*
 * TASK-PID [CPU] [FLAGS] SEC.USEC: [SYSTEM:]EVENT: BODY, as tracefs and
 * trace-cmd report print it (the flags column is optional, and the task
 * name may hold blanks and dashes: the pid follows the last dash).
 */
static enum trace_line parse_ftrace(const char *s, struct trace_event *ev,
				    struct trace_diag *d)
{
	const char *b = s, *cpu = NULL, *cpu_end = NULL, *task_end, *dash, *p, *tok, *name;
	unsigned cpu_nr;

	while (is_space(*b))
		b++;
	for (const char *q = strchr(b, '['); q; q = strchr(q + 1, '[')) {
		const char *r = q + 1;

		while (*r >= '0' && *r <= '9')
			r++;
		if (q > b && is_space(q[-1]) && r > q + 1 && *r == ']') {
			cpu = q;
			cpu_end = r;
			break;
		}
	}
	if (!cpu_end)
		return skip(d, TSKIP_NOT_TRACE);
	task_end = cpu;
	while (task_end > b && is_space(task_end[-1]))
		task_end--;
	for (dash = task_end; dash > b && dash[-1] != '-'; dash--)
		;
	if (dash == b || !parse_uint(dash, task_end, &ev->pid) ||
	    !parse_uint(cpu + 1, cpu_end, &cpu_nr))
		return skip(d, TSKIP_NOT_TRACE);
	ev->cpu = (int)cpu_nr;
	snprintf(ev->task, sizeof(ev->task), "%.*s", (int)(dash - 1 - b), b);

	/* The flags column, if any, then the timestamp ending in ':'. */
	p = cpu_end + 1;
	for (int i = 0; i < 2; i++) {
		while (is_space(*p))
			p++;
		tok = p;
		p += strcspn(p, " \t");
		if (p > tok && p[-1] == ':')
			break;
	}
	if (p == tok || p[-1] != ':' || !parse_ts(tok, p - 1, &ev->ts_ns))
		return skip(d, TSKIP_NOT_TRACE);

	/* The event name: up to the ':' that a blank or the end follows. */
	while (is_space(*p))
		p++;
	name = tok = p;
	while (is_alnum(*p) || (*p == ':' && p[1] && !is_space(p[1]))) {
		if (*p == ':')
			name = p + 1;	/* drop "iommu:" */
		p++;
	}
	if (*p != ':' || p == name)
		return skip(d, TSKIP_NOT_TRACE);

	size_t n = (size_t)(p - name);
	const char *body = p + 1;

	/* trace-cmd prints marker writes as "print: tracing_mark_write: ..." */
	if (n == 5 && !strncmp(name, "print", 5)) {
		while (is_space(*body))
			body++;
		if (strncmp(body, "tracing_mark_write:", 19))
			return skip(d, TSKIP_UNKNOWN_EVENT);
		return run_parser(p_mark, TEV_MARK, body + 19, ev, d);
	}
	for (unsigned k = 0; k < TEV_NR; k++)
		if (parsers[k] && strlen(ev_names[k]) == n && !strncmp(name, ev_names[k], n))
			return run_parser(parsers[k], (enum trace_ev)k, body, ev, d);
	return skip(d, TSKIP_UNKNOWN_EVENT);
}

enum trace_line trace_parse_line(const char *line, unsigned long lineno,
				 struct trace_event *ev, struct trace_diag *d)
{
	const char *s = line;

	memset(ev, 0, sizeof(*ev));
	d->skip = TSKIP_NR;
	d->msg[0] = '\0';
	ev->line = lineno;
	while (is_space(*s))
		s++;
	if (!*s)
		return skip(d, TSKIP_BLANK);
	if (*s == '#')
		return skip(d, TSKIP_COMMENT);
	/* trace-cmd report's first lines */
	if (!strncmp(s, "cpus=", 5) || !strncmp(s, "version =", 9))
		return skip(d, TSKIP_HEADER);
	if (*s >= '0' && *s <= '9' && s[strspn(s, "0123456789")] == '@')
		return parse_qemu(s, ev, d);
	return parse_ftrace(s, ev, d);
}

/* ---- counting ---- */

void trace_summary_add(struct trace_summary *s, const struct trace_event *ev)
{
	const struct vtd_desc_fields *f = &ev->desc.f;

	if ((unsigned)ev->kind >= TEV_NR)
		return;
	s->events[ev->kind]++;
	if (ev->qemu)
		s->qemu_events++;
	else
		s->ftrace_events++;
	switch (ev->kind) {
	case TEV_MAP:
		s->bytes_mapped += ev->map.size;
		break;
	case TEV_UNMAP:
		s->bytes_unmapped += ev->unmap.unmapped;
		break;
	case TEV_QI_SUBMIT:
	case TEV_QEMU_DESC:
		if (!f->type || f->type >= DESC_NR_TYPES) {
			s->desc_unknown++;
			break;
		}
		s->desc[f->type]++;
		s->gran[f->type][f->g & 3]++;
		if (f->type == DESC_IOTLB && f->g == IOTLB_G_PSI)
			s->psi_am[f->am & 63]++;
		break;
	default:
		break;
	}
}

static void add_error(struct trace_summary *s, unsigned long line, const char *msg)
{
	if (s->nr_errors < TRACE_MAX_ERRORS) {
		s->errors[s->nr_errors].line = line;
		snprintf(s->errors[s->nr_errors].msg, sizeof(s->errors[0].msg), "%s", msg);
		s->nr_errors++;
	}
}

void trace_reader_init(struct trace_reader *r, FILE *f, struct trace_summary *sum)
{
	*r = (struct trace_reader){ .f = f, .sum = sum };
}

void trace_reader_release(struct trace_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

int trace_reader_next(struct trace_reader *r, struct trace_event *ev)
{
	struct trace_summary *s = r->sum;
	struct trace_diag d;
	ssize_t n;

	while ((n = getline(&r->buf, &r->cap, r->f)) > 0) {
		bool cut = r->buf[n - 1] != '\n';
		enum trace_line rc;

		r->line++;
		s->lines++;
		if (r->line == 1 && !s->binary) {
			if (n >= 6 && !memcmp(r->buf, "\xfd" "7zXZ", 6))
				s->binary = "xz";
			else if (n >= 2 && !memcmp(r->buf, "\x1f\x8b", 2))
				s->binary = "gzip";
			else if (n >= TRACEDAT_MAGIC_LEN &&
				 !memcmp(r->buf, TRACEDAT_MAGIC, TRACEDAT_MAGIC_LEN))
				s->binary = "trace.dat";
		}
		if (!cut)
			r->buf[--n] = '\0';
		if (n > 0 && r->buf[n - 1] == '\r')
			r->buf[--n] = '\0';

		rc = trace_parse_line(r->buf, r->line, ev, &d);
		if (cut) {
			/* getline stops only at the end of the file without '\n' */
			bool whole = rc == TRACE_LINE_EVENT ||
				     (rc == TRACE_LINE_SKIP && d.skip <= TSKIP_HEADER);

			s->truncated_line = r->line;
			s->truncated_kept = whole;
			if (!whole) {
				snprintf(s->truncated_why, sizeof(s->truncated_why), "%s",
					 rc == TRACE_LINE_MALFORMED ? d.msg :
					 trace_skip_name(d.skip));
				continue;
			}
		}
		switch (rc) {
		case TRACE_LINE_EVENT:
			trace_summary_add(s, ev);
			return 1;
		case TRACE_LINE_SKIP:
			if (!s->skipped[d.skip]++)
				s->first_skip[d.skip] = r->line;
			break;
		case TRACE_LINE_MALFORMED:
			s->malformed++;
			add_error(s, r->line, d.msg);
			break;
		}
	}
	return ferror(r->f) ? -EIO : 0;
}

int trace_read(FILE *f, struct trace_summary *sum)
{
	struct trace_reader r;
	struct trace_event ev;
	int rc;

	memset(sum, 0, sizeof(*sum));
	trace_reader_init(&r, f, sum);
	while ((rc = trace_reader_next(&r, &ev)) > 0)
		;
	trace_reader_release(&r);
	return rc;
}

/* The stream's first bytes are xz's magic (the stream is rewound). */
static bool is_xz(FILE *f)
{
	unsigned char m[6];
	bool xz = fread(m, 1, sizeof(m), f) == sizeof(m) && !memcmp(m, "\xfd" "7zXZ", 6);

	rewind(f);
	return xz;
}

/*
 * Read @f through a child: `xz -dc` (@dat false) or tracedat_print() of
 * @path. The child's output replaces @f in @tf. False if nothing could be
 * started (or xz printed nothing: not installed); @f is then rewound.
 */
static bool decode(FILE *f, const char *path, bool dat, struct trace_file *tf)
{
	int fds[2], c;
	pid_t pid;

	if (pipe(fds))
		return false;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (!pid) {
		close(fds[0]);
		if (dat) {
			FILE *out = fdopen(fds[1], "w");

			fclose(f);
			_exit(out ? tracedat_print(path, out) : TRACEDAT_EWRITE);
		}
		dup2(fileno(f), 0);
		dup2(fds[1], 1);
		close(fds[1]);
		execlp("xz", "xz", "-dc", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	tf->f = fdopen(fds[0], "r");
	if (!tf->f) {
		close(fds[0]);
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		goto as_is;
	}
	/* xz missing: nothing comes out; the caller reads the file as it is. */
	c = fgetc(tf->f);
	if (c == EOF && !dat) {
		fclose(tf->f);
		waitpid(pid, NULL, 0);
		goto as_is;
	}
	if (c != EOF)
		ungetc(c, tf->f);
	fclose(f);
	tf->pid = pid;
	tf->via = dat ? "libtracecmd" : "xz";
	return true;
as_is:
	tf->f = f;
	rewind(f);
	return false;
}

FILE *trace_open(const char *path, struct trace_file *tf)
{
	FILE *f = fopen(path, "r");

	tf->pid = -1;
	tf->f = f;
	tf->via = NULL;
	tf->err[0] = '\0';
	if (!f)
		return NULL;
	if (is_xz(f))
		decode(f, path, false, tf);
	else if (tracedat_supported() && tracedat_is(f))
		decode(f, path, true, tf);
	return tf->f;
}

int trace_close(struct trace_file *tf)
{
	int status = 0;

	if (!tf->f)
		return 0;
	fclose(tf->f);
	tf->f = NULL;
	if (tf->pid <= 0 || waitpid(tf->pid, &status, 0) != tf->pid)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		snprintf(tf->err, sizeof(tf->err), "%s died of signal %d decoding it",
			 tf->via, WTERMSIG(status));
	else if (!strcmp(tf->via, "xz"))
		snprintf(tf->err, sizeof(tf->err), "xz -dc failed (exit %d): a corrupt or cut "
			 ".xz file", WEXITSTATUS(status));
	else
		snprintf(tf->err, sizeof(tf->err), "%s", tracedat_strerror(WEXITSTATUS(status)));
	return -EIO;
}

const char *trace_binary_hint(const char *binary)
{
	if (!binary)
		return "";
	if (!strcmp(binary, "trace.dat"))
		return tracedat_strerror(TRACEDAT_ENOSUP);
	if (!strcmp(binary, "xz"))
		return "it is xz-compressed: install xz-utils or decompress it first";
	return "it is gzip-compressed: decompress it first";
}

int trace_read_file(const char *path, struct trace_summary *sum)
{
	struct trace_file tf;
	FILE *f = trace_open(path, &tf);
	int rc, rc2;

	memset(sum, 0, sizeof(*sum));
	if (!f)
		return -errno;
	rc = trace_read(f, sum);
	sum->via = tf.via;
	rc2 = trace_close(&tf);
	snprintf(sum->decode_err, sizeof(sum->decode_err), "%s", tf.err);
	return rc ? rc : rc2;
}

/* ---- printing ---- */

/*
 * Granularity names per descriptor type, indexed by vtd_desc_fields.g
 * (VT-d 6.5.2); NULL where the value is reserved. Types without one have
 * no row.
 */
static const char *const gran_names[DESC_NR_TYPES][4] = {
	[DESC_CC] = { NULL, "global", "domain", "device" },
	[DESC_IOTLB] = { NULL, "global", "dsi", "psi" },
	[DESC_IEC] = { "global", "index" },
	[DESC_PIOTLB] = { NULL, NULL, "pasid", "psi" },
	[DESC_PC] = { "domain", "pasid", NULL, "global" },
	[DESC_PDEVTLB] = { "pasid", "all_pasids" },
};

static bool has_gran(unsigned t)
{
	for (unsigned g = 0; g < 4; g++)
		if (gran_names[t][g])
			return true;
	return false;
}

struct row {
	char key[40];
	uint64_t v;
};

enum { MAX_ROWS = 40 + DESC_NR_TYPES * 5 + 64 };

static void put(struct row *rows, unsigned *n, uint64_t v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put(struct row *rows, unsigned *n, uint64_t v, const char *fmt, ...)
{
	va_list ap;

	if (*n >= MAX_ROWS)
		return;
	va_start(ap, fmt);
	vsnprintf(rows[*n].key, sizeof(rows[0].key), fmt, ap);
	va_end(ap);
	rows[(*n)++].v = v;
}

/* Every count printed, in order: the table and the JSON share it. */
static unsigned summary_rows(const struct trace_summary *s, struct row *rows)
{
	static const enum trace_ev always[] = { TEV_MAP, TEV_UNMAP, TEV_ATTACH, TEV_GROUP };
	static const enum trace_ev when_seen[] = {
		TEV_MARK, TEV_TAG_ASSIGN, TEV_TAG_UNASSIGN, TEV_TAG_FLUSH_ALL,
		TEV_TAG_FLUSH_RANGE, TEV_TAG_FLUSH_RANGE_NP,
	};
	unsigned n = 0;

	put(rows, &n, s->lines, "lines");
	put(rows, &n, trace_summary_events(s), "events");
	for (size_t i = 0; i < ARRAY_SIZE(always); i++)
		put(rows, &n, s->events[always[i]], "%s", ev_names[always[i]]);
	put(rows, &n, s->bytes_mapped, "bytes_mapped");
	put(rows, &n, s->bytes_unmapped, "bytes_unmapped");
	for (size_t i = 0; i < ARRAY_SIZE(when_seen); i++)
		if (s->events[when_seen[i]])
			put(rows, &n, s->events[when_seen[i]], "%s", ev_names[when_seen[i]]);
	put(rows, &n, s->events[TEV_QI_SUBMIT], "qi_submit");
	put(rows, &n, s->events[TEV_QEMU_DESC], "qemu_desc");
	for (unsigned t = 1; t < DESC_NR_TYPES; t++) {
		/* The five types a legacy queue carries always; the rest when seen. */
		if (t > DESC_WAIT && !s->desc[t])
			continue;
		put(rows, &n, s->desc[t], "%s", vtd_desc_type_name(t));
		for (unsigned g = 0; g < 4 && has_gran(t); g++) {
			if (!s->gran[t][g])
				continue;
			if (gran_names[t][g])
				put(rows, &n, s->gran[t][g], "%s.%s", vtd_desc_type_name(t),
				    gran_names[t][g]);
			else
				put(rows, &n, s->gran[t][g], "%s.rsvd%u", vtd_desc_type_name(t), g);
			if (t == DESC_IOTLB && g == IOTLB_G_PSI)
				for (unsigned am = 0; am < 64; am++)
					if (s->psi_am[am])
						put(rows, &n, s->psi_am[am], "iotlb_inv.psi.am%u", am);
		}
	}
	if (s->desc_unknown)
		put(rows, &n, s->desc_unknown, "desc_unknown_type");
	for (unsigned k = 0; k < TSKIP_NR; k++)
		put(rows, &n, s->skipped[k], "%s", skip_names[k]);
	put(rows, &n, s->malformed, "malformed");
	put(rows, &n, s->truncated_line && !s->truncated_kept, "truncated");
	return n;
}

static const char *format_name(const struct trace_summary *s)
{
	if (s->ftrace_events && s->qemu_events)
		return "mixed";
	if (s->qemu_events)
		return "qemu-vtd";
	if (s->ftrace_events)
		return "ftrace";
	return "none";
}

static void json_str(FILE *f, const char *str)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void trace_summary_print(FILE *out, const struct trace_summary *s, const char *name,
			 bool json)
{
	struct row rows[MAX_ROWS];
	unsigned n = summary_rows(s, rows);

	if (!json) {
		fprintf(out, "%-28s %s\n%-28s %s\n", "file", name, "format", format_name(s));
		if (s->via)
			fprintf(out, "%-28s %s\n", "decoded by", s->via);
		for (unsigned i = 0; i < n; i++) {
			fprintf(out, "%-28s %12llu", rows[i].key, (unsigned long long)rows[i].v);
			for (unsigned k = 0; k < TSKIP_NR; k++)
				if (!strcmp(rows[i].key, skip_names[k]) && s->first_skip[k])
					fprintf(out, "  (first at line %lu)", s->first_skip[k]);
			fputc('\n', out);
		}
		return;
	}
	fputs("{\"file\": ", out);
	json_str(out, name);
	fprintf(out, ", \"format\": \"%s\"", format_name(s));
	if (s->via)
		fprintf(out, ", \"decoded_by\": \"%s\"", s->via);
	for (unsigned i = 0; i < n; i++)
		fprintf(out, ", \"%s\": %llu", rows[i].key, (unsigned long long)rows[i].v);
	fputs(", \"errors\": [", out);
	for (unsigned i = 0; i < s->nr_errors; i++) {
		fprintf(out, "%s{\"line\": %lu, \"message\": ", i ? ", " : "", s->errors[i].line);
		json_str(out, s->errors[i].msg);
		fputc('}', out);
	}
	fputc(']', out);
	if (s->truncated_line) {
		fprintf(out, ", \"truncated_line\": %lu, \"truncated_kept\": %s",
			s->truncated_line, s->truncated_kept ? "true" : "false");
		if (!s->truncated_kept) {
			fputs(", \"truncated_why\": ", out);
			json_str(out, s->truncated_why);
		}
	}
	fputs("}\n", out);
}

void trace_summary_print_errors(FILE *out, const struct trace_summary *s, const char *name)
{
	for (unsigned i = 0; i < s->nr_errors; i++)
		fprintf(out, "%s:%lu: %s\n", name, s->errors[i].line, s->errors[i].msg);
	if (s->malformed > s->nr_errors)
		fprintf(out, "%s: %lu more malformed lines not shown\n", name,
			s->malformed - s->nr_errors);
	if (s->truncated_line && s->truncated_kept)
		fprintf(out, "%s:%lu: no line end at the end of the file; the line parsed and "
			"is counted\n", name, s->truncated_line);
	else if (s->truncated_line)
		fprintf(out, "%s:%lu: truncated last line (no line end), skipped: %s\n", name,
			s->truncated_line, s->truncated_why);
}
