/*
 * hnswmm_search.c
 *		The HNSW algorithm over any graph: beam search of one layer, greedy
 *		descent through the upper layers, and the neighbour-selection
 *		heuristic.  Nodes are reached through the HnswmmGraph callbacks and
 *		vectors through an HnswmmReader, so the same code serves the build
 *		(in-memory graph, mapped vectors) and inserts and scans (graph pages).
 *
 * No allocation happens per node expansion: heaps and the neighbour buffer
 * live in the HnswmmGraph and only grow.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "hnswmm_search.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/memutils.h"

void
hnswmm_graph_init(HnswmmGraph *graph, HnswmmNeighborsFn neighbors,
				  HnswmmReader *reader, int m, HnswmmVisited *visited)
{
	memset(graph, 0, sizeof(HnswmmGraph));
	graph->neighbors = neighbors;
	graph->reader = reader;
	graph->max_neighbors = 2 * m + 1;
	graph->nbuf = palloc(sizeof(uint32) * graph->max_neighbors);
	graph->fresh = palloc(sizeof(HnswmmCandidate) * graph->max_neighbors);
	graph->mapped = palloc(sizeof(const void *) * graph->max_neighbors);
	graph->first = palloc(sizeof(int) * graph->max_neighbors);
	graph->visited = visited;
}

/*
 * The visited set.  A search marks each node it computes a distance to:
 * about ef x 2m ids, whatever the size of the index.  A dense array of one
 * mark per node (as hnswlib keeps) would cost every backend two bytes a
 * node, 200 MB at 100 million nodes, and each iterative scan past its first
 * batch as much again.  The hash table costs about 16 bytes per id a search
 * marks: it doubles when half full and, at a reset, shrinks back when the
 * last search used less than an eighth of it, so a large iterative scan
 * does not leave a large table behind.
 */
#define VISITED_MIN_SLOTS	1024	/* a power of two */

static void
visited_alloc(HnswmmVisited *visited, uint32 nslots)
{
	if (visited->cxt == NULL)
		visited->cxt = CurrentMemoryContext;
	if (visited->slots != NULL)
		pfree(visited->slots);
	visited->slots = MemoryContextAllocHuge(visited->cxt, sizeof(uint32) * (Size) nslots);
	memset(visited->slots, 0, sizeof(uint32) * (Size) nslots);
	visited->mask = nslots - 1;
	visited->count = 0;
}

/* Empty the set for a new search */
void
hnswmm_visited_reset(HnswmmVisited *visited)
{
	uint32		nslots = visited->mask + 1;

	if (visited->slots == NULL)
		visited_alloc(visited, VISITED_MIN_SLOTS);
	else if (nslots > VISITED_MIN_SLOTS && (uint64) visited->count * 8 < nslots)
		visited_alloc(visited, Max(VISITED_MIN_SLOTS,
								   pg_nextpower2_32(Max(visited->count, 1) * 4)));
	else
	{
		memset(visited->slots, 0, sizeof(uint32) * (Size) nslots);
		visited->count = 0;
	}
}

/* The slot of id's key, or of the empty slot where it would go */
static inline uint32
visited_slot(const HnswmmVisited *visited, uint32 key)
{
	uint32		i = murmurhash32(key) & visited->mask;

	while (visited->slots[i] != 0 && visited->slots[i] != key)
		i = (i + 1) & visited->mask;
	return i;
}

/* Double the table, keeping its ids */
static void
visited_grow(HnswmmVisited *visited)
{
	uint32	   *old = visited->slots;
	uint32		old_slots = visited->mask + 1;
	uint32		count = visited->count;

	if (old_slots >= PG_UINT32_MAX / 2 + 1)
		elog(ERROR, "hnswmm: visited set of %u ids cannot grow", count);
	visited->slots = NULL;
	visited_alloc(visited, old_slots * 2);
	for (uint32 i = 0; i < old_slots; i++)
		if (old[i] != 0)
			visited->slots[visited_slot(visited, old[i])] = old[i];
	visited->count = count;
	pfree(old);
}

/* Mark id visited; return whether it already was */
bool
hnswmm_visited_test_and_set(HnswmmVisited *visited, uint32 id)
{
	uint32		key = id + 1;
	uint32		i;

	Assert(id != HNSWMM_INVALID_NODE);
	i = visited_slot(visited, key);
	if (visited->slots[i] == key)
		return true;
	visited->slots[i] = key;
	if (++visited->count * 2 > visited->mask + 1)
		visited_grow(visited);
	return false;
}

