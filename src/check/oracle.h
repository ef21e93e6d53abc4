/*
 * oracle.h — the checker's oracle: an independent judge of every device
 * access. It keeps its own record of what the driver promised, built only
 * from libvtd's public calls as vtd_ops.call reports them (map, unmap,
 * sync, flush, attach, detach and their returns; IOVA release by the DMA
 * layer) and from the table pages libvtd allocates and frees through its
 * ops. It never looks at libvtd's structures or the model's caches. Each
 * page of every DMA and ATS translation the model performs is judged
 * against that record (docs/checker.md lists the rules).
 *
 * All entry points are thread-safe (one internal lock), so the same
 * oracle serves the deterministic explorer and real-thread stress runs.
 */
#ifndef VTD_CHECK_ORACLE_H
#define VTD_CHECK_ORACLE_H

#include <stdbool.h>
#include <stdint.h>
#include "vtd/vtd.h"
#include "model/model.h"

#define CHK_KINDS(X)							\
	X(CHK_STALE_AFTER_UNMAP, "stale-after-unmap")			\
	X(CHK_REUSE_BEFORE_FLUSH, "reuse-before-flush")			\
	X(CHK_STALE_DEVTLB, "stale-devtlb")				\
	X(CHK_FREED_TABLE, "freed-table-walk")				\
	X(CHK_SPURIOUS_FAULT, "spurious-fault")				\
	X(CHK_WRONG_XLATE, "wrong-translation")

#define CHK_ENUM(e, n) e,
enum chk_kind { CHK_KINDS(CHK_ENUM) CHK_NR };
#undef CHK_ENUM

struct chk_violation {
	enum chk_kind kind;
	uint64_t seq;		/* the oracle's event number when it was found */
	char msg[512];		/* the access, the stale mapping, the call it outlived */
};

/* Exposure windows of lazy unmaps: unmap return -> covering flush complete (ns). */
struct chk_exposure {
	uint64_t count, median, p99, max;
};

struct chk;

/* @now: virtual time in ns for exposure windows (NULL: windows read 0). */
struct chk *chk_create(uint64_t (*now)(void *arg), void *arg);
void chk_destroy(struct chk *c);

const char *chk_kind_name(enum chk_kind k);
int chk_kind_lookup(const char *name);

/* Names used in reports ("domain A", "thread t1"); optional. */
void chk_name_domain(struct chk *c, const struct vtd_domain *dom, const char *name);
/* The name given, or "#N" in order of first sight; the result is stable. */
const char *chk_domain_name(struct chk *c, const struct vtd_domain *dom);

/* ---- What the oracle is fed ---- */
void chk_call(struct chk *c, const struct vtd_call *call);
void chk_page_alloc(struct chk *c, uint64_t pa);
void chk_page_free(struct chk *c, uint64_t pa);
/* The model's walker read the table entry at @addr for @sid on @unit. */
void chk_walk_read(struct chk *c, unsigned unit, uint16_t sid, uint64_t addr);
void chk_access_begin(struct chk *c, const struct vtdm_access *a);
void chk_access_end(struct chk *c, const struct vtdm_access *a, const struct vtdm_xlate *x);

/* ---- What it found ---- */
unsigned chk_nr_violations(const struct chk *c);	/* every one found */
/* The first ones found are kept with their message (up to CHK_KEEP). */
#define CHK_KEEP	64
unsigned chk_nr_kept(const struct chk *c);
const struct chk_violation *chk_violation(const struct chk *c, unsigned i);
unsigned chk_count(const struct chk *c, enum chk_kind k);
/* Accesses judged, and those it could not judge (requests with a PASID). */
uint64_t chk_judged(const struct chk *c);
uint64_t chk_unjudged(const struct chk *c);
void chk_exposure(struct chk *c, struct chk_exposure *out);
/*
 * The same windows counted in power-of-two buckets of ns: bucket 0 holds
 * windows of 0 ns, bucket b (1..CHK_EXPO_BUCKETS-1) those in
 * [2^(b-1), 2^b). @hist gets @n buckets (at most CHK_EXPO_BUCKETS); with
 * fewer, the last one also holds every longer window. Returns the number
 * of windows (the sum of @hist).
 */
#define CHK_EXPO_BUCKETS	65
uint64_t chk_exposure_hist(struct chk *c, uint64_t *hist, unsigned n);
/*
 * Judge devices against the DMA API's contract instead of the driver's
 * flushes: a mapping ends when its unmap returns, so a translation after
 * that — which a lazy mode's exposure window leaves possible — is
 * reported (stale-after-unmap, or stale-devtlb from the device TLB). Off
 * by default: a mapping then stays valid until a flush covers it
 * (docs/checker.md). The built-in workloads (src/bench/workload.h) turn
 * it on to judge each policy against a device that uses a buffer after
 * its unmap. It applies to every access judged after the call.
 */
void chk_set_unmap_revokes(struct chk *c, bool on);
/* Called on every violation as it is found (the explorer stops there). */
void chk_on_violation(struct chk *c, void (*fn)(void *arg, const struct chk_violation *v),
		      void *arg);

#endif
