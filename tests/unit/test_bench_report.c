/*
 * test_bench_report.c — the report layer (src/bench/report.h): exact
 * text alignment, CSV quoting of nasty strings, JSON checked both as
 * exact text and parsed back (tests/unit/json.h), absent cells, notes,
 * unknown keys and kinds, the cost table in every format, JSON documents;
 * and the progress bar (src/bench/progress.h): its exact output when
 * forced, its rate limit, and nothing at all when not on a terminal.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "json.h"
#include "bench/progress.h"
#include "bench/report.h"

FIXTURE(bench_report) {
	struct rep_table *t;
	FILE *f;
	char *buf;
	size_t len;
	struct jv *doc;
};

FIXTURE_SETUP(bench_report)
{
	self->f = open_memstream(&self->buf, &self->len);
	ASSERT_NONNULL(self->f);
}

FIXTURE_TEARDOWN(bench_report)
{
	if (self->f)
		fclose(self->f);
	free(self->buf);
	rep_table_free(self->t);
	jv_free(self->doc);
}

/* What was written to the fixture's stream so far. */
static const char *text(struct th_fixture_data_bench_report *self)
{
	ASSERT_EQ(0, fflush(self->f));
	return self->buf;
}

/* The output parsed as JSON; asserts it is valid. */
static const struct jv *parse(struct th_fixture_data_bench_report *self)
{
	char err[128] = "";

	text(self);
	jv_free(self->doc);
	self->doc = jv_parse(self->buf, self->len, err, sizeof(err));
	if (!self->doc)
		TH_LOG("not JSON: %s in <%s>", err, self->buf);
	ASSERT_NONNULL(self->doc);
	return self->doc;
}

/* Every kind, and a column that only the machine formats show. */
static const struct rep_col all_cols[] = {
	{ "name", "Name", REP_STR },
	{ "count", "N", REP_U64 },
	{ "delta", "Delta", REP_I64 },
	{ "avg", "Avg ns", REP_F1, "ns" },
	{ "ratio", "Ratio", REP_F2 },
	{ "hit", "Hit", REP_PCT },
	{ "ok", "OK", REP_BOOL },
	{ "secret", "Secret", REP_U64, NULL, REP_NOTEXT },
};
#define NALL	(sizeof(all_cols) / sizeof(all_cols[0]))

static int add_op(struct rep_table *t, const char *name, uint64_t count, int64_t delta,
		  double avg, double ratio, double hit, bool ok)
{
	int row = rep_row(t);
	unsigned r = (unsigned)row;

	if (row < 0)
		return row;
	rep_set_str(t, r, "name", name);
	rep_set_u64(t, r, "count", count);
	rep_set_i64(t, r, "delta", delta);
	rep_set_f(t, r, "avg", avg);
	rep_set_f(t, r, "ratio", ratio);
	rep_set_f(t, r, "hit", hit);
	rep_set_bool(t, r, "ok", ok);
	return rep_error(t) ? rep_error(t) : row;
}

/* Row 0 complete, row 1 without a secret. */
static void two_rows(struct th_fixture_data_bench_report *self)
{
	self->t = rep_table_new("Test table", all_cols, NALL);
	ASSERT_NONNULL(self->t);
	ASSERT_EQ(0, add_op(self->t, "strict", 100000, -5, 899.04, 1.5, 0.123, true));
	ASSERT_EQ(0, rep_set_u64(self->t, 0, "secret", 7));
	ASSERT_EQ(1, add_op(self->t, "lazy-ranged", 7, 12, 3.26, 0.5, 1.0, false));
	ASSERT_EQ(2, rep_rows(self->t));
}

TEST_F(bench_report, text_alignment)
{
	two_rows(self);
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_TEXT));
	/* Widths: 11 6 5 6 5 6 3; the hidden column is left out; no trailing blanks. */
	ASSERT_STREQ("Test table\n"
		     "Name             N Delta Avg ns Ratio    Hit OK\n"
		     "strict      100000    -5  899.0  1.50  12.3% yes\n"
		     "lazy-ranged      7    12    3.3  0.50 100.0% no\n", text(self));
}

