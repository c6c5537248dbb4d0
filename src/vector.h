/*
 * vector.h
 *		The `vector` type: a varlena of float4 values, laid out exactly like
 *		pgvector's so that clients, COPY files and ORMs work unchanged.
 */
#ifndef HNSWMM_VECTOR_H
#define HNSWMM_VECTOR_H

#include "postgres.h"
#include "fmgr.h"

#define VECTOR_MAX_DIM 16000

typedef struct Vector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of dimensions */
	int16		unused;			/* reserved, always 0 */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

#define VECTOR_SIZE(dim)		(offsetof(Vector, x) + sizeof(float) * (dim))
#define DatumGetVector(d)		((Vector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_VECTOR_P(n)	DatumGetVector(PG_GETARG_DATUM(n))
#define PG_RETURN_VECTOR_P(v)	PG_RETURN_POINTER(v)

extern Vector *InitVector(int dim);

#endif							/* HNSWMM_VECTOR_H */
