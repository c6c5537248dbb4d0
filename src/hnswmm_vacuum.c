/*
 * hnswmm_vacuum.c
 *		VACUUM of an hnswmm index, in four passes:
 *		1. mark the nodes whose heap tuples are dead (flag DEAD, TID cleared),
 *		   under a cleanup lock of their graph page: an index-only scan keeps
 *		   the page of the row it handed out last pinned, so a TID is never
 *		   removed while the executor may still trust the visibility map
 *		   for it (hnswmm_scan.c); then wait out inserts that may have seen
 *		   the nodes alive;
 *		2. repair every live node that links a removed node, choosing new
 *		   neighbours among its other neighbours and the removed nodes'
 *		   neighbours, and move the entry point off a removed node;
 *		3. flag the removed nodes DELETED: no live node links them any more;
 *		   unlink dead rows from duplicate chains and flag them DELETED.
 *		Then, at the end of every VACUUM (vacuumcleanup), whether it removed
 *		anything or not:
 *		4. walk the graph from the entry point through layer-0 neighbour
 *		   lists, and link from their nearest reached nodes every node in use
 *		   that the walk did not reach, and every weakly linked node that a
 *		   search for its own vector misses (pruning,
 *		   by inserts and by repairs, can take a node's last incoming link;
 *		   the ring still reaches it, but only a search that walks most of
 *		   the graph finds it that way).
 *		A graph node whose row died but whose duplicate chain still holds
 *		rows stays in the graph (DEAD, never returned) until the chain is
 *		empty.  Vector slots are never freed; REINDEX reclaims their space.
 */
#include "postgres.h"

#include "access/genam.h"
#include "commands/vacuum.h"
#include "hnswmm.h"
#include "hnswmm_compat.h"
#include "hnswmm_flush.h"
#include "hnswmm_graph.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"

typedef struct VacuumState
{
	Relation	index;
	HnswmmLayout layout;
	uint32		nnodes;			/* nodes this VACUUM looks at */
	uint32		nnodes_pass1;	/* of them, the nodes pass 1 checked */
	uint8	   *removed;		/* bit per node: DEAD or DELETED */
	uint32		nremoved;
	uint32		newly_dead;		/* marked DEAD by this pass */
	uint32		to_delete;		/* graph nodes to become DELETED */
	uint32		dead_duplicates;	/* DEAD rows in duplicate chains */
	uint32		deleted;		/* flagged DELETED by pass 3 */
	uint32		live;
	uint32		best_live;		/* a live node of the highest layer */
	int			best_level;
} VacuumState;

#define IS_REMOVED(vs, id)	(((vs)->removed[(id) / 8] >> ((id) % 8)) & 1)
#define SET_REMOVED(vs, id)	((vs)->removed[(id) / 8] |= 1 << ((id) % 8))

/* A candidate for the entry point: the graph node of the highest layer */
static void
consider_entry(VacuumState *vs, uint32 id, int level)
{
	if (vs->best_live == HNSWMM_INVALID_NODE || level > vs->best_level)
	{
		vs->best_live = id;
		vs->best_level = level;
	}
}

/* Note that graph node id, DEAD and without duplicates, is to be removed */
static void
note_removed(VacuumState *vs, uint32 id)
{
	SET_REMOVED(vs, id);
	vs->nremoved++;
	vs->to_delete++;
}

/*
 * Pass 1 for one node: kill it if its heap tuple is dead, note what pass 2
 * and 3 must do.  Returns true if it must be marked DEAD.
 */
static bool
check_node(VacuumState *vs, uint32 id, HnswmmNode *node,
		   IndexBulkDeleteCallback callback, void *callback_state)
{
	bool		duplicate = (node->flags & HNSWMM_NODE_DUPLICATE) != 0;
	bool		kill = false;

	if (node->flags & HNSWMM_NODE_DELETED)
	{
		if (!duplicate)
		{
			SET_REMOVED(vs, id);
			vs->nremoved++;
		}
		return false;
	}
	if (!(node->flags & HNSWMM_NODE_DEAD))
	{
		kill = callback(&node->heaptid, callback_state);
		if (!kill)
		{
			vs->live++;
			return false;
		}
	}
	if (duplicate)
		vs->dead_duplicates++;
	else if (node->dup_next == HNSWMM_INVALID_NODE)
		note_removed(vs, id);
	return kill;
}