TEST_F(bench_report, text_absent_and_note)
{
	two_rows(self);
	ASSERT_EQ(0, rep_clear(self->t, 1, "count"));
	ASSERT_EQ(0, rep_clear(self->t, 1, "ok"));
	ASSERT_EQ(0, rep_clear(self->t, 1, "name"));
	ASSERT_EQ(0, rep_note(self->t, 0, "(varied)"));
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_TEXT));
	/* Widths from the cells left (6, not 11); a note pads the last column first. */
	ASSERT_STREQ("Test table\n"
		     "Name        N Delta Avg ns Ratio    Hit OK\n"
		     "strict 100000    -5  899.0  1.50  12.3% yes  (varied)\n"
		     "-           -    12    3.3  0.50 100.0% -\n", text(self));
}

TEST_F(bench_report, text_multiline_title_and_unsafe_cells)
{
	static const struct rep_col cols[] = {
		{ "s", NULL, REP_STR },
		{ "v", "value", REP_U64 },
	};

	self->t = rep_table_new("Line one\nline\ttwo", cols, 2);
	ASSERT_NONNULL(self->t);
	ASSERT_EQ(0, rep_row(self->t));
	ASSERT_EQ(1, rep_row(self->t));
	ASSERT_EQ(2, rep_row(self->t));
	/* A newline, a bare continuation byte, then "é" (one character, two bytes). */
	ASSERT_EQ(0, rep_set_str(self->t, 0, "s", "a\nb\x80"));
	ASSERT_EQ(0, rep_set_str(self->t, 1, "s", "caf\xc3\xa9"));
	ASSERT_EQ(0, rep_set_str(self->t, 2, "s", ""));
	ASSERT_EQ(0, rep_set_u64(self->t, 2, "v", 12345678));
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_TEXT));
	ASSERT_STREQ("Line one\n"
		     "line?two\n"
		     "s       value\n"
		     "a?b?        -\n"
		     "caf\xc3\xa9        -\n"
		     "     12345678\n", text(self));
}

TEST_F(bench_report, text_special_doubles)
{
	static const struct rep_col cols[] = { { "x", "x", REP_F2 } };

	self->t = rep_table_new(NULL, cols, 1);
	ASSERT_NONNULL(self->t);
	ASSERT_EQ(0, rep_row(self->t));
	ASSERT_EQ(1, rep_row(self->t));
	ASSERT_EQ(2, rep_row(self->t));
	ASSERT_EQ(0, rep_set_f(self->t, 0, "x", -0.004));
	ASSERT_EQ(0, rep_set_f(self->t, 1, "x", INFINITY));
	ASSERT_EQ(0, rep_set_f(self->t, 2, "x", 1e6));
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_TEXT));
	/* No title line without a title. */
	ASSERT_STREQ("         x\n"
		     "     -0.00\n"
		     "       inf\n"
		     "1000000.00\n", text(self));
}

TEST_F(bench_report, csv_quoting)
{
	static const struct rep_col cols[] = {
		{ "s", "S", REP_STR },
		{ "x,y", "XY", REP_U64 },
	};
	static const char *const nasty[] = {
		"plain", "a,b", "say \"hi\"", "two\nlines", "cr\rx", "", NULL, "\"",
	};

	self->t = rep_table_new("ignored in CSV", cols, 2);
	ASSERT_NONNULL(self->t);
	for (unsigned i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++) {
		ASSERT_EQ(i, rep_row(self->t));
		if (!nasty[i])
			continue;	/* both cells absent */
		ASSERT_EQ(0, rep_set_str(self->t, i, "s", nasty[i]));
		ASSERT_EQ(0, rep_set_u64(self->t, i, "x,y", i + 1));
	}
	ASSERT_EQ(0, rep_note(self->t, 0, "notes are not in CSV"));
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_CSV));
	ASSERT_STREQ("s,\"x,y\"\n"
		     "plain,1\n"
		     "\"a,b\",2\n"
		     "\"say \"\"hi\"\"\",3\n"
		     "\"two\nlines\",4\n"
		     "\"cr\rx\",5\n"
		     ",6\n"
		     ",\n"
		     "\"\"\"\",8\n", text(self));
}

