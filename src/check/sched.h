/*
 * sched.h — deterministic simulation: every CPU thread and device DMA
 * engine of a run is a task, and exactly one task runs at a time; the
 * scheduler switches only at scheduling points (libvtd's and the model's
 * yield points, lock acquisitions, polls). Which task runs next is the
 * only choice in a run, so a run is fully determined by its choices.
 *
 * All tasks run on the calling OS thread, as ucontext fibers: a switch
 * happens only where a task calls into the scheduler, so a run is as
 * determined as a single-threaded program.
 *
 * The explorer (sched_explore) runs a scenario many times: random
 * schedules from a seed, or every schedule up to a preemption bound with
 * sleep-set reduction, using footprints the tasks report (sched_touch).
 */
#ifndef VTD_CHECK_SCHED_H
#define VTD_CHECK_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_MAX_TASKS	16

struct sched;

/* What a step touches, for the independence relation of sleep sets. */
enum sched_key_class {
	SK_MEM = 1,		/* one 8-byte word of guest memory */
	SK_MEM_ALL,		/* all memory (the unit writes status words, …) */
	SK_UNIT,		/* a unit's registers, queue and caches */
	SK_OBJ,			/* a lock, or what it guards (sched_lock_id) */
	SK_ORACLE,		/* the oracle's record: calls and device accesses */
	SK_POOL,		/* the table-page allocator */
	SK_TIME,		/* the virtual clock: read by now_ns, written by waits and advance */
};

/* ---- Inside a run (called from task context) ---- */

/* A scheduling point; @what describes the step about to run (for the log). */
void sched_point(struct sched *s, const char *what);
/* Record that the current step touches (@cls, @id), reading or writing. */
void sched_touch(struct sched *s, enum sched_key_class cls, uint64_t id, bool write);
/* Cooperative locks. */
void *sched_lock_new(struct sched *s);
void sched_lock(struct sched *s, void *lock);
void sched_unlock(struct sched *s, void *lock);
void sched_lock_free(struct sched *s, void *lock);
/* A lock's key for sched_touch(SK_OBJ): the same in every run. */
uint64_t sched_lock_id(const void *lock);
/* One turn of a polling loop: runs others first if any can run. */
void sched_spin(struct sched *s);
/* A device access is in flight on a unit: descriptor processing waits (drain). */
void sched_access(struct sched *s, bool begin);
void sched_drain(struct sched *s);
/*
 * In finish(): the run deadlocked or ran away and was abandoned with its
 * tasks suspended mid-step; its world must not be torn down (leak it).
 */
bool sched_abandoned(const struct sched *s);
/* The calling task's index (0.. in spawn order), or -1 outside a run. */
int sched_task(struct sched *s);
/* Append a line to the run's step list, prefixed with the task's name. */
void sched_log(struct sched *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Setting up a run ---- */

int sched_spawn(struct sched *s, const char *name, void (*fn)(void *arg), void *arg);

/* ---- Exploring ---- */

struct sched_world {
	/*
	 * Build a fresh world, run its sequential set-up, and sched_spawn
	 * its tasks. Return 0, or -1 with a message in @err (then the
	 * exploration stops).
	 */
	int (*start)(void *arg, struct sched *s, char *err, size_t errlen);
	/*
	 * The tasks finished: judge and tear the world down. Return true if
	 * the run violated something; @msg says what.
	 */
	bool (*finish)(void *arg, struct sched *s, char *msg, size_t msglen);
	void *arg;
};

struct sched_opts {
	unsigned runs;		/* random mode: schedules to try; exhaustive: a cap */
	uint64_t seed;
	int preemptions;	/* < 0: random mode; else exhaustive up to this bound */
	bool sleep_sets;	/* exhaustive: prune with sleep sets (default on) */
	const char *replay;	/* a replay token: run that one schedule */
	unsigned max_steps;	/* per run (0: 200000) */
	bool verbose;		/* print every run's step list */
	/*
	 * Called after each run with the runs so far and @runs (the cap; 0
	 * in exhaustive mode, whose count is not known), and once more with
	 * @done == @total when the exploration ends.
	 * May be NULL.
	 */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
};

struct sched_result {
	unsigned runs;		/* schedules run */
	unsigned pruned;	/* runs ended early as equivalent to one already run */
	bool complete;		/* exhaustive: every schedule within the bound was covered */
	bool violation;
	bool error;		/* the world failed to start, or a run deadlocked/ran away */
	char token[512];	/* replay token of the violating run */
	char msg[1024];		/* what was violated, or the error */
	char *steps;		/* the violating run's step list (malloc'd), or NULL */
	uint64_t max_depth;	/* most scheduling points in one run */
};

int sched_explore(const struct sched_world *w, const struct sched_opts *o,
		  struct sched_result *r);
void sched_result_free(struct sched_result *r);

#endif
