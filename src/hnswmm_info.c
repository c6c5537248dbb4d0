/*
 * hnswmm_info.c
 *		SQL functions that inspect an hnswmm index: hnswmm_index_info().
 *		They need the privilege to read the index's table.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "hnswmm.h"
#include "hnswmm_quant.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

/*
 * Open an hnswmm index for inspection, checking the caller may read it;
 * its table is locked in heap_lock first.  Only an index with storage of
 * its own will do: a partitioned index has no file (its partitions'
 * indexes do).
 */
Relation
hnswmm_open_for_inspection(Oid indexoid, LOCKMODE heap_lock)
{
	char		relkind = get_rel_relkind(indexoid);
	Oid			heapoid;
	Relation	index;
	AclResult	acl;

	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("there is no relation with OID %u", indexoid)));
	if (relkind == RELKIND_PARTITIONED_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a partitioned index", get_rel_name(indexoid)),
				 errdetail("A partitioned index has no storage of its own."),
				 errhint("Inspect the index of each partition instead.")));
	if (relkind != RELKIND_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index", get_rel_name(indexoid))));
	heapoid = IndexGetRelation(indexoid, false);
	acl = pg_class_aclcheck(heapoid, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, get_rel_name(heapoid));
	LockRelationOid(heapoid, heap_lock);
	index = index_open(indexoid, AccessShareLock);
	if (index->rd_rel->relam != get_index_am_oid("hnswmm", false))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an hnswmm index",
						RelationGetRelationName(index))));
	return index;
}

/*
 * Close an index opened by hnswmm_open_for_inspection, and let go of its
 * locks and its table's: the functions read what they need before they
 * return, and a caller's open transaction should not hold up writers
 * (hnswmm_verify's ShareLock would) or DDL.
 */
void
hnswmm_close_after_inspection(Relation index, LOCKMODE heap_lock)
{
	Oid			heapoid = index->rd_index->indrelid;

	index_close(index, AccessShareLock);
	UnlockRelationOid(heapoid, heap_lock);
}

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
