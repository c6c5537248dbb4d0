/*
 * vector.c
 *		The `vector` SQL type: text and binary I/O, the typmod vector(n),
 *		distance operators and functions, arithmetic, comparisons and btree
 *		support, the avg/sum aggregates and the casts from and to arrays.
 *
 * The layout, the text format '[1,2,3]' and the binary format (int16 dim,
 * int16 unused = 0, big-endian float4 values) are pgvector's, so clients and
 * COPY files written for pgvector work unchanged.  Every vector this file
 * builds has 1..VECTOR_MAX_DIM finite elements.  The distance inner loops
 * live in distance.c; this file only checks dimensions and converts results.
 *
 * This file also holds the module's PG_MODULE_MAGIC (hnswmm.c relies on it).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "distance.h"
#include "hnswmm_compat.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "port/pg_bswap.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "vector.h"

PG_MODULE_MAGIC;

/* ----------------------------------------------------------------
 * Checks shared by every function that builds a vector
 * ----------------------------------------------------------------
 */

static inline void
check_dim_of(int dim, const char *typname)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));
	if (dim > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s cannot have more than %d dimensions",
						typname, VECTOR_MAX_DIM)));
}

static inline void
check_dim(int dim)
{
	check_dim_of(dim, "vector");
}

/*
 * typmod is -1 when the column or cast has no vector(n) (or halfvec(n),
 * sparsevec(n))
 */
void
check_expected_dim(int32 typmod, int dim)
{
	if (typmod != -1 && typmod != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

static inline void
check_element_of(float value, const char *typname)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in %s", typname)));
	if (isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in %s", typname)));
}

static inline void
check_element(float value)
{
	check_element_of(value, "vector");
}

static inline void
check_same_dim(const Vector *a, const Vector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d",
						a->dim, b->dim)));
}

/* Arithmetic results: raise 22003 instead of storing an infinity */
static void
check_overflow(const Vector *v)
{
	for (int i = 0; i < v->dim; i++)
		if (isinf(v->x[i]))
			float_overflow_error();
}

/*
 * Allocate a zeroed vector of dim elements.  The caller has checked dim
 * (the index also calls this).
 */
Vector *
InitVector(int dim)
{
	Vector	   *v;

	Assert(dim >= 1 && dim <= VECTOR_MAX_DIM);
	v = (Vector *) palloc0(VECTOR_SIZE(dim));
	SET_VARSIZE(v, VECTOR_SIZE(dim));
	v->dim = dim;
	return v;
}

/* ----------------------------------------------------------------
 * Text I/O and typmod
 * ----------------------------------------------------------------
 */

/* The whitespace that may surround numbers and brackets */
static inline bool
vector_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

static inline const char *
skip_space(const char *p)
{
	while (vector_isspace(*p))
		p++;
	return p;
}

HNSWMM_NORETURN static void invalid_syntax(const char *lit, const char *detail,
											const char *typname);

static void
invalid_syntax(const char *lit, const char *detail, const char *typname)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", typname, lit),
			 detail ? errdetail_internal("%s", detail) : 0));
}

/*
 * Parse one element at *p (leading whitespace allowed) and advance *p past
 * it.  A value that overflows to infinity is out of range, as in float4in;
 * one that underflows reads as a (signed) zero or a denormal, as pgvector
 * reads it, so that files and clients made for pgvector load unchanged.
 */
static float
parse_element(const char **p, const char *lit, const char *typname)
{
	const char *start = skip_space(*p);
	char	   *end;
	float		value;

	if (*start == '\0')
		invalid_syntax(lit, "Vector contents must end with \"]\".", typname);
	errno = 0;
	value = strtof(start, &end);
	if (end == start)
		invalid_syntax(lit, NULL, typname);
	if (errno == ERANGE && isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("\"%s\" is out of range for type %s",
						pnstrdup(start, end - start), typname)));
	check_element_of(value, typname);
	*p = end;
	return value;
}

/* An upper bound of the element count of a well-formed literal */
static int
max_elements(const char *lit)
{
	int			commas = 0;

	for (const char *p = lit; *p; p++)
		if (*p == ',')
			commas++;
	return Min(commas + 1, VECTOR_MAX_DIM);
}

