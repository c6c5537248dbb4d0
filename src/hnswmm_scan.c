/*
 * hnswmm_scan.c
 *		Index scans: ORDER BY column <op> query LIMIT k.  The first call runs
 *		the HNSW search (greedy descent, then a level-0 beam of width
 *		hnswmm.ef_search); later calls hand out the results closest first,
 *		each followed by the rows of its duplicate chain, skipping rows
 *		VACUUM removed.  A quantized index is walked by the codes in its
 *		graph records and the best candidates re-ranked by their full
 *		vectors.  The executor computes the exact distance of each returned
 *		row from the heap tuple, or, in an index-only scan, from the vector
 *		the scan returns with the row's INCLUDE values (hnswmm_include.c).
 *
 * A row's record is read afresh when it is handed out (records read ahead
 * only ask for heap pages), and in an index-only scan its graph page stays
 * pinned until the executor asks for the next row.  VACUUM marks nodes
 * dead under a cleanup lock, so it cannot remove a row's TID, and the heap
 * pass cannot then mark the row's page all-visible, while the executor
 * still decides from the visibility map whether that row is visible: the
 * interlock of nbtree's pins.  Plain scans with an MVCC snapshot need no
 * pin: a TID that VACUUM frees and an insert reuses meanwhile holds a
 * tuple that the snapshot does not see.
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "access/visibilitymap.h"
#include "hnswmm.h"
#include "hnswmm_compat.h"
#include "hnswmm_graph.h"
#include "hnswmm_quant.h"
#include "hnswmm_settings.h"
#include "hnswmm_utils.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

typedef struct HnswmmScanOpaqueData
{
	MemoryContext ctx;			/* per-rescan allocations */
	MemoryContext row_ctx;		/* the row an index-only scan returned last */
	bool		started;		/* the descent is done, batches can run */
	bool		done;			/* nothing more to return */
	HnswmmLayout layout;
	float	   *query;			/* in the form the index searches with */
	HnswmmScanSettings settings;	/* as the scan started */
	int			ef;				/* beam width: ef_search, at least rerank */
	int			rerank;			/* candidates re-ranked in each batch */
	HnswmmIterSearch iter;		/* the layer-0 search, across batches */
	HnswmmPageGraph pg;			/* open from the first batch to the end */
	bool		prefetch_heap;	/* ask for the heap pages of results ahead */
	bool		heap_missed;	/* a request found its page missing from
								 * shared buffers (it may still be in the
								 * OS page cache) */
	bool		heap_learned;	/* the first requests told the heuristic */
	Buffer		vmbuf;			/* visibility map page of the last check */
	bool		interlock;		/* keep the graph page of each returned row
								 * pinned (index-only or non-MVCC scans) */
	Buffer		held;			/* that page, pinned, or InvalidBuffer */
	HnswmmCandidate *batch;		/* current batch, closest first */
	int			nread;			/* of the batch, records read ahead */
	int			nbatch;
	int			next;			/* next of the batch to return */
	uint32		chain;			/* next duplicate of the last result */
	int64		returned;		/* nodes handed out so far */
	float		last_dist;		/* distance of the last node handed out */
	bool		limit_noticed;	/* told that max_scan_tuples stopped a
								 * scan (once a scan, rescans included) */
} HnswmmScanOpaqueData;

typedef HnswmmScanOpaqueData *HnswmmScanOpaque;

IndexScanDesc
hnswmm_beginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswmmScanOpaque so = palloc0(sizeof(HnswmmScanOpaqueData));

	so->chain = HNSWMM_INVALID_NODE;
	so->done = false;
	so->vmbuf = InvalidBuffer;
	so->held = InvalidBuffer;
	so->ctx = AllocSetContextCreate(CurrentMemoryContext, "hnswmm scan",
									ALLOCSET_DEFAULT_SIZES);
	so->row_ctx = AllocSetContextCreate(CurrentMemoryContext, "hnswmm scan row",
										ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	return scan;
}

/* Let go of the graph page of the row handed out last */
static void
release_held(HnswmmScanOpaque so)
{
	if (BufferIsValid(so->held))
		ReleaseBuffer(so->held);
	so->held = InvalidBuffer;
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
	release_held(so);
	if (so->started)
		hnswmm_page_graph_close(&so->pg);
	MemoryContextReset(so->ctx);
	so->started = false;
	so->done = false;
	so->nbatch = 0;
	so->next = 0;
	so->chain = HNSWMM_INVALID_NODE;
	so->returned = 0;
	so->heap_missed = false;
	so->heap_learned = false;
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
	const float *value;
	int			value_dim;

	if (key->sk_flags & SK_ISNULL)
		return query;
	value = hnswmm_value_floats(scan->indexRelation, key->sk_argument, &value_dim);
	hnswmm_check_dimensions(scan->indexRelation, dim, value_dim);
	if (!hnswmm_prepare_vector(layout->metric, value, query, dim))
		memset(query, 0, sizeof(float) * dim);
	return query;
}

