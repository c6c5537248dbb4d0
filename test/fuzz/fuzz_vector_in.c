/*
 * fuzz_vector_in.c
 *		libFuzzer harness of vector_in, the text input function of the
 *		`vector` type (src/vector.c, built outside the server with
 *		test/fuzz/pg_stubs.c).
 *
 * Each input is a literal (a NUL-terminated copy of the bytes, cut at the
 * first NUL as a cstring would be) read with typmod -1 and a few fixed
 * typmods.  An input that starts with '*' is a recipe for a long literal:
 * bytes 1-2 are a big-endian element count (mod 20,001) and the rest is
 * one element, repeated: "[e,e,...,e]".  That reaches the 16,000-dimension
 * limit without 32 kB inputs.  Literals longer than 4 kB are tried with
 * typmods -1 and 16000 only.
 *
 * Oracles:
 * - no crash, no out-of-bounds access, no leak (ASan, LSan);
 * - an error carries a documented SQLSTATE (22P02, 22000, 22003, 54000);
 * - an accepted vector is well formed (dims 1..16000, finite elements,
 *   varlena size) and honours the typmod;
 * - vector(n) accepts exactly the literals that plain vector reads with n
 *   dimensions;
 * - vector_out's text reads back to the same bytes (shortest round trip).
 */
#include "fuzz_common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern Datum vector_in(PG_FUNCTION_ARGS);
extern Datum vector_out(PG_FUNCTION_ARGS);

static const int in_errors[] = {
	ERRCODE_INVALID_TEXT_REPRESENTATION,	/* 22P02 */
	ERRCODE_DATA_EXCEPTION,		/* 22000 */
	ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, /* 22003 */
	ERRCODE_PROGRAM_LIMIT_EXCEEDED, /* 54000 */
};

#define MAX_REPEAT 20001

/* The literal an input stands for, malloc'd and NUL-terminated */
static char *
literal_of(const uint8_t *data, size_t size)
{
	char	   *lit;

	if (size >= 3 && data[0] == '*')
	{
		size_t		count = (((size_t) data[1] << 8) | data[2]) % MAX_REPEAT;
		size_t		elen = strnlen((const char *) data + 3, size - 3);
		size_t		len = 2 + count * (elen + 1);
		char	   *p;

		lit = malloc(len + 1);
		p = lit;
		*p++ = '[';
		for (size_t i = 0; i < count; i++)
		{
			if (i > 0)
				*p++ = ',';
			memcpy(p, data + 3, elen);
			p += elen;
		}
		*p++ = ']';
		*p = '\0';
		return lit;
	}
	lit = malloc(size + 1);
	memcpy(lit, data, size);
	lit[size] = '\0';
	return lit;
}

static void
check_round_trip(const Vector *v)
{
	Datum		text;
	Datum		again;
	const Vector *w;

	if (!stub_call1(vector_out, PointerGetDatum(v), &text))
		stub_fail("vector_out failed on an accepted vector: %s", stub_error_message);
	if (!stub_call3(vector_in, text, ObjectIdGetDatum(InvalidOid),
					Int32GetDatum(-1), &again))
		stub_fail("vector_out's text \"%.200s\" does not read back: %s",
				  DatumGetCString(text), stub_error_message);
	w = (const Vector *) DatumGetPointer(again);
	if (VARSIZE(w) != VARSIZE(v) || memcmp(w, v, VARSIZE(v)) != 0)
		stub_fail("\"%.200s\" reads back as a different vector",
				  DatumGetCString(text));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *lit = literal_of(data, size);
	bool		long_lit = strlen(lit) > 4096;
	int			dim_any = 0;

	for (int t = 0; t < FUZZ_NTYPMODS; t++)
	{
		int32		typmod = fuzz_typmods[t];
		Datum		result;
		bool		ok;

		/* long literals: the small typmods cannot match, spare the time */
		if (typmod != -1 && typmod != VECTOR_MAX_DIM && long_lit)
			continue;
		stub_largest_request = 0;
		ok = stub_call3(vector_in, CStringGetDatum(lit),
						ObjectIdGetDatum(InvalidOid), Int32GetDatum(typmod),
						&result);
		if (ok)
			fuzz_check_vector((Vector *) DatumGetPointer(result), typmod, "vector_in");
		else
			fuzz_check_error(in_errors, lengthof(in_errors), "vector_in");
		fuzz_check_memory("vector_in");

		if (typmod == -1)
		{
			if (ok)
			{
				dim_any = ((Vector *) DatumGetPointer(result))->dim;
				check_round_trip((Vector *) DatumGetPointer(result));
			}
		}
		else
			fuzz_check_typmod(typmod, dim_any, ok, stub_error_code, "vector_in");
		stub_reset();
	}
	free(lit);
	return 0;
}
