/*
 * hnswmm_prewarm.c
 *		hnswmm_prewarm(regclass): load an index's graph pages into shared
 *		buffers and ask the kernel to read its vector pages ahead, so that
 *		the first queries after a restart do not wait for the disk one page
 *		at a time.  Reports the bytes of each.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "hnswmm.h"
#include "hnswmm_store.h"
#include "miscadmin.h"
#include "utils/rel.h"

/* Read blocks [first, first + n) into shared buffers */
static void
load_blocks(Relation index, BlockNumber first, BlockNumber n)
{
	for (BlockNumber b = first; b < first + n; b++)
	{
		ReleaseBuffer(ReadBuffer(index, b));
		CHECK_FOR_INTERRUPTS();
	}
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
		uint32		nextents = (meta.nnodes - 1) / meta.nodes_per_extent + 1;

		hnswmm_layout_from_meta(&layout, &meta);
		hnswmm_reader_open(&reader, index, &meta);
		for (uint32 e = 0; e < nextents; e++)
		{
			BlockNumber start = hnswmm_extent_start(&layout, e);
			BlockNumber nfixed = layout.graph_pages + layout.upper_pages;

			if (start + layout.extent_pages > nblocks)
				break;
			load_blocks(index, start, nfixed);
			graph_blocks += nfixed;
			vector_bytes += hnswmm_reader_willneed_blocks(&reader, start + nfixed,
														  layout.vector_pages);
		}
		hnswmm_reader_close(&reader);
	}
	values[0] = Int64GetDatum(graph_blocks * BLCKSZ);
	values[1] = Int64GetDatum(vector_bytes);
	hnswmm_close_after_inspection(index, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
