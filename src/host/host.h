/*
 * host.h — libvtd's host services in user space: its ops table backed by
 * vtdkit's hardware model. Registers are the model's MMIO, table memory
 * is a pool of the model's guest-physical pages, locks are pthread
 * mutexes, time is the model's virtual clock.
 */
#ifndef VTD_HOST_HOST_H
#define VTD_HOST_HOST_H

#include "vtd/vtd.h"
#include "model/model.h"

struct vtd_host;

/*
 * Hand libvtd the pages [pool_base, pool_base + pool_size) of @m's RAM
 * for its tables and queues; the rest of RAM is the devices' data.
 */
struct vtd_host *vtd_host_create(struct vtdm *m, uint64_t pool_base, uint64_t pool_size);
void vtd_host_destroy(struct vtd_host *h);
const struct vtd_ops *vtd_host_ops(void);
struct vtdm *vtd_host_machine(struct vtd_host *h);
/* Trace hook: every event is passed to @fn (NULL to stop). */
void vtd_host_set_trace(struct vtd_host *h, void (*fn)(void *arg, const struct vtd_event *ev),
			void *arg);
/* Pages of the pool in use right now (tables freed too early show here). */
uint64_t vtd_host_pages_used(struct vtd_host *h);

#endif
