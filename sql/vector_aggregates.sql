-- avg(vector) and sum(vector).

CREATE TEMP TABLE agg (g int, v vector(3));
INSERT INTO agg VALUES (1, '[1,2,3]'), (1, '[3,2,1]'), (1, NULL), (2, '[1.5,0,-1]'),
	(3, NULL);
SELECT avg(v), sum(v) FROM agg;
SELECT g, avg(v), sum(v), count(v) FROM agg GROUP BY g ORDER BY g;
SELECT pg_typeof(avg(v)), pg_typeof(sum(v)) FROM agg;

-- no rows, or only NULLs: NULL
SELECT avg(v), sum(v) FROM agg WHERE false;
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null FROM agg WHERE g = 3;

-- the mean is taken in float8, then rounded once to float4
SELECT avg(v) FROM (VALUES ('[1]'::vector), ('[2]'), ('[2]')) AS t(v);
SELECT avg(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]'), ('[-1e38]')) AS t(v);
SELECT avg(v) FROM (VALUES ('[0.1,-0.1]'::vector), ('[0.2,-0.2]')) AS t(v);

-- window frames, growing and sliding
SELECT i, avg(v) OVER (ORDER BY i) AS running_avg,
	   sum(v) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS pair_sum,
	   avg(v) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS pair_avg
FROM (SELECT i, ARRAY[i, 2 * i]::vector AS v FROM generate_series(1, 5) AS i) AS t;

-- many rows and many groups
-- a regular table: temporary tables are never scanned in parallel
CREATE TABLE vector_agg_many AS
SELECT i, i % 4 AS g, ARRAY[i % 10, -(i % 10), 1, i % 2]::vector(4) AS v
FROM generate_series(1, 100000) AS i;
SELECT avg(v), sum(v) FROM vector_agg_many;
SELECT g, avg(v), sum(v) FROM vector_agg_many GROUP BY g ORDER BY g;

-- parallel plans: partial aggregates merged by vector_combine / vector_add
ANALYZE vector_agg_many;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM vector_agg_many;
SELECT avg(v), sum(v) FROM vector_agg_many;
SELECT g, avg(v), sum(v) FROM vector_agg_many GROUP BY g ORDER BY g;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- the support functions: state {count, sum_1, ..., sum_n}, initially {0}
SELECT vector_accum('{0}', '[1,2]');
SELECT vector_accum(vector_accum('{0}', '[1,2]'), '[3,4]');
SELECT vector_combine('{2,4,6}', '{1,1,1}'), vector_combine('{0}', '{1,1,1}'),
	   vector_combine('{2,4,6}', '{0}'), vector_combine('{0}', '{0}');
SELECT vector_avg('{2,4,6}'), vector_avg('{0}') IS NULL AS no_rows;

-- catalog: both aggregates have combine functions and are parallel safe
SELECT aggfnoid::regprocedure, aggtransfn, aggcombinefn, aggfinalfn,
	   aggtranstype::regtype, agginitval, proparallel
FROM pg_aggregate JOIN pg_proc ON pg_proc.oid = aggfnoid
WHERE aggfnoid IN ('avg(vector)'::regprocedure, 'sum(vector)'::regprocedure)
ORDER BY 1::text;

DROP TABLE agg, vector_agg_many;
