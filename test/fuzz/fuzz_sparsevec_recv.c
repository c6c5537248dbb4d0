/*
 * fuzz_sparsevec_recv.c
 *		libFuzzer harness of sparsevec_recv and sparsevec_send, the binary
 *		I/O of the `sparsevec` type (src/sparsevec.c, built outside the
 *		server with src/vector.c, src/halfvec.c, src/bit.c and
 *		test/fuzz/pg_stubs.c).
 *
 * Each input is a message: a StringInfo over exactly the input bytes (with
 * the NUL after them that the server always adds), read with typmod -1
 * and a few fixed typmods.  The format is int32 dim, int32 nnz, int32
 * unused, nnz int32 0-based indices and nnz float4 values, all big-endian.
 * An input that starts with '~' is a recipe for a long message: bytes 1-4
 * are the dim field, bytes 5-6 a big-endian nnz (mod 20,001), byte 7 an
 * index stride (indices 0, s, 2s, ...), byte 8 a signed adjustment of the
 * length, and the rest a pattern of value bytes, repeated (1.0 when
 * empty).  That reaches the 16,000-element limit and off-by-one lengths
 * without 128 kB inputs.
 *
 * Oracles:
 * - no crash, no read outside the message, no leak, no undefined
 *   behaviour (ASan, LSan, UBSan);
 * - a message shorter than the 12-byte header fails with 08P01 (from
 *   pq_getmsgint, as for vector_recv); any other error is 22P03 or 22000;
 * - the message is accepted exactly when it is valid: dim in 1..10^9, nnz
 *   in 0..16000, unused 0, 8 * nnz bytes after the header, the typmod
 *   matched, indices strictly increasing in [0, dim), values finite; an
 *   error about the header (including its length) is 22P03, a typmod
 *   mismatch 22000;
 * - an accepted sparsevec is well formed (fuzz_check_sparsevec), consumed
 *   the whole message, and holds exactly its elements less the zeros;
 * - sparsevec_send gives back the message when it has no zero value, and
 *   in any case a message that sparsevec_recv reads to the same bytes;
 * - sparsevec(n) accepts exactly the messages plain sparsevec reads with n
 *   dimensions;
 * - no palloc request above 1 MB.
 */
#include "fuzz_sparsevec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern Datum sparsevec_recv(PG_FUNCTION_ARGS);
extern Datum sparsevec_send(PG_FUNCTION_ARGS);

static const int recv_errors[] = {
	ERRCODE_DATA_EXCEPTION,		/* 22000: typmod, index range, NaN, inf */
	ERRCODE_INVALID_BINARY_REPRESENTATION,	/* 22P03 */
};

#define HEADER 12
#define MAX_NNZ_RECIPE 20001

/* A big-endian int32 of a message */
FUZZ_NO_COVERAGE static int32
get32(const uint8_t *p)
{
	return (int32) (((uint32) p[0] << 24) | ((uint32) p[1] << 16) |
					((uint32) p[2] << 8) | (uint32) p[3]);
}

FUZZ_NO_COVERAGE static void
put32(uint8_t *p, uint32 x)
{
	p[0] = (uint8_t) (x >> 24);
	p[1] = (uint8_t) (x >> 16);
	p[2] = (uint8_t) (x >> 8);
	p[3] = (uint8_t) x;
}

FUZZ_NO_COVERAGE static float
get_float(const uint8_t *p)
{
	uint32		x = (uint32) get32(p);
	float		f;

	memcpy(&f, &x, sizeof(f));
	return f;
}

/* The message an input stands for, malloc'd, with its length */
FUZZ_NO_COVERAGE static uint8_t *
message_of(const uint8_t *data, size_t size, size_t *len)
{
	uint8_t    *msg;

	if (size >= 9 && data[0] == '~')
	{
		size_t		nnz = (((size_t) data[5] << 8) | data[6]) % MAX_NNZ_RECIPE;
		uint32		stride = data[7];
		long		body = 8L * (long) nnz + (int8) data[8];
		const uint8_t *pattern = data + 9;
		size_t		plen = size - 9;
		static const uint8_t one[] = {0x3F, 0x80, 0x00, 0x00};
		uint8_t    *p;

		if (plen == 0)
		{
			pattern = one;
			plen = sizeof(one);
		}
		if (body < 0)
			body = 0;
		*len = HEADER + (size_t) body;
		msg = malloc(*len + 8 * nnz + 1);
		memcpy(msg, data + 1, 4);
		put32(msg + 4, (uint32) nnz);
		put32(msg + 8, 0);
		p = msg + HEADER;
		for (size_t i = 0; i < nnz; i++, p += 4)
			put32(p, (uint32) i * stride);
		/* values, then whatever a positive adjustment adds */
		for (size_t i = 0; p < msg + *len; i++)
			*p++ = pattern[i % plen];
		return msg;
	}
	*len = size;
	msg = malloc(size + 1);
	memcpy(msg, data, size);
	return msg;
}

/*
 * What sparsevec_recv must make of a message of at least HEADER bytes
 * under a typmod: 0 for acceptance, else the SQLSTATE that the header
 * checks imply, or -1 for "22P03 or 22000" (an index or value that is
 * wrong)
 */
FUZZ_NO_COVERAGE static int
expected_outcome(const uint8_t *msg, size_t len, int32 typmod)
{
	int32		dim = get32(msg);
	int32		nnz = get32(msg + 4);
	const uint8_t *indices = msg + HEADER;
	const uint8_t *values;

	if (dim < 1 || dim > SPARSEVEC_MAX_DIM || nnz < 0 ||
		nnz > SPARSEVEC_MAX_NNZ || get32(msg + 8) != 0 ||
		len - HEADER != 8 * (size_t) nnz)
		return ERRCODE_INVALID_BINARY_REPRESENTATION;
	if (typmod != -1 && typmod != dim)
		return ERRCODE_DATA_EXCEPTION;
	values = indices + 4 * (size_t) nnz;
	for (int i = 0; i < nnz; i++)
	{
		int32		index = get32(indices + 4 * i);

		if (index < 0 || index >= dim ||
			(i > 0 && index <= get32(indices + 4 * (i - 1))) ||
			!isfinite(get_float(values + 4 * i)))
			return -1;
	}
	return 0;
}

