-- Distance, arithmetic and comparison operators of the vector type.

-- distances (float8); small integers keep every sum exact
SELECT '[1,2,3]'::vector <-> '[3,2,1]' AS l2,
	   '[0,0]'::vector <-> '[3,4]' AS l2_5,
	   '[1,2,3]'::vector <#> '[4,5,6]' AS neg_ip,
	   '[1,2,3]'::vector <=> '[4,5,6]' AS cosine,
	   '[1,2,3]'::vector <+> '[3,0,-1]' AS l1;
SELECT '[1,0]'::vector <=> '[0,1]' AS orthogonal,
	   '[1,1]'::vector <=> '[2,2]' AS same_direction,
	   '[1,0]'::vector <=> '[-1,0]' AS opposite,
	   '[0,0]'::vector <=> '[1,1]' AS zero_is_nan,
	   '[0,0]'::vector <=> '[0,0]' AS both_zero;
SELECT pg_typeof('[1]'::vector <-> '[2]'), pg_typeof('[1]'::vector <#> '[2]'),
	   pg_typeof('[1]'::vector <=> '[2]'), pg_typeof('[1]'::vector <+> '[2]');
SELECT '[1.5,-2]'::vector <-> '[1.5,-2]' AS self_l2,
	   '[1.5,-2]'::vector <+> '[1.5,-2]' AS self_l1,
	   '[1.5,-2]'::vector <=> '[1.5,-2]' AS self_cosine;

-- each operator is its own commutator
SELECT a <-> b = b <-> a AS l2, a <#> b = b <#> a AS ip,
	   a <=> b = b <=> a AS cosine, a <+> b = b <+> a AS l1
FROM (SELECT '[1.25,-7,3e10]'::vector AS a, '[0.5,2,-1e10]'::vector AS b) AS s;

-- float4 sums past 3.4e38 are Infinity (as in pgvector); inputs stay finite
SELECT '[3e38]'::vector <-> '[-3e38]' AS l2, '[3e38]'::vector <#> '[3e38]' AS ip;

-- longer vectors exercise the SIMD blocks (16 floats) and the scalar tail:
-- integer elements keep the float sums exact, so they equal a float8 reference
CREATE TEMP TABLE pairs AS
SELECT n, array_agg((i % 7) - 3 ORDER BY i)::vector AS a,
		  array_agg((i * 5 % 11) - 4 ORDER BY i)::vector AS b,
		  sum((((i % 7) - 3) - ((i * 5 % 11) - 4))::float8 ^ 2) AS l2sq,
		  sum(((i % 7) - 3) * ((i * 5 % 11) - 4))::float8 AS ip,
		  sum(abs(((i % 7) - 3) - ((i * 5 % 11) - 4)))::float8 AS l1,
		  sum(((i % 7) - 3)::float8 ^ 2) AS aa,
		  sum(((i * 5 % 11) - 4)::float8 ^ 2) AS bb
FROM (VALUES (1), (15), (16), (17), (31), (32), (33), (100), (1536), (16000)) AS d(n),
	 generate_series(1, n) AS i
GROUP BY n;
SELECT n,
	   vector_l2_squared_distance(a, b) = l2sq AS l2sq_ok,
	   a <-> b = sqrt(l2sq) AS l2_ok,
	   a <#> b = -ip AS ip_ok,
	   a <+> b = l1 AS l1_ok,
	   abs((a <=> b) - (1 - ip / sqrt(aa * bb))) < 1e-12 AS cosine_ok
FROM pairs ORDER BY n;

-- fractional elements: equal to a float8 reference within float4 rounding
SELECT n,
	   abs((a <-> b) - sqrt(l2sq)) / sqrt(l2sq) < 1e-5 AS l2_ok,
	   abs((a <#> b) + ip) / sum_abs < 1e-5 AS ip_ok,
	   abs((a <+> b) - l1) / l1 < 1e-5 AS l1_ok,
	   abs((a <=> b) - (1 - ip / sqrt(aa * bb))) < 1e-5 AS cosine_ok
FROM (
	SELECT n, array_agg(x ORDER BY i)::vector AS a, array_agg(y ORDER BY i)::vector AS b,
		   sum((x - y) ^ 2) AS l2sq, sum(x * y) AS ip, sum(abs(x * y)) AS sum_abs,
		   sum(abs(x - y)) AS l1, sum(x * x) AS aa, sum(y * y) AS bb
	FROM (VALUES (3), (16), (50), (16000)) AS d(n),
		 LATERAL (SELECT i, sin(i)::real::float8 AS x, cos(i * 0.7)::real::float8 AS y
				  FROM generate_series(1, n) AS i) AS e
	GROUP BY n
) AS s ORDER BY n;

-- arithmetic, element by element
SELECT '[1,2,3]'::vector + '[4,5,6]' AS add,
	   '[1,2,3]'::vector - '[4,5,6]' AS sub,
	   '[1,2,3]'::vector * '[4,5,6]' AS mul,
	   '[1,2,3]'::vector || '[4,5]' AS concat;
SELECT '[1.5,-2]'::vector + '[0.25,2]' AS add, '[0.1]'::vector - '[0.1]' AS sub,
	   '[-0,3]'::vector * '[5,-0.5]' AS mul, '[1]'::vector || '[1]' AS concat;
SELECT a + b = b + a AS add_commutes, a * b = b * a AS mul_commutes,
	   (a - b) + b = a AS sub_add
FROM (SELECT '[1,2,4]'::vector AS a, '[8,16,32]'::vector AS b) AS s;
SELECT '[3e38]'::vector + '[0.3e38]' AS near_max, '[1e-30]'::vector * '[0]' AS zero;

-- comparisons: element by element, then the shorter vector first
SELECT a, b, a < b AS lt, a <= b AS le, a = b AS eq, a <> b AS ne,
	   a >= b AS ge, a > b AS gt, vector_cmp(a, b) AS cmp
FROM (VALUES ('[1,2,3]'::vector, '[1,2,3]'::vector),
			 ('[1,2,3]', '[1,2,4]'),
			 ('[1,2,4]', '[1,2,3]'),
			 ('[2]', '[1,9,9]'),
			 ('[1,2]', '[1,2,3]'),
			 ('[1,2,3]', '[1,2]'),
			 ('[-1]', '[1]'),
			 ('[-0]', '[0]'),
			 ('[1e-45]', '[0]')) AS t(a, b);
SELECT vector_lt('[1]', '[2]'), vector_le('[2]', '[2]'), vector_eq('[2]', '[2]'),
	   vector_ne('[2]', '[2]'), vector_ge('[1]', '[2]'), vector_gt('[3]', '[2]');

-- btree: ORDER BY, DISTINCT, GROUP BY, unique indexes and index scans
CREATE TEMP TABLE items (id int, v vector);
INSERT INTO items VALUES (1, '[3,1]'), (2, '[1,2,3]'), (3, '[1,2]'), (4, '[3,1]'),
	(5, '[-1,5]'), (6, '[1,2]'), (7, '[0]'), (8, NULL);
SELECT id, v FROM items ORDER BY v, id;
SELECT id, v FROM items ORDER BY v DESC NULLS LAST, id;
SELECT DISTINCT v FROM items ORDER BY v;
SELECT v, count(*) FROM items GROUP BY v ORDER BY v;
SELECT min(id), max(id) FROM items WHERE v = '[3,1]';
SELECT id FROM items WHERE v < '[1,2]' ORDER BY id;
SELECT id FROM items WHERE v >= '[1,2]' ORDER BY id;
DELETE FROM items WHERE id = 6;
CREATE UNIQUE INDEX items_v ON items (v);
DELETE FROM items WHERE id = 4;
CREATE UNIQUE INDEX items_v ON items (v);
INSERT INTO items VALUES (10, '[3,1]');
INSERT INTO items VALUES (10, '[-0]');    -- -0 = 0
INSERT INTO items VALUES (10, '[3,1,0]');
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE v = '[1,2]';
SELECT id FROM items WHERE v = '[1,2]';
EXPLAIN (COSTS OFF) SELECT v FROM items ORDER BY v;
SELECT v FROM items ORDER BY v;
RESET enable_seqscan;

-- nearest neighbours by each operator (a sequential scan)
CREATE TEMP TABLE points (id int, v vector(2));
INSERT INTO points VALUES (1, '[1,0]'), (2, '[0,2]'), (3, '[-3,0]'), (4, '[2,2]'), (5, '[0.5,0.5]');
SELECT id, v <-> '[1,1]' AS dist FROM points ORDER BY v <-> '[1,1]', id;
SELECT id, v <#> '[1,1]' AS dist FROM points ORDER BY v <#> '[1,1]', id;
SELECT id, v <=> '[1,1]' AS dist FROM points ORDER BY v <=> '[1,1]', id;
SELECT id, v <+> '[1,1]' AS dist FROM points ORDER BY v <+> '[1,1]', id;

DROP TABLE pairs, items, points;
