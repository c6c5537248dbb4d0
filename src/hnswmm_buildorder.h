/*
 * hnswmm_buildorder.h
 *		The order in which CREATE INDEX numbers the heap's rows
 *		(hnswmm_buildorder.c): cluster by cluster.
 */
#ifndef HNSWMM_BUILDORDER_H
#define HNSWMM_BUILDORDER_H

#include "hnswmm.h"
#include "storage/itemptr.h"

typedef struct HnswmmOrder HnswmmOrder;

/* Takes one row back, in the build's order */
typedef void (*HnswmmOrderEmit) (void *arg, ItemPointer tid, const char *slot);

extern HnswmmOrder *hnswmm_order_begin(const HnswmmLayout *layout);
extern void hnswmm_order_add(HnswmmOrder *order, ItemPointer tid, char *slot,
							 const float *vec);
extern void hnswmm_order_emit(HnswmmOrder *order, HnswmmOrderEmit emit, void *arg);

#endif							/* HNSWMM_BUILDORDER_H */
