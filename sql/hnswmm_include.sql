-- INCLUDE columns and index-only scans: the index returns the vector and
-- the included values, so rows on all-visible pages need no heap visit.
SET client_min_messages = warning;
CREATE TABLE inc (id int, score float8, tag uuid, note text, emb vector(4));
INSERT INTO inc SELECT i, i / 4.0, md5(i::text)::uuid, 'row ' || i,
       ARRAY[sin(i), cos(i), sin(2 * i), cos(3 * i)]::real[]
FROM generate_series(1, 2000) i;
INSERT INTO inc VALUES (2001, NULL, NULL, 'nulls', '[1,1,1,1]');
CREATE INDEX inc_l2 ON inc USING hnswmm (emb vector_l2_ops) INCLUDE (id, score, tag);
VACUUM inc;
SET enable_seqscan = off;
SET hnswmm.ef_search = 100;

-- EXPLAIN ANALYZE without what differs between PostgreSQL majors: from 18
-- on, row counts with decimals, and buffers and index searches by default
CREATE FUNCTION explain_analyze(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query LOOP
    CONTINUE WHEN line ~ '^\s*(Buffers|Index Searches):';
    RETURN NEXT regexp_replace(line, 'rows=(\d+)\.00', 'rows=\1', 'g');
  END LOOP;
END $$;

-- an index-only scan, with no heap fetch once VACUUM has run
EXPLAIN (COSTS OFF) SELECT id, score FROM inc ORDER BY emb <-> '[1,1,1,1]' LIMIT 5;
SELECT explain_analyze($$SELECT id, tag FROM inc ORDER BY emb <-> '[1,1,1,1]' LIMIT 5$$);

-- the same rows, values, vectors and distances as a plain index scan
CREATE TABLE inc_q AS SELECT j AS qid,
  ARRAY[cos(j), sin(j), cos(3 * j), sin(2 * j)]::real[]::vector AS q
FROM generate_series(1, 20) j;
CREATE FUNCTION inc_rows(q vector, op text, only_index bool) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format('SET LOCAL enable_indexonlyscan = %s', only_index);
  EXECUTE format('SELECT string_agg(format(''%%s/%%s/%%s/%%s/%%s'', id, score, tag, emb, d), '' '')
                  FROM (SELECT id, score, tag, emb, emb %s $1 AS d FROM inc
                        ORDER BY emb %s $1 LIMIT 10) s', op, op) INTO r USING q;
  RETURN r;
END $$;
SELECT count(*) FILTER (WHERE inc_rows(q, '<->', true) = inc_rows(q, '<->', false)) AS same
FROM inc_q;
-- NULL values come back as NULL
SELECT id, score, tag, emb FROM inc ORDER BY emb <-> '[1,1,1,1]' LIMIT 1;

-- rows inserted after the build carry their values; deleted rows are not
-- returned, before VACUUM (their pages are not all-visible, so the scan
-- checks the heap) and after
INSERT INTO inc SELECT i, i / 4.0, md5(i::text)::uuid, 'new',
       ARRAY[1, 1, 1, 1 + (i - 2001) / 100.0]::real[]
FROM generate_series(2002, 2005) i;
SELECT id, score, tag FROM inc ORDER BY emb <-> '[1,1,1,1]' LIMIT 5;
DELETE FROM inc WHERE id IN (2001, 2003);
SELECT id FROM inc ORDER BY emb <-> '[1,1,1,1]' LIMIT 3;
VACUUM inc;
SELECT id FROM inc ORDER BY emb <-> '[1,1,1,1]' LIMIT 3;
SELECT explain_analyze($$SELECT id FROM inc ORDER BY emb <-> '[1,1,1,1]' LIMIT 3$$);
SELECT live, deleted FROM hnswmm_verify('inc_l2');
SELECT count(*) FILTER (WHERE inc_rows(q, '<->', true) = inc_rows(q, '<->', false)) AS same
FROM inc_q;

-- binary codes, inner product, and an index built empty
CREATE INDEX inc_bin ON inc USING hnswmm (emb vector_ip_ops) INCLUDE (id, score, tag)
  WITH (quantization = 'binary');
DROP INDEX inc_l2;
EXPLAIN (COSTS OFF) SELECT id FROM inc ORDER BY emb <#> '[1,1,1,1]' LIMIT 5;
SELECT count(*) FILTER (WHERE inc_rows(q, '<#>', true) = inc_rows(q, '<#>', false)) AS same
FROM inc_q;
DROP INDEX inc_bin;
CREATE TABLE inc_empty (id int8, emb vector);
CREATE INDEX ON inc_empty USING hnswmm (emb vector_l1_ops) INCLUDE (id);
INSERT INTO inc_empty SELECT id, emb FROM inc;
VACUUM inc_empty;
SELECT id FROM inc_empty ORDER BY emb <+> '[1,1,1,1]' LIMIT 3;

-- a cosine index keeps vectors normalised and cannot return them, so a
-- query ordering by them reads the heap
CREATE INDEX inc_cos ON inc USING hnswmm (emb vector_cosine_ops) INCLUDE (id);
EXPLAIN (COSTS OFF) SELECT id FROM inc ORDER BY emb <=> '[1,1,1,1]' LIMIT 5;
SELECT id FROM inc ORDER BY emb <=> '[1,1,1,1]' LIMIT 3;

-- errors, each with its SQLSTATE
\set VERBOSITY sqlstate
CREATE INDEX ON inc USING hnswmm (emb) INCLUDE (note);
CREATE INDEX ON inc USING hnswmm (emb) INCLUDE (id, id, id, id, id, id, id, id, id);
\set VERBOSITY default
CREATE INDEX ON inc USING hnswmm (emb) INCLUDE (note);
