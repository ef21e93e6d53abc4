/*
 * demo.h — `vtdkit demo`: a register-level walk through one remapping
 * unit, from an empty machine to a stale IOTLB entry and its
 * page-selective invalidation. No driver: MMIO, memory and DMA only.
 */
#ifndef VTDKIT_DEMO_H
#define VTDKIT_DEMO_H

#include <stdio.h>

/* Print the demonstration to @out; 0 if every step behaved as expected, else 1. */
int demo_run(FILE *out);

#endif
