/*
 * hnswmm_layout.c
 *		Layout arithmetic of an hnswmm index: extent sizes, where a node's
 *		graph record and vector slot are, the metapage, page initialisation
 *		and the random layer of a new node.
 *
 * Nothing here reads or writes buffers except hnswmm_get_meta and
 * hnswmm_change_meta; everything else is pure arithmetic over HnswmmLayout,
 * shared by build, insert, scan, vacuum and the checker.
 */
#include "postgres.h"

#include <math.h>

#include "half.h"
#include "hnswmm.h"
#include "hnswmm_quant.h"
#include "storage/bufpage.h"

/*
 * Expected bytes of upper records per node: a node reaches layer l with
 * probability m^-l, and each layer costs HNSWMM_LAYER_SIZE(m).
 */
static double
expected_upper_bytes(int m)
{
	return (double) HNSWMM_LAYER_SIZE(m) / (double) (m - 1);
}

/* The slot of a node: its vector's elements, padded to 4, then INCLUDE values */
static void
set_slot_layout(HnswmmLayout *layout, int dimensions, HnswmmElement element,
				int include_size)
{
	layout->element = element;
	layout->element_bits = element == HNSWMM_ELEMENT_BIT ? 1 :
		element == HNSWMM_ELEMENT_HALF ? 16 : 32;
	layout->vector_bytes = (int) TYPEALIGN(4, hnswmm_element_bytes(layout, dimensions));
	layout->include_size = include_size;
	layout->slot_size = layout->vector_bytes + include_size;
}

/*
 * Choose extent sizes.  An extent aims at HNSWMM_EXTENT_TARGET_PAGES pages
 * so that a small table wastes little and graph pages of consecutive ids
 * stay close together; for wide vectors it shrinks to fewer nodes than a
 * graph page holds.  Upper pages get four times the expected need; a node
 * whose upper record would not fit gets a lower layer instead (see
 * hnswmm_upper_capacity_level), which is harmless for the search.
 */
void
hnswmm_compute_layout(HnswmmLayout *layout, int dimensions,
					  HnswmmMetric metric, const HnswmmParams *params)
{
	Size		slot_bytes;
	int			m = params->m;
	double		pages_per_node;
	uint32		per_page;
	uint32		nodes;

	set_slot_layout(layout, dimensions, params->element, params->include_size);
	slot_bytes = layout->slot_size;
	layout->dimensions = dimensions;
	layout->metric = metric;
	layout->m = m;
	layout->ef_construction = params->ef_construction;
	layout->quantization = params->quantization;
	layout->code_offset = HNSWMM_NODE_SIZE(m);
	layout->code_size = hnswmm_code_size(params->quantization, dimensions);
	layout->node_size = layout->code_offset + layout->code_size;
	per_page = Max(HNSWMM_PAYLOAD / layout->node_size, 1);
	layout->nodes_per_graph_page = per_page;

	pages_per_node = 1.0 / per_page + (double) slot_bytes / HNSWMM_PAYLOAD;
	nodes = (uint32) (HNSWMM_EXTENT_TARGET_PAGES / pages_per_node);
	if (nodes >= per_page)
		nodes -= nodes % per_page;
	nodes = Max(nodes, 1);
	layout->nodes_per_extent = nodes;

	layout->graph_pages = (nodes + per_page - 1) / per_page;
	layout->upper_pages = (uint32)
		ceil(4.0 * nodes * expected_upper_bytes(m) / HNSWMM_PAYLOAD);
	layout->upper_pages = Max(layout->upper_pages, 1);
	layout->vector_pages = (uint32)
		(((uint64) nodes * slot_bytes + HNSWMM_PAYLOAD - 1) / HNSWMM_PAYLOAD);
	layout->extent_pages = layout->graph_pages + layout->upper_pages +
		layout->vector_pages;
	layout->center_pages = 0;	/* CREATE INDEX reserves them */
}

