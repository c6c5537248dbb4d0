-- Quantized indexes: codes in the graph records, exact re-ranking, the
-- hnswmm.rerank setting, their errors, and hnswmm_prewarm.
SET client_min_messages = warning;
CREATE TABLE qitems (id int PRIMARY KEY, cat int, emb vector(8));
INSERT INTO qitems
SELECT i, i % 10,
       ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 0.53), sin(i * 1.7),
             cos(i * 2.3), sin(i * 0.11) + 0.5, cos(i * 0.07)]::real[]
FROM generate_series(1, 2000) i;
CREATE TABLE qqueries (qid int, q vector);
INSERT INTO qqueries
SELECT j, ARRAY[cos(j), sin(j), cos(j * 0.41), sin(j * 0.29), cos(j * 1.3),
                sin(j * 3.1), cos(j * 0.17), sin(j * 0.05)]::real[]
FROM generate_series(1, 20) j;

-- exact top 10 and the index's top 10, ids in the order returned (the
-- plans are set for each call: a SET LOCAL would last to the end of the
-- calling statement)
CREATE FUNCTION q_exact(q vector, op text) RETURNS int[] LANGUAGE plpgsql
SET enable_indexscan = off SET enable_seqscan = on AS $$
DECLARE r int[];
BEGIN
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM qitems
                  ORDER BY emb %s $1, id LIMIT 10) s', op) INTO r USING q;
  RETURN r;
END $$;
CREATE FUNCTION q_index(q vector, op text) RETURNS int[] LANGUAGE plpgsql
SET enable_indexscan = on SET enable_seqscan = off AS $$
DECLARE r int[];
BEGIN
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM qitems
                  ORDER BY emb %s $1 LIMIT 10) s', op) INTO r USING q;
  RETURN r;
END $$;

-- every metric that each quantization serves finds the exact top 10, in
-- exact order: the walk is by codes, the order by re-ranked distances
CREATE INDEX qi_sq8_l2 ON qitems USING hnswmm (emb vector_l2_ops) WITH (quantization = sq8);
CREATE INDEX qi_sq8_ip ON qitems USING hnswmm (emb vector_ip_ops) WITH (quantization = sq8);
CREATE INDEX qi_sq8_cos ON qitems USING hnswmm (emb vector_cosine_ops) WITH (quantization = sq8);
CREATE INDEX qi_sq8_l1 ON qitems USING hnswmm (emb vector_l1_ops) WITH (quantization = sq8);
SELECT c.relname AS index, i.quantization, i.code_bytes
FROM pg_class c, hnswmm_index_info(c.oid) i
WHERE c.relname LIKE 'qi\_sq8\_%' ORDER BY 1;
SET hnswmm.ef_search = 100;
SELECT op, count(*) FILTER (WHERE q_index(q, op) = q_exact(q, op)) AS exact_order
FROM qqueries, unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op GROUP BY op ORDER BY op;
DROP INDEX qi_sq8_l2, qi_sq8_ip, qi_sq8_cos, qi_sq8_l1;

-- binary codes carry one bit a dimension: they need many dimensions to
-- guide the walk, so they are tested on 64
DROP TABLE qitems;
CREATE TABLE qitems (id int PRIMARY KEY, cat int, emb vector(64));
INSERT INTO qitems
SELECT i, i % 10, array_agg(sin(i * (0.05 + k * 0.013) + k) ORDER BY k)::real[]
FROM generate_series(1, 2000) i, generate_series(1, 64) k GROUP BY i;
TRUNCATE qqueries;
INSERT INTO qqueries
SELECT j, array_agg(cos(j * (0.07 + k * 0.011) + 2 * k) ORDER BY k)::real[]
FROM generate_series(1, 20) j, generate_series(1, 64) k GROUP BY j;

CREATE INDEX qi_bin_l2 ON qitems USING hnswmm (emb vector_l2_ops) WITH (quantization = 'binary');
CREATE INDEX qi_bin_ip ON qitems USING hnswmm (emb vector_ip_ops) WITH (quantization = 'binary');
CREATE INDEX qi_bin_cos ON qitems USING hnswmm (emb vector_cosine_ops) WITH (quantization = 'binary');
-- 2,000 vectors get two centers (one per 1,000), kept in the metapage
SELECT quantization, code_bytes, centers FROM hnswmm_index_info('qi_bin_l2');
SELECT op, count(*) FILTER (WHERE q_index(q, op) = q_exact(q, op)) AS exact_order
FROM qqueries, unnest(ARRAY['<->', '<#>', '<=>']) op GROUP BY op ORDER BY op;

-- returned distances are exact, not estimated from codes
SELECT count(*) FILTER (WHERE s.d = (SELECT min(emb <-> q) FROM qitems)) AS exact_first
FROM qqueries, LATERAL (SELECT emb <-> q AS d FROM qitems ORDER BY emb <-> q LIMIT 1) s;

-- with one candidate re-ranked, the first row is still the best candidate
-- by its exact distance; the rest follow in code order
SET hnswmm.rerank = 1;
SELECT count(*) AS rows FROM qqueries,
  LATERAL (SELECT id FROM qitems ORDER BY emb <-> q LIMIT 10) s;