/*
 * Pass 1 over one graph page: check its nodes under a share lock, then
 * mark those to kill, all in one WAL record, under a cleanup lock
 */
static void
mark_dead_on_page(VacuumState *vs, BlockNumber blkno, uint32 first, uint32 last,
				  IndexBulkDeleteCallback callback, void *callback_state)
{
	Buffer		buf = ReadBuffer(vs->index, blkno);
	uint32	   *kill = palloc(sizeof(uint32) * (last - first));
	int			nkill = 0;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	for (uint32 id = first; id < last; id++)
	{
		HnswmmNode *node = hnswmm_page_node(&vs->layout, BufferGetPage(buf), id);

		if (check_node(vs, id, node, callback, callback_state))
			kill[nkill++] = id;
		/* the best entry point: a graph node on the highest layer */
		if (!(node->flags & (HNSWMM_NODE_DUPLICATE | HNSWMM_NODE_DELETED)) &&
			!IS_REMOVED(vs, id))
			consider_entry(vs, id, node->level);
	}
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	if (nkill > 0)
		hnswmm_mark_dead(vs->index, &vs->layout, buf, kill, nkill);
	ReleaseBuffer(buf);
	vs->newly_dead += nkill;
	pfree(kill);
}

/*
 * After the barrier no insert can add to the duplicate chain of a DEAD
 * node; one that did before keeps the node in the graph.
 */
static void
recheck_removed(VacuumState *vs)
{
	for (uint32 id = 0; id < vs->nnodes; id++)
	{
		HnswmmNodeInfo info;

		if (!IS_REMOVED(vs, id))
			continue;
		hnswmm_read_node(vs->index, &vs->layout, id, &info);
		if (!(info.flags & HNSWMM_NODE_DELETED) && info.dup_next != HNSWMM_INVALID_NODE)
		{
			vs->removed[id / 8] &= ~(1 << (id % 8));
			vs->nremoved--;
			vs->to_delete--;
			consider_entry(vs, id, info.level);
		}
	}
}

static void
for_each_graph_page(VacuumState *vs,
					void (*fn) (VacuumState *vs, BlockNumber blkno, uint32 first,
								uint32 last, void *arg), void *arg)
{
	const HnswmmLayout *layout = &vs->layout;

	for (uint32 extent_first = 0; extent_first < vs->nnodes;
		 extent_first += layout->nodes_per_extent)
	{
		uint32		end = Min(extent_first + layout->nodes_per_extent, vs->nnodes);

		for (uint32 first = extent_first; first < end;
			 first += layout->nodes_per_graph_page)
		{
			hnswmm_vacuum_delay_point();
			fn(vs, hnswmm_node_block(layout, first), first,
			   Min(first + layout->nodes_per_graph_page, end), arg);
		}
	}
}

typedef struct MarkArg
{
	IndexBulkDeleteCallback callback;
	void	   *state;
} MarkArg;

static void
mark_page_fn(VacuumState *vs, BlockNumber blkno, uint32 first, uint32 last, void *arg)
{
	MarkArg    *ma = (MarkArg *) arg;

	mark_dead_on_page(vs, blkno, first, last, ma->callback, ma->state);
}

/* Most removed nodes one repair walks through, per list entry to replace */
#define REPAIR_WALK_PER_SLOT	16

/*
 * New neighbours for node id at layer level, whose list `list` links
 * removed nodes: its live neighbours plus the live nodes found by walking
 * breadth-first through removed nodes from the removed members (their
 * lists are intact), pruned by the selection heuristic.  The walk matters
 * after heavy deletes, when a removed node's neighbours are mostly removed
 * too.
 */
