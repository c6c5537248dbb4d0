/*
 * sparsevec.c
 *		The `sparsevec` SQL type: the non-zero elements of a vector of up to
 *		SPARSEVEC_MAX_DIM dimensions, at most SPARSEVEC_MAX_NNZ of them (a
 *		learned sparse embedding such as SPLADE's).  Text and binary I/O,
 *		the typmod sparsevec(n), casts to and from vector, halfvec and
 *		arrays, distances, norms, comparisons and btree support.
 *
 * The layout, the text format '{1:1.5,3:2}/5' (1-based indices, then the
 * dimension count) and the binary format (int32 dim, int32 nnz, int32
 * unused = 0, nnz big-endian int32 0-based indices, nnz big-endian float4
 * values) are pgvector's.  Every sparsevec this file builds keeps its
 * indices strictly increasing and no zero, NaN or infinite value: input in
 * any order is sorted, zeros are dropped, a repeated index is an error.
 * Distances merge the two index lists, so they cost O(nnz), not O(dim).
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "halfvec.h"
#include "hnswmm_compat.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "sparsevec.h"
#include "utils/array.h"
#include "utils/float.h"
#include "vector.h"

/* ----------------------------------------------------------------
 * Building sparsevecs, and checks
 * ----------------------------------------------------------------
 */

static SparseVector *
init_sparsevec(int dim, int nnz)
{
	SparseVector *v = (SparseVector *) palloc0(SPARSEVEC_SIZE(nnz));

	SET_VARSIZE(v, SPARSEVEC_SIZE(nnz));
	v->dim = dim;
	v->nnz = nnz;
	return v;
}

static void
check_dim(int64 dim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("sparsevec must have at least 1 dimension")));
	if (dim > SPARSEVEC_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sparsevec cannot have more than %d dimensions",
						SPARSEVEC_MAX_DIM)));
}

static void
check_nnz(int64 nnz)
{
	if (nnz > SPARSEVEC_MAX_NNZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sparsevec cannot have more than %d non-zero elements",
						SPARSEVEC_MAX_NNZ)));
}

static inline void
check_value(float value)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in sparsevec")));
	if (isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in sparsevec")));
}

static inline void
check_same_dim(const SparseVector *a, const SparseVector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different sparsevec dimensions %d and %d",
						a->dim, b->dim)));
}

/* One element while a sparsevec is put together */
typedef struct SparseElement
{
	int64		index;			/* 0-based */
	float		value;
} SparseElement;

static int
element_cmp(const void *a, const void *b)
{
	int64		ia = ((const SparseElement *) a)->index;
	int64		ib = ((const SparseElement *) b)->index;

	return (ia > ib) - (ia < ib);
}

/*
 * The sparsevec of n elements in any order: sorted, zeros dropped; an
 * index out of [0, dim) or given twice is an error
 */
static SparseVector *
from_elements(SparseElement *e, int n, int dim)
{
	SparseVector *v;
	float	   *values;
	int			nnz = 0;

	qsort(e, n, sizeof(SparseElement), element_cmp);
	for (int i = 0; i < n; i++)
	{
		if (e[i].index < 0 || e[i].index >= dim)
		{
			/* parse_integer clamps the magnitude to SPARSEVEC_MAX_DIM + 1 */
			if (e[i].index + 1 > SPARSEVEC_MAX_DIM ||
				e[i].index + 1 < -(int64) SPARSEVEC_MAX_DIM)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("sparsevec index is out of range 1 to %d", dim)));
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevec index %lld is out of range 1 to %d",
							(long long) e[i].index + 1, dim)));
		}
		if (i > 0 && e[i].index == e[i - 1].index)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevec index %lld is given more than once",
							(long long) e[i].index + 1)));
		check_value(e[i].value);
		if (e[i].value != 0)
			nnz++;
	}
	v = init_sparsevec(dim, nnz);
	values = SPARSEVEC_VALUES(v);
	nnz = 0;
	for (int i = 0; i < n; i++)
		if (e[i].value != 0)
		{
			v->indices[nnz] = (int32) e[i].index;
			values[nnz++] = e[i].value;
		}
	return v;
}

/* ----------------------------------------------------------------
 * Text I/O and typmod
 * ----------------------------------------------------------------
 */

HNSWMM_NORETURN static void invalid_syntax(const char *lit, const char *detail);

static void
invalid_syntax(const char *lit, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type sparsevec: \"%s\"", lit),
			 detail ? errdetail_internal("%s", detail) : 0));
}

static inline const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		   *p == '\v' || *p == '\f')
		p++;
	return p;
}

/*
 * An integer at *p (after blanks); advances *p past it.  Any value beyond
 * +-(SPARSEVEC_MAX_DIM + 1) reads as that bound, which every range check
 * refuses, so that no arithmetic on it can overflow.
 */
