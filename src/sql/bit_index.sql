
-- bit: the index keeps each bit string as it is, a bit a dimension, up to
-- 64,000 bits; on 0s and 1s squared L2 distance is the Hamming distance,
-- which <~> orders by

CREATE OPERATOR CLASS bit_hamming_ops
	FOR TYPE bit USING hnswmm AS
	OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_l2_support(internal);

-- Jaccard distance (<%>): the set bits a query shares with a string, and
-- the string's own, summed over the slot's pieces

CREATE FUNCTION hnswmm_jaccard_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS bit_jaccard_ops
	FOR TYPE bit USING hnswmm AS
	OPERATOR 1 <%> (bit, bit) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_jaccard_support(internal);
