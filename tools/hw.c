/*
 * hw.c — `vtdkit hw`: a line console to the bare hardware model, after
 * QEMU's qtest protocol: CPU reads and writes, memory fills, device DMA
 * and ATS requests, the virtual clock and counters. One command table
 * drives parsing, usage messages and `help`; docs/hw-console.md is the
 * reference. Every line is parsed in full before the model is touched,
 * so a line answered with ERR changes nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt/entry.h"
#include "fmt/num.h"
#include "hw.h"

/* Longest token quoted back in an ERR message. */
#define TOKLIM		40
#define QTOK(s)		TOKLIM, (s), (strlen(s) > TOKLIM ? "..." : "")

/* Enough for every command: the longest takes four positionals and pasid=. */
#define MAX_TOKENS	8

struct hw_req;

struct hw_cmd {
	const char *name;
	const char *args;	/* positional arguments, as printed in usage */
	int nargs;
	bool pasid;		/* also takes [pasid=N] */
	unsigned width;		/* readb…readq, writeb…writeq: access bytes */
	int (*run)(struct hw_req *r);
};

/* One parsed command line. */
struct hw_req {
	struct vtdm *m;
	FILE *out;
	const struct hw_cmd *cmd;
	char *arg[MAX_TOKENS];	/* positional arguments */
	uint32_t pasid;		/* VTD_NO_PASID unless pasid= was given */
};

static int reply_err(struct hw_req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int reply_err(struct hw_req *r, const char *fmt, ...)
{
	va_list ap;

	fputs("ERR ", r->out);
	va_start(ap, fmt);
	vfprintf(r->out, fmt, ap);
	va_end(ap);
	fputc('\n', r->out);
	return -1;
}

/* ---- argument parsers: 0, or an ERR reply naming the argument ---- */

static int parse_num(struct hw_req *r, const char *what, const char *s, uint64_t *v)
{
	int rc = num_parse(s, v, false);

	if (rc == -ERANGE)
		return reply_err(r, "%s '%.*s%s' does not fit in 64 bits", what, QTOK(s));
	if (rc)
		return reply_err(r, "%s '%.*s%s' is not a number (expected decimal or 0x hex)",
				 what, QTOK(s));
	return 0;
}

/* A transfer size: 1 .. HW_MAX_XFER bytes. */
static int parse_size(struct hw_req *r, const char *what, const char *s, size_t *len)
{
	uint64_t v;

	if (num_parse(s, &v, true))
		return reply_err(r, "%s '%.*s%s' is not a size (expected a number, "
				 "optionally with K, M or G)", what, QTOK(s));
	if (v == 0)
		return reply_err(r, "%s '%.*s%s' must be at least 1", what, QTOK(s));
	if (v > HW_MAX_XFER)
		return reply_err(r, "%s '%.*s%s' is more than the %u bytes (1 MiB) one command may move",
				 what, QTOK(s), HW_MAX_XFER);
	*len = (size_t)v;
	return 0;
}

/* "0x" and two hex digits per byte, in memory order; *@buf is malloc'ed. */
static int parse_bytes(struct hw_req *r, const char *what, const char *s,
		       uint8_t **buf, size_t *len)
{
	size_t digits, i;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return reply_err(r, "%s '%.*s%s' must start with 0x (then 2 hex digits per byte)",
				 what, QTOK(s));
	s += 2;
	digits = strlen(s);
	for (i = 0; i < digits; i++)
		if (num_hexdigit((unsigned char)s[i]) < 0)
			return reply_err(r, "%s has '%c' at hex digit %zu, expected 0-9, a-f",
					 what, s[i], i + 1);
	if (digits == 0)
		return reply_err(r, "%s has no bytes after 0x", what);
	if (digits % 2)
		return reply_err(r, "%s has an odd number of hex digits (%zu); "
				 "each byte takes 2", what, digits);
	if (digits / 2 > HW_MAX_XFER)
		return reply_err(r, "%s has %zu bytes, more than the %u (1 MiB) one command may move",
				 what, digits / 2, HW_MAX_XFER);
	*len = digits / 2;
	*buf = malloc(*len);
	if (!*buf)
		return reply_err(r, "out of memory for %zu bytes", *len);
	for (i = 0; i < *len; i++)
		(*buf)[i] = (uint8_t)(num_hexdigit((unsigned char)s[2 * i]) << 4 |
				      num_hexdigit((unsigned char)s[2 * i + 1]));
	return 0;
}

static int parse_sid(struct hw_req *r, const char *s, uint16_t *sid)
{
	char msg[160];

	if (vtdm_parse_sid(s, sid, msg, sizeof(msg)))
		return reply_err(r, "%s", msg);
	return 0;
}

/* ---- model errors ---- */

static int cmd_ats_translate(struct hw_req *r);

static int cpu_err(struct hw_req *r, int rc, uint64_t addr, size_t len)
{
	if (rc == -EFAULT)
		return reply_err(r, "%zu bytes at 0x%" PRIx64 " are neither RAM (0..0x%" PRIx64
				 ") nor inside one register window", len, addr,
				 vtdm_mem_size(r->m) - 1);
	if (rc == -EINVAL)
		return reply_err(r, "the model refused a %zu-byte register access at 0x%" PRIx64
				 " (registers take 1, 2, 4 or 8 bytes inside a 4 KiB window)", len, addr);
	return reply_err(r, "access of %zu bytes at 0x%" PRIx64 " failed: %s", len, addr,
			 strerror(-rc));
}

static int dev_err(struct hw_req *r, int rc, uint16_t sid)
{
	unsigned bus = sid >> 8, dev = (sid >> 3) & 0x1f, fn = sid & 7;

	if (rc == -EINVAL && r->cmd->run == cmd_ats_translate)
		return reply_err(r, "the model refused the ATS request: it needs "
				 "--device %02x:%02x.%x,ats=1 behind a unit with dt=1",
				 bus, dev, fn);
	if (rc == -EINVAL)
		return reply_err(r, "the model refused the request from %02x:%02x.%x "
				 "(no unit serves it)", bus, dev, fn);
	return reply_err(r, "request from %02x:%02x.%x failed: %s", bus, dev, fn,
			 strerror(rc < 0 ? -rc : rc));
}

/* "OK 0x" and the bytes in memory order. */
static int reply_bytes(struct hw_req *r, const uint8_t *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *hex = malloc(2 * len + 1);

	if (!hex)
		return reply_err(r, "out of memory for %zu bytes", len);
	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[buf[i] >> 4];
		hex[2 * i + 1] = digits[buf[i] & 15];
	}
	hex[2 * len] = '\0';
	fprintf(r->out, "OK 0x%s\n", hex);
	free(hex);
	return 0;
}