static int64
parse_integer(const char **p, const char *lit)
{
	const char *start = skip_space(*p);
	char	   *end;
	long long	value;
	const int64 bound = (int64) SPARSEVEC_MAX_DIM + 1;

	value = strtoll(start, &end, 10);
	if (end == start)
		invalid_syntax(lit, NULL);
	*p = end;
	return Max(Min((int64) value, bound), -bound);
}

/* A float at *p (after blanks); advances *p past it */
static float
parse_value(const char **p, const char *lit)
{
	const char *start = skip_space(*p);
	char	   *end;
	float		value;

	errno = 0;
	value = strtof(start, &end);
	if (end == start)
		invalid_syntax(lit, NULL);
	if (errno == ERANGE && isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("\"%s\" is out of range for type sparsevec",
						pnstrdup(start, end - start))));
	*p = end;
	return value;
}

/* How many elements a literal lists: its colons */
static int
listed_elements(const char *lit)
{
	int			n = 0;

	for (const char *p = lit; *p; p++)
		n += (*p == ':');
	return n;
}

PG_FUNCTION_INFO_V1(sparsevec_in);
Datum
sparsevec_in(PG_FUNCTION_ARGS)
{
	const char *lit = PG_GETARG_CSTRING(0);
	int			capacity = listed_elements(lit);
	SparseElement *e;
	int			n = 0;
	int64		index;
	int64		dim;
	const char *p = skip_space(lit);
	SparseVector *result;

	check_nnz(capacity);
	e = palloc(sizeof(SparseElement) * Max(capacity, 1));
	if (*p != '{')
		invalid_syntax(lit, "Sparse vector contents must start with \"{\".");
	p = skip_space(p + 1);
	while (*p != '}')
	{
		if (n > 0)
		{
			if (*p != ',')
				invalid_syntax(lit, NULL);
			p++;
		}
		index = parse_integer(&p, lit) - 1;
		p = skip_space(p);
		if (*p != ':')
			invalid_syntax(lit, "Elements must be written index:value.");
		p++;
		/* one colon per element: the capacity holds each one stored */
		Assert(n < capacity);
		e[n].index = index;
		e[n++].value = parse_value(&p, lit);
		p = skip_space(p);
		if (*p == '\0')
			invalid_syntax(lit, "Sparse vector contents must end with \"}\".");
	}
	p = skip_space(p + 1);
	if (*p != '/')
		invalid_syntax(lit, "The dimension count must follow \"}/\".");
	p++;
	dim = parse_integer(&p, lit);
	if (*skip_space(p) != '\0')
		invalid_syntax(lit, "Junk after the dimension count.");
	check_dim(dim);
	check_expected_dim(PG_GETARG_INT32(2), (int) dim);
	result = from_elements(e, n, (int) dim);
	PG_RETURN_SPARSEVEC_P(result);
}

PG_FUNCTION_INFO_V1(sparsevec_out);
Datum
sparsevec_out(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	float	   *values = SPARSEVEC_VALUES(v);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < v->nnz; i++)
	{
		char		number[FLOAT_SHORTEST_DECIMAL_LEN];

		float_to_shortest_decimal_buf(values[i], number);
		appendStringInfo(&buf, "%s%d:%s", i > 0 ? "," : "", v->indices[i] + 1, number);
	}
	appendStringInfo(&buf, "}/%d", v->dim);
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(sparsevec_typmod_in);
Datum
sparsevec_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vector_typmod_parse(PG_GETARG_ARRAYTYPE_P(0), "sparsevec",
										SPARSEVEC_MAX_DIM));
}

/* ----------------------------------------------------------------
 * Binary I/O
 * ----------------------------------------------------------------
 */

#define INVALID_BINARY(...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION), \
			 errmsg("invalid binary sparsevec"), \
			 errdetail_internal(__VA_ARGS__)))

PG_FUNCTION_INFO_V1(sparsevec_recv);
Datum
sparsevec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		dim = pq_getmsgint(buf, sizeof(int32));
	int32		nnz = pq_getmsgint(buf, sizeof(int32));
	int32		unused = pq_getmsgint(buf, sizeof(int32));
	SparseElement *e;

	if (dim < 1 || dim > SPARSEVEC_MAX_DIM)
		INVALID_BINARY("dim is %d, not 1 to %d.", dim, SPARSEVEC_MAX_DIM);
	if (nnz < 0 || nnz > SPARSEVEC_MAX_NNZ)
		INVALID_BINARY("nnz is %d, not 0 to %d.", nnz, SPARSEVEC_MAX_NNZ);
	if (unused != 0)
		INVALID_BINARY("The unused field is %d, not 0.", unused);
	if (buf->len - buf->cursor != nnz * 8)
		INVALID_BINARY("nnz is %d, so %d bytes of indices and values are expected, not %d.",
					   nnz, nnz * 8, buf->len - buf->cursor);
	check_expected_dim(PG_GETARG_INT32(2), dim);
	e = palloc(sizeof(SparseElement) * Max(nnz, 1));
	for (int i = 0; i < nnz; i++)
	{
		e[i].index = (int32) pq_getmsgint(buf, sizeof(int32));
		if (i > 0 && e[i].index <= e[i - 1].index)
			INVALID_BINARY("Index %lld follows index %lld: indices must increase.",
						   (long long) e[i].index, (long long) e[i - 1].index);
	}
	for (int i = 0; i < nnz; i++)
		e[i].value = pq_getmsgfloat4(buf);
	PG_RETURN_SPARSEVEC_P(from_elements(e, nnz, dim));
}

