/*
 * bits.h — the few bit helpers every format header is written with.
 * A field is described by its mask; FIELD_GET/FIELD_PREP derive the shift
 * from the mask, so a field's position is written exactly once.
 */
#ifndef VTD_FMT_BITS_H
#define VTD_FMT_BITS_H

#include <stdint.h>

#define BIT_ULL(n)		(1ULL << (n))
/* Bits h..l inclusive, h >= l, both in 0..63. */
#define GENMASK_ULL(h, l)	((~0ULL >> (63 - (h))) & (~0ULL << (l)))
#define FIELD_SHIFT(mask)	((unsigned)__builtin_ctzll(mask))
#define FIELD_GET(mask, reg)	(((uint64_t)(reg) & (mask)) >> FIELD_SHIFT(mask))
#define FIELD_PREP(mask, val)	(((uint64_t)(val) << FIELD_SHIFT(mask)) & (mask))

/* Replace the field @mask of *@reg by @val. */
static inline void field_set(uint64_t *reg, uint64_t mask, uint64_t val)
{
	*reg = (*reg & ~mask) | FIELD_PREP(mask, val);
}

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#endif
