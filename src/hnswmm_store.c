/*
 * hnswmm_store.c
 *		The vector store: reading vectors through a mapping of the index's
 *		files (hnswmm_mapping.c) or through buffers, the metrics' kernels as
 *		the index applies them, and the "flushed" watermark that says which
 *		vectors are in the file.
 *
 * Rules (doc/design.md, section 2):
 * - a vector slot is written once, so a mapped page may be read while
 *	 other backends add slots to it;
 * - a backend reads a vector through the mapping only when its id is below
 *	 the metapage's flushed watermark and the metapage's stamp (system
 *	 identifier, timeline) says the file is current on this node; all else
 *	 is read through the buffer manager;
 * - never in recovery, never for temporary relations (local buffers);
 * - every read through the mapping is checked for a failed page
 *	 (hnswmm_mapped_read_check) before its bytes are used.
 */
#include "postgres.h"

#include <math.h>
#include <sys/mman.h>
#include <unistd.h>

#include "access/xlog.h"
#include "distance.h"
#include "hnswmm_mapping.h"
#include "hnswmm_store.h"
#include "miscadmin.h"
#include "utils/rel.h"

#define PAYLOAD_FLOATS	(HNSWMM_PAYLOAD / sizeof(float))

/* Most vector pages one insert flushes on its way out */
#define FLUSH_BATCH_PAGES	64

void
hnswmm_metric_kernel(HnswmmMetric metric, HnswmmKernel *kernel, bool *negate)
{
	*negate = false;
	switch (metric)
	{
		case HNSWMM_METRIC_L2:
			*kernel = hm_kernels()->l2_squared;
			break;
		case HNSWMM_METRIC_IP:
		case HNSWMM_METRIC_COSINE:
			*kernel = hm_kernels()->inner_product;
			*negate = true;
			break;
		case HNSWMM_METRIC_L1:
			*kernel = hm_kernels()->l1;
			break;
		default:
			elog(ERROR, "hnswmm: unknown metric %d", (int) metric);
	}
}

/* Distance between two vectors held in memory */
float
hnswmm_query_distance(HnswmmKernel kernel, bool negate,
					  const float *a, const float *b, int n)
{
	float		d = kernel(a, b, n);

	return hnswmm_ordered_distance(negate ? -d : d);
}

/*
 * The form in which a vector is indexed and searched: cosine normalises.
 * Returns false for a vector that cannot be indexed (zero under cosine).
 */
bool
hnswmm_prepare_vector(HnswmmMetric metric, const float *in, float *out, int dim)
{
	double		norm;

	memcpy(out, in, dim * sizeof(float));
	if (metric != HNSWMM_METRIC_COSINE)
		return true;
	norm = sqrt(hm_norm_squared_double(in, dim));
	if (norm == 0.0 || isnan(norm))
		return false;
	for (int i = 0; i < dim; i++)
		out[i] = (float) (in[i] / norm);
	return true;
}

static void
reader_init(HnswmmReader *reader, Relation index, const HnswmmLayout *layout)
{
	memset(reader, 0, sizeof(HnswmmReader));
	reader->index = index;
	reader->layout = *layout;
	hnswmm_metric_kernel(layout->metric, &reader->kernel, &reader->negate);
	reader->scratch = palloc(sizeof(float) * Max(layout->dimensions, 1));
}

/*
 * Where node id's slot (its vector, then its INCLUDE values) lies: its
 * first block and offset, and the block and payload offset of its last byte
 */
static HnswmmSlot
vector_extent(const HnswmmLayout *layout, uint32 id, BlockNumber *last_block,
			  Size *last_offset)
{
	HnswmmSlot	slot = hnswmm_vector_slot(layout, id);
	Size		last = slot.offset + (Size) layout->slot_size - 1;

	*last_block = slot.first_block + last / HNSWMM_PAYLOAD;
	*last_offset = last % HNSWMM_PAYLOAD;
	return slot;
}

