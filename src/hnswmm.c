/*
 * hnswmm.c
 *		The access method handler: capabilities and the callbacks of each
 *		phase, operator-class support functions and their validation, and
 *		cost estimation.  It only points outward: settings live in
 *		hnswmm_settings.c, options in hnswmm_utils.c, each phase in its own file.
 */
#include "postgres.h"

#include <math.h>

#include "access/amapi.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "hnswmm_utils.h"
#include "utils/catcache.h"
#include "hnswmm.h"
#include "hnswmm_compat.h"
#include "hnswmm_settings.h"
#include "optimizer/optimizer.h"
#include "utils/rel.h"
#include "optimizer/cost.h"
#include "utils/syscache.h"

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
METRIC_SUPPORT(hnswmm_jaccard_support, HNSWMM_METRIC_JACCARD)

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
	expansions = Min(tuples, hnswmm_scan_settings().ef_search + layers);
	distances = Min(tuples, expansions * HNSWMM_DEFAULT_M);
	*indexPages = expansions;
	*indexStartupCost = expansions * (seq_page_cost + cpu_index_tuple_cost) +
		distances * cpu_operator_cost;
	*indexTotalCost = *indexStartupCost;
}

/* Support function 1, and 2 or not, and no other */
static bool
has_support_functions(CatCList *procs)
{
	bool		metric = false;

	for (int i = 0; i < procs->n_members; i++)
	{
		int			num = ((Form_pg_amproc) GETSTRUCT(&procs->members[i]->tuple))->amprocnum;

		if (num == HNSWMM_METRIC_PROC)
			metric = true;
		else if (num != HNSWMM_TO_VECTOR_PROC)
			return false;
	}
	return metric;
}

/*
 * amvalidate: an hnswmm operator class orders by exactly one operator
 * (strategy 1, FOR ORDER BY), has support function 1, its metric, and may
 * have support function 2, which turns its type into a vector.
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
	if (ops->n_members != 1 || !has_support_functions(procs))
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("hnswmm operator class \"%s\" needs one ordering operator, support function 1 and at most support function 2",
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
	am->amsupport = HNSWMM_NUM_PROCS;
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
