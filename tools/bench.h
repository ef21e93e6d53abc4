/*
 * bench.h — `vtdkit bench`: the ring workload (src/bench/ring.h) over
 * {strict, lazy, lazy-ranged} x {cm=0, cm=1}, each run several times,
 * reported as a text table (with the cost table), CSV or JSON.
 */
#ifndef VTDKIT_BENCH_H
#define VTDKIT_BENCH_H

#include <stdbool.h>
#include <stdio.h>

enum bench_format { BENCH_TEXT, BENCH_CSV, BENCH_JSON };

struct bench_cfg {
	unsigned pairs;		/* map/unmap pairs per run */
	unsigned runs;		/* runs per cell; wall time is their median */
	bool no_dma;		/* skip the device's writes */
	enum bench_format format;
};

/*
 * Run the matrix and print the report on @out, messages on @err. Returns
 * the exit status: 0, 1 when a run saw a DMA fault, 2 when a run could
 * not be set up (a libvtd or model call failed).
 */
int bench_matrix(const struct bench_cfg *cfg, FILE *out, FILE *err);

#endif