/* ---- commands ---- */

static int cmd_readx(struct hw_req *r)
{
	uint8_t b[8];
	uint64_t addr, v = 0;
	unsigned w = r->cmd->width;
	int rc;

	if (parse_num(r, "ADDR", r->arg[0], &addr))
		return -1;
	rc = vtdm_read(r->m, addr, b, w);
	if (rc)
		return cpu_err(r, rc, addr, w);
	for (unsigned i = w; i-- > 0;)
		v = v << 8 | b[i];
	fprintf(r->out, "OK 0x%" PRIx64 "\n", v);
	return 0;
}

static int cmd_writex(struct hw_req *r)
{
	uint8_t b[8];
	uint64_t addr, v;
	unsigned w = r->cmd->width;
	int rc;

	if (parse_num(r, "ADDR", r->arg[0], &addr) ||
	    parse_num(r, "VALUE", r->arg[1], &v))
		return -1;
	if (w < 8 && v >> (8 * w))
		return reply_err(r, "VALUE 0x%" PRIx64 " does not fit in %u bits", v, 8 * w);
	for (unsigned i = 0; i < w; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	rc = vtdm_write(r->m, addr, b, w);
	if (rc)
		return cpu_err(r, rc, addr, w);
	fputs("OK\n", r->out);
	return 0;
}

static int cmd_read(struct hw_req *r)
{
	uint64_t addr;
	uint8_t *buf;
	size_t len;
	int rc;

	if (parse_num(r, "ADDR", r->arg[0], &addr) ||
	    parse_size(r, "SIZE", r->arg[1], &len))
		return -1;
	buf = malloc(len);
	if (!buf)
		return reply_err(r, "out of memory for %zu bytes", len);
	rc = vtdm_read(r->m, addr, buf, len);
	rc = rc ? cpu_err(r, rc, addr, len) : reply_bytes(r, buf, len);
	free(buf);
	return rc;
}

static int cmd_write(struct hw_req *r)
{
	uint64_t addr;
	uint8_t *buf = NULL;
	size_t len, n;
	int rc;

	if (parse_num(r, "ADDR", r->arg[0], &addr) ||
	    parse_size(r, "SIZE", r->arg[1], &len) ||
	    parse_bytes(r, "DATA", r->arg[2], &buf, &n))
		return -1;
	if (n != len) {
		free(buf);
		return reply_err(r, "DATA has %zu bytes but SIZE is %zu", n, len);
	}
	rc = vtdm_write(r->m, addr, buf, len);
	free(buf);
	if (rc)
		return cpu_err(r, rc, addr, len);
	fputs("OK\n", r->out);
	return 0;
}

static int cmd_memset(struct hw_req *r)
{
	uint64_t addr, byte;
	uint8_t *buf;
	size_t len;
	int rc;

	if (parse_num(r, "ADDR", r->arg[0], &addr) ||
	    parse_size(r, "SIZE", r->arg[1], &len) ||
	    parse_num(r, "BYTE", r->arg[2], &byte))
		return -1;
	if (byte > 0xff)
		return reply_err(r, "BYTE '%s' is above 0xff", r->arg[2]);
	/* One write of the whole range, so a bad range changes nothing. */
	buf = malloc(len);
	if (!buf)
		return reply_err(r, "out of memory for %zu bytes", len);
	memset(buf, (int)byte, len);
	rc = vtdm_write(r->m, addr, buf, len);
	free(buf);
	if (rc)
		return cpu_err(r, rc, addr, len);
	fputs("OK\n", r->out);
	return 0;
}

static int cmd_clflush(struct hw_req *r)
{
	uint64_t addr;
	int rc;

	if (parse_num(r, "ADDR", r->arg[0], &addr))
		return -1;
	rc = vtdm_clflush(r->m, addr);
	if (rc)
		return cpu_err(r, rc, addr, 1);
	fputs("OK\n", r->out);
	return 0;
}

static int reply_fault(struct hw_req *r, const struct vtdm_xlate *x)
{
	/* Translated fine, but the output address is not RAM: no VT-d fault. */
	if (x->fault == VTDM_MASTER_ABORT)
		fprintf(r->out, "FAULT master_abort pa=0x%" PRIx64 "\n", x->pa);
	else
		fprintf(r->out, "FAULT reason=0x%02x\n", (unsigned)x->fault);
	return 0;
}

static int cmd_dma_read(struct hw_req *r)
{
	struct vtdm_xlate x;
	uint16_t sid;
	uint64_t iova;
	uint8_t *buf;
	size_t len;
	int rc;

	if (parse_sid(r, r->arg[0], &sid) ||
	    parse_num(r, "IOVA", r->arg[1], &iova) ||
	    parse_size(r, "SIZE", r->arg[2], &len))
		return -1;
	buf = malloc(len);
	if (!buf)
		return reply_err(r, "out of memory for %zu bytes", len);
	memset(&x, 0, sizeof(x));
	rc = vtdm_dma(r->m, sid, r->pasid, iova, buf, len, false, &x);
	if (rc == 0)
		rc = reply_bytes(r, buf, len);
	else if (rc == 1)
		rc = reply_fault(r, &x);
	else
		rc = dev_err(r, rc, sid);
	free(buf);
	return rc;
}

static int cmd_dma_write(struct hw_req *r)
{
	struct vtdm_xlate x;
	uint16_t sid;
	uint64_t iova;
	uint8_t *buf;
	size_t len;
	int rc;

	if (parse_sid(r, r->arg[0], &sid) ||
	    parse_num(r, "IOVA", r->arg[1], &iova) ||
	    parse_bytes(r, "DATA", r->arg[2], &buf, &len))
		return -1;
	memset(&x, 0, sizeof(x));
	rc = vtdm_dma(r->m, sid, r->pasid, iova, buf, len, true, &x);
	free(buf);
	if (rc == 1)
		return reply_fault(r, &x);
	if (rc)
		return dev_err(r, rc, sid);
	fputs("OK\n", r->out);
	return 0;
}

static int cmd_ats_translate(struct hw_req *r)
{
	static const char *const perm[2][2] = { { "-", "w" }, { "r", "rw" } };
	struct vtdm_xlate x;
	uint16_t sid;
	uint64_t iova;
	int rc;

	if (parse_sid(r, r->arg[0], &sid) ||
	    parse_num(r, "IOVA", r->arg[1], &iova))
		return -1;
	memset(&x, 0, sizeof(x));
	rc = vtdm_ats_translate(r->m, sid, r->pasid, iova, &x);
	if (rc == 1)
		return reply_fault(r, &x);
	if (rc)
		return dev_err(r, rc, sid);
	fprintf(r->out, "OK 0x%" PRIx64 " size=0x%" PRIx64 " perm=%s\n",
		x.pa, x.page_size, perm[x.r][x.w]);
	return 0;
}

static int cmd_clock_step(struct hw_req *r)
{
	uint64_t ns;

	if (parse_num(r, "NS", r->arg[0], &ns))
		return -1;
	if (ns > UINT64_MAX - vtdm_now(r->m))
		return reply_err(r, "NS %" PRIu64 " would overflow the 64-bit clock", ns);
	vtdm_clock_step(r->m, ns);
	fprintf(r->out, "OK %" PRIu64 "\n", vtdm_now(r->m));
	return 0;
}

static int cmd_clock(struct hw_req *r)
{
	fprintf(r->out, "OK %" PRIu64 "\n", vtdm_now(r->m));
	return 0;
}

static int cmd_stat(struct hw_req *r)
{
	uint64_t v;

	if (vtdm_stat(r->m, r->arg[0], &v))
		return reply_err(r, "unknown counter '%.*s%s'", QTOK(r->arg[0]));
	fprintf(r->out, "OK %" PRIu64 "\n", v);
	return 0;
}

static int cmd_help(struct hw_req *r);

static const struct hw_cmd hw_cmds[] = {
	{ "readb",	"ADDR",			1, false, 1, cmd_readx },
	{ "readw",	"ADDR",			1, false, 2, cmd_readx },
	{ "readl",	"ADDR",			1, false, 4, cmd_readx },
	{ "readq",	"ADDR",			1, false, 8, cmd_readx },
	{ "writeb",	"ADDR VALUE",		2, false, 1, cmd_writex },
	{ "writew",	"ADDR VALUE",		2, false, 2, cmd_writex },
	{ "writel",	"ADDR VALUE",		2, false, 4, cmd_writex },
	{ "writeq",	"ADDR VALUE",		2, false, 8, cmd_writex },
	{ "read",	"ADDR SIZE",		2, false, 0, cmd_read },
	{ "write",	"ADDR SIZE DATA",	3, false, 0, cmd_write },
	{ "memset",	"ADDR SIZE BYTE",	3, false, 0, cmd_memset },
	{ "clflush",	"ADDR",			1, false, 0, cmd_clflush },
	{ "dma_read",	"SID IOVA SIZE",	3, true,  0, cmd_dma_read },
	{ "dma_write",	"SID IOVA DATA",	3, true,  0, cmd_dma_write },
	{ "ats_translate", "SID IOVA",		2, true,  0, cmd_ats_translate },
	{ "clock_step",	"NS",			1, false, 0, cmd_clock_step },
	{ "clock",	"",			0, false, 0, cmd_clock },
	{ "stat",	"NAME",			1, false, 0, cmd_stat },
	{ "help",	"",			0, false, 0, cmd_help },
};

static int cmd_help(struct hw_req *r)
{
	fputs("OK", r->out);
	for (size_t i = 0; i < ARRAY_SIZE(hw_cmds); i++) {
		const struct hw_cmd *c = &hw_cmds[i];

		fprintf(r->out, "%s %s%s%s%s", i ? ";" : "", c->name, *c->args ? " " : "",
			c->args, c->pasid ? " [pasid=N]" : "");
	}
	fputc('\n', r->out);
	return 0;
}

/* Word @k of a usage string, into @buf. */
static const char *usage_word(const char *args, int k, char *buf, size_t len)
{
	size_t n;

	for (; k > 0; k--)
		args = strchr(args, ' ') + 1;
	n = strcspn(args, " ");
	snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), args);
	return buf;
}

