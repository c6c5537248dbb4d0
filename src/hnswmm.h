/*
 * hnswmm.h
 *		The declarations shared by the access method's files: the layout of
 *		an index as backends compute it, options and limits, and the
 *		callbacks of each phase.  The on-disk format is in hnswmm_page.h.
 */
#ifndef HNSWMM_H
#define HNSWMM_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/reloptions.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "storage/lock.h"
#include "utils/relcache.h"

#include "hnswmm_page.h"
#include "vector.h"

/* Heavyweight page locks on a block number that is never a real page */
#define HNSWMM_UPDATE_LOCK	((BlockNumber) 0xFFFFFFFE)

/* Index options (WITH (...)) */
typedef struct HnswmmOptions
{
	int32		vl_len_;		/* varlena header */
	int			m;
	int			ef_construction;
	int			quantization;	/* HnswmmQuantization */
} HnswmmOptions;

/* The build parameters of an index: its options, with defaults */
typedef struct HnswmmParams
{
	int			m;
	int			ef_construction;
	HnswmmQuantization quantization;
	int			include_size;	/* bytes of INCLUDE values per node */
	HnswmmElement element;		/* precision of the slots' vectors */
} HnswmmParams;

/*
 * Support functions of an operator class: 1 names the metric; 2, optional,
 * turns the indexed type into a vector (halfvec_to_vector for halfvec)
 */
#define HNSWMM_METRIC_PROC				1
#define HNSWMM_TO_VECTOR_PROC			2
#define HNSWMM_NUM_PROCS				2

#define HNSWMM_DEFAULT_EF_SEARCH		40
#define HNSWMM_MAX_EF_SEARCH			1000
#define HNSWMM_DEFAULT_M				16
#define HNSWMM_MIN_M					2
#define HNSWMM_MAX_M					100
#define HNSWMM_DEFAULT_EF_CONSTRUCTION	64
#define HNSWMM_MAX_EF_CONSTRUCTION		1000
#define HNSWMM_MIN_EF_CONSTRUCTION		4
#define HNSWMM_MAX_RERANK				10000
#define HNSWMM_DEFAULT_MAX_SCAN_TUPLES	20000
/* Longest bit string a bit operator class indexes (pgvector's limit) */
#define HNSWMM_MAX_BITS					64000

/*
 * Layout of one index, derived from the metapage (cached per backend).
 */
typedef struct HnswmmLayout
{
	int			dimensions;
	HnswmmMetric metric;
	int			m;
	int			ef_construction;
	int			node_size;
	HnswmmQuantization quantization;
	int			code_offset;	/* of the code in a level-0 record */
	int			code_size;		/* 0 without quantization */
	uint32		nodes_per_graph_page;
	uint32		nodes_per_extent;
	uint32		graph_pages;	/* per extent */
	uint32		upper_pages;	/* per extent */
	uint32		vector_pages;	/* per extent */
	uint32		extent_pages;	/* sum of the three */
	uint32		center_pages;	/* before the first extent */
	HnswmmElement element;		/* precision of the vectors in the slots */
	int			element_bits;	/* 32 (float4), 16 (half) or 1 (bit) */
	int			vector_bytes;	/* dimensions * element_bits / 8, rounded
								 * up to 4 */
	int			include_size;	/* bytes of INCLUDE values after a vector */
	int			slot_size;		/* vector_bytes + include_size */
} HnswmmLayout;

/* Bytes that n elements of a slot's vector take, rounded up */
static inline int
hnswmm_element_bytes(const HnswmmLayout *layout, int n)
{
	return (int) (((int64) n * layout->element_bits + 7) / 8);
}

/* Elements in a run of bytes of a slot's vector */
static inline int
hnswmm_bytes_elements(const HnswmmLayout *layout, int bytes)
{
	return (int) ((int64) bytes * 8 / layout->element_bits);
}

