/*
 * hnswmm_quant.h
 *		Quantized codes of vectors (index option quantization): their size,
 *		encoding, and approximate distances from a query to a code.
 */
#ifndef HNSWMM_QUANT_H
#define HNSWMM_QUANT_H

#include "hnswmm_compat.h"
#include "hnswmm_store.h"

/*
 * The centers binary codes are taken relative to (hnswmm_centers.c): at
 * least one, a center of zeros for an index that keeps none
 */
typedef struct HnswmmCenters
{
	HnswmmFileId file;			/* of the index they were read from */
	int			count;
	int			dimensions;
	float	   *vectors;		/* count * dimensions */
	float	   *rotated;		/* count * rotated length, once needed */
	bool	   *is_rotated;		/* which of them are filled in */
} HnswmmCenters;

/* Center k's vector */
static inline float *
hnswmm_center_vector(const HnswmmCenters *centers, int k)
{
	return centers->vectors + (Size) k * centers->dimensions;
}

/* A query prepared for distances to codes (one per scan) */
typedef struct HnswmmCodeQuery
{
	HnswmmQuantization quantization;
	int			dimensions;
	bool		l2;				/* L2, else (negative) inner product */
	/* sq8: decode and apply the metric's kernel */
	HnswmmKernel kernel;
	bool		negate;
	const float *query;
	float	   *decoded;		/* one decoded code */
	/* binary: sums of the rotated query over each byte's set bits */
	int			nbytes;			/* bytes of bits in a code */
	float	   *table;			/* [nbytes][256] */
	float		qsum;			/* sum of the rotated query */
	int			ncenters;
	float	   *center_terms;	/* per center: L2 |query - center|^2, else
								 * <query, center> */
} HnswmmCodeQuery;

extern int	hnswmm_code_size(HnswmmQuantization quantization, int dimensions);
extern double hnswmm_binary_rerank_factor(int dimensions);
extern int	hnswmm_center_size(HnswmmQuantization quantization, int dimensions);

/* hnswmm_quant.c */
extern int	hnswmm_nearest_center(const HnswmmCenters *centers, const float *vec);
extern const char *hnswmm_quantization_name(HnswmmQuantization quantization);
extern void hnswmm_check_params(Relation index, int dimensions,
								const HnswmmParams *params);
extern void hnswmm_encode(const HnswmmLayout *layout, HnswmmCenters *centers,
						  const float *vec, char *code);
extern void hnswmm_encode_center(const float *center, int dimensions, char *code);
extern void hnswmm_decode_center(const char *code, int dimensions, float *center);
extern HnswmmCodeQuery *hnswmm_code_query(const HnswmmLayout *layout,
										  const HnswmmCenters *centers,
										  const float *query);
extern int	hnswmm_code_center(const HnswmmLayout *layout, const char *code);
extern float hnswmm_code_distance(HnswmmCodeQuery *cq, const char *code);

#endif							/* HNSWMM_QUANT_H */
