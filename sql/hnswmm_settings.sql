-- pgvector's setting names (hnsw.ef_search, hnsw.iterative_scan,
-- hnsw.max_scan_tuples) steer hnswmm scans unless hnswmm's own name is set
-- at the same or a more specific level; bad values are refused at scan time
-- with SQLSTATE 22023.
--
-- With iterative scans off, a scan returns exactly ef_search rows (or the
-- table, if smaller): counting them shows which setting a scan obeyed.
SET client_min_messages = warning;
SET enable_seqscan = off;
CREATE TABLE st (id int PRIMARY KEY, emb vector(4));
INSERT INTO st SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.3), cos(i * 0.7)]::real[]
FROM generate_series(1, 500) i;
CREATE INDEX st_idx ON st USING hnswmm (emb);
ANALYZE st;

CREATE FUNCTION rows_returned() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM (SELECT id FROM st ORDER BY emb <-> '[1,0,0,1]' LIMIT 400) s $$;
-- pgvector's name alone
SET hnsw.iterative_scan = off;
SELECT rows_returned();                 -- 40, the default ef_search
SET hnsw.ef_search = 7;
SELECT rows_returned();                 -- 7
-- the index serves the query as before
EXPLAIN (COSTS OFF) SELECT id FROM st ORDER BY emb <-> '[1,0,0,1]' LIMIT 5;
-- both set in the session: hnswmm's name wins the tie
SET hnswmm.ef_search = 5;
SELECT rows_returned();                 -- 5
RESET hnswmm.ef_search;
SELECT rows_returned();                 -- 7 again
-- SET LOCAL, as frameworks issue it, holds for its transaction only
BEGIN;
SET LOCAL hnsw.ef_search = 11;
SELECT rows_returned();                 -- 11
COMMIT;
SELECT rows_returned();                 -- 7
-- RESET leaves an empty placeholder: hnswmm's setting again
RESET hnsw.ef_search;
SELECT rows_returned();                 -- 40
-- a function's SET clause is a session-level setting too
CREATE FUNCTION rows_at_ef_9() RETURNS bigint LANGUAGE sql
  SET hnsw.ef_search = 9 AS $$ SELECT rows_returned() $$;
SELECT rows_at_ef_9();                  -- 9

-- iterative_scan: pgvector's off ends the scan at ef_search rows, its
-- relaxed_order goes on up to hnsw.max_scan_tuples
SET hnsw.ef_search = 10;
SELECT rows_returned();                 -- 10
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.max_scan_tuples = 30;
SELECT rows_returned();                 -- 30
SET hnswmm.max_scan_tuples = 60;        -- tie: hnswmm's name wins
SELECT rows_returned();                 -- 60
RESET hnswmm.max_scan_tuples;
RESET hnsw.max_scan_tuples;
SELECT rows_returned();                 -- 400
SET hnsw.iterative_scan = strict_order;
SELECT rows_returned() BETWEEN 10 AND 400 AS strict_goes_on;
SET hnswmm.iterative_scan = off;        -- tie: hnswmm's name wins
SELECT rows_returned();                 -- 10
RESET hnswmm.iterative_scan;
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;

-- a setting made for the database or role is less specific than a SET
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET hnswmm.ef_search = 6', current_database()); END $$;
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET hnswmm.iterative_scan = off', current_database()); END $$;
\c
SET client_min_messages = warning;
SET enable_seqscan = off;
SELECT rows_returned();                 -- 6, the database's hnswmm.ef_search
SET hnsw.ef_search = 8;
SELECT rows_returned();                 -- 8: the session's pgvector name wins
SET hnswmm.ef_search = 12;
SELECT rows_returned();                 -- 12
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET hnswmm.ef_search', current_database()); END $$;
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET hnswmm.iterative_scan', current_database()); END $$;
\c
SET client_min_messages = warning;
SET enable_seqscan = off;

-- err(query): 'ok', or the error's SQLSTATE, message and hint
CREATE FUNCTION err(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	hint text;
BEGIN
	EXECUTE query;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
	RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' HINT: ' || nullif(hint, ''), '');
END $$;

-- bad values under pgvector's names: refused when a scan reads them
SET hnswmm.iterative_scan = off;
SET hnsw.ef_search = 'many';
SELECT err('SELECT rows_returned()');
SET hnsw.ef_search = 0;
SELECT err('SELECT rows_returned()');
SET hnsw.ef_search = 1001;
SELECT err('SELECT rows_returned()');
SET hnsw.ef_search = '1000';
SELECT rows_returned();                 -- 400 (all the LIMIT asks)
RESET hnsw.ef_search;
RESET hnswmm.iterative_scan;            -- else it wins, and the bad value is not read
SET hnsw.iterative_scan = 'sometimes';
SELECT err('SELECT rows_returned()');
RESET hnsw.iterative_scan;
SET hnsw.max_scan_tuples = -1;
SELECT err('SELECT rows_returned()');
RESET hnsw.max_scan_tuples;
-- hnswmm's own names are checked when set, as any setting
SELECT err('SET hnswmm.ef_search = 0');
SELECT err('SET hnswmm.iterative_scan = sometimes');
SELECT rows_returned();                 -- 400: iterative again

DROP TABLE st;
DROP FUNCTION rows_returned(), rows_at_ef_9(), err(text);
