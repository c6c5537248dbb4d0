-- Partitioned tables: one index per partition, Merge Append on top
SET client_min_messages = warning;
CREATE TABLE docs (tenant int, id int, emb vector(3)) PARTITION BY LIST (tenant);
CREATE TABLE docs_1 PARTITION OF docs FOR VALUES IN (1);
CREATE TABLE docs_2 PARTITION OF docs FOR VALUES IN (2);
INSERT INTO docs SELECT 1 + i % 2, i, ARRAY[sin(i), cos(i), i % 17]::real[]
FROM generate_series(1, 1000) i;
CREATE INDEX ON docs USING hnswmm (emb vector_l2_ops);
SET enable_seqscan = off;
SET hnswmm.ef_search = 100;
EXPLAIN (COSTS OFF) SELECT id FROM docs ORDER BY emb <-> '[0,1,3]' LIMIT 5;
SELECT id, tenant FROM docs ORDER BY emb <-> '[0,1,3]' LIMIT 5;
WITH a AS MATERIALIZED (SELECT id, tenant, emb FROM docs)
SELECT id, tenant FROM a ORDER BY emb <-> '[0,1,3]' LIMIT 5;
-- a query on one partition uses that partition's index only
EXPLAIN (COSTS OFF) SELECT id FROM docs WHERE tenant = 2 ORDER BY emb <-> '[0,1,3]' LIMIT 5;

-- the inspection functions want an index with storage: a partition's, not
-- the partitioned index (which has no file), nor an OID of nothing
\set VERBOSITY terse
SELECT hnswmm_index_info('docs_emb_idx');
SELECT hnswmm_verify('docs_emb_idx');
SELECT hnswmm_prewarm('docs_emb_idx');
SELECT hnswmm_index_info(4294967295::oid::regclass);
SELECT hnswmm_verify(0::oid::regclass);
\set VERBOSITY default
SELECT p.relname, i.nodes FROM pg_inherits h
JOIN pg_class p ON p.oid = h.inhrelid, hnswmm_index_info(h.inhrelid) i
WHERE h.inhparent = 'docs_emb_idx'::regclass ORDER BY 1;
DROP TABLE docs;