static int usage_err(struct hw_req *r, const char *fmt, const char *what)
{
	const struct hw_cmd *c = r->cmd;
	char msg[96];

	snprintf(msg, sizeof(msg), fmt, what);
	return reply_err(r, "%s (usage: %s%s%s%s)", msg, c->name, *c->args ? " " : "",
			 c->args, c->pasid ? " [pasid=N]" : "");
}

/* A keyword argument; only pasid=N exists. */
static int parse_keyword(struct hw_req *r, const char *tok, bool *seen)
{
	uint64_t v;

	if (!r->cmd->pasid || strncmp(tok, "pasid=", 6)) {
		char quoted[TOKLIM + 8];

		snprintf(quoted, sizeof(quoted), "%.*s%s", QTOK(tok));
		return usage_err(r, "unknown option '%s'", quoted);
	}
	if (*seen)
		return reply_err(r, "pasid= is given twice");
	*seen = true;
	if (parse_num(r, "pasid=", tok + 6, &v))
		return -1;
	if (v >= 1u << PASID_BITS)
		return reply_err(r, "pasid=%.*s%s is out of range (PASIDs are %u bits, at most 0x%x)",
				 QTOK(tok + 6), PASID_BITS, (1u << PASID_BITS) - 1);
	r->pasid = (uint32_t)v;
	return 0;
}

