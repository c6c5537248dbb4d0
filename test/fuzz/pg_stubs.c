/*
 * pg_stubs.c
 *		The part of the PostgreSQL server that src/vector.c, src/halfvec.c,
 *		src/sparsevec.c and src/bit.c need, for the libFuzzer harnesses that
 *		run the input functions of vector, halfvec and sparsevec outside the
 *		server (see test/fuzz/README.md).  `nm -u` of those objects lists
 *		what they need:
 *
 *		- palloc, palloc0, repalloc, pfree, pnstrdup: malloc, each chunk
 *		  recorded so that stub_reset() can free them all;
 *		- errstart/errstart_cold, errcode, errmsg, errdetail, errhint,
 *		  errfinish and friends: an ERROR records its SQLSTATE and message
 *		  and siglongjmps back to stub_call*();
 *		- DirectFunctionCall1Coll to 3Coll: the calls of fmgr.c (halfvec_out
 *		  goes through vector_out this way);
 *		- pq_getmsgint, pq_getmsgfloat4, pq_getmsgbytes, pq_copymsgbytes,
 *		  pq_begintypsend, pq_endtypsend, pq_sendfloat4, initStringInfo,
 *		  appendStringInfo, enlargeStringInfo: the same checks and byte
 *		  order as src/backend/libpq/pqformat.c and src/common/stringinfo.c;
 *		- float_overflow_error, float_underflow_error: the errors of
 *		  utils/adt/float.c;
 *		- hm_* distance kernels: plain loops (the harnesses do not use them);
 *		- functions the harnesses never reach (arrays, catalog look-ups,
 *		  aggregates) abort if called.
 *
 * float_to_shortest_decimal_buf(n) comes from the server's libpgcommon.a;
 * the server's own snprintf (which port.h substitutes for vsnprintf),
 * pg_qsort (for qsort) and pg_popcount from libpgport.a.
 */
#include "postgres.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distance.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "pg_stubs.h"
#include "port/pg_bswap.h"
#include "utils/array.h"
#include "utils/float.h"
#include "utils/memutils.h"

int			stub_error_code;
char		stub_error_message[512];
size_t		stub_largest_request;

/* ----------------------------------------------------------------
 * Memory: every chunk is its own malloc, recorded in `chunks`
 * ----------------------------------------------------------------
 */

static void **chunks;
static size_t nchunks;
static size_t maxchunks;

static void
track(void *p)
{
	if (nchunks == maxchunks)
	{
		maxchunks = maxchunks ? maxchunks * 2 : 64;
		chunks = realloc(chunks, maxchunks * sizeof(void *));
		if (chunks == NULL)
			abort();
	}
	chunks[nchunks++] = p;
}

static size_t
find_chunk(void *p)
{
	/* the newest chunks are the likely ones */
	for (size_t i = nchunks; i > 0; i--)
		if (chunks[i - 1] == p)
			return i - 1;
	stub_fail("pfree/repalloc of a pointer that palloc did not return");
}

void
stub_reset(void)
{
	for (size_t i = 0; i < nchunks; i++)
		free(chunks[i]);
	nchunks = 0;
}

size_t
stub_live_chunks(void)
{
	return nchunks;
}

