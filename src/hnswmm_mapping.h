/*
 * hnswmm_mapping.h
 *		Read-only mappings of an index's segment files, the references
 *		readers hold on them, and the metapage stamp that says when the file
 *		may be read that way.
 */
#ifndef HNSWMM_MAPPING_H
#define HNSWMM_MAPPING_H

#include <signal.h>

#include "hnswmm.h"
#include "hnswmm_compat.h"

/*
 * A reader's reference to a mapping, released by the reader or else with
 * its resource owner; 0 is none
 */
typedef uint64 HnswmmMappingRef;

extern HnswmmMappingRef hnswmm_mapping_acquire(Relation index,
											   BlockNumber last_block,
											   char **base,
											   BlockNumber *mapped_blocks);
extern void hnswmm_mapping_release(HnswmmMappingRef ref);
extern void hnswmm_mapping_init(void);

extern bool hnswmm_mapping_usable(Relation index, const HnswmmMetaPageData *meta);
extern void hnswmm_stamp(Relation index, HnswmmMetaPage meta);
extern bool hnswmm_stamp_matches(Relation index, const HnswmmMetaPageData *meta);

/*
 * Set by the SIGBUS handler when a read through a mapping failed (the file
 * was cut short, or the disk could not read a page): the read got zeros,
 * and the reader must raise an ERROR before using them.
 */
extern volatile sig_atomic_t hnswmm_mapped_read_failed;
HNSWMM_NORETURN extern void hnswmm_mapped_read_error(Relation index);

/* Call after reading through a mapping, before using what was read */
static inline void
hnswmm_mapped_read_check(Relation index)
{
	if (unlikely(hnswmm_mapped_read_failed))
		hnswmm_mapped_read_error(index);
}

#endif							/* HNSWMM_MAPPING_H */
