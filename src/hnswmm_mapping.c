/*
 * hnswmm_mapping.c
 *		Read-only mappings of an index's segment files: making them, the
 *		references readers hold on them, letting go of them, and what happens
 *		when a mapped read fails; and the metapage stamp that says whether
 *		the file may be read through a mapping on this node.
 *
 * Rules (doc/design.md, section 2):
 * - a mapping is per backend, made lazily, cached across queries, checked
 *	 against the relation's current relfilenode, and unmapped on relcache
 *	 invalidation once no reader uses it;
 * - a reader's reference belongs to the resource owner that was current
 *	 when it was taken, so a scan that an error aborts (in a subtransaction
 *	 too) gives its reference back with the owner;
 * - a read past the end of the file, or of a page the disk cannot read,
 *	 raises SIGBUS.  The handler maps a page of zeros over the faulting page
 *	 so that the read completes, and flags the failure; the reader raises an
 *	 ERROR before it uses what it read (hnswmm_mapped_read_check), and the
 *	 mapping is never used again.  A bad block thus fails the query that
 *	 touched it, as a read through the buffer manager would, instead of
 *	 killing the backend and restarting the cluster.
 *
 * The segments of one relation are mapped side by side into one reserved
 * range of address space, so block b lives at base + b * BLCKSZ.
 */
#include "postgres.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "access/xlog.h"
#include "common/relpath.h"
#include "hnswmm_compat.h"
#include "hnswmm_mapping.h"
#include "storage/smgr.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"

#define SEGMENT_BYTES	((Size) RELSEG_SIZE * BLCKSZ)

typedef struct HnswmmMapping HnswmmMapping;

struct HnswmmMapping
{
	Oid			indexoid;		/* index this maps */
	HnswmmFileId file;			/* its file when mapped */
	char	   *base;			/* start of the reserved address range */
	uint32		reserved_segs;	/* segments the range can hold */
	uint32		mapped_segs;	/* segments [0, mapped_segs) are mapped */
	int			refcount;		/* references held */
	bool		stale;			/* unmap as soon as refcount is 0 */
	volatile sig_atomic_t faulted;	/* a read failed: zeros patched in */
	HnswmmMapping *next;
};

/*
 * A reference held on a mapping.  Readers know it by its number, never
 * reused, so that a reader cannot release another's reference after its
 * owner released its own.
 */
typedef struct MappingRef MappingRef;

struct MappingRef
{
	HnswmmMappingRef number;
	HnswmmMapping *map;
	ResourceOwner owner;		/* releases it if the reader does not */
	MappingRef *next;
};

static HnswmmMapping *mappings = NULL;
static MappingRef *refs = NULL;
static HnswmmMappingRef last_ref = 0;

volatile sig_atomic_t hnswmm_mapped_read_failed = false;

static void
unmap(HnswmmMapping *map)
{
	HnswmmMapping **link;

	for (link = &mappings; *link != NULL; link = &(*link)->next)
	{
		if (*link == map)
		{
			*link = map->next;
			break;
		}
	}
	if (map->base != NULL)
		munmap(map->base, (Size) map->reserved_segs * SEGMENT_BYTES);
	pfree(map);
}

/* Unmap now if no reader uses it, else once the last one lets go */
static void
retire(HnswmmMapping *map)
{
	map->stale = true;
	if (map->refcount == 0)
		unmap(map);
}

static void
mapping_invalidate(Datum arg, Oid relid)
{
	HnswmmMapping *map = mappings;

	while (map != NULL)
	{
		HnswmmMapping *next = map->next;

		if (relid == InvalidOid || map->indexoid == relid)
			retire(map);
		map = next;
	}
}

static void
drop_ref(MappingRef *ref)
{
	MappingRef **link;

	for (link = &refs; *link != NULL; link = &(*link)->next)
	{
		if (*link == ref)
		{
			*link = ref->next;
			break;
		}
	}
	if (--ref->map->refcount == 0 && (ref->map->stale || ref->map->faulted))
		unmap(ref->map);
	pfree(ref);
}

/*
 * A resource owner is being released: references it still owns belong to
 * readers that an error left open (or that were never closed: a leak).
 * ResourceOwnerRelease makes the owner being released current for the
 * callbacks.
 */
