-- hnswmm indexes on bit strings: bit_hamming_ops and bit_jaccard_ops keep
-- each string as it is, a bit a dimension (format version 4), order by <~>
-- (Hamming) and <%> (Jaccard), and serve pgvector's binary-quantization
-- recipe with re-ranking.
SET client_min_messages = warning;
SET enable_seqscan = off;
CREATE TABLE hb (id int PRIMARY KEY, b bit(70));
-- 70 bits: slots of 12 bytes, not a multiple of a byte in bits
INSERT INTO hb SELECT i, (SELECT string_agg(CASE WHEN (i * 7919 + j * 104729) % 13 < 5 + i % 3
                                            THEN '1' ELSE '0' END, '' ORDER BY j)
                          FROM generate_series(1, 70) j)::bit(70)
FROM generate_series(1, 1500) i;
CREATE INDEX hb_ham ON hb USING hnswmm (b bit_hamming_ops) INCLUDE (id);
INSERT INTO hb SELECT i, (SELECT string_agg(CASE WHEN (i * 31 + j * 17) % 11 < 4 THEN '1' ELSE '0' END, '' ORDER BY j)
                          FROM generate_series(1, 70) j)::bit(70)
FROM generate_series(1501, 2000) i;
VACUUM ANALYZE hb;
EXPLAIN (COSTS OFF) SELECT id FROM hb ORDER BY b <~> B'1011' LIMIT 5;
SELECT dimensions, nodes, quantization FROM hnswmm_index_info('hb_ham');
SELECT nodes, live FROM hnswmm_verify('hb_ham');
-- the index's Hamming distances are the operator's: the top 10 by index and
-- exactly, compared by distance (ties may order differently)
SET hnswmm.ef_search = 100;
SELECT count(*) AS queries, sum((SELECT count(*) FROM
         (SELECT b <~> q AS d FROM hb ORDER BY b <~> q LIMIT 10) i) ) AS rows_found,
       bool_and(ARRAY(SELECT b <~> q FROM hb ORDER BY b <~> q LIMIT 10) =
                ARRAY(SELECT d FROM (SELECT b <~> q AS d FROM hb OFFSET 0) e ORDER BY d LIMIT 10))
         AS same_distances
FROM (SELECT b AS q FROM hb WHERE id % 100 = 3) qs;
RESET hnswmm.ef_search;
-- an index-only scan returns the stored bit string
EXPLAIN (COSTS OFF) SELECT b FROM hb ORDER BY b <~> B'1010' LIMIT 1;
SELECT b = (SELECT b FROM hb WHERE id = 42) AS same, b FROM hb
ORDER BY b <~> (SELECT b FROM hb WHERE id = 42) LIMIT 1;
-- Jaccard: the same check, and a query of one set bit finds a string that
-- has it (distance below 1)
CREATE INDEX hb_jac ON hb USING hnswmm (b bit_jaccard_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hb ORDER BY b <%> B'1011' LIMIT 5;
SET hnswmm.ef_search = 100;
SELECT count(*) AS queries,
       bool_and(ARRAY(SELECT b <%> q FROM hb ORDER BY b <%> q LIMIT 10) =
                ARRAY(SELECT d FROM (SELECT b <%> q AS d FROM hb OFFSET 0) e ORDER BY d LIMIT 10))
         AS same_distances
FROM (SELECT b AS q FROM hb WHERE id % 100 = 7) qs;
RESET hnswmm.ef_search;
SELECT b <%> B'0000000000000000000000000000000000000000000000000000000000000000000001' AS d
FROM hb ORDER BY b <%> B'0000000000000000000000000000000000000000000000000000000000000000000001' LIMIT 1;
SELECT nodes, live FROM hnswmm_verify('hb_jac');
DROP INDEX hb_jac;
DELETE FROM hb WHERE id % 3 = 0;
VACUUM hb;
SELECT count(*) FROM (SELECT id FROM hb ORDER BY b <~> (SELECT b FROM hb WHERE id = 1) LIMIT 50) s
WHERE id % 3 = 0;
SELECT nodes, live FROM hnswmm_verify('hb_ham');

-- pgvector's recipe: binary quantization in an expression index, then
-- re-ranking by the full vector
CREATE TABLE items (id int PRIMARY KEY, embedding vector(3));
INSERT INTO items SELECT i, ARRAY[sin(i), cos(i * 0.7), sin(i * 1.3)]::real[] FROM generate_series(1, 300) i;
CREATE INDEX items_bq ON items USING hnswmm ((binary_quantize(embedding)::bit(3)) bit_hamming_ops);
EXPLAIN (COSTS OFF)
SELECT id FROM items ORDER BY binary_quantize(embedding)::bit(3) <~> binary_quantize('[1,-2,3]') LIMIT 5;
SELECT id FROM (
    SELECT * FROM items ORDER BY binary_quantize(embedding)::bit(3) <~> binary_quantize('[1,-2,3]') LIMIT 40
) s ORDER BY s.embedding <=> '[1,-2,3]' LIMIT 3;
SELECT id FROM (SELECT * FROM items ORDER BY embedding <=> '[1,-2,3]' OFFSET 0) s LIMIT 3;

-- an index built empty takes its layout from the first string
CREATE TABLE he (id int, b bit varying);
CREATE INDEX he_ham ON he USING hnswmm ((b::bit(20)) bit_hamming_ops);
INSERT INTO he SELECT i, (i::bit(20))::bit varying FROM generate_series(1, 300) i;
SELECT id, b::bit(20) <~> B'00000000000001100100' AS d
FROM he ORDER BY b::bit(20) <~> B'00000000000001100100' LIMIT 1;
SELECT b::bit(20) <~> B'00000000000001100100' AS d
FROM he ORDER BY b::bit(20) <~> B'00000000000001100100' LIMIT 4;
SELECT dimensions, nodes FROM hnswmm_index_info('he_ham');

-- the widest strings, and what is refused
CREATE TABLE hwide (id int, b bit(64000));
INSERT INTO hwide SELECT i, (repeat('01', 32000 - i) || repeat('1', 2 * i))::bit(64000)
FROM generate_series(1, 20) i;
CREATE INDEX hwide_ham ON hwide USING hnswmm (b bit_hamming_ops);
SELECT b <~> (SELECT b FROM hwide WHERE id = 7) AS d
FROM hwide ORDER BY b <~> (SELECT b FROM hwide WHERE id = 7) LIMIT 3;
\set VERBOSITY terse
CREATE TABLE htoo (b bit(64001));
CREATE INDEX ON htoo USING hnswmm (b bit_hamming_ops);
CREATE INDEX ON hb USING hnswmm (b bit_hamming_ops) WITH (quantization = 'sq8');
CREATE INDEX ON hb USING hnswmm (b bit_hamming_ops) WITH (quantization = 'binary');
CREATE INDEX ON hb USING hnswmm (b bit_jaccard_ops) WITH (quantization = 'sq8');
-- Jaccard's support function names a metric for bit strings only
CREATE OPERATOR CLASS vector_jaccard_ops FOR TYPE vector USING hnswmm AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_jaccard_support(internal);
CREATE TABLE hv (v vector(3));
CREATE INDEX ON hv USING hnswmm (v vector_jaccard_ops);
DROP TABLE hv;
DROP OPERATOR CLASS vector_jaccard_ops USING hnswmm;
SELECT id FROM hwide ORDER BY b <~> B'101' LIMIT 1;
\set VERBOSITY default
DROP TABLE hb, items, he, hwide, htoo;