TEST_F(bench_report, csv_every_kind)
{
	two_rows(self);
	ASSERT_EQ(0, rep_set_f(self->t, 1, "ratio", NAN));
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_CSV));
	/* Percentages as fractions, shortest round trip; hidden columns present. */
	ASSERT_STREQ("name,count,delta,avg,ratio,hit,ok,secret\n"
		     "strict,100000,-5,899.0,1.50,0.123,true,7\n"
		     "lazy-ranged,7,12,3.3,nan,1,false,\n", text(self));
}

TEST_F(bench_report, json_exact)
{
	static const struct rep_col cols[] = {
		{ "k", "K", REP_STR },
		{ "v", NULL, REP_U64, "ns" },
	};

	self->t = rep_table_new("T", cols, 2);
	ASSERT_NONNULL(self->t);
	ASSERT_EQ(0, rep_row(self->t));
	ASSERT_EQ(1, rep_row(self->t));
	ASSERT_EQ(0, rep_set_str(self->t, 0, "k", "a\"b"));
	ASSERT_EQ(0, rep_set_u64(self->t, 0, "v", UINT64_MAX));
	ASSERT_EQ(0, rep_note(self->t, 1, "n"));
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_JSON));
	ASSERT_STREQ("{\"title\":\"T\",\"columns\":[{\"key\":\"k\",\"head\":\"K\",\"unit\":null},"
		     "{\"key\":\"v\",\"head\":\"v\",\"unit\":\"ns\"}],"
		     "\"rows\":[{\"k\":\"a\\\"b\",\"v\":18446744073709551615},"
		     "{\"k\":null,\"v\":null,\"note\":\"n\"}]}\n", text(self));
}

TEST_F(bench_report, json_values)
{
	const struct jv *doc, *cols, *rows, *r0, *r1;

	two_rows(self);
	ASSERT_EQ(0, rep_set_f(self->t, 1, "avg", NAN));
	ASSERT_EQ(0, rep_set_f(self->t, 1, "ratio", -INFINITY));
	ASSERT_EQ(0, rep_note(self->t, 1, "second"));
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_JSON));
	doc = parse(self);
	ASSERT_EQ(JV_OBJ, jv_kind(doc));
	ASSERT_EQ(3, jv_len(doc));
	ASSERT_STREQ("Test table", jv_str(jv_get(doc, "title")));

	cols = jv_get(doc, "columns");
	ASSERT_EQ(NALL, jv_len(cols));
	for (size_t i = 0; i < NALL; i++) {
		EXPECT_STREQ(all_cols[i].key, jv_str(jv_get(jv_at(cols, i), "key")));
		EXPECT_STREQ(all_cols[i].head, jv_str(jv_get(jv_at(cols, i), "head")));
	}
	EXPECT_STREQ("ns", jv_str(jv_get(jv_at(cols, 3), "unit")));
	EXPECT_EQ(JV_NULL, jv_kind(jv_get(jv_at(cols, 0), "unit")));

	rows = jv_get(doc, "rows");
	ASSERT_EQ(2, jv_len(rows));
	r0 = jv_at(rows, 0);
	r1 = jv_at(rows, 1);
	/* Every column, the hidden one too, in order; a note only where set. */
	ASSERT_EQ(NALL, jv_len(r0));
	ASSERT_EQ(NALL + 1, jv_len(r1));
	for (size_t i = 0; i < NALL; i++)
		EXPECT_STREQ(all_cols[i].key, jv_key(r0, i));
	EXPECT_STREQ("strict", jv_str(jv_get(r0, "name")));
	EXPECT_STREQ("100000", jv_num_text(jv_get(r0, "count")));
	EXPECT_STREQ("-5", jv_num_text(jv_get(r0, "delta")));
	EXPECT_STREQ("899.0", jv_num_text(jv_get(r0, "avg")));
	EXPECT_STREQ("1.50", jv_num_text(jv_get(r0, "ratio")));
	EXPECT_STREQ("0.123", jv_num_text(jv_get(r0, "hit")));
	EXPECT_EQ(JV_BOOL, jv_kind(jv_get(r0, "ok")));
	EXPECT_TRUE(jv_bool(jv_get(r0, "ok")));
	EXPECT_STREQ("7", jv_num_text(jv_get(r0, "secret")));
	EXPECT_NULL(jv_get(r0, "note"));

	EXPECT_EQ(JV_NULL, jv_kind(jv_get(r1, "avg")));	/* NaN */
	EXPECT_EQ(JV_NULL, jv_kind(jv_get(r1, "ratio")));	/* -inf */
	EXPECT_EQ(JV_NULL, jv_kind(jv_get(r1, "secret")));	/* absent */
	EXPECT_STREQ("1", jv_num_text(jv_get(r1, "hit")));
	EXPECT_EQ(JV_BOOL, jv_kind(jv_get(r1, "ok")));
	EXPECT_FALSE(jv_bool(jv_get(r1, "ok")));
	EXPECT_STREQ("second", jv_str(jv_get(r1, "note")));
}

