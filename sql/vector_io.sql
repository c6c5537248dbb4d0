-- Text and binary I/O of the vector type, and the typmod vector(n).

-- text input: brackets, commas, optional whitespace around numbers and brackets
SELECT '[1,2,3]'::vector;
SELECT ' [ 1 , 2 ,3 ] '::vector;
-- tab, newline, carriage return, form feed, vertical tab
SELECT (chr(9) || '[' || chr(10) || '1,' || chr(13) || '2' || chr(12) || ','
		|| chr(11) || '3' || chr(9) || ']' || chr(10))::vector;
SELECT '[-1.5,+2.25,0.125e1,1E2,.5,5.]'::vector;
SELECT '[0x10]'::vector;   -- strtof reads hexadecimal, as for real

-- output is the shortest text that reads back to the same float4
SELECT '[0.1,0.2,0.3]'::vector;
SELECT '[1.0000001,123456789,0.000123]'::vector;
SELECT '[3.4028235e38,-3.4028235e38,1.1754944e-38,1e-45]'::vector;
SELECT '[-0,0]'::vector;
SELECT '[1.00000001]'::vector;   -- rounds to the nearest float4
SELECT v::text::vector = v AS round_trips
FROM (SELECT '[0.1,3.4028235e38,1e-45,-7.5,1.17549435e-38]'::vector AS v) AS s;

-- 1 and 16000 dimensions
SELECT '[42]'::vector;
SELECT vector_dims(v), v::text = '[' || repeat('1.5,', 15999) || '1.5]' AS same_text
FROM (SELECT ('[' || repeat('1.5,', 15999) || '1.5]')::vector AS v) AS s;

-- typmod: vector(n)
SELECT '[1,2,3]'::vector(3);
CREATE TEMP TABLE typmods (a vector, b vector(3), c vector(16000));
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'typmods'::regclass AND attnum > 0 ORDER BY attnum;
INSERT INTO typmods (a, b) VALUES ('[1]', '[1,2,3]');
INSERT INTO typmods (b) VALUES ('[1,2]');
INSERT INTO typmods (b) SELECT '[1,2,3,4]'::vector;
UPDATE typmods SET b = '[1,2]'::vector;
SELECT a, b FROM typmods;

-- the type is kept in the heap row when it fits (STORAGE = main)
SELECT typstorage, typlen, typalign, typmodout FROM pg_type WHERE typname = 'vector';
CREATE TEMP TABLE big (v vector(16000));
INSERT INTO big SELECT array_fill(0.5::real, ARRAY[16000])::vector;
-- too big for the row: out of line, and compressed since a constant vector compresses well
SELECT pg_column_size(v) FROM big;
SELECT vector_dims(v), v = array_fill(0.5::real, ARRAY[16000])::vector AS same FROM big;

-- text COPY
CREATE TEMP TABLE copied (id int, v vector(3));
COPY copied FROM STDIN;
1	[1,2,3]
2	 [ 4 , 5 , 6 ] 
3	\N
\.
COPY copied TO STDOUT;

-- binary send: int16 dim, int16 unused = 0, big-endian float4 values
SELECT vector_send('[1,2]');
SELECT vector_send('[-0,1e-45,3.4028235e38]');

-- binary receive: a binary COPY file whose only field is `field`, loaded
-- through COPY FROM PROGRAM, so vector_recv sees exactly these bytes
CREATE FUNCTION pg_temp.copy_binary(tab regclass, field bytea) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	data bytea := '\x5047434f50590aff0d0a00'::bytea     -- signature
		|| '\x0000000000000000'::bytea                   -- flags, extension
		|| '\x0001'::bytea                               -- one field
		|| int4send(length(field)) || field
		|| '\xffff'::bytea;                              -- trailer
	octal text;
BEGIN
	SELECT string_agg(format('\%s%s%s', (b >> 6) & 7, (b >> 3) & 7, b & 7), '' ORDER BY i)
	INTO octal
	FROM (SELECT i, get_byte(data, i) AS b
		  FROM generate_series(0, length(data) - 1) AS i) AS s;
	EXECUTE format('COPY %s FROM PROGRAM %L (FORMAT binary)', tab, 'printf ''' || octal || '''');
	RETURN 'loaded';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE TEMP TABLE recv_any (v vector);
CREATE TEMP TABLE recv_3 (v vector(3));
SELECT pg_temp.copy_binary('recv_any', vector_send('[1,2]'));
SELECT pg_temp.copy_binary('recv_any', vector_send('[-0,1e-45,3.4028235e38,0.1]'));
SELECT pg_temp.copy_binary('recv_any', '\x0001000042280000');   -- [42] by hand
SELECT pg_temp.copy_binary('recv_3', vector_send('[1,2,3]'));
SELECT * FROM recv_any;
SELECT * FROM recv_3;

-- a binary COPY round trip of a 16000-dimension vector through a file
COPY big TO PROGRAM 'cat > hnswmm_vector_io.bin' (FORMAT binary);
CREATE TEMP TABLE big2 (v vector(16000));
COPY big2 FROM PROGRAM 'cat hnswmm_vector_io.bin; rm -f hnswmm_vector_io.bin' (FORMAT binary);
SELECT (SELECT v FROM big) = (SELECT v FROM big2) AS same;

-- malformed binary values
SELECT field, pg_temp.copy_binary('recv_any', field::bytea) AS result FROM (VALUES
	('\x00'),                                   -- shorter than the header
	('\x000200003f800000'),                     -- 2 dimensions, 1 value
	('\x000100003f80000040000000'),             -- 1 dimension, 2 values
	('\x000300003f8000004000000040'),           -- a truncated value
	('\x00000000'),                             -- 0 dimensions
	('\xffff00003f800000'),                     -- -1 dimensions
	('\x3e8100003f800000'),                     -- 16001 dimensions
	('\x000100013f800000'),                     -- unused is not 0
	('\x000100007fc00000'),                     -- NaN
	('\x00010000ff800000')                      -- -Infinity
) AS t(field);
SELECT pg_temp.copy_binary('recv_3', vector_send('[1,2]'));
SELECT count(*) FROM recv_any;

DROP TABLE typmods, big, big2, copied, recv_any, recv_3;

-- Values below the float range read as (signed) zero, as pgvector reads
-- them, in text and through the array casts; overflow stays an error
-- (vector_errors)
SELECT '[1e-46,1]'::vector AS text_in, '[-1e-46,1]'::vector AS negative,
	   '[1e-50, -0e-60, 1e-45]'::vector AS mixed;
SELECT '{1e-46,1}'::float8[]::vector AS float8, '{-1e-46,1}'::float8[]::vector AS float8_neg,
	   '{1e-46,1}'::numeric[]::vector AS numeric, '{-1e-300,1}'::numeric[]::vector AS numeric_neg;
