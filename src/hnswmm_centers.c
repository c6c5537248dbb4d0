/*
 * hnswmm_centers.c
 *		The centers that binary codes are taken relative to: chosen by
 *		CREATE INDEX (k-means over a sample of the vectors), kept as sq8
 *		codes in the center pages after the metapage, read back by inserts
 *		and scans (cached per backend in the index's relcache entry).
 *
 * A one-bit code estimates distances with an error that grows with the
 * distances from the vector and from the query to the vector's center
 * (hnswmm_quant.c).  On clustered data, such as images of a few kinds of
 * things, a center per cluster is much closer to both than the mean of
 * everything.  Measured offline on fashion-mnist repeated with noise
 * (300,000 x 784, the vectors of `make bench-ooc`), recall@10 after
 * exactly re-ranking the 20 best estimates of all vectors: 0.79 with one
 * center, 0.90 with 10, 0.93 with 64, 0.95 with 256.  An index gets one
 * center per HNSWMM_VECTORS_PER_CENTER vectors, at most HNSWMM_MAX_CENTERS.
 * CREATE INDEX reserves the pages for that many once it knows the
 * dimension; an index whose first vector came later (built empty, of an
 * unconstrained column), or whose vectors are too wide for a center to fit
 * in a page, has none: its codes are taken relative to zero.
 */
#include "postgres.h"

#include "common/pg_prng.h"
#include "distance.h"
#include "hnswmm_centers.h"
#include "miscadmin.h"
#include "utils/rel.h"

#define HNSWMM_VECTORS_PER_CENTER	1000

/* k-means: sample at most this many vectors per center, and this many bytes */
#define SAMPLE_PER_CENTER	256
#define SAMPLE_MAX_BYTES	(16 * 1024 * 1024)
#define KMEANS_ROUNDS		10
#define KMEANS_SEED			UINT64CONST(0x63656e74657273)

static int
centers_per_page(int size)
{
	return HNSWMM_PAYLOAD / size;
}

/* Center pages a binary-quantized index reserves when built */
uint32
hnswmm_center_pages(HnswmmQuantization quantization, int dimensions)
{
	int			size = hnswmm_center_size(quantization, dimensions);

	if (size == 0)
		return 0;
	return (HNSWMM_MAX_CENTERS + centers_per_page(size) - 1) / centers_per_page(size);
}

/* How many centers an index of nnodes vectors gets */
int
hnswmm_center_count(const HnswmmLayout *layout, uint32 nnodes)
{
	if (layout->center_pages == 0 || nnodes == 0)
		return 0;
	return Max(Min(HNSWMM_MAX_CENTERS, (int) (nnodes / HNSWMM_VECTORS_PER_CENTER)), 1);
}

static HnswmmCenters *
centers_alloc(int count, int dimensions)
{
	HnswmmCenters *c = palloc0(sizeof(HnswmmCenters));

	c->count = count;
	c->dimensions = dimensions;
	c->vectors = palloc0(sizeof(float) * count * dimensions);
	return c;
}

/* Vectors spread evenly over the ids, copied out of the file */
static float *
read_sample(HnswmmReader *reader, uint32 nnodes, int nsample)
{
	int			dim = reader->layout.dimensions;
	float	   *sample = palloc_extended(sizeof(float) * dim * nsample, MCXT_ALLOC_HUGE);

	for (int i = 0; i < nsample; i++)
		hnswmm_reader_copy(reader, (uint32) (((uint64) i * nnodes) / nsample),
						   sample + (Size) i * dim);
	return sample;
}

/*
 * k-means++ seeding: each next center is a sample vector drawn with
 * probability proportional to its squared distance from the nearest center
 * chosen so far
 */
