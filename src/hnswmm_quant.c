/*
 * hnswmm_quant.c
 *		Quantized codes of vectors, kept in the level-0 graph records of an
 *		index built WITH (quantization = 'sq8' | 'binary'); the formats are
 *		drawn in hnswmm.h.  Scans walk the graph by codes and re-rank their
 *		best candidates with exact distances (hnswmm_scan.c).
 *
 * sq8 scales each vector to 256 levels between its own smallest and
 * largest component; a scan decodes the code and applies the metric's
 * ordinary kernel, so it serves every metric.
 *
 * binary keeps one bit a dimension, in the manner of RaBitQ: the vector
 * minus its center (the nearest of the index's centers, chosen by CREATE
 * INDEX and kept in the center pages: hnswmm_centers.c) is turned by a fixed
 * random rotation (random signs, then a Walsh-Hadamard transform over the
 * dimensions padded to a power of two), and the bits are the signs of the
 * result.  The rotation spreads every vector's energy evenly over the bits,
 * which is what makes one bit a dimension informative on data like images
 * whose components are all positive.  With r = rotated(x - c), n2 = |r|^2
 * and the code s (+1/-1 a bit), an inner product with a rotated query
 * Q = rotated(q - c) is estimated as
 *
 *		<Q, r> ~ <Q, s> * n2 / sum(|r_i|)
 *
 * with an error that grows with |Q| |r|, hence the centers.  The rotation
 * is linear, so <Q, s> = <rotated(q), s> - <rotated(c), s>: the second term
 * is kept in the code, and the first is 2 * (sum of rotated(q) over the set
 * bits) - sum(rotated(q)), read a byte at a time from a table of partial
 * sums made once per query, whatever the center.  Inner products and L2
 * follow; L1 has no such estimate and is refused.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "common/hashfn.h"
#include "distance.h"
#include "hnswmm_quant.h"
#include "hnswmm_utils.h"
#include "port/pg_bitutils.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* Header of an sq8 code */
typedef struct Sq8Header
{
	float		lo;				/* value of level 0 */
	float		step;			/* value between levels */
} Sq8Header;

/* Header of a binary code; r = rotated(x - center), s = its signs */
typedef struct BinaryHeader
{
	float		a;				/* L2: |r|^2; inner products: <center, x -
								 * center> */
	float		f;				/* |r|^2 / sum |r_i| */
	float		cs;				/* <rotated center, s> */
	uint16		center;			/* which of the index's centers */
	uint16		unused;			/* always 0 */
} BinaryHeader;

/* Length of the rotation: dimensions padded to a power of two, at least 8 */
static int
rotated_length(int dimensions)
{
	return dimensions <= 8 ? 8 : (int) pg_nextpower2_32((uint32) dimensions);
}

int
hnswmm_code_size(HnswmmQuantization quantization, int dimensions)
{
	switch (quantization)
	{
		case HNSWMM_QUANT_SQ8:
			return TYPEALIGN(4, sizeof(Sq8Header) + dimensions);
		case HNSWMM_QUANT_BINARY:
			return TYPEALIGN(4, sizeof(BinaryHeader) + rotated_length(dimensions) / 8);
		case HNSWMM_QUANT_NONE:
			break;
	}
	return 0;
}

/*
 * How many candidates per unit of ef_search a scan re-ranks by default
 * under binary codes.  An estimate's error shrinks with the square root of
 * the bits, so short codes need a deeper re-ranking to keep the recall of
 * an index without codes: twice ef_search from 512 bits on, growing to
 * four times at 128 bits and fewer (measured on 50,000 Gaussian vectors of
 * 128 dimensions: twice ef_search lost 0.011 to 0.015 of recall@10).
 */
double
hnswmm_binary_rerank_factor(int dimensions)
{
	double		factor = 2.0 * sqrt(512.0 / rotated_length(dimensions));

	return Min(Max(factor, 2.0), 4.0);
}

/*
 * Bytes of each center kept in the center pages: an sq8 code (a center
 * only has to be the same for coding and for queries, so rounding it costs
 * nothing).  0 when a center is too wide for a page: the codes are then
 * taken relative to zero.
 */
int
hnswmm_center_size(HnswmmQuantization quantization, int dimensions)
{
	int			size = hnswmm_code_size(HNSWMM_QUANT_SQ8, dimensions);

	if (quantization != HNSWMM_QUANT_BINARY || size > HNSWMM_PAYLOAD)
		return 0;
	return size;
}