PG_FUNCTION_INFO_V1(sparsevec_send);
Datum
sparsevec_send(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	float	   *values = SPARSEVEC_VALUES(v);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, v->dim);
	pq_sendint32(&buf, v->nnz);
	pq_sendint32(&buf, 0);
	for (int i = 0; i < v->nnz; i++)
		pq_sendint32(&buf, v->indices[i]);
	for (int i = 0; i < v->nnz; i++)
		pq_sendfloat4(&buf, values[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ----------------------------------------------------------------
 * Casts
 * ----------------------------------------------------------------
 */

/* sparsevec(sparsevec, typmod, explicit): the sparsevec(n) length coercion */
PG_FUNCTION_INFO_V1(sparsevec);
Datum
sparsevec(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);

	check_expected_dim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_SPARSEVEC_P(v);
}

static SparseVector *
from_vector(const Vector *v)
{
	SparseElement *e = palloc(sizeof(SparseElement) * v->dim);
	int			n = 0;

	for (int i = 0; i < v->dim; i++)
		if (v->x[i] != 0)
		{
			e[n].index = i;
			e[n++].value = v->x[i];
		}
	check_nnz(n);
	return from_elements(e, n, v->dim);
}

PG_FUNCTION_INFO_V1(vector_to_sparsevec);
Datum
vector_to_sparsevec(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	check_expected_dim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_SPARSEVEC_P(from_vector(v));
}

PG_FUNCTION_INFO_V1(halfvec_to_sparsevec);
Datum
halfvec_to_sparsevec(PG_FUNCTION_ARGS)
{
	Datum		v = DirectFunctionCall3(halfvec_to_vector, PG_GETARG_DATUM(0),
										PG_GETARG_DATUM(1), PG_GETARG_DATUM(2));

	PG_RETURN_SPARSEVEC_P(from_vector(DatumGetVector(v)));
}

/* array_to_sparsevec(integer[] | real[] | double precision[] | numeric[], ...) */
PG_FUNCTION_INFO_V1(array_to_sparsevec);
Datum
array_to_sparsevec(PG_FUNCTION_ARGS)
{
	Datum		v = DirectFunctionCall3(array_to_vector, PG_GETARG_DATUM(0),
										PG_GETARG_DATUM(1), PG_GETARG_DATUM(2));

	PG_RETURN_SPARSEVEC_P(from_vector(DatumGetVector(v)));
}

/* The dense vector of a sparsevec of at most VECTOR_MAX_DIM dimensions */
static Vector *
to_vector(const SparseVector *s)
{
	Vector	   *v;
	float	   *values = SPARSEVEC_VALUES(s);

	if (s->dim > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a sparsevec of %d dimensions does not fit a vector or halfvec",
						s->dim),
				 errdetail("They have at most %d dimensions.", VECTOR_MAX_DIM)));
	v = InitVector(s->dim);
	for (int i = 0; i < s->nnz; i++)
		v->x[s->indices[i]] = values[i];
	return v;
}

PG_FUNCTION_INFO_V1(sparsevec_to_vector);
Datum
sparsevec_to_vector(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);

	check_expected_dim(PG_GETARG_INT32(1), s->dim);
	PG_RETURN_VECTOR_P(to_vector(s));
}

PG_FUNCTION_INFO_V1(sparsevec_to_halfvec);
Datum
sparsevec_to_halfvec(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);

	return DirectFunctionCall3(vector_to_halfvec, PointerGetDatum(to_vector(s)),
							   PG_GETARG_DATUM(1), PG_GETARG_DATUM(2));
}

/* ----------------------------------------------------------------
 * Distances: a merge of the two sorted index lists
 * ----------------------------------------------------------------
 */

/* Sums over the union of two sparsevecs' elements */
typedef struct MergeSums
{
	double		dot;			/* sum of a_i * b_i */
	double		sq_diff;		/* sum of (a_i - b_i)^2 */
	double		abs_diff;		/* sum of |a_i - b_i| */
	double		aa;				/* sum of a_i^2 */
	double		bb;				/* sum of b_i^2 */
} MergeSums;

