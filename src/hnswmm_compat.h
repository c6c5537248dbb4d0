/*
 * hnswmm_compat.h
 *		What differs between the PostgreSQL majors hnswmm builds against
 *		(15 to 18), in one place: how a relation's file is named, its path,
 *		the sync at the end of a build, VACUUM's delay point, and the index
 *		AM's capabilities that newer majors ask about.  Everything else uses
 *		the server's interfaces directly.
 */
#ifndef HNSWMM_COMPAT_H
#define HNSWMM_COMPAT_H

#include "access/amapi.h"
#include "access/relscan.h"
#include "access/xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "common/relpath.h"
#include "nodes/pathnodes.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/proc.h"
#include "storage/smgr.h"
#include "utils/rel.h"

/*
 * The identity of a relation's file: RelFileLocator from PostgreSQL 16,
 * RelFileNode before.  The metapage keeps its three numbers as plain
 * integers (HnswmmFileStamp), never the server's struct.
 */
#if PG_VERSION_NUM >= 160000
#include "storage/relfilelocator.h"
typedef RelFileLocator HnswmmFileId;
#define HNSWMM_REL_FILE(rel)		((rel)->rd_locator)
#define HNSWMM_SMGR_FILE(smgr)		((smgr)->smgr_rlocator)
#define HnswmmFileIdEquals(a, b)	RelFileLocatorEquals(a, b)
#define HNSWMM_FILE_SPC(id)			((id).spcOid)
#define HNSWMM_FILE_DB(id)			((id).dbOid)
#define HNSWMM_FILE_REL(id)			((id).relNumber)
#else
#include "storage/relfilenode.h"
typedef RelFileNode HnswmmFileId;
#define HNSWMM_REL_FILE(rel)		((rel)->rd_node)
#define HNSWMM_SMGR_FILE(smgr)		((smgr)->smgr_rnode)
#define HnswmmFileIdEquals(a, b)	RelFileNodeEquals(a, b)
#define HNSWMM_FILE_SPC(id)			((id).spcNode)
#define HNSWMM_FILE_DB(id)			((id).dbNode)
#define HNSWMM_FILE_REL(id)			((id).relNode)
#endif

/* The path of a fork of a relation's file, palloc'd */
static inline char *
hnswmm_relation_path(Relation rel, ForkNumber fork)
{
#if PG_VERSION_NUM >= 180000
	return pstrdup(relpath(HNSWMM_SMGR_FILE(RelationGetSmgr(rel)), fork).str);
#else
	return relpath(HNSWMM_SMGR_FILE(RelationGetSmgr(rel)), fork);
#endif
}

/*
 * The end of a build that wrote a fork directly (not through shared
 * buffers, with skipFsync): its pages must be on disk by the time a
 * checkpoint after the build's WAL completes.  From PostgreSQL 17 the
 * checkpointer can be told to sync the fork (smgrregistersync), as the
 * server's own bulk writer does: unless a checkpoint began after the
 * writes began (it may have passed the pages by, and a crash would replay
 * WAL only from there), or the fork was not WAL-logged (then an immediate
 * sync is what makes it durable for a permanent relation, and costs an
 * unlogged one little).  Before 17 it is always an immediate sync.
 * redo_at_start is GetRedoRecPtr() when the writes began.
 */
static inline void
hnswmm_sync_after_build(Relation rel, ForkNumber fork, bool logged,
						XLogRecPtr redo_at_start)
{
#if PG_VERSION_NUM >= 170000
	SMgrRelation smgr = RelationGetSmgr(rel);

	if (!logged)
	{
		smgrimmedsync(smgr, fork);
		return;
	}
	/* no checkpoint may begin between the test and the registration */
	MyProc->delayChkptFlags |= DELAY_CHKPT_START;
	if (GetRedoRecPtr() == redo_at_start)
	{
		smgrregistersync(smgr, fork);
		MyProc->delayChkptFlags &= ~DELAY_CHKPT_START;
	}
	else
	{
		MyProc->delayChkptFlags &= ~DELAY_CHKPT_START;
		smgrimmedsync(smgr, fork);
	}
#else
	(void) logged;
	(void) redo_at_start;
	smgrimmedsync(RelationGetSmgr(rel), fork);
#endif
}

