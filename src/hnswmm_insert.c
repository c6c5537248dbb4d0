/*
 * hnswmm_insert.c
 *		INSERT into an hnswmm index: append the node, search the graph for
 *		its neighbours, link it both ways, then let the vector store advance
 *		the flushed watermark.
 *
 * Locking: inserts hold the index's update lock (a heavyweight page lock on
 * a fake block) in share mode, and in exclusive mode only when the new
 * node becomes the entry point.  VACUUM takes it exclusively for a moment
 * to wait out inserts that may have seen a node before it was marked dead.
 * Neighbour lists are changed with compare-and-swap (hnswmm_add_links over
 * hnswmm_replace_neighbors), so no page lock is held while vectors are read.
 */
#include "postgres.h"

#include "common/pg_prng.h"
#include "hnswmm.h"
#include "hnswmm_flush.h"
#include "hnswmm_graph.h"
#include "hnswmm_utils.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"

/*
 * Drop from the search results what must not be linked: nodes VACUUM has
 * marked dead or deleted.  Returns the new count.
 */
static int
keep_linkable(Relation index, const HnswmmLayout *layout,
			  HnswmmCandidate *found, int n)
{
	int			kept = 0;

	for (int i = 0; i < n; i++)
	{
		HnswmmNodeInfo info;

		hnswmm_read_node(index, layout, found[i].id, &info);
		if (info.flags & (HNSWMM_NODE_DEAD | HNSWMM_NODE_DELETED))
			continue;
		found[kept++] = found[i];
	}
	return kept;
}

/*
 * Give the candidates a search by codes found their exact distances, their
 * vectors asked for all at once first so that reads from disk overlap, and
 * sort them, closest first.  All of them: re-ranking only the 2m closest
 * by sq8 code cost recall@10 0.006 on fashion-mnist at ef_search 10, and
 * ef_construction reads are still few against the thousand or so
 * distances a search by full vectors computes.
 */
static void
rerank_candidates(HnswmmReader *reader, const float *vec,
				  HnswmmCandidate *found, int n)
{
	for (int i = 0; i < n; i++)
		hnswmm_reader_willneed(reader, found[i].id);
	for (int i = 0; i < n; i++)
		found[i].dist = hnswmm_reader_distance(reader, vec, found[i].id);
	hnswmm_sort_candidates(found, n);
}

/* Link node id, just appended as a graph node, into the layers it was searched in */
static void
link_node(HnswmmReader *reader, uint32 id, int top,
		  HnswmmCandidate **found, int *nfound)
{
	uint32	   *chosen = palloc(sizeof(uint32) * reader->layout.m);
	HnswmmListStore store;

	hnswmm_page_list_store(reader, &store);

	for (int l = top; l >= 0; l--)
	{
		int			nchosen = hnswmm_select_neighbors(reader, found[l], nfound[l],
													  reader->layout.m, false, chosen);

		hnswmm_add_links(reader, &store, id, l, chosen, nchosen);
		for (int i = 0; i < nchosen; i++)
			hnswmm_add_links(reader, &store, chosen[i], l, &id, 1);
	}
	pfree(chosen);
}

/*
 * Insert into a non-empty graph: search every layer the node will be in,
 * then either chain the row to an existing node with the same vector or
 * append a graph node and link it.
 */
