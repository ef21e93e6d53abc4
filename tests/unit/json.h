/*
 * json.h — a small, strict JSON parser for the tests: RFC 8259 text into a
 * tree, to check what vtdkit writes as JSON. Anything outside the grammar
 * is an error with its byte offset; nothing is repaired or guessed.
 *
 * Strictness beyond the bare grammar, all allowed by RFC 8259: text must
 * be UTF-8 (section 8.1; no byte order mark), a \u escape may not leave an
 * unpaired surrogate (section 8.2), numbers too large for a double are
 * rejected and nesting stops at JV_MAX_DEPTH (section 9). Duplicate member
 * names are kept; jv_get returns the first.
 */
#ifndef VTD_TESTS_JSON_H
#define VTD_TESTS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum jv_kind {
	JV_NONE,	/* no value: what the accessors report for NULL */
	JV_NULL,
	JV_BOOL,
	JV_NUM,
	JV_STR,
	JV_ARR,
	JV_OBJ,
};

enum { JV_MAX_DEPTH = 256 };

struct jv;

/*
 * Parse @len bytes of @text (no NUL needed) as one JSON value with
 * optional whitespace around it. NULL on failure, with "offset N: what"
 * in @err (may be NULL), N the 0-based byte offset of the fault.
 */
struct jv *jv_parse(const char *text, size_t len, char *err, size_t errlen);

/*
 * The rest of @f, NUL-terminated (@len bytes before the NUL); free() it.
 * NULL with errno set on a read error or out of memory.
 */
char *jv_slurp(FILE *f, size_t *len);

/* Read a whole file and parse it; "PATH: strerror" in @err if it cannot be read. */
struct jv *jv_parse_file(const char *path, char *err, size_t errlen);

/* Free a tree from jv_parse*; NULL is fine. */
void jv_free(struct jv *v);

/*
 * Accessors. Each accepts NULL and a value of another kind, and then
 * returns JV_NONE, false, 0, NULL or 0 as fits, so lookups chain:
 * jv_num(jv_get(jv_at(events, 3), "ts")).
 */
enum jv_kind jv_kind(const struct jv *v);
const char *jv_kind_name(enum jv_kind kind);	/* "null", "number", ... */
bool jv_bool(const struct jv *v);
double jv_num(const struct jv *v);
/* The number as written ("1.500"), to check formatting exactly. */
const char *jv_num_text(const struct jv *v);
/* A string's bytes, NUL-terminated; it may hold NULs from \u0000, see jv_str_len. */
const char *jv_str(const struct jv *v);
size_t jv_str_len(const struct jv *v);

/* Elements of an array or members of an object; 0 for any other value. */
size_t jv_len(const struct jv *arr_or_obj);
/* Element @i of an array, or the value of member @i of an object; NULL if out of range. */
const struct jv *jv_at(const struct jv *arr_or_obj, size_t i);
/* The name of member @i of an object (NUL-terminated), or NULL. */
const char *jv_key(const struct jv *obj, size_t i);
/* The value of the first member named @key (compared as C strings), or NULL. */
const struct jv *jv_get(const struct jv *obj, const char *key);

#endif
