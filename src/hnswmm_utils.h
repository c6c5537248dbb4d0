/*
 * hnswmm_utils.h
 *		What the handler and the phases share (hnswmm_utils.c): index
 *		options, the metric and its kernels, INCLUDE sizes, the
 *		dimension check, opening an index for inspection.
 */
#ifndef HNSWMM_UTILS_H
#define HNSWMM_UTILS_H

#include <math.h>

#include "half.h"
#include "hnswmm.h"
#include "storage/lockdefs.h"
#include "utils/float.h"

extern void _PG_init(void);
extern bytea *hnswmm_options(Datum reloptions, bool validate);
extern void hnswmm_read_options(Relation index, HnswmmParams *params);
extern HnswmmMetric hnswmm_index_metric(Relation index);
extern HnswmmElement hnswmm_index_element(Relation index);
extern void hnswmm_encode_slot(const HnswmmLayout *layout, float *vec, char *slot);
extern void hnswmm_widen_elements(const HnswmmLayout *layout, const char *bytes,
								  int count, float *out);
extern void hnswmm_decode_slot(const HnswmmLayout *layout, const char *slot,
							   float *vec);
extern const float *hnswmm_value_floats(Relation index, Datum value, int *dim);
extern int	hnswmm_include_size(Relation index);
extern void hnswmm_check_dimensions(Relation index, int expected, int actual);

/* Sum of a kernel over a piece of a vector */
typedef float (*HnswmmKernel) (const float *a, const float *b, int n);
/* The same over a piece of a half-precision slot (halfvec indexes) */
typedef float (*HnswmmHalfKernel) (const float *a, const half *b, int n);
/* The same over the first n bits of a piece of a bit slot (bit indexes) */
typedef float (*HnswmmBitKernel) (const float *a, const uint8 *b, int n);

/*
 * A distance as searches compare it: NaN (inf - inf in an inner product of
 * huge values) as +infinity, so that heaps and comparisons stay ordered
 */
static inline float
hnswmm_ordered_distance(float d)
{
	return unlikely(isnan(d)) ? get_float4_infinity() : d;
}

extern void hnswmm_metric_kernel(HnswmmMetric metric, HnswmmKernel *kernel,
								 bool *negate);
extern HnswmmHalfKernel hnswmm_metric_half_kernel(HnswmmMetric metric);
extern HnswmmBitKernel hnswmm_metric_bit_kernel(HnswmmMetric metric);
extern float hnswmm_query_distance(HnswmmKernel kernel, bool negate,
								   const float *a, const float *b, int n);
extern bool hnswmm_prepare_vector(HnswmmMetric metric, const float *in,
								  float *out, int dim);

extern Relation hnswmm_open_for_inspection(Oid indexoid, LOCKMODE heap_lock);
extern void hnswmm_close_after_inspection(Relation index, LOCKMODE heap_lock);

#endif							/* HNSWMM_UTILS_H */
