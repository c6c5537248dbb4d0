/*
 * fuzz_sparsevec_in.c
 *		libFuzzer harness of sparsevec_in and sparsevec_out, the text I/O of
 *		the `sparsevec` type (src/sparsevec.c, built outside the server with
 *		src/vector.c, src/halfvec.c, src/bit.c and test/fuzz/pg_stubs.c).
 *
 * Each input is a literal (a NUL-terminated copy of the bytes, cut at the
 * first NUL as a cstring would be) read with typmod -1 and a few fixed
 * typmods.  An input that starts with '*' is a recipe for a long literal:
 * bytes 1-2 are a big-endian element count (mod 20,001), byte 3 an index
 * stride, and the rest, up to a NUL, one value (at most 32 bytes of it):
 * "{1:v,1+s:v,1+2s:v,...}" followed by what comes after the NUL, or, with
 * no NUL, by "/" and the last index.  That reaches the 16,000-element limit
 * without 300 kB inputs.  Literals longer than 4 kB are tried with typmod
 * -1 only (the typmod is checked apart from the elements, and parsing a
 * long literal is what costs).
 *
 * Oracles:
 * - no crash, no out-of-bounds access, no leak, no undefined behaviour
 *   (ASan, LSan, UBSan);
 * - an error carries a documented SQLSTATE (22P02, 22000, 22003, 54000);
 * - an accepted sparsevec is well formed (fuzz_check_sparsevec: dims
 *   1..10^9, at most 16,000 elements, indices strictly increasing in
 *   [0, dim), finite non-zero values, varlena size, unused 0) and honours
 *   the typmod;
 * - sparsevec(n) accepts exactly the literals that plain sparsevec reads
 *   with n dimensions;
 * - sparsevec_out's text reads back to the same bytes;
 * - no palloc request above 1 MB.
 */
#include "fuzz_sparsevec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern Datum sparsevec_in(PG_FUNCTION_ARGS);
extern Datum sparsevec_out(PG_FUNCTION_ARGS);

static const int in_errors[] = {
	ERRCODE_INVALID_TEXT_REPRESENTATION,	/* 22P02 */
	ERRCODE_DATA_EXCEPTION,		/* 22000 */
	ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, /* 22003 */
	ERRCODE_PROGRAM_LIMIT_EXCEEDED, /* 54000 */
};

#define MAX_REPEAT 20001
#define MAX_RECIPE_VALUE 32

/* Write a non-negative number in decimal at p; return the end */
FUZZ_NO_COVERAGE static char *
put_decimal(char *p, long n)
{
	char		digits[24];
	int			k = 0;

	do
	{
		digits[k++] = (char) ('0' + n % 10);
		n /= 10;
	} while (n > 0);
	while (k > 0)
		*p++ = digits[--k];
	return p;
}

/* The literal an input stands for, malloc'd and NUL-terminated */
FUZZ_NO_COVERAGE static char *
literal_of(const uint8_t *data, size_t size)
{
	char	   *lit;

	if (size >= 4 && data[0] == '*')
	{
		size_t		count = (((size_t) data[1] << 8) | data[2]) % MAX_REPEAT;
		long		stride = data[3];
		const char *value = (const char *) data + 4;
		size_t		rest = size - 4;
		size_t		vlen = strnlen(value, rest);
		const char *tail = NULL;
		size_t		tlen = 0;
		char		dimtail[32];
		size_t		len;
		char	   *p;

		if (vlen < rest)
		{
			/* a NUL: what follows it is written after the '}' */
			tail = value + vlen + 1;
			tlen = strnlen(tail, rest - vlen - 1);
		}
		else
		{
			dimtail[0] = '/';
			tail = dimtail;
			tlen = put_decimal(dimtail + 1,
							   count > 0 ? 1 + (long) (count - 1) * stride : 1) - dimtail;
		}
		if (vlen > MAX_RECIPE_VALUE)
			vlen = MAX_RECIPE_VALUE;

		/* each element: up to 7 digits, ':', the value and ',' */
		len = 2 + count * (vlen + 9) + tlen;
		lit = malloc(len + 1);
		p = lit;
		*p++ = '{';
		for (size_t i = 0; i < count; i++)
		{
			/* (port.h's sprintf would cost more than the parse itself) */
			if (i > 0)
				*p++ = ',';
			p = put_decimal(p, 1 + (long) i * stride);
			*p++ = ':';
			memcpy(p, value, vlen);
			p += vlen;
		}
		*p++ = '}';
		memcpy(p, tail, tlen);
		p[tlen] = '\0';
		return lit;
	}
	lit = malloc(size + 1);
	memcpy(lit, data, size);
	lit[size] = '\0';
	return lit;
}

static void
check_round_trip(const SparseVector *v)
{
	Datum		text;
	Datum		again;
	const SparseVector *w;

	if (!stub_call1(sparsevec_out, PointerGetDatum(v), &text))
		stub_fail("sparsevec_out failed on an accepted sparsevec: %s",
				  stub_error_message);
	if (!stub_call3(sparsevec_in, text, ObjectIdGetDatum(InvalidOid),
					Int32GetDatum(-1), &again))
		stub_fail("sparsevec_out's text \"%.200s\" does not read back: %s",
				  DatumGetCString(text), stub_error_message);
	w = (const SparseVector *) DatumGetPointer(again);
	if (VARSIZE(w) != VARSIZE(v) || memcmp(w, v, VARSIZE(v)) != 0)
		stub_fail("\"%.200s\" reads back as a different sparsevec",
				  DatumGetCString(text));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *lit = literal_of(data, size);
	bool		long_lit = strlen(lit) > 4096;
	int			dim_any = 0;

	for (int t = 0; t < FUZZ_SPARSE_NTYPMODS; t++)
	{
		int32		typmod = fuzz_sparse_typmods[t];
		Datum		result;
		bool		ok;

		/*
		 * long literals (recipes): plain sparsevec only.  Parsing is what
		 * costs, and the typmod is checked apart from the elements.
		 */
		if (typmod != -1 && long_lit)
			continue;
		stub_largest_request = 0;
		ok = stub_call3(sparsevec_in, CStringGetDatum(lit),
						ObjectIdGetDatum(InvalidOid), Int32GetDatum(typmod),
						&result);
		if (ok)
			fuzz_check_sparsevec((SparseVector *) DatumGetPointer(result),
								 typmod, "sparsevec_in");
		else
			fuzz_check_error(in_errors, lengthof(in_errors), "sparsevec_in");

		if (typmod == -1)
		{
			if (ok)
			{
				dim_any = ((SparseVector *) DatumGetPointer(result))->dim;
				check_round_trip((SparseVector *) DatumGetPointer(result));
			}
		}
		else
			fuzz_check_typmod_of("sparsevec", typmod, dim_any, ok,
								 stub_error_code, "sparsevec_in");
		fuzz_check_memory("sparsevec_in");
		stub_reset();
	}
	free(lit);
	return 0;
}
