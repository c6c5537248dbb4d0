-- pgvector's functions on the bit type: binary_quantize, hamming_distance
-- (<~>), jaccard_distance (<%>); bit strings of different lengths are a
-- 22000 error, NULL gives NULL.

SELECT binary_quantize('[1,-2,3,0,0.5]');
SELECT binary_quantize('[0,0,0,0,0,0,0,0,1,-1,1]');  -- across a byte
SELECT binary_quantize('[-0.0,1e-38,-1e-38]');
SELECT binary_quantize(NULL::vector);
SELECT length(binary_quantize(array_fill(1, ARRAY[16000])::vector)) AS bits,
       bit_count(binary_quantize(array_fill(1, ARRAY[16000])::vector)) AS ones;

SELECT hamming_distance(B'111', B'001'), B'111' <~> B'001' AS op;
SELECT jaccard_distance(B'1110', B'0111'), B'1110' <%> B'0111' AS op;
SELECT B'0000' <%> B'0000' AS zeros, B'0000' <%> B'1000' AS disjoint,
       B'1000' <%> B'1000' AS same, B'' <~> B'' AS empty;
SELECT B'101' <~> NULL AS null_hamming, NULL <%> B'101' AS null_jaccard;

-- err(query): 'ok', or the error's SQLSTATE and message
CREATE FUNCTION pg_temp.err(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE query;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT pg_temp.err($$SELECT B'101' <~> B'1010'$$);
SELECT pg_temp.err($$SELECT jaccard_distance(B'1', B'10')$$);

-- against the server's own bit operators, for lengths around the word and
-- byte boundaries the counts step over
SELECT setseed(0.5);
WITH pairs AS (
  SELECT n, r,
         (SELECT string_agg(CASE WHEN random() < 0.4 THEN '1' ELSE '0' END, '') FROM generate_series(1, n) WHERE r > 0)::varbit AS a,
         (SELECT string_agg(CASE WHEN random() < 0.4 THEN '1' ELSE '0' END, '') FROM generate_series(1, n) WHERE r > 0)::varbit AS b
  FROM unnest(ARRAY[1, 7, 8, 9, 63, 64, 65, 127, 128, 129, 1000, 64000]) n, generate_series(1, 5) r)
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE (a::bit(64000) <~> b::bit(64000)) = bit_count(a # b)
                          AND (a <~> b) = bit_count(a # b)) AS hamming_right,
       count(*) FILTER (WHERE (a <%> b) = CASE WHEN bit_count(a & b) = 0 THEN 1
                                           ELSE 1 - bit_count(a & b)::float8 / bit_count(a | b) END) AS jaccard_right
FROM pairs;

-- pgvector's binary-quantization recipe: order by Hamming distance of the
-- quantized vectors, then re-rank the candidates by the full vectors
CREATE TABLE bq (id int PRIMARY KEY, embedding vector(3));
INSERT INTO bq VALUES (1, '[1,-2,3]'), (2, '[-1,2,-3]'), (3, '[1,2,3]'), (4, '[2,-1,2]'), (5, '[-1,-1,-1]');
SELECT id, binary_quantize(embedding)::bit(3) <~> binary_quantize('[1,-2,3]') AS hamming
FROM bq ORDER BY 2, 1 LIMIT 3;
SELECT id FROM (
    SELECT * FROM bq ORDER BY binary_quantize(embedding)::bit(3) <~> binary_quantize('[1,-2,3]') LIMIT 3
) candidates ORDER BY embedding <=> '[1,-2,3]' LIMIT 2;
DROP TABLE bq;