static void
seed_centers(HnswmmCenters *c, const float *sample, int nsample, pg_prng_state *prng)
{
	int			dim = c->dimensions;
	double	   *nearest = palloc(sizeof(double) * nsample);

	memcpy(hnswmm_center_vector(c, 0), sample, sizeof(float) * dim);
	for (int i = 0; i < nsample; i++)
		nearest[i] = hm_l2_squared(sample + (Size) i * dim,
								   hnswmm_center_vector(c, 0), dim);
	for (int k = 1; k < c->count; k++)
	{
		double		total = 0;
		double		pick;
		int			chosen = nsample - 1;

		for (int i = 0; i < nsample; i++)
			total += nearest[i];
		pick = pg_prng_double(prng) * total;
		for (int i = 0; i < nsample; i++)
		{
			pick -= nearest[i];
			if (pick < 0)
			{
				chosen = i;
				break;
			}
		}
		memcpy(hnswmm_center_vector(c, k), sample + (Size) chosen * dim,
			   sizeof(float) * dim);
		for (int i = 0; i < nsample; i++)
			nearest[i] = Min(nearest[i],
							 hm_l2_squared(sample + (Size) i * dim,
										   hnswmm_center_vector(c, k), dim));
		CHECK_FOR_INTERRUPTS();
	}
	pfree(nearest);
}

/* One Lloyd round: each center moves to the mean of the vectors nearest it */
static void
kmeans_round(HnswmmCenters *c, const float *sample, int nsample)
{
	int			dim = c->dimensions;
	double	   *sums = palloc0(sizeof(double) * c->count * dim);
	int		   *counts = palloc0(sizeof(int) * c->count);

	for (int i = 0; i < nsample; i++)
	{
		const float *v = sample + (Size) i * dim;
		int			k = hnswmm_nearest_center(c, v);

		counts[k]++;
		for (int j = 0; j < dim; j++)
			sums[(Size) k * dim + j] += v[j];
	}
	for (int k = 0; k < c->count; k++)
	{
		/* a center nobody chose stays where it is */
		for (int j = 0; j < dim && counts[k] > 0; j++)
			hnswmm_center_vector(c, k)[j] =
				(float) (sums[(Size) k * dim + j] / counts[k]);
	}
	pfree(sums);
	pfree(counts);
}

/*
 * count centers of the nsample vectors in sample (k-means++ seeding, then
 * KMEANS_ROUNDS Lloyd rounds); the same sample gives the same centers
 */
HnswmmCenters *
hnswmm_kmeans(const float *sample, int nsample, int dimensions, int count)
{
	HnswmmCenters *c = centers_alloc(count, dimensions);
	pg_prng_state prng;

	pg_prng_seed(&prng, KMEANS_SEED);
	seed_centers(c, sample, nsample, &prng);
	for (int round = 0; round < KMEANS_ROUNDS; round++)
	{
		kmeans_round(c, sample, nsample);
		CHECK_FOR_INTERRUPTS();
	}
	return c;
}

/*
 * Round the centers to the sq8 codes the center pages keep, so that codes
 * are made against exactly the centers that scans read back
 */
static void
round_centers(HnswmmCenters *c, char *codes, int size)
{
	for (int k = 0; k < c->count; k++)
	{
		char	   *code = codes + (Size) k * size;

		hnswmm_encode_center(hnswmm_center_vector(c, k), c->dimensions, code);
		hnswmm_decode_center(code, c->dimensions, hnswmm_center_vector(c, k));
	}
}

/*
 * The centers of a binary-quantized index built on the nnodes vectors the
 * reader reads, with their codes for the center pages in *codes; a center
 * of zeros and no codes when the index has no center pages
 */
HnswmmCenters *
hnswmm_choose_centers(HnswmmReader *reader, uint32 nnodes, char **codes)
{
	const HnswmmLayout *layout = &reader->layout;
	int			count = hnswmm_center_count(layout, nnodes);
	int			size = hnswmm_center_size(layout->quantization, layout->dimensions);
	int			nsample;
	float	   *sample;
	HnswmmCenters *c;

	*codes = NULL;
	if (count == 0)
		return centers_alloc(1, layout->dimensions);
	nsample = Min(SAMPLE_PER_CENTER * count,
				  SAMPLE_MAX_BYTES / (int) (sizeof(float) * layout->dimensions));
	nsample = Min((uint32) Max(nsample, count), nnodes);
	sample = read_sample(reader, nnodes, nsample);
	c = hnswmm_kmeans(sample, nsample, layout->dimensions, count);
	pfree(sample);
	*codes = palloc(size * count);
	round_centers(c, *codes, size);
	return c;
}

/*
 * The n center pages of an index (blocks 1 to n), as page images in pages,
 * holding the codes of count centers
 */