const char *
hnswmm_quantization_name(HnswmmQuantization quantization)
{
	switch (quantization)
	{
		case HNSWMM_QUANT_SQ8:
			return "sq8";
		case HNSWMM_QUANT_BINARY:
			return "binary";
		case HNSWMM_QUANT_NONE:
			break;
	}
	return "none";
}

/*
 * Refuse what cannot work: bit strings under a metric other than Hamming
 * (L2 or L1 on bits) or Jaccard, Jaccard on anything else, codes of bit
 * strings (a bit is its own code), bit strings longer than
 * HNSWMM_MAX_BITS, binary codes under L1, and a level-0 record (2m
 * neighbour slots plus the code) larger than a graph page.  dimensions is
 * 0 while unknown.
 */
void
hnswmm_check_params(Relation index, int dimensions, const HnswmmParams *params)
{
	Size		size = HNSWMM_NODE_SIZE(params->m) +
		hnswmm_code_size(params->quantization, dimensions);
	HnswmmMetric metric = hnswmm_index_metric(index);

	if (params->element == HNSWMM_ELEMENT_BIT && metric != HNSWMM_METRIC_L2 &&
		metric != HNSWMM_METRIC_L1 && metric != HNSWMM_METRIC_JACCARD)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("hnswmm compares bit strings by Hamming or Jaccard distance only")));
	if (metric == HNSWMM_METRIC_JACCARD && params->element != HNSWMM_ELEMENT_BIT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("hnswmm computes Jaccard distance between bit strings only")));
	if (params->element == HNSWMM_ELEMENT_BIT)
	{
		if (params->quantization != HNSWMM_QUANT_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("bit operator classes take no quantization"),
					 errdetail("The index keeps each bit string as it is, a bit a dimension."),
					 errhint("Use quantization = 'none'.")));
		if (dimensions > HNSWMM_MAX_BITS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("hnswmm indexes bit strings of at most %d bits, not %d",
							HNSWMM_MAX_BITS, dimensions)));
	}

	if (params->quantization == HNSWMM_QUANT_BINARY &&
		hnswmm_index_metric(index) == HNSWMM_METRIC_L1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("binary quantization does not support the L1 distance"),
				 errhint("Use quantization = 'sq8' or 'none'.")));
	if (size > HNSWMM_PAYLOAD)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("hnswmm index \"%s\" cannot keep %s codes of %d dimensions with m = %d",
						RelationGetRelationName(index),
						hnswmm_quantization_name(params->quantization),
						dimensions, params->m),
				 errdetail("A node record would take %zu bytes; a page holds %zu.",
						   size, (Size) HNSWMM_PAYLOAD),
				 size - HNSWMM_NODE_SIZE(params->m) + HNSWMM_NODE_SIZE(HNSWMM_MIN_M) > HNSWMM_PAYLOAD ?
				 errhint("Use quantization = 'binary'.") :
				 errhint("Use quantization = 'binary', or a smaller m.")));
}

/*
 * The step between sq8 levels for values in [lo, hi], such that decoding
 * (lo + step * c in float, c <= 255) stays finite.  The range is taken in
 * double, since hi - lo overflows a float for values near +-3e38; a range
 * wider than the float range keeps the levels that fit, and values beyond
 * the last one get code 255 (the code is an estimate; re-ranking uses the
 * vector itself).
 */
static float
sq8_step(float lo, float hi)
{
	double		range = Min((double) hi - (double) lo, (double) FLT_MAX);
	float		step = (float) (range / 255.0);

	while (step > 0 && !isfinite(lo + step * 255.0f))
		step *= 0.99f;
	return step;
}

/* 256 levels spread evenly between the vector's smallest and largest value */
static void
encode_sq8(const float *vec, int dim, char *code)
{
	Sq8Header	h;
	uint8	   *c = (uint8 *) code + sizeof(Sq8Header);
	float		lo = vec[0];
	float		hi = vec[0];

	for (int i = 1; i < dim; i++)
	{
		lo = Min(lo, vec[i]);
		hi = Max(hi, vec[i]);
	}
	h.lo = lo;
	h.step = sq8_step(lo, hi);
	for (int i = 0; i < dim; i++)
	{
		double		level = h.step > 0 ?
			rint(((double) vec[i] - (double) lo) / h.step) : 0;

		c[i] = (uint8) Min(Max(level, 0.0), 255.0);
	}
	memcpy(code, &h, sizeof(h));
}

