/*
 * hnswmm_build.c
 *		CREATE INDEX: number the heap's rows cluster by cluster
 *		(hnswmm_buildorder.c), write their vectors into vector pages in bulk
 *		(bypassing shared buffers), map the file just written, build the
 *		graph in memory over the mapped vectors, then write the graph pages
 *		and the metapage, WAL-log the relation if it needs WAL, and sync it.
 *
 * Build memory is the graph only (about 16 + 8m bytes a node plus the upper
 * layers); the vectors stay in the OS page cache.  Also the empty index of
 * an unlogged table (its init fork).
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "common/pg_prng.h"
#include "hnswmm.h"
#include "hnswmm_buildgraph.h"
#include "hnswmm_buildorder.h"
#include "hnswmm_centers.h"
#include "hnswmm_compat.h"
#include "hnswmm_mapping.h"
#include "hnswmm_quant.h"
#include "hnswmm_utils.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* Sub-phases shown in pg_stat_progress_create_index */
#define PHASE_LOAD		2
#define PHASE_GRAPH		3
#define PHASE_WRITE		4
#define PHASE_ORDER		5

/* Seed of the layer generator, so that a build is reproducible */
#define BUILD_SEED		UINT64CONST(0x686e73776d6d)

typedef struct BuildState
{
	Relation	index;
	HnswmmParams params;		/* the index's options */
	HnswmmLayout layout;
	bool		have_layout;
	bool		needs_wal;
	XLogRecPtr	redo_at_start;	/* GetRedoRecPtr() when the writes began */
	uint32		nrows;			/* rows kept for the index so far */
	uint32		nnodes;			/* of them, rows that have their node id */
	uint32		nodes_size;		/* allocated entries of nodes */
	BuildNode  *nodes;
	char	   *vector_pages;	/* the current extent's vector pages */
	uint32	   *upper_used;		/* bytes used in each upper page of it */
	float	   *vec;			/* one prepared vector (dimensions floats) */
	char	   *slot;			/* its slot: the vector as the index keeps
								 * it, then its INCLUDE values */
	HnswmmOrder *order;			/* the rows, until they get their ids */
	MemoryContext value_ctx;	/* a row's value as floats (reset per row) */
	HnswmmCenters *centers;		/* binary codes: their centers, once chosen */
	char	   *center_codes;	/* their codes for the center pages */
	double		heap_tuples;
	pg_prng_state prng;
} BuildState;

char *
hnswmm_buildphasename(int64 phase)
{
	switch (phase)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case PHASE_LOAD:
			return "loading vectors";
		case PHASE_GRAPH:
			return "building graph";
		case PHASE_WRITE:
			return "writing graph";
		case PHASE_ORDER:
			return "ordering vectors";
		default:
			return NULL;
	}
}

/* A size for people: kB below 10 MB */
static char *
format_size(Size bytes)
{
	if (bytes < 10 * 1024 * 1024)
		return psprintf("%.0f kB", bytes / 1024.0);
	return psprintf("%.1f MB", bytes / (1024.0 * 1024.0));
}

/* Dimensions declared by the indexed column's typmod, or 0 */
static int
declared_dimensions(Relation index)
{
	return Max(TupleDescAttr(RelationGetDescr(index), 0)->atttypmod, 0);
}

/*
 * Write pages [first, first + n) of the main fork directly to the file,
 * WAL-logging them first when the relation needs it.  New blocks are
 * appended, existing ones overwritten.
 */
static void
write_pages(BuildState *bs, BlockNumber first, char *pages, int n, bool extend)
{
	BlockNumber *blknos = palloc(sizeof(BlockNumber) * n);
	Page	   *ptrs = palloc(sizeof(Page) * n);

	for (int i = 0; i < n; i++)
	{
		blknos[i] = first + i;
		ptrs[i] = pages + (Size) i * BLCKSZ;
	}
	if (bs->needs_wal)
		log_newpages(&HNSWMM_REL_FILE(bs->index), MAIN_FORKNUM, n, blknos, ptrs, true);
	for (int i = 0; i < n; i++)
	{
		PageSetChecksumInplace(ptrs[i], blknos[i]);
		if (extend)
			smgrextend(RelationGetSmgr(bs->index), MAIN_FORKNUM, blknos[i],
					   ptrs[i], true);
		else
			smgrwrite(RelationGetSmgr(bs->index), MAIN_FORKNUM, blknos[i],
					  ptrs[i], true);
	}
	pfree(blknos);
	pfree(ptrs);
}

