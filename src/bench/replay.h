/*
 * replay.h — replay a real Linux trace's map/unmap stream through libvtd
 * (docs/replay.md). The trace (trace.h) is read whole; every map and
 * unmap is attributed to a domain by the rules below; then the stream is
 * replayed in order, at the trace's own IOVAs and times, through libvtd's
 * DMA layer (vtd_dma_map_at / vtd_dma_unmap) under a chosen policy, on
 * one model unit, with the checker's oracle judging. Linux's own
 * descriptors (qi_submit, and the waits of a QEMU log of the same run)
 * are counted beside vtdkit's, and both are priced with one formula of
 * the model's cost table. The library prints only to the FILE* handed in.
 *
 * Domains. Linux gives each IOMMU group a default domain, so a domain is
 * a group (add_device_to_group); a device seen in no group is its own.
 * Domain ids are learnt from the trace: cache_tag_assign (6.12), a
 * device-selective context-cache descriptor, and an IOTLB descriptor
 * followed by a device-TLB one in the same flush (6.1).
 *
 * Attribution of each map and unmap, first rule that applies:
 *   flush    the first invalidation after it, before the next map or
 *            unmap, names a domain (IOTLB or device-TLB descriptor,
 *            cache_tag_flush_*, or cache_tag_assign for a domain being set
 *            up): strict and caching-mode traces;
 *   live     an unmap: exactly one domain has a live mapping there;
 *   paired   a map: the domain of the unmap that later removed it;
 *   later    an unmap nobody's live mapping explains: the next
 *            invalidation naming a domain, however far (a lazy flush);
 *   nearest  what is left (mappings never unmapped): the domain of the
 *            nearest attributed map or unmap before it, else after it.
 * An unmap that matched live mappings of several domains takes the most
 * recently mapped one and is counted as ambiguous.
 */
#ifndef VTD_BENCH_REPLAY_H
#define VTD_BENCH_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "bench/trace.h"
#include "model/model.h"
#include "vtd/dma.h"

struct tl;

#define REPLAY_RULES(X)		\
	X(FLUSH, "flush")	\
	X(LIVE, "live")		\
	X(PAIRED, "paired")	\
	X(LATER, "later")	\
	X(NEAREST, "nearest")

enum replay_rule {
#define REPLAY_RULE_ENUM(e, n) RR_##e,
	REPLAY_RULES(REPLAY_RULE_ENUM)
#undef REPLAY_RULE_ENUM
	RR_NR,
};

const char *replay_rule_name(enum replay_rule r);

struct replay_opts {
	int mode;		/* enum vtd_dma_mode, or -1: the captured policy */
	int cm;			/* 0/1, or -1: as captured */
	enum vtdm_profile profile;
	/* NULL: NAME.qemu-vtd.log / NAME.console beside a NAME.trace, if present; "": none */
	const char *qemu_log;
	const char *console;
	unsigned long limit;	/* replay at most this many map/unmap events; 0: all */
	/*
	 * When set, the replay goes on this timeline (tl_open): each replayed
	 * map/unmap as a span on the model clock, on a track per traced task, vtdkit's descriptors, and
	 * Linux's traced ones placed at their trace time (the replay's clock
	 * follows the trace's; see docs/replay.md). The caller closes it.
	 */
	struct tl *timeline;
	/* Called every ~1% of the replay (may be NULL). */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
};

/* One side of the comparison. */
struct replay_side {
	unsigned long desc[DESC_NR_TYPES];
	unsigned long gran[DESC_NR_TYPES][4];
	unsigned long psi_am[64];
	unsigned long waits, submits;
	bool waits_known;		/* Linux: only from a QEMU log */
	uint64_t inv_ns;		/* the formula, when waits are known */
};

#define REPLAY_MAX_DOMAINS	32

struct replay_domain {
	int group;			/* -1: none */
	int did;			/* learnt from the trace; -1: unknown */
	char devs[96];			/* "01:00.0 01:00.1" */
	unsigned long maps, unmaps;
};

struct replay_result {
	struct trace_summary trace;	/* the guest trace, as read */
	bool have_qemu;
	char qemu_path[256];
	struct trace_summary qemu;	/* the QEMU log, if one was read */
	char console_path[256];
	int captured_cm;		/* from the console's CAP, -1 unknown */
	int captured_mode;		/* strict/lazy from the console, -1 unknown */
	/* What was replayed */
	enum vtd_dma_mode mode;		/* asked for */
	enum vtd_dma_mode mode_used;	/* in force (caching mode forces strict) */
	bool cm;
	enum vtdm_profile profile;
	unsigned ndomains;
	struct replay_domain dom[REPLAY_MAX_DOMAINS];
	unsigned long by_rule[RR_NR];
	unsigned long ambiguous;
	unsigned long maps, unmaps, attaches;
	unsigned long map_busy;		/* map_at refused: the range was still mapped */
	unsigned long unmap_empty;	/* unmap of a range nothing was mapped at */
	unsigned long failed;		/* other errors from libvtd */
	unsigned long first_bad_line;	/* line of the first of those three; 0 none */
	char first_bad[160];
	struct replay_side linux_side, vtdkit;
	uint64_t model_ns;		/* the model's clock over the replay */
	uint64_t idle_ns;		/* ... of which stepped to follow the trace's clock */
	unsigned long violations;	/* the oracle's (no DMA is replayed: expect 0) */
	struct vtdm_costs costs;
};

/*
 * Read @path (and its QEMU log and console), attribute and replay. 0, or
 * a negative errno with a message in @err: an unreadable file, a trace
 * with no map/unmap event, a failure to build the machine. Lines the
 * reader does not understand never fail it (they are in r->trace).
 */
int replay_run(const char *path, const struct replay_opts *o, struct replay_result *r,
	       char *err, size_t errlen);

/*
 * The invalidation-time formula applied to both sides (docs/cost-model.md):
 * submits * mmio + (descriptors + waits) * desc + waits * wait
 * + device-TLB descriptors * devtlb_inv.
 */
uint64_t replay_inv_ns(const struct vtdm_costs *c, const struct replay_side *s);

/* The side-by-side report: text, or one JSON object. */
void replay_print(FILE *out, const struct replay_result *r, const char *name, bool json);
/* The comparison as CSV: "what,linux,vtdkit" rows (a value Linux's trace cannot give is empty). */
void replay_print_csv(FILE *out, const struct replay_result *r);

#endif
