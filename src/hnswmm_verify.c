/*
 * hnswmm_verify.c
 *		hnswmm_verify(regclass): an amcheck-style checker that reads the
 *		whole index and raises an error naming the first problem it finds:
 *		bad page headers, neighbour ids out of range, links to deleted
 *		nodes, broken duplicate chains, upper records outside their page,
 *		vector slots past the watermark, an entry point that is not on the
 *		top layer, heap TIDs that do not exist.  Returns what it checked,
 *		and how many nodes in use a walk from the entry point through
 *		neighbour lists does not reach (not corruption: the ring still
 *		reaches them, and VACUUM links them again).
 *
 * On a primary the table's ShareLock keeps writers out.  On a hot standby
 * replay goes on while the checker reads: it adds nodes and links them,
 * and replays VACUUM.  Everything is bounded by the node count read at the
 * start, ids appended since are not checked, a doubt that replay may
 * explain (a TID just removed, an id just appended) is settled by reading
 * again, and the ring, which replay rewrites while it would be walked, is
 * not walked there.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "funcapi.h"
#include "hnswmm.h"
#include "hnswmm_centers.h"
#include "hnswmm_quant.h"
#include "hnswmm_graph.h"
#include "hnswmm_utils.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/rel.h"

typedef struct VerifyState
{
	Relation	index;
	Relation	heap;
	BlockNumber heap_blocks;
	HnswmmMetaPageData meta;
	HnswmmLayout layout;
	uint8	   *flags;			/* flags of every node */
	uint8	   *levels;			/* top layer of every node */
	bool	   *in_use;			/* graph node with a live row in its chain */
	bool		replaying;		/* a hot standby: replay goes on */
	int64		links;
	int64		duplicates;
	int64		deleted;
	int64		live;
	int64		unreachable;
} VerifyState;

HNSWMM_NORETURN static void
corrupt(VerifyState *vs, const char *fmt, uint32 id)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("index \"%s\" is corrupted", RelationGetRelationName(vs->index)),
			 errdetail_internal(fmt, id),
			 errhint("REINDEX the index.")));
}

/* Read block blkno, checking it is an initialised page of type `type` */
static Buffer
read_page(VerifyState *vs, BlockNumber blkno, uint16 type)
{
	Buffer		buf = ReadBuffer(vs->index, blkno);
	Page		page;
	PageHeader	hdr;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	hdr = (PageHeader) page;
	if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswmmPageOpaqueData)) ||
		HnswmmPageGetOpaque(page)->page_type != type ||
		hdr->pd_lower < HNSWMM_PAGE_HEADER || hdr->pd_lower > hdr->pd_upper)
		corrupt(vs, "block %u has a bad page header or the wrong page type", blkno);
	return buf;
}

/*
 * An id at or past the node count read at the start: appended since (on a
 * standby, by replay), or out of range
 */
static void
check_new_id(VerifyState *vs, uint32 id, uint32 linked, const char *fmt)
{
	HnswmmMetaPageData now;

	hnswmm_get_meta(vs->index, &now);
	if (linked >= now.nnodes)
		corrupt(vs, fmt, id);
}

static void
check_neighbors(VerifyState *vs, uint32 id, const uint32 *ids, uint32 n, uint32 cap)
{
	if (n > cap)
		corrupt(vs, "node %u has more neighbours than fit", id);
	for (uint32 i = 0; i < n; i++)
	{
		if (ids[i] >= vs->meta.nnodes)
			check_new_id(vs, id, ids[i], "node %u links a neighbour id out of range");
		vs->links++;
	}
}

static void
check_heap_tid(VerifyState *vs, uint32 id, ItemPointer tid)
{
	BlockNumber blkno = ItemPointerGetBlockNumberNoCheck(tid);
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);
	Buffer		buf;
	Page		page;
	bool		ok;

	if (!ItemPointerIsValid(tid) || blkno >= vs->heap_blocks)
		corrupt(vs, "node %u points to a heap tuple that does not exist", id);
	buf = ReadBuffer(vs->heap, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	ok = off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(page) &&
		ItemIdIsUsed(PageGetItemId(page, off));
	UnlockReleaseBuffer(buf);
	if (!ok && vs->replaying)
	{
		HnswmmNodeInfo info;

		/* replay of a VACUUM may have removed the row since */
		hnswmm_read_node(vs->index, &vs->layout, id, &info);
		ok = (info.flags & (HNSWMM_NODE_DEAD | HNSWMM_NODE_DELETED)) != 0;
	}
	if (!ok)
		corrupt(vs, "node %u points to a heap tuple that does not exist", id);
}