static void
start_extent(BuildState *bs, uint32 extent)
{
	HnswmmLayout *layout = &bs->layout;

	for (uint32 i = 0; i < layout->vector_pages; i++)
		hnswmm_init_page(bs->vector_pages + (Size) i * BLCKSZ,
						 HNSWMM_PAGE_VECTOR, extent);
	memset(bs->upper_used, 0, sizeof(uint32) * layout->upper_pages);
}

/*
 * Append the current extent to the file: placeholder graph and upper pages
 * (written for real once the graph exists), then its vector pages.
 */
static void
flush_extent(BuildState *bs, uint32 extent)
{
	HnswmmLayout *layout = &bs->layout;
	uint32		fixed = layout->graph_pages + layout->upper_pages;
	BlockNumber start = hnswmm_extent_start(layout, extent);
	char	   *placeholder = palloc(BLCKSZ);

	for (uint32 i = 0; i < fixed; i++)
	{
		hnswmm_init_page(placeholder,
						 i < layout->graph_pages ? HNSWMM_PAGE_GRAPH : HNSWMM_PAGE_UPPER,
						 extent);
		PageSetChecksumInplace(placeholder, start + i);
		smgrextend(RelationGetSmgr(bs->index), MAIN_FORKNUM, start + i,
				   placeholder, true);
	}
	pfree(placeholder);
	write_pages(bs, start + fixed, bs->vector_pages, layout->vector_pages, true);
}

/* Copy a slot into the extent's vector pages, raising pd_lower */
static void
store_vector(BuildState *bs, uint32 id, const char *src)
{
	HnswmmLayout *layout = &bs->layout;
	HnswmmSlot	slot = hnswmm_vector_slot(layout, id);
	BlockNumber first = hnswmm_extent_start(layout, id / layout->nodes_per_extent) +
		layout->graph_pages + layout->upper_pages;
	uint32		page = slot.first_block - first;
	Size		left = (Size) layout->slot_size;
	uint32		offset = slot.offset;

	while (left > 0)
	{
		Page		p = bs->vector_pages + (Size) page * BLCKSZ;
		Size		n = Min(left, HNSWMM_PAYLOAD - offset);

		memcpy(HnswmmPagePayload(p) + offset, src, n);
		((PageHeader) p)->pd_lower = HNSWMM_PAGE_HEADER + offset + n;
		src += n;
		left -= n;
		offset = 0;
		page++;
	}
}

/*
 * Pick the layer of a new node and the upper page of its extent that takes
 * its upper record; a node whose record fits nowhere gets a lower layer.
 */
static void
assign_level(BuildState *bs, BuildNode *node)
{
	HnswmmLayout *layout = &bs->layout;
	int			want = hnswmm_random_level(layout->m, pg_prng_double(&bs->prng));
	int			best = 0;
	uint32		best_page = 0;

	for (uint32 p = 0; p < layout->upper_pages && best < want; p++)
	{
		int			fits = hnswmm_upper_capacity_level(layout, want, bs->upper_used[p]);

		if (fits > best)
		{
			best = fits;
			best_page = p;
		}
	}
	node->level = best;
	node->upper_page = best_page;
	node->upper_offset = best > 0 ? bs->upper_used[best_page] : 0;
	if (best > 0)
		bs->upper_used[best_page] += best * HNSWMM_LAYER_SIZE(layout->m);
}

/*
 * The center pages: empty ones, extended right after the metapage as soon
 * as the layout is known, so that the extents follow them; the centers
 * once chosen
 */
static void
write_center_pages(BuildState *bs, bool extend)
{
	uint32		n = bs->layout.center_pages;
	char	   *pages;

	if (n == 0)
		return;
	pages = palloc((Size) n * BLCKSZ);
	hnswmm_center_page_images(pages, n, bs->center_codes,
							  bs->center_codes ? bs->centers->count : 0,
							  hnswmm_center_size(bs->layout.quantization,
												 bs->layout.dimensions));
	write_pages(bs, HNSWMM_METAPAGE_BLKNO + 1, pages, n, extend);
	pfree(pages);
}

