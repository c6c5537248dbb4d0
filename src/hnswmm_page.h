/*
 * hnswmm_page.h
 *		On-disk format of an hnswmm index: the page layout, and every struct
 *		and constant that is stored in its pages (as brin_page.h is BRIN's).
 *
 * Every page of the index is a standard PostgreSQL page (header, checksum)
 * with an 8-byte special area naming the page type.  Block 0 is the
 * metapage; then come C center pages (center_pages: only binary-quantized
 * indexes built with a known dimension have them); the rest of the main
 * fork is a sequence of equal-sized extents.  Extent e holds the nodes with
 * ids [e * E, (e + 1) * E), where E is nodes_per_extent, so both the graph
 * record and the vector of a node are found from its id by arithmetic
 * alone:
 *
 *	block 0                 metapage (HnswmmMetaPageData)
 *	block 1 ...             center pages: the binary codes' centers, sq8
 *	                        codes of center_size bytes, as many to a page
 *	                        as fit (hnswmm_centers.c)
 *	block 1 + C + e * X ... extent e, X = graph + upper + vector pages:
 *
 *	+---------------------+   graph pages: fixed-size level-0 records
 *	| graph page 0        |   (HnswmmNode), node k of the extent in graph
 *	| ...                 |   page k / G at slot k % G
 *	+---------------------+
 *	| upper page 0        |   upper pages: variable-size records holding the
 *	| ...                 |   layer 1..level neighbour lists of the extent's
 *	+---------------------+   nodes that have any (about one node in m)
 *	| vector page 0       |   vector pages: the extent's node slots as one
 *	| ...                 |   byte stream of E * slot bytes cut into page
 *	+---------------------+   payloads; a slot may continue on the next page.
 *	                          A slot is the node's vector (dim floats, or
 *	                          dim halves for a halfvec operator class,
 *	                          padded to 4 bytes), then include_size bytes of
 *	                          its INCLUDE column values (hnswmm_include.c),
 *	                          if any.
 *
 * Each page:
 *
 *	+----------------+----------------------------+------+---------+
 *	| PageHeaderData | payload (records / floats) | hole | special |
 *	+----------------+----------------------------+------+---------+
 *	0               24                       pd_lower  pd_upper  8184
 *
 * Payload bytes always lie below pd_lower: generic WAL records and
 * full-page images skip the hole, so a byte written there would be lost on
 * replay.  Vector bytes are written once and never changed (no slot reuse),
 * which is what lets backends read them through a read-only mapping of the
 * relation's files while other backends append to the same page.
 */
#ifndef HNSWMM_PAGE_H
#define HNSWMM_PAGE_H

#include "access/xlogdefs.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"

#define HNSWMM_MAGIC			0x484E5357	/* "HNSW" */
#define HNSWMM_VERSION			1
#define HNSWMM_VERSION_CODES	3	/* an index with quantization or INCLUDE
									 * columns: a reader that knows only
									 * version 1 would take its codes for
									 * neighbours, or its slots for vectors
									 * (version 2 had binary codes of one
									 * center) */
#define HNSWMM_VERSION_ELEMENT	4	/* slots of the element the metapage's
									 * "element" names (halves of a halfvec
									 * class, bits of a bit class): a reader
									 * of version 3 would take them for
									 * floats */
#define HNSWMM_METAPAGE_BLKNO	0
#define HNSWMM_INVALID_NODE		0xFFFFFFFF
#define HNSWMM_MAX_LEVEL		15

/* Page types, in the special area */
#define HNSWMM_PAGE_META		1
#define HNSWMM_PAGE_GRAPH		2
#define HNSWMM_PAGE_UPPER		3
#define HNSWMM_PAGE_VECTOR		4
#define HNSWMM_PAGE_CENTER		5

/* An extent aims at this many pages (graph + upper + vector) */
#define HNSWMM_EXTENT_TARGET_PAGES	64

/* Special area of every page */
typedef struct HnswmmPageOpaqueData
{
	uint16		page_type;		/* HNSWMM_PAGE_* */
	uint16		unused;			/* always 0 */
	uint32		extent;			/* extent number, 0 for the metapage */
} HnswmmPageOpaqueData;

typedef HnswmmPageOpaqueData *HnswmmPageOpaque;

#define HNSWMM_PAGE_HEADER	MAXALIGN(SizeOfPageHeaderData)
#define HNSWMM_PAYLOAD		(BLCKSZ - HNSWMM_PAGE_HEADER - MAXALIGN(sizeof(HnswmmPageOpaqueData)))

