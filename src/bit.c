/*
 * bit.c
 *		pgvector's functions on PostgreSQL's own `bit` type: binary_quantize
 *		(a vector to one bit per dimension, its sign), and the Hamming and
 *		Jaccard distances behind the operators <~> and <%>, with pgvector's
 *		names and results, so that its binary-quantization recipes run
 *		unchanged.
 */
#include "postgres.h"

#include "fmgr.h"
#include "port/pg_bitutils.h"
#include "utils/varbit.h"
#include "vector.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"				/* VARSIZE, which varbit.h uses */
#endif

PG_FUNCTION_INFO_V1(binary_quantize);

/* Bit i (most significant first, as bit strings print) is set where x[i] > 0 */
Datum
binary_quantize(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	VarBit	   *result = palloc0(VARBITTOTALLEN(v->dim));
	bits8	   *bits = VARBITS(result);

	SET_VARSIZE(result, VARBITTOTALLEN(v->dim));
	VARBITLEN(result) = v->dim;
	for (int i = 0; i < v->dim; i++)
		if (v->x[i] > 0)
			bits[i / BITS_PER_BYTE] |= 0x80 >> (i % BITS_PER_BYTE);
	PG_RETURN_VARBIT_P(result);
}

static void
check_same_length(const VarBit *a, const VarBit *b)
{
	if (VARBITLEN(a) != VARBITLEN(b))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different bit lengths %d and %d",
						VARBITLEN(a), VARBITLEN(b))));
}

/*
 * Set bits of a AND b, or of a XOR b, over nbytes bytes.  The padding bits
 * after the last one of a bit string are always zero, so whole bytes can
 * be counted.
 */
static uint64
count_common(const bits8 *a, const bits8 *b, int nbytes, bool xor)
{
	uint64		n = 0;
	int			i = 0;

	for (; i + (int) sizeof(uint64) <= nbytes; i += sizeof(uint64))
	{
		uint64		x;
		uint64		y;

		memcpy(&x, a + i, sizeof(uint64));
		memcpy(&y, b + i, sizeof(uint64));
		n += pg_popcount64(xor ? x ^ y : x & y);
	}
	for (; i < nbytes; i++)
		n += pg_number_of_ones[xor ? a[i] ^ b[i] : a[i] & b[i]];
	return n;
}

PG_FUNCTION_INFO_V1(hamming_distance);

/* The number of positions where the bits differ */
Datum
hamming_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);

	check_same_length(a, b);
	PG_RETURN_FLOAT8((double) count_common(VARBITS(a), VARBITS(b),
										   VARBITBYTES(a), true));
}

PG_FUNCTION_INFO_V1(jaccard_distance);

/*
 * 1 - |a AND b| / |a OR b|; two strings without a common set bit
 * (including two of zeros) are at distance 1, as in pgvector
 */
Datum
jaccard_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);
	int			nbytes;
	uint64		both;
	uint64		in_a;
	uint64		in_b;

	check_same_length(a, b);
	nbytes = VARBITBYTES(a);
	both = count_common(VARBITS(a), VARBITS(b), nbytes, false);
	if (both == 0)
		PG_RETURN_FLOAT8(1.0);
	in_a = pg_popcount((const char *) VARBITS(a), nbytes);
	in_b = pg_popcount((const char *) VARBITS(b), nbytes);
	PG_RETURN_FLOAT8(1.0 - (double) both / (double) (in_a + in_b - both));
}