/* The build parameters an index was made with, as its metapage keeps them */
void
hnswmm_params_from_meta(const HnswmmMetaPageData *meta, HnswmmParams *params)
{
	params->m = meta->m;
	params->ef_construction = meta->ef_construction;
	params->quantization = (HnswmmQuantization) meta->quantization;
	params->include_size = meta->include_size;
	params->element = (HnswmmElement) meta->element;
}

void
hnswmm_layout_from_meta(HnswmmLayout *layout, HnswmmMetaPage meta)
{
	layout->dimensions = meta->dimensions;
	layout->metric = (HnswmmMetric) meta->metric;
	layout->m = meta->m;
	layout->ef_construction = meta->ef_construction;
	layout->node_size = meta->node_size;
	layout->quantization = (HnswmmQuantization) meta->quantization;
	layout->code_offset = HNSWMM_NODE_SIZE(meta->m);
	layout->code_size = meta->node_size - layout->code_offset;
	layout->nodes_per_graph_page = meta->nodes_per_graph_page;
	layout->nodes_per_extent = meta->nodes_per_extent;
	layout->graph_pages = meta->graph_pages_per_extent;
	layout->upper_pages = meta->upper_pages_per_extent;
	layout->vector_pages = meta->vector_pages_per_extent;
	layout->extent_pages = layout->graph_pages + layout->upper_pages +
		layout->vector_pages;
	layout->center_pages = meta->center_pages;
	set_slot_layout(layout, meta->dimensions, (HnswmmElement) meta->element,
					meta->include_size);
}

void
hnswmm_layout_to_meta(const HnswmmLayout *layout, HnswmmMetaPage meta)
{
	meta->dimensions = layout->dimensions;
	meta->metric = layout->metric;
	meta->m = layout->m;
	meta->ef_construction = layout->ef_construction;
	meta->node_size = layout->node_size;
	meta->quantization = layout->quantization;
	meta->nodes_per_graph_page = layout->nodes_per_graph_page;
	meta->nodes_per_extent = layout->nodes_per_extent;
	meta->graph_pages_per_extent = layout->graph_pages;
	meta->upper_pages_per_extent = layout->upper_pages;
	meta->vector_pages_per_extent = layout->vector_pages;
	meta->center_pages = layout->center_pages;
	meta->include_size = layout->include_size;
	meta->element = layout->element;
}

void
hnswmm_init_page(Page page, uint16 page_type, uint32 extent)
{
	HnswmmPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(HnswmmPageOpaqueData));
	opaque = HnswmmPageGetOpaque(page);
	opaque->page_type = page_type;
	opaque->unused = 0;
	opaque->extent = extent;
}

/*
 * The format version of an index made with these parameters: the lowest
 * whose readers read it right
 */
uint32
hnswmm_format_version(const HnswmmParams *params)
{
	if (params->element != HNSWMM_ELEMENT_FLOAT4)
		return HNSWMM_VERSION_ELEMENT;
	if (params->quantization == HNSWMM_QUANT_NONE && params->include_size == 0)
		return HNSWMM_VERSION;
	return HNSWMM_VERSION_CODES;
}

/* A metapage of an empty index whose dimensions are not known yet */
void
hnswmm_init_metapage(Page page, HnswmmMetric metric, const HnswmmParams *params)
{
	HnswmmMetaPage meta;

	hnswmm_init_page(page, HNSWMM_PAGE_META, 0);
	meta = HnswmmPageGetMeta(page);
	memset(meta, 0, sizeof(HnswmmMetaPageData));
	meta->magic = HNSWMM_MAGIC;
	meta->version = hnswmm_format_version(params);
	meta->metric = metric;
	meta->m = params->m;
	meta->ef_construction = params->ef_construction;
	meta->quantization = params->quantization;
	meta->include_size = params->include_size;
	meta->element = params->element;
	meta->entry_node = HNSWMM_INVALID_NODE;
	((PageHeader) page)->pd_lower =
		HNSWMM_PAGE_HEADER + sizeof(HnswmmMetaPageData);
}

