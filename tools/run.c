/*
 * run.c — `vtdkit run`: reads the scenario file whole, parses it, and
 * runs it. A file that does not parse is reported as "FILE:LINE: message"
 * (or as the JSON report with --json) before anything runs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bench/scenario.h"
#include "run.h"

/* The whole of @in in a malloc'ed buffer; NULL with errno set. */
static char *slurp(FILE *in, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, in);

		n += got;
		if (n < cap) {
			if (ferror(in)) {
				free(buf);
				errno = EIO;
				return NULL;
			}
			*len = n;
			return buf;
		}
		char *more = realloc(buf, cap * 2);

		if (!more)
			free(buf);
		buf = more;
		cap *= 2;
	}
	errno = ENOMEM;
	return NULL;
}

/* Read and parse @path; NULL after reporting why. */
static struct scenario *load(const char *cmd, const char *path, const char **name,
			     unsigned flags, FILE *out, FILE *err)
{
	bool std = !strcmp(path, "-");
	struct scenario_error e;
	struct scenario *s;
	FILE *in = std ? stdin : fopen(path, "r");
	size_t len = 0;
	char *text;

	*name = std ? "<stdin>" : path;
	if (!in) {
		fprintf(err, "vtdkit %s: cannot open '%s': %s\n", cmd, path, strerror(errno));
		return NULL;
	}
	text = slurp(in, &len);
	if (!text)
		fprintf(err, "vtdkit %s: cannot read '%s': %s\n", cmd, *name, strerror(errno));
	if (!std)
		fclose(in);
	if (!text)
		return NULL;
	s = scenario_parse(text, len, &e);
	free(text);
	if (!s) {
		if (e.line)
			fprintf(err, "%s:%d: %s\n", *name, e.line, e.msg);
		else
			fprintf(err, "%s: %s\n", *name, e.msg);
		if (flags & SCENARIO_JSON)
			scenario_json_error(out, *name, &e);
	}
	return s;
}

int explore_scenario_file(const char *path, const struct scenario_explore_opts *o, FILE *out,
			  FILE *err)
{
	const char *name;
	struct scenario *s = load("explore", path, &name, 0, out, err);
	int status;

	if (!s)
		return SCENARIO_ERROR;
	status = scenario_explore(s, name, o, out, err);
	scenario_free(s);
	return status;
}

int run_scenario_file(const char *path, unsigned flags, FILE *out, FILE *err)
{
	const char *name;
	struct scenario *s = load("run", path, &name, flags, out, err);
	int status;

	if (!s)
		return SCENARIO_ERROR;
	status = scenario_run(s, name, out, err, flags);
	scenario_free(s);
	return status;
}
