-- hnswmm indexes on halfvec: the operator classes halfvec_l2_ops,
-- halfvec_ip_ops, halfvec_cosine_ops and halfvec_l1_ops (the index keeps
-- the values as halves, two bytes a dimension; queries are widened through
-- support function 2), and pgvector's expression-index recipe on a vector
-- column.
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

SELECT nodes, live, unreachable FROM hnswmm_verify('hi_l2');

-- half-precision slots: half the vector pages of a vector index on the
-- same values, slots that cross page boundaries (200 bytes), codes
CREATE TABLE hw (id int, h halfvec(100), v vector(100));
INSERT INTO hw SELECT i, e::halfvec(100), e::halfvec(100)::vector(100)
FROM (SELECT i, (SELECT array_agg(sin(i * 0.31 + j * 0.17) + cos(i * j * 0.013))::real[]
                 FROM generate_series(1, 100) j) e
      FROM generate_series(1, 1500) i) s;
CREATE INDEX hw_h ON hw USING hnswmm (h halfvec_l2_ops);
CREATE INDEX hw_v ON hw USING hnswmm (v vector_l2_ops);
CREATE INDEX hw_sq8 ON hw USING hnswmm (h halfvec_ip_ops) WITH (quantization = 'sq8');
CREATE INDEX hw_bin ON hw USING hnswmm (h halfvec_cosine_ops) WITH (quantization = 'binary');
-- (vector pages per graph page, which counts node capacity: about half)
SELECT round((h.vector_pages::numeric / h.graph_pages) /
             (v.vector_pages::numeric / v.graph_pages), 1) AS vector_pages_ratio
FROM hnswmm_index_info('hw_h') h, hnswmm_index_info('hw_v') v;
-- after the build, inserts through the insert path
INSERT INTO hw SELECT i, e::halfvec(100), e::halfvec(100)::vector(100)
FROM (SELECT i, (SELECT array_agg(sin(i * 0.31 + j * 0.17) + cos(i * j * 0.013))::real[]
                 FROM generate_series(1, 100) j) e
      FROM generate_series(1501, 2000) i) s;
-- the same neighbours as the vector index, and as an exact scan
SET hnswmm.ef_search = 200;
CREATE FUNCTION hw_overlap(qid int, op text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE got int[]; want int[];
BEGIN
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM hw ORDER BY h %s
                  (SELECT h FROM hw WHERE id = $1) LIMIT 10) s', op) INTO got USING qid;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM (SELECT id, h %s
                  (SELECT h FROM hw WHERE id = $1) AS d FROM hw OFFSET 0) e ORDER BY d LIMIT 10) s', op)
    INTO want USING qid;
  RETURN cardinality(ARRAY(SELECT unnest(got) INTERSECT SELECT unnest(want)));
END $$;
SELECT op, avg(hw_overlap(q, op)) >= 9.5 AS recall_ok
FROM generate_series(7, 1999, 97) q, unnest(ARRAY['<->', '<#>', '<=>']) op
GROUP BY op ORDER BY op;
SELECT count(*) AS same_as_vector FROM generate_series(7, 1999, 97) q
WHERE ARRAY(SELECT id FROM hw ORDER BY h <-> (SELECT h FROM hw WHERE id = q) LIMIT 5) =
      ARRAY(SELECT id FROM hw ORDER BY v <-> (SELECT v FROM hw WHERE id = q) LIMIT 5);
RESET hnswmm.ef_search;
SELECT nodes, live FROM hnswmm_verify('hw_h');
SELECT nodes, live FROM hnswmm_verify('hw_bin');
DROP TABLE hw;
DROP FUNCTION hw_overlap(int, text);

-- an index built on an empty table takes its half layout at the first insert
CREATE TABLE he (id int, emb halfvec);
CREATE INDEX he_l2 ON he USING hnswmm (emb halfvec_l2_ops) INCLUDE (id);
INSERT INTO he SELECT i, ARRAY[i, i * 0.25, -i, 7]::real[] FROM generate_series(1, 200) i;
VACUUM ANALYZE he;
SELECT id, emb FROM he ORDER BY emb <-> '[10,2.5,-10,7]' LIMIT 3;
SELECT nodes, live, unreachable FROM hnswmm_verify('he_l2');
DROP TABLE he;

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