/*
 * Cut @s at its comment: a '#' at the start of the line or after a
 * blank. The hw-test runner applies the same rule.
 */
static void strip_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static int run_tokens(struct hw_req *r, char **tok, int ntok)
{
	bool pasid_seen = false;
	int nargs = 0;
	char word[32];

	for (size_t i = 0; i < ARRAY_SIZE(hw_cmds); i++)
		if (!strcmp(tok[0], hw_cmds[i].name))
			r->cmd = &hw_cmds[i];
	if (!r->cmd)
		return reply_err(r, "unknown command '%.*s%s' (try 'help')", QTOK(tok[0]));
	for (int i = 1; i < ntok; i++) {
		if (strchr(tok[i], '=')) {
			if (parse_keyword(r, tok[i], &pasid_seen))
				return -1;
		} else if (nargs == r->cmd->nargs) {
			char quoted[TOKLIM + 8];

			snprintf(quoted, sizeof(quoted), "%.*s%s", QTOK(tok[i]));
			return usage_err(r, "unexpected argument '%s'", quoted);
		} else {
			r->arg[nargs++] = tok[i];
		}
	}
	if (nargs < r->cmd->nargs)
		return usage_err(r, "missing %s",
				 usage_word(r->cmd->args, nargs, word, sizeof(word)));
	return r->cmd->run(r);
}

