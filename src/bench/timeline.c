/*
 * timeline.c — the trace-event JSON writer of timeline.h. Each event is
 * built in memory, escaped as RFC 8259 section 7 asks, then handed to the
 * stream in one fwrite, so that running out of memory drops a whole event
 * and never leaves half of one in the file.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bench/timeline.h"
#include "fmt/bits.h"
#include "fmt/desc.h"

/* An event under construction; @oom once an append could not grow it. */
struct tl_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

struct tl_lane {
	char *name;
	int id;			/* track id */
};

struct tl_group {
	char *name;
	struct tl_lane *lanes;
	unsigned nlanes, cap;
};

struct tl {
	FILE *f;
	bool own;		/* opened by tl_open: closed by tl_close */
	int err;		/* first error, negative errno; 0: none */
	unsigned long events;	/* handed to the stream without error */
	struct tl_group *groups;
	unsigned ngroups, cap_groups;
	unsigned *track_group;	/* track id -> index in @groups */
	unsigned ntracks, cap_tracks;
	struct tl_buf b;
};

static void tl_fail(struct tl *t, int err)
{
	if (!t->err)
		t->err = err;
}

/* ---- building one event ---- */

static bool buf_reserve(struct tl_buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->len + more <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void buf_add(struct tl_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void buf_puts(struct tl_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_printf(struct tl_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Only for the short numeric fields, which always fit. */
static void buf_printf(struct tl_buf *b, const char *fmt, ...)
{
	char s[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(s)) {
		b->oom = true;
		return;
	}
	buf_add(b, s, (size_t)n);
}

/*
 * Length of the well-formed UTF-8 sequence at @s, or 0. RFC 3629
 * section 4: no overlong forms, no surrogates (U+D800..DFFF), nothing above
 * U+10FFFF. A NUL fails the continuation test, so a cut sequence never
 * reads past the end of the string.
 */
static unsigned utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	unsigned n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/*
 * @s as a JSON string. RFC 8259 section 7: '"', '\\' and U+0000..U+001F
 * must be escaped; everything else may appear as it is. Bytes that are not
 * well-formed UTF-8 become '?', since JSON text must be UTF-8 (section 8.1).
 */
static void buf_str(struct tl_buf *b, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	unsigned n;

	buf_add(b, "\"", 1);
	while (*s) {
		char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

		switch (*s) {
		case '"':
			buf_add(b, "\\\"", 2);
			break;
		case '\\':
			buf_add(b, "\\\\", 2);
			break;
		case '\n':
			buf_add(b, "\\n", 2);
			break;
		case '\r':
			buf_add(b, "\\r", 2);
			break;
		case '\t':
			buf_add(b, "\\t", 2);
			break;
		case '\b':
			buf_add(b, "\\b", 2);
			break;
		case '\f':
			buf_add(b, "\\f", 2);
			break;
		default:
			if (*s < 0x20) {
				esc[4] = hex[*s >> 4];
				esc[5] = hex[*s & 0xf];
				buf_add(b, esc, sizeof(esc));
				break;
			}
			n = utf8_len(s);
			if (!n) {
				buf_add(b, "?", 1);
				break;
			}
			buf_add(b, (const char *)s, n);
			s += n;
			continue;
		}
		s++;
	}
	buf_add(b, "\"", 1);
}

/* Nanoseconds as microseconds with three decimals: exact, no rounding. */
static void buf_us(struct tl_buf *b, uint64_t ns)
{
	buf_printf(b, "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

/*
 * The shortest of %.15g and %.17g that reads back as @v: %.17g always
 * does (IEEE 754 binary64), %.15g gives 0.1 rather than
 * 0.10000000000000001. No JSON number stands for NaN or infinity.
 */
static void buf_f64(struct tl_buf *b, double v)
{
	char s[32];

	if (!isfinite(v)) {
		buf_puts(b, "null");
		return;
	}
	snprintf(s, sizeof(s), "%.15g", v);
	if (strtod(s, NULL) != v)
		snprintf(s, sizeof(s), "%.17g", v);
	buf_puts(b, s);
}

static void buf_args(struct tl_buf *b, const struct tl_arg *args, unsigned nargs)
{
	bool first = true;
	unsigned i;

	if (!args)
		nargs = 0;
	buf_puts(b, ",\"args\":{");
	for (i = 0; i < nargs; i++) {
		const struct tl_arg *a = &args[i];

		if (!a->key)
			continue;
		if (!first)
			buf_add(b, ",", 1);
		first = false;
		buf_str(b, a->key);
		buf_add(b, ":", 1);
		switch (a->kind) {
		case TL_U64:
			buf_printf(b, "%" PRIu64, a->u);
			break;
		case TL_HEX:
			buf_printf(b, "\"0x%" PRIx64 "\"", a->u);
			break;
		case TL_STR:
			if (a->s)
				buf_str(b, a->s);
			else
				buf_puts(b, "null");
			break;
		case TL_F64:
			buf_f64(b, a->f);
			break;
		default:
			buf_puts(b, "null");
			break;
		}
	}
	buf_add(b, "}", 1);
}

static void ev_begin(struct tl *t, const char *ph)
{
	t->b.len = 0;
	t->b.oom = false;
	buf_puts(&t->b, "{\"ph\":\"");
	buf_puts(&t->b, ph);
	buf_add(&t->b, "\"", 1);
}

static void tl_write(struct tl *t, const char *p, size_t n)
{
	errno = 0;
	if (fwrite(p, 1, n, t->f) != n)
		tl_fail(t, errno ? -errno : -EIO);
}

/* Close the event and write it, after the separator from the one before. */
static void ev_end(struct tl *t)
{
	buf_add(&t->b, "}", 1);
	if (t->b.oom) {
		tl_fail(t, -ENOMEM);
		return;
	}
	if (t->events)
		tl_write(t, ",\n", 2);
	errno = 0;
	if (fwrite(t->b.p, 1, t->b.len, t->f) != t->b.len) {
		tl_fail(t, errno ? -errno : -EIO);
		return;
	}
	t->events++;
}

/* ---- tracks ---- */

static void ev_meta(struct tl *t, const char *what, unsigned pid, unsigned tid, const char *name)
{
	ev_begin(t, "M");
	buf_puts(&t->b, ",\"name\":");
	buf_str(&t->b, what);
	buf_printf(&t->b, ",\"pid\":%u,\"tid\":%u,\"args\":{\"name\":", pid, tid);
	buf_str(&t->b, name);
	buf_add(&t->b, "}", 1);
	ev_end(t);
}

/* Grow @*arr of @*cap elements of @size to hold @need. */
static bool grow(void **arr, unsigned *cap, unsigned need, size_t size)
{
	unsigned ncap;
	void *p;

	if (need <= *cap)
		return true;
	if (*cap > UINT_MAX / 2 || need > INT_MAX)
		return false;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(*arr, (size_t)ncap * size);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

/* Index of group @name, created (with its process_name event) if new; -ENOMEM. */
static int group_get(struct tl *t, const char *name)
{
	struct tl_group *g;
	unsigned i;

	for (i = 0; i < t->ngroups; i++)
		if (!strcmp(t->groups[i].name, name))
			return (int)i;
	if (!grow((void **)&t->groups, &t->cap_groups, t->ngroups + 1, sizeof(*t->groups)))
		return -ENOMEM;
	g = &t->groups[t->ngroups];
	memset(g, 0, sizeof(*g));
	g->name = strdup(name);
	if (!g->name)
		return -ENOMEM;
	t->ngroups++;
	/* tid 0: the event names the process, not one of its lanes. */
	ev_meta(t, "process_name", t->ngroups, 0, name);
	return (int)t->ngroups - 1;
}

/*
 * pid: group index + 1. tid: track id + 1, unique in the file rather than
 * in the group, since Perfetto's JSON importer looks a thread_name's
 * thread up by tid alone (Linux tids are system-wide).
 */
int tl_track(struct tl *t, const char *group, const char *name)
{
	struct tl_group *g;
	struct tl_lane *l;
	unsigned i;
	int gi;

	if (!t || !group || !name)
		return -EINVAL;
	gi = group_get(t, group);
	if (gi < 0)
		return gi;
	g = &t->groups[gi];
	for (i = 0; i < g->nlanes; i++)
		if (!strcmp(g->lanes[i].name, name))
			return g->lanes[i].id;
	if (!grow((void **)&g->lanes, &g->cap, g->nlanes + 1, sizeof(*g->lanes)) ||
	    !grow((void **)&t->track_group, &t->cap_tracks, t->ntracks + 1,
		  sizeof(*t->track_group)))
		return -ENOMEM;
	l = &g->lanes[g->nlanes];
	l->name = strdup(name);
	if (!l->name)
		return -ENOMEM;
	l->id = (int)t->ntracks;
	g->nlanes++;
	t->track_group[t->ntracks++] = (unsigned)gi;
	ev_meta(t, "thread_name", (unsigned)gi + 1, (unsigned)l->id + 1, name);
	return l->id;
}

/* ---- events ---- */

static bool track_ok(const struct tl *t, int track)
{
	return t && track >= 0 && (unsigned)track < t->ntracks;
}

static void ev_common(struct tl *t, int track, const char *name, const char *cat, uint64_t ts_ns)
{
	buf_puts(&t->b, ",\"name\":");
	buf_str(&t->b, name);
	if (cat) {
		buf_puts(&t->b, ",\"cat\":");
		buf_str(&t->b, cat);
	}
	buf_printf(&t->b, ",\"pid\":%u,\"tid\":%u,\"ts\":", t->track_group[track] + 1,
		   (unsigned)track + 1);
	buf_us(&t->b, ts_ns);
}

void tl_span(struct tl *t, int track, const char *name, const char *cat, uint64_t ts_ns,
	     uint64_t dur_ns, const struct tl_arg *args, unsigned nargs)
{
	if (!track_ok(t, track))
		return;
	ev_begin(t, "X");
	ev_common(t, track, name, cat, ts_ns);
	buf_puts(&t->b, ",\"dur\":");
	buf_us(&t->b, dur_ns);
	buf_args(&t->b, args, nargs);
	ev_end(t);
}

void tl_instant(struct tl *t, int track, const char *name, const char *cat, uint64_t ts_ns,
		const struct tl_arg *args, unsigned nargs)
{
	if (!track_ok(t, track))
		return;
	ev_begin(t, "i");
	buf_puts(&t->b, ",\"s\":\"t\"");
	ev_common(t, track, name, cat, ts_ns);
	buf_args(&t->b, args, nargs);
	ev_end(t);
}

void tl_counter(struct tl *t, const char *group, const char *name, uint64_t ts_ns, double value)
{
	int gi;

	if (!t || !group || !name || !isfinite(value))
		return;
	gi = group_get(t, group);
	if (gi < 0) {
		tl_fail(t, gi);
		return;
	}
	ev_begin(t, "C");
	buf_puts(&t->b, ",\"name\":");
	buf_str(&t->b, name);
	buf_printf(&t->b, ",\"pid\":%d,\"tid\":0,\"ts\":", gi + 1);
	buf_us(&t->b, ts_ns);
	buf_puts(&t->b, ",\"args\":{\"value\":");
	buf_f64(&t->b, value);
	buf_add(&t->b, "}", 1);
	ev_end(t);
}

unsigned long tl_events(const struct tl *t)
{
	return t ? t->events : 0;
}

/* ---- opening and closing ---- */

static const char tl_head[] = "{\"traceEvents\":[\n";

struct tl *tl_open_stream(FILE *f)
{
	struct tl *t;

	if (!f)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->f = f;
	tl_write(t, tl_head, sizeof(tl_head) - 1);
	return t;
}

struct tl *tl_open(const char *path, char *err, size_t errlen)
{
	bool std = path && !strcmp(path, "-");
	struct tl *t;
	FILE *f;

	if (!path) {
		if (err && errlen)
			snprintf(err, errlen, "(null): %s", strerror(EINVAL));
		return NULL;
	}
	f = std ? stdout : fopen(path, "w");
	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	t = tl_open_stream(f);
	if (!t) {
		if (!std)
			fclose(f);
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return NULL;
	}
	t->own = !std;
	return t;
}

int tl_close(struct tl *t)
{
	static const char tail[] = "],\"displayTimeUnit\":\"ns\"}\n";
	unsigned i, j;
	int err;

	if (!t)
		return 0;
	if (t->events)
		tl_write(t, "\n", 1);
	tl_write(t, tail, sizeof(tail) - 1);
	errno = 0;
	if (fflush(t->f))
		tl_fail(t, errno ? -errno : -EIO);
	if (ferror(t->f))
		tl_fail(t, -EIO);
	if (t->own) {
		errno = 0;
		if (fclose(t->f))
			tl_fail(t, errno ? -errno : -EIO);
	}
	err = t->err;
	for (i = 0; i < t->ngroups; i++) {
		for (j = 0; j < t->groups[i].nlanes; j++)
			free(t->groups[i].lanes[j].name);
		free(t->groups[i].lanes);
		free(t->groups[i].name);
	}
	free(t->groups);
	free(t->track_group);
	free(t->b.p);
	free(t);
	return err;
}

void tl_desc(struct tl *t, int track, const struct vtd_desc *d, uint64_t ts_ns)
{
	struct vtd_desc_fields f;

	if (!t)
		return;
	vtd_desc_decode(d, &f);
	bool did = f.type == DESC_IOTLB || f.type == DESC_PIOTLB || f.type == DESC_CC;
	bool addr = f.type == DESC_IOTLB || f.type == DESC_PIOTLB || f.type == DESC_DEVTLB;
	bool am = f.type == DESC_IOTLB || f.type == DESC_PIOTLB;
	bool dev = f.type == DESC_DEVTLB;
	struct tl_arg a[] = {
		{ "g", TL_U64, f.g },
		{ did ? "did" : NULL, TL_U64, f.did },
		{ addr ? "addr" : NULL, TL_HEX, f.addr },
		{ am ? "am" : NULL, TL_U64, f.am },
		{ dev ? "sid" : NULL, TL_HEX, f.sid },
		{ dev ? "s" : NULL, TL_U64, f.s },
	};

	tl_instant(t, track, vtd_desc_type_name(f.type), "qi", ts_ns, a, ARRAY_SIZE(a));
}
