/*
 * tracedat.c — trace.dat to tracefs text through libtracecmd (see
 * tracedat.h). Built with VTD_HAVE_LIBTRACECMD when the Makefile finds
 * the library through pkg-config; otherwise only the magic check is here
 * and tracedat_print() says the build cannot read the file.
 */
#include <string.h>
#include "bench/tracedat.h"

#ifdef VTD_HAVE_LIBTRACECMD
#include <trace-cmd.h>
#endif

bool tracedat_is(FILE *f)
{
	char m[TRACEDAT_MAGIC_LEN];
	bool is = fread(m, 1, sizeof(m), f) == sizeof(m) &&
		  !memcmp(m, TRACEDAT_MAGIC, TRACEDAT_MAGIC_LEN);

	rewind(f);
	return is;
}

const char *tracedat_strerror(int err)
{
	switch (err) {
	case TRACEDAT_OK:
		return "";
	case TRACEDAT_EOPEN:
		return "libtracecmd could not read its headers (a corrupt or cut trace.dat, "
		       "or a version it does not know)";
	case TRACEDAT_EDATA:
		return "libtracecmd read its headers but not its CPU data (a corrupt or cut "
		       "trace.dat)";
	case TRACEDAT_EWRITE:
		return "the decoded text could not be written";
	case TRACEDAT_ENOSUP:
		return "this build reads trace.dat only with libtracecmd (install "
		       "libtracecmd-dev and rebuild), or give it the text of "
		       "`trace-cmd report FILE`";
	default:
		return "libtracecmd failed reading it";
	}
}

#ifdef VTD_HAVE_LIBTRACECMD

bool tracedat_supported(void)
{
	return true;
}

struct pr {
	FILE *out;
	struct trace_seq seq;
	bool failed;
};

/* Blanks for the line ends a print format may hold. */
static void one_line(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

static int print_record(struct tracecmd_input *h, struct tep_record *rec, int cpu,
			void *data)
{
	struct pr *p = data;
	struct tep_handle *tep = tracecmd_get_tep(h);
	struct tep_event *ev = tep_find_event_by_record(tep, rec);
	const char *name, *body, *comm;
	int pid;

	if (rec->missed_events)
		fprintf(p->out, "# CPU %d: %lld events lost before the next\n", cpu,
			rec->missed_events < 0 ? -1LL : rec->missed_events);
	pid = tep_data_pid(tep, rec);
	comm = tep_data_comm_from_pid(tep, pid);
	if (!ev) {
		/* The file has no format for this event id: a well-formed line of an unknown event. */
		fprintf(p->out, "%s-%d [%03d] %llu.%09llu: event_id_%d: (no format in the file)\n",
			comm ? comm : "<...>", pid, cpu, rec->ts / 1000000000ULL,
			rec->ts % 1000000000ULL, tep_data_type(tep, rec));
		return 0;
	}
	trace_seq_reset(&p->seq);
	tep_print_event(tep, &p->seq, rec, "%s", TEP_PRINT_INFO);
	trace_seq_terminate(&p->seq);
	one_line(p->seq.buffer);
	name = ev->name;
	body = p->seq.buffer;
	/* The marker prints "IP: TEXT"; tracefs shows its caller's name. */
	if (ev->system && !strcmp(ev->system, "ftrace") && !strcmp(name, "print")) {
		const char *colon = strstr(body, ": ");

		name = "tracing_mark_write";
		body = colon ? colon + 2 : body;
	}
	if (fprintf(p->out, "%s-%d [%03d] %llu.%09llu: %s: %s\n", comm ? comm : "<...>", pid,
		    cpu, rec->ts / 1000000000ULL, rec->ts % 1000000000ULL, name, body) < 0) {
		p->failed = true;
		return -1;
	}
	return 0;
}

int tracedat_print(const char *path, FILE *out)
{
	struct tracecmd_input *h;
	struct pr p = { .out = out };
	int rc;

	tracecmd_set_loglevel(TEP_LOG_NONE);
	tep_set_loglevel(TEP_LOG_NONE);
	h = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS | TRACECMD_FL_LOAD_NO_SYSTEM_PLUGINS);
	if (!h)
		return TRACEDAT_EOPEN;
	trace_seq_init(&p.seq);
	rc = tracecmd_iterate_events(h, NULL, 0, print_record, &p);
	trace_seq_destroy(&p.seq);
	tracecmd_close(h);
	if (p.failed || fflush(out))
		return TRACEDAT_EWRITE;
	return rc < 0 ? TRACEDAT_EDATA : TRACEDAT_OK;
}

#else

bool tracedat_supported(void)
{
	return false;
}

int tracedat_print(const char *path, FILE *out)
{
	(void)path;
	(void)out;
	return TRACEDAT_ENOSUP;
}

#endif