typedef struct RepairWalk
{
	VacuumState *vs;
	HnswmmReader *reader;
	const float *base;			/* vector of the node being repaired */
	HnswmmVisited *seen;
	HnswmmCandidate *cands;		/* live nodes found, with distances */
	int			ncand;
	uint32	   *queue;			/* removed nodes to walk through */
	int			tail;
	int			walk_max;
} RepairWalk;

static void
walk_add(RepairWalk *w, const uint32 *ids, int n)
{
	for (int j = 0; j < n; j++)
	{
		uint32		id = ids[j];

		if (hnswmm_visited_test_and_set(w->seen, id))
			continue;
		/* a node appended during this VACUUM is live */
		if (id < w->vs->nnodes && IS_REMOVED(w->vs, id))
		{
			if (w->tail < w->walk_max)
				w->queue[w->tail++] = id;
			continue;
		}
		w->cands[w->ncand].id = id;
		w->cands[w->ncand].dist = hnswmm_reader_distance(w->reader, w->base, id);
		w->ncand++;
	}
}

static int
repaired_list(VacuumState *vs, HnswmmReader *reader, uint32 id, int level,
			  const uint32 *list, int n, uint32 *out)
{
	int			cap = level == 0 ? 2 * vs->layout.m : vs->layout.m;
	uint32	   *hop = palloc(sizeof(uint32) * 2 * vs->layout.m);
	float	   *base = palloc(sizeof(float) * vs->layout.dimensions);
	RepairWalk	w;
	int			kept;

	w.vs = vs;
	w.reader = reader;
	w.base = base;
	w.seen = hnswmm_backend_visited();
	w.walk_max = cap * REPAIR_WALK_PER_SLOT;
	w.cands = palloc(sizeof(HnswmmCandidate) * (n + w.walk_max * cap));
	w.ncand = 0;
	w.queue = palloc(sizeof(uint32) * w.walk_max);
	w.tail = 0;

	hnswmm_visited_reset(w.seen);
	hnswmm_visited_test_and_set(w.seen, id);
	hnswmm_reader_copy(reader, id, base);
	walk_add(&w, list, n);
	for (int head = 0; head < w.tail && w.ncand < 2 * cap; head++)
		walk_add(&w, hop, hnswmm_read_neighbors(vs->index, &vs->layout,
												w.queue[head], level, hop));

	hnswmm_sort_candidates(w.cands, w.ncand);
	kept = hnswmm_select_neighbors(reader, w.cands, w.ncand, cap, true, out);
	pfree(w.cands);
	pfree(w.queue);
	pfree(hop);
	pfree(base);
	return kept;
}

static bool
links_removed(VacuumState *vs, const uint32 *list, int n)
{
	for (int i = 0; i < n; i++)
		if (list[i] < vs->nnodes && IS_REMOVED(vs, list[i]))
			return true;
	return false;
}

/* Pass 2 for one node: repair each layer that links a removed node */
static void
repair_node(VacuumState *vs, HnswmmReader *reader, uint32 id, int level)
{
	uint32	   *list = palloc(sizeof(uint32) * 2 * vs->layout.m);
	uint32	   *fixed = palloc(sizeof(uint32) * 2 * vs->layout.m);

	for (int l = 0; l <= level; l++)
	{
		for (;;)
		{
			int			n = hnswmm_read_neighbors(vs->index, &vs->layout, id, l, list);
			int			nfixed;

			if (!links_removed(vs, list, n))
				break;
			nfixed = repaired_list(vs, reader, id, l, list, n, fixed);
			if (hnswmm_replace_neighbors(vs->index, &vs->layout, id, l,
										 list, n, fixed, nfixed))
				break;
		}
	}
	pfree(list);
	pfree(fixed);
}

static void
repair_page_fn(VacuumState *vs, BlockNumber blkno, uint32 first, uint32 last, void *arg)
{
	HnswmmReader *reader = (HnswmmReader *) arg;
	HnswmmNodeInfo *infos = palloc(sizeof(HnswmmNodeInfo) * (last - first));

	hnswmm_read_page_nodes(vs->index, &vs->layout, blkno, first, last, infos);
	for (uint32 id = first; id < last; id++)
	{
		HnswmmNodeInfo *info = &infos[id - first];

		if (!IS_REMOVED(vs, id) &&
			!(info->flags & (HNSWMM_NODE_DUPLICATE | HNSWMM_NODE_DELETED)))
			repair_node(vs, reader, id, info->level);
	}
	pfree(infos);
}

