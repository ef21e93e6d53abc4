/*
 * compare.h — `vtdkit demo`, the main job: one built-in workload run under
 * every unmap policy (strict, lazy, lazy-ranged), each twice — with
 * well-behaved devices, and with a device that touches buffers after
 * their unmap — and one table comparing what each policy costs and
 * whether it is safe (docs/workloads.md).
 */
#ifndef VTDKIT_COMPARE_H
#define VTDKIT_COMPARE_H

#include <stdbool.h>
#include <stdio.h>
#include "bench/report.h"
#include "bench/workload.h"

struct compare_cfg {
	struct wl_opts wl;		/* workload, parameters, cm, profile, ops */
	int only_mode;			/* -1: every policy; else one enum vtd_dma_mode */
	bool no_late;			/* skip the misbehaving-device runs */
	enum rep_format format;
	const char *timeline;		/* write the first policy's run there; NULL: none */
};

/* Run and print; returns the exit status (0, 1 unsafe under a well-behaved device, 2 error). */
int compare_run(const struct compare_cfg *cfg, FILE *out, FILE *err);

#endif
