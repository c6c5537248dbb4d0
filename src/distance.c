/*
 * distance.c
 *		Distance kernels over plain float arrays (see distance.h).
 *
 * Owns the inner loops of every distance: the SQL operators in vector.c and
 * the index call these and nothing else.  Each kernel keeps HM_LANES
 * independent float accumulators, one per lane, and adds them up at the end.
 * A single running sum would be a serial dependency that gcc may not reorder
 * (no -ffast-math), so it could not use SIMD; with one accumulator per lane
 * the block loop is a plain element-wise update that gcc vectorises at -O2
 * for whatever -march the Makefile's OPTFLAGS select.  The summation order is
 * fixed, so a given build always returns the same value for the same input.
 */
#include "postgres.h"

#include <math.h>

#include "distance.h"

/* 16 floats: one AVX-512 register, two AVX2 or four SSE/NEON registers */
#define HM_LANES 16

/* Sum the lane accumulators pairwise, in a fixed order */
static inline float
hm_reduce(float *acc)
{
	for (int width = HM_LANES / 2; width > 0; width /= 2)
		for (int j = 0; j < width; j++)
			acc[j] += acc[j + width];
	return acc[0];
}

float
hm_l2_squared(const float *a, const float *b, int n)
{
	float		acc[HM_LANES] = {0};
	float		tail = 0.0f;
	int			i = 0;

	for (; i + HM_LANES <= n; i += HM_LANES)
		for (int j = 0; j < HM_LANES; j++)
		{
			float		d = a[i + j] - b[i + j];

			acc[j] += d * d;
		}
	for (; i < n; i++)
	{
		float		d = a[i] - b[i];

		tail += d * d;
	}
	return hm_reduce(acc) + tail;
}

float
hm_inner_product(const float *a, const float *b, int n)
{
	float		acc[HM_LANES] = {0};
	float		tail = 0.0f;
	int			i = 0;

	for (; i + HM_LANES <= n; i += HM_LANES)
		for (int j = 0; j < HM_LANES; j++)
			acc[j] += a[i + j] * b[i + j];
	for (; i < n; i++)
		tail += a[i] * b[i];
	return hm_reduce(acc) + tail;
}

float
hm_l1(const float *a, const float *b, int n)
{
	float		acc[HM_LANES] = {0};
	float		tail = 0.0f;
	int			i = 0;

	for (; i + HM_LANES <= n; i += HM_LANES)
		for (int j = 0; j < HM_LANES; j++)
			acc[j] += fabsf(a[i + j] - b[i + j]);
	for (; i < n; i++)
		tail += fabsf(a[i] - b[i]);
	return hm_reduce(acc) + tail;
}

float
hm_norm_squared(const float *a, int n)
{
	float		acc[HM_LANES] = {0};
	float		tail = 0.0f;
	int			i = 0;

	for (; i + HM_LANES <= n; i += HM_LANES)
		for (int j = 0; j < HM_LANES; j++)
			acc[j] += a[i + j] * a[i + j];
	for (; i < n; i++)
		tail += a[i] * a[i];
	return hm_reduce(acc) + tail;
}

void
hm_cosine_terms(const float *a, const float *b, int n,
				float *ab, float *aa, float *bb)
{
	float		acc_ab[HM_LANES] = {0};
	float		acc_aa[HM_LANES] = {0};
	float		acc_bb[HM_LANES] = {0};
	float		tail_ab = 0.0f;
	float		tail_aa = 0.0f;
	float		tail_bb = 0.0f;
	int			i = 0;

	for (; i + HM_LANES <= n; i += HM_LANES)
		for (int j = 0; j < HM_LANES; j++)
		{
			acc_ab[j] += a[i + j] * b[i + j];
			acc_aa[j] += a[i + j] * a[i + j];
			acc_bb[j] += b[i + j] * b[i + j];
		}
	for (; i < n; i++)
	{
		tail_ab += a[i] * b[i];
		tail_aa += a[i] * a[i];
		tail_bb += b[i] * b[i];
	}
	*ab = hm_reduce(acc_ab) + tail_ab;
	*aa = hm_reduce(acc_aa) + tail_aa;
	*bb = hm_reduce(acc_bb) + tail_bb;
}