/* Last block holding a byte of the vectors of ids below n */
static BlockNumber
last_vector_block(const HnswmmLayout *layout, uint32 n)
{
	BlockNumber last_block;
	Size		last_offset;

	(void) vector_extent(layout, n - 1, &last_block, &last_offset);
	return last_block;
}

static void
reader_map(HnswmmReader *reader, uint32 below)
{
	if (below == 0)
		return;
	reader->map = hnswmm_mapping_acquire(reader->index,
										 last_vector_block(&reader->layout, below),
										 &reader->base, &reader->mapped_blocks);
	if (reader->map != 0)
		reader->mapped_below = below;
}

void
hnswmm_reader_open(HnswmmReader *reader, Relation index,
				   const HnswmmMetaPageData *meta)
{
	HnswmmLayout layout;

	hnswmm_layout_from_meta(&layout, (HnswmmMetaPage) meta);
	reader_init(reader, index, &layout);
	if (hnswmm_mapping_usable(index, meta))
		reader_map(reader, Min(meta->flushed, meta->nnodes));
}

/* The build reads the file it has just written: all of it is there */
void
hnswmm_reader_open_build(HnswmmReader *reader, Relation index,
						 const HnswmmLayout *layout, uint32 nnodes)
{
	reader_init(reader, index, layout);
	reader_map(reader, nnodes);
	if (nnodes > 0 && reader->map == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not map the vectors of index \"%s\"",
						RelationGetRelationName(index))));
}

void
hnswmm_reader_close(HnswmmReader *reader)
{
	if (reader->map != 0)
		hnswmm_mapping_release(reader->map);
	reader->map = 0;
	reader->base = NULL;
	reader->mapped_below = 0;
}

static inline const float *
mapped_payload(const HnswmmReader *reader, BlockNumber blkno)
{
	return (const float *) (reader->base + (Size) blkno * BLCKSZ + HNSWMM_PAGE_HEADER);
}

/*
 * Apply fn to each piece of the first nfloats floats of node id's slot (its
 * vector, then its INCLUDE values): (piece, floats before it, floats in it).
 * Pieces below the watermark come from the mapping, the others from buffers
 * held share-locked for the call.
 */
typedef void (*PieceFn) (void *arg, const float *piece, int start, int n);

static inline void
for_each_piece(HnswmmReader *reader, uint32 id, int nfloats, PieceFn fn, void *arg)
{
	HnswmmSlot	slot = hnswmm_vector_slot(&reader->layout, id);
	int			dim = nfloats;
	BlockNumber blkno = slot.first_block;
	int			skip = slot.offset / sizeof(float);
	int			done = 0;

	while (done < dim)
	{
		int			n = Min(dim - done, (int) PAYLOAD_FLOATS - skip);

		if (id < reader->mapped_below)
		{
			fn(arg, mapped_payload(reader, blkno) + skip, done, n);
			hnswmm_mapped_read_check(reader->index);
		}
		else
		{
			Buffer		buf = ReadBuffer(reader->index, blkno);

			LockBuffer(buf, BUFFER_LOCK_SHARE);
			fn(arg, (const float *) HnswmmPagePayload(BufferGetPage(buf)) + skip,
			   done, n);
			UnlockReleaseBuffer(buf);
		}
		done += n;
		skip = 0;
		blkno++;
	}
}

typedef struct DistanceArg
{
	HnswmmKernel kernel;
	const float *query;
	float		sum;
} DistanceArg;

static void
distance_piece(void *arg, const float *piece, int start, int n)
{
	DistanceArg *d = (DistanceArg *) arg;

	d->sum += d->kernel(d->query + start, piece, n);
}

/*
 * Node id's vector in the mapping when it is there in one piece or two:
 * returns the first piece and sets *first to its floats; the rest follows
 * at the start of the next block's payload (hnswmm_mapped_rest).  NULL, and
 * *first unset, when the vector is not mapped or takes more pieces (read it
 * with hnswmm_reader_distance or hnswmm_reader_copy).
 */
