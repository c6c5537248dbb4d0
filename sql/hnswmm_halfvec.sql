-- hnswmm indexes on halfvec: the operator classes halfvec_l2_ops,
-- halfvec_ip_ops, halfvec_cosine_ops and halfvec_l1_ops (each value is
-- widened to a vector through support function 2), and pgvector's
-- expression-index recipe on a vector column.
SET client_min_messages = warning;
SET enable_seqscan = off;
CREATE TABLE hi (id int PRIMARY KEY, emb halfvec(8));
INSERT INTO hi
SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 0.53), sin(i * 1.7),
                cos(i * 2.3), sin(i * 0.11), cos(i * 0.07)]::real[]
FROM generate_series(1, 2000) i;
CREATE INDEX hi_l2 ON hi USING hnswmm (emb halfvec_l2_ops);
CREATE INDEX hi_ip ON hi USING hnswmm (emb halfvec_ip_ops);
CREATE INDEX hi_cos ON hi USING hnswmm (emb halfvec_cosine_ops);
CREATE INDEX hi_l1 ON hi USING hnswmm (emb halfvec_l1_ops);
-- rows after the build go through the insert path
INSERT INTO hi
SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 0.53), sin(i * 1.7),
                cos(i * 2.3), sin(i * 0.11), cos(i * 0.07)]::real[]
FROM generate_series(2001, 2500) i;
ANALYZE hi;

EXPLAIN (COSTS OFF) SELECT id FROM hi ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hi ORDER BY emb <#> '[1,0,0,0,0,0,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hi ORDER BY emb <=> '[1,0,0,0,0,0,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hi ORDER BY emb <+> '[1,0,0,0,0,0,0,0]' LIMIT 5;

-- each index's top 10 against the exact top 10, for 20 queries
CREATE TABLE hq (qid int, q halfvec(8));
INSERT INTO hq SELECT j, ARRAY[cos(j), sin(j), cos(j * 0.41), sin(j * 0.29), cos(j * 1.3),
                               sin(j * 3.1), cos(j * 0.17), sin(j * 0.05)]::real[]
FROM generate_series(1, 20) j;
CREATE FUNCTION exact_ids(q halfvec, op text) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
  EXECUTE format('SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, d FROM
                   (SELECT id, emb %s $1 AS d FROM hi OFFSET 0) e ORDER BY d, id LIMIT 10) s', op)
    INTO r USING q;
  RETURN r;
END $$;
CREATE FUNCTION index_ids(q halfvec, op text) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
  EXECUTE format('SELECT array_agg(id ORDER BY d, id) FROM
                   (SELECT id, emb %s $1 AS d FROM hi ORDER BY emb %s $1 LIMIT 10) s', op, op)
    INTO r USING q;
  RETURN r;
END $$;
SET hnswmm.ef_search = 100;
SELECT op, avg(cardinality(ARRAY(SELECT unnest(index_ids(q, op)) INTERSECT
                                 SELECT unnest(exact_ids(q, op))))) >= 9.8 AS recall_ok
FROM hq, unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op GROUP BY op ORDER BY op;
RESET hnswmm.ef_search;

-- an index-only scan returns the stored halfvec itself, bit for bit
CREATE TABLE ho (id int, emb halfvec(3));
INSERT INTO ho SELECT i, ARRAY[i * 0.5, i % 7, 1.25]::real[] FROM generate_series(1, 300) i;
CREATE INDEX ho_l2 ON ho USING hnswmm (emb halfvec_l2_ops);
CREATE INDEX ho_l1 ON ho USING hnswmm (emb halfvec_l1_ops) INCLUDE (id);
VACUUM ANALYZE ho;
EXPLAIN (COSTS OFF) SELECT emb FROM ho ORDER BY emb <-> '[3,3,1.25]' LIMIT 3;
SELECT emb FROM ho ORDER BY emb <-> '[3,3,1.25]' LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id, emb FROM ho ORDER BY emb <+> '[100.5,2,1.25]' LIMIT 2;
SELECT id, emb FROM ho ORDER BY emb <+> '[100.5,2,1.25]' LIMIT 2;
-- the values agree with the heap's for every row the index returns
SET enable_indexonlyscan = off;
SELECT emb FROM ho ORDER BY emb <-> '[3,3,1.25]' LIMIT 3;
RESET enable_indexonlyscan;
DROP TABLE ho;

SELECT dimensions, nodes, vector_bytes > 0 AS has_vectors FROM hnswmm_index_info('hi_l2');
SELECT nodes, live, unreachable FROM hnswmm_verify('hi_cos');
DELETE FROM hi WHERE id % 5 = 0;
VACUUM hi;
SELECT count(*) FROM (SELECT id FROM hi ORDER BY emb <-> (SELECT q FROM hq WHERE qid = 3) LIMIT 50) s
WHERE id % 5 = 0;

-- pgvector's recipe: index a vector column as halfvec, query the same expression
CREATE TABLE items (id int PRIMARY KEY, embedding vector(3));
INSERT INTO items SELECT i, ARRAY[i % 7, i % 11, i % 13]::real[] FROM generate_series(1, 500) i;
CREATE INDEX items_half ON items USING hnswmm ((embedding::halfvec(3)) halfvec_l2_ops);
EXPLAIN (COSTS OFF)
SELECT id FROM items ORDER BY embedding::halfvec(3) <-> '[1,2,3]' LIMIT 5;
SELECT id FROM items ORDER BY embedding::halfvec(3) <-> '[1,2,3]', id LIMIT 5;
SELECT id FROM items ORDER BY embedding::halfvec(3) <-> '[1,2,3]' LIMIT 3;
-- a vector index's operator classes do not take halfvec, and back
CREATE TABLE wrong (v halfvec(3));
\set VERBOSITY terse
CREATE INDEX ON wrong USING hnswmm (v vector_l2_ops);
\set VERBOSITY default
DROP TABLE hi, hq, items, wrong;
DROP FUNCTION exact_ids(halfvec, text), index_ids(halfvec, text);
