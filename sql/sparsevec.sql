-- The sparsevec type: pgvector's text format {index:value,...}/dim (1-based
-- indices) and binary format, typmod, casts, distances, norms, comparisons
-- and btree support.  Input in any order is sorted and zeros are dropped.
-- Bad input is a clean error:
--   22P02  malformed text          22000  dimensions, range, repeats, NaN
--   22003  a value beyond float4   22023  bad typmod
--   54000  more than 10^9 dimensions or 16000 non-zero elements

-- err(query): 'ok', or the error's SQLSTATE and message
CREATE FUNCTION pg_temp.err(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE query;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

SELECT '{1:1.5,3:2}/5'::sparsevec;
SELECT ' { 3 : 2 , 1:1.5 } / 5 '::sparsevec AS sorted, '{1:0,2:1}/3'::sparsevec AS zero_dropped,
       '{}/3'::sparsevec AS empty;
SELECT '{1000000000:0.5}/1000000000'::sparsevec AS largest;
SELECT '{1:1,2:2}/2'::sparsevec(2);
SELECT pg_temp.err($$SELECT '{1:1}/0'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{1:1}/1000000001'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{1:1}/99999999999999999999'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{4:1}/3'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{0:1}/3'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{2:1,2:3}/3'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{1:NaN}/3'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{1:Infinity}/3'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{1:1e39}/3'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{1:1}/3'::sparsevec(2)$$);
SELECT pg_temp.err($$SELECT '[1,2]'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{1:1'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{1:1}'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{1 1}/3'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{1:1}/3 x'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{1:}/3'::sparsevec$$);
-- an element without its colon (found by fuzz_sparsevec_in: it wrote past
-- the elements' buffer), and indices beyond any integer type
SELECT pg_temp.err($$SELECT '{1:1,2}/5'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{2,1:1}/5'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{-9223372036854775808:1}/1'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{99999999999999999999999:1}/1'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{1:1}/-9223372036854775808'::sparsevec$$);
SELECT pg_temp.err($$SELECT '{1:1}/3'::sparsevec(0)$$);
SELECT pg_temp.err($$SELECT '{1:1}/3'::sparsevec(1000000001)$$);
SELECT pg_temp.err(format('SELECT %L::sparsevec',
       '{' || (SELECT string_agg(i || ':1', ',') FROM generate_series(1, 16001) i) || '}/20000'));
SELECT '{' || (SELECT string_agg(i || ':1', ',') FROM generate_series(1, 16000) i) || '}/20000' = ''
       OR ('{' || (SELECT string_agg(i || ':1', ',') FROM generate_series(1, 16000) i) || '}/20000')::sparsevec IS NOT NULL
       AS sixteen_thousand_fit;

-- binary format: int32 dim, int32 nnz, int32 0, 0-based int32 indices,
-- float4 values
SELECT sparsevec_send('{1:1.5,3:2}/5');

-- casts
SELECT '[0,1.5,0,2]'::vector::sparsevec, '{2:1.5,4:2}/4'::sparsevec::vector,
       '[0,1.5,0,2]'::halfvec::sparsevec, '{2:1.5,4:2}/4'::sparsevec::halfvec;
SELECT ARRAY[0,1,0]::sparsevec, ARRAY[0.5,0]::real[]::sparsevec,
       '[1,0,2]'::vector::sparsevec(3);
SELECT pg_temp.err($$SELECT '{1:1}/16001'::sparsevec::vector$$);
SELECT pg_temp.err($$SELECT '{1:1e5}/3'::sparsevec::halfvec$$);
SELECT pg_temp.err($$SELECT '[1,2]'::vector::sparsevec(3)$$);

-- distances: those of the dense vectors
SELECT '{1:1,3:3}/3'::sparsevec <-> '{2:2,3:1}/3' AS l2,
       '[1,0,3]'::vector <-> '[0,2,1]' AS l2_dense,
       '{1:1,3:3}/3'::sparsevec <#> '{2:2,3:1}/3' AS neg_ip,
       '{1:1,3:3}/3'::sparsevec <=> '{2:2,3:1}/3' AS cosine,
       '[1,0,3]'::vector <=> '[0,2,1]' AS cosine_dense,
       '{1:1,3:3}/3'::sparsevec <+> '{2:2,3:1}/3' AS l1;
SELECT inner_product('{1:2,2:3}/3'::sparsevec, '{2:4,3:5}/3'),
       sparsevec_l2_squared_distance('{1:2}/3', '{2:2}/3'),
       '{}/3'::sparsevec <=> '{1:1}/3' AS cosine_of_zero,
       '{1:1}/3'::sparsevec <=> '{1:2}/3' AS cosine_same_way;
SELECT pg_temp.err($$SELECT '{1:1}/3'::sparsevec <-> '{1:1}/4'::sparsevec$$);
SELECT l2_norm('{1:3,5:4}/5'::sparsevec), l2_normalize('{1:3,5:4}/5'::sparsevec),
       l2_normalize('{}/5'::sparsevec);

-- comparisons, btree, DISTINCT, unique index
SELECT '{1:1}/3'::sparsevec < '{1:2}/3', '{1:1}/3'::sparsevec = '{1:1}/3',
       '{2:1}/3'::sparsevec < '{1:1}/3' AS zero_first_is_smaller,
       '{1:-1}/3'::sparsevec < '{}/3' AS negative_below_zero,
       '{1:1}/3'::sparsevec < '{1:1}/4' AS shorter_first,
       sparsevec_cmp('{1:1}/3', '{1:1}/3');
CREATE TABLE sv (id int, v sparsevec(4));
INSERT INTO sv VALUES (1, '{1:1}/4'), (2, '{4:1}/4'), (3, '{1:1}/4'), (4, '{}/4'), (5, NULL),
                      (6, '{2:-1}/4');
SELECT DISTINCT v FROM sv ORDER BY v;
SELECT pg_temp.err($$CREATE UNIQUE INDEX ON sv (v)$$);
DELETE FROM sv WHERE id = 3;
CREATE UNIQUE INDEX sv_v ON sv (v);
-- exact nearest neighbours by a sequential scan
SELECT id, v <-> '{1:1,4:1}/4' AS d FROM sv WHERE v IS NOT NULL ORDER BY d, id;
DROP TABLE sv;