/* Unlink the DEAD rows of head's duplicate chain and flag them DELETED */
static void
prune_chain(VacuumState *vs, uint32 head)
{
	uint32		prev = head;
	HnswmmNodeInfo info;
	uint32		cur;

	hnswmm_read_node(vs->index, &vs->layout, head, &info);
	cur = info.dup_next;
	while (cur != HNSWMM_INVALID_NODE)
	{
		hnswmm_read_node(vs->index, &vs->layout, cur, &info);
		if (!(info.flags & HNSWMM_NODE_DEAD) || (info.flags & HNSWMM_NODE_DELETED))
		{
			prev = cur;
			cur = info.dup_next;
			continue;
		}
		if (!hnswmm_replace_link(vs->index, &vs->layout, prev, HNSWMM_LINK_DUP,
								 cur, info.dup_next))
		{
			/* an insert pushed a row onto the head: start over */
			prev = head;
			hnswmm_read_node(vs->index, &vs->layout, head, &info);
			cur = info.dup_next;
			continue;
		}
		hnswmm_set_node_flags(vs->index, &vs->layout, cur, HNSWMM_NODE_DELETED);
		vs->deleted++;
		cur = info.dup_next;
	}
}

/*
 * Take the removed nodes off the ring and flag them DELETED, each in one
 * WAL record: walk the ring from the entry point, which stays, splicing out
 * every removed successor.  Inserts never put a node
 * after a removed one: they link only live nodes, and the entry point
 * moved off removed nodes with inserts locked out.
 */
static void
prune_ring(VacuumState *vs)
{
	HnswmmMetaPageData meta;
	uint64		steps = 0;
	uint64		limit;
	uint32		start;
	uint32		cur;

	hnswmm_get_meta(vs->index, &meta);
	start = meta.entry_node;
	if (start == HNSWMM_INVALID_NODE)
		return;
	limit = 4 * (uint64) meta.nnodes + 16;
	cur = start;
	while (steps++ < limit)
	{
		HnswmmNodeInfo info;

		CHECK_FOR_INTERRUPTS();
		hnswmm_read_node(vs->index, &vs->layout, cur, &info);
		if (info.ring_next == HNSWMM_INVALID_NODE)
			break;
		if (info.ring_next < vs->nnodes && IS_REMOVED(vs, info.ring_next))
		{
			/* splice it out and delete it, then look at cur's new successor */
			if (hnswmm_unlink_from_ring(vs->index, &vs->layout, cur, info.ring_next))
				vs->deleted++;
			continue;
		}
		cur = info.ring_next;
		if (cur == start)
			break;
	}
}

static void
delete_page_fn(VacuumState *vs, BlockNumber blkno, uint32 first, uint32 last, void *arg)
{
	HnswmmNodeInfo *infos = palloc(sizeof(HnswmmNodeInfo) * (last - first));

	hnswmm_read_page_nodes(vs->index, &vs->layout, blkno, first, last, infos);
	for (uint32 id = first; id < last; id++)
	{
		HnswmmNodeInfo *info = &infos[id - first];

		if (info->flags & (HNSWMM_NODE_DELETED | HNSWMM_NODE_DUPLICATE))
			continue;
		if (IS_REMOVED(vs, id))
		{
			hnswmm_set_node_flags(vs->index, &vs->layout, id, HNSWMM_NODE_DELETED);
			vs->deleted++;
		}
		else if (info->dup_next != HNSWMM_INVALID_NODE && vs->dead_duplicates > 0)
			prune_chain(vs, id);
	}
	pfree(infos);
}

static bool
change_deleted(Relation index, HnswmmMetaPage meta, void *arg)
{
	meta->ndeleted += *(uint32 *) arg;
	return *(uint32 *) arg > 0;
}