#define HnswmmPageGetOpaque(page) ((HnswmmPageOpaque) PageGetSpecialPointer(page))
#define HnswmmPagePayload(page)	((char *) (page) + HNSWMM_PAGE_HEADER)

/*
 * Element type of the vectors in the slots, fixed by the operator class:
 * the halfvec and bit classes keep their values as they are, in 2 bytes a
 * dimension or 1 bit (most significant first in each byte, as in a bit
 * string's data)
 */
typedef enum HnswmmElement
{
	HNSWMM_ELEMENT_FLOAT4 = 0,	/* 4 bytes a dimension (vector) */
	HNSWMM_ELEMENT_HALF = 1,	/* IEEE 754 binary16, 2 bytes (halfvec) */
	HNSWMM_ELEMENT_BIT = 2		/* 1 bit a dimension (bit) */
} HnswmmElement;

/* Distance used inside the index, fixed by the operator class */
typedef enum HnswmmMetric
{
	HNSWMM_METRIC_L2 = 1,		/* squared Euclidean distance */
	HNSWMM_METRIC_IP = 2,		/* negative inner product */
	HNSWMM_METRIC_COSINE = 3,	/* negative inner product of normalised vectors */
	HNSWMM_METRIC_L1 = 4,		/* taxicab distance */
	HNSWMM_METRIC_JACCARD = 5	/* 1 - |a AND b| / |a OR b| of bit strings */
} HnswmmMetric;

/*
 * Metapage contents, at the start of block 0's payload.  Fields up to
 * vector_pages_per_extent, and center_pages and include_size, describe the
 * layout and never change once dimensions is set (at build, or at the
 * first insert into an index built on an empty table); the rest is the
 * state of the graph.  Fields from ncenters on were added after version 1:
 * on the metapage of an older index they lie past pd_lower and read as
 * zero, which is what they are for it.
 */
typedef struct HnswmmMetaPageData
{
	uint32		magic;			/* HNSWMM_MAGIC */
	uint32		version;		/* HNSWMM_VERSION, HNSWMM_VERSION_CODES
								 * with codes or INCLUDE columns, or
								 * HNSWMM_VERSION_ELEMENT with half or bit
								 * slots */
	uint32		dimensions;		/* elements per vector; 0 = not known yet */
	uint16		metric;			/* HnswmmMetric */
	uint16		m;				/* neighbours per upper layer; 2m at layer 0 */
	uint16		ef_construction;	/* beam width while linking nodes */
	uint16		node_size;		/* bytes of one level-0 record */
	uint32		nodes_per_graph_page;	/* level-0 records per graph page */
	uint32		nodes_per_extent;	/* E: node ids per extent */
	uint32		graph_pages_per_extent; /* graph pages at the start of an extent */
	uint32		upper_pages_per_extent; /* upper pages after them */
	uint32		vector_pages_per_extent;	/* vector pages after those */
	uint32		nnodes;			/* node ids [0, nnodes) exist */
	uint32		ndeleted;		/* nodes removed by VACUUM (never reused) */
	uint32		entry_node;		/* search entry point, or HNSWMM_INVALID_NODE */
	uint16		entry_level;	/* top layer of the entry point */
	uint16		unused;			/* always 0 */
	uint32		flushed;		/* vectors of ids below this are in the file */
	TimeLineID	stamp_tli;		/* timeline on which "flushed" was set */
	uint64		stamp_sysid;	/* system identifier of the node that set it */
	uint32		stamp_spc;		/* the file it was set for, named by its */
	uint32		stamp_db;		/* tablespace, database and file number (a */
	uint32		stamp_rel;		/* copy made by CREATE DATABASE or SET
								 * TABLESPACE may still lag its buffers);
								 * plain numbers, not a server struct */
	uint16		quantization;	/* HnswmmQuantization of the codes in the
								 * level-0 records (layout; 0 = none) */
	uint16		center_size;	/* bytes of each of the binary codes'
								 * centers (sq8 codes in the center pages) */
	uint16		ncenters;		/* how many; 0 for a zero center */
	uint32		center_pages;	/* C: pages after the metapage that hold
								 * them (layout) */
	uint32		include_size;	/* bytes of INCLUDE column values after
								 * each vector in the vector pages (layout) */
	uint16		element;		/* HnswmmElement of the vectors in the
								 * slots (layout; 0 = float4) */
	uint16		reserved;		/* always 0 */
} HnswmmMetaPageData;

typedef HnswmmMetaPageData *HnswmmMetaPage;

#define HnswmmPageGetMeta(page) ((HnswmmMetaPage) HnswmmPagePayload(page))

