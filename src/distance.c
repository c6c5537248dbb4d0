/*
 * distance.c
 *		Distance kernels over plain float arrays (see distance.h), with the
 *		implementation chosen once per process from what the CPU supports:
 *		AVX-512F, AVX2 with FMA, or portable C.
 *
 * Owns the inner loops of every distance: the SQL operators in vector.c and
 * the index call these and nothing else.  The portable kernels keep four
 * independent sums so the compiler can overlap the additions; the SIMD
 * kernels keep two vector accumulators and handle the tail with masked
 * loads (AVX-512) or scalar code (AVX2).  hnswmm_distance_kernels() checks
 * every implementation the CPU has against a double-precision reference.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "distance.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HM_X86 1
#endif

/* Portable kernels */

static float
l2_portable(const float *a, const float *b, int n)
{
	float		s0 = 0,
				s1 = 0,
				s2 = 0,
				s3 = 0;
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		float		d0 = a[i] - b[i],
					d1 = a[i + 1] - b[i + 1],
					d2 = a[i + 2] - b[i + 2],
					d3 = a[i + 3] - b[i + 3];

		s0 += d0 * d0;
		s1 += d1 * d1;
		s2 += d2 * d2;
		s3 += d3 * d3;
	}
	for (; i < n; i++)
		s0 += (a[i] - b[i]) * (a[i] - b[i]);
	return (s0 + s1) + (s2 + s3);
}

static float
ip_portable(const float *a, const float *b, int n)
{
	float		s0 = 0,
				s1 = 0,
				s2 = 0,
				s3 = 0;
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		s0 += a[i] * b[i];
		s1 += a[i + 1] * b[i + 1];
		s2 += a[i + 2] * b[i + 2];
		s3 += a[i + 3] * b[i + 3];
	}
	for (; i < n; i++)
		s0 += a[i] * b[i];
	return (s0 + s1) + (s2 + s3);
}

static float
l1_portable(const float *a, const float *b, int n)
{
	float		s0 = 0,
				s1 = 0,
				s2 = 0,
				s3 = 0;
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		s0 += fabsf(a[i] - b[i]);
		s1 += fabsf(a[i + 1] - b[i + 1]);
		s2 += fabsf(a[i + 2] - b[i + 2]);
		s3 += fabsf(a[i + 3] - b[i + 3]);
	}
	for (; i < n; i++)
		s0 += fabsf(a[i] - b[i]);
	return (s0 + s1) + (s2 + s3);
}

static const HmKernels portable_kernels = {
	"portable", l2_portable, ip_portable, l1_portable
};

#ifdef HM_X86

/* AVX2 + FMA: 8 floats a register */

__attribute__((target("avx2,fma")))
static inline float
hsum256(__m256 v)
{
	__m128		s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma")))
static float
l2_avx2(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	float		tail = 0;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		s1 = _mm256_fmadd_ps(d1, d1, s1);
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));

		s0 = _mm256_fmadd_ps(d, d, s0);
	}
	for (; i < n; i++)
		tail += (a[i] - b[i]) * (a[i] - b[i]);
	return hsum256(_mm256_add_ps(s0, s1)) + tail;
}

__attribute__((target("avx2,fma")))
static float
ip_avx2(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	float		tail = 0;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
	for (; i < n; i++)
		tail += a[i] * b[i];
	return hsum256(_mm256_add_ps(s0, s1)) + tail;
}

__attribute__((target("avx2,fma")))
static float
l1_avx2(const float *a, const float *b, int n)
{
	__m256		sign = _mm256_set1_ps(-0.0f);
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	float		tail = 0;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));

		s0 = _mm256_add_ps(s0, _mm256_andnot_ps(sign, d0));
		s1 = _mm256_add_ps(s1, _mm256_andnot_ps(sign, d1));
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_add_ps(s0, _mm256_andnot_ps(sign, _mm256_sub_ps(_mm256_loadu_ps(a + i),
																	_mm256_loadu_ps(b + i))));
	for (; i < n; i++)
		tail += fabsf(a[i] - b[i]);
	return hsum256(_mm256_add_ps(s0, s1)) + tail;
}

static const HmKernels avx2_kernels = {
	"avx2", l2_avx2, ip_avx2, l1_avx2
};

/* AVX-512F: 16 floats a register, masked loads for the tail */

__attribute__((target("avx512f")))
static float
l2_avx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
		s1 = _mm512_fmadd_ps(d1, d1, s1);
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = n - i >= 16 ? 0xFFFF : (__mmask16) ((1u << (n - i)) - 1);
		__m512		d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i),
									  _mm512_maskz_loadu_ps(m, b + i));

		s0 = _mm512_fmadd_ps(d, d, s0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx512f")))
static float
ip_avx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
		s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = n - i >= 16 ? 0xFFFF : (__mmask16) ((1u << (n - i)) - 1);

		s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i),
							 _mm512_maskz_loadu_ps(m, b + i), s0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx512f")))
static float
l1_avx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i),
														   _mm512_loadu_ps(b + i))));
		s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 16),
														   _mm512_loadu_ps(b + i + 16))));
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = n - i >= 16 ? 0xFFFF : (__mmask16) ((1u << (n - i)) - 1);

		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i),
														   _mm512_maskz_loadu_ps(m, b + i))));
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static const HmKernels avx512_kernels = {
	"avx512", l2_avx512, ip_avx512, l1_avx512
};
#endif							/* HM_X86 */