/*
 * Nodes appended since pass 1 (before the barrier) may link nodes that died
 * meanwhile; pass 2 must repair them too.  They are not removed themselves.
 */
static void
include_new_nodes(VacuumState *vs)
{
	HnswmmMetaPageData meta;

	hnswmm_get_meta(vs->index, &meta);
	if (meta.nnodes > vs->nnodes)
	{
		vs->removed = repalloc_huge(vs->removed, meta.nnodes / 8 + 1);
		memset(vs->removed + vs->nnodes / 8 + 1, 0,
			   meta.nnodes / 8 - vs->nnodes / 8);
		vs->nnodes = meta.nnodes;
	}
}

/*
 * Move the entry point off a removed node, with inserts locked out.  The
 * new one is the graph node of the highest layer among the nodes that
 * stay: those pass 1 saw alive, and every node appended since, which is
 * alive too.  (When every earlier node is removed, as in a queue-like
 * table emptied while writers insert, only the new ones are left; an
 * invalid entry point would make the next insert start a new graph and
 * lose them.)
 */
static void
fix_entry_point(VacuumState *vs)
{
	HnswmmMetaPageData meta;

	LockPage(vs->index, HNSWMM_UPDATE_LOCK, ExclusiveLock);
	hnswmm_get_meta(vs->index, &meta);
	if (meta.entry_node != HNSWMM_INVALID_NODE && meta.entry_node < vs->nnodes &&
		IS_REMOVED(vs, meta.entry_node))
	{
		for (uint32 id = vs->nnodes_pass1; id < meta.nnodes; id++)
		{
			HnswmmNodeInfo info;

			hnswmm_read_node(vs->index, &vs->layout, id, &info);
			if (!(info.flags & (HNSWMM_NODE_DUPLICATE | HNSWMM_NODE_DELETED)))
				consider_entry(vs, id, info.level);
		}
		hnswmm_update_entry(vs->index, vs->best_live, vs->best_level, true);
	}
	UnlockPage(vs->index, HNSWMM_UPDATE_LOCK, ExclusiveLock);
}

IndexBulkDeleteResult *
hnswmm_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				  IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	HnswmmMetaPageData meta;
	VacuumState vs;
	MarkArg		ma;
	HnswmmReader reader;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	hnswmm_get_meta(index, &meta);
	if (meta.dimensions == 0 || meta.nnodes == 0)
		return stats;

	memset(&vs, 0, sizeof(vs));
	vs.index = index;
	hnswmm_layout_from_meta(&vs.layout, &meta);
	vs.nnodes = meta.nnodes;
	vs.nnodes_pass1 = meta.nnodes;
	vs.removed = palloc0(vs.nnodes / 8 + 1);
	vs.best_live = HNSWMM_INVALID_NODE;

	ma.callback = callback;
	ma.state = callback_state;
	for_each_graph_page(&vs, mark_page_fn, &ma);
	stats->tuples_removed += vs.newly_dead;
	stats->num_index_tuples = vs.live;

	if (vs.nremoved > 0 || vs.dead_duplicates > 0)
	{
		/* wait for inserts that may have chosen a node before it died */
		LockPage(index, HNSWMM_UPDATE_LOCK, ExclusiveLock);
		UnlockPage(index, HNSWMM_UPDATE_LOCK, ExclusiveLock);
		recheck_removed(&vs);
		include_new_nodes(&vs);

		/*
		 * Repair whenever removed nodes exist, not only new ones: nodes
		 * inserted during an earlier VACUUM may still link them.
		 */
		if (vs.nremoved > 0)
		{
			fix_entry_point(&vs);
			hnswmm_reader_open(&reader, index, &meta);
			for_each_graph_page(&vs, repair_page_fn, &reader);
			hnswmm_reader_close(&reader);
			prune_ring(&vs);
		}
		for_each_graph_page(&vs, delete_page_fn, NULL);
		hnswmm_change_meta(index, change_deleted, &vs.deleted);
	}
	hnswmm_advance_flushed(index);
	return stats;
}