const float *
hnswmm_reader_mapped(HnswmmReader *reader, uint32 id, int *first)
{
	HnswmmSlot	slot;
	int			room;

	if (id >= reader->mapped_below)
		return NULL;
	slot = hnswmm_vector_slot(&reader->layout, id);
	room = (HNSWMM_PAYLOAD - slot.offset) / sizeof(float);
	if (reader->layout.dimensions - room > (int) PAYLOAD_FLOATS)
		return NULL;
	*first = Min(room, reader->layout.dimensions);
	return mapped_payload(reader, slot.first_block) + slot.offset / sizeof(float);
}

/* Distance from the query to a vector of the mapping (hnswmm_reader_mapped) */
float
hnswmm_mapped_distance(HnswmmReader *reader, const float *query,
					   const float *vec, int first)
{
	int			dim = reader->layout.dimensions;
	float		d = reader->kernel(query, vec, first);

	if (first < dim)
		d += reader->kernel(query + first, hnswmm_mapped_rest(vec, first),
							dim - first);
	hnswmm_mapped_read_check(reader->index);
	return hnswmm_ordered_distance(reader->negate ? -d : d);
}

/* Ask the kernel to read the mapped bytes [start, end) ahead */
static void
advise_willneed(const char *start, const char *end)
{
	static uintptr_t os_page = 0;

	if (os_page == 0)
		os_page = (uintptr_t) sysconf(_SC_PAGESIZE);
	start -= (uintptr_t) start % os_page;
	(void) madvise((void *) start, end - start, MADV_WILLNEED);
}

/*
 * Ask the kernel to start reading node id's vector from disk if it is not
 * in memory; reading several this way overlaps their I/O.
 */
void
hnswmm_reader_willneed(HnswmmReader *reader, uint32 id)
{
	HnswmmSlot	slot;
	BlockNumber last_block;
	Size		last_offset;

	if (id >= reader->mapped_below)
		return;
	slot = vector_extent(&reader->layout, id, &last_block, &last_offset);
	advise_willneed((const char *) mapped_payload(reader, slot.first_block) + slot.offset,
					(const char *) mapped_payload(reader, last_block) + last_offset + 1);
}

/*
 * Ask the kernel to read blocks [first, first + n) ahead through the
 * mapping; returns the bytes advised (0 when the reader has no mapping).
 */
int64
hnswmm_reader_willneed_blocks(HnswmmReader *reader, BlockNumber first,
							  BlockNumber n)
{
	if (reader->map == 0 || n == 0 || first + n > reader->mapped_blocks)
		return 0;
	advise_willneed(reader->base + (Size) first * BLCKSZ,
					reader->base + (Size) (first + n) * BLCKSZ);
	return (int64) n * BLCKSZ;
}

float
hnswmm_reader_distance(HnswmmReader *reader, const float *query, uint32 id)
{
	int			first = 0;
	const float *mapped = hnswmm_reader_mapped(reader, id, &first);
	DistanceArg d;

	if (mapped != NULL)
		return hnswmm_mapped_distance(reader, query, mapped, first);
	d.kernel = reader->kernel;
	d.query = query;
	d.sum = 0;
	for_each_piece(reader, id, reader->layout.dimensions, distance_piece, &d);
	return hnswmm_ordered_distance(reader->negate ? -d.sum : d.sum);
}

static void
copy_piece(void *arg, const float *piece, int start, int n)
{
	memcpy((float *) arg + start, piece, n * sizeof(float));
}

void
hnswmm_reader_copy(HnswmmReader *reader, uint32 id, float *out)
{
	for_each_piece(reader, id, reader->layout.dimensions, copy_piece, out);
}

/* Node id's whole slot: its vector, then its INCLUDE values */
void
hnswmm_reader_copy_slot(HnswmmReader *reader, uint32 id, char *out)
{
	for_each_piece(reader, id, reader->layout.slot_size / sizeof(float),
				   copy_piece, out);
}

/*
 * Node counts of extent `extent` up to vector page `page` (0-based within
 * the extent): *through = nodes whose slots end on or before that page,
 * *touching = nodes whose slots start on or before it.
 */