TEST_F(bench_report, json_escaping)
{
	static const struct rep_col cols[] = { { "s", "S \"quoted\"", REP_STR } };
	static const char nasty[] = "q\" b\\ nl\n tab\t ctl\x01\x1f del\x7f \xc3\xa9 \xe2\x82\xac";
	const struct jv *rows;

	self->t = rep_table_new("title\n\"x\"", cols, 1);
	ASSERT_NONNULL(self->t);
	for (unsigned i = 0; i < 3; i++)
		ASSERT_EQ(i, rep_row(self->t));
	ASSERT_EQ(0, rep_set_str(self->t, 0, "s", nasty));
	/* Not UTF-8: a stray continuation, a truncated sequence, an overlong '/', a surrogate. */
	ASSERT_EQ(0, rep_set_str(self->t, 1, "s", "a\x80" "b\xe2\x82" "c\xc0\xaf" "d\xed\xa0\x80"));
	ASSERT_EQ(0, rep_note(self->t, 2, "\x01"));
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_JSON));
	ASSERT_NONNULL(strstr(text(self), " ctl\\u0001\\u001f del\x7f"));
	parse(self);
	EXPECT_STREQ("title\n\"x\"", jv_str(jv_get(self->doc, "title")));
	EXPECT_STREQ("S \"quoted\"", jv_str(jv_get(jv_at(jv_get(self->doc, "columns"), 0), "head")));
	rows = jv_get(self->doc, "rows");
	EXPECT_STREQ(nasty, jv_str(jv_get(jv_at(rows, 0), "s")));
	/* Each bad byte becomes U+FFFD (EF BF BD). */
	EXPECT_STREQ("a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
		     "c\xef\xbf\xbd\xef\xbf\xbd"
		     "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		     jv_str(jv_get(jv_at(rows, 1), "s")));
	EXPECT_STREQ("\x01", jv_str(jv_get(jv_at(rows, 2), "note")));
}

TEST_F(bench_report, empty_table)
{
	static const struct rep_col cols[] = { { "a", "A", REP_STR }, { "b", "B", REP_U64 } };

	self->t = rep_table_new("E", cols, 2);
	ASSERT_NONNULL(self->t);
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_TEXT));
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_CSV));
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_JSON));
	ASSERT_STREQ("E\nA B\na,b\n{\"title\":\"E\",\"columns\":[{\"key\":\"a\",\"head\":\"A\","
		     "\"unit\":null},{\"key\":\"b\",\"head\":\"B\",\"unit\":null}],\"rows\":[]}\n",
		     text(self));
}

