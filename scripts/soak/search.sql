-- Top-k search without a filter and without an iterative scan
\set k random(1, 40)
SET enable_seqscan = off;
SET hnswmm.iterative_scan = off;
SELECT id FROM soak ORDER BY emb <-> (SELECT soak_rv()) LIMIT :k;
