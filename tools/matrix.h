/*
 * matrix.h — the sections of `vtdkit bench` beyond the ring: the
 * workload matrix (every built-in workload x {strict, lazy, lazy-ranged}
 * x {CM off, on} x {exact, adversarial}), every real trace replayed under
 * each policy beside Linux, and the model's translation speed. Each
 * section is one report table (src/bench/report.h); the caller prints.
 */
#ifndef VTDKIT_MATRIX_H
#define VTDKIT_MATRIX_H

#include <stdint.h>
#include <stdio.h>
#include "bench/progress.h"
#include "bench/report.h"
#include "bench/workload.h"

#define MATRIX_CELLS	(WL_NR * 3 * 2 * 2)

/*
 * Run the workload matrix, @ops operations per run (deterministic: one
 * run each). @res gets MATRIX_CELLS results (may be NULL). Returns the
 * table, or NULL with a message on @err; *@unsafe is set when a run with
 * well-behaved devices saw a violation.
 */
struct rep_table *matrix_workloads(uint64_t ops, struct wl_result *res, struct progress *bar,
				   uint64_t *done, FILE *err, bool *unsafe);

/* Replay every NAME.trace in @dir under each policy; NULL table if none (message on @err). */
struct rep_table *matrix_traces(const char *dir, struct progress *bar, uint64_t *done, FILE *err);
/* How many progress steps matrix_traces will take (0: no trace). */
unsigned matrix_trace_count(const char *dir);

/* The model's translations per second (gpu workload, @runs runs, median). */
struct rep_table *matrix_speed(unsigned runs, struct progress *bar, uint64_t *done, FILE *err);

#endif
