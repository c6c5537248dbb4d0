-- Index scans: every operator class returns the exact top-k on small
-- data, the planner uses the index only where it can serve the query.
SET client_min_messages = warning;
CREATE TABLE items (id int PRIMARY KEY, cat int, emb vector(8));
INSERT INTO items
SELECT i, i % 10,
       ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 0.53), sin(i * 1.7),
             cos(i * 2.3), sin(i * 0.11) + 0.5, cos(i * 0.07)]::real[]
FROM generate_series(1, 2000) i;
CREATE TABLE queries (qid int, q vector(8));
INSERT INTO queries
SELECT j, ARRAY[cos(j), sin(j), cos(j * 0.41), sin(j * 0.29), cos(j * 1.3),
                sin(j * 3.1), cos(j * 0.17), sin(j * 0.05)]::real[]
FROM generate_series(1, 20) j;

CREATE INDEX items_l2 ON items USING hnswmm (emb vector_l2_ops);
CREATE INDEX items_ip ON items USING hnswmm (emb vector_ip_ops);
CREATE INDEX items_cos ON items USING hnswmm (emb vector_cosine_ops);
CREATE INDEX items_l1 ON items USING hnswmm (emb vector_l1_ops);
ANALYZE items;

-- exact top 10 by a materialized scan and sort, for comparison
CREATE FUNCTION exact_top(q vector, op text, k int) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
  EXECUTE format('WITH a AS MATERIALIZED (SELECT id, emb FROM items)
                  SELECT array_agg(id ORDER BY d, id) FROM
                  (SELECT id, emb %s $1 AS d FROM a ORDER BY emb %s $1 LIMIT %s) s', op, op, k)
    INTO r USING q;
  RETURN r;
END $$;
CREATE FUNCTION index_top(q vector, op text, k int) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
  EXECUTE format('SELECT array_agg(id ORDER BY d, id) FROM
                  (SELECT id, emb %s $1 AS d FROM items ORDER BY emb %s $1 LIMIT %s) s', op, op, k)
    INTO r USING q;
  RETURN r;
END $$;

SET enable_seqscan = off;
SET hnswmm.ef_search = 100;
SELECT op, count(*) FILTER (WHERE index_top(q, op, 10) = exact_top(q, op, 10)) AS exact,
       count(*) AS queries
FROM queries, (VALUES ('<->'), ('<#>'), ('<=>'), ('<+>')) ops(op)
GROUP BY op ORDER BY op;

-- each operator's plan uses its own index
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY emb <#> '[1,0,0,0,0,0,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY emb <=> '[1,0,0,0,0,0,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY emb <+> '[1,0,0,0,0,0,0,0]' LIMIT 5;
-- distances returned are exact
SELECT id, round((emb <-> '[1,0,0,0,0,0,0,0]')::numeric, 4) AS dist
FROM items ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 3;
SELECT id, round((emb <=> '[1,0,0,0,0,0,0,0]')::numeric, 4) AS dist
FROM items ORDER BY emb <=> '[1,0,0,0,0,0,0,0]' LIMIT 3;

-- never for a query the index cannot serve
RESET enable_seqscan;
RESET hnswmm.ef_search;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE emb <-> '[1,0,0,0,0,0,0,0]' < 1;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' DESC LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY emb LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY l2_distance(emb, '[1,0,0,0,0,0,0,0]') LIMIT 5;
-- the planner prefers the index on its own for a table of this size
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 5;
-- and a sequential scan for a tiny table
CREATE TABLE tiny (id int, emb vector(8));
INSERT INTO tiny SELECT id, emb FROM items WHERE id <= 5;
CREATE INDEX ON tiny USING hnswmm (emb);  -- vector_l2_ops is the default
ANALYZE tiny;
EXPLAIN (COSTS OFF) SELECT id FROM tiny ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 5;
SET enable_seqscan = off;

-- prepared statements with parameters
PREPARE knn(vector, int) AS SELECT id FROM items ORDER BY emb <-> $1 LIMIT $2;
EXPLAIN (COSTS OFF) EXECUTE knn('[1,0,0,0,0,0,0,0]', 3);
EXECUTE knn('[1,0,0,0,0,0,0,0]', 3);
SELECT exact_top('[1,0,0,0,0,0,0,0]', '<->', 3);
EXECUTE knn('[0,1,0,0,0,0,0,0]', 3);
EXECUTE knn('[0,1,0,0,0,0,0,0]', 3);
DEALLOCATE knn;

-- WHERE on another column filters what the scan returns
SELECT count(*), bool_and(cat = 3) FROM
  (SELECT id, cat FROM items WHERE cat = 3 ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 5) s;
-- with a correlated query vector (nested loop, rescans)
SELECT qid, (SELECT id FROM items ORDER BY emb <-> q LIMIT 1) = (exact_top(q, '<->', 1))[1] AS same
FROM queries WHERE qid <= 3 ORDER BY qid;

-- NULL vectors are not indexed; a NULL query returns rows in any order
INSERT INTO items VALUES (5001, 1, NULL), (5002, 1, NULL);
SELECT count(*) FROM (SELECT id FROM items ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 100) s
WHERE id > 5000;
SELECT count(*) FROM (SELECT id FROM items ORDER BY emb <-> NULL LIMIT 5) s;

-- dimension mismatch of the query is an error
\set VERBOSITY sqlstate
SELECT id FROM items ORDER BY emb <-> '[1,2,3]' LIMIT 1;
\set VERBOSITY default

-- LIMIT larger than ef_search returns what the search found
SET hnswmm.ef_search = 10;
SELECT count(*) FROM (SELECT id FROM items ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 50) s;

-- scans are counted in the index's statistics (pg_stat_user_indexes; a
-- backend sends its counts when it goes idle after a forced flush)
SELECT pg_stat_force_next_flush();
SELECT idx_scan AS scans_before FROM pg_stat_user_indexes WHERE indexrelname = 'items_l2' \gset
SELECT count(*) FROM (SELECT id FROM items ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 5) s;
SELECT count(*) FROM (SELECT id FROM items ORDER BY emb <-> '[0,1,0,0,0,0,0,0]' LIMIT 5) s;
SELECT pg_stat_force_next_flush();
SELECT idx_scan - :scans_before AS scans_counted FROM pg_stat_user_indexes WHERE indexrelname = 'items_l2';

DROP TABLE items, queries, tiny;
DROP FUNCTION exact_top, index_top;
