/*
 * workload.h — vtdkit's built-in workloads: each builds a machine (the
 * hardware model, libvtd through the checker's oracle, one vtd_dma layer
 * per device), runs one named I/O pattern in virtual time under one unmap
 * policy, with every device's DMA going through the model's translation
 * (IOTLB and device TLB hits happen for real), and returns counters,
 * modelled time, cache hit rates and the oracle's safety verdict.
 *
 * The workloads, and what one operation (`ops` counts them) is:
 *
 *   nic-rx  a receive ring of `ring` 2 KiB buffers (FROM_DEVICE), two per
 *           page, drawn from a pool of 2 x ring. Operation: one packet —
 *           the device writes 64..1500 bytes into the buffer at the head,
 *           the driver unmaps it and maps a fresh buffer into the slot.
 *   nic-tx  TSO sends of a 128-byte header and 1..`frags` page fragments
 *           (the last one 1..4096 bytes), mapped with vtd_dma_map_sg
 *           TO_DEVICE; the device reads every fragment when the send is
 *           posted. `ring` sends are in flight: a send completes when the
 *           ring wraps round to it. Operation: one send completed
 *           (vtd_dma_unmap_sg) and a new one posted in its slot.
 *   nvme    `qd` commands in flight, each 2^k pages (4 KiB .. `maxio`) as a
 *           scatter-gather list of single pages, half reads (the device
 *           writes, FROM_DEVICE) and half writes (it reads, TO_DEVICE).
 *           Operation: one command completed — a random one of those in
 *           flight moves its data, is unmapped, and a new one is issued.
 *           The device has ATS by default.
 *   gpu     `buffers` long-lived 2 MiB buffers at 2 MiB-aligned addresses
 *           (mapped BIDIRECTIONAL with one 2 MiB leaf each). Operation: one
 *           batch of `touches` 256-byte accesses to random pages of random
 *           buffers (one in four a write); with probability 1/`remap` the
 *           batch is followed by one buffer's unmap and remap. ATS on.
 *   mixed   a nic-rx device and a gpu device on unit 0 and an nvme device
 *           on unit 1, each with its own domain and vtd_dma layer;
 *           operation i is one operation of device i mod 3.
 *
 * After every operation the workload lets `gap` ns of virtual time pass
 * (idle time, vtdm_clock_step) and runs the device's flush-queue timers
 * (vtd_dma_poll). Everything is deterministic from the seed.
 *
 * With late_dma the device misbehaves: after the driver unmaps a buffer it
 * accesses the buffer's first page once more, in the direction it was
 * mapped for, before the next map (so the IOVA cannot have been handed out
 * again). Strict unmaps make that access fault; lazy ones leave it to
 * whatever the caches still hold. The oracle judges with
 * chk_set_unmap_revokes on: a mapping ends when its unmap returns, so
 * every late access that was translated is a violation.
 *
 * Measured span: counters, modelled time and hit rates are deltas over the
 * operations only — after the setup (initial ring fill, queue fill, GPU
 * buffers) and before the teardown (vtd_dma_destroy's last flush). The
 * oracle's numbers cover the whole run, setup and teardown included.
 *
 * The library never prints and never aborts on bad input: errors are
 * negative errno values with a message in the caller's buffer.
 */
#ifndef VTD_BENCH_WORKLOAD_H
#define VTD_BENCH_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vtd/dma.h"
#include "model/model.h"
#include "check/oracle.h"

struct tl;

enum wl_kind {
	WL_NIC_RX,
	WL_NIC_TX,
	WL_NVME,
	WL_GPU,
	WL_MIXED,
	WL_NR,
};

#define WL_DEFAULT_OPS	20000

struct wl_opts {
	enum wl_kind workload;
	/* Policy and machine */
	enum vtd_dma_mode mode;
	bool force_mode;		/* keep a lazy mode under caching mode (default) */
	bool cm;			/* every unit: cm=1 */
	enum vtdm_profile profile;	/* every unit: caching=exact|adversarial */
	uint64_t seed;
	uint64_t ops;			/* operations in the measured span */
	bool late_dma;			/* the device touches each buffer after its unmap */
	int ats;			/* every device has a device TLB: 1, none: 0; -1: nvme and gpu */
	/* Workload parameters (wl_params_set keys) */
	uint64_t gap_ns;		/* gap: idle ns after each operation */
	unsigned ring;			/* ring: nic-rx buffers / nic-tx sends in flight */
	unsigned frags;			/* frags: nic-tx most page fragments per send */
	unsigned qd;			/* qd: nvme commands in flight */
	uint64_t maxio;			/* maxio: nvme largest command, bytes */
	unsigned buffers;		/* buffers: gpu 2 MiB buffers */
	unsigned touches;		/* touches: gpu accesses per operation */
	uint64_t remap;			/* remap: gpu remaps one buffer once in N ops; 0 never */
	/* Observers (NULL: none) */
	void (*progress)(void *arg, uint64_t done, uint64_t total);	/* ~every 1% */
	void *progress_arg;
	struct tl *tl;			/* src/bench/timeline.h */
};

