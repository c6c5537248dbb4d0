/*
 * hnswmm_pgvector.c
 *		What only the pgvector compatibility extension (compat/, `make
 *		install-pgvector-compat`) calls: the handler of its `ivfflat`
 *		access method, which refuses every use with the alternative.  Its
 *		`hnsw` access method is hnswmm's own handler, and pgvector's setting
 *		names are read by hnswmm_settings.c.
 */
#include "postgres.h"

#include "fmgr.h"

PG_FUNCTION_INFO_V1(hnswmm_ivfflat_handler);

/*
 * The server calls an access method's handler before it resolves anything
 * else of a CREATE INDEX, so the refusal comes first.
 */
Datum
hnswmm_ivfflat_handler(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("ivfflat indexes are not supported by hnswmm's pgvector compatibility"),
			 errdetail("hnswmm provides HNSW indexes only."),
			 errhint("Use USING hnsw with the same operator class, for example "
					 "CREATE INDEX ON items USING hnsw (embedding vector_l2_ops); "
					 "it needs no training data and answers the same queries.")));
	PG_RETURN_NULL();
}
