/*
 * halfvec.c
 *		The `halfvec` SQL type: half the bytes of a vector.  Text and binary
 *		I/O, the typmod halfvec(n), the casts to and from vector and arrays,
 *		and every operator, function and aggregate of pgvector's halfvec.
 *
 * The layout, the text format '[1,2,3]' and the binary format (int16 dim,
 * int16 unused = 0, dim big-endian binary16 values) are pgvector's.  Every
 * halfvec this file builds has 1..HALFVEC_MAX_DIM finite elements.
 *
 * Arithmetic and distances run on the values widened to a vector (exactly:
 * every half is a float), through vector.c's own functions, so that both
 * types give the same answers and the same errors; a result that is a
 * halfvec is narrowed back, rounding to nearest even, and a value beyond
 * the half range (65504) is an overflow error, never an infinity.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "halfvec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/float.h"

/* ----------------------------------------------------------------
 * Building halfvecs, and checks
 * ----------------------------------------------------------------
 */

static HalfVector *
init_halfvec(int dim)
{
	HalfVector *v = (HalfVector *) palloc0(HALFVEC_SIZE(dim));

	Assert(dim >= 1 && dim <= HALFVEC_MAX_DIM);
	SET_VARSIZE(v, HALFVEC_SIZE(dim));
	v->dim = dim;
	return v;
}

/*
 * A vector narrowed to a halfvec.  An element beyond the half range is an
 * error: for text input it names the value, elsewhere (casts, arithmetic)
 * it is the server's float overflow error.
 */
static HalfVector *
narrow(const Vector *v, bool from_text)
{
	HalfVector *result = init_halfvec(v->dim);

	for (int i = 0; i < v->dim; i++)
	{
		bool		overflow;

		result->x[i] = float_to_half(v->x[i], &overflow);
		if (overflow && from_text)
		{
			char		buf[FLOAT_SHORTEST_DECIMAL_LEN];

			float_to_shortest_decimal_buf(v->x[i], buf);
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%s\" is out of range for type halfvec", buf)));
		}
		if (overflow)
			float_overflow_error();
	}
	return result;
}

/* A halfvec widened to a vector: exact */
static Vector *
widen(const HalfVector *h)
{
	Vector	   *result = InitVector(h->dim);

	for (int i = 0; i < h->dim; i++)
		result->x[i] = half_to_float(h->x[i]);
	return result;
}

static inline Datum
widened_arg(FunctionCallInfo fcinfo, int n)
{
	return PointerGetDatum(widen(PG_GETARG_HALFVEC_P(n)));
}

/* ----------------------------------------------------------------
 * Text and binary I/O, typmod
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(halfvec_in);
Datum
halfvec_in(PG_FUNCTION_ARGS)
{
	Vector	   *v = vector_from_text(PG_GETARG_CSTRING(0), "halfvec");

	check_expected_dim(PG_GETARG_INT32(2), v->dim);
	PG_RETURN_HALFVEC_P(narrow(v, true));
}

PG_FUNCTION_INFO_V1(halfvec_out);
Datum
halfvec_out(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(vector_out, widened_arg(fcinfo, 0));
}

PG_FUNCTION_INFO_V1(halfvec_typmod_in);
Datum
halfvec_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vector_typmod_parse(PG_GETARG_ARRAYTYPE_P(0), "halfvec",
										HALFVEC_MAX_DIM));
}

PG_FUNCTION_INFO_V1(halfvec_recv);
Datum
halfvec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int16		dim = (int16) pq_getmsgint(buf, sizeof(int16));
	int16		unused = (int16) pq_getmsgint(buf, sizeof(int16));
	int			remaining = buf->len - buf->cursor;
	HalfVector *result;

	if (dim < 1 || dim > HALFVEC_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary halfvec: dim is %d, not 1 to %d",
						dim, HALFVEC_MAX_DIM)));
	check_expected_dim(PG_GETARG_INT32(2), dim);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary halfvec: unused field is %d, not 0",
						unused)));
	if (remaining != dim * (int) sizeof(half))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary halfvec: dim is %d, so %d bytes of values are expected, not %d",
						dim, dim * (int) sizeof(half), remaining)));
	result = init_halfvec(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = (half) pq_getmsgint(buf, sizeof(half));
		if ((result->x[i] & 0x7C00) == 0x7C00)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s not allowed in halfvec",
							(result->x[i] & 0x3FF) ? "NaN" : "infinite value")));
	}
	PG_RETURN_HALFVEC_P(result);
}

PG_FUNCTION_INFO_V1(halfvec_send);
Datum
halfvec_send(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, v->dim);
	pq_sendint16(&buf, 0);
	for (int i = 0; i < v->dim; i++)
		pq_sendint16(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ----------------------------------------------------------------
 * Casts
 * ----------------------------------------------------------------
 */

/* halfvec(halfvec, typmod, explicit): the halfvec(n) length coercion */
PG_FUNCTION_INFO_V1(halfvec);
Datum
halfvec(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);

	check_expected_dim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_HALFVEC_P(v);
}

PG_FUNCTION_INFO_V1(halfvec_to_vector);
Datum
halfvec_to_vector(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);

	check_expected_dim(PG_GETARG_INT32(1), h->dim);
	PG_RETURN_VECTOR_P(widen(h));
}

