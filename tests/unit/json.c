/*
 * json.c — the tests' JSON parser of json.h: recursive descent over the
 * RFC 8259 grammar (section 2 whitespace and structure, section 6
 * numbers, section 7 strings), building a tree. The first fault stops
 * the parse and is reported with its byte offset.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct jv_member {
	char *key;		/* NULL in an array */
	size_t klen;
	struct jv *v;
};

struct jv {
	enum jv_kind kind;
	bool b;
	double num;
	char *text;		/* JV_NUM: as written; JV_STR: the bytes, NUL-terminated */
	size_t len;		/* JV_STR: bytes; JV_ARR, JV_OBJ: members */
	size_t cap;
	struct jv_member *m;	/* JV_ARR, JV_OBJ */
};

struct jp {
	const unsigned char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
	bool failed;
};

/* A growing byte string. */
struct jbuf {
	char *p;
	size_t len, cap;
};

static bool jp_fail(struct jp *p, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record the first fault; always returns false. */
static bool jp_fail(struct jp *p, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return false;
	p->failed = true;
	if (!p->err || !p->errlen)
		return false;
	n = snprintf(p->err, p->errlen, "offset %zu: ", off);
	if (n < 0 || (size_t)n >= p->errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

static bool jp_oom(struct jp *p)
{
	return jp_fail(p, p->pos, "out of memory");
}

/* "'x'" for a printable byte, "byte 0xNN" otherwise, for messages. */
static const char *byte_name(unsigned char c, char buf[16])
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, 16, "'%c'", c);
	else
		snprintf(buf, 16, "byte 0x%02x", c);
	return buf;
}

static bool jbuf_add(struct jbuf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		char *q;

		while (cap < b->len + n + 1)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q)
			return false;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

static struct jv *jv_new(struct jp *p, enum jv_kind kind)
{
	struct jv *v = calloc(1, sizeof(*v));

	if (!v) {
		jp_oom(p);
		return NULL;
	}
	v->kind = kind;
	return v;
}

void jv_free(struct jv *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->len && v->m; i++) {
		free(v->m[i].key);
		jv_free(v->m[i].v);
	}
	free(v->m);
	free(v->text);
	free(v);
}

static bool jv_append(struct jv *c, char *key, size_t klen, struct jv *v)
{
	if (c->len == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct jv_member *m = realloc(c->m, cap * sizeof(*m));

		if (!m)
			return false;
		c->m = m;
		c->cap = cap;
	}
	c->m[c->len].key = key;
	c->m[c->len].klen = klen;
	c->m[c->len].v = v;
	c->len++;
	return true;
}

