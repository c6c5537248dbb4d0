/*
 * hnswmm_recent.c
 *		Reading index pages that scans visit again and again (graph pages,
 *		upper pages, the metapage) through a backend-local memory of the
 *		shared buffer each was last found in.
 *
 * A quantized scan reads a graph page for every neighbour it estimates,
 * hundreds a query, and a plain one for every node it expands.  Through
 * ReadBuffer each read hashes the page's tag and searches the buffer
 * mapping table under a partition lock.  ReadRecentBuffer instead pins a
 * buffer we name, after checking under the buffer header's spinlock that
 * it still holds that page; when it no longer does (evicted, reused), we
 * fall back to ReadBuffer and remember the new buffer.  The memory is a
 * hint only, so it needs no invalidation: a stale entry costs one failed
 * check.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "hnswmm.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* Entries of the direct-mapped memory; a power of two */
#define RECENT_SLOTS	16384

typedef struct RecentSlot
{
	Oid			relnode;		/* relfilenode number of the page's index */
	BlockNumber blkno;			/* the page */
	Buffer		buffer;			/* shared buffer it was last found in */
} RecentSlot;

static RecentSlot *recent = NULL;

static RecentSlot *
recent_slot(Relation index, BlockNumber blkno)
{
	uint32		h = hash_combine(murmurhash32(index->rd_node.relNode),
								 murmurhash32(blkno));

	if (recent == NULL)
		recent = MemoryContextAllocZero(TopMemoryContext,
										sizeof(RecentSlot) * RECENT_SLOTS);
	return &recent[h & (RECENT_SLOTS - 1)];
}

/*
 * Pin page blkno of the index's main fork, as ReadBuffer does (the caller
 * locks and releases it as usual).
 */
Buffer
hnswmm_read_buffer(Relation index, BlockNumber blkno)
{
	RecentSlot *slot;
	Buffer		buf;

	if (RelationUsesLocalBuffers(index))
		return ReadBuffer(index, blkno);
	slot = recent_slot(index, blkno);
	if (slot->relnode == index->rd_node.relNode && slot->blkno == blkno &&
		BufferIsValid(slot->buffer) &&
		ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, blkno, slot->buffer))
		return slot->buffer;
	buf = ReadBuffer(index, blkno);
	slot->relnode = index->rd_node.relNode;
	slot->blkno = blkno;
	slot->buffer = buf;
	return buf;
}
