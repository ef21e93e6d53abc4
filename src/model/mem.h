/*
 * mem.h — guest-physical memory: one sparse arena from address 0. Pages
 * are allocated on first write; unwritten memory reads as zero. The
 * caller serialises access (the machine lock).
 */
#ifndef VTD_MODEL_MEM_H
#define VTD_MODEL_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vtdm_mem {
	uint64_t size;		/* bytes, a multiple of 4 KiB */
	uint8_t **pages;	/* size/4K slots, NULL until written */
	uint64_t resident;	/* pages allocated */
};

int mem_init(struct vtdm_mem *mem, uint64_t size);
void mem_fini(struct vtdm_mem *mem);
bool mem_in_range(const struct vtdm_mem *mem, uint64_t addr, uint64_t len);
/* Return 0, -EFAULT out of range, -ENOMEM if a page cannot be allocated. */
int mem_read(struct vtdm_mem *mem, uint64_t addr, void *buf, size_t len);
int mem_write(struct vtdm_mem *mem, uint64_t addr, const void *buf, size_t len);
int mem_set(struct vtdm_mem *mem, uint64_t addr, int byte, size_t len);
uint64_t mem_read64(struct vtdm_mem *mem, uint64_t addr);	/* in range, aligned */

#endif