/* The layer 1..level record of node id, checked against its upper page */
static void
check_upper(VerifyState *vs, uint32 id, const HnswmmNode *node)
{
	BlockNumber blkno;
	Buffer		buf;
	Page		page;
	uint32		end = node->upper_offset + node->level * HNSWMM_LAYER_SIZE(vs->layout.m);

	if (node->upper_page >= vs->layout.upper_pages)
		corrupt(vs, "node %u has its upper layers on a page outside its extent", id);
	blkno = hnswmm_extent_start(&vs->layout, id / vs->layout.nodes_per_extent) +
		vs->layout.graph_pages + node->upper_page;
	buf = read_page(vs, blkno, HNSWMM_PAGE_UPPER);
	page = BufferGetPage(buf);
	if (HNSWMM_PAGE_HEADER + end > ((PageHeader) page)->pd_lower)
		corrupt(vs, "node %u has an upper record past the end of its page", id);
	for (int l = 1; l <= node->level; l++)
	{
		HnswmmLayer *layer = (HnswmmLayer *) (HnswmmPagePayload(page) + node->upper_offset +
											  (l - 1) * HNSWMM_LAYER_SIZE(vs->layout.m));

		check_neighbors(vs, id, layer->neighbors, layer->nneighbors, vs->layout.m);
	}
	UnlockReleaseBuffer(buf);
}

/* Pass 1: every node record by itself */
static void
check_node(VerifyState *vs, uint32 id, const HnswmmNode *node)
{
	uint8		known = HNSWMM_NODE_DEAD | HNSWMM_NODE_DELETED | HNSWMM_NODE_DUPLICATE;

	if ((node->flags & ~known) != 0 || node->level > HNSWMM_MAX_LEVEL)
		corrupt(vs, "node %u has invalid flags or layer", id);
	vs->flags[id] = node->flags;
	vs->levels[id] = node->level;
	if (node->dup_next == id)
		corrupt(vs, "node %u has a duplicate chain link out of range", id);
	if (node->dup_next != HNSWMM_INVALID_NODE && node->dup_next >= vs->meta.nnodes)
		check_new_id(vs, id, node->dup_next, "node %u has a duplicate chain link out of range");
	if (node->flags & HNSWMM_NODE_DUPLICATE)
	{
		vs->duplicates++;
		if (node->nneighbors != 0 || node->level != 0)
			corrupt(vs, "duplicate node %u has neighbours of its own", id);
	}
	else
	{
		check_neighbors(vs, id, node->neighbors, node->nneighbors, 2 * vs->layout.m);
		if (node->level > 0)
			check_upper(vs, id, node);
	}
	if (vs->layout.code_size > 0 &&
		hnswmm_code_center(&vs->layout, (const char *) node + vs->layout.code_offset) >=
		Max(vs->meta.ncenters, 1))
		corrupt(vs, "the code of node %u names a center the metapage does not have", id);
	if (node->flags & HNSWMM_NODE_DELETED)
		vs->deleted++;
	else if (!(node->flags & HNSWMM_NODE_DEAD))
	{
		vs->live++;
		check_heap_tid(vs, id, (ItemPointer) &node->heaptid);
	}
	vs->in_use[id] = !(node->flags & (HNSWMM_NODE_DELETED | HNSWMM_NODE_DUPLICATE)) &&
		(!(node->flags & HNSWMM_NODE_DEAD) || node->dup_next != HNSWMM_INVALID_NODE);
}

