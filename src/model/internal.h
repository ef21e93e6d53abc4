/*
 * internal.h — state shared by the model's modules (model.c, regs.c,
 * qi.c, xlate.c). Everything here is protected by the machine lock,
 * vtdm.lock, which every public entry point takes. The hooks drop it
 * while they run (vtdm_yield): whatever a caller reads before one may
 * have changed after it.
 */
#ifndef VTD_MODEL_INTERNAL_H
#define VTD_MODEL_INTERNAL_H

#include <pthread.h>
#include "fmt/desc.h"
#include "model/cache.h"
#include "model/mem.h"
#include "model/model.h"
#include "model/stats.h"

#define VTDM_REG_SPACE		VTDM_MMIO_STRIDE
#define VTDM_FRO		0x22	/* FRCD at 0x220, as q35 places it */
#define VTDM_IRO		0x0f	/* IVA at 0xf0, IOTLB_REG at 0xf8 */
#define VTDM_MAX_NFR		128	/* FRCDs must fit in the 4K window */

/* Table accesses by kind: some are always coherent (ECAP.C, VT-d 10.4.3). */
enum tbl_kind {
	TBL_ROOT, TBL_CTX, TBL_SS,		/* snooped only when ECAP.C=1 */
	TBL_PASID, TBL_FS,			/* always snooped */
};

struct vtdm_unit {
	struct vtdm *m;
	unsigned idx;
	struct vtdm_unit_cfg cfg;
	uint64_t cap, ecap;

	/* Register file, declared once in regs.c with its masks (10.4). */
	uint8_t regs[VTDM_REG_SPACE];
	uint8_t wmask[VTDM_REG_SPACE];	/* bits software may write */
	uint8_t w1cmask[VTDM_REG_SPACE];	/* bits cleared by writing 1 */
	uint8_t womask[VTDM_REG_SPACE];	/* bits that read as 0 */

	uint64_t rtaddr;		/* latched by GCMD.SRTP */
	bool rtaddr_set;

	/* Queued invalidation (6.5.2). */
	unsigned iq_entries;		/* descriptors in the ring */
	bool iq_wide;			/* 256-bit descriptors */
	unsigned outstanding;		/* device-TLB invalidations not answered */
	uint16_t outstanding_sid;	/* first of them, for IQER.ITESID */
	uint64_t outstanding_deadline;	/* when ITE fires */
	unsigned waits_pending;		/* waits behind them */
	bool fenced;			/* a pending wait had FN=1 */
	/*
	 * qi_run is active for this unit (perhaps paused at a yield): a
	 * nested or concurrent call leaves the queue to it, and it re-reads
	 * IQT before every descriptor.
	 */
	bool qi_busy;
	/*
	 * Bumped by every invalidation that may remove cached translations
	 * (inv_ctx, inv_iotlb, inv_piotlb, inv_pasid_cache). A request that
	 * sees it move between its start and a fill drops the fill.
	 */
	uint64_t inv_gen;

	unsigned frcd_next;		/* next fault-recording register */

	struct cache ctx;		/* SID -> context entry */
	struct cache pasid;		/* (SID, PASID) -> PASID-table entry */
	struct cache iotlb;		/* (DID, PASID, page, size) -> translation */
	struct cache pscs;		/* second-stage paging-structure cache */
	struct cache pscf;		/* first-stage paging-structure cache */

	/*
	 * What the walker sees of words the CPU wrote but has not yet made
	 * visible: held back by the write buffer (CAP.RWBF) until GCMD.WBF,
	 * or in the CPU cache of a non-coherent unit until clflush.
	 */
	struct cache view;
	uint64_t view_stat[5];

	uint64_t stat[ST_NR];
};

struct vtdm_device {
	struct vtdm_dev_cfg cfg;
	char name[16];			/* "bb:dd.f" */
	struct cache atc;		/* (PASID, page, size) -> translation */
	uint64_t inv_gen;		/* device-TLB invalidations it has processed */
	uint64_t stat[SD_NR];
};

