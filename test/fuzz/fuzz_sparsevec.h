/*
 * fuzz_sparsevec.h
 *		Checks shared by the two sparsevec harnesses: what every sparsevec
 *		that sparsevec_in or sparsevec_recv accepts must satisfy, and the
 *		typmods each input is tried with.
 */
#ifndef HNSWMM_FUZZ_SPARSEVEC_H
#define HNSWMM_FUZZ_SPARSEVEC_H

#include "fuzz_common.h"
#include "sparsevec.h"

/* typmod -1 (plain `sparsevec`) first, then a few sparsevec(n) */
static const int32 fuzz_sparse_typmods[] = {-1, 1, 5, 16000, SPARSEVEC_MAX_DIM};

#define FUZZ_SPARSE_NTYPMODS \
	((int) (sizeof(fuzz_sparse_typmods) / sizeof(fuzz_sparse_typmods[0])))

/*
 * A sparsevec that an input function returned: 1..SPARSEVEC_MAX_DIM
 * dimensions, 0..SPARSEVEC_MAX_NNZ elements whose indices strictly increase
 * within [0, dim) and whose values are finite and not zero, the varlena
 * size of its nnz, a zero unused field, and the typmod honoured
 */
FUZZ_NO_COVERAGE static void
fuzz_check_sparsevec(const SparseVector *v, int32 typmod, const char *who)
{
	const float *values;

	if (VARATT_IS_EXTENDED(v))
		stub_fail("%s: result has no plain 4-byte varlena header", who);
	if (v->dim < 1 || v->dim > SPARSEVEC_MAX_DIM)
		stub_fail("%s: result has %d dimensions", who, v->dim);
	if (v->nnz < 0 || v->nnz > SPARSEVEC_MAX_NNZ)
		stub_fail("%s: result has %d elements", who, v->nnz);
	if (VARSIZE(v) != offsetof(SparseVector, indices) + 8 * (size_t) v->nnz)
		stub_fail("%s: varlena size %u for %d elements", who,
				  (unsigned) VARSIZE(v), v->nnz);
	if (v->unused != 0)
		stub_fail("%s: unused field is %d", who, v->unused);
	if (typmod != -1 && v->dim != typmod)
		stub_fail("%s: typmod %d accepted %d dimensions", who, typmod, v->dim);
	values = SPARSEVEC_VALUES(v);
	for (int i = 0; i < v->nnz; i++)
	{
		if (v->indices[i] < 0 || v->indices[i] >= v->dim)
			stub_fail("%s: index %d is %d, outside [0, %d)", who, i,
					  v->indices[i], v->dim);
		if (i > 0 && v->indices[i] <= v->indices[i - 1])
			stub_fail("%s: index %d (%d) does not exceed the one before (%d)",
					  who, i, v->indices[i], v->indices[i - 1]);
		if (!isfinite(values[i]))
			stub_fail("%s: value %d is not finite", who, i);
		if (values[i] == 0)
			stub_fail("%s: value %d is zero", who, i);
	}
}

#endif							/* HNSWMM_FUZZ_SPARSEVEC_H */
