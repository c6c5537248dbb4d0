/*
 * fuzz_vector_recv.c
 *		libFuzzer harness of vector_recv, the binary receive function of the
 *		`vector` type (src/vector.c, built outside the server with
 *		test/fuzz/pg_stubs.c).
 *
 * Each input is a message: a StringInfo over exactly the input bytes (with
 * the NUL after them that the server always adds), read with typmod -1
 * and a few fixed typmods.  An input that starts with '~' is a recipe for
 * a long message: bytes 1-2 are the dimension field, bytes 3-4 the unused
 * field, byte 5 a signed length adjustment, and the rest a pattern
 * repeated over dim * 4 + adjustment bytes of values (capped).  That
 * reaches the 16,000-dimension limit and off-by-one lengths without 64 kB
 * inputs.
 *
 * Oracles:
 * - no crash, no read outside the message, no leak (ASan, LSan);
 * - an error carries a documented SQLSTATE (22000, 22P03, 54000, or
 *   08P01 from pq_getmsgint when the header is cut short);
 * - an accepted vector is well formed, honours the typmod, and consumed
 *   the whole message;
 * - vector(n) accepts exactly the messages plain vector reads with n
 *   dimensions;
 * - vector_send gives back the very same bytes.
 */
#include "fuzz_common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern Datum vector_recv(PG_FUNCTION_ARGS);
extern Datum vector_send(PG_FUNCTION_ARGS);

static const int recv_errors[] = {
	ERRCODE_DATA_EXCEPTION,		/* 22000: 0 or negative dim, typmod */
	ERRCODE_INVALID_BINARY_REPRESENTATION,	/* 22P03 */
	ERRCODE_PROGRAM_LIMIT_EXCEEDED, /* 54000 */
	ERRCODE_PROTOCOL_VIOLATION, /* 08P01: shorter than the header */
};

#define MAX_MESSAGE (4 + 4 * 20001)

/* The message an input stands for, malloc'd, with its length */
static uint8_t *
message_of(const uint8_t *data, size_t size, size_t *len)
{
	uint8_t    *msg;

	if (size >= 6 && data[0] == '~')
	{
		int16		dim = (int16) (((uint16) data[1] << 8) | data[2]);
		int			adjust = (int8) data[5];
		long		body = (dim > 0 ? 4L * dim : 0) + adjust;
		const uint8_t *pattern = data + 6;
		size_t		plen = size - 6;

		if (body < 0)
			body = -body;
		if (body > MAX_MESSAGE - 4)
			body = MAX_MESSAGE - 4;
		*len = 4 + (size_t) body;
		msg = malloc(*len + 1);
		memcpy(msg, data + 1, 4);
		for (long i = 0; i < body; i++)
			msg[4 + i] = plen ? pattern[i % plen] : 0;
		return msg;
	}
	*len = size;
	msg = malloc(size + 1);
	memcpy(msg, data, size);
	return msg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		len;
	uint8_t    *msg = message_of(data, size, &len);
	int			dim_any = 0;

	for (int t = 0; t < FUZZ_NTYPMODS; t++)
	{
		int32		typmod = fuzz_typmods[t];
		StringInfoData buf;
		Datum		result;
		Datum		sent;
		bool		ok;

		/* the message as the server hands it over: data[len] is NUL */
		buf.data = palloc(len + 1);
		memcpy(buf.data, msg, len);
		buf.data[len] = '\0';
		buf.len = (int) len;
		buf.maxlen = (int) len + 1;
		buf.cursor = 0;

		stub_largest_request = 0;
		ok = stub_call3(vector_recv, PointerGetDatum(&buf),
						ObjectIdGetDatum(InvalidOid), Int32GetDatum(typmod),
						&result);
		if (ok)
		{
			const Vector *v = (const Vector *) DatumGetPointer(result);

			fuzz_check_vector(v, typmod, "vector_recv");
			if (buf.cursor != buf.len)
				stub_fail("vector_recv left %d of %d bytes unread",
						  buf.len - buf.cursor, buf.len);
			if (!stub_call1(vector_send, result, &sent))
				stub_fail("vector_send failed: %s", stub_error_message);
			if (VARSIZE(DatumGetPointer(sent)) - VARHDRSZ != len ||
				memcmp(VARDATA(DatumGetPointer(sent)), msg, len) != 0)
				stub_fail("vector_send does not give back the received bytes");
		}
		else
			fuzz_check_error(recv_errors, lengthof(recv_errors), "vector_recv");
		fuzz_check_memory("vector_recv");

		if (typmod == -1)
			dim_any = ok ? ((const Vector *) DatumGetPointer(result))->dim : 0;
		else
			fuzz_check_typmod(typmod, dim_any, ok, stub_error_code, "vector_recv");
		stub_reset();
	}
	free(msg);
	return 0;
}
