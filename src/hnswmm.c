/*
 * hnswmm.c
 *		The access method handler: capabilities, index options, the
 *		hnswmm.ef_search setting, operator-class support functions, cost
 *		estimation and module initialisation.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/amapi.h"
#include "access/reloptions.h"
#include "access/htup_details.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "utils/catcache.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "hnswmm.h"
#include "hnswmm_compat.h"
#include "hnswmm_mapping.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "optimizer/cost.h"
#include "utils/syscache.h"

/* PG_MODULE_MAGIC is in vector.c */

int			hnswmm_ef_search = HNSWMM_DEFAULT_EF_SEARCH;
int			hnswmm_iterative_scan = HNSWMM_ITERATIVE_RELAXED;
int			hnswmm_max_scan_tuples = 20000;
int			hnswmm_rerank = 0;

static const struct config_enum_entry iterative_scan_options[] = {
	{"off", HNSWMM_ITERATIVE_OFF, false},
	{"relaxed_order", HNSWMM_ITERATIVE_RELAXED, false},
	{"strict_order", HNSWMM_ITERATIVE_STRICT, false},
	{NULL, 0, false}
};

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
					  HNSWMM_DEFAULT_EF_CONSTRUCTION, 4, HNSWMM_MAX_EF_CONSTRUCTION,
					  AccessExclusiveLock);
	add_enum_reloption(hnswmm_relopt_kind, "quantization",
					   "Code kept with each node for scans to walk the graph by",
					   quantization_options, HNSWMM_QUANT_NONE,
					   "Valid values are \"none\", \"sq8\" and \"binary\".",
					   AccessExclusiveLock);

	DefineCustomIntVariable("hnswmm.ef_search",
							"Beam width of hnswmm index scans.",
							"Larger values find more of the true nearest neighbours and take longer.",
							&hnswmm_ef_search, HNSWMM_DEFAULT_EF_SEARCH, 1, HNSWMM_MAX_EF_SEARCH,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("hnswmm.iterative_scan",
							 "Whether a scan goes on past ef_search rows while the query asks for more.",
							 "off ends a scan after ef_search rows; relaxed_order goes on, "
							 "returning each further batch in order; strict_order also drops "
							 "rows that would come out of order.",
							 &hnswmm_iterative_scan, HNSWMM_ITERATIVE_RELAXED,
							 iterative_scan_options, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnswmm.rerank",
							"Candidates a scan of a quantized index re-ranks with exact distances.",
							"The scan walks the graph by codes with a beam at least this wide, then "
							"reads the full vectors of this many of its best candidates. 0 means "
							"ef_search for sq8 codes, and for binary codes two to four times "
							"ef_search (more below 512 code bits) but at least 20.",
							&hnswmm_rerank, 0, 0, 10000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnswmm.max_scan_tuples",
							"Most rows an iterative scan returns.",
							NULL, &hnswmm_max_scan_tuples, 20000, 1, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("hnswmm");

	hnswmm_mapping_init();
}

static bytea *
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
}

/* The metric of an index, from its operator class's support function 1 */
HnswmmMetric
hnswmm_index_metric(Relation index)
{
	RegProcedure proc = index_getprocid(index, 1, 1);

	if (!RegProcedureIsValid(proc))
		elog(ERROR, "hnswmm: operator class has no support function 1");
	return (HnswmmMetric) DatumGetInt32(OidFunctionCall1(proc, (Datum) 0));
}

/*
 * Support function 1 of each operator class: which distance it orders by.
 */
#define METRIC_SUPPORT(name, metric) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_INT32(metric); \
}

METRIC_SUPPORT(hnswmm_l2_support, HNSWMM_METRIC_L2)
METRIC_SUPPORT(hnswmm_ip_support, HNSWMM_METRIC_IP)
METRIC_SUPPORT(hnswmm_cosine_support, HNSWMM_METRIC_COSINE)
METRIC_SUPPORT(hnswmm_l1_support, HNSWMM_METRIC_L1)

