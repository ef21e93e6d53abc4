/*
 * bench.h — `vtdkit bench` (docs/benchmarks.md): the workload matrix
 * (every built-in workload x {strict, lazy, lazy-ranged} x {CM off, on} x
 * {exact, adversarial}), every real trace replayed under each policy, the
 * model's translation speed, and the ring workload (src/bench/ring.h) over
 * {strict, lazy, lazy-ranged} x {cm=0, cm=1} for the core's speed per
 * map/unmap pair, each run several times. Reported as text tables (with
 * the cost table), CSV or JSON; with an output directory, bench.json and
 * the plots are written there too.
 */
#ifndef VTDKIT_BENCH_H
#define VTDKIT_BENCH_H

#include <stdbool.h>
#include <stdio.h>

enum bench_format { BENCH_TEXT, BENCH_CSV, BENCH_JSON };

struct bench_cfg {
	unsigned pairs;		/* ring: map/unmap pairs per run */
	unsigned runs;		/* runs per cell; wall time is their median */
	bool no_dma;		/* ring: skip the device's writes */
	enum bench_format format;
	uint64_t ops;		/* workload matrix: operations per run; 0 skips it */
	const char *traces;	/* directory of NAME.trace captures; NULL skips them */
	const char *out;	/* directory for bench.json and the plots; NULL: none */
};

/*
 * Run everything and print the report on @out, messages on @err. Returns
 * the exit status: 0, 1 when a ring run saw a DMA fault or a workload run
 * with well-behaved devices a violation, 2 when a run could not be set up.
 */
int bench_matrix(const struct bench_cfg *cfg, FILE *out, FILE *err);

#endif
