/*
 * sparsevec.h
 *		The `sparsevec` type (sparsevec.c): the non-zero elements of a
 *		vector of up to a billion dimensions, laid out like pgvector's
 *		sparsevec so that clients and COPY files written for it work
 *		unchanged.
 */
#ifndef HNSWMM_SPARSEVEC_H
#define HNSWMM_SPARSEVEC_H

#include "postgres.h"
#include "fmgr.h"

#define SPARSEVEC_MAX_DIM	1000000000
#define SPARSEVEC_MAX_NNZ	16000

/*
 * nnz strictly increasing 0-based indices, then their nnz float values,
 * none zero, NaN or infinite
 */
typedef struct SparseVector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int32		dim;			/* number of dimensions */
	int32		nnz;			/* number of non-zero elements */
	int32		unused;			/* reserved, always 0 */
	int32		indices[FLEXIBLE_ARRAY_MEMBER];
} SparseVector;

#define SPARSEVEC_SIZE(nnz)		(offsetof(SparseVector, indices) + \
								 (sizeof(int32) + sizeof(float)) * (nnz))
#define SPARSEVEC_VALUES(v)		((float *) ((v)->indices + (v)->nnz))
#define DatumGetSparseVector(d)	((SparseVector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_SPARSEVEC_P(n)	DatumGetSparseVector(PG_GETARG_DATUM(n))
#define PG_RETURN_SPARSEVEC_P(v)	PG_RETURN_POINTER(v)

#endif							/* HNSWMM_SPARSEVEC_H */