/* The accepted sparsevec is the message's elements less its zeros */
FUZZ_NO_COVERAGE static bool
holds_message(const SparseVector *v, const uint8_t *msg, bool *zeros)
{
	int32		nnz = get32(msg + 4);
	const uint8_t *indices = msg + HEADER;
	const uint8_t *values = indices + 4 * (size_t) nnz;
	const float *vvalues = SPARSEVEC_VALUES(v);
	int			k = 0;

	*zeros = false;
	if (v->dim != get32(msg))
		return false;
	for (int i = 0; i < nnz; i++)
	{
		float		value = get_float(values + 4 * i);

		if (value == 0)
		{
			*zeros = true;
			continue;
		}
		if (k >= v->nnz || v->indices[k] != get32(indices + 4 * i) ||
			memcmp(&vvalues[k], &value, sizeof(float)) != 0)
			return false;
		k++;
	}
	return k == v->nnz;
}

/* The message as the server hands it over: data[len] is NUL */
static void
init_message(StringInfo buf, const uint8_t *msg, size_t len)
{
	buf->data = palloc(len + 1);
	memcpy(buf->data, msg, len);
	buf->data[len] = '\0';
	buf->len = (int) len;
	buf->maxlen = (int) len + 1;
	buf->cursor = 0;
}

static void
check_send(const SparseVector *v, const uint8_t *msg, size_t len, bool zeros)
{
	Datum		sent;
	const bytea *s;
	size_t		slen;
	StringInfoData buf;
	Datum		again;
	const SparseVector *w;

	if (!stub_call1(sparsevec_send, PointerGetDatum(v), &sent))
		stub_fail("sparsevec_send failed: %s", stub_error_message);
	s = (const bytea *) DatumGetPointer(sent);
	slen = VARSIZE(s) - VARHDRSZ;
	if (!zeros && (slen != len || memcmp(VARDATA(s), msg, len) != 0))
		stub_fail("sparsevec_send does not give back the received bytes");
	init_message(&buf, (const uint8_t *) VARDATA(s), slen);
	if (!stub_call3(sparsevec_recv, PointerGetDatum(&buf),
					ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1), &again))
		stub_fail("sparsevec_send's message does not read back: %s",
				  stub_error_message);
	w = (const SparseVector *) DatumGetPointer(again);
	if (VARSIZE(w) != VARSIZE(v) || memcmp(w, v, VARSIZE(v)) != 0)
		stub_fail("sparsevec_send's message reads back as a different sparsevec");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		len;
	uint8_t    *msg = message_of(data, size, &len);
	int			dim_any = 0;

	for (int t = 0; t < FUZZ_SPARSE_NTYPMODS; t++)
	{
		int32		typmod = fuzz_sparse_typmods[t];
		StringInfoData buf;
		Datum		result;
		bool		ok;
		int			expected;
		char		state[6];

		init_message(&buf, msg, len);
		stub_largest_request = 0;
		ok = stub_call3(sparsevec_recv, PointerGetDatum(&buf),
						ObjectIdGetDatum(InvalidOid), Int32GetDatum(typmod),
						&result);
		if (len < HEADER)
		{
			if (ok || stub_error_code != ERRCODE_PROTOCOL_VIOLATION)
				stub_fail("sparsevec_recv: a %zu-byte message gave %s, not 08P01",
						  len, ok ? "a sparsevec" :
						  stub_sqlstate(stub_error_code, state));
			stub_reset();
			continue;
		}

		expected = expected_outcome(msg, len, typmod);
		if (ok)
		{
			const SparseVector *v = (const SparseVector *) DatumGetPointer(result);
			bool		zeros;

			if (expected != 0)
				stub_fail("sparsevec_recv accepted an invalid message (typmod %d)",
						  typmod);
			fuzz_check_sparsevec(v, typmod, "sparsevec_recv");
			if (buf.cursor != buf.len)
				stub_fail("sparsevec_recv left %d of %d bytes unread",
						  buf.len - buf.cursor, buf.len);
			if (!holds_message(v, msg, &zeros))
				stub_fail("sparsevec_recv's result is not the message's elements");
			/* the same bytes under any typmod (holds_message): send once */
			if (typmod == -1)
				check_send(v, msg, len, zeros);
		}
		else
		{
			fuzz_check_error(recv_errors, lengthof(recv_errors), "sparsevec_recv");
			if (expected == 0)
				stub_fail("sparsevec_recv rejected a valid message (typmod %d): %s %s",
						  typmod, stub_sqlstate(stub_error_code, state),
						  stub_error_message);
			if (expected > 0 && stub_error_code != expected)
				stub_fail("sparsevec_recv raised %s (%s), not %s",
						  stub_sqlstate(stub_error_code, state),
						  stub_error_message,
						  expected == ERRCODE_DATA_EXCEPTION ? "22000" : "22P03");
		}

		if (typmod == -1)
			dim_any = ok ? ((const SparseVector *) DatumGetPointer(result))->dim : 0;
		else
			fuzz_check_typmod_of("sparsevec", typmod, dim_any, ok,
								 stub_error_code, "sparsevec_recv");
		fuzz_check_memory("sparsevec_recv");
		stub_reset();
	}
	free(msg);
	return 0;
}
