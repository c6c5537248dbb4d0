-- Bad input of every kind is a clean ERROR with the right SQLSTATE:
--   22P02  malformed text
--   22000  no dimension, NaN or infinite element, dimension mismatch,
--          multi-dimensional array
--   22003  number out of the float4 range, arithmetic overflow/underflow
--   22004  NULL array element
--   22023  bad typmod
--   54000  more than 16000 dimensions (program_limit_exceeded)
--   22P03  malformed binary value (tested in vector_io)

-- err(query): 'ok', or the error's SQLSTATE, message and detail
CREATE FUNCTION pg_temp.err(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	EXECUTE query;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' DETAIL: ' || nullif(detail, ''), '');
END $$;

-- two errors as psql shows them
SELECT '[1,2'::vector;
SELECT '[1,2,3]'::vector <-> '[1,2]';

-- malformed text
SELECT input, pg_temp.err(format('SELECT %L::vector', input)) AS error
FROM (VALUES (''), ('   '), ('1,2,3'), ('(1,2,3)'), ('{1,2,3}'), ('[1,2,3'),
			 ('[1,2,'), ('['), ('[1,,2]'), ('[,1]'), ('[1,]'), ('[1 2]'),
			 ('[1;2]'), ('[1,2]x'), ('[1,2] ]'), ('[1,2][3]'), ('[1],'),
			 ('[a]'), ('[1e]'), ('[--1]'), ('[1.2.3]'), ('[1,2 3]'),
			 ('[''1'']'), ('["1"]')) AS t(input);

-- no dimension, NaN, infinity, out of range (overflow to infinity is an
-- error, as for real; underflow reads as zero, as in pgvector: vector_io)
SELECT input, pg_temp.err(format('SELECT %L::vector', input)) AS error
FROM (VALUES ('[]'), ('[ ]'), ('[NaN]'), ('[1,nan]'), ('[Infinity]'), ('[-inf]'),
			 ('[1e39]'), ('[-3.5e38]'), ('[1e-50]'), ('[1,2,1e400]'),
			 ('[1e-45]'), ('[0e-50]')) AS t(input);

-- more than 16000 dimensions
SELECT pg_temp.err(format('SELECT %L::vector', '[' || repeat('1,', 16000) || '1]'));
SELECT pg_temp.err(format('SELECT %L::vector', '[' || repeat('1,', 99999) || '1]'));
SELECT pg_temp.err(format('SELECT %L::vector', '[' || repeat('1,', 16000) || '1')); -- still limit first
SELECT pg_temp.err(format('SELECT %L::vector', '[' || repeat('1,', 15999) || '1]')); -- 16000: ok

-- typmod
SELECT q, pg_temp.err(q) AS error FROM (VALUES
	($$SELECT '[1]'::vector(0)$$),
	($$SELECT '[1]'::vector(-1)$$),
	($$SELECT '[1]'::vector(16001)$$),
	($$SELECT '[1]'::vector(1, 2)$$),
	($$SELECT '[1]'::vector('a')$$),
	($$CREATE TEMP TABLE bad_typmod (v vector(0))$$),
	($$SELECT '[1,2]'::vector(3)$$),
	($$SELECT '[1,2,3,4]'::vector(3)$$),
	($$SELECT '[1,2]'::vector::vector(3)$$),
	($$SELECT '[1,2,3]'::vector(3)::vector(2)$$),
	($$SELECT '[1,2,3]'::vector(3)::vector(16000)$$)
) AS t(q);