/* palloc's size check: larger requests are an internal error (XX000) */
static void
check_request(Size size)
{
	if (!AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	if (size > stub_largest_request)
		stub_largest_request = size;
}

void *
palloc(Size size)
{
	void	   *p;

	check_request(size);
	/* exactly `size` bytes, so that ASan flags one byte past the end */
	p = malloc(size > 0 ? size : 1);
	if (p == NULL)
		stub_fail("out of memory (%zu bytes)", size);
	track(p);
	return p;
}

void *
palloc0(Size size)
{
	void	   *p = palloc(size);

	memset(p, 0, size);
	return p;
}

void *
palloc_extended(Size size, int flags)
{
	void	   *p = palloc(size);

	if (flags & MCXT_ALLOC_ZERO)
		memset(p, 0, size);
	return p;
}

void *
repalloc(void *pointer, Size size)
{
	size_t		i = find_chunk(pointer);
	void	   *p;

	check_request(size);
	p = realloc(pointer, size > 0 ? size : 1);
	if (p == NULL)
		stub_fail("out of memory (%zu bytes)", size);
	chunks[i] = p;
	return p;
}

void
pfree(void *pointer)
{
	size_t		i = find_chunk(pointer);

	free(pointer);
	chunks[i] = chunks[--nchunks];
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

/* ----------------------------------------------------------------
 * Errors: ereport(ERROR) jumps back to stub_call*()
 * ----------------------------------------------------------------
 */

static sigjmp_buf *error_jump;
static int	cur_elevel;
static int	cur_code;

bool
errstart(int elevel, const char *domain)
{
	cur_elevel = elevel;
	cur_code = elevel >= ERROR ? ERRCODE_INTERNAL_ERROR : 0;
	stub_error_message[0] = '\0';
	/* nothing below ERROR is interesting here, but format it all anyway */
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

int
errcode(int sqlerrcode)
{
	cur_code = sqlerrcode;
	return 0;
}

/*
 * Format every message, as the server would: a bad format argument (a
 * pointer past the end of a buffer, say) is then an ASan report.
 */
static void
format_into(char *buf, size_t len, const char *fmt, va_list ap)
{
	vsnprintf(buf, len, fmt, ap);
}

int
errmsg(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	format_into(stub_error_message, sizeof(stub_error_message), fmt, ap);
	va_end(ap);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	format_into(stub_error_message, sizeof(stub_error_message), fmt, ap);
	va_end(ap);
	return 0;
}

static int
format_aside(const char *fmt, va_list ap)
{
	char		buf[512];

	format_into(buf, sizeof(buf), fmt, ap);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	format_aside(fmt, ap);
	va_end(ap);
	return 0;
}

int
errdetail_internal(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	format_aside(fmt, ap);
	va_end(ap);
	return 0;
}

int
errhint(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	format_aside(fmt, ap);
	va_end(ap);
	return 0;
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (cur_elevel < ERROR)
		return;
	stub_error_code = cur_code;
	if (error_jump == NULL)
		stub_fail("ERROR outside stub_call: %s (%s:%d)", stub_error_message,
				  filename, lineno);
	siglongjmp(*error_jump, 1);
}

const char *
stub_sqlstate(int code, char *buf)
{
	for (int i = 0; i < 5; i++)
	{
		buf[i] = PGUNSIXBIT(code);
		code >>= 6;
	}
	buf[5] = '\0';
	return buf;
}

void
stub_fail(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fputs("hnswmm fuzz harness: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

void
float_overflow_error(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value out of range: overflow")));
}

void
float_underflow_error(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value out of range: underflow")));
}

/* ----------------------------------------------------------------
 * The fmgr calling convention
 * ----------------------------------------------------------------
 */

static bool
call(FunctionCallInfo fcinfo, PGFunction fn, Datum *result)
{
	sigjmp_buf	jump;
	sigjmp_buf *volatile saved = error_jump;

	if (sigsetjmp(jump, 0) != 0)
	{
		error_jump = saved;
		return false;
	}
	error_jump = &jump;
	stub_error_code = 0;
	*result = fn(fcinfo);
	error_jump = saved;
	if (fcinfo->isnull)
		stub_fail("function returned NULL");
	return true;
}

bool
stub_call3(PGFunction fn, Datum a0, Datum a1, Datum a2, Datum *result)
{
	LOCAL_FCINFO(fcinfo, 3);

	InitFunctionCallInfoData(*fcinfo, NULL, 3, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = a0;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = a1;
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = a2;
	fcinfo->args[2].isnull = false;
	return call(fcinfo, fn, result);
}

bool
stub_call1(PGFunction fn, Datum a0, Datum *result)
{
	LOCAL_FCINFO(fcinfo, 1);

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = a0;
	fcinfo->args[0].isnull = false;
	return call(fcinfo, fn, result);
}

/*
 * DirectFunctionCallNColl, as in fmgr.c: no flinfo, and a NULL result is
 * an internal error.  An ERROR inside jumps straight back to the
 * stub_call*() around the outer function.
 */
static Datum
direct_call(FunctionCallInfo fcinfo, PGFunction func)
{
	Datum		result = func(fcinfo);

	if (fcinfo->isnull)
		elog(ERROR, "function %p returned NULL", (void *) func);
	return result;
}

Datum
DirectFunctionCall1Coll(PGFunction func, Oid collation, Datum arg1)
{
	LOCAL_FCINFO(fcinfo, 1);

	InitFunctionCallInfoData(*fcinfo, NULL, 1, collation, NULL, NULL);
	fcinfo->args[0].value = arg1;
	fcinfo->args[0].isnull = false;
	return direct_call(fcinfo, func);
}

Datum
DirectFunctionCall2Coll(PGFunction func, Oid collation, Datum arg1,
						Datum arg2)
{
	LOCAL_FCINFO(fcinfo, 2);

	InitFunctionCallInfoData(*fcinfo, NULL, 2, collation, NULL, NULL);
	fcinfo->args[0].value = arg1;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = arg2;
	fcinfo->args[1].isnull = false;
	return direct_call(fcinfo, func);
}

Datum
DirectFunctionCall3Coll(PGFunction func, Oid collation, Datum arg1,
						Datum arg2, Datum arg3)
{
	LOCAL_FCINFO(fcinfo, 3);

	InitFunctionCallInfoData(*fcinfo, NULL, 3, collation, NULL, NULL);
	fcinfo->args[0].value = arg1;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = arg2;
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = arg3;
	fcinfo->args[2].isnull = false;
	return direct_call(fcinfo, func);
}

/* Only plain 4-byte-header varlenas reach the functions under test */
struct varlena *
pg_detoast_datum(struct varlena *datum)
{
	if (VARATT_IS_EXTENDED(datum))
		stub_fail("pg_detoast_datum of a toasted or short-header datum");
	return datum;
}

/* ----------------------------------------------------------------
 * StringInfo and pqformat, as in stringinfo.c and pqformat.c
 * ----------------------------------------------------------------
 */

void
initStringInfo(StringInfo str)
{
	str->maxlen = 1024;
	str->data = palloc(str->maxlen);
	resetStringInfo(str);
}

void
resetStringInfo(StringInfo str)
{
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

void
enlargeStringInfo(StringInfo str, int needed)
{
	int			newlen;

	if (needed < 0)
		elog(ERROR, "invalid string enlargement request size: %d", needed);
	if (((Size) needed) >= (MaxAllocSize - (Size) str->len))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("out of memory")));
	needed += str->len + 1;
	if (needed <= str->maxlen)
		return;
	newlen = 2 * str->maxlen;
	while (needed > newlen)
		newlen = 2 * newlen;
	if (newlen > (int) MaxAllocSize)
		newlen = (int) MaxAllocSize;
	str->data = (char *) repalloc(str->data, newlen);
	str->maxlen = newlen;
}

void
#if PG_VERSION_NUM >= 160000
appendBinaryStringInfo(StringInfo str, const void *data, int datalen)
#else
appendBinaryStringInfo(StringInfo str, const char *data, int datalen)
#endif
{
	enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, datalen);
	str->len += datalen;
	str->data[str->len] = '\0';
}

void
appendStringInfoChar(StringInfo str, char ch)
{
	if (str->len + 1 >= str->maxlen)
		enlargeStringInfo(str, 1);
	str->data[str->len] = ch;
	str->len++;
	str->data[str->len] = '\0';
}

/*
 * Format into the room left, and if the text did not fit, make room for
 * all of it and format again (the server's snprintf returns the length
 * the whole text needs, as C99 says)
 */
void
appendStringInfo(StringInfo str, const char *fmt,...)
{
	for (;;)
	{
		va_list		ap;
		int			avail = str->maxlen - str->len;
		int			needed;

		va_start(ap, fmt);
		needed = vsnprintf(str->data + str->len, avail, fmt, ap);
		va_end(ap);
		if (needed < 0)
			elog(ERROR, "vsnprintf failed: %m with format string \"%s\"",
				 fmt);
		if (needed < avail)
		{
			str->len += needed;
			return;
		}
		/* the truncated text is dropped: restore the NUL, str is unchanged */
		str->data[str->len] = '\0';
		enlargeStringInfo(str, needed);
	}
}

void
pq_begintypsend(StringInfo buf)
{
	initStringInfo(buf);
	/* room for the varlena header */
	appendStringInfoCharMacro(buf, '\0');
	appendStringInfoCharMacro(buf, '\0');
	appendStringInfoCharMacro(buf, '\0');
	appendStringInfoCharMacro(buf, '\0');
}

bytea *
pq_endtypsend(StringInfo buf)
{
	bytea	   *result = (bytea *) buf->data;

	Assert(buf->len >= VARHDRSZ);
	SET_VARSIZE(result, buf->len);
	return result;
}

void
pq_sendfloat4(StringInfo buf, float4 f)
{
	union
	{
		float4		f;
		uint32		i;
	}			swap;

	swap.f = f;
	pq_sendint32(buf, swap.i);
}

void
#if PG_VERSION_NUM >= 180000
pq_copymsgbytes(StringInfo msg, void *buf, int datalen)
#else
pq_copymsgbytes(StringInfo msg, char *buf, int datalen)
#endif
{
	if (datalen < 0 || datalen > (msg->len - msg->cursor))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("insufficient data left in message")));
	memcpy(buf, &msg->data[msg->cursor], datalen);
	msg->cursor += datalen;
}

unsigned int
pq_getmsgint(StringInfo msg, int b)
{
	unsigned int result;
	unsigned char n8;
	uint16		n16;
	uint32		n32;

	switch (b)
	{
		case 1:
			pq_copymsgbytes(msg, (char *) &n8, 1);
			result = n8;
			break;
		case 2:
			pq_copymsgbytes(msg, (char *) &n16, 2);
			result = pg_ntoh16(n16);
			break;
		case 4:
			pq_copymsgbytes(msg, (char *) &n32, 4);
			result = pg_ntoh32(n32);
			break;
		default:
			elog(ERROR, "unsupported integer size %d", b);
			result = 0;
			break;
	}
	return result;
}

float4
pq_getmsgfloat4(StringInfo msg)
{
	union
	{
		float4		f;
		uint32		i;
	}			swap;

	swap.i = pq_getmsgint(msg, 4);
	return swap.f;
}

const char *
pq_getmsgbytes(StringInfo msg, int datalen)
{
	const char *result;

	if (datalen < 0 || datalen > (msg->len - msg->cursor))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("insufficient data left in message")));
	result = &msg->data[msg->cursor];
	msg->cursor += datalen;
	return result;
}

