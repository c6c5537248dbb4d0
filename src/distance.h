/*
 * distance.h
 *		Distance kernels over plain float arrays, shared by the SQL operators
 *		and the index.  Each kernel returns a sum over its n elements, so the
 *		distance between a query and a vector stored in several pieces (one
 *		that crosses a page boundary) is the sum over the pieces.
 */
#ifndef HNSWMM_DISTANCE_H
#define HNSWMM_DISTANCE_H

#include "half.h"

/* sum of (a[i] - b[i])^2 */
extern float hm_l2_squared(const float *a, const float *b, int n);

/* sum of a[i] * b[i] */
extern float hm_inner_product(const float *a, const float *b, int n);

/* sum of |a[i] - b[i]| */
extern float hm_l1(const float *a, const float *b, int n);

/*
 * sum of |a[i] - b's bit i| over b's first n bits, most significant first
 * in each byte: the Hamming distance when a holds 0s and 1s
 */
extern float hm_hamming_bits(const float *a, const uint8 *b, int n);

/* sum of a[i] * b's bit i: the set bits in common when a holds 0s and 1s */
extern float hm_common_bits(const float *a, const uint8 *b, int n);

/* sum of a[i]^2, in double (never underflows or overflows) */
extern double hm_norm_squared_double(const float *a, int n);

/*
 * The three sums of a cosine distance: *ab = sum of a[i] * b[i], *aa = sum
 * of a[i]^2, *bb = sum of b[i]^2, by the kernels above, or in double when
 * a float sum leaves the normal range (tiny or huge vectors).
 */
extern void hm_cosine_terms(const float *a, const float *b, int n,
							double *ab, double *aa, double *bb);

/* One implementation of the kernels */
typedef float (*HmKernelFn) (const float *a, const float *b, int n);

/* The same sums with b in half precision (an index's halfvec slots) */
typedef float (*HmHalfKernelFn) (const float *a, const half *b, int n);

typedef struct HmKernels
{
	const char *name;			/* portable, avx2 or avx512 */
	HmKernelFn	l2_squared;
	HmKernelFn	inner_product;
	HmKernelFn	l1;
	HmHalfKernelFn l2_squared_half;
	HmHalfKernelFn inner_product_half;
	HmHalfKernelFn l1_half;
} HmKernels;

/* The implementation this process uses, chosen on first call */
extern const HmKernels *hm_kernels(void);

#endif							/* HNSWMM_DISTANCE_H */