-- vectors of different dimensions
SELECT q, pg_temp.err(q) AS error FROM (VALUES
	($$SELECT '[1,2,3]'::vector <-> '[1,2]'$$),
	($$SELECT '[1,2,3]'::vector <#> '[1,2]'$$),
	($$SELECT '[1,2,3]'::vector <=> '[1,2]'$$),
	($$SELECT '[1,2,3]'::vector <+> '[1,2]'$$),
	($$SELECT l2_distance('[1,2,3]', '[1,2]')$$),
	($$SELECT inner_product('[1,2,3]', '[1,2]')$$),
	($$SELECT vector_negative_inner_product('[1,2,3]', '[1,2]')$$),
	($$SELECT cosine_distance('[1,2,3]', '[1,2]')$$),
	($$SELECT l1_distance('[1,2,3]', '[1,2]')$$),
	($$SELECT vector_l2_squared_distance('[1,2,3]', '[1,2]')$$),
	($$SELECT '[1,2,3]'::vector + '[1,2]'$$),
	($$SELECT '[1,2,3]'::vector - '[1,2]'$$),
	($$SELECT '[1,2,3]'::vector * '[1,2]'$$),
	($$SELECT '[1]'::vector - '[1,2]'$$),
	($$SELECT avg(v) FROM (VALUES ('[1,2,3]'::vector), ('[1,2]')) AS t(v)$$),
	($$SELECT sum(v) FROM (VALUES ('[1,2,3]'::vector), ('[1,2]')) AS t(v)$$)
) AS t(q);

-- concatenation past 16000 dimensions
SELECT pg_temp.err($$SELECT array_fill(1, ARRAY[8000])::vector || array_fill(1, ARRAY[8001])::vector$$);
SELECT pg_temp.err($$SELECT vector_dims(array_fill(1, ARRAY[8000])::vector || array_fill(1, ARRAY[8000])::vector)$$);

-- arithmetic never stores an infinity or silently flushes to zero
SELECT q, pg_temp.err(q) AS error FROM (VALUES
	($$SELECT '[3e38,1]'::vector + '[3e38,1]'$$),
	($$SELECT '[-3e38]'::vector - '[3e38]'$$),
	($$SELECT '[1e20,1]'::vector * '[1e20,1]'$$),
	($$SELECT '[1,1e-30]'::vector * '[1,1e-30]'$$),
	($$SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) AS t(v)$$),
	($$SELECT '[3e38]'::vector + '[3e37]'$$),
	($$SELECT '[1e-30]'::vector * '[0]'$$)
) AS t(q);

-- subvector: the clipped range must keep at least one element
SELECT q, pg_temp.err(q) AS error FROM (VALUES
	($$SELECT subvector('[1,2,3]', 4, 1)$$),
	($$SELECT subvector('[1,2,3]', 1, 0)$$),
	($$SELECT subvector('[1,2,3]', 1, -1)$$),
	($$SELECT subvector('[1,2,3]', 0, 1)$$),
	($$SELECT subvector('[1,2,3]', -5, 3)$$),
	($$SELECT subvector('[1,2,3]', 2147483647, 2147483647)$$),
	($$SELECT subvector('[1,2,3]', -2147483648, -2147483648)$$),
	($$SELECT subvector('[1,2,3]', -2147483648, 2147483647)$$)
) AS t(q);

-- arrays
SELECT q, pg_temp.err(q) AS error FROM (VALUES
	($$SELECT '{1,NULL,3}'::real[]::vector$$),
	($$SELECT '{NULL}'::integer[]::vector$$),
	($$SELECT '{{1,2},{3,4}}'::real[]::vector$$),
	($$SELECT '{{1}}'::integer[]::vector$$),
	($$SELECT '{}'::real[]::vector$$),
	($$SELECT '{NaN}'::real[]::vector$$),
	($$SELECT '{-Infinity}'::real[]::vector$$),
	($$SELECT '{NaN}'::float8[]::vector$$),
	($$SELECT '{Infinity}'::float8[]::vector$$),
	($$SELECT '{1e39}'::float8[]::vector$$),
	($$SELECT '{1e-50}'::float8[]::vector$$),
	($$SELECT '{NaN}'::numeric[]::vector$$),
	($$SELECT '{Infinity}'::numeric[]::vector$$),
	($$SELECT '{1e39}'::numeric[]::vector$$),
	($$SELECT '{1,2}'::integer[]::vector(3)$$),
	($$SELECT array_fill(1, ARRAY[16001])::vector$$),
	($$SELECT '{1,2}'::text[]::vector$$),
	($$SELECT array_to_vector('{1,2}'::real[], 3, true)$$)
) AS t(q);

-- the aggregate support functions called by hand
SELECT q, pg_temp.err(q) AS error FROM (VALUES
	($$SELECT vector_accum('{}', '[1]')$$),
	($$SELECT vector_accum('{1,NULL}', '[1]')$$),
	($$SELECT vector_accum('{{1}}', '[1]')$$),
	($$SELECT vector_accum('{1,2}', '[1,2]')$$),
	($$SELECT vector_combine('{1,2}', '{1,2,3}')$$),
	($$SELECT vector_combine('{}', '{1,2}')$$),
	($$SELECT vector_avg('{}')$$),
	($$SELECT vector_avg('{2}')$$),
	($$SELECT vector_avg('{1,NaN}')$$),
	($$SELECT vector_avg('{1,Infinity}')$$),
	($$SELECT vector_avg('{1e-300,1e300}')$$),
	($$SELECT vector_avg(array_fill(1::float8, ARRAY[16002]))$$)
) AS t(q);

-- nothing above left a broken value behind
SELECT '[1,2,3]'::vector <-> '[1,2,4]' AS still_works;