TEST_F(bench_report, unknown_key_and_wrong_kind)
{
	two_rows(self);
	EXPECT_EQ(0, rep_error(self->t));
	/* The first error is the one rep_error keeps. */
	EXPECT_EQ(-ENOENT, rep_set_u64(self->t, 0, "cuont", 1));
	EXPECT_EQ(-ENOENT, rep_error(self->t));
	EXPECT_EQ(-EINVAL, rep_set_u64(self->t, 0, "avg", 1));
	EXPECT_EQ(-EINVAL, rep_set_f(self->t, 0, "count", 1.0));
	EXPECT_EQ(-EINVAL, rep_set_str(self->t, 0, "ok", "yes"));
	EXPECT_EQ(-EINVAL, rep_set_bool(self->t, 0, "name", true));
	EXPECT_EQ(-EINVAL, rep_set_i64(self->t, 0, "count", 1));
	EXPECT_EQ(-EINVAL, rep_set_str(self->t, 0, "name", NULL));
	EXPECT_EQ(-EINVAL, rep_set_u64(self->t, 2, "count", 1));	/* no row 2 */
	EXPECT_EQ(-EINVAL, rep_note(self->t, 2, "x"));
	EXPECT_EQ(-ENOENT, rep_clear(self->t, 0, "nope"));
	EXPECT_EQ(-ENOENT, rep_error(self->t));
	/* Failed setters changed nothing. */
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_CSV));
	ASSERT_STREQ("name,count,delta,avg,ratio,hit,ok,secret\n"
		     "strict,100000,-5,899.0,1.50,0.123,true,7\n"
		     "lazy-ranged,7,12,3.3,0.50,1,false,\n", text(self));
}

TEST_F(bench_report, set_twice_keeps_last)
{
	two_rows(self);
	ASSERT_EQ(0, rep_set_str(self->t, 0, "name", "first"));
	ASSERT_EQ(0, rep_set_str(self->t, 0, "name", "x"));
	ASSERT_EQ(0, rep_set_u64(self->t, 0, "count", 3));
	ASSERT_EQ(0, rep_note(self->t, 0, "a note"));
	ASSERT_EQ(0, rep_note(self->t, 0, NULL));
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_TEXT));
	ASSERT_STREQ("Test table\n"
		     "Name        N Delta Avg ns Ratio    Hit OK\n"
		     "x           3    -5  899.0  1.50  12.3% yes\n"
		     "lazy-ranged 7    12    3.3  0.50 100.0% no\n", text(self));
}

TEST_F(bench_report, many_rows)
{
	static const struct rep_col cols[] = { { "i", "i", REP_U64 } };
	const char *p;
	unsigned lines = 0;

	self->t = rep_table_new(NULL, cols, 1);
	ASSERT_NONNULL(self->t);
	for (unsigned i = 0; i < 1000; i++) {
		ASSERT_EQ(i, rep_row(self->t));
		ASSERT_EQ(0, rep_set_u64(self->t, i, "i", i * 3));
	}
	ASSERT_EQ(1000, rep_rows(self->t));
	ASSERT_EQ(0, rep_print(self->f, self->t, REP_CSV));
	for (p = text(self); *p; p++)
		lines += *p == '\n';
	EXPECT_EQ(1001, lines);
	EXPECT_NONNULL(strstr(self->buf, "\n2997\n"));
}

