/*
 * hnswmm_centers.h
 *		The centers of binary codes (hnswmm_centers.c): how many pages and
 *		centers an index gets, choosing them at build, their pages, and
 *		reading them back (cached per backend); k-means, which the build's
 *		order uses too.
 */
#ifndef HNSWMM_CENTERS_H
#define HNSWMM_CENTERS_H

#include "hnswmm_quant.h"

extern uint32 hnswmm_center_pages(HnswmmQuantization quantization, int dimensions);
extern int	hnswmm_center_count(const HnswmmLayout *layout, uint32 nnodes);
extern HnswmmCenters *hnswmm_kmeans(const float *sample, int nsample,
									 int dimensions, int count);
extern HnswmmCenters *hnswmm_choose_centers(HnswmmReader *reader, uint32 nnodes,
											char **codes);
extern void hnswmm_center_page_images(char *pages, uint32 n, const char *codes,
									  int count, int size);
extern const HnswmmCenters *hnswmm_cached_centers(Relation index,
												  const HnswmmMetaPageData *meta,
												  const HnswmmLayout *layout);
extern void hnswmm_check_center_pages(Relation index,
									  const HnswmmMetaPageData *meta,
									  const HnswmmLayout *layout);
extern HnswmmCenters *hnswmm_read_centers(Relation index,
										  const HnswmmMetaPageData *meta,
										  const HnswmmLayout *layout);

#endif							/* HNSWMM_CENTERS_H */
