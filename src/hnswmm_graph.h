/*
 * hnswmm_graph.h
 *		The graph in buffers: node records, neighbour lists, appending nodes.
 */
#ifndef HNSWMM_GRAPH_H
#define HNSWMM_GRAPH_H

#include "hnswmm_search.h"

/* What a caller needs of a node's level-0 record */
typedef struct HnswmmNodeInfo
{
	ItemPointerData heaptid;
	int			level;
	uint8		flags;
	uint16		upper_page;
	uint16		upper_offset;
	uint32		dup_next;
	uint32		ring_next;
} HnswmmNodeInfo;

/* A search graph over the index's pages */
typedef struct HnswmmPageGraph
{
	HnswmmGraph graph;			/* must be first */
	HnswmmReader reader;
	Buffer		code_buf;		/* graph page kept pinned by code reads */
	struct HnswmmCodeQuery *codes;	/* the query, for codes; NULL: walk by
									 * vectors */
} HnswmmPageGraph;

extern void hnswmm_read_node(Relation index, const HnswmmLayout *layout,
							 uint32 id, HnswmmNodeInfo *info);
extern void hnswmm_read_page_nodes(Relation index, const HnswmmLayout *layout,
								   BlockNumber blkno, uint32 first, uint32 last,
								   HnswmmNodeInfo *out);
extern Buffer hnswmm_read_node_pinned(Relation index, const HnswmmLayout *layout,
									  uint32 id, Buffer pinned,
									  HnswmmNodeInfo *info);
extern int	hnswmm_read_neighbors(Relation index, const HnswmmLayout *layout,
								  uint32 id, int level, uint32 *out);
extern int	hnswmm_read_search_neighbors(Relation index, const HnswmmLayout *layout,
										 uint32 id, int level, uint32 *out);
extern bool hnswmm_replace_neighbors(Relation index, const HnswmmLayout *layout,
									 uint32 id, int level,
									 const uint32 *expected, int nexpected,
									 const uint32 *ids, int n);
extern void hnswmm_mark_dead(Relation index, const HnswmmLayout *layout,
							 Buffer buf, const uint32 *ids, int n);
extern void hnswmm_set_node_flags(Relation index, const HnswmmLayout *layout,
								  uint32 id, uint8 set);
extern uint32 hnswmm_append_node(Relation index, const HnswmmLayout *layout,
								 const float *vec, const char *slot,
								 ItemPointer tid, int *level, uint8 flags,
								 HnswmmLink link, uint32 after);
extern bool hnswmm_replace_link(Relation index, const HnswmmLayout *layout,
								uint32 id, HnswmmLink link, uint32 expected,
								uint32 next);

extern bool hnswmm_unlink_from_ring(Relation index, const HnswmmLayout *layout,
									uint32 prev, uint32 id);
extern void hnswmm_update_entry(Relation index, uint32 id, int level, bool force);
extern void hnswmm_set_dimensions(Relation index, int dimensions,
								  HnswmmMetaPageData *out);
extern void hnswmm_page_graph_open(HnswmmPageGraph *pg, Relation index,
								   const HnswmmMetaPageData *meta);
extern void hnswmm_page_graph_use_codes(HnswmmPageGraph *pg,
										const HnswmmMetaPageData *meta,
										const float *query);
extern void hnswmm_page_graph_close(HnswmmPageGraph *pg);
extern void hnswmm_page_list_store(HnswmmReader *reader, HnswmmListStore *store);

/*
 * Which nodes a walk through layer-0 neighbour lists reaches (VACUUM keeps
 * every node in use reachable from the entry point; hnswmm_verify counts
 * those that are not)
 */
typedef struct HnswmmReach
{
	uint32		nnodes;			/* ids below this are tracked */
	uint32		count;			/* nodes reached */
	uint64	   *reached;		/* bit per node */
	uint64	   *frontier;		/* reached, list not read yet */
	uint8	   *links_in;		/* if asked for: links from reached nodes,
								 * up to 255 */
} HnswmmReach;

extern void hnswmm_reach_init(HnswmmReach *reach, uint32 nnodes, bool count_links);
extern bool hnswmm_reached(const HnswmmReach *reach, uint32 id);
extern void hnswmm_reach_from(Relation index, const HnswmmLayout *layout,
							  HnswmmReach *reach, uint32 from);


#endif							/* HNSWMM_GRAPH_H */
