/*
 * distance.c
 *		Distance kernels over plain float arrays (see distance.h), with the
 *		implementation chosen once per process from what the CPU supports:
 *		AVX-512F, AVX2 with FMA and F16C, or portable C.  Each kernel also
 *		has a form whose second operand is half precision, for the slots of
 *		halfvec indexes.
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
#include "half.h"
#include "utils/builtins.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define HM_X86 1
#endif

/*
 * Every kernel is written once over a second operand b that is either
 * floats or halves (a half-precision index slot), chosen by a constant
 * argument that the compiler folds away in each caller: the float kernels
 * and the half kernels below are the same loops.
 */
static inline float
element(const void *b, int i, bool halves)
{
	return halves ? half_to_float(((const half *) b)[i]) : ((const float *) b)[i];
}

/* Portable kernels */

static inline float
l2_portable_any(const float *a, const void *b, int n, bool halves)
{
	float		s0 = 0,
				s1 = 0,
				s2 = 0,
				s3 = 0;
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		float		d0 = a[i] - element(b, i, halves),
					d1 = a[i + 1] - element(b, i + 1, halves),
					d2 = a[i + 2] - element(b, i + 2, halves),
					d3 = a[i + 3] - element(b, i + 3, halves);

		s0 += d0 * d0;
		s1 += d1 * d1;
		s2 += d2 * d2;
		s3 += d3 * d3;
	}
	for (; i < n; i++)
	{
		float		d = a[i] - element(b, i, halves);

		s0 += d * d;
	}
	return (s0 + s1) + (s2 + s3);
}

static inline float
ip_portable_any(const float *a, const void *b, int n, bool halves)
{
	float		s0 = 0,
				s1 = 0,
				s2 = 0,
				s3 = 0;
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		s0 += a[i] * element(b, i, halves);
		s1 += a[i + 1] * element(b, i + 1, halves);
		s2 += a[i + 2] * element(b, i + 2, halves);
		s3 += a[i + 3] * element(b, i + 3, halves);
	}
	for (; i < n; i++)
		s0 += a[i] * element(b, i, halves);
	return (s0 + s1) + (s2 + s3);
}

static inline float
l1_portable_any(const float *a, const void *b, int n, bool halves)
{
	float		s0 = 0,
				s1 = 0,
				s2 = 0,
				s3 = 0;
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		s0 += fabsf(a[i] - element(b, i, halves));
		s1 += fabsf(a[i + 1] - element(b, i + 1, halves));
		s2 += fabsf(a[i + 2] - element(b, i + 2, halves));
		s3 += fabsf(a[i + 3] - element(b, i + 3, halves));
	}
	for (; i < n; i++)
		s0 += fabsf(a[i] - element(b, i, halves));
	return (s0 + s1) + (s2 + s3);
}

/*
 * The named kernels of one implementation: impl_any specialised to float
 * and to half second operands
 */
#define HM_KERNEL_PAIR(name, impl) \
	static float name(const float *a, const float *b, int n) \
	{ return impl(a, b, n, false); } \
	static float name##_half(const float *a, const half *b, int n) \
	{ return impl(a, b, n, true); }

HM_KERNEL_PAIR(l2_portable, l2_portable_any)
HM_KERNEL_PAIR(ip_portable, ip_portable_any)
HM_KERNEL_PAIR(l1_portable, l1_portable_any)

static const HmKernels portable_kernels = {
	"portable", l2_portable, ip_portable, l1_portable,
	l2_portable_half, ip_portable_half, l1_portable_half
};

#ifdef HM_X86

/*
 * AVX2 + FMA + F16C: 8 floats a register.  Every CPU with AVX2 has F16C
 * (it came a generation earlier), which converts 8 halves in one step.
 */
#define HM_AVX2 "avx2,fma,f16c"

__attribute__((target(HM_AVX2)))
static inline float
hsum256(__m256 v)
{
	__m128		s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* 8 elements of b from element i, as floats */
__attribute__((target(HM_AVX2)))
static inline __m256
load8(const void *b, int i, bool halves)
{
	if (halves)
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) ((const half *) b + i)));
	return _mm256_loadu_ps((const float *) b + i);
}

