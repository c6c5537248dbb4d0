-- Inserts after the build, indexes built on empty tables, unconstrained
-- vector columns, dimension checks, duplicates.
SET client_min_messages = warning;
SET enable_seqscan = off;
SET hnswmm.ef_search = 200;

CREATE TABLE ins (id int, emb vector(4));
INSERT INTO ins SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.3), cos(i * 0.7)]::real[]
FROM generate_series(1, 500) i;
CREATE INDEX ins_idx ON ins USING hnswmm (emb vector_l2_ops) WITH (m = 8, ef_construction = 32);
-- one by one after the build, then in bulk
DO $$ BEGIN
  FOR i IN 501..700 LOOP
    INSERT INTO ins VALUES (i, ARRAY[sin(i), cos(i), sin(i * 0.3), cos(i * 0.7)]::real[]);
  END LOOP;
END $$;
INSERT INTO ins SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.3), cos(i * 0.7)]::real[]
FROM generate_series(701, 1500) i;
SELECT nodes, deleted FROM hnswmm_index_info('ins_idx');
SELECT nodes, live, deleted, duplicates FROM hnswmm_verify('ins_idx');
-- every row finds itself first
SELECT count(*) AS found_self FROM ins o
WHERE (SELECT id FROM ins i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id;

-- an index built on an empty table learns its dimensions from the first row
CREATE TABLE anydim (id int, emb vector);
CREATE INDEX anydim_idx ON anydim USING hnswmm (emb vector_l2_ops);
SELECT dimensions, nodes FROM hnswmm_index_info('anydim_idx');
INSERT INTO anydim VALUES (1, '[1,2,3]'), (2, '[4,5,6]'), (3, NULL);
SELECT dimensions, nodes FROM hnswmm_index_info('anydim_idx');
SELECT id FROM anydim ORDER BY emb <-> '[4,5,5]' LIMIT 3;
\set VERBOSITY sqlstate
INSERT INTO anydim VALUES (4, '[1,2]');
\set VERBOSITY default
INSERT INTO anydim VALUES (4, '[1,2]');
-- a build over rows of different dimensions fails the same way
CREATE TABLE mixed (emb vector);
INSERT INTO mixed VALUES ('[1,2,3]'), ('[1,2]');
\set VERBOSITY sqlstate
CREATE INDEX ON mixed USING hnswmm (emb);
\set VERBOSITY default
-- an expression index fixes the dimension
CREATE INDEX ON mixed USING hnswmm ((emb::vector(2))) WHERE vector_dims(emb) = 2;
-- an empty table with a declared dimension
CREATE TABLE empty3 (emb vector(3));
CREATE INDEX empty3_idx ON empty3 USING hnswmm (emb);
SELECT dimensions, nodes FROM hnswmm_index_info('empty3_idx');
SELECT * FROM empty3 ORDER BY emb <-> '[1,1,1]' LIMIT 1;

-- thousands of identical vectors neither break the graph nor hide rows
CREATE TABLE dup (id int, emb vector(3));
INSERT INTO dup SELECT i, '[1,1,1]' FROM generate_series(1, 3000) i;
INSERT INTO dup SELECT i, ARRAY[i, 0, 0]::real[] FROM generate_series(3001, 3100) i;
CREATE INDEX dup_idx ON dup USING hnswmm (emb vector_l2_ops);
INSERT INTO dup SELECT i, '[1,1,1]' FROM generate_series(3101, 4000) i;
SELECT nodes, live, duplicates FROM hnswmm_verify('dup_idx');
SELECT count(*) FROM (SELECT id FROM dup ORDER BY emb <-> '[1,1,1]' LIMIT 10) s;
SET hnswmm.ef_search = 1000;
SELECT count(*), min(emb <-> '[1,1,1]'), max(emb <-> '[1,1,1]')
FROM (SELECT emb FROM dup ORDER BY emb <-> '[1,1,1]' LIMIT 1000) s;
-- the distinct vectors are all still reachable
SELECT count(*) AS found_self FROM dup o
WHERE o.id > 3000 AND o.id <= 3100
  AND (SELECT id FROM dup i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id;

-- zero vectors are not indexed for cosine distance
CREATE TABLE zero (id int, emb vector(2));
INSERT INTO zero VALUES (1, '[0,0]'), (2, '[1,0]'), (3, '[0,1]');
CREATE INDEX zero_idx ON zero USING hnswmm (emb vector_cosine_ops);
INSERT INTO zero VALUES (4, '[0,0]'), (5, '[1,1]');
SELECT nodes FROM hnswmm_index_info('zero_idx');
SELECT id FROM zero ORDER BY emb <=> '[1,0.1]' LIMIT 5;

DROP TABLE ins, anydim, mixed, empty3, dup, zero;
