/*
 * fuzz_halfvec_in.c
 *		libFuzzer harness of halfvec_in and halfvec_out, the text I/O of the
 *		`halfvec` type, and of halfvec_send and halfvec_recv on what
 *		halfvec_in accepts (src/halfvec.c, built outside the server with
 *		src/vector.c, src/sparsevec.c, src/bit.c and test/fuzz/pg_stubs.c).
 *
 * Each input is a literal (a NUL-terminated copy of the bytes, cut at the
 * first NUL as a cstring would be) read with typmod -1 and a few fixed
 * typmods.  An input that starts with '*' is a recipe for a long literal,
 * as for fuzz_vector_in: bytes 1-2 are a big-endian element count (mod
 * 20,001) and the rest is one element, repeated: "[e,e,...,e]".  Literals
 * longer than 4 kB are tried with typmod -1 only (the typmod is checked
 * apart from the elements, and parsing a long literal is what costs).
 *
 * Oracles:
 * - no crash, no out-of-bounds access, no leak, no undefined behaviour
 *   (ASan, LSan, UBSan);
 * - an error carries a documented SQLSTATE (22P02, 22000, 22003, 54000);
 * - an accepted halfvec is well formed: 1..16000 dimensions, varlena size
 *   8 + 2 * dim, unused 0, no infinity or NaN (exponent bits 0x1F), and
 *   the typmod honoured;
 * - halfvec_in agrees with vector_in, which reads the same syntax: where
 *   vector_in fails, halfvec_in fails with the same SQLSTATE; where it
 *   succeeds, halfvec_in fails (with 22003) exactly when an element rounds
 *   beyond 65504, and otherwise holds each element rounded to the nearest
 *   half, ties to even (computed here with nearbyint, not bit tricks);
 * - halfvec(n) accepts exactly the literals that plain halfvec reads with
 *   n dimensions;
 * - halfvec_out's text reads back to the same bytes; halfvec_send's message
 *   is the documented layout and halfvec_recv reads it to the same bytes;
 * - no palloc request above 1 MB.
 */
#include "fuzz_common.h"
#include "halfvec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern Datum halfvec_in(PG_FUNCTION_ARGS);
extern Datum halfvec_out(PG_FUNCTION_ARGS);
extern Datum halfvec_recv(PG_FUNCTION_ARGS);
extern Datum halfvec_send(PG_FUNCTION_ARGS);
extern Datum vector_in(PG_FUNCTION_ARGS);

static const int in_errors[] = {
	ERRCODE_INVALID_TEXT_REPRESENTATION,	/* 22P02 */
	ERRCODE_DATA_EXCEPTION,		/* 22000 */
	ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, /* 22003 */
	ERRCODE_PROGRAM_LIMIT_EXCEEDED, /* 54000 */
};

#define MAX_REPEAT 20001

/* The literal an input stands for, malloc'd and NUL-terminated */
FUZZ_NO_COVERAGE static char *
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

/*
 * The half nearest to a finite float, ties to even, by arithmetic on
 * doubles (scaling by a power of two is exact, nearbyint rounds to even);
 * *overflow when it is beyond the largest half, 65504
 */
FUZZ_NO_COVERAGE static half
nearest_half(float f, bool *overflow)
{
	double		d = fabs((double) f);
	half		sign = signbit(f) ? 0x8000 : 0;
	double		n;
	int			e;

	*overflow = false;
	if (d < ldexp(1.0, -14))
	{
		/* subnormal halves are multiples of 2^-24; 1024 of them is 2^-14 */
		return sign | (half) nearbyint(ldexp(d, 24));
	}
	(void) frexp(d, &e);		/* 2^(e-1) <= d < 2^e */
	n = nearbyint(ldexp(d, 11 - e));	/* 1024 <= n <= 2048 */
	if (n == 2048)
	{
		n = 1024;
		e++;
	}
	if (e + 14 > 30)
	{
		*overflow = true;
		return 0;
	}
	return sign | (half) ((e + 14) << 10) | (half) (n - 1024);
}

/* An accepted halfvec: well formed in every way */
FUZZ_NO_COVERAGE static void
check_halfvec(const HalfVector *h, int32 typmod)
{
	if (VARATT_IS_EXTENDED(h))
		stub_fail("halfvec_in: result has no plain 4-byte varlena header");
	if (h->dim < 1 || h->dim > HALFVEC_MAX_DIM)
		stub_fail("halfvec_in: result has %d dimensions", h->dim);
	if (VARSIZE(h) != 8 + 2 * (size_t) h->dim)
		stub_fail("halfvec_in: varlena size %u for %d dimensions",
				  (unsigned) VARSIZE(h), h->dim);
	if (h->unused != 0)
		stub_fail("halfvec_in: unused field is %d", h->unused);
	if (typmod != -1 && h->dim != typmod)
		stub_fail("halfvec_in: typmod %d accepted %d dimensions", typmod, h->dim);
	for (int i = 0; i < h->dim; i++)
		if ((h->x[i] & 0x7C00) == 0x7C00)
			stub_fail("halfvec_in: element %d is 0x%04X, not finite", i, h->x[i]);
}

