/*
 * half.h
 *		IEEE 754 binary16 ("half") values and their conversions to and from
 *		float, shared by the halfvec type (halfvec.c), the distance kernels
 *		that read half-precision index slots (distance.c) and the index's
 *		writers (hnswmm_utils.c).  No server state: plain inline functions.
 */
#ifndef HNSWMM_HALF_H
#define HNSWMM_HALF_H

#include "c.h"

#include <math.h>

/* The bits of an IEEE 754 binary16 value */
typedef uint16 half;

/* The bits of a float as an integer, and back */
static inline uint32
float_bits(float f)
{
	uint32		x;

	memcpy(&x, &f, sizeof(x));
	return x;
}

static inline float
bits_float(uint32 x)
{
	float		f;

	memcpy(&f, &x, sizeof(f));
	return f;
}

/* A float that rounds to a half beyond 65504 (65520 and more) overflows */
#define FLOAT_BITS_HALF_OVERFLOW	0x477FF000
/* Below 2^-14 a half is subnormal; below 2^-25 it rounds to zero */
#define FLOAT_BITS_HALF_NORMAL		0x38800000
#define FLOAT_BITS_HALF_ZERO		0x33000000

/*
 * Round a finite float to the nearest half (ties to even).  *overflow is
 * set when the result would be infinite.
 */
static inline half
float_to_half(float f, bool *overflow)
{
	uint32		x = float_bits(f);
	uint32		sign = (x >> 16) & 0x8000;
	uint32		a = x & 0x7FFFFFFF;
	uint32		h;
	uint32		rest;
	uint32		tie;

	*overflow = a >= FLOAT_BITS_HALF_OVERFLOW;
	if (*overflow)
		return sign | 0x7C00;
	if (a < FLOAT_BITS_HALF_ZERO)
		return sign;
	if (a < FLOAT_BITS_HALF_NORMAL)
	{
		/* subnormal: the 24-bit significand shifted to units of 2^-24 */
		uint32		significand = (a & 0x7FFFFF) | 0x800000;
		int			shift = 126 - (int) (a >> 23);

		h = significand >> shift;
		rest = significand & ((1U << shift) - 1);
		tie = 1U << (shift - 1);
	}
	else
	{
		/* rebias the exponent (127 to 15) and drop 13 significand bits */
		h = (a - 0x38000000) >> 13;
		rest = a & 0x1FFF;
		tie = 0x1000;
	}
	if (rest > tie || (rest == tie && (h & 1)))
		h++;					/* a carry moves into the exponent, as it should */
	return sign | h;
}

/* The float that a finite half is */
static inline float
half_to_float(half h)
{
	uint32		sign = (uint32) (h & 0x8000) << 16;
	uint32		exponent = (h >> 10) & 0x1F;
	uint32		mantissa = h & 0x3FF;

	if (exponent == 0)
		return bits_float(sign | float_bits(ldexpf((float) mantissa, -24)));
	return bits_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

#endif							/* HNSWMM_HALF_H */
