/*
 * hnswmm_flush.h
 *		The write side of the "flushed" watermark (hnswmm_flush.c).
 */
#ifndef HNSWMM_FLUSH_H
#define HNSWMM_FLUSH_H

#include "hnswmm.h"

extern void hnswmm_advance_flushed(Relation index);

#endif							/* HNSWMM_FLUSH_H */
