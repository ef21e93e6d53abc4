/*
 * progress.c — the progress bar of progress.h: one line redrawn in place
 * with a carriage return, rate-limited on CLOCK_MONOTONIC, blanked with
 * spaces at the end (no terminal escape sequences, so any terminal works).
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/progress.h"

#define BAR_WIDTH	30

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void draw(struct progress *p)
{
	uint64_t done = p->done < p->total ? p->done : p->total;
	double frac = p->total ? (double)done / (double)p->total : 1.0;
	unsigned fill = (unsigned)(frac * BAR_WIDTH);
	char bar[BAR_WIDTH + 1];
	int n;

	memset(bar, '#', fill);
	memset(bar + fill, '.', BAR_WIDTH - fill);
	bar[BAR_WIDTH] = 0;
	if (p->total)
		n = fprintf(p->tty, "\r%s [%s] %llu/%llu %3u%%", p->label, bar,
			    (unsigned long long)p->done, (unsigned long long)p->total,
			    (unsigned)(frac * 100));
	else	/* no total known: a count */
		n = fprintf(p->tty, "\r%s: %llu so far", p->label, (unsigned long long)p->done);
	/* Cover what a longer earlier line left; n counts the '\r'. */
	for (size_t len = n > 0 ? (size_t)n - 1 : 0; len < p->len; len++)
		fputc(' ', p->tty);
	if (n > 0 && (size_t)n - 1 > p->len)
		p->len = (size_t)n - 1;
	fflush(p->tty);
	p->drawn = p->done;
	p->last_ns = mono_ns();
}

void progress_start_on(struct progress *p, const char *label, uint64_t total, FILE *tty)
{
	memset(p, 0, sizeof(*p));
	p->tty = tty;
	p->total = total;
	p->interval_ns = PROGRESS_INTERVAL_NS;
	snprintf(p->label, sizeof(p->label), "%s", label ? label : "");
	if (tty)
		draw(p);
}

void progress_start(struct progress *p, const char *label, uint64_t total)
{
	progress_start_on(p, label, total, isatty(STDERR_FILENO) ? stderr : NULL);
}

void progress_update(struct progress *p, uint64_t done)
{
	p->done = done;
	if (!p->tty || done == p->drawn)
		return;
	if ((p->total && done >= p->total) || mono_ns() - p->last_ns >= p->interval_ns)
		draw(p);
}

void progress_done(struct progress *p)
{
	if (!p->tty)
		return;
	fputc('\r', p->tty);
	for (size_t i = 0; i < p->len; i++)
		fputc(' ', p->tty);
	fputc('\r', p->tty);
	fflush(p->tty);
	p->tty = NULL;
}

void progress_runs_update(void *arg, uint64_t done, uint64_t total)
{
	struct progress_runs *g = arg;

	(void)total;
	progress_update(&g->p, g->base + done);
}
