/*
 * mem.c — the sparse guest-physical arena. A 1 GiB default costs one
 * pointer per 4 KiB page up front and memory only for pages written.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "model/mem.h"

#define PG_SHIFT	12
#define PG_SIZE		(1ULL << PG_SHIFT)

int mem_init(struct vtdm_mem *mem, uint64_t size)
{
	if (size == 0 || size % PG_SIZE)
		return -EINVAL;
	mem->size = size;
	mem->resident = 0;
	mem->pages = calloc(size >> PG_SHIFT, sizeof(*mem->pages));
	return mem->pages ? 0 : -ENOMEM;
}

void mem_fini(struct vtdm_mem *mem)
{
	if (!mem->pages)
		return;
	for (uint64_t i = 0; i < mem->size >> PG_SHIFT; i++)
		free(mem->pages[i]);
	free(mem->pages);
	mem->pages = NULL;
}

bool mem_in_range(const struct vtdm_mem *mem, uint64_t addr, uint64_t len)
{
	return addr < mem->size && len <= mem->size - addr;
}

/* The page holding @addr, allocated if @alloc; NULL reads as zeros. */
static uint8_t *page_of(struct vtdm_mem *mem, uint64_t addr, bool alloc)
{
	uint8_t **slot = &mem->pages[addr >> PG_SHIFT];

	if (!*slot && alloc) {
		*slot = calloc(1, PG_SIZE);
		if (*slot)
			mem->resident++;
	}
	return *slot;
}

int mem_read(struct vtdm_mem *mem, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;

	if (!mem_in_range(mem, addr, len))
		return -EFAULT;
	while (len) {
		uint64_t off = addr & (PG_SIZE - 1);
		size_t n = (size_t)(PG_SIZE - off) < len ? (size_t)(PG_SIZE - off) : len;
		uint8_t *pg = page_of(mem, addr, false);

		if (pg)
			memcpy(out, pg + off, n);
		else
			memset(out, 0, n);
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

int mem_write(struct vtdm_mem *mem, uint64_t addr, const void *buf, size_t len)
{
	const uint8_t *in = buf;

	if (!mem_in_range(mem, addr, len))
		return -EFAULT;
	while (len) {
		uint64_t off = addr & (PG_SIZE - 1);
		size_t n = (size_t)(PG_SIZE - off) < len ? (size_t)(PG_SIZE - off) : len;
		uint8_t *pg = page_of(mem, addr, true);

		if (!pg)
			return -ENOMEM;
		memcpy(pg + off, in, n);
		in += n;
		addr += n;
		len -= n;
	}
	return 0;
}

int mem_set(struct vtdm_mem *mem, uint64_t addr, int byte, size_t len)
{
	if (!mem_in_range(mem, addr, len))
		return -EFAULT;
	while (len) {
		uint64_t off = addr & (PG_SIZE - 1);
		size_t n = (size_t)(PG_SIZE - off) < len ? (size_t)(PG_SIZE - off) : len;
		/* Zeroing an untouched page needs no allocation. */
		uint8_t *pg = page_of(mem, addr, byte != 0);

		if (pg)
			memset(pg + off, byte, n);
		else if (byte)
			return -ENOMEM;
		addr += n;
		len -= n;
	}
	return 0;
}

uint64_t mem_read64(struct vtdm_mem *mem, uint64_t addr)
{
	uint8_t b[8];
	uint64_t v = 0;

	mem_read(mem, addr, b, sizeof(b));
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}
