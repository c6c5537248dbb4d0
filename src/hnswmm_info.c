/*
 * hnswmm_info.c
 *		SQL functions that inspect an hnswmm index: hnswmm_index_info().
 *		They need the privilege to read the index's table.
 */
#include "postgres.h"

#include <sys/resource.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "hnswmm.h"
#include "hnswmm_quant.h"
#include "hnswmm_store.h"
#include "hnswmm_utils.h"
#include "utils/builtins.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(hnswmm_index_info);
Datum
hnswmm_index_info(PG_FUNCTION_ARGS)
{
	Relation	index = hnswmm_open_for_inspection(PG_GETARG_OID(0), AccessShareLock);
	HnswmmMetaPageData meta;
	HnswmmLayout layout;
	TupleDesc	tupdesc;
	Datum		values[14];
	bool		nulls[14] = {0};
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	int64		nextents = 0;
	int64		graph_pages = 0;
	int64		vector_pages = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	hnswmm_get_meta(index, &meta);
	hnswmm_layout_from_meta(&layout, &meta);
	if (meta.dimensions > 0 && nblocks > 1 + layout.center_pages)
	{
		nextents = (nblocks - 1 - layout.center_pages) / layout.extent_pages;
		graph_pages = nextents * (layout.graph_pages + layout.upper_pages);
		vector_pages = nextents * layout.vector_pages;
	}
	values[0] = Int32GetDatum(meta.dimensions);
	values[1] = Int32GetDatum(meta.m);
	values[2] = Int32GetDatum(meta.ef_construction);
	values[3] = Int64GetDatum(meta.nnodes);
	values[4] = Int64GetDatum(meta.ndeleted);
	values[5] = Int32GetDatum(meta.entry_node == HNSWMM_INVALID_NODE ? -1 : meta.entry_level);
	values[6] = Int64GetDatum(graph_pages);
	values[7] = Int64GetDatum(vector_pages);
	values[8] = Int64GetDatum(graph_pages * BLCKSZ);
	values[9] = Int64GetDatum(vector_pages * BLCKSZ);
	values[10] = Int64GetDatum(meta.flushed);
	values[11] = CStringGetTextDatum(hnswmm_quantization_name(layout.quantization));
	values[12] = Int32GetDatum(meta.dimensions > 0 ? layout.code_size : 0);
	values[13] = Int32GetDatum(meta.ncenters);
	hnswmm_close_after_inspection(index, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * What this backend has read since it started: vectors and codes (counted
 * by hnswmm_store.c and hnswmm_graph.c), and its major page faults, which
 * are the vector pages the mapping had to read from disk (reads into
 * shared buffers are system calls, not faults).  Callers subtract two
 * calls' values to see what the statements between them read.
 */
PG_FUNCTION_INFO_V1(hnswmm_read_counts_sql);
Datum
hnswmm_read_counts_sql(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {0};
	struct rusage usage;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (getrusage(RUSAGE_SELF, &usage) != 0)
		usage.ru_majflt = 0;
	values[0] = Int64GetDatum(hnswmm_read_counts.vectors);
	values[1] = Int64GetDatum(hnswmm_read_counts.codes);
	values[2] = Int64GetDatum((int64) usage.ru_majflt);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