/* Nearest nodes a node that searches miss is linked from */
#define RELINK_TRIES		3

/* Node id is in use: a graph node whose row, or a row of its chain, lives */
static bool
node_in_use(const HnswmmNodeInfo *info)
{
	if (info->flags & (HNSWMM_NODE_DELETED | HNSWMM_NODE_DUPLICATE))
		return false;
	return !(info->flags & HNSWMM_NODE_DEAD) || info->dup_next != HNSWMM_INVALID_NODE;
}

static bool
list_has(const uint32 *list, int n, uint32 id)
{
	for (int i = 0; i < n; i++)
		if (list[i] == id)
			return true;
	return false;
}

/*
 * The neighbour of v (list[0..n)) that v can best do without: the farthest
 * from v that another neighbour of v also links, so that it stays one hop
 * further.  -1 if there is none.
 */
static int
redundant_neighbor(HnswmmReader *reader, uint32 v, const uint32 *list, int n)
{
	uint32	   *other = palloc(sizeof(uint32) * 2 * reader->layout.m);
	float	   *base = palloc(sizeof(float) * reader->layout.dimensions);
	bool	   *kept = palloc0(sizeof(bool) * n);
	int			best = -1;
	float		best_dist = -1;

	for (int i = 0; i < n; i++)
	{
		int			k = hnswmm_read_neighbors(reader->index, &reader->layout,
											  list[i], 0, other);

		for (int j = 0; j < n; j++)
			if (j != i && list_has(other, k, list[j]))
				kept[j] = true;
	}
	hnswmm_reader_copy(reader, v, base);
	for (int j = 0; j < n; j++)
	{
		float		d;

		if (!kept[j])
			continue;
		d = hnswmm_reader_distance(reader, base, list[j]);
		if (d > best_dist)
		{
			best = j;
			best_dist = d;
		}
	}
	pfree(other);
	pfree(base);
	pfree(kept);
	return best;
}

/*
 * Put u into v's layer-0 list, whatever the selection heuristic would
 * keep: into a free slot, or in place of a neighbour that stays reachable
 * through another (redundant_neighbor).  Returns false if v has no such
 * room.
 */
static bool
force_link(HnswmmReader *reader, uint32 v, uint32 u)
{
	int			cap = 2 * reader->layout.m;
	uint32	   *list = palloc(sizeof(uint32) * cap);
	uint32	   *next = palloc(sizeof(uint32) * cap);
	bool		linked = false;

	for (;;)
	{
		int			n = hnswmm_read_neighbors(reader->index, &reader->layout, v, 0, list);
		int			slot = n;

		if (list_has(list, n, u))
		{
			linked = true;
			break;
		}
		if (n == cap && (slot = redundant_neighbor(reader, v, list, n)) < 0)
			break;
		memcpy(next, list, sizeof(uint32) * n);
		next[slot] = u;
		if (hnswmm_replace_neighbors(reader->index, &reader->layout, v, 0,
									 list, n, next, Max(n, slot + 1)))
		{
			linked = true;
			break;
		}
	}
	pfree(list);
	pfree(next);
	return linked;
}

/*
 * A layer-0 search for node u's own vector from the entry point, with beam
 * width ef: what an insert or a scan of that vector finds
 */
static int
search_own_vector(HnswmmPageGraph *pg, const HnswmmMetaPageData *meta, uint32 u,
				  int ef, HnswmmCandidate *found)
{
	HnswmmReader *reader = &pg->reader;
	float	   *vec = palloc(sizeof(float) * reader->layout.dimensions);
	int			nfound;

	hnswmm_reader_copy(reader, u, vec);
	(void) hnswmm_search_for_insert(&pg->graph, vec, meta->entry_node,
									meta->entry_level, 0, ef, &found, &nfound);
	pfree(vec);
	return nfound;
}

