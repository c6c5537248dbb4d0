/*
 * hnswmm_prewarm.c
 *		hnswmm_prewarm(regclass): load an index's graph pages into shared
 *		buffers (through a read stream from PostgreSQL 17 on) and ask the
 *		kernel to read its vector pages ahead, so that the first queries
 *		after a restart do not wait for the disk one page at a time.
 *		Reports the bytes of each.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "hnswmm.h"
#include "hnswmm_compat.h"
#include "hnswmm_store.h"
#include "hnswmm_utils.h"
#include "miscadmin.h"
#include "utils/rel.h"

/*
 * The graph and upper pages of an index's extents, in block order: the
 * pages prewarm loads into shared buffers
 */
typedef struct GraphPages
{
	const HnswmmLayout *layout;
	uint32		nextents;		/* complete extents in the file */
	uint32		extent;			/* the extent of the next page */
	BlockNumber offset;			/* the next page's place in the extent */
} GraphPages;

static BlockNumber
next_graph_page(void *arg)
{
	GraphPages *gp = (GraphPages *) arg;

	if (gp->offset == gp->layout->graph_pages + gp->layout->upper_pages)
	{
		gp->extent++;
		gp->offset = 0;
	}
	if (gp->extent >= gp->nextents)
		return InvalidBlockNumber;
	return hnswmm_extent_start(gp->layout, gp->extent) + gp->offset++;
}

PG_FUNCTION_INFO_V1(hnswmm_prewarm);
Datum
hnswmm_prewarm(PG_FUNCTION_ARGS)
{
	Relation	index = hnswmm_open_for_inspection(PG_GETARG_OID(0), AccessShareLock);
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	HnswmmMetaPageData meta;
	HnswmmLayout layout;
	HnswmmReader reader;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {0};
	int64		graph_blocks = 1;
	int64		vector_bytes = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	hnswmm_get_meta(index, &meta);
	if (meta.dimensions > 0 && meta.nnodes > 0)
	{
		GraphPages	gp = {&layout, 0, 0, 0};
		BlockNumber nfixed;

		hnswmm_layout_from_meta(&layout, &meta);
		nfixed = layout.graph_pages + layout.upper_pages;
		hnswmm_reader_open(&reader, index, &meta);
		/* the extents that nodes use and the file holds whole */
		while (gp.nextents < (meta.nnodes - 1) / meta.nodes_per_extent + 1)
		{
			BlockNumber start = hnswmm_extent_start(&layout, gp.nextents);

			if (start + layout.extent_pages > nblocks)
				break;
			vector_bytes += hnswmm_reader_willneed_blocks(&reader, start + nfixed,
														  layout.vector_pages);
			gp.nextents++;
		}
		graph_blocks += hnswmm_load_blocks(index, next_graph_page, &gp);
		hnswmm_reader_close(&reader);
	}
	values[0] = Int64GetDatum(graph_blocks * BLCKSZ);
	values[1] = Int64GetDatum(vector_bytes);
	hnswmm_close_after_inspection(index, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
