/*
 * test_bench_timeline.c — the trace-event JSON writer (src/bench/timeline.h)
 * read back through the tests' strict JSON parser (json.h): structure,
 * metadata per track, the ns -> us conversion digit by digit, args,
 * escaping of hostile names, the error paths; then the parser itself, which
 * must reject every malformed input at the right offset and accept the
 * edge cases of RFC 8259.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "json.h"
#include "bench/timeline.h"

/* ---- helpers: _op() returns a status, op() asserts it ---- */

/* A timeline being written to a temporary file, and the parsed result. */
struct tlrun {
	char path[64];
	struct tl *t;
	struct jv *root;
	char *text;		/* the file's bytes, NUL-terminated */
	size_t len;
};

static int tmp_file_op(char path[64])
{
	int fd;

	snprintf(path, 64, "/tmp/vtdkit-timeline-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		path[0] = '\0';
		return -errno;
	}
	close(fd);
	return 0;
}

static void tmp_file(char path[64])
{
	ASSERT_EQ(0, tmp_file_op(path));
}

static char *read_all_op(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			char *p = realloc(buf, cap = (cap + 4096) * 2);

			if (!p) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void run_open(struct tlrun *r)
{
	char err[256] = "";

	tmp_file(r->path);
	r->t = tl_open(r->path, err, sizeof(err));
	if (!r->t)
		TH_LOG("tl_open: %s", err);
	ASSERT_NONNULL(r->t);
}

static void run_release(struct tlrun *r)
{
	tl_close(r->t);
	r->t = NULL;
	jv_free(r->root);
	r->root = NULL;
	free(r->text);
	r->text = NULL;
	if (r->path[0])
		unlink(r->path);
}

/*
 * Every event is an object with a one-letter "ph" and a "name", and the
 * keys each phase needs: pid always; tid, ts for X and i; dur for X.
 */
static void check_event_shape(const struct jv *e, size_t i)
{
	const char *ph = jv_str(jv_get(e, "ph"));

	if (jv_kind(e) != JV_OBJ || !ph)
		TH_LOG("event %zu is not an object with a \"ph\"", i);
	ASSERT_EQ(JV_OBJ, jv_kind(e));
	ASSERT_NONNULL(ph);
	ASSERT_EQ(1, strlen(ph));
	ASSERT_NONNULL(strchr("XiCM", ph[0]));
	ASSERT_EQ(JV_STR, jv_kind(jv_get(e, "name")));
	ASSERT_EQ(JV_NUM, jv_kind(jv_get(e, "pid")));
	ASSERT_LE(1, (long)jv_num(jv_get(e, "pid")));
	ASSERT_EQ(JV_NUM, jv_kind(jv_get(e, "tid")));
	ASSERT_EQ(JV_OBJ, jv_kind(jv_get(e, "args")));
	if (ph[0] != 'M')
		ASSERT_EQ(JV_NUM, jv_kind(jv_get(e, "ts")));
	ASSERT_EQ(ph[0] == 'X', jv_get(e, "dur") != NULL);
}

/*
 * Close the timeline (must return 0), read the file and parse it: one
 * object {"traceEvents":[...],"displayTimeUnit":"ns"} in that order.
 * Returns the events.
 */
static const struct jv *run_finish(struct tlrun *r)
{
	const struct jv *ev;
	char err[256] = "";
	size_t i;

	ASSERT_EQ(0, tl_close(r->t));
	r->t = NULL;
	r->text = read_all_op(r->path, &r->len);
	ASSERT_NONNULL(r->text);
	r->root = jv_parse(r->text, r->len, err, sizeof(err));
	if (!r->root)
		TH_LOG("%s: %s", r->path, err);
	ASSERT_NONNULL(r->root);
	ASSERT_EQ(JV_OBJ, jv_kind(r->root));
	ASSERT_EQ(2, jv_len(r->root));
	ASSERT_STREQ("traceEvents", jv_key(r->root, 0));
	ASSERT_STREQ("displayTimeUnit", jv_key(r->root, 1));
	ASSERT_STREQ("ns", jv_str(jv_get(r->root, "displayTimeUnit")));
	ev = jv_get(r->root, "traceEvents");
	ASSERT_EQ(JV_ARR, jv_kind(ev));
	for (i = 0; i < jv_len(ev); i++)
		check_event_shape(jv_at(ev, i), i);
	return ev;
}

/* The @nth event (0-based) with phase @ph and name @name, or NULL. */
static const struct jv *find_event(const struct jv *ev, const char *ph, const char *name,
				   unsigned nth)
{
	size_t i;

	for (i = 0; i < jv_len(ev); i++) {
		const struct jv *e = jv_at(ev, i);

		if (!strcmp(jv_str(jv_get(e, "ph")), ph) &&
		    (!name || !strcmp(jv_str(jv_get(e, "name")), name)) && !nth--)
			return e;
	}
	return NULL;
}

static unsigned count_events(const struct jv *ev, const char *ph, const char *name)
{
	unsigned n = 0;

	while (find_event(ev, ph, name, n))
		n++;
	return n;
}

/* The metadata event @what ("process_name", "thread_name") whose args.name is @name. */
static const struct jv *find_meta(const struct jv *ev, const char *what, const char *name)
{
	const struct jv *e;
	unsigned i;

	for (i = 0; (e = find_event(ev, "M", what, i)); i++)
		if (!strcmp(jv_str(jv_get(jv_get(e, "args"), "name")), name))
			return e;
	return NULL;
}

static long num_of(const struct jv *e, const char *key)
{
	return (long)jv_num(jv_get(e, key));
}

/* Member @key of @e is the number written exactly @text, of value @val. */
static void expect_num(const struct jv *e, const char *key, const char *text, double val)
{
	const struct jv *v = jv_get(e, key);

	EXPECT_EQ(JV_NUM, jv_kind(v));
	EXPECT_STREQ(text, jv_num_text(v));
	if (jv_num(v) != val)
		TH_LOG("%s: %.17g, want %.17g", key, jv_num(v), val);
	EXPECT_TRUE(jv_num(v) == val);
}

/* ---- the writer ---- */

FIXTURE(bench_timeline_file) {
	struct tlrun r;
};

FIXTURE_SETUP(bench_timeline_file)
{
	run_open(&self->r);
}

FIXTURE_TEARDOWN(bench_timeline_file)
{
	run_release(&self->r);
}

TEST_F(bench_timeline_file, empty)
{
	const struct jv *ev;

	EXPECT_EQ(0, tl_events(self->r.t));
	ev = run_finish(&self->r);
	EXPECT_EQ(0, jv_len(ev));
	EXPECT_STREQ("{\"traceEvents\":[\n],\"displayTimeUnit\":\"ns\"}\n", self->r.text);
}

/* Tracks: ids in order of creation, one process_name per group, one thread_name per lane. */
TEST_F(bench_timeline_file, tracks_metadata)
{
	struct tl *t = self->r.t;
	const struct jv *ev, *e;

	ASSERT_EQ(0, tl_track(t, "CPU threads", "t0"));
	ASSERT_EQ(1, tl_track(t, "CPU threads", "t1"));
	ASSERT_EQ(2, tl_track(t, "devices", "dev 01:00.0"));
	ASSERT_EQ(3, tl_track(t, "units", "dmar0"));
	EXPECT_EQ(3 + 4, tl_events(t));
	ev = run_finish(&self->r);
	ASSERT_EQ(7, jv_len(ev));
	EXPECT_EQ(3, count_events(ev, "M", "process_name"));
	EXPECT_EQ(4, count_events(ev, "M", "thread_name"));

	/* The group's name comes before its first lane's. */
	e = jv_at(ev, 0);
	EXPECT_STREQ("process_name", jv_str(jv_get(e, "name")));
	EXPECT_STREQ("CPU threads", jv_str(jv_get(jv_get(e, "args"), "name")));
	e = jv_at(ev, 1);
	EXPECT_STREQ("thread_name", jv_str(jv_get(e, "name")));
	EXPECT_STREQ("t0", jv_str(jv_get(jv_get(e, "args"), "name")));

	/* pid: group index + 1; tid: track id + 1 (0 for the process itself). */
	e = find_meta(ev, "process_name", "CPU threads");
	EXPECT_EQ(1, num_of(e, "pid"));
	EXPECT_EQ(0, num_of(e, "tid"));
	e = find_meta(ev, "process_name", "devices");
	EXPECT_EQ(2, num_of(e, "pid"));
	e = find_meta(ev, "process_name", "units");
	EXPECT_EQ(3, num_of(e, "pid"));
	e = find_meta(ev, "thread_name", "t0");
	EXPECT_EQ(1, num_of(e, "pid"));
	EXPECT_EQ(1, num_of(e, "tid"));
	e = find_meta(ev, "thread_name", "t1");
	EXPECT_EQ(1, num_of(e, "pid"));
	EXPECT_EQ(2, num_of(e, "tid"));
	e = find_meta(ev, "thread_name", "dev 01:00.0");
	EXPECT_EQ(2, num_of(e, "pid"));
	EXPECT_EQ(3, num_of(e, "tid"));
	e = find_meta(ev, "thread_name", "dmar0");
	EXPECT_EQ(3, num_of(e, "pid"));
	EXPECT_EQ(4, num_of(e, "tid"));
}

TEST_F(bench_timeline_file, same_pair_same_id)
{
	struct tl *t = self->r.t;
	const struct jv *ev;
	unsigned long n;
	int a, b, c, d;

	a = tl_track(t, "g", "t0");
	ASSERT_EQ(0, a);
	n = tl_events(t);
	EXPECT_EQ(2, n);
	EXPECT_EQ(a, tl_track(t, "g", "t0"));
	EXPECT_EQ(a, tl_track(t, "g", "t0"));
	EXPECT_EQ(n, tl_events(t));		/* no metadata again */

	/* The pair is the key, not its concatenation or either half. */
	b = tl_track(t, "h", "t0");
	c = tl_track(t, "g b", "c");
	d = tl_track(t, "g", "b c");
	EXPECT_EQ(1, b);
	EXPECT_EQ(2, c);
	EXPECT_EQ(3, d);
	EXPECT_EQ(b, tl_track(t, "h", "t0"));
	EXPECT_EQ(d, tl_track(t, "g", "b c"));
	EXPECT_EQ(n + 2 + 2 + 1, tl_events(t));

	ev = run_finish(&self->r);
	EXPECT_EQ(3, count_events(ev, "M", "process_name"));
	EXPECT_EQ(4, count_events(ev, "M", "thread_name"));
}

/* Spans: ph X, ts and dur in microseconds with exactly three decimals. */
TEST_F(bench_timeline_file, span_times)
{
	struct tl *t = self->r.t;
	const struct jv *ev, *e;
	int k;

	k = tl_track(t, "CPU threads", "t0");
	ASSERT_LE(0, k);
	tl_span(t, k, "map", "dma", 1500, 2, NULL, 0);
	tl_span(t, k, "unmap", NULL, 123456789012345ull, 0, NULL, 0);
	tl_span(t, k, "end", "x", UINT64_MAX, 999, NULL, 0);
	tl_span(t, k, NULL, "x", 0, 1000, NULL, 0);
	EXPECT_EQ(2 + 4, tl_events(t));
	ev = run_finish(&self->r);
	ASSERT_EQ(4, count_events(ev, "X", NULL));

	e = find_event(ev, "X", "map", 0);
	ASSERT_NONNULL(e);
	expect_num(e, "ts", "1.500", 1.5);
	expect_num(e, "dur", "0.002", 0.002);
	EXPECT_STREQ("dma", jv_str(jv_get(e, "cat")));
	EXPECT_EQ(1, num_of(e, "pid"));
	EXPECT_EQ(1, num_of(e, "tid"));
	EXPECT_EQ(0, jv_len(jv_get(e, "args")));

	e = find_event(ev, "X", "unmap", 0);
	ASSERT_NONNULL(e);
	expect_num(e, "ts", "123456789012.345", 123456789012.345);
	expect_num(e, "dur", "0.000", 0);
	EXPECT_NULL(jv_get(e, "cat"));		/* NULL category: no "cat" */

	e = find_event(ev, "X", "end", 0);
	ASSERT_NONNULL(e);
	EXPECT_STREQ("18446744073709551.615", jv_num_text(jv_get(e, "ts")));
	expect_num(e, "dur", "0.999", 0.999);

	e = find_event(ev, "X", "", 0);		/* NULL name: "" */
	ASSERT_NONNULL(e);
	expect_num(e, "ts", "0.000", 0);
	expect_num(e, "dur", "1.000", 1);
}

/* Every argument kind, as the detail pane will show it. */
TEST_F(bench_timeline_file, span_args)
{
	const struct tl_arg args[] = {
		{ .key = "pages", .kind = TL_U64, .u = 16 },
		{ .key = "max", .kind = TL_U64, .u = UINT64_MAX },
		{ .key = "iova", .kind = TL_HEX, .u = 0xfee00000 },
		{ .key = "zero", .kind = TL_HEX, .u = 0 },
		{ .key = "dev", .kind = TL_STR, .s = "01:00.0" },
		{ .key = "none", .kind = TL_STR, .s = NULL },
		{ .key = NULL, .kind = TL_U64, .u = 1 },	/* left out */
		{ .key = "tenth", .kind = TL_F64, .f = 0.1 },
		{ .key = "third", .kind = TL_F64, .f = 1.0 / 3 },
		{ .key = "neg", .kind = TL_F64, .f = -2.5e-7 },
		{ .key = "nan", .kind = TL_F64, .f = NAN },
		{ .key = "inf", .kind = TL_F64, .f = -INFINITY },
	};
	struct tl *t = self->r.t;
	const struct jv *ev, *a;
	int k;

	k = tl_track(t, "units", "dmar0");
	ASSERT_LE(0, k);
	tl_span(t, k, "qi", "qi", 10, 20, args, sizeof(args) / sizeof(args[0]));
	tl_instant(t, k, "fault", NULL, 30, args, 0);
	tl_instant(t, k, "fault2", NULL, 30, NULL, 3);
	ev = run_finish(&self->r);
	a = jv_get(find_event(ev, "X", "qi", 0), "args");
	ASSERT_EQ(JV_OBJ, jv_kind(a));
	EXPECT_EQ(11, jv_len(a));
	EXPECT_STREQ("16", jv_num_text(jv_get(a, "pages")));
	EXPECT_STREQ("18446744073709551615", jv_num_text(jv_get(a, "max")));
	EXPECT_STREQ("0xfee00000", jv_str(jv_get(a, "iova")));
	EXPECT_STREQ("0x0", jv_str(jv_get(a, "zero")));
	EXPECT_STREQ("01:00.0", jv_str(jv_get(a, "dev")));
	EXPECT_EQ(JV_NULL, jv_kind(jv_get(a, "none")));
	EXPECT_STREQ("0.1", jv_num_text(jv_get(a, "tenth")));
	EXPECT_TRUE(jv_num(jv_get(a, "third")) == 1.0 / 3);	/* round-trips */
	EXPECT_TRUE(jv_num(jv_get(a, "neg")) == -2.5e-7);
	EXPECT_EQ(JV_NULL, jv_kind(jv_get(a, "nan")));
	EXPECT_EQ(JV_NULL, jv_kind(jv_get(a, "inf")));
	EXPECT_STREQ("pages", jv_key(a, 0));	/* in the order given */
	EXPECT_STREQ("inf", jv_key(a, 10));
	EXPECT_EQ(0, jv_len(jv_get(find_event(ev, "i", "fault", 0), "args")));
	EXPECT_EQ(0, jv_len(jv_get(find_event(ev, "i", "fault2", 0), "args")));
}

TEST_F(bench_timeline_file, instant)
{
	const struct tl_arg arg = { .key = "reason", .kind = TL_U64, .u = 6 };
	struct tl *t = self->r.t;
	const struct jv *ev, *e;
	int k;

	ASSERT_EQ(0, tl_track(t, "CPU threads", "t0"));
	k = tl_track(t, "devices", "dev 01:00.0");
	ASSERT_EQ(1, k);
	tl_instant(t, k, "fault", "dma", 2000001, &arg, 1);
	EXPECT_EQ(4 + 1, tl_events(t));
	ev = run_finish(&self->r);
	ASSERT_EQ(1, count_events(ev, "i", NULL));
	e = find_event(ev, "i", "fault", 0);
	ASSERT_NONNULL(e);
	EXPECT_STREQ("t", jv_str(jv_get(e, "s")));
	EXPECT_STREQ("dma", jv_str(jv_get(e, "cat")));
	expect_num(e, "ts", "2000.001", 2000.001);
	EXPECT_NULL(jv_get(e, "dur"));
	EXPECT_EQ(2, num_of(e, "pid"));
	EXPECT_EQ(2, num_of(e, "tid"));
	EXPECT_EQ(6, num_of(jv_get(e, "args"), "reason"));
}

/* Counters: ph C in their group's process, one "value" each; no track needed. */
TEST_F(bench_timeline_file, counter)
{
	struct tl *t = self->r.t;
	const struct jv *ev, *e;
	unsigned long n;

	ASSERT_EQ(0, tl_track(t, "units", "dmar0"));
	tl_counter(t, "units", "iotlb entries", 2500, 3.5);
	tl_counter(t, "counters", "pages mapped", 0, 1);
	tl_counter(t, "counters", "pages mapped", 1000, 4096);
	n = tl_events(t);
	EXPECT_EQ(2 + 1 + 1 + 2, n);		/* "counters" named once */
	tl_counter(t, "counters", "pages mapped", 2000, NAN);
	tl_counter(t, "counters", "pages mapped", 2000, INFINITY);
	tl_counter(t, NULL, "x", 0, 1);
	tl_counter(t, "counters", NULL, 0, 1);
	EXPECT_EQ(n, tl_events(t));		/* no JSON for NaN: dropped */
	ev = run_finish(&self->r);
	EXPECT_EQ(3, count_events(ev, "C", NULL));
	EXPECT_EQ(2, count_events(ev, "M", "process_name"));

	e = find_event(ev, "C", "iotlb entries", 0);
	ASSERT_NONNULL(e);
	EXPECT_EQ(1, num_of(e, "pid"));			/* the track's group */
	expect_num(e, "ts", "2.500", 2.5);
	expect_num(jv_get(e, "args"), "value", "3.5", 3.5);
	EXPECT_EQ(1, jv_len(jv_get(e, "args")));

	EXPECT_EQ(2, num_of(find_meta(ev, "process_name", "counters"), "pid"));
	e = find_event(ev, "C", "pages mapped", 1);
	ASSERT_NONNULL(e);
	EXPECT_EQ(2, num_of(e, "pid"));
	expect_num(e, "ts", "1.000", 1);
	expect_num(jv_get(e, "args"), "value", "4096", 4096);
}

/*
 * Names with every character JSON must escape, valid multi-byte UTF-8
 * (kept), and ill-formed UTF-8 (each bad byte becomes '?'): the file still
 * parses, is valid UTF-8 (the parser checks), and each string comes back
 * exactly.
 */
#define NASTY								\
	"a\"b\\c\nd\re\tf\bg\fh\x01i\x1fj\x7fk/"			\
	"\xc2\xb5\xe2\x82\xac\xf0\x9f\x98\x80"	/* U+00B5 U+20AC U+1F600 */ \
	"|\xff|\xc0\xaf|\xe2\x82|\xed\xa0\x80|\xf4\x90\x80\x80|\x80|\xf0\x9f\x98"
#define NASTY_BACK							\
	"a\"b\\c\nd\re\tf\bg\fh\x01i\x1fj\x7fk/"			\
	"\xc2\xb5\xe2\x82\xac\xf0\x9f\x98\x80"				\
	"|?|??|??|???|????|?|???"

TEST_F(bench_timeline_file, escaping_round_trip)
{
	const struct tl_arg arg = { .key = NASTY, .kind = TL_STR, .s = NASTY };
	struct tl *t = self->r.t;
	const struct jv *ev, *e;
	size_t i;
	int k;

	k = tl_track(t, NASTY, NASTY);
	ASSERT_EQ(0, k);
	tl_span(t, k, NASTY, NASTY, 1, 1, &arg, 1);
	tl_instant(t, k, NASTY, NASTY, 1, &arg, 1);
	tl_counter(t, NASTY, NASTY, 1, 1);
	ev = run_finish(&self->r);
	ASSERT_EQ(5, jv_len(ev));

	EXPECT_NONNULL(find_meta(ev, "process_name", NASTY_BACK));
	EXPECT_NONNULL(find_meta(ev, "thread_name", NASTY_BACK));
	e = find_event(ev, "X", NASTY_BACK, 0);
	ASSERT_NONNULL(e);
	EXPECT_STREQ(NASTY_BACK, jv_str(jv_get(e, "cat")));
	EXPECT_STREQ(NASTY_BACK, jv_key(jv_get(e, "args"), 0));
	EXPECT_STREQ(NASTY_BACK, jv_str(jv_get(jv_get(e, "args"), NASTY_BACK)));
	e = find_event(ev, "i", NASTY_BACK, 0);
	ASSERT_NONNULL(e);
	EXPECT_STREQ(NASTY_BACK, jv_str(jv_get(e, "cat")));
	EXPECT_NONNULL(find_event(ev, "C", NASTY_BACK, 0));

	/* In the file: control characters escaped, as \u00XX when they have no short form. */
	EXPECT_NONNULL(strstr(self->r.text, "h\\u0001i\\u001fj\x7fk/"));
	EXPECT_NONNULL(strstr(self->r.text, "a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh"));
	for (i = 0; i < self->r.len; i++)
		if ((unsigned char)self->r.text[i] < 0x20 && self->r.text[i] != '\n')
			break;
	EXPECT_EQ(self->r.len, i);	/* no raw control byte but the line ends */
}

/* Bad track ids and NULL handles are ignored: no event, no crash, valid JSON. */
TEST_F(bench_timeline_file, bad_track_ignored)
{
	struct tl *t = self->r.t;
	const struct jv *ev;
	unsigned long n;
	int k;

	k = tl_track(t, "g", "t0");
	ASSERT_EQ(0, k);
	n = tl_events(t);
	tl_span(t, -1, "neg", NULL, 0, 1, NULL, 0);
	tl_span(t, 1, "next", NULL, 0, 1, NULL, 0);
	tl_span(t, 99, "far", NULL, 0, 1, NULL, 0);
	tl_span(t, INT32_MIN, "min", NULL, 0, 1, NULL, 0);
	tl_instant(t, 1, "next", NULL, 0, NULL, 0);
	tl_span(NULL, 0, "null", NULL, 0, 1, NULL, 0);
	tl_instant(NULL, 0, "null", NULL, 0, NULL, 0);
	tl_counter(NULL, "g", "c", 0, 1);
	EXPECT_EQ(-EINVAL, tl_track(t, NULL, "x"));
	EXPECT_EQ(-EINVAL, tl_track(t, "g", NULL));
	EXPECT_EQ(n, tl_events(t));
	tl_span(t, k, "ok", NULL, 0, 1, NULL, 0);
	EXPECT_EQ(n + 1, tl_events(t));
	ev = run_finish(&self->r);
	EXPECT_EQ(n + 1, jv_len(ev));
	EXPECT_EQ(1, count_events(ev, "X", NULL));
	EXPECT_NONNULL(find_event(ev, "X", "ok", 0));
}

/* One event per line: the lines between the brackets each parse alone. */
TEST_F(bench_timeline_file, one_event_per_line)
{
	struct tl *t = self->r.t;
	char *line, *save = NULL, err[128];
	unsigned lines = 0;
	int k;

	k = tl_track(t, "g", "t0");
	tl_span(t, k, "a,b\nc", NULL, 1, 2, NULL, 0);
	tl_instant(t, k, "}],{", NULL, 3, NULL, 0);
	tl_counter(t, "g", "c", 4, 5);
	run_finish(&self->r);
	for (line = strtok_r(self->r.text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(line);
		struct jv *v;

		lines++;
		if (lines == 1) {
			EXPECT_STREQ("{\"traceEvents\":[", line);
			continue;
		}
		if (line[0] == ']') {
			EXPECT_STREQ("],\"displayTimeUnit\":\"ns\"}", line);
			continue;
		}
		if (n && line[n - 1] == ',')
			n--;
		v = jv_parse(line, n, err, sizeof(err));
		if (!v)
			TH_LOG("line %u: %s: %s", lines, err, line);
		EXPECT_EQ(JV_OBJ, jv_kind(v));
		jv_free(v);
	}
	EXPECT_EQ(2 + 5, lines);
}

/* Many events and a long name: growth of every buffer, all counted. */
TEST_F(bench_timeline_file, many_events)
{
	enum { LANES = 40, SPANS = 20000, LONG = 100000 };
	struct tl *t = self->r.t;
	const struct jv *ev, *e;
	char name[32], *big;
	unsigned i;

	for (i = 0; i < LANES; i++) {
		snprintf(name, sizeof(name), "t%u", i);
		ASSERT_EQ((int)i, tl_track(t, i % 2 ? "odd" : "even", name));
	}
	for (i = 0; i < SPANS; i++)
		tl_span(t, (int)(i % LANES), "s", "c", (uint64_t)i * 1000, 999, NULL, 0);
	big = malloc(LONG + 1);
	ASSERT_NONNULL(big);
	memset(big, 'x', LONG);
	big[LONG] = '\0';
	big[LONG / 2] = '"';
	tl_instant(t, 7, big, NULL, 5, NULL, 0);
	EXPECT_EQ(2 + LANES + SPANS + 1, tl_events(t));
	ev = run_finish(&self->r);
	EXPECT_EQ(2 + LANES + SPANS + 1, jv_len(ev));
	e = find_event(ev, "X", "s", SPANS - 1);
	ASSERT_NONNULL(e);
	expect_num(e, "ts", "19999.000", 19999.0);	/* i * 1000 ns */
	EXPECT_EQ((SPANS - 1) % LANES + 1, num_of(e, "tid"));
	EXPECT_EQ(2, num_of(e, "pid"));			/* lane 39 is odd */
	e = find_event(ev, "i", big, 0);
	EXPECT_NONNULL(e);
	EXPECT_EQ(8, num_of(e, "tid"));
	free(big);
}

/* ---- error paths ---- */

TEST(bench_timeline_null_and_bad_args)
{
	char err[64] = "unchanged";

	EXPECT_EQ(0, tl_close(NULL));
	EXPECT_EQ(0, tl_events(NULL));
	EXPECT_EQ(-EINVAL, tl_track(NULL, "g", "t"));
	EXPECT_NULL(tl_open_stream(NULL));
	EXPECT_NULL(tl_open(NULL, err, sizeof(err)));
	EXPECT_STRNE("unchanged", err);
}

/* A write error (ENOSPC from /dev/full) is remembered and returned by tl_close. */
TEST(bench_timeline_write_error_returned)
{
	char err[256] = "";
	struct tl *t;
	unsigned i;
	int k;

	if (access("/dev/full", W_OK))
		SKIP(return, "no writable /dev/full");
	t = tl_open("/dev/full", err, sizeof(err));
	if (!t)
		TH_LOG("%s", err);
	ASSERT_NONNULL(t);
	k = tl_track(t, "g", "t0");
	ASSERT_EQ(0, k);
	/* Enough to overflow stdio's buffer, so some writes fail on the way. */
	for (i = 0; i < 2000; i++)
		tl_span(t, k, "span", "cat", i, 1, NULL, 0);
	EXPECT_GT(2 + 2000, tl_events(t));	/* the failed ones are not counted */
	EXPECT_EQ(-ENOSPC, tl_close(t));
}

/* The same with nothing written before tl_close: the final flush fails. */
TEST(bench_timeline_write_error_at_close)
{
	char err[256] = "";
	struct tl *t;

	if (access("/dev/full", W_OK))
		SKIP(return, "no writable /dev/full");
	t = tl_open("/dev/full", err, sizeof(err));
	ASSERT_NONNULL(t);
	EXPECT_EQ(-ENOSPC, tl_close(t));
}

/* A stream that cannot be written (opened read-only): the error, and the stream stays open. */
TEST(bench_timeline_stream_error)
{
	char path[64];
	struct tl *t;
	FILE *f;
	int rc;

	tmp_file(path);
	f = fopen(path, "r");
	unlink(path);
	ASSERT_NONNULL(f);
	t = tl_open_stream(f);
	ASSERT_NONNULL(t);
	tl_track(t, "g", "t0");
	rc = tl_close(t);
	EXPECT_EQ(-EBADF, rc);
	EXPECT_EQ(0, fclose(f));
}

/* tl_open_stream writes into the caller's stream and leaves it open. */
TEST(bench_timeline_stream_left_open)
{
	char err[128], buf[4096];
	struct jv *v;
	struct tl *t;
	size_t n;
	FILE *f;

	f = tmpfile();
	ASSERT_NONNULL(f);
	t = tl_open_stream(f);
	ASSERT_NONNULL(t);
	tl_span(t, tl_track(t, "g", "t0"), "s", NULL, 1, 1, NULL, 0);
	EXPECT_EQ(3, tl_events(t));
	ASSERT_EQ(0, tl_close(t));
	EXPECT_LT(0, ftell(f));			/* still open, all flushed */
	rewind(f);
	n = fread(buf, 1, sizeof(buf), f);
	v = jv_parse(buf, n, err, sizeof(err));
	if (!v)
		TH_LOG("%s", err);
	EXPECT_EQ(3, jv_len(jv_get(v, "traceEvents")));
	jv_free(v);
	EXPECT_EQ(0, fclose(f));
}

/* "-" writes to stdout, which tl_close flushes and leaves open. */
TEST(bench_timeline_stdout)
{
	char path[64], err[128];
	struct tl *t;
	struct jv *v;
	int fd, saved, rc;

	tmp_file(path);
	fd = open(path, O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	ASSERT_LE(0, saved);
	ASSERT_LE(0, dup2(fd, STDOUT_FILENO));
	close(fd);
	t = tl_open("-", err, sizeof(err));
	if (t)
		tl_track(t, "g", "t0");
	rc = tl_close(t);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	EXPECT_NONNULL(t);
	EXPECT_EQ(0, rc);
	v = jv_parse_file(path, err, sizeof(err));
	unlink(path);
	if (!v)
		TH_LOG("%s", err);
	EXPECT_EQ(2, jv_len(jv_get(v, "traceEvents")));
	jv_free(v);
}

/* An unwritable path: NULL, and a message naming the path and the reason. */
TEST(bench_timeline_open_unwritable)
{
	const char *path = "/nonexistent-vtdkit-dir/trace.json";
	char err[256] = "", want[256];

	EXPECT_NULL(tl_open(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	EXPECT_STREQ(want, err);

	EXPECT_NULL(tl_open("/tmp", err, sizeof(err)));	/* a directory */
	snprintf(want, sizeof(want), "/tmp: %s", strerror(EISDIR));
	EXPECT_STREQ(want, err);

	EXPECT_NULL(tl_open(path, NULL, 0));		/* no room for a message is fine */
	EXPECT_NULL(tl_open(path, err, 4));
	EXPECT_EQ(3, strlen(err));
}

/* ---- the JSON parser ---- */

struct bad_json {
	const char *text;
	size_t len;		/* 0: strlen(text) */
	size_t off;		/* where the fault is */
	const char *what;	/* in the message */
};

TEST(bench_timeline_json_rejects)
{
	static const struct bad_json bad[] = {
		{ "", 0, 0, "end of input" },
		{ "  \n", 0, 3, "end of input" },
		{ "[1,]", 0, 3, "trailing comma" },
		{ "[1, ]", 0, 4, "trailing comma" },
		{ "{\"a\":1,}", 0, 7, "trailing comma" },
		{ "[1,,2]", 0, 3, "want a value" },
		{ "[,]", 0, 1, "want a value" },
		{ "[1 2]", 0, 3, "want ','" },
		{ "[\"a\":1]", 0, 4, "want ','" },
		{ "{\"a\" 1}", 0, 5, "':'" },
		{ "{\"a\":}", 0, 5, "want a value" },
		{ "{1:2}", 0, 1, "member name" },
		{ "{'a':2}", 0, 1, "member name" },
		{ "{\"a\":1", 0, 6, "end of input" },
		{ "[", 0, 1, "end of input" },
		{ "\"abc", 0, 4, "unterminated string" },
		{ "\"abc\\", 0, 5, "unterminated string" },
		{ "[\"a]", 0, 4, "unterminated string" },
		{ "\"\\x\"", 0, 1, "bad escape" },
		{ "\"ab\\'\"", 0, 3, "bad escape" },
		{ "\"\\u12\"", 0, 1, "\\u escape" },
		{ "\"\\u12G4\"", 0, 1, "\\u escape" },
		{ "\"\\ud800\"", 0, 1, "unpaired high surrogate" },
		{ "\"\\ud800\\u0041\"", 0, 1, "unpaired high surrogate" },
		{ "\"\\ud800\\ud800\"", 0, 1, "unpaired high surrogate" },
		{ "\"\\udc00\"", 0, 1, "unpaired low surrogate" },
		{ "\"a\tb\"", 0, 2, "control character 0x09" },
		{ "\"a\nb\"", 0, 2, "control character 0x0a" },
		{ "\"\0\"", 3, 1, "control character 0x00" },
		{ "\"\xff\"", 0, 1, "invalid UTF-8" },
		{ "\"\xc0\xaf\"", 0, 1, "invalid UTF-8" },	/* overlong '/' */
		{ "\"\xed\xa0\x80\"", 0, 1, "invalid UTF-8" },	/* a surrogate */
		{ "\"\xf4\x90\x80\x80\"", 0, 1, "invalid UTF-8" }, /* above U+10FFFF */
		{ "\"ab\xe2\x82\"", 0, 3, "invalid UTF-8" },	/* cut short */
		{ "\"\x80\"", 0, 1, "invalid UTF-8" },
		{ "01", 0, 0, "leading zero" },
		{ "-01", 0, 1, "leading zero" },
		{ "[00]", 0, 1, "leading zero" },
		{ "1.", 0, 2, "after '.'" },
		{ "1.e3", 0, 2, "after '.'" },
		{ ".5", 0, 0, "want a value" },
		{ "-", 0, 1, "expected a digit" },
		{ "- 1", 0, 1, "expected a digit" },
		{ "+1", 0, 0, "want a value" },
		{ "1e", 0, 2, "exponent" },
		{ "1e+", 0, 3, "exponent" },
		{ "0x10", 0, 1, "trailing 'x'" },
		{ "NaN", 0, 0, "want a value" },
		{ "Infinity", 0, 0, "want a value" },
		{ "-Infinity", 0, 1, "expected a digit" },
		{ "1e400", 0, 0, "range" },
		{ "-1e400", 0, 0, "range" },
		{ "tru", 0, 0, "invalid literal" },
		{ "True", 0, 0, "want a value" },
		{ "nul", 0, 0, "invalid literal" },
		{ "falsey", 0, 5, "trailing 'y'" },
		{ "[1] x", 0, 4, "trailing 'x'" },
		{ "{} {}", 0, 3, "trailing '{'" },
		{ "\"a\" \"b\"", 0, 4, "trailing" },
		{ "[1]\0", 4, 3, "trailing byte 0x00" },
		{ "\xef\xbb\xbf{}", 0, 0, "byte 0xef" },	/* no byte order mark */
		{ "'a'", 0, 0, "want a value" },
		{ "/* c */ 1", 0, 0, "want a value" },
		{ "[1]\f", 0, 3, "trailing byte 0x0c" },	/* not JSON whitespace */
		{ "\v1", 0, 0, "byte 0x0b" },
	};
	char err[160], prefix[32];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad_json *b = &bad[i];
		size_t len = b->len ? b->len : strlen(b->text);
		struct jv *v;

		snprintf(err, sizeof(err), "untouched");
		v = jv_parse(b->text, len, err, sizeof(err));
		snprintf(prefix, sizeof(prefix), "offset %zu: ", b->off);
		if (v || strncmp(err, prefix, strlen(prefix)) || !strstr(err, b->what))
			TH_LOG("case %zu: got \"%s\", want \"%s...%s\"", i, v ? "(parsed)" : err,
			       prefix, b->what);
		EXPECT_NULL(v);
		EXPECT_EQ(0, strncmp(err, prefix, strlen(prefix)));
		EXPECT_NONNULL(strstr(err, b->what));
		jv_free(v);
	}
}

static struct jv *parse_ok(const char *text, size_t len)
{
	char err[160] = "";
	struct jv *v = jv_parse(text, len ? len : strlen(text), err, sizeof(err));

	if (!v)
		TH_LOG("\"%s\": %s", text, err);
	ASSERT_NONNULL(v);
	return v;
}

TEST(bench_timeline_json_accepts_scalars)
{
	static const struct {
		const char *text, *num;
		double val;
	} nums[] = {
		{ " \t\r\n0 \n", "0", 0 },
		{ "-0", "-0", 0 },
		{ "7", "7", 7 },
		{ "-12.25e2", "-12.25e2", -1225 },
		{ "1.5e+10", "1.5e+10", 1.5e10 },
		{ "1E-2", "1E-2", 0.01 },
		{ "0.000", "0.000", 0 },
		{ "123456789012.345", "123456789012.345", 123456789012.345 },
		{ "1e-400", "1e-400", 0 },		/* underflow is not an error */
		{ "1.7976931348623157e308", "1.7976931348623157e308", 1.7976931348623157e308 },
	};
	struct jv *v;
	size_t i;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		v = parse_ok(nums[i].text, 0);
		EXPECT_EQ(JV_NUM, jv_kind(v));
		EXPECT_STREQ(nums[i].num, jv_num_text(v));
		if (jv_num(v) != nums[i].val)
			TH_LOG("%s: %.17g", nums[i].text, jv_num(v));
		EXPECT_TRUE(jv_num(v) == nums[i].val);
		jv_free(v);
	}
	v = parse_ok("-0", 0);
	EXPECT_TRUE(signbit(jv_num(v)));
	jv_free(v);

	v = parse_ok("true", 0);
	EXPECT_EQ(JV_BOOL, jv_kind(v));
	EXPECT_TRUE(jv_bool(v));
	jv_free(v);
	v = parse_ok(" false ", 0);
	EXPECT_EQ(JV_BOOL, jv_kind(v));
	EXPECT_FALSE(jv_bool(v));
	jv_free(v);
	v = parse_ok("null", 0);
	EXPECT_EQ(JV_NULL, jv_kind(v));
	jv_free(v);
}

TEST(bench_timeline_json_accepts_strings)
{
	static const struct {
		const char *text, *want;
		size_t want_len;	/* 0: strlen(want) */
	} strs[] = {
		{ "\"\"", "", 0 },
		{ "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 0 },
		{ "\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 0 },
		{ "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 0 },	/* a surrogate pair */
		{ "\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 0 },	/* U+10FFFF */
		{ "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
		  "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 0 },
		{ "\"\x7f\"", "\x7f", 0 },	/* DEL needs no escape */
		{ "\"a\\u0000b\"", "a\0b", 3 },
	};
	struct jv *v;
	size_t i;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		size_t n = strs[i].want_len ? strs[i].want_len : strlen(strs[i].want);

		v = parse_ok(strs[i].text, 0);
		EXPECT_EQ(JV_STR, jv_kind(v));
		EXPECT_EQ(n, jv_str_len(v));
		EXPECT_EQ(0, memcmp(strs[i].want, jv_str(v), n + 1));	/* NUL-terminated */
		jv_free(v);
	}
}

TEST(bench_timeline_json_accepts_containers)
{
	const char *text = "{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{\"d\":\"e\"},"
			   "\"\":[],\"a\\u0062\":{},\"a\":2}";
	const struct jv *b, *c;
	struct jv *v;

	v = parse_ok(text, 0);
	ASSERT_EQ(JV_OBJ, jv_kind(v));
	EXPECT_EQ(6, jv_len(v));
	EXPECT_STREQ("a", jv_key(v, 0));
	EXPECT_STREQ("ab", jv_key(v, 4));
	EXPECT_TRUE(jv_num(jv_get(v, "a")) == 1);	/* duplicates: the first */
	EXPECT_TRUE(jv_num(jv_at(v, 5)) == 2);
	EXPECT_EQ(JV_ARR, jv_kind(jv_get(v, "")));
	EXPECT_EQ(JV_OBJ, jv_kind(jv_get(v, "ab")));
	EXPECT_NULL(jv_get(v, "missing"));
	b = jv_get(v, "b");
	EXPECT_EQ(3, jv_len(b));
	EXPECT_TRUE(jv_bool(jv_at(b, 0)));
	EXPECT_EQ(JV_NULL, jv_kind(jv_at(b, 1)));
	EXPECT_STREQ("x", jv_str(jv_at(b, 2)));
	EXPECT_NULL(jv_at(b, 3));
	EXPECT_NULL(jv_key(b, 0));		/* arrays have no names */
	c = jv_get(v, "c");
	EXPECT_STREQ("e", jv_str(jv_get(c, "d")));

	/* Accessors on the wrong kind or on NULL give neutral answers, so lookups chain. */
	EXPECT_EQ(JV_NONE, jv_kind(jv_get(jv_get(v, "missing"), "x")));
	EXPECT_NULL(jv_str(jv_get(v, "a")));
	EXPECT_TRUE(jv_num(jv_get(v, "c")) == 0);
	EXPECT_EQ(0, jv_len(jv_get(v, "a")));
	EXPECT_NULL(jv_get(b, "0"));
	EXPECT_NULL(jv_num_text(c));
	EXPECT_FALSE(jv_bool(NULL));
	EXPECT_STREQ("object", jv_kind_name(jv_kind(v)));
	EXPECT_STREQ("none", jv_kind_name(JV_NONE));
	jv_free(v);
	jv_free(NULL);

	v = parse_ok(" [ ] ", 0);
	EXPECT_EQ(JV_ARR, jv_kind(v));
	EXPECT_EQ(0, jv_len(v));
	jv_free(v);
	v = parse_ok("{ }", 0);
	EXPECT_EQ(JV_OBJ, jv_kind(v));
	jv_free(v);
}

/* JV_MAX_DEPTH nested arrays parse; one more is refused where it opens. */
TEST(bench_timeline_json_depth_limit)
{
	char text[2 * (JV_MAX_DEPTH + 1) + 1], err[128];
	struct jv *v;
	size_t n;

	memset(text, '[', JV_MAX_DEPTH);
	memset(text + JV_MAX_DEPTH, ']', JV_MAX_DEPTH);
	v = parse_ok(text, 2 * JV_MAX_DEPTH);
	jv_free(v);

	n = 2 * (JV_MAX_DEPTH + 1);
	memset(text, '[', JV_MAX_DEPTH + 1);
	memset(text + JV_MAX_DEPTH + 1, ']', JV_MAX_DEPTH + 1);
	v = jv_parse(text, n, err, sizeof(err));
	EXPECT_NULL(v);
	EXPECT_STREQ("offset 256: nesting deeper than 256", err);
	jv_free(v);
}

TEST(bench_timeline_json_parse_file)
{
	const char *missing = "/nonexistent-vtdkit-dir/x.json";
	char path[64], err[256], want[256];
	struct jv *v;
	FILE *f;

	v = jv_parse_file(missing, err, sizeof(err));
	EXPECT_NULL(v);
	snprintf(want, sizeof(want), "%s: %s", missing, strerror(ENOENT));
	EXPECT_STREQ(want, err);

	tmp_file(path);
	f = fopen(path, "w");
	ASSERT_NONNULL(f);
	fputs("{\"k\": [1, 2]}\n", f);
	fclose(f);
	v = jv_parse_file(path, err, sizeof(err));
	EXPECT_EQ(2, jv_len(jv_get(v, "k")));
	jv_free(v);

	f = fopen(path, "w");
	ASSERT_NONNULL(f);
	fputs("{\"k\": [1, 2,]}\n", f);
	fclose(f);
	v = jv_parse_file(path, err, sizeof(err));
	EXPECT_NULL(v);
	EXPECT_STREQ("offset 12: trailing comma", err);
	unlink(path);
}