/*
 * Link node u from the nearest reached live nodes that a search for its
 * vector at the default ef_search found (found[0..nfound)): those are the
 * nodes such a search expands first, so afterwards it finds u.  u goes into
 * the lists of the first RELINK_TRIES of them that have room for it
 * (force_link): never by the selection heuristic, which could drop another
 * node's last incoming link instead.  Returns whether u has an incoming
 * link from a reached node now.
 */
static bool
relink_node(HnswmmReader *reader, const HnswmmReach *reach, uint32 u,
			const HnswmmCandidate *found, int nfound)
{
	int			linked = 0;

	for (int i = 0; i < nfound && linked < RELINK_TRIES; i++)
	{
		HnswmmNodeInfo info;

		if (found[i].id == u || !hnswmm_reached(reach, found[i].id))
			continue;
		hnswmm_read_node(reader->index, &reader->layout, found[i].id, &info);
		if (info.flags & (HNSWMM_NODE_DEAD | HNSWMM_NODE_DELETED))
			continue;
		if (force_link(reader, found[i].id, u))
			linked++;
	}
	return linked > 0;
}

static bool
candidates_have(const HnswmmCandidate *found, int nfound, uint32 id)
{
	for (int i = 0; i < nfound; i++)
		if (found[i].id == id)
			return true;
	return false;
}

/* What pass 4 found and did */
typedef struct ReachStats
{
	uint32		checked;		/* weakly linked nodes searched for */
	uint32		unreached;		/* nodes in use that no walk reached */
	uint32		weak;			/* reached, but not found at the default
								 * ef_search */
	uint32		left;			/* of both, still not linked from a reached
								 * node: the ring still reaches them */
} ReachStats;

typedef struct Pass4
{
	HnswmmReach reach;
	int			weak_links_in;	/* nodes with this few incoming links are
								 * searched for (weak_threshold) */
	HnswmmPageGraph pg;
	HnswmmMetaPageData meta;
	ReachStats *stats;
} Pass4;

/*
 * Reached nodes that may still be missed by a search for their own vector,
 * and are searched for: those with the fewest incoming links, as many as
 * CHECK_BUDGET_MIN or CHECK_BUDGET_SHARE of the nodes allow, whichever is
 * more (so every node of a small index), and those with at most m whose
 * first neighbour (the nearest one when the node was linked) does not link
 * back.  A node that few nearby nodes link is reached, if at all, from
 * further away, and a search for it may stop before it gets there.  On
 * 20,000 random 32-dimension vectors (m = 16) the nodes that a search at
 * the default ef_search missed had 0 to 10 incoming links, where the
 * median is 16; in fashion-mnist a quarter of the nodes have at most 7
 * (hubs take the links), so the budget, not a fixed count, decides.
 */
#define CHECK_BUDGET_MIN		10000
#define CHECK_BUDGET_SHARE		0.05

/* Beam of the first search for a weakly linked node's own vector */
#define QUICK_CHECK_EF		10

/* The most incoming links a node may have and still be searched for */
static int
weak_threshold(const HnswmmReach *reach)
{
	uint64		count[PG_UINT8_MAX + 1] = {0};
	uint64		budget = Max(CHECK_BUDGET_MIN,
							 (uint64) (CHECK_BUDGET_SHARE * reach->nnodes));
	uint64		sum = 0;
	int			threshold = -1;

	for (uint32 id = 0; id < reach->nnodes; id++)
		if (hnswmm_reached(reach, id))
			count[reach->links_in[id]]++;
	for (int k = 0; k <= PG_UINT8_MAX; k++)
	{
		sum += count[k];
		if (sum > budget)
			break;
		threshold = k;
	}
	return threshold;
}

static bool
weakly_linked(VacuumState *vs, const Pass4 *p4, uint32 id, uint32 *list)
{
	int			links_in = p4->reach.links_in[id];
	int			n;

	if (links_in <= p4->weak_links_in)
		return true;
	if (links_in > vs->layout.m)
		return false;
	n = hnswmm_read_neighbors(vs->index, &vs->layout, id, 0, list);
	if (n == 0)
		return true;
	n = hnswmm_read_neighbors(vs->index, &vs->layout, list[0], 0, list);
	return !list_has(list, n, id);
}

