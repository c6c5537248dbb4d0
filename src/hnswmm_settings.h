/*
 * hnswmm_settings.h
 *		The settings that steer scans, under hnswmm's names and pgvector's
 *		(hnswmm_settings.c).
 */
#ifndef HNSWMM_SETTINGS_H
#define HNSWMM_SETTINGS_H

#include "hnswmm.h"

/* What one scan obeys, read once when it starts */
typedef struct HnswmmScanSettings
{
	int			ef_search;		/* beam width */
	int			iterative_scan; /* HnswmmIterativeScan */
	int			max_scan_tuples;	/* most rows an iterative scan returns */
} HnswmmScanSettings;

/* hnswmm.rerank, which has no pgvector name */
extern int	hnswmm_rerank;

extern void hnswmm_define_settings(void);
extern HnswmmScanSettings hnswmm_scan_settings(void);

#endif							/* HNSWMM_SETTINGS_H */
