/*
 * hnswmm_graph.c
 *		The graph in buffers: reading and changing node records and
 *		neighbour lists in graph and upper pages, appending a node (its
 *		vector slot, record and upper record), growing the relation by an
 *		extent, and the metapage's entry point.  Every change is WAL-logged
 *		with GenericXLog.
 *
 * Callers never hold a buffer lock while calling in here, and no function
 * here holds a page lock while reading a vector, so page locks never nest
 * except in hnswmm_append_node, which takes them in a fixed order
 * (metapage, vector pages, graph page, upper page).
 */
#include "postgres.h"

#include "hnswmm_centers.h"
#include "hnswmm_graph.h"
#include "hnswmm_quant.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "storage/lmgr.h"
#include "utils/rel.h"

/* Where one neighbour list lives */
typedef struct ListLocation
{
	BlockNumber blkno;
	uint32		offset;			/* payload offset of the record or layer */
	bool		upper;			/* an HnswmmLayer, else an HnswmmNode */
} ListLocation;

static void
copy_node_info(const HnswmmLayout *layout, Buffer buf, uint32 id,
			   HnswmmNodeInfo *info)
{
	HnswmmNode *node = hnswmm_page_node(layout, BufferGetPage(buf), id);

	info->heaptid = node->heaptid;
	info->level = node->level;
	info->flags = node->flags;
	info->upper_page = node->upper_page;
	info->upper_offset = node->upper_offset;
	info->dup_next = node->dup_next;
	info->ring_next = node->ring_next;
}

void
hnswmm_read_node(Relation index, const HnswmmLayout *layout, uint32 id,
				 HnswmmNodeInfo *info)
{
	Buffer		buf = ReadBuffer(index, hnswmm_node_block(layout, id));

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	copy_node_info(layout, buf, id, info);
	UnlockReleaseBuffer(buf);
}

/*
 * The records of nodes [first, last), all on graph page blkno, under one
 * lock of the page: out[i] for node first + i
 */