struct vtdm {
	/* Serialises every access: memory, registers, caches, devices, counters. */
	pthread_mutex_t lock;
	struct vtdm_machine_cfg cfg;
	struct vtdm_mem mem;
	struct vtdm_unit *unit[VTDM_MAX_UNITS];
	unsigned nunits;
	struct vtdm_device *dev[VTDM_MAX_DEVICES];
	unsigned ndevs;
	uint64_t now;			/* virtual time, ns */
	struct vtdm_hooks hooks;	/* called without the lock (vtdm_yield) */
};

/* model.c */
void vtdm_charge(struct vtdm *m, uint64_t ns);
/*
 * Call the yield hook with m->lock, which the caller holds, dropped for
 * the call. Return whether it was called: the caller must then assume
 * anything it read under the lock may have changed.
 */
bool vtdm_yield(struct vtdm *m, const struct vtdm_point *p);
/* The access hooks, likewise called with m->lock dropped. */
void vtdm_access_begin(struct vtdm *m, const struct vtdm_access *a);
void vtdm_access_end(struct vtdm *m, const struct vtdm_access *a, const struct vtdm_xlate *x);
struct vtdm_device *vtdm_find_dev(struct vtdm *m, uint16_t sid);
/* One qword of a table as unit @u's walker sees it; -EFAULT outside RAM. */
int unit_table_read64(struct vtdm_unit *u, uint64_t addr, enum tbl_kind kind, uint64_t *val);
void unit_wbf(struct vtdm_unit *u);
/*
 * The write-buffer drain a unit with CAP.RWBF performs by itself before it
 * completes an invalidation, register-based or queued (VT-d 6.8): software
 * needs GCMD.WBF only for changes no invalidation follows.
 */
void unit_drain_wb(struct vtdm_unit *u);
void unit_tick(struct vtdm_unit *u);

/* regs.c */
void regs_init(struct vtdm_unit *u);
int regs_read(struct vtdm_unit *u, unsigned off, unsigned size, uint64_t *val);
int regs_write(struct vtdm_unit *u, unsigned off, unsigned size, uint64_t val);
uint64_t reg64(const struct vtdm_unit *u, unsigned off);
uint32_t reg32(const struct vtdm_unit *u, unsigned off);
void reg_set64(struct vtdm_unit *u, unsigned off, uint64_t val);
void reg_set32(struct vtdm_unit *u, unsigned off, uint32_t val);
void unit_fault_event(struct vtdm_unit *u);
void unit_inv_event(struct vtdm_unit *u);
/* A translation fault as FRCD records it (10.4.14). */
struct fault_rec {
	uint16_t sid;
	uint32_t pasid;		/* VTD_NO_PASID: PP=0 */
	uint64_t addr;
	unsigned reason;
	unsigned type;		/* enum frcd_type: T2, T1 */
	unsigned at;		/* PCIe address type: 0 untranslated, 1 translation request, 2 translated */
	bool priv;		/* supervisor request */
};

/* Record a translation fault in FRCD (7.1.3); returns whether it was recorded. */
bool unit_record_fault(struct vtdm_unit *u, const struct fault_rec *f);

/* qi.c */
void qi_enable(struct vtdm_unit *u, bool on);
void qi_run(struct vtdm_unit *u);
void qi_check_timeout(struct vtdm_unit *u);
void reg_inv_context(struct vtdm_unit *u);
void reg_inv_iotlb(struct vtdm_unit *u);

/* xlate.c: what each invalidation removes from the caches (6.5.2) */
void inv_ctx(struct vtdm_unit *u, unsigned g, uint16_t did, uint16_t sid, unsigned fm);
void inv_iotlb(struct vtdm_unit *u, unsigned g, uint16_t did, uint64_t addr, unsigned am,
	       bool ih);
void inv_piotlb(struct vtdm_unit *u, unsigned g, uint16_t did, uint32_t pasid,
		uint64_t addr, unsigned am, bool ih);
void inv_pasid_cache(struct vtdm_unit *u, unsigned g, uint16_t did, uint32_t pasid);
/* Device side of a device-TLB invalidation: @pasid VTD_NO_PASID for type 3. */
void inv_atc(struct vtdm_device *d, uint32_t pasid, bool all_pasids, uint64_t base,
	     uint64_t size);

#endif