/*
 * Cost of an index scan.  The index serves only ORDER BY <operator>
 * constant; without it the scan is priced out.  A search expands about
 * ef_search nodes (one graph page each, usually in shared buffers) and
 * computes a distance for each new neighbour (about m of them an
 * expansion), all before the first tuple comes back.  Distances are priced
 * like the operator a sequential scan would evaluate per row.
 */
static void
hnswmm_costestimate(PlannerInfo *root, IndexPath *path, double loop_count,
					Cost *indexStartupCost, Cost *indexTotalCost,
					Selectivity *indexSelectivity, double *indexCorrelation,
					double *indexPages)
{
	double		tuples = Max(path->indexinfo->tuples, 1);
	double		layers = Max(log(tuples) / log(HNSWMM_DEFAULT_M), 1);
	double		expansions;
	double		distances;

	*indexCorrelation = 0;
	*indexSelectivity = 1.0;
	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		*indexPages = 0;
		hnswmm_refuse_path(path);
		return;
	}
	expansions = Min(tuples, hnswmm_ef_search + layers);
	distances = Min(tuples, expansions * HNSWMM_DEFAULT_M);
	*indexPages = expansions;
	*indexStartupCost = expansions * (seq_page_cost + cpu_index_tuple_cost) +
		distances * cpu_operator_cost;
	*indexTotalCost = *indexStartupCost;
}

/*
 * amvalidate: an hnswmm operator class orders by exactly one operator
 * (strategy 1, FOR ORDER BY) and has support function 1, its metric.
 */
static bool
hnswmm_validate(Oid opclassoid)
{
	HeapTuple	tup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	Form_pg_opclass opc;
	CatCList   *ops;
	CatCList   *procs;
	bool		ok = true;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	opc = (Form_pg_opclass) GETSTRUCT(tup);
	ops = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opc->opcfamily));
	procs = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opc->opcfamily));
	for (int i = 0; i < ops->n_members; i++)
	{
		Form_pg_amop op = (Form_pg_amop) GETSTRUCT(&ops->members[i]->tuple);

		if (op->amopstrategy != 1 || op->amoppurpose != AMOP_ORDER)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("hnswmm operator class \"%s\" has an operator that is not strategy 1 FOR ORDER BY",
							NameStr(opc->opcname))));
			ok = false;
		}
	}
	if (ops->n_members != 1 || procs->n_members != 1 ||
		((Form_pg_amproc) GETSTRUCT(&procs->members[0]->tuple))->amprocnum != 1)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("hnswmm operator class \"%s\" needs one ordering operator and support function 1",
						NameStr(opc->opcname))));
		ok = false;
	}
	ReleaseCatCacheList(procs);
	ReleaseCatCacheList(ops);
	ReleaseSysCache(tup);
	return ok;
}

PG_FUNCTION_INFO_V1(hnswmm_handler);

Datum
hnswmm_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 0;
	am->amsupport = 1;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = true;
	am->amusemaintenanceworkmem = false;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	hnswmm_set_version_capabilities(am);
	am->amkeytype = InvalidOid;

	am->ambuild = hnswmm_build;
	am->ambuildempty = hnswmm_buildempty;
	am->aminsert = hnswmm_insert;
	am->ambulkdelete = hnswmm_bulkdelete;
	am->amvacuumcleanup = hnswmm_vacuumcleanup;
	am->amcanreturn = hnswmm_canreturn;
	am->amcostestimate = hnswmm_costestimate;
	am->amoptions = hnswmm_options;
	am->amproperty = NULL;
	am->ambuildphasename = hnswmm_buildphasename;
	am->amvalidate = hnswmm_validate;
	am->amadjustmembers = NULL;
	am->ambeginscan = hnswmm_beginscan;
	am->amrescan = hnswmm_rescan;
	am->amgettuple = hnswmm_gettuple;
	am->amgetbitmap = NULL;
	am->amendscan = hnswmm_endscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}
