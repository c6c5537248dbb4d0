/*
 * distance.h
 *		Distance kernels over plain float arrays, shared by the SQL operators
 *		and the index.  Each kernel returns a sum over its n elements, so the
 *		distance between a query and a vector stored in several pieces (one
 *		that crosses a page boundary) is the sum over the pieces.
 */
#ifndef HNSWMM_DISTANCE_H
#define HNSWMM_DISTANCE_H

/* sum of (a[i] - b[i])^2 */
extern float hm_l2_squared(const float *a, const float *b, int n);

/* sum of a[i] * b[i] */
extern float hm_inner_product(const float *a, const float *b, int n);

/* sum of |a[i] - b[i]| */
extern float hm_l1(const float *a, const float *b, int n);

/* sum of a[i]^2 */
extern float hm_norm_squared(const float *a, int n);

#endif							/* HNSWMM_DISTANCE_H */
