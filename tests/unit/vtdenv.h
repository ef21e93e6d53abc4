/*
 * vtdenv.h — a rig for libvtd's tests: the hardware model, libvtd on its
 * user-space host, units and devices on both sides, DMA buffers, and a
 * recorder of trace events. _x() returns a status, x() asserts it.
 */
#ifndef VTD_TESTS_VTDENV_H
#define VTD_TESTS_VTDENV_H

#include "vtd/vtd.h"
#include "host/host.h"
#include "model/model.h"

#define VTDENV_MAX_UNITS	4
#define VTDENV_MAX_DEVS		8
#define VTDENV_MAX_EVENTS	4096

struct vtdenv {
	struct vtdm *m;
	struct vtd_host *h;
	struct vtd *v;
	struct vtd_unit *unit[VTDENV_MAX_UNITS];
	unsigned nunits;
	struct vtd_device *dev[VTDENV_MAX_DEVS];
	uint16_t sid[VTDENV_MAX_DEVS];
	unsigned ndevs;
	uint64_t data_next;		/* next free DMA data page */
	/* Trace events recorded since vtdenv_trace_clear (text lines). */
	char (*events)[160];
	unsigned nevents;
};

/*
 * @keys: model unit keys "k=v,..." for every unit; @scalable asks libvtd
 * for scalable mode (the keys must then include sm=1).
 */
int _vtdenv_init(struct vtdenv *e, const char *keys, unsigned nunits, bool scalable);
void vtdenv_fini(struct vtdenv *e);
/* A device behind @unit on both sides; @ats gives it a device TLB. Returns its index. */
int _vtdenv_add_device(struct vtdenv *e, unsigned unit, uint16_t sid, bool ats);
/* A DMA data page (guest-physical, below the table pool), filled with @fill. */
uint64_t vtdenv_page(struct vtdenv *e, uint8_t fill);
/* Read a 64-bit value by DMA from device @d: 0 ok, 1 fault. */
int vtdenv_dma_rd64(struct vtdenv *e, unsigned d, uint64_t iova, uint64_t *val);
int vtdenv_dma_wr64(struct vtdenv *e, unsigned d, uint64_t iova, uint64_t val);
uint64_t vtdenv_stat(struct vtdenv *e, const char *name);	/* libvtd, else model */
void vtdenv_trace_clear(struct vtdenv *e);
/* How many recorded lines start with @prefix. */
unsigned vtdenv_trace_count(struct vtdenv *e, const char *prefix);

#define vtdenv_init(e, k, n, sm)	ASSERT_EQ(0, _vtdenv_init(e, k, n, sm))
#define vtdenv_add_device(e, u, s, a)	ASSERT_LE(0, _vtdenv_add_device(e, u, s, a))

#endif