static MergeSums
merge_sums(const SparseVector *a, const SparseVector *b)
{
	const float *av = SPARSEVEC_VALUES(a);
	const float *bv = SPARSEVEC_VALUES(b);
	MergeSums	s = {0};
	int			i = 0;
	int			j = 0;

	check_same_dim(a, b);
	while (i < a->nnz || j < b->nnz)
	{
		double		x = 0;
		double		y = 0;

		if (j >= b->nnz || (i < a->nnz && a->indices[i] < b->indices[j]))
			x = av[i++];
		else if (i >= a->nnz || b->indices[j] < a->indices[i])
			y = bv[j++];
		else
		{
			x = av[i++];
			y = bv[j++];
		}
		s.dot += x * y;
		s.sq_diff += (x - y) * (x - y);
		s.abs_diff += fabs(x - y);
		s.aa += x * x;
		s.bb += y * y;
	}
	return s;
}

static inline MergeSums
merge_args(FunctionCallInfo fcinfo)
{
	return merge_sums(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1));
}

PG_FUNCTION_INFO_V1(sparsevec_l2_distance);
Datum
sparsevec_l2_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(sqrt(merge_args(fcinfo).sq_diff));
}

PG_FUNCTION_INFO_V1(sparsevec_l2_squared_distance);
Datum
sparsevec_l2_squared_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(merge_args(fcinfo).sq_diff);
}

PG_FUNCTION_INFO_V1(sparsevec_inner_product);
Datum
sparsevec_inner_product(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(merge_args(fcinfo).dot);
}

PG_FUNCTION_INFO_V1(sparsevec_negative_inner_product);
Datum
sparsevec_negative_inner_product(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(-merge_args(fcinfo).dot);
}

/* 1 - cosine similarity, clamped to [0, 2]; NaN for a zero vector */
PG_FUNCTION_INFO_V1(sparsevec_cosine_distance);
Datum
sparsevec_cosine_distance(PG_FUNCTION_ARGS)
{
	MergeSums	s = merge_args(fcinfo);
	double		similarity;

	if (s.aa == 0 || s.bb == 0)
		PG_RETURN_FLOAT8(get_float8_nan());
	similarity = s.dot / sqrt(s.aa * s.bb);
	similarity = Max(Min(similarity, 1.0), -1.0);
	PG_RETURN_FLOAT8(1.0 - similarity);
}

PG_FUNCTION_INFO_V1(sparsevec_l1_distance);
Datum
sparsevec_l1_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(merge_args(fcinfo).abs_diff);
}

static double
norm_of(const SparseVector *v)
{
	const float *values = SPARSEVEC_VALUES(v);
	double		sum = 0;

	for (int i = 0; i < v->nnz; i++)
		sum += (double) values[i] * values[i];
	return sqrt(sum);
}

PG_FUNCTION_INFO_V1(sparsevec_l2_norm);
Datum
sparsevec_l2_norm(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(norm_of(PG_GETARG_SPARSEVEC_P(0)));
}

/* The vector scaled to length 1; a zero vector stays zero */
PG_FUNCTION_INFO_V1(sparsevec_l2_normalize);
Datum
sparsevec_l2_normalize(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	double		norm = norm_of(v);
	SparseElement *e = palloc(sizeof(SparseElement) * Max(v->nnz, 1));

	for (int i = 0; i < v->nnz; i++)
	{
		e[i].index = v->indices[i];
		e[i].value = norm > 0 ? (float) (SPARSEVEC_VALUES(v)[i] / norm) : 0;
	}
	PG_RETURN_SPARSEVEC_P(from_elements(e, v->nnz, v->dim));
}

/* ----------------------------------------------------------------
 * Comparisons and btree support: the order of the dense vectors
 * (element by element, then by dimension count), as vector_cmp's
 * ----------------------------------------------------------------
 */

static int
sparsevec_cmp_internal(const SparseVector *a, const SparseVector *b)
{
	const float *av = SPARSEVEC_VALUES(a);
	const float *bv = SPARSEVEC_VALUES(b);
	int			dim = Min(a->dim, b->dim);
	int			i = 0;
	int			j = 0;

	for (;;)
	{
		int64		ia = i < a->nnz ? a->indices[i] : PG_INT64_MAX;
		int64		ib = j < b->nnz ? b->indices[j] : PG_INT64_MAX;
		int64		at = Min(ia, ib);
		float		x;
		float		y;

		if (at >= dim)
			break;
		x = ia == at ? av[i++] : 0;
		y = ib == at ? bv[j++] : 0;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

static int
compare_args(FunctionCallInfo fcinfo)
{
	return sparsevec_cmp_internal(PG_GETARG_SPARSEVEC_P(0),
								  PG_GETARG_SPARSEVEC_P(1));
}

VECTOR_BTREE_SUPPORT(sparsevec, compare_args)