static void
set_layout(BuildState *bs, int dimensions)
{
	hnswmm_check_params(bs->index, dimensions, &bs->params);
	hnswmm_compute_layout(&bs->layout, dimensions, hnswmm_index_metric(bs->index),
						  &bs->params);
	bs->layout.center_pages = hnswmm_center_pages(bs->params.quantization, dimensions);
	write_center_pages(bs, true);
	bs->vector_pages = palloc((Size) bs->layout.vector_pages * BLCKSZ);
	bs->upper_used = palloc(sizeof(uint32) * bs->layout.upper_pages);
	bs->vec = palloc0(sizeof(float) * dimensions);
	bs->slot = palloc0(bs->layout.slot_size);
	bs->order = hnswmm_order_begin(&bs->layout);
	bs->have_layout = true;
}

static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	BuildState *bs = (BuildState *) state;
	MemoryContext old;
	const float *value;
	int			dim;
	bool		indexable;

	if (isnull[0])
		return;
	MemoryContextReset(bs->value_ctx);
	old = MemoryContextSwitchTo(bs->value_ctx);
	value = hnswmm_value_floats(index, values[0], &dim);
	MemoryContextSwitchTo(old);
	if (!bs->have_layout)
		set_layout(bs, dim);
	hnswmm_check_dimensions(index, bs->layout.dimensions, dim);
	indexable = hnswmm_prepare_vector(bs->layout.metric, value, bs->vec, dim);
	if (!indexable)
		return;					/* a zero vector under cosine: not indexed */
	hnswmm_encode_slot(&bs->layout, bs->vec, bs->slot);
	if (bs->layout.include_size > 0)
		hnswmm_encode_include(index, values, isnull,
							  bs->slot + bs->layout.vector_bytes);
	if (++bs->nrows == HNSWMM_INVALID_NODE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("hnswmm indexes hold at most %u vectors",
						HNSWMM_INVALID_NODE - 1)));
	hnswmm_order_add(bs->order, tid, bs->slot, bs->vec);
}

/* Give a row the next node id: its slot, its layer */
static void
add_node(void *arg, ItemPointer tid, const char *slot)
{
	BuildState *bs = (BuildState *) arg;
	MemoryContext old;
	uint32		id = bs->nnodes++;

	if (id % bs->layout.nodes_per_extent == 0)
		start_extent(bs, id / bs->layout.nodes_per_extent);
	store_vector(bs, id, slot);

	if (id >= bs->nodes_size)
	{
		bs->nodes_size = Min((Size) bs->nodes_size * 2, (Size) HNSWMM_INVALID_NODE);
		old = MemoryContextSwitchTo(GetMemoryChunkContext(bs->nodes));
		bs->nodes = repalloc_huge(bs->nodes, sizeof(BuildNode) * bs->nodes_size);
		MemoryContextSwitchTo(old);
	}
	bs->nodes[id].tid = *tid;
	bs->nodes[id].flags = 0;
	bs->nodes[id].dup_next = HNSWMM_INVALID_NODE;
	assign_level(bs, &bs->nodes[id]);

	if ((id + 1) % bs->layout.nodes_per_extent == 0)
		flush_extent(bs, id / bs->layout.nodes_per_extent);
}

/*
 * Fill the graph and upper pages of one extent from the in-memory graph.
 * Codes of a quantized index are made here from the vectors, which the
 * reader streams from the file in order.
 */
