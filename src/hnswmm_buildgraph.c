/*
 * hnswmm_buildgraph.c
 *		The in-memory graph of CREATE INDEX: linking every node over the
 *		mapped vectors, by the leader alone or together with parallel workers
 *		(max_parallel_maintenance_workers) that share the graph in dynamic
 *		shared memory.
 *
 * Nodes are claimed in id order from an atomic counter.  A neighbour list
 * is copied out under its node's spinlock and replaced by compare-and-swap
 * (hnswmm_add_links), the same scheme inserts use on graph pages, so no
 * lock is held while vectors are read.  The build is one process's work
 * with workers or without, so a serial build runs the same code.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "hnswmm.h"
#include "hnswmm_buildgraph.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "utils/memutils.h"

#define PARALLEL_KEY_GRAPH		UINT64CONST(0x686E73776D6D0001)

/* Fewer nodes than this are linked by the leader alone */
#define MIN_NODES_FOR_PARALLEL	5000

/*
 * The vectors of the next this many nodes are asked for (MADV_WILLNEED)
 * each time a node id that is a multiple of it is claimed.  Ids go cluster
 * by cluster (hnswmm_buildorder.c) and every node is linked after the nodes
 * before it, so the next nodes' vectors are the next bytes of the file, the
 * only ones that a build whose vectors do not fit in memory has not read
 * yet: the kernel reads them in large requests instead of a fault a node.
 */
#define LINK_READ_AHEAD		1024

/* One process's view of the shared graph, with its scratch space */
typedef struct BuildGraph
{
	HnswmmGraph graph;			/* must be first: the search's callbacks */
	BuildShared *shared;
	int			m;
	BuildNode  *nodes;
	uint32	   *level0;
	uint16	   *count0;
	uint32	   *upper;
	slock_t    *locks;
	HnswmmListStore store;		/* lists for hnswmm_add_links */
	HnswmmCandidate *found[HNSWMM_MAX_LEVEL + 1];
	uint32	   *chosen;
	float	   *query;
} BuildGraph;

/* Offsets of the arrays after the header; returns the total size */
static Size
place_arrays(BuildShared *s, uint32 n, Size upper_ids, int m)
{
	Size		off = MAXALIGN(sizeof(BuildShared));

	s->nodes_off = off;
	off += MAXALIGN(sizeof(BuildNode) * (Size) n);
	s->level0_off = off;
	off += MAXALIGN(sizeof(uint32) * 2 * (Size) m * n);
	s->count0_off = off;
	off += MAXALIGN(sizeof(uint16) * (Size) n);
	s->upper_off = off;
	off += MAXALIGN(sizeof(uint32) * Max(upper_ids, 1));
	s->locks_off = off;
	off += MAXALIGN(sizeof(slock_t) * (Size) n);
	s->size = off;
	return off;
}

/* Where the list of node id on a layer is: ids, count, capacity */
static uint32 *
list_of(BuildGraph *bg, uint32 id, int level, uint32 **count32, int *cap)
{
	if (level == 0)
	{
		*count32 = NULL;
		*cap = 2 * bg->m;
		return bg->level0 + (Size) id * 2 * bg->m;
	}
	*count32 = bg->upper + bg->nodes[id].upper + (level - 1) * (bg->m + 1);
	*cap = bg->m;
	return *count32 + 1;
}

static int
read_list(void *arg, uint32 id, int level, uint32 *out)
{
	BuildGraph *bg = (BuildGraph *) arg;
	uint32	   *count32;
	int			cap;
	uint32	   *list = list_of(bg, id, level, &count32, &cap);
	int			n;

	SpinLockAcquire(&bg->locks[id]);
	n = count32 ? (int) *count32 : bg->count0[id];
	memcpy(out, list, sizeof(uint32) * n);
	SpinLockRelease(&bg->locks[id]);
	return n;
}

static bool
replace_list(void *arg, uint32 id, int level, const uint32 *expected,
			 int nexpected, const uint32 *ids, int n)
{
	BuildGraph *bg = (BuildGraph *) arg;
	uint32	   *count32;
	int			cap;
	uint32	   *list = list_of(bg, id, level, &count32, &cap);
	bool		same;

	SpinLockAcquire(&bg->locks[id]);
	same = (count32 ? (int) *count32 : bg->count0[id]) == nexpected &&
		memcmp(list, expected, sizeof(uint32) * nexpected) == 0;
	if (same)
	{
		memcpy(list, ids, sizeof(uint32) * n);
		if (count32)
			*count32 = n;
		else
			bg->count0[id] = n;
	}
	SpinLockRelease(&bg->locks[id]);
	return same;
}

static int
graph_neighbors(HnswmmGraph *graph, uint32 id, int level, uint32 *out)
{
	return read_list(graph, id, level, out);
}