/*
 * Parse the text form '[1,2,3]' of a vector or halfvec (typname, for the
 * messages) into a vector; the caller checks the typmod (and that a
 * halfvec's elements fit a half).
 */
Vector *
vector_from_text(const char *lit, const char *typname)
{
	int			capacity = max_elements(lit);
	Vector	   *result = InitVector(capacity);
	const char *p = skip_space(lit);
	int			dim = 0;

	if (*p != '[')
		invalid_syntax(lit, "Vector contents must start with \"[\".", typname);
	p = skip_space(p + 1);
	if (*p == ']')
		check_dim_of(0, typname);

	for (;;)
	{
		if (dim == VECTOR_MAX_DIM)
			check_dim_of(dim + 1, typname);
		Assert(dim < capacity);
		result->x[dim++] = parse_element(&p, lit, typname);
		p = skip_space(p);
		if (*p == ']')
			break;
		if (*p == '\0')
			invalid_syntax(lit, "Vector contents must end with \"]\".", typname);
		if (*p != ',')
			invalid_syntax(lit, NULL, typname);
		p++;
	}

	if (*skip_space(p + 1) != '\0')
		invalid_syntax(lit, "Junk after closing right bracket.", typname);

	/* A well-formed literal fills the capacity exactly; trim otherwise */
	SET_VARSIZE(result, VECTOR_SIZE(dim));
	result->dim = dim;
	return result;
}

PG_FUNCTION_INFO_V1(vector_in);
Datum
vector_in(PG_FUNCTION_ARGS)
{
	Vector	   *result = vector_from_text(PG_GETARG_CSTRING(0), "vector");

	check_expected_dim(PG_GETARG_INT32(2), result->dim);
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_out);
Datum
vector_out(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	/* each element: up to FLOAT_SHORTEST_DECIMAL_LEN - 1 chars and a comma */
	char	   *buf = palloc(v->dim * FLOAT_SHORTEST_DECIMAL_LEN + 3);
	char	   *p = buf;

	*p++ = '[';
	for (int i = 0; i < v->dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(v->x[i], p);
	}
	*p++ = ']';
	*p = '\0';
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(buf);
}

/*
 * The dimension count n of a typmod typname(n), 1 to max: the typmod input
 * of vector, halfvec and sparsevec
 */
int32
vector_typmod_parse(ArrayType *mods, const char *typname, int32 max)
{
	int			n;
	int32	   *tl = ArrayGetIntegerTypmods(mods, &n);

	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errhint("Write %s(n) with one dimension count n.", typname)));
	if (tl[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s must be at least 1", typname)));
	if (tl[0] > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s cannot exceed %d", typname, max)));
	return tl[0];
}

PG_FUNCTION_INFO_V1(vector_typmod_in);
Datum
vector_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vector_typmod_parse(PG_GETARG_ARRAYTYPE_P(0), "vector",
										VECTOR_MAX_DIM));
}

/* ----------------------------------------------------------------
 * Binary I/O: int16 dim, int16 unused (0), dim big-endian float4 values
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(vector_recv);
Datum
vector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int16		dim = (int16) pq_getmsgint(buf, sizeof(int16));
	int16		unused = (int16) pq_getmsgint(buf, sizeof(int16));
	int			remaining;
	const char *values;
	Vector	   *result;

	check_dim(dim);
	check_expected_dim(typmod, dim);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary vector: unused field is %d, not 0",
						unused)));
	remaining = buf->len - buf->cursor;
	if (remaining != dim * (int) sizeof(float4))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary vector: dim is %d, so %d bytes of values are expected, not %d",
						dim, dim * (int) sizeof(float4), remaining)));

	/*
	 * Swap all the values in one pass over the message rather than reading
	 * them one call each: a query vector arrives with every search.
	 */
	values = pq_getmsgbytes(buf, dim * sizeof(float4));
	result = InitVector(dim);
	for (int i = 0; i < dim; i++)
	{
		uint32		bits;

		memcpy(&bits, values + i * sizeof(float4), sizeof(bits));
		bits = pg_ntoh32(bits);
		memcpy(&result->x[i], &bits, sizeof(bits));
	}
	for (int i = 0; i < dim; i++)
		check_element(result->x[i]);
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_send);
Datum
vector_send(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, v->dim);
	pq_sendint16(&buf, 0);
	for (int i = 0; i < v->dim; i++)
		pq_sendfloat4(&buf, v->x[i]);
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ----------------------------------------------------------------
 * Casts
 * ----------------------------------------------------------------
 */

