/*
 * halfvec.h
 *		The `halfvec` type (halfvec.c): a varlena of IEEE 754 half-precision
 *		values, laid out like pgvector's halfvec so that clients and COPY
 *		files written for it work unchanged.
 */
#ifndef HNSWMM_HALFVEC_H
#define HNSWMM_HALFVEC_H

#include "postgres.h"
#include "fmgr.h"
#include "half.h"
#include "vector.h"

#define HALFVEC_MAX_DIM VECTOR_MAX_DIM

typedef struct HalfVector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of dimensions */
	int16		unused;			/* reserved, always 0 */
	half		x[FLEXIBLE_ARRAY_MEMBER];
} HalfVector;

#define HALFVEC_SIZE(dim)		(offsetof(HalfVector, x) + sizeof(half) * (dim))
#define DatumGetHalfVector(d)	((HalfVector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_HALFVEC_P(n)	DatumGetHalfVector(PG_GETARG_DATUM(n))
#define PG_RETURN_HALFVEC_P(v)	PG_RETURN_POINTER(v)

/* halfvec_to_vector(halfvec, integer, boolean): support function 2 of the
 * index's halfvec operator classes */
extern Datum halfvec_to_vector(PG_FUNCTION_ARGS);
/* vector_to_halfvec(vector, integer, boolean), for sparsevec.c */
extern Datum vector_to_halfvec(PG_FUNCTION_ARGS);

#endif							/* HNSWMM_HALFVEC_H */