void
hnswmm_center_page_images(char *pages, uint32 n, const char *codes, int count,
						  int size)
{
	int			per_page = size > 0 ? centers_per_page(size) : 1;

	for (uint32 p = 0; p < n; p++)
	{
		Page		page = pages + (Size) p * BLCKSZ;
		int			first = p * per_page;
		int			here = Max(Min(count - first, per_page), 0);

		hnswmm_init_page(page, HNSWMM_PAGE_CENTER, 0);
		if (here > 0)
			memcpy(HnswmmPagePayload(page), codes + (Size) first * size,
				   (Size) here * size);
		((PageHeader) page)->pd_lower = HNSWMM_PAGE_HEADER + here * size;
	}
}

/* Decode the centers from their pages, into c */
static void
read_center_pages(Relation index, const HnswmmLayout *layout, int size,
				  HnswmmCenters *c)
{
	int			per_page = centers_per_page(size);

	for (int k = 0; k < c->count; k += per_page)
	{
		Buffer		buf = ReadBuffer(index, 1 + k / per_page);
		Page		page;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (HnswmmPageGetOpaque(page)->page_type != HNSWMM_PAGE_CENTER ||
			((PageHeader) page)->pd_lower <
			HNSWMM_PAGE_HEADER + Min(c->count - k, per_page) * size)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has a damaged center page %d",
							RelationGetRelationName(index), 1 + k / per_page),
					 errhint("REINDEX the index.")));
		for (int j = k; j < Min(c->count, k + per_page); j++)
			hnswmm_decode_center(HnswmmPagePayload(page) + (Size) (j - k) * size,
								 layout->dimensions, hnswmm_center_vector(c, j));
		UnlockReleaseBuffer(buf);
	}
}

/*
 * The centers of a binary-quantized index with this metapage: one center
 * of zeros when it has none.  They are set by CREATE INDEX and never change,
 * so each backend decodes them once per index into the relcache entry's
 * AM cache (one chunk: the struct, then the vectors).  The result lives
 * until the next relcache invalidation of the index: use it before taking
 * any lock, or copy it (hnswmm_copy_centers).
 */
const HnswmmCenters *
hnswmm_cached_centers(Relation index, const HnswmmMetaPageData *meta,
					  const HnswmmLayout *layout)
{
	int			size = hnswmm_center_size(layout->quantization, layout->dimensions);
	int			count = 1;
	HnswmmCenters *c = (HnswmmCenters *) index->rd_amcache;

	if (meta->ncenters > 0 && meta->center_size == size &&
		meta->ncenters <= hnswmm_center_count(layout, meta->nnodes))
		count = meta->ncenters;
	if (c != NULL && c->count == count && c->dimensions == layout->dimensions &&
		HnswmmFileIdEquals(c->file, HNSWMM_REL_FILE(index)))
		return c;
	if (index->rd_amcache != NULL)
		pfree(index->rd_amcache);
	index->rd_amcache = NULL;
	c = MemoryContextAllocZero(index->rd_indexcxt, MAXALIGN(sizeof(HnswmmCenters)) +
							   sizeof(float) * count * layout->dimensions);
	c->file = HNSWMM_REL_FILE(index);
	c->count = count;
	c->dimensions = layout->dimensions;
	c->vectors = (float *) ((char *) c + MAXALIGN(sizeof(HnswmmCenters)));
	if (meta->ncenters > 0 && count == meta->ncenters)
		read_center_pages(index, layout, size, c);
	index->rd_amcache = c;
	return c;
}

/*
 * Read the center pages of an index whatever this backend has cached,
 * raising an error if they do not hold the metapage's centers (the checker)
 */
void
hnswmm_check_center_pages(Relation index, const HnswmmMetaPageData *meta,
						  const HnswmmLayout *layout)
{
	int			size = hnswmm_center_size(layout->quantization, layout->dimensions);

	if (meta->ncenters > 0 && size > 0)
		read_center_pages(index, layout, size,
						  centers_alloc(meta->ncenters, layout->dimensions));
}

/* A copy of the index's centers, in the current memory context */
HnswmmCenters *
hnswmm_read_centers(Relation index, const HnswmmMetaPageData *meta,
					const HnswmmLayout *layout)
{
	const HnswmmCenters *cached = hnswmm_cached_centers(index, meta, layout);
	HnswmmCenters *c = centers_alloc(cached->count, cached->dimensions);

	memcpy(c->vectors, cached->vectors,
		   sizeof(float) * cached->count * cached->dimensions);
	return c;
}
