-- Values at the edges of the float range in an index: tiny vectors under
-- cosine (their norm underflows a float sum), huge ones under sq8 codes (a
-- code's range overflows a float), and inner products of huge values,
-- whose float sums can be inf - inf = NaN: every comparison of the search
-- takes NaN as +infinity, as ORDER BY sorts it last.
SET client_min_messages = warning;
SET enable_seqscan = off;
SET hnswmm.ef_search = 100;

-- distances of the index's top k and of the exact top k, in order (NaN
-- last); distances, not ids, since rows at -infinity tie
CREATE FUNCTION ext_index(tab text, q vector, op text, k int) RETURNS float8[]
LANGUAGE plpgsql SET enable_indexscan = on SET enable_seqscan = off AS $$
DECLARE r float8[];
BEGIN
  EXECUTE format('SELECT array_agg(d) FROM (SELECT emb %s $1 AS d FROM %I
                  ORDER BY emb %s $1 LIMIT %s) s', op, tab, op, k) INTO r USING q;
  RETURN r;
END $$;
CREATE FUNCTION ext_exact(tab text, q vector, op text, k int) RETURNS float8[]
LANGUAGE plpgsql SET enable_indexscan = off SET enable_seqscan = on AS $$
DECLARE r float8[];
BEGIN
  EXECUTE format('SELECT array_agg(d) FROM (SELECT emb %s $1 AS d FROM %I
                  ORDER BY 1 LIMIT %s) s', op, tab, k) INTO r USING q;
  RETURN r;
END $$;

-- Tiny vectors are indexed under cosine like any other: [1e-23,1e-23]
-- points the way [1,1] does (distance 0), [1e-30,-1e-30] the way [1,-1] does
CREATE TABLE tiny (id int, emb vector(2));
INSERT INTO tiny VALUES (1, '[1e-23,1e-23]'), (2, '[1,0]'), (3, '[0,1]'),
	(4, '[-1,-1]'), (5, '[1e-30,-1e-30]'), (6, '[0,0]');
CREATE INDEX tiny_cos ON tiny USING hnswmm (emb vector_cosine_ops);
SELECT nodes AS indexed FROM hnswmm_index_info('tiny_cos');
SELECT id, round((emb <=> '[1,1]')::numeric, 6) AS distance
FROM tiny ORDER BY emb <=> '[1,1]' LIMIT 6;
SELECT id FROM tiny ORDER BY emb <=> '[1,-1]' LIMIT 1;
-- exact distances of tiny and huge vectors, summed in double
SELECT round(cosine_distance('[1e-23,1e-23]', '[1,0]')::numeric, 6) AS tiny_vs_unit,
	   round(cosine_distance('[1e-23,1e-23]', '[1e-23,0]')::numeric, 6) AS tiny_vs_tiny,
	   round(cosine_distance('[3e38,3e38]', '[1,0]')::numeric, 6) AS huge_vs_unit,
	   round(cosine_distance('[3e38,-3e38]', '[-3e38,3e38]')::numeric, 6) AS huge_opposite;
DROP TABLE tiny;

-- Huge values: 1000 ordinary vectors and 1000 whose components span more
-- than the float range (+-3e38), indexed with sq8 codes (whose range must
-- not overflow) under L2 and inner product, and without codes under inner
-- product.  Half the queries make inner products with the huge rows
-- overflow both ways (NaN, with kernels that round each product).  A NaN
-- that compared as an ordinary distance would stop a search from taking
-- better candidates (the version before 0.2.0 found the exact top 10 for
-- 83 and 77 of these queries with codes).
CREATE TABLE huge (id int, emb vector(4));
INSERT INTO huge
SELECT i, ARRAY[sin(i), cos(i), sin(2 * i), cos(3 * i)]::real[]
FROM generate_series(1, 1000) i;
INSERT INTO huge
SELECT 10000 + i, ARRAY[3e38 * sign(sin(i) + 0.01), -3e38 * sign(cos(i) + 0.01),
					   sin(i), 2e38 * sign(sin(3 * i) + 0.01)]::real[]
FROM generate_series(1, 1000) i;
CREATE TABLE huge_queries (qid int, q vector(4));
INSERT INTO huge_queries
SELECT j, ARRAY[cos(j), sin(j), cos(5 * j), sin(7 * j)]::real[]
FROM generate_series(1, 50) j;
INSERT INTO huge_queries
SELECT 100 + j, ARRAY[2 * cos(j), 2 * sin(j), cos(5 * j), 2 * sin(7 * j)]::real[]
FROM generate_series(1, 50) j;
-- the float sums of <#> with such rows overflow: to NaN (inf - inf), or,
-- where the kernel fuses multiply and add, to an infinity
SELECT count(*) FILTER (WHERE (emb <#> '[2,2,2,2]') IN ('NaN', 'Infinity', '-Infinity')) > 0
	AS some_not_finite FROM huge;

CREATE INDEX huge_sq8_l2 ON huge USING hnswmm (emb vector_l2_ops) WITH (quantization = sq8);
SELECT count(*) FILTER (WHERE ext_index('huge', q, '<->', 10) = ext_exact('huge', q, '<->', 10))
	>= 95 AS sq8_l2_finds_exact_top10
FROM huge_queries;
DROP INDEX huge_sq8_l2;
CREATE INDEX huge_ip ON huge USING hnswmm (emb vector_ip_ops);
SELECT count(*) FILTER (WHERE ext_index('huge', q, '<#>', 10) = ext_exact('huge', q, '<#>', 10))
	>= 95 AS ip_finds_exact_top10
FROM huge_queries;
DROP INDEX huge_ip;
CREATE INDEX huge_sq8_ip ON huge USING hnswmm (emb vector_ip_ops) WITH (quantization = sq8);
SELECT count(*) FILTER (WHERE ext_index('huge', q, '<#>', 10) = ext_exact('huge', q, '<#>', 10))
	>= 95 AS sq8_ip_finds_exact_top10
FROM huge_queries;

-- every row is returned once by a scan that walks the whole index
SET hnswmm.ef_search = 1000;
SET hnswmm.max_scan_tuples = 100000;
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_rows
FROM (SELECT id FROM huge ORDER BY emb <#> '[2,2,2,2]' LIMIT 5000) s;
SELECT live FROM hnswmm_verify('huge_sq8_ip');
DROP TABLE huge, huge_queries;