static void
attach(BuildGraph *bg, BuildShared *shared, HnswmmReader *reader)
{
	int			ef = shared->layout.ef_construction;

	memset(bg, 0, sizeof(BuildGraph));
	hnswmm_graph_init(&bg->graph, graph_neighbors, reader, shared->layout.m,
					  hnswmm_backend_visited());
	hnswmm_visited_reset(bg->graph.visited);
	bg->shared = shared;
	bg->m = shared->layout.m;
	bg->nodes = BUILD_NODES(shared);
	bg->level0 = BUILD_LEVEL0(shared);
	bg->count0 = BUILD_COUNT0(shared);
	bg->upper = BUILD_UPPER(shared);
	bg->locks = (slock_t *) ((char *) shared + shared->locks_off);
	bg->store.read = read_list;
	bg->store.replace = replace_list;
	bg->store.arg = bg;
	bg->store.m = bg->m;
	for (int l = 0; l <= HNSWMM_MAX_LEVEL; l++)
		bg->found[l] = palloc(sizeof(HnswmmCandidate) * (ef + 1));
	bg->chosen = palloc(sizeof(uint32) * bg->m);
	bg->query = palloc(sizeof(float) * shared->layout.dimensions);
}

/*
 * Link node id into the graph, or into the duplicate chain of a node with
 * the same vector.
 */
static void
link_node(BuildGraph *bg, uint32 id)
{
	BuildShared *shared = bg->shared;
	HnswmmReader *reader = bg->graph.reader;
	BuildNode  *node = &bg->nodes[id];
	int			nfound[HNSWMM_MAX_LEVEL + 1];
	uint32		entry;
	int			entry_level;
	int			top;
	uint32		head;

	SpinLockAcquire(&shared->entry_lock);
	entry = shared->entry;
	entry_level = shared->entry_level;
	SpinLockRelease(&shared->entry_lock);

	hnswmm_reader_copy(reader, id, bg->query);
	top = hnswmm_search_for_insert(&bg->graph, bg->query, entry, entry_level,
								   node->level, shared->layout.ef_construction,
								   bg->found, nfound);
	head = hnswmm_find_duplicate(reader, bg->query, bg->found[0], nfound[0]);
	if (head != HNSWMM_INVALID_NODE)
	{
		/* its upper layers, if any, stay empty and unused */
		node->flags = HNSWMM_NODE_DUPLICATE;
		SpinLockAcquire(&bg->locks[head]);
		node->dup_next = bg->nodes[head].dup_next;
		bg->nodes[head].dup_next = id;
		SpinLockRelease(&bg->locks[head]);
		return;
	}
	for (int l = top; l >= 0; l--)
	{
		int			n = hnswmm_select_neighbors(reader, bg->found[l], nfound[l],
												bg->m, false, bg->chosen);

		hnswmm_add_links(reader, &bg->store, id, l, bg->chosen, n);
		for (int i = 0; i < n; i++)
			hnswmm_add_links(reader, &bg->store, bg->chosen[i], l, &id, 1);
	}
	if (node->level > entry_level)
	{
		SpinLockAcquire(&shared->entry_lock);
		if (node->level > shared->entry_level)
		{
			shared->entry = id;
			shared->entry_level = node->level;
		}
		SpinLockRelease(&shared->entry_lock);
	}
}

/* Ask for the vectors of nodes [first, first + LINK_READ_AHEAD) */
static void
read_ahead(HnswmmReader *reader, uint32 first, uint32 nnodes)
{
	for (uint32 id = first; id < nnodes && id - first < LINK_READ_AHEAD; id++)
		hnswmm_reader_willneed(reader, id);
}

/* Link nodes until none is left; the leader reports progress */
static void
link_all(BuildShared *shared, Relation index, bool leader)
{
	HnswmmReader reader;
	BuildGraph	bg;

	hnswmm_reader_open_build(&reader, index, &shared->layout, shared->nnodes);
	attach(&bg, shared, &reader);
	for (;;)
	{
		uint32		id = pg_atomic_fetch_add_u32(&shared->next, 1);

		if (id >= shared->nnodes)
			break;
		CHECK_FOR_INTERRUPTS();
		if (id == 0)
			read_ahead(&reader, 0, shared->nnodes);
		if (id % LINK_READ_AHEAD == 0)
			read_ahead(&reader, id + LINK_READ_AHEAD, shared->nnodes);
		link_node(&bg, id);
		if (leader && (id & 1023) == 0)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, id);
	}
	hnswmm_reader_close(&reader);
}

/* The ring through all graph nodes, in id order */
static void
build_ring(BuildShared *shared)
{
	BuildNode  *nodes = BUILD_NODES(shared);
	uint32		first = HNSWMM_INVALID_NODE;
	uint32		prev = HNSWMM_INVALID_NODE;

	for (uint32 id = 0; id < shared->nnodes; id++)
	{
		nodes[id].ring_next = HNSWMM_INVALID_NODE;
		if (nodes[id].flags & HNSWMM_NODE_DUPLICATE)
			continue;
		if (prev == HNSWMM_INVALID_NODE)
			first = id;
		else
			nodes[prev].ring_next = id;
		prev = id;
	}
	if (prev != HNSWMM_INVALID_NODE)
		nodes[prev].ring_next = first;
}