/*
 * Least default re-ranking of binary codes: twice a LIMIT of 10.  Each
 * re-ranked vector is a read when the vectors are on disk, so this is what
 * a small ef_search costs there; measured on `make bench-ooc`'s 300,000
 * noisy fashion-mnist vectors, 20 re-ranked candidates gave recall@10
 * 0.90 with the index's centers (0.86 with 10 centers, 0.79 offline with
 * one).
 */
#define BINARY_RERANK_MIN	20

/*
 * How many candidates of each batch get exact distances: none for an index
 * without codes, else hnswmm.rerank, by default ef_search for sq8 codes and
 * for binary ones, whose estimates are coarser, two to four times that
 * (more for shorter codes, hnswmm_binary_rerank_factor) and at least
 * BINARY_RERANK_MIN.
 */
static int
rerank_count(const HnswmmLayout *layout, int ef_search)
{
	if (layout->quantization == HNSWMM_QUANT_NONE)
		return 0;
	if (hnswmm_rerank > 0)
		return hnswmm_rerank;
	if (layout->quantization == HNSWMM_QUANT_BINARY)
		return Max((int) ceil(hnswmm_binary_rerank_factor(layout->dimensions) *
							  ef_search), BINARY_RERANK_MIN);
	return ef_search;
}

/*
 * Asking for heap pages ahead pays only when pages are missing from shared
 * buffers, and each request costs a buffer lookup.  After HEAP_PREFETCH_CALM
 * scans in a row whose first requests all found their pages there, a
 * backend stops asking for HEAP_PREFETCH_PROBE scans, then tries again.
 * The state is the backend's, across indexes: a small table held in shared
 * buffers can pause the requests of a large one for that many scans.
 */
#define HEAP_PREFETCH_CALM	4
#define HEAP_PREFETCH_PROBE	32
static int	heap_prefetch_calm = 0;	/* such scans in a row */
static int	heap_prefetch_idle = 0;	/* scans left that do not ask */

static bool
heap_prefetch_wanted(void)
{
	if (heap_prefetch_idle == 0)
		return true;
	heap_prefetch_idle--;
	return false;
}

/* What a scan's first requests found, once per scan */
static void
heap_prefetch_learn(bool missed)
{
	heap_prefetch_calm = missed ? 0 : heap_prefetch_calm + 1;
	if (heap_prefetch_calm >= HEAP_PREFETCH_CALM)
	{
		heap_prefetch_idle = HEAP_PREFETCH_PROBE;
		heap_prefetch_calm = 0;
	}
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
	hnswmm_count_search(scan);
	hnswmm_get_meta(scan->indexRelation, &meta);
	if (meta.dimensions == 0 || meta.entry_node == HNSWMM_INVALID_NODE)
		return false;
	hnswmm_layout_from_meta(&so->layout, &meta);
	so->query = scan_query(scan, &so->layout);
	hnswmm_page_graph_open(&so->pg, scan->indexRelation, &meta);
	hnswmm_page_graph_use_codes(&so->pg, &meta, so->query);
	so->started = true;
	entry.id = meta.entry_node;
	entry.dist = hnswmm_graph_distance(&so->pg.graph, so->query, entry.id);
	entry = hnswmm_greedy_descent(&so->pg.graph, so->query, entry, meta.entry_level, 0);
	hnswmm_iter_init(&so->iter, entry);
	so->settings = hnswmm_scan_settings();
	so->rerank = rerank_count(&so->layout, so->settings.ef_search);
	so->prefetch_heap = heap_prefetch_wanted();
	so->ef = Max(so->settings.ef_search, so->rerank);
	so->batch = palloc(sizeof(HnswmmCandidate) * so->ef);
	so->interlock = scan->xs_want_itup || !IsMVCCSnapshot(scan->xs_snapshot);
	return true;
}

/* Heap pages of this many results are requested before the first is returned */
#define HEAP_PREFETCH_FIRST	10

/*
 * Ask for the heap page of a result's row, unless the executor will not
 * visit it: an index-only scan skips pages that the visibility map shows
 * all-visible.  Returns whether the page had to be read.
 */
