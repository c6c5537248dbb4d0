/*
 * hnswmm_buildorder.c
 *		The order in which CREATE INDEX numbers the heap's rows: near vectors
 *		get near node ids, so that they share vector pages and the graph is
 *		linked one region of the file at a time.
 *
 * A node's id fixes where its vector lies in the file, and the graph is
 * linked in id order.  In heap order, every insert's search reads vectors
 * from all over the file: when the vectors do not fit in memory, nearly
 * every read is a disk read, and a build under a memory limit of a third of
 * the vector bytes ran about 60 times slower than without it.  Numbered
 * cluster by cluster, an insert's search stays mostly within its own
 * cluster, whose vectors are a few contiguous megabytes that stay cached
 * while the cluster is linked.
 *
 * The rows go to a temporary file as the heap scan hands them over (TID and
 * slot), while a reservoir keeps a uniform sample of their vectors.  k-means
 * on the sample gives the clusters; a second pass over the file sends each
 * row to the file of its nearest center, and the rows are handed back file
 * by file, each next cluster the nearest to the last one.  Temporary files
 * take about twice the vector bytes at their peak (temp_tablespaces);
 * memory, the sample only.
 *
 * Linking one cluster at a time does not cost recall: on fashion-mnist
 * (60,000 x 784, m 16, ef_construction 64) recall@10 at ef_search 10, 20,
 * 40, 80 was 0.9289, 0.9777, 0.9922, 0.9972 against 0.9275, 0.9727,
 * 0.9922, 0.9965 in heap order, and linking a random eighth of the rows
 * first, as a skeleton across the clusters, did not do better (0.9292,
 * 0.9756, 0.9920, 0.9972) while the skeleton's vectors filled the memory
 * that a build under a limit has.
 */
#include "postgres.h"

#include "commands/progress.h"
#include "common/pg_prng.h"
#include "distance.h"
#include "hnswmm_buildorder.h"
#include "hnswmm_centers.h"
#include "hnswmm_utils.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/buffile.h"

/* Fewer rows than this keep the heap's order: they fit in any cache */
#define HNSWMM_ORDER_MIN_ROWS		10000
/* One cluster per this many rows, at most HNSWMM_ORDER_MAX_CLUSTERS */
#define HNSWMM_ORDER_ROWS_PER_CLUSTER	2000
#define HNSWMM_ORDER_MAX_CLUSTERS	64
/*
 * The sample for k-means: at most this many rows, and this many bytes; at
 * least this many sample rows a cluster
 */
#define HNSWMM_ORDER_SAMPLE_ROWS	8192
#define HNSWMM_ORDER_SAMPLE_BYTES	(8 * 1024 * 1024)
#define HNSWMM_ORDER_SAMPLE_PER_CLUSTER	8
#define HNSWMM_ORDER_SEED			UINT64CONST(0x6f72646572)

struct HnswmmOrder
{
	HnswmmLayout layout;
	BufFile    *spool;			/* every row, in heap order */
	uint64		nrows;
	float	   *sample;			/* sample_cap vectors */
	int			sample_cap;
	pg_prng_state prng;
	char	   *slot;			/* one row's slot, read back */
	float	   *vec;			/* its vector, decoded */
};

HnswmmOrder *
hnswmm_order_begin(const HnswmmLayout *layout)
{
	HnswmmOrder *order = palloc0(sizeof(HnswmmOrder));
	int			dim = layout->dimensions;

	order->layout = *layout;
	order->spool = BufFileCreateTemp(false);
	order->sample_cap = Min(HNSWMM_ORDER_SAMPLE_ROWS,
							HNSWMM_ORDER_SAMPLE_BYTES / (int) (sizeof(float) * dim));
	order->sample_cap = Max(order->sample_cap, 1);
	order->sample = palloc_extended(sizeof(float) * dim * order->sample_cap,
									MCXT_ALLOC_HUGE);
	pg_prng_seed(&order->prng, HNSWMM_ORDER_SEED);
	order->slot = palloc(layout->slot_size);
	order->vec = palloc(sizeof(float) * dim);
	return order;
}

static void
write_row(BufFile *file, ItemPointer tid, char *slot, int slot_size)
{
	BufFileWrite(file, tid, sizeof(ItemPointerData));
	BufFileWrite(file, slot, slot_size);
}

/* The next row of file into *tid and slot; false at its end */
static bool
read_row(BufFile *file, ItemPointer tid, char *slot, int slot_size)
{
	size_t		n = BufFileRead(file, tid, sizeof(ItemPointerData));

	if (n == 0)
		return false;
	if (n != sizeof(ItemPointerData) ||
		BufFileRead(file, slot, slot_size) != (size_t) slot_size)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read a row back from an hnswmm build's temporary file")));
	return true;
}