BlockNumber
hnswmm_extent_start(const HnswmmLayout *layout, uint32 extent)
{
	return 1 + layout->center_pages + (BlockNumber) extent * layout->extent_pages;
}

/* Graph page holding the level-0 record of node id */
BlockNumber
hnswmm_node_block(const HnswmmLayout *layout, uint32 id)
{
	uint32		extent = id / layout->nodes_per_extent;
	uint32		k = id % layout->nodes_per_extent;

	return hnswmm_extent_start(layout, extent) + k / layout->nodes_per_graph_page;
}

/* The record of node id on its graph page */
HnswmmNode *
hnswmm_page_node(const HnswmmLayout *layout, Page page, uint32 id)
{
	uint32		k = id % layout->nodes_per_extent;

	return (HnswmmNode *) (HnswmmPagePayload(page) +
						   (k % layout->nodes_per_graph_page) * layout->node_size);
}

/* First vector page and payload offset of node id's slot (its vector first) */
HnswmmSlot
hnswmm_vector_slot(const HnswmmLayout *layout, uint32 id)
{
	uint32		extent = id / layout->nodes_per_extent;
	uint64		k = id % layout->nodes_per_extent;
	uint64		stream = k * layout->slot_size;
	HnswmmSlot	slot;

	slot.first_block = hnswmm_extent_start(layout, extent) +
		layout->graph_pages + layout->upper_pages + stream / HNSWMM_PAYLOAD;
	slot.offset = stream % HNSWMM_PAYLOAD;
	return slot;
}

/*
 * The layer of a new node from a uniform u in (0, 1]: floor(-ln(u) / ln(m)),
 * so that about one node in m reaches each next layer.
 */
int
hnswmm_random_level(int m, double u)
{
	double		level = -log(Max(u, 1e-300)) / log((double) m);

	return (int) Min(level, (double) HNSWMM_MAX_LEVEL);
}

/*
 * The highest layer <= level whose upper record still fits in an upper page
 * that has `used` payload bytes taken.
 */
int
hnswmm_upper_capacity_level(const HnswmmLayout *layout, int level, uint32 used)
{
	uint32		room = HNSWMM_PAYLOAD - Min(used, HNSWMM_PAYLOAD);

	return Min(level, (int) (room / HNSWMM_LAYER_SIZE(layout->m)));
}

/* Copy the metapage contents, checking that this is an hnswmm index */
void
hnswmm_get_meta(Relation index, HnswmmMetaPageData *meta)
{
	Buffer		buf = ReadBuffer(index, HNSWMM_METAPAGE_BLKNO);
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	memcpy(meta, HnswmmPageGetMeta(page), sizeof(HnswmmMetaPageData));
	UnlockReleaseBuffer(buf);

	if (meta->magic != HNSWMM_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not an hnswmm index",
						RelationGetRelationName(index))));
	if (meta->version != HNSWMM_VERSION && meta->version != HNSWMM_VERSION_CODES &&
		meta->version != HNSWMM_VERSION_ELEMENT)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has format version %u, expected %u, %u or %u",
						RelationGetRelationName(index), meta->version,
						HNSWMM_VERSION, HNSWMM_VERSION_CODES, HNSWMM_VERSION_ELEMENT),
				 errhint("REINDEX the index.")));
}

/*
 * Change the metapage under an exclusive lock, WAL-logged: change() edits
 * the page image and returns false to leave the page as it was.
 */
void
hnswmm_change_meta(Relation index, HnswmmMetaChange change, void *arg)
{
	Buffer		buf = ReadBuffer(index, HNSWMM_METAPAGE_BLKNO);
	GenericXLogState *state;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	if (change(index, HnswmmPageGetMeta(GenericXLogRegisterBuffer(state, buf, 0)), arg))
		GenericXLogFinish(state);
	else
		GenericXLogAbort(state);
	UnlockReleaseBuffer(buf);
}
