-- Functions of the vector type (operators are in vector_ops).

-- the distance functions behind the operators
SELECT l2_distance('[1,2,3]', '[3,2,1]'), vector_l2_squared_distance('[1,2,3]', '[3,2,1]'),
	   inner_product('[1,2,3]', '[4,5,6]'), vector_negative_inner_product('[1,2,3]', '[4,5,6]'),
	   cosine_distance('[1,1]', '[-1,-1]'), l1_distance('[1,2,3]', '[3,0,-1]');
SELECT l2_distance(a, b) = a <-> b AS l2, vector_negative_inner_product(a, b) = a <#> b AS nip,
	   inner_product(a, b) = -(a <#> b) AS ip, cosine_distance(a, b) = a <=> b AS cosine,
	   l1_distance(a, b) = a <+> b AS l1,
	   vector_l2_squared_distance(a, b) = (a <-> b) ^ 2 AS l2_squared
FROM (SELECT '[0.5,1,-2]'::vector AS a, '[3.5,5,-2]'::vector AS b) AS s;

-- strict: NULL in, NULL out
SELECT l2_distance(NULL, '[1]') IS NULL AS l2, vector_dims(NULL) IS NULL AS dims,
	   subvector('[1,2]', NULL, 1) IS NULL AS sub, ('[1]'::vector + NULL) IS NULL AS add;

-- vector_dims, vector_norm
SELECT vector_dims('[1,2,3]'), vector_dims('[0]'), vector_dims(array_fill(1, ARRAY[16000])::vector);
SELECT vector_norm('[3,4]'), vector_norm('[0,0]'), vector_norm('[-2]'), vector_norm('[1,1,1,1]');
-- summed in float8: no overflow or underflow of the squares
SELECT round((vector_norm('[3e37,4e37]') / 1e37)::numeric, 6) AS no_overflow,
	   round((vector_norm('[3e-30,4e-30]') / 1e-30)::numeric, 6) AS no_underflow;

-- l2_normalize: unit length; a zero vector stays zero
SELECT l2_normalize('[3,4]'), l2_normalize('[0,-5]'), l2_normalize('[0,0]'),
	   l2_normalize('[3e37,4e37]'), l2_normalize('[3e-30,4e-30]');
SELECT abs(vector_norm(l2_normalize(v)) - 1) < 1e-6 AS unit,
	   (l2_normalize(v) <=> v) < 1e-6 AS same_direction
FROM (SELECT array_agg(sin(i) ORDER BY i)::vector AS v FROM generate_series(1, 1000) AS i) AS s;

-- subvector(v, start, count): 1-based; like substring() the range is
-- clipped to the vector as long as some element is left
SELECT subvector('[1,2,3,4,5]', 1, 3), subvector('[1,2,3,4,5]', 3, 2),
	   subvector('[1,2,3,4,5]', 5, 1), subvector('[1,2,3,4,5]', 1, 5);
SELECT subvector('[1,2,3,4,5]', 4, 10) AS clipped_end, subvector('[1,2,3,4,5]', 0, 2) AS clipped_start,
	   subvector('[1,2,3,4,5]', -1, 4) AS clipped_start2,
	   subvector('[1,2,3]', 2, 2147483647) AS huge_count;
SELECT subvector(v, 2, 2) || subvector(v, 4, 1) = subvector(v, 2, 3) AS pieces
FROM (SELECT '[9,8,7,6]'::vector AS v) AS s;
SELECT vector_dims(subvector(array_fill(1, ARRAY[16000])::vector, 8000, 16000));

-- arithmetic functions behind + - * ||
SELECT vector_add('[1,2]', '[3,4]'), vector_sub('[1,2]', '[3,4]'),
	   vector_mul('[1,2]', '[3,4]'), vector_concat('[1,2]', '[3,4]');
SELECT vector_dims(array_fill(1, ARRAY[8000])::vector || array_fill(2, ARRAY[8000])::vector);

-- vector_to_float4
SELECT vector_to_float4('[1,2.5,-3]', -1, false), pg_typeof(vector_to_float4('[1]', -1, false));

-- I/O functions are callable from SQL
SELECT vector_out(vector_in('[1, 2]', 0, -1)), vector_out(vector_in('[1, 2]', 0, 2));
SELECT vector_typmod_in('{42}'::cstring[]);
SELECT vector_send(vector_in('[0.5]', 0, -1));