/*
 * A function that does not return, written before its declaration:
 * PostgreSQL 18 replaced the attribute after it with pg_noreturn
 */
#if PG_VERSION_NUM >= 180000
#define HNSWMM_NORETURN pg_noreturn
#else
#define HNSWMM_NORETURN pg_attribute_noreturn()
#endif

/* VACUUM's cost-based delay */
#if PG_VERSION_NUM >= 180000
#define hnswmm_vacuum_delay_point()	vacuum_delay_point(false)
#else
#define hnswmm_vacuum_delay_point()	vacuum_delay_point()
#endif

/*
 * Keep the planner off an index path that has no ORDER BY distance, which
 * the index cannot serve: its cost is infinite, and from PostgreSQL 18,
 * which compares plans by their count of disabled nodes before their cost,
 * it also counts more disabled nodes than a sequential scan that
 * enable_seqscan = off disables (one)
 */
static inline void
hnswmm_refuse_path(IndexPath *path)
{
#if PG_VERSION_NUM >= 180000
	path->path.disabled_nodes = 2;
#endif
	(void) path;
}

/*
 * One search of the index for a scan: counted in pg_stat_*_indexes
 * (idx_scan, last_idx_scan) and, from PostgreSQL 18, in EXPLAIN ANALYZE's
 * "Index Searches"
 */
static inline void
hnswmm_count_search(IndexScanDesc scan)
{
	pgstat_count_index_scan(scan->indexRelation);
#if PG_VERSION_NUM >= 180000
	if (scan->instrument)
		scan->instrument->nsearches++;
#endif
}

/*
 * Capabilities that majors after 15 ask an index AM about: parallel
 * builds must be declared from 17 on (or the planner grants no workers).
 */
static inline void
hnswmm_set_version_capabilities(IndexAmRoutine *am)
{
#if PG_VERSION_NUM >= 170000
	am->amcanbuildparallel = true;
#endif
#if PG_VERSION_NUM >= 160000
	am->amsummarizing = false;
#endif
	(void) am;
}

/*
 * Read into shared buffers every block that next(arg) names, until it
 * returns InvalidBlockNumber; returns how many.  From PostgreSQL 17 a read
 * stream does it, which combines neighbouring blocks into one read and
 * asks for the next ones ahead while a read is under way; before 17, one
 * ReadBuffer at a time.
 */
typedef BlockNumber (*HnswmmNextBlock) (void *arg);

#if PG_VERSION_NUM >= 170000
#include "storage/read_stream.h"

typedef struct HnswmmStreamBlocks
{
	HnswmmNextBlock next;
	void	   *arg;
} HnswmmStreamBlocks;

static inline BlockNumber
hnswmm_stream_next(ReadStream *stream, void *private_data, void *per_buffer)
{
	HnswmmStreamBlocks *blocks = (HnswmmStreamBlocks *) private_data;

	(void) stream;
	(void) per_buffer;
	return blocks->next(blocks->arg);
}
#endif

static inline int64
hnswmm_load_blocks(Relation rel, HnswmmNextBlock next, void *arg)
{
	int64		n = 0;
#if PG_VERSION_NUM >= 170000
	HnswmmStreamBlocks blocks = {next, arg};
	ReadStream *stream = read_stream_begin_relation(READ_STREAM_FULL, NULL, rel,
													MAIN_FORKNUM,
													hnswmm_stream_next,
													&blocks, 0);
	Buffer		buf;

	while ((buf = read_stream_next_buffer(stream, NULL)) != InvalidBuffer)
	{
		ReleaseBuffer(buf);
		n++;
		CHECK_FOR_INTERRUPTS();
	}
	read_stream_end(stream);
#else
	BlockNumber blkno;

	while ((blkno = next(arg)) != InvalidBlockNumber)
	{
		ReleaseBuffer(ReadBuffer(rel, blkno));
		n++;
		CHECK_FOR_INTERRUPTS();
	}
#endif
	return n;
}

#endif							/* HNSWMM_COMPAT_H */