static bool
prefetch_heap_page(IndexScanDesc scan, const HnswmmNodeInfo *info)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;
	BlockNumber block;

	if (!ItemPointerIsValid(&info->heaptid) ||
		(info->flags & (HNSWMM_NODE_DEAD | HNSWMM_NODE_DELETED)))
		return false;
	block = ItemPointerGetBlockNumber(&info->heaptid);
	if (scan->xs_want_itup && VM_ALL_VISIBLE(scan->heapRelation, block, &so->vmbuf))
		return false;
	return PrefetchBuffer(scan->heapRelation, MAIN_FORKNUM, block).initiated_io;
}

/*
 * Ask for the heap pages of the rows a re-ranking from disk will most
 * likely return, its best HEAP_PREFETCH_FIRST candidates by code, along
 * with their vectors: the two sets of reads then overlap instead of
 * following each other.  A row that the exact distances bring in from
 * further down has its page asked for by prefetch_results.
 */
static void
prefetch_candidate_heap(IndexScanDesc scan, int n)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;

	if (!so->prefetch_heap || scan->heapRelation == NULL)
		return;
	for (int i = 0; i < Min(n, HEAP_PREFETCH_FIRST); i++)
	{
		HnswmmNodeInfo info;

		hnswmm_read_node(scan->indexRelation, &so->layout, so->batch[i].id, &info);
		(void) prefetch_heap_page(scan, &info);
	}
}

/*
 * Whether this backend's last re-ranking found its vectors slow to read
 * (not in memory).  Asking the kernel for each vector ahead costs a system
 * call apiece, which pays only when the vectors are on disk.  The time
 * measured includes those calls, so that reads they had finished by the
 * time the vectors were used still count as slow.
 */
static bool rerank_from_disk = true;

/*
 * A re-ranking slower than this per vector (plus a microsecond per
 * kilobyte of vector) read from disk, not memory
 */
#define RERANK_MEMORY_US	5

/*
 * A quantized index walks the graph by codes, with a beam at least as wide
 * as the re-ranking, so that the candidates to re-rank are there even for
 * a small ef_search.  Give the batch's best so->rerank candidates (all of
 * them under strict_order, which compares distances across batches) their
 * exact distances from the full vectors and put them first, closest first.
 * When the vectors come from disk, their pages are requested all at once
 * first, with the heap pages of the likely results, so that the reads
 * overlap.
 */
static void
rerank_batch(IndexScanDesc scan)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;
	HnswmmReader *reader = &so->pg.reader;
	int			n = so->nbatch;
	instr_time	start;
	instr_time	elapsed;

	if (so->rerank == 0 || n == 0)
		return;
	if (so->settings.iterative_scan != HNSWMM_ITERATIVE_STRICT)
		n = Min(n, so->rerank);
	INSTR_TIME_SET_CURRENT(start);
	if (rerank_from_disk)
	{
		instr_time	heap_start;
		instr_time	heap_time;

		for (int i = 0; i < n; i++)
			hnswmm_reader_willneed(reader, so->batch[i].id);
		/* the heap requests' time does not tell where the vectors are */
		INSTR_TIME_SET_CURRENT(heap_start);
		prefetch_candidate_heap(scan, n);
		INSTR_TIME_SET_CURRENT(heap_time);
		INSTR_TIME_SUBTRACT(heap_time, heap_start);
		INSTR_TIME_ADD(start, heap_time);
	}
	for (int i = 0; i < n; i++)
		so->batch[i].dist = hnswmm_reader_distance(reader, so->query,
												   so->batch[i].id);
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	rerank_from_disk = INSTR_TIME_GET_MICROSEC(elapsed) >
		(uint64) n * (RERANK_MEMORY_US + so->layout.dimensions / 256);
	hnswmm_sort_candidates(so->batch, n);
}

/*
 * An iterative scan reached hnswmm.max_scan_tuples while the executor
 * still asked for rows: the query gets fewer rows than its LIMIT, or
 * misses some of the nearest that pass its filter.  Say so once a scan
 * (a join rescans the same scan once for each outer row).
 */
static void
notice_scan_limit(IndexScanDesc scan)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;

	if (so->limit_noticed)
		return;
	so->limit_noticed = true;
	ereport(NOTICE,
			(errmsg("the scan of index \"%s\" stopped at hnswmm.max_scan_tuples (%d rows) before the query had all its rows",
					RelationGetRelationName(scan->indexRelation),
					so->settings.max_scan_tuples),
			 errhint("Raise hnswmm.max_scan_tuples (or hnsw.max_scan_tuples), or make the filter match more rows.")));
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
	so->nread = 0;
	if (!so->started)
	{
		if (start_search(scan))
			so->nbatch = hnswmm_iter_next_batch(&so->pg.graph, so->query,
												&so->iter, so->ef, so->batch);
	}
	else if (so->settings.iterative_scan != HNSWMM_ITERATIVE_OFF)
	{
		if (so->returned >= so->settings.max_scan_tuples)
			notice_scan_limit(scan);
		else
		{
			if (so->iter.visited == NULL)
				hnswmm_iter_keep_visited(&so->iter);
			so->nbatch = hnswmm_iter_next_batch(&so->pg.graph, so->query,
												&so->iter, so->ef, so->batch);
		}
	}
	rerank_batch(scan);
	so->done = so->nbatch == 0;
	MemoryContextSwitchTo(old);
	return !so->done;
}

