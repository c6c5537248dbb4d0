-- hnswmm_read_counts(): the vectors and codes this backend's searches read.
-- A scan of a quantized index walks the codes and reads in full only the
-- candidates it re-ranks; so does an INSERT into one, which is what keeps
-- inserts going when the vectors do not fit in memory.
SET client_min_messages = warning;
SELECT setseed(0.25);
CREATE TABLE rc (id int, emb vector(32));
INSERT INTO rc
SELECT g, (SELECT array_agg(random()) FROM generate_series(1, 32) WHERE g > 0)::vector
FROM generate_series(1, 3000) g;
CREATE TABLE rc_sq8 (LIKE rc);
INSERT INTO rc_sq8 SELECT * FROM rc WHERE id <= 2000;
CREATE TABLE rc_none (LIKE rc);
INSERT INTO rc_none SELECT * FROM rc WHERE id <= 2000;
CREATE INDEX ON rc_sq8 USING hnswmm (emb) WITH (quantization = 'sq8');
CREATE INDEX ON rc_none USING hnswmm (emb);

-- counts are per backend and only grow; a statement's are the difference
-- of two calls
CREATE TEMP TABLE counts (what text, vectors bigint, codes bigint);
CREATE FUNCTION pg_temp.mark(what text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO counts SELECT what, vectors, codes FROM hnswmm_read_counts() $$;
CREATE FUNCTION pg_temp.read(after text, before text) RETURNS TABLE (vectors bigint, codes bigint)
LANGUAGE sql AS $$
  SELECT a.vectors - b.vectors, a.codes - b.codes
  FROM counts a, counts b WHERE a.what = after AND b.what = before $$;
SELECT vectors >= 0 AND codes >= 0 AND major_faults >= 0 AS counting FROM hnswmm_read_counts();

-- 1,000 single-row inserts into each index
CREATE FUNCTION pg_temp.insert_one_by_one(tab text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 2001..3000 LOOP
    EXECUTE format('INSERT INTO %I SELECT * FROM rc WHERE id = $1', tab) USING i;
  END LOOP;
END $$;
SELECT pg_temp.mark('start');
SELECT pg_temp.insert_one_by_one('rc_none');
SELECT pg_temp.mark('none');
SELECT pg_temp.insert_one_by_one('rc_sq8');
SELECT pg_temp.mark('sq8');
-- without codes, an insert's search computes about a thousand distances
-- from full vectors; with them it walks codes and reads in full the 64
-- (ef_construction) candidates it found.  Both then compare full vectors
-- to prune full neighbour lists (about 1,500 distances an insert here).
SELECT codes = 0 AS no_codes, vectors / 1000 > 2000 AS many_vectors
FROM pg_temp.read('none', 'start');
SELECT codes / 1000 > 500 AS walks_codes,
       vectors < 0.75 * (SELECT vectors FROM pg_temp.read('none', 'start')) AS fewer_vectors
FROM pg_temp.read('sq8', 'none');

-- and the inserted rows are found as well as in the unquantized index
SET enable_seqscan = off;
SET hnswmm.ef_search = 40;
SELECT count(*) FILTER (WHERE (SELECT id FROM rc_sq8 ORDER BY emb <-> r.emb LIMIT 1) = r.id) >= 990 AS sq8_self_found,
       count(*) FILTER (WHERE (SELECT id FROM rc_none ORDER BY emb <-> r.emb LIMIT 1) = r.id) >= 990 AS none_self_found
FROM rc r WHERE id > 2000;

-- a scan of the quantized index walks codes and re-ranks ef_search (40)
-- full vectors
SELECT pg_temp.mark('scan start');
SELECT cardinality(array_agg(id)) FROM (SELECT id FROM rc_sq8 ORDER BY emb <-> (SELECT emb FROM rc WHERE id = 7) LIMIT 10) s;
SELECT pg_temp.mark('scan');
SELECT vectors AS reranked, codes > 100 AS walked_codes FROM pg_temp.read('scan', 'scan start');