/* ----------------------------------------------------------------
 * Distance kernels (distance.c has CPU dispatch and SQL functions of its
 * own; the harnesses never compute a distance)
 * ----------------------------------------------------------------
 */

float
hm_l2_squared(const float *a, const float *b, int n)
{
	float		s = 0;

	for (int i = 0; i < n; i++)
		s += (a[i] - b[i]) * (a[i] - b[i]);
	return s;
}

float
hm_inner_product(const float *a, const float *b, int n)
{
	float		s = 0;

	for (int i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

float
hm_l1(const float *a, const float *b, int n)
{
	float		s = 0;

	for (int i = 0; i < n; i++)
		s += fabsf(a[i] - b[i]);
	return s;
}

double
hm_norm_squared_double(const float *a, int n)
{
	double		s = 0;

	for (int i = 0; i < n; i++)
		s += (double) a[i] * a[i];
	return s;
}

void
hm_cosine_terms(const float *a, const float *b, int n,
				double *ab, double *aa, double *bb)
{
	*ab = *aa = *bb = 0;
	for (int i = 0; i < n; i++)
	{
		*ab += (double) a[i] * b[i];
		*aa += (double) a[i] * a[i];
		*bb += (double) b[i] * b[i];
	}
}

/* ----------------------------------------------------------------
 * Never reached by the harnesses: arrays, catalogs, aggregates
 * ----------------------------------------------------------------
 */

#define UNREACHED(name) stub_fail("%s is not available outside the server", name)

int32 *
ArrayGetIntegerTypmods(ArrayType *arr, int *n)
{
	UNREACHED("ArrayGetIntegerTypmods");
}

bool
array_contains_nulls(ArrayType *array)
{
	UNREACHED("array_contains_nulls");
}

ArrayType *
construct_array(Datum *elems, int nelems, Oid elmtype, int elmlen,
				bool elmbyval, char elmalign)
{
	UNREACHED("construct_array");
}

void
deconstruct_array(ArrayType *array, Oid elmtype, int elmlen, bool elmbyval,
				  char elmalign, Datum **elemsp, bool **nullsp, int *nelemsp)
{
	UNREACHED("deconstruct_array");
}

void
get_typlenbyvalalign(Oid typid, int16 *typlen, bool *typbyval, char *typalign)
{
	UNREACHED("get_typlenbyvalalign");
}

char *
format_type_be(Oid type_oid)
{
	UNREACHED("format_type_be");
}

int
AggCheckCallContext(FunctionCallInfo fcinfo, MemoryContext *aggcontext)
{
	UNREACHED("AggCheckCallContext");
}

Datum
numeric_float8(PG_FUNCTION_ARGS)
{
	UNREACHED("numeric_float8");
}
