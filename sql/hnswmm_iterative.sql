-- Iterative scans: a filter that keeps few rows still gets its LIMIT,
-- because the scan goes on past ef_search while the executor asks.
SET client_min_messages = warning;
SET enable_seqscan = off;
CREATE TABLE it (id int PRIMARY KEY, cat int, emb vector(8));
INSERT INTO it
SELECT i, i % 100,
       ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 0.53), sin(i * 1.7),
             cos(i * 2.3), sin(i * 0.11), cos(i * 0.07)]::real[]
FROM generate_series(1, 5000) i;
CREATE INDEX it_idx ON it USING hnswmm (emb);
CREATE TABLE q (qid int, v vector(8));
INSERT INTO q SELECT j, ARRAY[cos(j), sin(j), cos(j * 0.41), sin(j * 0.29), cos(j * 1.3),
                              sin(j * 3.1), cos(j * 0.17), sin(j * 0.05)]::real[]
FROM generate_series(1, 10) j;
ANALYZE it;

SHOW hnswmm.iterative_scan;
SHOW hnswmm.max_scan_tuples;

-- exact filtered answers, by a materialized scan and sort
CREATE FUNCTION exact_cat(v vector, c int) RETURNS int[] LANGUAGE sql AS $$
  WITH a AS MATERIALIZED (SELECT id, cat, emb FROM it)
  SELECT array_agg(id ORDER BY d) FROM
    (SELECT id, emb <-> v AS d FROM a WHERE cat = c ORDER BY emb <-> v LIMIT 10) s $$;
CREATE FUNCTION index_cat(v vector, c int) RETURNS int[] LANGUAGE sql AS $$
  SELECT array_agg(id ORDER BY d) FROM
    (SELECT id, emb <-> v AS d FROM it WHERE cat = c ORDER BY emb <-> v LIMIT 10) s $$;

EXPLAIN (COSTS OFF) SELECT id FROM it WHERE cat = 7 ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 10;

-- a 1% filter: off returns what ef_search found, the iterative modes the LIMIT
SET hnswmm.iterative_scan = off;
SELECT sum(cardinality(index_cat(v, 7))) AS rows_off FROM q;
SET hnswmm.iterative_scan = relaxed_order;
SELECT sum(cardinality(index_cat(v, 7))) AS rows_relaxed,
       sum(cardinality(ARRAY(SELECT unnest(index_cat(v, 7)) INTERSECT
                             SELECT unnest(exact_cat(v, 7))))) AS right_relaxed
FROM q;
SET hnswmm.iterative_scan = strict_order;
SELECT sum(cardinality(index_cat(v, 7))) AS rows_strict,
       sum(cardinality(ARRAY(SELECT unnest(index_cat(v, 7)) INTERSECT
                             SELECT unnest(exact_cat(v, 7))))) AS right_strict
FROM q;
-- strict_order hands rows out in distance order
SELECT bool_and(d = sorted) AS in_order FROM q,
  LATERAL (SELECT array_agg(emb <-> v) AS d, array_agg(emb <-> v ORDER BY emb <-> v) AS sorted
           FROM (SELECT emb FROM it WHERE cat = 7 ORDER BY emb <-> v LIMIT 10) s) x;

-- 10% and 50% filters
SET hnswmm.iterative_scan = relaxed_order;
SELECT sum(cardinality(ARRAY(SELECT unnest(index_cat(v, 7)) INTERSECT
                             SELECT unnest(exact_cat(v, 7))))) AS right_1pct,
       count(*) * 10 AS wanted FROM q;
CREATE FUNCTION index_mod(v vector, m int) RETURNS int[] LANGUAGE sql AS $$
  SELECT array_agg(id) FROM
    (SELECT id FROM it WHERE id % m = 0 ORDER BY emb <-> v LIMIT 10) s $$;
SELECT sum(cardinality(index_mod(v, 10))) AS rows_10pct, sum(cardinality(index_mod(v, 2))) AS rows_50pct FROM q;

-- max_scan_tuples bounds the work
SET hnswmm.max_scan_tuples = 50;
SELECT sum(cardinality(index_cat(v, 7))) < 100 AS bounded FROM q;
-- and says so, once a scan, when it stops a scan whose rows the query
-- still wanted: here a 1% filter after 50 rows (a join rescans one scan
-- for each outer row, and hears it once)
SET client_min_messages = notice;
SELECT cardinality(index_cat('[1,0,0,0,0,0,0,0]', 7)) AS short_of_10;
SELECT count(*) AS outer_rows, sum(n) AS rows FROM q,
  LATERAL (SELECT count(*) AS n FROM (SELECT id FROM it WHERE cat = 7 ORDER BY emb <-> v LIMIT 10) s) x;
-- no notice when the LIMIT is filled within the bound
SELECT cardinality(index_cat('[1,0,0,0,0,0,0,0]', 7)) AS full_10
FROM (SELECT set_config('hnswmm.max_scan_tuples', '5000', true)) s;
SET client_min_messages = warning;
RESET hnswmm.max_scan_tuples;
\set VERBOSITY sqlstate
SET hnswmm.iterative_scan = sideways;
SET hnswmm.max_scan_tuples = 0;
\set VERBOSITY default

-- partial and expression indexes are chosen for the queries they match
CREATE INDEX it_cat7 ON it USING hnswmm (emb) WHERE cat = 7;
-- the build counts the table's rows, not the ones the predicate keeps
SELECT reltuples FROM pg_class WHERE relname = 'it';
EXPLAIN (COSTS OFF) SELECT id FROM it WHERE cat = 7 ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 10;
SELECT sum(cardinality(ARRAY(SELECT unnest(index_cat(v, 7)) INTERSECT
                             SELECT unnest(exact_cat(v, 7))))) AS right_partial FROM q;
DROP INDEX it_cat7;
CREATE INDEX it_norm ON it USING hnswmm (l2_normalize(emb) vector_ip_ops);
EXPLAIN (COSTS OFF) SELECT id FROM it ORDER BY l2_normalize(emb) <#> '[1,0,0,0,0,0,0,0]' LIMIT 5;
CREATE INDEX it_cast ON it USING hnswmm ((subvector(emb, 1, 4)::vector(4)));
EXPLAIN (COSTS OFF) SELECT id FROM it ORDER BY subvector(emb, 1, 4)::vector(4) <-> '[1,0,0,0]' LIMIT 5;
SELECT id FROM it ORDER BY subvector(emb, 1, 4)::vector(4) <-> '[1,0,0,0]' LIMIT 3;
WITH a AS MATERIALIZED (SELECT * FROM it)
SELECT id FROM a ORDER BY subvector(emb, 1, 4)::vector(4) <-> '[1,0,0,0]' LIMIT 3;

DROP TABLE it, q;
DROP FUNCTION exact_cat, index_cat, index_mod;