TEST(bench_report_new_rejects_bad_columns)
{
	static const struct rep_col dup[] = { { "a", "A", REP_U64 }, { "a", "B", REP_U64 } };
	static const struct rep_col note[] = { { "note", "Note", REP_STR } };
	static const struct rep_col nokey[] = { { NULL, "X", REP_STR } };
	static const struct rep_col badkind[] = { { "k", "K", (enum rep_kind)99 } };
	static const struct rep_col ok[] = { { "a", "A", REP_U64 } };
	struct rep_table *t;

	EXPECT_NULL(rep_table_new("t", dup, 2));
	EXPECT_NULL(rep_table_new("t", note, 1));
	EXPECT_NULL(rep_table_new("t", nokey, 1));
	EXPECT_NULL(rep_table_new("t", badkind, 1));
	EXPECT_NULL(rep_table_new("t", ok, 0));
	EXPECT_NULL(rep_table_new("t", NULL, 1));
	t = rep_table_new("t", ok, 1);
	EXPECT_NONNULL(t);
	rep_table_free(t);
	rep_table_free(NULL);
}

TEST(bench_report_format_lookup)
{
	enum rep_format f = REP_TEXT;

	ASSERT_EQ(0, rep_format_lookup("json", &f));
	EXPECT_EQ(REP_JSON, f);
	ASSERT_EQ(0, rep_format_lookup("csv", &f));
	EXPECT_EQ(REP_CSV, f);
	ASSERT_EQ(0, rep_format_lookup("text", &f));
	EXPECT_EQ(REP_TEXT, f);
	f = REP_CSV;
	EXPECT_EQ(-EINVAL, rep_format_lookup("JSON", &f));
	EXPECT_EQ(-EINVAL, rep_format_lookup("", &f));
	EXPECT_EQ(-EINVAL, rep_format_lookup(NULL, &f));
	EXPECT_EQ(REP_CSV, f);	/* untouched on error */
}

/* Distinct values, so a field printed under another's name shows. */
static const struct vtdm_costs costs = {
	.mmio = 1, .mem_access = 2, .cache_lookup = 3, .desc = 4, .devtlb_inv = 5,
	.wait = 6, .wbf = 7, .reg_inv = 8, .ats = 9, .dma_per_4k = 10, .ite_timeout = 1000000,
};

TEST_F(bench_report, costs_text)
{
	ASSERT_EQ(0, rep_print_costs(self->f, &costs, REP_TEXT));
	ASSERT_STREQ("Cost table (virtual ns per operation, docs/cost-model.md):\n"
		     "cost              ns\n"
		     "mmio               1\n"
		     "mem_access         2\n"
		     "cache_lookup       3\n"
		     "desc               4\n"
		     "devtlb_inv         5\n"
		     "wait               6\n"
		     "wbf                7\n"
		     "reg_inv            8\n"
		     "ats                9\n"
		     "dma_per_4k        10\n"
		     "ite_timeout  1000000\n", text(self));
}

TEST_F(bench_report, costs_csv)
{
	ASSERT_EQ(0, rep_print_costs(self->f, &costs, REP_CSV));
	ASSERT_STREQ("name,ns\nmmio,1\nmem_access,2\ncache_lookup,3\ndesc,4\ndevtlb_inv,5\n"
		     "wait,6\nwbf,7\nreg_inv,8\nats,9\ndma_per_4k,10\nite_timeout,1000000\n",
		     text(self));
}

TEST_F(bench_report, costs_json)
{
	const struct jv *doc;

	ASSERT_EQ(0, rep_print_costs(self->f, &costs, REP_JSON));
	ASSERT_STREQ("{\"mmio\":1,\"mem_access\":2,\"cache_lookup\":3,\"desc\":4,"
		     "\"devtlb_inv\":5,\"wait\":6,\"wbf\":7,\"reg_inv\":8,\"ats\":9,"
		     "\"dma_per_4k\":10,\"ite_timeout\":1000000}\n", text(self));
	doc = parse(self);
	ASSERT_EQ(11, jv_len(doc));
	EXPECT_EQ(1000000, (long)jv_num(jv_get(doc, "ite_timeout")));
	EXPECT_EQ(4, (long)jv_num(jv_get(doc, "desc")));
}

