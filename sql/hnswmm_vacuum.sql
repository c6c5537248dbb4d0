-- DELETE + VACUUM: removed rows are never returned, the graph is
-- repaired around them, and inserts go on.
SET client_min_messages = warning;
SET enable_seqscan = off;
SET hnswmm.ef_search = 100;
CREATE TABLE vac (id int, emb vector(4)) WITH (autovacuum_enabled = off);
INSERT INTO vac SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.3), cos(i * 0.7)]::real[]
FROM generate_series(1, 2000) i;
CREATE INDEX vac_idx ON vac USING hnswmm (emb vector_l2_ops) WITH (m = 8, ef_construction = 32);

DELETE FROM vac WHERE id % 5 = 0;
VACUUM vac;
SELECT nodes, deleted FROM hnswmm_index_info('vac_idx');
SELECT nodes, live, deleted FROM hnswmm_verify('vac_idx');
-- nothing deleted comes back, and the live rows still find themselves
SELECT count(*) FROM (SELECT id FROM vac ORDER BY emb <-> '[0,1,0,1]' LIMIT 100) s WHERE id % 5 = 0;
SELECT count(*) AS found_self, (SELECT count(*) FROM vac) AS live FROM vac o
WHERE (SELECT id FROM vac i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id;

-- heavy churn: delete most rows, including the entry point's, then insert
DELETE FROM vac WHERE id % 10 <> 1;
VACUUM vac;
SELECT nodes, deleted FROM hnswmm_index_info('vac_idx');
INSERT INTO vac SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.3), cos(i * 0.7)]::real[]
FROM generate_series(2001, 2500) i;
SELECT nodes, live, deleted FROM hnswmm_verify('vac_idx');
SELECT count(*) AS found_self, (SELECT count(*) FROM vac) AS live FROM vac o
WHERE (SELECT id FROM vac i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id;

-- a second VACUUM with nothing new to remove changes nothing
VACUUM vac;
SELECT nodes, deleted FROM hnswmm_index_info('vac_idx');

-- delete everything: scans return nothing, inserts start a new graph
DELETE FROM vac;
VACUUM vac;
SELECT count(*) FROM (SELECT id FROM vac ORDER BY emb <-> '[0,1,0,1]' LIMIT 10) s;
INSERT INTO vac VALUES (1, '[1,1,1,1]'), (2, '[2,2,2,2]');
SELECT id FROM vac ORDER BY emb <-> '[2,2,2,2.5]' LIMIT 5;
SELECT nodes, live, deleted FROM hnswmm_verify('vac_idx');

-- rows with identical vectors: removing some, the first among them
-- included, keeps the others reachable
CREATE TABLE dupvac (id int, emb vector(2)) WITH (autovacuum_enabled = off);
INSERT INTO dupvac SELECT i, ARRAY[i % 7, i % 11]::real[] FROM generate_series(1, 700) i;
CREATE INDEX dupvac_idx ON dupvac USING hnswmm (emb vector_l2_ops);
SELECT nodes, live, duplicates FROM hnswmm_verify('dupvac_idx');
DELETE FROM dupvac WHERE id % 3 = 1;
VACUUM dupvac;
SELECT nodes, live, deleted, duplicates FROM hnswmm_verify('dupvac_idx');
SET hnswmm.ef_search = 1000;
SELECT count(*) AS returned, (SELECT count(*) FROM dupvac) AS live
FROM (SELECT id FROM dupvac ORDER BY emb <-> '[3,3]' LIMIT 1000) s;
SELECT count(*) FROM (SELECT id FROM dupvac ORDER BY emb <-> '[3,3]' LIMIT 1000) s
WHERE id % 3 = 1;
DROP TABLE vac, dupvac;
