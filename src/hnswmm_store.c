/*
 * hnswmm_store.c
 *		Reading vectors: through a mapping of the index's files
 *		(hnswmm_mapping.c) below the "flushed" watermark, through buffers
 *		above it.  The watermark is advanced by hnswmm_flush.c; the metric's
 *		kernels are chosen in hnswmm_utils.c.
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

#include <sys/mman.h>

#include "hnswmm_mapping.h"
#include "hnswmm_store.h"
#include "hnswmm_utils.h"
#include "utils/rel.h"

static void
reader_init(HnswmmReader *reader, Relation index, const HnswmmLayout *layout)
{
	memset(reader, 0, sizeof(HnswmmReader));
	reader->index = index;
	reader->layout = *layout;
	hnswmm_metric_kernel(layout->metric, &reader->kernel, &reader->negate);
	reader->half_kernel = hnswmm_metric_half_kernel(layout->metric);
	reader->bit_kernel = hnswmm_metric_bit_kernel(layout->metric);
	if (layout->metric == HNSWMM_METRIC_JACCARD)
	{
		reader->ones = palloc(sizeof(float) * Max(layout->dimensions, 1));
		for (int i = 0; i < layout->dimensions; i++)
			reader->ones[i] = 1.0f;
	}
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

HnswmmReadCounts hnswmm_read_counts;

static inline const char *
mapped_payload(const HnswmmReader *reader, BlockNumber blkno)
{
	return reader->base + (Size) blkno * BLCKSZ + HNSWMM_PAGE_HEADER;
}

/*
 * Apply fn to each piece of the first nbytes bytes of node id's slot (its
 * vector, then its INCLUDE values): (piece, bytes before it, bytes in it).
 * Slots and payloads are multiples of 4 bytes, so a piece never splits an
 * element.  Pieces below the watermark come from the mapping, the others
 * from buffers held share-locked for the call.
 */
typedef void (*PieceFn) (void *arg, const char *piece, int start, int n);

static inline void
for_each_piece(HnswmmReader *reader, uint32 id, int nbytes, PieceFn fn, void *arg)
{
	HnswmmSlot	slot = hnswmm_vector_slot(&reader->layout, id);
	BlockNumber blkno = slot.first_block;
	int			skip = slot.offset;
	int			done = 0;

	hnswmm_read_counts.vectors++;
	while (done < nbytes)
	{
		int			n = Min(nbytes - done, (int) HNSWMM_PAYLOAD - skip);

		if (id < reader->mapped_below)
		{
			fn(arg, mapped_payload(reader, blkno) + skip, done, n);
			hnswmm_mapped_read_check(reader->index);
		}
		else
		{
			Buffer		buf = ReadBuffer(reader->index, blkno);

			LockBuffer(buf, BUFFER_LOCK_SHARE);
			fn(arg, HnswmmPagePayload(BufferGetPage(buf)) + skip, done, n);
			UnlockReleaseBuffer(buf);
		}
		done += n;
		skip = 0;
		blkno++;
	}
}

/* The metric's kernel over elements [start, start + n) of a vector's piece */
static inline float
kernel_sum(const HnswmmReader *reader, const float *query, const void *piece,
		   int start, int n)
{
	switch (reader->layout.element)
	{
		case HNSWMM_ELEMENT_HALF:
			return reader->half_kernel(query + start, (const half *) piece, n);
		case HNSWMM_ELEMENT_BIT:
			return reader->bit_kernel(query + start, (const uint8 *) piece, n);
		default:
			return reader->kernel(query + start, (const float *) piece, n);
	}
}

/*
 * The distance the index orders by, from the kernel's sum over a vector's
 * pieces (and, for Jaccard, the sum of the same kernel from a query of
 * ones: the string's own set bits, `own`)
 */
static inline float
finish_distance(const HnswmmReader *reader, const float *query, float sum,
				float own)
{
	if (reader->layout.metric == HNSWMM_METRIC_JACCARD)
	{
		float		in_query = reader->kernel(query, reader->ones,
											  reader->layout.dimensions);

		/* no common set bit, two empty strings included: 1, as the operator */
		if (sum == 0)
			return 1.0f;
		return 1.0f - sum / (in_query + own - sum);
	}
	return hnswmm_ordered_distance(reader->negate ? -sum : sum);
}

typedef struct DistanceArg
{
	const HnswmmReader *reader;
	const float *query;
	float		sum;
	float		own;			/* Jaccard: the string's set bits */
} DistanceArg;

