/*
 * hnswmm_utils.c
 *		What the handler and the phases (build, insert, scan, vacuum,
 *		inspection) share, as bloom's blutils.c: module initialisation with
 *		the index options, an index's options and metric, the
 *		metric's kernels as the index applies them, the size of INCLUDE
 *		values, the dimension check, and opening an index for inspection.
 *		It calls into no other file of the access method but the mapping's
 *		and the settings' initialisation, so every other file may call it.
 */
#include "postgres.h"

#include <math.h>

#include "access/reloptions.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "distance.h"
#include "halfvec.h"
#include "hnswmm_mapping.h"
#include "hnswmm_settings.h"
#include "hnswmm_utils.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/varbit.h"

/* PG_MODULE_MAGIC is in vector.c */

static relopt_enum_elt_def quantization_options[] = {
	{"none", HNSWMM_QUANT_NONE},
	{"sq8", HNSWMM_QUANT_SQ8},
	{"binary", HNSWMM_QUANT_BINARY},
	{NULL}
};

static relopt_kind hnswmm_relopt_kind;

void
_PG_init(void)
{
	hnswmm_relopt_kind = add_reloption_kind();
	add_int_reloption(hnswmm_relopt_kind, "m",
					  "Neighbours per node in the upper layers (twice as many in layer 0)",
					  HNSWMM_DEFAULT_M, HNSWMM_MIN_M, HNSWMM_MAX_M,
					  AccessExclusiveLock);
	add_int_reloption(hnswmm_relopt_kind, "ef_construction",
					  "Beam width while linking new nodes",
					  HNSWMM_DEFAULT_EF_CONSTRUCTION, HNSWMM_MIN_EF_CONSTRUCTION,
					  HNSWMM_MAX_EF_CONSTRUCTION,
					  AccessExclusiveLock);
	add_enum_reloption(hnswmm_relopt_kind, "quantization",
					   "Code kept with each node for scans to walk the graph by",
					   quantization_options, HNSWMM_QUANT_NONE,
					   "Valid values are \"none\", \"sq8\" and \"binary\".",
					   AccessExclusiveLock);

	hnswmm_define_settings();

	hnswmm_mapping_init();
}

/* amoptions: parse and check an index's WITH (...) options */
bytea *
hnswmm_options(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"m", RELOPT_TYPE_INT, offsetof(HnswmmOptions, m)},
		{"ef_construction", RELOPT_TYPE_INT, offsetof(HnswmmOptions, ef_construction)},
		{"quantization", RELOPT_TYPE_ENUM, offsetof(HnswmmOptions, quantization)},
	};
	HnswmmOptions *opts;

	opts = (HnswmmOptions *) build_reloptions(reloptions, validate,
											  hnswmm_relopt_kind,
											  sizeof(HnswmmOptions),
											  tab, lengthof(tab));
	if (validate && opts != NULL && opts->ef_construction < 2 * opts->m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be at least twice m"),
				 errdetail("ef_construction is %d and m is %d.",
						   opts->ef_construction, opts->m)));
	return (bytea *) opts;
}

/* The index options of an index, with their defaults where not given */
void
hnswmm_read_options(Relation index, HnswmmParams *params)
{
	HnswmmOptions *opts = (HnswmmOptions *) index->rd_options;

	params->m = opts ? opts->m : HNSWMM_DEFAULT_M;
	params->ef_construction = opts ? opts->ef_construction :
		HNSWMM_DEFAULT_EF_CONSTRUCTION;
	params->quantization = opts ? (HnswmmQuantization) opts->quantization :
		HNSWMM_QUANT_NONE;
	params->include_size = hnswmm_include_size(index);
	params->element = hnswmm_index_element(index);
}

/*
 * The element type an index keeps its vectors in: bits for the bit
 * operator classes, halves for the halfvec ones (support function 2 is
 * halfvec_to_vector), whose values are halves already, float4 for all
 * others
 */
HnswmmElement
hnswmm_index_element(Relation index)
{
	Oid			type = TupleDescAttr(RelationGetDescr(index), 0)->atttypid;

	if (type == BITOID || type == VARBITOID)
		return HNSWMM_ELEMENT_BIT;
	if (RegProcedureIsValid(index_getprocid(index, 1, HNSWMM_TO_VECTOR_PROC)) &&
		index_getprocinfo(index, 1, HNSWMM_TO_VECTOR_PROC)->fn_addr == halfvec_to_vector)
		return HNSWMM_ELEMENT_HALF;
	return HNSWMM_ELEMENT_FLOAT4;
}

/*
 * The vector part of a slot from a prepared vector
 * (hnswmm_prepare_vector): its floats, its values rounded to halves, or its
 * 0s and 1s as bits; vec is rounded in place to what the slot holds, so
 * that it compares equal to the node's vector as readers see it
 * (duplicates, hnswmm_find_duplicate).  A halfvec's values are halves
 * already; only cosine's normalised ones round.
 */