/* Pass 2: nothing in use links a deleted node, chains hold duplicates */
static void
check_links(VerifyState *vs, uint32 id, const HnswmmNode *node)
{
	uint32	   *ids = palloc(sizeof(uint32) * 2 * vs->layout.m);
	uint32		steps = 0;

	/*
	 * Lists of nodes VACUUM is removing (DEAD) may be stale: after a crash in
	 * its last pass they can link nodes it already deleted.  Nothing reads
	 * them to return rows, so only lists in use are checked.
	 */
	if (node->flags & (HNSWMM_NODE_DELETED | HNSWMM_NODE_DUPLICATE))
		return;
	for (int l = 0; l <= node->level && !(node->flags & HNSWMM_NODE_DEAD); l++)
	{
		int			n = hnswmm_read_neighbors(vs->index, &vs->layout, id, l, ids);

		for (int i = 0; i < n; i++)
		{
			/* pass 1 checked the range; an id appended since is not known */
			if (ids[i] >= vs->meta.nnodes)
				continue;
			if (vs->flags[ids[i]] & (HNSWMM_NODE_DELETED | HNSWMM_NODE_DUPLICATE))
				corrupt(vs, "node %u links a deleted or duplicate node", id);
			if (vs->levels[ids[i]] < l)
				corrupt(vs, "node %u links a node on a layer it is not on", id);
		}
	}
	for (uint32 d = node->dup_next; d != HNSWMM_INVALID_NODE;)
	{
		HnswmmNodeInfo info;

		if (++steps > vs->meta.nnodes)
			corrupt(vs, "the duplicate chain of node %u is broken", id);
		hnswmm_read_node(vs->index, &vs->layout, d, &info);
		/* a row appended since is pushed onto the chain's head */
		if (d < vs->meta.nnodes ? !(vs->flags[d] & HNSWMM_NODE_DUPLICATE) :
			!(info.flags & HNSWMM_NODE_DUPLICATE))
			corrupt(vs, "the duplicate chain of node %u is broken", id);
		d = info.dup_next;
	}
	pfree(ids);
}

/*
 * The ring from the entry point passes every graph node in use exactly
 * once, and nothing else.
 */
static void
check_ring(VerifyState *vs)
{
	uint32		graph_nodes = 0;
	uint32		steps = 0;
	uint8	   *seen = palloc0(vs->meta.nnodes);
	uint32		cur = vs->meta.entry_node;

	for (uint32 id = 0; id < vs->meta.nnodes; id++)
		if (!(vs->flags[id] & (HNSWMM_NODE_DELETED | HNSWMM_NODE_DUPLICATE)))
			graph_nodes++;
	if (cur == HNSWMM_INVALID_NODE)
	{
		if (graph_nodes > 0)
			corrupt(vs, "there is no entry point but %u graph nodes", graph_nodes);
		return;
	}
	do
	{
		HnswmmNodeInfo info;

		if (cur >= vs->meta.nnodes || seen[cur] ||
			(vs->flags[cur] & (HNSWMM_NODE_DELETED | HNSWMM_NODE_DUPLICATE)))
			corrupt(vs, "the ring is broken at node %u", cur);
		seen[cur] = 1;
		steps++;
		hnswmm_read_node(vs->index, &vs->layout, cur, &info);
		cur = info.ring_next;
		CHECK_FOR_INTERRUPTS();
	} while (cur != vs->meta.entry_node);
	if (steps != graph_nodes)
		corrupt(vs, "the ring misses graph nodes: it passes %u of them", steps);
	pfree(seen);
}

/*
 * The entry point is a graph node in use on the top layer.  On a standby,
 * replay may have moved it (and deleted the old one) since the start.
 */
static void
check_entry_point(VerifyState *vs)
{
	uint32		entry = vs->meta.entry_node;
	HnswmmMetaPageData now;

	if (entry == HNSWMM_INVALID_NODE)
		return;
	if (!(vs->flags[entry] & (HNSWMM_NODE_DELETED | HNSWMM_NODE_DUPLICATE)) &&
		vs->levels[entry] == vs->meta.entry_level)
		return;
	hnswmm_get_meta(vs->index, &now);
	if (vs->replaying && now.entry_node != entry)
		return;
	corrupt(vs, "the entry point %u is deleted or not on the top layer", entry);
}

/* Nodes in use that a walk through neighbour lists does not reach */
static void
count_unreachable(VerifyState *vs)
{
	HnswmmReach reach;

	if (vs->meta.entry_node == HNSWMM_INVALID_NODE)
		return;
	hnswmm_reach_init(&reach, vs->meta.nnodes, false);
	hnswmm_reach_from(vs->index, &vs->layout, &reach, vs->meta.entry_node);
	for (uint32 id = 0; id < vs->meta.nnodes; id++)
		if (vs->in_use[id] && !hnswmm_reached(&reach, id))
			vs->unreachable++;
}