/* vector(vector, typmod, explicit): the vector(n) length coercion */
PG_FUNCTION_INFO_V1(vector);
Datum
vector(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	check_expected_dim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_VECTOR_P(v);
}

/*
 * A double narrowed to float: overflow is an error, as in the float4 cast;
 * underflow gives a (signed) zero, as text input does
 */
static float
double_to_element(double d)
{
	float		f = (float) d;

	if (isinf(f) && !isinf(d))
		float_overflow_error();
	return f;
}

static float
array_element_to_float(Datum d, Oid elemtype)
{
	switch (elemtype)
	{
		case INT4OID:
			return (float) DatumGetInt32(d);
		case FLOAT4OID:
			return DatumGetFloat4(d);
		case FLOAT8OID:
			return double_to_element(DatumGetFloat8(d));
		case NUMERICOID:
			/* through double, so that underflow reads as zero here too */
			return double_to_element(DatumGetFloat8(DirectFunctionCall1(numeric_float8, d)));
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("cannot cast an array of %s to vector",
							format_type_be(elemtype))));
	}
	pg_unreachable();
}

/* array_to_vector(integer[] | real[] | double precision[] | numeric[], ...) */
PG_FUNCTION_INFO_V1(array_to_vector);
Datum
array_to_vector(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	int			n;
	Vector	   *result;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D")));
	if (array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign,
					  &elems, NULL, &n);
	check_dim(n);
	check_expected_dim(typmod, n);

	result = InitVector(n);
	for (int i = 0; i < n; i++)
	{
		result->x[i] = array_element_to_float(elems[i], elemtype);
		check_element(result->x[i]);
	}
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_to_float4);
Datum
vector_to_float4(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Datum	   *elems = palloc(sizeof(Datum) * v->dim);

	for (int i = 0; i < v->dim; i++)
		elems[i] = Float4GetDatum(v->x[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, v->dim, FLOAT4OID,
										  sizeof(float4), true, TYPALIGN_INT));
}

/* ----------------------------------------------------------------
 * Distances (float8 results; the sums come from distance.c)
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(l2_distance);
Datum
l2_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	check_same_dim(a, b);
	PG_RETURN_FLOAT8(sqrt((double) hm_l2_squared(a->x, b->x, a->dim)));
}

/* The squared L2 distance: orders like <-> without the square root */
PG_FUNCTION_INFO_V1(vector_l2_squared_distance);
Datum
vector_l2_squared_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	check_same_dim(a, b);
	PG_RETURN_FLOAT8((double) hm_l2_squared(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(inner_product);
Datum
inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	check_same_dim(a, b);
	PG_RETURN_FLOAT8((double) hm_inner_product(a->x, b->x, a->dim));
}

/* <#>: smaller is more similar, so ORDER BY ... LIMIT finds the largest */
PG_FUNCTION_INFO_V1(vector_negative_inner_product);
Datum
vector_negative_inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	check_same_dim(a, b);
	PG_RETURN_FLOAT8(-(double) hm_inner_product(a->x, b->x, a->dim));
}

/*
 * 1 - cos(a, b), within [0, 2].  NaN when either vector is zero (0 / 0),
 * as in pgvector.
 */
PG_FUNCTION_INFO_V1(cosine_distance);
Datum
cosine_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	double		ab;
	double		aa;
	double		bb;
	double		similarity;

	check_same_dim(a, b);
	hm_cosine_terms(a->x, b->x, a->dim, &ab, &aa, &bb);
	similarity = ab / sqrt(aa * bb);
	/* rounding can step outside [-1, 1]; NaN stays NaN */
	if (similarity > 1.0)
		similarity = 1.0;
	else if (similarity < -1.0)
		similarity = -1.0;
	PG_RETURN_FLOAT8(1.0 - similarity);
}

PG_FUNCTION_INFO_V1(l1_distance);
Datum
l1_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	check_same_dim(a, b);
	PG_RETURN_FLOAT8((double) hm_l1(a->x, b->x, a->dim));
}