/*
 * One visited set serves every search of this backend that is not an
 * iterative scan's later batch: searches never interleave.
 */
HnswmmVisited *
hnswmm_backend_visited(void)
{
	static HnswmmVisited visited;

	visited.cxt = TopMemoryContext;
	return &visited;
}

/* Binary heaps of candidates: a min-heap (closest on top) or a max-heap */
static inline bool
heap_before(const HnswmmCandidate *a, const HnswmmCandidate *b, bool max)
{
	return max ? a->dist > b->dist : a->dist < b->dist;
}

static void
heap_push(HnswmmCandidate *heap, int *n, HnswmmCandidate c, bool max)
{
	int			i = (*n)++;

	while (i > 0)
	{
		int			parent = (i - 1) / 2;

		if (!heap_before(&c, &heap[parent], max))
			break;
		heap[i] = heap[parent];
		i = parent;
	}
	heap[i] = c;
}

static HnswmmCandidate
heap_pop(HnswmmCandidate *heap, int *n, bool max)
{
	HnswmmCandidate top = heap[0];
	HnswmmCandidate last = heap[--(*n)];
	int			i = 0;

	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= *n)
			break;
		if (child + 1 < *n && heap_before(&heap[child + 1], &heap[child], max))
			child++;
		if (!heap_before(&heap[child], &last, max))
			break;
		heap[i] = heap[child];
		i = child;
	}
	if (*n > 0)
		heap[i] = last;
	return top;
}

/* A growable heap of candidates */
static void
heap_grow(HnswmmHeap *h, int need)
{
	if (need > h->size)
	{
		h->size = Max(need, Max(h->size * 2, 64));
		h->items = h->items == NULL ?
			palloc(sizeof(HnswmmCandidate) * h->size) :
			repalloc_huge(h->items, sizeof(HnswmmCandidate) * h->size);
	}
}

static void
heap_add(HnswmmHeap *h, HnswmmCandidate c, bool max)
{
	heap_grow(h, h->n + 1);
	heap_push(h->items, &h->n, c, max);
}

static int
candidate_cmp(const void *a, const void *b)
{
	const HnswmmCandidate *x = a;
	const HnswmmCandidate *y = b;

	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return x->id < y->id ? -1 : (x->id > y->id ? 1 : 0);
}

void
hnswmm_sort_candidates(HnswmmCandidate *c, int n)
{
	qsort(c, n, sizeof(HnswmmCandidate), candidate_cmp);
}

/* Start loading bytes of a mapped vector into the cache */
static inline void
prefetch_bytes(const void *v, Size bytes)
{
	for (Size off = 0; off < bytes; off += 64)
		__builtin_prefetch((const char *) v + off);
}

/* Distance from the query to node id as the graph walks: by code or vector */
float
hnswmm_graph_distance(HnswmmGraph *graph, const float *query, uint32 id)
{
	HnswmmCandidate c;

	if (graph->approx == NULL)
		return hnswmm_reader_distance(graph->reader, query, id);
	graph->approx(graph, query, &id, 1, &c);
	return c.dist;
}

/*
 * Distances from the query to nodes ids[0..n), written to out: by code when
 * the graph walks by codes, else from the vectors, each one's place in the
 * mapping (one piece or two) worked out once, its first lines prefetched at
 * once and the whole of the next one while the current distance is
 * computed.
 */
static void
neighbor_distances(HnswmmGraph *graph, const float *query, const uint32 *ids,
				   int n, HnswmmCandidate *out)
{
	HnswmmReader *reader = graph->reader;
	int			dim = reader->layout.dimensions;
	const void **mapped = graph->mapped;
	int		   *first = graph->first;

	if (graph->approx != NULL)
	{
		graph->approx(graph, query, ids, n, out);
		return;
	}
	for (int i = 0; i < n; i++)
	{
		mapped[i] = hnswmm_reader_mapped(reader, ids[i], &first[i]);
		if (mapped[i] != NULL)
			prefetch_bytes(mapped[i], 256);
	}
	for (int i = 0; i < n; i++)
	{
		/* keep the next two vectors on their way while computing this one */
		for (int j = (i == 0 ? 1 : i + 2); j <= i + 2 && j < n; j++)
		{
			int			bytes;

			if (mapped[j] == NULL)
				continue;
			bytes = hnswmm_element_bytes(&reader->layout, first[j]);
			prefetch_bytes(mapped[j], bytes);
			if (first[j] < dim)
				prefetch_bytes(hnswmm_mapped_rest(mapped[j], bytes),
							   hnswmm_element_bytes(&reader->layout, dim - first[j]));
		}
		out[i].id = ids[i];
		out[i].dist = mapped[i] != NULL ?
			hnswmm_mapped_distance(reader, query, mapped[i], first[i]) :
			hnswmm_reader_distance(reader, query, ids[i]);
	}
}

