-- The halfvec type: pgvector's text and binary formats, typmod, casts,
-- operators, functions, aggregates and btree support.  Bad input is a
-- clean error with the SQLSTATE vector uses:
--   22P02  malformed text          22000  dimensions, NaN, infinity
--   22003  beyond the half range   22023  bad typmod
--   54000  more than 16000 dimensions

-- err(query): 'ok', or the error's SQLSTATE and message
CREATE FUNCTION pg_temp.err(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE query;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- text I/O: values round to the nearest half (ties to even)
SELECT '[1,2,3]'::halfvec;
SELECT ' [ 1.5 , -2.25,0.1 ] '::halfvec;
SELECT '[65504,-65519,65519.99]'::halfvec AS largest;
SELECT '[5.9604645e-8,2.98e-8,2.9802322e-8,1e-8,6.1035156e-5]'::halfvec AS tiny;
SELECT '[2049,2051,-0.0]'::halfvec AS ties;
SELECT '[1,2,3]'::halfvec(3);
SELECT pg_temp.err($$SELECT '[65520]'::halfvec$$);
SELECT pg_temp.err($$SELECT '[1e40]'::halfvec$$);
SELECT pg_temp.err($$SELECT '[1,2]'::halfvec(3)$$);
SELECT pg_temp.err($$SELECT '[]'::halfvec$$);
SELECT pg_temp.err($$SELECT '[NaN]'::halfvec$$);
SELECT pg_temp.err($$SELECT '[Infinity]'::halfvec$$);
SELECT pg_temp.err($$SELECT '[1,'::halfvec$$);
SELECT pg_temp.err($$SELECT '[1] x'::halfvec$$);
SELECT pg_temp.err($$SELECT '[1]'::halfvec(0)$$);
SELECT pg_temp.err($$SELECT '[1]'::halfvec(16001)$$);
SELECT pg_temp.err($$SELECT '[1]'::halfvec(1, 2)$$);
SELECT pg_temp.err($$SELECT array_fill(1, ARRAY[16001])::halfvec$$);
SELECT vector_dims(array_fill(1, ARRAY[16000])::halfvec);

-- binary format: int16 dim, int16 0, big-endian binary16 values
SELECT halfvec_send('[1,2,-0.5,65504,5.9604645e-8]');

-- casts
SELECT '[1.1,2,3]'::vector::halfvec, '[1.1,2,3]'::halfvec::vector;
SELECT '[1,2,3]'::vector::halfvec(3), '[1,2]'::halfvec::real[];
SELECT ARRAY[1,2,3]::halfvec, ARRAY[1.5,2.5]::real[]::halfvec,
       ARRAY[0.1,0.2]::float8[]::halfvec, ARRAY[1.25]::numeric[]::halfvec;
SELECT pg_temp.err($$SELECT '[1e5]'::vector::halfvec$$);
SELECT pg_temp.err($$SELECT ARRAY[1e10]::float8[]::halfvec$$);
SELECT pg_temp.err($$SELECT ARRAY[1,NULL]::int[]::halfvec$$);
SELECT pg_temp.err($$SELECT '[1,2]'::vector::halfvec(3)$$);
SELECT pg_temp.err($$SELECT '[1,2]'::halfvec::vector(3)$$);

-- distances: those of the same values as vectors
SELECT '[1,2,3]'::halfvec <-> '[3,2,1]' AS l2, '[1,2,3]'::halfvec <#> '[3,2,1]' AS neg_ip,
       '[1,2,3]'::halfvec <=> '[3,2,1]' AS cosine, '[1,2,3]'::halfvec <+> '[3,2,1]' AS l1;
SELECT l2_distance('[1.1,2]'::halfvec, '[0,0]') = l2_distance('[1.1,2]'::halfvec::vector, '[0,0]') AS same_as_vector,
       inner_product('[1,2]'::halfvec, '[3,4]'), cosine_distance('[1,0]'::halfvec, '[0,1]'),
       l1_distance('[1,2]'::halfvec, '[3,5]'), halfvec_l2_squared_distance('[1,2]', '[3,5]');
SELECT '[0,0]'::halfvec <=> '[1,1]' AS cosine_of_zero;
SELECT pg_temp.err($$SELECT '[1,2]'::halfvec <-> '[1,2,3]'::halfvec$$);

-- functions and arithmetic
SELECT vector_dims('[1,2,3]'::halfvec), l2_norm('[3,4]'::halfvec), l2_normalize('[3,4]'::halfvec),
       subvector('[1,2,3,4]'::halfvec, 2, 2), binary_quantize('[1,-2,0,3]'::halfvec);
SELECT '[1,2]'::halfvec + '[3,4]', '[1,2]'::halfvec - '[3,4]', '[1,2]'::halfvec * '[3,4]',
       '[1,2]'::halfvec || '[3]';
SELECT pg_temp.err($$SELECT '[60000]'::halfvec + '[60000]'::halfvec$$);
SELECT pg_temp.err($$SELECT '[300]'::halfvec * '[300]'::halfvec$$);
SELECT pg_temp.err($$SELECT subvector('[1,2]'::halfvec, 3, 1)$$);

-- comparisons, btree, DISTINCT, unique index
SELECT '[1,2]'::halfvec < '[1,3]', '[1,2]'::halfvec = '[1,2]', '[1,2]'::halfvec <> '[1,2,3]',
       '[1,2,3]'::halfvec > '[1,2]', halfvec_cmp('[1]', '[1]');
CREATE TABLE hv (id int, v halfvec(2));
INSERT INTO hv VALUES (1, '[1,2]'), (2, '[0.5,1]'), (3, '[1,2]'), (4, '[-1,0]'), (5, NULL);
SELECT DISTINCT v FROM hv ORDER BY v;
SELECT pg_temp.err($$CREATE UNIQUE INDEX ON hv (v)$$);
DELETE FROM hv WHERE id = 3;
CREATE UNIQUE INDEX hv_v ON hv (v);

-- aggregates
SELECT avg(v), sum(v) FROM hv;
SELECT avg(v), sum(v) FROM hv WHERE false;
SELECT pg_temp.err($$SELECT sum(v) FROM (VALUES ('[60000]'::halfvec), ('[60000]')) t(v)$$);
DROP TABLE hv;