static void
init_shared(BuildShared *shared, Relation heap, Relation index, IndexInfo *indexInfo,
			const HnswmmLayout *layout, const BuildNode *nodes, uint32 n)
{
	BuildNode  *copy = BUILD_NODES(shared);
	slock_t    *locks = (slock_t *) ((char *) shared + shared->locks_off);
	Size		upper_ids = 0;

	shared->heaprelid = RelationGetRelid(heap);
	shared->indexrelid = RelationGetRelid(index);
	shared->isconcurrent = indexInfo->ii_Concurrent;
	shared->layout = *layout;
	shared->nnodes = n;
	SpinLockInit(&shared->entry_lock);
	/* node 0 is the first entry point; workers start at node 1 */
	shared->entry = 0;
	shared->entry_level = nodes[0].level;
	pg_atomic_init_u32(&shared->next, 1);
	memcpy(copy, nodes, sizeof(BuildNode) * n);
	for (uint32 i = 0; i < n; i++)
	{
		copy[i].upper = upper_ids;
		upper_ids += (Size) copy[i].level * (layout->m + 1);
		SpinLockInit(&locks[i]);
	}
	memset(BUILD_COUNT0(shared), 0, sizeof(uint16) * n);
	memset(BUILD_UPPER(shared), 0, sizeof(uint32) * Max(upper_ids, 1));
}

static Size
upper_ids_needed(const BuildNode *nodes, uint32 n, int m)
{
	Size		ids = 0;

	for (uint32 i = 0; i < n; i++)
		ids += (Size) nodes[i].level * (m + 1);
	return ids;
}

/* A parallel context with room for the graph, or NULL */
static ParallelContext *
begin_parallel(Relation heap, Relation index, Size size, int nworkers,
			   BuildShared **shared)
{
	ParallelContext *pcxt;

	EnterParallelMode();
	pcxt = CreateParallelContext("hnswmm", "hnswmm_parallel_build_main", nworkers);
	shm_toc_estimate_chunk(&pcxt->estimator, size);
	shm_toc_estimate_keys(&pcxt->estimator, 1);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return NULL;
	}
	*shared = shm_toc_allocate(pcxt->toc, size);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_GRAPH, *shared);
	return pcxt;
}

/*
 * Build the graph over the nodes the heap scan wrote, with as many
 * parallel workers as the planner grants (max_parallel_maintenance_workers
 * and the table's parallel_workers).
 */
void
hnswmm_build_graph(Relation heap, Relation index, IndexInfo *indexInfo,
				   const HnswmmLayout *layout, BuildNode *nodes, uint32 nnodes,
				   BuildGraphResult *result)
{
	BuildShared header;
	Size		size = place_arrays(&header, nnodes,
									upper_ids_needed(nodes, nnodes, layout->m),
									layout->m);
	int			nworkers = 0;
	BuildShared *shared = NULL;

	result->pcxt = NULL;
	if (nnodes >= MIN_NODES_FOR_PARALLEL)
		nworkers = plan_create_index_workers(RelationGetRelid(heap),
											 RelationGetRelid(index));
	if (nworkers > 0)
		result->pcxt = begin_parallel(heap, index, size, nworkers, &shared);
	if (shared == NULL)
		shared = MemoryContextAllocHuge(CurrentMemoryContext, size);
	memcpy(shared, &header, sizeof(BuildShared));
	init_shared(shared, heap, index, indexInfo, layout, nodes, nnodes);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, nnodes);
	if (result->pcxt != NULL)
		LaunchParallelWorkers(result->pcxt);
	link_all(shared, index, true);
	if (result->pcxt != NULL)
		WaitForParallelWorkersToFinish(result->pcxt);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, nnodes);
	build_ring(shared);
	result->shared = shared;
}

/* After the graph is written: end the parallel context and its memory */
void
hnswmm_build_graph_end(BuildGraphResult *result)
{
	if (result->pcxt != NULL)
	{
		DestroyParallelContext(result->pcxt);
		ExitParallelMode();
		result->pcxt = NULL;
	}
	result->shared = NULL;
}

/* Entry point of a parallel worker: link nodes alongside the leader */
void
hnswmm_parallel_build_main(dsm_segment *seg, shm_toc *toc)
{
	BuildShared *shared = shm_toc_lookup(toc, PARALLEL_KEY_GRAPH, false);
	LOCKMODE	heap_lock = shared->isconcurrent ? ShareUpdateExclusiveLock : ShareLock;
	LOCKMODE	index_lock = shared->isconcurrent ? RowExclusiveLock : AccessExclusiveLock;
	Relation	heap = table_open(shared->heaprelid, heap_lock);
	Relation	index = index_open(shared->indexrelid, index_lock);

	link_all(shared, index, false);
	index_close(index, index_lock);
	table_close(heap, heap_lock);
}
