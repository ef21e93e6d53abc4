/*
 * hw.h — `vtdkit hw`: a line console to the bare hardware model in the
 * style of QEMU's qtest protocol (docs/hw-console.md), and the topology
 * options (--iommu, --device, --mem) that build the machine it talks to.
 * The console is a library function so tests can drive it in-process.
 */
#ifndef VTDKIT_HW_H
#define VTDKIT_HW_H

#include <stddef.h>
#include <stdio.h>
#include "model/model.h"

/* Largest SIZE of one read, write, memset or dma_* command. */
#define HW_MAX_XFER		(1u << 20)

enum hw_flags {
	HW_ECHO		= 1u << 0,	/* print "> COMMAND" before each reply */
};

/*
 * Run one console line: write exactly one reply line to @out, or nothing
 * for a blank or comment line. Return 0 after an OK or FAULT reply, 1
 * when the line needs no reply, -1 after an ERR reply. A line that gets
 * ERR changes no state of @m.
 */
int hw_console_line(struct vtdm *m, const char *line, FILE *out);

/*
 * Read commands from @in until EOF and answer each on @out. @name names
 * @in in messages to stderr (a read error). Return the number of ERR
 * replies, or -1 if @in could not be read to the end.
 */
int hw_console_run(struct vtdm *m, FILE *in, FILE *out, const char *name,
		   unsigned flags);

/* A machine described by command-line options, built by hw_topo_build. */
struct hw_topo {
	struct vtdm_machine_cfg machine;
	struct vtdm_unit_cfg units[VTDM_MAX_UNITS];
	unsigned nr_units;
	struct hw_topo_dev {
		struct vtdm_dev_cfg cfg;
		char iommu[sizeof(((struct vtdm_unit_cfg *)0)->name)];	/* "" = first unit */
	} devs[VTDM_MAX_DEVICES];
	unsigned nr_devs;
};

void hw_topo_init(struct hw_topo *t);
/*
 * Add a unit from "KEY=VAL,…" (may be empty: all defaults), a device from
 * "SID[,KEY=VAL…]", or set the RAM size from "SIZE[K|M|G]". Return 0, or
 * -EINVAL / -ENOSPC with a message naming the item in @err.
 */
int hw_topo_add_iommu(struct hw_topo *t, const char *spec, char *err, size_t errlen);
int hw_topo_add_device(struct hw_topo *t, const char *spec, char *err, size_t errlen);
int hw_topo_set_mem(struct hw_topo *t, const char *size, char *err, size_t errlen);
/*
 * Create the machine: the units in order (one default unit if none was
 * added), then the devices. NULL with a message in @err on failure.
 */
struct vtdm *hw_topo_build(const struct hw_topo *t, char *err, size_t errlen);

#endif