/* Every implementation, best first, and whether this CPU runs it */
static const HmKernels *
kernel_candidate(int i, bool *supported)
{
#ifdef HM_X86
	__builtin_cpu_init();
	switch (i)
	{
		case 0:
			*supported = __builtin_cpu_supports("avx512f");
			return &avx512_kernels;
		case 1:
			*supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
			return &avx2_kernels;
		case 2:
			*supported = true;
			return &portable_kernels;
	}
#else
	if (i == 0)
	{
		*supported = true;
		return &portable_kernels;
	}
#endif
	return NULL;
}

/*
 * The best implementation this CPU supports, or the one the environment
 * variable HNSWMM_KERNELS names (portable, avx2, avx512) if it is supported:
 * valgrind, for one, does not run AVX-512.
 */
const HmKernels *
hm_kernels(void)
{
	static const HmKernels *chosen = NULL;

	if (chosen == NULL)
	{
		const char *want = getenv("HNSWMM_KERNELS");
		const HmKernels *k;
		bool		supported;

		for (int i = 0; (k = kernel_candidate(i, &supported)) != NULL; i++)
		{
			if (!supported || (want != NULL && strcmp(want, k->name) != 0))
				continue;
			chosen = k;
			break;
		}
		if (chosen == NULL)
			chosen = &portable_kernels;
	}
	return chosen;
}

float
hm_l2_squared(const float *a, const float *b, int n)
{
	return hm_kernels()->l2_squared(a, b, n);
}

float
hm_inner_product(const float *a, const float *b, int n)
{
	return hm_kernels()->inner_product(a, b, n);
}

float
hm_l1(const float *a, const float *b, int n)
{
	return hm_kernels()->l1(a, b, n);
}

/*
 * Sum of a[i]^2 in double: a float sum underflows for tiny vectors (1e-23
 * squared is below the smallest float) and overflows for huge ones, which
 * would make a nonzero vector look like a zero or an infinite one.
 */
double
hm_norm_squared_double(const float *a, int n)
{
	double		sum = 0.0;

	for (int i = 0; i < n; i++)
		sum += (double) a[i] * (double) a[i];
	return sum;
}

/* A float sum that lost precision or range: zero, denormal or not finite */
static inline bool
outside_normal_range(float x)
{
	return !isfinite(x) || fabsf(x) < FLT_MIN;
}

void
hm_cosine_terms(const float *a, const float *b, int n,
				double *ab, double *aa, double *bb)
{
	const HmKernels *k = hm_kernels();
	float		fab = k->inner_product(a, b, n);
	float		faa = k->inner_product(a, a, n);
	float		fbb = k->inner_product(b, b, n);

	if (outside_normal_range(faa) || outside_normal_range(fbb) || !isfinite(fab))
	{
		double		sum = 0.0;

		for (int i = 0; i < n; i++)
			sum += (double) a[i] * (double) b[i];
		*ab = sum;
		*aa = hm_norm_squared_double(a, n);
		*bb = hm_norm_squared_double(b, n);
		return;
	}
	*ab = fab;
	*aa = faa;
	*bb = fbb;
}

/*
 * hnswmm_distance_kernels(): for each implementation, whether this CPU
 * runs it, whether it is the one in use, and its largest relative error
 * against a double-precision reference over vectors of many lengths.
 */
static double
kernel_error(const HmKernels *k)
{
	static const int lengths[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 100, 384, 784, 3072, 16000};
	float	   *a = palloc(sizeof(float) * 16000);
	float	   *b = palloc(sizeof(float) * 16000);
	double		worst = 0;
	uint32		seed = 12345;

	for (int i = 0; i < 16000; i++)
	{
		seed = seed * 1103515245 + 12345;
		a[i] = (float) ((seed >> 8) % 2001) / 1000.0f - 1.0f;
		seed = seed * 1103515245 + 12345;
		b[i] = (float) ((seed >> 8) % 2001) / 1000.0f - 1.0f;
	}
	for (int t = 0; t < lengthof(lengths); t++)
	{
		int			n = lengths[t];
		double		l2 = 0,
					ip = 0,
					l1 = 0,
					absip = 0;

		for (int i = 0; i < n; i++)
		{
			l2 += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
			ip += (double) a[i] * b[i];
			absip += fabs((double) a[i] * b[i]);
			l1 += fabs((double) a[i] - b[i]);
		}
		worst = Max(worst, fabs(k->l2_squared(a, b, n) - l2) / Max(l2, 1e-30));
		worst = Max(worst, fabs(k->inner_product(a, b, n) - ip) / Max(absip, 1e-30));
		worst = Max(worst, fabs(k->l1(a, b, n) - l1) / Max(l1, 1e-30));
	}
	pfree(a);
	pfree(b);
	return worst;
}

PG_FUNCTION_INFO_V1(hnswmm_distance_kernels);
Datum
hnswmm_distance_kernels(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const HmKernels *k;
	bool		supported;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; (k = kernel_candidate(i, &supported)) != NULL; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, !supported};

		values[0] = CStringGetTextDatum(k->name);
		values[1] = BoolGetDatum(supported);
		values[2] = BoolGetDatum(k == hm_kernels());
		values[3] = supported ? Float8GetDatum(kernel_error(k)) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