void
hnswmm_encode_slot(const HnswmmLayout *layout, float *vec, char *slot)
{
	memset(slot, 0, layout->vector_bytes);
	if (layout->element == HNSWMM_ELEMENT_FLOAT4)
	{
		memcpy(slot, vec, sizeof(float) * layout->dimensions);
		return;
	}
	if (layout->element == HNSWMM_ELEMENT_BIT)
	{
		for (int i = 0; i < layout->dimensions; i++)
			if (vec[i] != 0)
				slot[i / 8] |= (char) (0x80 >> (i % 8));
		return;
	}
	for (int i = 0; i < layout->dimensions; i++)
	{
		bool		overflow;
		half		h = float_to_half(vec[i], &overflow);

		memcpy(slot + i * sizeof(half), &h, sizeof(half));
		vec[i] = half_to_float(h);
	}
}

/*
 * count elements of a half or bit slot, starting at an element boundary
 * (bytes), as floats: halves widened, bits as 0 and 1
 */
void
hnswmm_widen_elements(const HnswmmLayout *layout, const char *bytes, int count,
					  float *out)
{
	for (int i = 0; i < count; i++)
	{
		if (layout->element == HNSWMM_ELEMENT_BIT)
			out[i] = (((const uint8 *) bytes)[i / 8] >> (7 - i % 8)) & 1;
		else
		{
			half		h;

			memcpy(&h, bytes + i * sizeof(half), sizeof(half));
			out[i] = half_to_float(h);
		}
	}
}

/* The vector part of a slot as floats: hnswmm_encode_slot undone */
void
hnswmm_decode_slot(const HnswmmLayout *layout, const char *slot, float *vec)
{
	if (layout->element == HNSWMM_ELEMENT_FLOAT4)
		memcpy(vec, slot, sizeof(float) * layout->dimensions);
	else
		hnswmm_widen_elements(layout, slot, layout->dimensions, vec);
}

/* The metric of an index, from its operator class's support function 1 */
HnswmmMetric
hnswmm_index_metric(Relation index)
{
	RegProcedure proc = index_getprocid(index, 1, HNSWMM_METRIC_PROC);

	if (!RegProcedureIsValid(proc))
		elog(ERROR, "hnswmm: operator class has no support function 1");
	return (HnswmmMetric) DatumGetInt32(OidFunctionCall1(proc, (Datum) 0));
}

/*
 * An indexed value, or a scan's query, as the floats the index searches
 * with, *dim of them: a vector's own, what the operator class's support
 * function 2 makes of a value (a halfvec widened), or a bit string's bits
 * as 0 and 1 (on which squared L2 distance is Hamming distance).  May be a
 * copy, in the current memory context.
 */
const float *
hnswmm_value_floats(Relation index, Datum value, int *dim)
{
	Vector	   *v;

	if (hnswmm_index_element(index) == HNSWMM_ELEMENT_BIT)
	{
		VarBit	   *bits = DatumGetVarBitP(value);
		float	   *out;

		*dim = VARBITLEN(bits);
		out = palloc(sizeof(float) * Max(*dim, 1));
		for (int i = 0; i < *dim; i++)
			out[i] = (VARBITS(bits)[i / 8] >> (7 - i % 8)) & 1;
		return out;
	}
	if (RegProcedureIsValid(index_getprocid(index, 1, HNSWMM_TO_VECTOR_PROC)))
		value = FunctionCall3(index_getprocinfo(index, 1, HNSWMM_TO_VECTOR_PROC),
							  value, Int32GetDatum(-1), BoolGetDatum(false));
	v = DatumGetVector(value);
	*dim = v->dim;
	return v->x;
}

/*
 * Bytes of INCLUDE values in each slot of an index, checking that its
 * INCLUDE columns can be kept there
 */
int
hnswmm_include_size(Relation index)
{
	TupleDesc	desc = RelationGetDescr(index);
	int			nkeys = IndexRelationGetNumberOfKeyAttributes(index);
	int			size = 1;

	if (desc->natts == nkeys)
		return 0;
	if (desc->natts - nkeys > HNSWMM_MAX_INCLUDE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("an hnswmm index can include at most %d columns",
						HNSWMM_MAX_INCLUDE)));
	for (int i = nkeys; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attlen <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("hnswmm cannot include column \"%s\" of type %s",
							NameStr(att->attname), format_type_be(att->atttypid)),
					 errdetail("INCLUDE columns of an hnswmm index must have a fixed-length type."),
					 errhint("Include an integer key and join on it.")));
		size += att->attlen;
	}
	return TYPEALIGN(sizeof(float), size);
}

/* A vector of another dimension than the index's is an error */
void
hnswmm_check_dimensions(Relation index, int expected, int actual)
{
	if (expected != actual)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", expected, actual),
				 errdetail("All vectors of index \"%s\" must have the same number of dimensions.",
						   RelationGetRelationName(index))));
}

/*
 * The kernel that sums a metric's distance over a piece of a vector, and
 * whether the index orders by its negation (inner products)
 */
