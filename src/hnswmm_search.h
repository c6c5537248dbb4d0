/*
 * hnswmm_search.h
 *		The HNSW algorithm proper (layer search, greedy descent, neighbour
 *		selection), independent of where the graph is kept: the build runs it
 *		over an in-memory graph, inserts and scans over graph pages.
 */
#ifndef HNSWMM_SEARCH_H
#define HNSWMM_SEARCH_H

#include "hnswmm_store.h"

typedef struct HnswmmCandidate
{
	float		dist;
	uint32		id;
} HnswmmCandidate;

/*
 * Set of the node ids one search has visited: an open-addressing hash
 * table whose size follows what the searches mark (about ef x 2m ids), not
 * the number of nodes in the index (hnswmm_search.c)
 */
typedef struct HnswmmVisited
{
	MemoryContext cxt;			/* where slots live */
	uint32	   *slots;			/* id + 1, or 0 for an empty slot */
	uint32		mask;			/* slots - 1, a power of two less one */
	uint32		count;			/* ids in the set */
} HnswmmVisited;

/* A growable binary heap of candidates */
typedef struct HnswmmHeap
{
	HnswmmCandidate *items;
	int			n;
	int			size;
} HnswmmHeap;

typedef struct HnswmmGraph HnswmmGraph;

/* Copy the layer-`level` neighbours of node id into out; return their count */
typedef int (*HnswmmNeighborsFn) (HnswmmGraph *graph, uint32 id, int level,
								  uint32 *out);

/* Approximate distances from the query to nodes ids[0..n) (codes) */
typedef void (*HnswmmApproxFn) (HnswmmGraph *graph, const float *query,
								const uint32 *ids, int n, HnswmmCandidate *out);

struct HnswmmGraph
{
	HnswmmNeighborsFn neighbors;
	HnswmmApproxFn approx;		/* if set, walk by codes instead of vectors */
	HnswmmReader *reader;		/* vectors */
	HnswmmVisited *visited;
	int			max_neighbors;	/* size of the neighbour buffer (2m + 1) */
	uint32	   *nbuf;			/* neighbour buffer of one expansion */
	HnswmmCandidate *fresh;		/* its new neighbours with distances (the
								 * greedy descent's: all of them) */
	const void **mapped;		/* their vectors in the mapping, or NULL */
	int		   *first;			/* floats of each one's first piece there */
	HnswmmHeap	heap;			/* candidates of one layer search */
	HnswmmHeap	results;		/* results of one layer search or batch */
};


/* State of an incremental layer-0 search, kept across batches */
typedef struct HnswmmIterSearch
{
	HnswmmHeap	frontier;		/* reached, not expanded (min-heap) */
	HnswmmHeap	pending;		/* reached, not returned (min-heap) */
	uint32	   *returned;		/* ids returned by earlier batches */
	int			nreturned;
	int			returned_size;
	HnswmmVisited *visited;		/* its own, once it goes past batch 1 */
} HnswmmIterSearch;

extern void hnswmm_iter_init(HnswmmIterSearch *it, HnswmmCandidate entry);
extern void hnswmm_iter_keep_visited(HnswmmIterSearch *it);
extern int	hnswmm_iter_next_batch(HnswmmGraph *graph, const float *query,
								   HnswmmIterSearch *it, int ef,
								   HnswmmCandidate *out);

/* Where neighbour lists live (graph pages or the build's memory) */
typedef int (*HnswmmReadListFn) (void *arg, uint32 id, int level, uint32 *out);
typedef bool (*HnswmmReplaceListFn) (void *arg, uint32 id, int level,
									 const uint32 *expected, int nexpected,
									 const uint32 *ids, int n);

typedef struct HnswmmListStore
{
	HnswmmReadListFn read;		/* copy a list out */
	HnswmmReplaceListFn replace;	/* compare-and-swap a list */
	void	   *arg;
	int			m;
} HnswmmListStore;

extern void hnswmm_add_links(HnswmmReader *reader, const HnswmmListStore *store,
							 uint32 from, int level, const uint32 *ids, int nids);

extern void hnswmm_graph_init(HnswmmGraph *graph, HnswmmNeighborsFn neighbors,
							  HnswmmReader *reader, int m, HnswmmVisited *visited);
extern float hnswmm_graph_distance(HnswmmGraph *graph, const float *query,
								   uint32 id);
extern HnswmmVisited *hnswmm_backend_visited(void);
extern void hnswmm_visited_reset(HnswmmVisited *visited);
extern bool hnswmm_visited_test_and_set(HnswmmVisited *visited, uint32 id);

extern HnswmmCandidate hnswmm_greedy_descent(HnswmmGraph *graph, const float *query,
											 HnswmmCandidate entry, int from_level,
											 int to_level);
extern int	hnswmm_search_layer(HnswmmGraph *graph, const float *query,
								const HnswmmCandidate *entries, int nentries,
								int ef, int level, HnswmmCandidate *out);
extern int	hnswmm_select_neighbors(HnswmmReader *reader,
									const HnswmmCandidate *candidates, int n,
									int max, bool fill, uint32 *out);
extern void hnswmm_sort_candidates(HnswmmCandidate *c, int n);
extern int	hnswmm_search_for_insert(HnswmmGraph *graph, const float *vec,
									 uint32 entry_id, int entry_level, int level,
									 int ef, HnswmmCandidate **found, int *nfound);
extern uint32 hnswmm_find_duplicate(HnswmmReader *reader, const float *vec,
									const HnswmmCandidate *found, int n);

#endif							/* HNSWMM_SEARCH_H */