TEST_F(bench_report, json_document)
{
	struct rep_json j;
	const struct jv *doc, *rows;

	two_rows(self);
	rep_json_begin(&j, self->f);
	rep_json_member_str(&j, "workload", "ring \"x\"");
	rep_json_member_u64(&j, "runs", 5);
	rep_json_member_bool(&j, "dma", false);
	rep_json_member_str(&j, "missing", NULL);
	rep_json_member_table(&j, "table", self->t);
	rep_json_member_costs(&j, "costs", &costs);
	ASSERT_EQ(0, rep_json_end(&j));
	doc = parse(self);
	ASSERT_EQ(6, jv_len(doc));
	EXPECT_STREQ("workload", jv_key(doc, 0));
	EXPECT_STREQ("ring \"x\"", jv_str(jv_get(doc, "workload")));
	EXPECT_STREQ("5", jv_num_text(jv_get(doc, "runs")));
	EXPECT_EQ(JV_BOOL, jv_kind(jv_get(doc, "dma")));
	EXPECT_FALSE(jv_bool(jv_get(doc, "dma")));
	EXPECT_EQ(JV_NULL, jv_kind(jv_get(doc, "missing")));
	rows = jv_get(jv_get(doc, "table"), "rows");
	EXPECT_EQ(2, jv_len(rows));
	EXPECT_STREQ("lazy-ranged", jv_str(jv_get(jv_at(rows, 1), "name")));
	EXPECT_EQ(11, jv_len(jv_get(doc, "costs")));
	EXPECT_EQ(9, (long)jv_num(jv_get(jv_get(doc, "costs"), "ats")));
	EXPECT_EQ('\n', self->buf[self->len - 1]);
}

TEST_F(bench_report, json_document_empty)
{
	struct rep_json j;

	rep_json_begin(&j, self->f);
	ASSERT_EQ(0, rep_json_end(&j));
	ASSERT_STREQ("{}\n", text(self));
}

TEST_F(bench_report, write_error)
{
	FILE *full = fopen("/dev/full", "w");
	struct rep_json j;

	if (!full)
		SKIP(return, "no /dev/full");
	setvbuf(full, NULL, _IONBF, 0);
	two_rows(self);
	EXPECT_EQ(-EIO, rep_print(full, self->t, REP_TEXT));
	EXPECT_EQ(-EIO, rep_print_costs(full, &costs, REP_JSON));
	rep_json_begin(&j, full);
	EXPECT_EQ(-EIO, rep_json_end(&j));
	fclose(full);
}

/* ---- the progress bar ---- */

FIXTURE(bench_progress) {
	struct progress p;
	FILE *f;
	char *buf;
	size_t len;
	size_t seen;	/* bytes drawn() has returned */
};

FIXTURE_SETUP(bench_progress)
{
	self->f = open_memstream(&self->buf, &self->len);
	ASSERT_NONNULL(self->f);
}

FIXTURE_TEARDOWN(bench_progress)
{
	if (self->f)
		fclose(self->f);
	free(self->buf);
}

/* What the bar wrote since the last call. */
static const char *drawn(struct th_fixture_data_bench_progress *self)
{
	static char last[512];
	size_t n;

	ASSERT_EQ(0, fflush(self->f));
	n = self->len - self->seen;
	ASSERT_LT(n, sizeof(last));
	memcpy(last, self->buf + self->seen, n);
	last[n] = 0;
	self->seen = self->len;
	return last;
}

#define BLANK10	"          "
#define BLANK43	BLANK10 BLANK10 BLANK10 BLANK10 "   "	/* "x [" 30 "] 3/3 100%" */
#define BLANK46	BLANK10 BLANK10 BLANK10 BLANK10 "      "	/* "runs [" 30 "] 0/4   0%" */