/*
 * Expand node id on a layer: the neighbours not visited yet, with their
 * distances to the query, written to fresh (room for max_neighbors).
 */
static int
expand_node(HnswmmGraph *graph, const float *query, uint32 id, int level,
			HnswmmCandidate *fresh)
{
	uint32	   *nb = graph->nbuf;
	int			n = graph->neighbors(graph, id, level, nb);
	int			nfresh = 0;

	for (int i = 0; i < n; i++)
		if (!hnswmm_visited_test_and_set(graph->visited, nb[i]))
			nb[nfresh++] = nb[i];
	neighbor_distances(graph, query, nb, nfresh, fresh);
	return nfresh;
}

/*
 * Beam search of one layer from the given entries with beam width ef.
 * Writes the (at most ef) closest nodes found to out, closest first, and
 * returns their count.  out must hold ef candidates.
 */
int
hnswmm_search_layer(HnswmmGraph *graph, const float *query,
					const HnswmmCandidate *entries, int nentries,
					int ef, int level, HnswmmCandidate *out)
{
	HnswmmCandidate *cand;
	HnswmmCandidate *results;
	int			ncand = 0;
	int			nresults = 0;

	heap_grow(&graph->results, ef + 1);
	results = graph->results.items;
	heap_grow(&graph->heap, nentries);
	cand = graph->heap.items;
	hnswmm_visited_reset(graph->visited);
	for (int i = 0; i < nentries; i++)
	{
		if (hnswmm_visited_test_and_set(graph->visited, entries[i].id))
			continue;
		heap_push(cand, &ncand, entries[i], false);
		heap_push(results, &nresults, entries[i], true);
		if (nresults > ef)
			heap_pop(results, &nresults, true);
	}

	while (ncand > 0)
	{
		HnswmmCandidate c = heap_pop(cand, &ncand, false);
		int			nfresh;

		if (nresults >= ef && c.dist > results[0].dist)
			break;
		CHECK_FOR_INTERRUPTS();
		nfresh = expand_node(graph, query, c.id, level, graph->fresh);
		heap_grow(&graph->heap, ncand + nfresh);
		cand = graph->heap.items;
		for (int i = 0; i < nfresh; i++)
		{
			HnswmmCandidate e = graph->fresh[i];

			if (nresults < ef || e.dist < results[0].dist)
			{
				heap_push(cand, &ncand, e, false);
				heap_push(results, &nresults, e, true);
				if (nresults > ef)
					heap_pop(results, &nresults, true);
			}
		}
	}

	memcpy(out, results, sizeof(HnswmmCandidate) * nresults);
	hnswmm_sort_candidates(out, nresults);
	return nresults;
}

/*
 * Greedy walk with beam width 1 through layers from_level down to
 * to_level + 1; returns the closest node found.  Uses the graph's
 * neighbour buffers (nbuf, fresh, mapped, first) as scratch.
 */
HnswmmCandidate
hnswmm_greedy_descent(HnswmmGraph *graph, const float *query,
					  HnswmmCandidate entry, int from_level, int to_level)
{
	for (int level = from_level; level > to_level; level--)
	{
		bool		moved = true;

		while (moved)
		{
			int			n = graph->neighbors(graph, entry.id, level, graph->nbuf);

			moved = false;
			CHECK_FOR_INTERRUPTS();
			neighbor_distances(graph, query, graph->nbuf, n, graph->fresh);
			for (int i = 0; i < n; i++)
			{
				if (graph->fresh[i].dist < entry.dist)
				{
					entry = graph->fresh[i];
					moved = true;
				}
			}
		}
	}
	return entry;
}

/*
 * The HNSW neighbour-selection heuristic: walk the candidates (distances to
 * the base node, sorted closest first) and keep one unless it is closer to
 * an already kept neighbour than to the base node, up to max.  Identical
 * vectors never meet here: they share one graph node (duplicate chains).
 *
 * With fill, the slots the heuristic leaves free are then filled with the
 * closest candidates it passed over.  Lists of existing nodes are pruned
 * that way, so a list drops a node only when it is full and that node is
 * the farthest of those the heuristic did not want: a node is then much
 * less likely to lose its last incoming link and fall out of the graph.
 */