static void
decode_sq8(const char *code, int dim, float *out)
{
	Sq8Header	h;
	const uint8 *c = (const uint8 *) code + sizeof(Sq8Header);

	memcpy(&h, code, sizeof(h));
	for (int i = 0; i < dim; i++)
		out[i] = h.lo + h.step * (float) c[i];
}

void
hnswmm_encode_center(const float *center, int dimensions, char *code)
{
	encode_sq8(center, dimensions, code);
}

void
hnswmm_decode_center(const char *code, int dimensions, float *center)
{
	decode_sq8(code, dimensions, center);
}

/*
 * The fixed rotation: out (rotated_length floats) = H D [in, 0...] / sqrt(n)
 * with D random signs (a hash of the position, part of the on-disk format)
 * and H the Walsh-Hadamard transform.
 */
static void
rotate(const float *in, int dim, float *out)
{
	int			n = rotated_length(dim);
	float		scale = 1.0f / sqrtf((float) n);

	for (int i = 0; i < n; i++)
		out[i] = i < dim ? ((hash_uint32((uint32) i) & 1) ? -in[i] : in[i]) : 0.0f;
	for (int h = 1; h < n; h *= 2)
	{
		for (int i = 0; i < n; i += 2 * h)
		{
			for (int j = i; j < i + h; j++)
			{
				float		x = out[j];
				float		y = out[j + h];

				out[j] = x + y;
				out[j + h] = x - y;
			}
		}
	}
	for (int i = 0; i < n; i++)
		out[i] *= scale;
}

/* rotate(vec - center), or rotate(vec) without a center, in a new array */
static float *
rotated(const float *vec, const float *center, int dim)
{
	float	   *diff = palloc(sizeof(float) * dim);
	float	   *r = palloc(sizeof(float) * rotated_length(dim));

	for (int i = 0; i < dim; i++)
		diff[i] = center != NULL ? vec[i] - center[i] : vec[i];
	rotate(diff, dim, r);
	pfree(diff);
	return r;
}

/* Center k after the rotation, each rotated on its first use */
static const float *
rotated_center(HnswmmCenters *centers, int k)
{
	int			dim = centers->dimensions;
	int			n = rotated_length(dim);

	if (centers->rotated == NULL)
	{
		MemoryContext cxt = GetMemoryChunkContext(centers);

		centers->rotated = MemoryContextAlloc(cxt, sizeof(float) * n * centers->count);
		centers->is_rotated = MemoryContextAllocZero(cxt, sizeof(bool) * centers->count);
	}
	if (!centers->is_rotated[k])
	{
		rotate(hnswmm_center_vector(centers, k), dim, centers->rotated + (Size) k * n);
		centers->is_rotated[k] = true;
	}
	return centers->rotated + (Size) k * n;
}

static void
encode_binary(HnswmmCenters *centers, bool l2, const float *vec, char *code)
{
	int			dim = centers->dimensions;
	int			n = rotated_length(dim);
	int			k = hnswmm_nearest_center(centers, vec);
	const float *center = hnswmm_center_vector(centers, k);
	const float *rc = rotated_center(centers, k);
	float	   *r = rotated(vec, center, dim);
	uint8	   *bits = (uint8 *) code + sizeof(BinaryHeader);
	double		n2 = 0;
	double		sum_abs = 0;
	double		cs = 0;
	BinaryHeader h = {0};

	for (int i = 0; i < n; i++)
	{
		n2 += (double) r[i] * r[i];
		sum_abs += fabs(r[i]);
		cs += r[i] > 0 ? rc[i] : -rc[i];
		if (r[i] > 0)
			bits[i / 8] |= (uint8) (1 << (i % 8));
	}
	if (l2)
		h.a = (float) n2;
	else
	{
		double		dot = 0;

		for (int i = 0; i < dim; i++)
			dot += (double) center[i] * (vec[i] - center[i]);
		h.a = (float) dot;
	}
	h.f = sum_abs > 0 ? (float) (n2 / sum_abs) : 0.0f;
	h.cs = (float) cs;
	h.center = (uint16) k;
	memcpy(code, &h, sizeof(h));
	pfree(r);
}

/* The center nearest to vec (L2) */
int
hnswmm_nearest_center(const HnswmmCenters *centers, const float *vec)
{
	int			best = 0;
	float		best_dist = FLT_MAX;

	for (int k = 0; k < centers->count; k++)
	{
		float		d = hm_l2_squared(vec, hnswmm_center_vector(centers, k), centers->dimensions);

		if (d < best_dist)
		{
			best_dist = d;
			best = k;
		}
	}
	return best;
}