/* ----------------------------------------------------------------
 * Other functions
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(vector_dims);
Datum
vector_dims(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	PG_RETURN_INT32(v->dim);
}

/* The Euclidean norm, summed in double so that it cannot overflow */
static double
norm_double(const Vector *v)
{
	return sqrt(hm_norm_squared_double(v->x, v->dim));
}

PG_FUNCTION_INFO_V1(vector_norm);
Datum
vector_norm(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(norm_double(PG_GETARG_VECTOR_P(0)));
}

/* The vector divided by its norm; a zero vector stays zero */
PG_FUNCTION_INFO_V1(l2_normalize);
Datum
l2_normalize(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	double		norm = norm_double(v);
	Vector	   *result = InitVector(v->dim);

	if (norm > 0.0)
		for (int i = 0; i < v->dim; i++)
			result->x[i] = (float) (v->x[i] / norm);
	PG_RETURN_VECTOR_P(result);
}

/*
 * subvector(v, start, count): the elements start .. start + count - 1,
 * counted from 1.  Like substring(), the range is clipped to the vector;
 * an empty result is an error.
 */
PG_FUNCTION_INFO_V1(subvector);
Datum
subvector(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	int64		start = PG_GETARG_INT32(1);
	int64		end = start + PG_GETARG_INT32(2);	/* exclusive */
	Vector	   *result;

	start = Max(start, 1);
	end = Min(end, (int64) v->dim + 1);
	if (end <= start)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension"),
				 errdetail("subvector(%d, %d) selects no element of a vector with %d dimensions.",
						   PG_GETARG_INT32(1), PG_GETARG_INT32(2), v->dim)));

	result = InitVector((int) (end - start));
	memcpy(result->x, v->x + (start - 1), sizeof(float) * result->dim);
	PG_RETURN_VECTOR_P(result);
}

/* ----------------------------------------------------------------
 * Element-wise arithmetic and concatenation
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(vector_add);
Datum
vector_add(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	check_same_dim(a, b);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] + b->x[i];
	check_overflow(result);
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_sub);
Datum
vector_sub(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	check_same_dim(a, b);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] - b->x[i];
	check_overflow(result);
	PG_RETURN_VECTOR_P(result);
}

/* Element-wise product; a nonzero product that rounds to 0 is underflow */
PG_FUNCTION_INFO_V1(vector_mul);
Datum
vector_mul(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	check_same_dim(a, b);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] * b->x[i];
	check_overflow(result);
	for (int i = 0; i < a->dim; i++)
		if (result->x[i] == 0.0f && a->x[i] != 0.0f && b->x[i] != 0.0f)
			float_underflow_error();
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_concat);
Datum
vector_concat(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	check_dim(a->dim + b->dim);
	result = InitVector(a->dim + b->dim);
	memcpy(result->x, a->x, sizeof(float) * a->dim);
	memcpy(result->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_VECTOR_P(result);
}

/* ----------------------------------------------------------------
 * Comparisons and btree support
 *
 * Element by element; when one vector is a prefix of the other, the shorter
 * one sorts first.  Vectors hold no NaN, so this is a total order.
 * ----------------------------------------------------------------
 */

static int
vector_cmp_internal(const Vector *a, const Vector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

/* Compare the two arguments, freeing detoasted copies (sorts call this often) */
static int
compare_args(FunctionCallInfo fcinfo)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	int			cmp = vector_cmp_internal(a, b);

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return cmp;
}

PG_FUNCTION_INFO_V1(vector_cmp);
Datum
vector_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(compare_args(fcinfo));
}

PG_FUNCTION_INFO_V1(vector_lt);
Datum
vector_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) < 0);
}

PG_FUNCTION_INFO_V1(vector_le);
Datum
vector_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) <= 0);
}

PG_FUNCTION_INFO_V1(vector_eq);
Datum
vector_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) == 0);
}

PG_FUNCTION_INFO_V1(vector_ne);
Datum
vector_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) != 0);
}

PG_FUNCTION_INFO_V1(vector_ge);
Datum
vector_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) >= 0);
}

PG_FUNCTION_INFO_V1(vector_gt);
Datum
vector_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) > 0);
}

/* ----------------------------------------------------------------
 * avg(vector): the state is float8[] {count, sum_1, ..., sum_dim}, starting
 * as '{0}' (no dimension known yet).  sum(vector) is vector_add itself.
 * ----------------------------------------------------------------
 */