PG_FUNCTION_INFO_V1(vector_to_halfvec);
Datum
vector_to_halfvec(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	check_expected_dim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_HALFVEC_P(narrow(v, false));
}

/* array_to_halfvec(integer[] | real[] | double precision[] | numeric[], ...) */
PG_FUNCTION_INFO_V1(array_to_halfvec);
Datum
array_to_halfvec(PG_FUNCTION_ARGS)
{
	Datum		v = DirectFunctionCall3(array_to_vector, PG_GETARG_DATUM(0),
										PG_GETARG_DATUM(1), PG_GETARG_DATUM(2));

	PG_RETURN_HALFVEC_P(narrow(DatumGetVector(v), false));
}

PG_FUNCTION_INFO_V1(halfvec_to_float4);
Datum
halfvec_to_float4(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall3(vector_to_float4, widened_arg(fcinfo, 0),
							   PG_GETARG_DATUM(1), PG_GETARG_DATUM(2));
}

/* ----------------------------------------------------------------
 * Functions and operators, through vector.c on the widened values
 * ----------------------------------------------------------------
 */

/* name(halfvec, halfvec) returning what vector.c's function returns */
#define HALFVEC_AS_VECTOR_2(name, vector_function) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	return DirectFunctionCall2(vector_function, widened_arg(fcinfo, 0), \
							   widened_arg(fcinfo, 1)); \
}

/* name(halfvec, halfvec) returning a halfvec */
#define HALFVEC_ARITHMETIC(name, vector_function) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	Datum		v = DirectFunctionCall2(vector_function, widened_arg(fcinfo, 0), \
										widened_arg(fcinfo, 1)); \
	PG_RETURN_HALFVEC_P(narrow(DatumGetVector(v), false)); \
}

HALFVEC_AS_VECTOR_2(halfvec_l2_distance, l2_distance)
HALFVEC_AS_VECTOR_2(halfvec_l2_squared_distance, vector_l2_squared_distance)
HALFVEC_AS_VECTOR_2(halfvec_inner_product, inner_product)
HALFVEC_AS_VECTOR_2(halfvec_negative_inner_product, vector_negative_inner_product)
HALFVEC_AS_VECTOR_2(halfvec_cosine_distance, cosine_distance)
HALFVEC_AS_VECTOR_2(halfvec_l1_distance, l1_distance)
HALFVEC_ARITHMETIC(halfvec_add, vector_add)
HALFVEC_ARITHMETIC(halfvec_sub, vector_sub)
HALFVEC_ARITHMETIC(halfvec_mul, vector_mul)
HALFVEC_ARITHMETIC(halfvec_concat, vector_concat)

PG_FUNCTION_INFO_V1(halfvec_vector_dims);
Datum
halfvec_vector_dims(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_HALFVEC_P(0)->dim);
}

PG_FUNCTION_INFO_V1(halfvec_l2_norm);
Datum
halfvec_l2_norm(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(vector_norm, widened_arg(fcinfo, 0));
}

PG_FUNCTION_INFO_V1(halfvec_l2_normalize);
Datum
halfvec_l2_normalize(PG_FUNCTION_ARGS)
{
	Datum		v = DirectFunctionCall1(l2_normalize, widened_arg(fcinfo, 0));

	PG_RETURN_HALFVEC_P(narrow(DatumGetVector(v), false));
}

PG_FUNCTION_INFO_V1(halfvec_binary_quantize);
Datum
halfvec_binary_quantize(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(binary_quantize, widened_arg(fcinfo, 0));
}

PG_FUNCTION_INFO_V1(halfvec_subvector);
Datum
halfvec_subvector(PG_FUNCTION_ARGS)
{
	Datum		v = DirectFunctionCall3(subvector, widened_arg(fcinfo, 0),
										PG_GETARG_DATUM(1), PG_GETARG_DATUM(2));

	PG_RETURN_HALFVEC_P(narrow(DatumGetVector(v), false));
}

/* Comparisons and btree support: vector_cmp's order on the same values */
static int
compare_args(FunctionCallInfo fcinfo)
{
	return DatumGetInt32(DirectFunctionCall2(vector_cmp, widened_arg(fcinfo, 0),
											 widened_arg(fcinfo, 1)));
}

VECTOR_BTREE_SUPPORT(halfvec, compare_args)

/* ----------------------------------------------------------------
 * Aggregates: avg keeps vector's float8[] state {count, sum_1, ...}
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(halfvec_accum);
Datum
halfvec_accum(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall2(vector_accum, PG_GETARG_DATUM(0),
							   widened_arg(fcinfo, 1));
}

PG_FUNCTION_INFO_V1(halfvec_avg);
Datum
halfvec_avg(PG_FUNCTION_ARGS)
{
	LOCAL_FCINFO(inner, 1);
	Datum		v;

	/* vector_avg returns NULL for no rows; call it so that it can */
	InitFunctionCallInfoData(*inner, NULL, 1, InvalidOid, NULL, NULL);
	inner->args[0].value = PG_GETARG_DATUM(0);
	inner->args[0].isnull = false;
	v = vector_avg(inner);
	if (inner->isnull)
		PG_RETURN_NULL();
	PG_RETURN_HALFVEC_P(narrow(DatumGetVector(v), false));
}
