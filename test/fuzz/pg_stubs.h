/*
 * pg_stubs.h
 *		What the libFuzzer harnesses need from test/fuzz/pg_stubs.c: a
 *		stand-in for the server around src/vector.c, halfvec.c,
 *		sparsevec.c and bit.c, built outside the server.
 *
 * ereport(ERROR) jumps back to the harness (stub_call_* below), which then
 * knows the SQLSTATE and message of the error.  Every palloc is a malloc of
 * exactly the requested size (so that AddressSanitizer sees one byte past
 * its end) recorded in a list; stub_reset() frees them all, as resetting a
 * memory context would.
 */
#ifndef HNSWMM_FUZZ_PG_STUBS_H
#define HNSWMM_FUZZ_PG_STUBS_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"				/* VARSIZE and friends left postgres.h */
#endif

/* The last error raised with elevel >= ERROR */
extern int	stub_error_code;		/* MAKE_SQLSTATE value */
extern char stub_error_message[512];

/* Free everything palloc'd since the last reset (a context reset) */
extern void stub_reset(void);

/* Number of palloc'd chunks alive, and the largest request so far */
extern size_t stub_live_chunks(void);
extern size_t stub_largest_request;

/* "22P02" from a MAKE_SQLSTATE value; buf has room for 6 bytes */
extern const char *stub_sqlstate(int code, char *buf);

/*
 * Call a V1 function of three arguments (an input or receive function:
 * value, type OID, typmod) or of one (an output or send function).
 * Return true and the result in *result, or false after an ERROR (whose
 * SQLSTATE is in stub_error_code).
 */
extern bool stub_call3(PGFunction fn, Datum a0, Datum a1, Datum a2, Datum *result);
extern bool stub_call1(PGFunction fn, Datum a0, Datum *result);

/* Abort (so that libFuzzer reports a crash) with a message */
#if PG_VERSION_NUM >= 180000
pg_noreturn extern void stub_fail(const char *fmt,...) pg_attribute_printf(1, 2);
#else
extern void stub_fail(const char *fmt,...) pg_attribute_noreturn() pg_attribute_printf(1, 2);
#endif

#endif							/* HNSWMM_FUZZ_PG_STUBS_H */