TEST_F(bench_progress, forced_output)
{
	progress_start_on(&self->p, "runs", 4, self->f);
	ASSERT_STREQ("\rruns [..............................] 0/4   0%", drawn(self));
	self->p.interval_ns = 0;	/* draw every update */
	progress_update(&self->p, 1);
	ASSERT_STREQ("\rruns [#######.......................] 1/4  25%", drawn(self));
	progress_update(&self->p, 1);	/* unchanged: nothing */
	ASSERT_STREQ("", drawn(self));
	progress_update(&self->p, 4);
	ASSERT_STREQ("\rruns [##############################] 4/4 100%", drawn(self));
	progress_done(&self->p);
	/* Blanks exactly the drawn line, then returns to its start. */
	ASSERT_STREQ("\r" BLANK46 "\r", drawn(self));
	progress_done(&self->p);	/* once only */
	progress_update(&self->p, 2);
	ASSERT_STREQ("", drawn(self));
}

TEST_F(bench_progress, rate_limited_but_end_drawn)
{
	progress_start_on(&self->p, "x", 3, self->f);
	drawn(self);
	self->p.interval_ns = UINT64_MAX;	/* as if updates came too fast */
	progress_update(&self->p, 1);
	progress_update(&self->p, 2);
	ASSERT_STREQ("", drawn(self));
	progress_update(&self->p, 3);	/* the end is always drawn */
	ASSERT_STREQ("\rx [##############################] 3/3 100%", drawn(self));
	progress_done(&self->p);
	ASSERT_STREQ("\r" BLANK43 "\r", drawn(self));
}

TEST_F(bench_progress, long_label_cut_and_shorter_line_padded)
{
	progress_start_on(&self->p, "a label much longer than a progress line should carry",
			  1000, self->f);
	self->p.interval_ns = 0;
	progress_update(&self->p, 1000);
	drawn(self);
	/* A line shorter than the last (an overshoot is clamped in the bar) is padded. */
	self->p.total = 5;
	progress_update(&self->p, 6);
	ASSERT_STREQ("\ra label much longer than a prog [##############################] 6/5 100%"
		     "      ", drawn(self));
	ASSERT_EQ(31, strlen(self->p.label));
}

/* No total known (an exhaustive exploration): a count, rate-limited like the bar. */
TEST_F(bench_progress, zero_total)
{
	progress_start_on(&self->p, "runs", 0, self->f);
	ASSERT_STREQ("\rruns: 0 so far", drawn(self));
	self->p.interval_ns = UINT64_MAX;
	progress_update(&self->p, 7);
	ASSERT_STREQ("", drawn(self));
	self->p.interval_ns = 0;
	progress_update(&self->p, 8);
	ASSERT_STREQ("\rruns: 8 so far", drawn(self));
	progress_done(&self->p);
	ASSERT_STREQ("\r              \r", drawn(self));
}

TEST_F(bench_progress, disabled_writes_nothing)
{
	progress_start_on(&self->p, "off", 10, NULL);
	self->p.interval_ns = 0;
	progress_update(&self->p, 5);
	progress_update(&self->p, 10);
	progress_done(&self->p);
	ASSERT_EQ(0, self->len);
}

/* progress_start on a stderr that is a file, not a terminal: not a byte. */
TEST(bench_progress_not_a_tty)
{
	char path[] = "/tmp/vtdkit-progress-XXXXXX";
	int fd = mkstemp(path), saved;
	struct progress p;
	off_t size;

	ASSERT_GE(fd, 0);
	unlink(path);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	ASSERT_GE(saved, 0);
	ASSERT_EQ(STDERR_FILENO, dup2(fd, STDERR_FILENO));
	progress_start(&p, "bench", 10);
	p.interval_ns = 0;
	progress_update(&p, 5);
	progress_update(&p, 10);
	progress_done(&p);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	size = lseek(fd, 0, SEEK_END);
	close(fd);
	EXPECT_NULL(p.tty);
	EXPECT_EQ(0, size);
}
