/*
 * num.h — the number syntax every vtdkit text input shares (console
 * commands, configuration keys, later scenario files): decimal, or 0x
 * followed by hex digits; never octal, no sign, no blanks. A size may
 * end in K, M or G (2^10, 2^20, 2^30).
 */
#ifndef VTD_FMT_NUM_H
#define VTD_FMT_NUM_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/* Value of one hex digit, or -1. */
static inline int num_hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse a number at the start of @s. Return the characters used, 0 if
 * there is no number there, or -ERANGE if it does not fit in 64 bits.
 */
static inline int num_scan(const char *s, uint64_t *v)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	unsigned base = hex ? 16 : 10;
	const char *p = hex ? s + 2 : s;
	const char *start = p;
	uint64_t x = 0;

	for (;; p++) {
		int h = num_hexdigit((unsigned char)*p);
		unsigned d = (unsigned)h;

		if (h < 0 || d >= base)
			break;
		if (x > (UINT64_MAX - d) / base)
			return -ERANGE;
		x = x * base + d;
	}
	if (p == start)
		return 0;
	*v = x;
	return (int)(p - s);
}

/*
 * The whole of @s is a number (with @sized, optionally suffixed K/M/G).
 * Return 0, -ERANGE past 64 bits, or -EINVAL.
 */
static inline int num_parse(const char *s, uint64_t *v, bool sized)
{
	int n = num_scan(s, v);
	unsigned shift = 0;

	if (n < 0)
		return n;
	if (n == 0)
		return -EINVAL;
	if (!s[n])
		return 0;
	if (!sized || s[n + 1])
		return -EINVAL;
	switch (s[n]) {
	case 'K': case 'k': shift = 10; break;
	case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	default: return -EINVAL;
	}
	if (*v > UINT64_MAX >> shift)
		return -ERANGE;
	*v <<= shift;
	return 0;
}

#endif