static void
rewind_file(BufFile *file)
{
	if (BufFileSeek(file, 0, 0, SEEK_SET) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not rewind an hnswmm build's temporary file")));
}

/* Keep a row: its TID, its slot, and its vector vec for the sample */
void
hnswmm_order_add(HnswmmOrder *order, ItemPointer tid, char *slot, const float *vec)
{
	int			dim = order->layout.dimensions;
	uint64		keep = order->nrows;

	write_row(order->spool, tid, slot, order->layout.slot_size);
	/* reservoir sampling: row i replaces a kept one with chance cap / (i+1) */
	if (keep >= (uint64) order->sample_cap)
		keep = pg_prng_uint64_range(&order->prng, 0, order->nrows);
	if (keep < (uint64) order->sample_cap)
		memcpy(order->sample + keep * dim, vec, sizeof(float) * dim);
	order->nrows++;
}

/* Hand every row of file to emit, in the order it was written; close it */
static void
emit_file(HnswmmOrder *order, BufFile *file, HnswmmOrderEmit emit, void *arg)
{
	ItemPointerData tid;

	rewind_file(file);
	while (read_row(file, &tid, order->slot, order->layout.slot_size))
	{
		CHECK_FOR_INTERRUPTS();
		emit(arg, &tid, order->slot);
	}
	BufFileClose(file);
}

/* Sort the spooled rows into files[k], the rows nearest center k */
static void
distribute(HnswmmOrder *order, const HnswmmCenters *centers, BufFile **files)
{
	ItemPointerData tid;
	uint64		done = 0;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, order->nrows);
	rewind_file(order->spool);
	while (read_row(order->spool, &tid, order->slot, order->layout.slot_size))
	{
		int			k;

		CHECK_FOR_INTERRUPTS();
		hnswmm_decode_slot(&order->layout, order->slot, order->vec);
		k = hnswmm_nearest_center(centers, order->vec);
		write_row(files[k], &tid, order->slot, order->layout.slot_size);
		if (++done % 1024 == 0)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, done);
	}
	BufFileClose(order->spool);
	order->spool = NULL;
}

/*
 * The clusters in the order they are linked: each next one the nearest to
 * the last of those not linked yet, so that the clusters linked just before
 * a cluster, whose vectors are still cached, are its neighbours
 */
static int *
cluster_order(const HnswmmCenters *centers)
{
	int			n = centers->count;
	int		   *order = palloc(sizeof(int) * n);
	bool	   *taken = palloc0(sizeof(bool) * n);

	order[0] = 0;
	taken[0] = true;
	for (int i = 1; i < n; i++)
	{
		const float *last = hnswmm_center_vector(centers, order[i - 1]);
		float		best_dist = 0;

		order[i] = -1;
		for (int k = 0; k < n; k++)
		{
			float		d;

			if (taken[k])
				continue;
			d = hm_l2_squared(last, hnswmm_center_vector(centers, k),
							  centers->dimensions);
			if (order[i] < 0 || d < best_dist)
			{
				order[i] = k;
				best_dist = d;
			}
		}
		taken[order[i]] = true;
	}
	pfree(taken);
	return order;
}

/*
 * Hand every kept row to emit, cluster by cluster, or in heap order when
 * there are too few to be worth it
 */
void
hnswmm_order_emit(HnswmmOrder *order, HnswmmOrderEmit emit, void *arg)
{
	int			nsample = (int) Min(order->nrows, (uint64) order->sample_cap);
	int			nclusters = (int) Min(order->nrows / HNSWMM_ORDER_ROWS_PER_CLUSTER,
									  HNSWMM_ORDER_MAX_CLUSTERS);
	HnswmmCenters *centers;
	BufFile   **files;
	int		   *order_of;

	nclusters = Min(nclusters, nsample / HNSWMM_ORDER_SAMPLE_PER_CLUSTER);
	if (order->nrows < HNSWMM_ORDER_MIN_ROWS || nclusters < 2)
	{
		emit_file(order, order->spool, emit, arg);
		return;
	}
	centers = hnswmm_kmeans(order->sample, nsample, order->layout.dimensions,
							nclusters);
	pfree(order->sample);		/* the memory for vectors that a build has */
	order->sample = NULL;
	files = palloc(sizeof(BufFile *) * nclusters);
	for (int k = 0; k < nclusters; k++)
		files[k] = BufFileCreateTemp(false);
	distribute(order, centers, files);
	order_of = cluster_order(centers);
	for (int i = 0; i < nclusters; i++)
		emit_file(order, files[order_of[i]], emit, arg);
}