/* The state array's values; its length (count + sums) goes to *len */
static float8 *
state_values(ArrayType *state, const char *caller, int *len)
{
	if (ARR_NDIM(state) != 1 || ARR_ELEMTYPE(state) != FLOAT8OID ||
		ARR_HASNULL(state) || ARR_DIMS(state)[0] < 1 ||
		ARR_DIMS(state)[0] > VECTOR_MAX_DIM + 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: invalid state array", caller),
				 errdetail("The state must be a 1-D float8 array without nulls: {count, sum_1, ..., sum_n}.")));
	*len = ARR_DIMS(state)[0];
	return (float8 *) ARR_DATA_PTR(state);
}

static ArrayType *
build_state(const float8 *values, int len)
{
	Datum	   *elems = palloc(sizeof(Datum) * len);

	for (int i = 0; i < len; i++)
		elems[i] = Float8GetDatum(values[i]);
	return construct_array(elems, len, FLOAT8OID, sizeof(float8),
						   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

static inline void
check_state_dim(int len, int dim)
{
	if (len - 1 != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d",
						len - 1, dim)));
}

/* Add v into sums[0 .. dim - 1] */
static void
accumulate(float8 *sums, const Vector *v)
{
	for (int i = 0; i < v->dim; i++)
	{
		sums[i] += (double) v->x[i];
		if (isinf(sums[i]))
			float_overflow_error();
	}
}

PG_FUNCTION_INFO_V1(vector_accum);
Datum
vector_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	Vector	   *v = PG_GETARG_VECTOR_P(1);
	int			len;
	float8	   *values = state_values(state, "vector_accum", &len);

	if (len == 1)
	{
		/* first vector of the group: it fixes the dimension */
		float8	   *fresh = palloc0(sizeof(float8) * (v->dim + 1));

		fresh[0] = values[0] + 1.0;
		accumulate(fresh + 1, v);
		PG_RETURN_ARRAYTYPE_P(build_state(fresh, v->dim + 1));
	}

	check_state_dim(len, v->dim);
	/* an aggregate owns its state and may update it in place */
	if (!AggCheckCallContext(fcinfo, NULL))
	{
		state = build_state(values, len);
		values = (float8 *) ARR_DATA_PTR(state);
	}
	values[0] += 1.0;
	accumulate(values + 1, v);
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(vector_combine);
Datum
vector_combine(PG_FUNCTION_ARGS)
{
	int			len1;
	int			len2;
	float8	   *s1 = state_values(PG_GETARG_ARRAYTYPE_P(0), "vector_combine", &len1);
	float8	   *s2 = state_values(PG_GETARG_ARRAYTYPE_P(1), "vector_combine", &len2);
	float8	   *result;

	/* a state without sums (no row yet) adds only its count */
	if (len2 == 1 || len1 == 1)
	{
		int			len = len2 == 1 ? len1 : len2;

		result = palloc(sizeof(float8) * len);
		memcpy(result, len2 == 1 ? s1 : s2, sizeof(float8) * len);
		result[0] = s1[0] + s2[0];
		PG_RETURN_ARRAYTYPE_P(build_state(result, len));
	}

	check_state_dim(len1, len2 - 1);
	result = palloc(sizeof(float8) * len1);
	for (int i = 0; i < len1; i++)
	{
		result[i] = s1[i] + s2[i];
		if (isinf(result[i]))
			float_overflow_error();
	}
	PG_RETURN_ARRAYTYPE_P(build_state(result, len1));
}

PG_FUNCTION_INFO_V1(vector_avg);
Datum
vector_avg(PG_FUNCTION_ARGS)
{
	int			len;
	float8	   *values = state_values(PG_GETARG_ARRAYTYPE_P(0), "vector_avg", &len);
	Vector	   *result;

	/* no rows: avg() is NULL */
	if (values[0] == 0.0)
		PG_RETURN_NULL();

	check_dim(len - 1);
	result = InitVector(len - 1);
	for (int i = 0; i < result->dim; i++)
	{
		double		mean = values[i + 1] / values[0];

		/* only a hand-made state can overflow: a mean is never larger */
		result->x[i] = (float) mean;
		if (isinf(result->x[i]))
			float_overflow_error();
		check_element(result->x[i]);
	}
	PG_RETURN_VECTOR_P(result);
}