/* RFC 8259 section 2: insignificant whitespace. */
static void skip_ws(struct jp *p)
{
	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static bool at_end(const struct jp *p)
{
	return p->pos >= p->len;
}

/*
 * Length of the well-formed UTF-8 sequence at @s (at most @n bytes), or
 * 0. RFC 3629 section 4: no overlong forms, no surrogates, nothing above
 * U+10FFFF.
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (n < need)
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
	for (i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

/* Four hex digits at @off, or -1. */
static long hex4(const struct jp *p, size_t off)
{
	long v = 0;
	size_t i;

	if (off > p->len || p->len - off < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		unsigned char c = p->s[off + i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static bool put_utf8(struct jbuf *b, unsigned long cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return jbuf_add(b, u, n);
}

/* The \u escape at p->pos (the backslash), surrogate pairs joined (section 7). */
static bool parse_u_escape(struct jp *p, struct jbuf *b)
{
	size_t at = p->pos;
	long hi = hex4(p, at + 2), lo;

	if (hi < 0)
		return jp_fail(p, at, "bad \\u escape, want four hex digits");
	p->pos += 6;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return jp_fail(p, at, "unpaired low surrogate \\u%04lx", hi);
	if (hi < 0xd800 || hi > 0xdbff)
		return put_utf8(b, (unsigned long)hi) || jp_oom(p);
	if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
		return jp_fail(p, at, "unpaired high surrogate \\u%04lx", hi);
	lo = hex4(p, p->pos + 2);
	if (lo < 0)
		return jp_fail(p, p->pos, "bad \\u escape, want four hex digits");
	if (lo < 0xdc00 || lo > 0xdfff)
		return jp_fail(p, at, "unpaired high surrogate \\u%04lx", hi);
	p->pos += 6;
	return put_utf8(b, 0x10000 + ((unsigned long)(hi - 0xd800) << 10) +
			       (unsigned long)(lo - 0xdc00)) || jp_oom(p);
}

/* The string at p->pos (its opening quote) into @b. */
static bool parse_string(struct jp *p, struct jbuf *b)
{
	size_t start = p->pos;
	char name[16];

	if (!jbuf_add(b, "", 0))
		return jp_oom(p);
	p->pos++;
	for (;;) {
		unsigned char c;
		size_t n;
		char ch;

		if (at_end(p))
			return jp_fail(p, p->pos, "unterminated string (opened at offset %zu)",
				       start);
		c = p->s[p->pos];
		if (c == '"') {
			p->pos++;
			return true;
		}
		if (c < 0x20)
			return jp_fail(p, p->pos, "control character 0x%02x in a string", c);
		if (c >= 0x80) {
			n = utf8_len(p->s + p->pos, p->len - p->pos);
			if (!n)
				return jp_fail(p, p->pos, "invalid UTF-8 (%s)", byte_name(c, name));
			if (!jbuf_add(b, p->s + p->pos, n))
				return jp_oom(p);
			p->pos += n;
			continue;
		}
		if (c != '\\') {
			if (!jbuf_add(b, &c, 1))
				return jp_oom(p);
			p->pos++;
			continue;
		}
		if (p->len - p->pos < 2)
			return jp_fail(p, p->len, "unterminated string (opened at offset %zu)",
				       start);
		switch (p->s[p->pos + 1]) {
		case '"':
			ch = '"';
			break;
		case '\\':
			ch = '\\';
			break;
		case '/':
			ch = '/';
			break;
		case 'b':
			ch = '\b';
			break;
		case 'f':
			ch = '\f';
			break;
		case 'n':
			ch = '\n';
			break;
		case 'r':
			ch = '\r';
			break;
		case 't':
			ch = '\t';
			break;
		case 'u':
			if (!parse_u_escape(p, b))
				return false;
			continue;
		default:
			return jp_fail(p, p->pos, "bad escape \\%s",
				       byte_name(p->s[p->pos + 1], name));
		}
		if (!jbuf_add(b, &ch, 1))
			return jp_oom(p);
		p->pos += 2;
	}
}

static bool is_digit(const struct jp *p)
{
	return !at_end(p) && p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
}

static void skip_digits(struct jp *p)
{
	while (is_digit(p))
		p->pos++;
}

/* Section 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static struct jv *parse_number(struct jp *p)
{
	size_t start = p->pos;
	struct jv *v;

	if (p->s[p->pos] == '-')
		p->pos++;
	if (!is_digit(p)) {
		jp_fail(p, p->pos, "expected a digit");
		return NULL;
	}
	if (p->s[p->pos] == '0') {
		p->pos++;
		if (is_digit(p)) {
			jp_fail(p, p->pos - 1, "leading zero in a number");
			return NULL;
		}
	} else {
		skip_digits(p);
	}
	if (!at_end(p) && p->s[p->pos] == '.') {
		p->pos++;
		if (!is_digit(p)) {
			jp_fail(p, p->pos, "expected a digit after '.'");
			return NULL;
		}
		skip_digits(p);
	}
	if (!at_end(p) && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (!at_end(p) && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (!is_digit(p)) {
			jp_fail(p, p->pos, "expected a digit in the exponent");
			return NULL;
		}
		skip_digits(p);
	}
	v = jv_new(p, JV_NUM);
	if (!v)
		return NULL;
	v->text = strndup((const char *)p->s + start, p->pos - start);
	if (!v->text) {
		jv_free(v);
		jp_oom(p);
		return NULL;
	}
	v->num = strtod(v->text, NULL);
	if (isinf(v->num)) {
		jv_free(v);
		jp_fail(p, start, "number out of the range of a double");
		return NULL;
	}
	return v;
}

static struct jv *parse_literal(struct jp *p, const char *word, enum jv_kind kind, bool b)
{
	size_t n = strlen(word);
	struct jv *v;

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n)) {
		jp_fail(p, p->pos, "invalid literal (want %s)", word);
		return NULL;
	}
	p->pos += n;
	v = jv_new(p, kind);
	if (v)
		v->b = b;
	return v;
}

static struct jv *parse_value(struct jp *p, unsigned depth);

/* An array or object at p->pos (its bracket). */
static struct jv *parse_container(struct jp *p, unsigned depth)
{
	bool obj = p->s[p->pos] == '{';
	char close = obj ? '}' : ']';
	struct jv *c;
	char name[16];

	if (depth >= JV_MAX_DEPTH) {
		jp_fail(p, p->pos, "nesting deeper than %d", JV_MAX_DEPTH);
		return NULL;
	}
	c = jv_new(p, obj ? JV_OBJ : JV_ARR);
	if (!c)
		return NULL;
	p->pos++;
	skip_ws(p);
	if (!at_end(p) && p->s[p->pos] == close) {
		p->pos++;
		return c;
	}
	for (;;) {
		struct jbuf key = { 0 };
		struct jv *v;

		skip_ws(p);
		if (obj) {
			if (at_end(p) || p->s[p->pos] != '"') {
				jp_fail(p, p->pos, "expected a member name");
				goto fail;
			}
			if (!parse_string(p, &key))
				goto fail_key;
			skip_ws(p);
			if (at_end(p) || p->s[p->pos] != ':') {
				jp_fail(p, p->pos, "expected ':' after a member name");
				goto fail_key;
			}
			p->pos++;
		}
		v = parse_value(p, depth + 1);
		if (!v)
			goto fail_key;
		if (!jv_append(c, key.p, key.len, v)) {
			jv_free(v);
			jp_oom(p);
			goto fail_key;
		}
		skip_ws(p);
		if (at_end(p)) {
			jp_fail(p, p->pos, "unexpected end of input, want ',' or '%c'", close);
			goto fail;
		}
		if (p->s[p->pos] == close) {
			p->pos++;
			return c;
		}
		if (p->s[p->pos] != ',') {
			jp_fail(p, p->pos, "want ',' or '%c', not %s", close,
				byte_name(p->s[p->pos], name));
			goto fail;
		}
		p->pos++;
		skip_ws(p);
		if (!at_end(p) && p->s[p->pos] == close) {
			jp_fail(p, p->pos, "trailing comma");
			goto fail;
		}
		continue;
fail_key:
		free(key.p);
		goto fail;
	}
fail:
	jv_free(c);
	return NULL;
}

static struct jv *parse_value(struct jp *p, unsigned depth)
{
	char name[16];
	struct jbuf b = { 0 };
	struct jv *v;
	unsigned char c;

	skip_ws(p);
	if (at_end(p)) {
		jp_fail(p, p->pos, "unexpected end of input, want a value");
		return NULL;
	}
	c = p->s[p->pos];
	switch (c) {
	case '{':
	case '[':
		return parse_container(p, depth);
	case '"':
		if (!parse_string(p, &b)) {
			free(b.p);
			return NULL;
		}
		v = jv_new(p, JV_STR);
		if (!v) {
			free(b.p);
			return NULL;
		}
		v->text = b.p;
		v->len = b.len;
		return v;
	case 't':
		return parse_literal(p, "true", JV_BOOL, true);
	case 'f':
		return parse_literal(p, "false", JV_BOOL, false);
	case 'n':
		return parse_literal(p, "null", JV_NULL, false);
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return parse_number(p);
		jp_fail(p, p->pos, "unexpected %s, want a value", byte_name(c, name));
		return NULL;
	}
}

struct jv *jv_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct jp p = { .s = (const unsigned char *)text, .len = text ? len : 0,
			.err = err, .errlen = errlen };
	char name[16];
	struct jv *v;

	if (err && errlen)
		err[0] = '\0';
	v = parse_value(&p, 0);
	if (!v)
		return NULL;
	skip_ws(&p);
	if (!at_end(&p)) {
		jp_fail(&p, p.pos, "trailing %s after the value", byte_name(p.s[p.pos], name));
		jv_free(v);
		return NULL;
	}
	return v;
}

char *jv_slurp(FILE *f, size_t *len)
{
	struct jbuf b = { 0 };
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (!jbuf_add(&b, chunk, n)) {
			errno = ENOMEM;
			goto fail;
		}
	if (ferror(f)) {
		errno = EIO;
		goto fail;
	}
	if (!b.p && !jbuf_add(&b, "", 0)) {
		errno = ENOMEM;
		goto fail;
	}
	b.p[b.len] = '\0';
	*len = b.len;
	return b.p;
fail:
	free(b.p);
	return NULL;
}

struct jv *jv_parse_file(const char *path, char *err, size_t errlen)
{
	struct jv *v;
	size_t len;
	char *text;
	FILE *f;

	f = fopen(path, "rb");
	text = f ? jv_slurp(f, &len) : NULL;
	if (!text) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	v = jv_parse(text, len, err, errlen);
	free(text);
	return v;
}

/* ---- accessors ---- */

enum jv_kind jv_kind(const struct jv *v)
{
	return v ? v->kind : JV_NONE;
}

const char *jv_kind_name(enum jv_kind kind)
{
	static const char *const names[] = {
		[JV_NONE] = "none", [JV_NULL] = "null", [JV_BOOL] = "boolean",
		[JV_NUM] = "number", [JV_STR] = "string", [JV_ARR] = "array",
		[JV_OBJ] = "object",
	};

	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

bool jv_bool(const struct jv *v)
{
	return v && v->kind == JV_BOOL && v->b;
}

double jv_num(const struct jv *v)
{
	return v && v->kind == JV_NUM ? v->num : 0;
}

const char *jv_num_text(const struct jv *v)
{
	return v && v->kind == JV_NUM ? v->text : NULL;
}

const char *jv_str(const struct jv *v)
{
	return v && v->kind == JV_STR ? v->text : NULL;
}

size_t jv_str_len(const struct jv *v)
{
	return v && v->kind == JV_STR ? v->len : 0;
}

size_t jv_len(const struct jv *v)
{
	return v && (v->kind == JV_ARR || v->kind == JV_OBJ) ? v->len : 0;
}

const struct jv *jv_at(const struct jv *v, size_t i)
{
	return i < jv_len(v) ? v->m[i].v : NULL;
}

const char *jv_key(const struct jv *v, size_t i)
{
	return v && v->kind == JV_OBJ && i < v->len ? v->m[i].key : NULL;
}

const struct jv *jv_get(const struct jv *v, const char *key)
{
	size_t i, n;

	if (!v || v->kind != JV_OBJ || !key)
		return NULL;
	n = strlen(key);
	for (i = 0; i < v->len; i++)
		if (v->m[i].klen == n && !memcmp(v->m[i].key, key, n))
			return v->m[i].v;
	return NULL;
}