SELECT count(*) FILTER (WHERE q_index(q, '<->') = q_exact(q, '<->')) < 20 AS code_order
FROM qqueries;
RESET hnswmm.rerank;

-- strict_order re-ranks every batch in full: a filtered scan past
-- ef_search returns rows in exact order
SET hnswmm.ef_search = 10;
SET hnswmm.iterative_scan = strict_order;
SELECT count(*) AS in_order FROM qqueries q,
  LATERAL (SELECT array_agg(d ORDER BY rn) AS ds FROM
           (SELECT emb <-> q.q AS d, row_number() OVER () AS rn FROM
              (SELECT emb FROM qitems WHERE cat = 3 ORDER BY emb <-> q.q LIMIT 30) x) y) z
WHERE (SELECT bool_and(ds[i] <= ds[i + 1]) FROM generate_series(1, 29) i);
RESET hnswmm.iterative_scan;
RESET hnswmm.ef_search;

-- inserts after the build are coded against the build's centers; VACUUM
-- keeps the index whole
INSERT INTO qitems
SELECT i, i % 10, array_agg(cos(i * (0.03 + k * 0.017) + k) ORDER BY k)::real[]
FROM generate_series(2001, 2300) i, generate_series(1, 64) k GROUP BY i;
DELETE FROM qitems WHERE id % 5 = 0;
VACUUM qitems;
SET hnswmm.ef_search = 100;
SELECT count(*) FILTER (WHERE q_index(q, '<->') = q_exact(q, '<->')) AS exact_order
FROM qqueries;
SELECT nodes, live FROM hnswmm_verify('qi_bin_l2');

-- an index built empty has no centers (codes relative to zero) and still
-- works
CREATE TABLE qempty (id int, emb vector);
CREATE INDEX qempty_idx ON qempty USING hnswmm (emb vector_l2_ops) WITH (quantization = 'binary');
INSERT INTO qempty SELECT id, emb FROM qitems;
SELECT count(*) FROM qqueries q WHERE
  (SELECT array_agg(id) FROM (SELECT id FROM qempty ORDER BY emb <-> q.q LIMIT 10) s) =
  -- exact: the subquery (kept by OFFSET 0) hides the distance from the
  -- indexes, which an index scan plus incremental sort on id would use
  (SELECT array_agg(id) FROM (SELECT id FROM (SELECT id, emb <-> q.q AS d FROM qitems OFFSET 0) e
                              ORDER BY d, id LIMIT 10) s);
SELECT dimensions, nodes, quantization, centers FROM hnswmm_index_info('qempty_idx');
SELECT nodes, live FROM hnswmm_verify('qempty_idx');
RESET hnswmm.ef_search;

-- hnswmm_prewarm loads the graph and advises the vectors
SELECT graph_bytes = (SELECT graph_bytes FROM hnswmm_index_info('qi_bin_l2')) + 8192 AS graph,
       vector_bytes = (SELECT vector_bytes FROM hnswmm_index_info('qi_bin_l2')) AS vectors
FROM hnswmm_prewarm('qi_bin_l2');
SELECT * FROM hnswmm_prewarm('qempty_idx') WHERE false;
CREATE TABLE qnone (emb vector(3));
CREATE INDEX qnone_idx ON qnone USING hnswmm (emb);
SELECT * FROM hnswmm_prewarm('qnone_idx');

-- errors, each with its SQLSTATE
\set VERBOSITY sqlstate
CREATE INDEX ON qitems USING hnswmm (emb vector_l2_ops) WITH (quantization = pq);
CREATE INDEX ON qitems USING hnswmm (emb vector_l1_ops) WITH (quantization = 'binary');
CREATE INDEX ON qnone USING hnswmm (emb vector_l1_ops) WITH (quantization = 'binary');
SET hnswmm.rerank = -1;
SET hnswmm.rerank = 10001;
SELECT * FROM hnswmm_prewarm('qitems');
CREATE TABLE qwide (emb vector(8100));
CREATE INDEX ON qwide USING hnswmm (emb vector_l2_ops) WITH (quantization = sq8);
CREATE TABLE qwide2 (emb vector);
CREATE INDEX qwide2_idx ON qwide2 USING hnswmm (emb vector_l2_ops) WITH (quantization = sq8);
INSERT INTO qwide2 SELECT array_fill(1.5, ARRAY[8100])::real[]::vector;
\set VERBOSITY default
CREATE INDEX ON qwide USING hnswmm (emb vector_l2_ops) WITH (quantization = sq8);
CREATE INDEX ON qitems USING hnswmm (emb vector_l2_ops) WITH (quantization = pq);
-- binary codes of the same width fit
CREATE INDEX qwide_bin ON qwide USING hnswmm (emb vector_l2_ops) WITH (quantization = 'binary');
INSERT INTO qwide SELECT array_fill(i::real, ARRAY[8100])::vector FROM generate_series(1, 5) i;
SELECT (SELECT array_agg(vector_norm(emb)::int) FROM (SELECT emb FROM qwide
        ORDER BY emb <-> array_fill(2.1::real, ARRAY[8100])::vector LIMIT 3) s) AS nearest;
SHOW hnswmm.rerank;
DROP TABLE qitems, qqueries, qempty, qnone, qwide, qwide2;
DROP FUNCTION q_exact, q_index;
