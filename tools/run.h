/*
 * run.h — `vtdkit run SCENARIO`: read a scenario file, parse it whole,
 * run it (src/bench/scenario.h) and turn the outcome into an exit status.
 */
#ifndef VTDKIT_RUN_H
#define VTDKIT_RUN_H

#include <stdio.h>
#include "bench/scenario.h"

/*
 * Run the scenario in @path ("-": standard input) with scenario_flags
 * @flags; reports go to @out, messages to @err. Returns the exit status:
 * 0 every expectation held, 1 one failed, 2 the file could not be read
 * or parsed, or a libvtd or model call failed.
 */
int run_scenario_file(const char *path, unsigned flags, FILE *out, FILE *err);
/* `vtdkit explore`: the same statuses (1: a violation, or an incomplete bound). */
int explore_scenario_file(const char *path, const struct scenario_explore_opts *o, FILE *out,
			  FILE *err);

#endif