static void
write_extent_graph(BuildState *bs, BuildShared *graph, HnswmmReader *reader,
				   uint32 extent, char *pages)
{
	BuildNode  *nodes = BUILD_NODES(graph);
	uint32	   *level0 = BUILD_LEVEL0(graph);
	uint16	   *count0 = BUILD_COUNT0(graph);
	uint32	   *upper = BUILD_UPPER(graph);
	int			m = bs->layout.m;
	HnswmmLayout *layout = &bs->layout;
	uint32		fixed = layout->graph_pages + layout->upper_pages;
	uint32		first = extent * layout->nodes_per_extent;
	uint32		last = Min(first + layout->nodes_per_extent, bs->nnodes);

	/* the codes are made from the extent's vectors: read them in one go */
	if (layout->code_size > 0)
		(void) hnswmm_reader_willneed_blocks(reader,
											 hnswmm_extent_start(layout, extent) + fixed,
											 layout->vector_pages);
	for (uint32 i = 0; i < fixed; i++)
		hnswmm_init_page(pages + (Size) i * BLCKSZ,
						 i < layout->graph_pages ? HNSWMM_PAGE_GRAPH : HNSWMM_PAGE_UPPER,
						 extent);
	for (uint32 id = first; id < last; id++)
	{
		uint32		k = id - first;
		Page		gp = pages + (Size) (k / layout->nodes_per_graph_page) * BLCKSZ;
		HnswmmNode *node = hnswmm_page_node(layout, gp, id);
		BuildNode  *bn = &nodes[id];
		uint32		end = (k % layout->nodes_per_graph_page + 1) * layout->node_size;

		memset(node, 0xFF, layout->node_size);
		node->heaptid = bn->tid;
		node->level = bn->flags ? 0 : bn->level;
		node->flags = bn->flags;
		node->nneighbors = count0[id];
		node->upper_page = bn->upper_page;
		node->upper_offset = bn->upper_offset;
		node->unused = 0;
		node->dup_next = bn->dup_next;
		node->ring_next = bn->ring_next;
		memcpy(node->neighbors, level0 + (Size) id * 2 * m, sizeof(uint32) * count0[id]);
		if (layout->code_size > 0)
		{
			hnswmm_reader_copy(reader, id, bs->vec);
			hnswmm_encode(layout, bs->centers, bs->vec,
						  (char *) node + layout->code_offset);
		}
		((PageHeader) gp)->pd_lower = HNSWMM_PAGE_HEADER + end;

		for (int l = 1; l <= node->level; l++)
		{
			Page		up = pages + (Size) (layout->graph_pages + bn->upper_page) * BLCKSZ;
			HnswmmLayer *layer = (HnswmmLayer *) (HnswmmPagePayload(up) + bn->upper_offset +
												  (l - 1) * HNSWMM_LAYER_SIZE(m));
			const uint32 *src = upper + bn->upper + (l - 1) * (m + 1);
			uint32		layer_end = bn->upper_offset + l * HNSWMM_LAYER_SIZE(m);

			memset(layer, 0xFF, HNSWMM_LAYER_SIZE(m));
			layer->nneighbors = src[0];
			memcpy(layer->neighbors, src + 1, sizeof(uint32) * src[0]);
			((PageHeader) up)->pd_lower = Max(((PageHeader) up)->pd_lower,
											  HNSWMM_PAGE_HEADER + layer_end);
		}
	}
	write_pages(bs, hnswmm_extent_start(layout, extent), pages, fixed, false);
}

/*
 * The centers of binary codes, from the vectors just written (the mapping
 * of the file reads them)
 */
static void
choose_centers(BuildState *bs)
{
	HnswmmReader reader;

	if (bs->layout.quantization != HNSWMM_QUANT_BINARY || bs->nnodes == 0)
		return;
	hnswmm_reader_open_build(&reader, bs->index, &bs->layout, bs->nnodes);
	bs->centers = hnswmm_choose_centers(&reader, bs->nnodes, &bs->center_codes);
	hnswmm_reader_close(&reader);
}

static void
write_metapage(BuildState *bs, BuildShared *graph, bool extend)
{
	char	   *page = palloc(BLCKSZ);
	HnswmmMetaPage meta;

	hnswmm_init_metapage(page, hnswmm_index_metric(bs->index), &bs->params);
	meta = HnswmmPageGetMeta(page);
	if (bs->have_layout)
	{
		hnswmm_layout_to_meta(&bs->layout, meta);
		if (bs->center_codes != NULL)
		{
			meta->center_size = hnswmm_center_size(bs->layout.quantization,
												   bs->layout.dimensions);
			meta->ncenters = bs->centers->count;
		}
	}
	meta->nnodes = bs->nnodes;
	meta->flushed = bs->nnodes;
	if (!RelationUsesLocalBuffers(bs->index))
	{
		hnswmm_stamp(bs->index, meta);
	}
	if (graph != NULL)
	{
		meta->entry_node = graph->entry;
		meta->entry_level = graph->entry_level;
	}
	write_pages(bs, HNSWMM_METAPAGE_BLKNO, page, 1, extend);
	pfree(page);
}

