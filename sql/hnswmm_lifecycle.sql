-- The index's life cycle: concurrent builds, REINDEX, TRUNCATE, temporary
-- and unlogged tables.  A backend caches its mapping of an index's files;
-- each of these gives the index a new relfilenode (or empties it), and
-- scans must follow.
SET client_min_messages = warning;
SET enable_seqscan = off;
SET hnswmm.ef_search = 100;
CREATE TABLE life (id int, emb vector(3));
INSERT INTO life SELECT i, ARRAY[sin(i), cos(i), i % 10]::real[] FROM generate_series(1, 500) i;

CREATE INDEX CONCURRENTLY life_idx ON life USING hnswmm (emb);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'life_idx'::regclass;
SELECT id FROM life ORDER BY emb <-> '[0,1,5]' LIMIT 3;
SELECT nodes, live FROM hnswmm_verify('life_idx');

-- inserts between the scans, then REINDEX: same answers from a new file
INSERT INTO life VALUES (1001, '[0,1,5]');
SELECT id FROM life ORDER BY emb <-> '[0,1,5]' LIMIT 3;
REINDEX INDEX life_idx;
SELECT id FROM life ORDER BY emb <-> '[0,1,5]' LIMIT 3;
REINDEX INDEX CONCURRENTLY life_idx;
SELECT id FROM life ORDER BY emb <-> '[0,1,5]' LIMIT 3;
SELECT nodes, live FROM hnswmm_verify('life_idx');
REINDEX TABLE CONCURRENTLY life;
SELECT id FROM life ORDER BY emb <-> '[0,1,5]' LIMIT 3;

-- TRUNCATE, also inside the transaction that created the table
TRUNCATE life;
SELECT count(*) FROM (SELECT id FROM life ORDER BY emb <-> '[0,1,5]' LIMIT 3) s;
INSERT INTO life VALUES (1, '[1,1,1]'), (2, '[2,2,2]');
SELECT id FROM life ORDER BY emb <-> '[2,2,2.1]' LIMIT 3;
BEGIN;
CREATE TABLE fresh (id int, emb vector(2));
CREATE INDEX fresh_idx ON fresh USING hnswmm (emb);
INSERT INTO fresh SELECT i, ARRAY[i, -i]::real[] FROM generate_series(1, 50) i;
SELECT id FROM fresh ORDER BY emb <-> '[10,-10]' LIMIT 2;
TRUNCATE fresh;
INSERT INTO fresh VALUES (7, '[7,7]');
SELECT id FROM fresh ORDER BY emb <-> '[10,-10]' LIMIT 2;
COMMIT;
SELECT id FROM fresh ORDER BY emb <-> '[10,-10]' LIMIT 2;
SELECT nodes, live FROM hnswmm_verify('fresh_idx');

-- a scan that fails inside a subtransaction lets go of its mapping of the
-- index's file with the subtransaction, so that REINDEX (which maps the
-- new file) works in the same transaction (a rebuilt index is all in its
-- file: scans read it through the mapping)
REINDEX INDEX life_idx;
BEGIN;
SAVEPOINT s;
SELECT id, 1 / (id - id) FROM life ORDER BY emb <-> '[2,2,2.1]' LIMIT 1;
ROLLBACK TO SAVEPOINT s;
REINDEX INDEX life_idx;
SELECT id FROM life ORDER BY emb <-> '[2,2,2.1]' LIMIT 1;
SAVEPOINT t;
DECLARE c CURSOR FOR SELECT id FROM life ORDER BY emb <-> '[2,2,2.1]';
FETCH 1 FROM c;
SELECT 1 / 0;
ROLLBACK TO SAVEPOINT t;
REINDEX INDEX life_idx;
SELECT id FROM life ORDER BY emb <-> '[2,2,2.1]' LIMIT 1;
COMMIT;

-- DROP INDEX: the planner falls back to a scan and sort
DROP INDEX life_idx;
SELECT id FROM life ORDER BY emb <-> '[2,2,2.1]' LIMIT 1;

-- a temporary table's index lives in local buffers and is never mapped
CREATE TEMP TABLE scratch (id int, emb vector(3));
INSERT INTO scratch SELECT i, ARRAY[i, i * 2, i * 3]::real[] FROM generate_series(1, 300) i;
CREATE INDEX scratch_idx ON scratch USING hnswmm (emb);
INSERT INTO scratch SELECT i, ARRAY[i, i * 2, i * 3]::real[] FROM generate_series(301, 400) i;
EXPLAIN (COSTS OFF) SELECT id FROM scratch ORDER BY emb <-> '[350,700,1050]' LIMIT 3;
SELECT id FROM scratch ORDER BY emb <-> '[350,700,1050]' LIMIT 3;
SELECT nodes, live FROM hnswmm_verify('scratch_idx');

-- an unlogged table
CREATE UNLOGGED TABLE quick (id int, emb vector(3));
CREATE INDEX quick_idx ON quick USING hnswmm (emb);
INSERT INTO quick SELECT i, ARRAY[i, 0, 0]::real[] FROM generate_series(1, 300) i;
SELECT id FROM quick ORDER BY emb <-> '[150.2,0,0]' LIMIT 3;
SELECT nodes, live FROM hnswmm_verify('quick_idx');

-- the distance kernels this CPU runs agree with a double-precision reference
SELECT bool_and(max_relative_error < 1e-5) AS accurate,
       count(*) FILTER (WHERE in_use) AS in_use,
       bool_or(name = 'portable') AS has_portable
FROM hnswmm_distance_kernels() WHERE supported;

DROP TABLE life, fresh, scratch, quick;
