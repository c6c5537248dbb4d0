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
	bool		started;		/* the descent is done, batches can run */
	bool		done;			/* nothing more to return */
	HnswmmLayout layout;
	float	   *query;			/* in the form the index searches with */
	int			ef;				/* hnswmm.ef_search when the scan started */
	HnswmmIterSearch iter;		/* the layer-0 search, across batches */
	HnswmmPageGraph pg;			/* open from the first batch to the end */
	uint32		nnodes;			/* node count when the scan started */
	HnswmmCandidate *batch;		/* current batch, closest first */
	int			nbatch;
	int			next;			/* next of the batch to return */
	uint32		chain;			/* next duplicate of the last result */
	int64		returned;		/* nodes handed out so far */
	float		last_dist;		/* distance of the last node handed out */
} HnswmmScanOpaqueData;

typedef HnswmmScanOpaqueData *HnswmmScanOpaque;

IndexScanDesc
hnswmm_beginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswmmScanOpaque so = palloc0(sizeof(HnswmmScanOpaqueData));

	so->chain = HNSWMM_INVALID_NODE;
	so->done = false;
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
	if (so->started)
		hnswmm_page_graph_close(&so->pg);
	MemoryContextReset(so->ctx);
	so->started = false;
	so->done = false;
	so->nbatch = 0;
	so->next = 0;
	so->chain = HNSWMM_INVALID_NODE;
	so->returned = 0;
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

/* Open the graph and descend to layer 0; false for an empty index */
static bool
start_search(IndexScanDesc scan)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;
	HnswmmMetaPageData meta;
	HnswmmCandidate entry;

	if (scan->numberOfOrderBys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("an hnswmm index can only be scanned in distance order"),
				 errhint("Use ORDER BY column <operator> value LIMIT n.")));
	hnswmm_get_meta(scan->indexRelation, &meta);
	if (meta.dimensions == 0 || meta.entry_node == HNSWMM_INVALID_NODE)
		return false;
	hnswmm_layout_from_meta(&so->layout, &meta);
	so->query = scan_query(scan, &so->layout);
	so->nnodes = meta.nnodes;
	hnswmm_page_graph_open(&so->pg, scan->indexRelation, &meta);
	so->started = true;
	entry.id = meta.entry_node;
	entry.dist = hnswmm_reader_distance(&so->pg.reader, so->query, entry.id);
	entry = hnswmm_greedy_descent(&so->pg.graph, so->query, entry, meta.entry_level, 0);
	hnswmm_iter_init(&so->iter, entry);
	so->ef = hnswmm_ef_search;
	so->batch = palloc(sizeof(HnswmmCandidate) * so->ef);
	return true;
}

/*
 * Run the next batch of the search: the first one always, later ones only
 * for iterative scans within hnswmm.max_scan_tuples.  Returns false when
 * the scan is over.
 */
static bool
next_batch(IndexScanDesc scan)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(so->ctx);

	so->nbatch = 0;
	so->next = 0;
	if (!so->started)
	{
		if (start_search(scan))
			so->nbatch = hnswmm_iter_next_batch(&so->pg.graph, so->query,
												&so->iter, so->ef, so->batch);
	}
	else if (hnswmm_iterative_scan != HNSWMM_ITERATIVE_OFF &&
			 so->returned < hnswmm_max_scan_tuples)
	{
		if (so->iter.visited == NULL)
			hnswmm_iter_keep_visited(&so->iter, so->nnodes);
		so->nbatch = hnswmm_iter_next_batch(&so->pg.graph, so->query,
											&so->iter, so->ef, so->batch);
	}
	so->done = so->nbatch == 0;
	MemoryContextSwitchTo(old);
	return !so->done;
}

/*
 * The next node to hand out: each search result, then the rows of its
 * duplicate chain.  Under strict_order a result closer than one already
 * handed out (found by a later batch) is dropped.
 */
static bool
next_node(IndexScanDesc scan, uint32 *id)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;

	if (so->chain != HNSWMM_INVALID_NODE)
	{
		*id = so->chain;
		return true;
	}
	for (;;)
	{
		HnswmmCandidate c;

		if (so->next >= so->nbatch && (so->done || !next_batch(scan)))
			return false;
		c = so->batch[so->next++];
		if (hnswmm_iterative_scan == HNSWMM_ITERATIVE_STRICT &&
			so->returned > 0 && c.dist < so->last_dist)
			continue;
		so->returned++;
		so->last_dist = c.dist;
		*id = c.id;
		return true;
	}
}

bool
hnswmm_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;
	uint32		id;

	while (next_node(scan, &id))
	{
		HnswmmNodeInfo info;

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
	return false;
}

void
hnswmm_endscan(IndexScanDesc scan)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;

	if (so->started)
		hnswmm_page_graph_close(&so->pg);
	MemoryContextDelete(so->ctx);
	pfree(so);
	scan->opaque = NULL;
}