int hw_console_line(struct vtdm *m, const char *line, FILE *out)
{
	struct hw_req r = { .m = m, .out = out, .pasid = VTD_NO_PASID };
	char *tok[MAX_TOKENS];
	int ntok = 0, rc;
	char *copy = strdup(line), *p, *save;

	if (!copy) {
		fputs("ERR out of memory\n", out);
		return -1;
	}
	strip_comment(copy);
	for (p = strtok_r(copy, " \t\r\n", &save); p && ntok < MAX_TOKENS;
	     p = strtok_r(NULL, " \t\r\n", &save))
		tok[ntok++] = p;
	if (ntok == 0)
		rc = 1;
	else if (p)
		rc = reply_err(&r, "more than %d words on one line", MAX_TOKENS);
	else
		rc = run_tokens(&r, tok, ntok);
	free(copy);
	return rc;
}

/* The command part of @line, blanks trimmed; nothing for a comment line. */
static void echo(const char *line, FILE *out)
{
	char *copy = strdup(line), *p;
	size_t n;

	if (!copy)
		return;
	strip_comment(copy);
	p = copy + strspn(copy, " \t");
	n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		p[--n] = '\0';
	if (n)
		fprintf(out, "> %s\n", p);
	free(copy);
}

int hw_console_run(struct vtdm *m, FILE *in, FILE *out, const char *name, unsigned flags)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int errors = 0;

	while ((n = getline(&line, &cap, in)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (flags & HW_ECHO)
			echo(line, out);
		if (hw_console_line(m, line, out) < 0)
			errors++;
		fflush(out);
	}
	free(line);
	if (ferror(in)) {
		fprintf(stderr, "vtdkit hw: %s: read error: %s\n", name, strerror(errno));
		return -1;
	}
	return errors;
}

