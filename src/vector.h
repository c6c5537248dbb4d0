/*
 * vector.h
 *		The `vector` type: a varlena of float4 values, laid out exactly like
 *		pgvector's so that clients, COPY files and ORMs work unchanged.
 */
#ifndef HNSWMM_VECTOR_H
#define HNSWMM_VECTOR_H

#include "postgres.h"
#include "fmgr.h"
#include "utils/array.h"

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

/*
 * The btree support of a type from its three-way comparison of the two
 * arguments, compare(fcinfo): the SQL functions type_lt, _le, _eq, _ne,
 * _ge, _gt and type_cmp (halfvec.c and sparsevec.c)
 */
#define VECTOR_COMPARISON(name, compare, test) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int			c = compare(fcinfo); \
	PG_RETURN_BOOL(test); \
}

#define VECTOR_BTREE_SUPPORT(type, compare) \
VECTOR_COMPARISON(type##_lt, compare, c < 0) \
VECTOR_COMPARISON(type##_le, compare, c <= 0) \
VECTOR_COMPARISON(type##_eq, compare, c == 0) \
VECTOR_COMPARISON(type##_ne, compare, c != 0) \
VECTOR_COMPARISON(type##_ge, compare, c >= 0) \
VECTOR_COMPARISON(type##_gt, compare, c > 0) \
PG_FUNCTION_INFO_V1(type##_cmp); \
Datum \
type##_cmp(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_INT32(compare(fcinfo)); \
}
extern Vector *vector_from_text(const char *lit, const char *typname);
extern int32 vector_typmod_parse(ArrayType *mods, const char *typname,
								 int32 max);
extern void check_expected_dim(int32 typmod, int dim);

/*
 * The SQL-callable functions of vector.c that halfvec.c applies to its
 * values widened to vectors
 */
extern Datum vector_out(PG_FUNCTION_ARGS);
extern Datum l2_distance(PG_FUNCTION_ARGS);
extern Datum vector_l2_squared_distance(PG_FUNCTION_ARGS);
extern Datum inner_product(PG_FUNCTION_ARGS);
extern Datum vector_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum cosine_distance(PG_FUNCTION_ARGS);
extern Datum l1_distance(PG_FUNCTION_ARGS);
extern Datum vector_norm(PG_FUNCTION_ARGS);
extern Datum l2_normalize(PG_FUNCTION_ARGS);
extern Datum subvector(PG_FUNCTION_ARGS);
extern Datum vector_add(PG_FUNCTION_ARGS);
extern Datum vector_sub(PG_FUNCTION_ARGS);
extern Datum vector_mul(PG_FUNCTION_ARGS);
extern Datum vector_concat(PG_FUNCTION_ARGS);
extern Datum vector_cmp(PG_FUNCTION_ARGS);
extern Datum vector_accum(PG_FUNCTION_ARGS);
extern Datum vector_avg(PG_FUNCTION_ARGS);
extern Datum array_to_vector(PG_FUNCTION_ARGS);
extern Datum vector_to_float4(PG_FUNCTION_ARGS);
extern Datum binary_quantize(PG_FUNCTION_ARGS);

#endif							/* HNSWMM_VECTOR_H */
