-- Wide vectors: 3,072 dimensions cross page boundaries, 16,000 is the
-- type's limit.  Pieces of a vector on two pages are read in place.
SET client_min_messages = warning;
SET enable_seqscan = off;
SET hnswmm.ef_search = 100;
CREATE TABLE wide (id int, emb vector(3072));
INSERT INTO wide
SELECT i, (SELECT array_agg(sin(i * 0.1 + j * 0.01))::real[] FROM generate_series(1, 3072) j)
FROM generate_series(1, 60) i;
CREATE INDEX wide_idx ON wide USING hnswmm (emb vector_l2_ops);
INSERT INTO wide
SELECT i, (SELECT array_agg(sin(i * 0.1 + j * 0.01))::real[] FROM generate_series(1, 3072) j)
FROM generate_series(61, 100) i;
SELECT dimensions, nodes FROM hnswmm_index_info('wide_idx');
SELECT count(*) AS found_self FROM wide o
WHERE (SELECT id FROM wide i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id;
SELECT count(*) AS found_self_cosine FROM wide o
WHERE (SELECT id FROM wide i ORDER BY i.emb <=> o.emb LIMIT 1) = o.id;

CREATE TABLE widest (id int, emb vector(16000));
INSERT INTO widest
SELECT i, (SELECT array_agg(cos(i * 0.2 + j * 0.001))::real[] FROM generate_series(1, 16000) j)
FROM generate_series(1, 12) i;
CREATE INDEX widest_idx ON widest USING hnswmm (emb vector_l2_ops);
INSERT INTO widest
SELECT i, (SELECT array_agg(cos(i * 0.2 + j * 0.001))::real[] FROM generate_series(1, 16000) j)
FROM generate_series(13, 20) i;
SELECT dimensions, nodes FROM hnswmm_index_info('widest_idx');
SELECT count(*) AS found_self FROM widest o
WHERE (SELECT id FROM widest i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id;
-- halfvec's limit is the same 16,000 dimensions, in half the slot bytes
CREATE TABLE widest_half (id int, emb halfvec(16000));
INSERT INTO widest_half SELECT id, emb::halfvec(16000) FROM widest;
CREATE INDEX widest_half_idx ON widest_half USING hnswmm (emb halfvec_l2_ops);
INSERT INTO widest_half SELECT id + 100, emb::halfvec(16000) FROM widest;
SELECT dimensions, nodes FROM hnswmm_index_info('widest_half_idx');
SELECT count(*) AS found_self FROM widest_half o
WHERE (SELECT id FROM widest_half i ORDER BY i.emb <-> o.emb, id LIMIT 1) IN (o.id, o.id - 100, o.id + 100);
DROP TABLE wide, widest, widest_half;