/* ---- topology from the command line ---- */

void hw_topo_init(struct hw_topo *t)
{
	memset(t, 0, sizeof(*t));
	vtdm_machine_cfg_default(&t->machine);
}

/*
 * Split @spec at commas and call @set for each KEY=VAL item; the first
 * @skip items are left to the caller. @opt names the option in messages.
 */
static int for_each_item(const char *opt, const char *spec, int skip,
			 int (*set)(void *ctx, const char *key, const char *val,
				    char *err, size_t errlen),
			 void *ctx, char *err, size_t errlen)
{
	char *copy = strdup(spec), *item, *next;
	char msg[160];
	int rc = 0;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!*copy)
		goto out;
	for (item = copy; item; item = next) {
		char *eq;

		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		if (skip > 0) {
			skip--;
			continue;
		}
		eq = strchr(item, '=');
		if (!*item || !eq || eq == item) {
			snprintf(err, errlen, "%s '%s': item '%s' is not KEY=VALUE", opt, spec, item);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		rc = set(ctx, item, eq + 1, msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "%s '%s': %s", opt, spec, msg);
			break;
		}
	}
out:
	free(copy);
	return rc;
}

static int set_unit_key(void *ctx, const char *key, const char *val, char *err, size_t errlen)
{
	return vtdm_unit_cfg_set(ctx, key, val, err, errlen);
}

int hw_topo_add_iommu(struct hw_topo *t, const char *spec, char *err, size_t errlen)
{
	struct vtdm_unit_cfg *cfg = &t->units[t->nr_units];
	char msg[160];
	int rc;

	if (t->nr_units == VTDM_MAX_UNITS) {
		snprintf(err, errlen, "--iommu '%s': at most %d units", spec, VTDM_MAX_UNITS);
		return -ENOSPC;
	}
	vtdm_unit_cfg_default(cfg);
	rc = for_each_item("--iommu", spec, 0, set_unit_key, cfg, err, errlen);
	if (rc)
		return rc;
	/* Keys that contradict each other (dt=1 without qi, …). */
	if (vtdm_unit_cfg_check(cfg, msg, sizeof(msg))) {
		snprintf(err, errlen, "--iommu '%s': %s", spec, msg);
		return -EINVAL;
	}
	t->nr_units++;
	return 0;
}

static int set_dev_key(void *ctx, const char *key, const char *val, char *err, size_t errlen)
{
	struct hw_topo_dev *d = ctx;

	/* Units are known by name only once built; hw_topo_build resolves it. */
	if (!strcmp(key, "iommu")) {
		if (!*val || strlen(val) >= sizeof(d->iommu)) {
			snprintf(err, errlen, "iommu='%s': expected a unit name (dmar0, …) or index",
				 val);
			return -EINVAL;
		}
		strcpy(d->iommu, val);
		return 0;
	}
	return vtdm_dev_cfg_set(&d->cfg, key, val, err, errlen);
}