static void
check_page_fn(VacuumState *vs, BlockNumber blkno, uint32 first, uint32 last, void *arg)
{
	Pass4	   *p4 = (Pass4 *) arg;
	uint32	   *list = palloc(sizeof(uint32) * 2 * vs->layout.m);
	HnswmmNodeInfo *infos = palloc(sizeof(HnswmmNodeInfo) * (last - first));
	HnswmmCandidate found[HNSWMM_DEFAULT_EF_SEARCH + 1];

	hnswmm_read_page_nodes(vs->index, &vs->layout, blkno, first, last, infos);
	for (uint32 id = first; id < last; id++)
	{
		bool		reached = hnswmm_reached(&p4->reach, id);
		int			nfound;

		if (!node_in_use(&infos[id - first]) || id == p4->meta.entry_node ||
			(reached && !weakly_linked(vs, p4, id, list)))
			continue;
		if (reached)
		{
			/* a narrow beam that finds the node settles it at a quarter of the cost */
			p4->stats->checked++;
			nfound = search_own_vector(&p4->pg, &p4->meta, id, QUICK_CHECK_EF, found);
			if (candidates_have(found, nfound, id))
				continue;
		}
		nfound = search_own_vector(&p4->pg, &p4->meta, id, HNSWMM_DEFAULT_EF_SEARCH, found);
		if (reached && candidates_have(found, nfound, id))
			continue;
		if (reached)
			p4->stats->weak++;
		else
			p4->stats->unreached++;
		if (relink_node(&p4->pg.reader, &p4->reach, id, found, nfound))
			hnswmm_reach_from(vs->index, &vs->layout, &p4->reach, id);
		else
			p4->stats->left++;
	}
	pfree(infos);
	pfree(list);
}

/*
 * Pass 4: every node in use reachable from the entry point through
 * neighbour lists, and found by a search for its own vector at the
 * default ef_search.  One walk of the graph from the entry point reads
 * every list once, counting incoming links; nodes it did not reach, and
 * weakly linked nodes (weakly_linked) that a search for their own vector
 * misses, are linked from their nearest reached nodes.
 */
static void
restore_reachability(Relation index, ReachStats *stats)
{
	VacuumState vs;
	Pass4		p4;

	memset(stats, 0, sizeof(ReachStats));
	hnswmm_get_meta(index, &p4.meta);
	if (p4.meta.dimensions == 0 || p4.meta.entry_node == HNSWMM_INVALID_NODE)
		return;
	memset(&vs, 0, sizeof(vs));
	vs.index = index;
	hnswmm_layout_from_meta(&vs.layout, &p4.meta);
	vs.nnodes = p4.meta.nnodes;
	p4.stats = stats;
	hnswmm_reach_init(&p4.reach, p4.meta.nnodes, true);
	hnswmm_reach_from(index, &vs.layout, &p4.reach, p4.meta.entry_node);
	p4.weak_links_in = weak_threshold(&p4.reach);
	hnswmm_page_graph_open(&p4.pg, index, &p4.meta);
	for_each_graph_page(&vs, check_page_fn, &p4);
	hnswmm_page_graph_close(&p4.pg);
}

IndexBulkDeleteResult *
hnswmm_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	ReachStats reach;

	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		HnswmmMetaPageData meta;

		hnswmm_get_meta(index, &meta);
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		stats->num_index_tuples = meta.nnodes - meta.ndeleted;
	}
	restore_reachability(index, &reach);
	ereport(reach.left > 0 ? LOG : info->message_level,
			(errmsg("index \"%s\": %u nodes were not reachable through neighbour lists; %u of %u weakly linked nodes were not found by a search for their own vector",
					RelationGetRelationName(index), reach.unreached, reach.weak,
					reach.checked),
			 reach.left > 0 ?
			 errdetail("%u of them could not be linked: the lists of their nearest nodes are full of nodes reachable no other way.",
					   reach.left) : 0));
	hnswmm_advance_flushed(index);
	stats->num_pages = RelationGetNumberOfBlocks(index);
	return stats;
}
