/*
 * progress.h — a progress bar for long runs, drawn on a terminal only:
 * nothing at all is written unless the stream is a terminal (or a test
 * forces one), so piped output, logs and tests stay clean.
 */
#ifndef VTD_BENCH_PROGRESS_H
#define VTD_BENCH_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#define PROGRESS_INTERVAL_NS	100000000ULL	/* at most ~10 redraws a second */

struct progress {
	FILE *tty;		/* where the bar goes; NULL: disabled */
	char label[32];		/* cut to fit one line */
	uint64_t total, done;	/* total 0: unknown; a count "LABEL: N so far" is drawn */
	uint64_t interval_ns;	/* least time between redraws (tests may change it) */
	uint64_t last_ns;	/* CLOCK_MONOTONIC of the last redraw */
	uint64_t drawn;		/* @done at the last redraw */
	size_t len;		/* characters on the line, to blank it */
};

/* Start a bar on stderr when stderr is a terminal; else a disabled one. */
void progress_start(struct progress *p, const char *label, uint64_t total);

/*
 * Start a bar on @tty whatever it is (tests pass a memory stream);
 * @tty NULL gives a disabled bar. Draws the empty bar at once.
 */
void progress_start_on(struct progress *p, const char *label, uint64_t total, FILE *tty);

/*
 * @done of the total are finished. Redraws when @interval_ns has passed
 * since the last redraw, and when @done reaches a known total.
 */
void progress_update(struct progress *p, uint64_t done);

/* Blank the line and leave the cursor at its start (a carriage return). */
void progress_done(struct progress *p);

/*
 * One bar over several runs in a row: a run's progress callback
 * (void (*)(void *, uint64_t done, uint64_t total), as wl_opts.progress)
 * given a struct progress_runs draws @base + done; the caller adds each
 * finished run's total to @base.
 */
struct progress_runs {
	struct progress p;
	uint64_t base;		/* operations of the runs before this one */
};

void progress_runs_update(void *arg, uint64_t done, uint64_t total);

#endif
