/*
 * hnswmm_flush.c
 *		The write side of the "flushed" watermark: after a writer changed
 *		the index, complete vector pages past the watermark are written to
 *		the file and the watermark advances, so that scans read those
 *		vectors through the mapping (doc/design.md, section 2).  The
 *		watermark is only ever an optimisation: ids at or above it are read
 *		through buffers, so a flush that does not happen costs speed, never
 *		correctness.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "hnswmm_flush.h"
#include "hnswmm_mapping.h"
#include "utils/rel.h"

/* Most vector pages one insert flushes on its way out */
#define FLUSH_BATCH_PAGES	64

/*
 * Node counts of extent `extent` up to vector page `page` (0-based within
 * the extent): *through = nodes whose slots end on or before that page,
 * *touching = nodes whose slots start on or before it.
 */
static void
nodes_up_to_page(const HnswmmLayout *layout, uint32 extent, uint32 page,
				 uint32 *through, uint32 *touching)
{
	uint64		end = (uint64) (page + 1) * HNSWMM_PAYLOAD;
	uint64		vbytes = (uint64) layout->slot_size;
	uint32		base = extent * layout->nodes_per_extent;

	*through = base + (uint32) Min(end / vbytes, layout->nodes_per_extent);
	*touching = base + (uint32) Min((end + vbytes - 1) / vbytes,
									layout->nodes_per_extent);
}

static BlockNumber
first_vector_block(const HnswmmLayout *layout, uint32 extent)
{
	return hnswmm_extent_start(layout, extent) + layout->graph_pages +
		layout->upper_pages;
}

/*
 * Write vector page blkno to the file if its content is durable in WAL
 * already (so the write costs no WAL flush).  Returns false if it is not.
 */
static bool
flush_if_durable(Relation index, BlockNumber blkno, XLogRecPtr durable)
{
	Buffer		buf = ReadBuffer(index, blkno);
	bool		ok;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	ok = PageGetLSN(BufferGetPage(buf)) <= durable;
	if (ok)
		FlushOneBuffer(buf);
	UnlockReleaseBuffer(buf);
	return ok;
}

typedef struct FlushedChange
{
	uint32		flushed;		/* the new watermark */
	bool		restamp;		/* also stamp the metapage for this file */
} FlushedChange;

static bool
change_flushed(Relation index, HnswmmMetaPage meta, void *arg)
{
	FlushedChange *c = (FlushedChange *) arg;

	if (c->restamp)
	{
		hnswmm_stamp(index, meta);
		meta->flushed = c->flushed;
		return true;
	}
	if (c->flushed <= meta->flushed)
		return false;
	meta->flushed = c->flushed;
	return true;
}

static void
set_flushed(Relation index, uint32 flushed, bool restamp)
{
	FlushedChange c = {flushed, restamp};

	hnswmm_change_meta(index, change_flushed, &c);
}

/*
 * Called by writers after they changed the index: write complete vector
 * pages past the watermark to the file and advance the watermark, so that
 * scans read those vectors through the mapping.  After a promotion, a
 * restore, pg_upgrade or a copy of the file the stamp does not match: write
 * every dirty page of the index once, then stamp it.
 */
void
hnswmm_advance_flushed(Relation index)
{
	HnswmmMetaPageData meta;
	HnswmmLayout layout;
	XLogRecPtr	durable;
	uint32		flushed;
	uint32		extent;
	uint32		page;
	int			budget = FLUSH_BATCH_PAGES;

	if (RelationUsesLocalBuffers(index) || RecoveryInProgress())
		return;
	hnswmm_get_meta(index, &meta);
	if (meta.dimensions == 0 || meta.nnodes == 0)
		return;
	if (!hnswmm_stamp_matches(index, &meta))
	{
		FlushRelationBuffers(index);
		set_flushed(index, meta.nnodes, true);
		return;
	}

	hnswmm_layout_from_meta(&layout, &meta);
	durable = GetFlushRecPtr(NULL);
	flushed = meta.flushed;
	extent = flushed / layout.nodes_per_extent;
	page = hnswmm_vector_slot(&layout, flushed).first_block -
		first_vector_block(&layout, extent);
	while (budget-- > 0)
	{
		uint32		through;
		uint32		touching;

		nodes_up_to_page(&layout, extent, page, &through, &touching);
		if (touching > meta.nnodes)
			break;				/* a vector on this page is not written yet */
		if (!flush_if_durable(index, first_vector_block(&layout, extent) + page,
							  durable))
			break;
		flushed = Max(flushed, through);
		if (++page == layout.vector_pages)
		{
			extent++;
			page = 0;
		}
	}
	if (flushed > meta.flushed)
		set_flushed(index, flushed, false);
}
