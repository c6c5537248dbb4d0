-- A backend's memory for searches follows what they visit (about
-- ef_search x 2m nodes), not the number of nodes in the index: the visited
-- set is a hash table, where a dense array would take two bytes a node in
-- every backend (400 kB here, 200 MB at 100 million nodes), and as much
-- again in each iterative scan past its first batch.
SET client_min_messages = warning;
SET enable_seqscan = off;
CREATE TABLE mem_small (id int, emb vector(2));
INSERT INTO mem_small SELECT i, ARRAY[i, i] FROM generate_series(1, 100) i;
CREATE INDEX ON mem_small USING hnswmm (emb);
CREATE TABLE mem (id int, emb vector(2));
INSERT INTO mem SELECT i, ARRAY[sin(i), cos(i * 1.3)]::real[] FROM generate_series(1, 200000) i;
CREATE INDEX mem_idx ON mem USING hnswmm (emb) WITH (m = 8, ef_construction = 16);
ANALYZE mem;
SELECT nodes FROM hnswmm_index_info('mem_idx');

-- a new session: a search of a small index first, then of the large one
\c
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM mem_small ORDER BY emb <-> '[1,1]' LIMIT 10) s;
SELECT total_bytes AS top_before FROM pg_backend_memory_contexts WHERE name = 'TopMemoryContext' \gset
SELECT count(*) FROM (SELECT id FROM mem ORDER BY emb <-> '[0.5,0.5]' LIMIT 10) s;
SELECT total_bytes - :top_before < 65536 AS top_memory_did_not_grow_with_the_index
FROM pg_backend_memory_contexts WHERE name = 'TopMemoryContext';

-- an iterative scan's many batches: its own memory follows the rows it
-- hands out, not the index
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM mem ORDER BY emb <-> '[0.5,0.5]';
MOVE 2000 IN c;
SELECT sum(total_bytes) < 262144 AS scan_memory_small
FROM pg_backend_memory_contexts WHERE name LIKE 'hnswmm scan%';
COMMIT;
DROP TABLE mem, mem_small;
