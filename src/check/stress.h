/*
 * stress.h — libvtd and the model on real pthreads with the oracle on:
 * CPU threads map and unmap through the DMA layer, one moves devices
 * between domains, and one thread per device does DMA to whatever is
 * mapped, for a bounded time or number of operations. Every access is
 * judged (docs/checker.md, "Real threads").
 */
#ifndef VTD_CHECK_STRESS_H
#define VTD_CHECK_STRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "vtd/dma.h"

struct stress_opts {
	unsigned cpus;			/* mapping threads (1..8; 0: 3) */
	double seconds;			/* wall-clock bound (0: 2) */
	uint64_t ops;			/* per mapping thread; 0: no bound but time */
	enum vtd_dma_mode mode;
	bool cm;			/* caching-mode units (the mode is kept: force) */
	unsigned knobs;			/* enum vtd_knob bits */
	uint64_t seed;
	/*
	 * Called about ten times a second from the thread that runs
	 * stress_run, while the mapping threads run: @done of @total, in
	 * milliseconds of the time bound, or in operations when the
	 * operation bound is nearer; a last time with @done == @total when
	 * the mapping threads have stopped, before anything is printed. May
	 * be NULL.
	 */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
};

/* Run it; the report goes to @out. 0: no violation, 1: violations, 2: could not run. */
int stress_run(const struct stress_opts *o, FILE *out, FILE *err);

#endif