/*
 * Ask for the heap pages of the batch's results up to the (i + 1)-th, so
 * that reads of pages not in memory overlap instead of coming one at a
 * time as the executor fetches each row.  The look-ahead covers a LIMIT 10
 * at once and doubles as the query keeps asking.  The records read here
 * only serve the requests: a row is handed out from its record as it is
 * then (hand_out).  What the first requests found tells whether the next
 * scans ask (heap_prefetch_learn).
 */
static void
prefetch_results(IndexScanDesc scan, int i)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;
	int			want = Min(so->nbatch, Max(HEAP_PREFETCH_FIRST, 2 * (i + 1)));

	if (!so->prefetch_heap || scan->heapRelation == NULL)
		return;
	for (; so->nread < want; so->nread++)
	{
		HnswmmNodeInfo info;

		hnswmm_read_node(scan->indexRelation, &so->layout,
						 so->batch[so->nread].id, &info);
		so->heap_missed |= prefetch_heap_page(scan, &info);
	}
	if (so->prefetch_heap && !so->heap_learned)
	{
		heap_prefetch_learn(so->heap_missed);
		so->heap_learned = true;
	}
}

/*
 * The next node to hand out: each search result, then the rows of its
 * duplicate chain (so->chain).  Under strict_order a result closer than one
 * already handed out (found by a later batch) is dropped.
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
		if (so->settings.iterative_scan == HNSWMM_ITERATIVE_STRICT &&
			so->returned > 0 && c.dist < so->last_dist)
			continue;
		so->returned++;
		so->last_dist = c.dist;
		prefetch_results(scan, so->next - 1);
		*id = c.id;
		return true;
	}
}

/*
 * Node id's record as it is now, for handing its row out; with the
 * interlock, its graph page stays pinned until the next row (release_held).
 */
static void
hand_out(IndexScanDesc scan, uint32 id, HnswmmNodeInfo *info)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;

	if (!so->interlock)
	{
		hnswmm_read_node(scan->indexRelation, &so->layout, id, info);
		return;
	}
	so->held = hnswmm_read_node_pinned(scan->indexRelation, &so->layout, id,
									   so->held, info);
}

/*
 * An index-only scan's row for node id: its vector and INCLUDE values from
 * its slot, in memory that lasts until the next row
 */
static void
form_result(IndexScanDesc scan, uint32 id)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;
	MemoryContext old;
	char	   *slot;

	MemoryContextReset(so->row_ctx);
	old = MemoryContextSwitchTo(so->row_ctx);
	slot = palloc(so->layout.slot_size);
	hnswmm_reader_copy_slot(&so->pg.reader, id, slot);
	scan->xs_hitup = hnswmm_form_result(scan->indexRelation, &so->layout, slot);
	scan->xs_hitupdesc = RelationGetDescr(scan->indexRelation);
	MemoryContextSwitchTo(old);
}

bool
hnswmm_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;
	HnswmmNodeInfo info;
	uint32		id;

	/* the executor is done with the row handed out last */
	release_held(so);
	while (next_node(scan, &id))
	{
		hand_out(scan, id, &info);
		so->chain = info.dup_next;
		if ((info.flags & (HNSWMM_NODE_DEAD | HNSWMM_NODE_DELETED)) ||
			!ItemPointerIsValid(&info.heaptid))
			continue;
		scan->xs_heaptid = info.heaptid;
		scan->xs_recheck = false;
		scan->xs_recheckorderby = false;
		if (scan->xs_want_itup)
			form_result(scan, id);
		return true;
	}
	return false;
}

void
hnswmm_endscan(IndexScanDesc scan)
{
	HnswmmScanOpaque so = (HnswmmScanOpaque) scan->opaque;

	release_held(so);
	if (so->started)
		hnswmm_page_graph_close(&so->pg);
	if (BufferIsValid(so->vmbuf))
		ReleaseBuffer(so->vmbuf);
	MemoryContextDelete(so->ctx);
	MemoryContextDelete(so->row_ctx);
	pfree(so);
	scan->opaque = NULL;
}