/*
 * Most INCLUDE columns an index has: a slot keeps their null flags in one
 * byte (hnswmm_include.c)
 */
#define HNSWMM_MAX_INCLUDE		8

/* Most centers a binary-quantized index keeps (hnswmm_centers.c) */
#define HNSWMM_MAX_CENTERS		64

/*
 * Codes kept in each level-0 record (index option quantization), so that
 * scans can walk the graph from shared buffers alone and read full vectors
 * only to re-rank their best candidates.  Formats, each padded to 4 bytes:
 *
 *	sq8:	float lo, float step, uint8 c[dim]		x[i] ~ lo + step * c[i]
 *	binary:	float a, float f, float cs,				signs of the rotated
 *			uint16 center, uint16 0,				x - center, p = dim
 *			uint8 bits[p/8]							padded to a power of 2
 *
 * sq8 is scaled per vector; binary is relative to the nearest of the
 * centers kept in the center pages (hnswmm_quant.c explains both).
 */
typedef enum HnswmmQuantization
{
	HNSWMM_QUANT_NONE = 0,		/* no codes: scans read the mapped vectors */
	HNSWMM_QUANT_SQ8 = 1,		/* 8 bits a dimension, scaled per vector */
	HNSWMM_QUANT_BINARY = 2		/* 1 bit a dimension: above the vector's mean */
} HnswmmQuantization;

/* Which single-id link of a node record */
typedef enum HnswmmLink
{
	HNSWMM_LINK_DUP,			/* dup_next */
	HNSWMM_LINK_RING			/* ring_next */
} HnswmmLink;

/* Node flags */
#define HNSWMM_NODE_DEAD		0x01	/* heap tuple gone; still linked */
#define HNSWMM_NODE_DELETED		0x02	/* unlinked by VACUUM; never returned */
#define HNSWMM_NODE_DUPLICATE	0x04	/* not in the graph: a copy of another
										 * node's vector, found through that
										 * node's duplicate chain */

/*
 * Level-0 record of a node, in a graph page.  Fixed size: node_size bytes
 * = offsetof(HnswmmNode, neighbors) + 2 * m * sizeof(uint32) + code_size,
 * the node's quantized code (if any) following the 2m neighbour slots.
 *
 * Rows with identical (indexed) vectors do not all become graph nodes:
 * thousands of equal vectors would fill each other's neighbour lists and
 * cut the rest of the graph off.  The first one is a graph node; each later
 * one is appended as a DUPLICATE node without neighbours and linked into
 * the first one's duplicate chain through dup_next, newest first.
 *
 * All graph nodes also lie on one ring through ring_next, which searches
 * follow like one more layer-0 neighbour.  Pruning full neighbour lists can
 * take a node's last incoming link; the ring keeps every node reachable, so
 * a search with a large enough ef_search finds every row.
 */
typedef struct HnswmmNode
{
	ItemPointerData heaptid;	/* heap tuple; invalid once VACUUM removed it */
	uint8		level;			/* top layer of this node */
	uint8		flags;			/* HNSWMM_NODE_* */
	uint16		nneighbors;		/* used entries of neighbors[] */
	uint16		upper_page;		/* upper page (within the extent) holding
								 * layers 1..level, if level > 0 */
	uint16		upper_offset;	/* byte offset of that record in the page's
								 * payload */
	uint16		unused;			/* always 0 */
	uint32		dup_next;		/* next node of the duplicate chain, or
								 * HNSWMM_INVALID_NODE */
	uint32		ring_next;		/* next graph node on the ring, or
								 * HNSWMM_INVALID_NODE for duplicates */
	uint32		neighbors[FLEXIBLE_ARRAY_MEMBER];	/* layer-0 neighbour ids,
													 * 2m slots, then the
													 * code */
} HnswmmNode;

/*
 * An upper record is `level` consecutive HnswmmLayer structs of m ids each,
 * for layers 1..level; upper pages are filled from the start of the payload
 * and pd_lower marks the end of the last record.
 */
typedef struct HnswmmLayer
{
	uint32		nneighbors;		/* used entries of neighbors[] */
	uint32		neighbors[FLEXIBLE_ARRAY_MEMBER];	/* m neighbour ids */
} HnswmmLayer;

#define HNSWMM_LAYER_SIZE(m)	(offsetof(HnswmmLayer, neighbors) + (m) * sizeof(uint32))
#define HNSWMM_NODE_SIZE(m)		(offsetof(HnswmmNode, neighbors) + 2 * (m) * sizeof(uint32))

#endif							/* HNSWMM_PAGE_H */
