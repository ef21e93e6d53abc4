/*
 * report.h — `vtdkit report`: the built-in workloads under every unmap
 * policy (strict, lazy, lazy-ranged), one summary table and the cost
 * table, and the plots of src/bench/plot.h written into a directory and
 * drawn with gnuplot when it is installed (docs/plots.md).
 */
#ifndef VTDKIT_REPORT_H
#define VTDKIT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "bench/report.h"
#include "bench/workload.h"

#define REPORT_DEFAULT_OPS	5000
#define REPORT_DEFAULT_DIR	"report"

struct report_cfg {
	enum wl_kind workloads[WL_NR];	/* in this order, no repeats */
	unsigned nworkloads;		/* 0: all five */
	uint64_t ops;			/* operations per run; 0: REPORT_DEFAULT_OPS */
	bool cm;			/* caching mode on every unit */
	enum vtdm_profile profile;
	bool late;			/* every run with the device that uses buffers after unmap */
	enum rep_format format;
	const char *dir;		/* NULL: REPORT_DEFAULT_DIR */
};

/*
 * Run, print, write the plots and draw them. Returns the exit status: 0,
 * 1 when a policy let a well-behaved device use a stale translation (a
 * violation in a run without late), 2 on an error.
 */
int report_run(const struct report_cfg *cfg, FILE *out, FILE *err);

#endif