__attribute__((target(HM_AVX2)))
static inline float
l2_avx2_any(const float *a, const void *b, int n, bool halves)
{
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	float		tail = 0;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), load8(b, i, halves));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), load8(b, i + 8, halves));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		s1 = _mm256_fmadd_ps(d1, d1, s1);
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		d = _mm256_sub_ps(_mm256_loadu_ps(a + i), load8(b, i, halves));

		s0 = _mm256_fmadd_ps(d, d, s0);
	}
	for (; i < n; i++)
	{
		float		d = a[i] - element(b, i, halves);

		tail += d * d;
	}
	return hsum256(_mm256_add_ps(s0, s1)) + tail;
}

__attribute__((target(HM_AVX2)))
static inline float
ip_avx2_any(const float *a, const void *b, int n, bool halves)
{
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	float		tail = 0;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), load8(b, i, halves), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), load8(b, i + 8, halves), s1);
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), load8(b, i, halves), s0);
	for (; i < n; i++)
		tail += a[i] * element(b, i, halves);
	return hsum256(_mm256_add_ps(s0, s1)) + tail;
}

__attribute__((target(HM_AVX2)))
static inline float
l1_avx2_any(const float *a, const void *b, int n, bool halves)
{
	__m256		sign = _mm256_set1_ps(-0.0f);
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	float		tail = 0;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), load8(b, i, halves));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), load8(b, i + 8, halves));

		s0 = _mm256_add_ps(s0, _mm256_andnot_ps(sign, d0));
		s1 = _mm256_add_ps(s1, _mm256_andnot_ps(sign, d1));
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_add_ps(s0, _mm256_andnot_ps(sign, _mm256_sub_ps(_mm256_loadu_ps(a + i),
																	load8(b, i, halves))));
	for (; i < n; i++)
		tail += fabsf(a[i] - element(b, i, halves));
	return hsum256(_mm256_add_ps(s0, s1)) + tail;
}

#define HM_KERNEL_PAIR_TARGET(name, impl, target_spec) \
	__attribute__((target(target_spec))) \
	static float name(const float *a, const float *b, int n) \
	{ return impl(a, b, n, false); } \
	__attribute__((target(target_spec))) \
	static float name##_half(const float *a, const half *b, int n) \
	{ return impl(a, b, n, true); }

HM_KERNEL_PAIR_TARGET(l2_avx2, l2_avx2_any, HM_AVX2)
HM_KERNEL_PAIR_TARGET(ip_avx2, ip_avx2_any, HM_AVX2)
HM_KERNEL_PAIR_TARGET(l1_avx2, l1_avx2_any, HM_AVX2)

static const HmKernels avx2_kernels = {
	"avx2", l2_avx2, ip_avx2, l1_avx2,
	l2_avx2_half, ip_avx2_half, l1_avx2_half
};

/* AVX-512F: 16 floats a register, masked loads for the tail */

__attribute__((target("avx512f")))
static inline __mmask16
tail_mask(int count)
{
	return count >= 16 ? 0xFFFF : (__mmask16) ((1u << count) - 1);
}

/* 16 elements of b from element i, as floats */
__attribute__((target("avx512f")))
static inline __m512
load16(const void *b, int i, bool halves)
{
	if (halves)
		return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) ((const half *) b + i)));
	return _mm512_loadu_ps((const float *) b + i);
}

/*
 * The first count (< 16) elements of b from element i, zeros after them:
 * halves through a zeroed buffer (a masked 16-bit load needs AVX512BW)
 */
__attribute__((target("avx512f")))
static inline __m512
load16_tail(const void *b, int i, int count, bool halves)
{
	half		buf[16] = {0};

	if (!halves)
		return _mm512_maskz_loadu_ps(tail_mask(count), (const float *) b + i);
	memcpy(buf, (const half *) b + i, count * sizeof(half));
	return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) buf));
}

