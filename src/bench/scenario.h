/*
 * scenario.h — the scenario language of `vtdkit run` (docs/scenario.md):
 * declare remapping units and devices, drive libvtd against the hardware
 * model (domains, attach, map, unmap, flush), let devices DMA, and check
 * counters and the exact invalidation descriptors each operation
 * submitted. A file is parsed whole before anything runs, so a bad line
 * stops it with nothing done. The library prints only to the FILE*s its
 * caller hands it.
 */
#ifndef VTD_BENCH_SCENARIO_H
#define VTD_BENCH_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct scenario;

/* Why a scenario did not parse or could not run. */
struct scenario_error {
	int line;		/* 1-based line of the file; 0: not about one line */
	char msg[384];		/* without "FILE:LINE: " and without a newline */
};

/*
 * Parse @len bytes of @text. Return the scenario, or NULL with the first
 * bad line and what was wrong with it in @err.
 */
struct scenario *scenario_parse(const char *text, size_t len, struct scenario_error *err);
void scenario_free(struct scenario *s);

/* Lines that run (declarations and blank lines excluded); for tests. */
unsigned scenario_nr_steps(const struct scenario *s);

enum scenario_flags {
	SCENARIO_TRACE	= 1u << 0,	/* every libvtd trace event on @out as it happens */
	SCENARIO_STATS	= 1u << 1,	/* every counter on @out at the end */
	SCENARIO_JSON	= 1u << 2,	/* only one JSON object on @out, at the end */
};

/* What scenario_run returns; also vtdkit's exit status. */
enum scenario_status {
	SCENARIO_OK	= 0,	/* every expectation held */
	SCENARIO_FAILED	= 1,	/* an expectation failed; the rest still ran */
	SCENARIO_ERROR	= 2,	/* a libvtd or model call failed; nothing after it ran */
};

/*
 * Build the machine and run every step. Failed expectations and errors go
 * to @err as "NAME:LINE: message" lines; trace lines, counters and the
 * JSON report go to @out as @flags ask.
 */
enum scenario_status scenario_run(struct scenario *s, const char *name, FILE *out, FILE *err,
				  unsigned flags);

/*
 * Explore the scenario's thread blocks (docs/checker.md): random
 * schedules, or every schedule up to a preemption bound. Options left
 * unset take the scenario's `explore` line. Returns SCENARIO_OK when no
 * schedule violated anything (and, bounded, every one was covered),
 * SCENARIO_FAILED with the violation, its replay token and step list on
 * @out, SCENARIO_ERROR when a run could not go on.
 */
struct scenario_explore_opts {
	unsigned runs;			/* 0: the scenario's */
	uint64_t seed;
	bool seed_set;
	int preemptions;
	bool preemptions_set;
	const char *replay;		/* run one schedule */
	unsigned knobs;			/* enum vtd_knob bits, added to the scenario's */
	bool verbose;
	bool no_sleep_sets;
	/* As struct sched_opts' (check/sched.h): after each run; may be NULL. */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
};

enum scenario_status scenario_explore(struct scenario *s, const char *name,
				      const struct scenario_explore_opts *o, FILE *out, FILE *err);

/* The JSON report of a scenario that did not parse (@err from scenario_parse). */
void scenario_json_error(FILE *out, const char *name, const struct scenario_error *err);

#endif