static void
nodes_up_to_page(const HnswmmLayout *layout, uint32 extent, uint32 page,
				 uint32 *through, uint32 *touching)
{
	uint64		end = (uint64) (page + 1) * HNSWMM_PAYLOAD;
	uint64		vbytes = (uint64) layout->slot_size;
	uint32		base = extent * layout->nodes_per_extent;

	*through = base + (uint32) Min(end / vbytes, layout->nodes_per_extent);
	*touching = base + (uint32) Min((end + vbytes - 1) / vbytes,
									layout->nodes_per_extent);
}

static BlockNumber
first_vector_block(const HnswmmLayout *layout, uint32 extent)
{
	return hnswmm_extent_start(layout, extent) + layout->graph_pages +
		layout->upper_pages;
}

/*
 * Write vector page blkno to the file if its content is durable in WAL
 * already (so the write costs no WAL flush).  Returns false if it is not.
 */
static bool
flush_if_durable(Relation index, BlockNumber blkno, XLogRecPtr durable)
{
	Buffer		buf = ReadBuffer(index, blkno);
	bool		ok;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	ok = PageGetLSN(BufferGetPage(buf)) <= durable;
	if (ok)
		FlushOneBuffer(buf);
	UnlockReleaseBuffer(buf);
	return ok;
}

typedef struct FlushedChange
{
	uint32		flushed;		/* the new watermark */
	bool		restamp;		/* also stamp the metapage for this file */
} FlushedChange;

static bool
change_flushed(Relation index, HnswmmMetaPage meta, void *arg)
{
	FlushedChange *c = (FlushedChange *) arg;

	if (c->restamp)
	{
		hnswmm_stamp(index, meta);
		meta->flushed = c->flushed;
		return true;
	}
	if (c->flushed <= meta->flushed)
		return false;
	meta->flushed = c->flushed;
	return true;
}

static void
set_flushed(Relation index, uint32 flushed, bool restamp)
{
	FlushedChange c = {flushed, restamp};

	hnswmm_change_meta(index, change_flushed, &c);
}

/*
 * Called by writers after they changed the index: write complete vector
 * pages past the watermark to the file and advance the watermark, so that
 * scans read those vectors through the mapping.  After a promotion, a
 * restore, pg_upgrade or a copy of the file the stamp does not match: write
 * every dirty page of the index once, then stamp it.
 */
void
hnswmm_advance_flushed(Relation index)
{
	HnswmmMetaPageData meta;
	HnswmmLayout layout;
	XLogRecPtr	durable;
	uint32		flushed;
	uint32		extent;
	uint32		page;
	int			budget = FLUSH_BATCH_PAGES;

	if (RelationUsesLocalBuffers(index) || RecoveryInProgress())
		return;
	hnswmm_get_meta(index, &meta);
	if (meta.dimensions == 0 || meta.nnodes == 0)
		return;
	if (!hnswmm_stamp_matches(index, &meta))
	{
		FlushRelationBuffers(index);
		set_flushed(index, meta.nnodes, true);
		return;
	}

	hnswmm_layout_from_meta(&layout, &meta);
	durable = GetFlushRecPtr(NULL);
	flushed = meta.flushed;
	extent = flushed / layout.nodes_per_extent;
	page = hnswmm_vector_slot(&layout, flushed).first_block -
		first_vector_block(&layout, extent);
	while (budget-- > 0)
	{
		uint32		through;
		uint32		touching;

		nodes_up_to_page(&layout, extent, page, &through, &touching);
		if (touching > meta.nnodes)
			break;				/* a vector on this page is not written yet */
		if (!flush_if_durable(index, first_vector_block(&layout, extent) + page,
							  durable))
			break;
		flushed = Max(flushed, through);
		if (++page == layout.vector_pages)
		{
			extent++;
			page = 0;
		}
	}
	if (flushed > meta.flushed)
		set_flushed(index, flushed, false);
}
