/*
 * test_core_psi.c — the page-selective address/mask of a flush range
 * (cache_tag.c psi_mask) against a brute-force reference: the smallest
 * naturally aligned block of 2^m pages that holds the whole range.
 */
#include <stdlib.h>
#include "harness.h"
#include "core/internal.h"

/* Reference: try every m from 0 up; the first aligned block covering both ends wins. */
static unsigned ref_mask(uint64_t start, uint64_t end, uint64_t *addr)
{
	uint64_t s = start >> 12, e = end >> 12;

	for (unsigned m = 0; m < 52; m++) {
		uint64_t base = s & ~((1ULL << m) - 1);

		if (e - base < (1ULL << m)) {
			*addr = base << 12;
			return m;
		}
	}
	*addr = 0;
	return 52;
}

static uint64_t rng(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

TEST(core_psi_seed_examples)
{
	uint64_t addr;

	/* 16K aligned: 4 pages at 0x10000 -> AM=2 at 0x10000. */
	ASSERT_EQ(2, psi_mask(0x10000, 0x13fff, &addr));
	ASSERT_EQ(0x10000, addr);
	/* Pages 3 and 4 straddle an 8-page boundary: AM=3 at page 0. */
	ASSERT_EQ(3, psi_mask(0x3000, 0x4fff, &addr));
	ASSERT_EQ(0, addr);
	/* One page, with sub-page offsets. */
	ASSERT_EQ(0, psi_mask(0x5123, 0x5fff, &addr));
	ASSERT_EQ(0x5000, addr);
	/* Two pages at an odd page: 0x1000-0x2fff is pages 1-2 -> AM=2 at 0. */
	ASSERT_EQ(2, psi_mask(0x1000, 0x2fff, &addr));
	ASSERT_EQ(0, addr);
	/* The whole space. */
	ASSERT_EQ(52, psi_mask(0, UINT64_MAX, &addr));
	ASSERT_EQ(0, addr);
}

TEST(core_psi_matches_brute_force)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (int i = 0; i < 200000; i++) {
		/* Mix small and large ranges anywhere in a 48-bit space. */
		uint64_t start = rng(&x) & ((1ULL << 48) - 1);
		unsigned span_bits = (unsigned)(rng(&x) % 40);
		uint64_t len = (rng(&x) & ((1ULL << span_bits) - 1)) + 1;
		uint64_t end = start + len - 1, a1, a2;
		unsigned m1, m2;

		if (end < start)
			continue;
		m1 = psi_mask(start, end, &a1);
		m2 = ref_mask(start, end, &a2);
		ASSERT_EQ(m2, m1);
		ASSERT_EQ(a2, a1);
		/* Never less than the range: the block covers both ends. */
		ASSERT_LE(a1, start & ~0xfffULL);
		ASSERT_GE(a1 + (4096ULL << m1) - 1, end);
	}
}