IndexBuildResult *
hnswmm_build(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	BuildState	bs;
	BuildGraphResult graph = {0};
	MemoryContext ctx;
	MemoryContext old;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data",
			 RelationGetRelationName(index));

	ctx = AllocSetContextCreate(CurrentMemoryContext, "hnswmm build",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(ctx);
	memset(&bs, 0, sizeof(bs));
	hnswmm_read_options(index, &bs.params);
	bs.index = index;
	bs.needs_wal = RelationNeedsWAL(index);
	bs.redo_at_start = GetRedoRecPtr();
	bs.nodes_size = 1024;
	bs.nodes = MemoryContextAllocHuge(ctx, sizeof(BuildNode) * bs.nodes_size);
	pg_prng_seed(&bs.prng, BUILD_SEED);
	bs.value_ctx = AllocSetContextCreate(ctx, "hnswmm build value",
										 ALLOCSET_DEFAULT_SIZES);
	hnswmm_check_params(index, 0, &bs.params);	/* what needs no dimensions */

	/* the metapage goes first; it is rewritten at the end */
	write_metapage(&bs, NULL, true);
	if (declared_dimensions(index) > 0)
		set_layout(&bs, declared_dimensions(index));

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PHASE_LOAD);
	bs.heap_tuples = table_index_build_scan(heap, index, indexInfo, true, true,
											build_callback, &bs, NULL);
	if (bs.have_layout)
	{
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PHASE_ORDER);
		hnswmm_order_emit(bs.order, add_node, &bs);
	}
	if (bs.have_layout && bs.nnodes % bs.layout.nodes_per_extent != 0)
		flush_extent(&bs, bs.nnodes / bs.layout.nodes_per_extent);
	if (bs.have_layout)
		choose_centers(&bs);

	if (bs.nnodes > 0)
	{
		char	   *pages = palloc((Size) (bs.layout.graph_pages + bs.layout.upper_pages) * BLCKSZ);
		uint32		nextents = (bs.nnodes - 1) / bs.layout.nodes_per_extent + 1;
		HnswmmReader reader;

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PHASE_GRAPH);
		hnswmm_build_graph(heap, index, indexInfo, &bs.layout, bs.nodes, bs.nnodes,
						   &graph);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PHASE_WRITE);
		hnswmm_reader_open_build(&reader, index, &bs.layout, bs.nnodes);
		for (uint32 e = 0; e < nextents; e++)
			write_extent_graph(&bs, graph.shared, &reader, e, pages);
		hnswmm_reader_close(&reader);
		ereport(NOTICE,
				(errmsg("hnswmm graph of %u vectors built in %s of memory%s",
						bs.nnodes, format_size(graph.shared->size),
						graph.pcxt ? psprintf(" with %d parallel workers",
											  graph.pcxt->nworkers_launched) : "")));
	}
	write_metapage(&bs, graph.shared, false);
	if (bs.have_layout)
		write_center_pages(&bs, false);
	hnswmm_build_graph_end(&graph);
	hnswmm_sync_after_build(index, MAIN_FORKNUM, bs.needs_wal, bs.redo_at_start);

	MemoryContextSwitchTo(old);
	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = bs.heap_tuples;
	result->index_tuples = bs.nnodes;
	MemoryContextDelete(ctx);
	return result;
}

/* The init fork of an unlogged index: an empty metapage */
void
hnswmm_buildempty(Relation index)
{
	char	   *page = palloc(BLCKSZ);
	HnswmmParams params;
	XLogRecPtr	redo_at_start = GetRedoRecPtr();

	hnswmm_read_options(index, &params);
	hnswmm_init_metapage(page, hnswmm_index_metric(index), &params);
	PageSetChecksumInplace(page, HNSWMM_METAPAGE_BLKNO);
	smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, HNSWMM_METAPAGE_BLKNO,
			  page, true);
	log_newpage(&HNSWMM_REL_FILE(index), INIT_FORKNUM, HNSWMM_METAPAGE_BLKNO,
				page, true);
	hnswmm_sync_after_build(index, INIT_FORKNUM, true, redo_at_start);
	pfree(page);
}
