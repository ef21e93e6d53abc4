/*
 * report.h — one report layer for vtdkit's tables: the columns are
 * declared once (key, header, kind, unit) and the same table prints as
 * aligned text, JSON or CSV. Also the cost table every report prints,
 * and a JSON document writer for reports holding several members.
 * Nothing here prints except to the FILE it is given.
 */
#ifndef VTD_BENCH_REPORT_H
#define VTD_BENCH_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "model/model.h"

enum rep_kind {
	REP_STR,	/* text left-aligned; JSON string */
	REP_U64,
	REP_I64,
	REP_F1,		/* double, one decimal in every format */
	REP_F2,		/* double, two decimals */
	REP_PCT,	/* double 0..1: text "12.3%"; JSON and CSV 0.123 */
	REP_BOOL,	/* text yes/no; JSON and CSV true/false */
};

/* rep_col.flags */
#define REP_NOTEXT	0x1	/* JSON and CSV only: too detailed for the text table */

struct rep_col {
	const char *key;	/* JSON key and CSV header: "iotlb_psi" */
	const char *head;	/* text header: "IOTLB.PSI"; NULL: the key */
	enum rep_kind kind;
	const char *unit;	/* optional, e.g. "ns": in JSON's column list */
	unsigned flags;
};

enum rep_format { REP_TEXT, REP_JSON, REP_CSV };

struct rep_table;

/*
 * A table of @ncols columns titled @title (copied). @cols is not copied:
 * it (and its strings) must outlive the table. NULL when out of memory,
 * or when @cols is invalid (no columns, a NULL or duplicate key, or the
 * key "note", which JSON rows use for rep_note).
 */
struct rep_table *rep_table_new(const char *title, const struct rep_col *cols, unsigned ncols);
void rep_table_free(struct rep_table *t);

/* Append a row, every cell absent. Its index, or -ENOMEM. */
int rep_row(struct rep_table *t);
unsigned rep_rows(const struct rep_table *t);

/*
 * Set a cell by its column's key. 0; -ENOENT for a key the table does
 * not have; -EINVAL for a row that does not exist or a column of another
 * kind (rep_set_f takes REP_F1, REP_F2 and REP_PCT); -ENOMEM. A cell set
 * twice keeps the second value. The first error is also kept for
 * rep_error, so a caller may fill a whole row and check once.
 */
int rep_set_str(struct rep_table *t, unsigned row, const char *key, const char *s);
int rep_set_u64(struct rep_table *t, unsigned row, const char *key, uint64_t v);
int rep_set_i64(struct rep_table *t, unsigned row, const char *key, int64_t v);
int rep_set_f(struct rep_table *t, unsigned row, const char *key, double v);
int rep_set_bool(struct rep_table *t, unsigned row, const char *key, bool v);
/* Make a cell absent again (text "-", JSON null, CSV empty). */
int rep_clear(struct rep_table *t, unsigned row, const char *key);

/*
 * A note on a row (copied; NULL removes it): in text after the row's
 * cells, in JSON as the row's "note" member; CSV has no place for it.
 */
int rep_note(struct rep_table *t, unsigned row, const char *text);

/* The first error a setter returned on @t, or 0. */
int rep_error(const struct rep_table *t);

/* "text", "json", "csv": 0, or -EINVAL for another name. */
int rep_format_lookup(const char *name, enum rep_format *f);

/*
 * Print @t on @out. Text: the title (each of its lines; a title may
 * hold a legend on further lines), then a header and the rows,
 * each column as wide as its widest cell or header (UTF-8 characters
 * counted; control characters and bytes that are not UTF-8 shown as
 * '?'), strings and bools left-aligned, numbers right-aligned, one space
 * between columns. JSON: {"title", "columns":[{"key","head","unit"}],
 * "rows":[{key: value}]}, absent cells and non-finite doubles null.
 * CSV (RFC 4180 fields, LF line ends): a header of keys, then the rows;
 * the title and notes are not printed. Text and CSV show non-finite
 * doubles as printf does ("nan", "inf"). 0, -ENOMEM (text only), or
 * -EIO when @out is in error afterwards.
 */
int rep_print(FILE *out, const struct rep_table *t, enum rep_format f);

/*
 * The cost table a report used (every report prints it): text, an
 * aligned "cost ns" block citing docs/cost-model.md; JSON, one object
 * {"mmio":100,...}; CSV, a "name,ns" table. Every field of struct
 * vtdm_costs, in its order. 0, -ENOMEM, or -EIO as rep_print.
 */
int rep_print_costs(FILE *out, const struct vtdm_costs *c, enum rep_format f);

/* The cost table as one JSON object {"mmio":100,...}, no newline: to embed. */
void rep_json_costs(FILE *out, const struct vtdm_costs *c);

/*
 * A JSON document with several members, commas handled:
 *	struct rep_json j;
 *	rep_json_begin(&j, out);
 *	rep_json_member_u64(&j, "runs", 5);
 *	rep_json_member_table(&j, "table", t);
 *	rep_json_member_costs(&j, "costs", &costs);
 *	rc = rep_json_end(&j);
 * writes {"runs":5,"table":{...},"costs":{...}} and a newline.
 */
struct rep_json {
	FILE *out;
	unsigned members;	/* written so far: a comma before the next */
};

void rep_json_begin(struct rep_json *j, FILE *out);
void rep_json_member_str(struct rep_json *j, const char *name, const char *s);
void rep_json_member_u64(struct rep_json *j, const char *name, uint64_t v);
void rep_json_member_bool(struct rep_json *j, const char *name, bool v);
void rep_json_member_table(struct rep_json *j, const char *name, const struct rep_table *t);
void rep_json_member_costs(struct rep_json *j, const char *name, const struct vtdm_costs *c);
/* Close the object. 0, or -EIO when the stream is in error. */
int rep_json_end(struct rep_json *j);

#endif