typedef struct HnswmmSlot
{
	BlockNumber first_block;	/* vector page of the first piece */
	uint32		offset;			/* byte offset in that page's payload */
} HnswmmSlot;

/* hnswmm.iterative_scan */
typedef enum HnswmmIterativeScan
{
	HNSWMM_ITERATIVE_OFF,
	HNSWMM_ITERATIVE_RELAXED,
	HNSWMM_ITERATIVE_STRICT
} HnswmmIterativeScan;

/* hnswmm_include.c */
extern void hnswmm_encode_include(Relation index, const Datum *values,
								  const bool *isnull, char *out);
extern bool hnswmm_canreturn(Relation index, int attno);
extern HeapTuple hnswmm_form_result(Relation index, const HnswmmLayout *layout,
									const char *slot);

/* hnswmm_layout.c: layout arithmetic, metapage, page initialisation */
extern void hnswmm_compute_layout(HnswmmLayout *layout, int dimensions,
								  HnswmmMetric metric, const HnswmmParams *params);
extern void hnswmm_params_from_meta(const HnswmmMetaPageData *meta,
									HnswmmParams *params);
extern uint32 hnswmm_format_version(const HnswmmParams *params);
extern void hnswmm_layout_from_meta(HnswmmLayout *layout, HnswmmMetaPage meta);
extern void hnswmm_layout_to_meta(const HnswmmLayout *layout, HnswmmMetaPage meta);
extern void hnswmm_init_page(Page page, uint16 page_type, uint32 extent);
extern void hnswmm_init_metapage(Page page, HnswmmMetric metric,
								 const HnswmmParams *params);
extern BlockNumber hnswmm_extent_start(const HnswmmLayout *layout, uint32 extent);
extern BlockNumber hnswmm_node_block(const HnswmmLayout *layout, uint32 id);
extern HnswmmNode *hnswmm_page_node(const HnswmmLayout *layout, Page page, uint32 id);
extern HnswmmSlot hnswmm_vector_slot(const HnswmmLayout *layout, uint32 id);
extern int	hnswmm_random_level(int m, double u);
extern int	hnswmm_upper_capacity_level(const HnswmmLayout *layout, int level,
										uint32 used);
extern void hnswmm_get_meta(Relation index, HnswmmMetaPageData *meta);
typedef bool (*HnswmmMetaChange) (Relation index, HnswmmMetaPage meta, void *arg);
extern void hnswmm_change_meta(Relation index, HnswmmMetaChange change, void *arg);

/* hnswmm_build.c */
extern IndexBuildResult *hnswmm_build(Relation heap, Relation index, IndexInfo *indexInfo);
extern void hnswmm_buildempty(Relation index);
extern char *hnswmm_buildphasename(int64 phase);

/* hnswmm_insert.c */
extern bool hnswmm_insert(Relation index, Datum *values, bool *isnull,
						  ItemPointer heap_tid, Relation heap,
						  IndexUniqueCheck checkUnique, bool indexUnchanged,
						  IndexInfo *indexInfo);

/* hnswmm_scan.c */
extern IndexScanDesc hnswmm_beginscan(Relation index, int nkeys, int norderbys);
extern void hnswmm_rescan(IndexScanDesc scan, ScanKey keys, int nkeys,
						  ScanKey orderbys, int norderbys);
extern bool hnswmm_gettuple(IndexScanDesc scan, ScanDirection dir);
extern void hnswmm_endscan(IndexScanDesc scan);

/* hnswmm_vacuum.c */
extern IndexBulkDeleteResult *hnswmm_bulkdelete(IndexVacuumInfo *info,
												IndexBulkDeleteResult *stats,
												IndexBulkDeleteCallback callback,
												void *callback_state);
extern IndexBulkDeleteResult *hnswmm_vacuumcleanup(IndexVacuumInfo *info,
												   IndexBulkDeleteResult *stats);

#endif							/* HNSWMM_H */
