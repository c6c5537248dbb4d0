/*
 * hnswmm_buildgraph.h
 *		The in-memory graph of CREATE INDEX, which parallel workers share.
 */
#ifndef HNSWMM_BUILDGRAPH_H
#define HNSWMM_BUILDGRAPH_H

#include "access/parallel.h"
#include "hnswmm_search.h"
#include "port/atomics.h"
#include "storage/spin.h"

/* One node of the in-memory graph (its layer-0 list is in the level-0 array) */
typedef struct BuildNode
{
	ItemPointerData tid;		/* heap tuple */
	uint8		level;			/* top layer */
	uint8		flags;			/* HNSWMM_NODE_DUPLICATE or 0 */
	uint16		upper_page;		/* where its upper record will be written */
	uint16		upper_offset;
	uint64		upper;			/* first layer's index in the upper array */
	uint32		dup_next;		/* duplicate chain */
	uint32		ring_next;		/* the ring through all graph nodes */
} BuildNode;

/*
 * The graph: this header, then the arrays below at the offsets it records.
 * In a parallel build it lives in dynamic shared memory; node lists are
 * read and changed under a spinlock per node, held only while copying.
 */
typedef struct BuildShared
{
	Oid			heaprelid;		/* for parallel workers */
	Oid			indexrelid;
	bool		isconcurrent;	/* CREATE INDEX CONCURRENTLY */
	HnswmmLayout layout;
	uint32		nnodes;
	pg_atomic_uint32 next;		/* next node id to link */
	slock_t		entry_lock;		/* protects entry and entry_level */
	uint32		entry;
	int			entry_level;
	Size		nodes_off;		/* BuildNode[nnodes] */
	Size		level0_off;		/* uint32[nnodes * 2m] */
	Size		count0_off;		/* uint16[nnodes] */
	Size		upper_off;		/* per upper layer: count, then m ids */
	Size		locks_off;		/* slock_t[nnodes] */
	Size		size;			/* of everything */
} BuildShared;

#define BUILD_NODES(s)	((BuildNode *) ((char *) (s) + (s)->nodes_off))
#define BUILD_LEVEL0(s)	((uint32 *) ((char *) (s) + (s)->level0_off))
#define BUILD_COUNT0(s)	((uint16 *) ((char *) (s) + (s)->count0_off))
#define BUILD_UPPER(s)	((uint32 *) ((char *) (s) + (s)->upper_off))

typedef struct BuildGraphResult
{
	BuildShared *shared;		/* the finished graph */
	ParallelContext *pcxt;		/* to end after the graph is written */
} BuildGraphResult;

extern void hnswmm_build_graph(Relation heap, Relation index, IndexInfo *indexInfo,
							   const HnswmmLayout *layout, BuildNode *nodes,
							   uint32 nnodes, BuildGraphResult *result);
extern void hnswmm_build_graph_end(BuildGraphResult *result);
extern PGDLLEXPORT void hnswmm_parallel_build_main(dsm_segment *seg, shm_toc *toc);

#endif							/* HNSWMM_BUILDGRAPH_H */