int hw_topo_add_device(struct hw_topo *t, const char *spec, char *err, size_t errlen)
{
	struct hw_topo_dev *d = &t->devs[t->nr_devs];
	char sidtext[64], msg[160];
	size_t n = strcspn(spec, ",");
	int rc;

	if (t->nr_devs == VTDM_MAX_DEVICES) {
		snprintf(err, errlen, "--device '%s': at most %d devices", spec, VTDM_MAX_DEVICES);
		return -ENOSPC;
	}
	memset(d, 0, sizeof(*d));
	vtdm_dev_cfg_default(&d->cfg);
	snprintf(sidtext, sizeof(sidtext), "%.*s", (int)n, spec);
	if (vtdm_parse_sid(sidtext, &d->cfg.sid, msg, sizeof(msg))) {
		snprintf(err, errlen, "--device '%s': %s", spec, msg);
		return -EINVAL;
	}
	for (unsigned i = 0; i < t->nr_devs; i++) {
		if (t->devs[i].cfg.sid == d->cfg.sid) {
			snprintf(err, errlen, "--device '%s': SID %s is already a device",
				 spec, sidtext);
			return -EINVAL;
		}
	}
	d->cfg.unit = 0;
	rc = for_each_item("--device", spec, 1, set_dev_key, d, err, errlen);
	if (rc == 0)
		t->nr_devs++;
	return rc;
}

int hw_topo_set_mem(struct hw_topo *t, const char *size, char *err, size_t errlen)
{
	char msg[160];

	if (vtdm_machine_cfg_set(&t->machine, "mem", size, msg, sizeof(msg))) {
		snprintf(err, errlen, "--mem: %s", msg);
		return -EINVAL;
	}
	return 0;
}

/* Index of the unit @name names (a unit name or a number), or -1. */
static int find_unit(struct vtdm *m, const char *name)
{
	uint64_t v;
	int n;

	if (!*name)
		return 0;
	for (unsigned i = 0; i < vtdm_nr_units(m); i++)
		if (!strcmp(vtdm_unit_name(m, i), name))
			return (int)i;
	n = num_scan(name, &v);
	if (n > 0 && !name[n] && v < vtdm_nr_units(m))
		return (int)v;
	return -1;
}

struct vtdm *hw_topo_build(const struct hw_topo *t, char *err, size_t errlen)
{
	struct vtdm_unit_cfg def;
	struct vtdm *m = vtdm_create(&t->machine);
	int rc;

	if (!m) {
		snprintf(err, errlen, "cannot create a machine with %" PRIu64 " bytes of RAM",
			 t->machine.mem_size);
		return NULL;
	}
	vtdm_unit_cfg_default(&def);
	for (unsigned i = 0; i < (t->nr_units ? t->nr_units : 1); i++) {
		rc = vtdm_add_unit(m, t->nr_units ? &t->units[i] : &def);
		if (rc < 0) {
			snprintf(err, errlen, "--iommu #%u: the model refused the unit: %s",
				 i + 1, strerror(-rc));
			goto fail;
		}
	}
	for (unsigned i = 0; i < t->nr_devs; i++) {
		struct vtdm_dev_cfg cfg = t->devs[i].cfg;
		uint16_t sid = cfg.sid;
		int unit = find_unit(m, t->devs[i].iommu);

		if (unit < 0) {
			unsigned n = vtdm_nr_units(m);

			snprintf(err, errlen, "--device %02x:%02x.%x: no unit '%s' (the units are "
				 "%s%s%s)", sid >> 8, (sid >> 3) & 0x1f, sid & 7,
				 t->devs[i].iommu, vtdm_unit_name(m, 0), n > 1 ? " .. " : "",
				 n > 1 ? vtdm_unit_name(m, n - 1) : "");
			goto fail;
		}
		cfg.unit = unit;
		rc = vtdm_add_device(m, &cfg);
		if (rc < 0) {
			snprintf(err, errlen, "--device %02x:%02x.%x: the model refused the device: %s",
				 sid >> 8, (sid >> 3) & 0x1f, sid & 7, strerror(-rc));
			goto fail;
		}
	}
	return m;
fail:
	vtdm_destroy(m);
	return NULL;
}
