/*
 * hnswmm_store.h
 *		Reading the vectors of an index: through a read-only mapping of the
 *		relation's files below the flushed watermark, through shared (or
 *		local) buffers above it.
 */
#ifndef HNSWMM_STORE_H
#define HNSWMM_STORE_H

#include "hnswmm.h"
#include "hnswmm_mapping.h"
#include "hnswmm_utils.h"

typedef struct HnswmmReader
{
	Relation	index;
	HnswmmLayout layout;
	HnswmmKernel kernel;		/* distance kernel of the metric */
	HnswmmHalfKernel half_kernel;	/* the same, over half slots */
	HnswmmBitKernel bit_kernel; /* the same, over bit slots */
	float	   *ones;			/* Jaccard: dimensions 1s, NULL otherwise */
	bool		negate;			/* inner-product metrics order by -sum */
	HnswmmMappingRef map;		/* 0: read everything through buffers */
	uint32		mapped_below;	/* ids below this are read through map */
	char	   *base;			/* address of block 0 in the mapping */
	BlockNumber mapped_blocks;	/* blocks [0, mapped_blocks) are mapped */
	float	   *scratch;		/* one vector, for distances between nodes */
} HnswmmReader;

/*
 * What this backend's searches have read since it started, for
 * hnswmm_read_counts(): whole vectors (each distance from a full vector,
 * each copy of one) and codes (each distance from a code)
 */
typedef struct HnswmmReadCounts
{
	int64		vectors;
	int64		codes;
} HnswmmReadCounts;

extern PGDLLIMPORT HnswmmReadCounts hnswmm_read_counts;

extern void hnswmm_reader_open(HnswmmReader *reader, Relation index,
							   const HnswmmMetaPageData *meta);
extern void hnswmm_reader_open_build(HnswmmReader *reader, Relation index,
									 const HnswmmLayout *layout, uint32 nnodes);
extern void hnswmm_reader_close(HnswmmReader *reader);
extern float hnswmm_reader_distance(HnswmmReader *reader, const float *query,
									uint32 id);
extern void hnswmm_reader_copy(HnswmmReader *reader, uint32 id, float *out);
extern void hnswmm_reader_copy_slot(HnswmmReader *reader, uint32 id, char *out);
extern const void *hnswmm_reader_mapped(HnswmmReader *reader, uint32 id,
										int *first);
extern float hnswmm_mapped_distance(HnswmmReader *reader, const float *query,
									const void *vec, int first);
extern void hnswmm_reader_willneed(HnswmmReader *reader, uint32 id);
extern int64 hnswmm_reader_willneed_blocks(HnswmmReader *reader,
										   BlockNumber first, BlockNumber n);

/*
 * The rest of a mapped vector whose first piece (first_bytes) ends a
 * block's payload: the start of the next block's payload
 */
static inline const void *
hnswmm_mapped_rest(const void *vec, int first_bytes)
{
	return (const char *) vec + first_bytes + (BLCKSZ - HNSWMM_PAYLOAD);
}

#endif							/* HNSWMM_STORE_H */