int
hnswmm_select_neighbors(HnswmmReader *reader, const HnswmmCandidate *candidates,
						int n, int max, bool fill, uint32 *out)
{
	int			kept = 0;
	int			heuristic;

	for (int i = 0; i < n && kept < max; i++)
	{
		bool		good = true;

		if (kept > 0)
			hnswmm_reader_copy(reader, candidates[i].id, reader->scratch);
		for (int j = 0; j < kept && good; j++)
		{
			float		d = hnswmm_reader_distance(reader, reader->scratch, out[j]);

			if (d < candidates[i].dist)
				good = false;
		}
		if (good)
			out[kept++] = candidates[i].id;
	}
	heuristic = kept;
	for (int i = 0; fill && i < n && kept < max; i++)
	{
		bool		taken = false;

		for (int j = 0; j < heuristic && !taken; j++)
			taken = out[j] == candidates[i].id;
		if (!taken)
			out[kept++] = candidates[i].id;
	}
	return kept;
}

/*
 * The search a new node of layer `level` makes: greedy descent to its top
 * layer, then a beam of width ef on each layer from there down to 0.
 * found[l] (room for ef + 1 each) receives layer l's results, closest
 * first, and nfound[l] their count; their distances are the codes' when
 * the graph walks by codes.  Returns the top layer searched.
 */
int
hnswmm_search_for_insert(HnswmmGraph *graph, const float *vec,
						 uint32 entry_id, int entry_level, int level, int ef,
						 HnswmmCandidate **found, int *nfound)
{
	int			top = Min(level, entry_level);
	HnswmmCandidate entry;

	entry.id = entry_id;
	entry.dist = hnswmm_graph_distance(graph, vec, entry_id);
	entry = hnswmm_greedy_descent(graph, vec, entry, entry_level, top);
	for (int l = top; l >= 0; l--)
	{
		if (l == top)
			nfound[l] = hnswmm_search_layer(graph, vec, &entry, 1, ef, l, found[l]);
		else
			nfound[l] = hnswmm_search_layer(graph, vec, found[l + 1], nfound[l + 1],
											ef, l, found[l]);
	}
	return top;
}

/*
 * Among the closest results of a layer-0 search, a node whose vector is
 * exactly vec, or HNSWMM_INVALID_NODE.
 */
uint32
hnswmm_find_duplicate(HnswmmReader *reader, const float *vec,
					  const HnswmmCandidate *found, int n)
{
	Size		bytes = sizeof(float) * reader->layout.dimensions;

	for (int i = 0; i < n && i < 8 && found[i].dist == found[0].dist; i++)
	{
		hnswmm_reader_copy(reader, found[i].id, reader->scratch);
		if (memcmp(reader->scratch, vec, bytes) == 0)
			return found[i].id;
	}
	return HNSWMM_INVALID_NODE;
}

/*
 * Start an incremental search of layer 0 from entry (found by the greedy
 * descent).  Allocations go to the current memory context.
 */
void
hnswmm_iter_init(HnswmmIterSearch *it, HnswmmCandidate entry)
{
	memset(it, 0, sizeof(HnswmmIterSearch));
	heap_add(&it->frontier, entry, false);
	heap_add(&it->pending, entry, false);
}

/*
 * Give an incremental search a visited set of its own, for the batches
 * after the first: the backend's set is shared with every other search,
 * and between two batches other scans may use it.  Every node reached so
 * far is either returned or pending, so the set is rebuilt from those once.
 */
void
hnswmm_iter_keep_visited(HnswmmIterSearch *it)
{
	it->visited = palloc0(sizeof(HnswmmVisited));
	hnswmm_visited_reset(it->visited);
	for (int i = 0; i < it->nreturned; i++)
		hnswmm_visited_test_and_set(it->visited, it->returned[i]);
	for (int i = 0; i < it->pending.n; i++)
		hnswmm_visited_test_and_set(it->visited, it->pending.items[i].id);
}

/*
 * The next batch of an incremental layer-0 search: up to ef nodes not
 * returned by an earlier batch, closest first, written to out (room for
 * ef).  Batch 1 is exactly hnswmm_search_layer; later batches go on from
 * where the previous one stopped: the best nodes found but not returned
 * seed the new results, and the unexpanded frontier is expanded further
 * under the same stopping rule.  Batch 1 uses the graph's visited set,
 * later ones the search's own (hnswmm_iter_keep_visited).
 */