/* halfvec_in with typmod -1 against vector_in on the same literal */
FUZZ_NO_COVERAGE static void
check_against_vector(const char *lit, bool ok, int code, const HalfVector *h)
{
	Datum		vd;
	const Vector *v;
	int			overflow_at = -1;
	char		state[6];
	char		vstate[6];

	if (!stub_call3(vector_in, CStringGetDatum(lit), ObjectIdGetDatum(InvalidOid),
					Int32GetDatum(-1), &vd))
	{
		if (ok)
			stub_fail("halfvec_in accepted what vector_in rejects: %s",
					  stub_error_message);
		if (code != stub_error_code)
			stub_fail("halfvec_in raised %s where vector_in raises %s (%s)",
					  stub_sqlstate(code, state),
					  stub_sqlstate(stub_error_code, vstate), stub_error_message);
		return;
	}
	v = (const Vector *) DatumGetPointer(vd);
	for (int i = 0; i < v->dim; i++)
	{
		bool		overflow;
		half		expected = nearest_half(v->x[i], &overflow);

		if (overflow)
		{
			overflow_at = i;
			break;
		}
		if (ok && h->x[i] != expected)
			stub_fail("halfvec_in: element %d, %.9g, is 0x%04X, not 0x%04X",
					  i, v->x[i], h->x[i], expected);
	}
	if (ok && overflow_at >= 0)
		stub_fail("halfvec_in accepted element %d, %.9g, beyond the half range",
				  overflow_at, v->x[overflow_at]);
	if (!ok && overflow_at < 0)
		stub_fail("halfvec_in rejected what vector_in reads, all within the half range: %s %s",
				  stub_sqlstate(code, state), stub_error_message);
	if (!ok && code != ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE)
		stub_fail("halfvec_in: an element beyond 65504 raised %s, not 22003",
				  stub_sqlstate(code, state));
	if (ok && v->dim != h->dim)
		stub_fail("halfvec_in read %d dimensions, vector_in %d", h->dim, v->dim);
}

FUZZ_NO_COVERAGE static void
check_round_trips(const HalfVector *h)
{
	Datum		text;
	Datum		again;
	Datum		sent;
	const bytea *s;
	const uint8_t *b;
	StringInfoData buf;
	const HalfVector *w;

	if (!stub_call1(halfvec_out, PointerGetDatum(h), &text))
		stub_fail("halfvec_out failed on an accepted halfvec: %s", stub_error_message);
	if (!stub_call3(halfvec_in, text, ObjectIdGetDatum(InvalidOid),
					Int32GetDatum(-1), &again))
		stub_fail("halfvec_out's text \"%.200s\" does not read back: %s",
				  DatumGetCString(text), stub_error_message);
	w = (const HalfVector *) DatumGetPointer(again);
	if (VARSIZE(w) != VARSIZE(h) || memcmp(w, h, VARSIZE(h)) != 0)
		stub_fail("\"%.200s\" reads back as a different halfvec",
				  DatumGetCString(text));

	/* int16 dim, int16 unused, dim binary16 values, all big-endian */
	if (!stub_call1(halfvec_send, PointerGetDatum(h), &sent))
		stub_fail("halfvec_send failed: %s", stub_error_message);
	s = (const bytea *) DatumGetPointer(sent);
	b = (const uint8_t *) VARDATA(s);
	if (VARSIZE(s) - VARHDRSZ != 4 + 2 * (size_t) h->dim)
		stub_fail("halfvec_send: %u bytes for %d dimensions",
				  (unsigned) (VARSIZE(s) - VARHDRSZ), h->dim);
	if (((b[0] << 8) | b[1]) != h->dim || b[2] != 0 || b[3] != 0)
		stub_fail("halfvec_send: wrong header");
	for (int i = 0; i < h->dim; i++)
		if (((b[4 + 2 * i] << 8) | b[5 + 2 * i]) != h->x[i])
			stub_fail("halfvec_send: element %d is not sent as it is", i);

	buf.data = palloc(VARSIZE(s) - VARHDRSZ + 1);
	memcpy(buf.data, b, VARSIZE(s) - VARHDRSZ);
	buf.len = (int) (VARSIZE(s) - VARHDRSZ);
	buf.data[buf.len] = '\0';
	buf.maxlen = buf.len + 1;
	buf.cursor = 0;
	if (!stub_call3(halfvec_recv, PointerGetDatum(&buf),
					ObjectIdGetDatum(InvalidOid), Int32GetDatum(h->dim), &again))
		stub_fail("halfvec_send's message does not read back: %s",
				  stub_error_message);
	w = (const HalfVector *) DatumGetPointer(again);
	if (buf.cursor != buf.len)
		stub_fail("halfvec_recv left %d of %d bytes unread",
				  buf.len - buf.cursor, buf.len);
	if (VARSIZE(w) != VARSIZE(h) || memcmp(w, h, VARSIZE(h)) != 0)
		stub_fail("halfvec_send's message reads back as a different halfvec");
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

		/*
		 * long literals (recipes): plain halfvec only.  Parsing is what
		 * costs, and the typmod is checked apart from the elements.
		 */
		if (typmod != -1 && long_lit)
			continue;
		stub_largest_request = 0;
		ok = stub_call3(halfvec_in, CStringGetDatum(lit),
						ObjectIdGetDatum(InvalidOid), Int32GetDatum(typmod),
						&result);
		if (ok)
			check_halfvec((HalfVector *) DatumGetPointer(result), typmod);
		else
			fuzz_check_error(in_errors, lengthof(in_errors), "halfvec_in");

		if (typmod == -1)
		{
			check_against_vector(lit, ok, stub_error_code,
								 ok ? (HalfVector *) DatumGetPointer(result) : NULL);
			if (ok)
			{
				dim_any = ((HalfVector *) DatumGetPointer(result))->dim;
				check_round_trips((HalfVector *) DatumGetPointer(result));
			}
		}
		else
			fuzz_check_typmod_of("halfvec", typmod, dim_any, ok,
								 stub_error_code, "halfvec_in");
		fuzz_check_memory("halfvec_in");
		stub_reset();
	}
	free(lit);
	return 0;
}