void
hnswmm_read_page_nodes(Relation index, const HnswmmLayout *layout,
					   BlockNumber blkno, uint32 first, uint32 last,
					   HnswmmNodeInfo *out)
{
	Buffer		buf = ReadBuffer(index, blkno);

	Assert(hnswmm_node_block(layout, first) == blkno &&
		   hnswmm_node_block(layout, last - 1) == blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	for (uint32 id = first; id < last; id++)
		copy_node_info(layout, buf, id, &out[id - first]);
	UnlockReleaseBuffer(buf);
}

/*
 * hnswmm_read_node, leaving the graph page pinned: returns its buffer.
 * `pinned` (a page the caller holds pinned, or InvalidBuffer) is released,
 * unless it is that very page.
 */
Buffer
hnswmm_read_node_pinned(Relation index, const HnswmmLayout *layout, uint32 id,
						Buffer pinned, HnswmmNodeInfo *info)
{
	Buffer		buf = ReleaseAndReadBuffer(pinned, index,
										   hnswmm_node_block(layout, id));

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	copy_node_info(layout, buf, id, info);
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	return buf;
}

static void
locate_list(Relation index, const HnswmmLayout *layout, uint32 id, int level,
			ListLocation *loc)
{
	if (level == 0)
	{
		uint32		k = id % layout->nodes_per_extent;

		loc->blkno = hnswmm_node_block(layout, id);
		loc->offset = (k % layout->nodes_per_graph_page) * layout->node_size;
		loc->upper = false;
	}
	else
	{
		HnswmmNodeInfo info;

		hnswmm_read_node(index, layout, id, &info);
		Assert(level <= info.level);
		loc->blkno = hnswmm_extent_start(layout, id / layout->nodes_per_extent) +
			layout->graph_pages + info.upper_page;
		loc->offset = info.upper_offset + (level - 1) * HNSWMM_LAYER_SIZE(layout->m);
		loc->upper = true;
	}
}

/* Pointers to the count and ids of a list on a locked page */
static uint32 *
list_on_page(Page page, const ListLocation *loc, uint32 *count)
{
	char	   *p = HnswmmPagePayload(page) + loc->offset;

	if (loc->upper)
	{
		HnswmmLayer *layer = (HnswmmLayer *) p;

		*count = layer->nneighbors;
		return layer->neighbors;
	}
	*count = ((HnswmmNode *) p)->nneighbors;
	return ((HnswmmNode *) p)->neighbors;
}

static void
set_list_count(Page page, const ListLocation *loc, uint32 count)
{
	char	   *p = HnswmmPagePayload(page) + loc->offset;

	if (loc->upper)
		((HnswmmLayer *) p)->nneighbors = count;
	else
		((HnswmmNode *) p)->nneighbors = count;
}

/*
 * Copy the layer-`level` neighbours of node id into out (room for 2m ids)
 * and return how many there are.  A node below that layer has none.
 */
int
hnswmm_read_neighbors(Relation index, const HnswmmLayout *layout, uint32 id,
					  int level, uint32 *out)
{
	ListLocation loc;
	Buffer		buf;
	uint32		count;
	uint32	   *ids;
	int			cap = level == 0 ? 2 * layout->m : layout->m;

	if (level > 0)
	{
		HnswmmNodeInfo info;

		hnswmm_read_node(index, layout, id, &info);
		if (level > info.level)
			return 0;
	}
	locate_list(index, layout, id, level, &loc);
	buf = ReadBuffer(index, loc.blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	ids = list_on_page(BufferGetPage(buf), &loc, &count);
	count = Min(count, (uint32) cap);
	memcpy(out, ids, count * sizeof(uint32));
	UnlockReleaseBuffer(buf);
	return count;
}

/*
 * The neighbours a search follows: the layer's list, plus at layer 0 the
 * node's successor on the ring.  out needs room for 2m + 1 ids.
 */
int
hnswmm_read_search_neighbors(Relation index, const HnswmmLayout *layout,
							 uint32 id, int level, uint32 *out)
{
	ListLocation loc;
	Buffer		buf;
	uint32		count;
	uint32	   *ids;
	HnswmmNode *node;

	if (level > 0)
		return hnswmm_read_neighbors(index, layout, id, level, out);
	locate_list(index, layout, id, 0, &loc);
	buf = ReadBuffer(index, loc.blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	ids = list_on_page(BufferGetPage(buf), &loc, &count);
	count = Min(count, (uint32) (2 * layout->m));
	memcpy(out, ids, count * sizeof(uint32));
	node = (HnswmmNode *) (HnswmmPagePayload(BufferGetPage(buf)) + loc.offset);
	if (node->ring_next != HNSWMM_INVALID_NODE && node->ring_next != id)
		out[count++] = node->ring_next;
	UnlockReleaseBuffer(buf);
	return count;
}

/*
 * Replace a neighbour list, but only if it still holds exactly `expected`
 * (nexpected ids): a compare-and-swap, so that concurrent writers that read
 * the list, computed a new one without holding a lock, and then try to
 * store it do not overwrite each other.  Returns false if the list changed.
 */
bool
hnswmm_replace_neighbors(Relation index, const HnswmmLayout *layout, uint32 id,
						 int level, const uint32 *expected, int nexpected,
						 const uint32 *ids, int n)
{
	ListLocation loc;
	Buffer		buf;
	GenericXLogState *state;
	Page		page;
	uint32		count;
	uint32	   *cur;
	int			cap = level == 0 ? 2 * layout->m : layout->m;

	Assert(n <= cap);
	locate_list(index, layout, id, level, &loc);
	buf = ReadBuffer(index, loc.blkno);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	cur = list_on_page(BufferGetPage(buf), &loc, &count);
	if (count != (uint32) nexpected ||
		memcmp(cur, expected, nexpected * sizeof(uint32)) != 0)
	{
		UnlockReleaseBuffer(buf);
		return false;
	}
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	cur = list_on_page(page, &loc, &count);
	memcpy(cur, ids, n * sizeof(uint32));
	if (n < cap)
		memset(cur + n, 0xFF, (cap - n) * sizeof(uint32));
	set_list_count(page, &loc, n);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	return true;
}

/* Set flags of a node's record */
void
hnswmm_set_node_flags(Relation index, const HnswmmLayout *layout, uint32 id,
					  uint8 set)
{
	Buffer		buf = ReadBuffer(index, hnswmm_node_block(layout, id));
	GenericXLogState *state;
	HnswmmNode *node;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	node = hnswmm_page_node(layout, GenericXLogRegisterBuffer(state, buf, 0), id);
	node->flags |= set;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * Flag nodes ids[0..n), all on the graph page buf (pinned by the caller),
 * DEAD and clear their TIDs, in one WAL record, under a cleanup lock: no
 * other backend may hold the page pinned, which is how an index-only scan
 * keeps a row it handed out from being removed under it (hnswmm_scan.c).
 */
void
hnswmm_mark_dead(Relation index, const HnswmmLayout *layout, Buffer buf,
				 const uint32 *ids, int n)
{
	GenericXLogState *state;
	Page		page;

	LockBufferForCleanup(buf);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	for (int i = 0; i < n; i++)
	{
		HnswmmNode *node = hnswmm_page_node(layout, page, ids[i]);

		node->flags |= HNSWMM_NODE_DEAD;
		ItemPointerSetInvalid(&node->heaptid);
	}
	GenericXLogFinish(state);
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
}

static uint16
extent_page_type(const HnswmmLayout *layout, uint32 k)
{
	if (k < layout->graph_pages)
		return HNSWMM_PAGE_GRAPH;
	if (k < layout->graph_pages + layout->upper_pages)
		return HNSWMM_PAGE_UPPER;
	return HNSWMM_PAGE_VECTOR;
}

/*
 * Make sure extent `extent` exists with initialised pages.  Called with the
 * metapage locked exclusively, so only one backend extends at a time; a
 * crash halfway through leaves new (all-zero) pages that are initialised
 * on the next try.
 */
static void
ensure_extent(Relation index, const HnswmmLayout *layout, uint32 extent)
{
	BlockNumber start = hnswmm_extent_start(layout, extent);
	BlockNumber nblocks;

	LockRelationForExtension(index, ExclusiveLock);
	nblocks = RelationGetNumberOfBlocks(index);
	for (uint32 k = 0; k < layout->extent_pages; k++)
	{
		Buffer		buf;
		GenericXLogState *state;
		Page		page;

		if (start + k < nblocks)
		{
			buf = ReadBuffer(index, start + k);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			if (!PageIsNew(BufferGetPage(buf)))
			{
				UnlockReleaseBuffer(buf);
				continue;
			}
		}
		else
		{
			buf = ReadBuffer(index, P_NEW);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			if (BufferGetBlockNumber(buf) != start + k)
				elog(ERROR, "hnswmm: index \"%s\" grew to block %u, expected %u",
					 RelationGetRelationName(index), BufferGetBlockNumber(buf),
					 start + k);
		}
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
		hnswmm_init_page(page, extent_page_type(layout, k), extent);
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
	}
	UnlockRelationForExtension(index, ExclusiveLock);
}

/*
 * Write node id's slot (src: its vector as the index keeps it, then its
 * INCLUDE values), up to four pages a WAL record
 */
static void
write_vector(Relation index, const HnswmmLayout *layout, uint32 id,
			 const char *src)
{
	HnswmmSlot	slot = hnswmm_vector_slot(layout, id);
	Size		left = (Size) layout->slot_size;
	uint32		offset = slot.offset;
	BlockNumber blkno = slot.first_block;

	while (left > 0)
	{
		GenericXLogState *state = GenericXLogStart(index);
		Buffer		bufs[MAX_GENERIC_XLOG_PAGES];
		int			nbufs = 0;

		while (left > 0 && nbufs < MAX_GENERIC_XLOG_PAGES)
		{
			Size		n = Min(left, HNSWMM_PAYLOAD - offset);
			Page		page;
			PageHeader	hdr;

			bufs[nbufs] = ReadBuffer(index, blkno++);
			LockBuffer(bufs[nbufs], BUFFER_LOCK_EXCLUSIVE);
			page = GenericXLogRegisterBuffer(state, bufs[nbufs], 0);
			nbufs++;
			memcpy(HnswmmPagePayload(page) + offset, src, n);
			hdr = (PageHeader) page;
			hdr->pd_lower = Max(hdr->pd_lower, HNSWMM_PAGE_HEADER + offset + n);
			src += n;
			left -= n;
			offset = 0;
		}
		GenericXLogFinish(state);
		for (int i = 0; i < nbufs; i++)
			UnlockReleaseBuffer(bufs[i]);
	}
}

/*
 * The upper page of the extent that takes an upper record for a node of
 * the wanted layer, and the layer that fits there (lower if no page has
 * room for all of it; 0 means no upper record).
 */
static int
choose_upper_page(Relation index, const HnswmmLayout *layout, uint32 extent,
				  int want, uint32 *page_out)
{
	BlockNumber first = hnswmm_extent_start(layout, extent) + layout->graph_pages;
	int			best = 0;

	*page_out = 0;
	for (uint32 p = 0; p < layout->upper_pages && best < want; p++)
	{
		Buffer		buf = ReadBuffer(index, first + p);
		uint32		used;
		int			fits;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		used = ((PageHeader) BufferGetPage(buf))->pd_lower - HNSWMM_PAGE_HEADER;
		UnlockReleaseBuffer(buf);
		fits = hnswmm_upper_capacity_level(layout, want, used);
		if (fits > best)
		{
			best = fits;
			*page_out = p;
		}
	}
	return best;
}

static void
init_node_record(const HnswmmLayout *layout, Page page, uint32 id,
				 ItemPointer tid, int level, uint8 flags,
				 uint32 upper_page, uint32 upper_offset, const char *code)
{
	HnswmmNode *node = hnswmm_page_node(layout, page, id);
	uint32		k = id % layout->nodes_per_extent;
	uint32		end = (k % layout->nodes_per_graph_page + 1) * layout->node_size;
	PageHeader	hdr = (PageHeader) page;

	memset(node, 0xFF, layout->node_size);
	node->heaptid = *tid;
	node->level = level;
	node->flags = flags;
	node->nneighbors = 0;
	node->upper_page = upper_page;
	node->upper_offset = upper_offset;
	node->unused = 0;
	node->dup_next = HNSWMM_INVALID_NODE;
	node->ring_next = HNSWMM_INVALID_NODE;
	memcpy((char *) node + layout->code_offset, code, layout->code_size);
	hdr->pd_lower = Max(hdr->pd_lower, HNSWMM_PAGE_HEADER + end);
}

static uint32
init_upper_record(const HnswmmLayout *layout, Page page, int level)
{
	PageHeader	hdr = (PageHeader) page;
	uint32		offset = hdr->pd_lower - HNSWMM_PAGE_HEADER;
	char	   *p = HnswmmPagePayload(page) + offset;

	for (int l = 0; l < level; l++)
	{
		HnswmmLayer *layer = (HnswmmLayer *) (p + l * HNSWMM_LAYER_SIZE(layout->m));

		memset(layer, 0xFF, HNSWMM_LAYER_SIZE(layout->m));
		layer->nneighbors = 0;
	}
	hdr->pd_lower += level * HNSWMM_LAYER_SIZE(layout->m);
	return offset;
}

static uint32 *
link_field(HnswmmNode *node, HnswmmLink link)
{
	return link == HNSWMM_LINK_DUP ? &node->dup_next : &node->ring_next;
}

/*
 * Append a node without neighbours: its slot (vec: the vector, then its
 * INCLUDE values), its level-0 record and, if *level > 0, its upper record
 * (*level is lowered if the extent's upper pages are full).  In the same
 * WAL record as the node's record and the node count, the node is linked
 * in: put on the ring right after node `after` (link HNSWMM_LINK_RING), or
 * onto the duplicate chain of `after` (HNSWMM_LINK_DUP).  The first graph node (`after` invalid) is a ring of
 * one and becomes the entry point.  A node thus exists exactly when it is
 * whole and reachable; a crash cannot leave it halfway.
 */
uint32
hnswmm_append_node(Relation index, const HnswmmLayout *layout,
				   const float *vec, const char *slot, ItemPointer tid,
				   int *level, uint8 flags, HnswmmLink link, uint32 after)
{
	Buffer		metabuf = ReadBuffer(index, HNSWMM_METAPAGE_BLKNO);
	Buffer		gbuf;
	Buffer		ubuf = InvalidBuffer;
	Buffer		abuf = InvalidBuffer;
	GenericXLogState *state;
	HnswmmMetaPage meta;
	Page		gpage;
	HnswmmNode *node;
	uint32		id;
	uint32		extent;
	uint32		upper_page = 0;
	uint32		upper_offset = 0;
	char	   *code = palloc(layout->code_size + 1);
	HnswmmCenters *centers = NULL;

	if (layout->quantization == HNSWMM_QUANT_BINARY)
	{
		HnswmmMetaPageData current;

		hnswmm_get_meta(index, &current);
		centers = hnswmm_read_centers(index, &current, layout);
	}
	hnswmm_encode(layout, centers, vec, code);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	id = HnswmmPageGetMeta(BufferGetPage(metabuf))->nnodes;
	if (id >= HNSWMM_INVALID_NODE - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("hnswmm index \"%s\" is full", RelationGetRelationName(index)),
				 errhint("REINDEX the index to drop removed nodes.")));
	extent = id / layout->nodes_per_extent;
	if (id % layout->nodes_per_extent == 0)
		ensure_extent(index, layout, extent);
	write_vector(index, layout, id, slot);
	if (*level > 0)
		*level = choose_upper_page(index, layout, extent, *level, &upper_page);

	/*
	 * Lock order: metapage, then the graph pages of the node and of `after`
	 * in block order (VACUUM's hnswmm_unlink_from_ring takes two graph pages
	 * that way too), then the upper page, which nobody holds while waiting
	 * for another page.
	 */
	gbuf = ReadBuffer(index, hnswmm_node_block(layout, id));
	if (after != HNSWMM_INVALID_NODE &&
		hnswmm_node_block(layout, after) != BufferGetBlockNumber(gbuf))
		abuf = ReadBuffer(index, hnswmm_node_block(layout, after));
	if (BufferIsValid(abuf) && BufferGetBlockNumber(abuf) < BufferGetBlockNumber(gbuf))
		LockBuffer(abuf, BUFFER_LOCK_EXCLUSIVE);
	LockBuffer(gbuf, BUFFER_LOCK_EXCLUSIVE);
	if (BufferIsValid(abuf) && BufferGetBlockNumber(abuf) > BufferGetBlockNumber(gbuf))
		LockBuffer(abuf, BUFFER_LOCK_EXCLUSIVE);
	if (*level > 0)
	{
		ubuf = ReadBuffer(index, hnswmm_extent_start(layout, extent) +
						  layout->graph_pages + upper_page);
		LockBuffer(ubuf, BUFFER_LOCK_EXCLUSIVE);
	}
	state = GenericXLogStart(index);
	meta = HnswmmPageGetMeta(GenericXLogRegisterBuffer(state, metabuf, 0));
	if (*level > 0)
		upper_offset = init_upper_record(layout,
										 GenericXLogRegisterBuffer(state, ubuf, 0),
										 *level);
	gpage = GenericXLogRegisterBuffer(state, gbuf, 0);
	init_node_record(layout, gpage, id, tid, *level, flags, upper_page,
					 upper_offset, code);
	node = hnswmm_page_node(layout, gpage, id);
	if (after == HNSWMM_INVALID_NODE)
	{
		node->ring_next = id;
		meta->entry_node = id;
		meta->entry_level = *level;
	}
	else
	{
		Page		apage = BufferIsValid(abuf) ? GenericXLogRegisterBuffer(state, abuf, 0) : gpage;
		uint32	   *prev = link_field(hnswmm_page_node(layout, apage, after), link);

		*link_field(node, link) = *prev;
		*prev = id;
	}
	meta->nnodes = id + 1;
	GenericXLogFinish(state);

	if (BufferIsValid(abuf))
		UnlockReleaseBuffer(abuf);
	if (BufferIsValid(ubuf))
		UnlockReleaseBuffer(ubuf);
	UnlockReleaseBuffer(gbuf);
	UnlockReleaseBuffer(metabuf);
	pfree(code);
	return id;
}

/*
 * Set a single-id link of node id to next if it still holds expected
 * (compare-and-swap as for neighbour lists).  Returns false if it changed.
 */
bool
hnswmm_replace_link(Relation index, const HnswmmLayout *layout, uint32 id,
					HnswmmLink link, uint32 expected, uint32 next)
{
	Buffer		buf = ReadBuffer(index, hnswmm_node_block(layout, id));
	GenericXLogState *state;
	HnswmmNode *node;
	bool		same;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	node = hnswmm_page_node(layout, BufferGetPage(buf), id);
	same = *link_field(node, link) == expected;
	if (same)
	{
		state = GenericXLogStart(index);
		node = hnswmm_page_node(layout, GenericXLogRegisterBuffer(state, buf, 0), id);
		*link_field(node, link) = next;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
	return same;
}

/*
 * Take node id, which VACUUM removed, off the ring, and flag it DELETED in
 * the same WAL record; prev is its predecessor on the ring.  Returns false
 * if prev no longer points at id.
 */
bool
hnswmm_unlink_from_ring(Relation index, const HnswmmLayout *layout,
						uint32 prev, uint32 id)
{
	Buffer		pbuf = ReadBuffer(index, hnswmm_node_block(layout, prev));
	Buffer		nbuf = InvalidBuffer;
	GenericXLogState *state;
	HnswmmNode *pnode;
	HnswmmNode *node;
	Page		ppage;

	/* lock in block order: the two nodes may share a page */
	if (hnswmm_node_block(layout, id) != BufferGetBlockNumber(pbuf))
		nbuf = ReadBuffer(index, hnswmm_node_block(layout, id));
	if (BufferIsValid(nbuf) && BufferGetBlockNumber(nbuf) < BufferGetBlockNumber(pbuf))
		LockBuffer(nbuf, BUFFER_LOCK_EXCLUSIVE);
	LockBuffer(pbuf, BUFFER_LOCK_EXCLUSIVE);
	if (BufferIsValid(nbuf) && BufferGetBlockNumber(nbuf) > BufferGetBlockNumber(pbuf))
		LockBuffer(nbuf, BUFFER_LOCK_EXCLUSIVE);

	pnode = hnswmm_page_node(layout, BufferGetPage(pbuf), prev);
	if (pnode->ring_next != id)
	{
		if (BufferIsValid(nbuf))
			UnlockReleaseBuffer(nbuf);
		UnlockReleaseBuffer(pbuf);
		return false;
	}
	state = GenericXLogStart(index);
	ppage = GenericXLogRegisterBuffer(state, pbuf, 0);
	pnode = hnswmm_page_node(layout, ppage, prev);
	node = hnswmm_page_node(layout, BufferIsValid(nbuf) ?
							GenericXLogRegisterBuffer(state, nbuf, 0) : ppage, id);
	pnode->ring_next = node->ring_next;
	node->flags |= HNSWMM_NODE_DELETED;
	GenericXLogFinish(state);
	if (BufferIsValid(nbuf))
		UnlockReleaseBuffer(nbuf);
	UnlockReleaseBuffer(pbuf);
	return true;
}

typedef struct EntryChange
{
	uint32		id;
	int			level;
	bool		force;			/* even if not above the current one */
} EntryChange;

static bool
change_entry(Relation index, HnswmmMetaPage meta, void *arg)
{
	EntryChange *c = (EntryChange *) arg;

	if (!c->force && meta->entry_node != HNSWMM_INVALID_NODE &&
		c->level <= meta->entry_level)
		return false;
	meta->entry_node = c->id;
	meta->entry_level = (c->id == HNSWMM_INVALID_NODE) ? 0 : c->level;
	return true;
}

/* Make node id the entry point if it is above the current one */
void
hnswmm_update_entry(Relation index, uint32 id, int level, bool force)
{
	EntryChange c = {id, level, force};

	hnswmm_change_meta(index, change_entry, &c);
}

static bool
change_dimensions(Relation index, HnswmmMetaPage meta, void *arg)
{
	HnswmmLayout layout;
	HnswmmParams params;

	if (meta->dimensions != 0)
		return false;
	hnswmm_params_from_meta(meta, &params);
	hnswmm_compute_layout(&layout, *(int *) arg, (HnswmmMetric) meta->metric,
						  &params);
	hnswmm_layout_to_meta(&layout, meta);
	return true;
}

/*
 * Fix the layout of an index that was built empty, from the dimensions of
 * its first vector.  Returns the metapage as it is afterwards.
 */
void
hnswmm_set_dimensions(Relation index, int dimensions, HnswmmMetaPageData *out)
{
	HnswmmParams params;

	hnswmm_get_meta(index, out);
	hnswmm_params_from_meta(out, &params);
	hnswmm_check_params(index, dimensions, &params);
	hnswmm_change_meta(index, change_dimensions, &dimensions);
	hnswmm_get_meta(index, out);
}

/* HnswmmGraph callback over graph pages */
static int
page_neighbors(HnswmmGraph *graph, uint32 id, int level, uint32 *out)
{
	HnswmmPageGraph *pg = (HnswmmPageGraph *) graph;

	return hnswmm_read_search_neighbors(pg->reader.index, &pg->reader.layout, id,
										level, out);
}

/*
 * HnswmmGraph callback of a quantized index: distances from the codes in
 * the nodes' level-0 records.  The last graph page stays pinned, since
 * neighbours often share a page.
 */
static void
page_approx(HnswmmGraph *graph, const float *query, const uint32 *ids, int n,
			HnswmmCandidate *out)
{
	HnswmmPageGraph *pg = (HnswmmPageGraph *) graph;
	const HnswmmLayout *layout = &pg->reader.layout;

	hnswmm_read_counts.codes += n;
	for (int i = 0; i < n; i++)
	{
		BlockNumber blkno = hnswmm_node_block(layout, ids[i]);
		HnswmmNode *node;

		if (!BufferIsValid(pg->code_buf) || BufferGetBlockNumber(pg->code_buf) != blkno)
			pg->code_buf = ReleaseAndReadBuffer(pg->code_buf, pg->reader.index, blkno);
		LockBuffer(pg->code_buf, BUFFER_LOCK_SHARE);
		node = hnswmm_page_node(layout, BufferGetPage(pg->code_buf), ids[i]);
		out[i].id = ids[i];
		out[i].dist = hnswmm_code_distance(pg->codes,
										   (char *) node + layout->code_offset);
		LockBuffer(pg->code_buf, BUFFER_LOCK_UNLOCK);
	}
}

/* A graph over the index's pages, reading vectors with a fresh reader */
void
hnswmm_page_graph_open(HnswmmPageGraph *pg, Relation index,
					   const HnswmmMetaPageData *meta)
{
	hnswmm_reader_open(&pg->reader, index, meta);
	hnswmm_graph_init(&pg->graph, page_neighbors, &pg->reader,
					  pg->reader.layout.m, hnswmm_backend_visited());
	hnswmm_visited_reset(pg->graph.visited);
	pg->code_buf = InvalidBuffer;
	pg->codes = NULL;
}

/*
 * Walk a quantized index by its codes, for this query (scans, and the
 * searches of inserts, which then re-rank what they found)
 */
void
hnswmm_page_graph_use_codes(HnswmmPageGraph *pg, const HnswmmMetaPageData *meta,
							const float *query)
{
	const HnswmmLayout *layout = &pg->reader.layout;
	const HnswmmCenters *centers = NULL;

	if (layout->code_size == 0)
		return;
	if (layout->quantization == HNSWMM_QUANT_BINARY)
		centers = hnswmm_cached_centers(pg->reader.index, meta, layout);
	pg->codes = hnswmm_code_query(layout, centers, query);
	pg->graph.approx = page_approx;
}

void
hnswmm_page_graph_close(HnswmmPageGraph *pg)
{
	if (BufferIsValid(pg->code_buf))
		ReleaseBuffer(pg->code_buf);
	pg->code_buf = InvalidBuffer;
	hnswmm_reader_close(&pg->reader);
}

/* Neighbour lists on graph pages, for hnswmm_add_links */
static int
page_read_list(void *arg, uint32 id, int level, uint32 *out)
{
	HnswmmReader *reader = (HnswmmReader *) arg;

	return hnswmm_read_neighbors(reader->index, &reader->layout, id, level, out);
}

static bool
page_replace_list(void *arg, uint32 id, int level, const uint32 *expected,
				  int nexpected, const uint32 *ids, int n)
{
	HnswmmReader *reader = (HnswmmReader *) arg;

	return hnswmm_replace_neighbors(reader->index, &reader->layout, id, level,
									expected, nexpected, ids, n);
}

/* The lists of the reader's index, as hnswmm_add_links changes them */
void
hnswmm_page_list_store(HnswmmReader *reader, HnswmmListStore *store)
{
	store->read = page_read_list;
	store->replace = page_replace_list;
	store->arg = reader;
	store->m = reader->layout.m;
}

#define REACH_WORD_BITS 64

void
hnswmm_reach_init(HnswmmReach *reach, uint32 nnodes, bool count_links)
{
	Size		words = (Size) nnodes / REACH_WORD_BITS + 1;
	int			flags = MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO;

	reach->nnodes = nnodes;
	reach->count = 0;
	reach->reached = palloc_extended(words * sizeof(uint64), flags);
	reach->frontier = palloc_extended(words * sizeof(uint64), flags);
	reach->links_in = count_links ? palloc_extended(Max(nnodes, 1), flags) : NULL;
}

bool
hnswmm_reached(const HnswmmReach *reach, uint32 id)
{
	return id < reach->nnodes &&
		(reach->reached[id / REACH_WORD_BITS] >> (id % REACH_WORD_BITS)) & 1;
}

static void
reach_mark(HnswmmReach *reach, uint32 id)
{
	uint64		bit = UINT64CONST(1) << (id % REACH_WORD_BITS);

	reach->reached[id / REACH_WORD_BITS] |= bit;
	reach->frontier[id / REACH_WORD_BITS] |= bit;
	reach->count++;
}

/*
 * Mark node `from` and every node reachable from it through layer-0
 * neighbour lists (not the ring), among ids below reach->nnodes: what a
 * search can find without the ring.  The frontier is a bitmap, not a
 * queue, so the memory is two bits a node whatever the graph's shape
 * (and a byte more when counting links); each node's list is read once.
 */
void
hnswmm_reach_from(Relation index, const HnswmmLayout *layout,
				  HnswmmReach *reach, uint32 from)
{
	Size		words = (Size) reach->nnodes / REACH_WORD_BITS + 1;
	uint32	   *list = palloc(sizeof(uint32) * 2 * layout->m);
	bool		more;

	if (from >= reach->nnodes || hnswmm_reached(reach, from))
		return;
	reach_mark(reach, from);
	do
	{
		more = false;
		for (Size w = 0; w < words; w++)
		{
			while (reach->frontier[w] != 0)
			{
				int			bit = pg_rightmost_one_pos64(reach->frontier[w]);
				uint32		id = (uint32) (w * REACH_WORD_BITS + bit);
				int			n;

				reach->frontier[w] &= ~(UINT64CONST(1) << bit);
				CHECK_FOR_INTERRUPTS();
				n = hnswmm_read_neighbors(index, layout, id, 0, list);
				for (int i = 0; i < n; i++)
				{
					if (list[i] >= reach->nnodes)
						continue;
					if (reach->links_in != NULL && reach->links_in[list[i]] < PG_UINT8_MAX)
						reach->links_in[list[i]]++;
					if (!hnswmm_reached(reach, list[i]))
					{
						reach_mark(reach, list[i]);
						/* an id below this word's is for the next round */
						more |= list[i] / REACH_WORD_BITS < w;
					}
				}
			}
		}
	} while (more);
	pfree(list);
}