/* The code of a (prepared) vector; centers are used by binary codes only */
void
hnswmm_encode(const HnswmmLayout *layout, HnswmmCenters *centers,
			  const float *vec, char *code)
{
	memset(code, 0, layout->code_size);
	if (layout->quantization == HNSWMM_QUANT_SQ8)
		encode_sq8(vec, layout->dimensions, code);
	else if (layout->quantization == HNSWMM_QUANT_BINARY)
		encode_binary(centers, layout->metric == HNSWMM_METRIC_L2, vec, code);
}

/*
 * Table of sums of the rotated query over the set bits of each byte value,
 * and each center's term of the estimate: |query - center|^2 for L2,
 * <query, center> for inner products
 */
static void
binary_query(HnswmmCodeQuery *cq, const HnswmmCenters *centers, const float *query)
{
	int			dim = cq->dimensions;
	int			n = rotated_length(dim);
	float	   *r = rotated(query, NULL, dim);
	double		qsum = 0;

	for (int i = 0; i < n; i++)
		qsum += r[i];
	cq->nbytes = n / 8;
	cq->table = palloc(sizeof(float) * cq->nbytes * 256);
	for (int j = 0; j < cq->nbytes; j++)
	{
		float	   *t = cq->table + j * 256;

		t[0] = 0;
		for (int b = 1; b < 256; b++)
			t[b] = t[b & (b - 1)] + r[8 * j + pg_rightmost_one_pos32(b)];
	}
	cq->qsum = (float) qsum;
	cq->ncenters = centers->count;
	cq->center_terms = palloc(sizeof(float) * centers->count);
	for (int k = 0; k < centers->count; k++)
	{
		const float *c = hnswmm_center_vector(centers, k);

		cq->center_terms[k] = cq->l2 ? hm_l2_squared(query, c, dim) :
			hm_inner_product(query, c, dim);
	}
	pfree(r);
}

HnswmmCodeQuery *
hnswmm_code_query(const HnswmmLayout *layout, const HnswmmCenters *centers,
				  const float *query)
{
	HnswmmCodeQuery *cq = palloc0(sizeof(HnswmmCodeQuery));

	cq->quantization = layout->quantization;
	cq->dimensions = layout->dimensions;
	cq->l2 = layout->metric == HNSWMM_METRIC_L2;
	cq->query = query;
	if (cq->quantization == HNSWMM_QUANT_SQ8)
	{
		hnswmm_metric_kernel(layout->metric, &cq->kernel, &cq->negate);
		cq->decoded = palloc(sizeof(float) * layout->dimensions);
	}
	else
		binary_query(cq, centers, query);
	return cq;
}

/* Which center a code is relative to: 0 for sq8 codes, which have none */
int
hnswmm_code_center(const HnswmmLayout *layout, const char *code)
{
	BinaryHeader h;

	if (layout->quantization != HNSWMM_QUANT_BINARY)
		return 0;
	memcpy(&h, code, sizeof(h));
	return h.center;
}

/*
 * Approximate distance, in the units hnswmm_query_distance returns.  For
 * binary codes, with c the vector's center, <query - c, x - c> is estimated
 * from the signs, and L2 = |query - c|^2 + |x - c|^2 - 2 <query - c, x - c>,
 * an inner product = <query, c> + <c, x - c> + <query - c, x - c>.
 */
float
hnswmm_code_distance(HnswmmCodeQuery *cq, const char *code)
{
	BinaryHeader h;
	const uint8 *bits = (const uint8 *) code + sizeof(BinaryHeader);
	float		set = 0;
	float		inner;
	float		term;

	if (cq->quantization == HNSWMM_QUANT_SQ8)
	{
		decode_sq8(code, cq->dimensions, cq->decoded);
		return hnswmm_query_distance(cq->kernel, cq->negate, cq->query,
									 cq->decoded, cq->dimensions);
	}
	memcpy(&h, code, sizeof(h));
	for (int j = 0; j < cq->nbytes; j++)
		set += cq->table[j * 256 + bits[j]];
	inner = h.f * (2 * set - cq->qsum - h.cs);
	/* a corrupt center number must not read past the array */
	term = cq->center_terms[Min(h.center, cq->ncenters - 1)];
	return hnswmm_ordered_distance(cq->l2 ? term + h.a - 2 * inner :
								   -(term + h.a + inner));
}