static void
insert_into_graph(Relation index, const HnswmmMetaPageData *meta,
				  const float *vec, const char *slot, ItemPointer tid, int level)
{
	HnswmmPageGraph pg;
	HnswmmReader *reader = &pg.reader;
	int			ef = meta->ef_construction;
	HnswmmCandidate *found[HNSWMM_MAX_LEVEL + 1];
	int			nfound[HNSWMM_MAX_LEVEL + 1];
	int			top;
	uint32		head;
	uint32		id;

	hnswmm_page_graph_open(&pg, index, meta);
	hnswmm_page_graph_use_codes(&pg, meta, vec);
	for (int l = 0; l <= Min(level, meta->entry_level); l++)
		found[l] = palloc(sizeof(HnswmmCandidate) * (ef + 1));
	top = hnswmm_search_for_insert(&pg.graph, vec, meta->entry_node,
								   meta->entry_level, level, ef, found, nfound);
	for (int l = top; l >= 0; l--)
	{
		nfound[l] = keep_linkable(index, &reader->layout, found[l], nfound[l]);
		if (pg.codes != NULL)
			rerank_candidates(reader, vec, found[l], nfound[l]);
	}
	head = hnswmm_find_duplicate(reader, vec, found[0], nfound[0]);
	if (head != HNSWMM_INVALID_NODE)
	{
		int			no_layers = 0;

		hnswmm_append_node(index, &reader->layout, vec, slot, tid, &no_layers,
						   HNSWMM_NODE_DUPLICATE, HNSWMM_LINK_DUP, head);
	}
	else
	{
		/* on the ring after its closest live neighbour */
		id = hnswmm_append_node(index, &reader->layout, vec, slot, tid, &level, 0,
								HNSWMM_LINK_RING,
								nfound[0] > 0 ? found[0][0].id : meta->entry_node);
		link_node(reader, id, Min(top, level), found, nfound);
		if (level > meta->entry_level)
			hnswmm_update_entry(index, id, level, false);
	}
	hnswmm_page_graph_close(&pg);
}

/* A row's vector (values[0]) with its INCLUDE values (from values[1] on) */
static void
insert_vector(Relation index, const Datum *values, const bool *isnull,
			  ItemPointer tid)
{
	int			dim;
	const float *value = hnswmm_value_floats(index, values[0], &dim);
	HnswmmMetaPageData meta;
	HnswmmLayout layout;
	LOCKMODE	mode = ShareLock;
	float	   *vec;
	char	   *slot;
	int			level;

	hnswmm_get_meta(index, &meta);
	if (meta.dimensions == 0)
		hnswmm_set_dimensions(index, dim, &meta);
	hnswmm_check_dimensions(index, meta.dimensions, dim);
	hnswmm_layout_from_meta(&layout, &meta);
	vec = palloc(sizeof(float) * dim);
	slot = palloc0(layout.slot_size);
	if (!hnswmm_prepare_vector(layout.metric, value, vec, dim))
		return;					/* a zero vector under cosine: not indexed */
	hnswmm_encode_slot(&layout, vec, slot);
	if (layout.include_size > 0)
		hnswmm_encode_include(index, values, isnull, slot + layout.vector_bytes);
	level = hnswmm_random_level(layout.m, pg_prng_double(&pg_global_prng_state));

	LockPage(index, HNSWMM_UPDATE_LOCK, mode);
	hnswmm_get_meta(index, &meta);
	if (meta.entry_node == HNSWMM_INVALID_NODE || level > meta.entry_level)
	{
		UnlockPage(index, HNSWMM_UPDATE_LOCK, mode);
		mode = ExclusiveLock;
		LockPage(index, HNSWMM_UPDATE_LOCK, mode);
		hnswmm_get_meta(index, &meta);
	}
	if (meta.entry_node == HNSWMM_INVALID_NODE)
		hnswmm_append_node(index, &layout, vec, slot, tid, &level, 0,
						   HNSWMM_LINK_RING, HNSWMM_INVALID_NODE);
	else
		insert_into_graph(index, &meta, vec, slot, tid, level);
	UnlockPage(index, HNSWMM_UPDATE_LOCK, mode);
	hnswmm_advance_flushed(index);
}

bool
hnswmm_insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
			  Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
			  IndexInfo *indexInfo)
{
	MemoryContext ctx;
	MemoryContext old;

	if (isnull[0])
		return false;
	ctx = AllocSetContextCreate(CurrentMemoryContext, "hnswmm insert",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(ctx);
	insert_vector(index, values, isnull, heap_tid);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