static void
mapping_resowner_release(ResourceReleasePhase phase, bool isCommit,
						 bool isTopLevel, void *arg)
{
	MappingRef *ref = refs;

	if (phase != RESOURCE_RELEASE_AFTER_LOCKS)
		return;
	while (ref != NULL)
	{
		MappingRef *next = ref->next;

		if (ref->owner == CurrentResourceOwner)
		{
			if (isCommit)
				elog(WARNING, "hnswmm: mapping reference leak: index %u",
					 ref->map->indexoid);
			drop_ref(ref);
		}
		ref = next;
	}
}

/*
 * SIGBUS in a mapping of ours: a page of zeros over the faulting page lets
 * the read finish; the flag makes the reader raise an ERROR.  Anything
 * else gets the action there was before, by the same fault again.
 */
static struct sigaction previous_sigbus;
static uintptr_t os_page;		/* read once, outside the handler */

static void
sigbus_handler(int signo, siginfo_t *info, void *context)
{
	char	   *addr = (char *) info->si_addr;

	for (HnswmmMapping *map = mappings; map != NULL; map = map->next)
	{
		char	   *page = (char *) ((uintptr_t) addr - (uintptr_t) addr % os_page);

		if (addr < map->base ||
			addr >= map->base + (Size) map->reserved_segs * SEGMENT_BYTES)
			continue;
		if (mmap(page, os_page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				 -1, 0) == MAP_FAILED)
			break;
		map->faulted = true;
		hnswmm_mapped_read_failed = true;
		return;
	}
	sigaction(SIGBUS, &previous_sigbus, NULL);
}

void
hnswmm_mapped_read_error(Relation index)
{
	hnswmm_mapped_read_failed = false;
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("could not read the vectors of index \"%s\" through its mapping",
					RelationGetRelationName(index)),
			 errdetail("A page of its file could not be read: the file is shorter than the index, or the disk failed to read it."),
			 errhint("Check the server's storage, then REINDEX the index.")));
}

void
hnswmm_mapping_init(void)
{
	struct sigaction sa;

	CacheRegisterRelcacheCallback(mapping_invalidate, (Datum) 0);
	RegisterResourceReleaseCallback(mapping_resowner_release, NULL);
	os_page = (uintptr_t) sysconf(_SC_PAGESIZE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigbus_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &previous_sigbus);
}

