/*
 * fuzz_common.h
 *		Checks shared by the harnesses: what every vector that an input
 *		function accepts must satisfy, the SQLSTATEs its errors may carry,
 *		the typmods each input is tried with, and typmod consistency and
 *		the palloc bound for every type.
 */
#ifndef HNSWMM_FUZZ_COMMON_H
#define HNSWMM_FUZZ_COMMON_H

#include <math.h>

#include "pg_stubs.h"
#include "vector.h"

/*
 * For the harnesses' own loops (recipes, models of the expected result,
 * checks): they are not the code under test, so no coverage feedback and no
 * comparison hooks, which would mislead libFuzzer and, over 16,000
 * elements, cost more than the parsers themselves.  ASan and UBSan stay.
 * Not inlined: inlined into LLVMFuzzerTestOneInput, the code would be
 * instrumented after all.
 */
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))

/* typmod -1 (plain `vector`) first, then a few vector(n) */
static const int32 fuzz_typmods[] = {-1, 1, 2, 3, 16, VECTOR_MAX_DIM};

#define FUZZ_NTYPMODS ((int) (sizeof(fuzz_typmods) / sizeof(fuzz_typmods[0])))

/* A vector that an input function returned: well formed in every way */
static inline void
fuzz_check_vector(const Vector *v, int32 typmod, const char *who)
{
	if (VARATT_IS_EXTENDED(v))
		stub_fail("%s: result has no plain 4-byte varlena header", who);
	if (v->dim < 1 || v->dim > VECTOR_MAX_DIM)
		stub_fail("%s: result has %d dimensions", who, v->dim);
	if (VARSIZE(v) != VECTOR_SIZE(v->dim))
		stub_fail("%s: varlena size %u for %d dimensions", who,
				  (unsigned) VARSIZE(v), v->dim);
	if (v->unused != 0)
		stub_fail("%s: unused field is %d", who, v->unused);
	if (typmod != -1 && v->dim != typmod)
		stub_fail("%s: typmod %d accepted %d dimensions", who, typmod, v->dim);
	for (int i = 0; i < v->dim; i++)
		if (!isfinite(v->x[i]))
			stub_fail("%s: element %d is not finite", who, i);
}

/* An error an input function raised: one of the documented SQLSTATEs */
static inline void
fuzz_check_error(const int *allowed, int nallowed, const char *who)
{
	char		state[6];

	for (int i = 0; i < nallowed; i++)
		if (stub_error_code == allowed[i])
			return;
	stub_fail("%s: unexpected SQLSTATE %s: %s", who,
			  stub_sqlstate(stub_error_code, state), stub_error_message);
}

/*
 * Typmod consistency: the typmod is checked after parsing, so with
 * typname(n) an input must succeed exactly when it succeeds as plain
 * typname with n dimensions.  dim_any is the dimension under typmod -1
 * (0 after an error).
 */
static inline void
fuzz_check_typmod_of(const char *typname, int32 typmod, int dim_any, bool ok,
					 int code, const char *who)
{
	char		state[6];

	if (ok && dim_any != typmod)
		stub_fail("%s: %s(%d) accepted what plain %s %s", who, typname,
				  typmod, typname,
				  dim_any ? "reads with another dimension" : "rejects");
	if (!ok && dim_any == typmod)
		stub_fail("%s: %s(%d) rejected a %d-dimension value: %s %s", who,
				  typname, typmod, dim_any, stub_sqlstate(code, state),
				  stub_error_message);
	if (!ok && dim_any > 0 && code != ERRCODE_DATA_EXCEPTION)
		stub_fail("%s: a dimension mismatch raised %s, not 22000", who,
				  stub_sqlstate(code, state));
}

static inline void
fuzz_check_typmod(int32 typmod, int dim_any, bool ok, int code,
				  const char *who)
{
	fuzz_check_typmod_of("vector", typmod, dim_any, ok, code, who);
}

/*
 * A palloc request larger than this, for inputs of the sizes fuzzed, means
 * a size computation went wrong: a 16,000-dimension vector or halfvec, a
 * 16,000-element sparsevec and their text and binary forms take well under
 * 1 MB.
 */
#define FUZZ_MAX_REQUEST (1024 * 1024)

static inline void
fuzz_check_memory(const char *who)
{
	if (stub_largest_request > FUZZ_MAX_REQUEST)
		stub_fail("%s: palloc of %zu bytes", who, stub_largest_request);
}

#endif							/* HNSWMM_FUZZ_COMMON_H */
