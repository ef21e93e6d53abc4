/*
 * tracedat.h — trace-cmd's binary trace.dat, read through libtracecmd
 * when the build found it (docs/replay.md). Every record is printed as
 * the line tracefs' `trace` file would show for it, so the one text
 * grammar of trace.h reads both; nothing here knows the IOMMU events.
 */
#ifndef VTD_BENCH_TRACEDAT_H
#define VTD_BENCH_TRACEDAT_H

#include <stdbool.h>
#include <stdio.h>

/* The file magic (man 5 trace-cmd.dat.v6/v7): 0x17 0x08 0x44 "tracing". */
#define TRACEDAT_MAGIC		"\x17\x08\x44" "tracing"
#define TRACEDAT_MAGIC_LEN	10

/* This build reads trace.dat files (it was linked with libtracecmd). */
bool tracedat_supported(void);

/* The stream starts with the trace.dat magic (the stream is rewound). */
bool tracedat_is(FILE *f);

/* Why tracedat_print() failed; also its child's exit status in trace.c. */
enum tracedat_err {
	TRACEDAT_OK,
	TRACEDAT_EOPEN = 3,	/* libtracecmd refused the file: corrupt, cut or unknown version */
	TRACEDAT_EDATA,		/* the headers read, the CPU data did not */
	TRACEDAT_EWRITE,	/* the output stream failed */
	TRACEDAT_ENOSUP,	/* no libtracecmd in this build */
};

/* A sentence for @err ("" for TRACEDAT_OK). */
const char *tracedat_strerror(int err);

/*
 * Print every record of the top-level buffer of @path to @out in time
 * order, one line each:
 *	TASK-PID [CPU] SEC.NSEC: EVENT: BODY
 * BODY as the event's own print format renders it; the ftrace marker
 * ("print") as "tracing_mark_write: TEXT", as tracefs shows it. A CPU's
 * lost events become a comment line. Returns TRACEDAT_OK or an error.
 */
int tracedat_print(const char *path, FILE *out);

#endif