void
hnswmm_metric_kernel(HnswmmMetric metric, HnswmmKernel *kernel, bool *negate)
{
	*negate = false;
	switch (metric)
	{
		case HNSWMM_METRIC_L2:
			*kernel = hm_kernels()->l2_squared;
			break;
		case HNSWMM_METRIC_IP:
		case HNSWMM_METRIC_COSINE:
			*kernel = hm_kernels()->inner_product;
			*negate = true;
			break;
		case HNSWMM_METRIC_L1:
			*kernel = hm_kernels()->l1;
			break;
		case HNSWMM_METRIC_JACCARD:
			/* bits only: its float kernel counts a float query's set bits */
			*kernel = hm_kernels()->inner_product;
			break;
		default:
			elog(ERROR, "hnswmm: unknown metric %d", (int) metric);
	}
}

/*
 * The bit kernel of a metric: on 0s and 1s, L2 squared and L1 are both the
 * Hamming distance; Jaccard's sums are the set bits a query shares with a
 * string, and the string's own (hnswmm_store.c); the bit operator classes
 * use no other metric
 */
HnswmmBitKernel
hnswmm_metric_bit_kernel(HnswmmMetric metric)
{
	if (metric == HNSWMM_METRIC_L2 || metric == HNSWMM_METRIC_L1)
		return hm_hamming_bits;
	if (metric == HNSWMM_METRIC_JACCARD)
		return hm_common_bits;
	return NULL;
}

/* The half-precision kernel of a metric (its sign as hnswmm_metric_kernel's) */
HnswmmHalfKernel
hnswmm_metric_half_kernel(HnswmmMetric metric)
{
	switch (metric)
	{
		case HNSWMM_METRIC_L2:
			return hm_kernels()->l2_squared_half;
		case HNSWMM_METRIC_IP:
		case HNSWMM_METRIC_COSINE:
			return hm_kernels()->inner_product_half;
		case HNSWMM_METRIC_L1:
			return hm_kernels()->l1_half;
		case HNSWMM_METRIC_JACCARD:
			return NULL;		/* bits only */
	}
	elog(ERROR, "hnswmm: unknown metric %d", (int) metric);
	return NULL;				/* keep the compiler quiet */
}

/* Distance between two vectors held in memory */
float
hnswmm_query_distance(HnswmmKernel kernel, bool negate,
					  const float *a, const float *b, int n)
{
	float		d = kernel(a, b, n);

	return hnswmm_ordered_distance(negate ? -d : d);
}

/*
 * The form in which a vector is indexed and searched: cosine normalises.
 * Returns false for a vector that cannot be indexed (zero under cosine).
 */
bool
hnswmm_prepare_vector(HnswmmMetric metric, const float *in, float *out, int dim)
{
	double		norm;

	memcpy(out, in, dim * sizeof(float));
	if (metric != HNSWMM_METRIC_COSINE)
		return true;
	norm = sqrt(hm_norm_squared_double(in, dim));
	if (norm == 0.0 || isnan(norm))
		return false;
	for (int i = 0; i < dim; i++)
		out[i] = (float) (in[i] / norm);
	return true;
}

/*
 * Open an hnswmm index for inspection, checking the caller may read it;
 * its table is locked in heap_lock first.  Only an index with storage of
 * its own will do: a partitioned index has no file (its partitions'
 * indexes do).
 */
Relation
hnswmm_open_for_inspection(Oid indexoid, LOCKMODE heap_lock)
{
	char		relkind = get_rel_relkind(indexoid);
	Oid			heapoid;
	Relation	index;
	AclResult	acl;

	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("there is no relation with OID %u", indexoid)));
	if (relkind == RELKIND_PARTITIONED_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a partitioned index", get_rel_name(indexoid)),
				 errdetail("A partitioned index has no storage of its own."),
				 errhint("Inspect the index of each partition instead.")));
	if (relkind != RELKIND_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index", get_rel_name(indexoid))));
	heapoid = IndexGetRelation(indexoid, false);
	acl = pg_class_aclcheck(heapoid, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, get_rel_name(heapoid));
	LockRelationOid(heapoid, heap_lock);
	index = index_open(indexoid, AccessShareLock);
	/* hnswmm's handler, under the name hnswmm or (compat/) hnsw */
	if (index->rd_indam->amoptions != hnswmm_options)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an hnswmm index",
						RelationGetRelationName(index))));
	return index;
}

/*
 * Close an index opened by hnswmm_open_for_inspection, and let go of its
 * locks and its table's: the functions read what they need before they
 * return, and a caller's open transaction should not hold up writers
 * (hnswmm_verify's ShareLock would) or DDL.
 */
void
hnswmm_close_after_inspection(Relation index, LOCKMODE heap_lock)
{
	Oid			heapoid = index->rd_index->indrelid;

	index_close(index, AccessShareLock);
	UnlockRelationOid(heapoid, heap_lock);
}