struct wl_result {
	enum wl_kind workload;
	enum vtd_dma_mode mode_asked, mode;	/* mode asked for, mode in force */
	char note[96];			/* vtd_dma_note() of a layer, or "" */
	bool cm, late_dma;
	bool ats;			/* some device has a device TLB */
	enum vtdm_profile profile;
	uint64_t seed, ops;
	unsigned units, devices;

	/* The driver, over the span */
	uint64_t maps, unmaps;		/* DMA API calls (an sg list is one) */
	uint64_t bytes_mapped;		/* bytes asked for in those maps */

	/* libvtd's counters, deltas over the span (every unit) */
	uint64_t qi_submit;
	uint64_t desc_psi, desc_dsi, desc_global;	/* IOTLB invalidations */
	uint64_t desc_devtlb, desc_piotlb, desc_cc, desc_wait;
	uint64_t desc_total;		/* every descriptor submitted, any type */
	uint64_t fq_flush, fq_entries;

	/* The model's counters, deltas over the span */
	uint64_t iotlb_hit, iotlb_miss;
	uint64_t atc_hit, atc_miss;	/* device TLBs, every device */
	uint64_t dma_pages;		/* DMA page accesses translated or faulted */
	uint64_t dma_bytes;		/* bytes moved */
	uint64_t dma_faults;		/* DMAs that faulted */
	double iotlb_hit_rate;		/* hit / (hit + miss); NaN if no lookup */
	double atc_hit_rate;		/* likewise; NaN without an ATS device */

	/* Modelled time over the span, virtual ns */
	uint64_t model_ns;		/* the model clock's advance */
	uint64_t idle_ns;		/* of which the workload's own gaps */
	double ns_per_op;		/* (model_ns - idle_ns) / ops */

	/* The misbehaving device (late_dma), over the span */
	uint64_t late, late_translated, late_faulted;

	/* The oracle, over the whole run */
	uint64_t judged;		/* page accesses judged */
	unsigned violations;		/* all kinds */
	unsigned by_kind[CHK_NR];
	int first_kind;			/* the first violation's enum chk_kind, or -1 */
	char first_violation[512];	/* its message, or "" */
	struct chk_exposure exposure;	/* unmap return -> covering flush, ns */
	uint64_t exposure_hist[CHK_EXPO_BUCKETS];	/* chk_exposure_hist buckets */

	uint64_t wall_ns;		/* CLOCK_MONOTONIC over the span (never asserted) */
};

/* The workload's name ("nic-rx", …), or NULL out of range. */
const char *wl_name(enum wl_kind w);
/* The workload called @name, or -1. */
int wl_lookup(const char *name);
/* One line saying what the workload does. */
const char *wl_summary(enum wl_kind w);
/* "strict", "lazy", "lazy-ranged". */
const char *wl_mode_name(enum vtd_dma_mode m);

/* The defaults of workload @w (ops WL_DEFAULT_OPS, seed 1, strict forced, exact). */
void wl_opts_init(struct wl_opts *o, enum wl_kind w);

/*
 * Set one "key=value" parameter of the workload in @o->workload: ops,
 * seed, mode (strict|lazy|lazy-ranged), force, cm, caching
 * (exact|adversarial), late, ats, gap, and those of the workload (ring, frags, qd, maxio,
 * buffers, touches, remap; see wl_params_foreach). Returns 0, or -EINVAL
 * with a message naming the key and the value in @err: unknown key, key
 * of another workload, bad number or name, value out of range.
 */
int wl_params_set(struct wl_opts *o, const char *key, const char *val, char *err,
		  size_t errlen);
/* Every key workload @w takes, with its help text, in a fixed order. */
void wl_params_foreach(enum wl_kind w,
		       void (*fn)(void *arg, const char *key, const char *help), void *arg);

/*
 * Run one workload. Returns 0 with @r filled in (violations are part of
 * the result, not an error), or a negative errno with a message in @err:
 * -EINVAL for bad options, -ENOMEM, an error from the model or libvtd
 * during setup, or -EIO when a device's access to a live buffer faulted
 * (@r then holds what was counted until then).
 */
int wl_run(const struct wl_opts *o, struct wl_result *r, char *err, size_t errlen);

#endif
