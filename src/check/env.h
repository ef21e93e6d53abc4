/*
 * env.h — the checker between libvtd and its host, and between the model
 * and its hooks: an ops table that forwards every service to the host's
 * ops and, on the way, feeds the oracle (public calls, table pages) and
 * the scheduler (scheduling points, cooperative locks, polls, and the
 * footprint of each step); and model hooks that feed both with every
 * walk read and device access.
 */
#ifndef VTD_CHECK_ENV_H
#define VTD_CHECK_ENV_H

#include "vtd/vtd.h"
#include "model/model.h"
#include "check/oracle.h"
#include "check/sched.h"

struct chk_env {
	const struct vtd_ops *inner;	/* the host's ops */
	void *inner_ctx;
	struct vtdm *m;
	struct chk *oracle;		/* NULL: nothing judged */
	struct sched *s;		/* NULL: real threads */
	unsigned inflight[VTDM_MAX_UNITS];	/* device accesses under way (atomic) */
};

/* The ops table to hand vtd_create() with a struct chk_env as its ctx. */
const struct vtd_ops *chk_env_ops(void);
/* Model hooks for the same environment (set them with vtdm_set_hooks). */
void chk_env_hooks(struct chk_env *e, struct vtdm_hooks *h);

#endif