int
hnswmm_iter_next_batch(HnswmmGraph *graph, const float *query,
					   HnswmmIterSearch *it, int ef, HnswmmCandidate *out)
{
	HnswmmHeap *batch = &graph->results;
	int			n;

	if (it->visited != NULL)
		graph->visited = it->visited;
	else
	{
		Assert(it->nreturned == 0);
		hnswmm_visited_reset(graph->visited);
		for (int i = 0; i < it->pending.n; i++)
			hnswmm_visited_test_and_set(graph->visited, it->pending.items[i].id);
	}

	batch->n = 0;
	heap_grow(batch, ef + 1);
	while (it->pending.n > 0 && batch->n < ef)
		heap_push(batch->items, &batch->n, heap_pop(it->pending.items, &it->pending.n, false), true);

	while (it->frontier.n > 0)
	{
		HnswmmCandidate c = it->frontier.items[0];
		int			nfresh;

		if (batch->n >= ef && c.dist > batch->items[0].dist)
			break;
		heap_pop(it->frontier.items, &it->frontier.n, false);
		CHECK_FOR_INTERRUPTS();
		nfresh = expand_node(graph, query, c.id, 0, graph->fresh);
		for (int i = 0; i < nfresh; i++)
		{
			HnswmmCandidate e = graph->fresh[i];

			heap_add(&it->frontier, e, false);
			if (batch->n < ef || e.dist < batch->items[0].dist)
			{
				heap_push(batch->items, &batch->n, e, true);
				if (batch->n > ef)
					heap_add(&it->pending, heap_pop(batch->items, &batch->n, true), false);
			}
			else
				heap_add(&it->pending, e, false);
		}
	}

	n = batch->n;
	memcpy(out, batch->items, sizeof(HnswmmCandidate) * n);
	hnswmm_sort_candidates(out, n);
	if (it->nreturned + n > it->returned_size)
	{
		it->returned_size = Max(it->nreturned + n, it->returned_size * 2);
		it->returned = it->returned == NULL ?
			palloc(sizeof(uint32) * it->returned_size) :
			repalloc_huge(it->returned, sizeof(uint32) * it->returned_size);
	}
	for (int i = 0; i < n; i++)
		it->returned[it->nreturned++] = out[i].id;
	return n;
}

/*
 * Add ids to the layer-`level` list of node `from`, kept in `store`; when
 * the list overflows, keep the neighbours the selection heuristic picks
 * (filling it up, see hnswmm_select_neighbors).  The list is read, the new
 * one computed without any lock held, and stored only if the list did not
 * change meanwhile; otherwise it starts over.
 */
void
hnswmm_add_links(HnswmmReader *reader, const HnswmmListStore *store,
				 uint32 from, int level, const uint32 *ids, int nids)
{
	int			cap = level == 0 ? 2 * store->m : store->m;
	uint32	   *cur = palloc(sizeof(uint32) * 2 * store->m);
	uint32	   *next = palloc(sizeof(uint32) * (2 * store->m + nids));
	HnswmmCandidate *cands = palloc(sizeof(HnswmmCandidate) * (2 * store->m + nids));
	float	   *base = NULL;

	for (;;)
	{
		int			ncur = store->read(store->arg, from, level, cur);
		int			n = ncur;

		memcpy(next, cur, sizeof(uint32) * ncur);
		for (int i = 0; i < nids; i++)
		{
			bool		present = ids[i] == from;

			for (int j = 0; j < n && !present; j++)
				present = next[j] == ids[i];
			if (!present)
				next[n++] = ids[i];
		}
		if (n == ncur)
			break;
		if (n > cap)
		{
			if (base == NULL)
			{
				base = palloc(sizeof(float) * reader->layout.dimensions);
				hnswmm_reader_copy(reader, from, base);
			}
			for (int i = 0; i < n; i++)
			{
				cands[i].id = next[i];
				cands[i].dist = hnswmm_reader_distance(reader, base, next[i]);
			}
			hnswmm_sort_candidates(cands, n);
			n = hnswmm_select_neighbors(reader, cands, n, cap, true, next);
		}
		if (store->replace(store->arg, from, level, cur, ncur, next, n))
			break;
	}
	pfree(cur);
	pfree(next);
	pfree(cands);
	if (base != NULL)
		pfree(base);
}