/* Vector slots of ids below the watermark lie below their pages' pd_lower */
static void
check_vectors(VerifyState *vs)
{
	Size		vbytes = (Size) vs->layout.slot_size;

	if (vs->meta.flushed > vs->meta.nnodes)
		corrupt(vs, "the flushed watermark %u is past the last node", vs->meta.flushed);
	for (uint32 id = 0; id < vs->meta.nnodes; id++)
	{
		HnswmmSlot	slot = hnswmm_vector_slot(&vs->layout, id);
		BlockNumber last = slot.first_block + (slot.offset + vbytes - 1) / HNSWMM_PAYLOAD;
		Size		end = (slot.offset + vbytes - 1) % HNSWMM_PAYLOAD + 1;
		Buffer		buf = read_page(vs, last, HNSWMM_PAGE_VECTOR);

		if (((PageHeader) BufferGetPage(buf))->pd_lower < HNSWMM_PAGE_HEADER + end)
			corrupt(vs, "the vector slot of node %u is not on its page", id);
		UnlockReleaseBuffer(buf);
		CHECK_FOR_INTERRUPTS();
	}
}

typedef void (*NodeFn) (VerifyState *vs, uint32 id, const HnswmmNode *node);

static void
for_each_node(VerifyState *vs, NodeFn fn)
{
	for (uint32 id = 0; id < vs->meta.nnodes; id++)
	{
		Buffer		buf = read_page(vs, hnswmm_node_block(&vs->layout, id), HNSWMM_PAGE_GRAPH);
		HnswmmNode *copy = palloc(vs->layout.node_size);

		memcpy(copy, hnswmm_page_node(&vs->layout, BufferGetPage(buf), id),
			   vs->layout.node_size);
		UnlockReleaseBuffer(buf);
		fn(vs, id, copy);
		pfree(copy);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Bit strings are compared by Hamming (L2 on bits) or Jaccard, nothing else */
static bool
metric_fits_element(const HnswmmMetaPageData *meta)
{
	if (meta->element == HNSWMM_ELEMENT_BIT)
		return meta->metric == HNSWMM_METRIC_L2 || meta->metric == HNSWMM_METRIC_JACCARD;
	return meta->metric != HNSWMM_METRIC_JACCARD;
}

static void
check_meta(VerifyState *vs)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(vs->index);
	Buffer		buf = read_page(vs, HNSWMM_METAPAGE_BLKNO, HNSWMM_PAGE_META);
	uint16		meta_lower = ((PageHeader) BufferGetPage(buf))->pd_lower;
	HnswmmLayout expected;
	HnswmmParams params;

	UnlockReleaseBuffer(buf);
	hnswmm_get_meta(vs->index, &vs->meta);
	hnswmm_layout_from_meta(&vs->layout, &vs->meta);
	if (vs->meta.dimensions == 0)
	{
		if (vs->meta.nnodes != 0)
			corrupt(vs, "the metapage counts %u nodes but no dimensions", vs->meta.nnodes);
		return;
	}
	if (vs->meta.dimensions > (vs->meta.element == HNSWMM_ELEMENT_BIT ?
							   HNSWMM_MAX_BITS : VECTOR_MAX_DIM) ||
		vs->meta.m < HNSWMM_MIN_M ||
		vs->meta.m > HNSWMM_MAX_M || vs->meta.metric < HNSWMM_METRIC_L2 ||
		vs->meta.metric > HNSWMM_METRIC_JACCARD || !metric_fits_element(&vs->meta))
		corrupt(vs, "the metapage has impossible parameters (%u dimensions)",
				vs->meta.dimensions);
	if (vs->meta.quantization > HNSWMM_QUANT_BINARY)
		corrupt(vs, "the metapage names an unknown quantization %u",
				vs->meta.quantization);
	hnswmm_params_from_meta(&vs->meta, &params);
	if (vs->meta.version != hnswmm_format_version(&params))
		corrupt(vs, "the metapage's format version %u does not match its parameters",
				vs->meta.version);
	if (vs->meta.element > HNSWMM_ELEMENT_BIT ||
		vs->meta.element != hnswmm_index_element(vs->index))
		corrupt(vs, "the metapage keeps vectors of element type %u, not what the operator class needs",
				vs->meta.element);
	if (vs->meta.include_size != hnswmm_include_size(vs->index))
		corrupt(vs, "the metapage keeps %u bytes of INCLUDE values, not what the columns need",
				vs->meta.include_size);
	if (vs->meta.ncenters != 0 &&
		(vs->meta.center_size != hnswmm_center_size(vs->layout.quantization,
													vs->meta.dimensions) ||
		 vs->meta.ncenters > hnswmm_center_count(&vs->layout, vs->meta.nnodes)))
		corrupt(vs, "the metapage has centers of %u bytes that do not fit",
				vs->meta.center_size);
	/* fields from ncenters on may lie past an older index's pd_lower */
	if (meta_lower < HNSWMM_PAGE_HEADER + offsetof(HnswmmMetaPageData, ncenters))
		corrupt(vs, "the metapage's fields end past its pd_lower %u", meta_lower);
	hnswmm_compute_layout(&expected, vs->meta.dimensions, vs->layout.metric,
						  &params);
	if (vs->layout.center_pages ==
		hnswmm_center_pages(vs->layout.quantization, vs->meta.dimensions))
		expected.center_pages = vs->layout.center_pages;	/* reserved by the build */
	if (memcmp(&expected, &vs->layout, sizeof(HnswmmLayout)) != 0)
		corrupt(vs, "the metapage has an impossible layout (node size %u)",
				vs->layout.node_size);
	if (vs->meta.nnodes > 0 &&
		nblocks < hnswmm_extent_start(&vs->layout,
									  (vs->meta.nnodes - 1) / vs->layout.nodes_per_extent + 1))
		corrupt(vs, "the index is shorter than its %u nodes need", vs->meta.nnodes);
	if (vs->meta.nnodes > 0 && vs->meta.entry_node != HNSWMM_INVALID_NODE &&
		vs->meta.entry_node >= vs->meta.nnodes)
		corrupt(vs, "the entry point %u is out of range", vs->meta.entry_node);
	if (nblocks < 1 + vs->layout.center_pages)
		corrupt(vs, "the index is shorter than its %u center pages", vs->layout.center_pages);
	for (uint32 p = 0; p < vs->layout.center_pages; p++)
		UnlockReleaseBuffer(read_page(vs, HNSWMM_METAPAGE_BLKNO + 1 + p,
									  HNSWMM_PAGE_CENTER));
	hnswmm_check_center_pages(vs->index, &vs->meta, &vs->layout);
}

PG_FUNCTION_INFO_V1(hnswmm_verify);
Datum
hnswmm_verify(PG_FUNCTION_ARGS)
{
	VerifyState vs;
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {0};
	LOCKMODE	heap_lock;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	memset(&vs, 0, sizeof(vs));

	/*
	 * ShareLock on the table, like amcheck's parent check: no writers.  A
	 * hot standby has no writers but replay and refuses that lock.  Both
	 * locks are let go at the end, not held to the end of the transaction.
	 */
	vs.replaying = RecoveryInProgress();
	heap_lock = vs.replaying ? AccessShareLock : ShareLock;
	vs.index = hnswmm_open_for_inspection(PG_GETARG_OID(0), heap_lock);
	vs.heap = table_open(vs.index->rd_index->indrelid, NoLock);
	vs.heap_blocks = RelationGetNumberOfBlocks(vs.heap);
	check_meta(&vs);
	if (vs.meta.nnodes > 0)
	{
		vs.flags = palloc0(vs.meta.nnodes);
		vs.levels = palloc0(vs.meta.nnodes);
		vs.in_use = palloc0(vs.meta.nnodes);
		for_each_node(&vs, check_node);
		for_each_node(&vs, check_links);
		if (!vs.replaying)
			check_ring(&vs);
		check_vectors(&vs);
		check_entry_point(&vs);
		count_unreachable(&vs);
	}
	values[0] = Int64GetDatum(vs.meta.nnodes);
	values[1] = Int64GetDatum(vs.live);
	values[2] = Int64GetDatum(vs.deleted);
	values[3] = Int64GetDatum(vs.duplicates);
	values[4] = Int64GetDatum(vs.links);
	values[5] = Int64GetDatum(vs.unreachable);
	table_close(vs.heap, NoLock);
	hnswmm_close_after_inspection(vs.index, heap_lock);
	/* (the SQL function of version 0.1.0 has no column unreachable) */
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
