-- Casts between vector and arrays, and the vector(n) length coercion.

-- the casts the extension defines
SELECT castsource::regtype, casttarget::regtype, castfunc::regprocedure,
	   CASE castcontext WHEN 'i' THEN 'implicit' WHEN 'a' THEN 'assignment'
		   ELSE 'explicit' END AS context
FROM pg_cast
WHERE castsource = 'vector'::regtype OR casttarget = 'vector'::regtype
ORDER BY castsource::regtype::text, casttarget::regtype::text;

-- arrays of integer, real, double precision and numeric to vector
SELECT '{1,2,3}'::integer[]::vector AS int4, '{1.5,-2,3}'::real[]::vector AS float4,
	   '{0.1,2,3}'::float8[]::vector AS float8, '{0.1,2.25,-3}'::numeric[]::vector AS numeric;
SELECT ARRAY[1,2,3]::vector(3), ARRAY[0.5,1.5]::vector(2), ARRAY[1e-45::real]::vector;
SELECT '[0:2]={7,8,9}'::integer[]::vector AS lower_bound_ignored;
-- rounded to float4 like the casts to real
SELECT '{16777217,0.1}'::float8[]::vector, '{16777217}'::integer[]::vector,
	   '{3.4028234e38,1e-45}'::float8[]::vector, '{1.00000000000000000001}'::numeric[]::vector;
SELECT array_to_vector('{1,2}'::real[], -1, false), array_to_vector('{1,2}'::integer[], 2, true),
	   array_to_vector('{1,2}'::float8[], -1, false), array_to_vector('{1,2}'::numeric[], -1, false);

-- vector to real[]: explicit, and implicit where a real[] is expected
SELECT '[1,2.5,-3]'::vector::real[] AS explicit;
SELECT unnest('[1,2,3]'::vector::real[]) AS elems;
SELECT array_length('[1,2,3]'::vector::real[], 1);
CREATE FUNCTION pg_temp.first_elem(a real[]) RETURNS real LANGUAGE sql AS 'SELECT a[1]';
SELECT pg_temp.first_elem('[4,5,6]'::vector) AS implicit;
SELECT v::real[]::vector = v AS round_trips
FROM (SELECT '[0.1,-2,3.4028235e38,1e-45]'::vector AS v) AS s;

-- assignment casts into vector columns, with and without typmod
CREATE TEMP TABLE cast_t (a vector, b vector(3), r real[]);
INSERT INTO cast_t (a, b) VALUES (ARRAY[1,2], ARRAY[1,2,3]);
INSERT INTO cast_t (a, b) VALUES ('{1.5}'::real[], '{1,2,3}'::float8[]);
INSERT INTO cast_t (a, b) SELECT '{1,2,3}'::numeric[], ARRAY[4,5,6];
INSERT INTO cast_t (b) VALUES (ARRAY[1,2]);
INSERT INTO cast_t (b) VALUES ('{1,2,3,4}'::real[]);
INSERT INTO cast_t (r) VALUES ('[7,8]'::vector);
UPDATE cast_t SET b = b + '[1,1,1]' WHERE b IS NOT NULL;
SELECT * FROM cast_t ORDER BY a NULLS FIRST;

-- vector to vector(n) checks the dimension count and keeps the value
SELECT '[1,2,3]'::vector::vector(3), vector('[1,2]', 2, true), vector('[1,2]', -1, false);
SELECT ('[1,2]'::vector(2) + '[3,4]')::vector(2);
SELECT pg_typeof('[1,2]'::vector(2)), format_type(pg_typeof('[1,2]'::vector(2)), 2);

DROP TABLE cast_t;