__attribute__((target("avx512f")))
static inline float
l2_avx512_any(const float *a, const void *b, int n, bool halves)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), load16(b, i, halves));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), load16(b, i + 16, halves));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
		s1 = _mm512_fmadd_ps(d1, d1, s1);
	}
	for (; i < n; i += 16)
	{
		__m512		d = _mm512_sub_ps(_mm512_maskz_loadu_ps(tail_mask(n - i), a + i),
									  load16_tail(b, i, Min(n - i, 16), halves));

		s0 = _mm512_fmadd_ps(d, d, s0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx512f")))
static inline float
ip_avx512_any(const float *a, const void *b, int n, bool halves)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load16(b, i, halves), s0);
		s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), load16(b, i + 16, halves), s1);
	}
	for (; i < n; i += 16)
		s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail_mask(n - i), a + i),
							 load16_tail(b, i, Min(n - i, 16), halves), s0);
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx512f")))
static inline float
l1_avx512_any(const float *a, const void *b, int n, bool halves)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i),
														   load16(b, i, halves))));
		s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 16),
														   load16(b, i + 16, halves))));
	}
	for (; i < n; i += 16)
		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail_mask(n - i), a + i),
														   load16_tail(b, i, Min(n - i, 16), halves))));
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

HM_KERNEL_PAIR_TARGET(l2_avx512, l2_avx512_any, "avx512f")
HM_KERNEL_PAIR_TARGET(ip_avx512, ip_avx512_any, "avx512f")
HM_KERNEL_PAIR_TARGET(l1_avx512, l1_avx512_any, "avx512f")

static const HmKernels avx512_kernels = {
	"avx512", l2_avx512, ip_avx512, l1_avx512,
	l2_avx512_half, ip_avx512_half, l1_avx512_half
};
#endif							/* HM_X86 */

#ifdef HM_X86
/* F16C, from CPUID (clang's __builtin_cpu_supports does not name it) */
static bool
cpu_has_f16c(void)
{
	unsigned int eax,
				ebx,
				ecx,
				edx;

	return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}
#endif

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
			*supported = __builtin_cpu_supports("avx2") &&
				__builtin_cpu_supports("fma") && cpu_has_f16c();
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

float
hm_hamming_bits(const float *a, const uint8 *b, int n)
{
	float		sum = 0;

	for (int i = 0; i < n; i++)
		sum += fabsf(a[i] - (float) ((b[i / 8] >> (7 - i % 8)) & 1));
	return sum;
}

float
hm_common_bits(const float *a, const uint8 *b, int n)
{
	float		sum = 0;

	for (int i = 0; i < n; i++)
		sum += a[i] * (float) ((b[i / 8] >> (7 - i % 8)) & 1);
	return sum;
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
 * against a double-precision reference over vectors of many lengths, for
 * the float and the half-precision kernels alike.
 */
static double
kernel_error(const HmKernels *k)
{
	static const int lengths[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 100, 384, 784, 3072, 16000};
	float	   *a = palloc(sizeof(float) * 16000);
	float	   *b = palloc(sizeof(float) * 16000);
	half	   *bh = palloc(sizeof(half) * 16000);
	double		worst = 0;
	uint32		seed = 12345;
	bool		overflow;

	for (int i = 0; i < 16000; i++)
	{
		seed = seed * 1103515245 + 12345;
		a[i] = (float) ((seed >> 8) % 2001) / 1000.0f - 1.0f;
		seed = seed * 1103515245 + 12345;
		b[i] = (float) ((seed >> 8) % 2001) / 1000.0f - 1.0f;
		/* b in half precision, and b as that half is, for one reference */
		bh[i] = float_to_half(b[i], &overflow);
		b[i] = half_to_float(bh[i]);
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
		worst = Max(worst, fabs(k->l2_squared_half(a, bh, n) - l2) / Max(l2, 1e-30));
		worst = Max(worst, fabs(k->inner_product_half(a, bh, n) - ip) / Max(absip, 1e-30));
		worst = Max(worst, fabs(k->l1_half(a, bh, n) - l1) / Max(l1, 1e-30));
	}
	pfree(a);
	pfree(b);
	pfree(bh);
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
