/*
 * hnswmm_scan.c
 *		Index scans: ORDER BY column <op> query LIMIT k.  The first call runs
 *		the HNSW search (greedy descent, then a level-0 beam of width
 *		hnswmm.ef_search); later calls hand out the results closest first,
 *		each followed by the rows of its duplicate chain, skipping rows
 *		VACUUM removed.  The executor computes the exact
 *		distance of each returned row from the heap tuple.
 */
#include "postgres.h"

#include "access/relscan.h"
#include "hnswmm.h"
#include "hnswmm_graph.h"
#include "utils/memutils.h"
#include "utils/rel.h"

typedef struct HnswmmScanOpaqueData
{
	MemoryContext ctx;			/* per-rescan allocations */
	bool		searched;		/* results are ready */
	HnswmmLayout layout;
	HnswmmCandidate *results;	/* closest first */
	int			nresults;
	int			next;			/* next result to return */
	uint32		chain;			/* next duplicate of the last result */
} HnswmmScanOpaqueData;

typedef HnswmmScanOpaqueData *HnswmmScanOpaque;

IndexScanDesc
hnswmm_beginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswmmScanOpaque so = palloc0(sizeof(HnswmmScanOpaqueData));

	so->chain = HNSWMM_INVALID_NODE;
	so->ctx = AllocSetContextCreate(CurrentMemoryContext, "hnswmm scan",
									ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	return scan;
}

void
hnswmm_rescan(IndexScanDesc scan, ScanKey keys, int nkeys,
			  ScanKey orderbys, int norderbys)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys,
				scan->numberOfOrderBys * sizeof(ScanKeyData));
	MemoryContextReset(so->ctx);
	so->searched = false;
	so->results = NULL;
	so->nresults = 0;
	so->next = 0;
	so->chain = HNSWMM_INVALID_NODE;
}

/*
 * The query in the form the index searches with.  A NULL query orders
 * nothing; any order is right, so search from the zero vector.
 */
static float *
scan_query(IndexScanDesc scan, const HnswmmLayout *layout)
{
	int			dim = layout->dimensions;
	float	   *query = palloc0(sizeof(float) * dim);
	ScanKey		key = &scan->orderByData[0];
	Vector	   *v;

	if (key->sk_flags & SK_ISNULL)
		return query;
	v = DatumGetVector(key->sk_argument);
	hnswmm_check_dimensions(scan->indexRelation, dim, v->dim);
	if (!hnswmm_prepare_vector(layout->metric, v->x, query, dim))
		memset(query, 0, sizeof(float) * dim);
	return query;
}

static void
run_search(IndexScanDesc scan)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	HnswmmMetaPageData meta;
	HnswmmPageGraph pg;
	HnswmmCandidate entry;
	float	   *query;
	int			ef = hnswmm_ef_search;

	if (scan->numberOfOrderBys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("an hnswmm index can only be scanned in distance order"),
				 errhint("Use ORDER BY column <operator> value LIMIT n.")));
	hnswmm_get_meta(index, &meta);
	if (meta.dimensions == 0 || meta.entry_node == HNSWMM_INVALID_NODE)
		return;
	hnswmm_layout_from_meta(&so->layout, &meta);
	query = scan_query(scan, &so->layout);

	hnswmm_page_graph_open(&pg, index, &meta);
	entry.id = meta.entry_node;
	entry.dist = hnswmm_reader_distance(&pg.reader, query, entry.id);
	entry = hnswmm_greedy_descent(&pg.graph, query, entry, meta.entry_level, 0);
	so->results = palloc(sizeof(HnswmmCandidate) * ef);
	so->nresults = hnswmm_search_layer(&pg.graph, query, &entry, 1, ef, 0,
									   so->results);
	hnswmm_page_graph_close(&pg);
}

bool
hnswmm_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;

	if (!so->searched)
	{
		MemoryContext old = MemoryContextSwitchTo(so->ctx);

		run_search(scan);
		MemoryContextSwitchTo(old);
		so->searched = true;
	}
	for (;;)
	{
		HnswmmNodeInfo info;
		uint32		id;

		/* each result, then the rows in its duplicate chain */
		if (so->chain != HNSWMM_INVALID_NODE)
			id = so->chain;
		else if (so->next < so->nresults)
			id = so->results[so->next++].id;
		else
			return false;
		hnswmm_read_node(scan->indexRelation, &so->layout, id, &info);
		so->chain = info.dup_next;
		if ((info.flags & (HNSWMM_NODE_DEAD | HNSWMM_NODE_DELETED)) ||
			!ItemPointerIsValid(&info.heaptid))
			continue;
		scan->xs_heaptid = info.heaptid;
		scan->xs_recheck = false;
		scan->xs_recheckorderby = false;
		return true;
	}
}

void
hnswmm_endscan(IndexScanDesc scan)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;

	MemoryContextDelete(so->ctx);
	pfree(so);
	scan->opaque = NULL;
}