static void
distance_piece(void *arg, const char *piece, int start, int n)
{
	DistanceArg *d = (DistanceArg *) arg;
	const HnswmmLayout *layout = &d->reader->layout;
	int			first = hnswmm_bytes_elements(layout, start);
	int			count = Min(hnswmm_bytes_elements(layout, n), layout->dimensions - first);

	d->sum += kernel_sum(d->reader, d->query, piece, first, count);
	if (d->reader->ones != NULL)
		d->own += kernel_sum(d->reader, d->reader->ones, piece, first, count);
}

/*
 * Node id's vector in the mapping when it is there in one piece or two:
 * returns the first piece and sets *first to its elements; the rest follows
 * at the start of the next block's payload (hnswmm_mapped_rest).  NULL, and
 * *first unset, when the vector is not mapped or takes more pieces (read it
 * with hnswmm_reader_distance or hnswmm_reader_copy).
 */
const void *
hnswmm_reader_mapped(HnswmmReader *reader, uint32 id, int *first)
{
	const HnswmmLayout *layout = &reader->layout;
	HnswmmSlot	slot;
	int			room;

	if (id >= reader->mapped_below)
		return NULL;
	slot = hnswmm_vector_slot(layout, id);
	room = hnswmm_bytes_elements(layout, HNSWMM_PAYLOAD - slot.offset);
	if (layout->dimensions - room > hnswmm_bytes_elements(layout, HNSWMM_PAYLOAD))
		return NULL;
	*first = Min(room, reader->layout.dimensions);
	return mapped_payload(reader, slot.first_block) + slot.offset;
}

/* The kernel's sum over a vector of the mapping, in one piece or two */
static inline float
mapped_sum(const HnswmmReader *reader, const float *query, const void *vec,
		   int first)
{
	int			dim = reader->layout.dimensions;
	float		d = kernel_sum(reader, query, vec, 0, first);

	if (first < dim)
		d += kernel_sum(reader, query,
						hnswmm_mapped_rest(vec, hnswmm_element_bytes(&reader->layout, first)),
						first, dim - first);
	return d;
}

/* Distance from the query to a vector of the mapping (hnswmm_reader_mapped) */
float
hnswmm_mapped_distance(HnswmmReader *reader, const float *query,
					   const void *vec, int first)
{
	float		sum = mapped_sum(reader, query, vec, first);
	float		own = reader->ones ? mapped_sum(reader, reader->ones, vec, first) : 0;

	hnswmm_read_counts.vectors++;
	hnswmm_mapped_read_check(reader->index);
	return finish_distance(reader, query, sum, own);
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
	const void *mapped = hnswmm_reader_mapped(reader, id, &first);
	DistanceArg d;

	if (mapped != NULL)
		return hnswmm_mapped_distance(reader, query, mapped, first);
	d.reader = reader;
	d.query = query;
	d.sum = 0;
	d.own = 0;
	for_each_piece(reader, id,
				   hnswmm_element_bytes(&reader->layout, reader->layout.dimensions),
				   distance_piece, &d);
	return finish_distance(reader, query, d.sum, d.own);
}

static void
copy_piece(void *arg, const char *piece, int start, int n)
{
	memcpy((char *) arg + start, piece, n);
}

/* Where hnswmm_reader_copy widens a vector that is not float4 */
typedef struct WidenArg
{
	const HnswmmLayout *layout;
	float	   *out;
} WidenArg;

/* Halves, or bits as 0 and 1, into the floats at the same positions */
static void
widen_piece(void *arg, const char *piece, int start, int n)
{
	WidenArg   *w = (WidenArg *) arg;
	int			first = hnswmm_bytes_elements(w->layout, start);
	int			count = Min(hnswmm_bytes_elements(w->layout, n),
							w->layout->dimensions - first);

	hnswmm_widen_elements(w->layout, piece, count, w->out + first);
}

/* Node id's vector, as floats */
void
hnswmm_reader_copy(HnswmmReader *reader, uint32 id, float *out)
{
	const HnswmmLayout *layout = &reader->layout;
	int			bytes = hnswmm_element_bytes(layout, layout->dimensions);
	WidenArg	w = {layout, out};

	if (layout->element == HNSWMM_ELEMENT_FLOAT4)
		for_each_piece(reader, id, bytes, copy_piece, out);
	else
		for_each_piece(reader, id, bytes, widen_piece, &w);
}

/* Node id's whole slot, as it is stored: its vector, then its INCLUDE values */
void
hnswmm_reader_copy_slot(HnswmmReader *reader, uint32 id, char *out)
{
	for_each_piece(reader, id, reader->layout.slot_size, copy_piece, out);
}
