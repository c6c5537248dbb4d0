/*
 * hnswmm_include.c
 *		INCLUDE columns and index-only scans.
 *
 * The values of an index's INCLUDE columns are kept right after each node's
 * vector, in its slot of the vector pages: a byte of null flags, then each
 * value's bytes, unaligned, the whole padded to 4 bytes.  A scan that
 * returns a node reads them with the vector from the mapping (where the
 * re-ranking or the walk has just read the vector), so an index-only scan
 * answers `SELECT id ... ORDER BY emb <-> $1 LIMIT k` without visiting the
 * heap pages that the visibility map shows all-visible.  A slot has a fixed
 * size, so only fixed-length types can be included.
 *
 * The indexed vector itself is returned as stored, which is the vector as
 * given except under cosine distance, where the index keeps it normalised:
 * a cosine index cannot return it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "halfvec.h"
#include "utils/varbit.h"
#include "hnswmm.h"
#include "hnswmm_utils.h"
#include "utils/rel.h"

/* The INCLUDE values among an index tuple's values, into a slot's bytes */
void
hnswmm_encode_include(Relation index, const Datum *values, const bool *isnull,
					  char *out)
{
	TupleDesc	desc = RelationGetDescr(index);
	int			nkeys = IndexRelationGetNumberOfKeyAttributes(index);
	char	   *p = out + 1;

	out[0] = 0;
	for (int i = nkeys; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (isnull[i])
		{
			out[0] |= (char) (1 << (i - nkeys));
			memset(p, 0, att->attlen);
		}
		else if (att->attbyval)
		{
			int64		aligned;

			store_att_byval(&aligned, values[i], att->attlen);
			memcpy(p, &aligned, att->attlen);
		}
		else
			memcpy(p, DatumGetPointer(values[i]), att->attlen);
		p += att->attlen;
	}
}

/*
 * The vector can be returned except under cosine; INCLUDE values always;
 * neither on a hot standby
 */
bool
hnswmm_canreturn(Relation index, int attno)
{
	/*
	 * Not on a hot standby: replay of VACUUM's generic WAL records takes no
	 * cleanup lock, so a scan's pin would not keep a row's TID from being
	 * removed, and the heap page then marked all-visible, under it
	 * (hnswmm_scan.c).  A plain index scan checks each row in the heap.
	 */
	if (RecoveryInProgress())
		return false;
	if (attno > IndexRelationGetNumberOfKeyAttributes(index))
		return true;
	return hnswmm_index_metric(index) != HNSWMM_METRIC_COSINE;
}

/* The key column's value from a slot: a vector, a halfvec, a bit string */
static Datum
stored_vector(const HnswmmLayout *layout, const char *slot)
{
	int			dim = layout->dimensions;

	if (layout->element == HNSWMM_ELEMENT_BIT)
	{
		VarBit	   *bits = palloc0(VARBITTOTALLEN(dim));

		SET_VARSIZE(bits, VARBITTOTALLEN(dim));
		VARBITLEN(bits) = dim;
		memcpy(VARBITS(bits), slot, VARBITBYTES(bits));
		return PointerGetDatum(bits);
	}
	if (layout->element == HNSWMM_ELEMENT_HALF)
	{
		HalfVector *h = palloc0(HALFVEC_SIZE(dim));

		SET_VARSIZE(h, HALFVEC_SIZE(dim));
		h->dim = dim;
		memcpy(h->x, slot, sizeof(half) * dim);
		return PointerGetDatum(h);
	}
	else
	{
		Vector	   *v = InitVector(dim);

		memcpy(v->x, slot, sizeof(float) * dim);
		return PointerGetDatum(v);
	}
}

/*
 * The row an index-only scan returns for a node, from its slot: the vector
 * (NULL under cosine, which cannot return it) and the INCLUDE values, as a
 * tuple of the index's descriptor in the current memory context
 */
HeapTuple
hnswmm_form_result(Relation index, const HnswmmLayout *layout, const char *slot)
{
	TupleDesc	desc = RelationGetDescr(index);
	int			nkeys = IndexRelationGetNumberOfKeyAttributes(index);
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	const char *include = slot + layout->vector_bytes;
	const char *p = include + 1;

	isnull[0] = layout->metric == HNSWMM_METRIC_COSINE;
	if (!isnull[0])
		values[0] = stored_vector(layout, slot);
	for (int i = nkeys; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		isnull[i] = (include[0] & (1 << (i - nkeys))) != 0;
		if (isnull[i])
			values[i] = (Datum) 0;
		else if (att->attbyval)
		{
			int64		aligned;

			memcpy(&aligned, p, att->attlen);
			values[i] = fetch_att(&aligned, true, att->attlen);
		}
		else
		{
			char	   *copy = palloc(att->attlen);

			memcpy(copy, p, att->attlen);
			values[i] = PointerGetDatum(copy);
		}
		p += att->attlen;
	}
	return heap_form_tuple(desc, values, isnull);
}