/* Reserve address space for nsegs segments, or return false */
static bool
reserve(HnswmmMapping *map, uint32 nsegs)
{
	void	   *p = mmap(NULL, (Size) nsegs * SEGMENT_BYTES, PROT_NONE,
						 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return false;
	map->base = p;
	map->reserved_segs = nsegs;
	map->mapped_segs = 0;
	return true;
}

/* Map segment seg of the relation at its place in the reserved range */
static bool
map_segment(HnswmmMapping *map, Relation index, uint32 seg)
{
	char	   *path = hnswmm_relation_path(index, MAIN_FORKNUM);
	char	   *segpath = seg == 0 ? path : psprintf("%s.%u", path, seg);
	int			fd = open(segpath, O_RDONLY | PG_BINARY);
	void	   *p;

	if (fd < 0)
	{
		elog(DEBUG1, "hnswmm: cannot open \"%s\" for mapping: %m", segpath);
		return false;
	}
	p = mmap(map->base + (Size) seg * SEGMENT_BYTES, SEGMENT_BYTES, PROT_READ,
			 MAP_SHARED | MAP_FIXED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
	{
		elog(DEBUG1, "hnswmm: cannot map \"%s\": %m", segpath);
		return false;
	}
	(void) madvise(p, SEGMENT_BYTES, MADV_RANDOM);
	return true;
}

/*
 * This backend's mapping of the index's current file with room for nsegs
 * segments, made if there is none.  Mappings of the index that cannot
 * serve (another relfilenode, too small a range, invalidated, faulted) are
 * retired on the way; readers that still use one keep it until they let go.
 */
static HnswmmMapping *
find_or_make_mapping(Relation index, uint32 nsegs)
{
	HnswmmMapping *found = NULL;
	HnswmmMapping *map = mappings;

	while (map != NULL)
	{
		HnswmmMapping *next = map->next;

		if (map->indexoid == RelationGetRelid(index))
		{
			if (found == NULL && !map->stale && !map->faulted &&
				HnswmmFileIdEquals(map->file, HNSWMM_REL_FILE(index)) &&
				nsegs <= map->reserved_segs)
				found = map;
			else
				retire(map);
		}
		map = next;
	}
	if (found != NULL)
		return found;
	map = MemoryContextAllocZero(TopMemoryContext, sizeof(HnswmmMapping));
	map->indexoid = RelationGetRelid(index);
	map->file = HNSWMM_REL_FILE(index);
	if (!reserve(map, Max(nsegs * 2, 4)))
	{
		pfree(map);
		return NULL;
	}
	map->next = mappings;
	mappings = map;
	return map;
}

/*
 * A reference to a mapping of index with every segment up to last_block
 * mapped, or 0 when vectors must be read through buffers.  Sets *base to
 * the address of block 0 and *mapped_blocks to the blocks mapped.
 */
HnswmmMappingRef
hnswmm_mapping_acquire(Relation index, BlockNumber last_block, char **base,
					   BlockNumber *mapped_blocks)
{
	uint32		need = last_block / RELSEG_SIZE + 1;
	HnswmmMapping *map = find_or_make_mapping(index, need);
	MappingRef *ref;

	if (map == NULL)
		return 0;
	while (map->mapped_segs < need)
	{
		if (!map_segment(map, index, map->mapped_segs))
			return 0;
		map->mapped_segs++;
	}
	ref = MemoryContextAlloc(TopMemoryContext, sizeof(MappingRef));
	ref->number = ++last_ref;
	ref->map = map;
	ref->owner = CurrentResourceOwner;
	ref->next = refs;
	refs = ref;
	map->refcount++;
	*base = map->base;
	*mapped_blocks = map->mapped_segs * (BlockNumber) RELSEG_SIZE;
	return ref->number;
}

/*
 * Let go of a reference.  One that its resource owner already released
 * (the reader's transaction or subtransaction aborted) is not there any
 * more: then there is nothing to do.
 */
void
hnswmm_mapping_release(HnswmmMappingRef ref)
{
	for (MappingRef *r = refs; r != NULL; r = r->next)
	{
		if (r->number == ref)
		{
			drop_ref(r);
			return;
		}
	}
}

/*
 * May this backend read vectors of this index through the mapping now?
 */
bool
hnswmm_mapping_usable(Relation index, const HnswmmMetaPageData *meta)
{
	if (RelationUsesLocalBuffers(index) || RecoveryInProgress())
		return false;
	return meta->flushed > 0 && hnswmm_stamp_matches(index, meta);
}

/*
 * Does the metapage's stamp say that the file holds what the watermark
 * claims, on this node and for this very file?  Not after a promotion (new
 * timeline), a restore or pg_upgrade (new system), nor in a copy of the
 * file made by CREATE DATABASE or ALTER INDEX SET TABLESPACE (another
 * relfilenode), which may lag its buffers until a checkpoint.
 */
bool
hnswmm_stamp_matches(Relation index, const HnswmmMetaPageData *meta)
{
	HnswmmFileId file = HNSWMM_REL_FILE(index);

	return meta->stamp_sysid == GetSystemIdentifier() &&
		meta->stamp_tli == GetWALInsertionTimeLine() &&
		meta->stamp_spc == HNSWMM_FILE_SPC(file) &&
		meta->stamp_db == HNSWMM_FILE_DB(file) &&
		meta->stamp_rel == HNSWMM_FILE_REL(file);
}

/* Stamp the metapage for this node and file (not in recovery) */
void
hnswmm_stamp(Relation index, HnswmmMetaPage meta)
{
	HnswmmFileId file = HNSWMM_REL_FILE(index);

	meta->stamp_sysid = GetSystemIdentifier();
	meta->stamp_tli = GetWALInsertionTimeLine();
	meta->stamp_spc = HNSWMM_FILE_SPC(file);
	meta->stamp_db = HNSWMM_FILE_DB(file);
	meta->stamp_rel = HNSWMM_FILE_REL(file);
}
