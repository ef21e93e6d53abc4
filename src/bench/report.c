/*
 * report.c — the tables of report.h: cells stored by row and column,
 * printed as aligned text, JSON (RFC 8259) or CSV (RFC 4180), and the
 * cost table and JSON document helpers every report shares.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report.h"

struct rep_cell {
	bool set;
	union {
		char *s;	/* REP_STR, owned */
		uint64_t u;
		int64_t i;
		double f;
		bool b;
	};
};

struct rep_line {
	struct rep_cell *cells;	/* ncols of them */
	char *note;		/* owned, NULL when none */
};

struct rep_table {
	char *title;		/* owned, may be NULL */
	const struct rep_col *cols;
	unsigned ncols;
	struct rep_line *rows;
	unsigned nrows, cap;
	int err;		/* the first error a setter returned */
};

/* Longest formatted number: %.2f of DBL_MAX is 312 characters. */
#define NUM_LEN	352

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

struct rep_table *rep_table_new(const char *title, const struct rep_col *cols, unsigned ncols)
{
	struct rep_table *t;

	if (!cols || !ncols)
		return NULL;
	for (unsigned i = 0; i < ncols; i++) {
		if (!cols[i].key || !strcmp(cols[i].key, "note") ||
		    (unsigned)cols[i].kind > REP_BOOL)
			return NULL;
		for (unsigned k = 0; k < i; k++)
			if (!strcmp(cols[i].key, cols[k].key))
				return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (title) {
		t->title = dup_str(title);
		if (!t->title) {
			free(t);
			return NULL;
		}
	}
	t->cols = cols;
	t->ncols = ncols;
	return t;
}

static void cell_clear(const struct rep_col *c, struct rep_cell *x)
{
	if (c->kind == REP_STR && x->set)
		free(x->s);
	x->set = false;
}

void rep_table_free(struct rep_table *t)
{
	if (!t)
		return;
	for (unsigned r = 0; r < t->nrows; r++) {
		for (unsigned i = 0; i < t->ncols; i++)
			cell_clear(&t->cols[i], &t->rows[r].cells[i]);
		free(t->rows[r].cells);
		free(t->rows[r].note);
	}
	free(t->rows);
	free(t->title);
	free(t);
}

static int fail(struct rep_table *t, int err)
{
	if (!t->err)
		t->err = err;
	return err;
}

int rep_row(struct rep_table *t)
{
	struct rep_cell *cells;

	if (t->nrows == INT_MAX)
		return fail(t, -ENOMEM);
	if (t->nrows == t->cap) {
		unsigned cap = t->cap ? (t->cap > INT_MAX / 2 ? INT_MAX : t->cap * 2) : 8;
		struct rep_line *rows = realloc(t->rows, (size_t)cap * sizeof(*rows));

		if (!rows)
			return fail(t, -ENOMEM);
		t->rows = rows;
		t->cap = cap;
	}
	cells = calloc(t->ncols, sizeof(*cells));
	if (!cells)
		return fail(t, -ENOMEM);
	t->rows[t->nrows].cells = cells;
	t->rows[t->nrows].note = NULL;
	return (int)t->nrows++;
}

unsigned rep_rows(const struct rep_table *t)
{
	return t->nrows;
}

int rep_error(const struct rep_table *t)
{
	return t->err;
}

/*
 * The cell of (@row, @key) when its column's kind is in @ok (a bit per
 * enum rep_kind); else NULL with the error recorded in *@rc.
 */
static struct rep_cell *cell(struct rep_table *t, unsigned row, const char *key, unsigned ok,
			     const struct rep_col **col, int *rc)
{
	unsigned i = 0;

	while (i < t->ncols && strcmp(t->cols[i].key, key))
		i++;
	if (i == t->ncols) {
		*rc = fail(t, -ENOENT);
		return NULL;
	}
	if (row >= t->nrows || !(ok & 1u << t->cols[i].kind)) {
		*rc = fail(t, -EINVAL);
		return NULL;
	}
	*col = &t->cols[i];
	return &t->rows[row].cells[i];
}

#define KIND(k)	(1u << (k))

int rep_set_str(struct rep_table *t, unsigned row, const char *key, const char *s)
{
	const struct rep_col *c;
	int rc = 0;
	struct rep_cell *x = cell(t, row, key, KIND(REP_STR), &c, &rc);
	char *d;

	if (!x)
		return rc;
	if (!s)
		return fail(t, -EINVAL);
	d = dup_str(s);
	if (!d)
		return fail(t, -ENOMEM);
	cell_clear(c, x);
	x->s = d;
	x->set = true;
	return 0;
}

int rep_set_u64(struct rep_table *t, unsigned row, const char *key, uint64_t v)
{
	const struct rep_col *c;
	int rc = 0;
	struct rep_cell *x = cell(t, row, key, KIND(REP_U64), &c, &rc);

	if (!x)
		return rc;
	x->u = v;
	x->set = true;
	return 0;
}

int rep_set_i64(struct rep_table *t, unsigned row, const char *key, int64_t v)
{
	const struct rep_col *c;
	int rc = 0;
	struct rep_cell *x = cell(t, row, key, KIND(REP_I64), &c, &rc);

	if (!x)
		return rc;
	x->i = v;
	x->set = true;
	return 0;
}

int rep_set_f(struct rep_table *t, unsigned row, const char *key, double v)
{
	const struct rep_col *c;
	int rc = 0;
	struct rep_cell *x = cell(t, row, key, KIND(REP_F1) | KIND(REP_F2) | KIND(REP_PCT),
				  &c, &rc);

	if (!x)
		return rc;
	x->f = v;
	x->set = true;
	return 0;
}

int rep_set_bool(struct rep_table *t, unsigned row, const char *key, bool v)
{
	const struct rep_col *c;
	int rc = 0;
	struct rep_cell *x = cell(t, row, key, KIND(REP_BOOL), &c, &rc);

	if (!x)
		return rc;
	x->b = v;
	x->set = true;
	return 0;
}

int rep_clear(struct rep_table *t, unsigned row, const char *key)
{
	const struct rep_col *c;
	int rc = 0;
	struct rep_cell *x = cell(t, row, key, ~0u, &c, &rc);

	if (!x)
		return rc;
	cell_clear(c, x);
	return 0;
}

int rep_note(struct rep_table *t, unsigned row, const char *text)
{
	char *d = NULL;

	if (row >= t->nrows)
		return fail(t, -EINVAL);
	if (text) {
		d = dup_str(text);
		if (!d)
			return fail(t, -ENOMEM);
	}
	free(t->rows[row].note);
	t->rows[row].note = d;
	return 0;
}

int rep_format_lookup(const char *name, enum rep_format *f)
{
	static const char *const names[] = { [REP_TEXT] = "text", [REP_JSON] = "json",
					     [REP_CSV] = "csv" };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (name && !strcmp(name, names[i])) {
			*f = (enum rep_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ================================================================ cells */

/*
 * The length of the UTF-8 sequence at @p (1 to 4), or 0 when it is not
 * one: a stray continuation byte, a truncated sequence, an overlong
 * form, a surrogate or a value above U+10FFFF (RFC 3629, section 4).
 */
static unsigned utf8_seq(const unsigned char *p)
{
	unsigned n, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)	/* the NUL ends a truncated one here */
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * The first @len bytes of @s as text-table content on @f (NULL: only
 * measure): control characters and bytes that are not UTF-8 become '?',
 * so one cell stays on one line. Returns its width in characters.
 */
static size_t text_span(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t w = 0;

	while (p < end) {
		unsigned n = utf8_seq(p);

		if (n > (size_t)(end - p) || (n == 1 && (*p < 0x20 || *p == 0x7f)))
			n = 0;
		if (f) {
			if (n)
				fwrite(p, 1, n, f);
			else
				fputc('?', f);
		}
		p += n ? n : 1;
		w++;
	}
	return w;
}

static size_t text_str(FILE *f, const char *s)
{
	return text_span(f, s, strlen(s));
}

/* @s as a JSON string (RFC 8259, section 7); U+FFFD for bytes that are not UTF-8. */
static void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		unsigned n = utf8_seq(p);

		if (!n) {
			fputs("\\ufffd", f);
			p++;
			continue;
		}
		if (n > 1)
			fwrite(p, 1, n, f);
		else if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
		p += n;
	}
	fputc('"', f);
}

/* A JSON string, or null for NULL. */
static void json_str_or_null(FILE *f, const char *s)
{
	if (s)
		json_str(f, s);
	else
		fputs("null", f);
}

/*
 * The shortest %g that reads back as @v, so 0.123 prints as 0.123, not
 * 0.12299999999999999; 17 significant digits always suffice (IEEE 754
 * binary64: DBL_DECIMAL_DIG, C11 5.2.4.2.2).
 */
static void shortest(char *buf, size_t n, double v)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/*
 * A set cell that is not a string, in @buf, as format @f prints it.
 * Returns false when JSON must show it as null (a non-finite double).
 */
static bool num(char *buf, size_t n, const struct rep_col *c, const struct rep_cell *x,
		enum rep_format f)
{
	switch (c->kind) {
	case REP_U64:
		snprintf(buf, n, "%" PRIu64, x->u);
		return true;
	case REP_I64:
		snprintf(buf, n, "%" PRId64, x->i);
		return true;
	case REP_BOOL:
		snprintf(buf, n, "%s", f == REP_TEXT ? (x->b ? "yes" : "no") :
			 x->b ? "true" : "false");
		return true;
	case REP_F1:
	case REP_F2:
	case REP_PCT:
		break;
	case REP_STR:
	default:
		buf[0] = 0;
		return false;
	}
	if (c->kind == REP_PCT && f == REP_TEXT)
		snprintf(buf, n, "%.1f%%", x->f * 100);
	else if (c->kind == REP_PCT && isfinite(x->f))
		shortest(buf, n, x->f);
	else
		snprintf(buf, n, "%.*f", c->kind == REP_F2 ? 2 : 1, x->f);
	return isfinite(x->f);
}

/* ================================================================ text */

static bool left_aligned(const struct rep_col *c)
{
	return c->kind == REP_STR || c->kind == REP_BOOL;
}

static const char *head(const struct rep_col *c)
{
	return c->head ? c->head : c->key;
}

/* A cell's text (@buf for numbers), "-" when absent. */
static const char *text_cell(char *buf, const struct rep_col *c, const struct rep_cell *x)
{
	if (!x->set)
		return "-";
	if (c->kind == REP_STR)
		return x->s;
	num(buf, NUM_LEN, c, x, REP_TEXT);
	return buf;
}

/* @s in a field @width wide; no trailing blanks when @last. */
static void text_field(FILE *out, const char *s, size_t width, bool left, bool last)
{
	size_t w = text_str(NULL, s);

	if (!left)
		for (; w < width; w++)
			fputc(' ', out);
	text_str(out, s);
	if (left && !last)
		for (; w < width; w++)
			fputc(' ', out);
}

/* The title, each of its lines as text_str shows a cell. */
static void text_title(FILE *out, const char *title)
{
	for (;;) {
		size_t n = strcspn(title, "\n");

		text_span(out, title, n);
		fputc('\n', out);
		if (!title[n])
			return;
		title += n + 1;
	}
}

static int print_text(FILE *out, const struct rep_table *t)
{
	size_t *width = calloc(t->ncols, sizeof(*width));
	char buf[NUM_LEN];
	unsigned lastcol = 0;

	if (!width)
		return -ENOMEM;
	for (unsigned i = 0; i < t->ncols; i++) {
		if (t->cols[i].flags & REP_NOTEXT)
			continue;
		width[i] = text_str(NULL, head(&t->cols[i]));
		for (unsigned r = 0; r < t->nrows; r++) {
			size_t w = text_str(NULL, text_cell(buf, &t->cols[i], &t->rows[r].cells[i]));

			if (w > width[i])
				width[i] = w;
		}
		lastcol = i;
	}
	if (t->title)
		text_title(out, t->title);
	for (int r = -1; r < (int)t->nrows; r++) {
		const char *note = r < 0 ? NULL : t->rows[r].note;
		bool first = true;

		for (unsigned i = 0; i < t->ncols; i++) {
			const struct rep_col *c = &t->cols[i];

			if (c->flags & REP_NOTEXT)
				continue;
			if (!first)
				fputc(' ', out);
			first = false;
			text_field(out, r < 0 ? head(c) : text_cell(buf, c, &t->rows[r].cells[i]),
				   width[i], left_aligned(c), i == lastcol && !note);
		}
		if (note) {
			fputs("  ", out);
			text_str(out, note);
		}
		fputc('\n', out);
	}
	free(width);
	return 0;
}

/* ================================================================ JSON */

static void json_table(FILE *out, const struct rep_table *t)
{
	char buf[NUM_LEN];

	fputs("{\"title\":", out);
	json_str_or_null(out, t->title);
	fputs(",\"columns\":[", out);
	for (unsigned i = 0; i < t->ncols; i++) {
		fputs(i ? ",{\"key\":" : "{\"key\":", out);
		json_str(out, t->cols[i].key);
		fputs(",\"head\":", out);
		json_str(out, head(&t->cols[i]));
		fputs(",\"unit\":", out);
		json_str_or_null(out, t->cols[i].unit);
		fputc('}', out);
	}
	fputs("],\"rows\":[", out);
	for (unsigned r = 0; r < t->nrows; r++) {
		const struct rep_line *row = &t->rows[r];

		fputs(r ? ",{" : "{", out);
		for (unsigned i = 0; i < t->ncols; i++) {
			const struct rep_col *c = &t->cols[i];
			const struct rep_cell *x = &row->cells[i];

			if (i)
				fputc(',', out);
			json_str(out, c->key);
			fputc(':', out);
			if (x->set && c->kind == REP_STR)
				json_str(out, x->s);
			else if (x->set && num(buf, sizeof(buf), c, x, REP_JSON))
				fputs(buf, out);
			else
				fputs("null", out);
		}
		if (row->note) {
			fputs(",\"note\":", out);
			json_str(out, row->note);
		}
		fputc('}', out);
	}
	fputs("]}", out);
}

/* ================================================================ CSV */

/* One field: quoted, quotes doubled, when it holds a comma, quote, CR or LF (RFC 4180, 2.6-2.7). */
static void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void print_csv(FILE *out, const struct rep_table *t)
{
	char buf[NUM_LEN];

	for (unsigned i = 0; i < t->ncols; i++) {
		if (i)
			fputc(',', out);
		csv_field(out, t->cols[i].key);
	}
	fputc('\n', out);
	for (unsigned r = 0; r < t->nrows; r++) {
		for (unsigned i = 0; i < t->ncols; i++) {
			const struct rep_col *c = &t->cols[i];
			const struct rep_cell *x = &t->rows[r].cells[i];

			if (i)
				fputc(',', out);
			if (!x->set)
				continue;
			if (c->kind == REP_STR) {
				csv_field(out, x->s);
			} else {
				num(buf, sizeof(buf), c, x, REP_CSV);
				fputs(buf, out);
			}
		}
		fputc('\n', out);
	}
}

int rep_print(FILE *out, const struct rep_table *t, enum rep_format f)
{
	int rc = 0;

	switch (f) {
	case REP_JSON:
		json_table(out, t);
		fputc('\n', out);
		break;
	case REP_CSV:
		print_csv(out, t);
		break;
	case REP_TEXT:
	default:
		rc = print_text(out, t);
		break;
	}
	if (!rc && ferror(out))
		rc = -EIO;
	return rc;
}

/* ================================================================ costs */

/* Every field of struct vtdm_costs (model/model.h), in its order. */
#define REP_COSTS(X)							\
	X(mmio) X(mem_access) X(cache_lookup) X(desc) X(devtlb_inv) X(wait)	\
	X(wbf) X(reg_inv) X(ats) X(dma_per_4k) X(ite_timeout)

#define REP_COST_ONE(f) + 1
/* A field added to the struct must be added to the list. */
_Static_assert(sizeof(struct vtdm_costs) == (0 REP_COSTS(REP_COST_ONE)) * sizeof(uint64_t),
	       "REP_COSTS must list every field of struct vtdm_costs");
#undef REP_COST_ONE

void rep_json_costs(FILE *out, const struct vtdm_costs *c)
{
	const char *sep = "{";

#define REP_COST_JSON(f)						\
	fprintf(out, "%s\"" #f "\":%" PRIu64, sep, c->f);		\
	sep = ",";
	REP_COSTS(REP_COST_JSON)
#undef REP_COST_JSON
	fputc('}', out);
}

int rep_print_costs(FILE *out, const struct vtdm_costs *c, enum rep_format f)
{
	static const struct rep_col cols[] = {
		{ .key = "name", .head = "cost", .kind = REP_STR },
		{ .key = "ns", .head = "ns", .kind = REP_U64, .unit = "ns" },
	};
	struct rep_table *t;
	int rc;

	if (f == REP_JSON) {
		rep_json_costs(out, c);
		fputc('\n', out);
		return ferror(out) ? -EIO : 0;
	}
	t = rep_table_new("Cost table (virtual ns per operation, docs/cost-model.md):", cols, 2);
	if (!t)
		return -ENOMEM;
#define REP_COST_ROW(f)							\
	rc = rep_row(t);						\
	if (rc >= 0) {							\
		rep_set_str(t, (unsigned)rc, "name", #f);		\
		rep_set_u64(t, (unsigned)rc, "ns", c->f);		\
	}
	REP_COSTS(REP_COST_ROW)
#undef REP_COST_ROW
	rc = rep_error(t);
	if (!rc)
		rc = rep_print(out, t, f);
	rep_table_free(t);
	return rc;
}

/* ================================================================ documents */

void rep_json_begin(struct rep_json *j, FILE *out)
{
	j->out = out;
	j->members = 0;
	fputc('{', out);
}

static void member(struct rep_json *j, const char *name)
{
	if (j->members++)
		fputc(',', j->out);
	json_str(j->out, name);
	fputc(':', j->out);
}

void rep_json_member_str(struct rep_json *j, const char *name, const char *s)
{
	member(j, name);
	json_str_or_null(j->out, s);
}

void rep_json_member_u64(struct rep_json *j, const char *name, uint64_t v)
{
	member(j, name);
	fprintf(j->out, "%" PRIu64, v);
}

void rep_json_member_bool(struct rep_json *j, const char *name, bool v)
{
	member(j, name);
	fputs(v ? "true" : "false", j->out);
}

void rep_json_member_table(struct rep_json *j, const char *name, const struct rep_table *t)
{
	member(j, name);
	json_table(j->out, t);
}

void rep_json_member_costs(struct rep_json *j, const char *name, const struct vtdm_costs *c)
{
	member(j, name);
	rep_json_costs(j->out, c);
}

int rep_json_end(struct rep_json *j)
{
	fputs("}\n", j->out);
	return ferror(j->out) ? -EIO : 0;
}
